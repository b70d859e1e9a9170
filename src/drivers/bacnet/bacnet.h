/*
 * bacnet.h - the BACnet/IP driver's internals (not an API; the driver's
 * public face is sb_driver_bacnet in drivers/registry.c).
 *
 * One driver instance = one sb_bac_stack (UDP socket) on the daemon's
 * loop (SB_DRV_ASYNC).  Devices are keyed "bacnet:<instance>"; their
 * address comes from the configuration ("devices"), from the point's
 * address, or from an I-Am answering our Who-Is.  Reads are packed into
 * as few ReadPropertyMultiple requests as the device's Max_APDU allows
 * (ReadProperty for devices that reject RPM); Present_Value points of
 * devices that accept SubscribeCOV are pushed by COV notifications and
 * answered "fresh" to polls while the subscription lives.  Writes go at a
 * priority and are read back with the Priority_Array.
 *
 * Ownership: struct bacdrv owns the stack, the devices and the parsed
 * point addresses (struct bpt, freed by unbind).  Everything runs on the
 * loop thread.
 */
#ifndef SB_DRIVERS_BACNET_H
#define SB_DRIVERS_BACNET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "drivers/driver.h"
#include "proto/bacnet/codec/tag.h"
#include "proto/bacnet/stack/stack.h"

extern const struct sb_driver_ops sb_driver_bacnet;

#define BAC_DEFAULT_PRIORITY 8       /* operator (docs/internals/bacnet-driver.md) */

enum cov_state { COV_OFF = 0, COV_IDLE, COV_PENDING, COV_ACTIVE, COV_REFUSED };

struct bdev;
struct disc_run;

/* A bound point's parsed address (pt->addr). */
struct bpt {
    struct bpt *next;                /* in its device's list */
    struct sb_drv_point *pt;
    struct bdev *dev;
    struct sb_bac_oid oid;
    uint32_t prop;
    bool has_index;
    uint32_t index;
    uint8_t priority;                /* write priority from the address, 0 = default */
    bool cov_want;                   /* address allows COV */
    uint8_t cov;                     /* enum cov_state */
    uint64_t cov_at;                 /* uv_now: renew / retry at */
    uint64_t cov_seen;               /* uv_now of the last notification or subscribe */
};

struct bdev {
    struct bdev *next;
    uint32_t inst;
    char key[32];                    /* "bacnet:<inst>" */
    bool known;                      /* peer is valid */
    bool fixed;                      /* address from configuration: never replaced */
    struct sb_bac_peer peer;
    uint16_t max_apdu;
    uint8_t seg;                     /* BACnetSegmentation */
    uint16_t vendor;
    bool no_rpm;                     /* rejected RPM once: use RP */
    bool no_cov;                     /* refused SubscribeCOV once */
    bool foreign;                    /* another sbems node talks to it (leases): no COV */
    uint64_t whois_at;               /* last directed Who-Is */
    uint64_t heard;                  /* uv_now of its last answer or notification */
    uint64_t cov_next;               /* earliest cov_at of its points (tick skips it till then) */
    struct bpt *pts;
    int npts;
};

/* A device heard from (I-Am), bound or not: a device whose points are
 * added later (after a discovery) starts with its address known. */
struct seen {
    uint32_t inst;
    struct sb_bac_peer peer;
    uint16_t max_apdu, vendor;
    uint8_t seg;
};
#define BAC_SEEN_MAX 65536

struct bacdrv {
    struct sb_drv *drv;
    uv_loop_t *loop;
    struct sb_bac_stack *st;
    struct sb_bac_stack_cfg cfg;
    char bind_ip[64], bcast_ip[64], bbmd[80];
    uv_timer_t *timer;               /* own allocation: freed by its close callback */
    struct bdev *devs;
    json_t *conf_devices;            /* {"<inst>": "ip:port[/net:mac]"} (own ref) */
    json_t *whois;                   /* ["ip[:port]", ...] directed Who-Is targets (own ref) */
    bool cov_enabled;
    bool cov_confirmed;              /* ask for confirmed notifications */
    uint32_t cov_lifetime;           /* s */
    uint32_t cov_heartbeat_ms;       /* a COV device silent this long is read anyway */
    uint32_t pid;                    /* our subscriber process identifier */
    uint8_t priority;                /* default write priority */
    struct seen *seen;               /* devices heard from, sorted by inst */
    size_t nseen, capseen;
    struct sb_bacdisc *disc;         /* running discovery, if any */
    struct disc_run *disc_run;       /* its context (driver.c) */
    json_t *expose;                  /* settings of sbems's own device (own ref) */
    struct sb_bac_srv *srv;          /* sbems's own device, when exposed (expose.c) */
    uint64_t cov_pushed, cov_bad;
};

/* Start a discovery on the running driver's socket (loop thread).  args
 * as the API takes them: {"targets":["ip[:port]"], "range":"a-b",
 * "networks":[N], "broadcast":bool, "low":N, "high":N, "wait_ms":N,
 * "max_devices":N}.  done gets the result (sb_bacdisc_done_cb).  0,
 * SB_EAGAIN (one is running), SB_ECLOSED (driver not running), SB_EINVAL
 * (err says why). */
struct sb_drvmgr;
int sb_bacnet_discover(struct sb_drvmgr *mg, const json_t *args,
                       void (*done)(void *ud, int rc, json_t *result), void *ud,
                       char *err, size_t errlen);

/* driver.c */
struct sb_bac_srv;
/* Answer requests to sbems's own device with srv (NULL: stop). */
void sb_bacd_serve(struct bacdrv *b, struct sb_bac_srv *srv);
struct bdev *sb_bacd_dev_by_key(struct bacdrv *b, const char *key);
struct bdev *sb_bacd_dev_by_inst(struct bacdrv *b, uint32_t inst);
void sb_bacd_whois(struct bacdrv *b, struct bdev *d);

/* read.c */
int  sb_bacd_read(struct bacdrv *b, struct bdev *d, struct sb_drv_item *items, size_t n,
                  struct sb_drv_op *op, char *err, size_t errlen);
/* An encoded value (one application-tagged primitive) as a number; NaN
 * with SB_EPROTO for a non-numeric type, 1 for NULL. */
int  sb_bacd_number(const uint8_t *p, size_t n, double *out);
/* "property: unknown-property" etc. for an answer's failure. */
void sb_bacd_why(const struct sb_bac_result *r, const struct sb_bac_peer *peer, char *buf, size_t cap);

/* write.c */
int  sb_bacd_write(struct bacdrv *b, struct bdev *d, struct sb_drv_write *w, struct sb_drv_op *op);
int  sb_bacd_slots(struct bacdrv *b, struct bdev *d, struct sb_drv_point *pt,
                   struct sb_drv_slots *out, struct sb_drv_op *op, char *err, size_t errlen);

/* prop.c: one property of any object read or written whole (driver.h's
 * prop_async); 0 started, < 0 failed at once with p->err filled. */
int  sb_bacd_prop(struct bacdrv *b, struct bdev *d, struct sb_drv_prop *p, struct sb_drv_op *op);

/* cov.c */
void sb_bacd_cov_tick(struct bacdrv *b, uint64_t now);
void sb_bacd_cov_notification(struct bacdrv *b, const struct sb_bac_peer *from,
                              const uint8_t *body, size_t len);
void sb_bacd_cov_cancel(struct bacdrv *b, struct bpt *p);

#endif /* SB_DRIVERS_BACNET_H */

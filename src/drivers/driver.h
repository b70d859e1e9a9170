/*
 * driver.h - the interface every protocol driver implements (BACnet, Modbus,
 * MQTT, REST, weather) and the few services the driver framework offers
 * them.
 *
 * A driver turns point bindings (the "source" of a point in the site
 * document: driver name + address) into readings and carries out writes.
 * It never touches the store: polled values are returned to the framework,
 * pushed values go through sb_drv_push(); the framework converts units,
 * submits to ingest, tracks device health, runs the circuit breaker and the
 * verified-write protocol (drivers/manager.h).
 *
 * Devices: bind() maps each point to a device key (points with the same key
 * share a connection, a poll schedule, a health record and a circuit
 * breaker: "tcp:10.20.1.50:502/1", "mqtt", "rest:https://api.example"),
 * and parses the point's address once into the driver's own struct.
 *
 * Threads and blocking: a driver flagged SB_DRV_BLOCKING (libmodbus, libcurl
 * easy) has read() and write() called on libuv's thread pool, never two at
 * once for the same device, and must return within the timeout given.  A
 * driver without that flag is called on the loop thread and must not block
 * (it starts its own I/O: e.g. libmosquitto's thread, BACnet on the loop).
 * A driver flagged SB_DRV_ASYNC (BACnet: its own UDP socket on the
 * daemon's loop) implements read_async()/write_async() instead: they start
 * the exchange on the loop thread and return at once; the driver finishes
 * each with sb_drv_done() later, on the loop thread, never from inside the
 * call that started it.
 * bind/unbind/init/start/stop/free run on the loop thread.  sb_drv_push()
 * may be called from any thread.
 *
 * Ownership: the framework owns the points array and everything it points
 * to for as long as the driver is bound (until unbind); the driver owns its
 * state and parsed addresses and frees them in unbind()/free().
 */
#ifndef SB_DRIVERS_DRIVER_H
#define SB_DRIVERS_DRIVER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "model/units.h"

#define SB_DRV_KEY_MAX 160      /* device key bytes, NUL included */
#define SB_DRV_ERR_MAX 160      /* error text bytes, NUL included */

struct sb_drv;                  /* the framework's handle for one driver instance */

enum {
    SB_DRV_BLOCKING = 1u << 0,  /* read/write block: run them on worker threads */
    SB_DRV_POLLED   = 1u << 1,  /* the framework polls read() on each point's interval */
    SB_DRV_PUSH     = 1u << 2,  /* values arrive by themselves (sb_drv_push) */
    SB_DRV_WRITES   = 1u << 3,  /* write() (or write_async()) is implemented */
    SB_DRV_ASYNC    = 1u << 4   /* read_async/write_async on the loop */
};

/* One bound point as a driver sees it. */
struct sb_drv_point {
    uint32_t id;                /* point id */
    const char *slug;           /* its slug (for messages) */
    const char *address;        /* the binding address: a string, or JSON object text */
    int address_json;           /* address is JSON object text */
    uint32_t poll_ms;           /* poll interval (0: driver default / push) */
    enum sb_unit unit;          /* unit the device speaks (values in and out are in it) */
    int writable;               /* the point may be written */
    double min, max;            /* valid range in unit, NaN = open */
    void *addr;                 /* the driver's parsed address (set by bind) */
};

/* One point of a read: the driver fills the out fields. */
struct sb_drv_item {
    struct sb_drv_point *pt;    /* in */
    double v;                   /* out: value in pt->unit */
    int64_t t;                  /* out: source time, ms UTC; 0 = now */
    uint16_t q;                 /* out: SB_Q_* quality flags */
    int rc;                     /* out: 0, or SB_E* for this point alone */
    int fresh;                  /* out: no new value (v NaN) but the point is
                                   known current (a live COV subscription) */
    char err[SB_DRV_ERR_MAX];   /* out: the device's reason when rc != 0 */
};

/* A write request.  value is in pt->unit; NaN with relinquish = release
 * the command (BACnet: write NULL at priority). */
struct sb_drv_write {
    struct sb_drv_point *pt;    /* in */
    double value;               /* in */
    int priority;               /* in: 1..16 where the protocol has one, else 0 */
    int relinquish;             /* in: release instead of write */
    char err[SB_DRV_ERR_MAX];   /* out: the device's refusal reason */
    int has_readback;           /* out: the driver read the point back itself */
    double readback;            /* out: that value (in pt->unit) */
    char holder[SB_DRV_ERR_MAX];/* out: who holds the point after the write,
                                   e.g. "priority 8" (BACnet), "" unknown */
};

/* An asynchronous operation in flight (SB_DRV_ASYNC); opaque. */
struct sb_drv_op;

/* One property of any object of a device, read or written whole (optional
 * prop_async): the control service keeps a controller's BACnet Schedule
 * and Calendar objects (Weekly_Schedule, Exception_Schedule, Date_List) in
 * step with a zone's schedule through it (control/nsync.h).  The value is
 * the protocol's encoding: for BACnet, the application-tagged data between
 * ReadProperty-ACK's / WriteProperty's [3] tags (codec/svc2.h encodes the
 * constructed ones).  A write goes without a priority (the properties it is
 * for are not commandable, clause 19.2). */
struct sb_drv_prop {
    char object[48];            /* in: "schedule:1" (protocol's object name) */
    char property[48];          /* in: "weekly-schedule" (name or number) */
    int write;                  /* in: 1 write value[0..len), 0 read into value */
    uint8_t *value;             /* caller-owned buffer of cap bytes */
    size_t len;                 /* in (write) / out (read): bytes at value */
    size_t cap;                 /* read: the buffer's size (a longer value is SB_ENOSPC) */
    size_t max_write;           /* out: the longest value one write to this device can
                                   carry (BACnet: its Max_APDU less the request's
                                   header), 0 unknown */
    char err[SB_DRV_ERR_MAX];   /* out: the device's refusal, e.g.
                                   "object: unknown-object" */
    int dry_run;                /* out (manager): a write not sent (drivers.dry_run) */
};

/* The command slots of a point, read live (BACnet Priority_Array). */
#define SB_DRV_SLOTS 16
struct sb_drv_slots {
    int n;                      /* slots the point has (16), 0 = none */
    double value[SB_DRV_SLOTS]; /* slot p at [p-1], in pt->unit; NaN = empty */
    double relinquish_default;  /* NaN when unknown */
    double present;             /* Present_Value, NaN when unknown */
};

struct sb_driver_ops {
    const char *name;           /* "modbus": the site document's driver name */
    unsigned flags;             /* SB_DRV_* */

    /* Create the driver's state from its configuration object (may be
     * NULL: defaults).  drv is the framework handle for sb_drv_push and
     * sb_drv_log.  Returns 0 or SB_E* with err filled. */
    int  (*init)(struct sb_drv *drv, const json_t *conf, void **state, char *err, size_t errlen);
    /* Parse pt->address: fill pt->addr and the device key.  SB_EINVAL with
     * err naming the field when the address is unusable (the point is then
     * reported as misconfigured and never polled). */
    int  (*bind)(void *state, struct sb_drv_point *pt, char *key, size_t keycap,
                 char *err, size_t errlen);
    void (*unbind)(void *state, struct sb_drv_point *pt);
    /* Begin: open connections, subscribe (push drivers).  Optional. */
    int  (*start)(void *state);
    /* Stop all I/O; after it returns no callback and no sb_drv_push comes. */
    void (*stop)(void *state);
    /* Read items[0..n) of one device.  Returns 0 when the device answered
     * (items carry per-point results), or SB_ETIMEDOUT / SB_EIO /
     * SB_EPROTO with err filled when the device did not (the breaker counts
     * these).  Required for SB_DRV_POLLED. */
    int  (*read)(void *state, const char *key, struct sb_drv_item *items, size_t n,
                 int64_t timeout_ms, char *err, size_t errlen);
    /* Write one point.  0 when the device accepted it; SB_EPROTO (refused:
     * w->err has the device's reason, e.g. "exception 2: illegal data
     * address"), SB_ETIMEDOUT, SB_EIO.  Required with SB_DRV_WRITES. */
    int  (*write)(void *state, const char *key, struct sb_drv_write *w, int64_t timeout_ms);
    /* SB_DRV_ASYNC: start a read / write; 0 = started (finish it with
     * sb_drv_done), 1 = finished already (items / w filled; no
     * sb_drv_done), < 0 = failed at once (err filled; no sb_drv_done). */
    int  (*read_async)(void *state, const char *key, struct sb_drv_item *items, size_t n,
                       int64_t timeout_ms, struct sb_drv_op *op, char *err, size_t errlen);
    int  (*write_async)(void *state, const char *key, struct sb_drv_write *w,
                        int64_t timeout_ms, struct sb_drv_op *op);
    /* SB_DRV_ASYNC, optional: read a point's command slots into out; same
     * return convention as read_async (err in errlen-sized err). */
    int  (*slots_async)(void *state, const char *key, struct sb_drv_point *pt,
                        struct sb_drv_slots *out, int64_t timeout_ms, struct sb_drv_op *op,
                        char *err, size_t errlen);
    /* SB_DRV_ASYNC, optional: read or write one property of any object of
     * the device key (struct sb_drv_prop); same return convention as
     * write_async (p->err filled on failure). */
    int  (*prop_async)(void *state, const char *key, struct sb_drv_prop *p, int64_t timeout_ms,
                       struct sb_drv_op *op);
    /* Find devices/points on the network (BACnet Who-Is, ...).  Optional;
     * *out is a JSON array the caller owns. */
    int  (*discover)(void *state, const json_t *args, int64_t timeout_ms, json_t **out);
    /* Several nodes (cluster/lease.h): this node starts (owned = 1) or
     * stops talking to device key; told for every device after each bind,
     * then on each change.  A driver with traffic of its own beyond read
     * and write (BACnet COV subscriptions) makes or cancels it here, so a
     * device is never subscribed by two nodes.  Optional; loop thread. */
    void (*own)(void *state, const char *key, int owned);
    void (*free)(void *state);
};

/* The compiled-in drivers (drivers/registry.c), NULL-terminated. */
extern const struct sb_driver_ops *const sb_drivers[];
const struct sb_driver_ops *sb_driver_find(const char *name);

/* May the driver send anything to device key now (loop thread)?  Always,
 * unless devices are leased between nodes (cluster/lease.h): then only while
 * this node owns the device and its lease's deadline has not passed.  A
 * driver with traffic of its own (BACnet COV subscriptions and their
 * cancellations) asks before sending: a node cut off from the database must
 * go quiet before another node may take its devices. */
int sb_drv_may_talk(struct sb_drv *drv, const char *key);

/* A push driver delivers values of its bound points (any thread).
 * values are in each point's unit; t = 0 means now.  Readings of unknown
 * ids are dropped and counted.  Returns 0, or SB_EAGAIN when the pipeline
 * is full (the caller may retry or drop; it is counted either way). */
struct sb_drv_value {
    uint32_t point;             /* point id */
    double v;                   /* value in the point's unit */
    int64_t t;                  /* ms UTC, 0 = now */
    uint16_t q;                 /* SB_Q_* */
};
int  sb_drv_push(struct sb_drv *drv, const struct sb_drv_value *v, size_t n);

/* A push driver reports a device's state (connected, error text) so health
 * and /metrics show it (any thread).  err NULL = healthy. */
void sb_drv_device_state(struct sb_drv *drv, const char *key, int ok, const char *err);

/* The daemon's loop, for SB_DRV_ASYNC drivers' own handles. */
struct uv_loop_s *sb_drv_loop(struct sb_drv *drv);

/* Finish an asynchronous read or write (loop thread): rc as read()/write()
 * would return it, err the reason when rc != 0 (may be NULL). */
void sb_drv_done(struct sb_drv_op *op, int rc, const char *err);

/* Count a malformed input of the driver (a bad payload on a topic...). */
void sb_drv_count_bad(struct sb_drv *drv, const char *key, const char *what);

#endif /* SB_DRIVERS_DRIVER_H */

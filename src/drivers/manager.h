/*
 * manager.h - the driver framework: binds the model's points to protocol
 * drivers (driver.h), polls them on schedule, pushes their readings into
 * ingest, keeps device health, trips circuit breakers, and carries out
 * verified writes.
 *
 * Polling: each point is due every poll_ms (its binding's poll_s; a first
 * due time spread at random over one interval so a thousand devices do not
 * fire together).  A device's due points are read in one driver call; one
 * job per device at a time.  Blocking drivers run on the manager's own
 * worker threads (drivers.threads), so a dead device holding a thread for
 * its timeout never starves the API's thread pool.
 *
 * Failures: a device that does not answer is retried with exponential
 * back-off (0.5 s, 1 s, 2 s ... capped at its poll interval); after
 * drivers.breaker_failures failures in a row its breaker opens for
 * drivers.breaker_cooldown, then one probe (half-open) decides.  A point
 * without a good reading for drivers.stale_factor intervals is stale.
 *
 * Writes (sb_drvmgr_write): the point must be bound, writable and the value
 * within its range (source unit); one write per point per
 * drivers.write_interval; dry-run logs instead of writing.  The device write
 * is followed by a read of the same point: the result is "ok" (read back
 * equal within 0.1 % or 1e-6), "not_confirmed" (read back differs or fails),
 * "rejected" (the device refused: its reason) or "error" (no answer).
 *
 * Threads: everything here runs on the loop thread except sb_drv_push /
 * sb_drv_device_state / sb_drv_count_bad (driver.h), callable anywhere.
 * Ownership: the manager keeps no pointer into the model given to apply().
 */
#ifndef SB_DRIVERS_MANAGER_H
#define SB_DRIVERS_MANAGER_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "drivers/driver.h"
#include "model/model.h"

struct sb_ingest;
struct sb_drvmgr;

struct sb_drvmgr_cfg {
    uv_loop_t *loop;               /* the daemon's loop */
    struct sb_ingest *ingest;      /* where readings go (not owned) */
    json_t *conf;                  /* per-driver configuration {"modbus":{..},..}; borrowed */
    int dry_run;                   /* log writes instead of sending them */
    int64_t timeout_ms;            /* per device request */
    int threads;                   /* worker threads for blocking drivers */
    int breaker_failures;          /* failures in a row that open a breaker */
    int64_t breaker_cooldown_ms;   /* how long it stays open */
    int64_t write_interval_ms;     /* least time between two writes of one point */
    int stale_factor;              /* intervals without data before a point is stale */
    const struct sb_driver_ops *const *drivers;  /* NULL: the compiled-in registry */
    int leased;                    /* several nodes (cluster/lease.h): a device is polled,
                                      written and its pushed values taken only while this
                                      node owns it (sb_drvmgr_own) and its lease holds */
};

/* What a write came to. */
enum sb_wres {
    SB_WRES_OK = 0,                /* written and read back equal */
    SB_WRES_NOT_CONFIRMED,         /* written, read back differs or failed */
    SB_WRES_REJECTED,              /* the device refused (reason) */
    SB_WRES_ERROR,                 /* no answer, or a local failure */
    SB_WRES_DRY_RUN                /* not sent: drivers.dry_run */
};
const char *sb_wres_name(enum sb_wres r);

struct sb_write_result {
    enum sb_wres res;
    uint32_t point;
    double value;                  /* what was asked (source unit) */
    double readback;               /* NaN when none */
    char reason[SB_DRV_ERR_MAX];   /* the device's or ours */
    char holder[SB_DRV_ERR_MAX];   /* who holds the point now, "" unknown
                                      (BACnet: "priority 8 (ours)") */
    int priority;                  /* the priority written at (0: none) */
};
typedef void (*sb_write_cb)(void *ud, const struct sb_write_result *r);

int  sb_drvmgr_new(const struct sb_drvmgr_cfg *cfg, struct sb_drvmgr **out);

/* (Re)bind every point of m with a driver binding; drivers used for the
 * first time are initialised from cfg->conf and started.  While jobs run
 * the change waits for them.  Points whose address a driver refuses are
 * listed in the health with the reason.  Returns 0 or SB_ENOMEM; a driver
 * whose init fails is reported in the health, not fatal. */
int  sb_drvmgr_apply(struct sb_drvmgr *mg, const struct sb_model *m);

/* Validate and queue a write (loop thread).  Returns 0 when queued (cb
 * comes later, on the loop), or SB_ENOENT (no driver binds the point),
 * SB_ENOTSUP (its driver cannot write), SB_EINVAL (not writable: *why),
 * SB_ERANGE (outside its range: *why), SB_EAGAIN (written too recently),
 * SB_ECLOSED (cfg.leased: another node owns the device). */
int  sb_drvmgr_write(struct sb_drvmgr *mg, uint32_t point, double value, int priority,
                     int relinquish, sb_write_cb cb, void *ud, const char **why);

/* Read a point's command slots live (loop thread).  cb runs on the loop,
 * later or (an answer known at once) before this returns, with 0 and the
 * slots, or SB_ETIMEDOUT / SB_EPROTO / SB_EIO and the device's reason.  Returns 0 when started, SB_ENOENT (no driver binds the
 * point), SB_ENOTSUP (its driver has no slots), SB_ECLOSED (cfg.leased: another node's device). */
typedef void (*sb_slots_cb)(void *ud, int rc, const struct sb_drv_slots *s, const char *why);
int  sb_drvmgr_slots(struct sb_drvmgr *mg, uint32_t point, sb_slots_cb cb, void *ud,
                     const char **why);

/* Read or write one property of any object of the device that serves
 * point (loop thread; struct sb_drv_prop in driver.h), e.g. the Schedule
 * object of a zone's controller.  The caller owns p and its buffer until
 * cb, which runs on the loop, later or (an answer known at once) before
 * this returns, with 0 or SB_ETIMEDOUT / SB_EPROTO (p->err: the device's
 * reason) / SB_EIO / SB_ENOSPC.  With drivers.dry_run a write is not sent:
 * cb gets 0 with p->dry_run set.  Returns 0 when started, SB_ENOENT (no
 * driver binds the point), SB_ENOTSUP (its driver has no prop_async),
 * SB_ECLOSED (cfg.leased: another node's device; as for every write, only
 * the node that owns a device talks to it). */
typedef void (*sb_prop_cb)(void *ud, int rc, struct sb_drv_prop *p, const char *why);
int  sb_drvmgr_prop(struct sb_drvmgr *mg, uint32_t point, struct sb_drv_prop *p, sb_prop_cb cb,
                    void *ud, const char **why);

/* Devices and their health as JSON (a new reference): an array of
 * {"device","driver","state","points","stale_points","reads","errors",
 *  "consecutive_failures","last_ok","last_error","last_error_at","latency_ms"}
 * plus {"misconfigured":[{"point","driver","error"}]} entries. */
json_t *sb_drvmgr_health(struct sb_drvmgr *mg);

/*
 * Freshness changes of polled points (loop thread): cb(ud, point, 1) when a
 * point goes stale (no good read and no COV confirmation for stale_factor
 * poll intervals: the rule of "stale_points" above), cb(ud, point, 0) when
 * it is fresh again.  Checked once a second.  Up to SB_FRESH_MAX listeners
 * (the API's WebSocket hub, the alert engine); off removes one.
 * This is how the API marks a held value stale for WebSocket clients: a
 * point kept current by COV sends no reading while its value holds, so
 * clients cannot judge freshness by the age of the last reading.
 */
#define SB_FRESH_MAX 4
typedef void (*sb_fresh_cb)(void *ud, uint32_t point, int stale);
int  sb_drvmgr_on_fresh(struct sb_drvmgr *mg, sb_fresh_cb cb, void *ud);   /* 0 or SB_ENOSPC */
void sb_drvmgr_off_fresh(struct sb_drvmgr *mg, sb_fresh_cb cb, void *ud);

/*
 * Device ownership, with cfg.leased (loop thread).  Devices are named
 * "<driver>/<device key>" (the same on every node with the same model).
 * each_device visits every bound device with its point ids, whether this
 * node owns it and whether a job of it is out (a device given up is not
 * released to another node before its job is back).  own() sets ownership
 * (kept across sb_drvmgr_apply; SB_ENOENT for a name not bound, which is
 * still remembered).  lease_until: a monotonic time (uv_hrtime() / 1e6) after
 * which no owned device is polled and no pushed value taken until a later
 * one is given: a lease that could not be renewed stops polling by itself,
 * before another node may take it.
 */
typedef void (*sb_dev_fn)(void *ud, const char *name, const uint32_t *ids, size_t n, int owned,
                          int busy);
void sb_drvmgr_each_device(struct sb_drvmgr *mg, sb_dev_fn fn, void *ud);
int  sb_drvmgr_own(struct sb_drvmgr *mg, const char *name, int own);
void sb_drvmgr_lease_until(struct sb_drvmgr *mg, int64_t mono_ms);

/* Counters for /metrics. */
struct sb_drvmgr_stats {
    uint64_t reads, read_errors, readings, pushed, dropped, bad, writes;
    uint64_t not_owned;            /* pushed values dropped: their device is another node's */
    size_t devices, devices_failing, devices_open, stale_points, misconfigured;
};
void sb_drvmgr_stats(struct sb_drvmgr *mg, struct sb_drvmgr_stats *st);

/* The state a driver's init() returned (for its own extra API, e.g.
 * mqtt.h), or NULL when that driver is not running.  Loop thread. */
void *sb_drvmgr_state(struct sb_drvmgr *mg, const char *name);

/* 1 once every bound driver started (readiness). */
int  sb_drvmgr_ready(struct sb_drvmgr *mg);

void sb_drvmgr_stop(struct sb_drvmgr *mg);   /* stop drivers, threads, handles */
int  sb_drvmgr_idle(struct sb_drvmgr *mg);   /* 1 once handles are closed */
void sb_drvmgr_free(struct sb_drvmgr *mg);

#endif /* SB_DRIVERS_MANAGER_H */

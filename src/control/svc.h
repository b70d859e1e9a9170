/*
 * svc.h - supervisory control in the daemon: every zone with writable
 * heating and cooling setpoints is driven by its control schedule (with
 * optimal start), its occupancy setback and tenants' after-hours overrides,
 * arbitrated and guarded (arb.h), and written through the drivers' verified
 * write path at sbems's priority - only where the zone's mode is auto.
 * docs/internals/control.md.
 *
 * Flow, once a tick (control.tick, 60 s):
 *   worker thread  read each building's "control" settings and holidays
 *                  (app database), pin the model, evaluate every zone
 *                  (schedule, setback, tenant -> arbitration -> guardrails)
 *                  against the newest readings (kept from the live bus), and
 *                  list the writes due;
 *   loop thread    issue the writes (sb_drvmgr_write), and on each answer
 *                  audit it ("control.write", actor "sbems-control") and
 *                  remember what the device now holds.
 * A tick never overlaps the previous one or its writes.
 *
 * Ownership: the service borrows loop, bus, models, db and drivers (all must
 * outlive it) and owns everything else.  Threads: sb_ctlsvc_new / _stop /
 * _poke on the loop thread; sb_ctlsvc_state from any thread.
 */
#ifndef SB_CONTROL_SVC_H
#define SB_CONTROL_SVC_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

struct sb_bus;
struct sb_mhub;
struct sb_appdb;
struct sb_drvmgr;
struct sb_analytics;
struct sb_ctlsvc;
struct sb_store_h;

struct sb_ctlsvc_cfg {
    uv_loop_t *loop;
    struct sb_bus *bus;            /* newest readings of the zones' points */
    struct sb_mhub *models;
    struct sb_appdb *db;           /* settings, holidays, audit */
    struct sb_drvmgr *drivers;     /* writes; NULL: advisory everywhere */
    struct sb_analytics *analytics;/* the optimizer's plans (sb_analytics_plan); NULL: none */
    struct sb_store_h *store;      /* history optimal start learns from (worker); NULL: none */
    int64_t tick_ms;               /* evaluation period (control.tick) */
    int priority;                  /* BACnet priority sbems writes setpoints at (control.priority) */
    int64_t stale_ms;              /* a reading older than this is not used (control.stale) */
};

/* 0, SB_ENOMEM, or the bus's error. */
int  sb_ctlsvc_new(const struct sb_ctlsvc_cfg *cfg, struct sb_ctlsvc **out);

/* Evaluate soon (settings changed through the API).  Loop thread. */
void sb_ctlsvc_poke(struct sb_ctlsvc *s);

/* The last tick's view of a building (new reference, NULL when none yet):
 * {"evaluated_at", "demand", "zones": [{"zone", "mode", "state", "controlled", "why_not",
 *   "heating_sp", "cooling_sp", "target": {"heating","cooling"}, "winner",
 *   "reason", "until", "sources": [...], "temp", "occupied", "last_write",
 *   "native_schedule" (zones with one: {"object", "calendar", "state",
 *   "why", "runs_occupancy", "checked_at", "written_at", "in_sync_at",
 *   "next_check", "present_value", "exceptions", "dates"})}]}.
 * Any thread. */
json_t *sb_ctlsvc_state(struct sb_ctlsvc *s, const char *building);

/* A zone's native Schedule (and Calendar) read from its controller now
 * (loop thread), for GET /zones/{zone}/control/native-schedule.  cb runs
 * later on the loop, or before this returns, with 0 and answer (a new
 * reference, the caller's):
 *   {"zone", "schedule", "calendar", "datatype", "present_value",
 *    "matches" (the device holds the zone's program), "differs" (where not),
 *    "device": {"weekly", "exceptions", "dates"} (native.h's JSON),
 *    "as_schedule": the device's program as a control schedule (sched.h)
 *    or null with "unreadable": why, "last_check": the zone state's
 *    native_schedule}
 * or with SB_EIO / SB_ETIMEDOUT and why (the device's words).  Returns 0
 * when started, or SB_ENOENT with *why (the zone has no native_schedule,
 * or no tick has evaluated it yet). */
typedef void (*sb_ctlsvc_native_cb)(void *ud, int rc, json_t *answer, const char *why);
int sb_ctlsvc_native_read(struct sb_ctlsvc *s, const char *zone, sb_ctlsvc_native_cb cb, void *ud,
                          const char **why);

/* Who else hears of every write's outcome (loop thread): the API records
 * it beside operators' commands, so a point's priority view names
 * sbems-control as the holder of its slot.  fn NULL: nobody. */
struct sb_write_result;
typedef void (*sb_ctlsvc_rec_fn)(void *ud, const struct sb_write_result *r, const char *reason);
void sb_ctlsvc_set_recorder(struct sb_ctlsvc *s, sb_ctlsvc_rec_fn fn, void *ud);

/* A building's stored control settings into s (defaults when none): 0, or
 * SB_EINVAL with err when the stored document does not parse (s then holds
 * the defaults).  The service and the API read them through this.  Any
 * thread; s is the caller's (sb_ctlset_release). */
struct sb_ctlset;
int sb_ctlsvc_settings_load(struct sb_appdb *db, const char *building, struct sb_ctlset *s, char *err,
                            size_t cap);

/* Counters for /metrics. */
struct sb_ctlsvc_stats {
    uint64_t ticks, writes, write_errors, skipped_stale;
    uint32_t zones, zones_auto;
};
void sb_ctlsvc_stats(struct sb_ctlsvc *s, struct sb_ctlsvc_stats *out);

/* Stop the timer and the bus subscription (loop thread); writes in flight
 * end with the drivers.  Free once the loop has ended. */
void sb_ctlsvc_stop(struct sb_ctlsvc *s);
void sb_ctlsvc_free(struct sb_ctlsvc *s);

#endif /* SB_CONTROL_SVC_H */

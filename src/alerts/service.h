/*
 * service.h - alerts in the daemon: the rules stored in the app database,
 * evaluated by the engine (alerts/engine.h) on the live bus, each raise and
 * clear recorded as an alert's life cycle (db/appdb.h, schema v3), changes
 * told to the loop (WebSocket events) and to subscribers (alerts/notify.h).
 * Escalation: an alert nobody acknowledged is escalated one level per
 * escalate_after (level n after n x escalate_after, up to
 * SB_ALERT_SUB_LEVEL_MAX), each time an "escalated" event and notices to the
 * subscriptions of that level; a loop timer hands the check to the pool.
 *
 * Threads: sb_alerts_new/_free on the loop thread; sb_alerts_reload and
 * sb_alerts_changed from any thread (the API's pool); the change callback
 * runs on the loop thread.  Notifications never wait for anything: the
 * notifier has its own threads and queue.
 *
 * Ownership: the service owns its engine, notifier and handles; it borrows
 * the loop, database, model hub, bus and driver manager, which must outlive
 * it (sb_alerts_stop, wait for sb_alerts_idle, then sb_alerts_free).
 */
#ifndef SB_ALERTS_SERVICE_H
#define SB_ALERTS_SERVICE_H

#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "alerts/notify.h"
#include "alerts/rule.h"
#include "db/appdb.h"

struct sb_bus;
struct sb_mhub;
struct sb_drvmgr;
struct sb_alerts;

/* An alert changed (loop thread): event is "raised", "re-raised", "cleared",
 * "resolved", "acknowledged", ... as stored in its history. */
typedef void (*sb_alerts_change_cb)(void *ud, const struct sb_alert *a, const char *event);

struct sb_alerts_cfg {
    uv_loop_t *loop;
    struct sb_appdb *db;
    struct sb_mhub *models;
    struct sb_bus *bus;                /* NULL: no live evaluation */
    struct sb_drvmgr *drivers;         /* NULL: offline rules never fire */
    struct sb_notify_cfg notify;       /* channels without settings stay off */
    int64_t flap_window_ms;            /* 0: 10 min */
    int64_t escalate_after_ms;         /* alerts.escalate_after; 0: never escalate */
    sb_alerts_change_cb changed;
    void *ud;
};

int  sb_alerts_new(const struct sb_alerts_cfg *cfg, struct sb_alerts **out);

/* Who hears about changes (loop thread; the API, started after the service). */
void sb_alerts_on_change(struct sb_alerts *s, sb_alerts_change_cb cb, void *ud);

/* An alert as the API shows it (a new reference): times as RFC 3339 and ms. */
json_t *sb_alert_json(const struct sb_alert *a);

/* Rules or the model changed: read the rules again and rebind them. */
int  sb_alerts_reload(struct sb_alerts *s);

/* An action of the API changed alert a (ack, assign, note, shelve, resolve):
 * tell the loop (the change callback).  Any thread; a is copied. */
void sb_alerts_changed(struct sb_alerts *s, const struct sb_alert *a, const char *event);

/* A raise (raise = 1) or clear of an alert decided outside the rule engine
 * (fault detection): rule is its source ("fdd-apar-13"; no rule row needed),
 * key what it is about (the equipment), the alert's life cycle, WebSocket
 * event and notifications exactly as for the engine's.  Any thread (it
 * writes the database: not the loop).  Returns 0, SB_ENOENT (a clear with
 * nothing open), SB_EINVAL or the store's error. */
int  sb_alerts_record(struct sb_alerts *s, const char *rule, const char *building, const char *key,
                      int severity, double value, const char *text, int raise, int64_t now_ms,
                      int auto_resolve);

/* Copies of the enabled stored rules of type (e.g. SB_ART_FORECAST, which
 * the analytics service evaluates; their building is in r->building): *out
 * is a malloc'd array of *n rules (NULL when none) the caller frees.  Rules
 * that no longer parse are skipped (and logged).  Any thread but the loop
 * (it reads the database).  Returns 0, SB_EINVAL or the store's error. */
int  sb_alerts_rules_of_type(struct sb_alerts *s, enum sb_arule_type type, struct sb_arule **out,
                             size_t *n);

/* The escalation interval in use, ms (0: escalation is off).  Any thread. */
int64_t sb_alerts_escalate_after(const struct sb_alerts *s);

/* Open alerts of building (the overview), from memory: 0, or SB_ENOENT when
 * not known yet.  Kept current by every change; loop-safe (no database). */
int  sb_alerts_summary(struct sb_alerts *s, const char *building, struct sb_alert_summary *out);

struct sb_alerts_stats {
    uint64_t raised, cleared, store_errors, notices, escalated;
    size_t rules, unbound;
    uint64_t readings, dropped;
};
void sb_alerts_stats(struct sb_alerts *s, struct sb_alerts_stats *st);

void sb_alerts_stop(struct sb_alerts *s);   /* engine, notifier, handles */
int  sb_alerts_idle(struct sb_alerts *s);   /* 1 once its handles are closed */
void sb_alerts_free(struct sb_alerts *s);

#endif /* SB_ALERTS_SERVICE_H */

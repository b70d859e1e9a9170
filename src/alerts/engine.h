/*
 * engine.h - the alert engine: every enabled rule evaluated as readings
 * arrive on the live bus (never by polling the store), and on a one-second
 * tick for what time alone decides (delays, stale points, offline devices,
 * comfort degree-hours).
 *
 * The rules themselves are pure (alerts/rule.h); this module routes readings
 * to the rules that watch their point, keeps each rule's state, supplies the
 * context a rule cannot know (a zone's occupancy and comfort band from the
 * model; for a schedule rule, whether any zone the point's equipment serves -
 * its own or its boxes' - is occupied; whether an equipment's polled points
 * are all stale from the driver framework) and reports every raise and clear
 * to the decide callback, which records the alert's life cycle
 * (alerts/service.c).  Forecast rules are not loaded: the analytics service
 * evaluates them.
 *
 * Threads: the bus callback (ingest writer thread) only copies the readings
 * of watched points into a bounded queue; the engine's own thread evaluates
 * and calls decide.  sb_aeng_load, sb_aeng_fresh and the stats are
 * thread-safe.  A full queue drops the newest readings and counts them (the
 * rules see the next ones): evaluation never slows ingest.
 *
 * Ownership: the engine copies the rules and the index it needs from the
 * model at each load; it keeps no pointer into a model.
 */
#ifndef SB_ALERTS_ENGINE_H
#define SB_ALERTS_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "alerts/rule.h"
#include "store/sample.h"

struct sb_bus;
struct sb_model;
struct sb_aeng;

/* A decision of a rule (engine thread).  raise = 1: the condition holds (after
 * its delay); 0: it cleared.  ev carries the value, time and text. */
typedef void (*sb_aeng_decide_cb)(void *ud, const struct sb_arule *r, const char *building,
                                  int raise, const struct sb_arule_event *ev);

struct sb_aeng_cfg {
    struct sb_bus *bus;            /* readings (not owned); NULL: ticks only (tests feed by hand) */
    sb_aeng_decide_cb decide;
    void *ud;
    size_t queue_max;              /* readings waiting; 0: 65,536 */
    int64_t tick_ms;               /* 0: 1000 */
};

/* One rule to load: its parsed form and building (the API checked both). */
struct sb_aeng_rule_in {
    const struct sb_arule *rule;
    const char *building;
};

struct sb_aeng_stats {
    uint64_t readings;             /* evaluated */
    uint64_t dropped;              /* queue full */
    uint64_t raised, cleared;      /* decisions */
    size_t rules;                  /* loaded and bound */
    size_t unbound;                /* naming what the model lacks (skipped) */
};

int  sb_aeng_new(const struct sb_aeng_cfg *cfg, struct sb_aeng **out);

/*
 * Replace the rule set (n rules) against model m: each rule is bound to its
 * point / zone / equipment ids; a rule whose object the model lacks (or a
 * schedule rule whose equipment serves no zone with a schedule) is skipped
 * and counted.  Disabled and forecast rules are left out, uncounted.  The state of a rule whose id and definition are
 * unchanged is kept (a reload does not re-raise or forget delays).
 */
int  sb_aeng_load(struct sb_aeng *e, const struct sb_model *m, const struct sb_aeng_rule_in *in,
                  size_t n);

/* The driver framework's verdict on a polled point (sb_drvmgr_on_fresh). */
void sb_aeng_fresh(void *engine, uint32_t point, int stale);

/* Feed readings directly (the bus does this; tests too). */
void sb_aeng_feed(struct sb_aeng *e, const struct sb_reading *r, size_t n);

void sb_aeng_stats(struct sb_aeng *e, struct sb_aeng_stats *st);

/* Stops the thread (pending readings are dropped) and frees. */
void sb_aeng_free(struct sb_aeng *e);

#endif /* SB_ALERTS_ENGINE_H */

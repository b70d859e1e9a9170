/*
 * demand.h - the demand limiter: a building's electric demand held under a
 * limit by widening its zones' comfort bands in steps.
 *
 * A utility bills demand as the mean power over each demand interval
 * (15 minutes, aligned to the clock).  The limiter follows the current
 * interval's energy and projects its mean: energy so far plus the power now
 * held to the interval's end (over the part of the interval whose power is
 * known: a start mid-interval or a gap is not counted as zero).  When the projection exceeds the limit it
 * raises the shed level (at most one level per raise_every_ms, so each
 * step's effect is seen before the next); when the projection stays under
 * the limit less release_frac for release_after_ms it lowers one level.
 * Each level widens the occupied band: cooling setpoints up, heating down,
 * by 1, 2 and 4 °F (0.56, 1.11, 2.22 K), the three demand-limit levels of
 * ASHRAE Guideline 36's zone setpoint adjustments.  The limiter's
 * band goes to the arbitration at its own priority (arb.h SB_ARB_DEMAND,
 * 9: above tenants, the optimizer and the schedule, below an operator), and
 * the arbitration's ramps keep the release from stepping every zone back at
 * once (a rebound above the old peak).
 *
 * Pure: no I/O, clock or globals; the caller feeds the power with its time.
 * Threads: a limiter is used by one thread at a time.  Ownership: values.
 */
#ifndef SB_CONTROL_DEMAND_H
#define SB_CONTROL_DEMAND_H

#include <stdint.h>

#define SB_DLIM_LEVELS 3

struct sb_dlim_cfg {
    double limit_kw;              /* > 0 */
    int64_t interval_ms;          /* demand interval (15 min) */
    int64_t raise_every_ms;       /* at most one level up per this (5 min) */
    double release_frac;          /* release under limit * (1 - this) (0.1) */
    int64_t release_after_ms;     /* .. held this long, one level down (15 min) */
    int64_t stale_ms;             /* power older than this: unknown (2 min) */
};

struct sb_dlim {
    int level;                    /* 0 .. SB_DLIM_LEVELS */
    int64_t raised_ms;            /* last raise, 0 never */
    int64_t below_since_ms;       /* the projection under the release line since, 0 not */
    int64_t ivl_ms;               /* start of the interval followed, 0 none */
    double kwh;                   /* energy in it so far */
    int64_t covered_ms;           /* .. over this much of it (power known) */
    int64_t last_ms;              /* last sample */
    double last_kw;
    double projected_kw;          /* the interval's projected mean, NaN unknown */
};

void sb_dlim_cfg_default(struct sb_dlim_cfg *c, double limit_kw);
void sb_dlim_init(struct sb_dlim *d);

/* Feeds the building's power kw (NaN: unknown) at now_ms (non-decreasing)
 * and returns the shed level.  Unknown power never raises the level; it
 * neither lowers it until the power is known again under the line. */
int sb_dlim_update(struct sb_dlim *d, const struct sb_dlim_cfg *c, int64_t now_ms, double kw);

/* How far a level widens the band, K (0 for level 0). */
double sb_dlim_offset_k(int level);

#endif /* SB_CONTROL_DEMAND_H */

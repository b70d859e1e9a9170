/*
 * zone.h - what the supervisory sources want of one zone right now: the
 * schedule (with optimal start), the occupancy setback and a tenant's
 * after-hours override, each as a heating/cooling setpoint pair with a
 * reason and an expiry.  Which of them wins, and how the winner reaches the
 * device (bounds, ramps, modes), is the arbitration's job (arb.h).
 *
 * Rules (docs/internals/control.md):
 *   schedule   the control schedule's band now; during the optimal-start
 *              lead before an occupied period the occupied band instead
 *              ("optimal start"), the lead from the zone's learnt recovery
 *              rate at today's outdoor temperature (ostart.h) or, before it
 *              has learnt one, a default rate;
 *   setback    during an occupied period, when the zone's occupancy sensor
 *              has read vacant for the vacancy delay: the standby band until
 *              someone is seen (then the schedule's band at once);
 *   tenant     an after-hours override: the occupied band until its expiry.
 * A stale or missing occupancy reading never sets a zone back: without
 * knowing, the schedule stands.
 *
 * Pure: the caller passes in time, readings and the schedule's state.
 * Ownership: plain values.  Threads: any.
 */
#ifndef SB_CONTROL_ZONE_H
#define SB_CONTROL_ZONE_H

#include <stdint.h>

#include "control/sched.h"

struct sb_zsup_in {
    int64_t now_ms;
    struct sb_csched_state now;        /* the schedule's state now */
    struct sb_csched_state next_occ;   /* the next occupied period's state (its since_ms
                                          is when it begins); mode != OCCUPIED: none ahead */
    double temp;                       /* zone temperature, degC; NaN unknown or stale */
    double lead_h;                     /* optimal-start lead the zone needs now, h (>= 0);
                                          NaN: no optimal start */
    int64_t stop_at_ms;                /* optimal stop: from here to now.next_ms the zone
                                          drifts inside the band with the HVAC set back
                                          (0: no optimal stop) */
    struct sb_csched_state after;      /* the schedule's state from now.next_ms (its band
                                          is what optimal stop asks for) */
    int occ_known;                     /* 1 when the occupancy reading is fresh */
    int occupied;                      /* the reading: someone there */
    int64_t vacant_since_ms;           /* when it last turned vacant (occ_known && !occupied) */
    int64_t vacancy_delay_ms;          /* setback after this long vacant; <= 0: never */
    int64_t override_until_ms;         /* tenant override expiry; <= now_ms: none */
    struct sb_band standby;            /* the schedule's standby band (setback) */
    struct sb_band occ_band;           /* its occupied band (tenant override) */
};

/* One source's wish; active = 0 when it has none. */
struct sb_zsup_cmd {
    int active;
    struct sb_band band;               /* heating / cooling setpoints, degC */
    int64_t until_ms;                  /* when it lapses by itself (INT64_MAX: never) */
    char reason[96];                   /* "occupied until 19:00", "optimal start: 1.4 h lead", ... */
};

struct sb_zsup_out {
    struct sb_zsup_cmd schedule, setback, tenant;
    struct sb_zsup_cmd optimizer;      /* left inactive here: the service fills it from the plan */
    struct sb_zsup_cmd demand;         /* .. and from the demand limiter (control/demand.h) */
    enum sb_cmode mode;                /* what the zone is in, all sources considered */
    int sched_optimal;                 /* the schedule source is optimal start or stop, not
                                          the schedule's own band (a controller that runs its
                                          own Schedule object still needs these written) */
};

void sb_zsup_eval(const struct sb_zsup_in *in, struct sb_zsup_out *out);

/* Lead an optimal start needs: the gap between temp and the band (K) over
 * the recovery rate (K/h), plus a 15-minute margin, at most max_h; 0 when
 * the zone is already in the band, NaN when temp or rate is unknown. */
double sb_zsup_lead(double temp, const struct sb_band *band, double heat_rate, double cool_rate,
                    double max_h);

#endif /* SB_CONTROL_ZONE_H */

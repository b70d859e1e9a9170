/*
 * ostart.h - optimal start and optimal stop, learnt per zone from history.
 *
 * Optimal start turns the HVAC on as late as possible so that the zone is
 * inside the occupied band when occupancy begins; optimal stop lets the
 * zone go to the unoccupied band a little before occupancy ends when its
 * passive drift keeps it inside the occupied band until the end (C. Park,
 * "An optimum start/stop control algorithm for heating and cooling systems
 * in buildings", NBSIR 83-2720, 1983; Seem, Armstrong & Hancock, "Comparison
 * of seven methods for forecasting the time to return from night setback",
 * ASHRAE Trans. 95(2), 1989; ASHRAE Guideline 36's warm-up / cool-down
 * zone-group modes, which leave the recovery time to such an estimate).
 *
 * Learning: from a zone's history (time, zone temperature, outdoor
 * temperature, what the controller was doing) find the recovery episodes
 * - an unoccupied -> recovery/occupied change with the zone at least
 * min_need_k outside the occupied band - and time each until the zone
 * enters the band; their mean rates (K/h) are fitted against the outdoor
 * temperature as rate = a + b * T_out.  Passive drift is measured over the
 * first drift_window_s after each occupied -> unoccupied change and fitted
 * as rate = a + b * (T_out - T_zone): a first-order zone (C dT/dt =
 * (T_out - T)/R) drifts at (T_out - T)/RC, so b estimates 1/RC and a ~ 0.
 * Each fit is robust: a Theil-Sen start (Sen 1968, JASA 63(324)), then
 * least squares on the episodes within 3 robust sigma (MAD) of it, twice.
 * Fewer than min_episodes inliers: "not learnt", and the default lead is
 * used.  docs/internals/control-schedule.md has the method.
 *
 * Pure: no I/O, clocks, globals or logging.  Threads: any.  Ownership:
 * inputs are the caller's and only read; results are plain values.
 */
#ifndef SB_CONTROL_OSTART_H
#define SB_CONTROL_OSTART_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define SB_OS_MAX_EPISODES 2000   /* episodes per fit (later ones are ignored) */

/* What the zone's controller was doing at a sample. */
enum sb_os_mode {
    SB_OS_UNOCC    = 0,   /* unoccupied: setback band, no recovery */
    SB_OS_RECOVERY = 1,   /* pre-occupancy warm-up / cool-down toward the occupied band */
    SB_OS_OCC      = 2,   /* occupied */
};

/* One sample of history; samples are in time order. */
struct sb_os_sample {
    int64_t t_ms;         /* UTC ms */
    double t_zone;        /* zone air temperature, °C (NaN: missing) */
    double t_out;         /* outdoor air temperature, °C (NaN: missing) */
    uint8_t mode;         /* enum sb_os_mode */
};

struct sb_os_cfg {
    struct sb_band occ;       /* the occupied band, °C */
    size_t min_episodes;      /* fewer inliers: not learnt (5) */
    double min_need_k;        /* an episode starts at least this far outside the band (1 K) */
    double max_episode_s;     /* longer recoveries are discarded (6 h) */
    double drift_window_s;    /* drift measured over this after occupancy ends (1 h) */
    double max_rate_kph;      /* faster "rates" are sensor faults, discarded (20 K/h) */
    double max_lead_s;        /* optimal start never earlier than this (3 h) */
    double default_lead_s;    /* lead when not learnt (1 h) */
    double margin;            /* the predicted time is stretched by this factor (0.1) */
    double margin_s;          /* ... plus this (600 s) */
    double max_stop_s;        /* optimal stop never earlier than this (30 min) */
    double stop_margin_k;     /* the drift must stay this far inside the band (0.3 K) */
};

/* rate = a + b * x, K/h; x is T_out (recovery) or T_out - T_zone (drift). */
struct sb_os_fit {
    int learnt;               /* 1: enough inliers; else use the defaults */
    double a;                 /* K/h */
    double b;                 /* K/h per K */
    size_t n_episodes;        /* episodes found */
    size_t n_used;            /* inliers the final fit used */
    double rmse;              /* of the inliers, K/h */
};

struct sb_os_model {
    struct sb_os_fit warm;    /* warm-up rate, K/h > 0, against T_out */
    struct sb_os_fit cool;    /* cool-down rate, K/h > 0 (cooling), against T_out */
    struct sb_os_fit drift;   /* passive dT/dt after HVAC off, K/h, against T_out - T_zone */
};

/* A decision. */
struct sb_os_plan {
    int64_t at_ms;            /* start: when to begin recovery; stop: when to release */
    double lead_s;            /* seconds before occupancy start / end */
    int learnt;               /* the model was used (0: defaults) */
    int need;                 /* +1 warm-up, -1 cool-down, 0 already in band (start) */
    double rate_kph;          /* the rate used, K/h (0 if none) */
};

/* The defaults above, for occupied band occ. */
void sb_os_cfg_default(struct sb_os_cfg *c, const struct sb_band *occ);

/* Learns m from n samples.  SB_EINVAL for a bad cfg or samples out of
 * time order.  Not learning (too few episodes) is not an error. */
int sb_os_learn(const struct sb_os_sample *x, size_t n, const struct sb_os_cfg *c,
                struct sb_os_model *m);

/* Optimal start for occupancy beginning at occ_start_ms, the zone now at
 * t_zone and the outdoor temperature expected t_out.  SB_EINVAL (NaN). */
int sb_os_start(const struct sb_os_model *m, const struct sb_os_cfg *c, double t_zone,
                double t_out, int64_t occ_start_ms, struct sb_os_plan *out);

/* Optimal stop for occupancy ending at occ_end_ms: release at out->at_ms
 * (== occ_end_ms when the drift is unknown or would leave the band). */
int sb_os_stop(const struct sb_os_model *m, const struct sb_os_cfg *c, double t_zone,
               double t_out, int64_t occ_end_ms, struct sb_os_plan *out);

#endif /* SB_CONTROL_OSTART_H */

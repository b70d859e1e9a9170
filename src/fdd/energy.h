/*
 * energy.h - energy against its forecast: the decisions behind energy
 * anomalies and "forecast" alert rules (docs/internals/fdd.md, "Energy
 * anomalies and forecast rules").  Pure: caller-owned plain structs, no
 * allocation, no I/O, no clock.
 *
 * Anomaly (struct sb_eanom): each interval's residual (actual - forecast,
 * kWh) standardised by the forecast's standard deviation goes through a
 * two-sided CUSUM (fdd/cusum.h; k = 0.5, h = 5, sums capped at 20 so that
 * a long excursion comes back within a day); a signal raises the anomaly on
 * its side, the side's sum back at zero clears it.  The mean residual since
 * the CUSUM was last in control on both sides measures it.
 *
 * Run (struct sb_fcrun): intervals in a row outside the forecast's
 * interval (above it, below it, or either); `need` in a row raise, one
 * inside clears.  An interval that cannot be judged is not fed.
 */
#ifndef SB_FDD_ENERGY_H
#define SB_FDD_ENERGY_H

#include <stdint.h>

#include "fdd/cusum.h"

/* What a step reports, as bits. */
enum {
    SB_EANOM_CLEAR = 1,   /* the active anomaly ended */
    SB_EANOM_RAISE = 2    /* an anomaly began (side in *side) */
};

struct sb_eanom {
    struct sb_cusum c;    /* on the standardised residuals */
    int on;               /* active side: +1 above, -1 below, 0 none */
    double sum;           /* residuals since the CUSUM was last in control, kWh */
    uint32_t n;           /* intervals in that sum */
};

/* Initialises e (k 0.5, h 5, cap 20). */
void sb_eanom_init(struct sb_eanom *e);

/* One interval's residual (kWh) and the forecast's sd (> 0): SB_EANOM_*
 * bits (0: nothing new).  On a raise *side is +1/-1, *mean the mean
 * residual of the run (kWh per interval) and *run the CUSUM run length in
 * intervals.  Not finite or sd <= 0: nothing changes, 0. */
int sb_eanom_step(struct sb_eanom *e, double resid, double sd, int *side, double *mean, uint32_t *run);

/* Which side of the interval counts. */
enum sb_fcrun_dir { SB_FCRUN_ABOVE = 1, SB_FCRUN_BELOW = 2, SB_FCRUN_BOTH = 3 };

struct sb_fcrun {
    int run;              /* intervals in a row outside */
    int active;           /* raised and not cleared */
};

/* One judged interval: actual against [lo, hi].  Returns SB_EANOM_RAISE
 * when the run reaches need (1..) while not active, SB_EANOM_CLEAR when an
 * interval is back inside while active, else 0; *above tells the side of
 * this interval (1 above, -1 below, 0 inside). */
int sb_fcrun_step(struct sb_fcrun *r, int need, enum sb_fcrun_dir dir, double actual, double lo, double hi,
                  int *above);

#endif /* SB_FDD_ENERGY_H */

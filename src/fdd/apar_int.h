/*
 * apar_int.h - internals shared by apar.c (the filters and per-rule state)
 * and apar_rules.c (the rule table and the inequalities).  Not for callers.
 */
#ifndef SB_FDD_APAR_INT_H
#define SB_FDD_APAR_INT_H

#include "fdd/apar.h"

/* Outcome of one inequality. */
enum {
    SB_APAR__FALSE = 0,   /* evaluated, condition false */
    SB_APAR__TRUE  = 1,   /* evaluated, condition true */
    SB_APAR__NA    = -1,  /* an input is NAN: not evaluable */
    SB_APAR__SKIP  = -2   /* rule's own guard not met (e.g. |Tra - Toa| < dTmin) */
};

/* What a rule sees on one sample. */
struct sb_apar__ctx {
    const struct sb_apar_conf *c;   /* thresholds */
    const struct sb_apar_sample *v; /* moving-average values (raw sample for rule 31) */
    int mode;                       /* APAR mode of the sample */
    double sat_sp;                  /* effective SAT setpoint for this mode, or NAN */
    int switches;                   /* mode switches in the last hour (rule 28) */
    double sp_range, oat_range;     /* SAT setpoint and Toa range over the reset window (29) */
    double dsp_range, fs_range;     /* static setpoint and fan speed range (30) */
    double lhs, rhs;                /* out: the two sides of the inequality */
};

/* Evaluates rule id (1..SB_APAR_NRULES) in x; the caller has already
 * checked that the rule applies in x->mode.  Returns SB_APAR__*. */
int sb_apar__eval(int id, struct sb_apar__ctx *x);

/* Damper position tests shared by the mode logic and rules 21-24. */
/* u_min: the minimum position now, NAN = c->u_oad_min. */
int sb_apar__damper_at_min(const struct sb_apar_conf *c, double u_oad, double u_min);
int sb_apar__damper_full(const struct sb_apar_conf *c, double u_oad);

#endif /* SB_FDD_APAR_INT_H */

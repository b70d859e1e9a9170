/*
 * learn.h - a zone's optimal start/stop model (control/ostart.h) learnt from
 * its own history in the store, for the control service.
 *
 * What ostart needs per sample is the zone temperature, the outdoor
 * temperature and what the zone was asked for.  The last is read from the
 * zone's own setpoint points, not from the schedule: a recovery begins when
 * the zone is asked for the occupied band, whoever asked (the schedule at
 * occupancy, optimal start before it, an operator, a tenant's override),
 * so the episodes stay right once optimal start moves them earlier.
 *
 * History is read at one-minute steps (the store derives them from raw
 * samples): a recovery of 40 minutes timed at 15-minute steps would be off
 * by up to a third.  Setpoints hold their last value across minutes with no
 * sample (a setpoint is a state); temperatures are bridged over gaps of up
 * to 15 minutes and missing beyond.
 *
 * sb_ctl_os_samples is pure; sb_ctl_os_learn reads the store (a worker
 * thread: it blocks).  Ownership: inputs are only read; results are values.
 */
#ifndef SB_CONTROL_LEARN_H
#define SB_CONTROL_LEARN_H

#include <stddef.h>
#include <stdint.h>

#include "control/ostart.h"
#include "model/model.h"

struct sb_store_h;

#define SB_CTL_LEARN_STEP_MS 60000LL   /* one minute */
#define SB_CTL_ASK_TOL_K     0.5       /* a setpoint this close to the band's edge asks for it */
#define SB_CTL_LEARN_DAYS    28        /* history the control service learns from */

/* A zone's history at fixed steps: n values from t0_ms every step_ms, NaN
 * where missing.  hsp / csp may be NULL (the zone has no such setpoint). */
struct sb_ctl_hist {
    size_t n;
    int64_t t0_ms, step_ms;
    const double *tz, *tout, *hsp, *csp;
};

/* What the zone was asked for at one step: SB_OS_OCC when every setpoint it
 * has asks for the occupied band occ (heating >= occ.heating - tol, cooling
 * <= occ.cooling + tol), SB_OS_UNOCC when one of them is set back, -1 when
 * it has none known. */
int sb_ctl_os_mode(double hsp, double csp, const struct sb_band *occ);

/* ostart samples from h into out[h->n]: setpoints forward-filled, steps with
 * no known setpoint or no temperature left missing (NaN).  Returns how many
 * steps have a zone temperature, an outdoor temperature and a mode. */
size_t sb_ctl_os_samples(const struct sb_ctl_hist *h, const struct sb_band *occ,
                         struct sb_os_sample *out);

/* The points a zone's learning reads (hsp or csp may be NULL, not both). */
struct sb_ctl_os_points {
    const struct sb_point *tz, *tout, *hsp, *csp;
};

/* Learns *m from the days before now (whole minutes) for occupied band occ.
 * 0 (m->warm.learnt etc. say what was learnt), SB_EINVAL with the reason in
 * err (a point missing, no history), SB_ENOMEM, or the store's error. */
int sb_ctl_os_learn(struct sb_store_h *st, const struct sb_ctl_os_points *p,
                    const struct sb_band *occ, int64_t now_ms, int days, struct sb_os_model *m,
                    char *err, size_t errlen);

#endif /* SB_CONTROL_LEARN_H */

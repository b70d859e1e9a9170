/*
 * learn.c - optimal start/stop models from a zone's history (see learn.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/meter.h"
#include "control/learn.h"
#include "core/err.h"

#define BRIDGE_STEPS 15     /* minutes of missing temperature bridged */

int sb_ctl_os_mode(double hsp, double csp, const struct sb_band *occ)
{
    int known = 0;

    if (isfinite(hsp)) {
        if (hsp < occ->heating - SB_CTL_ASK_TOL_K)
            return SB_OS_UNOCC;
        known = 1;
    }
    if (isfinite(csp)) {
        if (csp > occ->cooling + SB_CTL_ASK_TOL_K)
            return SB_OS_UNOCC;
        known = 1;
    }
    return known ? SB_OS_OCC : -1;
}

/* v[i], else the last finite value at most max steps before i, else NaN. */
static double held(const double *v, size_t i, size_t max)
{
    for (size_t k = 0; v && k <= max && k <= i; k++)
        if (isfinite(v[i - k]))
            return v[i - k];
    return NAN;
}

size_t sb_ctl_os_samples(const struct sb_ctl_hist *h, const struct sb_band *occ,
                         struct sb_os_sample *out)
{
    double hs = NAN, cs = NAN;
    size_t good = 0;

    for (size_t i = 0; i < h->n; i++) {
        struct sb_os_sample *s = &out[i];
        if (h->hsp && isfinite(h->hsp[i]))
            hs = h->hsp[i];             /* a setpoint holds until it changes */
        if (h->csp && isfinite(h->csp[i]))
            cs = h->csp[i];
        int mode = sb_ctl_os_mode(hs, cs, occ);
        s->t_ms = h->t0_ms + (int64_t)i * h->step_ms;
        s->t_zone = held(h->tz, i, BRIDGE_STEPS);
        s->t_out = held(h->tout, i, BRIDGE_STEPS);
        s->mode = mode < 0 ? SB_OS_UNOCC : (uint8_t)mode;
        if (mode < 0)
            s->t_zone = NAN;            /* nothing known of what was asked */
        good += isfinite(s->t_zone) && isfinite(s->t_out);
    }
    return good;
}

/* n minutes of point p from t0 into v (NULL p: all NaN); last values for a
 * setpoint (a state), means for a temperature. */
static int read_series(struct sb_store_h *st, const struct sb_point *p, int last, int64_t t0,
                       size_t n, double *v)
{
    if (!p) {
        for (size_t i = 0; i < n; i++)
            v[i] = NAN;
        return 0;
    }
    int rc = last ? sb_point_last(st, p, SB_RES_1M, t0, n, v)
                  : sb_point_mean(st, p, SB_RES_1M, t0, n, v);
    return rc < 0 ? rc : 0;
}

int sb_ctl_os_learn(struct sb_store_h *st, const struct sb_ctl_os_points *p,
                    const struct sb_band *occ, int64_t now_ms, int days, struct sb_os_model *m,
                    char *err, size_t errlen)
{
    size_t n = (size_t)days * 1440;
    int64_t t0 = now_ms - now_ms % SB_CTL_LEARN_STEP_MS - (int64_t)n * SB_CTL_LEARN_STEP_MS;
    double *buf = NULL;
    struct sb_os_sample *x = NULL;
    struct sb_os_cfg cfg;
    int rc;

    memset(m, 0, sizeof(*m));
    if (!p->tz || !p->tout || (!p->hsp && !p->csp) || days < 1) {
        sb_errf(err, errlen, "%s", !p->tz ? "the zone has no temperature point"
                                   : !p->tout ? "the building has no outdoor temperature point"
                                   : "the zone has no setpoint point");
        return SB_EINVAL;
    }
    if (!(buf = malloc(4 * n * sizeof(double))) || !(x = malloc(n * sizeof(*x)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    struct sb_ctl_hist h = { .n = n, .t0_ms = t0, .step_ms = SB_CTL_LEARN_STEP_MS, .tz = buf,
                             .tout = buf + n, .hsp = p->hsp ? buf + 2 * n : NULL,
                             .csp = p->csp ? buf + 3 * n : NULL };
    if ((rc = read_series(st, p->tz, 0, t0, n, buf)) ||
        (rc = read_series(st, p->tout, 0, t0, n, buf + n)) ||
        (rc = read_series(st, p->hsp, 1, t0, n, buf + 2 * n)) ||
        (rc = read_series(st, p->csp, 1, t0, n, buf + 3 * n)))
        goto out;
    if (sb_ctl_os_samples(&h, occ, x) == 0) {
        sb_errf(err, errlen, "no history with a zone temperature, an outdoor temperature and a "
                             "setpoint in the last %d days", days);
        rc = SB_EINVAL;
        goto out;
    }
    sb_os_cfg_default(&cfg, occ);
    rc = sb_os_learn(x, n, &cfg, m);
out:
    free(buf);
    free(x);
    return rc;
}

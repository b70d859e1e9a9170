/*
 * ostart.c - optimal start / stop (see ostart.h for the method and
 * references).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control/ostart.h"
#include "core/err.h"

#define TS_MAX   200          /* episodes the Theil-Sen start uses (pairs ~ 20k) */
#define MAD_K    1.4826       /* MAD -> sigma for normal residuals */
#define MIN_SIG  0.02         /* K/h: floor of the robust sigma (exact data has MAD 0) */
#define MIN_RATE 0.1          /* K/h: slower predicted recovery is not trusted */

/* Episodes of one kind: x (regressor) and y (rate, K/h). */
struct eps {
    double *x, *y;            /* SB_OS_MAX_EPISODES each */
    size_t n;                 /* used */
    size_t failed;            /* episodes found but unusable (never reached the band...) */
};

void sb_os_cfg_default(struct sb_os_cfg *c, const struct sb_band *occ)
{
    *c = (struct sb_os_cfg){
        .occ = *occ, .min_episodes = 5, .min_need_k = 1.0, .max_episode_s = 6 * 3600.0,
        .drift_window_s = 3600.0, .max_rate_kph = 20.0, .max_lead_s = 3 * 3600.0,
        .default_lead_s = 3600.0, .margin = 0.1, .margin_s = 600.0, .max_stop_s = 1800.0,
        .stop_margin_k = 0.3,
    };
}

static void push(struct eps *e, double x, double y)
{
    if (e->n < SB_OS_MAX_EPISODES) {
        e->x[e->n] = x;
        e->y[e->n++] = y;
    }
}

/* ------------------------------------------------------------------------ */
/* robust line fit                                                            */

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[n] (reorders v). */
static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Theil-Sen: the median of pairwise slopes, then the median intercept,
 * over at most TS_MAX evenly spaced points.  w: scratch of TS_MAX^2/2. */
static void theil_sen(const double *x, const double *y, size_t n, double *w, double *a,
                      double *b)
{
    size_t step = n > TS_MAX ? (n + TS_MAX - 1) / TS_MAX : 1, k = 0;

    for (size_t i = 0; i < n; i += step)
        for (size_t j = i + step; j < n; j += step)
            if (fabs(x[j] - x[i]) > 1e-9)
                w[k++] = (y[j] - y[i]) / (x[j] - x[i]);
    *b = k ? median(w, k) : 0.0;
    k = 0;
    for (size_t i = 0; i < n; i += step)
        w[k++] = y[i] - *b * x[i];
    *a = median(w, k);
}

/* Least squares over the points with in[i]; falls back to a flat line when
 * x does not vary.  Returns the number of points used. */
static size_t least_squares(const double *x, const double *y, const char *in, size_t n,
                            double *a, double *b)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        if (!in[i])
            continue;
        sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
        m++;
    }
    if (m == 0)
        return 0;
    double vx = sxx - sx * sx / (double)m;
    *b = vx > 1e-9 * (double)m ? (sxy - sx * sy / (double)m) / vx : 0.0;
    *a = (sy - *b * sx) / (double)m;
    return m;
}

/* Marks in[i] for points within 3 robust sigma of a + b x; w: scratch n. */
static void inliers(const double *x, const double *y, size_t n, double a, double b, double *w,
                    char *in)
{
    double sig;

    for (size_t i = 0; i < n; i++)
        w[i] = fabs(y[i] - a - b * x[i]);
    sig = MAD_K * median(w, n);
    if (sig < MIN_SIG)
        sig = MIN_SIG;
    for (size_t i = 0; i < n; i++)
        in[i] = fabs(y[i] - a - b * x[i]) <= 3.0 * sig;
}

static int fit(const struct eps *e, size_t min_n, struct sb_os_fit *f)
{
    size_t nw = TS_MAX * TS_MAX / 2 + SB_OS_MAX_EPISODES;
    double *w = NULL, a = 0, b = 0, ss = 0;
    char *in = NULL;
    int rc = 0;

    memset(f, 0, sizeof *f);
    f->n_episodes = e->n;
    if (e->n == 0 || e->n < min_n)
        goto out;
    w = malloc(nw * sizeof *w);
    in = malloc(e->n);
    if (!w || !in) {
        rc = SB_ENOMEM;
        goto out;
    }
    theil_sen(e->x, e->y, e->n, w, &a, &b);
    for (int round = 0; round < 2; round++) {
        inliers(e->x, e->y, e->n, a, b, w, in);
        f->n_used = least_squares(e->x, e->y, in, e->n, &a, &b);
    }
    for (size_t i = 0; i < e->n; i++)
        if (in[i])
            ss += (e->y[i] - a - b * e->x[i]) * (e->y[i] - a - b * e->x[i]);
    f->a = a;
    f->b = b;
    f->rmse = f->n_used ? sqrt(ss / (double)f->n_used) : 0.0;
    f->learnt = f->n_used >= min_n && f->n_used > 0;
out:
    free(w);
    free(in);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* episodes                                                                   */

/* Recovery from sample i (the first after unoccupied): time until the zone
 * crosses edge (interpolated), mean outdoor temperature on the way.
 * dir +1 warms, -1 cools.  0 and *rate, *tout, or -1 if unusable. */
static int recovery(const struct sb_os_sample *x, size_t n, size_t i, double edge, int dir,
                    const struct sb_os_cfg *c, double *rate, double *tout)
{
    double so = 0, t0 = x[i].t_zone;
    size_t k = 0;

    for (size_t j = i; j < n && x[j].mode != SB_OS_UNOCC; j++) {
        double dt_s = (double)(x[j].t_ms - x[i].t_ms) / 1000.0;
        if (isnan(x[j].t_zone) || isnan(x[j].t_out) || dt_s > c->max_episode_s)
            return -1;
        so += x[j].t_out, k++;
        if (j > i && dir * (x[j].t_zone - edge) >= 0) {
            /* linear crossing between samples j-1 and j */
            double f = (edge - x[j - 1].t_zone) / (x[j].t_zone - x[j - 1].t_zone);
            double tc = (double)(x[j - 1].t_ms - x[i].t_ms) / 1000.0 +
                        f * (double)(x[j].t_ms - x[j - 1].t_ms) / 1000.0;
            if (tc <= 0)
                return -1;
            *rate = dir * (edge - t0) / (tc / 3600.0);
            *tout = so / (double)k;
            return *rate > 0 && *rate <= c->max_rate_kph ? 0 : -1;
        }
    }
    return -1;     /* never reached the band while recovering */
}

/* Passive drift from sample i (the first unoccupied after occupied): the
 * least-squares slope of the zone temperature over drift_window_s. */
static int drift(const struct sb_os_sample *x, size_t n, size_t i, const struct sb_os_cfg *c,
                 double *rate, double *dx)
{
    double st = 0, sy = 0, stt = 0, sty = 0, so = 0, span = 0;
    size_t k = 0;

    for (size_t j = i; j < n && x[j].mode == SB_OS_UNOCC; j++) {
        double t = (double)(x[j].t_ms - x[i].t_ms) / 3.6e6;
        if (t * 3600.0 > c->drift_window_s)
            break;
        if (isnan(x[j].t_zone) || isnan(x[j].t_out))
            return -1;
        st += t, sy += x[j].t_zone, stt += t * t, sty += t * x[j].t_zone, so += x[j].t_out;
        span = t, k++;
    }
    if (k < 3 || span * 3600.0 < 0.5 * c->drift_window_s)
        return -1;
    *rate = (sty - st * sy / (double)k) / (stt - st * st / (double)k);
    *dx = so / (double)k - x[i].t_zone;
    return fabs(*rate) <= c->max_rate_kph ? 0 : -1;
}

/* One pass over the history filling the three episode sets. */
static void episodes(const struct sb_os_sample *x, size_t n, const struct sb_os_cfg *c,
                     struct eps *warm, struct eps *cool, struct eps *dr)
{
    double r, v;

    for (size_t i = 1; i < n; i++) {
        int from_unocc = x[i - 1].mode == SB_OS_UNOCC && x[i].mode != SB_OS_UNOCC;
        int to_unocc = x[i - 1].mode == SB_OS_OCC && x[i].mode == SB_OS_UNOCC;
        double tz = x[i].t_zone;

        if (from_unocc && tz <= c->occ.heating - c->min_need_k) {
            if (recovery(x, n, i, c->occ.heating, +1, c, &r, &v) == 0)
                push(warm, v, r);
            else
                warm->failed++;
        } else if (from_unocc && tz >= c->occ.cooling + c->min_need_k) {
            if (recovery(x, n, i, c->occ.cooling, -1, c, &r, &v) == 0)
                push(cool, v, r);
            else
                cool->failed++;
        } else if (to_unocc && drift(x, n, i, c, &r, &v) == 0) {
            push(dr, v, r);
        }
    }
}

static int cfg_ok(const struct sb_os_cfg *c)
{
    return c->occ.heating < c->occ.cooling && c->max_lead_s >= 0 && c->default_lead_s >= 0 &&
           c->max_stop_s >= 0 && c->margin >= 0 && c->margin_s >= 0 && c->max_episode_s > 0 &&
           c->drift_window_s > 0 && c->max_rate_kph > 0 && c->min_need_k >= 0;
}

int sb_os_learn(const struct sb_os_sample *x, size_t n, const struct sb_os_cfg *c,
                struct sb_os_model *m)
{
    struct eps e[3] = { { 0 } };
    int rc = 0;

    memset(m, 0, sizeof *m);
    if (!cfg_ok(c))
        return SB_EINVAL;
    for (size_t i = 1; i < n; i++)
        if (x[i].t_ms < x[i - 1].t_ms)
            return SB_EINVAL;
    for (int k = 0; k < 3; k++) {
        e[k].x = malloc(SB_OS_MAX_EPISODES * sizeof(double));
        e[k].y = malloc(SB_OS_MAX_EPISODES * sizeof(double));
        if (!e[k].x || !e[k].y) {
            rc = SB_ENOMEM;
            goto out;
        }
    }
    episodes(x, n, c, &e[0], &e[1], &e[2]);
    if ((rc = fit(&e[0], c->min_episodes, &m->warm)) != 0 ||
        (rc = fit(&e[1], c->min_episodes, &m->cool)) != 0 ||
        (rc = fit(&e[2], c->min_episodes, &m->drift)) != 0)
        goto out;
    m->warm.n_episodes += e[0].failed;
    m->cool.n_episodes += e[1].failed;
out:
    for (int k = 0; k < 3; k++) {
        free(e[k].x);
        free(e[k].y);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* decisions                                                                  */

int sb_os_start(const struct sb_os_model *m, const struct sb_os_cfg *c, double t_zone,
                double t_out, int64_t occ_start_ms, struct sb_os_plan *out)
{
    const struct sb_os_fit *f;
    double need, lead;

    if (isnan(t_zone) || isnan(t_out) || !cfg_ok(c))
        return SB_EINVAL;
    memset(out, 0, sizeof *out);
    out->at_ms = occ_start_ms;
    if (t_zone >= c->occ.heating && t_zone <= c->occ.cooling)
        return 0;       /* in band: nothing to recover */
    out->need = t_zone < c->occ.heating ? +1 : -1;
    f = out->need > 0 ? &m->warm : &m->cool;
    need = out->need > 0 ? c->occ.heating - t_zone : t_zone - c->occ.cooling;
    out->rate_kph = f->learnt ? f->a + f->b * t_out : 0.0;
    if (f->learnt && out->rate_kph >= MIN_RATE) {
        out->learnt = 1;
        lead = need / out->rate_kph * 3600.0 * (1.0 + c->margin) + c->margin_s;
    } else {
        /* unknown or extrapolated to no recovery: the configured lead */
        out->rate_kph = 0.0;
        lead = c->default_lead_s;
    }
    out->lead_s = lead < c->max_lead_s ? lead : c->max_lead_s;
    out->at_ms = occ_start_ms - (int64_t)llround(out->lead_s * 1000.0);
    return 0;
}

int sb_os_stop(const struct sb_os_model *m, const struct sb_os_cfg *c, double t_zone,
               double t_out, int64_t occ_end_ms, struct sb_os_plan *out)
{
    double lo, hi, r, lead;

    if (isnan(t_zone) || isnan(t_out) || !cfg_ok(c))
        return SB_EINVAL;
    memset(out, 0, sizeof *out);
    out->at_ms = occ_end_ms;
    lo = c->occ.heating + c->stop_margin_k;
    hi = c->occ.cooling - c->stop_margin_k;
    if (!m->drift.learnt || t_zone < lo || t_zone > hi)
        return 0;       /* unknown drift, or no room: run to the end */
    r = m->drift.a + m->drift.b * (t_out - t_zone);
    out->learnt = 1;
    out->rate_kph = r;
    if (r < -1e-6)
        lead = (t_zone - lo) / -r * 3600.0;
    else if (r > 1e-6)
        lead = (hi - t_zone) / r * 3600.0;
    else
        lead = c->max_stop_s;
    out->lead_s = lead < c->max_stop_s ? lead : c->max_stop_s;
    out->at_ms = occ_end_ms - (int64_t)llround(out->lead_s * 1000.0);
    return 0;
}

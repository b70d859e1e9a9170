/*
 * mv.c - M&V front end (mv.h): sufficiency, model lifecycle, Guideline 14
 * statistics, the reporting period, measures, normalised savings and both
 * uncertainty intervals.  The models themselves are in mv_daily.c and
 * mv_hourly.c.
 *
 * Honest interval (docs/internals/analytics-mv.md has the derivation).  The
 * error of a savings total is the baseline model's prediction error summed
 * over the reporting intervals.  Two parts are estimated from the baseline:
 *
 *   month blocks: each baseline calendar month is predicted by the method
 *   refitted without it; s_u^2 is the mean square of those mean errors per
 *   interval.  Reporting month j (H_j used intervals) contributes s_u^2 H_j^2
 *   (errors within a month move together, months are independent):
 *       V_block = s_u^2 * sum_j H_j^2
 *
 *   trend: a whole-year model (CalTRACK daily; for the hourly method on the
 *   baseline summed to days) is refitted without each month; a straight line
 *   through those twelve month-out errors against time gives a slope b and
 *   its standard error se.  We do not correct for the trend (CalTRACK does
 *   not), so it is an error of unknown sign whose size the baseline cannot
 *   rule out below sqrt(b^2 + se^2); carried to the reporting intervals:
 *       V_drift = (b^2 + se^2) * L^2,   L = sum_i (t_i - tbar_baseline)
 *   with t in months, so it grows with the gap between the periods.
 *
 * The half-width is t(conf, months - 1) * sqrt(V_block + V_drift + V_prior),
 * V_prior = (opts.drift_prior * adjusted baseline)^2 for drift that no single
 * baseline year shows (a step change between the years, a drift slower than
 * the year's noise); opts.drift_prior is the caller's, e.g. from back-tests
 * of its other meters.
 */
#include "analytics/mv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/mv_int.h"
#include "analytics/stats.h"
#include "analytics/towt.h"
#include "core/err.h"
#include "core/tz.h"

#define G14_FACTOR 1.26          /* Guideline 14-2014 annex B empirical factor */

static const struct sb_mv_opts defaults;

static const struct sb_mv_opts *opts_or_default(const struct sb_mv_opts *o)
{
    return o ? o : &defaults;
}

static double conf_of(const struct sb_mv_opts *o)
{
    return o->conf > 0 && o->conf < 1 ? o->conf : 0.90;
}

/* ---- time --------------------------------------------------------------- */

void sb_mv__local(const struct sb_tz *tz, int64_t utc, int64_t *day, int *hour)
{
    int64_t local = utc + (tz ? sb_tz_offset(tz, utc) : 0);
    int64_t d = local / 86400;
    if (local % 86400 < 0)
        d--;
    *day = d;
    *hour = (int)((local - d * 86400) / 3600);
}

int sb_mv__month(int64_t day)
{
    int64_t y;
    unsigned m, d;
    sb_civil_from_days(day, &y, &m, &d);
    return (int)m - 1;
}

double sb_mv__months_since(const struct sb_mv_model *m, const struct sb_mv_input *in, size_t i)
{
    if (in->interval == SB_MV_HOUR)
        return ((double)(in->t0 - m->origin) + 3600.0 * (double)i + 1800.0) /
               (86400.0 * MV_MONTH_DAYS);
    return ((double)(in->t0 - m->origin) + (double)i + 0.5) / MV_MONTH_DAYS;
}

/* Calendar month key (year * 12 + month) of interval i. */
static int64_t month_key(const struct sb_mv_model *m, const struct sb_mv_input *in, size_t i)
{
    int64_t day, y;
    int hour;
    unsigned mo, d;

    if (in->interval == SB_MV_HOUR)
        sb_mv__local(m->tz, in->t0 + 3600 * (int64_t)i, &day, &hour);
    else
        day = in->t0 + (int64_t)i;
    sb_civil_from_days(day, &y, &mo, &d);
    return y * 12 + (int64_t)mo - 1;
}

/* ---- formulas ------------------------------------------------------------ */

double sb_mv_fsu(double t, double cv, double n, double rho, double m, double F)
{
    if (!(n > 0) || !(m > 0) || !(cv >= 0) || !(t > 0) || F == 0 || !isfinite(F))
        return NAN;
    double r = rho < 0 ? 0 : rho > 0.99 ? 0.99 : rho;
    double np = n * (1 - r) / (1 + r);
    return t * G14_FACTOR * cv * sqrt((n / np) * (1 + 2 / np) / m) / fabs(F);
}

struct sb_mv_g14 sb_mv_g14_limits(int interval_s, double cvrmse, double nmbe)
{
    struct sb_mv_g14 g;
    /* Guideline 14-2014 calibration limits: monthly CV(RMSE) 15 %, NMBE 5 %;
     * hourly 30 %, 10 %.  There are none for days: we hold daily models to
     * the hourly limits. */
    if (interval_s <= 86400) {
        g.cv_max = 0.30;
        g.nmbe_max = 0.10;
    } else {
        g.cv_max = 0.15;
        g.nmbe_max = 0.05;
    }
    g.pass = isfinite(cvrmse) && isfinite(nmbe) && cvrmse <= g.cv_max && fabs(nmbe) <= g.nmbe_max;
    return g;
}

size_t sb_mv_fill_temp(double *t, size_t n)
{
    size_t filled = 0, i = 0;

    while (t && i < n) {
        if (isfinite(t[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && !isfinite(t[j]))
            j++;
        /* CalTRACK 2.2.4.1: interpolate runs of up to 6 hours between two readings */
        if (i > 0 && j < n && j - i <= 6) {
            double a = t[i - 1], b = t[j];
            for (size_t k = i; k < j; k++)
                t[k] = a + (b - a) * (double)(k - i + 1) / (double)(j - i + 1);
            filled += j - i;
        }
        i = j;
    }
    return filled;
}

/* ---- model statistics ---------------------------------------------------- */

/* Least-squares line through the finite u[k] against tm[k]: slope and its
 * standard error (NAN when fewer than 4 months). */
static void trend_fit(const double *u, const double *tm, double *slope, double *se)
{
    double st = 0, su = 0, k = 0, stt = 0, stu = 0;

    *slope = *se = NAN;
    for (int a = 0; a < SB_MV_MONTHS; a++) {
        if (!u || !isfinite(u[a]) || !isfinite(tm[a]))
            continue;
        st += tm[a]; su += u[a]; k += 1;
    }
    if (k < 4)
        return;
    double tb = st / k, ub = su / k;
    for (int a = 0; a < SB_MV_MONTHS; a++) {
        if (!isfinite(u[a]) || !isfinite(tm[a]))
            continue;
        stt += (tm[a] - tb) * (tm[a] - tb);
        stu += (tm[a] - tb) * (u[a] - ub);
    }
    if (stt <= 0)
        return;
    double b = stu / stt, ss = 0;
    for (int a = 0; a < SB_MV_MONTHS; a++) {
        if (!isfinite(u[a]) || !isfinite(tm[a]))
            continue;
        double r = u[a] - ub - b * (tm[a] - tb);
        ss += r * r;
    }
    *slope = b;
    *se = sqrt(ss / (k - 2) / stt);
}

static void block_stats(struct sb_mv_model *m, const double *bsum, const double *bcnt,
                        const double *probe)
{
    struct sb_mv_model_info *in = &m->info;
    double ss = 0;

    in->n_blocks = 0;
    for (int k = 0; k < SB_MV_MONTHS; k++) {
        in->block_err[k] = bsum && bcnt[k] > 0 ? bsum[k] / bcnt[k] : NAN;
        if (isfinite(in->block_err[k])) {
            ss += in->block_err[k] * in->block_err[k];
            in->n_blocks++;
        }
    }
    in->block_rms = in->n_blocks ? sqrt(ss / in->n_blocks) : NAN;
    in->block_cv = in->fit.mean > 0 ? in->block_rms / in->fit.mean : NAN;
    for (int k = 0; k < SB_MV_MONTHS; k++)
        in->probe_err[k] = probe ? probe[k] : NAN;
    trend_fit(probe, m->block_t, &in->drift_slope, &in->drift_se);
}

void sb_mv__finish_info(struct sb_mv_model *m, const struct sb_mv_input *in, const double *y,
                        const double *yhat, const double *bsum, const double *bcnt,
                        const double *probe)
{
    struct sb_mv_model_info *info = &m->info;

    info->method = m->method;
    sb_fit_stats(y, yhat, in->n, info->n_params, &info->fit);
    info->rho = sb_resid_lag1(y, yhat, in->n);
    double r = info->rho < 0 ? 0 : info->rho > 0.99 ? 0.99 : info->rho;
    info->n_eff = (double)info->fit.n * (1 - r) / (1 + r);
    info->g14 = sb_mv_g14_limits(in->interval, info->fit.cvrmse, info->fit.nmbe);
    info->t_min = INFINITY;
    info->t_max = -INFINITY;
    for (size_t i = 0; i < in->n; i++) {
        if (!isfinite(in->temp_c[i]))
            continue;
        info->t_min = fmin(info->t_min, in->temp_c[i]);
        info->t_max = fmax(info->t_max, in->temp_c[i]);
    }
    for (int k = 0; k < SB_MV_MONTHS; k++)
        m->block_t[k] = m->block_n[k] > 0 ? m->block_t[k] / m->block_n[k] : NAN;
    block_stats(m, bsum, bcnt, probe);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int check_input(const struct sb_mv_input *in, int need_kwh)
{
    if (!in || !in->temp_c || in->n == 0 || (need_kwh && !in->kwh))
        return SB_EINVAL;
    if (in->interval == SB_MV_HOUR)
        return in->t0 % 3600 == 0 ? 0 : SB_EINVAL;
    return in->interval == SB_MV_DAY ? 0 : SB_EINVAL;
}

static enum sb_mv_method method_of(const struct sb_mv_opts *o)
{
    return o->method == SB_MV_HOURLY ? SB_MV_HOURLY : SB_MV_DAILY;
}

static int interval_ok(enum sb_mv_method me, const struct sb_mv_input *in, char *err,
                       size_t errlen)
{
    if (me == SB_MV_DAILY && in->interval != SB_MV_DAY) {
        sb_errf(err, errlen, "the daily method needs daily data (sb_mv_to_daily)");
        return SB_EINVAL;
    }
    if (me == SB_MV_HOURLY && in->interval != SB_MV_HOUR) {
        sb_errf(err, errlen, "the hourly method needs hourly data");
        return SB_EINVAL;
    }
    return 0;
}

int sb_mv_check(const struct sb_mv_input *base, const struct sb_mv_opts *o, struct sb_mv_suff *s)
{
    o = opts_or_default(o);
    memset(s, 0, sizeof(*s));
    if (check_input(base, 1) || interval_ok(method_of(o), base, s->msg, sizeof(s->msg)))
        return SB_EINVAL;
    if (method_of(o) == SB_MV_HOURLY)
        return sb_mv__hourly_check(base, o, s);
    return sb_mv__daily_check(base, o->gas, s);
}

void sb_mv_model_free(struct sb_mv_model *m)
{
    if (!m)
        return;
    for (int k = 0; k < SB_MV_MONTHS; k++)
        sb_towt_free(m->towt[k]);
    free(m->holidays);
    free(m);
}

static struct sb_mv_model *model_new(const struct sb_mv_opts *o)
{
    struct sb_mv_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->method = method_of(o);
    m->gas = o->gas;
    m->tz = o->tz;
    if (o->holidays && o->n_holidays) {
        if (!(m->holidays = malloc(sizeof(int64_t) * o->n_holidays))) {
            free(m);
            return NULL;
        }
        memcpy(m->holidays, o->holidays, sizeof(int64_t) * o->n_holidays);
        m->n_holidays = o->n_holidays;
    }
    return m;
}

int sb_mv_fit_unchecked(const struct sb_mv_input *base, const struct sb_mv_opts *o,
                        struct sb_mv_model **out, char *err, size_t errlen)
{
    struct sb_mv_model *m = NULL;
    int rc;

    *out = NULL;
    o = opts_or_default(o);
    if (check_input(base, 1)) {
        sb_errf(err, errlen, "bad baseline series");
        return SB_EINVAL;
    }
    if ((rc = interval_ok(method_of(o), base, err, errlen)))
        return rc;
    if (!(m = model_new(o)))
        return SB_ENOMEM;
    if (m->method == SB_MV_HOURLY)
        rc = sb_mv__hourly_fit(m, base, o->hourly_single, !o->no_blocks, err, errlen);
    else
        rc = sb_mv__daily_fit(m, base, o, !o->no_blocks, err, errlen);
    if (rc) {
        sb_mv_model_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int sb_mv_fit(const struct sb_mv_input *base, const struct sb_mv_opts *o,
              struct sb_mv_model **out, char *err, size_t errlen)
{
    struct sb_mv_suff s;
    struct sb_mv_input b;
    int rc;

    *out = NULL;
    o = opts_or_default(o);
    if ((rc = sb_mv_check(base, o, &s))) {
        sb_errf(err, errlen, "%s", s.msg[0] ? s.msg : "bad baseline series");
        return rc;
    }
    if (!s.ok) {
        sb_errf(err, errlen, "%s", s.msg);
        return SB_EINVAL;
    }
    /* CalTRACK 3.1.3 / 2.2.5: the 365 days immediately before the intervention */
    b = *base;
    size_t keep = base->interval == SB_MV_HOUR ? 24 * MV_BASE_DAYS : MV_BASE_DAYS;
    if (b.n > keep) {
        size_t skip = b.n - keep;
        b.kwh += skip;
        b.temp_c += skip;
        b.t0 += base->interval == SB_MV_HOUR ? 3600 * (int64_t)skip : (int64_t)skip;
        b.n = keep;
    }
    return sb_mv_fit_unchecked(&b, o, out, err, errlen);
}

void sb_mv_model_info(const struct sb_mv_model *m, struct sb_mv_model_info *info)
{
    *info = m->info;
}

int sb_mv_predict(const struct sb_mv_model *m, const struct sb_mv_input *in, double *yhat)
{
    if (!m || !yhat || check_input(in, 0) || interval_ok(m->method, in, NULL, 0))
        return SB_EINVAL;
    if (m->method == SB_MV_HOURLY)
        return sb_mv__hourly_predict(m, in, yhat);
    for (size_t i = 0; i < in->n; i++)
        yhat[i] = sb_mv_daily_eval(&m->daily, in->temp_c[i]);
    return 0;
}

/* ---- reporting period ----------------------------------------------------- */

struct mgroup {
    int64_t key;     /* year * 12 + month */
    double  h;       /* used intervals */
    double  tsum;    /* sum of their times, months since origin */
};

/* Used intervals of [lo, hi) grouped by calendar month; *ng groups. */
static struct mgroup *month_groups(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                                   const double *y, const double *adj, size_t lo, size_t hi,
                                   size_t *ng)
{
    size_t per = rep->interval == SB_MV_HOUR ? 24 * 28 : 28;
    size_t cap = (hi - lo) / per + 3, g = 0;
    struct mgroup *gr = calloc(cap, sizeof(*gr));

    *ng = 0;
    if (!gr)
        return NULL;
    for (size_t i = lo; i < hi; i++) {
        if (!isfinite(y[i]) || !isfinite(adj[i]))
            continue;
        int64_t key = month_key(m, rep, i);
        if (g == 0 || gr[g - 1].key != key) {
            if (g == cap)
                break;             /* cannot happen: months are at least 28 days */
            gr[g++].key = key;
        }
        gr[g - 1].h += 1;
        gr[g - 1].tsum += sb_mv__months_since(m, rep, i);
    }
    *ng = g;
    return gr;
}

/* L = sum over used intervals of (t_i - mean time of the baseline), months. */
static double lever(const struct sb_mv_model *m, const struct sb_mv_input *rep, const double *y,
                    const double *adj, size_t lo, size_t hi)
{
    double nb = 0, tb = 0, l = 0;
    for (int k = 0; k < SB_MV_MONTHS; k++) {
        if (!isfinite(m->block_t[k]))
            continue;
        nb += m->block_n[k];
        tb += m->block_n[k] * m->block_t[k];
    }
    tb = nb > 0 ? tb / nb : 0;
    for (size_t i = lo; i < hi; i++)
        if (isfinite(y[i]) && isfinite(adj[i]))
            l += sb_mv__months_since(m, rep, i) - tb;
    return l;
}

static void honest(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                   const struct sb_mv_opts *o, const double *y, const double *adj, size_t lo,
                   size_t hi, struct sb_mv_result *r)
{
    const struct sb_mv_model_info *in = &m->info;
    size_t ng;

    r->honest_half = r->sd_block = r->sd_drift = r->sd_prior = NAN;
    if (in->n_blocks < 3 || r->n_used == 0)
        return;
    struct mgroup *gr = month_groups(m, rep, y, adj, lo, hi, &ng);
    if (!gr)
        return;
    double vb = 0;
    for (size_t j = 0; j < ng; j++)
        vb += in->block_rms * in->block_rms * gr[j].h * gr[j].h;
    double L = lever(m, rep, y, adj, lo, hi);
    double b2 = isfinite(in->drift_slope) ? in->drift_slope * in->drift_slope +
                                            in->drift_se * in->drift_se : 0;
    double vd = b2 * L * L;
    double vp = (o->drift_prior * r->baseline) * (o->drift_prior * r->baseline);
    free(gr);
    r->sd_block = sqrt(vb);
    r->sd_drift = sqrt(vd);
    r->sd_prior = sqrt(vp);
    r->honest_half = sb_t_quantile(r->conf, in->n_blocks - 1) * sqrt(vb + vd + vp);
}

/* Totals and both intervals over the reporting intervals [lo, hi). */
static void summarise(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                      const struct sb_mv_opts *o, const double *y, const double *adj,
                      size_t lo, size_t hi, struct sb_mv_result *r)
{
    const struct sb_mv_model_info *in = &m->info;

    memset(r, 0, sizeof(*r));
    r->n = hi - lo;
    r->conf = conf_of(o);
    for (size_t i = lo; i < hi; i++) {
        if (!isfinite(y[i]) || !isfinite(adj[i]))
            continue;
        r->baseline += adj[i];
        r->actual += y[i];
        r->n_used++;
    }
    r->avoided = r->baseline - r->actual;
    r->frac = r->baseline != 0 ? r->avoided / r->baseline : NAN;
    r->g14_half = r->g14_fsu = NAN;
    if (r->n_used > 0 && in->fit.n > (size_t)in->n_params + 1 && in->n_eff > 0) {
        double n = (double)in->fit.n, ne = in->n_eff;
        double t = sb_t_quantile(r->conf, n - in->n_params);
        /* annex B: FSU * E_save = t 1.26 CV E_baseline sqrt((n/n')(1+2/n')/m) */
        r->g14_half = t * G14_FACTOR * in->fit.cvrmse * fabs(r->baseline) *
                      sqrt((n / ne) * (1 + 2 / ne) / (double)r->n_used);
        r->g14_fsu = r->avoided != 0 ? r->g14_half / fabs(r->avoided) : INFINITY;
    }
    honest(m, rep, o, y, adj, lo, hi, r);
}

/* First reporting interval at or after a measure's start. */
static size_t first_at(const struct sb_mv_model *m, const struct sb_mv_input *rep, int64_t start)
{
    int64_t k;
    if (rep->interval == SB_MV_HOUR) {
        k = start - rep->t0;
        k = k <= 0 ? 0 : (k + 3599) / 3600;
    } else {
        int64_t day;
        int hour;
        sb_mv__local(m->tz, start, &day, &hour);
        k = day - rep->t0;
        k = k < 0 ? 0 : k;
    }
    return (size_t)k > rep->n ? rep->n : (size_t)k;
}

static void measures(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                     const struct sb_mv_opts *o, const struct sb_mv_measure *meas, size_t nm,
                     const double *y, const double *adj, struct sb_mv_measure_result *mr)
{
    for (size_t k = 0; k < nm; k++) {
        size_t lo = first_at(m, rep, meas[k].start), hi = rep->n;
        /* window ends at the next later start (ties: the later index wins the window) */
        for (size_t j = 0; j < nm; j++) {
            if (j == k)
                continue;
            int later = meas[j].start > meas[k].start || (meas[j].start == meas[k].start && j > k);
            size_t f = first_at(m, rep, meas[j].start);
            if (later && f < hi)
                hi = f < lo ? lo : f;
        }
        mr[k].first = lo;
        mr[k].count = hi - lo;
        summarise(m, rep, o, y, adj, lo, hi, &mr[k].r);
    }
}

int sb_mv_report(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                 const struct sb_mv_opts *o, const struct sb_mv_measure *meas, size_t n_meas,
                 double *adj_baseline, struct sb_mv_result *res,
                 struct sb_mv_measure_result *meas_res, char *err, size_t errlen)
{
    double *adj = NULL, *y = NULL;
    int rc;

    o = opts_or_default(o);
    if (!m || !res || check_input(rep, 1) || (n_meas && (!meas || !meas_res))) {
        sb_errf(err, errlen, "bad reporting series");
        return SB_EINVAL;
    }
    if ((rc = interval_ok(m->method, rep, err, errlen)))
        return rc;
    adj = adj_baseline ? adj_baseline : malloc(sizeof(double) * rep->n);
    y = malloc(sizeof(double) * rep->n);
    rc = SB_ENOMEM;
    if (!adj || !y)
        goto out;
    if ((rc = sb_mv_predict(m, rep, adj)))
        goto out;
    double tlo = INFINITY, thi = -INFINITY;
    for (size_t i = 0; i < rep->n; i++) {
        /* CalTRACK 3.5.2: no avoided energy where consumption is missing */
        y[i] = sb_mv__reading(rep->kwh[i], m->gas) ? rep->kwh[i] : NAN;
        if (isfinite(rep->temp_c[i])) {
            tlo = fmin(tlo, rep->temp_c[i]);
            thi = fmax(thi, rep->temp_c[i]);
        }
    }
    summarise(m, rep, o, y, adj, 0, rep->n, res);
    double span = m->info.t_max - m->info.t_min;
    res->temp_outside = tlo < m->info.t_min - 0.1 * span || thi > m->info.t_max + 0.1 * span;
    if (n_meas)
        measures(m, rep, o, meas, n_meas, y, adj, meas_res);
    rc = 0;
out:
    if (adj != adj_baseline)
        free(adj);
    free(y);
    return rc;
}

int sb_mv_normalise(const struct sb_mv_model *base, const struct sb_mv_model *post,
                    const struct sb_mv_input *normal, struct sb_mv_normalised *out)
{
    double *a = NULL, *b = NULL;
    int rc = SB_EINVAL;

    memset(out, 0, sizeof(*out));
    if (!base || !post || base->method != post->method || check_input(normal, 0))
        return SB_EINVAL;
    a = malloc(sizeof(double) * normal->n);
    b = malloc(sizeof(double) * normal->n);
    if (!a || !b) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = sb_mv_predict(base, normal, a)) || (rc = sb_mv_predict(post, normal, b)))
        goto out;
    for (size_t i = 0; i < normal->n; i++) {
        if (!isfinite(a[i]) || !isfinite(b[i]))
            continue;
        out->baseline += a[i];
        out->reporting += b[i];
        out->n_used++;
    }
    out->savings = out->baseline - out->reporting;
    out->frac = out->baseline != 0 ? out->savings / out->baseline : NAN;
out:
    free(a);
    free(b);
    return rc;
}

/* CalTRACK 3.7.5.2: reporting temperatures beyond the baseline's range by more
 * than 10 % of it call for a single 365-day hourly model. */
static int needs_single(const struct sb_mv_input *base, const struct sb_mv_input *rep)
{
    double blo = INFINITY, bhi = -INFINITY, rlo = INFINITY, rhi = -INFINITY;
    for (size_t i = 0; i < base->n; i++)
        if (isfinite(base->temp_c[i])) {
            blo = fmin(blo, base->temp_c[i]);
            bhi = fmax(bhi, base->temp_c[i]);
        }
    for (size_t i = 0; i < rep->n; i++)
        if (isfinite(rep->temp_c[i])) {
            rlo = fmin(rlo, rep->temp_c[i]);
            rhi = fmax(rhi, rep->temp_c[i]);
        }
    double span = bhi - blo;
    return rlo < blo - 0.1 * span || rhi > bhi + 0.1 * span;
}

static void normalised(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                       const struct sb_mv_input *normal, const struct sb_mv_opts *o,
                       struct sb_mv_normalised *norm)
{
    struct sb_mv_opts po = *o;
    struct sb_mv_model *post = NULL;

    memset(norm, 0, sizeof(*norm));
    po.no_blocks = 1;
    if (sb_mv_fit_unchecked(rep, &po, &post, NULL, 0) == 0)
        sb_mv_normalise(m, post, normal, norm);
    sb_mv_model_free(post);
}

int sb_mv_savings(const struct sb_mv_input *base, const struct sb_mv_input *rep,
                  const struct sb_mv_input *normal, const struct sb_mv_measure *meas,
                  size_t n_meas, const struct sb_mv_opts *o, double *adj_baseline,
                  struct sb_mv_result *res, struct sb_mv_measure_result *meas_res,
                  struct sb_mv_normalised *norm, char *err, size_t errlen)
{
    struct sb_mv_opts oo = *opts_or_default(o);
    struct sb_mv_model *m = NULL;
    int rc;

    if (check_input(base, 1) || check_input(rep, 1)) {
        sb_errf(err, errlen, "bad baseline or reporting series");
        return SB_EINVAL;
    }
    if (method_of(&oo) == SB_MV_HOURLY && !oo.hourly_single && needs_single(base, rep))
        oo.hourly_single = 1;
    if ((rc = sb_mv_fit(base, &oo, &m, err, errlen)))
        return rc;
    rc = sb_mv_report(m, rep, &oo, meas, n_meas, adj_baseline, res, meas_res, err, errlen);
    if (!rc && normal && norm)
        normalised(m, rep, normal, &oo, norm);
    sb_mv_model_free(m);
    return rc;
}

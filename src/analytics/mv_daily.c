/*
 * mv_daily.c - CalTRACK 2.0 daily method (mv.h): hourly-to-daily roll-up,
 * daily sufficiency, and the change-point model grid search.
 *
 * Model (CalTRACK 3.3.2):  UPD = mu + beta_H * HDD(tb_h) + beta_C * CDD(tb_c)
 * with HDD = max(tb_h - avg(T_d), 0) and CDD = max(avg(T_d) - tb_c, 0)
 * from the day's mean temperature (3.3.4-3.3.5).  Each period is one day,
 * so usage per day is the day's use (3.3.3).  Fitted by OLS (3.4.1).
 *
 * Candidates (3.4.3.1): intercept-only; HDD-only and CDD-only for every
 * balance point of the grid; HDD+CDD for every pair with tb_h <= tb_c
 * (3.2.2.1).  Gas meters get no CDD candidates (3.2.1.1).  The grid is
 * CalTRACK's 30..90 °F in 3 °F steps (3.2.1, 3.2.3), expressed in °C.
 *
 * Qualification: every slope needs >= 10 days with non-zero degree days and
 * >= 20 °F·days (11.1 K·days) in total (3.2.2.2, "per year": scaled by the
 * window's share of 365 days); all parameters positive (3.4.3.2; the
 * intercept may be 0); and, unless opts.p_max >= 1, each slope significant
 * at p < p_max (the CalTRACK 1.0 p-value screen that 2.0 appendix 3.4.3.2
 * dropped; OpenEEmeter kept it as beta_*_maximum_p_value).  The qualified
 * candidate with the highest adjusted R^2 wins (3.4.3.3; intercept-only has
 * 0 by definition).
 */
#include "analytics/mv_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/stats.h"
#include "core/err.h"
#include "core/tz.h"

#define BP_N 21                        /* 30, 33, ..., 90 °F */
#define DD_MIN_DAYS 10.0               /* CalTRACK 3.2.2.2.1 */
#define DD_MIN_TOTAL (20.0 / 1.8)      /* CalTRACK 3.2.2.2.2: 20 °F·days in K·days */

static double bp_c(int k)
{
    return (30.0 + 3.0 * k - 32.0) / 1.8;
}

/* ---- hourly -> daily (CalTRACK 2.2.2) ---------------------------------- */

struct day_acc {
    int    hours;      /* hours of the day in the series */
    int    ny, nt;     /* present usage / temperature hours */
    double sy, st;
};

static void flush_day(const struct day_acc *a, double *kwh, double *temp)
{
    /* 2.2.2.1 / 2.2.2.3: a day with more than 50 % missing is missing;
     * otherwise its missing hours take the mean of the present ones */
    *kwh = 2 * a->ny >= a->hours && a->ny ? a->sy / a->ny * a->hours : NAN;
    *temp = 2 * a->nt >= a->hours && a->nt ? a->st / a->nt : NAN;
}

int sb_mv_to_daily(const struct sb_mv_input *in, const struct sb_tz *tz, int gas,
                   double *kwh_day, double *temp_day, size_t cap, int64_t *day0, size_t *ndays)
{
    struct day_acc a = {0};
    int64_t first = 0, cur = 0;
    size_t nd = 0;

    *ndays = 0;
    if (!in || in->interval != SB_MV_HOUR || !in->temp_c || !kwh_day || !temp_day || in->n == 0)
        return SB_EINVAL;
    for (size_t i = 0; i < in->n; i++) {
        int64_t day;
        int hour;
        sb_mv__local(tz, in->t0 + 3600 * (int64_t)i, &day, &hour);
        if (i == 0)
            first = cur = day;
        while (day > cur) {          /* close the current day (and any skipped one) */
            if (nd >= cap)
                return SB_ENOSPC;
            flush_day(&a, &kwh_day[nd], &temp_day[nd]);
            nd++;
            memset(&a, 0, sizeof(a));
            cur++;
        }
        a.hours++;
        if (in->kwh && sb_mv__reading(in->kwh[i], gas)) {
            a.ny++;
            a.sy += in->kwh[i];
        }
        if (isfinite(in->temp_c[i])) {
            a.nt++;
            a.st += in->temp_c[i];
        }
    }
    if (nd >= cap)
        return SB_ENOSPC;
    flush_day(&a, &kwh_day[nd], &temp_day[nd]);
    *day0 = first;
    *ndays = nd + 1;
    return 0;
}

/* ---- sufficiency (CalTRACK 2.2.1) -------------------------------------- */

int sb_mv__daily_check(const struct sb_mv_input *in, int gas, struct sb_mv_suff *s)
{
    memset(s, 0, sizeof(*s));
    s->days_span = in->n;
    if (in->n < MV_BASE_DAYS) {
        sb_errf(s->msg, sizeof(s->msg),
                "CalTRACK 2.2.1.1: the daily baseline needs 365 days, has %zu", in->n);
        return 0;
    }
    size_t lo = in->n - MV_BASE_DAYS;    /* the 365 days before the intervention (3.1.3) */
    for (size_t i = lo; i < in->n; i++)
        if (sb_mv__reading(in->kwh[i], gas) && isfinite(in->temp_c[i]))
            s->days_valid++;
    s->coverage = (double)s->days_valid / MV_BASE_DAYS;
    if (MV_BASE_DAYS - s->days_valid > MV_MAX_MISSING_DAYS) {
        sb_errf(s->msg, sizeof(s->msg),
                "CalTRACK 2.2.1.2: the baseline needs 365 days with at most 37 missing "
                "(>= 90 %% coverage), has %zu valid days (%.1f %%)",
                s->days_valid, 100.0 * s->coverage);
        return 0;
    }
    s->ok = 1;
    return 0;
}

/* ---- the grid search ---------------------------------------------------- */

/* Compact, valid days only. */
struct ddata {
    size_t n;
    double *y, *t;
    double ybar, syy;        /* mean and centred sum of squares of y */
    double scale;            /* window share of a year, for 3.2.2.2 */
};

struct cand {
    enum sb_mv_kind kind;
    int    kh, kc;           /* grid indices (or -1) */
    double mu, bh, bc, th, tc, r2a;
};

static double hdd(double t, double tb) { return t < tb ? tb - t : 0; }
static double cdd(double t, double tb) { return t > tb ? t - tb : 0; }

/* 3.2.2.2: enough non-zero degree days and enough degree days in total. */
static int dd_enough(const struct ddata *d, double tb, int heating)
{
    double tot = 0;
    size_t nz = 0;
    for (size_t i = 0; i < d->n; i++) {
        double v = heating ? hdd(d->t[i], tb) : cdd(d->t[i], tb);
        tot += v;
        nz += v > 0;
    }
    return (double)nz >= DD_MIN_DAYS * d->scale && tot >= DD_MIN_TOTAL * d->scale;
}

/* Degree-day column of one slope. */
static double xval(const struct ddata *d, size_t i, int heating, int k)
{
    return heating ? hdd(d->t[i], bp_c(k)) : cdd(d->t[i], bp_c(k));
}

/* One-slope OLS; 0 when the fit is degenerate. */
static int fit1(const struct ddata *d, int heating, int k, double tcrit, struct cand *c)
{
    double sx = 0, sxx = 0, sxy = 0, n = (double)d->n;
    for (size_t i = 0; i < d->n; i++) {
        double x = xval(d, i, heating, k);
        sx += x;
        sxx += x * x;
        sxy += x * (d->y[i] - d->ybar);
    }
    double cxx = sxx - sx * sx / n;
    if (cxx <= 0 || n < 4)
        return 0;
    double b = sxy / cxx;
    double ssr = d->syy - b * sxy;
    double se = sqrt((ssr > 0 ? ssr : 0) / (n - 2) / cxx);
    double tb = se > 0 ? b / se : INFINITY;
    c->mu = d->ybar - b * sx / n;
    c->r2a = d->syy > 0 ? 1 - (ssr / (n - 2)) / (d->syy / (n - 1)) : 0;
    if (heating) { c->bh = b; c->th = tb; } else { c->bc = b; c->tc = tb; }
    return b > 0 && c->mu >= 0 && fabs(tb) >= tcrit;
}

/* Two-slope OLS (HDD + CDD) on centred sums. */
static int fit2(const struct ddata *d, int kh, int kc, double tcrit, struct cand *c)
{
    double s1 = 0, s2 = 0, s11 = 0, s22 = 0, s12 = 0, s1y = 0, s2y = 0, n = (double)d->n;
    for (size_t i = 0; i < d->n; i++) {
        double x1 = xval(d, i, 1, kh), x2 = xval(d, i, 0, kc), dy = d->y[i] - d->ybar;
        s1 += x1; s2 += x2;
        s11 += x1 * x1; s22 += x2 * x2; s12 += x1 * x2;
        s1y += x1 * dy; s2y += x2 * dy;
    }
    double c11 = s11 - s1 * s1 / n, c22 = s22 - s2 * s2 / n, c12 = s12 - s1 * s2 / n;
    double det = c11 * c22 - c12 * c12;
    if (!(det > 1e-12 * c11 * c22) || n < 5)
        return 0;
    double b1 = (c22 * s1y - c12 * s2y) / det, b2 = (c11 * s2y - c12 * s1y) / det;
    double ssr = d->syy - b1 * s1y - b2 * s2y;
    double s2e = (ssr > 0 ? ssr : 0) / (n - 3);
    double se1 = sqrt(s2e * c22 / det), se2 = sqrt(s2e * c11 / det);
    c->bh = b1; c->bc = b2;
    c->th = se1 > 0 ? b1 / se1 : INFINITY;
    c->tc = se2 > 0 ? b2 / se2 : INFINITY;
    c->mu = d->ybar - b1 * s1 / n - b2 * s2 / n;
    c->r2a = d->syy > 0 ? 1 - (ssr / (n - 3)) / (d->syy / (n - 1)) : 0;
    return b1 > 0 && b2 > 0 && c->mu >= 0 && fabs(c->th) >= tcrit && fabs(c->tc) >= tcrit;
}

static void consider(const struct cand *c, struct cand *best, int *have, int *nq)
{
    (*nq)++;
    if (!*have || c->r2a > best->r2a) {
        *best = *c;
        *have = 1;
    }
}

static double tcrit_for(const struct sb_mv_opts *o, double df)
{
    double p = o && o->p_max > 0 ? o->p_max : 0.10;
    return p >= 1 || df < 1 ? 0 : sb_t_quantile(1 - p, df);
}

/* Every candidate of 3.4.3.1; *best gets the qualified one with the highest
 * adjusted R^2 (3.4.3.3). */
static void search(const struct ddata *d, const struct sb_mv_opts *o, struct cand *best,
                   int *ncand, int *nq, int *have)
{
    int okh[BP_N], okc[BP_N], gas = o && o->gas;
    double t1 = tcrit_for(o, (double)d->n - 2), t2 = tcrit_for(o, (double)d->n - 3);
    struct cand c = { .kind = SB_MV_INTERCEPT, .kh = -1, .kc = -1, .mu = d->ybar };

    *ncand = 1;
    if (d->ybar >= 0)                          /* 3.4.3.2.3 */
        consider(&c, best, have, nq);
    for (int k = 0; k < BP_N; k++) {
        okh[k] = dd_enough(d, bp_c(k), 1);
        okc[k] = !gas && dd_enough(d, bp_c(k), 0);
    }
    for (int k = 0; k < BP_N; k++) {
        if (okh[k]) {
            struct cand h = { .kind = SB_MV_HDD, .kh = k, .kc = -1, .tc = NAN };
            (*ncand)++;
            if (fit1(d, 1, k, t1, &h))
                consider(&h, best, have, nq);
        }
        if (okc[k]) {
            struct cand cc = { .kind = SB_MV_CDD, .kh = -1, .kc = k, .th = NAN };
            (*ncand)++;
            if (fit1(d, 0, k, t1, &cc))
                consider(&cc, best, have, nq);
        }
    }
    for (int kh = 0; kh < BP_N; kh++) {
        for (int kc = kh; kc < BP_N && okh[kh]; kc++) {   /* 3.2.2.1: tb_h <= tb_c */
            if (!okc[kc])
                continue;
            struct cand b = { .kind = SB_MV_HDD_CDD, .kh = kh, .kc = kc };
            (*ncand)++;
            if (fit2(d, kh, kc, t2, &b))
                consider(&b, best, have, nq);
        }
    }
}

static int load(struct ddata *d, const double *use, const double *tmean, size_t n, int gas)
{
    memset(d, 0, sizeof(*d));
    d->y = malloc(sizeof(double) * (n ? n : 1));
    d->t = malloc(sizeof(double) * (n ? n : 1));
    if (!d->y || !d->t)
        return SB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!sb_mv__reading(use[i], gas) || !isfinite(tmean[i]))
            continue;
        d->y[d->n] = use[i];
        d->t[d->n] = tmean[i];
        d->ybar += use[i];
        d->n++;
    }
    if (d->n)
        d->ybar /= (double)d->n;
    for (size_t i = 0; i < d->n; i++)
        d->syy += (d->y[i] - d->ybar) * (d->y[i] - d->ybar);
    d->scale = n >= MV_BASE_DAYS ? 1.0 : (double)n / MV_BASE_DAYS;
    return 0;
}

static void to_model(const struct cand *c, const struct ddata *d, struct sb_mv_daily_model *m)
{
    memset(m, 0, sizeof(*m));
    m->kind = c->kind;
    m->mu = c->mu;
    m->tb_h = c->kh >= 0 ? bp_c(c->kh) : NAN;
    m->tb_c = c->kc >= 0 ? bp_c(c->kc) : NAN;
    m->beta_h = c->kh >= 0 ? c->bh : 0;
    m->beta_c = c->kc >= 0 ? c->bc : 0;
    m->t_h = c->kh >= 0 ? c->th : NAN;
    m->t_c = c->kc >= 0 ? c->tc : NAN;
    m->r2_adj = c->kind == SB_MV_INTERCEPT ? 0 : c->r2a;
    m->n_params = 1 + (c->kh >= 0) + (c->kc >= 0);
    m->n_days = d->n;
}

int sb_mv_daily_fit(const double *use, const double *tmean, size_t n, const struct sb_mv_opts *o,
                    struct sb_mv_daily_model *m, char *err, size_t errlen)
{
    struct ddata d;
    struct cand best = {0};
    int ncand = 0, nq = 0, have = 0, rc;

    memset(m, 0, sizeof(*m));
    if (!use || !tmean)
        return SB_EINVAL;
    if ((rc = load(&d, use, tmean, n, o && o->gas)))
        goto out;
    if (d.n < 3) {
        sb_errf(err, errlen, "CalTRACK daily: needs at least 3 days with usage and temperature, has %zu",
                d.n);
        rc = SB_EINVAL;
        goto out;
    }
    search(&d, o, &best, &ncand, &nq, &have);
    if (!have) {
        sb_errf(err, errlen, "CalTRACK 3.4.3.2: none of %d candidate models qualified "
                "(mean use per day %.4g)", ncand, d.ybar);
        rc = SB_EINVAL;
        goto out;
    }
    to_model(&best, &d, m);
    m->n_candidates = ncand;
    m->n_qualified = nq;
out:
    free(d.y);
    free(d.t);
    return rc;
}

double sb_mv_daily_eval(const struct sb_mv_daily_model *m, double t)
{
    if (!isfinite(t))
        return NAN;
    double v = m->mu;
    if (m->kind == SB_MV_HDD || m->kind == SB_MV_HDD_CDD)
        v += m->beta_h * hdd(t, m->tb_h);
    if (m->kind == SB_MV_CDD || m->kind == SB_MV_HDD_CDD)
        v += m->beta_c * cdd(t, m->tb_c);
    return v;
}

/* ---- the daily baseline model with month blocks ------------------------ */

/* Leave-one-month-out: refit without calendar month mo, predict it. */
static void block_refit(const struct sb_mv_input *in, const struct sb_mv_opts *o, int mo,
                        double *ytmp, double *bsum, double *bcnt)
{
    struct sb_mv_daily_model bm;
    int any = 0;

    for (size_t i = 0; i < in->n; i++) {
        int in_mo = sb_mv__month(in->t0 + (int64_t)i) == mo;
        ytmp[i] = in_mo ? NAN : in->kwh[i];
        any |= in_mo;
    }
    if (!any || sb_mv_daily_fit(ytmp, in->temp_c, in->n, o, &bm, NULL, 0))
        return;
    for (size_t i = 0; i < in->n; i++) {
        if (sb_mv__month(in->t0 + (int64_t)i) != mo || !sb_mv__reading(in->kwh[i], o->gas))
            continue;
        double p = sb_mv_daily_eval(&bm, in->temp_c[i]);
        if (isfinite(p)) {
            bsum[mo] += in->kwh[i] - p;
            bcnt[mo] += 1;
        }
    }
}

int sb_mv__daily_blocks(const struct sb_mv_input *in, const struct sb_mv_opts *o, double *bsum,
                        double *bcnt)
{
    double *ytmp = malloc(sizeof(double) * (in->n ? in->n : 1));

    if (!ytmp)
        return SB_ENOMEM;
    for (int mo = 0; mo < SB_MV_MONTHS; mo++) {
        bsum[mo] = bcnt[mo] = 0;
        block_refit(in, o, mo, ytmp, bsum, bcnt);
    }
    free(ytmp);
    return 0;
}

int sb_mv__daily_fit(struct sb_mv_model *m, const struct sb_mv_input *in,
                     const struct sb_mv_opts *o, int blocks, char *err, size_t errlen)
{
    double *y = malloc(sizeof(double) * in->n), *yhat = malloc(sizeof(double) * in->n);
    double bsum[SB_MV_MONTHS] = {0}, bcnt[SB_MV_MONTHS] = {0}, probe[SB_MV_MONTHS];
    int rc = SB_ENOMEM;

    if (!y || !yhat)
        goto out;
    if ((rc = sb_mv_daily_fit(in->kwh, in->temp_c, in->n, o, &m->daily, err, errlen)))
        goto out;
    for (size_t i = 0; i < in->n; i++) {
        y[i] = sb_mv__reading(in->kwh[i], o->gas) ? in->kwh[i] : NAN;
        yhat[i] = sb_mv_daily_eval(&m->daily, in->temp_c[i]);
    }
    m->origin = in->t0;
    for (size_t i = 0; i < in->n; i++) {
        int mo = sb_mv__month(in->t0 + (int64_t)i);
        if (!isfinite(y[i]) || !isfinite(yhat[i]))
            continue;
        m->block_t[mo] += sb_mv__months_since(m, in, i);
        m->block_n[mo] += 1;
    }
    if (blocks && (rc = sb_mv__daily_blocks(in, o, bsum, bcnt)))
        goto out;
    /* the daily model is its own whole-year drift probe */
    for (int k = 0; k < SB_MV_MONTHS; k++)
        probe[k] = bcnt[k] > 0 ? bsum[k] / bcnt[k] : NAN;
    m->info.daily = m->daily;
    m->info.n_params = m->daily.n_params;
    sb_mv__finish_info(m, in, y, yhat, blocks ? bsum : NULL, blocks ? bcnt : NULL,
                       blocks ? probe : NULL);
    rc = 0;
out:
    free(y);
    free(yhat);
    return rc;
}

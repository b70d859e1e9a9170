/*
 * forecast.c - model choice by rolling-origin backtest, split-conformal
 * intervals, forecasting, the one-blob save format and the drift check
 * (forecast.h).
 */
#include "analytics/forecast.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/stats.h"
#include "core/err.h"

#define FC_FORMAT "sbems-forecaster"
#define FC_VERSION 1
#define FC_ALL ((1u << SB_FC_NMODELS) - 1)
#define FC_MIN_RECENT 12      /* finite hours of the last 24 a lag model needs */
#define FC_DRIFT_MIN_PAIRS 48
#define HOW 168
#define FC_XFOLDS 4            /* contiguous blocks of the TOWT cross-fit */
#define FC_HISTORY (6 * 168)   /* hours of history a forecast reads: lags reach 4 weeks + 1 */

struct sb_forecaster {
    struct sb_fc_report  rep;    /* training report (also the calibration) */
    struct sb_clean_opts clean;  /* rules applied to the history at predict time */
    struct sb_towt      *towt;   /* always present: the fallback */
    struct sb_gbm       *gbm;    /* present when chosen */
};

static const int bucket_lo[SB_FC_NBUCKETS] = {1, 7, 25, 49};
static const int bucket_hi[SB_FC_NBUCKETS] = {6, 24, 48, 72};
static const char *const model_names[SB_FC_NMODELS] = {"naive_day", "naive_week", "towt", "gbm"};

const char *sb_fc_model_name(int model)
{
    return model >= 0 && model < SB_FC_NMODELS ? model_names[model] : "?";
}

void sb_fc_bucket_range(int b, int *h_lo, int *h_hi)
{
    b = b < 0 ? 0 : b >= SB_FC_NBUCKETS ? SB_FC_NBUCKETS - 1 : b;
    *h_lo = bucket_lo[b];
    *h_hi = bucket_hi[b];
}

static int bucket_of(int h)
{
    int b = 0;
    while (b < SB_FC_NBUCKETS - 1 && h > bucket_hi[b])
        b++;
    return b;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void sb_fc_defaults(struct sb_fc_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->min_days = 90;
    o->min_coverage = 0.9;
    o->level = 0.9;
    o->backtest_stride = 13;
    o->candidates = FC_ALL;
    sb_gbm_defaults(&o->gbm);
}

static int resolve(const struct sb_fc_opts *in, struct sb_fc_opts *o)
{
    struct sb_fc_opts d;
    sb_fc_defaults(&d);
    if (!in) {
        *o = d;
        return 0;
    }
    *o = *in;
    if (!o->min_days) o->min_days = d.min_days;
    if (o->min_coverage == 0) o->min_coverage = d.min_coverage;
    if (o->level == 0) o->level = d.level;
    if (!o->backtest_stride) o->backtest_stride = d.backtest_stride;
    if (!o->candidates) o->candidates = d.candidates;
    /* the facade always asks 1..72 h and always hands the GBM TOWT */
    o->gbm.max_horizon = SB_FC_MAX_HORIZON;
    o->gbm.stack_towt = 1;
    if (o->min_days < 0 || !(o->min_coverage > 0 && o->min_coverage <= 1) ||
        !(o->level > 0 && o->level < 1) || o->backtest_stride < 1 || o->backtest_days < 0 ||
        (o->candidates & ~FC_ALL))
        return SB_EINVAL;
    return 0;
}

/* ---- shared helpers --------------------------------------------------- */

/* Hour of week as TOWT sees it: holidays become the same hour of Sunday
 * (towt.h contract). */
static void towt_how(const struct sb_load_series *s, size_t lo, size_t hi, uint8_t *out)
{
    for (size_t i = lo; i < hi; i++)
        out[i] = s->hol && s->hol[i] ? (uint8_t)(144 + s->how[i] % 24) : s->how[i];
}

/* TOWT predictions for hours [lo, hi) of s into hat (other hours untouched). */
static int towt_fill(const struct sb_towt *m, const struct sb_load_series *s, size_t lo,
                     size_t hi, double *hat)
{
    uint8_t *how = malloc(s->n ? s->n : 1);
    if (!how)
        return SB_ENOMEM;
    towt_how(s, lo, hi, how);
    int rc = sb_towt_predict(m, s->t + lo, how + lo, hi - lo, hat + lo);
    free(how);
    return rc;
}

static double naive_day(const struct sb_load_series *s, size_t o, int h)
{
    long long j = (long long)o + h - 1 - 24LL * ((h + 23) / 24);
    return j >= 0 ? s->y[j] : NAN;
}

static double naive_week(const struct sb_load_series *s, size_t o, int h)
{
    long long j = (long long)o + h - 1 - 168;
    return j >= 0 ? s->y[j] : NAN;
}

/* scale(o): mean |y[i] - y[i-24]| over [o-168, o); NAN with fewer than
 * 48 pairs or a zero mean (a flat meter has no variability to scale by). */
static double recent_scale(const struct sb_load_series *s, size_t o)
{
    double sum = 0;
    int k = 0;
    for (size_t i = o >= 168 ? o - 168 : 0; i < o; i++) {
        if (i < 24 || !isfinite(s->y[i]) || !isfinite(s->y[i - 24]))
            continue;
        sum += fabs(s->y[i] - s->y[i - 24]);
        k++;
    }
    return k >= 48 && sum > 0 ? sum / k : NAN;
}

/* Can a model that reads recent load run from origin o? */
static int recent_ok(const struct sb_load_series *s, size_t o)
{
    int k = 0;
    if (o < HOW)
        return 0;
    for (size_t i = o - 24; i < o; i++)
        k += isfinite(s->y[i]) != 0;
    return k >= FC_MIN_RECENT;
}

/* Fits TOWT on s (TOWT how mapping, default options from o). */
static int fit_towt(const struct sb_load_series *s, const struct sb_towt_opts *o,
                    struct sb_towt **out, char *err, size_t errlen)
{
    uint8_t *how = malloc(s->n ? s->n : 1);
    if (!how)
        return SB_ENOMEM;
    towt_how(s, 0, s->n, how);
    int rc = sb_towt_fit(s->y, s->t, how, NULL, s->n, o, out, err, errlen);
    free(how);
    return rc;
}

/* ---- backtest --------------------------------------------------------- */

/* Forecast/actual pairs of the backtest, one row per (origin, horizon). */
struct bt_pairs {
    double  *y;                    /* actual */
    double  *hat[SB_FC_NMODELS];   /* each model's point forecast */
    uint8_t *h;                    /* horizon */
    uint8_t *fold;                 /* origin parity: the cross-calibration fold */
    double  *scale;                /* scale(origin), NAN when unknown */
    size_t   n, cap;
};

static void pairs_free(struct bt_pairs *p)
{
    free(p->y);
    free(p->h);
    free(p->fold);
    free(p->scale);
    for (int m = 0; m < SB_FC_NMODELS; m++)
        free(p->hat[m]);
}

static int pairs_alloc(struct bt_pairs *p, size_t cap)
{
    memset(p, 0, sizeof(*p));
    p->cap = cap ? cap : 1;
    p->y = malloc(p->cap * sizeof(double));
    p->h = malloc(p->cap);
    p->fold = malloc(p->cap);
    p->scale = malloc(p->cap * sizeof(double));
    int ok = p->y && p->h && p->fold && p->scale;
    for (int m = 0; m < SB_FC_NMODELS; m++)
        ok = (p->hat[m] = malloc(p->cap * sizeof(double))) && ok;
    return ok ? 0 : SB_ENOMEM;
}

/* Models fitted on the head of the window, used to forecast its tail. */
struct bt_models {
    struct sb_towt *towt;
    struct sb_gbm  *gbm;
    double         *towt_hat;   /* TOWT(head) over the whole window */
};

/*
 * Out-of-fold TOWT predictions over s, for training the GBM: TOWT is fitted
 * on s minus one of FC_XFOLDS contiguous blocks and predicts that block.
 * Why: an in-sample TOWT (168 levels fitted to the same weeks) absorbs
 * part of every anomaly, so a learner stacked on it would trust it more
 * than it deserves on new data; measured on a 90-day synthetic meter with
 * a wandering level, in-sample stacking made the GBM worse than TOWT alone
 * at 49-72 h.  A block whose fit fails (too little data left) keeps the
 * in-sample prediction `full` gave.
 */
static int towt_crossfit(const struct sb_load_series *s, const struct sb_towt_opts *o,
                         const struct sb_towt *full, double *hat)
{
    struct sb_load_series ks = *s;
    double *y = malloc(s->n * sizeof(double));
    int rc = y ? towt_fill(full, s, 0, s->n, hat) : SB_ENOMEM;

    for (int k = 0; rc == 0 && k < FC_XFOLDS; k++) {
        size_t lo = s->n * (size_t)k / FC_XFOLDS, hi = s->n * (size_t)(k + 1) / FC_XFOLDS;
        struct sb_towt *m = NULL;
        for (size_t i = 0; i < s->n; i++)
            y[i] = i >= lo && i < hi ? NAN : s->y[i];
        ks.y = y;
        if (fit_towt(&ks, o, &m, NULL, 0) == 0)
            rc = towt_fill(m, s, lo, hi, hat);
        sb_towt_free(m);
    }
    free(y);
    return rc;
}

static int bt_fit(const struct sb_load_series *s, size_t head, const struct sb_fc_opts *o,
                  struct bt_models *bm, char *err, size_t errlen)
{
    struct sb_load_series hs = *s;
    double *cf = NULL;
    int rc;

    hs.n = head;
    if ((rc = fit_towt(&hs, &o->towt, &bm->towt, err, errlen)))
        return rc;
    if (!(bm->towt_hat = malloc(s->n * sizeof(double))))
        return SB_ENOMEM;
    if ((rc = towt_fill(bm->towt, s, 0, s->n, bm->towt_hat)) ||
        !(o->candidates & (1u << SB_FC_GBM)))
        return rc;
    if (!(cf = malloc(head * sizeof(double))))
        return SB_ENOMEM;
    if ((rc = towt_crossfit(&hs, &o->towt, bm->towt, cf)) == 0)
        rc = sb_gbm_fit(&hs, cf, &o->gbm, &bm->gbm, err, errlen);
    free(cf);
    return rc;
}

static void bt_release(struct bt_models *bm)
{
    sb_towt_free(bm->towt);
    sb_gbm_free(bm->gbm);
    free(bm->towt_hat);
}

/* Adds the pairs of one origin; a pair is kept only when the actual and
 * every candidate's forecast are finite, so all models are scored on the
 * same hours. */
static int bt_origin(const struct sb_load_series *s, const struct bt_models *bm, unsigned cand,
                     size_t o, int fold, struct bt_pairs *p)
{
    double g[SB_FC_MAX_HORIZON], sc = recent_scale(s, o);
    int H = (int)(s->n - o < SB_FC_MAX_HORIZON ? s->n - o : SB_FC_MAX_HORIZON);

    for (int h = 0; h < H; h++)
        g[h] = NAN;
    if (bm->gbm && sb_gbm_predict(bm->gbm, s, bm->towt_hat, o, H, g))
        return SB_EIO;
    for (int h = 1; h <= H && p->n < p->cap; h++) {
        size_t j = o + (size_t)h - 1, k = p->n;
        double v[SB_FC_NMODELS] = {naive_day(s, o, h), naive_week(s, o, h), bm->towt_hat[j],
                                   g[h - 1]};
        int ok = isfinite(s->y[j]);
        for (int m = 0; m < SB_FC_NMODELS; m++)
            ok = ok && (!(cand & (1u << m)) || isfinite(v[m]));
        if (!ok)
            continue;
        p->y[k] = s->y[j];
        for (int m = 0; m < SB_FC_NMODELS; m++)
            p->hat[m][k] = v[m];
        p->h[k] = (uint8_t)h;
        p->fold[k] = (uint8_t)fold;
        p->scale[k] = sc;
        p->n++;
    }
    return 0;
}

/* Pair i's residual, divided by its scale when scaled (NAN: unusable). */
static double resid(const struct bt_pairs *p, int m, size_t i, int scaled)
{
    double r = p->y[i] - p->hat[m][i];
    return scaled ? r / p->scale[i] : r;
}

static int in_sel(const struct bt_pairs *p, size_t i, int b, int f)
{
    return (b == SB_FC_NBUCKETS || bucket_of(p->h[i]) == b) && (f < 0 || p->fold[i] == f);
}

/* Residual quantiles of model m over pairs in bucket b (b = NBUCKETS:
 * all) and fold f (-1: both); returns the count used. */
static size_t resid_q(const struct bt_pairs *p, int m, int b, int f, int scaled, double level,
                      double *scratch, double *lo, double *hi)
{
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        double r = resid(p, m, i, scaled);
        if (in_sel(p, i, b, f) && isfinite(r))
            scratch[k++] = r;
    }
    double a = 1 - level;
    /* split-conformal finite-sample correction: the ceil((k+1)(1-a/2))/k quantile */
    double qa = k ? fmin(1.0, ceil((double)(k + 1) * (1 - a / 2)) / (double)k) : 1;
    *lo = k ? sb_quantile(scratch, k, 1 - qa) : NAN;
    *hi = k ? sb_quantile(scratch, k, qa) : NAN;
    return k;
}

/* Share of pairs in bucket b, fold f, inside the scaled interval. */
static double covered(const struct bt_pairs *p, int m, int b, int f, double lo, double hi)
{
    size_t in = 0, k = 0;
    for (size_t i = 0; i < p->n; i++) {
        double r = resid(p, m, i, 1);
        if (!in_sel(p, i, b, f) || !isfinite(r))
            continue;
        in += r >= lo && r <= hi;
        k++;
    }
    return k ? (double)in / (double)k : NAN;
}

static void bucket_stats(const struct bt_pairs *p, int m, int b, double level, double *sy,
                         double *sh, struct sb_fc_bucket *out)
{
    struct sb_fit_stats st;
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) {
        if (b != SB_FC_NBUCKETS && bucket_of(p->h[i]) != b)
            continue;
        sy[k] = p->y[i];
        sh[k++] = p->hat[m][i];
    }
    out->n = k;
    int ok = sb_fit_stats(sy, sh, k, 0, &st) == 0;
    out->rmse = ok ? st.rmse : NAN;
    out->cvrmse = ok ? st.cvrmse : NAN;
    out->nmbe = ok ? st.nmbe : NAN;
    resid_q(p, m, b, -1, 0, level, sy, &out->lo, &out->hi);
    resid_q(p, m, b, -1, 1, level, sy, &out->slo, &out->shi);
    /* honest coverage: calibrate on one fold, count on the other */
    double lo0, hi0, lo1, hi1;
    size_t n0 = resid_q(p, m, b, 0, 1, level, sy, &lo0, &hi0);
    size_t n1 = resid_q(p, m, b, 1, 1, level, sy, &lo1, &hi1);
    double c1 = covered(p, m, b, 1, lo0, hi0), c0 = covered(p, m, b, 0, lo1, hi1);
    out->coverage = n0 && n1 ? (c1 * (double)n1 + c0 * (double)n0) / (double)(n0 + n1) : NAN;
}

static void bt_stats(const struct bt_pairs *p, unsigned cand, double level,
                     struct sb_fc_report *r, double *sy, double *sh)
{
    for (int m = 0; m < SB_FC_NMODELS; m++) {
        for (int b = 0; b <= SB_FC_NBUCKETS; b++) {
            struct sb_fc_bucket *bk = &r->bt[m][b];
            if (!(cand & (1u << m))) {
                *bk = (struct sb_fc_bucket){0, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
                continue;
            }
            bucket_stats(p, m, b, level, sy, sh, bk);
        }
    }
}

/* Lowest pooled CV(RMSE); ties go to the simpler (lower-numbered) model. */
static int choose(const struct sb_fc_report *r, unsigned cand)
{
    int best = -1;
    for (int m = 0; m < SB_FC_NMODELS; m++) {
        double c = r->bt[m][SB_FC_NBUCKETS].cvrmse;
        if ((cand & (1u << m)) && isfinite(c) &&
            (best < 0 || c < r->bt[best][SB_FC_NBUCKETS].cvrmse))
            best = m;
    }
    return best;
}

static size_t backtest_hours(const struct sb_fc_opts *o, size_t n)
{
    size_t days = o->backtest_days ? (size_t)o->backtest_days : n / 24 / 4;
    if (!o->backtest_days)
        days = days < 14 ? 14 : days > 182 ? 182 : days;
    return days * 24;
}

static int run_backtest(const struct sb_load_series *s, const struct sb_fc_opts *o,
                        struct sb_fc_report *r)
{
    struct bt_models bm = {0};
    struct bt_pairs p;
    size_t B = backtest_hours(o, s->n);
    double *sy = NULL, *sh = NULL;
    int rc;

    if (B + 21 * 24 > s->n) {
        sb_errf(r->message, sizeof(r->message),
                "needs %zu days for a %zu-day backtest, has %zu", B / 24 + 21, B / 24,
                s->n / 24);
        return SB_EINVAL;
    }
    size_t stride = (size_t)o->backtest_stride, head = s->n - B, norig = (B + stride - 1) / stride;
    if ((rc = pairs_alloc(&p, norig * SB_FC_MAX_HORIZON)))
        goto out;
    if ((rc = bt_fit(s, head, o, &bm, r->message, sizeof(r->message))))
        goto out;
    int k = 0;
    for (size_t org = head; org < s->n && rc == 0; org += (size_t)o->backtest_stride, k++)
        rc = bt_origin(s, &bm, o->candidates, org, k & 1, &p);
    if (rc)
        goto out;
    r->backtest_origins = k;
    r->backtest_start_utc = s->start_utc + 3600 * (int64_t)head;
    if (!(sy = malloc(p.cap * sizeof(double))) || !(sh = malloc(p.cap * sizeof(double)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    bt_stats(&p, o->candidates, o->level, r, sy, sh);
out:
    free(sy);
    free(sh);
    pairs_free(&p);
    bt_release(&bm);
    return rc;
}

/* ---- training --------------------------------------------------------- */

static int prepare(const struct sb_load_series *s, const struct sb_fc_opts *o, double *y,
                   struct sb_fc_report *r)
{
    memcpy(y, s->y, s->n * sizeof(double));
    int rc = sb_clean_series(y, s->n, &o->clean, NULL, &r->clean);
    if (rc)
        return rc;
    sb_data_sufficiency(y, s->n, s->start_utc, o->min_days, o->min_coverage, &r->sufficiency,
                        r->message, sizeof(r->message));
    return r->sufficiency.ok ? 0 : SB_EINVAL;
}

static void describe_choice(struct sb_fc_report *r, unsigned cand)
{
    size_t off = (size_t)snprintf(r->message, sizeof(r->message),
                                  "chose %s by backtest CV(RMSE) over 1-72 h:",
                                  sb_fc_model_name(r->chosen));
    for (int m = 0; m < SB_FC_NMODELS && off < sizeof(r->message); m++)
        if (cand & (1u << m))
            off += (size_t)snprintf(r->message + off, sizeof(r->message) - off, " %s %.1f %%",
                                    model_names[m], 100 * r->bt[m][SB_FC_NBUCKETS].cvrmse);
}

static int final_fit(const struct sb_load_series *cs, const struct sb_fc_opts *o,
                     struct sb_forecaster *f)
{
    double t0 = now_ms(), *hat = NULL;
    int rc = fit_towt(cs, &o->towt, &f->towt, f->rep.message, sizeof(f->rep.message));
    f->rep.fit_ms_towt = now_ms() - t0;
    if (rc || f->rep.chosen != SB_FC_GBM)
        return rc;
    if (!(hat = malloc(cs->n * sizeof(double))))
        return SB_ENOMEM;
    if ((rc = towt_crossfit(cs, &o->towt, f->towt, hat)) == 0) {
        t0 = now_ms();
        rc = sb_gbm_fit(cs, hat, &o->gbm, &f->gbm, f->rep.message, sizeof(f->rep.message));
        f->rep.fit_ms_gbm = now_ms() - t0;
    }
    free(hat);
    return rc;
}

static int check_series(const struct sb_load_series *s)
{
    if (!s || !s->y || !s->t || !s->how || s->n == 0)
        return SB_EINVAL;
    for (size_t i = 0; i < s->n; i++)
        if (s->how[i] >= HOW)
            return SB_EINVAL;
    return 0;
}

int sb_fc_train(const struct sb_load_series *s, const struct sb_fc_opts *opts,
                struct sb_forecaster **out, struct sb_fc_report *rep)
{
    struct sb_fc_opts o;
    struct sb_forecaster *f = NULL;
    double *y = NULL;
    int rc;

    *out = NULL;
    if (!(f = calloc(1, sizeof(*f))))
        return SB_ENOMEM;
    struct sb_fc_report *r = &f->rep;
    if ((rc = resolve(opts, &o)) || (rc = check_series(s))) {
        sb_errf(r->message, sizeof(r->message), "invalid options or series");
        goto out;
    }
    r->level = o.level;
    r->train_start_utc = s->start_utc;
    r->train_end_utc = s->start_utc + 3600 * (int64_t)s->n;
    f->clean = o.clean;
    if (!(y = malloc(s->n * sizeof(double)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    struct sb_load_series cs = *s;
    cs.y = y;
    /* TOWT is always fitted and scored: it is the fallback when recent
     * load is missing, and its intervals must exist for that case */
    unsigned wanted = o.candidates;
    o.candidates |= 1u << SB_FC_TOWT;
    if ((rc = prepare(s, &o, y, r)) || (rc = run_backtest(&cs, &o, r)))
        goto out;
    if ((r->chosen = choose(r, wanted)) < 0) {
        sb_errf(r->message, sizeof(r->message), "no candidate model could be scored");
        rc = SB_EINVAL;
        goto out;
    }
    describe_choice(r, wanted);
    if ((rc = final_fit(&cs, &o, f)))
        goto out;
    *out = f;
    f = NULL;
out:
    if (rep)
        *rep = f ? f->rep : (*out)->rep;
    free(y);
    sb_fc_free(f);
    return rc;
}

const struct sb_fc_report *sb_fc_get_report(const struct sb_forecaster *f)
{
    return &f->rep;
}

void sb_fc_free(struct sb_forecaster *f)
{
    if (!f)
        return;
    sb_towt_free(f->towt);
    sb_gbm_free(f->gbm);
    free(f);
}

/* ---- forecasting ------------------------------------------------------ */

/* Point forecasts of model m from origin o; towt_hat covers [o-FC_HISTORY, o+H). */
static int point_forecast(const struct sb_forecaster *f, int m, const struct sb_load_series *s,
                          const double *towt_hat, size_t o, int H, double *pt)
{
    if (m == SB_FC_GBM)
        return sb_gbm_predict(f->gbm, s, towt_hat, o, H, pt) ? SB_EIO : 0;
    for (int h = 1; h <= H; h++)
        pt[h - 1] = m == SB_FC_NAIVE_DAY ? naive_day(s, o, h)
                  : m == SB_FC_NAIVE_WEEK ? naive_week(s, o, h)
                  : towt_hat[o + (size_t)h - 1];
    return 0;
}

/* Scaled conformal band when scale(o) and the scaled quantiles exist,
 * else the unscaled one. */
static void intervals(const struct sb_fc_report *r, int m, double scale, const double *pt, int H,
                      double *lo, double *hi)
{
    for (int h = 1; h <= H; h++) {
        const struct sb_fc_bucket *b = &r->bt[m][bucket_of(h)];
        int sc = isfinite(scale) && isfinite(b->slo);
        if (lo)
            lo[h - 1] = pt[h - 1] + (sc ? scale * b->slo : b->lo);
        if (hi)
            hi[h - 1] = pt[h - 1] + (sc ? scale * b->shi : b->hi);
    }
}

/* A cleaned copy of the last FC_HISTORY hours below the origin, NAN
 * elsewhere, so no model can read load at or after the origin (and older
 * load, which no feature uses, costs no cleaning time). */
static double *history_copy(const struct sb_forecaster *f, const struct sb_load_series *s,
                            size_t origin)
{
    double *y = malloc(s->n * sizeof(double));
    if (!y)
        return NULL;
    size_t from = origin > FC_HISTORY ? origin - FC_HISTORY : 0;
    for (size_t i = 0; i < s->n; i++)
        y[i] = i >= from && i < origin ? s->y[i] : NAN;
    if (sb_clean_series(y + from, origin - from, &f->clean, NULL, NULL)) {
        free(y);
        return NULL;
    }
    return y;
}

int sb_fc_predict(const struct sb_forecaster *f, const struct sb_load_series *s, size_t origin,
                  int H, double *point, double *lower, double *upper, int *model, char *err,
                  size_t errlen)
{
    double *y = NULL, *hat = NULL;
    int rc = SB_ENOMEM;

    if (!f || check_series(s) || !point || H < 1 || H > SB_FC_MAX_HORIZON || origin < 1 ||
        origin + (size_t)H > s->n) {
        sb_errf(err, errlen, "forecast: needs 1 <= origin, 1 <= H <= %d, origin + H <= n",
                SB_FC_MAX_HORIZON);
        return SB_EINVAL;
    }
    if (!(y = history_copy(f, s, origin)) || !(hat = malloc(s->n * sizeof(double))))
        goto out;
    struct sb_load_series hs = *s;
    hs.y = y;
    size_t lo = origin > FC_HISTORY ? origin - FC_HISTORY : 0;
    for (size_t i = 0; i < s->n; i++)
        hat[i] = NAN;
    if ((rc = towt_fill(f->towt, &hs, lo, origin + (size_t)H, hat)))
        goto out;
    int m = f->rep.chosen;
    if (m != SB_FC_TOWT && !recent_ok(&hs, origin))
        m = SB_FC_TOWT;
    if ((rc = point_forecast(f, m, &hs, hat, origin, H, point))) {
        sb_errf(err, errlen, "forecast: %s failed", sb_fc_model_name(m));
        goto out;
    }
    intervals(&f->rep, m, recent_scale(&hs, origin), point, H, lower, upper);
    if (model)
        *model = m;
out:
    free(y);
    free(hat);
    return rc;
}

/* ---- drift ------------------------------------------------------------ */

int sb_fc_drift_check(const struct sb_forecaster *f, int model, const double *y,
                      const double *yhat, const uint8_t *horizon, size_t n,
                      struct sb_fc_drift *d)
{
    double se = 0, sbt = 0, sy = 0;
    size_t miss = 0;

    if (!f || !d || model < 0 || model >= SB_FC_NMODELS || (n && (!y || !yhat || !horizon)))
        return SB_EINVAL;
    memset(d, 0, sizeof(*d));
    d->expected_miss = 1 - f->rep.level;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(yhat[i]) || horizon[i] < 1 ||
            horizon[i] > SB_FC_MAX_HORIZON)
            continue;
        const struct sb_fc_bucket *b = &f->rep.bt[model][bucket_of(horizon[i])];
        if (!isfinite(b->rmse))
            return SB_EINVAL;   /* that model was not backtested */
        double e = y[i] - yhat[i];
        se += e * e;
        sbt += b->rmse * b->rmse;
        sy += y[i];
        miss += e < b->lo || e > b->hi;
        d->n++;
    }
    if (d->n == 0 || sy == 0) {
        d->cvrmse = d->backtest_cvrmse = d->miss_rate = d->z = NAN;
        return 0;
    }
    double k = (double)d->n, a = d->expected_miss, mean = sy / k;
    d->cvrmse = sqrt(se / k) / mean;
    d->backtest_cvrmse = sqrt(sbt / k) / mean;
    d->miss_rate = (double)miss / k;
    d->z = ((double)miss - k * a) / sqrt(k * a * (1 - a));
    if (d->n < FC_DRIFT_MIN_PAIRS)
        return 0;
    if (d->z > 3)
        snprintf(d->reason, sizeof(d->reason),
                 "%.0f %% of actuals outside the %.0f %% interval (expected %.0f %%)",
                 100 * d->miss_rate, 100 * f->rep.level, 100 * a);
    else if (d->cvrmse > 1.5 * d->backtest_cvrmse)
        snprintf(d->reason, sizeof(d->reason), "CV(RMSE) %.1f %% vs %.1f %% in the backtest",
                 100 * d->cvrmse, 100 * d->backtest_cvrmse);
    d->retrain = d->reason[0] != 0;
    return 0;
}

/* ---- report JSON ------------------------------------------------------ */

static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *bucket_json(const struct sb_fc_bucket *b)
{
    return json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "n", (json_int_t)b->n, "rmse",
                     jnum(b->rmse), "cvrmse", jnum(b->cvrmse), "nmbe", jnum(b->nmbe), "lo",
                     jnum(b->lo), "hi", jnum(b->hi), "slo", jnum(b->slo), "shi", jnum(b->shi),
                     "coverage", jnum(b->coverage));
}

static json_t *models_json(const struct sb_fc_report *r)
{
    json_t *o = json_object();
    for (int m = 0; o && m < SB_FC_NMODELS; m++) {
        json_t *a = json_array();
        for (int b = 0; a && b <= SB_FC_NBUCKETS; b++)
            if (json_array_append_new(a, bucket_json(&r->bt[m][b]))) {
                json_decref(a);
                a = NULL;
            }
        if (json_object_set_new(o, model_names[m], a)) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *report_obj(const struct sb_fc_report *r)
{
    const struct sb_clean_report *c = &r->clean;
    const struct sb_sufficiency *su = &r->sufficiency;
    return json_pack(
        "{s:s,s:f,s:I,s:I,s:I,s:i,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I},"
        "s:{s:i,s:f,s:i,s:i,s:b},s:o,s:{s:f,s:f},s:s}",
        "chosen", sb_fc_model_name(r->chosen), "level", r->level, "train_start_utc",
        (json_int_t)r->train_start_utc, "train_end_utc", (json_int_t)r->train_end_utc,
        "backtest_start_utc", (json_int_t)r->backtest_start_utc, "backtest_origins",
        r->backtest_origins, "buckets", json_pack("[[i,i],[i,i],[i,i],[i,i]]", 1, 6, 7, 24, 25,
                                                  48, 49, 72),
        "clean", "n", (json_int_t)c->n, "missing", (json_int_t)c->missing, "zeros",
        (json_int_t)c->zeros, "negative", (json_int_t)c->negative, "flat", (json_int_t)c->flat,
        "flat_runs", (json_int_t)c->flat_runs, "spikes", (json_int_t)c->spikes, "kept",
        (json_int_t)c->kept, "sufficiency", "days_needed", su->days_needed, "min_coverage",
        su->min_coverage, "days_ok", su->days_ok, "days_total", su->days_total, "ok", su->ok,
        "models", models_json(r), "fit_ms", "towt", r->fit_ms_towt, "gbm", r->fit_ms_gbm,
        "message", r->message);
}

int sb_fc_report_json(const struct sb_fc_report *r, char **json)
{
    json_t *o = r ? report_obj(r) : NULL;
    *json = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    json_decref(o);
    return *json ? 0 : r ? SB_ENOMEM : SB_EINVAL;
}

/* ---- report parsing (blob loader: untrusted bytes) -------------------- */

/* A number or null (NAN). */
static int get_num(const json_t *o, const char *key, double *v)
{
    const json_t *e = json_object_get(o, key);
    if (json_is_null(e)) {
        *v = NAN;
        return 0;
    }
    if (!json_is_number(e))
        return -1;
    *v = json_number_value(e);
    return 0;
}

static int get_count(const json_t *o, const char *key, size_t *v)
{
    const json_t *e = json_object_get(o, key);
    if (!json_is_integer(e) || json_integer_value(e) < 0)
        return -1;
    *v = (size_t)json_integer_value(e);
    return 0;
}

static int parse_bucket(const json_t *o, struct sb_fc_bucket *b)
{
    if (!json_is_object(o) || get_count(o, "n", &b->n) || get_num(o, "rmse", &b->rmse) ||
        get_num(o, "cvrmse", &b->cvrmse) || get_num(o, "nmbe", &b->nmbe) ||
        get_num(o, "lo", &b->lo) || get_num(o, "hi", &b->hi) || get_num(o, "slo", &b->slo) ||
        get_num(o, "shi", &b->shi) || get_num(o, "coverage", &b->coverage))
        return -1;
    /* an interval must be an interval when it exists */
    return isfinite(b->lo) != isfinite(b->hi) || b->lo > b->hi ||
           isfinite(b->slo) != isfinite(b->shi) || b->slo > b->shi ? -1 : 0;
}

static int parse_models(const json_t *o, struct sb_fc_report *r)
{
    if (!json_is_object(o))
        return -1;
    for (int m = 0; m < SB_FC_NMODELS; m++) {
        const json_t *a = json_object_get(o, model_names[m]);
        if (!json_is_array(a) || json_array_size(a) != SB_FC_NBUCKETS + 1)
            return -1;
        for (int b = 0; b <= SB_FC_NBUCKETS; b++)
            if (parse_bucket(json_array_get(a, (size_t)b), &r->bt[m][b]))
                return -1;
    }
    return 0;
}

static int model_by_name(const char *s)
{
    for (int m = 0; s && m < SB_FC_NMODELS; m++)
        if (strcmp(s, model_names[m]) == 0)
            return m;
    return -1;
}

static int parse_clean(const json_t *o, struct sb_clean_report *c)
{
    return !json_is_object(o) || get_count(o, "n", &c->n) || get_count(o, "missing", &c->missing) ||
           get_count(o, "zeros", &c->zeros) || get_count(o, "negative", &c->negative) ||
           get_count(o, "flat", &c->flat) || get_count(o, "flat_runs", &c->flat_runs) ||
           get_count(o, "spikes", &c->spikes) || get_count(o, "kept", &c->kept)
               ? -1 : 0;
}

static int parse_report(const json_t *o, struct sb_fc_report *r, char *err, size_t errlen)
{
    const char *chosen = NULL, *msg = NULL;
    json_int_t t0, t1, tb;
    json_t *clean = NULL, *models = NULL;
    int ok = 0;
    json_error_t je;
    struct sb_sufficiency *su = &r->sufficiency;

    if (json_unpack_ex((json_t *)o, &je, 0,
                       "{s:s,s:F,s:I,s:I,s:I,s:i,s:o,s:{s:i,s:F,s:i,s:i,s:b},s:o,s:{s:F,s:F},s:s}",
                       "chosen", &chosen, "level", &r->level, "train_start_utc", &t0,
                       "train_end_utc", &t1, "backtest_start_utc", &tb, "backtest_origins",
                       &r->backtest_origins, "clean", &clean, "sufficiency", "days_needed",
                       &su->days_needed, "min_coverage", &su->min_coverage, "days_ok",
                       &su->days_ok, "days_total", &su->days_total, "ok", &ok, "models",
                       &models, "fit_ms", "towt", &r->fit_ms_towt, "gbm", &r->fit_ms_gbm,
                       "message", &msg)) {
        sb_errf(err, errlen, "forecaster: bad report: %s", je.text);
        return SB_EINVAL;
    }
    r->train_start_utc = t0;
    r->train_end_utc = t1;
    r->backtest_start_utc = tb;
    su->ok = ok;
    snprintf(r->message, sizeof(r->message), "%s", msg);
    if ((r->chosen = model_by_name(chosen)) < 0 || !(r->level > 0 && r->level < 1) ||
        parse_clean(clean, &r->clean) || parse_models(models, r)) {
        sb_errf(err, errlen, "forecaster: report has a bad model, level or statistics");
        return SB_EINVAL;
    }
    return 0;
}

/* ---- blob ------------------------------------------------------------- */

static json_t *clean_opts_json(const struct sb_clean_opts *c)
{
    return json_pack("{s:b,s:b,s:i,s:f,s:i,s:f,s:f}", "zero_is_missing", c->zero_is_missing,
                     "allow_negative", c->allow_negative, "flat_min_run", c->flat_min_run,
                     "flat_tol", c->flat_tol, "spike_halfwin", c->spike_halfwin, "spike_k",
                     c->spike_k, "spike_floor", c->spike_floor);
}

static int parse_clean_opts(const json_t *o, struct sb_clean_opts *c)
{
    int z = 0, neg = 0;
    if (json_unpack((json_t *)o, "{s:b,s:b,s:i,s:F,s:i,s:F,s:F}", "zero_is_missing", &z,
                    "allow_negative", &neg, "flat_min_run", &c->flat_min_run, "flat_tol",
                    &c->flat_tol, "spike_halfwin", &c->spike_halfwin, "spike_k", &c->spike_k,
                    "spike_floor", &c->spike_floor))
        return -1;
    c->zero_is_missing = z;
    c->allow_negative = neg;
    double probe = 1;   /* the options must be ones sb_clean_series accepts */
    return sb_clean_series(&probe, 1, c, NULL, NULL) ? -1 : 0;
}

/* Parses a model JSON string and returns it as a json_t (NULL on error). */
static json_t *embed(char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    return j;
}

int sb_fc_save(const struct sb_forecaster *f, char **blob, size_t *len)
{
    char *tj = NULL, *gj = NULL;
    json_t *root = NULL;
    int rc = SB_EINVAL;

    *blob = NULL;
    if (!f || !f->towt || sb_towt_save(f->towt, &tj) || (f->gbm && sb_gbm_save(f->gbm, &gj)))
        goto out;
    rc = SB_ENOMEM;
    root = json_pack("{s:s,s:i,s:o,s:o,s:o,s:o}", "format", FC_FORMAT, "version", FC_VERSION,
                     "report", report_obj(&f->rep), "clean_opts", clean_opts_json(&f->clean),
                     "towt", embed(tj), "gbm", f->gbm ? embed(gj) : json_null());
    tj = gj = NULL;
    if (root && (*blob = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17)))) {
        *len = strlen(*blob);
        rc = 0;
    }
out:
    free(tj);
    free(gj);
    json_decref(root);
    return rc;
}

/* Loads a nested model object through its own (strict) loader. */
static int load_nested(const json_t *o, int gbm, struct sb_forecaster *f, char *err,
                       size_t errlen)
{
    char *text = json_is_object(o) ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    int rc;
    if (!text) {
        sb_errf(err, errlen, "forecaster: \"%s\" must be an object", gbm ? "gbm" : "towt");
        return SB_EINVAL;
    }
    rc = gbm ? sb_gbm_load(text, strlen(text), &f->gbm, err, errlen)
             : sb_towt_load(text, strlen(text), &f->towt, err, errlen);
    free(text);
    return rc;
}

static int parse_blob(const json_t *root, struct sb_forecaster *f, char *err, size_t errlen)
{
    const json_t *fmt = json_object_get(root, "format"), *ver = json_object_get(root, "version");
    const json_t *g = json_object_get(root, "gbm");
    int rc;

    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), FC_FORMAT) ||
        !json_is_integer(ver) || json_integer_value(ver) != FC_VERSION) {
        sb_errf(err, errlen, "forecaster: not a \"%s\" version %d blob", FC_FORMAT, FC_VERSION);
        return SB_EINVAL;
    }
    if ((rc = parse_report(json_object_get(root, "report"), &f->rep, err, errlen)))
        return rc;
    if (parse_clean_opts(json_object_get(root, "clean_opts"), &f->clean)) {
        sb_errf(err, errlen, "forecaster: bad \"clean_opts\"");
        return SB_EINVAL;
    }
    if ((rc = load_nested(json_object_get(root, "towt"), 0, f, err, errlen)))
        return rc;
    if (f->rep.chosen == SB_FC_GBM && (rc = load_nested(g, 1, f, err, errlen)))
        return rc;
    if (f->gbm && (sb_gbm_opts(f->gbm)->max_horizon != SB_FC_MAX_HORIZON ||
                   !sb_gbm_opts(f->gbm)->stack_towt)) {
        sb_errf(err, errlen, "forecaster: the gbm must forecast %d h and stack TOWT",
                SB_FC_MAX_HORIZON);
        return SB_EINVAL;
    }
    if (f->rep.chosen != SB_FC_GBM && !json_is_null(g)) {
        sb_errf(err, errlen, "forecaster: \"gbm\" present but %s was chosen",
                sb_fc_model_name(f->rep.chosen));
        return SB_EINVAL;
    }
    for (int b = 0; b < SB_FC_NBUCKETS; b++)
        if (!isfinite(f->rep.bt[f->rep.chosen][b].lo) || !isfinite(f->rep.bt[SB_FC_TOWT][b].lo)) {
            sb_errf(err, errlen, "forecaster: intervals of the chosen model or TOWT missing");
            return SB_EINVAL;
        }
    return 0;
}

int sb_fc_load(const char *blob, size_t len, struct sb_forecaster **out, char *err,
               size_t errlen)
{
    json_error_t je;
    json_t *root = NULL;
    struct sb_forecaster *f = NULL;
    int rc = SB_EINVAL;

    *out = NULL;
    if (!blob || !(root = json_loadb(blob, len, JSON_REJECT_DUPLICATES, &je))) {
        sb_errf(err, errlen, "forecaster: bad JSON: %s", blob ? je.text : "no input");
        goto out;
    }
    if (!json_is_object(root)) {
        sb_errf(err, errlen, "forecaster: blob must be a JSON object");
        goto out;
    }
    if (!(f = calloc(1, sizeof(*f)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = parse_blob(root, f, err, errlen)))
        goto out;
    *out = f;
    f = NULL;
out:
    sb_fc_free(f);
    json_decref(root);
    return rc;
}

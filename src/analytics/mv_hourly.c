/*
 * mv_hourly.c - CalTRACK 2.0 hourly method (mv.h) on the TOWT regression
 * of towt.h.
 *
 * Month models (CalTRACK 3.7.5): the counterfactual of an hour in calendar
 * month k comes from a model fitted on the baseline hours of month k with
 * weight 1 and of months k-1 and k+1 (cyclically: December's neighbours are
 * November and January) with weight 0.5.  opts.hourly_single fits one model
 * on the whole 365-day baseline instead (3.7.5.1 / 3.7.5.2).
 *
 * Temperature bins: CalTRACK's endpoints 30, 45, 55, 65, 75, 90 °F (3.9.1.1)
 * passed to towt as knots in °C; towt merges bins holding fewer than 20
 * hours (3.9.1.2) and finds occupied hours of the week by the share (> 65 %)
 * of positive residuals (3.8.4).  Note: towt.c takes those residuals from
 * Mathieu's y = a + bT fit, not CalTRACK 3.8.3's HDD50/CDD65 fit; towt.h has
 * no way to pass occupancy in.
 *
 * Month blocks for the honest interval: for month k the month-k model is
 * refitted with month k's weight set to 0 (only its neighbours, at 0.5), and
 * predicts month k: an out-of-sample error for the month.  With a single
 * model, the refit drops month k from the 365 days.
 */
#include "analytics/mv_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/towt.h"
#include "core/err.h"
#include "core/tz.h"

static const char *month_name[SB_MV_MONTHS] = {
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December"
};

/* CalTRACK 3.9.1.1 bin endpoints, °F -> °C. */
static void caltrack_knots(struct sb_towt_opts *to)
{
    static const double f[] = { 30, 45, 55, 65, 75, 90 };
    memset(to, 0, sizeof(*to));
    to->n_knots = (int)(sizeof(f) / sizeof(f[0]));
    for (int j = 0; j < to->n_knots; j++)
        to->knots[j] = (f[j] - 32.0) / 1.8;
    to->occ_threshold = 0.65;          /* CalTRACK 3.8.4 */
}

static int is_holiday(const struct sb_mv_model *m, int64_t day)
{
    for (size_t j = 0; j < m->n_holidays; j++)
        if (m->holidays[j] == day)
            return 1;
    return 0;
}

/* Hour of week (0 = Monday 00:00, towt.h) and calendar month of each hour. */
static void calendar(const struct sb_mv_model *m, const struct sb_mv_input *in, uint8_t *how,
                     int8_t *mon)
{
    for (size_t i = 0; i < in->n; i++) {
        int64_t day;
        int hour;
        sb_mv__local(m->tz, in->t0 + 3600 * (int64_t)i, &day, &hour);
        /* 1970-01-01 was a Thursday: Monday-based weekday = (day + 3) mod 7 */
        int wd = (int)(((day + 3) % 7 + 7) % 7);
        if (is_holiday(m, day))
            wd = 6;
        how[i] = (uint8_t)(wd * 24 + hour);
        mon[i] = (int8_t)sb_mv__month(day);
    }
}

/* CalTRACK 3.7.5 weights of month model k (drop_k: month k itself gets 0). */
static void month_weights(const int8_t *mon, size_t n, int k, int single, int drop_k, double *w)
{
    int prev = (k + 11) % 12, next = (k + 1) % 12;
    for (size_t i = 0; i < n; i++) {
        if (single)
            w[i] = drop_k && mon[i] == k ? 0 : 1;
        else if (mon[i] == k)
            w[i] = drop_k ? 0 : 1;
        else
            w[i] = mon[i] == prev || mon[i] == next ? 0.5 : 0;
    }
}

int sb_mv__hourly_check(const struct sb_mv_input *in, const struct sb_mv_opts *o,
                        struct sb_mv_suff *s)
{
    size_t tot[SB_MV_MONTHS] = {0}, ok[SB_MV_MONTHS] = {0};
    size_t need = 24 * MV_BASE_DAYS;

    memset(s, 0, sizeof(*s));
    s->days_span = in->n / 24;
    if (in->n < need) {
        sb_errf(s->msg, sizeof(s->msg),
                "hourly baseline needs 365 days (8760 hours; CalTRACK 3.7.5 fits every "
                "calendar month), has %zu hours", in->n);
        return 0;
    }
    for (size_t i = in->n - need; i < in->n; i++) {
        int64_t day;
        int hour;
        sb_mv__local(o->tz, in->t0 + 3600 * (int64_t)i, &day, &hour);
        int mo = sb_mv__month(day);
        int good = sb_mv__reading(in->kwh[i], o->gas) && isfinite(in->temp_c[i]);
        tot[mo]++;
        ok[mo] += (size_t)good;
        s->days_valid += (size_t)good;
    }
    s->days_valid /= 24;
    s->coverage = 1;
    for (int mo = 0; mo < SB_MV_MONTHS; mo++) {
        double c = tot[mo] ? (double)ok[mo] / (double)tot[mo] : 0;
        if (c < s->coverage || !s->worst_month) {
            s->coverage = c;
            s->worst_month = mo + 1;
        }
    }
    if (!(s->coverage > MV_HOURLY_MONTH_COV)) {
        int mo = s->worst_month - 1;
        sb_errf(s->msg, sizeof(s->msg),
                "CalTRACK 2.2.1.2: the hourly baseline needs more than 90 %% of the hours of "
                "every calendar month, %s has %.1f %% (%zu of %zu)",
                month_name[mo], 100.0 * s->coverage, ok[mo], tot[mo]);
        return 0;
    }
    s->ok = 1;
    return 0;
}

/* Hourly arrays shared by fit and predict. */
struct hwork {
    double  *y, *w, *yhat, *p1;
    uint8_t *how;
    int8_t  *mon;
};

static void hwork_free(struct hwork *h)
{
    free(h->y); free(h->w); free(h->yhat); free(h->p1); free(h->how); free(h->mon);
}

static int hwork_alloc(struct hwork *h, size_t n)
{
    memset(h, 0, sizeof(*h));
    size_t k = n ? n : 1;
    h->y = malloc(sizeof(double) * k);
    h->w = malloc(sizeof(double) * k);
    h->yhat = malloc(sizeof(double) * k);
    h->p1 = malloc(sizeof(double) * k);
    h->how = malloc(k);
    h->mon = malloc(k);
    return h->y && h->w && h->yhat && h->p1 && h->how && h->mon ? 0 : SB_ENOMEM;
}

/* Predicts the hours of calendar month k (all hours when k < 0) with model t. */
static void predict_month(const struct sb_towt *t, const struct sb_mv_input *in,
                          const struct hwork *h, int k, double *out)
{
    for (size_t i = 0; i < in->n; i++)
        if (k < 0 || h->mon[i] == k)
            sb_towt_predict(t, &in->temp_c[i], &h->how[i], 1, &out[i]);
}

/* Out-of-sample error of calendar month k (refit without it). */
static void block_err(const struct sb_mv_input *in, struct hwork *h, int k, int single,
                      const struct sb_towt_opts *to, double *bsum, double *bcnt)
{
    struct sb_towt *t = NULL;

    month_weights(h->mon, in->n, k, single, 1, h->w);
    if (sb_towt_fit(h->y, in->temp_c, h->how, h->w, in->n, to, &t, NULL, 0))
        return;
    predict_month(t, in, h, k, h->p1);
    for (size_t i = 0; i < in->n; i++) {
        if (h->mon[i] != k || !isfinite(h->y[i]) || !isfinite(h->p1[i]))
            continue;
        bsum[k] += h->y[i] - h->p1[i];
        bcnt[k] += 1;
    }
    sb_towt_free(t);
}

static int fit_models(struct sb_mv_model *m, const struct sb_mv_input *in, struct hwork *h,
                      int single, const struct sb_towt_opts *to, char *err, size_t errlen)
{
    char e[200] = "";
    int rc = 0;

    for (int k = 0; k < (single ? 1 : SB_MV_MONTHS) && !rc; k++) {
        month_weights(h->mon, in->n, k, single, 0, h->w);
        rc = sb_towt_fit(h->y, in->temp_c, h->how, h->w, in->n, to, &m->towt[k], e, sizeof(e));
        if (rc)
            sb_errf(err, errlen, "CalTRACK hourly: %s model: %s",
                    single ? "365-day" : month_name[k], e);
    }
    return rc;
}

/* Whole-year drift probe: the CalTRACK daily model's month-out errors on the
 * baseline summed to local days, as mean error per hour.  The month models
 * cannot serve: predicting month k from months k-1 and k+1 cancels a linear
 * trend, which is exactly what the probe must see. */
static int drift_probe(const struct sb_mv_model *m, const struct sb_mv_input *in, double *probe)
{
    size_t cap = in->n / 23 + 2, nd = 0;
    double *kd = malloc(sizeof(double) * cap), *td = malloc(sizeof(double) * cap);
    double bsum[SB_MV_MONTHS], bcnt[SB_MV_MONTHS];
    struct sb_mv_opts o = { .gas = m->gas };
    int64_t d0 = 0;
    int rc = SB_ENOMEM;

    if (!kd || !td)
        goto out;
    if ((rc = sb_mv_to_daily(in, m->tz, m->gas, kd, td, cap, &d0, &nd)))
        goto out;
    struct sb_mv_input din = { SB_MV_DAY, d0, nd, kd, td };
    if ((rc = sb_mv__daily_blocks(&din, &o, bsum, bcnt)))
        goto out;
    for (int k = 0; k < SB_MV_MONTHS; k++)
        probe[k] = bcnt[k] > 0 ? bsum[k] / bcnt[k] / 24 : NAN;
out:
    free(kd);
    free(td);
    return rc;
}

int sb_mv__hourly_fit(struct sb_mv_model *m, const struct sb_mv_input *in, int single,
                      int blocks, char *err, size_t errlen)
{
    struct sb_towt_opts to;
    struct hwork h;
    double bsum[SB_MV_MONTHS] = {0}, bcnt[SB_MV_MONTHS] = {0}, probe[SB_MV_MONTHS];
    int rc;

    caltrack_knots(&to);
    if ((rc = hwork_alloc(&h, in->n)))
        goto out;
    calendar(m, in, h.how, h.mon);
    for (size_t i = 0; i < in->n; i++)
        h.y[i] = sb_mv__reading(in->kwh[i], m->gas) ? in->kwh[i] : NAN;
    m->info.single = single;
    m->origin = in->t0;
    if ((rc = fit_models(m, in, &h, single, &to, err, errlen)))
        goto out;
    for (int k = 0; k < SB_MV_MONTHS; k++)
        predict_month(m->towt[single ? 0 : k], in, &h, k, h.yhat);
    for (size_t i = 0; i < in->n; i++) {
        if (!isfinite(h.y[i]) || !isfinite(h.yhat[i]))
            continue;
        m->block_t[h.mon[i]] += sb_mv__months_since(m, in, i);
        m->block_n[h.mon[i]] += 1;
    }
    for (int k = 0; blocks && k < SB_MV_MONTHS; k++)
        block_err(in, &h, k, single, &to, bsum, bcnt);
    if (blocks && (rc = drift_probe(m, in, probe)))
        goto out;
    int p = 0;
    for (int k = 0; k < (single ? 1 : SB_MV_MONTHS); k++)
        p += sb_towt_nparams(m->towt[k]);
    /* the month models share their data; each hour is predicted by one of them,
     * so Guideline 14's p is the parameters of one (average) month model */
    m->info.n_params = single ? p : (p + SB_MV_MONTHS / 2) / SB_MV_MONTHS;
    sb_mv__finish_info(m, in, h.y, h.yhat, blocks ? bsum : NULL, blocks ? bcnt : NULL,
                       blocks ? probe : NULL);
out:
    hwork_free(&h);
    return rc;
}

int sb_mv__hourly_predict(const struct sb_mv_model *m, const struct sb_mv_input *in,
                          double *yhat)
{
    struct hwork h;
    int rc;

    if ((rc = hwork_alloc(&h, in->n)))
        goto out;
    calendar(m, in, h.how, h.mon);
    for (size_t i = 0; i < in->n; i++)
        yhat[i] = NAN;
    for (int k = 0; k < SB_MV_MONTHS; k++)
        predict_month(m->towt[m->info.single ? 0 : k], in, &h, k, yhat);
out:
    hwork_free(&h);
    return rc;
}

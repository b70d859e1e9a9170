/*
 * bench_forecast.c - accuracy and speed of the load forecaster
 * (src/analytics/forecast.h) on REAL data: three University of Cambridge
 * buildings (hourly electricity, UTC, kWh; 0 = missing) with the Bedford
 * weather station (bench/analytics/data/README.md).
 *
 * Protocol (default, "test"): train on 2017-2018, forecast every day of 2019
 * from local midnight (Europe/London) 1..72 h ahead.  The "temperature
 * forecast" is the MEASURED 2019 Bedford temperature (a perfect forecast:
 * real forecast error would add to every weather-driven model's error).
 * No retraining during 2019 unless --retrain-monthly (then a sliding
 * 2-year window ending at each month's start).  With --validate: train on
 * 2017, test on 2018 - the only split used to choose features and
 * hyper-parameters; 2019 is never used for a choice.
 *
 * Each model is the same facade with its candidate set forced: "chosen" =
 * all candidates (the product's behaviour), "gbm", "towt", "naive_day"
 * (same hour yesterday; for h > 24 the same hour of the latest day before
 * the origin).  Scores: ASHRAE Guideline 14 CV(RMSE) and NMBE with p = 0
 * (out of sample), MAPE, and the share of actuals inside the 90 %
 * interval, over h 1-24 ("day-ahead") and h 1-72.
 *
 * Calendar: UK (England & Wales) bank holidays 2016-2019 as published at
 * https://www.gov.uk/bank-holidays, plus the University's Christmas
 * closure, taken as 24 Dec - 1 Jan inclusive (the data show weekday load
 * falling to the weekend level in b40 and b105 over those days).
 *
 * Output: a table on stderr-free stdout, and RESULT lines (bench/run).
 * Single-threaded (XGBoost nthread=1; run with OMP_NUM_THREADS=1).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/forecast.h"
#include "analytics/stats.h"
#include "core/tz.h"
#include "data_cambridge.h"

#define DATA_DIR "bench/analytics/data/cambridge"
#define NB 3
#define NCFG 4
#define H 72

static const char *const buildings[NB] = {"b33", "b40", "b105"};

enum { CFG_CHOSEN, CFG_GBM, CFG_TOWT, CFG_NAIVE };
static const char *const cfg_names[NCFG] = {"chosen", "gbm", "towt", "naive_day"};
static const unsigned cfg_cand[NCFG] = {0, 1u << SB_FC_GBM, 1u << SB_FC_TOWT,
                                        1u << SB_FC_NAIVE_DAY};

/* gov.uk/bank-holidays, England and Wales, 2016-2019 (y, m, d). */
static const int bank_holidays[][3] = {
    {2016, 1, 1},  {2016, 3, 25}, {2016, 3, 28}, {2016, 5, 2},  {2016, 5, 30}, {2016, 8, 29},
    {2016, 12, 26}, {2016, 12, 27},
    {2017, 1, 2},  {2017, 4, 14}, {2017, 4, 17}, {2017, 5, 1},  {2017, 5, 29}, {2017, 8, 28},
    {2017, 12, 25}, {2017, 12, 26},
    {2018, 1, 1},  {2018, 3, 30}, {2018, 4, 2},  {2018, 5, 7},  {2018, 5, 28}, {2018, 8, 27},
    {2018, 12, 25}, {2018, 12, 26},
    {2019, 1, 1},  {2019, 4, 19}, {2019, 4, 22}, {2019, 5, 6},  {2019, 5, 27}, {2019, 8, 26},
    {2019, 12, 25}, {2019, 12, 26},
};

struct knobs {
    int validate;          /* train 2017, test 2018 */
    int retrain_monthly;
    int only;              /* -1 = all configs, else one */
    int months;            /* print per-month diagnostics */
    struct sb_fc_opts fc;  /* facade options (gbm knobs inside) */
};

static int is_holiday(int64_t day)
{
    int64_t y;
    unsigned m, d;
    sb_civil_from_days(day, &y, &m, &d);
    if ((m == 12 && d >= 24) || (m == 1 && d == 1))
        return 1;   /* University Christmas closure */
    for (size_t k = 0; k < sizeof(bank_holidays) / sizeof(bank_holidays[0]); k++)
        if (bank_holidays[k][0] == y && bank_holidays[k][1] == (int)m &&
            bank_holidays[k][2] == (int)d)
            return 1;
    return 0;
}

/* Local hour of week and holiday flag of every hour (Europe/London). */
static void calendar(const struct sb_tz *tz, int64_t start, size_t n, uint8_t *how, uint8_t *hol)
{
    for (size_t i = 0; i < n; i++) {
        int64_t u = start + 3600 * (int64_t)i, l = u + sb_tz_offset(tz, u);
        int64_t day = l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
        int hour = (int)((l - day * 86400) / 3600);
        int wday = (int)(((day + 3) % 7 + 7) % 7);   /* 1970-01-01: Thursday */
        how[i] = (uint8_t)(wday * 24 + hour);
        hol[i] = (uint8_t)is_holiday(day);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t hour_of(const struct cam_series *c, int y, int m, int d)
{
    int64_t day = sb_days_from_civil(y, (unsigned)m, (unsigned)d);
    return (size_t)((day * 86400 - c->start_utc) / 3600);
}

static int month_of(const struct cam_series *c, size_t j)
{
    int64_t y;
    unsigned m, d;
    sb_civil_from_days((c->start_utc + 3600 * (int64_t)j) / 86400, &y, &m, &d);
    return (int)m;
}

/* Forecast/actual pairs of one model over the test year. */
struct scored {
    double *y, *p, *lo, *hi;
    int    *h;
    int    *mon;       /* month 1..12 of the target (diagnostics) */
    size_t  n;
    double  fit_ms_gbm, fit_ms_towt, train_ms, pred_ms;
    int     npred, chosen[SB_FC_NMODELS], used[SB_FC_NMODELS];
    double  years;
};

struct metrics {
    double cv, nmbe, mape, cov;
};

static struct metrics score(const struct scored *s, int hmax)
{
    double *y = calloc(s->n + 1, sizeof(double)), *p = calloc(s->n + 1, sizeof(double));
    size_t k = 0, in = 0, nc = 0;
    struct metrics m = {NAN, NAN, NAN, NAN};
    struct sb_fit_stats st;
    for (size_t i = 0; i < s->n; i++) {
        if (s->h[i] > hmax)
            continue;
        y[k] = s->y[i];
        p[k++] = s->p[i];
        if (isfinite(s->y[i]) && isfinite(s->lo[i])) {
            in += s->y[i] >= s->lo[i] && s->y[i] <= s->hi[i];
            nc++;
        }
    }
    if (sb_fit_stats(y, p, k, 0, &st) == 0) {
        m.cv = st.cvrmse;
        m.nmbe = st.nmbe;
        m.mape = st.mape;
    }
    m.cov = nc ? (double)in / (double)nc : NAN;
    free(y);
    free(p);
    return m;
}

/* The series [lo, hi) of the building as the facade sees it. */
static struct sb_load_series view(const struct cam_series *c, const uint8_t *how,
                                  const uint8_t *hol, size_t lo, size_t hi)
{
    return (struct sb_load_series){c->load + lo, c->temp + lo, how + lo, hol + lo, hi - lo,
                                   c->start_utc + 3600 * (int64_t)lo};
}

static int train(const struct cam_series *c, const uint8_t *how, const uint8_t *hol, size_t lo,
                 size_t hi, const struct sb_fc_opts *o, struct sb_forecaster **f,
                 struct scored *s, const char *b, const char *cfg)
{
    struct sb_fc_report rep;
    struct sb_load_series v = view(c, how, hol, lo, hi);
    double t0 = now_ms();
    int rc = sb_fc_train(&v, o, f, &rep);
    s->train_ms += now_ms() - t0;
    if (rc) {
        fprintf(stderr, "%s %s: train failed: %s\n", b, cfg, rep.message);
        return rc;
    }
    s->fit_ms_gbm += rep.fit_ms_gbm;
    s->fit_ms_towt += rep.fit_ms_towt;
    s->years += (double)(hi - lo) / 8760.0;
    s->chosen[rep.chosen]++;
    fprintf(stderr, "  %-4s %-9s %s (bt cov %.3f)\n", b, cfg, rep.message,
            rep.bt[rep.chosen][SB_FC_NBUCKETS].coverage);
    return 0;
}

/* Forecasts from local midnight of every day in [t0, t1), 72 h ahead. */
static int run_cfg(const struct cam_series *c, const uint8_t *how, const uint8_t *hol, size_t t0,
                   size_t t1, const struct knobs *k, int cfg, const char *b, struct scored *s)
{
    struct sb_fc_opts o = k->fc;
    struct sb_forecaster *f = NULL;
    double pt[H], lo[H], hi[H];
    int model, rc = 0, month = -1;

    o.candidates = cfg_cand[cfg];
    for (size_t org = t0; org < t1; org++) {
        if (how[org] % 24 != 0 || (org > 0 && how[org - 1] % 24 == 0))
            continue;   /* local midnight (the first hour whose local hour is 0) */
        int64_t y;
        unsigned m, d;
        sb_civil_from_days((c->start_utc + 3600 * (int64_t)org + 43200) / 86400, &y, &m, &d);
        if (!f || (k->retrain_monthly && (int)m != month)) {
            sb_fc_free(f);
            f = NULL;
            size_t wlo = k->retrain_monthly && org > 2 * 8760 ? org - 2 * 8760 : 0;
            if ((rc = train(c, how, hol, wlo, org, &o, &f, s, b, cfg_names[cfg])))
                return rc;
            month = (int)m;
        }
        int hh = org + H <= c->n ? H : (int)(c->n - org);
        struct sb_load_series v = view(c, how, hol, 0, c->n);
        double tp = now_ms();
        rc = sb_fc_predict(f, &v, org, hh, pt, lo, hi, &model, NULL, 0);
        s->pred_ms += now_ms() - tp;
        s->npred++;
        if (rc)
            break;
        s->used[model]++;
        for (int h = 0; h < hh; h++) {
            size_t j = org + (size_t)h;
            if (j >= t1)
                break;   /* score inside the test year only */
            double yv = c->load[j] == 0 ? NAN : c->load[j];   /* archive: 0 = missing */
            s->y[s->n] = yv;
            s->p[s->n] = pt[h];
            s->lo[s->n] = lo[h];
            s->hi[s->n] = hi[h];
            s->mon[s->n] = month_of(c, j);
            s->h[s->n++] = h + 1;
        }
    }
    sb_fc_free(f);
    return rc;
}

/* Per-month CV(RMSE) and coverage over h 1-24 (--months). */
static void print_months(const struct scored *s)
{
    for (int m = 1; m <= 12; m++) {
        struct scored t = *s;
        size_t k = 0;
        t.y = malloc(s->n * sizeof(double));
        t.p = malloc(s->n * sizeof(double));
        t.lo = malloc(s->n * sizeof(double));
        t.hi = malloc(s->n * sizeof(double));
        t.h = malloc(s->n * sizeof(int));
        for (size_t i = 0; i < s->n; i++) {
            if (s->mon[i] != m)
                continue;
            t.y[k] = s->y[i]; t.p[k] = s->p[i]; t.lo[k] = s->lo[i]; t.hi[k] = s->hi[i];
            t.h[k++] = s->h[i];
        }
        t.n = k;
        struct metrics da = score(&t, 24);
        printf("   month %2d: CV %5.2f NMBE %6.2f cov %5.1f\n", m, 100 * da.cv, 100 * da.nmbe,
               100 * da.cov);
        free(t.y); free(t.p); free(t.lo); free(t.hi); free(t.h);
    }
}

static void print_row(const char *b, const char *cfg, const struct scored *s)
{
    struct metrics da = score(s, 24), h72 = score(s, 72);
    printf("%-6s %-10s | %6.2f %6.2f %6.2f | %6.2f %6.2f %6.2f | %5.1f %5.1f\n", b, cfg,
           100 * da.cv, 100 * da.nmbe, 100 * da.mape, 100 * h72.cv, 100 * h72.nmbe,
           100 * h72.mape, 100 * da.cov, 100 * h72.cov);
}

static double median3(double a, double b, double c)
{
    double v[3] = {a, b, c};
    return sb_quantile(v, 3, 0.5);
}

static void parse_args(int argc, char **argv, struct knobs *k)
{
    sb_fc_defaults(&k->fc);
    k->fc.clean.zero_is_missing = 1;   /* the archive's convention */
    k->only = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--validate")) k->validate = 1;
        else if (!strcmp(a, "--retrain-monthly")) k->retrain_monthly = 1;
        else if (!strcmp(a, "--months")) k->months = 1;
        else if (!strcmp(a, "--only")) { k->only = atoi(v); i++; }
        else if (!strcmp(a, "--rounds")) { k->fc.gbm.rounds = atoi(v); i++; }
        else if (!strcmp(a, "--depth")) { k->fc.gbm.max_depth = atoi(v); i++; }
        else if (!strcmp(a, "--eta")) { k->fc.gbm.eta = atof(v); i++; }
        else if (!strcmp(a, "--subsample")) { k->fc.gbm.subsample = atof(v); i++; }
        else if (!strcmp(a, "--colsample")) { k->fc.gbm.colsample = atof(v); i++; }
        else if (!strcmp(a, "--mcw")) { k->fc.gbm.min_child_weight = atof(v); i++; }
        else if (!strcmp(a, "--maxbin")) { k->fc.gbm.max_bin = atoi(v); i++; }
        else if (!strcmp(a, "--stride")) { k->fc.gbm.origin_stride = atoi(v); i++; }
        else if (!strcmp(a, "--hpo")) { k->fc.gbm.horizons_per_origin = atoi(v); i++; }
        else if (!strcmp(a, "--target")) { k->fc.gbm.target = atoi(v); i++; }
        else if (!strcmp(a, "--stack")) { k->fc.gbm.stack_towt = atoi(v); i++; }
        else if (!strcmp(a, "--btdays")) { k->fc.backtest_days = atoi(v); i++; }
        else if (!strcmp(a, "--btstride")) { k->fc.backtest_stride = atoi(v); i++; }
        else if (!strcmp(a, "--level")) { k->fc.level = atof(v); i++; }
        else { fprintf(stderr, "unknown option %s\n", a); exit(2); }
    }
}

int main(int argc, char **argv)
{
    struct knobs k = {0};
    static struct scored sc[NB][NCFG];
    const struct sb_tz *tz = sb_tz_get("Europe/London");

    parse_args(argc, argv, &k);
    if (!tz) {
        fprintf(stderr, "no Europe/London zone\n");
        return 1;
    }
    int ytest = k.validate ? 2018 : 2019, ylast = ytest;
    printf("# sbems load forecast benchmark: train 2017-%d, test %d, origins at local midnight,"
           " h 1-72, measured temperature as the forecast, %s\n",
           ytest - 1, ytest, k.retrain_monthly ? "retrained monthly" : "no retraining");
    for (int b = 0; b < NB; b++) {
        struct cam_series c;
        if (cam_load(DATA_DIR, buildings[b], 2017, ylast, &c))
            return 1;
        uint8_t *how = malloc(c.n), *hol = malloc(c.n);
        calendar(tz, c.start_utc, c.n, how, hol);
        size_t t0 = hour_of(&c, ytest, 1, 1), t1 = c.n;
        for (int cfg = 0; cfg < NCFG; cfg++) {
            if (k.only >= 0 && cfg != k.only)
                continue;
            struct scored *s = &sc[b][cfg];
            size_t cap = 400 * H;
            s->y = malloc(cap * sizeof(double));
            s->p = malloc(cap * sizeof(double));
            s->lo = malloc(cap * sizeof(double));
            s->hi = malloc(cap * sizeof(double));
            s->h = malloc(cap * sizeof(int));
            s->mon = malloc(cap * sizeof(int));
            if (run_cfg(&c, how, hol, t0, t1, &k, cfg, buildings[b], s))
                return 1;
        }
        free(how);
        free(hol);
        cam_free(&c);
    }
    printf("\n%-6s %-10s | %-20s | %-20s | %-11s\n", "", "", "day-ahead (h 1-24)",
           "72 h (h 1-72)", "90% PI cov");
    printf("%-6s %-10s | %6s %6s %6s | %6s %6s %6s | %5s %5s\n", "bldg", "model", "CV%",
           "NMBE%", "MAPE%", "CV%", "NMBE%", "MAPE%", "1-24", "1-72");
    for (int cfg = 0; cfg < NCFG; cfg++) {
        if (k.only >= 0 && cfg != k.only)
            continue;
        for (int b = 0; b < NB; b++) {
            print_row(buildings[b], cfg_names[cfg], &sc[b][cfg]);
            if (k.months)
                print_months(&sc[b][cfg]);
        }
        struct metrics da[NB], l[NB];
        for (int b = 0; b < NB; b++) {
            da[b] = score(&sc[b][cfg], 24);
            l[b] = score(&sc[b][cfg], 72);
        }
        printf("%-6s %-10s | %6.2f %6.2f %6.2f | %6.2f %6.2f %6.2f | %5.1f %5.1f\n", "MEDIAN",
               cfg_names[cfg], 100 * median3(da[0].cv, da[1].cv, da[2].cv),
               100 * median3(da[0].nmbe, da[1].nmbe, da[2].nmbe),
               100 * median3(da[0].mape, da[1].mape, da[2].mape),
               100 * median3(l[0].cv, l[1].cv, l[2].cv),
               100 * median3(l[0].nmbe, l[1].nmbe, l[2].nmbe),
               100 * median3(l[0].mape, l[1].mape, l[2].mape),
               100 * median3(da[0].cov, da[1].cov, da[2].cov),
               100 * median3(l[0].cov, l[1].cov, l[2].cov));
        printf("RESULT name=forecast_%s_dayahead_cvrmse_median value=%.2f unit=%%\n",
               cfg_names[cfg], 100 * median3(da[0].cv, da[1].cv, da[2].cv));
        printf("RESULT name=forecast_%s_72h_cvrmse_median value=%.2f unit=%%\n", cfg_names[cfg],
               100 * median3(l[0].cv, l[1].cv, l[2].cv));
    }
    printf("\n%-6s %-10s | %14s %14s %16s %12s | %s\n", "bldg", "model", "GBM fit ms/my",
           "TOWT fit ms/my", "train total ms", "ms/forecast", "models chosen / used");
    for (int cfg = 0; cfg < NCFG; cfg++) {
        if (k.only >= 0 && cfg != k.only)
            continue;
        for (int b = 0; b < NB; b++) {
            struct scored *s = &sc[b][cfg];
            printf("%-6s %-10s | %14.1f %14.2f %16.0f %12.3f |", buildings[b], cfg_names[cfg],
                   s->fit_ms_gbm / s->years, s->fit_ms_towt / s->years, s->train_ms,
                   s->pred_ms / s->npred);
            for (int m = 0; m < SB_FC_NMODELS; m++)
                if (s->chosen[m] || s->used[m])
                    printf(" %s %d/%d", sb_fc_model_name(m), s->chosen[m], s->used[m]);
            printf("\n");
        }
    }
    return 0;
}

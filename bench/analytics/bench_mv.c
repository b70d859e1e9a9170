/*
 * bench_mv.c - benchmark of the M&V module (src/analytics/mv.h).
 *
 *   1. Cambridge (real hourly data, 3 buildings): fit on 2017, predict 2018;
 *      out-of-sample CV(RMSE) and NMBE per meter, hourly and daily methods.
 *   2. OpenEEmeter Illinois samples (simulated, programmed 10 % saving):
 *      estimated saving against the known 10 %.
 *   3. Honest uncertainty: known savings injected into the real reporting
 *      years of every Cambridge building x fuel x (baseline, reporting) year
 *      pair; how often the stated 90 % intervals contain the truth.
 *   4. Fit time per meter-year.
 *
 * Usage: bench_mv [data-dir]   (default bench/analytics/data)
 * Single-threaded; reads only the data directory.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "analytics/mv.h"
#include "analytics/stats.h"
#include "core/err.h"
#include "core/tz.h"

#define NB 3
#define CAM_Y0 2017
#define CAM_NY 3
#define YEAR_H (24 * 365)
#define CAM_H (YEAR_H * CAM_NY)        /* 2017..2019, no leap year */
#define QUARTERS 4
#define SCEN 4
#define MAXCASE 64
#define MV_DAYS 365

static const char *bld[NB] = { "b33", "b40", "b105" };
static const char *ddir = "bench/analytics/data";

/* ---- small helpers -------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    if (n <= 0)
        return NAN;
    qsort(v, (size_t)n, sizeof(double), cmp_dbl);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double *nan_array(size_t n)
{
    double *a = malloc(sizeof(double) * n);
    for (size_t i = 0; a && i < n; i++)
        a[i] = NAN;
    return a;
}

/* Calls fn(line, ctx) for every line after the header of a .csv.gz. */
static int gz_lines(const char *path, void (*fn)(const char *, void *), void *ctx)
{
    char line[512];
    gzFile f = gzopen(path, "rb");
    if (!f)
        return -1;
    int first = 1;
    while (gzgets(f, line, sizeof line)) {
        if (first) {
            first = 0;
            continue;
        }
        fn(line, ctx);
    }
    gzclose(f);
    return 0;
}

static double parse_val(const char *s)
{
    if (!s || !*s || !strncmp(s, "nan", 3) || !strncmp(s, "NaN", 3))
        return NAN;
    char *e;
    double v = strtod(s, &e);
    return e == s ? NAN : v;
}

/* ---- Cambridge -------------------------------------------------------------- */

struct cam_ctx {
    double *v;      /* CAM_H hours from 2017-01-01T00Z */
    int col;        /* value column (1-based after the timestamp) */
    int zero_nan;   /* the archive stored missing reads as 0 (data README) */
    int64_t t0;
};

static void cam_line(const char *line, void *vp)
{
    struct cam_ctx *c = vp;
    int y, mo, d, h, mi, se;
    if (sscanf(line, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &se) != 6)
        return;
    int64_t t = sb_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600;
    int64_t k = (t - c->t0) / 3600;
    if (k < 0 || k >= CAM_H)
        return;
    const char *p = line;
    for (int j = 0; j < c->col && p; j++)
        if ((p = strchr(p, ',')))
            p++;
    double v = parse_val(p);
    c->v[k] = c->zero_nan && v == 0 ? NAN : v;
}

static int64_t cam_t0(void)
{
    return sb_days_from_civil(CAM_Y0, 1, 1) * 86400;
}

/* Hourly kWh of a building's meter, 2017..2019; NAN where no file / missing. */
static double *cam_meter(const char *b, int gas)
{
    struct cam_ctx c = { nan_array(CAM_H), 1, 1, cam_t0() };
    char path[512];
    for (int y = CAM_Y0; c.v && y < CAM_Y0 + CAM_NY; y++) {
        snprintf(path, sizeof path, "%s/cambridge/%s/UCam_Building_%s%s_%d.csv.gz", ddir,
                 gas ? "gas" : "electricity", b, gas ? "_gas" : "", y);
        gz_lines(path, cam_line, &c);
    }
    return c.v;
}

static double *cam_weather(void)
{
    struct cam_ctx c = { nan_array(CAM_H), 1, 0, cam_t0() };
    char path[512];
    for (int y = CAM_Y0; c.v && y < CAM_Y0 + CAM_NY; y++) {
        snprintf(path, sizeof path, "%s/cambridge/weather-bedford/bedford_%d.csv.gz", ddir, y);
        gz_lines(path, cam_line, &c);
    }
    if (c.v)
        sb_mv_fill_temp(c.v, CAM_H);
    return c.v;
}

static size_t year_hours(const double *v, int yi)
{
    size_t k = 0;
    for (size_t i = 0; i < YEAR_H; i++)
        k += isfinite(v[(size_t)yi * YEAR_H + i]);
    return k;
}

static struct sb_mv_input cam_year(const double *kwh, const double *t, int yi)
{
    struct sb_mv_input in = { SB_MV_HOUR, cam_t0() + (int64_t)yi * YEAR_H * 3600, YEAR_H,
                              kwh + (size_t)yi * YEAR_H, t + (size_t)yi * YEAR_H };
    return in;
}

/* Daily roll-up of an hourly input into caller arrays of 400. */
static struct sb_mv_input to_days(const struct sb_mv_input *h, const struct sb_tz *tz, int gas,
                                  double *kd, double *td)
{
    struct sb_mv_input d = { SB_MV_DAY, 0, 0, kd, td };
    size_t nd = 0;
    int64_t d0 = 0;
    if (sb_mv_to_daily(h, tz, gas, kd, td, 400, &d0, &nd) == 0) {
        d.t0 = d0;
        d.n = nd;
    }
    return d;
}

/* ---- section 1: fit 2017, predict 2018 ------------------------------------- */

struct oos {
    double cv, nmbe;      /* out of sample */
    double cv_in;         /* in-sample CV(RMSE) */
    int    g14;           /* in-sample Guideline 14 verdict */
    char   err[SB_MV_MSG];
};

static void oos_one(const struct sb_mv_input *b, const struct sb_mv_input *r,
                    const struct sb_mv_opts *o, struct oos *res)
{
    struct sb_mv_model *m = NULL;
    struct sb_mv_model_info info;
    struct sb_fit_stats st;
    double *yhat = malloc(sizeof(double) * r->n), *y = malloc(sizeof(double) * r->n);

    res->cv = res->nmbe = res->cv_in = NAN;
    res->g14 = 0;
    res->err[0] = 0;
    if (!yhat || !y || sb_mv_fit(b, o, &m, res->err, sizeof res->err))
        goto out;
    sb_mv_model_info(m, &info);
    res->cv_in = info.fit.cvrmse;
    res->g14 = info.g14.pass;
    sb_mv_predict(m, r, yhat);
    for (size_t i = 0; i < r->n; i++)
        y[i] = isfinite(r->kwh[i]) && (o->gas || r->kwh[i] != 0) ? r->kwh[i] : NAN;
    if (sb_fit_stats(y, yhat, r->n, 0, &st) == 0) {
        res->cv = st.cvrmse;
        res->nmbe = st.nmbe;
    }
out:
    sb_mv_model_free(m);
    free(yhat);
    free(y);
}

static void section1(double *const *elec, double *const *gas, const double *temp,
                     const struct sb_tz *tz)
{
    double hcv[8], dcv[8], hcv_e[4], dcv_e[4];
    int nh = 0, nd = 0, nhe = 0, nde = 0;

    printf("\n## 1. Cambridge: fit on 2017, predict 2018 (out of sample)\n\n");
    printf("CV(RMSE), NMBE of the 2018 predictions (NMBE > 0: model under-predicts); "
           "in-sample CV and Guideline 14 verdict in brackets.\n\n");
    printf("| meter | hourly CV(RMSE) | hourly NMBE | daily CV(RMSE) | daily NMBE |\n");
    printf("|---|---|---|---|---|\n");
    for (int b = 0; b < NB; b++) {
        for (int g = 0; g < 2; g++) {
            double *kwh = g ? gas[b] : elec[b];
            if (year_hours(kwh, 0) < YEAR_H / 2 || year_hours(kwh, 1) < YEAR_H / 2)
                continue;
            struct sb_mv_input hb = cam_year(kwh, temp, 0), hr = cam_year(kwh, temp, 1);
            double kb[400], tb[400], kr[400], trr[400];
            struct sb_mv_input db = to_days(&hb, tz, g, kb, tb), dr = to_days(&hr, tz, g, kr, trr);
            struct sb_mv_opts oh = { .method = SB_MV_HOURLY, .gas = g, .tz = tz, .no_blocks = 1 };
            struct sb_mv_opts od = { .method = SB_MV_DAILY, .gas = g, .tz = tz, .no_blocks = 1 };
            struct oos h, d;
            oos_one(&hb, &hr, &oh, &h);
            oos_one(&db, &dr, &od, &d);
            char hc[SB_MV_MSG + 64], dc[SB_MV_MSG + 64];
            if (h.err[0])
                snprintf(hc, sizeof hc, "refused: %s | ", h.err);
            else
                snprintf(hc, sizeof hc, "%.1f %% [%.1f %%, G14 %s] | %+.1f %%", 100 * h.cv,
                         100 * h.cv_in, h.g14 ? "pass" : "fail", 100 * h.nmbe);
            if (d.err[0])
                snprintf(dc, sizeof dc, "refused: %s | ", d.err);
            else
                snprintf(dc, sizeof dc, "%.1f %% [%.1f %%, G14 %s] | %+.1f %%", 100 * d.cv,
                         100 * d.cv_in, d.g14 ? "pass" : "fail", 100 * d.nmbe);
            printf("| %s %s | %s | %s |\n", bld[b], g ? "gas" : "elec", hc, dc);
            if (isfinite(h.cv)) {
                hcv[nh++] = h.cv;
                if (!g)
                    hcv_e[nhe++] = h.cv;
            }
            if (isfinite(d.cv)) {
                dcv[nd++] = d.cv;
                if (!g)
                    dcv_e[nde++] = d.cv;
            }
        }
    }
    printf("| **median, electricity** | **%.1f %%** | | **%.1f %%** | |\n",
           100 * median(hcv_e, nhe), 100 * median(dcv_e, nde));
    printf("| median, all meters | %.1f %% | | %.1f %% | |\n", 100 * median(hcv, nh),
           100 * median(dcv, nd));
    printf("\nReference (established tool, CalTRACK hourly on these buildings): 9.7 %% median "
           "hourly CV(RMSE).\n");
}

/* ---- eemeter Illinois samples ------------------------------------------------ */

struct il_ctx {
    double *v;
    int64_t t0;       /* UTC s of index 0 */
    size_t n;
    int daily;        /* index by local day instead of UTC hour */
    int fahrenheit;
};

/* "2015-11-22T00:00:00-06:00,value" */
static void il_line(const char *line, void *vp)
{
    struct il_ctx *c = vp;
    int y, mo, d, h, mi, se, oh, om;
    char sign;
    if (sscanf(line, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &se, &sign, &oh, &om) != 9)
        return;
    int64_t day = sb_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t off = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    int64_t k = c->daily ? day - c->t0 : (day * 86400 + h * 3600 - off - c->t0) / 3600;
    if (k < 0 || (size_t)k >= c->n)
        return;
    double v = parse_val(strchr(line, ',') ? strchr(line, ',') + 1 : NULL);
    c->v[k] = c->fahrenheit && isfinite(v) ? (v - 32) / 1.8 : v;
}

static const char *json_str(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int64_t civil_of(const char *ymd)
{
    int y, m, d;
    if (sscanf(ymd, "%d-%d-%d", &y, &m, &d) != 3)
        return 0;
    return sb_days_from_civil(y, (unsigned)m, (unsigned)d);
}

struct il_res {
    double est, g14, hon;     /* %, half-widths in points */
    double norm;              /* normalised saving on the baseline year's weather, % */
    int    in_g14, in_hon;
    char   err[SB_MV_MSG];
};

static void il_run(const struct sb_mv_input *b, const struct sb_mv_input *r,
                   const struct sb_mv_opts *o, struct il_res *res)
{
    struct sb_mv_result rr;
    struct sb_mv_normalised nz;
    struct sb_mv_input normal = *b;
    memset(res, 0, sizeof(*res));
    res->est = NAN;
    normal.kwh = NULL;
    if (sb_mv_savings(b, r, &normal, NULL, 0, o, NULL, &rr, NULL, &nz, res->err, sizeof res->err))
        return;
    res->norm = nz.n_used ? 100 * nz.frac : NAN;
    res->est = 100 * rr.frac;
    res->g14 = 100 * rr.g14_half / rr.baseline;
    res->hon = 100 * rr.honest_half / rr.baseline;
    res->in_g14 = fabs(res->est - 10) <= res->g14;
    res->in_hon = fabs(res->est - 10) <= res->hon;
}

static void il_print(const char *id, const char *freq, const struct il_res *r, int *within)
{
    if (!isfinite(r->est)) {
        printf("| %s | %s | refused: %s | | | | | |\n", id, freq, r->err);
        return;
    }
    int ok = fabs(r->est - 10) <= 1;
    *within += ok;
    printf("| %s | %s | %.2f %% | %+.2f | %s | ±%.2f (%s) | ±%.2f (%s) | %.2f %% |\n", id, freq,
           r->est, r->est - 10, ok ? "yes" : "NO", r->g14, r->in_g14 ? "covers" : "misses", r->hon,
           r->in_hon ? "covers" : "misses", r->norm);
}

static void section2(const struct sb_tz *chicago)
{
    static const char *ids[] = { "il-electricity-cdd-hdd", "il-electricity-cdd-only",
                                 "il-gas-hdd-only", "il-gas-intercept-only" };
    char path[512];
    json_error_t je;
    int within = 0, total = 0;

    snprintf(path, sizeof path, "%s/eemeter/metadata.json", ddir);
    json_t *meta = json_load_file(path, 0, &je);
    if (!meta) {
        printf("cannot read %s: %s\n", path, je.text);
        return;
    }
    printf("\n## 2. OpenEEmeter Illinois samples (programmed saving 10 %%)\n\n");
    printf("Baseline: the 365 days before blackout_start_date; reporting: 365 days from "
           "blackout_end_date (metadata.json).  Intervals are 90 %%, in points of saving.  "
           "Normalised: baseline and reporting-period models both on the baseline year's "
           "weather.\n\n");
    printf("| sample | data | avoided-energy saving | error (points) | within ±1 | G14 interval | honest interval | normalised |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (size_t s = 0; s < sizeof(ids) / sizeof(ids[0]); s++) {
        char key[128];
        snprintf(key, sizeof key, "%s-hourly", ids[s]);
        json_t *md = json_object_get(meta, key);
        int gas = !strcmp(json_str(md, "interpretation"), "gas");
        int64_t bl_end = civil_of(json_str(md, "blackout_start_date"));
        int64_t rp_start = civil_of(json_str(md, "blackout_end_date"));
        /* hourly series over the whole file range, indexed from the first hour */
        int64_t t0 = sb_days_from_civil(2015, 11, 22) * 86400 + 6 * 3600;
        size_t n = 24 * 830;
        struct il_ctx tc = { nan_array(n), t0, n, 0, 1 }, mc = { nan_array(n), t0, n, 0, 0 };
        snprintf(path, sizeof path, "%s/eemeter/%s", ddir, json_str(md, "temperature_filename"));
        gz_lines(path, il_line, &tc);
        snprintf(path, sizeof path, "%s/eemeter/%s", ddir, json_str(md, "meter_data_filename"));
        gz_lines(path, il_line, &mc);
        sb_mv_fill_temp(tc.v, n);
        int64_t bu = sb_tz_local_to_utc(chicago, (bl_end - MV_DAYS) * 86400);
        int64_t ru = sb_tz_local_to_utc(chicago, rp_start * 86400);
        size_t bi = (size_t)((bu - t0) / 3600), ri = (size_t)((ru - t0) / 3600);
        struct sb_mv_input hb = { SB_MV_HOUR, bu, YEAR_H, mc.v + bi, tc.v + bi };
        struct sb_mv_input hr = { SB_MV_HOUR, ru, YEAR_H, mc.v + ri, tc.v + ri };
        struct sb_mv_opts oh = { .method = SB_MV_HOURLY, .gas = gas, .tz = chicago };
        struct il_res res;
        il_run(&hb, &hr, &oh, &res);
        il_print(ids[s], "hourly", &res, &within);
        total++;

        /* daily meter file; daily temperature from the hourly one */
        double *tday = nan_array(900), *kday = nan_array(900);
        struct sb_mv_input all = { SB_MV_HOUR, t0, n, NULL, tc.v };
        int64_t d0;
        size_t nd;
        sb_mv_to_daily(&all, chicago, gas, kday, tday, 900, &d0, &nd);
        for (size_t i = 0; i < 900; i++)
            kday[i] = NAN;
        struct il_ctx dc = { kday, d0, nd, 1, 0 };
        snprintf(key, sizeof key, "%s-daily", ids[s]);
        snprintf(path, sizeof path, "%s/eemeter/%s", ddir,
                 json_str(json_object_get(meta, key), "meter_data_filename"));
        gz_lines(path, il_line, &dc);
        size_t dbi = (size_t)(bl_end - MV_DAYS - d0), dri = (size_t)(rp_start - d0);
        struct sb_mv_input db = { SB_MV_DAY, bl_end - MV_DAYS, MV_DAYS, kday + dbi, tday + dbi };
        struct sb_mv_input dr = { SB_MV_DAY, rp_start, MV_DAYS, kday + dri, tday + dri };
        struct sb_mv_opts od = { .method = SB_MV_DAILY, .gas = gas, .tz = chicago };
        il_run(&db, &dr, &od, &res);
        il_print(ids[s], "daily", &res, &within);
        total++;
        free(tc.v);
        free(mc.v);
        free(tday);
        free(kday);
    }
    printf("\nWithin ±1 point of 10 %%: %d of %d.  (OpenEEmeter's own estimates on these "
           "samples: 3.3-10.9 %%.)\n", within, total);
    json_decref(meta);
}

/* ---- section 3: coverage of injected savings --------------------------------- */

struct tally {
    int n, g14, hon, blk;          /* cases, covered by each interval */
    int qn, qg14, qhon, qblk;      /* quarters */
    double w_g14[MAXCASE * SCEN], w_hon[MAXCASE * SCEN]; /* half-widths, % of baseline */
    int nw;
};

/* Saving fraction injected into hour i of the reporting year. */
static double inject(int scen, int64_t utc, double temp, const struct sb_tz *tz)
{
    int64_t local = utc + sb_tz_offset(tz, utc), day = local / 86400;
    int hour = (int)((local % 86400) / 3600), wd = (int)((day + 3) % 7);
    switch (scen) {
    case 0: return 0.05;                                          /* 5 % flat */
    case 1: return wd < 5 && hour >= 8 && hour < 18 ? 0.10 : 0;   /* weekday daytime */
    case 2: return isfinite(temp) && temp > 15 ? 0.08 : 0;        /* above 15 °C */
    default: return 0;
    }
}

static const char *scen_name[SCEN] = { "5 % flat", "10 % weekday 08-18", "8 % above 15 °C",
                                       "0 %" };

static void cover(struct tally *t, const struct sb_mv_result *r, double truth, int quarter)
{
    double err = fabs(r->avoided - truth);
    double v = r->sd_block * r->sd_block + r->sd_drift * r->sd_drift + r->sd_prior * r->sd_prior;
    double blk = v > 0 ? r->honest_half * r->sd_block / sqrt(v) : 0;
    if (quarter) {
        t->qn++;
        t->qg14 += err <= r->g14_half;
        t->qhon += err <= r->honest_half;
        t->qblk += err <= blk;
        return;
    }
    t->n++;
    t->g14 += err <= r->g14_half;
    t->hon += err <= r->honest_half;
    t->blk += err <= blk;
    if (t->nw < MAXCASE * SCEN) {
        t->w_g14[t->nw] = 100 * r->g14_half / r->baseline;
        t->w_hon[t->nw] = 100 * r->honest_half / r->baseline;
        t->nw++;
    }
}

struct fit_times {
    double ms[2][MAXCASE];
    int n[2];
};

/* Truth per interval: original minus injected, where both are used. */
static double truth_sum(const double *orig, const double *inj, const double *adj, size_t lo,
                        size_t hi)
{
    double s = 0;
    for (size_t i = lo; i < hi; i++)
        if (isfinite(orig[i]) && isfinite(inj[i]) && isfinite(adj[i]))
            s += orig[i] - inj[i];
    return s;
}

struct cas {
    int b, gas, yb, yr, method;
    const double *kwh, *temp;
};

static void quarter_measures(const struct cas *c, const struct sb_tz *tz,
                             struct sb_mv_measure *q)
{
    static const unsigned mon[QUARTERS] = { 1, 4, 7, 10 };
    for (int k = 0; k < QUARTERS; k++)
        q[k].start = sb_tz_local_to_utc(tz, sb_days_from_civil(CAM_Y0 + c->yr, mon[k], 1) * 86400);
}

/* One case: fit the baseline year, then each scenario on the reporting year. */
static void run_case(const struct cas *c, const struct sb_tz *tz, struct tally *t,
                     struct fit_times *ft)
{
    struct sb_mv_input hb = cam_year(c->kwh, c->temp, c->yb), hr = cam_year(c->kwh, c->temp, c->yr);
    struct sb_mv_opts o = { .method = c->method, .gas = c->gas, .tz = tz };
    struct sb_mv_model *m = NULL;
    char err[SB_MV_MSG] = "";
    double kb[400], tb[400], inj[YEAR_H], kr[400], tr[400], ki[400], ti[400], adj[YEAR_H];
    struct sb_mv_input db = to_days(&hb, tz, c->gas, kb, tb);
    int daily = c->method == SB_MV_DAILY;

    double t0 = now_ms();
    int rc = sb_mv_fit(daily ? &db : &hb, &o, &m, err, sizeof err);
    double dt = now_ms() - t0;
    printf("| %s %s | %d→%d | %s |", bld[c->b], c->gas ? "gas" : "elec", CAM_Y0 + c->yb,
           CAM_Y0 + c->yr, daily ? "daily" : "hourly");
    if (rc) {
        printf(" refused: %s | | | | | |\n", err);
        return;
    }
    struct sb_mv_model_info info;
    sb_mv_model_info(m, &info);
    printf(" %.1f %% %s |", 100 * info.fit.cvrmse, info.g14.pass ? "pass" : "FAIL");
    if (ft->n[daily] < MAXCASE)
        ft->ms[daily][ft->n[daily]++] = dt;
    struct sb_mv_input dro = to_days(&hr, tz, c->gas, kr, tr);
    for (int s = 0; s < SCEN; s++) {
        for (size_t i = 0; i < YEAR_H; i++)
            inj[i] = hr.kwh[i] * (1 - inject(s, hr.t0 + 3600 * (int64_t)i, hr.temp_c[i], tz));
        struct sb_mv_input hri = hr;
        hri.kwh = inj;
        struct sb_mv_input rep = daily ? to_days(&hri, tz, c->gas, ki, ti) : hri;
        const double *orig = daily ? dro.kwh : hr.kwh;
        struct sb_mv_measure q[QUARTERS];
        struct sb_mv_measure_result mr[QUARTERS];
        struct sb_mv_result r;
        quarter_measures(c, tz, q);
        if (sb_mv_report(m, &rep, &o, q, QUARTERS, adj, &r, mr, err, sizeof err))
            continue;
        double truth = truth_sum(orig, rep.kwh, adj, 0, rep.n);
        cover(&t[s], &r, truth, 0);
        for (int k = 0; k < QUARTERS; k++)
            cover(&t[s], &mr[k].r,
                  truth_sum(orig, rep.kwh, adj, mr[k].first, mr[k].first + mr[k].count), 1);
        if (s == 0)
            printf(" %.2f %% (true %.2f %%) | ±%.2f | ±%.2f (block %.2f, drift %.2f) | %s/%s |\n",
                   100 * r.frac, 100 * truth / r.baseline, 100 * r.g14_half / r.baseline,
                   100 * r.honest_half / r.baseline, 100 * r.sd_block / r.baseline,
                   100 * r.sd_drift / r.baseline,
                   fabs(r.avoided - truth) <= r.g14_half ? "in" : "out",
                   fabs(r.avoided - truth) <= r.honest_half ? "in" : "out");
    }
    sb_mv_model_free(m);
}

static void print_tally(const char *method, struct tally *t)
{
    struct tally all = {0};
    printf("\n%s method — coverage of the stated 90 %% intervals\n\n", method);
    printf("| scenario | annual: G14 | annual: honest | annual: block only | quarterly: G14 | quarterly: honest | quarterly: block only |\n");
    printf("|---|---|---|---|---|---|---|\n");
    for (int s = 0; s < SCEN; s++) {
        printf("| %s | %d/%d | %d/%d | %d/%d | %d/%d | %d/%d | %d/%d |\n", scen_name[s], t[s].g14,
               t[s].n, t[s].hon, t[s].n, t[s].blk, t[s].n, t[s].qg14, t[s].qn, t[s].qhon, t[s].qn,
               t[s].qblk, t[s].qn);
        all.n += t[s].n; all.g14 += t[s].g14; all.hon += t[s].hon; all.blk += t[s].blk;
        all.qn += t[s].qn; all.qg14 += t[s].qg14; all.qhon += t[s].qhon; all.qblk += t[s].qblk;
    }
    double pct = all.n ? 100.0 / all.n : 0, qp = all.qn ? 100.0 / all.qn : 0;
    printf("| **all** | **%.0f %%** | **%.0f %%** | %.0f %% | **%.0f %%** | **%.0f %%** | %.0f %% |\n",
           all.g14 * pct, all.hon * pct, all.blk * pct, all.qg14 * qp, all.qhon * qp,
           all.qblk * qp);
    printf("\nMedian annual half-width (%% of adjusted baseline): G14 %.2f, honest %.2f.\n",
           median(t[0].w_g14, t[0].nw), median(t[0].w_hon, t[0].nw));
}

static void section3(double *const *elec, double *const *gas, const double *temp,
                     const struct sb_tz *tz, struct fit_times *ft)
{
    static const int pairs[3][2] = { { 0, 1 }, { 1, 2 }, { 0, 2 } };
    struct tally th[SCEN], td[SCEN];

    memset(th, 0, sizeof th);
    memset(td, 0, sizeof td);
    printf("\n## 3. Honest uncertainty: injected savings in the real reporting years\n\n");
    printf("Per case, the 5 %% flat scenario: estimated and true saving, 90 %% half-widths "
           "(%% of adjusted baseline; honest = t x sqrt(block^2 + drift^2), components are "
           "one standard deviation), truth inside G14/honest.\n\n");
    printf("| meter | years | method | baseline CV(RMSE), G14 | estimate (truth) | G14 ± | honest ± | in? |\n");
    printf("|---|---|---|---|---|---|---|---|\n");
    for (int method = SB_MV_DAILY; method <= SB_MV_HOURLY; method++) {
        for (int b = 0; b < NB; b++) {
            for (int g = 0; g < 2; g++) {
                const double *kwh = g ? gas[b] : elec[b];
                for (int p = 0; p < 3; p++) {
                    if (year_hours(kwh, pairs[p][0]) < YEAR_H / 2 ||
                        year_hours(kwh, pairs[p][1]) < YEAR_H / 2)
                        continue;
                    struct cas c = { b, g, pairs[p][0], pairs[p][1], method, kwh, temp };
                    run_case(&c, tz, method == SB_MV_DAILY ? td : th, ft);
                }
            }
        }
    }
    print_tally("Daily (CalTRACK daily)", td);
    print_tally("Hourly (CalTRACK hourly)", th);
}

/* ---- main -------------------------------------------------------------------- */

static void section4(struct fit_times *ft, double *const *elec, const double *temp,
                     const struct sb_tz *tz)
{
    printf("\n## 4. Fit time per meter-year (single thread, -O2)\n\n");
    printf("| method | fits | median ms | max ms |\n|---|---|---|---|\n");
    for (int d = 1; d >= 0; d--) {
        double mx = 0;
        for (int i = 0; i < ft->n[d]; i++)
            mx = fmax(mx, ft->ms[d][i]);
        int n = ft->n[d];
        printf("| %s (with 12 month-out refits) | %d | %.1f | %.1f |\n",
               d ? "CalTRACK daily" : "CalTRACK hourly", n, median(ft->ms[d], n), mx);
    }
    struct sb_mv_input hb = cam_year(elec[0], temp, 0);
    struct sb_mv_opts o = { .method = SB_MV_HOURLY, .tz = tz, .no_blocks = 1 };
    struct sb_mv_model *m = NULL;
    double t0 = now_ms();
    for (int k = 0; k < 5; k++) {
        sb_mv_fit(&hb, &o, &m, NULL, 0);
        sb_mv_model_free(m);
        m = NULL;
    }
    printf("| CalTRACK hourly, no refits (b33 2017, mean of 5) | 5 | %.1f | |\n",
           (now_ms() - t0) / 5);
}

int main(int argc, char **argv)
{
    double *elec[NB], *gas[NB], *temp;
    struct fit_times ft = { .n = { 0, 0 } };

    if (argc > 1)
        ddir = argv[1];
    const struct sb_tz *london = sb_tz_get("Europe/London");
    const struct sb_tz *chicago = sb_tz_get("America/Chicago");
    if (!london || !chicago) {
        fprintf(stderr, "bench_mv: time zones not found\n");
        return 1;
    }
    if (!(temp = cam_weather()))
        return 1;
    for (int b = 0; b < NB; b++) {
        elec[b] = cam_meter(bld[b], 0);
        gas[b] = cam_meter(bld[b], 1);
        if (!elec[b] || !gas[b])
            return 1;
    }
    printf("# bench_mv — M&V (CalTRACK 2.0 daily/hourly, Guideline 14, honest interval)\n");
    section1(elec, gas, temp, london);
    section2(chicago);
    section3(elec, gas, temp, london, &ft);
    section4(&ft, elec, temp, london);
    for (int b = 0; b < NB; b++) {
        free(elec[b]);
        free(gas[b]);
    }
    free(temp);
    return 0;
}

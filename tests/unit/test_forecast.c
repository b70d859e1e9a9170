/*
 * test_forecast.c - unit tests of the load forecaster: cleaning
 * (analytics/clean.c), the gradient-boosted forecaster (analytics/gbm.c)
 * and the facade (analytics/forecast.c).
 *
 * Synthetic meters with a known structure: a weekly profile, a temperature
 * response, and optionally a slowly wandering AR(1) level that only a
 * model reading recent load can follow (TOWT cannot).  Noise is Gaussian
 * from a seeded generator, so every run sees the same numbers.
 */
#include "analytics/clean.h"
#include "analytics/forecast.h"
#include "analytics/gbm.h"
#include "analytics/stats.h"
#include "core/err.h"
#include "tap.h"

#define T0 INT64_C(1704067200)   /* 2024-01-01T00:00Z, a Monday */
#define DAYS 150
#define N (DAYS * 24)

struct meter {
    double  y[N];
    double  t[N];
    uint8_t how[N];
    uint8_t hol[N];
    double  level[N];   /* the AR(1) component alone */
};

static double unif(uint64_t *s)
{
    return ((double)(tap_rand(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(uint64_t *s)
{
    return sqrt(-2 * log(unif(s))) * cos(2 * M_PI * unif(s));
}

/* Office-like meter: 40 kWh night, +60 kWh on weekday 8-18, heating below
 * 15 °C; ar_sd > 0 adds a level that jumps to a new N(0, ar_sd) value on
 * ~10 % of days and stays there (occupancy regimes: term, vacation, an
 * experiment running) - visible in recent load, invisible to TOWT. */
static void make_meter_season(struct meter *m, double ar_sd, double noise_sd, double season,
                              uint64_t seed)
{
    double lvl = 0;
    for (int i = 0; i < N; i++) {
        int how = i % 168, d = how / 24, hr = how % 24;
        double doy = i / 24.0;
        m->how[i] = (uint8_t)how;
        m->hol[i] = 0;
        m->t[i] = 10 - season * cos(2 * M_PI * (doy - 20) / 365) -
                  4 * cos(2 * M_PI * (hr - 15) / 24) + 1.5 * gauss(&seed);
        if (i % 24 == 12 && unif(&seed) < 0.1)
            lvl = ar_sd * gauss(&seed);   /* a new regime: ~every 10 days */
        m->level[i] = lvl;
        double occ = d < 5 && hr >= 8 && hr < 18 ? 60 : 0;
        double heat = m->t[i] < 15 ? 2.0 * (15 - m->t[i]) : 0;
        m->y[i] = 40 + occ + heat + lvl + noise_sd * gauss(&seed);
    }
}

static void make_meter(struct meter *m, double ar_sd, double noise_sd, uint64_t seed)
{
    make_meter_season(m, ar_sd, noise_sd, 8.0, seed);
}

static struct sb_load_series series_of(const struct meter *m, size_t n)
{
    return (struct sb_load_series){m->y, m->t, m->how, m->hol, n, T0};
}

static struct meter M1, M2;   /* large: keep off the stack */

/* ---------- cleaning ---------- */

TEST(clean_flags_injected_faults)
{
    static double y[N];
    static uint8_t f[N];
    struct sb_clean_report r;
    struct sb_clean_opts o = {.zero_is_missing = 1};
    char text[256];

    make_meter(&M1, 0, 2.0, 11);
    memcpy(y, M1.y, sizeof(y));
    const size_t zeros[] = {100, 101, 2000}, negs[] = {500, 1500}, spk[] = {300, 900, 1710, 2500};
    for (int k = 0; k < 3; k++) y[zeros[k]] = 0;
    for (int k = 0; k < 2; k++) y[negs[k]] = -5;
    for (int k = 0; k < 4; k++) y[spk[k]] *= 8;
    for (int i = 1200; i < 1215; i++) y[i] = 77.7;   /* a stuck meter: 15 equal reads */
    y[50] = NAN;
    REQUIRE(sb_clean_series(y, N, &o, f, &r) == 0);
    for (int k = 0; k < 3; k++) CHECK_EQ(f[zeros[k]], SB_CLEAN_ZERO);
    for (int k = 0; k < 2; k++) CHECK_EQ(f[negs[k]], SB_CLEAN_NEGATIVE);
    for (int k = 0; k < 4; k++) CHECK_EQ(f[spk[k]], SB_CLEAN_SPIKE);
    CHECK_EQ(f[1200], SB_CLEAN_OK);                  /* the genuine first reading */
    for (int i = 1201; i < 1215; i++) CHECK_EQ(f[i], SB_CLEAN_FLAT);
    CHECK_EQ(f[50], SB_CLEAN_MISSING);
    CHECK_EQ(r.n, N);
    CHECK_EQ(r.missing, 1);
    CHECK_EQ(r.zeros, 3);
    CHECK_EQ(r.negative, 2);
    CHECK_EQ(r.spikes, 4);   /* and no false positive on the daily cycle */
    CHECK_EQ(r.flat, 14);
    CHECK_EQ(r.flat_runs, 1);
    CHECK_EQ(r.kept, N - 1 - 3 - 2 - 4 - 14);
    CHECK(isnan(y[300]) && isnan(y[100]) && isnan(y[1205]));
    CHECK(isfinite(y[1200]) && y[301] == M1.y[301]);
    sb_clean_describe(&r, text, sizeof(text));
    CHECK(strstr(text, "excluded 24 of 3600 hours") != NULL);
    CHECK(strstr(text, "4 spikes") != NULL);
    CHECK_STR(sb_clean_flag_name(SB_CLEAN_FLAT), "flatline");
}

TEST(clean_defaults_keep_zero_and_reject_bad_opts)
{
    double y[40];
    struct sb_clean_report r;
    struct sb_clean_opts bad = {.spike_k = -1};
    for (int i = 0; i < 40; i++)
        y[i] = 100 + (i % 7);
    y[3] = 0;   /* zeros are data unless told otherwise, but a 0 among 100-106 is a spike */
    CHECK_EQ(sb_clean_series(y, 40, NULL, NULL, &r), 0);
    CHECK_EQ(r.zeros, 0);
    CHECK_EQ(r.spikes, 1);
    CHECK_EQ(sb_clean_series(y, 40, &bad, NULL, &r), SB_EINVAL);
}

TEST(sufficiency_counts_days)
{
    static double y[100 * 24];
    struct sb_sufficiency s;
    char msg[128] = "";
    for (int i = 0; i < 100 * 24; i++)
        y[i] = i < 41 * 24 ? 1.0 : NAN;
    y[5] = NAN;
    y[6] = NAN;   /* day 0 now has 22/24 = 91.7 %: still counts */
    y[30] = y[31] = y[32] = NAN; /* day 1: 21/24 = 87.5 %: does not */
    REQUIRE(sb_data_sufficiency(y, 100 * 24, T0, 90, 0.9, &s, msg, sizeof(msg)) == 0);
    CHECK_EQ(s.days_total, 100);
    CHECK_EQ(s.days_ok, 40);
    CHECK_EQ(s.ok, 0);
    CHECK_STR(msg, "needs 90 days with >= 90 % coverage, has 40");
    /* a start at 12:00 UTC splits the first and last days */
    REQUIRE(sb_data_sufficiency(y, 48, T0 + 12 * 3600, 1, 0.5, &s, NULL, 0) == 0);
    CHECK_EQ(s.days_total, 3);
    CHECK_EQ(s.days_ok, 2);   /* 10/24 no, 21/24 yes, 12/24 = 0.5 yes */
    CHECK_EQ(s.ok, 1);
}

/* ---------- gbm ---------- */

TEST(gbm_features_ignore_load_after_origin)
{
    float a[SB_GBM_NFEAT], b[SB_GBM_NFEAT];
    static double towt[N];
    make_meter(&M1, 15, 2, 12);
    for (int i = 0; i < N; i++)
        towt[i] = 50;
    struct sb_load_series s = series_of(&M1, N);
    size_t o = 1000;
    for (int h = 1; h <= SB_FC_MAX_HORIZON; h++) {
        sb_gbm_features(&s, towt, 1, o, h, a);
        for (size_t i = o; i < N; i++)
            M1.y[i] = 1e9;   /* poison everything at and after the origin */
        sb_gbm_features(&s, towt, 1, o, h, b);
        make_meter(&M1, 15, 2, 12);
        if (memcmp(a, b, sizeof(a)) != 0) {
            TAP_FAIL("feature row (o, %d) read load after the origin", h);
            break;
        }
    }
    sb_gbm_features(&s, towt, 1, o, 25, a);
    CHECK_DBL(a[6], 25, 0);                          /* horizon */
    CHECK_DBL(a[7], (float)M1.y[o - 1], 0);          /* last observed load */
    CHECK_DBL(a[9], (float)M1.y[o + 24 - 48], 0);    /* h 25: same hour two days back */
    CHECK_DBL(a[10], (float)M1.y[o + 24 - 168], 0);  /* same hour last week */
}

TEST(gbm_rejects_bad_blobs)
{
    struct sb_gbm *m = NULL;
    char err[160] = "";
    CHECK_EQ(sb_gbm_load("{}", 2, &m, err, sizeof(err)), SB_EINVAL);
    CHECK(strstr(err, "sbems-gbm") != NULL);
    const char *bad_b64 =
        "{\"format\":\"sbems-gbm\",\"version\":1,\"opts\":{\"rounds\":10,\"max_depth\":3,"
        "\"eta\":0.1,\"subsample\":1,\"colsample\":1,\"min_child_weight\":1,\"lambda\":1,"
        "\"max_bin\":64,\"max_horizon\":72,\"origin_stride\":5,\"horizons_per_origin\":12,"
        "\"stack_towt\":false,\"target\":0},\"xgb_size\":10,\"xgb_crc32\":0,"
        "\"xgb_ubj_deflate\":\"ab$=\"}";
    CHECK_EQ(sb_gbm_load(bad_b64, strlen(bad_b64), &m, err, sizeof(err)), SB_EINVAL);
    CHECK(strstr(err, "base64") != NULL);
    CHECK(m == NULL);
}

/* Replaces the first occurrence of from (which must exist) in a copy of s. */
static char *replaced(const char *s, const char *from, const char *to)
{
    const char *p = strstr(s, from);
    if (!p)
        return NULL;
    size_t a = (size_t)(p - s), lf = strlen(from), lt = strlen(to), n = strlen(s);
    char *out = malloc(n - lf + lt + 1);
    memcpy(out, s, a);
    memcpy(out + a, to, lt);
    memcpy(out + a + lt, p + lf, n - a - lf + 1);
    return out;
}

TEST(gbm_round_trip_and_tamper)
{
    struct sb_gbm_opts o;
    struct sb_gbm *m = NULL, *g = NULL;
    static double towt[N];
    double a[72], b[72];
    char *js = NULL, err[200] = "", num[32];
    make_meter(&M1, 15, 2, 19);
    for (int i = 0; i < N; i++)
        towt[i] = 60;
    sb_gbm_defaults(&o);
    o.rounds = 20;
    struct sb_load_series s = series_of(&M1, 60 * 24), full = series_of(&M1, N);
    REQUIRE(sb_gbm_fit(&s, towt, &o, &m, err, sizeof(err)) == 0);
    CHECK_EQ(sb_gbm_opts(m)->rounds, 20);
    CHECK_EQ(sb_gbm_opts(m)->target, SB_GBM_TARGET_ANOMALY);
    REQUIRE(sb_gbm_save(m, &js) == 0);
    REQUIRE(sb_gbm_load(js, strlen(js), &g, err, sizeof(err)) == 0);
    REQUIRE(sb_gbm_predict(m, &full, towt, 70 * 24, 72, a) == 0);
    REQUIRE(sb_gbm_predict(g, &full, towt, 70 * 24, 72, b) == 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    CHECK(isfinite(a[0]) && isfinite(a[71]));
    CHECK_EQ(sb_gbm_predict(g, &full, towt, N - 5, 72, b), SB_EINVAL);
    sb_gbm_free(g);
    g = NULL;
    /* a declared size one byte off: the stream does not inflate to it */
    const char *sz = strstr(js, "\"xgb_size\":");
    REQUIRE(sz != NULL);
    long size = strtol(sz + 11, NULL, 10);
    snprintf(num, sizeof(num), "\"xgb_size\":%ld", size);
    char want[32];
    snprintf(want, sizeof(want), "\"xgb_size\":%ld", size + 1);
    char *bad = replaced(js, num, want);
    REQUIRE(bad != NULL);
    CHECK_EQ(sb_gbm_load(bad, strlen(bad), &g, err, sizeof(err)), SB_ECORRUPT);
    CHECK(strstr(err, "inflate") != NULL);
    free(bad);
    /* intact stream, wrong checksum */
    bad = replaced(js, "\"xgb_crc32\":", "\"xgb_crc32\":1");
    REQUIRE(bad != NULL);
    CHECK_EQ(sb_gbm_load(bad, strlen(bad), &g, err, sizeof(err)), SB_ECORRUPT);
    CHECK(strstr(err, "CRC") != NULL);
    CHECK(g == NULL);
    free(bad);
    free(js);
    sb_gbm_free(m);
}

/* ---------- facade ---------- */

/* Default options for the synthetic meters; a short backtest stride keeps
 * the scored sample large. */
static void opts(struct sb_fc_opts *o, unsigned cand)
{
    sb_fc_defaults(o);
    o->candidates = cand;
    o->backtest_stride = 7;
    o->gbm.rounds = 150;
    o->gbm.eta = 0.1;
}

TEST(refuses_insufficient_data)
{
    static double y[N];
    struct sb_fc_report rep;
    struct sb_forecaster *f = NULL;
    make_meter(&M1, 0, 2, 13);
    memcpy(y, M1.y, sizeof(y));
    for (int i = 41 * 24; i < N; i++)
        y[i] = NAN;   /* 150 days of hours, 41 of them with data */
    struct sb_load_series s = series_of(&M1, N);
    s.y = y;
    CHECK_EQ(sb_fc_train(&s, NULL, &f, &rep), SB_EINVAL);
    CHECK(f == NULL);
    CHECK_STR(rep.message, "needs 90 days with >= 90 % coverage, has 41");
    CHECK_EQ(rep.sufficiency.days_ok, 41);
    CHECK_EQ(rep.clean.missing, (size_t)(N - 41 * 24));
}

/* CV(RMSE) of 1..24 h forecasts from every local midnight in [d0, d1). */
static double holdout_cv(const struct sb_forecaster *f, const struct meter *m, int d0, int d1,
                         double *cover)
{
    static double ys[DAYS * 24], ps[DAYS * 24];
    double pt[24], lo[24], hi[24];
    size_t k = 0, in = 0;
    struct sb_fit_stats st;
    struct sb_load_series s = series_of(m, N);
    for (int d = d0; d < d1; d++) {
        size_t o = (size_t)d * 24;
        if (sb_fc_predict(f, &s, o, 24, pt, lo, hi, NULL, NULL, 0))
            return NAN;
        for (int h = 0; h < 24; h++) {
            ys[k] = m->y[o + (size_t)h];
            ps[k++] = pt[h];
            in += ys[k - 1] >= lo[h] && ys[k - 1] <= hi[h];
        }
    }
    if (cover)
        *cover = (double)in / (double)k;
    return sb_fit_stats(ys, ps, k, 0, &st) == 0 ? st.cvrmse : NAN;
}

TEST(gbm_beats_towt_on_lag_driven_load)
{
    struct sb_fc_opts o;
    struct sb_fc_report rep;
    struct sb_forecaster *fa = NULL, *ft = NULL;
    make_meter(&M1, 15, 2, 14);   /* regimes of sd 15 kWh */
    struct sb_load_series train = series_of(&M1, 120 * 24);
    opts(&o, 0);
    REQUIRE(sb_fc_train(&train, &o, &fa, &rep) == 0);
    CHECK_EQ(rep.chosen, SB_FC_GBM);
    CHECK(rep.bt[SB_FC_GBM][SB_FC_NBUCKETS].cvrmse < rep.bt[SB_FC_TOWT][SB_FC_NBUCKETS].cvrmse);
    CHECK(rep.bt[SB_FC_GBM][0].cvrmse < rep.bt[SB_FC_NAIVE_DAY][0].cvrmse);
    opts(&o, 1u << SB_FC_TOWT);
    REQUIRE(sb_fc_train(&train, &o, &ft, NULL) == 0);
    double cg = holdout_cv(fa, &M1, 120, 149, NULL), ct = holdout_cv(ft, &M1, 120, 149, NULL);
    printf("# holdout day-ahead CV(RMSE): gbm %.4f towt %.4f\n", cg, ct);
    CHECK(cg < 0.8 * ct);
    sb_fc_free(fa);
    sb_fc_free(ft);
}

TEST(intervals_cover_their_level)
{
    struct sb_fc_opts o;
    struct sb_fc_report rep;
    struct sb_forecaster *f = NULL;
    double cover = 0;
    /* iid noise around a known profile, no seasonal drift: backtest and
     * holdout are exchangeable, the setting conformal coverage promises
     * (with the seasonal climate the spring holdout crosses the 15 °C
     * kink between TOWT's knots and errors grow: coverage 0.86-0.91) */
    make_meter_season(&M2, 0, 4, 0.0, 15);
    struct sb_load_series train = series_of(&M2, 110 * 24);
    opts(&o, 1u << SB_FC_TOWT);
    REQUIRE(sb_fc_train(&train, &o, &f, &rep) == 0);
    CHECK_DBL(rep.level, 0.9, 0);
    CHECK_DBL(rep.bt[SB_FC_TOWT][SB_FC_NBUCKETS].coverage, 0.9, 0.03);
    holdout_cv(f, &M2, 110, 149, &cover);
    printf("# holdout coverage of the 90 %% interval: %.3f\n", cover);
    CHECK_DBL(cover, 0.9, 0.04);   /* 936 hours: binomial sd ~1 % */
    sb_fc_free(f);
}

TEST(forecast_never_reads_after_origin_and_refuses_missing)
{
    struct sb_fc_opts o;
    struct sb_forecaster *f = NULL;
    double a[72], b[72], lo[72], hi[72];
    int model = -1;
    static double y2[N], t2[N];
    make_meter(&M1, 15, 2, 16);
    struct sb_load_series s = series_of(&M1, 100 * 24);
    opts(&o, 1u << SB_FC_GBM | 1u << SB_FC_TOWT);
    REQUIRE(sb_fc_train(&s, &o, &f, NULL) == 0);
    size_t org = 110 * 24 + 7;
    struct sb_load_series full = series_of(&M1, N);
    REQUIRE(sb_fc_predict(f, &full, org, 72, a, lo, hi, &model, NULL, 0) == 0);
    CHECK_EQ(model, SB_FC_GBM);
    memcpy(y2, M1.y, sizeof(y2));
    for (size_t i = org; i < N; i++)
        y2[i] = 5e5;
    full.y = y2;
    REQUIRE(sb_fc_predict(f, &full, org, 72, b, NULL, NULL, NULL, NULL, 0) == 0);
    CHECK(memcmp(a, b, sizeof(a)) == 0);
    for (int h = 0; h < 72; h++)
        if (!(lo[h] < a[h] && a[h] < hi[h]))
            TAP_FAIL("interval at h %d does not bracket the point", h + 1);
    /* a missing temperature forecast gives NAN at that hour, not a number */
    memcpy(t2, M1.t, sizeof(t2));
    t2[org + 5] = NAN;
    full.y = M1.y;
    full.t = t2;
    REQUIRE(sb_fc_predict(f, &full, org, 72, b, lo, hi, NULL, NULL, 0) == 0);
    CHECK(isnan(b[5]) && isnan(lo[5]) && isnan(hi[5]));
    CHECK(isfinite(b[4]) && isfinite(b[6]));
    /* no recent load: falls back to TOWT, says so */
    for (size_t i = org - 48; i < org; i++)
        y2[i] = NAN;
    memcpy(y2 + org, M1.y + org, (N - org) * sizeof(double));
    full.y = y2;
    full.t = M1.t;
    REQUIRE(sb_fc_predict(f, &full, org, 24, b, NULL, NULL, &model, NULL, 0) == 0);
    CHECK_EQ(model, SB_FC_TOWT);
    CHECK(isfinite(b[0]));
    char err[128] = "";
    CHECK_EQ(sb_fc_predict(f, &full, N - 10, 24, b, NULL, NULL, NULL, err, sizeof(err)),
             SB_EINVAL);
    CHECK(err[0] != 0);
    sb_fc_free(f);
}

TEST(save_load_round_trip)
{
    struct sb_fc_opts o;
    struct sb_forecaster *f = NULL, *g = NULL;
    char *blob = NULL, *blob2 = NULL, err[200] = "";
    size_t len = 0, len2 = 0;
    double a[72], b[72], la[72], lb[72];
    int ma = -1, mb = -2;
    make_meter(&M1, 15, 2, 17);
    struct sb_load_series s = series_of(&M1, 100 * 24);
    opts(&o, 1u << SB_FC_GBM);
    REQUIRE(sb_fc_train(&s, &o, &f, NULL) == 0);
    REQUIRE(sb_fc_save(f, &blob, &len) == 0);
    CHECK_EQ(len, strlen(blob));
    REQUIRE(sb_fc_load(blob, len, &g, err, sizeof(err)) == 0);
    struct sb_load_series full = series_of(&M1, N);
    for (size_t org = 100 * 24; org < 140 * 24; org += 101) {
        REQUIRE(sb_fc_predict(f, &full, org, 72, a, la, NULL, &ma, NULL, 0) == 0);
        REQUIRE(sb_fc_predict(g, &full, org, 72, b, lb, NULL, &mb, NULL, 0) == 0);
        CHECK(memcmp(a, b, sizeof(a)) == 0);
        CHECK(memcmp(la, lb, sizeof(la)) == 0);
        CHECK_EQ(ma, mb);
    }
    const struct sb_fc_report *r1 = sb_fc_get_report(f), *r2 = sb_fc_get_report(g);
    CHECK_EQ(r1->chosen, r2->chosen);
    CHECK_STR(r1->message, r2->message);
    CHECK(memcmp(r1->bt, r2->bt, sizeof(r1->bt)) == 0);
    REQUIRE(sb_fc_save(g, &blob2, &len2) == 0);
    CHECK_EQ(len, len2);
    CHECK(memcmp(blob, blob2, len) == 0);   /* the format is a fixed point */
    sb_fc_free(g);
    g = NULL;
    /* one flipped character inside the embedded model: CRC or JSON refuses */
    char *p = strstr(blob, "\"xgb_ubj_deflate\":\"");
    REQUIRE(p != NULL);
    p[40] = p[40] == 'A' ? 'B' : 'A';
    CHECK(sb_fc_load(blob, len, &g, err, sizeof(err)) != 0);
    CHECK(g == NULL);
    /* every truncation is refused */
    size_t accepted = 0;
    for (size_t k = 0; k < len; k += len / 97 + 1) {
        struct sb_forecaster *t = NULL;
        accepted += sb_fc_load(blob2, k, &t, NULL, 0) == 0;
        sb_fc_free(t);
    }
    CHECK_EQ(accepted, 0);
    CHECK_EQ(sb_fc_load("{\"format\":\"sbems-forecaster\",\"version\":9}", 41, &g, err,
                        sizeof(err)), SB_EINVAL);
    CHECK(strstr(err, "version") != NULL);
    free(blob);
    free(blob2);
    sb_fc_free(f);
}

TEST(report_json_and_drift)
{
    struct sb_fc_opts o;
    struct sb_forecaster *f = NULL;
    struct sb_fc_drift d;
    static double ys[2000], ps[2000];
    static uint8_t hs[2000];
    double pt[72];
    char *js = NULL;
    int model = -1;
    make_meter(&M2, 0, 4, 18);
    struct sb_load_series s = series_of(&M2, 100 * 24), full = series_of(&M2, N);
    opts(&o, 1u << SB_FC_TOWT | 1u << SB_FC_NAIVE_DAY | 1u << SB_FC_NAIVE_WEEK);
    REQUIRE(sb_fc_train(&s, &o, &f, NULL) == 0);
    REQUIRE(sb_fc_report_json(sb_fc_get_report(f), &js) == 0);
    CHECK(strstr(js, "\"chosen\":\"towt\"") != NULL);
    CHECK(strstr(js, "\"gbm\":[{\"n\":0,\"rmse\":null") != NULL);   /* not a candidate */
    CHECK(strstr(js, "\"naive_day\":[{\"n\":0") == NULL);
    free(js);
    size_t k = 0;
    for (size_t org = 100 * 24; org + 72 <= N && k + 72 <= 2000; org += 24) {
        REQUIRE(sb_fc_predict(f, &full, org, 72, pt, NULL, NULL, &model, NULL, 0) == 0);
        for (int h = 0; h < 72; h++, k++) {
            ys[k] = M2.y[org + (size_t)h];
            ps[k] = pt[h];
            hs[k] = (uint8_t)(h + 1);
        }
    }
    REQUIRE(sb_fc_drift_check(f, model, ys, ps, hs, k, &d) == 0);
    printf("# drift (same process): n %zu miss %.3f z %.2f cv %.4f vs %.4f\n", d.n, d.miss_rate,
           d.z, d.cvrmse, d.backtest_cvrmse);
    CHECK_EQ(d.retrain, 0);
    CHECK_DBL(d.expected_miss, 0.1, 1e-12);
    for (size_t i = 0; i < k; i++)
        ys[i] *= 1.3;   /* the building changed: +30 % */
    REQUIRE(sb_fc_drift_check(f, model, ys, ps, hs, k, &d) == 0);
    CHECK_EQ(d.retrain, 1);
    CHECK(d.reason[0] != 0);
    CHECK_EQ(sb_fc_drift_check(f, SB_FC_GBM, ys, ps, hs, k, &d), SB_EINVAL);
    sb_fc_free(f);
}

int main(void)
{
    TAP_START();
    RUN(clean_flags_injected_faults);
    RUN(clean_defaults_keep_zero_and_reject_bad_opts);
    RUN(sufficiency_counts_days);
    RUN(gbm_features_ignore_load_after_origin);
    RUN(gbm_rejects_bad_blobs);
    RUN(gbm_round_trip_and_tamper);
    RUN(refuses_insufficient_data);
    RUN(gbm_beats_towt_on_lag_driven_load);
    RUN(intervals_cover_their_level);
    RUN(forecast_never_reads_after_origin_and_refuses_missing);
    RUN(save_load_round_trip);
    RUN(report_json_and_drift);
    TAP_END();
}

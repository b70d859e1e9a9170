/*
 * test_towt.c - unit tests of the TOWT regression (src/analytics/towt.c).
 *
 * The synthetic buildings below are generated from a model written out by
 * hand here (levels per hour of week, occupied weekday 08-18 block, two sets
 * of piecewise-linear temperature slopes on the default knots), so the true
 * coefficients are known: a noise-free fit must reproduce the generator to
 * rounding, a noisy one to within its sampling error.
 */
#include <jansson.h>

#include "analytics/towt.h"
#include "core/err.h"
#include "tap.h"

#define WEEKS 10
#define N (WEEKS * 168)
#define F2C(f) (((f) - 32.0) * 5.0 / 9.0)

static const double knots[5] = {F2C(40), F2C(55), F2C(65), F2C(80), F2C(90)};
/* slopes per segment, kWh/°C: heating below, cooling above, occupied steeper */
static const double b_unocc[6] = {-0.8, -0.4, 0.0, 0.3, 0.5, 0.7};
static const double b_occ[6] = {-2.0, -1.0, -0.2, 1.0, 1.8, 2.5};

static int true_occ(int h)
{
    int d = h / 24, hr = h % 24;
    return d < 5 && hr >= 8 && hr < 18;
}

static double true_alpha(int h)
{
    return 20.0 + 3.0 * sin(h * 0.37) + (true_occ(h) ? 25.0 : 0.0);
}

/* The generator's temperature response, written independently of towt.c. */
static double true_temp(double t, int occ)
{
    const double *b = occ ? b_occ : b_unocc;
    double lo = -1e9, v = 0;
    for (int s = 0; s < 6; s++) {
        double hi = s < 5 ? knots[s] : 1e9;
        double seg = s == 0 ? (t < hi ? t : hi)
                            : (t <= lo ? 0 : (t < hi ? t - lo : hi - lo));
        v += b[s] * seg;
        lo = hi;
    }
    return v;
}

static double truth(int h, double t)
{
    return true_alpha(h) + true_temp(t, true_occ(h));
}

struct series {
    double  y[N];
    double  t[N];
    uint8_t how[N];
};

static void make_series(struct series *s, double noise, uint64_t seed)
{
    for (int i = 0; i < N; i++) {
        s->how[i] = (uint8_t)(i % 168);
        s->t[i] = -6.0 + 46.0 * (double)(tap_rand(&seed) >> 11) / 9007199254740992.0;
        double e = noise * ((double)(tap_rand(&seed) >> 11) / 9007199254740992.0 - 0.5);
        s->y[i] = truth(s->how[i], s->t[i]) + e;
    }
}

/* Max |prediction - truth| over every hour of week and a temperature grid. */
static double max_grid_error(const struct sb_towt *m)
{
    double worst = 0;
    for (int h = 0; h < 168; h++) {
        for (double t = -5; t <= 39; t += 0.5) {
            uint8_t hw = (uint8_t)h;
            double yh;
            if (sb_towt_predict(m, &t, &hw, 1, &yh) != 0)
                return INFINITY;
            double e = fabs(yh - truth(h, t));
            if (!(e <= worst))
                worst = e;
        }
    }
    return worst;
}

/* Reads the "occupied" flags out of the saved JSON. */
static int saved_occ(const struct sb_towt *m, int *occ)
{
    char *js = NULL;
    if (sb_towt_save(m, &js) != 0)
        return -1;
    json_t *root = json_loads(js, 0, NULL);
    free(js);
    json_t *a = json_object_get(root, "occupied");
    int rc = json_array_size(a) == 168 ? 0 : -1;
    for (int h = 0; rc == 0 && h < 168; h++)
        occ[h] = (int)json_integer_value(json_array_get(a, (size_t)h));
    json_decref(root);
    return rc;
}

static struct series S;   /* big: keep off the stack */

TEST(recovers_exact_model)
{
    struct sb_towt *m = NULL;
    char err[160] = "";

    make_series(&S, 0.0, 1);
    int rc = sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, err, sizeof(err));
    REQUIRE(rc == 0);
    CHECK_EQ(sb_towt_nparams(m), 168 + 6 + 6);
    CHECK_DBL(max_grid_error(m), 0.0, 1e-7);
    sb_towt_free(m);
}

TEST(recovers_under_noise)
{
    struct sb_towt *m = NULL;
    char err[160] = "";

    make_series(&S, 4.0, 2);   /* uniform noise, sd 1.15 kWh */
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, err, sizeof(err)) == 0);
    /* each alpha rests on 10 hours: sd ~0.4; allow 4 sd at the grid's worst */
    double e = max_grid_error(m);
    CHECK(e < 2.5);
    CHECK(e > 1e-6); /* the noise really is there */
    sb_towt_free(m);
}

TEST(detects_occupancy)
{
    struct sb_towt *m = NULL;
    int occ[168], wrong = 0, nocc = 0;

    make_series(&S, 2.0, 3);
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, NULL, 0) == 0);
    REQUIRE(saved_occ(m, occ) == 0);
    for (int h = 0; h < 168; h++) {
        wrong += occ[h] != true_occ(h);
        nocc += occ[h];
    }
    CHECK_EQ(wrong, 0);
    CHECK_EQ(nocc, 50);
    sb_towt_free(m);
}

TEST(no_occupancy_option)
{
    struct sb_towt *m = NULL;
    struct sb_towt_opts o = {.no_occupancy = 1};
    int occ[168], nocc = 0;

    make_series(&S, 0.0, 4);
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, &o, &m, NULL, 0) == 0);
    REQUIRE(saved_occ(m, occ) == 0);
    for (int h = 0; h < 168; h++)
        nocc += occ[h];
    CHECK_EQ(nocc, 0);
    CHECK_EQ(sb_towt_nparams(m), 168 + 6);
    /* one slope set cannot reproduce two: the fit must now be approximate */
    CHECK(max_grid_error(m) > 1.0);
    sb_towt_free(m);
}

TEST(missing_values_left_out)
{
    struct sb_towt *m = NULL;
    uint64_t seed = 5;
    double t = 10, yh = 0;
    uint8_t h = 3;

    make_series(&S, 0.0, 6);
    for (int i = 0; i < N; i++) {
        uint64_t r = tap_rand(&seed) % 10;
        if (r == 0)
            S.y[i] = NAN;
        else if (r == 1)
            S.t[i] = NAN;
    }
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, NULL, 0) == 0);
    CHECK_DBL(max_grid_error(m), 0.0, 1e-7);
    t = NAN;
    CHECK_EQ(sb_towt_predict(m, &t, &h, 1, &yh), 0);
    CHECK(isnan(yh));
    t = 10;
    h = 200;
    CHECK_EQ(sb_towt_predict(m, &t, &h, 1, &yh), SB_EINVAL);
    sb_towt_free(m);
}

TEST(zero_weight_rows_ignored)
{
    struct sb_towt *m = NULL;
    static double w[N];

    make_series(&S, 0.0, 7);
    for (int i = 0; i < N; i++) {
        w[i] = 1 + (i % 3);          /* weights change nothing when the model is exact */
        if (i % 17 == 0) {
            S.y[i] = 1e6;            /* garbage that a zero weight must hide */
            w[i] = 0;
        }
    }
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, w, N, NULL, &m, NULL, 0) == 0);
    CHECK_DBL(max_grid_error(m), 0.0, 1e-7);
    sb_towt_free(m);
    w[5] = -1;
    CHECK_EQ(sb_towt_fit(S.y, S.t, S.how, w, N, NULL, &m, NULL, 0), SB_EINVAL);
    CHECK(m == NULL);
}

TEST(refuses_sparse_hour_of_week)
{
    struct sb_towt *m = NULL;
    char err[200] = "";

    make_series(&S, 0.0, 8);
    for (int i = 0; i < N; i++)
        if (S.how[i] == 36 && i > 168)
            S.y[i] = NAN;            /* hour 36 keeps only its first week */
    CHECK_EQ(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, err, sizeof(err)), SB_EINVAL);
    CHECK(m == NULL);
    CHECK(strstr(err, "hour 36 has 1") != NULL);
    CHECK_EQ(sb_towt_fit(S.y, S.t, S.how, NULL, 0, NULL, &m, err, sizeof(err)), SB_EINVAL);
}

TEST(merges_sparse_segments)
{
    struct sb_towt *m = NULL;

    make_series(&S, 0.0, 9);
    /* mild climate: every temperature in 13..18 °C, one default segment */
    for (int i = 0; i < N; i++) {
        S.t[i] = 13.0 + 5.0 * (double)((i * 7919) % 1000) / 1000.0;
        S.y[i] = truth(S.how[i], S.t[i]);
    }
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, NULL, 0) == 0);
    CHECK_EQ(sb_towt_nparams(m), 168 + 1 + 1);
    for (int h = 0; h < 168; h += 7) {
        double t = 15.5, yh;
        uint8_t hw = (uint8_t)h;
        sb_towt_predict(m, &t, &hw, 1, &yh);
        CHECK_DBL(yh, truth(h, t), 1e-7);
    }
    sb_towt_free(m);
}

TEST(save_load_round_trip)
{
    struct sb_towt *m = NULL, *m2 = NULL;
    char *js = NULL, *js2 = NULL, err[160] = "";
    static double p1[N], p2[N];

    make_series(&S, 3.0, 10);
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, NULL, 0) == 0);
    REQUIRE(sb_towt_save(m, &js) == 0);
    REQUIRE(sb_towt_load(js, strlen(js), &m2, err, sizeof(err)) == 0);
    CHECK_EQ(sb_towt_nparams(m2), sb_towt_nparams(m));
    sb_towt_predict(m, S.t, S.how, N, p1);
    sb_towt_predict(m2, S.t, S.how, N, p2);
    CHECK(memcmp(p1, p2, sizeof(p1)) == 0);
    REQUIRE(sb_towt_save(m2, &js2) == 0);
    CHECK_STR(js, js2);
    free(js2);
    sb_towt_free(m2);
    sb_towt_free(m);
    free(js);
}

static int load_fails(const char *js, const char *want)
{
    struct sb_towt *m = NULL;
    char err[200] = "";
    int rc = sb_towt_load(js, strlen(js), &m, err, sizeof(err));
    if (rc == 0 || m != NULL || !strstr(err, want)) {
        printf("#   load of %.60s: rc %d err \"%s\" (want \"%s\")\n", js, rc, err, want);
        sb_towt_free(m);
        return 0;
    }
    return 1;
}

TEST(load_rejects_bad_input)
{
    struct sb_towt *m = NULL;
    char *js = NULL;

    make_series(&S, 0.0, 11);
    REQUIRE(sb_towt_fit(S.y, S.t, S.how, NULL, N, NULL, &m, NULL, 0) == 0);
    REQUIRE(sb_towt_save(m, &js) == 0);
    sb_towt_free(m);
    CHECK(load_fails("", "bad JSON"));
    CHECK(load_fails("[]", "JSON object"));
    CHECK(load_fails("{\"format\":\"other\"}", "not a"));
    CHECK(load_fails("{\"format\":\"sbems-towt\",\"version\":2}", "version"));
    CHECK(load_fails("{\"format\":\"sbems-towt\",\"version\":1,\"alpha\":[1,2]}", "alpha"));
    /* every truncation of a valid model is refused, none crashes */
    size_t len = strlen(js), accepted = 0;
    for (size_t k = 0; k < len; k += 7) {
        struct sb_towt *t = NULL;
        if (sb_towt_load(js, k, &t, NULL, 0) == 0)
            accepted++;
        sb_towt_free(t);
    }
    CHECK_EQ(accepted, 0);
    /* a slope count that does not match the knots */
    char *p = strstr(js, "\"beta\":[");
    REQUIRE(p != NULL);
    size_t off = (size_t)(p - js) + 8;
    char *bad = malloc(len + 16);
    REQUIRE(bad != NULL);
    memcpy(bad, js, off);
    strcpy(bad + off, "1.5,");
    strcpy(bad + off + 4, js + off);
    CHECK(load_fails(bad, "slopes"));
    free(bad);
    free(js);
}

int main(void)
{
    TAP_START();
    RUN(recovers_exact_model);
    RUN(recovers_under_noise);
    RUN(detects_occupancy);
    RUN(no_occupancy_option);
    RUN(missing_values_left_out);
    RUN(zero_weight_rows_ignored);
    RUN(refuses_sparse_hour_of_week);
    RUN(merges_sparse_segments);
    RUN(save_load_round_trip);
    RUN(load_rejects_bad_input);
    TAP_END();
}

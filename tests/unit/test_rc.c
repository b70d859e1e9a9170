/*
 * test_rc.c - grey-box RC zone models (src/analytics/rc.c).
 *
 * Evidence, from the model up:
 *  - the exact discretisation against an independent fine RK4 integration
 *    of the continuous equations, and its steady states against the
 *    network's hand solution;
 *  - identification of a KNOWN 2R2C (simulated by RK4 with measurement
 *    noise): parameters recovered within tolerance, 24 h-ahead error small;
 *  - REAL PHYSICS: three weeks of the simulator's building (ISO 13790 5R1C
 *    zones with VAV reheat and PI loops, Boston TMY3 weather, src/sim/) run
 *    at 60 s with varied setpoints, sampled every 15 min; one zone's model
 *    is identified on the first part and scored 24 h ahead on the last
 *    days, then its setpoint-schedule prediction is compared with the
 *    plant running that schedule;
 *  - refusals of data that cannot identify a model, the ideal thermostat's
 *    band and capacity limits, and the JSON loader's strictness.
 * Run from anywhere: the weather file is found relative to this source
 * (or $SBEMS_SRCDIR).
 */
#include "tap.h"

#include <jansson.h>

#include "analytics/rc.h"
#include "core/err.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"

#define DT 900.0                    /* data step, s */
#define STEPS_PER_DAY 96
#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)
#define APR3 1680498000000LL        /* Mon 2023-04-03 00:00 EST (UTC-5) */

/* ---------- helpers ---------- */

static void repo_path(char *out, size_t cap, const char *rel)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/"), *env = getenv("SBEMS_SRCDIR");

    if (env)
        snprintf(out, cap, "%s/%s", env, rel);
    else if (p)
        snprintf(out, cap, "%.*s%s", (int)(p - f), f, rel);
    else
        snprintf(out, cap, "%s", rel);
}

/* Uniform in [0, 1) from the TAP PRNG. */
static double urand(uint64_t *s)
{
    return (double)(tap_rand(s) >> 11) / 9007199254740992.0;
}

/* Standard normal (Box-Muller). */
static double nrand(uint64_t *s)
{
    double u1 = fmax(urand(s), 1e-300), u2 = urand(s);

    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A history: the caller-owned arrays rc.h works on. */
struct series {
    size_t n;
    double *t, *tm, *to, *sol, *q, *occ, *g;   /* zone, true mass (synthetic), inputs */
    double *fac;        /* plant: facade irradiance proxy (sol holds GHI) */
    double *sg;         /* plant: the zone's true solar gain, kW (white-box check) */
};

static int series_new(struct series *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->t = calloc(n, sizeof(double));
    s->tm = calloc(n, sizeof(double));
    s->to = calloc(n, sizeof(double));
    s->sol = calloc(n, sizeof(double));
    s->q = calloc(n, sizeof(double));
    s->occ = calloc(n, sizeof(double));
    s->g = calloc(n, sizeof(double));
    s->fac = calloc(n, sizeof(double));
    s->sg = calloc(n, sizeof(double));
    return s->t && s->tm && s->to && s->sol && s->q && s->occ && s->g && s->fac && s->sg ? 0 : SB_ENOMEM;
}

static void series_free(struct series *s)
{
    free(s->t);
    free(s->tm);
    free(s->to);
    free(s->sol);
    free(s->q);
    free(s->occ);
    free(s->g);
    free(s->fac);
    free(s->sg);
}

static struct sb_rc_inputs inputs_of(const struct series *s, size_t from)
{
    return (struct sb_rc_inputs){ .t_out = s->to + from, .solar = s->sol + from, .q_kw = s->q + from,
                                  .occ = s->occ + from, .gains_kw = s->g + from };
}

static struct sb_rc_data data_of(const struct series *s)
{
    return (struct sb_rc_data){ .t0_ms = APR3, .dt_s = DT, .n = s->n, .t_zone = s->t, .u = inputs_of(s, 0) };
}

/* ---------- an independent integrator of the continuous model ---------- */

/* dx/dt of the network written out from the equations of rc.h (not
 * through sb_rc_continuous), inputs u in the SB_RC_U_* layout. */
static void deriv(const struct sb_rc_params *p, const double x[2], const double u[SB_RC_NU], double dx[2])
{
    double occ = p->g_occ * u[SB_RC_U_OCC] + 1000.0 * p->g_gains * u[SB_RC_U_GAINS];
    double direct = p->structure == SB_RC_3R2C ? (u[SB_RC_U_TOUT] - x[0]) / p->r_air_out : 0.0;
    double qa = (x[1] - x[0]) / p->r_air_mass + direct + p->a_sol_air * u[SB_RC_U_SOLAR] +
                1000.0 * u[SB_RC_U_Q] + (1.0 - p->f_rad) * occ + p->q0 * u[SB_RC_U_ONE];
    double qm = (x[0] - x[1]) / p->r_air_mass + (u[SB_RC_U_TOUT] - x[1]) / p->r_mass_out +
                p->a_sol_mass * u[SB_RC_U_SOLAR] + p->f_rad * occ;

    dx[0] = qa / p->c_air;
    dx[1] = qm / p->c_mass;
}

/* Classical RK4 over dt in nsub steps with u held. */
static void rk4(const struct sb_rc_params *p, double x[2], const double u[SB_RC_NU], double dt, int nsub)
{
    double h = dt / nsub;

    for (int i = 0; i < nsub; i++) {
        double k1[2], k2[2], k3[2], k4[2], y[2];

        deriv(p, x, u, k1);
        y[0] = x[0] + 0.5 * h * k1[0];
        y[1] = x[1] + 0.5 * h * k1[1];
        deriv(p, y, u, k2);
        y[0] = x[0] + 0.5 * h * k2[0];
        y[1] = x[1] + 0.5 * h * k2[1];
        deriv(p, y, u, k3);
        y[0] = x[0] + h * k3[0];
        y[1] = x[1] + h * k3[1];
        deriv(p, y, u, k4);
        x[0] += h / 6.0 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
        x[1] += h / 6.0 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    }
}

/* The known zone of the synthetic tests: H_im 1500 W/K, H_mo 300 W/K,
 * tau_air ~ 1 h, tau_mass ~ 2 days. */
static const struct sb_rc_params TRUE2 = {
    .structure = SB_RC_2R2C, .c_air = 5e6, .c_mass = 6e7, .r_air_mass = 1.0 / 1500.0,
    .r_mass_out = 1.0 / 300.0, .r_air_out = INFINITY, .a_sol_air = 4.0, .a_sol_mass = 8.0,
    .g_occ = 100.0, .g_gains = 0.9, .f_rad = 0.3, .q0 = 0.0,
};

/* Weather, occupancy, gains and a randomly stepped heating/cooling
 * schedule (every 2 h one of -3..+8 kW): the excitation an identification
 * needs, as a building in normal operation with setpoint changes gives. */
static void synth_inputs(struct series *s, uint64_t *seed)
{
    double cloud = 1.0, q = 0.0;

    for (size_t k = 0; k < s->n; k++) {
        double hour = fmod((double)k * DT / 3600.0, 24.0), day = floor((double)k * DT / 86400.0);
        int weekday = (int)fmod(day, 7.0) < 5, occupied = weekday && hour >= 8 && hour < 18;

        if (hour == 0)
            cloud = 0.3 + 0.7 * urand(seed);
        s->to[k] = 6.0 + 5.0 * sin(2 * M_PI * (hour - 9.0) / 24.0) + 3.0 * sin(2 * M_PI * day / 6.0) +
                   0.3 * nrand(seed);
        s->sol[k] = hour > 6 && hour < 18 ? 700.0 * cloud * sin(M_PI * (hour - 6.0) / 12.0) : 0.0;
        s->occ[k] = occupied ? 20.0 * (0.8 + 0.2 * urand(seed)) : 0.0;
        s->g[k] = 1.5 + (occupied ? 3.0 : 0.0);
        if (k % 8 == 0)
            q = -3.0 + 11.0 * urand(seed);
        s->q[k] = q;
    }
}

/* Simulates p over the inputs by RK4 (60 s), writing the true states and
 * t = air + N(0, noise). */
static void synth_run(const struct sb_rc_params *p, struct series *s, double noise, uint64_t *seed)
{
    double x[2] = { 20.0, 14.0 };

    for (size_t k = 0; k < s->n; k++) {
        double u[SB_RC_NU] = { s->to[k], s->sol[k], s->q[k], s->occ[k], s->g[k], 1.0 };

        s->t[k] = x[0] + noise * nrand(seed);
        s->tm[k] = x[1];
        rk4(p, x, u, DT, 15);
    }
}

static int synth(struct series *s, size_t days, double noise, uint64_t seed)
{
    if (series_new(s, days * STEPS_PER_DAY) != 0)
        return SB_ENOMEM;
    synth_inputs(s, &seed);
    synth_run(&TRUE2, s, noise, &seed);
    return 0;
}

/* ---------- discretisation ---------- */

static const struct sb_rc_params P3 = {
    .structure = SB_RC_3R2C, .c_air = 2e6, .c_mass = 3e7, .r_air_mass = 5e-4, .r_mass_out = 4e-3,
    .r_air_out = 2e-3, .a_sol_air = 3.0, .a_sol_mass = 6.0, .g_occ = 80.0, .g_gains = 1.0,
    .f_rad = 0.4, .q0 = 150.0,
};

/* Each column of [A B] is the response to a unit state or input: compare
 * with RK4 at 0.5 s steps (error ~ (h/tau)^4, far below 1e-9 here). */
TEST(discretize_matches_rk4)
{
    const struct sb_rc_params *ps[2] = { &TRUE2, &P3 };

    for (int m = 0; m < 2; m++) {
        struct sb_rc_disc d;

        REQUIRE(sb_rc_discretize(ps[m], DT, &d) == 0);
        CHECK_DBL(d.dt_s, DT, 0);
        for (int c = 0; c < SB_RC_NX + SB_RC_NU; c++) {
            double x[2] = { c == 0, c == 1 }, u[SB_RC_NU] = { 0 };

            if (c >= SB_RC_NX)
                u[c - SB_RC_NX] = 1.0;
            rk4(ps[m], x, u, DT, 1800);
            for (int i = 0; i < 2; i++) {
                double got = c < SB_RC_NX ? d.a[i][c] : d.b[i][c - SB_RC_NX];

                CHECK_DBL(got, x[i], 1e-9 * fmax(1.0, fabs(x[i])));
            }
        }
    }
}

/* Steady states: outdoor temperature passes with gain 1 to both nodes,
 * 1 kW raises the air by 1000 R (R the network's resistance to outdoors),
 * and A is a contraction with real positive eigenvalues (stable, no
 * oscillation: an RC network). */
TEST(discretize_steady_states)
{
    const struct sb_rc_params *ps[2] = { &TRUE2, &P3 };
    double r_tot[2] = { TRUE2.r_air_mass + TRUE2.r_mass_out,
                        1.0 / (1.0 / P3.r_air_out + 1.0 / (P3.r_air_mass + P3.r_mass_out)) };

    for (int m = 0; m < 2; m++) {
        struct sb_rc_disc d;
        double i00, i01, i10, i11, det, tr, disc;

        REQUIRE(sb_rc_discretize(ps[m], 3600.0, &d) == 0);
        /* (I - A)^-1 */
        det = (1 - d.a[0][0]) * (1 - d.a[1][1]) - d.a[0][1] * d.a[1][0];
        i00 = (1 - d.a[1][1]) / det;
        i01 = d.a[0][1] / det;
        i10 = d.a[1][0] / det;
        i11 = (1 - d.a[0][0]) / det;
        CHECK_DBL(i00 * d.b[0][SB_RC_U_TOUT] + i01 * d.b[1][SB_RC_U_TOUT], 1.0, 1e-9);
        CHECK_DBL(i10 * d.b[0][SB_RC_U_TOUT] + i11 * d.b[1][SB_RC_U_TOUT], 1.0, 1e-9);
        CHECK_DBL(i00 * d.b[0][SB_RC_U_Q] + i01 * d.b[1][SB_RC_U_Q], 1000.0 * r_tot[m], 1e-9);
        tr = d.a[0][0] + d.a[1][1];
        disc = tr * tr - 4 * (d.a[0][0] * d.a[1][1] - d.a[0][1] * d.a[1][0]);
        CHECK(disc > 0);
        CHECK(0.5 * (tr + sqrt(disc)) < 1.0);
        CHECK(0.5 * (tr - sqrt(disc)) > 0.0);
    }
}

/* Exact ZOH composes: four 15-min steps with a held input are one hour
 * (A1h = A^4, B1h = (I + A + A^2 + A^3) B): the optimizer may plan hourly
 * with the same model. */
TEST(discretize_composes_to_planning_step)
{
    struct sb_rc_disc q, h;
    double a[2][2] = { { 1, 0 }, { 0, 1 } }, sum[2][2] = { { 0, 0 }, { 0, 0 } };

    REQUIRE(sb_rc_discretize(&P3, 900.0, &q) == 0);
    REQUIRE(sb_rc_discretize(&P3, 3600.0, &h) == 0);
    for (int step = 0; step < 4; step++) {
        double t[2][2];

        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                sum[i][j] += a[i][j];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                t[i][j] = a[i][0] * q.a[0][j] + a[i][1] * q.a[1][j];
        memcpy(a, t, sizeof a);
    }
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++)
            CHECK_DBL(h.a[i][j], a[i][j], 1e-12);
        for (int u = 0; u < SB_RC_NU; u++)
            CHECK_DBL(h.b[i][u], sum[i][0] * q.b[0][u] + sum[i][1] * q.b[1][u],
                      1e-12 * fmax(1.0, fabs(h.b[i][u])));
    }
}

TEST(discretize_rejects_bad_params)
{
    struct sb_rc_params p = TRUE2;
    struct sb_rc_disc d;
    char err[128] = "";

    CHECK_EQ(sb_rc_discretize(&p, 0.0, &d), SB_EINVAL);
    CHECK_EQ(sb_rc_discretize(&p, NAN, &d), SB_EINVAL);
    p.c_air = -1;
    CHECK_EQ(sb_rc_discretize(&p, DT, &d), SB_EINVAL);
    CHECK_EQ(sb_rc_params_check(&p, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "c_air") != NULL);
    p = P3;
    p.r_air_out = 0;
    CHECK_EQ(sb_rc_params_check(&p, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "r_air_out") != NULL);
    p = TRUE2;
    p.f_rad = 1.5;
    CHECK_EQ(sb_rc_params_check(&p, NULL, 0), SB_EINVAL);
    p.f_rad = 0.3;
    p.r_air_out = NAN;  /* ignored by a 2R2C */
    CHECK_EQ(sb_rc_params_check(&p, NULL, 0), 0);
}

/* ---------- identification of a known model ---------- */

static double rel_err(double got, double want)
{
    return fabs(got - want) / fabs(want);
}

TEST(identify_recovers_known_2r2c)
{
    struct series s;
    struct sb_rc_data data;
    struct sb_rc_opts o = { .structure = SB_RC_2R2C };
    struct sb_rc_model m;
    char err[256] = "";
    int rc;

    REQUIRE(synth(&s, 21, 0.05, 42) == 0);
    data = data_of(&s);
    rc = sb_rc_identify(&data, &o, &m, err, sizeof err);
    if (rc != 0)
        TAP_FAIL("identify: %s", err);
    REQUIRE(rc == 0);
    printf("# known 2R2C: C_i %.3g (5e6) C_m %.3g (6e7) R_im %.4g (%.4g) R_mo %.4g (%.4g)\n",
           m.p.c_air, m.p.c_mass, m.p.r_air_mass, TRUE2.r_air_mass, m.p.r_mass_out, TRUE2.r_mass_out);
    printf("#   a_i %.2f (4) a_m %.2f (8) g_occ %.1f (100) g_g %.3f (0.9) f %.2f (0.3) q0 %.1f (0) it %d\n",
           m.p.a_sol_air, m.p.a_sol_mass, m.p.g_occ, m.p.g_gains, m.p.f_rad, m.p.q0, m.iterations);
    printf("#   rmse fit %.3f 1-step %.3f 24h %.3f K (max %.3f, %d trajectories)\n", m.sc.rmse_fit,
           m.sc.rmse_1step, m.sc.rmse_24h, m.sc.max_24h, m.sc.n_traj);
    CHECK_EQ(m.p.structure, SB_RC_2R2C);
    CHECK(rel_err(m.p.c_mass, TRUE2.c_mass) < 0.10);
    CHECK(rel_err(m.p.r_air_mass, TRUE2.r_air_mass) < 0.10);
    CHECK(rel_err(m.p.r_mass_out, TRUE2.r_mass_out) < 0.05);
    CHECK(rel_err(m.p.c_air, TRUE2.c_air) < 0.15);
    CHECK(rel_err(m.p.a_sol_air + m.p.a_sol_mass, TRUE2.a_sol_air + TRUE2.a_sol_mass) < 0.10);
    /* occupied heat: 4.5 kW of gains and ~18 people */
    CHECK(rel_err(m.p.g_gains * 4500 + m.p.g_occ * 18, TRUE2.g_gains * 4500 + TRUE2.g_occ * 18) < 0.10);
    CHECK(fabs(m.p.q0) < 200.0);
    /* noise 0.05 K is the floor of the one-step error */
    CHECK(m.sc.rmse_1step < 0.08);
    CHECK(m.sc.rmse_24h < 0.15);
    CHECK_EQ(m.n_train + m.n_test, s.n);
    CHECK_EQ(m.train_end_ms, APR3 + (int64_t)m.n_train * 900000);
    CHECK(m.q_heat_max_kw > 7.0 && m.q_heat_max_kw <= 8.0);
    CHECK(m.q_cool_max_kw > 2.0 && m.q_cool_max_kw <= 3.0);
    series_free(&s);
}

/* The observer's mass estimate converges on the true (unmeasured) mass. */
TEST(observe_tracks_unmeasured_mass)
{
    struct series s;
    struct sb_rc_disc d;
    struct sb_rc_inputs in;
    double x[2];

    REQUIRE(synth(&s, 6, 0.05, 7) == 0);
    REQUIRE(sb_rc_discretize(&TRUE2, DT, &d) == 0);
    in = inputs_of(&s, 0);
    REQUIRE(sb_rc_observe(&d, 0.3, s.t, &in, s.n, x) == 0);
    CHECK_DBL(x[0], s.t[s.n - 1], 0);
    CHECK_DBL(x[1], s.tm[s.n - 1], 0.1);
    /* a gap: the model carries the air too */
    for (size_t k = s.n - 4; k < s.n; k++)
        s.t[k] = NAN;
    REQUIRE(sb_rc_observe(&d, 0.3, s.t, &in, s.n, x) == 0);
    CHECK(isfinite(x[0]) && isfinite(x[1]));
    CHECK_EQ(sb_rc_observe(&d, 0.3, s.t, &in, 0, x), SB_EINVAL);
    series_free(&s);
}

/* ---------- refusals ---------- */

static void expect_refusal(const struct sb_rc_data *d, const struct sb_rc_opts *o, const char *words)
{
    struct sb_rc_model m;
    char err[256] = "";
    int rc = sb_rc_identify(d, o, &m, err, sizeof err);

    CHECK_EQ(rc, SB_EINVAL);
    if (!strstr(err, words))
        TAP_FAIL("message \"%s\" lacks \"%s\"", err, words);
}

TEST(identify_refuses_what_cannot_identify)
{
    struct series s;
    struct sb_rc_data d;
    struct sb_rc_opts o = { 0 };
    double keep;

    REQUIRE(synth(&s, 8, 0.05, 3) == 0);
    d = data_of(&s);
    d.n = 3 * STEPS_PER_DAY;
    expect_refusal(&d, NULL, "too short");
    d.n = s.n;
    o.holdout_frac = 0.05;      /* 0.4 days held out < 24 h horizon */
    expect_refusal(&d, &o, "held-out part");
    for (size_t k = 0; k < s.n; k++)
        s.q[k] = 2.0;
    expect_refusal(&d, NULL, "HVAC never varied");
    synth_inputs(&s, &(uint64_t){ 3 });
    for (size_t k = 100; k < 112; k++)     /* 3 h */
        s.t[k] = NAN;
    expect_refusal(&d, NULL, "gap of 3.2 h");
    s.t[100] = 20.0;
    for (size_t k = 101; k < 112; k++)
        s.t[k] = 20.0;
    for (size_t k = 0; k < s.n; k += 5)     /* 20 % missing, no long gap */
        s.t[k] = NAN;
    expect_refusal(&d, NULL, "missing");
    for (size_t k = 0; k < s.n; k += 5)
        s.t[k] = 20.0;
    keep = s.to[50];
    s.to[50] = NAN;
    expect_refusal(&d, NULL, "t_out[50] is not finite");
    s.to[50] = keep;
    for (size_t k = 0; k < s.n; k++)
        s.t[k] = 21.0;
    expect_refusal(&d, NULL, "never moved");
    d.dt_s = 10;
    expect_refusal(&d, NULL, "dt_s");
    d.dt_s = DT;
    o = (struct sb_rc_opts){ .structure = 7 };
    expect_refusal(&d, &o, "structure");
    d.u.q_kw = NULL;
    expect_refusal(&d, NULL, "required");
    series_free(&s);
}

/* ---------- prediction under a setpoint schedule ---------- */

TEST(setpoints_keep_band_within_capacity)
{
    struct series s;
    struct sb_rc_disc d;
    struct sb_rc_inputs in;
    enum { N = 2 * STEPS_PER_DAY };
    double hs[N], cs[N], t[N], q[N], tf[N], x0[2] = { 18.0, 16.0 }, nan_[N];
    int inside = 1, within = 1, sat = 0;

    REQUIRE(synth(&s, 2, 0.0, 5) == 0);
    REQUIRE(sb_rc_discretize(&TRUE2, DT, &d) == 0);
    in = inputs_of(&s, 0);
    for (int k = 0; k < N; k++) {
        int occ = (k % STEPS_PER_DAY) >= 32 && (k % STEPS_PER_DAY) < 72;

        hs[k] = occ ? 21.0 : 16.0;
        cs[k] = occ ? 24.0 : 28.0;
        nan_[k] = NAN;
    }
    REQUIRE(sb_rc_predict_setpoints(&d, x0, &in, hs, cs, N, 20.0, 10.0, t, q) == 0);
    for (int k = 0; k < N; k++) {
        int saturated = q[k] == 20.0 || q[k] == -10.0;

        inside &= saturated || (t[k] >= hs[k] - 1e-9 && t[k] <= cs[k] + 1e-9);
        within &= q[k] <= 20.0 && q[k] >= -10.0;
        sat += saturated;
    }
    CHECK(inside);
    CHECK(within);
    CHECK(sat <= 2);    /* the morning jump 16 -> 21 degC needs more than 20 kW for one step */
    sat = 0;
    /* q is the heat a simulation needs to reproduce t */
    in.q_kw = q;
    REQUIRE(sb_rc_simulate(&d, x0, &in, N, tf, NULL) == 0);
    for (int k = 0; k < N; k++)
        CHECK_DBL(tf[k], t[k], 1e-9);
    /* a 1 kW heater cannot hold 21 degC: saturated, below the band */
    REQUIRE(sb_rc_predict_setpoints(&d, x0, &in, hs, cs, N, 1.0, 10.0, t, q) == 0);
    for (int k = 0; k < N; k++)
        if (q[k] == 1.0 && t[k] < hs[k] - 0.1)
            sat++;
    CHECK(sat > 10);
    /* no setpoints: the zone floats, exactly the simulation with Q = 0 */
    REQUIRE(sb_rc_predict_setpoints(&d, x0, &in, nan_, nan_, N, 20.0, 10.0, t, q) == 0);
    for (int k = 0; k < N; k++)
        s.q[k] = 0.0;
    in.q_kw = s.q;
    REQUIRE(sb_rc_simulate(&d, x0, &in, N, tf, NULL) == 0);
    for (int k = 0; k < N; k++) {
        CHECK_DBL(q[k], 0.0, 0);
        CHECK_DBL(t[k], tf[k], 1e-12);
    }
    hs[40] = 25.0;  /* heating above cooling */
    CHECK_EQ(sb_rc_predict_setpoints(&d, x0, &in, hs, cs, N, 20.0, 10.0, t, q), SB_EINVAL);
    series_free(&s);
}

/* ---------- helpers ---------- */

TEST(q_from_airflow_and_clear_sky)
{
    /* 1 m3/s of 35 degC air into a 21 degC zone: 1.2 * 1005 * 14 W */
    CHECK_DBL(sb_rc_q_from_airflow(1.0, 35.0, 21.0), 1.2 * 1005.0 * 14.0 / 1000.0, 1e-12);
    CHECK(sb_rc_q_from_airflow(0.5, 13.0, 24.0) < 0);
    CHECK(isnan(sb_rc_q_from_airflow(NAN, 13.0, 24.0)));
    /* Boston, 2023-06-21 16:45 UTC (near solar noon): zenith ~ 42.36 -
     * 23.44 = 18.9 degrees, Haurwitz 1098 cos z exp(-0.059 / cos z) */
    {
        double cz = cos(18.92 * M_PI / 180.0), want = 1098.0 * cz * exp(-0.059 / cz);
        double got = sb_rc_clear_sky_ghi(42.36, -71.01, 1687365900000LL);

        CHECK_DBL(got, want, 10.0);
    }
    CHECK_DBL(sb_rc_clear_sky_ghi(42.36, -71.01, 1687320000000LL), 0.0, 0);   /* 00:00 EDT */
    /* southern winter noon is weaker than northern summer noon at the same |lat| */
    CHECK(sb_rc_clear_sky_ghi(-42.36, 0.0, 1687348800000LL) < 500.0);
    CHECK(isnan(sb_rc_clear_sky_ghi(95.0, 0.0, 0)));
}

/* Facade irradiance from GHI: Boston, clear winter noon (2023-01-16 17:00
 * UTC, sun ~26 degrees high, due south): the south wall gets much more
 * than the ground, east and north walls only diffuse and ground light. */
TEST(solar_facade_proxy)
{
    int64_t noon = 1673888400000LL;
    double ghi = 0.9 * sb_rc_clear_sky_ghi(42.36, -71.01, noon);
    double s = sb_rc_solar_facade(ghi, 42.36, -71.01, noon, 180.0);
    double n = sb_rc_solar_facade(ghi, 42.36, -71.01, noon, 0.0);
    double e = sb_rc_solar_facade(ghi, 42.36, -71.01, noon, 90.0);

    printf("# winter noon GHI %.0f W/m2: south %.0f, east %.0f, north %.0f\n", ghi, s, e, n);
    CHECK(ghi > 350 && ghi < 550);
    CHECK(s > 1.3 * ghi);
    CHECK(n < 0.5 * ghi && n > 0.1 * ghi);
    CHECK_DBL(e, n, 0.05 * n);     /* the sun due south: no beam on east or north */
    /* 09:00 EST: the sun is in the south-east */
    CHECK(sb_rc_solar_facade(ghi, 42.36, -71.01, noon - 3 * HOUR_MS, 90.0) >
          2.0 * sb_rc_solar_facade(ghi, 42.36, -71.01, noon - 3 * HOUR_MS, 270.0));
    /* summer noon: the high sun favours the roof over the south wall */
    noon = 1687366800000LL;
    ghi = 0.9 * sb_rc_clear_sky_ghi(42.36, -71.01, noon);
    CHECK(sb_rc_solar_facade(ghi, 42.36, -71.01, noon, 180.0) < 0.6 * ghi);
    CHECK_DBL(sb_rc_solar_facade(0.0, 42.36, -71.01, noon, 180.0), 0.0, 0);
    CHECK(isnan(sb_rc_solar_facade(100.0, 42.36, -71.01, noon, 400.0)));
    CHECK(isnan(sb_rc_solar_facade(NAN, 42.36, -71.01, noon, 180.0)));
}

/* ---------- the JSON form ---------- */

static struct sb_rc_model sample_model(int structure)
{
    struct sb_rc_model m = {
        .p = structure == SB_RC_2R2C ? TRUE2 : P3, .dt_s = DT, .horizon_s = 86400, .t_mass0 = 19.25,
        .obs_gain = 0.3125, .q_heat_max_kw = 8.5, .q_cool_max_kw = 12.25,
        .train_start_ms = APR3, .train_end_ms = APR3 + 16 * DAY_MS, .test_start_ms = APR3 + 16 * DAY_MS,
        .test_end_ms = APR3 + 21 * DAY_MS, .n_train = 1536, .n_test = 480, .iterations = 17,
        .sc = { .rmse_fit = 0.1, .rmse_1step = 0.07, .rmse_24h = 1.0 / 3.0, .max_24h = 0.9,
                .bias_24h = -0.02, .n_traj = 102 },
    };

    m.p.c_air *= 1.0 + 1e-13;   /* a value that needs all 17 digits */
    return m;
}

static int same_model(const struct sb_rc_model *a, const struct sb_rc_model *b)
{
    const struct sb_rc_params *p = &a->p, *q = &b->p;

    return p->structure == q->structure && p->c_air == q->c_air && p->c_mass == q->c_mass &&
           p->r_air_mass == q->r_air_mass && p->r_mass_out == q->r_mass_out &&
           (p->structure == SB_RC_2R2C || p->r_air_out == q->r_air_out) && p->a_sol_air == q->a_sol_air &&
           p->a_sol_mass == q->a_sol_mass && p->g_occ == q->g_occ && p->g_gains == q->g_gains &&
           p->f_rad == q->f_rad && p->q0 == q->q0 && a->dt_s == b->dt_s && a->horizon_s == b->horizon_s &&
           a->t_mass0 == b->t_mass0 && a->obs_gain == b->obs_gain && a->q_heat_max_kw == b->q_heat_max_kw &&
           a->q_cool_max_kw == b->q_cool_max_kw && a->train_start_ms == b->train_start_ms &&
           a->train_end_ms == b->train_end_ms && a->test_start_ms == b->test_start_ms &&
           a->test_end_ms == b->test_end_ms && a->n_train == b->n_train && a->n_test == b->n_test &&
           a->iterations == b->iterations && a->sc.rmse_24h == b->sc.rmse_24h &&
           a->sc.n_traj == b->sc.n_traj && a->sc.bias_24h == b->sc.bias_24h;
}

TEST(json_round_trip)
{
    for (int st = SB_RC_2R2C; st <= SB_RC_3R2C; st++) {
        struct sb_rc_model m = sample_model(st), back;
        char *a = NULL, *b = NULL, err[256] = "";

        REQUIRE(sb_rc_save(&m, &a) == 0);
        if (sb_rc_load(a, strlen(a), &back, err, sizeof err) != 0)
            TAP_FAIL("load: %s", err);
        CHECK(same_model(&m, &back));
        CHECK(st == SB_RC_3R2C || isinf(back.p.r_air_out));
        REQUIRE(sb_rc_save(&back, &b) == 0);
        CHECK_STR(a, b);
        free(a);
        free(b);
    }
    {
        /* scores not computed (a model given by hand) are null */
        struct sb_rc_model m = sample_model(SB_RC_3R2C), back;
        char *a = NULL;

        m.sc.rmse_24h = NAN;
        REQUIRE(sb_rc_save(&m, &a) == 0);
        CHECK(strstr(a, "\"rmse_24h\":null") != NULL);
        CHECK_EQ(sb_rc_load(a, strlen(a), &back, NULL, 0), 0);
        CHECK(isnan(back.sc.rmse_24h));
        free(a);
        m.p.c_mass = -1;
        CHECK_EQ(sb_rc_save(&m, &a), SB_EINVAL);
        CHECK(a == NULL);
    }
}

/* Each case edits the valid document at path (section or NULL for the
 * top level) and must be refused with words in the message. */
struct bad_doc {
    const char *section, *key, *value_json;     /* value NULL = delete the key */
    const char *words;
};

static void check_bad(const char *good, const struct bad_doc *c)
{
    json_t *root = json_loads(good, 0, NULL), *obj = root;
    struct sb_rc_model m;
    char *txt, err[256] = "";

    if (c->section)
        obj = json_object_get(root, c->section);
    if (c->value_json)
        json_object_set_new(obj, c->key, json_loads(c->value_json, JSON_DECODE_ANY, NULL));
    else
        json_object_del(obj, c->key);
    txt = json_dumps(root, JSON_COMPACT);
    CHECK_EQ(sb_rc_load(txt, strlen(txt), &m, err, sizeof err), SB_EINVAL);
    if (!strstr(err, c->words))
        TAP_FAIL("%s.%s=%s: \"%s\" lacks \"%s\"", c->section ? c->section : "", c->key,
                 c->value_json ? c->value_json : "(deleted)", err, c->words);
    free(txt);
    json_decref(root);
}

TEST(json_loader_refuses_malformed)
{
    static const struct bad_doc cases[] = {
        { NULL, "format", "\"sbems-towt\"", "format" },
        { NULL, "version", "2", "version" },
        { NULL, "structure", "\"4R3C\"", "structure" },
        { NULL, "dt_s", "-900", "dt_s" },
        { NULL, "dt_s", "\"900\"", "must be a number" },
        { NULL, "obs_gain", "7", "obs_gain" },
        { NULL, "iterations", "1.5", "an integer" },
        { NULL, "extra", "1", "unknown key" },
        { NULL, "scores", NULL, "missing" },
        { "params", "c_air", "0", "c_air" },
        { "params", "r_mass_out", "1e300", "r_mass_out" },
        { "params", "r_air_out", "null", "r_air_out" },
        { "params", "f_rad", "1.01", "f_rad" },
        { "params", "q1", "0", "unknown key" },
        { "params", "g_occ", NULL, "g_occ: missing" },
        { "params", "g_gains", "[1]", "must be a number" },
        { "capacity", "heat_kw", "-1", "heat_kw" },
        { "train", "n", "-5", "train.n" },
        { "train", "start_ms", "99999999999999999", "start_ms" },
        { "test", "end_ms", "0", "start_ms after end_ms" },
        { "scores", "rmse_24h", "-1", "rmse_24h" },
        { "scores", "trajectories", "null", "an integer" },
    };
    struct sb_rc_model m3 = sample_model(SB_RC_3R2C), m2 = sample_model(SB_RC_2R2C), out;
    char *good = NULL, *good2 = NULL, err[256] = "";
    static const char *const raw[] = {
        "", "{", "[]", "null", "{\"format\":\"sbems-rc\",\"format\":\"sbems-rc\"}", "{\"a\":NaN}",
        "{\"format\":\"sbems-rc\"}",
    };

    REQUIRE(sb_rc_save(&m3, &good) == 0);
    REQUIRE(sb_rc_save(&m2, &good2) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_bad(good, &cases[i]);
    /* a 2R2C with a direct path is not a 2R2C */
    check_bad(good2, &(struct bad_doc){ "params", "r_air_out", "0.01", "null for a 2R2C" });
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        CHECK_EQ(sb_rc_load(raw[i], strlen(raw[i]), &out, err, sizeof err), SB_EINVAL);
    /* every truncation of a valid document is refused, none crashes */
    for (size_t n = 0; n < strlen(good); n++)
        CHECK_EQ(sb_rc_load(good, n, &out, NULL, 0), SB_EINVAL);
    CHECK_EQ(sb_rc_load(good, 70000, &out, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "at most") != NULL);
    free(good);
    free(good2);
}

/* ---------- real physics: the simulator's building ---------- */

#define ZONE "floor2.zone1"         /* a perimeter zone with windows and a VAV box */
#define WARMUP_DAYS 4
#define DATA_DAYS 21
#define MIN_PER_STEP 15

static struct sb_epw *wx;

/* Point indices of the zone and the weather, looked up by name once. */
struct probe {
    struct sb_plant *p;
    int64_t t_ms;
    int temp, flow, dat, occ, lights, plugs, oat, ghi, hvac, htg, clg, sol_kw;
};

static int find(struct sb_plant *p, const char *name)
{
    int i = sb_plant_find(p, name);

    if (i < 0)
        TAP_FAIL("no point %s", name);
    return i;
}

/* Lists the points (as a registry client would) and keeps the indices. */
static int probe_init(struct probe *pr, struct sb_plant *p, int64_t t_ms)
{
    struct sb_plant_point_info info;
    int writable = 0;

    pr->p = p;
    pr->t_ms = t_ms;
    for (int i = 0; i < sb_plant_point_count(p); i++)
        if (sb_plant_point(p, i, &info) == 0 && strncmp(info.name, ZONE ".", strlen(ZONE) + 1) == 0)
            writable += info.writable && info.kind == SB_PK_SETPOINT;
    pr->temp = find(p, ZONE ".temp");
    pr->flow = find(p, ZONE ".vav.flow");
    pr->dat = find(p, ZONE ".vav.dat");
    pr->occ = find(p, ZONE ".occupancy");
    pr->lights = find(p, ZONE ".lights_kw");
    pr->plugs = find(p, ZONE ".plugs_kw");
    pr->hvac = find(p, ZONE ".hvac_kw");
    pr->htg = find(p, ZONE ".htg_sp");
    pr->clg = find(p, ZONE ".clg_sp");
    pr->oat = find(p, "weather.oat");
    pr->ghi = find(p, "weather.ghi");
    pr->sol_kw = find(p, ZONE ".solar_kw");
    return writable >= 2 && pr->temp >= 0 && pr->flow >= 0 && pr->dat >= 0 && pr->occ >= 0 &&
           pr->lights >= 0 && pr->plugs >= 0 && pr->hvac >= 0 && pr->htg >= 0 && pr->clg >= 0 &&
           pr->oat >= 0 && pr->ghi >= 0 && pr->sol_kw >= 0 ? 0 : SB_ENOENT;
}

static double rd(const struct probe *pr, int idx)
{
    double v = NAN;

    sb_plant_read(pr->p, idx, &v);
    return v;
}

/* Runs one data step (15 one-minute plant steps) with the zone setpoints
 * written as overrides; fills the interval means of the inputs into s at
 * k, the metered heat (hvac_kw) into *hvac. */
static int plant_interval(struct probe *pr, struct series *s, size_t k, double hsp, double csp, double *hvac)
{
    double a[8] = { 0 };

    if (sb_plant_write(pr->p, pr->htg, hsp) != 0 || sb_plant_write(pr->p, pr->clg, csp) != 0)
        return SB_EINVAL;
    for (int i = 0; i < MIN_PER_STEP; i++) {
        pr->t_ms += 60000;
        if (sb_plant_step(pr->p, 60.0, pr->t_ms) != 0)
            return SB_EINVAL;
        a[0] += rd(pr, pr->oat);
        a[1] += rd(pr, pr->ghi);
        a[2] += sb_rc_q_from_airflow(rd(pr, pr->flow), rd(pr, pr->dat), rd(pr, pr->temp));
        a[3] += rd(pr, pr->occ);
        a[4] += rd(pr, pr->lights) + rd(pr, pr->plugs);
        a[5] += rd(pr, pr->hvac);
        a[6] += sb_rc_solar_facade(rd(pr, pr->ghi), wx->lat, wx->lon, pr->t_ms, 180.0);
        a[7] += rd(pr, pr->sol_kw);
    }
    s->to[k] = a[0] / MIN_PER_STEP;
    s->sol[k] = a[1] / MIN_PER_STEP;
    s->q[k] = a[2] / MIN_PER_STEP;
    s->occ[k] = a[3] / MIN_PER_STEP;
    s->g[k] = a[4] / MIN_PER_STEP;
    s->fac[k] = a[6] / MIN_PER_STEP;
    s->sg[k] = a[7] / MIN_PER_STEP;
    *hvac = a[5] / MIN_PER_STEP;
    return 0;
}

/* Local standard time (EST) hour and weekday (0 = Sunday) of t_ms. */
static void local_time(int64_t t_ms, double *hour, int *wday)
{
    int64_t s = t_ms / 1000 - 5 * 3600, days = s / 86400;

    *hour = (double)(s - days * 86400) / 3600.0;
    *wday = (int)((days + 4) % 7);
}

/* The excitation schedule: occupied weekday hours get a random comfort
 * band redrawn every 3 h (heating 19.5..22, cooling 1.5..3.5 K above),
 * other hours the night setback, of which 1 block in 3 is held at a
 * random 18..20 degC instead (a pre-heat test). */
struct sched {
    uint64_t seed;          /* PRNG state */
    int occ;                /* occupied in the last call */
    double h, c;            /* current band, degC */
};

static void excite(int64_t t_ms, struct sched *sc, double *hsp, double *csp)
{
    double hour;
    int wday, occ;

    local_time(t_ms, &hour, &wday);
    occ = wday >= 1 && wday <= 5 && hour >= 6 && hour < 19;
    if (fmod(hour, 3.0) == 0 || occ != sc->occ || sc->h == 0) {
        double r1 = urand(&sc->seed), r2 = urand(&sc->seed), r3 = urand(&sc->seed);

        sc->h = occ ? 19.5 + 2.5 * r1 : r3 < 0.33 ? 18.0 + 2.0 * r1 : 15.6;
        sc->c = occ ? sc->h + 1.5 + 2.0 * r2 : 26.7;
        sc->occ = occ;
    }
    *hsp = sc->h;
    *csp = sc->c;
}

/* Builds the default plant WARMUP_DAYS before start_ms and records
 * DATA_DAYS of 15-min data of ZONE into s under the excitation schedule. */
static int plant_collect(int64_t start_ms, struct probe *pr, struct series *s, uint64_t seed)
{
    struct sched sc = { .seed = seed };
    struct sb_plant_config cfg;
    struct sb_plant *p = NULL;
    char err[256];
    double hvac, hsp, csp;
    size_t n = DATA_DAYS * STEPS_PER_DAY;
    int64_t t0 = start_ms - WARMUP_DAYS * DAY_MS;

    sb_plant_config_default(&cfg);
    if (sb_plant_new(&cfg, wx, t0, &p, err, sizeof err) != 0 || probe_init(pr, p, t0) != 0 ||
        series_new(s, n) != 0) {
        TAP_FAIL("plant: %s", err);
        sb_plant_free(p);
        return SB_EINVAL;
    }
    for (size_t k = 0; k < WARMUP_DAYS * STEPS_PER_DAY; k++) {
        excite(pr->t_ms, &sc, &hsp, &csp);
        if (plant_interval(pr, s, 0, hsp, csp, &hvac) != 0)
            return SB_EINVAL;
    }
    for (size_t k = 0; k < n; k++) {
        s->t[k] = rd(pr, pr->temp);
        excite(pr->t_ms, &sc, &hsp, &csp);
        if (plant_interval(pr, s, k, hsp, csp, &hvac) != 0)
            return SB_EINVAL;
        s->tm[k] = hvac;    /* metered, for the Q helper's check */
    }
    return 0;
}

static int load_weather(void)
{
    char path[512], err[256];

    if (wx)
        return 0;
    repo_path(path, sizeof path, "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    if (!(wx = malloc(sizeof *wx)) || sb_epw_load(path, wx, err, sizeof err) != 0) {
        TAP_FAIL("weather %s: %s", path, err);
        return SB_EIO;
    }
    return 0;
}

/* The plant case shared by the plant tests: one simulated history, the
 * models identified from it, the plant left running at its end. */
struct plant_case {
    int ready;                  /* collected and identified */
    struct probe pr;            /* the plant and its point indices */
    struct series s;            /* DATA_DAYS at 15 min */
    struct sb_rc_model ghi;     /* identified with GHI as the solar proxy */
    struct sb_rc_model fac;     /* identified with the south-facade proxy */
    struct sb_rc_model sg;      /* identified with the zone's true solar gain */
};

static struct plant_case PC;

static int identify_with(struct series *s, const double *solar, int structure, struct sb_rc_model *m)
{
    struct sb_rc_data d = data_of(s);
    struct sb_rc_opts o = { .structure = structure };
    char err[256] = "";
    int rc;

    d.u.solar = solar;
    rc = sb_rc_identify(&d, &o, m, err, sizeof err);
    if (rc != 0)
        TAP_FAIL("identify: %s", err);
    return rc;
}

/* Three weeks from Mon 2023-04-03 (Boston spring: heating nights, sunny
 * days that need cooling); identified on 15.75 days, scored on 5.25. */
static int plant_case_init(struct plant_case *pc)
{
    if (pc->ready)
        return 0;
    if (load_weather() != 0 || plant_collect(APR3, &pc->pr, &pc->s, 11) != 0 ||
        identify_with(&pc->s, pc->s.sol, SB_RC_3R2C, &pc->ghi) != 0 ||
        identify_with(&pc->s, pc->s.fac, SB_RC_3R2C, &pc->fac) != 0 ||
        identify_with(&pc->s, pc->s.sg, SB_RC_3R2C, &pc->sg) != 0)
        return SB_EINVAL;
    pc->ready = 1;
    return 0;
}

static void plant_case_free(struct plant_case *pc)
{
    sb_plant_free(pc->pr.p);
    series_free(&pc->s);
    free(wx);
}

static void print_model(const char *what, const struct sb_rc_model *m)
{
    const struct sb_rc_params *p = &m->p;

    printf("# %s %s: C_i %.3g C_m %.3g J/K, R_im %.3g R_mo %.3g R_io %.3g K/W\n", what,
           p->structure == SB_RC_2R2C ? "2R2C" : "3R2C", p->c_air, p->c_mass, p->r_air_mass,
           p->r_mass_out, p->r_air_out);
    printf("#   a_i %.2f a_m %.2f m2, g_occ %.1f W, g_g %.2f, f %.2f, q0 %.0f W, L %.2f, "
           "cap +%.1f/-%.1f kW, %d it\n",
           p->a_sol_air, p->a_sol_mass, p->g_occ, p->g_gains, p->f_rad, p->q0, m->obs_gain,
           m->q_heat_max_kw, m->q_cool_max_kw, m->iterations);
    printf("#   RMSE fit %.3f K, held out: 1-step %.3f K, 24 h %.3f K (bias %+.3f, max %.2f, %d traj)\n",
           m->sc.rmse_fit, m->sc.rmse_1step, m->sc.rmse_24h, m->sc.bias_24h, m->sc.max_24h, m->sc.n_traj);
}

TEST(plant_zone_24h_ahead)
{
    struct plant_case *pc = &PC;
    double qdiff = 0;

    REQUIRE(plant_case_init(pc) == 0);
    print_model("plant " ZONE " solar=GHI", &pc->ghi);
    print_model("plant " ZONE " solar=south facade", &pc->fac);
    /* the helper's Q is the plant's own supply-air heat */
    for (size_t k = 0; k < pc->s.n; k++)
        qdiff = fmax(qdiff, fabs(pc->s.q[k] - pc->s.tm[k]));
    CHECK(qdiff < 1e-6);
    /* GHI: the seasonal facade/horizontal ratio is the main error left */
    CHECK(pc->ghi.sc.rmse_1step < 0.2);
    CHECK(pc->ghi.sc.rmse_24h <= 1.0);
    CHECK(pc->ghi.sc.n_traj >= 90);
    /* facade proxy: the network is then nearly the plant's own (ISO
     * 13790 5R1C with the surface node eliminated is a 3R2C) */
    CHECK(pc->fac.sc.rmse_1step < 0.1);
    CHECK(pc->fac.sc.rmse_24h <= 0.3);
    CHECK(fabs(pc->fac.sc.bias_24h) < 0.15);
    /* C_m against the plant's 165 kJ/(m2 K) x 204.75 m2 */
    CHECK(rel_err(pc->fac.p.c_mass, 165000.0 * 204.75) < 0.15);
}

/* The plant's zone is ISO 13790's 5R1C (src/sim/plant/zone.c) with an
 * air capacity; its surface node has no capacity, so eliminating it
 * (star-delta) leaves exactly a 3R2C.  Given the zone's true solar gain as
 * the solar input, identification must find that network, whose values
 * are computed here by hand from the default site (floor 2, south zone:
 * no roof, 4.5 m deep, 50 m long facade). */
TEST(plant_network_matches_iso13790)
{
    struct plant_case *pc = &PC;
    struct sb_plant_config c;
    double w, l, af, vol, win, opq, h_inf, h_w, h_is, h_ms, h_op, h_em, sum, h_ao, h_am, h_mo;
    double fm, fst, to_air, to_mass, g_air, g_mass;
    const struct sb_rc_params *p = &pc->sg.p;

    REQUIRE(plant_case_init(pc) == 0);
    sb_plant_config_default(&c);
    w = sqrt(c.floor_area_total / c.floors / c.aspect);
    l = c.aspect * w;
    af = (l - c.perimeter_depth) * c.perimeter_depth;
    vol = af * c.floor_height * 0.75;
    win = c.wwr * l * c.floor_height;
    opq = (1 - c.wwr) * l * c.floor_height;
    h_inf = 1200.0 * c.infiltration_ach * vol / 3600.0;     /* ISO 13790 eq. 21 */
    h_w = c.u_window * win;
    h_is = 3.45 * 4.5 * af;                                  /* 7.2.2.2 */
    h_ms = 9.1 * c.am_factor * af;                           /* 12.2.2 */
    h_op = c.u_wall * opq;
    h_em = 1.0 / (1.0 / h_op - 1.0 / h_ms);                  /* eq. 63 */
    sum = h_is + h_w + h_ms;
    h_ao = h_is * h_w / sum + h_inf;
    h_am = h_is * h_ms / sum;
    h_mo = h_ms * h_w / sum + h_em;
    /* gains: half of the internal gains convective, the radiant rest and
     * all solar split by eqs. C.2-C.3, the surface share then by conductance */
    fm = c.am_factor / 4.5;
    fst = 1.0 - fm - h_w / (9.1 * 4.5 * af);
    to_air = fst * h_is / sum;
    to_mass = fm + fst * h_ms / sum;
    g_air = 0.5 + 0.5 * to_air;
    g_mass = 0.5 * to_mass;
    print_model("plant " ZONE " solar=true gain (kW)", &pc->sg);
    printf("#   ISO 13790 by hand: C_m %.3g, R_im %.3g, R_mo %.3g, R_io %.3g, a_i %.1f, a_m %.1f, "
           "g_g %.3f, f %.3f\n", c.cm_per_area * af, 1 / h_am, 1 / h_mo, 1 / h_ao, 1000 * to_air,
           1000 * to_mass, g_air + g_mass, g_mass / (g_air + g_mass));
    CHECK(rel_err(p->c_mass, c.cm_per_area * af) < 0.03);
    CHECK(rel_err(p->r_air_mass, 1.0 / h_am) < 0.03);
    CHECK(rel_err(p->r_mass_out, 1.0 / h_mo) < 0.03);
    CHECK(rel_err(p->r_air_out, 1.0 / h_ao) < 0.03);
    CHECK(rel_err(p->a_sol_air, 1000.0 * to_air) < 0.05);
    CHECK(rel_err(p->a_sol_mass, 1000.0 * to_mass) < 0.03);
    CHECK(rel_err(p->g_gains, g_air + g_mass) < 0.05);
    CHECK(fabs(p->f_rad - g_mass / (g_air + g_mass)) < 0.03);
    CHECK(rel_err(p->g_occ, c.w_per_person * (g_air + g_mass)) < 0.15);
    /* the air node: 2 x rho c V of air, and the furniture the fit lumps in */
    CHECK(rel_err(p->c_air, c.c_air_factor * 1200.0 * vol) < 0.10);
    CHECK(pc->sg.sc.rmse_24h < 0.1);
}

/* Runs the plant one more day under a narrow occupied band and compares
 * what it does with the model's ideal-thermostat prediction from the
 * observed state (the day's weather, occupancy and gains given). */
TEST(plant_setpoint_schedule)
{
    struct plant_case *pc = &PC;
    enum { N = STEPS_PER_DAY, HIST = 3 * STEPS_PER_DAY };
    struct series day, hist;
    struct sb_rc_disc d;
    struct sb_rc_inputs in;
    const struct sb_rc_model *m = &pc->fac;
    double hs[N], cs[N], t[N], q[N], meas[N + 1], x0[2], hvac, e_model = 0, e_plant = 0, abs_plant = 0;
    double se = 0, qmin = 0, qmax = 0;
    int inside = 1;

    REQUIRE(plant_case_init(pc) == 0);
    REQUIRE(series_new(&day, N) == 0);
    REQUIRE(sb_rc_discretize(&m->p, DT, &d) == 0);
    /* state now (the end of the data) from the last 3 days and the
     * temperature now; the input of the last sample is the last used */
    REQUIRE(series_new(&hist, HIST + 1) == 0);
    for (size_t k = 0; k < HIST; k++) {
        size_t j = pc->s.n - HIST + k;

        hist.t[k] = pc->s.t[j];
        hist.to[k] = pc->s.to[j];
        hist.fac[k] = pc->s.fac[j];
        hist.q[k] = pc->s.q[j];
        hist.occ[k] = pc->s.occ[j];
        hist.g[k] = pc->s.g[j];
    }
    hist.t[HIST] = rd(&pc->pr, pc->pr.temp);
    in = inputs_of(&hist, 0);
    in.solar = hist.fac;
    REQUIRE(sb_rc_observe(&d, m->obs_gain, hist.t, &in, HIST + 1, x0) == 0);
    CHECK_DBL(x0[0], hist.t[HIST], 0);
    for (int k = 0; k < N; k++) {
        double hour;
        int wday;

        local_time(pc->pr.t_ms, &hour, &wday);
        hs[k] = wday >= 1 && wday <= 5 && hour >= 6 && hour < 19 ? 21.5 : 15.6;
        cs[k] = hs[k] > 20 ? 22.5 : 26.7;
        meas[k] = rd(&pc->pr, pc->pr.temp);
        REQUIRE(plant_interval(&pc->pr, &day, (size_t)k, hs[k], cs[k], &hvac) == 0);
    }
    meas[N] = rd(&pc->pr, pc->pr.temp);
    in = inputs_of(&day, 0);
    in.solar = day.fac;
    in.q_kw = NULL;
    REQUIRE(sb_rc_predict_setpoints(&d, x0, &in, hs, cs, N, m->q_heat_max_kw, m->q_cool_max_kw, t, q) == 0);
    for (int k = 0; k < N; k++) {
        int saturated = q[k] >= m->q_heat_max_kw || q[k] <= -m->q_cool_max_kw;

        inside &= saturated || (t[k] >= hs[k] - 1e-9 && t[k] <= cs[k] + 1e-9);
        se += (t[k] - meas[k + 1]) * (t[k] - meas[k + 1]);
        e_model += q[k] * 0.25;
        e_plant += day.q[k] * 0.25;
        abs_plant += fabs(day.q[k]) * 0.25;
        qmin = fmin(qmin, q[k]);
        qmax = fmax(qmax, q[k]);
    }
    printf("# setpoint day: model vs plant zone temperature RMSE %.2f K; net heat model %.1f kWh, "
           "plant %.1f kWh (plant |Q| %.1f kWh); model Q %.1f..%.1f kW\n",
           sqrt(se / N), e_model, e_plant, abs_plant, qmin, qmax);
    CHECK(inside);
    CHECK(qmax <= m->q_heat_max_kw && qmin >= -m->q_cool_max_kw);
    CHECK(sqrt(se / N) < 0.6);
    CHECK(fabs(e_model - e_plant) < 0.25 * abs_plant + 1.0);
    series_free(&day);
    series_free(&hist);
}

int main(void)
{
    TAP_START();
    RUN(discretize_matches_rk4);
    RUN(discretize_steady_states);
    RUN(discretize_composes_to_planning_step);
    RUN(discretize_rejects_bad_params);
    RUN(identify_recovers_known_2r2c);
    RUN(observe_tracks_unmeasured_mass);
    RUN(identify_refuses_what_cannot_identify);
    RUN(setpoints_keep_band_within_capacity);
    RUN(q_from_airflow_and_clear_sky);
    RUN(solar_facade_proxy);
    RUN(json_round_trip);
    RUN(json_loader_refuses_malformed);
    RUN(plant_zone_24h_ahead);
    RUN(plant_network_matches_iso13790);
    RUN(plant_setpoint_schedule);
    plant_case_free(&PC);
    TAP_END();
}

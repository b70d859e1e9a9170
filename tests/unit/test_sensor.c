/* test_sensor.c - point checks (src/fdd/sensor.c): each sensor and meter
 * check fires just past its threshold and not just inside it, clears when
 * evaluated false, drift of 1 K/day is caught within 12 h, configuration
 * tables and setters name the field, and the time rule leaves the state
 * unchanged. */
#include "tap.h"

#include "core/err.h"
#include "fdd/sensor.h"

#define B(id) SB_SENSOR_BIT(id)
#define M(id) SB_METER_BIT(id)

static double gauss(uint64_t *s)
{
    double u1 = ((tap_rand(s) >> 11) + 1) * 0x1.0p-53;
    double u2 = (tap_rand(s) >> 11) * 0x1.0p-53;

    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* A temperature point with only the check under test switched on. */
static struct sb_sensor_conf only(int check)
{
    struct sb_sensor_conf c;

    sb_sensor_conf_for_kind(&c, "temperature");
    if (check != SB_SENSOR_FLATLINE)
        c.flat_window_s = 0;
    if (check != SB_SENSOR_RANGE)
        c.lo = c.hi = NAN;
    if (check != SB_SENSOR_SPIKE)
        c.spike_n = 0;
    if (check != SB_SENSOR_GAP)
        c.gap_s = 0;
    if (check != SB_SENSOR_DRIFT)
        c.learn_s = 0;
    return c;
}

/* ------------------------------------------------------------------ conf */

static void table_sane(const struct sb_fdd_param *p, size_t n, const void *conf)
{
    for (size_t i = 0; i < n; i++) {
        double v = sb_fdd_param_get(&p[i], conf);

        CHECK(p[i].name && p[i].unit && p[i].doc && p[i].doc[0]);
        CHECK(p[i].lo <= p[i].hi);
        if (!isnan(v) && !(v >= p[i].lo && v <= p[i].hi))
            TAP_FAIL("default %s = %g outside %g..%g", p[i].name, v, p[i].lo, p[i].hi);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p[i].name, p[j].name) == 0)
                TAP_FAIL("duplicate parameter %s", p[i].name);
    }
}

TEST(sensor_conf)
{
    struct sb_sensor_conf c;
    struct sb_sensor s;
    char err[160];
    size_t n;
    const struct sb_fdd_param *p = sb_sensor_conf_params(&n);
    static const char *const kinds[] = { "temperature", "humidity", "co2", "pressure", "power", "flow", "position" };

    sb_sensor_conf_default(&c);
    CHECK_EQ(sb_sensor_conf_check(&c, err, sizeof err), 0);
    REQUIRE(n > 10);
    table_sane(p, n, &c);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        CHECK_EQ(sb_sensor_conf_for_kind(&c, kinds[i]), 0);
        CHECK_EQ(sb_sensor_conf_check(&c, err, sizeof err), 0);
    }
    sb_sensor_conf_for_kind(&c, "temperature");
    CHECK_DBL(c.lo, -40, 0);
    CHECK_DBL(c.hi, 80, 0);
    sb_sensor_conf_for_kind(&c, "co2");
    CHECK_DBL(c.lo, 250, 0);
    CHECK_DBL(c.hi, 5000, 0);
    sb_sensor_conf_for_kind(&c, "pressure");
    CHECK_DBL(c.lo, -500, 0);
    CHECK_DBL(c.hi, 3000, 0);
    sb_sensor_conf_for_kind(&c, "humidity");
    CHECK_DBL(c.hi, 100, 0);
    sb_sensor_conf_for_kind(&c, "position");
    CHECK_DBL(c.hi, 100, 0);
    CHECK_EQ(c.expect_change, 0);
    sb_sensor_conf_for_kind(&c, "power");
    CHECK_DBL(c.lo, 0, 0);
    CHECK(isnan(c.hi));
    CHECK_EQ(sb_sensor_conf_for_kind(&c, "voltage"), SB_ENOENT);
    CHECK(isnan(c.lo));   /* neutral defaults */

    /* Setter: by name, range, whole numbers, NAN only for the limits. */
    CHECK_EQ(sb_sensor_conf_set(&c, "gap_s", 900, err, sizeof err), 0);
    CHECK_EQ(c.gap_s, 900);
    CHECK_EQ(sb_sensor_conf_set(&c, "spike_k", 4.5, err, sizeof err), 0);
    CHECK_DBL(c.spike_k, 4.5, 0);
    CHECK_EQ(sb_sensor_conf_set(&c, "gap_secs", 900, err, sizeof err), SB_ENOENT);
    CHECK(strstr(err, "gap_secs") != NULL);
    CHECK_EQ(sb_sensor_conf_set(&c, "spike_k", 1, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "spike_k") != NULL);
    CHECK_EQ(sb_sensor_conf_set(&c, "gap_s", 90.5, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "gap_s") != NULL);
    CHECK_EQ(c.gap_s, 900);              /* unchanged by a rejected value */
    CHECK_EQ(sb_sensor_conf_set(&c, "flat_eps", NAN, err, sizeof err), SB_ERANGE);
    CHECK_EQ(sb_sensor_conf_set(&c, "hi", NAN, err, sizeof err), 0);
    CHECK(isnan(c.hi));
    CHECK_EQ(sb_sensor_conf_set(&c, "lo", 10, err, sizeof err), 0);
    CHECK_EQ(sb_sensor_conf_set(&c, "hi", 5, err, sizeof err), 0);
    CHECK_EQ(sb_sensor_conf_check(&c, err, sizeof err), SB_EINVAL);   /* lo >= hi */
    CHECK(strstr(err, "lo") != NULL);
    CHECK_EQ(sb_sensor_init(&s, &c), SB_EINVAL);
    sb_sensor_conf_default(&c);
    c.spike_n = 3;
    CHECK_EQ(sb_sensor_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "spike_n") != NULL);
    sb_sensor_conf_default(&c);
    c.drift_h = -1;
    CHECK_EQ(sb_sensor_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "drift_h") != NULL);
}

TEST(time_rule)
{
    struct sb_sensor_conf c;
    struct sb_sensor s, copy;
    struct sb_sensor_result r;

    sb_sensor_conf_for_kind(&c, "temperature");
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    CHECK_EQ(sb_sensor_step(&s, 100, 20, &r), 0);
    copy = s;
    CHECK_EQ(sb_sensor_step(&s, 100, 21, &r), SB_EINVAL);
    CHECK_EQ(sb_sensor_step(&s, 99, 21, &r), SB_EINVAL);
    CHECK_EQ(sb_sensor_step(&s, INT64_C(1) << 53, 21, &r), SB_ERANGE);
    CHECK(memcmp(&s, &copy, sizeof s) == 0);
    CHECK_EQ(sb_sensor_tick(&s, 100, &r), 0);      /* a tick may share the reading's time */
    CHECK_EQ(sb_sensor_tick(&s, 200, &r), 0);
    CHECK_EQ(sb_sensor_tick(&s, 200, &r), 0);      /* ... and repeat */
    copy = s;
    CHECK_EQ(sb_sensor_tick(&s, 199, &r), SB_EINVAL);
    CHECK_EQ(sb_sensor_step(&s, 150, 21, &r), SB_EINVAL);  /* before the last tick */
    CHECK(memcmp(&s, &copy, sizeof s) == 0);
    CHECK_EQ(sb_sensor_step(&s, 200, 21, &r), 0);  /* at the tick's time: fine */
}

/* ----------------------------------------------------------------- RANGE */

TEST(range)
{
    struct sb_sensor_conf c = only(SB_SENSOR_RANGE);
    struct sb_sensor s;
    struct sb_sensor_result r;
    struct sb_sensor_finding f;
    int64_t t = 0;

    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_step(&s, t += 60, 80.0, &r);          /* on the limit: inside */
    CHECK_EQ(r.evaluated, B(SB_SENSOR_RANGE));
    CHECK_EQ(r.fired, 0);
    sb_sensor_step(&s, t += 60, -40.0, &r);
    CHECK_EQ(r.fired, 0);
    sb_sensor_step(&s, t += 60, 80.01, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_RANGE));
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_RANGE, &f), 0);
    CHECK_DBL(f.limit, 80, 0);
    CHECK_DBL(f.value, 80.01, 0);
    CHECK_EQ(f.fired_at, t);
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_FLATLINE, &f), SB_ENOENT);
    CHECK_EQ(sb_sensor_finding(&s, 9, &f), SB_EINVAL);
    sb_sensor_step(&s, t += 60, 85, &r);
    CHECK_EQ(r.fired, B(SB_SENSOR_RANGE));
    CHECK_EQ(r.raised, 0);                          /* latched, not raised again */
    sb_sensor_step(&s, t += 60, NAN, &r);           /* missing: no evaluation */
    CHECK_EQ(r.evaluated, 0);
    CHECK_EQ(r.active, B(SB_SENSOR_RANGE));
    sb_sensor_step(&s, t += 60, 79.9, &r);
    CHECK_EQ(r.cleared, B(SB_SENSOR_RANGE));
    CHECK_EQ(r.active, 0);
    sb_sensor_step(&s, t += 60, -40.01, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_RANGE));
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_RANGE, &f), 0);
    CHECK_DBL(f.limit, -40, 0);

    /* Persistence: range_delay_s 600. */
    c.range_delay_s = 600;
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_step(&s, 1000, 90, &r);
    CHECK_EQ(r.fired, 0);
    sb_sensor_step(&s, 1599, 90, &r);
    CHECK_EQ(r.fired, 0);
    sb_sensor_step(&s, 1600, 90, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_RANGE));
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_RANGE, &f), 0);
    CHECK_EQ(f.since, 1000);

    /* Power: below 0 is out of range unless allow_negative. */
    sb_sensor_conf_for_kind(&c, "power");
    c.flat_window_s = 0;
    c.spike_n = 0;
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_step(&s, 1, -0.5, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_RANGE));
    sb_sensor_step(&s, 2, 1e6, &r);                 /* no upper limit */
    CHECK_EQ(r.cleared, B(SB_SENSOR_RANGE));
    c.allow_negative = 1;
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_step(&s, 1, -0.5, &r);
    CHECK_EQ(r.fired, 0);
}

/* -------------------------------------------------------------- FLATLINE */

TEST(flatline)
{
    struct sb_sensor_conf c = only(SB_SENSOR_FLATLINE);
    struct sb_sensor s;
    struct sb_sensor_result r;
    struct sb_sensor_finding f;
    int64_t t;

    c.flat_window_s = 3600;
    c.flat_eps = 0.0625;                            /* binary-exact, so the edge is exact */
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    /* Wobbling by exactly eps still counts as flat. */
    for (t = 0; t <= 3600; t += 60) {
        sb_sensor_step(&s, t, 21.0 + (t / 60 % 2) * 0.0625, &r);
        CHECK_EQ(r.fired, 0);                       /* 3600 s is not longer than 3600 */
    }
    sb_sensor_step(&s, 3660, 21.0, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_FLATLINE));
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_FLATLINE, &f), 0);
    CHECK_EQ(f.since, 0);
    CHECK_EQ(f.flat_s, 3660);
    CHECK_DBL(f.flat_max - f.flat_min, 0.0625, 0);
    /* Not expected to vary now (plant off): stays active, not evaluated. */
    struct sb_sensor_sample in = { .t = 3720, .x = 21.0, .ref = NAN, .expect_change = 0 };
    sb_sensor_step_ex(&s, &in, &r);
    CHECK_EQ(r.evaluated, 0);
    CHECK_EQ(r.active, B(SB_SENSOR_FLATLINE));
    /* A move clears, even while not expected to vary. */
    in.t = 3780;
    in.x = 21.2;
    sb_sensor_step_ex(&s, &in, &r);
    CHECK_EQ(r.cleared, B(SB_SENSOR_FLATLINE));

    /* Just more than eps apart every other reading: never flat. */
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    for (t = 0; t <= 3 * 3600; t += 60) {
        sb_sensor_step(&s, t, 21.0 + (t / 60 % 2) * (0.0625 + 1.0 / 1024), &r);
        CHECK_EQ(r.fired, 0);
    }

    /* Not expected to vary (per sample): a stuck value is not judged; the
     * flat time counts only while it should vary. */
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    in.expect_change = 0;
    for (t = 0; t <= 4 * 3600; t += 60) {
        in.t = t;
        in.x = 18;
        sb_sensor_step_ex(&s, &in, &r);
        CHECK_EQ(r.fired, 0);
    }
    in.expect_change = 1;
    for (t = 4 * 3600 + 60; t <= 5 * 3600; t += 60) {
        in.t = t;
        sb_sensor_step_ex(&s, &in, &r);
        CHECK_EQ(r.fired, 0);
    }
    in.t = 5 * 3600 + 60;
    sb_sensor_step_ex(&s, &in, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_FLATLINE));

    /* Conf: expect_change 0 switches it off for the point. */
    c.expect_change = 0;
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    for (t = 0; t <= 5 * 3600; t += 300) {
        sb_sensor_step(&s, t, 18, &r);
        CHECK_EQ(r.fired, 0);
    }
}

/* ----------------------------------------------------------------- SPIKE */

/* One hour-plus of readings each minute around 21 °C with single-reading
 * +3 K spikes at the given minutes; returns the minute SPIKE was raised
 * (-1: never) and the minute it cleared into *cleared_at. */
static int spike_run(const int *at, int n_at, int minutes, int *cleared_at, int *max_spikes)
{
    struct sb_sensor_conf c = only(SB_SENSOR_SPIKE);
    struct sb_sensor s;
    struct sb_sensor_result r;
    struct sb_sensor_finding f;
    uint64_t seed = 99;
    int raised = -1;

    *cleared_at = -1;
    *max_spikes = 0;
    if (sb_sensor_init(&s, &c) != 0)
        return -2;
    for (int m = 0; m < minutes; m++) {
        double x = 21 + 0.03 * gauss(&seed);

        for (int i = 0; i < n_at; i++)
            if (at[i] == m)
                x += 3;
        sb_sensor_step(&s, (int64_t)m * 60, x, &r);
        if (r.raised & B(SB_SENSOR_SPIKE)) {
            raised = m;
            if (sb_sensor_finding(&s, SB_SENSOR_SPIKE, &f) == 0) {
                *max_spikes = f.spikes;
                if (!(f.spike_x > f.spike_median + 2.5))
                    TAP_FAIL("spike evidence %g vs median %g", f.spike_x, f.spike_median);
            }
        }
        if (r.cleared & B(SB_SENSOR_SPIKE))
            *cleared_at = m;
    }
    return raised;
}

TEST(spike)
{
    /* isolated spikes: spike_n (15) calm readings between them */
    static const int three[] = { 17, 33, 49 }, four[] = { 17, 33, 49, 65 }, close[] = { 17, 25, 33, 41, 49 };
    int cleared, spikes;

    /* 3 spikes in an hour: allowed (spike_max 3). */
    CHECK_EQ(spike_run(three, 3, 150, &cleared, &spikes), -1);
    /* A 4th: fires when it is confirmed (the reading after it). */
    CHECK_EQ(spike_run(four, 4, 150, &cleared, &spikes), 66);
    CHECK_EQ(spikes, 4);
    /* Clears when the first leaves the rolling hour: at minute 77
     * (spikes after 77*60 - 3600 = minute 17 count). */
    CHECK_EQ(cleared, 77);
    /* Departures closer than spike_n readings are not isolated: only the
     * first of a run counts (a loop oscillating is not a spiking sensor). */
    CHECK_EQ(spike_run(close, 5, 150, &cleared, &spikes), -1);

    /* A step in level is not a spike. */
    {
        struct sb_sensor_conf c = only(SB_SENSOR_SPIKE);
        struct sb_sensor s;
        struct sb_sensor_result r;
        uint64_t seed = 5;

        c.spike_max = 0;                /* any single spike would fire */
        REQUIRE(sb_sensor_init(&s, &c) == 0);
        for (int m = 0; m < 180; m++) {
            sb_sensor_step(&s, (int64_t)m * 60, (m < 60 ? 21 : 24) + 0.03 * gauss(&seed), &r);
            CHECK_EQ(r.fired, 0);
        }
        CHECK_EQ(s.sp_n, 0);
    }

    /* A loop oscillating sample to sample (a supply temperature hunting at
     * start-up, 8 <-> 23 degC) is not a sensor throwing spikes; the same
     * departures from a calm signal are. */
    {
        struct sb_sensor_conf c = only(SB_SENSOR_SPIKE);
        struct sb_sensor s;
        struct sb_sensor_result r;
        uint64_t seed = 9;

        c.spike_max = 0;
        REQUIRE(sb_sensor_init(&s, &c) == 0);
        for (int m = 0; m < 120; m++) {
            double x = m < 30 ? 24 + 0.03 * gauss(&seed) : (m % 2 ? 8.0 : 23.0) + 0.5 * gauss(&seed);
            sb_sensor_step(&s, (int64_t)m * 60, x, &r);
            CHECK_EQ(r.fired, 0);
        }
        CHECK_EQ(s.sp_n, 0);
        REQUIRE(sb_sensor_init(&s, &c) == 0);
        int fired = 0;
        for (int m = 0; m < 60; m++) {
            double x = 24 + 0.03 * gauss(&seed) + (m == 40 ? -15 : 0);
            sb_sensor_step(&s, (int64_t)m * 60, x, &r);
            fired |= (r.fired & SB_SENSOR_BIT(SB_SENSOR_SPIKE)) != 0;
        }
        CHECK(fired);
        CHECK_EQ(s.sp_n, 1);
    }
}

/* ------------------------------------------------------------------- GAP */

TEST(gap)
{
    struct sb_sensor_conf c = only(SB_SENSOR_GAP);
    struct sb_sensor s;
    struct sb_sensor_result r;
    struct sb_sensor_finding f;
    char buf[512];

    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_step(&s, 1000, 20, &r);
    sb_sensor_tick(&s, 4600, &r);                   /* exactly gap_s: inside */
    CHECK_EQ(r.evaluated, B(SB_SENSOR_GAP));
    CHECK_EQ(r.fired, 0);
    sb_sensor_tick(&s, 4601, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_GAP));
    CHECK_EQ(sb_sensor_finding(&s, SB_SENSOR_GAP, &f), 0);
    CHECK_EQ(f.last_t, 1000);
    CHECK_EQ(f.since, 1000);
    CHECK_EQ(f.gap_s, 3601);
    CHECK(sb_sensor_finding_format(&f, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "no data") && strstr(buf, "3601"));
    sb_sensor_step(&s, 5000, NAN, &r);              /* a missing value is no reading */
    CHECK_EQ(r.active, B(SB_SENSOR_GAP));
    CHECK_EQ(r.raised, 0);
    sb_sensor_step(&s, 5001, 20.5, &r);
    CHECK_EQ(r.cleared, B(SB_SENSOR_GAP));

    /* A point that never reports: timed from the first tick. */
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    sb_sensor_tick(&s, 100, &r);
    sb_sensor_tick(&s, 3700, &r);
    CHECK_EQ(r.fired, 0);
    sb_sensor_tick(&s, 3701, &r);
    CHECK_EQ(r.raised, B(SB_SENSOR_GAP));
}

/* ----------------------------------------------------------------- DRIFT */

/* A zone temperature following a daily cycle, read each minute with 0.1 K
 * noise, against a noise-free reference (e.g. a calibrated sensor, or the
 * average of its neighbours).  Learns for the default 2 days, is healthy
 * for 2 more, then drifts by 1 K/day from day 4.  Returns the minutes from
 * the drift's start to the raise (-1: never). */
static int drift_run(const struct sb_sensor_conf *c, double rate_k_per_day, int days, int64_t *false_alarm,
                     struct sb_sensor_finding *fo)
{
    struct sb_sensor s;
    struct sb_sensor_result r;
    uint64_t seed = 0xd1f7;
    const int64_t drift_t0 = 4 * 86400;

    *false_alarm = -1;
    if (sb_sensor_init(&s, c) != 0)
        return -2;
    for (int64_t t = 0; t < (int64_t)days * 86400; t += 60) {
        double truth = 21 + 1.5 * sin(2 * M_PI * t / 86400.0);
        double drift = t >= drift_t0 ? rate_k_per_day * (t - drift_t0) / 86400.0 : 0;

        sb_sensor_step_ref(&s, t, truth + drift + 0.1 * gauss(&seed), truth, &r);
        if (r.raised & B(SB_SENSOR_DRIFT)) {
            if (t < drift_t0 || rate_k_per_day == 0) {
                *false_alarm = t;
                return -1;
            }
            if (fo)
                sb_sensor_finding(&s, SB_SENSOR_DRIFT, fo);
            return (int)((t - drift_t0) / 60);
        }
    }
    return -1;
}

TEST(drift)
{
    struct sb_sensor_conf c = only(SB_SENSOR_DRIFT);
    struct sb_sensor_finding f;
    int64_t fa;
    int m;

    /* Default: hourly block means. */
    m = drift_run(&c, 1.0, 6, &fa, &f);
    printf("# drift 1 K/day (hourly blocks): detected after %d min, offset estimate %.3f K\n", m, f.offset);
    CHECK_EQ(fa, -1);
    CHECK(m > 0 && m <= 12 * 60);
    CHECK(f.offset > 0.1 && f.offset < 0.6);
    CHECK(f.base_sd < 0.05);                        /* hourly means of 0.1 K noise */
    /* Downwards too. */
    m = drift_run(&c, -1.0, 6, &fa, &f);
    CHECK_EQ(fa, -1);
    CHECK(m > 0 && m <= 12 * 60);
    CHECK(f.offset < -0.1);
    /* Per pair (drift_block_s 0): the brief's literal form, faster. */
    c.drift_block_s = 0;
    m = drift_run(&c, 1.0, 6, &fa, &f);
    printf("# drift 1 K/day (each pair): detected after %d min\n", m);
    CHECK_EQ(fa, -1);
    CHECK(m > 0 && m <= 12 * 60);
    /* No drift: 30 days of healthy data never fire (hourly blocks). */
    c.drift_block_s = 3600;
    CHECK_EQ(drift_run(&c, 0, 30, &fa, NULL), -1);
    CHECK_EQ(fa, -1);
}

/* DRIFT learns first, then clears when the offset is repaired. */
TEST(drift_clears)
{
    struct sb_sensor_conf c = only(SB_SENSOR_DRIFT);
    struct sb_sensor s;
    struct sb_sensor_result r;
    int64_t t, raised = -1, cleared = -1;
    uint64_t seed = 4242;

    c.drift_block_s = 0;
    c.learn_s = 3600;
    c.learn_min = 30;
    REQUIRE(sb_sensor_init(&s, &c) == 0);
    for (t = 0; t < 3600; t += 60) {              /* 60 pairs, offset 0.3 */
        sb_sensor_step_ref(&s, t, 20.3 + ((t / 60) % 3 - 1) * 0.01, 20, &r);
        CHECK_EQ(sb_sensor_drift_ready(&s), 0);
    }
    sb_sensor_step_ref(&s, t, 20.3, 20, &r);
    CHECK_EQ(sb_sensor_drift_ready(&s), 1);
    CHECK_DBL(s.base.mean, 0.3, 1e-9);
    for (t += 60; t < 7200; t += 60) {            /* +1 K step: z = 1/0.2 = 5 per pair */
        sb_sensor_step_ref(&s, t, 21.3, 20, &r);
        if (r.raised)
            raised = t;
    }
    /* z is winsorised to 3: S+ = 2.5, 5.0, 7.5 > 5 at the 3rd pair. */
    CHECK_EQ(raised, 3600 + 180);
    {
        struct sb_sensor_finding f;

        REQUIRE(sb_sensor_finding(&s, SB_SENSOR_DRIFT, &f) == 0);
        CHECK_DBL(f.offset, 1.0, 1e-6);           /* the raw mean of the run: the whole 1 K */
        CHECK_DBL(f.base_mean, 0.3, 1e-9);
    }
    for (; t < 12 * 3600; t += 60) {              /* repaired, with noise */
        sb_sensor_step_ref(&s, t, 20.3 + 0.1 * gauss(&seed), 20, &r);
        if (r.cleared)
            cleared = t;
        if (r.raised && cleared > 0)
            TAP_FAIL("raised again at %lld after clearing at %lld", (long long)t, (long long)cleared);
    }
    CHECK(cleared > 7200 && cleared <= 7200 + 12 * 60);
}

/* ----------------------------------------------------------------- meters */

static struct sb_meterchk_conf meter_only(int check)
{
    struct sb_meterchk_conf c;

    sb_meterchk_conf_default(&c);
    if (check != SB_METER_GAP)
        c.gap_s = 0;
    if (check != SB_METER_STOPPED)
        c.stop_s = c.stop_long_s = 0;
    if (check != SB_METER_MISMATCH)
        c.mismatch_s = 0;
    return c;
}

TEST(meter_conf)
{
    struct sb_meterchk_conf c;
    char err[160];
    size_t n;
    const struct sb_fdd_param *p = sb_meterchk_conf_params(&n);

    sb_meterchk_conf_default(&c);
    CHECK_EQ(sb_meterchk_conf_check(&c, err, sizeof err), 0);
    table_sane(p, n, &c);
    CHECK_EQ(sb_meterchk_conf_set(&c, "wrap_kwh", 1e6, err, sizeof err), 0);
    CHECK_EQ(sb_meterchk_conf_set(&c, "wrap_kwh", NAN, err, sizeof err), 0);
    CHECK(isnan(c.wrap_kwh));
    CHECK_EQ(sb_meterchk_conf_set(&c, "mismatch_frac", 0, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "mismatch_frac") != NULL);
    CHECK_EQ(sb_meterchk_conf_set(&c, "nope", 1, err, sizeof err), SB_ENOENT);
    c.mismatch_n = 0;
    CHECK_EQ(sb_meterchk_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "mismatch_n") != NULL);
}

TEST(meter_gap)
{
    struct sb_meterchk_conf c = meter_only(SB_METER_GAP);
    struct sb_meterchk m, copy;
    struct sb_meterchk_result r;

    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    sb_meterchk_step(&m, 0, 100, NAN, &r);
    copy = m;
    CHECK_EQ(sb_meterchk_step(&m, 0, 101, NAN, &r), SB_EINVAL);
    CHECK(memcmp(&m, &copy, sizeof m) == 0);
    sb_meterchk_tick(&m, 3600, &r);
    CHECK_EQ(r.fired, 0);
    sb_meterchk_tick(&m, 3601, &r);
    CHECK_EQ(r.raised, M(SB_METER_GAP));
    sb_meterchk_step(&m, 3700, 101, NAN, &r);
    CHECK_EQ(r.cleared, M(SB_METER_GAP));
}

TEST(meter_stopped)
{
    struct sb_meterchk_conf c = meter_only(SB_METER_STOPPED);
    struct sb_meterchk m;
    struct sb_meterchk_result r;
    struct sb_meterchk_finding f;
    int64_t t;

    /* 10 kW and a frozen counter: fires at stop_s (3600), not before. */
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    for (t = 0; t < 3600; t += 60) {
        sb_meterchk_step(&m, t, 1000, 10, &r);
        CHECK_EQ(r.fired, 0);
    }
    sb_meterchk_step(&m, 3600, 1000, 10, &r);
    CHECK_EQ(r.raised, M(SB_METER_STOPPED));
    CHECK_EQ(sb_meterchk_finding(&m, SB_METER_STOPPED, &f), 0);
    CHECK_EQ(f.unchanged_s, 3600);
    CHECK_DBL(f.expected_kwh, 10, 1e-9);
    sb_meterchk_step(&m, 3660, 1000.2, 10, &r);     /* it moves: cleared */
    CHECK_EQ(r.cleared, M(SB_METER_STOPPED));

    /* No use (power at or below power_on): unchanged is fine. */
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    for (t = 0; t <= 20000; t += 60) {
        sb_meterchk_step(&m, t, 1000, 0.5, &r);
        CHECK_EQ(r.fired, 0);
    }
    CHECK(r.evaluated & M(SB_METER_STOPPED));

    /* Small load on a coarse register: waits for 2 counts of energy.
     * 0.5625 kW read every 225 s is 9/256 kWh per interval (binary-exact):
     * 1.97 kWh after 56 intervals, 2.004 after 57. */
    c.res_kwh = 1;
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    for (t = 0; t <= 56 * 225; t += 225) {
        sb_meterchk_step(&m, t, 1000, 0.5625, &r);
        CHECK_EQ(r.fired, 0);
    }
    sb_meterchk_step(&m, 57 * 225, 1000, 0.5625, &r);
    CHECK_EQ(r.raised, M(SB_METER_STOPPED));

    /* Without power: longer than stop_long_s. */
    c = meter_only(SB_METER_STOPPED);
    c.stop_long_s = 7200;
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    for (t = 0; t <= 7200; t += 600) {
        sb_meterchk_step(&m, t, 500, NAN, &r);
        CHECK_EQ(r.fired, 0);
    }
    sb_meterchk_step(&m, 7800, 500, NAN, &r);
    CHECK_EQ(r.raised, M(SB_METER_STOPPED));
    CHECK_EQ(sb_meterchk_finding(&m, SB_METER_STOPPED, &f), 0);
    CHECK(isnan(f.expected_kwh));
    sb_meterchk_step(&m, 8400, 501, NAN, &r);
    CHECK_EQ(r.cleared, M(SB_METER_STOPPED));
}

TEST(meter_backwards)
{
    struct sb_meterchk_conf c = meter_only(SB_METER_BACKWARDS);
    struct sb_meterchk m;
    struct sb_meterchk_result r;
    struct sb_meterchk_finding f;
    char buf[400];

    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    sb_meterchk_step(&m, 0, 1000, NAN, &r);
    sb_meterchk_step(&m, 60, 999.99, NAN, &r);      /* jitter within 0.01 */
    CHECK_EQ(r.fired, 0);
    CHECK_DBL(r.increment_kwh, 0, 0);
    sb_meterchk_step(&m, 120, 999.98, NAN, &r);     /* 0.02 below the highest: backwards */
    CHECK_EQ(r.raised, M(SB_METER_BACKWARDS));
    CHECK_EQ(sb_meterchk_finding(&m, SB_METER_BACKWARDS, &f), 0);
    CHECK_DBL(f.prev_kwh, 1000, 0);
    CHECK_DBL(f.new_kwh, 999.98, 0);
    CHECK(sb_meterchk_finding_format(&f, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "backwards") != NULL);
    sb_meterchk_step(&m, 180, 1000.5, NAN, &r);     /* rises again from the new value */
    CHECK_EQ(r.cleared, M(SB_METER_BACKWARDS));
    CHECK_DBL(r.increment_kwh, 1000.5 - 999.98, 1e-9);
    sb_meterchk_step(&m, 240, 10, NAN, &r);         /* meter exchanged */
    CHECK_EQ(r.raised, M(SB_METER_BACKWARDS));

    /* Rollovers: decimal, binary, binary Wh register read in kWh. */
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    sb_meterchk_step(&m, 0, 99999.5, NAN, &r);
    sb_meterchk_step(&m, 60, 0.3, NAN, &r);
    CHECK_EQ(r.fired, 0);
    CHECK_EQ(r.wrapped, 1);
    CHECK_DBL(r.increment_kwh, 0.8, 1e-9);
    CHECK_DBL(sb_meterchk_wrap_of(&c, 65535.9, 0.1), 65536, 0);
    CHECK_DBL(sb_meterchk_wrap_of(&c, 4294967.0, 0.2), 4294967.296, 1e-9);
    CHECK_DBL(sb_meterchk_wrap_of(&c, 999990, 5), 1e6, 0);
    CHECK(isnan(sb_meterchk_wrap_of(&c, 50000, 10)));    /* far from any wrap */
    CHECK(isnan(sb_meterchk_wrap_of(&c, 99999.5, 5000)));/* new value not near 0 */
    /* A configured wrap replaces the search. */
    c.wrap_kwh = 50000;
    CHECK_DBL(sb_meterchk_wrap_of(&c, 49999, 3), 50000, 0);
    CHECK(isnan(sb_meterchk_wrap_of(&c, 99999.5, 0.3)));
    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    sb_meterchk_step(&m, 0, 99999.5, NAN, &r);
    sb_meterchk_step(&m, 60, 0.3, NAN, &r);
    CHECK_EQ(r.raised, M(SB_METER_BACKWARDS));
}

/* Counter rising at `rate` kWh/h against a steady 10 kW, read each minute
 * for `hours`; returns the raise time (-1: never), and the clear time
 * after switching back to a matching counter at hour `fix` (0: never). */
static int64_t mismatch_run(double rate, int hours, int fix, int64_t *cleared)
{
    struct sb_meterchk_conf c = meter_only(SB_METER_MISMATCH);
    struct sb_meterchk m;
    struct sb_meterchk_result r;
    double kwh = 5000;
    int64_t raised = -1;

    *cleared = -1;
    if (sb_meterchk_init(&m, &c) != 0)
        return -2;
    for (int64_t t = 0; t <= (int64_t)hours * 3600; t += 60) {
        if (t > 0)
            kwh += (fix && t > fix * 3600 ? 10 : rate) / 60;
        sb_meterchk_step(&m, t, kwh, 10, &r);
        if (r.raised & M(SB_METER_MISMATCH))
            raised = t;
        if (r.cleared & M(SB_METER_MISMATCH))
            *cleared = t;
    }
    return raised;
}

TEST(meter_mismatch)
{
    int64_t cl;

    /* Mismatch when |cnt - pow| > 0.15 max + res (0.1): rate > 11.88 kWh/h. */
    CHECK_EQ(mismatch_run(10, 6, 0, &cl), -1);
    CHECK_EQ(mismatch_run(11.8, 6, 0, &cl), -1);
    CHECK_EQ(mismatch_run(12, 6, 4, &cl), 7200);      /* 2nd hourly window */
    CHECK_EQ(cl, 5 * 3600);                           /* first matching window after the fix */
    CHECK_EQ(mismatch_run(8.45, 6, 0, &cl), -1);     /* 10 - 8.45 = 1.55 < 0.15 * 10 + 0.1 */
    CHECK_EQ(mismatch_run(8.35, 6, 0, &cl), 7200);   /* 1.65 > 1.6 */
    /* Power in W mapped as kW: a factor 1000. */
    CHECK_EQ(mismatch_run(0.01, 3, 0, &cl), 7200);
}

/* A meter whose power is missing for a while: windows that cannot be
 * compared are not judged, and nothing fires. */
TEST(meter_mismatch_gaps)
{
    struct sb_meterchk_conf c = meter_only(SB_METER_MISMATCH);
    struct sb_meterchk m;
    struct sb_meterchk_result r;
    double kwh = 0;

    REQUIRE(sb_meterchk_init(&m, &c) == 0);
    for (int64_t t = 0; t <= 6 * 3600; t += 60) {
        kwh += t ? 20.0 / 60 : 0;                    /* would mismatch... */
        sb_meterchk_step(&m, t, kwh, (t / 60) % 30 == 0 ? NAN : 10, &r);   /* ...but power drops out */
        CHECK_EQ(r.evaluated & M(SB_METER_MISMATCH), 0);
    }
}

int main(void)
{
    TAP_START();
    RUN(sensor_conf);
    RUN(time_rule);
    RUN(range);
    RUN(flatline);
    RUN(spike);
    RUN(gap);
    RUN(drift);
    RUN(drift_clears);
    RUN(meter_conf);
    RUN(meter_gap);
    RUN(meter_stopped);
    RUN(meter_backwards);
    RUN(meter_mismatch);
    RUN(meter_mismatch_gaps);
    TAP_END();
}

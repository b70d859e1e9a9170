/* test_cusum.c - the tabular CUSUM and the Welford baseline
 * (src/fdd/cusum.c): a hand-computed sequence, the textbook run lengths
 * in and out of control, the shift estimate, the cap, and the baseline's
 * learn / freeze / standardise life cycle. */
#include "tap.h"

#include "core/err.h"
#include "fdd/cusum.h"

/* Standard normal deviate (Box-Muller) from the harness's seeded PRNG. */
static double gauss(uint64_t *s)
{
    double u1 = ((tap_rand(s) >> 11) + 1) * 0x1.0p-53;   /* (0, 1] */
    double u2 = (tap_rand(s) >> 11) * 0x1.0p-53;

    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Montgomery, Introduction to Statistical Quality Control, Example 9.1
 * (Table 9.1): 30 observations, mu0 = 10, sigma = 1, k = 0.5, h = 5.  The
 * expected S+ and S- below were computed by hand from
 * S+_i = max(0, x_i - 10.5 + S+_{i-1}),  S-_i = max(0, 9.5 - x_i + S-_{i-1}). */
static const double ex_x[30] = {
    9.45, 7.99, 9.29, 11.66, 12.16, 10.18, 8.04, 11.46, 9.20, 10.34,
    9.03, 11.47, 10.51, 9.40, 10.08, 9.37, 10.62, 10.31, 8.52, 10.84,
    10.90, 9.33, 12.29, 11.50, 10.60, 11.08, 10.38, 11.62, 11.31, 10.52,
};
static const double ex_sp[30] = {
    0, 0, 0, 1.16, 2.82, 2.50, 0.04, 1.00, 0, 0,
    0, 0.97, 0.98, 0, 0, 0, 0.12, 0, 0, 0.34,
    0.74, 0, 1.79, 2.79, 2.89, 3.47, 3.35, 4.47, 5.28, 5.30,
};
static const double ex_sn[30] = {
    0.05, 1.56, 1.77, 0, 0, 0, 1.46, 0, 0.30, 0,
    0.47, 0, 0, 0.10, 0, 0.13, 0, 0, 0.98, 0,
    0, 0.17, 0, 0, 0, 0, 0, 0, 0, 0,
};

TEST(montgomery_example)
{
    struct sb_cusum c;
    int first_alarm = -1;

    REQUIRE(sb_cusum_init(&c, 0.5, 5) == 0);
    for (int i = 0; i < 30; i++) {
        int st = sb_cusum_step(&c, (ex_x[i] - 10) / 1);

        CHECK_DBL(c.sp, ex_sp[i], 1e-9);
        CHECK_DBL(c.sn, ex_sn[i], 1e-9);
        CHECK_EQ(st, c.sp > 5 ? 1 : 0);
        if (st && first_alarm < 0) {
            first_alarm = i + 1;
            /* N+ = 7 (samples 23..29); mu-hat = mu0 + K + C+/N+ = 11.25. */
            CHECK_EQ(c.np, 7);
            CHECK_DBL(10 + sb_cusum_shift(&c, 1), 10 + 0.5 + 5.28 / 7, 1e-9);
            CHECK_DBL(10 + sb_cusum_shift(&c, 1), 11.25, 0.005);
        }
    }
    CHECK_EQ(first_alarm, 29);     /* the example signals at sample 29 */
    CHECK_EQ(c.n, 30);
    CHECK_EQ(sb_cusum_state(&c), 1);
    CHECK(isnan(sb_cusum_shift(&c, -1)));   /* S- is 0: no lower run */
    sb_cusum_reset(&c);
    CHECK_DBL(c.sp, 0, 0);
    CHECK_EQ(c.n, 0);
    CHECK_EQ(sb_cusum_state(&c), 0);
    CHECK_DBL(c.h, 5, 0);          /* parameters survive a reset */
}

TEST(init_and_nan)
{
    struct sb_cusum c;

    CHECK_EQ(sb_cusum_init(&c, -0.1, 5), SB_EINVAL);
    CHECK_EQ(sb_cusum_init(&c, 0.5, 0), SB_EINVAL);
    CHECK_EQ(sb_cusum_init(&c, NAN, 5), SB_EINVAL);
    CHECK_EQ(sb_cusum_init(&c, 0.5, INFINITY), SB_EINVAL);
    REQUIRE(sb_cusum_init(&c, 0.5, 1) == 0);
    CHECK_EQ(sb_cusum_step(&c, 3), 1);           /* S+ = 2.5 > 1 */
    CHECK_EQ(sb_cusum_step(&c, NAN), 1);         /* ignored: state kept */
    CHECK_EQ(sb_cusum_step(&c, INFINITY), 1);
    CHECK_DBL(c.sp, 2.5, 1e-12);
    CHECK_EQ(c.n, 1);
}

/* Samples until the first signal from a fresh CUSUM, z ~ N(mu, 1). */
static int run_length(uint64_t *seed, double k, double h, double mu, int limit, double *shift)
{
    struct sb_cusum c;

    if (sb_cusum_init(&c, k, h) != 0)
        return -1;
    for (int i = 1; i <= limit; i++) {
        int st = sb_cusum_step(&c, mu + gauss(seed));

        if (st) {
            if (shift)
                *shift = sb_cusum_shift(&c, st);
            return i;
        }
    }
    return limit;
}

/* ARL0 for k = 0.5, h = 5 is 465 (Montgomery Table 9.3).  400 runs: the
 * run length is roughly geometric, so the mean's sd is about 465/20. */
TEST(in_control_arl)
{
    uint64_t seed = 0x5eed0001;
    double sum = 0;

    for (int r = 0; r < 400; r++)
        sum += run_length(&seed, 0.5, 5, 0, 100000, NULL);
    sum /= 400;
    printf("# ARL0 (k 0.5, h 5): %.1f over 400 runs (table: 465)\n", sum);
    CHECK(sum > 390 && sum < 545);
}

/* 10,000 in-control samples, restarting after each signal.  With h = 5
 * about 10000/465 = 21 signals are expected: that is the textbook rate,
 * so the detectors built on it add a magnitude condition (sensor.h,
 * plant.h).  With h = 12 (Siegmund: ARL0 about 5e5) there is none. */
TEST(in_control_10000)
{
    uint64_t seed = 0x5eed0002;
    struct sb_cusum c5, c12;
    int n5 = 0, n12 = 0;

    REQUIRE(sb_cusum_init(&c5, 0.5, 5) == 0);
    REQUIRE(sb_cusum_init(&c12, 0.5, 12) == 0);
    for (int i = 0; i < 10000; i++) {
        double z = gauss(&seed);

        if (sb_cusum_step(&c5, z)) {
            n5++;
            sb_cusum_reset(&c5);
        }
        if (sb_cusum_step(&c12, z)) {
            n12++;
            sb_cusum_reset(&c12);
        }
    }
    printf("# signals in 10000 in-control samples: h=5 %d (expected ~21), h=12 %d\n", n5, n12);
    CHECK(n5 >= 8 && n5 <= 40);
    CHECK_EQ(n12, 0);
}

/* A 1-sigma shift: ARL1 = 10.4 (Montgomery Table 9.3); the brief's bound is
 * 25.  The shift estimate at the signal is biased upwards (a run that
 * signals early had large z), but centres near 1. */
TEST(shift_detected)
{
    uint64_t seed = 0x5eed0003;
    double sum = 0, est = 0, e, worst = 0;

    for (int r = 0; r < 500; r++) {
        int n = run_length(&seed, 0.5, 5, 1.0, 1000, &e);

        sum += n;
        est += e;
        worst = n > worst ? n : worst;
    }
    sum /= 500;
    est /= 500;
    printf("# ARL1 (1 sigma): %.2f (table: 10.4), mean shift estimate %.2f, longest %.0f\n", sum, est, worst);
    CHECK(sum < 25);
    CHECK(sum > 9 && sum < 12);
    CHECK(est > 0.9 && est < 1.6);
    /* Lower side, symmetric. */
    seed = 0x5eed0004;
    sum = est = 0;
    for (int r = 0; r < 500; r++) {
        sum += run_length(&seed, 0.5, 5, -1.0, 1000, &e);
        est += e;
    }
    CHECK(sum / 500 > 9 && sum / 500 < 12);
    CHECK(est / 500 < -0.9 && est / 500 > -1.6);
}

/* The cap bounds the sums without moving the first signal, and lets a
 * repaired process clear in about (cap - h)/k samples. */
TEST(cap)
{
    struct sb_cusum a, b;
    int i, first_a = 0, first_b = 0;

    REQUIRE(sb_cusum_init(&a, 0.5, 5) == 0);
    REQUIRE(sb_cusum_init(&b, 0.5, 5) == 0);
    b.cap = 10;
    for (i = 1; i <= 100; i++) {
        int sa = sb_cusum_step(&a, 2), sbb = sb_cusum_step(&b, 2);

        if (sa && !first_a)
            first_a = i;
        if (sbb && !first_b)
            first_b = i;
        CHECK(b.sp <= 10);
    }
    CHECK_EQ(first_a, first_b);
    CHECK_EQ(first_a, 4);             /* 1.5 per sample: 6.0 > 5 at the 4th */
    CHECK_DBL(a.sp, 150, 1e-9);
    CHECK_DBL(sb_cusum_shift(&b, 1), 2, 1e-12);   /* run mean unaffected by the cap */
    /* Back in control (z = 0): b clears after 10 samples, a after 290. */
    for (i = 1; i <= 20 && sb_cusum_step(&b, 0); i++)
        ;
    CHECK_EQ(i, 10);
}

/* Winsorised: one wild value adds at most clip - k; the estimate still
 * sees the raw values. */
TEST(clip)
{
    struct sb_cusum c;

    REQUIRE(sb_cusum_init(&c, 0.5, 5) == 0);
    CHECK_EQ(sb_cusum_step(&c, 100), 1);          /* textbook: one value signals */
    REQUIRE(sb_cusum_init(&c, 0.5, 5) == 0);
    c.clip = 3;
    CHECK_EQ(sb_cusum_step(&c, 100), 0);
    CHECK_DBL(c.sp, 2.5, 0);
    CHECK_EQ(sb_cusum_step(&c, 0), 0);            /* 2.0 */
    CHECK_EQ(sb_cusum_step(&c, -100), 0);         /* back to 0; S- = 2.5 */
    CHECK_DBL(c.sp, 0, 0);
    CHECK_DBL(c.sn, 2.5, 0);
    CHECK_EQ(sb_cusum_step(&c, 100), 0);          /* 2.5 */
    CHECK_EQ(sb_cusum_step(&c, 100), 0);          /* 5.0, not above h */
    CHECK_EQ(sb_cusum_step(&c, 100), 1);          /* 7.5 */
    CHECK_DBL(sb_cusum_shift(&c, 1), 100, 1e-12); /* raw mean over the run */
    /* In control, clipping at 3 changes almost nothing. */
    {
        uint64_t seed = 0x5eed0005;
        struct sb_cusum a, b;
        int na = 0, nb = 0;

        REQUIRE(sb_cusum_init(&a, 0.5, 5) == 0);
        REQUIRE(sb_cusum_init(&b, 0.5, 5) == 0);
        b.clip = 3;
        for (int i = 0; i < 100000; i++) {
            double z = 1 + gauss(&seed);          /* a 1-sigma shift */

            if (sb_cusum_step(&a, z)) {
                na++;
                sb_cusum_reset(&a);
            }
            if (sb_cusum_step(&b, z)) {
                nb++;
                sb_cusum_reset(&b);
            }
        }
        printf("# 1-sigma shift, signals per 1e5: textbook %d, clipped at 3: %d\n", na, nb);
        CHECK(nb > 0.9 * na && nb <= na);
    }
}

TEST(baseline)
{
    struct sb_baseline b;
    const double v[] = { 2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0 };   /* mean 5, sample sd sqrt(32/7) */

    CHECK_EQ(sb_baseline_init(&b, 1, 0), SB_EINVAL);
    CHECK_EQ(sb_baseline_init(&b, 4, -1), SB_EINVAL);
    REQUIRE(sb_baseline_init(&b, 4, 0.5) == 0);
    CHECK(isnan(sb_baseline_mean(&b)));
    CHECK(isnan(sb_baseline_z(&b, 1)));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(sb_baseline_add(&b, v[i]), 0);
    CHECK_EQ(sb_baseline_freeze(&b), SB_EAGAIN);  /* 3 < min_n 4 */
    CHECK_EQ(sb_baseline_ready(&b), 0);
    CHECK(isnan(sb_baseline_z(&b, 1)));           /* not frozen yet */
    CHECK_EQ(sb_baseline_add(&b, NAN), SB_ENAN);
    for (int i = 3; i < 8; i++)
        CHECK_EQ(sb_baseline_add(&b, v[i]), 0);
    CHECK_EQ(sb_baseline_freeze(&b), 0);
    CHECK_EQ(sb_baseline_ready(&b), 1);
    CHECK_EQ(sb_baseline_add(&b, 100), SB_ECLOSED);
    CHECK_EQ(b.n, 8);
    CHECK_DBL(sb_baseline_mean(&b), 5, 1e-12);
    CHECK_DBL(sb_baseline_sd(&b), sqrt(32.0 / 7), 1e-12);
    CHECK_DBL(sb_baseline_z(&b, 5 + sqrt(32.0 / 7)), 1, 1e-12);
    CHECK(isnan(sb_baseline_z(&b, NAN)));
    /* Floor: a constant series standardises by sd_min. */
    REQUIRE(sb_baseline_init(&b, 2, 0.5) == 0);
    for (int i = 0; i < 10; i++)
        sb_baseline_add(&b, 3);
    CHECK_EQ(sb_baseline_freeze(&b), 0);
    CHECK_DBL(sb_baseline_sd(&b), 0, 1e-12);
    CHECK_DBL(sb_baseline_scale(&b), 0.5, 0);
    CHECK_DBL(sb_baseline_z(&b, 4), 2, 1e-12);
    /* Zero floor and zero spread: no z (not a division by zero). */
    REQUIRE(sb_baseline_init(&b, 2, 0) == 0);
    sb_baseline_add(&b, 1);
    sb_baseline_add(&b, 1);
    CHECK_EQ(sb_baseline_freeze(&b), 0);
    CHECK(isnan(sb_baseline_z(&b, 2)));
}

/* Welford agrees with the two-pass formula on a long, offset series
 * (where the naive sum-of-squares formula loses digits). */
TEST(baseline_precision)
{
    struct sb_baseline b;
    uint64_t seed = 77;
    static double v[5000];
    double m = 0, ss = 0;

    REQUIRE(sb_baseline_init(&b, 2, 0) == 0);
    for (int i = 0; i < 5000; i++) {
        v[i] = 1e6 + 0.01 * gauss(&seed);
        sb_baseline_add(&b, v[i]);
        m += v[i];
    }
    m /= 5000;
    for (int i = 0; i < 5000; i++)
        ss += (v[i] - m) * (v[i] - m);
    CHECK_DBL(sb_baseline_mean(&b), m, 1e-6);
    CHECK_DBL(sb_baseline_sd(&b), sqrt(ss / 4999), 1e-7);
}

int main(void)
{
    TAP_START();
    RUN(montgomery_example);
    RUN(init_and_nan);
    RUN(in_control_arl);
    RUN(in_control_10000);
    RUN(shift_detected);
    RUN(cap);
    RUN(clip);
    RUN(baseline);
    RUN(baseline_precision);
    TAP_END();
}

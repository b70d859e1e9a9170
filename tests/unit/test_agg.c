/*
 * test_agg.c - rollup aggregation (src/store/agg.c).
 *
 * Hand-worked buckets for every rule (the arithmetic is in the comments),
 * then properties on random series checked against references written here
 * independently of agg.c: the counter deltas add up to the register's
 * advance, the live (incremental) form equals the batch form bit for bit,
 * merged 15-minute buckets equal hourly / daily sums computed straight from
 * the samples across DST changes, late samples, and page round trips.
 */
#include <stdint.h>

#include "core/err.h"
#include "core/tz.h"
#include "store/agg.h"
#include "store/bucket.h"
#include "store/sample.h"
#include "tap.h"

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

/* 2026-01-05T00:00:00Z, a Monday (date -u -d @1767571200). */
#define T_BASE (1767571200LL * SEC)
/* hh:mm:ss on that day, UTC */
#define T(h, m, s) (T_BASE + (h) * HOUR + (m) * MIN + (s) * SEC)

#define REL 1e-12

static struct sb_sample smp(int64_t t, double v)
{
    struct sb_sample s = { .t = t, .v = v, .q = 0 };
    return s;
}

/* |a - b| <= rel * max(|a|, |b|, scale) */
static int close_rel(double a, double b, double rel, double scale)
{
    double m = fmax(fmax(fabs(a), fabs(b)), scale);
    return fabs(a - b) <= rel * m;
}

#define CHECK_REL(a, b, scale)                                                  \
    do {                                                                        \
        double ra_ = (a), rb_ = (b);                                            \
        if (!close_rel(ra_, rb_, REL, (scale)))                                 \
            TAP_FAIL("CHECK_REL(%s, %s): %.17g vs %.17g", #a, #b, ra_, rb_);    \
    } while (0)

static int bits_eq(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* Every field, bit for bit (not memcmp of the struct: padding). */
static int agg_same(const struct sb_agg *a, const struct sb_agg *b)
{
    if (a->start != b->start || a->n != b->n || a->qor != b->qor || a->nstates != b->nstates ||
        a->t_first != b->t_first || a->t_last != b->t_last)
        return 0;
    if (!bits_eq(a->min, b->min) || !bits_eq(a->max, b->max) || !bits_eq(a->sum, b->sum) ||
        !bits_eq(a->first, b->first) || !bits_eq(a->last, b->last) ||
        !bits_eq(a->integral, b->integral) || !bits_eq(a->covered, b->covered) ||
        !bits_eq(a->delta, b->delta) || !bits_eq(a->peak, b->peak))
        return 0;
    for (int i = 0; i < SB_AGG_MAX_STATES; i++)
        if (!bits_eq(a->st[i].value, b->st[i].value) || !bits_eq(a->st[i].secs, b->st[i].secs))
            return 0;
    return 1;
}

static void agg_dump(const char *tag, const struct sb_agg *a)
{
    printf("#   %s start=%" PRId64 " n=%u qor=%u ns=%u min=%.17g max=%.17g sum=%.17g "
           "first=%.17g@%" PRId64 " last=%.17g@%" PRId64 " int=%.17g cov=%.17g "
           "delta=%.17g peak=%.17g\n", tag, a->start, a->n, a->qor, a->nstates, a->min,
           a->max, a->sum, a->first, a->t_first, a->last, a->t_last, a->integral,
           a->covered, a->delta, a->peak);
}

static int compute(const struct sb_agg_ctx *c, const struct sb_tz *tz, enum sb_res r,
                   const struct sb_sample *prev, const struct sb_sample *s, size_t n,
                   int64_t t0, int64_t t1, struct sb_agg *out, size_t cap)
{
    size_t nout = 0;
    int rc = sb_agg_compute(c, tz, r, prev, s, n, t0, t1, out, cap, &nout);
    if (rc != 0) {
        TAP_FAIL("sb_agg_compute: %s", sb_errname(rc));
        return -1;
    }
    return (int)nout;
}

/* ------------------------------------------------------------------ */
/* Hand-worked buckets                                                 */
/* ------------------------------------------------------------------ */

TEST(temperature_bucket)
{
    /* MEAN, bucket [12:00, 12:15).  prev 20.0 @11:57 is outside: it counts
     * for nothing (MEAN has no hold, no increase).  Inside: 21.0 @12:00,
     * 21.5 @12:03, 22.0 @12:06 (STALE), 21.5 @12:09, 20.5 @12:12.
     * n = 5, sum = 21.0+21.5+22.0+21.5+20.5 = 106.5 (halves: exact),
     * mean = 106.5 / 5 = 21.3, min 20.5, max 22.0, first 21.0 @12:00,
     * last 20.5 @12:12, qor = STALE.  21.0 @12:15 opens [12:15, 12:30): n = 1. */
    struct sb_agg_ctx c = { .kind = SB_AGG_MEAN };
    struct sb_sample prev = smp(T(11, 57, 0), 20.0);
    struct sb_sample s[] = {
        smp(T(12, 0, 0), 21.0), smp(T(12, 3, 0), 21.5), smp(T(12, 6, 0), 22.0),
        smp(T(12, 9, 0), 21.5), smp(T(12, 12, 0), 20.5), smp(T(12, 15, 0), 21.0),
    };
    s[2].q = SB_Q_STALE;
    struct sb_agg out[4];
    int n = compute(&c, NULL, SB_RES_15M, &prev, s, 6, T(12, 0, 0), T(12, 30, 0), out, 4);
    REQUIRE(n == 2);
    CHECK_EQ(out[0].start, T(12, 0, 0));
    CHECK_EQ(out[0].n, 5);
    CHECK_DBL(out[0].sum, 106.5, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_MEAN, &out[0]), 21.3, 1e-12);
    CHECK_DBL(out[0].min, 20.5, 0);
    CHECK_DBL(out[0].max, 22.0, 0);
    CHECK_DBL(out[0].first, 21.0, 0);
    CHECK_EQ(out[0].t_first, T(12, 0, 0));
    CHECK_DBL(out[0].last, 20.5, 0);
    CHECK_EQ(out[0].t_last, T(12, 12, 0));
    CHECK_EQ(out[0].qor, SB_Q_STALE);
    CHECK_DBL(out[0].covered, 0, 0);
    CHECK_DBL(out[0].integral, 0, 0);
    CHECK_DBL(out[0].peak, 0, 0);
    CHECK_EQ(out[1].start, T(12, 15, 0));
    CHECK_EQ(out[1].n, 1);
    CHECK_EQ(out[1].qor, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_MEAN, &out[1]), 21.0, 0);
}

TEST(power_irregular_gap)
{
    /* RATE, max hold 5 min, bucket [12:00, 12:15):
     *   10 kW @11:58:00 (prev) holds to min(12:01:30, 12:03:00); inside
     *       from 12:00:00: 90 s -> 900 kW.s
     *   20 kW @12:01:30 holds to 12:02:00:                30 s -> 600
     *    5 kW @12:02:00 holds to min(12:13, 12:07) = 12:07: 300 s -> 1500
     *      (12:07-12:13: no sample holds: a gap, not covered)
     *    8 kW @12:13:00 holds to 12:16 (next sample), inside to 12:15:
     *                                                      120 s -> 960
     *   integral 3960, covered 540 s, mean 3960/540 = 7.333.., peak = mean.
     *   n = 3 (12:01:30, 12:02, 12:13), sum 33, min 5, max 20.
     * Bucket [12:15, 12:30): 8 kW 12:15-12:16: 60 s -> 480; 12 kW @12:16
     *   holds 5 min (the next sample is at 12:30): 300 s -> 3600; integral
     *   4080, covered 360, mean 11.333...  Without that next sample, 12 kW
     *   is the newest reading and holds nothing: integral 480, covered 60. */
    struct sb_agg_ctx c = { .kind = SB_AGG_RATE, .max_hold_ms = 5 * MIN };
    struct sb_sample prev = smp(T(11, 58, 0), 10);
    struct sb_sample s[] = {
        smp(T(12, 1, 30), 20), smp(T(12, 2, 0), 5), smp(T(12, 13, 0), 8), smp(T(12, 16, 0), 12),
        smp(T(12, 30, 0), 0),
    };
    struct sb_agg out[4];
    int n = compute(&c, NULL, SB_RES_15M, &prev, s, 4, T(12, 0, 0), T(12, 30, 0), out, 4);
    REQUIRE(n == 2);
    CHECK_DBL(out[1].integral, 480, 0);
    CHECK_DBL(out[1].covered, 60, 0);
    n = compute(&c, NULL, SB_RES_15M, &prev, s, 5, T(12, 0, 0), T(12, 30, 0), out, 4);
    REQUIRE(n == 2);
    CHECK_DBL(out[0].integral, 3960, 0);
    CHECK_DBL(out[0].covered, 540, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &out[0]), 3960.0 / 540, 1e-12);
    CHECK_DBL(out[0].peak, 3960.0 / 540, 1e-12);
    CHECK_EQ(out[0].n, 3);
    CHECK_DBL(out[0].sum, 33, 0);
    CHECK_DBL(out[0].min, 5, 0);
    CHECK_DBL(out[0].max, 20, 0);
    CHECK_DBL(out[1].integral, 4080, 0);
    CHECK_DBL(out[1].covered, 360, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &out[1]), 4080.0 / 360, 1e-12);
}

TEST(hold_across_boundaries)
{
    /* RATE, max hold 1 h: 10 kW @12:14:00, 0 kW @12:46:30.
     *   [12:00,12:15): 10 x 60 s = 600, covered 60, n 1
     *   [12:15,12:30): 10 x 900 = 9000, covered 900, n 0 (hold only)
     *   [12:30,12:45): 9000, covered 900, n 0
     *   [12:45,13:00): 10 x 90 s (to 12:46:30) = 900, then 0 kW for the
     *                  remaining 810 s (the next sample, 5 kW, is at 13:00):
     *                  covered 900, integral 900, mean 1.0
     * At 1 min: buckets 12:14 .. 12:59 = 46 buckets; 12:46 has 30 s of 10
     * and 30 s of 0 -> mean 5. */
    struct sb_agg_ctx c = { .kind = SB_AGG_RATE, .max_hold_ms = HOUR };
    struct sb_sample s[] = { smp(T(12, 14, 0), 10), smp(T(12, 46, 30), 0), smp(T(13, 0, 0), 5) };
    struct sb_agg out[64];
    int n = compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(12, 0, 0), T(13, 0, 0), out, 64);
    REQUIRE(n == 4);
    double ei[] = { 600, 9000, 9000, 900 }, ec[] = { 60, 900, 900, 900 };
    uint32_t en[] = { 1, 0, 0, 1 };
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(out[i].start, T(12, 15 * i, 0));
        CHECK_DBL(out[i].integral, ei[i], 0);
        CHECK_DBL(out[i].covered, ec[i], 0);
        CHECK_EQ(out[i].n, en[i]);
    }
    n = compute(&c, NULL, SB_RES_1M, NULL, s, 3, T(12, 0, 0), T(13, 0, 0), out, 64);
    REQUIRE(n == 46);
    CHECK_EQ(out[0].start, T(12, 14, 0));
    CHECK_EQ(out[45].start, T(12, 59, 0));
    CHECK_DBL(out[32].integral, 300, 0);
    CHECK_EQ(out[32].start, T(12, 46, 0));
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &out[32]), 5, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &out[45]), 0, 0);

    /* Same as STATE: [12:45,13:00) holds 90 s of 1 and 810 s of 0; the state
     * held in (1) comes first.  Fraction non-zero = 90 / 900 = 0.1. */
    struct sb_agg_ctx cs = { .kind = SB_AGG_STATE, .max_hold_ms = HOUR };
    struct sb_sample st[] = { smp(T(12, 14, 0), 1), smp(T(12, 46, 30), 0), smp(T(13, 0, 0), 1) };
    n = compute(&cs, NULL, SB_RES_15M, NULL, st, 3, T(12, 0, 0), T(13, 0, 0), out, 64);
    REQUIRE(n == 4);
    CHECK_EQ(out[1].nstates, 1);
    CHECK_DBL(out[1].st[0].secs, 900, 0);
    REQUIRE(out[3].nstates == 2);
    CHECK_DBL(out[3].st[0].value, 1, 0);
    CHECK_DBL(out[3].st[0].secs, 90, 0);
    CHECK_DBL(out[3].st[1].value, 0, 0);
    CHECK_DBL(out[3].st[1].secs, 810, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_STATE, &out[3]), 0.1, 1e-15);
}

TEST(zero_hold)
{
    /* max_hold_ms = 0: a sample holds no time, so a RATE bucket has samples
     * (n, min, max...) but nothing covered and no time-weighted mean.  With
     * a 2 h hold, 7 kW @12:05 fills 12:05-14:05 up to 3 kW @14:05, which
     * then holds to the next sample at 14:15: 9 buckets, the last one 300 s
     * of 7 and 600 s of 3. */
    struct sb_agg_ctx c = { .kind = SB_AGG_RATE, .max_hold_ms = 0 };
    struct sb_sample s[] = { smp(T(12, 5, 0), 7), smp(T(14, 5, 0), 3), smp(T(14, 15, 0), 1) };
    struct sb_agg out[16];
    int n = compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(12, 0, 0), T(14, 15, 0), out, 16);
    REQUIRE(n == 2);
    CHECK_DBL(out[0].covered, 0, 0);
    CHECK_EQ(out[0].n, 1);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &out[0]), 7, 0);   /* no held time: the samples' mean */
    c.max_hold_ms = 2 * HOUR;
    n = compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(12, 0, 0), T(14, 15, 0), out, 16);
    REQUIRE(n == 9);
    CHECK_DBL(out[0].covered, 600, 0);
    CHECK_DBL(out[4].integral, 7 * 900, 0);
    CHECK_DBL(out[8].integral, 7 * 300 + 3 * 600, 0);
    CHECK_DBL(out[8].covered, 900, 0);
}

TEST(counter_rules)
{
    struct sb_agg out[8];
    /* Steady, no modulus: prev 999.75 @11:59; 1000.0 @12:00, 1000.5 @12:05,
     * 1001.25 @12:10 -> [12:00,12:15) delta = 0.25 + 0.5 + 0.75 = 1.5 (exact:
     * quarters); 1002.0 @12:20 -> [12:15,12:30) delta 0.75.  peak = delta. */
    struct sb_agg_ctx c0 = { .kind = SB_AGG_COUNTER };
    struct sb_sample p0 = smp(T(11, 59, 0), 999.75);
    struct sb_sample s0[] = {
        smp(T(12, 0, 0), 1000.0), smp(T(12, 5, 0), 1000.5), smp(T(12, 10, 0), 1001.25),
        smp(T(12, 20, 0), 1002.0),
    };
    int n = compute(&c0, NULL, SB_RES_15M, &p0, s0, 4, T(12, 0, 0), T(12, 30, 0), out, 8);
    REQUIRE(n == 2);
    CHECK_DBL(out[0].delta, 1.5, 0);
    CHECK_DBL(out[0].peak, 1.5, 0);
    CHECK_DBL(out[1].delta, 0.75, 0);
    CHECK_EQ(out[0].qor | out[1].qor, 0);
    CHECK_DBL(out[0].sum, 0, 0);   /* a sum of register readings: not kept */
    CHECK_DBL(sb_agg_value(SB_AGG_COUNTER, &out[1]), 0.75, 0);
    CHECK_DBL(out[0].covered, 0, 0);

    /* Rollover, modulus 100000: 99999.5 @11:59 -> 99999.99 @12:05: +0.49;
     * -> 0.12 @12:10: drop 99999.87 > 50000, so a wrap: 100000 - 99999.99
     * + 0.12 = 0.13; bucket delta 0.62, not estimated.  -> 0.5 @12:20: 0.38. */
    struct sb_agg_ctx c1 = { .kind = SB_AGG_COUNTER, .counter_max = 100000 };
    struct sb_sample p1 = smp(T(11, 59, 0), 99999.5);
    struct sb_sample s1[] = {
        smp(T(12, 5, 0), 99999.99), smp(T(12, 10, 0), 0.12), smp(T(12, 20, 0), 0.5),
    };
    n = compute(&c1, NULL, SB_RES_15M, &p1, s1, 3, T(12, 0, 0), T(12, 30, 0), out, 8);
    REQUIRE(n == 2);
    CHECK_DBL(out[0].delta, 0.62, 1e-9);
    CHECK_EQ(out[0].qor, 0);
    CHECK_DBL(out[1].delta, 0.38, 1e-9);

    /* Reset with a modulus: 5234.5 -> 0.3: drop 5234.2 <= 50000: the meter
     * was replaced, restarting at 0: increase 0.3, bucket estimated. */
    struct sb_sample p2 = smp(T(12, 1, 0), 5234.5);
    struct sb_sample s2[] = { smp(T(12, 2, 0), 0.3), smp(T(12, 3, 0), 0.8) };
    n = compute(&c1, NULL, SB_RES_15M, &p2, s2, 2, T(12, 0, 0), T(12, 15, 0), out, 8);
    REQUIRE(n == 1);
    CHECK_DBL(out[0].delta, 0.8, 1e-12);   /* 0.3 + 0.5 */
    CHECK_EQ(out[0].qor, SB_Q_ESTIMATED);

    /* Modulus 100000, drops either side of M/2 = 50000: 60000 -> 20000 drops
     * 40000: a reset, increase 20000, estimated; 90000 -> 30000 drops 60000:
     * a wrap, increase 100000 - 90000 + 30000 = 40000. */
    struct sb_sample p4 = smp(T(12, 1, 0), 60000), s4[] = { smp(T(12, 2, 0), 20000) };
    n = compute(&c1, NULL, SB_RES_15M, &p4, s4, 1, T(12, 0, 0), T(12, 15, 0), out, 8);
    REQUIRE(n == 1);
    CHECK_DBL(out[0].delta, 20000, 0);
    CHECK_EQ(out[0].qor, SB_Q_ESTIMATED);
    struct sb_sample p5 = smp(T(12, 1, 0), 90000), s5[] = { smp(T(12, 2, 0), 30000) };
    n = compute(&c1, NULL, SB_RES_15M, &p5, s5, 1, T(12, 0, 0), T(12, 15, 0), out, 8);
    REQUIRE(n == 1);
    CHECK_DBL(out[0].delta, 40000, 0);
    CHECK_EQ(out[0].qor, 0);

    /* No modulus: any decrease is a reset: 1500 -> 20: increase 20. */
    struct sb_sample p3 = smp(T(12, 1, 0), 1500);
    struct sb_sample s3[] = { smp(T(12, 2, 0), 20) };
    n = compute(&c0, NULL, SB_RES_15M, &p3, s3, 1, T(12, 0, 0), T(12, 15, 0), out, 8);
    REQUIRE(n == 1);
    CHECK_DBL(out[0].delta, 20, 0);
    CHECK_EQ(out[0].qor, SB_Q_ESTIMATED);

    /* No prev: the first sample starts the register, delta 0, n 1. */
    n = compute(&c0, NULL, SB_RES_15M, NULL, s3, 1, T(12, 0, 0), T(12, 15, 0), out, 8);
    REQUIRE(n == 1);
    CHECK_DBL(out[0].delta, 0, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_COUNTER, &out[0]), 0, 0);
}

TEST(state_time)
{
    /* Occupancy, max hold 1 h, bucket [12:00,12:15): 1 @11:50 (prev) holds
     * 12:00-12:05 = 300 s; 0 @12:05 holds 300 s; 1 @12:10 holds to the end
     * (next sample 12:20): 300 s.  st = {1: 600 s, 0: 300 s} in order of
     * first appearance, covered 900, fraction on = 600/900. */
    struct sb_agg_ctx c = { .kind = SB_AGG_STATE, .max_hold_ms = HOUR };
    struct sb_sample prev = smp(T(11, 50, 0), 1);
    struct sb_sample s[] = { smp(T(12, 5, 0), 0), smp(T(12, 10, 0), 1), smp(T(12, 20, 0), 0) };
    struct sb_agg out[4];
    int n = compute(&c, NULL, SB_RES_15M, &prev, s, 3, T(12, 0, 0), T(12, 15, 0), out, 4);
    REQUIRE(n == 1);
    REQUIRE(out[0].nstates == 2);
    CHECK_DBL(out[0].st[0].value, 1, 0);
    CHECK_DBL(out[0].st[0].secs, 600, 0);
    CHECK_DBL(out[0].st[1].value, 0, 0);
    CHECK_DBL(out[0].st[1].secs, 300, 0);
    CHECK_DBL(out[0].covered, 900, 0);
    CHECK_DBL(sb_agg_value(SB_AGG_STATE, &out[0]), 600.0 / 900, 1e-15);
    CHECK_EQ(out[0].qor, 0);

    /* Ten states: one sample a minute 12:00 .. 12:14, value i % 10, each held
     * 60 s (the last one to the next sample, at 12:15).  0..4 occur twice (120 s
     * each), 5..9 once.  Slots 0..7 take values 0..7 in order of appearance;
     * 8 and 9 fold into slot 7: {7: 60 + 60 + 60 = 180 s}; estimated.
     * Sum of secs = 5*120 + 2*60 + 180 = 900 = covered. */
    struct sb_sample m[16];
    for (int i = 0; i < 16; i++)
        m[i] = smp(T(12, i, 0), i % 10);
    n = compute(&c, NULL, SB_RES_15M, NULL, m, 16, T(12, 0, 0), T(12, 15, 0), out, 4);
    REQUIRE(n == 1);
    REQUIRE(out[0].nstates == SB_AGG_MAX_STATES);
    for (int i = 0; i < 8; i++)
        CHECK_DBL(out[0].st[i].value, i, 0);
    for (int i = 0; i < 5; i++)
        CHECK_DBL(out[0].st[i].secs, 120, 0);
    CHECK_DBL(out[0].st[5].secs, 60, 0);
    CHECK_DBL(out[0].st[6].secs, 60, 0);
    CHECK_DBL(out[0].st[7].secs, 180, 0);
    CHECK_EQ(out[0].qor, SB_Q_ESTIMATED);
    CHECK_DBL(sb_agg_value(SB_AGG_STATE, &out[0]), 780.0 / 900, 1e-15);
}

TEST(merge_peak_rules)
{
    /* Four 15-min RATE buckets of one hour, constant power 10, 30, 20, 5 kW:
     * hourly mean (10+30+20+5)/4 = 16.25, peak = max 15-min mean = 30. */
    struct sb_agg_ctx c = { .kind = SB_AGG_RATE, .max_hold_ms = 20 * MIN };
    double kw[4] = { 10, 30, 20, 5 };
    struct sb_sample s[5];
    for (int i = 0; i < 4; i++)
        s[i] = smp(T(12, 15 * i, 0), kw[i]);
    s[4] = smp(T(13, 0, 0), 0);
    struct sb_agg q[8], h, m15;
    int n = compute(&c, NULL, SB_RES_15M, NULL, s, 5, T(12, 0, 0), T(13, 0, 0), q, 8);
    REQUIRE(n == 4);
    sb_agg_init(&h, T(12, 0, 0));
    for (int i = 3; i >= 0; i--)   /* any order */
        sb_agg_merge(&c, &h, &q[i], SB_RES_15M);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &h), 16.25, 0);
    CHECK_DBL(h.peak, 30, 0);
    CHECK_EQ(h.n, 4);
    CHECK_DBL(h.first, 10, 0);
    CHECK_DBL(h.last, 5, 0);

    /* 1-minute buckets of [12:15,12:30) (30 kW from 12:15, but 90 kW during
     * 12:20-12:21): a 1-min mean of 90 must not become the peak; the merged
     * bucket's peak is its own 15-min mean (14 x 30 + 90) / 15 = 34. */
    struct sb_sample t[] = { smp(T(12, 15, 0), 30), smp(T(12, 20, 0), 90), smp(T(12, 21, 0), 30),
                             smp(T(12, 30, 0), 0) };
    struct sb_agg one[32];
    n = compute(&c, NULL, SB_RES_1M, NULL, t, 4, T(12, 15, 0), T(12, 30, 0), one, 32);
    REQUIRE(n == 15);
    CHECK_DBL(one[5].peak, 90, 0);   /* a 1-min bucket's peak is its own mean */
    sb_agg_init(&m15, T(12, 15, 0));
    for (int i = 0; i < n; i++)
        sb_agg_merge(&c, &m15, &one[i], SB_RES_1M);
    CHECK_DBL(m15.peak, 34, 1e-12);
    CHECK_DBL(sb_agg_value(SB_AGG_RATE, &m15), 34, 1e-12);

    /* COUNTER: 15-min deltas 1, 4, 2 -> hourly delta 7, peak 4. */
    struct sb_agg_ctx cc = { .kind = SB_AGG_COUNTER };
    struct sb_sample r[] = { smp(T(12, 0, 0), 100), smp(T(12, 5, 0), 101), smp(T(12, 20, 0), 105),
                             smp(T(12, 40, 0), 107) };
    n = compute(&cc, NULL, SB_RES_15M, NULL, r, 4, T(12, 0, 0), T(13, 0, 0), q, 8);
    REQUIRE(n == 3);
    sb_agg_init(&h, T(12, 0, 0));
    for (int i = 0; i < n; i++)
        sb_agg_merge(&cc, &h, &q[i], SB_RES_15M);
    CHECK_DBL(h.delta, 7, 0);
    CHECK_DBL(h.peak, 4, 0);

    /* Negative power (export): peak is the highest mean even below zero. */
    struct sb_sample e[] = { smp(T(12, 0, 0), -8), smp(T(12, 15, 0), -3), smp(T(12, 30, 0), 0) };
    n = compute(&c, NULL, SB_RES_15M, NULL, e, 3, T(12, 0, 0), T(12, 30, 0), q, 8);
    REQUIRE(n == 2);
    sb_agg_init(&h, T(12, 0, 0));
    sb_agg_merge(&c, &h, &q[0], SB_RES_15M);
    sb_agg_merge(&c, &h, &q[1], SB_RES_15M);
    CHECK_DBL(h.peak, -3, 0);
}

TEST(values_and_errors)
{
    struct sb_agg a, out[2];
    size_t nout = 99;
    sb_agg_init(&a, 0);
    CHECK(!sb_agg_nonempty(&a));
    for (int k = 0; k < SB_AGG_KIND_COUNT; k++)
        CHECK(isnan(sb_agg_value((enum sb_agg_kind)k, &a)));
    struct sb_agg_ctx c = { .kind = SB_AGG_MEAN };
    struct sb_sample s[] = { smp(T(12, 0, 0), 1), smp(T(12, 20, 0), 2), smp(T(12, 40, 0), 3) };
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_1H, NULL, s, 3, T(12, 0, 0), T(13, 0, 0), out, 2,
                            &nout), SB_EINVAL);
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_1D, NULL, s, 3, T(12, 0, 0), T(13, 0, 0), out, 2,
                            &nout), SB_EINVAL);
    struct sb_sample bad[] = { smp(T(12, 5, 0), 1), smp(T(12, 5, 0), 2) };
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_15M, NULL, bad, 2, T(12, 0, 0), T(13, 0, 0), out, 2,
                            &nout), SB_EINVAL);
    struct sb_sample late = smp(T(12, 6, 0), 0);
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_15M, &late, bad, 1, T(12, 0, 0), T(13, 0, 0), out,
                            2, &nout), SB_EINVAL);
    /* Three buckets into two slots: the first two are written, *nout = 3. */
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(12, 0, 0), T(13, 0, 0), out, 2,
                            &nout), SB_ENOSPC);
    CHECK_EQ(nout, 3);
    CHECK_EQ(out[1].start, T(12, 15, 0));
    /* Empty range; t0 not on a bucket bound widens to whole buckets. */
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(13, 0, 0), T(13, 0, 0), out, 2,
                            &nout), 0);
    CHECK_EQ(nout, 0);
    CHECK_EQ(sb_agg_compute(&c, NULL, SB_RES_15M, NULL, s, 3, T(12, 25, 0), T(12, 26, 0), out, 2,
                            &nout), 0);
    CHECK_EQ(nout, 1);
    CHECK_EQ(out[0].start, T(12, 15, 0));
    CHECK_DBL(out[0].sum, 2, 0);
}

/* ------------------------------------------------------------------ */
/* Random series                                                       */
/* ------------------------------------------------------------------ */

static double urand(uint64_t *seed) { return (double)(tap_rand(seed) >> 11) / 9007199254740992.0; }

/* A random series of n samples from t: irregular steps (some long gaps),
 * values on a 0.1 grid, some flags. */
static void gen_series(uint64_t *seed, enum sb_agg_kind kind, struct sb_sample *s, size_t n,
                       int64_t t)
{
    double v = 50;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = tap_rand(seed);
        int64_t step = 1 + (int64_t)(r % 90000);
        if (r % 53 == 0)
            step += (int64_t)(tap_rand(seed) % (2 * HOUR));
        t += step;
        if (kind == SB_AGG_STATE)
            v = (double)(tap_rand(seed) % (r % 5 == 0 ? 12 : 3));
        else if (kind == SB_AGG_COUNTER)
            v += round(urand(seed) * 50) / 10;
        else
            v = round((v + (urand(seed) - 0.5) * 20) * 10) / 10;
        s[i] = (struct sb_sample){ .t = t, .v = v, .q = r % 23 == 0 ? SB_Q_STALE : 0 };
    }
}

/* The live writer of agg.h, step by step, emitting every bucket it closes
 * (empty ones are dropped, as sb_agg_compute drops them). */
struct live {
    const struct sb_agg_ctx *c;
    enum sb_res r;
    int64_t hi;              /* end of the range (the final hold stops there) */
    struct sb_agg a;         /* the open bucket */
    int64_t a_end;
    int open;
    const struct sb_sample *prev;
    struct sb_agg *out;
    size_t n, cap;
};

static void live_close(struct live *L)
{
    if (L->open && sb_agg_nonempty(&L->a) && L->n < L->cap)
        L->out[L->n++] = L->a;
    L->open = 0;
}

static void live_open(struct live *L, int64_t start)
{
    sb_agg_init(&L->a, start);
    L->a_end = sb_bucket_next(NULL, L->r, start);
    L->open = 1;
}

static int64_t hold_until(const struct sb_agg_ctx *c, const struct sb_sample *p)
{
    return c->max_hold_ms > 0 ? p->t + c->max_hold_ms : p->t;
}

/* Closes the open bucket and the hold-only buckets up to stop. */
static void live_advance(struct live *L, int64_t until, int64_t stop)
{
    if (L->open) {
        sb_agg_hold(L->c, &L->a, L->a_end, L->prev, until);
        int64_t next = L->a_end;
        live_close(L);
        while (L->prev && next < stop && next < until && next < hold_until(L->c, L->prev)) {
            live_open(L, next);
            sb_agg_hold(L->c, &L->a, L->a_end, L->prev, until);
            next = L->a_end;
            live_close(L);
        }
    }
}

static void live_feed(struct live *L, const struct sb_sample *s)
{
    int64_t b = sb_bucket_start(NULL, L->r, s->t);
    if (!L->open || s->t >= L->a_end) {
        live_advance(L, s->t, b);
        live_open(L, b);
    }
    sb_agg_add(L->c, &L->a, L->a_end, L->prev, s);
    L->prev = s;
}

TEST(incremental_equals_batch)
{
    enum { N = 3000, CAP = 20000 };
    static struct sb_sample s[N];
    static struct sb_agg inc[CAP], bat[CAP];
    uint64_t seed = 0x5eed1;
    int64_t holds[] = { 0, 45 * SEC, 5 * MIN, 3 * HOUR };
    for (int kind = 0; kind < SB_AGG_KIND_COUNT; kind++)
        for (int r = SB_RES_1M; r <= SB_RES_15M; r++)
            for (int h = 0; h < 4; h++) {
                struct sb_agg_ctx c = { .kind = (enum sb_agg_kind)kind, .max_hold_ms = holds[h],
                                        .counter_max = h == 1 ? 1000 : 0 };
                gen_series(&seed, c.kind, s, N, T_BASE + 7 * SEC);
                int64_t lo = sb_bucket_start(NULL, (enum sb_res)r, s[0].t);
                int64_t hi = sb_bucket_start(NULL, (enum sb_res)r, s[N - 1].t) + 2 * HOUR;
                struct live L = { .c = &c, .r = (enum sb_res)r, .hi = hi, .out = inc, .cap = CAP };
                for (int i = 0; i < N; i++)
                    live_feed(&L, &s[i]);
                live_close(&L);   /* the newest sample holds nothing */
                int nb = compute(&c, NULL, (enum sb_res)r, NULL, s, N, lo, hi, bat, CAP);
                REQUIRE(nb > 0 && nb < CAP);
                CHECK_EQ(L.n, nb);
                for (int i = 0; i < nb && (size_t)i < L.n; i++) {
                    if (!agg_same(&inc[i], &bat[i])) {
                        TAP_FAIL("kind %d res %d hold %d bucket %d differs", kind, r, h, i);
                        agg_dump("live ", &inc[i]);
                        agg_dump("batch", &bat[i]);
                        break;
                    }
                }
            }
}

TEST(counter_total_advance)
{
    /* A meter advances by c_i >= 0 between readings; the register wraps at
     * its modulus M, and now and then it is replaced by a new one that starts
     * at 0 (the reading after the swap is then c_i).  The deltas of all
     * buckets must add up to sum(c_i), whatever the bucket size. */
    enum { N = 4000 };
    static struct sb_sample s[N];
    static struct sb_agg out[N + 8];
    uint64_t seed = 77;
    double mods[] = { 0, 100000, 65536 };
    for (int m = 0; m < 3; m++) {
        struct sb_agg_ctx c = { .kind = SB_AGG_COUNTER, .counter_max = mods[m] };
        double reg = mods[m] ? mods[m] - 500 : 12345.67, total = 0;
        int64_t t = T_BASE;
        int resets = 0;
        for (int i = 0; i < N; i++) {
            double inc = round(urand(&seed) * 300) / 100;   /* 0 .. 3 kWh, 0.01 steps */
            t += 1 + (int64_t)(tap_rand(&seed) % (20 * MIN));
            /* (a drop of more than M/2 would read as a wrap: by the rule
             * in agg.h, a swap can only be seen below M/2) */
            if (i > 0 && tap_rand(&seed) % 500 == 0 && (!mods[m] || reg < mods[m] / 2)) {
                reg = inc;                    /* new meter: 0 + inc */
                resets++;
            } else {
                reg += inc;
                if (mods[m] && reg >= mods[m])
                    reg -= mods[m];
            }
            if (i > 0)
                total += inc;
            s[i] = smp(t, reg);
        }
        for (int r = SB_RES_1M; r <= SB_RES_15M; r++) {
            int n = compute(&c, NULL, (enum sb_res)r, NULL, s, N, s[0].t, s[N - 1].t + 1, out,
                            N + 8);
            REQUIRE(n > 0);
            double sum = 0;
            int est = 0;
            for (int i = 0; i < n; i++) {
                sum += out[i].delta;
                est += (out[i].qor & SB_Q_ESTIMATED) != 0;
            }
            /* each reading is a rounded double: 1e-11 per step at 1e5 */
            CHECK_DBL(sum, total, 1e-7);
            CHECK(resets == 0 || est > 0);
            CHECK(est <= resets);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Late data                                                           */
/* ------------------------------------------------------------------ */

/* Index of the first sample with t >= x, in s[0..n). */
static size_t lower(const struct sb_sample *s, size_t n, int64_t x)
{
    size_t i = 0;
    while (i < n && s[i].t < x)
        i++;
    return i;
}

/* Replaces the stored buckets in [b0, b1) by those recomputed from the
 * samples of those whole buckets (plus one on each side) of x[0..n), into
 * got; returns the count. */
static int patch(const struct sb_agg_ctx *c, enum sb_res r, const struct sb_agg *stored, int ns,
                 const struct sb_sample *x, size_t n, int64_t d0, int64_t d1, struct sb_agg *got,
                 size_t cap)
{
    static struct sb_agg part[4000];
    int64_t b0 = sb_bucket_start(NULL, r, d0);
    int64_t b1 = sb_bucket_next(NULL, r, sb_bucket_start(NULL, r, d1 - 1));
    size_t i0 = lower(x, n, b0), i1 = lower(x, n, b1);
    size_t j0 = i0 > 0 ? i0 - 1 : 0, j1 = i1 < n ? i1 + 1 : i1;
    int np = compute(c, NULL, r, NULL, x + j0, j1 - j0, d0, d1, part, 4000);
    int ng = 0;
    for (int i = 0; i < ns && stored[i].start < b0 && (size_t)ng < cap; i++)
        got[ng++] = stored[i];
    for (int i = 0; i < np && (size_t)ng < cap; i++)
        got[ng++] = part[i];
    for (int i = 0; i < ns && (size_t)ng < cap; i++)
        if (stored[i].start >= b1)
            got[ng++] = stored[i];
    return ng;
}

static void same_list(const struct sb_agg *got, int ng, const struct sb_agg *want, int nw,
                      const char *what, int round_)
{
    CHECK_EQ(ng, nw);
    for (int i = 0; i < ng && i < nw; i++)
        if (!agg_same(&got[i], &want[i])) {
            TAP_FAIL("%s, round %d: bucket %d differs", what, round_, i);
            agg_dump("patched ", &got[i]);
            agg_dump("from all", &want[i]);
            break;
        }
}

TEST(dirty_range)
{
    /* p @12:00, s @12:14:00, q @13:00; holds of 61 s.
     * MEAN: only s's bucket: [12:14:00, 12:14:00.001).
     * COUNTER: s's bucket and q's (its increase now starts at s):
     *   [12:14, 13:00:00.001).
     * RATE: p's hold (to 12:01:01) and s's (to 12:15:01), cut at q:
     *   [12:14, 12:15:01): the 12:15 bucket is in (s holds 1 s into it).
     *   Without q: the same; without a hold limit reaching past q: q.t. */
    struct sb_sample p = smp(T(12, 0, 0), 1), x = smp(T(12, 14, 0), 2), q = smp(T(13, 0, 0), 3);
    struct sb_agg_ctx c = { .kind = SB_AGG_MEAN, .max_hold_ms = 61 * SEC };
    int64_t t0, t1;
    sb_agg_dirty(&c, &p, &x, &q, &t0, &t1);
    CHECK_EQ(t0, x.t);
    CHECK_EQ(t1, x.t + 1);
    c.kind = SB_AGG_COUNTER;
    sb_agg_dirty(&c, &p, &x, &q, &t0, &t1);
    CHECK_EQ(t1, q.t + 1);
    sb_agg_dirty(&c, &p, &x, NULL, &t0, &t1);
    CHECK_EQ(t1, x.t + 1);
    c.kind = SB_AGG_RATE;
    sb_agg_dirty(&c, &p, &x, &q, &t0, &t1);
    CHECK_EQ(t0, x.t);
    CHECK_EQ(t1, T(12, 15, 1));
    sb_agg_dirty(&c, NULL, &x, NULL, &t0, &t1);
    CHECK_EQ(t1, T(12, 15, 1));
    c.max_hold_ms = 2 * HOUR;
    sb_agg_dirty(&c, &p, &x, &q, &t0, &t1);
    CHECK_EQ(t1, q.t);
    /* no q, 2 h holds: to the later of s's (14:14) and p's (14:00) ends */
    sb_agg_dirty(&c, &p, &x, NULL, &t0, &t1);
    CHECK_EQ(t1, T(14, 14, 0));
}

TEST(late_data)
{
    /* A late sample x arrives between stored samples p and q: recomputing
     * only the buckets sb_agg_dirty() names must give what computing
     * everything from the sorted union gives; deleting x again likewise. */
    enum { N = 600, CAP = 4000 };
    static struct sb_sample s[N + 1], u[N + 1];
    static struct sb_agg full[CAP], want[CAP], got[CAP];
    uint64_t seed = 4242;
    for (int round_ = 0; round_ < 40; round_++) {
        enum sb_agg_kind kind = (enum sb_agg_kind)(round_ % SB_AGG_KIND_COUNT);
        enum sb_res r = round_ % 2 ? SB_RES_1M : SB_RES_15M;
        struct sb_agg_ctx c = { .kind = kind, .max_hold_ms = round_ % 3 ? 10 * MIN : 3 * HOUR };
        gen_series(&seed, kind, s, N, T_BASE);
        int64_t lo = s[0].t, hi = s[N - 1].t + 2 * HOUR;
        size_t k = 1 + tap_rand(&seed) % (N - 2);
        int64_t gap = s[k].t - s[k - 1].t;
        if (gap < 2)
            continue;
        struct sb_sample x = smp(s[k - 1].t + 1 + (int64_t)(tap_rand(&seed) % (uint64_t)(gap - 1)),
                                 kind == SB_AGG_COUNTER ? s[k - 1].v + 0.5 : 42.5);
        memcpy(u, s, k * sizeof *s);
        u[k] = x;
        memcpy(u + k + 1, s + k, (N - k) * sizeof *s);
        int nf = compute(&c, NULL, r, NULL, s, N, lo, hi, full, CAP);
        int nw = compute(&c, NULL, r, NULL, u, N + 1, lo, hi, want, CAP);
        REQUIRE(nf > 0 && nw > 0);
        int64_t d0, d1;
        sb_agg_dirty(&c, &u[k - 1], &u[k], &u[k + 1], &d0, &d1);
        CHECK(d0 <= x.t && d1 > x.t);
        int ng = patch(&c, r, full, nf, u, N + 1, d0, d1, got, CAP);
        same_list(got, ng, want, nw, "insert", round_);
        ng = patch(&c, r, want, nw, s, N, d0, d1, got, CAP);
        same_list(got, ng, full, nf, "delete", round_);
    }
}

/* ------------------------------------------------------------------ */
/* Merging across DST: 15 min -> hour, day                              */
/* ------------------------------------------------------------------ */

/* Reference aggregate of [A, B), straight from the samples (no agg.c). */
struct ref {
    uint32_t n;
    double sum, min, max, first, last, integral, covered, delta;
    int64_t t_first, t_last;
};

static struct ref ref_of(const struct sb_agg_ctx *c, const struct sb_sample *s, size_t n,
                         int64_t A, int64_t B)
{
    struct ref R = { 0 };
    for (size_t i = 0; i < n; i++) {
        if (s[i].t >= A && s[i].t < B) {
            if (R.n == 0) {
                R.min = R.max = R.first = s[i].v;
                R.t_first = s[i].t;
            }
            R.min = fmin(R.min, s[i].v);
            R.max = fmax(R.max, s[i].v);
            R.last = s[i].v;
            R.t_last = s[i].t;
            R.sum += s[i].v;
            R.n++;
            if (i > 0)   /* no resets / wraps in this data */
                R.delta += s[i].v - s[i - 1].v;
        }
        /* hold: [t_i, min(t_i+1, t_i + hold)) clipped to [A, B) */
        int64_t e = i + 1 < n ? s[i + 1].t : B;
        if (s[i].t + c->max_hold_ms < e)
            e = s[i].t + c->max_hold_ms;
        int64_t lo = s[i].t > A ? s[i].t : A, hi = e < B ? e : B;
        if (hi > lo) {
            R.integral += s[i].v * (double)(hi - lo) / 1000.0;
            R.covered += (double)(hi - lo) / 1000.0;
        }
    }
    return R;
}

static void check_ref(const struct sb_agg *a, const struct ref *R, enum sb_agg_kind kind)
{
    CHECK_EQ(a->n, R->n);
    if (R->n) {
        CHECK_DBL(a->min, R->min, 0);
        CHECK_DBL(a->max, R->max, 0);
        CHECK_DBL(a->first, R->first, 0);
        CHECK_DBL(a->last, R->last, 0);
        CHECK_EQ(a->t_first, R->t_first);
        CHECK_EQ(a->t_last, R->t_last);
    }
    /* sum is kept for MEAN and RATE only (agg.h) */
    CHECK_REL(a->sum, kind == SB_AGG_MEAN || kind == SB_AGG_RATE ? R->sum : 0, 0);
    if (kind == SB_AGG_RATE) {
        CHECK_REL(a->integral, R->integral, 0);
        CHECK_REL(a->covered, R->covered, 0);
    }
    if (kind == SB_AGG_COUNTER)
        CHECK_REL(a->delta, R->delta, 0);
}

/* Highest mean (RATE) / delta (COUNTER) of the 15-min windows in [A, B). */
static double ref_peak(const struct sb_agg_ctx *c, const struct sb_sample *s, size_t n,
                       int64_t A, int64_t B)
{
    double best = -INFINITY;
    for (int64_t w = A; w < B; w += 15 * MIN) {
        struct ref R = ref_of(c, s, n, w, w + 15 * MIN);
        if (c->kind == SB_AGG_RATE && R.covered > 0)
            best = fmax(best, R.integral / R.covered);
        if (c->kind == SB_AGG_COUNTER && R.n > 0)
            best = fmax(best, R.delta);
    }
    return best;
}

struct dst_day {
    const char *zone;
    int64_t day0, day1;   /* local midnights, UTC seconds (date -u -d ...) */
    int hours;            /* hour buckets in the day */
};

static void merge_day(const struct dst_day *d, enum sb_agg_kind kind, uint64_t *seed)
{
    enum { N = 4000, CAP = 200 };
    static struct sb_sample s[N];
    static struct sb_agg q[CAP], hours[CAP];
    const struct sb_tz *tz = sb_tz_get(d->zone);
    REQUIRE(tz != NULL);
    struct sb_agg_ctx c = { .kind = kind, .max_hold_ms = 4 * MIN };
    int64_t A = d->day0 * SEC, B = d->day1 * SEC;
    /* samples from 2 h before to 2 h after the day, every 20-60 s, with two
     * gaps longer than the hold: power on a 0.1 kW grid, an energy register */
    int64_t t = A - 2 * HOUR;
    size_t n = 0;
    double v = 100;
    while (t < B + 2 * HOUR && n < N) {
        v = kind == SB_AGG_COUNTER ? v + round(urand(seed) * 20) / 100
                                   : round((60 + 40 * sin((double)t / 5e6) + urand(seed) * 5) * 10) / 10;
        s[n++] = smp(t, v);
        t += 20 * SEC + (int64_t)(tap_rand(seed) % (40 * SEC));
        if (n == 700 || n == 2100)
            t += 17 * MIN;
    }
    REQUIRE(n < N);
    int nq = compute(&c, tz, SB_RES_15M, NULL, s, n, A, B, q, CAP);
    /* RATE: every 15 min covered (gaps of 17 min < 4 min hold + 15 min);
     * MEAN, COUNTER: a gap may leave one 15-min bucket without samples */
    REQUIRE(nq > 0 && nq <= (int)((B - A) / (15 * MIN)));
    if (kind == SB_AGG_RATE)
        CHECK_EQ(nq, (B - A) / (15 * MIN));
    /* hours: 15-min buckets grouped by the zone's hour buckets */
    int nh = 0;
    struct sb_agg day;
    sb_agg_init(&day, sb_bucket_start(tz, SB_RES_1D, q[0].start));
    CHECK_EQ(day.start, A);
    for (int i = 0; i < nq; i++) {
        int64_t hs = sb_bucket_start(tz, SB_RES_1H, q[i].start);
        if (nh == 0 || hours[nh - 1].start != hs)
            sb_agg_init(&hours[nh++], hs);
        sb_agg_merge(&c, &hours[nh - 1], &q[i], SB_RES_15M);
        CHECK_EQ(sb_bucket_start(tz, SB_RES_1D, q[i].start), A);
    }
    for (int i = 0; i < nh; i++)
        sb_agg_merge(&c, &day, &hours[i], SB_RES_1H);
    CHECK_EQ(nh, d->hours);
    CHECK_EQ(sb_bucket_next(tz, SB_RES_1D, A), B);
    /* these zones are whole hours off UTC: local hours are UTC hours */
    for (int i = 0; i < nh; i++) {
        CHECK_EQ(hours[i].start, A + i * HOUR);
        struct ref R = ref_of(&c, s, n, A + i * HOUR, A + (i + 1) * HOUR);
        check_ref(&hours[i], &R, kind);
        if (kind != SB_AGG_MEAN)
            CHECK_DBL(hours[i].peak, ref_peak(&c, s, n, A + i * HOUR, A + (i + 1) * HOUR),
                      1e-9);
    }
    struct ref R = ref_of(&c, s, n, A, B);
    check_ref(&day, &R, kind);
    if (kind != SB_AGG_MEAN)
        CHECK_DBL(day.peak, ref_peak(&c, s, n, A, B), 1e-9);
}

TEST(merge_dst_days)
{
    /* UTC instants of local midnight (date -u -d '2026-03-08 05:00 UTC' +%s
     * etc., checked with TZ=... date -d @...):
     *   New York 2026-03-08: EST midnight 05:00Z, next midnight EDT 04:00Z:
     *     23 h (02:00 -> 03:00 spring forward)
     *   New York 2026-11-01: EDT midnight 04:00Z, next EST 05:00Z: 25 h
     *   Sydney 2026-04-05: AEDT (+11) midnight 04-04 13:00Z, next AEST (+10)
     *     midnight 04-05 14:00Z: 25 h (03:00 -> 02:00 fall back) */
    static const struct dst_day days[] = {
        { "America/New_York", 1772946000, 1773028800, 23 },
        { "America/New_York", 1793505600, 1793595600, 25 },
        { "Australia/Sydney", 1775307600, 1775397600, 25 },
    };
    uint64_t seed = 99;
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        merge_day(&days[i], SB_AGG_MEAN, &seed);
        merge_day(&days[i], SB_AGG_RATE, &seed);
        merge_day(&days[i], SB_AGG_COUNTER, &seed);
    }
}

/* ------------------------------------------------------------------ */
/* Pages                                                               */
/* ------------------------------------------------------------------ */

static int page_roundtrip(enum sb_agg_kind kind, const struct sb_agg *a, size_t n)
{
    static uint8_t buf[1 << 22];
    static struct sb_agg back[1 << 14];
    ssize_t need = sb_agg_page_encode(NULL, 0, kind, a, n);
    ssize_t len = sb_agg_page_encode(buf, sizeof buf, kind, a, n);
    if (need < 0 || len != need) {
        TAP_FAIL("encode: need %zd len %zd", need, len);
        return -1;
    }
    size_t nb = 0;
    int rc = sb_agg_page_decode(buf, (size_t)len, back, sizeof back / sizeof back[0], &nb);
    if (rc != 0 || nb != n) {
        TAP_FAIL("decode: %s, %zu of %zu", sb_errname(rc), nb, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!agg_same(&a[i], &back[i])) {
            TAP_FAIL("bucket %zu differs after round trip", i);
            agg_dump("in ", &a[i]);
            agg_dump("out", &back[i]);
            return -1;
        }
    return (int)len;
}

TEST(page_roundtrip_random)
{
    enum { N = 3000, CAP = 6000 };
    static struct sb_sample s[N];
    static struct sb_agg q[CAP], h[CAP];
    uint64_t seed = 31337;
    for (int kind = 0; kind < SB_AGG_KIND_COUNT; kind++)
        for (int r = SB_RES_1M; r <= SB_RES_15M; r++) {
            struct sb_agg_ctx c = { .kind = (enum sb_agg_kind)kind, .max_hold_ms = 3 * MIN };
            gen_series(&seed, c.kind, s, N, T_BASE);
            int n = compute(&c, NULL, (enum sb_res)r, NULL, s, N, s[0].t, s[N - 1].t + HOUR, q,
                            CAP);
            REQUIRE(n > 0);
            CHECK(page_roundtrip(c.kind, q, (size_t)n) > 0);
            CHECK(page_roundtrip(c.kind, q, 1) > 0);
            CHECK(page_roundtrip(c.kind, q + 5, 129) > 0);   /* one block and a bit */
            /* merged: hour buckets (peak no longer derivable) */
            int nh = 0;
            for (int i = 0; i < n; i++) {
                int64_t hs = sb_bucket_start(NULL, SB_RES_1H, q[i].start);
                if (nh == 0 || h[nh - 1].start != hs)
                    sb_agg_init(&h[nh++], hs);
                sb_agg_merge(&c, &h[nh - 1], &q[i], (enum sb_res)r);
            }
            CHECK(page_roundtrip(c.kind, h, (size_t)nh) > 0);
        }
    CHECK_EQ(page_roundtrip(SB_AGG_MEAN, q, 0), 3);   /* version, kind, count 0 */
}

TEST(page_odd_values)
{
    /* Values the decimal path must not mangle: -0.0, denormals, huge,
     * thirds, negative, 2^53 + 2. */
    static const double odd[] = { -0.0, 4.9e-324, -2.2250738585072014e-308, 1.7976931348623157e308,
                                  1.0 / 3, -7.25, 9007199254740994.0, 0.1, 1e-7, 123456.789 };
    struct sb_agg a[10];
    for (int i = 0; i < 10; i++) {
        sb_agg_init(&a[i], T_BASE + i * 15 * MIN);
        double v = odd[i], w = odd[(i + 3) % 10];
        a[i].n = (uint32_t)i * 1000003u;
        if (a[i].n) {
            a[i].min = v;
            a[i].max = w;
            a[i].sum = v - w;
            a[i].first = w;
            a[i].last = v;
            a[i].t_first = a[i].start + i;
            a[i].t_last = a[i].start + 2 * i;
        }
        a[i].integral = w;
        a[i].covered = v;
        a[i].delta = v;
        a[i].peak = w;
        a[i].qor = (uint16_t)(0xffff - i);
        a[i].nstates = (uint8_t)(i % 9);
        for (int j = 0; j < a[i].nstates; j++) {
            a[i].st[j].value = odd[(i + j) % 10];
            a[i].st[j].secs = odd[(i + 2 * j) % 10];
        }
    }
    a[9].n = UINT32_MAX;
    for (int kind = 0; kind < SB_AGG_KIND_COUNT; kind++)
        CHECK(page_roundtrip((enum sb_agg_kind)kind, a, 10) > 0);
}

TEST(page_errors)
{
    struct sb_agg a[64], back[64];
    struct sb_agg_ctx c = { .kind = SB_AGG_RATE, .max_hold_ms = 2 * MIN };
    struct sb_sample s[200];
    uint64_t seed = 5;
    gen_series(&seed, SB_AGG_RATE, s, 200, T_BASE);
    int n = compute(&c, NULL, SB_RES_15M, NULL, s, 200, s[0].t, s[0].t + 10 * HOUR, a, 64);
    REQUIRE(n >= 10);
    uint8_t buf[8192];
    ssize_t len = sb_agg_page_encode(buf, sizeof buf, SB_AGG_RATE, a, (size_t)n);
    REQUIRE(len > 0);
    size_t got;
    /* every truncation is an error, never a success or a crash */
    for (ssize_t cut = 0; cut < len; cut++) {
        int rc = sb_agg_page_decode(buf, (size_t)cut, back, 64, &got);
        if (rc != SB_ECORRUPT) {
            TAP_FAIL("prefix of %zd bytes: %s", cut, sb_errname(rc));
            break;
        }
    }
    /* trailing garbage, bad version, bad kind */
    buf[len] = 0;
    CHECK_EQ(sb_agg_page_decode(buf, (size_t)len + 1, back, 64, &got), SB_ECORRUPT);
    buf[0] ^= 0x80;
    CHECK_EQ(sb_agg_page_decode(buf, (size_t)len, back, 64, &got), SB_ECORRUPT);
    buf[0] ^= 0x80;
    buf[1] = SB_AGG_KIND_COUNT;
    CHECK_EQ(sb_agg_page_decode(buf, (size_t)len, back, 64, &got), SB_ECORRUPT);
    buf[1] = SB_AGG_RATE;
    /* too small out: SB_ENOSPC with the count; info reads the header */
    CHECK_EQ(sb_agg_page_decode(buf, (size_t)len, back, 3, &got), SB_ENOSPC);
    CHECK_EQ(got, n);
    enum sb_agg_kind k;
    CHECK_EQ(sb_agg_page_info(buf, (size_t)len, &k, &got), 0);
    CHECK_EQ(k, SB_AGG_RATE);
    CHECK_EQ(got, n);
    /* single bit flips: decode may succeed (data bits) but must not crash */
    for (ssize_t i = 0; i < len; i++) {
        buf[i] ^= (uint8_t)(1u << (i % 8));
        (void)sb_agg_page_decode(buf, (size_t)len, back, 64, &got);
        buf[i] ^= (uint8_t)(1u << (i % 8));
    }
    /* encoder: too small a buffer, bad input */
    CHECK_EQ(sb_agg_page_encode(buf, (size_t)len - 1, SB_AGG_RATE, a, (size_t)n), SB_ENOSPC);
    CHECK_EQ(sb_agg_page_encode(buf, sizeof buf, SB_AGG_KIND_COUNT, a, 1), SB_EINVAL);
    struct sb_agg bad[2] = { a[1], a[0] };
    CHECK_EQ(sb_agg_page_encode(buf, sizeof buf, SB_AGG_RATE, bad, 2), SB_EINVAL);
    bad[0] = a[0];
    bad[0].integral = NAN;
    CHECK_EQ(sb_agg_page_encode(buf, sizeof buf, SB_AGG_RATE, bad, 1), SB_EINVAL);
    sb_agg_init(&bad[0], 0);
    bad[0].min = 1;   /* sample field of a bucket with n = 0 */
    CHECK_EQ(sb_agg_page_encode(buf, sizeof buf, SB_AGG_RATE, bad, 1), SB_EINVAL);
    sb_agg_init(&bad[0], 0);
    bad[0].st[3].secs = 1;   /* unused state slot */
    CHECK_EQ(sb_agg_page_encode(buf, sizeof buf, SB_AGG_STATE, bad, 1), SB_EINVAL);
}

static int all_finite(const struct sb_agg *a)
{
    double v[] = { a->min, a->max, a->sum, a->first, a->last, a->integral, a->covered,
                   a->delta, a->peak };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

TEST(page_guess_overflow)
{
    /* n = 2 and first = last = 1.5e308: the sum guess (first + last)
     * overflows to inf.  Splicing a "GUESS, no misses" column (02 00 00)
     * over every stretch of the page must never decode to a non-finite
     * field; whatever decodes must encode again (as the fuzzer checks). */
    struct sb_agg a[2], back[4];
    for (int i = 0; i < 2; i++) {
        sb_agg_init(&a[i], T_BASE + i * 15 * MIN);
        a[i].n = 2;
        a[i].first = a[i].last = a[i].min = a[i].max = 1.5e308;
        a[i].sum = 1.0;
        a[i].t_first = a[i].start + 1;
        a[i].t_last = a[i].start + 2;
        a[i].integral = 1e300;
        a[i].covered = 1e-300;
    }
    uint8_t page[512], buf[600], again[600];
    ssize_t len = sb_agg_page_encode(page, sizeof page, SB_AGG_RATE, a, 2);
    REQUIRE(len > 0);
    int decoded = 0;
    for (ssize_t at = 3; at < len; at++)
        for (ssize_t cut = 1; cut <= 12 && at + cut <= len; cut++) {
            static const uint8_t splice[] = { 0x02, 0x00, 0x00 };
            size_t bl = 0;
            memcpy(buf, page, (size_t)at);
            bl = (size_t)at;
            memcpy(buf + bl, splice, sizeof splice);
            bl += sizeof splice;
            memcpy(buf + bl, page + at + cut, (size_t)(len - at - cut));
            bl += (size_t)(len - at - cut);
            size_t nb;
            if (sb_agg_page_decode(buf, bl, back, 4, &nb) != 0)
                continue;
            decoded++;
            for (size_t i = 0; i < nb; i++)
                CHECK(all_finite(&back[i]));
            CHECK(sb_agg_page_encode(again, sizeof again, SB_AGG_RATE, back, nb) > 0);
        }
    printf("# %d spliced pages decoded\n", decoded);
}

/* ------------------------------------------------------------------ */
/* Bytes per bucket on realistic data                                  */
/* ------------------------------------------------------------------ */

/* Boston TMY3 hourly dry-bulb (tests/data), linearly interpolated to one
 * reading a minute, with sensor noise (sd ~0.06 degC) and rounded to 0.1
 * degC, as an outdoor sensor would report.  Returns the number of samples,
 * 0 if the file is missing. */
static size_t boston_minutes(uint64_t *seed, struct sb_sample *s, size_t cap, int64_t t0)
{
    FILE *f = fopen("tests/data/boston_tmy3_drybulb.csv", "r");
    if (!f)
        return 0;
    static double hourly[8760];
    char line[256];
    size_t nh = 0, n = 0;
    while (fgets(line, sizeof line, f) && nh < 8760) {
        int h;
        double v;
        if (line[0] != '#' && sscanf(line, "%d,%lf", &h, &v) == 2)
            hourly[nh++] = v;
    }
    fclose(f);
    for (size_t i = 0; i + 1 < nh && n + 60 <= cap; i++)
        for (int m = 0; m < 60; m++, n++)
            s[n] = smp(t0 + (int64_t)n * MIN,
                       round((hourly[i] + (hourly[i + 1] - hourly[i]) * m / 60.0 +
                              (urand(seed) + urand(seed) + urand(seed) - 1.5) * 0.1) * 10) / 10);
    return n;
}

/* An office feeder: 1-min power readings on a 0.1 kW grid (occupied-hours
 * load, HVAC cycling, noise), its energy register on a 0.01 kWh grid, and
 * an occupancy state. */
static void office(uint64_t *seed, struct sb_sample *p, struct sb_sample *e, struct sb_sample *o,
                   size_t n, int64_t t0)
{
    double reg = 48213.37;
    for (size_t i = 0; i < n; i++) {
        int64_t t = t0 + (int64_t)i * MIN;
        int hour = (int)((i / 60) % 24), dow = (int)((i / 1440) % 7);
        int occ = dow < 5 && hour >= 7 && hour < 19;
        double kw = 35 + (occ ? 80 : 0) + ((i / 7) % 3 == 0 ? 25 : 0) + urand(seed) * 6;
        kw = round(kw * 10) / 10;
        p[i] = smp(t, kw);
        reg = round((reg + kw / 60) * 100) / 100;
        e[i] = smp(t, reg);
        o[i] = smp(t, occ);
    }
}

static double page_cost(const struct sb_agg_ctx *c, const struct sb_sample *s, size_t n,
                        enum sb_res r, int64_t per_page)
{
    static struct sb_agg q[40000], hb[40000];
    static uint8_t buf[1 << 20];
    size_t total = 0, nb = 0, i0 = 0;
    for (int64_t p0 = s[0].t; p0 < s[n - 1].t; p0 += per_page) {
        /* the page's samples, with one on each side */
        size_t i1 = i0;
        while (i1 < n && s[i1].t < p0 + per_page)
            i1++;
        size_t j0 = i0 > 0 ? i0 - 1 : 0, j1 = i1 < n ? i1 + 1 : n;
        int k = compute(c, NULL, r == SB_RES_1H ? SB_RES_15M : r, NULL, s + j0, j1 - j0, p0,
                        p0 + per_page, q, 40000);
        i0 = i1;
        if (k <= 0)
            return -1;
        const struct sb_agg *pg = q;
        if (r == SB_RES_1H) {   /* hours merged from 15-min buckets */
            int nh = 0;
            for (int i = 0; i < k; i++) {
                int64_t hs = sb_bucket_start(NULL, SB_RES_1H, q[i].start);
                if (nh == 0 || hb[nh - 1].start != hs)
                    sb_agg_init(&hb[nh++], hs);
                sb_agg_merge(c, &hb[nh - 1], &q[i], SB_RES_15M);
            }
            k = nh;
            pg = hb;
        }
        ssize_t len = sb_agg_page_encode(buf, sizeof buf, c->kind, pg, (size_t)k);
        if (len < 0)
            return -1;
        total += (size_t)len;
        nb += (size_t)k;
    }
    return (double)total / (double)nb;
}

TEST(page_size)
{
#ifndef PAGE_SIZE_DAYS
#define PAGE_SIZE_DAYS 120   /* January to April: keeps the run short */
#endif
    enum { N = PAGE_SIZE_DAYS * 1440 };
    static struct sb_sample t[N], p[N], e[N], o[N];
    uint64_t seed = 2026;
    int64_t t0 = (1767225600LL + 5 * 3600) * SEC;   /* 2026-01-01 00:00 EST */
    size_t nt = boston_minutes(&seed, t, N, t0);
    office(&seed, p, e, o, N, t0);
    struct sb_agg_ctx cm = { .kind = SB_AGG_MEAN };
    struct sb_agg_ctx cr = { .kind = SB_AGG_RATE, .max_hold_ms = 3 * MIN };
    struct sb_agg_ctx cc = { .kind = SB_AGG_COUNTER, .counter_max = 1e6 };
    struct sb_agg_ctx cs = { .kind = SB_AGG_STATE, .max_hold_ms = 3 * MIN };
    const struct { const char *name; const struct sb_agg_ctx *c; const struct sb_sample *s;
                   size_t n; double limit; } series[] = {
        { "MEAN temperature (Boston TMY3)", &cm, t, nt, 12 },
        { "RATE office power", &cr, p, N, 16 },
        { "COUNTER office energy", &cc, e, N, 12 },
        { "STATE occupancy", &cs, o, N, 12 },
    };
    for (size_t i = 0; i < sizeof series / sizeof series[0]; i++) {
        if (series[i].n == 0) {
            printf("# (tests/data/boston_tmy3_drybulb.csv not found: run from the repo root)\n");
            continue;
        }
        double b1 = page_cost(series[i].c, series[i].s, series[i].n, SB_RES_1M, DAY);
        double b15 = page_cost(series[i].c, series[i].s, series[i].n, SB_RES_15M, DAY);
        double b60 = page_cost(series[i].c, series[i].s, series[i].n, SB_RES_1H, 7 * DAY);
        printf("# bytes/bucket %-32s 1m: %5.2f  15m: %5.2f  1h (merged): %5.2f\n",
               series[i].name, b1, b15, b60);
        CHECK(b1 > 0 && b15 > 0 && b60 > 0);
        /* 8 doubles + 3 times raw would be ~90 bytes a bucket */
        CHECK(b15 < series[i].limit);
    }
}

int main(void)
{
    TAP_START();
    RUN(temperature_bucket);
    RUN(power_irregular_gap);
    RUN(hold_across_boundaries);
    RUN(zero_hold);
    RUN(counter_rules);
    RUN(state_time);
    RUN(merge_peak_rules);
    RUN(values_and_errors);
    RUN(incremental_equals_batch);
    RUN(counter_total_advance);
    RUN(dirty_range);
    RUN(late_data);
    RUN(merge_dst_days);
    RUN(page_roundtrip_random);
    RUN(page_odd_values);
    RUN(page_errors);
    RUN(page_guess_overflow);
    RUN(page_size);
    TAP_END();
}

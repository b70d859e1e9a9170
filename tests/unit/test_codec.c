/*
 * test_codec.c - unit tests for store/codec: round trips over random and
 * realistic series, size targets, malformed input, buffer-size contracts.
 *
 * The realistic series are built from the hourly Boston TMY3 dry-bulb column
 * in tests/data/boston_tmy3_drybulb.csv (see its header for provenance), read
 * relative to the working directory (run from the repository root) or from
 * the directory in $SB_TEST_DATA.
 */
#include <float.h>
#include <time.h>

#include "tap.h"

#include "core/err.h"
#include "store/codec.h"

#define DAY_MIN (24 * 60)
#define T0 INT64_C(1767225600000)   /* 2026-01-01T00:00:00Z in ms */

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t dbits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    return u;
}

static double bitsd(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof d);
    return d;
}

/* Uniform in [0, 1). */
static double urand(uint64_t *rs)
{
    return (double)(tap_rand(rs) >> 11) * 0x1p-53;
}

/* Standard normal (Box-Muller). */
static double grand(uint64_t *rs)
{
    double u = urand(rs) + 0x1p-60, v = urand(rs);

    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* The double nearest to x / 10^k, as a sensor's "21.3" parses. */
static double dec(int64_t x, int k)
{
    static const double p[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7 };

    return (double)x / p[k];
}

static double round_to(double v, int k)
{
    static const double p[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };

    return dec(llround(v * p[k]), k);
}

/* A finite double from random bits (non-finite patterns are redrawn). */
static double rand_finite(uint64_t *rs)
{
    uint64_t b;

    do
        b = tap_rand(rs);
    while ((b & UINT64_C(0x7ff0000000000000)) == UINT64_C(0x7ff0000000000000));
    return bitsd(b);
}

static int same_sample(const struct sb_sample *a, const struct sb_sample *b)
{
    return a->t == b->t && dbits(a->v) == dbits(b->v) && a->q == b->q;
}

/* Encodes s[0..n) with an exact-size buffer, checks the NULL length, decodes
 * bit-exactly, and checks count and span.  Returns the length, -1 on failure. */
static ssize_t roundtrip(const struct sb_sample *s, size_t n)
{
    ssize_t need = sb_chunk_encode(NULL, 0, s, n), len;
    uint8_t *buf;
    struct sb_sample *out;
    size_t got = 0, cnt = 0, bad = 0;
    int64_t first = 0, last = 0;
    int rc;

    if (need < 0 || (size_t)need > sb_chunk_bound(n)) {
        TAP_FAIL("n=%zu: length %zd, bound %zu", n, need, sb_chunk_bound(n));
        return -1;
    }
    buf = malloc((size_t)need);
    out = malloc((n ? n : 1) * sizeof *out);
    len = sb_chunk_encode(buf, (size_t)need, s, n);
    CHECK_EQ(len, need);
    rc = sb_chunk_decode(buf, (size_t)need, out, n, &got);
    CHECK_EQ(rc, 0);
    CHECK_EQ(got, n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        bad += !same_sample(&s[i], &out[i]);
    CHECK_EQ(bad, 0);
    CHECK_EQ(sb_chunk_count(buf, (size_t)need, &cnt), 0);
    CHECK_EQ(cnt, n);
    rc = sb_chunk_span(buf, (size_t)need, &first, &last);
    CHECK_EQ(rc, n ? 0 : SB_ENOENT);
    if (n && rc == 0) {
        CHECK_EQ(first, s[0].t);
        CHECK_EQ(last, s[n - 1].t);
    }
    free(buf);
    free(out);
    return len == need && bad == 0 ? len : -1;
}

/* Round-trips a value column alone; returns its length or -1. */
static ssize_t values_roundtrip(const double *v, size_t n)
{
    ssize_t need = sb_codec_put_values(NULL, 0, v, n), got;
    uint8_t *buf = malloc(need > 0 ? (size_t)need : 1);
    double *out = malloc((n ? n : 1) * sizeof *out);
    size_t bad = 0;

    CHECK(need >= 0);
    CHECK_EQ(sb_codec_put_values(buf, (size_t)need, v, n), need);
    CHECK_EQ(sb_codec_get_values(buf, (size_t)need, NULL, n), need);   /* check only */
    got = sb_codec_get_values(buf, (size_t)need, out, n);
    CHECK_EQ(got, need);
    for (size_t i = 0; got == need && i < n; i++)
        bad += dbits(v[i]) != dbits(out[i]);
    CHECK_EQ(bad, 0);
    free(buf);
    free(out);
    return got == need && bad == 0 ? need : -1;
}

/* Round-trips a time column alone; returns its length or -1. */
static ssize_t times_roundtrip(const int64_t *t, size_t n)
{
    ssize_t need = sb_codec_put_times(NULL, 0, t, n), got;
    uint8_t *buf = malloc(need > 0 ? (size_t)need : 1);
    int64_t *out = malloc((n ? n : 1) * sizeof *out);
    size_t bad = 0;

    CHECK(need >= 0);
    CHECK_EQ(sb_codec_put_times(buf, (size_t)need, t, n), need);
    CHECK_EQ(sb_codec_get_times(buf, (size_t)need, NULL, n), need);
    got = sb_codec_get_times(buf, (size_t)need, out, n);
    CHECK_EQ(got, need);
    for (size_t i = 0; got == need && i < n; i++)
        bad += t[i] != out[i];
    CHECK_EQ(bad, 0);
    free(buf);
    free(out);
    return got == need && bad == 0 ? need : -1;
}

/* ---- realistic series ------------------------------------------------------- */

static double hourly[8760];   /* Boston TMY3 dry-bulb, deg C */
static int nhourly;

/* Opens tests/data/<name>: from $SB_TEST_DATA if set, else relative to the
 * working directory (the repository root, as make runs tests), else next to
 * this source file (when __FILE__ is absolute). */
static FILE *open_data(const char *name)
{
    char path[1024];
    const char *dir = getenv("SB_TEST_DATA"), *slash = strrchr(__FILE__, '/');
    FILE *f;

    if (dir) {
        snprintf(path, sizeof path, "%s/%s", dir, name);
        return fopen(path, "r");
    }
    snprintf(path, sizeof path, "tests/data/%s", name);
    if ((f = fopen(path, "r")) != NULL || !slash)
        return f;
    snprintf(path, sizeof path, "%.*s/../data/%s", (int)(slash - __FILE__), __FILE__, name);
    return fopen(path, "r");
}

static int load_weather(void)
{
    FILE *f = open_data("boston_tmy3_drybulb.csv");
    char line[256];
    int h;
    double v;

    if (!f)
        return -1;
    while (nhourly < 8760 && fgets(line, sizeof line, f))
        if (sscanf(line, "%d,%lf", &h, &v) == 2)
            hourly[nhourly++] = v;
    fclose(f);
    return nhourly == 8760 ? 0 : -1;
}

/* Outdoor temperature at minute m of the year, linear between hours. */
static double outdoor(double m)
{
    double h = m / 60;
    int i = (int)h;

    if (i >= 8759)
        return hourly[8759];
    return hourly[i] + (hourly[i + 1] - hourly[i]) * (h - i);
}

/* 1-minute zone temperature from minute `start` of the year: a first-order
 * lag (90 min) towards 22.5 deg C, nudged by the outdoor temperature and by
 * occupied-hours gains, clamped to 21-24, sensor noise 0.02, shown to 0.1. */
static void zone_series(struct sb_sample *s, size_t n, int start, uint64_t *rs)
{
    double z = 22.0;

    for (size_t i = 0; i < n; i++) {
        double m = start + (double)i, hod = fmod(m / 60, 24);
        double tgt = 22.5 + 0.06 * (outdoor(m) - 10) + (hod >= 9 && hod < 17 ? 0.8 : 0);

        tgt = tgt < 21 ? 21 : tgt > 24 ? 24 : tgt;
        z += (tgt - z) / 90;
        s[i].t = T0 + (int64_t)i * 60000;
        s[i].v = round_to(z + 0.02 * grand(rs), 1);
        s[i].q = 0;
    }
}

/* Load following a daily cycle between 20 and 80 kW with random steps. */
static double load_step(double p, double hod, double react, double noise, uint64_t *rs)
{
    double tgt = 50 + 25 * sin(2 * M_PI * (hod - 9) / 24);

    p += (tgt - p) * react + noise * grand(rs);
    return p < 20 ? 20 : p > 80 ? 80 : p;
}

/* 15-s cumulative energy register in kWh to 0.01. */
static void energy_series(struct sb_sample *s, size_t n, uint64_t *rs)
{
    double e = 123456.78, p = 50;

    for (size_t i = 0; i < n; i++) {
        p = load_step(p, fmod((double)i / 240, 24), 0.05, 1.0, rs);
        e += p * 15 / 3600;
        s[i].t = T0 + (int64_t)i * 15000;
        s[i].v = round_to(e, 2);
        s[i].q = 0;
    }
}

/* 60-s power in kW to 0.1. */
static void power_series(struct sb_sample *s, size_t n, uint64_t *rs)
{
    double p = 50;

    for (size_t i = 0; i < n; i++) {
        p = load_step(p, fmod((double)i / 60, 24), 0.1, 1.5, rs);
        s[i].t = T0 + (int64_t)i * 60000;
        s[i].v = round_to(p, 1);
        s[i].q = 0;
    }
}

/* Bytes per sample of s[0..n) cut into chunks of `chunk` samples. */
static double bytes_per_sample(const struct sb_sample *s, size_t n, size_t chunk)
{
    size_t total = 0;

    for (size_t o = 0; o < n; o += chunk) {
        size_t m = n - o < chunk ? n - o : chunk;
        ssize_t len = roundtrip(s + o, m);

        if (len < 0)
            return 1e9;
        total += (size_t)len;
    }
    return (double)total / (double)n;
}

/* ---- varints ------------------------------------------------------------- */

TEST(varint_roundtrip)
{
    static const uint64_t xs[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX,
                                   (UINT64_C(1) << 63) - 1, UINT64_C(1) << 63, UINT64_MAX };
    uint8_t b[10];

    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        ssize_t n = sb_varint_put(NULL, 0, xs[i]);
        uint64_t y = 0;
        size_t want = 1;

        for (uint64_t x = xs[i] >> 7; x; x >>= 7)
            want++;
        CHECK_EQ(n, want);
        CHECK_EQ(sb_varint_put(b, (size_t)n - 1, xs[i]), SB_ENOSPC);
        CHECK_EQ(sb_varint_put(b, sizeof b, xs[i]), n);
        CHECK_EQ(sb_varint_get(b, (size_t)n, &y), n);
        CHECK(y == xs[i]);
        CHECK_EQ(sb_varint_get(b, (size_t)n - 1, &y), SB_ECORRUPT);
    }
    CHECK_EQ(sb_zigzag(0), 0);
    CHECK_EQ(sb_zigzag(-1), 1);
    CHECK_EQ(sb_zigzag(1), 2);
    CHECK(sb_zigzag(INT64_MIN) == UINT64_MAX);
    CHECK_EQ(sb_unzigzag(sb_zigzag(INT64_MIN)), INT64_MIN);
    CHECK_EQ(sb_unzigzag(sb_zigzag(INT64_MAX)), INT64_MAX);
}

TEST(varint_malformed)
{
    static const uint8_t nonmin[] = { 0x80, 0x00 };          /* 0 in two bytes */
    static const uint8_t big[] = { 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x02 };  /* 2^64 */
    static const uint8_t longer[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                      0x80, 0x80, 0x80, 0x80, 0x01 };
    uint64_t y;

    CHECK_EQ(sb_varint_get(nonmin, sizeof nonmin, &y), SB_ECORRUPT);
    CHECK_EQ(sb_varint_get(big, sizeof big, &y), SB_ECORRUPT);
    CHECK_EQ(sb_varint_get(longer, sizeof longer, &y), SB_ECORRUPT);
    CHECK_EQ(sb_varint_get(big, 0, &y), SB_ECORRUPT);
}

/* ---- times ------------------------------------------------------------- */

TEST(times_regular_one_bit)
{
    static int64_t t[10000];
    static const int64_t periods[] = { 1000, 15000, 60000, 900000 };

    for (size_t p = 0; p < 4; p++) {
        for (size_t i = 0; i < 10000; i++)
            t[i] = T0 + (int64_t)i * periods[p];
        /* ~1 bit per delta-of-delta plus t0, t1 - t0 and the order byte */
        CHECK_INT(times_roundtrip(t, 10000), <=, 10000 / 8 + 16);
    }
}

/* Poll times on a 60-s grid with +/- 50 ms of jitter, and polls that drift
 * (each 60 s +/- 50 ms after the last): 1-2 bytes a sample. */
TEST(times_jitter)
{
    static int64_t t[20000];
    uint64_t rs = 7;
    int64_t drift = T0;
    ssize_t len;

    for (size_t i = 0; i < 20000; i++)
        t[i] = T0 + (int64_t)i * 60000 + (int64_t)(tap_rand(&rs) % 101) - 50;
    len = times_roundtrip(t, 20000);
    printf("# grid 60 s +/- 50 ms: %.2f bytes/time\n", (double)len / 20000);
    CHECK_INT(len, <=, 20000 * 3 / 2);
    for (size_t i = 0; i < 20000; i++)
        t[i] = drift += 60000 + (int64_t)(tap_rand(&rs) % 101) - 50;
    len = times_roundtrip(t, 20000);
    printf("# drifting 60 s +/- 50 ms: %.2f bytes/time\n", (double)len / 20000);
    CHECK_INT(len, <=, 20000 * 3 / 2);
}

/* Random sorted times: regular stretches, jitter, duplicates (allowed in a
 * column), huge gaps, and the int64 extremes. */
static void random_times(int64_t *t, size_t n, uint64_t *rs)
{
    int kind = (int)(tap_rand(rs) % 4);
    uint64_t span = UINT64_MAX, cur;

    t[0] = kind == 0 ? INT64_MIN : (int64_t)(tap_rand(rs) % 4000000000000) - 2000000000000;
    cur = (uint64_t)t[0] ^ (UINT64_C(1) << 63);
    for (size_t i = 1; i < n; i++) {
        uint64_t g, room = span - cur, r = tap_rand(rs);

        switch (r % 6) {
        case 0:  g = 0; break;
        case 1:  g = 60000; break;
        case 2:  g = 60000 + (r >> 8) % 101 - 50; break;
        case 3:  g = (r >> 8) % 1000; break;
        case 4:  g = (r >> 8) % 100000000000; break;
        default: g = kind == 3 ? (r >> 3) : (r >> 8) % 86400000; break;
        }
        g = g > room ? room : g;
        cur += g;
        t[i] = (int64_t)(cur ^ (UINT64_C(1) << 63));
    }
    if (kind == 1 && n > 1)
        t[n - 1] = INT64_MAX;
}

TEST(times_random)
{
    static int64_t t[3000];
    uint64_t rs = 11;

    for (int iter = 0; iter < 300; iter++) {
        size_t n = iter < 10 ? (size_t)iter : 1 + tap_rand(&rs) % 3000;

        random_times(t, n, &rs);
        REQUIRE(times_roundtrip(t, n) >= 0);
    }
    t[0] = INT64_MIN;
    t[1] = INT64_MAX;
    t[2] = INT64_MAX;
    CHECK(times_roundtrip(t, 3) >= 0);
}

TEST(times_unsorted)
{
    int64_t t[] = { 5, 4 };
    uint8_t buf[64];

    CHECK_EQ(sb_codec_put_times(buf, sizeof buf, t, 2), SB_EINVAL);
    CHECK_EQ(sb_codec_put_times(NULL, 0, t, 2), SB_EINVAL);
}

/* t0 = INT64_MAX then t1 - t0 = 1 would leave int64: corrupt, not wrapped. */
TEST(times_overflow)
{
    static const uint8_t col[] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                                   0x01 };
    int64_t t[2];

    CHECK_EQ(sb_codec_get_times(col, 10, t, 1), 10);
    CHECK_EQ(t[0], INT64_MAX);
    CHECK_EQ(sb_codec_get_times(col, sizeof col, t, 2), SB_ECORRUPT);
}

/* ---- values ------------------------------------------------------------- */

TEST(values_special)
{
    static const uint64_t pats[] = {
        0, UINT64_C(0x8000000000000000),                   /* +0, -0 */
        1, UINT64_C(0x8000000000000001),                   /* smallest subnormals */
        UINT64_C(0x000fffffffffffff), UINT64_C(0x0010000000000000), /* subnormal max, DBL_MIN */
        UINT64_C(0x7fefffffffffffff), UINT64_C(0xffefffffffffffff), /* +/- DBL_MAX */
    };
    double v[64];
    size_t n = 0;

    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
        v[n++] = bitsd(pats[i]);
    v[n++] = 0.1 + 0.2;
    v[n++] = 0x1p53;
    v[n++] = 0x1p53 + 2;
    v[n++] = -0x1p53;
    v[n++] = 1e300;
    v[n++] = 1e-7;
    v[n++] = 123456789.123456;
    CHECK(values_roundtrip(v, n) > 0);
    for (size_t i = 0; i < n; i++)
        CHECK(values_roundtrip(v + i, 1) > 0);   /* each alone: CONST */
    /* pairs exercise every mode switch */
    for (size_t i = 0; i + 1 < n; i++)
        CHECK(values_roundtrip(v + i, 2) > 0);
}

/* -0.0 would decode as +0.0 through the decimal path: it must round-trip
 * bit-exactly, in a series that is otherwise decimal. */
TEST(values_negative_zero)
{
    double v[] = { 21.5, 21.6, -0.0, 21.6, 0.0, 21.7 };
    double w[] = { 0.1, 0.2, 0.30000000000000004, 0.3 };

    CHECK(values_roundtrip(v, 6) > 0);
    CHECK(values_roundtrip(v + 2, 1) > 0);
    CHECK(values_roundtrip(w, 4) > 0);
}

TEST(values_random_bits)
{
    static double v[2000];
    uint64_t rs = 3;

    for (int iter = 0; iter < 200; iter++) {
        size_t n = iter < 5 ? (size_t)iter : 1 + tap_rand(&rs) % 2000;

        for (size_t i = 0; i < n; i++) {
            uint64_t r = tap_rand(&rs) % 8;
            /* mostly random bits, with repeats and near-repeats for XOR windows */
            v[i] = r == 0 && i ? v[i - 1]
                 : r == 1 && i ? bitsd(dbits(v[i - 1]) ^ (tap_rand(&rs) & 0xffff))
                 : rand_finite(&rs);
            if (!isfinite(v[i]))
                v[i] = 1.5;
        }
        REQUIRE(values_roundtrip(v, n) >= 0);
    }
}

/* Random walks of decimals with a random scale and step, incl. scale 6 and
 * magnitudes near the 2^53 limit of the decimal path; they must also be
 * much smaller than 8 bytes a value when steps are small. */
TEST(values_random_decimals)
{
    static double v[4000];
    uint64_t rs = 5;

    for (int iter = 0; iter < 300; iter++) {
        size_t n = 2 + tap_rand(&rs) % 4000;
        int k = (int)(tap_rand(&rs) % 7);
        int64_t step = (int64_t)(tap_rand(&rs) % 4) == 0 ? 1000000 : 3;
        int64_t x = (int64_t)(tap_rand(&rs) % 2000001) - 1000000;
        ssize_t len;

        if (iter % 10 == 0)
            x = (INT64_C(1) << 53) / 2 - 1000000 * (int64_t)n;
        for (size_t i = 0; i < n; i++) {
            x += (int64_t)(tap_rand(&rs) % (2 * (uint64_t)step + 1)) - step;
            v[i] = dec(x, k);
        }
        len = values_roundtrip(v, n);
        REQUIRE(len >= 0);
        if (step == 3 && iter % 10 != 0)
            CHECK_INT(len, <=, (ssize_t)n + 16);   /* < 1 byte a value */
    }
}

/* Integers as doubles that need all 53 bits still round-trip, and a decimal
 * that needs 7 digits falls back to XOR. */
TEST(values_limits)
{
    double big[] = { 0x1p53 - 1, -(0x1p53 - 1), 0x1p53, 4503599627370495.5 };
    double seven[] = { 0.1234567, 0.1234568, 0.1234569 };
    double k6[] = { 0.123456, 0.123457, 0.123458 };
    /* fits at scale 0 but not at scale 1 (10x exceeds 2^53), which the
     * second value needs: the first must be checked again */
    double rescan[] = { 900719925474100.0, 0.5 };

    CHECK(values_roundtrip(rescan, 2) > 0);
    CHECK(values_roundtrip(big, 4) > 0);
    CHECK(values_roundtrip(seven, 3) > 0);
    CHECK_INT(values_roundtrip(k6, 3), <, values_roundtrip(seven, 3));
}

TEST(values_nonfinite)
{
    double v[] = { 1.0, NAN };
    uint8_t buf[64];

    CHECK_EQ(sb_codec_put_values(buf, sizeof buf, v, 2), SB_EINVAL);
    v[1] = INFINITY;
    CHECK_EQ(sb_codec_put_values(NULL, 0, v, 2), SB_EINVAL);
    v[1] = -INFINITY;
    CHECK_EQ(sb_codec_put_values(buf, sizeof buf, v, 2), SB_EINVAL);
}

TEST(values_constant)
{
    static double v[5000];

    for (size_t i = 0; i < 5000; i++)
        v[i] = 21.5;
    CHECK_INT(values_roundtrip(v, 5000), <=, 9);   /* stored once */
    for (size_t i = 0; i < 5000; i++)
        v[i] = -0.0;
    CHECK_INT(values_roundtrip(v, 5000), <=, 9);
}

/* ---- quality flags ------------------------------------------------------- */

TEST(u16s)
{
    static uint16_t q[5000], out[5000];
    uint64_t rs = 9;
    uint8_t buf[8];
    static const uint8_t zero_run[] = { 0x00, 0x00 };
    static const uint8_t long_run[] = { 0x00, 0x03 };
    static const uint8_t wide[] = { 0x80, 0x80, 0x04, 0x01 };   /* 65536 */

    CHECK_EQ(sb_codec_put_u16s(NULL, 0, q, 5000), 3);   /* one run: 0 x 5000 */
    for (int iter = 0; iter < 50; iter++) {
        size_t n = tap_rand(&rs) % 5000;
        ssize_t len;
        uint8_t *b;

        for (size_t i = 0; i < n; i++)
            q[i] = tap_rand(&rs) % 8 == 0 ? (uint16_t)tap_rand(&rs) : (i ? q[i - 1] : 0);
        len = sb_codec_put_u16s(NULL, 0, q, n);
        b = malloc((size_t)len + 1);
        CHECK_EQ(sb_codec_put_u16s(b, (size_t)len, q, n), len);
        CHECK_EQ(sb_codec_get_u16s(b, (size_t)len, NULL, n), len);
        CHECK_EQ(sb_codec_get_u16s(b, (size_t)len, out, n), len);
        CHECK(memcmp(q, out, n * sizeof *q) == 0);
        free(b);
    }
    CHECK_EQ(sb_codec_get_u16s(zero_run, 2, out, 2), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_u16s(long_run, 2, out, 2), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_u16s(wide, 4, out, 1), SB_ECORRUPT);
    CHECK_EQ(sb_codec_put_u16s(buf, 1, q, 1), SB_ENOSPC);   /* needs 2 bytes */
}

/* ---- chunks ---------------------------------------------------------------- */

/* A chunk computed by hand from the format in docs/internals/compression.md:
 * t = 1000, 61000, 121000, 181000 ms; v = 21.5, 21.5, 21.6, 21.6; q = 0.
 *   01             version
 *   04             count
 *   d0 0f          zig-zag(1000) = 2000, LEB128
 *   e0 d4 03       t1 - t0 = 60000, LEB128
 *   00             order 0 for the delta-of-deltas
 *   00             two codes '0' (dod 0), padded
 *   12             values: mode 2 (decimal deltas), scale 1
 *   00             order 0
 *   ae 03          zig-zag(215) = 430, LEB128
 *   0a             deltas 0, +1, 0 as zig-zag 0, 2, 0: '0'; h + 1 = 3 so q = 1:
 *                  '1' '0' then its low bit '1'; '0' -> bits 0,1,0,1,0 LSB first
 *   00 04          quality: flags 0, run of 4
 * (delta-of-delta would be 0, +1, -1: 7 bits against 5, so deltas win.) */
TEST(golden_vector)
{
    static const uint8_t want[] = { 0x01, 0x04, 0xd0, 0x0f, 0xe0, 0xd4, 0x03, 0x00, 0x00,
                                    0x12, 0x00, 0xae, 0x03, 0x0a, 0x00, 0x04 };
    struct sb_sample s[4] = { { 1000, 21.5, 0 }, { 61000, 21.5, 0 },
                              { 121000, 21.6, 0 }, { 181000, 21.6, 0 } };
    struct sb_sample out[4];
    uint8_t buf[64];
    ssize_t len = sb_chunk_encode(buf, sizeof buf, s, 4);
    size_t n = 0;

    CHECK_EQ(len, sizeof want);
    for (ssize_t i = 0; i < len; i++)
        if (i >= (ssize_t)sizeof want || buf[i] != want[i])
            TAP_FAIL("byte %zd: %02x vs %02x", i, buf[i], i < (ssize_t)sizeof want ? want[i] : 0);
    CHECK_EQ(sb_chunk_decode(want, sizeof want, out, 4, &n), 0);
    CHECK_EQ(n, 4);
    for (size_t i = 0; i < 4; i++)
        CHECK(same_sample(&s[i], &out[i]));
}

TEST(chunk_small_n)
{
    struct sb_sample s[3] = { { -5, -0.0, SB_Q_STALE }, { 0, 1e-300, 0 }, { 7, 3.25, SB_Q_ALL } };
    uint8_t buf[4];
    size_t n = 99;

    CHECK_EQ(roundtrip(s, 0), 2);
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, NULL, 0), 2);
    CHECK_EQ(sb_chunk_decode(buf, 2, NULL, 0, &n), 0);
    CHECK_EQ(n, 0);
    CHECK(roundtrip(s, 1) > 0);
    CHECK(roundtrip(s, 2) > 0);
    CHECK(roundtrip(s, 3) > 0);
}

/* Random samples: random_times made strictly increasing (cut short if
 * they reach INT64_MAX), values random bits, decimals or constant, flags
 * in runs.  Returns how many samples it filled. */
static size_t random_chunk(struct sb_sample *s, size_t n, uint64_t *rs)
{
    static int64_t t[5000];
    int vk = (int)(tap_rand(rs) % 3), k = (int)(tap_rand(rs) % 7);
    int64_t x = 0;

    random_times(t, n, rs);
    for (size_t i = 0; i < n; i++) {
        if (i && t[i] <= s[i - 1].t) {
            if (s[i - 1].t == INT64_MAX)
                return i;
            t[i] = s[i - 1].t + 1;
        }
        s[i].t = t[i];
        x += (int64_t)(tap_rand(rs) % 21) - 10;
        s[i].v = vk == 0 ? rand_finite(rs) : vk == 1 ? dec(x, k) : 42.0;
        s[i].q = tap_rand(rs) % 50 == 0 ? (uint16_t)(tap_rand(rs) & SB_Q_ALL) : (i ? s[i - 1].q : 0);
    }
    return n;
}

TEST(chunk_random)
{
    static struct sb_sample s[5000];
    uint64_t rs = 13;

    for (int iter = 0; iter < 200; iter++) {
        size_t n = random_chunk(s, tap_rand(&rs) % 5000, &rs);

        REQUIRE(roundtrip(s, n) >= 0);
    }
}

TEST(chunk_large)
{
    size_t n = 300000;
    struct sb_sample *s = malloc(n * sizeof *s);
    uint64_t rs = 17;
    ssize_t len;

    REQUIRE(s);
    energy_series(s, n, &rs);
    len = roundtrip(s, n);
    CHECK(len > 0);
    CHECK_INT(len, <, (ssize_t)n);
    free(s);
}

TEST(chunk_invalid_input)
{
    struct sb_sample s[3] = { { 10, 1, 0 }, { 20, 2, 0 }, { 30, 3, 0 } };
    uint8_t buf[256];

    s[2].t = 20;   /* duplicate time */
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, s, 3), SB_EINVAL);
    s[2].t = 15;   /* unsorted */
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, s, 3), SB_EINVAL);
    s[2].t = 30;
    s[1].v = NAN;
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, s, 3), SB_EINVAL);
    /* validation comes before the size check */
    CHECK_EQ(sb_chunk_encode(buf, 1, s, 3), SB_EINVAL);
    s[1].v = INFINITY;
    CHECK_EQ(sb_chunk_encode(NULL, 0, s, 3), SB_EINVAL);
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, s, SB_CHUNK_MAX_SAMPLES + 1), SB_EINVAL);
    CHECK_EQ(sb_chunk_encode(buf, sizeof buf, NULL, 3), SB_EINVAL);
}

/* Every cap below the length gives SB_ENOSPC and writes nothing past cap
 * (each buffer is allocated at exactly cap bytes, so ASan would see it). */
TEST(chunk_enospc)
{
    struct sb_sample s[200];
    uint64_t rs = 19;
    ssize_t need;

    random_chunk(s, 200, &rs);
    for (size_t i = 1; i < 200; i++)
        s[i].t = s[i - 1].t + 1 + (int64_t)(tap_rand(&rs) % 100000);
    need = sb_chunk_encode(NULL, 0, s, 200);
    REQUIRE(need > 0);
    for (size_t cap = 0; cap < (size_t)need; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);

        CHECK_EQ(sb_chunk_encode(b, cap, s, 200), SB_ENOSPC);
        free(b);
    }
    CHECK_EQ(sb_chunk_encode(NULL, 12345, s, 200), need);
}

TEST(decode_enospc)
{
    struct sb_sample s[10], out[10];
    uint8_t buf[256];
    ssize_t len;
    size_t n = 0;

    for (int i = 0; i < 10; i++)
        s[i] = (struct sb_sample){ T0 + i * 1000, i * 0.5, 0 };
    len = sb_chunk_encode(buf, sizeof buf, s, 10);
    REQUIRE(len > 0);
    CHECK_EQ(sb_chunk_decode(buf, (size_t)len, out, 9, &n), SB_ENOSPC);
    CHECK_EQ(n, 10);
    CHECK_EQ(sb_chunk_decode(buf, (size_t)len, out, 10, &n), 0);
    CHECK_EQ(n, 10);
}

/* Checks what a successful decode of damaged bytes still guarantees. */
static void check_decoded(const struct sb_sample *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(out[i].v))
            TAP_FAIL("non-finite value decoded at %zu", i);
        if (i && out[i].t <= out[i - 1].t)
            TAP_FAIL("times not increasing at %zu", i);
    }
}

/* Truncation at every length fails (on an exact-size copy, so ASan sees
 * any overread); every single-bit flip decodes to an error or to samples
 * that still satisfy the chunk's invariants. */
static void damage(const struct sb_sample *s, size_t n)
{
    ssize_t len = sb_chunk_encode(NULL, 0, s, n);
    uint8_t *good = malloc((size_t)len);
    struct sb_sample *out = malloc((n + 1) * sizeof *out);
    size_t got;

    CHECK_EQ(sb_chunk_encode(good, (size_t)len, s, n), len);
    for (ssize_t cut = 0; cut < len; cut++) {
        uint8_t *b = malloc(cut ? (size_t)cut : 1);

        memcpy(b, good, (size_t)cut);
        CHECK_EQ(sb_chunk_decode(b, (size_t)cut, out, n + 1, &got), SB_ECORRUPT);
        free(b);
    }
    for (ssize_t bit = 0; bit < len * 8; bit++) {
        uint8_t *b = malloc((size_t)len);
        int rc;

        memcpy(b, good, (size_t)len);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = sb_chunk_decode(b, (size_t)len, out, n + 1, &got);
        CHECK(rc == 0 || rc == SB_ECORRUPT || rc == SB_ENOSPC);
        if (rc == 0)
            check_decoded(out, got);
        free(b);
    }
    free(good);
    free(out);
}

TEST(chunk_damage)
{
    static struct sb_sample s[300];
    uint64_t rs = 23;

    zone_series(s, 300, 0, &rs);
    damage(s, 300);
    energy_series(s, 200, &rs);
    damage(s, 200);
    for (int i = 0; i < 100; i++) {
        s[i].t = T0 + i * 997 + (int64_t)(tap_rand(&rs) % 50);
        s[i].v = rand_finite(&rs);
        s[i].q = (uint16_t)(i / 10);
    }
    damage(s, 100);
    damage(s, 1);
    damage(s, 0);
}

TEST(chunk_malformed_header)
{
    struct sb_sample s[3] = { { 1, 1, 0 }, { 2, 2, 0 }, { 3, 3, 0 } }, out[3];
    uint8_t buf[64], big[8] = { 0x01, 0x81, 0x80, 0x80, 0x08 };   /* count 2^24 + 1 */
    ssize_t len = sb_chunk_encode(buf, sizeof buf - 1, s, 3);
    size_t n;

    REQUIRE(len > 0);
    buf[len] = 0;
    n = 99;
    CHECK_EQ(sb_chunk_decode(buf, (size_t)len + 1, out, 3, &n), SB_ECORRUPT);   /* trailing byte */
    CHECK_EQ(n, 0);
    buf[0] = 2;
    CHECK_EQ(sb_chunk_decode(buf, (size_t)len, out, 3, &n), SB_ECORRUPT);       /* version */
    CHECK_EQ(sb_chunk_count(buf, (size_t)len, &n), SB_ECORRUPT);
    CHECK_EQ(sb_chunk_count(big, sizeof big, &n), SB_ECORRUPT);
    big[4] = 0x00;   /* a non-minimal varint now */
    CHECK_EQ(sb_chunk_count(big, sizeof big, &n), SB_ECORRUPT);
    /* a count far beyond what the bytes could hold */
    big[1] = 0xff;
    big[2] = 0xff;
    big[3] = 0x07;
    CHECK_EQ(sb_chunk_count(big, sizeof big, &n), SB_ECORRUPT);
}

/* The value column's header: unknown modes and scales are corrupt. */
TEST(values_malformed_header)
{
    double v[3] = { 1.5, 1.6, 1.7 }, out[3];
    uint8_t buf[64];
    ssize_t len = sb_codec_put_values(buf, sizeof buf, v, 3);

    REQUIRE(len > 2);
    CHECK_EQ(buf[0], 0x13);   /* decimal delta-of-deltas at scale 1 */
    buf[0] = 0x72;            /* scale 7 */
    CHECK_EQ(sb_codec_get_values(buf, (size_t)len, out, 3), SB_ECORRUPT);
    buf[0] = 0x04;            /* mode 4 */
    CHECK_EQ(sb_codec_get_values(buf, (size_t)len, out, 3), SB_ECORRUPT);
    CHECK_EQ(sb_codec_put_values(buf, sizeof buf, v, 1), 9);   /* CONST */
    CHECK_EQ(buf[0], 0x01);
    CHECK_EQ(sb_codec_get_values(buf, 9, out, 3), 9);
    buf[0] = 0x11;            /* CONST with a scale */
    CHECK_EQ(sb_codec_get_values(buf, 9, out, 3), SB_ECORRUPT);
    len = sb_codec_put_values(buf, sizeof buf, v, 3);
    buf[0] = 0x13;
    buf[1] = 57;              /* order beyond the maximum */
    CHECK_EQ(sb_codec_get_values(buf, (size_t)len, out, 3), SB_ECORRUPT);
}

/* Hand-made bodies that break the format's rules must be rejected. */
TEST(values_malformed_body)
{
    /* XOR: 1.0, then '1' '1', 31 leading zeros and a length of 64 (> 64 bits) */
    static const uint8_t xor_wide[] = { 0x00, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0xff, 0x1f,
                                        0, 0, 0, 0, 0, 0, 0, 0 };
    /* XOR: 1.0, then '1' '0' (reuse a window) before any window was opened */
    static const uint8_t xor_reuse[] = { 0x00, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x01,
                                         0, 0, 0, 0, 0, 0, 0, 0 };
    /* CONST and XOR holding an infinity */
    static const uint8_t const_inf[] = { 0x01, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f };
    static const uint8_t xor_inf[] = { 0x00, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f };
    uint8_t col[32] = { 0x02, 0x00 };   /* decimal deltas, scale 0, order 0 */
    double out[2];
    ssize_t k;

    CHECK_EQ(sb_codec_get_values(xor_wide, sizeof xor_wide, out, 2), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_values(xor_reuse, sizeof xor_reuse, out, 2), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_values(const_inf, sizeof const_inf, out, 2), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_values(xor_inf, sizeof xor_inf, out, 1), SB_ECORRUPT);
    /* decimal: 2^53 is the largest magnitude allowed, 2^53 + 1 is corrupt */
    k = sb_varint_put(col + 2, sizeof col - 2, sb_zigzag(INT64_C(1) << 53));
    REQUIRE(k > 0);
    CHECK_EQ(sb_codec_get_values(col, 2 + (size_t)k, out, 1), 2 + k);
    CHECK(out[0] == 0x1p53);
    col[2 + k] = 0x05;          /* then a delta of +1: '1' '0' '1' */
    CHECK_EQ(sb_codec_get_values(col, 3 + (size_t)k, out, 2), SB_ECORRUPT);
    col[2 + k] = 0x0a;          /* '0' then a stray '1' in the padding */
    CHECK_EQ(sb_codec_get_values(col, 3 + (size_t)k, out, 2), SB_ECORRUPT);
    col[2 + k] = 0x00;          /* '0' then zero padding: 2^53 twice */
    CHECK_EQ(sb_codec_get_values(col, 3 + (size_t)k, out, 2), 3 + k);
    k = sb_varint_put(col + 2, sizeof col - 2, sb_zigzag((INT64_C(1) << 53) + 1));
    CHECK_EQ(sb_codec_get_values(col, 2 + (size_t)k, out, 1), SB_ECORRUPT);
}

TEST(times_malformed_body)
{
    /* t0 = 0, t1 - t0 = 1, order 56, then a code with q = 15 (15 ones, a
     * zero, 15 ones: h = 2^16 - 2) and 56 zero low bits: h << 56 exceeds
     * 64 bits (truncated, it would give valid times) */
    static const uint8_t wide[] = { 0x00, 0x01, 56, 0xff, 0x7f, 0xff, 0x7f,
                                    0, 0, 0, 0, 0, 0, 0 };
    /* the same with order 57: beyond the maximum */
    static const uint8_t order[] = { 0x00, 0x01, 57, 0x00 };
    /* order 0, one code '0', a stray bit in the padding */
    static const uint8_t pad[] = { 0x00, 0x01, 0x00, 0x80 };
    static const uint8_t ok[] = { 0x00, 0x01, 0x00, 0x00 };
    int64_t t[3];

    CHECK_EQ(sb_codec_get_times(wide, sizeof wide, t, 3), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_times(order, sizeof order, t, 3), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_times(pad, sizeof pad, t, 3), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_times(pad, 3, t, 3), SB_ECORRUPT);
    CHECK_EQ(sb_codec_get_times(ok, sizeof ok, t, 3), 4);
    CHECK(t[0] == 0 && t[1] == 1 && t[2] == 2);
}

TEST(bound)
{
    static struct sb_sample s[2000];
    uint64_t rs = 29;
    ssize_t len;

    /* worst case we can build: random huge time steps over the whole int64
     * range, random value bits, flags alternating between 3-byte values */
    uint64_t u = 0;

    for (size_t i = 0; i < 2000; i++) {
        u += 1 + tap_rand(&rs) % (UINT64_MAX / 2001);
        s[i].t = (int64_t)(u ^ (UINT64_C(1) << 63));
        s[i].v = rand_finite(&rs);
        s[i].q = (uint16_t)(i % 2 ? 0xffff : 0x7fff);
    }
    len = sb_chunk_encode(NULL, 0, s, 2000);
    CHECK(len > 0);
    CHECK_INT(len, <=, (ssize_t)sb_chunk_bound(2000));
    CHECK(sb_chunk_bound(SIZE_MAX) == SIZE_MAX);
}

/* ---- realistic series: size targets --------------------------------------- */

TEST(size_zone_temperature)
{
    size_t n = 30 * DAY_MIN;
    struct sb_sample *s;
    uint64_t rs = 31;
    double day, month, jan_vals, *v;

    if (load_weather() != 0) {
        TAP_FAIL("cannot read tests/data/boston_tmy3_drybulb.csv: run from the repository"
                 " root or set SB_TEST_DATA");
        return;
    }
    s = malloc(n * sizeof *s);
    v = malloc(n * sizeof *v);
    REQUIRE(s && v);
    zone_series(s, n, 0, &rs);
    day = bytes_per_sample(s, n, DAY_MIN);
    month = bytes_per_sample(s, n, n);
    for (size_t i = 0; i < n; i++)
        v[i] = s[i].v;
    jan_vals = (double)values_roundtrip(v, n) / (double)n;
    printf("# zone temp 1 min, 0.1 C, January: %.3f B/sample in day chunks, %.3f in one"
           " month chunk; values alone %.3f B\n", day, month, jan_vals);
    CHECK(day <= 0.5);
    CHECK(month <= 0.5);
    zone_series(s, n, 180 * DAY_MIN, &rs);   /* July */
    day = bytes_per_sample(s, n, DAY_MIN);
    printf("# zone temp 1 min, 0.1 C, July: %.3f B/sample in day chunks\n", day);
    CHECK(day <= 0.5);
    free(s);
    free(v);
}

TEST(size_energy_register)
{
    size_t n = 30 * 5760;
    struct sb_sample *s = malloc(n * sizeof *s);
    uint64_t rs = 37;
    double day;

    REQUIRE(s);
    energy_series(s, n, &rs);
    day = bytes_per_sample(s, n, 5760);
    printf("# energy register 15 s, 0.01 kWh, 20-80 kW: %.3f B/sample in day chunks\n", day);
    CHECK(day <= 1.0);
    free(s);
}

TEST(size_power)
{
    size_t n = 30 * DAY_MIN;
    struct sb_sample *s = malloc(n * sizeof *s);
    uint64_t rs = 41;
    double day;

    REQUIRE(s);
    power_series(s, n, &rs);
    day = bytes_per_sample(s, n, DAY_MIN);
    printf("# power 60 s, 0.1 kW: %.3f B/sample in day chunks\n", day);
    CHECK(day <= 1.5);
    free(s);
}

/* ---- speed (reported, not asserted) --------------------------------------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

TEST(speed)
{
    size_t n = 1000000, got = 0;
    struct sb_sample *s = malloc(n * sizeof *s), *out = malloc(n * sizeof *out);
    uint8_t *buf = malloc(sb_chunk_bound(n));
    uint64_t rs = 43;
    double t0, t1, t2;
    ssize_t len;

    REQUIRE(s && out && buf);
    energy_series(s, n, &rs);
    for (size_t i = 0; i < n; i++)
        s[i].t += (int64_t)(tap_rand(&rs) % 101);   /* jittered poll times */
    t0 = now_s();
    len = sb_chunk_encode(buf, sb_chunk_bound(n), s, n);
    t1 = now_s();
    CHECK_EQ(sb_chunk_decode(buf, (size_t)len, out, n, &got), 0);
    t2 = now_s();
    CHECK_EQ(got, n);
    CHECK(got == n && same_sample(&s[n - 1], &out[n - 1]));
    printf("# 1 M samples (15 s energy, jittered times): encode %.1f ns/sample, decode %.1f"
           " ns/sample, %.3f B/sample\n", (t1 - t0) * 1e9 / (double)n,
           (t2 - t1) * 1e9 / (double)n, (double)len / (double)n);
    free(s);
    free(out);
    free(buf);
}

int main(void)
{
    TAP_START();
    RUN(varint_roundtrip);
    RUN(varint_malformed);
    RUN(times_regular_one_bit);
    RUN(times_jitter);
    RUN(times_random);
    RUN(times_unsorted);
    RUN(times_overflow);
    RUN(values_special);
    RUN(values_negative_zero);
    RUN(values_random_bits);
    RUN(values_random_decimals);
    RUN(values_limits);
    RUN(values_nonfinite);
    RUN(values_constant);
    RUN(u16s);
    RUN(golden_vector);
    RUN(chunk_small_n);
    RUN(chunk_random);
    RUN(chunk_large);
    RUN(chunk_invalid_input);
    RUN(chunk_enospc);
    RUN(decode_enospc);
    RUN(chunk_damage);
    RUN(chunk_malformed_header);
    RUN(values_malformed_header);
    RUN(values_malformed_body);
    RUN(times_malformed_body);
    RUN(bound);
    RUN(size_zone_temperature);
    RUN(size_energy_register);
    RUN(size_power);
    RUN(speed);
    TAP_END();
}

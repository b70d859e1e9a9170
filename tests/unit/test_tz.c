/*
 * test_tz.c - TZif reader, POSIX TZ rules, lookups and the zone cache.
 *
 * The oracle is glibc: for a zone name TZ=":Area/City", for a POSIX string
 * TZ="<string>", then localtime_r()'s tm_gmtoff.  Facts glibc cannot give
 * (it mishandles RFC 8536's all-year DST) were checked by hand against the
 * rules and are written out with their derivation.  Epoch values of the
 * hand-checked instants come from GNU date(1), e.g. date -u -d '2026-03-08
 * 07:00 UTC' +%s.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/tz.h"
#include "tap.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define T1970 0LL
#define T2025 1735689600LL      /* 2025-01-01T00:00Z */
#define T2100 4102444800LL      /* 2100-01-01T00:00Z */
#define T2500 16725225600LL     /* 2500-01-01T00:00Z */
#define T1800 (-5364662400LL)   /* 1800-01-01T00:00Z */
#define Y400  (146097LL * 86400)  /* 400 Gregorian years, in seconds */

static const char *const zones[] = {
    "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "America/Santiago",
    "Europe/London", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
    "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Chatham", "Pacific/Auckland",
    "Africa/Casablanca", "Asia/Tokyo", "UTC", "America/Nuuk", "Asia/Jerusalem",
    "Asia/Beirut", "America/St_Johns", "Antarctica/Casey", "Pacific/Apia",
    "Pacific/Kiritimati",
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* ---- glibc oracle ------------------------------------------------------ */

static void glibc_zone(const char *tz)
{
    setenv("TZ", tz, 1);
    tzset();
}

static int32_t glibc_off(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (!localtime_r(&tt, &tm))
        return INT32_MIN;
    return (int32_t)tm.tm_gmtoff;
}

static int mismatches_shown;

static int check_at(const struct sb_tz *tz, int64_t t, const char *label)
{
    int32_t a = sb_tz_offset(tz, t), b = glibc_off(t);

    if (a == b)
        return 0;
    if (mismatches_shown++ < 12)
        printf("#   %s t=%lld: sb %d, glibc %d\n", label, (long long)t, a, b);
    return 1;
}

/* Compares tz with glibc's current zone: every day of [lo, hi) at a random
 * time of day, n random instants, and both sides of every change of offset
 * tz reports (which glibc must see as a change too).  Returns mismatches. */
static int compare_glibc(const struct sb_tz *tz, int64_t lo, int64_t hi, int n, uint64_t *seed,
                         const char *label)
{
    int bad = 0;
    int64_t t, from, until;

    for (t = lo + (int64_t)(tap_rand(seed) % 86400); t < hi; t += 86400)
        bad += check_at(tz, t, label);
    for (int i = 0; i < n; i++)
        bad += check_at(tz, lo + (int64_t)(tap_rand(seed) % (uint64_t)(hi - lo)), label);
    for (t = lo;; t = until) {
        sb_tz_span(tz, t, &from, &until);
        if (until >= hi)
            break;
        bad += check_at(tz, until - 1, label) + check_at(tz, until, label);
        if (glibc_off(until - 1) == glibc_off(until)) {
            bad++;
            printf("#   %s: no change at %lld per glibc\n", label, (long long)until);
        }
    }
    return bad;
}

/* ---- building TZif files ----------------------------------------------- */

/* A growing byte buffer. */
struct bytes {
    uint8_t *p;      /* data (heap) */
    size_t n;        /* bytes used */
};

static void put(struct bytes *b, const void *d, size_t n)
{
    if (n == 0)
        return;
    b->p = realloc(b->p, b->n + n + 1);
    if (!b->p)
        abort();
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put32(struct bytes *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    put(b, x, 4);
}

static void put64(struct bytes *b, int64_t v)
{
    put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b, (uint32_t)v);
}

/* What a crafted TZif file holds. */
struct tzif_spec {
    const int64_t *at;       /* transition times */
    const uint8_t *idx;      /* their types */
    uint32_t n;              /* number of transitions */
    const int32_t *off;      /* utoff of each type */
    uint32_t ntypes;         /* number of types */
    uint32_t leapcnt;        /* leap-second records to add (zeros) */
    const char *footer;      /* TZ string; NULL makes a version-1 file */
};

static void put_hdr(struct bytes *b, char ver, uint32_t leap, uint32_t timecnt, uint32_t typecnt)
{
    uint8_t pad[15] = { 0 };

    put(b, "TZif", 4);
    put(b, &ver, 1);
    put(b, pad, 15);
    put32(b, 0);          /* isutcnt */
    put32(b, 0);          /* isstdcnt */
    put32(b, leap);
    put32(b, timecnt);
    put32(b, typecnt);
    put32(b, 4);          /* charcnt: "ABC\0" */
}

static void put_body(struct bytes *b, const struct tzif_spec *s, unsigned tsize)
{
    for (uint32_t i = 0; i < s->n; i++) {
        if (tsize == 8)
            put64(b, s->at[i]);
        else
            put32(b, (uint32_t)(int32_t)s->at[i]);
    }
    put(b, s->idx, s->n);
    for (uint32_t i = 0; i < s->ntypes; i++) {
        uint8_t dst_idx[2] = { 0, 0 };
        put32(b, (uint32_t)s->off[i]);
        put(b, dst_idx, 2);
    }
    put(b, "ABC", 4);
    for (uint32_t i = 0; i < s->leapcnt * (tsize + 4); i++)
        put(b, "", 1);
}

/* Version 2 (v1 block minimal, as zic -b slim writes it) or version 1. */
static struct bytes make_tzif(const struct tzif_spec *s)
{
    struct bytes b = { NULL, 0 };
    static const int32_t zero = 0;
    struct tzif_spec v1 = { NULL, NULL, 0, &zero, 1, 0, NULL };

    if (!s->footer) {
        put_hdr(&b, 0, s->leapcnt, s->n, s->ntypes);
        put_body(&b, s, 4);
        return b;
    }
    put_hdr(&b, '2', 0, 0, 1);
    put_body(&b, &v1, 4);
    put_hdr(&b, '2', s->leapcnt, s->n, s->ntypes);
    put_body(&b, s, 8);
    put(&b, "\n", 1);
    put(&b, s->footer, strlen(s->footer));
    put(&b, "\n", 1);
    return b;
}

/* A zone with no transitions, all given by the footer string. */
static int posix_zone(const char *str, struct sb_tz **out)
{
    static const int32_t zero = 0;
    static const uint8_t none = 0;
    struct tzif_spec s = { NULL, &none, 0, &zero, 1, 0, str };
    struct bytes b = make_tzif(&s);
    int rc = sb_tz_parse(b.p, b.n, str, out);

    free(b.p);
    return rc;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (p = malloc((size_t)n)) && fread(p, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(p);
        p = NULL;
    }
    fclose(f);
    return p;
}

/* ---- civil dates -------------------------------------------------------- */

TEST(civil_facts)
{
    int64_t y;
    unsigned m, d;

    CHECK_EQ(sb_days_from_civil(1970, 1, 1), 0);
    CHECK_EQ(sb_days_from_civil(2000, 3, 1), 11017);
    CHECK_EQ(sb_days_from_civil(2026, 11, 27), 20784);
    CHECK_EQ(sb_days_from_civil(1600, 1, 1), -135140);
    CHECK_EQ(sb_days_from_civil(2400, 12, 31), 157419);
    CHECK_EQ(sb_days_from_civil(0, 3, 1), -719468);   /* Hinnant's era origin */
    CHECK_EQ(sb_days_from_civil(1969, 12, 31), -1);
    sb_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    sb_civil_from_days(11016, &y, &m, &d);             /* 2000 is a leap year */
    CHECK(y == 2000 && m == 2 && d == 29);
    sb_civil_from_days(-719469, &y, &m, &d);           /* year 0 is leap too */
    CHECK(y == 0 && m == 2 && d == 29);
}

TEST(civil_vs_timegm)
{
    uint64_t seed = 1;
    int bad = 0;

    for (int i = 0; i < 20000; i++) {
        struct tm tm = { 0 };
        int y = 1600 + (int)(tap_rand(&seed) % 800);
        unsigned m = 1 + (unsigned)(tap_rand(&seed) % 12), d = 1 + (unsigned)(tap_rand(&seed) % 28);
        tm.tm_year = y - 1900;
        tm.tm_mon = (int)m - 1;
        tm.tm_mday = (int)d;
        if (sb_days_from_civil(y, m, d) * 86400 != (int64_t)timegm(&tm))
            bad++;
    }
    CHECK_EQ(bad, 0);
}

TEST(civil_round_trip)
{
    uint64_t seed = 2;
    int bad = 0;

    for (int i = 0; i < 100000; i++) {
        int64_t days = (int64_t)(tap_rand(&seed) % 2000000000ULL) - 1000000000, y;
        unsigned m, d;
        sb_civil_from_days(days, &y, &m, &d);
        if (m < 1 || m > 12 || d < 1 || d > 31 || sb_days_from_civil(y, m, d) != days)
            bad++;
        /* consecutive days: either d + 1 or the first of the next month */
        int64_t y2;
        unsigned m2, d2;
        sb_civil_from_days(days + 1, &y2, &m2, &d2);
        if (!(d2 == d + 1 && m2 == m && y2 == y) && d2 != 1)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

/* ---- real zones against glibc ------------------------------------------ */

TEST(zones_match_glibc_1970_2100)
{
    uint64_t seed = 3;
    char buf[128];

    for (size_t i = 0; i < NZONES; i++) {
        struct sb_tz *tz = NULL;
        int rc = sb_tz_load(zones[i], &tz);
        if (rc != 0) {
            TAP_FAIL("load %s: %s", zones[i], sb_errname(rc));
            continue;
        }
        CHECK_STR(sb_tz_name(tz), zones[i]);
        snprintf(buf, sizeof(buf), ":%s", zones[i]);
        glibc_zone(buf);
        int bad = compare_glibc(tz, T1970, T2100, 5000, &seed, zones[i]);
        if (bad)
            TAP_FAIL("%s: %d mismatches with glibc", zones[i], bad);
        sb_tz_free(tz);
    }
}

/* Past the tabled years (2200) the footer rule is evaluated on the fly. */
TEST(zones_match_glibc_2100_2500)
{
    uint64_t seed = 4;
    char buf[128];

    for (size_t i = 0; i < NZONES; i++) {
        struct sb_tz *tz = NULL;
        if (sb_tz_load(zones[i], &tz) != 0) {
            TAP_FAIL("load %s", zones[i]);
            continue;
        }
        snprintf(buf, sizeof(buf), ":%s", zones[i]);
        glibc_zone(buf);
        int bad = 0;
        for (int k = 0; k < 3000; k++)
            bad += check_at(tz, T2100 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T2100)),
                            zones[i]);
        int64_t from, until;
        sb_tz_span(tz, 7258118400LL, &from, &until);    /* 2200-01-01: table/rule seam */
        if (until != INT64_MAX)
            bad += check_at(tz, until - 1, zones[i]) + check_at(tz, until, zones[i]);
        if (bad)
            TAP_FAIL("%s: %d mismatches after 2100", zones[i], bad);
        sb_tz_free(tz);
    }
}

/* Offset changes seen by glibc in [lo, hi): daily probes, then bisection. */
static size_t glibc_changes(int64_t lo, int64_t hi, int64_t *at, int32_t *off, size_t cap)
{
    size_t n = 0;
    int32_t prev = glibc_off(lo);

    for (int64_t t = lo; t + 86400 < hi && n < cap; t += 86400) {
        if (glibc_off(t + 86400) == prev)
            continue;
        int64_t a = t, b = t + 86400;
        while (b - a > 1) {
            int64_t mid = a + (b - a) / 2;
            if (glibc_off(mid) == prev)
                a = mid;
            else
                b = mid;
        }
        at[n] = b;
        off[n++] = prev = glibc_off(b);
        t = b - 86400;
    }
    return n;
}

/* Builds the "slim" form of a zone (zic -b slim): transitions only up to the
 * last rule change (here: before 2025, as glibc sees them), then the footer
 * of the installed file.  Must agree with glibc and with the fat file. */
static void check_slim(const char *zone, uint64_t *seed)
{
    static int64_t at[512];
    static int32_t offs[512];
    uint8_t idx[512];
    int32_t types[16];
    uint32_t ntypes = 0;
    char path[256], tzenv[128], footer[128];
    size_t len = 0, n;
    struct sb_tz *slim = NULL, *fat = NULL;

    snprintf(tzenv, sizeof(tzenv), ":%s", zone);
    glibc_zone(tzenv);
    n = glibc_changes(T1970, T2025, at, offs, 512);
    types[ntypes++] = glibc_off(T1970);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = 0;
        while (k < ntypes && types[k] != offs[i])
            k++;
        if (k == ntypes && ntypes < 16)
            types[ntypes++] = offs[i];
        idx[i] = (uint8_t)k;
    }
    snprintf(path, sizeof(path), ZONEINFO "/%s", zone);
    uint8_t *file = slurp(path, &len);
    REQUIRE(file && len > 2 && file[len - 1] == '\n');
    size_t e = len - 1, s = e;
    while (s > 0 && file[s - 1] != '\n')
        s--;
    REQUIRE(e - s < sizeof(footer));
    memcpy(footer, file + s, e - s);
    footer[e - s] = '\0';
    struct tzif_spec spec = { at, idx, (uint32_t)n, types, ntypes, 0, footer };
    struct bytes b = make_tzif(&spec);
    CHECK_EQ(sb_tz_parse(b.p, b.n, zone, &slim), 0);
    CHECK_EQ(sb_tz_parse(file, len, zone, &fat), 0);
    if (slim && fat) {
        int bad = compare_glibc(slim, T1970, T2100, 3000, seed, zone);
        for (int i = 0; i < 3000; i++) {
            int64_t t = 31536000 + (int64_t)(tap_rand(seed) % (uint64_t)(T2500 - 31536000));
            int64_t f1, u1, f2, u2;
            int32_t o1 = sb_tz_span(slim, t, &f1, &u1), o2 = sb_tz_span(fat, t, &f2, &u2);
            /* before the first slim transition the slim span starts at -inf */
            if (o1 != o2 || (f1 != INT64_MIN && f1 != f2) || u1 != u2) {
                if (bad++ < 5)
                    printf("#   %s t=%lld slim %d [%lld,%lld) fat %d [%lld,%lld)\n", zone,
                           (long long)t, o1, (long long)f1, (long long)u1, o2, (long long)f2,
                           (long long)u2);
            }
        }
        if (bad)
            TAP_FAIL("slim %s: %d mismatches", zone, bad);
    }
    sb_tz_free(slim);
    sb_tz_free(fat);
    free(b.p);
    free(file);
}

TEST(slim_equals_fat)
{
    static const char *const slim_zones[] = {
        "America/New_York", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Chatham",
        "America/Santiago", "America/Nuuk", "Asia/Jerusalem", "Europe/London",
    };
    uint64_t seed = 5;

    for (size_t i = 0; i < sizeof(slim_zones) / sizeof(slim_zones[0]); i++)
        check_slim(slim_zones[i], &seed);
}

/* The version-1 block alone (32-bit times, no footer) must still be read. */
TEST(version1_file)
{
    size_t len = 0;
    uint8_t *file = slurp(ZONEINFO "/America/New_York", &len);
    struct sb_tz *tz = NULL;
    uint64_t seed = 6;

    REQUIRE(file && len > 44);
    uint32_t cnt[6];
    for (int i = 0; i < 6; i++)
        cnt[i] = (uint32_t)file[20 + 4 * i] << 24 | (uint32_t)file[21 + 4 * i] << 16 |
                 (uint32_t)file[22 + 4 * i] << 8 | file[23 + 4 * i];
    if (cnt[3] == 0) {            /* a slim build has an empty v1 block */
        printf("# skipped: the installed file is slim\n");
        free(file);
        return;
    }
    size_t v1len = 44 + cnt[3] * 5 + cnt[4] * 6 + cnt[5] + cnt[2] * 8 + cnt[1] + cnt[0];
    REQUIRE(v1len < len);
    file[4] = 0;
    CHECK_EQ(sb_tz_parse(file, v1len, "v1", &tz), 0);
    if (tz) {
        glibc_zone(":America/New_York");
        /* 32-bit times end in January 2038; the fat v1 block goes to 2037. */
        CHECK_EQ(compare_glibc(tz, T1970, 2145916800LL, 2000, &seed, "v1"), 0);
        CHECK_EQ(sb_tz_offset(tz, T2100), -18000);     /* last type: EST */
    }
    sb_tz_free(tz);
    free(file);
}

/* ---- POSIX TZ strings (footers) ---------------------------------------- */

TEST(posix_strings_match_glibc)
{
    static const char *const strs[] = {
        "EST5EDT,M3.2.0,M11.1.0",
        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "AEST-10AEDT,M10.1.0,M4.1.0/3",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",          /* negative time (Nuuk) */
        "IST-2IDT,M3.4.4/26,M10.5.0",               /* 26:00 (Jerusalem) */
        "<-04>4<-03>,M9.1.6/24,M4.1.6/24",          /* 24:00 (Santiago) */
        "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
        "XXX3YYY,J60/2,J300/2",                     /* Jn: Feb 29 not counted */
        "XXX3YYY,59/2,300/2",                       /* n: Feb 29 counted */
        "XXX5YYY,M3.2.0/-167,M11.1.0/167",          /* RFC 8536 extremes */
        "ABC-3:30:15DEF-4:45:30,M4.5.6/23:59:59,M9.1.1/0:00:01",
        "EST5EDT",                                   /* default US rules */
        "<+07>-7", "NZST-12NZDT,M9.5.0,M4.1.0/3", "GMT0BST,M3.5.0/1,M10.5.0",
    };
    uint64_t seed = 7;

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        struct sb_tz *tz = NULL;
        int rc = posix_zone(strs[i], &tz);
        if (rc) {
            TAP_FAIL("parse \"%s\": %s", strs[i], sb_errname(rc));
            continue;
        }
        /* glibc would read "EST5EDT" from zoneinfo: force the string form. */
        glibc_zone(strcmp(strs[i], "EST5EDT") == 0 ? "EST5EDT,M3.2.0,M11.1.0" : strs[i]);
        int bad = compare_glibc(tz, T1970, T2100, 2000, &seed, strs[i]);
        for (int k = 0; k < 2000; k++)    /* after 2200: evaluated on the fly */
            bad += check_at(tz, T2100 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T2100)),
                            strs[i]);
        /* glibc applies no rule before 1970.  The Gregorian calendar repeats
         * every 400 years (146097 days, a whole number of weeks), so a rule
         * zone does too: 1500-1900 (on the fly) against 1900-2300 (table). */
        for (int k = 0; k < 2000; k++) {
            int64_t t = T1800 - (int64_t)(tap_rand(&seed) % (300LL * 31556952));
            if (sb_tz_offset(tz, t) != sb_tz_offset(tz, t + Y400)) {
                if (bad++ < 5)
                    printf("#   %s: t=%lld differs from t + 400 years\n", strs[i], (long long)t);
            }
        }
        if (bad)
            TAP_FAIL("\"%s\": %d mismatches", strs[i], bad);
        sb_tz_free(tz);
    }
}

/* RFC 8536 3.3.1: DST all year when it starts Jan 1 00:00 and ends Dec 31 at
 * 24:00 + (DST - standard), here 25:00.  glibc flips to EST for a few hours
 * each New Year, so the expectation is by hand: EDT, -4 h, always. */
TEST(posix_all_year_dst)
{
    struct sb_tz *tz = NULL;
    uint64_t seed = 8;
    int bad = 0;

    REQUIRE(posix_zone("EST5EDT4,0/0,J365/25", &tz) == 0);
    for (int i = 0; i < 5000; i++)
        bad += sb_tz_offset(tz, T1800 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T1800))) != -14400;
    CHECK_EQ(bad, 0);
    CHECK_EQ(sb_tz_offset(tz, 1767225600LL), -14400);   /* 2026-01-01T00:00Z */
    int64_t from, until;
    sb_tz_span(tz, 1767225600LL, &from, &until);
    CHECK(from == INT64_MIN && until == INT64_MAX);
    sb_tz_free(tz);
}

TEST(posix_rejects_malformed)
{
    static const char *const bad[] = {
        "EST", "E5", "ES5", "EST5EDT,M3.2.0", "<+07-7", "<+7>-7", "EST5EDT,M13.1.0,M11.1.0",
        "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.0.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,J0,J365", "EST5EDT,J366,J1", "EST5EDT,366,1", "EST25", "EST5:60",
        "EST5EDT,M3.2.0/168,M11.1.0", "EST5 ", "EST5EDT,M3.2.0,M11.1.0,", "EST5EDT4x",
        "EST5EDT,M3.2.0/2:00:60,M11.1.0", "5EST", "EST-", "EST5EDT,,M11.1.0", "EST1234",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sb_tz *tz = NULL;
        int rc = posix_zone(bad[i], &tz);
        if (rc != SB_ECORRUPT)
            TAP_FAIL("\"%s\" gave %s, want SB_ECORRUPT", bad[i], sb_errname(rc));
        CHECK(tz == NULL);
        sb_tz_free(tz);
    }
}

/* ---- hand-checked facts ------------------------------------------------ */

static void expect_change(const char *zone, int64_t t, int32_t before, int32_t after)
{
    const struct sb_tz *tz = sb_tz_get(zone);
    int64_t from, until;

    if (!tz) {
        TAP_FAIL("no zone %s", zone);
        return;
    }
    if (sb_tz_offset(tz, t - 1) != before || sb_tz_offset(tz, t) != after)
        TAP_FAIL("%s at %lld: %d -> %d, want %d -> %d", zone, (long long)t,
                 sb_tz_offset(tz, t - 1), sb_tz_offset(tz, t), before, after);
    sb_tz_span(tz, t, &from, &until);
    CHECK_EQ(from, t);
    sb_tz_span(tz, t - 1, &from, &until);
    CHECK_EQ(until, t);
}

TEST(hand_checked_changes)
{
    /* US DST 2026: second Sunday of March, 02:00 EST = 07:00Z. */
    expect_change("America/New_York", 1772953200LL, -5 * 3600, -4 * 3600);
    /* Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST (2026-04-04T16:00Z) ... */
    expect_change("Australia/Sydney", 1775318400LL, 11 * 3600, 10 * 3600);
    /* ... and 2026-10-04 02:00 AEST -> 03:00 AEDT (2026-10-03T16:00Z). */
    expect_change("Australia/Sydney", 1791043200LL, 10 * 3600, 11 * 3600);
    /* Lord Howe: half-hour DST, 2026-04-05 02:00 +11 -> 01:30 +1030 (15:00Z),
     * 2026-10-04 02:00 +1030 -> 02:30 +11 (2026-10-03T15:30Z). */
    expect_change("Australia/Lord_Howe", 1775314800LL, 39600, 37800);
    expect_change("Australia/Lord_Howe", 1791041400LL, 37800, 39600);
    /* Chile: first Sunday of September 2026 at 00:00 -04 = 04:00Z. */
    expect_change("America/Santiago", 1788667200LL, -4 * 3600, -3 * 3600);
    /* Beirut: last Sunday of March 2026 at 00:00 EET = 2026-03-28T22:00Z. */
    expect_change("Asia/Beirut", 1774735200LL, 2 * 3600, 3 * 3600);

    const struct sb_tz *kol = sb_tz_get("Asia/Kolkata"), *ktm = sb_tz_get("Asia/Kathmandu");
    REQUIRE(kol && ktm);
    CHECK_EQ(sb_tz_offset(kol, 1795774620LL), 19800);      /* +05:30 */
    CHECK_EQ(sb_tz_offset(ktm, 1795774620LL), 20700);      /* +05:45 */
    CHECK_EQ(sb_tz_offset(sb_tz_get("Asia/Tokyo"), 1795774620LL), 9 * 3600);
}

TEST(utc_zone)
{
    const struct sb_tz *u = sb_tz_utc();
    int64_t from, until;

    REQUIRE(u != NULL);
    CHECK_STR(sb_tz_name(u), "UTC");
    CHECK(sb_tz_get("UTC") == u);
    CHECK_EQ(sb_tz_offset(u, 1795774620LL), 0);
    CHECK_EQ(sb_tz_offset(u, INT64_MIN), 0);
    CHECK_EQ(sb_tz_offset(NULL, 12345), 0);
    CHECK_EQ(sb_tz_span(u, 5, &from, &until), 0);
    CHECK(from == INT64_MIN && until == INT64_MAX);
    CHECK_EQ(sb_tz_local_to_utc(u, 1795774620LL), 1795774620LL);
    CHECK_STR(sb_tz_name(NULL), "UTC");
    sb_tz_free((struct sb_tz *)u);     /* must be a no-op */
    CHECK_STR(sb_tz_name(sb_tz_utc()), "UTC");
}

/* ---- local -> UTC -------------------------------------------------------- */

TEST(local_to_utc_facts)
{
    const struct sb_tz *ny = sb_tz_get("America/New_York"), *lh = sb_tz_get("Australia/Lord_Howe");
    int64_t l;

    REQUIRE(ny && lh);
    /* 2026-03-08 02:30 does not exist in New York: the gap ends at 07:00Z. */
    l = 1772953200LL - 5 * 3600 + 1800;
    CHECK_EQ(sb_tz_local_to_utc(ny, l), 1772953200LL);
    CHECK_EQ(sb_tz_local_to_utc(ny, l - 1800), 1772953200LL);        /* 02:00 too */
    CHECK_EQ(sb_tz_local_to_utc(ny, l - 1801), 1772953200LL - 1);    /* 01:59:59 EST */
    CHECK_EQ(sb_tz_local_to_utc(ny, l + 1800), 1772953200LL);        /* 03:00 EDT */
    /* 2026-11-01 01:30 happens twice (05:30Z EDT, 06:30Z EST): the earlier. */
    l = 1793509200LL + 1800 - 4 * 3600;
    CHECK_EQ(sb_tz_local_to_utc(ny, l), 1793509200LL + 1800);
    /* Lord Howe 2026-10-04 02:10 falls in the half-hour gap (15:30Z). */
    l = 1791041400LL + 37800 + 10 * 60;
    CHECK_EQ(sb_tz_local_to_utc(lh, l), 1791041400LL);
}

/* For random instants u: local_to_utc(wall(u)) is the earliest instant with
 * that wall clock (so <= u, and equal unless wall(u) repeats); for random
 * wall times: either an instant shows it, or the result is the end of a gap
 * that jumps over it. */
TEST(local_to_utc_properties)
{
    uint64_t seed = 9;
    int bad = 0;

    for (size_t z = 0; z < NZONES; z++) {
        const struct sb_tz *tz = sb_tz_get(zones[z]);
        if (!tz) {
            TAP_FAIL("no zone %s", zones[z]);
            continue;
        }
        for (int i = 0; i < 4000; i++) {
            int64_t u = T1970 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T1970));
            int64_t wall = u + sb_tz_offset(tz, u), r = sb_tz_local_to_utc(tz, wall);
            if (r > u || r + sb_tz_offset(tz, r) != wall)
                bad++;
            /* nothing earlier within 26 h shows the same wall clock */
            for (int64_t k = r - 26 * 3600; k < r; k += 900)
                bad += k + sb_tz_offset(tz, k) == wall;
            int64_t l = T1970 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T1970));
            r = sb_tz_local_to_utc(tz, l);
            if (r + sb_tz_offset(tz, r) != l) {
                int64_t from;
                sb_tz_span(tz, r, &from, NULL);
                bad += !(from == r && r - 1 + sb_tz_offset(tz, r - 1) < l &&
                         r + sb_tz_offset(tz, r) > l);
            }
        }
    }
    CHECK_EQ(bad, 0);
}

/* Spans are consistent: every instant of [from, until) reports the same span
 * and offset, and adjacent spans meet with different offsets. */
TEST(span_properties)
{
    uint64_t seed = 10;
    int bad = 0;

    for (size_t z = 0; z < NZONES; z++) {
        const struct sb_tz *tz = sb_tz_get(zones[z]);
        if (!tz)
            continue;
        for (int i = 0; i < 3000; i++) {
            int64_t t = T1800 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2500 - T1800));
            int64_t f, u, f2, u2;
            int32_t o = sb_tz_span(tz, t, &f, &u);
            bad += !(f <= t && t < u);
            if (f != INT64_MIN) {
                bad += sb_tz_span(tz, f, &f2, &u2) != o || f2 != f || u2 != u;
                bad += sb_tz_offset(tz, f - 1) == o;
            }
            if (u != INT64_MAX) {
                bad += sb_tz_span(tz, u - 1, &f2, &u2) != o || f2 != f || u2 != u;
                bad += sb_tz_offset(tz, u) == o;
            }
        }
    }
    CHECK_EQ(bad, 0);
}

/* ---- loading and the cache --------------------------------------------- */

TEST(load_rejects_names)
{
    static const char *const bad[] = {
        "", "/etc/passwd", "../etc/passwd", "America/../../etc/passwd", "America/..",
        "..", ".", "./UTC", "America//New_York", "America/New_York/", "Europe/Lon don",
        "Europe/London\n", "Europe/%s", "America\\New_York", ".hidden", "a/.b",
    };
    struct sb_tz *tz = (struct sb_tz *)&tz;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = sb_tz_load(bad[i], &tz);
        if (rc != SB_EINVAL)
            TAP_FAIL("\"%s\" gave %s, want SB_EINVAL", bad[i], sb_errname(rc));
        CHECK(tz == NULL);
    }
    char longname[300];
    memset(longname, 'A', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    CHECK_EQ(sb_tz_load(longname, &tz), SB_EINVAL);
    CHECK_EQ(sb_tz_load("Nowhere/Atlantis", &tz), SB_ENOENT);
    CHECK_EQ(sb_tz_load("America", &tz), SB_ENOENT);            /* a directory */
    CHECK_EQ(sb_tz_load("America/New_York/x", &tz), SB_ENOENT); /* under a file */
    CHECK(sb_tz_get("Nowhere/Atlantis") == NULL);
    CHECK(sb_tz_get("../x") == NULL);
    CHECK(sb_tz_get(NULL) == NULL);
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n)
        abort();
    fclose(f);
}

TEST(tzdir_env_and_size_cap)
{
    char dir[] = "/tmp/sbems_tz_XXXXXX", path[512];
    static const int32_t seven = 7 * 3600;
    static const uint8_t none = 0;
    struct tzif_spec s = { NULL, &none, 0, &seven, 1, 0, "<+07>-7" };
    struct bytes b = make_tzif(&s);
    struct sb_tz *tz = NULL;

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(path, sizeof(path), "%s/Test", dir);
    REQUIRE(mkdir(path, 0700) == 0);
    snprintf(path, sizeof(path), "%s/Test/Plus7", dir);
    write_file(path, b.p, b.n);
    setenv("SBEMS_TZDIR", dir, 1);
    CHECK_EQ(sb_tz_load("Test/Plus7", &tz), 0);
    if (tz) {
        CHECK_EQ(sb_tz_offset(tz, 1795774620LL), 25200);
        CHECK_STR(sb_tz_name(tz), "Test/Plus7");
    }
    sb_tz_free(tz);
    /* The same bytes padded past 256 KiB are refused, not read. */
    uint8_t *big = calloc(1, 300 * 1024);
    REQUIRE(big);
    memcpy(big, b.p, b.n);
    snprintf(path, sizeof(path), "%s/Big", dir);
    write_file(path, big, 300 * 1024);
    CHECK_EQ(sb_tz_load("Big", &tz), SB_ECORRUPT);
    CHECK_EQ(sb_tz_load("America/New_York", &tz), SB_ENOENT);  /* not in this dir */
    unsetenv("SBEMS_TZDIR");
    CHECK_EQ(sb_tz_load("America/New_York", &tz), 0);
    sb_tz_free(tz);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Test/Plus7", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/Test", dir);
    rmdir(path);
    rmdir(dir);
    free(big);
    free(b.p);
}

#define NTHREADS 4
static const char *const cache_names[] = {
    "Europe/Paris", "Asia/Singapore", "America/Chicago", "Africa/Nairobi", "Asia/Kolkata",
    "UTC", "Pacific/Honolulu", "Europe/Madrid",
};
#define NCACHE (sizeof(cache_names) / sizeof(cache_names[0]))

static void *cache_worker(void *arg)
{
    const struct sb_tz **seen = arg;

    for (int round = 0; round < 200; round++)
        for (size_t i = 0; i < NCACHE; i++) {
            const struct sb_tz *tz = sb_tz_get(cache_names[(i + round) % NCACHE]);
            size_t k = (i + round) % NCACHE;
            if (!seen[k])
                seen[k] = tz;
            else if (seen[k] != tz)
                seen[k] = NULL;      /* flags a second copy */
            (void)sb_tz_offset(tz, 1795774620LL + round);
        }
    return NULL;
}

TEST(cache_is_shared_across_threads)
{
    pthread_t th[NTHREADS];
    const struct sb_tz *seen[NTHREADS][NCACHE];

    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < NTHREADS; i++)
        REQUIRE(pthread_create(&th[i], NULL, cache_worker, seen[i]) == 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    for (size_t k = 0; k < NCACHE; k++) {
        CHECK(seen[0][k] != NULL);
        for (int i = 1; i < NTHREADS; i++)
            CHECK(seen[i][k] == seen[0][k]);
        CHECK(sb_tz_get(cache_names[k]) == seen[0][k]);
        CHECK_STR(sb_tz_name(seen[0][k]), cache_names[k]);
    }
    CHECK_EQ(sb_tz_offset(sb_tz_get("Asia/Singapore"), 1795774620LL), 8 * 3600);
}

/* ---- malformed TZif ----------------------------------------------------- */

static int parse_spec(const struct tzif_spec *s)
{
    struct bytes b = make_tzif(s);
    struct sb_tz *tz = NULL;
    int rc = sb_tz_parse(b.p, b.n, "x", &tz);

    sb_tz_free(tz);
    free(b.p);
    return rc;
}

TEST(tzif_rejects_malformed)
{
    const int64_t at[2] = { 1000, 500 };
    const uint8_t idx_ok[2] = { 1, 0 }, idx_bad[2] = { 1, 2 };
    const int32_t offs[2] = { 0, 3600 }, huge[2] = { 0, 27 * 3600 };
    const int64_t asc[2] = { 500, 1000 }, dup[2] = { 500, 500 };
    struct tzif_spec s = { asc, idx_ok, 2, offs, 2, 0, "ABC0" };

    CHECK_EQ(parse_spec(&s), 0);
    s.at = at;
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* not ascending */
    s.at = dup;
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* not strictly ascending */
    s.at = asc;
    s.idx = idx_bad;
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* type index out of range */
    s.idx = idx_ok;
    s.off = huge;
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* offset beyond 26 h */
    s.off = offs;
    s.ntypes = 0;
    s.n = 0;
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* typecnt 0 */
    s.ntypes = 2;
    s.n = 2;
    s.leapcnt = 1;
    CHECK_EQ(parse_spec(&s), SB_ENOTSUP);         /* leap seconds ("right/") */
    s.leapcnt = 0;
    s.footer = "ABC0\nX";
    CHECK_EQ(parse_spec(&s), SB_ECORRUPT);        /* footer not one line */
    s.footer = "";
    CHECK_EQ(parse_spec(&s), 0);                  /* empty footer is allowed */

    struct sb_tz *tz = (struct sb_tz *)&tz;
    CHECK_EQ(sb_tz_parse((const uint8_t *)"TZif", 4, "x", &tz), SB_ECORRUPT);
    CHECK(tz == NULL);
    CHECK_EQ(sb_tz_parse((const uint8_t *)"", 0, "x", &tz), SB_ECORRUPT);
}

/* Without a footer rule the last type holds after the last transition, and
 * type 0 before the first (RFC 8536 section 3.2). */
TEST(tzif_without_rule)
{
    const int64_t at[2] = { 1000, 5000 };
    const uint8_t idx[2] = { 1, 2 };
    const int32_t offs[3] = { -3600, 3600, 7200 };
    struct tzif_spec s = { at, idx, 2, offs, 3, 0, "" };
    struct bytes b = make_tzif(&s);
    struct sb_tz *tz = NULL;
    int64_t f, u;

    REQUIRE(sb_tz_parse(b.p, b.n, "x", &tz) == 0);
    CHECK_EQ(sb_tz_offset(tz, -1000000), -3600);
    CHECK_EQ(sb_tz_offset(tz, 999), -3600);
    CHECK_EQ(sb_tz_offset(tz, 1000), 3600);
    CHECK_EQ(sb_tz_offset(tz, 4999), 3600);
    CHECK_EQ(sb_tz_span(tz, 5000, &f, &u), 7200);
    CHECK(f == 5000 && u == INT64_MAX);
    CHECK_EQ(sb_tz_offset(tz, INT64_MAX), 7200);
    sb_tz_free(tz);
    free(b.p);
}

/* Transitions that change only the DST flag or the abbreviation are not
 * changes of offset: spans run through them. */
TEST(tzif_drops_non_changes)
{
    const int64_t at[3] = { 1000, 2000, 3000 };
    const uint8_t idx[3] = { 1, 2, 0 };
    const int32_t offs[3] = { 0, 3600, 3600 };
    struct tzif_spec s = { at, idx, 3, offs, 3, 0, "ABC0" };
    struct bytes b = make_tzif(&s);
    struct sb_tz *tz = NULL;
    int64_t f, u;

    REQUIRE(sb_tz_parse(b.p, b.n, "x", &tz) == 0);
    CHECK_EQ(sb_tz_span(tz, 2500, &f, &u), 3600);
    CHECK(f == 1000 && u == 3000);
    sb_tz_free(tz);
    free(b.p);
}

/* Every proper prefix of a real file is an error (never a crash), and so
 * are random corruptions of it, or they parse into a usable zone. */
TEST(tzif_truncations_and_flips)
{
    size_t len = 0;
    uint8_t *file = slurp(ZONEINFO "/America/New_York", &len);
    uint64_t seed = 11;
    int accepted = 0;

    REQUIRE(file);
    for (size_t n = 0; n < len; n++) {
        struct sb_tz *tz = NULL;
        if (sb_tz_parse(file, n, "x", &tz) == 0)
            accepted++;
        sb_tz_free(tz);
    }
    CHECK_EQ(accepted, 0);
    uint8_t *copy = malloc(len);
    REQUIRE(copy);
    for (int i = 0; i < 3000; i++) {
        struct sb_tz *tz = NULL;
        memcpy(copy, file, len);
        for (int k = 0; k < 3; k++)
            copy[tap_rand(&seed) % len] ^= (uint8_t)(1u << (tap_rand(&seed) % 8));
        if (sb_tz_parse(copy, len, "x", &tz) == 0) {
            int64_t t = (int64_t)tap_rand(&seed);
            (void)sb_tz_offset(tz, t);
            (void)sb_tz_local_to_utc(tz, t);
        }
        sb_tz_free(tz);
    }
    free(copy);
    free(file);
}

/* Rough cost of a lookup (printed, not asserted: the machine is shared). */
TEST(lookup_speed)
{
    const struct sb_tz *tz = sb_tz_get("America/New_York");
    uint64_t seed = 12;
    int64_t sum = 0;
    struct timespec a, b;

    REQUIRE(tz);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 1000000; i++)
        sum += sb_tz_offset(tz, T1970 + (int64_t)(tap_rand(&seed) % (uint64_t)(T2100 - T1970)));
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e6;
    printf("# sb_tz_offset: %.1f ns per call (checksum %lld)\n", ns, (long long)sum);
    CHECK(sum != 0);
}

int main(void)
{
    TAP_START();
    RUN(civil_facts);
    RUN(civil_vs_timegm);
    RUN(civil_round_trip);
    RUN(zones_match_glibc_1970_2100);
    RUN(zones_match_glibc_2100_2500);
    RUN(slim_equals_fat);
    RUN(version1_file);
    RUN(posix_strings_match_glibc);
    RUN(posix_all_year_dst);
    RUN(posix_rejects_malformed);
    RUN(hand_checked_changes);
    RUN(utc_zone);
    RUN(local_to_utc_facts);
    RUN(local_to_utc_properties);
    RUN(span_properties);
    RUN(load_rejects_names);
    RUN(tzdir_env_and_size_cap);
    RUN(cache_is_shared_across_threads);
    RUN(tzif_rejects_malformed);
    RUN(tzif_without_rule);
    RUN(tzif_drops_non_changes);
    RUN(tzif_truncations_and_flips);
    RUN(lookup_speed);
    TAP_END();
}

/*
 * fuzz_tariff.c - libFuzzer target for tariff documents
 * (src/analytics/tariff_json.c) and the bill engine (tariff.c).
 *
 * Input: a tariff document, optionally followed by a NUL byte and a control
 * stream: byte 0 picks the zone and the optimizer's step, byte 1 the
 * interval and the range of the start, bytes 2..9 the start, then 2 bytes per interval of energy (int16 / 64 kWh,
 * 0x8000 = missing).  The document must be refused with a message, or
 * accepted and survive to_json -> parse -> to_json unchanged, parsing back
 * to the very same struct (tariff.h's canonical-form promise).  An accepted tariff (or a built-in one when it
 * was refused) then prices the stream; the checks: count == compute, the
 * days add up to the bills, the main meter allocated to itself gets every
 * line back, two halves allocated add up, the price vector is finite, and
 * every bill's JSON is produced.
 * Seeds: fuzz/corpus/tariff/ (the example tariffs of the docs, with streams).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/tariff.h"
#include "core/err.h"
#include "core/tz.h"

#define MAX_IV   (31 * 96 * 2)      /* two months of 15-min data at most */
#define MAX_BILL 4
#define MAX_DAY  70

static const char builtin[] =
    "{\"id\":\"b\",\"name\":\"B\",\"currency\":\"USD\",\"billing_cycle_day\":3,"
    "\"seasons\":[{\"name\":\"s\",\"from\":\"04-01\",\"to\":\"09-30\"},"
    "{\"name\":\"w\",\"from\":\"10-01\",\"to\":\"03-31\"}],\"holidays\":[\"01-01\"],"
    "\"energy\":[{\"period\":\"pk\",\"days\":[\"weekday\"],\"hours\":[16,21],"
    "\"price_per_kwh\":0.3},{\"period\":\"op\",\"days\":[\"weekday\"],\"hours\":[21,16],"
    "\"price_per_kwh\":0.1},{\"period\":\"op\",\"days\":[\"weekend\",\"holiday\"],"
    "\"price_per_kwh\":0.1}],\"tiers\":[{\"up_to_kwh\":50,\"price_per_kwh\":0},"
    "{\"price_per_kwh\":0.05}],\"demand\":[{\"name\":\"f\",\"price_per_kw\":10},"
    "{\"name\":\"p\",\"seasons\":[\"s\"],\"hours\":[16,21],\"price_per_kw\":5}],"
    "\"fixed\":[{\"name\":\"d\",\"per_day\":1},{\"name\":\"m\",\"per_period\":20}],"
    "\"export\":{\"mode\":\"flat\",\"price_per_kwh\":0.04},\"tax_pct\":8}";

static const char *const zones[] = {
    "UTC", "America/Los_Angeles", "Asia/Kathmandu", "Australia/Lord_Howe", "Pacific/Apia",
    "Europe/London", "America/Santiago", "Asia/Beirut",
};

static struct sb_tariff t, u;
static struct sb_tariff_bill bills[MAX_BILL], self[MAX_BILL], half[MAX_BILL], rest[MAX_BILL];
static struct sb_tariff_day days[MAX_DAY];
static double kwh[MAX_IV], h1[MAX_IV], h2[MAX_IV];
static struct sb_tariff_step steps[64];

static bool near(double a, double b)
{
    return fabs(a - b) <= 1e-6 * (1 + fabs(a) + fabs(b));
}

static void check_round_trip(const struct sb_tariff *a)
{
    char *j1 = sb_tariff_to_json(a), *j2;

    if (!j1)
        return;         /* out of memory only */
    if (sb_tariff_parse(j1, strlen(j1), &u, NULL, 0) != 0 || memcmp(a, &u, sizeof u) != 0)
        __builtin_trap();
    j2 = sb_tariff_to_json(&u);
    if (j2 && strcmp(j1, j2) != 0)
        __builtin_trap();
    free(j1);
    free(j2);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;

    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* Builds the series from the control stream; returns its length. */
static size_t series(const uint8_t *c, size_t n, struct sb_tariff_series *s)
{
    static const int32_t ivs[3] = { 900, 1800, 3600 };
    size_t cnt;

    s->interval_s = ivs[c[1] % 3];
    /* 2020..2031 at any second (misaligned starts are allowed), or with
     * bit 7 of byte 1 anywhere in the accepted +/- 2^40 s */
    if (c[1] & 0x80)
        s->start = (int64_t)(le64(c + 2) % ((1ull << 41) - 1)) - ((1ll << 40) - 1);
    else
        s->start = 1577836800 + (int64_t)(le64(c + 2) % (12ull * 366 * 86400));
    cnt = (n - 10) / 2;
    if (cnt > MAX_IV)
        cnt = MAX_IV;
    for (size_t i = 0; i < cnt; i++) {
        uint16_t w = (uint16_t)(c[10 + 2 * i] | c[11 + 2 * i] << 8);

        kwh[i] = w == 0x8000 ? NAN : (int16_t)w / 64.0;
        h1[i] = isnan(kwh[i]) ? NAN : (i & 1 ? kwh[i] : kwh[i] / 2);
        h2[i] = isnan(kwh[i]) ? NAN : kwh[i] - h1[i];
    }
    s->kwh = kwh;
    s->n = cnt;
    return cnt;
}

static void check_bills(const struct sb_tariff *tr, size_t nb, size_t nd)
{
    double sb = 0, sd = 0;

    for (size_t i = 0; i < nb; i++) {
        char *j = sb_tariff_bill_to_json(tr, &bills[i]);

        if (!isfinite(bills[i].total) || bills[i].n_lines > SB_TARIFF_MAX_LINES ||
            bills[i].n_missing > bills[i].n_intervals || bills[i].coverage < 0 ||
            bills[i].coverage > 1 + 1e-9)
            __builtin_trap();
        sb += bills[i].total;
        free(j);
    }
    for (size_t i = 0; i < nd; i++)
        sd += days[i].total;
    if (!near(sb, sd))
        __builtin_trap();
}

/* The main meter allocated to itself gets every line back; two halves of
 * it add up to each line. */
static void check_alloc(const struct sb_tariff *tr, const struct sb_tariff_site *site,
                        const struct sb_tariff_series *s, size_t nb)
{
    size_t n1, n2, n3;

    if (sb_tariff_allocate(tr, site, s, kwh, self, MAX_BILL, &n1) != 0 ||
        sb_tariff_allocate(tr, site, s, h1, half, MAX_BILL, &n2) != 0 ||
        sb_tariff_allocate(tr, site, s, h2, rest, MAX_BILL, &n3) != 0 || n1 != nb ||
        n2 != nb || n3 != nb)
        __builtin_trap();
    for (size_t i = 0; i < nb; i++) {
        if (self[i].n_lines != bills[i].n_lines || half[i].n_lines != bills[i].n_lines)
            __builtin_trap();
        for (uint32_t k = 0; k < bills[i].n_lines; k++) {
            int kind = bills[i].lines[k].kind;

            /* fixed charges (and so the tax) are shared by import energy:
             * with none imported they stay unallocated, by design */
            if ((kind == SB_TL_FIXED || kind == SB_TL_TAX) && bills[i].import_kwh == 0)
                continue;
            if (!near(self[i].lines[k].cost, bills[i].lines[k].cost) ||
                !near(half[i].lines[k].cost + rest[i].lines[k].cost, bills[i].lines[k].cost))
                __builtin_trap();
        }
    }
}

static void drive(const struct sb_tariff *tr, const uint8_t *c, size_t n)
{
    struct sb_tariff_site site = { NULL, NULL, 0 };
    struct sb_tariff_series s;
    struct sb_tariff_bill est;
    size_t nb, nd, cb, cd;

    if (n < 12 || series(c, n, &s) == 0)
        return;
    site.tz = sb_tz_get(zones[c[0] % 8]);
    if (sb_tariff_count(tr, &site, &s, &cb, &cd) != 0)
        __builtin_trap();
    if (cb > MAX_BILL || cd > MAX_DAY)
        return;
    if (sb_tariff_compute(tr, &site, &s, bills, MAX_BILL, &nb, days, MAX_DAY, &nd) != 0 ||
        nb != cb || nd != cd)
        __builtin_trap();
    check_bills(tr, nb, nd);
    check_alloc(tr, &site, &s, nb);
    s.n /= 2;
    if (s.n && sb_tariff_estimate(tr, &site, &s, kwh + s.n, s.n, &est, NULL) != 0)
        __builtin_trap();
    if (sb_tariff_prices(tr, &site, s.start, 60 * ((c[0] >> 3) % 31 + 1), 64, steps) != 0)
        __builtin_trap();
    for (int i = 0; i < 64; i++)
        if (!isfinite(steps[i].price) || steps[i].period >= tr->n_periods)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    char err[256] = "";
    int rc = sb_tariff_parse((const char *)data, jlen, &t, err, sizeof err);

    if (rc == SB_EINVAL && err[0] == '\0')
        __builtin_trap();       /* a refusal always says why */
    if (rc == 0)
        check_round_trip(&t);
    if (!nul)
        return 0;
    if (rc != 0 && sb_tariff_parse(builtin, strlen(builtin), &t, NULL, 0) != 0)
        __builtin_trap();
    drive(&t, nul + 1, size - jlen - 1);
    return 0;
}

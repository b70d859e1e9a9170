/*
 * test_tariff.c - tariff parsing / validation and the bill engine
 * (src/analytics/tariff.[ch]).
 *
 * The bills are checked against numbers worked out by hand in the comments
 * (a 28-day February with every charge kind), the time-zone cases against
 * the calendar (America/Los_Angeles: 2025-03-09 has 23 hours, 2025-11-02
 * has 25; Asia/Kathmandu is UTC+5:45, so hourly UTC data straddles local
 * hours), and the derived results against invariants (days add up to the
 * bills, allocations add up to the main meter, an estimate whose forecast
 * is the truth equals the real bill).  Epoch values come from
 * sb_days_from_civil, which test_tz.c checks against glibc.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/tariff.h"
#include "core/err.h"
#include "core/tz.h"
#include "tap.h"

#define EPS 1e-6

static int64_t utc(int y, int m, int d, int h, int mi)
{
    return sb_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + h * 3600 + mi * 60;
}

static int parse(const char *json, struct sb_tariff *t, char *err, size_t errlen)
{
    return sb_tariff_parse(json, strlen(json), t, err, errlen);
}

static int parse_file(const char *path, struct sb_tariff *t)
{
    static char buf[SB_TARIFF_JSON_MAX + 1];
    char err[256] = "";
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc;

    if (!f)
        return SB_ENOENT;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    rc = sb_tariff_parse(buf, n, t, err, sizeof err);
    if (rc)
        printf("#   %s: %s\n", path, err);
    return rc;
}

/* The first line of kind with index / season / period (-2 = any). */
static const struct sb_tariff_line *line(const struct sb_tariff_bill *b, int kind, int idx,
                                         int season, int period)
{
    for (uint32_t i = 0; i < b->n_lines; i++) {
        const struct sb_tariff_line *l = &b->lines[i];

        if (l->kind == kind && (idx == -2 || l->index == idx) &&
            (season == -2 || l->season == season) && (period == -2 || l->period == period))
            return l;
    }
    return NULL;
}

static int period_idx(const struct sb_tariff *t, const char *name)
{
    for (int p = 0; p < t->n_periods; p++)
        if (strcmp(t->periods[p], name) == 0)
            return p;
    return -1;
}

static struct sb_tariff_bill bills[16], bills2[16], bills3[16];
static struct sb_tariff_day days[128];

/* ------------------------------------------------------------------------ */
/* a hand-computed bill                                                     */

static const char hand_json[] =
    "{\"id\":\"hand\",\"name\":\"Hand test\",\"currency\":\"USD\","
    " \"energy\":["
    "  {\"period\":\"on_peak\",\"days\":[\"weekday\"],\"hours\":[16,21],\"price_per_kwh\":0.30},"
    "  {\"period\":\"off_peak\",\"days\":[\"weekday\"],\"hours\":[21,16],\"price_per_kwh\":0.10},"
    "  {\"period\":\"off_peak\",\"days\":[\"weekend\",\"holiday\"],\"price_per_kwh\":0.10}],"
    " \"demand\":["
    "  {\"name\":\"facility\",\"price_per_kw\":10},"
    "  {\"name\":\"on_peak\",\"days\":[\"weekday\"],\"hours\":[16,21],\"price_per_kw\":20}],"
    " \"fixed\":[{\"name\":\"daily\",\"per_day\":1.0},{\"name\":\"monthly\",\"per_period\":30}],"
    " \"export\":{\"mode\":\"flat\",\"price_per_kwh\":0.05},"
    " \"tax_pct\":10}";

#define FEB_N (28 * 96)
static double feb[FEB_N];

/* February 2026 in UTC at 15 min, 1 kWh (4 kW) per interval except:
 *   Tue 02-03 02:00  missing;
 *   Wed 02-11 17:00  5 kWh (20 kW, weekday on-peak);
 *   Sat 02-14 10:00  8 kWh (32 kW, the facility peak, off-peak);
 *   Mon 02-16 17:00  6 kWh (24 kW) - a holiday, so off-peak;
 *   Sun 02-22 12:00-13:00  -2 kWh x 4 (8 kWh exported). */
static size_t feb_at(int d, int h, int mi)
{
    return (size_t)((d - 1) * 96 + h * 4 + mi / 15);
}

static void feb_fill(void)
{
    for (size_t i = 0; i < FEB_N; i++)
        feb[i] = 1.0;
    feb[feb_at(3, 2, 0)] = NAN;
    feb[feb_at(11, 17, 0)] = 5;
    feb[feb_at(14, 10, 0)] = 8;
    feb[feb_at(16, 17, 0)] = 6;
    for (int q = 0; q < 4; q++)
        feb[feb_at(22, 12, q * 15)] = -2;
}

/* Worked by hand.  Feb 2026 starts on a Sunday: weekdays 2-6, 9-13, 16-20,
 * 23-27 = 20, minus the holiday = 19 on-peak days x 5 h x 4 = 380
 * intervals: 380 kWh + 4 (the 02-11 spike) = 384 kWh x 0.30 = 115.20.
 * Off-peak: 2688 - 380 = 2308 intervals, + 7 (02-14) + 5 (02-16) - 4 (the
 * exporting intervals) - 1 (missing) = 2315 kWh x 0.10 = 231.50.
 * Demand: facility 32 kW x 10 = 320 (02-14 10:00); on-peak 20 kW x 20 =
 * 400 (02-11 17:00; the holiday's 24 kW is not in the window).  Fixed: 28
 * days x 1 + 30 = 58.  Export 8 kWh x 0.05 = -0.40.  Subtotal 1124.30, tax
 * 10 % = 112.43, total 1236.73. */
static void check_hand_bill(const struct sb_tariff *t, const struct sb_tariff_bill *b)
{
    int on = period_idx(t, "on_peak"), off = period_idx(t, "off_peak");
    const struct sb_tariff_line *l;

    CHECK_EQ(b->start, utc(2026, 2, 1, 0, 0));
    CHECK_EQ(b->end, utc(2026, 3, 1, 0, 0));
    CHECK_DBL(b->coverage, 1.0, EPS);
    REQUIRE((l = line(b, SB_TL_ENERGY, -1, 0, on)));
    CHECK_DBL(l->qty, 384, EPS);
    CHECK_DBL(l->cost, 115.20, EPS);
    REQUIRE((l = line(b, SB_TL_ENERGY, -1, 0, off)));
    CHECK_DBL(l->qty, 2315, EPS);
    CHECK_DBL(l->cost, 231.50, EPS);
    REQUIRE((l = line(b, SB_TL_DEMAND, 0, -2, -2)));
    CHECK_DBL(l->qty, 32, EPS);
    CHECK_DBL(l->cost, 320, EPS);
    CHECK_EQ(l->peak_at, utc(2026, 2, 14, 10, 0));
    CHECK_EQ(l->peak_s, 900);
    REQUIRE((l = line(b, SB_TL_DEMAND, 1, -2, -2)));
    CHECK_DBL(l->qty, 20, EPS);
    CHECK_DBL(l->cost, 400, EPS);
    CHECK_EQ(l->peak_at, utc(2026, 2, 11, 17, 0));
    REQUIRE((l = line(b, SB_TL_FIXED, 0, -2, -2)));
    CHECK_DBL(l->qty, 28, EPS);
    CHECK_DBL(l->cost, 28, EPS);
    REQUIRE((l = line(b, SB_TL_FIXED, 1, -2, -2)));
    CHECK_DBL(l->cost, 30, EPS);
    REQUIRE((l = line(b, SB_TL_EXPORT, -2, -2, -2)));
    CHECK_DBL(l->qty, 8, EPS);
    CHECK_DBL(l->cost, -0.40, EPS);
    REQUIRE((l = line(b, SB_TL_TAX, -2, -2, -2)));
    CHECK_DBL(l->cost, 112.43, EPS);
    CHECK_DBL(b->subtotal, 1124.30, EPS);
    CHECK_DBL(b->total, 1236.73, EPS);
    CHECK_DBL(b->import_kwh, 384 + 2315, EPS);
    CHECK_DBL(b->export_kwh, 8, EPS);
    CHECK_DBL(b->peak_kw, 32, EPS);
    CHECK_EQ(b->n_intervals, FEB_N);
}

TEST(hand_bill)
{
    static struct sb_tariff t;
    char err[256] = "";
    int64_t hol = sb_days_from_civil(2026, 2, 16);
    struct sb_tariff_site site = { NULL, &hol, 1 };
    struct sb_tariff_series s = { feb, FEB_N, utc(2026, 2, 1, 0, 0), 900 };
    size_t nb = 0, nd = 0;
    double sum = 0;

    REQUIRE(parse(hand_json, &t, err, sizeof err) == 0);
    feb_fill();
    REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, days, 128, &nd) == 0);
    CHECK_EQ(nb, 1);
    CHECK_EQ(nd, 28);
    check_hand_bill(&t, &bills[0]);
    /* days: each has its share; demand lands on the day that set the peak */
    for (size_t i = 0; i < nd; i++)
        sum += days[i].total;
    CHECK_DBL(sum, bills[0].total, 1e-6);
    CHECK_DBL(days[10].demand_cost, 400, EPS);     /* 02-11 */
    CHECK_DBL(days[13].demand_cost, 320, EPS);     /* 02-14 */
    CHECK_DBL(days[13].peak_kw, 32, EPS);
    CHECK_EQ(days[15].kind, SB_TARIFF_HOLIDAY);    /* 02-16 */
    CHECK_EQ(days[14].kind, 6);                    /* 02-15 is a Sunday */
    CHECK_DBL(days[0].fixed_cost, 1 + 30.0 / 28, EPS);
    /* 02-11: 379 off... 76 off-peak kWh x 0.10 + 24 on-peak kWh x 0.30 */
    CHECK_DBL(days[10].energy_cost, 76 * 0.10 + 24 * 0.30, EPS);
    CHECK_DBL(days[21].export_credit, -0.40, EPS);
}

/* The same month with the holiday in the tariff instead of from the caller,
 * and with no holiday at all: then 02-16 is a plain Monday and its 24 kW
 * at 17:00 becomes the on-peak peak. */
TEST(holidays_tariff_and_caller)
{
    static struct sb_tariff t;
    static char json[2048];
    char err[256] = "";
    struct sb_tariff_series s = { feb, FEB_N, utc(2026, 2, 1, 0, 0), 900 };
    const struct sb_tariff_line *l;
    size_t nb;

    feb_fill();
    snprintf(json, sizeof json, "%.*s,\"holidays\":[\"2026-02-16\",\"12-25\"]}",
             (int)strlen(hand_json) - 1, hand_json);
    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    check_hand_bill(&t, &bills[0]);

    REQUIRE(parse(hand_json, &t, err, sizeof err) == 0);
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE((l = line(&bills[0], SB_TL_DEMAND, 1, -2, -2)));
    CHECK_DBL(l->qty, 24, EPS);
    CHECK_EQ(l->peak_at, utc(2026, 2, 16, 17, 0));
    /* 20 more on-peak intervals: 384 + 20 + 5 (the holiday spike) */
    REQUIRE((l = line(&bills[0], SB_TL_ENERGY, -1, 0, period_idx(&t, "on_peak"))));
    CHECK_DBL(l->qty, 409, EPS);
}

TEST(missing_reported)
{
    static struct sb_tariff t;
    char err[256] = "";
    struct sb_tariff_series s = { feb, FEB_N, utc(2026, 2, 1, 0, 0), 900 };
    const struct sb_tariff_line *l;
    size_t nb, nd;

    REQUIRE(parse(hand_json, &t, err, sizeof err) == 0);
    feb_fill();
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, days, 128, &nd) == 0);
    CHECK_EQ(bills[0].n_missing, 1);
    CHECK_EQ(bills[0].first_missing, utc(2026, 2, 3, 2, 0));
    CHECK(bills[0].notes & SB_TARIFF_NOTE_MISSING);
    CHECK(strstr(bills[0].note, "1 of 2688 intervals") != NULL);
    CHECK_EQ(days[2].n_missing, 1);
    CHECK_EQ(days[1].n_missing, 0);
    /* a whole on-peak window missing: the charge is 0 and says so */
    for (int d = 1; d <= 28; d++)
        for (int h = 16; h < 21; h++)
            for (int q = 0; q < 4; q++)
                feb[feb_at(d, h, q * 15)] = NAN;
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE((l = line(&bills[0], SB_TL_DEMAND, 1, -2, -2)));
    CHECK(l->no_data);
    CHECK_DBL(l->cost, 0, 0);
    CHECK(bills[0].notes & SB_TARIFF_NOTE_DEMAND_GAP);
    CHECK_EQ(bills[0].n_missing, 1 + 28 * 20);
    CHECK(line(&bills[0], SB_TL_ENERGY, -1, 0, period_idx(&t, "on_peak")) == NULL);
}

/* ------------------------------------------------------------------------ */
/* time zones                                                               */

/* 24 energy rules: local hour h costs h + 1 per kWh. */
static void hourly_tariff(struct sb_tariff *t, int cycle_day)
{
    static char json[8192];
    char err[256] = "";
    int n;

    n = snprintf(json, sizeof json, "{\"id\":\"hourly\",\"name\":\"By hour\",\"currency\":\"USD\","
                 "\"billing_cycle_day\":%d,\"fixed\":[{\"name\":\"day\",\"per_day\":2},"
                 "{\"name\":\"period\",\"per_period\":31}],\"energy\":[", cycle_day);
    for (int h = 0; h < 24; h++)
        n += snprintf(json + n, sizeof json - (size_t)n,
                      "%s{\"period\":\"hour\",\"hours\":[%d,%d],\"price_per_kwh\":%d}",
                      h ? "," : "", h, h + 1, h + 1);
    snprintf(json + n, sizeof json - (size_t)n, "]}");
    if (parse(json, t, err, sizeof err) != 0)
        printf("#   hourly tariff: %s\n", err);
}

/* Local days in Los Angeles at 15 min, 0.25 kWh each (1 kWh per hour):
 * the 23 h day skips 02:00 (hour 2, price 3): 300 - 3 = 297; the 25 h
 * day has 01:00 twice: 300 + 2 = 302. */
TEST(dst_los_angeles)
{
    static struct sb_tariff t;
    static double v[4 * 96 + 8];
    const struct sb_tz *la = sb_tz_get("America/Los_Angeles");
    struct sb_tariff_site site = { la, NULL, 0 };
    size_t nb, nd;

    REQUIRE(la);
    hourly_tariff(&t, 1);
    REQUIRE(t.n_energy == 24);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        v[i] = 0.25;
    /* spring: from local midnight 2025-03-08 (08:00Z), 3 local days = 71 h */
    {
        struct sb_tariff_series s = { v, 71 * 4, utc(2025, 3, 8, 8, 0), 900 };

        REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, days, 128, &nd) == 0);
        REQUIRE(nd == 3);
        CHECK_EQ(days[1].end - days[1].start, 23 * 3600);
        CHECK_EQ(days[1].start, utc(2025, 3, 9, 8, 0));
        CHECK_EQ(days[1].mday, 9);
        CHECK_DBL(days[1].import_kwh, 23, EPS);
        CHECK_DBL(days[1].energy_cost, 297, EPS);
        CHECK_DBL(days[0].energy_cost, 300, EPS);
        CHECK_DBL(days[2].energy_cost, 300, EPS);
        CHECK_DBL(days[1].coverage, 1, EPS);
        CHECK_DBL(days[1].fixed_cost, 2 + 1, EPS);  /* per day 2 + 31 / 31 days */
    }
    /* autumn: from local midnight 2025-11-01 (07:00Z), 3 local days = 73 h */
    {
        struct sb_tariff_series s = { v, 73 * 4, utc(2025, 11, 1, 7, 0), 900 };

        REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, days, 128, &nd) == 0);
        REQUIRE(nd == 3);
        CHECK_EQ(days[1].end - days[1].start, 25 * 3600);
        CHECK_DBL(days[1].import_kwh, 25, EPS);
        CHECK_DBL(days[1].energy_cost, 302, EPS);
        CHECK_DBL(days[2].energy_cost, 300, EPS);
        CHECK_DBL(bills[0].import_kwh, 73, EPS);
        CHECK_DBL(bills[0].coverage, 3.0 / 30, EPS);
    }
}

/* Hourly UTC data in Kathmandu (UTC+5:45): 00:00-01:00Z is 05:45-06:45
 * local, a quarter in hour 5 (price 6) and three quarters in hour 6
 * (price 7): 1 kWh costs 6.75. */
TEST(split_local_hours)
{
    static struct sb_tariff t;
    double v[2] = { 1, 1 };
    struct sb_tariff_site site = { sb_tz_get("Asia/Kathmandu"), NULL, 0 };
    struct sb_tariff_series s = { v, 1, utc(2025, 6, 10, 0, 0), 3600 };
    size_t nb, nd;

    REQUIRE(site.tz);
    hourly_tariff(&t, 1);
    REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, days, 128, &nd) == 0);
    CHECK_DBL(days[0].energy_cost, 6.75, EPS);
    CHECK_DBL(bills[0].lines[0].cost, 6.75, EPS);
}

/* Billing periods start at local midnight of the cycle day. */
TEST(billing_periods_local)
{
    static struct sb_tariff t;
    static double v[24 * 80];
    const struct sb_tz *la = sb_tz_get("America/Los_Angeles");
    struct sb_tariff_site site = { la, NULL, 0 };
    int64_t st = utc(2025, 1, 10, 8, 0), end = utc(2025, 3, 20, 7, 0), ps, pe;
    struct sb_tariff_series s = { v, (size_t)((end - st) / 3600), st, 3600 };
    const struct sb_tariff_line *l;
    size_t nb, nd, cb, cd;

    REQUIRE(la);
    hourly_tariff(&t, 15);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        v[i] = 1;
    REQUIRE(sb_tariff_count(&t, &site, &s, &cb, &cd) == 0);
    REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, days, 128, &nd) == 0);
    CHECK_EQ(nb, cb);
    CHECK_EQ(nd, cd);
    REQUIRE(nb == 4);
    CHECK_EQ(nd, 69);
    CHECK_EQ(bills[0].start, utc(2024, 12, 15, 8, 0));  /* PST: UTC-8 */
    CHECK_EQ(bills[1].start, utc(2025, 1, 15, 8, 0));
    CHECK_EQ(bills[2].start, utc(2025, 2, 15, 8, 0));
    CHECK_EQ(bills[2].end, utc(2025, 3, 15, 7, 0));     /* PDT: UTC-7 */
    CHECK_EQ(bills[3].start, utc(2025, 3, 15, 7, 0));
    CHECK_EQ(bills[1].n_intervals, 31 * 24);
    CHECK_EQ(bills[2].n_intervals, 28 * 24 - 1);        /* 2025-03-09 has 23 h */
    /* the first is partial: 5 of 31 days, fixed charges pro-rated */
    CHECK_DBL(bills[0].coverage, 5.0 / 31, EPS);
    CHECK(bills[0].notes & SB_TARIFF_NOTE_PARTIAL);
    CHECK(!(bills[1].notes & SB_TARIFF_NOTE_PARTIAL));
    REQUIRE((l = line(&bills[0], SB_TL_FIXED, 1, -2, -2)));
    CHECK_DBL(l->cost, 31 * 5.0 / 31, EPS);
    REQUIRE((l = line(&bills[0], SB_TL_FIXED, 0, -2, -2)));
    CHECK_DBL(l->qty, 5, EPS);
    CHECK_DBL(bills[3].coverage, 5.0 / 31, EPS);       /* 03-15 .. 03-20 of 31 days */
    REQUIRE(sb_tariff_period_of(&t, &site, utc(2025, 1, 15, 7, 59) + 59, &ps, &pe) == 0);
    CHECK_EQ(ps, utc(2024, 12, 15, 8, 0));
    REQUIRE(sb_tariff_period_of(&t, &site, utc(2025, 1, 15, 8, 0), &ps, &pe) == 0);
    CHECK_EQ(ps, utc(2025, 1, 15, 8, 0));
    CHECK_EQ(pe, utc(2025, 2, 15, 8, 0));
    /* too little room is refused, not truncated */
    CHECK_EQ(sb_tariff_compute(&t, &site, &s, bills, 3, &nb, NULL, 0, NULL), SB_ENOSPC);
    CHECK_EQ(sb_tariff_compute(&t, &site, &s, bills, 4, &nb, days, 68, &nd), SB_ENOSPC);
}

/* ------------------------------------------------------------------------ */
/* demand                                                                   */

/* 15-min data with 8 kWh at 10:15 and 10:30, 1 kWh elsewhere:
 *   15-min demand 32 kW;  30-min blocks: (1 + 8) / 0.5 = 18 kW;
 *   30-min rolling: (8 + 8) / 0.5 = 32 kW at 10:15. */
#define DEMAND_FMT "{\"id\":\"d\",\"name\":\"D\",\"currency\":\"USD\"," \
    "\"demand_interval_min\":%d,\"demand_method\":\"%s\"," \
    "\"energy\":[{\"period\":\"all\",\"price_per_kwh\":0.1}]," \
    "\"demand\":[{\"name\":\"max\",\"price_per_kw\":10}]}"

TEST(demand_15_vs_30)
{
    static struct sb_tariff t;
    static double v[96];
    char json[512], err[256] = "";
    struct sb_tariff_series s = { v, 96, utc(2025, 4, 2, 0, 0), 900 };
    size_t nb;

    for (int i = 0; i < 96; i++)
        v[i] = 1;
    v[41] = v[42] = 8;
    snprintf(json, sizeof json, DEMAND_FMT, 15, "block");
    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, 32, EPS);
    CHECK_EQ(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->peak_at, utc(2025, 4, 2, 10, 15));

    snprintf(json, sizeof json, DEMAND_FMT, 30, "block");
    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, 18, EPS);
    CHECK_EQ(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->peak_at, utc(2025, 4, 2, 10, 0));
    CHECK_EQ(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->peak_s, 1800);
    CHECK(!(bills[0].notes & SB_TARIFF_NOTE_COARSE));

    snprintf(json, sizeof json, DEMAND_FMT, 30, "rolling");
    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, 32, EPS);
    CHECK_EQ(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->peak_at, utc(2025, 4, 2, 10, 15));

    /* hourly data against a 15-min demand: the peak hour's average, noted */
    {
        double h[24];
        struct sb_tariff_series sh = { h, 24, utc(2025, 4, 2, 0, 0), 3600 };

        for (int i = 0; i < 24; i++)
            h[i] = 4;
        h[10] = 18;
        snprintf(json, sizeof json, DEMAND_FMT, 15, "block");
        REQUIRE(parse(json, &t, err, sizeof err) == 0);
        REQUIRE(sb_tariff_compute(&t, NULL, &sh, bills, 16, &nb, NULL, 0, NULL) == 0);
        CHECK_DBL(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, 18, EPS);
        CHECK(bills[0].notes & SB_TARIFF_NOTE_COARSE);
        CHECK(strstr(bills[0].note, "60-min data underestimates the 15-min demand peak") != NULL);
    }
}

/* A TOU demand window in local time across DST: 16-21 h local on weekdays
 * in LA, data in UTC.  The peak at 15:45 local is outside, at 16:00 inside. */
TEST(demand_window_local)
{
    static struct sb_tariff t;
    static double v[96 * 3];
    char err[256] = "";
    const char *json = "{\"id\":\"w\",\"name\":\"W\",\"currency\":\"USD\","
        "\"energy\":[{\"period\":\"all\",\"price_per_kwh\":0.1}],"
        "\"demand\":[{\"name\":\"pk\",\"days\":[\"weekday\"],\"hours\":[16,21],\"price_per_kw\":10}]}";
    struct sb_tariff_site site = { sb_tz_get("America/Los_Angeles"), NULL, 0 };
    /* Wed 2025-07-16 local midnight = 07:00Z (PDT) */
    struct sb_tariff_series s = { v, 96 * 3, utc(2025, 7, 16, 7, 0), 900 };
    size_t nb;

    REQUIRE(site.tz);
    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    for (size_t i = 0; i < 96 * 3; i++)
        v[i] = 1;
    v[15 * 4 + 3] = 9;        /* 15:45 local: 36 kW, outside */
    v[16 * 4] = 7;            /* 16:00 local: 28 kW, inside */
    v[96 + 20 * 4 + 3] = 8;   /* Thu 20:45 local: 32 kW, inside: the peak */
    REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, 32, EPS);
    CHECK_EQ(line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->peak_at, utc(2025, 7, 18, 3, 45));
    CHECK_DBL(bills[0].peak_kw, 36, EPS);
}

/* ------------------------------------------------------------------------ */
/* blocks and export                                                        */

/* 6 kWh a day in April (30 days) = 180 kWh; block 1 up to 100 kWh free,
 * above it 0.02: 80 kWh -> 1.60.  Half the month: the bound is pro-rated
 * to 50 kWh: 90 - 50 = 40 kWh -> 0.80. */
TEST(tiers)
{
    static struct sb_tariff t;
    static double v[30 * 96];
    char err[256] = "";
    const char *json = "{\"id\":\"b\",\"name\":\"B\",\"currency\":\"USD\","
        "\"energy\":[{\"period\":\"all\",\"price_per_kwh\":0.1}],"
        "\"tiers\":[{\"up_to_kwh\":100,\"price_per_kwh\":0},{\"price_per_kwh\":0.02}]}";
    struct sb_tariff_series s = { v, 30 * 96, utc(2025, 4, 1, 0, 0), 900 };
    const struct sb_tariff_line *l;
    size_t nb;

    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    for (size_t i = 0; i < 30 * 96; i++)
        v[i] = 0.0625;
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE((l = line(&bills[0], SB_TL_TIER, 1, -2, -2)));
    CHECK_DBL(l->qty, 80, EPS);
    CHECK_DBL(l->cost, 1.60, EPS);
    CHECK_DBL(line(&bills[0], SB_TL_TIER, 0, -2, -2)->qty, 100, EPS);
    CHECK_DBL(bills[0].total, 18 + 1.60, EPS);
    s.n = 15 * 96;
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE((l = line(&bills[0], SB_TL_TIER, 1, -2, -2)));
    CHECK_DBL(l->qty, 40, EPS);
    CHECK_DBL(l->cost, 0.80, EPS);
}

/* TOU export: an exporting interval is credited at its period's export
 * price; importing intervals never are. */
TEST(export_tou)
{
    static struct sb_tariff t;
    double v[24];
    char err[256] = "";
    const char *json = "{\"id\":\"x\",\"name\":\"X\",\"currency\":\"USD\","
        "\"energy\":[{\"period\":\"day\",\"hours\":[8,20],\"price_per_kwh\":0.3,"
        "\"export_price_per_kwh\":0.1},{\"period\":\"night\",\"hours\":[20,8],"
        "\"price_per_kwh\":0.2,\"export_price_per_kwh\":0.05}],\"export\":{\"mode\":\"tou\"}}";
    struct sb_tariff_series s = { v, 24, utc(2025, 5, 5, 0, 0), 3600 };
    size_t nb;

    REQUIRE(parse(json, &t, err, sizeof err) == 0);
    for (int i = 0; i < 24; i++)
        v[i] = i >= 10 && i < 14 ? -3 : 2;     /* 12 kWh exported at day, 40 imported */
    v[22] = -1;                                 /* 1 kWh exported at night */
    REQUIRE(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(line(&bills[0], SB_TL_EXPORT, -2, 0, 0)->qty, 12, EPS);
    CHECK_DBL(line(&bills[0], SB_TL_EXPORT, -2, 0, 0)->cost, -1.2, EPS);
    CHECK_DBL(line(&bills[0], SB_TL_EXPORT, -2, 0, 1)->cost, -0.05, EPS);
    CHECK_DBL(bills[0].import_kwh, 38, EPS);
    CHECK_DBL(bills[0].total, 8 * 0.3 * 2 + 11 * 2 * 0.2 - 1.2 - 0.05, EPS);
}

/* ------------------------------------------------------------------------ */
/* allocation, estimate, prices                                             */

static uint64_t seed = 0x5eed;

static double rnd(void)
{
    return (double)(tap_rand(&seed) >> 11) / 9007199254740992.0;
}

/* Three sub-meters that add up to the main meter (one of them PV that
 * exports): every line and the total are shared out exactly; a demand
 * share is the sub-meter's kW in the main meter's peak window. */
TEST(allocation_sums)
{
    static struct sb_tariff t;
    enum { N = 61 * 96 };
    static double m[N], a[N], b[N], pv[N];
    static struct sb_tariff_bill pvb[16];
    struct sb_tariff_site site = { sb_tz_get("America/Los_Angeles"), NULL, 0 };
    struct sb_tariff_series s = { m, N, utc(2025, 6, 1, 7, 0), 900 };
    size_t nb, n1, n2, n3;

    REQUIRE(site.tz);
    REQUIRE(parse_file("fuzz/corpus/tariff/pge-b19-illustrative.json", &t) == 0);
    for (size_t i = 0; i < N; i++) {
        int hod = (int)(i % 96) / 4;

        a[i] = 5 + 10 * rnd();
        b[i] = 2 + 3 * rnd();
        pv[i] = hod >= 9 && hod < 16 ? -(10 + 15 * rnd()) : 0;
        m[i] = a[i] + b[i] + pv[i];
    }
    REQUIRE(sb_tariff_compute(&t, &site, &s, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE(nb == 2);
    REQUIRE(bills[0].export_kwh > 0);
    REQUIRE(sb_tariff_allocate(&t, &site, &s, a, bills2, 16, &n1) == 0);
    REQUIRE(sb_tariff_allocate(&t, &site, &s, b, bills3, 16, &n2) == 0);
    REQUIRE(sb_tariff_allocate(&t, &site, &s, pv, pvb, 16, &n3) == 0);
    REQUIRE(n1 == nb && n2 == nb && n3 == nb);
    for (size_t k = 0; k < nb; k++) {
        const struct sb_tariff_bill *mb = &bills[k], *x = &bills2[k], *y = &bills3[k];
        const struct sb_tariff_bill *z = &pvb[k];
        const struct sb_tariff_line *ml = line(mb, SB_TL_DEMAND, 0, -2, -2);
        const struct sb_tariff_line *al = line(x, SB_TL_DEMAND, 0, -2, -2);

        REQUIRE(x->n_lines == mb->n_lines && y->n_lines == mb->n_lines);
        REQUIRE(z->n_lines == mb->n_lines);
        CHECK(x->allocated);
        for (uint32_t i = 0; i < mb->n_lines; i++) {
            CHECK_EQ(x->lines[i].kind, mb->lines[i].kind);
            CHECK_DBL(x->lines[i].cost + y->lines[i].cost + z->lines[i].cost,
                      mb->lines[i].cost, 1e-6);
            if (mb->lines[i].kind == SB_TL_ENERGY || mb->lines[i].kind == SB_TL_DEMAND)
                CHECK_DBL(x->lines[i].qty + y->lines[i].qty + z->lines[i].qty,
                          mb->lines[i].qty, 1e-6);
        }
        CHECK_DBL(x->total + y->total + z->total, mb->total, 1e-6);
        /* the facility demand share: a's kW in the main meter's peak interval */
        REQUIRE(ml && al);
        {
            size_t j = (size_t)((ml->peak_at - s.start) / 900);

            CHECK_DBL(al->qty, a[j] * 4, 1e-9);
            CHECK_DBL(al->cost, ml->cost * a[j] / m[j], 1e-9);
        }
        /* the PV sub-meter earns more than the whole export credit */
        REQUIRE(line(z, SB_TL_EXPORT, -2, -2, -2) && line(mb, SB_TL_EXPORT, -2, -2, -2));
        CHECK(line(z, SB_TL_EXPORT, -2, -2, -2)->cost < line(mb, SB_TL_EXPORT, -2, -2, -2)->cost);
    }
    /* a gap in a sub-meter is reported, not hidden */
    a[100] = NAN;
    REQUIRE(sb_tariff_allocate(&t, &site, &s, a, bills2, 16, &n1) == 0);
    CHECK_EQ(bills2[0].n_missing, 1);
    CHECK(bills2[0].notes & SB_TARIFF_NOTE_SUB_MISSING);
}

/* An estimate whose forecast is the truth equals the real bill; to-date is
 * the bill of the actual part; the peak in the forecast is flagged. */
TEST(estimate)
{
    static struct sb_tariff t;
    enum { N = 31 * 96, NOW = 10 * 96 + 37 };
    static double v[N + 96];
    char err[256] = "";
    struct sb_tariff_site site = { sb_tz_get("America/Los_Angeles"), NULL, 0 };
    int64_t st = utc(2025, 7, 1, 7, 0);
    struct sb_tariff_series full = { v, N, st, 900 }, act = { v, NOW, st, 900 };
    struct sb_tariff_bill *est = &bills2[0], *td = &bills3[0];
    size_t nb;

    REQUIRE(site.tz);
    REQUIRE(parse_file("fuzz/corpus/tariff/weekday-tou-tiers.json", &t) == 0);
    (void)err;
    for (size_t i = 0; i < N + 96; i++)
        v[i] = 3 + 2 * rnd();
    v[NOW + 500] = 40;       /* the month's peak, in the forecast */
    /* the billing cycle starts on the 15th: bill the period 07-15 .. 08-15 */
    st = utc(2025, 7, 15, 7, 0);
    full.start = act.start = st;
    REQUIRE(sb_tariff_compute(&t, &site, &full, bills, 16, &nb, NULL, 0, NULL) == 0);
    REQUIRE(nb == 1);
    REQUIRE(sb_tariff_estimate(&t, &site, &act, v + NOW, N - NOW, est, td) == 0);
    CHECK(est->estimate);
    CHECK(est->notes & SB_TARIFF_NOTE_ESTIMATE);
    CHECK(!(est->notes & SB_TARIFF_NOTE_SHORT));
    CHECK_DBL(est->total, bills[0].total, 1e-6);
    CHECK_EQ(est->n_lines, bills[0].n_lines);
    CHECK(line(est, SB_TL_DEMAND, 0, -2, -2)->from_forecast);
    CHECK_DBL(line(est, SB_TL_DEMAND, 0, -2, -2)->qty,
              line(&bills[0], SB_TL_DEMAND, 0, -2, -2)->qty, EPS);
    CHECK(line(est, SB_TL_DEMAND, 0, -2, -2)->qty > 80);   /* (40 + ~4) kWh / 0.5 h */
    CHECK(line(&bills[0], SB_TL_TIER, 1, -2, -2) != NULL);  /* the blocks are exercised */
    CHECK_DBL(est->forecast_kwh + td->import_kwh, est->import_kwh, 1e-6);
    /* to-date: the same as pricing the actual part alone */
    REQUIRE(sb_tariff_compute(&t, &site, &act, bills, 16, &nb, NULL, 0, NULL) == 0);
    CHECK_DBL(td->total, bills[0].total, 1e-6);
    CHECK(!td->estimate);
    CHECK(!line(td, SB_TL_DEMAND, 0, -2, -2)->from_forecast);
    /* a forecast that stops short says so */
    REQUIRE(sb_tariff_estimate(&t, &site, &act, v + NOW, 96, est, NULL) == 0);
    CHECK(est->notes & SB_TARIFF_NOTE_SHORT);
    /* bad calls */
    CHECK_EQ(sb_tariff_estimate(&t, &site, &act, NULL, 5, est, NULL), SB_EINVAL);
    act.n = 0;
    act.kwh = NULL;
    CHECK_EQ(sb_tariff_estimate(&t, &site, &act, NULL, 0, est, NULL), SB_EINVAL);
}

/* The optimizer's vector: B-19 in LA on Tue 2025-07-15 and across the
 * billing period change at local midnight of 08-01. */
TEST(prices)
{
    static struct sb_tariff t;
    static struct sb_tariff_step st[96];
    struct sb_tariff_site site = { sb_tz_get("America/Los_Angeles"), NULL, 0 };
    int peak, part, off;

    REQUIRE(site.tz);
    REQUIRE(parse_file("fuzz/corpus/tariff/pge-b19-illustrative.json", &t) == 0);
    peak = period_idx(&t, "peak");
    part = period_idx(&t, "part_peak");
    off = period_idx(&t, "off_peak");
    /* 2025-07-15 local midnight = 07:00Z, hourly steps */
    REQUIRE(sb_tariff_prices(&t, &site, utc(2025, 7, 15, 7, 0), 3600, 24, st) == 0);
    CHECK_DBL(st[16].price, 0.21, EPS);
    CHECK_EQ(st[16].period, peak);
    CHECK_EQ(st[16].demand_mask, 0x3);       /* max_demand + summer_peak */
    CHECK_DBL(st[15].price, 0.17, EPS);
    CHECK_EQ(st[15].period, part);
    CHECK_EQ(st[15].demand_mask, 0x5);       /* max_demand + summer_part_peak */
    CHECK_DBL(st[3].price, 0.13, EPS);
    CHECK_EQ(st[3].period, off);
    CHECK_EQ(st[3].demand_mask, 0x1);
    CHECK_DBL(st[3].export_price, 0.04, EPS);
    /* a 90-min step from 15:00 local averages part-peak and peak */
    REQUIRE(sb_tariff_prices(&t, &site, utc(2025, 7, 15, 22, 0), 5400, 1, st) == 0);
    CHECK_DBL(st[0].price, (0.17 * 60 + 0.21 * 30) / 90, EPS);
    /* the billing period number changes at 2025-08-01 00:00 local */
    REQUIRE(sb_tariff_prices(&t, &site, utc(2025, 8, 1, 5, 0), 3600, 4, st) == 0);
    CHECK_EQ(st[0].bill, 0);
    CHECK_EQ(st[1].bill, 0);
    CHECK_EQ(st[2].bill, 1);
    CHECK_EQ(st[3].bill, 1);
    CHECK_EQ(sb_tariff_prices(&t, &site, 0, 59, 1, st), SB_EINVAL);
}

/* ------------------------------------------------------------------------ */
/* the document                                                             */

TEST(examples_round_trip)
{
    static const char *const files[] = {
        "fuzz/corpus/tariff/pge-b19-illustrative.json",
        "fuzz/corpus/tariff/flat-simple.json",
        "fuzz/corpus/tariff/weekday-tou-tiers.json",
    };
    static struct sb_tariff t, u;

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char *j1, *j2;
        char err[256] = "";

        REQUIRE(parse_file(files[i], &t) == 0);
        j1 = sb_tariff_to_json(&t);
        REQUIRE(j1);
        CHECK_EQ(sb_tariff_parse(j1, strlen(j1), &u, err, sizeof err), 0);
        j2 = sb_tariff_to_json(&u);
        CHECK(j2 && strcmp(j1, j2) == 0);
        CHECK(memcmp(&t, &u, sizeof t) == 0);        /* the very same tariff */
        free(j1);
        free(j2);
    }
    REQUIRE(parse_file(files[0], &t) == 0);
    CHECK_EQ(t.n_seasons, 3);
    CHECK_EQ(t.n_periods, 4);
    CHECK_EQ(t.n_demand, 4);
    /* 29 Feb belongs to the season of 28 Feb ("winter" ends 02-28) */
    CHECK_EQ(t.season_of[1][28], 1);
    CHECK_EQ(t.season_of[2][0], 2);
    {
        struct sb_tariff_line l = { .kind = SB_TL_ENERGY, .season = 0, .period = 0, .index = -1 };
        char buf[64];

        sb_tariff_line_label(&t, &l, buf, sizeof buf);
        CHECK_STR(buf, "summer peak energy");
    }
}

/* Each kind of bad tariff, refused with a message naming the field. */
TEST(validation_errors)
{
#define BASE "\"id\":\"v\",\"name\":\"V\",\"currency\":\"USD\""
#define ALLDAY "\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1}]"
#define TWO_SEASONS "\"seasons\":[{\"name\":\"summer\",\"from\":\"06-01\",\"to\":\"09-30\"}," \
                    "{\"name\":\"winter\",\"from\":\"10-01\",\"to\":\"05-31\"}]"
    static const struct { const char *json, *want; } cases[] = {
        { "{" BASE ",", "tariff: invalid JSON" },
        { "[1]", "tariff: must be a JSON object" },
        { "{" BASE "," ALLDAY ",\"bogus\":1}", "bogus: unknown field" },
        { "{\"name\":\"V\",\"currency\":\"USD\"," ALLDAY "}", "id: required" },
        { "{\"id\":\"Bad Id\",\"name\":\"V\",\"currency\":\"USD\"," ALLDAY "}", "id: required, a slug" },
        { "{\"id\":\"v\",\"name\":\"\",\"currency\":\"USD\"," ALLDAY "}", "name: must be 1..503 bytes" },
        { "{\"id\":\"v\",\"name\":\"V\",\"currency\":\"usd\"," ALLDAY "}", "currency: required, an ISO 4217" },
        { "{" BASE "}", "energy: required" },
        { "{" BASE ",\"energy\":[]}", "energy: must be an array of 1..96" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"hours\":[0,10]},"
          "{\"period\":\"b\",\"price_per_kwh\":0.2,\"hours\":[10,20]},"
          "{\"period\":\"c\",\"price_per_kwh\":0.3,\"hours\":[20,25]}]}",
          "energy[2].hours: end 25 out of 0..24" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"hours\":[24,3]}]}",
          "energy[0].hours: start 24 out of 0..23" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"hours\":[5,5]}]}",
          "energy[0].hours: empty range 5..5" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"hours\":[[0,5],[5]]}]}",
          "energy[0].hours[1]: must be [start, end]" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"hours\":[0,12]},"
          "{\"period\":\"b\",\"price_per_kwh\":0.2,\"hours\":[11,24]}]}",
          "energy[1]: overlaps energy[0] on Monday 11:00" },
        { "{" BASE "," TWO_SEASONS ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,"
          "\"seasons\":[\"summer\"]},{\"period\":\"b\",\"price_per_kwh\":0.2,\"seasons\":"
          "[\"winter\"],\"days\":[\"weekday\",\"holiday\"]},{\"period\":\"b\",\"price_per_kwh\":"
          "0.2,\"seasons\":[\"winter\"],\"days\":[\"sat\",\"sun\"],\"hours\":[6,3]}]}",
          "energy: no energy price covers Saturday 03:00 in winter" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"days\":[\"weekday\","
          "\"weekend\"]}]}", "energy: no energy price covers holidays 00:00" },
        { "{" BASE ",\"seasons\":[{\"name\":\"summer\",\"from\":\"06-01\",\"to\":\"09-30\"},"
          "{\"name\":\"winter\",\"from\":\"09-15\",\"to\":\"05-31\"}]," ALLDAY "}",
          "seasons overlap on 09-15 (summer and winter)" },
        { "{" BASE ",\"seasons\":[{\"name\":\"summer\",\"from\":\"06-01\",\"to\":\"09-30\"},"
          "{\"name\":\"winter\",\"from\":\"10-02\",\"to\":\"05-31\"}]," ALLDAY "}",
          "seasons: no season covers 10-01" },
        { "{" BASE ",\"seasons\":[{\"name\":\"s\",\"from\":\"02-30\",\"to\":\"01-01\"}]," ALLDAY "}",
          "seasons[0].from: must be a date \"MM-DD\"" },
        { "{" BASE ",\"seasons\":[{\"name\":\"s\",\"from\":\"01-01\",\"to\":\"12-31\"},"
          "{\"name\":\"s\",\"from\":\"01-01\",\"to\":\"12-31\"}]," ALLDAY "}",
          "seasons[1].name: duplicate season \"s\"" },
        { "{" BASE "," TWO_SEASONS ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,"
          "\"seasons\":[\"sumer\"]}]}", "energy[0].seasons[0]: unknown season \"sumer\"" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"days\":[\"wkday\"]}]}",
          "energy[0].days[0]: unknown day \"wkday\"" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":\"0.1\"}]}",
          "energy[0].price_per_kwh: must be a number" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":5000}]}",
          "energy[0].price_per_kwh: 5000 out of -1000..1000" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"hours\":[0,4],\"price_per_kwh\":1},"
          "{\"period\":\"b\",\"hours\":[4,8],\"price_per_kwh\":1},{\"period\":\"c\",\"hours\":"
          "[8,12],\"price_per_kwh\":1},{\"period\":\"d\",\"hours\":[12,16],\"price_per_kwh\":1},"
          "{\"period\":\"e\",\"hours\":[16,20],\"price_per_kwh\":1},{\"period\":\"f\",\"hours\":"
          "[20,22],\"price_per_kwh\":1},{\"period\":\"g\",\"hours\":[22,24],\"price_per_kwh\":1}]}",
          "energy[6].period: more than 6 TOU periods" },
        { "{" BASE "," ALLDAY ",\"export\":{\"mode\":\"tou\"}}",
          "energy[0].export_price_per_kwh: required when export.mode is tou" },
        { "{" BASE ",\"energy\":[{\"period\":\"a\",\"price_per_kwh\":0.1,\"export_price_per_kwh\":"
          "0.05}]}", "energy[0].export_price_per_kwh: only with export.mode tou" },
        { "{" BASE "," ALLDAY ",\"export\":{\"mode\":\"flat\"}}",
          "export.price_per_kwh: required when export.mode is flat" },
        { "{" BASE "," ALLDAY ",\"export\":{\"mode\":\"net\"}}", "export.mode: must be none, flat or tou" },
        { "{" BASE "," ALLDAY ",\"tiers\":[{\"up_to_kwh\":100,\"price_per_kwh\":0},{\"up_to_kwh\":"
          "50,\"price_per_kwh\":0.01},{\"price_per_kwh\":0.02}]}",
          "tiers[1].up_to_kwh: must be greater than the previous tier's" },
        { "{" BASE "," ALLDAY ",\"tiers\":[{\"up_to_kwh\":100,\"price_per_kwh\":0},{\"up_to_kwh\":"
          "200,\"price_per_kwh\":0.01}]}", "tiers[1].up_to_kwh: the last tier has no upper bound" },
        { "{" BASE "," ALLDAY ",\"demand\":[{\"name\":\"m\",\"price_per_kw\":-1}]}",
          "demand[0].price_per_kw: -1 out of 0..100000" },
        { "{" BASE "," ALLDAY ",\"demand\":[{\"name\":\"m\",\"price_per_kw\":1},{\"name\":\"m\","
          "\"price_per_kw\":2}]}", "demand[1].name: duplicate demand charge \"m\"" },
        { "{" BASE "," ALLDAY ",\"demand\":[{\"name\":\"m\",\"price_per_kw\":1,\"hours\":[16,21],"
          "\"when\":1}]}", "demand[0].when: unknown field" },
        { "{" BASE "," ALLDAY ",\"fixed\":[{\"name\":\"f\",\"per_day\":1,\"per_period\":2}]}",
          "fixed[0]: needs exactly one of per_day, per_period" },
        { "{" BASE "," ALLDAY ",\"tax_pct\":150}", "tax_pct: 150 out of 0..100" },
        { "{" BASE "," ALLDAY ",\"billing_cycle_day\":29}", "billing_cycle_day: 29 out of 1..28" },
        { "{" BASE "," ALLDAY ",\"demand_interval_min\":20}", "demand_interval_min: must be 15, 30 or 60" },
        { "{" BASE "," ALLDAY ",\"demand_method\":\"sliding\"}", "demand_method: must be block or rolling" },
        { "{" BASE "," ALLDAY ",\"holidays\":[\"2025-02-29\"]}", "holidays[0]: \"2025-02-29\" is not a date" },
        { "{" BASE "," ALLDAY ",\"holidays\":[\"12-25\",\"12-25\"]}", "holidays[1]: duplicate of holidays[0]" },
        { "{" BASE "," ALLDAY ",\"tax_pct\":1,\"tax_pct\":2}", "tariff: invalid JSON" },
    };
    static struct sb_tariff t;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        int rc = parse(cases[i].json, &t, err, sizeof err);

        if (rc != SB_EINVAL || strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
            TAP_FAIL("case %zu: rc %d, \"%s\", want \"%s\"", i, rc, err, cases[i].want);
        CHECK_EQ(t.n_energy, 0);     /* zeroed on error */
    }
    {
        static char big[SB_TARIFF_JSON_MAX + 2];
        char err[256] = "";

        memset(big, ' ', sizeof big);
        CHECK_EQ(sb_tariff_parse(big, sizeof big, &t, err, sizeof err), SB_EINVAL);
        CHECK(strstr(err, "longer than 65536") != NULL);
    }
}

/* Bad series and tariffs that did not come from the parser are refused. */
TEST(bad_calls)
{
    static struct sb_tariff t, zero;
    double v[4] = { 1, 1, 1, 1 };
    char err[256] = "";
    struct sb_tariff_series s = { v, 4, 0, 900 };
    size_t nb;

    REQUIRE(parse(hand_json, &t, err, sizeof err) == 0);
    CHECK_EQ(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL), 0);
    s.interval_s = 600;
    CHECK_EQ(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL), SB_EINVAL);
    s.interval_s = 900;
    s.start = (int64_t)1 << 41;
    CHECK_EQ(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL), SB_EINVAL);
    s.start = 0;
    s.kwh = NULL;
    CHECK_EQ(sb_tariff_compute(&t, NULL, &s, bills, 16, &nb, NULL, 0, NULL), SB_EINVAL);
    s.kwh = v;
    CHECK_EQ(sb_tariff_compute(&zero, NULL, &s, bills, 16, &nb, NULL, 0, NULL), SB_EINVAL);
    CHECK_EQ(sb_tariff_allocate(&t, NULL, &s, NULL, bills, 16, &nb), SB_EINVAL);
}

int main(void)
{
    TAP_START();
    RUN(hand_bill);
    RUN(holidays_tariff_and_caller);
    RUN(missing_reported);
    RUN(dst_los_angeles);
    RUN(split_local_hours);
    RUN(billing_periods_local);
    RUN(demand_15_vs_30);
    RUN(demand_window_local);
    RUN(tiers);
    RUN(export_tou);
    RUN(allocation_sums);
    RUN(estimate);
    RUN(prices);
    RUN(examples_round_trip);
    RUN(validation_errors);
    RUN(bad_calls);
    TAP_END();
}

/*
 * test_sched.c - control schedules (src/control/sched.[ch]): the JSON
 * format and its messages, the precedence of exceptions / holidays / the
 * weekly program, and evaluation across the 2026 DST transitions.
 *
 * Expected instants come from the calendar, written as UTC: America/New_York
 * springs forward on Sun 2026-03-08 at 02:00 EST (07:00 UTC) and falls back
 * on Sun 2026-11-01 at 02:00 EDT (06:00 UTC); Europe/Berlin on Sun
 * 2026-03-29 and Sun 2026-10-25 at 01:00 UTC; Australia/Sydney (southern
 * hemisphere) falls back on Sun 2026-04-05 at 03:00 AEDT (16:00 UTC the day
 * before) and springs forward on Sun 2026-10-04 at 02:00 AEST (16:00 UTC
 * the day before); Asia/Tokyo has no DST.  The iCalendar files are the
 * fuzz seeds in fuzz/corpus/ical/ (US federal holidays 2026 from OPM's
 * list, yearly RRULEs, TZID / UTC / floating events, broken ones).  Day numbers come from
 * sb_days_from_civil (checked against glibc in test_tz.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/ical.h"
#include "control/sched.h"
#include "core/err.h"
#include "core/tz.h"
#include "tap.h"

#define H_MS 3600000LL

static int64_t utc_ms(int y, int m, int d, int h, int mi)
{
    return (sb_days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + h * 3600 + mi * 60) * 1000;
}

static int parse(struct sb_csched *s, const char *json, char *err, size_t cap)
{
    sb_csched_init(s, NULL);
    return sb_csched_parse(s, json, strlen(json), err, cap);
}

/* A schedule open 00:00-24:00 every day except day (closed), so the state
 * at noon of day runs exactly from its local midnight to the next. */
static int64_t day_length_h(const char *zone, int y, int m, int d)
{
    struct sb_csched s;
    struct sb_cday closed = { 0 };
    struct sb_csched_state st;
    const struct sb_tz *tz = sb_tz_get(zone);
    int64_t len = -1;

    if (!tz)
        return -2;
    sb_csched_init(&s, NULL);
    for (int i = 0; i < 7; i++)
        s.week[i] = (struct sb_cday){ 1, { { 0, 1440, SB_CMODE_OCCUPIED, { 21, 24 } } } };
    if (sb_csched_set_exception(&s, sb_days_from_civil(y, (unsigned)m, (unsigned)d), &closed))
        goto out;
    /* local noon is within 11..14 h of UTC noon in these zones: probe at the
     * local noon instant */
    {
        int64_t noon = sb_tz_local_to_utc(tz, sb_days_from_civil(y, (unsigned)m, (unsigned)d) *
                                                  86400 + 12 * 3600) * 1000;
        if (sb_csched_at(&s, tz, noon, &st) || st.mode != SB_CMODE_UNOCCUPIED)
            goto out;
        len = (st.next_ms - st.since_ms) / H_MS;
    }
out:
    sb_csched_release(&s);
    return len;
}

TEST(defaults_from_comfort)
{
    struct sb_comfort c = { 1, { 20.5, 23.5 }, { 16, 28 } };
    struct sb_csched s;

    sb_csched_init(&s, &c);
    CHECK_DBL(s.band[SB_CMODE_OCCUPIED].heating, 20.5, 0);
    CHECK_DBL(s.band[SB_CMODE_UNOCCUPIED].cooling, 28, 0);
    CHECK_DBL(s.band[SB_CMODE_STANDBY].heating, 19.5, 1e-12);
    CHECK_DBL(s.band[SB_CMODE_STANDBY].cooling, 24.5, 1e-12);
    /* a narrow setback band caps standby */
    c.unoccupied = (struct sb_band){ 20, 24 };
    sb_csched_init(&s, &c);
    CHECK_DBL(s.band[SB_CMODE_STANDBY].heating, 20, 0);
    CHECK_DBL(s.band[SB_CMODE_STANDBY].cooling, 24, 0);
    sb_csched_release(&s);
}

static const char doc[] =
    "{\"setpoints\":{\"occupied\":{\"heating\":21,\"cooling\":24},"
    "\"standby\":{\"heating\":19}},"
    "\"week\":{\"mon-fri\":[{\"time\":\"07:00-18:00\",\"mode\":\"occupied\"},"
    "{\"time\":\"18:00-20:00\",\"mode\":\"standby\"}],"
    "\"sat\":[{\"time\":\"09:00-13:00\",\"heating\":20,\"cooling\":25}],\"sun\":\"closed\"},"
    "\"holiday\":[{\"time\":\"10:00-12:00\",\"mode\":\"standby\"}],"
    "\"holidays\":[\"2026-12-25\",\"2026-01-01\",\"2026-12-25\"],"
    "\"exceptions\":[{\"date\":\"2026-12-24\",\"periods\":[{\"time\":\"07:00-12:00\"}]},"
    "{\"date\":\"2026-12-25\",\"periods\":\"closed\"}]}";

TEST(parse_and_round_trip)
{
    struct sb_csched s, t;
    char err[200] = "", *j1 = NULL, *j2 = NULL;

    REQUIRE(parse(&s, doc, err, sizeof err) == 0);
    CHECK_EQ(s.week[0].n, 2);
    CHECK_EQ(s.week[4].p[1].mode, SB_CMODE_STANDBY);
    CHECK_DBL(s.week[4].p[1].band.heating, 19, 0);      /* from setpoints.standby */
    CHECK_DBL(s.week[4].p[1].band.cooling, 25, 0);      /* the default, 24 + 1 */
    CHECK_DBL(s.week[5].p[0].band.cooling, 25, 0);      /* per-period override */
    CHECK_EQ(s.week[6].n, 0);
    CHECK_EQ(s.n_hol, 2);                               /* duplicate folded */
    CHECK_EQ(s.hol[0], sb_days_from_civil(2026, 1, 1));
    CHECK_EQ(s.n_exc, 2);
    REQUIRE(sb_csched_to_json(&s, &j1) == 0);
    sb_csched_init(&t, NULL);
    REQUIRE(sb_csched_parse(&t, j1, strlen(j1), err, sizeof err) == 0);
    REQUIRE(sb_csched_to_json(&t, &j2) == 0);
    CHECK_STR(j1, j2);
    CHECK(memcmp(t.week, s.week, sizeof s.week) == 0);
    free(j1);
    free(j2);
    sb_csched_release(&s);
    sb_csched_release(&t);
}

static void expect_err(const char *json, const char *msg)
{
    struct sb_csched s;
    char err[200] = "";
    int rc = parse(&s, json, err, sizeof err);

    CHECK(rc < 0);
    if (!strstr(err, msg))
        TAP_FAIL("message \"%s\" lacks \"%s\"", err, msg);
    CHECK_EQ(s.n_exc, 0);
    CHECK(s.exc == NULL);
    sb_csched_release(&s);
}

TEST(errors_name_the_place)
{
    expect_err("{\"exceptions\":[{\"date\":\"2026-01-02\",\"periods\":\"closed\"},"
               "{\"date\":\"2026-01-03\",\"periods\":\"closed\"},"
               "{\"date\":\"2026-02-30\",\"periods\":\"closed\"}]}",
               "exceptions[2].date: 2026-02-30 is not a date");
    expect_err("{\"holidays\":[\"2027-02-29\"]}", "holidays[0]: 2027-02-29 is not a date");
    expect_err("{\"week\":{\"mon\":[{\"time\":\"07:00-12:00\"},{\"time\":\"11:00-13:00\"}]}}",
               "week.mon: periods overlap at 11:00");
    expect_err("{\"week\":{\"mon-fri\":\"closed\",\"fri\":\"closed\"}}",
               "week.fri: a day is given twice");
    expect_err("{\"week\":{\"mon\":[{\"time\":\"07:00-12:00\",\"mode\":\"party\"}]}}",
               "week.mon[0].mode: must be");
    expect_err("{\"week\":{\"mon\":[{\"time\":\"19:00-07:00\"}]}}", "week.mon[0].time:");
    expect_err("{\"week\":{\"mon\":[{\"time\":\"07:00-12:00\",\"heating\":26}]}}",
               "week.mon[0]: heating 26 °C must be below cooling 24 °C");
    expect_err("{\"setpoints\":{\"occupied\":{\"heating\":\"x\"}}}",
               "setpoints.occupied.heating: must be a number");
    expect_err("{\"weeks\":{}}", "weeks: unknown field");
    expect_err("{\"exceptions\":[{\"date\":\"2026-01-02\",\"periods\":\"closed\"},"
               "{\"date\":\"2026-01-02\",\"periods\":\"closed\"}]}",
               "exceptions[1].date: 2026-01-02 is given twice");
    expect_err("{\"week\":", "line 1");
    expect_err("[]", "must be a JSON object");
}

TEST(precedence_and_state)
{
    const struct sb_tz *ny = sb_tz_get("America/New_York");
    struct sb_csched s;
    struct sb_csched_state st;
    char err[200];

    REQUIRE(ny);
    REQUIRE(parse(&s, doc, err, sizeof err) == 0);
    /* Thu 2026-12-17 10:00 EST = 15:00 UTC: weekly occupied 07:00-18:00 */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 17, 15, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_EQ(st.kind, SB_CDAY_WEEKLY);
    CHECK_EQ(st.since_ms, utc_ms(2026, 12, 17, 12, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 12, 17, 23, 0));  /* standby at 18:00 */
    /* Thu 19:00: standby until 20:00, then unoccupied until Fri 07:00 */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 18, 0, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_STANDBY);
    CHECK_DBL(st.band.heating, 19, 0);
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 18, 3, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK_EQ(st.since_ms, utc_ms(2026, 12, 18, 1, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 12, 18, 12, 0));
    /* Thu 2026-12-24 is an exception: 07:00-12:00 only */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 24, 16, 0), &st) == 0);
    CHECK_EQ(st.kind, SB_CDAY_EXCEPTION);
    CHECK_EQ(st.next_ms, utc_ms(2026, 12, 24, 17, 0));
    /* Fri 12-25 is a holiday and an exception (closed): the exception wins,
     * so 10:00-12:00 standby of the holiday type does not run; the next
     * change is Sat 12-26 09:00. */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 25, 16, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK_EQ(st.kind, SB_CDAY_EXCEPTION);
    CHECK_EQ(st.since_ms, utc_ms(2026, 12, 24, 17, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 12, 26, 14, 0));
    /* Fri 2026-01-01 is a holiday (no exception): the holiday day type */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 1, 1, 16, 0), &st) == 0);
    CHECK_EQ(st.kind, SB_CDAY_HOLIDAY);
    CHECK_EQ(st.mode, SB_CMODE_STANDBY);
    CHECK_EQ(st.next_ms, utc_ms(2026, 1, 1, 17, 0));
    sb_csched_release(&s);
}

TEST(us_spring_forward_gap)
{
    const struct sb_tz *ny = sb_tz_get("America/New_York");
    struct sb_csched s;
    struct sb_csched_state st;
    char err[200];

    REQUIRE(ny);
    REQUIRE(parse(&s, "{\"week\":{\"daily\":[{\"time\":\"02:30-05:00\"}]}}", err,
                  sizeof err) == 0);
    /* 02:30 does not exist on 2026-03-08: the period starts when the gap
     * ends, 03:00 EDT = 07:00 UTC, and ends at 05:00 EDT = 09:00 UTC. */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 3, 8, 7, 0) - 1000, &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK_EQ(st.next_ms, utc_ms(2026, 3, 8, 7, 0));
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 3, 8, 7, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_EQ(st.since_ms, utc_ms(2026, 3, 8, 7, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 3, 8, 9, 0));
    /* the day before: 02:30 EST = 07:30 UTC, 2.5 h */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 3, 7, 8, 0), &st) == 0);
    CHECK_EQ(st.since_ms, utc_ms(2026, 3, 7, 7, 30));
    CHECK_EQ(st.next_ms, utc_ms(2026, 3, 7, 10, 0));
    sb_csched_release(&s);
}

TEST(us_fall_back_overlap)
{
    const struct sb_tz *ny = sb_tz_get("America/New_York");
    struct sb_csched s;
    struct sb_csched_state st;
    char err[200];

    REQUIRE(ny);
    REQUIRE(parse(&s, "{\"week\":{\"daily\":[{\"time\":\"01:30-03:00\"}]}}", err,
                  sizeof err) == 0);
    /* 01:30 happens twice on 2026-11-01: the first (EDT, 05:30 UTC) starts
     * the period; the second 01:15 (EST, 06:15 UTC) is already inside it;
     * 03:00 EST = 08:00 UTC ends it: 2.5 h of occupancy. */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 11, 1, 6, 15), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_EQ(st.since_ms, utc_ms(2026, 11, 1, 5, 30));
    CHECK_EQ(st.next_ms, utc_ms(2026, 11, 1, 8, 0));
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 11, 1, 5, 29), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    sb_csched_release(&s);
}

TEST(eu_transitions)
{
    const struct sb_tz *be = sb_tz_get("Europe/Berlin");
    struct sb_csched s;
    struct sb_csched_state st;
    char err[200];

    REQUIRE(be);
    REQUIRE(parse(&s, "{\"week\":{\"daily\":[{\"time\":\"02:15-08:00\"}]}}", err,
                  sizeof err) == 0);
    /* 2026-03-29: 02:15 falls in the gap 02:00-03:00 -> 03:00 CEST = 01:00 UTC */
    REQUIRE(sb_csched_at(&s, be, utc_ms(2026, 3, 29, 3, 0), &st) == 0);
    CHECK_EQ(st.since_ms, utc_ms(2026, 3, 29, 1, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 3, 29, 6, 0));
    /* 2026-10-25: 02:15 first as CEST = 00:15 UTC; 08:00 CET = 07:00 UTC */
    REQUIRE(sb_csched_at(&s, be, utc_ms(2026, 10, 25, 1, 10), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_EQ(st.since_ms, utc_ms(2026, 10, 25, 0, 15));
    CHECK_EQ(st.next_ms, utc_ms(2026, 10, 25, 7, 0));
    sb_csched_release(&s);
}

TEST(day_lengths)
{
    CHECK_EQ(day_length_h("America/New_York", 2026, 3, 8), 23);
    CHECK_EQ(day_length_h("America/New_York", 2026, 3, 9), 24);
    CHECK_EQ(day_length_h("America/New_York", 2026, 11, 1), 25);
    CHECK_EQ(day_length_h("Europe/Berlin", 2026, 3, 29), 23);
    CHECK_EQ(day_length_h("Europe/Berlin", 2026, 10, 25), 25);
    CHECK_EQ(day_length_h("Australia/Sydney", 2026, 4, 5), 25);
    CHECK_EQ(day_length_h("Australia/Sydney", 2026, 10, 4), 23);
    CHECK_EQ(day_length_h("Asia/Tokyo", 2026, 3, 8), 24);
    CHECK_EQ(day_length_h("Asia/Tokyo", 2026, 11, 1), 24);
}

TEST(sydney_period)
{
    const struct sb_tz *sy = sb_tz_get("Australia/Sydney");
    struct sb_csched s;
    struct sb_csched_state st;
    char err[200];

    REQUIRE(sy);
    REQUIRE(parse(&s, "{\"week\":{\"daily\":[{\"time\":\"07:00-18:00\"}]}}", err,
                  sizeof err) == 0);
    /* Mon 2026-01-12 (AEDT, +11): 07:00 = 20:00 UTC the day before */
    REQUIRE(sb_csched_at(&s, sy, utc_ms(2026, 1, 12, 0, 0), &st) == 0);
    CHECK_EQ(st.since_ms, utc_ms(2026, 1, 11, 20, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 1, 12, 7, 0));
    /* Mon 2026-07-13 (AEST, +10) */
    REQUIRE(sb_csched_at(&s, sy, utc_ms(2026, 7, 13, 0, 0), &st) == 0);
    CHECK_EQ(st.since_ms, utc_ms(2026, 7, 12, 21, 0));
    CHECK_EQ(st.next_ms, utc_ms(2026, 7, 13, 8, 0));
    sb_csched_release(&s);
}

TEST(horizon_matches_at)
{
    const struct sb_tz *ny = sb_tz_get("America/New_York");
    struct sb_csched s;
    struct sb_csched_step h[192];
    struct sb_csched_state st;
    char err[200];
    int occ = 0;

    REQUIRE(ny);
    REQUIRE(parse(&s, doc, err, sizeof err) == 0);
    /* 48 h of 15-min steps from Thu 2026-12-17 00:00 EST */
    REQUIRE(sb_csched_horizon(&s, ny, utc_ms(2026, 12, 17, 5, 0), 900, 192, h) == 0);
    for (int i = 0; i < 192; i++) {
        REQUIRE(sb_csched_at(&s, ny, h[i].t_ms, &st) == 0);
        CHECK_EQ(h[i].mode, st.mode);
        CHECK_DBL(h[i].band.heating, st.band.heating, 0);
        occ += h[i].mode == SB_CMODE_OCCUPIED;
    }
    CHECK_EQ(occ, 2 * 11 * 4);     /* Thu and Fri 07:00-18:00 */
    CHECK_EQ(h[191].t_ms - h[0].t_ms, 191 * 900000LL);
    CHECK_EQ(sb_csched_horizon(&s, ny, 0, 30, 4, h), SB_EINVAL);
    CHECK_EQ(sb_csched_horizon(&s, ny, 0, 900, SB_CSCHED_HORIZON_MAX + 1, h), SB_EINVAL);
    sb_csched_release(&s);
}

TEST(from_occupancy)
{
    struct sb_schedule occ = { 0 };
    struct sb_comfort c = { 1, { 20, 25 }, { 16, 29 } };
    struct sb_csched s;
    struct sb_csched_state st;
    char why[100];

    occ.set = 1;
    REQUIRE(sb_schedule_parse_periods("08:00-12:00,13:00-17:00", &occ.day[2], why,
                                      sizeof why) == 0);
    sb_csched_init(&s, &c);
    sb_csched_from_occupancy(&s, &occ);
    CHECK_EQ(s.week[2].n, 2);
    CHECK_EQ(s.week[0].n, 0);
    /* Wed 2026-06-10 12:30 UTC: lunch gap, unoccupied band */
    REQUIRE(sb_csched_at(&s, NULL, utc_ms(2026, 6, 10, 12, 30), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK_DBL(st.band.heating, 16, 0);
    REQUIRE(sb_csched_at(&s, NULL, utc_ms(2026, 6, 10, 13, 30), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_DBL(st.band.cooling, 25, 0);
    CHECK_EQ(st.next_ms, utc_ms(2026, 6, 10, 17, 0));
    sb_csched_release(&s);
}

TEST(holiday_bound)
{
    struct sb_csched s;
    int64_t *d = malloc(SB_CSCHED_MAX_HOL * sizeof *d);
    int64_t one = -1;

    REQUIRE(d);
    for (int i = 0; i < SB_CSCHED_MAX_HOL; i++)
        d[i] = 2 * i;
    sb_csched_init(&s, NULL);
    CHECK_EQ(sb_csched_add_holidays(&s, d, SB_CSCHED_MAX_HOL), 0);
    CHECK_EQ(sb_csched_add_holidays(&s, d, 10), 0);          /* repeats fold */
    CHECK_EQ(s.n_hol, SB_CSCHED_MAX_HOL);
    CHECK_EQ(sb_csched_add_holidays(&s, &one, 1), SB_ENOSPC);
    CHECK_EQ(s.n_hol, SB_CSCHED_MAX_HOL);
    CHECK_EQ(s.hol[0], 0);
    free(d);
    sb_csched_release(&s);
}

TEST(closed_forever)
{
    struct sb_csched s;
    struct sb_csched_state st;

    sb_csched_init(&s, NULL);
    REQUIRE(sb_csched_at(&s, NULL, utc_ms(2026, 6, 10, 12, 30), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK(st.next_ms == INT64_MAX);
    sb_csched_release(&s);
}

/* ---- iCalendar ------------------------------------------------------- */

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    char *b = malloc(1 << 20);

    *n = 0;
    if (f && b)
        *n = fread(b, 1, 1 << 20, f);
    if (f)
        fclose(f);
    return b;
}

static int ical_file(const char *path, const char *zone, int partial, int64_t from, int64_t to,
                     struct sb_ical_list *l, char *err, size_t cap)
{
    struct sb_ical_opts o = { sb_tz_get(zone), from, to, partial, NULL };
    size_t n;
    char *b = slurp(path, &n);
    int rc = n ? sb_ical_parse(b, n, &o, l, err, cap) : SB_ENOENT;

    free(b);
    return rc;
}

static int64_t D(int y, int m, int d)
{
    return sb_days_from_civil(y, (unsigned)m, (unsigned)d);
}

TEST(ical_us_federal)
{
    static const int md[11][2] = { { 1, 1 }, { 1, 19 }, { 2, 16 }, { 5, 25 }, { 6, 19 },
                                   { 7, 3 }, { 9, 7 }, { 10, 12 }, { 11, 11 }, { 11, 26 },
                                   { 12, 25 } };
    struct sb_ical_list l;
    char err[200] = "";

    REQUIRE(ical_file("fuzz/corpus/ical/us-federal-2026.ics", "America/New_York", 1,
                      D(2026, 1, 1), D(2027, 1, 1), &l, err, sizeof err) == 0);
    CHECK_EQ(l.n, 11);
    for (size_t i = 0; i < l.n && i < 11; i++) {
        CHECK_EQ(l.v[i].day, D(2026, md[i][0], md[i][1]));
        CHECK_EQ(l.v[i].start, 0);
        CHECK_EQ(l.v[i].end, 1440);
    }
    if (l.n > 1)
        CHECK_STR(l.v[1].name, "Birthday of Martin Luther King, Jr.");
    sb_ical_list_free(&l);
    /* the range cuts: only the second half of the year */
    REQUIRE(ical_file("fuzz/corpus/ical/us-federal-2026.ics", "America/New_York", 1,
                      D(2026, 7, 1), D(2026, 12, 1), &l, err, sizeof err) == 0);
    CHECK_EQ(l.n, 5);
    sb_ical_list_free(&l);
}

TEST(ical_yearly_rrule)
{
    static const int ymd[10][3] = { { 2026, 1, 1 }, { 2026, 5, 25 }, { 2026, 11, 26 },
                                    { 2026, 12, 28 }, { 2026, 12, 29 }, { 2026, 12, 30 },
                                    { 2026, 12, 31 }, { 2027, 1, 1 }, { 2027, 5, 31 },
                                    { 2027, 11, 25 } };
    struct sb_ical_list l;
    char err[200] = "";

    /* 2026-2027: New Year, Memorial Day (last Monday of May), Thanksgiving
     * (4th Thursday of November), the 4-day shutdown in 2026 (COUNT=5 from
     * 2024; its 2027 occurrence is an EXDATE), the cancelled event none. */
    REQUIRE(ical_file("fuzz/corpus/ical/yearly-rrule.ics", "America/New_York", 0,
                      D(2026, 1, 1), D(2028, 1, 1), &l, err, sizeof err) == 0);
    CHECK_EQ(l.n, 10);
    for (size_t i = 0; i < l.n && i < 10; i++)
        CHECK_EQ(l.v[i].day, D(ymd[i][0], ymd[i][1], ymd[i][2]));
    if (l.n >= 4)
        CHECK_STR(l.v[3].name, "Year-end shutdown");
    sb_ical_list_free(&l);
}

TEST(ical_tzid_utc_floating)
{
    struct sb_ical_list l;
    char err[200] = "";

    REQUIRE(ical_file("fuzz/corpus/ical/tzid-event.ics", "America/New_York", 1,
                      D(2026, 1, 1), D(2027, 1, 1), &l, err, sizeof err) == 0);
    if (l.n != 6)
        printf("#   %s\n", err);
    REQUIRE(l.n == 6);
    /* 06:00Z Mar 8 - 04:00Z Mar 9: 01:00 EST to the (23-h) day's end */
    CHECK_EQ(l.v[0].day, D(2026, 3, 8));
    CHECK_EQ(l.v[0].start, 60);
    CHECK_EQ(l.v[0].end, 1440);
    /* 09:00-10:00 in Los Angeles (prefixed TZID) = 12:00-13:00 in New York */
    CHECK_EQ(l.v[1].day, D(2026, 4, 15));
    CHECK_EQ(l.v[1].start, 720);
    CHECK_EQ(l.v[1].end, 780);
    /* first Tuesdays 14:00-16:00 floating, Oct 6 excluded */
    CHECK_EQ(l.v[2].day, D(2026, 9, 1));
    CHECK_EQ(l.v[2].start, 840);
    CHECK_EQ(l.v[2].end, 960);
    CHECK_EQ(l.v[3].day, D(2026, 11, 3));
    CHECK_EQ(l.v[4].day, D(2026, 12, 1));
    /* 13:00-18:00 Berlin (CET) = 07:00-12:00 EST */
    CHECK_EQ(l.v[5].day, D(2026, 12, 24));
    CHECK_EQ(l.v[5].start, 420);
    CHECK_EQ(l.v[5].end, 720);
    sb_ical_list_free(&l);
    /* without partial days each touched day is closed whole */
    REQUIRE(ical_file("fuzz/corpus/ical/tzid-event.ics", "America/New_York", 0,
                      D(2026, 1, 1), D(2027, 1, 1), &l, err, sizeof err) == 0);
    REQUIRE(l.n == 6);
    for (size_t i = 0; i < l.n; i++)
        CHECK(l.v[i].start == 0 && l.v[i].end == 1440);
    sb_ical_list_free(&l);
    /* in Tokyo (UTC+9) the UTC window covers Mar 8 15:00 - Mar 9 13:00 */
    REQUIRE(ical_file("fuzz/corpus/ical/tzid-event.ics", "Asia/Tokyo", 1,
                      D(2026, 3, 1), D(2026, 4, 1), &l, err, sizeof err) == 0);
    REQUIRE(l.n == 2);
    CHECK_EQ(l.v[0].start, 900);
    CHECK_EQ(l.v[1].day, D(2026, 3, 9));
    CHECK_EQ(l.v[1].end, 780);
    sb_ical_list_free(&l);
}

static void ical_err(const char *text, int want, const char *msg)
{
    struct sb_ical_opts o = { sb_tz_get("America/New_York"), D(2026, 1, 1), D(2027, 1, 1), 1,
                              NULL };
    struct sb_ical_list l = { (void *)1, 7 };
    char err[200] = "";
    int rc = sb_ical_parse(text, strlen(text), &o, &l, err, sizeof err);

    CHECK_EQ(rc, want);
    CHECK(l.v == NULL && l.n == 0);
    if (!strstr(err, msg))
        TAP_FAIL("message \"%s\" lacks \"%s\"", err, msg);
}

#define CAL(body) "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" body "END:VCALENDAR\r\n"
#define EV(body)  "BEGIN:VEVENT\r\n" body "END:VEVENT\r\n"

TEST(ical_errors)
{
    struct sb_ical_list l;
    char err[200] = "";

    CHECK_EQ(ical_file("fuzz/corpus/ical/broken-date.ics", "UTC", 0, D(2026, 1, 1),
                       D(2027, 1, 1), &l, err, sizeof err), SB_EPROTO);
    CHECK(strstr(err, "line 9: DTSTART is not a valid date") != NULL);
    CHECK_EQ(ical_file("fuzz/corpus/ical/broken-nesting.ics", "UTC", 0, D(2026, 1, 1),
                       D(2027, 1, 1), &l, err, sizeof err), SB_EPROTO);
    CHECK(strstr(err, "line 6: END:VTODO does not close BEGIN:VEVENT") != NULL);
    ical_err(CAL(EV("DTSTART;VALUE=DATE:20260101\r\nRRULE:FREQ=YEARLY;BYFOO=1\r\n")),
             SB_EPROTO, "line 3: event: Can't parse as RECUR value");
    ical_err(CAL(EV("DTSTART;TZID=Mars/Olympus:20260101T100000\r\n")), SB_EPROTO,
             "line 3: DTSTART;TZID=Mars/Olympus is not a known time zone");
    ical_err(CAL(EV("SUMMARY:x\r\n")), SB_EPROTO, "line 3: VEVENT without DTSTART");
    ical_err(CAL(EV("DTSTART;VALUE=DATE:20260102\r\nDTEND;VALUE=DATE:20260102\r\n")),
             SB_EPROTO, "line 3: the event ends before it starts");
    ical_err(CAL(EV("DTSTART:20260102T100000\r\nRRULE:FREQ=HOURLY\r\n")), SB_EPROTO,
             "RRULE FREQ must be DAILY");
    ical_err(CAL(EV("DTSTART;VALUE=DATE:20260102\r\nthis is no property\r\n")), SB_EPROTO,
             "line 5: not a content line");
    ical_err("BEGIN:VEVENT\r\nEND:VEVENT\r\n", SB_EPROTO, "line 1: expected BEGIN:VCALENDAR");
    ical_err(CAL(EV("DTSTART;VALUE=DATE:20260102\r\n")) CAL(""), SB_EPROTO,
             "line 7: a second VCALENDAR");
    ical_err("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", SB_EPROTO, "BEGIN:VEVENT is never ended");
    ical_err("", SB_EPROTO, "no BEGIN:VCALENDAR");
    /* COUNT from 1990 must be counted from DTSTART: past the bound */
    ical_err(CAL(EV("DTSTART;VALUE=DATE:19900101\r\nRRULE:FREQ=DAILY;COUNT=100000\r\n")),
             SB_ERANGE, "more than 5000 occurrences");
}

TEST(ical_bounded_by_range)
{
    static const char cal[] = CAL(EV("DTSTART;VALUE=DATE:20260101\r\n"
                                     "RRULE:FREQ=DAILY;COUNT=100000\r\n")
                                  EV("DTSTART;VALUE=DATE:19000101\r\n"
                                     "RRULE:FREQ=WEEKLY;BYDAY=SA,SU\r\n"));
    struct sb_ical_opts o = { NULL, D(2026, 1, 1), D(2027, 1, 1), 0, NULL };
    struct sb_ical_list l;
    char err[200] = "";

    /* a 100000-day rule stops at the range; a weekly rule from 1900 without
     * COUNT starts near the range (icalrecur_iterator_set_start) */
    REQUIRE(sb_ical_parse(cal, strlen(cal), &o, &l, err, sizeof err) == 0);
    CHECK_EQ(l.n, 365);
    if (l.n == 365) {
        CHECK_EQ(l.v[0].day, D(2026, 1, 1));
        CHECK_EQ(l.v[364].day, D(2026, 12, 31));
    }
    sb_ical_list_free(&l);
    o.from_day = D(2026, 2, 1);
    REQUIRE(sb_ical_parse(cal + 0, strlen(cal), &o, &l, err, sizeof err) == 0);
    CHECK_EQ(l.n, 365 - 31);
    sb_ical_list_free(&l);
    o.to_day = o.from_day;
    CHECK_EQ(sb_ical_parse(cal, strlen(cal), &o, &l, err, sizeof err), SB_EINVAL);
}

TEST(ical_apply_to_schedule)
{
    struct sb_csched s;
    struct sb_ical_list l;
    struct sb_csched_state st;
    const struct sb_tz *ny = sb_tz_get("America/New_York");
    char err[200] = "";

    REQUIRE(ny);
    REQUIRE(parse(&s, "{\"week\":{\"mon-fri\":[{\"time\":\"07:00-18:00\"}]}}", err,
                  sizeof err) == 0);
    REQUIRE(ical_file("fuzz/corpus/ical/tzid-event.ics", "America/New_York", 1, D(2026, 1, 1),
                      D(2027, 1, 1), &l, err, sizeof err) == 0);
    REQUIRE(sb_ical_apply(&l, &s) == 0);
    sb_ical_list_free(&l);
    REQUIRE(ical_file("fuzz/corpus/ical/us-federal-2026.ics", "America/New_York", 1,
                      D(2026, 1, 1), D(2027, 1, 1), &l, err, sizeof err) == 0);
    REQUIRE(sb_ical_apply(&l, &s) == 0);
    sb_ical_list_free(&l);
    CHECK_EQ(s.n_hol, 11);
    /* Thu 2026-12-24: closed 07:00-12:00 -> occupied 12:00-18:00 EST */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 12, 24, 14, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    CHECK_EQ(st.kind, SB_CDAY_EXCEPTION);
    CHECK_EQ(st.next_ms, utc_ms(2026, 12, 24, 17, 0));
    /* Thu 2026-11-26 Thanksgiving: a holiday, closed all day */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 11, 26, 17, 0), &st) == 0);
    CHECK_EQ(st.kind, SB_CDAY_HOLIDAY);
    CHECK_EQ(st.mode, SB_CMODE_UNOCCUPIED);
    /* Tue 2026-11-03 fire drill 14:00-16:00 cuts the day in two */
    REQUIRE(sb_csched_at(&s, ny, utc_ms(2026, 11, 3, 15, 0), &st) == 0);
    CHECK_EQ(st.mode, SB_CMODE_OCCUPIED);
    CHECK_EQ(st.next_ms, utc_ms(2026, 11, 3, 19, 0));
    sb_csched_release(&s);
}

int main(void)
{
    TAP_START();
    RUN(defaults_from_comfort);
    RUN(parse_and_round_trip);
    RUN(errors_name_the_place);
    RUN(precedence_and_state);
    RUN(us_spring_forward_gap);
    RUN(us_fall_back_overlap);
    RUN(eu_transitions);
    RUN(day_lengths);
    RUN(sydney_period);
    RUN(horizon_matches_at);
    RUN(from_occupancy);
    RUN(holiday_bound);
    RUN(closed_forever);
    RUN(ical_us_federal);
    RUN(ical_yearly_rrule);
    RUN(ical_tzid_utc_floating);
    RUN(ical_errors);
    RUN(ical_bounded_by_range);
    RUN(ical_apply_to_schedule);
    TAP_END();
}

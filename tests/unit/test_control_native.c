/*
 * test_control_native.c - native BACnet Schedule / Calendar objects
 * (control/native.h) and their settings (control/settings.h):
 *   - the settings: native_schedule / native_calendar / native_check_min
 *     parsed, round-tripped, refused with the field named;
 *   - a zone schedule as Weekly_Schedule time-values (binary and
 *     multi-state), exception days and holidays as BACnetSpecialEvents and
 *     Date_List entries, against hand-assembled bytes of clause 20.2 / 21;
 *   - encode -> decode -> compare, and back to the same control schedule;
 *   - sbems's own BACnet server holding the encoded values evaluates every
 *     quarter hour of three weeks to what sb_csched_at says (clause 12.24.4);
 *   - the byte budget cuts the far end, past dates stay out, a changed
 *     device program is found and named.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control/native.h"
#include "control/sched.h"
#include "control/settings.h"
#include "core/err.h"
#include "core/tz.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/server/server.h"
#include "tap.h"

static int64_t day_of(int y, unsigned m, unsigned d)
{
    return sb_days_from_civil(y, m, d);
}

static int parse_sched(const char *doc, struct sb_csched *s)
{
    char err[200] = "";
    sb_csched_init(s, NULL);
    int rc = sb_csched_parse(s, doc, strlen(doc), err, sizeof(err));
    if (rc)
        TAP_FAIL("schedule refused: %s", err);
    return rc;
}

static void check_day(const struct sb_nday *d, const double *mv, size_t n)
{
    CHECK_EQ(d->n, n);
    for (size_t i = 0; i < n && i < d->n; i++) {
        CHECK_EQ(d->tv[i].min, (int)mv[2 * i]);
        CHECK_DBL(d->tv[i].v, mv[2 * i + 1], 0);
    }
}

/* ---- settings ----------------------------------------------------------------------------- */

TEST(settings_native_fields_round_trip)
{
    const char *doc = "{\"native_check_min\":5,\"zones\":{\"z1\":{\"native_schedule\":\"schedule:1\","
                      "\"native_calendar\":\"calendar:2\"},\"z2\":{\"native_schedule\":\"17:7\"},"
                      "\"z3\":{\"mode\":\"auto\",\"native_schedule\":null}}}";
    json_t *j = json_loads(doc, 0, NULL), *back, *again;
    struct sb_ctlset s, s2;
    char err[256];

    REQUIRE(sb_ctlset_parse(j, &s, err, sizeof(err)) == 0);
    CHECK_EQ(s.native_check_ms, 5 * 60000);
    CHECK_EQ(sb_ctlset_zone(&s, "z1")->native_sched, 1);
    CHECK_EQ(sb_ctlset_zone(&s, "z1")->native_cal, 2);
    CHECK_EQ(sb_ctlset_zone(&s, "z2")->native_sched, 7);         /* any spelling names.h reads */
    CHECK_EQ(sb_ctlset_zone(&s, "z2")->native_cal, -1);
    CHECK_EQ(sb_ctlset_zone(&s, "z3")->native_sched, -1);
    back = sb_ctlset_to_json(&s);
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(back, "zones"), "z2"),
                                                "native_schedule")), "schedule:7");
    CHECK_STR(json_string_value(json_object_get(json_object_get(json_object_get(back, "zones"), "z1"),
                                                "native_calendar")), "calendar:2");
    CHECK(json_object_get(json_object_get(json_object_get(back, "zones"), "z3"), "native_schedule") == NULL);
    REQUIRE(sb_ctlset_parse(back, &s2, err, sizeof(err)) == 0);
    again = sb_ctlset_to_json(&s2);
    CHECK(json_equal(back, again));                               /* canonical: a fixed point */
    json_decref(again);
    json_decref(back);
    sb_ctlset_release(&s2);
    sb_ctlset_release(&s);
    json_decref(j);
    /* the default check period is an hour */
    sb_ctlset_init(&s);
    CHECK_EQ(s.native_check_ms, 3600000);
}

static void refused(const char *doc, const char *want)
{
    json_t *j = json_loads(doc, 0, NULL);
    struct sb_ctlset s;
    char err[256] = "";

    CHECK_EQ(sb_ctlset_parse(j, &s, err, sizeof(err)), SB_EINVAL);
    if (!strstr(err, want))
        TAP_FAIL("%s: \"%s\" lacks \"%s\"", doc, err, want);
    json_decref(j);
}

TEST(settings_native_refused_with_the_field)
{
    refused("{\"zones\":{\"z\":{\"native_schedule\":\"analog-value:1\"}}}", "zones.z.native_schedule: a BACnet schedule");
    refused("{\"zones\":{\"z\":{\"native_schedule\":\"calendar:1\"}}}", "zones.z.native_schedule");
    refused("{\"zones\":{\"z\":{\"native_schedule\":\"schedule:4194303\"}}}", "zones.z.native_schedule");
    refused("{\"zones\":{\"z\":{\"native_schedule\":1}}}", "zones.z.native_schedule");
    refused("{\"zones\":{\"z\":{\"native_schedule\":\"schedule:1\",\"native_calendar\":\"schedule:2\"}}}",
            "zones.z.native_calendar: a BACnet calendar");
    refused("{\"zones\":{\"z\":{\"native_calendar\":\"calendar:1\"}}}", "zones.z.native_calendar: needs native_schedule");
    refused("{\"native_check_min\":0}", "native_check_min: a number from 0.1 to 1440");
    refused("{\"zones\":{\"z\":{\"native\":true}}}", "zones.z.native: unknown field");
}

/* ---- building ------------------------------------------------------------------------------ */

static const char *WEEK = "{\"week\":{\"mon-fri\":[{\"time\":\"07:00-18:00\"},{\"time\":\"18:00-20:00\",\"mode\":\"standby\"}],"
                          "\"sat\":[{\"time\":\"09:00-13:00\"}],\"sun\":\"closed\"}}";

TEST(weekly_program_as_time_values)
{
    struct sb_csched cs;
    struct sb_nvalues bin, ms;
    struct sb_nprog p;

    REQUIRE(parse_sched(WEEK, &cs) == 0);
    REQUIRE(sb_nvalues_for(SB_BAC_ENUMERATED, &bin) == 0);
    REQUIRE(sb_nvalues_for(SB_BAC_UNSIGNED, &ms) == 0);
    CHECK_EQ(sb_nvalues_for(SB_BAC_CHAR_STRING, &ms), SB_ENOTSUP);
    REQUIRE(sb_nvalues_for(SB_BAC_UNSIGNED, &ms) == 0);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, -1, 1400, 1400, &p) == 0);
    /* binary: standby is occupied too, so 07:00-20:00 is one run */
    check_day(&p.week[0], (const double[]){ 0, 0, 420, 1, 1200, 0 }, 3);
    check_day(&p.week[5], (const double[]){ 0, 0, 540, 1, 780, 0 }, 3);
    check_day(&p.week[6], (const double[]){ 0, 0 }, 1);            /* closed: unoccupied from midnight */
    CHECK_EQ(p.n_exc, 0);
    sb_nprog_release(&p);
    /* multi-state: 1 occupied, 2 unoccupied, 4 standby */
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &ms, -1, 1400, 1400, &p) == 0);
    check_day(&p.week[4], (const double[]){ 0, 2, 420, 1, 1080, 4, 1200, 2 }, 4);
    CHECK_EQ(p.type, SB_BAC_UNSIGNED);
    sb_nprog_release(&p);
    /* a day that starts occupied at midnight and runs to its end */
    sb_csched_release(&cs);
    REQUIRE(parse_sched("{\"week\":{\"daily\":[{\"time\":\"00:00-24:00\"}]}}", &cs) == 0);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, -1, 1400, 1400, &p) == 0);
    check_day(&p.week[2], (const double[]){ 0, 1 }, 1);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

/* Weekly_Schedule bytes of clause 20.2: a day is [0] ... [0], each
 * BACnetTimeValue an application Time (tag 11, 4 octets: 0xB4 hh mm ss
 * hh) and an application Enumerated (tag 9, 1 octet: 0x91 v). */
TEST(weekly_schedule_bytes)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p;
    uint8_t buf[600];
    static const uint8_t mon[] = { 0x0E, 0xB4, 0, 0, 0, 0, 0x91, 0, 0xB4, 7, 0, 0, 0, 0x91, 1,
                                   0xB4, 20, 0, 0, 0, 0x91, 0, 0x0F };
    static const uint8_t sun[] = { 0x0E, 0xB4, 0, 0, 0, 0, 0x91, 0, 0x0F };

    REQUIRE(parse_sched(WEEK, &cs) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, -1, 1400, 1400, &p) == 0);
    ssize_t n = sb_nsched_enc_week(&p, buf, sizeof(buf));
    CHECK_EQ(n, sb_nsched_enc_week(&p, NULL, 0));                  /* NULL computes the length */
    CHECK_EQ(n, 5 * sizeof(mon) + sizeof(mon) + sizeof(sun));      /* saturday is as long as monday */
    CHECK(memcmp(buf, mon, sizeof(mon)) == 0);
    CHECK(memcmp(buf + n - sizeof(sun), sun, sizeof(sun)) == 0);
    CHECK_EQ(sb_nsched_enc_week(&p, buf, 40), SB_ENOSPC);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

/* Exception days, holidays and the calendar, as bytes:
 *   BACnetSpecialEvent date: [0]{ [0] Date } [2]{ time-values } [3] priority
 *   calendarReference [1] BACnetObjectIdentifier (Calendar = type 6)
 *   Date_List: [0] Date / [1]{ Date Date } (a range) */
TEST(exceptions_holidays_calendar_bytes)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p;
    uint8_t buf[1400];
    const char *doc = "{\"week\":{\"mon-fri\":[{\"time\":\"07:00-18:00\"}]},"
                      "\"holidays\":[\"2026-12-25\",\"2026-12-26\",\"2026-12-27\",\"2027-01-01\",\"2026-05-01\"],"
                      "\"exceptions\":[{\"date\":\"2026-12-24\",\"periods\":[{\"time\":\"07:00-12:00\"}]},"
                      "{\"date\":\"2026-05-30\",\"periods\":\"closed\"}]}";
    /* 2026-12-24 is a Thursday (4); 126 = 2026 - 1900 */
    static const uint8_t exc[] = { 0x0E, 0x0C, 126, 12, 24, 4, 0x0F,
                                   0x2E, 0xB4, 0, 0, 0, 0, 0x91, 0, 0xB4, 7, 0, 0, 0, 0x91, 1,
                                   0xB4, 12, 0, 0, 0, 0x91, 0, 0x2F, 0x39, 10 };
    static const uint8_t ref[] = { 0x1C, 0x01, 0x80, 0x00, 0x03, 0x2E, 0xB4, 0, 0, 0, 0, 0x91, 0, 0x2F,
                                   0x39, 11 };
    static const uint8_t dates[] = { 0x1E, 0xA4, 126, 12, 25, 5, 0xA4, 126, 12, 27, 7, 0x1F,
                                     0x0C, 127, 1, 1, 5 };

    REQUIRE(parse_sched(doc, &cs) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    /* with calendar:3: one entry refers to it, the dates go to its Date_List */
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, 3, 1400, 1400, &p) == 0);
    CHECK_EQ(p.n_exc, 2);                 /* the reference + 12-24 (05-30 and 05-01 are past) */
    CHECK_EQ(p.n_dates, 2);               /* 12-25..12-27 as one range, 01-01 */
    ssize_t n = sb_nsched_enc_exc(&p, buf, sizeof(buf));
    CHECK_EQ(n, sizeof(ref) + sizeof(exc));
    CHECK(memcmp(buf, ref, sizeof(ref)) == 0);
    CHECK(memcmp(buf + sizeof(ref), exc, sizeof(exc)) == 0);
    n = sb_nsched_enc_dates(&p, buf, sizeof(buf));
    CHECK_EQ(n, sizeof(dates));
    CHECK(memcmp(buf, dates, sizeof(dates)) == 0);
    sb_nprog_release(&p);
    /* without a calendar: the holidays are special events of their own,
     * by date, after 12-24's exception */
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, -1, 1400, 1400, &p) == 0);
    REQUIRE(p.n_exc == 3);
    CHECK_EQ(p.n_dates, 0);
    CHECK_EQ(p.exc[0].kind, SB_NENT_DATE);
    CHECK_EQ(p.exc[0].priority, SB_NSCHED_PRIO_EXC);
    CHECK_EQ(p.exc[1].kind, SB_NENT_RANGE);
    CHECK_EQ(p.exc[1].from, day_of(2026, 12, 25));
    CHECK_EQ(p.exc[1].to, day_of(2026, 12, 27));
    CHECK_EQ(p.exc[1].priority, SB_NSCHED_PRIO_HOL);
    check_day(&p.exc[1].d, (const double[]){ 0, 0 }, 1);          /* the holiday day type: closed */
    CHECK_EQ(p.exc[2].from, day_of(2027, 1, 1));
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

/* ---- round trips ----------------------------------------------------------------------------- */

static const char *FULL = "{\"week\":{\"mon-thu\":[{\"time\":\"06:30-12:00\"},{\"time\":\"12:00-13:00\",\"mode\":\"standby\"},"
                          "{\"time\":\"13:00-19:00\"}],\"fri\":[{\"time\":\"07:00-15:00\"}],\"sat\":[{\"time\":\"00:00-02:00\"},"
                          "{\"time\":\"22:00-24:00\"}],\"sun\":\"closed\"},"
                          "\"holiday\":[{\"time\":\"10:00-14:00\"}],"
                          "\"holidays\":[\"2026-07-03\",\"2026-07-10\",\"2026-09-07\",\"2026-09-08\",\"2026-11-26\"],"
                          "\"exceptions\":[{\"date\":\"2026-06-12\",\"periods\":[{\"time\":\"07:00-11:00\"}]},"
                          "{\"date\":\"2026-06-19\",\"periods\":\"closed\"},"
                          "{\"date\":\"2026-07-03\",\"periods\":[{\"time\":\"08:00-09:00\",\"mode\":\"standby\"}]}]}";

static void round_trip(int64_t cal)
{
    struct sb_csched cs, back;
    struct sb_nvalues ms;
    struct sb_nprog p, dev;
    uint8_t w[2000], x[2000], d[2000];
    char why[256], *a = NULL, *b = NULL;

    REQUIRE(parse_sched(FULL, &cs) == 0);
    sb_nvalues_for(SB_BAC_UNSIGNED, &ms);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &ms, cal, 1400, 1400, &p) == 0);
    ssize_t nw = sb_nsched_enc_week(&p, w, sizeof(w)), nx = sb_nsched_enc_exc(&p, x, sizeof(x)),
            nd = sb_nsched_enc_dates(&p, d, sizeof(d));
    REQUIRE(nw > 0 && nx > 0 && nd >= 0);
    sb_nprog_init(&dev);
    CHECK_EQ(sb_nsched_dec_week(w, (size_t)nw, &dev), 0);
    CHECK_EQ(sb_nsched_dec_exc(x, (size_t)nx, &dev), 0);
    CHECK_EQ(sb_nsched_dec_dates(d, (size_t)nd, &dev), 0);
    CHECK_EQ(sb_nsched_diff(&p, &dev, SB_NPART_WEEK | SB_NPART_EXC | SB_NPART_DATES, why, sizeof(why)), 0);
    CHECK_STR(why, "");
    /* back: the device's program read as a control schedule is the zone's */
    sb_csched_init(&back, NULL);
    CHECK_EQ(sb_nsched_to_csched(&dev, &ms, cal, &back, why, sizeof(why)), 0);
    if (why[0])
        TAP_FAIL("to_csched: %s", why);
    sb_csched_to_json(&cs, &a);
    sb_csched_to_json(&back, &b);
    REQUIRE(a && b);
    if (strcmp(a, b) != 0)
        TAP_FAIL("round trip differs:\n%s\n---\n%s", a, b);
    free(a);
    free(b);
    sb_csched_release(&back);
    sb_nprog_release(&dev);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

TEST(round_trip_through_the_codec_with_calendar)
{
    round_trip(1);
}

TEST(round_trip_through_the_codec_without_calendar)
{
    round_trip(-1);
}

/* ---- a device evaluates the program as sbems does ------------------------------------------- */

static int value_is_occupied(const struct sb_bac_value *v)
{
    return v->type == SB_BAC_ENUMERATED && v->v.enumerated == 1;
}

TEST(device_evaluates_like_sbems)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p;
    struct sb_bac_srv *srv;
    struct sb_bac_srv_cfg dc = { .instance = 2101, .name = "VAV", .vendor_id = 2 };
    struct sb_bac_srv_sched_cfg sc = { .instance = 1, .name = "Occupancy Schedule",
                                       .dflt = { .type = SB_BAC_ENUMERATED, .v.enumerated = 0 } };
    const struct sb_tz *tz = sb_tz_get("America/New_York");
    uint8_t w[2000], x[2000], d[2000];
    int64_t t0 = (day_of(2026, 6, 1) * 86400 + 4 * 3600) * 1000LL;   /* local midnight, EDT */
    int checked = 0, occ = 0, bad = 0;

    REQUIRE(tz);
    REQUIRE(parse_sched(FULL, &cs) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, 1, 1400, 1400, &p) == 0);
    REQUIRE(sb_bac_srv_new(&dc, t0, &srv) == 0);
    REQUIRE(sb_bac_srv_add_schedule(srv, &sc) == 0);
    REQUIRE(sb_bac_srv_add_calendar(srv, 1, "Holidays", NULL) == 0);
    ssize_t nw = sb_nsched_enc_week(&p, w, sizeof(w)), nx = sb_nsched_enc_exc(&p, x, sizeof(x)),
            nd = sb_nsched_enc_dates(&p, d, sizeof(d));
    CHECK_EQ(sb_bac_srv_write(srv, (struct sb_bac_oid){ SB_BAC_OBJ_SCHEDULE, 1 }, SB_BAC_P_WEEKLY_SCHEDULE, false, 0,
                              w, (size_t)nw, 0, t0, NULL), 0);
    CHECK_EQ(sb_bac_srv_write(srv, (struct sb_bac_oid){ SB_BAC_OBJ_SCHEDULE, 1 }, SB_BAC_P_EXCEPTION_SCHEDULE, false,
                              0, x, (size_t)nx, 0, t0, NULL), 0);
    CHECK_EQ(sb_bac_srv_write(srv, (struct sb_bac_oid){ SB_BAC_OBJ_CALENDAR, 1 }, SB_BAC_P_DATE_LIST, false, 0, d,
                              (size_t)nd, 0, t0, NULL), 0);
    /* every quarter hour of June and July 2026 (no DST change in it): the
     * device's Present_Value is occupied exactly when sbems's schedule
     * is occupied or in standby (a binary schedule), exception days, the
     * holiday of 07-10 (its day type 10:00-14:00) and 07-03 (an exception
     * too: it wins) included */
    for (int64_t t = t0; t < t0 + 61 * 86400000LL; t += 900000) {
        struct sb_csched_state st;
        struct sb_bac_datetime dt;
        struct sb_bac_value v;
        REQUIRE(sb_csched_at(&cs, tz, t, &st) == 0);
        REQUIRE(sb_bac_dt_from_unix(t, sb_tz_offset(tz, t / 1000) / 60, &dt) == 0);
        REQUIRE(sb_bac_srv_sched_eval(srv, 1, &dt, &v) == 0);
        int want = st.mode != SB_CMODE_UNOCCUPIED;
        checked++;
        occ += want;
        if (want != value_is_occupied(&v) && bad++ < 5)
            TAP_FAIL("%04u-%02u-%02u %02u:%02u: sbems %s, the device %u", 1900 + dt.date.year, dt.date.month,
                     dt.date.day, dt.time.hour, dt.time.min, sb_cmode_name(st.mode), v.v.enumerated);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(checked, 61 * 96);
    CHECK(occ > 1000 && occ < checked / 2);
    printf("# %d quarter hours compared, %d occupied, %d differ\n", checked, occ, bad);
    sb_bac_srv_free(srv);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

/* ---- limits and differences ---------------------------------------------------------------- */

TEST(budget_keeps_the_nearest_dates)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p;
    struct sb_cday day = { .n = 1, .p = { { .start = 420, .end = 720, .mode = SB_CMODE_OCCUPIED } } };
    int64_t today = day_of(2026, 6, 1);

    sb_csched_init(&cs, NULL);
    for (int i = -5; i < 300; i += 3)
        REQUIRE(sb_csched_set_exception(&cs, today + i, &day) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    REQUIRE(sb_nsched_build(&cs, today, &bin, -1, 480, 480, &p) == 0);
    CHECK_EQ(p.exc_wanted, 100);          /* today+1 .. today+298: past ones never count */
    CHECK(p.n_exc > 5 && p.n_exc < p.exc_wanted);
    CHECK(sb_nsched_enc_exc(&p, NULL, 0) <= 480);
    CHECK_EQ(p.exc[0].from, today + 1);   /* the nearest first */
    for (size_t i = 1; i < p.n_exc; i++)
        CHECK_EQ(p.exc[i].from, p.exc[i - 1].from + 3);
    printf("# 480 bytes hold %zu of %zu exception days\n", p.n_exc, p.exc_wanted);
    sb_nprog_release(&p);
    /* more than a year ahead is not written */
    sb_csched_release(&cs);
    sb_csched_init(&cs, NULL);
    REQUIRE(sb_csched_set_exception(&cs, today + SB_NSCHED_HORIZON_DAYS, &day) == 0);
    REQUIRE(sb_nsched_build(&cs, today, &bin, -1, 1400, 1400, &p) == 0);
    CHECK_EQ(p.n_exc, 0);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

TEST(differences_are_found_and_named)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p, dev;
    uint8_t w[2000], x[2000];
    char why[256];

    REQUIRE(parse_sched(FULL, &cs) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, -1, 1400, 1400, &p) == 0);
    ssize_t nw = sb_nsched_enc_week(&p, w, sizeof(w)), nx = sb_nsched_enc_exc(&p, x, sizeof(x));
    /* someone moved Tuesday's start to 08:00 at the device */
    struct sb_nprog other;
    sb_nprog_init(&other);
    other.type = p.type;
    memcpy(other.week, p.week, sizeof(p.week));
    other.week[1].tv[1].min = 480;
    uint8_t ow[2000];
    ssize_t no2 = sb_nsched_enc_week(&other, ow, sizeof(ow));
    sb_nprog_init(&dev);
    REQUIRE(sb_nsched_dec_week(ow, (size_t)no2, &dev) == 0);
    REQUIRE(sb_nsched_dec_exc(x, (size_t)nx, &dev) == 0);
    CHECK_EQ(sb_nsched_diff(&p, &dev, SB_NPART_WEEK | SB_NPART_EXC, why, sizeof(why)), SB_NPART_WEEK);
    CHECK(strstr(why, "weekly-schedule: tuesday") && strstr(why, "08:00 1"));
    sb_nprog_release(&dev);
    /* an entry missing from the device's Exception_Schedule */
    sb_nprog_init(&dev);
    REQUIRE(sb_nsched_dec_week(w, (size_t)nw, &dev) == 0);
    REQUIRE(sb_nsched_dec_exc(x, (size_t)nx - 1, &dev) == SB_EPROTO);   /* a cut value is no value */
    sb_nprog_release(&dev);
    sb_nprog_init(&dev);
    REQUIRE(sb_nsched_dec_week(w, (size_t)nw, &dev) == 0);
    CHECK_EQ(sb_nsched_diff(&p, &dev, SB_NPART_WEEK | SB_NPART_EXC, why, sizeof(why)), SB_NPART_EXC);
    CHECK(strstr(why, "exception-schedule[1]: sbems 2026-06-12; the device none") != NULL);
    /* a WeekNDay entry (every Monday of June) is nothing sbems writes */
    struct sb_bac_special se = { .entry = { .kind = SB_BAC_CAL_WEEKNDAY, .wnd = { 6, 255, 1 } }, .priority = 5 };
    uint8_t wnd[64];
    ssize_t k = sb_bac_enc_special(wnd, sizeof(wnd), &se);
    REQUIRE(k > 0);
    REQUIRE(sb_nsched_dec_exc(wnd, (size_t)k, &dev) == 0);
    CHECK(dev.odd[1] & SB_NODD_ENTRY);
    CHECK_EQ(sb_nsched_diff(&p, &dev, SB_NPART_EXC, why, sizeof(why)), SB_NPART_EXC);
    CHECK(strstr(why, "week-and-day") != NULL);
    sb_nprog_release(&dev);
    /* the same times as REAL values: another datatype is another program */
    sb_nprog_init(&dev);
    struct sb_nprog real = p;
    real.type = SB_BAC_REAL;
    real.exc = NULL;
    real.n_exc = 0;
    ssize_t nr = sb_nsched_enc_week(&real, ow, sizeof(ow));
    REQUIRE(sb_nsched_dec_week(ow, (size_t)nr, &dev) == 0);
    CHECK_EQ(sb_nsched_diff(&p, &dev, SB_NPART_WEEK, why, sizeof(why)), SB_NPART_WEEK);
    CHECK(strstr(why, "datatype") != NULL);
    sb_nprog_release(&dev);
    /* the device's redundant entries (a repeated value, two at one time)
     * are the same program */
    struct sb_bac_timevalue tv[4] = {
        { { 0, 0, 0, 0 }, { .type = SB_BAC_ENUMERATED, .v.enumerated = 0 } },
        { { 3, 0, 0, 0 }, { .type = SB_BAC_ENUMERATED, .v.enumerated = 0 } },
        { { 7, 0, 0, 0 }, { .type = SB_BAC_ENUMERATED, .v.enumerated = 0 } },
        { { 7, 0, 0, 0 }, { .type = SB_BAC_ENUMERATED, .v.enumerated = 1 } } };
    uint8_t one[128];
    ssize_t k1 = sb_bac_enc_daily(one, sizeof(one), tv, 4);
    struct sb_nday nd;
    sb_nprog_init(&dev);
    size_t off = 0;
    for (int i = 0; i < 7; i++) {
        memcpy(ow + off, one, (size_t)k1);
        off += (size_t)k1;
    }
    REQUIRE(sb_nsched_dec_week(ow, off, &dev) == 0);
    nd = dev.week[0];
    check_day(&nd, (const double[]){ 0, 0, 420, 1 }, 2);
    sb_nprog_release(&dev);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

TEST(json_view)
{
    struct sb_csched cs;
    struct sb_nvalues bin;
    struct sb_nprog p;

    REQUIRE(parse_sched(FULL, &cs) == 0);
    sb_nvalues_for(SB_BAC_ENUMERATED, &bin);
    REQUIRE(sb_nsched_build(&cs, day_of(2026, 6, 1), &bin, 2, 1400, 1400, &p) == 0);
    json_t *j = sb_nsched_json(&p);
    json_t *mon = json_object_get(json_object_get(j, "weekly"), "monday");
    CHECK_EQ(json_array_size(mon), 3);    /* 00:00 0, 06:30 1, 19:00 0 (standby is active too) */
    CHECK_STR(json_string_value(json_object_get(json_array_get(mon, 1), "time")), "06:30");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "exceptions"), 0), "calendar")),
              "calendar:2");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "dates"), 2), "from")), "2026-09-07");
    json_decref(j);
    sb_nprog_release(&p);
    sb_csched_release(&cs);
}

int main(void)
{
    TAP_START();
    RUN(settings_native_fields_round_trip);
    RUN(settings_native_refused_with_the_field);
    RUN(weekly_program_as_time_values);
    RUN(weekly_schedule_bytes);
    RUN(exceptions_holidays_calendar_bytes);
    RUN(round_trip_through_the_codec_with_calendar);
    RUN(round_trip_through_the_codec_without_calendar);
    RUN(device_evaluates_like_sbems);
    RUN(budget_keeps_the_nearest_dates);
    RUN(differences_are_found_and_named);
    RUN(json_view);
    TAP_END();
}

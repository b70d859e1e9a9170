/*
 * test_alert_rule.c - alert rules (src/alerts/rule.c): parsing with a
 * message naming each bad field, the canonical JSON round trip, and the
 * state machine of every rule type on hand-built sequences at the edges
 * (the arithmetic is in the comments), then an invariant over random
 * sequences: events alternate RAISE / CLEAR and never go back in time.
 */
#include <stdint.h>

#include "alerts/rule.h"
#include "core/err.h"
#include "store/sample.h"
#include "tap.h"

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)

/* 2026-01-05T00:00:00Z (date -u -d @1767571200) */
#define T0 (1767571200LL * SEC)

static int parse(const char *json, struct sb_arule *r, char *err, size_t errlen)
{
    return sb_arule_parse(json, strlen(json), r, err, errlen);
}

/* Parses a rule the test relies on; a failure prints the message. */
static int must_parse(const char *json, struct sb_arule *r)
{
    char err[256] = "";
    int rc = parse(json, r, err, sizeof err);

    if (rc != 0)
        TAP_FAIL("rule refused (%d): %s", rc, err);
    return rc == 0;
}

static int feed(const struct sb_arule *r, struct sb_arule_state *s, int64_t t, double v,
                struct sb_arule_event *ev)
{
    return sb_arule_feed(r, s, t, v, 0, NULL, ev);
}

static int tick(const struct sb_arule *r, struct sb_arule_state *s, int64_t now,
                struct sb_arule_event *ev)
{
    return sb_arule_tick(r, s, now, NULL, ev);
}

/* ------------------------------------------------------------------------ */
/* parsing                                                                  */

#define EXAMPLE                                                                              \
    "{\"id\":\"ahu-1-sat-high\",\"name\":\"AHU-1 discharge air too warm\",\"type\":"         \
    "\"threshold\",\"point\":\"ahu-1.discharge-air-temp\",\"severity\":\"major\","           \
    "\"above\":16.0,\"below\":null,\"hysteresis\":0.5,\"on_delay_s\":300,\"off_delay_s\":120," \
    "\"enabled\":true,\"message\":\"Discharge air {value} above {above}\"}"

TEST(parse_design_example)
{
    struct sb_arule r;

    REQUIRE(must_parse(EXAMPLE, &r));
    CHECK_STR(r.id, "ahu-1-sat-high");
    CHECK_STR(r.name, "AHU-1 discharge air too warm");
    CHECK_EQ(r.type, SB_ART_THRESHOLD);
    CHECK_EQ(r.severity, SB_ARS_MAJOR);
    CHECK_STR(r.target, "ahu-1.discharge-air-temp");
    CHECK(r.has_above && !r.has_below);
    CHECK_DBL(r.above, 16.0, 0);
    CHECK_DBL(r.hysteresis, 0.5, 0);
    CHECK_EQ(r.on_delay_s, 300);
    CHECK_EQ(r.off_delay_s, 120);
    CHECK(r.enabled);
    CHECK(r.auto_resolve);      /* default for threshold */
    CHECK_STR(r.building, "");
    CHECK_STR(r.message, "Discharge air {value} above {above}");
}

TEST(parse_defaults)
{
    struct sb_arule r;

    REQUIRE(must_parse("{\"id\":\"c\",\"name\":\"Zone comfort\",\"type\":\"comfort\","
                       "\"zone\":\"z-1\",\"severity\":\"minor\"}", &r));
    CHECK_EQ(r.window_s, 86400);
    CHECK_DBL(r.kh_limit, 2.0, 0);
    CHECK(r.enabled);
    CHECK(!r.auto_resolve);     /* comfort: a spent budget is worth a look */
    REQUIRE(must_parse("{\"id\":\"r\",\"name\":\"Rise\",\"type\":\"rate\",\"point\":\"p\","
                       "\"severity\":\"info\",\"max_fall\":3,\"per_s\":600}", &r));
    CHECK(!r.auto_resolve);
    CHECK(!r.has_rise && r.has_fall);
    CHECK_EQ(r.on_delay_s, 0);
    REQUIRE(must_parse("{\"id\":\"o\",\"name\":\"Off\",\"type\":\"offline\",\"equipment\":\"ahu-1\","
                       "\"severity\":\"critical\",\"enabled\":false,\"auto_resolve\":false,"
                       "\"building\":\"hq\",\"template\":\"ahu-basic\"}", &r));
    CHECK(!r.enabled && !r.auto_resolve);
    CHECK_STR(r.building, "hq");
    CHECK_STR(r.template_id, "ahu-basic");
    /* the limits themselves are allowed: 7 days, 120 characters */
    REQUIRE(must_parse("{\"id\":\"s\",\"name\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\","
                       "\"type\":\"stale\",\"point\":\"p\",\"severity\":\"info\",\"after_s\":604800}",
                       &r));
    CHECK_EQ(strlen(r.name), 120);
    CHECK_EQ(r.after_s, 604800);
    /* schedule: running above 0.5 (a binary status), auto-resolves, no delay */
    REQUIRE(must_parse("{\"id\":\"f\",\"name\":\"Fan\",\"type\":\"schedule\",\"point\":"
                       "\"ahu-1.sf-status\",\"severity\":\"minor\"}", &r));
    CHECK_EQ(r.type, SB_ART_SCHEDULE);
    CHECK_STR(r.target, "ahu-1.sf-status");
    CHECK_DBL(r.running_above, 0.5, 0);
    CHECK_EQ(r.on_delay_s, 0);
    CHECK(r.auto_resolve);
    /* forecast: 2 hours above, a human look after it clears */
    REQUIRE(must_parse("{\"id\":\"d\",\"name\":\"Dev\",\"type\":\"forecast\",\"point\":"
                       "\"meter-main.power\",\"severity\":\"major\"}", &r));
    CHECK_EQ(r.type, SB_ART_FORECAST);
    CHECK_EQ(r.hours, 2);
    CHECK_EQ(r.direction, SB_ARD_ABOVE);
    CHECK(!r.auto_resolve);
    REQUIRE(must_parse("{\"id\":\"d\",\"name\":\"Dev\",\"type\":\"forecast\",\"point\":"
                       "\"m\",\"severity\":\"major\",\"hours\":72,\"direction\":\"both\"}", &r));
    CHECK_EQ(r.hours, 72);
    CHECK_EQ(r.direction, SB_ARD_BOTH);
    REQUIRE(must_parse("{\"id\":\"d\",\"name\":\"Dev\",\"type\":\"forecast\",\"point\":"
                       "\"m\",\"severity\":\"major\",\"hours\":1,\"direction\":\"below\"}", &r));
    CHECK_EQ(r.hours, 1);
    CHECK_EQ(r.direction, SB_ARD_BELOW);
    CHECK_STR(sb_arule_type_name(SB_ART_SCHEDULE), "schedule");
    CHECK_STR(sb_arule_type_name(SB_ART_FORECAST), "forecast");
    CHECK_STR(sb_arule_type_name((enum sb_arule_type)(SB_ART_FORECAST + 1)), "?");
    CHECK_STR(sb_arule_dir_name(SB_ARD_BOTH), "both");
    CHECK_STR(sb_arule_dir_name((enum sb_arule_dir)0), "?");
}

#define HEAD(type, target) \
    "\"id\":\"r1\",\"name\":\"R\",\"type\":\"" type "\",\"severity\":\"minor\"," target
#define THR  HEAD("threshold", "\"point\":\"p1\"")
#define RATE HEAD("rate", "\"point\":\"p1\"")
#define STL  HEAD("stale", "\"point\":\"p1\"")
#define OFFL HEAD("offline", "\"equipment\":\"e1\"")
#define CMF  HEAD("comfort", "\"zone\":\"z1\"")
#define SCH  HEAD("schedule", "\"point\":\"p1\"")
#define FCR  HEAD("forecast", "\"point\":\"p1\"")

/* 121 and 201 characters */
#define X10  "xxxxxxxxxx"
#define X121 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10 "x"
#define X201 X121 X10 X10 X10 X10 X10 X10 X10 X10

/* Each bad document and the field its message must start with. */
static const struct bad {
    const char *json;
    const char *field;
} bads[] = {
    { "{" THR ",\"above\":16,\"colour\":\"red\"}", "colour" },
    { "{" STL ",\"after_s\":60,\"hysteresis\":1}", "hysteresis" },
    { "{" OFFL ",\"point\":\"p1\"}", "point" },
    { "{\"name\":\"R\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\",\"after_s\":60}", "id" },
    { "{\"id\":\"AHU 1\",\"name\":\"R\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\","
      "\"after_s\":60}", "id" },
    { "{\"id\":\"" X10 X10 X10 X10 X10 X10 "xxxx\",\"name\":\"R\",\"type\":\"stale\",\"severity\":"
      "\"minor\",\"point\":\"p\",\"after_s\":60}", "id" },      /* 64 bytes */
    { "{\"id\":7,\"name\":\"R\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\","
      "\"after_s\":60}", "id" },
    { "{\"id\":\"r\",\"name\":\"\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\","
      "\"after_s\":60}", "name" },
    { "{\"id\":\"r\",\"name\":\"" X121 "\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\","
      "\"after_s\":60}", "name" },
    { "{\"id\":\"r\",\"name\":\"a\\nb\",\"type\":\"stale\",\"severity\":\"minor\",\"point\":\"p\","
      "\"after_s\":60}", "name" },
    { "{\"id\":\"r\",\"name\":\"R\",\"severity\":\"minor\",\"point\":\"p\",\"after_s\":60}", "type" },
    { "{\"id\":\"r\",\"name\":\"R\",\"type\":\"flood\",\"severity\":\"minor\"}", "type" },
    { "{\"id\":\"r\",\"name\":\"R\",\"type\":\"stale\",\"severity\":\"urgent\",\"point\":\"p\","
      "\"after_s\":60}", "severity" },
    { "{\"id\":\"r\",\"name\":\"R\",\"type\":\"stale\",\"point\":\"p\",\"after_s\":60}", "severity" },
    { "{" HEAD("threshold", "\"above\":1") "}", "point" },
    { "{" HEAD("threshold", "\"point\":\"-p\"") ",\"above\":1}", "point" },
    { "{" HEAD("offline", "\"on_delay_s\":1") "}", "equipment" },
    { "{" HEAD("comfort", "\"kh_limit\":1") "}", "zone" },
    { "{" THR ",\"above\":\"16\"}", "above" },
    { "{" THR ",\"above\":10,\"below\":12}", "above" },
    { "{" THR ",\"above\":10,\"below\":10}", "above" },
    { "{" THR ",\"above\":null,\"below\":null}", "above" },
    { "{" THR ",\"below\":true}", "below" },
    { "{" THR ",\"above\":16,\"hysteresis\":-0.5}", "hysteresis" },
    { "{" THR ",\"above\":16,\"hysteresis\":null}", "hysteresis" },
    { "{" THR ",\"above\":20,\"below\":10,\"hysteresis\":5.5}", "hysteresis" },
    { "{" THR ",\"above\":16,\"on_delay_s\":-1}", "on_delay_s" },
    { "{" THR ",\"above\":16,\"on_delay_s\":604801}", "on_delay_s" },
    { "{" THR ",\"above\":16,\"on_delay_s\":1.5}", "on_delay_s" },
    { "{" THR ",\"above\":16,\"off_delay_s\":\"60\"}", "off_delay_s" },
    { "{" RATE ",\"max_rise\":0,\"per_s\":600}", "max_rise" },
    { "{" RATE ",\"max_fall\":-2,\"per_s\":600}", "max_fall" },
    { "{" RATE ",\"max_fall\":-0.0,\"per_s\":600}", "max_fall" },
    { "{" RATE ",\"per_s\":600}", "max_rise" },
    { "{" RATE ",\"max_rise\":2}", "per_s" },
    { "{" RATE ",\"max_rise\":2,\"per_s\":0}", "per_s" },
    { "{" STL "}", "after_s" },
    { "{" STL ",\"after_s\":700000}", "after_s" },
    { "{" STL ",\"after_s\":60,\"on_delay_s\":5}", "on_delay_s" },
    { "{" CMF ",\"window_s\":0}", "window_s" },
    { "{" CMF ",\"kh_limit\":-1}", "kh_limit" },
    { "{" CMF ",\"kh_limit\":0}", "kh_limit" },
    { "{" OFFL ",\"enabled\":\"yes\"}", "enabled" },
    { "{" OFFL ",\"auto_resolve\":1}", "auto_resolve" },
    { "{" OFFL ",\"building\":\"Head Office\"}", "building" },
    { "{" OFFL ",\"template\":5}", "template" },
    { "{" OFFL ",\"message\":\"" X201 "\"}", "message" },
    { "{" OFFL ",\"message\":\"bell\\u0007\"}", "message" },
    { "{" OFFL ",\"id\\u0000x\":1}", "rule" },        /* jansson refuses NUL in keys */
    { "{" OFFL ",\"equipment\":\"e2\"}", "rule" },     /* duplicate key */
    { "{" OFFL "} x", "rule" },
    { "[1,2]", "rule" },
    { "", "rule" },
    { "{" THR ",\"above\":1e400}", "rule" },            /* jansson: real number overflow */
    { "{" HEAD("schedule", "\"running_above\":1") "}", "point" },
    { "{" HEAD("schedule", "\"equipment\":\"e1\"") "}", "equipment" },
    { "{" SCH ",\"running_above\":\"1\"}", "running_above" },
    { "{" SCH ",\"running_above\":null}", "running_above" },
    { "{" SCH ",\"above\":1}", "above" },
    { "{" SCH ",\"on_delay_s\":604801}", "on_delay_s" },
    { "{" SCH ",\"hours\":2}", "hours" },
    { "{" HEAD("forecast", "\"zone\":\"z1\"") "}", "zone" },
    { "{" HEAD("forecast", "\"hours\":2") "}", "point" },
    { "{" FCR ",\"hours\":0}", "hours" },
    { "{" FCR ",\"hours\":73}", "hours" },
    { "{" FCR ",\"hours\":2.5}", "hours" },
    { "{" FCR ",\"hours\":\"2\"}", "hours" },
    { "{" FCR ",\"direction\":\"up\"}", "direction" },
    { "{" FCR ",\"direction\":\"Above\"}", "direction" },
    { "{" FCR ",\"direction\":null}", "direction" },
    { "{" FCR ",\"on_delay_s\":60}", "on_delay_s" },
    { "{" FCR ",\"running_above\":1}", "running_above" },
    { "{" CMF ",\"direction\":\"above\"}", "direction" },
};

TEST(parse_errors_name_the_field)
{
    for (size_t i = 0; i < sizeof bads / sizeof bads[0]; i++) {
        struct sb_arule r;
        char err[256] = "";
        int rc = parse(bads[i].json, &r, err, sizeof err);
        size_t n = strlen(bads[i].field);

        if (rc != SB_EINVAL || strncmp(err, bads[i].field, n) != 0 || err[n] != ':')
            TAP_FAIL("case %zu %s: rc %d, err \"%s\", expected field \"%s\"", i, bads[i].json, rc,
                     err, bads[i].field);
        CHECK_STR(r.id, "");    /* *out is zeroed on failure */
    }
}

TEST(parse_limits_and_nulls)
{
    struct sb_arule r;
    char err[128];

    CHECK_EQ(sb_arule_parse(NULL, 0, &r, err, sizeof err), SB_EINVAL);
    CHECK_EQ(sb_arule_parse("{}", 2, NULL, err, sizeof err), SB_EINVAL);
    CHECK_EQ(sb_arule_parse("{}", SB_ARULE_JSON_MAX + 1, &r, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "65536") != NULL);
    CHECK_EQ(sb_arule_parse("{\"type\":\"stale\"}", 16, &r, NULL, 0), SB_EINVAL); /* err NULL */
    /* "" and null both mean "not set" for the optional strings */
    REQUIRE(must_parse("{" OFFL ",\"message\":\"\",\"building\":null,\"template\":\"\"}", &r));
    CHECK_STR(r.message, "");
    CHECK_STR(r.template_id, "");
}

/* ------------------------------------------------------------------------ */
/* canonical JSON                                                           */

TEST(json_canonical_text)
{
    struct sb_arule r;
    char *j;

    REQUIRE(must_parse(EXAMPLE, &r));
    j = sb_arule_to_json(&r);
    REQUIRE(j);
    CHECK_STR(j, "{\"id\":\"ahu-1-sat-high\",\"name\":\"AHU-1 discharge air too warm\","
                 "\"type\":\"threshold\",\"point\":\"ahu-1.discharge-air-temp\","
                 "\"severity\":\"major\",\"above\":16.0,\"below\":null,\"hysteresis\":0.5,"
                 "\"on_delay_s\":300,\"off_delay_s\":120,\"enabled\":true,"
                 "\"auto_resolve\":true,\"building\":null,\"template\":null,"
                 "\"message\":\"Discharge air {value} above {above}\"}");
    free(j);
    CHECK(sb_arule_to_json(NULL) == NULL);
    REQUIRE(must_parse("{" SCH ",\"running_above\":2,\"on_delay_s\":900}", &r));
    j = sb_arule_to_json(&r);
    REQUIRE(j);
    CHECK_STR(j, "{\"id\":\"r1\",\"name\":\"R\",\"type\":\"schedule\",\"point\":\"p1\","
                 "\"severity\":\"minor\",\"running_above\":2.0,\"on_delay_s\":900,"
                 "\"off_delay_s\":0,\"enabled\":true,\"auto_resolve\":true,\"building\":null,"
                 "\"template\":null,\"message\":null}");
    free(j);
    REQUIRE(must_parse("{" FCR "}", &r));
    j = sb_arule_to_json(&r);
    REQUIRE(j);
    CHECK_STR(j, "{\"id\":\"r1\",\"name\":\"R\",\"type\":\"forecast\",\"point\":\"p1\","
                 "\"severity\":\"minor\",\"hours\":2,\"direction\":\"above\",\"enabled\":true,"
                 "\"auto_resolve\":false,\"building\":null,\"template\":null,\"message\":null}");
    free(j);
}

static const char *const goods[] = {
    EXAMPLE,
    "{\"id\":\"q\",\"type\":\"threshold\",\"point\":\"p\",\"severity\":\"info\",\"below\":0.1,"
    "\"above\":1e21,\"hysteresis\":0.30000000000000004,\"building\":\"hq\",\"name\":"
    "\"Quote \\\" back \\\\ slash \\u00e9t\\u00e9 \\ud83d\\ude00\"}",
    "{" RATE ",\"max_rise\":2,\"max_fall\":1e-300,\"per_s\":600,\"on_delay_s\":60}",
    "{" RATE ",\"max_fall\":1.5,\"per_s\":1,\"message\":\"{value} {point} {nope}\"}",
    "{" STL ",\"after_s\":900,\"auto_resolve\":false}",
    "{" OFFL ",\"on_delay_s\":300,\"off_delay_s\":60,\"template\":\"t-1\"}",
    "{" CMF ",\"window_s\":3600,\"kh_limit\":0.25,\"enabled\":false}",
    "{" THR ",\"below\":-40,\"above\":-39.9999999999999}",
    "{" SCH ",\"running_above\":-0.25,\"on_delay_s\":7200,\"off_delay_s\":60}",
    "{" SCH ",\"running_above\":1e-9,\"auto_resolve\":false,\"message\":\"{point} on\"}",
    "{" FCR ",\"hours\":72,\"direction\":\"both\",\"building\":\"hq\"}",
    "{" FCR ",\"hours\":1,\"direction\":\"below\",\"auto_resolve\":true}",
};

TEST(json_round_trip)
{
    for (size_t i = 0; i < sizeof goods / sizeof goods[0]; i++) {
        struct sb_arule a, b;
        char err[256] = "";
        char *ja, *jb;
        int rc = parse(goods[i], &a, err, sizeof err);

        if (rc != 0) {
            TAP_FAIL("case %zu refused: %s", i, err);
            continue;
        }
        ja = sb_arule_to_json(&a);
        REQUIRE(ja);
        rc = parse(ja, &b, err, sizeof err);
        if (rc != 0)
            TAP_FAIL("case %zu: own output refused: %s\n#   %s", i, err, ja);
        CHECK(sb_arule_equal(&a, &b));
        jb = sb_arule_to_json(&b);
        CHECK_STR(ja, jb);
        free(ja);
        free(jb);
    }
}

TEST(json_shortest_numbers)
{
    struct sb_arule r;
    char *j;

    REQUIRE(must_parse("{" THR ",\"above\":0.1,\"below\":-3,\"hysteresis\":1e-3}", &r));
    j = sb_arule_to_json(&r);
    REQUIRE(j);
    CHECK(strstr(j, "\"above\":0.1,") != NULL);
    CHECK(strstr(j, "\"below\":-3.0,") != NULL);
    CHECK(strstr(j, "\"hysteresis\":0.001,") != NULL);
    free(j);
}

TEST(rule_equal_sees_each_change)
{
    struct sb_arule a, b;

    REQUIRE(must_parse(EXAMPLE, &a));
    b = a;
    CHECK(sb_arule_equal(&a, &b));
    b.hysteresis = 0.25;
    CHECK(!sb_arule_equal(&a, &b));
    b = a;
    strcpy(b.message, "other");
    CHECK(!sb_arule_equal(&a, &b));
    b = a;
    b.has_below = true;
    CHECK(!sb_arule_equal(&a, &b));
    b = a;
    b.running_above = 0.5;
    CHECK(!sb_arule_equal(&a, &b));
    b = a;
    b.hours = 3;
    CHECK(!sb_arule_equal(&a, &b));
    b = a;
    b.direction = SB_ARD_BOTH;
    CHECK(!sb_arule_equal(&a, &b));
}

/* ------------------------------------------------------------------------ */
/* threshold                                                                */

#define SAT                                                                                   \
    "{\"id\":\"ahu-1-sat-high\",\"name\":\"AHU-1 discharge air\",\"type\":\"threshold\","     \
    "\"point\":\"ahu-1.discharge-air-temp\",\"severity\":\"major\",\"above\":16.0,"           \
    "\"hysteresis\":0.5,\"on_delay_s\":300,\"off_delay_s\":120}"

/* Fires at the first value above 16.0 (nextafter), exactly on_delay after
 * the condition began, not a millisecond before; 16.0 itself is not above. */
TEST(threshold_fires_at_the_edge)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev = { 0 };
    double up = nextafter(16.0, INFINITY);

    REQUIRE(must_parse(SAT, &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 16.0, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
    CHECK_EQ(tick(&r, &s, T0 + HOUR, &ev), SB_AR_NONE);     /* at the limit is fine */
    CHECK_EQ(feed(&r, &s, T0 + HOUR, up, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_PENDING_ON);
    CHECK_EQ(feed(&r, &s, T0 + HOUR + 5 * MIN - 1, 17.2, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + HOUR + 5 * MIN - 1, &ev), SB_AR_NONE);
    CHECK_EQ(ev.kind, 0);                                    /* untouched while NONE */
    CHECK_EQ(tick(&r, &s, T0 + HOUR + 5 * MIN, &ev), SB_AR_RAISE);
    CHECK_EQ(ev.kind, SB_AR_RAISE);
    CHECK_EQ(ev.t, T0 + HOUR + 5 * MIN);
    CHECK_EQ(ev.since, T0 + HOUR);
    CHECK_DBL(ev.value, 17.2, 0);
    CHECK_STR(ev.text, "AHU-1 discharge air: 17.2 above 16.0 for 5 min");
    CHECK_EQ(s.phase, SB_ARP_ACTIVE);
    CHECK_EQ(tick(&r, &s, T0 + 2 * HOUR, &ev), SB_AR_NONE);  /* raised once */
}

/* Active at 17; the clear level is 16.0 - 0.5 = 15.5.  15.6 and 15.5 + 1 ulp
 * are inside the limit but not by the margin: no clear however long. */
TEST(threshold_hysteresis_and_off_delay)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev = { 0 };
    int64_t t = T0;

    REQUIRE(must_parse(SAT, &r));
    sb_arule_state_init(&s);
    feed(&r, &s, t, 17.0, &ev);
    REQUIRE(tick(&r, &s, t += 5 * MIN, &ev) == SB_AR_RAISE);
    CHECK_EQ(feed(&r, &s, t += MIN, 15.6, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, t += MIN, nextafter(15.5, INFINITY), &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, t += 6 * HOUR, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_ACTIVE);
    /* exactly at the clear level: off_delay (120 s) starts */
    CHECK_EQ(feed(&r, &s, t += MIN, 15.5, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_PENDING_OFF);
    /* back into the hysteresis band before 120 s: still active, no event */
    CHECK_EQ(feed(&r, &s, t + 60 * SEC, 15.8, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_ACTIVE);
    t += 60 * SEC;
    CHECK_EQ(feed(&r, &s, t += SEC, 15.0, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, t + 2 * MIN - 1, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, t + 2 * MIN, &ev), SB_AR_CLEAR);
    CHECK_EQ(ev.since, t);
    CHECK_DBL(ev.value, 15.0, 0);
    CHECK_STR(ev.text, "AHU-1 discharge air: cleared, 15.0 back within limits");
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
}

/* Blips above 16 of 299.999 s each, with normal readings between, never
 * raise; the pending timer restarts with each blip. */
TEST(threshold_blip_never_raises)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    int64_t t = T0;
    int events = 0;

    REQUIRE(must_parse(SAT, &r));
    sb_arule_state_init(&s);
    for (int i = 0; i < 20; i++) {
        events += feed(&r, &s, t, 30.0, &ev) != SB_AR_NONE;
        events += tick(&r, &s, t + 299 * SEC, &ev) != SB_AR_NONE;
        events += feed(&r, &s, t + 5 * MIN - 1, 12.0, &ev) != SB_AR_NONE;
        events += tick(&r, &s, t + 10 * MIN, &ev) != SB_AR_NONE;
        t += 10 * MIN;
    }
    CHECK_EQ(events, 0);
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
}

/* Both limits, no delays: a reading beyond raises in the same call, and the
 * text names the side. */
TEST(threshold_below_and_zero_delays)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"z\",\"name\":\"Zone cold\",\"type\":\"threshold\",\"point\":\"z.t\","
                       "\"severity\":\"minor\",\"above\":26,\"below\":18,\"hysteresis\":1}", &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 18.0, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, T0 + MIN, 17.5, &ev), SB_AR_RAISE);
    CHECK_STR(ev.text, "Zone cold: 17.5 below 18.0");
    CHECK_EQ(feed(&r, &s, T0 + 2 * MIN, 18.5, &ev), SB_AR_NONE);   /* inside the margin */
    CHECK_EQ(feed(&r, &s, T0 + 3 * MIN, 19.0, &ev), SB_AR_CLEAR);  /* 18 + 1 */
    CHECK_EQ(feed(&r, &s, T0 + 4 * MIN, 26.5, &ev), SB_AR_RAISE);
    CHECK_STR(ev.text, "Zone cold: 26.5 above 26.0");
}

/* The condition held [T0, T0 + 300 s): the reading at T0 + 300 s that ends it
 * still raises (the delay ran out), and the clear it implies with
 * off_delay 0 comes with the next call at the same instant. */
TEST(threshold_one_event_per_call)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"a\",\"name\":\"A\",\"type\":\"threshold\",\"point\":\"p\","
                       "\"severity\":\"minor\",\"above\":16,\"on_delay_s\":300}", &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 17.0, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, T0 + 5 * MIN, 15.0, &ev), SB_AR_RAISE);
    CHECK_EQ(ev.since, T0);
    CHECK_EQ(s.phase, SB_ARP_PENDING_OFF);
    CHECK_EQ(tick(&r, &s, T0 + 5 * MIN, &ev), SB_AR_CLEAR);
    CHECK_EQ(tick(&r, &s, T0 + 6 * MIN, &ev), SB_AR_NONE);
}

TEST(ignored_inputs_are_counted)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"a\",\"name\":\"A\",\"type\":\"threshold\",\"point\":\"p\","
                       "\"severity\":\"minor\",\"above\":16}", &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0 + MIN, 10.0, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, T0, 99.0, &ev), SB_AR_NONE);              /* earlier: ignored */
    CHECK_EQ(feed(&r, &s, T0 + 2 * MIN, NAN, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, T0 + 2 * MIN, INFINITY, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 2 * MIN, 99.0, SB_Q_FAULT, NULL, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 2 * MIN, 99.0, SB_Q_STALE, NULL, &ev), SB_AR_NONE);
    CHECK_EQ(s.n_out_of_order, 1);
    CHECK_EQ(s.n_nan, 2);
    CHECK_EQ(s.n_quality, 2);
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
    /* an estimated value is a value */
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 3 * MIN, 99.0, SB_Q_ESTIMATED, NULL, &ev), SB_AR_RAISE);
    /* time never goes back in tick; an equal time is fine */
    CHECK_EQ(tick(&r, &s, T0 + MIN, &ev), SB_AR_NONE);
    CHECK_EQ(s.n_back_in_time, 1);
    CHECK_EQ(s.now, T0 + 3 * MIN);
    CHECK_EQ(tick(&r, &s, T0 + 3 * MIN, &ev), SB_AR_NONE);
    CHECK_EQ(s.n_back_in_time, 1);
    /* a reading at the same time as the last is in order */
    CHECK_EQ(feed(&r, &s, T0 + 3 * MIN, 10.0, &ev), SB_AR_CLEAR);
    CHECK_EQ(sb_arule_feed(NULL, &s, T0, 1, 0, NULL, &ev), SB_EINVAL);
    CHECK_EQ(sb_arule_tick(&r, NULL, T0, NULL, &ev), SB_EINVAL);
}

TEST(disabled_rule_is_silent)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"a\",\"name\":\"A\",\"type\":\"threshold\",\"point\":\"p\","
                       "\"severity\":\"minor\",\"above\":16,\"enabled\":false}", &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 99.0, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + DAY, &ev), SB_AR_NONE);
    CHECK_EQ(s.has_now, 0);
    r.enabled = true;
    CHECK_EQ(feed(&r, &s, T0, 99.0, NULL), SB_AR_RAISE);    /* ev may be NULL */
}

/* ------------------------------------------------------------------------ */
/* rate                                                                     */

#define RISE                                                                                  \
    "{\"id\":\"r\",\"name\":\"Fast rise\",\"type\":\"rate\",\"point\":\"p\",\"severity\":"    \
    "\"minor\",\"max_rise\":2,\"max_fall\":3,\"per_s\":600}"

/* +0.25 K a minute: after 8 min the rise within 600 s is 2.0 (not above
 * 2), after 9 min 2.25. */
TEST(rate_rise_over_window)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    int k = SB_AR_NONE, i;

    REQUIRE(must_parse(RISE, &r));
    sb_arule_state_init(&s);
    for (i = 0; i <= 8; i++)
        CHECK_EQ(feed(&r, &s, T0 + i * MIN, 20.0 + 0.25 * i, &ev), SB_AR_NONE);
    CHECK_DBL(s.chg, 2.0, 0);
    k = feed(&r, &s, T0 + 9 * MIN, 22.25, &ev);
    CHECK_EQ(k, SB_AR_RAISE);
    CHECK_DBL(ev.value, 2.25, 0);
    CHECK_STR(ev.text, "Fast rise: rose 2.2 within 10 min (limit 2.0)");
    /* then no more readings (a COV point holding 22.25): only the 20.0 of
     * T0 makes a rise above 2 (20.25 at T0 + 1 min gives 2.0); at T0 +
     * 10 min it is exactly 600 s old and still in the window, 1 ms later
     * it is out and the condition clears */
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN + 1, &ev), SB_AR_CLEAR);
    CHECK_DBL(ev.value, 2.0, 0);
}

/* +0.1 K a minute for 2 h: 12 K in all but never more than 1 K in 600 s. */
TEST(rate_slow_drift_never_fires)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    int events = 0;

    REQUIRE(must_parse(RISE, &r));
    sb_arule_state_init(&s);
    for (int i = 0; i <= 120; i++)
        events += feed(&r, &s, T0 + i * MIN, 10.0 + 0.1 * i, &ev) != SB_AR_NONE;
    CHECK_EQ(events, 0);
    CHECK_DBL(s.chg, 1.0, 1e-9);
}

/* One reading a second, 600 per window, kept in the ring's 64 buckets.
 * Falling 1/256 K a second (exact in binary) the fall within 600 s is at most
 * 600/256 = 2.34 K: never above max_fall 3.  Falling 1/128 K a second it is
 * i/128 after i s: 384/128 = 3.0 is not above 3, 385/128 is. */
TEST(rate_fall_dense_readings_bounded)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    int fired = -1;

    REQUIRE(must_parse(RISE, &r));
    sb_arule_state_init(&s);
    for (int i = 0; i <= 2000 && fired < 0; i++)
        if (feed(&r, &s, T0 + i * SEC, 50.0 - i / 256.0, &ev) == SB_AR_RAISE)
            fired = i;
    CHECK_EQ(fired, -1);
    sb_arule_state_init(&s);
    for (int i = 0; i <= 2000 && fired < 0; i++)
        if (feed(&r, &s, T0 + i * SEC, 50.0 - i / 128.0, &ev) == SB_AR_RAISE)
            fired = i;
    CHECK_EQ(fired, 385);
    CHECK(ev.value < -3.0);
}

TEST(rate_delays)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"r\",\"name\":\"R\",\"type\":\"rate\",\"point\":\"p\",\"severity\":"
                       "\"minor\",\"max_rise\":2,\"per_s\":600,\"on_delay_s\":60,"
                       "\"off_delay_s\":60}", &r));
    sb_arule_state_init(&s);
    feed(&r, &s, T0, 20.0, &ev);
    CHECK_EQ(feed(&r, &s, T0 + MIN, 23.0, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 2 * MIN - 1, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 2 * MIN, &ev), SB_AR_RAISE);
    /* the 20.0 at T0 leaves the window at T0 + 600 s + 1 ms; clear 60 s later */
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN + 1, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_PENDING_OFF);
    CHECK_EQ(tick(&r, &s, T0 + 11 * MIN, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 11 * MIN + 1, &ev), SB_AR_CLEAR);
}

/* ------------------------------------------------------------------------ */
/* stale                                                                    */

#define STALE                                                                                 \
    "{\"id\":\"s\",\"name\":\"OAT silent\",\"type\":\"stale\",\"point\":\"oat\",\"severity\":" \
    "\"minor\",\"after_s\":600}"

TEST(stale_by_tick)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse(STALE, &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 5.0, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN - 1, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN, &ev), SB_AR_RAISE);
    CHECK_DBL(ev.value, 600.0, 0);
    CHECK_STR(ev.text, "OAT silent: no data from oat for 10 min");
    CHECK_EQ(tick(&r, &s, T0 + HOUR, &ev), SB_AR_NONE);
    CHECK_EQ(feed(&r, &s, T0 + HOUR + 1, 5.5, &ev), SB_AR_CLEAR);
    CHECK_STR(ev.text, "OAT silent: cleared, data from oat resumed");
    /* a NaN is not a good reading */
    CHECK_EQ(feed(&r, &s, T0 + HOUR + 5 * MIN, NAN, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + HOUR + 10 * MIN + 1, &ev), SB_AR_RAISE);
}

TEST(stale_never_any_data)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse(STALE, &r));
    sb_arule_state_init(&s);
    CHECK_EQ(tick(&r, &s, T0, &ev), SB_AR_NONE);            /* the clock starts here */
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN - 1, &ev), SB_AR_NONE);
    CHECK_EQ(tick(&r, &s, T0 + 10 * MIN, &ev), SB_AR_RAISE);
}

TEST(stale_by_flag)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse(STALE, &r));
    sb_arule_state_init(&s);
    CHECK_EQ(feed(&r, &s, T0, 5.0, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + SEC, 5.0, SB_Q_STALE, NULL, &ev), SB_AR_RAISE);
    CHECK_STR(ev.text, "OAT silent: oat reports stale data");
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 2 * SEC, 5.0, SB_Q_STALE | SB_Q_FAULT, NULL, &ev),
             SB_AR_NONE);
    /* other flags are not stale */
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 3 * SEC, 5.0, SB_Q_OVERRIDDEN, NULL, &ev), SB_AR_CLEAR);
}

/* ------------------------------------------------------------------------ */
/* offline                                                                  */

TEST(offline_on_off_with_delay)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx off = { .offline = true }, on = { .offline = false };

    REQUIRE(must_parse("{\"id\":\"o\",\"name\":\"AHU-1 link\",\"type\":\"offline\",\"equipment\":"
                       "\"ahu-1\",\"severity\":\"major\",\"on_delay_s\":300,\"off_delay_s\":60}",
                       &r));
    sb_arule_state_init(&s);
    CHECK_EQ(sb_arule_tick(&r, &s, T0, &on, &ev), SB_AR_NONE);
    /* a 4 min outage: nothing */
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + MIN, &off, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 5 * MIN, &on, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
    /* a real one; a NULL ctx keeps the last report */
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 10 * MIN, &off, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 15 * MIN - 1, NULL, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 15 * MIN, NULL, &ev), SB_AR_RAISE);
    CHECK_EQ(ev.since, T0 + 10 * MIN);
    CHECK_DBL(ev.value, 300.0, 0);
    CHECK_STR(ev.text, "AHU-1 link: ahu-1 offline for 5 min");
    /* back: clear after 60 s of being back, a relapse restarts it */
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 20 * MIN, &on, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 20 * MIN + 30 * SEC, &off, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_ACTIVE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 21 * MIN, 0, 0, &on, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 22 * MIN - 1, &on, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 22 * MIN, &on, &ev), SB_AR_CLEAR);
    CHECK_STR(ev.text, "AHU-1 link: cleared, ahu-1 back online");
}

/* ------------------------------------------------------------------------ */
/* comfort                                                                  */

#define COMFORT                                                                               \
    "{\"id\":\"c\",\"name\":\"Office comfort\",\"type\":\"comfort\",\"zone\":\"office-2\","   \
    "\"severity\":\"minor\",\"kh_limit\":2.0}"

/* Band 20..24 degC, occupied, the zone at 25.0: 1 K outside.  Each reading
 * holds until the next (10 min apart): K·h = 1 K x hours.  At T0 + 1 h 54 min
 * that is 1 x 1.9 = 1.9 K·h (< 2.0: nothing); at T0 + 2 h, 1 x 2 = 2.0 K·h,
 * which reaches the limit: raise.  Whole kelvins over whole milliseconds add
 * up exactly, so the edge is exact. */
TEST(comfort_kh_arithmetic)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true, .band_heat = 20.0, .band_cool = 24.0 };
    int i;

    REQUIRE(must_parse(COMFORT, &r));
    sb_arule_state_init(&s);
    for (i = 0; i < 12; i++)
        CHECK_EQ(sb_arule_feed(&r, &s, T0 + i * 10 * MIN, 25.0, 0, &occ, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 114 * MIN, &occ, &ev), SB_AR_NONE);
    CHECK_DBL(s.kh, 1.9, 1e-12);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 2 * HOUR, 25.0, 0, &occ, &ev), SB_AR_RAISE);
    CHECK_DBL(ev.value, 2.0, 0);
    CHECK_STR(ev.text, "Office comfort: 2.0 K\u00b7h outside the comfort band in office-2 "
                       "over the last 1 d (limit 2.0)");
}

/* Below the band counts the same way: 2 K under 20 for 30 min = 1 K·h;
 * unoccupied time and a NULL ctx count nothing. */
TEST(comfort_cold_and_unoccupied)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true, .band_heat = 20.0, .band_cool = 24.0 };
    struct sb_arule_ctx unocc = { .occupied = false, .band_heat = 20.0, .band_cool = 24.0 };

    REQUIRE(must_parse("{\"id\":\"c\",\"name\":\"C\",\"type\":\"comfort\",\"zone\":\"z\","
                       "\"severity\":\"minor\",\"kh_limit\":1.0}", &r));
    sb_arule_state_init(&s);
    sb_arule_feed(&r, &s, T0, 18.0, 0, &unocc, &ev);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 50 * MIN, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 55 * MIN, NULL, &ev), SB_AR_NONE);
    CHECK_DBL(s.kh, 0.0, 0);
    sb_arule_feed(&r, &s, T0 + HOUR, 18.0, 0, &occ, &ev);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + HOUR + 30 * MIN - 1, &occ, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + HOUR + 30 * MIN, &occ, &ev), SB_AR_RAISE);
    CHECK_DBL(ev.value, 1.0, 0);
}

/* One reading then silence: it holds for SB_ARULE_HOLD_MS (1 h) only, so
 * 1 K for 3 h of silence counts 1 K·h. */
TEST(comfort_hold_is_capped)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true, .band_heat = 20.0, .band_cool = 24.0 };

    REQUIRE(must_parse(COMFORT, &r));
    sb_arule_state_init(&s);
    sb_arule_feed(&r, &s, T0, 25.0, 0, &occ, &ev);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 3 * HOUR, &occ, &ev), SB_AR_NONE);
    CHECK_DBL(s.kh, 1.0, 0);
    /* a stale-flagged reading does not refresh the hold */
    sb_arule_feed(&r, &s, T0 + 3 * HOUR, 25.0, SB_Q_STALE, &occ, &ev);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 4 * HOUR, &occ, &ev), SB_AR_NONE);
    CHECK_DBL(s.kh, 1.0, 0);
}

/* The window slides: the 2 K·h of [T0, T0 + 2 h) leave it about a day
 * later.  Buckets are window/63 = 1371429 ms wide and only buckets that
 * start inside the window count, so K·h may leave up to one bucket early but
 * never late: the clear comes in (T0 + 24 h - 1371429 ms, T0 + 24 h]. */
TEST(comfort_window_slides)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true, .band_heat = 20.0, .band_cool = 24.0 };
    int64_t t, cleared = -1;

    REQUIRE(must_parse(COMFORT, &r));
    sb_arule_state_init(&s);
    for (int i = 0; i < 12; i++)
        sb_arule_feed(&r, &s, T0 + i * 10 * MIN, 25.0, 0, &occ, &ev);
    REQUIRE(sb_arule_feed(&r, &s, T0 + 2 * HOUR, 22.0, 0, &occ, &ev) == SB_AR_RAISE);
    for (t = T0 + 2 * HOUR; t <= T0 + DAY + HOUR && cleared < 0; t += 10 * SEC)
        if (sb_arule_tick(&r, &s, t, &occ, &ev) == SB_AR_CLEAR)
            cleared = t;
    CHECK_INT(cleared, >, T0 + DAY - 1371429);
    CHECK_INT(cleared, <=, T0 + DAY + 10 * SEC);    /* + the tick step */
    CHECK(ev.value < 2.0);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + DAY + 2 * HOUR, &occ, &ev), SB_AR_NONE);
    CHECK_DBL(s.kh, 0.0, 0);
}

/* ------------------------------------------------------------------------ */
/* text                                                                     */

static int utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
              : (*p & 0xf8) == 0xf0 ? 3 : -1;

        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* schedule                                                                 */

#define FAN                                                                                   \
    "{\"id\":\"fan\",\"name\":\"AHU-1 fan\",\"type\":\"schedule\",\"point\":"                 \
    "\"ahu-1.sf-status\",\"severity\":\"minor\",\"on_delay_s\":900,\"off_delay_s\":60}"

/* The fan runs (1.0) all evening; the zones are occupied until 19:00 (the
 * tick at T0 + 19 h says so), so the condition begins at 19:00 and raises at
 * exactly 19:15 (on_delay 900 s), not 1 ms before.  The status value needs no
 * new reading: it holds, and the ticks carry the occupancy. */
TEST(schedule_runs_after_hours)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true }, unocc = { .occupied = false };

    REQUIRE(must_parse(FAN, &r));
    sb_arule_state_init(&s);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 8 * HOUR, 1.0, 0, &occ, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 19 * HOUR - 1, &occ, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_NORMAL);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 19 * HOUR, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(s.phase, SB_ARP_PENDING_ON);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 19 * HOUR + 15 * MIN - 1, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 19 * HOUR + 15 * MIN, &unocc, &ev), SB_AR_RAISE);
    CHECK_EQ(ev.since, T0 + 19 * HOUR);
    CHECK_DBL(ev.value, 1.0, 0);
    CHECK_STR(ev.text, "AHU-1 fan: ahu-1.sf-status running (1.0) while every zone it serves is "
                       "unoccupied for 15 min");
    /* stopped at 20:00: cleared after off_delay (60 s), in words */
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + 20 * HOUR, 0.0, 0, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + 20 * HOUR + MIN, &unocc, &ev), SB_AR_CLEAR);
    CHECK_STR(ev.text, "AHU-1 fan: cleared, ahu-1.sf-status stopped (0.0)");
}

/* running_above is strict (0.5 itself is not running); a zone becoming
 * occupied clears it with the fan still on; a NULL ctx keeps the last
 * occupancy; before any occupancy is known nothing fires; STALE / FAULT
 * values are skipped like threshold's. */
TEST(schedule_edges)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;
    struct sb_arule_ctx occ = { .occupied = true }, unocc = { .occupied = false };

    REQUIRE(must_parse("{" SCH ",\"running_above\":0.5}", &r));
    sb_arule_state_init(&s);
    /* no ctx ever: occupied, however long it runs */
    CHECK_EQ(sb_arule_feed(&r, &s, T0, 1.0, 0, NULL, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + DAY, NULL, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + DAY, 0.5, 0, &unocc, &ev), SB_AR_NONE);    /* not above */
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + DAY + SEC, nextafter(0.5, 1), 0, NULL, &ev), SB_AR_RAISE);
    CHECK_EQ(ev.since, T0 + DAY + SEC);          /* zero delay: at once */
    /* a flagged value is skipped: the fan still counts as running */
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + DAY + 2 * SEC, 0.0, SB_Q_FAULT, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(s.n_quality, 1);
    CHECK_EQ(s.phase, SB_ARP_ACTIVE);
    /* the morning: occupied, the fan still on: cleared, and said so */
    CHECK_EQ(sb_arule_tick(&r, &s, T0 + DAY + HOUR, &occ, &ev), SB_AR_CLEAR);
    CHECK_STR(ev.text, "R: cleared, p1 running, but a zone it serves is occupied");
    CHECK_DBL(ev.value, nextafter(0.5, 1), 0);
    /* a negative standby level works too (power metered with a small offset) */
    REQUIRE(must_parse("{" SCH ",\"running_above\":-0.25,\"message\":\"{point} on at {value}\"}", &r));
    sb_arule_state_init(&s);
    CHECK_EQ(sb_arule_feed(&r, &s, T0, -0.25, 0, &unocc, &ev), SB_AR_NONE);
    CHECK_EQ(sb_arule_feed(&r, &s, T0 + SEC, 0.0, 0, &unocc, &ev), SB_AR_RAISE);
    CHECK_STR(ev.text, "p1 on at 0.0");
}

/* Forecast rules are the analytics service's: feed and tick report nothing
 * and leave the state as it was, whatever comes in. */
TEST(forecast_not_evaluated_here)
{
    struct sb_arule r;
    struct sb_arule_state s, before;
    struct sb_arule_event ev;
    struct sb_arule_ctx unocc = { .occupied = false };

    REQUIRE(must_parse("{" FCR ",\"hours\":1}", &r));
    sb_arule_state_init(&s);
    before = s;
    for (int i = 0; i < 100; i++) {
        CHECK_EQ(sb_arule_feed(&r, &s, T0 + i * HOUR, 1e9, 0, &unocc, &ev), SB_AR_NONE);
        CHECK_EQ(sb_arule_tick(&r, &s, T0 + i * HOUR + MIN, &unocc, &ev), SB_AR_NONE);
    }
    CHECK(memcmp(&s, &before, sizeof s) == 0);
    CHECK_EQ(sb_arule_feed(&r, NULL, T0, 1, 0, NULL, &ev), SB_EINVAL);
}

TEST(message_template)
{
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    REQUIRE(must_parse("{\"id\":\"a\",\"name\":\"A\",\"type\":\"threshold\",\"point\":\"ahu-1.sat\","
                       "\"severity\":\"minor\",\"above\":16,\"message\":\"SAT {value} above "
                       "{above} (below {below}) at {point} {unknown} {value\"}", &r));
    sb_arule_state_init(&s);
    REQUIRE(feed(&r, &s, T0, 17.25, &ev) == SB_AR_RAISE);
    CHECK_STR(ev.text, "SAT 17.2 above 16.0 (below -) at ahu-1.sat {unknown} {value");
}

/* 200 characters of "é{point}" with a 60-byte point expand far past the
 * buffer: the text is cut on a character boundary. */
TEST(text_truncated_on_char_boundary)
{
    char json[2048], msg[1024] = "";
    struct sb_arule r;
    struct sb_arule_state s;
    struct sb_arule_event ev;

    for (int i = 0; i < 25; i++)
        strcat(msg, "\u00e9{point}");
    snprintf(json, sizeof json, "{\"id\":\"a\",\"name\":\"A\",\"type\":\"threshold\",\"point\":"
             "\"p23456789012345678901234567890123456789012345678901234567890\","
             "\"severity\":\"minor\",\"above\":16,\"message\":\"%s\"}", msg);
    REQUIRE(must_parse(json, &r));
    sb_arule_state_init(&s);
    REQUIRE(feed(&r, &s, T0, 17.0, &ev) == SB_AR_RAISE);
    CHECK_INT(strlen(ev.text), <, SB_ARULE_TEXT_MAX);
    CHECK_INT(strlen(ev.text), >, SB_ARULE_TEXT_MAX - 5);
    CHECK(utf8_valid(ev.text));
}

/* ------------------------------------------------------------------------ */
/* invariant on random input                                                */

static const char *const fuzz_rules[] = {
    SAT, RISE, STALE, COMFORT,
    "{\"id\":\"o\",\"name\":\"O\",\"type\":\"offline\",\"equipment\":\"e\",\"severity\":\"minor\","
    "\"on_delay_s\":30,\"off_delay_s\":20}",
    "{\"id\":\"t\",\"name\":\"T\",\"type\":\"threshold\",\"point\":\"p\",\"severity\":\"minor\","
    "\"above\":1,\"below\":-1,\"hysteresis\":0.25}",
    "{\"id\":\"f\",\"name\":\"F\",\"type\":\"schedule\",\"point\":\"p\",\"severity\":\"minor\","
    "\"running_above\":10,\"on_delay_s\":30,\"off_delay_s\":20}",
};

/* Whatever the input, events alternate RAISE, CLEAR, RAISE ... (starting
 * with RAISE), their times never decrease, and the phase agrees. */
TEST(events_alternate_on_random_input)
{
    uint64_t seed = 0x5eed;

    for (size_t k = 0; k < sizeof fuzz_rules / sizeof fuzz_rules[0]; k++) {
        struct sb_arule r;
        struct sb_arule_state s;
        struct sb_arule_event ev;
        int64_t t = T0, last_ev = INT64_MIN;
        int expect = SB_AR_RAISE, n = 0, bad = 0;

        REQUIRE(must_parse(fuzz_rules[k], &r));
        sb_arule_state_init(&s);
        for (int i = 0; i < 20000; i++) {
            uint64_t x = tap_rand(&seed);
            struct sb_arule_ctx c = { .offline = x & 1, .occupied = (x >> 1) & 1,
                                      .band_heat = 20, .band_cool = 24 };
            double v = (double)((x >> 8) % 4000) / 100.0 - 10.0;
            int rc;

            t += (int64_t)((x >> 24) % 120000) - 10000;     /* sometimes back in time */
            if ((x >> 40) % 3 == 0)
                rc = sb_arule_tick(&r, &s, t, &c, &ev);
            else
                rc = sb_arule_feed(&r, &s, t, (x >> 50) % 50 == 0 ? NAN : v,
                                   (uint16_t)((x >> 56) % 8 == 0 ? SB_Q_STALE : 0), &c, &ev);
            if (rc == SB_AR_NONE)
                continue;
            n++;
            if (rc != expect || ev.t < last_ev || ev.kind != rc ||
                (rc == SB_AR_RAISE) != (s.phase == SB_ARP_ACTIVE || s.phase == SB_ARP_PENDING_OFF))
                bad++;
            last_ev = ev.t;
            expect = rc == SB_AR_RAISE ? SB_AR_CLEAR : SB_AR_RAISE;
        }
        if (bad || n < 1)
            TAP_FAIL("rule %zu: %d events, %d out of order", k, n, bad);
    }
}

int main(void)
{
    TAP_START();
    RUN(parse_design_example);
    RUN(parse_defaults);
    RUN(parse_errors_name_the_field);
    RUN(parse_limits_and_nulls);
    RUN(json_canonical_text);
    RUN(json_round_trip);
    RUN(json_shortest_numbers);
    RUN(rule_equal_sees_each_change);
    RUN(threshold_fires_at_the_edge);
    RUN(threshold_hysteresis_and_off_delay);
    RUN(threshold_blip_never_raises);
    RUN(threshold_below_and_zero_delays);
    RUN(threshold_one_event_per_call);
    RUN(ignored_inputs_are_counted);
    RUN(disabled_rule_is_silent);
    RUN(rate_rise_over_window);
    RUN(rate_slow_drift_never_fires);
    RUN(rate_fall_dense_readings_bounded);
    RUN(rate_delays);
    RUN(stale_by_tick);
    RUN(stale_never_any_data);
    RUN(stale_by_flag);
    RUN(offline_on_off_with_delay);
    RUN(comfort_kh_arithmetic);
    RUN(comfort_cold_and_unoccupied);
    RUN(comfort_hold_is_capped);
    RUN(comfort_window_slides);
    RUN(schedule_runs_after_hours);
    RUN(schedule_edges);
    RUN(forecast_not_evaluated_here);
    RUN(message_template);
    RUN(text_truncated_on_char_boundary);
    RUN(events_alternate_on_random_input);
    TAP_END();
}

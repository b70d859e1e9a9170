/*
 * test_alert_engine.c - the alert engine (src/alerts/engine.c) on a real
 * model: readings routed to the rules that watch their point (and only
 * those), comfort context from the zone's schedule and band, offline from
 * the driver framework's freshness, state kept across a reload of an
 * unchanged rule, a full queue counted and never blocking the feeder; a
 * schedule rule's occupancy from the zones its equipment's boxes serve, and
 * forecast rules left to the analytics service.
 * Rules' own arithmetic is tested in test_alert_rule.c.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts/engine.h"
#include "alerts/rule.h"
#include "core/err.h"
#include "model/model.h"
#include "model/site_json.h"
#include "tap.h"

static const char DOC[] =
    "{\"format\":\"sbems-site\",\"version\":1,"
    "\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
    "\"buildings\":[{\"id\":\"b1\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
    "\"zones\":[{\"id\":\"z1\",\"building\":\"b1\",\"name\":\"Z\",\"schedule\":{\"daily\":\"00:00-24:00\"},"
    "  \"comfort\":{\"occupied\":{\"heating\":20,\"cooling\":24},\"unoccupied\":{\"heating\":15,\"cooling\":29}}},"
    " {\"id\":\"z2\",\"building\":\"b1\",\"name\":\"Closed\",\"schedule\":{\"daily\":\"closed\"}},"
    " {\"id\":\"z3\",\"building\":\"b1\",\"name\":\"No schedule\"}],"
    "\"equipment\":[{\"id\":\"vav\",\"building\":\"b1\",\"name\":\"VAV\",\"type\":\"vav\",\"zone\":\"z1\"},"
    "  {\"id\":\"mtr\",\"building\":\"b1\",\"name\":\"M\",\"type\":\"meter\"},"
    /* ahu serves the closed zone (and one without a schedule, which says
     * nothing); ahu2 also serves the always-occupied z1; fan serves nothing */
    "  {\"id\":\"ahu\",\"building\":\"b1\",\"name\":\"AHU\",\"type\":\"ahu\"},"
    "  {\"id\":\"vav2\",\"building\":\"b1\",\"name\":\"V2\",\"type\":\"vav\",\"zone\":\"z2\",\"parent\":\"ahu\"},"
    "  {\"id\":\"vav3\",\"building\":\"b1\",\"name\":\"V3\",\"type\":\"vav\",\"zone\":\"z3\",\"parent\":\"ahu\"},"
    "  {\"id\":\"ahu2\",\"building\":\"b1\",\"name\":\"AHU2\",\"type\":\"ahu\"},"
    "  {\"id\":\"vav4\",\"building\":\"b1\",\"name\":\"V4\",\"type\":\"vav\",\"zone\":\"z2\",\"parent\":\"ahu2\"},"
    "  {\"id\":\"vav5\",\"building\":\"b1\",\"name\":\"V5\",\"type\":\"vav\",\"zone\":\"z1\",\"parent\":\"ahu2\"},"
    "  {\"id\":\"fan\",\"building\":\"b1\",\"name\":\"Fan\",\"type\":\"other\"}],"
    "\"points\":["
    " {\"id\":\"vav.t\",\"equipment\":\"vav\",\"name\":\"T\",\"kind\":\"temperature\","
    "  \"source\":{\"driver\":\"bacnet\",\"address\":{\"device\":1,\"object\":\"analog-input:1\"}}},"
    " {\"id\":\"mtr.p\",\"equipment\":\"mtr\",\"name\":\"P\",\"kind\":\"power\","
    "  \"source\":{\"driver\":\"modbus\",\"address\":{\"host\":\"127.0.0.1\",\"register\":1,\"type\":\"float32\"}}},"
    " {\"id\":\"mtr.e\",\"equipment\":\"mtr\",\"name\":\"E\",\"kind\":\"energy\","
    "  \"source\":{\"driver\":\"modbus\",\"address\":{\"host\":\"127.0.0.1\",\"register\":3,\"type\":\"float32\"}}},"
    " {\"id\":\"ahu.sf\",\"equipment\":\"ahu\",\"name\":\"SF\",\"kind\":\"status\",\"source\":{\"driver\":\"virtual\"}},"
    " {\"id\":\"ahu2.sf\",\"equipment\":\"ahu2\",\"name\":\"SF\",\"kind\":\"status\",\"source\":{\"driver\":\"virtual\"}},"
    " {\"id\":\"fan.sf\",\"equipment\":\"fan\",\"name\":\"SF\",\"kind\":\"status\",\"source\":{\"driver\":\"virtual\"}}]}";

/* What the engine decided, recorded from its thread. */
struct rec {
    pthread_mutex_t mu;
    int n;
    char id[16][64];
    int raise[16];
    double value[16];
};
static struct rec g_rec = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void decide(void *ud, const struct sb_arule *r, const char *building, int raise,
                   const struct sb_arule_event *ev)
{
    (void)ud;
    pthread_mutex_lock(&g_rec.mu);
    if (g_rec.n < 16 && strcmp(building, "b1") == 0) {
        snprintf(g_rec.id[g_rec.n], sizeof(g_rec.id[0]), "%s", r->id);
        g_rec.raise[g_rec.n] = raise;
        g_rec.value[g_rec.n] = ev->value;
        g_rec.n++;
    }
    pthread_mutex_unlock(&g_rec.mu);
}

static int count(void)
{
    pthread_mutex_lock(&g_rec.mu);
    int n = g_rec.n;
    pthread_mutex_unlock(&g_rec.mu);
    return n;
}

/* Wait (at most ms) until n decisions are recorded. */
static int wait_n(int n, int ms)
{
    for (int i = 0; i < ms / 10 && count() < n; i++)
        usleep(10000);
    return count() >= n;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct sb_model *model(void)
{
    struct sb_model *m = sb_model_new();
    if (!m || sb_model_from_json_text(DOC, sizeof(DOC) - 1, m, NULL) || sb_model_validate(m, NULL)) {
        sb_model_free(m);
        return NULL;
    }
    for (size_t i = 0; i < m->npoints; i++)
        m->points[i].id = (uint32_t)(i + 1);       /* the store would number them so */
    return m;
}

static int parse(const char *json, struct sb_arule *r)
{
    char err[200];
    int rc = sb_arule_parse(json, strlen(json), r, err, sizeof(err));
    if (rc)
        printf("# parse: %s\n", err);
    return rc;
}

static struct sb_model *g_m;

TEST(routes_readings_to_their_rules)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50 };
    struct sb_arule hot, kw;
    REQUIRE(parse("{\"id\":\"hot\",\"name\":\"Hot\",\"type\":\"threshold\",\"point\":\"vav.t\","
                  "\"severity\":\"major\",\"above\":25}", &hot) == 0);
    REQUIRE(parse("{\"id\":\"kw\",\"name\":\"Demand\",\"type\":\"threshold\",\"point\":\"mtr.p\","
                  "\"severity\":\"minor\",\"above\":100}", &kw) == 0);
    struct sb_aeng_rule_in in[] = { { &hot, "b1" }, { &kw, "b1" } };
    g_rec.n = 0;
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, in, 2) == 0);
    int64_t t = wall_ms();
    struct sb_reading r[] = { { .t = t, .v = 26, .point = 1 }, { .t = t, .v = 50, .point = 2 },
                              { .t = t, .v = 999, .point = 3 } };   /* point 3: no rule */
    sb_aeng_feed(e, r, 3);
    CHECK(wait_n(1, 2000));
    usleep(100000);
    CHECK_EQ(count(), 1);                           /* only "hot" fired */
    CHECK_STR(g_rec.id[0], "hot");
    CHECK_EQ(g_rec.raise[0], 1);
    CHECK_DBL(g_rec.value[0], 26, 1e-9);
    struct sb_reading back = { .t = t + 1000, .v = 20, .point = 1 };
    sb_aeng_feed(e, &back, 1);
    CHECK(wait_n(2, 2000));
    CHECK_STR(g_rec.id[1], "hot");
    CHECK_EQ(g_rec.raise[1], 0);
    struct sb_aeng_stats st;
    sb_aeng_stats(e, &st);
    CHECK_EQ(st.rules, 2);
    CHECK_EQ(st.readings, 3);                       /* the unwatched one never queued */
    CHECK_EQ(st.raised, 1);
    CHECK_EQ(st.cleared, 1);
    sb_aeng_free(e);
}

TEST(reload_keeps_state_of_unchanged_rules)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50 };
    struct sb_arule hot, hot2;
    REQUIRE(parse("{\"id\":\"hot\",\"name\":\"Hot\",\"type\":\"threshold\",\"point\":\"vav.t\","
                  "\"severity\":\"major\",\"above\":25}", &hot) == 0);
    REQUIRE(parse("{\"id\":\"hot\",\"name\":\"Hot\",\"type\":\"threshold\",\"point\":\"vav.t\","
                  "\"severity\":\"major\",\"above\":27}", &hot2) == 0);
    struct sb_aeng_rule_in in = { &hot, "b1" };
    g_rec.n = 0;
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    int64_t t = wall_ms();
    struct sb_reading r = { .t = t, .v = 26, .point = 1 };
    sb_aeng_feed(e, &r, 1);
    CHECK(wait_n(1, 2000));
    /* the same rule again: still active, so 26 again raises nothing new */
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    r.t += 1000;
    sb_aeng_feed(e, &r, 1);
    usleep(200000);
    CHECK_EQ(count(), 1);
    /* a changed rule starts afresh: 28 > 27 raises it again */
    in.rule = &hot2;
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    r.t += 1000;
    r.v = 28;
    sb_aeng_feed(e, &r, 1);
    CHECK(wait_n(2, 2000));
    CHECK_EQ(g_rec.raise[1], 1);
    sb_aeng_free(e);
}

TEST(comfort_uses_the_zone_schedule_and_band)
{
    struct sb_aeng *e = NULL;
    /* no tick during the test: a tick moves the rule's clock to now, and the
     * readings below are from the last hours */
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 600000 };
    struct sb_arule c;
    /* 26 degC against the occupied band 20-24 (always occupied): 2 K outside;
     * readings an hour apart accumulate 2 K x 1 h = 2 K.h per hour, so the
     * limit of 3 K.h is passed within the second hour */
    REQUIRE(parse("{\"id\":\"comf\",\"name\":\"Comfort\",\"type\":\"comfort\",\"zone\":\"z1\","
                  "\"severity\":\"minor\",\"kh_limit\":3}", &c) == 0);
    struct sb_aeng_rule_in in = { &c, "b1" };
    g_rec.n = 0;
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    int64_t t = wall_ms() - 3 * 3600000;
    struct sb_reading r[3];
    for (int i = 0; i < 3; i++)
        r[i] = (struct sb_reading){ .t = t + i * 3600000LL, .v = 26, .point = 1 };
    sb_aeng_feed(e, r, 3);
    CHECK(wait_n(1, 2000));
    CHECK_STR(g_rec.id[0], "comf");
    CHECK_EQ(g_rec.raise[0], 1);
    CHECK(g_rec.value[0] >= 3.0);
    sb_aeng_free(e);
}

TEST(offline_follows_driver_freshness)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50 };
    struct sb_arule o;
    REQUIRE(parse("{\"id\":\"off\",\"name\":\"Meter offline\",\"type\":\"offline\",\"equipment\":\"mtr\","
                  "\"severity\":\"major\"}", &o) == 0);
    struct sb_aeng_rule_in in = { &o, "b1" };
    g_rec.n = 0;
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    sb_aeng_fresh(e, 2, 1);                         /* one of the meter's two points */
    usleep(300000);
    CHECK_EQ(count(), 0);
    sb_aeng_fresh(e, 3, 1);                         /* both: the device is offline */
    CHECK(wait_n(1, 2000));
    CHECK_EQ(g_rec.raise[0], 1);
    sb_aeng_fresh(e, 2, 0);
    CHECK(wait_n(2, 2000));
    CHECK_EQ(g_rec.raise[1], 0);
    sb_aeng_free(e);
}

/* Points 4 (ahu.sf: every zone it serves closed), 5 (ahu2.sf: one of its
 * zones always occupied), 6 (fan.sf: serves nothing, so unbound).  Only the
 * first raises; the forecast rule is neither loaded nor counted unbound. */
TEST(schedule_uses_the_zones_the_equipment_serves)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50 };
    struct sb_arule a, b, c, f;
    REQUIRE(parse("{\"id\":\"sched-a\",\"name\":\"A\",\"type\":\"schedule\",\"point\":\"ahu.sf\","
                  "\"severity\":\"minor\"}", &a) == 0);
    REQUIRE(parse("{\"id\":\"sched-b\",\"name\":\"B\",\"type\":\"schedule\",\"point\":\"ahu2.sf\","
                  "\"severity\":\"minor\"}", &b) == 0);
    REQUIRE(parse("{\"id\":\"sched-c\",\"name\":\"C\",\"type\":\"schedule\",\"point\":\"fan.sf\","
                  "\"severity\":\"minor\"}", &c) == 0);
    REQUIRE(parse("{\"id\":\"dev\",\"name\":\"D\",\"type\":\"forecast\",\"point\":\"mtr.e\","
                  "\"severity\":\"major\",\"hours\":1}", &f) == 0);
    struct sb_aeng_rule_in in[] = { { &a, "b1" }, { &b, "b1" }, { &c, "b1" }, { &f, "b1" } };
    g_rec.n = 0;
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, in, 4) == 0);
    struct sb_aeng_stats st;
    sb_aeng_stats(e, &st);
    CHECK_EQ(st.rules, 2);
    CHECK_EQ(st.unbound, 1);
    int64_t t = wall_ms();
    struct sb_reading r[] = { { .t = t, .v = 1, .point = 4 }, { .t = t, .v = 1, .point = 5 },
                              { .t = t, .v = 1, .point = 6 }, { .t = t, .v = 1e9, .point = 3 } };
    sb_aeng_feed(e, r, 4);
    CHECK(wait_n(1, 2000));
    usleep(200000);                                 /* a few ticks: nothing more */
    CHECK_EQ(count(), 1);
    CHECK_STR(g_rec.id[0], "sched-a");
    CHECK_EQ(g_rec.raise[0], 1);
    CHECK_DBL(g_rec.value[0], 1, 0);
    struct sb_reading off = { .t = t + 1000, .v = 0, .point = 4 };
    sb_aeng_feed(e, &off, 1);
    CHECK(wait_n(2, 2000));
    CHECK_STR(g_rec.id[1], "sched-a");
    CHECK_EQ(g_rec.raise[1], 0);
    sb_aeng_stats(e, &st);
    CHECK_EQ(st.readings, 3);                       /* 2 + 1: mtr.e and fan.sf never queued */
    sb_aeng_free(e);
}

TEST(unbound_rules_are_skipped_and_counted)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50 };
    struct sb_arule a, b;
    REQUIRE(parse("{\"id\":\"gone\",\"name\":\"Gone\",\"type\":\"stale\",\"point\":\"nope.x\","
                  "\"severity\":\"info\",\"after_s\":60}", &a) == 0);
    REQUIRE(parse("{\"id\":\"off\",\"name\":\"Off\",\"type\":\"threshold\",\"point\":\"vav.t\","
                  "\"severity\":\"info\",\"above\":1,\"enabled\":false}", &b) == 0);
    struct sb_aeng_rule_in in[] = { { &a, "b1" }, { &b, "b1" } };
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, in, 2) == 0);
    struct sb_aeng_stats st;
    sb_aeng_stats(e, &st);
    CHECK_EQ(st.rules, 0);                          /* disabled ones are not loaded */
    CHECK_EQ(st.unbound, 1);
    sb_aeng_free(e);
}

TEST(full_queue_drops_and_counts)
{
    struct sb_aeng *e = NULL;
    struct sb_aeng_cfg cfg = { .decide = decide, .tick_ms = 50, .queue_max = 4 };
    struct sb_arule hot;
    REQUIRE(parse("{\"id\":\"hot\",\"name\":\"Hot\",\"type\":\"threshold\",\"point\":\"vav.t\","
                  "\"severity\":\"major\",\"above\":1000}", &hot) == 0);
    struct sb_aeng_rule_in in = { &hot, "b1" };
    REQUIRE(sb_aeng_new(&cfg, &e) == 0);
    REQUIRE(sb_aeng_load(e, g_m, &in, 1) == 0);
    struct sb_reading r[64];
    int64_t t = wall_ms();
    for (int i = 0; i < 64; i++)
        r[i] = (struct sb_reading){ .t = t + i, .v = i, .point = 1 };
    sb_aeng_feed(e, r, 64);                         /* one call: at most 4 fit */
    usleep(200000);
    struct sb_aeng_stats st;
    sb_aeng_stats(e, &st);
    CHECK_EQ(st.dropped + st.readings, 64);
    CHECK(st.dropped >= 60);
    sb_aeng_free(e);
}

int main(void)
{
    TAP_START();
    g_m = model();
    if (!g_m) {
        printf("Bail out! the test model does not load\n");
        return 1;
    }
    RUN(routes_readings_to_their_rules);
    RUN(reload_keeps_state_of_unchanged_rules);
    RUN(comfort_uses_the_zone_schedule_and_band);
    RUN(offline_follows_driver_freshness);
    RUN(schedule_uses_the_zones_the_equipment_serves);
    RUN(unbound_rules_are_skipped_and_counted);
    RUN(full_queue_drops_and_counts);
    sb_model_free(g_m);
    TAP_END();
}

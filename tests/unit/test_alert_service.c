/*
 * test_alert_service.c - the alert service (src/alerts/service.c) on a real
 * loop, app database and model: escalation of unacknowledged alerts one
 * level per alerts.escalate_after (here 1 s), with the "escalated" change
 * for the loop and a notice to the subscriptions of exactly that level;
 * acknowledged and info alerts never escalate.  Notices go to webhooks on a
 * loopback port nobody listens on (one try each), so each one's fate lands
 * in the alert's history as "notify_failed" naming its URL: the history says
 * which level's subscription was told, and when.  Also the copies of one
 * type of rule the analytics service asks for (sb_alerts_rules_of_type).
 *
 * Every wait is bounded (the loop is run by hand in small steps).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "alerts/rule.h"
#include "alerts/service.h"
#include "core/err.h"
#include "db/appdb.h"
#include "model/hub.h"
#include "model/model.h"
#include "model/site_json.h"
#include "tap.h"

static const char DOC[] =
    "{\"format\":\"sbems-site\",\"version\":1,"
    "\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
    "\"buildings\":[{\"id\":\"b1\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
    "\"zones\":[],\"equipment\":[{\"id\":\"m\",\"building\":\"b1\",\"name\":\"M\",\"type\":\"meter\"}],"
    "\"points\":[{\"id\":\"m.e\",\"equipment\":\"m\",\"name\":\"E\",\"kind\":\"energy\","
    "  \"source\":{\"driver\":\"virtual\"}}]}";

static char tmpl[] = "/tmp/sbems-test-asvc-XXXXXX";
static char *root;

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the loop was told, in order (loop thread only). */
static struct {
    int n;
    int64_t id[64];
    char event[64][16];
    int level[64];
} g_ch;

static void on_change(void *ud, const struct sb_alert *a, const char *event)
{
    (void)ud;
    if (g_ch.n < 64) {
        g_ch.id[g_ch.n] = a->id;
        g_ch.level[g_ch.n] = a->escalated_level;
        snprintf(g_ch.event[g_ch.n], sizeof(g_ch.event[0]), "%s", event);
        g_ch.n++;
    }
}

/* "escalated" changes of alert id seen so far. */
static int escalations(int64_t id)
{
    int k = 0;
    for (int i = 0; i < g_ch.n; i++)
        k += g_ch.id[i] == id && strcmp(g_ch.event[i], "escalated") == 0;
    return k;
}

/* A loopback port with nobody listening (bound, then closed). */
static int dead_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* How many history events of alert id are of kind and mention needle. */
static int history(struct sb_appdb *db, int64_t id, const char *kind, const char *needle)
{
    struct sb_alert_event *ev = NULL;
    size_t n = 0;
    int64_t next = 0;
    int k = 0;

    if (sb_appdb_alert_events(db, id, 0, SB_ALERT_PAGE_MAX, &ev, &n, &next) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        k += strcmp(ev[i].kind, kind) == 0 && (!needle || strstr(ev[i].detail, needle));
    free(ev);
    return k;
}

/* Runs the loop in 10 ms steps until pred holds or ms pass. */
static int run_until(uv_loop_t *loop, int (*pred)(void *), void *arg, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (pred(arg))
            return 1;
        usleep(10000);
    }
    return pred(arg);
}

struct world {
    struct sb_appdb *db;
    int64_t crit, info, acked;
};

/* crit at level 3 with the notice of each level's subscription recorded */
static int all_told(void *arg)
{
    struct world *w = arg;
    struct sb_alert a;
    return sb_appdb_alert_get(w->db, w->crit, &a) == 0 && a.escalated_level == 3 &&
           history(w->db, w->crit, "notify_failed", "/level1") == 1 &&
           history(w->db, w->crit, "notify_failed", "/level3") == 1;
}

static int idle(void *arg)
{
    return sb_alerts_idle(arg);
}

static void add_sub(struct sb_appdb *db, int64_t user, int level, int port)
{
    struct sb_alert_sub u;
    memset(&u, 0, sizeof(u));
    u.user_id = user;
    snprintf(u.channel, sizeof(u.channel), "webhook");
    snprintf(u.target, sizeof(u.target), "http://127.0.0.1:%d/level%d", port, level);
    snprintf(u.building, sizeof(u.building), "b1");
    snprintf(u.secret, sizeof(u.secret), "0123456789abcdef0123456789abcdef");
    u.enabled = 1;
    u.level = level;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &u), 0);
}

static struct sb_mhub *hub(void)
{
    struct sb_model *m = sb_model_new();
    struct sb_mhub *h = NULL;
    if (!m || sb_model_from_json_text(DOC, sizeof(DOC) - 1, m, NULL) || sb_model_validate(m, NULL) ||
        sb_mhub_new(m, &h)) {
        sb_model_free(m);
        return NULL;
    }
    return h;
}

/* Raised 0.5 s ago with escalate_after 1 s: level 1 at about 0.5 s from
 * now, 2 at 1.5 s, 3 at 2.5 s (the highest), each told to its own level's
 * subscription and to no other; the raise was told to level 0 only. */
TEST(escalation_levels_and_notices)
{
    char path[300], err[256] = "";
    struct world w = { 0 };
    struct sb_mhub *h = hub();
    struct sb_alerts *s = NULL;
    struct sb_user u;
    uv_loop_t loop;
    int port = dead_port();

    REQUIRE(h && port > 0);
    snprintf(path, sizeof(path), "%s/esc.db", root);
    REQUIRE(sb_appdb_sqlite_open(path, &w.db, err, sizeof(err)) == 0);
    memset(&u, 0, sizeof(u));
    snprintf(u.username, sizeof(u.username), "opal");
    u.roles = SB_ROLE_OPERATOR;
    REQUIRE(sb_appdb_user_create(w.db, &u) == 0);
    for (int level = 0; level <= 3; level++)
        add_sub(w.db, u.id, level, port);
    REQUIRE(uv_loop_init(&loop) == 0);
    struct sb_alerts_cfg cfg = {
        .loop = &loop, .db = w.db, .models = h, .escalate_after_ms = 1000, .changed = on_change,
        .notify = { .max_tries = 1, .timeout_ms = 2000, .threads = 1 },
    };
    g_ch.n = 0;
    REQUIRE(sb_alerts_new(&cfg, &s) == 0);
    CHECK_EQ(sb_alerts_escalate_after(s), 1000);

    int64_t t = wall_ms() - 500;
    CHECK_EQ(sb_alerts_record(s, "crit", "b1", "crit", SB_ALERT_SEV_CRITICAL, 1, "boiler trip", 1, t, 0), 0);
    CHECK_EQ(sb_alerts_record(s, "info", "b1", "info", SB_ALERT_SEV_INFO, 1, "fyi", 1, t, 0), 0);
    CHECK_EQ(sb_alerts_record(s, "ackd", "b1", "ackd", SB_ALERT_SEV_MAJOR, 1, "seen", 1, t, 0), 0);
    struct sb_alert_filter f = { .scope.all = 1, .limit = 10 };
    struct sb_alert_page pg = { 0 };
    REQUIRE(sb_appdb_alert_list(w.db, &f, &pg) == 0 && pg.n == 3);
    for (size_t i = 0; i < pg.n; i++) {
        if (strcmp(pg.v[i].rule, "crit") == 0)
            w.crit = pg.v[i].id;
        else if (strcmp(pg.v[i].rule, "info") == 0)
            w.info = pg.v[i].id;
        else
            w.acked = pg.v[i].id;
    }
    sb_alert_page_release(&pg);
    CHECK_EQ(sb_appdb_alert_ack(w.db, w.acked, "opal", NULL, wall_ms(), NULL), 0);

    /* three levels 1 s apart, each notice failing after its 2 s timeout:
     * about 9 s here, much longer on a loaded CI machine under ASan; the
     * loop ends as soon as all are told */
    CHECK(run_until(&loop, all_told, &w, 30000));
    CHECK_EQ(escalations(w.crit), 3);
    /* in order, one level at a time, each with its history row */
    int seen = 0;
    for (int i = 0; i < g_ch.n; i++)
        if (g_ch.id[i] == w.crit && strcmp(g_ch.event[i], "escalated") == 0)
            CHECK_EQ(g_ch.level[i], ++seen);
    CHECK_EQ(history(w.db, w.crit, "escalated", "level 1"), 1);
    CHECK_EQ(history(w.db, w.crit, "escalated", "level 3"), 1);
    /* the raise to level 0 only; each escalation to its level only */
    CHECK_EQ(history(w.db, w.crit, "notify_failed", "/level0"), 1);
    CHECK_EQ(history(w.db, w.crit, "notify_failed", "/level2"), 1);
    /* never escalated: info asks nobody to act; the other was acknowledged */
    struct sb_alert a;
    REQUIRE(sb_appdb_alert_get(w.db, w.info, &a) == 0);
    CHECK_EQ(a.escalated_level, 0);
    REQUIRE(sb_appdb_alert_get(w.db, w.acked, &a) == 0);
    CHECK_EQ(a.escalated_level, 0);
    CHECK_EQ(escalations(w.info) + escalations(w.acked), 0);
    CHECK_EQ(history(w.db, w.info, "notify_failed", "/level1"), 0);
    struct sb_alerts_stats st;
    sb_alerts_stats(s, &st);
    CHECK_EQ(st.escalated, 3);
    /* at the highest level: nothing more, however long */
    for (int i = 0; i < 150; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    CHECK_EQ(escalations(w.crit), 3);

    sb_alerts_stop(s);
    CHECK(run_until(&loop, idle, s, 5000));
    sb_alerts_free(s);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ(uv_loop_close(&loop), 0);
    sb_appdb_close(w.db);
    sb_mhub_free(h);
}

static void put_rule(struct sb_appdb *db, const char *json, const char *building)
{
    struct sb_arule r;
    struct sb_alert_rule sr;
    char err[200];
    char *canon;

    REQUIRE(sb_arule_parse(json, strlen(json), &r, err, sizeof(err)) == 0);
    REQUIRE((canon = sb_arule_to_json(&r)) != NULL);
    memset(&sr, 0, sizeof(sr));
    snprintf(sr.id, sizeof(sr.id), "%s", r.id);
    snprintf(sr.building, sizeof(sr.building), "%s", building);
    snprintf(sr.json, sizeof(sr.json), "%s", canon);
    sr.enabled = r.enabled;
    sr.updated_ms = wall_ms();
    free(canon);
    CHECK_EQ(sb_appdb_alert_rule_put(db, &sr, NULL), 0);
}

/* The enabled forecast rules, with their stored building; nothing else.
 * Escalation is off (0): no timer for it. */
TEST(rules_of_type)
{
    char path[300], err[256] = "";
    struct sb_appdb *db = NULL;
    struct sb_mhub *h = hub();
    struct sb_alerts *s = NULL;
    struct sb_arule *v = NULL;
    size_t n = 9;
    uv_loop_t loop;

    REQUIRE(h);
    snprintf(path, sizeof(path), "%s/rules.db", root);
    REQUIRE(sb_appdb_sqlite_open(path, &db, err, sizeof(err)) == 0);
    put_rule(db, "{\"id\":\"dev\",\"name\":\"Dev\",\"type\":\"forecast\",\"point\":\"m.e\","
                 "\"severity\":\"major\",\"hours\":3,\"direction\":\"both\"}", "b1");
    put_rule(db, "{\"id\":\"dev-off\",\"name\":\"Off\",\"type\":\"forecast\",\"point\":\"m.e\","
                 "\"severity\":\"major\",\"enabled\":false}", "b1");
    put_rule(db, "{\"id\":\"hi\",\"name\":\"Hi\",\"type\":\"threshold\",\"point\":\"m.e\","
                 "\"severity\":\"minor\",\"above\":5}", "b1");
    REQUIRE(uv_loop_init(&loop) == 0);
    struct sb_alerts_cfg cfg = { .loop = &loop, .db = db, .models = h };
    REQUIRE(sb_alerts_new(&cfg, &s) == 0);
    CHECK_EQ(sb_alerts_escalate_after(s), 0);
    CHECK_EQ(sb_alerts_rules_of_type(s, SB_ART_FORECAST, &v, &n), 0);
    REQUIRE(n == 1);
    CHECK_STR(v[0].id, "dev");
    CHECK_STR(v[0].building, "b1");
    CHECK_STR(v[0].target, "m.e");
    CHECK_EQ(v[0].hours, 3);
    CHECK_EQ(v[0].direction, SB_ARD_BOTH);
    free(v);
    v = NULL;
    CHECK_EQ(sb_alerts_rules_of_type(s, SB_ART_COMFORT, &v, &n), 0);
    CHECK_EQ(n, 0);
    CHECK(v == NULL);
    CHECK_EQ(sb_alerts_rules_of_type(s, SB_ART_FORECAST, NULL, &n), SB_EINVAL);
    sb_alerts_stop(s);
    CHECK(run_until(&loop, idle, s, 5000));
    sb_alerts_free(s);
    uv_run(&loop, UV_RUN_NOWAIT);
    CHECK_EQ(uv_loop_close(&loop), 0);
    sb_appdb_close(db);
    sb_mhub_free(h);
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    RUN(escalation_levels_and_notices);
    RUN(rules_of_type);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

/*
 * test_sim_mqtt.c - sbems-sim's MQTT sensors (src/sim/mqttdev.c) against a
 * real mosquitto on a free 127.0.0.1 port: names, list and site document
 * (accepted by sbems's model and by the mqtt driver's address parser),
 * bindings, then live: topics, payloads decoded with the driver's own
 * parsers and compared with the plant and sb_simmq_value, staggering, the
 * offline fault, a broker that starts late, a broker restart, the last
 * will after a crash and the statuses of a clean close.
 *
 * The face runs on its own uv loop driven from the test: each "tick" steps
 * the plant, calls sb_simmq_sync with a synthetic wall clock (1 s per tick,
 * as sbems-sim's main loop), then spins the loop briefly, so a 15 s period
 * takes about a tenth of a second.  Every process started (mosquitto and
 * one forked simulator) is tracked by PID and killed at the end; every wait
 * is bounded.
 */
#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"
#include "model/model.h"
#include "model/site_json.h"
#include "sim/mqttdev.h"
#include "sim/plant/plant.h"
#include "tap.h"

extern char **environ;

#define JUL10_10H (1688965200000LL + 10 * 3600000LL)   /* Mon 2023-07-10 10:00 EST: occupied */
#define T0 1795773600000LL     /* synthetic wall clock start, a multiple of 15 s */
#define PERIOD_S 15

static char tmpl[] = "/tmp/sbems-test-simmq-XXXXXX";
static char *root;
static struct sb_epw *wx;
static struct sb_plant *plant;
static int64_t sim_ms = JUL10_10H;
static int has_rh;             /* the plant has floorF.zoneZ.rh points */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- child processes (copied approach: tests/unit/test_mqtt.c) ------------------- */

#define MAX_KIDS 16
static pid_t kids[MAX_KIDS];

static void kid_add(pid_t p)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (!kids[i]) {
            kids[i] = p;
            return;
        }
}

static void kid_forget(pid_t p)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i] == p)
            kids[i] = 0;
}

/* Wait for p up to ms; SIGKILL after. */
static void kid_wait(pid_t p, int ms)
{
    int64_t end = mono_ns() + (int64_t)ms * 1000000LL;
    while (waitpid(p, NULL, WNOHANG) == 0) {
        if (mono_ns() > end) {
            kill(p, SIGKILL);
            waitpid(p, NULL, 0);
            break;
        }
        sleep_ms(5);
    }
    kid_forget(p);
}

static void kids_kill_all(void)
{
    for (int i = 0; i < MAX_KIDS; i++)
        if (kids[i]) {
            kill(kids[i], SIGKILL);
            waitpid(kids[i], NULL, 0);
            kids[i] = 0;
        }
}

static pid_t spawn(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    kid_add(pid);
    return pid;
}

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int port_open(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

#define WAIT_FOR(cond, ms)                                                   \
    ({                                                                       \
        int64_t end_ = mono_ns() + (int64_t)(ms) * 1000000LL;                \
        int ok_;                                                             \
        while (!(ok_ = !!(cond)) && mono_ns() < end_)                        \
            sleep_ms(5);                                                     \
        ok_;                                                                 \
    })

/* ---- the broker ------------------------------------------------------------------- */

struct broker {
    pid_t pid;                  /* running mosquitto, 0 if none */
    int port;                   /* its listener on 127.0.0.1 */
    char dir[256], conf[300], log[300];
};

static int bdirn;

/* (Re)writes b's configuration; extra: access rules (default: anonymous). */
static int broker_write_conf(struct broker *b, const char *extra)
{
    FILE *f = fopen(b->conf, "w");
    if (!f)
        return -1;
    fprintf(f, "listener %d 127.0.0.1\n%s", b->port, extra ? extra : "allow_anonymous true\n");
    fprintf(f, "log_dest file %s\nlog_type all\n", b->log);
    if (geteuid() == 0)
        fprintf(f, "user root\n");   /* else it drops to "mosquitto", locked out of dir */
    return fclose(f);
}

/* A new directory, a free port and an anonymous configuration. */
static int broker_conf(struct broker *b)
{
    memset(b, 0, sizeof(*b));
    b->port = free_port();
    snprintf(b->dir, sizeof(b->dir), "%s/broker%d", root, bdirn++);
    snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
    if (mkdir(b->dir, 0700) != 0)
        return -1;
    return broker_write_conf(b, NULL);
}

/* The broker log has text. */
static int broker_logged(const struct broker *b, const char *text)
{
    static char buf[1 << 18];
    FILE *f = fopen(b->log, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

static int broker_start(struct broker *b)
{
    char *argv[] = { "/usr/sbin/mosquitto", "-c", b->conf, NULL };
    b->pid = spawn(argv);
    if (b->pid < 0 || !WAIT_FOR(port_open(b->port), 5000)) {
        printf("# mosquitto did not start on %d\n", b->port);
        return -1;
    }
    return 0;
}

static void broker_stop(struct broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        kid_wait(b->pid, 5000);
    }
    b->pid = 0;
}

/* ---- an observer on libmosquitto (its own thread) --------------------------------- */

#define SEEN_MAX 4096

struct msg {
    char topic[128];
    char payload[256];
    int retain, qos;
};

struct client {
    struct mosquitto *m;
    pthread_mutex_t mu;
    atomic_int subacks;
    int n;                      /* messages kept */
    struct msg *seen;           /* SEEN_MAX */
};

static void cl_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    struct client *c = ud;
    pthread_mutex_lock(&c->mu);
    if (c->n < SEEN_MAX) {
        struct msg *s = &c->seen[c->n++];
        snprintf(s->topic, sizeof(s->topic), "%s", msg->topic);
        snprintf(s->payload, sizeof(s->payload), "%.*s", msg->payloadlen, (const char *)msg->payload);
        s->retain = msg->retain;
        s->qos = msg->qos;
    }
    pthread_mutex_unlock(&c->mu);
}

static void cl_on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *g)
{
    atomic_fetch_add(&((struct client *)ud)->subacks, 1);
}

/* Connects as id (user/pass may be NULL) and subscribes filter at QoS 1. */
static int cl_open_auth(struct client *c, int port, const char *id, const char *filter,
                        const char *user, const char *pass)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->seen = calloc(SEEN_MAX, sizeof(*c->seen));
    c->m = mosquitto_new(id, true, c);
    if (!c->seen || !c->m)
        return -1;
    mosquitto_message_callback_set(c->m, cl_on_message);
    mosquitto_subscribe_callback_set(c->m, cl_on_subscribe);
    if ((user && mosquitto_username_pw_set(c->m, user, pass) != MOSQ_ERR_SUCCESS) ||
        mosquitto_connect(c->m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS ||
        mosquitto_subscribe(c->m, NULL, filter, 1) != MOSQ_ERR_SUCCESS)
        return -1;
    return WAIT_FOR(atomic_load(&c->subacks) > 0, 5000) ? 0 : -1;
}

static int cl_open(struct client *c, int port, const char *id, const char *filter)
{
    return cl_open_auth(c, port, id, filter, NULL, NULL);
}

static void cl_close(struct client *c)
{
    if (c->m) {
        mosquitto_disconnect(c->m);
        mosquitto_loop_stop(c->m, false);
        mosquitto_destroy(c->m);
    }
    free(c->seen);
    pthread_mutex_destroy(&c->mu);
    memset(c, 0, sizeof(*c));
}

static int cl_count(struct client *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->n;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Messages on topic from index `from` on. */
static int cl_count_topic(struct client *c, const char *topic, int from)
{
    int k = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = from; i < c->n; i++)
        k += strcmp(c->seen[i].topic, topic) == 0;
    pthread_mutex_unlock(&c->mu);
    return k;
}

/* Uplinks (".../up") from index `from` on. */
static int cl_count_up(struct client *c, int from)
{
    int k = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = from; i < c->n; i++) {
        size_t l = strlen(c->seen[i].topic);
        k += l > 3 && strcmp(c->seen[i].topic + l - 3, "/up") == 0;
    }
    pthread_mutex_unlock(&c->mu);
    return k;
}

/* The last payload seen on topic ("" if none); *retain its flag. */
static const char *cl_last(struct client *c, const char *topic, int *retain)
{
    static char buf[256];
    buf[0] = '\0';
    pthread_mutex_lock(&c->mu);
    for (int i = c->n - 1; i >= 0; i--)
        if (strcmp(c->seen[i].topic, topic) == 0) {
            snprintf(buf, sizeof(buf), "%s", c->seen[i].payload);
            if (retain)
                *retain = c->seen[i].retain;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return buf;
}

/* ---- the face on its loop ---------------------------------------------------------- */

struct rig {
    uv_loop_t loop;
    struct sb_simmq *mq;
    int64_t wall;               /* synthetic wall clock, ms */
    const char *off;            /* the device that is offline, or NULL */
    int64_t sync_max_ns;        /* slowest sb_simmq_sync */
};

static int offline_fn(void *ud, const char *name)
{
    struct rig *r = ud;
    return r->off && strcmp(r->off, name) == 0;
}

static struct sb_sim_site_ref site_hpo = { .site = "harbor-point", .building = "hpo", .index = 0 };

/* Runs the loop without blocking for about ms. */
static void spin(struct rig *r, int ms)
{
    int64_t end = mono_ns() + (int64_t)ms * 1000000LL;
    do {
        uv_run(&r->loop, UV_RUN_NOWAIT);
        sleep_ms(1);
    } while (mono_ns() < end);
}

/* Spins the loop until cond or ms pass. */
#define SPIN_FOR(r, cond, ms)                                                \
    ({                                                                       \
        int64_t end_ = mono_ns() + (int64_t)(ms) * 1000000LL;                \
        int ok_;                                                             \
        while (!(ok_ = !!(cond)) && mono_ns() < end_)                        \
            spin(r, 2);                                                      \
        ok_;                                                                 \
    })

/* The face with the test's configuration, or *cfg (port and listen set here). */
static int rig_open_cfg(struct rig *r, int port, int listen, const struct sb_simmq_cfg *cfg,
                        char *err, size_t errlen)
{
    struct sb_sim_site_ref site = site_hpo;
    struct sb_simmq_cfg c = { .period_s = PERIOD_S, .reconnect_min_ms = 100,
                              .reconnect_max_ms = 400, .keepalive_s = 5 };
    if (cfg)
        c = *cfg;
    c.port = (unsigned)port;
    c.listen = listen;
    memset(r, 0, sizeof(*r));
    r->wall = T0;
    site.offline = offline_fn;
    site.offline_ud = r;
    if (uv_loop_init(&r->loop) != 0)
        return -1;
    return sb_simmq_new(&r->loop, plant, &site, &c, &r->mq, err, errlen);
}

static int rig_open(struct rig *r, int port, int listen, char *err, size_t errlen)
{
    return rig_open_cfg(r, port, listen, NULL, err, errlen);
}

static void rig_close(struct rig *r)
{
    sb_simmq_close(r->mq);
    sb_simmq_free(r->mq);
    r->mq = NULL;
    uv_run(&r->loop, UV_RUN_DEFAULT);      /* close callbacks; nothing else is left */
    CHECK_EQ(uv_loop_close(&r->loop), 0);
}

static struct sb_simmq_stats stats(const struct rig *r)
{
    struct sb_simmq_stats s;
    sb_simmq_stats(r->mq, &s);
    return s;
}

/* One simulator tick: plant step (when step), sync, a short spin. */
static void tick(struct rig *r, int step)
{
    if (step) {
        sim_ms += 60000;
        sb_plant_step(plant, 60, sim_ms);
    }
    r->wall += 1000;
    int64_t t = mono_ns();
    sb_simmq_sync(r->mq, sim_ms, r->wall);
    t = mono_ns() - t;
    if (t > r->sync_max_ns)
        r->sync_max_ns = t;
    spin(r, 3);
}

/* ---- expectations ----------------------------------------------------------------- */

static const char *const FIELDS[] = { "co2", "temperature", "humidity", "occupancy", "occupied",
                                      "battery" };
#define NF 6

static double plant_get(const char *zone, const char *q)
{
    char name[64];
    double v = NAN;
    snprintf(name, sizeof(name), "%s.%s", zone, q);
    sb_plant_get(plant, name, &v);
    return v;
}

/* Sensor i's handles for every field (-1 where it has none). */
static void handles_of(const struct sb_simmq *mq, const char *topic, int h[NF])
{
    for (int f = 0; f < NF; f++) {
        json_t *src = json_pack("{s:s, s:{s:s, s:s}}", "driver", "mqtt", "address", "topic", topic,
                                "field", FIELDS[f]);
        h[f] = sb_simmq_bind(mq, src);
        json_decref(src);
    }
}

/* ---- tests: no broker -------------------------------------------------------------- */

static int count_zones(void)
{
    int n = 0;
    struct sb_plant_point_info in;
    for (int i = 0; i < sb_plant_point_count(plant); i++) {
        unsigned f, z;
        int used = 0;
        if (sb_plant_point(plant, i, &in) == 0 &&
            sscanf(in.name, "floor%u.zone%u.co2%n", &f, &z, &used) == 2 && used && !in.name[used])
            n++;
    }
    return n;
}

TEST(list_names_topics)
{
    struct rig r;
    char err[200] = "";
    REQUIRE(rig_open(&r, 0, 0, err, sizeof(err)) == 0);
    json_t *l = sb_simmq_list(r.mq);
    int n = count_zones();

    CHECK_EQ(n, 15);      /* default plant: 3 floors x 5 zones */
    CHECK_EQ(json_array_size(l), n);
    json_t *d = json_array_get(l, 2);
    CHECK_STR(json_string_value(json_object_get(d, "protocol")), "mqtt");
    CHECK_STR(json_string_value(json_object_get(d, "name")), "IAQ-1-03");
    CHECK_STR(json_string_value(json_object_get(d, "broker")), "127.0.0.1:1883");
    CHECK_STR(json_string_value(json_object_get(d, "address")), "127.0.0.1");
    CHECK_EQ(json_integer_value(json_object_get(d, "port")), 1883);
    CHECK_STR(json_string_value(json_object_get(d, "topic")), "hpo/iaq/iaq-1-03/up");
    CHECK_STR(json_string_value(json_object_get(d, "status_topic")), "hpo/iaq/iaq-1-03/status");
    CHECK_STR(json_string_value(json_object_get(d, "zone")), "floor1.zone3");
    CHECK_EQ(json_integer_value(json_object_get(d, "period_s")), PERIOD_S);
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, n - 1), "name")), "IAQ-3-05");
    json_decref(l);
    rig_close(&r);

    /* a second site: names prefixed with the building, topics under it */
    struct sb_sim_site_ref hou = { .site = "houston", .building = "hou", .index = 1 };
    struct sb_simmq_cfg c = { .host = "localhost", .port = 1884, .listen = 0 };
    struct sb_simmq *mq = NULL;
    REQUIRE(sb_simmq_new(NULL, plant, &hou, &c, &mq, err, sizeof(err)) == 0);
    l = sb_simmq_list(mq);
    d = json_array_get(l, 0);
    CHECK_STR(json_string_value(json_object_get(d, "name")), "HOU-IAQ-1-01");
    CHECK_STR(json_string_value(json_object_get(d, "topic")), "hou/iaq/hou-iaq-1-01/up");
    CHECK_STR(json_string_value(json_object_get(d, "broker")), "localhost:1884");
    CHECK_EQ(json_integer_value(json_object_get(d, "period_s")), 30);   /* default */
    json_decref(l);
    json_t *site = sb_simmq_site(mq);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(site, "equipment"), 0),
                                                "id")), "hou-iaq-1-01");
    json_decref(site);
    sb_simmq_close(mq);
    sb_simmq_free(mq);
}

TEST(config_errors)
{
    static const struct { struct sb_simmq_cfg c; const char *bldg; const char *msg; } bad[] = {
        { { .host = "10.1.2.3" }, "hpo", "loopback" },
        { { .host = "broker.example.com" }, "hpo", "loopback" },
        { { .qos = 2 }, "hpo", "qos 0 or 1" },
        { { .keepalive_s = 3 }, "hpo", "keepalive_s" },
        { { .password = "x" }, "hpo", "password needs username" },
        { { .reconnect_min_ms = 500, .reconnect_max_ms = 100 }, "hpo", "reconnect_max_ms" },
        { { 0 }, "hp/o", "building id" },
        { { 0 }, "hpo/#", "building id" },
        { { 0 }, "", "building id" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sb_sim_site_ref s = { .site = "x", .building = bad[i].bldg };
        struct sb_simmq *mq = (struct sb_simmq *)1;
        char err[200] = "";
        CHECK_EQ(sb_simmq_new(NULL, plant, &s, &bad[i].c, &mq, err, sizeof(err)), SB_EINVAL);
        CHECK(mq == NULL);
        if (!strstr(err, bad[i].msg))
            TAP_FAIL("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].msg);
    }
    /* 127.0.0.0/8 and ::1 are loopback */
    struct sb_simmq_cfg ok = { .host = "127.0.0.42" }, ok6 = { .host = "::1" };
    struct sb_simmq *mq = NULL;
    char err[200];
    CHECK_EQ(sb_simmq_new(NULL, plant, &site_hpo, &ok, &mq, err, sizeof(err)), 0);
    sb_simmq_free(mq);
    CHECK_EQ(sb_simmq_new(NULL, plant, &site_hpo, &ok6, &mq, err, sizeof(err)), 0);
    json_t *l = sb_simmq_list(mq);
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 0), "broker")), "[::1]:1883");
    json_decref(l);
    sb_simmq_free(mq);
}

/* The site document: sbems's model accepts it whole, and the mqtt driver
 * accepts every point address. */
TEST(site_document)
{
    struct rig r;
    char err[200] = "";
    REQUIRE(rig_open(&r, 0, 0, err, sizeof(err)) == 0);
    json_t *site = sb_simmq_site(r.mq);
    json_t *eqs = json_object_get(site, "equipment"), *pts = json_object_get(site, "points");
    size_t n = (size_t)count_zones(), i;
    json_t *p;

    CHECK_EQ(json_array_size(eqs), n);
    CHECK_EQ(json_array_size(pts), n * (4u + (unsigned)has_rh));
    json_t *e = json_array_get(eqs, 2);
    CHECK_STR(json_string_value(json_object_get(e, "id")), "iaq-1-03");
    CHECK_STR(json_string_value(json_object_get(e, "building")), "hpo");
    CHECK_STR(json_string_value(json_object_get(e, "type")), "sensor");
    CHECK_STR(json_string_value(json_object_get(e, "brick")), "Air_Quality_Sensor");

    int fields_seen[NF] = { 0 };
    json_array_foreach(pts, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        const char *eq = json_string_value(json_object_get(p, "equipment"));
        json_t *src = json_object_get(p, "source");
        char *addr = json_dumps(json_object_get(src, "address"), JSON_COMPACT);
        struct sb_mqtt_addr *a = NULL;
        char aerr[200] = "", want[96];

        CHECK_STR(json_string_value(json_object_get(src, "driver")), "mqtt");
        CHECK(json_object_get(p, "building") == NULL);     /* not a point key */
        CHECK_EQ(sb_mqtt__addr_parse(addr, 1, &a, aerr, sizeof(aerr)), 0);
        if (a) {
            CHECK_EQ(a->fmt, SB_MQTT_FMT_JSON);
            CHECK_STR(a->time_field, "ts");
            snprintf(want, sizeof(want), "hpo/iaq/%s/up", eq);
            CHECK_STR(a->topic, want);
            snprintf(want, sizeof(want), "%s.%s", eq, a->field);
            CHECK_STR(id, want);
            for (int f = 0; f < NF; f++)
                fields_seen[f] += strcmp(a->field, FIELDS[f]) == 0;
        }
        sb_mqtt__addr_free(a);
        free(addr);
    }
    CHECK_EQ(fields_seen[0], n);
    CHECK_EQ(fields_seen[1], n);
    CHECK_EQ(fields_seen[2], has_rh ? n : 0);
    CHECK_EQ(fields_seen[3], n);
    CHECK_EQ(fields_seen[4], n);
    CHECK_EQ(fields_seen[5], 0);

    /* as a whole document with its site and building */
    json_t *doc = json_pack("{s:s, s:i, s:[{s:s, s:s}], s:[{s:s, s:s, s:s, s:s}], s:O, s:O}",
                            "format", "sbems-site", "version", 1,
                            "sites", "id", "harbor-point", "name", "Harbor Point",
                            "buildings", "id", "hpo", "site", "harbor-point", "name", "HPO",
                            "timezone", "America/New_York", "equipment", eqs, "points", pts);
    struct sb_model m;
    struct sb_model_errs me;
    sb_model_init(&m);
    sb_model_errs_init(&me);
    CHECK_EQ(sb_model_from_json(doc, &m, &me), 0);
    for (size_t k = 0; k < me.n; k++)
        printf("#   model: %s\n", me.msg[k]);
    const struct sb_point *mp = sb_model_point(&m, "iaq-1-03.occupancy");
    CHECK(mp && mp->kind == SB_POINT_OCCUPANCY);
    sb_model_errs_release(&me);
    sb_model_release(&m);
    json_decref(doc);
    json_decref(site);
    rig_close(&r);
}

TEST(bind_and_value)
{
    struct rig r;
    char err[200] = "";
    int h[NF], h2[NF];
    double v;

    REQUIRE(rig_open(&r, 0, 0, err, sizeof(err)) == 0);
    handles_of(r.mq, "hpo/iaq/iaq-1-03/up", h);
    for (int f = 0; f < NF; f++)
        CHECK(f == 2 && !has_rh ? h[f] == SB_ENOENT : h[f] >= 0);
    /* distinct per sensor and field */
    handles_of(r.mq, "hpo/iaq/iaq-2-03/up", h2);
    CHECK(h2[0] >= 0 && h2[0] != h[0] && h[1] != h[0]);

    /* the same rounding as the wire, from the plant */
    CHECK_EQ(sb_simmq_value(r.mq, h[0], &v), 0);
    CHECK_DBL(v, (double)llround(plant_get("floor1.zone3", "co2")), 0);
    CHECK_EQ(sb_simmq_value(r.mq, h[1], &v), 0);
    CHECK_DBL(v, llround(plant_get("floor1.zone3", "temp") * 10) / 10.0, 0);
    CHECK_DBL(v, plant_get("floor1.zone3", "temp"), 0.05 + 1e-9);
    CHECK_EQ(sb_simmq_value(r.mq, h[3], &v), 0);
    CHECK_DBL(v, (double)llround(plant_get("floor1.zone3", "occupancy")), 0);
    CHECK(v > 0);                     /* 10:00 on a weekday: people */
    CHECK_EQ(sb_simmq_value(r.mq, h[4], &v), 0);
    CHECK_DBL(v, plant_get("floor1.zone3", "occupied"), 0);
    CHECK_EQ(sb_simmq_value(r.mq, h[5], &v), 0);
    CHECK(v >= 88 && v <= 100);
    if (has_rh) {
        CHECK_EQ(sb_simmq_value(r.mq, h[2], &v), 0);
        CHECK_DBL(v, llround(plant_get("floor1.zone3", "rh") * 10) / 10.0, 0);
    }

    /* other ways to name the same value */
    json_t *s1 = json_pack("{s:s, s:s}", "driver", "mqtt",
                           "address", "{\"topic\":\"hpo/iaq/iaq-1-03/up\",\"field\":\"co2\"}");
    json_t *s2 = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}, s:i}", "driver", "mqtt", "address",
                           "topic", "hpo/iaq/iaq-1-03/#", "field", "co2", "time_field", "ts",
                           "format", "json", "poll_s", 0);
    CHECK_EQ(sb_simmq_bind(r.mq, s1), h[0]);
    CHECK_EQ(sb_simmq_bind(r.mq, s2), h[0]);
    json_decref(s1);
    json_decref(s2);

    /* and what names nothing of ours */
    static const char *const none[] = {
        "{\"driver\":\"modbus\",\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/up\",\"field\":\"co2\"}}",
        "{\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/up\",\"field\":\"co2\"}}",
        "{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/iaq-9-03/up\",\"field\":\"co2\"}}",
        "{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/up\",\"field\":\"voc\"}}",
        "{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/+/up\",\"field\":\"co2\"}}",
        "{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/status\",\"field\":\"co2\"}}",
        ("{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/up\",\"field\":\"co2\","
         "\"format\":\"number\"}}"),
        "{\"driver\":\"mqtt\",\"address\":{\"topic\":\"hpo/iaq/iaq-1-03/up\"}}",
        "{\"driver\":\"mqtt\",\"address\":\"hpo/iaq/iaq-1-03/up\"}",
        "{\"driver\":\"mqtt\",\"address\":\"{broken\"}",
        "{\"driver\":\"mqtt\"}",
    };
    for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        json_t *s = json_loads(none[i], 0, NULL);
        int rc = sb_simmq_bind(r.mq, s);
        if (rc != SB_ENOENT)
            TAP_FAIL("%s: bound to %d", none[i], rc);
        json_decref(s);
    }
    CHECK_EQ(sb_simmq_value(r.mq, -1, &v), SB_ENOENT);
    CHECK_EQ(sb_simmq_value(r.mq, 15 * NF, &v), SB_ENOENT);

    /* offline: no reading */
    r.off = "IAQ-1-03";
    CHECK_EQ(sb_simmq_value(r.mq, h[0], &v), SB_EIO);
    CHECK_EQ(sb_simmq_value(r.mq, h2[0], &v), 0);
    r.off = NULL;
    rig_close(&r);
}

/* ---- tests: live --------------------------------------------------------------------- */

/* Value expected per (tick, sensor, field), recorded right after each sync:
 * what sb_simmq_value said when the uplink was built. */
#define TICKS_MAX 64
static double expect[TICKS_MAX][16][NF];
static int expect_rc[TICKS_MAX][16][NF];

static void record(struct rig *r, int t, int hs[16][NF], int n)
{
    for (int s = 0; s < n; s++)
        for (int f = 0; f < NF; f++)
            expect_rc[t][s][f] = hs[s][f] < 0 ? hs[s][f] : sb_simmq_value(r->mq, hs[s][f], &expect[t][s][f]);
}

/* "temperature":22.4 - one decimal, as the sensor's resolution */
static int one_decimal(const char *payload, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr(payload, pat);
    if (!p)
        return 0;
    p += strlen(pat);
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return p[0] == '.' && isdigit((unsigned char)p[1]) && (p[2] == ',' || p[2] == '}');
}

/* Checks one uplink against the expectation of its tick; returns the
 * sensor index or -1. */
static int check_uplink(const struct msg *m, char topics[16][128], int n)
{
    const char *why = NULL;
    json_t *doc = NULL, *j;
    int64_t ts = 0;
    int s;

    for (s = 0; s < n && strcmp(topics[s], m->topic) != 0; s++)
        ;
    if (s == n) {
        TAP_FAIL("unexpected topic %s", m->topic);
        return -1;
    }
    /* decoded the way sbems's mqtt driver decodes it */
    if (sb_mqtt_json_load(m->payload, strlen(m->payload), 4096, &doc, &why) != 0 ||
        sb_mqtt_path_get(doc, "ts", (const json_t **)&j, &why) != 0 ||
        sb_mqtt_json_time(j, &ts, &why) != 0) {
        TAP_FAIL("%s: %s: %s", m->topic, m->payload, why ? why : "?");
        json_decref(doc);
        return -1;
    }
    int t = (int)((ts - T0) / 1000);
    if (ts % 1000 != 0 || t < 1 || t >= TICKS_MAX) {
        TAP_FAIL("%s: ts %lld is not a tick", m->payload, (long long)ts);
        json_decref(doc);
        return -1;
    }
    for (int f = 0; f < NF; f++) {
        double v;
        int rc = sb_mqtt_path_get(doc, FIELDS[f], (const json_t **)&j, &why);
        if (expect_rc[t][s][f] != 0) {
            if (rc != SB_ENOENT)
                TAP_FAIL("%s: %s should be absent", m->payload, FIELDS[f]);
            continue;
        }
        if (rc != 0 || sb_mqtt_json_number(j, &v, &why) != 0) {
            TAP_FAIL("%s: no %s", m->payload, FIELDS[f]);
            continue;
        }
        if (v != expect[t][s][f])
            TAP_FAIL("%s: %s %.17g, sb_simmq_value said %.17g", m->payload, FIELDS[f], v,
                     expect[t][s][f]);
        if ((f == 0 || f == 3 || f == 5) && !json_is_integer(j))
            TAP_FAIL("%s: %s is not an integer", m->payload, FIELDS[f]);
        if (f == 4 && !json_is_boolean(j))
            TAP_FAIL("%s: occupied is not a boolean", m->payload);
        if ((f == 1 || f == 2) && !one_decimal(m->payload, FIELDS[f]))
            TAP_FAIL("%s: %s is not to 0.1", m->payload, FIELDS[f]);
    }
    json_decref(doc);
    return s;
}

struct live {
    struct broker b;
    struct rig r;
    struct client obs;
    int n;                      /* sensors */
    char topics[16][128];       /* uplink topics */
    int hs[16][NF];             /* handles */
};

static int live_open(struct live *L)
{
    char err[200] = "";
    json_t *l;
    size_t i;
    json_t *d;

    if (broker_conf(&L->b) != 0 || broker_start(&L->b) != 0 ||
        cl_open(&L->obs, L->b.port, "observer", "hpo/iaq/#") != 0 ||
        rig_open(&L->r, L->b.port, 1, err, sizeof(err)) != 0) {
        printf("# live_open: %s\n", err);
        return -1;
    }
    l = sb_simmq_list(L->r.mq);
    L->n = (int)json_array_size(l);
    json_array_foreach(l, i, d) {
        snprintf(L->topics[i], 128, "%s", json_string_value(json_object_get(d, "topic")));
        handles_of(L->r.mq, L->topics[i], L->hs[i]);
    }
    json_decref(l);
    return L->n == 15 ? 0 : -1;
}

static void live_close(struct live *L)
{
    if (L->r.mq)
        rig_close(&L->r);
    cl_close(&L->obs);
    broker_stop(&L->b);
}

/* Ticks from tick number t0 to t1 (exclusive), recording expectations. */
static void run_ticks(struct live *L, int t0, int t1, int step)
{
    for (int t = t0; t < t1; t++) {
        tick(&L->r, step);
        record(&L->r, t + 1, L->hs, L->n);
    }
}

TEST(live_uplinks_and_stagger)
{
    struct live L;
    int ret = 0;
    REQUIRE(live_open(&L) == 0);
    REQUIRE(SPIN_FOR(&L.r, stats(&L.r).connected, 5000));
    CHECK_EQ(stats(&L.r).attempts, 1);
    /* statuses: the gateway and every sensor online, retained */
    REQUIRE(SPIN_FOR(&L.r, cl_count(&L.obs) >= 16, 3000));
    CHECK_STR(cl_last(&L.obs, "hpo/iaq/gateway/status", NULL), "online");
    CHECK_STR(cl_last(&L.obs, "hpo/iaq/iaq-1-03/status", NULL), "online");
    CHECK_EQ(cl_count_up(&L.obs, 0), 0);

    /* two periods: the plant fixed in the first, moving in the second */
    int before = cl_count(&L.obs);
    run_ticks(&L, 0, PERIOD_S, 0);
    run_ticks(&L, PERIOD_S, 2 * PERIOD_S, 1);
    CHECK(SPIN_FOR(&L.r, cl_count_up(&L.obs, before) >= 2 * L.n, 3000));
    spin(&L.r, 50);
    CHECK_EQ(cl_count_up(&L.obs, before), 2 * L.n);
    CHECK_EQ(stats(&L.r).published, 2 * L.n);
    CHECK_EQ(stats(&L.r).dropped, 0);

    /* every uplink agrees with sb_simmq_value; each sensor once per
     * period, exactly one period apart; one sensor per tick */
    int64_t first[16] = { 0 }, per_tick[TICKS_MAX] = { 0 };
    int times[16] = { 0 };
    pthread_mutex_lock(&L.obs.mu);
    for (int i = before; i < L.obs.n; i++) {
        struct msg *m = &L.obs.seen[i];
        if (!strstr(m->topic, "/up"))
            continue;
        CHECK_EQ(m->retain, 0);
        int s = check_uplink(m, L.topics, L.n);
        if (s < 0)
            continue;
        const char *q = strstr(m->payload, "\"ts\":\"") + 6;
        int64_t ts = 0;
        sb_time_parse(q, 24, &ts);
        per_tick[(ts - T0) / 1000]++;
        if (times[s]++ == 0)
            first[s] = ts;
        else
            CHECK_EQ(ts - first[s], PERIOD_S * 1000);
    }
    pthread_mutex_unlock(&L.obs.mu);
    for (int s = 0; s < L.n; s++)
        CHECK_EQ(times[s], 2);
    for (int t = 0; t < TICKS_MAX; t++)
        ret |= per_tick[t] > 1;
    CHECK_EQ(ret, 0);
    /* 15 sensors over 15 s: sensor i in the slots at offset i s */
    for (int s = 0; s < L.n; s++)
        CHECK_EQ((first[s] - T0) % (PERIOD_S * 1000), s * 1000);
    CHECK(L.r.sync_max_ns < 20 * 1000000LL);
    live_close(&L);
}

TEST(live_offline_fault)
{
    struct live L;
    REQUIRE(live_open(&L) == 0);
    REQUIRE(SPIN_FOR(&L.r, stats(&L.r).connected, 5000));
    run_ticks(&L, 0, PERIOD_S, 1);

    /* IAQ-1-03 goes offline: status says so, it publishes nothing for a
     * whole period while the others carry on */
    int before = cl_count(&L.obs);
    uint64_t silenced = stats(&L.r).silenced;
    L.r.off = "IAQ-1-03";
    run_ticks(&L, PERIOD_S, 2 * PERIOD_S, 1);
    CHECK(SPIN_FOR(&L.r, cl_count_up(&L.obs, before) >= L.n - 1, 3000));
    spin(&L.r, 50);
    CHECK_EQ(cl_count_up(&L.obs, before), L.n - 1);
    CHECK_EQ(cl_count_topic(&L.obs, "hpo/iaq/iaq-1-03/up", before), 0);
    CHECK_EQ(cl_count_topic(&L.obs, "hpo/iaq/iaq-1-03/status", before), 1);
    CHECK_STR(cl_last(&L.obs, "hpo/iaq/iaq-1-03/status", NULL), "offline");
    CHECK_EQ(stats(&L.r).silenced, silenced + 1);

    /* a late subscriber gets the retained statuses: 15 sensors + gateway */
    struct client late;
    REQUIRE(cl_open(&late, L.b.port, "late", "hpo/iaq/+/status") == 0);
    CHECK(SPIN_FOR(&L.r, cl_count(&late) >= 16, 3000));
    int ret = 0;
    CHECK_STR(cl_last(&late, "hpo/iaq/iaq-1-03/status", &ret), "offline");
    CHECK_EQ(ret, 1);
    CHECK_STR(cl_last(&late, "hpo/iaq/iaq-1-04/status", &ret), "online");
    CHECK_STR(cl_last(&late, "hpo/iaq/gateway/status", &ret), "online");
    cl_close(&late);

    /* back: online, and its uplinks resume */
    before = cl_count(&L.obs);
    L.r.off = NULL;
    run_ticks(&L, 2 * PERIOD_S, 3 * PERIOD_S, 1);
    CHECK(SPIN_FOR(&L.r, cl_count_up(&L.obs, before) >= L.n, 3000));
    CHECK_EQ(cl_count_topic(&L.obs, "hpo/iaq/iaq-1-03/up", before), 1);
    CHECK_STR(cl_last(&L.obs, "hpo/iaq/iaq-1-03/status", NULL), "online");
    pthread_mutex_lock(&L.obs.mu);
    for (int i = before; i < L.obs.n; i++)
        if (strstr(L.obs.seen[i].topic, "/up"))
            check_uplink(&L.obs.seen[i], L.topics, L.n);
    pthread_mutex_unlock(&L.obs.mu);
    live_close(&L);
}

TEST(live_broker_restart)
{
    struct live L;
    REQUIRE(live_open(&L) == 0);
    REQUIRE(SPIN_FOR(&L.r, stats(&L.r).connected, 5000));
    run_ticks(&L, 0, 5, 1);

    /* the broker goes away: the loop keeps its pace, uplinks are dropped */
    cl_close(&L.obs);
    broker_stop(&L.b);
    CHECK(SPIN_FOR(&L.r, !stats(&L.r).connected, 5000));
    uint64_t dropped = stats(&L.r).dropped, published = stats(&L.r).published;
    L.r.sync_max_ns = 0;
    int64_t t = mono_ns();
    run_ticks(&L, 5, 5 + PERIOD_S, 1);      /* one period: every sensor due once */
    t = mono_ns() - t;
    spin(&L.r, 600);                         /* back-off 100, 200, 400 ms */
    CHECK_EQ(stats(&L.r).dropped, dropped + (uint64_t)L.n);
    CHECK_EQ(stats(&L.r).published, published);
    CHECK(stats(&L.r).attempts >= 2);        /* it keeps trying */
    CHECK(strstr(stats(&L.r).error, "Connection refused") != NULL);
    printf("#   broker down: %d ticks in %.0f ms, slowest sync %.2f ms, error \"%s\"\n",
           PERIOD_S, t / 1e6, L.r.sync_max_ns / 1e6, stats(&L.r).error);
    CHECK(L.r.sync_max_ns < 20 * 1000000LL);

    /* back on the same port: reconnected within the back-off ceiling, and
     * the new broker (no persistence) gets the statuses again */
    uint64_t connects = stats(&L.r).connects;
    REQUIRE(broker_start(&L.b) == 0);
    REQUIRE(cl_open(&L.obs, L.b.port, "observer2", "hpo/iaq/#") == 0);
    CHECK(SPIN_FOR(&L.r, stats(&L.r).connects > connects, 3000));
    CHECK(SPIN_FOR(&L.r, cl_count_topic(&L.obs, "hpo/iaq/gateway/status", 0) >= 1, 3000));
    CHECK_STR(cl_last(&L.obs, "hpo/iaq/gateway/status", NULL), "online");
    CHECK_EQ(stats(&L.r).error[0], '\0');
    int before = cl_count(&L.obs);
    run_ticks(&L, 5 + PERIOD_S, 5 + 2 * PERIOD_S, 1);
    CHECK(SPIN_FOR(&L.r, cl_count_up(&L.obs, before) >= L.n, 3000));
    CHECK_EQ(stats(&L.r).published, published + (uint64_t)L.n);
    live_close(&L);
}

/* The first attempt is refused (the case libmosquitto's own thread gives
 * up on); the face connects when the broker appears. */
TEST(live_broker_late)
{
    struct broker b;
    struct rig r;
    char err[200] = "";

    REQUIRE(broker_conf(&b) == 0);
    REQUIRE(rig_open(&r, b.port, 1, err, sizeof(err)) == 0);
    for (int i = 0; i < 5; i++)
        tick(&r, 0);
    spin(&r, 300);
    CHECK_EQ(stats(&r).connected, 0);
    CHECK(stats(&r).attempts >= 2);
    CHECK(stats(&r).dropped >= 1);
    REQUIRE(broker_start(&b) == 0);
    CHECK(SPIN_FOR(&r, stats(&r).connected, 3000));
    CHECK_EQ(stats(&r).connects, 1);
    rig_close(&r);
    broker_stop(&b);
}

/* 1 when the gateway and all 15 sensors last said "offline". */
static int all_offline(struct client *obs)
{
    char t[64];

    if (strcmp(cl_last(obs, "hpo/iaq/gateway/status", NULL), "offline") != 0)
        return 0;
    for (int f = 1; f <= 3; f++)
        for (int z = 1; z <= 5; z++) {
            snprintf(t, sizeof(t), "hpo/iaq/iaq-%d-%02d/status", f, z);
            if (strcmp(cl_last(obs, t, NULL), "offline") != 0)
                return 0;
        }
    return 1;
}

/* The will: a simulator killed without close() leaves the gateway
 * "offline"; close() says "offline" for every sensor itself. */
TEST(live_will_and_close)
{
    struct broker b;
    struct client obs;
    REQUIRE(broker_conf(&b) == 0 && broker_start(&b) == 0);
    REQUIRE(cl_open(&obs, b.port, "observer", "hpo/iaq/+/status") == 0);

    pid_t pid = fork();
    if (pid == 0) {
        struct rig r;
        char err[200];
        if (rig_open(&r, b.port, 1, err, sizeof(err)) != 0)
            _exit(2);
        for (int i = 0; i < 4000; i++)      /* at most ~20 s; the parent kills it */
            tick(&r, 0);
        _exit(0);
    }
    REQUIRE(pid > 0);
    kid_add(pid);
    CHECK(WAIT_FOR(strcmp(cl_last(&obs, "hpo/iaq/gateway/status", NULL), "online") == 0, 5000));
    CHECK(WAIT_FOR(cl_count(&obs) >= 16, 3000));
    kill(pid, SIGKILL);
    kid_wait(pid, 5000);
    CHECK(WAIT_FOR(strcmp(cl_last(&obs, "hpo/iaq/gateway/status", NULL), "offline") == 0, 5000));
    /* the sensors' own statuses are stale: one will per connection */
    CHECK_STR(cl_last(&obs, "hpo/iaq/iaq-1-03/status", NULL), "online");

    /* a clean close */
    struct rig r;
    char err[200];
    REQUIRE(rig_open(&r, b.port, 1, err, sizeof(err)) == 0);
    REQUIRE(SPIN_FOR(&r, stats(&r).connected, 5000));
    CHECK(SPIN_FOR(&r, strcmp(cl_last(&obs, "hpo/iaq/gateway/status", NULL), "online") == 0, 3000));
    rig_close(&r);
    /* every sensor and the gateway end "offline" (counting messages raced
     * with the "online" statuses of the connect still arriving) */
    CHECK(WAIT_FOR(all_offline(&obs), 3000));
    CHECK_STR(cl_last(&obs, "hpo/iaq/gateway/status", NULL), "offline");
    CHECK_STR(cl_last(&obs, "hpo/iaq/iaq-1-03/status", NULL), "offline");
    CHECK_STR(cl_last(&obs, "hpo/iaq/iaq-3-05/status", NULL), "offline");
    /* a DISCONNECT (no will), where the killed one only closed its socket */
    CHECK(WAIT_FOR(broker_logged(&b, "Client sbems-sim-hpo disconnected."), 3000));
    CHECK(broker_logged(&b, "Client sbems-sim-hpo closed its connection."));
    cl_close(&obs);
    broker_stop(&b);
}

/* A broker that hangs (SIGSTOP): the TCP connection stays up, nothing is
 * answered.  The loop keeps its pace; keep-alive (5 s here) ends the
 * session, reconnect attempts are ended by keep-alive too (no CONNACK),
 * and after SIGCONT the face is back. */
TEST(live_broker_hung)
{
    struct live L;
    REQUIRE(live_open(&L) == 0);
    REQUIRE(SPIN_FOR(&L.r, stats(&L.r).connected, 5000));
    cl_close(&L.obs);
    kill(L.b.pid, SIGSTOP);
    int64_t t0 = mono_ns();
    L.r.sync_max_ns = 0;
    int t = 0;
    while (stats(&L.r).connected && mono_ns() - t0 < 15000000000LL && t < TICKS_MAX - 1)
        run_ticks(&L, t, t + 1, 0), spin(&L.r, 200), t++;
    double lost_s = (mono_ns() - t0) / 1e9;
    CHECK_EQ(stats(&L.r).connected, 0);
    CHECK(lost_s < 12);
    uint64_t dropped = stats(&L.r).dropped;
    for (int i = 0; i < PERIOD_S && t < TICKS_MAX - 1; i++, t++)
        run_ticks(&L, t, t + 1, 0), spin(&L.r, 20);
    CHECK(stats(&L.r).dropped > dropped);
    printf("#   hung broker: session given up after %.1f s, slowest sync %.2f ms, \"%s\"\n",
           lost_s, L.r.sync_max_ns / 1e6, stats(&L.r).error);
    CHECK(L.r.sync_max_ns < 20 * 1000000LL);
    kill(L.b.pid, SIGCONT);
    CHECK(SPIN_FOR(&L.r, stats(&L.r).connected, 15000));
    live_close(&L);
}

/* Credentials and QoS 1: a wrong password is refused and retried without
 * end (and never stalls); the right one connects, uplinks arrive at QoS 1. */
TEST(live_password_qos1)
{
    struct broker b;
    struct client obs;
    struct rig r;
    char pw[320], extra[400], err[200] = "";

    REQUIRE(broker_conf(&b) == 0);
    snprintf(pw, sizeof(pw), "%s/passwd", b.dir);
    char *argv[] = { "/usr/bin/mosquitto_passwd", "-b", "-c", pw, "sim", "s3cret", NULL };
    pid_t p = spawn(argv);
    REQUIRE(p > 0);
    kid_wait(p, 10000);
    snprintf(extra, sizeof(extra), "allow_anonymous false\npassword_file %s\n", pw);
    REQUIRE(broker_write_conf(&b, extra) == 0);
    REQUIRE(broker_start(&b) == 0);

    struct sb_simmq_cfg c = { .period_s = PERIOD_S, .reconnect_min_ms = 100, .reconnect_max_ms = 200,
                              .keepalive_s = 5, .username = "sim", .password = "wrong", .qos = 1 };
    REQUIRE(rig_open_cfg(&r, b.port, 1, &c, err, sizeof(err)) == 0);
    spin(&r, 700);
    CHECK_EQ(stats(&r).connected, 0);
    CHECK(stats(&r).attempts >= 3);
    CHECK(strstr(stats(&r).error, "not authorised") != NULL);
    printf("#   wrong password: %llu attempts in 0.7 s, \"%s\"\n",
           (unsigned long long)stats(&r).attempts, stats(&r).error);
    rig_close(&r);

    REQUIRE(cl_open_auth(&obs, b.port, "observer", "hpo/iaq/#", "sim", "s3cret") == 0);

    c.password = "s3cret";
    REQUIRE(rig_open_cfg(&r, b.port, 1, &c, err, sizeof(err)) == 0);
    CHECK(SPIN_FOR(&r, stats(&r).connected, 3000));
    for (int i = 0; i < PERIOD_S; i++)
        tick(&r, 1);
    CHECK(SPIN_FOR(&r, cl_count_up(&obs, 0) >= 15, 3000));
    int qos1 = 0;
    pthread_mutex_lock(&obs.mu);
    for (int i = 0; i < obs.n; i++)
        qos1 += strstr(obs.seen[i].topic, "/up") && obs.seen[i].qos == 1;
    pthread_mutex_unlock(&obs.mu);
    CHECK_EQ(qos1, 15);
    rig_close(&r);
    cl_close(&obs);
    broker_stop(&b);
}

/* rel from the top of the tree: $SBEMS_SRCDIR, else this file's path, else cwd */
static void repo_path(char *out, size_t cap, const char *rel)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/"), *env = getenv("SBEMS_SRCDIR");

    if (env)
        snprintf(out, cap, "%s/%s", env, rel);
    else if (p)
        snprintf(out, cap, "%.*s%s", (int)(p - f), f, rel);
    else
        snprintf(out, cap, "%s", rel);
}

static void cleanup(void)
{
    char cmd[300];
    kids_kill_all();
    if (root) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", root);
    }
}

int main(void)
{
    struct sb_plant_config pc;
    char err[256] = "", epw[512];

    TAP_START();
    if (!(root = mkdtemp(tmpl))) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    atexit(cleanup);
    signal(SIGPIPE, SIG_IGN);
    mosquitto_lib_init();
    wx = calloc(1, sizeof(*wx));
    sb_plant_config_default(&pc);
    repo_path(epw, sizeof(epw), "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    if (!wx || sb_epw_load(epw, wx, err, sizeof(err)) != 0 ||
        sb_plant_new(&pc, wx, sim_ms, &plant, err, sizeof(err)) != 0) {
        printf("Bail out! plant: %s\n", err);
        return 1;
    }
    sb_plant_step(plant, 60, sim_ms += 60000);
    has_rh = sb_plant_find(plant, "floor1.zone1.rh") >= 0;
    printf("# plant %s floorF.zoneZ.rh: humidity %s\n", has_rh ? "has" : "has no",
           has_rh ? "published" : "left out");

    RUN(list_names_topics);
    RUN(config_errors);
    RUN(site_document);
    RUN(bind_and_value);
    if (access("/usr/sbin/mosquitto", X_OK) != 0) {
        printf("# /usr/sbin/mosquitto not installed: live tests skipped\n");
        sb_plant_free(plant);
        free(wx);
        TAP_END();
    }
    RUN(live_uplinks_and_stagger);
    RUN(live_offline_fault);
    RUN(live_broker_restart);
    RUN(live_broker_late);
    RUN(live_will_and_close);
    RUN(live_password_qos1);
    RUN(live_broker_hung);

    sb_plant_free(plant);
    free(wx);
    TAP_END();
}

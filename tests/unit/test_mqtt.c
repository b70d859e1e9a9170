/*
 * test_mqtt.c - the MQTT driver against a real mosquitto broker on
 * 127.0.0.1: payload parsers, Sparkplug B codec and aliases, configuration
 * and address errors, values from numbers / JSON fields / wildcards / time
 * fields / Sparkplug, malformed payloads, writes, the published topic tree
 * and commands, password and TLS brokers, a broker that starts late, broker
 * restarts (persistent session and resubscription), pipeline back-pressure
 * and a 100,000-message burst measured next to mosquitto_sub.
 *
 * The framework services (sb_drv_push, sb_drv_device_state,
 * sb_drv_count_bad) are defined here and record what the driver reports.
 * Every process started (mosquitto, mosquitto_pub, mosquitto_sub, openssl,
 * mosquitto_passwd) is tracked by PID and killed at the end; every wait is
 * bounded.
 */
#include <errno.h>
#include <fcntl.h>
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

#include "core/err.h"
#include "core/log.h"
#include "drivers/driver.h"
#include "drivers/mqtt/mqtt.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/spb.h"
#include "store/sample.h"
#include "tap.h"

extern char **environ;

static char tmpl[] = "/tmp/sbems-test-mqtt-XXXXXX";
static char *root;
static int logfd = -1;
static char logpath[300];

/* ---- the framework, as this test sees it ------------------------------------------ */

#define REC_MAX 8192

static struct {
    pthread_mutex_t mu;
    struct sb_drv_value v[REC_MAX];     /* values pushed (first REC_MAX) */
    size_t n;                           /* values recorded */
    atomic_int eagain;                  /* push answers SB_EAGAIN while set */
    atomic_int bench;                   /* count only */
    atomic_ullong total;                /* values pushed, all */
    atomic_llong last_ns;               /* CLOCK_MONOTONIC of the last push */
    int up, downs;                      /* device state: last ok, times reported down */
    char state_err[SB_DRV_ERR_MAX];     /* last error text */
    char key[SB_DRV_KEY_MAX];           /* key of the last report */
    int nbad;                           /* sb_drv_count_bad calls */
    char bad[SB_DRV_ERR_MAX];           /* the last one */
} R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int sb_drv_push(struct sb_drv *drv, const struct sb_drv_value *v, size_t n)
{
    (void)drv;
    if (atomic_load(&R.eagain))
        return SB_EAGAIN;
    if (!atomic_load(&R.bench)) {
        pthread_mutex_lock(&R.mu);
        for (size_t i = 0; i < n && R.n < REC_MAX; i++)
            R.v[R.n++] = v[i];
        pthread_mutex_unlock(&R.mu);
    }
    atomic_fetch_add(&R.total, n);
    atomic_store(&R.last_ns, mono_ns());
    return 0;
}

void sb_drv_device_state(struct sb_drv *drv, const char *key, int ok, const char *err)
{
    (void)drv;
    pthread_mutex_lock(&R.mu);
    R.up = ok;
    R.downs += !ok;
    snprintf(R.state_err, sizeof(R.state_err), "%s", err ? err : "");
    snprintf(R.key, sizeof(R.key), "%s", key);
    pthread_mutex_unlock(&R.mu);
}

void sb_drv_count_bad(struct sb_drv *drv, const char *key, const char *what)
{
    (void)drv;
    (void)key;
    pthread_mutex_lock(&R.mu);
    R.nbad++;
    snprintf(R.bad, sizeof(R.bad), "%s", what);
    pthread_mutex_unlock(&R.mu);
}

static void rec_reset(void)
{
    pthread_mutex_lock(&R.mu);
    R.n = 0;
    R.up = 0;
    R.downs = 0;
    R.nbad = 0;
    R.state_err[0] = R.bad[0] = '\0';
    pthread_mutex_unlock(&R.mu);
    atomic_store(&R.total, 0);
    atomic_store(&R.eagain, 0);
    atomic_store(&R.bench, 0);
}

static size_t rec_n(void)
{
    pthread_mutex_lock(&R.mu);
    size_t n = R.n;
    pthread_mutex_unlock(&R.mu);
    return n;
}

static int rec_up(void)
{
    pthread_mutex_lock(&R.mu);
    int v = R.up;
    pthread_mutex_unlock(&R.mu);
    return v;
}

static int rec_downs(void)
{
    pthread_mutex_lock(&R.mu);
    int v = R.downs;
    pthread_mutex_unlock(&R.mu);
    return v;
}

static int rec_nbad(void)
{
    pthread_mutex_lock(&R.mu);
    int v = R.nbad;
    pthread_mutex_unlock(&R.mu);
    return v;
}

/* The first recorded value of point id (index >= from), or NULL. */
static const struct sb_drv_value *rec_find(uint32_t id, size_t from)
{
    const struct sb_drv_value *r = NULL;
    pthread_mutex_lock(&R.mu);
    for (size_t i = from; i < R.n && !r; i++)
        if (R.v[i].point == id)
            r = &R.v[i];
    pthread_mutex_unlock(&R.mu);
    return r;
}

static size_t rec_count(uint32_t id)
{
    size_t k = 0;
    pthread_mutex_lock(&R.mu);
    for (size_t i = 0; i < R.n; i++)
        k += R.v[i].point == id;
    pthread_mutex_unlock(&R.mu);
    return k;
}

/* A copy of one of R's strings, taken under the lock (the driver's
 * thread writes them). */
static const char *rec_text(const char *field)
{
    static char buf[4][SB_DRV_ERR_MAX];
    static int k;
    char *b = buf[k++ % 4];
    pthread_mutex_lock(&R.mu);
    snprintf(b, SB_DRV_ERR_MAX, "%s", field);
    pthread_mutex_unlock(&R.mu);
    return b;
}
#define REC_STR(f) rec_text(R.f)

static double rec_value(size_t i)
{
    pthread_mutex_lock(&R.mu);
    double v = i < R.n ? R.v[i].v : NAN;
    pthread_mutex_unlock(&R.mu);
    return v;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Poll cond every 5 ms for at most ms; returns its last value. */
#define WAIT_FOR(cond, ms)                                                   \
    ({                                                                       \
        int64_t end_ = mono_ns() + (int64_t)(ms) * 1000000LL;                \
        int ok_;                                                             \
        while (!(ok_ = !!(cond)) && mono_ns() < end_)                        \
            sleep_ms(5);                                                     \
        ok_;                                                                 \
    })

/* ---- child processes --------------------------------------------------------------- */

#define MAX_KIDS 64
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

/* Wait for p up to ms; SIGKILL after.  Returns the exit status or -1. */
static int kid_wait(pid_t p, int ms)
{
    int st = 0;
    int64_t end = mono_ns() + (int64_t)ms * 1000000LL;
    while (waitpid(p, &st, WNOHANG) == 0) {
        if (mono_ns() > end) {
            kill(p, SIGKILL);
            waitpid(p, &st, 0);
            kid_forget(p);
            return -1;
        }
        sleep_ms(5);
    }
    kid_forget(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
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

/* Start argv with stdin from in (or /dev/null) and stdout/err to out (or
 * /dev/null).  Returns the pid or -1. */
static pid_t spawn(char *const argv[], const char *in, const char *out)
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, in ? in : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null",
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc)
        return -1;
    kid_add(pid);
    return pid;
}

/* Run argv to completion (at most 20 s); returns its exit status. */
static int run(char *const argv[])
{
    pid_t p = spawn(argv, NULL, NULL);
    return p < 0 ? -1 : kid_wait(p, 20000);
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

/* ---- the broker -------------------------------------------------------------------- */

struct broker {
    pid_t pid;                  /* running mosquitto, 0 if none */
    int port;                   /* its listener on 127.0.0.1 */
    char dir[256];              /* its files */
    char conf[300];             /* its configuration */
    char log[300];              /* its log */
};

static int bdirn;

/* Write the configuration (extra appended) in a new directory. */
static int broker_conf(struct broker *b, const char *extra)
{
    FILE *f;
    memset(b, 0, sizeof(*b));
    b->port = free_port();
    snprintf(b->dir, sizeof(b->dir), "%s/broker%d", root, bdirn++);
    snprintf(b->conf, sizeof(b->conf), "%s/mosquitto.conf", b->dir);
    snprintf(b->log, sizeof(b->log), "%s/mosquitto.log", b->dir);
    if (mkdir(b->dir, 0700) != 0 || !(f = fopen(b->conf, "w")))
        return -1;
    fprintf(f, "listener %d 127.0.0.1\n", b->port);
    fprintf(f, "log_dest file %s\nlog_type error\nlog_type warning\nlog_type notice\n"
            "log_type information\nlog_type subscribe\n", b->log);
    fprintf(f, "max_queued_messages 1000000\n");   /* 0 ("no limit") fails: "out of memory" in 2.0.11 */
    if (geteuid() == 0)
        fprintf(f, "user root\n");   /* else it drops to "mosquitto", locked out of dir */
    fprintf(f, "%s", extra ? extra : "allow_anonymous true\n");
    return fclose(f);
}

static int broker_start(struct broker *b)
{
    char *argv[] = { "/usr/sbin/mosquitto", "-c", b->conf, NULL };
    b->pid = spawn(argv, NULL, NULL);
    if (b->pid < 0 || !WAIT_FOR(port_open(b->port), 5000)) {
        fprintf(stderr, "# mosquitto did not start on %d\n", b->port);
        return -1;
    }
    return 0;
}

static void broker_stop(struct broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);   /* a clean exit writes the persistence file */
        kid_wait(b->pid, 5000);
    }
    b->pid = 0;
}

/* The broker log has line (e.g. "anchor 0 bench/n" for a SUBSCRIBE). */
static int broker_logged(const struct broker *b, const char *line)
{
    char buf[65536];
    FILE *f = fopen(b->log, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, line) != NULL;
}

/* ---- a test client (publisher / observer) on libmosquitto ------------------------- */

#define SEEN_MAX 64

struct client {
    struct mosquitto *m;
    pthread_mutex_t mu;
    atomic_int acked;           /* PUBACKs (QoS 1) / sends (QoS 0) */
    atomic_int subacks;
    int n;                      /* messages seen */
    char topic[SEEN_MAX][256];
    char payload[SEEN_MAX][256];
    int retain[SEEN_MAX];
};

static void cl_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    struct client *c = ud;
    (void)m;
    pthread_mutex_lock(&c->mu);
    if (c->n < SEEN_MAX) {
        snprintf(c->topic[c->n], 256, "%s", msg->topic);
        snprintf(c->payload[c->n], 256, "%.*s", msg->payloadlen, (const char *)msg->payload);
        c->retain[c->n] = msg->retain;
        c->n++;
    }
    pthread_mutex_unlock(&c->mu);
}

static void cl_on_publish(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    (void)mid;
    atomic_fetch_add(&((struct client *)ud)->acked, 1);
}

static void cl_on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *g)
{
    (void)m;
    (void)mid;
    (void)n;
    (void)g;
    atomic_fetch_add(&((struct client *)ud)->subacks, 1);
}

static int cl_open(struct client *c, int port, const char *id)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->mu, NULL);
    c->m = mosquitto_new(id, true, c);
    if (!c->m)
        return -1;
    mosquitto_message_callback_set(c->m, cl_on_message);
    mosquitto_publish_callback_set(c->m, cl_on_publish);
    mosquitto_subscribe_callback_set(c->m, cl_on_subscribe);
    if (mosquitto_connect(c->m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(c->m);
        c->m = NULL;
        return -1;
    }
    return 0;
}

static void cl_close(struct client *c)
{
    if (!c->m)
        return;
    mosquitto_disconnect(c->m);
    mosquitto_loop_stop(c->m, false);
    mosquitto_destroy(c->m);
    c->m = NULL;
    pthread_mutex_destroy(&c->mu);
}

/* Publish and wait until libmosquitto reports it sent/acknowledged. */
static int cl_pub(struct client *c, const char *topic, const void *p, int len, int qos, int retain)
{
    int before = atomic_load(&c->acked);
    if (mosquitto_publish(c->m, NULL, topic, len, p, qos, retain) != MOSQ_ERR_SUCCESS)
        return -1;
    return WAIT_FOR(atomic_load(&c->acked) > before, 5000) ? 0 : -1;
}

static int cl_pubs(struct client *c, const char *topic, const char *text, int qos)
{
    return cl_pub(c, topic, text, (int)strlen(text), qos, 0);
}

static int cl_sub(struct client *c, const char *filter)
{
    int before = atomic_load(&c->subacks);
    if (mosquitto_subscribe(c->m, NULL, filter, 1) != MOSQ_ERR_SUCCESS)
        return -1;
    return WAIT_FOR(atomic_load(&c->subacks) > before, 5000) ? 0 : -1;
}

/* ---- driver helpers ---------------------------------------------------------------- */

static struct sb_drv *const DRV = (struct sb_drv *)&R;

static void *drv_new(const char *conf_text, char *err, size_t errlen)
{
    json_error_t je;
    json_t *conf = conf_text ? json_loads(conf_text, 0, &je) : NULL;
    void *st = NULL;
    if (conf_text && !conf)
        return NULL;
    if (sb_driver_mqtt.init(DRV, conf, &st, err, errlen) != 0)
        st = NULL;
    json_decref(conf);
    return st;
}

static int drv_bind(void *st, struct sb_drv_point *pt, uint32_t id, const char *addr,
                    char *err, size_t errlen)
{
    char key[SB_DRV_KEY_MAX];
    memset(pt, 0, sizeof(*pt));
    pt->id = id;
    pt->slug = "p";
    pt->address = addr;
    pt->address_json = addr[0] == '{' || addr[0] == '[';
    return sb_driver_mqtt.bind(st, pt, key, sizeof(key), err, errlen);
}

static uint64_t drv_stat(void *st, size_t off)
{
    struct sb_mqtt_stats s;
    sb_mqtt_get_stats(st, &s);
    return *(uint64_t *)((char *)&s + off);
}
#define STAT(st, f) drv_stat(st, offsetof(struct sb_mqtt_stats, f))

/* Subscriptions acknowledged (a SUBACK per filter) seen in the broker log:
 * the broker logs "<client id> <qos> <filter>" for each subscription. */
static int subscribed(const struct broker *b, const char *id, const char *filter)
{
    char line[512];
    snprintf(line, sizeof(line), "%s 1 %s", id, filter);
    return broker_logged(b, line);
}

static char conf_buf[1024];
static const char *conf_for(const struct broker *b, const char *id, const char *extra)
{
    snprintf(conf_buf, sizeof(conf_buf),
             "{\"host\":\"127.0.0.1\",\"port\":%d,\"client_id\":\"%s\","
             "\"reconnect_min_ms\":100,\"reconnect_max_ms\":400%s%s}",
             b->port, id, extra ? "," : "", extra ? extra : "");
    return conf_buf;
}

static void drv_done(void *st, struct sb_drv_point *pts, int n)
{
    if (!st)
        return;
    sb_driver_mqtt.stop(st);
    for (int i = 0; i < n; i++)
        sb_driver_mqtt.unbind(st, &pts[i]);
    sb_driver_mqtt.free(st);
}

/* ---- Sparkplug payload building (test side, generated code) ----------------------- */

typedef Org__Eclipse__Tahu__Protobuf__Payload__Metric Metric;
typedef Org__Eclipse__Tahu__Protobuf__Payload Payload;

static Metric m_init(const char *name, int64_t alias, uint32_t dt, uint64_t ts)
{
    Metric m = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__INIT;
    m.name = (char *)name;
    if (alias >= 0) {
        m.has_alias = 1;
        m.alias = (uint64_t)alias;
    }
    if (dt) {
        m.has_datatype = 1;
        m.datatype = dt;
    }
    if (ts) {
        m.has_timestamp = 1;
        m.timestamp = ts;
    }
    return m;
}

static void m_int(Metric *m, uint32_t v)
{
    m->value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_INT_VALUE;
    m->int_value = v;
}

static void m_long(Metric *m, uint64_t v)
{
    m->value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_LONG_VALUE;
    m->long_value = v;
}

static void m_float(Metric *m, float v)
{
    m->value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_FLOAT_VALUE;
    m->float_value = v;
}

static void m_double(Metric *m, double v)
{
    m->value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_DOUBLE_VALUE;
    m->double_value = v;
}

static void m_bool(Metric *m, int v)
{
    m->value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_BOOLEAN_VALUE;
    m->boolean_value = v;
}

static size_t spb_pack(uint8_t *buf, size_t cap, uint64_t ts, Metric *ms, size_t n)
{
    Payload p = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__INIT;
    Metric *ptrs[32];
    for (size_t i = 0; i < n && i < 32; i++)
        ptrs[i] = &ms[i];
    p.has_timestamp = ts != 0;
    p.timestamp = ts;
    p.has_seq = 1;
    p.n_metrics = n;
    p.metrics = ptrs;
    size_t len = org__eclipse__tahu__protobuf__payload__get_packed_size(&p);
    if (len > cap)
        return 0;
    return org__eclipse__tahu__protobuf__payload__pack(&p, buf);
}

#define DT(x) ORG__ECLIPSE__TAHU__PROTOBUF__DATA_TYPE__##x

/* ---- pure parsers ------------------------------------------------------------------ */

TEST(number_parse)
{
    static const struct { const char *s; int rc; double v; } c[] = {
        { "21.5", 0, 21.5 }, { " 415\n", 0, 415 }, { "-3e2", 0, -300 }, { "+.5", 0, 0.5 },
        { "true", 0, 1 }, { "FALSE", 0, 0 }, { "1e999", SB_ENAN, 0 }, { "nan", SB_EINVAL, 0 },
        { "inf", SB_EINVAL, 0 }, { "0x10", SB_EINVAL, 0 }, { "", SB_EINVAL, 0 },
        { "12abc", SB_EINVAL, 0 }, { "1.2.3", SB_EINVAL, 0 }, { "e5", SB_EINVAL, 0 },
        { "5e", SB_EINVAL, 0 }, { "-", SB_EINVAL, 0 }, { ".", SB_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        double v = -1;
        const char *why = NULL;
        int rc = sb_mqtt_number_parse(c[i].s, strlen(c[i].s), &v, &why);
        CHECK_EQ(rc, c[i].rc);
        if (rc == 0)
            CHECK_DBL(v, c[i].v, 1e-12);
        else
            CHECK(why != NULL);
    }
    double v;
    const char *why;
    CHECK_EQ(sb_mqtt_number_parse("7\0" "8", 3, &v, &why), SB_EINVAL);  /* embedded NUL */
    char big[100];
    memset(big, '1', sizeof(big));
    CHECK_EQ(sb_mqtt_number_parse(big, sizeof(big), &v, &why), SB_EINVAL);
}

TEST(json_path)
{
    json_error_t je;
    json_t *d = json_loads("{\"co2\":612,\"data\":[{\"v\":1.5},{\"v\":\"2.5\"}],\"ok\":true,"
                           "\"n\":null,\"s\":\"high\",\"o\":{\"a\":{\"b\":[0,[7]]}}}", 0, &je);
    const json_t *j;
    const char *why;
    double v;
    REQUIRE(d);
    static const struct { const char *path; int rc; double v; } c[] = {
        { "co2", 0, 612 }, { "data.0.v", 0, 1.5 }, { "data[1].v", 0, 2.5 }, { "ok", 0, 1 },
        { "o.a.b.1.0", 0, 7 }, { "o.a.b[1][0]", 0, 7 }, { "missing", SB_ENOENT, 0 },
        { "data.5.v", SB_ENOENT, 0 }, { "co2.x", SB_ENOENT, 0 }, { "n", SB_ENOENT, 0 },
        { "s", SB_EINVAL, 0 }, { "o", SB_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int rc = sb_mqtt_path_get(d, c[i].path, &j, &why);
        if (rc == 0)
            rc = sb_mqtt_json_number(j, &v, &why);
        CHECK_EQ(rc, c[i].rc);
        if (rc == 0)
            CHECK_DBL(v, c[i].v, 1e-12);
    }
    CHECK_EQ(sb_mqtt_path_get(d, "", &j, &why), 0);
    CHECK(j == d);
    static const char *const bad[] = { "a..b", ".a", "a.", "a[x]", "a[]", "a]", "a[1]b",
                                       "a[1234567890]" };
    char err[160];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(sb_mqtt_path_check(bad[i], err, sizeof(err)), SB_EINVAL);
    CHECK_EQ(sb_mqtt_path_check("data.0.v", err, sizeof(err)), 0);
    CHECK_EQ(sb_mqtt_path_check("[2].v", err, sizeof(err)), 0);
    json_decref(d);
}

TEST(time_field)
{
    static const struct { const char *json; int rc; int64_t ms; } c[] = {
        { "\"2026-11-27T10:00:00Z\"", 0, 1795773600000LL },
        { "\"2026-11-27T11:00:00.250+01:00\"", 0, 1795773600250LL },
        { "1795773600", 0, 1795773600000LL },             /* seconds */
        { "1795773600.5", 0, 1795773600500LL },           /* seconds, fraction */
        { "1795773600250", 0, 1795773600250LL },          /* milliseconds */
        { "1795773600250123", 0, 1795773600250LL },       /* microseconds */
        { "1795773600250123456", 0, 1795773600250LL },    /* nanoseconds */
        { "\"1795773600\"", 0, 1795773600000LL },         /* digits in a string */
        { "\"2026-11-27T10:00:00\"", SB_EINVAL, 0 },      /* no zone */
        { "0", SB_ERANGE, 0 }, { "-5", SB_ERANGE, 0 }, { "true", SB_EINVAL, 0 },
        { "1e21", SB_ERANGE, 0 }, { "\"soon\"", SB_EINVAL, 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        json_error_t je;
        json_t *j = json_loads(c[i].json, JSON_DECODE_ANY, &je);
        int64_t ms = 0;
        const char *why;
        REQUIRE(j);
        int rc = sb_mqtt_json_time(j, &ms, &why);
        if (rc != c[i].rc)
            TAP_FAIL("time %s: rc %d", c[i].json, rc);
        if (rc == 0)
            CHECK_EQ(ms, c[i].ms);
        json_decref(j);
    }
    char b[40];
    sb_mqtt_fmt_double(b, sizeof(b), 0.1);
    CHECK_STR(b, "0.1");
    sb_mqtt_fmt_double(b, sizeof(b), 1.0 / 3);
    CHECK_DBL(strtod(b, NULL), 1.0 / 3, 0);
}

/* ---- Sparkplug codec --------------------------------------------------------------- */

TEST(spb_values)
{
    Metric m[10];
    uint8_t buf[1024];
    sb_spb_payload *p = NULL;
    const char *why;
    double v;
    int64_t t;

    m[0] = m_init("i8", 1, DT(Int8), 0), m_int(&m[0], 0xFFFFFFFFu);       /* -1, sign-extended */
    m[1] = m_init("i8m", 2, DT(Int8), 0), m_int(&m[1], 0x80);             /* -128, masked */
    m[2] = m_init("u32", 3, DT(UInt32), 0), m_int(&m[2], 4000000000u);
    m[3] = m_init("i32", 4, DT(Int32), 0), m_int(&m[3], (uint32_t)-70000);
    m[4] = m_init("i64", 5, DT(Int64), 1795773600999ULL), m_long(&m[4], (uint64_t)-5);
    m[5] = m_init("f", 6, DT(Float), 0), m_float(&m[5], 21.5f);
    m[6] = m_init("d", 7, DT(Double), 0), m_double(&m[6], 0.1);
    m[7] = m_init("b", 8, DT(Boolean), 0), m_bool(&m[7], 1);
    m[8] = m_init("null", 9, DT(Double), 0);
    m[8].has_is_null = m[8].is_null = 1;
    m[9] = m_init("u64", 10, DT(UInt64), 0), m_long(&m[9], 18000000000000000000ULL);
    size_t len = spb_pack(buf, sizeof(buf), 1795773600000ULL, m, 10);
    REQUIRE(len > 0);
    REQUIRE(sb_spb_decode(buf, len, &p, &why) == 0);
    REQUIRE(p->n_metrics == 10);
    static const double want[] = { -1, -128, 4000000000.0, -70000, -5, 21.5, 0.1, 1, 0,
                                   18000000000000000000.0 };
    for (size_t i = 0; i < 10; i++) {
        int rc = sb_spb_metric_value(p->metrics[i], 0, &v, &why);
        CHECK_EQ(rc, i == 8 ? SB_ENOENT : 0);
        if (rc == 0)
            CHECK_DBL(v, want[i], 0);
    }
    CHECK_EQ(sb_spb_metric_time(p, p->metrics[4], &t), 0);
    CHECK_EQ(t, 1795773600999LL);                   /* the metric's own */
    CHECK_EQ(sb_spb_metric_time(p, p->metrics[0], &t), 0);
    CHECK_EQ(t, 1795773600000LL);                   /* the payload's */
    /* Without a datatype (DATA messages) the hint decides. */
    Metric nm = m_init(NULL, 1, 0, 0);
    m_int(&nm, 0xFFu);
    CHECK_EQ(sb_spb_metric_value(&nm, DT(Int8), &v, &why), 0);
    CHECK_DBL(v, -1, 0);
    CHECK_EQ(sb_spb_metric_value(&nm, DT(UInt8), &v, &why), 0);
    CHECK_DBL(v, 255, 0);
    CHECK_EQ(sb_spb_metric_value(&nm, 0, &v, &why), 0);   /* unknown: Int32 */
    CHECK_DBL(v, 255, 0);
    sb_spb_free(p);
}

TEST(spb_hostile)
{
    const char *why;
    sb_spb_payload *p = NULL;
    uint8_t buf[4096];
    /* 40 levels of Metric -> Template -> Metric: a stack-exhaustion attempt
     * must be refused before protobuf-c recurses into it. */
    Org__Eclipse__Tahu__Protobuf__Payload__Template tpl[40];
    Metric mm[41], *mp[41];
    for (int i = 40; i >= 0; i--) {
        mm[i] = m_init("n", -1, 0, 0);
        mp[i] = &mm[i];
        if (i < 40) {
            tpl[i] = (Org__Eclipse__Tahu__Protobuf__Payload__Template)
                ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__TEMPLATE__INIT;
            tpl[i].n_metrics = 1;
            tpl[i].metrics = &mp[i + 1];
            mm[i].value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_TEMPLATE_VALUE;
            mm[i].template_value = &tpl[i];
        }
    }
    size_t len = spb_pack(buf, sizeof(buf), 1, mm, 1);
    REQUIRE(len > 0);
    CHECK_EQ(sb_spb_decode(buf, len, &p, &why), SB_EPROTO);
    CHECK_STR(why, "protobuf nested too deep");
    /* 5 levels are fine, and the template metric has no numeric value. */
    tpl[4].n_metrics = 0;
    len = spb_pack(buf, sizeof(buf), 1, mm, 1);
    REQUIRE(sb_spb_decode(buf, len, &p, &why) == 0);
    double v;
    CHECK_EQ(sb_spb_metric_value(p->metrics[0], 0, &v, &why), SB_EINVAL);
    sb_spb_free(p);
    /* Truncations of a valid payload and junk never decode by accident. */
    Metric one = m_init("x", 1, DT(Double), 5);
    m_double(&one, 1.25);
    len = spb_pack(buf, sizeof(buf), 1, &one, 1);
    for (size_t cut = 1; cut < len; cut++)
        if (sb_spb_decode(buf, cut, &p, &why) == 0)
            sb_spb_free(p);     /* some prefixes are valid protobuf; no crash is the test */
    static const uint8_t junk[] = { 0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00 };
    CHECK_EQ(sb_spb_decode(junk, sizeof(junk), &p, &why), SB_EPROTO);
    static const uint8_t grp[] = { 0x13, 0x14 };   /* a group: not Sparkplug */
    CHECK_EQ(sb_spb_decode(grp, sizeof(grp), &p, &why), SB_EPROTO);
    CHECK_EQ(sb_spb_decode((const uint8_t *)"{\"v\":1}", 7, &p, &why), SB_EPROTO);
}

TEST(spb_topics_and_aliases)
{
    struct sb_spb_topic t;
    char buf[SB_SPB_TOPIC_MAX], f[2][SB_SPB_TOPIC_MAX];
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/G1/DDATA/N1/D1", &t), 0);
    CHECK_EQ(t.type, SB_SPB_DDATA);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/G1/NDATA/N1", &t), 0);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/G1/DDATA/N1", &t), SB_EINVAL);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/G1/NDATA/N1/D1", &t), SB_EINVAL);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/STATE/host", &t), SB_EINVAL);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0//NDATA/N1", &t), SB_EINVAL);
    CHECK_EQ(sb_spb_topic_parse("spBv1.0/G1/DBIRTH/N1/D1", &t), 0);
    CHECK_EQ(sb_spb_data_topic(&t, buf, sizeof(buf)), 0);
    CHECK_STR(buf, "spBv1.0/G1/DDATA/N1/D1");
    CHECK_EQ(sb_spb_birth_filters("spBv1.0/G1/DDATA/N1/D1", f), 2);
    CHECK_STR(f[0], "spBv1.0/G1/NBIRTH/N1");
    CHECK_STR(f[1], "spBv1.0/G1/DBIRTH/N1/D1");
    CHECK_EQ(sb_spb_birth_filters("spBv1.0/G1/NDATA/+", f), 1);
    CHECK_STR(f[0], "spBv1.0/G1/NBIRTH/+");
    CHECK_EQ(sb_spb_birth_filters("spBv1.0/G1/+/N1/D1", f), 0);
    CHECK_EQ(sb_spb_birth_filters("plant/a/b", f), 0);

    /* NBIRTH aliases, DBIRTH adds the device's, DATA resolves by alias;
     * a new NBIRTH forgets the node's old aliases. */
    struct sb_spb_defs *d;
    sb_spb_payload pl = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__INIT;
    Metric bm[2] = { m_init("Temperature", 7, DT(Int16), 1), m_init("bdSeq", 0, DT(UInt64), 1) };
    Metric *bp[2] = { &bm[0], &bm[1] };
    uint32_t type;
    REQUIRE(sb_spb_defs_new(100, &d) == 0);
    pl.n_metrics = 2;
    pl.metrics = bp;
    sb_spb_topic_parse("spBv1.0/G1/DBIRTH/N1/D1", &t);
    CHECK_EQ(sb_spb_defs_learn(d, &t, &pl), 0);
    CHECK_EQ(sb_spb_defs_count(d), 2);
    Metric dm = m_init(NULL, 7, 0, 0);
    sb_spb_topic_parse("spBv1.0/G1/DDATA/N1/D1", &t);
    CHECK_STR(sb_spb_defs_resolve(d, &t, &dm, &type), "Temperature");
    CHECK_EQ(type, DT(Int16));
    sb_spb_topic_parse("spBv1.0/G1/DDATA/N2/D1", &t);      /* another node */
    CHECK(sb_spb_defs_resolve(d, &t, &dm, &type) == NULL);
    sb_spb_topic_parse("spBv1.0/G1/NBIRTH/N1", &t);
    pl.n_metrics = 1;
    pl.metrics = &bp[1];
    CHECK_EQ(sb_spb_defs_learn(d, &t, &pl), 0);
    CHECK_EQ(sb_spb_defs_count(d), 1);
    sb_spb_topic_parse("spBv1.0/G1/DDATA/N1/D1", &t);
    CHECK(sb_spb_defs_resolve(d, &t, &dm, &type) == NULL);
    /* The bound holds. */
    Metric many[8];
    Metric *mpp[8];
    for (int i = 0; i < 8; i++) {
        static char names[8][16];
        snprintf(names[i], sizeof(names[i]), "m%d", i);
        many[i] = m_init(names[i], 100 + i, DT(Double), 1);
        mpp[i] = &many[i];
    }
    struct sb_spb_defs *small;
    REQUIRE(sb_spb_defs_new(5, &small) == 0);
    pl.n_metrics = 8;
    pl.metrics = mpp;
    sb_spb_topic_parse("spBv1.0/G1/NBIRTH/N1", &t);
    CHECK_EQ(sb_spb_defs_learn(small, &t, &pl), SB_ENOSPC);
    CHECK_EQ(sb_spb_defs_count(small), 5);
    sb_spb_defs_free(small);
    sb_spb_defs_free(d);
}

/* ---- configuration and addresses --------------------------------------------------- */

TEST(conf_errors)
{
    static const struct { const char *conf; const char *msg; } c[] = {
        { "{\"port\":0}", "mqtt.port: must be an integer 1..65535" },
        { "{\"port\":\"1883\"}", "mqtt.port: must be an integer" },
        { "{\"qso\":1}", "mqtt: unknown key \"qso\"" },
        { "{\"qos\":3}", "mqtt.qos: must be an integer 0..2" },
        { "{\"keepalive\":3}", "mqtt.keepalive: must be 0 or 5..65535" },
        { "{\"host\":\"\"}", "mqtt.host: must be a string of 1.." },
        { "{\"password\":\"hunter2-secret\"}", "mqtt.password: needs mqtt.username" },
        { "{\"username\":\"u\",\"password\":42}", "mqtt.password: must be a string" },
        { "{\"tls\":{\"ca\":\"/nonexistent/ca.crt\"}}", "mqtt.tls.ca: cannot read" },
        { "{\"tls\":{\"cert\":\"/etc/hostname\"}}", "mqtt.tls: cert and key go together" },
        { "{\"tls\":{\"insecure\":1}}", "mqtt.tls.insecure: must be true or false" },
        { "{\"tls\":[]}", "mqtt.tls: must be an object" },
        { "{\"publish\":{\"prefix\":\"a/+/b\"}}", "mqtt.publish.prefix: must be a topic" },
        { "{\"publish\":{\"prefix\":\"/abs\"}}", "mqtt.publish.prefix: must be a topic" },
        { "{\"publish\":{\"enable\":true}}", "mqtt.publish: unknown key \"enable\"" },
        { "{\"reconnect_min_ms\":5000,\"reconnect_max_ms\":1000}", "reconnect_max_ms: must be >=" },
        { "{\"client_id\":\"\"}", "mqtt.client_id: must be a string" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char err[SB_DRV_ERR_MAX] = "";
        void *st = drv_new(c[i].conf, err, sizeof(err));
        CHECK(st == NULL);
        if (!strstr(err, c[i].msg))
            TAP_FAIL("conf %s: \"%s\" lacks \"%s\"", c[i].conf, err, c[i].msg);
        CHECK(!strstr(err, "hunter2"));
        if (st)
            sb_driver_mqtt.free(st);
    }
    /* Defaults and a full configuration. */
    char err[SB_DRV_ERR_MAX] = "", host[64];
    struct sb_mqtt *s = drv_new(NULL, err, sizeof(err));
    REQUIRE(s);
    gethostname(host, sizeof(host));
    CHECK_EQ(s->conf.port, 1883);
    CHECK_EQ(s->conf.qos, 1);
    CHECK_EQ(s->conf.clean_session, 0);
    CHECK_EQ(s->conf.keepalive, 30);
    CHECK(strncmp(s->conf.client_id, "sbems-", 6) == 0);
    CHECK_STR(s->key, "mqtt:127.0.0.1:1883");
    CHECK_EQ(s->conf.publish.enabled, 0);
    sb_driver_mqtt.free(s);
    s = drv_new("{\"host\":\"::1\",\"port\":8883,\"username\":\"u\",\"password\":\"p\","
                "\"tls\":{\"ca\":\"/etc/ssl/certs\",\"insecure\":false},\"qos\":0,"
                "\"clean_session\":true,\"keepalive\":0,\"publish\":{\"enabled\":true,"
                "\"prefix\":\"acme/sbems\",\"retain\":true},\"commands\":{\"enabled\":true}}",
                err, sizeof(err));
    REQUIRE(s);
    CHECK_STR(s->key, "mqtt:[::1]:8883");
    CHECK_STR(s->cmd_filter, "acme/sbems/+/+/cmd/+");
    CHECK_EQ(s->conf.tls.enabled, 1);
    CHECK_EQ(s->conf.publish.retain, 1);
    sb_driver_mqtt.free(s);
}

TEST(addr_errors)
{
    static const struct { const char *addr; const char *msg; } c[] = {
        { "{\"field\":\"co2\"}", "topic: is required" },
        { "{\"topic\":\"a/#/b\"}", "topic: not a valid MQTT topic filter" },
        { "{\"topic\":\"a/b+\"}", "topic: not a valid MQTT topic filter" },
        { "{\"topic\":\"a\",\"format\":\"xml\"}", "format: must be one of number, json, sparkplug" },
        { "{\"topic\":\"a\",\"format\":\"number\",\"field\":\"x\"}", "field: only for format json" },
        { "{\"topic\":\"a\",\"format\":\"sparkplug\"}", "metric: format sparkplug needs" },
        { "{\"topic\":\"a\",\"metric\":\"T\",\"format\":\"json\"}", "metric: only for format sparkplug" },
        { "{\"topic\":\"a\",\"field\":\"a..b\"}", "field: \"a..b\": empty segment" },
        { "{\"topic\":\"a\",\"field\":\"x\",\"time_field\":\"[z]\"}", "time_field:" },
        { "{\"topic\":\"a\",\"command_topic\":\"set/+\"}", "command_topic: must be a topic" },
        { "{\"topic\":\"a\",\"alias\":-1}", "alias: must be an integer >= 0" },
        { "{\"topic\":\"a\",\"colour\":1}", "unknown key \"colour\"" },
        { "{\"topic\":\"a\",\"topic\":\"b\"}", "address: must be a JSON object" },
        { "[\"a\"]", "address: must be a JSON object" },
        { "a/#/b", "topic: not a valid" },
    };
    char err[SB_DRV_ERR_MAX];
    void *st = drv_new(NULL, err, sizeof(err));
    struct sb_drv_point pt;
    REQUIRE(st);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        err[0] = '\0';
        int rc = drv_bind(st, &pt, 1, c[i].addr, err, sizeof(err));
        CHECK_EQ(rc, SB_EINVAL);
        if (!strstr(err, c[i].msg))
            TAP_FAIL("address %s: \"%s\" lacks \"%s\"", c[i].addr, err, c[i].msg);
    }
    /* Good ones: formats inferred; the key names the broker. */
    char key[SB_DRV_KEY_MAX];
    static const char *const good[] = {
        "hpo/iaq/+/up", "{\"topic\":\"x/#\",\"field\":\"data.0.v\",\"time_field\":\"ts\"}",
        "{\"topic\":\"spBv1.0/G/DDATA/N/D\",\"metric\":\"T\"}", "{\"topic\":\"a\",\"alias\":5}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        memset(&pt, 0, sizeof(pt));
        pt.id = 9;
        pt.address = good[i];
        pt.address_json = good[i][0] == '{';
        CHECK_EQ(sb_driver_mqtt.bind(st, &pt, key, sizeof(key), err, sizeof(err)), 0);
        CHECK_STR(key, "mqtt:127.0.0.1:1883");
        struct sb_mqtt_addr *a = pt.addr;
        CHECK_EQ(a->fmt, i == 0 ? SB_MQTT_FMT_NUMBER : i == 1 ? SB_MQTT_FMT_JSON
                                                     : SB_MQTT_FMT_SPARKPLUG);
        sb_driver_mqtt.unbind(st, &pt);
        CHECK(pt.addr == NULL);
    }
    struct sb_mqtt *s = st;
    CHECK_EQ(s->rt.n, 0);     /* every filter (and derived birth filter) released */
    sb_driver_mqtt.free(st);
}

/* ---- live: values ------------------------------------------------------------------ */

TEST(live_values)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt[8];
    char err[SB_DRV_ERR_MAX];
    void *st = NULL;
    int np = 0;

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    st = drv_new(conf_for(&b, "sbems-values", NULL), err, sizeof(err));
    if (!st)
        TAP_FAIL("init: %s", err);
    static const char *const addrs[] = {
        "plant/boiler/temp",                                                  /* 1: number */
        "{\"topic\":\"hpo/iaq/+/up\",\"field\":\"co2\",\"time_field\":\"ts\"}", /* 2: wildcard */
        "{\"topic\":\"hpo/iaq/+/up\",\"field\":\"humidity\"}",                 /* 3: same filter */
        "{\"topic\":\"meters/#\",\"field\":\"data.0.v\",\"time_field\":\"t\"}", /* 4: # and array */
        "{\"topic\":\"plant/boiler/temp\",\"format\":\"number\"}",             /* 5: shares 1's */
    };
    for (np = 0; st && np < 5; np++)
        if (drv_bind(st, &pt[np], (uint32_t)np + 1, addrs[np], err, sizeof(err)))
            TAP_FAIL("bind %s: %s", addrs[np], err);
    if (!st || sb_driver_mqtt.start(st) != 0)
        goto out;
    CHECK(WAIT_FOR(rec_up(), 5000));
    char key[64];
    snprintf(key, sizeof(key), "mqtt:127.0.0.1:%d", b.port);
    CHECK_STR(REC_STR(key), key);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-values", "meters/#"), 5000));
    REQUIRE(cl_open(&pub, b.port, "pub-values") == 0);

    cl_pubs(&pub, "plant/boiler/temp", " 71.25\n", 1);
    cl_pubs(&pub, "hpo/iaq/f1-core/up", "{\"co2\":612,\"humidity\":41.5,\"ts\":\"2026-11-27T10:00:00Z\"}", 1);
    cl_pubs(&pub, "meters/main/kwh", "{\"data\":[{\"v\":\"1234.5\"}],\"t\":1795773600}", 1);
    cl_pubs(&pub, "meters/sub/a/kwh", "{\"data\":[{\"v\":2}],\"t\":1795773600123}", 1);
    CHECK(WAIT_FOR(rec_n() >= 6, 5000));
    const struct sb_drv_value *v;
    if ((v = rec_find(1, 0))) { CHECK_DBL(v->v, 71.25, 0); CHECK_EQ(v->t, 0); CHECK_EQ(v->q, 0); }
    else TAP_FAIL("no value for point 1");
    if ((v = rec_find(5, 0))) CHECK_DBL(v->v, 71.25, 0); else TAP_FAIL("no value for point 5");
    if ((v = rec_find(2, 0))) { CHECK_DBL(v->v, 612, 0); CHECK_EQ(v->t, 1795773600000LL); }
    else TAP_FAIL("no value for point 2");
    if ((v = rec_find(3, 0))) { CHECK_DBL(v->v, 41.5, 0); CHECK_EQ(v->t, 0); }
    else TAP_FAIL("no value for point 3");
    CHECK_EQ(rec_count(4), 2);
    if ((v = rec_find(4, 0))) { CHECK_DBL(v->v, 1234.5, 0); CHECK_EQ(v->t, 1795773600000LL); }
    if ((v = rec_find(4, (size_t)(rec_find(4, 0) - R.v) + 1))) { CHECK_DBL(v->v, 2, 0); CHECK_EQ(v->t, 1795773600123LL); }
    CHECK_EQ(rec_nbad(), 0);

    /* A retained message replayed on (re)subscribing has no known age: with
     * no time field it comes flagged stale. */
    size_t n0 = rec_n();
    cl_pub(&pub, "retained/temp", "19.5", 4, 1, 1);
    struct sb_drv_point rp;
    if (drv_bind(st, &rp, 6, "retained/temp", err, sizeof(err)) == 0) {
        if (WAIT_FOR(rec_find(6, n0) != NULL, 5000)) {
            CHECK_DBL(rec_find(6, n0)->v, 19.5, 0);
            CHECK_EQ(rec_find(6, n0)->q, SB_Q_STALE);
        } else {
            TAP_FAIL("retained value not delivered after a live bind");
        }
        sb_driver_mqtt.unbind(st, &rp);
    }
    cl_pub(&pub, "retained/temp", "", 0, 1, 1);   /* clear it */
out:
    cl_close(&pub);
    drv_done(st, pt, np);
    broker_stop(&b);
}

/* ---- live: Sparkplug B ------------------------------------------------------------- */

TEST(live_sparkplug)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt[4];
    char err[SB_DRV_ERR_MAX];
    uint8_t buf[2048];
    void *st = NULL;
    int np = 0;

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    st = drv_new(conf_for(&b, "sbems-spb", NULL), err, sizeof(err));
    static const char *const addrs[] = {
        "{\"topic\":\"spBv1.0/Plant/DDATA/edge1/ahu1\",\"metric\":\"Supply Temp\"}",
        "{\"topic\":\"spBv1.0/Plant/DDATA/edge1/ahu1\",\"metric\":\"Fan/Run\"}",
        "{\"topic\":\"spBv1.0/Plant/DDATA/edge1/ahu1\",\"format\":\"sparkplug\",\"alias\":12}",
        "{\"topic\":\"spBv1.0/Plant/NDATA/+\",\"metric\":\"Supply Voltage\"}",
    };
    for (np = 0; st && np < 4; np++)
        if (drv_bind(st, &pt[np], (uint32_t)np + 1, addrs[np], err, sizeof(err)))
            TAP_FAIL("bind: %s", err);
    REQUIRE(st && sb_driver_mqtt.start(st) == 0);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-spb", "spBv1.0/Plant/DBIRTH/edge1/ahu1") &&
                     subscribed(&b, "sbems-spb", "spBv1.0/Plant/NBIRTH/+"), 5000));
    REQUIRE(cl_open(&pub, b.port, "edge1") == 0);

    /* NBIRTH, then DBIRTH with names, aliases, datatypes and current values. */
    Metric nb[2] = { m_init("bdSeq", 0, DT(UInt64), 1795773600000ULL),
                     m_init("Supply Voltage", 1, DT(Float), 1795773600000ULL) };
    m_long(&nb[0], 0);
    m_float(&nb[1], 24.5f);
    size_t len = spb_pack(buf, sizeof(buf), 1795773600000ULL, nb, 2);
    cl_pub(&pub, "spBv1.0/Plant/NBIRTH/edge1", buf, (int)len, 0, 0);
    Metric db[3] = { m_init("Supply Temp", 10, DT(Int16), 1795773601000ULL),
                     m_init("Fan/Run", 11, DT(Boolean), 1795773601000ULL),
                     m_init("Damper", 12, DT(UInt8), 1795773601000ULL) };
    m_int(&db[0], (uint32_t)-55);          /* -5.5 °C in tenths... as an Int16 */
    m_bool(&db[1], 0);
    m_int(&db[2], 40);
    len = spb_pack(buf, sizeof(buf), 1795773601000ULL, db, 3);
    cl_pub(&pub, "spBv1.0/Plant/DBIRTH/edge1/ahu1", buf, (int)len, 0, 0);
    /* The birth's own values arrive (point 1 = -55, 2 = 0, 3 = 40). */
    CHECK(WAIT_FOR(rec_find(1, 0) && rec_find(2, 0) && rec_find(3, 0) && rec_find(4, 0), 5000));
    if (rec_find(1, 0)) { CHECK_DBL(rec_find(1, 0)->v, -55, 0); CHECK_EQ(rec_find(1, 0)->t, 1795773601000LL); }
    if (rec_find(4, 0)) CHECK_DBL(rec_find(4, 0)->v, 24.5, 0);

    /* DDATA by alias only, no datatype (as the specification requires):
     * the learned Int16 makes 0xFFFFFF9C read -100; a STALE quality. */
    size_t n0 = rec_n();
    Metric dd[2] = { m_init(NULL, 10, 0, 1795773605000ULL), m_init(NULL, 11, 0, 0) };
    m_int(&dd[0], 0xFFFFFF9Cu);
    m_bool(&dd[1], 1);
    Org__Eclipse__Tahu__Protobuf__Payload__PropertySet ps =
        ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_SET__INIT;
    Org__Eclipse__Tahu__Protobuf__Payload__PropertyValue pv =
        ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__INIT, *pvp = &pv;
    char *qk = "Quality";
    pv.has_type = 1;
    pv.type = DT(Int32);
    pv.value_case = ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_INT_VALUE;
    pv.int_value = 500;
    ps.n_keys = ps.n_values = 1;
    ps.keys = &qk;
    ps.values = &pvp;
    dd[1].properties = &ps;
    len = spb_pack(buf, sizeof(buf), 1795773606000ULL, dd, 2);
    cl_pub(&pub, "spBv1.0/Plant/DDATA/edge1/ahu1", buf, (int)len, 1, 0);
    CHECK(WAIT_FOR(rec_find(1, n0) && rec_find(2, n0), 5000));
    const struct sb_drv_value *v;
    if ((v = rec_find(1, n0))) { CHECK_DBL(v->v, -100, 0); CHECK_EQ(v->t, 1795773605000LL); CHECK_EQ(v->q, 0); }
    if ((v = rec_find(2, n0))) { CHECK_DBL(v->v, 1, 0); CHECK_EQ(v->t, 1795773606000LL); CHECK_EQ(v->q, SB_Q_STALE); }
    CHECK(rec_find(3, n0) == NULL);   /* not in this DDATA: nothing, and not bad */
    CHECK_EQ(rec_nbad(), 0);
    /* A DDATA of metrics no point takes: unmatched, not bad. */
    uint64_t um = STAT(st, unmatched);
    Metric other = m_init(NULL, 99, 0, 1795773608000ULL);
    m_double(&other, 1);
    len = spb_pack(buf, sizeof(buf), 1795773608000ULL, &other, 1);
    cl_pub(&pub, "spBv1.0/Plant/DDATA/edge1/ahu1", buf, (int)len, 1, 0);
    CHECK(WAIT_FOR(STAT(st, unmatched) == um + 1, 3000));
    CHECK_EQ(rec_nbad(), 0);

    /* NDATA from another edge node through the + filter; a bad protobuf. */
    Metric nd = m_init("Supply Voltage", -1, DT(Double), 0);
    m_double(&nd, 23.75);
    len = spb_pack(buf, sizeof(buf), 1795773607000ULL, &nd, 1);
    cl_pub(&pub, "spBv1.0/Plant/NDATA/edge2", buf, (int)len, 1, 0);
    CHECK(WAIT_FOR(rec_count(4) >= 2, 5000));
    cl_pub(&pub, "spBv1.0/Plant/DDATA/edge1/ahu1", "\x0a\xff\x01", 3, 1, 0);
    CHECK(WAIT_FOR(rec_nbad() == 1, 5000));
    CHECK(strstr(REC_STR(bad), "spBv1.0/Plant/DDATA/edge1/ahu1") != NULL);
    CHECK(strstr(REC_STR(bad), "malformed protobuf") != NULL);
    cl_close(&pub);
    drv_done(st, pt, np);
    broker_stop(&b);
}

/* ---- live: malformed payloads ------------------------------------------------------ */

TEST(live_malformed)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt[3];
    char err[SB_DRV_ERR_MAX];
    void *st = NULL;
    int np = 0;

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    st = drv_new(conf_for(&b, "sbems-bad", "\"max_payload\":1024"), err, sizeof(err));
    static const char *const addrs[] = {
        "{\"topic\":\"iaq/+\",\"field\":\"co2\"}", "{\"topic\":\"iaq/+\",\"field\":\"rh\"}",
        "num/x",
    };
    for (np = 0; st && np < 3; np++)
        drv_bind(st, &pt[np], (uint32_t)np + 1, addrs[np], err, sizeof(err));
    REQUIRE(st && sb_driver_mqtt.start(st) == 0);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-bad", "num/x"), 5000));
    REQUIRE(cl_open(&pub, b.port, "pub-bad") == 0);

    static const struct { const char *topic, *payload, *why; } c[] = {
        { "iaq/a", "{\"co2\":", "payload is not JSON" },
        { "iaq/b", "{\"rh\":40}", "field missing" },           /* co2 missing, rh good */
        { "iaq/c", "{\"co2\":\"high\",\"rh\":1}", "not a number" },
        { "iaq/d", "{\"co2\":null,\"rh\":1}", "value is null" },
        { "num/x", "twelve", "not a number" },
        { "num/x", "NaN", "not a number" },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int before = rec_nbad();
        cl_pubs(&pub, c[i].topic, c[i].payload, 1);
        if (!WAIT_FOR(rec_nbad() == before + 1, 3000))
            TAP_FAIL("%s %s: not counted", c[i].topic, c[i].payload);
        else if (!strstr(REC_STR(bad), c[i].why) || !strstr(REC_STR(bad), c[i].topic))
            TAP_FAIL("%s: \"%s\" lacks \"%s\"", c[i].payload, REC_STR(bad), c[i].why);
    }
    char big[2048];
    memset(big, ' ', sizeof(big));
    memcpy(big, "{\"co2\":1}", 9);
    int before = rec_nbad();
    cl_pub(&pub, "iaq/e", big, sizeof(big), 1, 0);
    CHECK(WAIT_FOR(rec_nbad() == before + 1, 3000));
    CHECK(strstr(REC_STR(bad), "larger than max_payload") != NULL);
    /* Good messages still flow, and the connection never dropped. */
    cl_pubs(&pub, "iaq/z", "{\"co2\":700,\"rh\":30}", 1);
    CHECK(WAIT_FOR(rec_find(1, 0) && rec_find(1, 0)->v == 700, 3000));
    CHECK_EQ(rec_count(2), 4);     /* rh from iaq/b, iaq/c, iaq/d, iaq/z */
    CHECK_EQ(rec_downs(), 0);
    CHECK_EQ(STAT(st, connects), 1);
    CHECK_EQ(STAT(st, bad), (uint64_t)rec_nbad());
    cl_close(&pub);
    drv_done(st, pt, np);
    broker_stop(&b);
}

/* ---- live: write(), published readings, commands ----------------------------------- */

struct cmd_seen {
    pthread_mutex_t mu;         /* the handler runs on the driver's thread */
    int n;                      /* commands handled */
    char site[64], building[64], point[64], id[80], reply[256];
    double value;
    int priority, relinquish;
};

static int on_cmd(void *ud, const struct sb_mqtt_cmd *c, char *err, size_t errlen)
{
    struct cmd_seen *cs = ud;
    int rc = 0;
    pthread_mutex_lock(&cs->mu);
    cs->n++;
    snprintf(cs->site, sizeof(cs->site), "%s", c->site);
    snprintf(cs->building, sizeof(cs->building), "%s", c->building);
    snprintf(cs->point, sizeof(cs->point), "%s", c->point);
    snprintf(cs->id, sizeof(cs->id), "%s", c->id ? c->id : "");
    snprintf(cs->reply, sizeof(cs->reply), "%s", c->reply_topic);
    cs->value = c->value;
    cs->priority = c->priority;
    cs->relinquish = c->relinquish;
    if (strcmp(c->point, "locked") == 0) {
        snprintf(err, errlen, "point is under manual override");
        rc = SB_EPROTO;
    }
    pthread_mutex_unlock(&cs->mu);
    return rc;   /* 0: taken, the test replies with sb_mqtt_command_reply */
}

static struct cmd_seen cs_snap(struct cmd_seen *cs)
{
    struct cmd_seen c;
    pthread_mutex_lock(&cs->mu);
    c = *cs;
    pthread_mutex_unlock(&cs->mu);
    return c;
}

static int seen_has(struct client *c, const char *topic, const char *payload, int retain)
{
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    for (int i = 0; i < c->n && !hit; i++)
        hit = strcmp(c->topic[i], topic) == 0 && (!payload || strcmp(c->payload[i], payload) == 0) &&
              (retain < 0 || c->retain[i] == retain);
    pthread_mutex_unlock(&c->mu);
    return hit;
}

TEST(live_write_publish_commands)
{
    struct broker b;
    struct client obs = { 0 }, pub = { 0 };
    struct sb_drv_point pt[3];
    struct cmd_seen cs = { .mu = PTHREAD_MUTEX_INITIALIZER }, c1;
    char err[SB_DRV_ERR_MAX];
    void *st = NULL;
    int np = 0;

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    st = drv_new(conf_for(&b, "sbems-out", "\"publish\":{\"enabled\":true,\"retain\":true},"
                          "\"commands\":{\"enabled\":true}"), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt[np++], 1, "{\"topic\":\"zone/1/sp\",\"command_topic\":\"zone/1/sp/set\"}",
             err, sizeof(err));
    drv_bind(st, &pt[np++], 2, "{\"topic\":\"vav/2/state\",\"field\":\"damper\",\"command_topic\":"
             "\"vav/2/cmd\",\"command_format\":\"json\"}", err, sizeof(err));
    drv_bind(st, &pt[np++], 3, "zone/1/temp", err, sizeof(err));
    sb_mqtt_set_command_handler(st, on_cmd, &cs);
    struct sb_drv_write w = { .pt = &pt[0], .value = 21.5 };
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w, 1000), SB_EIO);   /* not connected yet */
    CHECK_STR(w.err, "not connected to the broker");
    REQUIRE(sb_driver_mqtt.start(st) == 0);
    REQUIRE(WAIT_FOR(broker_logged(&b, "sbems-out 0 sbems/+/+/cmd/+"), 5000));
    REQUIRE(cl_open(&obs, b.port, "observer") == 0 && cl_open(&pub, b.port, "operator") == 0);
    REQUIRE(cl_sub(&obs, "zone/#") == 0 && cl_sub(&obs, "vav/#") == 0 &&
            cl_sub(&obs, "sbems/#") == 0);

    /* write(): number and JSON command formats; none -> SB_EINVAL. */
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w, 1000), 0);
    struct sb_drv_write w2 = { .pt = &pt[1], .value = 0.1, .priority = 8 };
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w2, 1000), 0);
    struct sb_drv_write w3 = { .pt = &pt[1], .value = NAN, .relinquish = 1, .priority = 8 };
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w3, 1000), 0);
    struct sb_drv_write w4 = { .pt = &pt[2], .value = 1 };
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w4, 1000), SB_EINVAL);
    CHECK_STR(w4.err, "the point's address has no command_topic");
    struct sb_drv_write w5 = { .pt = &pt[0], .relinquish = 1, .value = NAN };
    CHECK_EQ(sb_driver_mqtt.write(st, "k", &w5, 1000), SB_ENOTSUP);
    CHECK(WAIT_FOR(seen_has(&obs, "zone/1/sp/set", "21.5", 0), 3000));
    CHECK(WAIT_FOR(seen_has(&obs, "vav/2/cmd", "{\"value\":0.1,\"priority\":8}", 0), 3000));
    CHECK(WAIT_FOR(seen_has(&obs, "vav/2/cmd", "{\"value\":null,\"priority\":8}", 0), 3000));

    /* Readings mirrored on the tree, retained as configured. */
    struct sb_mqtt_reading rd = { "hq", "main", "ahu-1", "ahu-1.sat", 1795773600000LL, 13.25, 0 };
    CHECK_EQ(sb_mqtt_publish_reading(st, &rd), 0);
    CHECK(WAIT_FOR(seen_has(&obs, "sbems/hq/main/ahu-1/ahu-1.sat",
                            "{\"t\":1795773600000,\"v\":13.25,\"q\":0}", 0), 3000));
    struct client late = { 0 };
    REQUIRE(cl_open(&late, b.port, "late") == 0);
    cl_sub(&late, "sbems/hq/#");
    CHECK(WAIT_FOR(seen_has(&late, "sbems/hq/main/ahu-1/ahu-1.sat", NULL, 1), 3000));  /* retained */
    cl_close(&late);
    struct sb_mqtt_reading bad = rd;
    bad.equipment = "cmd";
    CHECK_EQ(sb_mqtt_publish_reading(st, &bad), SB_EINVAL);
    bad.equipment = "a/b";
    CHECK_EQ(sb_mqtt_publish_reading(st, &bad), SB_EINVAL);
    bad.equipment = "x+";
    CHECK_EQ(sb_mqtt_publish_reading(st, &bad), SB_EINVAL);
    bad.equipment = "";
    CHECK_EQ(sb_mqtt_publish_reading(st, &bad), SB_EINVAL);
    bad = rd;
    bad.v = NAN;
    CHECK_EQ(sb_mqtt_publish_reading(st, &bad), SB_ENAN);

    /* Commands: taken -> the framework replies; refused -> the driver does. */
    cl_pubs(&pub, "sbems/hq/main/cmd/zone-1.sp", "{\"value\":22,\"priority\":8,\"id\":\"c-1\"}", 1);
    CHECK(WAIT_FOR(cs_snap(&cs).n == 1, 3000));
    c1 = cs_snap(&cs);
    CHECK_STR(c1.site, "hq");
    CHECK_STR(c1.building, "main");
    CHECK_STR(c1.point, "zone-1.sp");
    CHECK_STR(c1.id, "c-1");
    CHECK_DBL(c1.value, 22, 0);
    CHECK_EQ(c1.priority, 8);
    CHECK_STR(c1.reply, "sbems/hq/main/cmd/zone-1.sp/result");
    CHECK_EQ(sb_mqtt_command_reply(st, c1.reply, "c-1", 0, "ok"), 0);
    CHECK(WAIT_FOR(seen_has(&obs, "sbems/hq/main/cmd/zone-1.sp/result",
                            "{\"ok\":true,\"result\":\"ok\",\"id\":\"c-1\"}", 0), 3000));
    CHECK_EQ(sb_mqtt_command_reply(st, "elsewhere/result", NULL, 0, "ok"), SB_EINVAL);
    cl_pubs(&pub, "sbems/hq/main/cmd/locked", "{\"value\":null}", 1);
    CHECK(WAIT_FOR(seen_has(&obs, "sbems/hq/main/cmd/locked/result",
                            "{\"ok\":false,\"code\":\"SB_EPROTO\",\"error\":\"point is under "
                            "manual override\"}", 0), 3000));
    CHECK_EQ(cs_snap(&cs).relinquish, 1);
    int nbad = rec_nbad();
    cl_pubs(&pub, "sbems/hq/main/cmd/p", "{\"value\":1,\"priorty\":3}", 1);
    CHECK(WAIT_FOR(seen_has(&obs, "sbems/hq/main/cmd/p/result", NULL, 0), 3000));
    CHECK_EQ(rec_nbad(), nbad + 1);
    CHECK(strstr(REC_STR(bad), "unknown key \"priorty\"") != NULL);
    cl_pubs(&pub, "sbems/hq/main/cmd/p", "{\"value\":\"hot\"}", 1);
    CHECK(WAIT_FOR(rec_nbad() == nbad + 2, 3000));
    /* A retained command is never executed. */
    int handled = cs_snap(&cs).n;
    struct sb_drv_point extra;
    sb_driver_mqtt.stop(st);
    cl_pub(&pub, "sbems/hq/main/cmd/ret", "{\"value\":5}", 11, 1, 1);
    drv_bind(st, &extra, 9, "another/topic", err, sizeof(err));   /* bound while stopped */
    sb_driver_mqtt.start(st);                 /* resubscribing replays the retained command */
    CHECK(WAIT_FOR(seen_has(&obs, "sbems/hq/main/cmd/ret/result",
                            "{\"ok\":false,\"code\":\"SB_EINVAL\",\"error\":\"retained "
                            "commands are ignored\"}", 0), 3000));
    CHECK_EQ(cs_snap(&cs).n, handled);
    cl_pub(&pub, "sbems/hq/main/cmd/ret", "", 0, 1, 1);
    sb_driver_mqtt.unbind(st, &extra);
    CHECK(STAT(st, published) >= 6);
    CHECK_EQ(STAT(st, commands), 2);
    cl_close(&obs);
    cl_close(&pub);
    drv_done(st, pt, np);
    broker_stop(&b);
}

/* ---- live: password and TLS brokers ------------------------------------------------ */

static int file_has(const char *path, const char *needle)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

TEST(live_password)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], pwfile[300], extra[700], conf[600];
    void *st;

    rec_reset();
    snprintf(pwfile, sizeof(pwfile), "%s/passwd", root);
    char *pw_argv[] = { "mosquitto_passwd", "-b", "-c", pwfile, "sbems", "S3cret-pw!", NULL };
    REQUIRE(run(pw_argv) == 0);
    char *pw2_argv[] = { "mosquitto_passwd", "-b", pwfile, "pub", "pubpw", NULL };
    REQUIRE(run(pw2_argv) == 0);
    snprintf(extra, sizeof(extra), "allow_anonymous false\npassword_file %s\n", pwfile);
    REQUIRE(broker_conf(&b, extra) == 0 && broker_start(&b) == 0);

    /* Wrong password: refused, reported, retried, and never logged. */
    snprintf(conf, sizeof(conf), "\"username\":\"sbems\",\"password\":\"Wr0ng-pw-xyz\"");
    st = drv_new(conf_for(&b, "sbems-auth", conf), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "secure/temp", err, sizeof(err));
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_downs() >= 2, 5000));
    CHECK(strstr(REC_STR(state_err), "not authorised") != NULL);
    CHECK_EQ(rec_up(), 0);
    drv_done(st, &pt, 1);
    CHECK(file_has(logpath, "broker refused the connection: Connection Refused: not authorised"));
    CHECK(!file_has(logpath, "Wr0ng-pw-xyz"));

    /* The right one: values flow. */
    rec_reset();
    snprintf(conf, sizeof(conf), "\"username\":\"sbems\",\"password\":\"S3cret-pw!\"");
    st = drv_new(conf_for(&b, "sbems-auth", conf), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "secure/temp", err, sizeof(err));
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_up(), 5000));
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-auth", "secure/temp"), 5000));
    pub.m = mosquitto_new("pub-auth", true, &pub);
    pthread_mutex_init(&pub.mu, NULL);
    mosquitto_publish_callback_set(pub.m, cl_on_publish);
    mosquitto_username_pw_set(pub.m, "pub", "pubpw");
    REQUIRE(mosquitto_connect(pub.m, "127.0.0.1", b.port, 30) == 0 &&
            mosquitto_loop_start(pub.m) == 0);
    cl_pubs(&pub, "secure/temp", "20.5", 1);
    CHECK(WAIT_FOR(rec_find(1, 0) != NULL, 3000));
    cl_close(&pub);
    drv_done(st, &pt, 1);
    CHECK(!file_has(logpath, "S3cret-pw!"));
    broker_stop(&b);
}

static int make_certs(const char *d)
{
    char cmd[4096];
    /* A throw-away CA, a server certificate for 127.0.0.1 and a client
     * certificate, all P-256. */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && umask 077 && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout ca.key -out ca.crt -days 2 -subj /CN=sbems-test-ca 2>/dev/null && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout server.key -out server.csr -subj /CN=127.0.0.1 2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 2 -extfile san.ext 2>/dev/null && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout client.key -out client.csr -subj /CN=sbems-client 2>/dev/null && "
             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out client.crt -days 2 2>/dev/null", d);
    char *argv[] = { "/bin/sh", "-c", cmd, NULL };
    return run(argv);
}

TEST(live_tls)
{
    struct broker b;
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], dir[300], extra[1200], conf[1200];
    void *st;

    rec_reset();
    snprintf(dir, sizeof(dir), "%s/pki", root);
    REQUIRE(mkdir(dir, 0700) == 0 && make_certs(dir) == 0);
    snprintf(extra, sizeof(extra), "allow_anonymous true\ncafile %s/ca.crt\ncertfile %s/server.crt\n"
             "keyfile %s/server.key\nrequire_certificate true\n", dir, dir, dir);
    REQUIRE(broker_conf(&b, extra) == 0 && broker_start(&b) == 0);

    /* Client certificate and CA: connected, values flow (published by
     * mosquitto_pub over TLS too). */
    snprintf(conf, sizeof(conf), "\"tls\":{\"ca\":\"%s/ca.crt\",\"cert\":\"%s/client.crt\","
             "\"key\":\"%s/client.key\"}", dir, dir, dir);
    st = drv_new(conf_for(&b, "sbems-tls", conf), err, sizeof(err));
    if (!st)
        TAP_FAIL("init: %s", err);
    REQUIRE(st);
    drv_bind(st, &pt, 1, "tls/temp", err, sizeof(err));
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_up(), 5000));
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-tls", "tls/temp"), 5000));
    char port[16], ca[320], crt[320], key[320];
    snprintf(port, sizeof(port), "%d", b.port);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    snprintf(crt, sizeof(crt), "%s/client.crt", dir);
    snprintf(key, sizeof(key), "%s/client.key", dir);
    char *argv[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "--cafile", ca, "--cert",
                     crt, "--key", key, "-t", "tls/temp", "-m", "18.75", "-q", "1", NULL };
    CHECK_EQ(run(argv), 0);
    CHECK(WAIT_FOR(rec_find(1, 0) && rec_find(1, 0)->v == 18.75, 3000));
    drv_done(st, &pt, 1);

    /* Without the client certificate the handshake fails: reported, retried. */
    rec_reset();
    snprintf(conf, sizeof(conf), "\"tls\":{\"ca\":\"%s/ca.crt\"}", dir);
    st = drv_new(conf_for(&b, "sbems-tls2", conf), err, sizeof(err));
    REQUIRE(st);
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_downs() >= 2, 5000));
    CHECK_EQ(rec_up(), 0);
    if (!strstr(REC_STR(state_err), "certificate required"))
        TAP_FAIL("state \"%s\" does not say why", REC_STR(state_err));
    drv_done(st, NULL, 0);
    broker_stop(&b);
}

/* ---- live: a broker that starts late, restarts, stop latency ---------------------- */

TEST(broker_late)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX];

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0);
    void *st = drv_new(conf_for(&b, "sbems-late", NULL), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "late/temp", err, sizeof(err));
    sb_driver_mqtt.start(st);
    /* Refused while the broker is down (libmosquitto's own loop thread
     * would stop here for good), retried with back-off. */
    CHECK(WAIT_FOR(rec_downs() >= 2, 3000));
    CHECK(strstr(REC_STR(state_err), "Connection refused") != NULL);
    REQUIRE(broker_start(&b) == 0);
    CHECK(WAIT_FOR(rec_up(), 3000));
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-late", "late/temp"), 3000));
    REQUIRE(cl_open(&pub, b.port, "pub-late") == 0);
    cl_pubs(&pub, "late/temp", "5", 1);
    CHECK(WAIT_FOR(rec_find(1, 0) != NULL, 3000));
    cl_close(&pub);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

TEST(stop_is_prompt)
{
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], conf[200];
    int port = free_port();

    rec_reset();
    snprintf(conf, sizeof(conf), "{\"port\":%d,\"reconnect_min_ms\":30000,\"reconnect_max_ms\":60000}",
             port);
    void *st = drv_new(conf, err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "x", err, sizeof(err));
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_downs() >= 1, 3000));   /* now in a 30 s back-off */
    int64_t t0 = mono_ns();
    sb_driver_mqtt.stop(st);
    int64_t ms = (mono_ns() - t0) / 1000000;
    printf("# stop() during a 30 s back-off took %lld ms\n", (long long)ms);
    CHECK_INT(ms, <, 500);
    drv_done(st, &pt, 1);
}

TEST(restart_persistent_session)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], extra[600];
    void *st = NULL;

    rec_reset();
    snprintf(extra, sizeof(extra), "allow_anonymous true\npersistence true\n"
             "persistence_location %s/broker%d/\n", root, bdirn);   /* the dir broker_conf makes */
    REQUIRE(broker_conf(&b, extra) == 0 && broker_start(&b) == 0);
    st = drv_new(conf_for(&b, "sbems-persist", "\"reconnect_min_ms\":1000,\"reconnect_max_ms\":4000"),
                 err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "{\"topic\":\"persist/+\",\"field\":\"v\"}", err, sizeof(err));
    sb_driver_mqtt.start(st);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-persist", "persist/+"), 5000));
    uint64_t c0 = STAT(st, connects);

    broker_stop(&b);
    CHECK(WAIT_FOR(rec_downs() >= 1, 3000));
    CHECK(strstr(REC_STR(state_err), "lost") != NULL);
    sleep_ms(1200);            /* the first retry (after 1 s) fails; the next is 2 s later */
    REQUIRE(broker_start(&b) == 0);
    /* While the driver is still away, five QoS 1 messages: the broker
     * queues them for its persistent session (restored from disk). */
    REQUIRE(cl_open(&pub, b.port, "pub-persist") == 0);
    for (int i = 1; i <= 5; i++) {
        char p[32];
        snprintf(p, sizeof(p), "{\"v\":%d}", i);
        CHECK_EQ(cl_pubs(&pub, "persist/a", p, 1), 0);
    }
    CHECK_EQ(STAT(st, connects), c0);      /* really published while it was disconnected */
    CHECK(WAIT_FOR(STAT(st, connects) == c0 + 1, 8000));
    CHECK(file_has(b.log, "Saving in-memory database"));   /* the session came from disk */
    CHECK(WAIT_FOR(rec_count(1) >= 5, 5000));
    for (size_t i = 0; i < 5 && i < rec_n(); i++)
        CHECK_DBL(rec_value(i), (double)(i + 1), 0);   /* all of them, in order */
    CHECK(rec_up());
    cl_close(&pub);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

TEST(restart_resubscribes)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX];

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);  /* no persistence */
    void *st = drv_new(conf_for(&b, "sbems-resub", NULL), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "resub/x", err, sizeof(err));
    sb_driver_mqtt.start(st);
    REQUIRE(WAIT_FOR(STAT(st, connects) == 1, 5000));
    broker_stop(&b);
    CHECK(WAIT_FOR(rec_downs() >= 1, 3000));
    remove(b.log);
    REQUIRE(broker_start(&b) == 0);
    /* The new broker knows nothing of the session: only a new SUBSCRIBE
     * brings the topic's messages. */
    CHECK(WAIT_FOR(STAT(st, connects) == 2, 5000));
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-resub", "resub/x"), 3000));
    REQUIRE(cl_open(&pub, b.port, "pub-resub") == 0);
    cl_pubs(&pub, "resub/x", "3.5", 1);
    CHECK(WAIT_FOR(rec_find(1, 0) && rec_find(1, 0)->v == 3.5, 3000));
    cl_close(&pub);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

/* ---- live: pipeline back-pressure -------------------------------------------------- */

TEST(backpressure)
{
    struct broker b;
    struct client pub = { 0 };
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX];

    rec_reset();
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    void *st = drv_new(conf_for(&b, "sbems-bp", NULL), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "bp/x", err, sizeof(err));
    sb_driver_mqtt.start(st);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-bp", "bp/x"), 5000));
    REQUIRE(cl_open(&pub, b.port, "pub-bp") == 0);

    /* Pipeline full: QoS 1 messages wait (unacknowledged), none is lost. */
    atomic_store(&R.eagain, 1);
    for (int i = 1; i <= 5; i++) {
        char p[16];
        snprintf(p, sizeof(p), "%d", i);
        cl_pubs(&pub, "bp/x", p, 1);
    }
    CHECK(WAIT_FOR(STAT(st, stalls) >= 1, 3000));
    sleep_ms(300);
    CHECK_EQ(rec_n(), 0);
    atomic_store(&R.eagain, 0);
    CHECK(WAIT_FOR(rec_n() >= 5, 3000));
    for (size_t i = 0; i < 5 && i < rec_n(); i++)
        CHECK_DBL(rec_value(i), (double)(i + 1), 0);
    CHECK_EQ(STAT(st, dropped), 0);

    /* QoS 0 while full: dropped after a short wait, counted. */
    atomic_store(&R.eagain, 1);
    cl_pubs(&pub, "bp/x", "99", 0);
    CHECK(WAIT_FOR(STAT(st, dropped) == 1, 3000));

    /* stop() while a QoS 1 message waits: the PUBACK is never sent, so the
     * broker gives it to the next session of the same client id. */
    cl_pubs(&pub, "bp/x", "42", 1);
    CHECK(WAIT_FOR(STAT(st, stalls) >= 3, 3000));
    int64_t t0 = mono_ns();
    sb_driver_mqtt.stop(st);
    int64_t ms = (mono_ns() - t0) / 1000000;
    printf("# stop() with a stalled QoS 1 message took %lld ms\n", (long long)ms);
    CHECK_INT(ms, <, 1500);
    drv_done(st, &pt, 1);
    atomic_store(&R.eagain, 0);
    size_t n0 = rec_n();
    st = drv_new(conf_for(&b, "sbems-bp", NULL), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "bp/x", err, sizeof(err));
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(rec_find(1, n0) != NULL, 5000));
    if (rec_find(1, n0))
        CHECK_DBL(rec_find(1, n0)->v, 42, 0);
    cl_close(&pub);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

/* ---- live: a 100,000-message burst ------------------------------------------------- */

#define BURST 100000

/* mosquitto_pub -l publishes each line of its input as one message. */
static pid_t burst_publish(const struct broker *b, const char *lines, const char *topic,
                           const char *qos)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", b->port);
    char *argv[] = { "mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", (char *)topic, "-q",
                     (char *)qos, "-l", "-i", "bench-pub", NULL };
    return spawn(argv, lines, NULL);
}

TEST(burst_100k)
{
    struct broker b;
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], lines[300], out[300], port[16], count[16];
    FILE *f;

    rec_reset();
    snprintf(lines, sizeof(lines), "%s/lines.txt", root);
    REQUIRE((f = fopen(lines, "w")) != NULL);
    for (int i = 0; i < BURST; i++)
        fprintf(f, "%d.5\n", i);
    fclose(f);
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    snprintf(port, sizeof(port), "%d", b.port);
    snprintf(count, sizeof(count), "%d", BURST);

    /* Anchor: mosquitto_sub, from the publisher's start to its last message. */
    snprintf(out, sizeof(out), "%s/sub.out", root);
    char *sub_argv[] = { "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "bench/n", "-q",
                         "0", "-C", count, "-W", "60", "-i", "anchor", NULL };
    pid_t sub = spawn(sub_argv, NULL, out);
    REQUIRE(sub > 0 && WAIT_FOR(broker_logged(&b, "anchor 0 bench/n"), 5000));
    int64_t t0 = mono_ns();
    pid_t pub = burst_publish(&b, lines, "bench/n", "0");
    int sub_rc = kid_wait(sub, 60000);
    double sub_s = (double)(mono_ns() - t0) / 1e9;
    int pub_rc = kid_wait(pub, 60000);
    double pub_s = (double)(mono_ns() - t0) / 1e9;
    CHECK_EQ(sub_rc, 0);
    CHECK_EQ(pub_rc, 0);

    /* The driver, the same way: publisher start to the last sb_drv_push. */
    void *st = drv_new(conf_for(&b, "sbems-bench", "\"qos\":0"), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "bench/n", err, sizeof(err));
    atomic_store(&R.bench, 1);
    sb_driver_mqtt.start(st);
    REQUIRE(WAIT_FOR(broker_logged(&b, "sbems-bench 0 bench/n"), 5000));
    t0 = mono_ns();
    pub = burst_publish(&b, lines, "bench/n", "0");
    CHECK(WAIT_FOR(atomic_load(&R.total) >= BURST, 60000));
    double drv_s = (double)(atomic_load(&R.last_ns) - t0) / 1e9;
    CHECK_EQ(kid_wait(pub, 60000), 0);
    uint64_t got = atomic_load(&R.total);
    printf("# burst of %d QoS 0 messages, publisher mosquitto_pub -l (done after %.3f s):\n",
           BURST, pub_s);
    printf("#   mosquitto_sub   %d in %.3f s = %.0f msg/s\n", BURST, sub_s, BURST / sub_s);
    printf("#   driver -> push  %llu in %.3f s = %.0f msg/s (%llu bad, %llu dropped)\n",
           (unsigned long long)got, drv_s, (double)got / drv_s,
           (unsigned long long)STAT(st, bad), (unsigned long long)STAT(st, dropped));
    CHECK_EQ(got, BURST);
    CHECK_EQ(STAT(st, bad), 0);
    atomic_store(&R.bench, 0);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

/* The consumer's own pace: 60,000 QoS 1 messages queued by the broker for
 * an absent persistent session, then drained (from connect to the last
 * message), mosquitto_sub -c and the driver alike.  (mosquitto 2.0.11
 * keeps at most 65,535 messages queued for one offline session: with
 * 100,000 it logs "disconnected due to out of memory" for the publisher
 * and delivers 34,469.) */
#define DRAIN 60000

TEST(drain_60k_qos1)
{
    struct broker b;
    struct sb_drv_point pt;
    char err[SB_DRV_ERR_MAX], lines[300], port[16], count[16];

    rec_reset();
    FILE *f;
    snprintf(lines, sizeof(lines), "%s/drain.txt", root);
    REQUIRE((f = fopen(lines, "w")) != NULL);
    for (int i = 0; i < DRAIN; i++)
        fprintf(f, "%d\n", i);
    fclose(f);
    REQUIRE(broker_conf(&b, NULL) == 0 && broker_start(&b) == 0);
    snprintf(port, sizeof(port), "%d", b.port);
    snprintf(count, sizeof(count), "%d", DRAIN);

    char *mk_argv[] = { "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "drain/a", "-q",
                        "1", "-c", "-i", "anchor-drain", "-E", NULL };
    REQUIRE(run(mk_argv) == 0);
    REQUIRE(kid_wait(burst_publish(&b, lines, "drain/a", "1"), 60000) == 0);
    char *sub_argv[] = { "mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "drain/a", "-q",
                         "1", "-c", "-i", "anchor-drain", "-C", count, "-W", "60", NULL };
    int64_t t0 = mono_ns();
    CHECK_EQ(kid_wait(spawn(sub_argv, NULL, NULL), 60000), 0);
    double sub_s = (double)(mono_ns() - t0) / 1e9;

    void *st = drv_new(conf_for(&b, "sbems-drain", NULL), err, sizeof(err));
    REQUIRE(st);
    drv_bind(st, &pt, 1, "drain/d", err, sizeof(err));
    sb_driver_mqtt.start(st);
    REQUIRE(WAIT_FOR(subscribed(&b, "sbems-drain", "drain/d"), 5000));
    sb_driver_mqtt.stop(st);
    REQUIRE(kid_wait(burst_publish(&b, lines, "drain/d", "1"), 60000) == 0);
    atomic_store(&R.bench, 1);
    t0 = mono_ns();
    sb_driver_mqtt.start(st);
    CHECK(WAIT_FOR(atomic_load(&R.total) >= DRAIN, 60000));
    double drv_s = (double)(atomic_load(&R.last_ns) - t0) / 1e9;
    uint64_t got = atomic_load(&R.total);
    printf("# drain of %d QoS 1 messages queued for a persistent session:\n", DRAIN);
    printf("#   mosquitto_sub -c %d in %.3f s = %.0f msg/s\n", DRAIN, sub_s, DRAIN / sub_s);
    printf("#   driver -> push   %llu in %.3f s = %.0f msg/s\n", (unsigned long long)got, drv_s,
           (double)got / drv_s);
    CHECK_EQ(got, DRAIN);
    atomic_store(&R.bench, 0);
    drv_done(st, &pt, 1);
    broker_stop(&b);
}

/* ---- main -------------------------------------------------------------------------- */

static void cleanup(void)
{
    kids_kill_all();
    if (root && !getenv("SBEMS_TEST_KEEP")) {
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", root);
    }
}

int main(void)
{
    struct sb_log_settings ls = { .level = SB_LOG_DEBUG, .format = SB_LOG_FMT_TEXT,
                                  .timestamps = true, .rate_limit = 0, .rate_window_ms = 1000 };
    char err[200];

    TAP_START();
    if (!(root = mkdtemp(tmpl))) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    atexit(cleanup);
    signal(SIGPIPE, SIG_IGN);
    /* The driver's log goes to a file: the password test reads it back. */
    snprintf(logpath, sizeof(logpath), "%s/sbems.log", root);
    logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    sb_log_configure(&ls, err, sizeof(err));
    sb_log_set_fd(logfd);
    mosquitto_lib_init();

    RUN(number_parse);
    RUN(json_path);
    RUN(time_field);
    RUN(spb_values);
    RUN(spb_hostile);
    RUN(spb_topics_and_aliases);
    RUN(conf_errors);
    RUN(addr_errors);
    if (access("/usr/sbin/mosquitto", X_OK) != 0) {
        printf("# /usr/sbin/mosquitto not installed: live tests skipped\n");
        TAP_END();
    }
    RUN(live_values);
    RUN(live_sparkplug);
    RUN(live_malformed);
    RUN(live_write_publish_commands);
    RUN(live_password);
    RUN(live_tls);
    RUN(broker_late);
    RUN(stop_is_prompt);
    RUN(restart_persistent_session);
    RUN(restart_resubscribes);
    RUN(backpressure);
    RUN(burst_100k);
    RUN(drain_60k_qos1);

    kids_kill_all();
    sb_log_set_fd(2);
    close(logfd);
    TAP_END();
}

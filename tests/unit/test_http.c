/*
 * test_http.c - the HTTP server against the real SQLite store, spoken to by
 * a raw blocking socket client (no libcurl here): status lines, headers and
 * JSON bodies (parsed with jansson) are checked against values the test
 * computes itself from the readings it wrote.  The server's uv loop runs in
 * its own thread; the test stops it through a uv_async_t.
 *
 * Store reads can be held at a gate (a wrapper around the real store's
 * range_raw) to test requests in flight: a client that hangs up, a stop,
 * the worker FIFO and the 503 when the queue is full.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "api/http_int.h"
#include "auth/password.h"
#include "core/conf.h"
#include "core/err.h"
#include "db/appdb.h"
#include "ingest/ingest.h"
#include "model/hub.h"
#include "model/site_json.h"
#include "store/store.h"
#include "tap.h"

#define T0      1795651200000LL         /* 2026-11-26T00:00:00Z */
#define MIN_MS  60000LL
#define NMIN    180                     /* point 1 and 2: one reading a minute for 3 h */
#define P_TEMP  1u                      /* MEAN point */
#define P_KWH   2u                      /* COUNTER point */
#define P_EMPTY 3u                      /* known point without readings */
#define P_LIVE  4u                      /* written through the ingest pipeline */

/* ---- fixture: store, readings, gate -------------------------------------- */

static char dir[64];
static struct sb_store_h store;             /* the real store */
static struct sb_store_ops gated_ops;       /* its ops with range_raw behind the gate */
static struct sb_store_h gated;             /* gated_ops over the same store */
static struct sb_ingest *ing;
static double temp[NMIN], kwh[NMIN];        /* the values written */
static sem_t gate;
static atomic_int gate_on, gate_in;         /* gate closed; reads that reached it */
static atomic_int ready_flag = 1;           /* what ctx.ready() answers */
static struct sb_config cfg;                /* options the API reads */
static struct sb_appdb *db;                 /* accounts, in the store's file */
static struct sb_mhub *models;              /* the model with points 1..4 */
static char token[1024];                    /* an access token of "tester" */

/* Points 1..4 in document order get ids 1..4 from the store's registry. */
static const char site_doc[] =
    "{\"format\":\"sbems-site\",\"version\":1,"
    "\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
    "\"buildings\":[{\"id\":\"b\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
    "\"zones\":[],"
    "\"equipment\":[{\"id\":\"m\",\"building\":\"b\",\"name\":\"M\",\"type\":\"meter\"}],"
    "\"points\":["
    "{\"id\":\"temp\",\"equipment\":\"m\",\"name\":\"T\",\"kind\":\"temperature\",\"unit\":\"°C\",\"source\":{\"driver\":\"virtual\"}},"
    "{\"id\":\"kwh\",\"equipment\":\"m\",\"name\":\"E\",\"kind\":\"energy\",\"unit\":\"kWh\",\"source\":{\"driver\":\"virtual\"}},"
    "{\"id\":\"empty\",\"equipment\":\"m\",\"name\":\"X\",\"kind\":\"temperature\",\"unit\":\"°C\",\"source\":{\"driver\":\"virtual\"}},"
    "{\"id\":\"live\",\"equipment\":\"m\",\"name\":\"L\",\"kind\":\"temperature\",\"unit\":\"°C\",\"source\":{\"driver\":\"virtual\"}}]}";

/* The model, saved and loaded back with ids; the account database and a
 * viewer+admin user with a cheap hash. */
static int fixture_app(void)
{
    struct sb_model tmp, *m = sb_model_new();
    struct sb_user u;
    char path[128], h[SB_PW_HASH_MAX], err[256];
    struct sb_pw_params p = { crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };

    sb_model_init(&tmp);
    if (!m || sb_model_from_json_text(site_doc, strlen(site_doc), &tmp, NULL) ||
        sb_store_model_save(&store, &tmp) || sb_store_model_load(&store, m) ||
        sb_model_validate(m, NULL))
        return -1;
    sb_model_release(&tmp);
    if (!sb_model_point_by_id(m, P_TEMP) || strcmp(sb_model_point_by_id(m, P_LIVE)->slug, "live"))
        return -1;
    if (sb_mhub_new(m, &models))
        return -1;
    snprintf(path, sizeof(path), "%s/sbems.db", dir);
    if (sb_appdb_sqlite_open(path, &db, err, sizeof(err)))
        return -1;
    memset(&u, 0, sizeof(u));
    snprintf(u.username, sizeof(u.username), "tester");
    u.roles = SB_ROLE_VIEWER | SB_ROLE_ADMIN;
    if (sb_pw_hash(&p, "correct horse battery", h))
        return -1;
    snprintf(u.pw_hash, sizeof(u.pw_hash), "%s", h);
    if (sb_appdb_user_create(db, &u))
        return -1;
    if (sb_conf_init(&cfg) || sb_conf_set(&cfg, "data_dir", dir, err, sizeof(err)) ||
        sb_conf_set(&cfg, "api.rate_limit", "0", err, sizeof(err)) ||
        sb_conf_set(&cfg, "api.rate_limit_ip", "0", err, sizeof(err)) ||
        sb_conf_set(&cfg, "auth.password_cost", "min", err, sizeof(err)))
        return -1;
    return 0;
}

static int gated_range_raw(struct sb_store *s, uint32_t point, int64_t t0, int64_t t1,
                           size_t limit, struct sb_samples *out)
{
    if (atomic_load(&gate_on)) {
        atomic_fetch_add(&gate_in, 1);
        sem_wait(&gate);
    }
    return store.ops->range_raw(s, point, t0, t1, limit, out);
}

static int is_ready(void *ud)
{
    (void)ud;
    return atomic_load(&ready_flag);
}

static int fixture_open(void)
{
    struct sb_point_meta m[] = {
        { .id = P_TEMP, .agg = { .kind = SB_AGG_MEAN } },
        { .id = P_KWH, .agg = { .kind = SB_AGG_COUNTER } },
        { .id = P_EMPTY, .agg = { .kind = SB_AGG_MEAN } },
        { .id = P_LIVE, .agg = { .kind = SB_AGG_MEAN } },
    };
    struct sb_reading r[2 * NMIN];
    struct sb_store_cfg scfg = { .dir = dir };
    uint64_t seed = 42;
    double acc = 1000.0;

    snprintf(dir, sizeof(dir), "/tmp/sbems_test_http_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    if (sb_store_open("sqlite", &scfg, &store) || store.ops->set_points(store.s, m, 4))
        return -1;
    for (int i = 0; i < NMIN; i++) {
        /* 0.1-degree temperatures and a register that only grows. */
        temp[i] = (double)(200 + (int)(tap_rand(&seed) % 50)) / 10.0;
        acc += (double)(tap_rand(&seed) % 1000) / 100.0;
        kwh[i] = acc;
        r[2 * i] = (struct sb_reading){ .t = T0 + i * MIN_MS, .v = temp[i], .point = P_TEMP,
                                        .q = (uint16_t)(i == 7 ? SB_Q_ESTIMATED : 0) };
        r[2 * i + 1] = (struct sb_reading){ .t = T0 + i * MIN_MS, .v = kwh[i], .point = P_KWH };
    }
    if (sb_store_append(&store, r, 2 * NMIN) || sb_store_flush(&store))
        return -1;
    gated_ops = *store.ops;
    gated_ops.range_raw = gated_range_raw;
    gated = (struct sb_store_h){ .ops = &gated_ops, .s = store.s };
    sem_init(&gate, 0, 0);
    return 0;
}

/* Five readings through the pipeline, one for an unknown point. */
static int fixture_ingest(void)
{
    struct sb_ingest_cfg ic = { .queue_cap = 64, .batch_max = 16, .linger_ms = 1,
                                .future_limit_ms = 3600000, .flush_interval_ms = 1000 };
    struct sb_ingest_point ip = { .id = P_LIVE, .vmin = -INFINITY, .vmax = INFINITY };
    struct sb_reading r[5];
    struct sb_ingest_result res;

    for (int i = 0; i < 5; i++)
        r[i] = (struct sb_reading){ .t = T0 + (NMIN + i) * MIN_MS, .v = i,
                                    .point = i == 3 ? 12345u : P_LIVE };
    if (sb_ingest_new(&store, NULL, &ic, &ing) || sb_ingest_set_points(ing, &ip, 1) ||
        sb_ingest_submit(ing, r, 5, 1000, &res))
        return -1;
    return sb_ingest_wait(ing, res.ticket, 5000);
}

static void fixture_close(void)
{
    char cmd[128];

    if (ing) {
        sb_ingest_stop(ing);
        sb_ingest_free(ing);
    }
    sb_appdb_close(db);
    sb_mhub_free(models);
    sb_conf_release(&cfg);
    sb_store_close(&store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

/* ---- the server in a thread --------------------------------------------- */

struct srv {
    uv_loop_t loop;            /* the server's loop */
    uv_async_t stop;           /* wakes the loop to stop the server */
    pthread_t th;              /* runs the loop */
    struct sb_http *http;      /* server under test */
    int port;                  /* its port */
};

static void on_stop(uv_async_t *a)
{
    struct srv *s = a->data;
    sb_http_stop(s->http);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg)
{
    struct srv *s = arg;
    uv_run(&s->loop, UV_RUN_DEFAULT);
    return NULL;
}

static struct sb_http_ctx ctx_default(void)
{
    return (struct sb_http_ctx){ .store = &gated, .ingest = ing, .version = "0.1.0-<test>",
                                 .ready = is_ready, .db = db, .models = models, .cfg = &cfg };
}

static int srv_start(struct srv *s, const char *listen, const struct sb_http_ctx *ctx)
{
    uv_loop_init(&s->loop);
    int rc = sb_http_start(&s->loop, listen, ctx, &s->http);
    if (rc) {
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        return rc;
    }
    s->port = sb_http_port(s->http);
    uv_async_init(&s->loop, &s->stop, on_stop);
    s->stop.data = s;
    pthread_create(&s->th, NULL, loop_main, s);
    return 0;
}

/* Stop from this thread; the loop then runs dry and must close cleanly. */
static int srv_stop(struct srv *s)
{
    uv_async_send(&s->stop);
    pthread_join(s->th, NULL);
    return uv_loop_close(&s->loop);
}

/* ---- a tiny HTTP/1.1 client ---------------------------------------------- */

struct resp {
    int status;                /* 0 when no status line came */
    char hdr[8192];            /* raw header block */
    char *body;                /* Content-Length bytes, NUL-terminated */
    size_t blen;               /* their number */
};

static int conn_to(int family, const char *addr, int port)
{
    struct sockaddr_storage ss = { 0 };
    struct timeval tv = { 5, 0 };
    socklen_t sl;
    int fd = socket(family, SOCK_STREAM, 0);

    if (family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        inet_pton(AF_INET6, addr, &a->sin6_addr);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        inet_pton(AF_INET, addr, &a->sin_addr);
        sl = sizeof(*a);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int conn(int port)
{
    return conn_to(AF_INET, "127.0.0.1", port);
}

static int send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Header value by name (case-insensitive), or NULL. */
static const char *hdr(const struct resp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(r->hdr, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
        const char *k = l + 2;
        if (strncasecmp(k, name, nl) == 0 && k[nl] == ':') {
            const char *v = k + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return out;
        }
    }
    return NULL;
}

/* Read one response: the header block byte by byte (so nothing of a next
 * response is consumed), then exactly Content-Length bytes (none for HEAD). */
static int read_resp(int fd, struct resp *r, int head)
{
    size_t n = 0;
    char cl[32];

    memset(r, 0, sizeof(*r));
    while (n < sizeof(r->hdr) - 1 && !(n >= 4 && memcmp(r->hdr + n - 4, "\r\n\r\n", 4) == 0))
        if (recv(fd, r->hdr + n++, 1, 0) != 1)
            return -1;
    if (sscanf(r->hdr, "HTTP/1.%*d %d", &r->status) != 1)
        return -1;
    r->blen = hdr(r, "content-length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
    if (head)
        r->blen = 0;
    r->body = calloc(1, r->blen + 1);
    for (size_t got = 0; got < r->blen;) {
        ssize_t k = recv(fd, r->body + got, r->blen - got, 0);
        if (k <= 0)
            return -1;
        got += (size_t)k;
    }
    return 0;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    r->body = NULL;
}

/* One GET on its own connection; r->status 0 on failure. */
static void get(int port, const char *path, struct resp *r)
{
    char req[4096];
    int fd = conn(port);

    memset(r, 0, sizeof(*r));
    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s\r\n", path,
             token[0] ? "Authorization: Bearer " : "", token, token[0] ? "\r\n" : "");
    if (fd < 0 || send_str(fd, req) || read_resp(fd, r, 0))
        r->status = 0;
    if (fd >= 0)
        close(fd);
}

/* The server closed the connection (EOF or reset, not a timeout). */
static int closed(int fd)
{
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

static json_t *body_json(const struct resp *r)
{
    return r->body ? json_loadb(r->body, r->blen, 0, NULL) : NULL;
}

/* Every answer carries the JSON type (or HTML) and the security headers. */
static void check_common(const struct resp *r, const char *ctype)
{
    char v[256];
    CHECK_STR(hdr(r, "content-type", v, sizeof(v)), ctype);
    CHECK_STR(hdr(r, "x-content-type-options", v, sizeof(v)), "nosniff");
    CHECK_STR(hdr(r, "cache-control", v, sizeof(v)), "no-store");
    CHECK_STR(hdr(r, "x-frame-options", v, sizeof(v)), "DENY");
    CHECK_STR(hdr(r, "referrer-policy", v, sizeof(v)), "no-referrer");
}

/* Status, headers and the error code of a JSON error answer. */
static void check_error(int port, const char *path, int status, const char *code)
{
    struct resp r;
    get(port, path, &r);
    CHECK_EQ(r.status, status);
    check_common(&r, "application/json");
    json_t *j = body_json(&r), *e = json_object_get(j, "error");
    CHECK(j && json_is_string(json_object_get(e, "message")));
    CHECK_STR(json_string_value(json_object_get(e, "code")), code);
    if (r.status != status)
        printf("#   path %s -> %d %s\n", path, r.status, r.body ? r.body : "");
    json_decref(j);
    resp_free(&r);
}

static double jnum(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Wait until n store reads sit at the gate. */
static int gate_wait(int n)
{
    for (int i = 0; i < 5000 && atomic_load(&gate_in) < n; i++)
        usleep(1000);
    return atomic_load(&gate_in) >= n ? 0 : -1;
}

static struct srv S;                   /* the server most tests talk to */

static void raw(int port, const char *req, int head, struct resp *r);

/* "GET path" with the access token (a few rotating buffers). */
static const char *areq(const char *path)
{
    static char buf[4][2048];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, sizeof(buf[0]), "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n",
             path, token);
    return b;
}

/* POST /api/v1/auth/login and keep the access token for every get(). */
static int login(void)
{
    static const char body[] = "{\"username\":\"tester\",\"password\":\"correct horse battery\"}";
    char req[512];
    struct resp r;
    snprintf(req, sizeof(req), "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    raw(S.port, req, 0, &r);
    json_t *j = body_json(&r);
    const char *t = json_string_value(json_object_get(j, "access_token"));
    int rc = r.status == 200 && t ? 0 : -1;
    if (t)
        snprintf(token, sizeof(token), "%s", t);
    json_decref(j);
    resp_free(&r);
    return rc;
}

/* ---- pure parts -------------------------------------------------------- */

TEST(parse_listen)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

    CHECK_EQ(sb_http__parse_listen("127.0.0.1:8080", &ss), 0);
    CHECK_EQ(ss.ss_family, AF_INET);
    CHECK_EQ(ntohs(a4->sin_port), 8080);
    CHECK_EQ(ntohl(a4->sin_addr.s_addr), 0x7f000001);
    CHECK_EQ(sb_http__parse_listen("[::1]:0", &ss), 0);
    CHECK_EQ(ss.ss_family, AF_INET6);
    CHECK_EQ(ntohs(a6->sin6_port), 0);
    CHECK(IN6_IS_ADDR_LOOPBACK(&a6->sin6_addr));
    CHECK_EQ(sb_http__parse_listen("0.0.0.0:65535", &ss), 0);
    const char *bad[] = { "", ":80", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:80x", "localhost:80", "::1:80",
                          "[::1]80", "[::1:80", "127.1:80", "[127.0.0.1]:80",
                          "127.0.0.1:123456" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sb_http__parse_listen(bad[i], &ss) != SB_EINVAL)
            TAP_FAIL("listen \"%s\" accepted", bad[i]);
}

TEST(route)
{
    static const struct {
        const char *path;
        unsigned method;
        const char *route;             /* route path, NULL: none */
        unsigned allow;                /* methods of the path when none matched */
        const char *param;             /* first parameter */
    } t[] = {
        { "/healthz", SB_M_GET, "/healthz", 0, NULL },
        { "/healthz", SB_M_HEAD, "/healthz", 0, NULL },
        { "/api/v1/status", SB_M_GET, "/api/v1/status", 0, NULL },
        { "/api/v1/points/17/latest", SB_M_GET, "/api/v1/points/{point}/latest", 0, "17" },
        { "/api/v1/points/ahu-1.sat/history", SB_M_GET, "/api/v1/points/{point}/history", 0,
          "ahu-1.sat" },
        { "/api/v1/points/17", SB_M_PATCH, "/api/v1/points/{point}", 0, "17" },
        { "/api/v1/points/17", SB_M_POST, NULL, SB_M_GET | SB_M_HEAD | SB_M_PATCH | SB_M_DELETE,
          NULL },
        { "/api/v1/status", SB_M_POST, NULL, SB_M_GET | SB_M_HEAD, NULL },
        { "/api/v1/points/../latest", SB_M_GET, NULL, 0, NULL },
        { "/api/v1/points//latest", SB_M_GET, NULL, 0, NULL },
        { "/api/v1/points/1/other", SB_M_GET, NULL, 0, NULL },
        { "/api/v1/points/1/latest/", SB_M_GET, NULL, 0, NULL },
        { "/healthz/", SB_M_GET, NULL, 0, NULL },
        { "/HEALTHZ", SB_M_GET, NULL, 0, NULL },
        { "", SB_M_GET, NULL, 0, NULL },
    };
    static struct sb_req rq;
    char longseg[128];

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        unsigned allow = 99;
        memset(&rq, 0, sizeof(rq));
        const struct sb_route *r = sb_api__match(t[i].path, t[i].method, &rq, &allow);
        if (t[i].route ? !r || strcmp(r->path, t[i].route) != 0 : r != NULL)
            TAP_FAIL("route \"%s\": %s, want %s", t[i].path, r ? r->path : "none",
                     t[i].route ? t[i].route : "none");
        if (!t[i].route && allow != t[i].allow)
            TAP_FAIL("route \"%s\": allow %#x, want %#x", t[i].path, allow, t[i].allow);
        if (t[i].param && (rq.nparams != 1 || strcmp(rq.params[0], t[i].param) != 0))
            TAP_FAIL("route \"%s\": param \"%s\"", t[i].path, rq.params[0]);
    }
    /* a segment longer than a slug never matches */
    memset(longseg, 'a', 80);
    longseg[80] = '\0';
    char path[200];
    unsigned allow;
    snprintf(path, sizeof(path), "/api/v1/points/%s/latest", longseg);
    CHECK(sb_api__match(path, SB_M_GET, &rq, &allow) == NULL);
    CHECK_STR(sb_api__allow_text(SB_M_GET | SB_M_HEAD | SB_M_DELETE), "GET, HEAD, DELETE");
}

/* Parse a whole query string the way the server feeds it, fragment by fragment. */
static int series_q(const char *qs, int64_t now, struct sb_http__series_q *q, const char **why)
{
    char buf[512];
    int rc = 0;

    sb_http__series_init(q);
    snprintf(buf, sizeof(buf), "%s", qs);
    for (char *save = NULL, *f = strtok_r(buf, "&", &save); f && rc == 0;
         f = strtok_r(NULL, "&", &save))
        rc = sb_http__series_arg(q, f, strlen(f), why);
    return rc ? rc : sb_http__series_finish(q, now, why);
}

TEST(series_params)
{
    struct sb_http__series_q q;
    const char *why = NULL;
    const int64_t now = T0 + 5 * 3600000LL;

    CHECK_EQ(series_q("", now, &q, &why), 0);
    CHECK_EQ(q.res, SB_RES_RAW);
    CHECK_EQ(q.to, now);
    CHECK_EQ(q.from, now - 86400000LL);
    CHECK_EQ(q.limit, SB_HTTP_RAW_DEFAULT);
    CHECK_EQ(series_q("res=1h&from=2026-11-26T00:00:00Z&to=1795654800000&kind=counter", now,
                      &q, &why), 0);
    CHECK_EQ(q.res, SB_RES_1H);
    CHECK_EQ(q.kind, SB_AGG_COUNTER);
    CHECK_EQ(q.from, T0);
    CHECK_EQ(q.to, T0 + 3600000LL);
    CHECK_EQ(q.limit, SB_HTTP_BUCKETS_MAX);
    CHECK_EQ(series_q("limit=1000000&from=5&to=5", now, &q, &why), 0);
    CHECK_EQ(q.limit, 1000000);
    /* 1m over 69 days fits in 100,000 buckets, over 70 it does not. */
    CHECK_EQ(series_q("res=1m&from=0&to=5961600000", now, &q, &why), 0);
    CHECK_EQ(series_q("res=1m&from=0&to=6048000000", now, &q, &why), SB_ERANGE);
    static const char *const bad[] = {
        "res=5m", "res=", "res", "kind=median", "from=yesterday", "from=2026-11-26T00:00:00",
        "from=2026-13-01T00:00:00Z", "from=10&to=9", "limit=0", "limit=1000001", "limit=-5",
        "limit=1e3", "foo=1", "res=1h&res=1h", "to=12&to=12",
        "from=1111111111111111111111111111111111111111111111111111111111111111111111",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why = NULL;
        if (series_q(bad[i], now, &q, &why) == 0 || !why)
            TAP_FAIL("query \"%s\" accepted (or no reason)", bad[i]);
    }
    char nul[] = "res=1h";
    nul[4] = '\0';
    CHECK_EQ(sb_http__series_arg(&q, nul, 6, &why), SB_EINVAL);
}

/* Numbers read back exactly; strings survive a JSON parser. */
TEST(json_output)
{
    struct sb_http__buf b;
    uint64_t seed = 7;

    sb_http__buf_init(&b, 1 << 20);
    sb_http__buf_num(&b, 21.3);
    sb_http__buf_puts(&b, " ");
    sb_http__buf_num(&b, NAN);
    sb_http__buf_puts(&b, " ");
    sb_http__buf_num(&b, -INFINITY);
    CHECK(b.len == strlen("21.3 null null") && memcmp(b.p, "21.3 null null", b.len) == 0);
    for (int i = 0; i < 20000; i++) {
        union { uint64_t u; double d; } x = { .u = tap_rand(&seed) };
        if (!isfinite(x.d))
            continue;
        sb_http__buf_reset(&b);
        sb_http__buf_num(&b, x.d);
        sb_http__buf_add(&b, "", 1);
        json_t *j = json_loads(b.p, JSON_DECODE_ANY, NULL);
        if (!j || strtod(b.p, NULL) != x.d || json_number_value(j) != x.d)
            TAP_FAIL("%.17g printed as %s", x.d, b.p);
        json_decref(j);
    }
    char s[64];
    for (int i = 0; i < 2000; i++) {
        size_t n = tap_rand(&seed) % (sizeof(s) - 1);
        for (size_t k = 0; k < n; k++)
            s[k] = (char)(1 + tap_rand(&seed) % 127);
        s[n] = '\0';
        sb_http__buf_reset(&b);
        sb_http__buf_jstr(&b, s);
        json_t *j = json_loadb(b.p, b.len, JSON_DECODE_ANY, NULL);
        if (!j || !json_is_string(j) || strcmp(json_string_value(j), s) != 0)
            TAP_FAIL("string %d did not survive", i);
        json_decref(j);
    }
    sb_http__buf_release(&b);
    /* The ceiling holds, and errors stick. */
    sb_http__buf_init(&b, 8);
    CHECK_EQ(sb_http__buf_puts(&b, "12345678"), 0);
    CHECK_EQ(sb_http__buf_puts(&b, "9"), SB_ENOSPC);
    CHECK_EQ(sb_http__buf_puts(&b, ""), SB_ENOSPC);
    CHECK_EQ(b.len, 8);
    sb_http__buf_release(&b);
}

/* ---- the server -------------------------------------------------------- */

TEST(start_and_plugin)
{
    char line[512];
    int found = 0;

    CHECK(S.port > 0 && S.port < 65536);
    /* lws found and loaded its libuv event-lib plugin (Debian package
     * libwebsockets-evlib-uv). */
    FILE *f = fopen("/proc/self/maps", "r");
    REQUIRE(f);
    while (fgets(line, sizeof(line), f))
        found |= strstr(line, "libwebsockets-evlib_uv.so") != NULL;
    fclose(f);
    CHECK(found);
}

TEST(healthz_readyz_index)
{
    struct resp r;
    char v[64];

    get(S.port, "/healthz", &r);
    CHECK_EQ(r.status, 200);
    check_common(&r, "application/json");
    json_t *j = body_json(&r);
    CHECK_STR(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    resp_free(&r);

    get(S.port, "/readyz", &r);
    CHECK_EQ(r.status, 200);
    j = body_json(&r);
    json_t *st = json_object_get(j, "store");
    CHECK_STR(json_string_value(json_object_get(st, "backend")), "sqlite");
    CHECK(strncmp(json_string_value(json_object_get(st, "version")) ?: "", "SQLite 3.", 9) == 0);
    CHECK(json_is_false(json_object_get(st, "timescaledb")));
    json_decref(j);
    resp_free(&r);
    atomic_store(&ready_flag, 0);
    get(S.port, "/readyz", &r);
    CHECK_EQ(r.status, 503);
    check_common(&r, "application/json");
    CHECK_STR(hdr(&r, "retry-after", v, sizeof(v)), "1");
    resp_free(&r);
    atomic_store(&ready_flag, 1);

    get(S.port, "/", &r);
    CHECK_EQ(r.status, 200);
    check_common(&r, "text/html; charset=utf-8");
    CHECK(r.body && strstr(r.body, "sbems is running"));
    CHECK(r.body && strstr(r.body, "0.1.0-&lt;test&gt;"));      /* escaped */
    CHECK(r.body && strstr(r.body, "href=\"/healthz\""));
    CHECK(r.body && strstr(r.body, "href=\"/api/v1/status\""));
    resp_free(&r);
}

TEST(status)
{
    struct resp r;

    get(S.port, "/api/v1/status", &r);
    CHECK_EQ(r.status, 200);
    check_common(&r, "application/json");
    json_t *j = body_json(&r), *st = json_object_get(j, "store"), *in = json_object_get(j, "ingest");
    REQUIRE(j && st && in);
    CHECK_STR(json_string_value(json_object_get(j, "version")), "0.1.0-<test>");
    CHECK(jnum(j, "uptime_s") >= 0 && jnum(j, "uptime_s") < 60);
    CHECK_STR(json_string_value(json_object_get(st, "backend")), "sqlite");
    CHECK_EQ(jnum(st, "appended"), 2 * NMIN + 4);   /* direct + the ingested ones */
    CHECK(jnum(st, "db_bytes") > 0);
    CHECK_EQ(jnum(in, "submitted"), 5);
    CHECK_EQ(jnum(in, "written"), 4);
    CHECK_EQ(jnum(json_object_get(in, "rejected"), "unknown_point"), 1);
    CHECK(jnum(json_object_get(j, "http"), "served") >= 1);
    json_decref(j);
    resp_free(&r);
}

/* RFC 3339 text of ms, computed here with gmtime_r. */
static void iso(int64_t ms, char *out, size_t cap)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

TEST(latest)
{
    struct resp r;
    char want[40];

    get(S.port, "/api/v1/points/1/latest", &r);
    CHECK_EQ(r.status, 200);
    check_common(&r, "application/json");
    json_t *j = body_json(&r);
    REQUIRE(j);
    iso(T0 + (NMIN - 1) * MIN_MS, want, sizeof(want));
    CHECK_EQ(jnum(j, "point"), P_TEMP);
    CHECK_STR(json_string_value(json_object_get(j, "t")), want);
    CHECK_EQ(jnum(j, "ts"), T0 + (NMIN - 1) * MIN_MS);
    CHECK_DBL(jnum(j, "value"), temp[NMIN - 1], 0);
    CHECK_EQ(jnum(j, "quality"), 0);
    json_decref(j);
    resp_free(&r);

    check_error(S.port, "/api/v1/points/99/latest", 404, "not_found");        /* no data */
    check_error(S.port, "/api/v1/points/12345/latest", 404, "not_found");     /* unknown */
    check_error(S.port, "/api/v1/points/abc/latest", 404, "not_found");     /* no such slug */
    check_error(S.port, "/api/v1/points/99999999999/latest", 404, "not_found");
    check_error(S.port, "/api/v1/points/1/newest", 404, "not_found");
    check_error(S.port, "/nope", 404, "not_found");
}

/* Raw samples of point 1 in [from, to) equal what was written. */
static void check_samples(json_t *arr, int64_t from, size_t first, size_t n)
{
    REQUIRE(json_is_array(arr));
    CHECK_EQ(json_array_size(arr), n);
    for (size_t i = 0; i < json_array_size(arr) && i < n; i++) {
        json_t *s = json_array_get(arr, i);
        size_t k = first + i;
        if (jnum(s, "ts") != (double)(from + (int64_t)i * MIN_MS) || jnum(s, "value") != temp[k] ||
            jnum(s, "quality") != (k == 7 ? SB_Q_ESTIMATED : 0))
            TAP_FAIL("sample %zu: ts %.0f value %.17g q %.0f", k, jnum(s, "ts"),
                     jnum(s, "value"), jnum(s, "quality"));
    }
}

TEST(series_raw)
{
    struct resp r;
    char path[256];

    /* Minutes 5..64 by RFC 3339 (with a percent-encoded '+' offset for to). */
    get(S.port, "/api/v1/points/1/series?from=2026-11-26T00:05:00Z"
                "&to=2026-11-26T02:05:00%2B01:00", &r);
    CHECK_EQ(r.status, 200);
    json_t *j = body_json(&r);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "res")), "raw");
    CHECK_EQ(jnum(j, "count"), 60);
    CHECK(json_is_false(json_object_get(j, "truncated")));
    CHECK(json_is_null(json_object_get(j, "next")));
    check_samples(json_object_get(j, "samples"), T0 + 5 * MIN_MS, 5, 60);
    json_decref(j);
    resp_free(&r);

    /* Paging by limit and next gives back every sample once. */
    int64_t from = T0;
    size_t got = 0;
    for (int page = 0; page < 10 && from >= 0; page++) {
        snprintf(path, sizeof(path), "/api/v1/points/1/series?res=raw&from=%lld&to=%lld&limit=70",
                 (long long)from, (long long)(T0 + NMIN * MIN_MS));
        get(S.port, path, &r);
        j = body_json(&r);
        REQUIRE(r.status == 200 && j);
        size_t n = json_array_size(json_object_get(j, "samples"));
        check_samples(json_object_get(j, "samples"), from, got, n);
        got += n;
        json_t *next = json_object_get(j, "next");
        CHECK_EQ(json_is_true(json_object_get(j, "truncated")), got < NMIN);
        from = json_is_integer(next) ? json_integer_value(next) : -1;
        if (json_is_integer(next))
            CHECK_EQ(from, T0 + (int64_t)got * MIN_MS);
        json_decref(j);
        resp_free(&r);
    }
    CHECK_EQ(got, NMIN);
}

/* 15-minute buckets of the MEAN point against sums done here. */
TEST(series_buckets)
{
    struct resp r;

    get(S.port, "/api/v1/points/1/series?res=15m&from=1795651200000&to=1795662000000", &r);
    CHECK_EQ(r.status, 200);
    json_t *j = body_json(&r), *b = json_object_get(j, "buckets");
    REQUIRE(j && json_is_array(b));
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "mean");
    CHECK_EQ(json_array_size(b), NMIN / 15);
    for (size_t i = 0; i < json_array_size(b); i++) {
        json_t *x = json_array_get(b, i);
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        for (size_t k = i * 15; k < i * 15 + 15; k++) {
            sum += temp[k];
            mn = temp[k] < mn ? temp[k] : mn;
            mx = temp[k] > mx ? temp[k] : mx;
        }
        CHECK_EQ(jnum(x, "start"), T0 + (int64_t)i * 15 * MIN_MS);
        CHECK_EQ(jnum(x, "n"), 15);
        CHECK_DBL(jnum(x, "min"), mn, 0);
        CHECK_DBL(jnum(x, "max"), mx, 0);
        CHECK_DBL(jnum(x, "value"), sum / 15, 1e-9);
        CHECK_EQ(jnum(x, "quality"), i == 0 ? SB_Q_ESTIMATED : 0);
    }
    json_decref(j);
    resp_free(&r);

    /* Hourly consumption of the register: the increase between consecutive
     * readings belongs to the bucket of the later one. */
    get(S.port, "/api/v1/points/2/series?res=1h&kind=counter&from=2026-11-26T00:00:00Z"
                "&to=2026-11-26T03:00:00Z", &r);
    CHECK_EQ(r.status, 200);
    j = body_json(&r);
    b = json_object_get(j, "buckets");
    REQUIRE(j && json_is_array(b));
    CHECK_EQ(json_array_size(b), 3);
    for (size_t i = 0; i < json_array_size(b); i++) {
        size_t lo = i == 0 ? 0 : i * 60 - 1, hi = i * 60 + 59;
        CHECK_DBL(jnum(json_array_get(b, i), "value"), kwh[hi] - kwh[lo], 1e-6);
        CHECK(json_is_number(json_object_get(json_array_get(b, i), "peak")));
    }
    json_decref(j);
    resp_free(&r);

    /* limit truncates buckets too. */
    get(S.port, "/api/v1/points/1/series?res=15m&from=1795651200000&to=1795662000000&limit=5", &r);
    j = body_json(&r);
    CHECK(j && json_array_size(json_object_get(j, "buckets")) == 5);
    CHECK_EQ(jnum(j, "next"), T0 + 5 * 15 * MIN_MS);
    json_decref(j);
    resp_free(&r);
}

TEST(series_errors)
{
    static const char *const bad[] = {
        "res=5m", "res=1h&kind=median", "from=10&to=9", "limit=1000001", "limit=0",
        "from=yesterday", "from=2026-11-26T00:00:00", "res=1m&from=0&to=6048000000",
        "bogus=1", "res=raw&res=raw",
    };
    char path[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/points/1/series?%s", bad[i]);
        check_error(S.port, path, 400, "invalid");
    }
    check_error(S.port, "/api/v1/points/x1/series?res=1h", 404, "not_found");
}

/* Raw request, one response. */
static void raw(int port, const char *req, int head, struct resp *r)
{
    int fd = conn(port);
    memset(r, 0, sizeof(*r));
    if (fd < 0 || send_str(fd, req) || read_resp(fd, r, head))
        r->status = 0;
    if (fd >= 0)
        close(fd);
}

TEST(methods_limits)
{
    struct resp r;
    char v[64];

    raw(S.port, "POST /api/v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 0, &r);
    CHECK_EQ(r.status, 405);
    check_common(&r, "application/json");
    CHECK_STR(hdr(&r, "allow", v, sizeof(v)), "GET, HEAD");
    resp_free(&r);
    raw(S.port, "DELETE /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 0, &r);
    CHECK_EQ(r.status, 405);
    resp_free(&r);
    raw(S.port, "PUT /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 0, &r);
    CHECK_EQ(r.status, 405);                   /* only GET/HEAD outside the API */
    resp_free(&r);
    raw(S.port, "PUT /api/v1/nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", 0, &r);
    CHECK_EQ(r.status, 404);
    resp_free(&r);

    /* A GET with a body is refused and the connection closes. */
    int fd = conn(S.port);
    REQUIRE(fd >= 0);
    send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    CHECK_EQ(read_resp(fd, &r, 0), 0);
    CHECK_EQ(r.status, 400);
    CHECK_STR(hdr(&r, "connection", v, sizeof(v)), "close");
    CHECK(closed(fd));
    close(fd);
    resp_free(&r);

    /* URL over 2048 bytes: 414; over lws's header space: dropped. */
    char *big = malloc(12000);
    REQUIRE(big);
    int n = snprintf(big, 12000, "GET /api/v1/points/1/series?from=1&x=");
    memset(big + n, 'a', 3000);
    snprintf(big + n + 3000, 12000 - (size_t)n - 3000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(S.port, big, 0, &r);
    CHECK_EQ(r.status, 414);
    resp_free(&r);
    memset(big + n, 'a', 10000);
    snprintf(big + n + 10000, 12000 - (size_t)n - 10000, " HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(S.port, big, 0, &r);
    CHECK(r.status == 0 || r.status == 431 || r.status == 414);
    resp_free(&r);
    free(big);
    get(S.port, "/healthz", &r);
    CHECK_EQ(r.status, 200);
    resp_free(&r);
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* HEAD sends the GET's headers and no body; keep-alive carries on, and
 * fast: headers and body are two writes, so without TCP_NODELAY each
 * answer would wait ~40 ms for a delayed ACK (50 requests: ~2 s). */
TEST(head_keepalive)
{
    struct resp r;
    char v[32];
    int fd = conn(S.port);
    double t0;

    REQUIRE(fd >= 0);
    send_str(fd, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ(read_resp(fd, &r, 1), 0);
    CHECK_EQ(r.status, 200);
    CHECK_STR(hdr(&r, "content-length", v, sizeof(v)), "16");   /* {"status":"ok"}\n */
    resp_free(&r);
    t0 = mono_s();
    for (int i = 0; i < 50; i++) {
        send_str(fd, areq("/api/v1/points/1/latest"));
        CHECK_EQ(read_resp(fd, &r, 0), 0);
        CHECK_EQ(r.status, 200);
        json_t *j = body_json(&r);
        CHECK_EQ(jnum(j, "point"), 1);
        json_decref(j);
        resp_free(&r);
    }
    double dt = mono_s() - t0;
    CHECK(dt < 1.5);
    printf("# 50 keep-alive requests in %.3f s\n", dt);
    /* Pipelined: three requests in one write, answered in order. */
    char pipe[4096];
    snprintf(pipe, sizeof(pipe), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n%s"
             "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n", areq("/api/v1/points/99/latest"));
    send_str(fd, pipe);
    static const int want[] = { 200, 404, 200 };
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(read_resp(fd, &r, 0), 0);
        CHECK_EQ(r.status, want[i]);
        resp_free(&r);
    }
    close(fd);
}

TEST(binds_given_address_only)
{
    struct srv s2;
    struct sb_http_ctx c = ctx_default();

    /* 127.0.0.2 is loopback too: a wildcard bind would answer there. */
    CHECK(conn_to(AF_INET, "127.0.0.2", S.port) < 0);
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", S.port);
    CHECK_EQ(srv_start(&s2, listen, &c), SB_EIO);                 /* port taken */
    CHECK_EQ(srv_start(&s2, "192.0.2.1:0", &c), SB_EIO);          /* not ours (RFC 5737) */
    CHECK_EQ(srv_start(&s2, "localhost:0", &c), SB_EINVAL);
    CHECK_EQ(srv_start(&s2, "127.0.0.1:99999", &c), SB_EINVAL);
}

TEST(ipv6)
{
    struct srv s6;
    struct sb_http_ctx c = ctx_default();
    struct resp r;
    char req[] = "GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n";

    int rc = srv_start(&s6, "[::1]:0", &c);
    if (rc == SB_EIO) {
        printf("# no IPv6 loopback here: skipped\n");
        return;
    }
    REQUIRE(rc == 0);
    int fd = conn_to(AF_INET6, "::1", s6.port);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(send_str(fd, req) == 0 && read_resp(fd, &r, 0) == 0 && r.status == 200);
        resp_free(&r);
        close(fd);
    }
    CHECK(conn_to(AF_INET, "127.0.0.1", s6.port) < 0);           /* IPv6 only */
    CHECK_EQ(srv_stop(&s6), 0);
}

/* A client hangs up while its store read runs: the read completes into an
 * orphaned request, which is freed (ASan checks) and the server goes on. */
TEST(close_in_flight)
{
    struct resp r;
    int fd = conn(S.port);

    REQUIRE(fd >= 0);
    atomic_store(&gate_in, 0);
    atomic_store(&gate_on, 1);
    send_str(fd, areq("/api/v1/points/1/series"));
    CHECK_EQ(gate_wait(1), 0);
    close(fd);
    usleep(100000);                    /* lws sees the hang-up */
    atomic_store(&gate_on, 0);
    sem_post(&gate);
    get(S.port, "/api/v1/points/1/series?limit=1", &r);
    CHECK_EQ(r.status, 200);
    resp_free(&r);
}

/* Four reads, more than the workers: the rest wait in the FIFO, all answer. */
TEST(worker_fifo)
{
    int fd[4];
    struct resp r;

    atomic_store(&gate_in, 0);
    atomic_store(&gate_on, 1);
    for (int i = 0; i < 4; i++) {
        fd[i] = conn(S.port);
        REQUIRE(fd[i] >= 0);
        send_str(fd[i], areq("/api/v1/points/1/series?from=1795651200000&limit=3"));
    }
    CHECK_EQ(gate_wait(SB_HTTP_WORKERS), 0);
    usleep(100000);
    CHECK_EQ(atomic_load(&gate_in), SB_HTTP_WORKERS);   /* only that many workers */
    atomic_store(&gate_on, 0);
    for (unsigned i = 0; i < SB_HTTP_WORKERS; i++)
        sem_post(&gate);
    for (int i = 0; i < 4; i++) {
        CHECK(read_resp(fd[i], &r, 0) == 0 && r.status == 200);
        json_t *j = body_json(&r);
        CHECK_EQ(jnum(j, "count"), 3);
        json_decref(j);
        resp_free(&r);
        close(fd[i]);
    }
}

/* The workers busy + the queue full fill the server: one more gets 503. */
TEST(busy_503)
{
    enum { N = SB_HTTP_WORKERS + SB_HTTP_QUEUE_MAX + 1 };
    static int fd[N];
    struct pollfd pf[N];
    struct resp r;
    char v[16];
    int n503 = 0, n200 = 0, ready = 0;

    atomic_store(&gate_in, 0);
    atomic_store(&gate_on, 1);
    for (int i = 0; i < N; i++) {
        fd[i] = conn(S.port);
        REQUIRE(fd[i] >= 0);
        send_str(fd[i], areq("/api/v1/points/1/series?limit=1"));
        pf[i] = (struct pollfd){ .fd = fd[i], .events = POLLIN };
    }
    CHECK_EQ(gate_wait(SB_HTTP_WORKERS), 0);
    for (int t = 0; t < 50 && ready == 0; t++)
        ready = poll(pf, N, 100);
    CHECK_EQ(ready, 1);
    atomic_store(&gate_on, 0);
    for (unsigned i = 0; i < SB_HTTP_WORKERS; i++)
        sem_post(&gate);
    for (int i = 0; i < N; i++) {
        if (read_resp(fd[i], &r, 0) == 0) {
            n503 += r.status == 503;
            n200 += r.status == 200;
            if (r.status == 503)
                CHECK_STR(hdr(&r, "retry-after", v, sizeof(v)), "1");
        }
        resp_free(&r);
        close(fd[i]);
    }
    CHECK_EQ(n503, 1);
    CHECK_EQ(n200, N - 1);
}

/* Stop while a read is in flight and its client waits: the client is cut
 * off, the read finishes, the loop runs dry and closes. */
TEST(stop_in_flight)
{
    struct srv s2;
    struct sb_http_ctx c = ctx_default();

    REQUIRE(srv_start(&s2, "127.0.0.1:0", &c) == 0);
    int fd = conn(s2.port);
    REQUIRE(fd >= 0);
    atomic_store(&gate_in, 0);
    atomic_store(&gate_on, 1);
    send_str(fd, areq("/api/v1/points/1/series"));
    CHECK_EQ(gate_wait(1), 0);
    uv_async_send(&s2.stop);
    CHECK(closed(fd));                        /* cut off, no answer */
    atomic_store(&gate_on, 0);
    sem_post(&gate);
    pthread_join(s2.th, NULL);
    CHECK_EQ(uv_loop_close(&s2.loop), 0);
    close(fd);
}

int main(void)
{
    struct sb_http_ctx ctx;

    TAP_START();
    RUN(parse_listen);
    RUN(route);
    RUN(series_params);
    RUN(json_output);
    if (fixture_open() || fixture_ingest() || fixture_app()) {
        printf("Bail out! store fixture failed\n");
        return 1;
    }
    ctx = ctx_default();
    if (srv_start(&S, "127.0.0.1:0", &ctx)) {
        printf("Bail out! server did not start\n");
        return 1;
    }
    if (login()) {
        printf("Bail out! could not sign in\n");
        return 1;
    }
    RUN(start_and_plugin);
    RUN(healthz_readyz_index);
    RUN(status);
    RUN(latest);
    RUN(series_raw);
    RUN(series_buckets);
    RUN(series_errors);
    RUN(methods_limits);
    RUN(head_keepalive);
    RUN(binds_given_address_only);
    RUN(ipv6);
    RUN(close_in_flight);
    RUN(worker_fifo);
    RUN(busy_503);
    RUN(stop_in_flight);
    CHECK_EQ(srv_stop(&S), 0);
    fixture_close();
    TAP_END();
}

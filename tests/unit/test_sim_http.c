/*
 * test_sim_http.c - sbems-sim's HTTP face (src/sim/httpd.h) on 127.0.0.61..63
 * with a real plant: the HTTP/1.1 parser; OAuth 2.0 tokens (good and bad
 * secrets, expiry, unknown tokens); thermostat status against the plant;
 * setpoints, hold, modes and fan driving the plant's overrides; 4xx answers;
 * 429 with Retry-After; keep-alive and pipelining on a raw socket; offline
 * thermostats; sbems's own rest driver with the shipped profile reading and
 * writing a thermostat, and its weather parser and driver reading the
 * forecast; the forecast error; the control routes against a test double of
 * the fault manager (the real one is being written); the site document
 * importing into the sbems model.
 *
 * The server runs on a libuv loop in a second thread (the drivers block);
 * everything touching the plant or the face runs on that thread (on_loop).
 * Run from the repository root (profiles/, sim/weather/).
 */
#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/rest/rest.h"
#include "drivers/rest/weather.h"
#include "drivers/rest/wxparse.h"
#include "model/model.h"
#include "model/site_json.h"
#include "model/units.h"
#include "sim/httpd.h"
#include "sim/httpd_int.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"
#include "tap.h"

#define EPW_PATH "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"
#define SECRET   "sbems-sim-secret"
#define CTL_TOK  "ctl-t0ken"

static struct sb_epw *epw;
static struct sb_plant *plant;
static uv_loop_t loop;
static uv_async_t wake;
static pthread_t loop_thr;
static struct sb_simhttp *srv, *srv2, *srv3;
static char base1[64], base2[64], base3[64];
static int64_t sim_ms, wall_ms;         /* as last given to sync */
static char offline_name[32];           /* loop thread only */
static CURL *cu;                        /* the client: one handle, keep-alive */

/* ---- the loop thread ------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static void (*job_fn)(void *);
static void *job_arg;
static int job_done;

static void on_wake(uv_async_t *a)
{
    (void)a;
    pthread_mutex_lock(&mu);
    if (job_fn) {
        job_fn(job_arg);
        job_fn = NULL;
        job_done = 1;
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
}

/* Runs fn(arg) on the loop thread and waits for it. */
static void on_loop(void (*fn)(void *), void *arg)
{
    pthread_mutex_lock(&mu);
    job_fn = fn;
    job_arg = arg;
    job_done = 0;
    uv_async_send(&wake);
    while (!job_done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void *loop_main(void *a)
{
    (void)a;
    uv_run(&loop, UV_RUN_DEFAULT);
    return NULL;
}

static int fake_offline(void *ud, const char *name)
{
    (void)ud;
    return offline_name[0] && strcmp(name, offline_name) == 0;
}

/* Steps the plant by *(double *)a seconds and syncs the faces. */
static void step_job(void *a)
{
    double dt = *(double *)a;

    sim_ms += (int64_t)(dt * 1000);
    sb_plant_step(plant, dt, sim_ms);
    wall_ms = sb_now_ms();
    sb_simhttp_sync(srv, sim_ms, wall_ms);
    sb_simhttp_sync(srv2, sim_ms, wall_ms);
    sb_simhttp_sync(srv3, sim_ms, wall_ms);
}

static void step(double dt)
{
    on_loop(step_job, &dt);
}

static void set_offline_job(void *a)
{
    snprintf(offline_name, sizeof(offline_name), "%s", (const char *)a);
}

/* A plant point read on the loop thread. */
struct pread {
    const char *name;
    double v, autov;
    int overridden;
};

static void pread_job(void *a)
{
    struct pread *p = a;
    int i = sb_plant_find(plant, p->name);
    struct sb_plant_point_info in = { 0 };

    p->v = p->autov = NAN;
    sb_plant_read(plant, i, &p->v);
    sb_plant_read_auto(plant, i, &p->autov);
    sb_plant_point(plant, i, &in);
    p->overridden = in.overridden;
}

static struct pread plant_pt(const char *name)
{
    struct pread p = { .name = name };
    on_loop(pread_job, &p);
    return p;
}

/* ---- the fault-manager double ------------------------------------------------ */

struct fake_ctl {
    int injected, cleared;
    char last_class[64];
};

static int fake_inject(void *ud, const json_t *req, char *err, size_t errlen)
{
    struct fake_ctl *f = ud;
    const char *c = json_string_value(json_object_get(req, "class"));

    if (!c || strcmp(c, "nonsense") == 0) {
        snprintf(err, errlen, "class: unknown fault class");
        return SB_EINVAL;
    }
    snprintf(f->last_class, sizeof(f->last_class), "%s", c);
    f->injected++;
    return 7;
}

static int fake_clear(void *ud, int id)
{
    struct fake_ctl *f = ud;
    if (id != 7)
        return SB_ENOENT;
    f->cleared++;
    return 0;
}

static json_t *fake_list(void *ud)
{
    struct fake_ctl *f = ud;
    return json_pack("[{s:i, s:s}]", "id", 7, "class", f->last_class);
}

static struct fake_ctl fake;
static const struct sb_simhttp_ctl fake_ops = { &fake, fake_inject, fake_clear, fake_list };

/* ---- HTTP client -------------------------------------------------------------- */

struct rsp {
    long code;
    char *body;
    size_t len;
    char hdr[4096];
    size_t hlen;
};

static size_t on_hdr(char *p, size_t sz, size_t n, void *ud)
{
    struct rsp *r = ud;
    size_t k = sz * n;

    if (r->hlen + k < sizeof(r->hdr)) {
        memcpy(r->hdr + r->hlen, p, k);
        r->hlen += k;
        r->hdr[r->hlen] = 0;
    }
    return k;
}

static void rsp_free(struct rsp *r)
{
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* One request on the shared handle; extra: one header line or NULL. */
static long req(const char *base, const char *method, const char *path, const char *extra,
                const char *body, struct rsp *r)
{
    char url[4096];
    struct curl_slist *hl = NULL;
    FILE *mem;

    memset(r, 0, sizeof(*r));
    mem = open_memstream(&r->body, &r->len);
    snprintf(url, sizeof(url), "%s%s", base, path);
    curl_easy_reset(cu);
    curl_easy_setopt(cu, CURLOPT_URL, url);
    curl_easy_setopt(cu, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(cu, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_hdr);
    curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
    hl = curl_slist_append(hl, "Expect:");
    if (extra)
        hl = curl_slist_append(hl, extra);
    curl_easy_setopt(cu, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET") != 0 && !(body && strcmp(method, "POST") == 0))
        curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
    if (curl_easy_perform(cu) == CURLE_OK)
        curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->code);
    fclose(mem);
    curl_slist_free_all(hl);
    return r->code;
}

static json_t *js(const struct rsp *r)
{
    return r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
}

/* A header's value (case-insensitive name) into out; 1 if present. */
static int header(const struct rsp *r, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = r->hdr; *p;) {
        const char *e = strstr(p, "\r\n");
        if (!e)
            break;
        if ((size_t)(e - p) > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return 1;
        }
        p = e + 2;
    }
    return 0;
}

static const char *err_code(const struct rsp *r, char *buf, size_t cap)
{
    json_t *d = js(r);
    snprintf(buf, cap, "%s", json_string_value(json_object_get(json_object_get(d, "error"), "code"))
             ? json_string_value(json_object_get(json_object_get(d, "error"), "code")) : "");
    json_decref(d);
    return buf;
}

/* A token from base; "" on failure. */
static void get_token(const char *base, char *tok, size_t cap)
{
    struct rsp r;
    char auth[256];
    json_t *d;

    tok[0] = 0;
    snprintf(auth, sizeof(auth), "Authorization: Basic %s", "c2JlbXM6c2JlbXMtc2ltLXNlY3JldA==");
    req(base, "POST", "/thermostat-api/v1/oauth2/token", auth, "grant_type=client_credentials", &r);
    d = js(&r);
    if (r.code == 200 && json_string_value(json_object_get(d, "access_token")))
        snprintf(tok, cap, "Authorization: Bearer %s", json_string_value(json_object_get(d, "access_token")));
    json_decref(d);
    rsp_free(&r);
}

/* Raw bytes to a server and everything it sends back until it closes or
 * 1 s of silence; returns the bytes read. */
static size_t raw(int port, const char *ip, const char *data, size_t n, char *out, size_t cap)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    struct timeval tv = { 1, 0 };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    size_t got = 0;
    ssize_t k;

    inet_pton(AF_INET, ip, &sa.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        if (fd >= 0)
            close(fd);
        return 0;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (write(fd, data, n) != (ssize_t)n) {
        close(fd);
        return 0;
    }
    while (got + 1 < cap && (k = read(fd, out + got, cap - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = 0;
    close(fd);
    return got;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* ---- pure parts ----------------------------------------------------------------- */

static int parse_s(const char *s, struct sb_shreq *rq)
{
    return sb_simhttp__parse(s, strlen(s), rq);
}

TEST(parser)
{
    struct sb_shreq rq;
    char big[10000], v[64];
    const char *ok = "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer abc\r\n\r\nrest";
    static const struct { const char *req; int rc; } bad[] = {
        { "GET /a HTTP/1.1\r\n\r\n", -400 },                          /* no Host */
        { "GET /a HTTP/2.0\r\nHost: h\r\n\r\n", -505 },
        { "GET a HTTP/1.1\r\nHost: h\r\n\r\n", -400 },
        { "GET  /a HTTP/1.1\r\nHost: h\r\n\r\n", -400 },
        { "G(T /a HTTP/1.1\r\nHost: h\r\n\r\n", -400 },
        { "GET /a HTTP/1.1\r\nHost : h\r\n\r\n", -400 },              /* space before colon */
        { "GET /a HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n", -400 },
        { "GET /a HTTP/1.1\nHost: h\r\n\r\n", -400 },                 /* bare LF */
        { "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", -400 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", -400 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", -411 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 65537\r\n\r\n", -413 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", -417 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nX: a\x01b\r\n\r\n", -400 },
        { "GET /a HTTP/1.1\r\nHost: h\r\nHost: i\r\n\r\n", -400 },
        { NULL, 0 }
    };

    CHECK_EQ(parse_s(ok, &rq), (int)strlen(ok) - 4);
    CHECK_STR(rq.method, "GET");
    CHECK_STR(rq.target, "/a/b?x=1");
    CHECK_EQ(rq.path_len, 4);
    CHECK_EQ(rq.minor, 1);
    CHECK_EQ(rq.close, 0);
    CHECK_STR(rq.auth, "Bearer abc");
    CHECK_EQ(parse_s("GET /a HTTP/1.1\r\nHost: h\r\n", &rq), 0);      /* incomplete */
    CHECK_EQ(parse_s("\r\nGET /a HTTP/1.0\r\n\r\n", &rq), 21);        /* leading CRLF */
    CHECK_EQ(rq.close, 1);                                            /* 1.0 closes */
    CHECK_EQ(parse_s("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &rq) > 0, 1);
    CHECK_EQ(rq.close, 0);
    CHECK_EQ(parse_s("PUT /a HTTP/1.1\r\nHost: h\r\nConnection: Close\r\nContent-Length: 12\r\n\r\n", &rq) > 0, 1);
    CHECK_EQ(rq.close, 1);
    CHECK_EQ(rq.clen, 12);
    for (int i = 0; bad[i].req; i++) {
        int rc = parse_s(bad[i].req, &rq);
        if (rc != bad[i].rc || !rq.why)
            TAP_FAIL("bad request %d: rc %d, want %d", i, rc, bad[i].rc);
    }
    /* the head limit, and the target limit */
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    big[sizeof(big) - 1] = 0;
    CHECK_EQ(parse_s(big, &rq), -431);
    snprintf(big, sizeof(big), "GET /%03000d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
    CHECK_EQ(parse_s(big, &rq), -414);
    /* forms and queries */
    CHECK_EQ(sb_simhttp__form_get("a=1&b=x+y%21&c", 14, "b", v, sizeof(v)), 4);
    CHECK_STR(v, "x y!");
    CHECK_EQ(sb_simhttp__form_get("a=1&b=x+y%21&c", 14, "c", v, sizeof(v)), 0);
    CHECK_EQ(sb_simhttp__form_get("a=1&b=2", 7, "z", v, sizeof(v)), -1);
    CHECK_EQ(sb_simhttp__form_get("a=1&a=2", 7, "a", v, sizeof(v)), -2);
    CHECK_EQ(sb_simhttp__form_get("a=%4", 4, "a", v, sizeof(v)), -2);
    CHECK_EQ(sb_simhttp__form_get("a=%00", 5, "a", v, sizeof(v)), -2);
    CHECK_EQ(sb_simhttp__form_get("a=%zz", 5, "a", v, sizeof(v)), -2);
}

/* ---- list, site, drivers ---------------------------------------------------------- */

struct docs {
    json_t *list, *site, *drv;
};

static void docs_job(void *a)
{
    struct docs *d = a;
    d->list = sb_simhttp_list(srv);
    d->site = sb_simhttp_site(srv);
    d->drv = sb_simhttp_drivers(srv);
}

TEST(list_site_drivers)
{
    struct docs d;
    json_t *t0, *w, *doc, *api;
    struct sb_model m;
    struct sb_model_errs errs = { 0 };
    size_t n;
    char want[128];

    on_loop(docs_job, &d);
    n = json_array_size(d.list);
    REQUIRE(n >= 2);
    t0 = json_array_get(d.list, 0);
    CHECK_STR(json_string_value(json_object_get(t0, "protocol")), "rest");
    CHECK_STR(json_string_value(json_object_get(t0, "name")), "RT-1-01");
    CHECK_STR(json_string_value(json_object_get(t0, "id")), "rt-1-01");
    CHECK_STR(json_string_value(json_object_get(t0, "zone")), "floor1.zone1");
    CHECK_STR(json_string_value(json_object_get(t0, "address")), "127.0.0.61");
    CHECK_EQ(json_integer_value(json_object_get(t0, "port")), sb_simhttp_port(srv));
    snprintf(want, sizeof(want), "%s/thermostat-api/v1", base1);
    CHECK_STR(json_string_value(json_object_get(t0, "base_url")), want);
    CHECK_STR(json_string_value(json_object_get(t0, "auth")), "oauth2_client_credentials");
    w = json_array_get(d.list, n - 1);
    CHECK_STR(json_string_value(json_object_get(w, "name")), "WEATHER");
    snprintf(want, sizeof(want), "%s/weather/v1/forecast", base1);
    CHECK_STR(json_string_value(json_object_get(w, "url")), want);
    /* one equipment per thermostat, plus the weather service */
    CHECK_EQ(json_array_size(json_object_get(d.site, "equipment")), n);
    /* drivers.json fragment */
    api = json_object_get(json_object_get(json_object_get(d.drv, "rest"), "apis"), "hpo-tstat");
    REQUIRE(api);
    CHECK_STR(json_string_value(json_object_get(api, "profile")), "rest-siemens-thermostat");
    CHECK_STR(json_string_value(json_object_get(json_object_get(api, "auth"), "client_secret")), SECRET);
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d.drv, "weather"), "latitude")), epw->lat, 1e-9);
    /* the site document imports into the sbems model */
    doc = json_pack("{s:s, s:i, s:[{s:s, s:s}], s:[{s:s, s:s, s:s, s:s}], s:O, s:O}",
                    "format", "sbems-site", "version", 1, "sites", "id", "harbor-point", "name", "HP",
                    "buildings", "id", "hpo", "site", "harbor-point", "name", "HPO",
                    "timezone", "America/New_York",
                    "equipment", json_object_get(d.site, "equipment"),
                    "points", json_object_get(d.site, "points"));
    sb_model_init(&m);
    CHECK_EQ(sb_model_from_json(doc, &m, &errs), 0);
    for (size_t i = 0; i < errs.n && i < 5; i++)
        printf("# model: %s\n", errs.msg[i]);
    sb_model_errs_release(&errs);
    sb_model_release(&m);
    json_decref(doc);
    json_decref(d.list);
    json_decref(d.site);
    json_decref(d.drv);
}

/* ---- OAuth -------------------------------------------------------------------------- */

TEST(token)
{
    struct rsp r;
    json_t *d;
    char h[256], tok[128];
    const char *path = "/thermostat-api/v1/oauth2/token";
    const char *a;

    /* Basic: base64("sbems:sbems-sim-secret") */
    CHECK_EQ(req(base1, "POST", path, "Authorization: Basic c2JlbXM6c2JlbXMtc2ltLXNlY3JldA==",
                 "grant_type=client_credentials&scope=thermostats.read", &r), 200);
    d = js(&r);
    a = json_string_value(json_object_get(d, "access_token"));
    REQUIRE(a);
    CHECK_EQ(strlen(a), 43);
    CHECK_EQ(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    CHECK_STR(json_string_value(json_object_get(d, "token_type")), "Bearer");
    CHECK_EQ(json_integer_value(json_object_get(d, "expires_in")), 3600);
    CHECK_STR(json_string_value(json_object_get(d, "scope")), "thermostats.read");
    CHECK(header(&r, "Cache-Control", h, sizeof(h)) && strcmp(h, "no-store") == 0);
    snprintf(tok, sizeof(tok), "%s", a);
    json_decref(d);
    rsp_free(&r);
    /* body credentials; a second token differs */
    CHECK_EQ(req(base1, "POST", path, NULL, "grant_type=client_credentials&client_id=sbems&client_secret="
                 SECRET, &r), 200);
    d = js(&r);
    CHECK(json_string_value(json_object_get(d, "access_token")) &&
          strcmp(json_string_value(json_object_get(d, "access_token")), tok) != 0);
    json_decref(d);
    rsp_free(&r);
    /* refusals */
    CHECK_EQ(req(base1, "POST", path, "Authorization: Basic c2JlbXM6d3Jvbmc=",      /* sbems:wrong */
                 "grant_type=client_credentials", &r), 401);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(d, "error")), "invalid_client");
    CHECK(header(&r, "WWW-Authenticate", h, sizeof(h)) && strncmp(h, "Basic", 5) == 0);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", path, NULL, "grant_type=client_credentials&client_id=sbems&client_secret="
                 SECRET "x", &r), 401);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", path, NULL, "grant_type=client_credentials", &r), 401);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", path, NULL, "grant_type=password&client_id=sbems&client_secret=" SECRET, &r), 400);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(d, "error")), "unsupported_grant_type");
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", path, "Authorization: Basic c2JlbXM6c2JlbXMtc2ltLXNlY3JldA==",
                 "grant_type=client_credentials&client_id=sbems&client_secret=" SECRET, &r), 400);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", path, NULL, "grant_type=client_credentials&scope=admin&client_id=sbems"
                 "&client_secret=" SECRET, &r), 400);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", path, NULL, NULL, &r), 405);
    CHECK(header(&r, "Allow", h, sizeof(h)) && strcmp(h, "POST") == 0);
    rsp_free(&r);
}

TEST(unauthorized)
{
    struct rsp r;
    char h[256], tok[128], c[64];
    const char *st = "/thermostat-api/v1/thermostats/rt-1-01/status";

    CHECK_EQ(req(base1, "GET", st, NULL, NULL, &r), 401);
    CHECK_STR(err_code(&r, c, sizeof(c)), "unauthorized");
    CHECK(header(&r, "WWW-Authenticate", h, sizeof(h)) && strncmp(h, "Bearer", 6) == 0 &&
          !strstr(h, "error="));
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", st, "Authorization: Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                 NULL, &r), 401);
    CHECK(header(&r, "WWW-Authenticate", h, sizeof(h)) && strstr(h, "error=\"invalid_token\""));
    rsp_free(&r);
    /* srv2 gives 1 s tokens: good now, refused after expiry */
    get_token(base2, tok, sizeof(tok));
    REQUIRE(tok[0]);
    CHECK_EQ(req(base2, "GET", "/thermostat-api/v1/thermostats", tok, NULL, &r), 200);
    rsp_free(&r);
    /* a token of one server is unknown to another */
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats", tok, NULL, &r), 401);
    rsp_free(&r);
    usleep(1200 * 1000);
    CHECK_EQ(req(base2, "GET", "/thermostat-api/v1/thermostats", tok, NULL, &r), 401);
    CHECK(header(&r, "WWW-Authenticate", h, sizeof(h)) && strstr(h, "error=\"invalid_token\""));
    rsp_free(&r);
}

/* ---- thermostats ---------------------------------------------------------------------- */

static char tok1[128];

TEST(status_vs_plant)
{
    struct rsp r;
    json_t *d, *lst;
    struct pread t, hs, cs, occ, rh, mode;
    int64_t upd;
    const char *u;

    get_token(base1, tok1, sizeof(tok1));
    REQUIRE(tok1[0]);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats", tok1, NULL, &r), 200);
    lst = json_object_get(d = js(&r), "thermostats");
    CHECK_STR(json_string_value(json_object_get(json_array_get(lst, 0), "id")), "rt-1-01");
    CHECK_STR(json_string_value(json_object_get(json_array_get(lst, 0), "model")), "RDS110");
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-01/status", tok1, NULL, &r), 200);
    d = js(&r);
    REQUIRE(d);
    t = plant_pt("floor1.zone1.tstat.temp");
    hs = plant_pt("floor1.zone1.htg_sp");
    cs = plant_pt("floor1.zone1.clg_sp");
    occ = plant_pt("floor1.zone1.occupied");
    rh = plant_pt("floor1.zone1.rh");
    mode = plant_pt("floor1.zone1.tstat.mode");
    CHECK_STR(json_string_value(json_object_get(d, "id")), "rt-1-01");
    CHECK_STR(json_string_value(json_object_get(d, "name")), "Floor 1 south perimeter");
    CHECK(json_is_true(json_object_get(d, "online")));
    CHECK_DBL(json_number_value(json_object_get(d, "temperature")), round(t.v * 10) / 10, 0);
    if (isnan(rh.v))
        CHECK(json_is_null(json_object_get(d, "humidity")));
    else
        CHECK_DBL(json_number_value(json_object_get(d, "humidity")), round(rh.v * 10) / 10, 0);
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d, "setpoints"), "heating")),
              round(hs.v * 2) / 2, 0);
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d, "setpoints"), "cooling")),
              round(cs.v * 2) / 2, 0);
    CHECK_STR(json_string_value(json_object_get(d, "mode")), "auto");
    CHECK_EQ(mode.overridden, 0);
    CHECK_STR(json_string_value(json_object_get(d, "fan")), "auto");
    CHECK_STR(json_string_value(json_object_get(d, "occupancy")), occ.v > 0.5 ? "occupied" : "unoccupied");
    CHECK(json_is_false(json_object_get(d, "hold")));
    CHECK(json_is_integer(json_object_get(json_object_get(d, "demand"), "heating")));
    CHECK(json_is_integer(json_object_get(json_object_get(d, "demand"), "cooling")));
    u = json_string_value(json_object_get(d, "updated"));
    REQUIRE(u && strlen(u) == 20 && u[19] == 'Z');
    CHECK_EQ(sb_time_parse(u, strlen(u), &upd), 0);
    CHECK_EQ(upd, wall_ms - wall_ms % 1000);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "HEAD", "/thermostat-api/v1/thermostats/rt-1-01/status", tok1, NULL, &r), 200);
    CHECK_EQ(r.len, 0);
    rsp_free(&r);
}

/* The cooling demand against the plant's own VAV limits (internals).  The
 * plant's struct sb_zone (zone.h) shares its name with the model's
 * (model.h): renamed here, in this file only, to include both. */
#define sb_zone sb_plant_zone_state
#include "sim/plant/plant_int.h"
#undef sb_zone

struct demand_chk {
    double want, got;
};

static void demand_job(void *a)
{
    struct demand_chk *c = a;
    const struct sb_zone_ent *z = &plant->zones[0];
    struct sh_tvals v;

    c->want = round(100 * fmin(1, fmax(0, (z->vav.flow - z->vav.q_min) / (z->vav.q_max - z->vav.q_min))));
    sb_simhttp__tstat_values(srv, &srv->ts[0], &v);
    c->got = v.dem_c;
}

TEST(demand)
{
    struct demand_chk c;
    struct rsp r;
    json_t *d;

    /* force cooling: a low cooling setpoint opens the box towards maximum */
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-01/setpoints", tok1,
                 "{\"heating\":15,\"cooling\":16}", &r), 200);
    rsp_free(&r);
    step(1800);
    on_loop(demand_job, &c);
    CHECK_DBL(c.got, c.want, 1);
    CHECK(c.got > 0);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-01/status", tok1, NULL, &r), 200);
    d = js(&r);
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d, "demand"), "cooling")), c.got, 0);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-01/setpoints", tok1,
                 "{\"heating\":30,\"cooling\":35}", &r), 200);
    rsp_free(&r);
    step(1800);
    on_loop(demand_job, &c);
    CHECK_DBL(c.got, c.want, 1);
    CHECK_EQ(c.got, 0);
    CHECK_EQ(req(base1, "DELETE", "/thermostat-api/v1/thermostats/rt-1-01/hold", tok1, NULL, &r), 204);
    rsp_free(&r);
}

TEST(setpoints_and_hold)
{
    struct rsp r;
    json_t *d;
    struct pread hs, cs;
    char c[64];
    const char *sp = "/thermostat-api/v1/thermostats/rt-1-02/setpoints";
    static const char *const bad[] = {
        "{\"heating\":40}", "{\"heating\":4.5}", "{\"cooling\":36}", "{\"heating\":23.6,\"cooling\":24}",
        "{\"heating\":\"21\"}", "{\"heat\":21}", "{}", "[21]", NULL
    };

    CHECK_EQ(req(base1, "PUT", sp, tok1, "{\"heating\":22.4}", &r), 200);
    d = js(&r);
    CHECK_DBL(json_number_value(json_object_get(d, "heating")), 22.5, 0);
    json_decref(d);
    rsp_free(&r);
    hs = plant_pt("floor1.zone2.htg_sp");
    cs = plant_pt("floor1.zone2.clg_sp");
    CHECK_EQ(hs.overridden, 1);
    CHECK_DBL(hs.v, 22.5, 0);
    CHECK_EQ(cs.overridden, 1);              /* the hold freezes both */
    CHECK_DBL(cs.v, round(cs.autov * 2) / 2, 0);
    CHECK_EQ(req(base1, "PUT", sp, tok1, "{\"cooling\":26}", &r), 200);
    rsp_free(&r);
    cs = plant_pt("floor1.zone2.clg_sp");
    CHECK_DBL(cs.v, 26, 0);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-02/status", tok1, NULL, &r), 200);
    d = js(&r);
    CHECK(json_is_true(json_object_get(d, "hold")));
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d, "setpoints"), "heating")), 22.5, 0);
    CHECK_DBL(json_number_value(json_object_get(json_object_get(d, "setpoints"), "cooling")), 26, 0);
    json_decref(d);
    rsp_free(&r);
    for (int i = 0; bad[i]; i++) {
        if (req(base1, "PUT", sp, tok1, bad[i], &r) != 422)
            TAP_FAIL("setpoints %s: HTTP %ld", bad[i], r.code);
        rsp_free(&r);
    }
    CHECK_EQ(req(base1, "PUT", sp, tok1, "{\"heating\":40}", &r), 422);
    CHECK_STR(err_code(&r, c, sizeof(c)), "out_of_range");
    d = js(&r);
    CHECK(strstr(json_string_value(json_object_get(json_object_get(d, "error"), "message")), "outside 5..30") != NULL);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "PUT", sp, tok1, "{\"heating\":", &r), 400);
    CHECK_STR(err_code(&r, c, sizeof(c)), "bad_json");
    rsp_free(&r);
    hs = plant_pt("floor1.zone2.htg_sp");
    CHECK_DBL(hs.v, 22.5, 0);                /* refusals changed nothing */
    CHECK_EQ(req(base1, "DELETE", "/thermostat-api/v1/thermostats/rt-1-02/hold", tok1, NULL, &r), 204);
    CHECK_EQ(r.len, 0);
    rsp_free(&r);
    hs = plant_pt("floor1.zone2.htg_sp");
    cs = plant_pt("floor1.zone2.clg_sp");
    CHECK_EQ(hs.overridden, 0);
    CHECK_EQ(cs.overridden, 0);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-02/status", tok1, NULL, &r), 200);
    d = js(&r);
    CHECK(json_is_false(json_object_get(d, "hold")));
    json_decref(d);
    rsp_free(&r);
}

static long put_mode(const char *m)
{
    struct rsp r;
    char b[64];
    long code;

    snprintf(b, sizeof(b), "{\"mode\":\"%s\"}", m);
    code = req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-02/mode", tok1, b, &r);
    rsp_free(&r);
    return code;
}

TEST(modes_and_fan)
{
    struct rsp r;
    struct pread hs, cs, md;
    json_t *d;

    CHECK_EQ(put_mode("eco"), 200);
    md = plant_pt("floor1.zone2.tstat.mode");
    CHECK_EQ(md.overridden, 1);
    CHECK_DBL(md.v, 2, 0);
    step(120);                              /* the plant applies the setback */
    hs = plant_pt("floor1.zone2.htg_sp");
    CHECK_EQ(hs.overridden, 0);
    CHECK(hs.v < 18);                       /* unoccupied heating setpoint */
    CHECK_EQ(put_mode("heat"), 200);
    md = plant_pt("floor1.zone2.tstat.mode");
    cs = plant_pt("floor1.zone2.clg_sp");
    CHECK_EQ(md.overridden, 0);
    CHECK_EQ(cs.overridden, 1);
    CHECK_DBL(cs.v, 40, 0);                 /* cooling off: the plant's maximum */
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-02/status", tok1, NULL, &r), 200);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(d, "mode")), "heat");
    /* the disabled side shows the thermostat's own setpoint, not 40 */
    CHECK(json_number_value(json_object_get(json_object_get(d, "setpoints"), "cooling")) < 35);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(put_mode("cool"), 200);
    hs = plant_pt("floor1.zone2.htg_sp");
    cs = plant_pt("floor1.zone2.clg_sp");
    CHECK_DBL(hs.v, 5, 0);
    CHECK_EQ(cs.overridden, 0);
    CHECK_EQ(put_mode("off"), 200);
    hs = plant_pt("floor1.zone2.htg_sp");
    cs = plant_pt("floor1.zone2.clg_sp");
    md = plant_pt("floor1.zone2.tstat.mode");
    CHECK_DBL(hs.v, 5, 0);
    CHECK_DBL(cs.v, 40, 0);
    CHECK_DBL(md.v, 2, 0);
    CHECK_EQ(put_mode("turbo"), 422);
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-02/mode", tok1,
                 "{\"mode\":\"eco\",\"x\":1}", &r), 422);
    rsp_free(&r);
    CHECK_EQ(put_mode("auto"), 200);
    hs = plant_pt("floor1.zone2.htg_sp");
    cs = plant_pt("floor1.zone2.clg_sp");
    md = plant_pt("floor1.zone2.tstat.mode");
    CHECK(!hs.overridden && !cs.overridden && !md.overridden);
    /* fan: stored */
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-02/fan", tok1, "{\"fan\":\"low\"}", &r), 200);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(d, "fan")), "low");
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-02/fan", tok1, "{\"fan\":\"max\"}", &r), 422);
    rsp_free(&r);
    /* DELETE hold brings the mode back to auto as well */
    CHECK_EQ(put_mode("eco"), 200);
    CHECK_EQ(req(base1, "DELETE", "/thermostat-api/v1/thermostats/rt-1-02/hold", tok1, NULL, &r), 204);
    rsp_free(&r);
    md = plant_pt("floor1.zone2.tstat.mode");
    CHECK_EQ(md.overridden, 0);
}

TEST(errors)
{
    struct rsp r;
    char h[128], c[64], *big;
    json_t *d;

    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-9-99/status", tok1, NULL, &r), 404);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(json_object_get(d, "error"), "message")), "no thermostat rt-9-99");
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-01/nothing", tok1, NULL, &r), 404);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/nowhere", NULL, NULL, &r), 404);
    CHECK_STR(err_code(&r, c, sizeof(c)), "not_found");
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", "/thermostat-api/v1/thermostats/rt-1-01/status", tok1, "{}", &r), 405);
    CHECK(header(&r, "Allow", h, sizeof(h)) && strcmp(h, "GET, HEAD") == 0);
    CHECK_STR(err_code(&r, c, sizeof(c)), "method_not_allowed");
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-01/setpoints", tok1, NULL, &r), 405);
    CHECK(header(&r, "Allow", h, sizeof(h)) && strcmp(h, "PUT") == 0);
    rsp_free(&r);
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-01/hold", tok1, "{}", &r), 405);
    rsp_free(&r);
    /* a body over 64 KiB: 413, as JSON, and the connection closes */
    big = malloc(100001);
    REQUIRE(big);
    memset(big, ' ', 100000);
    big[0] = '{';
    big[99999] = '}';
    big[100000] = 0;
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-01/setpoints", tok1, big, &r), 413);
    CHECK_STR(err_code(&r, c, sizeof(c)), "payload_too_large");
    CHECK(header(&r, "Connection", h, sizeof(h)) && strcmp(h, "close") == 0);
    rsp_free(&r);
    free(big);
}

TEST(raw_socket)
{
    char out[16384], in[2048];
    int port = sb_simhttp_port(srv);
    size_t n;

    /* two pipelined requests in one write, both answered in order on one connection */
    n = (size_t)snprintf(in, sizeof(in),
                         "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
                         "GET /control/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    raw(port, "127.0.0.61", in, n, out, sizeof(out));
    CHECK_EQ(count(out, "HTTP/1.1 "), 2);
    CHECK(strstr(out, "HTTP/1.1 404") && strstr(out, "HTTP/1.1 200") &&
          strstr(out, "HTTP/1.1 404") < strstr(out, "HTTP/1.1 200"));
    CHECK(strstr(out, "\"sim_time\"") != NULL);
    /* garbage: a JSON 400, then the server closes */
    n = (size_t)snprintf(in, sizeof(in), "HELLO THERE\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    raw(port, "127.0.0.61", in, n, out, sizeof(out));
    CHECK_EQ(count(out, "HTTP/1.1 "), 1);
    CHECK(strncmp(out, "HTTP/1.1 400", 12) == 0 && strstr(out, "\"bad_request\"") != NULL);
    /* Transfer-Encoding: 411 */
    n = (size_t)snprintf(in, sizeof(in), "PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    raw(port, "127.0.0.61", in, n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 411", 12) == 0);
    /* HTTP/1.0 without keep-alive: answered and closed */
    n = (size_t)snprintf(in, sizeof(in), "GET /control/v1/status HTTP/1.0\r\n\r\n");
    raw(port, "127.0.0.61", in, n, out, sizeof(out));
    CHECK(strncmp(out, "HTTP/1.1 200", 12) == 0 && strstr(out, "Connection: close") != NULL);
    /* the server listens on its own address only */
    CHECK_EQ(raw(port, "127.0.0.62", in, n, out, sizeof(out)), 0);
}

TEST(expect_continue)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)sb_simhttp_port(srv)) };
    struct timeval tv = { 2, 0 };
    char head[512], out[4096];
    const char *body = "{\"class\":\"x\"}";
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ssize_t k;
    size_t got = 0;

    REQUIRE(fd >= 0);
    inet_pton(AF_INET, "127.0.0.61", &sa.sin_addr);
    REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    snprintf(head, sizeof(head), "POST /control/v1/faults HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n", strlen(body));
    CHECK(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    k = read(fd, out, sizeof(out) - 1);
    out[k > 0 ? k : 0] = 0;
    CHECK(strcmp(out, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
    CHECK(write(fd, body, strlen(body)) == (ssize_t)strlen(body));
    while (got + 1 < sizeof(out) && (k = read(fd, out + got, sizeof(out) - 1 - got)) > 0)
        got += (size_t)k;
    out[got] = 0;
    CHECK(strncmp(out, "HTTP/1.1 201", 12) == 0);
    close(fd);
    fake.injected = 0;
}

TEST(keep_alive)
{
    struct rsp r;
    long conns = -1;

    CHECK_EQ(req(base1, "GET", "/control/v1/status", NULL, NULL, &r), 200);
    rsp_free(&r);
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(req(base1, "GET", "/control/v1/status", NULL, NULL, &r), 200);
        rsp_free(&r);
        curl_easy_getinfo(cu, CURLINFO_NUM_CONNECTS, &conns);
        if (conns != 0)
            TAP_FAIL("request %d opened %ld new connection(s)", i, conns);
    }
}

TEST(rate_limit)
{
    struct rsp r;
    char tok[128], h[64];
    int n429 = 0, n200 = 0, retry = 0;

    usleep(1100 * 1000);                    /* srv3's bucket full */
    get_token(base3, tok, sizeof(tok));
    REQUIRE(tok[0]);
    int64_t t0 = sb_now_ms(), el;

    for (int i = 0; i < 8; i++) {
        long c = req(base3, "GET", "/thermostat-api/v1/thermostats", tok, NULL, &r);
        n200 += c == 200;
        if (c == 429) {
            n429++;
            if (header(&r, "Retry-After", h, sizeof(h)))
                retry = atoi(h);
        }
        rsp_free(&r);
    }
    el = sb_now_ms() - t0;
    /* 3 per second with a burst of 3: the token took one, so two pass (plus
     * one more per 333 ms the eight requests took on a slow machine) */
    CHECK(n200 >= 2 && n200 <= 2 + (int)(el / 333));
    CHECK_EQ(n200 + n429, 8);
    CHECK(n429 >= 3);
    CHECK(retry >= 1);
    usleep(1100 * 1000);
    CHECK_EQ(req(base3, "GET", "/thermostat-api/v1/thermostats", tok, NULL, &r), 200);
    rsp_free(&r);
}

static void force_warm_job(void *a)
{
    /* straight into the plant: the zone heats whatever the thermostat says */
    if (a)
        sb_plant_set(plant, "floor1.zone1.htg_sp", 28);
    else
        sb_plant_relinquish(plant, sb_plant_find(plant, "floor1.zone1.htg_sp"));
}

TEST(offline)
{
    struct rsp r;
    json_t *d, *d2, *d3;
    struct pread live;
    double t0;
    const char *st = "/thermostat-api/v1/thermostats/rt-1-01/status";

    on_loop(set_offline_job, "RT-1-01");
    step(60);
    CHECK_EQ(req(base1, "GET", st, tok1, NULL, &r), 200);
    d = js(&r);
    rsp_free(&r);
    CHECK(json_is_false(json_object_get(d, "online")));
    t0 = json_number_value(json_object_get(d, "temperature"));
    /* the building moves on (a second of wall time, a warmer zone); the
     * cloud keeps the last report */
    usleep(1100 * 1000);
    on_loop(force_warm_job, "");
    step(3600);
    live = plant_pt("floor1.zone1.tstat.temp");
    CHECK(fabs(live.v - t0) > 0.5);
    CHECK_EQ(req(base1, "GET", st, tok1, NULL, &r), 200);
    d2 = js(&r);
    rsp_free(&r);
    CHECK_DBL(json_number_value(json_object_get(d2, "temperature")), t0, 0);
    CHECK_STR(json_string_value(json_object_get(d2, "updated")), json_string_value(json_object_get(d, "updated")));
    CHECK_EQ(req(base1, "PUT", "/thermostat-api/v1/thermostats/rt-1-01/setpoints", tok1, "{\"heating\":20}", &r), 409);
    rsp_free(&r);
    /* other thermostats are unaffected and report now */
    CHECK_EQ(req(base1, "GET", "/thermostat-api/v1/thermostats/rt-1-02/status", tok1, NULL, &r), 200);
    d3 = js(&r);
    rsp_free(&r);
    CHECK(json_is_true(json_object_get(d3, "online")));
    CHECK(strcmp(json_string_value(json_object_get(d3, "updated")), json_string_value(json_object_get(d, "updated"))) > 0);
    json_decref(d);
    json_decref(d2);
    json_decref(d3);
    on_loop(force_warm_job, NULL);
    on_loop(set_offline_job, "");
    step(60);
    CHECK_EQ(req(base1, "GET", st, tok1, NULL, &r), 200);
    d = js(&r);
    CHECK(json_is_true(json_object_get(d, "online")));
    CHECK_DBL(json_number_value(json_object_get(d, "temperature")), round(plant_pt("floor1.zone1.tstat.temp").v * 10) / 10, 0);
    json_decref(d);
    rsp_free(&r);
}

/* ---- sbems's rest driver against the face ------------------------------------------ */

struct tp {
    struct sb_drv_point p;
    char key[SB_DRV_KEY_MAX];
    char addr[512];
    int handle;
};

struct bindjob {
    const json_t *src;
    int handle;
    double v;
    int rc;
};

static void bind_job(void *a)
{
    struct bindjob *b = a;
    b->handle = sb_simhttp_bind(srv, b->src);
    b->rc = b->handle >= 0 ? sb_simhttp_value(srv, b->handle, &b->v) : b->handle;
}

static int bind_site_point(const struct sb_driver_ops *ops, void *st, const json_t *pt, struct tp *t,
                           char *err)
{
    const json_t *src = json_object_get(pt, "source");
    char *a = json_dumps(json_object_get(src, "address"), JSON_COMPACT);
    enum sb_unit u = SB_UNIT_NONE;
    struct bindjob b = { .src = src };

    memset(t, 0, sizeof(*t));
    snprintf(t->addr, sizeof(t->addr), "%s", a ? a : "");
    free(a);
    if (json_string_value(json_object_get(pt, "unit")))
        sb_unit_parse(json_string_value(json_object_get(pt, "unit")), &u);
    t->p.slug = json_string_value(json_object_get(pt, "id"));
    t->p.address = t->addr;
    t->p.address_json = 1;
    t->p.unit = u;
    t->p.writable = json_is_true(json_object_get(pt, "writable"));
    t->p.min = t->p.max = NAN;
    on_loop(bind_job, &b);
    t->handle = b.handle;
    return ops->bind(st, &t->p, t->key, sizeof(t->key), err, SB_DRV_ERR_MAX);
}

struct valjob {
    struct tp *t;
    size_t n;
    double v[16];
    int rc[16];
};

static void values_job(void *a)
{
    struct valjob *j = a;
    for (size_t i = 0; i < j->n; i++)
        j->rc[i] = sb_simhttp_value(srv, j->t[i].handle, &j->v[i]);
}

static int drv_write(void *st, struct tp *t, double v, int relinquish, char *err)
{
    struct sb_drv_write w = { .pt = &t->p, .value = v, .relinquish = relinquish };
    int rc = sb_driver_rest.write(st, t->key, &w, 3000);
    snprintf(err, SB_DRV_ERR_MAX, "%s", w.err);
    return rc;
}

TEST(rest_driver)
{
    struct docs d;
    json_t *conf, *pts;
    void *st = NULL;
    struct tp t[16];
    struct sb_drv_item it[16];
    struct valjob vj = { .t = t };
    char err[SB_DRV_ERR_MAX] = "";
    size_t n = 0, i;
    json_t *p;
    int hs = -1, md = -1, fan = -1;
    struct pread pr;

    on_loop(docs_job, &d);
    conf = json_deep_copy(json_object_get(d.drv, "rest"));
    json_object_set_new(conf, "profile_dir", json_string("profiles"));
    REQUIRE(sb_driver_rest.init(NULL, conf, &st, err, sizeof(err)) == 0);
    pts = json_object_get(d.site, "points");
    json_array_foreach(pts, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        if (strncmp(id, "rt-1-01.", 8) != 0 || n == 16)
            continue;
        if (bind_site_point(&sb_driver_rest, st, p, &t[n], err) != 0)
            TAP_FAIL("bind %s: %s", id, err);
        if (t[n].handle < 0)
            TAP_FAIL("the face does not bind its own point %s", id);
        hs = strcmp(id, "rt-1-01.heating_setpoint") == 0 ? (int)n : hs;
        md = strcmp(id, "rt-1-01.mode") == 0 ? (int)n : md;
        fan = strcmp(id, "rt-1-01.fan") == 0 ? (int)n : fan;
        n++;
    }
    CHECK(n >= 10);
    REQUIRE(hs >= 0 && md >= 0 && fan >= 0);
    /* one read of every point; each agrees exactly with sb_simhttp_value */
    for (i = 0; i < n; i++) {
        memset(&it[i], 0, sizeof(it[i]));
        it[i].pt = &t[i].p;
    }
    CHECK_EQ(sb_driver_rest.read(st, t[0].key, it, n, 3000, err, sizeof(err)), 0);
    vj.n = n;
    on_loop(values_job, &vj);
    for (i = 0; i < n; i++) {
        if (it[i].rc != vj.rc[i] || (it[i].rc == 0 && it[i].v != vj.v[i]))
            TAP_FAIL("%s: driver %d %.17g, face %d %.17g", t[i].p.slug, it[i].rc, it[i].v, vj.rc[i], vj.v[i]);
        if (it[i].rc == 0 && it[i].q != 0)
            TAP_FAIL("%s: quality %u", t[i].p.slug, it[i].q);
    }
    /* writes through the profile reach the plant */
    CHECK_EQ(drv_write(st, &t[hs], 22, 0, err), 0);
    pr = plant_pt("floor1.zone1.htg_sp");
    CHECK_EQ(pr.overridden, 1);
    CHECK_DBL(pr.v, 22, 0);
    CHECK_EQ(drv_write(st, &t[hs], 40, 0, err), SB_EPROTO);
    CHECK(strstr(err, "422") != NULL && strstr(err, "outside") != NULL);
    CHECK_EQ(drv_write(st, &t[md], 4, 0, err), 0);          /* eco */
    pr = plant_pt("floor1.zone1.tstat.mode");
    CHECK_DBL(pr.v, 2, 0);
    CHECK_EQ(drv_write(st, &t[fan], 2, 0, err), 0);         /* medium */
    memset(&it[0], 0, sizeof(it[0]));
    it[0].pt = &t[fan].p;
    CHECK_EQ(sb_driver_rest.read(st, t[0].key, it, 1, 3000, err, sizeof(err)), 0);
    CHECK_DBL(it[0].v, 2, 0);
    /* relinquish = DELETE hold: everything back to the schedule */
    CHECK_EQ(drv_write(st, &t[hs], NAN, 1, err), 0);
    pr = plant_pt("floor1.zone1.htg_sp");
    CHECK_EQ(pr.overridden, 0);
    pr = plant_pt("floor1.zone1.tstat.mode");
    CHECK_EQ(pr.overridden, 0);
    for (i = 0; i < n; i++)
        sb_driver_rest.unbind(st, &t[i].p);
    sb_driver_rest.free(st);
    json_decref(conf);
    json_decref(d.list);
    json_decref(d.site);
    json_decref(d.drv);
}

/* ---- weather ------------------------------------------------------------------------- */

static double epw_truth(int64_t sim, int var)
{
    struct sb_weather w;
    double hoy = sb_epw_hour_of_year(sim, epw->tz_h);

    sb_epw_at(epw, var == 2 ? hoy - 0.5 : hoy, &w);
    return var == 0 ? w.tdb : var == 1 ? w.rh : w.ghi;
}

static const char *WXQ = "/weather/v1/forecast?latitude=42.3600&longitude=-71.0600"
    "&current=temperature_2m,relative_humidity_2m,shortwave_radiation,wind_speed_10m,cloud_cover"
    "&hourly=temperature_2m,relative_humidity_2m,shortwave_radiation,wind_speed_10m,cloud_cover,dew_point_2m"
    "&timezone=GMT&forecast_days=4&wind_speed_unit=ms";

TEST(weather_api)
{
    struct rsp r;
    struct sb_wx *w = NULL;
    char e[SB_DRV_ERR_MAX];
    const struct sb_wx_var *tv, *sv, *cc;
    int64_t day0 = wall_ms - wall_ms % 86400000;
    struct pread oat = plant_pt("weather.oat");
    json_t *d;

    CHECK_EQ(req(base1, "GET", WXQ, NULL, NULL, &r), 200);
    REQUIRE(sb_wx_parse(r.body, r.len, &w, e, sizeof(e)) == 0);
    CHECK_EQ(w->nhours, 96);
    CHECK_EQ(w->times[0], day0);
    CHECK_EQ(w->times[95], day0 + 95 * 3600000LL);
    CHECK_EQ(w->current_t, wall_ms - wall_ms % 900000);
    CHECK_EQ(w->ncur, 5);
    CHECK_EQ(w->nhourly, 6);
    REQUIRE((tv = sb_wx_current(w, "temperature_2m")) != NULL);
    CHECK_DBL(tv->v, round(oat.v * 10) / 10, 0);
    CHECK_STR(tv->unit, "°C");
    CHECK_STR(sb_wx_current(w, "wind_speed_10m")->unit, "m/s");
    /* hour i = the weather file at sim_now + (t_i - wall_now); srv's forecast is exact */
    tv = sb_wx_hourly(w, "temperature_2m");
    sv = sb_wx_hourly(w, "shortwave_radiation");
    cc = sb_wx_hourly(w, "cloud_cover");
    REQUIRE(tv && sv && cc);
    for (size_t i = 0; i < 96; i += 7) {
        int64_t s = sim_ms + (w->times[i] - wall_ms);
        CHECK_DBL(tv->series[i], round(epw_truth(s, 0) * 10) / 10, 0);
        CHECK_DBL(sv->series[i], round(epw_truth(s, 2) * 10) / 10, 0);
        CHECK(cc->series[i] >= 0 && cc->series[i] <= 100);
        CHECK_DBL(cc->series[i], sb_simhttp__cloud_pct(epw, s), 0);
    }
    sb_wx_free(w);
    rsp_free(&r);
    /* Open-Meteo's errors */
    CHECK_EQ(req(base1, "GET", "/weather/v1/forecast?latitude=1&longitude=2&hourly=temperature_2m,snow", NULL, NULL, &r), 400);
    d = js(&r);
    CHECK(json_is_true(json_object_get(d, "error")));
    CHECK(strstr(json_string_value(json_object_get(d, "reason")), "snow") != NULL);
    json_decref(d);
    CHECK_EQ(sb_wx_parse(r.body, r.len, &w, e, sizeof(e)), SB_EPROTO);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/weather/v1/forecast?hourly=temperature_2m", NULL, NULL, &r), 400);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/weather/v1/forecast?latitude=91&longitude=0", NULL, NULL, &r), 400);
    rsp_free(&r);
    CHECK_EQ(req(base1, "GET", "/weather/v1/forecast?latitude=1&longitude=2&forecast_days=17", NULL, NULL, &r), 400);
    rsp_free(&r);
    /* units, repeated lists, unix times */
    CHECK_EQ(req(base1, "GET", "/weather/v1/forecast?latitude=1&longitude=2&hourly=temperature_2m"
                 "&hourly=wind_speed_10m&forecast_days=1&temperature_unit=fahrenheit&timeformat=unixtime",
                 NULL, NULL, &r), 200);
    REQUIRE(sb_wx_parse(r.body, r.len, &w, e, sizeof(e)) == 0);
    CHECK_EQ(w->nhours, 24);
    CHECK_EQ(w->times[0], day0);
    CHECK_STR(sb_wx_hourly(w, "temperature_2m")->unit, "°F");
    CHECK_STR(sb_wx_hourly(w, "wind_speed_10m")->unit, "km/h");
    CHECK_DBL(sb_wx_hourly(w, "temperature_2m")->series[3],
              round((epw_truth(sim_ms + (day0 + 3 * 3600000LL - wall_ms), 0) * 9 / 5 + 32) * 10) / 10, 0);
    sb_wx_free(w);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", "/weather/v1/forecast?latitude=1&longitude=2", NULL, "x", &r), 405);
    rsp_free(&r);
}

TEST(forecast_error)
{
    struct rsp r, r2;
    struct sb_wx *w = NULL;
    char e[SB_DRV_ERR_MAX];
    const struct sb_wx_var *tv;
    int64_t now_h;
    double maxd = 0, d1 = 0;
    int differs = 0;

    CHECK_EQ(req(base2, "GET", WXQ, NULL, NULL, &r), 200);
    CHECK_EQ(req(base2, "GET", WXQ, NULL, NULL, &r2), 200);
    /* deterministic: the same hour's forecast twice */
    CHECK(r.len == r2.len && memcmp(r.body, r2.body, r.len) == 0);
    REQUIRE(sb_wx_parse(r.body, r.len, &w, e, sizeof(e)) == 0);
    tv = sb_wx_hourly(w, "temperature_2m");
    REQUIRE(tv);
    now_h = (wall_ms - w->times[0]) / 3600000;
    for (size_t i = 0; i < 96; i++) {
        double lead = (double)(w->times[i] - wall_ms) / 3.6e6;
        double err = fabs(tv->series[i] - round(epw_truth(sim_ms + (w->times[i] - wall_ms), 0) * 10) / 10);
        if (lead <= 0 && err > 0)
            TAP_FAIL("hour %zu (lead %.2f h) has an error %.2f", i, lead, err);
        if (lead > 0 && lead <= 1)
            d1 = fmax(d1, err);
        maxd = fmax(maxd, err);
        differs += err > 0.05;
    }
    CHECK(d1 <= 0.3 * 2 + 0.11);            /* ~0.3 K at 1 h */
    CHECK(maxd > 0.3);                      /* errors grow */
    CHECK(maxd <= 3.5 * 2 + 0.11);          /* capped */
    CHECK(differs > 20);
    CHECK(now_h >= 0 && now_h < 24);
    sb_wx_free(w);
    rsp_free(&r);
    rsp_free(&r2);
}

struct wxval {
    json_t *src;
    int handle, rc;
    double v;
};

static void wxval_job(void *a)
{
    struct wxval *x = a;
    x->handle = sb_simhttp_bind(srv, x->src);
    x->rc = sb_simhttp_value(srv, x->handle, &x->v);
}

TEST(weather_driver)
{
    struct docs d;
    json_t *conf;
    void *st = NULL;
    char err[SB_DRV_ERR_MAX] = "";
    struct tp t;
    struct sb_drv_item it;
    double out[72];
    int64_t times[72];
    struct wxval x = { .src = json_pack("{s:s, s:{s:s, s:s}}", "driver", "weather", "address",
                                        "variable", "temperature_2m", "what", "current") };

    on_loop(docs_job, &d);
    conf = json_deep_copy(json_object_get(d.drv, "weather"));
    REQUIRE(sb_driver_weather.init(NULL, conf, &st, err, sizeof(err)) == 0);
    memset(&t, 0, sizeof(t));
    snprintf(t.addr, sizeof(t.addr), "{\"variable\":\"temperature_2m\",\"what\":\"current\"}");
    t.p.address = t.addr;
    t.p.address_json = 1;
    t.p.unit = SB_UNIT_CELSIUS;
    t.p.min = t.p.max = NAN;
    REQUIRE(sb_driver_weather.bind(st, &t.p, t.key, sizeof(t.key), err, sizeof(err)) == 0);
    memset(&it, 0, sizeof(it));
    it.pt = &t.p;
    CHECK_EQ(sb_driver_weather.read(st, t.key, &it, 1, 5000, err, sizeof(err)), 0);
    on_loop(wxval_job, &x);
    CHECK_EQ(x.rc, 0);
    CHECK(x.handle >= 0);
    CHECK_EQ(it.rc, 0);
    CHECK(it.v == x.v);
    CHECK_EQ(it.t, wall_ms - wall_ms % 900000);
    /* 72 hours of forecast from the hour of now */
    CHECK_EQ(sb_weather_forecast(st, "temperature_2m", wall_ms, 72, out, times), 72);
    CHECK_EQ(times[0], wall_ms - wall_ms % 3600000);
    CHECK_EQ(times[71] - times[0], 71 * 3600000LL);
    sb_driver_weather.unbind(st, &t.p);
    sb_driver_weather.free(st);
    json_decref(conf);
    json_decref(x.src);
    json_decref(d.list);
    json_decref(d.site);
    json_decref(d.drv);
}

/* ---- binding -------------------------------------------------------------------------- */

struct bindchk {
    int a, b, c, d, e;
};

static void bindchk_job(void *a)
{
    struct bindchk *c = a;
    json_t *s1 = json_pack("{s:s, s:{s:s, s:s, s:s}}", "driver", "rest", "address", "api", "other-tstat",
                           "device", "rt-1-01", "name", "temperature");
    json_t *s2 = json_pack("{s:s, s:{s:s, s:s, s:s}}", "driver", "rest", "address", "api", "hpo-tstat",
                           "device", "rt-1-01", "name", "humidity");
    json_t *s3 = json_pack("{s:s, s:{s:s}}", "driver", "weather", "address", "variable", "snowfall");
    json_t *s4 = json_pack("{s:s, s:{s:i}}", "driver", "bacnet", "address", "device", 1001);
    json_t *s5 = json_pack("{s:s, s:{s:s, s:s, s:s}}", "driver", "rest", "address", "api", "hpo-tstat",
                           "device", "rt-1-02", "name", "online");
    double v;

    c->a = sb_simhttp_bind(srv, s1);
    c->b = sb_simhttp_bind(srv, s2);
    c->c = sb_simhttp_bind(srv, s3);
    c->d = sb_simhttp_bind(srv, s4);
    c->e = sb_simhttp_bind(srv, s5) >= 0 && sb_simhttp_value(srv, sb_simhttp_bind(srv, s5), &v) == 0 ? (int)v : -1;
    json_decref(s1);
    json_decref(s2);
    json_decref(s3);
    json_decref(s4);
    json_decref(s5);
}

TEST(bind)
{
    struct bindchk c;
    double v;

    on_loop(bindchk_job, &c);
    CHECK_EQ(c.a, SB_ENOENT);
    if (isnan(plant_pt("floor1.zone1.rh").v))
        CHECK_EQ(c.b, SB_ENOENT);
    else
        CHECK(c.b >= 0);
    CHECK_EQ(c.c, SB_ENOENT);
    CHECK_EQ(c.d, SB_ENOENT);
    CHECK_EQ(c.e, 1);
    CHECK_EQ(sb_simhttp_value(srv, -1, &v), SB_ENOENT);
    CHECK_EQ(sb_simhttp_value(srv, 99999, &v), SB_ENOENT);
}

/* ---- control -------------------------------------------------------------------------- */

TEST(control)
{
    struct rsp r;
    json_t *d;
    char c[64], h[128];

    CHECK_EQ(req(base1, "GET", "/control/v1/status", NULL, NULL, &r), 200);
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(d, "site")), "harbor-point");
    CHECK(json_string_value(json_object_get(d, "sim_time")) != NULL);
    CHECK(json_string_value(json_object_get(d, "wall_time")) != NULL);
    CHECK_DBL(json_number_value(json_object_get(d, "speed")), 60, 0);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", "/control/v1/faults", NULL,
                 "{\"class\":\"oa_damper_stuck\",\"equipment\":\"AHU-1\",\"value\":100}", &r), 201);
    d = js(&r);
    CHECK_EQ(json_integer_value(json_object_get(d, "id")), 7);
    json_decref(d);
    rsp_free(&r);
    CHECK_STR(fake.last_class, "oa_damper_stuck");
    CHECK_EQ(req(base1, "POST", "/control/v1/faults", NULL, "{\"class\":\"nonsense\"}", &r), 422);
    CHECK_STR(err_code(&r, c, sizeof(c)), "invalid");
    d = js(&r);
    CHECK_STR(json_string_value(json_object_get(json_object_get(d, "error"), "message")), "class: unknown fault class");
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "POST", "/control/v1/faults", NULL, "{nope", &r), 400);
    rsp_free(&r);
    CHECK_EQ(fake.injected, 1);
    CHECK_EQ(req(base1, "GET", "/control/v1/faults", NULL, NULL, &r), 200);
    d = js(&r);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(d, "faults"), 0), "id")), 7);
    json_decref(d);
    rsp_free(&r);
    CHECK_EQ(req(base1, "DELETE", "/control/v1/faults/7", NULL, NULL, &r), 204);
    rsp_free(&r);
    CHECK_EQ(fake.cleared, 1);
    CHECK_EQ(req(base1, "DELETE", "/control/v1/faults/99", NULL, NULL, &r), 404);
    rsp_free(&r);
    CHECK_EQ(req(base1, "DELETE", "/control/v1/faults/abc", NULL, NULL, &r), 404);
    rsp_free(&r);
    CHECK_EQ(req(base1, "PUT", "/control/v1/faults", NULL, "{}", &r), 405);
    rsp_free(&r);
    /* srv2: a token is required, and there is no fault manager */
    CHECK_EQ(req(base2, "GET", "/control/v1/status", NULL, NULL, &r), 401);
    CHECK(header(&r, "WWW-Authenticate", h, sizeof(h)));
    rsp_free(&r);
    CHECK_EQ(req(base2, "GET", "/control/v1/status", "Authorization: Bearer wrong", NULL, &r), 401);
    rsp_free(&r);
    CHECK_EQ(req(base2, "GET", "/control/v1/status", "Authorization: Bearer " CTL_TOK, NULL, &r), 200);
    rsp_free(&r);
    CHECK_EQ(req(base2, "POST", "/control/v1/faults", "Authorization: Bearer " CTL_TOK, "{}", &r), 501);
    rsp_free(&r);
    CHECK_EQ(req(base2, "DELETE", "/control/v1/faults/1", "Authorization: Bearer " CTL_TOK, NULL, &r), 501);
    rsp_free(&r);
}

/* ---- setup ------------------------------------------------------------------------------ */

static struct sb_sim_site_ref site1 = { "harbor-point", "hpo", 0, fake_offline, NULL };
static struct sb_sim_site_ref site2 = { "bay", "b2", 1, NULL, NULL };
static struct sb_sim_site_ref site3 = { "cove", "b3", 2, NULL, NULL };

struct newjob {
    struct sb_simhttp_cfg c;
    const struct sb_sim_site_ref *site;
    struct sb_simhttp *h;
    int rc;
    char err[128];
};

static void new_job(void *a)
{
    struct newjob *j = a;
    j->h = NULL;
    j->err[0] = 0;
    j->rc = sb_simhttp_new(&loop, plant, j->site, &j->c, &j->h, j->err, sizeof(j->err));
}

static void free_job(void *a)
{
    struct newjob *j = a;
    sb_simhttp_close(j->h);
}

TEST(new_errors)
{
    struct newjob j = { .site = &site1 };
    json_t *l;

    sb_simhttp_cfg_default(&j.c);
    j.c.ip = "10.1.2.3";
    on_loop(new_job, &j);
    CHECK_EQ(j.rc, SB_EINVAL);
    CHECK(strstr(j.err, "127.0.0.0/8") != NULL);
    j.c.ip = "127.0.0.61";
    j.c.port = sb_simhttp_port(srv);        /* taken */
    on_loop(new_job, &j);
    CHECK_EQ(j.rc, SB_EIO);
    CHECK(j.h == NULL);
    j.c.client_secret = "bad\nsecret";
    j.c.client_secret = "bad\001";
    j.c.port = -1;
    on_loop(new_job, &j);
    CHECK_EQ(j.rc, SB_EINVAL);
    /* without listening: the devices all the same, on the default address */
    j.c = (struct sb_simhttp_cfg){ .epw = epw };
    j.site = &site2;
    on_loop(new_job, &j);
    REQUIRE(j.rc == 0);
    l = sb_simhttp_list(j.h);
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 0), "name")), "B2-RT-1-01");
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 0), "address")), "127.0.1.10");
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(l, 0), "port")), 8080);
    json_decref(l);
    on_loop(free_job, &j);
    sb_simhttp_free(j.h);
}

static int setup(void)
{
    struct sb_simhttp_cfg c;
    char err[256];
    int64_t t0;

    if (!(epw = calloc(1, sizeof(*epw))) || sb_epw_load(EPW_PATH, epw, err, sizeof(err)) != 0) {
        printf("# epw: %s\n", err);
        return -1;
    }
    struct sb_plant_config pc;
    sb_plant_config_default(&pc);
    /* a Thursday, 10:00 local standard time in Boston: occupied */
    sb_time_parse("2026-01-15T15:00:00Z", 20, &t0);
    sim_ms = t0;
    if (sb_plant_new(&pc, epw, t0, &plant, err, sizeof(err)) != 0)
        return -1;
    sim_ms += 7200000;
    sb_plant_step(plant, 7200, sim_ms);
    uv_loop_init(&loop);
    uv_async_init(&loop, &wake, on_wake);
    sb_simhttp_cfg_default(&c);
    c.ip = "127.0.0.61";
    c.port = -1;
    c.epw = epw;
    c.plant_cfg = &pc;
    c.forecast_error = 0;
    c.ctl = &fake_ops;
    c.speed = 60;
    c.max_rps = 1000;                       /* the 429 test has srv3 */
    if (sb_simhttp_new(&loop, plant, &site1, &c, &srv, err, sizeof(err)) != 0) {
        printf("# srv: %s\n", err);
        return -1;
    }
    c.ip = "127.0.0.62";
    c.token_ttl_s = 1;
    c.forecast_error = 1;
    c.control_token = CTL_TOK;
    c.ctl = NULL;
    if (sb_simhttp_new(&loop, plant, &site2, &c, &srv2, err, sizeof(err)) != 0) {
        printf("# srv2: %s\n", err);
        return -1;
    }
    c.ip = "127.0.0.63";
    c.max_rps = 3;
    c.token_ttl_s = 0;
    if (sb_simhttp_new(&loop, plant, &site3, &c, &srv3, err, sizeof(err)) != 0) {
        printf("# srv3: %s\n", err);
        return -1;
    }
    snprintf(base1, sizeof(base1), "http://127.0.0.61:%d", sb_simhttp_port(srv));
    snprintf(base2, sizeof(base2), "http://127.0.0.62:%d", sb_simhttp_port(srv2));
    snprintf(base3, sizeof(base3), "http://127.0.0.63:%d", sb_simhttp_port(srv3));
    wall_ms = sb_now_ms();
    sb_simhttp_sync(srv, sim_ms, wall_ms);
    sb_simhttp_sync(srv2, sim_ms, wall_ms);
    sb_simhttp_sync(srv3, sim_ms, wall_ms);
    pthread_create(&loop_thr, NULL, loop_main, NULL);
    cu = curl_easy_init();
    return 0;
}

static void stop_job(void *a)
{
    (void)a;
    sb_simhttp_close(srv);
    sb_simhttp_close(srv2);
    sb_simhttp_close(srv3);
    uv_close((uv_handle_t *)&wake, NULL);
}

static void teardown(void)
{
    curl_easy_cleanup(cu);
    on_loop(stop_job, NULL);
    pthread_join(loop_thr, NULL);
    sb_simhttp_free(srv);
    sb_simhttp_free(srv2);
    sb_simhttp_free(srv3);
    uv_loop_close(&loop);
    sb_plant_free(plant);
    free(epw);
}

int main(void)
{
    TAP_START();
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (setup() != 0) {
        printf("Bail out! setup failed\n");
        return 1;
    }
    RUN(parser);
    RUN(list_site_drivers);
    RUN(token);
    RUN(unauthorized);
    RUN(status_vs_plant);
    RUN(demand);
    RUN(setpoints_and_hold);
    RUN(modes_and_fan);
    RUN(errors);
    RUN(raw_socket);
    RUN(expect_continue);
    RUN(keep_alive);
    RUN(rate_limit);
    RUN(offline);
    RUN(rest_driver);
    RUN(weather_api);
    RUN(forecast_error);
    RUN(weather_driver);
    RUN(bind);
    RUN(control);
    RUN(new_errors);
    teardown();
    curl_global_cleanup();
    TAP_END();
}

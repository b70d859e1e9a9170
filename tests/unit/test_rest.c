/*
 * test_rest.c - the REST and weather drivers against a real local HTTP peer
 * (tests/integ/peers/rest_server.py on 127.0.0.1): JSON paths, profiles,
 * templates, addresses; one status GET per device; OAuth 2.0 token reuse,
 * refresh before expiry and after a 401; 429 Retry-After (seconds and
 * HTTP-date); 5xx backoff; timeouts; max_rps; writes and refusals; secrets
 * kept out of the log; the Open-Meteo parser, cache and service-down
 * fallback.
 *
 * Run from the repository root (the server, its recorded responses and
 * profiles/ are found by relative path).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "drivers/rest/http.h"
#include "drivers/jpath.h"
#include "drivers/rest/oauth.h"
#include "drivers/rest/profile.h"
#include "drivers/rest/rest.h"
#include "drivers/rest/weather.h"
#include "drivers/rest/wxparse.h"
#include "store/sample.h"
#include "tap.h"

#define SERVER  "tests/integ/peers/rest_server.py"
#define DATA    "tests/integ/peers/rest_data"
#define SECRET  "s3cr3t-Xy+/=z"
#define APIKEY  "k3y-9f8e7d"

static char tmpl[] = "/tmp/sbems-test-rest-XXXXXX";
static char *root;              /* temp dir */
static pid_t srv_pid;           /* the peer */
static int srv_out = -1;        /* read end of its stdout, open while it runs */
static char srv[64];            /* "http://127.0.0.1:<port>" */
static char logpath[300];       /* where the driver log goes */

/* ---- the peer ----------------------------------------------------------- */

static int srv_start(void)
{
    int fd[2];
    char line[32] = "";
    struct pollfd p;
    ssize_t n;

    if (pipe(fd) != 0)
        return -1;
    srv_pid = fork();
    if (srv_pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/usr/bin/python3", "python3", SERVER, "--data", DATA, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    srv_out = fd[0];
    p = (struct pollfd){ .fd = fd[0], .events = POLLIN };
    /* the port, one line; bounded by the poll timeout and the buffer */
    for (n = 0; !strchr(line, '\n') && (size_t)n < sizeof(line) - 1;) {
        ssize_t k = poll(&p, 1, 10000) == 1 ? read(fd[0], line + n, sizeof(line) - 1 - (size_t)n) : -1;
        if (k <= 0)
            return -1;
        n += k;
    }
    if (atoi(line) <= 0)
        return -1;
    snprintf(srv, sizeof(srv), "http://127.0.0.1:%d", atoi(line));
    return 0;
}

static void srv_stop(void)
{
    if (srv_pid > 0) {
        kill(srv_pid, SIGTERM);
        waitpid(srv_pid, NULL, 0);
        srv_pid = 0;
    }
    if (srv_out >= 0)
        close(srv_out);
    srv_out = -1;
}

/* A control request; returns its JSON answer (caller decrefs) or NULL. */
static json_t *ctl(const char *path, const char *body)
{
    CURL *h = curl_easy_init();
    char url[256];
    json_t *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);

    snprintf(url, sizeof(url), "%s%s", srv, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    if (body)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(mem);
    out = buf ? json_loadb(buf, len, 0, NULL) : NULL;
    free(buf);
    return out;
}

static void ctl_do(const char *path, const char *body)
{
    json_decref(ctl(path, body));
}

/* Requests the peer saw with this method and path. */
static int seen(const char *method, const char *path)
{
    json_t *log = ctl("/_ctl/log", NULL), *e;
    size_t i;
    int n = 0;

    json_array_foreach(log, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "method")), method) == 0 &&
            strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            n++;
    }
    json_decref(log);
    return n;
}

/* The n-th (from the end: -1 = last) logged request with this path. */
static json_t *logged(const char *path, int nth)
{
    json_t *log = ctl("/_ctl/log", NULL), *e, *hit = NULL;
    size_t i;
    int k = 0, total = 0;

    json_array_foreach(log, i, e)
        if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            total++;
    json_array_foreach(log, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "path")), path) != 0)
            continue;
        if (k++ == (nth < 0 ? total + nth : nth)) {
            hit = json_incref(e);
            break;
        }
    }
    json_decref(log);
    return hit;
}

static void script(const char *path, const char *responses)
{
    char b[1024];
    snprintf(b, sizeof(b), "{\"path\":\"%s\",\"responses\":%s}", path, responses);
    ctl_do("/_ctl/script", b);
}

static int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

/* ---- driver harness ----------------------------------------------------- */

/* A bound point of a test. */
struct tp {
    struct sb_drv_point p;      /* what the driver sees */
    char key[SB_DRV_KEY_MAX];   /* key bind gave */
    char addr[1024];            /* address text */
};

static int bind_pt(const struct sb_driver_ops *ops, void *st, struct tp *t, uint32_t id,
                   const char *addr, enum sb_unit unit, int writable, char *err)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->addr, sizeof(t->addr), "%s", addr);
    t->p.id = id;
    t->p.slug = "test.point";
    t->p.address = t->addr;
    t->p.address_json = 1;
    t->p.unit = unit;
    t->p.writable = writable;
    t->p.min = NAN;
    t->p.max = NAN;
    err[0] = '\0';
    return ops->bind(st, &t->p, t->key, sizeof(t->key), err, SB_DRV_ERR_MAX);
}

static char *rest_conf_text(const char *tc_extra, const char *kc_extra)
{
    char *s = NULL;
    if (asprintf(&s,
        "{\"profile_dir\":\"profiles\",\"user_agent\":\"sbems-test\",\"apis\":{"
        "\"tc\":{\"base_url\":\"%s/tapi/v1\",\"profile\":\"rest-siemens-thermostat\","
        "\"auth\":{\"type\":\"oauth2_client_credentials\",\"token_url\":\"%s/tapi/v1/oauth2/token\","
        "\"client_id\":\"sbems-test\",\"client_secret\":\"" SECRET "\","
        "\"scope\":\"thermostats.read thermostats.write\"},"
        "\"timeout_ms\":3000,\"max_rps\":100,\"status_cache_ms\":0%s},"
        "\"kc\":{\"base_url\":\"%s/kapi/v1\",\"profile\":\"rest-siemens-thermostat\","
        "\"auth\":{\"type\":\"api_key\",\"header\":\"X-Api-Key\",\"key\":\"" APIKEY "\"}%s}}}",
        srv, srv, tc_extra, srv, kc_extra) < 0)
        return NULL;
    return s;
}

static void *rest_new(const char *tc_extra, const char *kc_extra)
{
    char *text = rest_conf_text(tc_extra, kc_extra), err[SB_DRV_ERR_MAX] = "";
    json_t *c = text ? json_loads(text, 0, NULL) : NULL;
    void *st = NULL;
    int rc = c ? sb_driver_rest.init(NULL, c, &st, err, sizeof(err)) : -1;

    if (rc != 0)
        printf("# rest init: %d %s\n", rc, err);
    json_decref(c);
    free(text);
    return rc == 0 ? st : NULL;
}

static char *tstat_addr(const char *api, const char *dev, const char *name)
{
    static char b[4][160];
    static int k;
    char *o = b[k++ % 4];
    snprintf(o, 160, "{\"api\":\"%s\",\"device\":\"%s\",\"name\":\"%s\"}", api, dev, name);
    return o;
}

static int read_pts(void *st, struct tp *t, size_t n, struct sb_drv_item *it, int64_t tmo,
                    char *err)
{
    for (size_t i = 0; i < n; i++) {
        memset(&it[i], 0, sizeof(it[i]));
        it[i].pt = &t[i].p;
        it[i].v = NAN;
    }
    err[0] = '\0';
    return sb_driver_rest.read(st, t[0].key, it, n, tmo, err, SB_DRV_ERR_MAX);
}

static void unbind_all(const struct sb_driver_ops *ops, void *st, struct tp *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].p.addr)
            ops->unbind(st, &t[i].p);
}

/* ---- pure parts --------------------------------------------------------- */

TEST(jpath)
{
    json_t *d = json_loads("{\"a\":{\"b\":[10,{\"c\":\"21.5\"},true,null,\"heat\"]},"
                           "\"x.y\":1,\"n\":-3.25}", 0, NULL);
    const json_t *v;
    double x;
    char e[128];

    REQUIRE(d);
    CHECK_EQ(sb_jpath_get(d, "n", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), 0);
    CHECK_DBL(x, -3.25, 0);
    CHECK_EQ(sb_jpath_get(d, "a.b[0]", &v, e, sizeof(e)), 0);
    CHECK_DBL(json_number_value(v), 10, 0);
    CHECK_EQ(sb_jpath_get(d, "a.b.1.c", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), 0);
    CHECK_DBL(x, 21.5, 0);
    CHECK_EQ(sb_jpath_get(d, "a.b[2]", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), 0);
    CHECK_DBL(x, 1, 0);
    CHECK_EQ(sb_jpath_get(d, "a.b[3]", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), SB_ENOENT);
    CHECK_EQ(sb_jpath_get(d, "a.b[4]", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), SB_EPROTO);
    CHECK(strstr(e, "heat") != NULL);
    CHECK_EQ(sb_jpath_get(d, "a.b[9]", &v, e, sizeof(e)), SB_ENOENT);
    CHECK(strstr(e, "a.b[9]") != NULL);
    CHECK_EQ(sb_jpath_get(d, "a.q.r", &v, e, sizeof(e)), SB_ENOENT);
    CHECK_EQ(sb_jpath_get(d, "n.deeper", &v, e, sizeof(e)), SB_ENOENT);
    CHECK_EQ(sb_jpath_get(d, "", &v, e, sizeof(e)), 0);
    CHECK(v == d);
    CHECK_EQ(sb_jpath_get(d, "a", &v, e, sizeof(e)), 0);
    CHECK_EQ(sb_jpath_number(v, &x, e, sizeof(e)), SB_EPROTO);
    /* malformed paths */
    CHECK_EQ(sb_jpath_check("a..b", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check(".a", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("a.", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("a[", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("a[x]", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("a]", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("a.[0]", e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_jpath_check("[0].a[1][2]", e, sizeof(e)), 0);
    {
        char deep[200] = "a";
        for (int i = 0; i < 40; i++)
            strcat(deep, ".a");
        CHECK_EQ(sb_jpath_check(deep, e, sizeof(e)), SB_EINVAL);
    }
    /* strings that strtod would take but a reading never is */
    json_t *s = json_string("nan");
    CHECK_EQ(sb_jpath_number(s, &x, e, sizeof(e)), SB_EPROTO);
    json_decref(s);
    s = json_string("0x10");
    CHECK_EQ(sb_jpath_number(s, &x, e, sizeof(e)), SB_EPROTO);
    json_decref(s);
    json_decref(d);
}

static int profile_err(const char *text, char *e, size_t el)
{
    json_t *d = json_loads(text, 0, NULL);
    struct sb_rest_profile *p = NULL;
    int rc;

    if (!d)
        return 99;
    e[0] = '\0';
    rc = sb_rest_profile_parse(d, &p, e, el);
    sb_rest_profile_free(p);
    json_decref(d);
    return rc;
}

TEST(profile)
{
    struct sb_rest_profile *p = NULL;
    const struct sb_rest_ppoint *pp;
    char e[SB_DRV_ERR_MAX], path[400];
    static const char *const bad[] = {
        "[]",
        "{\"profile\":\"x\",\"points\":{\"a\":{\"path\":\"a\"}}}",                  /* no status */
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{}}",            /* no points */
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\"}},\"extra\":1}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s/{dev}\"},\"points\":{\"a\":{\"path\":\"a\"}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"s\"},\"points\":{\"a\":{\"path\":\"a\"}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\",\"method\":\"TRACE\"},\"points\":{\"a\":{\"path\":\"a\"}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a..b\"}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\",\"enum\":{\"p\":1,\"q\":1}}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\",\"scale\":0}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\",\"write\":{\"method\":\"PUT\",\"url\":\"/w\",\"body\":{\"v\":\"{valeu}\"}}}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\",\"write\":{\"url\":\"/w\"}}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a b\":{\"path\":\"a\"}}}",
        "{\"profile\":\"x\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\",\"write\":{\"method\":\"PUT\",\"url\":\"/w\",\"time_path\":\"t\"}}}}",
        NULL
    };

    CHECK_EQ(sb_rest_profile_load("profiles", "rest-siemens-thermostat", &p, e, sizeof(e)), 0);
    REQUIRE(p);
    CHECK_STR(p->status.method, "GET");
    CHECK_STR(p->status.url, "/thermostats/{device}/status");
    CHECK_STR(p->time_path, "updated");
    CHECK_EQ(p->npoints, 11);
    REQUIRE((pp = sb_rest_profile_point(p, "mode")) != NULL);
    CHECK_EQ(pp->nenums, 5);
    CHECK(pp->write != NULL);
    REQUIRE((pp = sb_rest_profile_point(p, "heating_setpoint")) != NULL);
    CHECK_STR(pp->write->method, "PUT");
    CHECK(pp->relinquish != NULL);
    CHECK(sb_rest_profile_point(p, "temperature")->write == NULL);
    CHECK(sb_rest_profile_point(p, "nope") == NULL);
    sb_rest_profile_free(p);

    for (int i = 0; bad[i]; i++) {
        int rc = profile_err(bad[i], e, sizeof(e));
        if (rc != SB_EINVAL || !e[0])
            TAP_FAIL("bad profile %d accepted or silent: rc %d \"%s\"", i, rc, e);
    }
    /* names are checked before any file is opened; the file names itself */
    CHECK_EQ(sb_rest_profile_load("profiles", "../etc/passwd", &p, e, sizeof(e)), SB_EINVAL);
    CHECK_EQ(sb_rest_profile_load(root, "rest-missing", &p, e, sizeof(e)), SB_ENOENT);
    snprintf(path, sizeof(path), "%s/rest-other.json", root);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"profile\":\"rest-else\",\"status\":{\"url\":\"/s\"},\"points\":{\"a\":{\"path\":\"a\"}}}", f);
    fclose(f);
    CHECK_EQ(sb_rest_profile_load(root, "rest-other", &p, e, sizeof(e)), SB_EINVAL);
    CHECK(strstr(e, "rest-else") != NULL);
    unlink(path);
}

TEST(templates)
{
    struct sb_rest_profile *p = NULL;
    const struct sb_rest_ppoint *hs, *mode;
    char e[SB_DRV_ERR_MAX], *s = NULL;
    json_t *t;
    int64_t ms;

    REQUIRE(sb_rest_profile_load("profiles", "rest-siemens-thermostat", &p, e, sizeof(e)) == 0);
    hs = sb_rest_profile_point(p, "heating_setpoint");
    mode = sb_rest_profile_point(p, "mode");
    CHECK_EQ(sb_rest_url("https://x/v1/", "/t/{device}/s", "a b/c", NULL, &s), 0);
    CHECK_STR(s, "https://x/v1/t/a%20b%2Fc/s");
    free(s);
    CHECK_EQ(sb_rest_url("https://x", "https://y/{device}/{value}", "d", "e", &s), 0);
    CHECK_STR(s, "https://y/d/e");
    free(s);
    CHECK_EQ(sb_rest_url("https://x", "/{device}", NULL, NULL, &s), SB_EINVAL);
    CHECK_EQ(sb_rest_body(hs, hs->write->body, "rt-1", 21.5, &s, e, sizeof(e)), 0);
    CHECK_STR(s, "{\"heating\":21.5}");
    free(s);
    CHECK_EQ(sb_rest_body(hs, hs->write->body, "rt-1", 21.1, &s, e, sizeof(e)), 0);
    CHECK_STR(s, "{\"heating\":21.1}");
    free(s);
    CHECK_EQ(sb_rest_body(hs, hs->write->body, "rt-1", 21.0, &s, e, sizeof(e)), 0);
    CHECK_STR(s, "{\"heating\":21}");
    free(s);
    CHECK_EQ(sb_rest_body(mode, mode->write->body, "rt-1", 4, &s, e, sizeof(e)), 0);
    CHECK_STR(s, "{\"mode\":\"eco\"}");
    free(s);
    CHECK_EQ(sb_rest_body(mode, mode->write->body, "rt-1", 7, &s, e, sizeof(e)), SB_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(e, "enum") != NULL);
    t = json_loads("{\"id\":\"dev-{device}\",\"on\":\"{value:bool}\",\"n\":[\"{value:int}\"],\"k\":3}",
                   0, NULL);
    CHECK_EQ(sb_rest_body(hs, t, "rt-9", 2.6, &s, e, sizeof(e)), 0);
    CHECK_STR(s, "{\"id\":\"dev-rt-9\",\"on\":true,\"n\":[3],\"k\":3}");
    free(s);
    json_decref(t);
    /* refusal reasons */
    {
        const char *r1 = "{\"error\":{\"code\":\"x\",\"message\":\"too\\nhot\"}}";
        const char *r2 = "{\"detail\":\"nope\"}";
        CHECK_EQ(sb_rest_reason(r1, strlen(r1), "error.message", e, sizeof(e)), 1);
        CHECK_STR(e, "too hot");
        CHECK_EQ(sb_rest_reason(r2, strlen(r2), NULL, e, sizeof(e)), 1);
    }
    CHECK_STR(e, "nope");
    CHECK_EQ(sb_rest_reason("<html>", 6, NULL, e, sizeof(e)), 0);
    CHECK_STR(e, "");
    /* source times */
    t = json_loads("{\"a\":\"2026-01-15T10:54:00+00:00\",\"b\":1768474440,\"c\":1768474440000,"
                   "\"d\":\"yesterday\"}", 0, NULL);
    CHECK_EQ(sb_rest_time(t, "a", &ms), 0);
    CHECK_EQ(ms, 1768474440000LL);
    CHECK_EQ(sb_rest_time(t, "b", &ms), 0);
    CHECK_EQ(ms, 1768474440000LL);
    CHECK_EQ(sb_rest_time(t, "c", &ms), 0);
    CHECK_EQ(ms, 1768474440000LL);
    CHECK_EQ(sb_rest_time(t, "d", &ms), SB_EPROTO);
    CHECK_EQ(sb_rest_time(t, "e", &ms), SB_ENOENT);
    json_decref(t);
    /* OAuth token responses and timing */
    {
        char *tok = NULL;
        int64_t life = 0;
        const char *ok = "{\"access_token\":\"abc.DEF-_~+/==\",\"token_type\":\"bearer\",\"expires_in\":3600}";
        const char *crlf = "{\"access_token\":\"abc\\r\\nX-Evil: 1\",\"token_type\":\"Bearer\"}";
        CHECK_EQ(sb_rest_oauth_parse(ok, strlen(ok), &tok, &life, e, sizeof(e)), 0);
        CHECK_STR(tok, "abc.DEF-_~+/==");
        CHECK_EQ(life, 3600);
        free(tok);
        CHECK_EQ(sb_rest_oauth_parse(crlf, strlen(crlf), &tok, &life, e, sizeof(e)), SB_EPROTO);
        CHECK(strstr(e, "abc") == NULL);
        CHECK_EQ(sb_rest_oauth_refresh_delay_ms(3600), 3540000);
        CHECK_EQ(sb_rest_oauth_refresh_delay_ms(2), 1000);
    }
    /* Retry-After, RFC 9110 10.2.3 */
    CHECK_EQ(sb_rest_retry_after("120", 0), 120000);
    CHECK_EQ(sb_rest_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470000LL), 10000);
    CHECK_EQ(sb_rest_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490000LL), 0);
    CHECK_EQ(sb_rest_retry_after("99999999", 0), 3600000);
    /* dates ages away are clamped, not overflowed (fuzz_rest found it) */
    CHECK_EQ(sb_rest_retry_after("Wed, 21 Oct 783627200 00:00:00 GMT", 1445412470000LL), 3600000);
    CHECK_EQ(sb_rest_retry_after("soon", 0), -1);
    CHECK_EQ(sb_rest_retry_after("12a", 0), -1);
    sb_rest_profile_free(p);
}

/* ---- configuration and binding ------------------------------------------ */

static int init_err(const char *text, char *e)
{
    json_t *c = json_loads(text, 0, NULL);
    void *st = NULL;
    int rc;

    e[0] = '\0';
    if (!c)
        return 99;
    rc = sb_driver_rest.init(NULL, c, &st, e, SB_DRV_ERR_MAX);
    if (st)
        sb_driver_rest.free(st);
    json_decref(c);
    return rc;
}

TEST(config)
{
    char e[SB_DRV_ERR_MAX];
    static const char *const bad[] = {
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"bogus\":1}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"ftp://x\"}}}",
        "{\"apis\":{\"a b\":{\"base_url\":\"https://x\"}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"max_rps\":0}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"auth\":{\"type\":\"magic\"}}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"auth\":{\"type\":\"api_key\",\"header\":\"X Key\",\"key\":\"" APIKEY "\"}}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"http://example.com\",\"auth\":{\"type\":\"api_key\",\"key\":\"" APIKEY "\"}}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"auth\":{\"type\":\"oauth2_client_credentials\",\"token_url\":\"http://example.com/t\",\"client_id\":\"i\",\"client_secret\":\"" SECRET "\"}}}}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"profile\":\"rest-missing\"}},\"profile_dir\":\"profiles\"}",
        "{\"apis\":{\"a\":{\"base_url\":\"https://x\",\"profile\":{\"profile\":\"p\"}}}}",
        "{\"nonsense\":true}",
        NULL
    };

    for (int i = 0; bad[i]; i++) {
        int rc = init_err(bad[i], e);
        if (rc != SB_ECONFIG || !e[0])
            TAP_FAIL("bad config %d: rc %d \"%s\"", i, rc, e);
        if (strstr(e, SECRET) || strstr(e, APIKEY))
            TAP_FAIL("config %d error quotes a secret: %s", i, e);
    }
    CHECK_EQ(init_err("{\"apis\":{\"a\":{\"base_url\":\"http://127.0.0.1:9/x\",\"auth\":"
                      "{\"type\":\"api_key\",\"key\":\"k\"}}}}", e), 0);
    CHECK_EQ(init_err("{}", e), 0);
}

TEST(bind)
{
    void *st = rest_new("", "");
    struct tp t;
    char e[SB_DRV_ERR_MAX], want[300];
    static const char *const bad[] = {
        "not json",
        "{\"api\":\"tc\",\"device\":\"rt-101\"}",
        "{\"api\":\"zz\",\"device\":\"rt-101\",\"name\":\"temperature\"}",
        "{\"api\":\"tc\",\"device\":\"rt-101\",\"name\":\"nope\"}",
        "{\"api\":\"tc\",\"device\":\"rt 101\",\"name\":\"temperature\"}",
        "{\"api\":\"tc\",\"device\":\"rt-101\",\"name\":\"temperature\",\"url\":\"/x\",\"path\":\"a\"}",
        "{\"device\":\"rt-101\",\"name\":\"temperature\"}",
        "{\"url\":\"/relative\",\"path\":\"a\"}",
        "{\"url\":\"https://x/y\"}",
        "{\"url\":\"https://x/y\",\"path\":\"a..b\"}",
        "{\"url\":\"https://x/{device}\",\"path\":\"a\"}",
        "{\"api\":\"tc\",\"device\":\"rt-101\",\"name\":\"temperature\",\"extra\":1}",
        NULL
    };

    REQUIRE(st);
    for (int i = 0; bad[i]; i++) {
        int rc = bind_pt(&sb_driver_rest, st, &t, 1, bad[i], SB_UNIT_CELSIUS, 0, e);
        if (rc != SB_EINVAL || !e[0])
            TAP_FAIL("bad address %d bound: rc %d \"%s\"", i, rc, e);
        if (rc == 0)
            sb_driver_rest.unbind(st, &t.p);
    }
    /* writable, but read-only in the profile / a bare URL */
    CHECK_EQ(bind_pt(&sb_driver_rest, st, &t, 1, tstat_addr("tc", "rt-101", "temperature"),
                     SB_UNIT_CELSIUS, 1, e), SB_EINVAL);
    CHECK(strstr(e, "read-only") != NULL);
    CHECK_EQ(bind_pt(&sb_driver_rest, st, &t, 1, "{\"url\":\"https://x/y\",\"path\":\"a\"}",
                     SB_UNIT_CELSIUS, 1, e), SB_EINVAL);
    /* good ones and their keys */
    CHECK_EQ(bind_pt(&sb_driver_rest, st, &t, 1, tstat_addr("tc", "rt-101", "heating_setpoint"),
                     SB_UNIT_CELSIUS, 1, e), 0);
    CHECK_STR(t.key, "rest:tc/rt-101");
    sb_driver_rest.unbind(st, &t.p);
    CHECK(t.p.addr == NULL);
    CHECK_EQ(bind_pt(&sb_driver_rest, st, &t, 2, "{\"url\":\"https://api.weather.gov/stations/"
                     "KBOS/observations/latest\",\"path\":\"properties.temperature.value\"}",
                     SB_UNIT_CELSIUS, 0, e), 0);
    CHECK_STR(t.key, "rest:https://api.weather.gov/stations/KBOS/observations/latest");
    sb_driver_rest.unbind(st, &t.p);
    CHECK_EQ(bind_pt(&sb_driver_rest, st, &t, 3, "{\"api\":\"kc\",\"url\":\"/thermostats/rt-102/status\","
                     "\"path\":\"temperature\"}", SB_UNIT_CELSIUS, 0, e), 0);
    snprintf(want, sizeof(want), "rest:%s/kapi/v1/thermostats/rt-102/status", srv);
    CHECK_STR(t.key, want);
    sb_driver_rest.unbind(st, &t.p);
    sb_driver_rest.free(st);
}

/* ---- reading through the peer ------------------------------------------- */

static const char *const tstat_names[] = { "temperature", "humidity", "heating_setpoint",
    "cooling_setpoint", "mode", "fan", "occupancy", "heating_demand", "cooling_demand",
    "hold", "online" };
#define NT (sizeof(tstat_names) / sizeof(tstat_names[0]))

static int bind_tstat(void *st, const char *api, const char *dev, struct tp *t, char *e)
{
    for (size_t i = 0; i < NT; i++)
        if (bind_pt(&sb_driver_rest, st, &t[i], (uint32_t)i + 1, tstat_addr(api, dev, tstat_names[i]),
                    SB_UNIT_NONE, 0, e) != 0)
            return -1;
    return 0;
}

TEST(batch_and_token_reuse)
{
    void *st = rest_new("", "");
    struct tp a[NT], b[NT];
    struct sb_drv_item it[NT];
    char e[SB_DRV_ERR_MAX];
    static const double want[NT] = { 21.4, 41.0, 21.0, 24.5, 1, 0, 1, 35, 0, 0, 1 };
    json_t *g1, *g2, *tk;
    int64_t now = sb_now_ms();

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_tstat(st, "tc", "rt-101", a, e) == 0);
    REQUIRE(bind_tstat(st, "tc", "rt-102", b, e) == 0);
    CHECK_STR(a[0].key, "rest:tc/rt-101");
    CHECK_STR(b[0].key, "rest:tc/rt-102");
    CHECK_EQ(read_pts(st, a, NT, it, 3000, e), 0);
    for (size_t i = 0; i < NT; i++) {
        if (it[i].rc != 0 || fabs(it[i].v - want[i]) > 1e-9 || it[i].q != 0)
            TAP_FAIL("%s: rc %d v %g q %u (%s), want %g", tstat_names[i], it[i].rc, it[i].v,
                     it[i].q, it[i].err, want[i]);
        /* the peer stamps "updated" with its clock */
        if (it[i].t < now - 5000 || it[i].t > now + 5000)
            TAP_FAIL("%s: source time %lld not now", tstat_names[i], (long long)it[i].t);
    }
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 1);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 1);
    CHECK_EQ(read_pts(st, b, NT, it, 3000, e), 0);
    CHECK_DBL(it[4].v, 4, 0);       /* eco */
    CHECK_DBL(it[5].v, 1, 0);       /* low */
    CHECK_DBL(it[6].v, 0, 0);       /* unoccupied */
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-102/status"), 1);
    /* one token for both devices; client authenticated with Basic */
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 1);
    tk = logged("/tapi/v1/oauth2/token", -1);
    g1 = logged("/tapi/v1/thermostats/rt-101/status", -1);
    g2 = logged("/tapi/v1/thermostats/rt-102/status", -1);
    REQUIRE(tk && g1 && g2);
    CHECK_STR(json_string_value(json_object_get(tk, "basic_user")), "sbems-test");
    CHECK(strstr(json_string_value(json_object_get(tk, "body")), "grant_type=client_credentials") != NULL);
    CHECK(strstr(json_string_value(json_object_get(tk, "body")), SECRET) == NULL);
    CHECK(json_string_value(json_object_get(g1, "token")) != NULL);
    CHECK_STR(json_string_value(json_object_get(g1, "token")),
              json_string_value(json_object_get(g2, "token")));
    CHECK_STR(json_string_value(json_object_get(g1, "user_agent")), "sbems-test");
    json_decref(tk);
    json_decref(g1);
    json_decref(g2);
    unbind_all(&sb_driver_rest, st, a, NT);
    unbind_all(&sb_driver_rest, st, b, NT);
    sb_driver_rest.free(st);
}

TEST(token_refresh_before_expiry)
{
    void *st = rest_new("", "");
    struct tp a[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];
    json_t *g1, *g2;

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    ctl_do("/_ctl/config", "{\"expires_in\":2}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 1);     /* reused */
    sleep_ms(1100);                 /* past expires_in / 2 for a 2 s token */
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(it[0].rc, 0);
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 2);     /* fetched before it expired */
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 3);
    g1 = logged("/tapi/v1/thermostats/rt-101/status", 1);
    g2 = logged("/tapi/v1/thermostats/rt-101/status", 2);
    REQUIRE(g1 && g2);
    CHECK(strcmp(json_string_value(json_object_get(g1, "token")),
                 json_string_value(json_object_get(g2, "token"))) != 0);
    json_decref(g1);
    json_decref(g2);
    unbind_all(&sb_driver_rest, st, a, 1);
    sb_driver_rest.free(st);
}

TEST(token_refresh_on_401)
{
    void *st = rest_new("", "");
    struct tp a[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    ctl_do("/_ctl/revoke", "{}");   /* the server forgets the token early */
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(it[0].rc, 0);
    CHECK_DBL(it[0].v, 21.4, 1e-9);
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 2);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 3);   /* ok, 401, ok */
    /* a 401 that a fresh token does not cure: exactly one retry, then refused */
    script("/tapi/v1/thermostats/rt-101/status",
           "[{\"status\":401,\"body\":{\"error\":{\"message\":\"account disabled\"}}},"
           "{\"status\":401,\"body\":{\"error\":{\"message\":\"account disabled\"}}}]");
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EPROTO);
    CHECK(strstr(e, "401") != NULL);
    CHECK(strstr(e, "account disabled") != NULL);
    CHECK_EQ(seen("POST", "/tapi/v1/oauth2/token"), 3);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 5);
    unbind_all(&sb_driver_rest, st, a, 1);
    sb_driver_rest.free(st);
}

TEST(bad_client_secret)
{
    char *text = rest_conf_text("", ""), *p, e[SB_DRV_ERR_MAX];
    json_t *c;
    void *st = NULL;
    struct tp a[1];
    struct sb_drv_item it[1];

    REQUIRE(text);
    p = strstr(text, SECRET);
    REQUIRE(p);
    p[0] = 'X';                     /* wrong secret */
    c = json_loads(text, 0, NULL);
    REQUIRE(c && sb_driver_rest.init(NULL, c, &st, e, sizeof(e)) == 0);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EPROTO);
    CHECK(strstr(e, "401") != NULL && strstr(e, "invalid_client") != NULL);
    CHECK(strstr(e, "3cr3t") == NULL);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 0);
    unbind_all(&sb_driver_rest, st, a, 1);
    sb_driver_rest.free(st);
    json_decref(c);
    free(text);
}

TEST(retry_after_429)
{
    void *st = rest_new("", "");
    struct tp a[1], b[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX], date[64], resp[256];
    time_t when;
    int64_t t0;

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, b, 2, tstat_addr("tc", "rt-102", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    script("/tapi/v1/thermostats/rt-101/status",
           "[{\"status\":429,\"headers\":{\"Retry-After\":\"1\"}}]");
    t0 = mono();
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);
    CHECK(strstr(e, "429") != NULL);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 1);
    /* the whole API waits, without sending anything */
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);
    CHECK(strstr(e, "429") != NULL);
    CHECK_EQ(read_pts(st, b, 1, it, 3000, e), SB_EIO);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 1);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-102/status"), 0);
    sleep_ms((int)(1100 - (mono() - t0)));
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-101/status"), 2);

    /* the HTTP-date form: 2 s ahead, at one-second resolution */
    when = time(NULL) + 2;
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&when));
    snprintf(resp, sizeof(resp), "[{\"status\":429,\"headers\":{\"Retry-After\":\"%s\"}}]", date);
    script("/tapi/v1/thermostats/rt-102/status", resp);
    t0 = mono();
    CHECK_EQ(read_pts(st, b, 1, it, 3000, e), SB_EIO);
    sleep_ms(500);
    CHECK_EQ(read_pts(st, b, 1, it, 3000, e), SB_EIO);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-102/status"), 1);
    sleep_ms((int)(2200 - (mono() - t0)));
    CHECK_EQ(read_pts(st, b, 1, it, 3000, e), 0);
    CHECK_EQ(seen("GET", "/tapi/v1/thermostats/rt-102/status"), 2);
    unbind_all(&sb_driver_rest, st, a, 1);
    unbind_all(&sb_driver_rest, st, b, 1);
    sb_driver_rest.free(st);
}

TEST(backoff_5xx)
{
    void *st = rest_new(",\"backoff_ms\":300,\"backoff_max_ms\":2000", "");
    struct tp a[1], b[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];
    const char *p = "/tapi/v1/thermostats/rt-101/status";

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, b, 2, tstat_addr("tc", "rt-102", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    script(p, "[{\"status\":500},{\"status\":503}]");
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);
    CHECK(strstr(e, "HTTP 500") != NULL);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);     /* backing off: not sent */
    CHECK(strstr(e, "backing off") != NULL);
    CHECK_EQ(seen("GET", p), 1);
    CHECK_EQ(read_pts(st, b, 1, it, 3000, e), 0);          /* other devices go on */
    sleep_ms(350);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);     /* the 503: backoff doubles */
    CHECK(strstr(e, "HTTP 503") != NULL);
    CHECK_EQ(seen("GET", p), 2);
    sleep_ms(350);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), SB_EIO);     /* 600 ms not over yet */
    CHECK_EQ(seen("GET", p), 2);
    sleep_ms(350);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(seen("GET", p), 3);
    unbind_all(&sb_driver_rest, st, a, 1);
    unbind_all(&sb_driver_rest, st, b, 1);
    sb_driver_rest.free(st);
}

TEST(timeout)
{
    void *st = rest_new("", "");
    struct tp a[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];
    int64_t t0;

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);          /* token in hand */
    script("/tapi/v1/thermostats/rt-101/status", "[{\"delay\":2.0}]");
    t0 = mono();
    CHECK_EQ(read_pts(st, a, 1, it, 300, e), SB_ETIMEDOUT);
    CHECK_INT(mono() - t0, <, 1000);
    CHECK_INT(mono() - t0, >=, 250);
    CHECK(e[0] != '\0');
    unbind_all(&sb_driver_rest, st, a, 1);
    sb_driver_rest.free(st);
}

/* ---- max_rps ------------------------------------------------------------ */

struct rl_arg {
    void *st;                   /* driver */
    struct tp *t;               /* the point to read */
    int ok;                     /* reads that succeeded */
};

static void *rl_thread(void *ud)
{
    struct rl_arg *a = ud;
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];

    for (int i = 0; i < 6; i++)
        if (read_pts(a->st, a->t, 1, it, 5000, e) == 0)
            a->ok++;
    return NULL;
}

TEST(rate_limit)
{
    void *st = rest_new("", ",\"max_rps\":5,\"status_cache_ms\":0");
    struct tp a[1], b[1];
    struct rl_arg ra, rb;
    pthread_t x, y;
    json_t *log, *e;
    double ts[64];
    size_t i, n = 0;
    char err[SB_DRV_ERR_MAX];
    struct sb_drv_item it[1];

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("kc", "rt-101", "temperature"),
                    SB_UNIT_CELSIUS, 0, err) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, b, 2, tstat_addr("kc", "rt-102", "temperature"),
                    SB_UNIT_CELSIUS, 0, err) == 0);
    ra = (struct rl_arg){ st, a, 0 };
    rb = (struct rl_arg){ st, b, 0 };
    pthread_create(&x, NULL, rl_thread, &ra);
    pthread_create(&y, NULL, rl_thread, &rb);
    pthread_join(x, NULL);
    pthread_join(y, NULL);
    CHECK_EQ(ra.ok + rb.ok, 12);
    log = ctl("/_ctl/log", NULL);
    json_array_foreach(log, i, e)
        if (strncmp(json_string_value(json_object_get(e, "path")), "/kapi/", 6) == 0 && n < 64) {
            ts[n++] = json_number_value(json_object_get(e, "t"));
            CHECK_STR(json_string_value(json_object_get(e, "api_key")), APIKEY);
        }
    json_decref(log);
    CHECK_EQ(n, 12);
    /* never more than 5 in any one-second window: request i+5 comes at
     * least 1 s after request i (20 ms of slack for delivery jitter) */
    for (i = 0; i + 5 < n; i++)
        if (ts[i + 5] - ts[i] < 0.98)
            TAP_FAIL("requests %zu and %zu only %.3f s apart", i, i + 5, ts[i + 5] - ts[i]);
    /* a read whose slot would come after its deadline fails at once */
    {
        int64_t t0 = mono();
        int rc = SB_ETIMEDOUT + 1;
        /* a burst: the 2nd read within 200 ms cannot get a slot in 50 ms */
        read_pts(st, a, 1, it, 2000, err);
        rc = read_pts(st, a, 1, it, 50, err);
        CHECK_EQ(rc, SB_ETIMEDOUT);
        CHECK(strstr(err, "rate limit") != NULL);
        CHECK_INT(mono() - t0, <, 600);
    }
    unbind_all(&sb_driver_rest, st, a, 1);
    unbind_all(&sb_driver_rest, st, b, 1);
    sb_driver_rest.free(st);
}

TEST(status_cache)
{
    void *st = rest_new("", "");         /* kc keeps the default 1000 ms cache */
    struct tp a[1];
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, a, 1, tstat_addr("kc", "rt-101", "humidity"),
                    SB_UNIT_PERCENT_RH, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 41.0, 1e-9);
    CHECK_EQ(seen("GET", "/kapi/v1/thermostats/rt-101/status"), 1);
    sleep_ms(1050);
    CHECK_EQ(read_pts(st, a, 1, it, 3000, e), 0);
    CHECK_EQ(seen("GET", "/kapi/v1/thermostats/rt-101/status"), 2);
    unbind_all(&sb_driver_rest, st, a, 1);
    sb_driver_rest.free(st);
}

/* ---- writes ------------------------------------------------------------- */

static int do_write(void *st, struct tp *t, double v, int relinquish, char *err)
{
    struct sb_drv_write w = { .pt = &t->p, .value = v, .relinquish = relinquish };
    int rc = sb_driver_rest.write(st, t->key, &w, 3000);
    snprintf(err, SB_DRV_ERR_MAX, "%s", w.err);
    return rc;
}

TEST(writes)
{
    void *st = rest_new("", "");
    struct tp hs, hold, mode, temp;
    struct sb_drv_item it[1];
    char e[SB_DRV_ERR_MAX];
    json_t *r;
    const char *sp = "/tapi/v1/thermostats/rt-101/setpoints";

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    REQUIRE(bind_pt(&sb_driver_rest, st, &hs, 1, tstat_addr("tc", "rt-101", "heating_setpoint"),
                    SB_UNIT_CELSIUS, 1, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, &hold, 2, tstat_addr("tc", "rt-101", "hold"),
                    SB_UNIT_NONE, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, &mode, 3, tstat_addr("tc", "rt-101", "mode"),
                    SB_UNIT_NONE, 1, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, &temp, 4, tstat_addr("tc", "rt-101", "temperature"),
                    SB_UNIT_NONE, 0, e) == 0);
    CHECK_EQ(do_write(st, &hs, 22.5, 0, e), 0);
    r = logged(sp, -1);
    REQUIRE(r);
    CHECK_STR(json_string_value(json_object_get(r, "method")), "PUT");
    CHECK_STR(json_string_value(json_object_get(r, "body")), "{\"heating\":22.5}");
    json_decref(r);
    CHECK_EQ(read_pts(st, &hs, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 22.5, 1e-9);
    CHECK_EQ(read_pts(st, &hold, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 1, 0);
    /* the device refuses: its reason comes back */
    CHECK_EQ(do_write(st, &hs, 40, 0, e), SB_EPROTO);
    CHECK(strstr(e, "422") != NULL);
    CHECK(strstr(e, "outside 5..35") != NULL);
    /* enums go out by name */
    CHECK_EQ(do_write(st, &mode, 4, 0, e), 0);
    r = logged("/tapi/v1/thermostats/rt-101/mode", -1);
    REQUIRE(r);
    CHECK_STR(json_string_value(json_object_get(r, "body")), "{\"mode\":\"eco\"}");
    json_decref(r);
    CHECK_EQ(read_pts(st, &mode, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 4, 0);
    /* nothing is sent for values the profile or the point cannot take */
    CHECK_EQ(do_write(st, &mode, 7, 0, e), SB_EINVAL);
    CHECK_EQ(seen("PUT", "/tapi/v1/thermostats/rt-101/mode"), 1);
    hs.p.max = 30;
    CHECK_EQ(do_write(st, &hs, 31, 0, e), SB_ERANGE);
    CHECK_EQ(do_write(st, &hs, NAN, 0, e), SB_ERANGE);
    CHECK_EQ(seen("PUT", sp), 2);
    CHECK_EQ(do_write(st, &temp, 20, 0, e), SB_ENOTSUP);
    CHECK_EQ(do_write(st, &mode, NAN, 1, e), SB_ENOTSUP);  /* no relinquish for mode */
    /* relinquish: back to the schedule */
    CHECK_EQ(do_write(st, &hs, NAN, 1, e), 0);
    CHECK_EQ(seen("DELETE", "/tapi/v1/thermostats/rt-101/hold"), 1);
    CHECK_EQ(read_pts(st, &hs, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 21.0, 1e-9);
    CHECK_EQ(read_pts(st, &hold, 1, it, 3000, e), 0);
    CHECK_DBL(it[0].v, 0, 0);
    unbind_all(&sb_driver_rest, st, &hs, 1);
    unbind_all(&sb_driver_rest, st, &hold, 1);
    unbind_all(&sb_driver_rest, st, &mode, 1);
    unbind_all(&sb_driver_rest, st, &temp, 1);
    sb_driver_rest.free(st);
}

/* ---- odd answers -------------------------------------------------------- */

TEST(per_point_errors)
{
    void *st = rest_new("", "");
    struct tp a[3], u[1], nf[1];
    struct sb_drv_item it[3];
    char e[SB_DRV_ERR_MAX], addr[256];

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    /* rt-103 is offline, has a null humidity and a mode outside the enum */
    REQUIRE(bind_pt(&sb_driver_rest, st, &a[0], 1, tstat_addr("kc", "rt-103", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, &a[1], 2, tstat_addr("kc", "rt-103", "humidity"),
                    SB_UNIT_PERCENT_RH, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_rest, st, &a[2], 3, tstat_addr("kc", "rt-103", "mode"),
                    SB_UNIT_NONE, 0, e) == 0);
    CHECK_EQ(read_pts(st, a, 3, it, 3000, e), 0);
    CHECK_EQ(it[0].rc, 0);
    CHECK_DBL(it[0].v, 17.6, 1e-9);
    CHECK_EQ(it[0].q, SB_Q_STALE);
    CHECK_EQ(it[0].t, 1768461160000LL);     /* 2026-01-15T07:12:40Z, as recorded */
    CHECK_EQ(it[1].rc, SB_ENOENT);
    CHECK_EQ(it[2].rc, SB_EPROTO);
    CHECK(strstr(it[2].err, "siesta") != NULL);
    CHECK_EQ(seen("GET", "/kapi/v1/thermostats/rt-103/status"), 1);
    /* a body that is not JSON; an unknown device */
    snprintf(addr, sizeof(addr), "{\"url\":\"%s/open/notjson\",\"path\":\"a\"}", srv);
    REQUIRE(bind_pt(&sb_driver_rest, st, u, 4, addr, SB_UNIT_NONE, 0, e) == 0);
    CHECK_EQ(read_pts(st, u, 1, it, 3000, e), SB_EPROTO);
    REQUIRE(bind_pt(&sb_driver_rest, st, nf, 5, tstat_addr("kc", "rt-999", "temperature"),
                    SB_UNIT_CELSIUS, 0, e) == 0);
    CHECK_EQ(read_pts(st, nf, 1, it, 3000, e), SB_EPROTO);
    CHECK(strstr(e, "404") != NULL && strstr(e, "no thermostat rt-999") != NULL);
    /* items of another device are refused, not mixed up */
    it[0].pt = &a[0].p;
    CHECK_EQ(sb_driver_rest.read(st, "rest:kc/rt-101", it, 1, 1000, e, sizeof(e)), SB_EINVAL);
    unbind_all(&sb_driver_rest, st, a, 3);
    unbind_all(&sb_driver_rest, st, u, 1);
    unbind_all(&sb_driver_rest, st, nf, 1);
    sb_driver_rest.free(st);
}

TEST(url_points)
{
    void *st = rest_new("", "");
    struct tp a[3];
    struct sb_drv_item it[3];
    char e[SB_DRV_ERR_MAX], addr[3][300];
    static const char *const paths[] = { "properties.temperature.value",
        "properties.relativeHumidity.value", "properties.windGust.value" };

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    for (int i = 0; i < 3; i++) {
        snprintf(addr[i], sizeof(addr[i]), "{\"url\":\"%s/open/stations/KBOS/observations/latest\","
                 "\"path\":\"%s\",\"time_path\":\"properties.timestamp\"}", srv, paths[i]);
        REQUIRE(bind_pt(&sb_driver_rest, st, &a[i], (uint32_t)i + 1, addr[i], SB_UNIT_NONE, 0, e) == 0);
    }
    CHECK_STR(a[0].key, a[2].key);
    CHECK_EQ(read_pts(st, a, 3, it, 3000, e), 0);
    CHECK_EQ(it[0].rc, 0);
    CHECK_DBL(it[0].v, -2.8, 1e-9);
    CHECK_EQ(it[0].t, 1768474440000LL);     /* 2026-01-15T10:54:00+00:00 */
    CHECK_DBL(it[1].v, 63.07, 1e-9);
    CHECK_EQ(it[2].rc, SB_ENOENT);          /* null gust */
    CHECK_EQ(seen("GET", "/open/stations/KBOS/observations/latest"), 1);
    unbind_all(&sb_driver_rest, st, a, 3);
    sb_driver_rest.free(st);
}

/* ---- weather ------------------------------------------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *b;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        b[n] = '\0';
    *len = (size_t)n;
    return b;
}

TEST(wx_parse)
{
    size_t len;
    char *body = slurp(DATA "/openmeteo-forecast.json", &len), e[SB_DRV_ERR_MAX];
    struct sb_wx *w = NULL;
    double out[72];
    int64_t times[72], t;
    const struct sb_wx_var *v;

    REQUIRE(body);
    CHECK_EQ(sb_wx_parse(body, len, &w, e, sizeof(e)), 0);
    REQUIRE(w);
    CHECK_EQ(w->ncur, 5);
    CHECK_EQ(w->nhours, 96);
    CHECK_EQ(w->nhourly, 5);
    REQUIRE(sb_time_parse("2026-01-15T10:45:00Z", 20, &t) == 0);
    CHECK_EQ(w->current_t, t);
    REQUIRE((v = sb_wx_current(w, "temperature_2m")) != NULL);
    CHECK_DBL(v->v, -5.0, 1e-9);
    CHECK_STR(v->unit, "°C");
    /* 72 hours from 10:45 start at 10:00 */
    CHECK_EQ(sb_wx_window(w, "temperature_2m", t, 72, out, times), 72);
    REQUIRE(sb_time_parse("2026-01-15T10:00:00Z", 20, &t) == 0);
    CHECK_EQ(times[0], t);
    CHECK_EQ(times[71] - times[0], 71 * 3600000LL);
    CHECK_DBL(out[0], -5.4, 1e-9);
    CHECK_DBL(out[1], -4.8, 1e-9);
    /* the last day: 24 values, then nothing; the last radiation is null */
    REQUIRE(sb_time_parse("2026-01-18T00:00:00Z", 20, &t) == 0);
    CHECK_EQ(sb_wx_window(w, "temperature_2m", t, 72, out, times), 24);
    CHECK(isnan(out[24]) && isnan(out[71]));
    CHECK_EQ(sb_wx_window(w, "shortwave_radiation", t, 24, out, NULL), 23);
    CHECK(isnan(out[23]));
    CHECK_DBL(out[22], 38.8, 1e-9);
    CHECK_EQ(sb_wx_window(w, "dew_point_2m", t, 24, out, NULL), SB_ENOENT);
    sb_wx_free(w);
    free(body);

    /* local times with an offset; unix times; errors */
    {
        const char *local = "{\"utc_offset_seconds\":-18000,\"hourly\":{\"time\":[\"2026-01-15T05:00\","
                            "\"2026-01-15T06:00\"],\"temperature_2m\":[1.5,null]}}";
        const char *unix_t = "{\"current\":{\"time\":1768473900,\"interval\":900,\"temperature_2m\":-5}}";
        const char *error = "{\"error\":true,\"reason\":\"Latitude must be in range of -90 to 90°.\"}";
        const char *mismatch = "{\"hourly\":{\"time\":[\"2026-01-15T05:00\"],\"t\":[1,2]}}";
        const char *backwards = "{\"hourly\":{\"time\":[\"2026-01-15T05:00\",\"2026-01-15T04:00\"],\"t\":[1,2]}}";
        const char *badtime = "{\"hourly\":{\"time\":[\"2026-02-30T05:00\"],\"t\":[1]}}";
        REQUIRE(sb_wx_parse(local, strlen(local), &w, e, sizeof(e)) == 0);
        REQUIRE(sb_time_parse("2026-01-15T10:00:00Z", 20, &t) == 0);
        CHECK_EQ(w->times[0], t);
        CHECK(isnan(sb_wx_hourly(w, "temperature_2m")->series[1]));
        sb_wx_free(w);
        REQUIRE(sb_wx_parse(unix_t, strlen(unix_t), &w, e, sizeof(e)) == 0);
        CHECK_EQ(w->current_t, 1768473900000LL);
        CHECK_EQ(w->ncur, 1);   /* "interval" is not a variable */
        sb_wx_free(w);
        CHECK_EQ(sb_wx_parse(error, strlen(error), &w, e, sizeof(e)), SB_EPROTO);
        CHECK(strstr(e, "Latitude must be") != NULL);
        CHECK_EQ(sb_wx_parse(mismatch, strlen(mismatch), &w, e, sizeof(e)), SB_EPROTO);
        CHECK_EQ(sb_wx_parse(backwards, strlen(backwards), &w, e, sizeof(e)), SB_EPROTO);
        CHECK_EQ(sb_wx_parse(badtime, strlen(badtime), &w, e, sizeof(e)), SB_EPROTO);
        CHECK_EQ(sb_wx_parse("{}", 2, &w, e, sizeof(e)), SB_EPROTO);
        CHECK_EQ(sb_wx_parse("[1", 2, &w, e, sizeof(e)), SB_EPROTO);
    }
}

static void *wx_new(const char *extra, char *e)
{
    char *text = NULL;
    json_t *c;
    void *st = NULL;

    if (asprintf(&text, "{\"url\":\"%s/open/v1/forecast\",\"latitude\":42.36,\"longitude\":-71.06,"
                 "\"refresh_min\":0.01,\"fallback_point\":\"hpo.oat-bms\",\"timeout_ms\":3000%s}",
                 srv, extra) < 0)
        return NULL;
    c = json_loads(text, 0, NULL);
    if (!c || sb_driver_weather.init(NULL, c, &st, e, SB_DRV_ERR_MAX) != 0)
        st = NULL;
    json_decref(c);
    free(text);
    return st;
}

static int wx_read_pts(void *st, struct tp *t, size_t n, struct sb_drv_item *it, char *e)
{
    for (size_t i = 0; i < n; i++) {
        memset(&it[i], 0, sizeof(it[i]));
        it[i].pt = &t[i].p;
    }
    return sb_driver_weather.read(st, t[0].key, it, n, 3000, e, SB_DRV_ERR_MAX);
}

TEST(wx_driver)
{
    char e[SB_DRV_ERR_MAX];
    void *st = wx_new("", e);
    struct tp p[5], bad;
    struct sb_drv_item it[5];
    struct sb_weather_status ws;
    double out[72];
    int64_t times[72], t;
    json_t *r;
    const char *q;

    REQUIRE(st);
    ctl_do("/_ctl/reset", "{}");
    CHECK_EQ(sb_weather_forecast(st, "temperature_2m", 0, 72, out, times), SB_ENOENT);
    CHECK_STR(sb_weather_fallback(st), "hpo.oat-bms");      /* nothing fetched yet */
    REQUIRE(bind_pt(&sb_driver_weather, st, &p[0], 1, "{\"variable\":\"temperature_2m\",\"what\":\"current\"}",
                    SB_UNIT_CELSIUS, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_weather, st, &p[1], 2, "{\"variable\":\"relative_humidity_2m\"}",
                    SB_UNIT_PERCENT_RH, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_weather, st, &p[2], 3, "{\"variable\":\"temperature_2m\"}",
                    SB_UNIT_FAHRENHEIT, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_weather, st, &p[3], 4, "{\"variable\":\"shortwave_radiation\"}",
                    SB_UNIT_NONE, 0, e) == 0);
    REQUIRE(bind_pt(&sb_driver_weather, st, &p[4], 5, "{\"variable\":\"wind_speed_10m\"}",
                    SB_UNIT_NONE, 0, e) == 0);
    CHECK_STR(p[0].key, "weather:42.3600,-71.0600");
    /* bind refusals */
    CHECK_EQ(bind_pt(&sb_driver_weather, st, &bad, 9, "{\"variable\":\"shortwave_radiation\"}",
                     SB_UNIT_CELSIUS, 0, e), SB_EINVAL);
    CHECK_EQ(bind_pt(&sb_driver_weather, st, &bad, 9, "{\"variable\":\"temperature_2m\"}",
                     SB_UNIT_KW, 0, e), SB_EINVAL);
    CHECK_EQ(bind_pt(&sb_driver_weather, st, &bad, 9, "{\"variable\":\"temperature_2m\",\"what\":\"forecast\"}",
                     SB_UNIT_CELSIUS, 0, e), SB_EINVAL);
    CHECK_EQ(bind_pt(&sb_driver_weather, st, &bad, 9, "{\"variable\":\"a&b=c\"}", SB_UNIT_NONE, 0, e),
             SB_EINVAL);
    CHECK_EQ(bind_pt(&sb_driver_weather, st, &bad, 9, "{\"variable\":\"temperature_2m\"}",
                     SB_UNIT_CELSIUS, 1, e), SB_EINVAL);

    CHECK_EQ(wx_read_pts(st, p, 5, it, e), 0);
    REQUIRE(sb_time_parse("2026-01-15T10:45:00Z", 20, &t) == 0);
    CHECK_DBL(it[0].v, -5.0, 1e-9);
    CHECK_DBL(it[1].v, 78, 1e-9);
    CHECK_DBL(it[2].v, 23.0, 1e-9);         /* -5 °C = 23 °F */
    CHECK_DBL(it[3].v, 0.0, 1e-9);
    CHECK_DBL(it[4].v, 5.2, 1e-9);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(it[i].rc, 0);
        CHECK_EQ(it[i].t, t);
    }
    r = logged("/open/v1/forecast", -1);
    REQUIRE(r);
    q = json_string_value(json_object_get(r, "query"));
    CHECK(strstr(q, "latitude=42.3600&longitude=-71.0600") != NULL);
    CHECK(strstr(q, "hourly=temperature_2m,relative_humidity_2m,shortwave_radiation,"
                    "wind_speed_10m,cloud_cover") != NULL);
    CHECK(strstr(q, "current=temperature_2m,") != NULL);
    CHECK(strstr(q, "forecast_days=4") != NULL);
    CHECK(strstr(q, "timezone=GMT") != NULL);
    CHECK(strstr(q, "wind_speed_unit=ms") != NULL);
    json_decref(r);
    CHECK(sb_weather_fallback(st) == NULL);
    CHECK_EQ(sb_weather_forecast(st, "temperature_2m", t, 72, out, times), 72);
    CHECK_DBL(out[0], -5.4, 1e-9);
    CHECK_EQ(sb_weather_forecast(st, "cloud_cover", t, 72, out, NULL), 72);
    CHECK_EQ(sb_weather_forecast(st, "no_such", t, 72, out, NULL), SB_ENOENT);
    CHECK_EQ(sb_weather_forecast(st, "temperature_2m", t, 0, out, NULL), SB_EINVAL);

    /* cached: no second request within refresh_min (0.6 s) */
    CHECK_EQ(wx_read_pts(st, p, 5, it, e), 0);
    CHECK_EQ(seen("GET", "/open/v1/forecast"), 1);
    sleep_ms(650);
    CHECK_EQ(wx_read_pts(st, p, 1, it, e), 0);
    CHECK_EQ(seen("GET", "/open/v1/forecast"), 2);

    /* the service goes down: reads fail, the forecast stays, marked stale */
    ctl_do("/_ctl/config", "{\"forecast_status\":500}");
    sleep_ms(650);
    CHECK_EQ(wx_read_pts(st, p, 5, it, e), SB_EIO);
    CHECK(strstr(e, "HTTP 500") != NULL && strstr(e, "service unavailable") != NULL);
    CHECK_STR(sb_weather_fallback(st), "hpo.oat-bms");
    sb_weather_status(st, &ws);
    CHECK(ws.have && ws.stale);
    CHECK_EQ(ws.current_ms, t);
    CHECK(strstr(ws.err, "500") != NULL);
    CHECK_EQ(sb_weather_forecast(st, "temperature_2m", t, 72, out, times), 72);
    CHECK_DBL(out[1], -4.8, 1e-9);
    /* ... and comes back */
    ctl_do("/_ctl/config", "{\"forecast_status\":200}");
    CHECK_EQ(wx_read_pts(st, p, 5, it, e), 0);
    CHECK(sb_weather_fallback(st) == NULL);
    sb_weather_status(st, &ws);
    CHECK(ws.have && !ws.stale && ws.err[0] == '\0');
    CHECK_EQ(ws.fetches, 4);
    unbind_all(&sb_driver_weather, st, p, 5);
    sb_driver_weather.free(st);

    /* the service refuses a variable: its reason is reported */
    st = wx_new(",\"variables\":[\"soil_moisture_0_to_1cm\"]", e);
    REQUIRE(st);
    CHECK_EQ(sb_weather_refresh(st, 3000, e, sizeof(e)), SB_EPROTO);
    CHECK(strstr(e, "HTTP 400") != NULL && strstr(e, "soil_moisture_0_to_1cm") != NULL);
    sb_driver_weather.free(st);
    /* refresh works with no point bound; a fresh forecast means no fallback */
    st = wx_new(",\"fallback_point\":\"x\",\"refresh_min\":5", e);
    REQUIRE(st);
    CHECK_EQ(sb_weather_refresh(st, 3000, e, sizeof(e)), 0);
    CHECK(sb_weather_fallback(st) == NULL);
    CHECK_EQ(sb_weather_forecast(st, "wind_speed_10m", t, 72, out, NULL), 72);
    sb_driver_weather.free(st);
    /* configuration errors */
    {
        json_t *c = json_loads("{\"latitude\":91,\"longitude\":0}", 0, NULL);
        CHECK_EQ(sb_driver_weather.init(NULL, c, &st, e, sizeof(e)), SB_ECONFIG);
        json_decref(c);
        c = json_loads("{\"longitude\":0}", 0, NULL);
        CHECK_EQ(sb_driver_weather.init(NULL, c, &st, e, sizeof(e)), SB_ECONFIG);
        json_decref(c);
        c = json_loads("{\"latitude\":1,\"longitude\":0,\"refresh\":3}", 0, NULL);
        CHECK_EQ(sb_driver_weather.init(NULL, c, &st, e, sizeof(e)), SB_ECONFIG);
        json_decref(c);
        CHECK_EQ(sb_driver_weather.init(NULL, NULL, &st, e, sizeof(e)), SB_ECONFIG);
    }
}

/* Every line the drivers logged, scanned for secrets (run last). */
TEST(no_secrets_logged)
{
    size_t len = 0;
    char *text = slurp(logpath, &len);
    json_t *log = ctl("/_ctl/log", NULL), *e;
    size_t i;

    REQUIRE(text);
    CHECK(strstr(text, "rest:") != NULL || strstr(text, "API") != NULL);  /* it did log */
    CHECK(strstr(text, SECRET) == NULL);
    CHECK(strstr(text, "3cr3t") == NULL);
    CHECK(strstr(text, APIKEY) == NULL);
    json_array_foreach(log, i, e) {
        const char *tok = json_string_value(json_object_get(e, "token"));
        if (tok && strstr(text, tok))
            TAP_FAIL("token of request %zu in the log", i);
    }
    json_decref(log);
    free(text);
}

int main(void)
{
    struct sb_log_settings ls = { .level = SB_LOG_TRACE, .format = SB_LOG_FMT_TEXT,
                                  .timestamps = true, .rate_limit = 0, .rate_window_ms = 1000 };
    int fd;

    TAP_START();
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    root = mkdtemp(tmpl);
    if (!root || srv_start() != 0) {
        printf("Bail out! cannot start %s (run from the repository root)\n", SERVER);
        srv_stop();
        return 1;
    }
    snprintf(logpath, sizeof(logpath), "%s/driver.log", root);
    fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    sb_log_configure(&ls, NULL, 0);
    sb_log_set_fd(fd);

    RUN(jpath);
    RUN(profile);
    RUN(templates);
    RUN(config);
    RUN(bind);
    RUN(batch_and_token_reuse);
    RUN(token_refresh_before_expiry);
    RUN(token_refresh_on_401);
    RUN(bad_client_secret);
    RUN(retry_after_429);
    RUN(backoff_5xx);
    RUN(timeout);
    RUN(rate_limit);
    RUN(status_cache);
    RUN(writes);
    RUN(per_point_errors);
    RUN(url_points);
    RUN(wx_parse);
    RUN(wx_driver);
    RUN(no_secrets_logged);

    sb_log_set_fd(2);
    close(fd);
    unlink(logpath);
    srv_stop();
    rmdir(root);
    curl_global_cleanup();
    TAP_END();
}

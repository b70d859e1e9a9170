/* rest.c - the cloud REST API driver (see rest.h, docs/internals/rest.md). */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/paths.h"
#include "core/log.h"
#include "drivers/rest/http.h"
#include "drivers/jpath.h"
#include "drivers/rest/oauth.h"
#include "drivers/rest/pace.h"
#include "drivers/rest/profile.h"
#include "drivers/rest/rconf.h"
#include "drivers/rest/rest.h"
#include "store/sample.h"

#define MOD              "rest"
#define MAX_APIS         32
#define RETRY_DEFAULT_MS 30000     /* 429 without Retry-After */
#define SECRET_MAX       4096

enum auth_type { AUTH_NONE, AUTH_KEY, AUTH_OAUTH };

/* One configured cloud API. */
struct api {
    char name[SB_REST_NAME_MAX + 1]; /* "hvac-cloud"; "" for bare URLs */
    char *base_url;               /* "https://api.example/v1", or NULL */
    enum auth_type auth;          /* how requests authenticate */
    char *key_header;             /* AUTH_KEY: "X-Api-Key: <key>" (secret) */
    struct sb_rest_oauth oauth;   /* AUTH_OAUTH: token cache */
    struct sb_rest_profile *profile; /* device profile, or NULL */
    struct sb_rest_pace pace;     /* max_rps and Retry-After */
    int64_t timeout_ms;           /* per request */
    int64_t status_cache_ms;      /* reuse a status document this long */
    int64_t backoff_ms;           /* first 5xx backoff, doubled per failure */
    int64_t backoff_max_ms;       /* cap of that backoff */
    size_t max_body;              /* largest response accepted */
    char *ca_file;                /* CA bundle, or NULL */
    int ready;                    /* pace (and oauth) initialised */
};

/* One device: what points with the same key share. */
struct dev {
    char key[SB_DRV_KEY_MAX];     /* "rest:<api>/<id>" or "rest:<url>" */
    struct api *api;              /* its API (borrowed) */
    char *device;                 /* device id, NULL for a bare URL */
    char *url;                    /* status (or resource) URL */
    pthread_mutex_t mu;           /* one request at a time; guards below */
    CURL *curl;                   /* its handle (keeps the connection) */
    json_t *cache;                /* last status document, or NULL */
    int64_t cache_at;             /* monotonic ms it arrived */
    int64_t backoff_until;        /* monotonic ms: no request before (5xx) */
    unsigned fails;               /* consecutive 5xx */
    long backoff_status;          /* the 5xx that started the backoff */
    unsigned refs;                /* bound points */
};

/* The driver instance. */
struct rest {
    struct sb_drv *drv;           /* framework handle */
    struct api *apis;             /* apis[napis] */
    size_t napis;
    struct api bare;              /* for {"url"} points without "api" */
    char *user_agent;             /* User-Agent value */
    pthread_mutex_t mu;           /* guards devs (bind runs while workers read) */
    struct dev **devs;            /* every device ever bound, freed in free() */
    size_t ndevs, capdevs;
    atomic_int stop;              /* stop() called: end waits */
};

/* ---- configuration ------------------------------------------------------ */

static int header_name_ok(const char *s)
{
    /* RFC 9110 section 5.6.2 tchar */
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("!#$%&'*+-.^_`|~", *p)))
            return 0;
    return *s != '\0';
}

static int conf_api_key(struct api *a, const json_t *au, const char *where, char *err,
                        size_t errlen)
{
    static const char *const keys[] = { "type", "header", "key", NULL };
    const char *hdr, *key;
    size_t n;

    if (sb_rest__conf_keys(au, keys, where, err, errlen) ||
        sb_rest__conf_str(au, "header", 64, 0, &hdr, where, err, errlen) ||
        sb_rest__conf_str(au, "key", SECRET_MAX, 1, &key, where, err, errlen))
        return SB_ECONFIG;
    if (!hdr)
        hdr = "X-Api-Key";
    if (!header_name_ok(hdr)) {
        sb_errf(err, errlen, "%s.header: an HTTP field name", where);
        return SB_ECONFIG;
    }
    n = strlen(hdr) + strlen(key) + 3;
    if (!(a->key_header = malloc(n)))
        return SB_ENOMEM;
    snprintf(a->key_header, n, "%s: %s", hdr, key);
    a->auth = AUTH_KEY;
    return 0;
}

static int conf_oauth(struct api *a, const json_t *au, const char *where, char *err,
                      size_t errlen)
{
    static const char *const keys[] = { "type", "token_url", "client_id", "client_secret",
                                        "scope", "client_auth", NULL };
    const char *url, *id, *secret, *scope, *ca;
    char w[128];
    int rc;

    if (sb_rest__conf_keys(au, keys, where, err, errlen) ||
        sb_rest__conf_str(au, "token_url", 1024, 1, &url, where, err, errlen) ||
        sb_rest__conf_str(au, "client_id", 512, 1, &id, where, err, errlen) ||
        sb_rest__conf_str(au, "client_secret", 512, 1, &secret, where, err, errlen) ||
        sb_rest__conf_str(au, "scope", 512, 0, &scope, where, err, errlen) ||
        sb_rest__conf_str(au, "client_auth", 8, 0, &ca, where, err, errlen))
        return SB_ECONFIG;
    snprintf(w, sizeof(w), "%s.token_url", where);
    if ((rc = sb_rest_url_check(url, 1, w, err, errlen)) != 0)
        return rc;
    if (ca && strcmp(ca, "basic") != 0 && strcmp(ca, "body") != 0) {
        sb_errf(err, errlen, "%s.client_auth: \"basic\" or \"body\"", where);
        return SB_ECONFIG;
    }
    rc = sb_rest_oauth_init(&a->oauth, url, id, secret, scope, ca && strcmp(ca, "body") == 0);
    a->auth = AUTH_OAUTH;           /* release what init made, even on failure */
    if (rc != 0)
        sb_errf(err, errlen, "%s: cannot set up the token cache", where);
    return rc;
}

static int conf_auth(struct api *a, const json_t *au, const char *where, char *err,
                     size_t errlen)
{
    const char *type;
    char w[112];

    snprintf(w, sizeof(w), "%s.auth", where);
    if (!au)
        return 0;
    if (sb_rest__conf_str(au, "type", 40, 1, &type, w, err, errlen))
        return SB_ECONFIG;
    if (strcmp(type, "none") == 0) {
        static const char *const keys[] = { "type", NULL };
        return sb_rest__conf_keys(au, keys, w, err, errlen);
    }
    if (strcmp(type, "api_key") == 0)
        return conf_api_key(a, au, w, err, errlen);
    if (strcmp(type, "oauth2_client_credentials") == 0)
        return conf_oauth(a, au, w, err, errlen);
    sb_errf(err, errlen, "%s.type: \"oauth2_client_credentials\", \"api_key\" or \"none\"", w);
    return SB_ECONFIG;
}

static int conf_profile(struct api *a, const json_t *pr, const char *dir, const char *where,
                        char *err, size_t errlen)
{
    char e[SB_DRV_ERR_MAX];
    int rc;

    if (!pr)
        return 0;
    if (json_is_string(pr))
        rc = sb_rest_profile_load(dir, json_string_value(pr), &a->profile, e, sizeof(e));
    else
        rc = sb_rest_profile_parse(pr, &a->profile, e, sizeof(e));
    if (rc != 0) {
        sb_errf(err, errlen, "%s.profile: %s", where, e);
        return rc == SB_ENOMEM ? SB_ENOMEM : SB_ECONFIG;
    }
    return 0;
}

/* Numbers shared by named APIs and the bare-URL defaults. */
static int conf_limits(struct api *a, const json_t *o, const char *where, char *err,
                       size_t errlen)
{
    double tmo, rps, cache, bo, bomax, maxb;
    const char *ca;

    if (sb_rest__conf_num(o, "timeout_ms", 100, 120000, 5000, &tmo, where, err, errlen) ||
        sb_rest__conf_num(o, "max_rps", 0.01, 1000, 5, &rps, where, err, errlen) ||
        sb_rest__conf_num(o, "status_cache_ms", 0, 3600000, 1000, &cache, where, err, errlen) ||
        sb_rest__conf_num(o, "backoff_ms", 10, 600000, 1000, &bo, where, err, errlen) ||
        sb_rest__conf_num(o, "backoff_max_ms", 10, 3600000, 60000, &bomax, where, err, errlen) ||
        sb_rest__conf_num(o, "max_body", 1024, 64 << 20, 1 << 20, &maxb, where, err, errlen) ||
        sb_rest__conf_str(o, "ca_file", 1024, 0, &ca, where, err, errlen))
        return SB_ECONFIG;
    a->timeout_ms = (int64_t)tmo;
    a->status_cache_ms = (int64_t)cache;
    a->backoff_ms = (int64_t)bo;
    a->backoff_max_ms = (int64_t)(bomax < bo ? bo : bomax);
    a->max_body = (size_t)maxb;
    if (ca && !(a->ca_file = strdup(ca)))
        return SB_ENOMEM;
    if (sb_rest_pace_init(&a->pace, rps) != 0)
        return SB_EIO;
    a->ready = 1;
    return 0;
}

static int conf_api(struct api *a, const char *name, const json_t *o, const char *dir,
                    char *err, size_t errlen)
{
    static const char *const keys[] = { "base_url", "auth", "profile", "timeout_ms", "max_rps",
                                        "status_cache_ms", "backoff_ms", "backoff_max_ms",
                                        "max_body", "ca_file", NULL };
    const char *base;
    char where[96], w[128];
    int rc;

    snprintf(where, sizeof(where), "apis.%.64s", name);
    if (!sb_rest_name_ok(name)) {
        sb_errf(err, errlen, "%s: API names are 1..%d of [A-Za-z0-9_-]", where, SB_REST_NAME_MAX);
        return SB_ECONFIG;
    }
    snprintf(a->name, sizeof(a->name), "%s", name);
    if (sb_rest__conf_keys(o, keys, where, err, errlen) ||
        sb_rest__conf_str(o, "base_url", 1024, 1, &base, where, err, errlen))
        return SB_ECONFIG;
    if ((rc = conf_limits(a, o, where, err, errlen)) != 0 ||
        (rc = conf_auth(a, json_object_get(o, "auth"), where, err, errlen)) != 0)
        return rc;
    snprintf(w, sizeof(w), "%s.base_url", where);
    if ((rc = sb_rest_url_check(base, a->auth != AUTH_NONE, w, err, errlen)) != 0)
        return rc;
    if (!(a->base_url = strdup(base)))
        return SB_ENOMEM;
    return conf_profile(a, json_object_get(o, "profile"), dir, where, err, errlen);
}

static void api_release(struct api *a)
{
    if (a->auth == AUTH_OAUTH)
        sb_rest_oauth_release(&a->oauth);
    if (a->ready)
        sb_rest_pace_release(&a->pace);
    sb_rest_secret_free(a->key_header);
    sb_rest_profile_free(a->profile);
    free(a->base_url);
    free(a->ca_file);
}

static int conf_apis(struct rest *st, const json_t *apis, const char *dir, char *err,
                     size_t errlen)
{
    const char *k;
    json_t *v;
    int rc;

    if (!apis)
        return 0;
    if (!json_is_object(apis) || json_object_size(apis) > MAX_APIS) {
        sb_errf(err, errlen, "apis: an object of at most %d APIs", MAX_APIS);
        return SB_ECONFIG;
    }
    if (!(st->apis = calloc(json_object_size(apis) + 1, sizeof(*st->apis))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)apis, k, v) {
        rc = conf_api(&st->apis[st->napis++], k, v, dir, err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int conf_top(struct rest *st, const json_t *conf, char *err, size_t errlen)
{
    static const char *const keys[] = { "apis", "profile_dir", "user_agent", "timeout_ms",
                                        "max_rps", "status_cache_ms", "backoff_ms",
                                        "backoff_max_ms", "max_body", "ca_file", NULL };
    const char *dir, *ua;
    int rc;

    if (conf && sb_rest__conf_keys(conf, keys, "rest", err, errlen))
        return SB_ECONFIG;
    if (sb_rest__conf_str(conf, "profile_dir", 1024, 0, &dir, "rest", err, errlen) ||
        sb_rest__conf_str(conf, "user_agent", 128, 0, &ua, "rest", err, errlen))
        return SB_ECONFIG;
    if (!(st->user_agent = strdup(ua ? ua : "sbems")))
        return SB_ENOMEM;
    if ((rc = conf_limits(&st->bare, conf, "rest", err, errlen)) != 0)
        return rc;
    char shipped[1024];
    if (!dir)   /* the shipped profiles, in the tree or installed (core/paths.h) */
        dir = sb_path_data("profiles", shipped, sizeof(shipped)) ? "profiles" : shipped;
    return conf_apis(st, json_object_get(conf, "apis"), dir, err, errlen);
}

static void rest_free(void *state);

static int rest_init(struct sb_drv *drv, const json_t *conf, void **state, char *err,
                     size_t errlen)
{
    struct rest *st = calloc(1, sizeof(*st));
    json_t *empty = NULL;
    int rc;

    *state = NULL;
    if (!st)
        return SB_ENOMEM;
    st->drv = drv;
    if (pthread_mutex_init(&st->mu, NULL) != 0 || sb_rest_http_global_init() != 0) {
        free(st);
        sb_errf(err, errlen, "cannot initialise libcurl");
        return SB_EIO;
    }
    if (!conf)
        conf = empty = json_object();
    rc = conf ? conf_top(st, conf, err, errlen) : SB_ENOMEM;
    json_decref(empty);
    if (rc != 0) {
        if (rc == SB_ENOMEM)
            sb_errf(err, errlen, "out of memory");
        rest_free(st);
        return rc;
    }
    SB_INFO(MOD, "%zu API(s) configured", st->napis);
    *state = st;
    return 0;
}

/* ---- devices ------------------------------------------------------------ */

static struct api *find_api(struct rest *st, const char *name)
{
    for (size_t i = 0; i < st->napis; i++)
        if (strcmp(st->apis[i].name, name) == 0)
            return &st->apis[i];
    return NULL;
}

static void dev_free(struct dev *d)
{
    if (!d)
        return;
    if (d->curl)
        curl_easy_cleanup(d->curl);
    json_decref(d->cache);
    pthread_mutex_destroy(&d->mu);
    free(d->device);
    free(d->url);
    free(d);
}

static struct dev *dev_new(const char *key, struct api *api, const char *device, char *url)
{
    struct dev *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    if (pthread_mutex_init(&d->mu, NULL) != 0) {
        free(d);
        return NULL;
    }
    snprintf(d->key, sizeof(d->key), "%s", key);
    d->api = api;
    d->url = url;
    d->curl = curl_easy_init();
    if ((device && !(d->device = strdup(device))) || !d->curl) {
        d->url = NULL;
        dev_free(d);
        return NULL;
    }
    return d;
}

/* The device with key, made if new; takes url on success.  st->mu held. */
static int dev_get(struct rest *st, const char *key, struct api *api, const char *device,
                   char *url, struct dev **out)
{
    struct dev *d;

    for (size_t i = 0; i < st->ndevs; i++)
        if (strcmp(st->devs[i]->key, key) == 0) {
            *out = st->devs[i];
            (*out)->refs++;
            free(url);
            return 0;
        }
    if (st->ndevs == st->capdevs) {
        size_t nc = st->capdevs ? st->capdevs * 2 : 16;
        struct dev **nv = realloc(st->devs, nc * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        st->devs = nv;
        st->capdevs = nc;
    }
    if (!(d = dev_new(key, api, device, url)))
        return SB_ENOMEM;
    d->refs = 1;
    st->devs[st->ndevs++] = d;
    *out = d;
    return 0;
}

/* ---- bind --------------------------------------------------------------- */

static int bind_profile(struct rest *st, struct sb_drv_point *pt, struct sb_rest_addr *a,
                        struct api **api, char **url, char *key, size_t keycap,
                        char *err, size_t errlen)
{
    if (!(*api = find_api(st, a->api))) {
        sb_errf(err, errlen, "address.api: no API \"%s\" in the driver configuration", a->api);
        return SB_EINVAL;
    }
    if (!(*api)->profile) {
        sb_errf(err, errlen, "address.api: API \"%s\" has no profile", a->api);
        return SB_EINVAL;
    }
    if (!(a->pp = sb_rest_profile_point((*api)->profile, a->name))) {
        sb_errf(err, errlen, "address.name: profile %s has no point \"%s\"",
                (*api)->profile->name, a->name);
        return SB_EINVAL;
    }
    if (pt->writable && !a->pp->write) {
        sb_errf(err, errlen, "address.name: \"%s\" is read-only in profile %s",
                a->name, (*api)->profile->name);
        return SB_EINVAL;
    }
    if ((size_t)snprintf(key, keycap, "rest:%s/%s", a->api, a->device) >= keycap) {
        sb_errf(err, errlen, "address: device key too long");
        return SB_EINVAL;
    }
    if (sb_rest_url((*api)->base_url, (*api)->profile->status.url, a->device, NULL, url)) {
        sb_errf(err, errlen, "address: status URL of device \"%s\" too long", a->device);
        return SB_EINVAL;
    }
    return 0;
}

static int bind_url(struct rest *st, struct sb_drv_point *pt, struct sb_rest_addr *a,
                    struct api **api, char **url, char *key, size_t keycap,
                    char *err, size_t errlen)
{
    *api = &st->bare;
    if (a->api[0] && !(*api = find_api(st, a->api))) {
        sb_errf(err, errlen, "address.api: no API \"%s\" in the driver configuration", a->api);
        return SB_EINVAL;
    }
    if (pt->writable) {
        sb_errf(err, errlen, "address: a {\"url\",\"path\"} point is read-only");
        return SB_EINVAL;
    }
    if (sb_rest_url((*api)->base_url, a->url, NULL, NULL, url) != 0) {
        sb_errf(err, errlen, "address.url: too long");
        return SB_EINVAL;
    }
    if (!a->api[0] && sb_rest_url_check(*url, 0, "address.url", err, errlen) != 0)
        return SB_EINVAL;
    if ((size_t)snprintf(key, keycap, "rest:%s", *url) >= keycap) {
        sb_errf(err, errlen, "address.url: longer than a device key allows (%zu bytes)",
                keycap - 6);
        return SB_EINVAL;
    }
    return 0;
}

static int rest_bind(void *state, struct sb_drv_point *pt, char *key, size_t keycap,
                     char *err, size_t errlen)
{
    struct rest *st = state;
    struct sb_rest_addr *a = NULL;
    struct api *api = NULL;
    struct dev *d = NULL;
    char *url = NULL;
    int rc;

    if (!pt->address) {
        sb_errf(err, errlen, "address missing");
        return SB_EINVAL;
    }
    if ((rc = sb_rest_addr_parse(pt->address, strlen(pt->address), &a, err, errlen)) != 0)
        return rc;
    rc = a->device ? bind_profile(st, pt, a, &api, &url, key, keycap, err, errlen)
                   : bind_url(st, pt, a, &api, &url, key, keycap, err, errlen);
    if (rc == 0) {
        pthread_mutex_lock(&st->mu);
        rc = dev_get(st, key, api, a->device, url, &d);
        pthread_mutex_unlock(&st->mu);
        if (rc == 0)
            url = NULL;
        else
            sb_errf(err, errlen, "out of memory");
    }
    free(url);
    if (rc != 0) {
        sb_rest_addr_free(a);
        return rc;
    }
    a->dev = d;
    pt->addr = a;
    return 0;
}

static void rest_unbind(void *state, struct sb_drv_point *pt)
{
    struct rest *st = state;
    struct sb_rest_addr *a = pt->addr;

    if (!a)
        return;
    /* The device record stays until free(): a worker may still hold it. */
    pthread_mutex_lock(&st->mu);
    if (a->dev && ((struct dev *)a->dev)->refs)
        ((struct dev *)a->dev)->refs--;
    pthread_mutex_unlock(&st->mu);
    sb_rest_addr_free(a);
    pt->addr = NULL;
}

/* ---- requests ----------------------------------------------------------- */

/* One request to an API and how it went. */
struct call {
    const char *method;           /* HTTP method */
    const char *url;              /* absolute URL */
    const char *body;             /* JSON body or NULL */
    struct sb_rest_http_resp rs;  /* the answer (release it) */
};

static int auth_header(struct rest *st, struct api *api, int64_t deadline, char **hdr,
                       uint64_t *gen, char *err, size_t errlen)
{
    struct sb_rest_oauth_ctx ctx = { &api->pace, &st->stop, st->user_agent, api->ca_file,
                                     deadline, api->timeout_ms };
    int rc;

    *hdr = NULL;
    if (api->auth == AUTH_KEY) {
        *hdr = strdup(api->key_header);
        return *hdr ? 0 : SB_ENOMEM;
    }
    if (api->auth != AUTH_OAUTH)
        return 0;
    rc = sb_rest_oauth_header(&api->oauth, &ctx, hdr, gen, err, errlen);
    return rc == SB_EAGAIN ? SB_EIO : rc;
}

static int send_once(struct rest *st, struct dev *d, struct call *c, int64_t deadline,
                     uint64_t *gen, char *err, size_t errlen)
{
    struct api *api = d->api;
    int64_t left;
    char *hdr = NULL;
    int rc;

    if ((rc = auth_header(st, api, deadline, &hdr, gen, err, errlen)) != 0)
        return rc;
    rc = sb_rest_pace_acquire(&api->pace, deadline, &st->stop, err, errlen);
    if (rc == 0) {
        struct sb_rest_http_req rq = { .method = c->method, .url = c->url, .body = c->body,
            .auth_header = hdr, .user_agent = st->user_agent, .ca_file = api->ca_file,
            .max_body = api->max_body };
        left = deadline - sb_rest_mono_ms();
        rq.timeout_ms = left < api->timeout_ms ? left : api->timeout_ms;
        if (rq.timeout_ms > 0)
            rc = sb_rest_http(d->curl, &rq, &c->rs, err, errlen);
        else
            rc = SB_ETIMEDOUT;
        if (rc == SB_ETIMEDOUT)
            sb_errf(err, errlen, "%s: no answer within %lld ms", c->method,
                    (long long)(rq.timeout_ms > 0 ? rq.timeout_ms : 0));
    }
    sb_rest_secret_free(hdr);
    return rc == SB_EAGAIN || rc == SB_ECLOSED ? SB_EIO : rc;
}

static int on_5xx(struct dev *d, const struct sb_rest_http_resp *rs, char *err, size_t errlen)
{
    struct api *api = d->api;
    int64_t delay = api->backoff_ms;

    if (d->fails < 30)
        d->fails++;
    for (unsigned i = 1; i < d->fails && delay < api->backoff_max_ms; i++)
        delay *= 2;
    if (delay > api->backoff_max_ms)
        delay = api->backoff_max_ms;
    if (rs->retry_after_ms > delay)
        delay = rs->retry_after_ms;
    d->backoff_until = sb_rest_mono_ms() + delay;
    d->backoff_status = rs->status;
    sb_errf(err, errlen, "HTTP %ld from the server; backing off %lld ms", rs->status,
            (long long)delay);
    return SB_EIO;
}

static int on_429(struct dev *d, const struct sb_rest_http_resp *rs, char *err, size_t errlen)
{
    struct api *api = d->api;
    int64_t delay = rs->retry_after_ms;

    if (delay < 0)
        delay = RETRY_DEFAULT_MS < api->backoff_max_ms ? RETRY_DEFAULT_MS : api->backoff_max_ms;
    sb_rest_pace_block(&api->pace, sb_rest_mono_ms() + delay, 429);
    SB_WARN(MOD, "api %s: HTTP 429, no requests for %lld ms", api->name[0] ? api->name : "-",
            (long long)delay);
    sb_errf(err, errlen, "HTTP 429 Too Many Requests; retry after %lld ms", (long long)delay);
    return SB_EIO;
}

static int refused(struct dev *d, const struct sb_rest_http_resp *rs, char *err, size_t errlen)
{
    const struct sb_rest_profile *p = d->api->profile;
    char why[120];

    if (rs->status >= 300 && rs->status < 400) {
        sb_errf(err, errlen, "HTTP %ld: redirects are not followed", rs->status);
    } else if (sb_rest_reason(rs->body, rs->len, p ? p->error_path : NULL, why, sizeof(why))) {
        sb_errf(err, errlen, "HTTP %ld: %s", rs->status, why);
    } else {
        sb_errf(err, errlen, "HTTP %ld", rs->status);
    }
    return SB_EPROTO;
}

/* Send c for device d, with the API's auth, pacing and error policy: one
 * retry with a fresh token after a 401, Retry-After on 429, backoff on
 * 5xx.  d->mu held.  Returns 0 for a 2xx answer (c->rs has it). */
static int api_call(struct rest *st, struct dev *d, struct call *c, int64_t deadline,
                    char *err, size_t errlen)
{
    int64_t now = sb_rest_mono_ms();
    uint64_t gen = 0;
    int rc, tries = 0;

    if (now < d->backoff_until) {
        sb_errf(err, errlen, "HTTP %ld earlier; backing off %lld ms more", d->backoff_status,
                (long long)(d->backoff_until - now));
        return SB_EIO;
    }
again:
    if ((rc = send_once(st, d, c, deadline, &gen, err, errlen)) != 0)
        return rc;
    if (c->rs.status >= 200 && c->rs.status < 300) {
        d->fails = 0;
        return 0;
    }
    if (c->rs.status == 401 && d->api->auth == AUTH_OAUTH && tries++ == 0) {
        /* RFC 6750 3.1 invalid_token: the token expired or was revoked early. */
        sb_rest_oauth_invalidate(&d->api->oauth, gen);
        sb_rest_http_resp_release(&c->rs);
        goto again;
    }
    if (c->rs.status == 429)
        return on_429(d, &c->rs, err, errlen);
    if (c->rs.status >= 500)
        return on_5xx(d, &c->rs, err, errlen);
    return refused(d, &c->rs, err, errlen);
}

/* ---- read --------------------------------------------------------------- */

/* The device's status document: the cached one if young enough, else a
 * fresh GET.  d->mu held; *doc is borrowed from d->cache. */
static int status_doc(struct rest *st, struct dev *d, int64_t deadline, const json_t **doc,
                      char *err, size_t errlen)
{
    struct call c = { .method = "GET", .url = d->url };
    json_error_t je;
    json_t *j;
    int rc;

    if (d->cache && sb_rest_mono_ms() - d->cache_at < d->api->status_cache_ms) {
        *doc = d->cache;
        return 0;
    }
    rc = api_call(st, d, &c, deadline, err, errlen);
    if (rc == 0) {
        j = json_loadb(c.rs.body, c.rs.len, 0, &je);
        if (!json_is_object(j) && !json_is_array(j)) {
            sb_errf(err, errlen, "HTTP %ld but the body is not a JSON document (%s)",
                    c.rs.status, j ? "scalar" : je.text);
            json_decref(j);
            rc = SB_EPROTO;
        } else {
            json_decref(d->cache);
            d->cache = j;
            d->cache_at = sb_rest_mono_ms();
            *doc = j;
        }
    }
    sb_rest_http_resp_release(&c.rs);
    return rc;
}

static void fill_item(const struct dev *d, const json_t *doc, int offline,
                      struct sb_drv_item *it)
{
    const struct sb_rest_addr *a = it->pt->addr;
    const struct sb_rest_profile *p = d->api->profile;
    const char *tp = a->pp ? (p ? p->time_path : NULL) : a->time_path;
    const json_t *v;

    it->t = 0;
    it->q = offline ? SB_Q_STALE : 0;
    it->err[0] = '\0';
    if (a->dev != d) {
        it->rc = SB_EINVAL;
        sb_errf(it->err, sizeof(it->err), "point belongs to another device");
        return;
    }
    if (a->pp)
        it->rc = sb_rest_value(a->pp, doc, &it->v, it->err, sizeof(it->err));
    else if ((it->rc = sb_jpath_get(doc, a->path, &v, it->err, sizeof(it->err))) == 0)
        it->rc = sb_jpath_number(v, &it->v, it->err, sizeof(it->err));
    if (it->rc == 0 && tp && sb_rest_time(doc, tp, &it->t) != 0)
        it->t = 0;
}

/* The profile's online flag: a device the cloud reports offline is served
 * from the cloud's last known values, which we mark stale. */
static int is_offline(const struct dev *d, const json_t *doc)
{
    const struct sb_rest_profile *p = d->api->profile;
    const json_t *v;

    if (!d->device || !p || !p->online_path)
        return 0;
    return sb_jpath_get(doc, p->online_path, &v, NULL, 0) == 0 && json_is_false(v);
}

static int lock_dev(struct dev *d, int64_t deadline, char *err, size_t errlen)
{
    struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };

    if (pthread_mutex_clocklock(&d->mu, CLOCK_MONOTONIC, &ts) == 0)
        return 0;
    sb_errf(err, errlen, "device busy past the deadline");
    return SB_ETIMEDOUT;
}

static struct dev *item_dev(const char *key, const struct sb_drv_point *pt)
{
    const struct sb_rest_addr *a = pt ? pt->addr : NULL;
    struct dev *d = a ? a->dev : NULL;

    return d && key && strcmp(d->key, key) == 0 ? d : NULL;
}

static int64_t deadline_of(const struct api *api, int64_t timeout_ms)
{
    return sb_rest_mono_ms() + (timeout_ms > 0 ? timeout_ms : api->timeout_ms);
}

static int rest_read(void *state, const char *key, struct sb_drv_item *items, size_t n,
                     int64_t timeout_ms, char *err, size_t errlen)
{
    struct rest *st = state;
    struct dev *d = n ? item_dev(key, items[0].pt) : NULL;
    const json_t *doc = NULL;
    int64_t deadline;
    int rc, offline;

    if (n == 0)
        return 0;
    if (!d) {
        sb_errf(err, errlen, "point not bound to device %s", key ? key : "?");
        return SB_EINVAL;
    }
    deadline = deadline_of(d->api, timeout_ms);
    if ((rc = lock_dev(d, deadline, err, errlen)) != 0)
        return rc;
    rc = status_doc(st, d, deadline, &doc, err, errlen);
    if (rc == 0) {
        offline = is_offline(d, doc);
        for (size_t i = 0; i < n; i++)
            fill_item(d, doc, offline, &items[i]);
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

/* ---- write -------------------------------------------------------------- */

static int value_text(const struct sb_rest_ppoint *pp, double v, char *out, size_t cap,
                      char *err, size_t errlen)
{
    json_t *j = NULL;
    int rc = sb_rest_value_json(pp, v, &j, err, errlen);

    if (rc == 0 && json_is_string(j))
        snprintf(out, cap, "%s", json_string_value(j));
    else if (rc == 0 && json_is_integer(j))
        snprintf(out, cap, "%lld", (long long)json_integer_value(j));
    else if (rc == 0)
        snprintf(out, cap, "%.15g", json_real_value(j));
    json_decref(j);
    return rc;
}

/* URL and body of the request that writes w.  *url, *body malloc'd. */
static int build_write(const struct dev *d, const struct sb_rest_ppoint *pp,
                       const struct sb_rest_tmpl *t, struct sb_drv_write *w,
                       char **url, char **body)
{
    char vt[96] = "";
    int rc;

    *url = *body = NULL;
    if (!w->relinquish && strstr(t->url, "{value}") &&
        (rc = value_text(pp, w->value, vt, sizeof(vt), w->err, sizeof(w->err))) != 0)
        return rc;
    if (sb_rest_url(d->api->base_url, t->url, d->device, vt, url) != 0) {
        sb_errf(w->err, sizeof(w->err), "request URL too long");
        return SB_EINVAL;
    }
    if (t->body && (rc = sb_rest_body(pp, t->body, d->device, w->value, body, w->err,
                                      sizeof(w->err))) != 0)
        return rc;
    return 0;
}

static int check_write(const struct sb_drv_write *w, const struct sb_rest_ppoint *pp,
                       const struct sb_rest_tmpl **t, char *err, size_t errlen)
{
    const struct sb_drv_point *pt = w->pt;

    *t = !pp ? NULL : w->relinquish ? pp->relinquish : pp->write;
    if (!*t) {
        sb_errf(err, errlen, "the profile has no %s request for this point",
                w->relinquish ? "relinquish" : "write");
        return SB_ENOTSUP;
    }
    if (w->relinquish)
        return 0;
    if (!isfinite(w->value) || (!isnan(pt->min) && w->value < pt->min) ||
        (!isnan(pt->max) && w->value > pt->max)) {
        sb_errf(err, errlen, "value %g outside the point's range %g..%g", w->value,
                pt->min, pt->max);
        return SB_ERANGE;
    }
    return 0;
}

static int rest_write(void *state, const char *key, struct sb_drv_write *w, int64_t timeout_ms)
{
    struct rest *st = state;
    struct dev *d = item_dev(key, w->pt);
    const struct sb_rest_addr *a = d ? w->pt->addr : NULL;
    const struct sb_rest_tmpl *t;
    struct call c = { 0 };
    char *url = NULL, *body = NULL;
    int64_t deadline;
    int rc;

    w->err[0] = '\0';
    if (!d) {
        sb_errf(w->err, sizeof(w->err), "point not bound to device %s", key ? key : "?");
        return SB_EINVAL;
    }
    if ((rc = check_write(w, a->pp, &t, w->err, sizeof(w->err))) != 0 ||
        (rc = build_write(d, a->pp, t, w, &url, &body)) != 0)
        goto out;
    deadline = deadline_of(d->api, timeout_ms);
    if ((rc = lock_dev(d, deadline, w->err, sizeof(w->err))) != 0)
        goto out;
    c = (struct call){ .method = t->method, .url = url, .body = body };
    rc = api_call(st, d, &c, deadline, w->err, sizeof(w->err));
    /* Whatever happened, the cached status may no longer be true. */
    json_decref(d->cache);
    d->cache = NULL;
    pthread_mutex_unlock(&d->mu);
    sb_rest_http_resp_release(&c.rs);
out:
    free(url);
    free(body);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------- */

static int rest_start(void *state)
{
    struct rest *st = state;
    atomic_store(&st->stop, 0);
    return 0;
}

static void rest_stop(void *state)
{
    struct rest *st = state;
    atomic_store(&st->stop, 1);
}

static void rest_free(void *state)
{
    struct rest *st = state;

    if (!st)
        return;
    for (size_t i = 0; i < st->ndevs; i++)
        dev_free(st->devs[i]);
    free(st->devs);
    for (size_t i = 0; i < st->napis; i++)
        api_release(&st->apis[i]);
    free(st->apis);
    api_release(&st->bare);
    free(st->user_agent);
    pthread_mutex_destroy(&st->mu);
    free(st);
    sb_rest_http_global_cleanup();
}

const struct sb_driver_ops sb_driver_rest = {
    .name = "rest",
    .flags = SB_DRV_BLOCKING | SB_DRV_POLLED | SB_DRV_WRITES,
    .init = rest_init,
    .bind = rest_bind,
    .unbind = rest_unbind,
    .start = rest_start,
    .stop = rest_stop,
    .read = rest_read,
    .write = rest_write,
    .discover = NULL,
    .free = rest_free,
};

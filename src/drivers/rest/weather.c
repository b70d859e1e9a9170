/* weather.c - Open-Meteo current conditions and forecast driver (see weather.h). */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "drivers/rest/http.h"
#include "drivers/rest/pace.h"
#include "drivers/rest/rconf.h"
#include "drivers/rest/weather.h"
#include "drivers/rest/wxparse.h"
#include "model/units.h"

#define MOD          "weather"
#define DEFAULT_URL  "https://api.open-meteo.com/v1/forecast"
#define MAX_VARS     24
#define URL_MAX      2048

/* The variables always fetched and the unit Open-Meteo gives them with
 * the query this driver sends (NULL: a unit sbems has no enum for). */
static const struct {
    const char *name;             /* Open-Meteo variable */
    const char *unit;             /* its unit, parsed by sb_unit_parse */
} defaults[] = {
    { "temperature_2m",       "°C" },
    { "relative_humidity_2m", "%" },
    { "shortwave_radiation",  NULL },   /* W/m² */
    { "wind_speed_10m",       NULL },   /* m/s (wind_speed_unit=ms) */
    { "cloud_cover",          "%" },
};

/* A bound point. */
struct wx_addr {
    char variable[SB_WX_NAME_MAX]; /* Open-Meteo variable name */
};

/* The driver instance. */
struct weather {
    struct sb_drv *drv;           /* framework handle */
    char *url;                    /* forecast endpoint, without our query */
    double lat, lon;              /* WGS84 position */
    int days;                     /* forecast_days to ask for */
    int64_t refresh_ms;           /* fetch at most this often */
    int64_t timeout_ms;           /* per request */
    size_t max_body;              /* largest response accepted */
    char *fallback;               /* fallback point slug, or NULL */
    char *user_agent;             /* User-Agent */
    char *ca_file;                /* CA bundle, or NULL */
    char key[SB_DRV_KEY_MAX];     /* "weather:<lat>,<lon>" */
    struct sb_rest_pace pace;     /* max_rps and Retry-After */
    int pace_ready;               /* pace initialised */
    atomic_int stop;              /* stop() called */
    pthread_mutex_t fetch_mu;     /* one fetch at a time; guards curl */
    CURL *curl;                   /* the handle (keeps the connection) */
    pthread_mutex_t mu;           /* guards the fields below */
    char vars[MAX_VARS][SB_WX_NAME_MAX]; /* variables fetched */
    size_t nvars;
    struct sb_wx *fc;             /* last good response, or NULL */
    int64_t fetched_mono;         /* monotonic ms it arrived */
    int64_t fetched_wall;         /* wall-clock ms it arrived */
    int failed;                   /* the last fetch failed */
    uint64_t fetches;             /* requests sent */
    char err[SB_DRV_ERR_MAX];     /* why the last fetch failed */
};

static int var_name_ok(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++)
        if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
            return 0;
    return n >= 1 && n < SB_WX_NAME_MAX;
}

/* Adds name to the fetched set (st->mu held or not yet shared). */
static int add_var(struct weather *st, const char *name)
{
    for (size_t i = 0; i < st->nvars; i++)
        if (strcmp(st->vars[i], name) == 0)
            return 0;
    if (st->nvars == MAX_VARS)
        return SB_ENOSPC;
    snprintf(st->vars[st->nvars++], SB_WX_NAME_MAX, "%s", name);
    return 0;
}

/* ---- configuration ------------------------------------------------------ */

static int conf_vars(struct weather *st, const json_t *arr, char *err, size_t errlen)
{
    size_t i;
    json_t *v;

    for (i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        add_var(st, defaults[i].name);
    if (!arr)
        return 0;
    if (!json_is_array(arr)) {
        sb_errf(err, errlen, "weather.variables: an array of Open-Meteo variable names");
        return SB_ECONFIG;
    }
    json_array_foreach(arr, i, v) {
        if (!var_name_ok(json_string_value(v)) || add_var(st, json_string_value(v)) != 0) {
            sb_errf(err, errlen, "weather.variables[%zu]: [a-z0-9_] names, at most %d in all",
                    i, MAX_VARS);
            return SB_ECONFIG;
        }
    }
    return 0;
}

static int conf_strings(struct weather *st, const json_t *c, char *err, size_t errlen)
{
    const char *url, *fb, *ua, *ca;
    int rc;

    if (sb_rest__conf_str(c, "url", 1024, 0, &url, "weather", err, errlen) ||
        sb_rest__conf_str(c, "fallback_point", 128, 0, &fb, "weather", err, errlen) ||
        sb_rest__conf_str(c, "user_agent", 128, 0, &ua, "weather", err, errlen) ||
        sb_rest__conf_str(c, "ca_file", 1024, 0, &ca, "weather", err, errlen))
        return SB_ECONFIG;
    if (!url)
        url = DEFAULT_URL;
    if ((rc = sb_rest_url_check(url, 0, "weather.url", err, errlen)) != 0)
        return rc;
    if (strchr(url, '#')) {
        sb_errf(err, errlen, "weather.url: no fragment");
        return SB_ECONFIG;
    }
    if (!(st->url = strdup(url)) || !(st->user_agent = strdup(ua ? ua : "sbems")) ||
        (fb && !(st->fallback = strdup(fb))) || (ca && !(st->ca_file = strdup(ca))))
        return SB_ENOMEM;
    return 0;
}

static int conf_weather(struct weather *st, const json_t *c, char *err, size_t errlen)
{
    static const char *const keys[] = { "url", "latitude", "longitude", "hours", "refresh_min",
                                        "timeout_ms", "max_rps", "max_body", "variables",
                                        "fallback_point", "user_agent", "ca_file", NULL };
    double hours, refresh, tmo, rps, maxb;
    int rc;

    if (sb_rest__conf_keys(c, keys, "weather", err, errlen))
        return SB_ECONFIG;
    if (!json_is_number(json_object_get(c, "latitude")) ||
        !json_is_number(json_object_get(c, "longitude"))) {
        sb_errf(err, errlen, "weather.latitude, weather.longitude: required numbers");
        return SB_ECONFIG;
    }
    if (sb_rest__conf_num(c, "latitude", -90, 90, 0, &st->lat, "weather", err, errlen) ||
        sb_rest__conf_num(c, "longitude", -180, 180, 0, &st->lon, "weather", err, errlen) ||
        sb_rest__conf_num(c, "hours", 1, 360, 72, &hours, "weather", err, errlen) ||
        sb_rest__conf_num(c, "refresh_min", 0.01, 1440, 15, &refresh, "weather", err, errlen) ||
        sb_rest__conf_num(c, "timeout_ms", 100, 120000, 10000, &tmo, "weather", err, errlen) ||
        sb_rest__conf_num(c, "max_rps", 0.01, 100, 1, &rps, "weather", err, errlen) ||
        sb_rest__conf_num(c, "max_body", 4096, 64 << 20, 4 << 20, &maxb, "weather", err, errlen))
        return SB_ECONFIG;
    /* The hourly block starts at 00:00 today (UTC with timezone=GMT), so
     * "hours from now" needs up to one more day. */
    st->days = (int)((hours + 24 + 23) / 24);
    if (st->days > 16)
        st->days = 16;              /* the API's maximum */
    st->refresh_ms = (int64_t)(refresh * 60000.0);
    st->timeout_ms = (int64_t)tmo;
    st->max_body = (size_t)maxb;
    if ((rc = conf_strings(st, c, err, errlen)) != 0 ||
        (rc = conf_vars(st, json_object_get(c, "variables"), err, errlen)) != 0)
        return rc;
    snprintf(st->key, sizeof(st->key), "weather:%.4f,%.4f", st->lat, st->lon);
    if (sb_rest_pace_init(&st->pace, rps) != 0)
        return SB_EIO;
    st->pace_ready = 1;
    return 0;
}

static void wx_free(void *state);

static int wx_init(struct sb_drv *drv, const json_t *conf, void **state, char *err,
                   size_t errlen)
{
    struct weather *st = calloc(1, sizeof(*st));
    int rc;

    *state = NULL;
    if (!st)
        return SB_ENOMEM;
    st->drv = drv;
    if (sb_rest_http_global_init() != 0) {
        sb_errf(err, errlen, "cannot initialise libcurl");
        free(st);
        return SB_EIO;
    }
    /* From here on wx_free() undoes everything (it ends the global init). */
    pthread_mutex_init(&st->mu, NULL);
    pthread_mutex_init(&st->fetch_mu, NULL);
    if (!(st->curl = curl_easy_init())) {
        sb_errf(err, errlen, "cannot initialise libcurl");
        rc = SB_EIO;
    } else if (!conf) {
        sb_errf(err, errlen, "weather: configuration with latitude and longitude required");
        rc = SB_ECONFIG;
    } else {
        rc = conf_weather(st, conf, err, errlen);
    }
    if (rc != 0) {
        if (rc == SB_ENOMEM)
            sb_errf(err, errlen, "out of memory");
        wx_free(st);
        return rc;
    }
    *state = st;
    return 0;
}

/* ---- bind --------------------------------------------------------------- */

static const char *default_unit(const char *var, int *known)
{
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (strcmp(defaults[i].name, var) == 0) {
            *known = 1;
            return defaults[i].unit;
        }
    *known = 0;
    return NULL;
}

static int unit_ok(const struct sb_drv_point *pt, const char *var, char *err, size_t errlen)
{
    enum sb_unit native;
    int known;
    const char *u = default_unit(var, &known);

    if (pt->unit == SB_UNIT_NONE || pt->unit == SB_UNIT_INVALID || !known)
        return 0;
    if (!u) {
        sb_errf(err, errlen, "address.variable: %s has a unit sbems cannot convert; "
                "declare the point without a unit", var);
        return SB_EINVAL;
    }
    if (sb_unit_parse(u, &native) != 0 || sb_unit_dim(native) != sb_unit_dim(pt->unit)) {
        sb_errf(err, errlen, "address.variable: %s is in %s; the point's unit %s is not "
                "convertible", var, u, sb_unit_symbol(pt->unit));
        return SB_EINVAL;
    }
    return 0;
}

static int parse_addr(const char *text, char *var, char *err, size_t errlen)
{
    static const char *const keys[] = { "variable", "what", NULL };
    json_t *o = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *v, *what;
    int rc = SB_EINVAL;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "address: a JSON object {\"variable\", \"what\"}");
        goto out;
    }
    if (sb_rest__conf_keys(o, keys, "address", err, errlen))
        goto out;
    v = json_string_value(json_object_get(o, "variable"));
    what = json_string_value(json_object_get(o, "what"));
    if (!var_name_ok(v)) {
        sb_errf(err, errlen, "address.variable: an Open-Meteo variable name ([a-z0-9_])");
        goto out;
    }
    if (json_object_get(o, "what") && (!what || strcmp(what, "current") != 0)) {
        sb_errf(err, errlen, "address.what: only \"current\" (forecasts are read with "
                "sb_weather_forecast)");
        goto out;
    }
    snprintf(var, SB_WX_NAME_MAX, "%s", v);
    rc = 0;
out:
    json_decref(o);
    return rc;
}

static int wx_bind(void *state, struct sb_drv_point *pt, char *key, size_t keycap,
                   char *err, size_t errlen)
{
    struct weather *st = state;
    struct wx_addr *a;
    int rc;

    if (!(a = calloc(1, sizeof(*a))))
        return SB_ENOMEM;
    if ((rc = parse_addr(pt->address, a->variable, err, errlen)) != 0 ||
        (rc = unit_ok(pt, a->variable, err, errlen)) != 0)
        goto fail;
    if (pt->writable) {
        sb_errf(err, errlen, "address: weather points are read-only");
        rc = SB_EINVAL;
        goto fail;
    }
    pthread_mutex_lock(&st->mu);
    rc = add_var(st, a->variable);
    pthread_mutex_unlock(&st->mu);
    if (rc != 0) {
        sb_errf(err, errlen, "address.variable: more than %d variables in all", MAX_VARS);
        rc = SB_EINVAL;
        goto fail;
    }
    snprintf(key, keycap, "%s", st->key);
    pt->addr = a;
    return 0;
fail:
    free(a);
    return rc;
}

static void wx_unbind(void *state, struct sb_drv_point *pt)
{
    (void)state;
    free(pt->addr);
    pt->addr = NULL;
}

/* ---- fetching ----------------------------------------------------------- */

/* The request URL for the current variable set.  st->mu held. */
static int build_url(const struct weather *st, char *out, size_t cap)
{
    char list[MAX_VARS * SB_WX_NAME_MAX] = "";
    size_t at = 0;
    int n;

    for (size_t i = 0; i < st->nvars; i++)
        at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s", i ? "," : "", st->vars[i]);
    n = snprintf(out, cap, "%s%clatitude=%.4f&longitude=%.4f&current=%s&hourly=%s"
                 "&timezone=GMT&forecast_days=%d&wind_speed_unit=ms",
                 st->url, strchr(st->url, '?') ? '&' : '?', st->lat, st->lon, list, list,
                 st->days);
    return n > 0 && (size_t)n < cap ? 0 : SB_EINVAL;
}

static int answer(struct weather *st, const struct sb_rest_http_resp *rs, struct sb_wx **fc,
                  char *err, size_t errlen)
{
    char e[SB_DRV_ERR_MAX];

    if (rs->status == 200)
        return sb_wx_parse(rs->body, rs->len, fc, err, errlen);
    if (rs->status == 429 || rs->status == 503)
        sb_rest_pace_block(&st->pace, sb_rest_mono_ms() +
                           (rs->retry_after_ms >= 0 ? rs->retry_after_ms : 60000), rs->status);
    /* Open-Meteo errors are {"error": true, "reason": "..."} with HTTP 400. */
    if (sb_wx_parse(rs->body, rs->len, fc, e, sizeof(e)) == SB_EPROTO &&
        strncmp(e, "service error: ", 15) == 0)
        sb_errf(err, errlen, "HTTP %ld: %s", rs->status, e + 15);
    else
        sb_errf(err, errlen, "HTTP %ld", rs->status);
    sb_wx_free(*fc);
    *fc = NULL;
    return rs->status >= 500 || rs->status == 429 ? SB_EIO : SB_EPROTO;
}

/* One GET and parse; *fc on success.  fetch_mu held. */
static int get_forecast(struct weather *st, const char *url, int64_t deadline,
                        struct sb_wx **fc, char *err, size_t errlen)
{
    struct sb_rest_http_resp rs = { 0 };
    int64_t left;
    int rc;

    *fc = NULL;
    rc = sb_rest_pace_acquire(&st->pace, deadline, &st->stop, err, errlen);
    if (rc == SB_EAGAIN || rc == SB_ECLOSED)
        return SB_EIO;
    if (rc != 0)
        return rc;
    left = deadline - sb_rest_mono_ms();
    struct sb_rest_http_req rq = { .method = "GET", .url = url, .user_agent = st->user_agent,
        .ca_file = st->ca_file, .max_body = st->max_body,
        .timeout_ms = left < st->timeout_ms ? left : st->timeout_ms };
    pthread_mutex_lock(&st->mu);
    st->fetches++;
    pthread_mutex_unlock(&st->mu);
    rc = rq.timeout_ms > 0 ? sb_rest_http(st->curl, &rq, &rs, err, errlen) : SB_ETIMEDOUT;
    if (rc == SB_ETIMEDOUT)
        sb_errf(err, errlen, "no answer within %lld ms", (long long)rq.timeout_ms);
    if (rc == 0)
        rc = answer(st, &rs, fc, err, errlen);
    sb_rest_http_resp_release(&rs);
    return rc;
}

static void record(struct weather *st, int rc, struct sb_wx *fc, const char *e)
{
    struct sb_wx *old = NULL;

    pthread_mutex_lock(&st->mu);
    if (rc == 0) {
        old = st->fc;
        st->fc = fc;
        st->fetched_mono = sb_rest_mono_ms();
        st->fetched_wall = sb_now_ms();
        st->err[0] = '\0';
    } else {
        snprintf(st->err, sizeof(st->err), "%s", e);
    }
    if (rc == 0 && st->failed)
        SB_INFO(MOD, "%s: service back", st->key);
    else if (rc != 0 && !st->failed)
        SB_WARN(MOD, "%s: fetch failed (%s); serving the last forecast as stale", st->key, e);
    st->failed = rc != 0;
    pthread_mutex_unlock(&st->mu);
    sb_wx_free(old);
}

/* Make sure the cache is no older than refresh_ms. */
static int fetch(struct weather *st, int64_t deadline, char *err, size_t errlen)
{
    struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };
    struct sb_wx *fc = NULL;
    char url[URL_MAX];
    int rc, fresh;

    if (pthread_mutex_clocklock(&st->fetch_mu, CLOCK_MONOTONIC, &ts) != 0) {
        sb_errf(err, errlen, "another fetch is still running at the deadline");
        return SB_ETIMEDOUT;
    }
    pthread_mutex_lock(&st->mu);
    fresh = st->fc && sb_rest_mono_ms() - st->fetched_mono < st->refresh_ms;
    rc = build_url(st, url, sizeof(url));
    pthread_mutex_unlock(&st->mu);
    if (!fresh && rc == 0) {
        rc = get_forecast(st, url, deadline, &fc, err, errlen);
        record(st, rc, fc, err);
    }
    pthread_mutex_unlock(&st->fetch_mu);
    return rc;
}

/* ---- read --------------------------------------------------------------- */

static int convert(const struct sb_wx_var *v, enum sb_unit to, double *out, char *err,
                   size_t errlen)
{
    enum sb_unit from;
    int known;
    const char *u = v->unit[0] ? v->unit : default_unit(v->name, &known);

    if (to == SB_UNIT_NONE || to == SB_UNIT_INVALID) {
        *out = v->v;
        return 0;
    }
    if (!u || sb_unit_parse(u, &from) != 0 || sb_unit_convert(from, to, v->v, out) != 0) {
        sb_errf(err, errlen, "%s is in \"%s\", not convertible to %s", v->name, u ? u : "?",
                sb_unit_symbol(to));
        return SB_EUNIT;
    }
    return 0;
}

static void fill(const struct sb_wx *fc, struct sb_drv_item *it)
{
    const struct wx_addr *a = it->pt->addr;
    const struct sb_wx_var *v = sb_wx_current(fc, a->variable);

    it->q = 0;
    it->t = fc->current_t;
    it->err[0] = '\0';
    if (!v || isnan(v->v)) {
        it->rc = SB_ENOENT;
        sb_errf(it->err, sizeof(it->err), "no current %s in the response", a->variable);
        return;
    }
    it->rc = convert(v, it->pt->unit, &it->v, it->err, sizeof(it->err));
}

static int wx_read(void *state, const char *key, struct sb_drv_item *items, size_t n,
                   int64_t timeout_ms, char *err, size_t errlen)
{
    struct weather *st = state;
    int64_t deadline = sb_rest_mono_ms() + (timeout_ms > 0 ? timeout_ms : st->timeout_ms);
    int rc;

    if (n == 0)
        return 0;
    if (!key || strcmp(key, st->key) != 0) {
        sb_errf(err, errlen, "unknown device %s", key ? key : "?");
        return SB_EINVAL;
    }
    if ((rc = fetch(st, deadline, err, errlen)) != 0)
        return rc;
    pthread_mutex_lock(&st->mu);
    for (size_t i = 0; i < n; i++)
        fill(st->fc, &items[i]);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

/* ---- the forecast API --------------------------------------------------- */

int sb_weather_forecast(void *state, const char *variable, int64_t from_ms, size_t hours,
                        double *out, int64_t *times)
{
    struct weather *st = state;
    int rc;

    if (!st || !variable || !out || hours == 0 || hours > 100000)
        return SB_EINVAL;
    pthread_mutex_lock(&st->mu);
    rc = st->fc ? sb_wx_window(st->fc, variable, from_ms, hours, out, times) : SB_ENOENT;
    pthread_mutex_unlock(&st->mu);
    return rc;
}

/* st->mu held. */
static int is_down(const struct weather *st)
{
    return !st->fc || st->failed || sb_rest_mono_ms() - st->fetched_mono > 2 * st->refresh_ms;
}

const char *sb_weather_fallback(void *state)
{
    struct weather *st = state;
    int down;

    if (!st || !st->fallback)
        return NULL;
    pthread_mutex_lock(&st->mu);
    down = is_down(st);
    pthread_mutex_unlock(&st->mu);
    return down ? st->fallback : NULL;
}

void sb_weather_status(void *state, struct sb_weather_status *out)
{
    struct weather *st = state;

    memset(out, 0, sizeof(*out));
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    out->have = st->fc != NULL;
    out->stale = is_down(st);
    out->fetched_ms = st->fc ? st->fetched_wall : 0;
    out->current_ms = st->fc ? st->fc->current_t : 0;
    out->fetches = st->fetches;
    snprintf(out->err, sizeof(out->err), "%s", st->failed ? st->err : "");
    pthread_mutex_unlock(&st->mu);
}

int sb_weather_refresh(void *state, int64_t timeout_ms, char *err, size_t errlen)
{
    struct weather *st = state;

    if (!st)
        return SB_EINVAL;
    return fetch(st, sb_rest_mono_ms() + (timeout_ms > 0 ? timeout_ms : st->timeout_ms),
                 err, errlen);
}

/* ---- lifecycle ---------------------------------------------------------- */

static int wx_start(void *state)
{
    struct weather *st = state;
    atomic_store(&st->stop, 0);
    return 0;
}

static void wx_stop(void *state)
{
    struct weather *st = state;
    atomic_store(&st->stop, 1);
}

static void wx_free(void *state)
{
    struct weather *st = state;

    if (!st)
        return;
    if (st->curl)
        curl_easy_cleanup(st->curl);
    if (st->pace_ready)
        sb_rest_pace_release(&st->pace);
    sb_wx_free(st->fc);
    free(st->url);
    free(st->fallback);
    free(st->user_agent);
    free(st->ca_file);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->fetch_mu);
    free(st);
    sb_rest_http_global_cleanup();
}

const struct sb_driver_ops sb_driver_weather = {
    .name = "weather",
    .flags = SB_DRV_BLOCKING | SB_DRV_POLLED,
    .init = wx_init,
    .bind = wx_bind,
    .unbind = wx_unbind,
    .start = wx_start,
    .stop = wx_stop,
    .read = wx_read,
    .write = NULL,
    .discover = NULL,
    .free = wx_free,
};

/*
 * fuzz_rest.c - libFuzzer target for the parsers of the REST and weather
 * drivers (src/drivers/rest/): JSON paths, profiles and the templates they
 * drive, point addresses, device status documents read through the
 * shipped thermostat profile, Open-Meteo responses, OAuth token responses
 * and Retry-After values.
 *
 * The first byte picks the parser, the rest is its input.  Besides the
 * sanitizers, it checks the contracts: a rejection always says why (err is
 * filled), an accepted value is finite, a built body is valid JSON, a
 * forecast window never reports more values than it was asked for.
 * Seeds: fuzz/corpus/rest/ (one per parser).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE
 *   -Isrc fuzz/fuzz_rest.c src/drivers/rest/{jpath,profile,wxparse,oauth,
 *   http,pace}.c src/core/{err,timefmt,tz}.c $(pkg-config --cflags --libs
 *   libcurl jansson) -lm -lpthread
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "drivers/rest/http.h"
#include "drivers/jpath.h"
#include "drivers/rest/oauth.h"
#include "drivers/rest/profile.h"
#include "drivers/rest/wxparse.h"

/* A copy of profiles/rest-siemens-thermostat.json's reading side, so the
 * target does not depend on the working directory. */
static const char thermostat_profile[] =
    "{\"profile\":\"rest-siemens-thermostat\",\"status\":{\"url\":\"/thermostats/{device}/status\","
    "\"time_path\":\"updated\",\"online_path\":\"online\"},\"error_path\":\"error.message\","
    "\"points\":{\"temperature\":{\"path\":\"temperature\"},\"humidity\":{\"path\":\"humidity\"},"
    "\"heating_setpoint\":{\"path\":\"setpoints.heating\",\"write\":{\"method\":\"PUT\","
    "\"url\":\"/thermostats/{device}/setpoints\",\"body\":{\"heating\":\"{value}\"}}},"
    "\"mode\":{\"path\":\"mode\",\"enum\":{\"off\":0,\"heat\":1,\"cool\":2,\"auto\":3,\"eco\":4},"
    "\"write\":{\"method\":\"PUT\",\"url\":\"/thermostats/{device}/mode\",\"body\":{\"mode\":\"{value}\"}}},"
    "\"demand\":{\"path\":\"demand.heating\",\"scale\":0.01},\"first\":{\"path\":\"list[0].v\"}}}";

static void must_explain(int rc, const char *err)
{
    if ((rc == SB_EINVAL || rc == SB_EPROTO) && err[0] == '\0')
        __builtin_trap();
}

static void check_value(const struct sb_rest_ppoint *pp, const json_t *doc)
{
    char err[160] = "";
    double v;
    int rc = sb_rest_value(pp, doc, &v, err, sizeof(err));

    if (rc == 0 && !isfinite(v))
        __builtin_trap();
    if (rc != 0 && rc != SB_ENOENT && rc != SB_EPROTO && rc != SB_EINVAL)
        __builtin_trap();
    if (rc != 0 && err[0] == '\0')
        __builtin_trap();
}

static void check_body(const struct sb_rest_ppoint *pp, const struct sb_rest_tmpl *t, double v)
{
    char err[160] = "", *body = NULL, *url = NULL;
    json_t *back;
    int rc;

    if (t->body) {
        rc = sb_rest_body(pp, t->body, "dev-1", v, &body, err, sizeof(err));
        must_explain(rc, err);
        if (rc == 0) {
            back = json_loads(body, JSON_DECODE_ANY, NULL);
            if (!back)
                __builtin_trap();       /* we only ever send valid JSON */
            json_decref(back);
        }
        free(body);
    }
    if (sb_rest_url("https://api.example/v1", t->url, "dev 1/\xff", "x y", &url) == 0 &&
        (strchr(url, ' ') || strchr(url, '\n')))
        __builtin_trap();               /* placeholders are percent-encoded */
    free(url);
}

static void run_profile(const json_t *doc, const json_t *status)
{
    struct sb_rest_profile *p = NULL;
    char err[160] = "";
    int rc = sb_rest_profile_parse(doc, &p, err, sizeof(err));

    must_explain(rc, err);
    if (rc != 0)
        return;
    for (size_t i = 0; i < p->npoints; i++) {
        const struct sb_rest_ppoint *pp = &p->points[i];
        if (status)
            check_value(pp, status);
        if (pp->write) {
            check_body(pp, pp->write, 1.5);
            for (size_t k = 0; k < pp->nenums; k++)
                check_body(pp, pp->write, pp->enums[k].v);
        }
        if (pp->relinquish)
            check_body(pp, pp->relinquish, NAN);
    }
    sb_rest_profile_free(p);
}

static void fuzz_jpath(const char *s, size_t n)
{
    const char *nl = memchr(s, '\n', n);
    char path[SB_JPATH_MAX + 2], err[160] = "";
    const json_t *v;
    json_t *doc;
    size_t pl = nl ? (size_t)(nl - s) : n;
    double d;

    if (pl > SB_JPATH_MAX + 1)
        pl = SB_JPATH_MAX + 1;
    memcpy(path, s, pl);
    path[pl] = '\0';
    if (strlen(path) != pl)
        return;
    doc = nl ? json_loadb(nl + 1, n - pl - 1, JSON_DECODE_ANY, NULL) : NULL;
    if (!doc)
        doc = json_loads("{\"a\":{\"b\":[1,{\"c\":\"2.5\"},true,null]}}", 0, NULL);
    int rc = sb_jpath_get(doc, path, &v, err, sizeof(err));
    must_explain(rc, err);
    if (rc == SB_ENOENT && err[0] == '\0')
        __builtin_trap();
    if (rc == 0) {
        err[0] = '\0';
        rc = sb_jpath_number(v, &d, err, sizeof(err));
        if ((rc == 0 && !isfinite(d)) || (rc != 0 && err[0] == '\0'))
            __builtin_trap();
    }
    json_decref(doc);
}

static void fuzz_profile(const char *s, size_t n)
{
    json_t *doc = json_loadb(s, n, 0, NULL);
    json_t *status = json_loads("{\"temperature\":21.5,\"mode\":\"heat\",\"setpoints\":"
                                "{\"heating\":\"20\"},\"list\":[{\"v\":true}]}", 0, NULL);

    if (doc)
        run_profile(doc, status);
    json_decref(doc);
    json_decref(status);
}

static void fuzz_status(const char *s, size_t n)
{
    json_t *prof = json_loads(thermostat_profile, 0, NULL);
    json_t *doc = json_loadb(s, n, JSON_DECODE_ANY, NULL);
    char why[120];
    int64_t ms;

    if (!prof)
        __builtin_trap();
    if (doc) {
        run_profile(prof, doc);
        (void)sb_rest_time(doc, "updated", &ms);
    }
    (void)sb_rest_reason(s, n, "error.message", why, sizeof(why));
    if (strchr(why, '\n') || strchr(why, '\r'))
        __builtin_trap();               /* reasons go into logs: no line breaks */
    json_decref(doc);
    json_decref(prof);
}

static void fuzz_addr(const char *s, size_t n)
{
    struct sb_rest_addr *a = NULL;
    char err[160] = "";
    int rc = sb_rest_addr_parse(s, n, &a, err, sizeof(err));

    must_explain(rc, err);
    if (rc == 0 && !a->device == !a->url)
        __builtin_trap();               /* exactly one form */
    sb_rest_addr_free(a);
}

static void fuzz_weather(const char *s, size_t n)
{
    struct sb_wx *w = NULL;
    char err[160] = "";
    double out[100];
    int64_t times[100];
    int rc = sb_wx_parse(s, n, &w, err, sizeof(err));

    must_explain(rc, err);
    if (rc != 0)
        return;
    for (size_t i = 0; i < w->nhourly && w->nhours; i++) {
        int k = sb_wx_window(w, w->hourly[i].name, w->times[0] + 1800000, 100, out, times);
        if (k < 0 || k > 100)
            __builtin_trap();
    }
    for (size_t i = 0; i < w->ncur; i++)
        if (sb_wx_current(w, w->cur[i].name) == NULL)
            __builtin_trap();
    sb_wx_free(w);
}

static void fuzz_token(const char *s, size_t n)
{
    char err[160] = "", *tok = NULL, str[64];
    int64_t life = 0;
    int rc = sb_rest_oauth_parse(s, n, &tok, &life, err, sizeof(err));

    must_explain(rc, err);
    if (rc == 0 && (life <= 0 || strpbrk(tok, "\r\n :")))
        __builtin_trap();               /* a token can never split a header */
    free(tok);
    size_t k = n < sizeof(str) - 1 ? n : sizeof(str) - 1;
    memcpy(str, s, k);
    str[k] = '\0';
    int64_t ra = sb_rest_retry_after(str, 1768474440000LL);
    if (ra < -1 || ra > 3600000)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data + 1;
    size_t n = size ? size - 1 : 0;

    if (size == 0)
        return 0;
    switch (data[0] % 6) {
    case 0: fuzz_jpath(s, n); break;
    case 1: fuzz_profile(s, n); break;
    case 2: fuzz_status(s, n); break;
    case 3: fuzz_addr(s, n); break;
    case 4: fuzz_weather(s, n); break;
    default: fuzz_token(s, n); break;
    }
    return 0;
}

/*
 * boptest.c - the BOPTEST client and test loop (see boptest.h).
 *
 * Blocking libcurl through the REST drivers' exchange (drivers/rest/http.h),
 * one handle reused (keep-alive).  Every response body is capped (8 MiB: a
 * 24 h forecast of a few dozen points is ~100 KiB) and must be the API's
 * JSON envelope; an error names the request and BOPTEST's own message.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control/boptest.h"
#include "core/err.h"
#include "drivers/rest/http.h"

#define BODY_MAX (8u << 20)

struct bop {
    CURL *h;
    const struct sb_bop_opts *o;
    char testid[128];
    char *why;
    size_t cap;
};

/* One request through the REST drivers' exchange (drivers/rest/http.h:
 * http/https only, no redirects, bounded body).  body NULL: none.  *out:
 * the whole response JSON (new reference).  Returns 0 or SB_E* with why. */
static int call(struct bop *b, const char *method, const char *path, json_t *body, json_t **out)
{
    char url[1024], err[256] = "";
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct sb_rest_http_resp rs;
    struct sb_rest_http_req rq = { .method = method, .url = url, .body = txt, .user_agent = "sbems-boptest",
                                   .timeout_ms = b->o->timeout_ms > 0 ? b->o->timeout_ms : 300000,
                                   .max_body = BODY_MAX };
    int rc;

    *out = NULL;
    snprintf(url, sizeof(url), "%s%s", b->o->url, path);
    if (body && !txt) {
        snprintf(b->why, b->cap, "%s %s: out of memory", method, path);
        return SB_ENOMEM;
    }
    rc = sb_rest_http(b->h, &rq, &rs, err, sizeof(err));
    free(txt);
    if (rc) {
        snprintf(b->why, b->cap, "%s %s: %s", method, path, err[0] ? err : sb_strerror(rc));
        goto out;
    }
    json_error_t je;
    json_t *j = rs.len ? json_loadb(rs.body, rs.len, 0, &je) : NULL;
    if (rs.status != 200) {
        const char *msg = json_string_value(json_object_get(j, "message"));
        snprintf(b->why, b->cap, "%s %s: HTTP %ld: %.300s", method, path, rs.status,
                 msg ? msg : rs.len ? rs.body : "(no body)");
        json_decref(j);
        rc = rs.status == 404 ? SB_ENOENT : SB_EPROTO;
        goto out;
    }
    if (!j) {
        snprintf(b->why, b->cap, "%s %s: the answer is not JSON (%s)", method, path, rs.len ? je.text : "empty");
        rc = SB_EPROTO;
        goto out;
    }
    *out = j;
out:
    sb_rest_http_resp_release(&rs);
    return rc;
}

/* A call whose answer is the {"message","payload","status"} envelope; the
 * payload (new reference) in *payload. */
static int call_p(struct bop *b, const char *method, const char *path, json_t *body, json_t **payload)
{
    json_t *j;
    int rc = call(b, method, path, body, &j);

    json_decref(body);
    *payload = NULL;
    if (rc)
        return rc;
    json_t *p = json_object_get(j, "payload");
    if (!json_is_object(j) || !p) {
        snprintf(b->why, b->cap, "%s %s: no payload in the answer", method, path);
        json_decref(j);
        return SB_EPROTO;
    }
    *payload = json_incref(p);
    json_decref(j);
    return 0;
}

static int path_id(char *out, size_t cap, const char *what, const struct bop *b)
{
    return snprintf(out, cap, "/%s/%s", what, b->testid) >= (int)cap ? SB_ERANGE : 0;
}

static int select_test(struct bop *b)
{
    char path[512];
    json_t *j;
    char *name = curl_easy_escape(b->h, b->o->testcase, 0);

    if (!name)
        return SB_ENOMEM;
    snprintf(path, sizeof(path), "/testcases/%s/select", name);
    curl_free(name);
    int rc = call(b, "POST", path, json_object(), &j);
    if (rc)
        return rc;
    const char *id = json_string_value(json_object_get(j, "testid"));
    if (!id || strlen(id) >= sizeof(b->testid) || strspn(id, "0123456789abcdefABCDEF-") != strlen(id)) {
        snprintf(b->why, b->cap, "POST %s: no test id in the answer", path);
        json_decref(j);
        return SB_EPROTO;
    }
    snprintf(b->testid, sizeof(b->testid), "%s", id);
    json_decref(j);
    return 0;
}

static int get_payload(struct bop *b, const char *what, json_t **out)
{
    char path[256];
    path_id(path, sizeof(path), what, b);
    return call_p(b, "GET", path, NULL, out);
}

/* Start the test: a scenario (BOPTEST initialises to its period) or an
 * explicit start time with a warm-up.  *first receives the measurements the
 * initialisation answered with (the state the first step starts from). */
static int start(struct bop *b, json_t **first)
{
    char path[256];
    json_t *p, *body = json_object();
    int rc;

    *first = NULL;
    path_id(path, sizeof(path), "step", b);
    if ((rc = call_p(b, "PUT", path, json_pack("{s:f}", "step", b->o->step_s), &p)))
        goto out;
    json_decref(p);
    if (b->o->scenario || b->o->price) {
        if (b->o->scenario)
            json_object_set_new(body, "time_period", json_string(b->o->scenario));
        if (b->o->price)
            json_object_set_new(body, "electricity_price", json_string(b->o->price));
        path_id(path, sizeof(path), "scenario", b);
        if ((rc = call_p(b, "PUT", path, json_incref(body), &p)))
            goto out;
        /* With a time period the answer carries {"time_period": {measurements}}. */
        json_t *tp = json_object_get(p, "time_period");
        if (b->o->scenario && json_is_object(tp))
            *first = json_incref(tp);
        json_decref(p);
    }
    if (!b->o->scenario) {
        path_id(path, sizeof(path), "initialize", b);
        if ((rc = call_p(b, "PUT", path,
                         json_pack("{s:f,s:f}", "start_time", b->o->start_time, "warmup_period", b->o->warmup_s),
                         &p)))
            goto out;
        *first = p;
    }
out:
    json_decref(body);
    return rc;
}

/* The forecast of the zones' bounds and the price over the horizon. */
static int forecast(struct bop *b, const struct sb_bop_map *m, size_t n, json_t **fc)
{
    char path[256];
    json_t *names = json_array();

    for (size_t i = 0; i < m->n; i++) {
        json_array_append_new(names, json_string(m->z[i].lower));
        json_array_append_new(names, json_string(m->z[i].upper));
    }
    if (m->price[0])
        json_array_append_new(names, json_string(m->price));
    path_id(path, sizeof(path), "forecast", b);
    return call_p(b, "PUT", path,
                  json_pack("{s:o,s:f,s:f}", "point_names", names, "horizon", b->o->step_s * (double)(n - 1),
                            "interval", b->o->step_s),
                  fc);
}

/* Copy n values of series key into out; 0 or SB_EPROTO. */
static int series(const json_t *fc, const char *key, double *out, size_t n, char *why, size_t cap)
{
    const json_t *a = json_object_get(fc, key);
    size_t have = json_array_size(a);

    if (!have) {
        snprintf(why, cap, "the forecast has no %s", key);
        return SB_EPROTO;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i < have ? i : have - 1);
        if (!json_is_number(v)) {
            snprintf(why, cap, "the forecast of %s has a value that is not a number", key);
            return SB_EPROTO;
        }
        out[i] = json_number_value(v);
    }
    return 0;
}

static double clampk(double v, double lo, double hi)
{
    if (isfinite(lo) && v < lo)
        v = lo;
    if (isfinite(hi) && v > hi)
        v = hi;
    return v;
}

/* The overrides of one step. */
static int decide_all(struct bop *b, const struct sb_bop_map *m, struct sb_bop_zstate *st,
                      const struct sb_bop_policy *pol, const json_t *meas, json_t *u)
{
    double lo[SB_BOP_HORIZON], hi[SB_BOP_HORIZON];
    json_t *fc;
    int rc = forecast(b, m, SB_BOP_HORIZON, &fc);

    if (rc)
        return rc;
    for (size_t i = 0; i < m->n && !rc; i++) {
        const struct sb_bop_zone *z = &m->z[i];
        double hsp, csp, temp = json_number_value(json_object_get(meas, z->temp));

        if (!json_is_number(json_object_get(meas, z->temp)))
            temp = NAN;
        if ((rc = series(fc, z->lower, lo, SB_BOP_HORIZON, b->why, b->cap)) ||
            (rc = series(fc, z->upper, hi, SB_BOP_HORIZON, b->why, b->cap)))
            break;
        sb_bop_decide(pol, &st[i], lo, hi, SB_BOP_HORIZON, temp, b->o->step_s, &hsp, &csp);
        char key[SB_BOP_NAME_MAX + 16];
        if (z->heat[0]) {
            json_object_set_new(u, z->heat, json_real(clampk(hsp, z->heat_min, z->heat_max)));
            snprintf(key, sizeof(key), "%.*s_activate", (int)strlen(z->heat) - 2, z->heat);
            json_object_set_new(u, key, json_integer(1));
        }
        if (z->cool[0]) {
            json_object_set_new(u, z->cool, json_real(clampk(csp, z->cool_min, z->cool_max)));
            snprintf(key, sizeof(key), "%.*s_activate", (int)strlen(z->cool) - 2, z->cool);
            json_object_set_new(u, key, json_integer(1));
        }
    }
    json_decref(fc);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The test's steps: advance with the overrides chosen from the last
 * measurements (meas: the initial ones, taken; NULL: the first step
 * overrides nothing), until days have passed or BOPTEST says the scenario ended
 * (an empty payload). */
static int loop(struct bop *b, const struct sb_bop_map *m, json_t *meas, size_t *steps, double *compute_s)
{
    struct sb_bop_policy pol;
    struct sb_bop_zstate st[SB_BOP_ZONES];
    char path[256];
    size_t max_steps = b->o->days > 0 ? (size_t)ceil(b->o->days * 86400.0 / b->o->step_s) : 1000000;
    int rc = 0;

    sb_bop_policy_default(&pol);
    for (size_t i = 0; i < m->n; i++)
        sb_bop_zstate_init(&st[i], &pol);
    path_id(path, sizeof(path), "advance", b);
    *steps = 0;
    *compute_s = 0;
    while (*steps < max_steps) {
        json_t *u = json_object(), *p;
        double t = now_s();

        if (meas && !b->o->baseline && (rc = decide_all(b, m, st, &pol, meas, u))) {
            json_decref(u);
            break;
        }
        *compute_s += now_s() - t;
        if ((rc = call_p(b, "POST", path, u, &p)))
            break;
        json_decref(meas);
        meas = p;
        if (json_object_size(meas) == 0)        /* the scenario's end */
            break;
        (*steps)++;
        if (b->o->log && *steps % 96 == 0)
            fprintf(b->o->log, "boptest: day %zu done (t=%.0f s)\n", *steps / 96,
                    json_number_value(json_object_get(meas, "time")));
    }
    json_decref(meas);
    return rc;
}

int sb_bop_run(const struct sb_bop_opts *o, json_t **kpi, char *why, size_t cap)
{
    struct bop b = { .o = o, .why = why, .cap = cap };
    struct sb_bop_map *m = calloc(1, sizeof(*m));
    json_t *inputs = NULL, *meas = NULL, *fcpts = NULL, *k = NULL;
    size_t steps = 0;
    double compute = 0;
    json_t *first = NULL;
    int rc = SB_ENOMEM, selected = 0;

    *kpi = NULL;
    why[0] = '\0';
    if (!m || !(b.h = curl_easy_init()))
        goto out;
    if ((rc = select_test(&b)))
        goto out;
    selected = 1;
    if ((rc = get_payload(&b, "inputs", &inputs)) || (rc = get_payload(&b, "measurements", &meas)) ||
        (rc = get_payload(&b, "forecast_points", &fcpts)))
        goto out;
    rc = o->map ? sb_bop_map_load(o->map, inputs, meas, fcpts, m, why, cap)
                : sb_bop_map_find(inputs, meas, fcpts, m, why, cap);
    if (rc)
        goto out;
    if (why[0] && o->log)
        fprintf(o->log, "boptest: left out (give them with --map): %s\n", why);
    why[0] = '\0';
    if (o->log)
        for (size_t i = 0; i < m->n; i++)
            fprintf(o->log, "boptest: zone %s: temperature %s, heating %s, cooling %s\n", m->z[i].name,
                    m->z[i].temp, m->z[i].heat[0] ? m->z[i].heat : "-", m->z[i].cool[0] ? m->z[i].cool : "-");
    if ((rc = start(&b, &first)))
        goto out;
    rc = loop(&b, m, first, &steps, &compute);     /* takes first */
    if (rc)
        goto out;
    if ((rc = get_payload(&b, "kpi", &k)))
        goto out;
    json_object_set_new(k, "steps", json_integer((json_int_t)steps));
    json_object_set_new(k, "controller_s_per_step", json_real(steps ? compute / (double)steps : 0));
    json_object_set_new(k, "zones", json_integer((json_int_t)m->n));
    json_object_set_new(k, "controller", json_string(o->baseline ? "baseline" : "sbems"));
    *kpi = k;
    k = NULL;
out:
    if (selected) {                      /* free BOPTEST's worker whatever happened */
        char path[256], keep[512];
        json_t *p;
        snprintf(keep, sizeof(keep), "%s", why);
        path_id(path, sizeof(path), "stop", &b);
        if (call(&b, "PUT", path, NULL, &p) == 0)
            json_decref(p);
        snprintf(why, cap, "%s", keep);  /* the stop's answer (plain "OK") is not the news */
    }
    if (rc == SB_ENOMEM && !why[0])
        snprintf(why, cap, "out of memory");
    json_decref(k);
    json_decref(inputs);
    json_decref(meas);
    json_decref(fcpts);
    if (b.h)
        curl_easy_cleanup(b.h);
    free(m);
    return rc;
}

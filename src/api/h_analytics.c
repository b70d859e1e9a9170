/*
 * h_analytics.c - load and zone temperature predictions and the state of
 * the models behind them (docs/api.md "Analytics"), answered from the
 * analytics service (analytics/service.h) on the API's thread pool.
 *
 * Scope: a meter or zone outside the user's buildings answers 404, like an
 * unknown one.  No forecast is ever invented: a model that is not trained,
 * or that refused for lack of data, answers 409 "no_model" with the reason
 * ("needs 90 days with >= 90 % coverage, has 41").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/meter.h"
#include "analytics/service.h"
#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "model/hub.h"


static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.analytics || !api->ctx.models || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "analytics is not running (analytics.enabled)");
        return 0;
    }
    return 1;
}

/* The building index of slug when rq's user may see it, else -1. */
static int visible_building(struct sb_req *rq, const struct sb_model *m, const char *slug)
{
    const struct sb_building *b = slug ? sb_model_building(m, slug) : NULL;
    size_t i = b ? (size_t)(b - m->buildings) : 0;
    return b && sb_api__in_scope(&rq->who, m, i) ? (int)i : -1;
}

/* An integer query parameter in [lo, hi], def when absent; -1 answers 400. */
static int int_q(struct sb_req *rq, const char *name, int lo, int hi, int def, int *out)
{
    const char *v = sb_req_q(rq, name);
    char *end, msg[96];
    long x;

    *out = def;
    if (!v)
        return 0;
    x = strtol(v, &end, 10);
    if (!*v || *end || x < lo || x > hi) {
        snprintf(msg, sizeof(msg), "%s must be an integer %d..%d", name, lo, hi);
        sb_api__bad_field(rq, name, msg);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int num_q(struct sb_req *rq, const char *name, double lo, double hi, double *out)
{
    const char *v = sb_req_q(rq, name);
    char *end, msg[96];

    *out = NAN;
    if (!v)
        return 0;
    *out = strtod(v, &end);
    if (!*v || *end || !(*out >= lo && *out <= hi)) {
        snprintf(msg, sizeof(msg), "%s must be a number %g..%g", name, lo, hi);
        sb_api__bad_field(rq, name, msg);
        return -1;
    }
    return 0;
}

/* Maps a service result to the answer. */
static void answer(struct sb_req *rq, int rc, json_t *out, const char *what, const char *err)
{
    char msg[320];

    if (rc == 0) {
        sb_api__json(rq, 200, out);
        return;
    }
    if (rc == SB_EAGAIN) {
        sb_api__err(rq, 409, "no_model", err && *err ? err : "no model yet");
        return;
    }
    if (rc == SB_EINVAL && err && *err) {
        snprintf(msg, sizeof(msg), "%s: %s", what, err);
        sb_api__err(rq, 400, "invalid", msg);
        return;
    }
    sb_api__err_rc(rq, rc, what);
}

void sb_api__h_pred_load(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "meter", "horizon_h", NULL };
    const char *meter = sb_req_q(rq, "meter");
    char err[256] = "";
    json_t *out = NULL;
    int h;

    if (sb_api__only_query(rq, q_ok) || int_q(rq, "horizon_h", 1, 72, 24, &h) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_equipment *e = meter ? sb_model_equipment(m, meter) : NULL;
    if (!e || visible_building(rq, m, e->building) < 0) {
        sb_api__bad_field(rq, "meter", "meter must name a meter (equipment) in your scope");
        return;
    }
    int rc = sb_analytics_load_forecast(api->ctx.analytics, meter, h, &out, err, sizeof(err));
    if (rc == SB_ENOENT) {
        sb_api__bad_field(rq, "meter", "that equipment is not a meter with an energy or power point");
        return;
    }
    answer(rq, rc, out, "load forecast", err);
}

void sb_api__h_pred_accuracy(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "meter", "from", "to", "horizon_h", NULL };
    const char *meter = sb_req_q(rq, "meter"), *f = sb_req_q(rq, "from"), *t = sb_req_q(rq, "to");
    int64_t from, to;
    char err[256] = "";
    json_t *out = NULL;
    int h;

    if (sb_api__only_query(rq, q_ok) || int_q(rq, "horizon_h", 0, 72, 0, &h) || !ready(api, rq))
        return;
    if (!f || !t || sb_time_parse(f, strlen(f), &from) || sb_time_parse(t, strlen(t), &to)) {
        sb_api__bad_field(rq, f && t ? "from" : !f ? "from" : "to",
                          "from and to are required: RFC 3339 times or integer ms");
        return;
    }
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_equipment *e = meter ? sb_model_equipment(m, meter) : NULL;
    if (!e || visible_building(rq, m, e->building) < 0 || !sb_meter_point(m, e)) {
        sb_api__bad_field(rq, "meter", "meter must name a meter (equipment) in your scope");
        return;
    }
    int rc = sb_analytics_load_accuracy(api->ctx.analytics, meter, from, to, h, &out, err, sizeof(err));
    answer(rq, rc, out, "forecast accuracy", err);
}

void sb_api__h_pred_temp(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "zone", "hours", "heating", "cooling", NULL };
    const char *zone = sb_req_q(rq, "zone");
    double heat, cool;
    char err[256] = "";
    json_t *out = NULL;
    int hours;

    if (sb_api__only_query(rq, q_ok) || int_q(rq, "hours", 1, 72, 24, &hours) ||
        num_q(rq, "heating", 5, 35, &heat) || num_q(rq, "cooling", 5, 40, &cool) || !ready(api, rq))
        return;
    if (isfinite(heat) != isfinite(cool)) {
        sb_api__bad_field(rq, isfinite(heat) ? "cooling" : "heating",
                          "give both heating and cooling setpoints, or neither (the comfort band)");
        return;
    }
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_zone *z = zone ? sb_model_zone(m, zone) : NULL;
    if (!z || visible_building(rq, m, z->building) < 0) {
        sb_api__bad_field(rq, "zone", "zone must name a zone in your scope");
        return;
    }
    int rc = sb_analytics_zone_forecast(api->ctx.analytics, zone, hours, heat, cool, &out, err,
                                        sizeof(err));
    answer(rq, rc, out, "zone temperature forecast", err);
}

/* GET /api/v1/predictions/plan?building=&hours=: the optimizer's plan
 * against the schedule's fixed setpoints (sb_analytics_plan). */
void sb_api__h_pred_plan(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "hours", NULL };
    const char *b = sb_req_q(rq, "building");
    char err[256] = "";
    json_t *out = NULL;
    int hours;

    if (sb_api__only_query(rq, q_ok) || int_q(rq, "hours", 1, 48, 24, &hours) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    if (!b || visible_building(rq, m, b) < 0) {
        sb_api__bad_field(rq, "building", "building must name a building in your scope");
        return;
    }
    int rc = sb_analytics_plan(api->ctx.analytics, b, hours, &out, err, sizeof(err));
    answer(rq, rc, out, "plan", err);
}

void sb_api__h_an_models(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", NULL };
    const char *b = sb_req_q(rq, "building");
    json_t *out = NULL;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    if (b && visible_building(rq, m, b) < 0) {
        sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
        return;
    }
    int rc = sb_analytics_models(api->ctx.analytics, b, &out);
    if (rc == 0 && !b && !(rq->who.roles & SB_ROLE_ADMIN)) {
        /* Everything the service knows, filtered to the user's buildings. */
        const char *keys[] = { "meters", "zones", "fdd" };
        for (int k = 0; k < 3; k++) {
            json_t *arr = json_object_get(out, keys[k]), *keep = json_array(), *x;
            size_t i;
            json_array_foreach(arr, i, x)
                if (visible_building(rq, m, json_string_value(json_object_get(x, "building"))) >= 0)
                    json_array_append(keep, x);
            json_object_set_new(out, keys[k], keep);
        }
    }
    answer(rq, rc, out, "model status", NULL);
}

void sb_api__h_an_retrain(struct sb_api *api, struct sb_req *rq)
{
    json_t *body = sb_api__body(rq);
    static const char *const keys[] = { "target", NULL };

    if (!body)
        return;
    if (sb_api__only_keys(rq, body, keys) || !ready(api, rq)) {
        json_decref(body);
        return;
    }
    const char *t = json_string_value(json_object_get(body, "target"));
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_equipment *e = t ? sb_model_equipment(m, t) : NULL;
    const struct sb_zone *z = t ? sb_model_zone(m, t) : NULL;
    const char *b = e ? e->building : z ? z->building : t;
    if (!t || visible_building(rq, m, b) < 0 || (e && !sb_meter_point(m, e))) {
        sb_api__bad_field(rq, "target", "target must name a meter, a zone or a building in your scope");
        json_decref(body);
        return;
    }
    int rc = sb_analytics_retrain(api->ctx.analytics, t);
    if (rc == 0) {
        sb_api__audit(api, rq, "analytics.retrain", t, NULL, NULL, "ok", NULL);
        sb_api__json(rq, 202, json_pack("{s:s, s:s}", "target", t, "status", "queued"));
    } else {
        sb_api__err_rc(rq, rc, "retrain");
    }
    json_decref(body);
}

/*
 * h_fdd.c - fault detection's findings and per-unit settings
 * (docs/api.md "Fault detection"):
 *   GET    /api/v1/fdd/findings?building=B[&state=open|all]   ranked by cost per day
 *   GET    /api/v1/fdd/units?building=B                        detectors, watched or why not, settings
 *   PUT    /api/v1/fdd/units/{equipment}  {"overrides": {...}} per-unit thresholds (audited)
 *   DELETE /api/v1/fdd/units/{equipment}                       back to the defaults (audited)
 * Findings are the service's "fdd_finding" documents (analytics/svc_find.c);
 * settings the "fdd_conf" documents the detectors re-read when they change.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/fdd_units.h"
#include "analytics/service.h"
#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "model/hub.h"

static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.db || !api->ctx.models || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "the app database or the model is not open");
        return 0;
    }
    return 1;
}

/* The building of ?building= when the user may see it; else answered 400. */
static const struct sb_building *building_q(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m = sb_api__model(api, rq);
    const char *slug = sb_req_q(rq, "building");
    const struct sb_building *b = slug ? sb_model_building(m, slug) : NULL;

    if (!b || !sb_api__in_scope(&rq->who, m, (size_t)(b - m->buildings))) {
        sb_api__bad_field(rq, "building", slug ? "unknown building (or not in your scope)"
                                               : "building is required");
        return NULL;
    }
    return b;
}

/* The open alert of a finding, 0 when none. */
static int64_t alert_of(struct sb_api *api, const char *building, const char *check, const char *equip)
{
    char rule[48];
    struct sb_alert_scope sc = { .all = 1 };
    struct sb_alert_filter f = { .scope = sc, .limit = 20 };
    struct sb_alert_page pg;
    int64_t id = 0;

    snprintf(rule, sizeof(rule), "fdd-%s", check);
    f.rule = rule;
    f.states = SB_ALERT_OPEN;
    memset(&pg, 0, sizeof(pg));
    if (sb_appdb_alert_list(api->ctx.db, &f, &pg) == 0)
        for (size_t i = 0; i < pg.n && !id; i++)
            if (strcmp(pg.v[i].key, equip) == 0 && strcmp(pg.v[i].building, building) == 0)
                id = pg.v[i].id;
    sb_alert_page_release(&pg);
    return id;
}

static double cost_of(json_t *f)
{
    json_t *c = json_object_get(json_object_get(f, "impact"), "cost_per_day");
    return json_is_number(c) ? json_number_value(c) : -1;
}

static int by_cost(const void *pa, const void *pb)
{
    json_t *a = *(json_t *const *)pa, *b = *(json_t *const *)pb;
    double ca = cost_of(a), cb = cost_of(b);
    if (ca != cb)
        return ca < cb ? 1 : -1;
    const char *sa = json_string_value(json_object_get(a, "since"));
    const char *sb = json_string_value(json_object_get(b, "since"));
    return strcmp(sa ? sa : "", sb ? sb : "");
}

void sb_api__h_fdd_findings(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "state", NULL };
    const char *state = sb_req_q(rq, "state");
    struct sb_doc *v = NULL;
    size_t n = 0, k = 0;
    const struct sb_building *b;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq) || !(b = building_q(api, rq)))
        return;
    if (state && strcmp(state, "open") != 0 && strcmp(state, "all") != 0) {
        sb_api__bad_field(rq, "state", "state must be open or all");
        return;
    }
    int all = state && strcmp(state, "all") == 0;
    int rc = sb_appdb_doc_list(api->ctx.db, "fdd_finding", b->slug, 0, &v, &n);
    if (rc) {
        sb_api__err_rc(rq, rc, "findings");
        return;
    }
    json_t **f = calloc(n ? n : 1, sizeof(*f));
    double total = 0;
    int priced = 0;
    char currency[8] = "";
    for (size_t i = 0; f && i < n; i++) {
        json_t *o = json_loads(v[i].body, 0, NULL);
        const char *st = json_string_value(json_object_get(o, "state"));
        if (!o || (!all && (!st || strcmp(st, "active") != 0))) {
            json_decref(o);
            continue;
        }
        int64_t aid = st && strcmp(st, "active") == 0
            ? alert_of(api, b->slug, json_string_value(json_object_get(o, "check")),
                       json_string_value(json_object_get(o, "key")) ?: json_string_value(json_object_get(o, "equipment")))
            : 0;
        json_object_set_new(o, "alert_id", aid ? json_integer(aid) : json_null());
        if (st && strcmp(st, "active") == 0 && cost_of(o) >= 0) {
            total += cost_of(o);
            priced = 1;
        }
        const char *cur = json_string_value(json_object_get(o, "currency"));
        if (cur && *cur)
            snprintf(currency, sizeof(currency), "%s", cur);
        json_object_del(o, "currency");
        f[k++] = o;
    }
    sb_docs_free(v, n);
    if (!f) {
        sb_api__err_rc(rq, SB_ENOMEM, "findings");
        return;
    }
    qsort(f, k, sizeof(*f), by_cost);
    json_t *arr = json_array();
    for (size_t i = 0; i < k; i++)
        json_array_append_new(arr, f[i]);
    free(f);
    sb_api__json(rq, 200, json_pack("{s:s, s:o, s:o, s:o}", "building", b->slug, "currency",
                                    currency[0] ? json_string(currency) : json_null(), "total_cost_per_day",
                                    priced ? json_real(round(total * 100) / 100) : json_null(), "findings", arr));
}

static json_t *overrides_of(struct sb_api *api, const char *equip)
{
    struct sb_doc d;
    json_t *o = NULL;

    if (sb_appdb_doc_get(api->ctx.db, "fdd_conf", equip, &d) == 0) {
        json_t *doc = json_loads(d.body, 0, NULL);
        o = json_incref(json_object_get(doc, "overrides"));
        json_decref(doc);
        sb_doc_release(&d);
    }
    return o ? o : json_object();
}

/* One unit as the API shows it; status from the service's model list
 * (watched, or why not), when analytics runs. */
static json_t *unit_json(struct sb_api *api, const struct sb_equipment *e, json_t *status)
{
    const struct sb_fdd_kind *k = sb_fdd_kind_of(e->type);
    json_t *ov = overrides_of(api, e->slug), *st = NULL, *x;
    size_t i;

    json_array_foreach(status, i, x)
        if (strcmp(json_string_value(json_object_get(x, "equipment")) ?: "", e->slug) == 0)
            st = x;
    const char *s = st ? json_string_value(json_object_get(st, "status")) : NULL;
    const char *why = st ? json_string_value(json_object_get(st, "message")) : NULL;
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:o}", "equipment", e->slug, "name", e->name, "kind",
                     k->name, "watched", s && strcmp(s, "watched") == 0, "reason",
                     !st ? "fault detection is not running (analytics.enabled, alerts.enabled)" : why ? why : "",
                     "overrides", ov, "params", sb_fdd_params_json(k, ov));
}

static json_t *status_list(struct sb_api *api, const char *building)
{
    json_t *all = NULL;

    if (!api->ctx.analytics || sb_analytics_models(api->ctx.analytics, building, &all) != 0)
        return json_array();
    json_t *f = json_incref(json_object_get(all, "fdd"));
    json_decref(all);
    return f ? f : json_array();
}

void sb_api__h_fdd_units(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", NULL };
    const struct sb_building *b;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq) || !(b = building_q(api, rq)))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    json_t *status = status_list(api, b->slug), *arr = json_array();
    for (size_t i = 0; i < m->nequipment; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        if (strcmp(e->building, b->slug) == 0 && sb_fdd_kind_of(e->type))
            json_array_append_new(arr, unit_json(api, e, status));
    }
    json_decref(status);
    sb_api__json(rq, 200, json_pack("{s:o}", "units", arr));
}

/* The equipment of the path when the user may see it and it has a
 * detector; else answered 404. */
static const struct sb_equipment *unit_path(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_equipment *e = sb_model_equipment(m, rq->params[0]);

    if (!e || e->building_ix < 0 || !sb_api__in_scope(&rq->who, m, (size_t)e->building_ix) ||
        !sb_fdd_kind_of(e->type)) {
        sb_api__err(rq, 404, "not_found", "no such equipment with a fault detector in your scope");
        return NULL;
    }
    return e;
}

void sb_api__h_fdd_unit_put(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "overrides", NULL };
    const struct sb_equipment *e;
    char err[200];
    struct sb_doc d;

    if (!ready(api, rq) || !(e = unit_path(api, rq)))
        return;
    json_t *body = sb_api__body(rq);
    if (!body)
        return;
    if (sb_api__only_keys(rq, body, keys)) {
        json_decref(body);
        return;
    }
    json_t *ov = json_object_get(body, "overrides");
    if (sb_fdd_overrides_check(sb_fdd_kind_of(e->type), ov, err, sizeof(err))) {
        sb_api__bad_field(rq, "overrides", err);
        json_decref(body);
        return;
    }
    json_t *before = overrides_of(api, e->slug);
    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "fdd_conf");
    snprintf(d.key, sizeof(d.key), "%s", e->slug);
    snprintf(d.building, sizeof(d.building), "%s", e->building);
    d.updated_ms = sb_now_ms();
    d.body = json_dumps(body, JSON_COMPACT);
    int rc = d.body ? sb_appdb_doc_put(api->ctx.db, &d) : SB_ENOMEM;
    free(d.body);
    if (rc) {
        sb_api__err_rc(rq, rc, "storing the settings");
    } else {
        sb_api__audit(api, rq, "fdd.settings", e->slug, before, ov, "ok", NULL);
        json_t *status = status_list(api, e->building);
        sb_api__json(rq, 200, unit_json(api, e, status));
        json_decref(status);
    }
    json_decref(before);
    json_decref(body);
}

void sb_api__h_fdd_unit_delete(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_equipment *e;

    if (!ready(api, rq) || !(e = unit_path(api, rq)))
        return;
    json_t *before = overrides_of(api, e->slug);
    int rc = sb_appdb_doc_delete(api->ctx.db, "fdd_conf", e->slug);
    if (rc && rc != SB_ENOENT) {
        sb_api__err_rc(rq, rc, "deleting the settings");
    } else {
        sb_api__audit(api, rq, "fdd.settings", e->slug, before, NULL, "ok", "reset to defaults");
        rq->resp.status = 204;
    }
    json_decref(before);
}

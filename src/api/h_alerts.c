/*
 * h_alerts.c - /api/v1/alerts, /api/v1/alert-rules, /api/v1/alert-templates,
 * /api/v1/alert-subscriptions (docs/api.md "Alerts").
 *
 * Handlers run on the pool (the app database is a blocking SQLite file).  A
 * user sees and acts on the alerts and rules of the buildings they are
 * granted; an alert or rule outside them answers 404, like an unknown one.
 * Every change is audited; rule changes reload the engine; alert changes
 * reach WebSocket clients through the service (alerts/service.h).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "alerts/notify.h"
#include "alerts/rule.h"
#include "alerts/service.h"
#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "model/hub.h"
#include "model/model.h"
#include "model/slug.h"

#define NOW() sb_now_ms()

/* ---- scope --------------------------------------------------------------------------- */

struct scope {
    struct sb_alert_scope s;
    const char *b[256];
};

/* The buildings rq's user may see, as the store wants them. */
static void scope_of(const struct sb_req *rq, const struct sb_model *m, struct scope *sc)
{
    memset(sc, 0, sizeof(*sc));
    if (rq->who.roles & SB_ROLE_ADMIN) {
        sc->s.all = 1;
        return;
    }
    for (size_t b = 0; b < m->nbuildings && sc->s.n < sizeof(sc->b) / sizeof(sc->b[0]); b++)
        if (sb_api__in_scope(&rq->who, m, b))
            sc->b[sc->s.n++] = m->buildings[b].slug;
    sc->s.buildings = sc->b;
}

static int building_ix(const struct sb_model *m, const char *slug)
{
    const struct sb_building *b = sb_model_building(m, slug);
    return b ? (int)(b - m->buildings) : -1;
}

static int sees(const struct sb_req *rq, const struct sb_model *m, const char *building)
{
    int b = building_ix(m, building);
    return b >= 0 ? sb_api__in_scope(&rq->who, m, (size_t)b) : (rq->who.roles & SB_ROLE_ADMIN) != 0;
}


static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.db || !api->ctx.models || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "the app database or the model is not open");
        return 0;
    }
    return 1;
}

/* ---- rules ----------------------------------------------------------------------------- */

/* What a rule watches, as the API names it: {"point"|"equipment"|"zone": slug}. */
static const char *target_key(const struct sb_arule *r)
{
    return r->type == SB_ART_OFFLINE ? "equipment" : r->type == SB_ART_COMFORT ? "zone" : "point";
}

/* The rule's building, from the model: 0, or SB_ENOENT (the target is unknown). */
static int rule_building(const struct sb_model *m, const struct sb_arule *r, const char **slug)
{
    int32_t b = -1;
    if (r->type == SB_ART_OFFLINE) {
        const struct sb_equipment *e = sb_model_equipment(m, r->target);
        b = e ? e->building_ix : -1;
    } else if (r->type == SB_ART_COMFORT) {
        const struct sb_zone *z = sb_model_zone(m, r->target);
        b = z ? z->building_ix : -1;
    } else {
        const struct sb_point *p = sb_model_point(m, r->target);
        b = p ? p->building_ix : -1;
    }
    if (b < 0 || (size_t)b >= m->nbuildings)
        return SB_ENOENT;
    *slug = m->buildings[b].slug;
    return 0;
}

/* Whether equipment ei serves a zone with a schedule, its own or one of its
 * boxes' (whose parent it is): what a schedule rule needs to know when the
 * equipment should run (the engine reads the same zones). */
static int serves_scheduled_zone(const struct sb_model *m, int32_t ei)
{
    const struct sb_equipment *e = ei >= 0 ? &m->equipment[ei] : NULL;
    if (!e)
        return 0;
    if (e->zone_ix >= 0 && m->zones[e->zone_ix].sched.set)
        return 1;
    for (size_t i = 0; i < m->nequipment; i++)
        if (m->equipment[i].parent_ix == ei && m->equipment[i].zone_ix >= 0 &&
            m->zones[m->equipment[i].zone_ix].sched.set)
            return 1;
    return 0;
}

/* What the model says against a schedule or forecast rule's point (the
 * rule's own checks cannot see the model): NULL, or why it is refused. */
static const char *point_unfit(const struct sb_model *m, const struct sb_arule *r)
{
    const struct sb_point *p = sb_model_point(m, r->target);
    if (!p)
        return NULL;                              /* rule_building reports it */
    if (r->type == SB_ART_SCHEDULE) {
        if (p->kind != SB_POINT_STATUS && p->kind != SB_POINT_POWER && p->kind != SB_POINT_FLOW)
            return "a schedule rule watches a status, power or flow point";
        if (!serves_scheduled_zone(m, p->equipment_ix))
            return "the point's equipment serves no zone with a schedule (its own zone or its "
                   "boxes' zones), so nothing says when it should run";
    }
    if (r->type == SB_ART_FORECAST && p->kind != SB_POINT_ENERGY && p->kind != SB_POINT_POWER)
        return "a forecast rule watches a meter's energy or power point";
    return NULL;
}

static json_t *rule_json(const struct sb_alert_rule *sr)
{
    json_error_t e;
    json_t *j = json_loads(sr->json, 0, &e);
    char t[40];
    if (!j)
        return NULL;
    json_object_set_new(j, "building", json_string(sr->building));
    json_object_set_new(j, "updated", json_string(sb_time_format(sr->updated_ms, t, sizeof(t))));
    json_object_set_new(j, "updated_by", sr->updated_by[0] ? json_string(sr->updated_by) : json_null());
    return j;
}

/* Parse, validate against the model and the user's scope, and store body
 * as rule (create: no rule exists with its id).  Answers on error. */
static int put_rule(struct sb_api *api, struct sb_req *rq, json_t *body, int create, int *created)
{
    const struct sb_model *m = sb_api__model(api, rq);
    struct sb_arule r;
    struct sb_alert_rule sr;
    char err[256];
    const char *building = NULL;

    json_object_del(body, "building");          /* the model says which; never the client */
    json_object_del(body, "updated");
    json_object_del(body, "updated_by");
    char *text = json_dumps(body, JSON_COMPACT);
    int rc = text ? sb_arule_parse(text, strlen(text), &r, err, sizeof(err)) : SB_ENOMEM;
    free(text);
    if (rc) {
        char field[32] = "rule";
        sscanf(err, "%31[a-z_]:", field);
        sb_api__bad_field(rq, field, err);
        return -1;
    }
    if (rule_building(m, &r, &building) || !sees(rq, m, building)) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown %s %.64s (or not in your scope)", target_key(&r), r.target);
        sb_api__bad_field(rq, target_key(&r), msg);
        return -1;
    }
    const char *unfit = point_unfit(m, &r);
    if (unfit) {
        sb_api__bad_field(rq, "point", unfit);
        return -1;
    }
    if (create && sb_appdb_alert_rule_get(api->ctx.db, r.id, &sr) == 0) {
        sb_api__err(rq, 409, "conflict", "a rule with this id exists");
        return -1;
    }
    snprintf(r.building, sizeof(r.building), "%s", building);
    char *canon = sb_arule_to_json(&r);
    if (!canon) {
        sb_api__err(rq, 503, "busy", "out of memory");
        return -1;
    }
    memset(&sr, 0, sizeof(sr));
    snprintf(sr.id, sizeof(sr.id), "%s", r.id);
    snprintf(sr.building, sizeof(sr.building), "%s", building);
    int fits = strlen(canon) < sizeof(sr.json);
    snprintf(sr.json, sizeof(sr.json), "%s", fits ? canon : "");
    free(canon);
    if (!fits) {
        sb_api__bad_field(rq, "rule", "the rule is too large");
        return -1;
    }
    sr.enabled = r.enabled;
    sr.updated_ms = NOW();
    snprintf(sr.updated_by, sizeof(sr.updated_by), "%s", rq->who.username);
    if ((rc = sb_appdb_alert_rule_put(api->ctx.db, &sr, created))) {
        sb_api__err_rc(rq, rc, "storing the rule");
        return -1;
    }
    if (api->ctx.alerts)
        sb_alerts_reload(api->ctx.alerts);
    if (sb_appdb_alert_rule_get(api->ctx.db, sr.id, &sr) == 0) {
        json_t *out = rule_json(&sr);
        char target[96];
        snprintf(target, sizeof(target), "alert-rule:%s", sr.id);
        sb_api__audit(api, rq, create ? "alert_rule.create" : "alert_rule.update", target, NULL, out,
                      "ok", NULL);
        sb_api__json(rq, create ? 201 : 200, out);
        if (create)
            sb_http__hdr(&rq->resp, "location:", "/api/v1/alert-rules/%s", sr.id);
    }
    return 0;
}

/* The stored rule named by the path, within scope; answers 404 otherwise. */
static int rule_param(struct sb_api *api, struct sb_req *rq, struct sb_alert_rule *sr)
{
    int rc = sb_appdb_alert_rule_get(api->ctx.db, rq->params[0], sr);
    if (rc == 0 && !sees(rq, sb_api__model(api, rq), sr->building))
        rc = SB_ENOENT;
    if (rc)
        sb_api__err(rq, rc == SB_ENOENT ? 404 : 503, rc == SB_ENOENT ? "not_found" : "unavailable",
                    rc == SB_ENOENT ? "no such alert rule" : "reading the alert rule");
    return rc;
}

void sb_api__h_arules_list(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "limit", "cursor", NULL };
    struct scope sc;
    struct sb_alert_rule_page pg;
    size_t limit;
    const char *cursor, *bld;

    if (sb_api__only_query(rq, q_ok) || sb_api__page_args(rq, &limit, &cursor) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    scope_of(rq, m, &sc);
    if ((bld = sb_req_q(rq, "building"))) {
        if (!sees(rq, m, bld)) {
            sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
            return;
        }
        sc.s.all = 0;
        sc.b[0] = bld;
        sc.s.buildings = sc.b;
        sc.s.n = 1;
    }
    memset(&pg, 0, sizeof(pg));
    int rc = sb_appdb_alert_rule_list(api->ctx.db, &sc.s, cursor ? cursor : "", (int)limit, &pg);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing alert rules");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < pg.n; i++)
        json_array_append_new(items, rule_json(&pg.v[i]));
    sb_api__json(rq, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor",
                                    pg.next_after[0] ? pg.next_after : NULL));
    sb_alert_rule_page_release(&pg);
}

void sb_api__h_arule_create(struct sb_api *api, struct sb_req *rq)
{
    json_t *b = sb_api__body(rq);
    int created = 0;
    if (b && ready(api, rq))
        put_rule(api, rq, b, 1, &created);
    json_decref(b);
}

void sb_api__h_arule_get(struct sb_api *api, struct sb_req *rq)
{
    struct sb_alert_rule sr;
    if (ready(api, rq) && rule_param(api, rq, &sr) == 0)
        sb_api__json(rq, 200, rule_json(&sr));
}

void sb_api__h_arule_patch(struct sb_api *api, struct sb_req *rq)
{
    struct sb_alert_rule sr;
    json_error_t e;
    json_t *b = sb_api__body(rq), *cur = NULL;
    int created = 0;

    if (!b || !ready(api, rq) || rule_param(api, rq, &sr))
        goto out;
    if (!(cur = json_loads(sr.json, 0, &e))) {
        sb_api__err(rq, 500, "internal", "the stored rule does not parse");
        goto out;
    }
    json_t *id = json_object_get(b, "id"), *type = json_object_get(b, "type");
    if ((id && !json_equal(id, json_object_get(cur, "id"))) ||
        (type && !json_equal(type, json_object_get(cur, "type")))) {
        sb_api__bad_field(rq, id ? "id" : "type", "a rule's id and type cannot change (delete and create)");
        goto out;
    }
    if (sb_api__merge_patch(cur, b)) {
        sb_api__err(rq, 503, "busy", "out of memory");
        goto out;
    }
    put_rule(api, rq, cur, 0, &created);
out:
    json_decref(cur);
    json_decref(b);
}

void sb_api__h_arule_delete(struct sb_api *api, struct sb_req *rq)
{
    struct sb_alert_rule sr;
    if (!ready(api, rq) || rule_param(api, rq, &sr))
        return;
    int rc = sb_appdb_alert_rule_delete(api->ctx.db, sr.id);
    if (rc) {
        sb_api__err_rc(rq, rc, "deleting the rule");
        return;
    }
    if (api->ctx.alerts)
        sb_alerts_reload(api->ctx.alerts);
    char target[96];
    snprintf(target, sizeof(target), "alert-rule:%s", sr.id);
    json_t *before = rule_json(&sr);            /* the audit copies it, it does not take it */
    sb_api__audit(api, rq, "alert_rule.delete", target, before, NULL, "ok", NULL);
    json_decref(before);
    rq->resp.status = 204;
}

/* ---- templates ---------------------------------------------------------------------------- */

struct tmpl {
    const char *id, *name, *applies_to, *description;
};

static const struct tmpl TEMPLATES[] = {
    { "zone-comfort", "Zone comfort", "zone",
      "Each zone with a comfort band: more than 2 K·h outside it while occupied in the last 24 h (minor)." },
    { "device-offline", "Device offline", "equipment",
      "Each equipment with polled points: all of them stale for 5 minutes (major)." },
    { "zone-temp-stale", "Zone temperature stale", "point",
      "Each zone temperature sensor: no good reading for 15 minutes or 3 poll intervals, whichever is longer (minor)." },
    { "co2-high", "High CO2", "point",
      "Each CO2 sensor: above 1,100 ppm for 10 minutes, clears below 1,000 ppm (minor)." },
    { "discharge-air-temp", "Discharge air temperature out of range", "point",
      "Each air handler's discharge air temperature sensor: above 20 °C or below 10 °C for 15 minutes (major)." },
    { "fan-schedule", "Fan out of schedule", "point",
      "Each fan status point (tagged fan) of equipment serving zones with a schedule: running for 1 hour "
      "while every zone it serves is unoccupied (minor; the hour allows for optimum start and run-on)." },
};
#define NTEMPLATES (sizeof(TEMPLATES) / sizeof(TEMPLATES[0]))

void sb_api__h_atemplates(struct sb_api *api, struct sb_req *rq)
{
    json_t *items = json_array();
    for (size_t i = 0; i < NTEMPLATES; i++)
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s}", "id", TEMPLATES[i].id, "name",
                                               TEMPLATES[i].name, "applies_to", TEMPLATES[i].applies_to,
                                               "description", TEMPLATES[i].description));
    sb_api__json(rq, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
}

static int has_tags(const struct sb_point *p, const char *const *want)
{
    for (size_t i = 0; want[i]; i++) {
        size_t k = 0;
        while (k < p->tags.n && strcmp(p->tags.v[k], want[i]) != 0)
            k++;
        if (k == p->tags.n)
            return 0;
    }
    return 1;
}

/* One rule of template t for object slug (name, building), stored unless it exists. */
static void apply_one(struct sb_api *api, struct sb_req *rq, const char *tid, json_t *rule,
                      json_t *created, json_t *skipped)
{
    const char *id = json_string_value(json_object_get(rule, "id"));
    struct sb_alert_rule sr;
    char *text = NULL, err[256];
    struct sb_arule r;
    const char *why = NULL;

    json_object_set_new(rule, "template", json_string(tid));
    if (!id || !sb_slug_valid(id))
        why = "its id would not be a valid slug";
    else if (sb_appdb_alert_rule_get(api->ctx.db, id, &sr) == 0)
        why = "exists";
    else if (!(text = json_dumps(rule, JSON_COMPACT)) ||
             sb_arule_parse(text, strlen(text), &r, err, sizeof(err)))
        why = "not valid";
    if (!why) {
        const char *b = NULL;
        char *canon = rule_building(sb_api__model(api, rq), &r, &b) ? NULL
                      : (snprintf(r.building, sizeof(r.building), "%s", b), sb_arule_to_json(&r));
        memset(&sr, 0, sizeof(sr));
        snprintf(sr.id, sizeof(sr.id), "%s", r.id);
        snprintf(sr.building, sizeof(sr.building), "%s", b ? b : "");
        if (canon && strlen(canon) < sizeof(sr.json)) {
            snprintf(sr.json, sizeof(sr.json), "%s", canon);
            sr.enabled = 1;
            sr.updated_ms = NOW();
            snprintf(sr.updated_by, sizeof(sr.updated_by), "%s", rq->who.username);
            if (sb_appdb_alert_rule_put(api->ctx.db, &sr, NULL))
                why = "could not be stored";
        } else {
            why = "not valid";
        }
        free(canon);
    }
    free(text);
    if (why)
        json_array_append_new(skipped, json_pack("{s:s?, s:s}", "id", id, "reason", why));
    else
        json_array_append_new(created, json_string(id));
}

/* The rules template tid makes for building b (appended to rules). */
static void template_rules(const struct sb_model *m, size_t b, const char *tid, json_t *rules)
{
    char id[SB_SLUG_MAX + 16], name[200];
    if (strcmp(tid, "zone-comfort") == 0) {
        for (size_t z = 0; z < m->nzones; z++) {
            const struct sb_zone *zo = &m->zones[z];
            if ((size_t)zo->building_ix != b || !zo->comfort.set)
                continue;
            snprintf(id, sizeof(id), "%s-comfort", zo->slug);
            snprintf(name, sizeof(name), "%.100s: comfort", zo->name);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f}", "id", id, "name", name,
                                                   "type", "comfort", "zone", zo->slug, "severity",
                                                   "minor", "kh_limit", 2.0));
        }
        return;
    }
    for (size_t i = 0; i < m->nequipment && strcmp(tid, "device-offline") == 0; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        size_t polled = 0;
        for (size_t k = 0; k < m->npoints; k++)
            polled += m->points[k].equipment_ix == (int32_t)i &&
                      m->points[k].source.driver != SB_DRIVER_VIRTUAL;
        if ((size_t)e->building_ix != b || !polled)
            continue;
        snprintf(id, sizeof(id), "%s-offline", e->slug);
        snprintf(name, sizeof(name), "%.100s: offline", e->name);
        json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", id, "name", name,
                                               "type", "offline", "equipment", e->slug, "severity",
                                               "major", "on_delay_s", 300));
    }
    static const char *const dat[] = { "discharge", "air", "temp", "sensor", NULL };
    static const char *const fan[] = { "fan", NULL };
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if ((size_t)p->building_ix != b)
            continue;
        const struct sb_equipment *e = p->equipment_ix >= 0 ? &m->equipment[p->equipment_ix] : NULL;
        if (strcmp(tid, "zone-temp-stale") == 0 && p->kind == SB_POINT_TEMPERATURE && e &&
            e->zone_ix >= 0 && p->source.driver != SB_DRIVER_VIRTUAL) {
            int after = p->source.poll_ms ? (int)(3 * p->source.poll_ms / 1000) : 180;
            snprintf(id, sizeof(id), "%s-stale", p->slug);
            snprintf(name, sizeof(name), "%.100s: no data", p->name);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", id, "name",
                                                   name, "type", "stale", "point", p->slug, "severity",
                                                   "minor", "after_s", after > 900 ? after : 900));
        } else if (strcmp(tid, "co2-high") == 0 && p->kind == SB_POINT_CO2) {
            snprintf(id, sizeof(id), "%s-high", p->slug);
            snprintf(name, sizeof(name), "%.100s: high CO2", p->name);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:i, s:i}", "id", id,
                                                   "name", name, "type", "threshold", "point", p->slug,
                                                   "severity", "minor", "above", 1100.0, "hysteresis",
                                                   100.0, "on_delay_s", 600, "off_delay_s", 300));
        } else if (strcmp(tid, "fan-schedule") == 0 && p->kind == SB_POINT_STATUS && has_tags(p, fan) &&
                   serves_scheduled_zone(m, p->equipment_ix)) {
            snprintf(id, sizeof(id), "%s-schedule", p->slug);
            snprintf(name, sizeof(name), "%.100s: running out of schedule", p->name);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:i, s:i}", "id", id,
                                                   "name", name, "type", "schedule", "point", p->slug,
                                                   "severity", "minor", "running_above", 0.5,
                                                   "on_delay_s", 3600, "off_delay_s", 300));
        } else if (strcmp(tid, "discharge-air-temp") == 0 && p->kind == SB_POINT_TEMPERATURE && e &&
                   (e->type == SB_EQUIP_AHU || e->type == SB_EQUIP_RTU) && has_tags(p, dat)) {
            snprintf(id, sizeof(id), "%s-range", p->slug);
            snprintf(name, sizeof(name), "%.100s: out of range", p->name);
            json_array_append_new(rules, json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f, s:i, s:i}", "id",
                                                   id, "name", name, "type", "threshold", "point",
                                                   p->slug, "severity", "major", "above", 20.0, "below",
                                                   10.0, "hysteresis", 0.5, "on_delay_s", 900,
                                                   "off_delay_s", 300));
        }
    }
}

void sb_api__h_atemplates_apply(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "building", "templates", NULL };
    json_t *b = sb_api__body(rq), *v;
    size_t i;
    if (!b || sb_api__only_keys(rq, b, keys) || !ready(api, rq))
        goto out;
    const struct sb_model *m = sb_api__model(api, rq);
    const char *bld = json_string_value(json_object_get(b, "building"));
    int bi = bld ? building_ix(m, bld) : -1;
    if (bi < 0 || !sb_api__in_scope(&rq->who, m, (size_t)bi)) {
        sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
        goto out;
    }
    json_t *ts = json_object_get(b, "templates");
    if (!json_is_array(ts) || json_array_size(ts) == 0) {
        sb_api__bad_field(rq, "templates", "templates is a non-empty array of template ids");
        goto out;
    }
    json_array_foreach(ts, i, v) {
        size_t k = 0;
        while (k < NTEMPLATES && (!json_is_string(v) || strcmp(TEMPLATES[k].id, json_string_value(v))))
            k++;
        if (k == NTEMPLATES) {
            sb_api__bad_field(rq, "templates", "unknown template (GET /api/v1/alert-templates lists them)");
            goto out;
        }
    }
    json_t *created = json_array(), *skipped = json_array();
    json_array_foreach(ts, i, v) {
        json_t *rules = json_array(), *r;
        size_t k;
        template_rules(m, (size_t)bi, json_string_value(v), rules);
        json_array_foreach(rules, k, r)
            apply_one(api, rq, json_string_value(v), r, created, skipped);
        json_decref(rules);
    }
    if (api->ctx.alerts)
        sb_alerts_reload(api->ctx.alerts);
    json_t *res = json_pack("{s:o, s:o}", "created", created, "skipped", skipped);
    char target[96];
    snprintf(target, sizeof(target), "building:%s", bld);
    sb_api__audit(api, rq, "alert_rule.templates", target, NULL, res, "ok", NULL);
    sb_api__json(rq, 201, res);
out:
    json_decref(b);
}

/* ---- alerts ------------------------------------------------------------------------------- */

/* The alert with what its rule watches (for links and charts). */
static json_t *alert_out(struct sb_api *api, const struct sb_model *m, const struct sb_alert *a)
{
    json_t *j = sb_alert_json(a);
    struct sb_alert_rule sr;
    struct sb_arule r;
    char err[64];
    if (!j)
        return NULL;
    json_object_set_new(j, "rule_name", json_null());
    if (sb_appdb_alert_rule_get(api->ctx.db, a->rule, &sr) == 0 &&
        sb_arule_parse(sr.json, strlen(sr.json), &r, err, sizeof(err)) == 0) {
        json_object_set_new(j, "rule_name", json_string(r.name));
        json_object_set_new(j, target_key(&r), json_string(r.target));
        if (r.type != SB_ART_OFFLINE && r.type != SB_ART_COMFORT) {
            const struct sb_point *p = sb_model_point(m, r.target);
            if (p) {
                json_object_set_new(j, "point_id", json_integer(p->id));
                json_object_set_new(j, "unit", json_string(sb_unit_symbol(p->canon)));
                if (p->equipment_ix >= 0)
                    json_object_set_new(j, "equipment",
                                        json_string(m->equipment[p->equipment_ix].slug));
            }
        }
    }
    return j;
}

static int mask_of(const char *list, int (*parse)(const char *), unsigned *out)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", list);
    *out = 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int v = parse(t);
        if (v < 0)
            return -1;
        *out |= SB_ALERT_BIT(v);
    }
    return 0;
}

void sb_api__h_alerts_list(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "state", "severity", "rule", "assignee", "limit",
                                        "cursor", NULL };
    struct scope sc;
    struct sb_alert_filter f;
    struct sb_alert_page pg;
    size_t limit;
    const char *cursor, *v;

    if (sb_api__only_query(rq, q_ok) || sb_api__page_args(rq, &limit, &cursor) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    memset(&f, 0, sizeof(f));
    scope_of(rq, m, &sc);
    if ((v = sb_req_q(rq, "building"))) {
        if (!sees(rq, m, v)) {
            sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
            return;
        }
        sc.s.all = 0;
        sc.b[0] = v;
        sc.s.buildings = sc.b;
        sc.s.n = 1;
    }
    f.scope = sc.s;
    v = sb_req_q(rq, "state");
    if (!v || strcmp(v, "open") == 0)
        f.states = SB_ALERT_OPEN;
    else if (strcmp(v, "all") != 0 && mask_of(v, sb_alert_state_parse, &f.states)) {
        sb_api__bad_field(rq, "state", "state is open, all, active, acknowledged or resolved");
        return;
    }
    if ((v = sb_req_q(rq, "severity")) && mask_of(v, sb_alert_sev_parse, &f.severities)) {
        sb_api__bad_field(rq, "severity", "severity is critical, major, minor or info (comma-separated)");
        return;
    }
    f.rule = sb_req_q(rq, "rule");
    f.assignee = sb_req_q(rq, "assignee");
    f.limit = (int)limit;
    if (cursor && (f.before_id = strtoll(cursor, NULL, 10)) <= 0) {
        sb_api__bad_field(rq, "cursor", "cursor must be a next_cursor from an earlier page");
        return;
    }
    memset(&pg, 0, sizeof(pg));
    int rc = sb_appdb_alert_list(api->ctx.db, &f, &pg);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing alerts");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < pg.n; i++)
        json_array_append_new(items, alert_out(api, m, &pg.v[i]));
    char next[24];
    snprintf(next, sizeof(next), "%" PRId64, pg.next_before_id);
    sb_api__json(rq, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor",
                                    pg.next_before_id ? next : NULL));
    sb_alert_page_release(&pg);
}

/* The alert of the path, within scope; answers 404 otherwise. */
static int alert_param(struct sb_api *api, struct sb_req *rq, struct sb_alert *a)
{
    char *end = NULL;
    int64_t id = strtoll(rq->params[0], &end, 10);
    int rc = id > 0 && end && !*end ? sb_appdb_alert_get(api->ctx.db, id, a) : SB_ENOENT;
    if (rc == 0 && !sees(rq, sb_api__model(api, rq), a->building))
        rc = SB_ENOENT;
    if (rc)
        sb_api__err(rq, rc == SB_ENOENT ? 404 : 503, rc == SB_ENOENT ? "not_found" : "unavailable",
                    rc == SB_ENOENT ? "no such alert" : "reading the alert");
    return rc;
}

/* The alert with its whole history. */
static json_t *alert_full(struct sb_api *api, const struct sb_model *m, const struct sb_alert *a)
{
    json_t *j = alert_out(api, m, a), *evs = json_array();
    struct sb_alert_event *ev = NULL;
    size_t n = 0;
    int64_t next = 0;
    char t[40];
    if (j && sb_appdb_alert_events(api->ctx.db, a->id, 0, SB_ALERT_PAGE_MAX, &ev, &n, &next) == 0)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(evs, json_pack("{s:s, s:I, s:s, s:s, s:s?}", "t",
                                                 sb_time_format(ev[i].ts_ms, t, sizeof(t)), "ts",
                                                 (json_int_t)ev[i].ts_ms, "kind", ev[i].kind, "actor",
                                                 ev[i].actor, "detail",
                                                 ev[i].detail[0] ? ev[i].detail : NULL));
    free(ev);
    if (j)
        json_object_set_new(j, "events", evs);
    else
        json_decref(evs);
    return j;
}

void sb_api__h_alert_get(struct sb_api *api, struct sb_req *rq)
{
    struct sb_alert a;
    if (ready(api, rq) && alert_param(api, rq, &a) == 0)
        sb_api__json(rq, 200, alert_full(api, sb_api__model(api, rq), &a));
}

/* A string member of at most max bytes (NULL when absent); -1 after answering. */
static int opt_str(struct sb_req *rq, json_t *b, const char *k, size_t max, const char **out)
{
    json_t *v = json_object_get(b, k);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%s must be a string of at most %zu bytes", k, max);
        sb_api__bad_field(rq, k, msg);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* POST /api/v1/alerts/{alert}/<action>: the action is the path's last segment. */
void sb_api__h_alert_act(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "note", "text", "assignee", "duration_s", NULL };
    const char *act = strrchr(rq->path, '/') + 1, *note = NULL, *text = NULL, *who = NULL;
    struct sb_alert a, out;
    json_t *b = sb_api__body(rq);
    int rc;
    int64_t now = NOW();

    if (!b || sb_api__only_keys(rq, b, keys) || !ready(api, rq) || alert_param(api, rq, &a))
        goto done;
    if (opt_str(rq, b, "note", SB_ALERT_NOTE_MAX, &note) || opt_str(rq, b, "text", SB_ALERT_NOTE_MAX, &text) ||
        opt_str(rq, b, "assignee", 64, &who))
        goto done;
    const char *me = rq->who.username;
    if (strcmp(act, "acknowledge") == 0) {
        rc = sb_appdb_alert_ack(api->ctx.db, a.id, me, note, now, &out);
    } else if (strcmp(act, "resolve") == 0) {
        rc = sb_appdb_alert_resolve(api->ctx.db, a.id, me, note, now, &out);
    } else if (strcmp(act, "notes") == 0) {
        if (!text || !*text) {
            sb_api__bad_field(rq, "text", "text is the note, 1 to 1000 characters");
            goto done;
        }
        rc = sb_appdb_alert_note(api->ctx.db, a.id, me, text, now, &out);
    } else if (strcmp(act, "unshelve") == 0) {
        rc = sb_appdb_alert_unshelve(api->ctx.db, a.id, me, now, &out);
    } else if (strcmp(act, "shelve") == 0) {
        json_t *d = json_object_get(b, "duration_s");
        if (!json_is_integer(d) || json_integer_value(d) < 60 || json_integer_value(d) > 604800) {
            sb_api__bad_field(rq, "duration_s", "duration_s is a whole number of seconds from 60 to 604800");
            goto done;
        }
        rc = sb_appdb_alert_shelve(api->ctx.db, a.id, now + json_integer_value(d) * 1000, me, note, now,
                                   &out);
    } else {                                   /* assign */
        struct sb_user u;
        if (!who || !*who) {
            sb_api__bad_field(rq, "assignee", "assignee is a username");
            goto done;
        }
        /* an operator may take an alert; handing it to someone else is a manager's */
        if (strcmp(who, me) != 0 && !sb_api__has(&rq->who, SB_NEED_MANAGER)) {
            sb_api__err(rq, 403, "forbidden", "an operator may assign an alert only to themselves");
            goto done;
        }
        struct sb_principal p;
        int ok = sb_appdb_user_by_name(api->ctx.db, who, &u) == 0 && !u.disabled &&
                 sb_api__principal_load(api, u.id, &p) == 0 && sb_api__has(&p, SB_NEED_OPERATOR) &&
                 sees(&(struct sb_req){ .who = p }, sb_api__model(api, rq), a.building);
        if (!ok) {
            sb_api__bad_field(rq, "assignee", "no such active user who may act on this building");
            goto done;
        }
        rc = sb_appdb_alert_assign(api->ctx.db, a.id, u.username, me, note, now, &out);
    }
    if (rc == SB_EEXIST) {
        sb_api__err(rq, 409, "conflict", "the alert's state does not allow this (someone changed it meanwhile?)");
        goto done;
    }
    if (rc) {
        sb_api__err_rc(rq, rc, "changing the alert");
        goto done;
    }
    static const struct { const char *act, *event; } EV[] = {
        { "acknowledge", "acknowledged" }, { "resolve", "resolved" }, { "notes", "note" },
        { "unshelve", "unshelved" }, { "shelve", "shelved" }, { "assign", "assigned" } };
    const char *event = "changed";
    for (size_t i = 0; i < sizeof(EV) / sizeof(EV[0]); i++)
        if (strcmp(EV[i].act, act) == 0)
            event = EV[i].event;
    if (api->ctx.alerts)
        sb_alerts_changed(api->ctx.alerts, &out, event);
    char target[64];
    snprintf(target, sizeof(target), "alert:%" PRId64, out.id);
    json_t *what = json_pack("{s:s, s:s?}", "action", act, "note", note ? note : text);
    sb_api__audit(api, rq, "alert.update", target, NULL, what, "ok", NULL);   /* copied, not taken */
    json_decref(what);
    sb_api__json(rq, 200, alert_full(api, sb_api__model(api, rq), &out));
done:
    json_decref(b);
}

/* ---- subscriptions ------------------------------------------------------------------------- */

static json_t *sub_json(const struct sb_alert_sub *u)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:b, s:b, s:i}", "id", (json_int_t)u->id,
                     "user", u->username, "channel", u->channel, "target", u->target, "building",
                     u->building[0] ? u->building : NULL, "min_severity",
                     u->min_severity ? sb_alert_sev_name(u->min_severity) : NULL, "quiet_start",
                     u->quiet_start[0] ? u->quiet_start : NULL, "quiet_end",
                     u->quiet_end[0] ? u->quiet_end : NULL, "has_secret", u->has_secret, "enabled",
                     u->enabled, "level", u->level);
}

void sb_api__h_asubs_list(struct sb_api *api, struct sb_req *rq)
{
    struct sb_alert_sub *v = NULL;
    size_t n = 0;
    if (sb_api__only_query(rq, (const char *const[]){ NULL }) || !ready(api, rq))
        return;
    int rc = sb_appdb_alert_sub_list(api->ctx.db, rq->who.uid, &v, &n);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing subscriptions");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, sub_json(&v[i]));
    free(v);
    /* what a level means in time (the UI words it); 0: nothing escalates */
    int64_t esc = api->ctx.alerts ? sb_alerts_escalate_after(api->ctx.alerts) : 0;
    sb_api__json(rq, 200, json_pack("{s:o, s:n, s:I}", "items", items, "next_cursor",
                                    "escalate_after_s", (json_int_t)(esc / 1000)));
}

static int valid_hhmm(const char *s)
{
    return s && strlen(s) == 5 && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' && s[1] <= '9' && s[2] == ':' &&
           s[3] >= '0' && s[3] <= '5' && s[4] >= '0' && s[4] <= '9' && (s[0] - '0') * 10 + (s[1] - '0') < 24;
}

void sb_api__h_asub_create(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "channel", "target", "building", "min_severity", "quiet_start",
                                        "quiet_end", "level", NULL };
    json_t *b = sb_api__body(rq);
    struct sb_alert_sub u;
    const char *ch, *tg, *bl, *sv, *qs, *qe;
    if (!b || sb_api__only_keys(rq, b, keys) || !ready(api, rq))
        goto out;
    if (opt_str(rq, b, "channel", 7, &ch) || opt_str(rq, b, "target", SB_ALERT_TARGET_MAX, &tg) ||
        opt_str(rq, b, "building", SB_SLUG_MAX, &bl) || opt_str(rq, b, "min_severity", 15, &sv) ||
        opt_str(rq, b, "quiet_start", 5, &qs) || opt_str(rq, b, "quiet_end", 5, &qe))
        goto out;
    memset(&u, 0, sizeof(u));
    if (!ch || (strcmp(ch, "webhook") && strcmp(ch, "email") && strcmp(ch, "mqtt"))) {
        sb_api__bad_field(rq, "channel", "channel is webhook, email or mqtt");
        goto out;
    }
    if (!strcmp(ch, "webhook") && (!tg || (strncmp(tg, "https://", 8) && strncmp(tg, "http://", 7)))) {
        sb_api__bad_field(rq, "target", "a webhook's target is an http:// or https:// URL");
        goto out;
    }
    if (!strcmp(ch, "email") && (!tg || !sb_notify_addr_ok(tg))) {
        /* the sender's own rule, so nothing is stored that would fail on every alert */
        sb_api__bad_field(rq, "target", "an e-mail target is one plain address (name@example.com)");
        goto out;
    }
    if (!strcmp(ch, "mqtt"))
        tg = NULL;                             /* the topic is <alerts.mqtt_topic>/<building>/<severity> */
    if (bl && !sees(rq, sb_api__model(api, rq), bl)) {
        sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
        goto out;
    }
    if (sv && sb_alert_sev_parse(sv) < 0) {
        sb_api__bad_field(rq, "min_severity", "min_severity is critical, major, minor or info");
        goto out;
    }
    if ((qs || qe) && !(valid_hhmm(qs) && valid_hhmm(qe) && strcmp(qs, qe) != 0)) {
        sb_api__bad_field(rq, "quiet_start", "quiet hours are two different times, quiet_start and quiet_end, as HH:MM");
        goto out;
    }
    json_t *lv = json_object_get(b, "level");
    if (lv && !json_is_null(lv) && (!json_is_integer(lv) || json_integer_value(lv) < 0 ||
                                    json_integer_value(lv) > SB_ALERT_SUB_LEVEL_MAX)) {
        sb_api__bad_field(rq, "level", "level is 0 (told when an alert is raised) or 1 to 3 (told when it is "
                                       "still not acknowledged after that many times alerts.escalate_after)");
        goto out;
    }
    u.level = lv && json_is_integer(lv) ? (int)json_integer_value(lv) : 0;
    u.user_id = rq->who.uid;
    snprintf(u.channel, sizeof(u.channel), "%s", ch);
    snprintf(u.target, sizeof(u.target), "%s", tg ? tg : "");
    snprintf(u.building, sizeof(u.building), "%s", bl ? bl : "");
    u.min_severity = sv ? sb_alert_sev_parse(sv) : 0;
    snprintf(u.quiet_start, sizeof(u.quiet_start), "%s", qs ? qs : "");
    snprintf(u.quiet_end, sizeof(u.quiet_end), "%s", qe ? qe : "");
    u.enabled = 1;
    char secret[65] = "";
    if (!strcmp(ch, "webhook")) {                   /* HMAC key, shown once (alerts-notify.md) */
        unsigned char k[32];
        randombytes_buf(k, sizeof(k));
        sodium_bin2hex(secret, sizeof(secret), k, sizeof(k));
        snprintf(u.secret, sizeof(u.secret), "%s", secret);
        sodium_memzero(k, sizeof(k));
    }
    int rc = sb_appdb_alert_sub_add(api->ctx.db, &u);
    if (rc == SB_ERANGE || rc == SB_ENOSPC) {   /* the store's per-user cap */
        sb_api__err(rq, 409, "conflict", "at most 64 notification subscriptions per user");
        goto out;
    }
    if (rc) {
        sb_api__err_rc(rq, rc, "storing the subscription");
        goto out;
    }
    snprintf(u.username, sizeof(u.username), "%s", rq->who.username);
    u.has_secret = secret[0] != 0;
    json_t *res = sub_json(&u);
    char target[64];
    snprintf(target, sizeof(target), "alert-subscription:%" PRId64, u.id);
    sb_api__audit(api, rq, "alert_sub.create", target, NULL, res, "ok", NULL);
    if (secret[0])
        json_object_set_new(res, "secret", json_string(secret));
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(u.secret, sizeof(u.secret));
    sb_api__json(rq, 201, res);
out:
    json_decref(b);
}

void sb_api__h_asub_delete(struct sb_api *api, struct sb_req *rq)
{
    char *end = NULL;
    int64_t id = strtoll(rq->params[0], &end, 10);
    if (!ready(api, rq))
        return;
    int rc = id > 0 && end && !*end ? sb_appdb_alert_sub_delete(api->ctx.db, id, rq->who.uid) : SB_ENOENT;
    if (rc) {
        sb_api__err(rq, rc == SB_ENOENT ? 404 : 503, rc == SB_ENOENT ? "not_found" : "unavailable",
                    rc == SB_ENOENT ? "no such subscription of yours" : "deleting the subscription");
        return;
    }
    char target[64];
    snprintf(target, sizeof(target), "alert-subscription:%" PRId64, id);
    sb_api__audit(api, rq, "alert_sub.delete", target, NULL, NULL, "ok", NULL);
    rq->resp.status = 204;
}

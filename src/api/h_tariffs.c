/*
 * h_tariffs.c - tariffs, a building's tariff, holidays and savings
 * measures (documents in the app database, db/appdb.h), and the two
 * computations that read them: cost (bills of a meter through the
 * building's tariff) and measured savings (IPMVP Option C with the CalTRACK
 * methods, analytics/mv.h).  docs/api.md "Analytics".
 *
 * A tariff is validated by analytics/tariff.h before it is stored and is
 * stored in its canonical form.  Tariffs are shared definitions (a utility's
 * rate): managers create and change them; one still assigned to a building
 * cannot be deleted (409).  Changes are audited.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/bdocs.h"
#include "analytics/meter.h"
#include "analytics/mv.h"
#include "analytics/service.h"
#include "analytics/tariff.h"
#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "model/hub.h"
#include "model/slug.h"

#define DAY_MS (24 * SB_HOUR_MS)
#define MAX_SPAN_DAYS (3 * 366)


static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.db || !api->ctx.models || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "the app database or the model is not open");
        return 0;
    }
    return 1;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* ---- tariffs ------------------------------------------------------------------ */

static json_t *doc_json(const struct sb_doc *d)
{
    return json_loads(d->body, 0, NULL);
}

void sb_api__h_tariffs_list(struct sb_api *api, struct sb_req *rq)
{
    struct sb_doc *v = NULL;
    size_t n = 0;

    if (!ready(api, rq))
        return;
    int rc = sb_appdb_doc_list(api->ctx.db, "tariff", NULL, 0, &v, &n);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing tariffs");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = doc_json(&v[i]);
        if (j)
            json_array_append_new(items, j);
    }
    sb_docs_free(v, n);
    sb_api__json(rq, 200, json_pack("{s:o}", "items", items));
}

void sb_api__h_tariff_get(struct sb_api *api, struct sb_req *rq)
{
    struct sb_doc d;

    if (!ready(api, rq))
        return;
    int rc = sb_appdb_doc_get(api->ctx.db, "tariff", rq->params[0], &d);
    if (rc) {
        sb_api__err_rc(rq, rc, "no such tariff");
        return;
    }
    sb_api__json(rq, 200, doc_json(&d));
    sb_doc_release(&d);
}

void sb_api__h_tariff_put(struct sb_api *api, struct sb_req *rq)
{
    struct sb_tariff *t = calloc(1, sizeof(*t));
    struct sb_doc d, old;
    char err[256];
    int rc;

    if (!t) {
        sb_api__err_rc(rq, SB_ENOMEM, "tariff");
        return;
    }
    if (!ready(api, rq))
        goto out;
    if (!sb_slug_valid(rq->params[0])) {
        sb_api__bad_field(rq, "tariff", "a tariff id is a slug: lower-case letters, digits, '-'");
        goto out;
    }
    if (!rq->body || (rc = sb_tariff_parse(rq->body, rq->body_len, t, err, sizeof(err)))) {
        sb_api__err(rq, 400, "invalid", rq->body ? err : "a tariff JSON document is required");
        goto out;
    }
    if (strcmp(t->id, rq->params[0]) != 0) {
        sb_api__bad_field(rq, "id", "the tariff's id must be the id in the path");
        goto out;
    }
    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "tariff");
    snprintf(d.key, sizeof(d.key), "%s", t->id);
    d.updated_ms = sb_now_ms();
    if (!(d.body = sb_tariff_to_json(t))) {
        sb_api__err_rc(rq, SB_ENOMEM, "tariff");
        goto out;
    }
    int existed = sb_appdb_doc_get(api->ctx.db, "tariff", d.key, &old) == 0;
    json_t *before = existed ? doc_json(&old) : NULL;
    if (existed)
        sb_doc_release(&old);
    rc = sb_appdb_doc_put(api->ctx.db, &d);
    if (rc == 0) {
        json_t *after = json_loads(d.body, 0, NULL);
        sb_api__audit(api, rq, existed ? "tariff.update" : "tariff.create", d.key, before, after,
                      "ok", NULL);
        sb_api__json(rq, existed ? 200 : 201, after);
    } else {
        sb_api__err_rc(rq, rc, "storing the tariff");
    }
    json_decref(before);
    free(d.body);
out:
    free(t);
}

/* 1 when some building's tariff is id. */
static int tariff_in_use(struct sb_api *api, const char *id, char *who, size_t cap)
{
    struct sb_doc *v = NULL;
    size_t n = 0;
    int used = 0;

    if (sb_appdb_doc_list(api->ctx.db, "building_tariff", NULL, 0, &v, &n))
        return 1;   /* cannot tell: refuse to delete */
    for (size_t i = 0; i < n && !used; i++) {
        json_t *j = doc_json(&v[i]);
        const char *t = json_string_value(json_object_get(j, "tariff"));
        if (t && strcmp(t, id) == 0) {
            used = 1;
            snprintf(who, cap, "%s", v[i].key);
        }
        json_decref(j);
    }
    sb_docs_free(v, n);
    return used;
}

void sb_api__h_tariff_delete(struct sb_api *api, struct sb_req *rq)
{
    char who[SB_DOC_KEY_MAX + 1] = "", msg[300];
    struct sb_doc old;

    if (!ready(api, rq))
        return;
    if (sb_appdb_doc_get(api->ctx.db, "tariff", rq->params[0], &old)) {
        sb_api__err(rq, 404, "not_found", "no such tariff");
        return;
    }
    json_t *before = doc_json(&old);
    sb_doc_release(&old);
    if (tariff_in_use(api, rq->params[0], who, sizeof(who))) {
        snprintf(msg, sizeof(msg), "the tariff is assigned to building %s: assign another first",
                 who[0] ? who : "(unknown)");
        sb_api__err(rq, 409, "conflict", msg);
    } else if (sb_appdb_doc_delete(api->ctx.db, "tariff", rq->params[0]) == 0) {
        sb_api__audit(api, rq, "tariff.delete", rq->params[0], before, NULL, "ok", NULL);
        rq->resp.status = 204;
    } else {
        sb_api__err(rq, 404, "not_found", "no such tariff");
    }
    json_decref(before);
}

/* ---- per-building documents: tariff, holidays, measures ---------------------------- */

/* A building document's kind for the route (its last segment). */
static const char *bdoc_kind(const struct sb_req *rq)
{
    const char *p = strrchr(rq->route->path, '/');
    return strcmp(p, "/tariff") == 0 ? "building_tariff" : strcmp(p, "/holidays") == 0 ? "holidays"
                                                                                         : "measures";
}

static json_t *bdoc_empty(const char *kind)
{
    if (strcmp(kind, "building_tariff") == 0)
        return json_pack("{s:n}", "tariff");
    return json_pack("{s:[]}", strcmp(kind, "holidays") == 0 ? "days" : "measures");
}

void sb_api__h_bdoc_get(struct sb_api *api, struct sb_req *rq)
{
    const char *kind = bdoc_kind(rq);
    struct sb_doc d;

    if (!ready(api, rq))
        return;
    if (sb_appdb_doc_get(api->ctx.db, kind, rq->params[0], &d) == 0) {
        sb_api__json(rq, 200, doc_json(&d));
        sb_doc_release(&d);
    } else {
        sb_api__json(rq, 200, bdoc_empty(kind));
    }
}


/* Checks a building document; 0 or a message in err naming the field. */
static int bdoc_check(struct sb_api *api, const char *kind, json_t *b, char *err, size_t cap)
{
    if (strcmp(kind, "building_tariff") == 0) {
        json_t *t = json_object_get(b, "tariff");
        struct sb_doc d;
        if (json_object_size(b) != 1 || !(json_is_null(t) || json_is_string(t))) {
            snprintf(err, cap, "tariff: give {\"tariff\": \"<id>\"} or {\"tariff\": null}");
            return -1;
        }
        if (json_is_string(t)) {
            if (sb_appdb_doc_get(api->ctx.db, "tariff", json_string_value(t), &d)) {
                snprintf(err, cap, "tariff: no tariff %s", json_string_value(t));
                return -1;
            }
            sb_doc_release(&d);
        }
        return 0;
    }
    int hol = strcmp(kind, "holidays") == 0;
    const char *list = hol ? "days" : "measures";
    json_t *arr = json_object_get(b, list), *e;
    size_t i;
    if (json_object_size(b) != 1 || !json_is_array(arr) || json_array_size(arr) > 1000) {
        snprintf(err, cap, "%s: give {\"%s\": [...]} with at most 1000 entries", list, list);
        return -1;
    }
    json_array_foreach(arr, i, e) {
        const char *date = json_string_value(json_object_get(e, hol ? "date" : "start"));
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *id = json_string_value(json_object_get(e, "id"));
        size_t keys = json_object_size(e);
        size_t want = hol ? 2 : 3 + (json_object_get(e, "description") ? 1 : 0);
        if (!json_is_object(e) || keys != want || !sb_local_date_ok(date, NULL) || !name || !*name ||
            strlen(name) > 200 || (!hol && (!id || !sb_slug_valid(id))) ||
            (!hol && json_object_get(e, "description") &&
             (!json_is_string(json_object_get(e, "description")) ||
              json_string_length(json_object_get(e, "description")) > 2000))) {
            snprintf(err, cap, hol ? "days[%zu]: {\"date\": \"YYYY-MM-DD\", \"name\": \"...\"}"
                                   : "measures[%zu]: {\"id\": slug, \"name\": \"...\", \"start\": "
                                     "\"YYYY-MM-DD\", \"description\"?: \"...\"}", i);
            return -1;
        }
    }
    return 0;
}

void sb_api__h_bdoc_put(struct sb_api *api, struct sb_req *rq)
{
    const char *kind = bdoc_kind(rq);
    char err[200];
    struct sb_doc d, old;

    if (!ready(api, rq))
        return;
    json_t *body = sb_api__body(rq);
    if (!body)
        return;
    if (bdoc_check(api, kind, body, err, sizeof(err))) {
        sb_api__err(rq, 400, "invalid", err);
        json_decref(body);
        return;
    }
    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "%s", kind);
    snprintf(d.key, sizeof(d.key), "%s", rq->params[0]);
    snprintf(d.building, sizeof(d.building), "%s", rq->params[0]);
    d.updated_ms = sb_now_ms();
    d.body = json_dumps(body, JSON_COMPACT);
    json_t *before = sb_appdb_doc_get(api->ctx.db, kind, d.key, &old) == 0 ? doc_json(&old) : NULL;
    if (before)
        sb_doc_release(&old);
    int rc = d.body ? sb_appdb_doc_put(api->ctx.db, &d) : SB_ENOMEM;
    if (rc == 0) {
        char action[48];
        snprintf(action, sizeof(action), "building.%s", strcmp(kind, "building_tariff") == 0
                                                             ? "tariff" : kind);
        sb_api__audit(api, rq, action, d.key, before, body, "ok", NULL);
        sb_api__json(rq, 200, json_incref(body));
    } else {
        sb_api__err_rc(rq, rc, "storing");
    }
    json_decref(before);
    json_decref(body);
    free(d.body);
}

/* ---- series for cost and savings ---------------------------------------------------- */



/* The meter of the request: meter= when given (a meter of the building),
 * else the building's first main meter (a meter without a parent). */
static const struct sb_equipment *pick_meter(struct sb_req *rq, const struct sb_model *m, int bi)
{
    const char *slug = sb_req_q(rq, "meter");
    const struct sb_equipment *e;

    if (slug) {
        e = sb_model_equipment(m, slug);
        if (!e || e->building_ix != bi || !sb_meter_point(m, e)) {
            sb_api__bad_field(rq, "meter", "meter must name a meter of the building");
            return NULL;
        }
        return e;
    }
    for (size_t i = 0; i < m->nequipment; i++) {
        e = &m->equipment[i];
        if (e->building_ix == bi && !e->parent && sb_meter_point(m, e))
            return e;
    }
    sb_api__err(rq, 409, "no_meter", "the building has no main meter with an energy or power point");
    return NULL;
}

/* A local period "YYYY-MM-DD/YYYY-MM-DD" (end inclusive) -> [t0, t1) UTC ms. */
static int period_q(struct sb_req *rq, const char *name, const struct sb_tz *tz, int64_t *t0,
                    int64_t *t1)
{
    const char *v = sb_req_q(rq, name);
    char a[16], b[16], msg[160];
    int64_t d0, d1;

    if (!v || strlen(v) != 21 || v[10] != '/' || (memcpy(a, v, 10), a[10] = 0, !sb_local_date_ok(a, &d0)) ||
        (memcpy(b, v + 11, 10), b[10] = 0, !sb_local_date_ok(b, &d1)) || d1 < d0 ||
        d1 - d0 >= MAX_SPAN_DAYS) {
        snprintf(msg, sizeof(msg), "%s must be YYYY-MM-DD/YYYY-MM-DD (local dates, end included, "
                                   "at most %d days)", name, MAX_SPAN_DAYS);
        sb_api__bad_field(rq, name, msg);
        return -1;
    }
    *t0 = sb_tz_local_to_utc(tz, d0 * 86400) * 1000;
    *t1 = sb_tz_local_to_utc(tz, (d1 + 1) * 86400) * 1000;
    *t0 -= ((*t0 % SB_HOUR_MS) + SB_HOUR_MS) % SB_HOUR_MS;   /* zones off the hour: whole UTC hours */
    *t1 -= ((*t1 % SB_HOUR_MS) + SB_HOUR_MS) % SB_HOUR_MS;
    return 0;
}

/* Bills of kwh (hourly from t0) through t: the totals and the bills. */
static json_t *price(const struct sb_tariff *t, const struct sb_tariff_site *site, const double *kwh,
                     size_t n, int64_t t0, int interval_s, double *total)
{
    struct sb_tariff_series s = { .kwh = kwh, .n = n, .start = t0 / 1000, .interval_s = interval_s };
    size_t nb = 0, nd = 0, got = 0;
    json_t *arr = json_array();

    *total = NAN;
    if (sb_tariff_count(t, site, &s, &nb, &nd) || nb == 0)
        return arr;
    struct sb_tariff_bill *bills = calloc(nb, sizeof(*bills));
    if (bills && sb_tariff_compute(t, site, &s, bills, nb, &got, NULL, 0, NULL) == 0) {
        *total = 0;
        for (size_t i = 0; i < got; i++) {
            char *js = sb_tariff_bill_to_json(t, &bills[i]);
            json_t *j = js ? json_loads(js, 0, NULL) : NULL;
            if (j)
                json_array_append_new(arr, j);
            free(js);
            *total += bills[i].total;
        }
    }
    free(bills);
    return arr;
}

/* Per-day records of a computation as JSON. */
static json_t *days_of(const struct sb_tariff_day *d, size_t n)
{
    json_t *arr = json_array();
    char date[16];

    for (size_t i = 0; i < n; i++) {
        snprintf(date, sizeof(date), "%04d-%02u-%02u", (int)d[i].year, d[i].month, d[i].mday);
        json_array_append_new(arr, json_pack("{s:s, s:f, s:o, s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:o, s:I}",
            "date", date, "coverage", d[i].coverage, "import_kwh", num(d[i].import_kwh),
            "export_kwh", num(d[i].export_kwh), "energy_cost", d[i].energy_cost,
            "export_credit", d[i].export_credit, "fixed_cost", d[i].fixed_cost,
            "demand_cost", d[i].demand_cost, "tax", d[i].tax, "total", d[i].total,
            "peak_kw", num(d[i].peak_kw), "missing_intervals", (json_int_t)d[i].n_missing));
    }
    return arr;
}

/* Shares of the main meter's bills: each child meter (end use) by
 * sb_tariff_allocate, what no child measured as "unmetered", and zones by
 * floor area of the whole bill (a simple rule, named in the answer). */
static json_t *allocations(struct sb_api *api, const struct sb_model *m, const struct sb_equipment *e,
                           const struct sb_tariff *t, const struct sb_tariff_site *site,
                           const struct sb_tariff_series *s, double total)
{
    json_t *uses = json_array(), *zones = json_array();
    double *sub = malloc(s->n * sizeof(double)), shared = 0, area = 0;
    size_t nb = 0, nd = 0, got = 0;

    if (sb_tariff_count(t, site, s, &nb, &nd) == 0 && nb) {
        struct sb_tariff_bill *bills = calloc(nb, sizeof(*bills));
        for (size_t i = 0; sub && bills && i < m->nequipment; i++) {
            const struct sb_equipment *c = &m->equipment[i];
            if (c->parent_ix != (int32_t)(e - m->equipment) || !sb_meter_point(m, c))
                continue;
            if (sb_meter_energy(api->ctx.store, sb_meter_point(m, c), SB_RES_15M, s->start * 1000, s->n,
                                sub) < 0 ||
                sb_tariff_allocate(t, site, s, sub, bills, nb, &got))
                continue;
            double cost = 0, kwh = 0;
            unsigned notes = 0;
            for (size_t k = 0; k < got; k++) {
                cost += bills[k].total;
                notes |= bills[k].notes;
            }
            for (size_t k = 0; k < s->n; k++)
                kwh += isfinite(sub[k]) ? sub[k] : 0;
            shared += cost;
            json_array_append_new(uses, json_pack("{s:s, s:s, s:f, s:f, s:b}", "meter", c->slug, "name",
                                                  c->name, "kwh", kwh, "cost", cost, "missing_data",
                                                  (notes & SB_TARIFF_NOTE_SUB_MISSING) != 0));
        }
        free(bills);
    }
    if (json_array_size(uses) && isfinite(total))
        json_array_append_new(uses, json_pack("{s:n, s:s, s:o, s:f}", "meter", "name", "unmetered",
                                              "kwh", json_null(), "cost", total - shared));
    for (size_t i = 0; i < m->nzones; i++)
        if (m->zones[i].building_ix == e->building_ix && isfinite(m->zones[i].area_m2))
            area += m->zones[i].area_m2;
    for (size_t i = 0; area > 0 && isfinite(total) && i < m->nzones; i++) {
        const struct sb_zone *z = &m->zones[i];
        if (z->building_ix == e->building_ix && isfinite(z->area_m2))
            json_array_append_new(zones, json_pack("{s:s, s:s, s:f, s:f}", "zone", z->slug, "name", z->name,
                                                   "area_m2", z->area_m2, "cost", total * z->area_m2 / area));
    }
    free(sub);
    return json_pack("{s:o, s:{s:s, s:o}}", "end_uses", uses, "zones", "method", "floor_area", "items", zones);
}

/* building, period and meter of a cost request, and the tariff: 0 or answered. */
struct costq {
    const struct sb_building *b;
    const struct sb_equipment *e;
    struct sb_tariff *t;
    int64_t *hol;
    size_t nh;
};

static int cost_args(struct sb_api *api, struct sb_req *rq, const struct sb_model *m, struct costq *c)
{
    const char *bs = sb_req_q(rq, "building");
    char why[256];

    memset(c, 0, sizeof(*c));
    c->b = bs ? sb_model_building(m, bs) : NULL;
    int bi = c->b ? (int)(c->b - m->buildings) : -1;
    if (bi < 0 || !sb_api__in_scope(&rq->who, m, (size_t)bi)) {
        sb_api__bad_field(rq, "building", "building must name a building in your scope");
        return -1;
    }
    if (!(c->e = pick_meter(rq, m, bi)))
        return -1;
    if (!(c->t = sb_building_tariff(api->ctx.db, c->b->slug, why, sizeof(why)))) {
        sb_api__err(rq, 409, "no_tariff", why);
        return -1;
    }
    c->hol = sb_building_holidays(api->ctx.db, c->b->slug, &c->nh);
    return 0;
}

void sb_api__h_an_cost(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "meter", "period", NULL };
    struct costq c;
    int64_t t0, t1;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    const char *bs = sb_req_q(rq, "building");
    const struct sb_building *pb = bs ? sb_model_building(m, bs) : NULL;
    if (pb && period_q(rq, "period", pb->tz, &t0, &t1))
        return;
    if (cost_args(api, rq, m, &c))
        return;
    if (!pb)   /* cost_args answered for an unknown building */
        return;
    t0 -= ((t0 % (15 * 60000)) + 15 * 60000) % (15 * 60000);
    size_t n = (size_t)((t1 - t0) / (15 * 60000)), nb = 0, nd = 0, gb = 0, gd = 0;
    double *kwh = malloc(n * sizeof(double));
    struct sb_tariff_site site = { .tz = c.b->tz, .holidays = c.hol, .n_holidays = c.nh };
    struct sb_tariff_series s = { .kwh = kwh, .n = n, .start = t0 / 1000, .interval_s = 900 };
    struct sb_tariff_bill *bills = NULL;
    struct sb_tariff_day *days = NULL;
    int rc = kwh ? sb_meter_energy(api->ctx.store, sb_meter_point(m, c.e), SB_RES_15M, t0, n, kwh)
                 : SB_ENOMEM;
    if (rc >= 0)
        rc = sb_tariff_count(c.t, &site, &s, &nb, &nd);
    if (rc >= 0 && (!(bills = calloc(nb ? nb : 1, sizeof(*bills))) || !(days = calloc(nd ? nd : 1, sizeof(*days)))))
        rc = SB_ENOMEM;
    if (rc >= 0)
        rc = sb_tariff_compute(c.t, &site, &s, bills, nb, &gb, days, nd, &gd);
    if (rc < 0) {
        sb_api__err_rc(rq, rc, "pricing the meter");
    } else {
        char f[40], to[40];
        double total = 0;
        json_t *bj = json_array();
        for (size_t i = 0; i < gb; i++) {
            char *js = sb_tariff_bill_to_json(c.t, &bills[i]);
            json_t *j = js ? json_loads(js, 0, NULL) : NULL;
            if (j)
                json_array_append_new(bj, j);
            free(js);
            total += bills[i].total;
        }
        json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:f, s:o, s:o}", "building", c.b->slug,
                                "meter", c.e->slug, "tariff", c.t->id, "currency", c.t->currency, "from",
                                sb_time_format(t0, f, sizeof(f)), "to", sb_time_format(t1, to, sizeof(to)),
                                "total", total, "bills", bj, "days", days_of(days, gd));
        json_object_update_new(out, allocations(api, m, c.e, c.t, &site, &s, total));
        sb_api__json(rq, 200, out);
    }
    free(kwh);
    free(bills);
    free(days);
    free(c.hol);
    free(c.t);
}

/* The rest of the billing period after now, per 15 minutes: the meter's
 * forecast (hourly, spread evenly) for up to 72 h, then the mean of the same
 * quarter hour of the week over the last four weeks. */
static const char *rest_of_period(struct sb_api *api, const struct sb_model *m,
                                  const struct sb_equipment *e, int64_t now, size_t n, double *out)
{
    const int64_t q = 15 * 60000, week = 7 * 24 * SB_HOUR_MS;
    size_t hist = (size_t)(4 * week / q);
    double *h = malloc(hist * sizeof(double));
    json_t *fc = NULL;
    char err[256];
    int have_fc = api->ctx.analytics &&
                  sb_analytics_load_forecast(api->ctx.analytics, e->slug, 72, &fc, err, sizeof(err)) == 0;
    int got_hist = h && sb_meter_energy(api->ctx.store, sb_meter_point(m, e), SB_RES_15M, now - 4 * week,
                                        hist, h) > 0;

    for (size_t i = 0; i < n; i++) {
        int64_t t = now + (int64_t)i * q;
        out[i] = NAN;
        if (have_fc) {
            const char *iss = json_string_value(json_object_get(fc, "issued"));
            int64_t t_iss;
            if (iss && sb_time_parse(iss, strlen(iss), &t_iss) == 0 && t >= t_iss) {
                json_t *p = json_array_get(json_object_get(fc, "points"), (size_t)((t - t_iss) / SB_HOUR_MS));
                double v = json_number_value(json_object_get(p, "kwh"));
                if (p && json_is_number(json_object_get(p, "kwh")))
                    out[i] = v / 4;
            }
        }
        if (isnan(out[i]) && got_hist) {
            double sum = 0;
            int k = 0;
            for (int w = 1; w <= 4; w++) {
                int64_t j = (int64_t)hist - w * (week / q) + (int64_t)(i % (size_t)(week / q));
                if (j >= 0 && j < (int64_t)hist && isfinite(h[j])) {
                    sum += h[j];
                    k++;
                }
            }
            out[i] = k ? sum / k : NAN;
        }
    }
    json_decref(fc);
    free(h);
    return have_fc ? "the meter's forecast for 72 h, then the mean of the same quarter hour of the last four weeks"
                   : "the mean of the same quarter hour of the last four weeks (no forecast yet)";
}

void sb_api__h_an_bill(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "meter", NULL };
    const int64_t q = 15 * 60000;
    struct costq c;
    int64_t ps, pe;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    if (cost_args(api, rq, m, &c))
        return;
    int64_t now = sb_now_ms();
    now -= now % q;
    struct sb_tariff_site site = { .tz = c.b->tz, .holidays = c.hol, .n_holidays = c.nh };
    int rc = sb_tariff_period_of(c.t, &site, now / 1000, &ps, &pe);
    size_t na = rc ? 0 : (size_t)((now - ps * 1000) / q), nf = rc ? 0 : (size_t)((pe * 1000 - now) / q);
    double *act = malloc((na ? na : 1) * sizeof(double)), *fc = malloc((nf ? nf : 1) * sizeof(double));
    struct sb_tariff_bill *est = calloc(1, sizeof(*est)), *to_date = calloc(1, sizeof(*to_date));
    const char *method = "";
    if (rc == 0 && (!act || !fc || !est || !to_date))
        rc = SB_ENOMEM;
    if (rc == 0 && na && (rc = sb_meter_energy(api->ctx.store, sb_meter_point(m, c.e), SB_RES_15M,
                                               ps * 1000, na, act)) > 0)
        rc = 0;
    if (rc == 0) {
        method = rest_of_period(api, m, c.e, now, nf, fc);
        struct sb_tariff_series s = { .kwh = na ? act : NULL, .n = na, .start = ps, .interval_s = 900 };
        rc = sb_tariff_estimate(c.t, &site, &s, fc, nf, est, to_date);
    }
    if (rc) {
        sb_api__err_rc(rq, rc, "estimating the bill");
    } else {
        char *ej = sb_tariff_bill_to_json(c.t, est), *tj = sb_tariff_bill_to_json(c.t, to_date);
        sb_api__json(rq, 200, json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "building", c.b->slug,
                                        "meter", c.e->slug, "tariff", c.t->id, "currency", c.t->currency,
                                        "estimate", ej ? json_loads(ej, 0, NULL) : json_null(), "to_date",
                                        tj ? json_loads(tj, 0, NULL) : json_null(), "forecast_method", method));
        free(ej);
        free(tj);
    }
    free(act);
    free(fc);
    free(est);
    free(to_date);
    free(c.hol);
    free(c.t);
}

/* ---- savings -------------------------------------------------------------------- */

struct hseries {
    int64_t t0;
    size_t n;
    double *kwh, *temp;
};

static int read_hours(struct sb_api *api, const struct sb_model *m, const struct sb_equipment *e,
                      int64_t t0, int64_t t1, struct hseries *h)
{
    const struct sb_point *po = sb_outdoor_temp_point(m, e->building_ix);

    h->t0 = t0;
    h->n = (size_t)((t1 - t0) / SB_HOUR_MS);
    h->kwh = malloc(h->n * sizeof(double));
    h->temp = malloc(h->n * sizeof(double));
    if (!h->kwh || !h->temp)
        return SB_ENOMEM;
    if (!po)
        return SB_ENOENT;
    int rc = sb_meter_energy(api->ctx.store, sb_meter_point(m, e), SB_RES_1H, t0, h->n, h->kwh);
    if (rc >= 0)
        rc = sb_point_mean(api->ctx.store, po, SB_RES_1H, t0, h->n, h->temp);
    return rc < 0 ? rc : 0;
}

/* The building's measures inside the reporting period, sorted by start. */
static size_t measures(struct sb_api *api, const char *building, int64_t r0, int64_t r1,
                       const struct sb_tz *tz, struct sb_mv_measure *out, json_t **names, size_t cap)
{
    struct sb_doc d;
    size_t n = 0, i;
    json_t *e;

    *names = json_array();
    if (sb_appdb_doc_get(api->ctx.db, "measures", building, &d))
        return 0;
    json_t *j = doc_json(&d), *arr = json_object_get(j, "measures");
    sb_doc_release(&d);
    json_array_foreach(arr, i, e) {
        int64_t day;
        if (n == cap || !sb_local_date_ok(json_string_value(json_object_get(e, "start")), &day))
            continue;
        int64_t s = sb_tz_local_to_utc(tz, day * 86400);
        if (s * 1000 < r0 || s * 1000 >= r1)
            continue;
        /* insertion sort: a handful of measures */
        size_t k = n++;
        while (k > 0 && out[k - 1].start > s) {
            out[k] = out[k - 1];
            json_array_insert(*names, k, json_array_get(*names, k - 1));
            json_array_remove(*names, k - 1);
            k--;
        }
        out[k].start = s;
        json_array_insert(*names, k, e);
    }
    json_decref(j);
    return n;
}

static json_t *result_json(const struct sb_mv_result *r)
{
    double g = r->g14_half, h = r->honest_half;
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:f, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o, s:o}}",
        "intervals", (json_int_t)r->n, "intervals_used", (json_int_t)r->n_used,
        "baseline_kwh", num(r->baseline), "actual_kwh", num(r->actual), "avoided_kwh", num(r->avoided),
        "percent", num(100 * r->frac), "confidence", r->conf,
        "guideline14", "low_kwh", num(r->avoided - g), "high_kwh", num(r->avoided + g),
        "fsu", num(r->g14_fsu),
        "with_drift", "low_kwh", num(r->avoided - h), "high_kwh", num(r->avoided + h),
        "sd_block_kwh", num(r->sd_block), "sd_drift_kwh", num(r->sd_drift), "sd_prior_kwh",
        num(r->sd_prior));
}

static json_t *model_json(const struct sb_mv_model *mm)
{
    struct sb_mv_model_info in;
    sb_mv_model_info(mm, &in);
    static const char *const kinds[] = { "intercept", "hdd", "cdd", "hdd_cdd" };
    json_t *o = json_pack("{s:s, s:I, s:I, s:o, s:o, s:o, s:{s:b, s:f, s:f}, s:o, s:o}",
        "method", in.method == SB_MV_HOURLY ? "caltrack_hourly" : "caltrack_daily",
        "parameters", (json_int_t)in.n_params, "points", (json_int_t)in.fit.n,
        "cvrmse", num(in.fit.cvrmse), "nmbe", num(in.fit.nmbe), "r2", num(in.fit.r2),
        "guideline14", "pass", in.g14.pass, "cvrmse_max", in.g14.cv_max, "nmbe_max", in.g14.nmbe_max,
        "residual_autocorrelation", num(in.rho), "month_block_cv", num(in.block_cv));
    if (o && in.method == SB_MV_DAILY)
        json_object_set_new(o, "daily", json_pack("{s:s, s:f, s:o, s:o, s:o, s:o}", "kind",
            kinds[in.daily.kind & 3], "base_kwh_per_day", in.daily.mu,
            "heating_kwh_per_kday", num(in.daily.kind & 1 ? in.daily.beta_h : NAN),
            "cooling_kwh_per_kday", num(in.daily.kind & 2 ? in.daily.beta_c : NAN),
            "heating_balance_c", num(in.daily.tb_h), "cooling_balance_c", num(in.daily.tb_c)));
    return o;
}

/* A normal year of outdoor temperature for the n hours from t0: each hour's
 * mean over the same hour of up to ten earlier years in the store, counted
 * only where a year has it.  Needs two such years for every hour (else
 * NULL: normalised savings are then not computed, and the answer says why). */
static double *normal_year(struct sb_api *api, const struct sb_model *m, int bi, int64_t t0,
                           size_t n, int *years)
{
    const struct sb_point *po = sb_outdoor_temp_point(m, bi);
    double *sum = calloc(n, sizeof(double)), *v = malloc(n * sizeof(double));
    int *cnt = calloc(n, sizeof(int)), ok = po != NULL;

    *years = 0;
    for (int k = 1; ok && sum && v && cnt && k <= 10; k++) {
        int64_t y0 = t0 - (int64_t)k * 8760 * SB_HOUR_MS;   /* 365 days back: the weekday shifts
                                                               by one, the season does not */
        int got = sb_point_mean(api->ctx.store, po, SB_RES_1H, y0, n, v);
        if (got < (int)(n * 8 / 10))
            continue;
        (*years)++;
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i])) {
                sum[i] += v[i];
                cnt[i]++;
            }
    }
    for (size_t i = 0; ok && sum && i < n; i++)
        if (cnt[i] < 2)
            ok = 0;
        else
            sum[i] /= cnt[i];
    free(v);
    free(cnt);
    if (!ok || *years < 2) {
        free(sum);
        return NULL;
    }
    return sum;
}

static int has_etag(const struct sb_equipment *e, const char *t)
{
    for (size_t i = 0; i < e->tags.n; i++)
        if (strcmp(e->tags.v[i], t) == 0)
            return 1;
    return 0;
}

/* Daily adjusted baseline against actual for the chart (local days). */
static json_t *daily_series(const struct sb_tz *tz, int64_t r0, size_t n, const double *adj,
                            const double *act)
{
    json_t *arr = json_array();
    int32_t day = -1;
    double b = 0, a = 0;
    size_t have = 0;

    for (size_t i = 0; i <= n; i++) {
        int32_t d = i < n ? sb_local_day(tz, r0 + (int64_t)i * SB_HOUR_MS) : INT32_MAX;
        if (d != day && day != -1) {
            int64_t y;
            unsigned mo, dd;
            char date[16];
            sb_civil_from_days(day, &y, &mo, &dd);
            snprintf(date, sizeof(date), "%04d-%02u-%02u", (int)y, mo, dd);
            json_array_append_new(arr, json_pack("{s:s, s:o, s:o}", "date", date, "baseline_kwh",
                                                 num(have ? b : NAN), "actual_kwh", num(have ? a : NAN)));
            b = a = 0;
            have = 0;
        }
        day = d;
        if (i < n && isfinite(adj[i]) && isfinite(act[i])) {
            b += adj[i];
            a += act[i];
            have++;
        }
    }
    return arr;
}

#define MAX_MEASURES 32

/* A series rolled up to local days, owned arrays. */
struct dseries {
    struct sb_mv_input in;
    int64_t day0;
    double *kwh, *temp;
};

static void dfree(struct dseries *d)
{
    free(d->kwh);
    free(d->temp);
}

static int to_daily(const struct sb_mv_input *h, const struct sb_tz *tz, int gas, struct dseries *d)
{
    size_t cap = h->n / 24 + 3, n = 0;

    d->kwh = malloc(cap * sizeof(double));
    d->temp = malloc(cap * sizeof(double));
    if (!d->kwh || !d->temp)
        return SB_ENOMEM;
    int rc = sb_mv_to_daily(h, tz, gas, d->kwh, d->temp, cap, &d->day0, &n);
    d->in = (struct sb_mv_input){ .interval = SB_MV_DAY, .t0 = d->day0, .n = n,
                                  .kwh = h->kwh ? d->kwh : NULL, .temp_c = d->temp };
    return rc;
}

/* The daily chart for the daily method: one row per local day. */
static json_t *days_json(int64_t day0, size_t n, const double *adj, const double *act)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < n; i++) {
        int64_t y;
        unsigned mo, dd;
        char date[16];
        sb_civil_from_days(day0 + (int64_t)i, &y, &mo, &dd);
        snprintf(date, sizeof(date), "%04d-%02u-%02u", (int)y, mo, dd);
        int ok = isfinite(adj[i]) && isfinite(act[i]);
        json_array_append_new(arr, json_pack("{s:s, s:o, s:o}", "date", date, "baseline_kwh",
                                             num(ok ? adj[i] : NAN), "actual_kwh", num(ok ? act[i] : NAN)));
    }
    return arr;
}

void sb_api__h_an_savings(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", "meter", "baseline", "reporting", "method", NULL };
    struct hseries hb = { 0 }, hr = { 0 };
    struct dseries db = { 0 }, dr = { 0 }, dn = { 0 };
    double *adj = NULL, *normal = NULL;
    int64_t *hol = NULL;
    char err[SB_MV_MSG + 64] = "", why[256] = "";
    json_t *mnames = NULL;
    struct sb_tariff *t = NULL;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    const char *bs = sb_req_q(rq, "building"), *meth = sb_req_q(rq, "method");
    const struct sb_building *b = bs ? sb_model_building(m, bs) : NULL;
    int bi = b ? (int)(b - m->buildings) : -1;
    if (bi < 0 || !sb_api__in_scope(&rq->who, m, (size_t)bi)) {
        sb_api__bad_field(rq, "building", "building must name a building in your scope");
        return;
    }
    if (meth && strcmp(meth, "hourly") != 0 && strcmp(meth, "daily") != 0) {
        sb_api__bad_field(rq, "method", "method is hourly (CalTRACK hourly) or daily (CalTRACK daily)");
        return;
    }
    int64_t b0, b1, r0, r1;
    const struct sb_equipment *e;
    if (period_q(rq, "baseline", b->tz, &b0, &b1) || period_q(rq, "reporting", b->tz, &r0, &r1) ||
        !(e = pick_meter(rq, m, bi)))
        return;
    if (r0 < b1) {
        sb_api__bad_field(rq, "reporting", "the reporting period must start after the baseline ends");
        return;
    }
    int rc = read_hours(api, m, e, b0, b1, &hb);
    if (rc == 0)
        rc = read_hours(api, m, e, r0, r1, &hr);
    if (rc == SB_ENOENT) {
        sb_api__err(rq, 409, "no_weather", "the building has no outdoor temperature point");
        goto out;
    }
    if (rc) {
        sb_api__err_rc(rq, rc, "reading the meter");
        goto out;
    }
    size_t nh = 0;
    hol = sb_building_holidays(api->ctx.db, b->slug, &nh);
    struct sb_mv_opts o = { .method = meth && strcmp(meth, "daily") == 0 ? SB_MV_DAILY : SB_MV_HOURLY,
                            .gas = has_etag(e, "gas"), .tz = b->tz, .holidays = hol, .n_holidays = nh };
    struct sb_mv_input base = { .interval = SB_MV_HOUR, .t0 = b0 / 1000, .n = hb.n, .kwh = hb.kwh,
                                .temp_c = hb.temp };
    struct sb_mv_input rep = { .interval = SB_MV_HOUR, .t0 = r0 / 1000, .n = hr.n, .kwh = hr.kwh,
                               .temp_c = hr.temp };
    struct sb_mv_measure meas[MAX_MEASURES];
    struct sb_mv_measure_result mres[MAX_MEASURES];
    size_t nm = measures(api, b->slug, r0, r1, b->tz, meas, &mnames, MAX_MEASURES);
    int years = 0;
    normal = normal_year(api, m, bi, r0, 8760, &years);
    struct sb_mv_input nin = { .interval = SB_MV_HOUR, .t0 = r0 / 1000, .n = 8760, .temp_c = normal };
    /* The daily method works on local days (CalTRACK 2.2.2): roll all three up. */
    if (o.method == SB_MV_DAILY &&
        ((rc = to_daily(&base, b->tz, o.gas, &db)) || (rc = to_daily(&rep, b->tz, o.gas, &dr)) ||
         (normal && (rc = to_daily(&nin, b->tz, o.gas, &dn))))) {
        sb_api__err_rc(rq, rc, "savings");
        goto out;
    }
    struct sb_mv_result res;
    struct sb_mv_normalised norm;
    memset(&norm, 0, sizeof(norm));
    size_t nrep = o.method == SB_MV_DAILY ? dr.in.n : hr.n;
    if (!(adj = malloc(nrep * sizeof(double)))) {
        sb_api__err_rc(rq, SB_ENOMEM, "savings");
        goto out;
    }
    const struct sb_mv_input *pb = o.method == SB_MV_DAILY ? &db.in : &base;
    const struct sb_mv_input *pr = o.method == SB_MV_DAILY ? &dr.in : &rep;
    const struct sb_mv_input *pn = !normal ? NULL : o.method == SB_MV_DAILY ? &dn.in : &nin;
    rc = sb_mv_savings(pb, pr, pn, nm ? meas : NULL, nm, &o, adj, &res, nm ? mres : NULL,
                       pn ? &norm : NULL, err, sizeof(err));
    if (rc == SB_EINVAL) {
        sb_api__err(rq, 409, "insufficient_data", err);
        goto out;
    }
    if (rc) {
        sb_api__err_rc(rq, rc, "savings");
        goto out;
    }
    /* The baseline model's statistics: fit it once more for its info (the
     * one-call API keeps its model private). */
    struct sb_mv_model *bm = NULL;
    json_t *mj = sb_mv_fit(pb, &o, &bm, why, sizeof(why)) == 0 ? model_json(bm) : json_null();
    sb_mv_model_free(bm);

    json_t *ms = json_array();
    for (size_t i = 0; i < nm; i++) {
        json_t *x = json_deep_copy(json_array_get(mnames, i));
        json_object_set_new(x, "savings", result_json(&mres[i].r));
        json_array_append_new(ms, x);
    }
    json_t *notes = json_array();
    if (res.temp_outside)
        json_array_append_new(notes, json_string("reporting temperatures leave the baseline's range "
                                                 "by more than 10 %: the baseline extrapolates"));
    json_array_append_new(notes, json_string("the with_drift interval adds the out-of-sample error "
        "of month blocks and the drift of the building's level seen within the baseline; a change "
        "of use the baseline never saw (occupancy, new equipment) is not in it"));
    json_t *nj = json_null();
    if (normal && norm.n_used)
        nj = json_pack("{s:o, s:o, s:o, s:o, s:I}", "baseline_kwh", num(norm.baseline), "reporting_kwh",
                       num(norm.reporting), "savings_kwh", num(norm.savings), "percent",
                       num(100 * norm.frac), "years_of_weather", (json_int_t)years);
    else
        json_array_append_new(notes, json_string(normal ? "normalised savings: the reporting period "
            "cannot support its own model" : "normalised savings need two earlier years of outdoor "
            "temperature in the store"));
    json_t *cost = json_null(), *daily;
    if (o.method == SB_MV_DAILY) {
        json_array_append_new(notes, json_string("cost savings need the hourly method: a tariff "
                                                 "prices hours, the daily model predicts days"));
        daily = days_json(dr.day0, dr.in.n, adj, dr.kwh);
    } else {
        if ((t = sb_building_tariff(api->ctx.db, b->slug, why, sizeof(why)))) {
            struct sb_tariff_site site = { .tz = b->tz, .holidays = hol, .n_holidays = nh };
            double cb, ca;
            /* Price both series over the same hours: where either is missing, neither counts. */
            for (size_t i = 0; i < hr.n; i++)
                if (!isfinite(adj[i]) || !isfinite(hr.kwh[i]))
                    adj[i] = hr.kwh[i] = NAN;
            json_decref(price(t, &site, adj, hr.n, r0, 3600, &cb));
            json_decref(price(t, &site, hr.kwh, hr.n, r0, 3600, &ca));
            cost = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s}", "tariff", t->id, "currency", t->currency,
                             "baseline", num(cb), "actual", num(ca), "savings", num(cb - ca), "note",
                             "hourly data: demand charges use hourly means, which understate "
                             "15-minute peaks");
        } else {
            json_array_append_new(notes, json_string(why));
        }
        daily = daily_series(b->tz, r0, hr.n, adj, hr.kwh);
    }
    char f0[40], f1[40], f2[40], f3[40];
    sb_api__json(rq, 200, json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:{s:s, s:s}, s:o, s:o, s:o, s:o, s:o, s:o}",
        "building", b->slug, "meter", e->slug,
        "baseline", "from", sb_time_format(b0, f0, sizeof(f0)), "to", sb_time_format(b1, f1, sizeof(f1)),
        "model", mj,
        "reporting", "from", sb_time_format(r0, f2, sizeof(f2)), "to", sb_time_format(r1, f3, sizeof(f3)),
        "savings", result_json(&res), "measures", ms, "normalised", nj, "cost", cost, "notes", notes,
        "daily", daily));
out:
    dfree(&db);
    dfree(&dr);
    dfree(&dn);
    json_decref(mnames);
    free(hb.kwh);
    free(hb.temp);
    free(hr.kwh);
    free(hr.temp);
    free(adj);
    free(normal);
    free(hol);
    free(t);
}

/*
 * svc_find.c - what fault detection found, in one place: every detector of
 * the service (air handlers, boxes, chillers, sensors, meters, energy)
 * hands its raises and clears here.  A finding is kept as an "fdd_finding"
 * document (key "<equipment>/<check>") with its evidence, chart, estimated
 * impact per day and suggested action, and goes through the alert life cycle
 * (sb_alerts_record, rule "fdd-<check>", key the equipment).  Offline runs
 * (sbems fdd) give a sink instead: nothing is stored or alerted then.
 * docs/internals/fdd.md, "Findings".
 *
 * Impact: the detector estimates the energy a fault wastes per day in
 * electricity (kWh_e) and in heating fuel (kWh of fuel); cost is the
 * electricity at the building's tariff (its mean import price over the next
 * week) plus the fuel at analytics.heat_price when that is set.  An unknown
 * impact stays null with the sentence saying why.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/service.h"
#include "analytics/bdocs.h"
#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "analytics/tariff.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#define PRICE_TTL_MS SB_HOUR_MS
#define PRICE_HOURS 168
#define KEEP_CLEARED_MS (30 * 24 * SB_HOUR_MS)

struct svc_price {
    char building[65];
    int64_t at_ms;               /* when it was read */
    double price;                /* mean import price per kWh, NAN: no tariff */
    char currency[4];
};

/* The mean import price of the building's tariff over the coming week,
 * read at most hourly. */
static double price_of(struct sb_analytics *a, const struct sb_model *m, const char *building,
                       char currency[4], int64_t now)
{
    struct svc_price *p = NULL;

    for (size_t i = 0; i < a->nprice; i++)
        if (strcmp(a->price[i].building, building) == 0)
            p = &a->price[i];
    if (!p) {
        if (!(p = svc_push((void **)&a->price, &a->nprice, &a->capprice, sizeof(*p), 4)))
            return NAN;
        snprintf(p->building, sizeof(p->building), "%s", building);
    }
    if (a->cfg.db && (!p->at_ms || now - p->at_ms >= PRICE_TTL_MS)) {
        char why[200];
        const struct sb_building *b = sb_model_building(m, building);
        struct sb_tariff *t = sb_building_tariff(a->cfg.db, building, why, sizeof(why));
        struct sb_tariff_step *st = t ? calloc(PRICE_HOURS, sizeof(*st)) : NULL;
        struct sb_tariff_site site = { .tz = b ? b->tz : NULL };
        p->price = NAN;
        p->currency[0] = 0;
        p->at_ms = now;
        if (st && sb_tariff_prices(t, &site, now / 1000 - (now / 1000) % 3600, 3600, PRICE_HOURS, st) == 0) {
            double s = 0;
            for (size_t i = 0; i < PRICE_HOURS; i++)
                s += st[i].price;
            p->price = s / PRICE_HOURS;
            snprintf(p->currency, sizeof(p->currency), "%s", t->currency);
        }
        free(st);
        free(t);
    }
    snprintf(currency, 4, "%s", p->currency);
    return p->price;
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(round(v * 1000) / 1000) : json_null();
}

static json_t *impact_json(struct sb_analytics *a, const struct sb_model *m, const struct svc_find *f,
                           int64_t now, char *currency)
{
    double pe = price_of(a, m, f->e->building, currency, now), ph = a->cfg.heat_price;
    double kwh = NAN, cost = NAN;
    char basis[600];

    snprintf(basis, sizeof(basis), "%s", f->basis);
    if (isfinite(f->elec_kwh_day) || isfinite(f->heat_kwh_day)) {
        double el = isfinite(f->elec_kwh_day) ? f->elec_kwh_day : 0;
        double ht = isfinite(f->heat_kwh_day) ? f->heat_kwh_day : 0;
        kwh = el + ht;
        if (isfinite(pe) && (ht == 0 || ph > 0))
            cost = el * pe + ht * (ph > 0 ? ph : 0);
        else if (!isfinite(pe))
            snprintf(basis + strlen(basis), sizeof(basis) - strlen(basis),
                     " Not priced: the building has no tariff.");
        else
            snprintf(basis + strlen(basis), sizeof(basis) - strlen(basis),
                     " Heating fuel not priced: set analytics.heat_price.");
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:s}", "kwh_per_day", num_or_null(kwh), "electric_kwh_per_day",
                     num_or_null(f->elec_kwh_day), "heat_kwh_per_day", num_or_null(f->heat_kwh_day),
                     "cost_per_day", num_or_null(cost), "basis", basis);
}

/* Splits "a, b, c" into a JSON array of names. */
static json_t *faults_json(const char *list)
{
    json_t *v = json_array();
    const char *s = list;

    while (s && *s) {
        const char *c = strchr(s, ',');
        size_t n = c ? (size_t)(c - s) : strlen(s);
        while (n && s[n - 1] == ' ')
            n--;
        if (n)
            json_array_append_new(v, json_stringn(s, n));
        s = c ? c + 1 : NULL;
        while (s && *s == ' ')
            s++;
    }
    return v;
}

static json_t *finding_json(struct sb_analytics *a, const struct sb_model *m, const struct svc_find *f,
                            int64_t since_ms, int64_t t_ms)
{
    char ts[40], tn[40], tf[40], currency[4] = "";
    json_t *chart = json_array(), *imp = impact_json(a, m, f, t_ms, currency);
    int64_t from = since_ms - 6 * SB_HOUR_MS;

    for (int i = 0; i < f->nchart; i++)
        json_array_append_new(chart, json_string(f->chart[i]->slug));
    return json_pack("{s:s+++, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:n, s:O, "
                     "s:{s:o, s:s, s:s}, s:o, s:s, s:s, s:f, s:s}",
                     "id", f->key ? f->key : f->e->slug, "/", f->check, "", "building", f->e->building,
                     "equipment", f->e->slug,
                     "equipment_name", f->e->name, "kind", f->kind, "check", f->check, "title", f->title,
                     "faults", faults_json(f->faults), "severity", sb_alert_sev_name(f->severity),
                     "state", "active", "since", sb_time_format(since_ms, ts, sizeof(ts)),
                     "last_seen", sb_time_format(t_ms, tn, sizeof(tn)), "cleared_at",
                     "evidence", f->evidence ? f->evidence : json_array(),
                     "chart", "points", chart, "from", sb_time_format(from, tf, sizeof(tf)), "to", tn,
                     "impact", imp, "action", f->action, "currency", currency, "value",
                     isfinite(f->value) ? f->value : 0.0, "key", f->key ? f->key : f->e->slug);
}

static int64_t doc_since(struct sb_analytics *a, const char *key)
{
    struct sb_doc d;
    int64_t since = 0;

    if (sb_appdb_doc_get(a->cfg.db, "fdd_finding", key, &d) != 0)
        return 0;
    json_t *o = json_loads(d.body, 0, NULL);
    const char *st = json_string_value(json_object_get(o, "state"));
    const char *s = json_string_value(json_object_get(o, "since"));
    if (st && strcmp(st, "active") == 0 && s)
        sb_time_parse(s, strlen(s), &since);
    json_decref(o);
    sb_doc_release(&d);
    return since;
}

void svc_find_raise(struct sb_analytics *a, const struct sb_model *m, const struct svc_find *f,
                    int64_t since_ms, int64_t t_ms)
{
    char key[SB_DOC_KEY_MAX + 1], rule[80], text[SB_ALERT_MSG_MAX + 1];
    json_t *o;

    const char *about = f->key ? f->key : f->e->slug;
    snprintf(key, sizeof(key), "%s/%s", about, f->check);
    if (!a->cfg.fdd_sink) {
        int64_t s0 = doc_since(a, key);   /* a raise of an active finding keeps its start */
        if (s0 && s0 < since_ms)
            since_ms = s0;
    }
    if (!(o = finding_json(a, m, f, since_ms, t_ms)))
        return;
    if (a->cfg.fdd_sink) {
        a->cfg.fdd_sink(a->cfg.fdd_sink_ud, o, 1);
        json_decref(o);
        return;
    }
    svc_doc_put(a, "fdd_finding", key, f->e->building, o, NULL, 0);
    json_t *imp = json_object_get(o, "impact");
    double cost = json_number_value(json_object_get(imp, "cost_per_day"));
    const char *cur = json_string_value(json_object_get(o, "currency"));
    if (json_is_number(json_object_get(imp, "cost_per_day")))
        snprintf(text, sizeof(text), "%.80s: %.200s (about %.0f %s a day)", f->e->name, f->title, cost,
                 cur && *cur ? cur : "");
    else
        snprintf(text, sizeof(text), "%.80s: %.200s", f->e->name, f->title);
    snprintf(rule, sizeof(rule), "fdd-%s", f->check);
    if (a->cfg.alerts) {
        int rc = sb_alerts_record(a->cfg.alerts, rule, f->e->building, about, f->severity, f->value,
                                  text, 1, t_ms, 1);
        if (rc)
            SB_WARN(SVC_MOD, "%s %s: recording a raise: %s", about, rule, sb_strerror(rc));
    }
    json_decref(o);
}

void svc_find_clear(struct sb_analytics *a, const struct sb_equipment *e, const char *about, const char *check,
                    int64_t t_ms)
{
    char key[SB_DOC_KEY_MAX + 1], rule[80], tc[40];
    struct sb_doc d;

    if (!about)
        about = e->slug;
    snprintf(key, sizeof(key), "%s/%s", about, check);
    if (a->cfg.fdd_sink) {
        json_t *o = json_pack("{s:s+++, s:s, s:s, s:s, s:s, s:s}", "id", about, "/", check, "", "building",
                              e->building, "equipment", e->slug, "key", about, "check", check, "cleared_at",
                              sb_time_format(t_ms, tc, sizeof(tc)));
        a->cfg.fdd_sink(a->cfg.fdd_sink_ud, o, 0);
        json_decref(o);
        return;
    }
    if (sb_appdb_doc_get(a->cfg.db, "fdd_finding", key, &d) == 0) {
        json_t *o = json_loads(d.body, 0, NULL);
        if (o) {
            json_object_set_new(o, "state", json_string("cleared"));
            json_object_set_new(o, "cleared_at", json_string(sb_time_format(t_ms, tc, sizeof(tc))));
            svc_doc_put(a, "fdd_finding", key, e->building, o, NULL, 0);
            json_decref(o);
        }
        sb_doc_release(&d);
    }
    snprintf(rule, sizeof(rule), "fdd-%s", check);
    if (a->cfg.alerts) {
        int rc = sb_alerts_record(a->cfg.alerts, rule, e->building, about, SB_ALERT_SEV_MINOR, NAN, "", 0,
                                  t_ms, 1);
        if (rc && rc != SB_ENOENT)
            SB_WARN(SVC_MOD, "%s %s: recording a clear: %s", about, rule, sb_strerror(rc));
    }
}

/* Cleared findings older than 30 days go (daily, from the worker). */
void svc_find_purge(struct sb_analytics *a, int64_t now)
{
    struct sb_doc *v = NULL;
    size_t n = 0;

    if (a->cfg.fdd_sink || sb_appdb_doc_list(a->cfg.db, "fdd_finding", NULL, 0, &v, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_loads(v[i].body, 0, NULL);
        const char *st = json_string_value(json_object_get(o, "state"));
        if (st && strcmp(st, "cleared") == 0 && now - v[i].updated_ms > KEEP_CLEARED_MS)
            sb_appdb_doc_delete(a->cfg.db, "fdd_finding", v[i].key);
        json_decref(o);
    }
    sb_docs_free(v, n);
}

void svc_find_ev(json_t *ev, const char *label, const struct sb_point *p, double value, const char *unit)
{
    if (!ev || !isfinite(value))
        return;
    json_array_append_new(ev, json_pack("{s:s, s:o, s:f, s:s}", "label", label, "point",
                                        p ? json_string(p->slug) : json_null(), "value",
                                        round(value * 1000) / 1000, "unit", unit ? unit : ""));
}

/* ---- shared by the detectors ------------------------------------------------ */

void *svc_push(void **v, size_t *n, size_t *cap, size_t size, size_t first)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : first;
        void *nv = realloc(*v, nc * size);
        if (!nv)
            return NULL;
        *v = nv;
        *cap = nc;
    }
    void *e = (char *)*v + (*n)++ * size;
    memset(e, 0, size);
    return e;
}

int64_t svc_first_minute(const struct sb_analytics *a, int64_t now)
{
    int64_t t = a->cfg.fdd_from_ms ? a->cfg.fdd_from_ms : now - 3 * SB_HOUR_MS;
    return t - t % 60000;
}

double svc_frac(const struct sb_point *p, double v)
{
    return p && p->canon == SB_UNIT_PERCENT ? v / 100.0 : v;
}

double svc_m3s(const struct sb_point *p, double v)
{
    return p && p->canon == SB_UNIT_L_S ? v / 1000.0 : v;
}

void svc_free_minutes(double **v, int k)
{
    for (int i = 0; i < k; i++) {
        free(v[i]);
        v[i] = NULL;
    }
}

int svc_read_minutes(struct sb_analytics *a, const struct sb_point *const *pts, int k, int64_t from_ms,
                     size_t n, double **v)
{
    int rc = 0;

    for (int i = 0; i < k; i++)
        v[i] = NULL;
    for (int i = 0; i < k && rc >= 0; i++) {
        const struct sb_point *p = pts[i];
        if (!p)
            continue;
        if (!(v[i] = malloc(n * sizeof(double)))) {
            rc = SB_ENOMEM;
            break;
        }
        /* a state, or a counter's reading: the minute's last value; the rest its mean */
        int state = p->kind == SB_POINT_COMMAND || p->kind == SB_POINT_STATUS || p->kind == SB_POINT_ENERGY;
        rc = state ? sb_point_last(a->cfg.store, p, SB_RES_1M, from_ms, n, v[i])
                   : sb_point_mean(a->cfg.store, p, SB_RES_1M, from_ms, n, v[i]);
    }
    if (rc < 0) {
        svc_free_minutes(v, k);
        return rc;
    }
    return 0;
}

size_t svc_chunk(struct sb_analytics *a, const struct sb_point *const *pts, int k, int64_t next_ms, int64_t upto,
                 double **v)
{
    size_t n = upto > next_ms ? (size_t)((upto - next_ms) / 60000) : 0;

    for (int i = 0; i < k; i++)
        v[i] = NULL;
    if (n > 360)
        n = 360;
    if (n == 0 || svc_read_minutes(a, pts, k, next_ms, n, v) < 0)
        return 0;
    return n;
}

void svc_runstat_add(struct svc_runstat *r, int64_t t_ms, int running, double measure)
{
    int64_t h = t_ms / SB_HOUR_MS;
    int b = (int)(h % 24);

    if (r->hour[b] != h) {
        r->hour[b] = h;
        r->run_min[b] = 0;
        r->sum[b] = 0;
    }
    if (running) {
        r->run_min[b]++;
        r->sum[b] += isfinite(measure) ? measure : 0;
    }
}

double svc_runstat_hours(const struct svc_runstat *r, int64_t now_ms)
{
    int64_t h = now_ms / SB_HOUR_MS;
    double min = 0;

    for (int b = 0; b < 24; b++)
        if (r->hour[b] > h - 24 && r->hour[b] <= h)
            min += r->run_min[b];
    return min / 60.0;
}

double svc_runstat_mean(const struct svc_runstat *r, int64_t now_ms)
{
    int64_t h = now_ms / SB_HOUR_MS;
    double min = 0, sum = 0;

    for (int b = 0; b < 24; b++)
        if (r->hour[b] > h - 24 && r->hour[b] <= h) {
            min += r->run_min[b];
            sum += r->sum[b];
        }
    return min > 0 ? sum / min : NAN;
}

int64_t svc_fdd_overrides(struct sb_analytics *a, const char *equip, void *conf,
                          int (*set)(void *conf, const char *name, double v, char *err, size_t errlen))
{
    struct sb_doc d;
    int64_t upd;

    if (!a->cfg.db || sb_appdb_doc_get(a->cfg.db, "fdd_conf", equip, &d) != 0)
        return 0;
    upd = d.updated_ms ? d.updated_ms : 1;
    json_t *o = json_loads(d.body, 0, NULL), *v;
    const char *name;
    json_object_foreach(json_object_get(o, "overrides"), name, v) {
        char err[200];
        if (!json_is_number(v) || set(conf, name, json_number_value(v), err, sizeof(err)))
            SB_WARN(SVC_MOD, "%s: stored FDD setting %s skipped: %s", equip, name,
                    json_is_number(v) ? err : "not a number");
    }
    json_decref(o);
    sb_doc_release(&d);
    return upd;
}

/* The "fdd_conf" document's time, without reading it: whether to re-read. */
int64_t svc_fdd_conf_stamp(struct sb_analytics *a, const char *equip)
{
    struct sb_doc d;
    int64_t upd;

    if (!a->cfg.db || sb_appdb_doc_meta(a->cfg.db, "fdd_conf", equip, &d) != 0)
        return 0;
    upd = d.updated_ms ? d.updated_ms : 1;
    sb_doc_release(&d);
    return upd;
}

/*
 * h_data.c - readings: latest values, history, batch ingest, exports, and
 * the live views built on them (equipment telemetry, zone status,
 * thermostat status, building overview).
 *
 * Latest values come from the in-memory live table (live.h), so they and
 * the views run on the loop thread; history, ingest and exports touch the
 * store and run on the thread pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerts/service.h"
#include "api/api.h"
#include "api/export.h"
#include "api/live.h"
#include "api/ws.h"
#include "db/audit_later.h"
#include "cluster/lease.h"
#include "drivers/manager.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "ingest/ingest.h"
#include "model/hub.h"
#include "model/site_json.h"
#include "store/store.h"

#define READINGS_MAX   100000   /* readings in one POST */
#define ERRORS_SHOWN   100      /* refused readings described in the answer */
#define EXPORT_POINTS  100      /* series in one export */
#define EXPORT_SAMPLES 5000000  /* samples in one export, all series */

/* ---- latest ------------------------------------------------------------------ */

static const struct sb_point *param_point(struct sb_req *rq)
{
    return sb_api__point(rq->model->m, rq->params[0]);
}

/* "point":id,"slug":..,"t":..,"ts":..,"value":..,"quality":.. (no braces). */
static void latest_fields(struct sb_api *api, struct sb_http__buf *b, const struct sb_point *p)
{
    struct sb_sample s;
    char t[40];
    sb_http__buf_printf(b, "\"point\":%" PRIu32 ",\"slug\":", p->id);
    sb_http__buf_jstr(b, p->slug);
    sb_http__buf_printf(b, ",\"unit\":\"%s\"", sb_unit_symbol(p->canon));
    if (sb_live_get(api->live, p->id, &s) != 0) {
        sb_http__buf_puts(b, ",\"t\":null,\"ts\":null,\"value\":null,\"quality\":null");
        return;
    }
    sb_http__buf_printf(b, ",\"t\":\"%s\",\"ts\":%" PRId64 ",\"value\":",
                        sb_time_format(s.t, t, sizeof(t)), s.t);
    sb_http__buf_num(b, s.v);
    sb_http__buf_printf(b, ",\"quality\":%u", (unsigned)s.q);
}

void sb_api__h_latest(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_point *p = param_point(rq);
    struct sb_sample s;
    if (!p || sb_live_get(api->live, p->id, &s) != 0) {
        sb_api__err(rq, 404, "not_found", "no reading for this point");
        return;
    }
    struct sb_http__buf *b = &rq->resp.body;
    rq->resp.status = 200;
    sb_http__buf_puts(b, "{");
    latest_fields(api, b, p);
    sb_http__buf_puts(b, "}\n");
}

/* ---- history --------------------------------------------------------------------- */

/* Parse /history or /series parameters into q; 0 or answered 400. */
static int series_q(struct sb_req *rq, struct sb_http__series_q *q)
{
    const char *why = "bad request";
    char frag[SB_HTTP_MAX_URL + 2];
    sb_http__series_init(q);
    for (size_t i = 0; i < rq->nq; i++) {
        int n = snprintf(frag, sizeof(frag), "%s=%s", rq->qname[i], rq->qval[i]);
        if (n < 0 || (size_t)n >= sizeof(frag) ||
            sb_http__series_arg(q, frag, (size_t)n, &why)) {
            sb_api__bad_field(rq, rq->qname[i], why);
            return -1;
        }
    }
    if (sb_http__series_finish(q, sb_now_ms(), &why)) {
        sb_api__err(rq, 400, "invalid", why);
        return -1;
    }
    return 0;
}

void sb_api__h_history(struct sb_api *api, struct sb_req *rq)
{
    struct sb_http__job job;
    const struct sb_point *p = param_point(rq);
    memset(&job, 0, sizeof(job));
    if (series_q(rq, &job.q))
        return;
    /* The point's kind says how buckets reduce unless agg says otherwise. */
    if (!(job.q.seen & 2u) && strstr(rq->route->path, "/history"))
        job.q.kind = sb_point_kind_agg(p->kind);
    job.route = SB_HTTP_R_SERIES;
    job.point = p->id;
    sb_http__run_job(&api->ctx, &job, &rq->resp);
}

void sb_api__h_status(struct sb_api *api, struct sb_req *rq)
{
    struct sb_http__job job;
    memset(&job, 0, sizeof(job));
    job.route = SB_HTTP_R_STATUS;
    job.started_ms = api->started_ms;
    job.served = api->hst ? api->hst->served : 0;
    job.busy = api->hst ? api->hst->busy : 0;
    job.accept_errors = api->hst ? api->hst->accept_errors : 0;
    sb_http__run_job(&api->ctx, &job, &rq->resp);
}

/* ---- readings ingest ------------------------------------------------------------ */

/* A time: integer ms or an RFC 3339 string. */
static int json_time(json_t *v, int64_t *t)
{
    if (json_is_integer(v)) {
        *t = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    return s && sb_time_parse(s, strlen(s), t) == 0 ? 0 : SB_EINVAL;
}

static void refuse(json_t *errs, size_t i, const char *field, const char *msg)
{
    if (json_array_size(errs) < ERRORS_SHOWN)
        json_array_append_new(errs, json_pack("{s:I, s:s, s:s}", "index", (json_int_t)i,
                                              "field", field, "message", msg));
}

void sb_api__h_readings(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "wait", "units", NULL };
    static const char *const keys[] = { "readings", NULL };
    json_t *body = NULL, *errs = json_array(), *arr, *it;
    struct sb_reading *r = NULL;
    size_t i, n = 0, bad = 0;
    const char *w = sb_req_q(rq, "wait"), *u = sb_req_q(rq, "units");
    int wait = !w || strcmp(w, "0") != 0, source = u && strcmp(u, "source") == 0;

    if (sb_api__only_query(rq, q_ok))
        goto out;
    if ((w && strcmp(w, "0") && strcmp(w, "1")) || (u && !source && strcmp(u, "canonical"))) {
        sb_api__bad_field(rq, w && strcmp(w, "0") && strcmp(w, "1") ? "wait" : "units",
                          "wait is 0 or 1; units is canonical or source");
        goto out;
    }
    if (!api->ctx.ingest) {
        sb_api__err(rq, 503, "unavailable", "ingest is not running");
        goto out;
    }
    if (!(body = sb_api__body(rq)) || sb_api__only_keys(rq, body, keys))
        goto out;
    arr = json_object_get(body, "readings");
    if (!json_is_array(arr) || json_array_size(arr) == 0 ||
        json_array_size(arr) > READINGS_MAX) {
        sb_api__bad_field(rq, "readings", "readings must be an array of 1 to 100000 objects");
        goto out;
    }
    if (!rq->model)
        rq->model = sb_mhub_get(api->ctx.models);
    const struct sb_model *m = rq->model->m;
    r = malloc(json_array_size(arr) * sizeof(*r));
    if (!r) {
        sb_api__err(rq, 503, "busy", "out of memory");
        goto out;
    }
    json_array_foreach(arr, i, it) {
        json_t *pv = json_object_get(it, "point"), *vv = json_object_get(it, "v");
        const struct sb_point *p = NULL;
        char id[24];
        int64_t t;
        if (json_is_integer(pv)) {
            snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, json_integer_value(pv));
            p = sb_api__point(m, id);
        } else if (json_is_string(pv)) {
            p = sb_model_point(m, json_string_value(pv));
        }
        if (!json_is_object(it) || json_object_size(it) > 4) {
            refuse(errs, i, "readings", "each reading is {\"point\",\"t\",\"v\"[,\"q\"]}");
        } else if (!p || !sb_api__in_scope(&rq->who, m, (size_t)p->building_ix)) {
            refuse(errs, i, "point", "unknown point (or not in your scope)");
        } else if (json_time(json_object_get(it, "t"), &t)) {
            refuse(errs, i, "t", "t must be ms since the epoch or an RFC 3339 time");
        } else if (!json_is_number(vv)) {
            refuse(errs, i, "v", "v must be a number");
        } else {
            json_t *qv = json_object_get(it, "q");
            r[n] = (struct sb_reading){ .t = t, .v = json_number_value(vv), .point = p->id,
                                        .q = (uint16_t)(json_is_integer(qv) ?
                                                        json_integer_value(qv) & 0xffff : 0) };
            n++;
            continue;
        }
        bad++;
    }
    if (source)
        sb_model_to_canonical(m, r, n);
    struct sb_ingest_result res;
    memset(&res, 0, sizeof(res));
    int rc = n ? sb_ingest_submit(api->ctx.ingest, r, n, 2000, &res) : 0;
    if (rc == SB_EAGAIN || rc == SB_ECLOSED) {
        rq->resp.retry_after = 1;
        sb_api__err(rq, 503, "busy", "the ingest queue is full; retry shortly");
        goto out;
    }
    if (res.rejected) {
        for (int k = 0; k < SB_REJ_COUNT; k++)
            if (res.reasons[k])
                refuse(errs, (size_t)res.first_bad, "v", sb_reject_name((enum sb_reject)k));
    }
    int durable = 0;
    if (wait && n && res.queued)
        durable = sb_ingest_wait(api->ctx.ingest, res.ticket, 10000) == 0;
    sb_api__json(rq, wait ? 200 : 202,
                 json_pack("{s:I, s:I, s:b, s:o}", "accepted", (json_int_t)res.queued,
                           "rejected", (json_int_t)(bad + res.rejected), "durable", durable,
                           "errors", errs));
    errs = NULL;
out:
    free(r);
    json_decref(body);
    json_decref(errs);
}

/* ---- live views --------------------------------------------------------------- */

/* Every point of equipment e with its newest value. */
static void points_of(struct sb_api *api, struct sb_http__buf *b, const struct sb_model *m,
                      int32_t e)
{
    int first = 1;
    sb_http__buf_puts(b, "[");
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->equipment_ix != e)
            continue;
        sb_http__buf_puts(b, first ? "{" : ",{");
        first = 0;
        latest_fields(api, b, p);
        sb_http__buf_printf(b, ",\"kind\":\"%s\",\"writable\":%s,\"name\":",
                            sb_point_kind_name(p->kind), p->writable ? "true" : "false");
        sb_http__buf_jstr(b, p->name);
        sb_http__buf_puts(b, "}");
    }
    sb_http__buf_puts(b, "]");
}

void sb_api__h_telemetry(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m = rq->model->m;
    const struct sb_equipment *e = sb_model_equipment(m, rq->params[0]);
    int thermostat = strstr(rq->route->path, "/thermostats/") != NULL;
    if (!e || (thermostat && e->type != SB_EQUIP_THERMOSTAT)) {
        sb_api__err(rq, 404, "not_found", "no such thermostat");
        return;
    }
    struct sb_http__buf *b = &rq->resp.body;
    rq->resp.status = 200;
    sb_http__buf_puts(b, "{\"equipment\":");
    sb_http__buf_jstr(b, e->slug);
    sb_http__buf_printf(b, ",\"type\":\"%s\",\"name\":", sb_equip_type_name(e->type));
    sb_http__buf_jstr(b, e->name);
    sb_http__buf_puts(b, ",\"points\":");
    points_of(api, b, m, (int32_t)(e - m->equipment));
    sb_http__buf_puts(b, "}\n");
}


/* "in_band", "too_warm", "too_cold" or "unknown" for a temperature. */
static const char *comfort_state(const struct sb_band *band, double t, int have)
{
    if (!have)
        return "unknown";
    return t > band->cooling ? "too_warm" : t < band->heating ? "too_cold" : "in_band";
}

void sb_api__h_zone_status(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m = rq->model->m;
    const struct sb_zone *z = sb_model_zone(m, rq->params[0]);
    int32_t zi = (int32_t)(z - m->zones);
    int64_t now = sb_now_ms();
    int occ = sb_zone_occupied(m, z, now);
    const struct sb_band *band = occ ? &z->comfort.occupied : &z->comfort.unoccupied;
    const struct sb_point *tp = sb_zone_temp_point(m, zi);
    struct sb_sample s;
    int have = tp && sb_live_get(api->live, tp->id, &s) == 0;
    struct sb_http__buf *b = &rq->resp.body;

    rq->resp.status = 200;
    sb_http__buf_puts(b, "{\"zone\":");
    sb_http__buf_jstr(b, z->slug);
    sb_http__buf_puts(b, ",\"name\":");
    sb_http__buf_jstr(b, z->name);
    sb_http__buf_printf(b, ",\"occupied\":%s", occ ? "true" : "false");
    if (z->comfort.set) {
        sb_http__buf_printf(b, ",\"band\":{\"heating\":%g,\"cooling\":%g}", band->heating,
                            band->cooling);
        sb_http__buf_printf(b, ",\"comfort\":\"%s\"",
                            comfort_state(band, have ? s.v : 0, have));
    } else {
        sb_http__buf_puts(b, ",\"band\":null,\"comfort\":\"unknown\"");
    }
    sb_http__buf_puts(b, ",\"temperature\":");
    sb_http__buf_num(b, have ? s.v : NAN);
    sb_http__buf_puts(b, ",\"equipment\":[");
    int first = 1;
    for (size_t e = 0; e < m->nequipment; e++) {
        if (m->equipment[e].zone_ix != zi)
            continue;
        sb_http__buf_puts(b, first ? "{\"equipment\":" : ",{\"equipment\":");
        first = 0;
        sb_http__buf_jstr(b, m->equipment[e].slug);
        sb_http__buf_puts(b, ",\"points\":");
        points_of(api, b, m, (int32_t)e);
        sb_http__buf_puts(b, "}");
    }
    sb_http__buf_puts(b, "]}\n");
}

/* The main meters of building bi (meters with no parent meter) give the
 * building's totals: up to cap of their first non-virtual point of kind k
 * into out; returns how many. */
static size_t main_meter_points(const struct sb_model *m, int32_t bi, enum sb_point_kind k,
                                const struct sb_point **out, size_t cap)
{
    size_t n = 0;
    for (size_t e = 0; e < m->nequipment && n < cap; e++) {
        const struct sb_equipment *eq = &m->equipment[e];
        if (eq->building_ix != bi || eq->type != SB_EQUIP_METER || eq->parent)
            continue;
        for (size_t i = 0; i < m->npoints; i++) {
            const struct sb_point *p = &m->points[i];
            if (p->equipment_ix == (int32_t)e && p->kind == k &&
                p->source.driver != SB_DRIVER_VIRTUAL) {
                out[n++] = p;
                break;
            }
        }
    }
    return n;
}

#define METERS_MAX 16           /* main meters summed per building */

/* Live power: the sum of the main meters' newest power readings. */
static double live_power(struct sb_api *api, const struct sb_model *m, int32_t bi, int *have)
{
    const struct sb_point *p[METERS_MAX];
    size_t n = main_meter_points(m, bi, SB_POINT_POWER, p, METERS_MAX);
    double sum = 0;
    *have = 0;
    for (size_t i = 0; i < n; i++) {
        struct sb_sample s;
        if (sb_live_get(api->live, p[i]->id, &s) == 0) {
            sum += s.v;
            *have = 1;
        }
    }
    return sum;
}

/* Today's consumption: the main meters' energy counters, open daily bucket
 * (local day of the building, as the store's rollups). */
static double today_energy(struct sb_api *api, const struct sb_model *m, int32_t bi, int *have)
{
    const struct sb_point *p[METERS_MAX];
    size_t n = main_meter_points(m, bi, SB_POINT_ENERGY, p, METERS_MAX);
    int64_t now = sb_now_ms();
    double sum = 0;
    *have = 0;
    for (size_t i = 0; i < n; i++) {
        struct sb_aggs a = { 0 };
        if (sb_store_range_agg(api->ctx.store, p[i]->id, SB_RES_1D, now - 86400000, now + 1,
                               &a) == 0 && a.n) {
            double v = sb_agg_value(SB_AGG_COUNTER, &a.v[a.n - 1]);
            if (!isnan(v)) {
                sum += v;
                *have = 1;
            }
        }
        sb_aggs_release(&a);
    }
    return sum;
}

/* Overviews are built at most once a second per building (they read the
 * store for today's energy) and served from this cache on the loop in
 * between: a wall of dashboards costs one build a second, not one each. */
#define OVERVIEW_TTL_MS 1000
#define OVERVIEW_SLOTS  64

struct sb_ovcache {
    pthread_mutex_t mu;
    struct {
        char slug[SB_SLUG_MAX + 1];
        uint64_t model;            /* model version it was built from */
        int64_t at;                /* when, ms */
        char *body;                /* heap */
        size_t len;
    } e[OVERVIEW_SLOTS];
};

struct sb_ovcache *sb_api__ovcache_new(void)
{
    struct sb_ovcache *c = calloc(1, sizeof(*c));
    if (c)
        pthread_mutex_init(&c->mu, NULL);
    return c;
}

void sb_api__ovcache_free(struct sb_ovcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < OVERVIEW_SLOTS; i++)
        free(c->e[i].body);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static unsigned ov_slot(const char *slug)
{
    unsigned h = 2166136261u;
    for (; *slug; slug++)
        h = (h ^ (unsigned char)*slug) * 16777619u;
    return h % OVERVIEW_SLOTS;
}

static int ov_get(struct sb_ovcache *c, struct sb_req *rq, int64_t now)
{
    unsigned k = ov_slot(rq->params[0]);
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    if (c->e[k].body && strcmp(c->e[k].slug, rq->params[0]) == 0 &&
        c->e[k].model == rq->model->version && now - c->e[k].at < OVERVIEW_TTL_MS) {
        sb_http__buf_add(&rq->resp.body, c->e[k].body, c->e[k].len);
        rq->resp.status = 200;
        hit = 1;
    }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static void ov_put(struct sb_ovcache *c, const struct sb_req *rq, int64_t at)
{
    unsigned k = ov_slot(rq->params[0]);
    char *b = malloc(rq->resp.body.len);
    if (!b)
        return;
    memcpy(b, rq->resp.body.p, rq->resp.body.len);
    pthread_mutex_lock(&c->mu);
    free(c->e[k].body);
    snprintf(c->e[k].slug, sizeof(c->e[k].slug), "%s", rq->params[0]);
    c->e[k].model = rq->model->version;
    c->e[k].at = at;
    c->e[k].body = b;
    c->e[k].len = rq->resp.body.len;
    pthread_mutex_unlock(&c->mu);
}

void sb_api__h_overview(struct sb_api *api, struct sb_req *rq)
{
    if (!rq->on_pool) {
        if (!ov_get(api->ovc, rq, sb_now_ms()))
            rq->defer = 1;                 /* build it on the pool */
        return;
    }
    const struct sb_model *m = rq->model->m;
    const struct sb_building *bd = sb_model_building(m, rq->params[0]);
    int32_t bi = (int32_t)(bd - m->buildings);
    int64_t now = sb_now_ms();
    int hp, he;
    size_t zn = 0, zin = 0, zwarm = 0, zcold = 0, zunk = 0, zocc = 0;
    double kw = live_power(api, m, bi, &hp);
    double kwh = api->ctx.store ? today_energy(api, m, bi, &he) : (he = 0, 0);

    for (size_t z = 0; z < m->nzones; z++) {
        const struct sb_zone *zo = &m->zones[z];
        if (zo->building_ix != bi)
            continue;
        zn++;
        int occ = sb_zone_occupied(m, zo, now);
        zocc += occ;
        const struct sb_point *tp = sb_zone_temp_point(m, (int32_t)z);
        struct sb_sample s;
        int have = tp && zo->comfort.set && sb_live_get(api->live, tp->id, &s) == 0;
        const char *st = comfort_state(occ ? &zo->comfort.occupied : &zo->comfort.unoccupied,
                                       have ? s.v : 0, have);
        zin += st[0] == 'i';
        zwarm += strcmp(st, "too_warm") == 0;
        zcold += strcmp(st, "too_cold") == 0;
        zunk += st[0] == 'u';
    }
    struct sb_http__buf *b = &rq->resp.body;
    char t[40];
    rq->resp.status = 200;
    sb_http__buf_puts(b, "{\"building\":");
    sb_http__buf_jstr(b, bd->slug);
    sb_http__buf_puts(b, ",\"name\":");
    sb_http__buf_jstr(b, bd->name);
    sb_http__buf_printf(b, ",\"at\":\"%s\",\"power_kw\":", sb_time_format(now, t, sizeof(t)));
    sb_http__buf_num(b, hp ? kw : NAN);
    sb_http__buf_puts(b, ",\"energy_today_kwh\":");
    sb_http__buf_num(b, he ? kwh : NAN);
    sb_http__buf_printf(b, ",\"comfort\":{\"zones\":%zu,\"occupied\":%zu,\"in_band\":%zu,"
                        "\"too_warm\":%zu,\"too_cold\":%zu,\"unknown\":%zu,\"score\":",
                        zn, zocc, zin, zwarm, zcold, zunk);
    sb_http__buf_num(b, zn - zunk ? 100.0 * (double)zin / (double)(zn - zunk) : NAN);
    /* open alerts from the alert service's memory (no database on the loop);
     * without it, say so, never 0 */
    struct sb_alert_summary as;
    if (api->ctx.alerts && sb_alerts_summary(api->ctx.alerts, bd->slug, &as) == 0)
        sb_http__buf_printf(b, "},\"alerts\":{\"available\":true,\"active\":%" PRId64 ",\"open\":%" PRId64
                            ",\"critical\":%" PRId64 ",\"major\":%" PRId64 ",\"minor\":%" PRId64
                            ",\"info\":%" PRId64 ",\"unacknowledged\":%" PRId64 "}}\n",
                            as.open, as.open, as.critical, as.major, as.minor, as.info, as.unacknowledged);
    else
        sb_http__buf_puts(b, "},\"alerts\":{\"available\":false,\"active\":null}}\n");
    if (!b->err)
        ov_put(api->ovc, rq, now);
}

/* ---- drivers and cluster ------------------------------------------------------ */

/* GET /api/v1/drivers: devices and their health. */
void sb_api__h_drivers(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.drivers) {
        sb_api__json(rq, 200, json_pack("{s:[], s:[], s:b}", "devices", "misconfigured",
                                        "dry_run", 0));
        return;
    }
    sb_api__json(rq, 200, sb_drvmgr_health(api->ctx.drivers));
}

/* GET /api/v1/cluster: the nodes sharing the store and this node's leases. */
void sb_api__h_cluster(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.lease) {
        sb_api__json(rq, 200, json_pack("{s:b}", "leases", 0));
        return;
    }
    json_t *o = sb_lease_status(api->ctx.lease);
    json_object_set_new(o, "leases", json_true());
    sb_api__json(rq, 200, o);
}

/* ---- export ------------------------------------------------------------------- */

struct series {
    const struct sb_point *p;
    struct sb_samples s;
    struct sb_aggs a;
    size_t at;
};

static int64_t series_t(const struct series *x, int raw)
{
    if (raw)
        return x->at < x->s.n ? x->s.v[x->at].t : INT64_MAX;
    return x->at < x->a.n ? x->a.v[x->at].start : INT64_MAX;
}

static int write_rows(struct sb_export *ex, struct series *sv, size_t n, int raw,
                      enum sb_agg_kind *kinds, double *row)
{
    for (;;) {
        int64_t t = INT64_MAX;
        for (size_t i = 0; i < n; i++)
            if (series_t(&sv[i], raw) < t)
                t = series_t(&sv[i], raw);
        if (t == INT64_MAX)
            return 0;
        for (size_t i = 0; i < n; i++) {
            row[i] = NAN;
            if (series_t(&sv[i], raw) != t)
                continue;
            row[i] = raw ? sv[i].s.v[sv[i].at].v : sb_agg_value(kinds[i], &sv[i].a.v[sv[i].at]);
            sv[i].at++;
        }
        int rc = sb_export_row(ex, t, row);
        if (rc)
            return rc;
    }
}

/* Open an anonymous temporary file in data_dir (unlinked at once). */
static int temp_file(struct sb_api *api, char *path, size_t cap)
{
    const char *dir = api->ctx.cfg ? api->ctx.cfg->data_dir : "/tmp";
    snprintf(path, cap, "%s/.export-XXXXXX", dir);
    return mkstemp(path);
}

void sb_api__h_export(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "points", "from", "to", "resolution", "agg", "format",
                                        NULL };
    struct series sv[EXPORT_POINTS];
    const char *cols[EXPORT_POINTS], *units[EXPORT_POINTS];
    enum sb_agg_kind kinds[EXPORT_POINTS];
    double row[EXPORT_POINTS];
    size_t n = 0, total = 0;
    struct sb_http__series_q q;
    char path[PATH_MAX] = "", list[SB_REQ_QBYTES];
    struct sb_export *ex = NULL;
    int fd = -1;

    memset(sv, 0, sizeof(sv));
    if (sb_api__only_query(rq, q_ok))
        return;
    const char *fs = sb_req_q(rq, "format"), *pts = sb_req_q(rq, "points");
    int fmt = fs ? sb_export_fmt_parse(fs) : SB_EXPORT_CSV;
    if (fmt < 0) {
        sb_api__bad_field(rq, "format", "format must be csv, xlsx or json");
        return;
    }
    if (!pts || !*pts) {
        sb_api__bad_field(rq, "points", "points is a comma-separated list of point ids or slugs");
        return;
    }
    /* the series parameters, without format and points */
    struct sb_req tmp;
    tmp.nq = 0;
    for (size_t i = 0; i < rq->nq; i++)
        if (strcmp(rq->qname[i], "format") && strcmp(rq->qname[i], "points")) {
            tmp.qname[tmp.nq] = rq->qname[i];
            tmp.qval[tmp.nq++] = rq->qval[i];
        }
    size_t saved = rq->nq;
    const char *sn[SB_REQ_QMAX], *svv[SB_REQ_QMAX];
    memcpy(sn, rq->qname, sizeof(sn));
    memcpy(svv, rq->qval, sizeof(svv));
    memcpy(rq->qname, tmp.qname, sizeof(sn));
    memcpy(rq->qval, tmp.qval, sizeof(svv));
    rq->nq = tmp.nq;
    int bad = series_q(rq, &q);
    rq->nq = saved;
    memcpy(rq->qname, sn, sizeof(sn));
    memcpy(rq->qval, svv, sizeof(svv));
    if (bad)
        return;
    if (!rq->model)
        rq->model = sb_mhub_get(api->ctx.models);
    const struct sb_model *m = rq->model->m;
    snprintf(list, sizeof(list), "%s", pts);
    for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        const struct sb_point *p = sb_api__point(m, tok);
        if (!p || !sb_api__in_scope(&rq->who, m, (size_t)p->building_ix)) {
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown point %.64s (or not in your scope)", tok);
            sb_api__bad_field(rq, "points", msg);
            goto out;
        }
        if (n == EXPORT_POINTS) {
            sb_api__bad_field(rq, "points", "at most 100 points per export");
            goto out;
        }
        sv[n].p = p;
        cols[n] = p->slug;
        units[n] = sb_unit_symbol(p->canon);
        kinds[n] = q.seen & 2u ? q.kind : sb_point_kind_agg(p->kind);
        int rc = q.res == SB_RES_RAW
                     ? sb_store_range_raw(api->ctx.store, p->id, q.from, q.to, q.limit, &sv[n].s)
                     : sb_store_range_agg(api->ctx.store, p->id, q.res, q.from, q.to, &sv[n].a);
        n++;
        if (rc) {
            sb_api__err_rc(rq, rc, "reading the store");
            goto out;
        }
        total += sv[n - 1].s.n + sv[n - 1].a.n;
        if (total > EXPORT_SAMPLES) {
            sb_api__err(rq, 413, "too_large", "more than 5,000,000 values: narrow the range");
            goto out;
        }
    }
    fd = temp_file(api, path, sizeof(path));
    struct sb_export_meta meta = { .title = "sbems export", .cols = cols, .units = units,
                                   .ncols = n };
    FILE *fp = fd >= 0 ? fdopen(dup(fd), "w+") : NULL;
    int rc = fp ? sb_export_open_fp((enum sb_export_fmt)fmt, fp, api->ctx.cfg ?
                                    api->ctx.cfg->data_dir : "/tmp", &meta, &ex) : SB_EIO;
    if (rc == 0)
        rc = write_rows(ex, sv, n, q.res == SB_RES_RAW, kinds, row);
    if (ex) {
        int c = rc ? (sb_export_abort(ex), 0) : sb_export_close(ex);
        rc = rc ? rc : c;
        ex = NULL;
    } else if (fp) {
        fclose(fp);
    }
    struct stat st;
    if (rc || fstat(fd, &st) != 0) {
        sb_api__err_rc(rq, rc ? rc : SB_EIO,
                       rc == SB_ENOSPC ? "export over the format's row limit" : "writing the export");
        goto out;
    }
    char day[40];
    rq->resp.status = 200;
    rq->resp.ctype = sb_export_ctype((enum sb_export_fmt)fmt);
    rq->resp.fd = fd;
    rq->resp.flen = (uint64_t)st.st_size;
    fd = -1;
    sb_time_format(sb_now_ms(), day, sizeof(day));
    day[10] = '\0';
    sb_http__hdr(&rq->resp, "content-disposition:", "attachment; filename=\"sbems-export-%s.%s\"",
                 day, sb_export_ext((enum sb_export_fmt)fmt));
out:
    if (path[0])
        unlink(path);
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < n; i++) {
        sb_samples_release(&sv[i].s);
        sb_aggs_release(&sv[i].a);
    }
}

/* ---- start ------------------------------------------------------------------------ */

void sb_api__live_fill(struct sb_api *api)
{
    if (!api->ctx.models || !api->ctx.store)
        return;
    struct sb_mref *mr = sb_mhub_get(api->ctx.models);
    const struct sb_model *m = mr->m;
    uint32_t *ids = malloc((m->npoints ? m->npoints : 1) * sizeof(*ids));
    struct sb_sample *s = malloc((m->npoints ? m->npoints : 1) * sizeof(*s));
    size_t n = 0;
    for (size_t i = 0; ids && s && i < m->npoints; i++)
        if (m->points[i].id)
            ids[n++] = m->points[i].id;
    for (size_t i = 0; s && i < n; i++)
        s[i].t = INT64_MIN;
    /* Before the server answers anything: a startup cost (~1 us a point). */
    if (ids && s && n && sb_store_latest(api->ctx.store, ids, n, s) == 0)
        for (size_t i = 0; i < n; i++)
            if (s[i].t != INT64_MIN) {
                struct sb_reading r = { .t = s[i].t, .v = s[i].v, .point = ids[i], .q = s[i].q };
                sb_live_update(api->live, &r, 1);
            }
    free(ids);
    free(s);
    sb_mref_put(mr);
}

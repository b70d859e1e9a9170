/*
 * service.c - the analytics service's life cycle, its worker and schedule
 * (service.h, docs/internals/analytics.md).
 *
 * The worker wakes every 30 s, or at once for a retrain request.  At each
 * new hour it trains what has no model yet or is due for its nightly
 * retrain (the building's local train_hour, or more than 48 h since the
 * last training after a missed night), issues every meter's 72 h forecast,
 * and checks it for drift.  One thread: a model fit never competes with
 * another for the two cores this class of machine has, and nothing it does
 * can delay the loop.
 */
#include "analytics/service.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "drivers/manager.h"
#include "drivers/rest/weather.h"

#define DAY_MS (24 * SB_HOUR_MS)

int64_t svc_now(const struct sb_analytics *a)
{
    return a->cfg.now_ms ? a->cfg.now_ms() : sb_now_ms();
}

int svc_weather(struct sb_analytics *a, const char *variable, int64_t from_ms, size_t hours,
                double *out)
{
    int rc = 0;

    for (size_t i = 0; i < hours; i++)
        out[i] = __builtin_nan("");
    /* Held across the call: the driver's functions are thread-safe, and the
     * loop only replaces the pointer while the drivers run. */
    pthread_mutex_lock(&a->mu);
    if (a->wx)
        rc = sb_weather_forecast(a->wx, variable, from_ms, hours, out, NULL);
    pthread_mutex_unlock(&a->mu);
    return rc > 0;
}


int svc_doc_put(struct sb_analytics *a, const char *kind, const char *key, const char *building,
                json_t *body, const void *blob, size_t blob_len)
{
    struct sb_doc d;
    int rc;

    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "%s", kind);
    snprintf(d.key, sizeof(d.key), "%s", key);
    snprintf(d.building, sizeof(d.building), "%s", building ? building : "");
    if (!(d.body = json_dumps(body, JSON_COMPACT)))
        return SB_ENOMEM;
    d.blob = (void *)blob;
    d.blob_len = blob_len;
    d.updated_ms = svc_now(a);
    rc = sb_appdb_doc_put(a->cfg.db, &d);
    free(d.body);
    if (rc)
        SB_WARN(SVC_MOD, "cannot store %s %s: %s", kind, key, sb_strerror(rc));
    return rc;
}

/* ---- scheduling ------------------------------------------------------------ */

/* When the model (kind, key) was last trained, from its document (0 = never). */
static int64_t trained_ms(struct sb_analytics *a, const char *kind, const char *key)
{
    struct sb_doc d;
    int64_t t = 0;

    if (sb_appdb_doc_meta(a->cfg.db, kind, key, &d) == 0) {
        t = d.updated_ms;
        sb_doc_release(&d);
    }
    return t;
}

/* Retrain now?  Never trained; or the building's train hour has come and
 * the model is older than 20 h; or a night was missed (older than 48 h). */
static int due(struct sb_analytics *a, const char *kind, const char *key,
               const struct sb_building *b, int64_t now)
{
    int64_t t = trained_ms(a, kind, key);
    int wday, minute;

    if (t == 0 || now - t > 2 * DAY_MS)
        return 1;
    sb_tz_wall(b ? b->tz : NULL, now, &wday, &minute);
    return minute / 60 == a->cfg.train_hour && now - t > 20 * SB_HOUR_MS;
}

static int zone_has_temp(const struct sb_model *m, size_t zi)
{
    return sb_zone_temp_point(m, (int32_t)zi) != NULL;
}

/* Every detector over the minutes since its last pass; cleared findings
 * older than a month go once a day. */
static void fdd_passes(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    svc_fdd_pass(a, m, now);
    svc_vav_pass(a, m, now);
    svc_plant_pass(a, m, now);
    svc_sensor_pass(a, m, now);
    if (now - a->last_purge_ms >= 24 * SB_HOUR_MS) {
        svc_find_purge(a, now);
        a->last_purge_ms = now;
    }
}

static void hourly_pass(struct sb_analytics *a, const struct sb_model *m, int64_t hour)
{
    for (size_t i = 0; i < m->nequipment && !a->stop; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        if (!sb_meter_point(m, e))
            continue;
        const struct sb_building *b = &m->buildings[e->building_ix];
        if (due(a, "fc_model", e->slug, b, hour))
            svc_load_train(a, m, i);
        svc_load_issue(a, m, i, hour);
    }
    if (a->cfg.alerts)
        svc_energy_hour(a, m, hour);
    for (size_t i = 0; i < m->nzones && !a->stop; i++) {
        const struct sb_zone *z = &m->zones[i];
        if (zone_has_temp(m, i) && due(a, "zone_model", z->slug, &m->buildings[z->building_ix], hour))
            svc_zone_train(a, m, i);
    }
    svc_reports_due(a, m, svc_now(a));
}

/* A retrain request: a meter, a zone, or every model of a building. */
static void do_request(struct sb_analytics *a, const struct sb_model *m, const char *slug, int64_t now)
{
    const struct sb_equipment *e = sb_model_equipment(m, slug);
    const struct sb_zone *z = sb_model_zone(m, slug);
    const struct sb_building *b = sb_model_building(m, slug);
    int64_t hour = now - now % SB_HOUR_MS;

    if (e && sb_meter_point(m, e)) {
        size_t i = (size_t)(e - m->equipment);
        if (svc_load_train(a, m, i) == 0)
            svc_load_issue(a, m, i, hour);
    }
    if (z && zone_has_temp(m, (size_t)(z - m->zones)))
        svc_zone_train(a, m, (size_t)(z - m->zones));
    if (b) {
        int32_t bi = (int32_t)(b - m->buildings);
        for (size_t i = 0; i < m->nequipment && !a->stop; i++)
            if (m->equipment[i].building_ix == bi && sb_meter_point(m, &m->equipment[i]) &&
                svc_load_train(a, m, i) == 0)
                svc_load_issue(a, m, i, hour);
        for (size_t i = 0; i < m->nzones && !a->stop; i++)
            if (m->zones[i].building_ix == bi && zone_has_temp(m, i))
                svc_zone_train(a, m, i);
    }
}

static void *worker(void *arg)
{
    struct sb_analytics *a = arg;
    int64_t first = svc_now(a) + a->cfg.first_pass_ms;

    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += a->nreq ? 0 : 30;
        if (!a->nreq)
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
        if (a->stop)
            break;
        char req[SVC_MAX_REQ][SB_DOC_KEY_MAX + 1];
        int nreq = a->nreq;
        memcpy(req, a->req, sizeof(req[0]) * (size_t)nreq);
        a->nreq = 0;
        pthread_mutex_unlock(&a->mu);

        int64_t now = svc_now(a);
        struct sb_mref *r = sb_mhub_get(a->cfg.models);
        for (int i = 0; i < nreq && !a->stop; i++)
            do_request(a, r->m, req[i], now);
        int64_t hour = now - now % SB_HOUR_MS;
        /* one node of a cluster runs the passes; what they write is shared,
         * so a node that takes the duties over mid-hour runs its pass at
         * once and finds done what is done (reports by their stored files) */
        int mine = !a->cfg.duties || a->cfg.duties(a->cfg.duties_ud);
        if (mine && now >= first && hour != a->last_hour_ms) {
            hourly_pass(a, r->m, hour);
            a->last_hour_ms = hour;
        }
        if (mine && now >= first && a->cfg.alerts)
            fdd_passes(a, r->m, svc_now(a));
        sb_mref_put(r);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

/* ---- the loop side: pick up the weather driver ------------------------------- */

static void on_timer(uv_timer_t *t)
{
    struct sb_analytics *a = t->data;
    void *wx = a->cfg.drivers ? sb_drvmgr_state(a->cfg.drivers, "weather") : NULL;

    pthread_mutex_lock(&a->mu);
    a->wx = wx;
    pthread_mutex_unlock(&a->mu);
}

static void on_closed(uv_handle_t *h)
{
    struct sb_analytics *a = h->data;
    a->closed = 1;
}

static void on_delivered(void *ud, const struct sb_notice *nt, int ok, int tries, const char *detail)
{
    (void)ud;
    if (ok)
        SB_INFO(SVC_MOD, "report %s to %s delivered", nt->channel, nt->channel[0] == 'e' ? nt->target : "webhook");
    else
        SB_WARN(SVC_MOD, "report %s not delivered after %d attempt(s): %s", nt->channel, tries, detail);
}

/* ---- public ------------------------------------------------------------------ */

int sb_fdd_offline(const struct sb_analytics_cfg *cfg, int64_t from_ms, int64_t to_ms)
{
    struct sb_analytics *a;

    if (!cfg || !cfg->store || !cfg->models || !cfg->fdd_sink || to_ms <= from_ms)
        return SB_EINVAL;
    if (!(a = calloc(1, sizeof(*a))))
        return SB_ENOMEM;
    a->cfg = *cfg;
    a->cfg.alerts = NULL;
    a->cfg.fdd_from_ms = from_ms;
    a->last_purge_ms = INT64_MAX / 2;          /* nothing stored: nothing to purge */
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->cmu, NULL);
    pthread_mutex_init(&a->rmu, NULL);
    pthread_cond_init(&a->cv, NULL);
    a->closed = 1;
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    /* A daemon's passes every 15 minutes of the period ("now" two minutes
     * past each step: the passes stop at the step, the late readings' lag),
     * so what is judged across units (a device whose points all went
     * silent) sees the period as the daemon would. */
    for (int64_t t = from_ms + 15 * 60000; ; t += 15 * 60000) {
        int64_t now = (t < to_ms ? t : to_ms) + 2 * 60000;
        fdd_passes(a, r->m, now);
        if (t >= to_ms)
            break;
    }
    sb_mref_put(r);
    sb_analytics_free(a);
    return 0;
}

int sb_analytics_new(const struct sb_analytics_cfg *cfg, struct sb_analytics **out)
{
    struct sb_analytics *a;

    *out = NULL;
    if (!cfg || !cfg->store || !cfg->db || !cfg->models)
        return SB_EINVAL;
    if (!(a = calloc(1, sizeof(*a))))
        return SB_ENOMEM;
    a->cfg = *cfg;
    if (a->cfg.train_hour < 0 || a->cfg.train_hour > 23)
        a->cfg.train_hour = 2;
    if (a->cfg.history_days <= 0)
        a->cfg.history_days = 730;
    if (a->cfg.zone_days <= 0)
        a->cfg.zone_days = 28;
    if (a->cfg.first_pass_ms <= 0)
        a->cfg.first_pass_ms = 5000;
    pthread_mutex_init(&a->mu, NULL);
    pthread_mutex_init(&a->cmu, NULL);
    pthread_mutex_init(&a->rmu, NULL);
    struct sb_notify_cfg nc = { .smtp_url = cfg->smtp_url, .smtp_from = cfg->smtp_from, .threads = 1,
                                .queue_max = 256 };
    char err[256];
    if (sb_notify_new(&nc, on_delivered, a, &a->notify, err, sizeof(err)))
        SB_WARN(SVC_MOD, "reports will not be delivered: %s", err);
    pthread_cond_init(&a->cv, NULL);
    if (cfg->loop) {
        uv_timer_init(cfg->loop, &a->timer);
        a->timer.data = a;
        a->timer_on = 1;
        on_timer(&a->timer);
        uv_timer_start(&a->timer, on_timer, 10000, 10000);
    } else {
        a->closed = 1;
    }
    if (pthread_create(&a->th, NULL, worker, a) != 0) {
        sb_analytics_stop(a);
        a->closed = 1;
        sb_analytics_free(a);
        return SB_ENOMEM;
    }
    a->th_ok = 1;
    *out = a;
    return 0;
}

int sb_analytics_retrain(struct sb_analytics *a, const char *slug)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    int known = sb_model_equipment(r->m, slug) || sb_model_zone(r->m, slug) ||
                sb_model_building(r->m, slug);
    sb_mref_put(r);
    if (!known)
        return SB_ENOENT;
    int rc = 0, dup = 0;
    pthread_mutex_lock(&a->mu);
    for (int i = 0; i < a->nreq; i++)
        dup |= strcmp(a->req[i], slug) == 0;
    if (!dup && a->nreq < SVC_MAX_REQ)
        snprintf(a->req[a->nreq++], sizeof(a->req[0]), "%s", slug);
    else if (!dup)
        rc = SB_EAGAIN;   /* SVC_MAX_REQ waiting: the caller says "busy, try later" */
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int sb_analytics_models(struct sb_analytics *a, const char *building, json_t **out)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    const struct sb_model *m = r->m;
    json_t *meters = json_array(), *zones = json_array(), *fdd = json_array();

    for (size_t i = 0; i < m->nequipment; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        if (sb_meter_point(m, e) && (!building || strcmp(e->building, building) == 0))
            json_array_append_new(meters, svc_load_status(a, m, i));
    }
    for (size_t i = 0; i < m->nzones; i++) {
        const struct sb_zone *z = &m->zones[i];
        if (zone_has_temp(m, i) && (!building || strcmp(z->building, building) == 0))
            json_array_append_new(zones, svc_zone_status(a, m, i));
    }
    for (size_t i = 0; i < m->nequipment; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        if (building && strcmp(e->building, building) != 0)
            continue;
        if (e->type == SB_EQUIP_AHU || e->type == SB_EQUIP_RTU)
            json_array_append_new(fdd, svc_fdd_status(a, m, i));
        else if (e->type == SB_EQUIP_VAV)
            json_array_append_new(fdd, svc_vav_status(a, m, i));
        else if (e->type == SB_EQUIP_CHILLER)
            json_array_append_new(fdd, svc_plant_status(a, m, i));
    }
    sb_mref_put(r);
    *out = json_pack("{s:o, s:o, s:o}", "meters", meters, "zones", zones, "fdd", fdd);
    return *out ? 0 : SB_ENOMEM;
}

void sb_analytics_stats(struct sb_analytics *a, struct sb_analytics_stats *st)
{
    pthread_mutex_lock(&a->mu);
    *st = a->st;
    pthread_mutex_unlock(&a->mu);
}

void sb_analytics_stop(struct sb_analytics *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->th_ok) {
        pthread_join(a->th, NULL);
        a->th_ok = 0;
    }
    if (a->timer_on && !a->closing) {
        a->closing = 1;
        uv_timer_stop(&a->timer);
        uv_close((uv_handle_t *)&a->timer, on_closed);
    }
}

int sb_analytics_idle(struct sb_analytics *a)
{
    return !a || a->closed;
}

void sb_analytics_free(struct sb_analytics *a)
{
    if (!a)
        return;
    sb_notify_free(a->notify);
    pthread_mutex_destroy(&a->mu);
    pthread_mutex_destroy(&a->cmu);
    pthread_mutex_destroy(&a->rmu);
    pthread_cond_destroy(&a->cv);
    free(a->fc);
    free(a->fdd);
    svc_vav_free(a);
    svc_plant_free(a);
    svc_energy_free(a);
    svc_sensor_free(a);
    free(a->price);
    free(a);
}

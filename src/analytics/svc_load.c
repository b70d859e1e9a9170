/*
 * svc_load.c - meter load forecasts in the service: training a forecaster
 * (analytics/forecast.h) on the meter's hourly history, issuing its 72 h
 * forecast every hour, logging what was issued, and retraining when the
 * forecast's recent error drifts past what its backtest promised.
 *
 * The trained forecaster is a "fc_model" document: body {"status", "message",
 * "trained_ms", "report"} and the forecaster blob; a refusal ("needs 90 days
 * with >= 90 % coverage, has 41") is stored the same way without a blob, so
 * the API can say why there is no forecast.
 *
 * Logged (app_fc_log): each hour's 1 h-ahead value, and the whole 72 h
 * forecast issued at the building's local midnight (the day-ahead figure
 * the benchmark scores).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/bdocs.h"
#include "analytics/forecast.h"
#include "analytics/meter.h"
#include "analytics/stats.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"

#define HIST_H (5 * 168)            /* history before the origin: 5 weeks of lags */
#define DRIFT_H (7 * 24)            /* drift looks back a week */

/* An hourly series of a meter and its building, owned arrays. */
struct lser {
    size_t n;
    int64_t t0;
    double *y, *t;
    uint8_t *how, *hol;
};

static void lfree(struct lser *s)
{
    free(s->y);
    free(s->t);
    free(s->how);
    free(s->hol);
    memset(s, 0, sizeof(*s));
}

/* Reads n hours from t0: load, outdoor temperature, calendar. */
static int lread(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                 int64_t t0, size_t n, struct lser *s, char *err, size_t errlen)
{
    const struct sb_building *b = &m->buildings[e->building_ix];
    const struct sb_point *pm = sb_meter_point(m, e);
    const struct sb_point *po = sb_outdoor_temp_point(m, e->building_ix);
    size_t nd = 0;
    int rc;

    s->n = n;
    s->t0 = t0;
    s->y = malloc(n * sizeof(double));
    s->t = malloc(n * sizeof(double));
    s->how = malloc(n);
    s->hol = malloc(n);
    if (!s->y || !s->t || !s->how || !s->hol)
        return SB_ENOMEM;
    if (!po) {
        sb_errf(err, errlen, "the building has no outdoor temperature point (a weather point "
                             "or an outside air temperature)");
        return SB_EINVAL;
    }
    if ((rc = sb_meter_energy(a->cfg.store, pm, SB_RES_1H, t0, n, s->y)) < 0 ||
        (rc = sb_point_mean(a->cfg.store, po, SB_RES_1H, t0, n, s->t)) < 0)
        return rc;
    int64_t *days = sb_building_holidays(a->cfg.db, b->slug, &nd);
    sb_calendar_hours(b->tz, t0, n, days, nd, s->how, s->hol);
    free(days);
    return 0;
}

static struct sb_load_series view(const struct lser *s)
{
    struct sb_load_series v = { .y = s->y, .t = s->t, .how = s->how, .hol = s->hol, .n = s->n,
                                .start_utc = s->t0 / 1000 };
    return v;
}

static void count(struct sb_analytics *a, uint64_t *c)
{
    pthread_mutex_lock(&a->mu);
    (*c)++;
    pthread_mutex_unlock(&a->mu);
}

int svc_load_train(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    int64_t now = svc_now(a), t1 = now - now % SB_HOUR_MS;
    size_t n = (size_t)a->cfg.history_days * 24;
    struct lser s = { 0 };
    struct sb_fc_opts o;
    struct sb_fc_report rep;
    struct sb_forecaster *f = NULL;
    char err[256] = "", *blob = NULL, *rj = NULL;
    size_t blen = 0;
    json_t *body;

    memset(&rep, 0, sizeof(rep));
    int rc = lread(a, m, e, t1 - (int64_t)n * SB_HOUR_MS, n, &s, err, sizeof(err));
    if (rc == 0) {
        /* Start at the first reading: years of nothing before a new meter
         * only cost time. */
        size_t k = 0;
        while (k < s.n && isnan(s.y[k]))
            k++;
        struct sb_load_series v = view(&s);
        v.y += k, v.t += k, v.how += k, v.hol += k;
        v.n -= k;
        v.start_utc += (int64_t)k * 3600;
        sb_fc_defaults(&o);
        if (v.n) {
            rc = sb_fc_train(&v, &o, &f, &rep);
        } else {
            rc = SB_EINVAL;
            snprintf(rep.message, sizeof(rep.message), "needs %d days with >= %.0f %% coverage, "
                     "has 0 (no readings yet)", o.min_days ? o.min_days : 90,
                     100 * (o.min_coverage > 0 ? o.min_coverage : 0.9));
        }
        if (rc == SB_EINVAL)
            snprintf(err, sizeof(err), "%s", rep.message);
    }
    if (rc == 0)
        rc = sb_fc_save(f, &blob, &blen);
    if (rc == 0 || rc == SB_EINVAL) {
        body = json_pack("{s:s, s:s, s:I}", "status", rc == 0 ? "ok" : "insufficient", "message",
                         rc == 0 ? rep.message : err, "trained_ms", (json_int_t)now);
        if (sb_fc_report_json(&rep, &rj) == 0 && rj)
            json_object_set_new(body, "report", json_loads(rj, 0, NULL));
    } else {
        body = json_pack("{s:s, s:s, s:I}", "status", "error", "message",
                         err[0] ? err : sb_strerror(rc), "trained_ms", (json_int_t)now);
    }
    if (body)
        svc_doc_put(a, "fc_model", e->slug, e->building, body, blob, blen);
    json_decref(body);
    count(a, rc == 0 ? &a->st.trained : &a->st.train_failed);
    if (rc == 0)
        SB_INFO(SVC_MOD, "meter %s: forecaster trained (%s): %s", e->slug,
                sb_fc_model_name(rep.chosen), rep.message);
    else
        SB_INFO(SVC_MOD, "meter %s: no forecaster: %s", e->slug, err[0] ? err : sb_strerror(rc));
    free(rj);
    free(blob);
    sb_fc_free(f);
    lfree(&s);
    return rc;
}

/* The stored forecaster of meter, or SB_EAGAIN with why in err. */
static int load_fc(struct sb_analytics *a, const char *meter, struct sb_forecaster **f,
                   json_t **body, char *err, size_t errlen)
{
    struct sb_doc d;
    int rc;

    *f = NULL;
    *body = NULL;
    if (sb_appdb_doc_get(a->cfg.db, "fc_model", meter, &d)) {
        sb_errf(err, errlen, "the meter's forecaster has not been trained yet");
        return SB_EAGAIN;
    }
    *body = json_loads(d.body, 0, NULL);
    const char *st = json_string_value(json_object_get(*body, "status"));
    if (!st || strcmp(st, "ok") != 0 || !d.blob) {
        sb_errf(err, errlen, "no forecast: %s",
                json_string_value(json_object_get(*body, "message")) ?: "not trained");
        rc = SB_EAGAIN;
    } else {
        rc = sb_fc_load(d.blob, d.blob_len, f, err, errlen);
        if (rc)
            SB_WARN(SVC_MOD, "meter %s: stored forecaster unreadable: %s", meter, err);
        rc = rc ? SB_EAGAIN : 0;
    }
    sb_doc_release(&d);
    return rc;
}

/* The cache slot of meter (created), under cmu. */
static struct svc_fc *slot(struct sb_analytics *a, const char *meter)
{
    for (size_t i = 0; i < a->nfc; i++)
        if (strcmp(a->fc[i].meter, meter) == 0)
            return &a->fc[i];
    if (a->nfc == a->capfc) {
        size_t nc = a->capfc ? a->capfc * 2 : 8;
        struct svc_fc *v = realloc(a->fc, nc * sizeof(*v));
        if (!v)
            return NULL;
        a->fc = v;
        a->capfc = nc;
    }
    struct svc_fc *x = &a->fc[a->nfc++];
    memset(x, 0, sizeof(*x));
    snprintf(x->meter, sizeof(x->meter), "%s", meter);
    return x;
}

/* Recent forecasts against actuals: retrain when the error drifted. */
static void drift(struct sb_analytics *a, const struct sb_model *m, size_t ei,
                  const struct sb_forecaster *f, int64_t hour)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_fc_report *rep = sb_fc_get_report(f);
    struct sb_fc_row *rows = NULL;
    size_t nr = 0, k = 0;
    double act[DRIFT_H];
    int64_t t0 = hour - DRIFT_H * SB_HOUR_MS;

    /* Only forecasts made after this model was trained count. */
    if (t0 < rep->train_end_utc * 1000)
        t0 = rep->train_end_utc * 1000;
    if (hour - t0 < 48 * SB_HOUR_MS ||
        sb_appdb_fc_get(a->cfg.db, e->slug, t0, hour, 0, 0, &rows, &nr) || nr == 0)
        goto out;
    if (sb_meter_energy(a->cfg.store, sb_meter_point(m, e), SB_RES_1H, hour - DRIFT_H * SB_HOUR_MS,
                        DRIFT_H, act) < 0)
        goto out;
    double *y = malloc(nr * sizeof(double)), *yh = malloc(nr * sizeof(double));
    uint8_t *hz = malloc(nr);
    const char *chosen = sb_fc_model_name(rep->chosen);
    for (size_t i = 0; y && yh && hz && i < nr; i++) {
        int64_t idx = (rows[i].target_ms - (hour - DRIFT_H * SB_HOUR_MS)) / SB_HOUR_MS;
        int64_t h = (rows[i].target_ms - rows[i].issued_ms) / SB_HOUR_MS + 1;
        if (idx < 0 || idx >= DRIFT_H || h < 1 || h > 72 || strcmp(rows[i].model, chosen) != 0)
            continue;
        y[k] = act[idx];
        yh[k] = rows[i].yhat;
        hz[k++] = (uint8_t)h;
    }
    struct sb_fc_drift d;
    if (y && yh && hz && sb_fc_drift_check(f, rep->chosen, y, yh, hz, k, &d) == 0 && d.retrain) {
        SB_INFO(SVC_MOD, "meter %s: forecast drifted (%s): retraining", e->slug, d.reason);
        count(a, &a->st.drift_retrains);
        if (svc_load_train(a, m, ei) == 0)
            svc_load_issue(a, m, ei, hour);
    }
    free(y);
    free(yh);
    free(hz);
out:
    free(rows);
}

int svc_load_issue(struct sb_analytics *a, const struct sb_model *m, size_t ei, int64_t hour)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_building *b = &m->buildings[e->building_ix];
    struct sb_forecaster *f = NULL;
    json_t *body = NULL;
    struct lser s = { 0 };
    char err[256] = "";
    double pt[SVC_HORIZON], lo[SVC_HORIZON], hi[SVC_HORIZON], wx[SVC_HORIZON];
    int model = -1, rc;

    if ((rc = load_fc(a, e->slug, &f, &body, err, sizeof(err))))
        goto out;
    int64_t t0 = hour - HIST_H * SB_HOUR_MS;
    if ((rc = lread(a, m, e, t0, HIST_H + SVC_HORIZON, &s, err, sizeof(err))))
        goto out;
    /* The future: no load; temperature from the weather forecast, else the
     * same hour the day before (persistence, said in the answer). */
    const char *src = "forecast";
    int have = svc_weather(a, "temperature_2m", hour, SVC_HORIZON, wx);
    for (size_t h = 0; h < SVC_HORIZON; h++) {
        size_t i = HIST_H + h;
        s.y[i] = NAN;
        s.t[i] = have ? wx[h] : NAN;
        if (isnan(s.t[i])) {
            s.t[i] = s.t[i - 24];
            src = "persistence";
        }
    }
    struct sb_load_series v = view(&s);
    if ((rc = sb_fc_predict(f, &v, HIST_H, SVC_HORIZON, pt, lo, hi, &model, err, sizeof(err))))
        goto out;

    const struct sb_fc_report *rep = sb_fc_get_report(f);
    pthread_mutex_lock(&a->cmu);
    struct svc_fc *x = slot(a, e->slug);
    if (x) {
        snprintf(x->building, sizeof(x->building), "%s", e->building);
        snprintf(x->model, sizeof(x->model), "%s", sb_fc_model_name(model));
        snprintf(x->temp_source, sizeof(x->temp_source), "%s", src);
        x->issued_ms = hour;
        x->level = rep->level;
        memcpy(x->yhat, pt, sizeof(pt));
        memcpy(x->lo, lo, sizeof(lo));
        memcpy(x->hi, hi, sizeof(hi));
    }
    pthread_mutex_unlock(&a->cmu);

    /* The log: the 1 h-ahead value every hour, everything at local midnight. */
    struct sb_fc_row r[SVC_HORIZON];
    int wday, minute;
    sb_tz_wall(b->tz, hour, &wday, &minute);
    size_t nlog = minute == 0 ? SVC_HORIZON : 1;
    for (size_t h = 0; h < nlog; h++)
        r[h] = (struct sb_fc_row){ .issued_ms = hour, .target_ms = hour + (int64_t)h * SB_HOUR_MS,
                                   .yhat = pt[h], .lo = lo[h], .hi = hi[h] };
    sb_appdb_fc_put(a->cfg.db, e->slug, sb_fc_model_name(model), r, nlog);
    count(a, &a->st.issued);
    drift(a, m, ei, f, hour);
out:
    if (rc && rc != SB_EAGAIN)
        SB_WARN(SVC_MOD, "meter %s: no forecast issued: %s", e->slug, err[0] ? err : sb_strerror(rc));
    sb_fc_free(f);
    json_decref(body);
    lfree(&s);
    return rc;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* What the stored model document says: status, message, trained, report. */
static json_t *model_info(struct sb_analytics *a, const char *meter)
{
    struct sb_doc d;
    json_t *o, *j;
    char ts[40];

    if (sb_appdb_doc_meta(a->cfg.db, "fc_model", meter, &d))
        return json_pack("{s:s, s:s}", "status", "pending", "message", "not trained yet");
    j = json_loads(d.body, 0, NULL);
    o = json_pack("{s:O*, s:O*, s:s}", "status", json_object_get(j, "status"), "message",
                  json_object_get(j, "message"), "trained",
                  sb_time_format(d.updated_ms, ts, sizeof(ts)));
    json_t *rep = json_object_get(j, "report");
    if (o && json_is_object(rep))
        json_object_set(o, "report", rep);
    json_decref(j);
    sb_doc_release(&d);
    return o;
}

json_t *svc_load_status(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    json_t *o = model_info(a, e->slug);

    if (!o)
        o = json_object();
    json_object_set_new(o, "meter", json_string(e->slug));
    json_object_set_new(o, "building", json_string(e->building));
    return o;
}

int sb_analytics_load_forecast(struct sb_analytics *a, const char *meter, int horizon_h,
                               json_t **out, char *err, size_t errlen)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    const struct sb_equipment *e = sb_model_equipment(r->m, meter);
    int ok = e && sb_meter_point(r->m, e);
    sb_mref_put(r);
    struct svc_fc x;
    int have = 0;

    *out = NULL;
    if (!ok)
        return SB_ENOENT;
    if (horizon_h < 1 || horizon_h > SVC_HORIZON) {
        sb_errf(err, errlen, "horizon_h must be 1..%d", SVC_HORIZON);
        return SB_EINVAL;
    }
    pthread_mutex_lock(&a->cmu);
    for (size_t i = 0; i < a->nfc; i++)
        if (strcmp(a->fc[i].meter, meter) == 0) {
            x = a->fc[i];
            have = 1;
        }
    pthread_mutex_unlock(&a->cmu);
    json_t *info = model_info(a, meter);
    if (!have) {
        const char *st = json_string_value(json_object_get(info, "status"));
        const char *msg = json_string_value(json_object_get(info, "message"));
        if (st && strcmp(st, "ok") == 0)
            sb_errf(err, errlen, "the first forecast is being prepared");
        else
            sb_errf(err, errlen, "no forecast: %s", msg && *msg ? msg : "not trained yet");
        json_decref(info);
        return SB_EAGAIN;
    }
    json_t *pts = json_array();
    char ts[40];
    for (int h = 0; h < horizon_h; h++)
        json_array_append_new(pts, json_pack("{s:s, s:o, s:o, s:o}", "t",
            sb_time_format(x.issued_ms + h * SB_HOUR_MS, ts, sizeof(ts)),
            "kwh", num(x.yhat[h]), "lo", num(x.lo[h]), "hi", num(x.hi[h])));
    json_t *rep = json_object_get(info, "report");
    *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:O*, s:O*, s:o}", "meter", meter,
                     "building", x.building, "unit", "kWh", "issued",
                     sb_time_format(x.issued_ms, ts, sizeof(ts)), "model", x.model, "level",
                     x.level, "temperature_source", x.temp_source, "trained",
                     json_object_get(info, "trained"), "report", rep, "points", pts);
    json_decref(info);
    return *out ? 0 : SB_ENOMEM;
}

int sb_analytics_load_accuracy(struct sb_analytics *a, const char *meter, int64_t t0, int64_t t1,
                               int horizon_h, json_t **out, char *err, size_t errlen)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    const struct sb_model *m = r->m;
    const struct sb_equipment *e = sb_model_equipment(m, meter);
    const struct sb_point *p = e ? sb_meter_point(m, e) : NULL;
    const struct sb_tz *tz = e ? m->buildings[e->building_ix].tz : NULL;
    struct sb_fc_row *rows = NULL;
    double *act = NULL, *y = NULL, *yh = NULL;
    size_t nr = 0, k = 0, inside = 0, with_iv = 0;
    int rc = 0;

    *out = NULL;
    if (!p) {
        rc = SB_ENOENT;
        goto done;
    }
    t0 -= ((t0 % SB_HOUR_MS) + SB_HOUR_MS) % SB_HOUR_MS;
    if (horizon_h < 0 || horizon_h > SVC_HORIZON || t1 <= t0 || t1 - t0 > 92 * 24 * SB_HOUR_MS) {
        sb_errf(err, errlen, "give from < to at most 92 days apart and horizon_h 0..%d", SVC_HORIZON);
        rc = SB_EINVAL;
        goto done;
    }
    size_t n = (size_t)((t1 - t0 + SB_HOUR_MS - 1) / SB_HOUR_MS);
    if ((rc = sb_appdb_fc_get(a->cfg.db, meter, t0, t1, horizon_h, 0, &rows, &nr)))
        goto done;
    act = malloc(n * sizeof(double));
    y = malloc((nr ? nr : 1) * sizeof(double));
    yh = malloc((nr ? nr : 1) * sizeof(double));
    if (!act || !y || !yh) {
        rc = SB_ENOMEM;
        goto done;
    }
    if ((rc = sb_meter_energy(a->cfg.store, p, SB_RES_1H, t0, n, act)) < 0)
        goto done;
    rc = 0;
    json_t *arr = json_array();
    char ts[40], is[40];
    for (size_t i = 0; i < nr; i++) {
        const struct sb_fc_row *w = &rows[i];
        int wday, minute;
        sb_tz_wall(tz, w->issued_ms, &wday, &minute);
        int64_t h = (w->target_ms - w->issued_ms) / SB_HOUR_MS + 1;
        /* horizon 0: the day-ahead figure - issued at local midnight, 1..24 h. */
        if (horizon_h == 0 && (minute != 0 || h > 24))
            continue;
        size_t idx = (size_t)((w->target_ms - t0) / SB_HOUR_MS);
        double av = idx < n ? act[idx] : NAN;
        y[k] = av;
        yh[k++] = w->yhat;
        if (isfinite(av) && isfinite(w->lo) && isfinite(w->hi)) {
            with_iv++;
            inside += av >= w->lo && av <= w->hi;
        }
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:o, s:o, s:o, s:o, s:s}",
            "t", sb_time_format(w->target_ms, ts, sizeof(ts)),
            "issued", sb_time_format(w->issued_ms, is, sizeof(is)), "horizon_h", (json_int_t)h,
            "actual", num(av), "forecast", num(w->yhat), "lo", num(w->lo), "hi", num(w->hi),
            "model", w->model));
    }
    struct sb_fit_stats fs;
    int okst = sb_fit_stats(y, yh, k, 0, &fs) == 0;
    *out = json_pack("{s:s, s:s, s:I, s:{s:I, s:o, s:o, s:o}, s:o}", "meter", meter, "unit", "kWh",
                     "horizon_h", (json_int_t)horizon_h, "summary", "pairs", (json_int_t)fs.n,
                     "cvrmse", num(okst ? fs.cvrmse : NAN), "nmbe", num(okst ? fs.nmbe : NAN),
                     "coverage", num(with_iv ? (double)inside / (double)with_iv : NAN), "rows", arr);
    if (!*out)
        rc = SB_ENOMEM;
done:
    sb_mref_put(r);
    free(rows);
    free(act);
    free(y);
    free(yh);
    return rc;
}

/*
 * svc_zone.c - zone thermal models in the service: the zone's history
 * gathered from the store at 15-minute steps, an RC model identified from
 * it (analytics/rc.h), kept as a "zone_model" document, and the zone's
 * temperature predicted under a setpoint plan for the API.
 *
 * Inputs, per 15-minute step: the zone temperature (the model's zone point,
 * sb_zone_temp_point); the building's outdoor temperature; solar - the
 * building's irradiance point, else clear-sky irradiance at its position;
 * the heat the HVAC delivers - for each piece of equipment serving the zone
 * with a discharge air flow and a discharge air temperature, rho V cp
 * (T_discharge - T_zone); occupancy by the zone's schedule.  Gaps of up to
 * 2 h in an input are bridged linearly; a longer gap is refused by name.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/bdocs.h"
#include "analytics/meter.h"
#include "analytics/rc.h"
#include "analytics/tariff.h"
#include "control/mpc.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#define STEP_MS (15 * 60000LL)
#define STEPS_PER_H 4
#define MAX_BRIDGE 8   /* steps: 2 h */

struct zdata {
    size_t n;
    int64_t t0;
    double *tz, *tout, *sol, *q, *occ;
};

static void zfree(struct zdata *d)
{
    free(d->tz);
    free(d->tout);
    free(d->sol);
    free(d->q);
    free(d->occ);
    memset(d, 0, sizeof(*d));
}

static int zalloc(struct zdata *d, size_t n)
{
    d->n = n;
    d->tz = malloc(n * sizeof(double));
    d->tout = malloc(n * sizeof(double));
    d->sol = malloc(n * sizeof(double));
    d->q = malloc(n * sizeof(double));
    d->occ = malloc(n * sizeof(double));
    return d->tz && d->tout && d->sol && d->q && d->occ ? 0 : SB_ENOMEM;
}

/* Bridges runs of NaN of at most max steps between two values, linearly,
 * and holds the nearest value over such a run at either end.  Returns the
 * number of NaN left. */
static size_t bridge(double *v, size_t n, size_t max)
{
    size_t left = 0, i = 0;

    while (i < n) {
        if (!isnan(v[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && isnan(v[j]))
            j++;
        if (i > 0 && j < n && j - i <= max) {
            for (size_t k = i; k < j; k++)
                v[k] = v[i - 1] + (v[j] - v[i - 1]) * (double)(k - i + 1) / (double)(j - i + 1);
        } else if (j - i <= max && (i > 0) != (j < n)) {
            /* at an end (an hourly sensor's last hour not in yet): hold the nearest value */
            double x = i > 0 ? v[i - 1] : v[j];
            for (size_t k = i; k < j; k++)
                v[k] = x;
        } else {
            left += j - i;
        }
        i = j;
    }
    return left;
}

static const struct sb_point *discharge_point(const struct sb_model *m, const struct sb_equipment *e,
                                              enum sb_point_kind kind)
{
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->kind == kind && p->equipment && strcmp(p->equipment, e->slug) == 0 &&
            sb_point_has_tag(p, "discharge") && sb_point_has_tag(p, "air"))
            return p;
    }
    return NULL;
}

/* The discharge air flow and temperature of equipment e; a box without its
 * own discharge temperature (no reheat, no sensor) gets the supply air
 * temperature of the air handler feeding it. */
static void discharge_points(const struct sb_model *m, const struct sb_equipment *e,
                             const struct sb_point **flow, const struct sb_point **temp)
{
    *flow = discharge_point(m, e, SB_POINT_FLOW);
    *temp = discharge_point(m, e, SB_POINT_TEMPERATURE);
    if (!*temp && e->parent_ix >= 0)
        *temp = discharge_point(m, &m->equipment[e->parent_ix], SB_POINT_TEMPERATURE);
}

/* HVAC heat to zone zi per step (kW), from every serving unit that has
 * both discharge points; *units how many.  NaN where a unit lacks data. */
static int zone_heat(struct sb_analytics *a, const struct sb_model *m, size_t zi, struct zdata *d,
                     int *units)
{
    double *f = malloc(d->n * sizeof(double)), *t = malloc(d->n * sizeof(double));
    int rc = 0;

    *units = 0;
    for (size_t k = 0; k < d->n; k++)
        d->q[k] = 0;
    for (size_t i = 0; f && t && i < m->nequipment; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        const struct sb_point *pf, *pt;
        if (e->zone_ix != (int32_t)zi)
            continue;
        discharge_points(m, e, &pf, &pt);
        if (!pf || !pt)
            continue;
        if (sb_point_mean(a->cfg.store, pf, SB_RES_15M, d->t0, d->n, f) < 0 ||
            sb_point_mean(a->cfg.store, pt, SB_RES_15M, d->t0, d->n, t) < 0)
            continue;
        bridge(f, d->n, MAX_BRIDGE);
        bridge(t, d->n, MAX_BRIDGE);
        for (size_t k = 0; k < d->n; k++)   /* canonical flow is L/s */
            d->q[k] += sb_rc_q_from_airflow(f[k] / 1000.0, t[k], d->tz[k]);
        (*units)++;
    }
    if (!f || !t)
        rc = SB_ENOMEM;
    free(f);
    free(t);
    return rc;
}

static void fill_solar(const struct sb_building *b, struct zdata *d)
{
    for (size_t k = 0; k < d->n; k++)
        if (isnan(d->sol[k]))
            d->sol[k] = isfinite(b->latitude) && isfinite(b->longitude)
                            ? sb_rc_clear_sky_ghi(b->latitude, b->longitude,
                                                  d->t0 + (int64_t)k * STEP_MS + STEP_MS / 2)
                            : 0;
}

static void fill_occ(const struct sb_model *m, const struct sb_zone *z, struct zdata *d)
{
    for (size_t k = 0; k < d->n; k++)
        d->occ[k] = sb_zone_occupied(m, z, d->t0 + (int64_t)k * STEP_MS + STEP_MS / 2) ? 1 : 0;
}

/* The zone's history over n steps from t0 (aligned). */
static int collect(struct sb_analytics *a, const struct sb_model *m, size_t zi, int64_t t0,
                   size_t n, struct zdata *d, char *err, size_t errlen)
{
    const struct sb_zone *z = &m->zones[zi];
    const struct sb_building *b = &m->buildings[z->building_ix];
    const struct sb_point *pz = sb_zone_temp_point(m, (int32_t)zi);
    const struct sb_point *po = sb_outdoor_temp_point(m, z->building_ix);
    const struct sb_point *ps = sb_solar_point(m, z->building_ix);
    int units = 0, rc;

    d->t0 = t0;
    if ((rc = zalloc(d, n)))
        return rc;
    if (!pz || !po) {
        sb_errf(err, errlen, "%s", !pz ? "the zone has no temperature point"
                                       : "the building has no outdoor temperature point");
        return SB_EINVAL;
    }
    if ((rc = sb_point_mean(a->cfg.store, pz, SB_RES_15M, t0, n, d->tz)) < 0 ||
        (rc = sb_point_mean(a->cfg.store, po, SB_RES_15M, t0, n, d->tout)) < 0)
        return rc;
    for (size_t k = 0; k < n; k++)
        d->sol[k] = NAN;
    if (ps && sb_point_mean(a->cfg.store, ps, SB_RES_15M, t0, n, d->sol) >= 0)
        bridge(d->sol, n, MAX_BRIDGE);
    fill_solar(b, d);
    fill_occ(m, z, d);
    if ((rc = zone_heat(a, m, zi, d, &units)))
        return rc;
    if (units == 0) {
        sb_errf(err, errlen, "no HVAC heat input can be measured: needs equipment serving the zone "
                             "with a discharge air flow and a discharge air temperature point");
        return SB_EINVAL;
    }
    size_t miss = bridge(d->tout, n, MAX_BRIDGE);
    if (miss) {
        sb_errf(err, errlen, "outdoor temperature missing for %.1f h (gaps longer than 2 h)",
                (double)miss / STEPS_PER_H);
        return SB_EINVAL;
    }
    /* Q is NaN where the zone temperature or a unit's data is missing: the
     * identification refuses non-finite inputs, so bridge short gaps and
     * refuse what is left by name. */
    miss = bridge(d->q, n, MAX_BRIDGE);
    if (miss) {
        sb_errf(err, errlen, "HVAC heat input missing for %.1f h (gaps longer than 2 h)",
                (double)miss / STEPS_PER_H);
        return SB_EINVAL;
    }
    return 0;
}

static json_t *status_body(const char *status, const char *message, int64_t now)
{
    return json_pack("{s:s, s:s, s:I}", "status", status, "message", message ? message : "",
                     "trained_ms", (json_int_t)now);
}

int svc_zone_train(struct sb_analytics *a, const struct sb_model *m, size_t zi)
{
    const struct sb_zone *z = &m->zones[zi];
    int64_t now = svc_now(a);
    int64_t t1 = now - now % STEP_MS;
    size_t n = (size_t)a->cfg.zone_days * 24 * STEPS_PER_H;
    struct zdata d = { 0 };
    struct sb_rc_model rm;
    char err[256] = "", *js = NULL;
    json_t *body = NULL;

    int rc = collect(a, m, zi, t1 - (int64_t)n * STEP_MS, n, &d, err, sizeof(err));
    if (rc == 0) {
        struct sb_rc_data rd = { .t0_ms = d.t0, .dt_s = 900, .n = n, .t_zone = d.tz,
                                 .u = { .t_out = d.tout, .solar = d.sol, .q_kw = d.q, .occ = d.occ } };
        rc = sb_rc_identify(&rd, NULL, &rm, err, sizeof(err));
    }
    if (rc == 0 && (rc = sb_rc_save(&rm, &js)) == 0) {
        json_t *mj = json_loads(js, 0, NULL);
        body = status_body("ok", "", now);
        json_object_set_new(body, "model", mj ? mj : json_null());
        json_object_set_new(body, "rmse_24h_k", json_real(rm.sc.rmse_24h));
    } else if (rc == SB_EINVAL) {
        body = status_body("insufficient", err, now);
    } else {
        body = status_body("error", sb_strerror(rc), now);
    }
    free(js);
    zfree(&d);
    if (body) {
        svc_doc_put(a, "zone_model", z->slug, z->building, body, NULL, 0);
        json_decref(body);
    }
    pthread_mutex_lock(&a->mu);
    if (rc == 0)
        a->st.zone_trained++;
    else
        a->st.zone_failed++;
    pthread_mutex_unlock(&a->mu);
    if (rc == 0)
        SB_INFO(SVC_MOD, "zone %s: thermal model identified, 24 h-ahead RMSE %.2f K", z->slug,
                rm.sc.rmse_24h);
    else
        SB_INFO(SVC_MOD, "zone %s: no thermal model: %s", z->slug, err[0] ? err : sb_strerror(rc));
    return rc;
}

/* The stored model of zone z: 0 and *out, or SB_EAGAIN with why in err. */
static int zone_model(struct sb_analytics *a, const struct sb_zone *z, struct sb_rc_model *out,
                      json_t **doc, char *err, size_t errlen)
{
    struct sb_doc d;
    json_t *j;

    *doc = NULL;
    if (sb_appdb_doc_get(a->cfg.db, "zone_model", z->slug, &d)) {
        sb_errf(err, errlen, "the zone's thermal model has not been identified yet");
        return SB_EAGAIN;
    }
    j = json_loads(d.body, 0, NULL);
    sb_doc_release(&d);
    const char *st = json_string_value(json_object_get(j, "status"));
    json_t *mj = json_object_get(j, "model");
    if (!st || strcmp(st, "ok") != 0 || !json_is_object(mj)) {
        sb_errf(err, errlen, "no thermal model: %s",
                json_string_value(json_object_get(j, "message")) ?: "not identified");
        json_decref(j);
        return SB_EAGAIN;
    }
    char *s = json_dumps(mj, JSON_COMPACT);
    int rc = s ? sb_rc_load(s, strlen(s), out, err, errlen) : SB_ENOMEM;
    free(s);
    if (rc) {
        json_decref(j);
        return rc == SB_ENOMEM ? rc : SB_EAGAIN;
    }
    *doc = j;
    return 0;
}

json_t *svc_zone_status(struct sb_analytics *a, const struct sb_model *m, size_t zi)
{
    const struct sb_zone *z = &m->zones[zi];
    struct sb_doc d;
    json_t *o = json_pack("{s:s, s:s}", "zone", z->slug, "building", z->building);

    if (sb_appdb_doc_get(a->cfg.db, "zone_model", z->slug, &d) == 0) {
        json_t *j = json_loads(d.body, 0, NULL);
        char ts[40];
        json_object_set(o, "status", json_object_get(j, "status"));
        json_object_set(o, "message", json_object_get(j, "message"));
        json_object_set_new(o, "trained", json_string(sb_time_format(d.updated_ms, ts, sizeof(ts))));
        json_t *mj = json_object_get(j, "model");
        if (json_is_object(mj)) {
            json_object_set(o, "scores", json_object_get(mj, "scores"));
            json_object_set(o, "structure", json_object_get(mj, "structure"));
        }
        json_decref(j);
        sb_doc_release(&d);
    } else {
        json_object_set_new(o, "status", json_string("pending"));
        json_object_set_new(o, "message", json_string("not identified yet"));
    }
    return o;
}

/* Future inputs over n steps from t0: outdoor temperature from the weather
 * forecast (else the same time the day before: "persistence"), solar from
 * the forecast (else clear sky), occupancy by schedule. */
static const char *future_inputs(struct sb_analytics *a, const struct sb_model *m, size_t zi,
                                 const struct zdata *hist, struct zdata *f)
{
    const struct sb_zone *z = &m->zones[zi];
    size_t hours = (f->n + STEPS_PER_H - 1) / STEPS_PER_H + 1;
    double *t = malloc(hours * sizeof(double)), *s = malloc(hours * sizeof(double));
    const char *src = "persistence";
    int have_t = 0, have_s = 0;

    if (t && s) {
        have_t = svc_weather(a, "temperature_2m", f->t0, hours, t);
        have_s = svc_weather(a, "shortwave_radiation", f->t0, hours, s);
    }
    for (size_t k = 0; k < f->n; k++) {
        size_t h = (size_t)((k + (size_t)((f->t0 % SB_HOUR_MS) / STEP_MS)) / STEPS_PER_H);
        double v = have_t && h < hours ? t[h] : NAN;
        if (isnan(v) && hist->n >= 96) {
            size_t back = hist->n - 96 + (k % 96);   /* same step a day before the origin */
            v = hist->tout[back];
        }
        f->tout[k] = v;
        f->sol[k] = have_s && h < hours ? s[h] : NAN;
    }
    if (have_t)
        src = "forecast";
    free(t);
    free(s);
    fill_solar(&m->buildings[z->building_ix], f);
    fill_occ(m, z, f);
    bridge(f->tout, f->n, f->n);
    return src;
}

int sb_analytics_zone_forecast(struct sb_analytics *a, const char *zone, int hours, double heat_sp,
                               double cool_sp, json_t **out, char *err, size_t errlen)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    const struct sb_model *m = r->m;
    const struct sb_zone *z = sb_model_zone(m, zone);
    struct zdata h = { 0 }, f = { 0 };
    struct sb_rc_model rm;
    struct sb_rc_disc dd;
    json_t *doc = NULL;
    double *hsp = NULL, *csp = NULL, *tz = NULL, *q = NULL, x[SB_RC_NX];
    int rc;

    *out = NULL;
    if (!z) {
        sb_mref_put(r);
        return SB_ENOENT;
    }
    if (hours < 1 || hours > SVC_HORIZON) {
        sb_errf(err, errlen, "hours must be 1..%d", SVC_HORIZON);
        sb_mref_put(r);
        return SB_EINVAL;
    }
    size_t zi = (size_t)(z - m->zones);
    if ((rc = zone_model(a, z, &rm, &doc, err, errlen)))
        goto out;
    if ((!isfinite(heat_sp) || !isfinite(cool_sp)) && !z->comfort.set) {
        sb_errf(err, errlen, "give heating and cooling setpoints: the zone has no comfort band");
        rc = SB_EINVAL;
        goto out;
    }
    if (isfinite(heat_sp) && isfinite(cool_sp) && heat_sp > cool_sp) {
        sb_errf(err, errlen, "the heating setpoint is above the cooling setpoint");
        rc = SB_EINVAL;
        goto out;
    }
    int64_t now = svc_now(a), t0 = now - now % STEP_MS;
    size_t nh = 2 * 24 * STEPS_PER_H, nf = (size_t)hours * STEPS_PER_H;
    /* The state now: the model run over the last two days of data. */
    if ((rc = collect(a, m, zi, t0 - (int64_t)nh * STEP_MS, nh, &h, err, errlen)))
        goto out;
    if ((rc = sb_rc_discretize(&rm.p, 900, &dd)))
        goto out;
    struct sb_rc_inputs hin = { .t_out = h.tout, .solar = h.sol, .q_kw = h.q, .occ = h.occ };
    if ((rc = sb_rc_observe(&dd, rm.obs_gain, h.tz, &hin, nh, x))) {
        sb_errf(err, errlen, "no zone temperature in the last two days");
        goto out;
    }
    f.t0 = t0;
    if ((rc = zalloc(&f, nf)))
        goto out;
    const char *src = future_inputs(a, m, zi, &h, &f);
    hsp = malloc(nf * sizeof(double));
    csp = malloc(nf * sizeof(double));
    tz = malloc(nf * sizeof(double));
    q = malloc(nf * sizeof(double));
    if (!hsp || !csp || !tz || !q) {
        rc = SB_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < nf; k++) {
        const struct sb_band *band = f.occ[k] > 0 ? &z->comfort.occupied : &z->comfort.unoccupied;
        hsp[k] = isfinite(heat_sp) ? heat_sp : band->heating;
        csp[k] = isfinite(cool_sp) ? cool_sp : band->cooling;
    }
    struct sb_rc_inputs fin = { .t_out = f.tout, .solar = f.sol, .occ = f.occ };
    if ((rc = sb_rc_predict_setpoints(&dd, x, &fin, hsp, csp, nf, rm.q_heat_max_kw,
                                      rm.q_cool_max_kw, tz, q)))
        goto out;
    json_t *pts = json_array();
    char ts[40];
    for (size_t k = 0; k < nf; k++) {
        json_array_append_new(pts, json_pack("{s:s, s:f, s:f, s:f, s:f}",
            "t", sb_time_format(t0 + (int64_t)(k + 1) * STEP_MS, ts, sizeof(ts)),
            "temperature", tz[k], "heating_sp", hsp[k], "cooling_sp", csp[k], "hvac_kw", q[k]));
    }
    json_t *mj = json_object_get(doc, "model");
    *out = json_pack("{s:s, s:s, s:s, s:s, s:O*, s:o}", "zone", z->slug, "building", z->building,
                     "issued", sb_time_format(t0, ts, sizeof(ts)), "temperature_source", src,
                     "scores", json_object_get(mj, "scores"), "points", pts);
    rc = *out ? 0 : SB_ENOMEM;
out:
    json_decref(doc);
    zfree(&h);
    zfree(&f);
    free(hsp);
    free(csp);
    free(tz);
    free(q);
    sb_mref_put(r);
    return rc;
}

/* ---- the building's optimal plan (control/mpc.h) ------------------------------------------ */

/* One zone of a plan: its model, state and future, the arrays owned here. */
struct pzone {
    const struct sb_zone *z;
    struct zdata f;
    double *lo, *hi;
};

static void pzone_free(struct pzone *p)
{
    zfree(&p->f);
    free(p->lo);
    free(p->hi);
}

/* A zone's part of the problem; 1 when it has no usable model (skipped). */
static int plan_zone(struct sb_analytics *a, const struct sb_model *m, size_t zi, int64_t t0, size_t nf,
                     struct pzone *pz, struct sb_mpc_zone *mz)
{
    const struct sb_zone *z = &m->zones[zi];
    struct sb_rc_model rm;
    struct zdata h = { 0 };
    json_t *doc = NULL;
    char err[256];
    size_t nh = 2 * 24 * STEPS_PER_H;
    int skip = 1;

    memset(pz, 0, sizeof(*pz));
    memset(mz, 0, sizeof(*mz));
    pz->z = z;
    if (!z->comfort.set || zone_model(a, z, &rm, &doc, err, sizeof(err)) ||
        collect(a, m, zi, t0 - (int64_t)nh * STEP_MS, nh, &h, err, sizeof(err)) ||
        sb_rc_discretize(&rm.p, 900, &mz->disc))
        goto out;
    struct sb_rc_inputs hin = { .t_out = h.tout, .solar = h.sol, .q_kw = h.q, .occ = h.occ };
    if (sb_rc_observe(&mz->disc, rm.obs_gain, h.tz, &hin, nh, mz->x0))
        goto out;
    pz->f.t0 = t0;
    pz->lo = malloc(nf * sizeof(double));
    pz->hi = malloc(nf * sizeof(double));
    if (zalloc(&pz->f, nf) || !pz->lo || !pz->hi)
        goto out;
    future_inputs(a, m, zi, &h, &pz->f);
    for (size_t k = 0; k < nf; k++) {
        const struct sb_band *b = pz->f.occ[k] > 0 ? &z->comfort.occupied : &z->comfort.unoccupied;
        pz->lo[k] = b->heating;
        pz->hi[k] = b->cooling;
    }
    mz->in = (struct sb_rc_inputs){ .t_out = pz->f.tout, .solar = pz->f.sol, .occ = pz->f.occ };
    mz->lo = pz->lo;
    mz->hi = pz->hi;
    mz->q_cool_max_kw = rm.q_cool_max_kw;
    mz->q_heat_max_kw = rm.q_heat_max_kw;
    skip = 0;
out:
    json_decref(doc);
    zfree(&h);
    if (skip)
        pzone_free(pz);
    return skip;
}

static json_t *totals_json(const struct sb_mpc_totals *t)
{
    return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "kwh_electric", t->kwh_hvac_elec, "kwh_fuel",
                     t->kwh_fuel, "kwh_cooling", t->kwh_cool_th, "kwh_heating", t->kwh_heat_th, "cost",
                     t->cost_total, "cost_energy", t->cost_energy + t->cost_fuel, "cost_demand", t->cost_demand,
                     "peak_kw", t->peak_kw, "discomfort_kh", t->discomfort_kh);
}

static json_t *plan_json(const struct sb_mpc_result *r, const struct pzone *pz, size_t nz, int64_t t0,
                         const struct sb_tariff *t)
{
    char ts[40];
    json_t *zones = json_array();

    for (size_t i = 0; i < nz; i++) {
        json_t *pts = json_array();
        for (size_t k = 0; k < r->n; k++) {
            size_t x = i * r->n + k;
            json_array_append_new(pts, json_pack("{s:s,s:f,s:f,s:f,s:f}", "t",
                                                 sb_time_format(t0 + (int64_t)k * STEP_MS, ts, sizeof(ts)),
                                                 "heating_sp", r->heat_sp[x], "cooling_sp", r->cool_sp[x],
                                                 "temperature", r->t_air[x], "hvac_kw",
                                                 r->q_heat[x] - r->q_cool[x]));
        }
        json_array_append_new(zones, json_pack("{s:s,s:o}", "zone", pz[i].z->slug, "points", pts));
    }
    return json_pack("{s:s,s:s,s:s,s:f,s:i,s:o,s:o,s:o,s:s,s:s}", "issued", sb_time_format(t0, ts, sizeof(ts)),
                     "status", sb_mpc_status_str(r->status), "currency", t->currency, "solve_s", r->solve_s,
                     "steps", (int)r->n, "plan", totals_json(&r->tot), "baseline", totals_json(&r->base),
                     "zones", zones, "load", "HVAC only: the building's other loads are not in the peak",
                     "heating", "fuel at analytics.heat_efficiency and analytics.heat_price");
}

int sb_analytics_plan(struct sb_analytics *a, const char *building, int hours, json_t **out, char *err,
                      size_t errlen)
{
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    const struct sb_model *m = r->m;
    const struct sb_building *b = sb_model_building(m, building);
    struct sb_tariff *t = NULL;
    struct pzone *pz = NULL;
    struct sb_mpc_zone *mz = NULL;
    struct sb_tariff_step *st = NULL;
    struct sb_mpc_result *res = NULL;
    double *price = NULL;
    uint8_t *mask = NULL;
    size_t nz = 0, nf = (size_t)hours * STEPS_PER_H;
    int rc = SB_ENOENT;

    *out = NULL;
    if (!b)
        goto out;
    if (hours < 1 || hours > 48) {
        sb_errf(err, errlen, "hours must be 1..48");
        rc = SB_EINVAL;
        goto out;
    }
    if (!(t = sb_building_tariff(a->cfg.db, building, err, errlen))) {
        rc = SB_EAGAIN;                  /* the optimizer needs prices: 409 with the reason */
        goto out;
    }
    int64_t now = svc_now(a), t0 = now - now % STEP_MS;
    size_t nhol = 0;
    int64_t *hol = sb_building_holidays(a->cfg.db, building, &nhol);
    struct sb_tariff_site site = { .tz = b->tz, .holidays = hol, .n_holidays = nhol };
    pz = calloc(m->nzones ? m->nzones : 1, sizeof(*pz));
    mz = calloc(m->nzones ? m->nzones : 1, sizeof(*mz));
    st = calloc(nf, sizeof(*st));
    price = malloc(nf * sizeof(double));
    mask = malloc(nf);
    rc = SB_ENOMEM;
    if (!pz || !mz || !st || !price || !mask ||
        sb_tariff_prices(t, &site, t0 / 1000, 900, nf, st)) {
        free(hol);
        if (pz && st && price && mask)
            sb_errf(err, errlen, "the tariff cannot price the coming %d h", hours);
        goto out;
    }
    free(hol);
    for (size_t k = 0; k < nf; k++) {
        price[k] = st[k].price;
        mask[k] = st[k].demand_mask;
    }
    for (size_t zi = 0; zi < m->nzones && nz < SB_MPC_MAX_ZONES; zi++)
        if (m->zones[zi].building_ix == (int32_t)(b - m->buildings) &&
            plan_zone(a, m, zi, t0, nf, &pz[nz], &mz[nz]) == 0)
            nz++;
    if (!nz) {
        sb_errf(err, errlen, "no zone of the building has a thermal model yet (GET /api/v1/analytics/models)");
        rc = SB_EAGAIN;
        goto out;
    }
    struct sb_mpc_window win[SB_MPC_MAX_WINDOWS];
    size_t nw = 0;
    for (size_t k = 0; k < SB_TARIFF_MAX_DEMAND && nw < SB_MPC_MAX_WINDOWS; k++)
        if (t->demand[k].name[0])
            win[nw++] = (struct sb_mpc_window){ .price_per_kw = t->demand[k].price, .prior_peak_kw = 0 };
    struct sb_mpc_problem p = { .dt_s = 900, .n = nf, .nzones = nz, .zones = mz, .price = price,
                                .cop_cool = a->cfg.cooling_cop > 0 ? a->cfg.cooling_cop : 3.5,
                                .heat_fuel = 1, .cop_heat = 1,
                                .fuel_eff = a->cfg.heat_efficiency > 0 ? a->cfg.heat_efficiency : 0.9,
                                .fuel_price = a->cfg.heat_price, .nwindows = nw, .windows = win,
                                .demand_mask = mask, .demand_interval_s = t->demand_min ? t->demand_min * 60.0 : 900 };
    struct sb_mpc_opts o = { 0 };
    if ((rc = sb_mpc_solve(&p, &o, &res, err, errlen)))
        goto out;
    *out = plan_json(res, pz, nz, t0, t);
    json_object_set_new(*out, "building", json_string(building));
    rc = *out ? 0 : SB_ENOMEM;
out:
    for (size_t i = 0; pz && i < nz; i++)
        pzone_free(&pz[i]);
    sb_mpc_result_free(res);
    free(pz);
    free(mz);
    free(st);
    free(price);
    free(mask);
    free(t);
    sb_mref_put(r);
    return rc;
}

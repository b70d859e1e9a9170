/*
 * svc_fdd_sensor.c - fault detection on single points and meters
 * (fdd/sensor.h, docs/internals/fdd-sensors-plant.md): every measured
 * temperature, humidity, CO2, pressure and airflow point read from a device
 * is checked for flatline, physical range, spikes and gaps; a controller's
 * zone temperature sensor is compared with an independent sensor in the
 * same zone (an IAQ or room sensor: equipment of type sensor) for drift;
 * an air handler's supply air temperature is compared with what its VAV
 * boxes measure downstream (the median discharge temperature of the boxes
 * whose reheat is closed and air flows: the same air, one duct later);
 * every meter's counter for gaps, a counter that stops while power shows
 * use, one that goes backwards and energy that disagrees with power.
 *
 * Gaps are judged per equipment at the end of each pass: when every watched
 * point of an equipment is silent, one "comm-offline" finding stands for
 * them (a device that stopped answering), else each silent point is its own
 * "sensor-gap".  Sensor findings are keyed by the point (alert key = point
 * slug), meter and offline findings by the equipment.  Not priced: a sensor
 * error costs through the control it misleads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "fdd/sensor.h"

#define MIN_MS 60000LL
#define LAG_MS (2 * MIN_MS)

struct svc_sensor_unit {
    const struct sb_point *p, *ref;   /* borrowed from the model of the pass (rebound each pass) */
    int boxes;                        /* the reference is the air handler's boxes (p is its SAT) */
    const struct sb_point *sp;        /* the setpoint p is controlled to, or NULL */
    const struct sb_point *run;       /* the fan that makes p move (its air handler's), or NULL */
    int occ_zone;                     /* p moves with the people of this zone (CO2), -1 = none */
    char point[SB_DOC_KEY_MAX + 1];
    int meter;                        /* 1: a meter (counter, with power when it has one) */
    int64_t next_ms;
    int gap_shown;                    /* a sensor-gap finding is raised for it */
    union { struct sb_sensor s; struct sb_meterchk m; } d;
};

static const char *const sensor_check[SB_SENSOR_NCHECKS] = {
    "sensor-flatline", "sensor-range", "sensor-spike", "sensor-gap", "sensor-drift"
};
static const char *const meter_check[SB_METER_NCHECKS] = {
    "meter-gap", "meter-stopped", "meter-backwards", "meter-mismatch"
};

static const char *kind_name(enum sb_point_kind k)
{
    switch (k) {
    case SB_POINT_TEMPERATURE: return "temperature";
    case SB_POINT_HUMIDITY: return "humidity";
    case SB_POINT_CO2: return "co2";
    case SB_POINT_PRESSURE: return "pressure";
    case SB_POINT_FLOW: return "flow";
    default: return NULL;
    }
}

/* A measured point worth checking: a sensor of a watched kind, read from a
 * device (a virtual point is computed), on equipment. */
static int watched(const struct sb_point *p)
{
    return kind_name(p->kind) && p->source.driver != SB_DRIVER_VIRTUAL && p->equipment_ix >= 0 &&
           !sb_point_has_tag(p, "sp") && !sb_point_has_tag(p, "weather");
}

/* 1 when p is an air handler's supply air temperature with at least three
 * boxes downstream that report a discharge temperature and a reheat valve. */
static int sat_with_boxes(const struct sb_model *m, const struct sb_point *p)
{
    const struct sb_equipment *e = &m->equipment[p->equipment_ix];
    int n = 0;

    if ((e->type != SB_EQUIP_AHU && e->type != SB_EQUIP_RTU) || svc_ahu_point(m, e, SVC_AHU_SAT) != p)
        return 0;
    for (size_t i = 0; i < m->nequipment && n < 3; i++) {
        const struct sb_equipment *c = &m->equipment[i];
        if (c->parent_ix == p->equipment_ix && c->type == SB_EQUIP_VAV && svc_vav_point(m, c, SVC_VAV_DAT) &&
            svc_vav_point(m, c, SVC_VAV_REHEAT))
            n++;
    }
    return n >= 3;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The boxes' reference for an air handler's supply temperature, minute by
 * minute: the median discharge temperature of the boxes whose reheat valve is
 * closed (<= 2 %) and whose airflow is on, NAN when fewer than three qualify.
 * out[n] is the caller's. */
static void boxes_ref(struct sb_analytics *a, const struct sb_model *m, int32_t ahu, int64_t from, size_t n,
                      double *out)
{
    enum { MAXB = 32 };
    double *val = calloc(n * MAXB, sizeof(double)), *v[3];
    int *cnt = calloc(n, sizeof(int));

    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    for (size_t b = 0; val && cnt && b < m->nequipment; b++) {
        const struct sb_equipment *c = &m->equipment[b];
        if (c->parent_ix != ahu || c->type != SB_EQUIP_VAV)
            continue;
        const struct sb_point *pts[3] = { svc_vav_point(m, c, SVC_VAV_DAT), svc_vav_point(m, c, SVC_VAV_REHEAT),
                                          svc_vav_point(m, c, SVC_VAV_FLOW) };
        if (!pts[0] || !pts[1] || svc_read_minutes(a, pts, 3, from, n, v) < 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            double rh = svc_frac(pts[1], v[1][i]);
            int flows = !v[2] || (isfinite(v[2][i]) && svc_m3s(pts[2], v[2][i]) > 0.01);
            if (isfinite(v[0][i]) && isfinite(rh) && rh <= 0.02 && flows && cnt[i] < MAXB)
                val[i * MAXB + (size_t)cnt[i]++] = v[0][i];
        }
        svc_free_minutes(v, 3);
    }
    /* the median: one box with a leaking valve must not move it */
    for (size_t i = 0; val && cnt && i < n; i++)
        if (cnt[i] >= 3) {
            double *x = &val[i * MAXB];
            qsort(x, (size_t)cnt[i], sizeof(double), cmp_dbl);
            out[i] = cnt[i] % 2 ? x[cnt[i] / 2] : (x[cnt[i] / 2 - 1] + x[cnt[i] / 2]) / 2;
        }
    free(val);
    free(cnt);
}

/* The setpoint a measured point is controlled to (same equipment, same
 * quantity, same place: discharge air temperature and its setpoint, duct
 * static pressure, chilled water): a reading held flat at its setpoint is
 * good control, not a stuck sensor. */
static const struct sb_point *sp_of(const struct sb_model *m, const struct sb_point *p)
{
    static const char *const where[] = { "discharge", "supply", "chilled", NULL };
    const char *w = NULL;

    for (int i = 0; where[i] && !w; i++)
        if (sb_point_has_tag(p, where[i]))
            w = where[i];
    if (!w)
        return NULL;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *q = &m->points[i];
        if (q->kind == SB_POINT_SETPOINT && q->equipment_ix == p->equipment_ix && q->canon == p->canon &&
            sb_point_has_tag(q, w))
            return q;
    }
    /* a box's discharge air is its air handler's supply air while the reheat rests */
    const struct sb_equipment *e = &m->equipment[p->equipment_ix];
    if (e->type == SB_EQUIP_VAV && e->parent_ix >= 0 && p->kind == SB_POINT_TEMPERATURE)
        return svc_ahu_point(m, &m->equipment[e->parent_ix], SVC_AHU_SATSP);
    return NULL;
}

/* What makes a point move, for the flatline check: air handlers' and boxes'
 * points move while the air handler's fan runs (flow, static pressure,
 * supply air stand still when it is off), a zone's CO2 while people are in
 * it (an empty zone sits at the outdoor level).  Elsewhere the kind decides. */
static void mover_of(const struct sb_model *m, struct svc_sensor_unit *u)
{
    const struct sb_equipment *e = &m->equipment[u->p->equipment_ix];
    const struct sb_equipment *ahu = e->type == SB_EQUIP_AHU || e->type == SB_EQUIP_RTU ? e
                                   : e->type == SB_EQUIP_VAV && e->parent_ix >= 0 ? &m->equipment[e->parent_ix]
                                   : NULL;

    u->run = NULL;
    u->occ_zone = -1;
    if (ahu && !(u->run = svc_ahu_point(m, ahu, SVC_AHU_FAN)) && !(u->run = svc_ahu_point(m, ahu, SVC_AHU_SPEED)))
        u->run = svc_ahu_point(m, ahu, SVC_AHU_CMD);
    if (!ahu && u->p->kind == SB_POINT_CO2 && e->zone_ix >= 0)
        u->occ_zone = e->zone_ix;
}

/* The independent reference of a controller's zone temperature: a zone
 * temperature on equipment of type sensor serving the same zone. */
static const struct sb_point *ref_of(const struct sb_model *m, const struct sb_point *p)
{
    const struct sb_equipment *e = &m->equipment[p->equipment_ix];

    if (p->kind != SB_POINT_TEMPERATURE || !sb_point_has_tag(p, "zone") || e->type == SB_EQUIP_SENSOR ||
        e->zone_ix < 0)
        return NULL;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *q = &m->points[i];
        if (q->kind != SB_POINT_TEMPERATURE || q->equipment_ix < 0 || !sb_point_has_tag(q, "zone"))
            continue;
        const struct sb_equipment *qe = &m->equipment[q->equipment_ix];
        if (qe->type == SB_EQUIP_SENSOR && qe->zone_ix == e->zone_ix)
            return q;
    }
    return NULL;
}

static int set_sensor(void *c, const char *n, double v, char *e, size_t l) { return sb_sensor_conf_set(c, n, v, e, l); }
static int set_meter(void *c, const char *n, double v, char *e, size_t l) { return sb_meterchk_conf_set(c, n, v, e, l); }

static struct svc_sensor_unit *unit_of(struct sb_analytics *a, const struct sb_point *p, int meter, int64_t now)
{
    for (size_t i = 0; i < a->nsens; i++)
        if (strcmp(a->sens[i].point, p->slug) == 0)
            return &a->sens[i];
    struct svc_sensor_unit *u = svc_push((void **)&a->sens, &a->nsens, &a->capsens, sizeof(*u), 64);
    if (!u)
        return NULL;
    snprintf(u->point, sizeof(u->point), "%s", p->slug);
    u->meter = meter;
    int rc;
    if (meter) {
        struct sb_meterchk_conf c;
        sb_meterchk_conf_default(&c);
        svc_fdd_overrides(a, p->slug, &c, set_meter);
        rc = sb_meterchk_init(&u->d.m, &c);
    } else {
        struct sb_sensor_conf c;
        sb_sensor_conf_for_kind(&c, kind_name(p->kind));
        svc_fdd_overrides(a, p->slug, &c, set_sensor);
        rc = sb_sensor_init(&u->d.s, &c);
    }
    if (rc)
        goto undo;
    u->next_ms = svc_first_minute(a, now);
    return u;
undo:
    a->nsens--;   /* the slot svc_push counted */
    return NULL;
}

static void sensor_raise(struct sb_analytics *a, const struct sb_model *m, struct svc_sensor_unit *u, int id,
                         int64_t t_ms)
{
    struct sb_sensor_finding sf;
    const struct sb_equipment *e = &m->equipment[u->p->equipment_ix];
    struct svc_find f;
    char txt[300];

    if (sb_sensor_finding(&u->d.s, id, &sf))
        return;
    memset(&f, 0, sizeof(f));
    f.e = e;
    f.key = u->p->slug;
    f.kind = "sensor";
    snprintf(f.check, sizeof(f.check), "%s", sensor_check[id]);
    sb_sensor_finding_format(&sf, txt, sizeof(txt));
    snprintf(f.title, sizeof(f.title), "%.60s: %.130s", u->p->name ? u->p->name : u->p->slug, txt);
    snprintf(f.faults, sizeof(f.faults), "%s", sf.info->fault);
    snprintf(f.action, sizeof(f.action), "%s", sf.info->action);
    f.severity = id == SB_SENSOR_DRIFT || id == SB_SENSOR_RANGE ? SB_ALERT_SEV_MAJOR : SB_ALERT_SEV_MINOR;
    f.value = id == SB_SENSOR_DRIFT ? sf.offset : sf.value;
    f.evidence = json_array();
    const char *unit = u->p->canon == SB_UNIT_L_S ? "m³/s" : sb_unit_symbol(u->p->canon);
    svc_find_ev(f.evidence, "Reading", u->p, sf.value, unit);
    if (id == SB_SENSOR_DRIFT) {
        svc_find_ev(f.evidence, u->boxes ? "Median discharge temperature of its boxes (reheat closed)"
                                         : "Reference sensor", u->ref, sf.ref, unit);
        svc_find_ev(f.evidence, "Offset from the usual difference", NULL, sf.offset, unit);
        svc_find_ev(f.evidence, "Usual difference", NULL, sf.base_mean, unit);
    } else if (id == SB_SENSOR_RANGE) {
        svc_find_ev(f.evidence, "Limit crossed", NULL, sf.limit, unit);
    } else if (id == SB_SENSOR_SPIKE) {
        svc_find_ev(f.evidence, "Spikes in the last hour", NULL, sf.spikes, "");
    } else if (id == SB_SENSOR_FLATLINE) {
        svc_find_ev(f.evidence, "Hours without change", NULL, sf.flat_s / 3600.0, "h");
    } else {
        svc_find_ev(f.evidence, "Minutes without a reading", NULL, sf.gap_s / 60.0, "min");
    }
    svc_find_chart(&f, u->p);
    svc_find_chart(&f, u->ref);
    f.elec_kwh_day = f.heat_kwh_day = NAN;
    snprintf(f.basis, sizeof(f.basis), "Not estimated: a sensor fault costs through the control it misleads.");
    svc_find_raise(a, m, &f, sf.since * 1000, t_ms);
    json_decref(f.evidence);
}

static void meter_raise(struct sb_analytics *a, const struct sb_model *m, struct svc_sensor_unit *u, int id,
                        int64_t t_ms)
{
    struct sb_meterchk_finding mf;
    const struct sb_equipment *e = &m->equipment[u->p->equipment_ix];
    struct svc_find f;
    char txt[300];

    if (sb_meterchk_finding(&u->d.m, id, &mf))
        return;
    memset(&f, 0, sizeof(f));
    f.e = e;
    f.kind = "meter";
    snprintf(f.check, sizeof(f.check), "%s", meter_check[id]);
    sb_meterchk_finding_format(&mf, txt, sizeof(txt));
    snprintf(f.title, sizeof(f.title), "%.199s", txt);
    snprintf(f.faults, sizeof(f.faults), "%s", mf.info->fault);
    snprintf(f.action, sizeof(f.action), "%s", mf.info->action);
    f.severity = SB_ALERT_SEV_MAJOR;
    f.value = mf.kwh;
    f.evidence = json_array();
    svc_find_ev(f.evidence, "Counter", u->p, mf.kwh, "kWh");
    svc_find_ev(f.evidence, "Power", u->ref, mf.kw, "kW");
    if (id == SB_METER_STOPPED)
        svc_find_ev(f.evidence, "Energy the power implies meanwhile", NULL, mf.expected_kwh, "kWh");
    if (id == SB_METER_MISMATCH) {
        svc_find_ev(f.evidence, "Energy by the counter", NULL, mf.cnt_kwh, "kWh");
        svc_find_ev(f.evidence, "Energy by the power", NULL, mf.pow_kwh, "kWh");
    }
    svc_find_chart(&f, u->p);
    svc_find_chart(&f, u->ref);
    f.elec_kwh_day = f.heat_kwh_day = NAN;
    snprintf(f.basis, sizeof(f.basis), "Not estimated: a metering fault loses data, not energy (bills and "
             "savings from this meter are uncertain meanwhile).");
    svc_find_raise(a, m, &f, mf.since * 1000, t_ms);
    json_decref(f.evidence);
}

/* The meter's power point (kW) beside its counter, or NULL. */
static const struct sb_point *power_of(const struct sb_model *m, const struct sb_point *counter)
{
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *q = &m->points[i];
        if (q->kind == SB_POINT_POWER && q->equipment_ix == counter->equipment_ix &&
            q->source.driver != SB_DRIVER_VIRTUAL)
            return q;
    }
    return NULL;
}

static void run_unit(struct sb_analytics *a, const struct sb_model *m, struct svc_sensor_unit *u, int64_t upto)
{
    const struct sb_point *pts[2] = { u->p, u->ref };
    double *v[2];
    size_t n = svc_chunk(a, pts, 2, u->next_ms, upto, v);   /* a counter: each minute's last reading */

    if (n == 0)
        return;
    if (u->boxes && !v[1] && (v[1] = malloc(n * sizeof(double))))
        boxes_ref(a, m, u->p->equipment_ix, u->next_ms, n, v[1]);
    double *spv = NULL, *runv = NULL;
    if (!u->meter && u->sp)
        svc_read_minutes(a, &u->sp, 1, u->next_ms, n, &spv);
    if (!u->meter && u->run)
        svc_read_minutes(a, &u->run, 1, u->next_ms, n, &runv);
    for (size_t i = 0; i < n; i++) {
        int64_t t = u->next_ms + (int64_t)i * MIN_MS, ts = (t + MIN_MS) / 1000;
        double x = v[0][i], r = v[1] ? v[1][i] : NAN;
        uint32_t raised = 0, cleared = 0;
        if (u->meter) {
            struct sb_meterchk_result res;
            int rc = isfinite(x) ? sb_meterchk_step(&u->d.m, ts, x, r, &res) : sb_meterchk_tick(&u->d.m, ts, &res);
            if (rc == 0) {
                raised = res.raised;
                cleared = res.cleared;
            }
            if (!u->d.m.have_last)      /* never heard: not a gap (see heard()) */
                raised &= ~SB_METER_BIT(SB_METER_GAP);
            for (int id = 0; id < SB_METER_NCHECKS; id++) {
                if (cleared & SB_METER_BIT(id))
                    svc_find_clear(a, &m->equipment[u->p->equipment_ix], NULL, meter_check[id], t + MIN_MS);
                if (raised & SB_METER_BIT(id))
                    meter_raise(a, m, u, id, t + MIN_MS);
            }
            continue;
        }
        struct sb_sensor_result res;
        double sp = spv ? spv[i] : NAN;
        /* held at its setpoint (within 0.5 K - 1 K downstream of its air handler, for the duct's
         * gain - or 5 % for pressure and flow): control, not a stuck sensor */
        double tol = u->p->kind != SB_POINT_TEMPERATURE ? 0.05 * fabs(sp)
                   : u->sp && u->sp->equipment_ix != u->p->equipment_ix ? 1.0 : 0.5;
        struct sb_sensor_sample smp = { .t = ts, .x = svc_m3s(u->p, x), .ref = svc_m3s(u->p, r),
                                        .expect_change = isfinite(sp) && fabs(x - sp) <= tol ? 0 : -1 };
        /* air saturated off a cooling coil reads near 100 %RH and stays there: physics, not a stuck sensor */
        if (u->p->kind == SB_POINT_HUMIDITY && x >= 95)
            smp.expect_change = 0;
        /* nothing moves it now: its fan is off, its zone empty */
        if (runv && isfinite(runv[i]) && svc_frac(u->run, runv[i]) <= 0.05)
            smp.expect_change = 0;
        if (u->occ_zone >= 0 && !sb_zone_occupied(m, &m->zones[u->occ_zone], t + MIN_MS / 2))
            smp.expect_change = 0;
        if (!u->ref && !u->boxes)
            smp.ref = NAN;
        int rc = !isfinite(x) ? sb_sensor_tick(&u->d.s, ts, &res) : sb_sensor_step_ex(&u->d.s, &smp, &res);
        if (rc)
            continue;
        for (int id = 0; id < SB_SENSOR_NCHECKS; id++) {
            if (id == SB_SENSOR_GAP)   /* judged per equipment after the pass */
                continue;
            if (res.cleared & SB_SENSOR_BIT(id))
                svc_find_clear(a, &m->equipment[u->p->equipment_ix], u->p->slug, sensor_check[id], t + MIN_MS);
            if (res.raised & SB_SENSOR_BIT(id))
                sensor_raise(a, m, u, id, t + MIN_MS);
        }
    }
    u->next_ms += (int64_t)n * MIN_MS;
    free(v[0]);
    free(v[1]);
    free(spv);
    free(runv);
}

/* A sensor that has reported since its detector started: only what was heard
 * can fall silent (a point never read is a commissioning matter, which the
 * driver's status page shows, not a fault). */
static int heard(const struct svc_sensor_unit *u)
{
    return !u->meter && u->p && u->d.s.have_last;
}

/* Gaps of one equipment's sensors: all silent = the device is offline. */
static void judge_gaps(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                       int64_t t_ms)
{
    size_t n = 0, gap = 0;
    int32_t ei = (int32_t)(e - m->equipment);

    for (size_t i = 0; i < a->nsens; i++)
        if (heard(&a->sens[i]) && a->sens[i].p->equipment_ix == ei) {
            n++;
            gap += a->sens[i].d.s.chk[SB_SENSOR_GAP].active;
        }
    if (n == 0)
        return;
    int all = gap == n && n > 1;
    int was = 0;
    for (size_t i = 0; i < a->noffline; i++)
        if (a->offline[i] == ei)
            was = 1;
    if (all && !was) {
        int32_t *v = svc_push((void **)&a->offline, &a->noffline, &a->capoffline, sizeof(*v), 4);
        if (v) {
            *v = ei;
            struct svc_find f;
            memset(&f, 0, sizeof(f));
            f.e = e;
            f.kind = "sensor";
            snprintf(f.check, sizeof(f.check), "comm-offline");
            snprintf(f.title, sizeof(f.title), "No reading from any of its %zu points: the device is not answering", n);
            snprintf(f.faults, sizeof(f.faults), "device offline, network or gateway fault, power loss");
            snprintf(f.action, sizeof(f.action), "Check the device's power and network link, and the driver's "
                     "status page for its errors");
            f.severity = SB_ALERT_SEV_MAJOR;
            f.value = (double)n;
            f.evidence = json_array();
            f.elec_kwh_day = f.heat_kwh_day = NAN;
            snprintf(f.basis, sizeof(f.basis), "Not estimated: no data, and nothing controlled from it is verified.");
            int64_t since = t_ms;
            for (size_t i = 0; i < a->nsens; i++)
                if (heard(&a->sens[i]) && a->sens[i].p->equipment_ix == ei) {
                    svc_find_chart(&f, a->sens[i].p);
                    int64_t s = a->sens[i].d.s.t_last * 1000;
                    if (a->sens[i].d.s.have_last && s < since)
                        since = s;
                }
            svc_find_raise(a, m, &f, since, t_ms);
            json_decref(f.evidence);
        }
    } else if (!all && was) {
        for (size_t i = 0; i < a->noffline; i++)
            if (a->offline[i] == ei)
                a->offline[i] = a->offline[--a->noffline];
        svc_find_clear(a, e, NULL, "comm-offline", t_ms);
    }
    /* single silent points while the device answers */
    for (size_t i = 0; i < a->nsens; i++) {
        struct svc_sensor_unit *u = &a->sens[i];
        if (!heard(u) || u->p->equipment_ix != ei)
            continue;
        int show = u->d.s.chk[SB_SENSOR_GAP].active && !all;
        if (show && !u->gap_shown)
            sensor_raise(a, m, u, SB_SENSOR_GAP, t_ms);
        else if (!show && u->gap_shown)
            svc_find_clear(a, e, u->p->slug, sensor_check[SB_SENSOR_GAP], t_ms);
        u->gap_shown = show;
    }
}

void svc_sensor_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    int64_t upto = now - now % MIN_MS - LAG_MS;

    for (size_t i = 0; i < a->nsens; i++)
        a->sens[i].p = NULL;
    for (size_t i = 0; i < m->npoints && !a->stop; i++) {
        const struct sb_point *p = &m->points[i];
        int meter = p->kind == SB_POINT_ENERGY && p->source.driver != SB_DRIVER_VIRTUAL && p->equipment_ix >= 0 &&
                    m->equipment[p->equipment_ix].type == SB_EQUIP_METER;
        if (!meter && !watched(p))
            continue;
        struct svc_sensor_unit *u = unit_of(a, p, meter, now);
        if (!u)
            continue;
        u->p = p;
        u->ref = meter ? power_of(m, p) : ref_of(m, p);
        u->boxes = !meter && !u->ref && sat_with_boxes(m, p);
        u->sp = meter ? NULL : sp_of(m, p);
        if (!meter)
            mover_of(m, u);
        while (u->next_ms < upto && !a->stop) {
            int64_t before = u->next_ms;
            run_unit(a, m, u, upto);
            if (u->next_ms == before)
                break;
        }
    }
    for (size_t i = 0; i < m->nequipment && !a->stop; i++)
        judge_gaps(a, m, &m->equipment[i], upto);
}

void svc_sensor_free(struct sb_analytics *a)
{
    free(a->sens);
    free(a->offline);
    a->sens = NULL;
    a->offline = NULL;
    a->nsens = a->capsens = a->noffline = a->capoffline = 0;
}

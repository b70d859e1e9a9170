/*
 * svc_fdd_vav.c - fault detection on the daemon's VAV boxes: the VPACC-style
 * rules (fdd/vav.h, docs/internals/fdd-vav.md) run minute by minute on each
 * box's points; findings go through svc_find.c (document, alert, impact).
 *
 * Binding, by kind and tags of the box's own points: zone temperature
 * (zone air temp sensor), heating and cooling setpoints, discharge airflow
 * and its setpoint, the damper (tagged damper, or the "air valve" command
 * of Trane-style boxes: a valve command that is not the reheat's), the
 * reheat valve (valve + heat) and the discharge air temperature; from the
 * serving air handler (the box's parent) its supply air temperature and
 * whether its fan runs.  Occupancy from the box's zone schedule.  A box
 * needs a zone temperature and either the airflow or the reheat valve.
 *
 * Impact: heat a leaking or needless reheat adds, airflow x (Tdischarge -
 * Tsupply - duct gain), over the box's running hours of the last day, as
 * heating fuel; the rest (comfort, tracking, hunting) is not priced.
 * Timing as the air handlers' (svc_fdd.c): minutes up to two minutes ago,
 * the first pass three hours back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "fdd/vav.h"

#define MIN_MS 60000LL
#define LAG_MS (2 * MIN_MS)

enum { V_ZAT, V_HSP, V_CSP, V_FLOW, V_FLOWSP, V_DMP, V_RH, V_DAT, V_SAT, V_FAN, V_SPEED, V_N };

struct svc_vav_unit {
    char equip[65];
    int64_t next_ms;
    int64_t conf_stamp;
    struct svc_runstat run;     /* running hours and mean airflow */
    struct sb_vav vav;
};

static int tagged(const struct sb_point *p, const char *a, const char *b)
{
    return sb_point_has_tag(p, a) || (b && sb_point_has_tag(p, b));
}

static void vav_points(const struct sb_model *m, const struct sb_equipment *e, const struct sb_point **pt)
{
    for (int k = 0; k < V_N; k++)
        pt[k] = NULL;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        int k = -1, sp = sb_point_has_tag(p, "sp") || p->kind == SB_POINT_SETPOINT;
        if (!p->equipment || strcmp(p->equipment, e->slug) != 0)
            continue;
        if (p->kind == SB_POINT_TEMPERATURE && sb_point_has_tag(p, "zone"))
            k = V_ZAT;
        else if (p->kind == SB_POINT_TEMPERATURE && tagged(p, "discharge", "supply"))
            k = V_DAT;
        else if (p->kind == SB_POINT_SETPOINT && sb_point_has_tag(p, "temp") && tagged(p, "heating", "heat"))
            k = V_HSP;
        else if (p->kind == SB_POINT_SETPOINT && sb_point_has_tag(p, "temp") && tagged(p, "cooling", "cool"))
            k = V_CSP;
        else if ((p->kind == SB_POINT_FLOW || (sp && sb_point_has_tag(p, "flow"))) && sb_point_has_tag(p, "air"))
            k = sp ? V_FLOWSP : V_FLOW;
        else if ((p->kind == SB_POINT_COMMAND || p->kind == SB_POINT_POSITION) && tagged(p, "valve", "damper"))
            k = tagged(p, "heat", "heating") ? V_RH : V_DMP;
        if (k >= 0 && !pt[k])
            pt[k] = p;
    }
    if (e->parent_ix >= 0) {
        const struct sb_equipment *ahu = &m->equipment[e->parent_ix];
        pt[V_SAT] = svc_ahu_point(m, ahu, SVC_AHU_SAT);
        pt[V_FAN] = svc_ahu_point(m, ahu, SVC_AHU_FAN);
        pt[V_SPEED] = svc_ahu_point(m, ahu, SVC_AHU_SPEED);
    }
}

const struct sb_point *svc_vav_point(const struct sb_model *m, const struct sb_equipment *box, int role)
{
    const struct sb_point *pt[V_N];

    vav_points(m, box, pt);
    switch (role) {
    case SVC_VAV_DAT: return pt[V_DAT];
    case SVC_VAV_REHEAT: return pt[V_RH];
    case SVC_VAV_FLOW: return pt[V_FLOW];
    }
    return NULL;
}

static const char *unbound(const struct sb_point *const *pt)
{
    if (!pt[V_ZAT])
        return "needs a zone temperature";
    if (!pt[V_FLOW] && !pt[V_RH])
        return "needs the discharge airflow or the reheat valve";
    return NULL;
}

static int set_vav(void *c, const char *name, double v, char *err, size_t errlen)
{
    return sb_vav_conf_set(c, name, v, err, errlen);
}

static void reconf(struct sb_analytics *a, struct svc_vav_unit *u)
{
    struct sb_vav_conf c;

    sb_vav_conf_default(&c);
    u->conf_stamp = svc_fdd_overrides(a, u->equip, &c, set_vav);
    if (sb_vav_reconf(&u->vav, &c))
        SB_WARN(SVC_MOD, "%s: FDD settings refused as a whole; previous ones kept", u->equip);
}

static struct svc_vav_unit *unit_of(struct sb_analytics *a, const char *slug, int64_t now)
{
    for (size_t i = 0; i < a->nvav; i++)
        if (strcmp(a->vav[i].equip, slug) == 0)
            return &a->vav[i];
    struct svc_vav_unit *u = svc_push((void **)&a->vav, &a->nvav, &a->capvav, sizeof(*u), 16);
    if (!u)
        return NULL;
    struct sb_vav_conf c;
    snprintf(u->equip, sizeof(u->equip), "%s", slug);
    sb_vav_conf_default(&c);
    if (sb_vav_init(&u->vav, &c))
        goto undo;
    reconf(a, u);
    u->next_ms = svc_first_minute(a, now);
    return u;
undo:
    a->nvav--;   /* the slot svc_push counted */
    return NULL;
}

static void impact(struct sb_analytics *a, const struct svc_vav_unit *u, const struct sb_vav_finding *vf,
                   int64_t t_ms, struct svc_find *f)
{
    const struct sb_vav_sample *e = &vf->ev;
    double hours = svc_runstat_hours(&u->run, t_ms), q = svc_runstat_mean(&u->run, t_ms);
    double eff = a->cfg.heat_efficiency > 0 ? a->cfg.heat_efficiency : 0.9;

    f->elec_kwh_day = f->heat_kwh_day = NAN;
    if (vf->rule != SB_VAV_RULE_REHEAT_LEAK && vf->rule != SB_VAV_RULE_HEAT_COOL) {
        snprintf(f->basis, sizeof(f->basis), "Not estimated: %s.",
                 vf->rule == SB_VAV_RULE_ZONE_WARM || vf->rule == SB_VAV_RULE_ZONE_COLD
                     ? "the fault costs comfort; its energy depends on what causes it"
                     : "its energy depends on how the box is misbehaving; measure before and after the repair");
        return;
    }
    double dt = e->dat - e->sat - (vf->rule == SB_VAV_RULE_REHEAT_LEAK ? u->vav.conf.dt_duct : 0);
    if (!isfinite(q) || q <= 0 || !isfinite(dt) || dt <= 0 || hours <= 0) {
        snprintf(f->basis, sizeof(f->basis), "Not estimated: no airflow or temperature rise measured while "
                 "running in the last day.");
        return;
    }
    double kw = SVC_RHO_CP * q * dt;
    f->heat_kwh_day = kw / eff * hours;
    snprintf(f->basis, sizeof(f->basis), "Airflow %.3f m3/s x reheat rise %.1f K = %.1f kW of heat / efficiency "
             "%.2f x %.1f h running (the cooling that removes it again is not counted).", q, dt, kw, eff, hours);
}

static void report(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                   struct svc_vav_unit *u, const struct sb_point *const *pt, const struct sb_vav_result *r,
                   int64_t t_ms)
{
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        uint64_t bit = SB_VAV_BIT(id);
        char check[32];
        struct sb_vav_finding vf;
        snprintf(check, sizeof(check), "vav-%d", id);
        if (r->cleared & bit) {
            svc_find_clear(a, e, NULL, check, t_ms);
            continue;
        }
        if (!(r->raised & bit) || sb_vav_finding(&u->vav, id, &vf) != 0)
            continue;
        struct svc_find f;
        const struct sb_vav_sample *ev = &vf.ev;
        memset(&f, 0, sizeof(f));
        f.e = e;
        f.kind = "vav";
        snprintf(f.check, sizeof(f.check), "%s", check);
        snprintf(f.title, sizeof(f.title), "%s (VAV rule %d)", vf.info->meaning, id);
        sb_vav_faults_format(vf.faults, f.faults, sizeof(f.faults));
        snprintf(f.action, sizeof(f.action), "%s", vf.info->action);
        f.severity = id == SB_VAV_RULE_HUNTING ? SB_ALERT_SEV_MINOR : SB_ALERT_SEV_MAJOR;
        f.value = vf.lhs;
        f.evidence = json_array();
        svc_find_ev(f.evidence, "Zone temperature", pt[V_ZAT], ev->zat, "°C");
        svc_find_ev(f.evidence, "Heating setpoint", pt[V_HSP], ev->htg_sp, "°C");
        svc_find_ev(f.evidence, "Cooling setpoint", pt[V_CSP], ev->clg_sp, "°C");
        svc_find_ev(f.evidence, "Airflow", pt[V_FLOW], ev->flow, "m³/s");
        svc_find_ev(f.evidence, "Airflow setpoint", pt[V_FLOWSP], ev->flow_sp, "m³/s");
        svc_find_ev(f.evidence, "Damper command", pt[V_DMP], ev->damper * 100, "%");
        svc_find_ev(f.evidence, "Reheat valve command", pt[V_RH], ev->reheat * 100, "%");
        svc_find_ev(f.evidence, "Discharge air temperature", pt[V_DAT], ev->dat, "°C");
        svc_find_ev(f.evidence, "Supply air temperature (air handler)", pt[V_SAT], ev->sat, "°C");
        for (int k = 0; k < V_FAN; k++)
            if (k != V_HSP && k != V_CSP)
                svc_find_chart(&f, pt[k]);
        impact(a, u, &vf, t_ms, &f);
        svc_find_raise(a, m, &f, vf.since * 1000, t_ms);
        json_decref(f.evidence);
    }
}

static void run_unit(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                     struct svc_vav_unit *u, const struct sb_point *const *pt, int64_t upto)
{
    double *v[V_N];
    const struct sb_zone *z = e->zone_ix >= 0 ? &m->zones[e->zone_ix] : NULL;
    size_t n = svc_chunk(a, pt, V_N, u->next_ms, upto, v);

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        int64_t t = u->next_ms + (int64_t)i * MIN_MS;
        struct sb_vav_sample s;
        struct sb_vav_result r;
#define V(k) (v[k] ? v[k][i] : NAN)
        sb_vav_sample_init(&s);
        s.t = t / 1000;
        s.zat = V(V_ZAT);
        s.htg_sp = V(V_HSP);
        s.clg_sp = V(V_CSP);
        s.flow = svc_m3s(pt[V_FLOW], V(V_FLOW));          /* the rules work in m3/s */
        s.flow_sp = svc_m3s(pt[V_FLOWSP], V(V_FLOWSP));
        s.damper = svc_frac(pt[V_DMP], V(V_DMP));
        s.reheat = svc_frac(pt[V_RH], V(V_RH));
        s.dat = V(V_DAT);
        s.sat = V(V_SAT);
        s.ahu_on = isfinite(V(V_FAN)) ? V(V_FAN) >= 0.5
                 : isfinite(V(V_SPEED)) ? svc_frac(pt[V_SPEED], V(V_SPEED)) > 0.05 : NAN;
        s.occupied = z ? sb_zone_occupied(m, z, t + MIN_MS / 2) : NAN;
        svc_runstat_add(&u->run, t, isfinite(s.flow) && s.flow > u->vav.conf.flow_on, s.flow);
#undef V
        if (sb_vav_step(&u->vav, &s, &r) == 0 && (r.raised | r.cleared))
            report(a, m, e, u, pt, &r, t + MIN_MS);
    }
    u->next_ms += (int64_t)n * MIN_MS;
    svc_free_minutes(v, V_N);
}

void svc_vav_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    int64_t upto = now - now % MIN_MS - LAG_MS;

    for (size_t i = 0; i < m->nequipment && !a->stop; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        const struct sb_point *pt[V_N];
        if (e->type != SB_EQUIP_VAV)
            continue;
        vav_points(m, e, pt);
        if (unbound(pt))
            continue;
        struct svc_vav_unit *u = unit_of(a, e->slug, now);
        if (!u)
            continue;
        if (svc_fdd_conf_stamp(a, u->equip) != u->conf_stamp)
            reconf(a, u);
        while (u->next_ms < upto && !a->stop) {
            int64_t before = u->next_ms;
            run_unit(a, m, e, u, pt, upto);
            if (u->next_ms == before)
                break;
        }
    }
}

json_t *svc_vav_status(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_point *pt[V_N];
    const char *why;

    (void)a;
    vav_points(m, e, pt);
    why = unbound(pt);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "equipment", e->slug, "building", e->building, "method",
                          "VAV box rules (NIST VPACC style)", "status", why ? "not watched" : "watched");
    if (why)
        json_object_set_new(o, "message", json_string(why));
    return o;
}

void svc_vav_free(struct sb_analytics *a)
{
    free(a->vav);
    a->vav = NULL;
    a->nvav = a->capvav = 0;
}

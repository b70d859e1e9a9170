/*
 * svc_fdd_plant.c - fault detection on chillers (fdd/plant.h,
 * docs/internals/fdd-sensors-plant.md): COP against the curve each chiller
 * learns from its own first days of running (part load, outdoor and chilled
 * water temperatures), and short cycling.
 *
 * Binding, by kind, tags and the names controllers give (chiller points are
 * seldom tagged well): electric power (a power point not named "load"), the
 * cooling load (a power point named or tagged "load"), running (a status,
 * or a point named "running"/"run status"; else power above 5 % of its
 * highest), the chilled water supply temperature (tagged chilled + water +
 * temp, not a setpoint) and the building's outdoor temperature.  A chiller
 * needs power and load.
 *
 * Impact of a degraded COP: the extra electric power at the load it ran
 * (load/COP - load/expected) x its running hours of the last day.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "fdd/plant.h"

#define MIN_MS 60000LL
#define LAG_MS (2 * MIN_MS)

enum { C_KW, C_LOAD, C_RUN, C_CHW, C_OAT, C_N };

static const char *const check_name[SB_CHILLER_NCHECKS] = { "chiller-cop", "chiller-cycling" };

struct svc_plant_unit {
    char equip[65];
    int64_t next_ms;
    int64_t conf_stamp;
    struct svc_runstat run;       /* running hours and mean load */
    struct sb_chiller ch;
};

static void chiller_points(const struct sb_model *m, const struct sb_equipment *e, const struct sb_point **pt)
{
    for (int k = 0; k < C_N; k++)
        pt[k] = NULL;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        int k = -1;
        if (!p->equipment || strcmp(p->equipment, e->slug) != 0)
            continue;
        if (p->kind == SB_POINT_POWER)
            k = svc_named(p, "load") || sb_point_has_tag(p, "load") || sb_point_has_tag(p, "thermal") ? C_LOAD : C_KW;
        else if (p->kind == SB_POINT_STATUS || svc_named(p, "running") || svc_named(p, "run status"))
            k = svc_named(p, "enable") ? -1 : C_RUN;
        else if (p->kind == SB_POINT_TEMPERATURE && sb_point_has_tag(p, "chilled") && !sb_point_has_tag(p, "sp"))
            k = C_CHW;
        if (k >= 0 && !pt[k])
            pt[k] = p;
    }
    pt[C_OAT] = sb_outdoor_temp_point(m, e->building_ix);
}

static const char *unbound(const struct sb_point *const *pt)
{
    return !pt[C_KW] || !pt[C_LOAD] ? "needs its electric power and its cooling load" : NULL;
}

static int set_ch(void *c, const char *n, double v, char *e, size_t l) { return sb_chiller_conf_set(c, n, v, e, l); }

static int reconf(struct sb_analytics *a, struct svc_plant_unit *u, int fresh)
{
    struct sb_chiller_conf c;
    int rc;

    sb_chiller_conf_default(&c);
    u->conf_stamp = svc_fdd_overrides(a, u->equip, &c, set_ch);
    if ((rc = fresh ? sb_chiller_init(&u->ch, &c) : sb_chiller_conf_check(&c, NULL, 0)))
        SB_WARN(SVC_MOD, "%s: FDD settings refused as a whole; %s", u->equip,
                fresh ? "not watched" : "previous ones kept");
    else if (!fresh)
        u->ch.conf = c;   /* thresholds only: the learnt curve and the history stay */
    return rc;
}

static struct svc_plant_unit *unit_of(struct sb_analytics *a, const char *slug, int64_t now)
{
    for (size_t i = 0; i < a->nplant; i++)
        if (strcmp(a->plant[i].equip, slug) == 0)
            return &a->plant[i];
    struct svc_plant_unit *u = svc_push((void **)&a->plant, &a->nplant, &a->capplant, sizeof(*u), 4);
    if (!u)
        return NULL;
    snprintf(u->equip, sizeof(u->equip), "%s", slug);
    if (reconf(a, u, 1))
        goto undo;
    u->next_ms = svc_first_minute(a, now);
    return u;
undo:
    a->nplant--;   /* the slot svc_push counted */
    return NULL;
}

static void report(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                   struct svc_plant_unit *u, const struct sb_point *const *pt, const struct sb_chiller_result *r,
                   int64_t t_ms)
{
    for (int id = 0; id < SB_CHILLER_NCHECKS; id++) {
        struct sb_chiller_finding cf;
        char txt[300];
        if (r->cleared & SB_CHILLER_BIT(id))
            svc_find_clear(a, e, NULL, check_name[id], t_ms);
        if (!(r->raised & SB_CHILLER_BIT(id)) || sb_chiller_finding(&u->ch, id, &cf))
            continue;
        struct svc_find f;
        memset(&f, 0, sizeof(f));
        f.e = e;
        f.kind = "chiller";
        snprintf(f.check, sizeof(f.check), "%s", check_name[id]);
        sb_chiller_finding_format(&cf, txt, sizeof(txt));
        snprintf(f.title, sizeof(f.title), "%.199s", txt);
        snprintf(f.faults, sizeof(f.faults), "%s", cf.info->fault);
        snprintf(f.action, sizeof(f.action), "%s", cf.info->action);
        f.severity = SB_ALERT_SEV_MAJOR;
        f.evidence = json_array();
        f.elec_kwh_day = f.heat_kwh_day = NAN;
        double hours = svc_runstat_hours(&u->run, t_ms);
        if (id == SB_CHILLER_DEGRADED) {
            f.value = cf.loss;
            svc_find_ev(f.evidence, "COP", NULL, cf.cop, "");
            svc_find_ev(f.evidence, "Expected COP (learnt curve)", NULL, cf.cop_expected, "");
            svc_find_ev(f.evidence, "COP loss", NULL, cf.loss * 100, "%");
            svc_find_ev(f.evidence, "Cooling load", pt[C_LOAD], cf.load_kw, "kW");
            svc_find_ev(f.evidence, "Extra electric power at this load", NULL, cf.extra_kw, "kW");
            if (isfinite(cf.extra_kw) && hours > 0) {
                f.elec_kwh_day = cf.extra_kw * hours;
                snprintf(f.basis, sizeof(f.basis), "Extra power %.1f kW (load / COP - load / expected COP) x %.1f h "
                         "running in the last day.", cf.extra_kw, hours);
            } else {
                snprintf(f.basis, sizeof(f.basis), "Not estimated: no running hours in the last day.");
            }
        } else {
            f.value = cf.starts;
            svc_find_ev(f.evidence, "Starts in the window", pt[C_RUN], cf.starts, "");
            svc_find_ev(f.evidence, "Short runs in the window", NULL, cf.short_runs, "");
            svc_find_ev(f.evidence, "Last run", NULL, cf.last_run_s / 60.0, "min");
            snprintf(f.basis, sizeof(f.basis), "Not estimated: short cycling costs wear and efficiency that the "
                     "data cannot separate.");
        }
        for (int k = 0; k < C_N; k++)
            svc_find_chart(&f, pt[k]);
        svc_find_raise(a, m, &f, cf.since * 1000, t_ms);
        json_decref(f.evidence);
    }
}

static void run_unit(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                     struct svc_plant_unit *u, const struct sb_point *const *pt, int64_t upto)
{
    double *v[C_N];
    size_t n = svc_chunk(a, pt, C_N, u->next_ms, upto, v);

    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++) {
        int64_t t = u->next_ms + (int64_t)i * MIN_MS;
        struct sb_chiller_sample s;
        struct sb_chiller_result r;
#define V(k) (v[k] ? v[k][i] : NAN)
        sb_chiller_sample_init(&s);
        s.t = (t + MIN_MS) / 1000;
        s.kw = V(C_KW);
        s.load_kw = V(C_LOAD);
        s.running = isfinite(V(C_RUN)) ? V(C_RUN) >= 0.5 : isfinite(s.kw) ? s.kw > 1.0 : NAN;
        s.chw = V(C_CHW);
        s.oat = V(C_OAT);
#undef V
        svc_runstat_add(&u->run, t, s.running >= 0.5, s.load_kw);
        if (sb_chiller_step(&u->ch, &s, &r) == 0 && (r.raised | r.cleared))
            report(a, m, e, u, pt, &r, t + MIN_MS);
    }
    u->next_ms += (int64_t)n * MIN_MS;
    svc_free_minutes(v, C_N);
}

void svc_plant_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    int64_t upto = now - now % MIN_MS - LAG_MS;

    for (size_t i = 0; i < m->nequipment && !a->stop; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        const struct sb_point *pt[C_N];
        if (e->type != SB_EQUIP_CHILLER)
            continue;
        chiller_points(m, e, pt);
        if (unbound(pt))
            continue;
        struct svc_plant_unit *u = unit_of(a, e->slug, now);
        if (!u)
            continue;
        if (svc_fdd_conf_stamp(a, u->equip) != u->conf_stamp)
            reconf(a, u, 0);
        while (u->next_ms < upto && !a->stop) {
            int64_t before = u->next_ms;
            run_unit(a, m, e, u, pt, upto);
            if (u->next_ms == before)
                break;
        }
    }
}

json_t *svc_plant_status(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_point *pt[C_N];
    const char *why;

    (void)a;
    chiller_points(m, e, pt);
    why = unbound(pt);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "equipment", e->slug, "building", e->building, "method",
                          "COP against its learnt curve, short cycling", "status", why ? "not watched" : "watched");
    if (why)
        json_object_set_new(o, "message", json_string(why));
    return o;
}

void svc_plant_free(struct sb_analytics *a)
{
    free(a->plant);
    a->plant = NULL;
    a->nplant = a->capplant = 0;
}

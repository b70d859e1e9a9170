/*
 * svc_fdd.c - fault detection on the daemon's air handlers: the NIST APAR
 * rules (fdd/apar.h) run minute by minute on each AHU's points, and what
 * they find goes through the alert life cycle (alerts/service.h,
 * sb_alerts_record: the rule "fdd-apar-<n>", keyed by the equipment) with
 * its WebSocket event and notifications.  docs/internals/fdd-apar.md.
 *
 * Binding, by point kind and Haystack tags of the AHU's own points: supply
 * ("discharge"/"supply"), mixed, return and outside air temperatures (the
 * building's outdoor temperature when the unit has none), the supply air
 * temperature setpoint, heating and cooling valves, the outside air damper,
 * the supply fan's status and speed, duct static pressure and its setpoint.
 * A unit needs a supply and a mixed air temperature, an outdoor temperature,
 * the damper and a valve; otherwise it is not watched (and the model status
 * says why).  Occupancy: the schedules of the zones the unit serves (its own
 * zone, or its boxes' zones).
 *
 * The outside air damper's minimum position (APAR's mode detection needs
 * it) is learnt from the data: the lowest position while the fan runs,
 * unless the unit's FDD settings give it (per-unit overrides of every APAR
 * threshold: the "fdd_conf" document, re-read when it changes).
 *
 * Findings go through svc_find.c with their evidence and an estimate of the
 * energy they waste per day (docs/internals/fdd.md, "Impact"): airflow x
 * the temperature error beyond the rule's threshold for coil faults, the
 * excess outdoor air x |Tra - Toa| for damper faults, the fan's power for a
 * fan running unoccupied; each over the unit's running hours of the last
 * day.
 *
 * Timing: each pass (the worker's 30 s wake) reads the 1-minute means of the
 * minutes since the last one, up to two minutes ago (late readings), at most
 * six hours at once; the first pass of a unit starts three hours back, so
 * the rules' mode delay and on-delay (an hour each by NIST's timing) can
 * elapse on history.  The detector's state lives in memory: a restart starts
 * it again from three hours back.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/service.h"
#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "fdd/apar.h"

#define MIN_MS 60000LL
#define LAG_MS (2 * MIN_MS)

enum { F_SAT, F_MAT, F_RAT, F_OAT, F_SATSP, F_HC, F_CC, F_OAD, F_FAN, F_SPEED, F_DSP, F_DSPSP, F_CMD,
       F_FLOW, F_FANKW, F_OAF, F_N };

#define OAF_LEARN_MIN 180        /* minutes at minimum outdoor air before its fraction is known */
#define OAF_LEARN_MAX (3 * 1440) /* ... and after which it is frozen (a later fault must not be learnt) */

struct svc_fdd_unit {
    char equip[65];
    int64_t next_ms;              /* first minute not yet processed */
    int oad_learnt;               /* apar.conf.u_oad_min learnt from the data */
    int oad_fixed;                /* ... or set by the unit's FDD settings */
    /* The minimum position while the economizer cannot run (outdoor air
     * warmer than return, cooling valve open): as a position (fixed
     * minimum) and as position x airflow (a minimum outdoor airflow). */
    double mn_n, mn_d, mn_d2, mn_q, mn_q2;
    /* The same for the measured outdoor-air fraction at minimum (an airflow
     * station or the controller's calculation): APAR rules 2 and 18 need
     * the minimum fraction; learnt over the unit's first three days at
     * minimum, then frozen. */
    double of_n, of_f, of_f2, of_q, of_q2;
    int64_t conf_stamp;           /* the settings document's time (0: none) */
    struct svc_runstat flow, fan; /* running hours, mean airflow and fan power */
    struct sb_apar apar;
};


static int is_kind(const struct sb_point *p, enum sb_point_kind a, enum sb_point_kind b)
{
    return p->kind == a || p->kind == b;
}

/* The AHU's points by role (NULL where it has none). */
static void ahu_points(const struct sb_model *m, const struct sb_equipment *e, const struct sb_point **pt)
{
    for (int k = 0; k < F_N; k++)
        pt[k] = NULL;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        int k = -1;
        if (!p->equipment || strcmp(p->equipment, e->slug) != 0)
            continue;
        int supply = sb_point_has_tag(p, "discharge") || sb_point_has_tag(p, "supply");
        if (p->kind == SB_POINT_TEMPERATURE && sb_point_has_tag(p, "air")) {
            k = supply ? F_SAT : sb_point_has_tag(p, "mixed") ? F_MAT : sb_point_has_tag(p, "return") ? F_RAT
              : (sb_point_has_tag(p, "outside") || sb_point_has_tag(p, "outdoor")) ? F_OAT : -1;
        } else if (p->kind == SB_POINT_SETPOINT && supply && sb_point_has_tag(p, "temp")) {
            k = F_SATSP;
        } else if (p->kind == SB_POINT_SETPOINT && sb_point_has_tag(p, "pressure")) {
            k = F_DSPSP;
        } else if (p->kind == SB_POINT_PRESSURE && supply && !sb_point_has_tag(p, "sp")) {
            k = F_DSP;
        } else if (is_kind(p, SB_POINT_POSITION, SB_POINT_COMMAND) && sb_point_has_tag(p, "valve")) {
            k = (sb_point_has_tag(p, "heat") || sb_point_has_tag(p, "heating")) ? F_HC : (sb_point_has_tag(p, "cool") || sb_point_has_tag(p, "cooling")) ? F_CC : -1;
        } else if (is_kind(p, SB_POINT_POSITION, SB_POINT_COMMAND) && sb_point_has_tag(p, "damper") &&
                   (sb_point_has_tag(p, "outside") || sb_point_has_tag(p, "outdoor"))) {
            k = F_OAD;
        } else if (p->kind == SB_POINT_STATUS && sb_point_has_tag(p, "fan")) {
            k = F_FAN;
        } else if (sb_point_has_tag(p, "fan") && sb_point_has_tag(p, "speed")) {
            k = F_SPEED;
        } else if (is_kind(p, SB_POINT_COMMAND, SB_POINT_STATUS) && svc_named(p, "fan") &&
                   (svc_named(p, "start") || svc_named(p, "enable") || sb_point_has_tag(p, "cmd"))) {
            k = F_CMD;      /* the start command: named so on most controllers, tagged on some */
        } else if (p->kind == SB_POINT_FLOW && supply && sb_point_has_tag(p, "air")) {
            k = F_FLOW;
        } else if (p->kind == SB_POINT_POWER && svc_named(p, "fan")) {
            k = F_FANKW;
        } else if ((svc_named(p, "outdoor air fraction") || svc_named(p, "outside air fraction") ||
                    (sb_point_has_tag(p, "outside") && sb_point_has_tag(p, "fraction"))) &&
                   !sb_point_has_tag(p, "sp")) {
            k = F_OAF;
        }
        if (k >= 0 && !pt[k])
            pt[k] = p;
    }
    if (!pt[F_OAT])
        pt[F_OAT] = sb_outdoor_temp_point(m, e->building_ix);
}

/* Why a unit cannot be watched, or NULL. */
static const char *unbound(const struct sb_point *const *pt)
{
    if (!pt[F_SAT] || !pt[F_MAT])
        return "needs supply and mixed air temperatures";
    if (!pt[F_OAT])
        return "needs an outdoor air temperature";
    if (!pt[F_OAD])
        return "needs the outside air damper";
    if (!pt[F_HC] && !pt[F_CC])
        return "needs a heating or a cooling valve";
    return NULL;
}

/* Occupied at t: any zone the unit serves (itself or through its boxes). */
static double occupied(const struct sb_model *m, const struct sb_equipment *e, int64_t t)
{
    int any = 0;
    int32_t ei = (int32_t)(e - m->equipment);

    if (e->zone_ix >= 0) {
        any = 1;
        if (sb_zone_occupied(m, &m->zones[e->zone_ix], t))
            return 1;
    }
    for (size_t i = 0; i < m->nequipment; i++) {
        const struct sb_equipment *c = &m->equipment[i];
        if (c->parent_ix != ei || c->zone_ix < 0)
            continue;
        any = 1;
        if (sb_zone_occupied(m, &m->zones[c->zone_ix], t))
            return 1;
    }
    return any ? 0 : NAN;
}

static int set_apar(void *c, const char *name, double v, char *err, size_t errlen)
{
    return sb_apar_conf_set(c, name, v, err, errlen);
}

/* (Re)applies the unit's FDD settings over NIST's defaults, keeping the
 * detector's history and the learnt damper minimum unless it is set. */
static void reconf(struct sb_analytics *a, struct svc_fdd_unit *u)
{
    struct sb_apar_conf c;
    double learnt = u->apar.conf.u_oad_min;

    sb_apar_conf_default(&c);
    c.u_oad_min = NAN;
    u->conf_stamp = svc_fdd_overrides(a, u->equip, &c, set_apar);
    u->oad_fixed = isfinite(c.u_oad_min);
    if (!u->oad_fixed)
        c.u_oad_min = u->oad_learnt ? learnt : 0;
    if (sb_apar_reconf(&u->apar, &c))
        SB_WARN(SVC_MOD, "%s: FDD settings refused as a whole; previous ones kept", u->equip);
}

static struct svc_fdd_unit *unit_of(struct sb_analytics *a, const char *slug, int64_t now)
{
    for (size_t i = 0; i < a->nfdd; i++)
        if (strcmp(a->fdd[i].equip, slug) == 0)
            return &a->fdd[i];
    struct svc_fdd_unit *u = svc_push((void **)&a->fdd, &a->nfdd, &a->capfdd, sizeof(*u), 4);
    if (!u)
        return NULL;
    struct sb_apar_conf c;
    snprintf(u->equip, sizeof(u->equip), "%s", slug);
    sb_apar_conf_default(&c);
    if (sb_apar_init(&u->apar, &c))
        goto undo;
    reconf(a, u);
    u->next_ms = svc_first_minute(a, now);
    return u;
undo:
    a->nfdd--;   /* the slot svc_push counted */
    return NULL;
}

/* Impact of an APAR finding (see the file's comment).  Fills f's energy
 * and basis. */
static void impact(struct sb_analytics *a, const struct svc_fdd_unit *u, const struct sb_apar_finding *af,
                   int64_t t_ms, struct svc_find *f)
{
    double hours = svc_runstat_hours(&u->flow, t_ms), q = svc_runstat_mean(&u->flow, t_ms);
    double cop = a->cfg.cooling_cop > 0 ? a->cfg.cooling_cop : 3.5;
    double eff = a->cfg.heat_efficiency > 0 ? a->cfg.heat_efficiency : 0.9;
    uint32_t fl = af->faults;
    const struct sb_apar_sample *e = &af->ev;
    double kw_th = NAN;
    int heating = 0;

    f->elec_kwh_day = f->heat_kwh_day = NAN;
    if (af->rule == SB_APAR_RULE_FAN_UNOCC) {
        double kw = svc_runstat_mean(&u->fan, t_ms);
        double h_unocc = hours;   /* runs unoccupied: bounded by its running hours */
        if (isfinite(kw) && kw > 0) {
            f->elec_kwh_day = kw * h_unocc;
            snprintf(f->basis, sizeof(f->basis), "Fan power %.1f kW x %.1f h running in the last day (upper "
                     "bound: some of it occupied).", kw, h_unocc);
        } else {
            snprintf(f->basis, sizeof(f->basis), "Not estimated: the unit has no fan power point.");
        }
        return;
    }
    if (fl & (SB_APAR_F_FAN | SB_APAR_F_SEQUENCE | SB_APAR_F_HUNTING | SB_APAR_F_SAT_SENSOR |
              SB_APAR_F_MAT_SENSOR | SB_APAR_F_RAT_SENSOR | SB_APAR_F_OAT_SENSOR) &&
        !(fl & (SB_APAR_F_CC_LEAK | SB_APAR_F_HC_LEAK | SB_APAR_F_OAD_STUCK | SB_APAR_F_OAD_LEAK))) {
        snprintf(f->basis, sizeof(f->basis), "Not estimated: %s costs through the control it misleads or "
                 "the comfort it loses; measure before and after the repair.",
                 fl & SB_APAR_F_FAN ? "a stopped fan" : fl & SB_APAR_F_SEQUENCE ? "a missing reset"
                 : fl & SB_APAR_F_HUNTING ? "hunting" : "a sensor error");
        return;
    }
    if (!isfinite(q) || q <= 0 || hours <= 0) {
        snprintf(f->basis, sizeof(f->basis), "Not estimated: the unit has no supply airflow measured while "
                 "running in the last day.");
        return;
    }
    if (fl & (SB_APAR_F_OAD_STUCK | SB_APAR_F_OAD_LEAK | SB_APAR_F_ECON_LOGIC) && isfinite(e->rat) &&
        isfinite(e->oat) && isfinite(af->lhs) && isfinite(af->rhs) && af->lhs <= 1.5 && af->rhs <= 1.5) {
        /* an outdoor-air fraction rule: the excess fraction x the air's enthalpy difference (sensible) */
        double df = fabs(af->lhs - af->rhs);
        kw_th = SVC_RHO_CP * q * df * fabs(e->rat - e->oat);
        heating = e->oat < e->rat;
        snprintf(f->basis, sizeof(f->basis), "Excess outdoor air %.0f %% of %.2f m3/s x |Tra - Toa| %.1f K = "
                 "%.1f kW of %s", df * 100, q, fabs(e->rat - e->oat), kw_th, heating ? "heating" : "cooling");
    } else if (isfinite(af->lhs) && isfinite(af->rhs)) {
        /* a temperature balance: the error beyond the threshold is energy the coils put in or took out */
        double dt = fabs(af->lhs - af->rhs);
        kw_th = SVC_RHO_CP * q * dt;
        heating = af->rule == SB_APAR_RULE_REST_BAL ? e->sat > e->mat
                : (fl & (SB_APAR_F_HC_LEAK | SB_APAR_F_HC_STUCK | SB_APAR_F_HC_CAPACITY)) &&
                  !(fl & (SB_APAR_F_CC_LEAK | SB_APAR_F_CC_STUCK));
        snprintf(f->basis, sizeof(f->basis), "Airflow %.2f m3/s x %.1f K beyond the rule's threshold = %.1f kW of "
                 "%s", q, dt, kw_th, heating ? "heating" : "cooling");
    } else {
        snprintf(f->basis, sizeof(f->basis), "Not estimated: the rule is a logic check without a measured error.");
        return;
    }
    size_t l = strlen(f->basis);
    if (heating) {
        f->heat_kwh_day = kw_th / eff * hours;
        snprintf(f->basis + l, sizeof(f->basis) - l, " / efficiency %.2f x %.1f h running.", eff, hours);
    } else {
        f->elec_kwh_day = kw_th / cop * hours;
        snprintf(f->basis + l, sizeof(f->basis) - l, " / COP %.1f x %.1f h running.", cop, hours);
    }
}

static void add_evidence(json_t *ev, const struct sb_point *const *pt, const struct sb_apar_finding *af)
{
    const struct sb_apar_sample *e = &af->ev;

    svc_find_ev(ev, "Supply air temperature", pt[F_SAT], e->sat, "°C");
    svc_find_ev(ev, "Supply air temperature setpoint", pt[F_SATSP], e->sat_sp, "°C");
    svc_find_ev(ev, "Mixed air temperature", pt[F_MAT], e->mat, "°C");
    svc_find_ev(ev, "Return air temperature", pt[F_RAT], e->rat, "°C");
    svc_find_ev(ev, "Outdoor air temperature", pt[F_OAT], e->oat, "°C");
    svc_find_ev(ev, "Heating valve", pt[F_HC], pt[F_HC] ? e->u_hc * 100 : NAN, "%");
    svc_find_ev(ev, "Cooling valve", pt[F_CC], pt[F_CC] ? e->u_cc * 100 : NAN, "%");
    svc_find_ev(ev, "Outdoor air damper", pt[F_OAD], e->u_oad * 100, "%");
    svc_find_ev(ev, "Outdoor air fraction", pt[F_OAF], e->oaf * 100, "%");
    svc_find_ev(ev, "Required minimum outdoor air fraction", NULL, e->oaf_min * 100, "%");
    svc_find_ev(ev, "Duct static pressure", pt[F_DSP], e->dsp, "Pa");
    svc_find_ev(ev, "Duct static pressure setpoint", pt[F_DSPSP], e->dsp_sp, "Pa");
    svc_find_ev(ev, "Rule: left side", NULL, af->lhs, "");
    svc_find_ev(ev, "Rule: right side", NULL, af->rhs, "");
}

static void report(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                   struct svc_fdd_unit *u, const struct sb_point *const *pt, const struct sb_apar_result *r,
                   int64_t t_ms)
{
    for (int id = 1; id <= SB_APAR_NRULES; id++) {
        uint64_t bit = SB_APAR_BIT(id);
        char check[32];
        struct sb_apar_finding af;
        snprintf(check, sizeof(check), "apar-%d", id);
        if (r->cleared & bit) {
            svc_find_clear(a, e, NULL, check, t_ms);
            continue;
        }
        if (!(r->raised & bit) || sb_apar_finding(&u->apar, id, &af) != 0)
            continue;
        struct svc_find f;
        memset(&f, 0, sizeof(f));
        f.e = e;
        f.kind = "ahu";
        snprintf(f.check, sizeof(f.check), "%s", check);
        snprintf(f.title, sizeof(f.title), "%s (%s %d, %s)", af.info->meaning,
                 af.info->beyond ? "sbems rule" : "APAR rule", id, sb_apar_mode_name(af.mode));
        sb_apar_faults_format(af.faults, f.faults, sizeof(f.faults));
        snprintf(f.action, sizeof(f.action), "%s", af.info->action);
        /* APAR proper and the deadband balance: major; a fan that does not
         * run: critical; the other beyond-APAR checks (reset missing, fan
         * unoccupied) are advice. */
        f.severity = id == SB_APAR_RULE_FAN_FAIL ? SB_ALERT_SEV_CRITICAL
                   : id <= SB_APAR_NAPAR || id == SB_APAR_RULE_REST_BAL ? SB_ALERT_SEV_MAJOR : SB_ALERT_SEV_MINOR;
        f.value = af.lhs;
        f.evidence = json_array();
        add_evidence(f.evidence, pt, &af);
        for (int k = 0; k < F_N; k++)
            if (k == F_SAT || k == F_MAT || k == F_RAT || k == F_OAT || k == F_CC || k == F_HC || k == F_OAD ||
                (id >= 29 && (k == F_DSP || k == F_SATSP || k == F_SPEED)))
                svc_find_chart(&f, pt[k]);
        impact(a, u, &af, t_ms, &f);
        svc_find_raise(a, m, &f, af.since * 1000, t_ms);
        json_decref(f.evidence);
    }
}

/* The damper's minimum-outdoor-air position.  APAR's modes need it (a
 * damper at its minimum is not "modulating").  A controller holds it
 * either as a fixed position or as a minimum outdoor airflow (ASHRAE 62.1
 * ventilation rate, Guideline 36 §5.16.3 with an airflow station), which
 * moves the damper inversely with the supply flow.  Both are learnt from
 * the command while the economizer cannot run - outdoor air warmer than
 * return air by 1 K with the cooling valve open - where the damper sits at
 * its minimum whatever the sequence: the model with the smaller spread
 * (coefficient of variation) is used once 60 such minutes are seen.
 * Before that, the lowest position while the fan runs stands for it (a
 * controller never closes below its minimum while occupied).  A stuck
 * damper does not mislead it: the command is the controller's. */
static void learn_oad_min(struct svc_fdd_unit *u, const struct sb_point *const *pt, double *const *v,
                          const double *occ, size_t n)
{
    double lo = INFINITY;

    if (u->oad_fixed)
        return;
    for (size_t i = 0; v[F_OAD] && i < n; i++) {
        double run = v[F_FAN] ? v[F_FAN][i] : v[F_SPEED] ? svc_frac(pt[F_SPEED], v[F_SPEED][i]) : NAN;
        double d = svc_frac(pt[F_OAD], v[F_OAD][i]);
        if (!isfinite(d) || !isfinite(run) || run <= 0.05)
            continue;
        if (d < lo)
            lo = d;
        double cc = v[F_CC] ? svc_frac(pt[F_CC], v[F_CC][i]) : NAN, q = v[F_FLOW] ? v[F_FLOW][i] : NAN;
        /* occupied only: a unit cooling the building down at night needs no ventilation air */
        if (occ[i] == 1 && v[F_OAT] && v[F_RAT] && v[F_OAT][i] > v[F_RAT][i] + 1.0 && cc > 0.05 && d < 0.95) {
            double dq = isfinite(q) && q > 0 ? d * q : NAN;
            u->mn_n++;
            u->mn_d += d;
            u->mn_d2 += d * d;
            if (isfinite(dq)) {
                u->mn_q += dq;
                u->mn_q2 += dq * dq;
            }
            double f = v[F_OAF] ? svc_frac(pt[F_OAF], v[F_OAF][i]) : NAN;
            if (isfinite(f) && isfinite(dq) && u->of_n < OAF_LEARN_MAX) {
                u->of_n++;
                u->of_f += f;
                u->of_f2 += f * f;
                u->of_q += f * q;
                u->of_q2 += f * q * f * q;
            }
        }
    }
    if (isfinite(lo) && lo < 0.95 && lo < u->apar.conf.u_oad_min + (u->oad_learnt ? 0 : 1)) {
        u->apar.conf.u_oad_min = lo;
        u->oad_learnt = 1;
    }
}

static double cv(double n, double s, double s2)
{
    double m = s / n, var = s2 / n - m * m;
    return m > 0 ? sqrt(var > 0 ? var : 0) / m : INFINITY;
}

/* The outdoor-air fraction required now (NAN: the conf's). */
static double oaf_min_now(const struct svc_fdd_unit *u, double q)
{
    if (u->of_n < OAF_LEARN_MIN)
        return NAN;
    double cf = cv(u->of_n, u->of_f, u->of_f2), cq = cv(u->of_n, u->of_q, u->of_q2);
    if (cq < cf && isfinite(q) && q > 0) {
        double m = u->of_q / u->of_n / q;
        return m < 0 ? 0 : m > 1 ? 1 : m;
    }
    return u->of_f / u->of_n;
}

/* The damper's minimum now (NAN: the conf's). */
static double oad_min_now(const struct svc_fdd_unit *u, double q)
{
    if (u->oad_fixed || u->mn_n < 60)
        return NAN;
    double cd = cv(u->mn_n, u->mn_d, u->mn_d2), cq = cv(u->mn_n, u->mn_q, u->mn_q2);
    if (cq < cd && isfinite(q) && q > 0) {
        double m = u->mn_q / u->mn_n / q;
        return m < 0 ? 0 : m > 0.95 ? 0.95 : m;
    }
    return u->mn_d / u->mn_n;
}

/* Runs unit u over the minutes [u->next_ms, upto). */
static void run_unit(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                     struct svc_fdd_unit *u, const struct sb_point *const *pt, int64_t upto)
{
    double *v[F_N];
    size_t n = svc_chunk(a, pt, F_N, u->next_ms, upto, v);

    if (n == 0)
        return;
    double *occ = malloc(n * sizeof(double));
    if (!occ) {
        svc_free_minutes(v, F_N);
        return;
    }
    for (size_t i = 0; i < n; i++)
        occ[i] = occupied(m, e, u->next_ms + (int64_t)i * MIN_MS + MIN_MS / 2);
    learn_oad_min(u, pt, v, occ, n);
    for (size_t i = 0; i < n; i++) {
        int64_t t = u->next_ms + (int64_t)i * MIN_MS;
        struct sb_apar_sample s;
        struct sb_apar_result r;
#define V(k) (v[k] ? v[k][i] : NAN)
        sb_apar_sample_init(&s);
        s.t = t / 1000;
        s.sat = V(F_SAT);
        s.mat = V(F_MAT);
        s.rat = V(F_RAT);
        s.oat = V(F_OAT);
        s.sat_sp = V(F_SATSP);
        s.u_hc = v[F_HC] ? svc_frac(pt[F_HC], V(F_HC)) : 0;   /* no heating coil: never heating */
        s.u_cc = v[F_CC] ? svc_frac(pt[F_CC], V(F_CC)) : 0;
        s.u_oad = svc_frac(pt[F_OAD], V(F_OAD));
        s.fan = V(F_FAN);
        s.fan_cmd = V(F_CMD);
        s.fan_speed = svc_frac(pt[F_SPEED], V(F_SPEED));
        s.dsp = V(F_DSP);
        s.dsp_sp = V(F_DSPSP);
        s.occupied = occ[i];
        s.u_oad_min = oad_min_now(u, V(F_FLOW));
        s.oaf = svc_frac(pt[F_OAF], V(F_OAF));
        s.oaf_min = oaf_min_now(u, V(F_FLOW));
        int run = isfinite(s.fan) ? s.fan >= 0.5 : isfinite(s.fan_speed) && s.fan_speed > 0.05;
        svc_runstat_add(&u->flow, t, run, svc_m3s(pt[F_FLOW], V(F_FLOW)));
        svc_runstat_add(&u->fan, t, run, V(F_FANKW));
#undef V
        if (isnan(s.fan) && isfinite(s.fan_speed) && !pt[F_DSP])
            s.fan = s.fan_speed > 0.05;   /* no status and no pressure: running when commanded */
        if (sb_apar_step(&u->apar, &s, &r) == 0 && (r.raised | r.cleared))
            report(a, m, e, u, pt, &r, t + MIN_MS);
    }
    u->next_ms += (int64_t)n * MIN_MS;
    svc_free_minutes(v, F_N);
    free(occ);
}

void svc_fdd_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    int64_t upto = now - now % MIN_MS - LAG_MS;

    for (size_t i = 0; i < m->nequipment && !a->stop; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        const struct sb_point *pt[F_N];
        if (e->type != SB_EQUIP_AHU && e->type != SB_EQUIP_RTU)
            continue;
        ahu_points(m, e, pt);
        if (unbound(pt))
            continue;
        struct svc_fdd_unit *u = unit_of(a, e->slug, now);
        if (!u)
            continue;
        if (svc_fdd_conf_stamp(a, u->equip) != u->conf_stamp)
            reconf(a, u);
        while (u->next_ms < upto && !a->stop) {   /* offline runs cover days: six hours at a time */
            int64_t before = u->next_ms;
            run_unit(a, m, e, u, pt, upto);
            if (u->next_ms == before)
                break;
        }
    }
}

const struct sb_point *svc_ahu_point(const struct sb_model *m, const struct sb_equipment *ahu, int role)
{
    const struct sb_point *pt[F_N];

    ahu_points(m, ahu, pt);
    switch (role) {
    case SVC_AHU_SAT: return pt[F_SAT];
    case SVC_AHU_FAN: return pt[F_FAN];
    case SVC_AHU_SPEED: return pt[F_SPEED];
    case SVC_AHU_CMD: return pt[F_CMD];
    case SVC_AHU_RAT: return pt[F_RAT];
    case SVC_AHU_SATSP: return pt[F_SATSP];
    }
    return NULL;
}

json_t *svc_fdd_status(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_point *pt[F_N];
    const char *why;

    ahu_points(m, e, pt);
    why = unbound(pt);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "equipment", e->slug, "building", e->building, "method",
                          "NIST APAR (28 rules) + reset, schedule and fan checks", "status",
                          why ? "not watched" : "watched");
    if (why)
        json_object_set_new(o, "message", json_string(why));
    (void)a;
    return o;
}

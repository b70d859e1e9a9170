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
 * it) is learnt from the data: the lowest position while the fan runs.
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
#define FIRST_BACK_MS (3 * SB_HOUR_MS)
#define MAX_SPAN_MIN 360

enum { F_SAT, F_MAT, F_RAT, F_OAT, F_SATSP, F_HC, F_CC, F_OAD, F_FAN, F_SPEED, F_DSP, F_DSPSP, F_N };

struct svc_fdd_unit {
    char equip[65];
    int64_t next_ms;              /* first minute not yet processed */
    int oad_learnt;               /* apar.conf.u_oad_min learnt from the data */
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

static struct svc_fdd_unit *unit_of(struct sb_analytics *a, const char *slug, int64_t now)
{
    for (size_t i = 0; i < a->nfdd; i++)
        if (strcmp(a->fdd[i].equip, slug) == 0)
            return &a->fdd[i];
    if (a->nfdd == a->capfdd) {
        size_t nc = a->capfdd ? a->capfdd * 2 : 4;
        struct svc_fdd_unit *v = realloc(a->fdd, nc * sizeof(*v));
        if (!v)
            return NULL;
        a->fdd = v;
        a->capfdd = nc;
    }
    struct svc_fdd_unit *u = &a->fdd[a->nfdd];
    struct sb_apar_conf c;
    memset(u, 0, sizeof(*u));
    snprintf(u->equip, sizeof(u->equip), "%s", slug);
    sb_apar_conf_default(&c);
    if (sb_apar_init(&u->apar, &c))
        return NULL;
    u->next_ms = now - now % MIN_MS - FIRST_BACK_MS;
    a->nfdd++;
    return u;
}

/* Canonical % (valves, dampers, speeds) -> the 0..1 APAR works in. */
static double frac(const struct sb_point *p, double v)
{
    return p && p->canon == SB_UNIT_PERCENT ? v / 100.0 : v;
}

static void report(struct sb_analytics *a, const struct sb_equipment *e, struct svc_fdd_unit *u,
                   const struct sb_apar_result *r, int64_t t_ms)
{
    for (int id = 1; id <= SB_APAR_NRULES; id++) {
        uint64_t bit = SB_APAR_BIT(id);
        if (!((r->raised | r->cleared) & bit))
            continue;
        char rule[32], text[SB_ALERT_MSG_MAX + 1] = "";
        struct sb_apar_finding f;
        double value = NAN;
        snprintf(rule, sizeof(rule), "fdd-apar-%d", id);
        if ((r->raised & bit) && sb_apar_finding(&u->apar, id, &f) == 0) {
            char body[SB_ALERT_MSG_MAX - 100];
            sb_apar_finding_format(&f, body, sizeof(body));
            snprintf(text, sizeof(text), "%.90s: %s", e->name, body);
            value = f.lhs;
        }
        int raise = (r->raised & bit) != 0;
        /* APAR proper: major; the beyond-APAR checks (reset missing, fan
         * unoccupied) are advice: minor.  Cleared by the rule itself. */
        int sev = id <= SB_APAR_NAPAR ? SB_ALERT_SEV_MAJOR : SB_ALERT_SEV_MINOR;
        int rc = sb_alerts_record(a->cfg.alerts, rule, e->building, e->slug, sev, value, text, raise,
                                  t_ms, 1);
        if (rc && rc != SB_ENOENT)
            SB_WARN(SVC_MOD, "%s %s: recording %s: %s", e->slug, rule, raise ? "a raise" : "a clear",
                    sb_strerror(rc));
    }
}

/* The damper's minimum-outdoor-air position, learnt: the lowest position it
 * takes while the fan runs (a controller never closes it below its
 * minimum while the unit runs occupied), kept as the lowest seen so far.
 * APAR's mode detection needs it (a damper at its minimum is not
 * "modulating"); a unit that closes its damper fully gets 0, NIST's
 * default.  A damper stuck above its setting is read as the minimum: the
 * rules of the modes that need it open (economizing) still see it. */
static void learn_oad_min(struct svc_fdd_unit *u, const struct sb_point *const *pt, double *const *v,
                          size_t n)
{
    double lo = INFINITY;

    for (size_t i = 0; v[F_OAD] && i < n; i++) {
        double run = v[F_FAN] ? v[F_FAN][i] : v[F_SPEED] ? frac(pt[F_SPEED], v[F_SPEED][i]) : NAN;
        double d = frac(pt[F_OAD], v[F_OAD][i]);
        if (isfinite(d) && isfinite(run) && run > 0.05 && d < lo)
            lo = d;
    }
    if (isfinite(lo) && lo < 0.95 && lo < u->apar.conf.u_oad_min + (u->oad_learnt ? 0 : 1)) {
        u->apar.conf.u_oad_min = lo;
        u->oad_learnt = 1;
    }
}

/* Runs unit u over the minutes [u->next_ms, upto). */
static void run_unit(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                     struct svc_fdd_unit *u, const struct sb_point *const *pt, int64_t upto)
{
    size_t n = (size_t)((upto - u->next_ms) / MIN_MS);
    double *v[F_N];
    int ok = 1;

    if (n == 0)
        return;
    if (n > MAX_SPAN_MIN)
        n = MAX_SPAN_MIN;
    for (int k = 0; k < F_N; k++) {
        v[k] = NULL;
        if (!pt[k])
            continue;
        if (!(v[k] = malloc(n * sizeof(double)))) {
            ok = 0;
            continue;
        }
        int state = k == F_FAN || pt[k]->kind == SB_POINT_COMMAND || pt[k]->kind == SB_POINT_STATUS;
        int rc = state ? sb_point_last(a->cfg.store, pt[k], SB_RES_1M, u->next_ms, n, v[k])
                       : sb_point_mean(a->cfg.store, pt[k], SB_RES_1M, u->next_ms, n, v[k]);
        if (rc < 0)
            ok = 0;
    }
    learn_oad_min(u, pt, v, n);
    for (size_t i = 0; ok && i < n; i++) {
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
        s.u_hc = v[F_HC] ? frac(pt[F_HC], V(F_HC)) : 0;   /* no heating coil: never heating */
        s.u_cc = v[F_CC] ? frac(pt[F_CC], V(F_CC)) : 0;
        s.u_oad = frac(pt[F_OAD], V(F_OAD));
        s.fan = V(F_FAN);
        s.fan_speed = frac(pt[F_SPEED], V(F_SPEED));
        s.dsp = V(F_DSP);
        s.dsp_sp = V(F_DSPSP);
        s.occupied = occupied(m, e, t + MIN_MS / 2);
#undef V
        if (isnan(s.fan) && isfinite(s.fan_speed))
            s.fan = s.fan_speed > 0.05;   /* no status point: running when commanded */
        if (sb_apar_step(&u->apar, &s, &r) == 0 && (r.raised | r.cleared) && a->cfg.alerts)
            report(a, e, u, &r, t + MIN_MS);
    }
    if (ok)
        u->next_ms += (int64_t)n * MIN_MS;
    for (int k = 0; k < F_N; k++)
        free(v[k]);
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
        if (u && u->next_ms < upto)
            run_unit(a, m, e, u, pt, upto);
    }
}

json_t *svc_fdd_status(struct sb_analytics *a, const struct sb_model *m, size_t ei)
{
    const struct sb_equipment *e = &m->equipment[ei];
    const struct sb_point *pt[F_N];
    const char *why;

    ahu_points(m, e, pt);
    why = unbound(pt);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "equipment", e->slug, "building", e->building, "method",
                          "NIST APAR (28 rules) + reset and schedule checks", "status", why ? "not watched" : "watched");
    if (why)
        json_object_set_new(o, "message", json_string(why));
    (void)a;
    return o;
}

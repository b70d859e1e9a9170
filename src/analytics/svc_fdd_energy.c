/*
 * svc_fdd_energy.c - energy anomalies: each meter's consumption against
 * its own forecast (svc_load.c), hour by hour and day by day, with a
 * two-sided CUSUM over the standardised residuals (fdd/cusum.h; Page 1954,
 * k = 0.5, h = 5: a shift of one standard deviation is signalled after
 * about ten samples on average, Montgomery, Introduction to Statistical
 * Quality Control, table 9.3).  docs/internals/fdd.md, "Energy anomalies".
 *
 * Hourly: the last complete hour's metered kWh against the forecast issued
 * one hour ahead (the forecast log), scaled by the forecast's own 90 %
 * interval (sd = (hi - lo) / 3.29).  Daily: at local midnight, the day's
 * total against the day-ahead values issued at the previous midnight,
 * scaled by the sum of the hourly sds (hourly errors of one day-ahead
 * forecast move together: the sum is the honest bound).  A signal raises
 * "energy-hourly" / "energy-daily" on the meter with the excess per day
 * (the run's mean residual x 24) priced by the tariff; the finding clears
 * when the CUSUM has come back to zero on that side.
 *
 * The alert rules of type "forecast" (alerts/rule.h) are evaluated here
 * too, each hour: the rule's meter's last hour outside the forecast's 90 %
 * interval (above, below or either) for `hours` hours in a row raises the
 * rule's alert; an hour back inside clears it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/service.h"
#include "analytics/meter.h"
#include "analytics/svc_int.h"
#include "core/err.h"
#include "core/log.h"
#include "fdd/energy.h"

#define Z90 3.29   /* width of a 90 % normal interval in standard deviations */

struct svc_energy {
    char meter[65];
    struct sb_eanom hour, day;      /* fdd/energy.h */
    int64_t last_day;               /* local day last judged */
};

static struct svc_energy *state_of(struct sb_analytics *a, const char *slug)
{
    for (size_t i = 0; i < a->nenergy; i++)
        if (strcmp(a->energy[i].meter, slug) == 0)
            return &a->energy[i];
    struct svc_energy *s = svc_push((void **)&a->energy, &a->nenergy, &a->capenergy, sizeof(*s), 8);
    if (!s)
        return NULL;
    snprintf(s->meter, sizeof(s->meter), "%s", slug);
    sb_eanom_init(&s->hour);
    sb_eanom_init(&s->day);
    return s;
}

static void judge(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                  const struct sb_point *p, int daily, struct sb_eanom *an, double resid, double sd, int64_t t_ms)
{
    const char *check = daily ? "energy-daily" : "energy-hourly";
    int sig = 0;
    double mean = NAN;
    uint32_t run = 0;
    int what = sb_eanom_step(an, resid, sd, &sig, &mean, &run);

    if (what & SB_EANOM_CLEAR)
        svc_find_clear(a, e, NULL, check, t_ms);
    if (!(what & SB_EANOM_RAISE))
        return;
    struct svc_find f;
    double per_day = mean * (daily ? 1 : 24);
    memset(&f, 0, sizeof(f));
    f.e = e;
    f.kind = "energy";
    snprintf(f.check, sizeof(f.check), "%s", check);
    snprintf(f.title, sizeof(f.title), "%s consumption %s its forecast for %u %s (%+.0f kWh a day)",
             daily ? "Daily" : "Hourly", sig > 0 ? "above" : "below", run, daily ? "days" : "hours", per_day);
    snprintf(f.faults, sizeof(f.faults), "%s", sig > 0 ? "equipment left on, schedule change, control fault, "
             "new load" : "equipment off or failed, meter fault, lower occupancy");
    snprintf(f.action, sizeof(f.action), "%s", sig > 0 ? "Compare the load profile with the usual week: look for "
             "equipment running out of hours, overrides and new loads" : "Check that the equipment this meter "
             "feeds runs as it should and that the meter still counts");
    f.severity = SB_ALERT_SEV_MINOR;
    f.value = per_day;
    f.evidence = json_array();
    svc_find_ev(f.evidence, "Excess energy per day", p, per_day, "kWh");
    svc_find_ev(f.evidence, "Last residual (actual - forecast)", NULL, resid, "kWh");
    svc_find_ev(f.evidence, "Forecast standard deviation", NULL, sd, "kWh");
    svc_find_chart(&f, p);
    f.elec_kwh_day = sig > 0 ? per_day : NAN;
    f.heat_kwh_day = NAN;
    snprintf(f.basis, sizeof(f.basis), sig > 0 ? "Mean excess over the forecast during the anomaly, per day."
                                               : "Consumption below the forecast: no waste to price.");
    svc_find_raise(a, m, &f, t_ms - (int64_t)run * (daily ? 24 : 1) * SB_HOUR_MS, t_ms);
    json_decref(f.evidence);
}

/* One meter at the start of hour (the hour before it is complete). */
static void meter_hour(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                       int64_t hour)
{
    const struct sb_point *p = sb_meter_point(m, e);
    const struct sb_building *b = &m->buildings[e->building_ix];
    struct svc_energy *s = state_of(a, e->slug);
    struct sb_fc_row *rows = NULL;
    size_t n = 0;
    double act[24];

    if (!p || !s)
        return;
    /* hourly: the hour just ended against its one-hour-ahead forecast */
    if (sb_meter_energy(a->cfg.store, p, SB_RES_1H, hour - SB_HOUR_MS, 1, act) == 1 &&
        sb_appdb_fc_get(a->cfg.db, e->slug, hour - SB_HOUR_MS, hour, 1, 4, &rows, &n) == 0 && n > 0 &&
        isfinite(rows[0].yhat) && rows[0].hi > rows[0].lo)
        judge(a, m, e, p, 0, &s->hour, act[0] - rows[0].yhat, (rows[0].hi - rows[0].lo) / Z90, hour);
    free(rows);
    rows = NULL;
    /* daily: at local midnight, yesterday against its day-ahead values */
    int64_t day = sb_local_day(b->tz, hour);
    if (day == sb_local_day(b->tz, hour - SB_HOUR_MS) || day == s->last_day)
        return;
    s->last_day = day;
    int64_t d0 = hour - 24 * SB_HOUR_MS;
    if (sb_meter_energy(a->cfg.store, p, SB_RES_1H, d0, 24, act) != 24 ||
        sb_appdb_fc_get(a->cfg.db, e->slug, d0, hour, 0, 24 * 8, &rows, &n) != 0) {
        free(rows);
        return;
    }
    double ya = 0, yf = 0, sd = 0;
    int got = 0;
    for (size_t i = 0; i < n; i++)   /* the day-ahead issue: made at the day's own midnight */
        if (rows[i].issued_ms == d0 && rows[i].hi > rows[i].lo) {
            yf += rows[i].yhat;
            sd += (rows[i].hi - rows[i].lo) / Z90;
            got++;
        }
    for (size_t i = 0; i < 24; i++)
        ya += act[i];
    free(rows);
    if (got == 24 && isfinite(yf) && sd > 0)
        judge(a, m, e, p, 1, &s->day, ya - yf, sd, hour);
}

struct svc_fcrule {
    char id[SB_SLUG_MAX];
    struct sb_fcrun r;              /* fdd/energy.h */
};

static struct svc_fcrule *fcrule_of(struct sb_analytics *a, const char *id)
{
    for (size_t i = 0; i < a->nfcr; i++)
        if (strcmp(a->fcr[i].id, id) == 0)
            return &a->fcr[i];
    struct svc_fcrule *r = svc_push((void **)&a->fcr, &a->nfcr, &a->capfcr, sizeof(*r), 8);
    if (r)
        snprintf(r->id, sizeof(r->id), "%s", id);
    return r;
}

/* One forecast rule on the hour that just ended. */
static void fc_rule(struct sb_analytics *a, const struct sb_model *m, const struct sb_arule *r, int64_t hour)
{
    const struct sb_point *p = sb_model_point(m, r->target);
    const struct sb_equipment *e = p && p->equipment_ix >= 0 ? &m->equipment[p->equipment_ix] : NULL;
    const struct sb_point *mp = e ? sb_meter_point(m, e) : NULL;
    struct svc_fcrule *st = fcrule_of(a, r->id);
    struct sb_fc_row *rows = NULL;
    size_t n = 0;
    double act;

    if (!mp || !st || sb_meter_energy(a->cfg.store, mp, SB_RES_1H, hour - SB_HOUR_MS, 1, &act) != 1 ||
        sb_appdb_fc_get(a->cfg.db, e->slug, hour - SB_HOUR_MS, hour, 1, 4, &rows, &n) != 0 || n == 0 ||
        !(rows[0].hi >= rows[0].lo)) {
        free(rows);
        return;                     /* an hour that cannot be judged leaves the run as it is */
    }
    double lo = rows[0].lo, hi = rows[0].hi;
    free(rows);
    enum sb_fcrun_dir dir = r->direction == SB_ARD_ABOVE ? SB_FCRUN_ABOVE
                          : r->direction == SB_ARD_BELOW ? SB_FCRUN_BELOW : SB_FCRUN_BOTH;
    int side, what = sb_fcrun_step(&st->r, r->hours, dir, act, lo, hi, &side);
    if (what == SB_EANOM_RAISE) {
        char text[SB_ARULE_TEXT_MAX];
        snprintf(text, sizeof(text), "%.120s: %.60s used %.1f kWh in the last hour, %s its forecast's 90 %% "
                 "interval (%.1f-%.1f kWh) for %d hours in a row", r->name, e->name, act,
                 side > 0 ? "above" : "below", lo, hi, st->r.run);
        if (sb_alerts_record(a->cfg.alerts, r->id, e->building, r->id, (int)r->severity, act, text, 1, hour,
                             r->auto_resolve))
            st->r.active = 0;   /* not recorded: try again next hour */
    } else if (what == SB_EANOM_CLEAR) {
        sb_alerts_record(a->cfg.alerts, r->id, e->building, r->id, (int)r->severity, act, "", 0, hour,
                         r->auto_resolve);
    }
}

void svc_energy_hour(struct sb_analytics *a, const struct sb_model *m, int64_t hour)
{
    struct sb_arule *rules = NULL;
    size_t nr = 0;

    if (!a->cfg.db)
        return;
    if (a->cfg.alerts && sb_alerts_rules_of_type(a->cfg.alerts, SB_ART_FORECAST, &rules, &nr) == 0) {
        for (size_t i = 0; i < nr && !a->stop; i++)
            fc_rule(a, m, &rules[i], hour);
        free(rules);
    }
    for (size_t i = 0; i < m->nequipment && !a->stop; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        if (e->type == SB_EQUIP_METER && e->building_ix >= 0)
            meter_hour(a, m, e, hour);
    }
}

void svc_energy_free(struct sb_analytics *a)
{
    free(a->energy);
    free(a->fcr);
    a->energy = NULL;
    a->fcr = NULL;
    a->nenergy = a->nfcr = a->capenergy = a->capfcr = 0;
}

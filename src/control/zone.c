/*
 * zone.c - the supervisory sources of one zone (see zone.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control/zone.h"

#define MARGIN_H 0.25      /* optimal start: be there a quarter of an hour early */

double sb_zsup_lead(double temp, const struct sb_band *band, double heat_rate, double cool_rate,
                    double max_h)
{
    double gap, rate;

    if (!isfinite(temp))
        return NAN;
    if (temp < band->heating) {
        gap = band->heating - temp;
        rate = heat_rate;
    } else if (temp > band->cooling) {
        gap = temp - band->cooling;
        rate = cool_rate;
    } else {
        return 0.0;
    }
    if (!(rate > 0) || !isfinite(rate))
        return NAN;
    return fmin(max_h, gap / rate + MARGIN_H);
}

static void cmd(struct sb_zsup_cmd *c, const struct sb_band *b, int64_t until)
{
    c->active = 1;
    c->band = *b;
    c->until_ms = until;
}

static void schedule(const struct sb_zsup_in *in, struct sb_zsup_out *out)
{
    const struct sb_csched_state *n = &in->now, *o = &in->next_occ;

    /* Optimal start: inside the lead before the next occupied period, the
     * occupied band now.  The lead is judged afresh every tick, so a zone
     * that recovers faster than expected simply starts later tomorrow. */
    if (n->mode != SB_CMODE_OCCUPIED && o->mode == SB_CMODE_OCCUPIED && isfinite(in->lead_h) &&
        in->lead_h > 0 && o->since_ms > in->now_ms &&
        (double)(o->since_ms - in->now_ms) <= in->lead_h * 3600000.0) {
        cmd(&out->schedule, &o->band, o->since_ms);
        snprintf(out->schedule.reason, sizeof(out->schedule.reason), "optimal start: %.1f h lead",
                 in->lead_h);
        out->mode = SB_CMODE_OCCUPIED;
        out->sched_optimal = 1;
        return;
    }
    /* Optimal stop: the end of an occupied period is near and the zone's
     * learnt drift keeps it inside the band until then: the next period's
     * band now, so the HVAC stops early. */
    if (n->mode == SB_CMODE_OCCUPIED && in->stop_at_ms > 0 && in->now_ms >= in->stop_at_ms &&
        in->now_ms < n->next_ms && in->after.mode != SB_CMODE_OCCUPIED) {
        cmd(&out->schedule, &in->after.band, n->next_ms);
        snprintf(out->schedule.reason, sizeof(out->schedule.reason),
                 "optimal stop: %.0f min before %s", (double)(n->next_ms - in->now_ms) / 60000.0,
                 sb_cmode_name(in->after.mode));
        out->mode = n->mode;            /* still occupied: setback and overrides as usual */
        out->sched_optimal = 1;
        return;
    }
    cmd(&out->schedule, &n->band, n->next_ms);
    snprintf(out->schedule.reason, sizeof(out->schedule.reason), "%s by the schedule%s",
             sb_cmode_name(n->mode), n->kind == SB_CDAY_HOLIDAY ? " (holiday)"
                                     : n->kind == SB_CDAY_EXCEPTION ? " (exception day)" : "");
    out->mode = n->mode;
}

void sb_zsup_eval(const struct sb_zsup_in *in, struct sb_zsup_out *out)
{
    memset(out, 0, sizeof(*out));
    schedule(in, out);
    if (in->now.mode == SB_CMODE_OCCUPIED && in->occ_known && !in->occupied && in->vacancy_delay_ms > 0 &&
        in->now_ms - in->vacant_since_ms >= in->vacancy_delay_ms) {
        cmd(&out->setback, &in->standby, in->now.next_ms);
        snprintf(out->setback.reason, sizeof(out->setback.reason), "vacant for %.0f min",
                 (double)(in->now_ms - in->vacant_since_ms) / 60000.0);
        out->mode = SB_CMODE_STANDBY;
    }
    if (in->override_until_ms > in->now_ms) {
        cmd(&out->tenant, &in->occ_band, in->override_until_ms);
        snprintf(out->tenant.reason, sizeof(out->tenant.reason), "after-hours override, %.1f h left",
                 (double)(in->override_until_ms - in->now_ms) / 3600000.0);
        out->mode = SB_CMODE_OCCUPIED;
    }
}

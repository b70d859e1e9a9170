/*
 * demand.c - the demand limiter (see demand.h).
 */
#include <math.h>
#include <string.h>

#include "control/demand.h"

#define H_MS 3600000.0

void sb_dlim_cfg_default(struct sb_dlim_cfg *c, double limit_kw)
{
    *c = (struct sb_dlim_cfg){ .limit_kw = limit_kw, .interval_ms = 15 * 60000LL,
                               .raise_every_ms = 5 * 60000LL, .release_frac = 0.1,
                               .release_after_ms = 15 * 60000LL, .stale_ms = 2 * 60000LL };
}

void sb_dlim_init(struct sb_dlim *d)
{
    memset(d, 0, sizeof(*d));
    d->last_kw = NAN;
    d->projected_kw = NAN;
}

double sb_dlim_offset_k(int level)
{
    /* Guideline 36's levels: 1, 2 and 4 degF */
    static const double k[SB_DLIM_LEVELS + 1] = { 0.0, 5.0 / 9.0, 10.0 / 9.0, 20.0 / 9.0 };
    return level <= 0 ? 0.0 : k[level > SB_DLIM_LEVELS ? SB_DLIM_LEVELS : level];
}

/* Adds the energy since the last sample (the last power held: a meter's
 * reading stands until the next) to now's interval; a new interval starts
 * empty.  Time with no known power (a gap, a start mid-interval) is not
 * covered, and the projection averages over what is. */
static void accumulate(struct sb_dlim *d, const struct sb_dlim_cfg *c, int64_t now, double kw)
{
    int64_t ivl = now - now % c->interval_ms;

    if (ivl != d->ivl_ms) {
        d->kwh = 0;
        d->covered_ms = 0;
        d->ivl_ms = ivl;
    }
    if (d->last_ms && isfinite(d->last_kw) && now - d->last_ms <= c->stale_ms) {
        int64_t from = d->last_ms > ivl ? d->last_ms : ivl;
        if (now > from) {
            d->kwh += d->last_kw * (double)(now - from) / H_MS;
            d->covered_ms += now - from;
        }
    }
    d->last_ms = now;
    d->last_kw = kw;
}

int sb_dlim_update(struct sb_dlim *d, const struct sb_dlim_cfg *c, int64_t now_ms, double kw)
{
    accumulate(d, c, now_ms, kw);
    if (!isfinite(kw) || !(c->limit_kw > 0)) {
        d->projected_kw = NAN;
        d->below_since_ms = 0;
        return d->level;
    }
    double rest_h = (double)(d->ivl_ms + c->interval_ms - now_ms) / H_MS;
    d->projected_kw = (d->kwh + kw * rest_h) / ((double)d->covered_ms / H_MS + rest_h);
    if (d->projected_kw > c->limit_kw) {
        d->below_since_ms = 0;
        if (d->level < SB_DLIM_LEVELS && (!d->raised_ms || now_ms - d->raised_ms >= c->raise_every_ms)) {
            d->level++;
            d->raised_ms = now_ms;
        }
    } else if (d->projected_kw < c->limit_kw * (1.0 - c->release_frac)) {
        if (!d->below_since_ms)
            d->below_since_ms = now_ms;
        if (d->level > 0 && now_ms - d->below_since_ms >= c->release_after_ms) {
            d->level--;
            d->below_since_ms = now_ms;     /* the next level waits as long again */
        }
    } else {
        d->below_since_ms = 0;              /* between the lines: hold */
    }
    return d->level;
}

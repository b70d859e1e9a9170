/* energy.c - energy against its forecast (energy.h). */
#include <math.h>

#include "fdd/energy.h"

void sb_eanom_init(struct sb_eanom *e)
{
    sb_cusum_init(&e->c, 0.5, 5);
    e->c.cap = 20;
    e->on = 0;
    e->sum = 0;
    e->n = 0;
}

int sb_eanom_step(struct sb_eanom *e, double resid, double sd, int *side, double *mean, uint32_t *run)
{
    int out = 0, sig;

    if (!isfinite(resid) || !isfinite(sd) || sd <= 0)
        return 0;
    sig = sb_cusum_step(&e->c, resid / sd);
    if (e->c.np == 0 && e->c.nn == 0) {   /* back in control on both sides */
        e->sum = 0;
        e->n = 0;
    } else {
        e->sum += resid;
        e->n++;
    }
    if (e->on && ((e->on > 0 && e->c.sp == 0) || (e->on < 0 && e->c.sn == 0))) {
        e->on = 0;
        out |= SB_EANOM_CLEAR;
    }
    if (sig && e->on != sig && e->n > 0) {
        e->on = sig;
        *side = sig;
        *mean = e->sum / e->n;
        *run = sig > 0 ? e->c.np : e->c.nn;
        out |= SB_EANOM_RAISE;
    }
    return out;
}

int sb_fcrun_step(struct sb_fcrun *r, int need, enum sb_fcrun_dir dir, double actual, double lo, double hi,
                  int *above)
{
    int hi_out = actual > hi, lo_out = actual < lo;
    int out = (dir & SB_FCRUN_ABOVE && hi_out) || (dir & SB_FCRUN_BELOW && lo_out);

    *above = hi_out ? 1 : lo_out ? -1 : 0;
    r->run = out ? r->run + 1 : 0;
    if (out && !r->active && r->run >= need) {
        r->active = 1;
        return SB_EANOM_RAISE;
    }
    if (!out && r->active) {
        r->active = 0;
        return SB_EANOM_CLEAR;
    }
    return 0;
}

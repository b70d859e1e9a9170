/*
 * apar_text.c - names and one-line messages for APAR findings, for alert
 * text and reports.  Pure: writes only into the caller's buffer.
 */
#include "fdd/apar_int.h"
#include "fdd/param.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static const char *const fault_names[SB_APAR_NFAULTS] = {
    "SAT sensor", "MAT sensor", "RAT sensor", "OAT sensor",
    "heating valve leaking", "heating valve stuck", "heating capacity",
    "cooling valve leaking", "cooling valve stuck", "cooling capacity",
    "OA damper stuck", "OA damper leaking", "economizer/sequence logic",
    "control loop hunting", "setpoint", "missing reset sequence", "schedule/override", "supply fan failure",
};

const char *sb_apar_fault_name(uint32_t bit)
{
    return sb_fdd_bit_name(fault_names, SB_APAR_NFAULTS, bit);
}

int sb_apar_faults_format(uint32_t mask, char *buf, size_t len)
{
    return sb_fdd_bits_format(fault_names, SB_APAR_NFAULTS, mask, buf, len);
}

const char *sb_apar_mode_name(int mode)
{
    static const char *const names[] = {
        "off", "heating", "cooling with outdoor air", "mechanical cooling, 100% OA",
        "mechanical cooling, minimum OA", "unknown", "mode not available",
    };

    return mode >= 0 && mode <= SB_APAR_MODE_NA ? names[mode] : "?";
}

/* The setpoint the rules used (single, or split by mode). */
static double sp_of(const struct sb_apar_sample *e, int mode)
{
    if (isfinite(e->sat_sp))
        return e->sat_sp;
    return mode == SB_APAR_MODE_HEAT ? e->sat_sp_heat : e->sat_sp_cool;
}

int sb_apar_finding_format(const struct sb_apar_finding *f, char *buf, size_t len)
{
    const struct sb_apar_sample *e = &f->ev;
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    sb_fdd_put(buf, len, &off, "%s %d (%s): %s", f->info->beyond ? "beyond-APAR rule" : "APAR rule",
        f->rule, sb_apar_mode_name(f->mode), f->info->meaning);
    if (isfinite(f->lhs) && isfinite(f->rhs))
        sb_fdd_put(buf, len, &off, " [%s: %.2f vs %.2f]", f->info->expr, f->lhs, f->rhs);
    else
        sb_fdd_put(buf, len, &off, " [%s]", f->info->expr);
    sb_fdd_put(buf, len, &off, "; true since t=%" PRId64 ", fired t=%" PRId64, f->since, f->fired_at);
    sb_fdd_put(buf, len, &off, "; Tsa %.1f Tma %.1f Tra %.1f Toa %.1f Tsa,s %.1f C, u_hc %.2f u_cc %.2f u_d %.2f",
        e->sat, e->mat, e->rat, e->oat, sp_of(e, f->mode), e->u_hc, e->u_cc, e->u_oad);
    sb_fdd_put(buf, len, &off, "; suspect: ");
    {
        size_t at = (size_t)off;
        int n = sb_apar_faults_format(f->faults, at < len ? buf + at : NULL, at < len ? len - at : 0);

        off += n;
    }
    sb_fdd_put(buf, len, &off, "; action: %s", f->info->action);
    return off;
}

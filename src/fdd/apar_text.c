/*
 * apar_text.c - names and one-line messages for APAR findings, for alert
 * text and reports.  Pure: writes only into the caller's buffer.
 */
#include "fdd/apar_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
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
    for (int i = 0; i < SB_APAR_NFAULTS; i++)
        if (bit == (1u << i))
            return fault_names[i];
    return "?";
}

/* snprintf into buf at *off, keeping *off the length needed so far. */
static void put(char *buf, size_t len, int *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t len, int *off, const char *fmt, ...)
{
    va_list ap;
    size_t at = (size_t)*off;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(at < len ? buf + at : NULL, at < len ? len - at : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *off += n;
}

int sb_apar_faults_format(uint32_t mask, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    for (int i = 0; i < SB_APAR_NFAULTS; i++)
        if (mask & (1u << i))
            put(buf, len, &off, "%s%s", off ? ", " : "", fault_names[i]);
    return off;
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
    put(buf, len, &off, "%s %d (%s): %s", f->info->beyond ? "beyond-APAR rule" : "APAR rule",
        f->rule, sb_apar_mode_name(f->mode), f->info->meaning);
    if (isfinite(f->lhs) && isfinite(f->rhs))
        put(buf, len, &off, " [%s: %.2f vs %.2f]", f->info->expr, f->lhs, f->rhs);
    else
        put(buf, len, &off, " [%s]", f->info->expr);
    put(buf, len, &off, "; true since t=%" PRId64 ", fired t=%" PRId64, f->since, f->fired_at);
    put(buf, len, &off, "; Tsa %.1f Tma %.1f Tra %.1f Toa %.1f Tsa,s %.1f C, u_hc %.2f u_cc %.2f u_d %.2f",
        e->sat, e->mat, e->rat, e->oat, sp_of(e, f->mode), e->u_hc, e->u_cc, e->u_oad);
    put(buf, len, &off, "; suspect: ");
    {
        size_t at = (size_t)off;
        int n = sb_apar_faults_format(f->faults, at < len ? buf + at : NULL, at < len ? len - at : 0);

        off += n;
    }
    put(buf, len, &off, "; action: %s", f->info->action);
    return off;
}

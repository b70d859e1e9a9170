/*
 * vav_text.c - names and one-line messages for VAV-box findings, for alert
 * text and reports.  Pure: writes only into the caller's buffer.
 */
#include "fdd/vav.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static const char *const fault_names[SB_VAV_NFAULTS] = {
    "airflow sensor", "damper stuck", "damper actuator/linkage", "low duct static/undersized box",
    "reheat valve leaking", "reheat valve stuck/no hot water", "temperature sensor",
    "capacity/setpoint", "control loop hunting", "control sequence",
};

const char *sb_vav_fault_name(uint32_t bit)
{
    for (int i = 0; i < SB_VAV_NFAULTS; i++)
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

int sb_vav_faults_format(uint32_t mask, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    for (int i = 0; i < SB_VAV_NFAULTS; i++)
        if (mask & (1u << i))
            put(buf, len, &off, "%s%s", off ? ", " : "", fault_names[i]);
    return off;
}

int sb_vav_finding_format(const struct sb_vav_finding *f, char *buf, size_t len)
{
    const struct sb_vav_sample *e = &f->ev;
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    put(buf, len, &off, "VAV rule %d (%s): %s", f->rule, f->info->name, f->info->meaning);
    if (isfinite(f->lhs) && isfinite(f->rhs))
        put(buf, len, &off, " [%s: %.3g vs %.3g]", f->info->expr, f->lhs, f->rhs);
    else
        put(buf, len, &off, " [%s]", f->info->expr);
    put(buf, len, &off, "; true since t=%" PRId64 ", fired t=%" PRId64, f->since, f->fired_at);
    put(buf, len, &off, "; Q %.3f Qsp %.3f m3/s, damper %.2f, reheat %.2f, DAT %.1f SAT %.1f "
        "zone %.1f (htg %.1f clg %.1f) C", e->flow, e->flow_sp, e->damper, e->reheat, e->dat, e->sat,
        e->zat, e->htg_sp, e->clg_sp);
    put(buf, len, &off, "; suspect: ");
    {
        size_t at = (size_t)off;

        off += sb_vav_faults_format(f->faults, at < len ? buf + at : NULL, at < len ? len - at : 0);
    }
    put(buf, len, &off, "; action: %s", f->info->action);
    return off;
}

/*
 * vav_text.c - names and one-line messages for VAV-box findings, for alert
 * text and reports.  Pure: writes only into the caller's buffer.
 */
#include "fdd/vav.h"
#include "fdd/param.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static const char *const fault_names[SB_VAV_NFAULTS] = {
    "airflow sensor", "damper stuck", "damper actuator/linkage", "low duct static/undersized box",
    "reheat valve leaking", "reheat valve stuck/no hot water", "temperature sensor",
    "capacity/setpoint", "control loop hunting", "control sequence",
};

const char *sb_vav_fault_name(uint32_t bit)
{
    return sb_fdd_bit_name(fault_names, SB_VAV_NFAULTS, bit);
}

int sb_vav_faults_format(uint32_t mask, char *buf, size_t len)
{
    return sb_fdd_bits_format(fault_names, SB_VAV_NFAULTS, mask, buf, len);
}

int sb_vav_finding_format(const struct sb_vav_finding *f, char *buf, size_t len)
{
    const struct sb_vav_sample *e = &f->ev;
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    sb_fdd_put(buf, len, &off, "VAV rule %d (%s): %s", f->rule, f->info->name, f->info->meaning);
    if (isfinite(f->lhs) && isfinite(f->rhs))
        sb_fdd_put(buf, len, &off, " [%s: %.3g vs %.3g]", f->info->expr, f->lhs, f->rhs);
    else
        sb_fdd_put(buf, len, &off, " [%s]", f->info->expr);
    sb_fdd_put(buf, len, &off, "; true since t=%" PRId64 ", fired t=%" PRId64, f->since, f->fired_at);
    sb_fdd_put(buf, len, &off, "; Q %.3f Qsp %.3f m3/s, damper %.2f, reheat %.2f, DAT %.1f SAT %.1f "
        "zone %.1f (htg %.1f clg %.1f) C", e->flow, e->flow_sp, e->damper, e->reheat, e->dat, e->sat,
        e->zat, e->htg_sp, e->clg_sp);
    sb_fdd_put(buf, len, &off, "; suspect: ");
    {
        size_t at = (size_t)off;

        off += sb_vav_faults_format(f->faults, at < len ? buf + at : NULL, at < len ? len - at : 0);
    }
    sb_fdd_put(buf, len, &off, "; action: %s", f->info->action);
    return off;
}

/* param.c - name -> field lookup for detectors' configurations (param.h). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/err.h"
#include "fdd/param.h"

int sb_fdd_param_set(const struct sb_fdd_param *tab, size_t n, void *conf, const char *name, double v,
                     char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_fdd_param *p = &tab[i];
        if (strcmp(p->name, name) != 0)
            continue;
        if (!isfinite(v) || v < p->lo || v > p->hi || (p->is_int && v != floor(v))) {
            sb_errf(err, errlen, "%s: must be %s between %g and %g%s%s", name, p->is_int ? "a whole number" : "a number",
                    p->lo, p->hi, p->unit[0] ? " " : "", p->unit);
            return SB_ERANGE;
        }
        if (p->is_int)
            *(int32_t *)((char *)conf + p->off) = (int32_t)v;
        else
            *(double *)((char *)conf + p->off) = v;
        return 0;
    }
    sb_errf(err, errlen, "%s: no such parameter", name);
    return SB_ENOENT;
}

double sb_fdd_param_get(const struct sb_fdd_param *p, const void *conf)
{
    return p->is_int ? (double)*(const int32_t *)((const char *)conf + p->off)
                     : *(const double *)((const char *)conf + p->off);
}

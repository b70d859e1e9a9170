/* param.c - what the detectors share (param.h): name -> field lookup for
 * their configurations, and the text of their findings. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

void sb_fdd_put(char *buf, size_t len, int *off, const char *fmt, ...)
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

const char *sb_fdd_bit_name(const char *const *names, int n, uint32_t bit)
{
    for (int i = 0; i < n; i++)
        if (bit == (UINT32_C(1) << i))
            return names[i];
    return "?";
}

int sb_fdd_bits_format(const char *const *names, int n, uint32_t mask, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    for (int i = 0; i < n; i++)
        if (mask & (UINT32_C(1) << i))
            sb_fdd_put(buf, len, &off, "%s%s", off ? ", " : "", names[i]);
    return off;
}

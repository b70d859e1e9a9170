/*
 * param.h - a detector's configurable number, described for the API and
 * per-unit overrides (name -> field of the detector's conf struct).
 * Tables of these are static and const; nothing to own or free.
 *
 * Each FDD module that takes per-unit overrides (fdd/vav.h, ...) exports
 * its table through sb_<module>_conf_params() and applies one override
 * with sb_<module>_conf_set(), which checks lo..hi and is_int and names
 * the field in its error message.  Strings are static.
 */
#ifndef SB_FDD_PARAM_H
#define SB_FDD_PARAM_H

#include <stddef.h>
#include <stdint.h>

struct sb_fdd_param {
    const char *name;   /* key in JSON overrides and the API ("eps_t") */
    const char *unit;   /* SI unit ("K", "m3/s", "s") or "1" for fractions and counts */
    const char *doc;    /* one line: what the number does */
    double lo, hi;      /* allowed range, inclusive */
    size_t off;         /* offsetof() the field in the module's conf struct */
    int is_int;         /* 1: the field is an int32_t (value must be whole); 0: a double */
};

/* The lookup every module's setter uses (fdd/param.c): sets the field name
 * of conf to v.  Returns 0, SB_ENOENT (no such name) or SB_ERANGE (v not
 * finite, not whole for an int, or outside lo..hi), with "name: must be
 * ... between lo and hi" in err[errlen] (may be NULL). */
int sb_fdd_param_set(const struct sb_fdd_param *tab, size_t n, void *conf, const char *name, double v,
                     char *err, size_t errlen);
/* The current value of parameter p in conf. */
double sb_fdd_param_get(const struct sb_fdd_param *p, const void *conf);

/* ---- text shared by the detectors' findings ------------------------------ */

/* snprintf into buf[len] at *off, *off growing by the length needed (so the
 * final *off is what snprintf of the whole would return). */
void sb_fdd_put(char *buf, size_t len, int *off, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* names[i] for the single bit 1 << i of n, or "?". */
const char *sb_fdd_bit_name(const char *const *names, int n, uint32_t bit);
/* The names of the bits of mask, comma-separated, into buf[len] (snprintf
 * semantics: returns the length needed). */
int sb_fdd_bits_format(const char *const *names, int n, uint32_t mask, char *buf, size_t len);

#endif /* SB_FDD_PARAM_H */

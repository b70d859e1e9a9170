/* rconf.c - driver configuration readers (see rconf.h). */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "drivers/rest/rconf.h"

int sb_rest__conf_keys(const json_t *obj, const char *const *allowed, const char *where,
                       char *err, size_t errlen)
{
    const char *k;
    json_t *v;

    if (!json_is_object(obj)) {
        sb_errf(err, errlen, "%s: must be an object", where);
        return SB_ECONFIG;
    }
    json_object_foreach((json_t *)obj, k, v) {
        size_t i;
        for (i = 0; allowed[i] && strcmp(k, allowed[i]) != 0; i++)
            ;
        if (!allowed[i]) {
            sb_errf(err, errlen, "%s: unknown member \"%.40s\"", where, k);
            return SB_ECONFIG;
        }
    }
    return 0;
}

int sb_rest__conf_num(const json_t *obj, const char *key, double min, double max, double def,
                      double *out, const char *where, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    *out = def;
    if (!v)
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
        json_number_value(v) < min || json_number_value(v) > max) {
        sb_errf(err, errlen, "%s.%s: a number in %g..%g", where, key, min, max);
        return SB_ECONFIG;
    }
    *out = json_number_value(v);
    return 0;
}

int sb_rest__conf_str(const json_t *obj, const char *key, size_t maxlen, int required,
                      const char **out, const char *where, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    const char *s;

    *out = NULL;
    if (!v && !required)
        return 0;
    s = json_string_value(v);
    if (!s || json_string_length(v) == 0 || json_string_length(v) > maxlen ||
        strlen(s) != json_string_length(v))
        goto bad;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            goto bad;
    *out = s;
    return 0;
bad:
    sb_errf(err, errlen, "%s.%s: %sa string of 1..%zu printable bytes", where, key,
            v ? "" : "missing; ", maxlen);
    return SB_ECONFIG;
}

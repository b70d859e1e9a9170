/* jpath.c - dotted JSON paths over jansson documents (see jpath.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/jpath.h"

/* One step of a path: a member name or an element index. */
struct seg {
    const char *key;    /* member name (not NUL-terminated) */
    size_t klen;        /* its length; 0 with is_index */
    size_t index;       /* element index when is_index */
    int is_index;       /* "[n]" */
    int digits;         /* key is all digits (may index an array too) */
};

static int parse_index(const char **pp, size_t *out)
{
    const char *p = *pp + 1;        /* after '[' */
    size_t v = 0, n = 0;

    while (*p >= '0' && *p <= '9') {
        if (v > 100000000)          /* no API sends arrays this long */
            return SB_EINVAL;
        v = v * 10 + (size_t)(*p++ - '0');
        n++;
    }
    if (n == 0 || *p != ']')
        return SB_EINVAL;
    *out = v;
    *pp = p + 1;
    return 0;
}

/* Reads the next segment at *pp; returns 1 with *s filled, 0 at the end,
 * SB_EINVAL on a syntax error with *why (static) saying which. */
static int next_seg(const char **pp, int first, struct seg *s, const char **why)
{
    const char *p = *pp;

    memset(s, 0, sizeof(*s));
    if (*p == '\0')
        return 0;
    if (*p == '[') {
        s->is_index = 1;
        if (parse_index(&p, &s->index) != 0) {
            *why = "an index in [] must be digits";
            return SB_EINVAL;
        }
        *pp = p;
        return 1;
    }
    if (!first) {
        if (*p != '.') {
            *why = "expected '.' or '[' after ']'";
            return SB_EINVAL;
        }
        p++;
        if (*p == '[') {
            *why = "'[' right after '.'";       /* "a.[0]" */
            return SB_EINVAL;
        }
    }
    s->key = p;
    s->digits = 1;
    while (*p && *p != '.' && *p != '[') {
        if (*p == ']') {
            *why = "']' without '['";
            return SB_EINVAL;
        }
        if (*p < '0' || *p > '9')
            s->digits = 0;
        p++;
    }
    s->klen = (size_t)(p - s->key);
    if (s->klen == 0) {
        *why = "empty segment";                 /* "a..b", ".a", "a." */
        return SB_EINVAL;
    }
    *pp = p;
    return 1;
}

int sb_jpath_check(const char *path, char *err, size_t errlen)
{
    const char *p = path, *why = "malformed";
    struct seg s;
    int rc, n = 0;

    if (!path) {
        sb_errf(err, errlen, "path missing");
        return SB_EINVAL;
    }
    if (strlen(path) > SB_JPATH_MAX) {
        sb_errf(err, errlen, "path longer than %d bytes", SB_JPATH_MAX);
        return SB_EINVAL;
    }
    while ((rc = next_seg(&p, n == 0, &s, &why)) == 1) {
        if (++n > SB_JPATH_DEPTH) {
            sb_errf(err, errlen, "path deeper than %d segments", SB_JPATH_DEPTH);
            return SB_EINVAL;
        }
    }
    if (rc < 0) {
        sb_errf(err, errlen, "\"%.64s\": %s at byte %zu", path, why, (size_t)(p - path));
        return SB_EINVAL;
    }
    return 0;
}

static const json_t *step(const json_t *cur, const struct seg *s)
{
    if (s->is_index)
        return json_is_array(cur) ? json_array_get(cur, s->index) : NULL;
    if (json_is_object(cur))
        return json_object_getn(cur, s->key, s->klen);
    if (json_is_array(cur) && s->digits && s->klen < 10)
        return json_array_get(cur, strtoul(s->key, NULL, 10));
    return NULL;
}

int sb_jpath_get(const json_t *doc, const char *path, const json_t **out,
                 char *err, size_t errlen)
{
    const json_t *cur = doc;
    const char *p = path, *why = "malformed";
    struct seg s;
    int rc, n = 0;

    /* One pass (this runs for every message of a bound topic): a syntax
     * error anywhere is reported as sb_jpath_check would, even past a
     * missing member. */
    if (!path || strlen(path) > SB_JPATH_MAX)
        return sb_jpath_check(path, err, errlen);
    while ((rc = next_seg(&p, p == path, &s, &why)) == 1) {
        if (++n > SB_JPATH_DEPTH || !cur)
            continue;                   /* finish the syntax check */
        const json_t *nx = step(cur, &s);
        if (!nx)
            sb_errf(err, errlen, "no \"%.*s\" in the response",
                    (int)(p - path > 120 ? 120 : p - path), path);
        cur = nx;
    }
    if (rc < 0 || n > SB_JPATH_DEPTH)
        return sb_jpath_check(path, err, errlen);   /* its message */
    if (!cur)
        return SB_ENOENT;
    *out = cur;
    return 0;
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY:  return "an array";
    case JSON_STRING: return "a string";
    default:          return "a value";
    }
}

static int number_from_string(const json_t *v, double *out)
{
    const char *s = json_string_value(v);
    char *end;
    double d;

    if (!s || *s == '\0' || json_string_length(v) > 64)
        return SB_EPROTO;
    /* strtod accepts "inf", "nan" and hex floats; a sensor value never is one. */
    for (const char *c = s; *c; c++)
        if (!strchr("0123456789+-.eE", *c))
            return SB_EPROTO;
    errno = 0;
    d = strtod(s, &end);
    if (*end != '\0' || errno != 0 || !isfinite(d))
        return SB_EPROTO;
    *out = d;
    return 0;
}

int sb_jpath_number(const json_t *v, double *out, char *err, size_t errlen)
{
    if (!v || json_is_null(v)) {
        sb_errf(err, errlen, "value is null");
        return SB_ENOENT;
    }
    if (json_is_number(v)) {
        double d = json_number_value(v);
        if (!isfinite(d)) {
            sb_errf(err, errlen, "value is not finite");
            return SB_EPROTO;
        }
        *out = d;
        return 0;
    }
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1.0 : 0.0;
        return 0;
    }
    if (json_is_string(v) && number_from_string(v, out) == 0)
        return 0;
    if (json_is_string(v))
        sb_errf(err, errlen, "value \"%.40s\" is not a number", json_string_value(v));
    else
        sb_errf(err, errlen, "value is %s, not a number", type_name(v));
    return SB_EPROTO;
}

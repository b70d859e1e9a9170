/*
 * rule.c - alert rules: the JSON form (parse, validate, canonical output)
 * and the per-rule state machine (feed, tick).  Contract: rule.h; the
 * evaluation rules in words: docs/internals/alerts-rules.md.
 */
#include "alerts/rule.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/sample.h"

/* Readings and ticks outside +/- 2^61 ms (73 million years) are ignored, so
 * that every difference and bucket bound below fits in int64 without
 * overflow checks. */
#define T_LIMIT (INT64_C(1) << 61)

/* Quality flags that make a reading's value unusable for threshold, rate and
 * comfort (the value is not a fresh measurement; the stale rule reports it). */
#define Q_UNUSABLE (SB_Q_STALE | SB_Q_FAULT)

#define MS_PER_H 3600000.0

/* ------------------------------------------------------------------------ */
/* names                                                                    */

static const char *const type_names[] = {
    [SB_ART_THRESHOLD] = "threshold", [SB_ART_RATE] = "rate", [SB_ART_STALE] = "stale",
    [SB_ART_OFFLINE] = "offline", [SB_ART_COMFORT] = "comfort", [SB_ART_SCHEDULE] = "schedule",
    [SB_ART_FORECAST] = "forecast",
};

static const char *const sev_names[] = {
    [SB_ARS_CRITICAL] = "critical", [SB_ARS_MAJOR] = "major", [SB_ARS_MINOR] = "minor",
    [SB_ARS_INFO] = "info",
};

static const char *const dir_names[] = {
    [SB_ARD_ABOVE] = "above", [SB_ARD_BELOW] = "below", [SB_ARD_BOTH] = "both",
};

const char *sb_arule_type_name(enum sb_arule_type t)
{
    return (t >= SB_ART_THRESHOLD && t <= SB_ART_FORECAST) ? type_names[t] : "?";
}

const char *sb_arule_dir_name(enum sb_arule_dir d)
{
    return (d >= SB_ARD_ABOVE && d <= SB_ARD_BOTH) ? dir_names[d] : "?";
}

const char *sb_arule_sev_name(enum sb_arule_sev s)
{
    return (s >= SB_ARS_CRITICAL && s <= SB_ARS_INFO) ? sev_names[s] : "?";
}

/* Index of name in a NULL-gapped table of n entries, or 0. */
static int lookup(const char *const *tab, int n, const char *name)
{
    for (int i = 1; i < n; i++)
        if (tab[i] && strcmp(tab[i], name) == 0)
            return i;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the field table                                                          */

#define TB(t) (1u << (t))
#define T_THR TB(SB_ART_THRESHOLD)
#define T_RAT TB(SB_ART_RATE)
#define T_STL TB(SB_ART_STALE)
#define T_OFF TB(SB_ART_OFFLINE)
#define T_CMF TB(SB_ART_COMFORT)
#define T_SCH TB(SB_ART_SCHEDULE)
#define T_FC  TB(SB_ART_FORECAST)
#define T_ALL (T_THR | T_RAT | T_STL | T_OFF | T_CMF | T_SCH | T_FC)
#define T_PNT (T_THR | T_RAT | T_STL | T_SCH | T_FC)   /* types whose target is a point */

enum fkind { F_TYPE, F_SLUG, F_TEXT, F_SEV, F_BOOL, F_NUM, F_SECS, F_INT, F_DIR };

enum {
    FL_NULL   = 1,  /* null (and "" for strings) means "not set" */
    FL_POS    = 2,  /* number must be > 0 */
    FL_NONNEG = 4   /* number must be >= 0 */
};

#define NO_HAS ((size_t)-1)

/* One JSON field: where it goes, which types take it, what is allowed. */
struct field {
    const char *name;   /* JSON key */
    enum fkind kind;    /* how it is parsed */
    unsigned types;     /* TB() of the types that take it */
    unsigned required;  /* TB() of the types that require it */
    unsigned flags;     /* FL_* */
    size_t off;         /* offset of the value in struct sb_arule */
    size_t has_off;     /* offset of its bool has_* (FL_NULL numbers), else NO_HAS */
    size_t cap;         /* F_SLUG / F_TEXT: size of the char array */
    int32_t lo, hi;     /* F_TEXT: characters; F_SECS: seconds; F_INT: the value */
};

#define OFF(f) offsetof(struct sb_arule, f)
#define CAP(f) sizeof(((struct sb_arule *)0)->f)
#define STR(n, k, ty, rq, fl, f, lo, hi) { n, k, ty, rq, fl, OFF(f), NO_HAS, CAP(f), lo, hi }
#define NUM(n, ty, rq, fl, f, has) { n, F_NUM, ty, rq, fl, OFF(f), has, 0, 0, 0 }
#define SECS(n, ty, rq, f, lo) { n, F_SECS, ty, rq, 0, OFF(f), NO_HAS, 0, lo, SB_ARULE_MAX_S }
#define INT(n, ty, f, lo, hi) { n, F_INT, ty, 0, 0, OFF(f), NO_HAS, 0, lo, hi }
#define OTHER(n, k, ty, rq, f) { n, k, ty, rq, 0, OFF(f), NO_HAS, 0, 0, 0 }

/* Checked in this order, so the first error reported is deterministic. */
static const struct field fields[] = {
    OTHER("type", F_TYPE, T_ALL, T_ALL, type),
    STR("id", F_SLUG, T_ALL, T_ALL, 0, id, 0, 0),
    STR("name", F_TEXT, T_ALL, T_ALL, 0, name, 1, SB_ARULE_NAME_CHARS),
    OTHER("severity", F_SEV, T_ALL, T_ALL, severity),
    STR("point", F_SLUG, T_PNT, T_PNT, 0, target, 0, 0),
    STR("equipment", F_SLUG, T_OFF, T_OFF, 0, target, 0, 0),
    STR("zone", F_SLUG, T_CMF, T_CMF, 0, target, 0, 0),
    NUM("above", T_THR, 0, FL_NULL, above, OFF(has_above)),
    NUM("below", T_THR, 0, FL_NULL, below, OFF(has_below)),
    NUM("hysteresis", T_THR, 0, FL_NONNEG, hysteresis, NO_HAS),
    NUM("max_rise", T_RAT, 0, FL_NULL | FL_POS, max_rise, OFF(has_rise)),
    NUM("max_fall", T_RAT, 0, FL_NULL | FL_POS, max_fall, OFF(has_fall)),
    SECS("per_s", T_RAT, T_RAT, per_s, 1),
    SECS("after_s", T_STL, T_STL, after_s, 1),
    SECS("window_s", T_CMF, 0, window_s, 1),
    NUM("kh_limit", T_CMF, 0, FL_POS, kh_limit, NO_HAS),
    NUM("running_above", T_SCH, 0, 0, running_above, NO_HAS),
    INT("hours", T_FC, hours, 1, SB_ARULE_FC_HOURS_MAX),
    OTHER("direction", F_DIR, T_FC, 0, direction),
    SECS("on_delay_s", T_THR | T_RAT | T_OFF | T_SCH, 0, on_delay_s, 0),
    SECS("off_delay_s", T_THR | T_RAT | T_OFF | T_SCH, 0, off_delay_s, 0),
    OTHER("enabled", F_BOOL, T_ALL, 0, enabled),
    OTHER("auto_resolve", F_BOOL, T_ALL, 0, auto_resolve),
    STR("building", F_SLUG, T_ALL, 0, FL_NULL, building, 0, 0),
    STR("template", F_SLUG, T_ALL, 0, FL_NULL, template_id, 0, 0),
    STR("message", F_TEXT, T_ALL, 0, FL_NULL, message, 0, SB_ARULE_MSG_CHARS),
};

#define NFIELDS (sizeof fields / sizeof fields[0])

static const struct field *field_find(const char *key, size_t klen)
{
    for (size_t i = 0; i < NFIELDS; i++)
        if (strlen(fields[i].name) == klen && memcmp(fields[i].name, key, klen) == 0)
            return &fields[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* parsing                                                                  */

/* A key from outside, made safe to quote in a message: printable ASCII,
 * at most 40 bytes, anything else as '?'. */
static void key_safe(const char *key, size_t klen, char out[48])
{
    size_t n = klen < 40 ? klen : 40, i;

    for (i = 0; i < n; i++)
        out[i] = (key[i] >= 0x20 && key[i] < 0x7f) ? key[i] : '?';
    strcpy(out + i, klen > 40 ? "..." : "");
}

/* Every key must be known and apply to the type. */
static int check_keys(json_t *root, enum sb_arule_type type, char *err, size_t errlen)
{
    for (void *it = json_object_iter(root); it; it = json_object_iter_next(root, it)) {
        const char *key = json_object_iter_key(it);
        size_t klen = json_object_iter_key_len(it);
        const struct field *f = field_find(key, klen);
        char safe[48];

        key_safe(key, klen, safe);
        if (!f) {
            sb_errf(err, errlen, "%s: unknown field", safe);
            return SB_EINVAL;
        }
        if (!(f->types & TB(type))) {
            sb_errf(err, errlen, "%s: does not apply to a rule of type %s", safe,
                    sb_arule_type_name(type));
            return SB_EINVAL;
        }
    }
    return 0;
}

static int parse_type(json_t *root, struct sb_arule *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(root, "type");
    int t;

    if (!v) {
        sb_errf(err, errlen, "type: required");
        return SB_EINVAL;
    }
    t = json_is_string(v) ? lookup(type_names, SB_ART_FORECAST + 1, json_string_value(v)) : 0;
    if (!t) {
        sb_errf(err, errlen, "type: must be one of threshold, rate, stale, offline, comfort, "
                "schedule, forecast");
        return SB_EINVAL;
    }
    out->type = (enum sb_arule_type)t;
    return 0;
}

/* Characters (UTF-8 code points) of s; jansson hands over valid UTF-8. */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 1;
    return 0;
}

static int parse_str(const struct field *f, json_t *v, struct sb_arule *out, char *err,
                     size_t errlen)
{
    char *dst = (char *)out + f->off;
    const char *s;
    size_t n;

    if ((f->flags & FL_NULL) && json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        sb_errf(err, errlen, "%s: must be a string%s", f->name, f->flags & FL_NULL ? " or null" : "");
        return SB_EINVAL;
    }
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 && (f->flags & FL_NULL))
        return 0;
    if (f->kind == F_SLUG && (n != strlen(s) || !sb_slug_valid(s))) {
        sb_errf(err, errlen, "%s: not a valid slug ([a-z0-9] then [a-z0-9_.-], at most %d bytes)",
                f->name, SB_SLUG_MAX - 1);
        return SB_EINVAL;
    }
    if (f->kind == F_TEXT) {
        size_t c = utf8_chars(s, n);

        if (c < (size_t)f->lo || c > (size_t)f->hi) {
            sb_errf(err, errlen, "%s: must be %d..%d characters (got %zu)", f->name, f->lo,
                    f->hi, c);
            return SB_EINVAL;
        }
        if (has_ctl(s, n)) {
            sb_errf(err, errlen, "%s: must not contain control characters", f->name);
            return SB_EINVAL;
        }
    }
    if (n >= f->cap) {      /* cannot happen after the checks above; belt and braces */
        sb_errf(err, errlen, "%s: too long", f->name);
        return SB_EINVAL;
    }
    memcpy(dst, s, n + 1);
    return 0;
}

static int parse_num(const struct field *f, json_t *v, struct sb_arule *out, char *err,
                     size_t errlen)
{
    double x;

    if ((f->flags & FL_NULL) && json_is_null(v))
        return 0;
    if (!json_is_number(v)) {
        sb_errf(err, errlen, "%s: must be a number%s", f->name, f->flags & FL_NULL ? " or null" : "");
        return SB_EINVAL;
    }
    x = json_number_value(v);
    if (!isfinite(x)) {
        sb_errf(err, errlen, "%s: must be finite", f->name);
        return SB_EINVAL;
    }
    if (((f->flags & FL_POS) && !(x > 0)) || ((f->flags & FL_NONNEG) && !(x >= 0))) {
        sb_errf(err, errlen, "%s: must be %s 0 (got %g)", f->name,
                f->flags & FL_POS ? ">" : ">=", x);
        return SB_EINVAL;
    }
    if (f->has_off != NO_HAS)
        *(bool *)((char *)out + f->has_off) = true;
    *(double *)((char *)out + f->off) = x;
    return 0;
}

static int parse_secs(const struct field *f, json_t *v, struct sb_arule *out, char *err,
                      size_t errlen)
{
    json_int_t x;

    if (!json_is_integer(v)) {
        sb_errf(err, errlen, "%s: must be an integer number of seconds", f->name);
        return SB_EINVAL;
    }
    x = json_integer_value(v);
    if (x < f->lo || x > f->hi) {
        sb_errf(err, errlen, "%s: must be %d..%d s (7 days) (got %" JSON_INTEGER_FORMAT ")",
                f->name, f->lo, f->hi, x);
        return SB_EINVAL;
    }
    *(int32_t *)((char *)out + f->off) = (int32_t)x;
    return 0;
}

static int parse_int(const struct field *f, json_t *v, struct sb_arule *out, char *err,
                     size_t errlen)
{
    json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;

    if (!json_is_integer(v) || x < f->lo || x > f->hi) {
        sb_errf(err, errlen, "%s: must be an integer %d..%d", f->name, f->lo, f->hi);
        return SB_EINVAL;
    }
    *(int32_t *)((char *)out + f->off) = (int32_t)x;
    return 0;
}

static int parse_field(const struct field *f, json_t *v, struct sb_arule *out, char *err,
                       size_t errlen)
{
    int s;

    switch (f->kind) {
    case F_TYPE:
        return 0;       /* done first, by parse_type */
    case F_SLUG:
    case F_TEXT:
        return parse_str(f, v, out, err, errlen);
    case F_NUM:
        return parse_num(f, v, out, err, errlen);
    case F_SECS:
        return parse_secs(f, v, out, err, errlen);
    case F_INT:
        return parse_int(f, v, out, err, errlen);
    case F_DIR:
        s = json_is_string(v) ? lookup(dir_names, SB_ARD_BOTH + 1, json_string_value(v)) : 0;
        if (!s) {
            sb_errf(err, errlen, "%s: must be one of above, below, both", f->name);
            return SB_EINVAL;
        }
        out->direction = (enum sb_arule_dir)s;
        return 0;
    case F_BOOL:
        if (!json_is_boolean(v)) {
            sb_errf(err, errlen, "%s: must be true or false", f->name);
            return SB_EINVAL;
        }
        *(bool *)((char *)out + f->off) = json_is_true(v);
        return 0;
    case F_SEV:
        s = json_is_string(v) ? lookup(sev_names, SB_ARS_INFO + 1, json_string_value(v)) : 0;
        if (!s) {
            sb_errf(err, errlen, "%s: must be one of critical, major, minor, info", f->name);
            return SB_EINVAL;
        }
        out->severity = (enum sb_arule_sev)s;
        return 0;
    }
    return SB_EINVAL;
}

static void set_defaults(struct sb_arule *r)
{
    r->enabled = true;
    /* Issue 10's lifecycle: auto-resolve by default where the condition going
     * away means the problem is gone; a rate spike, a comfort budget spent or
     * hours of energy off the forecast are worth a human look even after they
     * clear. */
    r->auto_resolve = r->type == SB_ART_THRESHOLD || r->type == SB_ART_STALE ||
                      r->type == SB_ART_OFFLINE || r->type == SB_ART_SCHEDULE;
    if (r->type == SB_ART_COMFORT) {
        r->window_s = 86400;
        r->kh_limit = 2.0;
    }
    /* 0.5 splits a binary status (0 off, 1 on); a power or flow point wants
     * its own standby level. */
    if (r->type == SB_ART_SCHEDULE)
        r->running_above = 0.5;
    if (r->type == SB_ART_FORECAST) {
        r->hours = 2;
        r->direction = SB_ARD_ABOVE;
    }
}

/* What one field at a time cannot see. */
static int check_cross(const struct sb_arule *r, char *err, size_t errlen)
{
    if (r->type == SB_ART_THRESHOLD) {
        if (!r->has_above && !r->has_below) {
            sb_errf(err, errlen, "above: a threshold rule needs above, below or both");
            return SB_EINVAL;
        }
        if (r->has_above && r->has_below && !(r->above > r->below)) {
            sb_errf(err, errlen, "above: must be greater than below (%g <= %g)", r->above,
                    r->below);
            return SB_EINVAL;
        }
        /* The clear band [below + h, above - h] must not be empty, or an
         * active alert could never clear. */
        if (r->has_above && r->has_below &&
            r->above - r->hysteresis < r->below + r->hysteresis) {
            sb_errf(err, errlen, "hysteresis: %g leaves no clear band between below + "
                    "hysteresis and above - hysteresis", r->hysteresis);
            return SB_EINVAL;
        }
    }
    if (r->type == SB_ART_RATE && !r->has_rise && !r->has_fall) {
        sb_errf(err, errlen, "max_rise: a rate rule needs max_rise, max_fall or both");
        return SB_EINVAL;
    }
    return 0;
}

static int parse_root(json_t *root, struct sb_arule *out, char *err, size_t errlen)
{
    int rc;

    if (!json_is_object(root)) {
        sb_errf(err, errlen, "rule: must be a JSON object");
        return SB_EINVAL;
    }
    if ((rc = parse_type(root, out, err, errlen)) != 0 ||
        (rc = check_keys(root, out->type, err, errlen)) != 0)
        return rc;
    set_defaults(out);
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field *f = &fields[i];
        json_t *v;

        if (!(f->types & TB(out->type)))
            continue;
        v = json_object_get(root, f->name);
        if (!v && (f->required & TB(out->type))) {
            sb_errf(err, errlen, "%s: required for a rule of type %s", f->name,
                    sb_arule_type_name(out->type));
            return SB_EINVAL;
        }
        if (v && (rc = parse_field(f, v, out, err, errlen)) != 0)
            return rc;
    }
    return check_cross(out, err, errlen);
}

int sb_arule_parse(const char *json, size_t len, struct sb_arule *out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = NULL;
    int rc;

    if (!out)
        return SB_EINVAL;
    memset(out, 0, sizeof *out);
    if (!json || len > SB_ARULE_JSON_MAX) {
        sb_errf(err, errlen, "rule: %s", json ? "document longer than 65536 bytes" : "no document");
        rc = SB_EINVAL;
        goto out;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = json_error_code(&je) == json_error_out_of_memory ? SB_ENOMEM : SB_EINVAL;
        sb_errf(err, errlen, "rule: invalid JSON at line %d column %d: %s", je.line, je.column,
                je.text);
        goto out;
    }
    rc = parse_root(root, out, err, errlen);
out:
    json_decref(root);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* canonical JSON                                                           */

/* A counting writer: the first pass (p == NULL) measures, the second fills. */
struct wb {
    char  *p;
    size_t n;
};

static void put(struct wb *w, const char *s, size_t n)
{
    if (w->p)
        memcpy(w->p + w->n, s, n);
    w->n += n;
}

static void puts_(struct wb *w, const char *s)
{
    put(w, s, strlen(s));
}

/* RFC 8259 section 7: quote, reverse solidus and control characters escaped. */
static void put_str(struct wb *w, const char *s)
{
    put(w, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char e[8];

        if (c == '"' || c == '\\') {
            e[0] = '\\';
            e[1] = (char)c;
            put(w, e, 2);
        } else if (c < 0x20) {
            snprintf(e, sizeof e, "\\u%04x", c);
            put(w, e, 6);
        } else {
            put(w, (const char *)&c, 1);
        }
    }
    put(w, "\"", 1);
}

/* Shortest %g that reads back as the same double, always with a '.' or an
 * exponent so it stays a JSON real. */
static void put_num(struct wb *w, double v)
{
    char b[40];

    for (int p = 1; p <= 17; p++) {
        snprintf(b, sizeof b, "%.*g", p, v);
        if (strtod(b, NULL) == v)
            break;
    }
    if (!strpbrk(b, ".e"))
        strcat(b, ".0");
    puts_(w, b);
}

static void key(struct wb *w, const char *k)
{
    put(w, w->n > 1 ? ",\"" : "\"", w->n > 1 ? 2 : 1);
    puts_(w, k);
    put(w, "\":", 2);
}

static void kv_str(struct wb *w, const char *k, const char *v)
{
    key(w, k);
    if (*v)
        put_str(w, v);
    else
        puts_(w, "null");
}

static void kv_num(struct wb *w, const char *k, bool has, double v)
{
    key(w, k);
    if (has)
        put_num(w, v);
    else
        puts_(w, "null");
}

static void kv_int(struct wb *w, const char *k, int32_t v)
{
    char b[16];

    key(w, k);
    snprintf(b, sizeof b, "%" PRId32, v);
    puts_(w, b);
}

static void kv_bool(struct wb *w, const char *k, bool v)
{
    key(w, k);
    puts_(w, v ? "true" : "false");
}

static void write_type_fields(struct wb *w, const struct sb_arule *r)
{
    switch (r->type) {
    case SB_ART_THRESHOLD:
        kv_num(w, "above", r->has_above, r->above);
        kv_num(w, "below", r->has_below, r->below);
        kv_num(w, "hysteresis", true, r->hysteresis);
        break;
    case SB_ART_RATE:
        kv_num(w, "max_rise", r->has_rise, r->max_rise);
        kv_num(w, "max_fall", r->has_fall, r->max_fall);
        kv_int(w, "per_s", r->per_s);
        break;
    case SB_ART_STALE:
        kv_int(w, "after_s", r->after_s);
        break;
    case SB_ART_COMFORT:
        kv_int(w, "window_s", r->window_s);
        kv_num(w, "kh_limit", true, r->kh_limit);
        break;
    case SB_ART_SCHEDULE:
        kv_num(w, "running_above", true, r->running_above);
        break;
    case SB_ART_FORECAST:
        kv_int(w, "hours", r->hours);
        kv_str(w, "direction", sb_arule_dir_name(r->direction));
        break;
    case SB_ART_OFFLINE:
        break;
    }
    if (r->type == SB_ART_THRESHOLD || r->type == SB_ART_RATE || r->type == SB_ART_OFFLINE ||
        r->type == SB_ART_SCHEDULE) {
        kv_int(w, "on_delay_s", r->on_delay_s);
        kv_int(w, "off_delay_s", r->off_delay_s);
    }
}

static const char *target_key(enum sb_arule_type t)
{
    return t == SB_ART_OFFLINE ? "equipment" : t == SB_ART_COMFORT ? "zone" : "point";
}

static void write_rule(struct wb *w, const struct sb_arule *r)
{
    put(w, "{", 1);
    kv_str(w, "id", r->id);
    kv_str(w, "name", r->name);
    kv_str(w, "type", sb_arule_type_name(r->type));
    kv_str(w, target_key(r->type), r->target);
    kv_str(w, "severity", sb_arule_sev_name(r->severity));
    write_type_fields(w, r);
    kv_bool(w, "enabled", r->enabled);
    kv_bool(w, "auto_resolve", r->auto_resolve);
    kv_str(w, "building", r->building);
    kv_str(w, "template", r->template_id);
    kv_str(w, "message", r->message);
    put(w, "}", 1);
}

char *sb_arule_to_json(const struct sb_arule *r)
{
    struct wb w = { NULL, 0 };

    if (!r)
        return NULL;
    write_rule(&w, r);
    w.p = malloc(w.n + 1);
    if (!w.p)
        return NULL;
    w.n = 0;
    write_rule(&w, r);
    w.p[w.n] = '\0';
    return w.p;
}

int sb_arule_equal(const struct sb_arule *a, const struct sb_arule *b)
{
    return strcmp(a->id, b->id) == 0 && strcmp(a->name, b->name) == 0 && a->type == b->type &&
           a->severity == b->severity && a->enabled == b->enabled &&
           a->auto_resolve == b->auto_resolve && strcmp(a->target, b->target) == 0 &&
           strcmp(a->building, b->building) == 0 &&
           strcmp(a->template_id, b->template_id) == 0 && strcmp(a->message, b->message) == 0 &&
           a->has_above == b->has_above && a->has_below == b->has_below &&
           a->above == b->above && a->below == b->below && a->hysteresis == b->hysteresis &&
           a->has_rise == b->has_rise && a->has_fall == b->has_fall &&
           a->max_rise == b->max_rise && a->max_fall == b->max_fall && a->per_s == b->per_s &&
           a->on_delay_s == b->on_delay_s && a->off_delay_s == b->off_delay_s &&
           a->after_s == b->after_s && a->window_s == b->window_s && a->kh_limit == b->kh_limit &&
           a->running_above == b->running_above && a->hours == b->hours &&
           a->direction == b->direction;
}

/* ------------------------------------------------------------------------ */
/* evaluation: time arithmetic and windows                                  */

enum cond { C_INSIDE, C_BETWEEN, C_BEYOND };

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int slot_of(int64_t idx)
{
    int64_t m = idx % SB_ARULE_RING;

    return (int)(m < 0 ? m + SB_ARULE_RING : m);
}

/* Rate buckets: the window [now - per, now] touches at most per/w + 2
 * buckets, which must fit in the ring. */
static int64_t rate_width(const struct sb_arule *r)
{
    int64_t per = (int64_t)r->per_s * 1000;

    return (per + SB_ARULE_RING - 3) / (SB_ARULE_RING - 2);
}

/* Comfort buckets: only buckets that start inside [now - window, now] count,
 * at most window/w + 1 of them. */
static int64_t comfort_width(const struct sb_arule *r)
{
    int64_t win = (int64_t)r->window_s * 1000;

    return (win + SB_ARULE_RING - 2) / (SB_ARULE_RING - 1);
}

static void rate_insert(const struct sb_arule *r, struct sb_arule_state *s, int64_t t, double v)
{
    int64_t w = rate_width(r), idx = floor_div(t, w);
    struct sb_arule_mm *b = &s->u.rate[slot_of(idx)];

    if (b->t_hi == INT64_MIN || floor_div(b->t_hi, w) != idx) {
        *b = (struct sb_arule_mm){ .t_lo = t, .t_hi = t, .lo = v, .hi = v };
        return;
    }
    /* ties keep the later time: it stays inside the window longer */
    if (v <= b->lo) {
        b->lo = v;
        b->t_lo = t;
    }
    if (v >= b->hi) {
        b->hi = v;
        b->t_hi = t;
    }
}

/* Signed change of the held value against the extremes inside [now - per,
 * now]: rise = held - lowest, fall = highest - held. */
static enum cond cond_rate(const struct sb_arule *r, struct sb_arule_state *s, int64_t now)
{
    int64_t start = now - (int64_t)r->per_s * 1000;
    double lo, hi, rise, fall;

    if (!s->has_v) {
        s->chg = 0;
        return C_INSIDE;
    }
    lo = hi = s->last_v;
    for (int i = 0; i < SB_ARULE_RING; i++) {
        const struct sb_arule_mm *b = &s->u.rate[i];

        if (b->t_hi == INT64_MIN)
            continue;
        if (b->t_lo >= start && b->lo < lo)
            lo = b->lo;
        if (b->t_hi >= start && b->hi > hi)
            hi = b->hi;
    }
    rise = s->last_v - lo;
    fall = hi - s->last_v;
    s->chg = rise >= fall ? rise : -fall;
    if (r->has_rise && rise > r->max_rise) {
        s->chg = rise;
        return C_BEYOND;
    }
    if (r->has_fall && fall > r->max_fall) {
        s->chg = -fall;
        return C_BEYOND;
    }
    return C_INSIDE;
}

/* Adds ex kelvin over [a, b) to the comfort buckets, in K·ms.  Only the
 * newest SB_ARULE_RING buckets can matter, so older time is skipped. */
static void comfort_add(const struct sb_arule *r, struct sb_arule_state *s, int64_t a, int64_t b,
                        double ex)
{
    int64_t w = comfort_width(r), i_end = floor_div(b - 1, w), i = floor_div(a, w);

    if (i_end - i >= SB_ARULE_RING) {
        i = i_end - SB_ARULE_RING + 1;
        a = i * w;
    }
    for (; i <= i_end; i++) {
        int64_t lo = a > i * w ? a : i * w, hi = b < (i + 1) * w ? b : (i + 1) * w;
        int k = slot_of(i);

        if (s->u.comfort.idx[k] != i) {
            s->u.comfort.idx[k] = i;
            s->u.comfort.kms[k] = 0;
        }
        s->u.comfort.kms[k] += ex * (double)(hi - lo);
    }
}

/* Integrates the held value under the held context from the last point up
 * to now (step-hold, at most SB_ARULE_HOLD_MS after the reading). */
static void comfort_integrate(const struct sb_arule *r, struct sb_arule_state *s, int64_t now)
{
    struct sb_arule_comfort *c = &s->u.comfort;
    int64_t a = c->acc_t, b;
    double ex;

    if (!c->has_acc || now < a) {
        c->acc_t = now;
        c->has_acc = true;
        return;
    }
    c->acc_t = now;
    if (!s->has_v || !c->occ || !(c->heat <= c->cool))
        return;
    ex = fmax(0, s->last_v - c->cool) + fmax(0, c->heat - s->last_v);
    b = now < s->last_vt + SB_ARULE_HOLD_MS ? now : s->last_vt + SB_ARULE_HOLD_MS;
    if (ex > 0 && b > a)
        comfort_add(r, s, a, b, ex);
}

static void comfort_hold_ctx(struct sb_arule_state *s, const struct sb_arule_ctx *ctx)
{
    s->u.comfort.occ = ctx && ctx->occupied;
    s->u.comfort.heat = ctx ? ctx->band_heat : NAN;
    s->u.comfort.cool = ctx ? ctx->band_cool : NAN;
}

/* Reached when the K·h of the buckets starting inside [now - window, now]
 * reach kh_limit (compared in K·ms, where whole kelvins over whole
 * milliseconds add up exactly). */
static enum cond cond_comfort(const struct sb_arule *r, struct sb_arule_state *s, int64_t now)
{
    int64_t w = comfort_width(r), win = (int64_t)r->window_s * 1000;
    int64_t first = -floor_div(-(now - win), w), cur = floor_div(now, w);
    double kms = 0;

    for (int i = 0; i < SB_ARULE_RING; i++) {
        int64_t idx = s->u.comfort.idx[i];

        if (idx != INT64_MIN && idx >= first && idx <= cur)
            kms += s->u.comfort.kms[i];
    }
    s->kh = kms / MS_PER_H;
    return kms >= r->kh_limit * MS_PER_H ? C_BEYOND : C_INSIDE;
}

static enum cond cond_threshold(const struct sb_arule *r, struct sb_arule_state *s)
{
    double v = s->last_v;

    if (!s->has_v)
        return C_INSIDE;
    if ((r->has_above && v > r->above) || (r->has_below && v < r->below)) {
        s->side = (r->has_above && v > r->above) ? 1 : -1;
        return C_BEYOND;
    }
    if ((!r->has_above || v <= r->above - r->hysteresis) &&
        (!r->has_below || v >= r->below + r->hysteresis))
        return C_INSIDE;
    return C_BETWEEN;   /* back inside the limit, not yet by the margin */
}

static int64_t stale_ref(const struct sb_arule_state *s)
{
    return s->has_good ? s->last_good_t : s->origin;
}

static enum cond cond_of(const struct sb_arule *r, struct sb_arule_state *s, int64_t now)
{
    switch (r->type) {
    case SB_ART_THRESHOLD:
        return cond_threshold(r, s);
    case SB_ART_RATE:
        return cond_rate(r, s, now);
    case SB_ART_STALE:
        return (s->flagged || now - stale_ref(s) >= (int64_t)r->after_s * 1000) ? C_BEYOND
                                                                                 : C_INSIDE;
    case SB_ART_OFFLINE:
        return s->offline ? C_BEYOND : C_INSIDE;
    case SB_ART_COMFORT:
        return cond_comfort(r, s, now);
    case SB_ART_SCHEDULE:
        /* running (strictly above, as threshold) while nothing it serves is
         * occupied; without any occupancy yet it counts as occupied: no
         * alarm on what is not known */
        return (s->has_v && s->last_v > r->running_above && s->has_occ && !s->occ) ? C_BEYOND
                                                                                  : C_INSIDE;
    case SB_ART_FORECAST:
        break;
    }
    return C_INSIDE;
}

/* ------------------------------------------------------------------------ */
/* the state machine                                                        */

/* A pending phase whose delay has run out at now becomes ACTIVE / NORMAL. */
static int mature(const struct sb_arule *r, struct sb_arule_state *s, int64_t now,
                  int64_t *since)
{
    if (s->phase == SB_ARP_PENDING_ON && now - s->since >= (int64_t)r->on_delay_s * 1000) {
        *since = s->since;
        s->phase = SB_ARP_ACTIVE;
        s->since = now;
        return SB_AR_RAISE;
    }
    if (s->phase == SB_ARP_PENDING_OFF && now - s->since >= (int64_t)r->off_delay_s * 1000) {
        *since = s->since;
        s->phase = SB_ARP_NORMAL;
        s->since = now;
        return SB_AR_CLEAR;
    }
    return SB_AR_NONE;
}

/* First the delays of the condition that held up to now (the previous
 * reading holds until this one), then the new condition; at most one event. */
static int advance(const struct sb_arule *r, struct sb_arule_state *s, enum cond c, int64_t now,
                   int64_t *since)
{
    int k = mature(r, s, now, since);
    enum sb_arule_phase p = s->phase;

    if ((p == SB_ARP_NORMAL && c == C_BEYOND) || (p == SB_ARP_ACTIVE && c == C_INSIDE)) {
        s->phase = p == SB_ARP_NORMAL ? SB_ARP_PENDING_ON : SB_ARP_PENDING_OFF;
        s->since = now;
    } else if ((p == SB_ARP_PENDING_ON && c != C_BEYOND) ||
               (p == SB_ARP_PENDING_OFF && c != C_INSIDE)) {
        s->phase = p == SB_ARP_PENDING_ON ? SB_ARP_NORMAL : SB_ARP_ACTIVE;
        s->since = now;
    }
    if (k == SB_AR_NONE)
        k = mature(r, s, now, since);
    return k;
}

/* ------------------------------------------------------------------------ */
/* event text                                                               */

/* A bounded text writer that never cuts a UTF-8 sequence. */
struct tw {
    char  *p;
    size_t cap, n;
    bool   full;
};

static void tw_put(struct tw *t, const char *s)
{
    size_t n = strlen(s);

    if (t->full)
        return;
    if (t->n + n >= t->cap) {
        n = t->cap - 1 - t->n;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        t->full = true;
    }
    memcpy(t->p + t->n, s, n);
    t->n += n;
    t->p[t->n] = '\0';
}

static void tw_fmt(struct tw *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tw_fmt(struct tw *t, const char *fmt, ...)
{
    char b[SB_ARULE_TEXT_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    tw_put(t, b);
}

/* Numbers for people: one decimal in the usual range, 3 significant digits
 * for the tiny and the huge. */
static const char *fmt_num(double v, char b[32])
{
    double a = fabs(v);

    snprintf(b, 32, (a >= 1e6 || (a > 0 && a < 0.1)) ? "%.3g" : "%.1f", v);
    return b;
}

static const char *fmt_dur(int64_t ms, char b[32])
{
    int64_t s = ms / 1000;

    if (s < 60)
        snprintf(b, 32, "%" PRId64 " s", s);
    else if (s < 3600 && s % 60)
        snprintf(b, 32, "%" PRId64 " min %" PRId64 " s", s / 60, s % 60);
    else if (s < 3600)
        snprintf(b, 32, "%" PRId64 " min", s / 60);
    else if (s < 86400 && s % 3600 / 60)
        snprintf(b, 32, "%" PRId64 " h %" PRId64 " min", s / 3600, s % 3600 / 60);
    else if (s < 86400)
        snprintf(b, 32, "%" PRId64 " h", s / 3600);
    else if (s % 86400 / 3600)
        snprintf(b, 32, "%" PRId64 " d %" PRId64 " h", s / 86400, s % 86400 / 3600);
    else
        snprintf(b, 32, "%" PRId64 " d", s / 86400);
    return b;
}

/* The rule's message with {value}, {above}, {below}, {point} substituted;
 * any other brace is copied as is. */
static void expand(struct tw *t, const struct sb_arule *r, double value)
{
    static const char *const keys[] = { "{value}", "{above}", "{below}", "{point}" };
    const char *m = r->message;
    char b[32], one[2] = { 0, 0 };

    while (*m) {
        int k = -1;

        for (int i = 0; *m == '{' && i < 4; i++)
            if (strncmp(m, keys[i], 7) == 0)
                k = i;
        if (k < 0) {
            one[0] = *m++;
            tw_put(t, one);
            continue;
        }
        m += 7;
        if (k == 0)
            tw_put(t, fmt_num(value, b));
        else if (k == 1)
            tw_put(t, r->has_above ? fmt_num(r->above, b) : "-");
        else if (k == 2)
            tw_put(t, r->has_below ? fmt_num(r->below, b) : "-");
        else
            tw_put(t, r->target);
    }
}

static void text_raise(struct tw *t, const struct sb_arule *r, const struct sb_arule_state *s,
                       const struct sb_arule_event *ev)
{
    int64_t dur = ev->t - ev->since;
    char a[32], b[32], c[32];
    bool up;

    tw_fmt(t, "%s: ", r->name);
    switch (r->type) {
    case SB_ART_THRESHOLD:
        /* the side the value is on now, else the side the condition began on */
        up = (r->has_above && s->last_v > r->above) ||
             (!(r->has_below && s->last_v < r->below) && s->side > 0);
        tw_fmt(t, "%s %s %s", fmt_num(ev->value, a), up ? "above" : "below",
               fmt_num(up ? r->above : r->below, b));
        break;
    case SB_ART_RATE:
        up = ev->value > 0;
        tw_fmt(t, "%s %s within %s (limit %s)", up ? "rose" : "fell", fmt_num(fabs(ev->value), a),
               fmt_dur((int64_t)r->per_s * 1000, b), fmt_num(up ? r->max_rise : r->max_fall, c));
        dur = 0;
        break;
    case SB_ART_STALE:
        if (s->flagged)
            tw_fmt(t, "%s reports stale data", r->target);
        else
            tw_fmt(t, "no data from %s", r->target);
        dur = s->flagged ? 0 : ev->t - stale_ref(s);
        break;
    case SB_ART_OFFLINE:
        tw_fmt(t, "%s offline", r->target);
        break;
    case SB_ART_COMFORT:
        tw_fmt(t, "%s K\u00b7h outside the comfort band in %s over the last %s (limit %s)",
               fmt_num(ev->value, a), r->target, fmt_dur((int64_t)r->window_s * 1000, b),
               fmt_num(r->kh_limit, c));
        dur = 0;
        break;
    case SB_ART_SCHEDULE:
        tw_fmt(t, "%s running (%s) while every zone it serves is unoccupied", r->target,
               fmt_num(ev->value, a));
        break;
    case SB_ART_FORECAST:
        break;
    }
    if (dur >= 1000)
        tw_fmt(t, " for %s", fmt_dur(dur, a));
}

static void text_clear(struct tw *t, const struct sb_arule *r, const struct sb_arule_state *s,
                       const struct sb_arule_event *ev)
{
    char a[32], b[32], c[32];

    tw_fmt(t, "%s: cleared, ", r->name);
    switch (r->type) {
    case SB_ART_THRESHOLD:
        tw_fmt(t, "%s back within limits", fmt_num(ev->value, a));
        break;
    case SB_ART_RATE:
        tw_fmt(t, "change %s within %s", fmt_num(ev->value, a),
               fmt_dur((int64_t)r->per_s * 1000, b));
        break;
    case SB_ART_STALE:
        tw_fmt(t, "data from %s resumed", r->target);
        break;
    case SB_ART_OFFLINE:
        tw_fmt(t, "%s back online", r->target);
        break;
    case SB_ART_COMFORT:
        tw_fmt(t, "%s K\u00b7h over the last %s (limit %s)", fmt_num(ev->value, a),
               fmt_dur((int64_t)r->window_s * 1000, b), fmt_num(r->kh_limit, c));
        break;
    case SB_ART_SCHEDULE:
        if (s->has_v && s->last_v > r->running_above)
            tw_fmt(t, "%s running, but a zone it serves is occupied", r->target);
        else
            tw_fmt(t, "%s stopped (%s)", r->target, fmt_num(ev->value, a));
        break;
    case SB_ART_FORECAST:
        break;
    }
}

static double event_value(const struct sb_arule *r, const struct sb_arule_state *s, int64_t now,
                          int64_t since)
{
    switch (r->type) {
    case SB_ART_THRESHOLD:
    case SB_ART_SCHEDULE:
        return s->last_v;
    case SB_ART_RATE:
        return s->chg;
    case SB_ART_STALE:
        return (double)(now - stale_ref(s)) / 1000.0;
    case SB_ART_OFFLINE:
        return (double)(now - since) / 1000.0;
    case SB_ART_COMFORT:
        return s->kh;
    case SB_ART_FORECAST:
        break;
    }
    return 0;
}

static void fill_event(const struct sb_arule *r, const struct sb_arule_state *s, int kind,
                       int64_t now, int64_t since, struct sb_arule_event *ev)
{
    struct tw t = { ev->text, sizeof ev->text, 0, false };

    ev->kind = kind;
    ev->t = now;
    ev->since = since;
    ev->value = event_value(r, s, now, since);
    ev->text[0] = '\0';
    if (kind == SB_AR_CLEAR)
        text_clear(&t, r, s, ev);
    else if (r->message[0])
        expand(&t, r, ev->value);
    else
        text_raise(&t, r, s, ev);
}

/* ------------------------------------------------------------------------ */
/* feed and tick                                                            */

void sb_arule_state_init(struct sb_arule_state *s)
{
    memset(s, 0, sizeof *s);
    s->phase = SB_ARP_NORMAL;
}

/* Sets up the union member the rule's type uses, on first use (the state
 * does not know its rule before that) or when the type changed. */
static void ensure_view(const struct sb_arule *r, struct sb_arule_state *s)
{
    if (s->view == (int)r->type)
        return;
    memset(&s->u, 0, sizeof s->u);
    for (int i = 0; i < SB_ARULE_RING; i++) {
        if (r->type == SB_ART_RATE)
            s->u.rate[i].t_hi = INT64_MIN;
        else
            s->u.comfort.idx[i] = INT64_MIN;
    }
    s->view = (int)r->type;
}

/* Advances the state's clock to t (never backwards); returns the time the
 * machine evaluates at. */
static int64_t clock_to(struct sb_arule_state *s, int64_t t)
{
    if (!s->has_now) {
        s->has_now = true;
        s->origin = s->now = t;
    } else if (t > s->now) {
        s->now = t;
    }
    return s->now;
}

static int evaluate(const struct sb_arule *r, struct sb_arule_state *s, int64_t now,
                    struct sb_arule_event *ev)
{
    int64_t since = now;
    int k = advance(r, s, cond_of(r, s, now), now, &since);

    if (k != SB_AR_NONE && ev)
        fill_event(r, s, k, now, since, ev);
    return k;
}

/* Schedule: a NULL ctx keeps what was last said (the engine always gives one). */
static void hold_occupancy(struct sb_arule_state *s, const struct sb_arule_ctx *ctx)
{
    if (ctx) {
        s->occ = ctx->occupied;
        s->has_occ = true;
    }
}

static void hold_value(struct sb_arule_state *s, int64_t t, double v)
{
    s->last_v = v;
    s->last_vt = t;
    s->has_v = true;
}

/* What one reading changes, by type. */
static void take(const struct sb_arule *r, struct sb_arule_state *s, int64_t t, double v,
                 uint16_t q, const struct sb_arule_ctx *ctx, int64_t now)
{
    switch (r->type) {
    case SB_ART_SCHEDULE:
        hold_occupancy(s, ctx);   /* then the value, held as threshold holds it */
        /* fall through */
    case SB_ART_THRESHOLD:
    case SB_ART_RATE:
        if (q & Q_UNUSABLE) {
            s->n_quality++;
            return;
        }
        hold_value(s, t, v);
        if (r->type == SB_ART_RATE)
            rate_insert(r, s, t, v);
        return;
    case SB_ART_STALE:
        s->flagged = (q & SB_Q_STALE) != 0;
        if (!s->flagged) {
            s->last_good_t = t;
            s->has_good = true;
        }
        return;
    case SB_ART_OFFLINE:
        if (ctx)
            s->offline = ctx->offline;
        return;
    case SB_ART_COMFORT:
        comfort_integrate(r, s, now);
        if (q & Q_UNUSABLE)
            s->n_quality++;
        else
            hold_value(s, t, v);
        comfort_hold_ctx(s, ctx);
        return;
    case SB_ART_FORECAST:
        return;
    }
}

int sb_arule_feed(const struct sb_arule *r, struct sb_arule_state *s, int64_t t, double v,
                  uint16_t q, const struct sb_arule_ctx *ctx, struct sb_arule_event *ev)
{
    int64_t now;

    if (!r || !s)
        return SB_EINVAL;
    if (!r->enabled || r->type == SB_ART_FORECAST)
        return SB_AR_NONE;
    ensure_view(r, s);
    if (!isfinite(v)) {
        s->n_nan++;
        return SB_AR_NONE;
    }
    if (t < -T_LIMIT || t > T_LIMIT || (s->has_t && t < s->last_t)) {
        s->n_out_of_order++;
        return SB_AR_NONE;
    }
    s->last_t = t;
    s->has_t = true;
    now = clock_to(s, t);
    take(r, s, t, v, q, ctx, now);
    return evaluate(r, s, now, ev);
}

int sb_arule_tick(const struct sb_arule *r, struct sb_arule_state *s, int64_t now,
                  const struct sb_arule_ctx *ctx, struct sb_arule_event *ev)
{
    if (!r || !s)
        return SB_EINVAL;
    if (!r->enabled || r->type == SB_ART_FORECAST)
        return SB_AR_NONE;
    ensure_view(r, s);
    if (now < -T_LIMIT || now > T_LIMIT || (s->has_now && now < s->now)) {
        s->n_back_in_time++;
        return SB_AR_NONE;
    }
    clock_to(s, now);
    if (r->type == SB_ART_OFFLINE && ctx)
        s->offline = ctx->offline;
    if (r->type == SB_ART_SCHEDULE)
        hold_occupancy(s, ctx);
    if (r->type == SB_ART_COMFORT) {
        comfort_integrate(r, s, now);
        comfort_hold_ctx(s, ctx);
    }
    return evaluate(r, s, now, ev);
}

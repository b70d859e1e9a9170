/* parse.c - readings from CSV and JSON lines (see parse.h). */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/parse.h"

enum hdr { H_NONE = 0, H_LONG, H_WIDE };

struct sb_rdparse {
    enum sb_rdfmt fmt;          /* input format */
    sb_resolve_fn resolve;      /* name -> id, may be NULL */
    void *ud;                   /* its argument */
    enum hdr hdr;               /* CSV header seen and its kind */
    int col_point, col_time, col_value, col_q; /* long CSV column indexes (-1: absent) */
    uint32_t *wide_ids;         /* wide CSV: point id per column (0 for the time column) */
    size_t ncols;               /* columns in the header */
};

/* Report a bad line in err (core/err.h) and return rc. */
#define fail(err, errlen, rc, ...) (sb_errf((err), (errlen), __VA_ARGS__), (rc))

int sb_rdparse_new(enum sb_rdfmt fmt, sb_resolve_fn resolve, void *ud, struct sb_rdparse **out)
{
    struct sb_rdparse *p = calloc(1, sizeof(*p));
    if (!p)
        return SB_ENOMEM;
    p->fmt = fmt;
    p->resolve = resolve;
    p->ud = ud;
    p->col_point = p->col_time = p->col_value = p->col_q = -1;
    *out = p;
    return 0;
}

void sb_rdparse_free(struct sb_rdparse *p)
{
    if (!p)
        return;
    free(p->wide_ids);
    free(p);
}

/* ---- fields ------------------------------------------------------------- */

int sb_quality_parse(const char *s, size_t len, uint16_t *q)
{
    static const struct { const char *name; uint16_t bit; } names[] = {
        { "ok", 0 }, { "stale", SB_Q_STALE }, { "fault", SB_Q_FAULT },
        { "overridden", SB_Q_OVERRIDDEN }, { "estimated", SB_Q_ESTIMATED },
    };
    uint16_t v = 0;

    if (len == 0) {
        *q = 0;
        return 0;
    }
    if (s[0] >= '0' && s[0] <= '9') {
        unsigned long x = 0;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9' || (x = x * 10 + (unsigned)(s[i] - '0')) > SB_Q_ALL)
                return SB_EINVAL;
        }
        *q = (uint16_t)x;
        return 0;
    }
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != '|')
            j++;
        size_t k = 0;
        for (; k < sizeof(names) / sizeof(names[0]); k++)
            if (strlen(names[k].name) == j - i && strncmp(names[k].name, s + i, j - i) == 0)
                break;
        if (k == sizeof(names) / sizeof(names[0]))
            return SB_EINVAL;
        v |= names[k].bit;
        i = j + 1;
    }
    *q = v;
    return 0;
}

static int parse_value(const char *s, size_t len, double *v)
{
    char buf[64];
    char *end;

    if (len == 0 || len >= sizeof(buf))
        return SB_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    errno = 0;
    *v = strtod(buf, &end);
    if (end != buf + len || errno == ERANGE)
        return SB_EINVAL;
    /* "nan"/"inf" parse but are refused later by ingest validation with a
     * counted reason, so they are passed through as values here. */
    return 0;
}

static int parse_point(struct sb_rdparse *p, const char *s, size_t len, uint32_t *id)
{
    char buf[128];
    if (len == 0 || len >= sizeof(buf))
        return SB_EINVAL;
    memcpy(buf, s, len);
    buf[len] = 0;
    size_t i = 0;
    unsigned long long x = 0;
    for (; i < len && buf[i] >= '0' && buf[i] <= '9' && x <= UINT32_MAX; i++)
        x = x * 10 + (unsigned)(buf[i] - '0');
    if (i == len && x > 0 && x <= UINT32_MAX) {
        *id = (uint32_t)x;
        return 0;
    }
    return p->resolve ? p->resolve(p->ud, buf, id) : SB_ENOENT;
}

/* ---- CSV ---------------------------------------------------------------- */

/* Split a CSV line (RFC 4180 quoting, no embedded newlines) into fields,
 * unquoting in place into buf.  Returns the field count or -1. */
static long split_csv(const char *line, size_t len, char *buf, const char **f, size_t *fl,
                      size_t maxf)
{
    size_t nf = 0, o = 0, i = 0;
    for (;;) {
        if (nf == maxf)
            return -1;
        f[nf] = buf + o;
        size_t start = o;
        if (i < len && line[i] == '"') {
            i++;
            for (;;) {
                if (i >= len)
                    return -1;               /* unterminated quote */
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        buf[o++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                buf[o++] = line[i++];
            }
            if (i < len && line[i] != ',')
                return -1;
        } else {
            while (i < len && line[i] != ',')
                buf[o++] = line[i++];
        }
        /* trim spaces around unquoted values */
        while (o > start && (buf[o - 1] == ' ' || buf[o - 1] == '\t' || buf[o - 1] == '\r'))
            o--;
        while (start < o && (buf[start] == ' ' || buf[start] == '\t'))
            start++, f[nf]++;
        fl[nf] = o - start;
        nf++;
        if (i >= len)
            break;
        i++;   /* comma */
    }
    return (long)nf;
}

static int header_col(const char *f, size_t l, const char *a, const char *b)
{
    return (strlen(a) == l && strncasecmp(f, a, l) == 0) || (b && strlen(b) == l && strncasecmp(f, b, l) == 0);
}

static int csv_header(struct sb_rdparse *p, const char **f, size_t *fl, size_t nf, char *err,
                      size_t errlen)
{
    p->col_point = p->col_time = p->col_value = p->col_q = -1;
    for (size_t i = 0; i < nf; i++) {
        if (header_col(f[i], fl[i], "point", "point_id"))
            p->col_point = (int)i;
        else if (header_col(f[i], fl[i], "time", "timestamp"))
            p->col_time = (int)i;
        else if (header_col(f[i], fl[i], "value", "v"))
            p->col_value = (int)i;
        else if (header_col(f[i], fl[i], "quality", "q"))
            p->col_q = (int)i;
    }
    if (p->col_point >= 0 && p->col_time >= 0 && p->col_value >= 0) {
        p->hdr = H_LONG;
        p->ncols = nf;
        return 0;
    }
    if (p->col_time != 0 || nf < 2)
        return fail(err, errlen, SB_EINVAL,
                    "header: expected \"point,time,value[,quality]\" or \"time,<point>,...\"");
    /* wide: every other column names a point */
    free(p->wide_ids);
    if (!(p->wide_ids = calloc(nf, sizeof(*p->wide_ids))))
        return SB_ENOMEM;
    for (size_t i = 1; i < nf; i++) {
        int rc = parse_point(p, f[i], fl[i], &p->wide_ids[i]);
        if (rc) {
            free(p->wide_ids);
            p->wide_ids = NULL;
            return fail(err, errlen, rc, "header column %zu: unknown point \"%.*s\"", i + 1,
                        (int)(fl[i] > 64 ? 64 : fl[i]), f[i]);
        }
    }
    p->hdr = H_WIDE;
    p->ncols = nf;
    return 0;
}

static int csv_long(struct sb_rdparse *p, const char **f, size_t *fl, size_t nf,
                    struct sb_reading *out, size_t *n, char *err, size_t errlen)
{
    struct sb_reading r = { 0 };
    int rc;
    if (nf != p->ncols)
        return fail(err, errlen, SB_EINVAL, "expected %zu columns, found %zu", p->ncols, nf);
    if ((rc = parse_point(p, f[p->col_point], fl[p->col_point], &r.point)))
        return fail(err, errlen, rc, "point: unknown \"%.*s\"",
                    (int)(fl[p->col_point] > 64 ? 64 : fl[p->col_point]), f[p->col_point]);
    if (sb_time_parse(f[p->col_time], fl[p->col_time], &r.t))
        return fail(err, errlen, SB_EINVAL, "time: \"%.*s\" is not RFC 3339 with a zone or ms",
                    (int)(fl[p->col_time] > 64 ? 64 : fl[p->col_time]), f[p->col_time]);
    if (parse_value(f[p->col_value], fl[p->col_value], &r.v))
        return fail(err, errlen, SB_EINVAL, "value: \"%.*s\" is not a number",
                    (int)(fl[p->col_value] > 64 ? 64 : fl[p->col_value]), f[p->col_value]);
    if (p->col_q >= 0 && sb_quality_parse(f[p->col_q], fl[p->col_q], &r.q))
        return fail(err, errlen, SB_EINVAL, "quality: \"%.*s\" is not a flag set",
                    (int)(fl[p->col_q] > 64 ? 64 : fl[p->col_q]), f[p->col_q]);
    out[0] = r;
    *n = 1;
    return 0;
}

static int csv_wide(struct sb_rdparse *p, const char **f, size_t *fl, size_t nf,
                    struct sb_reading *out, size_t cap, size_t *n, char *err, size_t errlen)
{
    int64_t t;
    if (nf != p->ncols)
        return fail(err, errlen, SB_EINVAL, "expected %zu columns, found %zu", p->ncols, nf);
    if (sb_time_parse(f[0], fl[0], &t))
        return fail(err, errlen, SB_EINVAL, "time: \"%.*s\" is not RFC 3339 with a zone or ms",
                    (int)(fl[0] > 64 ? 64 : fl[0]), f[0]);
    size_t k = 0;
    for (size_t i = 1; i < nf; i++) {
        if (fl[i] == 0)
            continue;   /* no reading for this point at this time */
        if (k == cap)
            return SB_ENOSPC;
        double v;
        if (parse_value(f[i], fl[i], &v))
            return fail(err, errlen, SB_EINVAL, "column %zu: \"%.*s\" is not a number", i + 1,
                        (int)(fl[i] > 64 ? 64 : fl[i]), f[i]);
        out[k++] = (struct sb_reading){ .t = t, .v = v, .point = p->wide_ids[i] };
    }
    *n = k;
    return 0;
}

static int csv_line(struct sb_rdparse *p, const char *line, size_t len, struct sb_reading *out,
                    size_t cap, size_t *n, char *err, size_t errlen)
{
    const char **f = malloc(SB_RDPARSE_MAX_COLS * sizeof(*f));
    size_t *fl = malloc(SB_RDPARSE_MAX_COLS * sizeof(*fl));
    char *buf = malloc(len + 1);
    int rc = SB_ENOMEM;

    if (!f || !fl || !buf)
        goto out;
    long nf = split_csv(line, len, buf, f, fl, SB_RDPARSE_MAX_COLS);
    if (nf < 0) {
        rc = fail(err, errlen, SB_EINVAL, "malformed CSV (quotes or more than %d columns)",
                  SB_RDPARSE_MAX_COLS);
        goto out;
    }
    if (p->hdr == H_NONE)
        rc = csv_header(p, f, fl, (size_t)nf, err, errlen);
    else if (p->hdr == H_LONG)
        rc = csv_long(p, f, fl, (size_t)nf, out, n, err, errlen);
    else
        rc = csv_wide(p, f, fl, (size_t)nf, out, cap, n, err, errlen);
out:
    free(f);
    free(fl);
    free(buf);
    return rc;
}

/* ---- JSON lines --------------------------------------------------------- */

static json_t *field(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return v ? v : json_object_get(o, b);
}

static int json_line(struct sb_rdparse *p, const char *line, size_t len, struct sb_reading *out,
                     size_t *n, char *err, size_t errlen)
{
    json_error_t je;
    struct sb_reading r = { 0 };
    int rc = 0;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);

    if (!o || !json_is_object(o)) {
        rc = fail(err, errlen, SB_EINVAL, "not a JSON object: %s", o ? "wrong type" : je.text);
        goto out;
    }
    json_t *pt = json_object_get(o, "point"), *t = field(o, "t", "time"),
           *v = field(o, "v", "value"), *q = field(o, "q", "quality");
    if (json_is_integer(pt) && json_integer_value(pt) > 0 && json_integer_value(pt) <= UINT32_MAX)
        r.point = (uint32_t)json_integer_value(pt);
    else if (!json_is_string(pt) ||
             parse_point(p, json_string_value(pt), json_string_length(pt), &r.point))
        rc = fail(err, errlen, SB_ENOENT, "point: missing or unknown");
    if (rc == 0) {
        if (json_is_integer(t))
            r.t = json_integer_value(t);
        else if (!json_is_string(t) || sb_time_parse(json_string_value(t), json_string_length(t), &r.t))
            rc = fail(err, errlen, SB_EINVAL, "t: missing, or not RFC 3339 with a zone or ms");
    }
    if (rc == 0) {
        if (json_is_number(v))
            r.v = json_number_value(v);
        else
            rc = fail(err, errlen, SB_EINVAL, "v: missing or not a number");
    }
    if (rc == 0 && q) {
        if (json_is_integer(q) && json_integer_value(q) >= 0 && json_integer_value(q) <= SB_Q_ALL)
            r.q = (uint16_t)json_integer_value(q);
        else if (!json_is_string(q) ||
                 sb_quality_parse(json_string_value(q), json_string_length(q), &r.q))
            rc = fail(err, errlen, SB_EINVAL, "q: not a quality flag set");
    }
    if (rc == 0) {
        out[0] = r;
        *n = 1;
    }
out:
    json_decref(o);
    return rc;
}

int sb_rdparse_line(struct sb_rdparse *p, const char *line, size_t len, struct sb_reading *out,
                    size_t cap, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    if (err && errlen)
        err[0] = 0;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len || line[i] == '#')
        return 0;                          /* blank or comment */
    if (len > SB_RDPARSE_MAX_LINE)
        return fail(err, errlen, SB_ERANGE, "line longer than %d bytes", SB_RDPARSE_MAX_LINE);
    if (cap == 0)
        return SB_ENOSPC;
    if (p->fmt == SB_RDFMT_JSONL)
        return json_line(p, line, len, out, n, err, errlen);
    return csv_line(p, line, len, out, cap, n, err, errlen);
}

/*
 * http_parse.c - pure helpers of the HTTP server: the listen address, the
 * router, /series query parameters and the JSON/HTML output buffer.
 * Everything here reads bytes a client chose; every input is bounded and no
 * function does I/O.  See http_int.h for the contracts.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_int.h"
#include "core/err.h"
#include "core/timefmt.h"

#define MS_MIN  60000LL
#define MS_HOUR (60 * MS_MIN)
#define MS_DAY  (24 * MS_HOUR)

/* ---- listen address ---------------------------------------------------- */

/* Decimal port 0..65535, 1 to 5 digits, nothing else. */
static int parse_port(const char *s, in_port_t *port)
{
    size_t n = strlen(s);
    unsigned v = 0;

    if (n == 0 || n > 5)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SB_EINVAL;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > 65535)
        return SB_EINVAL;
    *port = htons((in_port_t)v);
    return 0;
}

int sb_http__parse_listen(const char *listen, struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon, *hs = listen;
    size_t hl;

    memset(ss, 0, sizeof(*ss));
    if (!listen)
        return SB_EINVAL;
    if (listen[0] == '[') {             /* RFC 3986 s.3.2.2: IPv6 in brackets */
        const char *rb = strchr(listen, ']');
        if (!rb || rb[1] != ':')
            return SB_EINVAL;
        hs = listen + 1;
        hl = (size_t)(rb - hs);
        colon = rb + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            return SB_EINVAL;
        hl = (size_t)(colon - listen);
    }
    if (hl == 0 || hl >= sizeof(host))
        return SB_EINVAL;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    if (listen[0] == '[') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        a->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return SB_EINVAL;
        return parse_port(colon + 1, &a->sin6_port);
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    a->sin_family = AF_INET;
    /* inet_pton takes only the dotted quad (no "127.1", no octal). */
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
        return SB_EINVAL;
    return parse_port(colon + 1, &a->sin_port);
}

/* ---- router ------------------------------------------------------------ */

/* A point id: 1 to 10 decimal digits, at most UINT32_MAX. */
static int parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 10)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SB_EINVAL;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > UINT32_MAX)
        return SB_EINVAL;
    *out = (uint32_t)v;
    return 0;
}

static int is(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

enum sb_http__route sb_http__route(const char *path, size_t len, uint32_t *point)
{
    static const struct {
        const char *path;              /* exact path */
        enum sb_http__route route;     /* what it names */
    } fixed[] = {
        { "/", SB_HTTP_R_INDEX },
        { "/healthz", SB_HTTP_R_HEALTHZ },
        { "/readyz", SB_HTTP_R_READYZ },
        { "/api/v1/status", SB_HTTP_R_STATUS },
    };
    static const char pre[] = "/api/v1/points/";
    const size_t pl = sizeof(pre) - 1;

    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        if (is(path, len, fixed[i].path))
            return fixed[i].route;
    if (len <= pl || memcmp(path, pre, pl) != 0)
        return SB_HTTP_R_NONE;
    const char *id = path + pl;
    const char *slash = memchr(id, '/', len - pl);
    if (!slash)
        return SB_HTTP_R_NONE;
    size_t tl = len - (size_t)(slash - path);
    enum sb_http__route r = is(slash, tl, "/latest") ? SB_HTTP_R_LATEST
                          : is(slash, tl, "/series") ? SB_HTTP_R_SERIES : SB_HTTP_R_NONE;
    if (r == SB_HTTP_R_NONE)
        return r;
    return parse_u32(id, (size_t)(slash - id), point) ? SB_HTTP_R_BADID : r;
}

/* ---- /series parameters ------------------------------------------------ */

static const char *const kind_names[SB_AGG_KIND_COUNT] = {
    [SB_AGG_MEAN] = "mean", [SB_AGG_RATE] = "rate",
    [SB_AGG_COUNTER] = "counter", [SB_AGG_STATE] = "state",
};

int sb_http__kind_parse(const char *s, size_t len)
{
    for (int k = 0; k < SB_AGG_KIND_COUNT; k++)
        if (is(s, len, kind_names[k]))
            return k;
    return -1;
}

const char *sb_http__kind_name(enum sb_agg_kind k)
{
    return (unsigned)k < SB_AGG_KIND_COUNT ? kind_names[k] : "?";
}

/* Per resolution: the span asked for when from is missing, and the shortest
 * a bucket can be (day: 23 h on a spring-forward day; month: 28 days), which
 * bounds how many buckets a range can hold. */
static const struct {
    int64_t span;              /* default to - from, ms */
    int64_t shortest;          /* shortest bucket, ms (0: raw) */
} res_tab[SB_RES_COUNT] = {
    [SB_RES_RAW] = { MS_DAY, 0 },
    [SB_RES_1M]  = { MS_DAY, MS_MIN },
    [SB_RES_15M] = { 7 * MS_DAY, 15 * MS_MIN },
    [SB_RES_1H]  = { 31 * MS_DAY, MS_HOUR },
    [SB_RES_1D]  = { 366 * MS_DAY, 23 * MS_HOUR },
    [SB_RES_1MO] = { 3653 * MS_DAY, 28 * MS_DAY },
};

enum { P_RES, P_KIND, P_FROM, P_TO, P_LIMIT, P_COUNT };
static const char *const pnames[P_COUNT] = { "res", "kind", "from", "to", "limit" };

void sb_http__series_init(struct sb_http__series_q *q)
{
    memset(q, 0, sizeof(*q));
    q->res = SB_RES_RAW;
    q->kind = SB_AGG_MEAN;
}

/* limit: 1..SB_HTTP_RAW_MAX, decimal. */
static int parse_limit(const char *v, size_t n, size_t *out, const char **why)
{
    uint64_t x = 0;

    *why = "limit must be a whole number from 1 to 1000000";
    if (n == 0 || n > 7)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return SB_EINVAL;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (x < 1 || x > SB_HTTP_RAW_MAX)
        return SB_EINVAL;
    *out = (size_t)x;
    return 0;
}

/* Set parameter p from value v[0..n) (NUL-terminated copy). */
static int set_param(struct sb_http__series_q *q, int p, const char *v, size_t n,
                     const char **why)
{
    int x;

    switch (p) {
    case P_RES:
        if ((x = sb_res_parse(v)) < 0) {
            *why = "resolution must be raw, 1m, 15m, 1h, 1d or 1mo";
            return SB_EINVAL;
        }
        q->res = (enum sb_res)x;
        return 0;
    case P_KIND:
        if ((x = sb_http__kind_parse(v, n)) < 0) {
            *why = "agg must be mean, rate, counter or state";
            return SB_EINVAL;
        }
        q->kind = (enum sb_agg_kind)x;
        return 0;
    case P_FROM:
    case P_TO:
        *why = "from and to are ms since the epoch or RFC 3339 times like 2026-11-27T00:00:00Z";
        return sb_time_parse(v, n, p == P_FROM ? &q->from : &q->to) ? SB_EINVAL : 0;
    default:
        return parse_limit(v, n, &q->limit, why);
    }
}

int sb_http__series_arg(struct sb_http__series_q *q, const char *frag, size_t len,
                        const char **why)
{
    char v[64];
    const char *eq = memchr(frag, '=', len);

    if (memchr(frag, '\0', len)) {
        *why = "parameter holds a NUL byte";
        return SB_EINVAL;
    }
    if (!eq) {
        *why = "parameter without a value";
        return SB_EINVAL;
    }
    size_t nl = (size_t)(eq - frag), vl = len - nl - 1;
    int p = 0;
    while (p < P_COUNT && !is(frag, nl, pnames[p]))
        p++;
    /* The REST names (/history): resolution = res, agg = kind. */
    if (p == P_COUNT && is(frag, nl, "resolution"))
        p = P_RES;
    else if (p == P_COUNT && is(frag, nl, "agg"))
        p = P_KIND;
    if (p == P_COUNT) {
        *why = "unknown parameter (resolution or res, agg or kind, from, to, limit)";
        return SB_EINVAL;
    }
    if (q->seen & (1u << p)) {
        *why = "parameter given twice";
        return SB_EINVAL;
    }
    if (vl == 0 || vl >= sizeof(v)) {
        *why = vl ? "parameter value too long" : "parameter with an empty value";
        return SB_EINVAL;
    }
    memcpy(v, eq + 1, vl);
    v[vl] = '\0';
    q->seen |= 1u << p;
    return set_param(q, p, v, vl, why);
}

int sb_http__series_finish(struct sb_http__series_q *q, int64_t now_ms, const char **why)
{
    const int64_t span = res_tab[q->res].span, shortest = res_tab[q->res].shortest;

    if (!(q->seen & (1u << P_TO)))
        q->to = now_ms;
    if (!(q->seen & (1u << P_FROM)))
        q->from = q->to - span;
    if (q->from > q->to) {
        *why = "from is after to";
        return SB_EINVAL;
    }
    /* |from|, |to| < 10^15 (sb_time_parse), now is sane: no overflow. */
    if (shortest > 0 && (q->to - q->from) / shortest + 1 > SB_HTTP_BUCKETS_MAX) {
        *why = "range spans more than 100000 buckets at this res: narrow it or pick a coarser res";
        return SB_ERANGE;
    }
    if (!(q->seen & (1u << P_LIMIT)))
        q->limit = q->res == SB_RES_RAW ? SB_HTTP_RAW_DEFAULT : SB_HTTP_BUCKETS_MAX;
    return 0;
}

/* ---- output buffer ----------------------------------------------------- */

void sb_http__buf_init(struct sb_http__buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->err = 0;
}

void sb_http__buf_release(struct sb_http__buf *b)
{
    free(b->p);
    sb_http__buf_init(b, b->max);
}

void sb_http__buf_reset(struct sb_http__buf *b)
{
    b->len = 0;
    b->err = 0;
}

/* Make room for n more bytes. */
static int grow(struct sb_http__buf *b, size_t n)
{
    if (b->err)
        return b->err;
    if (n > b->max - b->len)
        return b->err = SB_ENOSPC;
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return b->err = SB_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int sb_http__buf_add(struct sb_http__buf *b, const char *s, size_t n)
{
    int rc = grow(b, n);
    if (rc == 0 && n) {
        memcpy(b->p + b->len, s, n);
        b->len += n;
    }
    return rc;
}

int sb_http__buf_puts(struct sb_http__buf *b, const char *s)
{
    return sb_http__buf_add(b, s, strlen(s));
}

int sb_http__buf_printf(struct sb_http__buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;

    if (b->err)
        return b->err;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return b->err = SB_EINVAL;
    if ((size_t)n < sizeof(tmp))
        return sb_http__buf_add(b, tmp, (size_t)n);
    if (grow(b, (size_t)n + 1))
        return b->err;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int sb_http__buf_num(struct sb_http__buf *b, double v)
{
    char tmp[40];

    if (!isfinite(v))
        return sb_http__buf_puts(b, "null");
    /* 17 significant digits always round-trip an IEEE-754 double (C17
     * 5.2.4.2.2 DECIMAL_DIG); fewer usually do and read better (21.3). */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
        if (prec == 17 || strtod(tmp, NULL) == v)
            break;
    }
    return sb_http__buf_puts(b, tmp);
}

int sb_http__buf_jstr(struct sb_http__buf *b, const char *s)
{
    sb_http__buf_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            sb_http__buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            sb_http__buf_printf(b, "\\u%04x", c);
        else
            sb_http__buf_add(b, s, 1);
    }
    return sb_http__buf_add(b, "\"", 1);
}

int sb_http__buf_html(struct sb_http__buf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sb_http__buf_puts(b, "&amp;"); break;
        case '<': sb_http__buf_puts(b, "&lt;"); break;
        case '>': sb_http__buf_puts(b, "&gt;"); break;
        case '"': sb_http__buf_puts(b, "&quot;"); break;
        case '\'': sb_http__buf_puts(b, "&#39;"); break;
        default: sb_http__buf_add(b, s, 1); break;
        }
    }
    return b->err;
}

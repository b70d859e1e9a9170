/*
 * router.c - match a request path against the route table (api_routes.c).
 *
 * Pure functions over client bytes: no I/O, no globals but the const table,
 * every copy bounded.  A route path is literal segments and {name}
 * parameter segments; a parameter matches one non-empty segment of at most
 * SB_SLUG_MAX bytes (slugs and integer ids both fit), never "." or "..",
 * and is copied to rq->params in order.  The table is small (~70 routes), so
 * a linear scan segment by segment is fast enough (about a microsecond) and
 * keeps the table the single source of truth the OpenAPI test reads.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "core/err.h"

const char *sb_api__method_name(unsigned m)
{
    switch (m) {
    case SB_M_GET: return "GET";
    case SB_M_HEAD: return "HEAD";
    case SB_M_POST: return "POST";
    case SB_M_PUT: return "PUT";
    case SB_M_PATCH: return "PATCH";
    case SB_M_DELETE: return "DELETE";
    case SB_M_OPTIONS: return "OPTIONS";
    default: return "?";
    }
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seglen(const char *s)
{
    const char *e = strchr(s, '/');
    return e ? (size_t)(e - s) : strlen(s);
}

/* Does path match pattern?  Fills params (at most SB_REQ_PARAMS). */
static int match_one(const char *pat, const char *path, char params[][SB_SLUG_MAX + 1],
                     size_t *np)
{
    size_t n = 0;
    size_t lit = strcspn(pat, "{");

    /* Most routes differ in their literal prefix: one memcmp rejects them. */
    if (strncmp(pat, path, lit) != 0)
        return 0;
    while (*pat && *path) {
        if (*pat != '/' || *path != '/')
            return 0;
        pat++;
        path++;
        size_t pl = seglen(pat), sl = seglen(path);
        if (pat[0] == '{') {
            if (sl == 0 || sl > SB_SLUG_MAX || n >= SB_REQ_PARAMS ||
                (sl == 1 && path[0] == '.') || (sl == 2 && path[0] == '.' && path[1] == '.'))
                return 0;
            memcpy(params[n], path, sl);
            params[n][sl] = '\0';
            n++;
        } else if (pl != sl || memcmp(pat, path, pl) != 0) {
            return 0;
        }
        pat += pl;
        path += sl;
    }
    if (*pat || *path)
        return 0;
    *np = n;
    return 1;
}

const struct sb_route *sb_api__match(const char *path, unsigned method, struct sb_req *rq,
                                     unsigned *allow)
{
    char params[SB_REQ_PARAMS][SB_SLUG_MAX + 1];
    const struct sb_route *hit = NULL;
    size_t np = 0;

    *allow = 0;
    if (!path || path[0] != '/')
        return NULL;
    for (size_t i = 0; i < sb_api__nroutes; i++) {
        const struct sb_route *r = &sb_api__routes[i];
        size_t n;
        if (!match_one(r->path, path, params, &n))
            continue;
        *allow |= r->method | (r->method == SB_M_GET ? SB_M_HEAD : 0);
        if (!hit && (r->method == method || (method == SB_M_HEAD && r->method == SB_M_GET))) {
            hit = r;
            np = n;
            if (rq)
                memcpy(rq->params, params, sizeof(params));
        }
    }
    if (hit && rq)
        rq->nparams = np;
    return hit;
}

int sb_api__param_name(const char *route_path, size_t i, char *buf, size_t cap)
{
    const char *p = route_path;

    while ((p = strchr(p, '{'))) {
        const char *e = strchr(p, '}');
        if (!e)
            return SB_EINVAL;
        if (i-- == 0) {
            size_t n = (size_t)(e - p - 1);
            if (n + 1 > cap)
                return SB_ENOSPC;
            memcpy(buf, p + 1, n);
            buf[n] = '\0';
            return 0;
        }
        p = e + 1;
    }
    return SB_ENOENT;
}

const char *sb_req_q(const struct sb_req *rq, const char *name)
{
    for (size_t i = 0; i < rq->nq; i++)
        if (strcmp(rq->qname[i], name) == 0)
            return rq->qval[i];
    return NULL;
}

const char *sb_api__allow_text(unsigned set)
{
    /* One string per method set (7 bits: 128 sets), built once; written
     * only on the loop thread, read-only afterwards. */
    static char text[128][64];
    set &= 127;
    if (!text[set][0]) {
        char *p = text[set];
        for (unsigned m = SB_M_GET; m <= SB_M_OPTIONS; m <<= 1)
            if (set & m)
                p += sprintf(p, "%s%s", p == text[set] ? "" : ", ", sb_api__method_name(m));
    }
    return text[set];
}

int sb_req_add_query(struct sb_req *rq, const char *frag, size_t n)
{
    const char *eq = memchr(frag, '=', n);
    size_t nl = eq ? (size_t)(eq - frag) : n, vl = eq ? n - nl - 1 : 0;

    if (rq->nq == SB_REQ_QMAX || rq->qused + nl + vl + 2 > sizeof(rq->qbuf)) {
        rq->qoverflow = 1;
        return SB_ENOSPC;
    }
    char *d = rq->qbuf + rq->qused;
    memcpy(d, frag, nl);
    d[nl] = '\0';
    memcpy(d + nl + 1, eq ? eq + 1 : "", vl);
    d[nl + 1 + vl] = '\0';
    rq->qname[rq->nq] = d;
    rq->qval[rq->nq++] = d + nl + 1;
    rq->qused += nl + vl + 2;
    return 0;
}

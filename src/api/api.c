/*
 * api.c - the request pipeline of the REST API (see api.h for its order):
 * CORS, rate limits, authentication, roles, scope, then the handler on the
 * loop or the thread pool; plus the helpers every handler uses.
 *
 * Authentication: "Authorization: Bearer <JWT>" (RFC 6750).  A token that
 * verifies says who; what the user may do comes from the principal cache
 * (roles, grants, disabled, must-change-password), loaded from the
 * database and dropped when an admin changes the user, so a demoted or
 * disabled user loses rights at once rather than when the token expires.
 * Verified tokens are cached by their exact text until they expire, so the
 * hot path costs a hash lookup instead of an HMAC and a JSON parse.
 *
 * Scope: a path parameter naming a building, zone, equipment or point is
 * resolved in the current model; outside the user's grants it answers 404,
 * exactly as an unknown object (no probing for what exists).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "control/svc.h"
#include "api/gz.h"
#include "api/live.h"
#include "alerts/service.h"
#include "drivers/manager.h"
#include "api/ws.h"
#include "auth/limits.h"
#include "cluster/redis.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "ingest/bus.h"
#include "model/hub.h"

#define GZIP_MIN      1400     /* bodies smaller than a packet go as they are */
#define LIM_KEYS      100000   /* keys each limiter tracks */
#define UCACHE_MAX    4096     /* principals cached */
#define TCACHE_SLOTS  1024     /* verified tokens cached (direct-mapped) */
#define TCACHE_TOKLEN 1024     /* longest token cached */
#define REVOKED_MAX   4096     /* sessions refused before their tokens expire */

/* ---- principal cache (any thread) ---------------------------------------- */

struct sb_ucache {
    pthread_mutex_t mu;
    size_t n;
    struct sb_principal *v;            /* n entries, UCACHE_MAX allocated */
    size_t nrev;                       /* revoked sessions */
    struct { char sid[SB_SID_MAX]; int64_t until; } rev[REVOKED_MAX];
};

static int ucache_get(struct sb_ucache *c, int64_t uid, struct sb_principal *out)
{
    int hit = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].uid == uid) {
            *out = c->v[i];
            hit = 1;
            break;
        }
    pthread_mutex_unlock(&c->mu);
    return hit;
}

static void ucache_put(struct sb_ucache *c, const struct sb_principal *p)
{
    pthread_mutex_lock(&c->mu);
    size_t i = 0;
    while (i < c->n && c->v[i].uid != p->uid)
        i++;
    if (i == c->n) {
        if (c->n == UCACHE_MAX)
            i = (size_t)(p->uid % UCACHE_MAX);   /* full: replace one */
        else
            c->n++;
    }
    c->v[i] = *p;
    pthread_mutex_unlock(&c->mu);
}

static void principal_forget_local(struct sb_api *api, int64_t uid)
{
    struct sb_ucache *c = api->users;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].uid == uid) {
            c->v[i] = c->v[--c->n];
            break;
        }
    pthread_mutex_unlock(&c->mu);
}

/* Here and, through Redis, on the other nodes sharing the account database
 * (store.appdb = postgres): each caches principals of its own. */
void sb_api__principal_forget(struct sb_api *api, int64_t uid)
{
    principal_forget_local(api, uid);
    sb_redis_user_changed(api->redis, uid);
}

static void revoke_local(struct sb_api *api, const char *sid, int64_t until_ms)
{
    struct sb_ucache *c = api->users;
    int64_t now = sb_now_ms();
    pthread_mutex_lock(&c->mu);
    size_t j = 0;
    for (size_t i = 0; i < c->nrev; i++)        /* drop the expired */
        if (c->rev[i].until > now)
            c->rev[j++] = c->rev[i];
    c->nrev = j;
    if (c->nrev < REVOKED_MAX) {
        snprintf(c->rev[c->nrev].sid, SB_SID_MAX, "%s", sid);
        c->rev[c->nrev++].until = until_ms;
    }
    pthread_mutex_unlock(&c->mu);
}

void sb_api__revoke_sid(struct sb_api *api, const char *sid, int64_t until_ms)
{
    revoke_local(api, sid, until_ms);
    /* the refresh family stays revoked as long as its tokens could live */
    sb_redis_revoke(api->redis, sid, until_ms, api->refresh_ttl);
}

static int sid_revoked(struct sb_ucache *c, const char *sid)
{
    int r = 0;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nrev && !r; i++)
        r = strcmp(c->rev[i].sid, sid) == 0;
    pthread_mutex_unlock(&c->mu);
    return r;
}

int sb_api__principal_cached(struct sb_api *api, int64_t uid, struct sb_principal *who)
{
    return ucache_get(api->users, uid, who) ? 0 : SB_ENOENT;
}

int sb_api__principal_load(struct sb_api *api, int64_t uid, struct sb_principal *who)
{
    struct sb_user u;
    struct sb_grant *g = NULL;
    size_t ng = 0;
    int rc;

    if (!api->ctx.db)
        return SB_ECLOSED;
    if ((rc = sb_appdb_user_get(api->ctx.db, uid, &u)))
        return rc;
    if (u.disabled)
        return SB_ECLOSED;
    if ((rc = sb_appdb_grants_get(api->ctx.db, uid, &g, &ng)))
        return rc;
    struct sb_principal p;
    memset(&p, 0, sizeof(p));
    p.uid = uid;
    p.roles = u.roles;
    p.must_change_pw = u.must_change_pw;
    snprintf(p.username, sizeof(p.username), "%s", u.username);
    for (size_t i = 0; i < ng && p.ngrants < SB_PGRANTS_MAX; i++) {
        p.grants[p.ngrants].kind = g[i].kind[0];
        snprintf(p.grants[p.ngrants].slug, sizeof(p.grants[0].slug), "%s", g[i].slug);
        p.ngrants++;
    }
    free(g);
    ucache_put(api->users, &p);
    /* keep the session fields of the caller's principal */
    char sid[SB_SID_MAX];
    int64_t exp = who->exp_ms;
    snprintf(sid, sizeof(sid), "%s", who->sid);
    *who = p;
    snprintf(who->sid, sizeof(who->sid), "%s", sid);
    who->exp_ms = exp;
    return 0;
}

/* ---- verified-token cache (loop thread) --------------------------------- */

struct tslot {
    uint64_t h;                        /* FNV-1a of the token, 0 = empty */
    size_t len;
    char tok[TCACHE_TOKLEN];
    struct sb_claims c;
};

struct sb_tcache {
    struct tslot s[TCACHE_SLOTS];
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h | 1;
}

int sb_api__authenticate(struct sb_api *api, const char *token, struct sb_principal *who)
{
    size_t n = strlen(token);
    uint64_t h = fnv1a(token, n);
    int64_t now = sb_now_ms();
    struct sb_claims c;
    int rc = 0;

    memset(who, 0, sizeof(*who));
    if (n < TCACHE_TOKLEN) {
        struct tslot *e = &api->tokens->s[h % TCACHE_SLOTS];
        if (e->h == h && e->len == n && memcmp(e->tok, token, n) == 0) {
            if (e->c.exp * 1000 + SB_JWT_SKEW_MS <= now)
                return SB_ETIMEDOUT;
            c = e->c;
            goto have;
        }
    }
    pthread_mutex_lock(&api->krmu);
    rc = sb_jwt_verify(&api->kr, token, now, &c);
    pthread_mutex_unlock(&api->krmu);
    if (rc)
        return rc;
    if (n < TCACHE_TOKLEN) {
        struct tslot *e = &api->tokens->s[h % TCACHE_SLOTS];
        e->h = h;
        e->len = n;
        memcpy(e->tok, token, n);
        e->c = c;
    }
have:
    if (sid_revoked(api->users, c.sid))
        return SB_EINVAL;
    if (!ucache_get(api->users, c.uid, who)) {
        who->uid = c.uid;
        rc = SB_EAGAIN;
    }
    snprintf(who->sid, sizeof(who->sid), "%s", c.sid);
    who->exp_ms = c.exp * 1000;
    return rc;
}

/* ---- responses ----------------------------------------------------------- */

void sb_api__json(struct sb_req *rq, int status, json_t *v)
{
    struct sb_http__resp *r = &rq->resp;
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(17))
                : NULL;

    json_decref(v);
    sb_http__buf_reset(&r->body);
    if (!s) {
        sb_http__error(r, 500, "internal", "out of memory");
        return;
    }
    r->status = status;
    r->ctype = "application/json";
    sb_http__buf_puts(&r->body, s);
    sb_http__buf_puts(&r->body, "\n");
    free(s);
    if (r->body.err)
        sb_http__error(r, 500, "internal", "response too large");
}

void sb_api__errd(struct sb_req *rq, int status, const char *code, const char *msg,
                  json_t *details)
{
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
    if (e && details)
        json_object_set_new(e, "details", details);
    else
        json_decref(details);
    sb_api__json(rq, status, e ? json_pack("{s:o}", "error", e) : NULL);
    rq->resp.gzip = 0;
}

void sb_api__err(struct sb_req *rq, int status, const char *code, const char *msg)
{
    sb_http__error(&rq->resp, status, code, msg);
}

void sb_api__bad_field(struct sb_req *rq, const char *field, const char *msg)
{
    sb_api__errd(rq, 400, "invalid", msg,
                 json_pack("[{s:s, s:s}]", "field", field, "message", msg));
}

void sb_api__err_rc(struct sb_req *rq, int rc, const char *what)
{
    char msg[256];
    snprintf(msg, sizeof(msg), "%s: %s", what, sb_strerror(rc));
    switch (rc) {
    case SB_ENOENT: sb_api__err(rq, 404, "not_found", msg); break;
    case SB_EEXIST: sb_api__err(rq, 409, "conflict", msg); break;
    case SB_EINVAL: case SB_ERANGE: sb_api__err(rq, 400, "invalid", msg); break;
    case SB_ENOTSUP: sb_api__err(rq, 501, "not_implemented", msg); break;
    case SB_EAGAIN: case SB_ECLOSED: case SB_ETIMEDOUT:
        rq->resp.retry_after = 1;
        sb_api__err(rq, 503, "unavailable", msg);
        break;
    default: sb_api__err(rq, 500, "internal", msg); break;
    }
}

json_t *sb_api__body(struct sb_req *rq)
{
    json_error_t e;
    char msg[300];

    if (!rq->body || rq->body_len == 0) {
        sb_api__err(rq, 400, "invalid", "a JSON object body is required");
        return NULL;
    }
    json_t *v = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!v) {
        snprintf(msg, sizeof(msg), "body is not valid JSON: %s at line %d column %d", e.text,
                 e.line, e.column);
        sb_api__err(rq, 400, "invalid_json", msg);
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        sb_api__err(rq, 400, "invalid", "the body must be a JSON object");
        return NULL;
    }
    return v;
}

int sb_api__only_keys(struct sb_req *rq, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v, *bad = NULL;

    json_object_foreach(obj, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k) != 0)
            i++;
        if (keys[i])
            continue;
        if (!bad)
            bad = json_array();
        json_array_append_new(bad, json_pack("{s:s, s:s}", "field", k, "message",
                                             "unknown field"));
    }
    if (!bad)
        return 0;
    sb_api__errd(rq, 400, "invalid", "the body has unknown fields", bad);
    return -1;
}

/* ---- roles and scope -------------------------------------------------------- */

int sb_api__has(const struct sb_principal *p, enum sb_need r)
{
    uint32_t ro = p->roles;
    switch (r) {
    case SB_NEED_PUBLIC: return 1;
    case SB_NEED_USER: return p->uid > 0;
    case SB_NEED_VIEWER: return (ro & SB_ROLE_ALL) != 0;
    case SB_NEED_OPERATOR: return (ro & (SB_ROLE_ADMIN | SB_ROLE_MANAGER | SB_ROLE_OPERATOR)) != 0;
    case SB_NEED_MANAGER: return (ro & (SB_ROLE_ADMIN | SB_ROLE_MANAGER)) != 0;
    case SB_NEED_ADMIN: return (ro & SB_ROLE_ADMIN) != 0;
    }
    return 0;
}

int sb_api__in_scope(const struct sb_principal *p, const struct sb_model *m, size_t b)
{
    if (p->roles & SB_ROLE_ADMIN)
        return 1;
    if (b >= m->nbuildings)
        return 0;
    const struct sb_building *bd = &m->buildings[b];
    for (size_t i = 0; i < p->ngrants; i++) {
        if (p->grants[i].kind == 'b' && strcmp(p->grants[i].slug, bd->slug) == 0)
            return 1;
        if (p->grants[i].kind == 's' && strcmp(p->grants[i].slug, bd->site) == 0)
            return 1;
    }
    return 0;
}

int sb_api__site_visible(const struct sb_principal *p, const struct sb_model *m, size_t s)
{
    if (p->roles & SB_ROLE_ADMIN)
        return 1;
    for (size_t i = 0; i < p->ngrants; i++)
        if (p->grants[i].kind == 's' && strcmp(p->grants[i].slug, m->sites[s].slug) == 0)
            return 1;
    for (size_t b = 0; b < m->nbuildings; b++)
        if (m->buildings[b].site_ix == (int32_t)s && sb_api__in_scope(p, m, b))
            return 1;
    return 0;
}

/* The building a path parameter lives in: 0 and *b set, 1 when the name
 * does not scope (user, key), SB_ENOENT when the object is unknown. */
static int param_building(const struct sb_model *m, const char *name, const char *val,
                          size_t *b, int *site)
{
    *site = 0;
    if (strcmp(name, "building") == 0) {
        const struct sb_building *x = sb_model_building(m, val);
        if (!x)
            return SB_ENOENT;
        *b = (size_t)(x - m->buildings);
    } else if (strcmp(name, "zone") == 0) {
        const struct sb_zone *x = sb_model_zone(m, val);
        if (!x)
            return SB_ENOENT;
        *b = (size_t)x->building_ix;
    } else if (strcmp(name, "equipment") == 0) {
        const struct sb_equipment *x = sb_model_equipment(m, val);
        if (!x)
            return SB_ENOENT;
        *b = (size_t)x->building_ix;
    } else if (strcmp(name, "point") == 0) {
        const struct sb_point *x = sb_api__point(m, val);
        if (!x)
            return SB_ENOENT;
        *b = (size_t)x->building_ix;
    } else if (strcmp(name, "site") == 0) {
        const struct sb_site *x = sb_model_site(m, val);
        if (!x)
            return SB_ENOENT;
        *b = (size_t)(x - m->sites);
        *site = 1;
    } else {
        return 1;
    }
    return 0;
}

const struct sb_model *sb_api__model(struct sb_api *api, struct sb_req *rq)
{
    if (!rq->model && api->ctx.models)
        rq->model = sb_mhub_get(api->ctx.models);
    return rq->model ? rq->model->m : NULL;
}

const struct sb_point *sb_api__point(const struct sb_model *m, const char *val)
{
    char *end;
    size_t n = strlen(val);
    if (n > 0 && n <= 10 && strspn(val, "0123456789") == n) {
        unsigned long long id = strtoull(val, &end, 10);
        if (id > 0 && id <= UINT32_MAX)
            return sb_model_point_by_id(m, (uint32_t)id);
        return NULL;
    }
    return sb_model_point(m, val);
}

/* Check every scoping path parameter.  Returns 0 or answers 404. */
static int check_scope(struct sb_req *rq, const struct sb_model *m)
{
    char name[32];
    for (size_t i = 0; i < rq->nparams; i++) {
        size_t b;
        int site;
        if (sb_api__param_name(rq->route->path, i, name, sizeof(name)))
            break;
        int rc = param_building(m, name, rq->params[i], &b, &site);
        if (rc == 1)
            continue;
        if (rc == 0 && (site ? sb_api__site_visible(&rq->who, m, b)
                             : sb_api__in_scope(&rq->who, m, b)))
            continue;
        char msg[128];
        snprintf(msg, sizeof(msg), "no such %s: %s", name, rq->params[i]);
        sb_api__err(rq, 404, "not_found", msg);
        return -1;
    }
    return 0;
}

/* ---- the pipeline ------------------------------------------------------------ */

void sb_api__cors(struct sb_api *api, struct sb_req *rq, const char *origin)
{
    if (!origin || !*origin)
        return;
    for (size_t i = 0; i < api->ncors; i++)
        if (strcmp(api->cors[i], origin) == 0) {
            /* Fetch standard s.3.2.5: echo the one origin, and say the
             * answer varies with it so caches keep them apart. */
            sb_http__hdr(&rq->resp, "access-control-allow-origin:", "%s", origin);
            sb_http__hdr(&rq->resp, "vary:", "Origin");
            sb_http__hdr(&rq->resp, "access-control-expose-headers:",
                         "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Retry-After, "
                         "Location, Content-Disposition");
            rq->cors_ok = 1;
            return;
        }
    rq->cors_bad = 1;
}

/* An OPTIONS request: CORS preflight (Fetch s.3.2) or plain OPTIONS. */
static void preflight(struct sb_req *rq, unsigned allow)
{
    char methods[96] = "";
    for (unsigned m = SB_M_GET; m <= SB_M_OPTIONS; m <<= 1)
        if (allow & m || m == SB_M_OPTIONS) {
            strcat(methods, methods[0] ? ", " : "");
            strcat(methods, sb_api__method_name(m));
        }
    if (rq->cors_bad) {
        sb_api__err(rq, 403, "forbidden", "origin not allowed (option api.cors_origins)");
        return;
    }
    rq->resp.status = 204;
    sb_http__hdr(&rq->resp, "allow:", "%s", methods);
    if (rq->cors_ok) {
        sb_http__hdr(&rq->resp, "access-control-allow-methods:", "%s", methods);
        sb_http__hdr(&rq->resp, "access-control-allow-headers:", "Authorization, Content-Type");
        sb_http__hdr(&rq->resp, "access-control-max-age:", "600");
    }
}

static void rl_headers(struct sb_req *rq, const struct sb_rl_result *r)
{
    /* draft-ietf-httpapi-ratelimit-headers (RateLimit-Limit/Remaining/Reset). */
    sb_http__hdr(&rq->resp, "ratelimit-limit:", "%" PRId64, r->limit);
    sb_http__hdr(&rq->resp, "ratelimit-remaining:", "%" PRId64, r->remaining);
    sb_http__hdr(&rq->resp, "ratelimit-reset:", "%" PRId64, r->reset_s);
}

/* The node's bucket decides at once; with Redis, the shared bucket's last
 * verdict on the key can refuse too (its take runs asynchronously:
 * docs/internals/cluster.md). */
static int limited(struct sb_api *api, struct sb_req *rq, struct sb_rl *rl, const char *key,
                   double capacity, double per_min)
{
    struct sb_rl_result r;
    if (!rl || sb_rl_take(rl, key, sb_now_ms(), &r) != 0)
        return 0;
    if (api->redis) {
        /* taken even when this node refuses: the refusal then reaches the
         * other nodes at once (one message per refusal period) */
        int64_t w = sb_redis_rl(api->redis, key, capacity, per_min / 60.0);
        if (w > 0 && r.allowed) {
            r.allowed = 0;
            r.remaining = 0;
            r.retry_after_s = (w + 999) / 1000;
        }
    }
    rl_headers(rq, &r);
    if (r.allowed)
        return 0;
    rq->resp.retry_after = (int)(r.retry_after_s > 0 ? r.retry_after_s : 1);
    sb_api__err(rq, 429, "rate_limited", "too many requests; see Retry-After");
    return 1;
}

static void unauthorized(struct sb_req *rq, const char *code, const char *msg)
{
    /* RFC 6750 s.3 */
    sb_http__hdr(&rq->resp, "www-authenticate:", "Bearer realm=\"sbems\", error=\"%s\"",
                 strcmp(code, "unauthenticated") == 0 ? "invalid_request" : "invalid_token");
    sb_api__err(rq, 401, code, msg);
}

/* Bearer token of the request, or NULL. */
static const char *bearer(const struct sb_req *rq)
{
    const char *a = rq->auth;
    if (strncasecmp(a, "Bearer ", 7) != 0)
        return NULL;
    a += 7;
    while (*a == ' ')
        a++;
    return *a ? a : NULL;
}

/* Role, password and scope checks once the principal is known.  Returns 0
 * or answers. */
static int authorize(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_route *rt = rq->route;

    if (rq->who.must_change_pw && !(rt->flags & SB_RT_PWOK)) {
        sb_api__err(rq, 403, "password_change_required",
                    "change your password first (POST /api/v1/auth/password)");
        return -1;
    }
    if (!sb_api__has(&rq->who, rt->need)) {
        sb_api__err(rq, 403, "forbidden", "your role does not allow this");
        return -1;
    }
    if (rq->nparams && !api->ctx.models) {
        rq->resp.retry_after = 5;
        sb_api__err(rq, 503, "unavailable", "no building model loaded");
        return -1;
    }
    if (rq->nparams) {
        if (!rq->model)
            rq->model = sb_mhub_get(api->ctx.models);
        if (check_scope(rq, rq->model->m))
            return -1;
    }
    return 0;
}

int sb_api__handle(struct sb_api *api, struct sb_req *rq)
{
    unsigned allow;
    char key[96];

    if ((rq->method == SB_M_GET || rq->method == SB_M_HEAD) && rq->body_len) {
        /* RFC 9110 s.9.3.1: a GET body has no meaning; refusing it keeps a
         * proxy and us from reading the request stream differently. */
        rq->close = 1;
        sb_api__err(rq, 400, "bad_request", "a GET request takes no body");
        return SB_API_DONE;
    }
    rq->route = sb_api__match(rq->path, rq->method, rq, &allow);
    if (rq->qoverflow) {
        sb_api__err(rq, 400, "invalid", "too many query parameters");
        return SB_API_DONE;
    }
    if (rq->method == SB_M_OPTIONS && allow) {
        preflight(rq, allow);
        return SB_API_DONE;
    }
    if (!rq->route) {
        if (allow) {
            rq->resp.allow = sb_api__allow_text(allow);
            sb_api__err(rq, 405, "method_not_allowed", "method not allowed on this path");
            return SB_API_DONE;
        }
        return sb_api__static(api, rq);
    }
    snprintf(key, sizeof(key), "ip:%s", rq->ip);
    if (limited(api, rq, api->rl_ip, key, api->rate_ip, api->rate_ip))
        return SB_API_DONE;
    if (rq->route->fn == sb_api__h_login) {
        /* Throttle before the (deliberately slow) password check. */
        json_t *b = rq->body ? json_loadb(rq->body, rq->body_len, 0, NULL) : NULL;
        const char *u = json_string_value(json_object_get(b, "username"));
        char name[SB_USERNAME_MAX + 1] = "";
        for (size_t i = 0; u && u[i] && i < SB_USERNAME_MAX; i++)
            name[i] = (char)(u[i] >= 'A' && u[i] <= 'Z' ? u[i] + 32 : u[i]);
        json_decref(b);
        if (sb_api__login_gate(api, rq, name))
            return SB_API_DONE;
    }
    if (rq->route->need == SB_NEED_PUBLIC)
        goto go;
    if (!api->ctx.db) {
        rq->resp.retry_after = 5;
        sb_api__err(rq, 503, "unavailable", "authentication is not available");
        return SB_API_DONE;
    }
    const char *tok = bearer(rq);
    if (!tok) {
        unauthorized(rq, "unauthenticated", "sign in: send Authorization: Bearer <token>");
        return SB_API_DONE;
    }
    int rc = sb_api__authenticate(api, tok, &rq->who);
    if (rc == SB_ETIMEDOUT) {
        unauthorized(rq, "token_expired", "the access token has expired; refresh it");
        return SB_API_DONE;
    }
    if (rc && rc != SB_EAGAIN) {
        unauthorized(rq, "invalid_token", "the access token is invalid or revoked");
        return SB_API_DONE;
    }
    snprintf(key, sizeof(key), "u:%" PRId64, rq->who.uid);
    if (limited(api, rq, api->rl_user, key, api->burst_user, api->rate_user))
        return SB_API_DONE;
    if (rc == SB_EAGAIN) {
        rq->need_load = 1;             /* the pool loads the principal first */
        return SB_API_POOL;
    }
    if (authorize(api, rq))
        return SB_API_DONE;
go:
    if (!(rq->route->flags & SB_RT_LOOP))
        return SB_API_POOL;
    rq->route->fn(api, rq);
    return rq->hold ? SB_API_HOLD : rq->defer ? SB_API_POOL : SB_API_DONE;
}

/* Compress a large JSON/text body when the client takes gzip. */
static void maybe_gzip(struct sb_req *rq)
{
    struct sb_http__resp *r = &rq->resp;
    void *z;
    size_t zn;

    if (!rq->gzip_ok || r->gzip || r->fd >= 0 || r->body.len < GZIP_MIN || !r->ctype ||
        (strncmp(r->ctype, "application/json", 16) != 0 && strncmp(r->ctype, "text/", 5) != 0))
        return;
    if (sb_gzip(r->body.p, r->body.len, 1, &z, &zn) != 0)
        return;
    if (zn < r->body.len) {
        sb_http__buf_reset(&r->body);
        sb_http__buf_add(&r->body, z, zn);
        r->gzip = 1;
    }
    free(z);
    sb_http__hdr(r, "vary:", "Accept-Encoding");
}

void sb_api__run(struct sb_api *api, struct sb_req *rq)
{
    if (!rq->route) {                  /* a static file */
        sb_api__static_run(api, rq);
        maybe_gzip(rq);                /* the UI's scripts and styles shrink 3-4x */
        return;
    }
    if (rq->need_load) {
        int rc = sb_api__principal_load(api, rq->who.uid, &rq->who);
        if (rc == SB_ENOENT || rc == SB_ECLOSED) {
            unauthorized(rq, "invalid_token", "the account is disabled or gone");
            return;
        }
        if (rc) {
            sb_api__err_rc(rq, rc, "loading the account");
            return;
        }
        if (authorize(api, rq))
            return;
        rq->need_load = 0;
        /* A loop route reads state only the loop thread may touch (the
         * drivers, the live table, the lease view): its handler runs back
         * on the loop (sb_api__loop_again), never here. */
        if (rq->route->flags & SB_RT_LOOP) {
            rq->loop_again = 1;
            return;
        }
    }
    rq->on_pool = 1;
    rq->defer = 0;
    rq->route->fn(api, rq);
    maybe_gzip(rq);
}

int sb_api__loop_again(struct sb_api *api, struct sb_req *rq)
{
    rq->loop_again = 0;
    rq->on_pool = 0;
    rq->route->fn(api, rq);
    return rq->hold ? SB_API_HOLD : rq->defer ? SB_API_POOL : SB_API_DONE;
}

void sb_api__after(struct sb_api *api, struct sb_req *rq)
{
    if (rq->after)
        rq->after(api, rq);
}

void sb_api__req_release(struct sb_api *api, struct sb_req *rq)
{
    (void)api;
    if (rq->model)
        sb_mref_put(rq->model);
    rq->model = NULL;
    free(rq->body);
    rq->body = NULL;
}

void sb_api__done(struct sb_api *api, struct sb_req *rq, uint64_t ns)
{
    char st[8];
    const char *route = rq->route ? rq->route->path : (rq->resp.ui ? "static" : "none");
    snprintf(st, sizeof(st), "%d", rq->resp.status);
    const char *lv[] = { rq->route ? sb_api__method_name(rq->route->method) : "GET", route, st };
    sb_metric_inc(api->m_req, lv, 1);
    const char *lr[] = { route };
    sb_metric_observe(api->m_lat, lr, (double)ns / 1e9);
}

/* ---- audit ---------------------------------------------------------------------- */

/* A before/after image too large for the audit log (SB_AUDIT_JSON_MAX) is
 * kept as a summary rather than dropped with the whole record: its size and,
 * per array member, the count and the first ids ("points": 245 of them). */
static char *audit_json(json_t *j)
{
    char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_t *sum, *v;
    const char *k;

    if (!t || strlen(t) <= SB_AUDIT_JSON_MAX)
        return t;
    sum = json_pack("{s:b, s:I}", "truncated", 1, "bytes", (json_int_t)strlen(t));
    free(t);
    if (json_is_object(j))
        json_object_foreach(j, k, v) {
            if (!json_is_array(v))
                continue;
            json_t *ids = json_array(), *e;
            size_t i;
            json_array_foreach(v, i, e)
                if (i < 100 && json_is_string(json_object_get(e, "id")))
                    json_array_append(ids, json_object_get(e, "id"));
            json_object_set_new(sum, k, json_pack("{s:I, s:o}", "count", (json_int_t)json_array_size(v),
                                                  "ids", ids));
        }
    t = json_dumps(sum, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(sum);
    return t;
}

void sb_api__audit(struct sb_api *api, const struct sb_req *rq, const char *action,
                   const char *target, json_t *before, json_t *after, const char *result,
                   const char *detail)
{
    char *b = audit_json(before);
    char *a = audit_json(after);
    struct sb_audit_rec r = {
        .ts_ms = sb_now_ms(), .actor_id = rq ? rq->who.uid : 0,
        .actor = rq && rq->who.username[0] ? rq->who.username : NULL,
        .ip = rq && rq->ip[0] ? rq->ip : NULL, .action = action, .target = target,
        .before = b, .after = a, .result = result, .detail = detail,
    };
    int rc = api->ctx.db ? sb_appdb_audit_append(api->ctx.db, &r, NULL) : SB_ECLOSED;
    if (rc)
        SB_ERR("api", "audit append failed (%s %s): %s", action, target ? target : "",
               sb_strerror(rc));
    free(b);
    free(a);
}

/* ---- life cycle ------------------------------------------------------------------ */

/* The bus runs on the ingest writer thread: update the latest values and
 * hand the batch to the WebSocket hub (which wakes the loop). */
static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    struct sb_api *api = ud;
    sb_live_update(api->live, r, n);
    sb_ws_publish(api->ws, r, n);
    sb_redis_publish_readings(api->redis, r, n);   /* one durable batch, to the other nodes */
}

void sb_api__ws_event(struct sb_api *api, const char *channel, const char *building,
                      const char *json)
{
    if (api->ws)
        sb_ws_event_scoped(api->ws, channel, building, json);
    sb_redis_publish_event(api->redis, channel, building, json);
}

/* The driver framework's verdict on a polled point (loop thread): flag the
 * held value stale, or fresh again, and tell WebSocket clients (the same
 * reading with the new quality; docs/api.md, "quality"). */
static void on_fresh(void *ud, uint32_t point, int stale)
{
    struct sb_api *api = ud;
    struct sb_reading r;
    if (sb_live_mark(api->live, point, stale, &r) == 0 && api->ws)
        sb_ws_publish(api->ws, &r, 1);
}

/* An alert changed (loop thread): to WebSocket clients who may see its building. */
static void on_alert(void *ud, const struct sb_alert *a, const char *event)
{
    struct sb_api *api = ud;
    json_t *j = json_pack("{s:s, s:o}", "event", event, "alert", sb_alert_json(a));
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (s)
        sb_api__ws_event(api, "alerts", a->building, s);
    free(s);
    json_decref(j);
}

static int parse_cors(struct sb_api *api, const char *list)
{
    const char *p = list;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        if (api->ncors == SB_CORS_MAX || n >= sizeof(api->cors[0]))
            return SB_ECONFIG;
        memcpy(api->cors[api->ncors], p, n);
        api->cors[api->ncors++][n] = '\0';
        p += n;
    }
    return 0;
}

static void options(struct sb_api *api, const struct sb_config *cfg)
{
    api->access_ttl = cfg ? cfg->auth_access_ttl : 15 * 60000;
    api->refresh_ttl = cfg ? cfg->auth_refresh_ttl : 30LL * 86400000;
    api->pw = sb_pw_params_default();
    if (cfg && cfg->auth_password_cost == SB_CONF_PWCOST_MODERATE) {
        api->pw.opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        api->pw.memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
    } else if (cfg && cfg->auth_password_cost == SB_CONF_PWCOST_MIN) {
        api->pw.opslimit = crypto_pwhash_OPSLIMIT_MIN;
        api->pw.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    }
    api->rate_user = cfg ? (double)cfg->api_rate_limit : 100;
    api->burst_user = cfg ? (double)cfg->api_rate_burst : 100;
    api->rate_ip = cfg ? (double)cfg->api_rate_limit_ip : 600;
}

static int limiters(struct sb_api *api, const struct sb_config *cfg)
{
    struct sb_thr_cfg tc = sb_thr_cfg_default();
    int rc = 0;
    if (cfg) {
        tc.lockout_failures = (uint32_t)cfg->auth_lockout_failures;
        tc.lockout_ms = cfg->auth_lockout;
    }
    if (api->rate_user > 0)
        rc = sb_rl_new(api->burst_user, api->rate_user / 60.0, LIM_KEYS, &api->rl_user);
    if (rc == 0 && api->rate_ip > 0)
        rc = sb_rl_new(api->rate_ip, api->rate_ip / 60.0, LIM_KEYS, &api->rl_ip);
    api->thr_cfg = tc;
    if (rc == 0)
        rc = sb_thr_new(LIM_KEYS, tc, &api->thr_user);
    if (rc == 0)
        rc = sb_thr_new(LIM_KEYS, tc, &api->thr_ip);
    return rc;
}

static double g_ws_clients(void *ud) { return (double)sb_ws_clients(((struct sb_api *)ud)->ws); }
static double g_uptime(void *ud) { return (double)(sb_now_ms() - ((struct sb_api *)ud)->started_ms) / 1000.0; }

static int metrics(struct sb_api *api)
{
    static const double lat[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                  0.25, 0.5, 1, 2.5, 5, 10 };
    static const char *const lreq[] = { "method", "route", "status" };
    static const char *const lroute[] = { "route" };
    static const char *const lres[] = { "result" };
    struct sb_metrics *m = sb_metrics_new();
    if (!m)
        return SB_ENOMEM;
    api->metrics = m;
    api->m_req = sb_metric_counter(m, "sbems_http_requests_total",
                                   "HTTP requests answered, by route and status", lreq, 3);
    api->m_lat = sb_metric_histogram(m, "sbems_http_request_duration_seconds",
                                     "Time from request to the end of the answer", lroute, 1,
                                     lat, sizeof(lat) / sizeof(lat[0]));
    api->m_auth = sb_metric_counter(m, "sbems_auth_logins_total", "Login attempts by result",
                                    lres, 1);
    sb_metric_gauge_fn(m, "sbems_ws_clients", "WebSocket clients connected", g_ws_clients, api);
    sb_metric_gauge_fn(m, "sbems_uptime_seconds", "Seconds since the API started", g_uptime, api);
    sb_api__metrics_ingest(api);
    return api->m_req && api->m_lat && api->m_auth ? 0 : SB_ENOMEM;
}

static int keyring(struct sb_api *api, const struct sb_config *cfg)
{
    char err[256] = "";
    if (!api->ctx.db)
        return 0;                      /* no accounts: no tokens either */
    if (cfg && cfg->auth_key_file && *cfg->auth_key_file)
        snprintf(api->key_path, sizeof(api->key_path), "%s", cfg->auth_key_file);
    else
        snprintf(api->key_path, sizeof(api->key_path), "%s/token-keys.json",
                 cfg ? cfg->data_dir : ".");
    int rc = sb_keyring_load_or_create(api->key_path, sb_now_ms(), &api->kr, err, sizeof(err));
    if (rc)
        SB_ERR("api", "token keys %s: %s", api->key_path, err[0] ? err : sb_strerror(rc));
    return rc;
}

/* ---- other nodes (cluster/redis.h) ------------------------------------------------ */

/* Readings another node made durable (Redis subscriber thread): the live
 * table (snapshots, latest) and this node's WebSocket clients; not the
 * local bus, whose rules and analytics run where the reading was taken. */
static void peer_readings(void *ud, const struct sb_reading *r, size_t n)
{
    struct sb_api *api = ud;
    sb_live_update(api->live, r, n);
    sb_ws_publish(api->ws, r, n);
}

static void peer_event(void *ud, const char *channel, const char *building, const char *json)
{
    struct sb_api *api = ud;
    if (channel[0] == '@') {           /* node to node, never for WebSocket clients */
        if (strcmp(channel, "@fwd") == 0)
            sb_api__fwd_message(api, json);
        return;
    }
    if (api->ws && building)
        sb_ws_event_scoped(api->ws, channel, building, json);
}

static void peer_revoked(void *ud, const char *sid, int64_t until_ms)
{
    revoke_local(ud, sid, until_ms);
}

static void peer_user_changed(void *ud, int64_t uid)
{
    principal_forget_local(ud, uid);
}

static double redis_stat(void *ud, size_t off)
{
    struct sb_redis_stats st;
    sb_redis_stats(((struct sb_api *)ud)->redis, &st);
    return off == offsetof(struct sb_redis_stats, up) ? (double)st.up
                                                      : (double)*(uint64_t *)((char *)&st + off);
}
static double g_redis_up(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, up)); }
static double c_redis_fallback(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, fallback)); }
static double c_redis_dropped(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, dropped)); }
static double c_redis_pub(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, published)); }
static double c_redis_recv(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, received)); }
static double c_redis_err(void *ud) { return redis_stat(ud, offsetof(struct sb_redis_stats, errors)); }

static double fwd_stat(void *ud, size_t off)
{
    struct sb_fwd_stats st;
    sb_api__fwd_stats(ud, &st);
    return (double)*(uint64_t *)((char *)&st + off);
}
static double c_fwd_sent(void *ud) { return fwd_stat(ud, offsetof(struct sb_fwd_stats, sent)); }
static double c_fwd_expired(void *ud) { return fwd_stat(ud, offsetof(struct sb_fwd_stats, expired)); }
static double c_fwd_handled(void *ud) { return fwd_stat(ud, offsetof(struct sb_fwd_stats, handled)); }

static int cluster_metrics(struct sb_api *api)
{
    struct sb_metrics *m = api->metrics;
    int rc = sb_metric_gauge_fn(m, "sbems_redis_up", "1 while the shared Redis answers",
                                g_redis_up, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_redis_fallback_total",
                                  "Limit checks decided locally because Redis was down",
                                  c_redis_fallback, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_redis_dropped_total",
                                  "Messages or jobs dropped: Redis down or too slow",
                                  c_redis_dropped, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_redis_published_total",
                                  "Messages published to the other nodes", c_redis_pub, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_redis_received_total",
                                  "Messages from the other nodes handled", c_redis_recv, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_redis_errors_total",
                                  "Redis command errors and lost connections", c_redis_err, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_forwarded_sent_total",
                                  "Commands sent to the node that polls their device", c_fwd_sent,
                                  api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_forwarded_expired_total",
                                  "Forwarded commands no node answered in time", c_fwd_expired, api);
    if (!rc)
        rc = sb_metric_counter_fn(m, "sbems_forwarded_handled_total",
                                  "Commands other nodes forwarded, seen here", c_fwd_handled, api);
    return rc;
}

/* With redis.url: share limits, revocations and live updates (last in
 * sb_api__new: its threads call into the live table and the hub). */
static int cluster_start(struct sb_api *api, const struct sb_config *cfg)
{
    char err[200] = "";
    if (!cfg || !cfg->redis_url || !*cfg->redis_url)
        return 0;
    struct sb_redis_cfg rc_ = { .url = cfg->redis_url, .prefix = cfg->redis_prefix,
                                .node = cfg->store_node, .timeout_ms = 1000 };
    struct sb_redis_hooks h = { .readings = peer_readings, .event = peer_event,
                                .revoked = peer_revoked, .user_changed = peer_user_changed,
                                .ud = api };
    int rc = sb_redis_new(api->loop, &rc_, &h, &api->redis, err, sizeof(err));
    if (rc) {
        SB_ERR("api", "%s", err[0] ? err : sb_strerror(rc));
        return rc;
    }
    if ((rc = sb_api__fwd_start(api)))
        return rc;
    return cluster_metrics(api);
}

/* Supervisory control's writes join the commands held at a priority, so
 * a point's priority view names sbems-control as the slot's holder. */
static void on_control_write(void *ud, const struct sb_write_result *r, const char *reason)
{
    sb_api__cmd_record(ud, r, "sbems-control", reason, 0);
}

int sb_api__new(uv_loop_t *loop, const struct sb_http_ctx *ctx, struct sb_http_stats *hst,
                struct sb_api **out)
{
    struct sb_api *api = calloc(1, sizeof(*api));
    const struct sb_config *cfg = ctx->cfg;
    int rc = SB_ENOMEM;

    *out = NULL;
    if (!api)
        return SB_ENOMEM;
    api->loop = loop;
    api->ctx = *ctx;
    api->hst = hst;
    api->started_ms = sb_now_ms();
    pthread_mutex_init(&api->krmu, NULL);
    options(api, cfg);
    if (cfg && (rc = parse_cors(api, cfg->api_cors_origins))) {
        SB_ERR("api", "api.cors_origins: at most %d origins of < 256 bytes", SB_CORS_MAX);
        goto fail;
    }
    sb_api__web_root(api, cfg);
    if (!(api->users = calloc(1, sizeof(*api->users))) ||
        !(api->users->v = calloc(UCACHE_MAX, sizeof(struct sb_principal))) ||
        !(api->tokens = calloc(1, sizeof(*api->tokens))) ||
        !(api->ovc = sb_api__ovcache_new()))
        goto fail;
    pthread_mutex_init(&api->users->mu, NULL);
    if ((rc = limiters(api, cfg)) || (rc = keyring(api, cfg)) || (rc = metrics(api)) ||
        (rc = sb_live_new(&api->live)))
        goto fail;
    if (ctx->bus) {
        rc = sb_bus_subscribe(ctx->bus, on_bus, api);   /* on_bus skips a NULL hub */
        if (rc < 0)
            goto fail;
        api->bus_sub = rc;
    }
    if (ctx->store)
        sb_api__live_fill(api);
    /* Last: from here on the API owns loop handles and must be stopped
     * through the loop (sb_api__stop, then wait for sb_api__idle). */
    if ((rc = sb_ws_new(api, &api->ws)) || (rc = sb_api__cmds_start(api)))
        goto fail;
    if (ctx->drivers && (rc = sb_drvmgr_on_fresh(ctx->drivers, on_fresh, api)))
        goto fail;
    if (ctx->alerts)
        sb_alerts_on_change(ctx->alerts, on_alert, api);
    if (ctx->control)
        sb_ctlsvc_set_recorder(ctx->control, on_control_write, api);
    if ((rc = cluster_start(api, cfg)))
        goto fail;
    *out = api;
    return 0;
fail:
    sb_api__stop(api);
    sb_api__free(api);
    return rc ? rc : SB_ENOMEM;
}

void sb_api__stop(struct sb_api *api)
{
    if (!api || api->stopping)
        return;
    api->stopping = 1;
    if (api->bus_sub > 0)
        sb_bus_unsubscribe(api->ctx.bus, api->bus_sub);
    api->bus_sub = 0;
    sb_redis_stop(api->redis);         /* its threads call into the hub: first */
    sb_api__fwd_stop(api);             /* commands waiting for another node: 503 */
    if (api->ctx.drivers)
        sb_drvmgr_off_fresh(api->ctx.drivers, on_fresh, api);
    if (api->ctx.alerts)
        sb_alerts_on_change(api->ctx.alerts, NULL, NULL);
    if (api->ctx.control)
        sb_ctlsvc_set_recorder(api->ctx.control, NULL, NULL);
    sb_api__cmds_stop(api);
    sb_ws_stop(api->ws);
}

int sb_api__idle(struct sb_api *api)
{
    return !api || (sb_ws_idle(api->ws) && sb_redis_idle(api->redis));
}

void sb_api__free(struct sb_api *api)
{
    if (!api)
        return;
    sb_api__bacdisc_free(api);
    sb_api__cmds_free(api);
    sb_api__fwd_free(api);
    sb_redis_free(api->redis);
    sb_ws_free(api->ws);
    sb_live_free(api->live);
    sb_metrics_free(api->metrics);
    sb_rl_free(api->rl_user);
    sb_rl_free(api->rl_ip);
    sb_thr_free(api->thr_user);
    sb_thr_free(api->thr_ip);
    if (api->users) {
        pthread_mutex_destroy(&api->users->mu);
        free(api->users->v);
        free(api->users);
    }
    free(api->tokens);
    sb_api__ovcache_free(api->ovc);
    sb_keyring_wipe(&api->kr);
    pthread_mutex_destroy(&api->krmu);
    free(api);
}

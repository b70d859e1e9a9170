/*
 * api.h - internals of the REST API shared by src/api/ files, the unit tests
 * and the fuzzers: the request a handler sees, the route table, the
 * principal (who is asking) and the helpers every handler uses.
 *
 * Pipeline (api.c): the transport (http.c) reads a request, its headers and
 * body into a struct sb_req on the loop thread and calls sb_api__handle():
 *   CORS -> route match (router.c) -> rate limit (per address, then per
 *   user) -> authentication (JWT) -> role check -> scope check (the building
 *   a path names must be in the user's grants) -> the handler,
 * on the loop thread for SB_RT_LOOP routes (in-memory answers) or on the
 * libuv thread pool for the rest.  The handler fills rq->resp; sb_api__*
 * helpers make the one error shape (docs/api.md):
 *   {"error":{"code":"...","message":"...","details":[{"field":...,"message":...}]}}
 *
 * Ownership: a struct sb_req belongs to the transport; handlers may keep
 * nothing pointing into it after they return.  Threads: a handler runs on
 * exactly one thread; what it shares (struct sb_api) is either read-only
 * after start, locked inside its module, or loop-only as noted.
 */
#ifndef SB_API_API_H
#define SB_API_API_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "api/http_int.h"
#include "db/appdb.h"
#include "model/model.h"
#include "model/model_int.h"

/* Methods, as bits so a route or an Allow header can hold a set. */
enum {
    SB_M_GET = 1u << 0, SB_M_HEAD = 1u << 1, SB_M_POST = 1u << 2, SB_M_PUT = 1u << 3,
    SB_M_PATCH = 1u << 4, SB_M_DELETE = 1u << 5, SB_M_OPTIONS = 1u << 6
};

/* Least role a route needs. */
enum sb_need {
    SB_NEED_PUBLIC = 0,        /* anyone, no token */
    SB_NEED_USER,              /* any signed-in user (own account: me, password) */
    SB_NEED_VIEWER,            /* read within scope */
    SB_NEED_OPERATOR,          /* control within scope */
    SB_NEED_MANAGER,           /* change the model within scope, read the audit log */
    SB_NEED_ADMIN              /* users, sites, keys: everything */
};

/* Route flags. */
enum {
    SB_RT_LOOP = 1u << 0,      /* the handler answers from memory on the loop thread */
    SB_RT_BODY = 1u << 1,      /* takes a JSON body */
    SB_RT_PWOK = 1u << 2,      /* allowed while the user must change the password */
    SB_RT_AUTH = 1u << 3       /* an auth endpoint: stricter per-address limit */
};

#define SB_REQ_PARAMS   3      /* path parameters a route may have */
#define SB_REQ_QMAX     24     /* query parameters kept */
#define SB_REQ_QBYTES   4096   /* bytes of query text kept */
#define SB_PGRANTS_MAX  64     /* grants a principal carries (more: 403 on scoped routes) */

struct sb_req;
struct sb_api;
typedef void (*sb_handler_fn)(struct sb_api *api, struct sb_req *rq);

/* One route.  path uses {name} for a parameter segment; names say what
 * they hold and which building scopes them: {site}, {building}, {zone},
 * {equipment}, {point} (slug, or integer id for points), {user}, {key}. */
struct sb_route {
    unsigned method;           /* one SB_M_* (HEAD is implied by GET) */
    const char *path;          /* "/api/v1/buildings/{building}" */
    enum sb_need need;         /* least role */
    unsigned flags;            /* SB_RT_* */
    sb_handler_fn fn;          /* handler */
    const char *op;            /* OpenAPI operationId */
    const char *summary;       /* one line for people */
};

extern const struct sb_route sb_api__routes[];
extern const size_t sb_api__nroutes;

/* Who is asking (after authentication).  Roles (db/appdb.h SB_ROLE_*):
 * each includes the rights of those below it for the buildings in its
 * scope: admin > manager > operator > viewer; admins have every building. */
struct sb_principal {
    int64_t uid;               /* 0: anonymous */
    uint32_t roles;            /* SB_ROLE_* */
    int must_change_pw;        /* only SB_RT_PWOK routes until changed */
    char username[65];
    char sid[40];              /* refresh-token family of the session */
    int64_t exp_ms;            /* access token expiry */
    size_t ngrants;            /* scope of a non-admin */
    struct { char kind; char slug[SB_SLUG_MAX + 1]; } grants[SB_PGRANTS_MAX]; /* 's'ite/'b'uilding */
};

/* A request as handlers see it. */
struct sb_req {
    unsigned method;                       /* SB_M_* (HEAD arrives as GET with head=1) */
    int head;                              /* HEAD: send no body */
    const struct sb_route *route;          /* matched route */
    char path[SB_HTTP_MAX_URL + 1];        /* decoded path */
    size_t nparams;                        /* path parameters */
    char params[SB_REQ_PARAMS][SB_SLUG_MAX + 1];  /* their values, in order */
    size_t nq;                             /* query parameters */
    const char *qname[SB_REQ_QMAX];        /* into qbuf */
    const char *qval[SB_REQ_QMAX];         /* into qbuf */
    char qbuf[SB_REQ_QBYTES];              /* "name\0value\0..." */
    size_t qused;                          /* bytes of qbuf used */
    int qoverflow;                         /* more than fit: refused with 400 */
    char *body;                            /* request body (NUL-terminated), heap, or NULL */
    size_t body_len;                       /* its length */
    char ip[64];                           /* peer address */
    char ua[256];                          /* User-Agent, truncated */
    char auth[4200];                       /* Authorization header value */
    char cookie[1024];                     /* Cookie header value */
    char inm[80];                          /* If-None-Match header value */
    int gzip_ok;                           /* client accepts gzip */
    int tls;                               /* arrived over TLS */
    struct sb_principal who;               /* after authentication */
    struct sb_mref *model;                 /* pinned model (api.c puts it) */
    int cors_ok, cors_bad;                 /* Origin allowed / present but not allowed */
    int close;                             /* close the connection after answering */
    int need_load;                         /* principal to load on the pool first */
    int defer;                             /* a loop handler asks to run again on the pool */
    int hold;                              /* a loop handler answers later (sb_http_resume) */
    int on_pool;                           /* the handler runs on a pool thread */
    int loop_again;                        /* a loop route whose user the pool loaded:
                                              its handler runs on the loop next */
    void (*after)(struct sb_api *api, struct sb_req *rq);   /* loop-thread epilogue */
    int64_t xi[4];                         /* handler -> after scratch */
    char xs[2][128];                       /* handler -> after scratch */
    struct sb_http__resp resp;             /* the answer */
};

/* ---- router (router.c, pure) -------------------------------------------- */

/* Find the route for path and method.  Returns the route, or NULL with
 * *allow set to the methods the path has (0: no such path -> 404, else
 * 405).  Path parameters go to rq->params.  Segments longer than a slug or
 * empty never match. */
const struct sb_route *sb_api__match(const char *path, unsigned method, struct sb_req *rq,
                                     unsigned *allow);

/* Name of the i-th parameter of a route path ("building"), into buf. */
int sb_api__param_name(const char *route_path, size_t i, char *buf, size_t cap);

/* "GET", "POST", ... for one method bit. */
const char *sb_api__method_name(unsigned m);

/* "GET, HEAD, POST" for a method set (static storage per set). */
const char *sb_api__allow_text(unsigned set);

/* A point by integer id ("42") or slug; NULL if unknown. */
const struct sb_point *sb_api__point(const struct sb_model *m, const char *val);

/* The model rq works on: pinned on first use (api.c releases it with the
 * request), NULL when no model hub is open. */
const struct sb_model *sb_api__model(struct sb_api *api, struct sb_req *rq);

/* Add one query fragment "name=value" (decoded) to rq's table.  0, or
 * SB_ENOSPC with rq->qoverflow set (more than SB_REQ_QMAX or the bytes). */
int sb_req_add_query(struct sb_req *rq, const char *frag, size_t n);

/* Query parameter by name, NULL if absent. */
const char *sb_req_q(const struct sb_req *rq, const char *name);

/* ---- responses (api.c) ---------------------------------------------------- */

/* Error answer; details may be NULL (stolen reference otherwise: an array
 * of {"field":..,"message":..}). */
void sb_api__err(struct sb_req *rq, int status, const char *code, const char *msg);
void sb_api__errd(struct sb_req *rq, int status, const char *code, const char *msg,
                  json_t *details);
/* Error for a field of the body or query: 400 with one detail. */
void sb_api__bad_field(struct sb_req *rq, const char *field, const char *msg);
/* Answer with a JSON value (stolen reference), status given. */
void sb_api__json(struct sb_req *rq, int status, json_t *v);
/* Map an SB_E* code to an answer. */
void sb_api__err_rc(struct sb_req *rq, int rc, const char *what);
/* Parse the body as a JSON object; answers 400 and returns NULL if it is not. */
json_t *sb_api__body(struct sb_req *rq);

/* RFC 7396 merge patch applied to object o in place (h_model.c); 0 or SB_ENOMEM. */
int sb_api__merge_patch(json_t *o, json_t *patch);
/* Refuse query parameters not in the NULL-terminated list (400). */
int sb_api__only_query(struct sb_req *rq, const char *const *names);
/* limit (1..1000, default 100) and cursor of a list: 0 or answered 400. */
int sb_api__page_args(struct sb_req *rq, size_t *limit, const char **cursor);
/* A user as the API shows it (pool thread: reads grants). */
json_t *sb_api__user_json(struct sb_api *api, const struct sb_user *u);
/* One model object as JSON (points carry "point_id"). */
json_t *sb_api__obj_json(const struct sb_model *m, enum sb_obj k, size_t i);

/* Refuse keys of obj not in the NULL-terminated list (400, each named).
 * Returns 0 or -1 (answered). */
int sb_api__only_keys(struct sb_req *rq, json_t *obj, const char *const *keys);

/* ---- scope (api.c) --------------------------------------------------------- */

/* Whether the principal may see building b (index into m->buildings). */
int sb_api__in_scope(const struct sb_principal *p, const struct sb_model *m, size_t b);
/* Whether it may see site s (directly or through one of its buildings). */
int sb_api__site_visible(const struct sb_principal *p, const struct sb_model *m, size_t s);
/* Whether it holds role r or a higher one. */
int sb_api__has(const struct sb_principal *p, enum sb_need r);

/* ---- the API object (api.c) ----------------------------------------------- */

#include <limits.h>
#include <pthread.h>
#include <uv.h>

#include "auth/jwt.h"
#include "auth/limits.h"
#include "auth/password.h"

struct sb_rl;
struct sb_thr;
struct sb_metrics;
struct sb_metric;
struct sb_ws;
struct sb_live;
struct sb_ucache;
struct sb_tcache;
struct sb_redis;

#define SB_CORS_MAX 16         /* allowed origins */

struct sb_api {
    uv_loop_t *loop;                   /* the daemon's loop */
    struct sb_http_ctx ctx;            /* what the server was started with */
    struct sb_http_stats *hst;         /* the transport's counters */
    int64_t started_ms;                /* wall clock at start */
    int64_t access_ttl, refresh_ttl;   /* ms */
    struct sb_pw_params pw;            /* argon2id cost */
    double rate_user, burst_user;      /* per minute, capacity */
    double rate_ip;                    /* per minute (capacity the same) */
    size_t ncors;                      /* allowed origins */
    char cors[SB_CORS_MAX][256];
    char web_root[PATH_MAX];           /* web UI files, "" = none */
    char key_path[PATH_MAX];           /* token key file */
    pthread_mutex_t krmu;              /* protects kr (rotation on a pool thread) */
    struct sb_keyring kr;              /* token keys */
    struct sb_rl *rl_user, *rl_ip;     /* loop thread only */
    struct sb_thr *thr_user, *thr_ip;  /* loop thread only */
    struct sb_thr_cfg thr_cfg;         /* their rules (the shared throttle uses them too) */
    struct sb_redis *redis;            /* state shared with other nodes; NULL: redis.url empty */
    struct sb_ucache *users;           /* principal cache (locked inside) */
    struct sb_tcache *tokens;          /* verified-token cache, loop thread only */
    struct sb_metrics *metrics;        /* Prometheus registry */
    struct sb_metric *m_req, *m_lat;   /* requests by route/status, latency */
    struct sb_metric *m_auth;          /* logins by result */
    struct sb_live *live;              /* newest reading per point */
    struct sb_ws *ws;                  /* WebSocket hub */
    struct sb_ovcache *ovc;            /* building overviews, a second old at most */
    int bus_sub;                       /* live bus subscription id, 0 = none */
    struct sb_bacdisc_run *bacdisc;    /* the last BACnet discovery (h_bacnet.c) */
    struct sb_api_cmds *cmds;          /* commands held at a priority (cmds.c) */
    struct sb_api_fwd *fwd;            /* requests forwarded to other nodes (fwd.c) */
    int stopping;                      /* sb_api__stop() called */
};

/* What sb_api__handle() decided. */
enum { SB_API_DONE = 0, SB_API_POOL = 1, SB_API_HOLD = 2 };

#include "api/fwd.h"

/* A held request's answer is ready (loop thread): send it, or free the
 * request if its connection went away meanwhile (http.c). */
void sb_http_resume(struct sb_req *r);

/* Transport entry points (http.c); all on the loop thread but run. */
int  sb_api__new(uv_loop_t *loop, const struct sb_http_ctx *ctx, struct sb_http_stats *hst,
                 struct sb_api **out);
void sb_api__stop(struct sb_api *api);   /* close WebSockets, timers, bus */
int  sb_api__idle(struct sb_api *api);   /* 1 once every handle of it is closed */
void sb_api__free(struct sb_api *api);
void sb_api__cors(struct sb_api *api, struct sb_req *rq, const char *origin);
int  sb_api__handle(struct sb_api *api, struct sb_req *rq);
void sb_api__run(struct sb_api *api, struct sb_req *rq);      /* thread pool */
/* Loop thread, after the pool loaded the user of a loop route (loop_again):
 * run its handler; SB_API_DONE / SB_API_POOL / SB_API_HOLD as sb_api__handle. */
int  sb_api__loop_again(struct sb_api *api, struct sb_req *rq);
void sb_api__after(struct sb_api *api, struct sb_req *rq);
void sb_api__done(struct sb_api *api, struct sb_req *rq, uint64_t ns);
void sb_api__req_release(struct sb_api *api, struct sb_req *rq);

/* Authenticate a bearer token (loop thread; WebSocket auth too): fills
 * *who.  Returns 0, SB_ETIMEDOUT (expired), SB_EINVAL (invalid or
 * revoked), SB_EAGAIN (the user is not cached yet: retry from a pool
 * thread with sb_api__principal_load). */
int  sb_api__authenticate(struct sb_api *api, const char *token, struct sb_principal *who);
/* Load uid's roles and grants from the database (pool thread) into the
 * cache and *who.  SB_ENOENT / SB_ECLOSED (disabled) / store errors. */
int  sb_api__principal_load(struct sb_api *api, int64_t uid, struct sb_principal *who);
/* The cached principal of uid: 0 or SB_ENOENT. */
int  sb_api__principal_cached(struct sb_api *api, int64_t uid, struct sb_principal *who);
/* Forget a user's cached principal (roles or grants changed). */
void sb_api__principal_forget(struct sb_api *api, int64_t uid);
/* Refuse a session's access tokens from now on (logout, token theft), on
 * this node and, through Redis, on every other one. */
void sb_api__revoke_sid(struct sb_api *api, const char *sid, int64_t until_ms);
/* An event to this node's WebSocket clients who may see building, and to
 * the other nodes' (loop thread; see sb_ws_event_scoped). */
void sb_api__ws_event(struct sb_api *api, const char *channel, const char *building,
                      const char *json);

/* Static web UI files (static.c): choose web_root at start; answer a GET
 * for a path no route has (loop: decide; pool: read the file). */
void sb_api__web_root(struct sb_api *api, const struct sb_config *cfg);
int  sb_api__static(struct sb_api *api, struct sb_req *rq);
void sb_api__static_run(struct sb_api *api, struct sb_req *rq);

/* Fill the live table from the store's latest values (start). */
void sb_api__live_fill(struct sb_api *api);
/* The overview cache (h_data.c). */
struct sb_ovcache *sb_api__ovcache_new(void);
void sb_api__ovcache_free(struct sb_ovcache *c);

/* Register ingest/store gauges in the metrics registry. */
void sb_api__metrics_ingest(struct sb_api *api);

/* Audit an action (pool thread).  before/after: JSON values or NULL (not
 * stolen). */
/* Merge site-document entries ({"equipment":[...],"points":[...]}) into
 * the model: equipment whose id exists in the same building is kept,
 * anything else that exists is a 409; validated, saved, drivers rebound,
 * audited as action on target.  Answers the request on failure; returns
 * 0 when merged (the caller answers). (h_model.c) */
int sb_api__merge_doc(struct sb_api *api, struct sb_req *rq, json_t *frag, const char *action,
                      const char *target);
/* Commands held at a priority (cmds.c): start/stop/free with the API;
 * record a command's outcome (a release when res->value is NaN). */
int  sb_api__cmds_start(struct sb_api *api);
void sb_api__cmds_stop(struct sb_api *api);
void sb_api__cmds_free(struct sb_api *api);
struct sb_write_result;
void sb_api__cmd_record(struct sb_api *api, const struct sb_write_result *res, const char *actor,
                        const char *reason, int64_t expires_ms);
/* BACnet discovery state (h_bacnet.c). */
void sb_api__bacdisc_free(struct sb_api *api);

void sb_api__audit(struct sb_api *api, const struct sb_req *rq, const char *action,
                   const char *target, json_t *before, json_t *after, const char *result,
                   const char *detail);

/* ---- handlers (h_*.c) ------------------------------------------------------ */

#define SB_HANDLER(n) void sb_api__h_##n(struct sb_api *api, struct sb_req *rq)
SB_HANDLER(healthz); SB_HANDLER(readyz); SB_HANDLER(metrics); SB_HANDLER(openapi);
SB_HANDLER(status); SB_HANDLER(config); SB_HANDLER(audit); SB_HANDLER(later);
SB_HANDLER(login); SB_HANDLER(refresh); SB_HANDLER(logout); SB_HANDLER(me);
SB_HANDLER(password); SB_HANDLER(rotate_keys);
SB_HANDLER(users_list); SB_HANDLER(user_create); SB_HANDLER(user_get);
SB_HANDLER(user_patch); SB_HANDLER(user_delete); SB_HANDLER(user_reset);
SB_HANDLER(list); SB_HANDLER(get); SB_HANDLER(create); SB_HANDLER(patch); SB_HANDLER(delete);
SB_HANDLER(overview); SB_HANDLER(zone_status); SB_HANDLER(telemetry); SB_HANDLER(control);
SB_HANDLER(latest); SB_HANDLER(history); SB_HANDLER(readings); SB_HANDLER(export);
SB_HANDLER(drivers); SB_HANDLER(cluster); SB_HANDLER(bacnet_discover); SB_HANDLER(bacnet_discovery);
SB_HANDLER(bacnet_accept); SB_HANDLER(priority);
SB_HANDLER(alerts_list); SB_HANDLER(alert_get); SB_HANDLER(alert_act);
SB_HANDLER(arules_list); SB_HANDLER(arule_create); SB_HANDLER(arule_get); SB_HANDLER(arule_patch);
SB_HANDLER(arule_delete); SB_HANDLER(atemplates); SB_HANDLER(atemplates_apply);
SB_HANDLER(asubs_list); SB_HANDLER(asub_create); SB_HANDLER(asub_delete);
SB_HANDLER(pred_load); SB_HANDLER(pred_accuracy); SB_HANDLER(pred_temp);
SB_HANDLER(pred_plan); SB_HANDLER(ctl_get); SB_HANDLER(ctl_put); SB_HANDLER(ctl_override); SB_HANDLER(ctl_release);
SB_HANDLER(ctl_native);
SB_HANDLER(fdd_findings); SB_HANDLER(fdd_units); SB_HANDLER(fdd_unit_put); SB_HANDLER(fdd_unit_delete);
SB_HANDLER(an_models); SB_HANDLER(an_retrain); SB_HANDLER(an_cost); SB_HANDLER(an_bill); SB_HANDLER(an_savings);
SB_HANDLER(tariffs_list); SB_HANDLER(tariff_get); SB_HANDLER(tariff_put); SB_HANDLER(tariff_delete);
SB_HANDLER(bdoc_get); SB_HANDLER(bdoc_put);
SB_HANDLER(reports_list); SB_HANDLER(report_create); SB_HANDLER(report_get); SB_HANDLER(report_put);
SB_HANDLER(report_delete); SB_HANDLER(report_run); SB_HANDLER(report_files); SB_HANDLER(report_file);
#undef SB_HANDLER

/* Loop thread, before a sign-in goes to the pool: refuse while throttled. */
int sb_api__login_gate(struct sb_api *api, struct sb_req *rq, const char *username);

#endif /* SB_API_API_H */

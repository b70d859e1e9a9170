/*
 * h_sys.c - operations and administration: health, readiness, metrics, the
 * OpenAPI document, configuration, the audit log, user administration,
 * and the resources whose features come with later work (answered 501
 * with a clear message, never with invented data).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/limits.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/metrics.h"
#include "core/timefmt.h"
#include "cluster/lease.h"
#include "core/cidr.h"
#include "drivers/manager.h"
#include "ingest/ingest.h"
#include "store/store.h"


/* The OpenAPI document, embedded at build time (openapi_data.S). */
extern const char sb_openapi_json[];
extern const char sb_openapi_json_end[];

void sb_api__h_healthz(struct sb_api *api, struct sb_req *rq)
{
    (void)api;
    sb_http__healthz(&rq->resp);
}

void sb_api__h_readyz(struct sb_api *api, struct sb_req *rq)
{
    sb_http__readyz(&api->ctx, &rq->resp);
}

void sb_api__h_openapi(struct sb_api *api, struct sb_req *rq)
{
    (void)api;
    rq->resp.status = 200;
    rq->resp.ctype = "application/json";
    rq->resp.cache = "public, max-age=300";
    sb_http__buf_add(&rq->resp.body, sb_openapi_json,
                     (size_t)(sb_openapi_json_end - sb_openapi_json));
}

/* /metrics: Prometheus text.  Unauthenticated from loopback (where a local
 * Prometheus or node exporter scrapes); elsewhere an admin token. */
void sb_api__h_metrics(struct sb_api *api, struct sb_req *rq)
{
    /* Loopback in any spelling (127.0.0.0/8, ::1, ::ffff:127.x on a
     * dual-stack listener); rq->ip is the client behind a trusted proxy. */
    struct sb_cidrs lo;
    int local = sb_cidrs_parse("127.0.0.0/8 ::1", &lo, NULL, 0) == 0 && sb_cidrs_match(&lo, rq->ip);
    if (!local) {
        const char *a = rq->auth;
        struct sb_principal who;
        if (strncasecmp(a, "Bearer ", 7) != 0 ||
            sb_api__authenticate(api, a + 7, &who) != 0 || !(who.roles & SB_ROLE_ADMIN)) {
            sb_api__err(rq, 403, "forbidden", "metrics: loopback or an admin token");
            return;
        }
    }
    char *text = NULL;
    size_t n = 0;
    if (sb_metrics_write(api->metrics, &text, &n)) {
        sb_api__err(rq, 500, "internal", "out of memory");
        return;
    }
    rq->resp.status = 200;
    rq->resp.ctype = "text/plain; version=0.0.4; charset=utf-8";
    sb_http__buf_add(&rq->resp.body, text, n);
    free(text);
}

/* One ingest counter, read at scrape time. */
static double ingest_stat(void *ud, int which)
{
    struct sb_ingest_stats st;
    struct sb_api *api = ud;
    double n = 0;
    if (!api->ctx.ingest)
        return 0;
    sb_ingest_get_stats(api->ctx.ingest, &st);
    if (which == 0)
        return (double)st.depth;
    if (which == 1)
        return (double)st.written;
    for (int i = 0; i < SB_REJ_COUNT; i++)
        n += (double)st.rejected[i];
    return n;
}

static double g_queue(void *ud) { return ingest_stat(ud, 0); }
static double g_written(void *ud) { return ingest_stat(ud, 1); }
static double g_rejected(void *ud) { return ingest_stat(ud, 2); }

/* One driver-framework figure, read at scrape time. */
static double drv_stat(void *ud, int which)
{
    struct sb_api *api = ud;
    struct sb_drvmgr_stats st;
    if (!api->ctx.drivers)
        return 0;
    sb_drvmgr_stats(api->ctx.drivers, &st);
    switch (which) {
    case 0: return (double)st.devices;
    case 1: return (double)st.devices_failing;
    case 2: return (double)st.devices_open;
    case 3: return (double)st.stale_points;
    case 4: return (double)(st.readings + st.pushed);
    case 5: return (double)st.read_errors;
    case 6: return (double)st.bad;
    default: return (double)st.misconfigured;
    }
}

static double g_dev(void *ud) { return drv_stat(ud, 0); }
static double g_devfail(void *ud) { return drv_stat(ud, 1); }
static double g_devopen(void *ud) { return drv_stat(ud, 2); }
static double g_stale(void *ud) { return drv_stat(ud, 3); }
static double g_drvread(void *ud) { return drv_stat(ud, 4); }
static double g_drverr(void *ud) { return drv_stat(ud, 5); }
static double g_drvbad(void *ud) { return drv_stat(ud, 6); }
static double g_drvmis(void *ud) { return drv_stat(ud, 7); }

/* One device-lease figure (cluster.leases), read at scrape time. */
static double lease_stat(void *ud, int which)
{
    struct sb_api *api = ud;
    struct sb_lease_stats st;
    if (!api->ctx.lease)
        return 0;
    sb_lease_stats(api->ctx.lease, &st);
    switch (which) {
    case 0: return (double)st.owned;
    case 1: return (double)st.live_nodes;
    case 2: return (double)st.round_errors;
    case 3: return (double)st.acquired;
    case 4: return (double)st.lost;
    default: return (double)st.adopted_batches;
    }
}

static double g_lown(void *ud) { return lease_stat(ud, 0); }
static double g_llive(void *ud) { return lease_stat(ud, 1); }
static double g_lerr(void *ud) { return lease_stat(ud, 2); }
static double g_lacq(void *ud) { return lease_stat(ud, 3); }
static double g_llost(void *ud) { return lease_stat(ud, 4); }
static double g_ladopt(void *ud) { return lease_stat(ud, 5); }

static void metrics_lease(struct sb_api *api)
{
    struct sb_metrics *m = api->metrics;
    if (!api->ctx.lease)
        return;
    sb_metric_gauge_fn(m, "sbems_lease_devices_owned", "Devices this node polls under a lease",
                       g_lown, api);
    sb_metric_gauge_fn(m, "sbems_lease_live_nodes", "Nodes renewing their row in the shared "
                       "database", g_llive, api);
    sb_metric_counter_fn(m, "sbems_lease_round_errors_total", "Lease rounds that failed "
                         "(database away): past the deadline nothing is polled", g_lerr, api);
    sb_metric_counter_fn(m, "sbems_lease_acquired_total", "Device leases taken", g_lacq, api);
    sb_metric_counter_fn(m, "sbems_lease_lost_total", "Device leases found taken by another node",
                         g_llost, api);
    sb_metric_counter_fn(m, "sbems_lease_adopted_batches_total", "Unsealed batches of dead nodes "
                         "adopted", g_ladopt, api);
}

void sb_api__metrics_ingest(struct sb_api *api)
{
    struct sb_metrics *m = api->metrics;
    metrics_lease(api);
    sb_metric_gauge_fn(m, "sbems_driver_devices", "Devices the drivers talk to", g_dev, api);
    sb_metric_gauge_fn(m, "sbems_driver_devices_failing", "Devices whose last request failed",
                       g_devfail, api);
    sb_metric_gauge_fn(m, "sbems_driver_devices_open", "Devices left alone by their circuit breaker",
                       g_devopen, api);
    sb_metric_gauge_fn(m, "sbems_driver_stale_points", "Points without a good reading for "
                       "drivers.stale_factor intervals", g_stale, api);
    sb_metric_counter_fn(m, "sbems_driver_readings_total", "Readings the drivers delivered",
                       g_drvread, api);
    sb_metric_counter_fn(m, "sbems_driver_errors_total", "Device requests that failed", g_drverr, api);
    sb_metric_counter_fn(m, "sbems_driver_bad_inputs_total", "Malformed inputs (payloads, values)",
                       g_drvbad, api);
    sb_metric_gauge_fn(m, "sbems_driver_misconfigured_points", "Points whose binding a driver "
                       "refused", g_drvmis, api);
    sb_metric_gauge_fn(api->metrics, "sbems_ingest_queue_depth", "Readings waiting to be written",
                       g_queue, api);
    /* Totals kept by ingest, read at scrape time: rate() of it is the ingest rate. */
    sb_metric_counter_fn(api->metrics, "sbems_ingest_written_total",
                       "Readings made durable since start", g_written, api);
    sb_metric_counter_fn(api->metrics, "sbems_ingest_rejected_total",
                       "Readings refused since start", g_rejected, api);
}

void sb_api__h_config(struct sb_api *api, struct sb_req *rq)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f || !api->ctx.cfg) {
        if (f)
            fclose(f);
        free(buf);
        sb_api__err(rq, 503, "unavailable", "no configuration");
        return;
    }
    sb_conf_dump(api->ctx.cfg, f);     /* secrets print as <hidden> */
    fclose(f);
    rq->resp.status = 200;
    rq->resp.ctype = "text/plain; charset=utf-8";
    sb_http__buf_add(&rq->resp.body, buf, n);
    free(buf);
}

/* ---- audit log ------------------------------------------------------------------ */

void sb_api__h_audit(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "limit", "cursor", "actor_id", "action", "target",
                                        "from", "to", NULL };
    struct sb_audit_filter f;
    struct sb_audit_page pg;
    const char *v;
    size_t limit;
    const char *cursor;

    memset(&f, 0, sizeof(f));
    memset(&pg, 0, sizeof(pg));
    if (sb_api__only_query(rq, q_ok) || sb_api__page_args(rq, &limit, &cursor))
        return;
    f.limit = (int)limit;
    if (cursor && (f.before_id = strtoll(cursor, NULL, 10)) <= 0) {
        sb_api__bad_field(rq, "cursor", "cursor must be a next_cursor from an earlier page");
        return;
    }
    if ((v = sb_req_q(rq, "actor_id")))
        f.actor_id = strtoll(v, NULL, 10);
    f.action = sb_req_q(rq, "action");
    f.target = sb_req_q(rq, "target");
    if (((v = sb_req_q(rq, "from")) && sb_time_parse(v, strlen(v), &f.from_ms)) ||
        ((v = sb_req_q(rq, "to")) && sb_time_parse(v, strlen(v), &f.to_ms))) {
        sb_api__bad_field(rq, "from", "from and to are ms or RFC 3339 times");
        return;
    }
    /* A manager sees the audit trail of the model and commands, not of
     * accounts (which admins own). */
    int admin = (rq->who.roles & SB_ROLE_ADMIN) != 0;
    int rc = sb_appdb_audit_query(api->ctx.db, &f, &pg);
    if (rc) {
        sb_api__err_rc(rq, rc, "reading the audit log");
        return;
    }
    json_t *items = json_array();
    char t[40];
    for (size_t i = 0; i < pg.n; i++) {
        const struct sb_audit_rec *r = &pg.v[i];
        if (!admin && (strncmp(r->action, "user.", 5) == 0 || strncmp(r->action, "auth.", 5) == 0))
            continue;
        json_error_t e;
        json_t *o = json_pack("{s:I, s:s, s:I, s:s?, s:s?, s:s, s:s?, s:s, s:s?}",
                              "id", (json_int_t)r->id, "time",
                              sb_time_format(r->ts_ms, t, sizeof(t)), "actor_id",
                              (json_int_t)r->actor_id, "actor", r->actor, "ip", r->ip,
                              "action", r->action, "target", r->target, "result", r->result,
                              "detail", r->detail);
        if (o && r->before)
            json_object_set_new(o, "before", json_loads(r->before, 0, &e));
        if (o && r->after)
            json_object_set_new(o, "after", json_loads(r->after, 0, &e));
        json_array_append_new(items, o);
    }
    char next[24];
    snprintf(next, sizeof(next), "%" PRId64, pg.next_before_id);
    sb_api__json(rq, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor",
                                    pg.next_before_id ? next : NULL));
    sb_audit_page_release(&pg);
}

/* ---- users --------------------------------------------------------------------------- */

static int user_param(struct sb_api *api, struct sb_req *rq, struct sb_user *u)
{
    char *end;
    long long id = strtoll(rq->params[0], &end, 10);
    int rc = *end || id <= 0 ? SB_ENOENT : sb_appdb_user_get(api->ctx.db, id, u);
    if (rc)
        sb_api__err_rc(rq, rc, "user");
    return rc;
}

/* roles (array of names) into a mask: 0 or answered. */
static int parse_roles(struct sb_req *rq, json_t *v, uint32_t *out)
{
    size_t i;
    json_t *r;
    *out = 0;
    if (!json_is_array(v) || json_array_size(v) == 0) {
        sb_api__bad_field(rq, "roles", "roles is a non-empty array of admin, manager, operator, viewer");
        return -1;
    }
    json_array_foreach(v, i, r) {
        int b = json_is_string(r) ? sb_role_parse(json_string_value(r)) : SB_EINVAL;
        if (b < 0) {
            sb_api__bad_field(rq, "roles", "unknown role (admin, manager, operator, viewer)");
            return -1;
        }
        *out |= (uint32_t)b;
    }
    return 0;
}

/* grants [{"kind":"site"|"building","id":slug}] checked into a new array
 * (*n entries; free() it), or NULL after answering 400 (or on no memory). */
static struct sb_grant *parse_grants(struct sb_req *rq, json_t *v, size_t *n)
{
    size_t i;
    json_t *g;
    *n = json_array_size(v);
    if (!json_is_array(v) || *n > SB_PGRANTS_MAX) {
        sb_api__bad_field(rq, "grants", "grants is an array of at most 64 {kind, id}");
        return NULL;
    }
    struct sb_grant *a = calloc(*n ? *n : 1, sizeof(*a));
    if (!a) {
        sb_api__err(rq, 503, "busy", "out of memory");
        return NULL;
    }
    json_array_foreach(v, i, g) {
        const char *k = json_string_value(json_object_get(g, "kind"));
        const char *id = json_string_value(json_object_get(g, "id"));
        if (!k || !id || (strcmp(k, "site") && strcmp(k, "building")) || !sb_slug_valid(id)) {
            free(a);
            sb_api__bad_field(rq, "grants", "each grant is {\"kind\":\"site\"|\"building\",\"id\":slug}");
            return NULL;
        }
        snprintf(a[i].kind, sizeof(a[i].kind), "%s", k);
        snprintf(a[i].slug, sizeof(a[i].slug), "%s", id);
    }
    return a;
}

/* Store checked grants for uid; -1 after answering the error. */
static int store_grants(struct sb_api *api, struct sb_req *rq, int64_t uid, const struct sb_grant *a,
                        size_t n)
{
    int rc = sb_appdb_grants_set(api->ctx.db, uid, a, n);
    if (rc)
        sb_api__err_rc(rq, rc, "storing the grants");
    return rc ? -1 : 0;
}

/* grants [{"kind":"site"|"building","id":slug}] into the database. */
static int set_grants(struct sb_api *api, struct sb_req *rq, int64_t uid, json_t *v)
{
    size_t n;
    struct sb_grant *a = parse_grants(rq, v, &n);
    if (!a)
        return -1;
    int rc = store_grants(api, rq, uid, a, n);
    free(a);
    return rc;
}

void sb_api__h_users_list(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "limit", "cursor", NULL };
    size_t limit, n = 0;
    const char *cursor;
    int64_t next = 0;
    if (sb_api__only_query(rq, q_ok) || sb_api__page_args(rq, &limit, &cursor))
        return;
    struct sb_user *v = calloc(limit, sizeof(*v));
    if (!v) {
        sb_api__err(rq, 503, "busy", "out of memory");
        return;
    }
    int rc = sb_appdb_user_list(api->ctx.db, cursor ? strtoll(cursor, NULL, 10) : 0, (int)limit,
                                v, &n, &next);
    if (rc) {
        free(v);
        sb_api__err_rc(rq, rc, "listing users");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, sb_api__user_json(api, &v[i]));
    free(v);
    char nx[24];
    snprintf(nx, sizeof(nx), "%" PRId64, next);
    sb_api__json(rq, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor",
                                    next ? nx : NULL));
}

/* A temporary password the user must change at first sign-in. */
static void temp_password(char *out, size_t cap)
{
    unsigned char b[12];
    randombytes_buf(b, sizeof(b));
    sodium_bin2base64(out, cap, b, sizeof(b), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void sb_api__h_user_create(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "username", "email", "display_name", "roles", "grants",
                                        "password", NULL };
    json_t *b = sb_api__body(rq), *g = NULL;
    struct sb_user u;
    struct sb_grant *grants = NULL;
    size_t ngrants = 0;
    char pw[64] = "", err[200], h[SB_PW_HASH_MAX];
    memset(&u, 0, sizeof(u));
    if (!b || sb_api__only_keys(rq, b, keys))
        goto out;
    const char *name = json_string_value(json_object_get(b, "username"));
    const char *given = json_string_value(json_object_get(b, "password"));
    if (!name || !*name || strlen(name) > SB_USERNAME_MAX) {
        sb_api__bad_field(rq, "username", "username is 1 to 64 of A-Z a-z 0-9 . _ @ + -");
        goto out;
    }
    snprintf(u.username, sizeof(u.username), "%s", name);
    snprintf(u.email, sizeof(u.email), "%s",
             json_string_value(json_object_get(b, "email")) ?: "");
    snprintf(u.display_name, sizeof(u.display_name), "%s",
             json_string_value(json_object_get(b, "display_name")) ?: "");
    if (parse_roles(rq, json_object_get(b, "roles"), &u.roles))
        goto out;
    if (given && sb_pw_policy(given, name, err, sizeof(err))) {
        sb_api__bad_field(rq, "password", err);
        goto out;
    }
    /* everything checked before the account exists: a refused request leaves none */
    if ((g = json_object_get(b, "grants")) && !(grants = parse_grants(rq, g, &ngrants)))
        goto out;
    if (!given)
        temp_password(pw, sizeof(pw));
    int rc = sb_pw_hash(&api->pw, given ? given : pw, h);
    snprintf(u.pw_hash, sizeof(u.pw_hash), "%s", h);
    u.must_change_pw = 1;              /* invited: chooses their own at first sign-in */
    u.created_ms = u.updated_ms = sb_now_ms();
    if (rc == 0)
        rc = sb_appdb_user_create(api->ctx.db, &u);
    if (rc == SB_EINVAL) {
        sb_api__bad_field(rq, "username", "username is 1 to 64 of A-Z a-z 0-9 . _ @ + -, "
                          "email and display_name without control characters");
        goto out;
    }
    if (rc) {
        sb_api__err_rc(rq, rc, rc == SB_EEXIST ? "username taken" : "creating the user");
        goto out;
    }
    if (grants && store_grants(api, rq, u.id, grants, ngrants))
        goto out;
    json_t *res = sb_api__user_json(api, &u);
    char target[40];
    snprintf(target, sizeof(target), "user:%" PRId64, u.id);
    sb_api__audit(api, rq, "user.create", target, NULL, res, "ok", NULL);
    if (!given)
        json_object_set_new(res, "temporary_password", json_string(pw));
    sb_api__json(rq, 201, res);
    sb_http__hdr(&rq->resp, "location:", "/api/v1/users/%" PRId64, u.id);
out:
    sodium_memzero(pw, sizeof(pw));
    free(grants);
    json_decref(b);
}

void sb_api__h_user_get(struct sb_api *api, struct sb_req *rq)
{
    struct sb_user u;
    if (user_param(api, rq, &u) == 0)
        sb_api__json(rq, 200, sb_api__user_json(api, &u));
}

static void user_change(struct sb_api *api, struct sb_req *rq, int disable_only)
{
    static const char *const keys[] = { "email", "display_name", "roles", "grants", "disabled",
                                        NULL };
    json_t *b = NULL, *before = NULL, *after = NULL, *v;
    struct sb_user u;
    char target[40];
    if (user_param(api, rq, &u))
        return;
    if (!disable_only && (!(b = sb_api__body(rq)) || sb_api__only_keys(rq, b, keys)))
        goto out;
    before = sb_api__user_json(api, &u);
    if (disable_only) {
        u.disabled = 1;
    } else {
        if ((v = json_object_get(b, "email")))
            snprintf(u.email, sizeof(u.email), "%s", json_string_value(v) ?: "");
        if ((v = json_object_get(b, "display_name")))
            snprintf(u.display_name, sizeof(u.display_name), "%s", json_string_value(v) ?: "");
        if ((v = json_object_get(b, "roles")) && parse_roles(rq, v, &u.roles))
            goto out;
        if ((v = json_object_get(b, "disabled"))) {
            if (!json_is_boolean(v)) {
                sb_api__bad_field(rq, "disabled", "disabled is true or false");
                goto out;
            }
            u.disabled = json_is_true(v);
        }
    }
    if (u.id == rq->who.uid && (u.disabled || !(u.roles & SB_ROLE_ADMIN))) {
        sb_api__err(rq, 409, "conflict", "you cannot disable or demote your own account");
        goto out;
    }
    u.updated_ms = sb_now_ms();
    int rc = sb_appdb_user_update(api->ctx.db, &u);
    if (rc) {
        sb_api__err_rc(rq, rc, "updating the user");
        goto out;
    }
    if (b && (v = json_object_get(b, "grants")) && set_grants(api, rq, u.id, v))
        goto out;
    if (u.disabled)
        sb_appdb_rt_revoke_user(api->ctx.db, u.id, u.updated_ms);
    sb_api__principal_forget(api, u.id);
    after = sb_api__user_json(api, &u);
    snprintf(target, sizeof(target), "user:%" PRId64, u.id);
    sb_api__audit(api, rq, disable_only ? "user.disable" : "user.update", target, before, after,
                  "ok", NULL);
    if (disable_only) {
        rq->resp.status = 204;
    } else {
        sb_api__json(rq, 200, after);
        after = NULL;
    }
out:
    json_decref(b);
    json_decref(before);
    json_decref(after);
}

void sb_api__h_user_patch(struct sb_api *api, struct sb_req *rq) { user_change(api, rq, 0); }
void sb_api__h_user_delete(struct sb_api *api, struct sb_req *rq) { user_change(api, rq, 1); }

void sb_api__h_user_reset(struct sb_api *api, struct sb_req *rq)
{
    struct sb_user u;
    char pw[64], h[SB_PW_HASH_MAX], target[40];
    if (user_param(api, rq, &u))
        return;
    temp_password(pw, sizeof(pw));
    int64_t now = sb_now_ms();
    int rc = sb_pw_hash(&api->pw, pw, h);
    if (rc == 0)
        rc = sb_appdb_user_set_password(api->ctx.db, u.id, h, 1, now);
    if (rc) {
        sb_api__err_rc(rq, rc, "resetting the password");
        return;
    }
    sb_appdb_rt_revoke_user(api->ctx.db, u.id, now);
    sb_api__principal_forget(api, u.id);
    snprintf(target, sizeof(target), "user:%" PRId64, u.id);
    sb_api__audit(api, rq, "user.password_reset", target, NULL, NULL, "ok", NULL);
    sb_api__json(rq, 200, json_pack("{s:s}", "temporary_password", pw));
    sodium_memzero(pw, sizeof(pw));
}

/* ---- later features ----------------------------------------------------------------- */

void sb_api__h_later(struct sb_api *api, struct sb_req *rq)
{
    (void)api;
    const char *p = rq->route->path;
    const char *what = strstr(p, "/analytics/") ? "analytics (consumption, savings) arrive with "
                                                  "the analytics engine"
                     : strstr(p, "/predictions/") ? "predictions arrive with the forecasting engine"
                     : strstr(p, "/alerts") ? "alerts arrive with the alert and fault-detection engine"
                                            : "schedules arrive with the control engine";
    sb_api__err(rq, 501, "not_implemented", what);
}

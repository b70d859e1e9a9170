/*
 * h_cmd.c - operators' commands: POST .../points/{point}/write and the
 * equipment and thermostat forms, answered when the device has.
 *
 * A command is checked (role and scope by the pipeline; point, value,
 * priority, range), handed to the drivers' verified write, recorded when a
 * slot is held (cmds.c), sent to WebSocket clients as a "commands" event
 * and audited with its outcome.  With device leases the device may be
 * another node's: the command then goes to that node through Redis
 * (fwd.c) and runs there, whole, with the same record, event and audit;
 * this node only answers the request with the outcome.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "cluster/redis.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/audit_later.h"
#include "drivers/manager.h"
#include "model/hub.h"

/* How long a node waits for the owner of a device to run a forwarded
 * command: longer than the drivers' write, retries and readback take
 * (drivers.timeout is at most a few seconds), shorter than the HTTP
 * layer's 60 s limit on a held request. */
#define FWD_TIMEOUT_MS 15000

/* A command in flight: the request is held until the device answered. */
struct cmd {
    struct sb_api *api;
    struct sb_req *rq;              /* the held request; NULL: forwarded here by from */
    struct sb_fwd_from from;        /* who forwarded it (from.node "" = a local request) */
    int64_t uid;                    /* actor (for the audit) */
    char username[65];
    char ip[64];
    char slug[SB_SLUG_MAX + 1];
    char building[SB_SLUG_MAX + 1]; /* its building: who may hear the result */
    char node[64];                  /* the node that ran it ("" without Redis) */
    json_t *asked;                  /* the command body */
    int64_t expires;                /* override end, ms (0 = until released) */
    struct sb_write_result res;
};

/* Audit the command with its outcome (written on the pool), free it. */
static void cmd_audit(struct cmd *c)
{
    char target[128], detail[sizeof(c->res.reason) + 96];
    json_t *after = json_pack("{s:O, s:s, s:o}", "command", c->asked, "result",
                              sb_wres_name(c->res.res), "readback",
                              isnan(c->res.readback) ? json_null() : json_real(c->res.readback));
    char *a = after ? json_dumps(after, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    snprintf(target, sizeof(target), "point:%s", c->slug);
    if (c->from.node[0])
        snprintf(detail, sizeof(detail), "%s%sforwarded by node %s", c->res.reason,
                 c->res.reason[0] ? "; " : "", c->from.node);
    else
        snprintf(detail, sizeof(detail), "%s", c->res.reason);
    struct sb_audit_rec r = { .ts_ms = sb_now_ms(), .actor_id = c->uid,
                              .actor = c->username[0] ? c->username : NULL,
                              .ip = c->ip[0] ? c->ip : NULL, .action = "point.write",
                              .target = target, .after = a, .result = sb_wres_name(c->res.res),
                              .detail = detail[0] ? detail : NULL };
    sb_appdb_audit_later(c->api->loop, c->api->ctx.db, &r, NULL);
    free(a);
    json_decref(after);
    json_decref(c->asked);
    free(c);
}

static void cmd_free(struct cmd *c)
{
    json_decref(c->asked);
    free(c);
}

/* The command's outcome, as the answer and the "commands" WebSocket event. */
static json_t *cmd_json(const struct cmd *c)
{
    char exp[40];
    json_t *j = json_pack("{s:s, s:I, s:s, s:f, s:o, s:s?, s:s?, s:s}", "point", c->slug,
                          "point_id", (json_int_t)c->res.point, "result", sb_wres_name(c->res.res),
                          "value", c->res.value, "readback",
                          isnan(c->res.readback) ? json_null() : json_real(c->res.readback),
                          "reason", c->res.reason[0] ? c->res.reason : NULL,
                          "holder", c->res.holder[0] ? c->res.holder : NULL, "by", c->username);
    if (j && c->res.priority)
        json_object_set_new(j, "priority", json_integer(c->res.priority));
    if (j && c->node[0])
        json_object_set_new(j, "node", json_string(c->node));
    if (j && c->expires)
        json_object_set_new(j, "expires", json_string(sb_time_format(c->expires, exp, sizeof(exp))));
    return j;
}

/* Answer the held request with outcome res (ev: the outcome's JSON, taken). */
static void cmd_respond(struct sb_req *rq, enum sb_wres res, json_t *ev, const char *reason)
{
    static const int status[] = { [SB_WRES_OK] = 200, [SB_WRES_NOT_CONFIRMED] = 202,
                                  [SB_WRES_REJECTED] = 409, [SB_WRES_ERROR] = 504,
                                  [SB_WRES_DRY_RUN] = 200 };
    if (res == SB_WRES_OK || res == SB_WRES_NOT_CONFIRMED || res == SB_WRES_DRY_RUN) {
        sb_api__json(rq, status[res], ev);
    } else {
        json_decref(ev);
        sb_api__errd(rq, status[res], res == SB_WRES_REJECTED ? "rejected" : "device_error",
                     reason && reason[0] ? reason : "the device did not answer",
                     json_pack("[{s:s, s:s}]", "field", "value", "message", sb_wres_name(res)));
    }
    sb_http_resume(rq);
}

/* The drivers' verdict: tell the WebSocket clients, record a held slot,
 * answer (the request, or the node that forwarded it), audit. */
static void cmd_done(void *ud, const struct sb_write_result *r)
{
    struct cmd *c = ud;
    c->res = *r;
    json_t *ev = cmd_json(c);
    char *evs = json_dumps(ev, JSON_COMPACT);
    if (evs)
        sb_api__ws_event(c->api, "commands", c->building, evs);
    free(evs);
    if (r->res == SB_WRES_OK || r->res == SB_WRES_NOT_CONFIRMED) {
        /* who holds which slot, and until when (cmds.c) */
        struct sb_write_result rec = *r;
        if (json_is_null(json_object_get(c->asked, "value")))
            rec.value = NAN;
        sb_api__cmd_record(c->api, &rec, c->username,
                           json_string_value(json_object_get(c->asked, "reason")), c->expires);
    }
    if (c->rq) {
        cmd_respond(c->rq, r->res, ev, r->reason);
    } else {
        json_t *rep = json_pack("{s:i, s:i, s:o}", "rc", 0, "res", (int)r->res, "event",
                                ev ? ev : json_null());
        if (rep)
            sb_api__fwd_reply(c->api, &c->from, rep);
        json_decref(rep);
    }
    cmd_audit(c);
}

/* Refused before any device was asked: audited, answered 429 or 503. */
static void cmd_refused(struct cmd *c, int rc, const char *why)
{
    struct sb_req *rq = c->rq;
    c->res = (struct sb_write_result){ .res = SB_WRES_ERROR, .point = c->res.point,
                                       .value = c->res.value, .readback = NAN };
    snprintf(c->res.reason, sizeof(c->res.reason), "%s",
             why ? why : "no running driver serves this point");
    if (rc == SB_EAGAIN) {
        rq->resp.retry_after = 1;
        sb_api__err(rq, 429, "rate_limited", c->res.reason);
    } else {
        rq->resp.retry_after = rc == SB_ENOENT ? 30 : 0;
        sb_api__err(rq, 503, "unavailable", c->res.reason);
    }
    cmd_audit(c);
}

/* ---- forwarding (fwd.c) -------------------------------------------------------- */

/* The asking node: what the owner answered, or that nobody did. */
static void fwd_back(void *ud, int rc, json_t *rep)
{
    struct cmd *c = ud;
    json_int_t rrc = json_integer_value(json_object_get(rep, "rc"));
    json_int_t res = json_integer_value(json_object_get(rep, "res"));
    json_t *ev = json_object_get(rep, "event");

    if (rc == 0 && rrc == 0 && res >= SB_WRES_OK && res <= SB_WRES_DRY_RUN && json_is_object(ev)) {
        /* run, recorded and audited by the owner */
        cmd_respond(c->rq, (enum sb_wres)res, json_incref(ev),
                    json_string_value(json_object_get(ev, "reason")));
        cmd_free(c);
        return;
    }
    if (rc == 0 && rrc < 0) {          /* the owner refused it before asking the device */
        struct sb_req *rq = c->rq;
        cmd_refused(c, (int)rrc, json_string_value(json_object_get(rep, "why")));
        sb_http_resume(rq);
        return;
    }
    c->res = (struct sb_write_result){ .res = SB_WRES_ERROR, .point = c->res.point,
                                       .value = c->res.value, .readback = NAN };
    snprintf(c->res.reason, sizeof(c->res.reason), "%s",
             rc == SB_ETIMEDOUT ? "another node polls this point's device and none answered "
                                  "for it in time (it may be changing hands: retry)"
             : rc == 0          ? "a malformed answer from the node that polls this point's device"
                                : "shutting down");
    if (rc != SB_ECLOSED) {
        c->rq->resp.retry_after = 1;
        cmd_respond(c->rq, SB_WRES_ERROR, NULL, c->res.reason);
    } else {
        sb_api__err(c->rq, 503, "unavailable", c->res.reason);
        sb_http_resume(c->rq);
    }
    cmd_audit(c);
}

/* The device is another node's: send the command there.  0 when sent. */
static int cmd_forward(struct cmd *c, uint32_t point, double x, int priority, int relinquish)
{
    json_t *b = json_pack("{s:s, s:I, s:o, s:i, s:b, s:O, s:I, s:s, s:s, s:I}", "point", c->slug,
                          "point_id", (json_int_t)point,
                          "value", relinquish ? json_null() : json_real(x), "priority", priority,
                          "relinquish", relinquish, "asked", c->asked, "uid", (json_int_t)c->uid,
                          "username", c->username, "ip", c->ip, "expires", (json_int_t)c->expires);
    int rc = b ? sb_api__fwd_send(c->api, "write", b, FWD_TIMEOUT_MS, fwd_back, c) : SB_ENOMEM;
    json_decref(b);
    return rc;
}

/* The owner's side: run a forwarded write if this node's drivers own the
 * device; other nodes stay silent. */
void sb_api__cmd_remote(struct sb_api *api, const struct sb_fwd_from *from,
                        const struct sb_fwd_write *w)
{
    const char *why = NULL;
    if (!api->ctx.drivers)
        return;
    struct sb_mref *mr = sb_mhub_get(api->ctx.models);
    const struct sb_point *p = mr ? sb_model_point(mr->m, w->point) : NULL;
    struct cmd *c = p && p->id == w->point_id ? calloc(1, sizeof(*c)) : NULL;
    if (c)
        snprintf(c->building, sizeof(c->building), "%s", mr->m->buildings[p->building_ix].slug);
    if (mr)
        sb_mref_put(mr);
    if (!c)
        return;                        /* not this model's point (a model change in flight) */
    c->api = api;
    c->from = *from;
    c->asked = json_incref(w->asked);
    c->uid = w->uid;
    c->expires = w->expires;
    snprintf(c->slug, sizeof(c->slug), "%s", w->point);
    snprintf(c->username, sizeof(c->username), "%s", w->username);
    snprintf(c->ip, sizeof(c->ip), "%s", w->ip);
    snprintf(c->node, sizeof(c->node), "%s", sb_redis_node(api->redis));
    int rc = sb_drvmgr_write(api->ctx.drivers, w->point_id, w->value, w->priority, w->relinquish,
                             cmd_done, c, &why);
    if (rc == 0)
        return;                        /* cmd_done answers */
    if (rc != SB_ECLOSED && rc != SB_ENOENT) {
        /* ours, refused before the device was asked (written too recently...) */
        json_t *rep = json_pack("{s:i, s:s}", "rc", rc, "why", why ? why : sb_strerror(rc));
        if (rep)
            sb_api__fwd_reply(api, from, rep);
        json_decref(rep);
    }
    cmd_free(c);
}

/* ---- the handler ------------------------------------------------------------------ */

/* Commands are checked here (role and scope by the pipeline; point of the
 * equipment, writable, number, priority, range) and handed to the driver
 * framework's verified write (or, for another node's device, to that
 * node); the request is answered when the device has: 200 ok / 202 not
 * confirmed / 409 rejected (the device's reason) / 504 no answer (from the
 * device, or from the node that polls it); 503 when no running driver
 * serves the point. */
void sb_api__h_control(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "point", "value", "priority", "reason", "duration_s", NULL };
    const struct sb_model *m = rq->model->m;
    json_t *body = sb_api__body(rq);
    const struct sb_point *p;
    const char *why = NULL;

    if (!body || sb_api__only_keys(rq, body, keys))
        goto out;
    if (strstr(rq->route->path, "/points/")) {
        p = sb_api__point(m, rq->params[0]);
    } else {
        const char *ps = json_string_value(json_object_get(body, "point"));
        const struct sb_equipment *e = sb_model_equipment(m, rq->params[0]);
        p = ps ? sb_model_point(m, ps) : NULL;
        if (e && e->type != SB_EQUIP_THERMOSTAT && strstr(rq->route->path, "/thermostats/")) {
            sb_api__err(rq, 404, "not_found", "no such thermostat");
            goto out;
        }
        if (!p || p->equipment_ix != (int32_t)(e - m->equipment)) {
            sb_api__bad_field(rq, "point", "point must name a point of this equipment");
            goto out;
        }
    }
    json_t *v = json_object_get(body, "value"), *pr = json_object_get(body, "priority");
    if (!json_is_number(v) && !json_is_null(v)) {
        sb_api__bad_field(rq, "value", "value must be a number (or null to release)");
        goto out;
    }
    if (pr && (!json_is_integer(pr) || json_integer_value(pr) < 1 || json_integer_value(pr) > 16)) {
        sb_api__bad_field(rq, "priority", "priority must be 1 to 16 (BACnet priority array)");
        goto out;
    }
    json_t *du = json_object_get(body, "duration_s"), *rs = json_object_get(body, "reason");
    if (du && (!json_is_integer(du) || json_integer_value(du) < 10 ||
               json_integer_value(du) > 7 * 86400 || json_is_null(v))) {
        sb_api__bad_field(rq, "duration_s", "duration_s is an override's length, 10 s to 7 days, "
                                            "for a value (not a release)");
        goto out;
    }
    if (rs && (!json_is_string(rs) || json_string_length(rs) > 160)) {
        sb_api__bad_field(rq, "reason", "reason is text of at most 160 bytes");
        goto out;
    }
    if (!p->writable) {
        sb_api__errd(rq, 409, "not_writable", "this point cannot be commanded",
                     json_pack("[{s:s, s:s}]", "field", "point", "message", "not writable"));
        goto out;
    }
    double x = json_number_value(v);
    if (json_is_number(v) && ((!isnan(p->min) && x < p->min) || (!isnan(p->max) && x > p->max))) {
        char msg[128];
        snprintf(msg, sizeof(msg), "value must be within [%g, %g] %s", p->min, p->max,
                 sb_unit_symbol(p->unit));
        sb_api__bad_field(rq, "value", msg);
        goto out;
    }
    struct cmd *c = calloc(1, sizeof(*c));
    if (!c) {
        sb_api__err(rq, 503, "busy", "out of memory");
        goto out;
    }
    c->api = api;
    c->rq = rq;
    c->asked = json_incref(body);
    c->expires = du ? sb_now_ms() + json_integer_value(du) * 1000 : 0;
    snprintf(c->slug, sizeof(c->slug), "%s", p->slug);
    snprintf(c->building, sizeof(c->building), "%s", m->buildings[p->building_ix].slug);
    if (api->redis)
        snprintf(c->node, sizeof(c->node), "%s", sb_redis_node(api->redis));
    c->uid = rq->who.uid;
    snprintf(c->username, sizeof(c->username), "%s", rq->who.username);
    snprintf(c->ip, sizeof(c->ip), "%s", rq->ip);
    c->res.point = p->id;
    c->res.value = x;
    int prio = pr ? (int)json_integer_value(pr) : 0;
    int rc = api->ctx.drivers
             ? sb_drvmgr_write(api->ctx.drivers, p->id, x, prio, json_is_null(v), cmd_done, c, &why)
             : SB_ENOENT;
    if (rc == SB_ECLOSED && api->redis) {
        /* another node polls the device: it runs the command */
        int frc = cmd_forward(c, p->id, x, prio, json_is_null(v));
        if (frc == 0)
            rc = 0;
        else if (frc == SB_EAGAIN)
            rc = SB_EAGAIN, why = "too many commands wait for other nodes";
        else
            why = "another sbems node polls this point's device, and Redis, which would carry "
                  "the command there, is unreachable";
    }
    if (rc == 0)
        rq->hold = 1;                      /* cmd_done or fwd_back answers */
    else
        cmd_refused(c, rc, why);
out:
    json_decref(body);
}

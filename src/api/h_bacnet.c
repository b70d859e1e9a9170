/*
 * h_bacnet.c - BACnet discovery through the API: start one on the
 * driver's socket, read its progress and result, accept chosen points
 * into the building model (docs/api.md, docs/internals/bacnet-discovery.md).
 * Nothing is added to the model until an administrator accepts points.
 *
 * One discovery at a time; its result stays until the next one starts.
 * The run outlives neither the API (sb_api__bacdisc_free detaches it) nor
 * the driver (which cancels it when it stops).  Starting and reading runs
 * on the loop (the driver lives there); accepting runs on the pool (it
 * saves the model), so the result crosses threads: `mu` guards the
 * pointer and the result, and accept works on a copy.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/bacnet/bacnet.h"
#include "drivers/bacnet/discover.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

struct sb_bacdisc_run {
    struct sb_api *api;              /* NULL once the API is gone */
    int running, rc;
    int64_t started, finished;       /* ms */
    json_t *args, *result;           /* own references */
    char by[80];
};

static void run_free(struct sb_bacdisc_run *r)
{
    json_decref(r->args);
    json_decref(r->result);
    free(r);
}

static void on_done(void *ud, int rc, json_t *result)
{
    struct sb_bacdisc_run *r = ud;
    pthread_mutex_lock(&mu);
    r->running = 0;
    r->rc = rc;
    r->result = result;
    r->finished = sb_now_ms();
    int orphan = !r->api;
    pthread_mutex_unlock(&mu);
    if (orphan)
        run_free(r);                 /* the API went away meanwhile */
}

void sb_api__bacdisc_free(struct sb_api *api)
{
    pthread_mutex_lock(&mu);
    struct sb_bacdisc_run *r = api->bacdisc;
    api->bacdisc = NULL;
    int running = r && r->running;
    if (running)
        r->api = NULL;               /* on_done frees it */
    pthread_mutex_unlock(&mu);
    if (r && !running)
        run_free(r);
}

static json_t *run_json(const struct sb_bacdisc_run *r)
{
    char a[40], b[40];
    return json_pack("{s:s, s:s, s:s?, s:O, s:s, s:s?, s:O?}",
                     "status", r->running ? "running" : r->rc == 0 ? "done"
                               : r->rc == SB_ETIMEDOUT ? "partial" : "failed",
                     "started", sb_time_format(r->started, a, sizeof(a)),
                     "finished", r->running ? NULL : sb_time_format(r->finished, b, sizeof(b)),
                     "args", r->args, "by", r->by,
                     "error", !r->running && r->rc && r->rc != SB_ETIMEDOUT ? sb_strerror(r->rc) : NULL,
                     "result", r->result);
}

/* POST /api/v1/bacnet/discover */
void sb_api__h_bacnet_discover(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "targets", "range", "networks", "broadcast", "low", "high",
                                        "wait_ms", "max_devices", NULL };
    json_t *body = sb_api__body(rq);
    struct sb_bacdisc_run *r = NULL;
    char err[200] = "";
    int rc;

    if (!body || sb_api__only_keys(rq, body, keys))
        goto out;
    if (api->bacdisc && api->bacdisc->running) {
        sb_api__err(rq, 409, "conflict", "a discovery is running; GET /api/v1/bacnet/discover");
        goto out;
    }
    if (!api->ctx.drivers) {
        sb_api__err(rq, 503, "unavailable", "drivers are not enabled (drivers.enabled)");
        goto out;
    }
    if (!(r = calloc(1, sizeof(*r)))) {
        sb_api__err(rq, 503, "busy", "out of memory");
        goto out;
    }
    r->api = api;
    r->args = json_incref(body);
    r->started = sb_now_ms();
    r->running = 1;
    snprintf(r->by, sizeof(r->by), "%s", rq->who.username);
    rc = sb_bacnet_discover(api->ctx.drivers, body, on_done, r, err, sizeof(err));
    if (rc < 0) {
        if (rc == SB_EINVAL)
            sb_api__err(rq, 400, "invalid", err);
        else if (rc == SB_EAGAIN)
            sb_api__err(rq, 409, "conflict", err);
        else
            sb_api__err(rq, 503, "unavailable", err[0] ? err : sb_strerror(rc));
        run_free(r);
        goto out;
    }
    sb_api__bacdisc_free(api);
    pthread_mutex_lock(&mu);
    api->bacdisc = r;
    pthread_mutex_unlock(&mu);
    sb_api__audit(api, rq, "bacnet.discover", "driver:bacnet", NULL, body, "ok", NULL);
    sb_api__json(rq, 202, run_json(r));
out:
    json_decref(body);
}

/* GET /api/v1/bacnet/discover */
void sb_api__h_bacnet_discovery(struct sb_api *api, struct sb_req *rq)
{
    pthread_mutex_lock(&mu);
    json_t *j = api->bacdisc ? run_json(api->bacdisc) : NULL;
    pthread_mutex_unlock(&mu);
    if (!j)
        sb_api__err(rq, 404, "not_found", "no discovery has run; POST /api/v1/bacnet/discover");
    else
        sb_api__json(rq, 200, j);
}

/* POST /api/v1/bacnet/discover/accept */
void sb_api__h_bacnet_accept(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "building", "equipment", "points", NULL };
    json_t *body = sb_api__body(rq), *frag = NULL, *result = NULL;
    char err[200];

    if (!body || sb_api__only_keys(rq, body, keys))
        goto out;
    pthread_mutex_lock(&mu);
    result = api->bacdisc && !api->bacdisc->running ? json_deep_copy(api->bacdisc->result) : NULL;
    pthread_mutex_unlock(&mu);
    if (!result) {
        sb_api__err(rq, 409, "conflict", "no finished discovery to accept points from");
        goto out;
    }
    if (!(frag = sb_bacdisc_accept(result, body, err, sizeof(err)))) {
        char *colon = strchr(err, ':');
        char field[32] = "points";
        if (colon && (size_t)(colon - err) < sizeof(field)) {
            memcpy(field, err, (size_t)(colon - err));
            field[colon - err] = 0;
        }
        sb_api__bad_field(rq, field, err);
        goto out;
    }
    if (sb_api__merge_doc(api, rq, frag, "bacnet.accept", "driver:bacnet") == 0)
        sb_api__json(rq, 201, json_pack("{s:O, s:O}", "equipment", json_object_get(frag, "equipment"),
                                         "points", json_object_get(frag, "points")));
out:
    json_decref(result);
    json_decref(frag);
    json_decref(body);
}

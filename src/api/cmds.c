/*
 * cmds.c - the commands sbems holds at a priority: recorded with who, why
 * and until when (app_commands, db/appdb.h), released when an override
 * expires, and shown beside the device's live priority array by
 * GET /api/v1/points/{point}/priority.
 *
 * Threads: the records live in the app database (pool thread) and in a
 * mirror on the loop thread, which the priority view and the expiry scan
 * read without touching the database.  The mirror is loaded at start and
 * changed only after the database has the change.  Expiry: every 5 s the
 * mirror is scanned; an expired override is released by a NULL write at
 * its priority through the driver framework (audited as the daemon), then
 * closed in the database — a restart re-reads the database, so an
 * override never outlives its expiry by more than a scan and a restart.
 *
 * Several nodes (device leases): only the node that polls a device can
 * release its slot, and the device may have changed hands since the
 * command was recorded, on whichever node ran it.  So with leases every
 * node reloads its mirror from the shared database every RELOAD_MS; each
 * scan tries every expired record and the drivers refuse, quietly, those
 * of devices another node polls.  A reload is dropped when a local change
 * landed while it read (gen), and tried again at the next scan.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/audit_later.h"
#include "drivers/manager.h"
#include "model/hub.h"

#define SCAN_MS 5000
#define RELOAD_MS 15000                  /* with leases: the mirror is re-read this often */
#define MIRROR_MAX 4096

struct sb_api_cmds {
    struct sb_api *api;
    uv_timer_t *timer;               /* own allocation, freed by its close callback */
    struct sb_cmd_rec *v;            /* active records (loop thread) */
    size_t n, cap;
    int loaded;
    int reloading;                   /* a reload is out */
    int64_t reload_at;               /* wall ms of the last reload's start */
    uint64_t gen;                    /* local changes applied to the mirror so far */
    int releasing;                   /* releases in flight */
    int inflight;                    /* database jobs and releases not yet back */
    int orphan;                      /* the API is gone: the last callback frees this */
};

struct hold_job {
    uv_work_t w;
    struct sb_api_cmds *c;
    struct sb_appdb *db;             /* copied: the API may go while this runs */
    struct sb_cmd_rec r;
    struct sb_cmd_rec *list;         /* load: what the database has */
    size_t nlist;
    int rc, load;
    int reload;                      /* a reload (replaces the mirror) */
    uint64_t gen;                    /* c->gen when it was queued */
};

/* ---- the mirror ------------------------------------------------------------------------ */

static void mirror_apply(struct sb_api_cmds *c, const struct sb_cmd_rec *r)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].point == r->point && c->v[i].priority == r->priority) {
            c->v[i] = c->v[--c->n];       /* the older command of that slot ends */
            break;
        }
    if (isnan(r->value) || c->n == MIRROR_MAX)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct sb_cmd_rec *nv = realloc(c->v, cap * sizeof(*nv));
        if (!nv)
            return;
        c->v = nv;
        c->cap = cap;
    }
    c->v[c->n++] = *r;
}

static void hold_work(uv_work_t *w)
{
    struct hold_job *j = w->data;
    struct sb_appdb *db = j->db;
    if (j->load) {
        if ((j->list = calloc(MIRROR_MAX, sizeof(*j->list))))
            j->rc = sb_appdb_cmd_active(db, 0, 0, j->list, MIRROR_MAX, &j->nlist);
        else
            j->rc = SB_ENOMEM;
    } else {
        j->rc = sb_appdb_cmd_hold(db, &j->r);
    }
}

/* One callback back; frees c when the API is gone and it was the last. */
static int back(struct sb_api_cmds *c)
{
    if (--c->inflight == 0 && c->orphan) {
        free(c->v);
        free(c);
        return 1;
    }
    return c->orphan;
}

static void hold_after(uv_work_t *w, int status)
{
    struct hold_job *j = w->data;
    struct sb_api_cmds *c = j->c;
    int gone = back(c);
    if (!gone && j->reload)
        c->reloading = 0;
    if (gone)
        ;                            /* nobody to tell */
    else if (j->rc && j->reload)     /* every 15 s while the database is away: quiet */
        SB_DEBUG("api", "commands: reloading: %s", sb_strerror(j->rc));
    else if (j->rc)
        SB_ERR("api", "commands: %s: %s", j->load ? "loading" : "recording", sb_strerror(j->rc));
    else if (j->reload) {
        if (j->gen == c->gen) {      /* else a local change may be missing: next scan */
            c->n = 0;
            for (size_t i = 0; i < j->nlist; i++)
                mirror_apply(c, &j->list[i]);
        }
    } else if (j->load) {
        for (size_t i = 0; i < j->nlist; i++)
            mirror_apply(c, &j->list[i]);
        c->loaded = 1;
    } else {
        mirror_apply(c, &j->r);
        c->gen++;
    }
    free(j->list);
    free(j);
}

/* load: 0 record r, 1 the first load (merged), 2 a reload (replaces). */
static void queue(struct sb_api_cmds *c, const struct sb_cmd_rec *r, int load)
{
    struct hold_job *j = calloc(1, sizeof(*j));
    if (!j)
        return;
    j->c = c;
    j->db = c->api->ctx.db;
    j->load = load != 0;
    j->reload = load == 2;
    j->gen = c->gen;
    if (r)
        j->r = *r;
    j->w.data = j;
    if (uv_queue_work(c->api->loop, &j->w, hold_work, hold_after) < 0) {
        free(j);
        return;
    }
    c->inflight++;
    if (j->reload)
        c->reloading = 1;
}

void sb_api__cmd_record(struct sb_api *api, const struct sb_write_result *res, const char *actor,
                        const char *reason, int64_t expires_ms)
{
    struct sb_cmd_rec r = { .point = res->point, .priority = res->priority,
                            .value = isnan(res->value) ? NAN : res->value,
                            .since_ms = sb_now_ms(), .expires_ms = expires_ms };
    if (!api->cmds || !api->ctx.db || res->priority < 1 || res->priority > 16)
        return;
    snprintf(r.actor, sizeof(r.actor), "%s", actor && *actor ? actor : "sbems");
    snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
    queue(api->cmds, &r, 0);
}

/* ---- expiry ------------------------------------------------------------------------------- */

struct rel {
    struct sb_api_cmds *c;
    struct sb_cmd_rec r;
};

static void released(void *ud, const struct sb_write_result *res)
{
    struct rel *x = ud;
    struct sb_api_cmds *c = x->c;
    char target[64], detail[320];

    c->releasing--;
    if (back(c)) {
        free(x);
        return;
    }
    snprintf(target, sizeof(target), "point:%u", x->r.point);
    snprintf(detail, sizeof(detail), "override at priority %d by %s expired%s%s", x->r.priority,
             x->r.actor, res->reason[0] ? ": " : "", res->reason);
    struct sb_audit_rec a = { .ts_ms = sb_now_ms(), .actor = "sbems", .action = "point.release",
                              .target = target, .result = sb_wres_name(res->res), .detail = detail };
    if (c->api->ctx.db)
        sb_appdb_audit_later(c->api->loop, c->api->ctx.db, &a, NULL);
    if (res->res == SB_WRES_OK || res->res == SB_WRES_DRY_RUN || res->res == SB_WRES_NOT_CONFIRMED) {
        struct sb_cmd_rec r = x->r;
        r.value = NAN;                   /* closes the record */
        r.since_ms = sb_now_ms();
        queue(c, &r, 0);
        SB_INFO("api", "released point %u at priority %d (override by %s expired)", x->r.point,
                x->r.priority, x->r.actor);
    } else {
        SB_WARN("api", "releasing point %u at priority %d failed (%s); retrying", x->r.point,
                x->r.priority, res->reason);
    }
    free(x);
}

static void scan(uv_timer_t *t)
{
    struct sb_api_cmds *c = t->data;
    int64_t now = sb_now_ms();
    const char *why = NULL;

    if (!c->loaded || !c->api->ctx.drivers || c->releasing)
        return;
    if (c->api->ctx.lease && c->api->ctx.db && !c->reloading && now - c->reload_at >= RELOAD_MS) {
        c->reload_at = now;
        queue(c, NULL, 2);
    }
    for (size_t i = 0; i < c->n; i++) {
        if (!c->v[i].expires_ms || c->v[i].expires_ms > now)
            continue;
        struct rel *x = malloc(sizeof(*x));
        if (!x)
            return;
        x->c = c;
        x->r = c->v[i];
        if (sb_drvmgr_write(c->api->ctx.drivers, x->r.point, NAN, x->r.priority, 1, released, x,
                            &why) == 0) {
            c->releasing++;
            c->inflight++;
        } else {
            free(x);                     /* no driver now (model change...): next scan */
        }
    }
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

int sb_api__cmds_start(struct sb_api *api)
{
    struct sb_api_cmds *c = calloc(1, sizeof(*c));
    if (!c || !(c->timer = malloc(sizeof(*c->timer)))) {
        free(c);
        return SB_ENOMEM;
    }
    c->api = api;
    api->cmds = c;
    uv_timer_init(api->loop, c->timer);
    c->timer->data = c;
    uv_timer_start(c->timer, scan, SCAN_MS, SCAN_MS);
    if (api->ctx.db)
        queue(c, NULL, 1);
    else
        c->loaded = 1;
    return 0;
}

void sb_api__cmds_stop(struct sb_api *api)
{
    if (api->cmds && api->cmds->timer) {
        uv_close((uv_handle_t *)api->cmds->timer, timer_closed);
        api->cmds->timer = NULL;
    }
}

void sb_api__cmds_free(struct sb_api *api)
{
    struct sb_api_cmds *c = api->cmds;
    if (!c)
        return;
    api->cmds = NULL;
    if (c->inflight) {
        c->orphan = 1;               /* the last callback frees it */
        return;
    }
    free(c->v);
    free(c);
}

/* ---- GET /api/v1/points/{point}/priority ---------------------------------------------------- */

struct view {
    struct sb_api *api;
    struct sb_req *rq;               /* NULL: asked by another node (from) */
    struct sb_fwd_from from;
    uint32_t point;
    char slug[SB_SLUG_MAX + 1];
    int done, held;
    json_t *answer;
    int status;
};

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static void view_done(void *ud, int rc, const struct sb_drv_slots *s, const char *why)
{
    struct view *v = ud;
    struct sb_api_cmds *c = v->api->cmds;
    char t1[40], t2[40];

    if (rc) {
        v->status = rc == SB_ETIMEDOUT ? 504 : 502;
        v->answer = json_pack("{s:{s:s, s:s}}", "error", "code", rc == SB_ETIMEDOUT ? "device_timeout"
                              : "device_error", "message", why ? why : sb_strerror(rc));
    } else {
        json_t *slots = json_array();
        int top = 0;
        for (int p = 1; p <= s->n; p++) {
            const struct sb_cmd_rec *ours = NULL;
            for (size_t i = 0; c && i < c->n; i++)
                if (c->v[i].point == v->point && c->v[i].priority == p)
                    ours = &c->v[i];
            if (isnan(s->value[p - 1]) && !ours)
                continue;
            if (!top && !isnan(s->value[p - 1]))
                top = p;
            json_t *e = json_pack("{s:i, s:o, s:b}", "priority", p, "value",
                                  num_or_null(s->value[p - 1]), "ours", ours != NULL);
            if (ours) {
                json_object_set_new(e, "by", json_string(ours->actor));
                if (ours->reason[0])
                    json_object_set_new(e, "reason", json_string(ours->reason));
                json_object_set_new(e, "since", json_string(sb_time_format(ours->since_ms, t1, sizeof(t1))));
                if (ours->expires_ms)
                    json_object_set_new(e, "expires", json_string(sb_time_format(ours->expires_ms, t2, sizeof(t2))));
                /* ours in the database, but the device's slot is empty or
                 * holds another value: someone released or overwrote it */
                if (isnan(s->value[p - 1]) || fabs(s->value[p - 1] - ours->value) > 1e-3 * fmax(1, fabs(ours->value)))
                    json_object_set_new(e, "mismatch", json_true());
            }
            json_array_append_new(slots, e);
        }
        v->status = 200;
        v->answer = json_pack("{s:s, s:b, s:o, s:o, s:o, s:o}", "point", v->slug,
                              "commandable", s->n > 0, "present_value", num_or_null(s->present),
                              "relinquish_default", num_or_null(s->relinquish_default),
                              "in_control", top ? json_integer(top) : json_null(), "slots", slots);
    }
    v->done = 1;
    if (!v->rq) {                        /* forwarded here: the answer goes back */
        json_t *rep = json_pack("{s:i, s:i, s:o}", "rc", 0, "status", v->status, "answer",
                                v->answer ? v->answer : json_null());
        if (rep)
            sb_api__fwd_reply(v->api, &v->from, rep);
        json_decref(rep);
        free(v);
    } else if (v->held) {
        sb_api__json(v->rq, v->status, v->answer);
        sb_http_resume(v->rq);
        free(v);
    }
}

/* The asking node: the owner's view, or no answer in time. */
static void view_back(void *ud, int rc, json_t *rep)
{
    struct view *v = ud;
    json_int_t st = json_integer_value(json_object_get(rep, "status"));
    json_t *answer = json_object_get(rep, "answer");
    if (rc == 0 && st >= 200 && st <= 599 && json_is_object(answer)) {
        sb_api__json(v->rq, (int)st, json_incref(answer));
    } else if (rc == SB_ETIMEDOUT) {
        sb_api__err(v->rq, 504, "device_timeout", "another node polls this point's device and "
                    "none answered for it in time (it may be changing hands: retry)");
    } else {
        sb_api__err(v->rq, 503, "unavailable", rc ? "shutting down" : "a malformed answer");
    }
    sb_http_resume(v->rq);
    free(v);
}

#define FWD_VIEW_MS 10000                /* a live read of the slots takes one request */

void sb_api__priority_remote(struct sb_api *api, const struct sb_fwd_from *from, json_t *b)
{
    const char *slug = json_string_value(json_object_get(b, "point"));
    json_int_t id = json_integer_value(json_object_get(b, "point_id"));
    const char *why = NULL;
    struct view *v;

    if (!api->ctx.drivers || !slug || id <= 0 || id > UINT32_MAX || !(v = calloc(1, sizeof(*v))))
        return;
    v->api = api;
    v->from = *from;
    v->point = (uint32_t)id;
    snprintf(v->slug, sizeof(v->slug), "%s", slug);
    int rc = sb_drvmgr_slots(api->ctx.drivers, v->point, view_done, v, &why);
    if (rc)
        free(v);                         /* not ours (or none's): another node answers */
    /* else view_done answers, now or later */
}

/* Another node polls the point's device: ask it.  0 when asked. */
static int view_forward(struct sb_api *api, struct view *v)
{
    json_t *b = json_pack("{s:s, s:I}", "point", v->slug, "point_id", (json_int_t)v->point);
    int rc = b ? sb_api__fwd_send(api, "slots", b, FWD_VIEW_MS, view_back, v) : SB_ENOMEM;
    json_decref(b);
    return rc;
}

void sb_api__h_priority(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_point *p = sb_api__point(rq->model->m, rq->params[0]);
    const char *why = NULL;
    struct view *v;

    if (!p) {
        sb_api__err(rq, 404, "not_found", "no such point");
        return;
    }
    if (!api->ctx.drivers) {
        sb_api__err(rq, 503, "unavailable", "no running driver serves this point");
        return;
    }
    if (!(v = calloc(1, sizeof(*v)))) {
        sb_api__err(rq, 503, "busy", "out of memory");
        return;
    }
    v->api = api;
    v->rq = rq;
    v->point = p->id;
    snprintf(v->slug, sizeof(v->slug), "%s", p->slug);
    int rc = sb_drvmgr_slots(api->ctx.drivers, p->id, view_done, v, &why);
    if (rc == SB_ECLOSED && api->redis && view_forward(api, v) == 0) {
        rq->hold = 1;                    /* view_back answers */
        return;
    }
    if (rc) {
        sb_api__err(rq, rc == SB_ENOTSUP ? 409 : 503, rc == SB_ENOTSUP ? "not_commandable" : "unavailable",
                    why ? why : sb_strerror(rc));
        free(v);
        return;
    }
    if (v->done) {                       /* answered at once */
        sb_api__json(rq, v->status, v->answer);
        free(v);
        return;
    }
    v->held = 1;
    rq->hold = 1;
}

/*
 * fwd.c - requests forwarded to the node that polls a device (api.h,
 * docs/internals/cluster-leases.md, "Writes for another node's device").
 *
 * With device leases, one node talks to a device; the API is answered by
 * any node.  A command that reaches a node which does not poll the device
 * goes, through Redis, to every other node as one "@fwd" message; the node
 * whose drivers own the device runs it exactly as its own API would (the
 * drivers' verified write, the held-command record, the audit, the
 * "commands" event) and sends the outcome back to the asking node only,
 * which answers the held HTTP request.  Nodes that do not own the device
 * say nothing, so no lookup of the owner is needed and a device that
 * changes hands meanwhile is run by whoever holds it when the message
 * arrives.  No answer within the deadline: 504, as for a device that does
 * not answer.
 *
 * Trust: the message carries the asking user's id, name and address, which
 * the asking node authenticated and authorized; the owner does not check
 * them again.  Redis is inside the cluster's trust boundary already (it
 * carries session revocations); docs/operations.md says to keep it so.
 *
 * Threads: everything here runs on the loop thread (the messages arrive
 * through the Redis module's uv_async).  Memory: at most FWD_MAX requests
 * wait; each is freed by its answer, its deadline or sb_api__fwd_stop().
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/fwd.h"
#include "cluster/redis.h"
#include "core/err.h"
#include "core/log.h"

#define FWD_MAX      256               /* requests waiting for another node at most */
#define SWEEP_MS     200               /* deadline resolution */

struct fwd {
    struct fwd *next;
    uint64_t id;
    int64_t deadline;                  /* monotonic ms */
    sb_fwd_cb cb;
    void *ud;
};

struct sb_api_fwd {
    struct fwd *head;
    size_t n;
    uint64_t next_id;
    uv_timer_t *timer;                 /* own allocation, freed by its close callback */
    uint64_t sent, answered, expired, late, handled, bad;
};

static void finish(struct fwd *f, int rc, json_t *reply)
{
    f->cb(f->ud, rc, reply);
    free(f);
}

static int64_t mono_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

static struct fwd *take(struct sb_api_fwd *q, uint64_t id)
{
    for (struct fwd **pp = &q->head; *pp; pp = &(*pp)->next)
        if ((*pp)->id == id) {
            struct fwd *f = *pp;
            *pp = f->next;
            q->n--;
            return f;
        }
    return NULL;
}

static void sweep(uv_timer_t *t)
{
    struct sb_api *api = t->data;
    struct sb_api_fwd *q = api->fwd;
    int64_t now = mono_ms();
    struct fwd **pp = &q->head;
    while (*pp) {
        struct fwd *f = *pp;
        if (f->deadline > now) {
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        q->n--;
        q->expired++;
        finish(f, SB_ETIMEDOUT, NULL);
    }
    if (!q->head)
        uv_timer_stop(t);
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

int sb_api__fwd_start(struct sb_api *api)
{
    struct sb_api_fwd *q = calloc(1, sizeof(*q));
    if (!q || !(q->timer = malloc(sizeof(*q->timer)))) {
        free(q);
        return SB_ENOMEM;
    }
    uv_timer_init(api->loop, q->timer);
    q->timer->data = api;
    q->next_id = 1;
    api->fwd = q;
    return 0;
}

void sb_api__fwd_stop(struct sb_api *api)
{
    struct sb_api_fwd *q = api->fwd;
    if (!q)
        return;
    while (q->head) {
        struct fwd *f = q->head;
        q->head = f->next;
        q->n--;
        finish(f, SB_ECLOSED, NULL);
    }
    if (q->timer) {
        uv_close((uv_handle_t *)q->timer, timer_closed);
        q->timer = NULL;
    }
}

void sb_api__fwd_free(struct sb_api *api)
{
    free(api->fwd);
    api->fwd = NULL;
}

int sb_api__fwd_send(struct sb_api *api, const char *kind, json_t *body, int64_t timeout_ms,
                     sb_fwd_cb cb, void *ud)
{
    struct sb_api_fwd *q = api->fwd;
    if (!q || !q->timer || !sb_redis_up(api->redis))
        return SB_ECLOSED;
    if (q->n >= FWD_MAX)
        return SB_EAGAIN;
    struct fwd *f = calloc(1, sizeof(*f));
    json_t *m = f ? json_pack("{s:s, s:s, s:I, s:s, s:O}", "op", "req", "kind", kind, "id",
                              (json_int_t)q->next_id, "from", sb_redis_node(api->redis),
                              "body", body)
                  : NULL;
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    int rc = s ? sb_redis_send(api->redis, NULL, "@fwd", s) : SB_ENOMEM;
    free(s);
    json_decref(m);
    if (rc) {
        free(f);
        return rc;
    }
    f->id = q->next_id++;
    f->deadline = mono_ms() + timeout_ms;
    f->cb = cb;
    f->ud = ud;
    f->next = q->head;
    q->head = f;
    q->n++;
    q->sent++;
    if (!uv_is_active((uv_handle_t *)q->timer))
        uv_timer_start(q->timer, sweep, SWEEP_MS, SWEEP_MS);
    return 0;
}

int sb_api__fwd_reply(struct sb_api *api, const struct sb_fwd_from *from, json_t *reply)
{
    json_t *m = json_pack("{s:s, s:I, s:s, s:O}", "op", "rep", "id", (json_int_t)from->id,
                          "from", sb_redis_node(api->redis), "body", reply);
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    int rc = s ? sb_redis_send(api->redis, from->node, "@fwd", s) : SB_ENOMEM;
    free(s);
    json_decref(m);
    if (rc)
        SB_WARN("api", "a request forwarded by node %s: its answer could not be sent (%s)",
                from->node, sb_strerror(rc));
    return rc;
}

/* ---- parsing (pure) -------------------------------------------------------------- */

int sb_api__fwd_parse(const char *s, size_t n, struct sb_fwd_msg *m)
{
    json_t *v = json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
    const char *op = json_string_value(json_object_get(v, "op"));
    const char *kind = json_string_value(json_object_get(v, "kind"));
    const char *from = json_string_value(json_object_get(v, "from"));
    json_t *id = json_object_get(v, "id"), *body = json_object_get(v, "body");

    memset(m, 0, sizeof(*m));
    if (!op || !from || !*from || strlen(from) >= sizeof(m->from.node) || !json_is_integer(id) ||
        json_integer_value(id) <= 0 || !json_is_object(body))
        goto bad;
    if (strcmp(op, "req") == 0) {
        if (!kind || !*kind || strlen(kind) >= sizeof(m->kind))
            goto bad;
        m->op = SB_FWD_REQ;
        snprintf(m->kind, sizeof(m->kind), "%s", kind);
    } else if (strcmp(op, "rep") == 0) {
        m->op = SB_FWD_REP;
    } else {
        goto bad;
    }
    snprintf(m->from.node, sizeof(m->from.node), "%s", from);
    m->from.id = (uint64_t)json_integer_value(id);
    m->body = json_incref(body);
    json_decref(v);
    return 0;
bad:
    json_decref(v);
    memset(m, 0, sizeof(*m));
    return SB_EPROTO;
}

int sb_api__fwd_write_parse(json_t *b, struct sb_fwd_write *w)
{
    json_t *id = json_object_get(b, "point_id"), *v = json_object_get(b, "value");
    json_t *pr = json_object_get(b, "priority"), *rl = json_object_get(b, "relinquish");
    json_t *uid = json_object_get(b, "uid"), *ex = json_object_get(b, "expires");

    memset(w, 0, sizeof(*w));
    w->point = json_string_value(json_object_get(b, "point"));
    w->username = json_string_value(json_object_get(b, "username"));
    w->ip = json_string_value(json_object_get(b, "ip"));
    w->asked = json_object_get(b, "asked");
    if (!w->point || !w->username || !w->ip || !json_is_object(w->asked) ||
        !json_is_integer(id) || json_integer_value(id) <= 0 ||
        json_integer_value(id) > UINT32_MAX || !json_is_integer(pr) ||
        json_integer_value(pr) < 0 || json_integer_value(pr) > 16 || !json_is_boolean(rl) ||
        !json_is_integer(uid) || !json_is_integer(ex) || json_integer_value(ex) < 0)
        return SB_EPROTO;
    w->relinquish = json_is_true(rl);
    if (!w->relinquish && (!json_is_number(v) || !isfinite(json_number_value(v))))
        return SB_EPROTO;
    w->point_id = (uint32_t)json_integer_value(id);
    w->value = w->relinquish ? NAN : json_number_value(v);
    w->priority = (int)json_integer_value(pr);
    w->uid = json_integer_value(uid);
    w->expires = json_integer_value(ex);
    return 0;
}

/* ---- messages from other nodes ------------------------------------------------------ */

/* A request: run by whoever owns what it names. */
static void on_request(struct sb_api *api, const struct sb_fwd_msg *m)
{
    struct sb_fwd_write w;
    if (strcmp(m->kind, "slots") == 0) {
        api->fwd->handled++;
        sb_api__priority_remote(api, &m->from, m->body);
        return;
    }
    if (strcmp(m->kind, "write") != 0 || sb_api__fwd_write_parse(m->body, &w)) {
        api->fwd->bad++;
        return;
    }
    api->fwd->handled++;
    sb_api__cmd_remote(api, &m->from, &w);
}

static void on_reply(struct sb_api *api, const struct sb_fwd_msg *m)
{
    struct fwd *f = take(api->fwd, m->from.id);
    if (!f) {
        api->fwd->late++;              /* answered after its deadline, or twice */
        return;
    }
    api->fwd->answered++;
    finish(f, 0, m->body);
}

void sb_api__fwd_message(struct sb_api *api, const char *json)
{
    struct sb_fwd_msg m;
    if (!api->fwd || api->stopping)
        return;
    if (sb_api__fwd_parse(json, strlen(json), &m)) {
        api->fwd->bad++;
        SB_DEBUG("api", "a malformed forwarding message from another node, dropped");
        return;
    }
    if (m.op == SB_FWD_REQ)
        on_request(api, &m);
    else
        on_reply(api, &m);
    json_decref(m.body);
}

void sb_api__fwd_stats(const struct sb_api *api, struct sb_fwd_stats *st)
{
    const struct sb_api_fwd *q = api->fwd;
    memset(st, 0, sizeof(*st));
    if (!q)
        return;
    *st = (struct sb_fwd_stats){ .waiting = q->n, .sent = q->sent, .answered = q->answered,
                                 .expired = q->expired, .late = q->late, .handled = q->handled,
                                 .bad = q->bad };
}

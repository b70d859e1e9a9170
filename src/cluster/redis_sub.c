/*
 * redis_sub.c - the messages nodes exchange on <prefix>live, and the
 * subscriber thread that reads them (redis.h, docs/internals/cluster.md).
 *
 * Every message is one compact JSON object {"v":1,"n":<node>,"k":<kind>,...}:
 *   "r"      "d":[[point,t_ms,value,quality],...]  durable readings (<= SB_REDIS_CHUNK)
 *   "e"      "c":channel,"b":building,"j":"<event JSON text>"[,"t":node]
 *            with "t", for that node only; channels "@..." are node to
 *            node (forwarded commands), never for WebSocket clients
 *   "rev"    "key":sid,"w":until_ms                 a revoked session
 *   "deny"   "key":"rl:..|thr:..","w":wait_ms       the shared state refused a key
 *   "clear"  "key":"thr:.."                         a throttle key forgotten
 *   "usr"    "key":"<user id>"                       an account changed: drop its cache
 * A node drops its own messages ("n" is its id), unknown kinds and
 * versions.  JSON, not a binary layout: a reading costs ~40 bytes either
 * way once Redis's protocol is counted, and `redis-cli SUBSCRIBE` shows it.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/redis_int.h"
#include "core/err.h"
#include "core/log.h"

#define MSG_MAX (1u << 20)     /* larger messages from the channel are ignored */

/* ---- encoding ------------------------------------------------------------------ */

char *sb_redis__msg_ctl(const struct sb_redis *r, const char *kind, const char *key,
                        int64_t num)
{
    json_t *m = json_pack("{s:i, s:s, s:s, s:s, s:I}", "v", 1, "n", r->node, "k", kind, "key",
                          key, "w", (json_int_t)num);
    char *s = m ? json_dumps(m, JSON_COMPACT) : NULL;
    json_decref(m);
    return s;
}

char *sb_redis__msg_readings(const struct sb_redis *r, const struct sb_reading *rd, size_t n,
                             size_t *len)
{
    size_t cap = 64 + strlen(r->node) + n * 80, o;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    o = (size_t)snprintf(s, cap, "{\"v\":1,\"n\":\"%s\",\"k\":\"r\",\"d\":[", r->node);
    for (size_t i = 0; i < n && o < cap; i++) {
        char num[32] = "null";
        if (isfinite(rd[i].v))
            snprintf(num, sizeof(num), "%.17g", rd[i].v);
        o += (size_t)snprintf(s + o, cap - o, "%s[%" PRIu32 ",%" PRId64 ",%s,%u]", i ? "," : "",
                              rd[i].point, rd[i].t, num, (unsigned)rd[i].q);
    }
    if (o + 3 > cap) {            /* cannot happen: 80 bytes hold any reading */
        free(s);
        return NULL;
    }
    memcpy(s + o, "]}", 3);
    *len = o + 2;
    return s;
}

/* ---- decoding --------------------------------------------------------------------- */

static void on_readings(struct sb_redis *r, json_t *d)
{
    size_t n = json_array_size(d), k = 0, i;
    json_t *e;
    if (n == 0 || n > SB_REDIS_CHUNK || !r->hooks.readings)
        return;
    struct sb_reading *v = malloc(n * sizeof(*v));
    if (!v)
        return;
    json_array_foreach(d, i, e) {
        json_t *id = json_array_get(e, 0), *t = json_array_get(e, 1), *x = json_array_get(e, 2),
               *q = json_array_get(e, 3);
        if (json_array_size(e) != 4 || !json_is_integer(id) || !json_is_integer(t) ||
            !json_is_integer(q) || (!json_is_number(x) && !json_is_null(x)))
            continue;
        json_int_t pid = json_integer_value(id), qq = json_integer_value(q);
        if (pid <= 0 || pid > UINT32_MAX || qq < 0 || qq > UINT16_MAX)
            continue;
        v[k++] = (struct sb_reading){ .point = (uint32_t)pid, .t = json_integer_value(t),
                                      .v = json_is_null(x) ? NAN : json_number_value(x),
                                      .q = (uint16_t)qq };
    }
    if (k)
        r->hooks.readings(r->hooks.ud, v, k);
    free(v);
}

/* An event for the loop: queued (bounded) and the loop woken. */
static void on_event(struct sb_redis *r, json_t *m)
{
    const char *ch = json_string_value(json_object_get(m, "c"));
    const char *b = json_string_value(json_object_get(m, "b"));
    const char *j = json_string_value(json_object_get(m, "j"));
    json_t *t = json_object_get(m, "t");
    struct sb_redis__ev *e;
    if (!r->wake || !ch || !j || strlen(ch) >= sizeof(e->ch) || (b && strlen(b) >= sizeof(e->bld)))
        return;
    if (t && (!json_is_string(t) || strcmp(json_string_value(t), r->node) != 0))
        return;                        /* another node's */
    if (!(e = calloc(1, sizeof(*e))) || !(e->json = strdup(j))) {
        free(e);
        return;
    }
    snprintf(e->ch, sizeof(e->ch), "%s", ch);
    snprintf(e->bld, sizeof(e->bld), "%s", b ? b : "");
    pthread_mutex_lock(&r->emu);
    int full = r->en >= SB_REDIS__EV_MAX;
    if (!full) {
        if (r->et)
            r->et->next = e;
        else
            r->eh = e;
        r->et = e;
        r->en++;
    }
    pthread_mutex_unlock(&r->emu);
    if (full) {
        atomic_fetch_add(&r->dropped, 1);
        free(e->json);
        free(e);
        return;
    }
    uv_async_send(r->wake);
}

static void on_ctl(struct sb_redis *r, const char *kind, json_t *m)
{
    const char *key = json_string_value(json_object_get(m, "key"));
    json_int_t w = json_integer_value(json_object_get(m, "w"));
    if (!key || strlen(key) >= SB_REDIS__KEY_MAX)
        return;
    if (strcmp(kind, "rev") == 0 && r->hooks.revoked)
        r->hooks.revoked(r->hooks.ud, key, w);
    else if (strcmp(kind, "deny") == 0 && w > 0 && w <= 86400000LL)
        sb_redis__verdict_set(r, key, w);
    else if (strcmp(kind, "clear") == 0)
        sb_redis__verdict_clear(r, key);
    else if (strcmp(kind, "usr") == 0 && r->hooks.user_changed)
        r->hooks.user_changed(r->hooks.ud, strtoll(key, NULL, 10));
}

void sb_redis__on_message(struct sb_redis *r, const char *s, size_t n)
{
    json_t *m = n <= MSG_MAX ? json_loadb(s, n, 0, NULL) : NULL;
    const char *node = json_string_value(json_object_get(m, "n"));
    const char *kind = json_string_value(json_object_get(m, "k"));
    if (!m || !node || !kind || json_integer_value(json_object_get(m, "v")) != 1 ||
        strcmp(node, r->node) == 0)
        goto out;                     /* ours, or not for us */
    atomic_fetch_add(&r->received, 1);
    if (strcmp(kind, "r") == 0)
        on_readings(r, json_object_get(m, "d"));
    else if (strcmp(kind, "e") == 0)
        on_event(r, m);
    else
        on_ctl(r, kind, m);
out:
    json_decref(m);
}

/* ---- the subscriber thread ---------------------------------------------------------- */

static int subscribe(struct sb_redis *r, redisContext *c)
{
    redisReply *rep = redisCommandArgv(c, 2, (const char *[]){ "SUBSCRIBE", r->chan }, NULL);
    int ok = rep && rep->type == REDIS_REPLY_ARRAY;
    if (rep)
        freeReplyObject(rep);
    return ok ? 0 : -1;
}

static void push_reply(struct sb_redis *r, redisReply *rep)
{
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(rep->element[0]->str, "message") == 0 &&
        rep->element[2]->type == REDIS_REPLY_STRING)
        sb_redis__on_message(r, rep->element[2]->str, rep->element[2]->len);
}

/* Reads messages until the connection fails or we stop.  poll() with a
 * short timeout rather than a socket timeout: a hiredis context is dead
 * after any read error, a timeout included. */
static void read_messages(struct sb_redis *r, redisContext *c)
{
    while (!sb_redis__stopping(r)) {
        void *rep = NULL;
        if (redisGetReplyFromReader(c, &rep) != REDIS_OK)
            return;
        if (rep) {
            push_reply(r, rep);
            freeReplyObject(rep);
            continue;
        }
        struct pollfd pf = { .fd = c->fd, .events = POLLIN };
        int n = poll(&pf, 1, 200);
        if (n < 0 && errno != EINTR)
            return;
        if (n > 0 && redisBufferRead(c) != REDIS_OK)
            return;
    }
}

void *sb_redis__sub_main(void *arg)
{
    struct sb_redis *r = arg;
    int64_t backoff = 0;
    int logged = 0;
    while (!sb_redis__stopping(r)) {
        char why[160] = "subscribe refused";
        redisContext *c = sb_redis__dial(r, why, sizeof(why));
        if (c && subscribe(r, c)) {
            redisFree(c);
            c = NULL;
        }
        if (!c) {
            if (!logged)      /* the command thread says "unreachable"; this is the detail */
                SB_DEBUG("redis", "subscriber: %s", why);
            logged = 1;
            sb_redis__sleep(r, backoff = sb_redis__backoff(backoff));
            continue;
        }
        backoff = 0;
        logged = 0;
        read_messages(r, c);
        redisFree(c);
    }
    return NULL;
}

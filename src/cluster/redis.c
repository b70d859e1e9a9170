/*
 * redis.c - the command side of the Redis client (redis.h): URL, the
 * bounded job queue, the command thread with its reconnect and back-off,
 * the Lua scripts of the shared token bucket and login throttle, the
 * verdict table the loop reads, revocations.
 *
 * Why a thread and not hiredis's async API on our libuv loop: hiredis 0.14
 * (Debian 12) has no timeouts in its async API (redisAsyncSetTimeout and a
 * connect timeout came in 1.0), so a Redis that stops answering without
 * closing the socket would leave callbacks pending for ever; its libuv
 * adapter ignores poll errors (redisLibuvPoll returns on status != 0); and
 * our busiest producer, the live bus, runs on the ingest writer thread, not
 * on the loop.  A thread with the blocking API and socket timeouts gives a
 * deadline on every command, and the loop only ever takes a mutex for a
 * few instructions to enqueue.
 */
#include <errno.h>
#include <jansson.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cluster/redis_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

enum { J_RL, J_THR_FAIL, J_THR_CLEAR, J_REVOKE, J_PUB, J_CHECK, J_PING };

/* A caller blocked on a job (sb_redis_revoked, sb_redis_sync). */
struct waiter {
    int done;                      /* the job ran */
    int rc;                        /* its result */
    int refs;                      /* the caller and the job; freed at 0 (under mu) */
};

struct sb_redis__job {
    struct sb_redis__job *next;
    int kind;                      /* J_* */
    char key[SB_REDIS__KEY_MAX];   /* "rl:<key>", "thr:<key>", or a sid */
    char a1[32], a2[32];           /* J_RL: capacity, tokens per ms */
    int64_t a[6];                  /* J_THR_FAIL: sb_thr_cfg; J_REVOKE: until, ttl */
    char *msg;                     /* J_PUB, J_REVOKE: message text (heap) */
    size_t len;                    /* its length */
    struct waiter *w;              /* J_CHECK, J_PING */
};

/* KEYS[1] a hash {t: tokens, l: last ms}; ARGV capacity, tokens per ms.
 * Returns {allowed, whole tokens left, ms until one token}.  TIME before a
 * write is fine: scripts replicate their effects (Redis >= 5). */
static const char LUA_RL[] =
    "local cap = tonumber(ARGV[1]) local rate = tonumber(ARGV[2])\n"
    "local tm = redis.call('TIME')\n"
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)\n"
    "local b = redis.call('HMGET', KEYS[1], 't', 'l')\n"
    "local tok = tonumber(b[1]) local last = tonumber(b[2])\n"
    "if tok == nil or last == nil then tok = cap last = now end\n"
    "if now > last then tok = math.min(cap, tok + (now - last) * rate) end\n"
    "local ok = 0\n"
    "if tok >= 1 then tok = tok - 1 ok = 1 end\n"
    "redis.call('HSET', KEYS[1], 't', tostring(tok), 'l', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil((cap - tok) / rate) + 1000)\n"
    "local wait = 0\n"
    "if tok < 1 then wait = math.ceil((1 - tok) / rate) end\n"
    "return {ok, math.floor(tok), wait}\n";

/* KEYS[1] a hash {n: failures, u: locked until ms}; ARGV free failures,
 * base delay, max delay, lock-out failure (0 = never), lock-out ms, forget
 * ms: the rules of sb_thr (auth/limits.h).  Returns {wait ms, locked now}. */
static const char LUA_THR[] =
    "local free = tonumber(ARGV[1]) local base = tonumber(ARGV[2])\n"
    "local maxd = tonumber(ARGV[3]) local lockn = tonumber(ARGV[4])\n"
    "local lockms = tonumber(ARGV[5]) local forget = tonumber(ARGV[6])\n"
    "local tm = redis.call('TIME')\n"
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)\n"
    "local h = redis.call('HMGET', KEYS[1], 'n', 'u')\n"
    "local n = (tonumber(h[1]) or 0) + 1\n"
    "local lu = tonumber(h[2]) or 0\n"
    "local wait = 0\n"
    "if n > free then\n"
    "  local e = n - free - 1\n"
    "  if e > 40 then wait = maxd else wait = math.min(maxd, base * 2 ^ e) end\n"
    "end\n"
    "local locked = 0\n"
    "if lockn > 0 and n == lockn then lu = now + lockms locked = 1 end\n"
    "if lu - now > wait then wait = lu - now end\n"
    "redis.call('HSET', KEYS[1], 'n', n, 'u', lu)\n"
    "local ttl = forget\n"
    "if wait > ttl then ttl = wait end\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))\n"
    "return {math.floor(wait), locked}\n";

/* ---- URL -------------------------------------------------------------------- */

static int copy_part(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return SB_ECONFIG;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

static int parse_num(const char *s, size_t n, long lo, long hi, int *out)
{
    long v = 0;
    if (n == 0 || n > 9)
        return SB_ECONFIG;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SB_ECONFIG;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return SB_ECONFIG;
    *out = (int)v;
    return 0;
}

int sb_redis_parse_url(const char *url, char *host, size_t hcap, int *port, char *user,
                       size_t ucap, char *pass, size_t pcap, int *db)
{
    *port = 6379;
    *db = 0;
    host[0] = user[0] = pass[0] = '\0';
    if (!url || strncmp(url, "redis://", 8) != 0)
        return SB_ECONFIG;
    const char *p = url + 8, *end = p + strcspn(p, "/?#");
    const char *at = memrchr(p, '@', (size_t)(end - p));
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon || copy_part(user, ucap, p, (size_t)(colon - p)) ||
            copy_part(pass, pcap, colon + 1, (size_t)(at - colon - 1)))
            return SB_ECONFIG;
        p = at + 1;
    }
    const char *hend;
    if (*p == '[') {
        hend = memchr(p, ']', (size_t)(end - p));
        if (!hend || copy_part(host, hcap, p + 1, (size_t)(hend - p - 1)))
            return SB_ECONFIG;
        hend++;
    } else {
        hend = p + strcspn(p, ":/?#");
        if (copy_part(host, hcap, p, (size_t)(hend - p)))
            return SB_ECONFIG;
    }
    if (!host[0] || (hend < end && *hend != ':'))
        return SB_ECONFIG;
    if (hend < end && parse_num(hend + 1, (size_t)(end - hend - 1), 1, 65535, port))
        return SB_ECONFIG;
    if (*end == '/' && end[1] && parse_num(end + 1, strlen(end + 1), 0, 1000000, db))
        return SB_ECONFIG;
    return *end == '?' || *end == '#' ? SB_ECONFIG : 0;
}

/* ---- verdicts ------------------------------------------------------------------ */

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h | 1;
}

/* Returns 1 when this is news worth telling the peers: no verdict was in
 * force, or the new one ends more than a second later (a throttle delay
 * that doubled).  A bucket refusing request after request keeps about the
 * same end, so a flood costs one message. */
int sb_redis__verdict_set(struct sb_redis *r, const char *key, int64_t wait_ms)
{
    uint64_t h = fnv(key);
    int64_t now = sb_now_ms();
    struct sb_redis__verdict *v = &r->v[h % SB_REDIS__VSLOTS];
    int fresh;
    if (strlen(key) >= sizeof(v->key))
        return 0;
    pthread_mutex_lock(&r->vmu);
    fresh = !(v->h == h && strcmp(v->key, key) == 0 && v->until > now &&
              now + wait_ms <= v->until + 1000);
    v->h = h;
    snprintf(v->key, sizeof(v->key), "%s", key);
    v->until = now + wait_ms;
    pthread_mutex_unlock(&r->vmu);
    return fresh;
}

int64_t sb_redis__verdict_wait(struct sb_redis *r, const char *key)
{
    uint64_t h = fnv(key);
    int64_t w = 0, now = sb_now_ms();
    struct sb_redis__verdict *v = &r->v[h % SB_REDIS__VSLOTS];
    pthread_mutex_lock(&r->vmu);
    if (v->h == h && strcmp(v->key, key) == 0 && v->until > now)
        w = v->until - now;
    pthread_mutex_unlock(&r->vmu);
    return w;
}

void sb_redis__verdict_clear(struct sb_redis *r, const char *key)
{
    uint64_t h = fnv(key);
    struct sb_redis__verdict *v = &r->v[h % SB_REDIS__VSLOTS];
    pthread_mutex_lock(&r->vmu);
    if (v->h == h && strcmp(v->key, key) == 0)
        v->h = 0;
    pthread_mutex_unlock(&r->vmu);
}

/* ---- queue ---------------------------------------------------------------------- */

static struct sb_redis__job *job_new(int kind, const char *ns, const char *key)
{
    struct sb_redis__job *j;
    size_t a = strlen(ns), b = strlen(key);
    if (a + b >= SB_REDIS__KEY_MAX || !(j = calloc(1, sizeof(*j))))
        return NULL;
    j->kind = kind;
    memcpy(j->key, ns, a);
    memcpy(j->key + a, key, b + 1);
    return j;
}

static void job_free(struct sb_redis__job *j)
{
    free(j->msg);
    free(j);
}

static struct timespec deadline(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* Completes j's waiter, if any, with rc (mu held). */
static void finish_locked(struct sb_redis *r, struct sb_redis__job *j, int rc)
{
    if (!j->w)
        return;
    j->w->done = 1;
    j->w->rc = rc;
    if (--j->w->refs == 0)
        free(j->w);
    j->w = NULL;
    pthread_cond_broadcast(&r->donecv);
}

static void finish(struct sb_redis *r, struct sb_redis__job *j, int rc)
{
    pthread_mutex_lock(&r->mu);
    finish_locked(r, j, rc);
    pthread_mutex_unlock(&r->mu);
}

/* Takes j.  SB_EAGAIN (counted, j freed) when stopping or full. */
static int push(struct sb_redis *r, struct sb_redis__job *j)
{
    pthread_mutex_lock(&r->mu);
    if (r->stop || r->qn >= SB_REDIS_QUEUE_JOBS || r->qbytes + j->len > SB_REDIS_QUEUE_BYTES) {
        pthread_mutex_unlock(&r->mu);
        atomic_fetch_add(&r->dropped, 1);
        job_free(j);
        return SB_EAGAIN;
    }
    if (r->qt)
        r->qt->next = j;
    else
        r->qh = j;
    r->qt = j;
    r->qn++;
    r->qbytes += j->len;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

/* Drops every waiting job (the connection is gone, or we stop). */
static void drain(struct sb_redis *r, int rc)
{
    pthread_mutex_lock(&r->mu);
    while (r->qh) {
        struct sb_redis__job *j = r->qh;
        r->qh = j->next;
        if (!j->w)
            atomic_fetch_add(&r->dropped, 1);
        finish_locked(r, j, rc);
        job_free(j);
    }
    r->qt = NULL;
    r->qn = r->qbytes = 0;
    pthread_mutex_unlock(&r->mu);
}

/* Queues j and blocks until it ran or timeout_ms passed. */
static int push_wait(struct sb_redis *r, struct sb_redis__job *j, int64_t timeout_ms)
{
    struct waiter *w = calloc(1, sizeof(*w));
    int rc = 0;
    if (!w) {
        job_free(j);
        return SB_ENOMEM;
    }
    w->refs = 2;
    j->w = w;
    if (push(r, j)) {
        free(w);
        return SB_EIO;
    }
    struct timespec ts = deadline(timeout_ms);
    pthread_mutex_lock(&r->mu);
    while (!w->done && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->donecv, &r->mu, &ts);
    rc = w->done ? w->rc : SB_ETIMEDOUT;
    if (--w->refs == 0)
        free(w);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- connections ----------------------------------------------------------------- */

int sb_redis__stopping(struct sb_redis *r)
{
    pthread_mutex_lock(&r->mu);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

int sb_redis__sleep(struct sb_redis *r, int64_t ms)
{
    struct timespec ts = deadline(ms);
    int rc = 0;
    pthread_mutex_lock(&r->mu);
    while (!r->stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&r->stopcv, &r->mu, &ts);
    int s = r->stop;
    pthread_mutex_unlock(&r->mu);
    return s;
}

int64_t sb_redis__backoff(int64_t prev)
{
    return prev <= 0 ? 100 : prev >= 2500 ? 5000 : prev * 2;
}

/* A reply that is an error or missing: why into buf. */
static int reply_bad(redisContext *c, redisReply *rep, char *why, size_t cap)
{
    if (!rep) {
        snprintf(why, cap, "%s", c->errstr[0] ? c->errstr : "no reply");
        return 1;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        snprintf(why, cap, "%.100s", rep->str);
        return 1;
    }
    return 0;
}

/* AUTH and SELECT on a fresh connection: 0 or -1 with why. */
static int login(struct sb_redis *r, redisContext *c, char *why, size_t cap)
{
    redisReply *rep = NULL;
    char db[16];
    int bad = 0;
    if (r->pass[0]) {
        const char *av[] = { "AUTH", r->user, r->pass };
        if (r->user[0])
            rep = redisCommandArgv(c, 3, av, NULL);
        else
            rep = redisCommandArgv(c, 2, (const char *[]){ "AUTH", r->pass }, NULL);
        bad = reply_bad(c, rep, why, cap);   /* Redis's own text: no password in it */
        if (rep)
            freeReplyObject(rep);
    }
    if (!bad && r->db) {
        snprintf(db, sizeof(db), "%d", r->db);
        rep = redisCommandArgv(c, 2, (const char *[]){ "SELECT", db }, NULL);
        bad = reply_bad(c, rep, why, cap);
        if (rep)
            freeReplyObject(rep);
    }
    return bad ? -1 : 0;
}

redisContext *sb_redis__dial(struct sb_redis *r, char *why, size_t cap)
{
    struct timeval tv = { (time_t)(r->timeout_ms / 1000), (suseconds_t)(r->timeout_ms % 1000) * 1000 };
    redisContext *c = redisConnectWithTimeout(r->host, r->port, tv);
    if (!c || c->err) {
        snprintf(why, cap, "%s", c ? c->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(c, tv) != REDIS_OK || login(r, c, why, cap))
        goto fail;
    return c;
fail:
    if (c)
        redisFree(c);
    return NULL;
}

/* SCRIPT LOAD one script into sha (command thread). */
static int load_script(redisContext *c, const char *src, char *sha, size_t cap, char *why,
                       size_t wcap)
{
    redisReply *rep = redisCommandArgv(c, 3, (const char *[]){ "SCRIPT", "LOAD", src }, NULL);
    int bad = reply_bad(c, rep, why, wcap) || rep->type != REDIS_REPLY_STRING ||
              rep->len >= cap;
    if (!bad)
        snprintf(sha, cap, "%s", rep->str);
    else if (rep && rep->type != REDIS_REPLY_ERROR)
        snprintf(why, wcap, "unexpected SCRIPT LOAD reply");
    if (rep)
        freeReplyObject(rep);
    return bad ? -1 : 0;
}

/* The command connection is gone: say so once, forget it, drop the queue. */
static void lost(struct sb_redis *r, const char *why)
{
    if (!r->down_logged)
        SB_WARN("redis", "connection to %s:%d lost (%s): limits are local until it is back; "
                "reconnecting", r->host, r->port, why);
    r->down_logged = 1;
    atomic_fetch_add(&r->errors, 1);
    atomic_store(&r->up, 0);
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    r->backoff = sb_redis__backoff(0);
    drain(r, SB_EIO);
}

static void replay_revocations(struct sb_redis *r);

static void connect_cmd(struct sb_redis *r)
{
    char why[160] = "";
    redisContext *c = sb_redis__dial(r, why, sizeof(why));
    if (c && (load_script(c, LUA_RL, r->sha_rl, sizeof(r->sha_rl), why, sizeof(why)) ||
              load_script(c, LUA_THR, r->sha_thr, sizeof(r->sha_thr), why, sizeof(why)))) {
        redisFree(c);
        c = NULL;
    }
    if (!c) {
        if (!r->down_logged)
            SB_WARN("redis", "%s:%d unreachable (%s): limits are local until it answers; "
                    "retrying with back-off", r->host, r->port, why);
        r->down_logged = 1;
        r->backoff = sb_redis__backoff(r->backoff);
        return;
    }
    r->c = c;
    r->backoff = 0;
    r->down_logged = 0;
    atomic_store(&r->up, 1);
    atomic_fetch_add(&r->connects, 1);
    SB_INFO("redis", "connected to %s:%d as node %s", r->host, r->port, r->node);
    replay_revocations(r);
}

/* One command on the command connection: the reply (caller frees; may be
 * an error reply), or NULL once the connection is dropped. */
static redisReply *command(struct sb_redis *r, int argc, const char **argv)
{
    if (!r->c)
        return NULL;
    redisReply *rep = redisCommandArgv(r->c, argc, argv, NULL);
    if (!rep) {
        lost(r, r->c->errstr[0] ? r->c->errstr : "no reply");
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        SB_DEBUG("redis", "%s: %.120s", argv[0], rep->str);
        atomic_fetch_add(&r->errors, 1);
    }
    return rep;
}

/* EVALSHA, loading the script again if Redis lost it (SCRIPT FLUSH, restart). */
static redisReply *evalsha(struct sb_redis *r, const char *src, char *sha, size_t shacap,
                           int argc, const char **argv)
{
    redisReply *rep = command(r, argc, argv);
    char why[160];
    if (rep && rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(rep);
        if (!r->c || load_script(r->c, src, sha, shacap, why, sizeof(why)))
            return NULL;
        argv[1] = sha;
        rep = command(r, argc, argv);
    }
    return rep;
}

/* Publishes a message text from the command thread. */
static void publish(struct sb_redis *r, const char *msg)
{
    if (!msg)
        return;
    redisReply *rep = command(r, 3, (const char *[]){ "PUBLISH", r->chan, msg });
    if (rep && rep->type != REDIS_REPLY_ERROR)
        atomic_fetch_add(&r->published, 1);
    if (rep)
        freeReplyObject(rep);
}

/* The shared state refused key for wait ms: remember it, and tell the
 * other nodes when it is news (one message per refusal period). */
static void deny(struct sb_redis *r, const char *key, int64_t wait)
{
    if (!sb_redis__verdict_set(r, key, wait))
        return;
    char *m = sb_redis__msg_ctl(r, "deny", key, wait);
    publish(r, m);
    free(m);
}

/* Integer element i of an array reply, or def. */
static long long elem(const redisReply *rep, size_t i, long long def)
{
    if (!rep || rep->type != REDIS_REPLY_ARRAY || i >= rep->elements ||
        rep->element[i]->type != REDIS_REPLY_INTEGER)
        return def;
    return rep->element[i]->integer;
}

static void do_rl(struct sb_redis *r, struct sb_redis__job *j)
{
    char full[256];
    snprintf(full, sizeof(full), "%s%s", r->prefix, j->key);
    const char *av[] = { "EVALSHA", r->sha_rl, "1", full, j->a1, j->a2 };
    redisReply *rep = evalsha(r, LUA_RL, r->sha_rl, sizeof(r->sha_rl), 6, av);
    if (elem(rep, 0, 1) == 0 && elem(rep, 2, 0) > 0)
        deny(r, j->key, elem(rep, 2, 0));
    if (rep)
        freeReplyObject(rep);
}

static void do_thr(struct sb_redis *r, struct sb_redis__job *j)
{
    char full[256], a[6][24];
    snprintf(full, sizeof(full), "%s%s", r->prefix, j->key);
    for (int i = 0; i < 6; i++)
        snprintf(a[i], sizeof(a[i]), "%" PRId64, j->a[i]);
    const char *av[] = { "EVALSHA", r->sha_thr, "1", full, a[0], a[1], a[2], a[3], a[4], a[5] };
    redisReply *rep = evalsha(r, LUA_THR, r->sha_thr, sizeof(r->sha_thr), 10, av);
    if (elem(rep, 0, 0) > 0)
        deny(r, j->key, elem(rep, 0, 0));
    if (rep)
        freeReplyObject(rep);
}

static void do_clear(struct sb_redis *r, struct sb_redis__job *j)
{
    char full[256];
    snprintf(full, sizeof(full), "%s%s", r->prefix, j->key);
    redisReply *rep = command(r, 2, (const char *[]){ "DEL", full });
    if (rep)
        freeReplyObject(rep);
    sb_redis__verdict_clear(r, j->key);
    char *m = sb_redis__msg_ctl(r, "clear", j->key, 0);
    publish(r, m);
    free(m);
}

static void do_revoke(struct sb_redis *r, struct sb_redis__job *j)
{
    char full[256], until[24], ttl[24];
    snprintf(full, sizeof(full), "%srev:%s", r->prefix, j->key);
    snprintf(until, sizeof(until), "%" PRId64, j->a[0]);
    snprintf(ttl, sizeof(ttl), "%" PRId64, j->a[1] > 0 ? j->a[1] : 1);
    redisReply *rep = command(r, 5, (const char *[]){ "SET", full, until, "PX", ttl });
    if (rep)
        freeReplyObject(rep);
    publish(r, j->msg);
}

static void do_check(struct sb_redis *r, struct sb_redis__job *j)
{
    char full[256];
    snprintf(full, sizeof(full), "%srev:%s", r->prefix, j->key);
    redisReply *rep = command(r, 2, (const char *[]){ "EXISTS", full });
    int rc = !rep || rep->type != REDIS_REPLY_INTEGER ? SB_EIO : rep->integer > 0;
    if (rep)
        freeReplyObject(rep);
    finish(r, j, rc);
}

static void run_job(struct sb_redis *r, struct sb_redis__job *j)
{
    switch (j->kind) {
    case J_RL: do_rl(r, j); break;
    case J_THR_FAIL: do_thr(r, j); break;
    case J_THR_CLEAR: do_clear(r, j); break;
    case J_REVOKE: do_revoke(r, j); break;
    case J_PUB: publish(r, j->msg); break;
    case J_CHECK: do_check(r, j); break;
    default: break;
    }
    finish(r, j, r->c ? 0 : SB_EIO);   /* J_PING, and a check the connection lost */
}

/* SB_REDIS__KEY_MAX-bounded SCAN of <prefix>rev:*, each through hooks.revoked:
 * a node that was away (or just started) learns the revocations it missed. */
static void replay_page(struct sb_redis *r, const redisReply *keys, size_t plen)
{
    for (size_t i = 0; i < keys->elements && r->c; i++) {
        const redisReply *k = keys->element[i];
        if (k->type != REDIS_REPLY_STRING || k->len <= plen)
            continue;
        redisReply *v = command(r, 2, (const char *[]){ "GET", k->str });
        if (v && v->type == REDIS_REPLY_STRING && r->hooks.revoked)
            r->hooks.revoked(r->hooks.ud, k->str + plen, strtoll(v->str, NULL, 10));
        if (v)
            freeReplyObject(v);
    }
}

static void replay_revocations(struct sb_redis *r)
{
    char pat[128], cur[32] = "0", pre[96];
    snprintf(pat, sizeof(pat), "%srev:*", r->prefix);
    snprintf(pre, sizeof(pre), "%srev:", r->prefix);
    for (int pages = 0; pages < 1000 && r->c; pages++) {
        redisReply *rep = command(r, 6, (const char *[]){ "SCAN", cur, "MATCH", pat, "COUNT", "500" });
        int ok = rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
                 rep->element[0]->type == REDIS_REPLY_STRING &&
                 rep->element[1]->type == REDIS_REPLY_ARRAY;
        if (ok) {
            snprintf(cur, sizeof(cur), "%s", rep->element[0]->str);
            replay_page(r, rep->element[1], strlen(pre));
        }
        if (rep)
            freeReplyObject(rep);
        if (!ok || strcmp(cur, "0") == 0)
            break;
    }
}

/* Next job, or NULL after waiting up to a second (mu held). */
static struct sb_redis__job *pop_locked(struct sb_redis *r)
{
    if (!r->qh) {
        struct timespec ts = deadline(1000);
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    struct sb_redis__job *j = r->qh;
    if (!j || r->stop)
        return NULL;
    r->qh = j->next;
    if (!r->qh)
        r->qt = NULL;
    r->qn--;
    r->qbytes -= j->len;
    return j;
}

static void *cmd_main(void *arg)
{
    struct sb_redis *r = arg;
    while (!sb_redis__stopping(r)) {
        if (!r->c) {
            connect_cmd(r);
            if (!r->c)
                sb_redis__sleep(r, r->backoff);
            continue;
        }
        pthread_mutex_lock(&r->mu);
        struct sb_redis__job *j = pop_locked(r);
        pthread_mutex_unlock(&r->mu);
        if (j) {
            run_job(r, j);
            job_free(j);
        } else if (!sb_redis__stopping(r)) {
            /* idle for a second: a PING notices a dead server before a
             * request needs it (and keeps sbems_redis_up honest) */
            redisReply *rep = command(r, 1, (const char *[]){ "PING" });
            if (rep)
                freeReplyObject(rep);
        }
    }
    atomic_store(&r->up, 0);
    drain(r, SB_ECLOSED);
    if (r->c)
        redisFree(r->c);
    r->c = NULL;
    return NULL;
}

/* ---- the public operations ----------------------------------------------------------- */

/* While Redis is down, limit operations are local only: count them. */
static int usable(struct sb_redis *r)
{
    if (!r)
        return 0;
    if (atomic_load(&r->up))
        return 1;
    atomic_fetch_add(&r->fallback, 1);
    return 0;
}

int64_t sb_redis_rl(struct sb_redis *r, const char *key, double capacity, double refill_per_s)
{
    char vk[SB_REDIS__KEY_MAX];
    if (!usable(r))
        return 0;
    struct sb_redis__job *j = job_new(J_RL, "rl:", key);
    if (!j)
        return 0;
    snprintf(vk, sizeof(vk), "%s", j->key);
    snprintf(j->a1, sizeof(j->a1), "%.17g", capacity);
    snprintf(j->a2, sizeof(j->a2), "%.17g", refill_per_s / 1000.0);
    /* read before queueing: the verdict is what was known before this
     * take, whatever the command thread does next */
    int64_t w = sb_redis__verdict_wait(r, vk);
    push(r, j);
    return w;
}

int64_t sb_redis_thr_wait(struct sb_redis *r, const char *key)
{
    char vk[SB_REDIS__KEY_MAX];
    if (!usable(r))
        return 0;
    snprintf(vk, sizeof(vk), "thr:%s", key);
    return sb_redis__verdict_wait(r, vk);
}

void sb_redis_thr_fail(struct sb_redis *r, const char *key, const struct sb_thr_cfg *cfg)
{
    if (!usable(r))
        return;
    struct sb_redis__job *j = job_new(J_THR_FAIL, "thr:", key);
    if (!j)
        return;
    j->a[0] = cfg->free_failures;
    j->a[1] = cfg->base_delay_ms;
    j->a[2] = cfg->max_delay_ms;
    j->a[3] = cfg->lockout_failures;
    j->a[4] = cfg->lockout_ms;
    j->a[5] = cfg->forget_ms;
    push(r, j);
}

void sb_redis_thr_success(struct sb_redis *r, const char *key)
{
    if (!usable(r))
        return;
    struct sb_redis__job *j = job_new(J_THR_CLEAR, "thr:", key);
    if (j)
        push(r, j);
}

void sb_redis_revoke(struct sb_redis *r, const char *sid, int64_t until_ms, int64_t ttl_ms)
{
    if (!r)
        return;
    if (!atomic_load(&r->up)) {
        atomic_fetch_add(&r->dropped, 1);
        return;
    }
    struct sb_redis__job *j = job_new(J_REVOKE, "", sid);
    if (!j)
        return;
    j->a[0] = until_ms;
    j->a[1] = ttl_ms;
    j->msg = sb_redis__msg_ctl(r, "rev", sid, until_ms);
    j->len = j->msg ? strlen(j->msg) : 0;
    push(r, j);
}

void sb_redis_user_changed(struct sb_redis *r, int64_t uid)
{
    char key[24];

    if (!r)
        return;
    if (!atomic_load(&r->up)) {
        atomic_fetch_add(&r->dropped, 1);
        return;
    }
    snprintf(key, sizeof(key), "%" PRId64, uid);
    struct sb_redis__job *j = job_new(J_PUB, "", key);
    if (!j)
        return;
    if (!(j->msg = sb_redis__msg_ctl(r, "usr", key, 0))) {
        job_free(j);
        return;
    }
    j->len = strlen(j->msg);
    push(r, j);
}

int sb_redis_revoked(struct sb_redis *r, const char *sid)
{
    if (!r || !atomic_load(&r->up))
        return SB_EIO;
    struct sb_redis__job *j = job_new(J_CHECK, "", sid);
    return j ? push_wait(r, j, r->timeout_ms) : SB_ENOMEM;
}

int sb_redis_sync(struct sb_redis *r, int64_t timeout_ms)
{
    if (!r || !atomic_load(&r->up))
        return SB_EIO;
    struct sb_redis__job *j = job_new(J_PING, "", "");
    return j ? push_wait(r, j, timeout_ms) : SB_ENOMEM;
}

void sb_redis_publish_readings(struct sb_redis *r, const struct sb_reading *rd, size_t n)
{
    if (!r || !n)
        return;
    for (size_t i = 0; i < n; i += SB_REDIS_CHUNK) {
        size_t m = n - i < SB_REDIS_CHUNK ? n - i : SB_REDIS_CHUNK, len = 0;
        if (!atomic_load(&r->up)) {
            atomic_fetch_add(&r->dropped, 1);   /* a slow or absent Redis drops, never grows */
            continue;
        }
        struct sb_redis__job *j = job_new(J_PUB, "", "");
        if (j && (j->msg = sb_redis__msg_readings(r, rd + i, m, &len))) {
            j->len = len;
            push(r, j);
        } else if (j) {
            job_free(j);
        }
    }
}

static int publish_to(struct sb_redis *r, const char *to, const char *channel,
                      const char *building, const char *json)
{
    if (!r || !channel || !json)
        return SB_EINVAL;
    if (!atomic_load(&r->up)) {
        atomic_fetch_add(&r->dropped, 1);
        return SB_ECLOSED;
    }
    json_t *m = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "v", 1, "n", r->node, "k", "e",
                          "c", channel, "b", building ? building : "", "j", json);
    if (m && to && json_object_set_new(m, "t", json_string(to))) {
        json_decref(m);
        m = NULL;
    }
    struct sb_redis__job *j = m ? job_new(J_PUB, "", "") : NULL;
    int rc = SB_ENOMEM;
    if (j && (j->msg = json_dumps(m, JSON_COMPACT))) {
        j->len = strlen(j->msg);
        push(r, j);
        rc = 0;
    } else if (j) {
        job_free(j);
    }
    json_decref(m);
    return rc;
}

void sb_redis_publish_event(struct sb_redis *r, const char *channel, const char *building,
                            const char *json)
{
    publish_to(r, NULL, channel, building, json);
}

int sb_redis_send(struct sb_redis *r, const char *to, const char *channel, const char *json)
{
    if (!channel || channel[0] != '@')
        return SB_EINVAL;
    return publish_to(r, to, channel, NULL, json);
}

int sb_redis_up(const struct sb_redis *r)
{
    return r && atomic_load(&((struct sb_redis *)r)->up);
}

/* ---- life cycle --------------------------------------------------------------------- */

/* Loop thread: events from peers, to hooks.event. */
static void on_wake(uv_async_t *a)
{
    struct sb_redis *r = a->data;
    pthread_mutex_lock(&r->emu);
    struct sb_redis__ev *e = r->eh;
    r->eh = r->et = NULL;
    r->en = 0;
    pthread_mutex_unlock(&r->emu);
    while (e) {
        struct sb_redis__ev *next = e->next;
        if (r->hooks.event)
            r->hooks.event(r->hooks.ud, e->ch, e->bld[0] ? e->bld : NULL, e->json);
        free(e->json);
        free(e);
        e = next;
    }
}

static int valid_node(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < SB_REDIS_NODE_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-") == n;
}

static int setup(struct sb_redis *r, const struct sb_redis_cfg *cfg, char *err, size_t cap)
{
    if (sb_redis_parse_url(cfg->url, r->host, sizeof(r->host), &r->port, r->user,
                           sizeof(r->user), r->pass, sizeof(r->pass), &r->db)) {
        snprintf(err, cap, "redis.url: expected redis://[[user]:password@]host[:port][/db]");
        return SB_ECONFIG;
    }
    const char *pre = cfg->prefix ? cfg->prefix : "sbems:";
    if (strlen(pre) >= sizeof(r->prefix) - 8) {
        snprintf(err, cap, "redis.prefix: at most %zu bytes", sizeof(r->prefix) - 9);
        return SB_ECONFIG;
    }
    snprintf(r->prefix, sizeof(r->prefix), "%s", pre);
    snprintf(r->chan, sizeof(r->chan), "%slive", pre);
    if (cfg->node && *cfg->node) {
        if (!valid_node(cfg->node)) {
            snprintf(err, cap, "node id: letters, digits and ._:- only, < %d bytes",
                     SB_REDIS_NODE_MAX);
            return SB_ECONFIG;
        }
        snprintf(r->node, sizeof(r->node), "%s", cfg->node);
    } else {
        uint8_t b[8] = { 0 };
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
            return SB_EIO;
        snprintf(r->node, sizeof(r->node), "n-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1],
                 b[2], b[3], b[4], b[5], b[6], b[7]);
    }
    r->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
    return 0;
}

static int init_sync(struct sb_redis *r)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&r->mu, NULL);
    pthread_mutex_init(&r->vmu, NULL);
    pthread_mutex_init(&r->emu, NULL);
    pthread_cond_init(&r->cv, &ca);
    pthread_cond_init(&r->stopcv, &ca);
    pthread_cond_init(&r->donecv, &ca);
    pthread_condattr_destroy(&ca);
    r->v = calloc(SB_REDIS__VSLOTS, sizeof(*r->v));
    return r->v ? 0 : SB_ENOMEM;
}

static void on_closed(uv_handle_t *h)
{
    free(h);
}

/* The uv_async that carries events to the loop (before the threads start,
 * which read r->wake). */
static int open_wake(struct sb_redis *r, uv_loop_t *loop)
{
    if (!loop || !r->hooks.event)
        return 0;
    if (!(r->wake = calloc(1, sizeof(*r->wake))))
        return SB_ENOMEM;
    if (uv_async_init(loop, r->wake, on_wake)) {
        free(r->wake);
        r->wake = NULL;
        return SB_EIO;
    }
    r->wake->data = r;
    return 0;
}

int sb_redis_new(uv_loop_t *loop, const struct sb_redis_cfg *cfg,
                 const struct sb_redis_hooks *hooks, struct sb_redis **out, char *err,
                 size_t errcap)
{
    struct sb_redis *r = calloc(1, sizeof(*r));
    int rc;

    *out = NULL;
    if (!r)
        return SB_ENOMEM;
    if (hooks)
        r->hooks = *hooks;
    if ((rc = init_sync(r)) || (rc = setup(r, cfg, err, errcap)) || (rc = open_wake(r, loop)))
        goto fail;
    rc = SB_EIO;
    if (pthread_create(&r->cmd_th, NULL, cmd_main, r))
        goto fail;
    r->started |= 1;
    if (pthread_create(&r->sub_th, NULL, sb_redis__sub_main, r))
        goto fail;
    r->started |= 2;
    *out = r;
    return 0;
fail:
    sb_redis_stop(r);
    sb_redis_free(r);
    return rc;
}

void sb_redis_stop(struct sb_redis *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_cond_broadcast(&r->stopcv);
    pthread_mutex_unlock(&r->mu);
    if (r->started & 1)
        pthread_join(r->cmd_th, NULL);
    if (r->started & 2)
        pthread_join(r->sub_th, NULL);
    r->started = 0;
    if (r->wake)
        uv_close((uv_handle_t *)r->wake, on_closed);
    r->wake = NULL;
}

int sb_redis_idle(const struct sb_redis *r)
{
    (void)r;
    return 1;        /* nothing of ours outlives sb_redis_stop but a handle that frees itself */
}

void sb_redis_free(struct sb_redis *r)
{
    if (!r)
        return;
    drain(r, SB_ECLOSED);
    while (r->eh) {
        struct sb_redis__ev *e = r->eh;
        r->eh = e->next;
        free(e->json);
        free(e);
    }
    explicit_bzero(r->pass, sizeof(r->pass));
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->vmu);
    pthread_mutex_destroy(&r->emu);
    pthread_cond_destroy(&r->cv);
    pthread_cond_destroy(&r->stopcv);
    pthread_cond_destroy(&r->donecv);
    free(r->v);
    free(r);
}

const char *sb_redis_node(const struct sb_redis *r)
{
    return r ? r->node : "";
}

void sb_redis_stats(struct sb_redis *r, struct sb_redis_stats *out)
{
    *out = (struct sb_redis_stats){
        .up = atomic_load(&r->up), .connects = atomic_load(&r->connects),
        .fallback = atomic_load(&r->fallback), .dropped = atomic_load(&r->dropped),
        .published = atomic_load(&r->published), .received = atomic_load(&r->received),
        .errors = atomic_load(&r->errors),
    };
}

/*
 * redis.h - state shared between sbems nodes through Redis (hiredis):
 * rate-limit buckets, login-throttle counters, revoked sessions, and a
 * pub/sub channel that carries live readings and events to the other nodes
 * (docs/internals/cluster.md).
 *
 * Nothing here ever makes the event loop wait for Redis.  Two threads of
 * this module own the two connections: a command thread (EVALSHA, SET,
 * PUBLISH, ...: jobs taken from a bounded queue) and a subscriber thread
 * (SUBSCRIBE, then reads).  Callers on the loop only enqueue work and read
 * the verdicts the command thread left in a small table:
 *
 *   rate limit   sb_redis_rl() enqueues one take from the shared bucket
 *                (a Lua script, atomic, with Redis's clock) and returns the
 *                wait the shared bucket last imposed on that key (0 = none).
 *                A refusal is also published so the other nodes learn it at
 *                once.  The local limiter (auth/limits.h) still runs on
 *                every node: it is the fallback, and while Redis is up the
 *                shared verdict is added to it.
 *   throttle     sb_redis_thr_fail()/_success() count failures in Redis
 *                (same rules as sb_thr); sb_redis_thr_wait() is the shared
 *                wait last learnt for a key.
 *   revocation   sb_redis_revoke() SETs <prefix>rev:<sid> with a TTL and
 *                publishes it; peers call hooks.revoked.  On each connect
 *                the command thread replays every rev: key through
 *                hooks.revoked (a node that was away learns what it
 *                missed).  sb_redis_revoked() asks Redis and WAITS (pool
 *                threads only).
 *   fan-out      sb_redis_publish_readings() (any thread; the bus) and
 *                sb_redis_publish_event() (any thread) publish on
 *                <prefix>live; messages from other nodes come back through
 *                hooks.readings (subscriber thread) and hooks.event (loop
 *                thread, through a uv_async).  A node ignores its own.
 *
 * Failure: while Redis is unreachable every operation is a cheap no-op
 * (counted: fallback, dropped), the command thread reconnects with
 * back-off (100 ms doubling to 5 s) and logs the change once each way.
 * Memory is bounded: at most SB_REDIS_QUEUE_JOBS jobs and
 * SB_REDIS_QUEUE_BYTES payload bytes wait; more is dropped and counted.
 *
 * Ownership: sb_redis_new() copies what it needs from cfg; the object is
 * the caller's until sb_redis_free().  Stopping: sb_redis_stop() (loop
 * thread) joins both threads (up to one command deadline) and closes the
 * uv_async, which is a heap handle freed by its own close callback, so the
 * object may be freed right after (the loop must still run once for the
 * handle's memory).  The URL's password is never logged nor kept anywhere
 * but in the object (wiped at free).
 */
#ifndef SB_CLUSTER_REDIS_H
#define SB_CLUSTER_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/limits.h"
#include "store/sample.h"

#define SB_REDIS_QUEUE_JOBS  4096              /* jobs waiting at most */
#define SB_REDIS_QUEUE_BYTES (8u << 20)        /* publish payload bytes waiting at most */
#define SB_REDIS_CHUNK       1000              /* readings per published message */
#define SB_REDIS_NODE_MAX    64                /* node id bytes, NUL included */

struct sb_redis;

/* What the caller gets from the other nodes.  Any member may be NULL. */
struct sb_redis_hooks {
    /* Readings another node made durable (subscriber thread). */
    void (*readings)(void *ud, const struct sb_reading *r, size_t n);
    /* An event another node sent to its WebSocket clients (building: its
     * slug or NULL, loop thread), or a node-to-node message of
     * sb_redis_send() (channel "@...", building NULL). */
    void (*event)(void *ud, const char *channel, const char *building, const char *json);
    /* A session revoked on some node, refused until until_ms (any
     * non-loop thread of this module). */
    void (*revoked)(void *ud, const char *sid, int64_t until_ms);
    /* An account changed on some node (roles, grants, disabled, password):
     * what this node cached of it is stale (subscriber thread). */
    void (*user_changed)(void *ud, int64_t uid);
    void *ud;
};

struct sb_redis_cfg {
    const char *url;           /* redis://[[user]:password@]host[:port][/db] */
    const char *prefix;        /* key and channel prefix ("sbems:") */
    const char *node;          /* this node's id; NULL or "" = random */
    int64_t timeout_ms;        /* connect and per-command deadline (0 = 1000) */
};

/* Counters (monotonic) and state, for /metrics and the tests. */
struct sb_redis_stats {
    int up;                    /* the command connection is open */
    uint64_t connects;         /* successful connects of the command thread */
    uint64_t fallback;         /* limit/throttle operations decided locally: Redis down */
    uint64_t dropped;          /* jobs or messages dropped: queue full or Redis down */
    uint64_t published;        /* messages published */
    uint64_t received;         /* messages from other nodes handled */
    uint64_t errors;           /* command errors and lost connections */
};

/* Parses cfg->url (SB_ECONFIG when malformed; err says why without the
 * password), starts the two threads (which connect in the background: a
 * Redis that is down at start is not an error).  loop may be NULL (no
 * hooks.event then).  0, SB_ECONFIG, SB_ENOMEM or SB_EIO. */
int  sb_redis_new(uv_loop_t *loop, const struct sb_redis_cfg *cfg,
                  const struct sb_redis_hooks *hooks, struct sb_redis **out,
                  char *err, size_t errcap);
/* Joins the threads (up to one command deadline) and closes the async
 * handle (loop thread).  NULL is a no-op. */
void sb_redis_stop(struct sb_redis *r);
/* 1: nothing of r needs the loop any more (always, after sb_redis_stop;
 * kept so owners can wait for it like their other parts). */
int  sb_redis_idle(const struct sb_redis *r);
void sb_redis_free(struct sb_redis *r);

/* This node's id (static storage of r). */
const char *sb_redis_node(const struct sb_redis *r);
void sb_redis_stats(struct sb_redis *r, struct sb_redis_stats *out);

/* ---- limits (loop thread, never block) ---- */

/* Takes one token from the shared bucket of key (asynchronously) and
 * returns the ms the shared bucket last said key must wait (0: go). */
int64_t sb_redis_rl(struct sb_redis *r, const char *key, double capacity, double refill_per_s);
/* The shared throttle wait of key in ms (0: go). */
int64_t sb_redis_thr_wait(struct sb_redis *r, const char *key);
/* Counts a failed sign-in for key in Redis (asynchronously). */
void sb_redis_thr_fail(struct sb_redis *r, const char *key, const struct sb_thr_cfg *cfg);
/* Forgets key's failures everywhere (after a successful sign-in). */
void sb_redis_thr_success(struct sb_redis *r, const char *key);

/* ---- sessions ---- */

/* Publishes a revoked session (any thread): <prefix>rev:<sid> = until_ms
 * with a TTL of ttl_ms, and a message to the other nodes. */
void sb_redis_revoke(struct sb_redis *r, const char *sid, int64_t until_ms, int64_t ttl_ms);
/* BLOCKS up to the command deadline (pool threads only): 1 when Redis
 * holds sid as revoked, 0 when not, SB_EIO/SB_ETIMEDOUT when Redis cannot
 * say (callers fail open to their own database). */
int  sb_redis_revoked(struct sb_redis *r, const char *sid);

/* Tells the other nodes that account uid changed (any thread; best effort:
 * dropped and counted while Redis is down). */
void sb_redis_user_changed(struct sb_redis *r, int64_t uid);

/* ---- fan-out (any thread) ---- */

void sb_redis_publish_readings(struct sb_redis *r, const struct sb_reading *rd, size_t n);
/* json: one JSON value (text), e.g. an alert event. */
void sb_redis_publish_event(struct sb_redis *r, const char *channel, const char *building,
                            const char *json);

/* A message to other nodes' loops, not to WebSocket clients (any thread):
 * channel starts with '@' ("@fwd"); to = one node's id, or NULL for every
 * other node.  It arrives through hooks.event with building NULL.  0 when
 * queued (delivery is best effort: a node that is away never gets it),
 * SB_ECLOSED while Redis is down (counted as dropped), SB_EINVAL (channel),
 * SB_ENOMEM. */
int  sb_redis_send(struct sb_redis *r, const char *to, const char *channel, const char *json);
/* 1 while the command connection is open (any thread; r may be NULL). */
int  sb_redis_up(const struct sb_redis *r);

/* BLOCKS until every job queued before the call has run, at most
 * timeout_ms: 0, SB_ETIMEDOUT, SB_EIO (down).  Tests and shutdown. */
int  sb_redis_sync(struct sb_redis *r, int64_t timeout_ms);

/* Parses a redis:// URL (pure; for the tests).  host/pass caps >= 256.
 * 0 or SB_ECONFIG. */
int  sb_redis_parse_url(const char *url, char *host, size_t hcap, int *port, char *user,
                        size_t ucap, char *pass, size_t pcap, int *db);

#endif /* SB_CLUSTER_REDIS_H */

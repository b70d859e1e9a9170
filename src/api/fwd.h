/*
 * fwd.h - requests forwarded to the node that polls a device, through
 * Redis (fwd.c; docs/internals/cluster-leases.md).  Loop thread only,
 * except the two parsers, which are pure (and fuzzed: fuzz/fuzz_fwd.c).
 *
 * Ownership: a waiting request belongs to fwd.c until its callback has
 * run; the callback's reply is borrowed for the call.  Messages are JSON:
 *   {"op":"req","kind":"write"|"slots","id":N,"from":node,"body":{...}}  to every node
 *   {"op":"rep","id":N,"from":node,"body":{...}}                 to the asker
 */
#ifndef SB_API_FWD_H
#define SB_API_FWD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sb_api;

#define SB_FWD_NODE_MAX 64

/* Who asked, for the answer: the asking node and its request id. */
struct sb_fwd_from {
    char node[SB_FWD_NODE_MAX];
    uint64_t id;
};

/* One message, parsed. */
enum { SB_FWD_REQ = 1, SB_FWD_REP = 2 };
struct sb_fwd_msg {
    int op;                            /* SB_FWD_REQ or SB_FWD_REP */
    char kind[16];                     /* a request's ("write"); "" in a reply */
    struct sb_fwd_from from;           /* the sender and the request id */
    json_t *body;                      /* an object, owned: json_decref */
};
/* Parses one message (pure).  0, or SB_EPROTO (m->body NULL). */
int  sb_api__fwd_parse(const char *s, size_t n, struct sb_fwd_msg *m);

/* A forwarded write's body, checked (pure; strings borrowed from body). */
struct sb_fwd_write {
    const char *point, *username, *ip;
    uint32_t point_id;
    double value;                      /* NaN when relinquish */
    int priority;                      /* 0 (the driver's default) .. 16 */
    int relinquish;
    int64_t uid, expires;
    json_t *asked;                     /* the original command body (borrowed) */
};
/* 0, or SB_EPROTO when a field is missing or out of range. */
int  sb_api__fwd_write_parse(json_t *body, struct sb_fwd_write *w);

/* The outcome of a forwarded request: rc 0 and the owner's reply (borrowed
 * for the call), SB_ETIMEDOUT (no node answered in time) or SB_ECLOSED
 * (shutting down). */
typedef void (*sb_fwd_cb)(void *ud, int rc, json_t *reply);
struct sb_fwd_stats {
    uint64_t waiting, sent, answered, expired, late, handled, bad;
};
int  sb_api__fwd_start(struct sb_api *api);
/* Answers every waiting request with SB_ECLOSED, closes the timer. */
void sb_api__fwd_stop(struct sb_api *api);
void sb_api__fwd_free(struct sb_api *api);
/* Sends body (kept by the caller) to every other node as a request of
 * kind; cb comes once, on the loop, within timeout_ms (+ 200 ms).
 * 0, SB_ECLOSED (no Redis, or it is down: nothing was sent), SB_EAGAIN
 * (too many waiting), SB_ENOMEM. */
int  sb_api__fwd_send(struct sb_api *api, const char *kind, json_t *body, int64_t timeout_ms,
                      sb_fwd_cb cb, void *ud);
/* The owner's answer to from (reply kept by the caller). */
int  sb_api__fwd_reply(struct sb_api *api, const struct sb_fwd_from *from, json_t *reply);
/* A "@fwd" message from another node (the Redis hook; bad ones are
 * counted and dropped). */
void sb_api__fwd_message(struct sb_api *api, const char *json);
void sb_api__fwd_stats(const struct sb_api *api, struct sb_fwd_stats *st);
/* h_cmd.c: a write another node forwarded; run only when this node's
 * drivers own the point's device, then answered to from. */
void sb_api__cmd_remote(struct sb_api *api, const struct sb_fwd_from *from,
                        const struct sb_fwd_write *w);

/* cmds.c: a priority view another node asked for ({"point","point_id"});
 * answered only when this node's drivers own the device. */
void sb_api__priority_remote(struct sb_api *api, const struct sb_fwd_from *from, json_t *body);

#endif /* SB_API_FWD_H */

/*
 * redis_int.h - internals shared by redis.c (queue, command thread,
 * verdicts) and redis_sub.c (messages, subscriber thread).  Not for use
 * outside src/cluster/.
 */
#ifndef SB_CLUSTER_REDIS_INT_H
#define SB_CLUSTER_REDIS_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cluster/redis.h"

#define SB_REDIS__KEY_MAX 160      /* a job's key ("rl:u:42", "thr:ip:..", a sid) */
#define SB_REDIS__VSLOTS  4096     /* verdict table slots (direct-mapped) */
#define SB_REDIS__EV_MAX  1024     /* events waiting for the loop at most */

/* The wait the shared state imposed on one key, as last learnt. */
struct sb_redis__verdict {
    uint64_t h;                    /* FNV-1a of key, 0 = empty */
    char key[SB_REDIS__KEY_MAX];   /* "rl:ip:127.0.0.1", "thr:u:alice" */
    int64_t until;                 /* wall ms; the key waits until then */
};

/* An event from a peer, waiting for the loop thread. */
struct sb_redis__ev {
    struct sb_redis__ev *next;
    char ch[64];                   /* "alerts", "commands" */
    char bld[96];                  /* building slug, "" = none */
    char *json;                    /* heap */
};

struct sb_redis__job;

struct sb_redis {
    char host[256];                /* from the URL */
    int port;
    char user[128];                /* ACL user, "" = default */
    char pass[256];                /* "" = none; wiped at free, never logged */
    int db;                        /* SELECT index */
    char prefix[64];               /* key/channel prefix */
    char node[SB_REDIS_NODE_MAX];  /* this node's id */
    char chan[128];                /* <prefix>live */
    int64_t timeout_ms;            /* connect and command deadline */
    struct sb_redis_hooks hooks;   /* what peers' messages go to */

    pthread_mutex_t mu;            /* queue, waiters, stop */
    pthread_cond_t cv;             /* a job arrived (command thread waits) */
    pthread_cond_t stopcv;         /* stop requested (back-off sleeps wait) */
    pthread_cond_t donecv;         /* a waited-for job finished */
    struct sb_redis__job *qh, *qt; /* FIFO of jobs */
    size_t qn, qbytes;             /* jobs and payload bytes in it */
    int stop;                      /* threads must return */
    pthread_t cmd_th, sub_th;      /* the two threads */
    int started;                   /* bit 0 command, bit 1 subscriber thread running */

    redisContext *c;               /* command connection (command thread only) */
    int64_t backoff;               /* next reconnect delay, ms (command thread) */
    int down_logged;               /* "unreachable" was logged (command thread) */
    char sha_rl[48], sha_thr[48];  /* script SHA1s (command thread) */

    atomic_int up;                 /* the command connection is open */
    _Atomic uint64_t connects, fallback, dropped, published, received, errors;

    pthread_mutex_t vmu;           /* protects v */
    struct sb_redis__verdict *v;   /* SB_REDIS__VSLOTS */

    uv_async_t *wake;              /* subscriber -> loop, for events; heap, freed by
                                    * its close callback so r need not outlive it */
    pthread_mutex_t emu;           /* protects the event inbox */
    struct sb_redis__ev *eh, *et;  /* inbox */
    size_t en;
};

/* Verdicts (redis.c; any thread). */
int     sb_redis__verdict_set(struct sb_redis *r, const char *key, int64_t wait_ms);
int64_t sb_redis__verdict_wait(struct sb_redis *r, const char *key);
void    sb_redis__verdict_clear(struct sb_redis *r, const char *key);

/* Opens and authenticates a connection; NULL with why set (no secrets). */
redisContext *sb_redis__dial(struct sb_redis *r, char *why, size_t cap);
/* Sleeps ms or until stop; returns r->stop. */
int  sb_redis__sleep(struct sb_redis *r, int64_t ms);
int  sb_redis__stopping(struct sb_redis *r);
/* Next back-off delay after prev (100 ms doubling to 5 s). */
int64_t sb_redis__backoff(int64_t prev);

/* Messages (redis_sub.c). */
/* The subscriber thread's body. */
void *sb_redis__sub_main(void *arg);
/* A control message ("deny", "clear", "rev") as JSON text (heap) or NULL. */
char *sb_redis__msg_ctl(const struct sb_redis *r, const char *kind, const char *key,
                        int64_t num);
/* One chunk of readings as a message (heap, *len set) or NULL. */
char *sb_redis__msg_readings(const struct sb_redis *r, const struct sb_reading *rd, size_t n,
                             size_t *len);
/* Handles one message payload from the channel (subscriber thread). */
void sb_redis__on_message(struct sb_redis *r, const char *s, size_t n);

#endif /* SB_CLUSTER_REDIS_INT_H */

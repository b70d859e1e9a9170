/*
 * test_redis.c - the shared state of src/cluster/redis.c against a real
 * redis-server: two (or three) instances in this process stand for two
 * nodes sharing one Redis.
 *
 * Needs SBEMS_TEST_REDIS_URL (tests/redis/redis-run starts a throwaway
 * server and sets it, with SBEMS_TEST_REDIS_PID and SBEMS_TEST_REDIS_CMD so
 * the last test can kill it and start it again); skipped without.  What
 * Redis holds is checked on a connection of the test's own, not through the
 * module under test.  Every wait is bounded (until()).
 */
#include <hiredis/hiredis.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cluster/redis.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "tap.h"

static const char *url;            /* SBEMS_TEST_REDIS_URL */
static uv_loop_t loop;
static char prefix[64];            /* per run, so reruns against one server do not mix */

/* What one instance received from the others. */
struct got {
    pthread_mutex_t mu;
    size_t nread;                  /* readings */
    struct sb_reading last[4];     /* the first four */
    int nev;                       /* events (loop thread) */
    char ev[256];
    int nrev;                      /* revocations */
    char rev[64];
    int nusr;                      /* accounts changed */
    int64_t usr;
};

static void h_readings(void *ud, const struct sb_reading *r, size_t n)
{
    struct got *g = ud;
    pthread_mutex_lock(&g->mu);
    for (size_t i = 0; i < n && g->nread + i < 4; i++)
        g->last[g->nread + i] = r[i];
    g->nread += n;
    pthread_mutex_unlock(&g->mu);
}

static void h_event(void *ud, const char *ch, const char *b, const char *json)
{
    struct got *g = ud;
    g->nev++;
    snprintf(g->ev, sizeof(g->ev), "%s|%s|%s", ch, b ? b : "", json);
}

static void h_revoked(void *ud, const char *sid, int64_t until)
{
    struct got *g = ud;
    pthread_mutex_lock(&g->mu);
    g->nrev++;
    snprintf(g->rev, sizeof(g->rev), "%s", sid);
    pthread_mutex_unlock(&g->mu);
    (void)until;
}

static void h_user(void *ud, int64_t uid)
{
    struct got *g = ud;
    pthread_mutex_lock(&g->mu);
    g->nusr++;
    g->usr = uid;
    pthread_mutex_unlock(&g->mu);
}

static int nusr(struct got *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->nusr;
    pthread_mutex_unlock(&g->mu);
    return n;
}

static struct sb_redis *open_node(const char *node, struct got *g)
{
    struct sb_redis_cfg cfg = { .url = url, .prefix = prefix, .node = node, .timeout_ms = 500 };
    struct sb_redis_hooks h = { h_readings, h_event, h_revoked, h_user, g };
    struct sb_redis *r = NULL;
    char err[200] = "";
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->mu, NULL);
    if (sb_redis_new(&loop, &cfg, &h, &r, err, sizeof(err)))
        printf("# sb_redis_new: %s\n", err);
    return r;
}

static void close_node(struct sb_redis *r)
{
    sb_redis_stop(r);
    sb_redis_free(r);
    uv_run(&loop, UV_RUN_NOWAIT);      /* the async handle's close callback */
}

/* Polls cond (an expression) every 10 ms, running the loop, for at most ms. */
#define UNTIL(cond, ms)                                                    \
    ({                                                                     \
        int ok_ = 0;                                                       \
        for (int i_ = 0; i_ < (ms) / 10 && !(ok_ = !!(cond)); i_++) {      \
            uv_run(&loop, UV_RUN_NOWAIT);                                  \
            usleep(10000);                                                 \
        }                                                                  \
        ok_;                                                               \
    })

static int is_up(struct sb_redis *r)
{
    struct sb_redis_stats st;
    sb_redis_stats(r, &st);
    return st.up;
}

static size_t nread(struct got *g)
{
    pthread_mutex_lock(&g->mu);
    size_t n = g->nread;
    pthread_mutex_unlock(&g->mu);
    return n;
}

static int nrev(struct got *g)
{
    pthread_mutex_lock(&g->mu);
    int n = g->nrev;
    pthread_mutex_unlock(&g->mu);
    return n;
}

/* The test's own connection, for checking what Redis holds. */
static redisContext *direct(void)
{
    char host[256], user[128], pass[256];
    int port, db;
    if (sb_redis_parse_url(url, host, sizeof(host), &port, user, sizeof(user), pass,
                           sizeof(pass), &db))
        return NULL;
    redisContext *c = redisConnect(host, port);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

/* An integer command on the direct connection ("EXISTS k", "PTTL k"), or LLONG_MIN. */
static long long direct_int(redisContext *c, const char *cmd, const char *key)
{
    redisReply *rep = redisCommandArgv(c, 2, (const char *[]){ cmd, key }, NULL);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : LLONG_MIN;
    if (rep)
        freeReplyObject(rep);
    return v;
}

/* Both subscribers are listening once a probe readings message crosses. */
static int linked(struct sb_redis *from, struct got *to)
{
    struct sb_reading probe = { .t = 1, .v = 0, .point = 1, .q = 0 };
    size_t before = nread(to);
    for (int i = 0; i < 50; i++) {
        sb_redis_publish_readings(from, &probe, 1);
        if (UNTIL(nread(to) > before, 100))
            return 1;
    }
    return 0;
}

/* ---- tests -------------------------------------------------------------------- */

TEST(url_parse)
{
    char h[256], u[128], p[256];
    int port, db;
    CHECK_EQ(sb_redis_parse_url("redis://127.0.0.1", h, sizeof(h), &port, u, sizeof(u), p,
                                sizeof(p), &db), 0);
    CHECK_STR(h, "127.0.0.1");
    CHECK_EQ(port, 6379);
    CHECK_EQ(db, 0);
    CHECK_EQ(sb_redis_parse_url("redis://ops:s3cr@t@[::1]:7000/3", h, sizeof(h), &port, u,
                                sizeof(u), p, sizeof(p), &db), 0);
    CHECK_STR(h, "::1");
    CHECK_STR(u, "ops");
    CHECK_STR(p, "s3cr@t");
    CHECK_EQ(port, 7000);
    CHECK_EQ(db, 3);
    CHECK_EQ(sb_redis_parse_url("redis://:pw@localhost:1/", h, sizeof(h), &port, u, sizeof(u),
                                p, sizeof(p), &db), 0);
    CHECK_STR(u, "");
    CHECK_STR(p, "pw");
    static const char *bad[] = { "http://x", "redis://", "redis://h:0", "redis://h:65536",
                                 "redis://h:12x", "redis://pw@h", "redis://h/x",
                                 "redis://h?timeout=1", "redis://[::1", NULL };
    for (int i = 0; bad[i]; i++)
        if (sb_redis_parse_url(bad[i], h, sizeof(h), &port, u, sizeof(u), p, sizeof(p), &db) !=
            SB_ECONFIG)
            TAP_FAIL("accepted %s", bad[i]);
}

/* A bad URL is refused with a message that does not repeat the password. */
TEST(bad_config)
{
    struct sb_redis_cfg cfg = { .url = "redis://:hunter2@h:99999", .prefix = "x:" };
    struct sb_redis *r = (void *)1;
    char err[200] = "";
    CHECK_EQ(sb_redis_new(NULL, &cfg, NULL, &r, err, sizeof(err)), SB_ECONFIG);
    CHECK(r == NULL);
    CHECK(strstr(err, "redis.url") != NULL);
    CHECK(strstr(err, "hunter2") == NULL);
    cfg.url = "redis://127.0.0.1:1";
    cfg.node = "bad node";
    CHECK_EQ(sb_redis_new(NULL, &cfg, NULL, &r, err, sizeof(err)), SB_ECONFIG);
}

/* A bucket exhausted through A refuses on B: B learns it from A's message,
 * and B's own take is refused by the same bucket in Redis. */
TEST(shared_bucket)
{
    struct got ga, gb;
    struct sb_redis *a = open_node("a", &ga), *b = open_node("b", &gb);
    redisContext *c = direct();
    char key[128];
    REQUIRE(a && b && c);
    REQUIRE(UNTIL(is_up(a) && is_up(b), 5000));
    REQUIRE(linked(a, &gb));
    for (int i = 0; i < 5; i++)              /* capacity 5, 1 token a minute */
        CHECK_EQ(sb_redis_rl(a, "u:1", 5, 1.0 / 60), 0);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    snprintf(key, sizeof(key), "%srl:u:1", prefix);
    CHECK_EQ(direct_int(c, "EXISTS", key), 1);
    CHECK(direct_int(c, "PTTL", key) > 0);   /* buckets expire once full again */
    CHECK_EQ(sb_redis_rl(a, "u:1", 5, 1.0 / 60), 0);   /* the 6th: refused in Redis */
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    int64_t wa = sb_redis_rl(a, "u:1", 5, 1.0 / 60);
    CHECK(wa > 50000 && wa <= 60000);        /* one token takes a minute */
    CHECK(UNTIL(sb_redis_rl(b, "u:1", 5, 1.0 / 60) > 0, 2000));
    CHECK_EQ(sb_redis_rl(b, "u:other", 5, 1.0 / 60), 0);
    /* without A's message: B's own take meets the empty bucket */
    for (int i = 0; i < 3; i++)
        sb_redis_rl(a, "u:2", 3, 1.0 / 60);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    sb_redis_rl(b, "u:2", 3, 1.0 / 60);
    CHECK_EQ(sb_redis_sync(b, 2000), 0);
    CHECK(sb_redis_rl(b, "u:2", 3, 1.0 / 60) > 0);
    redisFree(c);
    close_node(a);
    close_node(b);
}

/* Failed sign-ins counted through A delay the key on B; a success clears it. */
TEST(throttle)
{
    struct got ga, gb;
    struct sb_redis *a = open_node("a", &ga), *b = open_node("b", &gb);
    redisContext *c = direct();
    struct sb_thr_cfg tc = sb_thr_cfg_default();
    char key[128];
    REQUIRE(a && b && c);
    REQUIRE(UNTIL(is_up(a) && is_up(b), 5000));
    REQUIRE(linked(a, &gb));
    tc.free_failures = 1;
    tc.base_delay_ms = 4000;
    for (int i = 0; i < 2; i++)
        sb_redis_thr_fail(a, "u:alice", &tc);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    int64_t w = sb_redis_thr_wait(a, "u:alice");
    CHECK(w > 3000 && w <= 4000);            /* second failure: base delay */
    CHECK(UNTIL(sb_redis_thr_wait(b, "u:alice") > 3000, 2000));
    CHECK_EQ(sb_redis_thr_wait(b, "u:bob"), 0);
    snprintf(key, sizeof(key), "%sthr:u:alice", prefix);
    CHECK_EQ(direct_int(c, "EXISTS", key), 1);
    sb_redis_thr_fail(a, "u:alice", &tc);    /* third: twice the delay */
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    CHECK(sb_redis_thr_wait(a, "u:alice") > 7000);
    CHECK(UNTIL(sb_redis_thr_wait(b, "u:alice") > 7000, 2000));   /* the longer delay is news */
    sb_redis_thr_success(b, "u:alice");
    CHECK_EQ(sb_redis_sync(b, 2000), 0);
    CHECK_EQ(direct_int(c, "EXISTS", key), 0);
    CHECK(UNTIL(sb_redis_thr_wait(a, "u:alice") == 0, 2000));
    redisFree(c);
    close_node(a);
    close_node(b);
}

/* A session revoked on A: B is told, B's check finds it in Redis, and a node
 * that starts afterwards learns it when it connects. */
TEST(revocation)
{
    struct got ga, gb, gc;
    struct sb_redis *a = open_node("a", &ga), *b = open_node("b", &gb);
    redisContext *c = direct();
    char key[128];
    REQUIRE(a && b && c);
    REQUIRE(UNTIL(is_up(a) && is_up(b), 5000));
    REQUIRE(linked(a, &gb));
    sb_redis_revoke(a, "sid-1", sb_now_ms() + 60000, 30000);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    snprintf(key, sizeof(key), "%srev:sid-1", prefix);
    long long ttl = direct_int(c, "PTTL", key);
    CHECK(ttl > 25000 && ttl <= 30000);
    CHECK(UNTIL(nrev(&gb) == 1, 2000));
    CHECK_STR(gb.rev, "sid-1");
    CHECK_EQ(nrev(&ga), 0);                  /* its own message is ignored */
    CHECK_EQ(sb_redis_revoked(b, "sid-1"), 1);
    CHECK_EQ(sb_redis_revoked(b, "sid-2"), 0);
    /* an account changed on A: B drops what it cached of it, A hears nothing */
    sb_redis_user_changed(a, 3000000001LL);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    CHECK(UNTIL(nusr(&gb) == 1, 2000));
    pthread_mutex_lock(&gb.mu);
    CHECK_EQ(gb.usr, 3000000001LL);
    pthread_mutex_unlock(&gb.mu);
    CHECK_EQ(nusr(&ga), 0);
    struct sb_redis *n3 = open_node("c", &gc);
    REQUIRE(n3);
    CHECK(UNTIL(nrev(&gc) >= 1, 5000));
    CHECK_STR(gc.rev, "sid-1");
    redisFree(c);
    close_node(n3);
    close_node(a);
    close_node(b);
}

/* Readings and events published by A reach B (not A), values intact;
 * a batch larger than a message is split and arrives whole. */
TEST(pubsub)
{
    struct got ga, gb;
    struct sb_redis *a = open_node("a", &ga), *b = open_node("b", &gb);
    REQUIRE(a && b);
    REQUIRE(UNTIL(is_up(a) && is_up(b), 5000));
    REQUIRE(linked(a, &gb));
    usleep(300000);                          /* late probes land before the count starts */
    size_t base_a = nread(&ga);
    pthread_mutex_lock(&gb.mu);
    gb.nread = 0;
    pthread_mutex_unlock(&gb.mu);
    struct sb_reading rd[3] = { { .t = 1795651200123, .v = 21.25, .point = 42, .q = 0 },
                                { .t = 1795651200456, .v = NAN, .point = 43, .q = 2 },
                                { .t = 1795651200789, .v = 0.1, .point = 7, .q = 0 } };
    sb_redis_publish_readings(a, rd, 3);
    CHECK(UNTIL(nread(&gb) == 3, 2000));
    CHECK_EQ(gb.last[0].point, 42);
    CHECK_EQ(gb.last[0].t, 1795651200123);
    CHECK_DBL(gb.last[0].v, 21.25, 0);
    CHECK(isnan(gb.last[1].v));
    CHECK_EQ(gb.last[1].q, 2);
    CHECK(gb.last[2].v == 0.1);              /* round-trips exactly */
    struct sb_reading *big = calloc(2500, sizeof(*big));
    REQUIRE(big);
    for (int i = 0; i < 2500; i++)
        big[i] = (struct sb_reading){ .t = 1000 + i, .v = i, .point = (uint32_t)(i + 1) };
    sb_redis_publish_readings(a, big, 2500);
    free(big);
    CHECK(UNTIL(nread(&gb) == 2503, 3000));
    sb_redis_publish_event(a, "alerts", "hpo", "{\"event\":\"raised\"}");
    CHECK(UNTIL(gb.nev == 1, 2000));
    CHECK_STR(gb.ev, "alerts|hpo|{\"event\":\"raised\"}");
    usleep(100000);
    CHECK_EQ(nread(&ga), base_a);            /* nothing of its own came back */
    CHECK_EQ(ga.nev, 0);
    struct sb_redis_stats st;
    sb_redis_stats(b, &st);
    CHECK(st.received >= 5);
    close_node(a);
    close_node(b);
}

/* Node-to-node messages: "@" channels only, to one node (the others never
 * see it) or to every other node, with no building; the sender never gets
 * its own; refused while Redis is down. */
TEST(node_messages)
{
    struct got ga, gb, gc;
    struct sb_redis *a = open_node("a", &ga), *b = open_node("b", &gb), *c = open_node("c", &gc);
    REQUIRE(a && b && c);
    REQUIRE(UNTIL(is_up(a) && is_up(b) && is_up(c), 5000));
    REQUIRE(linked(a, &gb) && linked(a, &gc));
    usleep(300000);
    CHECK_EQ(sb_redis_send(a, "b", "fwd", "{}"), SB_EINVAL);      /* not a node channel */
    CHECK_EQ(sb_redis_send(a, "b", "@fwd", "{\"id\":1}"), 0);
    CHECK(UNTIL(gb.nev == 1, 2000));
    CHECK_STR(gb.ev, "@fwd||{\"id\":1}");
    CHECK_EQ(sb_redis_send(a, NULL, "@fwd", "{\"id\":2}"), 0);
    CHECK(UNTIL(gb.nev == 2 && gc.nev == 1, 2000));
    CHECK_STR(gc.ev, "@fwd||{\"id\":2}");                      /* c never saw id 1 */
    usleep(100000);
    CHECK_EQ(ga.nev, 0);
    CHECK_EQ(gb.nev, 2);
    CHECK_EQ(gc.nev, 1);
    CHECK(sb_redis_up(a));
    CHECK(!sb_redis_up(NULL));
    close_node(a);
    close_node(b);
    close_node(c);
}

/* The log says a server is unreachable or refuses us, naming host and port
 * and never the password of the URL. */
TEST(no_password_in_log)
{
    char path[] = "/tmp/sbems-redis-log.XXXXXX", buf[8192] = "", u[300];
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    sb_log_set_fd(fd);
    struct got g;
    char host[256], user[128], pass[256];
    int port, db;
    REQUIRE(sb_redis_parse_url(url, host, sizeof(host), &port, user, sizeof(user), pass,
                               sizeof(pass), &db) == 0);
    /* this server has no password: AUTH is refused */
    snprintf(u, sizeof(u), "redis://:Sup3rSecret-1@%s:%d", host, port);
    struct sb_redis_cfg cfg = { .url = u, .prefix = prefix, .node = "p", .timeout_ms = 300 };
    struct sb_redis_hooks h = { h_readings, h_event, h_revoked, h_user, &g };
    struct sb_redis *r = NULL;
    char err[200];
    memset(&g, 0, sizeof(g));
    pthread_mutex_init(&g.mu, NULL);
    CHECK_EQ(sb_redis_new(&loop, &cfg, &h, &r, err, sizeof(err)), 0);
    CHECK(UNTIL(pread(fd, buf, sizeof(buf) - 1, 0) > 0 && strstr(buf, "unreachable"), 3000));
    CHECK(!is_up(r));
    close_node(r);
    sb_log_set_fd(2);
    memset(buf, 0, sizeof(buf));
    CHECK(pread(fd, buf, sizeof(buf) - 1, 0) > 0);
    printf("# log: %.200s\n", buf);
    CHECK(strstr(buf, host) != NULL);
    CHECK(strstr(buf, "Sup3rSecret") == NULL);
    close(fd);
    unlink(path);
}

/* A Redis that stops answering (SIGSTOP): publishing never blocks the
 * caller and never queues more than the bound; the rest is dropped and
 * counted.  Answering again (SIGCONT): back to normal. */
TEST(slow_redis_drops)
{
    const char *pid_s = getenv("SBEMS_TEST_REDIS_PID");
    struct got ga;
    struct sb_redis_stats st0, st;
    if (!pid_s) {
        printf("# SKIP: SBEMS_TEST_REDIS_PID unset\n");
        return;
    }
    struct sb_redis *a = open_node("a", &ga);
    REQUIRE(a);
    REQUIRE(UNTIL(is_up(a), 5000));
    sb_redis_stats(a, &st0);
    pid_t pid = (pid_t)atoi(pid_s);
    REQUIRE(pid > 1 && kill(pid, SIGSTOP) == 0);
    struct sb_reading rd = { .t = 1, .v = 1, .point = 1 };
    int64_t t0 = sb_now_ms();
    for (int i = 0; i < SB_REDIS_QUEUE_JOBS + 1000; i++)
        sb_redis_publish_readings(a, &rd, 1);
    int64_t took = sb_now_ms() - t0;
    sb_redis_stats(a, &st);
    kill(pid, SIGCONT);                      /* before any check can return */
    CHECK(took < 2000);                      /* the caller never waited for Redis */
    CHECK(st.dropped >= st0.dropped + 999);  /* past the bound: dropped, counted */
    /* the stalled PUBLISH may have timed out meanwhile (a lost connection,
     * then a reconnect): either way commands run again */
    CHECK(UNTIL(is_up(a) && sb_redis_sync(a, 2000) == 0, 10000));
    close_node(a);
}

/* Redis killed: operations fall back (counted), publishing drops (counted),
 * the log says so once without the password; Redis back: reconnected. */
TEST(failover)
{
    const char *pid_s = getenv("SBEMS_TEST_REDIS_PID"), *cmd = getenv("SBEMS_TEST_REDIS_CMD");
    struct got ga;
    struct sb_redis_stats st0, st;
    if (!pid_s || !cmd) {
        printf("# SKIP: SBEMS_TEST_REDIS_PID/CMD unset\n");
        return;
    }
    struct sb_redis *a = open_node("a", &ga);
    REQUIRE(a);
    REQUIRE(UNTIL(is_up(a), 5000));
    sb_redis_stats(a, &st0);
    pid_t pid = (pid_t)atoi(pid_s);
    REQUIRE(pid > 1 && kill(pid, SIGKILL) == 0);
    /* gone once the port refuses (a zombie still answers kill(pid, 0)) */
    REQUIRE(UNTIL(({ redisContext *d_ = direct(); if (d_) redisFree(d_); !d_; }), 5000));
    /* the next command finds the connection gone */
    sb_redis_rl(a, "u:f", 5, 1);
    sb_redis_sync(a, 1000);
    CHECK(UNTIL(!is_up(a), 3000));
    CHECK_EQ(sb_redis_rl(a, "u:f", 5, 1), 0);
    CHECK_EQ(sb_redis_thr_wait(a, "u:f"), 0);
    struct sb_reading r1 = { .t = 1, .v = 1, .point = 1 };
    sb_redis_publish_readings(a, &r1, 1);
    CHECK_EQ(sb_redis_revoked(a, "sid-x"), SB_EIO);   /* callers fail open */
    sb_redis_stats(a, &st);
    CHECK(st.fallback >= st0.fallback + 2);
    CHECK(st.dropped >= st0.dropped + 1);
    CHECK(st.errors >= st0.errors + 1);
    /* back on the same port */
    char again[2048];
    snprintf(again, sizeof(again), "%s --daemonize yes", cmd);
    REQUIRE(system(again) == 0);
    CHECK(UNTIL(is_up(a), 10000));
    sb_redis_stats(a, &st);
    CHECK_EQ(st.connects, st0.connects + 1);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    for (int i = 0; i < 2; i++)
        sb_redis_rl(a, "u:g", 1, 1.0 / 60);
    CHECK_EQ(sb_redis_sync(a, 2000), 0);
    CHECK(sb_redis_rl(a, "u:g", 1, 1.0 / 60) > 0);   /* shared again */
    close_node(a);
}

int main(void)
{
    TAP_START();
    RUN(url_parse);
    RUN(bad_config);
    url = getenv("SBEMS_TEST_REDIS_URL");
    if (!url || !*url) {
        printf("# SKIP the rest: SBEMS_TEST_REDIS_URL unset (tests/redis/redis-run starts a server)\n");
        TAP_END();
    }
    signal(SIGPIPE, SIG_IGN);
    sb_log_set_fd(2);
    snprintf(prefix, sizeof(prefix), "t%ld-%ld:", (long)getpid(), (long)time(NULL));
    uv_loop_init(&loop);
    RUN(shared_bucket);
    RUN(throttle);
    RUN(revocation);
    RUN(pubsub);
    RUN(node_messages);
    RUN(no_password_in_log);
    RUN(slow_redis_drops);
    RUN(failover);
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_loop_close(&loop);
    TAP_END();
}

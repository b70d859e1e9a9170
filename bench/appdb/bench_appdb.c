/*
 * bench_appdb.c - the application database (db/appdb.h) on SQLite and on
 * PostgreSQL: what the API's authentication paths ask of it, per second and
 * per call (bench/appdb/README.md).
 *
 *   bench_appdb -d sqlite_dir [-p conninfo] [-n ops] [-T seconds] [-u users]
 *               [-a verifications] [-F families]
 *
 * conninfo defaults to $SBEMS_TEST_PG_URL (tests/pg/pg-run exports it);
 * without one the PostgreSQL half is skipped with a note.  Operations, each
 * the exact sequence of appdb calls the API makes (src/api/h_auth.c, api.c):
 *
 *   refresh    POST /api/v1/auth/refresh: sb_appdb_rt_rotate (find, check,
 *              mark used, insert the successor: one transaction) then
 *              sb_appdb_user_get of the token's owner
 *   audit      sb_api__audit: one sb_appdb_audit_append
 *   principal  sb_api__principal_load: sb_appdb_user_get + sb_appdb_grants_get
 *   signin     POST /api/v1/auth/login without the password check:
 *              sb_appdb_user_by_name, sb_appdb_user_touch_login,
 *              sb_appdb_audit_append ("auth.login"), sb_appdb_rt_insert
 *
 * Concurrency mirrors the daemon: `sbems serve` opens ONE handle
 * (cmd_serve.c open_app) and calls it from libuv's thread pool (4 workers,
 * UV_THREADPOOL_SIZE is not set), the handle serialising calls on its mutex.
 * So: "t1" one thread, "t4" four threads on one shared handle; and on
 * PostgreSQL "n3", three threads each with its own handle, i.e. the three
 * connections of a three-node cluster sharing the application tables.
 *
 * Anchors in the same run: argon2id verification at the daemon's default
 * cost (sb_pw_verify, what a real sign-in spends besides the database; 1 and
 * 4 threads), and on PostgreSQL two raw libpq floors on one connection: a
 * prepared `SELECT 1` (a loopback round trip) and an autocommit one-row
 * INSERT (a round trip plus a WAL flush).
 *
 * Each measurement: a short warm-up per thread (prepares the statements on
 * PostgreSQL), then every thread starts together and runs until -n ops or
 * -T seconds, whichever comes first.  ops/s = all threads' ops / wall time;
 * p50/p99 are nearest-rank over every call's latency.  Results as RESULT
 * lines (bench/bench.h): appdb_<backend>_<cfg>_<op>_{per_s,p50_ms,p99_ms,
 * ops,errors}.  Exit status 1 when any call failed.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/password.h"
#include "bench.h"
#include "core/err.h"
#include "db/appdb.h"

#define MAX_THREADS   4
#define WARMUP_OPS    30                       /* per thread, untimed */
#define REFRESH_TTL   (30LL * 86400 * 1000)    /* the API's default refresh_ttl order */
#define SCHEMA        "bench_appdb"            /* PostgreSQL: a schema of our own */
#define PASSWORD      "correct horse battery staple"

enum op { OP_REFRESH, OP_AUDIT, OP_PRINCIPAL, OP_SIGNIN, OP_N };
static const char *const op_name[OP_N] = { "refresh", "audit", "principal", "signin" };

/* A way of calling the database: threads and handles (handles <= threads;
 * thread i uses handle i % handles). */
struct cfg {
    const char *name;
    int threads, handles;
    int pg_only;
};
static const struct cfg cfgs[] = {
    { "t1", 1, 1, 0 },          /* one request at a time */
    { "t4", 4, 1, 0 },          /* the daemon: 4 pool workers, one handle */
    { "n3", 3, 3, 1 },          /* three nodes, one connection each */
};

static struct {
    const char *dir, *pg;
    int64_t n, secs, users, verifies, families;
    char pg_schema_ci[2048];   /* conninfo with search_path = SCHEMA */
    char pw_hash[SB_PW_HASH_MAX];
    uint64_t salt;             /* makes this run's hashes and families unique */
    int failed;
} g = { .n = 20000, .secs = 3, .users = 1000, .verifies = 40, .families = 16 };

static uint64_t g_seq;          /* unique ids of families and token hashes */

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t next_seq(void)
{
    return __atomic_add_fetch(&g_seq, 1, __ATOMIC_RELAXED);
}

/* A fresh 64-hex-digit token hash: the store sees SHA-256 hex (sb_token_hash);
 * any unique lowercase hex of that length exercises the same index. */
static void new_hash(char out[65])
{
    uint64_t s = next_seq();
    snprintf(out, 65, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, g.salt, s,
             (uint64_t)(s * 0x9E3779B97F4A7C15ULL), g.salt ^ s);
}

static void new_family(char out[SB_RT_FAMILY_LEN + 1])
{
    uint64_t s = next_seq();
    snprintf(out, SB_RT_FAMILY_LEN + 1, "%016" PRIx64 "%016" PRIx64, g.salt, s);
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- one thread's work ------------------------------------------------------ */

struct worker {
    struct sb_appdb *db;
    enum op op;
    int tid;
    int64_t cap;                 /* timed ops at most */
    int64_t secs;
    pthread_barrier_t *bar;
    double *lat;                 /* ms, cap of them */
    int64_t n, errors;
    int first_rc;
    uint64_t rng;
    /* refresh: this thread's families and each one's current token hash */
    char (*cur)[65];
    int nfam;
    int64_t ucount;
    void *ud;                    /* anchors: what the thread works on */
};

static const char *const UA = "Mozilla/5.0 (X11; Linux x86_64) sbems-bench";
static const char *const IP = "127.0.0.1";

static void user_name(int64_t i, char out[SB_USERNAME_MAX + 1])
{
    snprintf(out, SB_USERNAME_MAX + 1, "user%05" PRId64, i);
}

static int do_op(struct worker *w)
{
    int64_t now = wall_ms();
    int rc;

    switch (w->op) {
    case OP_REFRESH: {
        /* h_refresh: rotate, then load the owner (disabled accounts lose
         * the family).  Families in turn, as many clients would. */
        int f = (int)(xorshift(&w->rng) % (uint64_t)w->nfam);
        char nh[65];
        struct sb_rt_result res;
        struct sb_user u;
        new_hash(nh);
        memset(&res, 0, sizeof(res));
        if ((rc = sb_appdb_rt_rotate(w->db, w->cur[f], nh, now, now + REFRESH_TTL, IP, UA, &res)))
            return rc;
        memcpy(w->cur[f], nh, sizeof(nh));
        return sb_appdb_user_get(w->db, res.user_id, &u);
    }
    case OP_AUDIT: {
        /* sb_api__audit of a point write: before/after as the API encodes them */
        char actor[SB_USERNAME_MAX + 1];
        int64_t uid = 1 + (int64_t)(xorshift(&w->rng) % (uint64_t)w->ucount);
        user_name(uid, actor);
        struct sb_audit_rec r = {
            .ts_ms = now, .actor_id = uid, .actor = actor, .ip = IP, .action = "point.write",
            .target = "ahu-1.sat_sp", .before = "{\"value\":12.5,\"priority\":8}",
            .after = "{\"value\":13.0,\"priority\":8}", .result = "ok", .detail = NULL,
        };
        return sb_appdb_audit_append(w->db, &r, NULL);
    }
    case OP_PRINCIPAL: {
        struct sb_user u;
        struct sb_grant *gr = NULL;
        size_t ng = 0;
        int64_t uid = 1 + (int64_t)(xorshift(&w->rng) % (uint64_t)w->ucount);
        if ((rc = sb_appdb_user_get(w->db, uid, &u)))
            return rc;
        rc = sb_appdb_grants_get(w->db, uid, &gr, &ng);
        free(gr);
        return rc == 0 && ng == 0 ? SB_ENOENT : rc;   /* every seeded user has grants */
    }
    case OP_SIGNIN: {
        /* h_login after the password check (excluded, measured apart):
         * lookup, last-login stamp, audit, the new refresh family. */
        char name[SB_USERNAME_MAX + 1], fam[SB_RT_FAMILY_LEN + 1], h[65];
        struct sb_user u;
        user_name(1 + (int64_t)(xorshift(&w->rng) % (uint64_t)w->ucount), name);
        if ((rc = sb_appdb_user_by_name(w->db, name, &u)))
            return rc;
        if ((rc = sb_appdb_user_touch_login(w->db, u.id, now)))
            return rc;
        struct sb_audit_rec r = { .ts_ms = now, .actor_id = u.id, .actor = u.username, .ip = IP,
                                  .action = "auth.login", .target = name, .result = "ok" };
        if ((rc = sb_appdb_audit_append(w->db, &r, NULL)))
            return rc;
        new_family(fam);
        new_hash(h);
        return sb_appdb_rt_insert(w->db, u.id, fam, h, now, now + REFRESH_TTL, IP, UA);
    }
    default:
        return SB_EINVAL;
    }
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < WARMUP_OPS; i++) {         /* statements prepared, pages cached */
        int rc = do_op(w);
        if (rc && !w->first_rc)
            w->first_rc = rc;
        w->errors += rc != 0;
    }
    pthread_barrier_wait(w->bar);
    int64_t end = sb_bench_now_ns() + w->secs * 1000000000LL;
    for (int64_t i = 0; i < w->cap; i++) {
        int64_t t0 = sb_bench_now_ns();
        if (t0 >= end)
            break;
        int rc = do_op(w);
        w->lat[w->n++] = (double)(sb_bench_now_ns() - t0) / 1e6;
        if (rc) {
            if (!w->first_rc)
                w->first_rc = rc;
            w->errors++;
        }
    }
    return NULL;
}

/* ---- the measurement harness ------------------------------------------------ */

struct stats {
    double per_s, p50, p99;
    int64_t ops, errors;
};

/* Runs fn on `threads` threads, one worker each (filled by the caller but
 * for the fields set here), started together at a barrier; ops/s over the
 * wall time from the barrier to the last join, latencies from every call. */
static void measure(struct worker *w, int threads, void *(*fn)(void *), struct stats *out)
{
    pthread_t th[MAX_THREADS];
    pthread_barrier_t bar;
    int started = 0;

    pthread_barrier_init(&bar, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        w[i].bar = &bar;
        w[i].n = w[i].errors = 0;
        w[i].first_rc = 0;
        if (!(w[i].lat = malloc((size_t)w[i].cap * sizeof(double))))
            break;
        if (pthread_create(&th[i], NULL, fn, &w[i]) != 0) {
            free(w[i].lat);
            break;
        }
        started++;
    }
    if (started < threads) {
        /* Cannot happen on a sane machine; the barrier would never open. */
        fprintf(stderr, "bench_appdb: cannot start %d threads\n", threads);
        exit(2);
    }
    pthread_barrier_wait(&bar);
    int64_t t0 = sb_bench_now_ns();
    for (int i = 0; i < threads; i++)
        pthread_join(th[i], NULL);
    double secs = (double)(sb_bench_now_ns() - t0) / 1e9;
    pthread_barrier_destroy(&bar);

    int64_t total = 0;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < threads; i++) {
        total += w[i].n;
        out->errors += w[i].errors;
    }
    double *all = malloc((size_t)(total ? total : 1) * sizeof(double));
    size_t k = 0;
    for (int i = 0; i < threads; i++) {
        if (all)
            memcpy(all + k, w[i].lat, (size_t)w[i].n * sizeof(double));
        k += (size_t)w[i].n;
        free(w[i].lat);
        w[i].lat = NULL;
    }
    out->ops = total;
    out->per_s = secs > 0 ? (double)total / secs : 0;
    out->p50 = all ? sb_bench_pct(all, k, 50) : 0;
    out->p99 = all ? sb_bench_pct(all, k, 99) : 0;
    free(all);
}

static void report(const char *prefix, const struct stats *s, int first_rc)
{
    char name[160];
    snprintf(name, sizeof(name), "%s_per_s", prefix);
    sb_bench_result(name, s->per_s, "ops/s");
    snprintf(name, sizeof(name), "%s_p50_ms", prefix);
    sb_bench_result(name, s->p50, "ms");
    snprintf(name, sizeof(name), "%s_p99_ms", prefix);
    sb_bench_result(name, s->p99, "ms");
    snprintf(name, sizeof(name), "%s_ops", prefix);
    sb_bench_result(name, (double)s->ops, "ops");
    snprintf(name, sizeof(name), "%s_errors", prefix);
    sb_bench_result(name, (double)s->errors, "ops");
    fprintf(stderr, "bench_appdb: %-28s %10.0f ops/s  p50 %7.3f ms  p99 %7.3f ms  (%" PRId64
            " ops, %" PRId64 " errors%s%s)\n", prefix, s->per_s, s->p50, s->p99, s->ops,
            s->errors, first_rc ? ", first: " : "", first_rc ? sb_errname(first_rc) : "");
    if (s->errors)
        g.failed = 1;
}

/* ---- backends ------------------------------------------------------------------- */

static int open_backend(int pg, struct sb_appdb **out)
{
    char path[1024], err[256] = "";
    int rc;

    if (pg) {
        rc = sb_appdb_pg_open(g.pg_schema_ci, out, err, sizeof(err));
    } else {
        /* the daemon's file name; in the SQLite store's directory it shares
         * the file with the time series, here it is alone */
        snprintf(path, sizeof(path), "%s/sbems.db", g.dir);
        rc = sb_appdb_sqlite_open(path, out, err, sizeof(err));
    }
    if (rc)
        fprintf(stderr, "bench_appdb: open %s: %s: %s\n", pg ? "postgres" : "sqlite",
                sb_errname(rc), err);
    return rc;
}

/* PostgreSQL: drop and create our schema (a re-run against the same server
 * starts empty).  0 or -1. */
static int pg_exec(const char *ci, const char *sql)
{
    PGconn *c = PQconnectdb(ci);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
        if (!ok)
            fprintf(stderr, "bench_appdb: %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
    } else {
        fprintf(stderr, "bench_appdb: connect: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* U users (user00001.., viewer or operator, three grants each) and one
 * refresh family each, so lookups run against a populated table. */
static int seed(struct sb_appdb *db)
{
    int64_t t = wall_ms();
    int64_t t0 = sb_bench_now_ns();
    for (int64_t i = 1; i <= g.users; i++) {
        struct sb_user u;
        memset(&u, 0, sizeof(u));
        user_name(i, u.username);
        snprintf(u.email, sizeof(u.email), "%s@example.com", u.username);
        snprintf(u.display_name, sizeof(u.display_name), "User %" PRId64, i);
        snprintf(u.pw_hash, sizeof(u.pw_hash), "%s", g.pw_hash);
        u.roles = i % 3 ? SB_ROLE_VIEWER : SB_ROLE_OPERATOR;
        u.created_ms = u.updated_ms = u.pw_changed_ms = t;
        int rc = sb_appdb_user_create(db, &u);
        if (rc || u.id != i) {   /* ids 1..U: the operations pick users by id */
            fprintf(stderr, "bench_appdb: seed user %" PRId64 ": %s (id %" PRId64 ")\n", i,
                    sb_errname(rc), u.id);
            return rc ? rc : SB_ESTORE;
        }
        struct sb_grant gr[3];
        memset(gr, 0, sizeof(gr));
        snprintf(gr[0].kind, sizeof(gr[0].kind), "site");
        snprintf(gr[0].slug, sizeof(gr[0].slug), "campus-%" PRId64, i % 7);
        snprintf(gr[1].kind, sizeof(gr[1].kind), "building");
        snprintf(gr[1].slug, sizeof(gr[1].slug), "hq-%" PRId64, i % 11);
        snprintf(gr[2].kind, sizeof(gr[2].kind), "building");
        snprintf(gr[2].slug, sizeof(gr[2].slug), "annex-%" PRId64, i % 13);
        if ((rc = sb_appdb_grants_set(db, u.id, gr, 3)))
            return rc;
        char fam[SB_RT_FAMILY_LEN + 1], h[65];
        new_family(fam);
        new_hash(h);
        if ((rc = sb_appdb_rt_insert(db, u.id, fam, h, t, t + REFRESH_TTL, IP, UA)))
            return rc;
    }
    fprintf(stderr, "bench_appdb: seeded %" PRId64 " users in %.1f s\n", g.users,
            (double)(sb_bench_now_ns() - t0) / 1e9);
    return 0;
}

/* Every operation under every configuration on one backend. */
static int run_backend(int pg)
{
    const char *bname = pg ? "pg" : "sqlite";
    struct sb_appdb *seed_db = NULL;
    int rc;

    if (!pg) {                       /* a re-run in the same directory starts empty */
        char path[1024];
        static const char *const sfx[] = { "", "-wal", "-shm" };
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof(path), "%s/sbems.db%s", g.dir, sfx[i]);
            unlink(path);
        }
    }
    if (pg && pg_exec(g.pg, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " SCHEMA
                            " CASCADE; CREATE SCHEMA " SCHEMA) != 0)
        return SB_ESTORE;
    if ((rc = open_backend(pg, &seed_db)) || (rc = seed(seed_db))) {
        sb_appdb_close(seed_db);
        return rc;
    }
    sb_appdb_close(seed_db);

    for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
        const struct cfg *cf = &cfgs[c];
        struct sb_appdb *h[MAX_THREADS] = { 0 };
        if (cf->pg_only && !pg)
            continue;
        for (int i = 0; i < cf->handles; i++)
            if ((rc = open_backend(pg, &h[i])))
                goto fail;
        for (int op = 0; op < OP_N; op++) {
            struct worker w[MAX_THREADS];
            struct stats s;
            char (*cur)[65] = calloc((size_t)(cf->threads * g.families), 65);
            if (!cur) {
                rc = SB_ENOMEM;
                goto fail;
            }
            memset(w, 0, sizeof(w));
            for (int i = 0; i < cf->threads; i++) {
                w[i].db = h[i % cf->handles];
                w[i].op = (enum op)op;
                w[i].tid = i;
                w[i].cap = g.n;
                w[i].secs = g.secs;
                /* a distinct non-zero xorshift state per thread, op and cfg */
                w[i].rng = 0x9E3779B97F4A7C15ULL *
                           (uint64_t)(c * 16 + (size_t)op * 4 + (size_t)i + 1);
                w[i].ucount = g.users;
                w[i].cur = cur + (size_t)i * (size_t)g.families;
                w[i].nfam = (int)g.families;
            }
            if (op == OP_REFRESH) {
                /* each thread its own families (a login each, untimed): no
                 * two threads ever present the same token */
                int64_t t = wall_ms();
                for (int i = 0; i < cf->threads && rc == 0; i++)
                    for (int f = 0; f < g.families && rc == 0; f++) {
                        char fam[SB_RT_FAMILY_LEN + 1];
                        int64_t uid = 1 + (i * g.families + f) % g.users;
                        new_family(fam);
                        new_hash(w[i].cur[f]);
                        rc = sb_appdb_rt_insert(w[i].db, uid, fam, w[i].cur[f], t,
                                                t + REFRESH_TTL, IP, UA);
                    }
                if (rc) {
                    free(cur);
                    goto fail;
                }
            }
            measure(w, cf->threads, run_worker, &s);
            int first = 0;
            for (int i = 0; i < cf->threads && !first; i++)
                first = w[i].first_rc;
            char prefix[96];
            snprintf(prefix, sizeof(prefix), "appdb_%s_%s_%s", bname, cf->name, op_name[op]);
            report(prefix, &s, first);
            free(cur);
        }
        for (int i = 0; i < cf->handles; i++)
            sb_appdb_close(h[i]);
        continue;
fail:
        for (int i = 0; i < cf->handles; i++)
            sb_appdb_close(h[i]);
        fprintf(stderr, "bench_appdb: %s %s: %s\n", bname, cf->name, sb_errname(rc));
        return rc;
    }
    return 0;
}

/* ---- anchors ---------------------------------------------------------------------- */

/* argon2id verification at the daemon's default cost: the part of a sign-in
 * that is not the database. */
static void *run_verify(void *arg)
{
    struct worker *w = arg;
    if (sb_pw_verify(g.pw_hash, PASSWORD) != 0)      /* warm-up: one */
        w->errors++;
    pthread_barrier_wait(w->bar);
    int64_t end = sb_bench_now_ns() + w->secs * 1000000000LL;
    for (int64_t i = 0; i < w->cap; i++) {
        int64_t t0 = sb_bench_now_ns();
        if (t0 >= end)
            break;
        int rc = sb_pw_verify(g.pw_hash, PASSWORD);
        w->lat[w->n++] = (double)(sb_bench_now_ns() - t0) / 1e6;
        w->errors += rc != 0;
    }
    return NULL;
}

static void anchor_argon2(void)
{
    static const int th[] = { 1, 4 };
    for (size_t k = 0; k < 2; k++) {
        struct worker w[MAX_THREADS];
        struct stats s;
        memset(w, 0, sizeof(w));
        for (int i = 0; i < th[k]; i++) {
            w[i].cap = g.verifies;
            w[i].secs = g.secs;
        }
        measure(w, th[k], run_verify, &s);
        report(th[k] == 1 ? "appdb_argon2id_t1_verify" : "appdb_argon2id_t4_verify", &s, 0);
    }
}

/* One libpq connection: a prepared statement in a loop. */
struct raw {
    const char *sql;
    PGconn *c;
};

static void *run_raw(void *arg)
{
    struct worker *w = arg;
    struct raw *r = w->ud;
    for (int i = 0; i < WARMUP_OPS; i++) {
        PGresult *res = PQexecPrepared(r->c, "q", 0, NULL, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        w->errors += st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK;
        PQclear(res);
    }
    pthread_barrier_wait(w->bar);
    int64_t end = sb_bench_now_ns() + w->secs * 1000000000LL;
    for (int64_t i = 0; i < w->cap; i++) {
        int64_t t0 = sb_bench_now_ns();
        if (t0 >= end)
            break;
        PGresult *res = PQexecPrepared(r->c, "q", 0, NULL, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        PQclear(res);
        w->lat[w->n++] = (double)(sb_bench_now_ns() - t0) / 1e6;
        w->errors += st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK;
    }
    return NULL;
}

/* The floors of PostgreSQL on this machine: a round trip, and a commit. */
static int anchor_pg_raw(void)
{
    static const struct { const char *name, *sql; } q[] = {
        { "appdb_pgraw_t1_select1", "SELECT 1" },
        { "appdb_pgraw_t1_commit", "INSERT INTO " SCHEMA ".raw_commit VALUES (1)" },
    };
    if (pg_exec(g.pg, "CREATE TABLE IF NOT EXISTS " SCHEMA ".raw_commit (x int)") != 0)
        return SB_ESTORE;
    for (size_t k = 0; k < 2; k++) {
        struct raw r = { .sql = q[k].sql, .c = PQconnectdb(g.pg) };
        struct worker w[1];
        struct stats s;
        if (PQstatus(r.c) != CONNECTION_OK) {
            fprintf(stderr, "bench_appdb: connect: %s", PQerrorMessage(r.c));
            PQfinish(r.c);
            return SB_ESTORE;
        }
        /* as sb_sql_open_pg sets it: commits wait for the WAL flush */
        PQclear(PQexec(r.c, "SET synchronous_commit = on"));
        PGresult *p = PQprepare(r.c, "q", r.sql, 0, NULL);
        int ok = PQresultStatus(p) == PGRES_COMMAND_OK;
        PQclear(p);
        if (!ok) {
            fprintf(stderr, "bench_appdb: prepare %s: %s", r.sql, PQerrorMessage(r.c));
            PQfinish(r.c);
            return SB_ESTORE;
        }
        memset(w, 0, sizeof(w));
        w[0].cap = g.n;
        w[0].secs = g.secs;
        w[0].ud = &r;
        measure(w, 1, run_raw, &s);
        report(q[k].name, &s, 0);
        PQfinish(r.c);
    }
    return 0;
}

/* ---- main --------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: bench_appdb -d sqlite_dir [-p conninfo] [-n ops] [-T seconds] "
                    "[-u users] [-a verifications] [-F families]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt;

    g.pg = getenv("SBEMS_TEST_PG_URL");
    while ((opt = getopt(argc, argv, "d:p:n:T:u:a:F:")) != -1) {
        switch (opt) {
        case 'd': g.dir = optarg; break;
        case 'p': g.pg = optarg; break;
        case 'n': if (sb_bench_arg_int("-n", optarg, 1, 10000000, &g.n)) usage(); break;
        case 'T': if (sb_bench_arg_int("-T", optarg, 1, 600, &g.secs)) usage(); break;
        case 'u': if (sb_bench_arg_int("-u", optarg, 1, 1000000, &g.users)) usage(); break;
        case 'a': if (sb_bench_arg_int("-a", optarg, 1, 100000, &g.verifies)) usage(); break;
        case 'F': if (sb_bench_arg_int("-F", optarg, 1, 4096, &g.families)) usage(); break;
        default: usage();
        }
    }
    if (!g.dir || optind != argc)
        usage();
    if (g.pg && !*g.pg)
        g.pg = NULL;
    if (g.pg)
        snprintf(g.pg_schema_ci, sizeof(g.pg_schema_ci), "%s options='-c search_path=%s'", g.pg,
                 SCHEMA);
    g.salt = (uint64_t)wall_ms() * 0x100000001B3ULL ^ (uint64_t)getpid();

    /* One real hash at the default cost: the users' stored hash and what the
     * anchor verifies against. */
    struct sb_pw_params pp = sb_pw_params_default();
    if (sb_pw_hash(&pp, PASSWORD, g.pw_hash) != 0) {
        fprintf(stderr, "bench_appdb: argon2id hash failed\n");
        return 1;
    }
    sb_bench_result("appdb_users", (double)g.users, "users");
    sb_bench_result("appdb_cap_ops", (double)g.n, "ops");
    sb_bench_result("appdb_cap_s", (double)g.secs, "s");

    int rc = run_backend(0);
    if (rc == 0 && g.pg)
        rc = run_backend(1);
    if (rc == 0 && g.pg)
        rc = anchor_pg_raw();
    if (!g.pg)
        fprintf(stderr, "bench_appdb: no PostgreSQL (-p or SBEMS_TEST_PG_URL): SQLite only\n");
    if (rc == 0)
        anchor_argon2();
    if (g.pg)
        pg_exec(g.pg, "SET client_min_messages = warning; DROP SCHEMA IF EXISTS " SCHEMA
                      " CASCADE");
    if (rc)
        fprintf(stderr, "bench_appdb: failed: %s\n", sb_errname(rc));
    return rc || g.failed ? 1 : 0;
}

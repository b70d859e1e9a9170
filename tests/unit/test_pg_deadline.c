/*
 * test_pg_deadline.c - the client-side deadline on every libpq call
 * (store/pg/pg_conn.h) against a real PostgreSQL 15 reached through a relay
 * that can go silent.
 *
 * Needs SBEMS_TEST_PG_URL (tests/pg/pg-run starts a throwaway server on
 * 127.0.0.1 and sets it); skips without it.  The relay is a thread of this
 * test: it listens on 127.0.0.1 (a port the kernel picks), connects each
 * client to the server's port and copies bytes both ways.  Silent, it keeps
 * reading from both sides (the kernel keeps acknowledging) and forwards
 * nothing: the stuck pooler of the "silent relay" hang.  Stalled, it reads
 * nothing either, so a large request fills the socket buffers and the
 * client's send blocks.  Every connection sets statement_timeout = 2000 ms
 * (not less: a commit on a busy CI machine must not reach it), so the
 * deadline is 2000 + 200 + 1000 = 3200 ms, and connect_timeout = 2.
 *
 * What is checked: the deadline rule; a multi-statement string collected
 * whole; a silent or stalled path ends the call with SB_ETIMEDOUT at the
 * deadline (measured) and the connection is CONNECTION_BAD; a slow
 * statement is ended by the server's statement_timeout first, on a
 * connection that stays up; the sql layer (db/sql.c), the application
 * database and the store's kv (kv_pg.c) each time out instead of hanging,
 * do not run the statement again, fail a transaction it was in, come back
 * once the relay forwards again, and lose no acknowledged row; each
 * timeout is logged once, never with the password.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/err.h"
#include "core/log.h"
#include "db/appdb.h"
#include "db/sql.h"
#include "store/engine/kv.h"
#include "store/pg/pg.h"
#include "store/pg/pg_conn.h"
#include "store/store.h"
#include "tap.h"

#define STMT_TIMEOUT_MS 2000    /* the sessions' statement_timeout */
#define DEADLINE_MS 3200        /* sb_pg_deadline(STMT_TIMEOUT_MS, ...) */
#define MARGIN_MS   1500        /* scheduling slack under ASan on a busy machine */
#define PASSWORD    "Sekr1tPassw0rd"

static const char *base;        /* SBEMS_TEST_PG_URL */
static int up_port;             /* the server's port in it */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the relay ---------------------------------------------------------- */

enum { FORWARD = 0, SILENT, STALLED };

#define RELAY_PAIRS   16
#define RELAY_LIFE_MS 240000    /* the thread ends by itself after this */

struct relay {
    int lfd;                    /* listening socket on 127.0.0.1 */
    int port;                   /* its port */
    atomic_int mode;            /* FORWARD, SILENT or STALLED */
    atomic_int stop;            /* set by the test: the thread ends */
    atomic_int accepted;        /* client connections accepted so far */
    pthread_t th;
    int c[RELAY_PAIRS];         /* client side of each pair (-1: free) */
    int s[RELAY_PAIRS];         /* server side */
};

static void pair_close(struct relay *r, int i)
{
    close(r->c[i]);
    close(r->s[i]);
    r->c[i] = r->s[i] = -1;
}

/* A blocking socket whose sends give up after 5 s: the relay never hangs. */
static void send_bound(int fd)
{
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int write_all(int fd, const char *p, ssize_t n)
{
    for (int k = 0; n > 0 && k < 1000; k++) {
        ssize_t w = send(fd, p, (size_t)n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= w;
    }
    return n == 0 ? 0 : -1;
}

static void relay_accept(struct relay *r)
{
    int c = accept(r->lfd, NULL, NULL), i;
    if (c < 0)
        return;
    atomic_fetch_add(&r->accepted, 1);
    for (i = 0; i < RELAY_PAIRS && r->c[i] >= 0; i++)
        ;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)up_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int s = i < RELAY_PAIRS ? socket(AF_INET, SOCK_STREAM, 0) : -1;
    if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(c);
        if (s >= 0)
            close(s);
        return;
    }
    send_bound(c);
    send_bound(s);
    r->c[i] = c;
    r->s[i] = s;
}

/* Copies what from has to to (FORWARD) or drops it (SILENT); the pair ends
 * with either side. */
static void relay_move(struct relay *r, int i, int from, int to)
{
    static char buf[65536];
    ssize_t n = recv(from, buf, sizeof(buf), 0);

    if (n <= 0 || (atomic_load(&r->mode) == FORWARD && write_all(to, buf, n) != 0))
        pair_close(r, i);
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    int64_t end = now_ms() + RELAY_LIFE_MS;

    while (!atomic_load(&r->stop) && now_ms() < end) {
        struct pollfd p[1 + 2 * RELAY_PAIRS];
        int who[1 + 2 * RELAY_PAIRS], n = 0;
        int reading = atomic_load(&r->mode) != STALLED;
        p[n] = (struct pollfd){ .fd = r->lfd, .events = POLLIN };
        who[n++] = -1;
        for (int i = 0; i < RELAY_PAIRS && reading; i++) {
            if (r->c[i] < 0)
                continue;
            p[n] = (struct pollfd){ .fd = r->c[i], .events = POLLIN };
            who[n++] = i;
            p[n] = (struct pollfd){ .fd = r->s[i], .events = POLLIN };
            who[n++] = i;
        }
        if (poll(p, (nfds_t)n, 20) <= 0)
            continue;
        if (p[0].revents)
            relay_accept(r);
        for (int k = 1; k < n; k++) {
            int i = who[k];
            if (!p[k].revents || r->c[i] < 0)
                continue;
            if (p[k].fd == r->c[i])
                relay_move(r, i, r->c[i], r->s[i]);
            else
                relay_move(r, i, r->s[i], r->c[i]);
        }
    }
    return NULL;
}

static int relay_start(struct relay *r)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof(a);

    memset(r, 0, sizeof(*r));
    for (int i = 0; i < RELAY_PAIRS; i++)
        r->c[i] = r->s[i] = -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->lfd < 0 || bind(r->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(r->lfd, 16) != 0 || getsockname(r->lfd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->th, NULL, relay_main, r) == 0 ? 0 : -1;
}

static void relay_stop(struct relay *r)
{
    atomic_store(&r->stop, 1);
    pthread_join(r->th, NULL);
    for (int i = 0; i < RELAY_PAIRS; i++)
        if (r->c[i] >= 0)
            pair_close(r, i);
    close(r->lfd);
}

/* ---- helpers ------------------------------------------------------------ */

/* conninfo through relay r, in schema (may be NULL), with the test's
 * timeouts and a password the log must never show (trust auth ignores it). */
static void relay_url(const struct relay *r, const char *schema, char *out, size_t cap)
{
    snprintf(out, cap, "%s host=127.0.0.1 port=%d connect_timeout=2 password=" PASSWORD
             " options='-c statement_timeout=%d%s%s'", base, r->port, STMT_TIMEOUT_MS,
             schema ? " -c search_path=" : "", schema ? schema : "");
}

/* Plain SQL on the server directly (not through a relay): the first value
 * as an integer, 0 for a command, -1 on error. */
static long long sql_int(const char *schema, const char *q)
{
    char url[1024];
    long long v = -1;
    snprintf(url, sizeof(url), "%s options='-c search_path=%s'", base, schema);
    PGconn *c = PQconnectdb(url);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, q) : NULL;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
        v = atoll(PQgetvalue(r, 0, 0));
    else if (r && PQresultStatus(r) == PGRES_COMMAND_OK)
        v = 0;
    else
        printf("# sql %s: %s\n", q, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return v;
}

static int fresh_schema(const char *schema)
{
    char q[200];
    snprintf(q, sizeof(q), "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s CASCADE;"
             " CREATE SCHEMA %s", schema, schema);
    return sql_int("public", q) == 0 ? 0 : -1;
}

/* The log goes to a file while a test runs; its text is read back. */
static int log_fd = -1;

static void log_capture(void)
{
    char path[] = "/tmp/sbems-test-pgdl-log-XXXXXX";
    log_fd = mkstemp(path);
    if (log_fd >= 0) {
        unlink(path);
        sb_log_set_fd(log_fd);
    }
}

/* Stops capturing; the number of lines holding needle, -1 if the password
 * shows anywhere. */
static int log_count(const char *needle)
{
    static char buf[65536];
    sb_log_set_fd(2);
    if (log_fd < 0)
        return -2;
    ssize_t n = pread(log_fd, buf, sizeof(buf) - 1, 0);
    close(log_fd);
    log_fd = -1;
    buf[n > 0 ? n : 0] = 0;
    if (strstr(buf, PASSWORD))
        return -1;
    int k = 0;
    for (const char *p = buf; (p = strstr(p, needle)); p += strlen(needle)) {
        const char *b = p, *e = strchr(p, '\n');
        while (b > buf && b[-1] != '\n')
            b--;
        printf("#   log: %.*s\n", (int)(e ? e - b : (ptrdiff_t)strlen(b)), b);
        k++;
    }
    return k;
}

/* The call took a deadline: at least the deadline, at most it plus the margin. */
#define CHECK_TOOK(t0, deadline)                                            \
    do {                                                                    \
        int64_t took_ = now_ms() - (t0);                                    \
        printf("#   %s: %lld ms (deadline %d)\n", __func__, (long long)took_, (int)(deadline)); \
        CHECK_INT(took_, >=, (deadline) - 50);                              \
        CHECK_INT(took_, <=, (deadline) + MARGIN_MS);                       \
    } while (0)

/* ---- tests -------------------------------------------------------------- */

TEST(deadline_rule)
{
    CHECK_EQ(sb_pg_deadline(0, 30000), 30000);         /* no statement_timeout */
    CHECK_EQ(sb_pg_deadline(-1, 60000), 60000);
    CHECK_EQ(sb_pg_deadline(1000, 30000), 2100);
    CHECK_EQ(sb_pg_deadline(STMT_TIMEOUT_MS, 30000), DEADLINE_MS);
    CHECK_EQ(sb_pg_deadline(120000, 60000), 133000);   /* longer than the fallback */
}

/* pg_conn.c alone on a raw PGconn: results collected whole, a silent path
 * and a stalled one (the request itself cannot be sent) both end at the
 * deadline with the connection bad, and PQreset brings it back. */
TEST(raw_silent_and_stalled)
{
    struct relay rl;
    char url[1024];
    PGresult *r = NULL;
    int64_t dl = 0;

    REQUIRE(relay_start(&rl) == 0);
    relay_url(&rl, NULL, url, sizeof(url));
    PGconn *pg = PQconnectdb(url);
    REQUIRE(PQstatus(pg) == CONNECTION_OK);
    CHECK_EQ(sb_pg_session_deadline(pg, 30000, &dl), 0);
    CHECK_EQ(dl, DEADLINE_MS);
    /* Several statements: every result read, the last one returned. */
    CHECK_EQ(sb_pg_exec(pg, "SELECT 1; SELECT 2; SELECT 3", 2000, &r), 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "3") == 0);
    PQclear(r);
    /* An error is a result, as with PQexec, and the connection stays. */
    CHECK_EQ(sb_pg_exec(pg, "SELECT 1/0", 2000, &r), 0);
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_STR(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22012");
    PQclear(r);
    CHECK(PQstatus(pg) == CONNECTION_OK);

    atomic_store(&rl.mode, SILENT);
    int64_t t0 = now_ms();
    r = (PGresult *)1;
    CHECK_EQ(sb_pg_exec(pg, "SELECT 4", 500, &r), SB_ETIMEDOUT);
    CHECK_TOOK(t0, 500);
    CHECK(r == NULL);
    CHECK(PQstatus(pg) == CONNECTION_BAD);
    CHECK_EQ(PQsocket(pg), -1);
    /* A call on the dropped connection fails at once, with libpq's reason. */
    t0 = now_ms();
    CHECK_EQ(sb_pg_exec(pg, "SELECT 5", 500, &r), 0);
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK_INT(now_ms() - t0, <, 200);
    PQclear(r);

    atomic_store(&rl.mode, FORWARD);
    PQreset(pg);
    REQUIRE(PQstatus(pg) == CONNECTION_OK);
    CHECK_EQ(sb_pg_exec_params(pg, "SELECT $1::int + 1", 1, (const char *const[]){ "41" }, NULL,
                               NULL, 0, 2000, &r), 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "42") == 0);
    PQclear(r);

    /* Stalled: 24 MB cannot go out (the relay reads nothing), the flush
     * waits for a writable socket until the deadline. */
    size_t big = 24u << 20;
    char *blob = calloc(1, big);
    REQUIRE(blob);
    int len = (int)big, fmt = 1;
    atomic_store(&rl.mode, STALLED);
    t0 = now_ms();
    CHECK_EQ(sb_pg_exec_params(pg, "SELECT length($1::bytea)", 1,
                               (const char *const[]){ blob }, &len, &fmt, 0, 800, &r),
             SB_ETIMEDOUT);
    CHECK_TOOK(t0, 800);
    CHECK(PQstatus(pg) == CONNECTION_BAD);
    free(blob);
    atomic_store(&rl.mode, FORWARD);
    PQreset(pg);
    CHECK(PQstatus(pg) == CONNECTION_OK);
    CHECK_EQ(sb_pg_prepare(pg, "s1", "SELECT $1::text || 'b'", 2000, &r), 0);
    CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
    CHECK_EQ(sb_pg_exec_prepared(pg, "s1", 1, (const char *const[]){ "a" }, NULL, NULL, 0, 2000,
                                 &r), 0);
    CHECK(PQresultStatus(r) == PGRES_TUPLES_OK && strcmp(PQgetvalue(r, 0, 0), "ab") == 0);
    PQclear(r);
    PQfinish(pg);
    relay_stop(&rl);
}

static struct sb_sql_stmt *prep(struct sb_sql *c, const char *sql)
{
    struct sb_sql_stmt *st = NULL;
    char err[256] = "";
    if (sb_sql_prepare(c, sql, &st, err, sizeof(err)))
        printf("#   prepare %s: %s\n", sql, err);
    return st;
}

static int insert(struct sb_sql_stmt *ins, const char *b)
{
    sb_sql_bind_text(ins, 1, b);
    int rc = sb_sql_step(ins, "test", "insert");
    sb_sql_reset(ins);
    return rc;
}

/* db/sql.c through the relay: the server's statement_timeout answers
 * first; a silent path is SB_ETIMEDOUT at the deadline, not retried; the
 * next statement reconnects once the relay forwards again; a timeout
 * inside a transaction fails it, a COMMIT without an answer is
 * SB_ETIMEDOUT; every acknowledged row is there, nothing else. */
TEST(sql_silent_relay)
{
    struct relay rl;
    struct sb_sql *c = NULL;
    char url[1024], err[256] = "";

    REQUIRE(fresh_schema("t_pgdl_sql") == 0);
    REQUIRE(relay_start(&rl) == 0);
    relay_url(&rl, "t_pgdl_sql", url, sizeof(url));
    log_capture();
    int rc = sb_sql_open_pg(url, &c, err, sizeof(err));
    if (rc)
        printf("#   open: %s\n", err);
    REQUIRE(rc == 0);
    CHECK_EQ(sb_sql_exec(c, "CREATE TABLE t(id BIGINT GENERATED BY DEFAULT AS IDENTITY, "
                            "b TEXT UNIQUE)", err, sizeof(err)), 0);
    struct sb_sql_stmt *ins = prep(c, "INSERT INTO t(b) VALUES(?1)");
    struct sb_sql_stmt *slow = prep(c, "SELECT pg_sleep(5)");
    REQUIRE(ins && slow);
    CHECK_EQ(insert(ins, "before"), SB_SQL_DONE);

    /* A slow statement: the server's timeout (2 s) ends it before the
     * deadline, and the connection stays up (no new connection after). */
    int64_t t0 = now_ms();
    CHECK_EQ(sb_sql_step(slow, "test", "sleep"), SB_ESTORE);
    sb_sql_reset(slow);
    printf("#   pg_sleep(5) ended by statement_timeout after %lld ms\n", (long long)(now_ms() - t0));
    CHECK_INT(now_ms() - t0, >=, STMT_TIMEOUT_MS - 50);
    CHECK_INT(now_ms() - t0, <, DEADLINE_MS - 300);
    int conns = atomic_load(&rl.accepted);

    /* Silent: SB_ETIMEDOUT at the deadline; not retried. */
    atomic_store(&rl.mode, SILENT);
    t0 = now_ms();
    CHECK_EQ(insert(ins, "lost"), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    CHECK_EQ(atomic_load(&rl.accepted), conns);   /* no retry, no reconnect yet */
    /* Still silent: the reconnect gives up after connect_timeout (2 s). */
    t0 = now_ms();
    CHECK_EQ(insert(ins, "during"), SB_ESTORE);
    printf("#   reconnect through the silent relay gave up after %lld ms\n",
           (long long)(now_ms() - t0));
    CHECK_INT(now_ms() - t0, >=, 1900);
    CHECK_INT(now_ms() - t0, <=, 2000 + MARGIN_MS + 1000);
    /* Forwarding again: the next statement reconnects and runs. */
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(insert(ins, "after"), SB_SQL_DONE);

    /* Inside a transaction: the timeout fails the transaction. */
    CHECK_EQ(sb_sql_begin(c, "test"), 0);
    CHECK_EQ(insert(ins, "tx1"), SB_SQL_DONE);
    atomic_store(&rl.mode, SILENT);
    t0 = now_ms();
    CHECK_EQ(insert(ins, "tx2"), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    CHECK_EQ(sb_sql_end(c, 1, "test"), SB_ESTORE);
    CHECK(!sb_sql_in_tx(c));
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(sb_sql_begin(c, "test"), 0);
    CHECK_EQ(insert(ins, "again"), SB_SQL_DONE);
    CHECK_EQ(sb_sql_end(c, 1, "test"), 0);

    /* A COMMIT that gets no answer: its outcome is unknown. */
    CHECK_EQ(sb_sql_begin(c, "test"), 0);
    CHECK_EQ(insert(ins, "unsure"), SB_SQL_DONE);
    atomic_store(&rl.mode, SILENT);
    t0 = now_ms();
    CHECK_EQ(sb_sql_end(c, 1, "test"), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    CHECK(!sb_sql_in_tx(c));
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(insert(ins, "last"), SB_SQL_DONE);

    sb_sql_finalize(slow);
    sb_sql_finalize(ins);
    sb_sql_close(c);
    relay_stop(&rl);
    CHECK_EQ(log_count("no answer from 127.0.0.1:"), 3);
    /* Acknowledged: before, after, again, last.  The silent relay swallowed
     * the rest (and the unsure COMMIT: it never reached the server). */
    CHECK_EQ(sql_int("t_pgdl_sql", "SELECT count(*) FROM t"), 4);
    CHECK_EQ(sql_int("t_pgdl_sql", "SELECT count(*) FROM t WHERE b IN "
                     "('before', 'after', 'again', 'last')"), 4);
}

/* The application database over the same layer: a request times out
 * instead of hanging, and the next one works. */
TEST(appdb_silent_relay)
{
    struct relay rl;
    struct sb_appdb *db = NULL;
    char url[1024], err[256] = "";
    int64_t n = -1;

    REQUIRE(fresh_schema("t_pgdl_app") == 0);
    REQUIRE(relay_start(&rl) == 0);
    relay_url(&rl, "t_pgdl_app", url, sizeof(url));
    log_capture();
    int rc = sb_appdb_pg_open(url, &db, err, sizeof(err));
    if (rc)
        printf("#   open: %s\n", err);
    REQUIRE(rc == 0);
    CHECK_EQ(sb_appdb_user_count(db, &n), 0);
    CHECK_EQ(n, 0);
    atomic_store(&rl.mode, SILENT);
    int64_t t0 = now_ms();
    CHECK_EQ(sb_appdb_user_count(db, &n), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    atomic_store(&rl.mode, FORWARD);
    n = -1;
    CHECK_EQ(sb_appdb_user_count(db, &n), 0);
    CHECK_EQ(n, 0);
    /* a refresh: SB_ETIMEDOUT of rt_rotate means "the token expired" (a
     * 401 that signs the user out), so a silent database is SB_ESTORE */
    static const char h1[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static const char h2[] = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    struct sb_rt_result res;
    CHECK_EQ(sb_appdb_rt_rotate(db, h1, h2, 1000, 2000, "127.0.0.1", "t", &res), SB_ENOENT);
    atomic_store(&rl.mode, SILENT);
    t0 = now_ms();
    CHECK_EQ(sb_appdb_rt_rotate(db, h1, h2, 1000, 2000, "127.0.0.1", "t", &res), SB_ESTORE);
    CHECK_TOOK(t0, DEADLINE_MS);
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(sb_appdb_rt_rotate(db, h1, h2, 1000, 2000, "127.0.0.1", "t", &res), SB_ENOENT);
    sb_appdb_close(db);
    relay_stop(&rl);
    CHECK_EQ(log_count("no answer from 127.0.0.1:"), 2);
}

static int open_kv(const char *url, struct sb_kv **kv, struct sb_kv_conn **w)
{
    struct sb_store_cfg cfg = { .url = url, .node = "n" };
    int from = 0, to = 0;
    int rc = sb_kv_pg_ops.open(&cfg, kv, w);
    return rc ? rc : sb_kv_pg_ops.migrate(*kv, 0, &from, &to);
}

static int count_rows(void *ud, int64_t key, const void *blob, size_t len)
{
    (*(int *)ud)++;
    return 0;
}

/* The store's kv through the relay: the writer and a reader time out at
 * the deadline instead of hanging (the engine then spools), a rollback
 * after a timeout does not wait on the silent path, and both come back. */
TEST(kv_silent_relay)
{
    const struct sb_kv_ops *O = &sb_kv_pg_ops;
    struct relay rl;
    struct sb_kv *kv = NULL;
    struct sb_kv_conn *w = NULL, *rd = NULL;
    char url[1024];
    int rows = 0;

    REQUIRE(fresh_schema("t_pgdl_kv") == 0);
    REQUIRE(relay_start(&rl) == 0);
    relay_url(&rl, "t_pgdl_kv", url, sizeof(url));
    log_capture();
    REQUIRE(open_kv(url, &kv, &w) == 0);
    REQUIRE(O->conn_open(kv, &rd) == 0);
    CHECK_EQ(O->head_put(w, 1, "h1", 2), 0);
    CHECK_EQ(O->scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, count_rows, &rows), 0);

    atomic_store(&rl.mode, SILENT);
    int64_t t0 = now_ms();
    CHECK_EQ(O->head_put(w, 2, "h2", 2), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    t0 = now_ms();
    CHECK_EQ(O->scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, count_rows, &rows), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(O->head_put(w, 3, "h3", 2), 0);          /* reconnected */

    /* A seal's transaction: the timeout fails it, the rollback is at once. */
    CHECK_EQ(O->begin(w), 0);
    CHECK_EQ(O->put(w, SB_KV_CHUNK, 1, 5, "a", 1), 0);
    atomic_store(&rl.mode, SILENT);
    t0 = now_ms();
    CHECK_EQ(O->put(w, SB_KV_CHUNK, 1, 6, "b", 1), SB_ETIMEDOUT);
    CHECK_TOOK(t0, DEADLINE_MS);
    t0 = now_ms();
    O->rollback(w);
    CHECK_INT(now_ms() - t0, <, 500);
    atomic_store(&rl.mode, FORWARD);
    CHECK_EQ(O->begin(w), 0);
    CHECK_EQ(O->put(w, SB_KV_CHUNK, 1, 5, "a", 1), 0);
    CHECK_EQ(O->put(w, SB_KV_CHUNK, 1, 6, "b", 1), 0);
    CHECK_EQ(O->commit(w), 0);
    rows = 0;
    CHECK_EQ(O->scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, count_rows, &rows), 0);
    CHECK_EQ(rows, 2);
    O->close(kv);
    relay_stop(&rl);
    CHECK_EQ(log_count("no answer from 127.0.0.1:"), 3);
    CHECK_EQ(sql_int("t_pgdl_kv", "SELECT count(*) FROM sb_head"), 2);
    CHECK_EQ(sql_int("t_pgdl_kv", "SELECT count(*) FROM sb_head WHERE seq IN (1, 3)"), 2);
}

int main(void)
{
    PQconninfoOption *o;

    TAP_START();
    base = getenv("SBEMS_TEST_PG_URL");
    if (!base || !*base) {
        printf("1..0 # SKIP SBEMS_TEST_PG_URL unset (tests/pg/pg-run starts a server)\n");
        return 0;
    }
    /* The relay reaches the server on loopback only, as pg-run starts it. */
    if ((o = PQconninfoParse(base, NULL))) {
        for (PQconninfoOption *p = o; p->keyword; p++) {
            if (strcmp(p->keyword, "port") == 0 && p->val)
                up_port = atoi(p->val);
            if (strcmp(p->keyword, "host") == 0 && p->val && strcmp(p->val, "127.0.0.1") != 0)
                up_port = -1;
        }
        PQconninfoFree(o);
    }
    if (up_port <= 0) {
        printf("1..0 # SKIP SBEMS_TEST_PG_URL is not host=127.0.0.1 port=N\n");
        return 0;
    }
    RUN(deadline_rule);
    RUN(raw_silent_and_stalled);
    RUN(sql_silent_relay);
    RUN(appdb_silent_relay);
    RUN(kv_silent_relay);
    TAP_END();
}

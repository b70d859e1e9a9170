/*
 * test_kv_pg.c - the PostgreSQL kv layer (src/store/pg/kv_pg.c, pg_model.c)
 * against a real server: every op of sb_kv_pg_ops.
 *
 * Needs SBEMS_TEST_PG_URL (tests/pg/pg-run starts a throwaway server and sets
 * it); skipped without.  Each test works in a schema of its own, reached
 * through search_path, so tests neither see each other nor test_store's.
 * Expected states are checked with plain SQL on a connection of the test's
 * own, not through the layer under test.
 */
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "model/model.h"
#include "model/site_json.h"
#include "store/engine/kv.h"
#include "store/pg/pg.h"
#include "store/store.h"
#include "tap.h"

static const struct sb_kv_ops *const O = &sb_kv_pg_ops;
static const char *base;        /* SBEMS_TEST_PG_URL */
static int nschema;

/* ---- helpers ------------------------------------------------------------ */

/* A fresh schema; url gets the conninfo that works in it. */
static void fresh(char *schema, size_t scap, char *url, size_t ucap)
{
    char sql[200];
    snprintf(schema, scap, "kvpg%d", nschema++);
    snprintf(sql, sizeof(sql), "SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
             "CASCADE; CREATE SCHEMA %s", schema,
             schema);
    PGconn *c = PQconnectdb(base);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        printf("# schema %s: %s\n", schema, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    snprintf(url, ucap, "%s options='-c search_path=%s'", base, schema);
}

/* The first value of plain SQL run in schema, as an integer (-1 on error). */
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
        v = atoll(PQcmdTuples(r));
    else
        printf("# sql %s: %s\n", q, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return v;
}

/* Partitions of parent (in schema) named like part, e.g. "sb_chunk_p%". */
static long long nparts(const char *schema, const char *parent, const char *like)
{
    char q[300];
    snprintf(q, sizeof(q), "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON "
             "c.oid = i.inhrelid WHERE i.inhparent = '%s'::regclass AND c.relname LIKE '%s'",
             parent, like);
    return sql_int(schema, q);
}

static int open_kv(const char *url, const char *node, int readonly, struct sb_kv **kv,
                   struct sb_kv_conn **w)
{
    struct sb_store_cfg cfg = { .url = url, .node = node, .readonly = readonly };
    return O->open(&cfg, kv, w);
}

/* Rows a scan visited: keys and blobs (as strings). */
struct rows {
    int n;                  /* rows seen */
    int stop_after;         /* return 1 after this many (0 = never) */
    int fail_after;         /* return SB_EINVAL after this many (0 = never) */
    int64_t key[64];        /* keys */
    char blob[64][32];      /* blobs, NUL-terminated copies */
    size_t len[64];         /* blob lengths */
};

static int collect(void *ud, int64_t key, const void *blob, size_t len)
{
    struct rows *r = ud;
    if (r->n < 64) {
        r->key[r->n] = key;
        r->len[r->n] = len;
        snprintf(r->blob[r->n], sizeof(r->blob[0]), "%.*s", (int)len, (const char *)blob);
    }
    r->n++;
    if (r->fail_after && r->n >= r->fail_after)
        return SB_EINVAL;
    return r->stop_after && r->n >= r->stop_after ? 1 : 0;
}

static int put_s(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t pt, int64_t period,
                 const char *s)
{
    return O->put(w, t, pt, period, s, strlen(s));
}

static int scan(struct sb_kv_conn *c, enum sb_kv_table t, uint32_t pt, int64_t p0, int64_t p1,
                int desc, size_t limit, struct rows *r)
{
    memset(r, 0, sizeof(*r));
    return O->scan(c, t, pt, p0, p1, desc, limit, collect, r);
}

/* An open, migrated store in a fresh schema. */
struct fx {
    char schema[32];        /* its schema */
    char url[1024];         /* its conninfo */
    struct sb_kv *kv;       /* open kv */
    struct sb_kv_conn *w;   /* writer */
};

static int fx_open(struct fx *f, const char *node)
{
    int from = -1, to = -1;
    fresh(f->schema, sizeof(f->schema), f->url, sizeof(f->url));
    if (open_kv(f->url, node, 0, &f->kv, &f->w) != 0)
        return -1;
    return O->migrate(f->kv, 0, &from, &to);
}

/* ---- tests -------------------------------------------------------------- */

TEST(ops_table)
{
    CHECK_STR(O->name, "postgres");
    CHECK_EQ(O->remote, 1);
    CHECK_EQ(O->backup(NULL, NULL, "/nonexistent"), SB_ENOTSUP);   /* pg_dump: docs */
    CHECK(O->after_close_seal == NULL);
    CHECK(O->open && O->close && O->migrate && O->conn_open && O->conn_close && O->begin && O->backup &&
          O->commit && O->rollback && O->head_put && O->head_trim && O->head_scan &&
          O->seqs && O->set_sealed && O->scan && O->put && O->del && O->delete_before &&
          O->count && O->bytes && O->model_load && O->model_save && O->info);
}

TEST(connect_failure_hides_password)
{
    char path[] = "/tmp/sbems-test-kvpg-log-XXXXXX", buf[8192];
    struct sb_kv *kv = (struct sb_kv *)1;
    struct sb_kv_conn *w = (struct sb_kv_conn *)1;
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    sb_log_set_fd(fd);
    /* Port 1 on loopback: nothing listens there. */
    int rc = open_kv("host=127.0.0.1 port=1 dbname=x user=sbems password=Sekr1tPassw0rd "
                     "connect_timeout=5", "n", 0, &kv, &w);
    /* A URI with the password in it, and a malformed conninfo. */
    int rc2 = open_kv("postgresql://sbems:Sekr1tPassw0rd@127.0.0.1:1/x", "n", 0, &kv, &w);
    int rc3 = open_kv("host=127.0.0.1 password=Sekr1tPassw0rd bogus_keyword=1", "n", 0, &kv, &w);
    sb_log_set_fd(2);
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    CHECK_EQ(rc, SB_ESTORE);
    CHECK_EQ(rc2, SB_ESTORE);
    CHECK_EQ(rc3, SB_ESTORE);
    CHECK(kv == NULL && w == NULL);
    REQUIRE(n > 0);
    buf[n] = 0;
    CHECK(strstr(buf, "connect") != NULL);
    CHECK(strstr(buf, "Sekr1tPassw0rd") == NULL);
    if (strstr(buf, "Sekr1tPassw0rd"))
        printf("# log: %s", buf);
}

TEST(migrate_idempotent_and_info)
{
    char schema[32], url[1024];
    struct sb_kv *kv = NULL, *ro = NULL;
    struct sb_kv_conn *w = NULL, *rw = NULL;
    int from = -1, to = -1;

    fresh(schema, sizeof(schema), url, sizeof(url));
    /* Read-only before any schema: SB_ENOENT, nothing created. */
    REQUIRE(open_kv(url, NULL, 1, &ro, &rw) == 0);
    CHECK_EQ(O->migrate(ro, 1, &from, &to), SB_ENOENT);
    CHECK_EQ(from, 0);
    CHECK_EQ(to, 2);
    O->close(ro);
    REQUIRE(open_kv(url, NULL, 0, &kv, &w) == 0);
    CHECK_EQ(O->migrate(kv, 0, &from, &to), 0);
    CHECK_EQ(from, 0);
    CHECK_EQ(to, 2);
    CHECK_EQ(O->migrate(kv, 0, &from, &to), 0);
    CHECK_EQ(from, 2);
    CHECK_EQ(to, 2);
    CHECK_EQ(O->migrate(kv, 1, &from, &to), 0);
    CHECK_EQ(sql_int(schema, "SELECT value FROM sb_meta WHERE node = '' AND "
                     "key = 'schema_version'"), 2);
    CHECK_EQ(sql_int(schema, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON "
                     "n.oid = c.relnamespace WHERE n.nspname = current_schema() AND "
                     "c.relname IN ('sb_meta','sb_head','sb_chunk','sb_r15m','sb_r1h','sb_r1d',"
                     "'sb_r1mo','sb_model_point_ids','sb_model_doc','sb_node','sb_lease')"), 11);
    /* A version 1 database (before the cluster tables) is upgraded in place. */
    CHECK(sql_int(schema, "DROP TABLE sb_node, sb_lease") == 0);
    CHECK(sql_int(schema, "UPDATE sb_meta SET value = 1 WHERE key = 'schema_version'") == 1);
    CHECK_EQ(O->migrate(kv, 1, &from, &to), SB_ENOTSUP);   /* read-only: too old */
    CHECK_EQ(O->migrate(kv, 0, &from, &to), 0);
    CHECK_EQ(from, 1);
    CHECK_EQ(to, 2);
    CHECK_EQ(sql_int(schema, "SELECT count(*) FROM sb_lease"), 0);
    CHECK_EQ(sql_int(schema, "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON "
                     "c.oid = p.partrelid WHERE c.relname IN ('sb_chunk', 'sb_r15m') AND "
                     "c.relnamespace = current_schema()::regnamespace"), 2);
    CHECK_EQ(sql_int(schema, "SELECT count(*) FROM pg_indexes WHERE schemaname = "
                     "current_schema() AND indexdef LIKE '%USING brin (period)%'"), 2);
    /* A newer schema than this code: refused both ways. */
    CHECK(sql_int(schema, "UPDATE sb_meta SET value = 99 WHERE key = 'schema_version'") == 1);
    CHECK_EQ(O->migrate(kv, 0, &from, &to), SB_ENOTSUP);
    CHECK_EQ(from, 99);
    CHECK_EQ(O->migrate(kv, 1, &from, &to), SB_ENOTSUP);
    CHECK(sql_int(schema, "UPDATE sb_meta SET value = 2 WHERE key = 'schema_version'") == 1);

    struct sb_store_info info = { 0 };
    O->info(kv, &info);
    CHECK(strncmp(info.version, "PostgreSQL 1", 12) == 0);
    CHECK_EQ(info.partitioned, 1);
    CHECK_EQ(info.timescaledb, sb_kv_pg_timescale(kv));
    CHECK_EQ(info.timescaledb, sql_int(schema, "SELECT count(*) FROM pg_available_extensions "
                                       "WHERE name = 'timescaledb'"));
    printf("# %s, timescaledb %s\n", info.version, info.timescaledb ? "available" : "absent");
    CHECK_EQ(sql_int(schema, "SELECT count(*) FROM pg_stat_activity WHERE "
                     "application_name = 'sbems'"), 1);
    O->close(kv);
}

TEST(head_per_node)
{
    struct fx a;
    struct sb_kv *kb = NULL;
    struct sb_kv_conn *wb = NULL;
    struct rows r;
    int64_t sealed = -1, hmax = -1;
    char blob[16];

    REQUIRE(fx_open(&a, "a") == 0);
    REQUIRE(open_kv(a.url, "b", 0, &kb, &wb) == 0);
    CHECK_EQ(O->seqs(a.w, &sealed, &hmax), 0);
    CHECK_EQ(sealed, 0);
    CHECK_EQ(hmax, 0);
    for (int s = 1; s <= 5; s++) {
        snprintf(blob, sizeof(blob), "a%d", s);
        CHECK_EQ(O->head_put(a.w, s, blob, strlen(blob)), 0);
    }
    for (int s = 1; s <= 3; s++) {
        snprintf(blob, sizeof(blob), "b%d", s);
        CHECK_EQ(O->head_put(wb, s, blob, strlen(blob)), 0);
    }
    CHECK_EQ(O->head_put(a.w, 2, "a2bis", 5), 0);      /* a spooled batch put twice */
    CHECK_EQ(O->head_put(a.w, 6, "", 0), 0);           /* an empty blob is a blob */
    CHECK_EQ(sql_int(a.schema, "SELECT count(*) FROM sb_head"), 9);
    CHECK_EQ(O->head_scan(a.w, 0, collect, memset(&r, 0, sizeof(r))), 0);
    CHECK_EQ(r.n, 6);
    CHECK_EQ(r.key[0], 1);
    CHECK_EQ(r.key[5], 6);
    CHECK_STR(r.blob[1], "a2bis");
    CHECK_STR(r.blob[4], "a5");
    CHECK_EQ(r.len[5], 0);
    CHECK_EQ(O->head_scan(a.w, 4, collect, memset(&r, 0, sizeof(r))), 0);
    CHECK_EQ(r.n, 2);
    CHECK_EQ(r.key[0], 5);
    memset(&r, 0, sizeof(r));
    r.stop_after = 2;
    CHECK_EQ(O->head_scan(a.w, 0, collect, &r), 0);
    CHECK_EQ(r.n, 2);
    memset(&r, 0, sizeof(r));
    r.fail_after = 1;
    CHECK_EQ(O->head_scan(a.w, 0, collect, &r), SB_EINVAL);
    CHECK_EQ(O->head_scan(wb, 0, collect, memset(&r, 0, sizeof(r))), 0);
    CHECK_EQ(r.n, 3);
    CHECK_STR(r.blob[2], "b3");

    CHECK_EQ(O->begin(a.w), 0);
    CHECK_EQ(O->set_sealed(a.w, 4), 0);
    CHECK_EQ(O->head_trim(a.w, 4), 0);
    CHECK_EQ(O->commit(a.w), 0);
    CHECK_EQ(O->seqs(a.w, &sealed, &hmax), 0);
    CHECK_EQ(sealed, 4);
    CHECK_EQ(hmax, 6);
    CHECK_EQ(O->seqs(wb, &sealed, &hmax), 0);
    CHECK_EQ(sealed, 0);
    CHECK_EQ(hmax, 3);
    CHECK_EQ(O->head_scan(a.w, 0, collect, memset(&r, 0, sizeof(r))), 0);
    CHECK_EQ(r.n, 2);
    CHECK_EQ(r.key[0], 5);
    CHECK_EQ(O->head_scan(wb, 0, collect, memset(&r, 0, sizeof(r))), 0);
    CHECK_EQ(r.n, 3);
    /* Rolled back: neither the mark nor the trim. */
    CHECK_EQ(O->begin(wb), 0);
    CHECK_EQ(O->set_sealed(wb, 3), 0);
    CHECK_EQ(O->head_trim(wb, 3), 0);
    O->rollback(wb);
    CHECK_EQ(O->seqs(wb, &sealed, &hmax), 0);
    CHECK_EQ(sealed, 0);
    CHECK_EQ(hmax, 3);
    /* A node name left empty is "default". */
    O->close(kb);
    REQUIRE(open_kv(a.url, "", 0, &kb, &wb) == 0);
    CHECK_EQ(O->head_put(wb, 1, "d", 1), 0);
    CHECK_EQ(sql_int(a.schema, "SELECT count(*) FROM sb_head WHERE node = 'default'"), 1);
    /* A reader sees the writers' committed rows. */
    struct sb_kv_conn *rd = NULL;
    REQUIRE(O->conn_open(a.kv, &rd) == 0);
    CHECK_EQ(O->seqs(rd, &sealed, &hmax), 0);
    CHECK_EQ(sealed, 4);
    CHECK_EQ(hmax, 6);
    O->conn_close(rd);
    O->close(kb);
    O->close(a.kv);
}

TEST(rows_across_partitions)
{
    static const int64_t periods[] = { -1000, -33, -32, -1, 0, 31, 32, 20000 };
    struct fx f;
    struct rows r;
    char blob[16];

    REQUIRE(fx_open(&f, "n") == 0);
    CHECK_EQ(O->begin(f.w), 0);
    for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
        snprintf(blob, sizeof(blob), "c%lld", (long long)periods[i]);
        CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 7, periods[i], blob), 0);
    }
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 8, 0, "other"), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 7, 0, "c0bis"), 0);     /* replaces */
    /* Reads inside the transaction see its writes. */
    CHECK_EQ(scan(f.w, SB_KV_CHUNK, 7, 0, 0, 0, 0, &r), 0);
    CHECK_EQ(r.n, 1);
    CHECK_STR(r.blob[0], "c0bis");
    CHECK_EQ(O->commit(f.w), 0);
    /* Partitions of 32 days, each with the next one ahead: -1000 -> n32 (n31),
     * -33 -> n2 (n1), -32/-1 -> n1 (p0), 0/31 -> p0 (p1), 32 -> p1 (p2),
     * 20000 -> p625 (p626). */
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_%"), 9);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_n32"), 1);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_p626"), 1);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk_n1"), 2);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk_p0"), 3);

    struct sb_kv_conn *rd = NULL;
    REQUIRE(O->conn_open(f.kv, &rd) == 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, -1000000, 1000000, 0, 0, &r), 0);
    CHECK_EQ(r.n, 8);
    for (int i = 0; i < 8 && i < r.n; i++)
        CHECK_EQ(r.key[i], periods[i]);
    CHECK_STR(r.blob[0], "c-1000");
    CHECK_STR(r.blob[4], "c0bis");
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, -1000000, 1000000, 1, 0, &r), 0);
    CHECK_EQ(r.n, 8);
    CHECK_EQ(r.key[0], 20000);
    CHECK_EQ(r.key[7], -1000);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, -32, 31, 0, 0, &r), 0);   /* bounds included */
    CHECK_EQ(r.n, 4);
    CHECK_EQ(r.key[0], -32);
    CHECK_EQ(r.key[3], 31);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, INT64_MIN / 2, INT64_MAX / 2, 0, 3, &r), 0);
    CHECK_EQ(r.n, 3);
    CHECK_EQ(r.key[2], -32);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, -1000000, 100, 1, 2, &r), 0);
    CHECK_EQ(r.n, 2);
    CHECK_EQ(r.key[0], 32);
    CHECK_EQ(r.key[1], 31);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 8, -1000000, 1000000, 0, 0, &r), 0);
    CHECK_EQ(r.n, 1);
    CHECK_STR(r.blob[0], "other");
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 9, -1000000, 1000000, 0, 0, &r), 0);
    CHECK_EQ(r.n, 0);
    memset(&r, 0, sizeof(r));
    r.stop_after = 1;
    CHECK_EQ(O->scan(rd, SB_KV_CHUNK, 7, -1000000, 1000000, 0, 0, collect, &r), 0);
    CHECK_EQ(r.n, 1);
    memset(&r, 0, sizeof(r));
    r.fail_after = 2;
    CHECK_EQ(O->scan(rd, SB_KV_CHUNK, 7, -1000000, 1000000, 0, 0, collect, &r), SB_EINVAL);

    /* del, and a put rolled back with the partition it created. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(O->del(f.w, SB_KV_CHUNK, 7, -1), 0);
    CHECK_EQ(O->del(f.w, SB_KV_CHUNK, 7, 12345), 0);          /* no such row: fine */
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, -1, -1, 0, 0, &r), 0);
    CHECK_EQ(r.n, 0);
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 7, 100000, "far"), 0);
    O->rollback(f.w);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_p3125"), 0);
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 7, 100000, "far"), 0);  /* partition made again */
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 7, 100000, 100000, 0, 0, &r), 0);
    CHECK_EQ(r.n, 1);
    CHECK_STR(r.blob[0], "far");

    /* The other tables: r15m partitioned, the rest plain. */
    CHECK_EQ(O->begin(f.w), 0);
    for (int t = SB_KV_R15M; t < SB_KV_NTABLES; t++) {
        CHECK_EQ(put_s(f.w, (enum sb_kv_table)t, 7, -5, "x"), 0);
        CHECK_EQ(put_s(f.w, (enum sb_kv_table)t, 7, 500, "y"), 0);
        CHECK_EQ(put_s(f.w, (enum sb_kv_table)t, 1u << 24, 500, "z"), 0);  /* large id */
    }
    CHECK_EQ(O->del(f.w, SB_KV_R1D, 7, 500), 0);
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(nparts(f.schema, "sb_r15m", "sb\\_r15m\\_%"), 4);
    for (int t = SB_KV_R15M; t < SB_KV_NTABLES; t++) {
        int64_t n = -1;
        CHECK_EQ(scan(rd, (enum sb_kv_table)t, 7, -10, 1000, 0, 0, &r), 0);
        CHECK_EQ(r.n, t == SB_KV_R1D ? 1 : 2);
        CHECK_STR(r.blob[0], "x");
        CHECK_EQ(scan(rd, (enum sb_kv_table)t, 1u << 24, -10, 1000, 0, 0, &r), 0);
        CHECK_EQ(r.n, 1);
        CHECK_EQ(O->count(rd, (enum sb_kv_table)t, &n), 0);
        CHECK_EQ(n, t == SB_KV_R1D ? 2 : 3);
    }
    int64_t n = -1, bytes = -1;
    CHECK_EQ(O->count(rd, SB_KV_CHUNK, &n), 0);
    CHECK_EQ(n, 9);
    CHECK_EQ(O->bytes(f.kv, rd, &bytes), 0);
    CHECK(bytes > 8192 * 10);    /* every partition and table, with indexes */
    CHECK_EQ(bytes, sql_int(f.schema, "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class "
                            "c WHERE c.relnamespace = current_schema()::regnamespace AND "
                            "c.relkind = 'r'"));
    O->conn_close(rd);
    O->close(f.kv);
}

TEST(delete_before_drops_partitions)
{
    static const int64_t periods[] = { -1000, -40, -33, -32, 5, 33, 40, 70 };
    struct fx f;
    struct rows r;
    int64_t removed = -1;

    REQUIRE(fx_open(&f, "n") == 0);
    CHECK_EQ(O->begin(f.w), 0);
    for (size_t i = 0; i < sizeof(periods) / sizeof(periods[0]); i++) {
        CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, periods[i], "c"), 0);
        CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 2, periods[i], "c"), 0);
        CHECK_EQ(put_s(f.w, SB_KV_R1D, 1, periods[i], "d"), 0);
    }
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk"), 16);
    /* n32 n31 n2 n1 p0 p1 p2 p3 */
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_%"), 8);

    /* Below 36: n32, n31, n2, n1 and p0 go whole (5 rows per point); p1
     * [32, 64) keeps 40 and loses 33 (one row per point). */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(O->delete_before(f.w, SB_KV_CHUNK, 36, &removed), 0);
    CHECK_EQ(removed, 12);
    CHECK_EQ(O->delete_before(f.w, SB_KV_R1D, 36, &removed), 0);
    CHECK_EQ(removed, 6);
    CHECK_EQ(O->delete_before(f.w, SB_KV_R15M, 36, &removed), 0);   /* empty: fine */
    CHECK_EQ(removed, 0);
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk"), 4);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_r1d"), 2);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_%"), 3);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_n%"), 0);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_p0"), 0);
    CHECK_EQ(scan(f.w, SB_KV_CHUNK, 1, -2000, 2000, 0, 0, &r), 0);
    CHECK_EQ(r.n, 2);
    CHECK_EQ(r.key[0], 40);
    CHECK_EQ(r.key[1], 70);

    /* Again: nothing left below 36. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(O->delete_before(f.w, SB_KV_CHUNK, 36, &removed), 0);
    CHECK_EQ(removed, 0);
    CHECK_EQ(O->commit(f.w), 0);

    /* Late data into a dropped partition: made again. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 5, "late"), 0);
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(nparts(f.schema, "sb_chunk", "sb\\_chunk\\_p0"), 1);

    /* Rolled back retention keeps everything, partitions included. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(O->delete_before(f.w, SB_KV_CHUNK, 1000, &removed), 0);
    CHECK_EQ(removed, 5);
    O->rollback(f.w);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk"), 5);
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 6, "late2"), 0);     /* cache forgot nothing wrong */
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_chunk"), 6);
    O->close(f.kv);
}

/* A site document with points named by slugs[] (NULL-terminated). */
static int model_of(const char *const *slugs, struct sb_model *m)
{
    char doc[4096];
    size_t n = (size_t)snprintf(doc, sizeof(doc),
        "{\"format\":\"sbems-site\",\"version\":1,"
        "\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
        "\"buildings\":[{\"id\":\"b\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
        "\"zones\":[{\"id\":\"z\",\"building\":\"b\",\"name\":\"Z\"}],"
        "\"equipment\":[{\"id\":\"m\",\"building\":\"b\",\"name\":\"M\",\"type\":\"meter\"}],"
        "\"points\":[");
    for (int i = 0; slugs[i]; i++)
        n += (size_t)snprintf(doc + n, sizeof(doc) - n,
                              "%s{\"id\":\"%s\",\"equipment\":\"m\",\"name\":\"P%d\","
                              "\"kind\":\"energy\",\"unit\":\"kWh\"}", i ? "," : "", slugs[i], i);
    snprintf(doc + n, sizeof(doc) - n, "]}");
    sb_model_init(m);
    return sb_model_from_json_text(doc, strlen(doc), m, NULL);
}

static uint32_t id_of(const struct sb_model *m, const char *slug)
{
    const struct sb_point *p = sb_model_point(m, slug);
    return p ? p->id : 0;
}

/* Saves m through the writer (in a transaction, as the engine does). */
static int save(struct fx *f, const struct sb_model *m)
{
    int rc = O->begin(f->w);
    if (rc == 0 && (rc = O->model_save(f->w, m)) == 0)
        return O->commit(f->w);
    O->rollback(f->w);
    return rc;
}

TEST(model_round_trip_and_ids)
{
    static const char *const s1[] = { "m.a", "m.b", "m.c", NULL };
    static const char *const s2[] = { "m.c", "m.d", NULL };
    static const char *const s3[] = { "m.a", "m.d", "m.e", NULL };
    struct sb_model a, b, c, got;
    struct sb_kv_conn *rd = NULL;
    struct fx f;
    char *ta = NULL, *tg = NULL;

    REQUIRE(fx_open(&f, "n") == 0);
    REQUIRE(O->conn_open(f.kv, &rd) == 0);
    /* Nothing saved yet: the empty model. */
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), 0);
    CHECK_EQ(got.npoints, 0);
    CHECK_EQ(got.nsites, 0);
    CHECK(got.idx != NULL);                                /* validated */
    CHECK(sb_model_point(&got, "m.a") == NULL);
    sb_model_release(&got);

    REQUIRE(model_of(s1, &a) == 0);
    REQUIRE(model_of(s2, &b) == 0);
    REQUIRE(model_of(s3, &c) == 0);
    CHECK_EQ(save(&f, &a), 0);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), 0);
    CHECK_EQ(got.npoints, 3);
    CHECK_EQ(id_of(&got, "m.a"), 1);
    CHECK_EQ(id_of(&got, "m.b"), 2);
    CHECK_EQ(id_of(&got, "m.c"), 3);
    CHECK(sb_model_point_by_id(&got, 2) == sb_model_point(&got, "m.b"));   /* id index */
    CHECK_EQ(sb_model_to_json_text(&a, &ta), 0);
    CHECK_EQ(sb_model_to_json_text(&got, &tg), 0);
    CHECK_STR(tg, ta);                                     /* the document, byte for byte */
    free(ta);
    free(tg);
    sb_model_release(&got);

    /* m.c keeps 3, m.d is new: 4 (ids are never reused). */
    CHECK_EQ(save(&f, &b), 0);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), 0);
    CHECK_EQ(got.npoints, 2);
    CHECK_EQ(id_of(&got, "m.c"), 3);
    CHECK_EQ(id_of(&got, "m.d"), 4);
    sb_model_release(&got);
    /* m.a comes back with its old id; m.e gets 5. */
    CHECK_EQ(save(&f, &c), 0);
    CHECK_EQ(save(&f, &c), 0);                             /* idempotent */
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), 0);
    CHECK_EQ(id_of(&got, "m.a"), 1);
    CHECK_EQ(id_of(&got, "m.d"), 4);
    CHECK_EQ(id_of(&got, "m.e"), 5);
    CHECK(sb_model_point_by_id(&got, 5) == sb_model_point(&got, "m.e"));
    sb_model_release(&got);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_model_point_ids"), 5);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_model_doc"), 1);

    /* A failed save leaves the stored model as it was. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(O->model_save(f.w, &a), 0);
    O->rollback(f.w);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), 0);
    CHECK_EQ(got.npoints, 3);
    CHECK(sb_model_point(&got, "m.b") == NULL);
    sb_model_release(&got);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_model_point_ids"), 5);

    /* Stored rows that do not validate: SB_ECORRUPT, m left empty. */
    CHECK(sql_int(f.schema, "UPDATE sb_model_doc SET doc = '{\"format\": 1'") == 1);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), SB_ECORRUPT);
    CHECK_EQ(got.npoints, 0);
    sb_model_release(&got);
    CHECK_EQ(save(&f, &c), 0);
    CHECK(sql_int(f.schema, "DELETE FROM sb_model_point_ids WHERE slug = 'm.e'") == 1);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), SB_ECORRUPT);       /* a point with no id */
    sb_model_release(&got);
    CHECK(sql_int(f.schema, "INSERT INTO sb_model_point_ids VALUES (16777216, 'm.e')") == 1);
    sb_model_init(&got);
    CHECK_EQ(O->model_load(rd, &got), SB_ECORRUPT);       /* id out of range */
    sb_model_release(&got);

    sb_model_release(&a);
    sb_model_release(&b);
    sb_model_release(&c);
    O->conn_close(rd);
    O->close(f.kv);
}

TEST(readonly_refuses_writes)
{
    struct fx f;
    struct sb_kv *kv = NULL;
    struct sb_kv_conn *w = NULL, *rd = NULL;
    struct rows r;
    int from = -1, to = -1;

    REQUIRE(fx_open(&f, "n") == 0);
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 1, "c"), 0);
    CHECK_EQ(O->commit(f.w), 0);
    REQUIRE(open_kv(f.url, "n", 1, &kv, &w) == 0);
    CHECK_EQ(O->migrate(kv, 1, &from, &to), 0);
    CHECK_EQ(O->migrate(kv, 0, &from, &to), 0);        /* current: nothing to write */
    CHECK_EQ(O->head_put(w, 1, "x", 1), SB_ESTORE);
    CHECK_EQ(O->begin(w), 0);
    CHECK_EQ(put_s(w, SB_KV_CHUNK, 1, 2, "c"), SB_ESTORE);
    O->rollback(w);
    CHECK_EQ(O->begin(w), 0);
    CHECK_EQ(put_s(w, SB_KV_R1H, 1, 2, "c"), SB_ESTORE);
    CHECK_EQ(O->commit(w), SB_ESTORE);                 /* the failed transaction */
    CHECK_EQ(scan(w, SB_KV_CHUNK, 1, 0, 10, 0, 0, &r), 0);
    CHECK_EQ(r.n, 1);
    REQUIRE(O->conn_open(kv, &rd) == 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, &r), 0);
    CHECK_EQ(r.n, 1);
    O->close(kv);                                      /* closes rd too */
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_head"), 0);
    CHECK_EQ(sql_int(f.schema, "SELECT count(*) FROM sb_r1h"), 0);
    /* Readers of a writable store are read-only too. */
    REQUIRE(O->conn_open(f.kv, &rd) == 0);
    CHECK_EQ(O->head_put(rd, 9, "x", 1), SB_ESTORE);
    O->conn_close(rd);
    O->close(f.kv);
}

/* Ends every sbems session of the server (the test's own are not "sbems"). */
static long long kill_sessions(const char *schema)
{
    return sql_int(schema, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE application_name = 'sbems'");
}

TEST(reconnect_after_lost_connection)
{
    struct fx f;
    struct sb_kv_conn *rd = NULL;
    struct rows r;
    int64_t sealed, hmax;

    REQUIRE(fx_open(&f, "n") == 0);
    REQUIRE(O->conn_open(f.kv, &rd) == 0);
    CHECK_EQ(O->head_put(f.w, 1, "h1", 2), 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, &r), 0);
    CHECK_EQ(kill_sessions(f.schema), 2);
    usleep(100000);
    /* Outside a transaction: reset, prepared again, retried. */
    CHECK_EQ(O->head_put(f.w, 2, "h2", 2), 0);
    CHECK_EQ(O->seqs(rd, &sealed, &hmax), 0);
    CHECK_EQ(hmax, 2);
    /* Inside one: the transaction is lost, the caller hears it and retries. */
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 3, "a"), 0);
    CHECK_EQ(kill_sessions(f.schema), 2);
    usleep(100000);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 4, "b"), SB_ESTORE);
    O->rollback(f.w);
    CHECK_EQ(O->begin(f.w), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 3, "a"), 0);
    CHECK_EQ(put_s(f.w, SB_KV_CHUNK, 1, 4, "b"), 0);
    CHECK_EQ(O->commit(f.w), 0);
    CHECK_EQ(scan(rd, SB_KV_CHUNK, 1, 0, 10, 0, 0, &r), 0);   /* reader: reset too */
    CHECK_EQ(r.n, 2);
    /* Read-only after the reset as before it. */
    CHECK_EQ(O->head_put(rd, 9, "x", 1), SB_ESTORE);
    O->close(f.kv);
}

int main(void)
{
    TAP_START();
    base = getenv("SBEMS_TEST_PG_URL");
    if (!base || !*base) {
        printf("1..0 # SKIP SBEMS_TEST_PG_URL unset (tests/pg/pg-run starts a server)\n");
        return 0;
    }
    RUN(ops_table);
    RUN(connect_failure_hides_password);
    RUN(migrate_idempotent_and_info);
    RUN(head_per_node);
    RUN(rows_across_partitions);
    RUN(delete_before_drops_partitions);
    RUN(model_round_trip_and_ids);
    RUN(readonly_refuses_writes);
    RUN(reconnect_after_lost_connection);
    TAP_END();
}

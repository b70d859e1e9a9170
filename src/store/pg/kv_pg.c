/*
 * kv_pg.c - the store's kv layer (store/engine/kv.h) on PostgreSQL, through
 * libpq.  docs/internals/store-postgres.md describes the design.
 *
 * Tables (in the connection's search_path; schema version in sb_meta):
 *   sb_meta(node, key, value)          schema_version (node ''), each node's
 *                                      sealed_seq
 *   sb_head(node, seq, data)           durable batches not yet sealed, one row
 *                                      per batch, never per reading
 *   sb_chunk, sb_r15m (point, period, data)
 *                                      partitioned by range of period, 32 UTC
 *                                      days per partition (sb_chunk_p<i> for
 *                                      i >= 0, sb_chunk_n<-i> below), created
 *                                      ahead of the writes that need them and
 *                                      dropped whole by retention
 *   sb_r1h, sb_r1d, sb_r1mo (point, period, data)   plain tables
 *   sb_model_point_ids, sb_model_doc   the building model (pg_model.c)
 * Point ids fit an integer (SB_POINT_ID_MAX is 2^24 - 1); periods are within
 * +/- 2^20 (engine_int.h), so both are int4 columns.
 *
 * The writer's connection keeps synchronous_commit on, so a head_put that
 * returned has reached the server's WAL on disk (with the server's fsync on).
 * cfg->sync_full has nothing to choose here: durability is the server's.
 *
 * Every call waits for the server at most deadline_ms (pg_conn.h): a relay
 * that goes silent fails the statement with SB_ETIMEDOUT, and the engine
 * spools, instead of holding the writer for ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/pg/pg.h"
#include "store/pg/pg_conn.h"
#include "store/pg/pg_int.h"
#include "store/store.h"

/* The longest wait for one answer when the session has no statement_timeout
 * (the URL may set one: the deadline then follows it).  As long as the
 * connection's tcp_user_timeout: a seal's statements, a retention's count
 * of one partition and a replay's scan take seconds, not a minute. */
#define KV_DEADLINE_MS 60000

static const char *const tables[SB_KV_NTABLES] = {
    "sb_chunk", "sb_r15m", "sb_r1h", "sb_r1d", "sb_r1mo"
};

static int parted(enum sb_kv_table t)
{
    return t == SB_KV_CHUNK || t == SB_KV_R15M;
}

/* ---- errors and statements ---------------------------------------------- */

/* Logs the server's message (libpq never puts the password in it) and maps
 * the SQLSTATE to an SB_E* code. */
static int pgerr(struct sb_kv_conn *c, const PGresult *r, const char *what)
{
    const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    if (primary) {
        SB_ERR("store", "postgres: %s: %s (SQLSTATE %s)%s%s", what, primary,
               state ? state : "?", detail ? ": " : "", detail ? detail : "");
    } else {
        /* libpq's own message (connection failures): its first line. */
        const char *msg = PQerrorMessage(c->pg);
        SB_ERR("store", "postgres: %s: %.*s", what, (int)strcspn(msg, "\n"), msg);
    }
    if (state && strncmp(state, "53100", 5) == 0)
        return SB_ENOSPC;      /* disk_full, as SQLite's SQLITE_FULL */
    if (state && (strcmp(state, "XX001") == 0 || strcmp(state, "XX002") == 0))
        return SB_ECORRUPT;    /* data_corrupted, index_corrupted */
    return SB_ESTORE;
}

/* No answer by the deadline: the connection is dropped (pg_conn.c) and the
 * next statement makes a new one.  Host and port only, never the URL. */
static int timed_out(struct sb_kv_conn *c, const char *what)
{
    SB_ERR("store", "postgres: %s: no answer from %s:%s within %lld ms: connection dropped, "
           "the statement may or may not have run", what, PQhost(c->pg), PQport(c->pg),
           (long long)c->deadline_ms);
    return SB_ETIMEDOUT;
}

/* Server notices (NOTICE, WARNING) go to the log, not to stderr. */
static void notice(void *arg, const char *msg)
{
    SB_DEBUG("store", "postgres: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* The statements that name no table of enum sb_kv_table, from SB_PGQ_HEAD_PUT on. */
static const char *const fixed_sql[SB_PGQ_N - SB_PGQ_HEAD_PUT] = {
    [SB_PGQ_HEAD_PUT - SB_PGQ_HEAD_PUT] =
        "INSERT INTO sb_head(node, seq, data) VALUES($1::text, $2::int8, $3::bytea) "
        "ON CONFLICT (node, seq) DO UPDATE SET data = EXCLUDED.data",
    [SB_PGQ_HEAD_TRIM - SB_PGQ_HEAD_PUT] =
        "DELETE FROM sb_head WHERE node = $1::text AND seq <= $2::int8",
    [SB_PGQ_HEAD_SCAN - SB_PGQ_HEAD_PUT] =
        "SELECT seq, data FROM sb_head WHERE node = $1::text AND seq > $2::int8 "
        "ORDER BY seq",
    [SB_PGQ_SEQS - SB_PGQ_HEAD_PUT] =
        "SELECT (SELECT value FROM sb_meta WHERE node = $1::text AND key = 'sealed_seq'),"
        " (SELECT max(seq) FROM sb_head WHERE node = $1::text)",
    [SB_PGQ_SET_SEALED - SB_PGQ_HEAD_PUT] =
        "INSERT INTO sb_meta(node, key, value) VALUES($1::text, 'sealed_seq', $2::int8) "
        "ON CONFLICT (node, key) DO UPDATE SET value = EXCLUDED.value",
    [SB_PGQ_VERSION - SB_PGQ_HEAD_PUT] =
        "SELECT value FROM sb_meta WHERE node = '' AND key = 'schema_version'",
    [SB_PGQ_PART_LIST - SB_PGQ_HEAD_PUT] =
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = to_regclass($1::text)",
    [SB_PGQ_PART_EXISTS - SB_PGQ_HEAD_PUT] =
        "SELECT to_regclass($1::text) IS NOT NULL",
    /* Partitions are relkind 'r' named sb_<table>_...; a partitioned
     * parent has no storage of its own. */
    [SB_PGQ_BYTES - SB_PGQ_HEAD_PUT] =
        "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0)::int8 FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        " AND c.relname LIKE 'sb\\_%'",
    [SB_PGQ_REG_ALL - SB_PGQ_HEAD_PUT] =
        "SELECT id, slug FROM sb_model_point_ids",
    [SB_PGQ_REG_INS - SB_PGQ_HEAD_PUT] =
        "INSERT INTO sb_model_point_ids(id, slug) VALUES($1::int4, $2::text)",
    [SB_PGQ_DOC_GET - SB_PGQ_HEAD_PUT] =
        "SELECT doc FROM sb_model_doc WHERE k = 1",
    [SB_PGQ_LOCK_POINTS - SB_PGQ_HEAD_PUT] =
        "SELECT count(pg_advisory_xact_lock(7305, x)) FROM "
        "(SELECT unnest($1::int4[]) AS x ORDER BY 1) s",
    [SB_PGQ_DOC_PUT - SB_PGQ_HEAD_PUT] =
        "INSERT INTO sb_model_doc(k, doc) VALUES(1, $1::text) "
        "ON CONFLICT (k) DO UPDATE SET doc = EXCLUDED.doc",
};

/* The SQL of statement q (fixed table names only: values are parameters). */
static void stmt_sql(int q, char *sql, size_t cap)
{
    const char *t = tables[q % SB_KV_NTABLES];

    if (q < SB_PGQ_SCAN_DESC)
        snprintf(sql, cap, "SELECT period, data FROM %s WHERE point = $1::int4 AND period "
                 "BETWEEN $2::int4 AND $3::int4 ORDER BY period LIMIT $4::int8", t);
    else if (q < SB_PGQ_PUT)
        snprintf(sql, cap, "SELECT period, data FROM %s WHERE point = $1::int4 AND period "
                 "BETWEEN $2::int4 AND $3::int4 ORDER BY period DESC LIMIT $4::int8", t);
    else if (q < SB_PGQ_DEL)
        snprintf(sql, cap, "INSERT INTO %s(point, period, data) VALUES($1::int4, $2::int4, "
                 "$3::bytea) ON CONFLICT (point, period) DO UPDATE SET data = EXCLUDED.data", t);
    else if (q < SB_PGQ_DEL_BEFORE)
        snprintf(sql, cap, "DELETE FROM %s WHERE point = $1::int4 AND period = $2::int4", t);
    else if (q < SB_PGQ_COUNT_RANGE)
        snprintf(sql, cap, "DELETE FROM %s WHERE period < $1::int4", t);
    else if (q < SB_PGQ_COUNT)
        snprintf(sql, cap, "SELECT count(*) FROM %s WHERE period >= $1::int4 AND "
                 "period < $2::int4", t);
    else if (q < SB_PGQ_HEAD_PUT)
        snprintf(sql, cap, "SELECT count(*) FROM %s", t);
    else
        snprintf(sql, cap, "%s", fixed_sql[q - SB_PGQ_HEAD_PUT]);
}

static int prepare(struct sb_kv_conn *c, int q)
{
    char sql[400], name[16];

    if (c->prepared[q])
        return 0;
    stmt_sql(q, sql, sizeof(sql));
    snprintf(name, sizeof(name), "sb%d", q);
    PGresult *r = NULL;
    int rc = sb_pg_prepare(c->pg, name, sql, c->deadline_ms, &r);
    if (rc == SB_ETIMEDOUT)
        return timed_out(c, "prepare");
    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pgerr(c, r, "prepare");
    PQclear(r);
    c->prepared[q] = rc == 0;
    return rc;
}

/* Per-session settings, after connect and after a reset; then the
 * deadline, from this session's statement_timeout. */
static int session_setup(struct sb_kv_conn *c)
{
    struct sb_kv *kv = c->kv;
    char sql[200];
    PGresult *r = NULL;

    /* A head row must be on the server's disk when head_put returns, even if
     * the server's default is off; readers never write. */
    snprintf(sql, sizeof(sql), "SET synchronous_commit = on%s",
             kv->readonly || !c->writer ? "; SET default_transaction_read_only = on" : "");
    int rc = sb_pg_exec(c->pg, sql, c->deadline_ms, &r);
    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = pgerr(c, r, "session settings");
    PQclear(r);
    if (rc == 0 && (rc = sb_pg_session_deadline(c->pg, KV_DEADLINE_MS, &c->deadline_ms)) &&
        rc != SB_ETIMEDOUT)
        rc = pgerr(c, NULL, "session settings");
    return rc == SB_ETIMEDOUT ? timed_out(c, "session settings") : rc;
}

/* The connection is gone: reset it once (same conninfo), forget what was
 * prepared on the old session. */
static int reconnect(struct sb_kv_conn *c)
{
    SB_WARN("store", "postgres: connection lost, reconnecting");
    memset(c->prepared, 0, sizeof(c->prepared));
    c->in_tx = 0;
    PQreset(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        pgerr(c, NULL, "reconnect");
        return SB_ESTORE;
    }
    return session_setup(c);
}

static int ok_status(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* One attempt of q (q < 0: the constant sql). */
static int attempt(struct sb_kv_conn *c, int q, const char *sql, const struct sb_pg_params *p,
                   PGresult **out, const char *what)
{
    char name[16];
    PGresult *r = NULL;
    int rc;

    if (q >= 0) {
        if ((rc = prepare(c, q)))
            return rc;
        snprintf(name, sizeof(name), "sb%d", q);
        rc = sb_pg_exec_prepared(c->pg, name, p ? p->n : 0, p ? p->v : NULL,
                                 p ? p->len : NULL, p ? p->fmt : NULL, 1, c->deadline_ms, &r);
    } else {
        rc = sb_pg_exec(c->pg, sql, c->deadline_ms, &r);
    }
    if (rc == SB_ETIMEDOUT)
        return timed_out(c, what);
    if (rc)
        return rc;
    if (!ok_status(r)) {
        rc = pgerr(c, r, what);
        PQclear(r);
        return rc;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return 0;
}

static int run(struct sb_kv_conn *c, int q, const char *sql, const struct sb_pg_params *p,
               PGresult **out, const char *what)
{
    /* Dropped since the last statement (a deadline passed, a commit found
     * it gone): a new session first; a transaction went with the old one. */
    if (PQstatus(c->pg) != CONNECTION_OK) {
        int in_tx = c->in_tx;
        if (reconnect(c) || in_tx)
            return SB_ESTORE;
    }
    int rc = attempt(c, q, sql, p, out, what);

    /* A timeout is not retried: the path that went silent would hold the
     * writer as long again (the next statement reconnects). */
    if (rc == 0 || rc == SB_ETIMEDOUT || PQstatus(c->pg) == CONNECTION_OK)
        return rc;
    /* Inside a transaction the earlier statements died with the session: the
     * caller rolls back and starts over.  Alone, the statement runs again
     * (every statement here may run twice: puts replace, deletes repeat). */
    int in_tx = c->in_tx;
    if (reconnect(c) || in_tx)
        return SB_ESTORE;
    return attempt(c, q, sql, p, out, what);
}

int sb_pg__run(struct sb_kv_conn *c, int q, const struct sb_pg_params *p, PGresult **out,
               const char *what)
{
    return run(c, q, NULL, p, out, what);
}

int sb_pg__exec(struct sb_kv_conn *c, const char *sql, const char *what)
{
    return run(c, -1, sql, NULL, NULL, what);
}

void sb_pg__end_quietly(struct sb_kv_conn *c, const char *sql)
{
    PGresult *r = NULL;

    if (PQstatus(c->pg) == CONNECTION_OK &&
        sb_pg_exec(c->pg, sql, c->deadline_ms, &r) == SB_ETIMEDOUT)
        timed_out(c, sql);
    PQclear(r);
}

/* ---- connections -------------------------------------------------------- */

static int conn_connect(struct sb_kv *kv, struct sb_kv_conn *c, int writer)
{
    /* A server that stops answering must not hold the writer for the
     * kernel's TCP timeouts (minutes): connecting gives up after 10 s,
     * keepalives find a dead peer in about a minute, and unacknowledged
     * writes fail after 60 s - then the engine spools. */
    static const struct sb_pg_timeouts to = { 10, 30, 10, 3, 60000 };

    c->kv = kv;
    c->writer = writer;
    c->deadline_ms = KV_DEADLINE_MS;
    c->pg = sb_pg_connect(kv->url, "sbems", &to);
    if (!c->pg)
        return SB_ENOMEM;
    PQsetNoticeProcessor(c->pg, notice, NULL);   /* kept across PQreset */
    if (PQstatus(c->pg) != CONNECTION_OK) {
        pgerr(c, NULL, "connect");
        return SB_ESTORE;
    }
    return session_setup(c);
}

static void conn_release(struct sb_kv_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
}

static void kv_close(struct sb_kv *kv)
{
    if (!kv)
        return;
    for (int i = 0; i < kv->nrd; i++) {
        conn_release(kv->rd[i]);
        free(kv->rd[i]);
    }
    free(kv->rd);
    conn_release(&kv->w);
    free(kv->url);
    free(kv->node);
    free(kv);
}

/* What the server is and offers: version string, timescaledb. */
static void probe(struct sb_kv *kv)
{
    const char *v = PQparameterStatus(kv->w.pg, "server_version");
    size_t n = v ? strcspn(v, " ") : 0;

    snprintf(kv->version, sizeof(kv->version), "PostgreSQL %.*s", v ? (int)n : 1, v ? v : "?");
    PGresult *r = NULL;
    int rc = sb_pg_exec(kv->w.pg, "SELECT 1 FROM pg_available_extensions "
                        "WHERE name = 'timescaledb'", kv->w.deadline_ms, &r);
    if (rc == SB_ETIMEDOUT)
        timed_out(&kv->w, "extensions");     /* migrate reconnects, or fails */
    kv->timescale = rc == 0 && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    if (kv->timescale)
        SB_INFO("store", "postgres: the timescaledb extension is available (not used)");
}

static int kv_open(const struct sb_store_cfg *cfg, struct sb_kv **out, struct sb_kv_conn **w)
{
    struct sb_kv *kv = calloc(1, sizeof(*kv));
    const char *node = cfg->node && *cfg->node ? cfg->node : "default";
    int rc;

    *out = NULL;
    *w = NULL;
    if (!kv)
        return SB_ENOMEM;
    kv->url = strdup(cfg->url ? cfg->url : "");
    kv->node = strdup(node);
    kv->readonly = cfg->readonly;
    if (!kv->url || !kv->node) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = conn_connect(kv, &kv->w, 1)))
        goto out;
    probe(kv);
    *out = kv;
    *w = &kv->w;
out:
    if (rc)
        kv_close(kv);
    return rc;
}

static int kv_conn_open(struct sb_kv *kv, struct sb_kv_conn **out)
{
    struct sb_kv_conn *c;
    int rc;

    *out = NULL;
    if (kv->nrd == kv->caprd) {
        int cap = kv->caprd ? kv->caprd * 2 : 4;
        struct sb_kv_conn **nrd = realloc(kv->rd, (size_t)cap * sizeof(*nrd));
        if (!nrd)
            return SB_ENOMEM;
        kv->rd = nrd;
        kv->caprd = cap;
    }
    if (!(c = calloc(1, sizeof(*c))))
        return SB_ENOMEM;
    if ((rc = conn_connect(kv, c, 0))) {
        conn_release(c);
        free(c);
        return rc;
    }
    kv->rd[kv->nrd++] = c;
    *out = c;
    return 0;
}

static void kv_conn_close(struct sb_kv_conn *c)
{
    struct sb_kv *kv = c->kv;

    for (int i = 0; i < kv->nrd; i++) {
        if (kv->rd[i] == c) {
            kv->rd[i] = kv->rd[--kv->nrd];
            conn_release(c);
            free(c);
            return;
        }
    }
}

/* ---- schema ------------------------------------------------------------- */

/* Version 1.  Partitions of sb_chunk / sb_r15m come later, on demand. */
static const char *const schema_v1 =
    "CREATE TABLE IF NOT EXISTS sb_meta(node text NOT NULL, key text NOT NULL, value bigint,"
    " PRIMARY KEY(node, key));"
    "CREATE TABLE IF NOT EXISTS sb_head(node text NOT NULL, seq bigint NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(node, seq));"
    "CREATE TABLE IF NOT EXISTS sb_chunk(point integer NOT NULL, period integer NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(point, period)) PARTITION BY RANGE (period);"
    "CREATE INDEX IF NOT EXISTS sb_chunk_period_brin ON sb_chunk USING brin(period);"
    "CREATE TABLE IF NOT EXISTS sb_r15m(point integer NOT NULL, period integer NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(point, period)) PARTITION BY RANGE (period);"
    "CREATE INDEX IF NOT EXISTS sb_r15m_period_brin ON sb_r15m USING brin(period);"
    "CREATE TABLE IF NOT EXISTS sb_r1h(point integer NOT NULL, period integer NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(point, period));"
    "CREATE TABLE IF NOT EXISTS sb_r1d(point integer NOT NULL, period integer NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(point, period));"
    "CREATE TABLE IF NOT EXISTS sb_r1mo(point integer NOT NULL, period integer NOT NULL,"
    " data bytea NOT NULL, PRIMARY KEY(point, period));"
    "CREATE TABLE IF NOT EXISTS sb_model_point_ids(id integer PRIMARY KEY CHECK (id > 0),"
    " slug text UNIQUE NOT NULL);"
    "CREATE TABLE IF NOT EXISTS sb_model_doc(k integer PRIMARY KEY, doc text NOT NULL);";

/* Version 2: the nodes of a cluster and their device leases
 * (cluster/lease.c, docs/internals/cluster-leases.md).  A node's row lives
 * while it renews it; a lease names its holder ('' = free) until expires;
 * epoch counts hand-overs (a fencing number). */
static const char *const schema_v2 =
    "CREATE TABLE IF NOT EXISTS sb_node(node text PRIMARY KEY, expires timestamptz NOT NULL,"
    " started timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS sb_lease(device text PRIMARY KEY, node text NOT NULL DEFAULT '',"
    " expires timestamptz NOT NULL DEFAULT now(), epoch bigint NOT NULL DEFAULT 0,"
    " since timestamptz NOT NULL DEFAULT now());"
    "CREATE INDEX IF NOT EXISTS sb_lease_node ON sb_lease(node);";

/* The stored schema version, 0 when there is none. */
static int schema_version(struct sb_kv_conn *c, int *v)
{
    struct sb_pg_params p = { 0 };
    PGresult *r = NULL;
    int rc;

    *v = 0;
    sb_pg__p_text(&p, "sb_meta");
    if ((rc = sb_pg__run(c, SB_PGQ_PART_EXISTS, &p, &r, "schema version")))
        return rc;
    int exists = PQntuples(r) == 1 && sb_pg__get_int(r, 0, 0);
    PQclear(r);
    if (!exists)
        return 0;
    if ((rc = sb_pg__run(c, SB_PGQ_VERSION, NULL, &r, "schema version")))
        return rc;
    if (PQntuples(r) == 1)
        *v = (int)sb_pg__get_int(r, 0, 0);
    PQclear(r);
    return 0;
}

static int migrate_tx(struct sb_kv_conn *c, int *v)
{
    char sql[160];
    int rc;

    /* One migration at a time across nodes; the lock ends with the
     * transaction.  The version is read again under it. */
    if ((rc = sb_pg__exec(c, "SELECT pg_advisory_xact_lock(7305186514)", "migrate")) ||
        (rc = schema_version(c, v)))
        return rc;
    if (*v > SB_PG_SCHEMA_VERSION)
        return SB_ENOTSUP;
    if (*v < 1 && (rc = sb_pg__exec(c, schema_v1, "migrate to 1")))
        return rc;
    if (*v < 2 && (rc = sb_pg__exec(c, schema_v2, "migrate to 2")))
        return rc;
    snprintf(sql, sizeof(sql), "INSERT INTO sb_meta(node, key, value) VALUES('', "
             "'schema_version', %d) ON CONFLICT (node, key) DO UPDATE SET value = "
             "EXCLUDED.value", SB_PG_SCHEMA_VERSION);
    return sb_pg__exec(c, sql, "migrate");
}

static int kv_migrate(struct sb_kv *kv, int readonly, int *from, int *to)
{
    struct sb_kv_conn *c = &kv->w;
    int v = 0, rc;

    if (to)
        *to = SB_PG_SCHEMA_VERSION;
    if ((rc = schema_version(c, &v)))
        return rc;
    if (from)
        *from = v;
    if (v > SB_PG_SCHEMA_VERSION) {
        SB_ERR("store", "postgres: schema %d, newer than this sbems (%d)", v,
               SB_PG_SCHEMA_VERSION);
        return SB_ENOTSUP;
    }
    if (readonly || kv->readonly) {
        if (v == SB_PG_SCHEMA_VERSION)
            return 0;
        SB_ERR("store", "postgres: schema %d, expected %d (run sbems migrate)", v,
               SB_PG_SCHEMA_VERSION);
        return v == 0 ? SB_ENOENT : SB_ENOTSUP;
    }
    if (v == SB_PG_SCHEMA_VERSION)
        return 0;
    if ((rc = sb_pg__exec(c, "BEGIN", "migrate")))
        return rc;
    c->in_tx = 1;
    rc = migrate_tx(c, &v);
    c->in_tx = 0;
    if (rc == 0)
        rc = sb_pg__exec(c, "COMMIT", "migrate");
    else
        sb_pg__end_quietly(c, "ROLLBACK");
    if (rc == SB_ENOTSUP)
        SB_ERR("store", "postgres: schema %d, newer than this sbems (%d)", v,
               SB_PG_SCHEMA_VERSION);
    return rc;
}

/* ---- transactions ------------------------------------------------------- */

/* Writers of one database take turns per point.  A seal reads a chunk,
 * merges and writes it back (eng_seal.c): two nodes sealing samples of the
 * same point and day at once (a device handed over, late data for a point
 * another node polls) would each write back a merge missing the other's
 * samples.  So a seal first locks its points: transaction-scoped advisory
 * locks in the two-key space (SB_PG_LOCK_CLASS, point id), taken in
 * ascending order in one statement, under a shared lock on the store-wide
 * key that retention takes exclusively.  Nodes sealing different points
 * (each its own devices) never wait for each other; a node that dies
 * releases its locks with its session. */
#define SB_PG_STORE_LOCK 7305186515LL
#define SB_PG_LOCK_CLASS 7305

static int kv_begin(struct sb_kv_conn *w)
{
    int rc = sb_pg__exec(w, "BEGIN", "begin");
    w->in_tx = rc == 0;
    return rc;
}

static int kv_lock(struct sb_kv_conn *w, const uint32_t *ids, size_t n)
{
    char head[160];
    int rc;

    if (n == 0) {
        snprintf(head, sizeof(head), "SELECT pg_advisory_xact_lock(%lld)", SB_PG_STORE_LOCK);
        return sb_pg__exec(w, head, "store lock");
    }
    snprintf(head, sizeof(head), "SELECT pg_advisory_xact_lock_shared(%lld)", SB_PG_STORE_LOCK);
    if ((rc = sb_pg__exec(w, head, "store lock")))
        return rc;
    /* "{1,2,3}": an int4[] parameter, ids only (no SQL text from values) */
    char *arr = malloc(n * 11 + 3), *p = arr;
    if (!arr)
        return SB_ENOMEM;
    *p++ = '{';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%u", i ? "," : "", ids[i]);
    *p++ = '}';
    *p = '\0';
    struct sb_pg_params prm = { 0 };
    sb_pg__p_text(&prm, arr);
    rc = sb_pg__run(w, SB_PGQ_LOCK_POINTS, &prm, NULL, "point locks");
    free(arr);
    return rc;
}

static int kv_commit(struct sb_kv_conn *w)
{
    PGresult *r = NULL;
    int rc = sb_pg_exec(w->pg, "COMMIT", w->deadline_ms, &r);

    /* COMMIT of a failed transaction answers "ROLLBACK", not an error.  One
     * that timed out may have committed: the engine's seal runs again and
     * writes the same rows (puts replace). */
    if (rc == SB_ETIMEDOUT)
        timed_out(w, "commit");
    else if (rc == 0 && !ok_status(r))
        rc = pgerr(w, r, "commit");
    else if (rc == 0 && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        SB_ERR("store", "postgres: commit: the transaction had failed and was rolled back");
        rc = SB_ESTORE;
    }
    PQclear(r);
    w->in_tx = 0;
    /* A lost connection is made again by the next statement (run). */
    if (rc)
        memset(w->kv->parts, 0, sizeof(w->kv->parts));
    return rc;
}

static void kv_rollback(struct sb_kv_conn *w)
{
    /* Partitions created in the transaction are gone with it. */
    memset(w->kv->parts, 0, sizeof(w->kv->parts));
    w->in_tx = 0;
    /* Lost (the transaction with it): the next statement reconnects (run),
     * rather than this rollback waiting on a path that went silent.  Idle:
     * the transaction died with a lost session (reset since). */
    if (PQstatus(w->pg) == CONNECTION_OK && PQtransactionStatus(w->pg) != PQTRANS_IDLE)
        sb_pg__end_quietly(w, "ROLLBACK");
}

/* ---- head and meta ------------------------------------------------------ */

static int kv_head_put(struct sb_kv_conn *w, int64_t seq, const void *blob, size_t len)
{
    struct sb_pg_params p = { 0 };

    if (len > INT_MAX)
        return SB_ERANGE;
    sb_pg__p_text(&p, w->kv->node);
    sb_pg__p_int8(&p, seq);
    sb_pg__p_bytea(&p, blob, len);
    return sb_pg__run(w, SB_PGQ_HEAD_PUT, &p, NULL, "append");
}

static int head_trim(struct sb_kv_conn *w, const char *node, int64_t upto)
{
    struct sb_pg_params p = { 0 };

    sb_pg__p_text(&p, node);
    sb_pg__p_int8(&p, upto);
    return sb_pg__run(w, SB_PGQ_HEAD_TRIM, &p, NULL, "trim head");
}

static int kv_head_trim(struct sb_kv_conn *w, int64_t upto)
{
    return head_trim(w, w->kv->node, upto);
}

/* Visits the (key, blob) rows of r; 1 from fn stops without error. */
static int visit(PGresult *r, sb_kv_row_fn fn, void *ud)
{
    int rc = 0, n = PQntuples(r);

    for (int i = 0; i < n && rc == 0; i++)
        rc = fn(ud, sb_pg__get_int(r, i, 0), PQgetvalue(r, i, 1),
                (size_t)PQgetlength(r, i, 1));
    PQclear(r);
    return rc > 0 ? 0 : rc;
}

static int head_scan(struct sb_kv_conn *c, const char *node, int64_t after, sb_kv_row_fn fn,
                     void *ud)
{
    struct sb_pg_params p = { 0 };
    PGresult *r;
    int rc;

    sb_pg__p_text(&p, node);
    sb_pg__p_int8(&p, after);
    if ((rc = sb_pg__run(c, SB_PGQ_HEAD_SCAN, &p, &r, "replay")))
        return rc;
    return visit(r, fn, ud);
}

static int kv_head_scan(struct sb_kv_conn *c, int64_t after, sb_kv_row_fn fn, void *ud)
{
    return head_scan(c, c->kv->node, after, fn, ud);
}

static int seqs(struct sb_kv_conn *c, const char *node, int64_t *sealed, int64_t *head_max)
{
    struct sb_pg_params p = { 0 };
    PGresult *r;
    int rc;

    sb_pg__p_text(&p, node);
    if ((rc = sb_pg__run(c, SB_PGQ_SEQS, &p, &r, "load seqs")))
        return rc;
    if (PQntuples(r) == 1 && PQnfields(r) == 2) {
        *sealed = sb_pg__get_int(r, 0, 0);
        *head_max = sb_pg__get_int(r, 0, 1);
    } else {
        rc = SB_ESTORE;
    }
    PQclear(r);
    return rc;
}

static int kv_seqs(struct sb_kv_conn *c, int64_t *sealed, int64_t *head_max)
{
    return seqs(c, c->kv->node, sealed, head_max);
}

static int set_sealed(struct sb_kv_conn *w, const char *node, int64_t seq)
{
    struct sb_pg_params p = { 0 };

    sb_pg__p_text(&p, node);
    sb_pg__p_int8(&p, seq);
    return sb_pg__run(w, SB_PGQ_SET_SEALED, &p, NULL, "set sealed_seq");
}

static int kv_set_sealed(struct sb_kv_conn *w, int64_t seq)
{
    return set_sealed(w, w->kv->node, seq);
}

/* Another node's unsealed head (a node that died: cluster/lease.c adopts it). */
static int kv_node_head(struct sb_kv_conn *c, const char *node, sb_kv_row_fn fn, void *ud)
{
    int64_t sealed = 0, max = 0;
    int rc = seqs(c, node, &sealed, &max);
    return rc ? rc : head_scan(c, node, sealed, fn, ud);
}

static int kv_node_drop(struct sb_kv_conn *w, const char *node, int64_t upto)
{
    int rc = head_trim(w, node, upto);
    return rc ? rc : set_sealed(w, node, upto);
}

/* ---- partitions --------------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int32_t clamp32(int64_t x)
{
    return x < INT32_MIN ? INT32_MIN : x > INT32_MAX ? INT32_MAX : (int32_t)x;
}

/* Partition i of table t: "sb_chunk_p3", "sb_chunk_n2" (index -2). */
static void part_name(enum sb_kv_table t, int64_t i, char *out, size_t cap)
{
    snprintf(out, cap, "%s_%c%lld", tables[t], i < 0 ? 'n' : 'p', (long long)(i < 0 ? -i : i));
}

/* The index of a partition named by part_name, or 0 with *ok = 0. */
static int64_t part_index(enum sb_kv_table t, const char *name, int *ok)
{
    size_t n = strlen(tables[t]);
    char *end;

    *ok = 0;
    if (strncmp(name, tables[t], n) != 0 || name[n] != '_' ||
        (name[n + 1] != 'p' && name[n + 1] != 'n') || name[n + 2] < '0' || name[n + 2] > '9')
        return 0;
    long long v = strtoll(name + n + 2, &end, 10);
    if (*end)
        return 0;
    *ok = 1;
    return name[n + 1] == 'n' ? -v : v;
}

static uint8_t *part_bit(struct sb_kv *kv, enum sb_kv_table t, int64_t i, uint8_t *mask)
{
    int64_t b = i + SB_PG_PART_SPAN / 2;

    if (b < 0 || b >= SB_PG_PART_SPAN)
        return NULL;           /* outside the cache: asked every time */
    *mask = (uint8_t)(1u << (b & 7));
    return &kv->parts[t][b >> 3];
}

/* Partition i of t exists after this (created in the writer's transaction).
 * Created as a table of its own and then attached: ATTACH PARTITION takes
 * SHARE UPDATE EXCLUSIVE on the parent, where CREATE TABLE ... PARTITION OF
 * takes ACCESS EXCLUSIVE, which would block every reader until the seal
 * commits.  Another node's retention may drop a partition the cache still
 * lists: the put then fails, the seal rolls back (clearing the cache) and its
 * retry makes the partition again. */
static int part_ensure(struct sb_kv_conn *w, enum sb_kv_table t, int64_t i)
{
    struct sb_pg_params p = { 0 };
    char name[64], sql[512];
    uint8_t mask = 0, *bit = part_bit(w->kv, t, i, &mask);
    PGresult *r;
    int rc;

    if (bit && (*bit & mask))
        return 0;
    part_name(t, i, name, sizeof(name));
    sb_pg__p_text(&p, name);
    if ((rc = sb_pg__run(w, SB_PGQ_PART_EXISTS, &p, &r, "partition")))
        return rc;
    int exists = PQntuples(r) == 1 && sb_pg__get_int(r, 0, 0);
    PQclear(r);
    if (!exists) {
        /* Only integers and fixed names go into this text. */
        snprintf(sql, sizeof(sql),
                 "CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS INCLUDING "
                 "CONSTRAINTS INCLUDING STORAGE); ALTER TABLE %s ATTACH PARTITION %s FOR "
                 "VALUES FROM (%lld) TO (%lld)", name, tables[t], tables[t], name,
                 (long long)(i * SB_PG_PART_DAYS), (long long)((i + 1) * SB_PG_PART_DAYS));
        if ((rc = sb_pg__exec(w, sql, "create partition")))
            return rc;
        SB_DEBUG("store", "postgres: partition %s created", name);
    }
    if (bit)
        *bit |= mask;
    return 0;
}

/* The partition of period and the next one (ahead of the writes to come). */
static int parts_for(struct sb_kv_conn *w, enum sb_kv_table t, int64_t period)
{
    int64_t i = floordiv(period, SB_PG_PART_DAYS);
    int rc = part_ensure(w, t, i);

    return rc ? rc : part_ensure(w, t, i + 1);
}

/* ---- chunk and rollup rows ---------------------------------------------- */

static int kv_scan(struct sb_kv_conn *c, enum sb_kv_table t, uint32_t point, int64_t p0,
                   int64_t p1, int desc, size_t limit, sb_kv_row_fn fn, void *ud)
{
    struct sb_pg_params p = { 0 };
    PGresult *r;
    int rc;

    sb_pg__p_int4(&p, (int32_t)point);
    sb_pg__p_int4(&p, clamp32(p0));
    sb_pg__p_int4(&p, clamp32(p1));
    if (limit && limit <= INT64_MAX)
        sb_pg__p_int8(&p, (int64_t)limit);
    else
        sb_pg__p_text(&p, NULL);      /* LIMIT NULL: every row */
    if ((rc = sb_pg__run(c, (desc ? SB_PGQ_SCAN_DESC : SB_PGQ_SCAN_ASC) + (int)t, &p, &r,
                         tables[t])))
        return rc;
    return visit(r, fn, ud);
}

static int kv_put(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period,
                  const void *blob, size_t len)
{
    struct sb_pg_params p = { 0 };
    int rc;

    if (len > INT_MAX || period < INT32_MIN || period > INT32_MAX)
        return SB_ERANGE;
    if (parted(t) && (rc = parts_for(w, t, period)))
        return rc;
    sb_pg__p_int4(&p, (int32_t)point);
    sb_pg__p_int4(&p, (int32_t)period);
    sb_pg__p_bytea(&p, blob, len);
    return sb_pg__run(w, SB_PGQ_PUT + (int)t, &p, NULL, tables[t]);
}

static int kv_del(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period)
{
    struct sb_pg_params p = { 0 };

    if (period < INT32_MIN || period > INT32_MAX)
        return 0;                      /* no such row */
    sb_pg__p_int4(&p, (int32_t)point);
    sb_pg__p_int4(&p, (int32_t)period);
    return sb_pg__run(w, SB_PGQ_DEL + (int)t, &p, NULL, tables[t]);
}

/* Counts, then drops, partition i of t (wholly below the retention line). */
static int part_drop(struct sb_kv_conn *w, enum sb_kv_table t, int64_t i, int64_t *removed)
{
    struct sb_pg_params p = { 0 };
    char name[64], sql[96];
    uint8_t mask = 0, *bit;
    PGresult *r;
    int rc;

    sb_pg__p_int4(&p, clamp32(i * SB_PG_PART_DAYS));
    sb_pg__p_int4(&p, clamp32((i + 1) * SB_PG_PART_DAYS));
    if ((rc = sb_pg__run(w, SB_PGQ_COUNT_RANGE + (int)t, &p, &r, "retention")))
        return rc;
    *removed += PQntuples(r) == 1 ? sb_pg__get_int(r, 0, 0) : 0;
    PQclear(r);
    part_name(t, i, name, sizeof(name));
    snprintf(sql, sizeof(sql), "DROP TABLE %s", name);
    if ((rc = sb_pg__exec(w, sql, "drop partition")))
        return rc;
    if ((bit = part_bit(w->kv, t, i, &mask)))
        *bit &= (uint8_t)~mask;
    SB_DEBUG("store", "postgres: partition %s dropped", name);
    return 0;
}

/* Drops every partition of t wholly below before. */
static int parts_drop_before(struct sb_kv_conn *w, enum sb_kv_table t, int64_t before,
                             int64_t *removed)
{
    struct sb_pg_params p = { 0 };
    int64_t *drop = NULL;
    PGresult *r;
    int rc, n = 0;

    sb_pg__p_text(&p, tables[t]);
    if ((rc = sb_pg__run(w, SB_PGQ_PART_LIST, &p, &r, "retention")))
        return rc;
    /* Collected first: the result is freed before any DROP runs. */
    if (PQntuples(r) > 0 && !(drop = malloc((size_t)PQntuples(r) * sizeof(*drop)))) {
        PQclear(r);
        return SB_ENOMEM;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        int ok;
        int64_t i = part_index(t, PQgetvalue(r, k, 0), &ok);
        /* Partitions not named by sbems are left to the DELETE. */
        if (ok && (i + 1) * SB_PG_PART_DAYS <= before)
            drop[n++] = i;
    }
    PQclear(r);
    for (int k = 0; k < n && rc == 0; k++)
        rc = part_drop(w, t, drop[k], removed);
    free(drop);
    return rc;
}

static int kv_delete_before(struct sb_kv_conn *w, enum sb_kv_table t, int64_t before,
                            int64_t *removed)
{
    struct sb_pg_params p = { 0 };
    PGresult *r;
    int rc;

    *removed = 0;
    if (parted(t) && (rc = parts_drop_before(w, t, before, removed)))
        return rc;
    sb_pg__p_int4(&p, clamp32(before));
    if ((rc = sb_pg__run(w, SB_PGQ_DEL_BEFORE + (int)t, &p, &r, "retention")))
        return rc;
    *removed += strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}

/* ---- sizes, model, info ------------------------------------------------- */

static int one_int(struct sb_kv_conn *c, int q, int64_t *n, const char *what)
{
    PGresult *r;
    int rc = sb_pg__run(c, q, NULL, &r, what);

    if (rc)
        return rc;
    *n = PQntuples(r) == 1 ? sb_pg__get_int(r, 0, 0) : 0;
    PQclear(r);
    return 0;
}

static int kv_count(struct sb_kv_conn *c, enum sb_kv_table t, int64_t *n)
{
    return one_int(c, SB_PGQ_COUNT + (int)t, n, "stats");
}

/* Every sb_ table of the schema with its indexes and TOAST, partitions
 * included (the WAL and the rest of the cluster are the server's). */
static int kv_bytes(struct sb_kv *kv, struct sb_kv_conn *c, int64_t *n)
{
    return one_int(c, SB_PGQ_BYTES, n, "stats");
}

static void kv_info(struct sb_kv *kv, struct sb_store_info *out)
{
    snprintf(out->version, sizeof(out->version), "%s", kv->version);
    out->timescaledb = kv->timescale;
    out->partitioned = 1;
}

int sb_kv_pg_timescale(struct sb_kv *kv)
{
    return kv ? kv->timescale : 0;
}

/* Not here: a PostgreSQL store is copied with the server's own tools, pg_dump
 * for a logical copy or pg_basebackup for the cluster, consistent while
 * sbems runs (docs/internals/store-postgres.md).  A method, not NULL, so the
 * engine seals first as it does for every backup: what was acknowledged is
 * then in the tables the dump copies. */
static int kv_backup(struct sb_kv *kv, struct sb_kv_conn *w, const char *path)
{
    return SB_ENOTSUP;
}

const struct sb_kv_ops sb_kv_pg_ops = {
    .name = "postgres",
    .remote = 1,
    .open = kv_open,
    .close = kv_close,
    .migrate = kv_migrate,
    .conn_open = kv_conn_open,
    .conn_close = kv_conn_close,
    .begin = kv_begin,
    .lock = kv_lock,
    .commit = kv_commit,
    .rollback = kv_rollback,
    .head_put = kv_head_put,
    .head_trim = kv_head_trim,
    .head_scan = kv_head_scan,
    .seqs = kv_seqs,
    .set_sealed = kv_set_sealed,
    .node_head = kv_node_head,
    .node_drop = kv_node_drop,
    .scan = kv_scan,
    .put = kv_put,
    .del = kv_del,
    .delete_before = kv_delete_before,
    .count = kv_count,
    .bytes = kv_bytes,
    .backup = kv_backup,
    .model_load = sb_pg__model_load,
    .model_save = sb_pg__model_save,
    .info = kv_info,
    .after_close_seal = NULL,
};

/*
 * kv_sqlite.c - the embedded store's kv layer (kv.h) on SQLite.
 *
 * Layout of <dir>/sbems.db (WAL mode; docs/internals/store.md):
 *   head(seq INTEGER PRIMARY KEY, data BLOB)   durable batches not yet sealed
 *   chunk(id INTEGER PRIMARY KEY, data BLOB)   sealed raw samples, one row per
 *                                              point and UTC day
 *   r15m/r1h/r1d/r1mo(id INTEGER PRIMARY KEY, data BLOB)
 *                                              rollup pages per point
 *   meta(key TEXT PRIMARY KEY, value)          sealed_seq, ...
 *   model tables (src/model/model_sql.c)
 * Row ids pack (point, period): id = point << 21 | (period + 2^20), so one
 * point's rows are contiguous in the table's B-tree and a range is a rowid
 * BETWEEN - no secondary index to write or store.  The embedded store has a
 * single node: cfg->node is not used.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>

#include "core/err.h"
#include "core/log.h"
#include "model/model_sql.h"
#include "store/engine/kv.h"
#include "store/store.h"

#define SCHEMA_VERSION 1
#define ROW_SHIFT 21
#define ROW_BIAS  (1LL << 20)
#define NREADERS_MAX 8

static const char *const tables[SB_KV_NTABLES] = { "chunk", "r15m", "r1h", "r1d", "r1mo" };

/* Statements a connection prepares on first use. */
enum {
    Q_SCAN_ASC = 0,                               /* per table */
    Q_SCAN_DESC = Q_SCAN_ASC + SB_KV_NTABLES,     /* per table */
    Q_PUT = Q_SCAN_DESC + SB_KV_NTABLES,          /* per table */
    Q_DEL = Q_PUT + SB_KV_NTABLES,                /* per table */
    Q_HEAD_PUT = Q_DEL + SB_KV_NTABLES,
    Q_HEAD_TRIM, Q_HEAD_SCAN, Q_SEQS, Q_SET_SEALED,
    Q_COUNT
};

struct sb_kv_conn {
    sqlite3 *db;                 /* connection */
    sqlite3_stmt *q[Q_COUNT];    /* prepared lazily, finalized at close */
    struct sb_kv *kv;            /* owner */
};

struct sb_kv {
    char *path;                  /* <dir>/sbems.db (owned) */
    int64_t cache_bytes;         /* page cache of the writer */
    int readonly;                /* opened read-only */
    struct sb_kv_conn w;         /* the writer's connection */
    struct sb_kv_conn *rd[NREADERS_MAX]; /* readers handed out */
    int nrd;                     /* used entries of rd */
};

static int sqlerr(sqlite3 *db, const char *what)
{
    int code = sqlite3_extended_errcode(db);
    SB_ERR("store", "sqlite: %s: %s (%d)", what, sqlite3_errmsg(db), code);
    if ((code & 0xff) == SQLITE_FULL)
        return SB_ENOSPC;
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        return SB_ECORRUPT;
    return SB_ESTORE;
}

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        SB_ERR("store", "sqlite: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return SB_ESTORE;
    }
    return 0;
}

static int64_t rowid(uint32_t point, int64_t period)
{
    return ((int64_t)point << ROW_SHIFT) | (period + ROW_BIAS);
}

static sqlite3_stmt *stmt(struct sb_kv_conn *c, int which)
{
    char sql[160];
    int t = which % SB_KV_NTABLES;

    if (c->q[which]) {
        sqlite3_reset(c->q[which]);
        sqlite3_clear_bindings(c->q[which]);
        return c->q[which];
    }
    if (which < Q_SCAN_DESC)
        snprintf(sql, sizeof(sql), "SELECT id, data FROM %s WHERE id BETWEEN ? AND ? "
                 "ORDER BY id LIMIT ?", tables[t]);
    else if (which < Q_PUT)
        snprintf(sql, sizeof(sql), "SELECT id, data FROM %s WHERE id BETWEEN ? AND ? "
                 "ORDER BY id DESC LIMIT ?", tables[t]);
    else if (which < Q_DEL)
        snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(id, data) VALUES(?, ?)",
                 tables[t]);
    else if (which < Q_HEAD_PUT)
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ?", tables[t]);
    else if (which == Q_HEAD_PUT)
        snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO head(seq, data) VALUES(?, ?)");
    else if (which == Q_HEAD_TRIM)
        snprintf(sql, sizeof(sql), "DELETE FROM head WHERE seq <= ?");
    else if (which == Q_HEAD_SCAN)
        snprintf(sql, sizeof(sql), "SELECT seq, data FROM head WHERE seq > ? ORDER BY seq");
    else if (which == Q_SEQS)
        snprintf(sql, sizeof(sql), "SELECT (SELECT value FROM meta WHERE key='sealed_seq'),"
                 " (SELECT max(seq) FROM head)");
    else
        snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta(key, value) "
                 "VALUES('sealed_seq', ?)");
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->q[which], NULL) !=
        SQLITE_OK) {
        sqlerr(c->db, sql);
        c->q[which] = NULL;
    }
    return c->q[which];
}

static void conn_release(struct sb_kv_conn *c)
{
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(c->q[i]);
        c->q[i] = NULL;
    }
    if (c->db && sqlite3_close(c->db) != SQLITE_OK)
        SB_ERR("store", "close: %s", sqlite3_errmsg(c->db));
    c->db = NULL;
}

static int open_db(const char *path, int flags, int64_t cache, int sync_full, sqlite3 **db)
{
    char sql[200];
    int rc;

    if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = *db ? sqlerr(*db, path) : SB_ENOMEM;
        sqlite3_close(*db);
        *db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(*db, 10000);
    /* WAL: readers never block the writer; FULL fsyncs the WAL at every commit
     * so a committed batch survives power loss, NORMAL survives a process
     * crash (https://www.sqlite.org/pragma.html#pragma_synchronous). */
    snprintf(sql, sizeof(sql),
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s; PRAGMA cache_size=-%lld;"
             "PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=4000;",
             sync_full ? "FULL" : "NORMAL", (long long)(cache / 1024));
    if (flags & SQLITE_OPEN_READONLY)
        snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%lld; PRAGMA query_only=1;",
                 (long long)(cache / 1024 / 4));
    return exec(*db, sql);
}

static void kv_close(struct sb_kv *kv)
{
    if (!kv)
        return;
    for (int i = 0; i < kv->nrd; i++) {
        conn_release(kv->rd[i]);
        free(kv->rd[i]);
    }
    conn_release(&kv->w);
    free(kv->path);
    free(kv);
}

static int kv_open(const struct sb_store_cfg *cfg, struct sb_kv **out, struct sb_kv_conn **w)
{
    struct sb_kv *kv = calloc(1, sizeof(*kv));
    int rc;

    *out = NULL;
    *w = NULL;
    if (!kv || asprintf(&kv->path, "%s/sbems.db", cfg->dir) < 0) {
        free(kv);
        return SB_ENOMEM;
    }
    kv->cache_bytes = cfg->cache_bytes;
    kv->readonly = cfg->readonly;
    kv->w.kv = kv;
    if (!cfg->readonly && mkdir(cfg->dir, 0750) != 0 && errno != EEXIST) {
        SB_ERR("store", "cannot create %s: %s", cfg->dir, strerror(errno));
        kv_close(kv);
        return SB_EIO;
    }
    int flags = cfg->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if ((rc = open_db(kv->path, flags, cfg->cache_bytes, cfg->sync_full, &kv->w.db))) {
        kv_close(kv);
        return rc;
    }
    *out = kv;
    *w = &kv->w;
    return 0;
}

/* ---- schema ------------------------------------------------------------- */

static const char *const schema_v1 =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS head(seq INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS chunk(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS r15m(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS r1h(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS r1d(id INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS r1mo(id INTEGER PRIMARY KEY, data BLOB NOT NULL);";

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return sqlerr(db, "user_version");
    *v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int kv_migrate(struct sb_kv *kv, int readonly, int *from, int *to)
{
    sqlite3 *db = kv->w.db;
    int v = 0, rc;
    char sql[64];

    if ((rc = user_version(db, &v)))
        return rc;
    if (from)
        *from = v;
    if (to)
        *to = SCHEMA_VERSION;
    if (v > SCHEMA_VERSION) {
        SB_ERR("store", "%s has schema %d, newer than this sbems (%d)", kv->path, v,
               SCHEMA_VERSION);
        return SB_ENOTSUP;
    }
    if (readonly) {
        if (v == SCHEMA_VERSION)
            return 0;
        SB_ERR("store", "%s: schema %d, expected %d (run sbems migrate)", kv->path, v,
               SCHEMA_VERSION);
        return v == 0 ? SB_ENOENT : SB_ENOTSUP;
    }
    if ((rc = exec(db, "BEGIN IMMEDIATE")))
        return rc;
    if (v < 1)
        rc = exec(db, schema_v1);
    if (rc == 0)
        rc = sb_model_sql_migrate(db);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
    if (rc == 0)
        rc = exec(db, sql);
    if (rc == 0)
        rc = exec(db, "COMMIT");
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- connections and transactions --------------------------------------- */

static int kv_conn_open(struct sb_kv *kv, struct sb_kv_conn **out)
{
    struct sb_kv_conn *c;
    int rc;

    *out = NULL;
    if (kv->nrd == NREADERS_MAX || !(c = calloc(1, sizeof(*c))))
        return SB_ENOMEM;
    c->kv = kv;
    if ((rc = open_db(kv->path, SQLITE_OPEN_READONLY, kv->cache_bytes, 0, &c->db))) {
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

static int kv_begin(struct sb_kv_conn *w)
{
    return exec(w->db, "BEGIN IMMEDIATE");
}

static int kv_commit(struct sb_kv_conn *w)
{
    return exec(w->db, "COMMIT");
}

static void kv_rollback(struct sb_kv_conn *w)
{
    sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Run a statement that returns no rows. */
static int step_done(struct sb_kv_conn *c, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : sqlerr(c->db, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Visit the rows of st (key, blob columns). */
static int step_rows(struct sb_kv_conn *c, sqlite3_stmt *st, int64_t (*key)(int64_t),
                     sb_kv_row_fn fn, void *ud, const char *what)
{
    int rc = 0, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(st, 0);
        rc = fn(ud, key ? key(k) : k, sqlite3_column_blob(st, 1),
                (size_t)sqlite3_column_bytes(st, 1));
        if (rc)
            break;
    }
    if (rc == 0 && r != SQLITE_DONE)
        rc = sqlerr(c->db, what);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc > 0 ? 0 : rc;
}

/* ---- head and meta ------------------------------------------------------ */

static int kv_head_put(struct sb_kv_conn *w, int64_t seq, const void *blob, size_t len)
{
    sqlite3_stmt *st = stmt(w, Q_HEAD_PUT);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob64(st, 2, blob, len, SQLITE_STATIC);
    return step_done(w, st, "append");
}

static int kv_head_trim(struct sb_kv_conn *w, int64_t upto)
{
    sqlite3_stmt *st = stmt(w, Q_HEAD_TRIM);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, upto);
    return step_done(w, st, "trim head");
}

static int kv_head_scan(struct sb_kv_conn *c, int64_t after, sb_kv_row_fn fn, void *ud)
{
    sqlite3_stmt *st = stmt(c, Q_HEAD_SCAN);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, after);
    return step_rows(c, st, NULL, fn, ud, "replay");
}

static int kv_seqs(struct sb_kv_conn *c, int64_t *sealed, int64_t *head_max)
{
    sqlite3_stmt *st = stmt(c, Q_SEQS);
    int rc = 0;
    if (!st)
        return SB_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *sealed = sqlite3_column_int64(st, 0);
        *head_max = sqlite3_column_int64(st, 1);
    } else {
        rc = sqlerr(c->db, "load seqs");
    }
    sqlite3_reset(st);
    return rc;
}

static int kv_set_sealed(struct sb_kv_conn *w, int64_t seq)
{
    sqlite3_stmt *st = stmt(w, Q_SET_SEALED);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, seq);
    return step_done(w, st, "set sealed_seq");
}

/* ---- chunk and rollup rows ---------------------------------------------- */

static int64_t period_of(int64_t id)
{
    return (id & ((1LL << ROW_SHIFT) - 1)) - ROW_BIAS;
}

static int kv_scan(struct sb_kv_conn *c, enum sb_kv_table t, uint32_t point, int64_t p0,
                   int64_t p1, int desc, size_t limit, sb_kv_row_fn fn, void *ud)
{
    sqlite3_stmt *st = stmt(c, (desc ? Q_SCAN_DESC : Q_SCAN_ASC) + (int)t);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, rowid(point, p0));
    sqlite3_bind_int64(st, 2, rowid(point, p1));
    sqlite3_bind_int64(st, 3, limit ? (int64_t)limit : -1);   /* -1: no limit */
    return step_rows(c, st, period_of, fn, ud, tables[t]);
}

static int kv_put(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period,
                  const void *blob, size_t len)
{
    sqlite3_stmt *st = stmt(w, Q_PUT + (int)t);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, rowid(point, period));
    sqlite3_bind_blob64(st, 2, blob, len, SQLITE_STATIC);
    return step_done(w, st, tables[t]);
}

static int kv_del(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period)
{
    sqlite3_stmt *st = stmt(w, Q_DEL + (int)t);
    if (!st)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, rowid(point, period));
    return step_done(w, st, tables[t]);
}

static int kv_delete_before(struct sb_kv_conn *w, enum sb_kv_table t, int64_t before,
                            int64_t *removed)
{
    char sql[160];
    sqlite3_stmt *st;
    int rc = 0;

    /* The low 21 bits of a row id are the biased period. */
    snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE (id & %lld) < ?", tables[t],
             (long long)((1LL << ROW_SHIFT) - 1));
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sqlerr(w->db, sql);
    sqlite3_bind_int64(st, 1, before + ROW_BIAS);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = sqlerr(w->db, sql);
    else
        *removed = sqlite3_changes(w->db);
    sqlite3_finalize(st);
    return rc;
}

/* ---- sizes, backup, model ----------------------------------------------- */

static int kv_count(struct sb_kv_conn *c, enum sb_kv_table t, int64_t *n)
{
    char sql[64];
    sqlite3_stmt *q;
    int rc = 0;

    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tables[t]);
    if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK)
        return sqlerr(c->db, "stats");
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    else
        rc = sqlerr(c->db, "stats");
    sqlite3_finalize(q);
    return rc;
}

static int kv_bytes(struct sb_kv *kv, struct sb_kv_conn *c, int64_t *n)
{
    struct stat sb;
    char path[4096];

    *n = 0;
    const char *suffix[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", kv->path, suffix[i]);
        if (stat(path, &sb) == 0)
            *n += sb.st_size;
    }
    return 0;
}

static int kv_backup(struct sb_kv *kv, struct sb_kv_conn *w, const char *path)
{
    sqlite3 *dst = NULL;
    int rc = 0;

    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = dst ? sqlerr(dst, path) : SB_ENOMEM;
        goto out;
    }
    /* The online backup API copies a consistent snapshot while readers go on
     * (https://www.sqlite.org/backup.html). */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", w->db, "main");
    if (!b) {
        rc = sqlerr(dst, "backup init");
        goto out;
    }
    int r = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (r != SQLITE_DONE)
        rc = sqlerr(dst, "backup");
    else
        rc = exec(dst, "PRAGMA journal_mode=DELETE");
out:
    if (dst)
        sqlite3_close(dst);
    return rc;
}

static int kv_model_load(struct sb_kv_conn *c, struct sb_model *m)
{
    int rc = exec(c->db, "BEGIN");   /* one snapshot for every table */
    if (rc == 0) {
        rc = sb_model_sql_load(c->db, m);
        sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
    }
    return rc;
}

static int kv_model_save(struct sb_kv_conn *w, const struct sb_model *m)
{
    return sb_model_sql_save(w->db, m);
}

static void kv_info(struct sb_kv *kv, struct sb_store_info *out)
{
    snprintf(out->version, sizeof(out->version), "SQLite %s", sqlite3_libversion());
}

/* Fold the WAL back at close so the file is self-contained. */
static void kv_after_close_seal(struct sb_kv *kv, struct sb_kv_conn *w)
{
    sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

const struct sb_kv_ops sb_kv_sqlite_ops = {
    .name = "sqlite",
    .open = kv_open,
    .close = kv_close,
    .migrate = kv_migrate,
    .conn_open = kv_conn_open,
    .conn_close = kv_conn_close,
    .begin = kv_begin,
    .commit = kv_commit,
    .rollback = kv_rollback,
    .head_put = kv_head_put,
    .head_trim = kv_head_trim,
    .head_scan = kv_head_scan,
    .seqs = kv_seqs,
    .set_sealed = kv_set_sealed,
    .scan = kv_scan,
    .put = kv_put,
    .del = kv_del,
    .delete_before = kv_delete_before,
    .count = kv_count,
    .bytes = kv_bytes,
    .backup = kv_backup,
    .model_load = kv_model_load,
    .model_save = kv_model_save,
    .info = kv_info,
    .after_close_seal = kv_after_close_seal,
};

/*
 * sqlite_store.c - the embedded store: open, schema, durable append, replay,
 * latest values, stats, backup.  Sealing is in sqlite_seal.c, rollup
 * maintenance in sqlite_rollup.c, reads in sqlite_query.c.
 * See sqlite_int.h for the layout and docs/internals/store.md for the design.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "model/model.h"
#include "model/model_sql.h"
#include "store/codec.h"
#include "store/sqlite/sqlite_int.h"

#define SCHEMA_VERSION 1

int sb__exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        SB_ERR("store", "sqlite: %s: %s", sql, msg ? msg : "?");
        sqlite3_free(msg);
        return SB_ESTORE;
    }
    return 0;
}

int sb__sqlerr(sqlite3 *db, const char *what)
{
    int code = sqlite3_extended_errcode(db);
    SB_ERR("store", "sqlite: %s: %s (%d)", what, sqlite3_errmsg(db), code);
    if ((code & 0xff) == SQLITE_FULL)
        return SB_ENOSPC;
    if ((code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB)
        return SB_ECORRUPT;
    return SB_ESTORE;
}

int64_t sb__now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- per-point state ---------------------------------------------------- */

struct sb__pt *sb__pt_get(struct sb_store *s, uint32_t id, int create)
{
    if (id < s->npts && s->pts[id])
        return s->pts[id];
    if (!create || id == 0)
        return NULL;
    if (id >= s->npts) {
        uint32_t n = s->npts ? s->npts : 1024;
        while (n <= id)
            n *= 2;
        struct sb__pt **np = realloc(s->pts, (size_t)n * sizeof(*np));
        if (!np)
            return NULL;
        memset(np + s->npts, 0, (size_t)(n - s->npts) * sizeof(*np));
        s->pts = np;
        s->npts = n;
    }
    struct sb__pt *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->meta.id = id;
    p->meta.agg.kind = SB_AGG_MEAN;
    p->meta.agg.max_hold_ms = 15 * 60000;
    p->sorted = 1;
    s->pts[id] = p;
    return p;
}

void sb__mark_dirty(struct sb_store *s, struct sb__pt *p)
{
    if (p->dirty_next)
        return;
    if (s->ndirty == s->capdirty) {
        uint32_t nc = s->capdirty ? s->capdirty * 2 : 1024;
        uint32_t *nd = realloc(s->dirty, nc * sizeof(*nd));
        if (!nd)
            return;   /* point stays clean in the list; seal scans all (below) */
        s->dirty = nd;
        s->capdirty = nc;
    }
    s->dirty[s->ndirty++] = p->meta.id;
    p->dirty_next = s->ndirty;
}

int sb__aggv_push(struct sb__aggv *a, const struct sb_agg *x)
{
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? a->cap * 2 : 8;
        struct sb_agg *nv = realloc(a->v, nc * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = *x;
    return 0;
}

static void pt_free(struct sb__pt *p)
{
    if (!p)
        return;
    free(p->buf);
    for (int l = 0; l < NLEVELS; l++)
        free(p->closed[l].v);
    free(p);
}

/* Load the newest sealed sample of a point (the last sample of its last
 * chunk): where its rollups continue from. */
int sb__pt_init(struct sb_store *s, struct sb__pt *p, uint32_t id)
{
    struct sb_sample x;
    int rc = sb__chunk_prev(&s->wr, id, INT64_MAX, &x);

    p->inited = 1;
    if (rc == 0) {
        p->tail = p->last = x;
        p->have_tail = p->have_last = 1;
    } else if (rc == SB_ENOENT) {
        rc = 0;
    } else {
        SB_ERR("store", "point %u: last chunk unreadable: %s", id, sb_strerror(rc));
    }
    return rc;
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
        return sb__sqlerr(db, "user_version");
    *v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return 0;
}

static int do_migrate(struct sb_store *s, int *from, int *to)
{
    int v = 0, rc;
    char sql[64];

    if ((rc = user_version(s->w, &v)))
        return rc;
    if (from)
        *from = v;
    if (to)
        *to = SCHEMA_VERSION;
    if (v > SCHEMA_VERSION) {
        SB_ERR("store", "%s has schema %d, newer than this sbems (%d)", s->path, v,
               SCHEMA_VERSION);
        return SB_ENOTSUP;
    }
    if (s->cfg.readonly)
        return v == SCHEMA_VERSION ? 0 : SB_ENOTSUP;
    if ((rc = sb__exec(s->w, "BEGIN IMMEDIATE")))
        return rc;
    if (v < 1)
        rc = sb__exec(s->w, schema_v1);
    if (rc == 0)
        rc = sb_model_sql_migrate(s->w);
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", SCHEMA_VERSION);
    if (rc == 0)
        rc = sb__exec(s->w, sql);
    if (rc == 0)
        rc = sb__exec(s->w, "COMMIT");
    else
        sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return sb__sqlerr(db, sql);
    return 0;
}

static int prepare_all(struct sb_store *s)
{
    char sql[160];
    int rc = 0;

    rc = rc ? rc : prepare(s->w, &s->ins_head, "INSERT INTO head(seq, data) VALUES(?, ?)");
    rc = rc ? rc : prepare(s->w, &s->del_head, "DELETE FROM head WHERE seq <= ?");
    rc = rc ? rc : prepare(s->w, &s->get_chunk, "SELECT data FROM chunk WHERE id = ?");
    rc = rc ? rc : prepare(s->w, &s->put_chunk,
                           "INSERT OR REPLACE INTO chunk(id, data) VALUES(?, ?)");
    rc = rc ? rc : prepare(s->w, &s->set_meta,
                           "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    for (int l = 0; l < NLEVELS && rc == 0; l++) {
        snprintf(sql, sizeof(sql), "SELECT data FROM %s WHERE id = ?", sb__level_table[l]);
        rc = prepare(s->w, &s->get_page[l], sql);
        snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s(id, data) VALUES(?, ?)",
                 sb__level_table[l]);
        rc = rc ? rc : prepare(s->w, &s->put_page[l], sql);
    }
    return rc;
}

static int load_seqs(struct sb_store *s)
{
    sqlite3_stmt *st;
    int rc = 0;

    if (sqlite3_prepare_v2(s->w, "SELECT (SELECT value FROM meta WHERE key='sealed_seq'),"
                           " (SELECT max(seq) FROM head)", -1, &st, NULL) != SQLITE_OK)
        return sb__sqlerr(s->w, "load seqs");
    if (sqlite3_step(st) == SQLITE_ROW) {
        s->sealed_seq = sqlite3_column_int64(st, 0);
        s->head_seq = sqlite3_column_int64(st, 1);
        if (s->head_seq < s->sealed_seq)
            s->head_seq = s->sealed_seq;
    } else {
        rc = sb__sqlerr(s->w, "load seqs");
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- open / close ------------------------------------------------------- */

static int open_conn(const char *path, int flags, int64_t cache, int sync_full, sqlite3 **db)
{
    char sql[200];
    int rc;

    if (sqlite3_open_v2(path, db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = *db ? sb__sqlerr(*db, path) : SB_ENOMEM;
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
    return sb__exec(*db, sql);
}

static void store_free(struct sb_store *s)
{
    sqlite3_stmt *sts[] = { s->ins_head, s->del_head, s->get_chunk, s->put_chunk,
                            s->set_meta };
    for (size_t i = 0; i < sizeof(sts) / sizeof(sts[0]); i++)
        sqlite3_finalize(sts[i]);
    for (int l = 0; l < NLEVELS; l++) {
        sqlite3_finalize(s->get_page[l]);
        sqlite3_finalize(s->put_page[l]);
    }
    for (int i = 0; i < SB__NREADERS; i++) {
        sb__rd_release(&s->rd[i]);
        sqlite3_close(s->rd[i].db);
    }
    sb__rd_release(&s->wr);
    if (s->w && sqlite3_close(s->w) != SQLITE_OK)
        SB_ERR("store", "close: %s", sqlite3_errmsg(s->w));
    for (uint32_t i = 0; i < s->npts; i++)
        pt_free(s->pts[i]);
    free(s->pts);
    free(s->dirty);
    free(s->path);
    free(s->dir);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s);
}

static int st_open(const struct sb_store_cfg *cfg, struct sb_store **out)
{
    struct sb_store *s = calloc(1, sizeof(*s));
    int rc = SB_ENOMEM;

    *out = NULL;
    if (!s)
        return SB_ENOMEM;
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    s->cfg = *cfg;
    if (!(s->dir = strdup(cfg->dir)) || asprintf(&s->path, "%s/sbems.db", cfg->dir) < 0) {
        s->path = NULL;
        goto out;
    }
    s->cfg.dir = s->dir;
    if (s->cfg.cache_bytes <= 0)
        s->cfg.cache_bytes = 64 << 20;
    if (s->cfg.flush_samples <= 0)
        s->cfg.flush_samples = 1000000;
    if (!cfg->readonly && mkdir(cfg->dir, 0750) != 0 && errno != EEXIST) {
        SB_ERR("store", "cannot create %s: %s", cfg->dir, strerror(errno));
        rc = SB_EIO;
        goto out;
    }
    int flags = cfg->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    rc = open_conn(s->path, flags, s->cfg.cache_bytes, cfg->sync_full, &s->w);
    if (rc)
        goto out;
    s->wr.db = s->w;
    if (!cfg->readonly) {
        rc = do_migrate(s, NULL, NULL);
        if (rc == 0)
            rc = prepare_all(s);
        if (rc == 0)
            rc = load_seqs(s);
    } else {
        int v = 0;
        rc = user_version(s->w, &v);
        if (rc == 0 && v != SCHEMA_VERSION) {
            SB_ERR("store", "%s: schema %d, expected %d (run sbems migrate)", s->path, v,
                   SCHEMA_VERSION);
            rc = v == 0 ? SB_ENOENT : SB_ENOTSUP;
        }
        if (rc == 0)
            rc = load_seqs(s);
    }
out:
    if (rc) {
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void st_close(struct sb_store *s)
{
    if (!s)
        return;
    if (!s->cfg.readonly && s->replayed) {
        pthread_mutex_lock(&s->wmu);
        int rc = sb__seal(s);
        if (rc)
            SB_ERR("store", "final seal failed: %s (data stays in the head)", sb_strerror(rc));
        /* Fold the WAL back so the file is self-contained. */
        sqlite3_wal_checkpoint_v2(s->w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
        pthread_mutex_unlock(&s->wmu);
    }
    store_free(s);
}

static int st_migrate(struct sb_store *s, int *from, int *to)
{
    pthread_mutex_lock(&s->wmu);
    int rc = do_migrate(s, from, to);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- points ------------------------------------------------------------- */

static int st_set_points(struct sb_store *s, const struct sb_point_meta *m, size_t n)
{
    int rc = 0;

    pthread_mutex_lock(&s->wmu);
    for (size_t i = 0; i < n && rc == 0; i++) {
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, m[i].id, 1);
        if (p) {
            p->meta = m[i];
            if (p->meta.agg.max_hold_ms <= 0)
                p->meta.agg.max_hold_ms = 15 * 60000;
        }
        pthread_mutex_unlock(&s->mu);
        if (!p)
            rc = SB_ENOMEM;
        else if (!p->inited)
            rc = sb__pt_init(s, p, m[i].id);
    }
    /* A read-only handle replays too (into memory only), so queries made
     * while the daemon runs see the readings not yet sealed. */
    if (rc == 0 && !s->replayed)
        rc = sb__replay(s);
    /* Rebuild every point's open buckets now rather than on its first
     * query (which would otherwise pay it at every query until the point's
     * next sample): ~50 us a point.  A read-only handle (the CLI) asks for
     * a few points only, and rebuilds them per query. */
    for (size_t i = 0; i < n && rc == 0 && !s->cfg.readonly; i++) {
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, m[i].id, 0);
        if (p && p->have_tail && !p->cur_ok)
            rc = sb__load_cur(s, p);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- append ------------------------------------------------------------- */

/* Apply one point's sorted, de-duplicated samples of a durable batch to the
 * in-memory state: buffer them, fold the in-order ones into the rollups. */
static int apply_group(struct sb_store *s, uint32_t point, const struct sb_sample *x,
                       size_t n)
{
    struct sb__pt *p = sb__pt_get(s, point, 1);
    if (!p)
        return SB_ENOMEM;
    if (p->nbuf + n > p->capbuf) {
        size_t nc = p->capbuf ? p->capbuf : 16;
        while (nc < p->nbuf + n)
            nc *= 2;
        struct sb_sample *nb = realloc(p->buf, nc * sizeof(*nb));
        if (!nb)
            return SB_ENOMEM;
        p->buf = nb;
        p->capbuf = (uint32_t)nc;
    }
    if (p->nbuf > 0 && x[0].t <= p->buf[p->nbuf - 1].t)
        p->sorted = 0;
    memcpy(p->buf + p->nbuf, x, n * sizeof(*x));
    p->nbuf += (uint32_t)n;
    for (size_t i = 0; i < n; i++) {
        if (!p->have_tail || x[i].t > p->tail.t) {
            sb__fold(s, p, &x[i]);
        } else {
            if (!p->late || x[i].t < p->late_min)
                p->late_min = x[i].t;
            p->late = 1;
        }
        if (!p->have_last || x[i].t >= p->last.t) {
            p->last = x[i];
            p->have_last = 1;
        }
    }
    sb__mark_dirty(s, p);
    s->st.buffered += n;
    return 0;
}

struct apply_ctx {
    struct sb_store *s;   /* store */
    int any_late;         /* a group had late samples */
};

static int apply_cb(void *ud, uint32_t point, const struct sb_sample *x, size_t n)
{
    struct apply_ctx *a = ud;
    int rc = apply_group(a->s, point, x, n);
    struct sb__pt *p = sb__pt_get(a->s, point, 0);
    if (p && p->late)
        a->any_late = 1;
    return rc;
}

int sb__apply(struct sb_store *s, const uint8_t *blob, size_t len, int *any_late)
{
    struct apply_ctx a = { s, 0 };
    int rc = sb__batch_decode(blob, len, apply_cb, &a);
    *any_late = a.any_late;
    return rc;
}

/* Seal when enough is buffered, or soon after late data (so rollups that
 * late data changes are not stale for long). */
static int need_seal(struct sb_store *s, int any_late)
{
    if ((int64_t)s->st.buffered >= s->cfg.flush_samples)
        return 1;
    if ((int64_t)s->pending_aggs >= s->cfg.flush_samples / 4)
        return 1;
    return any_late && sb__now_mono_ms() - s->last_seal_ms >= 1000;
}

static int st_append(struct sb_store *s, const struct sb_reading *r, size_t n)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc;

    if (s->cfg.readonly)
        return SB_ENOTSUP;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&s->wmu);
    if (!s->replayed && (rc = sb__replay(s)))
        goto out;
    if ((rc = sb__batch_encode(r, n, &blob, &len)))
        goto out;
    sqlite3_stmt *st = s->ins_head;
    sqlite3_bind_int64(st, 1, s->head_seq + 1);
    sqlite3_bind_blob(st, 2, blob, (int)len, SQLITE_STATIC);
    int sr = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (sr != SQLITE_DONE) {
        rc = sb__sqlerr(s->w, "append");
        goto out;
    }
    /* Durable from here (autocommit + synchronous policy). */
    s->head_seq++;
    int any_late = 0;
    pthread_mutex_lock(&s->mu);
    rc = sb__apply(s, blob, len, &any_late);
    s->st.appended += n;
    s->st.batches++;
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        /* The batch is durable in the head; a restart replays it. */
        SB_ERR("store", "in-memory apply failed: %s", sb_strerror(rc));
        rc = 0;
    }
    if (need_seal(s, any_late))
        rc = sb__seal(s);
out:
    pthread_mutex_unlock(&s->wmu);
    free(blob);
    return rc;
}

static int st_flush(struct sb_store *s)
{
    if (s->cfg.readonly)
        return 0;
    pthread_mutex_lock(&s->wmu);
    int rc = s->replayed ? sb__seal(s) : sb__replay(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- latest, stats, backup ---------------------------------------------- */

static int st_latest(struct sb_store *s, const uint32_t *ids, size_t n, struct sb_sample *out)
{
    struct sb__rd *db = NULL;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        out[i].t = INT64_MIN;
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, ids[i], 0);
        int known = p && (p->inited || p->have_last);
        if (p && p->have_last)
            out[i] = p->last;
        pthread_mutex_unlock(&s->mu);
        if (known)
            continue;
        /* Not loaded (read-only handle or unknown point): look on disk. */
        if (!db && !(db = sb__reader_get(s))) {
            rc = SB_ESTORE;
            break;
        }
        struct sb_sample x;
        rc = sb__chunk_prev(db, ids[i], INT64_MAX, &x);
        if (rc == 0)
            out[i] = x;
        else if (rc == SB_ENOENT)
            rc = 0;
        else
            break;
    }
    if (db)
        sb__reader_put(s, db);
    return rc;
}

static int st_stats(struct sb_store *s, struct sb_store_stats *st)
{
    struct stat sb;
    char path[4096];

    pthread_mutex_lock(&s->mu);
    *st = s->st;
    pthread_mutex_unlock(&s->mu);
    st->db_bytes = 0;
    const char *suffix[] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s%s", s->path, suffix[i]);
        if (stat(path, &sb) == 0)
            st->db_bytes += sb.st_size;
    }
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd)
        return SB_ESTORE;
    sqlite3_stmt *q;
    int rc = 0;
    if (sqlite3_prepare_v2(rd->db, "SELECT count(*) FROM chunk", -1, &q, NULL) == SQLITE_OK) {
        if (sqlite3_step(q) == SQLITE_ROW)
            st->chunks = (uint64_t)sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
    } else {
        rc = sb__sqlerr(rd->db, "stats");
    }
    sb__reader_put(s, rd);
    return rc;
}

static int st_backup(struct sb_store *s, const char *path)
{
    sqlite3 *dst = NULL;
    int rc = 0;

    pthread_mutex_lock(&s->wmu);
    if (!s->cfg.readonly && (rc = s->replayed ? sb__seal(s) : 0))
        goto out;
    if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        rc = dst ? sb__sqlerr(dst, path) : SB_ENOMEM;
        goto out;
    }
    /* The online backup API copies a consistent snapshot while readers go on
     * (https://www.sqlite.org/backup.html); we hold wmu so no seal or append
     * lands in between and the copy holds every acknowledged reading. */
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", s->w, "main");
    if (!b) {
        rc = sb__sqlerr(dst, "backup init");
        goto out;
    }
    int r = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (r != SQLITE_DONE)
        rc = sb__sqlerr(dst, "backup");
    else
        rc = sb__exec(dst, "PRAGMA journal_mode=DELETE");
out:
    if (dst)
        sqlite3_close(dst);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- reader pool -------------------------------------------------------- */

/* Readers are opened on first use; a query borrows one for its duration. */
struct sb__rd *sb__reader_get(struct sb_store *s)
{
    struct sb__rd *rd = NULL;

    pthread_mutex_lock(&s->rmu);
    for (;;) {
        for (int i = 0; i < SB__NREADERS; i++) {
            if (s->rd[i].busy)
                continue;
            if (!s->rd[i].db && open_conn(s->path, SQLITE_OPEN_READONLY, s->cfg.cache_bytes, 0,
                                          &s->rd[i].db) != 0)
                goto out;
            s->rd[i].busy = 1;
            rd = &s->rd[i];
            goto out;
        }
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
out:
    pthread_mutex_unlock(&s->rmu);
    return rd;
}

void sb__reader_put(struct sb_store *s, struct sb__rd *rd)
{
    pthread_mutex_lock(&s->rmu);
    rd->busy = 0;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

/* ---- model -------------------------------------------------------------- */

static int st_model_load(struct sb_store *s, struct sb_model *m)
{
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd)
        return SB_ESTORE;
    int rc = sb__exec(rd->db, "BEGIN");
    if (rc == 0) {
        rc = sb_model_sql_load(rd->db, m);
        sqlite3_exec(rd->db, "COMMIT", NULL, NULL, NULL);
    }
    sb__reader_put(s, rd);
    return rc;
}

static int st_model_save(struct sb_store *s, const struct sb_model *m)
{
    if (s->cfg.readonly)
        return SB_ENOTSUP;
    pthread_mutex_lock(&s->wmu);
    int rc = sb__exec(s->w, "BEGIN IMMEDIATE");
    if (rc == 0) {
        rc = sb_model_sql_save(s->w, m);
        if (rc == 0)
            rc = sb__exec(s->w, "COMMIT");
        else
            sqlite3_exec(s->w, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

extern int sb__st_range_raw(struct sb_store *s, uint32_t point, int64_t t0, int64_t t1,
                            size_t limit, struct sb_samples *out);
extern int sb__st_range_agg(struct sb_store *s, uint32_t point, enum sb_res r, int64_t t0,
                            int64_t t1, struct sb_aggs *out);
extern int sb__st_retention(struct sb_store *s, int64_t now_ms, const struct sb_retention *k);

const struct sb_store_ops sb_store_sqlite_ops = {
    .abi = SB_STORE_ABI,
    .name = "sqlite",
    .open = st_open,
    .close = st_close,
    .migrate = st_migrate,
    .set_points = st_set_points,
    .append = st_append,
    .flush = st_flush,
    .latest = st_latest,
    .range_raw = sb__st_range_raw,
    .range_agg = sb__st_range_agg,
    .retention = sb__st_retention,
    .backup = st_backup,
    .stats = st_stats,
    .model_load = st_model_load,
    .model_save = st_model_save,
};

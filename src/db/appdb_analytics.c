/*
 * appdb_analytics.c - the analytics part of the SQLite app backend
 * (appdb.h, schema v4; docs/internals/analytics.md):
 *
 *   app_docs          JSON documents under (kind, key): tariffs, a
 *                     building's tariff and holidays, savings measures,
 *                     report definitions, trained forecast and zone models
 *                     (their binary part in blob).  Each kind's module
 *                     validates its JSON before it is stored here.
 *   app_fc_log        forecasts as issued (meter, issue time, target hour,
 *                     value and interval, model), so the forecast can be
 *                     charted against what the meter then measured.
 *   app_report_files  generated report files kept for download.
 *
 * Statements are constant text prepared once and reset after each use;
 * every call holds the connection's mutex (appdb_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "db/appdb.h"
#include "db/appdb_int.h"

const char sb_appdb__schema_v4[] =
    "CREATE TABLE IF NOT EXISTS app_docs("
    " kind TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " building TEXT,"
    " body TEXT NOT NULL CHECK(json_valid(body)),"
    " blob BLOB,"
    " updated_ms INTEGER NOT NULL,"
    " PRIMARY KEY(kind, key));"
    "CREATE INDEX IF NOT EXISTS app_docs_building ON app_docs(kind, building);"
    "CREATE TABLE IF NOT EXISTS app_fc_log("
    " meter TEXT NOT NULL,"
    " issued_ms INTEGER NOT NULL,"
    " target_ms INTEGER NOT NULL,"
    " yhat REAL, lo REAL, hi REAL,"
    " model TEXT NOT NULL,"
    " PRIMARY KEY(meter, target_ms, issued_ms)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS app_report_files("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " report TEXT NOT NULL,"
    " building TEXT NOT NULL,"
    " from_ms INTEGER NOT NULL,"
    " to_ms INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL,"
    " format TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " bytes BLOB NOT NULL);"
    "CREATE INDEX IF NOT EXISTS app_report_files_report ON app_report_files(report, created_ms);";

enum {
    NQ_DOC_PUT, NQ_DOC_GET, NQ_DOC_DEL, NQ_DOC_LIST_ALL, NQ_DOC_LIST_B,
    NQ_FC_PUT, NQ_FC_GET, NQ_FC_PURGE,
    NQ_RF_PUT, NQ_RF_LIST, NQ_RF_GET, NQ_RF_TRIM, NQ_RF_SAME, NQ_RF_DEL, NQ_BEGIN, NQ_COMMIT, NQ_ROLLBACK,
    NQ_COUNT
};

static const char *const nq_sql[NQ_COUNT] = {
    [NQ_DOC_PUT] = "INSERT INTO app_docs(kind, key, building, body, blob, updated_ms)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(kind, key) DO UPDATE SET"
                   " building = excluded.building, body = excluded.body, blob = excluded.blob,"
                   " updated_ms = excluded.updated_ms",
    [NQ_DOC_GET] = "SELECT kind, key, building, body, CASE WHEN ?3 THEN blob END, updated_ms"
                   " FROM app_docs WHERE kind = ?1 AND key = ?2",
    [NQ_DOC_DEL] = "DELETE FROM app_docs WHERE kind = ?1 AND key = ?2",
    [NQ_DOC_LIST_ALL] = "SELECT kind, key, building, body, CASE WHEN ?2 THEN blob END, updated_ms"
                        " FROM app_docs WHERE kind = ?1 ORDER BY key LIMIT 10000",
    [NQ_DOC_LIST_B] = "SELECT kind, key, building, body, CASE WHEN ?2 THEN blob END, updated_ms"
                      " FROM app_docs WHERE kind = ?1 AND building = ?3 ORDER BY key LIMIT 10000",
    [NQ_FC_PUT] = "INSERT OR REPLACE INTO app_fc_log(meter, issued_ms, target_ms, yhat, lo, hi, model)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [NQ_FC_GET] = "SELECT issued_ms, target_ms, yhat, lo, hi, model FROM app_fc_log"
                  " WHERE meter = ?1 AND target_ms >= ?2 AND target_ms < ?3"
                  " AND (?4 = 0 OR (target_ms - issued_ms) / 3600000 + 1 = ?4)"
                  " ORDER BY target_ms, issued_ms LIMIT ?5",
    [NQ_FC_PURGE] = "DELETE FROM app_fc_log WHERE issued_ms < ?1",
    [NQ_RF_PUT] = "INSERT INTO app_report_files(report, building, from_ms, to_ms, created_ms, format,"
                  " name, bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [NQ_RF_LIST] = "SELECT id, report, building, from_ms, to_ms, created_ms, format, name,"
                   " length(bytes), NULL FROM app_report_files"
                   " WHERE (?1 IS NULL OR report = ?1) AND (?2 IS NULL OR building = ?2)"
                   " ORDER BY created_ms DESC, id DESC LIMIT ?3",
    [NQ_RF_GET] = "SELECT id, report, building, from_ms, to_ms, created_ms, format, name,"
                  " length(bytes), bytes FROM app_report_files WHERE id = ?1",
    [NQ_RF_TRIM] = "DELETE FROM app_report_files WHERE report = ?1 AND id NOT IN"
                   " (SELECT id FROM app_report_files WHERE report = ?1"
                   " ORDER BY created_ms DESC, id DESC LIMIT ?2)",
    [NQ_RF_SAME] = "DELETE FROM app_report_files WHERE report = ?1 AND from_ms = ?2 AND format = ?3",
    [NQ_RF_DEL] = "DELETE FROM app_report_files WHERE report = ?1",
    [NQ_BEGIN] = "BEGIN IMMEDIATE",
    [NQ_COMMIT] = "COMMIT",
    [NQ_ROLLBACK] = "ROLLBACK",
};

struct sb_appdb__an {
    sqlite3 *db;                  /* appdb.c's connection (not owned) */
    pthread_mutex_t *mu;          /* .. and its mutex (not owned) */
    sqlite3_stmt *st[NQ_COUNT];   /* prepared at open */
};

int sb_appdb__an_open(sqlite3 *db, pthread_mutex_t *mu, struct sb_appdb__an **out, char *err,
                      size_t errlen)
{
    struct sb_appdb__an *x = calloc(1, sizeof(*x));

    *out = NULL;
    if (!x) {
        sb_errf(err, errlen, "appdb: out of memory");
        return SB_ENOMEM;
    }
    x->db = db;
    x->mu = mu;
    for (int i = 0; i < NQ_COUNT; i++) {
        if (sqlite3_prepare_v3(db, nq_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL) !=
            SQLITE_OK) {
            sb_errf(err, errlen, "appdb: prepare analytics %d: %s", i, sqlite3_errmsg(db));
            sb_appdb__an_close(x);
            return SB_ESTORE;
        }
    }
    *out = x;
    return 0;
}

void sb_appdb__an_close(struct sb_appdb__an *x)
{
    if (!x)
        return;
    for (int i = 0; i < NQ_COUNT; i++)
        sqlite3_finalize(x->st[i]);
    free(x);
}

/* ---- documents ----------------------------------------------------------- */

void sb_doc_release(struct sb_doc *d)
{
    if (!d)
        return;
    free(d->body);
    free(d->blob);
    memset(d, 0, sizeof(*d));
}

void sb_docs_free(struct sb_doc *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        sb_doc_release(&v[i]);
    free(v);
}

/* A kind is a short lower-case word; a key a slug-like id of at most
 * SB_DOC_KEY_MAX bytes of printable ASCII (no control bytes, no spaces). */
static int word_ok(const char *s, size_t max)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
            return 0;
    return n <= max;
}

static int doc_row(sqlite3_stmt *st, struct sb_doc *d)
{
    memset(d, 0, sizeof(*d));
    sb_appdb__cpy_col(d->kind, sizeof(d->kind), st, 0);
    sb_appdb__cpy_col(d->key, sizeof(d->key), st, 1);
    sb_appdb__cpy_col(d->building, sizeof(d->building), st, 2);
    const unsigned char *b = sqlite3_column_text(st, 3);
    int bl = sqlite3_column_bytes(st, 3);
    if (!(d->body = malloc((size_t)bl + 1)))
        return SB_ENOMEM;
    memcpy(d->body, b ? (const char *)b : "", (size_t)bl);
    d->body[bl] = 0;
    int n = sqlite3_column_bytes(st, 4);
    if (sqlite3_column_type(st, 4) != SQLITE_NULL && n > 0) {
        if (!(d->blob = malloc((size_t)n))) {
            sb_doc_release(d);
            return SB_ENOMEM;
        }
        memcpy(d->blob, sqlite3_column_blob(st, 4), (size_t)n);
        d->blob_len = (size_t)n;
    }
    d->updated_ms = sqlite3_column_int64(st, 5);
    return 0;
}

int sb_appdb__doc_put(void *impl, const struct sb_doc *d)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_DOC_PUT];

    if (!word_ok(d->kind, sizeof(d->kind) - 1) || !word_ok(d->key, SB_DOC_KEY_MAX) || !d->body)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, d->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->key, -1, SQLITE_STATIC);
    if (d->building[0])
        sqlite3_bind_text(st, 3, d->building, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, d->body, -1, SQLITE_STATIC);
    if (d->blob && d->blob_len)
        sqlite3_bind_blob64(st, 5, d->blob, d->blob_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, d->updated_ms);
    int rc = sb_appdb__step_done(x->db, st, "doc put");
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__doc_get(void *impl, const char *kind, const char *key, int with_blob,
                      struct sb_doc *out)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_DOC_GET];

    memset(out, 0, sizeof(*out));
    if (!word_ok(kind, sizeof(out->kind) - 1) || !word_ok(key, SB_DOC_KEY_MAX))
        return SB_ENOENT;
    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, with_blob ? 1 : 0);
    int rc = sb_appdb__step_row(x->db, st, "doc get");
    if (rc == 0) {
        rc = doc_row(st, out);
        sb_appdb__qreset(st);
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__doc_delete(void *impl, const char *kind, const char *key)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_DOC_DEL];

    if (!word_ok(kind, SB_DOC_KEY_MAX) || !word_ok(key, SB_DOC_KEY_MAX))
        return SB_ENOENT;
    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    int rc = sb_appdb__step_done(x->db, st, "doc delete");
    if (rc == 0 && sqlite3_changes(x->db) == 0)
        rc = SB_ENOENT;
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__doc_list(void *impl, const char *kind, const char *building, int with_blob,
                       struct sb_doc **out, size_t *n)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[building ? NQ_DOC_LIST_B : NQ_DOC_LIST_ALL];
    struct sb_doc *v = NULL;
    size_t k = 0, cap = 0;
    int rc = 0, src;

    *out = NULL;
    *n = 0;
    if (!word_ok(kind, SB_DOC_KEY_MAX))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, with_blob ? 1 : 0);
    if (building)
        sqlite3_bind_text(st, 3, building, -1, SQLITE_STATIC);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct sb_doc *nv = realloc(v, nc * sizeof(*v));
            if (!nv) {
                rc = SB_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        if ((rc = doc_row(st, &v[k])))
            break;
        k++;
    }
    if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sb_appdb__sqlfail(x->db, src, "doc list");
    sb_appdb__qreset(st);
    pthread_mutex_unlock(x->mu);
    if (rc) {
        sb_docs_free(v, k);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

/* ---- forecast log -------------------------------------------------------- */

static void bind_num(sqlite3_stmt *st, int i, double v)
{
    if (v == v && v - v == 0)   /* finite: NaN and inf are stored as NULL */
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

int sb_appdb__fc_put(void *impl, const char *meter, const char *model, const struct sb_fc_row *r,
                     size_t n)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_FC_PUT];
    int rc;

    if (!word_ok(meter, SB_DOC_KEY_MAX) || !word_ok(model, 32))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    rc = sb_appdb__step_done(x->db, x->st[NQ_BEGIN], "forecast log begin");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        sqlite3_bind_text(st, 1, meter, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, r[i].issued_ms);
        sqlite3_bind_int64(st, 3, r[i].target_ms);
        bind_num(st, 4, r[i].yhat);
        bind_num(st, 5, r[i].lo);
        bind_num(st, 6, r[i].hi);
        sqlite3_bind_text(st, 7, model, -1, SQLITE_STATIC);
        rc = sb_appdb__step_done(x->db, st, "forecast log put");
    }
    if (rc == 0)
        rc = sb_appdb__step_done(x->db, x->st[NQ_COMMIT], "forecast log commit");
    if (rc && !sqlite3_get_autocommit(x->db))
        sb_appdb__step_done(x->db, x->st[NQ_ROLLBACK], "forecast log rollback");
    pthread_mutex_unlock(x->mu);
    return rc;
}

static double col_num(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? __builtin_nan("") : sqlite3_column_double(st, i);
}

int sb_appdb__fc_get(void *impl, const char *meter, int64_t t0, int64_t t1, int horizon_h,
                     size_t limit, struct sb_fc_row **out, size_t *n)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_FC_GET];
    struct sb_fc_row *v = NULL;
    size_t k = 0, cap = 0;
    int rc = 0, src;

    *out = NULL;
    *n = 0;
    if (!word_ok(meter, SB_DOC_KEY_MAX))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, meter, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, t0);
    sqlite3_bind_int64(st, 3, t1);
    sqlite3_bind_int(st, 4, horizon_h);
    sqlite3_bind_int64(st, 5, limit ? (int64_t)limit : 100000);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 64;
            struct sb_fc_row *nv = realloc(v, nc * sizeof(*v));
            if (!nv) {
                rc = SB_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        struct sb_fc_row *r = &v[k++];
        r->issued_ms = sqlite3_column_int64(st, 0);
        r->target_ms = sqlite3_column_int64(st, 1);
        r->yhat = col_num(st, 2);
        r->lo = col_num(st, 3);
        r->hi = col_num(st, 4);
        sb_appdb__cpy_col(r->model, sizeof(r->model), st, 5);
    }
    if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sb_appdb__sqlfail(x->db, src, "forecast log get");
    sb_appdb__qreset(st);
    pthread_mutex_unlock(x->mu);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

int sb_appdb__fc_purge(void *impl, int64_t before_ms)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_FC_PURGE];

    pthread_mutex_lock(x->mu);
    sqlite3_bind_int64(st, 1, before_ms);
    int rc = sb_appdb__step_done(x->db, st, "forecast log purge");
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* ---- report files -------------------------------------------------------- */

void sb_report_file_release(struct sb_report_file *f)
{
    if (!f)
        return;
    free(f->bytes);
    memset(f, 0, sizeof(*f));
}

static void rf_row(sqlite3_stmt *st, struct sb_report_file *f)
{
    f->id = sqlite3_column_int64(st, 0);
    sb_appdb__cpy_col(f->report, sizeof(f->report), st, 1);
    sb_appdb__cpy_col(f->building, sizeof(f->building), st, 2);
    f->from_ms = sqlite3_column_int64(st, 3);
    f->to_ms = sqlite3_column_int64(st, 4);
    f->created_ms = sqlite3_column_int64(st, 5);
    sb_appdb__cpy_col(f->format, sizeof(f->format), st, 6);
    sb_appdb__cpy_col(f->name, sizeof(f->name), st, 7);
    f->size = (size_t)sqlite3_column_int64(st, 8);
}

int sb_appdb__rf_put(void *impl, struct sb_report_file *f, int keep)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_RF_PUT];
    int rc;

    if (!word_ok(f->report, sizeof(f->report) - 1) || !word_ok(f->building, sizeof(f->building) - 1) ||
        !word_ok(f->format, sizeof(f->format) - 1) || !word_ok(f->name, sizeof(f->name) - 1) ||
        !f->bytes || keep < 1)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    rc = sb_appdb__step_done(x->db, x->st[NQ_BEGIN], "report file begin");
    if (rc == 0) {   /* a period generated again replaces its file of that format */
        sqlite3_stmt *same = x->st[NQ_RF_SAME];
        sqlite3_bind_text(same, 1, f->report, -1, SQLITE_STATIC);
        sqlite3_bind_int64(same, 2, f->from_ms);
        sqlite3_bind_text(same, 3, f->format, -1, SQLITE_STATIC);
        rc = sb_appdb__step_done(x->db, same, "report file replace");
    }
    if (rc == 0) {
        sqlite3_bind_text(st, 1, f->report, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, f->building, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, f->from_ms);
        sqlite3_bind_int64(st, 4, f->to_ms);
        sqlite3_bind_int64(st, 5, f->created_ms);
        sqlite3_bind_text(st, 6, f->format, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 7, f->name, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 8, f->bytes, f->size, SQLITE_STATIC);
        rc = sb_appdb__step_done(x->db, st, "report file put");
        f->id = rc == 0 ? sqlite3_last_insert_rowid(x->db) : 0;
    }
    if (rc == 0) {   /* keep the newest `keep` files of this report */
        sqlite3_stmt *tr = x->st[NQ_RF_TRIM];
        sqlite3_bind_text(tr, 1, f->report, -1, SQLITE_STATIC);
        sqlite3_bind_int(tr, 2, keep);
        rc = sb_appdb__step_done(x->db, tr, "report file trim");
    }
    if (rc == 0)
        rc = sb_appdb__step_done(x->db, x->st[NQ_COMMIT], "report file commit");
    if (rc && !sqlite3_get_autocommit(x->db))
        sb_appdb__step_done(x->db, x->st[NQ_ROLLBACK], "report file rollback");
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__rf_list(void *impl, const char *report, const char *building, int limit,
                      struct sb_report_file **out, size_t *n)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_RF_LIST];
    struct sb_report_file *v = NULL;
    size_t k = 0, cap = 0;
    int rc = 0, src;

    *out = NULL;
    *n = 0;
    pthread_mutex_lock(x->mu);
    if (report)
        sqlite3_bind_text(st, 1, report, -1, SQLITE_STATIC);
    if (building)
        sqlite3_bind_text(st, 2, building, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, limit > 0 && limit <= 1000 ? limit : 100);
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (k == cap) {
            size_t nc = cap ? cap * 2 : 16;
            struct sb_report_file *nv = realloc(v, nc * sizeof(*v));
            if (!nv) {
                rc = SB_ENOMEM;
                break;
            }
            v = nv;
            cap = nc;
        }
        memset(&v[k], 0, sizeof(v[k]));
        rf_row(st, &v[k++]);
    }
    if (rc == 0 && src != SQLITE_ROW && src != SQLITE_DONE)
        rc = sb_appdb__sqlfail(x->db, src, "report file list");
    sb_appdb__qreset(st);
    pthread_mutex_unlock(x->mu);
    if (rc) {
        free(v);
        return rc;
    }
    *out = v;
    *n = k;
    return 0;
}

int sb_appdb__rf_get(void *impl, int64_t id, struct sb_report_file *out)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_RF_GET];

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(x->mu);
    sqlite3_bind_int64(st, 1, id);
    int rc = sb_appdb__step_row(x->db, st, "report file get");
    if (rc == 0) {
        rf_row(st, out);
        if (out->size && !(out->bytes = malloc(out->size)))
            rc = SB_ENOMEM;
        else if (out->size)
            memcpy(out->bytes, sqlite3_column_blob(st, 9), out->size);
        sb_appdb__qreset(st);
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__rf_delete(void *impl, const char *report)
{
    struct sb_appdb__an *x = sb_appdb__an_of(impl);
    sqlite3_stmt *st = x->st[NQ_RF_DEL];

    pthread_mutex_lock(x->mu);
    sqlite3_bind_text(st, 1, report, -1, SQLITE_STATIC);
    int rc = sb_appdb__step_done(x->db, st, "report file delete");
    pthread_mutex_unlock(x->mu);
    return rc;
}

/*
 * sql.c - a connection and its statements on SQLite or PostgreSQL (sql.h).
 *
 * SQLite: a thin veneer over sqlite3_stmt.  PostgreSQL: a statement keeps
 * its translated text, its bound values as text (blobs as binary
 * parameters), and the result of its execution; it is prepared under the
 * name "a<n>" on the first execution on each session (sess counts
 * sessions: a reconnect forgets every server-side statement).  Results come
 * back as text: integers, floats and booleans are parsed on access, bytea
 * is unescaped on access.
 *
 * Errors: SQLSTATE class 23 and 22 are the caller's input (a unique key
 * that exists, a foreign key that does not, a check, a value the column's
 * type refuses), mapped to SB_EEXIST / SB_ENOENT / SB_EINVAL and not
 * logged; the rest is logged once and is SB_ESTORE.  Server messages name
 * objects, not the bound values, except for a unique-key violation's
 * DETAIL, which is not logged.
 *
 * Every PostgreSQL call has a deadline (store/pg/pg_conn.h): the session's
 * statement_timeout plus a margin, else DEADLINE_MS.  A statement with no
 * answer by then is SB_ETIMEDOUT, logged once; its connection is dropped
 * and rebuilt by the next statement, and it is never run again, since it
 * may have committed.
 */
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"
#include "db/sql.h"
#include "store/pg/pg.h"
#include "store/pg/pg_conn.h"

#define MAXP 99
/* The longest wait for one answer when the session has no statement_timeout:
 * an API request that waits longer has failed anyway (and the connection's
 * tcp_user_timeout is the same 30 s). */
#define DEADLINE_MS 30000

struct sb_sql {
    int kind;
    sqlite3 *lite;          /* SQLite: not owned */
    PGconn *pg;             /* PostgreSQL: owned */
    unsigned sess;          /* PostgreSQL sessions so far (1 after connect) */
    unsigned names;         /* statements named so far */
    int64_t changes, last_id;
    int tx;                 /* PostgreSQL: between sb_sql_begin and sb_sql_end */
    int64_t deadline_ms;    /* PostgreSQL: longest wait for one answer (pg_conn.h) */
};

struct sb_sql_stmt {
    struct sb_sql *c;
    sqlite3_stmt *lite;
    /* PostgreSQL */
    char *sql;              /* with $N */
    char name[16];
    unsigned sess;          /* session it was prepared on (0: none) */
    int np;                 /* parameters: distinct ?N */
    unsigned char map[MAXP + 1];   /* ?N -> $k (0: not in the text) */
    char **val;             /* np values (owned, NULL = SQL NULL) */
    int *len, *fmt;
    PGresult *res;
    int row, nrows;
    unsigned char *blob;    /* last unescaped bytea */
    int oom;                /* a binding could not be copied: the step fails */
};

int sb_sql_kind(const struct sb_sql *c)
{
    return c->kind;
}

int sb_sql_wrap_sqlite(struct sqlite3 *db, struct sb_sql **out)
{
    struct sb_sql *c = calloc(1, sizeof(*c));

    if (!c)
        return SB_ENOMEM;
    c->kind = SB_SQL_SQLITE;
    c->lite = db;
    *out = c;
    return 0;
}

/* Notices (IF NOT EXISTS skipped, ...) are not news. */
static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* A statement that got no answer by the deadline (its connection is
 * dropped, pg_conn.c): said once, with the server it waited for (never the
 * conninfo). */
static int timed_out(struct sb_sql *c, const char *module, const char *what)
{
    SB_ERR(module, "%s: postgres: no answer from %s:%s within %lld ms: connection dropped, "
           "the statement may or may not have run", what, PQhost(c->pg), PQport(c->pg),
           (long long)c->deadline_ms);
    return SB_ETIMEDOUT;
}

/* UTC: the application tables hold epoch milliseconds, never local times,
 * but a session's time zone must not change what now() means.  Then the
 * deadline, from this session's statement_timeout. */
static int session_setup(struct sb_sql *c, char *err, size_t errlen)
{
    PGresult *r = NULL;
    int rc = sb_pg_exec(c->pg, "SET TIME ZONE 'UTC'; SET synchronous_commit = on",
                        c->deadline_ms, &r);

    if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = SB_ESTORE;
    if (rc == 0)
        rc = sb_pg_session_deadline(c->pg, DEADLINE_MS, &c->deadline_ms);
    if (rc == SB_ETIMEDOUT)
        sb_errf(err, errlen, "session settings: no answer within %lld ms",
                (long long)c->deadline_ms);
    else if (rc)
        sb_errf(err, errlen, "session settings: %s", PQerrorMessage(c->pg));
    PQclear(r);
    return rc;
}

int sb_sql_open_pg(const char *conninfo, struct sb_sql **out, char *err, size_t errlen)
{
    /* The application database answers API requests: a dead server must
     * fail them within seconds, not the kernel's minutes. */
    static const struct sb_pg_timeouts to = { 10, 30, 10, 3, 30000 };
    struct sb_sql *c = calloc(1, sizeof(*c));
    int rc = SB_ENOMEM;

    *out = NULL;
    if (!c || !(c->pg = sb_pg_connect(conninfo, "sbems", &to)))
        goto fail;
    c->kind = SB_SQL_PG;
    c->sess = 1;
    c->deadline_ms = DEADLINE_MS;
    PQsetNoticeProcessor(c->pg, quiet, NULL);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        /* libpq's message names host and port, never the password. */
        sb_errf(err, errlen, "postgres: %s", PQerrorMessage(c->pg));
        rc = SB_ESTORE;
        goto fail;
    }
    if ((rc = session_setup(c, err, errlen)))
        goto fail;
    *out = c;
    return 0;
fail:
    sb_sql_close(c);
    return rc;
}

void sb_sql_close(struct sb_sql *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    free(c);
}

/* The connection is gone: one reset (same conninfo; connecting gives up
 * after connect_timeout, so a silent path costs that much); every
 * server-side statement is forgotten with the old session. */
static int reconnect(struct sb_sql *c, const char *module)
{
    char err[256];

    SB_WARN(module, "postgres: connection lost, reconnecting");
    PQreset(c->pg);
    c->sess++;
    if (PQstatus(c->pg) != CONNECTION_OK) {
        SB_ERR(module, "postgres: reconnect: %s", PQerrorMessage(c->pg));
        return SB_ESTORE;
    }
    if (session_setup(c, err, sizeof(err))) {
        SB_ERR(module, "postgres: %s", err);
        return SB_ESTORE;
    }
    return 0;
}

int sb_sql_exec(struct sb_sql *c, const char *sql, char *err, size_t errlen)
{
    if (c->kind == SB_SQL_SQLITE) {
        char *msg = NULL;
        if (sqlite3_exec(c->lite, sql, NULL, NULL, &msg) == SQLITE_OK)
            return 0;
        sb_errf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(c->lite));
        sqlite3_free(msg);
        return SB_ESTORE;
    }
    PGresult *r = NULL;
    int rc = sb_pg_exec(c->pg, sql, c->deadline_ms, &r);
    ExecStatusType s = PQresultStatus(r);

    if (rc) {
        sb_errf(err, errlen, "%s", rc == SB_ETIMEDOUT ? "no answer within the deadline: "
                                                        "connection dropped" : "out of memory");
        return rc;
    }
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        sb_errf(err, errlen, "%s", PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                       ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
                                       : PQerrorMessage(c->pg));
    PQclear(r);
    return ok ? 0 : SB_ESTORE;
}

/* ?N -> $k outside '...' and "...", k numbering the distinct N in order of
 * first appearance (st->map[N] = k): PostgreSQL must infer a type for every
 * $k up to the highest, so a parameter the text leaves out (the audit
 * query's optional filters) must not leave a gap.  SB_EINVAL on a bare '?'
 * or N past MAXP. */
static int translate(const char *sql, struct sb_sql_stmt *st)
{
    size_t n = strlen(sql);
    char *d = malloc(2 * n + 1), *o = d;     /* $k may outgrow ?N: ?1 as the 10th */
    char q = 0;

    if (!d)
        return SB_ENOMEM;
    st->np = 0;
    for (const char *s = sql; *s; s++) {
        if (q) {
            q = *s == q ? 0 : q;
        } else if (*s == '\'' || *s == '"') {
            q = *s;
        } else if (*s == '?') {
            char *end;
            long k = strtol(s + 1, &end, 10);
            if (end == s + 1 || k < 1 || k > MAXP) {
                free(d);
                return SB_EINVAL;
            }
            if (!st->map[k])
                st->map[k] = (unsigned char)++st->np;
            o += sprintf(o, "$%u", st->map[k]);
            s = end - 1;
            continue;
        }
        *o++ = *s;
    }
    *o = 0;
    st->sql = d;
    return 0;
}

static int prepare_pg(struct sb_sql *c, const char *sql, struct sb_sql_stmt *st, char *err,
                      size_t errlen)
{
    int rc = translate(sql, st);

    if (rc) {
        sb_errf(err, errlen, "prepare: %s", rc == SB_EINVAL ? "parameters must be ?1..?99"
                                                            : "out of memory");
        return rc;
    }
    snprintf(st->name, sizeof(st->name), "a%u", ++c->names);
    if (st->np) {
        st->val = calloc((size_t)st->np, sizeof(*st->val));
        st->len = calloc((size_t)st->np, sizeof(*st->len));
        st->fmt = calloc((size_t)st->np, sizeof(*st->fmt));
        if (!st->val || !st->len || !st->fmt) {
            sb_errf(err, errlen, "prepare: out of memory");
            return SB_ENOMEM;
        }
    }
    return 0;
}

int sb_sql_prepare(struct sb_sql *c, const char *sql, struct sb_sql_stmt **out, char *err,
                   size_t errlen)
{
    struct sb_sql_stmt *st = calloc(1, sizeof(*st));
    int rc = 0;

    *out = NULL;
    if (!st) {
        sb_errf(err, errlen, "prepare: out of memory");
        return SB_ENOMEM;
    }
    st->c = c;
    if (c->kind == SB_SQL_SQLITE) {
        /* The same parameter rules on both engines: SQLite's tests catch
         * what PostgreSQL would refuse. */
        if ((rc = translate(sql, st))) {
            sb_errf(err, errlen, "prepare: %s", rc == SB_EINVAL ? "parameters must be ?1..?99"
                                                                : "out of memory");
            sb_sql_finalize(st);
            return rc;
        }
        free(st->sql);
        st->sql = NULL;
        if (sqlite3_prepare_v3(c->lite, sql, -1, SQLITE_PREPARE_PERSISTENT, &st->lite, NULL) !=
            SQLITE_OK) {
            sb_errf(err, errlen, "prepare: %s", sqlite3_errmsg(c->lite));
            rc = SB_ESTORE;
        }
    } else {
        rc = prepare_pg(c, sql, st, err, errlen);
    }
    if (rc) {
        sb_sql_finalize(st);
        return rc;
    }
    *out = st;
    return 0;
}

static void clear_pg(struct sb_sql_stmt *st)
{
    PQclear(st->res);
    st->res = NULL;
    st->row = st->nrows = 0;
    PQfreemem(st->blob);
    st->blob = NULL;
}

void sb_sql_reset(struct sb_sql_stmt *st)
{
    if (!st)
        return;
    if (st->lite) {
        sqlite3_reset(st->lite);
        sqlite3_clear_bindings(st->lite);
        return;
    }
    clear_pg(st);
    st->oom = 0;
    for (int i = 0; i < st->np; i++) {
        free(st->val[i]);
        st->val[i] = NULL;
        st->len[i] = st->fmt[i] = 0;
    }
}

void sb_sql_finalize(struct sb_sql_stmt *st)
{
    if (!st)
        return;
    if (st->lite) {
        sqlite3_finalize(st->lite);
    } else {
        if (st->val)
            sb_sql_reset(st);
        clear_pg(st);
        /* A statement prepared on the live session would linger on the
         * server until it ends: deallocate it. */
        if (st->sess && st->sess == st->c->sess && PQstatus(st->c->pg) == CONNECTION_OK) {
            char sql[40];
            PGresult *r = NULL;
            snprintf(sql, sizeof(sql), "DEALLOCATE %s", st->name);
            if (sb_pg_exec(st->c->pg, sql, st->c->deadline_ms, &r) == SB_ETIMEDOUT)
                timed_out(st->c, "appdb", "deallocate");
            PQclear(r);
        }
    }
    free(st->sql);
    free(st->val);
    free(st->len);
    free(st->fmt);
    free(st);
}

/* Parameter i (1-based) of a PostgreSQL statement, as n bytes of p (binary
 * when bin), or NULL. */
static void set_pg(struct sb_sql_stmt *st, int i, const void *p, size_t n, int bin)
{
    if (i < 1 || i > MAXP || !st->map[i])
        return;     /* SQLite ignores a binding its text does not use, too */
    i = st->map[i];
    free(st->val[i - 1]);
    st->val[i - 1] = NULL;
    st->len[i - 1] = st->fmt[i - 1] = 0;
    if (!p)
        return;
    char *v = malloc(n + 1);
    if (!v) {
        st->oom = 1;    /* never a silent NULL in the value's place */
        return;
    }
    memcpy(v, p, n);
    v[n] = 0;
    st->val[i - 1] = v;
    st->len[i - 1] = (int)n;
    st->fmt[i - 1] = bin;
}

void sb_sql_bind_i64(struct sb_sql_stmt *st, int i, int64_t v)
{
    char b[24];

    if (st->lite) {
        sqlite3_bind_int64(st->lite, i, v);
        return;
    }
    set_pg(st, i, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v), 0);
}

void sb_sql_bind_double(struct sb_sql_stmt *st, int i, double v)
{
    char b[40];
    int n;

    if (st->lite) {
        sqlite3_bind_double(st->lite, i, v);
        return;
    }
    if (isnan(v)) {
        set_pg(st, i, NULL, 0, 0);
        return;
    }
    if (isinf(v))
        n = snprintf(b, sizeof(b), "%s", v > 0 ? "Infinity" : "-Infinity");
    else
        n = snprintf(b, sizeof(b), "%.17g", v);
    set_pg(st, i, b, (size_t)n, 0);
}

/* PostgreSQL refuses text that is not UTF-8 (SQLSTATE 22021) where SQLite
 * keeps the bytes: an audit record of a sign-in with a malformed user name
 * would be lost.  Each byte that starts no well-formed sequence becomes
 * U+FFFD, as a decoder replaces it (Unicode §3.9, "U+FFFD Substitution"). */
static void bind_text_pg(struct sb_sql_stmt *st, int i, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = 0, bad = 0, k;

    for (; u[n]; n += k ? k : 1)
        bad += (k = sb_utf8_seq(u + n, SIZE_MAX)) == 0;
    if (!bad) {
        set_pg(st, i, s, n, 0);
        return;
    }
    char *t = malloc(n + 2 * bad + 1), *o = t;
    if (!t) {
        st->oom = 1;
        return;
    }
    for (size_t j = 0; j < n; j += k ? k : 1) {
        if ((k = sb_utf8_seq(u + j, SIZE_MAX)) == 0) {
            memcpy(o, "\xef\xbf\xbd", 3);
            o += 3;
        } else {
            memcpy(o, u + j, k);
            o += k;
        }
    }
    set_pg(st, i, t, (size_t)(o - t), 0);
    free(t);
}

void sb_sql_bind_text(struct sb_sql_stmt *st, int i, const char *s)
{
    if (st->lite) {
        if (s)
            sqlite3_bind_text(st->lite, i, s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st->lite, i);
        return;
    }
    if (s)
        bind_text_pg(st, i, s);
    else
        set_pg(st, i, NULL, 0, 0);
}

void sb_sql_bind_blob(struct sb_sql_stmt *st, int i, const void *p, size_t n)
{
    static const char none;

    if (st->lite) {
        sqlite3_bind_blob64(st->lite, i, n ? p : &none, n, SQLITE_STATIC);
        return;
    }
    set_pg(st, i, n ? p : &none, n, 1);
}

void sb_sql_bind_null(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        sqlite3_bind_null(st->lite, i);
    else
        set_pg(st, i, NULL, 0, 0);
}

/* ---- stepping ------------------------------------------------------------ */

static int lite_fail(struct sb_sql_stmt *st, int src, const char *module, const char *what)
{
    switch (src) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return SB_EEXIST;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
        return SB_ENOENT;
    case SQLITE_CONSTRAINT_CHECK:
    case SQLITE_CONSTRAINT_NOTNULL:
        return SB_EINVAL;
    default:
        /* SQLite's messages name tables and columns, never bound values. */
        SB_ERR(module, "%s: %s (%d)", what, sqlite3_errmsg(st->c->lite), src);
        return SB_ESTORE;
    }
}

static int step_lite(struct sb_sql_stmt *st, const char *module, const char *what)
{
    int src = sqlite3_step(st->lite);

    if (src == SQLITE_ROW)
        return SB_SQL_ROW;
    if (src == SQLITE_DONE) {
        st->c->changes = sqlite3_changes64(st->c->lite);
        st->c->last_id = sqlite3_last_insert_rowid(st->c->lite);
        return SB_SQL_DONE;
    }
    return lite_fail(st, src, module, what);
}

/* SQLSTATE classes 23 (integrity) and 22 (data) are the caller's input. */
static int pg_fail(struct sb_sql_stmt *st, PGresult *r, const char *module, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (state && strcmp(state, "23505") == 0)
        return SB_EEXIST;
    if (state && strcmp(state, "23503") == 0)
        return SB_ENOENT;
    if (state && (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0))
        return SB_EINVAL;
    SB_ERR(module, "%s: postgres: %s (%s)", what, msg ? msg : PQerrorMessage(st->c->pg),
           state ? state : "no state");
    return SB_ESTORE;
}

/* Prepares st on this session if it was not yet, then runs it: *r gets the
 * failed preparation's result or the execution's.  0, SB_ETIMEDOUT (no
 * answer to either: *r NULL) or SB_ENOMEM. */
static int exec_pg(struct sb_sql_stmt *st, PGresult **r)
{
    struct sb_sql *c = st->c;
    int rc;

    *r = NULL;
    if (st->sess != c->sess) {
        if ((rc = sb_pg_prepare(c->pg, st->name, st->sql, c->deadline_ms, r)))
            return rc;
        if (PQresultStatus(*r) != PGRES_COMMAND_OK)
            return 0;
        PQclear(*r);
        *r = NULL;
        st->sess = c->sess;
    }
    return sb_pg_exec_prepared(c->pg, st->name, st->np, (const char *const *)st->val, st->len,
                               st->fmt, 0, c->deadline_ms, r);
}

/* An INSERT ... RETURNING id: done, with the id kept as sqlite3's rowid. */
static int returning_insert(PGresult *r)
{
    return strncmp(PQcmdStatus(r), "INSERT", 6) == 0 && PQnfields(r) == 1;
}

static int first_step_pg(struct sb_sql_stmt *st, const char *module, const char *what)
{
    /* Our own flag, not PQtransactionStatus: a broken session says UNKNOWN. */
    int was_idle = !st->c->tx;

    if (st->oom)
        return SB_ENOMEM;
    PGresult *r;
    int rc = exec_pg(st, &r);
    ExecStatusType s = PQresultStatus(r);

    /* A broken session outside a transaction loses nothing by a retry.  A
     * statement that timed out is not run again: it may have committed,
     * and the path that went silent would hold the retry as long again. */
    if (rc == 0 && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK &&
        PQstatus(st->c->pg) == CONNECTION_BAD) {
        PQclear(r);
        if (reconnect(st->c, module) || !was_idle)
            return SB_ESTORE;
        rc = exec_pg(st, &r);
        s = PQresultStatus(r);
    }
    if (rc == SB_ETIMEDOUT)
        return timed_out(st->c, module, what);
    if (rc)
        return rc;
    if (s == PGRES_COMMAND_OK) {
        st->c->changes = strtoll(PQcmdTuples(r), NULL, 10);
        PQclear(r);
        return SB_SQL_DONE;
    }
    if (s != PGRES_TUPLES_OK) {
        rc = pg_fail(st, r, module, what);
        PQclear(r);
        return rc;
    }
    if (returning_insert(r)) {
        st->c->changes = PQntuples(r);
        st->c->last_id = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
        return SB_SQL_DONE;
    }
    st->res = r;
    st->nrows = PQntuples(r);
    st->row = 0;
    return st->nrows ? SB_SQL_ROW : SB_SQL_DONE;
}

int sb_sql_step(struct sb_sql_stmt *st, const char *module, const char *what)
{
    if (st->lite)
        return step_lite(st, module, what);
    if (!st->res)
        return first_step_pg(st, module, what);
    PQfreemem(st->blob);
    st->blob = NULL;
    return ++st->row < st->nrows ? SB_SQL_ROW : SB_SQL_DONE;
}

/* ---- columns ------------------------------------------------------------- */

/* The text of column i of the current row, NULL for SQL NULL or no row. */
static const char *cell(struct sb_sql_stmt *st, int i)
{
    if (!st->res || st->row >= st->nrows || i < 0 || i >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, i))
        return NULL;
    return PQgetvalue(st->res, st->row, i);
}

int sb_sql_col_null(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_type(st->lite, i) == SQLITE_NULL;
    return cell(st, i) == NULL;
}

int64_t sb_sql_col_i64(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_int64(st->lite, i);
    const char *v = cell(st, i);
    if (!v)
        return 0;
    if (v[0] == 't' && !v[1])
        return 1;   /* boolean */
    return strtoll(v, NULL, 10);
}

int sb_sql_col_int(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_int(st->lite, i);
    return (int)sb_sql_col_i64(st, i);
}

double sb_sql_col_double(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return sqlite3_column_double(st->lite, i);
    const char *v = cell(st, i);
    return v ? strtod(v, NULL) : 0.0;
}

const char *sb_sql_col_text(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return (const char *)sqlite3_column_text(st->lite, i);
    return cell(st, i);
}

size_t sb_sql_col_bytes(struct sb_sql_stmt *st, int i)
{
    if (st->lite)
        return (size_t)sqlite3_column_bytes(st->lite, i);
    const char *v = cell(st, i);
    return v ? (size_t)PQgetlength(st->res, st->row, i) : 0;
}

const void *sb_sql_col_blob(struct sb_sql_stmt *st, int i, size_t *n)
{
    if (st->lite) {
        const void *p = sqlite3_column_blob(st->lite, i);
        *n = (size_t)sqlite3_column_bytes(st->lite, i);
        return p;
    }
    const char *v = cell(st, i);
    *n = 0;
    if (!v)
        return NULL;
    PQfreemem(st->blob);
    st->blob = PQunescapeBytea((const unsigned char *)v, n);
    return st->blob;
}

int64_t sb_sql_changes(struct sb_sql *c)
{
    return c->changes;
}

int64_t sb_sql_last_id(struct sb_sql *c)
{
    return c->last_id;
}

/* ---- transactions -------------------------------------------------------- */

/* One parameterless command on PostgreSQL, reconnecting once when the
 * session is found broken outside a transaction (never after a timeout,
 * as in first_step_pg). */
static int cmd_pg(struct sb_sql *c, const char *sql, const char *module, const char *what)
{
    int was_idle = !c->tx;
    PGresult *r;
    int rc = sb_pg_exec(c->pg, sql, c->deadline_ms, &r);
    ExecStatusType s = PQresultStatus(r);

    if (rc == 0 && s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK &&
        PQstatus(c->pg) == CONNECTION_BAD && was_idle) {
        PQclear(r);
        if (reconnect(c, module))
            return SB_ESTORE;
        rc = sb_pg_exec(c->pg, sql, c->deadline_ms, &r);
        s = PQresultStatus(r);
    }
    if (rc == SB_ETIMEDOUT)
        return timed_out(c, module, what);
    if (rc)
        return rc;
    int ok = s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
    if (!ok)
        SB_ERR(module, "%s: postgres: %s", what, PQerrorMessage(c->pg));
    PQclear(r);
    return ok ? 0 : SB_ESTORE;
}

static int cmd_lite(struct sb_sql *c, const char *sql, const char *module, const char *what)
{
    int src = sqlite3_exec(c->lite, sql, NULL, NULL, NULL);

    if (src == SQLITE_OK)
        return 0;
    SB_ERR(module, "%s: %s (%d)", what, sqlite3_errmsg(c->lite), src);
    return SB_ESTORE;
}

int sb_sql_begin(struct sb_sql *c, const char *module)
{
    /* In WAL mode a deferred transaction that upgrades from read to write
     * gets SQLITE_BUSY_SNAPSHOT without waiting
     * (https://www.sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode),
     * while IMMEDIATE waits for the busy timeout.  PostgreSQL: one writer of
     * the application tables at a time, whichever node it is on. */
    if (c->kind == SB_SQL_SQLITE)
        return cmd_lite(c, "BEGIN IMMEDIATE", module, "begin");
    char sql[80];
    snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
             (long long)SB_SQL_APP_LOCK);
    int rc = cmd_pg(c, sql, module, "begin");
    c->tx = rc == 0;
    if (rc && PQtransactionStatus(c->pg) != PQTRANS_IDLE && PQstatus(c->pg) == CONNECTION_OK)
        (void)cmd_pg(c, "ROLLBACK", module, "rollback");   /* BEGIN passed, the lock did not */
    return rc;
}

int sb_sql_in_tx(struct sb_sql *c)
{
    if (c->kind == SB_SQL_SQLITE)
        return !sqlite3_get_autocommit(c->lite);
    return c->tx;
}

int sb_sql_end(struct sb_sql *c, int commit, const char *module)
{
    if (c->kind == SB_SQL_SQLITE) {
        if (commit && sb_sql_in_tx(c) && cmd_lite(c, "COMMIT", module, "commit") == 0)
            return 0;
        /* Some SQLite errors (FULL, IOERR, NOMEM) already rolled back. */
        if (sb_sql_in_tx(c))
            cmd_lite(c, "ROLLBACK", module, "rollback");
        return commit ? SB_ESTORE : 0;
    }
    /* PostgreSQL would answer COMMIT of a failed transaction with ROLLBACK;
     * a transaction lost with its session cannot commit either.  A COMMIT
     * that timed out may have committed: SB_ETIMEDOUT says so. */
    int ok = 0, rc = SB_ESTORE;
    if (commit && c->tx && PQtransactionStatus(c->pg) == PQTRANS_INTRANS)
        ok = (rc = cmd_pg(c, "COMMIT", module, "commit")) == 0;
    if (!ok && c->tx && PQstatus(c->pg) == CONNECTION_OK &&
        PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        cmd_pg(c, "ROLLBACK", module, "rollback");
    c->tx = 0;
    return commit && !ok ? (rc == SB_ETIMEDOUT ? SB_ETIMEDOUT : SB_ESTORE) : 0;
}

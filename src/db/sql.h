/*
 * sql.h - one connection and its statements, on SQLite or on PostgreSQL
 * (libpq), behind the same few calls: the application database's backends
 * (appdb.c, appdb_alerts.c, appdb_analytics.c) keep their logic once and
 * differ only in SQL text (docs/internals/appdb-postgres.md).
 *
 * The calls follow SQLite's statement life: prepare once, bind, step to
 * rows or done, read columns, reset.  On PostgreSQL a statement is a named
 * server-side prepared statement (prepared on first use on each connection,
 * again after a reconnect); the first step executes it and later steps walk
 * the result.  Values are always bound, never spliced into SQL.
 *
 * SQL text is SQLite's: parameters are ?N (N = 1..99).  On PostgreSQL
 * sb_sql_prepare rewrites each ?N outside '...' and "..." to $k, k counting
 * the distinct N in order of first use, so a text that leaves some ?N out
 * (optional filters) leaves no gap PostgreSQL could not type; binding a
 * parameter the text does not use is ignored, on both engines.  So a
 * statement both engines accept is written once; where the dialects differ
 * the caller passes each engine its own text (sb_sql_pick).  Prepared
 * texts must not hold '?' in $$...$$ bodies or -- comments (schemas, which
 * take none, go through sb_sql_exec untranslated).
 *
 * Two conventions make PostgreSQL behave like SQLite where the backends
 * depend on it:
 *   - an INSERT whose PostgreSQL text ends in RETURNING <id column> steps to
 *     done (not to a row) and sb_sql_last_id() answers that id, as
 *     sqlite3_last_insert_rowid does;
 *   - a NaN double is bound as NULL (SQLite stores NaN as NULL);
 *   - text that is not well-formed UTF-8, which PostgreSQL refuses, is bound
 *     with U+FFFD in place of each byte that starts no valid sequence.
 *
 * Threads: a connection and its statements are used by one thread at a
 * time; the caller holds its own mutex around every use (the backends lock
 * one per connection for each whole method).
 *
 * Ownership: sb_sql_open* returns a connection the caller closes with
 * sb_sql_close after finalising its statements.  Column text and blobs
 * point into the statement and stay valid until the next step or reset.
 */
#ifndef SB_DB_SQL_H
#define SB_DB_SQL_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;
struct sb_sql;
struct sb_sql_stmt;

enum sb_sql_kind { SB_SQL_SQLITE = 1, SB_SQL_PG = 2 };

/* What sb_sql_step returns besides a negative SB_E* code. */
enum { SB_SQL_DONE = 0, SB_SQL_ROW = 1 };

/* Wraps an open SQLite connection (the caller keeps owning it: sb_sql_close
 * frees the wrapper only).  SB_ENOMEM. */
int sb_sql_wrap_sqlite(struct sqlite3 *db, struct sb_sql **out);

/* Connects to PostgreSQL with conninfo (libpq keywords or a URI; NULL or ""
 * = the PG* environment): 10 s connect timeout, TCP keep-alives,
 * application_name sbems (unless conninfo names one), and the session's
 * time zone UTC.  Every later call waits for the server at most the
 * session's statement_timeout plus a margin, else 30 s (store/pg/pg_conn.h).
 * 0, SB_ENOMEM, SB_ETIMEDOUT or SB_ESTORE with libpq's reason in err (never
 * the conninfo: it may carry a password). */
int sb_sql_open_pg(const char *conninfo, struct sb_sql **out, char *err, size_t errlen);

void sb_sql_close(struct sb_sql *c);

int sb_sql_kind(const struct sb_sql *c);

/* text for SQLite or, on PostgreSQL, pg (when not NULL, else text). */
static inline const char *sb_sql_pick(const struct sb_sql *c, const char *text, const char *pg)
{
    return sb_sql_kind(c) == SB_SQL_PG && pg ? pg : text;
}

/* Runs sql (one or more statements, no parameters) at once: schemas.  0,
 * SB_ESTORE with the engine's reason in err, or (PostgreSQL) SB_ETIMEDOUT
 * as sb_sql_step. */
int sb_sql_exec(struct sb_sql *c, const char *sql, char *err, size_t errlen);

/* Prepares sql (see ?N above).  0, SB_ENOMEM, SB_EINVAL (a bare '?' or a
 * parameter past 99) or SB_ESTORE, with the reason in err.  SQLite parses it
 * now; PostgreSQL at its first use. */
int sb_sql_prepare(struct sb_sql *c, const char *sql, struct sb_sql_stmt **out, char *err,
                   size_t errlen);

/* NULL is fine. */
void sb_sql_finalize(struct sb_sql_stmt *st);

/* Bindings, parameter i from 1.  Text and blobs are copied on PostgreSQL and
 * bound SQLITE_STATIC on SQLite: they must live until the step that uses
 * them returns.  NULL text binds SQL NULL; a parameter not bound since the
 * last reset is NULL.  A value that cannot be copied (out of memory) makes
 * the next step fail with SB_ENOMEM, never bind a NULL in its place. */
void sb_sql_bind_i64(struct sb_sql_stmt *st, int i, int64_t v);
void sb_sql_bind_double(struct sb_sql_stmt *st, int i, double v);
void sb_sql_bind_text(struct sb_sql_stmt *st, int i, const char *s);
void sb_sql_bind_blob(struct sb_sql_stmt *st, int i, const void *p, size_t n);
void sb_sql_bind_null(struct sb_sql_stmt *st, int i);

/* Executes (first call) or advances: SB_SQL_ROW with a row current,
 * SB_SQL_DONE, or an error: SB_EEXIST (unique key), SB_ENOENT (foreign
 * key), SB_EINVAL (check, not-null, a value the column's type refuses:
 * the caller's input, not logged) or SB_ESTORE (anything else, logged once
 * as "module: what: reason").  A PostgreSQL connection found broken is
 * re-established and, outside a transaction, the statement run once more.
 * PostgreSQL: SB_ETIMEDOUT (logged once) when the server did not answer by
 * the deadline (sb_sql_open_pg): the statement may or may not have run and
 * is not run again; the connection is dropped, the next statement
 * reconnects, and a transaction it was in can only roll back. */
int sb_sql_step(struct sb_sql_stmt *st, const char *module, const char *what);

/* Forgets the result and the bindings. */
void sb_sql_reset(struct sb_sql_stmt *st);

/* Columns of the current row, from 0.  NULL reads as 0, 0.0, NULL, 0 bytes.
 * Booleans (PostgreSQL's EXISTS, IS NULL) read as 1 and 0. */
int          sb_sql_col_null(struct sb_sql_stmt *st, int i);
int64_t      sb_sql_col_i64(struct sb_sql_stmt *st, int i);
int          sb_sql_col_int(struct sb_sql_stmt *st, int i);
double       sb_sql_col_double(struct sb_sql_stmt *st, int i);
const char  *sb_sql_col_text(struct sb_sql_stmt *st, int i);
/* A blob column (bytea on PostgreSQL, decoded into a copy the statement
 * owns) and its size in *n. */
const void  *sb_sql_col_blob(struct sb_sql_stmt *st, int i, size_t *n);
/* Bytes of a text column. */
size_t       sb_sql_col_bytes(struct sb_sql_stmt *st, int i);

/* Rows the last INSERT/UPDATE/DELETE changed, and the last INSERT's id. */
int64_t sb_sql_changes(struct sb_sql *c);
int64_t sb_sql_last_id(struct sb_sql *c);

/* A write transaction that excludes every other writer of the application
 * tables until it ends, as SQLite's BEGIN IMMEDIATE does: on PostgreSQL
 * BEGIN plus a transaction-scoped advisory lock (SB_SQL_APP_LOCK) that every
 * writer takes, so a read-then-write never races another node.  0 or an
 * error as sb_sql_step. */
int sb_sql_begin(struct sb_sql *c, const char *module);
/* Commits (commit != 0) or rolls back.  0, or SB_ESTORE when the commit
 * failed (the transaction is then rolled back), or SB_ETIMEDOUT when the
 * COMMIT got no answer by the deadline (it may have committed). */
int sb_sql_end(struct sb_sql *c, int commit, const char *module);
/* 1 inside a transaction. */
int sb_sql_in_tx(struct sb_sql *c);

/* The advisory lock key of the application tables ("appdb" in ASCII). */
#define SB_SQL_APP_LOCK 0x6170706462LL

#endif /* SB_DB_SQL_H */

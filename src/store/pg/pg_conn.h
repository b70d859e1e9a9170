/*
 * pg_conn.h - one libpq statement with a client-side deadline
 * (docs/internals/store-postgres.md, "A deadline on every statement").
 *
 * libpq's blocking calls (PQexec, PQprepare, PQexecPrepared) wait for the
 * server's answer without limit.  The server's statement_timeout never
 * reaches a server that cannot hear us, and the kernel's keep-alives and
 * tcp_user_timeout only notice a peer that stops acknowledging: a relay or
 * pooler that accepts bytes and never answers holds such a call for ever.
 * The calls below do the same work through libpq's asynchronous API
 * (PQsend*, PQflush on a non-blocking connection, poll() on PQsocket for
 * the time left, PQconsumeInput, PQisBusy, PQgetResult until NULL) and give
 * up at the deadline.
 *
 * On the deadline the connection is considered lost: its socket is closed
 * under libpq, so PQstatus() answers CONNECTION_BAD and the caller's usual
 * reconnect (PQreset) rebuilds it; nothing more is sent on it (no
 * PQcancel through the path that just went silent).  The statement's
 * outcome is unknown: it may never have reached the server, or have run
 * and committed.  These calls never log: the caller, which knows what the
 * statement was for, logs once.
 *
 * The connection is left in non-blocking mode (PQsetnonblocking); libpq's
 * blocking calls still work on it (PQexec ignores that mode).
 *
 * Ownership: *out is the caller's (PQclear).  Used by the store
 * (kv_pg.c), the leases (cluster/lease.c) and the application database
 * (db/sql.c); one thread per connection at a time, as with libpq itself.
 */
#ifndef SB_STORE_PG_CONN_H
#define SB_STORE_PG_CONN_H

#include <stdint.h>
#include <libpq-fe.h>

/* The deadline of a statement on a session whose statement_timeout is
 * statement_timeout_ms (0: none, the server's default): a little longer
 * than it, so that the server's own timeout answers first (SQLSTATE 57014,
 * the connection kept); fallback_ms when the session has none.  Pure. */
int64_t sb_pg_deadline(int64_t statement_timeout_ms, int64_t fallback_ms);

/* Reads the session's statement_timeout (within fallback_ms) and stores
 * sb_pg_deadline(it, fallback_ms) in *deadline_ms, fallback_ms on failure.
 * Called after connecting and after each reset: the URL
 * (options='-c statement_timeout=...') or the role may set it.  0,
 * SB_ETIMEDOUT, SB_ESTORE (PQerrorMessage says why) or SB_ENOMEM. */
int sb_pg_session_deadline(PGconn *pg, int64_t fallback_ms, int64_t *deadline_ms);

/*
 * The calls below return:
 *   0            the server answered: *out is what the blocking libpq call
 *                would have returned (the last result; check
 *                PQresultStatus: a server error, or the connection broken
 *                under the statement, is an error result as with PQexec);
 *   SB_ETIMEDOUT no answer within timeout_ms: *out is NULL and the
 *                connection is lost (CONNECTION_BAD), see above;
 *   SB_ENOMEM    no result could be made (*out NULL).
 * timeout_ms counts from the call; <= 0 waits without limit.
 */

/* PQexec: sql may hold several ';'-separated statements (simple protocol,
 * PQsendQuery); every result is collected, the last one returned. */
int sb_pg_exec(PGconn *pg, const char *sql, int64_t timeout_ms, PGresult **out);

/* PQexecParams (one statement; values as PQexecParams takes them). */
int sb_pg_exec_params(PGconn *pg, const char *sql, int n, const char *const *values,
                      const int *lengths, const int *formats, int binary_result,
                      int64_t timeout_ms, PGresult **out);

/* PQprepare, parameter types inferred by the server. */
int sb_pg_prepare(PGconn *pg, const char *name, const char *sql, int64_t timeout_ms,
                  PGresult **out);

/* PQexecPrepared. */
int sb_pg_exec_prepared(PGconn *pg, const char *name, int n, const char *const *values,
                        const int *lengths, const int *formats, int binary_result,
                        int64_t timeout_ms, PGresult **out);

#endif /* SB_STORE_PG_CONN_H */

/*
 * pg_conn.c - one way to open a libpq connection (see pg.h), so the store,
 * the leases and the application database agree on what a connection
 * string may override and how a dead server is noticed; and one way to run
 * a statement on it with a client-side deadline (pg_conn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "store/pg/pg.h"
#include "store/pg/pg_conn.h"

struct pg_conn *sb_pg_connect(const char *url, const char *app, const struct sb_pg_timeouts *t)
{
    char cto[16], idle[16], intv[16], cnt[16], uto[16];

    snprintf(cto, sizeof(cto), "%d", t->connect_s);
    snprintf(idle, sizeof(idle), "%d", t->ka_idle_s);
    snprintf(intv, sizeof(intv), "%d", t->ka_interval_s);
    snprintf(cnt, sizeof(cnt), "%d", t->ka_count);
    snprintf(uto, sizeof(uto), "%d", t->user_timeout_ms);
    /* dbname last, expanded: a conninfo or URI there overrides the others. */
    const char *const keys[] = { "fallback_application_name", "connect_timeout",
                                 "keepalives_idle", "keepalives_interval", "keepalives_count",
                                 "tcp_user_timeout", "dbname", NULL };
    const char *const vals[] = { app, cto, idle, intv, cnt, uto, url ? url : "", NULL };

    return PQconnectdbParams(keys, vals, 1);
}

/* ---- statements with a deadline ----------------------------------------- */

int64_t sb_pg_deadline(int64_t statement_timeout_ms, int64_t fallback_ms)
{
    /* A tenth more and a second: the server's cancel, its error message
     * and the network's round trip fit in that, so a statement the server
     * times out is an error on a live connection, not a lost one. */
    if (statement_timeout_ms <= 0)
        return fallback_ms;
    return statement_timeout_ms + statement_timeout_ms / 10 + 1000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Over TLS (or GSSAPI encryption) a record may be read from the socket
 * whole yet handed to libpq in parts: the rest waits inside the library
 * while the socket shows nothing to read, and only another PQconsumeInput
 * takes it (servers that send records larger than libpq's free buffer
 * space; ruby-pg issue 588, CockroachDB PR 148222).  So an encrypted
 * connection is polled in slices of this many ms, each followed by a read. */
#define SLICE_MS 100

/* Waits until fd is ready for ev, end_ms (monotonic; 0: no limit) has
 * passed, or (slice) SLICE_MS went by.  1: ready, a slice ended, or poll
 * failed (libpq's next call finds out why); 0: the deadline passed. */
static int wait_fd(int fd, short ev, int64_t end_ms, int slice)
{
    for (;;) {
        int ms = slice ? SLICE_MS : -1;
        if (end_ms) {
            int64_t left = end_ms - mono_ms();
            if (left <= 0)
                return 0;
            if (ms < 0 || left < ms)
                ms = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd p = { .fd = fd, .events = ev };
        int n = poll(&p, 1, ms);
        if (n > 0 || (n < 0 && errno != EINTR) || (n == 0 && slice))
            return 1;
    }
}

/* The connection is lost: libpq has no call that says so, and PQfinish
 * would free a PGconn the caller still holds (and PQreset).  So the socket
 * is replaced under libpq by one whose peer is already closed: the TCP
 * connection to the silent path closes now (nothing more is sent on it),
 * libpq's next read finds end-of-file and marks the connection
 * CONNECTION_BAD, and libpq later closes the stand-in.  shutdown() is the
 * fallback when no socket pair can be made (it too ends in end-of-file,
 * after whatever data was already queued). */
static void drop_socket(PGconn *pg)
{
    int fd = PQsocket(pg), sp[2];

    if (fd < 0)
        return;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) == 0) {
        close(sp[1]);
        if (dup3(sp[0], fd, O_CLOEXEC) < 0)
            shutdown(fd, SHUT_RDWR);
        close(sp[0]);
    } else {
        shutdown(fd, SHUT_RDWR);
    }
    /* Each round reads what is queued or the end of file: a few suffice. */
    for (int i = 0; i < 64 && PQstatus(pg) != CONNECTION_BAD; i++)
        (void)PQconsumeInput(pg);
}

/* PQexec's rule: stop at a COPY (we never start one) or a dead connection. */
static int last_result(const PGconn *pg, const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);

    return s == PGRES_COPY_IN || s == PGRES_COPY_OUT || s == PGRES_COPY_BOTH ||
           PQstatus(pg) == CONNECTION_BAD;
}

/* After a PQsend* that succeeded: flushes the request out, then collects
 * every result until PQgetResult answers NULL, all before end_ms.  Follows
 * libpq's rules for a non-blocking connection: while PQflush answers 1, wait
 * for read or write readiness (the server may need us to read before it
 * reads more); PQgetResult only when PQisBusy says it will not wait. */
static int finish(PGconn *pg, int64_t end_ms, PGresult **out)
{
    PGresult *last = NULL;
    int flushing = 1, slice = PQsslInUse(pg) || PQgssEncInUse(pg);

    for (;;) {
        if (flushing && (flushing = PQflush(pg)) < 0)
            flushing = 0;       /* failed: reading finds the broken connection */
        int fd = PQsocket(pg);
        /* No socket: libpq's calls fail at once rather than wait. */
        if (fd < 0 || (!flushing && !PQisBusy(pg))) {
            PGresult *r = PQgetResult(pg);
            if (!r)
                break;
            PQclear(last);
            last = r;
            if (last_result(pg, r))
                break;
            continue;
        }
        if (!wait_fd(fd, (short)(POLLIN | (flushing ? POLLOUT : 0)), end_ms, slice)) {
            PQclear(last);
            drop_socket(pg);
            return SB_ETIMEDOUT;
        }
        /* 0: the connection broke; PQisBusy turns false, PQgetResult says it. */
        (void)PQconsumeInput(pg);
    }
    *out = last;
    return last ? 0 : SB_ENOMEM;
}

/* Common tail of the calls below: sent is PQsend*'s answer. */
static int run(PGconn *pg, int sent, int64_t end_ms, PGresult **out)
{
    *out = NULL;
    if (!sent) {
        /* Nothing went out (no connection, out of memory): an error result
         * with libpq's message, as the blocking call reports it. */
        *out = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
        return *out ? 0 : SB_ENOMEM;
    }
    return finish(pg, end_ms, out);
}

/* The deadline of a call starting now (0: none), and the connection made
 * non-blocking, so that no send waits on a full socket buffer. */
static int64_t start(PGconn *pg, int64_t timeout_ms)
{
    (void)PQsetnonblocking(pg, 1);   /* fails only on a broken connection: PQsend* says it */
    return timeout_ms > 0 ? mono_ms() + timeout_ms : 0;
}

int sb_pg_exec(PGconn *pg, const char *sql, int64_t timeout_ms, PGresult **out)
{
    int64_t end = start(pg, timeout_ms);
    return run(pg, PQsendQuery(pg, sql), end, out);
}

int sb_pg_exec_params(PGconn *pg, const char *sql, int n, const char *const *values,
                      const int *lengths, const int *formats, int binary_result,
                      int64_t timeout_ms, PGresult **out)
{
    int64_t end = start(pg, timeout_ms);
    return run(pg, PQsendQueryParams(pg, sql, n, NULL, values, lengths, formats, binary_result),
               end, out);
}

int sb_pg_prepare(PGconn *pg, const char *name, const char *sql, int64_t timeout_ms,
                  PGresult **out)
{
    int64_t end = start(pg, timeout_ms);
    return run(pg, PQsendPrepare(pg, name, sql, 0, NULL), end, out);
}

int sb_pg_exec_prepared(PGconn *pg, const char *name, int n, const char *const *values,
                        const int *lengths, const int *formats, int binary_result,
                        int64_t timeout_ms, PGresult **out)
{
    int64_t end = start(pg, timeout_ms);
    return run(pg, PQsendQueryPrepared(pg, name, n, values, lengths, formats, binary_result),
               end, out);
}

int sb_pg_session_deadline(PGconn *pg, int64_t fallback_ms, int64_t *deadline_ms)
{
    PGresult *r = NULL;
    /* pg_settings gives milliseconds whatever unit the setting was made in. */
    int rc = sb_pg_exec(pg, "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'",
                        fallback_ms, &r);

    *deadline_ms = fallback_ms;
    if (rc)
        return rc;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        *deadline_ms = sb_pg_deadline(strtoll(PQgetvalue(r, 0, 0), NULL, 10), fallback_ms);
    else
        rc = SB_ESTORE;
    PQclear(r);
    return rc;
}

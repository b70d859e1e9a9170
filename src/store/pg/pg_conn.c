/*
 * pg_conn.c - one way to open a libpq connection (see pg.h), so the store,
 * the leases and the application database agree on what a connection
 * string may override and how a dead server is noticed.
 */
#include <libpq-fe.h>
#include <stdio.h>

#include "store/pg/pg.h"

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

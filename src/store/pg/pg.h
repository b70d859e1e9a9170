/*
 * pg.h - what the PostgreSQL kv layer (kv_pg.c, docs/internals/store-postgres.md)
 * offers beyond the kv.h ops table.
 *
 * Everything else goes through sb_kv_pg_ops (store/engine/kv.h).  Nothing
 * here does I/O: it reports what open() found.
 */
#ifndef SB_STORE_PG_H
#define SB_STORE_PG_H

struct sb_kv;
struct pg_conn;

/* The timeouts of one kind of connection: seconds to connect, TCP
 * keep-alive idle/interval seconds and probe count, and how long sent data
 * may stay unacknowledged (ms) before the kernel gives up. */
struct sb_pg_timeouts {
    int connect_s, ka_idle_s, ka_interval_s, ka_count, user_timeout_ms;
};

/* Connects to url (libpq keywords or a URI; NULL or "" = the PG*
 * environment) with the timeouts given and fallback_application_name app
 * (url may name another): the values are defaults the url may override,
 * since libpq keeps the last value of a keyword.  A server that stops
 * answering must not hold a caller for the kernel's TCP timeouts (minutes).
 * Returns the connection (check PQstatus) or NULL when out of memory.
 * Shared by the store (kv_pg.c), the leases (cluster/lease.c) and the
 * application database (db/sql.c). */
struct pg_conn *sb_pg_connect(const char *url, const char *app, const struct sb_pg_timeouts *t);

/* 1 when the server offers the timescaledb extension (pg_available_extensions
 * at open), else 0.  Detected and reported only: no feature uses it yet. */
int sb_kv_pg_timescale(struct sb_kv *kv);

#endif /* SB_STORE_PG_H */

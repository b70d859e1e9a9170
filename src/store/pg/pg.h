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

/* 1 when the server offers the timescaledb extension (pg_available_extensions
 * at open), else 0.  Detected and reported only: no feature uses it yet. */
int sb_kv_pg_timescale(struct sb_kv *kv);

#endif /* SB_STORE_PG_H */

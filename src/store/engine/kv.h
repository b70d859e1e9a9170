/*
 * kv.h - the storage layer under the chunked store engine: the few tables
 * the engine keeps, as blobs keyed by (point, period), behind one ops table
 * per database (SQLite: src/store/sqlite/kv_sqlite.c; PostgreSQL:
 * src/store/pg/kv_pg.c).
 *
 * The engine (src/store/engine/, docs/internals/store.md) owns every decision
 * about readings: the durable head, sealing into chunks, rollup maintenance,
 * late data, reads that merge memory with disk.  A kv backend only moves
 * bytes, so both databases hold exactly the same chunks and rollup pages,
 * maintained by the same code.
 *
 * Tables:
 *   head         (node, seq) -> batch blob   durable appended batches not yet
 *                                            sealed; node is cfg->node ("" for
 *                                            the embedded store)
 *   SB_KV_CHUNK  (point, UTC day) -> chunk   sealed raw samples (store/codec.h)
 *   SB_KV_R15M.. (point, page) -> agg page   rollup pages (store/agg.h)
 *   meta         the node's sealed_seq
 * Periods are signed and within +/- 2^20 (engine_int.h clamps them).
 *
 * Connections: open() returns the store-wide handle and the writer's
 * connection; readers come from conn_open() (one per pooled reader, each used
 * by one thread at a time).  The writer's connection is used by the engine's
 * writer thread only (under the engine's wmu); reads made on it inside a
 * transaction see that transaction's own writes.
 *
 * Errors: 0 or a negative SB_E*; a missing row is not an error (scans just
 * visit nothing); SB_ESTORE for a database error (logged here, with the database's message;
 * never with connection secrets).  Blobs handed to callbacks are valid only
 * during the call.
 */
#ifndef SB_KV_H
#define SB_KV_H

#include <stddef.h>
#include <stdint.h>

struct sb_store_cfg;
struct sb_store_info;
struct sb_model;

enum sb_kv_table {
    SB_KV_CHUNK = 0,
    SB_KV_R15M,
    SB_KV_R1H,
    SB_KV_R1D,
    SB_KV_R1MO,
    SB_KV_NTABLES
};

struct sb_kv;        /* backend state (opaque) */
struct sb_kv_conn;   /* one connection (opaque) */

/* A row: its period (or head seq) and its blob.  Return 0 to go on, 1 to
 * stop the scan (the scan then returns 0), or a negative SB_E* to stop it
 * with that error. */
typedef int (*sb_kv_row_fn)(void *ud, int64_t key, const void *blob, size_t len);

struct sb_kv_ops {
    const char *name;            /* "sqlite", "postgres" */
    int remote;                  /* a server that may be away for a while: the engine
                                    spools batches locally meanwhile (eng_spool.c) */
    /* Connect (creating the data directory / database objects only through
     * migrate).  *w gets the writer's connection (read-only when
     * cfg->readonly).  On failure nothing is left open. */
    int  (*open)(const struct sb_store_cfg *cfg, struct sb_kv **kv, struct sb_kv_conn **w);
    /* Close every connection (readers first) and free kv. */
    void (*close)(struct sb_kv *kv);
    /* Create or upgrade the schema (tables, and the model's); *from / *to get
     * the versions.  Read-only: SB_ENOENT (no schema) or SB_ENOTSUP
     * (another version) unless the schema is current. */
    int  (*migrate)(struct sb_kv *kv, int readonly, int *from, int *to);
    /* A reader connection, closed by close() or conn_close(). */
    int  (*conn_open)(struct sb_kv *kv, struct sb_kv_conn **c);
    void (*conn_close)(struct sb_kv_conn *c);

    /* Writer transactions. */
    int  (*begin)(struct sb_kv_conn *w);
    /* Inside a transaction, before touching chunks or rollups when several
     * nodes share the database (may be NULL: one writer): n > 0 locks those
     * points (ids ascending, so two writers never deadlock) until the
     * transaction ends; n = 0 locks every point (retention). */
    int  (*lock)(struct sb_kv_conn *w, const uint32_t *ids, size_t n);
    int  (*commit)(struct sb_kv_conn *w);
    void (*rollback)(struct sb_kv_conn *w);

    /* Head: put is its own durable transaction (outside begin/commit) and
     * replaces a row of the same seq (a spooled batch may be put twice);
     * trim deletes rows seq <= upto; scan visits rows seq > after in order. */
    int  (*head_put)(struct sb_kv_conn *w, int64_t seq, const void *blob, size_t len);
    int  (*head_trim)(struct sb_kv_conn *w, int64_t upto);
    int  (*head_scan)(struct sb_kv_conn *c, int64_t after, sb_kv_row_fn fn, void *ud);
    /* The node's sealed_seq (0 if never set) and the highest head seq
     * (0 if none); set_sealed writes sealed_seq (inside a transaction). */
    int  (*seqs)(struct sb_kv_conn *c, int64_t *sealed, int64_t *head_max);
    int  (*set_sealed)(struct sb_kv_conn *w, int64_t seq);

    /* Rows of one point with p0 <= period <= p1, ascending (desc = 0) or
     * descending, at most limit rows (0 = all). */
    int  (*scan)(struct sb_kv_conn *c, enum sb_kv_table t, uint32_t point, int64_t p0,
                 int64_t p1, int desc, size_t limit, sb_kv_row_fn fn, void *ud);
    /* Insert or replace / delete one row (writer, inside a transaction). */
    int  (*put)(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period,
                const void *blob, size_t len);
    int  (*del)(struct sb_kv_conn *w, enum sb_kv_table t, uint32_t point, int64_t period);
    /* Delete every row of every point with period < before (retention);
     * *removed gets the count. */
    int  (*delete_before)(struct sb_kv_conn *w, enum sb_kv_table t, int64_t before,
                          int64_t *removed);

    /* Rows in table t, and bytes the store takes on disk. */
    int  (*count)(struct sb_kv_conn *c, enum sb_kv_table t, int64_t *n);
    int  (*bytes)(struct sb_kv *kv, struct sb_kv_conn *c, int64_t *n);
    /* A consistent copy of the store into path (the caller holds the writer:
     * nothing is appended or sealed meanwhile).  NULL: SB_ENOTSUP. */
    int  (*backup)(struct sb_kv *kv, struct sb_kv_conn *w, const char *path);

    /* The building model (model/model.h): load into an empty m on a reader;
     * save replaces it, on the writer inside begin/commit. */
    int  (*model_load)(struct sb_kv_conn *c, struct sb_model *m);
    int  (*model_save)(struct sb_kv_conn *w, const struct sb_model *m);

    /* Fill out->version and the flags from what open() found (no I/O). */
    void (*info)(struct sb_kv *kv, struct sb_store_info *out);

    /* Another node's head (several nodes on one database; NULL where the
     * database is not shared): node_head visits its rows after its
     * sealed_seq in order; node_drop (inside a transaction) deletes its rows
     * seq <= upto and sets its sealed_seq to upto. */
    int  (*node_head)(struct sb_kv_conn *c, const char *node, sb_kv_row_fn fn, void *ud);
    int  (*node_drop)(struct sb_kv_conn *w, const char *node, int64_t upto);

    /* Called at close after the final seal (may be NULL): housekeeping such
     * as SQLite's WAL checkpoint. */
    void (*after_close_seal)(struct sb_kv *kv, struct sb_kv_conn *w);
};

extern const struct sb_kv_ops sb_kv_sqlite_ops;
extern const struct sb_kv_ops sb_kv_pg_ops;

#endif /* SB_KV_H */

/*
 * store.h - the time-series store interface (one ops table per backend).
 *
 * Callers (ingest, API, CLI, analytics) use only the sb_store_* wrappers
 * below; no SQL or backend detail leaks out.  The embedded SQLite backend is
 * the default; a PostgreSQL backend plugs in behind the same table.
 *
 * Threading: one writer thread at a time calls append/flush/retention/
 * set_points/model_save (the ingest writer); any number of other threads may
 * call the read methods (latest, range_raw, range_agg, model_load, stats)
 * concurrently.  Everything a read returns is owned by the caller.
 *
 * Durability: append() returns 0 only when the batch is durable according to
 * the configured sync policy (see docs/internals/store.md); from then on a
 * crash or kill -9 cannot lose it.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "store/agg.h"
#include "store/bucket.h"
#include "store/sample.h"

#define SB_STORE_ABI 1

struct sb_store;     /* opaque, backend-defined */
struct sb_model;     /* model/model.h */

/* What the store needs to know about each point to aggregate it. */
struct sb_point_meta {
    uint32_t id;                 /* point id */
    struct sb_agg_ctx agg;       /* aggregation kind, counter modulus, max hold */
    const struct sb_tz *tz;      /* building's zone for 1h/1d/1mo buckets (NULL = UTC) */
};

/* Options for open (filled from struct sb_config by the caller). */
struct sb_store_cfg {
    const char *dir;             /* data directory (created if missing) */
    int         sync_full;       /* 1: fsync every commit; 0: WAL NORMAL */
    int64_t     cache_bytes;     /* page cache for the main database */
    int64_t     flush_samples;   /* seal when this many samples are buffered */
    int         readonly;        /* open for reading only (CLI query/export) */
    const char *url;             /* postgres: libpq connection string or URI (a secret:
                                    never logged); NULL/"" = libpq's PG* environment */
    const char *node;            /* postgres: this node's name, keys its head rows
                                    (NULL/"" = "default") */
    int         shared;          /* postgres: several nodes write this database (device
                                    leases, docs/internals/cluster-leases.md): a point is
                                    foreign until own() makes it this node's */
};

/* Retention per resolution, ms; 0 keeps forever. */
struct sb_retention {
    int64_t keep[SB_RES_COUNT];  /* indexed by enum sb_res; [SB_RES_1M] unused (1m derives from raw) */
};

/* Counters reported by stats(). */
struct sb_store_stats {
    uint64_t appended;           /* readings accepted since open */
    uint64_t batches;            /* append() calls since open */
    uint64_t flushes;            /* seals since open */
    uint64_t buffered;           /* samples in memory not yet sealed */
    uint64_t chunks;             /* sealed chunks on disk */
    uint64_t raw_samples;        /* samples in sealed chunks */
    int64_t  db_bytes;           /* size of the database files */
    uint64_t spooled;            /* postgres: batches waiting in the local spool while the
                                    server is unreachable (0 = none) */
};

/* What a backend found at open (cheap to ask: no I/O; /readyz shows it). */
struct sb_store_info {
    const char *backend;         /* "sqlite", "postgres" (static) */
    char version[64];            /* database version, e.g. "SQLite 3.40.1", "PostgreSQL 15.8" */
    int  timescaledb;            /* postgres: the timescaledb extension is available */
    int  partitioned;            /* postgres: time-partitioned chunk tables */
};

/* A growable array of samples owned by the caller (free with sb_samples_release). */
struct sb_samples {
    struct sb_sample *v;         /* elements */
    size_t n, cap;               /* used, allocated */
};

/* A growable array of aggregates owned by the caller. */
struct sb_aggs {
    struct sb_agg *v;            /* elements, time order */
    size_t n, cap;               /* used, allocated */
};

struct sb_store_ops {
    int abi;                     /* SB_STORE_ABI */
    const char *name;            /* "sqlite" */
    int  (*open)(const struct sb_store_cfg *cfg, struct sb_store **out);
    void (*close)(struct sb_store *s);
    /* Create or upgrade the schema; *from / *to get the versions (may be NULL). */
    int  (*migrate)(struct sb_store *s, int *from, int *to);
    /* Tell the store every point it may receive (replaces the previous set). */
    int  (*set_points)(struct sb_store *s, const struct sb_point_meta *m, size_t n);
    /* Durably append n readings of known points (any order, duplicates of
     * (point, t) replace earlier values: idempotent for identical ones). */
    int  (*append)(struct sb_store *s, const struct sb_reading *r, size_t n);
    /* Seal buffered samples into chunks and rollups now. */
    int  (*flush)(struct sb_store *s);
    /* Latest sample of each point; out[i].t = INT64_MIN when there is none. */
    int  (*latest)(struct sb_store *s, const uint32_t *ids, size_t n, struct sb_sample *out);
    /* Raw samples of one point with t0 <= t < t1, at most limit (0 = no limit). */
    int  (*range_raw)(struct sb_store *s, uint32_t point, int64_t t0, int64_t t1,
                      size_t limit, struct sb_samples *out);
    /* Non-empty buckets of resolution r overlapping [t0, t1). */
    int  (*range_agg)(struct sb_store *s, uint32_t point, enum sb_res r, int64_t t0,
                      int64_t t1, struct sb_aggs *out);
    /* Delete data older than the retention allows, relative to now_ms. */
    int  (*retention)(struct sb_store *s, int64_t now_ms, const struct sb_retention *keep);
    /* Consistent copy of the whole store into one file at path. */
    int  (*backup)(struct sb_store *s, const char *path);
    int  (*stats)(struct sb_store *s, struct sb_store_stats *st);
    /* The building model kept in the store. */
    int  (*model_load)(struct sb_store *s, struct sb_model *m);
    int  (*model_save)(struct sb_store *s, const struct sb_model *m);
    /* What the backend found at open (no I/O). */
    int  (*info)(struct sb_store *s, struct sb_store_info *out);
    /* Several nodes on one database (cfg.shared; NULL elsewhere).
     * own(1): this node alone writes these points from now on: their state
     * (latest, open rollup buckets) is loaded from the database, which must
     * already hold everything the previous writer acknowledged.  own(0): seal,
     * then forget their state; from then on they are read from the database
     * and a reading appended for them is merged there like late data.
     * adopt(node): move the unsealed head of a node that died into this
     * node's own head (durably) and seal it; *batches gets how many.
     * Both take the writer's lock: callable from any thread (the lease
     * thread, cluster/lease.c) while the ingest writer appends. */
    int  (*own)(struct sb_store *s, const uint32_t *ids, size_t n, int own);
    int  (*adopt)(struct sb_store *s, const char *node, int64_t *batches);
};

/* Backends compiled in; NULL-terminated. */
extern const struct sb_store_ops *const sb_store_backends[];

/* Find a backend by name, NULL if unknown. */
const struct sb_store_ops *sb_store_find(const char *name);

/* The handle the rest of sbems holds: backend + its state. */
struct sb_store_h {
    const struct sb_store_ops *ops;  /* backend */
    struct sb_store *s;              /* backend state */
};

int  sb_store_open(const char *backend, const struct sb_store_cfg *cfg, struct sb_store_h *h);
void sb_store_close(struct sb_store_h *h);

/* Wrappers: callers never touch ops directly.  Optional methods a backend
 * leaves NULL answer SB_ENOTSUP. */
#define SB__STORE_CALL(h, m, ...) ((h)->ops->m ? (h)->ops->m((h)->s, __VA_ARGS__) : SB_ENOTSUP)

static inline int sb_store_migrate(struct sb_store_h *h, int *from, int *to)
{ return SB__STORE_CALL(h, migrate, from, to); }
static inline int sb_store_set_points(struct sb_store_h *h, const struct sb_point_meta *m, size_t n)
{ return SB__STORE_CALL(h, set_points, m, n); }
static inline int sb_store_append(struct sb_store_h *h, const struct sb_reading *r, size_t n)
{ return h->ops->append(h->s, r, n); }
static inline int sb_store_flush(struct sb_store_h *h)
{ return h->ops->flush(h->s); }
static inline int sb_store_latest(struct sb_store_h *h, const uint32_t *ids, size_t n,
                                  struct sb_sample *out)
{ return SB__STORE_CALL(h, latest, ids, n, out); }
static inline int sb_store_range_raw(struct sb_store_h *h, uint32_t point, int64_t t0, int64_t t1,
                                     size_t limit, struct sb_samples *out)
{ return SB__STORE_CALL(h, range_raw, point, t0, t1, limit, out); }
static inline int sb_store_range_agg(struct sb_store_h *h, uint32_t point, enum sb_res r,
                                     int64_t t0, int64_t t1, struct sb_aggs *out)
{ return SB__STORE_CALL(h, range_agg, point, r, t0, t1, out); }
static inline int sb_store_retention(struct sb_store_h *h, int64_t now_ms,
                                     const struct sb_retention *keep)
{ return SB__STORE_CALL(h, retention, now_ms, keep); }
static inline int sb_store_backup(struct sb_store_h *h, const char *path)
{ return SB__STORE_CALL(h, backup, path); }
static inline int sb_store_stats(struct sb_store_h *h, struct sb_store_stats *st)
{ return SB__STORE_CALL(h, stats, st); }
static inline int sb_store_model_load(struct sb_store_h *h, struct sb_model *m)
{ return SB__STORE_CALL(h, model_load, m); }
static inline int sb_store_info(struct sb_store_h *h, struct sb_store_info *out)
{ return SB__STORE_CALL(h, info, out); }
static inline int sb_store_model_save(struct sb_store_h *h, const struct sb_model *m)
{ return SB__STORE_CALL(h, model_save, m); }
static inline int sb_store_own(struct sb_store_h *h, const uint32_t *ids, size_t n, int own)
{ return SB__STORE_CALL(h, own, ids, n, own); }
static inline int sb_store_adopt(struct sb_store_h *h, const char *node, int64_t *batches)
{ return SB__STORE_CALL(h, adopt, node, batches); }

void sb_samples_release(struct sb_samples *a);
void sb_aggs_release(struct sb_aggs *a);
int  sb_samples_push(struct sb_samples *a, const struct sb_sample *x);
int  sb_samples_reserve(struct sb_samples *a, size_t n);
int  sb_aggs_push(struct sb_aggs *a, const struct sb_agg *x);

#endif /* SB_STORE_H */

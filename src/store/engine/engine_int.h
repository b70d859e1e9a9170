/*
 * engine_int.h - internals of the chunked time-series engine, which both
 * store backends run: it keeps, through a kv layer (kv.h; SQLite or
 * PostgreSQL underneath, docs/internals/store.md):
 *   head    durable batches not yet sealed, one row per append
 *   chunk   sealed raw samples, one row per point and UTC day
 *   r15m/r1h/r1d/r1mo  rollup pages per point
 *   meta    sealed_seq
 *   the building model (model_sql.c / pg_model.c)
 * Rows are keyed by (point, period); periods stay within +/- 2^20 (days:
 * +/- 2,870 years around 1970), which the SQLite layer packs into one row id.
 *
 * In memory, per point (struct sb__pt): the latest sample, samples appended
 * but not yet sealed ("buffer"), and the rollup state of the buckets the
 * series is currently in (current 15-min bucket, the closed parts of the
 * current hour/day/month, and buckets closed since the last seal).  Readers
 * merge that state with what is on disk.  Only the writer thread changes it,
 * under mu; readers copy what they need under mu, then read the database.
 */
#ifndef SB_ENGINE_INT_H
#define SB_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "store/engine/kv.h"
#include "store/store.h"

#define SB__ROW_SHIFT   21
#define SB__ROW_BIAS    (1LL << 20)
#define SB__DAY_MS      86400000LL
#define SB__NREADERS    4

/* Rollup levels kept on disk, in order of coarseness. */
enum { L15 = 0, L1H, L1D, L1MO, NLEVELS };

/* Rows per page: a page groups a point's buckets whose start falls in it. */
extern const int64_t sb__page_ms[NLEVELS];
extern const enum sb_res sb__level_res[NLEVELS];
extern const char *const sb__level_table[NLEVELS];
extern const enum sb_kv_table sb__level_kv[NLEVELS];

/* A growable list of closed buckets waiting to be written. */
struct sb__aggv {
    struct sb_agg *v;        /* buckets, time order */
    uint32_t n, cap;         /* used, allocated */
};

/* Per-point state. */
struct sb__pt {
    struct sb_point_meta meta;   /* kind, tz, hold (copied from set_points) */
    struct sb_sample last;       /* latest sample by time (latest()) */
    uint8_t  have_last;          /* last is valid */
    uint8_t  inited;             /* last/tail loaded from disk */
    uint8_t  cur_ok;             /* cur/acc below are valid */
    uint8_t  late;               /* buffer holds samples at or before tail */
    uint8_t  sorted;             /* buffer is sorted by t without duplicates */
    uint8_t  have_tail;          /* tail is valid */
    uint8_t  foreign;            /* another node writes this point (cfg.shared): no
                                    state is kept; its samples seal like late data */
    struct sb_sample tail;       /* newest sample folded into the rollups */
    struct sb_sample *buf;       /* unsealed samples, arrival order */
    uint32_t nbuf, capbuf;       /* used, allocated */
    int64_t  late_min;           /* earliest late sample time */
    struct sb_agg cur[NLEVELS];  /* [L15] open 15-min bucket; [Lx>0] merge of the
                                    closed children of the open bucket at level x */
    struct sb__aggv closed[NLEVELS]; /* buckets closed since the last seal */
    uint32_t dirty_next;         /* index in the store's dirty list + 1, 0 = clean */
};

/* A connection for reads (pooled readers, and the writer's own). */
struct sb__rd {
    const struct sb_kv_ops *kv;  /* its kv layer */
    struct sb_kv_conn *c;        /* connection (owned by the kv layer) */
    int busy;                    /* lent out (readers only) */
};

struct sb_store {
    char    *dir;                /* data directory (owned) */
    char    *url;                /* postgres connection string (owned, secret) */
    char    *node;               /* node name (owned) */
    const struct sb_kv_ops *kvo; /* the kv layer */
    struct sb_kv *kv;            /* its state */
    struct sb_kv_conn *w;        /* writer connection (writer thread only, under wmu) */
    pthread_mutex_t wmu;         /* serialises use of w */
    pthread_mutex_t mu;          /* protects pts and counters */
    struct sb__rd rd[SB__NREADERS]; /* reader connections */
    struct sb__rd wr;            /* the writer's statements for range reads (on w) */
    pthread_mutex_t rmu;         /* protects rd[].busy */
    pthread_cond_t  rcv;         /* signalled when a reader is returned */
    struct sb__pt **pts;         /* indexed by point id; NULL = never seen */
    uint32_t npts;               /* length of pts */
    uint32_t *dirty;             /* ids of points with unsealed state */
    uint32_t ndirty, capdirty;   /* used, allocated */
    int64_t  head_seq;           /* last head row written */
    int64_t  sealed_seq;         /* last head row sealed */
    int64_t  last_seal_ms;       /* monotonic time of the last seal */
    int      replayed;           /* head replayed into memory */
    struct sb_store_cfg cfg;     /* copy (dir points to our copy) */
    struct sb_store_stats st;    /* counters */
    uint64_t pending_aggs;       /* closed buckets waiting to be written */
    /* the local spool (eng_spool.c; servers only), writer thread under wmu */
    _Atomic uint64_t spooled;    /* batch files waiting in <dir>/spool (stats reads it) */
    uint64_t st_spooled;         /* batches spooled since open */
    int64_t  backoff_ms;         /* current back-off, 0 = the server answers */
    int64_t  retry_at_ms;        /* monotonic time before which it is not asked */
};

static inline int64_t sb__floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Shared internals (eng_*.c). */
int64_t sb__now_mono_ms(void);
struct sb__pt *sb__pt_get(struct sb_store *s, uint32_t id, int create);
void sb__mark_dirty(struct sb_store *s, struct sb__pt *p);
int  sb__pt_init(struct sb_store *s, struct sb__pt *p, uint32_t id);
int  sb__aggv_push(struct sb__aggv *a, const struct sb_agg *x);

/* Raw chunks: decode one row; read [t0, t1) of a point; the last sample
 * before t (SB_ENOENT if none). */
int  sb__chunk_decode_append(const void *blob, size_t len, struct sb_samples *out);
int  sb__chunk_read_range(struct sb__rd *rd, uint32_t point, int64_t t0, int64_t t1,
                          struct sb_samples *out);
int  sb__chunk_prev(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out);
int  sb__chunk_next(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out);
/* Clamp a period into the range the kv layer keys. */
int64_t sb__clamp_period(int64_t d);

/* Copy n samples sorted by time into out (replacing its content), the last
 * arrival winning among equal times; sorted = already strictly increasing. */
int  sb__sorted_copy(const struct sb_sample *buf, size_t n, int sorted, struct sb_samples *out);
/* Sort x[0..n) by time in place, the last arrival winning among equal
 * times; returns the new count (0 with *err = SB_ENOMEM on failure). */
size_t sb__sort_dedup(struct sb_sample *x, size_t n, int *err);

/* Rollups. */
void sb__fold(struct sb_store *s, struct sb__pt *p, const struct sb_sample *x);
int  sb__load_cur(struct sb_store *s, struct sb__pt *p);
int  sb__compute_cur(struct sb__rd *rd, const struct sb_point_meta *m,
                     const struct sb_sample *tail, struct sb_agg cur[NLEVELS]);
int  sb__pages_range(struct sb__rd *rd, int lvl, uint32_t point, int64_t t0, int64_t t1,
                     struct sb_aggs *out);
int  sb__pages_put(struct sb_store *s, int lvl, uint32_t point, const struct sb_agg *a,
                   size_t n, int64_t t0, int64_t t1);
void sb__current(const struct sb_agg_ctx *c, const struct sb_agg cur[NLEVELS], int lvl,
                 struct sb_agg *out);

/* Sealing and queries. */
int  sb__seal(struct sb_store *s);
int  sb__replay(struct sb_store *s);
/* Apply a durable head batch to memory (mu held). */
int  sb__apply(struct sb_store *s, const uint8_t *blob, size_t len, int *any_late);
struct sb__rd *sb__reader_get(struct sb_store *s);
void sb__reader_put(struct sb_store *s, struct sb__rd *rd);

/* The batch format shared by head rows (and the control protocol later). */
int  sb__batch_encode(const struct sb_reading *r, size_t n, uint8_t **out, size_t *outlen);
int  sb__batch_decode(const uint8_t *buf, size_t len,
                      int (*cb)(void *ud, uint32_t point, const struct sb_sample *s, size_t n),
                      void *ud);

/* The local spool (eng_spool.c): at open, after the seqs are loaded and
 * before the replay; in append, instead of head_put; after a seal commits. */
int  sb__spool_open(struct sb_store *s);
int  sb__spool_append(struct sb_store *s, int64_t seq, const uint8_t *blob, size_t len);
void sb__spool_sealed(struct sb_store *s);
/* Visit the spooled batches newer than sealed_seq, by sequence (replay). */
int  sb__spool_replay(struct sb_store *s, sb_kv_row_fn fn, void *ud);

/* Open a store on kv layer kvo (the backends' open). */
int  sb__eng_open(const struct sb_kv_ops *kvo, const struct sb_store_cfg *cfg,
                  struct sb_store **out);

#endif /* SB_ENGINE_INT_H */

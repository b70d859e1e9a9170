/*
 * eng_store.c - the store engine: open, durable append, replay, latest
 * values, stats, backup, and the backends' ops tables (SQLite, PostgreSQL:
 * the same engine over their kv layers, kv.h).  Sealing is in eng_seal.c, rollup
 * maintenance in eng_rollup.c, reads in eng_query.c.
 * See engine_int.h for the layout and docs/internals/store.md for the design.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "model/model.h"
#include "store/codec.h"
#include "store/engine/engine_int.h"

int64_t sb__now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- per-point state ---------------------------------------------------- */

struct sb__pt *sb__pt_get(struct sb_store *s, uint32_t id, int create)
{
    if (id < s->npts && s->pts[id])
        return s->pts[id];
    if (!create || id == 0)
        return NULL;
    if (id >= s->npts) {
        uint32_t n = s->npts ? s->npts : 1024;
        while (n <= id)
            n *= 2;
        struct sb__pt **np = realloc(s->pts, (size_t)n * sizeof(*np));
        if (!np)
            return NULL;
        memset(np + s->npts, 0, (size_t)(n - s->npts) * sizeof(*np));
        s->pts = np;
        s->npts = n;
    }
    struct sb__pt *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->meta.id = id;
    p->meta.agg.kind = SB_AGG_MEAN;
    p->meta.agg.max_hold_ms = 15 * 60000;
    p->sorted = 1;
    p->foreign = s->cfg.shared ? 1 : 0;
    s->pts[id] = p;
    return p;
}

void sb__mark_dirty(struct sb_store *s, struct sb__pt *p)
{
    if (p->dirty_next)
        return;
    if (s->ndirty == s->capdirty) {
        uint32_t nc = s->capdirty ? s->capdirty * 2 : 1024;
        uint32_t *nd = realloc(s->dirty, nc * sizeof(*nd));
        if (!nd)
            return;   /* point stays clean in the list; seal scans all (below) */
        s->dirty = nd;
        s->capdirty = nc;
    }
    s->dirty[s->ndirty++] = p->meta.id;
    p->dirty_next = s->ndirty;
}

int sb__aggv_push(struct sb__aggv *a, const struct sb_agg *x)
{
    if (a->n == a->cap) {
        uint32_t nc = a->cap ? a->cap * 2 : 8;
        struct sb_agg *nv = realloc(a->v, nc * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        a->v = nv;
        a->cap = nc;
    }
    a->v[a->n++] = *x;
    return 0;
}

static void pt_free(struct sb__pt *p)
{
    if (!p)
        return;
    free(p->buf);
    for (int l = 0; l < NLEVELS; l++)
        free(p->closed[l].v);
    free(p);
}

/* Load the newest sealed sample of a point (the last sample of its last
 * chunk): where its rollups continue from. */
int sb__pt_init(struct sb_store *s, struct sb__pt *p, uint32_t id)
{
    struct sb_sample x;
    int rc = sb__chunk_prev(&s->wr, id, INT64_MAX, &x);

    p->inited = 1;
    if (rc == 0) {
        p->tail = p->last = x;
        p->have_tail = p->have_last = 1;
    } else if (rc == SB_ENOENT) {
        rc = 0;
    } else {
        SB_ERR("store", "point %u: last chunk unreadable: %s", id, sb_strerror(rc));
    }
    return rc;
}

/* ---- schema ------------------------------------------------------------- */

static int do_migrate(struct sb_store *s, int *from, int *to)
{
    return s->kvo->migrate(s->kv, s->cfg.readonly, from, to);
}

static int load_seqs(struct sb_store *s)
{
    int rc = s->kvo->seqs(s->w, &s->sealed_seq, &s->head_seq);
    if (rc == 0 && s->head_seq < s->sealed_seq)
        s->head_seq = s->sealed_seq;
    return rc;
}

/* ---- open / close ------------------------------------------------------- */

static void store_free(struct sb_store *s)
{
    if (s->kv)
        s->kvo->close(s->kv);   /* every connection, readers included */
    for (uint32_t i = 0; i < s->npts; i++)
        pt_free(s->pts[i]);
    free(s->pts);
    free(s->dirty);
    free(s->url);
    free(s->node);
    free(s->dir);
    pthread_mutex_destroy(&s->wmu);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s);
}

static char *dup_or_empty(const char *x)
{
    return strdup(x ? x : "");
}

int sb__eng_open(const struct sb_kv_ops *kvo, const struct sb_store_cfg *cfg,
                 struct sb_store **out)
{
    struct sb_store *s = calloc(1, sizeof(*s));
    int rc = SB_ENOMEM;

    *out = NULL;
    if (!s)
        return SB_ENOMEM;
    pthread_mutex_init(&s->wmu, NULL);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);
    s->kvo = kvo;
    s->cfg = *cfg;
    s->dir = dup_or_empty(cfg->dir);
    s->url = dup_or_empty(cfg->url);
    s->node = dup_or_empty(cfg->node);
    if (!s->dir || !s->url || !s->node)
        goto out;
    s->cfg.dir = s->dir;
    s->cfg.url = s->url;
    s->cfg.node = s->node;
    if (s->cfg.cache_bytes <= 0)
        s->cfg.cache_bytes = 64 << 20;
    if (s->cfg.flush_samples <= 0)
        s->cfg.flush_samples = 1000000;
    if ((rc = kvo->open(&s->cfg, &s->kv, &s->w)))
        goto out;
    s->wr.kv = kvo;
    s->wr.c = s->w;
    for (int i = 0; i < SB__NREADERS; i++)
        s->rd[i].kv = kvo;
    rc = do_migrate(s, NULL, NULL);
    if (rc == 0)
        rc = load_seqs(s);
    if (rc == 0)
        rc = sb__spool_open(s);
out:
    if (rc) {
        store_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void st_close(struct sb_store *s)
{
    if (!s)
        return;
    if (!s->cfg.readonly && s->replayed) {
        pthread_mutex_lock(&s->wmu);
        /* The last chance to empty the spool: the back-off does not apply.
         * A seal covers the spooled batches (they are in memory), so their
         * files go; a server still away leaves them for the next open. */
        s->retry_at_ms = 0;
        int rc = sb__seal(s);
        if (rc)
            SB_ERR("store", "final seal failed: %s (data stays in the head)", sb_strerror(rc));
        if (s->kvo->after_close_seal)
            s->kvo->after_close_seal(s->kv, s->w);
        pthread_mutex_unlock(&s->wmu);
    }
    store_free(s);
}

static int st_migrate(struct sb_store *s, int *from, int *to)
{
    pthread_mutex_lock(&s->wmu);
    int rc = do_migrate(s, from, to);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- points ------------------------------------------------------------- */

static int st_set_points(struct sb_store *s, const struct sb_point_meta *m, size_t n)
{
    int rc = 0;

    pthread_mutex_lock(&s->wmu);
    for (size_t i = 0; i < n && rc == 0; i++) {
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, m[i].id, 1);
        if (p) {
            p->meta = m[i];
            if (p->meta.agg.max_hold_ms <= 0)
                p->meta.agg.max_hold_ms = 15 * 60000;
        }
        pthread_mutex_unlock(&s->mu);
        if (!p)
            rc = SB_ENOMEM;
        else if (!p->inited && !p->foreign)
            rc = sb__pt_init(s, p, m[i].id);
    }
    /* A read-only handle replays too (into memory only), so queries made
     * while the daemon runs see the readings not yet sealed. */
    if (rc == 0 && !s->replayed)
        rc = sb__replay(s);
    /* Rebuild every point's open buckets now rather than on its first
     * query (which would otherwise pay it at every query until the point's
     * next sample): ~50 us a point.  A read-only handle (the CLI) asks for
     * a few points only, and rebuilds them per query. */
    for (size_t i = 0; i < n && rc == 0 && !s->cfg.readonly; i++) {
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, m[i].id, 0);
        if (p && p->have_tail && !p->cur_ok)
            rc = sb__load_cur(s, p);
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- append ------------------------------------------------------------- */

/* Apply one point's sorted, de-duplicated samples of a durable batch to the
 * in-memory state: buffer them, fold the in-order ones into the rollups. */
static int apply_group(struct sb_store *s, uint32_t point, const struct sb_sample *x,
                       size_t n)
{
    struct sb__pt *p = sb__pt_get(s, point, 1);
    if (!p)
        return SB_ENOMEM;
    if (p->nbuf + n > p->capbuf) {
        size_t nc = p->capbuf ? p->capbuf : 16;
        while (nc < p->nbuf + n)
            nc *= 2;
        struct sb_sample *nb = realloc(p->buf, nc * sizeof(*nb));
        if (!nb)
            return SB_ENOMEM;
        p->buf = nb;
        p->capbuf = (uint32_t)nc;
    }
    if (p->nbuf > 0 && x[0].t <= p->buf[p->nbuf - 1].t)
        p->sorted = 0;
    memcpy(p->buf + p->nbuf, x, n * sizeof(*x));
    p->nbuf += (uint32_t)n;
    if (p->foreign) {
        /* No state here to fold into: the seal merges these samples into
         * the chunks and recomputes the buckets they touch from disk. */
        if (!p->late || x[0].t < p->late_min)
            p->late_min = x[0].t;
        p->late = 1;
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (!p->have_tail || x[i].t > p->tail.t) {
            sb__fold(s, p, &x[i]);
        } else {
            if (!p->late || x[i].t < p->late_min)
                p->late_min = x[i].t;
            p->late = 1;
        }
        if (!p->have_last || x[i].t >= p->last.t) {
            p->last = x[i];
            p->have_last = 1;
        }
    }
    sb__mark_dirty(s, p);
    s->st.buffered += n;
    return 0;
}

struct apply_ctx {
    struct sb_store *s;   /* store */
    int any_late;         /* a group had late samples */
};

static int apply_cb(void *ud, uint32_t point, const struct sb_sample *x, size_t n)
{
    struct apply_ctx *a = ud;
    int rc = apply_group(a->s, point, x, n);
    struct sb__pt *p = sb__pt_get(a->s, point, 0);
    if (p && p->late)
        a->any_late = 1;
    return rc;
}

int sb__apply(struct sb_store *s, const uint8_t *blob, size_t len, int *any_late)
{
    struct apply_ctx a = { s, 0 };
    int rc = sb__batch_decode(blob, len, apply_cb, &a);
    *any_late = a.any_late;
    return rc;
}

/* Seal when enough is buffered, or soon after late data (so rollups that
 * late data changes are not stale for long). */
static int need_seal(struct sb_store *s, int any_late)
{
    if ((int64_t)s->st.buffered >= s->cfg.flush_samples)
        return 1;
    if ((int64_t)s->pending_aggs >= s->cfg.flush_samples / 4)
        return 1;
    return any_late && sb__now_mono_ms() - s->last_seal_ms >= 1000;
}

/* Make an encoded batch durable in this node's head, then apply it to
 * memory (under wmu).  n: its readings, for the counters. */
static int append_blob(struct sb_store *s, const uint8_t *blob, size_t len, size_t n,
                       int *any_late)
{
    int rc = sb__spool_append(s, s->head_seq + 1, blob, len);
    if (rc)
        return rc;
    /* Durable from here (its own commit under the sync policy, or in the
     * local spool while the server is away). */
    s->head_seq++;
    pthread_mutex_lock(&s->mu);
    rc = sb__apply(s, blob, len, any_late);
    s->st.appended += n;
    s->st.batches++;
    pthread_mutex_unlock(&s->mu);
    if (rc)   /* the batch is durable in the head; a restart replays it */
        SB_ERR("store", "in-memory apply failed: %s", sb_strerror(rc));
    return 0;
}

static int st_append(struct sb_store *s, const struct sb_reading *r, size_t n)
{
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc, any_late = 0;

    if (s->cfg.readonly)
        return SB_ENOTSUP;
    if (n == 0)
        return 0;
    pthread_mutex_lock(&s->wmu);
    if (!s->replayed && (rc = sb__replay(s)))
        goto out;
    if ((rc = sb__batch_encode(r, n, &blob, &len)) ||
        (rc = append_blob(s, blob, len, n, &any_late)))
        goto out;
    /* The batch is durable: a seal that fails now (it logs why) fails no
     * append; its data stays in memory and the head for the next one. */
    if (need_seal(s, any_late))
        (void)sb__seal(s);
out:
    pthread_mutex_unlock(&s->wmu);
    free(blob);
    return rc;
}

/* ---- several nodes on one database (cfg.shared) ------------------------- */

/* Forget a point's state: another node writes it from now on. */
static void pt_forget(struct sb__pt *p)
{
    p->foreign = 1;
    p->inited = p->have_last = p->have_tail = p->cur_ok = 0;
    p->late = 0;
    p->nbuf = 0;
    p->sorted = 1;
    free(p->buf);
    p->buf = NULL;
    p->capbuf = 0;
    for (int l = 0; l < NLEVELS; l++)
        p->closed[l].n = 0;
}

static int st_own(struct sb_store *s, const uint32_t *ids, size_t n, int own)
{
    int rc = 0;

    if (s->cfg.readonly || !s->cfg.shared)
        return SB_ENOTSUP;
    pthread_mutex_lock(&s->wmu);
    /* Everything buffered goes to disk first: the next writer starts from
     * there (own = 0), or this node does (own = 1: foreign samples it was
     * given meanwhile are merged into the chunks it is about to load). */
    s->retry_at_ms = 0;
    if (!s->replayed)
        rc = sb__replay(s);
    if (rc == 0)
        rc = sb__seal(s);
    for (size_t i = 0; i < n && rc == 0; i++) {
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, ids[i], 1);
        if (!p) {
            rc = SB_ENOMEM;
        } else if (!own) {
            pt_forget(p);
        } else if (p->foreign) {
            p->foreign = 0;
            if ((rc = sb__pt_init(s, p, ids[i])) == 0 && p->have_tail)
                rc = sb__load_cur(s, p);
        }
        pthread_mutex_unlock(&s->mu);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

struct adopt_ctx {
    struct sb_store *s;   /* store */
    int64_t upto;         /* last seq of the dead node's head moved */
    int64_t batches;      /* rows moved */
    int any_late;
};

static int adopt_row(void *ud, int64_t seq, const void *blob, size_t len)
{
    struct adopt_ctx *a = ud;
    int late = 0;
    int rc = append_blob(a->s, blob, len, 0, &late);
    if (rc)
        return rc;
    a->upto = seq;
    a->batches++;
    a->any_late |= late;
    return 0;
}

/*
 * A node died with batches it had acknowledged still in its head.  They
 * become batches of this node's head (durable here first), then leave the
 * dead node's head in one transaction.  A crash in between leaves them in
 * both heads: applying a batch twice is harmless (engine_int.h).
 */
static int st_adopt(struct sb_store *s, const char *node, int64_t *batches)
{
    struct adopt_ctx a = { s, 0, 0, 0 };
    int rc = 0;

    *batches = 0;
    if (s->cfg.readonly || !s->kvo->node_head)
        return SB_ENOTSUP;
    if (!node || !*node || strcmp(node, s->node) == 0)
        return SB_EINVAL;
    pthread_mutex_lock(&s->wmu);
    s->retry_at_ms = 0;
    if (!s->replayed)
        rc = sb__replay(s);
    if (rc == 0)
        rc = s->kvo->node_head(s->w, node, adopt_row, &a);
    if (rc == 0 && a.batches) {
        if ((rc = s->kvo->begin(s->w)) == 0) {
            rc = s->kvo->node_drop(s->w, node, a.upto);
            if (rc == 0)
                rc = s->kvo->commit(s->w);
            else
                s->kvo->rollback(s->w);
        }
    }
    if (rc == 0)
        rc = sb__seal(s);
    pthread_mutex_unlock(&s->wmu);
    if (rc == 0 && a.batches)
        SB_INFO("store", "adopted %lld unsealed batches of node %s", (long long)a.batches,
                node);
    *batches = a.batches;
    return rc;
}

static int st_flush(struct sb_store *s)
{
    if (s->cfg.readonly)
        return 0;
    pthread_mutex_lock(&s->wmu);
    int rc = s->replayed ? sb__seal(s) : sb__replay(s);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- latest, stats, backup ---------------------------------------------- */

static int st_latest(struct sb_store *s, const uint32_t *ids, size_t n, struct sb_sample *out)
{
    struct sb__rd *db = NULL;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        out[i].t = INT64_MIN;
        pthread_mutex_lock(&s->mu);
        struct sb__pt *p = sb__pt_get(s, ids[i], 0);
        int known = p && !p->foreign && (p->inited || p->have_last);
        if (p && p->have_last)
            out[i] = p->last;
        if (p && p->foreign)
            for (uint32_t k = 0; k < p->nbuf; k++)   /* appended, not yet sealed */
                if (p->buf[k].t >= out[i].t)
                    out[i] = p->buf[k];
        pthread_mutex_unlock(&s->mu);
        if (known)
            continue;
        /* Not loaded (read-only handle, unknown or foreign point): look on disk. */
        if (!db && !(db = sb__reader_get(s))) {
            rc = SB_ESTORE;
            break;
        }
        struct sb_sample x;
        rc = sb__chunk_prev(db, ids[i], INT64_MAX, &x);
        if (rc == 0 && x.t > out[i].t)
            out[i] = x;
        else if (rc == SB_ENOENT)
            rc = 0;
        else
            break;
    }
    if (db)
        sb__reader_put(s, db);
    return rc;
}

static int st_stats(struct sb_store *s, struct sb_store_stats *st)
{
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    st->spooled = s->spooled;
    pthread_mutex_unlock(&s->mu);
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd)
        return SB_ESTORE;
    int64_t chunks = 0, bytes = 0;
    int rc = s->kvo->count(rd->c, SB_KV_CHUNK, &chunks);
    if (rc == 0)
        rc = s->kvo->bytes(s->kv, rd->c, &bytes);
    st->chunks = (uint64_t)chunks;
    st->db_bytes = bytes;
    sb__reader_put(s, rd);
    return rc;
}

static int st_backup(struct sb_store *s, const char *path)
{
    int rc = 0;

    if (!s->kvo->backup)
        return SB_ENOTSUP;
    pthread_mutex_lock(&s->wmu);
    /* Seal first and hold the writer: no seal or append lands during the
     * copy, which so holds every acknowledged reading. */
    if (!s->cfg.readonly && s->replayed)
        rc = sb__seal(s);
    if (rc == 0)
        rc = s->kvo->backup(s->kv, s->w, path);
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

/* ---- reader pool -------------------------------------------------------- */

/* Readers are opened on first use; a query borrows one for its duration. */
struct sb__rd *sb__reader_get(struct sb_store *s)
{
    struct sb__rd *rd = NULL;

    pthread_mutex_lock(&s->rmu);
    for (;;) {
        for (int i = 0; i < SB__NREADERS; i++) {
            if (s->rd[i].busy)
                continue;
            if (!s->rd[i].c && s->kvo->conn_open(s->kv, &s->rd[i].c) != 0)
                goto out;
            s->rd[i].busy = 1;
            rd = &s->rd[i];
            goto out;
        }
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
out:
    pthread_mutex_unlock(&s->rmu);
    return rd;
}

void sb__reader_put(struct sb_store *s, struct sb__rd *rd)
{
    pthread_mutex_lock(&s->rmu);
    rd->busy = 0;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

/* ---- model -------------------------------------------------------------- */

static int st_model_load(struct sb_store *s, struct sb_model *m)
{
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd)
        return SB_ESTORE;
    int rc = s->kvo->model_load(rd->c, m);
    sb__reader_put(s, rd);
    return rc;
}

static int st_model_save(struct sb_store *s, const struct sb_model *m)
{
    if (s->cfg.readonly)
        return SB_ENOTSUP;
    pthread_mutex_lock(&s->wmu);
    int rc = s->kvo->begin(s->w);
    if (rc == 0) {
        rc = s->kvo->model_save(s->w, m);
        if (rc == 0)
            rc = s->kvo->commit(s->w);
        else
            s->kvo->rollback(s->w);
    }
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

static int st_info(struct sb_store *s, struct sb_store_info *out)
{
    memset(out, 0, sizeof(*out));
    out->backend = s->kvo->name;
    if (s->kvo->info)
        s->kvo->info(s->kv, out);
    return 0;
}

static int open_sqlite(const struct sb_store_cfg *cfg, struct sb_store **out)
{
    return sb__eng_open(&sb_kv_sqlite_ops, cfg, out);
}

static int open_pg(const struct sb_store_cfg *cfg, struct sb_store **out)
{
    return sb__eng_open(&sb_kv_pg_ops, cfg, out);
}

extern int sb__st_range_raw(struct sb_store *s, uint32_t point, int64_t t0, int64_t t1,
                            size_t limit, struct sb_samples *out);
extern int sb__st_range_agg(struct sb_store *s, uint32_t point, enum sb_res r, int64_t t0,
                            int64_t t1, struct sb_aggs *out);
extern int sb__st_retention(struct sb_store *s, int64_t now_ms, const struct sb_retention *k);

#define SB__ENGINE_OPS                        \
    .close = st_close,                        \
    .migrate = st_migrate,                    \
    .set_points = st_set_points,              \
    .append = st_append,                      \
    .flush = st_flush,                        \
    .latest = st_latest,                      \
    .range_raw = sb__st_range_raw,            \
    .range_agg = sb__st_range_agg,            \
    .retention = sb__st_retention,            \
    .backup = st_backup,                      \
    .stats = st_stats,                        \
    .model_load = st_model_load,              \
    .model_save = st_model_save,              \
    .own = st_own,                            \
    .adopt = st_adopt,                        \
    .info = st_info

const struct sb_store_ops sb_store_pg_ops = {
    .abi = SB_STORE_ABI,
    .name = "postgres",
    .open = open_pg,
    SB__ENGINE_OPS,
};

const struct sb_store_ops sb_store_sqlite_ops = {
    .abi = SB_STORE_ABI,
    .name = "sqlite",
    .open = open_sqlite,
    SB__ENGINE_OPS,
};

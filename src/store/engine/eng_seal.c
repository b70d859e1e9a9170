/*
 * eng_seal.c - sealing: buffered samples become chunks and rollup pages,
 * in one transaction that also deletes the head rows they came from; head
 * replay at start-up; retention.
 *
 * Invariant: what is on disk in the chunk and r* tables reflects exactly the
 * head rows with seq <= meta.sealed_seq; later rows are replayed into memory
 * when the store opens, so a crash at any moment loses nothing append()
 * acknowledged.  Re-applying a row twice is harmless: a duplicate (point, t)
 * replaces the earlier sample with the same value.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/codec.h"
#include "store/engine/engine_int.h"

/* Copy buf sorted by time into out, the last arrival winning among equal
 * times.  Returns 0 or SB_ENOMEM. */
int sb__sorted_copy(const struct sb_sample *buf, size_t n, int sorted, struct sb_samples *out)
{
    int rc = sb_samples_reserve(out, n);
    if (rc)
        return rc;
    out->n = 0;
    if (n == 0)
        return 0;
    memcpy(out->v, buf, n * sizeof(*buf));
    out->n = sorted ? n : sb__sort_dedup(out->v, n, &rc);
    return rc;
}

/* Merge new samples (sorted) into old (sorted) -> out; new wins on ties. */
static int merge_samples(const struct sb_samples *old, const struct sb_sample *nw, size_t nn,
                         struct sb_samples *out)
{
    size_t i = 0, j = 0;
    int rc = sb_samples_reserve(out, old->n + nn);
    if (rc)
        return rc;
    out->n = 0;
    while (i < old->n || j < nn) {
        if (j == nn || (i < old->n && old->v[i].t < nw[j].t)) {
            out->v[out->n++] = old->v[i++];
        } else {
            if (i < old->n && old->v[i].t == nw[j].t)
                i++;
            out->v[out->n++] = nw[j++];
        }
    }
    return 0;
}

static int old_row(void *ud, int64_t day, const void *blob, size_t len)
{
    return sb__chunk_decode_append(blob, len, ud);
}

/* Merge one day's new samples into that day's chunk row. */
static int seal_day(struct sb_store *s, uint32_t point, int64_t day, const struct sb_sample *x,
                    size_t n, struct sb_samples *old, struct sb_samples *mrg)
{
    uint8_t *buf = NULL;
    int rc = 0;

    old->n = 0;
    rc = s->kvo->scan(s->w, SB_KV_CHUNK, point, day, day, 0, 1, old_row, old);
    if (rc == SB_ECORRUPT)
        SB_ERR("store", "point %u day %lld: corrupt chunk replaced by new data", point,
               (long long)day);
    if (rc && rc != SB_ECORRUPT)
        return rc;
    if ((rc = merge_samples(old, x, n, mrg)))
        return rc;
    ssize_t len = sb_chunk_encode(NULL, 0, mrg->v, mrg->n);
    if (len < 0)
        return (int)len;
    if (!(buf = malloc((size_t)len)))
        return SB_ENOMEM;
    len = sb_chunk_encode(buf, (size_t)len, mrg->v, mrg->n);
    if (len < 0) {
        rc = (int)len;
        goto out;
    }
    if ((rc = s->kvo->put(s->w, SB_KV_CHUNK, point, day, buf, (size_t)len)))
        goto out;
    s->st.raw_samples += mrg->n - old->n;
out:
    free(buf);
    return rc;
}

static int seal_raw(struct sb_store *s, uint32_t point, const struct sb_samples *x)
{
    struct sb_samples old = { 0 }, mrg = { 0 };
    int rc = 0;

    for (size_t i = 0; i < x->n && rc == 0;) {
        int64_t day = sb__floordiv(x->v[i].t, SB__DAY_MS);
        size_t j = i;
        while (j < x->n && sb__floordiv(x->v[j].t, SB__DAY_MS) == day)
            j++;
        rc = seal_day(s, point, day, x->v + i, j - i, &old, &mrg);
        i = j;
    }
    sb_samples_release(&old);
    sb_samples_release(&mrg);
    return rc;
}

/* ---- rollups ------------------------------------------------------------ */

/* Write the buckets closed since the last seal.  The open ones stay in
 * memory (readers merge them in); after a restart they are rebuilt from the
 * raw samples and the closed children on disk (sb__compute_cur). */
static int seal_inorder(struct sb_store *s, struct sb__pt *p)
{
    int rc = 0;

    for (int l = 0; l < NLEVELS && rc == 0; l++)
        if (p->closed[l].n)
            rc = sb__pages_put(s, l, p->meta.id, p->closed[l].v, p->closed[l].n, 0, 0);
    return rc;
}

/* Recompute the coarse buckets over the 15-min range [r0, r1). */
static int recompute_coarse(struct sb_store *s, struct sb__pt *p, int64_t r0, int64_t r1)
{
    const struct sb_tz *tz = p->meta.tz;
    struct sb_aggs ch = { 0 }, up = { 0 };
    int rc = 0;

    for (int l = L1H; l < NLEVELS && rc == 0; l++) {
        enum sb_res r = sb__level_res[l];
        int64_t c0 = sb_bucket_start(tz, r, r0);
        int64_t c1 = sb_bucket_next(tz, r, sb_bucket_start(tz, r, r1 - 1));
        ch.n = up.n = 0;
        if ((rc = sb__pages_range(&s->wr, l - 1, p->meta.id, c0, c1, &ch)))
            break;
        for (size_t i = 0; i < ch.n && rc == 0; i++) {
            int64_t b = sb_bucket_start(tz, r, ch.v[i].start);
            if (up.n == 0 || up.v[up.n - 1].start != b) {
                struct sb_agg a;
                sb_agg_init(&a, b);
                rc = sb_aggs_push(&up, &a);
            }
            if (rc == 0)
                sb_agg_merge(&p->meta.agg, &up.v[up.n - 1], &ch.v[i], sb__level_res[l - 1]);
        }
        if (rc == 0)
            rc = sb__pages_put(s, l, p->meta.id, up.v, up.n, c0, c1);
        r0 = c0;
        r1 = c1;
    }
    sb_aggs_release(&ch);
    sb_aggs_release(&up);
    return rc;
}

/* Recompute the 15-min buckets [r0, r1) from raw samples on disk (which
 * already hold this seal's samples), then everything above them. */
static int recompute(struct sb_store *s, struct sb__pt *p, int64_t r0, int64_t r1)
{
    struct sb_samples raw = { 0 };
    struct sb_agg *out = NULL;
    struct sb_sample prev;
    size_t nout = 0;
    int rc, have_prev;

    rc = sb__chunk_prev(&s->wr, p->meta.id, r0, &prev);
    have_prev = rc == 0;
    if (rc && rc != SB_ENOENT)
        return rc;
    if ((rc = sb__chunk_read_range(&s->wr, p->meta.id, r0, r1, &raw)))
        goto out;
    /* the sample after the range ends the last one's hold (agg.h) */
    struct sb_sample nx;
    rc = sb__chunk_next(&s->wr, p->meta.id, r1 - 1, &nx);
    if (rc == 0)
        rc = sb_samples_push(&raw, &nx);
    else if (rc == SB_ENOENT)
        rc = 0;
    if (rc)
        goto out;
    size_t cap = (size_t)((r1 - r0) / 900000) + 2;
    if (!(out = malloc(cap * sizeof(*out)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    rc = sb_agg_compute(&p->meta.agg, p->meta.tz, SB_RES_15M, have_prev ? &prev : NULL, raw.v,
                        raw.n, r0, r1, out, cap, &nout);
    if (rc == 0)
        rc = sb__pages_put(s, L15, p->meta.id, out, nout, r0, r1);
    if (rc == 0)
        rc = recompute_coarse(s, p, r0, r1);
out:
    free(out);
    sb_samples_release(&raw);
    return rc;
}

/* Late data: the buckets a run of new samples [a..b] can change are those
 * from a's bucket to where b's value stops holding, plus the bucket of the
 * sample after b (its counter increase now starts from b). */
static int seal_late(struct sb_store *s, struct sb__pt *p, const struct sb_samples *x)
{
    const struct sb_tz *tz = p->meta.tz;
    int64_t hold = p->meta.agg.max_hold_ms > 0 ? p->meta.agg.max_hold_ms : 0;
    int64_t gap = hold + 3600000;
    int rc = 0;

    int64_t r0 = INT64_MIN, r1 = INT64_MIN;   /* pending merged range */
    for (size_t i = 0; i < x->n && rc == 0;) {
        size_t j = i + 1;
        while (j < x->n && x->v[j].t - x->v[j - 1].t <= gap)
            j++;
        int64_t a = x->v[i].t, b = x->v[j - 1].t;
        int64_t q0 = sb_bucket_start(tz, SB_RES_15M, a);
        int64_t q1 = sb_bucket_next(tz, SB_RES_15M, sb_bucket_start(tz, SB_RES_15M, b + hold));
        struct sb_sample nx;
        int e = sb__chunk_next(&s->wr, p->meta.id, b, &nx);
        if (e && e != SB_ENOENT) {
            rc = e;
            break;
        }
        int64_t n0 = e == 0 ? sb_bucket_start(tz, SB_RES_15M, nx.t) : INT64_MIN;
        int64_t n1 = e == 0 ? sb_bucket_next(tz, SB_RES_15M, n0) : INT64_MIN;
        /* flush the pending range when this run does not touch it */
        if (r1 != INT64_MIN && q0 > r1) {
            rc = recompute(s, p, r0, r1);
            r1 = INT64_MIN;
        }
        if (r1 == INT64_MIN)
            r0 = q0;
        r1 = r1 > q1 ? r1 : q1;
        if (rc == 0 && n0 != INT64_MIN && n0 >= r1) {
            rc = recompute(s, p, r0, r1);
            r0 = n0;
            r1 = n1;
        } else if (n1 > r1) {
            r1 = n1;
        }
        i = j;
    }
    if (rc == 0 && r1 != INT64_MIN)
        rc = recompute(s, p, r0, r1);
    return rc;
}

static int seal_point(struct sb_store *s, struct sb__pt *p, struct sb_samples *x)
{
    int rc = sb__sorted_copy(p->buf, p->nbuf, p->sorted, x);
    if (rc == 0)
        rc = seal_raw(s, p->meta.id, x);
    if (rc == 0)
        rc = seal_inorder(s, p);
    if (rc == 0 && p->late)
        rc = seal_late(s, p, x);
    return rc;
}

/* After a successful commit: the sealed state is on disk; drop it from memory. */
static void sealed(struct sb_store *s)
{
    pthread_mutex_lock(&s->mu);
    for (uint32_t i = 0; i < s->ndirty; i++) {
        struct sb__pt *p = sb__pt_get(s, s->dirty[i], 0);
        if (!p)
            continue;
        p->nbuf = 0;
        p->sorted = 1;
        for (int l = 0; l < NLEVELS; l++)
            p->closed[l].n = 0;
        if (p->late) {
            /* the open buckets may have changed: rebuild them from disk
             * (a foreign point keeps none: readers compute them) */
            p->late = 0;
            p->cur_ok = 0;
            if (!p->foreign)
                sb__load_cur(s, p);
        }
        p->dirty_next = 0;
        if (p->capbuf > 4096) {   /* give back what a backfill burst took */
            free(p->buf);
            p->buf = NULL;
            p->capbuf = 0;
        }
    }
    s->ndirty = 0;
    s->st.buffered = 0;
    s->pending_aggs = 0;
    s->st.flushes++;
    s->sealed_seq = s->head_seq;
    pthread_mutex_unlock(&s->mu);
    sb__spool_sealed(s);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Several writers on one database (cfg.shared): the points this seal
 * merges, locked in ascending order (kv.h lock). */
static int lock_dirty(struct sb_store *s)
{
    uint32_t *ids = malloc(s->ndirty * sizeof(*ids));
    if (!ids)
        return SB_ENOMEM;
    memcpy(ids, s->dirty, s->ndirty * sizeof(*ids));
    qsort(ids, s->ndirty, sizeof(*ids), cmp_u32);
    int rc = s->kvo->lock(s->w, ids, s->ndirty);
    free(ids);
    return rc;
}

int sb__seal(struct sb_store *s)
{
    struct sb_samples x = { 0 };
    int rc;

    s->last_seal_ms = sb__now_mono_ms();
    if (s->cfg.readonly || (s->ndirty == 0 && s->sealed_seq == s->head_seq))
        return 0;
    /* A server found away is not asked again before its back-off ends:
     * the data stays in memory and in the spool meanwhile. */
    if (s->kvo->remote && s->last_seal_ms < s->retry_at_ms)
        return SB_EAGAIN;
    if ((rc = s->kvo->begin(s->w)))
        return rc;
    if (s->kvo->lock && s->cfg.shared && s->ndirty)
        rc = lock_dirty(s);
    for (uint32_t i = 0; i < s->ndirty && rc == 0; i++) {
        struct sb__pt *p = sb__pt_get(s, s->dirty[i], 0);
        if (p)
            rc = seal_point(s, p, &x);
    }
    if (rc == 0)
        rc = s->kvo->set_sealed(s->w, s->head_seq);
    if (rc == 0)
        rc = s->kvo->head_trim(s->w, s->head_seq);
    if (rc == 0)
        rc = s->kvo->commit(s->w);
    if (rc) {
        s->kvo->rollback(s->w);
        SB_ERR("store", "seal failed (%s); buffered data stays in the head", sb_strerror(rc));
    } else {
        sealed(s);
    }
    sb_samples_release(&x);
    return rc;
}

/* ---- replay ------------------------------------------------------------- */

struct replay_ctx {
    struct sb_store *s;          /* store */
    uint64_t rows;               /* head rows read */
};

static int replay_row(void *ud, int64_t seq, const void *blob, size_t len)
{
    struct replay_ctx *c = ud;
    int late = 0;   /* the seal after the replay handles late data anyway */
    pthread_mutex_lock(&c->s->mu);
    int rc = sb__apply(c->s, blob, len, &late);
    pthread_mutex_unlock(&c->s->mu);
    if (rc)
        SB_ERR("store", "head row %lld unreadable (%s): skipped", (long long)seq,
               sb_strerror(rc));
    c->rows++;
    return 0;
}

int sb__replay(struct sb_store *s)
{
    struct replay_ctx c = { s, 0 };
    int rc = s->kvo->head_scan(s->w, s->sealed_seq, replay_row, &c);
    /* Batches still in the local spool (a writer moved them into the head
     * at open; a reader, or a writer that died while the server was away,
     * finds them here): after the head, by sequence. */
    if (rc == 0 && s->kvo->remote)
        rc = sb__spool_replay(s, replay_row, &c);
    if (rc)
        return rc;
    s->replayed = 1;
    if (c.rows && !s->cfg.readonly) {
        SB_INFO("store", "replayed %llu unsealed batches from the head",
                (unsigned long long)c.rows);
        rc = sb__seal(s);
    } else if (c.rows) {
        SB_DEBUG("store", "read %llu unsealed batches from the head",
                 (unsigned long long)c.rows);
    }
    return rc;
}

/* ---- retention ---------------------------------------------------------- */

static int delete_before(struct sb_store *s, enum sb_kv_table t, const char *name,
                         int64_t period)
{
    int64_t removed = 0;
    int rc = s->kvo->delete_before(s->w, t, period, &removed);
    if (rc == 0 && removed > 0)
        SB_INFO("store", "retention: %lld %s rows removed", (long long)removed, name);
    return rc;
}

int sb__st_retention(struct sb_store *s, int64_t now_ms, const struct sb_retention *k)
{
    int rc;

    if (s->cfg.readonly)
        return SB_ENOTSUP;
    pthread_mutex_lock(&s->wmu);
    if ((rc = s->kvo->begin(s->w)))
        goto out;
    if (s->kvo->lock && s->cfg.shared && (rc = s->kvo->lock(s->w, NULL, 0))) {
        s->kvo->rollback(s->w);
        goto out;
    }
    /* Whole days / whole pages only: a row goes when all of it is too old. */
    if (k->keep[SB_RES_RAW] > 0)
        rc = delete_before(s, SB_KV_CHUNK, "chunk",
                           sb__floordiv(now_ms - k->keep[SB_RES_RAW], SB__DAY_MS));
    for (int l = 0; l < NLEVELS && rc == 0; l++) {
        int64_t keep = k->keep[sb__level_res[l]];
        if (keep > 0)
            rc = delete_before(s, sb__level_kv[l], sb__level_table[l],
                               sb__floordiv(now_ms - keep, sb__page_ms[l]));
    }
    if (rc == 0)
        rc = s->kvo->commit(s->w);
    else
        s->kvo->rollback(s->w);
out:
    pthread_mutex_unlock(&s->wmu);
    return rc;
}

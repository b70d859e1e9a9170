/*
 * eng_rollup.c - rollups maintained as data arrives.
 *
 * In-order samples (newer than the newest already folded, the usual case)
 * are folded into the point's open 15-minute bucket as they arrive
 * (sb__fold); when a bucket closes it is merged into the open hour, a closed
 * hour into the open day, a closed day into the open month, and each closed
 * bucket is queued for the next seal.  Readers see these open and queued
 * buckets merged over the pages on disk (eng_query.c), so dashboards never
 * wait for a seal.  Late samples are recomputed from raw at the seal
 * (eng_seal.c).  Pages: see engine_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "store/engine/engine_int.h"

/* Merge b (of resolution r) into a. */
static void merge(const struct sb__pt *p, struct sb_agg *a, const struct sb_agg *b,
                  enum sb_res r)
{
    if (sb_agg_nonempty(b))
        sb_agg_merge(&p->meta.agg, a, b, r);
}

/* The open bucket at level lvl as a reader should see it: the merge of its
 * closed children (cur[lvl]) with the open child below it, recursively. */
void sb__current(const struct sb_agg_ctx *c, const struct sb_agg cur[NLEVELS], int lvl,
                 struct sb_agg *out)
{
    *out = cur[L15];
    for (int l = L1H; l <= lvl; l++) {
        struct sb_agg up = cur[l];
        if (sb_agg_nonempty(out))
            sb_agg_merge(c, &up, out, sb__level_res[l - 1]);
        *out = up;
    }
}

static void queue_closed(struct sb_store *s, struct sb__pt *p, int lvl)
{
    if (!sb_agg_nonempty(&p->cur[lvl]))
        return;
    if (sb__aggv_push(&p->closed[lvl], &p->cur[lvl]) == 0)
        s->pending_aggs++;
    else
        p->late = 1, p->late_min = p->cur[lvl].start;  /* recompute at seal */
    if (lvl + 1 < NLEVELS)
        merge(p, &p->cur[lvl + 1], &p->cur[lvl], sb__level_res[lvl]);
}

/* The open 15-minute bucket closed; move every level to the bucket of ns. */
static void advance(struct sb_store *s, struct sb__pt *p, int64_t ns)
{
    const struct sb_tz *tz = p->meta.tz;

    queue_closed(s, p, L15);
    for (int l = L1H; l < NLEVELS; l++) {
        enum sb_res r = sb__level_res[l];
        if (ns < sb_bucket_next(tz, r, p->cur[l].start))
            break;
        queue_closed(s, p, l);
        sb_agg_init(&p->cur[l], sb_bucket_start(tz, r, ns));
    }
    sb_agg_init(&p->cur[L15], ns);
}

static void start_levels(struct sb__pt *p, int64_t t)
{
    for (int l = 0; l < NLEVELS; l++)
        sb_agg_init(&p->cur[l], sb_bucket_start(p->meta.tz, sb__level_res[l], t));
}

void sb__fold(struct sb_store *s, struct sb__pt *p, const struct sb_sample *x)
{
    const struct sb_agg_ctx *c = &p->meta.agg;
    const struct sb_tz *tz = p->meta.tz;

    if (!p->cur_ok && sb__load_cur(s, p) != 0) {
        /* Could not read the open buckets back: let the seal recompute. */
        p->late = 1;
        p->late_min = p->have_tail ? p->tail.t : x->t;
    }
    if (!p->have_tail) {
        start_levels(p, x->t);
        sb_agg_add(c, &p->cur[L15], sb_bucket_next(tz, SB_RES_15M, p->cur[L15].start), NULL, x);
        p->tail = *x;
        p->have_tail = 1;
        return;
    }
    int64_t b = sb_bucket_start(tz, SB_RES_15M, x->t);
    while (p->cur[L15].start < b) {
        int64_t end = sb_bucket_next(tz, SB_RES_15M, p->cur[L15].start);
        sb_agg_hold(c, &p->cur[L15], end, &p->tail, end);
        /* Visit the empty buckets the previous sample still holds into;
         * jump over the rest. */
        int64_t ns = end < b && p->tail.t + c->max_hold_ms > end ? end : b;
        advance(s, p, ns);
    }
    sb_agg_add(c, &p->cur[L15], sb_bucket_next(tz, SB_RES_15M, b), &p->tail, x);
    p->tail = *x;
}

/* Merge the buckets of level lvl with start in [t0, t1) into out. */
static int merge_range(struct sb__rd *rd, const struct sb_point_meta *m, int lvl, int64_t t0,
                       int64_t t1, struct sb_agg *out)
{
    struct sb_aggs v = { 0 };
    int rc = 0;

    if (t0 < t1 && (rc = sb__pages_range(rd, lvl, m->id, t0, t1, &v)) == 0)
        for (size_t i = 0; i < v.n; i++)
            if (sb_agg_nonempty(&v.v[i]))
                sb_agg_merge(&m->agg, out, &v.v[i], sb__level_res[lvl]);
    sb_aggs_release(&v);
    return rc;
}

/* The open buckets of a series whose newest sample is tail, from disk:
 * the 15-minute bucket holding tail computed from the raw samples (open
 * buckets are not written to pages: a seal writes only closed buckets, so
 * that a page is re-encoded when one of its buckets closes, not at every
 * seal), and for each coarser level the merge of its closed children. */
int sb__compute_cur(struct sb__rd *rd, const struct sb_point_meta *m,
                    const struct sb_sample *tail, struct sb_agg cur[NLEVELS])
{
    struct sb_samples raw = { 0 };
    struct sb_sample prev;
    struct sb_agg one;
    size_t n = 0;
    int rc;

    for (int l = 0; l < NLEVELS; l++)
        sb_agg_init(&cur[l], sb_bucket_start(m->tz, sb__level_res[l], tail->t));
    int64_t b15 = cur[L15].start;
    rc = sb__chunk_prev(rd, m->id, b15, &prev);
    int have_prev = rc == 0;
    if (rc && rc != SB_ENOENT)
        return rc;
    if ((rc = sb__chunk_read_range(rd, m->id, b15, tail->t + 1, &raw)))
        goto out;
    rc = sb_agg_compute(&m->agg, m->tz, SB_RES_15M, have_prev ? &prev : NULL, raw.v, raw.n, b15,
                        b15 + 1, &one, 1, &n);
    if (rc == 0 && n == 1)
        cur[L15] = one;
    for (int l = L1H; l < NLEVELS && rc == 0; l++)
        rc = merge_range(rd, m, l - 1, cur[l].start, cur[l - 1].start, &cur[l]);
out:
    sb_samples_release(&raw);
    return rc;
}

/* Rebuild a point's open buckets after a restart or a late-data seal. */
int sb__load_cur(struct sb_store *s, struct sb__pt *p)
{
    int rc = 0;

    p->cur_ok = 1;
    if (!p->have_tail)
        return 0;
    if ((rc = sb__compute_cur(&s->wr, &p->meta, &p->tail, p->cur))) {
        p->cur_ok = 0;
        SB_ERR("store", "point %u: cannot reload open rollups: %s", p->meta.id, sb_strerror(rc));
    }
    return rc;
}

/* ---- pages on disk ------------------------------------------------------ */

/* One page row of a range read: decode, keep buckets with start in [t0, t1). */
struct pages_ctx {
    struct sb_aggs *out;         /* destination */
    int64_t t0, t1;              /* wanted bucket starts */
};

static int pages_row(void *ud, int64_t page, const void *b, size_t len)
{
    struct pages_ctx *c = ud;
    struct sb_aggs *out = c->out;
    size_t n = 0, before = out->n;
    int rc = sb_agg_page_decode(b, len, NULL, 0, &n);
    if (rc != 0 && rc != SB_ENOSPC)
        return rc;
    if (out->n + n > out->cap) {
        size_t nc = out->cap ? out->cap : 64;
        while (nc < out->n + n)
            nc *= 2;
        struct sb_agg *nv = realloc(out->v, nc * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        out->v = nv;
        out->cap = nc;
    }
    if ((rc = sb_agg_page_decode(b, len, out->v + out->n, out->cap - out->n, &n)))
        return rc;
    out->n += n;
    size_t o = before;
    for (size_t i = before; i < out->n; i++)
        if (out->v[i].start >= c->t0 && out->v[i].start < c->t1)
            out->v[o++] = out->v[i];
    out->n = o;
    return 0;
}

/* Buckets of level lvl with start in [t0, t1), appended to out in order. */
int sb__pages_range(struct sb__rd *rd, int lvl, uint32_t point, int64_t t0, int64_t t1,
                    struct sb_aggs *out)
{
    struct pages_ctx c = { out, t0, t1 };

    if (t1 <= t0)
        return 0;
    int64_t p0 = sb__floordiv(t0, sb__page_ms[lvl]), p1 = sb__floordiv(t1 - 1, sb__page_ms[lvl]);
    int rc = rd->kv->scan(rd->c, sb__level_kv[lvl], point, sb__clamp_period(p0),
                          sb__clamp_period(p1), 0, 0, pages_row, &c);
    if (rc == SB_ECORRUPT)
        SB_ERR("store", "point %u: corrupt %s page", point, sb__level_table[lvl]);
    return rc;
}

static int page_write(struct sb_store *s, int lvl, uint32_t point, int64_t page,
                      const struct sb_agg *a, size_t n)
{
    uint8_t *buf = NULL;
    int rc = 0;

    if (n == 0)
        return s->kvo->del(s->w, sb__level_kv[lvl], point, page);
    /* Encoding is the costly part of a page write: try once into a buffer
     * that almost always suffices, measure only when it does not. */
    enum sb_agg_kind kind = s->pts[point]->meta.agg.kind;
    size_t cap = 64 + n * 160;
    if (!(buf = malloc(cap)))
        return SB_ENOMEM;
    ssize_t len = sb_agg_page_encode(buf, cap, kind, a, n);
    if (len == SB_ENOSPC) {
        len = sb_agg_page_encode(NULL, 0, kind, a, n);
        uint8_t *nb = len > 0 ? realloc(buf, (size_t)len) : NULL;
        if (nb) {
            buf = nb;
            len = sb_agg_page_encode(buf, (size_t)len, kind, a, n);
        } else if (len > 0) {
            len = SB_ENOMEM;
        }
    }
    if (len < 0) {
        rc = (int)len;
        goto out;
    }
    rc = s->kvo->put(s->w, sb__level_kv[lvl], point, page, buf, (size_t)len);
out:
    free(buf);
    return rc;
}

static int cmp_start(const void *x, const void *y)
{
    const struct sb_agg *a = x, *b = y;
    return (a->start > b->start) - (a->start < b->start);
}

/* Rewrite one page: drop its buckets in [t0, t1), then upsert a[0..n). */
static int page_update(struct sb_store *s, int lvl, uint32_t point, int64_t page,
                       const struct sb_agg *a, size_t n, int64_t t0, int64_t t1)
{
    struct sb_aggs v = { 0 };
    int64_t ps = page * sb__page_ms[lvl];
    int rc = sb__pages_range(&s->wr, lvl, point, ps, ps + sb__page_ms[lvl], &v);
    if (rc)
        goto out;
    size_t o = 0;
    for (size_t i = 0; i < v.n; i++) {
        int drop = v.v[i].start >= t0 && v.v[i].start < t1;
        for (size_t j = 0; j < n && !drop; j++)
            drop = a[j].start == v.v[i].start;
        if (!drop)
            v.v[o++] = v.v[i];
    }
    v.n = o;
    for (size_t j = 0; j < n && rc == 0; j++)
        if (sb_agg_nonempty(&a[j]))
            rc = sb_aggs_push(&v, &a[j]);
    if (rc == 0) {
        if (v.n > 1)
            qsort(v.v, v.n, sizeof(*v.v), cmp_start);
        rc = page_write(s, lvl, point, page, v.v, v.n);
    }
out:
    sb_aggs_release(&v);
    return rc;
}

/* Store buckets a[0..n) (sorted by start) of level lvl; buckets on disk with
 * start in [t0, t1) that a does not hold are removed (t0 >= t1: none). */
int sb__pages_put(struct sb_store *s, int lvl, uint32_t point, const struct sb_agg *a,
                  size_t n, int64_t t0, int64_t t1)
{
    int64_t P = sb__page_ms[lvl];
    size_t i = 0;
    int rc = 0;

    int64_t rp0 = t0 < t1 ? sb__floordiv(t0, P) : INT64_MAX;
    int64_t rp1 = t0 < t1 ? sb__floordiv(t1 - 1, P) : INT64_MIN;
    int64_t page = rp0;
    if (n > 0 && sb__floordiv(a[0].start, P) < page)
        page = sb__floordiv(a[0].start, P);
    while (rc == 0 && (i < n || page <= rp1)) {
        size_t j = i;
        while (j < n && sb__floordiv(a[j].start, P) == page)
            j++;
        if (j > i || (page >= rp0 && page <= rp1))
            rc = page_update(s, lvl, point, page, a + i, j - i, t0, t1);
        i = j;
        /* next page: the next bucket's page or the next page of the range */
        int64_t np = i < n ? sb__floordiv(a[i].start, P) : INT64_MAX;
        if (page + 1 >= rp0 && page + 1 <= rp1 && page + 1 < np)
            np = page + 1;
        if (np == INT64_MAX)
            break;
        page = np;
    }
    return rc;
}

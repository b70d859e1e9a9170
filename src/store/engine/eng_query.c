/*
 * eng_query.c - reads: raw ranges and aggregated ranges.
 *
 * Each read first copies, under mu, what the point holds in memory (unsealed
 * samples; open and recently closed rollup buckets), then reads the database
 * through a pooled read-only connection (its own WAL snapshot).  In that
 * order nothing can fall between the two: a seal that commits in between
 * only makes the disk hold what the copy already has, and the copy wins on
 * equal times or bucket starts.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/engine/engine_int.h"

/* Unsealed samples of p in [t0, t1), sorted, later arrivals winning. */
static int copy_buffer(struct sb__pt *p, int64_t t0, int64_t t1, struct sb_samples *out)
{
    struct sb_samples tmp = { 0 };
    int rc = 0;

    for (uint32_t i = 0; i < p->nbuf && rc == 0; i++)
        if (p->buf[i].t >= t0 && p->buf[i].t < t1)
            rc = sb_samples_push(&tmp, &p->buf[i]);
    if (rc == 0)
        rc = sb__sorted_copy(tmp.v, tmp.n, p->sorted, out);
    sb_samples_release(&tmp);
    return rc;
}

/* out += merge(disk, mem) with mem winning on equal times, at most limit. */
static int merge_into(struct sb_samples *out, const struct sb_samples *disk,
                      const struct sb_samples *mem, size_t limit)
{
    size_t i = 0, j = 0;
    while ((i < disk->n || j < mem->n) && (limit == 0 || out->n < limit)) {
        const struct sb_sample *x;
        if (j == mem->n || (i < disk->n && disk->v[i].t < mem->v[j].t)) {
            x = &disk->v[i++];
        } else {
            if (i < disk->n && disk->v[i].t == mem->v[j].t)
                i++;
            x = &mem->v[j++];
        }
        int rc = sb_samples_push(out, x);
        if (rc)
            return rc;
    }
    return 0;
}

int sb__st_range_raw(struct sb_store *s, uint32_t point, int64_t t0, int64_t t1, size_t limit,
                     struct sb_samples *out)
{
    struct sb_samples mem = { 0 }, disk = { 0 };
    int rc = 0;

    if (t1 <= t0)
        return 0;
    pthread_mutex_lock(&s->mu);
    struct sb__pt *p = sb__pt_get(s, point, 0);
    if (p)
        rc = copy_buffer(p, t0, t1, &mem);
    pthread_mutex_unlock(&s->mu);
    struct sb__rd *rd = rc ? NULL : sb__reader_get(s);
    if (!rc && !rd)
        rc = SB_ESTORE;
    if (rd) {
        rc = sb__chunk_read_range(rd, point, t0, t1, &disk);
        sb__reader_put(s, rd);
    }
    if (rc == 0)
        rc = merge_into(out, &disk, &mem, limit);
    sb_samples_release(&mem);
    sb_samples_release(&disk);
    return rc;
}

/* The sample nearest to t on one side, from memory or disk: dir < 0 the
 * newest before t, dir > 0 the oldest at or after t.  SB_ENOENT if none. */
static int neighbour(struct sb_store *s, uint32_t point, int64_t t, int dir,
                     struct sb_sample *out)
{
    struct sb_samples mem = { 0 };
    int rc = 0, have = 0;

    pthread_mutex_lock(&s->mu);
    struct sb__pt *p = sb__pt_get(s, point, 0);
    if (p)
        rc = dir < 0 ? copy_buffer(p, INT64_MIN, t, &mem) : copy_buffer(p, t, INT64_MAX, &mem);
    pthread_mutex_unlock(&s->mu);
    if (rc == 0 && mem.n) {
        *out = mem.v[dir < 0 ? mem.n - 1 : 0];
        have = 1;
    }
    sb_samples_release(&mem);
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd)
        return SB_ESTORE;
    struct sb_sample d;
    rc = dir < 0 ? sb__chunk_prev(rd, point, t, &d) : sb__chunk_next(rd, point, t - 1, &d);
    sb__reader_put(s, rd);
    if (rc == 0 && (!have || (dir < 0 ? d.t > out->t : d.t < out->t))) {
        *out = d;
        have = 1;
    }
    if (rc && rc != SB_ENOENT)
        return rc;
    return have ? 0 : SB_ENOENT;
}

/* 1-minute buckets are computed from raw samples on demand. */
static int range_1m(struct sb_store *s, uint32_t point, const struct sb_point_meta *m,
                    int64_t t0, int64_t t1, struct sb_aggs *out)
{
    struct sb_samples raw = { 0 };
    struct sb_sample prev;
    int64_t b0 = sb_bucket_start(m->tz, SB_RES_1M, t0);
    int rc = neighbour(s, point, b0, -1, &prev);
    int have_prev = rc == 0;

    if (rc && rc != SB_ENOENT)
        return rc;
    int64_t hi = sb_bucket_next(m->tz, SB_RES_1M, sb_bucket_start(m->tz, SB_RES_1M, t1 - 1));
    struct sb_sample nx;
    if ((rc = sb__st_range_raw(s, point, b0, hi, 0, &raw)))
        goto out;
    /* the sample after the range ends the last one's hold (agg.h) */
    rc = neighbour(s, point, hi, 1, &nx);
    if (rc == 0)
        rc = sb_samples_push(&raw, &nx);
    else if (rc == SB_ENOENT)
        rc = 0;
    if (rc)
        goto out;
    size_t cap = (size_t)((t1 - b0) / 60000) + 2, n = 0;
    if (out->cap < out->n + cap) {
        struct sb_agg *nv = realloc(out->v, (out->n + cap) * sizeof(*nv));
        if (!nv) {
            rc = SB_ENOMEM;
            goto out;
        }
        out->v = nv;
        out->cap = out->n + cap;
    }
    rc = sb_agg_compute(&m->agg, m->tz, SB_RES_1M, have_prev ? &prev : NULL, raw.v, raw.n, b0,
                        t1, out->v + out->n, cap, &n);
    if (rc == 0)
        out->n += n;
out:
    sb_samples_release(&raw);
    return rc;
}

/* What memory holds for level lvl in [b0, t1): the buckets closed since
 * the last seal, and (when valid) the open one.  *need_cur is set when the
 * open one is not in memory and must be rebuilt from disk. */
/* Append the open bucket of level lvl (from cur[]) when it lies in [b0, t1)
 * and after what ov holds. */
static int push_current(const struct sb_agg_ctx *c, const struct sb_agg cur[NLEVELS], int lvl,
                        int64_t b0, int64_t t1, struct sb_aggs *ov)
{
    struct sb_agg x;
    sb__current(c, cur, lvl, &x);
    if (sb_agg_nonempty(&x) && x.start >= b0 && x.start < t1 &&
        (ov->n == 0 || ov->v[ov->n - 1].start < x.start))
        return sb_aggs_push(ov, &x);
    return 0;
}

static int copy_overlay(struct sb__pt *p, int lvl, int64_t b0, int64_t t1, struct sb_aggs *ov,
                        int *need_cur)
{
    int rc = 0;
    for (uint32_t i = 0; i < p->closed[lvl].n && rc == 0; i++) {
        const struct sb_agg *a = &p->closed[lvl].v[i];
        if (a->start >= b0 && a->start < t1)
            rc = sb_aggs_push(ov, a);
    }
    *need_cur = p->have_tail && !p->cur_ok;
    if (rc == 0 && p->cur_ok && p->have_tail)
        rc = push_current(&p->meta.agg, p->cur, lvl, b0, t1, ov);
    return rc;
}

/* The open bucket of level lvl rebuilt from disk (a read-only handle, or a
 * point whose open state was dropped by a late-data seal). */
static int disk_current(struct sb__rd *rd, const struct sb_point_meta *m,
                        const struct sb_sample *tail, int lvl, int64_t b0, int64_t t1,
                        struct sb_aggs *ov)
{
    struct sb_agg cur[NLEVELS];
    int rc = sb__compute_cur(rd, m, tail, cur);
    return rc ? rc : push_current(&m->agg, cur, lvl, b0, t1, ov);
}

int sb__st_range_agg(struct sb_store *s, uint32_t point, enum sb_res r, int64_t t0, int64_t t1,
                     struct sb_aggs *out)
{
    struct sb_point_meta m = { .id = point };
    struct sb_aggs ov = { 0 }, disk = { 0 };
    struct sb_sample tail = { 0 };
    int rc = 0, need_cur = 0;

    if (r <= SB_RES_RAW || r >= SB_RES_COUNT)
        return SB_EINVAL;
    if (t1 <= t0)
        return 0;
    pthread_mutex_lock(&s->mu);
    struct sb__pt *p = sb__pt_get(s, point, 0);
    if (p)
        m = p->meta;
    int lvl = (int)r - SB_RES_15M;
    int64_t b0 = r == SB_RES_1M ? t0 : sb_bucket_start(m.tz, r, t0);
    if (p && r != SB_RES_1M)
        rc = copy_overlay(p, lvl, b0, t1, &ov, &need_cur);
    if (p)
        tail = p->tail;
    int foreign = p && p->foreign;
    pthread_mutex_unlock(&s->mu);
    if (rc)
        goto out;
    if (r == SB_RES_1M) {
        rc = range_1m(s, point, &m, t0, t1, out);
        goto out;
    }
    struct sb__rd *rd = sb__reader_get(s);
    if (!rd) {
        rc = SB_ESTORE;
        goto out;
    }
    rc = sb__pages_range(rd, lvl, point, b0, t1, &disk);
    if (rc == 0 && foreign) {
        /* another node writes it: its open buckets from what it sealed */
        rc = sb__chunk_prev(rd, point, INT64_MAX, &tail);
        need_cur = rc == 0;
        if (rc == SB_ENOENT)
            rc = 0;
    }
    if (rc == 0 && need_cur)
        rc = disk_current(rd, &m, &tail, lvl, b0, t1, &ov);
    sb__reader_put(s, rd);
    size_t i = 0, j = 0;
    while (rc == 0 && (i < disk.n || j < ov.n)) {
        if (j == ov.n || (i < disk.n && disk.v[i].start < ov.v[j].start)) {
            rc = sb_aggs_push(out, &disk.v[i++]);
        } else {
            if (i < disk.n && disk.v[i].start == ov.v[j].start)
                i++;
            rc = sb_aggs_push(out, &ov.v[j++]);
        }
    }
out:
    sb_aggs_release(&ov);
    sb_aggs_release(&disk);
    return rc;
}

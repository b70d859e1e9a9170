/*
 * eng_chunk.c - reading sealed raw chunks.  A chunk row holds one point's
 * samples of one UTC day, compressed by store/codec.h.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "store/codec.h"
#include "store/engine/engine_int.h"

/* Page spans: a page is re-encoded whenever one of its buckets closes, so
 * pages hold a few dozen buckets (not a year's), which bounds that cost,
 * while a year of hours is still only 183 rows to read. */
const int64_t sb__page_ms[NLEVELS] = {
    SB__DAY_MS,           /* r15m: one UTC day, 96 buckets */
    2 * SB__DAY_MS,       /* r1h: 2 days, 48 buckets */
    32 * SB__DAY_MS,      /* r1d: 32 days */
    1024 * SB__DAY_MS,    /* r1mo: ~2.8 years, ~34 buckets */
};
const enum sb_res sb__level_res[NLEVELS] = { SB_RES_15M, SB_RES_1H, SB_RES_1D, SB_RES_1MO };
const char *const sb__level_table[NLEVELS] = { "r15m", "r1h", "r1d", "r1mo" };
const enum sb_kv_table sb__level_kv[NLEVELS] = { SB_KV_R15M, SB_KV_R1H, SB_KV_R1D, SB_KV_R1MO };

/* Decode a chunk blob and append its samples to out. */
int sb__chunk_decode_append(const void *blob, size_t len, struct sb_samples *out)
{
    size_t n = 0, got = 0;
    int rc = sb_chunk_count(blob, len, &n);
    if (rc)
        return rc;
    if ((rc = sb_samples_reserve(out, out->n + n)))
        return rc;
    if ((rc = sb_chunk_decode(blob, len, out->v + out->n, out->cap - out->n, &got)))
        return rc;
    out->n += got;
    return 0;
}

static int64_t day_of(int64_t t)
{
    return sb__floordiv(t, SB__DAY_MS);
}

int64_t sb__clamp_period(int64_t d)
{
    if (d < -SB__ROW_BIAS)
        return -SB__ROW_BIAS;
    if (d > SB__ROW_BIAS - 1)
        return SB__ROW_BIAS - 1;
    return d;
}

/* One chunk row of a range read: decode, keep [t0, t1). */
struct range_ctx {
    struct sb_samples *out;      /* destination */
    int64_t t0, t1;              /* wanted times */
};

static int range_row(void *ud, int64_t day, const void *blob, size_t len)
{
    struct range_ctx *c = ud;
    size_t before = c->out->n;
    int rc = sb__chunk_decode_append(blob, len, c->out);
    if (rc)
        return rc;
    size_t o = before;
    for (size_t i = before; i < c->out->n; i++)
        if (c->out->v[i].t >= c->t0 && c->out->v[i].t < c->t1)
            c->out->v[o++] = c->out->v[i];
    c->out->n = o;
    return 0;
}

/* Samples of point with t0 <= t < t1 appended to out (time order). */
int sb__chunk_read_range(struct sb__rd *rd, uint32_t point, int64_t t0, int64_t t1,
                         struct sb_samples *out)
{
    struct range_ctx c = { out, t0, t1 };

    if (t1 <= t0)
        return 0;
    return rd->kv->scan(rd->c, SB_KV_CHUNK, point, sb__clamp_period(day_of(t0)),
                        sb__clamp_period(day_of(t1 - 1)), 0, 0, range_row, &c);
}

/* A neighbour search: the first row holding a sample strictly on the
 * wanted side of t ends it. */
struct nb_ctx {
    struct sb_samples v;         /* scratch */
    int64_t t;                   /* reference time */
    int dir;                     /* < 0 before t, > 0 after */
    struct sb_sample *out;       /* result */
    int found;                   /* out is set */
    size_t rows;                 /* rows seen in this round */
    int64_t last;                /* period of the last row seen */
};

static int nb_row(void *ud, int64_t day, const void *blob, size_t len)
{
    struct nb_ctx *c = ud;
    c->rows++;
    c->last = day;
    c->v.n = 0;
    int rc = sb__chunk_decode_append(blob, len, &c->v);
    if (rc)
        return rc;
    for (size_t k = 0; k < c->v.n; k++) {
        const struct sb_sample *x = &c->v.v[c->dir < 0 ? c->v.n - 1 - k : k];
        if (c->dir < 0 ? x->t < c->t : x->t > c->t) {
            *c->out = *x;
            c->found = 1;
            return 1;
        }
    }
    return 0;
}

/* The sample of point nearest to t strictly on one side: dir < 0 the newest
 * before t, dir > 0 the oldest after t.  SB_ENOENT when there is none.  The
 * answer is almost always in the first row or two, so rows are asked for a
 * few at a time (a client/server database would otherwise send them all). */
static int chunk_neighbour(struct sb__rd *rd, uint32_t point, int64_t t, int dir,
                           struct sb_sample *out)
{
    struct nb_ctx c = { { 0 }, t, dir, out, 0, 0, 0 };
    int64_t lo, hi;
    int rc = 0;

    if (dir < 0) {   /* days from t's back to the first, newest first */
        lo = -SB__ROW_BIAS;
        hi = t == INT64_MAX ? SB__ROW_BIAS - 1 : sb__clamp_period(day_of(t - 1));
    } else {         /* days from t's on, oldest first */
        lo = sb__clamp_period(day_of(t));
        hi = SB__ROW_BIAS - 1;
    }
    /* Rounds of NB_ROWS rows, each going on after the last row seen, until
     * the sample is found or a round comes back short (range exhausted). */
    enum { NB_ROWS = 2 };
    for (int round = 0; rc == 0 && !c.found && lo <= hi; round++) {
        c.rows = 0;
        rc = rd->kv->scan(rd->c, SB_KV_CHUNK, point, lo, hi, dir < 0, NB_ROWS, nb_row, &c);
        if (rc || c.found || c.rows < NB_ROWS)
            break;
        if (dir < 0)
            hi = c.last - 1;
        else
            lo = c.last + 1;
    }
    sb_samples_release(&c.v);
    return rc ? rc : c.found ? 0 : SB_ENOENT;
}

int sb__chunk_prev(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out)
{
    return chunk_neighbour(rd, point, t, -1, out);
}

int sb__chunk_next(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out)
{
    return chunk_neighbour(rd, point, t, 1, out);
}

/*
 * sqlite_chunk.c - reading sealed raw chunks and the per-connection
 * statement cache.  A chunk row holds one point's samples of one UTC day
 * (row id = point << 21 | day + 2^20), compressed by store/codec.h.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "store/codec.h"
#include "store/sqlite/sqlite_int.h"

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

sqlite3_stmt *sb__rd_stmt(struct sb__rd *rd, int which)
{
    char sql[160];

    if (rd->q[which]) {
        sqlite3_reset(rd->q[which]);
        return rd->q[which];
    }
    if (which < NLEVELS)
        snprintf(sql, sizeof(sql), "SELECT data FROM %s WHERE id BETWEEN ? AND ? ORDER BY id",
                 sb__level_table[which]);
    else if (which == Q_CHUNKS)
        snprintf(sql, sizeof(sql), "SELECT data FROM chunk WHERE id BETWEEN ? AND ? ORDER BY id");
    else if (which == Q_PREV)
        snprintf(sql, sizeof(sql),
                 "SELECT data FROM chunk WHERE id BETWEEN ? AND ? ORDER BY id DESC");
    else
        snprintf(sql, sizeof(sql), "SELECT data FROM chunk WHERE id BETWEEN ? AND ? ORDER BY id");
    if (sqlite3_prepare_v3(rd->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &rd->q[which], NULL) !=
        SQLITE_OK) {
        sb__sqlerr(rd->db, sql);
        rd->q[which] = NULL;
    }
    return rd->q[which];
}

void sb__rd_release(struct sb__rd *rd)
{
    for (int i = 0; i < Q_COUNT; i++) {
        sqlite3_finalize(rd->q[i]);
        rd->q[i] = NULL;
    }
}

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

static int64_t clamp_day(int64_t d)
{
    if (d < -SB__ROW_BIAS)
        return -SB__ROW_BIAS;
    if (d > SB__ROW_BIAS - 1)
        return SB__ROW_BIAS - 1;
    return d;
}

/* Samples of point with t0 <= t < t1 appended to out (time order). */
int sb__chunk_read_range(struct sb__rd *rd, uint32_t point, int64_t t0, int64_t t1,
                         struct sb_samples *out)
{
    sqlite3_stmt *st = sb__rd_stmt(rd, Q_CHUNKS);
    int rc = 0, r;

    if (!st)
        return SB_ESTORE;
    if (t1 <= t0)
        return 0;
    sqlite3_bind_int64(st, 1, sb__rowid(point, clamp_day(day_of(t0))));
    sqlite3_bind_int64(st, 2, sb__rowid(point, clamp_day(day_of(t1 - 1))));
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        size_t before = out->n;
        rc = sb__chunk_decode_append(sqlite3_column_blob(st, 0),
                                     (size_t)sqlite3_column_bytes(st, 0), out);
        if (rc)
            break;
        /* keep only [t0, t1) of this day */
        size_t o = before;
        for (size_t i = before; i < out->n; i++)
            if (out->v[i].t >= t0 && out->v[i].t < t1)
                out->v[o++] = out->v[i];
        out->n = o;
    }
    if (rc == 0 && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = sb__sqlerr(rd->db, "read chunks");
    sqlite3_reset(st);
    return rc;
}

/* The sample of point nearest to t strictly on one side: dir < 0 the newest
 * before t, dir > 0 the oldest after t.  SB_ENOENT when there is none. */
static int chunk_neighbour(struct sb__rd *rd, uint32_t point, int64_t t, int dir,
                           struct sb_sample *out)
{
    sqlite3_stmt *st = sb__rd_stmt(rd, dir < 0 ? Q_PREV : Q_NEXT);
    struct sb_samples v = { 0 };
    int rc = SB_ENOENT;

    if (!st)
        return SB_ESTORE;
    if (dir < 0) {   /* days from t's back to the first, newest first */
        int64_t hi = t == INT64_MAX ? SB__ROW_BIAS - 1 : clamp_day(day_of(t - 1));
        sqlite3_bind_int64(st, 1, sb__rowid(point, -SB__ROW_BIAS));
        sqlite3_bind_int64(st, 2, sb__rowid(point, hi));
    } else {         /* days from t's on, oldest first */
        sqlite3_bind_int64(st, 1, sb__rowid(point, clamp_day(day_of(t))));
        sqlite3_bind_int64(st, 2, sb__rowid(point, SB__ROW_BIAS - 1));
    }
    while (rc == SB_ENOENT && sqlite3_step(st) == SQLITE_ROW) {
        v.n = 0;
        int e = sb__chunk_decode_append(sqlite3_column_blob(st, 0),
                                        (size_t)sqlite3_column_bytes(st, 0), &v);
        if (e) {
            rc = e;
            break;
        }
        for (size_t k = 0; k < v.n && rc == SB_ENOENT; k++) {
            const struct sb_sample *x = &v.v[dir < 0 ? v.n - 1 - k : k];
            if (dir < 0 ? x->t < t : x->t > t) {
                *out = *x;
                rc = 0;
            }
        }
    }
    sqlite3_reset(st);
    sb_samples_release(&v);
    return rc;
}

int sb__chunk_prev(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out)
{
    return chunk_neighbour(rd, point, t, -1, out);
}

int sb__chunk_next(struct sb__rd *rd, uint32_t point, int64_t t, struct sb_sample *out)
{
    return chunk_neighbour(rd, point, t, 1, out);
}

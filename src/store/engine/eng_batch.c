/*
 * eng_batch.c - the head batch format: one durable row per append.
 *
 *   batch  = version:u8 ngroups:varint group*
 *   group  = point:varint len:varint chunk[len]       (chunk: store/codec.h)
 *
 * Readings are grouped by point (stable counting sort through a small open-
 * addressing hash, O(n)), each group sorted by time with later duplicates
 * replacing earlier ones, then compressed with the chunk codec: the durable
 * write of a batch costs about what its compressed size costs, ~1-2 bytes per
 * reading, instead of a row per reading (NOTES: SQLite manages ~150 k
 * rows/s; one blob per batch is what lets ingest pass 1.5 M/s).
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/codec.h"
#include "store/engine/engine_int.h"

#define BATCH_VERSION 1

/* Map point -> group index (open addressing, power-of-two table). */
struct gmap {
    uint32_t *key;    /* point ids, 0 = empty (point ids are > 0) */
    uint32_t *val;    /* group index */
    size_t mask;      /* table size - 1 */
};

static int gmap_init(struct gmap *m, size_t n)
{
    size_t sz = 16;
    while (sz < n * 2)
        sz <<= 1;
    m->key = calloc(sz, sizeof(*m->key));
    m->val = malloc(sz * sizeof(*m->val));
    m->mask = sz - 1;
    return m->key && m->val ? 0 : SB_ENOMEM;
}

static uint32_t *gmap_slot(struct gmap *m, uint32_t point, int *fresh)
{
    size_t h = (point * 2654435761u) & m->mask;
    while (m->key[h] && m->key[h] != point)
        h = (h + 1) & m->mask;
    *fresh = m->key[h] == 0;
    m->key[h] = point;
    return &m->val[h];
}

/* A sample tagged with its arrival index, for a stable sort. */
struct tagged {
    struct sb_sample s;   /* the sample */
    uint32_t i;           /* arrival order within its group */
};

static int cmp_tagged(const void *a, const void *b)
{
    const struct tagged *x = a, *y = b;
    if (x->s.t != y->s.t)
        return x->s.t < y->s.t ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Sort one group by time keeping arrival order among equal times, then keep
 * only the last of each run of equal times: a later duplicate replaces an
 * earlier one.  Returns the new count, or 0 with *err set on ENOMEM. */
size_t sb__sort_dedup(struct sb_sample *x, size_t n, int *err)
{
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = x[i].t > x[i - 1].t;
    if (sorted)
        return n;
    struct tagged *tmp = malloc(n * sizeof(*tmp));
    if (!tmp) {
        *err = SB_ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        tmp[i].s = x[i];
        tmp[i].i = (uint32_t)i;
    }
    qsort(tmp, n, sizeof(*tmp), cmp_tagged);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o > 0 && x[o - 1].t == tmp[i].s.t)
            x[o - 1] = tmp[i].s;
        else
            x[o++] = tmp[i].s;
    }
    free(tmp);
    return o;
}

static int put_varint(uint8_t *buf, size_t cap, size_t *pos, uint64_t v)
{
    ssize_t k = sb_varint_put(buf + *pos, cap - *pos, v);
    if (k < 0)
        return (int)k;
    *pos += (size_t)k;
    return 0;
}

int sb__batch_encode(const struct sb_reading *r, size_t n, uint8_t **out, size_t *outlen)
{
    struct gmap m = { 0 };
    uint32_t *gpoint = NULL, ng = 0;
    size_t *gcount = NULL, *goff = NULL;
    struct sb_sample *sm = NULL;
    uint8_t *buf = NULL;
    int rc = SB_ENOMEM;

    *out = NULL;
    if ((rc = gmap_init(&m, n)))
        goto out;
    rc = SB_ENOMEM;
    uint32_t *gi = malloc(n * sizeof(*gi));
    gpoint = malloc(n * sizeof(*gpoint));
    gcount = calloc(n + 1, sizeof(*gcount));
    goff = malloc((n + 1) * sizeof(*goff));
    sm = malloc(n * sizeof(*sm));
    if (!gi || !gpoint || !gcount || !goff || !sm) {
        free(gi);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        int fresh;
        uint32_t *v = gmap_slot(&m, r[i].point, &fresh);
        if (fresh) {
            *v = ng;
            gpoint[ng++] = r[i].point;
        }
        gi[i] = *v;
        gcount[*v]++;
    }
    size_t acc = 0;
    for (uint32_t g = 0; g < ng; g++) {
        goff[g] = acc;
        acc += gcount[g];
    }
    for (size_t i = 0; i < n; i++) {
        struct sb_sample *d = &sm[goff[gi[i]]++];
        d->t = r[i].t;
        d->v = r[i].v;
        d->q = r[i].q;
    }
    free(gi);
    size_t cap = 16, pos = 0;
    for (uint32_t g = 0; g < ng; g++)
        cap += 20 + sb_chunk_bound(gcount[g]);
    if (!(buf = malloc(cap)))
        goto out;
    buf[pos++] = BATCH_VERSION;
    if ((rc = put_varint(buf, cap, &pos, ng)))
        goto out;
    for (uint32_t g = 0; g < ng; g++) {
        struct sb_sample *x = sm + goff[g] - gcount[g];
        size_t k = sb__sort_dedup(x, gcount[g], &rc);
        if (rc)
            goto out;
        size_t clen = (size_t)sb_chunk_encode(NULL, 0, x, k);
        ssize_t e;
        if ((rc = put_varint(buf, cap, &pos, gpoint[g])) ||
            (rc = put_varint(buf, cap, &pos, clen)))
            goto out;
        if ((e = sb_chunk_encode(buf + pos, cap - pos, x, k)) < 0) {
            rc = (int)e;
            goto out;
        }
        pos += (size_t)e;
    }
    *out = buf;
    *outlen = pos;
    buf = NULL;
    rc = 0;
out:
    free(m.key);
    free(m.val);
    free(gpoint);
    free(gcount);
    free(goff);
    free(sm);
    free(buf);
    return rc;
}

int sb__batch_decode(const uint8_t *buf, size_t len,
                     int (*cb)(void *ud, uint32_t point, const struct sb_sample *s, size_t n),
                     void *ud)
{
    struct sb_samples v = { 0 };
    uint64_t ng, point, clen;
    size_t pos = 1;
    ssize_t k;
    int rc = SB_ECORRUPT;

    if (len < 2 || buf[0] != BATCH_VERSION)
        return SB_ECORRUPT;
    if ((k = sb_varint_get(buf + pos, len - pos, &ng)) < 0)
        return SB_ECORRUPT;
    pos += (size_t)k;
    for (uint64_t g = 0; g < ng; g++) {
        size_t n = 0;
        if ((k = sb_varint_get(buf + pos, len - pos, &point)) < 0 || point == 0 ||
            point > UINT32_MAX)
            goto out;
        pos += (size_t)k;
        if ((k = sb_varint_get(buf + pos, len - pos, &clen)) < 0 || clen > len - pos - (size_t)k)
            goto out;
        pos += (size_t)k;
        if (sb_chunk_count(buf + pos, clen, &n) != 0)
            goto out;
        if ((rc = sb_samples_reserve(&v, n)))
            goto out;
        rc = SB_ECORRUPT;
        if (sb_chunk_decode(buf + pos, clen, v.v, v.cap, &v.n) != 0)
            goto out;
        pos += clen;
        if ((rc = cb(ud, (uint32_t)point, v.v, v.n)))
            goto out;
        rc = SB_ECORRUPT;
    }
    rc = pos == len ? 0 : SB_ECORRUPT;
out:
    sb_samples_release(&v);
    return rc;
}

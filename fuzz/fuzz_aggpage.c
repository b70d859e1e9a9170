/*
 * fuzz_aggpage.c - libFuzzer target for rollup pages (sb_agg_page_decode).
 *
 * Any input must decode to SB_ECORRUPT / SB_ENOSPC or to buckets; buckets
 * that decode must encode again (the decoder accepts only what the encoder
 * can write) and come back bit for bit.  The seed corpus in
 * fuzz/corpus/aggpage/ holds small pages of each kind (docs/internals/rollups.md).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/agg.h"

#define MAXB 2048

static int same(const struct sb_agg *a, const struct sb_agg *b)
{
    /* field by field: the struct has padding */
    return a->start == b->start && a->n == b->n && a->qor == b->qor &&
           a->nstates == b->nstates && a->t_first == b->t_first && a->t_last == b->t_last &&
           !memcmp(&a->min, &b->min, sizeof a->min) && !memcmp(&a->max, &b->max, sizeof a->max) &&
           !memcmp(&a->sum, &b->sum, sizeof a->sum) &&
           !memcmp(&a->first, &b->first, sizeof a->first) &&
           !memcmp(&a->last, &b->last, sizeof a->last) &&
           !memcmp(&a->integral, &b->integral, sizeof a->integral) &&
           !memcmp(&a->covered, &b->covered, sizeof a->covered) &&
           !memcmp(&a->delta, &b->delta, sizeof a->delta) &&
           !memcmp(&a->peak, &b->peak, sizeof a->peak) && !memcmp(a->st, b->st, sizeof a->st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sb_agg a[MAXB], b[MAXB];
    static uint8_t buf[1 << 20];
    size_t n = 0, m = 0;
    enum sb_agg_kind kind;
    int rc = sb_agg_page_decode(data, size, a, MAXB, &n);
    if (rc != 0) {
        if (rc != SB_ECORRUPT && rc != SB_ENOSPC)
            abort();
        return 0;
    }
    if (sb_agg_page_info(data, size, &kind, &m) != 0 || m != n)
        abort();
    ssize_t len = sb_agg_page_encode(buf, sizeof buf, kind, a, n);
    if (len < 0 || sb_agg_page_decode(buf, (size_t)len, b, MAXB, &m) != 0 || m != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (!same(&a[i], &b[i]))
            abort();
    return 0;
}

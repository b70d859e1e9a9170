/*
 * live.c - newest reading per point (live.h): an array indexed by point id.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/live.h"
#include "core/err.h"
#include "model/model.h"

struct sb_live {
    pthread_rwlock_t lk;
    struct sb_sample *v;       /* by point id; t == INT64_MIN: none */
    uint32_t n;                /* ids 0 .. n-1 covered */
};

int sb_live_new(struct sb_live **out)
{
    struct sb_live *l = calloc(1, sizeof(*l));
    if (!l)
        return SB_ENOMEM;
    pthread_rwlock_init(&l->lk, NULL);
    *out = l;
    return 0;
}

void sb_live_free(struct sb_live *l)
{
    if (!l)
        return;
    pthread_rwlock_destroy(&l->lk);
    free(l->v);
    free(l);
}

/* Make room for id (write lock held). */
static int grow(struct sb_live *l, uint32_t id)
{
    if (id < l->n)
        return 0;
    if (id > SB_POINT_ID_MAX)
        return SB_ERANGE;
    uint32_t n = l->n ? l->n : 1024;
    while (n <= id)
        n *= 2;
    struct sb_sample *v = realloc(l->v, (size_t)n * sizeof(*v));
    if (!v)
        return SB_ENOMEM;
    for (uint32_t i = l->n; i < n; i++)
        v[i] = (struct sb_sample){ .t = INT64_MIN };
    l->v = v;
    l->n = n;
    return 0;
}

void sb_live_update(struct sb_live *l, const struct sb_reading *r, size_t n)
{
    pthread_rwlock_wrlock(&l->lk);
    for (size_t i = 0; i < n; i++) {
        if (r[i].point >= l->n && grow(l, r[i].point))
            continue;
        struct sb_sample *s = &l->v[r[i].point];
        if (r[i].t >= s->t)
            *s = (struct sb_sample){ .t = r[i].t, .v = r[i].v, .q = r[i].q };
    }
    pthread_rwlock_unlock(&l->lk);
}

int sb_live_mark(struct sb_live *l, uint32_t id, int stale, struct sb_reading *out)
{
    int rc = SB_ENOENT;
    pthread_rwlock_wrlock(&l->lk);
    if (id < l->n && l->v[id].t != INT64_MIN) {
        struct sb_sample *s = &l->v[id];
        uint16_t q = stale ? (uint16_t)(s->q | SB_Q_STALE) : (uint16_t)(s->q & ~SB_Q_STALE);
        rc = q == s->q ? 1 : 0;
        s->q = q;
        *out = (struct sb_reading){ .point = id, .t = s->t, .v = s->v, .q = q };
    }
    pthread_rwlock_unlock(&l->lk);
    return rc;
}

int sb_live_get(struct sb_live *l, uint32_t id, struct sb_sample *out)
{
    int rc = SB_ENOENT;
    pthread_rwlock_rdlock(&l->lk);
    if (id < l->n && l->v[id].t != INT64_MIN) {
        *out = l->v[id];
        rc = 0;
    }
    pthread_rwlock_unlock(&l->lk);
    return rc;
}

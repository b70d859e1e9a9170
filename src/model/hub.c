/*
 * hub.c - reference-counted publication of the current model (hub.h).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/err.h"
#include "model/hub.h"

struct sb_mhub {
    pthread_mutex_t mu;        /* protects cur */
    pthread_mutex_t edit;      /* one edit at a time */
    struct sb_mref *cur;       /* the current model (the hub holds one reference) */
    uint64_t version;          /* of cur */
};

static struct sb_mref *ref_new(struct sb_model *m, uint64_t version)
{
    struct sb_mref *r = malloc(sizeof(*r));
    if (!r)
        return NULL;
    r->m = m;
    r->version = version;
    atomic_init(&r->refs, 1);
    return r;
}

int sb_mhub_new(struct sb_model *m, struct sb_mhub **out)
{
    struct sb_mhub *h = calloc(1, sizeof(*h));
    if (!h || !m || !(h->cur = ref_new(m, 1))) {
        free(h);
        return m ? SB_ENOMEM : SB_EINVAL;
    }
    h->version = 1;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->edit, NULL);
    *out = h;
    return 0;
}

void sb_mref_put(struct sb_mref *r)
{
    if (!r)
        return;
    if (atomic_fetch_sub(&r->refs, 1) == 1) {
        sb_model_free(r->m);
        free(r);
    }
}

void sb_mhub_free(struct sb_mhub *h)
{
    if (!h)
        return;
    sb_mref_put(h->cur);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->edit);
    free(h);
}

struct sb_mref *sb_mhub_get(struct sb_mhub *h)
{
    pthread_mutex_lock(&h->mu);
    struct sb_mref *r = h->cur;
    atomic_fetch_add(&r->refs, 1);
    pthread_mutex_unlock(&h->mu);
    return r;
}

int sb_mhub_swap(struct sb_mhub *h, struct sb_model *m)
{
    pthread_mutex_lock(&h->mu);
    struct sb_mref *r = ref_new(m, h->version + 1), *old = NULL;
    if (r) {
        old = h->cur;
        h->cur = r;
        h->version++;
    }
    pthread_mutex_unlock(&h->mu);
    if (!r)
        return SB_ENOMEM;
    sb_mref_put(old);
    return 0;
}

void sb_mhub_edit_lock(struct sb_mhub *h)
{
    pthread_mutex_lock(&h->edit);
}

void sb_mhub_edit_unlock(struct sb_mhub *h)
{
    pthread_mutex_unlock(&h->edit);
}

/* store.c - backend registry and the small helpers every backend shares. */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/store.h"

extern const struct sb_store_ops sb_store_sqlite_ops;
extern const struct sb_store_ops sb_store_pg_ops;

const struct sb_store_ops *const sb_store_backends[] = {
    &sb_store_sqlite_ops,
    &sb_store_pg_ops,
    NULL
};

const struct sb_store_ops *sb_store_find(const char *name)
{
    for (size_t i = 0; sb_store_backends[i]; i++)
        if (strcmp(sb_store_backends[i]->name, name) == 0)
            return sb_store_backends[i];
    return NULL;
}

int sb_store_open(const char *backend, const struct sb_store_cfg *cfg, struct sb_store_h *h)
{
    const struct sb_store_ops *ops = sb_store_find(backend ? backend : "sqlite");

    h->ops = NULL;
    h->s = NULL;
    if (!ops)
        return SB_ENOTSUP;
    if (ops->abi != SB_STORE_ABI)
        return SB_ENOTSUP;
    int rc = ops->open(cfg, &h->s);
    if (rc == 0)
        h->ops = ops;
    return rc;
}

void sb_store_close(struct sb_store_h *h)
{
    if (h->ops && h->s)
        h->ops->close(h->s);
    h->ops = NULL;
    h->s = NULL;
}

/* Grow a caller-owned array geometrically; elem is the element size. */
static int grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64;
    while (nc < need)
        nc *= 2;
    void *p = realloc(*v, nc * elem);
    if (!p)
        return SB_ENOMEM;
    *v = p;
    *cap = nc;
    return 0;
}

int sb_samples_reserve(struct sb_samples *a, size_t n)
{
    return grow((void **)&a->v, &a->cap, n, sizeof(*a->v));
}

int sb_samples_push(struct sb_samples *a, const struct sb_sample *x)
{
    int rc = grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
    if (rc)
        return rc;
    a->v[a->n++] = *x;
    return 0;
}

int sb_aggs_push(struct sb_aggs *a, const struct sb_agg *x)
{
    int rc = grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v));
    if (rc)
        return rc;
    a->v[a->n++] = *x;
    return 0;
}

void sb_samples_release(struct sb_samples *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

void sb_aggs_release(struct sb_aggs *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

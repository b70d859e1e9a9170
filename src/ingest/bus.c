/* bus.c - the live bus (see bus.h): a small subscriber table under a rwlock. */
#include <pthread.h>
#include <stdlib.h>

#include "core/err.h"
#include "ingest/bus.h"

#define BUS_MAX 64

struct sub {
    int id;            /* subscription id, 0 = free slot */
    sb_bus_cb cb;      /* callback */
    void *ud;          /* its argument */
};

struct sb_bus {
    pthread_rwlock_t lock;   /* publish reads, (un)subscribe writes */
    struct sub subs[BUS_MAX];/* subscribers */
    int next_id;             /* last id handed out */
};

int sb_bus_new(struct sb_bus **out)
{
    struct sb_bus *b = calloc(1, sizeof(*b));
    if (!b)
        return SB_ENOMEM;
    pthread_rwlock_init(&b->lock, NULL);
    *out = b;
    return 0;
}

void sb_bus_free(struct sb_bus *b)
{
    if (!b)
        return;
    pthread_rwlock_destroy(&b->lock);
    free(b);
}

int sb_bus_subscribe(struct sb_bus *b, sb_bus_cb cb, void *ud)
{
    int id = SB_ENOSPC;
    pthread_rwlock_wrlock(&b->lock);
    for (int i = 0; i < BUS_MAX; i++) {
        if (b->subs[i].id == 0) {
            id = ++b->next_id;
            b->subs[i] = (struct sub){ id, cb, ud };
            break;
        }
    }
    pthread_rwlock_unlock(&b->lock);
    return id;
}

void sb_bus_unsubscribe(struct sb_bus *b, int id)
{
    pthread_rwlock_wrlock(&b->lock);
    for (int i = 0; i < BUS_MAX; i++)
        if (b->subs[i].id == id)
            b->subs[i].id = 0;
    pthread_rwlock_unlock(&b->lock);
}

void sb_bus_publish(struct sb_bus *b, const struct sb_reading *r, size_t n)
{
    pthread_rwlock_rdlock(&b->lock);
    for (int i = 0; i < BUS_MAX; i++)
        if (b->subs[i].id)
            b->subs[i].cb(b->subs[i].ud, r, n);
    pthread_rwlock_unlock(&b->lock);
}

/* acks.c - the ticket -> line FIFO of file producers (see acks.h). */
#include <stdlib.h>

#include "core/err.h"
#include "ingest/acks.h"

int sb_acks_push(struct sb_acks *q, uint64_t ticket, uint64_t line, uint64_t count)
{
    if (q->len == q->cap) {
        size_t nc = q->cap ? q->cap * 2 : 64;
        struct sb_ack *nv = malloc(nc * sizeof(*nv));
        if (!nv)
            return SB_ENOMEM;
        for (size_t i = 0; i < q->len; i++)
            nv[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = nv;
        q->cap = nc;
        q->head = 0;
    }
    q->v[(q->head + q->len++) % q->cap] = (struct sb_ack){ ticket, line, count };
    return 0;
}

int sb_acks_pop(struct sb_acks *q, uint64_t durable, struct sb_ack *last)
{
    int any = 0;
    while (q->len && q->v[q->head].ticket <= durable) {
        *last = q->v[q->head];
        q->head = (q->head + 1) % q->cap;
        q->len--;
        any = 1;
    }
    return any;
}

void sb_acks_release(struct sb_acks *q)
{
    free(q->v);
    q->v = NULL;
    q->head = q->len = q->cap = 0;
}

/*
 * hub.h - the daemon's current building model, shared by every thread.
 *
 * A model is read-only once published (model.h); a change builds a new one
 * and swaps it in.  Readers pin the current model with sb_mhub_get() and
 * unpin it with sb_mref_put(): a swap never frees a model someone still
 * reads (RCU by reference count, as nginx's configuration cycles).  Writers
 * (the API's model edits, an import) serialise on sb_mhub_edit_lock() so
 * two edits never build on the same old model and lose one of them.
 *
 * Ownership: the hub owns the model references it holds; sb_mhub_get()
 * returns a reference the caller owns until sb_mref_put().  sb_mhub_swap()
 * takes ownership of the heap model given.  Threads: every function is
 * thread-safe.
 */
#ifndef SB_MODEL_HUB_H
#define SB_MODEL_HUB_H

#include <stdint.h>

#include "model/model.h"

struct sb_mhub;

/* A pinned model. */
struct sb_mref {
    struct sb_model *m;        /* the model: read only */
    uint64_t version;          /* 1, 2, ... one per swap */
    _Atomic int refs;          /* internal */
};

/* A hub publishing m (a validated heap model; ownership passes). */
int  sb_mhub_new(struct sb_model *m, struct sb_mhub **out);
/* Free the hub; every reference must have been put. */
void sb_mhub_free(struct sb_mhub *h);

struct sb_mref *sb_mhub_get(struct sb_mhub *h);
void sb_mref_put(struct sb_mref *r);

/* Publish m (validated heap model, ownership passes) as the new current
 * model; readers holding the old one keep it until they put it. */
int  sb_mhub_swap(struct sb_mhub *h, struct sb_model *m);

/* Serialise edits: get, build a new model from it, swap, unlock. */
void sb_mhub_edit_lock(struct sb_mhub *h);
void sb_mhub_edit_unlock(struct sb_mhub *h);

#endif /* SB_MODEL_HUB_H */

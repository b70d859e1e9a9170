/*
 * sync.h - tell the store and the ingest pipeline what the model's points
 * are (how each aggregates, its time zone, its valid range), after a model
 * is loaded or changed.
 *
 * Threads: callable from any one thread at a time per store (the store
 * serialises set_points with its writes); the ingest table swap is
 * thread-safe.  Nothing is kept: the model may be freed afterwards.
 */
#ifndef SB_MODEL_SYNC_H
#define SB_MODEL_SYNC_H

#include <stdint.h>

#include "model/model.h"

struct sb_store_h;
struct sb_ingest;

/* Returns 0, SB_ENOMEM or the store's error.  ing may be NULL. */
int sb_model_sync_points(struct sb_store_h *store, struct sb_ingest *ing,
                         const struct sb_model *m, int64_t max_hold_ms);

#endif /* SB_MODEL_SYNC_H */

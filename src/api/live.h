/*
 * live.h - the newest reading of every point, in memory.
 *
 * Filled from the store at start and kept current by the live bus (durable
 * readings only), so GET /points/{id}/latest, building overviews and
 * WebSocket snapshots answer without touching the store.  A reading older
 * than the one held (late data) does not replace it.
 *
 * Threads: sb_live_update() from the ingest writer (bus callback) or any
 * thread; sb_live_get() from any thread.  A reader/writer lock guards the
 * table (one write lock per durable batch).
 */
#ifndef SB_API_LIVE_H
#define SB_API_LIVE_H

#include <stddef.h>
#include <stdint.h>

#include "store/sample.h"

struct sb_live;

int  sb_live_new(struct sb_live **out);
void sb_live_free(struct sb_live *l);

/* Keep each reading that is newer than the one held for its point. */
void sb_live_update(struct sb_live *l, const struct sb_reading *r, size_t n);

/*
 * Set or clear SB_Q_STALE on the reading held for point id (the driver
 * framework's verdict: no good read or COV confirmation for stale_factor
 * intervals).  The reading keeps its time and value.  Returns 0 with the
 * changed reading in *out (to publish), 1 when the flag was already so, or
 * SB_ENOENT when no reading is held.
 */
int  sb_live_mark(struct sb_live *l, uint32_t id, int stale, struct sb_reading *out);

/* The newest reading of point id: 0, or SB_ENOENT when none is known. */
int  sb_live_get(struct sb_live *l, uint32_t id, struct sb_sample *out);

#endif /* SB_API_LIVE_H */

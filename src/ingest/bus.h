/*
 * bus.h - the live bus: every reading the store has made durable, in order,
 * to whoever subscribed (WebSocket fan-out, alert rules, analytics).
 *
 * Callbacks run on the ingest writer thread right after each durable batch;
 * they must be quick and must not block (copy what you need and hand it to
 * your own thread or loop with uv_async_send).  The readings passed are
 * valid only during the call.  Subscribe/unsubscribe are thread-safe.
 */
#ifndef SB_BUS_H
#define SB_BUS_H

#include <stddef.h>

#include "store/sample.h"

struct sb_bus;

typedef void (*sb_bus_cb)(void *ud, const struct sb_reading *r, size_t n);

int  sb_bus_new(struct sb_bus **out);
void sb_bus_free(struct sb_bus *b);

/* Returns a subscription id > 0, or a negative SB_E*. */
int  sb_bus_subscribe(struct sb_bus *b, sb_bus_cb cb, void *ud);
void sb_bus_unsubscribe(struct sb_bus *b, int id);

/* Deliver a durable batch to every subscriber (writer thread). */
void sb_bus_publish(struct sb_bus *b, const struct sb_reading *r, size_t n);

#endif /* SB_BUS_H */

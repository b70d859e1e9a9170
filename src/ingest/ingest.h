/*
 * ingest.h - the ingest pipeline: producers -> bounded queue -> batching
 * writer thread -> store, then the live bus.
 *
 * Producers (drivers on the loop thread, the control socket, the CLI's
 * backfill, later the API and MQTT) call sb_ingest_submit() from any thread.
 * Each reading is validated there (unknown point, NaN/Inf, out of the point's
 * range, more than future_limit ahead of now, older than raw retention) and
 * rejected with a reason that is counted; the rest of the call's readings are
 * queued.  The queue is bounded: when it is full, submit waits up to the
 * caller's timeout and then returns SB_EAGAIN with the number it did queue,
 * so nothing is ever dropped silently.
 *
 * One writer thread takes up to batch readings at a time (waiting up to
 * linger for more), appends them to the store in one durable transaction,
 * then publishes them on the live bus (bus.h) and advances the durable ticket.
 * A reading is acknowledged (its ticket <= sb_ingest_durable()) only after its
 * batch is durable.  sb_ingest_stop() stops intake, drains and flushes.
 */
#ifndef SB_INGEST_H
#define SB_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "store/sample.h"
#include "store/store.h"

struct sb_ingest;
struct sb_bus;

/* Why a reading was refused. */
enum sb_reject {
    SB_REJ_UNKNOWN_POINT = 0,   /* no such point id */
    SB_REJ_NOT_FINITE,          /* NaN or +/-Inf */
    SB_REJ_RANGE,               /* outside the point's [min, max] */
    SB_REJ_FUTURE,              /* t > now + future_limit */
    SB_REJ_TOO_OLD,             /* t older than raw retention */
    SB_REJ_COUNT
};

/* Static name of a reason ("unknown_point", ...). */
const char *sb_reject_name(enum sb_reject r);

/* Validation facts per point (from the model). */
struct sb_ingest_point {
    uint32_t id;                /* point id */
    double   vmin, vmax;        /* accepted range in canonical units (-inf/+inf: none) */
};

struct sb_ingest_cfg {
    size_t  queue_cap;          /* readings the queue holds */
    size_t  batch_max;          /* readings per store transaction */
    int64_t linger_ms;          /* how long the writer waits to fill a batch */
    int64_t future_limit_ms;    /* reject t > now + this */
    int64_t too_old_ms;         /* reject t < now - this (0: no limit) */
    int64_t flush_interval_ms;  /* seal buffered samples at least this often */
};

/* Outcome of one submit call. */
struct sb_ingest_result {
    size_t   queued;            /* readings accepted into the queue */
    size_t   rejected;          /* readings refused (sum of reasons) */
    uint32_t reasons[SB_REJ_COUNT]; /* refused per reason */
    long     first_bad;         /* index of the first refused reading, -1 if none */
    uint64_t ticket;            /* durable once sb_ingest_durable() >= ticket */
};

/* Counters since start. */
struct sb_ingest_stats {
    uint64_t submitted, queued, written, batches;
    uint64_t rejected[SB_REJ_COUNT];
    uint64_t full_waits;        /* submits that found the queue full */
    uint64_t store_errors;      /* failed store appends (batch retried) */
    size_t   depth;             /* readings waiting now */
};

/* Create the pipeline over an open store (not owned; must outlive it) and a
 * bus (not owned, may be NULL).  Starts the writer thread. */
int  sb_ingest_new(struct sb_store_h *store, struct sb_bus *bus,
                   const struct sb_ingest_cfg *cfg, struct sb_ingest **out);

/* Replace the set of known points (thread-safe; takes a copy). */
int  sb_ingest_set_points(struct sb_ingest *ing, const struct sb_ingest_point *p, size_t n);

/* Validate and queue n readings.  Waits up to timeout_ms for queue room
 * (0: no wait, -1: forever).  Returns 0 when every valid reading was queued,
 * SB_EAGAIN when the queue stayed full (res->queued tells how many were),
 * SB_ECLOSED after stop.  res may be NULL. */
int  sb_ingest_submit(struct sb_ingest *ing, const struct sb_reading *r, size_t n,
                      int64_t timeout_ms, struct sb_ingest_result *res);

/* The ticket of the last reading queued: once it is durable, so is every
 * reading submitted before this call (a node handing a device over waits for
 * it, cluster/lease.c). */
uint64_t sb_ingest_queued(struct sb_ingest *ing);

/* Highest ticket whose batch is durable. */
uint64_t sb_ingest_durable(struct sb_ingest *ing);

/* Wait until ticket is durable: 0, SB_ETIMEDOUT, or SB_EIO if the store
 * failed permanently. */
int  sb_ingest_wait(struct sb_ingest *ing, uint64_t ticket, int64_t timeout_ms);

/* Ask the writer to seal buffered samples now and wait for it. */
int  sb_ingest_flush(struct sb_ingest *ing, int64_t timeout_ms);

void sb_ingest_get_stats(struct sb_ingest *ing, struct sb_ingest_stats *st);

/* Stop intake, write everything queued, flush the store, join the writer. */
int  sb_ingest_stop(struct sb_ingest *ing);

/* Stop (if needed) and free. */
void sb_ingest_free(struct sb_ingest *ing);

#endif /* SB_INGEST_H */

/*
 * acks.h - which input lines a durable ticket covers.
 *
 * A producer that reads a file (`sbems ingest`, the control socket) pushes,
 * after each submit that queued all its parsed readings, (ticket, last line
 * covered, readings so far); when sb_ingest_durable() passes tickets, pop
 * tells the newest line whose readings are all on disk - what the
 * "ack readings=N lines=L" lines report.  Caller-owned storage
 * (zero-initialise, sb_acks_release); not thread-safe.
 */
#ifndef SB_ACKS_H
#define SB_ACKS_H

#include <stddef.h>
#include <stdint.h>

/* One submit. */
struct sb_ack {
    uint64_t ticket;   /* durable once sb_ingest_durable() >= ticket */
    uint64_t line;     /* last input line whose readings are all queued */
    uint64_t count;    /* the producer's readings queued up to then */
};

/* A FIFO of submits (ring, grows as needed). */
struct sb_acks {
    struct sb_ack *v;          /* ring storage */
    size_t head, len, cap;     /* first entry, entries, allocated */
};

/* 0 or SB_ENOMEM. */
int  sb_acks_push(struct sb_acks *q, uint64_t ticket, uint64_t line, uint64_t count);

/* Drop every entry with ticket <= durable; returns 1 and the newest dropped
 * entry in *last when there was one, else 0. */
int  sb_acks_pop(struct sb_acks *q, uint64_t durable, struct sb_ack *last);

void sb_acks_release(struct sb_acks *q);

#endif /* SB_ACKS_H */

/*
 * agg.h - what a rollup bucket holds, and how it is computed from samples.
 *
 * Aggregation follows what a point measures (enum sb_agg_kind):
 *  MEAN    analog values (temperature, humidity, CO2, setpoints): count, sum
 *          (arithmetic mean = sum / n), min, max, first, last.
 *  RATE    power-like values: time-weighted mean.  Each sample holds its value
 *          from its time until the next sample, but never longer than
 *          max_hold_ms ("step-hold"); integral = sum of value x seconds held
 *          inside the bucket, covered = seconds held inside the bucket; mean =
 *          integral / covered.  peak = highest 15-minute mean (demand).
 *          max_hold_ms must be > 0: with <= 0 a sample holds no time at
 *          all (covered stays 0).  There is deliberately no "no limit".
 *  COUNTER cumulative registers (energy): delta = consumption in the bucket.
 *          The increase between two consecutive samples a, b is attributed to
 *          the bucket that holds b.  A decrease is a rollover when the point
 *          has a modulus (counter_max > 0) and the drop exceeds counter_max/2
 *          (increase = counter_max - a + b); otherwise a meter reset (the
 *          register restarted from zero: increase = b) and the bucket is
 *          flagged SB_Q_ESTIMATED.  So the deltas of all buckets add up to the
 *          register's total advance.  peak = highest 15-minute delta.
 *  STATE   status / command / occupancy: time in each state (step-hold, as
 *          RATE), up to SB_AGG_MAX_STATES distinct values per bucket (more
 *          are folded into the last slot and flagged SB_Q_ESTIMATED).
 *          st[] lists states in order of first appearance in the bucket.
 * n, min, max, first, last, t_first, t_last and qor are kept for every kind;
 * sum for MEAN and RATE only (0 for COUNTER and STATE: a sum of register
 * readings or of state codes means nothing and would cost page space);
 * qor ORs the flags of the samples inside the bucket only (a value held in
 * from an earlier bucket does not bring its flags along).
 *
 * peak: a bucket computed from samples (1 or 15 min, by sb_agg_compute or
 * sb_agg_add/sb_agg_hold) holds its own mean (RATE, once covered > 0) or its
 * own delta (COUNTER) as peak; at 15 minutes that is the demand figure, at 1
 * minute it is just the 1-minute mean and means nothing more.  Merging
 * children of 15 min or coarser keeps the highest child peak.  Merging 1-min
 * children never takes a 1-minute mean as peak: the merged bucket gets its
 * own mean / delta (right for a 15-min bucket made of 1-min ones; do not
 * build coarser buckets from 1-min ones).  MEAN and STATE: peak = 0.
 *
 * Buckets of 15 minutes are computed from samples; every coarser bucket is the
 * merge (sb_agg_merge) of the 15-minute buckets inside it, and merging gives
 * what computing from the samples would: exactly for n, min, max, first,
 * last, times and qor, and for the state list while it has at most
 * SB_AGG_MAX_STATES values (past that, folding is estimated either way);
 * sums (sum, integral, covered, delta, state secs) added in a different
 * order may differ in the last bits (relative 1e-12).  Adding
 * samples in time order one at a time (sb_agg_add, sb_agg_hold) gives, bit for
 * bit, what sb_agg_compute gives on the same samples.
 *
 * Pure functions: no I/O, no allocation, no globals.
 */
#ifndef SB_AGG_H
#define SB_AGG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/bucket.h"
#include "store/sample.h"

enum sb_agg_kind {
    SB_AGG_MEAN = 0,
    SB_AGG_RATE,
    SB_AGG_COUNTER,
    SB_AGG_STATE,
    SB_AGG_KIND_COUNT
};

#define SB_AGG_MAX_STATES 8
#define SB_AGG_PAGE_MAX   (1u << 20)   /* most buckets in one page */

/* How one point aggregates. */
struct sb_agg_ctx {
    enum sb_agg_kind kind;     /* what the point measures */
    double   counter_max;      /* COUNTER modulus (rollover), 0 = none */
    int64_t  max_hold_ms;      /* longest a sample holds its value (RATE, STATE) */
};

/* Time in one state. */
struct sb_agg_state {
    double value;              /* the state's value (0/1, or a multistate index) */
    double secs;               /* seconds spent in it within the bucket */
};

/* The aggregate of one bucket [start, next). */
struct sb_agg {
    int64_t  start;            /* bucket start, ms UTC */
    uint32_t n;                /* samples inside the bucket */
    uint16_t qor;              /* OR of SB_Q_* of those samples (+ ESTIMATED, see above) */
    uint8_t  nstates;          /* used entries of st[] */
    double   min, max;         /* extreme sample values (0 when n == 0) */
    double   sum;              /* sum of sample values (MEAN, RATE; else 0) */
    double   first, last;      /* first and last sample values (0 when n == 0) */
    int64_t  t_first, t_last;  /* their times, ms UTC (0 when n == 0) */
    double   integral;         /* RATE: value x seconds held inside the bucket */
    double   covered;          /* RATE, STATE: seconds inside the bucket held by a sample */
    double   delta;            /* COUNTER: consumption attributed to the bucket */
    double   peak;             /* RATE: max 15-min mean; COUNTER: max 15-min delta */
    struct sb_agg_state st[SB_AGG_MAX_STATES]; /* STATE: time in state */
};

/* An empty bucket starting at start. */
void sb_agg_init(struct sb_agg *a, int64_t start);

/* True when the bucket holds anything (samples, hold time or consumption). */
int sb_agg_nonempty(const struct sb_agg *a);

/* Compute the 15-minute (or 1-minute) buckets, of resolution r, that overlap
 * [t0, t1) from samples s[0..n) sorted by strictly increasing t.  prev, if
 * not NULL, is the sample just before s[0] (it holds into the range and
 * starts the first counter increase).  Samples outside [t0, t1) may be given:
 * they only contribute hold time / increases that fall inside.  Writes only
 * non-empty buckets, in time order, to out[0..cap); *nout gets their count.
 * Returns 0 or SB_ENOSPC (out too small), SB_EINVAL (r coarser than 15m).
 * Buckets are whole: [t0, t1) is widened to bucket bounds, and every sample
 * inside the widened range must be given, and the sample after it when there
 * is one: the last sample given holds only until the next one given, so the
 * newest sample of a series holds nothing (nothing is extrapolated).  On SB_ENOSPC, out[0..cap) is filled and *nout
 * is the number needed.  SB_EINVAL also for unsorted samples (prev included)
 * or a bad kind. */
int sb_agg_compute(const struct sb_agg_ctx *c, const struct sb_tz *tz, enum sb_res r,
                   const struct sb_sample *prev, const struct sb_sample *s, size_t n,
                   int64_t t0, int64_t t1, struct sb_agg *out, size_t cap, size_t *nout);

/* Incremental form: account for the step from prev (may be NULL) to s, where
 * s->t > prev->t, into bucket a, which is the bucket holding s (start a->start,
 * end a_end).  Hold time of prev that falls before a->start belongs to earlier
 * buckets: pass those to sb_agg_hold() first.  (Samples in time order only;
 * a late sample means recomputing its buckets with sb_agg_compute.)
 * Live writer, matching sb_agg_compute bit for bit - on each sample s:
 *   if s is past the open bucket a: sb_agg_hold(a, prev, s->t), close a; for
 *   each later bucket that prev still holds into before s's bucket: init it,
 *   sb_agg_hold(it, prev, s->t), close it; init s's bucket as a.
 *   Then sb_agg_add(a, prev, s).  When a later sample closes a, first
 *   sb_agg_hold(a, prev, a_end); the newest sample's bucket stays open. */
void sb_agg_add(const struct sb_agg_ctx *c, struct sb_agg *a, int64_t a_end,
                const struct sb_sample *prev, const struct sb_sample *s);

/* Account for the hold of sample prev inside bucket a = [a->start, a_end),
 * up to time until (exclusive; the next sample's time, or a_end when the next
 * sample is later).  Used to close a bucket or fill buckets with no samples. */
void sb_agg_hold(const struct sb_agg_ctx *c, struct sb_agg *a, int64_t a_end,
                 const struct sb_sample *prev, int64_t until);

/* The instants [*t0, *t1) whose buckets change when sample s is inserted
 * between stored neighbours prev and next (either may be NULL), deleted from
 * between them, or changes value: recompute them with sb_agg_compute (giving
 * it every sample of those whole buckets plus one on each side) and replace
 * every stored bucket in them by its output, deleting the ones it no longer
 * returns. */
void sb_agg_dirty(const struct sb_agg_ctx *c, const struct sb_sample *prev,
                  const struct sb_sample *s, const struct sb_sample *next,
                  int64_t *t0, int64_t *t1);

/* Merge child bucket from (of resolution from_res) into coarser bucket into
 * (initialised by sb_agg_init with its own start, which merging keeps).
 * Children may come in any order. */
void sb_agg_merge(const struct sb_agg_ctx *c, struct sb_agg *into,
                  const struct sb_agg *from, enum sb_res from_res);

/* The one number a chart shows for the bucket: MEAN mean, RATE time-weighted
 * mean (the samples' mean when no time is covered: a single newest sample,
 * or a zero hold), COUNTER delta, STATE fraction of covered time in a
 * non-zero state.  NaN when the bucket has nothing to show. */
double sb_agg_value(enum sb_agg_kind kind, const struct sb_agg *a);

/* A page: several buckets of one point and resolution, column-encoded with
 * the codec (codec.h).  Encode returns bytes written/needed (buf NULL ->
 * length only) or negative; decode returns 0, SB_ENOSPC (with *n set) or
 * SB_ECORRUPT.  Round-trips every field bit-exactly.
 * Encode wants what this module produces, else SB_EINVAL: at most
 * SB_AGG_PAGE_MAX buckets with strictly increasing start, finite doubles,
 * nstates <= SB_AGG_MAX_STATES, the sample fields (min..last, t_first,
 * t_last) of buckets with n == 0 and unused st[] entries all zero (they are
 * not stored), t_first and t_last within 2^52 ms of start.
 * SB_ENOSPC if cap is too small.  Layout: docs/internals/rollups.md. */
ssize_t sb_agg_page_encode(uint8_t *buf, size_t cap, enum sb_agg_kind kind,
                           const struct sb_agg *a, size_t n);
int sb_agg_page_decode(const uint8_t *buf, size_t len, struct sb_agg *out, size_t cap,
                       size_t *n);

/* A page's kind and bucket count, from its header only (to size out[]).
 * Returns 0 or SB_ECORRUPT. */
int sb_agg_page_info(const uint8_t *buf, size_t len, enum sb_agg_kind *kind, size_t *n);

#endif /* SB_AGG_H */

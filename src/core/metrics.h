/*
 * metrics.h - a Prometheus metrics registry: counters, gauges, histograms.
 *
 * Metrics are registered once (usually at start-up) with a fixed list of
 * label names; each distinct list of label values is a "child" created on
 * first use.  sb_metrics_write() renders everything in the text exposition
 * format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/)
 * for GET /metrics: metrics in registration order, children in creation
 * order.
 *
 * Bounded cardinality: a metric has at most max_children children (set with
 * sb_metrics_set_max_children before registering, default
 * SB_METRICS_DEFAULT_MAX_CHILDREN).  Updates for a new label-value list past
 * that bound go to one extra child whose label values are all "other", and
 * sb_metric_overflow() counts them, so a peer that invents label values
 * (a device name, a path) cannot grow memory without bound.
 *
 * Threads: every function may be called from any thread.  Updating an
 * existing child is lock-free: child lookup probes a fixed open-addressing
 * table of atomic pointers, values are C11 atomics, and doubles (counter and
 * gauge values, histogram sums) are updated by compare-and-swap on their
 * uint64 bit pattern.  Creating a child takes the metric's mutex;
 * registration and sb_metrics_write() take the registry's.  Gauge callbacks
 * run inside sb_metrics_write() with the registry mutex held and must not
 * call into the registry.  A scrape that races with updates may see a
 * histogram's _sum a little behind its buckets; _count always equals the
 * +Inf bucket (both are computed from the same bucket reads).
 *
 * Ownership: the registry owns every metric and child; the struct sb_metric
 * pointers stay valid until sb_metrics_free(), which must run after every
 * other thread has stopped using them.  Names, help texts, label names,
 * label values and bounds are copied.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define SB_METRICS_DEFAULT_MAX_CHILDREN 64
#define SB_METRICS_MAX_LABELS           8      /* label names per metric */
#define SB_METRICS_MAX_BOUNDS           64     /* histogram buckets, +Inf excluded */

struct sb_metrics;
struct sb_metric;

/* A new empty registry, or NULL when out of memory.  Free with sb_metrics_free. */
struct sb_metrics *sb_metrics_new(void);

/* Frees the registry and all its metrics.  NULL is a no-op. */
void sb_metrics_free(struct sb_metrics *reg);

/* Child bound for metrics registered after this call (>= 1).
 * Returns 0 or SB_EINVAL. */
int sb_metrics_set_max_children(struct sb_metrics *reg, size_t n);

/* Register a metric.  name must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" ("le" is also refused for
 * histograms), at most SB_METRICS_MAX_LABELS of them, each once; help may be
 * NULL.  Histogram bounds must be finite and strictly increasing (at most
 * SB_METRICS_MAX_BOUNDS; the +Inf bucket is implicit).  A metric without
 * labels has its single child from the start, so it is exported as 0.
 * Returns the metric (owned by reg), or NULL on invalid arguments, a name
 * already registered, or out of memory. */
struct sb_metric *sb_metric_counter(struct sb_metrics *reg, const char *name, const char *help,
                                    const char *const *labels, size_t nlabels);
struct sb_metric *sb_metric_gauge(struct sb_metrics *reg, const char *name, const char *help,
                                  const char *const *labels, size_t nlabels);
struct sb_metric *sb_metric_histogram(struct sb_metrics *reg, const char *name, const char *help,
                                      const char *const *labels, size_t nlabels,
                                      const double *bounds, size_t nbounds);

/* An unlabelled gauge whose value is fn(ud), called at scrape time (for
 * queue depths, open connections: values another module already keeps).
 * Returns 0, SB_EINVAL, SB_EEXIST (name taken) or SB_ENOMEM. */
int sb_metric_gauge_fn(struct sb_metrics *reg, const char *name, const char *help,
                       double (*fn)(void *ud), void *ud);
/* The same for a counter read at scrape time (a total kept elsewhere):
 * exposed with TYPE counter, as its _total name promises. */
int sb_metric_counter_fn(struct sb_metrics *reg, const char *name, const char *help,
                         double (*fn)(void *ud), void *ud);

/* Updates.  values holds one string per label name in registration order
 * (ignored, may be NULL, for metrics without labels; a NULL entry means "").
 * sb_metric_inc adds by to a counter (by must be >= 0) or a gauge (any
 * sign); sb_metric_set sets a gauge; sb_metric_observe records v in a
 * histogram.  Calls that do not fit the metric (set on a counter, a negative
 * or NaN counter increment, a NaN observation, NULL metric) change nothing.
 * A new child that cannot be allocated is treated like one past the bound
 * (counted, sent to "other"; dropped if even that cannot be allocated).
 * Values that are all "other" update the "other" child without counting. */
void sb_metric_inc(struct sb_metric *m, const char *const *values, double by);
void sb_metric_set(struct sb_metric *m, const char *const *values, double v);
void sb_metric_observe(struct sb_metric *m, const char *const *values, double v);

/* Updates that went to the "other" child (or were dropped) so far. */
uint64_t sb_metric_overflow(const struct sb_metric *m);

/* Renders the registry as text format 0.0.4 into a malloc'd, NUL-terminated
 * buffer (*out, owned by the caller; *len excludes the NUL).  Label values
 * escape \ " and newline; HELP escapes \ and newline.  Returns 0,
 * SB_EINVAL (a NULL argument) or SB_ENOMEM (*out untouched). */
int sb_metrics_write(struct sb_metrics *reg, char **out, size_t *len);

#endif /* SB_METRICS_H */

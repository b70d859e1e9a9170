/*
 * bench.h - what every benchmark program shares: the synthetic building data,
 * clocks, percentiles, disk and memory probes, and the RESULT line format.
 *
 * Every program in bench/ (the PostgreSQL and SQLite anchors and the sbems
 * benchmarks) generates its readings here, so "the same data" is literally
 * the same values: each point has its own deterministic generator seeded
 * from its id, so a point's sequence does not depend on which other points
 * are generated with it or in which order they are interleaved.
 *
 * The site: points 1..n60 report every 60 s (kinds by id, see
 * sb_bench_kind_of: 70 % zone temperatures at 0.1 degC, 10 % humidity at
 * 0.1 %RH, 10 % electric power at 0.1 kW, 10 % energy registers at 0.01 kWh);
 * points n60+1..n60+n15 are meters reporting every 15 s (power and energy
 * alternating).  Times are UTC ms, on exact multiples of the period.
 *
 * Results: a program prints one line per measure on stdout,
 *   RESULT name=<id> value=<number> unit=<unit>
 * and bench/run collects them into bench/RESULTS.md.  Everything else goes to
 * stderr.  This module depends on nothing in src/ but store/sample.h (a plain
 * struct), so the anchors build before any of the store exists.
 */
#ifndef SB_BENCH_H
#define SB_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "store/sample.h"

/* 2025-01-01T00:00:00Z in ms: the start of every generated data set (a whole
 * year that lies in the past, so ingest never sees a "future" reading). */
#define SB_BENCH_T0_MS    INT64_C(1735689600000)
#define SB_BENCH_DAY_MS   INT64_C(86400000)
#define SB_BENCH_MIN_MS   INT64_C(60000)

/* What a generated point measures (decides its value model and resolution). */
enum sb_bench_kind {
    SB_BENCH_TEMP = 0,  /* zone air temperature, degC, 0.1 resolution */
    SB_BENCH_HUMID,     /* zone relative humidity, %, 0.1 resolution */
    SB_BENCH_POWER,     /* electric power, kW, 0.1 resolution */
    SB_BENCH_ENERGY,    /* energy register, kWh, 0.01 resolution, never decreasing */
    SB_BENCH_KIND_COUNT
};

/* One point's generator state.  Advancing it (sb_bench_next) yields the next
 * reading; nothing else is shared, so points can be split across threads. */
struct sb_bench_point {
    uint32_t id;             /* point id (>= 1) */
    enum sb_bench_kind kind; /* value model */
    int64_t  period_ms;      /* time between readings */
    int64_t  t_next;         /* time of the next reading, ms UTC */
    uint64_t rng;            /* xorshift64* state, seeded from id */
    double   base;           /* level: setpoint, mean RH, or base load kW */
    double   amp;            /* amplitude of the daily swing */
    double   noise;          /* AR(1) noise term carried between readings */
    double   phi;            /* AR(1) coefficient exp(-period / tau) */
    double   innov;          /* AR(1) innovation scale sd * sqrt(1 - phi^2) */
    double   reg;            /* ENERGY: register in kWh (unrounded) */
};

/* A time-ordered stream over a set of points: at each instant t, every point
 * whose next reading falls on t emits it, in array order; then t moves to the
 * earliest next reading of any point.  Points may start at different times. */
struct sb_bench_stream {
    struct sb_bench_point *p; /* points (owned by the caller) */
    size_t   n;               /* number of points */
    int64_t  t;               /* current instant, ms UTC */
    int64_t  t_after;         /* earliest t_next seen so far after t (next instant) */
    size_t   pos;             /* next point index to look at within instant t */
};

/* Kind of 60-s point id (the 15-s meters alternate POWER, ENERGY). */
enum sb_bench_kind sb_bench_kind_of(uint32_t id);
/* Short name of a kind ("temp", "humid", "power", "energy"). */
const char *sb_bench_kind_name(enum sb_bench_kind k);

/* Set up point id of kind k, reporting every period_ms from t_start. */
void sb_bench_point_init(struct sb_bench_point *p, uint32_t id, enum sb_bench_kind k,
                         int64_t period_ms, int64_t t_start);

/* Fill p[0..n60+n15) with the site described above (ids 1..n60+n15). */
void sb_bench_site_init(struct sb_bench_point *p, size_t n60, size_t n15, int64_t t_start);

/* Produce the next reading of p and advance it by one period. */
void sb_bench_next(struct sb_bench_point *p, struct sb_reading *out);

/* Start a stream over p[0..n) at time t_start. */
void sb_bench_stream_init(struct sb_bench_stream *s, struct sb_bench_point *p, size_t n,
                          int64_t t_start);

/* Write up to cap readings, in time order, to out; returns how many. */
size_t sb_bench_stream_fill(struct sb_bench_stream *s, struct sb_reading *out, size_t cap);

/* The query benchmarks' choice of points, shared so that sbems and the
 * anchors read the same series.  The rep-th point of kind k among ids
 * 1..limit of the 60-s site, cycling (1 if there is none). */
uint32_t sb_bench_nth_of_kind(enum sb_bench_kind k, uint32_t limit, uint64_t rep);

/* "Building" rep's zone temperatures: the rep-th run of up to cap
 * temperature ids among 1..n60, cycling over the runs.  Returns the count. */
size_t sb_bench_zones(uint32_t n60, uint64_t rep, uint32_t *ids, size_t cap);

/* Monotonic clock, ns. */
int64_t sb_bench_now_ns(void);

/* Sort v[0..n) and return the nearest-rank percentile pct (0..100). */
double sb_bench_pct(double *v, size_t n, double pct);

/* Bytes of all regular files under dir (recursive); negative on error. */
int64_t sb_bench_du(const char *dir);

/* A field of /proc/self/status ("VmRSS", "VmHWM") in bytes; -1 if absent. */
int64_t sb_bench_proc_status(const char *field);

/* The store backend of the sbems programs: "sqlite" (default) or "postgres"
 * with a libpq connection string.  -1 for an unknown name. */
int sb_bench_set_backend(const char *name, const char *url);
const char *sb_bench_backend(void);
const char *sb_bench_url(void);
int sb_bench_pg(void);              /* the backend is postgres */
/* bench_pg.c (sbems programs only): drop the sbems tables of the database at
 * the -U URL (0 or SB_ESTORE); the bytes a store takes: du of path for
 * SQLite, the tables' size for PostgreSQL (h open), -1 on error. */
struct sb_store_h;
int sb_bench_pg_fresh(void);
int64_t sb_bench_store_bytes(struct sb_store_h *h, const char *path);

/* Print "RESULT name=... value=... unit=..." on stdout and flush (names
 * "sb_x" are printed "sbpg_x" on the postgres backend). */
void sb_bench_result(const char *name, double value, const char *unit);

/* Parse a whole decimal integer option argument in [lo, hi] into *out.
 * Returns 0, or SB_EINVAL (after a message on stderr naming opt). */
int sb_bench_arg_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out);

#endif /* SB_BENCH_H */

/*
 * clean.h - explicit, reported cleaning of an hourly meter series, and the
 * data-sufficiency test every model runs before it fits.
 *
 * A forecast or a baseline may only say what it left out: every hour this
 * module excludes is flagged with its reason and counted in a report that
 * the caller shows to the user ("excluded 14 of 17520 hours: 3 zero reads
 * treated as missing, 5 spikes, 6 in 1 flatline run").  Nothing is ever
 * filled in or smoothed: an excluded hour becomes NAN (missing).
 *
 * Rules, in the order applied (each only looks at hours still valid):
 *   1. missing: the input is already NAN or infinite;
 *   2. zero:    a reading of exactly 0 when zero_is_missing is set (archives
 *               that store a missed read as 0, e.g. the Cambridge estates
 *               archive);
 *   3. negative: a reading < 0 unless allow_negative (export meters);
 *   4. flatline: a run of at least flat_min_run consecutive valid hours
 *               whose readings are equal within flat_tol; the first hour of
 *               the run is kept (it is the genuine reading the meter then
 *               stuck at), the rest are excluded;
 *   5. spike:   an isolated one-hour excursion: the reading is above (or
 *               below) BOTH valid neighbours by more than spike_k * s, with
 *               s the robust sd (1.4826 x MAD) of the hour-to-hour changes
 *               in a window of +-spike_halfwin hours around that day,
 *               floored at spike_floor * |median load| of the window.  A
 *               step (the morning start-up) moves away from one neighbour
 *               only, so the daily cycle is never a "spike"; a one-hour
 *               register glitch (or the half-hour reading at the start of
 *               an archive year) is.  Multi-hour excursions are left alone:
 *               they may be real events.  (A rolling-median Hampel filter
 *               was tried first: on a 40/100 kWh office profile the
 *               median sits at the night level and it flagged 136 normal
 *               daytime hours of 3600.)
 *
 * Pure: no I/O, no globals; allocates only scratch (freed before
 * returning).  Arrays are caller-owned.
 */
#ifndef SB_ANALYTICS_CLEAN_H
#define SB_ANALYTICS_CLEAN_H

#include <stddef.h>
#include <stdint.h>

/* Why an hour was excluded (one per hour; the first rule that fired). */
enum sb_clean_flag {
    SB_CLEAN_OK = 0,        /* kept */
    SB_CLEAN_MISSING = 1,   /* NAN/inf on input */
    SB_CLEAN_ZERO = 2,      /* 0 read as missing */
    SB_CLEAN_NEGATIVE = 3,  /* negative reading */
    SB_CLEAN_FLAT = 4,      /* inside a stuck-meter run */
    SB_CLEAN_SPIKE = 5      /* isolated one-hour excursion */
};

struct sb_clean_opts {
    int    zero_is_missing;  /* 1 = a reading of exactly 0 means "no data" */
    int    allow_negative;   /* 1 = keep negative readings (export/bidirectional meters) */
    int    flat_min_run;     /* hours of equal readings that mark a stuck meter; 0 = 12, <0 = off */
    double flat_tol;         /* readings within this many kWh are "equal"; 0 = exactly equal */
    int    spike_halfwin;    /* half-window of the change scale, hours; 0 = 84, <0 = off */
    double spike_k;          /* threshold in robust sds of the hourly change; 0 = 6 */
    double spike_floor;      /* floor of that sd as a fraction of |median load|; 0 = 0.05 */
};

struct sb_clean_report {
    size_t n;          /* hours examined */
    size_t missing;    /* already missing on input */
    size_t zeros;      /* zero reads treated as missing */
    size_t negative;   /* negative reads excluded */
    size_t flat;       /* hours excluded inside flatline runs */
    size_t flat_runs;  /* number of flatline runs found */
    size_t spikes;     /* isolated spikes excluded */
    size_t kept;       /* hours left valid */
};

/*
 * Cleans y[n] in place: every excluded hour becomes NAN.  flags (may be
 * NULL) receives one enum sb_clean_flag per hour; *r (may be NULL) the
 * counts.  o may be NULL (defaults: zeros are data, negatives excluded,
 * flatline 12 h, spikes k = 6 over +-84 h).  Returns 0, SB_EINVAL on bad
 * options, SB_ENOMEM.
 */
int sb_clean_series(double *y, size_t n, const struct sb_clean_opts *o, uint8_t *flags,
                    struct sb_clean_report *r);

/* Writes a one-line human summary of r into buf[len] ("excluded 14 of
 * 17520 hours: ..."); returns snprintf's count. */
int sb_clean_describe(const struct sb_clean_report *r, char *buf, size_t len);

/* Short name of a flag ("spike"); static, never NULL. */
const char *sb_clean_flag_name(int flag);

struct sb_sufficiency {
    int    days_needed;    /* days the model asked for */
    double min_coverage;   /* share of a day's 24 hours that must be present */
    int    days_ok;        /* days that reach min_coverage */
    int    days_total;     /* days the series touches (partial days count) */
    int    ok;             /* 1 = days_ok >= days_needed */
};

/*
 * Counts the UTC days of y[n] (hour 0 starts at start_utc, seconds, any
 * hour) whose share of finite hours out of 24 is >= min_coverage (0 =
 * 0.9), and compares with days_needed.  When not ok, msg gets "needs 90
 * days with >= 90 % coverage, has 41".  Returns 0 whether or not the data
 * suffice (see s->ok); SB_EINVAL on bad arguments.
 */
int sb_data_sufficiency(const double *y, size_t n, int64_t start_utc, int days_needed,
                        double min_coverage, struct sb_sufficiency *s, char *msg, size_t msglen);

#endif /* SB_ANALYTICS_CLEAN_H */

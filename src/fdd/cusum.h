/*
 * cusum.h - two-sided tabular CUSUM and a learn-then-freeze baseline, the
 * statistics under the sensor, meter and chiller detectors (sensor.h,
 * plant.h).
 *
 * The CUSUM is Page's cumulative sum (Biometrika 41:100-115, 1954) in the
 * tabular form of Montgomery, "Introduction to Statistical Quality
 * Control" (6th ed., Wiley 2009), §9.1.2, run on standardised values
 * z = (x - mu0) / sigma:
 *
 *     S+_i = max(0, z_i - k + S+_{i-1})      S-_i = max(0, -z_i - k + S-_{i-1})
 *
 * and signals when S+ or S- exceeds h.  k is the reference value (half the
 * shift to detect, in sigma units) and h the decision interval; k = 0.5,
 * h = 5 gives an in-control average run length ARL0 of about 465 samples and
 * detects a 1-sigma shift in 10.4 samples on average (Montgomery, Table 9.3;
 * the Siegmund approximation, §9.1.3, gives 469 for the former).
 * The shift is estimated as the mean of z over the current run (the samples
 * since S+ or S- was last zero), which is Montgomery's estimate k + S+/N+ (§9.1.2)
 * while the sums are uncapped.  An optional cap holds S+ and S- at or below
 * a ceiling so that a detector whose fault was repaired clears in about
 * (cap - h) / k samples instead of after the whole excess has drained; it
 * does not change when the first signal comes.  An optional clip
 * winsorises z to +-clip before it enters the sums (Hawkins, "Robustification
 * of cumulative sum charts by winsorization", J. Quality Technology 25,
 * 1993), so one wild value cannot signal on its own; the run mean (the
 * shift estimate) is still taken over the unclipped z.
 *
 * struct sb_baseline is Welford's running mean and variance (Technometrics
 * 4:419-420, 1962): it learns from the values it is given until its owner
 * freezes it, and then standardises new values against what it learnt.
 *
 * Both are plain caller-owned structs: no allocation, no I/O, no globals.
 */
#ifndef SB_FDD_CUSUM_H
#define SB_FDD_CUSUM_H

#include <stdint.h>

struct sb_cusum {
    double k;        /* reference value, sigma units (>= 0) */
    double h;        /* decision interval, sigma units (> 0) */
    double cap;      /* S+ and S- are held at or below this (INFINITY: textbook) */
    double clip;     /* z enters the sums winsorised to +-clip (INFINITY: textbook) */
    double sp, sn;   /* S+ and S- after the last sample, >= 0 */
    double zp, zn;   /* sum of z over the current upper / lower run */
    uint32_t np, nn; /* N+ and N-: samples since S+ / S- was last 0 */
    uint32_t n;      /* samples since init or the last reset */
};

/* Initialises c with reference value k and decision interval h (cap and
 * clip INFINITY; set c->cap (>= h) and c->clip (> k) afterwards to bound
 * the sums and winsorise z).  SB_EINVAL
 * when k < 0, h <= 0 or either is not finite (c is then untouched). */
int sb_cusum_init(struct sb_cusum *c, double k, double h);

/* Zeroes S+, S-, the runs and the count; keeps k, h and cap.  This is the
 * restart after a signal has been acted on (Montgomery 9.1.2). */
void sb_cusum_reset(struct sb_cusum *c);

/* Adds one standardised value.  Returns +1 when S+ > h (upper signal), -1
 * when S- > h (lower), 0 otherwise; when both exceed h the larger sum wins.
 * A z that is not finite is ignored: nothing changes and the state of the
 * previous sample is returned. */
int sb_cusum_step(struct sb_cusum *c, double z);

/* The signal state of the last sample (as sb_cusum_step returned it). */
int sb_cusum_state(const struct sb_cusum *c);

/* Estimated shift in sigma units on one side: side > 0 the mean z
 * (unclipped) over the current upper run, side < 0 over the lower run.
 * NAN when that run is empty (the sum is 0). */
double sb_cusum_shift(const struct sb_cusum *c, int side);

struct sb_baseline {
    uint32_t n;      /* values learnt */
    uint32_t min_n;  /* values needed before it may freeze */
    int frozen;      /* 1: learning is over, z() answers */
    double mean;     /* running mean (Welford) */
    double m2;       /* running sum of squared deviations from the mean */
    double sd_min;   /* floor of the sd used by sb_baseline_z (>= 0) */
};

/* Starts learning; min_n >= 2 values are needed before it can freeze; the
 * standard deviation used for z is floored at sd_min.  SB_EINVAL on
 * min_n < 2 or sd_min < 0 / not finite. */
int sb_baseline_init(struct sb_baseline *b, uint32_t min_n, double sd_min);

/* Learns x.  0; SB_ENAN when x is not finite, SB_ECLOSED when frozen (both
 * leave b unchanged). */
int sb_baseline_add(struct sb_baseline *b, double x);

/* Ends learning: 0, or SB_EAGAIN while fewer than min_n values were seen (it
 * keeps learning).  Freezing twice is harmless. */
int sb_baseline_freeze(struct sb_baseline *b);

/* 1 when frozen (and therefore holding at least min_n values), else 0. */
int sb_baseline_ready(const struct sb_baseline *b);

/* The learnt mean, and the sample standard deviation (n - 1) before the
 * floor; NAN while fewer than 1 (mean) or 2 (sd) values were seen. */
double sb_baseline_mean(const struct sb_baseline *b);
double sb_baseline_sd(const struct sb_baseline *b);

/* The sd z uses: max(sd, sd_min).  NAN while fewer than 2 values. */
double sb_baseline_scale(const struct sb_baseline *b);

/* (x - mean) / max(sd, sd_min); NAN when not ready, x not finite, or the
 * scale is 0. */
double sb_baseline_z(const struct sb_baseline *b, double x);

#endif /* SB_FDD_CUSUM_H */

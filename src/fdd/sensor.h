/*
 * sensor.h - fault detection on single points: sensors (flatline, range,
 * spikes, gaps, drift against a reference) and energy meters (gaps, stopped
 * counter, counter going backwards, energy/power mismatch).
 *
 * Sensor checks (SB_SENSOR_BIT):
 *   FLATLINE  max - min of the latest readings <= flat_eps for longer than
 *             flat_window_s of time in which the point should vary
 *   RANGE     x < lo or x > hi (physical limits per kind) for range_delay_s
 *   SPIKE     more than spike_max readings in a rolling hour that leave the
 *             median of the last spike_n by more than spike_k robust sigmas
 *             (1.4826 MAD) and come back at the next reading
 *   GAP       no reading for longer than gap_s (judged by sb_sensor_tick)
 *   DRIFT     x - ref, averaged over drift_block_s blocks, against the level
 *             learnt over its first learn_s: two-sided CUSUM (k 0.5, h 5, z
 *             winsorised at 3, sd floored at drift_sd_min); reports the offset
 * Meter checks (SB_METER_BIT), energy counter in kWh with optional power:
 *   GAP, STOPPED (counter flat for stop_s while power shows use, or for
 *   stop_long_s without power), BACKWARDS (a decrease that is neither
 *   jitter nor a rollover at 10^N / 2^N), MISMATCH (counter energy and the
 *   integral of power differ by mismatch_frac over mismatch_s windows).
 *
 * Siblings of the AHU rules (apar.h), with the same character: pure and
 * incremental.  The caller owns one struct sb_sensor per point (about
 * 1.4 KB) or one struct sb_meterchk per meter (plain storage: no
 * allocation, no I/O, no clock, no globals, no pointers kept to caller
 * memory) and feeds it readings with their times; the result
 * says which checks were evaluated, fired, were raised or cleared.  A check
 * that fires stays active (latched) until it is evaluated false; periods in
 * which it cannot be evaluated neither raise nor clear it.  The passage of
 * time without readings is reported with *_tick().  Units are the point's
 * SI unit (°C, %RH, ppm, Pa, kW, m3/s, %), kWh for counters, seconds for
 * time.  NAN = missing (infinite values count as missing).
 *
 * Time: readings must come with strictly increasing t, and no reading or
 * tick may be earlier than the last tick (ticks may repeat a time, so that a
 * tick(t) followed by a reading at t is allowed).  Otherwise SB_EINVAL and
 * nothing changes; |t| > SB_SENSOR_T_MAX gives SB_ERANGE.
 *
 * docs/internals/fdd-sensors-plant.md gives each check's condition, default
 * threshold and the reason for it.  All strings returned are static.
 */
#ifndef SB_FDD_SENSOR_H
#define SB_FDD_SENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "fdd/cusum.h"
#include "fdd/param.h"

#define SB_SENSOR_T_MAX (INT64_C(1) << 52)   /* |time| limit, s */

/* Static text of one check (sensor or meter). */
struct sb_fdd_check_info {
    int id;               /* check id within its module */
    const char *name;     /* short name, e.g. "flatline" */
    const char *meaning;  /* what the condition says */
    const char *fault;    /* fault class text: what is likely broken */
    const char *action;   /* what to check first */
};

/* ---------------------------------------------------------------- sensors */

enum {
    SB_SENSOR_FLATLINE = 0,  /* reading stuck while it should move */
    SB_SENSOR_RANGE    = 1,  /* reading outside physical limits */
    SB_SENSOR_SPIKE    = 2,  /* too many one-sample spikes per hour */
    SB_SENSOR_GAP      = 3,  /* no reading for too long */
    SB_SENSOR_DRIFT    = 4,  /* x - ref moved away from its learnt baseline */
    SB_SENSOR_NCHECKS  = 5
};
#define SB_SENSOR_BIT(id) (1u << (id))

#define SB_SENSOR_WIN_MAX    32   /* readings kept for the spike median */
#define SB_SENSOR_SPIKES_MAX 64   /* spike times kept (per rolling hour) */

/* Per-point configuration.  sb_sensor_conf_default() fills kind-neutral
 * defaults, sb_sensor_conf_for_kind() the ones for a kind of point.  A
 * duration of 0 disables the check it times (flat_window_s, gap_s,
 * learn_s); spike_n 0 disables SPIKE.  Integer fields are int32_t (is_int in param.h). */
struct sb_sensor_conf {
    double lo, hi;         /* physical range, unit (NAN: no limit on that side) */
    int32_t allow_negative; /* 1: the lower limit is not checked (export, bidirectional) */
    int32_t range_delay_s; /* out of range this long before RANGE fires (0: at once) */
    double flat_eps;       /* largest max - min that still counts as flat, unit */
    int32_t flat_window_s; /* flat for longer than this (while expected to vary) fires */
    int32_t expect_change; /* 1: the point should vary; 0: never judged flat (a sample may override) */
    int32_t spike_n;       /* readings in the median/MAD window (0: off, 5..32) */
    double spike_k;        /* a spike departs by more than this many robust sigmas */
    double spike_sd_min;   /* floor of the robust sigma (quantisation), unit */
    int32_t spike_max;     /* more spikes than this in a rolling hour fires */
    int32_t gap_s;         /* no reading for longer than this fires GAP */
    int32_t learn_s;       /* DRIFT learns the x - ref baseline over this time */
    int32_t learn_min;     /* ... and from at least this many values (blocks, or pairs) */
    int32_t drift_block_s; /* DRIFT works on means of x - ref over blocks this long (0: each pair) */
    double drift_sd_min;   /* floor of the difference's sd, unit (> 0) */
    double drift_k;        /* CUSUM reference value, sigmas (0.5) */
    double drift_h;        /* CUSUM decision interval, sigmas (5) */
    double drift_clip;     /* z winsorised to +-this before the CUSUM, sigmas (3) */
};

/* One reading.  expect_change: -1 = use conf, 0 = not expected to vary now
 * (equipment off, setpoint held), 1 = expected to vary. */
struct sb_sensor_sample {
    int64_t t;             /* time, s */
    double x;              /* reading, unit (NAN: none) */
    double ref;            /* reference for DRIFT, unit (NAN: none) */
    int expect_change;     /* -1, 0, 1 */
};

/* State of one check; read it through sb_sensor_finding(). */
struct sb_fdd_chk {
    uint8_t active;        /* 1 from firing until evaluated false */
    uint8_t cond;          /* condition true at the last evaluation */
    int64_t since;         /* condition continuously true since */
    int64_t fired_at;      /* time it last fired */
};

/* The detector for one point.  Caller-owned; every field is private to
 * sensor.c (read results through the functions below). */
struct sb_sensor {
    struct sb_sensor_conf conf; /* copy of the configuration */
    int64_t t_first;       /* first call's time (GAP reference before any reading) */
    int64_t t_last;        /* last reading's time */
    int64_t t_tick;        /* latest tick (or reading) time */
    int have_first, have_last; /* t_first / t_last (and x_last) valid */
    double x_last;         /* last reading */
    /* FLATLINE: the current flat run */
    int64_t flat_t0;       /* run start */
    double flat_min, flat_max; /* range of the run */
    int64_t flat_s;        /* seconds of the run while expected to vary */
    /* SPIKE */
    double win[SB_SENSOR_WIN_MAX]; /* ring of accepted readings */
    int win_head, win_n;   /* next write index, readings held */
    int pend;              /* a candidate spike waits for the next reading */
    uint32_t outs;         /* bit i: the reading i steps back left the band (a spike leaves a calm signal) */
    double pend_x, pend_med, pend_sig; /* candidate, median and sigma it departed from */
    int64_t pend_t;        /* candidate time */
    int64_t spikes[SB_SENSOR_SPIKES_MAX]; /* ring of confirmed spike times */
    int sp_head, sp_n;     /* next write index, times held */
    double last_spike_x, last_spike_med, last_spike_sig; /* evidence of the latest spike */
    /* DRIFT */
    int64_t learn_t0;      /* first pair's time */
    int have_learn;        /* learn_t0 valid */
    int64_t blk_t0;        /* start of the current block */
    double blk_sum;        /* sum of x - ref in the block */
    int blk_n;             /* pairs in the block */
    struct sb_baseline base; /* x - ref while learning, then frozen */
    struct sb_cusum cusum; /* on the standardised x - ref */
    double last_ref;       /* last reference */
    /* evidence at the last true evaluation */
    double ev_limit;       /* RANGE: limit crossed */
    int ev_spikes;         /* SPIKE: spikes in the hour */
    int64_t ev_gap_s;      /* GAP: seconds without a reading */
    double ev_offset;      /* DRIFT: estimated offset, unit */
    double ev_cusum;       /* DRIFT: S+ or S- */
    uint32_t ev_run_n;     /* DRIFT: run length */
    struct sb_fdd_chk chk[SB_SENSOR_NCHECKS]; /* per check */
};

/* Result of one call (bits SB_SENSOR_BIT(id)). */
struct sb_sensor_result {
    uint32_t evaluated;    /* checks evaluated on this call */
    uint32_t fired;        /* condition true and persistence elapsed on this call */
    uint32_t raised;       /* went active on this call */
    uint32_t cleared;      /* was active and evaluated false on this call */
    uint32_t active;       /* active after this call */
};

/* A check that is active, with the values it saw. */
struct sb_sensor_finding {
    int check;             /* SB_SENSOR_* */
    const struct sb_fdd_check_info *info; /* static text, never NULL */
    int64_t since;         /* condition true since, s */
    int64_t fired_at;      /* when it fired, s */
    double value;          /* last reading (NAN before any) */
    /* FLATLINE */
    double flat_min, flat_max; /* range of the flat run, unit */
    int64_t flat_s;        /* seconds flat while expected to vary */
    /* RANGE */
    double limit;          /* the limit crossed (lo or hi), unit */
    /* SPIKE */
    int spikes;            /* spikes in the last hour */
    double spike_x, spike_median, spike_sigma; /* latest spike, the median and robust sigma it left */
    /* GAP */
    int64_t last_t;        /* last reading (or first call) time, s */
    int64_t gap_s;         /* time without a reading at the last evaluation, s */
    /* DRIFT */
    double offset;         /* estimated offset of x - ref from its baseline, unit */
    double base_mean, base_sd; /* learnt baseline of x - ref (sd before the floor) */
    double cusum;          /* S+ or S- (the side that signals), sigmas */
    uint32_t run_n;        /* values (blocks or pairs) in the CUSUM run the offset is averaged over */
    double ref;            /* last reference */
};

/* Kind-neutral defaults (no range limits; see the doc for each value). */
void sb_sensor_conf_default(struct sb_sensor_conf *c);

/* Defaults for a kind: "temperature" (°C), "humidity" (%RH), "co2" (ppm),
 * "pressure" (Pa), "power" (kW), "flow" (m3/s), "position" (%).  0, or
 * SB_ENOENT for an unknown kind (c then holds the neutral defaults). */
int sb_sensor_conf_for_kind(struct sb_sensor_conf *c, const char *kind);

/* 0 if c is usable, else SB_EINVAL naming the field in err[errlen]. */
int sb_sensor_conf_check(const struct sb_sensor_conf *c, char *err, size_t errlen);

/* Sets one configurable number by name (per-unit overrides from JSON):
 * SB_ENOENT for an unknown name, SB_ERANGE outside the field's lo..hi (or
 * not an integer for an integer field); the message names the field.  NAN
 * is accepted only by lo and hi ("no limit"). */
int sb_sensor_conf_set(struct sb_sensor_conf *c, const char *name, double value, char *err, size_t errlen);

/* The static table of configurable numbers; *n receives its length. */
const struct sb_fdd_param *sb_sensor_conf_params(size_t *n);

/* Initialises s from a copy of conf; SB_EINVAL on a bad conf.  Holds no
 * resources (no release function). */
int sb_sensor_init(struct sb_sensor *s, const struct sb_sensor_conf *conf);

/* Forgets all history, learnt baseline and active checks; keeps the conf. */
void sb_sensor_reset(struct sb_sensor *s);

/* Feeds one reading (sample->x NAN = no reading: only the time counts).
 * res may be NULL. */
int sb_sensor_step_ex(struct sb_sensor *s, const struct sb_sensor_sample *sample, struct sb_sensor_result *res);

/* Shorthands: a reading without / with a DRIFT reference, expect_change
 * from the conf. */
int sb_sensor_step(struct sb_sensor *s, int64_t t, double x, struct sb_sensor_result *res);
int sb_sensor_step_ref(struct sb_sensor *s, int64_t t, double x, double ref, struct sb_sensor_result *res);

/* Reports that time now has passed without a reading: evaluates GAP. */
int sb_sensor_tick(struct sb_sensor *s, int64_t now, struct sb_sensor_result *res);

/* 1 once the DRIFT baseline is learnt. */
int sb_sensor_drift_ready(const struct sb_sensor *s);

/* Fills *f for an active check: 0, SB_ENOENT when not active, SB_EINVAL
 * for a bad id. */
int sb_sensor_finding(const struct sb_sensor *s, int check, struct sb_sensor_finding *f);

/* One line of text for a finding into buf[len] (snprintf semantics). */
int sb_sensor_finding_format(const struct sb_sensor_finding *f, char *buf, size_t len);

/* Static text of a check, or NULL for a bad id. */
const struct sb_fdd_check_info *sb_sensor_check_info(int check);

/* ----------------------------------------------------------------- meters */

enum {
    SB_METER_GAP       = 0,  /* no counter reading for too long */
    SB_METER_STOPPED   = 1,  /* counter not advancing while energy is used */
    SB_METER_BACKWARDS = 2,  /* counter decreased, and it is not a rollover */
    SB_METER_MISMATCH  = 3,  /* counter increment disagrees with the integral of power */
    SB_METER_NCHECKS   = 4
};
#define SB_METER_BIT(id) (1u << (id))

/* Per-meter configuration (sb_meterchk_conf_default()).  Integer fields
 * are C int; a duration of 0 disables the check it times. */
struct sb_meterchk_conf {
    int32_t gap_s;         /* no counter reading for longer than this fires GAP */
    int32_t stop_s;        /* counter unchanged this long while power shows use fires STOPPED */
    double power_on;       /* power above this shows use, kW */
    double res_kwh;        /* counter resolution: STOPPED also needs 2 x this expected from power */
    int32_t stop_long_s;   /* without a power reading: unchanged longer than this fires STOPPED */
    double back_tol_kwh;   /* decreases up to this are jitter, not BACKWARDS */
    double wrap_kwh;       /* the register's rollover value, kWh (NAN: look for 10^N or 2^N) */
    double wrap_frac;      /* "near the wrap": last >= (1 - f) W and new <= f W */
    int32_t mismatch_s;    /* window over which energy and power are compared */
    double mismatch_frac;  /* relative difference that counts as a mismatch */
    double mismatch_min_kwh; /* windows with less energy than this are not judged */
    int32_t mismatch_n;    /* consecutive mismatching windows before it fires */
};

/* The detector for one meter.  Caller-owned; fields private to sensor.c. */
struct sb_meterchk {
    struct sb_meterchk_conf conf; /* copy of the configuration */
    int64_t t_first, t_last, t_tick; /* first call, last reading, latest tick */
    int have_first, have_last; /* validity of the above */
    double kwh_last;       /* last counter reading */
    double kw_last;        /* power at the last reading (NAN: none) */
    int64_t changed_at;    /* counter last rose (or first reading) */
    double e_pow_since;    /* integral of power since changed_at, kWh */
    int64_t use_since;     /* power continuously > power_on since */
    int use_on;            /* use_since valid */
    /* MISMATCH window */
    int64_t win_t0;        /* window start */
    int64_t win_s;         /* seconds covered by usable intervals */
    double win_cnt, win_pow; /* energy by counter and by power over the window, kWh */
    int win_open;          /* a window is being filled */
    int win_bad;           /* a backwards step spoiled it */
    int mis_run;           /* consecutive mismatching windows */
    double ev_cnt, ev_pow; /* last judged window's two energies */
    double ev_prev, ev_new; /* BACKWARDS: the two readings */
    struct sb_fdd_chk chk[SB_METER_NCHECKS]; /* per check */
};

struct sb_meterchk_result {
    uint32_t evaluated, fired, raised, cleared, active; /* SB_METER_BIT(id), as for sensors */
    double increment_kwh;  /* energy of this reading's interval (rollover handled; NAN if none) */
    int wrapped;           /* 1: the interval crossed a rollover */
};

struct sb_meterchk_finding {
    int check;             /* SB_METER_* */
    const struct sb_fdd_check_info *info; /* static text, never NULL */
    int64_t since, fired_at; /* s */
    double kwh, kw;        /* last counter and power readings */
    int64_t last_t;        /* GAP: last reading (or first call) time */
    int64_t unchanged_s;   /* STOPPED: seconds the counter has not risen */
    double expected_kwh;   /* STOPPED: energy the power implies meanwhile (NAN without power) */
    double prev_kwh, new_kwh; /* BACKWARDS: the reading before and the one that went down */
    double cnt_kwh, pow_kwh; /* MISMATCH: last window by counter and by integrated power */
    int windows;           /* MISMATCH: consecutive mismatching windows */
};

void sb_meterchk_conf_default(struct sb_meterchk_conf *c);
int sb_meterchk_conf_check(const struct sb_meterchk_conf *c, char *err, size_t errlen);
int sb_meterchk_conf_set(struct sb_meterchk_conf *c, const char *name, double value, char *err, size_t errlen);
const struct sb_fdd_param *sb_meterchk_conf_params(size_t *n);

/* As for sensors: init from a copy of conf (SB_EINVAL on a bad one), reset
 * forgets history.  No resources are held. */
int sb_meterchk_init(struct sb_meterchk *m, const struct sb_meterchk_conf *conf);
void sb_meterchk_reset(struct sb_meterchk *m);

/* One reading: counter kwh (NAN: none) and power kw (NAN: no power point
 * or no reading).  res may be NULL. */
int sb_meterchk_step(struct sb_meterchk *m, int64_t t, double kwh, double kw, struct sb_meterchk_result *res);

/* Time passes without a reading: evaluates GAP. */
int sb_meterchk_tick(struct sb_meterchk *m, int64_t now, struct sb_meterchk_result *res);

/* The rollover value a drop from last to now is explained by (c->wrap_kwh
 * when set, else the smallest 10^N or 2^N, also scaled by 10^-1..10^-3 for
 * Wh registers read in kWh, that both values are near), or NAN. */
double sb_meterchk_wrap_of(const struct sb_meterchk_conf *c, double last, double now);

int sb_meterchk_finding(const struct sb_meterchk *m, int check, struct sb_meterchk_finding *f);
int sb_meterchk_finding_format(const struct sb_meterchk_finding *f, char *buf, size_t len);
const struct sb_fdd_check_info *sb_meterchk_check_info(int check);

/* ------------------------------------------------------------------------
 * Internal to src/fdd (shared by sensor.c and plant.c), not for callers. */

/* Accumulates one evaluation of a check into acc = {evaluated, fired,
 * raised, cleared}: cond false clears an active check; cond true since
 * `since` (INT64_MIN: from this evaluation, or the start of the current
 * true streak) fires once t - since >= delay. */
void sb_fdd__judge(struct sb_fdd_chk *c, int id, int cond, int64_t t, int64_t since, int64_t delay,
                   uint32_t acc[4]);

/* conf_set over a param table: NAN is stored when bit i of nan_ok allows
 * it for the entry named, anything else goes through sb_fdd_param_set(). */
int sb_fdd__param_set(void *conf, const struct sb_fdd_param *tab, size_t n, uint32_t nan_ok, const char *name,
                      double value, char *err, size_t errlen);

/* conf_check over a param table: every field within lo..hi (whole for
 * int32_t fields; NAN only where nan_ok allows); SB_EINVAL naming the
 * field as "what: name = v, allowed lo..hi". */
int sb_fdd__param_check(const void *conf, const struct sb_fdd_param *tab, size_t n, uint32_t nan_ok,
                        const char *what, char *err, size_t errlen);


#endif /* SB_FDD_SENSOR_H */

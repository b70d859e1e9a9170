/*
 * plant.h - chiller fault detection: COP degradation against a learnt
 * expected-COP curve, and short cycling.  (Boilers: not yet.)
 *
 * A sibling of the AHU rules (apar.h) and the point checks (sensor.h), with
 * the same character: the caller owns one struct sb_chiller per machine
 * (about 34 KB of plain storage: no allocation, no I/O, no clock, no
 * globals, no pointers kept to caller memory) and feeds it struct
 * sb_chiller_sample readings with strictly increasing t (SB_EINVAL
 * otherwise, state unchanged; SB_ERANGE beyond SB_CHILLER_T_MAX).  Units: kW (cooling delivered and electric), °C,
 * seconds.  NAN = missing.
 *
 * DEGRADED.  For the first learn_s of running time (and at least learn_min
 * usable samples) the detector learns COP = load_kw / kw as a least-squares
 * curve  COP ~ b0 + b1 plr + b2 plr^2 + b3 oat (+ b4 chw)  with
 * plr = load_kw / cap_kw (cap_kw configured, or learnt as the 99th
 * percentile of the load), solving the normal equations (at most 5 x 5,
 * standardised columns) with a hand-written Cholesky factorisation, so
 * the module needs no library.  Then, for each running sample with
 * plr >= plr_min, r = 1 - COP / expected goes through a CUSUM on its
 * standardised value (training mean and sd of r, sd floored at sd_min; z
 * winsorised at cusum_clip).  DEGRADED is raised when the upper CUSUM
 * signals and the mean loss over its run is at least loss_min, stays
 * active while the CUSUM signals, and on clearing restarts the CUSUM.
 * The finding reports the loss fraction and the extra electric power at
 * the current load.  Samples that are not running, have plr < plr_min, a
 * COP outside cop_lo..cop_hi or a NAN input the curve needs are not
 * judged (DEGRADED keeps its state).
 *
 * SHORT_CYCLING.  More than starts_max starts (0 -> 1 of `running`) in the
 * last start_window_s, or more than short_runs_max runs shorter than
 * min_run_s ending in the last short_window_s.
 *
 * Checks latch as in apar.h: active from firing until evaluated false.
 * docs/internals/fdd-sensors-plant.md gives the reasons for each default.
 * All strings returned are static.  The simulator's chiller model lives in
 * src/sim/plant/ (sb_plant_*, sb_chiller_power...); nothing here uses it.
 */
#ifndef SB_FDD_PLANT_H
#define SB_FDD_PLANT_H

#include <stddef.h>
#include <stdint.h>

#include "fdd/cusum.h"
#include "fdd/param.h"
#include "fdd/sensor.h"

#define SB_CHILLER_T_MAX (INT64_C(1) << 52)   /* |time| limit, s */

enum {
    SB_CHILLER_DEGRADED      = 0,  /* COP below the learnt curve */
    SB_CHILLER_SHORT_CYCLING = 1,  /* too many starts / short runs */
    SB_CHILLER_NCHECKS       = 2
};
#define SB_CHILLER_BIT(id) (1u << (id))

#define SB_CHILLER_TRAIN_MAX  1024  /* training rows kept (evenly thinned beyond) */
#define SB_CHILLER_EVENTS_MAX 32    /* start / short-run times kept */
#define SB_CHILLER_NCOEF      5     /* b0..b4 */

/* One reading.  Initialise with sb_chiller_sample_init() (all NAN). */
struct sb_chiller_sample {
    int64_t t;        /* time, s */
    double running;   /* 1 running, 0 off (NAN: unknown) */
    double load_kw;   /* cooling delivered, kW */
    double kw;        /* electric power, kW */
    double oat;       /* outdoor air temperature, °C */
    double chw;       /* chilled water supply temperature, °C */
};

/* Per-machine configuration (sb_chiller_conf_default()).  Integer fields
 * are int32_t (is_int in param.h). */
struct sb_chiller_conf {
    double cap_kw;        /* capacity for plr, kW (NAN: learnt, 99th percentile of load) */
    int32_t learn_s;      /* running time the curve is learnt over, s */
    int32_t learn_min;    /* usable samples needed to learn */
    double plr_min;       /* part-load ratio below which COP is not judged */
    double cop_lo, cop_hi;/* COP outside this is a bad sample, not a fault */
    double sd_min;        /* floor of the sd of 1 - COP/expected */
    double cusum_k;       /* CUSUM reference value, sigmas */
    double cusum_h;       /* CUSUM decision interval, sigmas */
    double cusum_clip;    /* z winsorised to +-this before the CUSUM, sigmas */
    double loss_min;      /* mean COP loss over the run needed to fire, fraction */
    int32_t max_gap_s;    /* longer gaps do not count as running time */
    int32_t starts_max;   /* more starts than this in start_window_s fires */
    int32_t start_window_s; /* rolling window for starts, s */
    int32_t min_run_s;    /* a run shorter than this is short */
    int32_t short_runs_max; /* more short runs than this in short_window_s fires */
    int32_t short_window_s; /* rolling window for short runs, s */
};

/* The learnt expected-COP curve (sb_chiller_get_model()). */
struct sb_chiller_model {
    int learnt;           /* 1 once learning has finished */
    double cap_kw;        /* capacity used for plr, kW */
    double b[SB_CHILLER_NCOEF]; /* b0 + b1 plr + b2 plr^2 + b3 oat + b4 chw (unused terms 0) */
    int use_plr, use_oat, use_chw; /* which terms were fitted */
    uint32_t n;           /* training rows in the fit */
    double r_mean, r_sd;  /* mean and sd (before the floor) of 1 - COP/expected in training */
    double cop_rmse;      /* root mean square COP residual in training */
};

struct sb_chiller_row {   /* one training sample */
    double load, oat, chw, cop;
};

/* The detector for one chiller.  Caller-owned; fields private to plant.c. */
struct sb_chiller {
    struct sb_chiller_conf conf;     /* copy of the configuration */
    int64_t t_last;                  /* previous sample time */
    int have_last;                   /* t_last valid */
    int run_known, running;          /* last known running state */
    int64_t run_start;               /* start of the current run */
    int have_run_start;              /* run_start valid (a start was seen) */
    int64_t last_run_s;              /* length of the last completed run */
    int64_t starts[SB_CHILLER_EVENTS_MAX]; /* ring of start times */
    int st_head, st_n;               /* next write, held */
    int64_t shorts[SB_CHILLER_EVENTS_MAX]; /* ring of short-run end times */
    int sh_head, sh_n;               /* next write, held */
    /* learning */
    struct sb_chiller_row train[SB_CHILLER_TRAIN_MAX]; /* thinned training rows */
    int n_train;                     /* rows held */
    uint32_t stride;                 /* keep every stride-th usable sample */
    uint32_t seen;                   /* usable samples seen while learning */
    int64_t run_time;                /* running seconds seen while learning */
    int64_t next_try;                /* earliest time of the next fit attempt */
    int have_try;                    /* next_try valid */
    struct sb_chiller_model model;   /* the curve */
    struct sb_baseline base;         /* 1 - COP/expected in training (frozen) */
    struct sb_cusum cusum;           /* on its standardised value */
    /* evidence at the last true evaluation */
    double ev_loss, ev_cop, ev_exp, ev_load, ev_extra, ev_plr, ev_cusum; /* DEGRADED */
    uint32_t ev_run_n;               /* DEGRADED: CUSUM run length */
    int ev_starts, ev_shorts;        /* SHORT_CYCLING: counts in their windows */
    struct sb_fdd_chk chk[SB_CHILLER_NCHECKS]; /* per check */
};

struct sb_chiller_result {
    uint32_t evaluated, fired, raised, cleared, active; /* SB_CHILLER_BIT(id), as in sensor.h */
    double ratio;         /* COP / expected on this sample (NAN: not judged) */
    int learnt_now;       /* 1: learning finished on this sample */
};

struct sb_chiller_finding {
    int check;            /* SB_CHILLER_* */
    const struct sb_fdd_check_info *info; /* static text, never NULL */
    int64_t since, fired_at; /* s */
    /* DEGRADED */
    double loss;          /* estimated COP loss fraction (mean over the CUSUM run) */
    double cop, cop_expected; /* last judged sample */
    double load_kw, plr;  /* its load */
    double extra_kw;      /* load/(expected (1 - loss)) - load/expected at that load */
    double cusum;         /* S+ in sigmas */
    uint32_t run_n;       /* samples in the CUSUM run */
    /* SHORT_CYCLING */
    int starts;           /* starts in start_window_s */
    int short_runs;       /* short runs in short_window_s */
    int64_t last_run_s;   /* length of the last completed run */
};

void sb_chiller_sample_init(struct sb_chiller_sample *s);
void sb_chiller_conf_default(struct sb_chiller_conf *c);

/* 0 if c is usable, else SB_EINVAL naming the field in err[errlen]. */
int sb_chiller_conf_check(const struct sb_chiller_conf *c, char *err, size_t errlen);

/* Per-unit override by name: SB_ENOENT unknown, SB_ERANGE out of range (the
 * message names the field); NAN is accepted by cap_kw only ("learn it"). */
int sb_chiller_conf_set(struct sb_chiller_conf *c, const char *name, double value, char *err, size_t errlen);

/* The static table of configurable numbers; *n receives its length. */
const struct sb_fdd_param *sb_chiller_conf_params(size_t *n);

/* Initialises ch from a copy of conf (SB_EINVAL on a bad conf); holds no
 * resources.  Reset forgets history, the learnt curve and active checks. */
int sb_chiller_init(struct sb_chiller *ch, const struct sb_chiller_conf *conf);
void sb_chiller_reset(struct sb_chiller *ch);

/* Feeds one sample; res may be NULL. */
int sb_chiller_step(struct sb_chiller *ch, const struct sb_chiller_sample *s, struct sb_chiller_result *res);

/* Copies the curve into *m: 0 when learnt, SB_EAGAIN while learning. */
int sb_chiller_get_model(const struct sb_chiller *ch, struct sb_chiller_model *m);

/* The curve's COP at (plr, oat, chw); NAN while learning or when a fitted
 * term's input is NAN. */
double sb_chiller_expected_cop(const struct sb_chiller *ch, double plr, double oat, double chw);

/* Fills *f for an active check: 0, SB_ENOENT when not active, SB_EINVAL
 * for a bad id. */
int sb_chiller_finding(const struct sb_chiller *ch, int check, struct sb_chiller_finding *f);
int sb_chiller_finding_format(const struct sb_chiller_finding *f, char *buf, size_t len);
const struct sb_fdd_check_info *sb_chiller_check_info(int check);

#endif /* SB_FDD_PLANT_H */

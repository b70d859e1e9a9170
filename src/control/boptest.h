/*
 * boptest.h - run sbems's supervisory zone control against a BOPTEST plant.
 *
 * BOPTEST (IBPSA Project 1, https://ibpsa.github.io/project1-boptest/) serves
 * building emulators behind a REST API: POST /testcases/{name}/select gives
 * a test id; GET /inputs, /measurements, /forecast_points describe the
 * signals; PUT /step sets the control step; PUT /scenario (or PUT
 * /initialize) starts the test period; each POST /advance sends the
 * overrides ("<signal>_u" with "<signal>_activate" = 1) and returns the
 * measurements; PUT /forecast gives the boundary conditions ahead (weather,
 * prices, the comfort bounds LowerSetp[zone] / UpperSetp[zone]); GET /kpi
 * scores the test with BOPTEST's own KPIs; PUT /stop frees the worker.
 * Responses are {"message","payload","status"} (the API of BOPTEST 0.4 and
 * later; docs/internals/control-boptest.md).
 *
 * Three layers:
 *   sb_bop_map_*   pure: find the zones in the signal lists (each comfort
 *                  bound pair, its temperature measurement, its heating and
 *                  cooling setpoint inputs) or take them from a map document;
 *   sb_bop_decide  pure: the setpoints of one zone for the next step from the
 *                  comfort bounds ahead (sbems's optimal start: begin the
 *                  recovery as late as the learnt rate allows), ramped;
 *   sb_bop_run     the client (libcurl, blocking): select, set up, step the
 *                  test for the requested days, read the KPIs, stop.
 *
 * Temperatures are in kelvin here, as BOPTEST gives them; rates in K/h.
 * Ownership: a struct sb_bop_map is a plain value; sb_bop_run owns its
 * handle and frees everything before returning; the KPI object it returns
 * is a new reference the caller decrefs.  Threads: any, one run per thread.
 */
#ifndef SB_CONTROL_BOPTEST_H
#define SB_CONTROL_BOPTEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#define SB_BOP_ZONES    32
#define SB_BOP_NAME_MAX 128
#define SB_BOP_HORIZON  96          /* forecast steps read each step (24 h at 15 min) */

struct sb_bop_zone {
    char name[SB_BOP_NAME_MAX];     /* the X of LowerSetp[X] */
    char lower[SB_BOP_NAME_MAX];    /* forecast point of the lower comfort bound */
    char upper[SB_BOP_NAME_MAX];    /* forecast point of the upper comfort bound */
    char temp[SB_BOP_NAME_MAX];     /* measurement of the zone temperature (K) */
    char heat[SB_BOP_NAME_MAX];     /* input of the heating setpoint ("..._u"), "" none */
    char cool[SB_BOP_NAME_MAX];     /* input of the cooling setpoint, "" none */
    double heat_min, heat_max;      /* the inputs' bounds (K), NaN unknown */
    double cool_min, cool_max;
};

struct sb_bop_map {
    size_t n;
    struct sb_bop_zone z[SB_BOP_ZONES];
    char price[SB_BOP_NAME_MAX];    /* electricity price forecast point, "" none */
};

/* Find the zones from the payloads of /inputs, /measurements and
 * /forecast_points (objects keyed by signal name).  Every zone needs its
 * two bounds, a temperature and at least one setpoint input; the zones that
 * lack one are left out and named in why (also on success: report it).
 * 0, SB_ENOENT (no usable zone: why). */
int sb_bop_map_find(const json_t *inputs, const json_t *meas, const json_t *fcpts,
                    struct sb_bop_map *m, char *why, size_t cap);

/* A map document instead of the guess:
 * {"zones":[{"name","temp","heat","cool"}], "price": "..."} - every signal
 * must exist in the lists (why names the first that does not).  0, SB_EINVAL. */
int sb_bop_map_load(const json_t *doc, const json_t *inputs, const json_t *meas,
                    const json_t *fcpts, struct sb_bop_map *m, char *why, size_t cap);

/* What a zone's controller remembers between steps. */
struct sb_bop_zstate {
    double heat_sp, cool_sp;        /* last commanded (K), NaN before the first */
    double rate_heat, rate_cool;    /* learnt recovery rates, K/h (> 0) */
    double last_temp;               /* zone temperature at the previous step */
    int recovering;                 /* +1 heating up, -1 cooling down, 0 no */
    unsigned episodes;              /* recovery steps learnt from */
};

struct sb_bop_policy {
    double margin_k;                /* stay this far inside the bounds (0.3 K) */
    double deadband_k;              /* least cooling - heating setpoint gap (1 K) */
    double ramp_k_per_h;            /* largest setpoint change per hour (4 K/h) */
    double max_lead_h;              /* earliest start before a bound rises (3 h) */
    double default_rate;            /* recovery rate before any is learnt (2 K/h) */
};
void sb_bop_policy_default(struct sb_bop_policy *p);
void sb_bop_zstate_init(struct sb_bop_zstate *s, const struct sb_bop_policy *p);

/* Setpoints for the next step of step_s seconds.  lo/hi: the comfort bounds
 * (K) at the start of each of the next n steps (n >= 1; lo[0] is now), temp
 * the zone's temperature now.  Learns the recovery rate from the previous
 * step, then: heating setpoint = the highest lower bound within the lead
 * time the zone needs to get there (optimal start) + margin; cooling likewise
 * with the upper bounds; both ramped from the last command and kept
 * deadband apart. */
void sb_bop_decide(const struct sb_bop_policy *p, struct sb_bop_zstate *s, const double *lo,
                   const double *hi, size_t n, double temp, double step_s, double *heat_sp,
                   double *cool_sp);

struct sb_bop_opts {
    const char *url;                /* "http://127.0.0.1:8000" */
    const char *testcase;           /* "bestest_air" */
    const char *scenario;           /* time_period, NULL: initialize at start_time */
    const char *price;              /* electricity_price scenario, NULL: the test case's */
    double start_time;              /* s since Jan 1 (without a scenario) */
    double warmup_s;                /* warm-up before start_time */
    double days;                    /* how long to run; <= 0: the scenario's whole period */
    double step_s;                  /* control step (900) */
    const json_t *map;              /* a map document, NULL to find the zones */
    long timeout_ms;                /* per request */
    int baseline;                   /* 1: override nothing (the test case's own control) */
    FILE *log;                      /* progress lines, NULL quiet */
};

/* Run one test; *kpi receives BOPTEST's KPI payload (plus "steps",
 * "compute_s_per_step", "zones").  0, or SB_EIO / SB_EPROTO / SB_ENOENT /
 * SB_ETIMEDOUT with why. */
int sb_bop_run(const struct sb_bop_opts *o, json_t **kpi, char *why, size_t cap);

#endif /* SB_CONTROL_BOPTEST_H */

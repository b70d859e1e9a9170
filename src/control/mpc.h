/*
 * mpc.h - the model-predictive optimizer: plans each zone's HVAC heat over a
 * horizon (pre-cooling, load shifting, demand limiting) as one linear
 * program solved by COIN-OR CLP, and evaluates the schedule's fixed
 * setpoints on the same model so a recommendation can state plan against
 * baseline in kWh, cost, peak kW and discomfort.
 */
/* API stable */
/*
 * The model is the zones' grey-box RC networks (analytics/rc.h) in their
 * exact discrete form x[k+1] = A x[k] + B u[k], x = [T_air, T_mass], with
 * the HVAC input Q = Qh - Qc (kW).  Step k covers [t_k, t_k + dt); every
 * per-step input is the mean over the step; every per-step output that is a
 * temperature is the state at t_{k+1} (the end of the step), as in rc.h.
 *
 *   minimise  sum_k price_k dt_h P_k                          energy
 *           + sum_k fuel_price dt_h sum_z Qh[z,k] / eff       (fuel heating)
 *           + sum_w dprice_w (P_w - prior_w)                  demand charges
 *           + comfort_penalty dt_h sum s[z,k]                 soft comfort
 *           + cap_penalty dt_h sum c_k                        soft peak cap
 *   P_k  = base_k + sum_z Qc[z,k] / cop_c_k (+ Qh[z,k] / cop_h_k if electric)
 *   P_w >= prior_w,  P_w >= (demand-interval mean of P) in window w
 *   P_k - c_k <= cap_kw
 *   lo[z,k] - s[z,k] <= T_air[z,k] <= hi[z,k] + s[z,k]
 *
 * docs/internals/control-mpc.md has the formulation, its sizes and the
 * references (Oldewurtel et al. 2012; Drgona et al. 2020).
 *
 * Pure: no I/O, logging or globals; the one clock read is the diagnostic
 * solve_s (it never changes a result).  Threads: any; each call builds and
 * frees its own CLP model, so calls on different threads are independent.
 * Ownership: a problem and its arrays are the caller's, only read during
 * the call.  sb_mpc_solve and sb_mpc_baseline return ONE malloc'd block
 * (the struct and every array it points to) that the caller frees with
 * sb_mpc_result_free; nothing else is allocated past the call.
 */
#ifndef SB_CONTROL_MPC_H
#define SB_CONTROL_MPC_H

#include <stddef.h>
#include <stdint.h>

#include "analytics/rc.h"

#define SB_MPC_MAX_ZONES   64
#define SB_MPC_MAX_STEPS   384      /* 96 h at 15 min */
#define SB_MPC_MAX_WINDOWS 8        /* demand windows (bits of demand_mask) */

/* Outcome of a solve (struct sb_mpc_result.status). */
enum sb_mpc_status {
    SB_MPC_OPTIMAL = 0,     /* optimal, every band and the cap met */
    SB_MPC_SLACK = 1,       /* optimal, but comfort or cap slack was needed:
                               the bands (or the cap) cannot all be met */
    SB_MPC_SOLVER = 2,      /* CLP failed: see clp_status / clp_secondary */
    SB_MPC_BASELINE = 3     /* a baseline evaluation, not an optimization */
};

/* One zone of the problem; every array has n elements (the problem's n). */
struct sb_mpc_zone {
    struct sb_rc_disc disc;         /* the zone's model at the problem's dt (sb_rc_discretize) */
    double x0[SB_RC_NX];            /* state at t_0: air, mass, degC */
    struct sb_rc_inputs in;         /* exogenous inputs per step (q_kw ignored;
                                       t_out, solar required; occ, gains_kw may be NULL) */
    const double *lo;               /* comfort band low edge for T_air at t_{k+1}, degC */
    const double *hi;               /* comfort band high edge, degC (lo > hi is allowed:
                                       the LP stays feasible and reports the slack) */
    double q_cool_max_kw;           /* cooling capacity, thermal kW (>= 0) */
    double q_heat_max_kw;           /* heating capacity, thermal kW (>= 0) */
    const double *base_heat_sp;     /* baseline schedule's heating setpoint, degC;
                                       NULL = lo; NAN = heating off that step */
    const double *base_cool_sp;     /* baseline cooling setpoint; NULL = hi; NAN = off */
};

/* A demand charge over the horizon's steps whose demand_mask has its bit. */
struct sb_mpc_window {
    double price_per_kw;            /* charge per kW of the window's peak (>= 0) */
    double prior_peak_kw;           /* peak already set this billing period: only the
                                       increase above it costs (>= 0) */
};

/* The whole problem: building, tariff, zones. */
struct sb_mpc_problem {
    double dt_s;                    /* step, s (must equal every zone's disc.dt_s) */
    size_t n;                       /* steps, 1..SB_MPC_MAX_STEPS */
    size_t nzones;                  /* 1..SB_MPC_MAX_ZONES */
    const struct sb_mpc_zone *zones;
    const double *price;            /* energy price per kWh, per step (required) */
    const double *base_kw;          /* non-HVAC electric load forecast, kW; NULL = 0 */
    double cop_cool;                /* cooling plant COP (> 0), used when cop_cool_k is NULL */
    const double *cop_cool_k;       /* per-step cooling COP (follows T_out); NULL = cop_cool */
    int heat_fuel;                  /* 0: electric heating at cop_heat; 1: fuel */
    double cop_heat;                /* electric heating COP (> 0; 1 = resistance) */
    const double *cop_heat_k;       /* per-step heating COP; NULL = cop_heat */
    double fuel_eff;                /* fuel heating efficiency (> 0), heat_fuel only */
    double fuel_price;              /* price per kWh of fuel (>= 0), heat_fuel only */
    size_t nwindows;                /* 0..SB_MPC_MAX_WINDOWS */
    const struct sb_mpc_window *windows;
    const uint8_t *demand_mask;     /* per step, bit w: the step is in window w
                                       (struct sb_tariff_step.demand_mask); NULL = none */
    double demand_interval_s;       /* demand averaging interval: a whole multiple of dt_s;
                                       blocks are aligned to step 0; 0 = dt_s */
    double cap_kw;                  /* peak cap on P_k (demand limiting); <= 0 = none */
};

/* Solver options; zero = default for every field. */
struct sb_mpc_opts {
    double comfort_penalty;         /* cost per K h outside a band (default 100) */
    double cap_penalty;             /* cost per kWh above the cap (default 10000):
                                       above comfort, so the cap wins over comfort */
    double max_seconds;             /* CLP time limit, s (default 60) */
    double eps_kw;                  /* Q below this counts as off for setpoints (1e-6) */
};

/* Totals of a plan or a baseline over the horizon. */
struct sb_mpc_totals {
    double kwh_elec;                /* electric energy incl. base load, kWh */
    double kwh_hvac_elec;           /* of which HVAC (cooling + electric heating), kWh */
    double kwh_cool_th;             /* cooling delivered, thermal kWh */
    double kwh_heat_th;             /* heating delivered, thermal kWh */
    double kwh_fuel;                /* fuel burnt, kWh */
    double cost_energy;             /* electric energy cost */
    double cost_fuel;               /* fuel cost */
    double cost_demand;             /* demand charges above the prior peaks */
    double cost_total;              /* the three above */
    double peak_kw;                 /* highest demand-interval mean of P, kW */
    double cap_excess_kwh;          /* energy above cap_kw, kWh (0 without a cap) */
    double discomfort_kh;           /* sum over zones of |T_air outside band| dt, K h */
};

/*
 * The answer.  Per-zone arrays are zone-major: element [z * n + k].  For a
 * plan the setpoints are what to command during step k: cooling = the
 * planned T_air when cooling is active (pre-cooling drives it toward the
 * band's low side), else the band's high edge; heating likewise with the
 * low edge; heat_sp <= cool_sp always.  Ramp limits are the arbitration
 * layer's job.  For a baseline they are the schedule's setpoints.
 */
struct sb_mpc_result {
    int status;                     /* enum sb_mpc_status */
    int clp_status;                 /* Clp_status: 0 optimal, 1 primal infeasible, 2 dual
                                       infeasible, 3 stopped (limit), 4 errors; -1 not run */
    int clp_secondary;              /* Clp_secondaryStatus */
    int iterations;                 /* simplex iterations */
    int rows, cols;                 /* LP size */
    long nonzeros;                  /* matrix elements */
    double objective;               /* LP objective incl. penalties, minus the constant
                                       sum_w dprice_w prior_w (baseline: cost_total +
                                       the same penalties) */
    double solve_s;                 /* wall time of build + solve, s (diagnostic) */
    size_t n, nzones;
    struct sb_mpc_totals tot;       /* of this plan (or baseline); zero on SB_MPC_SOLVER,
                                       whose trajectories are all NAN */
    struct sb_mpc_totals base;      /* of the baseline (sb_mpc_solve fills it too) */
    double *t_air;                  /* [z*n+k] planned air temperature at t_{k+1}, degC */
    double *t_mass;                 /* [z*n+k] mass temperature at t_{k+1}, degC */
    double *q_cool;                 /* [z*n+k] cooling, thermal kW (>= 0) */
    double *q_heat;                 /* [z*n+k] heating, thermal kW (>= 0) */
    double *cool_sp;                /* [z*n+k] cooling setpoint to command, degC */
    double *heat_sp;                /* [z*n+k] heating setpoint to command, degC */
    double *slack;                  /* [z*n+k] K outside the band at t_{k+1} (>= 0) */
    double *p_kw;                   /* [k] building electric power, kW */
    double *fuel_kw;                /* [k] fuel power, kW */
};

/* Checks a problem: sizes, required arrays, finite inputs, capacities,
 * COPs, windows, dt agreement.  Returns 0 or SB_EINVAL with "field:
 * problem" in err. */
int sb_mpc_check(const struct sb_mpc_problem *p, char *err, size_t errlen);

/*
 * Builds the LP (sparse, column-major), solves it with CLP (presolve,
 * barrier, crossover to a vertex), and fills a new result with the plan, its totals and
 * the baseline's totals (r->base).  opts may be NULL.  Returns 0 with
 * *out set (check (*out)->status: a solver failure is a result, not an
 * error code), SB_EINVAL (sb_mpc_check failed; reason in err) or
 * SB_ENOMEM.  Free *out with sb_mpc_result_free.
 */
int sb_mpc_solve(const struct sb_mpc_problem *p, const struct sb_mpc_opts *opts,
                 struct sb_mpc_result **out, char *err, size_t errlen);

/*
 * Evaluates the schedule's fixed setpoints (zones' base_heat_sp /
 * base_cool_sp, or the band edges) with an ideal thermostat on the same
 * model (sb_rc_predict_setpoints: Q clamped to capacity), priced like the
 * plan.  Fills a new result with status SB_MPC_BASELINE, the trajectories,
 * and tot == base.  Same returns and ownership as sb_mpc_solve.
 */
int sb_mpc_baseline(const struct sb_mpc_problem *p, const struct sb_mpc_opts *opts,
                    struct sb_mpc_result **out, char *err, size_t errlen);

/* Frees a result (NULL is fine). */
void sb_mpc_result_free(struct sb_mpc_result *r);

/* "optimal", "slack", "solver", "baseline" (static). */
const char *sb_mpc_status_str(int status);

#endif /* SB_CONTROL_MPC_H */

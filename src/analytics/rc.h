/*
 * rc.h - grey-box RC thermal models of one zone: identification from the
 * zone's own history, 24 h-ahead prediction, and the discrete-time matrices
 * a model-predictive optimizer plans with.
 *
 * The model (docs/internals/analytics-rc.md) is the two-state network of
 * Bacher & Madsen 2011 ("Identifying suitable models for the heat dynamics
 * of buildings", Energy and Buildings 43(7):1511-1522, model "TiTe"): zone
 * air T_i and a lumped mass T_m,
 *
 *   C_i dT_i/dt = (T_m - T_i)/R_im [+ (T_o - T_i)/R_io] + a_i S + 1000 Q
 *                 + (1 - f) (g_o occ + 1000 g_g G) + q0
 *   C_m dT_m/dt = (T_i - T_m)/R_im + (T_o - T_m)/R_mo + a_m S
 *                 + f (g_o occ + 1000 g_g G)
 *
 * 2R2C without the bracketed direct air-outdoor path (windows,
 * infiltration), 3R2C with it.  Inputs: T_o outdoor temperature (degC), S a
 * solar proxy (W/m2: global horizontal irradiance, or sb_rc_clear_sky_ghi),
 * Q the HVAC heat delivered to the zone (kW, + heating / - cooling;
 * sb_rc_q_from_airflow for a VAV box), occ occupancy (any unit: 0..1 or
 * people), G an internal-gains proxy (kW, e.g. metered lights + plugs).
 * The model is linear in states and inputs (the optimizer is an LP).
 * For a perimeter zone, sb_rc_solar_facade turns GHI into the irradiance
 * of the zone's facade, a better proxy than GHI itself.
 *
 * Time convention for every array: sample k is at t0 + k dt; t_zone[k] is
 * the measured (instantaneous) zone temperature at that instant and each
 * input u[k] is the MEAN over [t_k, t_k + dt) (zero-order hold).  A
 * prediction of n steps writes the temperature at t_{k+1} into out[k].
 *
 * Pure: no I/O, clocks, globals or logging.  Every array is caller-owned;
 * sb_rc_identify allocates private scratch and frees it before returning,
 * sb_rc_save returns a malloc'd string the caller frees; everything else
 * works in the caller's memory.  Units are SI except Q and G in kW (what
 * meters and the API report).
 */
#ifndef SB_ANALYTICS_RC_H
#define SB_ANALYTICS_RC_H

#include <stddef.h>
#include <stdint.h>

#define SB_RC_NX 2      /* states */
#define SB_RC_NU 6      /* inputs, the last one the constant 1 */
#define SB_RC_GAIN_MAX 1.5  /* largest observer mass gain */

/* State layout of x and of the rows of A and B. */
enum { SB_RC_X_AIR = 0, SB_RC_X_MASS = 1 };

/* Input layout of u and of the columns of B. */
enum {
    SB_RC_U_TOUT = 0,   /* outdoor temperature, degC */
    SB_RC_U_SOLAR = 1,  /* solar proxy, W/m2 */
    SB_RC_U_Q = 2,      /* HVAC heat to the zone, kW (+ heat, - cool) */
    SB_RC_U_OCC = 3,    /* occupancy, caller's unit */
    SB_RC_U_GAINS = 4,  /* internal-gains proxy, kW */
    SB_RC_U_ONE = 5     /* the constant 1 (carries q0) */
};

enum sb_rc_structure {
    SB_RC_2R2C = 2,     /* air - mass - outdoor */
    SB_RC_3R2C = 3      /* plus the direct air - outdoor path */
};

/* Continuous-time parameters; sb_rc_params_check states the constraints. */
struct sb_rc_params {
    int structure;          /* enum sb_rc_structure */
    double c_air;           /* C_i, J/K (> 0): air, furniture, light partitions */
    double c_mass;          /* C_m, J/K (> 0): the lumped structure */
    double r_air_mass;      /* R_im, K/W (> 0) */
    double r_mass_out;      /* R_mo, K/W (> 0): opaque envelope */
    double r_air_out;       /* R_io, K/W (> 0), 3R2C only (ignored for 2R2C) */
    double a_sol_air;       /* a_i, m2 (>= 0): W to the air per W/m2 of S */
    double a_sol_mass;      /* a_m, m2 (>= 0): W to the mass per W/m2 of S */
    double g_occ;           /* g_o, W per occupancy unit (>= 0) */
    double g_gains;         /* g_g, W of heat per W of the gains proxy (>= 0) */
    double f_rad;           /* f, share of occupant and internal gains to the mass, 0..1 */
    double q0;              /* constant heat to the air, W (any sign: neighbours, ground) */
};

/* Exact zero-order-hold discretisation: x[k+1] = A x[k] + B u[k]. */
struct sb_rc_disc {
    double dt_s;                        /* step, s */
    double a[SB_RC_NX][SB_RC_NX];       /* state transition, rows/cols SB_RC_X_* */
    double b[SB_RC_NX][SB_RC_NU];       /* input matrix, columns SB_RC_U_* in their units */
};

/* Per-step inputs: n elements each (means over each step).  t_out and solar
 * are required; q_kw is required except by sb_rc_predict_setpoints (which
 * computes it); occ and gains_kw may be NULL (= 0). */
struct sb_rc_inputs {
    const double *t_out;    /* degC */
    const double *solar;    /* W/m2 */
    const double *q_kw;     /* kW, + heating / - cooling */
    const double *occ;      /* occupancy */
    const double *gains_kw; /* kW */
};

/* A zone's history for sb_rc_identify. */
struct sb_rc_data {
    int64_t t0_ms;          /* Unix ms of sample 0 (only recorded in the model) */
    double dt_s;            /* sample step, 60..3600 s */
    size_t n;               /* samples */
    const double *t_zone;   /* measured zone temperature, degC; NAN = missing */
    struct sb_rc_inputs u;  /* inputs, finite everywhere (fill short gaps first) */
};

/* Identification options; zero = default for every field. */
struct sb_rc_opts {
    int structure;          /* SB_RC_2R2C or SB_RC_3R2C (default 3R2C) */
    double holdout_frac;    /* share held out at the end for scoring (0.25), 0.05..0.5 */
    double horizon_s;       /* open-loop horizon of the fit and the score (86400 s) */
    double seg_every_s;     /* spacing of fit trajectory starts (21600 s) */
    int max_iter;           /* Levenberg-Marquardt iterations per start (60) */
    double min_q_span_kw;   /* refuse when Q spans less in training (0.1 kW) */
    double max_gap_s;       /* refuse a t_zone gap longer than this (7200 s) */
    double max_missing;     /* refuse more missing t_zone than this share (0.1) */
    double q_heat_max_kw;   /* heating capacity; 0 = the largest Q in training */
    double q_cool_max_kw;   /* cooling capacity (>= 0); 0 = the largest -Q in training */
};

/* How well the model predicts data it was not fitted to (held-out part). */
struct sb_rc_scores {
    double rmse_fit;        /* training objective RMSE (horizon trajectories), K */
    double rmse_1step;      /* held out, one step ahead from the observed state, K */
    double rmse_24h;        /* held out, pooled over open-loop trajectories of the horizon, K */
    double max_24h;         /* largest |error| in those trajectories, K */
    double bias_24h;        /* mean (predicted - measured) in them, K */
    int n_traj;             /* trajectories scored (one per hour of the held-out part) */
};

/* An identified (or loaded) model; a plain value, copy freely. */
struct sb_rc_model {
    struct sb_rc_params p;      /* the continuous-time model */
    double dt_s;                /* data step it was identified at, s */
    double horizon_s;           /* horizon of the scores, s */
    double t_mass0;             /* estimated mass temperature at the training start, degC */
    double obs_gain;            /* observer mass gain (sb_rc_observe), 0..SB_RC_GAIN_MAX */
    double q_heat_max_kw;       /* heating capacity, kW (>= 0) */
    double q_cool_max_kw;       /* cooling capacity, kW (>= 0) */
    int64_t train_start_ms, train_end_ms;   /* training window [start, end), Unix ms */
    int64_t test_start_ms, test_end_ms;     /* held-out window [start, end), Unix ms */
    size_t n_train, n_test;     /* samples in each */
    int iterations;             /* LM iterations of the winning start */
    struct sb_rc_scores sc;     /* NAN where not computed */
};

/* Checks p: C, R finite and > 0 (within 1e2..1e12 J/K and 1e-7..10 K/W),
 * gains finite and >= 0, f_rad in [0, 1], q0 finite.  Returns 0 or
 * SB_EINVAL with "field: problem" in err. */
int sb_rc_params_check(const struct sb_rc_params *p, char *err, size_t errlen);

/* Continuous-time matrices dx/dt = Ac x + Bc u (1/s and K/s per input unit). */
void sb_rc_continuous(const struct sb_rc_params *p, double ac[SB_RC_NX][SB_RC_NX],
                      double bc[SB_RC_NX][SB_RC_NU]);

/* Exact ZOH discretisation at dt_s (1..86400 s): exp of the augmented
 * matrix [[Ac, Bc], [0, 0]] dt by scaling and squaring with a (6,6) Pade
 * approximant (Moler & Van Loan 2003, method 3).  Returns 0, SB_EINVAL
 * (bad params or step) or SB_ERANGE (numerical failure). */
int sb_rc_discretize(const struct sb_rc_params *p, double dt_s, struct sb_rc_disc *d);

/* One step x <- A x + B u (u in the SB_RC_U_* layout, u[SB_RC_U_ONE] = 1). */
void sb_rc_step(const struct sb_rc_disc *d, double x[SB_RC_NX], const double u[SB_RC_NU]);

/* Open-loop simulation of n steps from x0 with the given inputs (q_kw
 * required): t_zone[k] (and t_mass[k] when not NULL) receive the state at
 * t_{k+1}.  Returns 0 or SB_EINVAL (NULL arrays). */
int sb_rc_simulate(const struct sb_rc_disc *d, const double x0[SB_RC_NX], const struct sb_rc_inputs *in,
                   size_t n, double *t_zone, double *t_mass);

/* State estimate at the LAST sample (index n - 1) of a history, for
 * starting a prediction there.  The air is measured, the mass is not: the
 * observer runs the model over the history and at each finite measurement
 * y sets the air to y and moves the mass by gain * (y - predicted air) (a
 * steady-state Kalman-type correction; give the model's obs_gain, which
 * the identification fits with the rest).  The mass starts in steady state
 * with the first sample; its error shrinks by |A[1][1] - gain A[0][1]|
 * per step, so give a day or more of history.  Inputs u[0..n-2] are
 * used.  Returns 0 or SB_EINVAL (n == 0, no finite temperature, NULL
 * arrays, gain outside 0..SB_RC_GAIN_MAX). */
int sb_rc_observe(const struct sb_rc_disc *d, double gain, const double *t_zone,
                  const struct sb_rc_inputs *in, size_t n, double x[SB_RC_NX]);

/*
 * Prediction under a setpoint schedule with an ideal thermostat: for each
 * step the heat Q that brings the air to the band [heat_sp[k], cool_sp[k]]
 * at the end of the step (none when the free-running temperature is inside
 * it), limited to [-q_cool_max_kw, q_heat_max_kw].  A NAN setpoint means no
 * heating (or cooling) that step.  Writes t_zone[k] (air at t_{k+1}) and
 * q_kw[k] (mean heat over the step, kW).  in->q_kw is ignored.  Returns 0
 * or SB_EINVAL (NULL arrays, heat_sp > cool_sp, negative capacity).
 */
int sb_rc_predict_setpoints(const struct sb_rc_disc *d, const double x0[SB_RC_NX],
                            const struct sb_rc_inputs *in, const double *heat_sp,
                            const double *cool_sp, size_t n, double q_heat_max_kw,
                            double q_cool_max_kw, double *t_zone, double *q_kw);

/*
 * Identifies a model from a zone's history: the last holdout_frac of the
 * samples is held out for scoring, the rest fitted by bounded Levenberg-
 * Marquardt (C and R as logarithms, gains within bounds), minimising the
 * error of open-loop trajectories of horizon_s started every seg_every_s
 * from the observed state (sb_rc_observe); the initial mass temperature
 * and the observer gain are fitted with the model.  Starts: an ARX(2,2)
 * fit mapped to the network, and two physical priors; the best fit wins.
 * Fills *out, scores included.  Returns 0, SB_ENOMEM, or SB_EINVAL with
 * the reason in err when the data cannot identify the model ("too short:
 * the training part is 2.2 days...", "HVAC never varied...", "gap of
 * 3.2 h in t_zone at sample ...", "t_out[50] is not finite...").
 */
int sb_rc_identify(const struct sb_rc_data *data, const struct sb_rc_opts *opts,
                   struct sb_rc_model *out, char *err, size_t errlen);

/* Serialises m as a JSON object into a new malloc'd string (*json, caller
 * frees).  Returns 0, SB_EINVAL (m fails sb_rc_params_check) or SB_ENOMEM. */
int sb_rc_save(const struct sb_rc_model *m, char **json);

/* Parses what sb_rc_save wrote (bytes from the database: untrusted, at most
 * 64 KiB), refusing unknown or missing keys, wrong types, non-finite or
 * out-of-range values with "path: problem" in err.  Returns 0 or
 * SB_EINVAL. */
int sb_rc_load(const char *json, size_t len, struct sb_rc_model *out, char *err, size_t errlen);

/* Heat delivered by supply air, kW: rho V cp (T_discharge - T_zone) with
 * standard air (1.2 kg/m3, 1005 J/(kg K)); flow in m3/s.  NAN if an
 * argument is not finite. */
double sb_rc_q_from_airflow(double flow_m3s, double t_discharge, double t_zone);

/* Clear-sky global horizontal irradiance, W/m2, at unix_ms for a site at
 * lat/lon (degrees, north and east positive): Haurwitz's model
 * 1098 cos z exp(-0.059 / cos z) (as in Reno, Hansen & Stein 2012,
 * SAND2012-2389) with the sun from the Astronomical Almanac's low-precision
 * formulas.  A solar proxy when no irradiance is measured. */
double sb_rc_clear_sky_ghi(double lat_deg, double lon_deg, int64_t unix_ms);

/* Irradiance on a vertical facade facing azimuth_deg (compass: 0 north,
 * 90 east, 180 south, 270 west), W/m2, estimated from global horizontal
 * irradiance ghi: Erbs et al. 1982 diffuse fraction, beam projected on the
 * wall, isotropic sky, ground reflectance 0.2 (Duffie & Beckman eq.
 * 2.15.1 with a 90 degree slope).  The better solar proxy for a perimeter
 * zone: the ratio of facade to horizontal irradiance changes with the
 * season (a south wall gets more than the roof in winter, less in summer),
 * which a constant gain on GHI cannot follow.  NAN on bad arguments. */
double sb_rc_solar_facade(double ghi, double lat_deg, double lon_deg, int64_t unix_ms, double azimuth_deg);

#endif /* SB_ANALYTICS_RC_H */

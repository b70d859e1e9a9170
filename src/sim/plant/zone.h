/*
 * zone.h - thermal zone model of sbems-sim: the ISO 13790:2008 Annex C
 * "5R1C" simple hourly model (carried into ISO 52016-1:2017 as its simple
 * method), plus a CO2 balance.  Pure: the caller owns struct sb_zone and
 * passes every input; nothing here allocates, logs or reads a clock.
 *
 * Nodes: theta_air (air), theta_s (central / surface), theta_m (mass).
 * Conductances (W/K): H_ve (ventilation: infiltration + supply air, to the
 * supply temperature), H_tr,w (windows, to outdoor), H_tr,is (air-surface),
 * H_tr,ms (surface-mass), H_tr,em (mass-outdoor via the opaque envelope).
 * Gains split (ISO 13790 C.2, eqs. C.1-C.3):
 *   Phi_ia = 0.5 Phi_int
 *   Phi_m  = A_m/A_t (0.5 Phi_int + Phi_sol)
 *   Phi_st = (1 - A_m/A_t - H_tr,w/(9.1 A_t)) (0.5 Phi_int + Phi_sol)
 * The remainder H_tr,w/(9.1 A_t)(0.5 Phi_int + Phi_sol) is radiation that
 * falls on the windows and is treated by the standard as lost outward;
 * sb_zone_step() reports it so energy balances can account for it.
 *
 * Time stepping: fully implicit (backward Euler) on the mass node, with the
 * air and surface nodes solved simultaneously at the end of the step (they
 * have no capacity in the standard; an optional air capacity C_air may be
 * given for realistic control dynamics, 0 = the standard's model).  The
 * standard's own hourly scheme averages theta_m over the hour (Crank-
 * Nicolson-like, eq. C.4); at sub-steps of <= 60 s against a mass time
 * constant of tens of hours the two agree to well under 0.01 K, and the
 * implicit form is unconditionally stable and makes the discrete energy
 * balance exact (heat in = stored + lost, step by step).
 *
 * Moisture: one humidity ratio W (kg water / kg dry air) per zone, well
 * mixed, with an effective moisture capacitance M = f rho V: the air itself
 * (f = 1) plus what furnishings, paper and finishes adsorb and release on
 * the time scale of hours (f ~ 5-15, the "humidity capacitance multiplier"
 * of EnergyPlus's zone air moisture balance; see sim-physics.md).  Implicit:
 *   M dW/dt = m_sup (W_sup - W) + m_inf (W_out - W) + G
 * so sources - sinks = storage holds exactly per step.  Sensible and latent
 * are decoupled (W does not change temperatures, as in ISO 13790).
 */
#ifndef SB_SIM_ZONE_H
#define SB_SIM_ZONE_H

#define SB_RHO_CP_AIR 1200.0    /* J/(m3 K), ISO 13790 eq. 21 */
#define SB_CP_AIR 1005.0        /* J/(kg K) */
#define SB_RHO_AIR 1.2          /* kg/m3 */

/* Geometry and construction of one zone (inputs to sb_zone_init). */
struct sb_zone_params {
    double floor_area;      /* A_f, m2 */
    double volume;          /* air volume, m3 */
    double wall_area;       /* opaque exterior wall + roof, m2 (0: interior zone) */
    double u_wall;          /* W/(m2 K), of wall_area (roof folded in as an equivalent) */
    double window_area;     /* m2, total */
    double u_window;        /* W/(m2 K) */
    double g_window;        /* total solar energy transmittance, incl. shading factor */
    double am_factor;       /* A_m / A_f (medium class 2.5, ISO 13790 Table 12) */
    double cm_per_area;     /* C_m / A_f, J/(m2 K) (medium 165000) */
    double infiltration_ach;/* air changes per hour */
    double c_air_factor;    /* C_air = factor * rho cp V (0 = standard 5R1C) */
    double moist_cap_factor;/* M = max(1, factor) * rho V (moisture buffering) */
};

/* Derived conductances and the state. */
struct sb_zone {
    struct sb_zone_params p;    /* copy of the inputs */
    double a_m, a_t;            /* effective mass area, total internal area, m2 */
    double c_m, c_air;          /* J/K */
    double h_inf;               /* infiltration part of H_ve, W/K */
    double h_tr_w, h_tr_is, h_tr_ms, h_tr_em;   /* W/K */
    double t_air, t_s, t_m;     /* node temperatures, degC */
    double co2;                 /* ppm */
    double m_moist;             /* effective moisture capacitance, kg (dry air equiv.) */
    double m_inf;               /* infiltration air mass flow, kg/s */
    double w;                   /* humidity ratio, kg/kg (init SB_ZONE_W_INIT) */
};

#define SB_ZONE_W_INIT 0.0075   /* ~48 % RH at 21 degC, sea level */

/* Inputs of one step. */
struct sb_zone_in {
    double t_out;           /* outdoor dry-bulb, degC */
    double phi_int;         /* internal gains (people + lights + plugs), W */
    double phi_sol;         /* solar gains through windows, W */
    double m_sup;           /* supply air mass flow, kg/s */
    double t_sup;           /* supply (discharge) air temperature, degC */
    double phi_hc;          /* extra convective heating (+) / cooling (-) to air, W */
    double co2_sup;         /* supply air CO2, ppm */
    double co2_out;         /* outdoor CO2, ppm */
    double co2_gen;         /* CO2 generation, m3/s of pure CO2 */
    double w_sup;           /* supply air humidity ratio, kg/kg */
    double w_out;           /* outdoor humidity ratio (infiltration), kg/kg */
    double w_gen;           /* moisture generation (people), kg/s */
};

/* Flows of one step, averaged over it (W), for balances and meters. */
struct sb_zone_out {
    double phi_hvac;        /* m_sup cp (t_sup - t_air), heat delivered by supply air */
    double phi_inf;         /* infiltration heat flow into the zone */
    double phi_win;         /* conduction through windows into the zone */
    double phi_em;          /* conduction through the opaque envelope into the mass */
    double phi_win_rad;     /* radiant gain fraction lost via windows (ISO 13790 C.2) */
    double stored;          /* change of stored heat over the step, J */
    double w_sup_net;       /* m_sup (W_sup - W): moisture brought by supply air, kg/s */
    double w_inf;           /* m_inf (W_out - W): moisture brought by infiltration, kg/s */
    double w_stored;        /* change of stored moisture over the step, kg */
};

/* Computes conductances from p (ISO 13790 12.2, 7.2.2, Annex C) and sets
 * every node to t_init, CO2 to co2_init and W to SB_ZONE_W_INIT (the
 * caller may set z->w after).  Returns 0 or SB_EINVAL. */
int sb_zone_init(struct sb_zone *z, const struct sb_zone_params *p, double t_init, double co2_init);

/* Advances z by dt seconds (> 0) with constant inputs; fills *out if not NULL. */
void sb_zone_step(struct sb_zone *z, const struct sb_zone_in *in, double dt, struct sb_zone_out *out);

/* Steady state of the 5R1C network for constant inputs (no capacity):
 * fills t_air, t_s, t_m.  Used by tests and for initialisation. */
void sb_zone_steady(const struct sb_zone *z, const struct sb_zone_in *in, double *t_air,
                    double *t_s, double *t_m);

#endif /* SB_SIM_ZONE_H */

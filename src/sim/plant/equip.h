/*
 * equip.h - equipment models and controller primitives of sbems-sim:
 * PI controller, counter-flow heat-exchanger effectiveness, a chilled-water
 * cooling coil that dehumidifies, and the DOE-2 electric chiller curves.
 * Pure functions over caller-owned structs.
 *
 * Chiller: DOE-2.1E electric chiller model (capacity CAPFT, EIRFT
 * biquadratics and EIRFPLR quadratic; LBNL DOE-2.1E Supplement; the same
 * form as EnergyPlus Chiller:Electric:EIR and the ASHRAE 90.1 Appendix G
 * performance-curve method).  Coefficients are DOE-2's default
 * reciprocating chiller (as published in the EnergyPlus chiller data set,
 * "DOE-2 Reciprocating/3.67COP"; reference 6.67 degC leaving CHW, 29.4 degC
 * entering condenser).  For an AIR-COOLED machine the condenser variable is
 * the outdoor dry-bulb shifted by -5.6 K so that the AHRI 550/590 air-cooled
 * rating point (35 degC ambient) maps to the curve's reference; the shifted
 * value is clamped to [10, 40] degC (head-pressure control below, curve
 * range above).  The rated COP is a parameter (default 3.0, about a
 * Trane CGAM-class scroll chiller; ASHRAE 90.1-2016 Path A minimum 2.96).
 */
#ifndef SB_SIM_EQUIP_H
#define SB_SIM_EQUIP_H

/* Positional PI with clamping anti-windup; output in [lo, hi]. */
struct sb_pi {
    double kp;      /* proportional gain, output per unit error */
    double ki;      /* integral gain, output per unit error per second */
    double lo, hi;  /* output limits */
    double integ;   /* integral term (state) */
};

/* One PI update with error e over dt seconds; returns the clamped output. */
double sb_pi_step(struct sb_pi *pi, double e, double dt);

/* Puts the integrator so that a zero error gives `out` (bumpless start). */
void sb_pi_reset(struct sb_pi *pi, double out);

/* Counter-flow effectiveness for NTU >= 0 and capacity ratio 0 <= cr <= 1
 * (Incropera & DeWitt, Fundamentals of Heat and Mass Transfer, Table 11.3). */
double sb_hx_eff_counterflow(double ntu, double cr);

/* NTU giving effectiveness eps (0 < eps < limit) for cr, by bisection. */
double sb_hx_ntu_for(double eps, double cr);

/*
 * Chilled-water cooling coil, dry or wet: the effectiveness model of
 * Braun, Klein & Mitchell, "Effectiveness models for cooling towers and
 * cooling coils", ASHRAE Transactions 95(2), 1989 (the effectiveness approach
 * of EnergyPlus's Coil:Cooling:Water).
 *  - Dry: counter-flow eps-NTU on temperatures with the overall UA.
 *  - Wet: the same on enthalpy, with the air-side conductance ua_o / cp and
 *    the water side ua_i / c_s in series (c_s = d h_sat / dT of saturated
 *    air over the water's temperature range); then the effective surface
 *    ("apparatus dew point") is where the leaving air's enthalpy lies on
 *    the straight line from the entering state with bypass factor
 *    BF = exp(-ua_o / (m_a cp)): leaving air = BF x entering + (1 - BF) x
 *    saturated air at the ADP, in both temperature and humidity ratio
 *    (Lewis number 1: the straight-line law of coil processes).
 *  - Partially wet: the coil splits where the surface reaches the
 *    entering dew point (surface T_s = T_w + r (T_a - T_w), r the water
 *    side's share of the resistance), dry part at the air inlet end; the
 *    split is solved so both parts and the boundary agree (Braun 1989's
 *    "partially wet-partially dry" analysis; also Elmahdy & Mitalas 1977).
 *    Output is continuous and monotonic in water flow from dry to wet,
 *    which a supply-air loop needs (an all-dry/all-wet switch makes the
 *    leaving temperature jump and the loop limit-cycle).
 * Leaving air is never supersaturated (the excess condenses).
 */
struct sb_coil_in {
    double m_a;         /* air mass flow, kg/s */
    double t_ai, w_ai;  /* entering air, degC and kg/kg */
    double m_w;         /* water mass flow, kg/s */
    double t_wi;        /* entering water, degC */
    double ua, ua_o;    /* overall and air-side conductance, W/K (ua_o > ua) */
    double p;           /* barometric pressure, Pa */
    double f_hint;      /* a guess of f_dry (the last answer) or 0: speed only */
};

struct sb_coil_out {
    double t_ao, w_ao;  /* leaving air */
    double q;           /* total heat to the water, W (>= 0) */
    double t_wo;        /* leaving water, degC */
    double t_adp, bf;   /* apparatus dew point (effective surface) and bypass factor */
    double f_dry;       /* dry share of the coil's area (1: dry, 0: wholly wet) */
    int wet;            /* 1: some of the coil condenses */
};

/* Pure; f_hint only moves where the solver starts (the answer agrees to
 * its tolerance, 1e-4 K of boundary surface temperature).  No air, no
 * water or air not warmer than the water: out = in, q = 0. */
void sb_coil_cool(const struct sb_coil_in *in, struct sb_coil_out *out);

#define SB_CHILLER_PLR_MIN 0.1      /* below: cycling at this PLR */

double sb_chiller_capft(double t_chw, double t_oa);
double sb_chiller_eirft(double t_chw, double t_oa);
double sb_chiller_eirfplr(double plr);

/* Electric power (kW) of one chiller of rated capacity cap_kw and rated COP
 * delivering load_kw at CHW supply t_chw and outdoor t_oa; load above the
 * available capacity is clipped (the caller sees it in *delivered_kw). */
double sb_chiller_power(double cap_kw, double cop, double t_chw, double t_oa, double load_kw,
                        double *delivered_kw);

#endif /* SB_SIM_EQUIP_H */

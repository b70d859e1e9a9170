/*
 * equip.h - equipment models and controller primitives of sbems-sim:
 * PI controller, counter-flow heat-exchanger effectiveness, and the DOE-2
 * electric chiller curves.  Pure functions over caller-owned structs.
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

/*
 * psychro.h - moist-air psychrometrics for sbems-sim's plant (ASHRAE
 * Handbook - Fundamentals 2017, SI, chapter 1 "Psychrometrics").
 *
 * Pure functions of their arguments: no state, no allocation.  Units:
 * temperatures degC, pressures Pa, humidity ratio W in kg water per kg dry
 * air, enthalpy J per kg dry air, RH as a fraction 0..1.
 *
 *   p_ws(t)  saturation pressure, Hyland-Wexler (eq. 5 over ice below
 *            0 degC, eq. 6 over liquid water from 0 degC; valid -100..200)
 *   p(Z)     standard atmosphere at elevation Z m (eq. 3)
 *   W        0.621945 p_w / (p - p_w) (eqs. 20, 22)
 *   h        1006 t + W (2501000 + 1860 t) (eq. 32)
 * The humid-air enhancement factor (~1.004) is neglected, as in the
 * Handbook's ideal-gas relations of ch. 1 section 5.
 */
#ifndef SB_SIM_PSYCHRO_H
#define SB_SIM_PSYCHRO_H

#define SB_PSY_P_STD 101325.0       /* Pa, sea-level standard atmosphere */
#define SB_PSY_H_FG 2450000.0       /* J/kg, latent heat of water near 20 degC:
                                     * the plant's one latent <-> kg/s factor */

/* Saturation pressure of water vapour at t degC, Pa (clamped to -100..200). */
double sb_psy_pws(double t);

/* Standard barometric pressure at elevation z_m (clamped to -500..9000 m), Pa. */
double sb_psy_patm(double z_m);

/* Humidity ratio from vapour partial pressure pw at total pressure p. */
double sb_psy_w_pw(double pw, double p);

/* Vapour partial pressure from humidity ratio w at total pressure p. */
double sb_psy_pw_w(double w, double p);

/* Humidity ratio of saturated air at t. */
double sb_psy_wsat(double t, double p);

/* Humidity ratio at dry-bulb t and relative humidity rh (0..1). */
double sb_psy_w_rh(double t, double rh, double p);

/* Relative humidity (0..1, clamped to [0, 1]) of air at t with ratio w. */
double sb_psy_rh(double t, double w, double p);

/* Dew-point temperature of air with ratio w (frost point below 0 degC),
 * by Newton iteration on eqs. 5/6; w <= 0 gives -100. */
double sb_psy_tdp(double w, double p);

/* Moist-air enthalpy, J/kg dry air. */
double sb_psy_h(double t, double w);

/* Humidity ratio of air at t with enthalpy h. */
double sb_psy_w_h(double t, double h);

/* Enthalpy of saturated air at t. */
double sb_psy_hsat(double t, double p);

/* Temperature of saturated air with enthalpy h (inverse of hsat), by
 * Newton iteration; result within 1e-6 K over -50..90 degC. */
double sb_psy_tsat_h(double h, double p);

#endif /* SB_SIM_PSYCHRO_H */

/* psychro.c - ASHRAE Fundamentals 2017 ch. 1 psychrometrics (see psychro.h). */
#include <math.h>
#include <stddef.h>

#include "sim/plant/psychro.h"

#define T_ABS 273.15
#define EPS_W 0.621945      /* ratio of molecular masses water / dry air (eq. 22) */

/* Hyland-Wexler coefficients, ASHRAE Fundamentals 2017 ch. 1 eqs. 5 and 6
 * (T in K, p_ws in Pa). */
static const double ICE[7] = { -5.6745359e3, 6.3925247, -9.6778430e-3, 6.2215701e-7,
                               2.0747825e-9, -9.4840240e-13, 4.1635019 };
static const double LIQ[6] = { -5.8002206e3, 1.3914993, -4.8640239e-2, 4.1764768e-5,
                               -1.4452093e-8, 6.5459673 };

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* ln p_ws and its derivative d(ln p_ws)/dT at absolute temperature T. */
static double ln_pws(double tk, double *dln)
{
    const double *c;

    if (tk < T_ABS) {
        c = ICE;
        if (dln)
            *dln = -c[0] / (tk * tk) + c[2] + tk * (2 * c[3] + tk * (3 * c[4] + tk * 4 * c[5])) +
                   c[6] / tk;
        return c[0] / tk + c[1] + tk * (c[2] + tk * (c[3] + tk * (c[4] + tk * c[5]))) +
               c[6] * log(tk);
    }
    c = LIQ;
    if (dln)
        *dln = -c[0] / (tk * tk) + c[2] + tk * (2 * c[3] + tk * 3 * c[4]) + c[5] / tk;
    return c[0] / tk + c[1] + tk * (c[2] + tk * (c[3] + tk * c[4])) + c[5] * log(tk);
}

double sb_psy_pws(double t)
{
    return exp(ln_pws(clampd(t, -100.0, 200.0) + T_ABS, NULL));
}

double sb_psy_patm(double z_m)
{
    /* eq. 3: p = 101.325 (1 - 2.25577e-5 Z)^5.2559 kPa */
    return SB_PSY_P_STD * pow(1.0 - 2.25577e-5 * clampd(z_m, -500.0, 9000.0), 5.2559);
}

double sb_psy_w_pw(double pw, double p)
{
    pw = clampd(pw, 0.0, 0.99 * p);     /* above ~boiling W is unbounded */
    return EPS_W * pw / (p - pw);
}

double sb_psy_pw_w(double w, double p)
{
    w = fmax(0.0, w);
    return p * w / (EPS_W + w);
}

double sb_psy_wsat(double t, double p)
{
    return sb_psy_w_pw(sb_psy_pws(t), p);
}

double sb_psy_w_rh(double t, double rh, double p)
{
    return sb_psy_w_pw(clampd(rh, 0.0, 1.0) * sb_psy_pws(t), p);
}

double sb_psy_rh(double t, double w, double p)
{
    return clampd(sb_psy_pw_w(w, p) / sb_psy_pws(t), 0.0, 1.0);
}

/* ln p_ws on one branch (ice below 0 degC, water above) for Newton. */
static double ln_pws_branch(double tk, int ice, double *dln)
{
    /* evaluate the chosen branch even a little past 0 degC */
    return ln_pws(ice ? fmin(tk, T_ABS - 1e-9) : fmax(tk, T_ABS), dln);
}

double sb_psy_tdp(double w, double p)
{
    double pw = sb_psy_pw_w(w, p), target, g, t;
    int ice;

    if (!(pw > 1e-3))
        return -100.0;
    target = log(pw);
    /* eqs. 5 and 6 do not meet exactly at 0 degC (611.15 vs 611.21 Pa):
     * pick the branch by the water value there, a pw in the gap is 0 degC */
    ice = target < ln_pws(T_ABS, NULL);
    if (ice && target > ln_pws(T_ABS - 1e-9, NULL))
        return 0.0;
    /* Magnus first guess (within ~0.5 K), then Newton on eq. 5 or 6 */
    g = log(pw / 611.2);
    t = 243.12 * g / (17.62 - g) + T_ABS;
    for (int i = 0; i < 12; i++) {
        double d, f = ln_pws_branch(t, ice, &d) - target, step = f / d;

        t -= step;
        if (fabs(step) < 1e-9)
            break;
    }
    t = ice ? fmin(t, T_ABS) : fmax(t, T_ABS);
    return clampd(t - T_ABS, -100.0, 200.0);
}

double sb_psy_h(double t, double w)
{
    return 1006.0 * t + w * (2501000.0 + 1860.0 * t);
}

double sb_psy_w_h(double t, double h)
{
    return (h - 1006.0 * t) / (2501000.0 + 1860.0 * t);
}

double sb_psy_hsat(double t, double p)
{
    return sb_psy_h(t, sb_psy_wsat(t, p));
}

/* d h_sat / dt, analytic. */
static double dhsat(double t, double p)
{
    double d, pws = exp(ln_pws(t + T_ABS, &d)), ws = sb_psy_w_pw(pws, p);
    double dws = EPS_W * p / ((p - pws) * (p - pws)) * pws * d;

    return 1006.0 + 1860.0 * ws + (2501000.0 + 1860.0 * t) * dws;
}

double sb_psy_tsat_h(double h, double p)
{
    /* h_sat is increasing and convex, and h/1006 (dry air of the same
     * enthalpy) lies above the root, so Newton descends monotonically */
    double t = clampd(h / 1006.0, -50.0, 90.0);

    for (int i = 0; i < 40; i++) {
        double step = (sb_psy_hsat(t, p) - h) / dhsat(t, p);

        t -= step;
        if (fabs(step) < 1e-7)
            break;
    }
    return t;
}

/* equip.c - PI, heat-exchanger effectiveness, DOE-2 chiller (see equip.h). */
#include <math.h>

#include "sim/plant/equip.h"

double sb_pi_step(struct sb_pi *pi, double e, double dt)
{
    double integ = pi->integ + pi->ki * e * dt;
    double u = pi->kp * e + integ;

    /* conditional integration (anti-windup): freeze the integrator while
     * the output is saturated and the error pushes further into the limit */
    if ((u > pi->hi && e > 0) || (u < pi->lo && e < 0))
        u = pi->kp * e + pi->integ;
    else
        pi->integ = integ;
    pi->integ = fmax(pi->lo, fmin(pi->hi, pi->integ));
    return fmax(pi->lo, fmin(pi->hi, u));
}

void sb_pi_reset(struct sb_pi *pi, double out)
{
    pi->integ = fmax(pi->lo, fmin(pi->hi, out));
}

double sb_hx_eff_counterflow(double ntu, double cr)
{
    double x;

    if (ntu <= 0)
        return 0.0;
    if (cr < 1e-9)
        return 1.0 - exp(-ntu);
    if (fabs(1.0 - cr) < 1e-9)
        return ntu / (1.0 + ntu);
    x = exp(-ntu * (1.0 - cr));
    return (1.0 - x) / (1.0 - cr * x);
}

double sb_hx_ntu_for(double eps, double cr)
{
    double lo = 0.0, hi = 50.0;

    for (int i = 0; i < 100; i++) {
        double mid = 0.5 * (lo + hi);

        if (sb_hx_eff_counterflow(mid, cr) < eps)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* DOE-2 default reciprocating chiller coefficients (see equip.h) */
static const double CAPFT[6] = { 0.507883, 0.145228, -0.625644e-2, -0.111780e-2, -0.129600e-3, -0.281880e-3 };
static const double EIRFT[6] = { 1.03076, -0.103536, 0.710208e-2, 0.931860e-2, 0.317520e-3, -0.104328e-2 };
static const double EIRFPLR[3] = { 0.088065, 1.137742, -0.225806 };

static double cond_temp(double t_oa)
{
    return fmax(10.0, fmin(40.0, t_oa - 5.6));
}

static double biquad(const double c[6], double x, double y)
{
    return c[0] + c[1] * x + c[2] * x * x + c[3] * y + c[4] * y * y + c[5] * x * y;
}

double sb_chiller_capft(double t_chw, double t_oa)
{
    return biquad(CAPFT, t_chw, cond_temp(t_oa));
}

double sb_chiller_eirft(double t_chw, double t_oa)
{
    return biquad(EIRFT, t_chw, cond_temp(t_oa));
}

double sb_chiller_eirfplr(double plr)
{
    return EIRFPLR[0] + EIRFPLR[1] * plr + EIRFPLR[2] * plr * plr;
}

double sb_chiller_power(double cap_kw, double cop, double t_chw, double t_oa, double load_kw,
                        double *delivered_kw)
{
    double avail = cap_kw * sb_chiller_capft(t_chw, t_oa);
    double q = fmax(0.0, fmin(load_kw, avail)), plr, p;

    if (delivered_kw)
        *delivered_kw = q;
    if (q <= 0 || avail <= 0)
        return 0.0;
    plr = q / avail;
    /* P = Cap(T) / COP_ref * EIRFT * EIRFPLR (DOE-2.1E); below PLR_min the
     * compressor cycles, so power scales linearly from the PLR_min point */
    if (plr < SB_CHILLER_PLR_MIN)
        p = avail / cop * sb_chiller_eirft(t_chw, t_oa) * sb_chiller_eirfplr(SB_CHILLER_PLR_MIN) *
            plr / SB_CHILLER_PLR_MIN;
    else
        p = avail / cop * sb_chiller_eirft(t_chw, t_oa) * sb_chiller_eirfplr(plr);
    return p;
}

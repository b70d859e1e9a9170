/* equip.c - PI, heat-exchanger effectiveness, cooling coil, DOE-2 chiller
 * (see equip.h). */
#include <math.h>

#include "sim/plant/equip.h"
#include "sim/plant/psychro.h"
#include "sim/plant/zone.h"

#define CP_WATER 4186.0     /* J/(kg K) */

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

/* One coil, its conductances and fixed inlet quantities. */
struct coil {
    const struct sb_coil_in *in;
    double ca, cw;          /* air and water capacity rates, W/K */
    double ua_i;            /* water-side conductance, W/K */
    double r;               /* water side's share of the resistance: T_s = T_w + r (T_a - T_w) */
    double hs_wi;           /* saturated-air enthalpy at the entering water temperature */
    double t_dp;            /* entering air's dew point */
};

/* State of a coil split at a dry/wet boundary: the dry part (area share f)
 * at the air inlet end, the wet part at the air outlet end. */
struct split {
    double f;               /* dry share of the area, 0..1 */
    double t_ax, t_wx;      /* air and water temperatures at the boundary */
    double q_d, q_w;        /* heat of the dry and the wet part, W */
};

/* Dry counter-flow eps-NTU for the area share f. */
static double dry_eps_cmin(const struct coil *c, double f)
{
    double cmin = fmin(c->ca, c->cw), cmax = fmax(c->ca, c->cw);

    return sb_hx_eff_counterflow(f * c->in->ua / cmin, cmin / cmax) * cmin;
}

/* Wet counter-flow part of area share g, air entering with enthalpy h_a,
 * water from t_wi to t_wo (which fixes c_s): heat, W (Braun et al. 1989:
 * eps-NTU on enthalpy, the air side's conductance ua_o / cp in series with
 * the water side's ua_i / c_s). */
static double wet_q(const struct coil *c, double g, double h_a, double t_wo)
{
    const struct sb_coil_in *in = c->in;
    double dt = fmax(t_wo - in->t_wi, 0.05);
    double cs = (sb_psy_hsat(in->t_wi + dt, in->p) - c->hs_wi) / dt;
    double ua_h = g / (SB_CP_AIR / in->ua_o + cs / c->ua_i);    /* kg/s */
    double cws = c->cw / cs, cmin = fmin(in->m_a, cws), cmax = fmax(in->m_a, cws);

    if (!(g > 0) || h_a <= c->hs_wi)
        return 0;
    return sb_hx_eff_counterflow(ua_h / cmin, cmin / cmax) * cmin * (h_a - c->hs_wi);
}

/* The split at dry share f with boundary water temperature x: fills *s and
 * returns what the wet part makes of the entering water minus x. */
static double split_eval(const struct coil *c, double f, double ed, double x, struct split *s)
{
    const struct sb_coil_in *in = c->in;

    s->f = f;
    s->t_wx = x;
    s->q_d = ed * (in->t_ai - x);
    s->t_ax = in->t_ai - s->q_d / c->ca;
    s->q_w = wet_q(c, 1.0 - f, sb_psy_h(s->t_ax, in->w_ai), x);
    return in->t_wi + s->q_w / c->cw - x;
}

/* The coil split at dry share f: the boundary water temperature must be
 * what the wet part makes of the entering water, with the air reaching the
 * wet part at what the dry part leaves of it.  Nearly linear in it (only
 * c_s and the enthalpy's W t term bend it): from the guess x0, one
 * fixed-point step, then secant. */
static void split_solve(const struct coil *c, double f, double x0, struct split *s)
{
    const struct sb_coil_in *in = c->in;
    double ed = dry_eps_cmin(c, f), r0 = split_eval(c, f, ed, x0, s), x1, r1;

    if (fabs(r0) <= 1e-6)
        return;
    x1 = fmin(in->t_ai, fmax(in->t_wi, x0 + r0));
    r1 = split_eval(c, f, ed, x1, s);
    for (int i = 0; i < 12 && fabs(r1) > 1e-6 && r1 != r0; i++) {
        double x = fmin(in->t_ai, fmax(in->t_wi, x1 - r1 * (x1 - x0) / (r1 - r0)));

        x0 = x1, r0 = r1;
        x1 = x;
        r1 = split_eval(c, f, ed, x1, s);
    }
}

/* Surface temperature at the boundary minus the dew point: > 0 means the
 * boundary surface is still dry (more of the coil must be wet). */
static double split_gap(const struct coil *c, const struct split *s)
{
    return s->t_wx + c->r * (s->t_ax - s->t_wx) - c->t_dp;
}

/* Leaving air of the wet part of share g entered by air at (t_a, w_ai)
 * that gives q: the effective surface (apparatus dew point) and the part's
 * bypass factor put it on the straight line to saturation. */
static void wet_leaving(const struct coil *c, double g, double t_a, double q, struct sb_coil_out *o)
{
    const struct sb_coil_in *in = c->in;
    double bf = exp(-g * in->ua_o / c->ca), h_a = sb_psy_h(t_a, in->w_ai), hs, ts, ws;

    o->t_ao = t_a;
    o->w_ao = in->w_ai;
    o->t_adp = c->t_dp;
    if (1.0 - bf < 1e-9 || !(q > 0))
        return;
    hs = h_a - q / in->m_a / (1.0 - bf);
    ts = sb_psy_tsat_h(hs, in->p);
    ws = sb_psy_wsat(ts, in->p);
    o->t_ao = ts + bf * (t_a - ts);
    o->w_ao = fmin(in->w_ai, ws + bf * (in->w_ai - ws));
    o->t_adp = ts;
}

/* Where the dry/wet boundary sits: regula falsi (Illinois) on the dry share
 * f, the boundary surface falling monotonically as f grows.  g1 is the gap
 * of the completely dry coil (f = 1) at its air outlet; the bracket starts
 * narrow around the caller's hint (last sub-step's answer) when it has one. */
static void coil_wet(const struct coil *c, double g1, double hint, struct sb_coil_out *o)
{
    struct split s;
    double lo = 0, hi = 1, g0 = 1, f, g, x = c->in->t_wi + 0.5 * (c->t_dp - c->in->t_wi);
    int side = 0;

    if (hint > 0.02 && hint < 0.98) {
        split_solve(c, hint, x, &s);
        x = s.t_wx;
        if ((g = split_gap(c, &s)) > 0)
            lo = hint, g0 = g, f = hint + 0.02;
        else
            hi = hint, g1 = g, f = hint - 0.02;
        split_solve(c, f, x, &s);
        if ((g = split_gap(c, &s)) > 0)
            lo = f, g0 = g;
        else
            hi = f, g1 = g;
    }
    if (lo == 0) {
        split_solve(c, 0.0, x, &s);
        g0 = split_gap(c, &s);
    }
    /* g0 <= 0 at f = 0: even the air inlet end is wet, the whole coil is */
    for (int i = 0; i < 40 && g0 > 0; i++) {
        f = (lo * g1 - hi * g0) / (g1 - g0);
        split_solve(c, f, s.t_wx, &s);
        g = split_gap(c, &s);
        if (fabs(g) < 1e-4 || hi - lo < 1e-7)
            break;
        if (g > 0) {
            lo = f, g0 = g;
            if (side == 1)
                g1 *= 0.5;
            side = 1;
        } else {
            hi = f, g1 = g;
            if (side == -1)
                g0 *= 0.5;
            side = -1;
        }
    }
    o->q = s.q_d + s.q_w;
    o->t_wo = s.t_wx + s.q_d / c->cw;
    o->f_dry = s.f;
    wet_leaving(c, 1.0 - s.f, s.t_ax, s.q_w, o);
    o->wet = s.q_w > 0;
}

void sb_coil_cool(const struct sb_coil_in *in, struct sb_coil_out *out)
{
    struct coil c = { .in = in };
    double ws, t_sc;

    *out = (struct sb_coil_out){ .t_ao = in->t_ai, .w_ao = in->w_ai, .t_wo = in->t_wi,
                                 .t_adp = in->t_ai, .bf = 1.0, .f_dry = 1.0 };
    if (!(in->m_a > 0) || !(in->m_w > 0) || !(in->t_ai > in->t_wi) || !(in->ua > 0) ||
        !(in->ua_o > in->ua))
        return;
    c.ca = in->m_a * SB_CP_AIR;
    c.cw = in->m_w * CP_WATER;
    c.ua_i = 1.0 / (1.0 / in->ua - 1.0 / in->ua_o);
    c.r = in->ua / c.ua_i;
    out->bf = exp(-in->ua_o / c.ca);
    /* completely dry */
    out->q = dry_eps_cmin(&c, 1.0) * (in->t_ai - in->t_wi);
    out->t_ao = in->t_ai - out->q / c.ca;
    out->t_wo = in->t_wi + out->q / c.cw;
    out->t_adp = in->t_ai - (in->t_ai - out->t_ao) / (1.0 - out->bf);
    /* dry if even the coldest surface (air outlet, water inlet) stays
     * above the dew point */
    t_sc = in->t_wi + c.r * (out->t_ao - in->t_wi);
    if (in->w_ai <= sb_psy_wsat(t_sc, in->p))
        return;
    c.t_dp = sb_psy_tdp(in->w_ai, in->p);
    c.hs_wi = sb_psy_hsat(in->t_wi, in->p);
    coil_wet(&c, t_sc - c.t_dp, in->f_hint, out);
    ws = sb_psy_wsat(out->t_ao, in->p);
    if (out->w_ao > ws)
        out->w_ao = ws;
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

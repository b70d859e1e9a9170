/* zone.c - ISO 13790 5R1C zone, CO2 and moisture balances (see zone.h). */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "sim/plant/zone.h"

#define H_IS 3.45           /* W/(m2 K), ISO 13790 7.2.2.2 */
#define H_MS 9.1            /* W/(m2 K), ISO 13790 12.2.2 */
#define LAMBDA_AT 4.5       /* A_t / A_f, ISO 13790 7.2.2.2 */

int sb_zone_init(struct sb_zone *z, const struct sb_zone_params *p, double t_init, double co2_init)
{
    double h_op;

    if (!(p->floor_area > 0) || !(p->volume > 0) || !(p->wall_area >= 0) || !(p->u_wall >= 0) ||
        p->window_area < 0 || p->u_window < 0 || p->g_window < 0 || p->g_window > 1 ||
        !(p->am_factor > 0) || !(p->cm_per_area > 0) || p->infiltration_ach < 0 ||
        p->c_air_factor < 0 || !(p->moist_cap_factor >= 0))
        return SB_EINVAL;
    memset(z, 0, sizeof *z);
    z->p = *p;
    z->a_m = p->am_factor * p->floor_area;
    z->a_t = LAMBDA_AT * p->floor_area;
    z->c_m = p->cm_per_area * p->floor_area;
    z->c_air = p->c_air_factor * SB_RHO_CP_AIR * p->volume;
    z->h_inf = SB_RHO_CP_AIR * p->infiltration_ach * p->volume / 3600.0;
    z->h_tr_w = p->u_window * p->window_area;
    z->h_tr_is = H_IS * z->a_t;
    z->h_tr_ms = H_MS * z->a_m;
    h_op = p->u_wall * p->wall_area;
    /* ISO 13790 eq. 63: H_tr,em = 1 / (1/H_tr,op - 1/H_tr,ms) */
    if (h_op >= z->h_tr_ms)
        return SB_EINVAL;
    z->h_tr_em = h_op > 0 ? 1.0 / (1.0 / h_op - 1.0 / z->h_tr_ms) : 0.0;  /* interior zone */
    z->t_air = z->t_s = z->t_m = t_init;
    z->co2 = co2_init;
    /* the air itself is the least a zone can buffer */
    z->m_moist = fmax(1.0, p->moist_cap_factor) * SB_RHO_AIR * p->volume;
    z->m_inf = SB_RHO_AIR * p->infiltration_ach * p->volume / 3600.0;
    z->w = SB_ZONE_W_INIT;
    return 0;
}

/* Gain split of ISO 13790 C.2 (eqs. C.1-C.3). */
static void split_gains(const struct sb_zone *z, const struct sb_zone_in *in, double *ia,
                        double *st, double *m, double *lost)
{
    double rad = 0.5 * in->phi_int + in->phi_sol;
    double f_m = z->a_m / z->a_t, f_w = z->h_tr_w / (H_MS * z->a_t);

    *ia = 0.5 * in->phi_int;
    *m = f_m * rad;
    *st = (1.0 - f_m - f_w) * rad;
    *lost = f_w * rad;
}

/* Ventilation conductance and its source temperature: infiltration at the
 * outdoor temperature in parallel with the supply air (ISO 13790 9.3,
 * theta_sup as the combined supply temperature). */
static void ventilation(const struct sb_zone *z, const struct sb_zone_in *in, double *h_ve,
                        double *t_sup)
{
    double h_sup = in->m_sup * SB_CP_AIR;

    *h_ve = z->h_inf + h_sup;
    *t_sup = *h_ve > 0 ? (z->h_inf * in->t_out + h_sup * in->t_sup) / *h_ve : in->t_out;
}

/* Solves the tridiagonal 3x3 system a_i x_{i-1} + b_i x_i + c_i x_{i+1} = d_i
 * (node order air, surface, mass) by the Thomas algorithm. */
static void solve3(const double a[3], const double b[3], const double c[3], const double d[3],
                   double x[3])
{
    double cp[3], dp[3];

    cp[0] = c[0] / b[0];
    dp[0] = d[0] / b[0];
    for (int i = 1; i < 3; i++) {
        double den = b[i] - a[i] * cp[i - 1];

        cp[i] = c[i] / den;
        dp[i] = (d[i] - a[i] * dp[i - 1]) / den;
    }
    x[2] = dp[2];
    x[1] = dp[1] - cp[1] * x[2];
    x[0] = dp[0] - cp[0] * x[1];
}

/* Builds and solves the node balances; ca, cm are C/dt (0 for steady). */
static void solve_nodes(const struct sb_zone *z, const struct sb_zone_in *in, double ca, double cm,
                        double x[3])
{
    double ia, st, m, lost, h_ve, t_sup;
    double a[3], b[3], c[3], d[3];

    split_gains(z, in, &ia, &st, &m, &lost);
    ventilation(z, in, &h_ve, &t_sup);
    /* air: C_a/dt (T_a - T_a0) = H_ve (T_sup - T_a) + H_is (T_s - T_a) + Phi_ia + Phi_hc */
    a[0] = 0;
    b[0] = ca + h_ve + z->h_tr_is;
    c[0] = -z->h_tr_is;
    d[0] = ca * z->t_air + h_ve * t_sup + ia + in->phi_hc;
    /* surface: 0 = H_is (T_a - T_s) + H_w (T_e - T_s) + H_ms (T_m - T_s) + Phi_st */
    a[1] = -z->h_tr_is;
    b[1] = z->h_tr_is + z->h_tr_w + z->h_tr_ms;
    c[1] = -z->h_tr_ms;
    d[1] = z->h_tr_w * in->t_out + st;
    /* mass: C_m/dt (T_m - T_m0) = H_ms (T_s - T_m) + H_em (T_e - T_m) + Phi_m */
    a[2] = -z->h_tr_ms;
    b[2] = cm + z->h_tr_ms + z->h_tr_em;
    c[2] = 0;
    d[2] = cm * z->t_m + z->h_tr_em * in->t_out + m;
    solve3(a, b, c, d, x);
}

void sb_zone_steady(const struct sb_zone *z, const struct sb_zone_in *in, double *t_air,
                    double *t_s, double *t_m)
{
    double x[3];

    solve_nodes(z, in, 0.0, 0.0, x);
    *t_air = x[0];
    *t_s = x[1];
    *t_m = x[2];
}

/* Well-mixed CO2 balance, implicit: V dC/dt = Q_sup (C_sup - C)
 * + Q_inf (C_out - C) + G * 1e6. */
static void co2_step(struct sb_zone *z, const struct sb_zone_in *in, double dt)
{
    double v = z->p.volume, q_sup = in->m_sup / SB_RHO_AIR;
    double q_inf = z->p.infiltration_ach * v / 3600.0;

    z->co2 = (v / dt * z->co2 + q_sup * in->co2_sup + q_inf * in->co2_out + in->co2_gen * 1e6) /
             (v / dt + q_sup + q_inf);
}

/* Well-mixed moisture balance, implicit (see zone.h). */
static void moisture_step(struct sb_zone *z, const struct sb_zone_in *in, double dt)
{
    double m = z->m_moist / dt;

    z->w = (m * z->w + in->m_sup * in->w_sup + z->m_inf * in->w_out + in->w_gen) /
           (m + in->m_sup + z->m_inf);
}

void sb_zone_step(struct sb_zone *z, const struct sb_zone_in *in, double dt, struct sb_zone_out *out)
{
    double x[3], ia, st, m, lost;
    double u0 = z->c_air * z->t_air + z->c_m * z->t_m, w0 = z->w;

    solve_nodes(z, in, z->c_air / dt, z->c_m / dt, x);
    z->t_air = x[0];
    z->t_s = x[1];
    z->t_m = x[2];
    co2_step(z, in, dt);
    moisture_step(z, in, dt);
    if (!out)
        return;
    split_gains(z, in, &ia, &st, &m, &lost);
    out->phi_hvac = in->m_sup * SB_CP_AIR * (in->t_sup - z->t_air) + in->phi_hc;
    out->phi_inf = z->h_inf * (in->t_out - z->t_air);
    out->phi_win = z->h_tr_w * (in->t_out - z->t_s);
    out->phi_em = z->h_tr_em * (in->t_out - z->t_m);
    out->phi_win_rad = lost;
    out->stored = z->c_air * z->t_air + z->c_m * z->t_m - u0;
    out->w_sup_net = in->m_sup * (in->w_sup - z->w);
    out->w_inf = z->m_inf * (in->w_out - z->w);
    out->w_stored = z->m_moist * (z->w - w0);
}

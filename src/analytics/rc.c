/* rc.c - grey-box RC zone models: matrices, exact discretisation,
 * simulation, observer, ideal-thermostat prediction, identification and
 * the JSON form (see rc.h and docs/internals/analytics-rc.md). */
#include <jansson.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/rc.h"
#include "core/err.h"

#define NAUG (SB_RC_NX + SB_RC_NU)  /* augmented matrix order for the ZOH */
#define RHO_AIR 1.2                 /* kg/m3, standard air */
#define CP_AIR 1005.0               /* J/(kg K) */
#define DAY_S 86400.0

/* ------------------------------------------------------------------ */
/* parameters and continuous-time matrices                             */
/* ------------------------------------------------------------------ */

static int in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int sb_rc_params_check(const struct sb_rc_params *p, char *err, size_t errlen)
{
    const char *bad = NULL;

    if (p->structure != SB_RC_2R2C && p->structure != SB_RC_3R2C)
        bad = "structure: must be 2 (2R2C) or 3 (3R2C)";
    else if (!in_range(p->c_air, 1e2, 1e12))
        bad = "c_air: must be within 1e2..1e12 J/K";
    else if (!in_range(p->c_mass, 1e2, 1e12))
        bad = "c_mass: must be within 1e2..1e12 J/K";
    else if (!in_range(p->r_air_mass, 1e-7, 10))
        bad = "r_air_mass: must be within 1e-7..10 K/W";
    else if (!in_range(p->r_mass_out, 1e-7, 10))
        bad = "r_mass_out: must be within 1e-7..10 K/W";
    else if (p->structure == SB_RC_3R2C && !in_range(p->r_air_out, 1e-7, 10))
        bad = "r_air_out: must be within 1e-7..10 K/W";
    else if (!in_range(p->a_sol_air, 0, 1e5) || !in_range(p->a_sol_mass, 0, 1e5))
        bad = "a_sol_air/a_sol_mass: must be within 0..1e5 m2";
    else if (!in_range(p->g_occ, 0, 1e7))
        bad = "g_occ: must be within 0..1e7 W per unit";
    else if (!in_range(p->g_gains, 0, 10))
        bad = "g_gains: must be within 0..10";
    else if (!in_range(p->f_rad, 0, 1))
        bad = "f_rad: must be within 0..1";
    else if (!in_range(p->q0, -1e7, 1e7))
        bad = "q0: must be within -1e7..1e7 W";
    if (!bad)
        return 0;
    sb_errf(err, errlen, "%s", bad);
    return SB_EINVAL;
}

void sb_rc_continuous(const struct sb_rc_params *p, double ac[SB_RC_NX][SB_RC_NX],
                      double bc[SB_RC_NX][SB_RC_NU])
{
    double h_im = 1.0 / p->r_air_mass, h_mo = 1.0 / p->r_mass_out;
    double h_io = p->structure == SB_RC_3R2C ? 1.0 / p->r_air_out : 0.0;
    double ci = p->c_air, cm = p->c_mass, f = p->f_rad;

    ac[0][0] = -(h_im + h_io) / ci;
    ac[0][1] = h_im / ci;
    ac[1][0] = h_im / cm;
    ac[1][1] = -(h_im + h_mo) / cm;
    bc[0][SB_RC_U_TOUT] = h_io / ci;
    bc[1][SB_RC_U_TOUT] = h_mo / cm;
    bc[0][SB_RC_U_SOLAR] = p->a_sol_air / ci;
    bc[1][SB_RC_U_SOLAR] = p->a_sol_mass / cm;
    bc[0][SB_RC_U_Q] = 1000.0 / ci;     /* kW -> W */
    bc[1][SB_RC_U_Q] = 0.0;
    bc[0][SB_RC_U_OCC] = (1.0 - f) * p->g_occ / ci;
    bc[1][SB_RC_U_OCC] = f * p->g_occ / cm;
    bc[0][SB_RC_U_GAINS] = (1.0 - f) * 1000.0 * p->g_gains / ci;
    bc[1][SB_RC_U_GAINS] = f * 1000.0 * p->g_gains / cm;
    bc[0][SB_RC_U_ONE] = p->q0 / ci;
    bc[1][SB_RC_U_ONE] = 0.0;
}

/* ------------------------------------------------------------------ */
/* matrix exponential (scaling and squaring, diagonal Pade (6,6))      */
/* ------------------------------------------------------------------ */

static void matmul(const double *a, const double *b, double *c)
{
    for (int i = 0; i < NAUG; i++)
        for (int j = 0; j < NAUG; j++) {
            double s = 0;

            for (int k = 0; k < NAUG; k++)
                s += a[i * NAUG + k] * b[k * NAUG + j];
            c[i * NAUG + j] = s;
        }
}

static double norm1(const double *a)
{
    double best = 0;

    for (int j = 0; j < NAUG; j++) {
        double s = 0;

        for (int i = 0; i < NAUG; i++)
            s += fabs(a[i * NAUG + j]);
        best = fmax(best, s);
    }
    return best;
}

/* Solves d x = n for the NAUG columns of n in place (x overwrites n) by
 * Gaussian elimination with partial pivoting.  Written out rather than
 * LAPACKE_dgesv: OpenBLAS's getrf wakes its thread pool even at 8 x 8
 * (measured 12 us against 2 us a solve here), and a fit discretises
 * thousands of times.  Returns 0 or SB_ERANGE (singular). */
static int lu_solve(double *d, double *n)
{
    for (int c = 0; c < NAUG; c++) {
        int p = c;

        for (int r = c + 1; r < NAUG; r++)
            if (fabs(d[r * NAUG + c]) > fabs(d[p * NAUG + c]))
                p = r;
        if (!(fabs(d[p * NAUG + c]) > 0))
            return SB_ERANGE;
        for (int j = 0; p != c && j < NAUG; j++) {
            double t = d[c * NAUG + j];

            d[c * NAUG + j] = d[p * NAUG + j];
            d[p * NAUG + j] = t;
            t = n[c * NAUG + j];
            n[c * NAUG + j] = n[p * NAUG + j];
            n[p * NAUG + j] = t;
        }
        for (int r = c + 1; r < NAUG; r++) {
            double f = d[r * NAUG + c] / d[c * NAUG + c];

            for (int j = c; j < NAUG; j++)
                d[r * NAUG + j] -= f * d[c * NAUG + j];
            for (int j = 0; j < NAUG; j++)
                n[r * NAUG + j] -= f * n[c * NAUG + j];
        }
    }
    for (int r = NAUG - 1; r >= 0; r--)
        for (int j = 0; j < NAUG; j++) {
            double s = n[r * NAUG + j];

            for (int k = r + 1; k < NAUG; k++)
                s -= d[r * NAUG + k] * n[k * NAUG + j];
            n[r * NAUG + j] = s / d[r * NAUG + r];
        }
    return 0;
}

/* e = exp(m); m is scaled in place.  The diagonal Pade (6,6) approximant
 * of m / 2^s with ||m / 2^s||_1 <= 1/2 is accurate to about double
 * precision (Moler & Van Loan, SIAM Review 45(1), 2003, method 3), then
 * squared s times. */
static int expm(double *m, double *e)
{
    enum { Q = 6 };
    double n[NAUG * NAUG], d[NAUG * NAUG], x[NAUG * NAUG], t[NAUG * NAUG], c = 0.5, nm = norm1(m);
    int s = nm > 0.5 ? (int)ceil(log2(nm / 0.5)) : 0, sign = -1;

    if (!isfinite(nm) || s > 200)
        return SB_ERANGE;
    for (int i = 0; i < NAUG * NAUG; i++)
        m[i] = ldexp(m[i], -s);
    memcpy(x, m, sizeof x);
    for (int i = 0; i < NAUG * NAUG; i++) {
        double id = i % (NAUG + 1) == 0 ? 1.0 : 0.0;

        n[i] = id + c * m[i];
        d[i] = id - c * m[i];
    }
    for (int k = 2; k <= Q; k++) {
        c = c * (Q - k + 1) / (k * (2 * Q - k + 1));
        matmul(m, x, t);
        memcpy(x, t, sizeof x);
        sign = -sign;
        for (int i = 0; i < NAUG * NAUG; i++) {
            n[i] += c * x[i];
            d[i] += sign * c * x[i];
        }
    }
    if (lu_solve(d, n) != 0)
        return SB_ERANGE;
    for (int k = 0; k < s; k++) {
        matmul(n, n, t);
        memcpy(n, t, sizeof n);
    }
    memcpy(e, n, sizeof n);
    return 0;
}

int sb_rc_discretize(const struct sb_rc_params *p, double dt_s, struct sb_rc_disc *d)
{
    double ac[SB_RC_NX][SB_RC_NX], bc[SB_RC_NX][SB_RC_NU], m[NAUG * NAUG], e[NAUG * NAUG];
    int rc;

    if (!in_range(dt_s, 1.0, DAY_S) || sb_rc_params_check(p, NULL, 0) != 0)
        return SB_EINVAL;
    sb_rc_continuous(p, ac, bc);
    memset(m, 0, sizeof m);
    for (int i = 0; i < SB_RC_NX; i++) {
        for (int j = 0; j < SB_RC_NX; j++)
            m[i * NAUG + j] = ac[i][j] * dt_s;
        for (int j = 0; j < SB_RC_NU; j++)
            m[i * NAUG + SB_RC_NX + j] = bc[i][j] * dt_s;
    }
    if ((rc = expm(m, e)) != 0)
        return rc;
    d->dt_s = dt_s;
    for (int i = 0; i < SB_RC_NX; i++) {
        for (int j = 0; j < SB_RC_NX; j++)
            d->a[i][j] = e[i * NAUG + j];
        for (int j = 0; j < SB_RC_NU; j++)
            d->b[i][j] = e[i * NAUG + SB_RC_NX + j];
    }
    for (int i = 0; i < SB_RC_NX * SB_RC_NX; i++)
        if (!isfinite(d->a[i / SB_RC_NX][i % SB_RC_NX]))
            return SB_ERANGE;
    return 0;
}

/* ------------------------------------------------------------------ */
/* simulation, observer, ideal thermostat                              */
/* ------------------------------------------------------------------ */

void sb_rc_step(const struct sb_rc_disc *d, double x[SB_RC_NX], const double u[SB_RC_NU])
{
    double y[SB_RC_NX];

    for (int i = 0; i < SB_RC_NX; i++) {
        double s = d->a[i][0] * x[0] + d->a[i][1] * x[1];

        for (int j = 0; j < SB_RC_NU; j++)
            s += d->b[i][j] * u[j];
        y[i] = s;
    }
    x[0] = y[0];
    x[1] = y[1];
}

/* Input vector of step k; q_kw is left 0 when absent. */
static void input_at(const struct sb_rc_inputs *in, size_t k, double u[SB_RC_NU])
{
    u[SB_RC_U_TOUT] = in->t_out[k];
    u[SB_RC_U_SOLAR] = in->solar[k];
    u[SB_RC_U_Q] = in->q_kw ? in->q_kw[k] : 0.0;
    u[SB_RC_U_OCC] = in->occ ? in->occ[k] : 0.0;
    u[SB_RC_U_GAINS] = in->gains_kw ? in->gains_kw[k] : 0.0;
    u[SB_RC_U_ONE] = 1.0;
}

static int inputs_ok(const struct sb_rc_inputs *in, int need_q)
{
    return in && in->t_out && in->solar && (!need_q || in->q_kw);
}

int sb_rc_simulate(const struct sb_rc_disc *d, const double x0[SB_RC_NX], const struct sb_rc_inputs *in,
                   size_t n, double *t_zone, double *t_mass)
{
    double x[SB_RC_NX], u[SB_RC_NU];

    if (!d || !x0 || !inputs_ok(in, 1) || (n && !t_zone))
        return SB_EINVAL;
    x[0] = x0[0];
    x[1] = x0[1];
    for (size_t k = 0; k < n; k++) {
        input_at(in, k, u);
        sb_rc_step(d, x, u);
        t_zone[k] = x[0];
        if (t_mass)
            t_mass[k] = x[1];
    }
    return 0;
}

/* Mass temperature in steady state with the air held at t_air under u:
 * the fixed point of the mass row, a neutral start for the observer. */
static double mass_steady(const struct sb_rc_disc *d, double t_air, const double u[SB_RC_NU])
{
    double s = d->a[1][0] * t_air;

    for (int j = 0; j < SB_RC_NU; j++)
        s += d->b[1][j] * u[j];
    return d->a[1][1] < 1.0 ? s / (1.0 - d->a[1][1]) : t_air;
}

/* One observer update: predict with u, then correct with the measurement
 * y (NAN = none): the air takes the measured value, the mass moves by
 * gain times the surprise (innovation). */
static void observe_step(const struct sb_rc_disc *d, double gain, double x[SB_RC_NX],
                         const double u[SB_RC_NU], double y)
{
    sb_rc_step(d, x, u);
    if (isfinite(y)) {
        x[1] += gain * (y - x[0]);
        x[0] = y;
    }
}

int sb_rc_observe(const struct sb_rc_disc *d, double gain, const double *t_zone,
                  const struct sb_rc_inputs *in, size_t n, double x[SB_RC_NX])
{
    double u[SB_RC_NU];
    size_t k0 = 0;

    if (!d || !t_zone || !x || !inputs_ok(in, 1) || n == 0 || !in_range(gain, 0, SB_RC_GAIN_MAX))
        return SB_EINVAL;
    while (k0 < n && !isfinite(t_zone[k0]))
        k0++;
    if (k0 == n)
        return SB_EINVAL;
    input_at(in, k0, u);
    x[0] = t_zone[k0];
    x[1] = mass_steady(d, x[0], u);
    for (size_t k = k0; k + 1 < n; k++) {
        input_at(in, k, u);
        observe_step(d, gain, x, u, t_zone[k + 1]);
    }
    return 0;
}

/* Heat (kW) the thermostat asks for when the free-running end-of-step air
 * temperature would be t_free; bq is dT_air/dQ over the step. */
static double thermostat(double t_free, double bq, double hsp, double csp, double qh, double qc)
{
    if (isfinite(hsp) && t_free < hsp)
        return fmin((hsp - t_free) / bq, qh);
    if (isfinite(csp) && t_free > csp)
        return fmax((csp - t_free) / bq, -qc);
    return 0.0;
}

int sb_rc_predict_setpoints(const struct sb_rc_disc *d, const double x0[SB_RC_NX],
                            const struct sb_rc_inputs *in, const double *heat_sp,
                            const double *cool_sp, size_t n, double q_heat_max_kw,
                            double q_cool_max_kw, double *t_zone, double *q_kw)
{
    double x[SB_RC_NX], u[SB_RC_NU], bq;

    if (!d || !x0 || !inputs_ok(in, 0) || !heat_sp || !cool_sp || (n && (!t_zone || !q_kw)) ||
        !(q_heat_max_kw >= 0) || !(q_cool_max_kw >= 0) || !(d->b[0][SB_RC_U_Q] > 0))
        return SB_EINVAL;
    for (size_t k = 0; k < n; k++)
        if (heat_sp[k] > cool_sp[k])
            return SB_EINVAL;
    bq = d->b[0][SB_RC_U_Q];
    x[0] = x0[0];
    x[1] = x0[1];
    for (size_t k = 0; k < n; k++) {
        double q;

        input_at(in, k, u);
        u[SB_RC_U_Q] = 0.0;
        sb_rc_step(d, x, u);
        q = thermostat(x[0], bq, heat_sp[k], cool_sp[k], q_heat_max_kw, q_cool_max_kw);
        x[0] += bq * q;
        x[1] += d->b[1][SB_RC_U_Q] * q;
        t_zone[k] = x[0];
        q_kw[k] = q;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* helpers for the API                                                 */
/* ------------------------------------------------------------------ */

double sb_rc_q_from_airflow(double flow_m3s, double t_discharge, double t_zone)
{
    if (!isfinite(flow_m3s) || !isfinite(t_discharge) || !isfinite(t_zone))
        return NAN;
    return RHO_AIR * flow_m3s * CP_AIR * (t_discharge - t_zone) / 1000.0;
}

static double rad(double deg)
{
    return deg * M_PI / 180.0;
}

/* Where the sun is. */
struct sun {
    double cz;          /* cosine of the zenith angle */
    double az;          /* azimuth, radians clockwise from north */
    double e0;          /* extraterrestrial normal irradiance, W/m2 */
};

/* Astronomical Almanac low-precision sun (about 0.01 degree over
 * 1950-2050): mean longitude L, mean anomaly g, ecliptic longitude lambda,
 * obliquity eps, then right ascension and declination, the hour angle from
 * Greenwich mean sidereal time, and the earth-sun distance through g. */
static void sun_at(double lat_deg, double lon_deg, int64_t unix_ms, struct sun *s)
{
    double n = (double)unix_ms / 86400000.0 - 10957.5;    /* days since J2000.0 */
    double l = 280.460 + 0.9856474 * n, g = rad(357.528 + 0.9856003 * n);
    double lam = rad(l + 1.915 * sin(g) + 0.020 * sin(2 * g)), eps = rad(23.439 - 4e-7 * n);
    double ra = atan2(cos(eps) * sin(lam), cos(lam)), dec = asin(sin(eps) * sin(lam));
    double gmst_deg = 15.0 * (18.697374558 + 24.06570982441908 * n);
    double ha = rad(gmst_deg + lon_deg) - ra, phi = rad(lat_deg);

    s->cz = sin(phi) * sin(dec) + cos(phi) * cos(dec) * cos(ha);
    s->az = atan2(-sin(ha) * cos(dec), sin(dec) * cos(phi) - cos(dec) * sin(phi) * cos(ha));
    if (s->az < 0)
        s->az += 2 * M_PI;
    s->e0 = 1367.0 * (1.0 + 0.0334 * cos(g));
}

static int site_ok(double lat_deg, double lon_deg)
{
    return in_range(lat_deg, -90, 90) && in_range(lon_deg, -180, 180);
}

double sb_rc_clear_sky_ghi(double lat_deg, double lon_deg, int64_t unix_ms)
{
    struct sun s;

    if (!site_ok(lat_deg, lon_deg))
        return NAN;
    sun_at(lat_deg, lon_deg, unix_ms, &s);
    return s.cz > 0.0 ? 1098.0 * s.cz * exp(-0.059 / s.cz) : 0.0;
}

/* Diffuse fraction of global horizontal irradiance from the clearness
 * index kt (Erbs, Klein & Duffie 1982, Solar Energy 28(4):293-302). */
static double erbs(double kt)
{
    if (kt <= 0.22)
        return 1.0 - 0.09 * kt;
    if (kt <= 0.80)
        return 0.9511 + kt * (-0.1604 + kt * (4.388 + kt * (-16.638 + kt * 12.336)));
    return 0.165;
}

#define MIN_COS_Z 0.065     /* below ~86 degrees elevation the beam split is noise */
#define RHO_GROUND 0.2      /* ground reflectance */

double sb_rc_solar_facade(double ghi, double lat_deg, double lon_deg, int64_t unix_ms, double azimuth_deg)
{
    struct sun s;
    double kt, fd, dni, cos_inc;

    if (!isfinite(ghi) || !site_ok(lat_deg, lon_deg) || !in_range(azimuth_deg, 0, 360))
        return NAN;
    if (ghi <= 0)
        return 0.0;
    sun_at(lat_deg, lon_deg, unix_ms, &s);
    kt = fmin(1.0, ghi / (s.e0 * fmax(s.cz, MIN_COS_Z)));
    fd = s.cz > MIN_COS_Z ? erbs(kt) : 1.0;
    dni = s.cz > MIN_COS_Z ? (1.0 - fd) * ghi / s.cz : 0.0;
    /* vertical surface: cos(incidence) = sin(zenith) cos(sun az - wall az);
     * isotropic sky and ground each seen through half the hemisphere */
    cos_inc = fmax(0.0, sqrt(fmax(0.0, 1.0 - s.cz * s.cz)) * cos(s.az - rad(azimuth_deg)));
    return dni * cos_inc + 0.5 * fd * ghi + 0.5 * RHO_GROUND * ghi;
}

/* ------------------------------------------------------------------ */
/* identification                                                      */
/* ------------------------------------------------------------------ */

/* The fitted vector: every parameter, then the mass temperature at the
 * first training sample (the unmeasured state, estimated with the rest)
 * and the observer's mass gain. */
enum { P_CI, P_CM, P_RIM, P_RMO, P_RIO, P_ASI, P_ASM, P_GOCC, P_GG, P_FRAD, P_Q0, P_TM0, P_KM, P_N };

#define MIN_TRAIN_DAYS 3.0
#define LM_LAMBDA0 1e-3

/* Transform and bounds of each parameter: C and R are fitted as logs
 * (positive by construction and relative steps, as Bacher & Madsen do),
 * gains linearly within [lo, hi].  typ is the scale of a finite-difference
 * step for the linear ones. */
static const struct pspec {
    int log;
    double lo, hi, typ;
} PSPEC[P_N] = {
    [P_CI] = { 1, 1e3, 1e10, 0 },     [P_CM] = { 1, 1e4, 1e12, 0 },
    [P_RIM] = { 1, 1e-6, 5.0, 0 },    [P_RMO] = { 1, 1e-6, 5.0, 0 },
    [P_RIO] = { 1, 1e-6, 5.0, 0 },    [P_ASI] = { 0, 0, 1e4, 1.0 },
    [P_ASM] = { 0, 0, 1e4, 1.0 },     [P_GOCC] = { 0, 0, 1e6, 1.0 },
    [P_GG] = { 0, 0, 3.0, 0.01 },     [P_FRAD] = { 0, 0, 1.0, 0.01 },
    [P_Q0] = { 0, -1e6, 1e6, 10.0 },  [P_TM0] = { 0, -60, 80, 0.1 },
    [P_KM] = { 0, 0, SB_RC_GAIN_MAX, 0.01 },
};

struct fit {
    const double *t;            /* measured zone temperature, n */
    double dt;                  /* step, s */
    int structure;
    size_t n, ntr, k0;          /* samples, training samples, first finite sample */
    size_t hor, every;          /* horizon and trajectory spacing, steps */
    double *u;                  /* n x SB_RC_NU inputs */
    double *xs;                 /* n x SB_RC_NX observer states */
    size_t m, m_used;           /* residuals, those with a measurement */
    int np;                     /* free parameters */
    int map[P_N];               /* free index -> parameter */
    double th[P_N];             /* natural values (fixed ones stay here) */
    double *r, *rt, *jac;       /* residuals m, trial m, Jacobian m x np */
};

static double p_of_z(int i, double z)
{
    return PSPEC[i].log ? exp(z) : z;
}

static double z_of_p(int i, double v)
{
    return PSPEC[i].log ? log(v) : v;
}

static double z_lo(int i)
{
    return PSPEC[i].log ? log(PSPEC[i].lo) : PSPEC[i].lo;
}

static double z_hi(int i)
{
    return PSPEC[i].log ? log(PSPEC[i].hi) : PSPEC[i].hi;
}

static void params_from(const double th[P_N], int structure, struct sb_rc_params *p)
{
    *p = (struct sb_rc_params){
        .structure = structure, .c_air = th[P_CI], .c_mass = th[P_CM], .r_air_mass = th[P_RIM],
        .r_mass_out = th[P_RMO], .r_air_out = structure == SB_RC_3R2C ? th[P_RIO] : INFINITY,
        .a_sol_air = th[P_ASI], .a_sol_mass = th[P_ASM], .g_occ = th[P_GOCC],
        .g_gains = th[P_GG], .f_rad = th[P_FRAD], .q0 = th[P_Q0],
    };
}

static void theta_of(const struct fit *f, const double *z, double th[P_N])
{
    memcpy(th, f->th, sizeof f->th);
    for (int j = 0; j < f->np; j++)
        th[f->map[j]] = p_of_z(f->map[j], z[j]);
}

/* Runs the observer over [k0, end) from the mass temperature tm0,
 * storing the (posterior) state of every sample in f->xs. */
static void observe_fill(struct fit *f, const struct sb_rc_disc *d, size_t end, double tm0, double gain)
{
    double x[SB_RC_NX] = { f->t[f->k0], tm0 };

    f->xs[2 * f->k0] = x[0];
    f->xs[2 * f->k0 + 1] = x[1];
    for (size_t k = f->k0; k + 1 < end; k++) {
        observe_step(d, gain, x, &f->u[k * SB_RC_NU], f->t[k + 1]);
        f->xs[2 * (k + 1)] = x[0];
        f->xs[2 * (k + 1) + 1] = x[1];
    }
}

/* The training objective's residuals: open-loop trajectories of f->hor
 * steps started every f->every samples from the observer's state, in a
 * fixed order (start, lead) that is the residual index; a missing
 * measurement leaves a 0.  Returns the count. */
static size_t trajectories(const struct fit *f, const struct sb_rc_disc *d, double *r)
{
    size_t idx = 0;

    for (size_t s = f->k0; s + 1 < f->ntr; s += f->every) {
        double x[SB_RC_NX] = { f->xs[2 * s], f->xs[2 * s + 1] };

        for (size_t h = 1; h <= f->hor && s + h < f->ntr; h++, idx++) {
            sb_rc_step(d, x, &f->u[(s + h - 1) * SB_RC_NU]);
            r[idx] = isfinite(f->t[s + h]) ? x[0] - f->t[s + h] : 0.0;
        }
    }
    return idx;
}

/* Residual count of the objective, and how many have a measurement. */
static void count_residuals(struct fit *f)
{
    f->m = f->m_used = 0;
    for (size_t s = f->k0; s + 1 < f->ntr; s += f->every)
        for (size_t h = 1; h <= f->hor && s + h < f->ntr; h++) {
            f->m++;
            f->m_used += isfinite(f->t[s + h]);
        }
}

/* Residuals of the free vector z into r; returns the cost sum r^2, or
 * INFINITY when z gives no valid model. */
static double residuals(struct fit *f, const double *z, double *r)
{
    double th[P_N], cost = 0;
    struct sb_rc_params p;
    struct sb_rc_disc d;

    theta_of(f, z, th);
    params_from(th, f->structure, &p);
    if (sb_rc_discretize(&p, f->dt, &d) != 0)
        return INFINITY;
    observe_fill(f, &d, f->ntr, th[P_TM0], th[P_KM]);
    trajectories(f, &d, r);
    for (size_t i = 0; i < f->m; i++)
        cost += r[i] * r[i];
    return isfinite(cost) ? cost : INFINITY;
}

/* Forward-difference Jacobian at z (residuals f->r already computed). */
static int jacobian(struct fit *f, const double *z)
{
    double zt[P_N];

    memcpy(zt, z, (size_t)f->np * sizeof *z);
    for (int j = 0; j < f->np; j++) {
        int i = f->map[j];
        double h = PSPEC[i].log ? 1e-6 : 1e-6 * fmax(fabs(z[j]), PSPEC[i].typ);

        if (z[j] + h > z_hi(i))
            h = -h;
        zt[j] = z[j] + h;
        if (!isfinite(residuals(f, zt, f->rt)))
            return SB_ERANGE;
        for (size_t k = 0; k < f->m; k++)
            f->jac[k * (size_t)f->np + (size_t)j] = (f->rt[k] - f->r[k]) / h;
        zt[j] = z[j];
    }
    return 0;
}

/* Normal equations J'J and J'r. */
static void normal_eq(const struct fit *f, double *jtj, double *jtr)
{
    size_t np = (size_t)f->np;

    memset(jtj, 0, np * np * sizeof *jtj);
    memset(jtr, 0, np * sizeof *jtr);
    for (size_t k = 0; k < f->m; k++) {
        const double *row = &f->jac[k * np];

        for (size_t a = 0; a < np; a++) {
            jtr[a] += row[a] * f->r[k];
            for (size_t b = a; b < np; b++)
                jtj[a * np + b] += row[a] * row[b];
        }
    }
    for (size_t a = 0; a < np; a++)
        for (size_t b = 0; b < a; b++)
            jtj[a * np + b] = jtj[b * np + a];
}

/* Damped Gauss-Newton step (J'J + lambda diag(J'J)) dz = -J'r, projected
 * onto the bounds (Marquardt's scaling makes the damping unit-free). */
static int lm_step(const struct fit *f, const double *jtj, const double *jtr, double lambda,
                   const double *z, double *zn)
{
    double a[P_N * P_N], b[P_N], dmax = 0;
    int np = f->np;

    for (int i = 0; i < np; i++)
        dmax = fmax(dmax, jtj[i * np + i]);
    memcpy(a, jtj, (size_t)(np * np) * sizeof *a);
    for (int i = 0; i < np; i++) {
        a[i * np + i] += lambda * fmax(jtj[i * np + i], 1e-12 * dmax + 1e-300);
        b[i] = -jtr[i];
    }
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', np, 1, a, np, b, 1) != 0)
        return SB_ERANGE;
    for (int j = 0; j < np; j++) {
        int i = f->map[j];

        zn[j] = fmin(z_hi(i), fmax(z_lo(i), z[j] + b[j]));
    }
    return 0;
}

/* Bounded Levenberg-Marquardt from z (updated in place); returns the
 * final cost, iterations in *iters.  Stops after three steps in a row
 * that gain less than 1e-7 of the cost. */
static double lm(struct fit *f, double *z, int max_iter, int *iters)
{
    double jtj[P_N * P_N], jtr[P_N], zn[P_N], lambda = LM_LAMBDA0;
    double cost = residuals(f, z, f->r);
    int it = 0, stall = 0;

    for (; it < max_iter && isfinite(cost) && stall < 3; it++) {
        int accepted = 0;

        if (jacobian(f, z) != 0)
            break;
        normal_eq(f, jtj, jtr);
        while (!accepted && lambda < 1e12) {
            double cn;

            if (lm_step(f, jtj, jtr, lambda, z, zn) != 0) {
                lambda *= 10;
                continue;
            }
            cn = residuals(f, zn, f->rt);
            if (cn < cost) {
                stall = cost - cn < 1e-7 * cost ? stall + 1 : 0;
                memcpy(z, zn, (size_t)f->np * sizeof *z);
                memcpy(f->r, f->rt, f->m * sizeof *f->r);
                cost = cn;
                lambda = fmax(lambda / 3.0, 1e-12);
                accepted = 1;
            } else {
                lambda *= 5.0;
            }
        }
        if (!accepted)
            break;
    }
    *iters = it;
    return cost;
}

/* ---- starting points ---- */

#define TAU_FAST_S 3600.0       /* prior air-node time constant */
#define TAU_SLOW_S (30 * 3600.0) /* prior mass time constant */
#define H_IM_OVER_H_MO 5.0      /* prior: mass couples to the air 5x better than outdoors */

/* Network with total conductance h_tot (W/K) to outdoors and the two time
 * constants: the direct path takes half of h_tot (3R2C), the mass path
 * the rest with H_im = 5 H_mo; C_i from the fast mode (air against its
 * neighbours), C_m from the slow one (mass against outdoors and, through
 * the air, the direct path). */
static void network_init(int structure, double h_tot, double tau_f, double tau_s, double th[P_N])
{
    double share = structure == SB_RC_3R2C ? 0.5 : 1.0, k = H_IM_OVER_H_MO;
    double h_mo = share * h_tot * (1.0 + k) / k, h_im = k * h_mo;
    double h_io = structure == SB_RC_3R2C ? (1.0 - share) * h_tot : 0.0;
    double h_series = h_io > 0 ? 1.0 / (1.0 / h_im + 1.0 / h_io) : 0.0;

    th[P_RMO] = 1.0 / h_mo;
    th[P_RIM] = 1.0 / h_im;
    th[P_RIO] = h_io > 0 ? 1.0 / h_io : PSPEC[P_RIO].hi;
    th[P_CI] = tau_f * (h_im + h_io);
    th[P_CM] = tau_s * (h_mo + h_series);
}

/* Defaults for the gains: full sun (500 W/m2) worth 2 K, metered gains
 * mostly heat, a third radiant; no offset; a small observer gain. */
static void gains_init(double h_tot, double th[P_N])
{
    th[P_ASI] = th[P_ASM] = h_tot * 2.0 / 500.0 / 2.0;
    th[P_GOCC] = 0.0;
    th[P_GG] = 0.8;
    th[P_FRAD] = 0.3;
    th[P_Q0] = 0.0;
    th[P_KM] = 0.2;
}

static double clampd(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Clamps every natural value into its bounds (a start must be feasible). */
static void th_clamp(double th[P_N])
{
    for (int i = 0; i < P_N; i++)
        th[i] = clampd(th[i], PSPEC[i].lo, PSPEC[i].hi);
}

/* ARX(2,2) by least squares on the training part:
 *   T[k+1] = a1 T[k] + a2 T[k-1] + sum_j (b_j u_j[k] + c_j u_j[k-1]) + e
 * Returns the number of coefficients, or 0 when too few rows / failure.
 * Columns: a1, a2, then (b_j, c_j) per input 0..4, then the constant. */
#define ARX_NC (2 + 2 * 5 + 1)

static int arx_fit(const struct fit *f, double coef[ARX_NC])
{
    size_t rows = 0, cap = f->ntr;
    double *x = malloc(cap * ARX_NC * sizeof *x), *y = malloc(cap * sizeof *y), scale[ARX_NC];
    int ok = 0;

    if (!x || !y)
        goto out;
    for (size_t k = f->k0 + 1; k + 1 < f->ntr; k++) {
        double *row = &x[rows * ARX_NC];

        if (!isfinite(f->t[k - 1]) || !isfinite(f->t[k]) || !isfinite(f->t[k + 1]))
            continue;
        row[0] = f->t[k];
        row[1] = f->t[k - 1];
        for (int j = 0; j < 5; j++) {
            row[2 + 2 * j] = f->u[k * SB_RC_NU + j];
            row[3 + 2 * j] = f->u[(k - 1) * SB_RC_NU + j];
        }
        row[ARX_NC - 1] = 1.0;
        y[rows++] = f->t[k + 1];
    }
    if (rows < 4 * ARX_NC)
        goto out;
    /* unit-RMS columns: temperatures, W/m2 and kW differ by orders of
     * magnitude; an all-zero column (absent input) keeps scale 1 and gets
     * the minimum-norm coefficient 0 from dgelsd */
    for (int c = 0; c < ARX_NC; c++) {
        double s = 0;

        for (size_t i = 0; i < rows; i++)
            s += x[i * ARX_NC + c] * x[i * ARX_NC + c];
        scale[c] = s > 0 ? sqrt(s / (double)rows) : 1.0;
        for (size_t i = 0; i < rows; i++)
            x[i * ARX_NC + c] /= scale[c];
    }
    {
        double sv[ARX_NC];
        lapack_int rank;

        if (LAPACKE_dgelsd(LAPACK_ROW_MAJOR, (lapack_int)rows, ARX_NC, 1, x, ARX_NC, y, 1, sv, 1e-10,
                           &rank) != 0)
            goto out;
    }
    for (int c = 0; c < ARX_NC; c++)
        coef[c] = y[c] / scale[c];
    ok = ARX_NC;
out:
    free(x);
    free(y);
    return ok;
}

/* Steady-state gain of input column j of the ARX. */
static double arx_gain(const double c[ARX_NC], int j, double den)
{
    return (c[2 + 2 * j] + c[3 + 2 * j]) / den;
}

/* A physical start from the ARX: steady-state gains K_j = (b_j + c_j) /
 * (1 - a1 - a2); K_Q (K per kW) gives the total conductance, the other
 * gains relative to K_Q give the heat per unit of each input; the poles
 * give the two time constants.  Returns 0, or -1 when the ARX is not
 * physical (the caller then uses the prior). */
static int arx_init(const struct fit *f, double th[P_N])
{
    double c[ARX_NC], a1, a2, den, kq, h_tot, disc, tau_f = TAU_FAST_S, tau_s = TAU_SLOW_S;

    if (!arx_fit(f, c))
        return -1;
    a1 = c[0];
    a2 = c[1];
    den = 1.0 - a1 - a2;
    if (!(den > 1e-9))
        return -1;
    kq = arx_gain(c, SB_RC_U_Q, den);
    if (!(kq > 0) || !isfinite(kq))
        return -1;
    h_tot = clampd(1000.0 / kq, 1.0, 1e7);
    disc = a1 * a1 + 4.0 * a2;
    if (disc >= 0) {
        double z1 = 0.5 * (a1 + sqrt(disc)), z2 = 0.5 * (a1 - sqrt(disc));

        if (z1 > 0 && z1 < 1 && z2 > 0 && z2 < 1) {
            tau_s = clampd(-f->dt / log(z1), 3600.0, 30 * DAY_S);
            tau_f = clampd(-f->dt / log(z2), 60.0, tau_s / 2.0);
        }
    }
    network_init(f->structure, h_tot, tau_f, tau_s, th);
    gains_init(h_tot, th);
    th[P_ASI] = th[P_ASM] = fmax(0.0, 0.5 * 1000.0 * arx_gain(c, SB_RC_U_SOLAR, den) / kq);
    th[P_GOCC] = fmax(0.0, 1000.0 * arx_gain(c, SB_RC_U_OCC, den) / kq);
    th[P_GG] = fmax(0.0, arx_gain(c, SB_RC_U_GAINS, den) / kq);
    return 0;
}

/* ---- data checks: refuse what cannot identify the model ---- */

struct plan {
    double holdout, horizon, every, min_q_span, max_gap, max_missing;
    int structure, max_iter;
};

static double or_default(double v, double def)
{
    return v != 0 ? v : def;
}

static int plan_of(const struct sb_rc_opts *o, struct plan *pl, char *err, size_t errlen)
{
    static const struct sb_rc_opts zero;

    if (!o)
        o = &zero;
    *pl = (struct plan){
        .holdout = or_default(o->holdout_frac, 0.25), .horizon = or_default(o->horizon_s, DAY_S),
        .every = or_default(o->seg_every_s, 6 * 3600.0), .min_q_span = or_default(o->min_q_span_kw, 0.1),
        .max_gap = or_default(o->max_gap_s, 7200.0), .max_missing = or_default(o->max_missing, 0.1),
        .structure = o->structure ? o->structure : SB_RC_3R2C, .max_iter = o->max_iter ? o->max_iter : 60,
    };
    if (pl->structure != SB_RC_2R2C && pl->structure != SB_RC_3R2C)
        sb_errf(err, errlen, "opts.structure: must be SB_RC_2R2C or SB_RC_3R2C");
    else if (!in_range(pl->holdout, 0.05, 0.5))
        sb_errf(err, errlen, "opts.holdout_frac: must be within 0.05..0.5");
    else if (!in_range(pl->horizon, 3600.0, 7 * DAY_S) || !in_range(pl->every, 60.0, 7 * DAY_S))
        sb_errf(err, errlen, "opts.horizon_s / seg_every_s: must be within 1 h..7 days / 60 s..7 days");
    else if (pl->max_iter < 1 || pl->max_iter > 1000 || !(pl->min_q_span >= 0) ||
             !(pl->max_gap > 0) || !in_range(pl->max_missing, 0, 0.9))
        sb_errf(err, errlen, "opts: max_iter 1..1000, min_q_span_kw >= 0, max_gap_s > 0, "
                "max_missing 0..0.9");
    else if (!in_range(o->q_heat_max_kw, 0, 1e6) || !in_range(o->q_cool_max_kw, 0, 1e6))
        sb_errf(err, errlen, "opts.q_heat_max_kw / q_cool_max_kw: must be within 0..1e6 kW");
    else
        return 0;
    return SB_EINVAL;
}

/* Every input finite: the model cannot run through a hole in its inputs. */
static int inputs_finite(const struct sb_rc_data *dt, char *err, size_t errlen)
{
    const double *arr[5] = { dt->u.t_out, dt->u.solar, dt->u.q_kw, dt->u.occ, dt->u.gains_kw };
    static const char *const name[5] = { "t_out", "solar", "q_kw", "occ", "gains_kw" };

    for (int j = 0; j < 5; j++)
        for (size_t k = 0; arr[j] && k < dt->n; k++)
            if (!isfinite(arr[j][k])) {
                sb_errf(err, errlen, "%s[%zu] is not finite: inputs must be complete "
                        "(interpolate short gaps before identifying)", name[j], k);
                return SB_EINVAL;
            }
    return 0;
}

/* Missing zone temperatures: overall share and longest run. */
static int gaps_ok(const struct sb_rc_data *dt, const struct plan *pl, char *err, size_t errlen)
{
    size_t miss = 0, run = 0, worst = 0, at = 0;

    for (size_t k = 0; k < dt->n; k++) {
        if (isfinite(dt->t_zone[k])) {
            run = 0;
            continue;
        }
        miss++;
        if (++run > worst) {
            worst = run;
            at = k + 1 - run;
        }
    }
    if ((double)(worst + 1) * dt->dt_s > pl->max_gap) {
        sb_errf(err, errlen, "gap of %.1f h in t_zone at sample %zu (at most %.1f h allowed)",
                (double)(worst + 1) * dt->dt_s / 3600.0, at, pl->max_gap / 3600.0);
        return SB_EINVAL;
    }
    if ((double)miss > pl->max_missing * (double)dt->n) {
        sb_errf(err, errlen, "%.0f %% of t_zone is missing (at most %.0f %% allowed)",
                100.0 * (double)miss / (double)dt->n, 100.0 * pl->max_missing);
        return SB_EINVAL;
    }
    return 0;
}

/* Spread (max - min) and standard deviation of v[0..n) over finite values. */
static void spread(const double *v, size_t n, double *span, double *sd)
{
    double lo = INFINITY, hi = -INFINITY, s = 0, s2 = 0;
    size_t c = 0;

    for (size_t k = 0; v && k < n; k++) {
        if (!isfinite(v[k]))
            continue;
        lo = fmin(lo, v[k]);
        hi = fmax(hi, v[k]);
        s += v[k];
        s2 += v[k] * v[k];
        c++;
    }
    *span = c ? hi - lo : 0.0;
    *sd = c > 1 ? sqrt(fmax(0.0, (s2 - s * s / (double)c) / (double)(c - 1))) : 0.0;
}

/* Length, held-out part, excitation. */
static int data_ok(const struct sb_rc_data *dt, const struct plan *pl, size_t ntr, char *err,
                   size_t errlen)
{
    double days = (double)ntr * dt->dt_s / DAY_S, test_h = (double)(dt->n - ntr) * dt->dt_s / 3600.0;
    double qspan, qsd, tspan, tsd;

    if (days < MIN_TRAIN_DAYS) {
        sb_errf(err, errlen, "too short: the training part is %.1f days, needs at least %.0f days "
                "(plus a held-out part of %.0f%%)", days, MIN_TRAIN_DAYS, 100.0 * pl->holdout);
        return SB_EINVAL;
    }
    if (test_h * 3600.0 < pl->horizon + 2.0 * dt->dt_s) {
        sb_errf(err, errlen, "too short: the held-out part is %.1f h, shorter than the %.0f h "
                "horizon it is scored on", test_h, pl->horizon / 3600.0);
        return SB_EINVAL;
    }
    spread(dt->u.q_kw, ntr, &qspan, &qsd);
    if (qspan < pl->min_q_span || qsd <= 0) {
        sb_errf(err, errlen, "HVAC never varied: q_kw spans %.3f kW in the training part, needs "
                "%.3f kW (without it the zone's capacity and losses cannot be told apart)",
                qspan, pl->min_q_span);
        return SB_EINVAL;
    }
    spread(dt->t_zone, ntr, &tspan, &tsd);
    if (tsd < 0.02) {
        sb_errf(err, errlen, "zone temperature never moved (standard deviation %.3f K in the "
                "training part)", tsd);
        return SB_EINVAL;
    }
    return 0;
}

static int data_check(const struct sb_rc_data *dt, const struct plan *pl, size_t *ntr, char *err,
                      size_t errlen)
{
    int rc;

    if (!dt->t_zone || !inputs_ok(&dt->u, 1)) {
        sb_errf(err, errlen, "t_zone, t_out, solar and q_kw are required");
        return SB_EINVAL;
    }
    if (!in_range(dt->dt_s, 60.0, 3600.0)) {
        sb_errf(err, errlen, "dt_s: %g s outside 60..3600 s", dt->dt_s);
        return SB_EINVAL;
    }
    if (dt->n > (size_t)1 << 26) {
        sb_errf(err, errlen, "n: %zu samples is more than the 2^26 supported", dt->n);
        return SB_EINVAL;
    }
    *ntr = dt->n - (size_t)llround(pl->holdout * (double)dt->n);
    if ((rc = data_ok(dt, pl, *ntr, err, errlen)) != 0 || (rc = inputs_finite(dt, err, errlen)) != 0 ||
        (rc = gaps_ok(dt, pl, err, errlen)) != 0)
        return rc;
    return 0;
}

/* ---- the fit ---- */

/* An input takes part only when it varies: a constant input's gain is
 * indistinguishable from q0 (and an absent one is zero). */
static int varies(const double *v, size_t n, double tiny)
{
    double span, sd;

    spread(v, n, &span, &sd);
    return sd > tiny;
}

static void fit_free(struct fit *f)
{
    free(f->u);
    free(f->xs);
    free(f->r);
    free(f->rt);
    free(f->jac);
}

/* Which parameters are free for these data. */
static void choose_free(struct fit *f, const struct sb_rc_data *dt)
{
    int on[P_N] = { 0 }, occ = varies(dt->u.occ, f->ntr, 1e-9), gains = varies(dt->u.gains_kw, f->ntr, 1e-9);

    on[P_CI] = on[P_CM] = on[P_RIM] = on[P_RMO] = on[P_Q0] = on[P_TM0] = on[P_KM] = 1;
    on[P_RIO] = f->structure == SB_RC_3R2C;
    on[P_ASI] = on[P_ASM] = varies(dt->u.solar, f->ntr, 1e-6);
    on[P_GOCC] = occ;
    on[P_GG] = gains;
    on[P_FRAD] = occ || gains;
    f->np = 0;
    for (int i = 0; i < P_N; i++)
        if (on[i])
            f->map[f->np++] = i;
}

static int fit_setup(struct fit *f, const struct sb_rc_data *dt, const struct plan *pl, size_t ntr)
{
    memset(f, 0, sizeof *f);
    f->t = dt->t_zone;
    f->dt = dt->dt_s;
    f->structure = pl->structure;
    f->n = dt->n;
    f->ntr = ntr;
    while (f->k0 < ntr && !isfinite(f->t[f->k0]))
        f->k0++;
    f->hor = (size_t)fmax(1.0, floor(pl->horizon / dt->dt_s + 0.5));
    f->every = (size_t)fmax(1.0, floor(pl->every / dt->dt_s + 0.5));
    choose_free(f, dt);
    count_residuals(f);
    f->u = malloc(f->n * SB_RC_NU * sizeof *f->u);
    f->xs = malloc(f->n * SB_RC_NX * sizeof *f->xs);
    f->r = malloc(f->m * sizeof *f->r);
    f->rt = malloc(f->m * sizeof *f->rt);
    f->jac = malloc(f->m * (size_t)f->np * sizeof *f->jac);
    if (!f->u || !f->xs || !f->r || !f->rt || !f->jac)
        return SB_ENOMEM;
    for (size_t k = 0; k < f->n; k++)
        input_at(&dt->u, k, &f->u[k * SB_RC_NU]);
    return 0;
}

/* Runs LM from the natural start th; keeps the result in best when it
 * beats *best_cost. */
static void try_start(struct fit *f, double th[P_N], int max_iter, double best[P_N], double *best_cost,
                      int *best_iter)
{
    double z[P_N], cost;
    int iters = 0;

    th_clamp(th);
    memcpy(f->th, th, sizeof f->th);
    for (int j = 0; j < f->np; j++)
        z[j] = z_of_p(f->map[j], th[f->map[j]]);
    cost = lm(f, z, max_iter, &iters);
    if (!(cost < *best_cost))
        return;
    theta_of(f, z, best);
    *best_cost = cost;
    *best_iter = iters;
}

/* Three starts: the ARX's, and the prior network at the ARX's (or a
 * capacity-based) conductance with a light and a heavy mass. */
static double fit_run(struct fit *f, const struct sb_rc_data *dt, int max_iter, double best[P_N],
                      int *iters)
{
    double th[P_N], cost = INFINITY, qspan, qsd, h_tot;
    static const double tau_s[2] = { 10 * 3600.0, 60 * 3600.0 };

    memset(th, 0, sizeof th);
    th[P_TM0] = f->t[f->k0];
    spread(dt->u.q_kw, f->ntr, &qspan, &qsd);
    /* without an ARX estimate: the HVAC's observed span moving the zone
     * by about 10 K, the order of a design heating/cooling difference */
    h_tot = clampd(1000.0 * qspan / 10.0, 1.0, 1e7);
    if (arx_init(f, th) == 0) {
        h_tot = 1.0 / (th[P_RMO] + th[P_RIM]) + (f->structure == SB_RC_3R2C ? 1.0 / th[P_RIO] : 0.0);
        try_start(f, th, max_iter, best, &cost, iters);
    }
    for (int i = 0; i < 2; i++) {
        memset(th, 0, sizeof th);
        th[P_TM0] = f->t[f->k0];
        network_init(f->structure, h_tot, TAU_FAST_S, tau_s[i], th);
        gains_init(h_tot, th);
        try_start(f, th, max_iter, best, &cost, iters);
    }
    return cost;
}

/* ---- scores on the held-out part ---- */

static void score(struct fit *f, const struct sb_rc_disc *d, double tm0, double gain,
                  struct sb_rc_scores *sc)
{
    size_t per = (size_t)fmax(1.0, floor(3600.0 / f->dt + 0.5)), n1 = 0, nh = 0;
    double s1 = 0, sh = 0, bias = 0, worst = 0;

    observe_fill(f, d, f->n, tm0, gain);
    for (size_t k = f->ntr - 1; k + 1 < f->n; k++) {
        double x[SB_RC_NX] = { f->xs[2 * k], f->xs[2 * k + 1] };

        sb_rc_step(d, x, &f->u[k * SB_RC_NU]);
        if (isfinite(f->t[k + 1]) && isfinite(f->t[k])) {
            s1 += (x[0] - f->t[k + 1]) * (x[0] - f->t[k + 1]);
            n1++;
        }
    }
    sc->n_traj = 0;
    for (size_t s = f->ntr; s + f->hor < f->n; s += per, sc->n_traj++) {
        double x[SB_RC_NX] = { f->xs[2 * s], f->xs[2 * s + 1] };

        for (size_t h = 1; h <= f->hor; h++) {
            double e;

            sb_rc_step(d, x, &f->u[(s + h - 1) * SB_RC_NU]);
            if (!isfinite(f->t[s + h]))
                continue;
            e = x[0] - f->t[s + h];
            sh += e * e;
            bias += e;
            worst = fmax(worst, fabs(e));
            nh++;
        }
    }
    sc->rmse_1step = n1 ? sqrt(s1 / (double)n1) : NAN;
    sc->rmse_24h = nh ? sqrt(sh / (double)nh) : NAN;
    sc->bias_24h = nh ? bias / (double)nh : NAN;
    sc->max_24h = nh ? worst : NAN;
}

/* Capacities: given, or the largest heating / cooling seen in training. */
static void capacities(const struct sb_rc_data *dt, const struct sb_rc_opts *o, size_t ntr,
                       struct sb_rc_model *m)
{
    double qmax = 0, qmin = 0;

    for (size_t k = 0; k < ntr; k++) {
        qmax = fmax(qmax, dt->u.q_kw[k]);
        qmin = fmin(qmin, dt->u.q_kw[k]);
    }
    m->q_heat_max_kw = o && o->q_heat_max_kw > 0 ? o->q_heat_max_kw : qmax;
    m->q_cool_max_kw = o && o->q_cool_max_kw > 0 ? o->q_cool_max_kw : -qmin;
}

static void model_fill(struct sb_rc_model *m, const struct sb_rc_data *dt, const struct plan *pl,
                       size_t ntr)
{
    int64_t step_ms = (int64_t)llround(dt->dt_s * 1000.0);

    m->dt_s = dt->dt_s;
    m->horizon_s = pl->horizon;
    m->train_start_ms = dt->t0_ms;
    m->train_end_ms = dt->t0_ms + (int64_t)ntr * step_ms;
    m->test_start_ms = m->train_end_ms;
    m->test_end_ms = dt->t0_ms + (int64_t)dt->n * step_ms;
    m->n_train = ntr;
    m->n_test = dt->n - ntr;
}

int sb_rc_identify(const struct sb_rc_data *data, const struct sb_rc_opts *opts,
                   struct sb_rc_model *out, char *err, size_t errlen)
{
    struct plan pl;
    struct fit f;
    struct sb_rc_disc d;
    double best[P_N] = { 0 }, cost;
    size_t ntr = 0;
    int rc, iters = 0;

    memset(&f, 0, sizeof f);
    if (!data || !out) {
        sb_errf(err, errlen, "data and out are required");
        return SB_EINVAL;
    }
    if ((rc = plan_of(opts, &pl, err, errlen)) != 0 || (rc = data_check(data, &pl, &ntr, err, errlen)) != 0)
        return rc;
    if ((rc = fit_setup(&f, data, &pl, ntr)) != 0) {
        sb_errf(err, errlen, "out of memory");
        goto out;
    }
    cost = fit_run(&f, data, pl.max_iter, best, &iters);
    rc = SB_EINVAL;
    memset(out, 0, sizeof *out);
    params_from(best, pl.structure, &out->p);
    if (!isfinite(cost) || sb_rc_discretize(&out->p, data->dt_s, &d) != 0) {
        sb_errf(err, errlen, "the fit failed to find a valid model for these data");
        goto out;
    }
    model_fill(out, data, &pl, ntr);
    capacities(data, opts, ntr, out);
    out->t_mass0 = best[P_TM0];
    out->obs_gain = best[P_KM];
    out->iterations = iters;
    out->sc.rmse_fit = f.m_used ? sqrt(cost / (double)f.m_used) : NAN;
    score(&f, &d, best[P_TM0], best[P_KM], &out->sc);
    rc = 0;
out:
    fit_free(&f);
    return rc;
}

/* ------------------------------------------------------------------ */
/* JSON form                                                           */
/* ------------------------------------------------------------------ */

#define RC_FORMAT "sbems-rc"
#define RC_VERSION 1
#define RC_JSON_MAX 65536

/* One field of a JSON object: where it goes and what is allowed. */
enum ftype { F_NUM, F_NUM_NULL, F_INT64, F_SIZE, F_INT };

struct field {
    const char *key;
    enum ftype type;
    size_t off;             /* offset in struct sb_rc_model */
    double lo, hi;          /* allowed range */
};

#define M(f) offsetof(struct sb_rc_model, f)
#define MAX_MS 4102444800000.0  /* 2100-01-01, bounds stored timestamps */

static const struct field PARAMS[] = {
    { "c_air", F_NUM, M(p.c_air), 1e2, 1e12 },
    { "c_mass", F_NUM, M(p.c_mass), 1e2, 1e12 },
    { "r_air_mass", F_NUM, M(p.r_air_mass), 1e-7, 10 },
    { "r_mass_out", F_NUM, M(p.r_mass_out), 1e-7, 10 },
    { "r_air_out", F_NUM_NULL, M(p.r_air_out), 1e-7, 10 },
    { "a_sol_air", F_NUM, M(p.a_sol_air), 0, 1e5 },
    { "a_sol_mass", F_NUM, M(p.a_sol_mass), 0, 1e5 },
    { "g_occ", F_NUM, M(p.g_occ), 0, 1e7 },
    { "g_gains", F_NUM, M(p.g_gains), 0, 10 },
    { "f_rad", F_NUM, M(p.f_rad), 0, 1 },
    { "q0", F_NUM, M(p.q0), -1e7, 1e7 },
    { NULL, 0, 0, 0, 0 },
};
static const struct field CAPACITY[] = {
    { "heat_kw", F_NUM, M(q_heat_max_kw), 0, 1e6 },
    { "cool_kw", F_NUM, M(q_cool_max_kw), 0, 1e6 },
    { NULL, 0, 0, 0, 0 },
};
static const struct field TRAIN[] = {
    { "start_ms", F_INT64, M(train_start_ms), -MAX_MS, MAX_MS },
    { "end_ms", F_INT64, M(train_end_ms), -MAX_MS, MAX_MS },
    { "n", F_SIZE, M(n_train), 0, 1 << 26 },
    { NULL, 0, 0, 0, 0 },
};
static const struct field TEST[] = {
    { "start_ms", F_INT64, M(test_start_ms), -MAX_MS, MAX_MS },
    { "end_ms", F_INT64, M(test_end_ms), -MAX_MS, MAX_MS },
    { "n", F_SIZE, M(n_test), 0, 1 << 26 },
    { NULL, 0, 0, 0, 0 },
};
static const struct field SCORES[] = {
    { "rmse_fit", F_NUM_NULL, M(sc.rmse_fit), 0, 1e3 },
    { "rmse_1step", F_NUM_NULL, M(sc.rmse_1step), 0, 1e3 },
    { "rmse_24h", F_NUM_NULL, M(sc.rmse_24h), 0, 1e3 },
    { "max_24h", F_NUM_NULL, M(sc.max_24h), 0, 1e3 },
    { "bias_24h", F_NUM_NULL, M(sc.bias_24h), -1e3, 1e3 },
    { "trajectories", F_INT, M(sc.n_traj), 0, 1 << 26 },
    { NULL, 0, 0, 0, 0 },
};
static const struct field TOP[] = {
    { "dt_s", F_NUM, M(dt_s), 1, DAY_S },
    { "horizon_s", F_NUM, M(horizon_s), 60, 7 * DAY_S },
    { "t_mass0", F_NUM, M(t_mass0), -100, 200 },
    { "obs_gain", F_NUM, M(obs_gain), 0, SB_RC_GAIN_MAX },
    { "iterations", F_INT, M(iterations), 0, 1e6 },
    { NULL, 0, 0, 0, 0 },
};

/* Sections of the document other than the scalar TOP fields. */
static const struct section {
    const char *key;
    const struct field *fields;
} SECTIONS[] = {
    { "params", PARAMS }, { "capacity", CAPACITY }, { "train", TRAIN }, { "test", TEST },
    { "scores", SCORES },
};
#define NSECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])
#define NTOP_KEYS (3 + sizeof TOP / sizeof TOP[0] - 1 + NSECTIONS)  /* format, version, structure */

/* ---- save ---- */

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The value of field t in m, as a double (for the range check). */
static double field_value(const struct field *t, const struct sb_rc_model *m)
{
    const char *base = (const char *)m + t->off;

    switch (t->type) {
    case F_INT64:
        return (double)*(const int64_t *)base;
    case F_SIZE:
        return (double)*(const size_t *)base;
    case F_INT:
        return (double)*(const int *)base;
    default:
        return *(const double *)base;
    }
}

/* Adds the fields of table t from m to obj; 0, SB_ENOMEM, or SB_EINVAL
 * for a value the loader would refuse (a nullable number out of range is
 * written as null: a score nobody can trust is no score). */
static int put_fields(json_t *obj, const struct field *t, const struct sb_rc_model *m)
{
    for (; t->key; t++) {
        double x = field_value(t, m);
        json_t *v;

        if (!in_range(x, t->lo, t->hi)) {
            if (t->type != F_NUM_NULL)
                return SB_EINVAL;
            x = NAN;
        }
        if (t->type == F_NUM || t->type == F_NUM_NULL)
            v = num_or_null(x);
        else if (t->type == F_INT64)
            v = json_integer(*(const int64_t *)((const char *)m + t->off));
        else
            v = json_integer((json_int_t)x);    /* F_SIZE, F_INT: exact below 2^53 */
        if (json_object_set_new(obj, t->key, v) != 0)
            return SB_ENOMEM;
    }
    return 0;
}

int sb_rc_save(const struct sb_rc_model *m, char **json)
{
    json_t *root = NULL;
    int rc = SB_ENOMEM;

    *json = NULL;
    if (sb_rc_params_check(&m->p, NULL, 0) != 0)
        return SB_EINVAL;
    if (!(root = json_object()) || json_object_set_new(root, "format", json_string(RC_FORMAT)) ||
        json_object_set_new(root, "version", json_integer(RC_VERSION)) ||
        json_object_set_new(root, "structure", json_string(m->p.structure == SB_RC_2R2C ? "2R2C" : "3R2C")))
        goto out;
    if ((rc = put_fields(root, TOP, m)) != 0)
        goto out;
    for (size_t i = 0; i < NSECTIONS; i++) {
        json_t *sec = json_object();

        rc = SB_ENOMEM;
        if (json_object_set_new(root, SECTIONS[i].key, sec) != 0 ||
            (rc = put_fields(sec, SECTIONS[i].fields, m)) != 0)
            goto out;
    }
    rc = SB_ENOMEM;
    /* r_air_out has no meaning in a 2R2C: stored as null */
    if (m->p.structure == SB_RC_2R2C &&
        json_object_set_new(json_object_get(root, "params"), "r_air_out", json_null()) != 0)
        goto out;
    if ((*json = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17))) != NULL)
        rc = 0;
out:
    json_decref(root);
    return rc;
}

/* ---- load ---- */

/* Stores x (already range-checked) into field t of m. */
static void field_store(const struct field *t, const json_t *v, double x, struct sb_rc_model *m)
{
    char *base = (char *)m + t->off;

    switch (t->type) {
    case F_INT64:
        *(int64_t *)base = (int64_t)json_integer_value(v);
        break;
    case F_SIZE:
        *(size_t *)base = (size_t)json_integer_value(v);
        break;
    case F_INT:
        *(int *)base = (int)json_integer_value(v);
        break;
    default:
        *(double *)base = x;
    }
}

/* Reads one field value v into m; "where" names it for the message. */
static int get_field(const json_t *v, const struct field *t, const char *where, struct sb_rc_model *m,
                     char *err, size_t errlen)
{
    int is_num = t->type == F_NUM || t->type == F_NUM_NULL;
    double x;

    if (t->type == F_NUM_NULL && json_is_null(v)) {
        field_store(t, v, NAN, m);
        return 0;
    }
    if (is_num ? !json_is_number(v) : !json_is_integer(v)) {
        sb_errf(err, errlen, "%s.%s: must be %s", where, t->key,
                t->type == F_NUM ? "a number" : t->type == F_NUM_NULL ? "a number or null" : "an integer");
        return SB_EINVAL;
    }
    x = json_is_integer(v) ? (double)json_integer_value(v) : json_real_value(v);
    if (!in_range(x, t->lo, t->hi)) {
        sb_errf(err, errlen, "%s.%s: %g outside %g..%g", where, t->key, x, t->lo, t->hi);
        return SB_EINVAL;
    }
    field_store(t, v, x, m);
    return 0;
}

static const struct field *find_field(const struct field *t, const char *key)
{
    for (; t->key; t++)
        if (strcmp(t->key, key) == 0)
            return t;
    return NULL;
}

/* Reads every field of table t from obj: all required, nothing else. */
static int get_object(const json_t *obj, const struct field *t, const char *where, struct sb_rc_model *m,
                      char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    int rc;

    if (!json_is_object(obj)) {
        sb_errf(err, errlen, "%s: must be an object", where);
        return SB_EINVAL;
    }
    json_object_foreach((json_t *)obj, key, v) {
        const struct field *f = find_field(t, key);

        if (!f) {
            sb_errf(err, errlen, "%s.%.40s: unknown key", where, key);
            return SB_EINVAL;
        }
        if ((rc = get_field(v, f, where, m, err, errlen)) != 0)
            return rc;
    }
    for (; t->key; t++)
        if (!json_object_get(obj, t->key)) {
            sb_errf(err, errlen, "%s.%s: missing", where, t->key);
            return SB_EINVAL;
        }
    return 0;
}

/* Only known keys at the top, each present (duplicates are refused by
 * the parser); then the scalars and the sections. */
static int get_top(const json_t *root, struct sb_rc_model *m, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    int rc;

    json_object_foreach((json_t *)root, key, v) {
        int known = !strcmp(key, "format") || !strcmp(key, "version") || !strcmp(key, "structure") ||
                    find_field(TOP, key);

        for (size_t i = 0; i < NSECTIONS; i++)
            known |= !strcmp(key, SECTIONS[i].key);
        if (!known) {
            sb_errf(err, errlen, "%.40s: unknown key", key);
            return SB_EINVAL;
        }
    }
    if (json_object_size(root) != NTOP_KEYS) {
        sb_errf(err, errlen, "missing keys: needs format, version, structure, dt_s, horizon_s, t_mass0, "
                "obs_gain, iterations, params, capacity, train, test, scores");
        return SB_EINVAL;
    }
    for (const struct field *t = TOP; t->key; t++)
        if ((rc = get_field(json_object_get(root, t->key), t, "model", m, err, errlen)) != 0)
            return rc;
    for (size_t i = 0; i < NSECTIONS; i++)
        if ((rc = get_object(json_object_get(root, SECTIONS[i].key), SECTIONS[i].fields, SECTIONS[i].key, m,
                             err, errlen)) != 0)
            return rc;
    return 0;
}

/* format / version / structure. */
static int get_header(const json_t *root, struct sb_rc_model *m, char *err, size_t errlen)
{
    const char *fmt = json_string_value(json_object_get(root, "format"));
    const char *st = json_string_value(json_object_get(root, "structure"));
    const json_t *ver = json_object_get(root, "version");

    if (!fmt || strcmp(fmt, RC_FORMAT) != 0) {
        sb_errf(err, errlen, "format: must be \"%s\"", RC_FORMAT);
        return SB_EINVAL;
    }
    if (!json_is_integer(ver) || json_integer_value(ver) != RC_VERSION) {
        sb_errf(err, errlen, "version: must be %d", RC_VERSION);
        return SB_EINVAL;
    }
    if (!st || (strcmp(st, "2R2C") != 0 && strcmp(st, "3R2C") != 0)) {
        sb_errf(err, errlen, "structure: must be \"2R2C\" or \"3R2C\"");
        return SB_EINVAL;
    }
    m->p.structure = st[0] == '2' ? SB_RC_2R2C : SB_RC_3R2C;
    return 0;
}

/* Rules across fields. */
static int cross_check(struct sb_rc_model *m, char *err, size_t errlen)
{
    if (m->p.structure == SB_RC_3R2C && !isfinite(m->p.r_air_out)) {
        sb_errf(err, errlen, "params.r_air_out: a 3R2C needs a number");
        return SB_EINVAL;
    }
    if (m->p.structure == SB_RC_2R2C && !isnan(m->p.r_air_out)) {
        sb_errf(err, errlen, "params.r_air_out: must be null for a 2R2C");
        return SB_EINVAL;
    }
    if (m->p.structure == SB_RC_2R2C)
        m->p.r_air_out = INFINITY;
    if (m->train_start_ms > m->train_end_ms || m->test_start_ms > m->test_end_ms) {
        sb_errf(err, errlen, "train/test: start_ms after end_ms");
        return SB_EINVAL;
    }
    return sb_rc_params_check(&m->p, err, errlen);
}

int sb_rc_load(const char *json, size_t len, struct sb_rc_model *out, char *err, size_t errlen)
{
    struct sb_rc_model m;
    json_error_t jerr;
    json_t *root = NULL;
    int rc = SB_EINVAL;

    memset(&m, 0, sizeof m);
    if (!json || !out || len > RC_JSON_MAX) {
        sb_errf(err, errlen, "model JSON: %zu bytes, at most %d", len, RC_JSON_MAX);
        return SB_EINVAL;
    }
    if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
        sb_errf(err, errlen, "model JSON: line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return SB_EINVAL;
    }
    if (!json_is_object(root)) {
        sb_errf(err, errlen, "model JSON: must be an object");
        goto out;
    }
    if ((rc = get_header(root, &m, err, errlen)) != 0 || (rc = get_top(root, &m, err, errlen)) != 0 ||
        (rc = cross_check(&m, err, errlen)) != 0)
        goto out;
    *out = m;
out:
    json_decref(root);
    return rc;
}

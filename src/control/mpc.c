/*
 * mpc.c - the model-predictive optimizer as one LP (COIN-OR CLP) and the
 * baseline evaluator.  Contract: mpc.h; the formulation in words and
 * equations: docs/internals/control-mpc.md.
 *
 * The states stay LP variables (one equality row per state per step)
 * instead of being eliminated: kept, the matrix is banded and sparse, about
 * 14 elements per zone-step; eliminated, each air temperature becomes a
 * dense combination of every earlier Q (n^2 elements per zone: 2.4 million
 * for 64 zones x 192 steps), which is slower to build, to presolve and to
 * factorise.  CLP's presolve removes what the structure leaves redundant.
 *
 * Column layout: per zone z and step k five columns at (z n + k) * 5:
 * Qc, Qh, T_air, T_mass, s; then P_k (n), the cap slacks c_k (n, only with
 * a cap), then one peak column per demand window.  Row layout: per zone-step
 * four rows at (z n + k) * 4: air dynamics, mass dynamics, comfort low,
 * comfort high; then the power balance rows (n), the cap rows (n, with a
 * cap), then the demand rows (window, block) that exist.  Every column's
 * rows are emitted in ascending order.
 */
#include "control/mpc.h"

#include <coin/Clp_C_Interface.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"

#define NV 5                    /* columns per zone-step */
#define NR 4                    /* rows per zone-step */
enum { V_QC, V_QH, V_TA, V_TM, V_S };
enum { R_AIR, R_MASS, R_LO, R_HI };
#define INF DBL_MAX             /* CLP reads |bound| >= 1e30 as infinite */
#define SOLVE_BARRIER 3         /* ClpSolve::useBarrier (ClpSolve.hpp SolveType) */

/* Defaults of struct sb_mpc_opts. */
#define DEF_COMFORT_PENALTY 100.0
#define DEF_CAP_PENALTY     10000.0
#define DEF_MAX_SECONDS     60.0
#define DEF_EPS_KW          1e-6

/* Options with defaults applied. */
struct opts {
    double comfort_pen, cap_pen, max_s, eps_kw;
};

/* Derived sizes and row/column bases of one problem. */
struct layout {
    size_t n, nz;               /* steps, zones */
    size_t m;                   /* steps per demand interval */
    size_t nblk;                /* demand blocks: ceil(n / m) */
    int has_cap;
    int col_p, col_c, col_w;    /* first P_k, c_k, P_w column */
    int row_p, row_c, row_d;    /* first power, cap, demand row */
    int ncols, nrows;
    int *drow;                  /* [w * nblk + b] demand row or -1 (scratch) */
};

/* The LP in CLP's column-major arrays (scratch owned by the builder). */
struct lp {
    CoinBigIndex *start;
    int *index;
    double *value;
    double *collb, *colub, *obj, *rowlb, *rowub;
    CoinBigIndex nnz;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct opts opts_of(const struct sb_mpc_opts *o)
{
    struct opts r = { DEF_COMFORT_PENALTY, DEF_CAP_PENALTY, DEF_MAX_SECONDS, DEF_EPS_KW };

    if (o && o->comfort_penalty > 0)
        r.comfort_pen = o->comfort_penalty;
    if (o && o->cap_penalty > 0)
        r.cap_pen = o->cap_penalty;
    if (o && o->max_seconds > 0)
        r.max_s = o->max_seconds;
    if (o && o->eps_kw > 0)
        r.eps_kw = o->eps_kw;
    return r;
}

const char *sb_mpc_status_str(int status)
{
    switch (status) {
    case SB_MPC_OPTIMAL: return "optimal";
    case SB_MPC_SLACK: return "slack";
    case SB_MPC_SOLVER: return "solver";
    case SB_MPC_BASELINE: return "baseline";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------------------ */
/* validation                                                               */

/* Every element of a[0..n) finite (a may be NULL when optional). */
static int all_finite(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

/* Finite or NAN (a NAN baseline setpoint means "off"). */
static int finite_or_nan(const double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (isinf(a[i]))
            return 0;
    return 1;
}

static int check_disc(const struct sb_rc_disc *d, double dt_s)
{
    if (!isfinite(d->dt_s) || fabs(d->dt_s - dt_s) > 1e-6 * dt_s)
        return 0;
    return all_finite(&d->a[0][0], SB_RC_NX * SB_RC_NX) && all_finite(&d->b[0][0], SB_RC_NX * SB_RC_NU);
}

static int check_zone(const struct sb_mpc_zone *z, size_t i, size_t n, double dt_s, char *err, size_t errlen)
{
    const struct sb_rc_inputs *in = &z->in;

    if (!check_disc(&z->disc, dt_s))
        return sb_errf(err, errlen, "zones[%zu].disc: dt_s differs from the problem's or not finite", i),
               SB_EINVAL;
    if (!isfinite(z->x0[0]) || !isfinite(z->x0[1]))
        return sb_errf(err, errlen, "zones[%zu].x0: not finite", i), SB_EINVAL;
    if (!in->t_out || !in->solar || !z->lo || !z->hi)
        return sb_errf(err, errlen, "zones[%zu]: t_out, solar, lo and hi are required", i), SB_EINVAL;
    if (!all_finite(in->t_out, n) || !all_finite(in->solar, n) || (in->occ && !all_finite(in->occ, n)) ||
        (in->gains_kw && !all_finite(in->gains_kw, n)))
        return sb_errf(err, errlen, "zones[%zu].in: an input is not finite", i), SB_EINVAL;
    if (!all_finite(z->lo, n) || !all_finite(z->hi, n))
        return sb_errf(err, errlen, "zones[%zu]: band not finite", i), SB_EINVAL;
    if ((z->base_heat_sp && !finite_or_nan(z->base_heat_sp, n)) ||
        (z->base_cool_sp && !finite_or_nan(z->base_cool_sp, n)))
        return sb_errf(err, errlen, "zones[%zu]: baseline setpoint infinite", i), SB_EINVAL;
    if (!(z->q_cool_max_kw >= 0) || !(z->q_heat_max_kw >= 0) || !isfinite(z->q_cool_max_kw) ||
        !isfinite(z->q_heat_max_kw))
        return sb_errf(err, errlen, "zones[%zu]: capacities must be finite and >= 0", i), SB_EINVAL;
    return 0;
}

static int check_cops(const struct sb_mpc_problem *p, char *err, size_t errlen)
{
    if ((!(p->cop_cool > 0) || !isfinite(p->cop_cool)) && !p->cop_cool_k)
        return sb_errf(err, errlen, "cop_cool: must be > 0"), SB_EINVAL;
    for (size_t k = 0; p->cop_cool_k && k < p->n; k++)
        if (!(p->cop_cool_k[k] > 0) || !isfinite(p->cop_cool_k[k]))
            return sb_errf(err, errlen, "cop_cool_k[%zu]: must be > 0", k), SB_EINVAL;
    if (p->heat_fuel) {
        if (!(p->fuel_eff > 0) || !isfinite(p->fuel_eff) || !(p->fuel_price >= 0) || !isfinite(p->fuel_price))
            return sb_errf(err, errlen, "fuel_eff > 0 and fuel_price >= 0 required"), SB_EINVAL;
        return 0;
    }
    if ((!(p->cop_heat > 0) || !isfinite(p->cop_heat)) && !p->cop_heat_k)
        return sb_errf(err, errlen, "cop_heat: must be > 0"), SB_EINVAL;
    for (size_t k = 0; p->cop_heat_k && k < p->n; k++)
        if (!(p->cop_heat_k[k] > 0) || !isfinite(p->cop_heat_k[k]))
            return sb_errf(err, errlen, "cop_heat_k[%zu]: must be > 0", k), SB_EINVAL;
    return 0;
}

static int check_demand(const struct sb_mpc_problem *p, char *err, size_t errlen)
{
    double m;

    if (p->nwindows > SB_MPC_MAX_WINDOWS || (p->nwindows && (!p->windows || !p->demand_mask)))
        return sb_errf(err, errlen, "windows: at most %d, with windows and demand_mask", SB_MPC_MAX_WINDOWS),
               SB_EINVAL;
    for (size_t w = 0; w < p->nwindows; w++)
        if (!(p->windows[w].price_per_kw >= 0) || !isfinite(p->windows[w].price_per_kw) ||
            !(p->windows[w].prior_peak_kw >= 0) || !isfinite(p->windows[w].prior_peak_kw))
            return sb_errf(err, errlen, "windows[%zu]: price and prior peak must be finite and >= 0", w),
                   SB_EINVAL;
    if (p->demand_interval_s != 0) {
        m = p->demand_interval_s / p->dt_s;
        if (!isfinite(m) || m < 0.5 || fabs(m - round(m)) > 1e-6 || round(m) > (double)p->n)
            return sb_errf(err, errlen, "demand_interval_s: a whole multiple of dt_s up to the horizon"),
                   SB_EINVAL;
    }
    if (!isfinite(p->cap_kw))
        return sb_errf(err, errlen, "cap_kw: not finite"), SB_EINVAL;
    return 0;
}

int sb_mpc_check(const struct sb_mpc_problem *p, char *err, size_t errlen)
{
    int rc;

    if (!p || !p->zones || !p->price)
        return sb_errf(err, errlen, "problem: zones and price are required"), SB_EINVAL;
    if (p->n < 1 || p->n > SB_MPC_MAX_STEPS || p->nzones < 1 || p->nzones > SB_MPC_MAX_ZONES)
        return sb_errf(err, errlen, "size: 1..%d steps and 1..%d zones", SB_MPC_MAX_STEPS, SB_MPC_MAX_ZONES),
               SB_EINVAL;
    if (!isfinite(p->dt_s) || p->dt_s < 1 || p->dt_s > 86400)
        return sb_errf(err, errlen, "dt_s: 1..86400 s"), SB_EINVAL;
    if (!all_finite(p->price, p->n) || (p->base_kw && !all_finite(p->base_kw, p->n)))
        return sb_errf(err, errlen, "price/base_kw: not finite"), SB_EINVAL;
    rc = check_cops(p, err, errlen);
    if (rc == 0)
        rc = check_demand(p, err, errlen);
    for (size_t z = 0; rc == 0 && z < p->nzones; z++)
        rc = check_zone(&p->zones[z], z, p->n, p->dt_s, err, errlen);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the result block                                                         */

#define ZARRAYS 7               /* per-zone arrays in a result */

static struct sb_mpc_result *result_new(size_t n, size_t nz)
{
    size_t head = (sizeof(struct sb_mpc_result) + 15) & ~(size_t)15;
    size_t cnt = ZARRAYS * nz * n + 2 * n;
    struct sb_mpc_result *r = calloc(1, head + cnt * sizeof(double));
    double *d;

    if (!r)
        return NULL;
    d = (double *)((char *)r + head);
    r->n = n;
    r->nzones = nz;
    r->clp_status = -1;
    r->t_air = d;
    r->t_mass = d + nz * n;
    r->q_cool = d + 2 * nz * n;
    r->q_heat = d + 3 * nz * n;
    r->cool_sp = d + 4 * nz * n;
    r->heat_sp = d + 5 * nz * n;
    r->slack = d + 6 * nz * n;
    r->p_kw = d + 7 * nz * n;
    r->fuel_kw = d + 7 * nz * n + n;
    return r;
}

void sb_mpc_result_free(struct sb_mpc_result *r)
{
    free(r);
}

/* ------------------------------------------------------------------------ */
/* pricing a trajectory (shared by plan and baseline, so they compare)     */

static double cop_c(const struct sb_mpc_problem *p, size_t k)
{
    return p->cop_cool_k ? p->cop_cool_k[k] : p->cop_cool;
}

static double cop_h(const struct sb_mpc_problem *p, size_t k)
{
    return p->cop_heat_k ? p->cop_heat_k[k] : p->cop_heat;
}

static double base_of(const struct sb_mpc_problem *p, size_t k)
{
    return p->base_kw ? p->base_kw[k] : 0.0;
}

static size_t interval_steps(const struct sb_mpc_problem *p)
{
    return p->demand_interval_s != 0 ? (size_t)round(p->demand_interval_s / p->dt_s) : 1;
}

/* Discomfort of T against [lo, hi], K: the slack the LP would need. */
static double outside(double t, double lo, double hi)
{
    return fmax(0.0, fmax(lo - t, t - hi));
}

/* P_k, fuel_k and the energy, fuel and cap terms from r's q_cool/q_heat. */
static void price_energy(const struct sb_mpc_problem *p, struct sb_mpc_result *r)
{
    double dth = p->dt_s / 3600.0;
    struct sb_mpc_totals *t = &r->tot;

    for (size_t k = 0; k < p->n; k++) {
        double qc = 0, qh = 0, pk;

        for (size_t z = 0; z < p->nzones; z++) {
            qc += r->q_cool[z * p->n + k];
            qh += r->q_heat[z * p->n + k];
        }
        pk = base_of(p, k) + qc / cop_c(p, k) + (p->heat_fuel ? 0.0 : qh / cop_h(p, k));
        r->p_kw[k] = pk;
        r->fuel_kw[k] = p->heat_fuel ? qh / p->fuel_eff : 0.0;
        t->kwh_elec += pk * dth;
        t->kwh_hvac_elec += (pk - base_of(p, k)) * dth;
        t->kwh_cool_th += qc * dth;
        t->kwh_heat_th += qh * dth;
        t->kwh_fuel += r->fuel_kw[k] * dth;
        t->cost_energy += p->price[k] * pk * dth;
        if (p->cap_kw > 0)
            t->cap_excess_kwh += fmax(0.0, pk - p->cap_kw) * dth;
    }
    t->cost_fuel = p->heat_fuel ? p->fuel_price * t->kwh_fuel : 0.0;
}

/* Peak and demand charges: the mean of P over each block of m steps
 * (aligned to step 0, the last one possibly shorter) belongs to the windows
 * of its first step. */
static void price_demand(const struct sb_mpc_problem *p, struct sb_mpc_result *r)
{
    size_t m = interval_steps(p);
    double wpeak[SB_MPC_MAX_WINDOWS] = { 0 };

    r->tot.peak_kw = -INF;
    for (size_t b0 = 0; b0 < p->n; b0 += m) {
        size_t e = b0 + m < p->n ? b0 + m : p->n;
        double mean = 0;

        for (size_t k = b0; k < e; k++)
            mean += r->p_kw[k];
        mean /= (double)(e - b0);
        r->tot.peak_kw = fmax(r->tot.peak_kw, mean);
        for (size_t w = 0; w < p->nwindows; w++)
            if (p->demand_mask[b0] & (1u << w))
                wpeak[w] = fmax(wpeak[w], mean);
    }
    for (size_t w = 0; w < p->nwindows; w++)
        r->tot.cost_demand += p->windows[w].price_per_kw * fmax(0.0, wpeak[w] - p->windows[w].prior_peak_kw);
}

/* Fills r->tot (and the P and fuel arrays) from r's Q and T_air. */
static void price_result(const struct sb_mpc_problem *p, const struct opts *o, struct sb_mpc_result *r)
{
    double dth = p->dt_s / 3600.0;

    memset(&r->tot, 0, sizeof r->tot);
    price_energy(p, r);
    price_demand(p, r);
    for (size_t z = 0; z < p->nzones; z++)
        for (size_t k = 0; k < p->n; k++)
            r->tot.discomfort_kh += outside(r->t_air[z * p->n + k], p->zones[z].lo[k], p->zones[z].hi[k]) * dth;
    r->tot.cost_total = r->tot.cost_energy + r->tot.cost_fuel + r->tot.cost_demand;
    if (r->status == SB_MPC_BASELINE)
        r->objective = r->tot.cost_total + o->comfort_pen * r->tot.discomfort_kh + o->cap_pen * r->tot.cap_excess_kwh;
}

/* ------------------------------------------------------------------------ */
/* baseline                                                                 */

/* One zone under its schedule's setpoints with an ideal thermostat.  A
 * heating setpoint above the cooling one (possible only when a band has
 * lo > hi) is lowered to it: a thermostat would refuse the pair. */
static int baseline_zone(const struct sb_mpc_problem *p, size_t z, struct sb_mpc_result *r, double *hs, double *cs)
{
    const struct sb_mpc_zone *zn = &p->zones[z];
    double *ta = r->t_air + z * p->n, *q = r->q_cool + z * p->n;
    struct sb_rc_inputs in = zn->in;
    int rc;

    for (size_t k = 0; k < p->n; k++) {
        hs[k] = zn->base_heat_sp ? zn->base_heat_sp[k] : zn->lo[k];
        cs[k] = zn->base_cool_sp ? zn->base_cool_sp[k] : zn->hi[k];
        if (!isnan(hs[k]) && !isnan(cs[k]) && hs[k] > cs[k])
            hs[k] = cs[k];
    }
    rc = sb_rc_predict_setpoints(&zn->disc, zn->x0, &in, hs, cs, p->n, zn->q_heat_max_kw, zn->q_cool_max_kw,
                                 ta, q);
    if (rc != 0)
        return rc;
    in.q_kw = q;    /* the mass trajectory: the same model driven by the same Q */
    rc = sb_rc_simulate(&zn->disc, zn->x0, &in, p->n, ta, r->t_mass + z * p->n);
    for (size_t k = 0; rc == 0 && k < p->n; k++) {
        size_t i = z * p->n + k;
        double qk = q[k];

        r->q_heat[i] = fmax(0.0, qk);
        r->q_cool[i] = fmax(0.0, -qk);
        r->heat_sp[i] = hs[k];
        r->cool_sp[i] = cs[k];
        r->slack[i] = outside(ta[k], zn->lo[k], zn->hi[k]);
    }
    return rc;
}

static int baseline_into(const struct sb_mpc_problem *p, const struct opts *o, struct sb_mpc_result *r)
{
    double *hs = malloc(2 * p->n * sizeof(double));
    int rc = hs ? 0 : SB_ENOMEM;

    for (size_t z = 0; rc == 0 && z < p->nzones; z++)
        rc = baseline_zone(p, z, r, hs, hs + p->n);
    free(hs);
    if (rc == 0) {
        r->status = SB_MPC_BASELINE;
        price_result(p, o, r);
        r->base = r->tot;
    }
    return rc;
}

int sb_mpc_baseline(const struct sb_mpc_problem *p, const struct sb_mpc_opts *opts, struct sb_mpc_result **out,
                    char *err, size_t errlen)
{
    struct opts o = opts_of(opts);
    struct sb_mpc_result *r = NULL;
    double t0 = now_s();
    int rc;

    if (!out)
        return SB_EINVAL;
    *out = NULL;
    rc = sb_mpc_check(p, err, errlen);
    if (rc != 0)
        goto out;
    r = result_new(p->n, p->nzones);
    if (!r) {
        rc = SB_ENOMEM;
        goto out;
    }
    rc = baseline_into(p, &o, r);
    if (rc != 0)
        sb_errf(err, errlen, "baseline: %s", sb_strerror(rc));
out:
    if (rc != 0) {
        sb_mpc_result_free(r);
        r = NULL;
    } else {
        r->solve_s = now_s() - t0;
    }
    *out = r;
    return rc;
}

/* ------------------------------------------------------------------------ */
/* LP layout                                                                */

static int cz(const struct layout *L, size_t z, size_t k, int v)
{
    return (int)((z * L->n + k) * NV) + v;
}

static int rz(const struct layout *L, size_t z, size_t k, int r)
{
    return (int)((z * L->n + k) * NR) + r;
}

/* Sizes and bases; the demand rows exist only for (window, block) pairs
 * whose block starts in the window. */
static int layout_init(const struct sb_mpc_problem *p, struct layout *L)
{
    int row;

    memset(L, 0, sizeof *L);
    L->n = p->n;
    L->nz = p->nzones;
    L->m = interval_steps(p);
    L->nblk = (p->n + L->m - 1) / L->m;
    L->has_cap = p->cap_kw > 0;
    L->col_p = (int)(L->nz * L->n * NV);
    L->col_c = L->col_p + (int)L->n;
    L->col_w = L->col_c + (L->has_cap ? (int)L->n : 0);
    L->ncols = L->col_w + (int)p->nwindows;
    L->row_p = (int)(L->nz * L->n * NR);
    L->row_c = L->row_p + (int)L->n;
    L->row_d = L->row_c + (L->has_cap ? (int)L->n : 0);
    L->drow = malloc((p->nwindows * L->nblk + 1) * sizeof(int));
    if (!L->drow)
        return SB_ENOMEM;
    row = L->row_d;
    for (size_t b = 0; b < L->nblk; b++)
        for (size_t w = 0; w < p->nwindows; w++)
            L->drow[w * L->nblk + b] = (p->demand_mask[b * L->m] & (1u << w)) ? row++ : -1;
    L->nrows = row;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* LP building                                                              */

static void put(struct lp *lp, int row, double v)
{
    if (v == 0.0)
        return;     /* an exact zero (e.g. no air-mass coupling) is no element */
    lp->index[lp->nnz] = row;
    lp->value[lp->nnz] = v;
    lp->nnz++;
}

static void col_bounds(struct lp *lp, int c, double lb, double ub, double obj)
{
    lp->collb[c] = lb;
    lp->colub[c] = ub;
    lp->obj[c] = obj;
}

/* The five columns of zone z, step k. */
static void zone_cols(const struct sb_mpc_problem *p, const struct layout *L, const struct opts *o, struct lp *lp,
                      size_t z, size_t k)
{
    const struct sb_mpc_zone *zn = &p->zones[z];
    const struct sb_rc_disc *d = &zn->disc;
    double dth = p->dt_s / 3600.0, bqa = d->b[SB_RC_X_AIR][SB_RC_U_Q], bqm = d->b[SB_RC_X_MASS][SB_RC_U_Q];
    int c = cz(L, z, k, 0), last = k + 1 == L->n;

    /* Qc: Q = -Qc in x[k+1] = A x[k] + B u[k], moved to the left side */
    lp->start[c + V_QC] = lp->nnz;
    put(lp, rz(L, z, k, R_AIR), bqa);
    put(lp, rz(L, z, k, R_MASS), bqm);
    put(lp, L->row_p + (int)k, -1.0 / cop_c(p, k));
    col_bounds(lp, c + V_QC, 0, zn->q_cool_max_kw, 0);
    lp->start[c + V_QH] = lp->nnz;
    put(lp, rz(L, z, k, R_AIR), -bqa);
    put(lp, rz(L, z, k, R_MASS), -bqm);
    if (!p->heat_fuel)
        put(lp, L->row_p + (int)k, -1.0 / cop_h(p, k));
    col_bounds(lp, c + V_QH, 0, zn->q_heat_max_kw, p->heat_fuel ? p->fuel_price * dth / p->fuel_eff : 0);
    /* T_air at t_{k+1}: its own dynamics row, the band, and step k+1's rows */
    lp->start[c + V_TA] = lp->nnz;
    put(lp, rz(L, z, k, R_AIR), 1.0);
    put(lp, rz(L, z, k, R_LO), 1.0);
    put(lp, rz(L, z, k, R_HI), 1.0);
    if (!last) {
        put(lp, rz(L, z, k + 1, R_AIR), -d->a[SB_RC_X_AIR][SB_RC_X_AIR]);
        put(lp, rz(L, z, k + 1, R_MASS), -d->a[SB_RC_X_MASS][SB_RC_X_AIR]);
    }
    col_bounds(lp, c + V_TA, -INF, INF, 0);
    lp->start[c + V_TM] = lp->nnz;
    put(lp, rz(L, z, k, R_MASS), 1.0);
    if (!last) {
        put(lp, rz(L, z, k + 1, R_AIR), -d->a[SB_RC_X_AIR][SB_RC_X_MASS]);
        put(lp, rz(L, z, k + 1, R_MASS), -d->a[SB_RC_X_MASS][SB_RC_X_MASS]);
    }
    col_bounds(lp, c + V_TM, -INF, INF, 0);
    lp->start[c + V_S] = lp->nnz;
    put(lp, rz(L, z, k, R_LO), 1.0);
    put(lp, rz(L, z, k, R_HI), -1.0);
    col_bounds(lp, c + V_S, 0, INF, o->comfort_pen * dth);
}

/* Right-hand sides of zone z, step k: the exogenous part of B u[k], plus
 * A x0 at k = 0 (x0 is data, not a variable). */
static void zone_rows(const struct sb_mpc_problem *p, const struct layout *L, struct lp *lp, size_t z, size_t k)
{
    const struct sb_mpc_zone *zn = &p->zones[z];
    const struct sb_rc_disc *d = &zn->disc;
    const struct sb_rc_inputs *in = &zn->in;
    double u[SB_RC_NU] = { in->t_out[k], in->solar[k], 0.0, in->occ ? in->occ[k] : 0.0,
                           in->gains_kw ? in->gains_kw[k] : 0.0, 1.0 };

    for (int i = 0; i < SB_RC_NX; i++) {
        double rhs = 0;
        int row = rz(L, z, k, i == SB_RC_X_AIR ? R_AIR : R_MASS);

        for (int j = 0; j < SB_RC_NU; j++)
            rhs += d->b[i][j] * u[j];
        if (k == 0)
            rhs += d->a[i][0] * zn->x0[0] + d->a[i][1] * zn->x0[1];
        lp->rowlb[row] = lp->rowub[row] = rhs;
    }
    lp->rowlb[rz(L, z, k, R_LO)] = zn->lo[k];
    lp->rowub[rz(L, z, k, R_LO)] = INF;
    lp->rowlb[rz(L, z, k, R_HI)] = -INF;
    lp->rowub[rz(L, z, k, R_HI)] = zn->hi[k];
}

/* Building columns: P_k, c_k, P_w; and their rows' bounds. */
static void building_cols(const struct sb_mpc_problem *p, const struct layout *L, const struct opts *o,
                          struct lp *lp)
{
    double dth = p->dt_s / 3600.0;

    for (size_t k = 0; k < L->n; k++) {
        int c = L->col_p + (int)k, b = (int)(k / L->m);
        size_t e = ((size_t)b + 1) * L->m < L->n ? ((size_t)b + 1) * L->m : L->n;

        lp->start[c] = lp->nnz;
        put(lp, L->row_p + (int)k, 1.0);
        if (L->has_cap)
            put(lp, L->row_c + (int)k, 1.0);
        for (size_t w = 0; w < p->nwindows; w++)
            if (L->drow[w * L->nblk + (size_t)b] >= 0)
                put(lp, L->drow[w * L->nblk + (size_t)b], 1.0 / (double)(e - (size_t)b * L->m));
        col_bounds(lp, c, -INF, INF, p->price[k] * dth);
        lp->rowlb[L->row_p + (int)k] = lp->rowub[L->row_p + (int)k] = base_of(p, k);
    }
    for (size_t k = 0; L->has_cap && k < L->n; k++) {
        int c = L->col_c + (int)k;

        lp->start[c] = lp->nnz;
        put(lp, L->row_c + (int)k, -1.0);
        col_bounds(lp, c, 0, INF, o->cap_pen * dth);
        lp->rowlb[L->row_c + (int)k] = -INF;
        lp->rowub[L->row_c + (int)k] = p->cap_kw;
    }
    for (size_t w = 0; w < p->nwindows; w++) {
        int c = L->col_w + (int)w;

        lp->start[c] = lp->nnz;
        for (size_t b = 0; b < L->nblk; b++)
            if (L->drow[w * L->nblk + b] >= 0) {
                put(lp, L->drow[w * L->nblk + b], -1.0);
                lp->rowlb[L->drow[w * L->nblk + b]] = -INF;
                lp->rowub[L->drow[w * L->nblk + b]] = 0.0;
            }
        /* P_w >= prior: only the increase above the period's peak costs */
        col_bounds(lp, c, p->windows[w].prior_peak_kw, INF, p->windows[w].price_per_kw);
    }
    lp->start[L->ncols] = lp->nnz;
}

static void lp_free(struct lp *lp)
{
    free(lp->start);
    free(lp->index);
    free(lp->value);
    free(lp->collb);
    free(lp->colub);
    free(lp->obj);
    free(lp->rowlb);
    free(lp->rowub);
}

/* Upper bound on elements: 16 per zone-step (Qc 3, Qh 3, T_air 5,
 * T_mass 3, s 2), per step P_k (2 + one per window) and c_k (1), per
 * window one per block. */
static int lp_alloc(const struct sb_mpc_problem *p, const struct layout *L, struct lp *lp)
{
    size_t cap = L->nz * L->n * 16 + L->n * (3 + p->nwindows) + p->nwindows * L->nblk + 1;

    memset(lp, 0, sizeof *lp);
    lp->start = malloc(((size_t)L->ncols + 1) * sizeof *lp->start);
    lp->index = malloc(cap * sizeof *lp->index);
    lp->value = malloc(cap * sizeof *lp->value);
    lp->collb = malloc((size_t)L->ncols * sizeof(double));
    lp->colub = malloc((size_t)L->ncols * sizeof(double));
    lp->obj = malloc((size_t)L->ncols * sizeof(double));
    lp->rowlb = malloc((size_t)L->nrows * sizeof(double));
    lp->rowub = malloc((size_t)L->nrows * sizeof(double));
    if (!lp->start || !lp->index || !lp->value || !lp->collb || !lp->colub || !lp->obj || !lp->rowlb || !lp->rowub)
        return SB_ENOMEM;
    return 0;
}

static int lp_build(const struct sb_mpc_problem *p, const struct layout *L, const struct opts *o, struct lp *lp)
{
    int rc = lp_alloc(p, L, lp);

    if (rc != 0)
        return rc;
    for (size_t z = 0; z < L->nz; z++)
        for (size_t k = 0; k < L->n; k++) {
            zone_cols(p, L, o, lp, z, k);
            zone_rows(p, L, lp, z, k);
        }
    building_cols(p, L, o, lp);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* solving and reading the plan                                             */

/* Setpoints that reproduce the plan: the planned air temperature for the
 * side that acts, the band's edge for the side that does not. */
static void plan_setpoints(const struct sb_mpc_zone *zn, const struct opts *o, struct sb_mpc_result *r, size_t i,
                           size_t k)
{
    double cs = r->q_cool[i] > o->eps_kw ? r->t_air[i] : zn->hi[k];
    double hs = r->q_heat[i] > o->eps_kw ? r->t_air[i] : zn->lo[k];

    r->cool_sp[i] = cs;
    r->heat_sp[i] = fmin(hs, cs);
}

static void read_plan(const struct sb_mpc_problem *p, const struct layout *L, const struct opts *o,
                      const double *x, struct sb_mpc_result *r)
{
    for (size_t z = 0; z < L->nz; z++)
        for (size_t k = 0; k < L->n; k++) {
            size_t i = z * L->n + k;
            int c = cz(L, z, k, 0);

            /* clip the solver's tolerance-level noise on the bounds */
            r->q_cool[i] = fmax(0.0, x[c + V_QC]);
            r->q_heat[i] = fmax(0.0, x[c + V_QH]);
            r->t_air[i] = x[c + V_TA];
            r->t_mass[i] = x[c + V_TM];
            r->slack[i] = fmax(0.0, x[c + V_S]);
            plan_setpoints(&p->zones[z], o, r, i, k);
        }
}

static void fill_nan(struct sb_mpc_result *r)
{
    size_t cnt = ZARRAYS * r->nzones * r->n + 2 * r->n;

    for (size_t i = 0; i < cnt; i++)
        r->t_air[i] = NAN;  /* the arrays are contiguous from t_air */
}

/* Runs CLP on the built LP and reads the answer into r. */
static void lp_solve(const struct sb_mpc_problem *p, const struct layout *L, const struct opts *o,
                     const struct lp *lp, struct sb_mpc_result *r)
{
    Clp_Simplex *m = Clp_newModel();
    Clp_Solve *so = ClpSolve_new();
    double prior = 0;

    Clp_setLogLevel(m, 0);
    Clp_loadProblem(m, L->ncols, L->nrows, lp->start, lp->index, lp->value, lp->collb, lp->colub, lp->obj,
                    lp->rowlb, lp->rowub);
    Clp_setObjSense(m, 1.0);
    Clp_setMaximumSeconds(m, o->max_s);
    /* Barrier (interior point) then crossover to a vertex: on this LP the
     * simplex methods take tens of thousands of degenerate pivots (53 s
     * for 64 zones x 192 steps, dual or primal) where the barrier takes
     * ~50 iterations (under 3 s); the crossover returns a basic solution,
     * so idle HVAC is exactly 0 and the setpoint rule sees clean zeros.
     * Special option 2 = 1: no SIGINT handler, which CLP would otherwise
     * install process-wide around the solve (ClpSolve.hpp, "for
     * threadsafe"). */
    ClpSolve_setSolveType(so, SOLVE_BARRIER, -1);
    ClpSolve_setSpecialOption(so, 2, 1, -1);
    Clp_initialSolveWithOptions(m, so);
    r->clp_status = Clp_status(m);
    r->clp_secondary = Clp_secondaryStatus(m);
    r->iterations = Clp_getIterationCount(m);
    for (size_t w = 0; w < p->nwindows; w++)
        prior += p->windows[w].price_per_kw * p->windows[w].prior_peak_kw;
    r->objective = Clp_getObjValue(m) - prior;
    if (r->clp_status == 0 && Clp_isProvenOptimal(m))
        read_plan(p, L, o, Clp_getColSolution(m), r);
    else
        r->clp_status = r->clp_status == 0 ? 4 : r->clp_status;
    ClpSolve_delete(so);
    Clp_deleteModel(m);
}

/* Status and totals once the LP has run; the baseline's totals too. */
static int finish(const struct sb_mpc_problem *p, const struct opts *o, struct sb_mpc_result *r)
{
    struct sb_mpc_result *b;
    double smax = 0;
    int rc;

    if (r->clp_status != 0) {
        r->status = SB_MPC_SOLVER;
        r->objective = NAN;
        fill_nan(r);
    } else {
        price_result(p, o, r);
        for (size_t i = 0; i < p->nzones * p->n; i++)
            smax = fmax(smax, r->slack[i]);
        /* 1e-6 K and 1e-6 kWh: above CLP's default primal tolerance (1e-7) */
        r->status = smax > 1e-6 || r->tot.cap_excess_kwh > 1e-6 ? SB_MPC_SLACK : SB_MPC_OPTIMAL;
    }
    b = result_new(p->n, p->nzones);
    if (!b)
        return SB_ENOMEM;
    rc = baseline_into(p, o, b);
    if (rc == 0)
        r->base = b->tot;
    sb_mpc_result_free(b);
    return rc;
}

int sb_mpc_solve(const struct sb_mpc_problem *p, const struct sb_mpc_opts *opts, struct sb_mpc_result **out,
                 char *err, size_t errlen)
{
    struct opts o = opts_of(opts);
    struct layout L = { 0 };
    struct lp lp = { 0 };
    struct sb_mpc_result *r = NULL;
    double t0 = now_s();
    int rc;

    if (!out)
        return SB_EINVAL;
    *out = NULL;
    rc = sb_mpc_check(p, err, errlen);
    if (rc != 0)
        goto out;
    r = result_new(p->n, p->nzones);
    rc = r ? layout_init(p, &L) : SB_ENOMEM;
    if (rc == 0)
        rc = lp_build(p, &L, &o, &lp);
    if (rc != 0)
        goto out;
    r->rows = L.nrows;
    r->cols = L.ncols;
    r->nonzeros = (long)lp.nnz;
    lp_solve(p, &L, &o, &lp, r);
    rc = finish(p, &o, r);
out:
    lp_free(&lp);
    free(L.drow);
    if (rc != 0) {
        sb_mpc_result_free(r);
        r = NULL;
    } else {
        r->solve_s = now_s() - t0;
    }
    *out = r;
    return rc;
}

/*
 * test_mpc.c - the model-predictive optimizer (src/control/mpc.c).
 *
 * Evidence, each against an optimum known independently of CLP:
 *  - hand-solved LPs on a zone with trivial dynamics (no mass coupling:
 *    T[k+1] = T[k] + drift - bq Qc[k] + bq Qh[k]): cooling shifted into the
 *    cheap steps until the air reaches the band's low edge; shifted into
 *    the steps of better COP; a demand charge flattening the load to the
 *    unique minimum peak; a prior peak above any load costing nothing; a
 *    hard cap binding with the comfort cost reported; bands that cannot be
 *    met (lo > hi, too little capacity) giving slack, not a failure; fuel
 *    heating priced through its efficiency; demand averaged over 30 min;
 *  - a brute-force enumeration of a coupled 2-state zone over 3 steps
 *    (grid of Q), bracketing the LP optimum within the grid's Lipschitz
 *    error;
 *  - pre-cooling emerging in a heavy-mass zone (sb_rc_discretize of a
 *    physical 2R2C) before an on-peak price and demand window, cheaper
 *    than the schedule's baseline;
 *  - the baseline evaluator against an independent sb_rc_simulate run and
 *    hand totals;
 *  - every solve: the LP objective equals the re-priced plan (energy +
 *    fuel + demand + penalties) and never exceeds the baseline's (the
 *    baseline is a feasible point of the same LP);
 *  - 64 zones x 192 steps: solve time printed (diagnostic);
 *  - four threads solving at once agree with a lone solve;
 *  - refusals of malformed problems.
 */
#include "tap.h"

#include <pthread.h>

#include "analytics/rc.h"
#include "control/mpc.h"
#include "core/err.h"

#define DT 900.0
#define DTH 0.25
#define NMAX 192

/* ---------- helpers ---------- */

/* Storage for a one-zone problem of up to NMAX steps. */
struct one {
    struct sb_mpc_problem p;
    struct sb_mpc_zone z;
    double tout[NMAX], sol[NMAX], lo[NMAX], hi[NMAX], price[NMAX], base[NMAX];
};

/* T[k+1] = T[k] + drift + bq (Qh - Qc); the mass is left alone. */
static struct sb_rc_disc trivial_disc(double drift, double bq)
{
    struct sb_rc_disc d;

    memset(&d, 0, sizeof d);
    d.dt_s = DT;
    d.a[0][0] = d.a[1][1] = 1.0;
    d.b[SB_RC_X_AIR][SB_RC_U_Q] = bq;
    d.b[SB_RC_X_AIR][SB_RC_U_ONE] = drift;
    return d;
}

/* One zone at x0 with band [lo, hi], flat price, base load, COP 2. */
static void one_init(struct one *o, size_t n, struct sb_rc_disc d, double x0, double lo, double hi, double qc_max,
                     double qh_max)
{
    memset(o, 0, sizeof *o);
    for (size_t k = 0; k < n; k++) {
        o->tout[k] = 30.0;
        o->lo[k] = lo;
        o->hi[k] = hi;
        o->price[k] = 0.1;
        o->base[k] = 10.0;
    }
    o->z.disc = d;
    o->z.x0[0] = o->z.x0[1] = x0;
    o->z.in.t_out = o->tout;
    o->z.in.solar = o->sol;
    o->z.lo = o->lo;
    o->z.hi = o->hi;
    o->z.q_cool_max_kw = qc_max;
    o->z.q_heat_max_kw = qh_max;
    o->p.dt_s = DT;
    o->p.n = n;
    o->p.nzones = 1;
    o->p.zones = &o->z;
    o->p.price = o->price;
    o->p.base_kw = o->base;
    o->p.cop_cool = 2.0;
    o->p.cop_heat = 1.0;
}

/* Properties every solve must have: the LP objective is the re-priced plan
 * (a check of the formulation against the independent pricing code), and
 * no worse than the baseline, which is a feasible point of the same LP. */
static void check_consistent(const struct sb_mpc_result *r, const struct sb_mpc_opts *opts)
{
    double cp = opts && opts->comfort_penalty > 0 ? opts->comfort_penalty : 100.0;
    double kp = opts && opts->cap_penalty > 0 ? opts->cap_penalty : 10000.0;
    double plan = r->tot.cost_total + cp * r->tot.discomfort_kh + kp * r->tot.cap_excess_kwh;
    double base = r->base.cost_total + cp * r->base.discomfort_kh + kp * r->base.cap_excess_kwh;

    CHECK(r->status == SB_MPC_OPTIMAL || r->status == SB_MPC_SLACK);
    CHECK_DBL(r->objective, plan, 1e-6 * fmax(1.0, fabs(plan)));
    CHECK(r->objective <= base + 1e-6 * fmax(1.0, fabs(base)));
    CHECK_DBL(r->tot.cost_total, r->tot.cost_energy + r->tot.cost_fuel + r->tot.cost_demand, 1e-9);
}

static double sum(const double *a, size_t from, size_t to)
{
    double s = 0;

    for (size_t i = from; i < to; i++)
        s += a[i];
    return s;
}

/* ---------- hand-solved LPs ---------- */

/* Warming 1 K/step from 24 (band [20, 24]), 8 steps, cheap then 6 expensive:
 * 8 kWh of cooling are needed in all (T8 <= 24); the cheap steps can take
 * 6 (the air reaches the band's low edge 20 at t2), the rest falls in the
 * expensive steps.  Cost 0.25 (0.1 * 6 + 0.3 * 2) / 2 + base. */
TEST(shift_to_cheap_steps)
{
    struct one o;
    struct sb_mpc_result *r = NULL;
    char err[128] = "";
    double hvac_cost = DTH * (0.1 * 6 + 0.3 * 2) / 2.0;

    one_init(&o, 8, trivial_disc(1.0, 1.0), 24.0, 20.0, 24.0, 10.0, 0.0);
    for (size_t k = 2; k < 8; k++)
        o.price[k] = 0.3;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err) == 0);
    CHECK_EQ(r->status, SB_MPC_OPTIMAL);
    CHECK_DBL(sum(r->q_cool, 0, 2), 6.0, 1e-6);
    CHECK_DBL(sum(r->q_cool, 2, 8), 2.0, 1e-6);
    CHECK_DBL(r->t_air[1], 20.0, 1e-6);                 /* pre-cooled to the low edge */
    CHECK_DBL(r->t_air[7], 24.0, 1e-6);
    CHECK(r->q_cool[1] > 0.5);
    CHECK_DBL(r->cool_sp[1], 20.0, 1e-6);               /* commanded: the planned air */
    CHECK_DBL(r->heat_sp[1], 20.0, 1e-6);
    CHECK_DBL(r->tot.cost_energy, hvac_cost + 0.25 * 10 * (0.1 * 2 + 0.3 * 6), 1e-6);
    CHECK_DBL(r->tot.kwh_cool_th, 8 * DTH, 1e-6);
    CHECK_DBL(r->tot.kwh_hvac_elec, 8 * DTH / 2, 1e-6);
    CHECK_DBL(r->tot.discomfort_kh, 0.0, 1e-6);
    /* the baseline cools only to the top edge: 1 kW every step, never cheaper */
    CHECK_DBL(r->base.kwh_cool_th, 8 * DTH, 1e-6);
    CHECK(r->base.cost_energy > r->tot.cost_energy + 0.01);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
}

/* Flat price, COP 4 in steps 0-1 and 2 after: the 4 kWh of cooling all go
 * into the efficient steps (T2 = 22 keeps T4 = 24). */
TEST(shift_to_better_cop)
{
    struct one o;
    struct sb_mpc_result *r = NULL;
    double cop[4] = { 4, 4, 2, 2 };

    one_init(&o, 4, trivial_disc(1.0, 1.0), 24.0, 20.0, 24.0, 10.0, 0.0);
    o.p.cop_cool_k = cop;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_OPTIMAL);
    CHECK_DBL(sum(r->q_cool, 0, 2), 4.0, 1e-6);
    CHECK_DBL(sum(r->q_cool, 2, 4), 0.0, 1e-6);
    CHECK_DBL(r->tot.kwh_hvac_elec, 4 * DTH / 4, 1e-6);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
}

/* A demand charge with the prior peak at the base load: the unique minimum
 * peak spreads the 4 kW-steps of cooling evenly, 1 kW (0.5 kW electric) per
 * step, so the charge is 12 * 0.5.  With a prior peak above any possible
 * load the charge is 0 and the objective that of no charge at all. */
TEST(demand_charge)
{
    struct one o;
    struct sb_mpc_result *r = NULL, *r0 = NULL;
    struct sb_mpc_window w = { 12.0, 10.0 };
    uint8_t mask[4] = { 1, 1, 1, 1 };

    one_init(&o, 4, trivial_disc(1.0, 1.0), 24.0, 20.0, 24.0, 10.0, 0.0);
    o.p.nwindows = 1;
    o.p.windows = &w;
    o.p.demand_mask = mask;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_OPTIMAL);
    for (size_t k = 0; k < 4; k++)
        CHECK_DBL(r->q_cool[k], 1.0, 1e-6);
    CHECK_DBL(r->tot.peak_kw, 10.5, 1e-6);
    CHECK_DBL(r->tot.cost_demand, 12.0 * 0.5, 1e-6);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);

    w.prior_peak_kw = 1000.0;
    o.p.nwindows = 1;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    o.p.nwindows = 0;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r0, NULL, 0) == 0);
    CHECK_DBL(r->tot.cost_demand, 0.0, 1e-9);
    CHECK_DBL(r->base.cost_demand, 0.0, 1e-9);
    CHECK_DBL(r->objective, r0->objective, 1e-9);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
    sb_mpc_result_free(r0);
}

/* Demand over a 30-min interval is the mean of two 15-min steps: a base
 * spike 10/14/10/10 kW peaks at 12 kW, at 15 min at 14 kW. */
TEST(demand_interval)
{
    struct one o;
    struct sb_mpc_result *r = NULL;
    struct sb_mpc_window w = { 5.0, 0.0 };
    uint8_t mask[4] = { 1, 1, 1, 1 };

    one_init(&o, 4, trivial_disc(0.0, 1.0), 22.0, 20.0, 24.0, 0.0, 0.0);
    o.base[1] = 14.0;
    o.p.nwindows = 1;
    o.p.windows = &w;
    o.p.demand_mask = mask;
    o.p.demand_interval_s = 1800;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_DBL(r->tot.peak_kw, 12.0, 1e-9);
    CHECK_DBL(r->tot.cost_demand, 60.0, 1e-9);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
    o.p.demand_interval_s = 0;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_DBL(r->tot.peak_kw, 14.0, 1e-9);
    CHECK_DBL(r->tot.cost_demand, 70.0, 1e-9);
    sb_mpc_result_free(r);
}

/* Cap at base + 0.25 kW: cooling at most 0.5 kW a step against 1 K/step of
 * warming, so the air climbs 0.5 K a step: 24.5, 25, 25.5, 26, i.e.
 * 0.25 (0.5 + 1 + 1.5 + 2) = 1.25 K h of discomfort, reported as slack,
 * with the peak exactly at the cap.  A cap below the base load alone is
 * exceeded by base - cap every step and reported as such. */
TEST(peak_cap)
{
    struct one o;
    struct sb_mpc_result *r = NULL;

    one_init(&o, 4, trivial_disc(1.0, 1.0), 24.0, 20.0, 24.0, 10.0, 0.0);
    o.p.cap_kw = 10.25;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_SLACK);
    CHECK_DBL(r->tot.peak_kw, 10.25, 1e-6);
    CHECK_DBL(r->tot.cap_excess_kwh, 0.0, 1e-6);
    CHECK_DBL(r->tot.discomfort_kh, 1.25, 1e-6);
    CHECK_DBL(r->t_air[3], 26.0, 1e-6);
    CHECK_DBL(r->slack[3], 2.0, 1e-6);
    CHECK(r->base.peak_kw > 10.25 + 0.1);           /* the schedule breaks the cap */
    check_consistent(r, NULL);
    sb_mpc_result_free(r);

    o.p.cap_kw = 9.0;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_SLACK);
    CHECK_DBL(r->tot.cap_excess_kwh, 4 * DTH * 1.0, 1e-6);
    CHECK_DBL(sum(r->q_cool, 0, 4), 0.0, 1e-6);     /* the cap outranks comfort */
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
}

/* Bands that cannot be met still solve: lo > hi at step 2 (23 > 21) needs
 * 1 K of slack (the air in the middle); from 30 degC with 1 kW of cooling
 * the air reaches only 29, 28, 27, 26 against 24: 14 K-steps, 3.5 K h. */
TEST(infeasible_band_is_slack)
{
    struct one o;
    struct sb_mpc_result *r = NULL;

    one_init(&o, 4, trivial_disc(0.0, 1.0), 22.0, 20.0, 24.0, 10.0, 10.0);
    o.lo[2] = 23.0;
    o.hi[2] = 21.0;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_SLACK);
    CHECK_EQ(r->clp_status, 0);
    CHECK_DBL(r->slack[2], 1.0, 1e-6);
    CHECK_DBL(r->t_air[2], 22.0, 1e-6);
    CHECK_DBL(r->tot.discomfort_kh, DTH * 1.0, 1e-6);
    CHECK(r->heat_sp[2] <= r->cool_sp[2]);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);

    one_init(&o, 4, trivial_disc(0.0, 1.0), 30.0, 20.0, 24.0, 1.0, 0.0);
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_SLACK);
    for (size_t k = 0; k < 4; k++) {
        CHECK_DBL(r->q_cool[k], 1.0, 1e-6);
        CHECK_DBL(r->t_air[k], 29.0 - (double)k, 1e-6);
    }
    CHECK_DBL(r->tot.discomfort_kh, DTH * 14.0, 1e-6);
    CHECK_DBL(r->base.discomfort_kh, DTH * 14.0, 1e-6);
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
}

/* Cooling 1 K/step from 20 (band [20, 24]) with fuel heating at 80 %:
 * 4 kW-steps of heat = 1 kWh thermal, 1.25 kWh of fuel at 0.05.  The
 * electric side is the base load only. */
TEST(fuel_heating)
{
    struct one o;
    struct sb_mpc_result *r = NULL;

    one_init(&o, 4, trivial_disc(-1.0, 1.0), 20.0, 20.0, 24.0, 0.0, 10.0);
    o.p.heat_fuel = 1;
    o.p.fuel_eff = 0.8;
    o.p.fuel_price = 0.05;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    CHECK_EQ(r->status, SB_MPC_OPTIMAL);
    CHECK_DBL(r->tot.kwh_heat_th, 1.0, 1e-6);
    CHECK_DBL(r->tot.kwh_fuel, 1.25, 1e-6);
    CHECK_DBL(r->tot.cost_fuel, 0.0625, 1e-6);
    CHECK_DBL(r->tot.kwh_elec, 4 * DTH * 10.0, 1e-6);
    CHECK_DBL(r->tot.kwh_hvac_elec, 0.0, 1e-9);
    CHECK_DBL(r->fuel_kw[0], r->q_heat[0] / 0.8, 1e-9);
    CHECK_DBL(r->t_air[3], 20.0, 1e-6);            /* no heat beyond the low edge */
    CHECK(r->q_heat[0] >= 1.0 - 1e-6);              /* T1 >= 20 needs 1 kW in step 0 */
    CHECK_DBL(r->heat_sp[0], r->t_air[0], 1e-9);    /* commanded: the planned air */
    check_consistent(r, NULL);
    sb_mpc_result_free(r);
}

/* ---------- brute force ---------- */

/* The objective of a cooling schedule q[0..2], computed by stepping the
 * model with sb_rc_step (nothing shared with the LP code). */
static double brute_cost(const struct one *o, const double *q, const uint8_t *mask, double wprice, double cp)
{
    double x[SB_RC_NX] = { o->z.x0[0], o->z.x0[1] }, cost = 0, peak = 0;

    for (size_t k = 0; k < o->p.n; k++) {
        double u[SB_RC_NU] = { o->tout[k], o->sol[k], -q[k], 0, 0, 1 };
        double pk = o->base[k] + q[k] / o->p.cop_cool;

        sb_rc_step(&o->z.disc, x, u);
        cost += o->price[k] * pk * DTH + cp * DTH * fmax(0, fmax(o->lo[k] - x[0], x[0] - o->hi[k]));
        if (mask[k])
            peak = fmax(peak, pk);
    }
    return cost + wprice * fmax(0, peak - 10.0);
}

/* A coupled 2R2C zone over 3 steps, two prices and a demand charge: the
 * LP's optimum against every schedule on a 0.05 kW grid.  The grid's best
 * is never better than the LP (the LP is optimal) and not worse than the
 * LP by more than the objective's Lipschitz constant times half the grid
 * spacing (the LP's optimum is within half a spacing of a grid point). */
TEST(brute_force_3_steps)
{
    struct sb_rc_params par = { SB_RC_2R2C, 3e6, 3e7, 0.002, 0.01, 0, 0, 0, 0, 0, 0, 0 };
    struct sb_rc_disc d;
    struct one o;
    struct sb_mpc_result *r = NULL;
    struct sb_mpc_window w = { 3.0, 10.0 };
    struct sb_mpc_opts opts = { .comfort_penalty = 5.0 };
    uint8_t mask[3] = { 0, 1, 1 };
    double h = 0.05, qmax = 6.0, best = INFINITY, lip = 0, q[3];
    int steps = (int)(qmax / h + 0.5);

    REQUIRE(sb_rc_discretize(&par, DT, &d) == 0);
    one_init(&o, 3, d, 24.0, 21.0, 23.5, qmax, 0.0);
    o.z.x0[1] = 25.0;                 /* warm mass pushes the air up */
    o.price[1] = 0.4;
    o.price[2] = 0.4;
    o.tout[0] = o.tout[1] = o.tout[2] = 35.0;
    o.p.nwindows = 1;
    o.p.windows = &w;
    o.p.demand_mask = mask;
    REQUIRE(sb_mpc_solve(&o.p, &opts, &r, NULL, 0) == 0);
    check_consistent(r, &opts);
    for (int i = 0; i <= steps; i++)
        for (int j = 0; j <= steps; j++)
            for (int k = 0; k <= steps; k++) {
                q[0] = i * h, q[1] = j * h, q[2] = k * h;
                best = fmin(best, brute_cost(&o, q, mask, 3.0, 5.0));
            }
    /* Lipschitz bound per kW of each Q: price and demand per electric kW,
     * the penalty times how much a kW moves the later air temperatures */
    for (size_t k = 0; k < 3; k++) {
        double x[SB_RC_NX] = { 0, 0 }, move = 0;

        for (size_t j = k; j < 3; j++) {
            double u[SB_RC_NU] = { 0, 0, j == k ? 1.0 : 0.0, 0, 0, 0 };

            sb_rc_step(&d, x, u);
            move += fabs(x[0]);
        }
        lip += 0.4 * DTH / 2 + 3.0 / 2 + 5.0 * DTH * move;
    }
    printf("# brute force: LP %.6f, grid best %.6f, bound %.6f\n", r->objective, best, lip * h / 2);
    CHECK(r->objective <= best + 1e-7);
    CHECK(best - r->objective <= lip * h / 2);
    CHECK(r->tot.cost_total > 0.1);  /* not a trivial case: something to pay */
    sb_mpc_result_free(r);
}

/* ---------- pre-cooling ---------- */

static double window_peak(const double *p, const uint8_t *mask, size_t n)
{
    double m = 0;

    for (size_t k = 0; k < n; k++)
        if (mask[k])
            m = fmax(m, p[k]);
    return m;
}

/* A heavy-mass office zone on a hot day, 24 h at 15 min from midnight:
 * occupied 8-18 (band 21-24, setback 16-30), on-peak 12-18 (0.40 vs
 * 0.08 per kWh and 15 per kW of peak).  The optimizer cools the mass
 * before noon (more cooling in the morning than the schedule, less on
 * peak, a colder mass at noon) and the plan costs less. */
TEST(precool_heavy_mass)
{
    struct sb_rc_params par = { SB_RC_3R2C, 4e6, 1.5e8, 0.0008, 0.006, 0.01, 2, 6, 0, 0, 0, 0 };
    struct one o;
    struct sb_mpc_result *r = NULL;
    struct sb_mpc_window w = { 15.0, 0.0 };
    uint8_t mask[96] = { 0 };
    double occ[96], base_cool[96];
    const size_t noon = 48, peak_end = 72;
    double plan_am = 0, base_am = 0, plan_pk = 0, base_pk = 0;

    one_init(&o, 96, (struct sb_rc_disc){ 0 }, 25.0, 16.0, 30.0, 30.0, 0.0);
    REQUIRE(sb_rc_discretize(&par, DT, &o.z.disc) == 0);
    o.z.x0[1] = 25.5;
    for (size_t k = 0; k < 96; k++) {
        double hr = (double)k / 4.0;

        o.tout[k] = 27.0 + 7.0 * sin((hr - 9.0) * M_PI / 12.0);
        o.sol[k] = fmax(0.0, 800.0 * sin((hr - 6.0) * M_PI / 12.0));
        occ[k] = hr >= 8 && hr < 18 ? 1.0 : 0.0;
        o.lo[k] = occ[k] > 0 ? 21.0 : 16.0;
        o.hi[k] = occ[k] > 0 ? 24.0 : 30.0;
        o.price[k] = k >= noon && k < peak_end ? 0.40 : 0.08;
        mask[k] = k >= noon && k < peak_end;
        base_cool[k] = o.hi[k];
    }
    o.z.in.occ = occ;
    o.z.base_cool_sp = base_cool;
    o.p.cop_cool = 3.0;
    o.p.nwindows = 1;
    o.p.windows = &w;
    o.p.demand_mask = mask;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    check_consistent(r, NULL);
    CHECK_EQ(r->status, SB_MPC_OPTIMAL);
    plan_am = sum(r->q_cool, 0, noon);
    plan_pk = sum(r->q_cool, noon, peak_end);
    {
        struct sb_mpc_result *b = NULL;

        REQUIRE(sb_mpc_baseline(&o.p, NULL, &b, NULL, 0) == 0);
        base_am = sum(b->q_cool, 0, noon);
        base_pk = sum(b->q_cool, noon, peak_end);
        CHECK(r->t_mass[noon - 1] < b->t_mass[noon - 1] - 0.2);
        /* the window's peak falls; the overall peak may rise (pre-cooling
         * runs off-peak, where demand is not charged) */
        CHECK(window_peak(r->p_kw, mask, 96) - 10.0 < 0.75 * (window_peak(b->p_kw, mask, 96) - 10.0));
        CHECK_DBL(r->tot.cost_demand, 15.0 * window_peak(r->p_kw, mask, 96), 1e-6);
        printf("# precool: mass at noon plan %.2f base %.2f; cooling kWh am %.1f/%.1f on-peak %.1f/%.1f;"
               " cost %.2f/%.2f; peak %.1f/%.1f kW, on-peak %.1f/%.1f kW\n", r->t_mass[noon - 1], b->t_mass[noon - 1],
               plan_am * DTH, base_am * DTH, plan_pk * DTH, base_pk * DTH, r->tot.cost_total,
               b->tot.cost_total, r->tot.peak_kw, b->tot.peak_kw,
               window_peak(r->p_kw, mask, 96), window_peak(b->p_kw, mask, 96));
        sb_mpc_result_free(b);
    }
    CHECK(plan_am > base_am + 4.0);                 /* at least 1 kWh more before noon */
    CHECK(plan_pk < base_pk - 4.0);
    CHECK(r->tot.cost_total < r->base.cost_total - 0.5);
    /* before occupancy the setpoint commanded is below the band's top */
    {
        int precool_sp = 0;

        for (size_t k = 16; k < noon; k++)
            precool_sp += r->q_cool[k] > 0.1 && r->cool_sp[k] < o.hi[k] - 0.5;
        CHECK(precool_sp > 0);
    }
    sb_mpc_result_free(r);
}

/* ---------- baseline ---------- */

/* The baseline's Q replayed through sb_rc_simulate gives its trajectories;
 * where not at capacity the air sits inside [heat_sp, cool_sp]; its totals
 * match hand sums of its Q. */
TEST(baseline_matches_simulate)
{
    struct sb_rc_params par = { SB_RC_3R2C, 3e6, 5e7, 0.001, 0.008, 0.02, 4, 12, 80, 0.8, 0.3, 0 };
    struct one o;
    struct sb_mpc_result *b = NULL;
    double occ[96], q[96], ta[96], tm[96], hs[96], elec = 0, cost = 0;
    struct sb_rc_inputs in;

    one_init(&o, 96, (struct sb_rc_disc){ 0 }, 18.0, 20.0, 24.0, 3.0, 4.0);
    REQUIRE(sb_rc_discretize(&par, DT, &o.z.disc) == 0);
    for (size_t k = 0; k < 96; k++) {
        double hr = (double)k / 4.0;

        o.tout[k] = 17.0 + 11.0 * sin((hr - 9.0) * M_PI / 12.0);
        o.sol[k] = fmax(0.0, 600.0 * sin((hr - 6.0) * M_PI / 12.0));
        occ[k] = hr >= 8 && hr < 18 ? 10.0 : 0.0;
        hs[k] = hr >= 7 && hr < 19 ? 21.0 : NAN;    /* heating off at night */
        o.price[k] = 0.05 + 0.1 * (hr >= 12 && hr < 18);
    }
    o.z.in.occ = occ;
    o.z.base_heat_sp = hs;
    o.p.cop_heat = 2.5;
    REQUIRE(sb_mpc_baseline(&o.p, NULL, &b, NULL, 0) == 0);
    CHECK_EQ(b->status, SB_MPC_BASELINE);
    in = o.z.in;
    for (size_t k = 0; k < 96; k++)
        q[k] = b->q_heat[k] - b->q_cool[k];
    in.q_kw = q;
    REQUIRE(sb_rc_simulate(&o.z.disc, o.z.x0, &in, 96, ta, tm) == 0);
    for (size_t k = 0; k < 96; k++) {
        CHECK_DBL(b->t_air[k], ta[k], 1e-9);
        CHECK_DBL(b->t_mass[k], tm[k], 1e-9);
        CHECK(b->q_cool[k] == 0 || b->q_heat[k] == 0);
        if (b->q_heat[k] > 1e-9 && b->q_heat[k] < 4.0 - 1e-9)
            CHECK_DBL(ta[k], hs[k], 1e-6);
        if (b->q_cool[k] > 1e-9 && b->q_cool[k] < 3.0 - 1e-9)
            CHECK_DBL(ta[k], 24.0, 1e-6);
        elec += (10.0 + b->q_cool[k] / 2.0 + b->q_heat[k] / 2.5) * DTH;
        cost += o.price[k] * (10.0 + b->q_cool[k] / 2.0 + b->q_heat[k] / 2.5) * DTH;
    }
    CHECK(sum(b->q_heat, 0, 96) > 1.0);             /* the case exercises heating */
    CHECK(sum(b->q_cool, 0, 96) > 1.0);             /* and cooling */
    CHECK_DBL(b->tot.kwh_elec, elec, 1e-9);
    CHECK_DBL(b->tot.cost_energy, cost, 1e-9);
    CHECK_DBL(b->base.kwh_elec, elec, 1e-9);
    sb_mpc_result_free(b);
}

/* ---------- size ---------- */

/* 64 zones x 192 steps (48 h at 15 min), varied zones, a demand window and
 * a cap.  The time is a diagnostic; the assertions are the solve's status
 * and the plan's consistency and advantage over the baseline. */
TEST(large_64x192)
{
    enum { Z = 64, N = 192 };
    static struct sb_mpc_zone zones[Z];
    static double tout[N], sol[N], occ[N], lo[N], hi[N], price[N], base[N];
    static uint8_t mask[N];
    struct sb_mpc_window w = { 15.0, 150.0 };
    struct sb_mpc_problem p = { 0 };
    struct sb_mpc_result *r = NULL;
    uint64_t seed = 42;
    char err[128] = "";

    for (size_t k = 0; k < N; k++) {
        double hr = fmod((double)k / 4.0, 24.0);

        tout[k] = 26.0 + 8.0 * sin((hr - 9.0) * M_PI / 12.0);
        sol[k] = fmax(0.0, 800.0 * sin((hr - 6.0) * M_PI / 12.0));
        occ[k] = hr >= 8 && hr < 18 ? 8.0 : 0.0;
        lo[k] = occ[k] > 0 ? 21.0 : 16.0;
        hi[k] = occ[k] > 0 ? 24.0 : 29.0;
        price[k] = hr >= 12 && hr < 18 ? 0.35 : 0.09;
        mask[k] = hr >= 12 && hr < 18;
        base[k] = 80.0 + 60.0 * (occ[k] > 0);
    }
    for (size_t z = 0; z < Z; z++) {
        double f = (double)(tap_rand(&seed) % 1000) / 1000.0;
        struct sb_rc_params par = { SB_RC_3R2C, 2e6 + 4e6 * f, 2e7 + 1.5e8 * f, 0.001, 0.01, 0.02,
                                    1 + f, 4, 80, 0.5, 0.3, 0 };

        REQUIRE(sb_rc_discretize(&par, DT, &zones[z].disc) == 0);
        zones[z].x0[0] = zones[z].x0[1] = 24.0 + f;
        zones[z].in = (struct sb_rc_inputs){ tout, sol, NULL, occ, NULL };
        zones[z].lo = lo;
        zones[z].hi = hi;
        zones[z].q_cool_max_kw = 8.0;
        zones[z].q_heat_max_kw = 6.0;
    }
    p = (struct sb_mpc_problem){ .dt_s = DT, .n = N, .nzones = Z, .zones = zones, .price = price,
                                 .base_kw = base, .cop_cool = 3.2, .cop_heat = 1.0, .nwindows = 1,
                                 .windows = &w, .demand_mask = mask, .cap_kw = 400.0 };
    REQUIRE(sb_mpc_solve(&p, NULL, &r, err, sizeof err) == 0);
    printf("# 64x192: %d rows, %d cols, %ld nonzeros, %d iterations, %.3f s (status %s);"
           " cost %.1f vs baseline %.1f, peak %.1f vs %.1f kW, discomfort %.2f vs %.2f K h\n", r->rows, r->cols,
           r->nonzeros, r->iterations, r->solve_s, sb_mpc_status_str(r->status), r->tot.cost_total,
           r->base.cost_total, r->tot.peak_kw, r->base.peak_kw, r->tot.discomfort_kh, r->base.discomfort_kh);
    check_consistent(r, NULL);
    CHECK(r->tot.cost_total < r->base.cost_total);
    CHECK_EQ(r->cols, Z * N * 5 + 2 * N + 1);
    sb_mpc_result_free(r);
}

/* ---------- threads ---------- */

struct job {
    const struct sb_mpc_problem *p;
    double objective[8];
    int rc;
};

static void *solve_job(void *arg)
{
    struct job *j = arg;

    for (int i = 0; i < 8 && j->rc == 0; i++) {
        struct sb_mpc_result *r = NULL;

        j->rc = sb_mpc_solve(j->p, NULL, &r, NULL, 0);
        j->objective[i] = r ? r->objective : NAN;
        sb_mpc_result_free(r);
    }
    return NULL;
}

/* Four threads solving at once (each call owns its CLP model) get the
 * answer of a lone solve, every time. */
TEST(threads)
{
    struct one o;
    struct sb_mpc_result *r = NULL;
    struct sb_rc_params par = { SB_RC_3R2C, 4e6, 1.5e8, 0.0008, 0.006, 0.01, 2, 6, 0, 0, 0, 0 };
    pthread_t th[4];
    struct job jobs[4];

    one_init(&o, 96, (struct sb_rc_disc){ 0 }, 25.0, 21.0, 24.0, 30.0, 0.0);
    REQUIRE(sb_rc_discretize(&par, DT, &o.z.disc) == 0);
    for (size_t k = 0; k < 96; k++)
        o.price[k] = k >= 48 && k < 72 ? 0.4 : 0.08;
    REQUIRE(sb_mpc_solve(&o.p, NULL, &r, NULL, 0) == 0);
    for (int t = 0; t < 4; t++) {
        jobs[t] = (struct job){ .p = &o.p };
        REQUIRE(pthread_create(&th[t], NULL, solve_job, &jobs[t]) == 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(th[t], NULL);
        CHECK_EQ(jobs[t].rc, 0);
        for (int i = 0; i < 8; i++)
            CHECK_DBL(jobs[t].objective[i], r->objective, 1e-9 * fabs(r->objective));
    }
    sb_mpc_result_free(r);
}

/* ---------- refusals ---------- */

TEST(bad_problems)
{
    struct one o;
    struct sb_mpc_result *r = (struct sb_mpc_result *)&o;   /* must be reset to NULL */
    char err[128] = "";
    uint8_t mask[4] = { 0 };

    one_init(&o, 4, trivial_disc(0.0, 1.0), 22.0, 20.0, 24.0, 1.0, 1.0);
    o.p.n = 0;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    CHECK(r == NULL);
    CHECK(strstr(err, "size") != NULL);
    o.p.n = 4;
    o.z.disc.dt_s = 600;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "disc") != NULL);
    o.z.disc.dt_s = DT;
    o.price[2] = NAN;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.price[2] = 0.1;
    o.p.cop_cool = 0;
    CHECK_EQ(sb_mpc_baseline(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.p.cop_cool = 2;
    o.z.q_cool_max_kw = -1;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.z.q_cool_max_kw = 1;
    o.p.nwindows = 1;           /* windows without the array */
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.p.demand_mask = mask;
    o.p.windows = &(struct sb_mpc_window){ 1, 0 };
    o.p.demand_interval_s = 1000;   /* not a multiple of 900 */
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.p.demand_interval_s = 1800;
    o.tout[1] = INFINITY;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), SB_EINVAL);
    o.tout[1] = 30;
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, &r, err, sizeof err), 0);
    CHECK(r != NULL);
    sb_mpc_result_free(r);
    CHECK_EQ(sb_mpc_solve(&o.p, NULL, NULL, err, sizeof err), SB_EINVAL);
    CHECK_STR(sb_mpc_status_str(SB_MPC_SLACK), "slack");
}

int main(void)
{
    TAP_START();
    RUN(shift_to_cheap_steps);
    RUN(shift_to_better_cop);
    RUN(demand_charge);
    RUN(demand_interval);
    RUN(peak_cap);
    RUN(infeasible_band_is_slack);
    RUN(fuel_heating);
    RUN(brute_force_3_steps);
    RUN(precool_heavy_mass);
    RUN(baseline_matches_simulate);
    RUN(large_64x192);
    RUN(threads);
    RUN(bad_problems);
    TAP_END();
}

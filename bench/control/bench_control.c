/*
 * bench_control.c - supervisory control measured on the simulator's plant:
 * a fixed-schedule baseline against the model-predictive optimizer
 * (control/mpc.h) on two summer weeks (Houston) and two winter weeks
 * (Boston), reporting as BOPTEST does (Blum et al. 2021, "Building
 * optimization testing framework (BOPTEST) for simulation-based benchmarking
 * of control strategies in buildings", J. Building Performance Simulation
 * 14(5)): energy, cost, peak demand, thermal discomfort, time per step.
 *
 * The plant (sim/plant/plant.h, default 3-storey 5,000 m2 office, 15 zones)
 * runs in simulated time, one 60 s plant step per minute; the controller
 * decides every 15 min and writes each zone's htg_sp / clg_sp overrides,
 * which the plant's own VAV loops (and the AHU night-setback call) follow
 * every sub-step.  Per week: 3 days of warm-up and a training week under
 * the baseline with setpoint excitation, per-zone RC models identified from
 * the training week (analytics/rc.h, as svc_zone.c does from stored
 * history), then the test week under each controller from the same state
 * (the plant is deterministic: the warm-up and training are simply re-run).
 *
 * Forecasts for the MPC: weather = the EPW itself (a perfect forecast,
 * computed by the same interpolation and solar geometry as the plant);
 * occupancy, internal gains and the non-modelled electric load = their
 * profile in the training week by time of week; prices and demand windows
 * from the tariff engine (sb_tariff_prices).  Metrics use the real tariff
 * engine on the main meter's 15-minute energy (sb_tariff_compute).
 *
 * Usage: bench_control [-o results.json] [-w week] [-m margin_K] [-H horizon_h]
 *                      [-t tariff.json] [-s steps] [-p precool_h]  (from the repository root)
 * Single-threaded.  Everything it allocates it frees before exit.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analytics/rc.h"
#include "analytics/tariff.h"
#include "control/demand.h"
#include "control/mpc.h"
#include "core/err.h"
#include "core/tz.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"
#include "sim/weather/solar.h"

#define DT_S 900                /* control step, s */
#define SPS 96                  /* control steps per day */
#define WEEK (7 * SPS)          /* control steps per week */
#define WARM_DAYS 3             /* warm-up before the training week */
#define NTOT ((WARM_DAYS + 14) * SPS)   /* warm-up + training + test */
#define TEST0 ((WARM_DAYS + 7) * SPS)   /* first test step */
#define MAXZ 15
#define MAXH (4 * SPS)          /* longest horizon */
#define OCC_HEAT 21.0           /* occupied band, degC (the site's setpoints) */
#define OCC_COOL 24.0
#define UNOCC_HEAT 15.6         /* setback, degC */
#define UNOCC_COOL 26.7
#define OCC_FROM_H 7            /* occupied 7-19 h on weekdays (the benchmark's schedule) */
#define OCC_TO_H 19
#define DEADBAND 1.0            /* K: commanded cooling >= heating + this (no reheat fight) */
#define PRECOOL_FLOOR 21.0      /* degC: lowest commanded cooling setpoint (pre-cooling limit) */
#define GAS_PRICE 0.035         /* USD per kWh of gas (~1.03 USD/therm) */
#define BOILER_EFF 0.85         /* the site's boiler (sim-physics.md) */

enum ctl { CTL_BASELINE, CTL_MPC, CTL_DEMAND, CTL_COUNT };
static const char *const ctl_name[CTL_COUNT] = { "baseline", "mpc", "demand" };

#define DEMAND_FRAC 0.80        /* demand limiter: limit = this x the baseline's peak of the week */
#define RAMP_AWAY_KPM (2.0 / 60.0)   /* K/min: the daemon's default ramp away from comfort */
#define RAMP_BACK_KPM (6.0 / 60.0)   /* .. and back towards it */

/* One benchmark week. */
struct week {
    const char *name;           /* label */
    const char *epw;            /* weather file */
    const char *tz;             /* IANA zone of local standard time (no DST: the plant has none) */
    int y, m, d;                /* Monday of the test week, local */
};

static const struct week weeks[] = {
    { "houston-jul17", "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw",
      "Etc/GMT+6", 2023, 7, 17 },
    { "houston-aug07", "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw",
      "Etc/GMT+6", 2023, 8, 7 },
    { "boston-jan16", "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw",
      "Etc/GMT+5", 2023, 1, 16 },
    { "boston-feb06", "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw",
      "Etc/GMT+5", 2023, 2, 6 },
};
#define NWEEKS (sizeof weeks / sizeof weeks[0])

/* Run-wide options. */
struct opts {
    const char *json;           /* output file */
    const char *tariff;         /* tariff document */
    int week;                   /* -1 = all */
    double margin;              /* K kept inside the band by the MPC (model error) */
    int horizon;                /* MPC steps */
    int test_steps;             /* test steps per week (WEEK; fewer for a quick look) */
    int precool_h;              /* h before occupancy in which the AHUs may pre-cool (24: any) */
};

/* Point indices of one zone. */
struct zpts {
    int temp, air, htg, clg, flow, dat, occ, lights, plugs;
    int facade;                 /* SB_FACADE_* of a perimeter zone, -1 for a core */
};

/* Weather of each control step (means over the step), from the EPW. */
struct wx {
    double tout[NTOT + MAXH], ghi[NTOT + MAXH], fac[SB_FACADE_COUNT][NTOT + MAXH];
};

/* Everything recorded per control step k (inputs: means over [t_k, t_k + dt),
 * temperatures: the sensor at t_k). */
struct rec {
    double tz[MAXZ][NTOT + 1], q[MAXZ][NTOT], occ[MAXZ][NTOT], gains[MAXZ][NTOT];
    double p_kw[NTOT];          /* main meter, mean kW */
    double lp_kw[NTOT];         /* lights + plugs, mean kW */
    double qc_kw[NTOT];         /* zone cooling delivered, thermal kW */
    double gas_kwh[NTOT];
    double elec_kwh[NTOT];
    double disc_kh[MAXZ];       /* discomfort over the test steps, K h */
    double plan_p0[NTOT];       /* MPC: the plan's building kW for the step (NAN: none) */
    double t_step_s, t_step_max_s;  /* controller time per step */
    long n_steps, n_slack, n_fail;
};

/* Identified models and forecast profiles for the MPC. */
struct models {
    struct sb_rc_model m[MAXZ];
    struct sb_rc_disc d[MAXZ];
    double kc[2];               /* electric kW per kW of zone cooling: kc[0] + kc[1] T_out */
    double cop;                 /* the resulting COP at 25 degC (reported) */
    double base_prof[WEEK];     /* non-modelled electric load by time of week, kW */
};

/* One simulation. */
struct run {
    const struct week *w;
    const struct opts *o;
    struct sb_epw *epw;
    const struct sb_tz *tz;
    struct sb_tariff *tariff;
    struct sb_plant *p;
    int nz;
    struct zpts z[MAXZ];
    int main_kwh, gas_kwh, lights_kw, plugs_kw;
    int64_t t0_ms;              /* start of step 0 */
    struct wx *wx;
    struct rec *r;
    const struct models *md;    /* NULL unless MPC */
    enum ctl ctl;
    /* demand limiter (control/demand.h) on the baseline schedule */
    double limit_kw;            /* DEMAND_FRAC x the baseline's peak this week */
    struct sb_dlim dl;
    double off_k;               /* the offset applied now (ramped toward the level's) */
    double last_kwh;            /* main meter at the last minute */
};

/* ---- time ---- */

static int64_t step_ms(const struct run *u, int k)
{
    return u->t0_ms + (int64_t)k * DT_S * 1000;
}

/* Occupied by the benchmark's schedule at instant t (local standard time). */
static int occupied(const struct run *u, int64_t t_ms)
{
    double ls = (double)t_ms / 1000.0 + u->epw->tz_h * 3600.0;
    int64_t days = (int64_t)floor(ls / 86400.0);
    int wd = (int)(((days + 4) % 7 + 7) % 7);     /* 0 Sunday; 1970-01-01 a Thursday */
    double h = (ls - (double)days * 86400.0) / 3600.0;

    return wd >= 1 && wd <= 5 && h >= OCC_FROM_H && h < OCC_TO_H;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- weather: the EPW as the plant sees it (plant.c update_weather) ---- */

static void wx_fill(struct run *u)
{
    const struct sb_epw *e = u->epw;

    for (int k = 0; k < NTOT + MAXH; k++) {
        double t = 0, g = 0, f[SB_FACADE_COUNT] = { 0 };

        for (int s = 1; s <= 15; s++) {     /* the minutes of the step, as the plant steps */
            int64_t ms = step_ms(u, k) + (int64_t)s * 60000;
            double hoy = sb_epw_hour_of_year(ms, e->tz_h);
            struct sb_weather w;
            struct sb_solar sun;

            sb_epw_at(e, hoy, &w);
            sb_solar_position(e->lat, e->lon, e->tz_h, hoy, &sun);
            t += w.tdb / 15.0;
            g += w.ghi / 15.0;
            for (int i = 0; i < SB_FACADE_COUNT; i++)
                f[i] += sb_solar_vertical(&sun, (enum sb_facade)i, w.dni, w.dhi, w.ghi, 0.2) / 15.0;
        }
        u->wx->tout[k] = t;
        u->wx->ghi[k] = g;
        for (int i = 0; i < SB_FACADE_COUNT; i++)
            u->wx->fac[i][k] = f[i];
    }
}

/* The solar proxy of zone z at step k: its facade's irradiance, or GHI. */
static double solar_of(const struct run *u, int z, int k)
{
    int f = u->z[z].facade;

    return f >= 0 ? u->wx->fac[f][k] : u->wx->ghi[k];
}

/* ---- plant set-up ---- */

static int find_name(const struct run *u, const char *name, int *idx)
{
    *idx = sb_plant_find(u->p, name);
    if (*idx < 0)
        fprintf(stderr, "bench_control: no point %s\n", name);
    return *idx < 0 ? *idx : 0;
}

/* The point "floor<fl>.zone<zi>.<leaf>". */
static int find(const struct run *u, const char *leaf, int fl, int zi, int *idx)
{
    char name[96];

    snprintf(name, sizeof name, "floor%d.zone%d.%s", fl, zi, leaf);
    return find_name(u, name, idx);
}

static int zone_points(struct run *u, int fl, int zi, struct zpts *z)
{
    int rc = 0;

    rc |= find(u, "temp", fl, zi, &z->temp);
    rc |= find(u, "air_temp", fl, zi, &z->air);
    rc |= find(u, "htg_sp", fl, zi, &z->htg);
    rc |= find(u, "clg_sp", fl, zi, &z->clg);
    rc |= find(u, "vav.flow", fl, zi, &z->flow);
    rc |= find(u, "vav.dat", fl, zi, &z->dat);
    rc |= find(u, "occupancy", fl, zi, &z->occ);
    rc |= find(u, "lights_kw", fl, zi, &z->lights);
    rc |= find(u, "plugs_kw", fl, zi, &z->plugs);
    z->facade = zi <= 4 ? zi - 1 : -1;    /* site.c: zones 1-4 face S, E, N, W */
    return rc ? SB_ENOENT : 0;
}

static int plant_open(struct run *u)
{
    struct sb_plant_config cfg;
    char err[256] = "";
    int rc;

    sb_plant_config_default(&cfg);
    /* the AHUs' occupied schedule = the benchmark's occupied hours */
    cfg.occ_start_h = OCC_FROM_H;
    cfg.occ_end_h = OCC_TO_H;
    if ((rc = sb_plant_new(&cfg, u->epw, u->t0_ms, &u->p, err, sizeof err)) != 0) {
        fprintf(stderr, "bench_control: plant: %s\n", err);
        return rc;
    }
    u->nz = cfg.floors * cfg.zones_per_floor;
    if (u->nz > MAXZ)
        return SB_ERANGE;
    for (int f = 1, k = 0; f <= cfg.floors; f++)
        for (int i = 1; i <= cfg.zones_per_floor; i++, k++)
            if ((rc = zone_points(u, f, i, &u->z[k])) != 0)
                return rc;
    rc = 0;
    rc |= find_name(u, "meter.main.kwh", &u->main_kwh);
    rc |= find_name(u, "meter.gas.kwh", &u->gas_kwh);
    rc |= find_name(u, "meter.lighting.kw", &u->lights_kw);
    rc |= find_name(u, "meter.plugs.kw", &u->plugs_kw);
    return rc ? SB_ENOENT : 0;
}

static double rd(const struct run *u, int idx)
{
    double v = NAN;

    sb_plant_read(u->p, idx, &v);
    return v;
}

/* ---- controllers ---- */

static void write_sp(struct run *u, int z, double heat, double cool)
{
    heat = fmin(fmax(heat, 5.0), 30.0);
    cool = fmin(fmax(cool, 15.0), 40.0);
    if (heat > cool)
        heat = cool;
    sb_plant_write(u->p, u->z[z].htg, heat);
    sb_plant_write(u->p, u->z[z].clg, cool);
}

/* Baseline: fixed occupied setpoints 7-19 h on weekdays, setback otherwise. */
static void ctl_baseline(struct run *u, int k)
{
    int occ = occupied(u, step_ms(u, k));

    for (int z = 0; z < u->nz; z++)
        write_sp(u, z, occ ? OCC_HEAT : UNOCC_HEAT, occ ? OCC_COOL : UNOCC_COOL);
}

/* Training: the baseline with excitation, so that the identification sees
 * the zones move under changing heat input (Bacher & Madsen 2011 fit a
 * PRBS-excited house): every 2 h each zone's band moves by -1.5, 0 or
 * +1.5 K when occupied, and some unoccupied hours run a narrow band
 * (night pre-cooling / pre-heating, what the MPC will do). Deterministic. */
static void ctl_train(struct run *u, int k)
{
    int occ = occupied(u, step_ms(u, k));

    for (int z = 0; z < u->nz; z++) {
        unsigned h = (unsigned)(k / 8) * 2654435761u ^ (unsigned)(z + 1) * 40503u;
        int pick = (int)((h >> 13) % 3u) - 1;

        h = h * 1103515245u + 12345u;
        if (occ)
            write_sp(u, z, OCC_HEAT + 1.5 * pick, OCC_COOL + 1.5 * pick);
        else if ((h >> 16) % 4u == 0)
            write_sp(u, z, OCC_HEAT - 1.0, OCC_COOL - 1.0 + 1.0 * pick);
        else
            write_sp(u, z, UNOCC_HEAT, UNOCC_COOL);
    }
}

/* Storage of one MPC problem. */
struct mpcbuf {
    struct sb_mpc_zone zn[MAXZ];
    double lo[MAXZ][MAXH], hi[MAXZ][MAXH], bh[MAXZ][MAXH], bc[MAXZ][MAXH];
    double sol[MAXZ][MAXH], occ[MAXZ][MAXH], gains[MAXZ][MAXH];
    double price[MAXH], base[MAXH], cop[MAXH];
    uint8_t mask[MAXH];
    struct sb_tariff_step ts[MAXH];
    struct sb_mpc_window win[SB_MPC_MAX_WINDOWS];
};

/* Time-of-week index of step k (the training and test weeks both start on
 * a Monday at 00:00, step WARM_DAYS * SPS and TEST0). */
static int tow(int k)
{
    return ((k - WARM_DAYS * SPS) % WEEK + WEEK) % WEEK;
}

/* Profile of a recorded series over the training week. */
static double train_at(const double *v, int k)
{
    return v[WARM_DAYS * SPS + tow(k)];
}

/* Peak already set this billing period (the test week so far) in the
 * demand window w: the measured 15-min mean kW of the steps in it. */
static double prior_peak(const struct run *u, int k, int w)
{
    struct sb_tariff_step ts[WEEK];
    double pk = 0;

    if (k == TEST0)
        return 0;
    if (sb_tariff_prices(u->tariff, &(struct sb_tariff_site){ .tz = u->tz }, step_ms(u, TEST0) / 1000, DT_S,
                         (size_t)(k - TEST0), ts) != 0)
        return 0;
    for (int j = TEST0; j < k; j++)
        if (ts[j - TEST0].demand_mask & (1u << w))
            pk = fmax(pk, u->r->p_kw[j]);
    return pk;
}

static int mpc_zone(struct run *u, struct mpcbuf *b, int z, int k, int n)
{
    struct sb_mpc_zone *zn = &b->zn[z];
    const struct sb_rc_model *m = &u->md->m[z];
    struct rec *r = u->r;
    int from = k - (SPS - 1);
    struct sb_rc_inputs hist;
    double tout[SPS], sol[SPS];

    for (int i = 0; i < SPS; i++) {
        tout[i] = u->wx->tout[from + i];
        sol[i] = solar_of(u, z, from + i);
    }
    hist = (struct sb_rc_inputs){ .t_out = tout, .solar = sol, .q_kw = &r->q[z][from],
                                  .occ = &r->occ[z][from], .gains_kw = &r->gains[z][from] };
    memset(zn, 0, sizeof *zn);
    zn->disc = u->md->d[z];
    if (sb_rc_observe(&zn->disc, m->obs_gain, &r->tz[z][from], &hist, SPS, zn->x0) != 0)
        return SB_EINVAL;
    for (int i = 0; i < n; i++) {
        int occ = occupied(u, step_ms(u, k + i + 1) - 1);   /* the band T must meet at t_{k+1} */

        b->lo[z][i] = (occ ? OCC_HEAT : UNOCC_HEAT) + u->o->margin;
        b->hi[z][i] = (occ ? OCC_COOL : UNOCC_COOL) - u->o->margin;
        b->bh[z][i] = occupied(u, step_ms(u, k + i)) ? OCC_HEAT : UNOCC_HEAT;
        b->bc[z][i] = occupied(u, step_ms(u, k + i)) ? OCC_COOL : UNOCC_COOL;
        b->sol[z][i] = solar_of(u, z, k + i);
        b->occ[z][i] = train_at(r->occ[z], k + i);
        b->gains[z][i] = train_at(r->gains[z], k + i);
    }
    zn->in = (struct sb_rc_inputs){ .t_out = &u->wx->tout[k], .solar = b->sol[z], .occ = b->occ[z],
                                    .gains_kw = b->gains[z] };
    zn->lo = b->lo[z];
    zn->hi = b->hi[z];
    zn->base_heat_sp = b->bh[z];
    zn->base_cool_sp = b->bc[z];
    /* capacities: the training week's largest flows were not the boxes'
     * maxima (a hotter week asks more), hence 1.25 x; reheat at minimum
     * flow gives about 0.4 x the cooling at maximum flow (30 % flow, ~15 K
     * against ~11 K), which a summer training week may never have used */
    zn->q_cool_max_kw = 1.25 * m->q_cool_max_kw;
    zn->q_heat_max_kw = fmax(1.25 * m->q_heat_max_kw, 0.4 * zn->q_cool_max_kw);
    return 0;
}

/* The fitted cooling COP at outdoor temperature t, kept within 1..20. */
static double cop_at(const struct models *md, double t)
{
    return 1.0 / fmin(1.0, fmax(0.05, md->kc[0] + md->kc[1] * t));
}

static int mpc_problem(struct run *u, struct mpcbuf *b, int k, int n, struct sb_mpc_problem *p)
{
    const struct sb_tariff *t = u->tariff;
    int rc;

    if ((rc = sb_tariff_prices(t, &(struct sb_tariff_site){ .tz = u->tz }, step_ms(u, k) / 1000, DT_S,
                               (size_t)n, b->ts)) != 0)
        return rc;
    /* offset-free correction (Pannocchia & Rawlings 2003, a disturbance
     * model on the output): last step's error of the load model, measured
     * main meter against profile + measured cooling / COP, carried into
     * the forecast and fading with a 2 h time constant */
    double e = u->r->p_kw[k - 1] - (u->md->base_prof[tow(k - 1)] +
                                     u->r->qc_kw[k - 1] / cop_at(u->md, u->wx->tout[k - 1]));
    for (int i = 0; i < n; i++) {
        b->cop[i] = cop_at(u->md, u->wx->tout[k + i]);
        b->price[i] = b->ts[i].price;
        b->mask[i] = b->ts[i].demand_mask;
        b->base[i] = fmax(0, u->md->base_prof[tow(k + i)] + e * exp(-(double)i / 8.0));
    }
    for (int w = 0; w < t->n_demand && w < SB_MPC_MAX_WINDOWS; w++)
        b->win[w] = (struct sb_mpc_window){ .price_per_kw = t->demand[w].price,
                                            .prior_peak_kw = prior_peak(u, k, w) };
    for (int z = 0; z < u->nz; z++)
        if ((rc = mpc_zone(u, b, z, k, n)) != 0)
            return rc;
    *p = (struct sb_mpc_problem){
        .dt_s = DT_S, .n = (size_t)n, .nzones = (size_t)u->nz, .zones = b->zn, .price = b->price,
        .base_kw = b->base, .cop_cool = u->md->cop, .cop_cool_k = b->cop, .heat_fuel = 1, .cop_heat = 1.0,
        .fuel_eff = BOILER_EFF, .fuel_price = GAS_PRICE,
        .nwindows = t->n_demand < SB_MPC_MAX_WINDOWS ? t->n_demand : SB_MPC_MAX_WINDOWS,
        .windows = b->win, .demand_mask = b->mask, .demand_interval_s = 60.0 * t->demand_min,
    };
    return 0;
}

/*
 * The plan's first step as zone setpoints.  The plan's setpoints follow its
 * air temperature, so while cooling the heating setpoint can sit at the
 * same value; a VAV box at minimum flow then reheats what it cools.  So the
 * commands keep a dead band (ASHRAE 90.1-2019 6.4.3.1.2 asks 5 degF for
 * zones with heating and cooling; 1.5 K here, the occupied band being 3 K):
 * while cooling, the heating setpoint is the comfort floor (occupied) or
 * the setback (unoccupied) and cooling stays DEADBAND above it, never below
 * PRECOOL_FLOOR (pre-cooling down to the comfort band's low edge, as in
 * Braun 2003, "Load control using building thermal mass", J. Solar Energy
 * Eng. 125(3)); while heating, cooling stays DEADBAND above the heating.
 * Pre-cooling outside occupied hours only in the precool_h before them: a
 * zone's cooling call starts its floor's AHU (night-setback call), whose
 * minimum flows then overcool every other zone on the floor all night, which
 * the per-zone models cannot see (measured: gas for reheat at 6-8 h).
 */
static void mpc_command(struct run *u, int z, int k, const struct sb_mpc_result *r)
{
    size_t i = (size_t)z * r->n;
    int occ = occupied(u, step_ms(u, k));
    double heat = r->heat_sp[i], cool = r->cool_sp[i];

    if (r->q_heat[i] > 1e-3) {
        cool = fmax(cool, heat + DEADBAND);
    } else if (!occ && !occupied(u, step_ms(u, k) + u->o->precool_h * 3600000LL) && u->o->precool_h < 24) {
        cool = fmax(cool, UNOCC_COOL);      /* no night cooling but the setback's */
        heat = fmin(heat, cool - DEADBAND);
    } else {
        heat = fmin(heat, occ ? OCC_HEAT : UNOCC_HEAT);
        cool = fmax(cool, fmax(PRECOOL_FLOOR, heat + DEADBAND));
    }
    write_sp(u, z, heat, cool);
}

static void debug_plan(const struct run *u, int k, const struct sb_mpc_problem *p, const struct sb_mpc_result *r)
{
    fprintf(stderr, "k=%d occ=%d solve=%.3fs it=%d rows=%d cols=%d st=%d P0=%.1f base0=%.1f cop=%.2f\n", k,
            occupied(u, step_ms(u, k)), r->solve_s, r->iterations, r->rows, r->cols, r->status, r->p_kw[0],
            p->base_kw[0], p->cop_cool);
    fprintf(stderr, "  plan: cost %.1f peak %.1f kWh %.0f | baseline: cost %.1f peak %.1f kWh %.0f disc %.2f/%.2f\n  P:",
            r->tot.cost_total, r->tot.peak_kw, r->tot.kwh_elec, r->base.cost_total, r->base.peak_kw,
            r->base.kwh_elec, r->tot.discomfort_kh, r->base.discomfort_kh);
    for (size_t i = 0; i < r->n; i += 4)
        fprintf(stderr, " %.0f", r->p_kw[i]);
    fprintf(stderr, "\n  prior:");
    for (size_t w = 0; w < p->nwindows; w++)
        fprintf(stderr, " %.1f", p->windows[w].prior_peak_kw);
    fprintf(stderr, "\n");
    for (int z = 0; z < u->nz; z += 4)
        fprintf(stderr, "  z%d T=%.2f x0=(%.2f,%.2f) qc=%.2f qh=%.2f sp=(%.2f,%.2f) Tplan=%.2f Qmax=(%.1f,%.1f)\n", z,
                u->r->tz[z][k], p->zones[z].x0[0], p->zones[z].x0[1], r->q_cool[(size_t)z * r->n],
                r->q_heat[(size_t)z * r->n], r->heat_sp[(size_t)z * r->n], r->cool_sp[(size_t)z * r->n],
                r->t_air[(size_t)z * r->n], p->zones[z].q_cool_max_kw, p->zones[z].q_heat_max_kw);
}

/* MPC: plan the horizon, apply the first step's setpoints (receding horizon). */
static int ctl_mpc(struct run *u, int k)
{
    static struct mpcbuf b;     /* ~1 MB of problem arrays: static, the program is single-threaded */
    struct sb_mpc_problem p;
    struct sb_mpc_result *res = NULL;
    char err[256] = "";
    double t0 = now_s(), dt;
    int rc, n = u->o->horizon;

    if ((rc = mpc_problem(u, &b, k, n, &p)) != 0 ||
        (rc = sb_mpc_solve(&p, NULL, &res, err, sizeof err)) != 0) {
        fprintf(stderr, "bench_control: mpc step %d: %s (%s)\n", k, sb_strerror(rc), err);
        ctl_baseline(u, k);
        u->r->n_fail++;
        goto out;
    }
    if (res->status == SB_MPC_SOLVER) {
        ctl_baseline(u, k);
        u->r->n_fail++;
        goto out;
    }
    u->r->n_slack += res->status == SB_MPC_SLACK;
    if (getenv("BENCH_CONTROL_DEBUG"))
        debug_plan(u, k, &p, res);
    for (int z = 0; z < u->nz; z++)
        mpc_command(u, z, k, res);
    u->r->plan_p0[k] = res->p_kw[0];
out:
    dt = now_s() - t0;
    u->r->t_step_s += dt;
    u->r->t_step_max_s = fmax(u->r->t_step_max_s, dt);
    u->r->n_steps++;
    sb_mpc_result_free(res);
    return 0;
}

/* ---- simulation ---- */

/* The demand limiter on the baseline, each plant minute: the main meter's
 * last minute of power into the limiter; the occupied band widened by its
 * level's offset, moved at the daemon's default ramps (2 K/h away from
 * comfort, 6 K/h back), as the arbitration would. */
static void demand_minute(struct run *u, int64_t t_ms)
{
    struct sb_dlim_cfg c;
    double kwh = rd(u, u->main_kwh), kw = (kwh - u->last_kwh) * 60.0;
    int occ = occupied(u, t_ms);

    u->last_kwh = kwh;
    sb_dlim_cfg_default(&c, u->limit_kw);
    int level = sb_dlim_update(&u->dl, &c, t_ms, kw);
    double want = occ ? sb_dlim_offset_k(level) : 0.0;
    u->off_k = want > u->off_k ? fmin(want, u->off_k + RAMP_AWAY_KPM)
                               : fmax(want, u->off_k - RAMP_BACK_KPM);
    for (int z = 0; z < u->nz; z++)
        write_sp(u, z, occ ? OCC_HEAT - u->off_k : UNOCC_HEAT, occ ? OCC_COOL + u->off_k : UNOCC_COOL);
}

/* One control step k: the controller, then 15 plant minutes, recording
 * means and (in the test) discomfort. */
static int sim_step(struct run *u, int k)
{
    struct rec *r = u->r;
    double e0 = rd(u, u->main_kwh), g0 = rd(u, u->gas_kwh), lp = 0, qc = 0;
    double q[MAXZ] = { 0 }, oc[MAXZ] = { 0 }, ga[MAXZ] = { 0 };
    int rc, test = k >= TEST0;

    for (int z = 0; z < u->nz; z++)
        r->tz[z][k] = rd(u, u->z[z].temp);
    if (k < WARM_DAYS * SPS || (test && (u->ctl == CTL_BASELINE || u->ctl == CTL_DEMAND)))
        ctl_baseline(u, k);
    else if (!test)
        ctl_train(u, k);
    else
        ctl_mpc(u, k);
    for (int s = 1; s <= 15; s++) {
        int64_t t = step_ms(u, k) + (int64_t)s * 60000;

        if (test && u->ctl == CTL_DEMAND)
            demand_minute(u, t - 60000);
        if ((rc = sb_plant_step(u->p, 60.0, t)) != 0)
            return rc;
        lp += (rd(u, u->lights_kw) + rd(u, u->plugs_kw)) / 15.0;
        for (int z = 0; z < u->nz; z++) {
            double ta = rd(u, u->z[z].temp), qz;

            qz = sb_rc_q_from_airflow(rd(u, u->z[z].flow), rd(u, u->z[z].dat), ta);
            q[z] += qz / 15.0;
            qc += fmax(0, -qz) / 15.0;
            oc[z] += rd(u, u->z[z].occ) / 15.0;
            ga[z] += (rd(u, u->z[z].lights) + rd(u, u->z[z].plugs)) / 15.0;
            /* BOPTEST tdis: deviation from the comfort band, integrated;
             * here the occupied band over the occupied minutes (midpoint) */
            if (test && occupied(u, t - 30000)) {
                double air = rd(u, u->z[z].air);
                r->disc_kh[z] += fmax(0, fmax(OCC_HEAT - air, air - OCC_COOL)) / 60.0;
            }
        }
    }
    for (int z = 0; z < u->nz; z++) {
        r->q[z][k] = q[z];
        r->occ[z][k] = oc[z];
        r->gains[z][k] = ga[z];
    }
    r->elec_kwh[k] = rd(u, u->main_kwh) - e0;
    r->p_kw[k] = r->elec_kwh[k] * 3600.0 / DT_S;
    r->gas_kwh[k] = rd(u, u->gas_kwh) - g0;
    r->lp_kw[k] = lp;
    r->qc_kw[k] = qc;
    return 0;
}

static int simulate(struct run *u, int until)
{
    int rc;

    sb_plant_free(u->p);
    u->p = NULL;
    memset(u->r, 0, sizeof *u->r);
    for (int k = 0; k < NTOT; k++)
        u->r->plan_p0[k] = NAN;
    sb_dlim_init(&u->dl);
    u->off_k = 0;
    if ((rc = plant_open(u)) != 0)
        return rc;
    u->last_kwh = rd(u, u->main_kwh);
    for (int k = 0; k < until; k++)
        if ((rc = sim_step(u, k)) != 0)
            return rc;
    for (int z = 0; z < u->nz; z++)
        u->r->tz[z][until] = rd(u, u->z[z].temp);
    return 0;
}

/* ---- identification (after the warm-up + training run) ---- */

static int identify_zone(const struct run *u, int z, struct sb_rc_model *m)
{
    int from = SPS, n = TEST0 - from;   /* skip the first warm-up day */
    double sol[NTOT];
    char err[256] = "";
    int rc;

    for (int k = 0; k < n; k++)
        sol[k] = solar_of(u, z, from + k);
    struct sb_rc_data d = {
        .t0_ms = step_ms(u, from), .dt_s = DT_S, .n = (size_t)n, .t_zone = &u->r->tz[z][from],
        .u = { .t_out = &u->wx->tout[from], .solar = sol, .q_kw = &u->r->q[z][from],
               .occ = &u->r->occ[z][from], .gains_kw = &u->r->gains[z][from] },
    };
    if ((rc = sb_rc_identify(&d, NULL, m, err, sizeof err)) != 0)
        fprintf(stderr, "bench_control: zone %d: %s\n", z, err);
    return rc;
}

/* Solves the 3 x 3 system m x = v by Cramer's rule; 0, or SB_ERANGE when singular. */
static int solve3(double m[3][3], const double v[3], double x[3])
{
    double d = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
               m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);

    if (fabs(d) < 1e-12)
        return SB_ERANGE;
    for (int c = 0; c < 3; c++) {
        double a[3][3];

        memcpy(a, m, sizeof a);
        for (int r = 0; r < 3; r++)
            a[r][c] = v[r];
        x[c] = (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) / d;
    }
    return 0;
}

/* Effective electric cooling COP as a function of the outdoor temperature:
 * least squares of the HVAC-and-other electric load (main - lights - plugs)
 * y = a + (b + c T_out) Q_c on the zones' delivered cooling over the
 * training week - an air-cooled chiller's input per kW rises with the
 * outdoor temperature (DOE-2 EIR-FT, the plant's chiller model), so the
 * afternoon's cooling costs more than the morning's.  The intercept and
 * what the line misses stay in the non-modelled load profile (fans at
 * minimum, OA and latent loads). */
static void fit_cop(const struct run *u, struct models *md)
{
    double m[3][3] = { { 0 } }, v[3] = { 0 }, x[3];

    for (int k = WARM_DAYS * SPS; k < TEST0; k++) {
        double f[3] = { 1.0, u->r->qc_kw[k], u->r->qc_kw[k] * u->wx->tout[k] };
        double y = u->r->p_kw[k] - u->r->lp_kw[k];

        for (int i = 0; i < 3; i++) {
            v[i] += f[i] * y;
            for (int j = 0; j < 3; j++)
                m[i][j] += f[i] * f[j];
        }
    }
    if (solve3(m, v, x) != 0)
        x[1] = x[2] = 0;
    md->kc[0] = x[1];
    md->kc[1] = x[2];
    md->cop = cop_at(md, 25.0);     /* for the report */
    for (int k = WARM_DAYS * SPS; k < TEST0; k++)
        md->base_prof[tow(k)] = fmax(u->r->lp_kw[k], u->r->p_kw[k] - u->r->qc_kw[k] / cop_at(md, u->wx->tout[k]));
}

static int identify(struct run *u, struct models *md)
{
    int rc;

    for (int z = 0; z < u->nz; z++) {
        if ((rc = identify_zone(u, z, &md->m[z])) != 0)
            return rc;
        if ((rc = sb_rc_discretize(&md->m[z].p, DT_S, &md->d[z])) != 0)
            return rc;
    }
    fit_cop(u, md);
    return 0;
}

/* ---- metrics ---- */

struct metrics {
    double kwh, kwh_m2, gas_kwh, cost_elec, cost_energy, cost_demand, cost_gas, cost, peak_kw;
    double disc[MAXZ], disc_tot, disc_per_zone, disc_max;
    double t_mean_s, t_max_s;
    double plan_mae_kw, plan_bias_kw;   /* MPC: measured - planned kW of each step */
    long slack, fail;
};

static int bill(const struct run *u, int n, struct metrics *m)
{
    struct sb_tariff_series s = { .kwh = &u->r->elec_kwh[TEST0], .n = (size_t)n,
                                  .start = step_ms(u, TEST0) / 1000, .interval_s = DT_S };
    struct sb_tariff_site site = { .tz = u->tz };
    struct sb_tariff_bill bills[2];
    size_t nb = 0;
    int rc;

    if ((rc = sb_tariff_compute(u->tariff, &site, &s, bills, 2, &nb, NULL, 0, NULL)) != 0)
        return rc;
    for (size_t i = 0; i < nb; i++) {
        m->cost_elec += bills[i].total;
        for (uint32_t l = 0; l < bills[i].n_lines; l++) {
            const struct sb_tariff_line *ln = &bills[i].lines[l];
            if (ln->kind == SB_TL_DEMAND)
                m->cost_demand += ln->cost;
            else if (ln->kind == SB_TL_ENERGY)
                m->cost_energy += ln->cost;
        }
    }
    return 0;
}

static int measure(const struct run *u, double area, int n, struct metrics *m)
{
    const struct rec *r = u->r;

    memset(m, 0, sizeof *m);
    if (getenv("BENCH_CONTROL_CSV"))
        for (int k = TEST0; k < TEST0 + n; k++)
            fprintf(stderr, "csv,%d,%d,%.1f,%.1f,%.2f,%.2f,%.2f,%.2f,%.2f\n", u->ctl, k - TEST0, r->p_kw[k],
                    r->lp_kw[k], r->qc_kw[k], r->gas_kwh[k] * 4, r->tz[0][k], r->tz[4][k], u->wx->tout[k]);
    for (int k = TEST0; k < TEST0 + n; k++) {
        m->kwh += r->elec_kwh[k];
        m->gas_kwh += r->gas_kwh[k];
        m->peak_kw = fmax(m->peak_kw, r->p_kw[k]);
    }
    m->kwh_m2 = m->kwh / area;
    if (u->ctl == CTL_MPC) {
        int np = 0;
        for (int k = TEST0; k < TEST0 + n; k++)
            if (isfinite(r->plan_p0[k])) {
                m->plan_mae_kw += fabs(r->p_kw[k] - r->plan_p0[k]);
                m->plan_bias_kw += r->p_kw[k] - r->plan_p0[k];
                np++;
            }
        m->plan_mae_kw /= np > 0 ? np : 1;
        m->plan_bias_kw /= np > 0 ? np : 1;
    }
    m->cost_gas = GAS_PRICE * m->gas_kwh;
    for (int z = 0; z < u->nz; z++) {
        m->disc[z] = r->disc_kh[z];
        m->disc_tot += r->disc_kh[z];
        m->disc_max = fmax(m->disc_max, r->disc_kh[z]);
    }
    m->disc_per_zone = m->disc_tot / u->nz;
    m->t_mean_s = r->n_steps ? r->t_step_s / (double)r->n_steps : 0;
    m->t_max_s = r->t_step_max_s;
    m->slack = r->n_slack;
    m->fail = r->n_fail;
    if (bill(u, n, m) != 0)
        return SB_EINVAL;
    m->cost = m->cost_elec + m->cost_gas;
    return 0;
}

/* ---- output ---- */

static double pct(double a, double b)
{
    return b != 0 ? 100.0 * (a - b) / b : 0;
}

static double mean(const double *v, int n)
{
    double a = 0;

    for (int i = 0; i < n; i++)
        a += v[i] / n;
    return a;
}

static void print_row(const char *week, const char *ctl, const struct metrics *m, const struct metrics *b)
{
    printf("%-14s %-9s %9.0f %6.2f %8.0f %9.0f %7.1f %7.2f %7.3f", week, ctl, m->kwh, m->kwh_m2, m->gas_kwh,
           m->cost, m->peak_kw, m->disc_per_zone, m->t_mean_s * 1000.0);
    if (b && m != b)
        printf("   %+6.1f%% %+6.1f%% %+6.1f%% %+6.1f%%", pct(m->kwh, b->kwh), pct(m->gas_kwh, b->gas_kwh),
               pct(m->cost, b->cost), pct(m->peak_kw, b->peak_kw));
    printf("\n");
}

static void json_metrics(FILE *f, const struct metrics *m, int nz)
{
    fprintf(f, "{\"elec_kwh\": %.3f, \"elec_kwh_m2\": %.5f, \"gas_kwh\": %.3f, \"cost_total\": %.2f, "
               "\"cost_elec\": %.2f, \"cost_elec_energy\": %.2f, \"cost_elec_demand\": %.2f, \"cost_gas\": %.2f, "
               "\"peak_kw_15min\": %.3f, \"tdis_kh_total\": %.4f, \"tdis_kh_per_zone\": %.4f, "
               "\"tdis_kh_worst_zone\": %.4f, \"step_time_mean_s\": %.6f, \"step_time_max_s\": %.6f, "
               "\"plan_vs_measured_kw_mae\": %.3f, \"plan_vs_measured_kw_bias\": %.3f, "
               "\"steps_with_slack\": %ld, \"steps_failed\": %ld, \"tdis_kh_by_zone\": [",
            m->kwh, m->kwh_m2, m->gas_kwh, m->cost, m->cost_elec, m->cost_energy, m->cost_demand, m->cost_gas,
            m->peak_kw, m->disc_tot, m->disc_per_zone, m->disc_max, m->t_mean_s, m->t_max_s, m->plan_mae_kw,
            m->plan_bias_kw, m->slack, m->fail);
    for (int z = 0; z < nz; z++)
        fprintf(f, "%s%.4f", z ? ", " : "", m->disc[z]);
    fprintf(f, "]}");
}

static void sum_into(struct metrics *t, const struct metrics *m, int nz)
{
    t->kwh += m->kwh;
    t->kwh_m2 += m->kwh_m2;
    t->gas_kwh += m->gas_kwh;
    t->cost += m->cost;
    t->cost_elec += m->cost_elec;
    t->cost_energy += m->cost_energy;
    t->cost_demand += m->cost_demand;
    t->cost_gas += m->cost_gas;
    t->peak_kw = fmax(t->peak_kw, m->peak_kw);
    for (int z = 0; z < nz; z++)
        t->disc[z] += m->disc[z];
    t->disc_tot += m->disc_tot;
    t->disc_per_zone += m->disc_per_zone;
    t->disc_max = fmax(t->disc_max, m->disc_max);
    t->t_mean_s += m->t_mean_s;     /* divided by the week count at the end */
    t->t_max_s = fmax(t->t_max_s, m->t_max_s);
    t->plan_mae_kw += m->plan_mae_kw;     /* divided by the week count at the end */
    t->plan_bias_kw += m->plan_bias_kw;
    t->slack += m->slack;
    t->fail += m->fail;
}

/* ---- one week ---- */

struct week_out {
    struct metrics m[CTL_COUNT];
    double rmse_24h[MAXZ], cop;
    int nz;
    double sec;
};

static int load_epw(struct run *u)
{
    char err[256] = "";
    int rc;

    if (!(u->epw = malloc(sizeof *u->epw)))
        return SB_ENOMEM;
    if ((rc = sb_epw_load(u->w->epw, u->epw, err, sizeof err)) != 0)
        fprintf(stderr, "bench_control: %s: %s\n", u->w->epw, err);
    return rc;
}

static int run_week(struct run *u, struct models *md, struct week_out *wo)
{
    int64_t day = sb_days_from_civil(u->w->y, (unsigned)u->w->m, (unsigned)u->w->d) - 7 - WARM_DAYS;
    double t0 = now_s();
    int rc, n = u->o->test_steps;

    if ((rc = load_epw(u)) != 0)
        return rc;
    if (!(u->tz = sb_tz_get(u->w->tz)))
        return SB_ENOENT;
    u->t0_ms = (day * 86400 - (int64_t)llround(u->epw->tz_h * 3600.0)) * 1000;
    wx_fill(u);
    u->ctl = CTL_BASELINE;
    if ((rc = simulate(u, TEST0)) != 0 || (rc = identify(u, md)) != 0)
        return rc;
    wo->cop = md->cop;
    for (int z = 0; z < u->nz; z++)
        wo->rmse_24h[z] = md->m[z].sc.rmse_24h;
    u->md = md;
    for (int c = 0; c < CTL_COUNT; c++) {
        u->ctl = (enum ctl)c;
        /* the limit: a fifth under what the baseline reached this week */
        u->limit_kw = DEMAND_FRAC * wo->m[CTL_BASELINE].peak_kw;
        if ((rc = simulate(u, TEST0 + n)) != 0)
            return rc;
        if ((rc = measure(u, 5000.0, n, &wo->m[c])) != 0)
            return rc;
    }
    wo->nz = u->nz;
    wo->sec = now_s() - t0;
    return 0;
}

/* ---- main ---- */

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .json = "bench/control/results.json", .tariff = "bench/control/tariff-b19.json",
                        .week = -1, .margin = 0.2, .horizon = SPS, .test_steps = WEEK, .precool_h = 3 };
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];

        if (!strcmp(a, "-o"))
            o->json = v;
        else if (!strcmp(a, "-t"))
            o->tariff = v;
        else if (!strcmp(a, "-w"))
            o->week = atoi(v);
        else if (!strcmp(a, "-m"))
            o->margin = atof(v);
        else if (!strcmp(a, "-H"))
            o->horizon = (int)(atof(v) * 4);
        else if (!strcmp(a, "-s"))
            o->test_steps = atoi(v);
        else if (!strcmp(a, "-p"))
            o->precool_h = atoi(v);
        else
            return SB_EINVAL;
    }
    if ((argc - 1) % 2 || o->horizon < 4 || o->horizon > MAXH || o->week >= (int)NWEEKS ||
        o->test_steps < 1 || o->test_steps > WEEK || o->precool_h < 0 || o->precool_h > 24 ||
        !(o->margin >= 0 && o->margin < 1.5))
        return SB_EINVAL;
    return 0;
}

static int load_tariff(const char *path, struct sb_tariff *t)
{
    FILE *f = fopen(path, "rb");
    char buf[65536], err[256] = "";
    size_t n;
    int rc;

    if (!f) {
        fprintf(stderr, "bench_control: %s: %s\n", path, strerror(errno));
        return SB_EIO;
    }
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if ((rc = sb_tariff_parse(buf, n, t, err, sizeof err)) != 0)
        fprintf(stderr, "bench_control: %s: %s\n", path, err);
    return rc;
}

static void print_head(const struct opts *o)
{
    printf("Control benchmark on sbems-sim (default office, 5000 m2, 15 zones); test weeks of %d h;\n"
           "MPC horizon %d h, re-planned every 15 min, comfort margin %.2f K, night pre-cooling %d h before\n"
           "occupancy; perfect weather forecast (EPW).\n\n", o->test_steps / 4, o->horizon / 4, o->margin,
           o->precool_h);
    printf("%-14s %-9s %9s %6s %8s %9s %7s %7s %7s   %7s %7s %7s %7s\n", "week", "control", "elec_kWh", "kWh/m2",
           "gas_kWh", "cost_USD", "peak_kW", "tdis_Kh", "ms/step", "d_elec", "d_gas", "d_cost", "d_peak");
}

static void json_week(FILE *f, const struct week *w, const struct week_out *wo, int first)
{
    fprintf(f, "%s\n    {\"week\": \"%s\", \"epw\": \"%s\", \"test_start_local\": \"%04d-%02d-%02d\", "
               "\"wall_s\": %.2f, \"cop_cool_fit\": %.3f, \"rc_rmse_24h_k\": [", first ? "" : ",", w->name, w->epw,
            w->y, w->m, w->d, wo->sec, wo->cop);
    for (int z = 0; z < wo->nz; z++)
        fprintf(f, "%s%.3f", z ? ", " : "", wo->rmse_24h[z]);
    fprintf(f, "]");
    for (int c = 0; c < CTL_COUNT; c++) {
        fprintf(f, ", \"%s\": ", ctl_name[c]);
        json_metrics(f, &wo->m[c], wo->nz);
    }
    fprintf(f, "}");
}

int main(int argc, char **argv)
{
    static struct wx wx;
    static struct rec rec;
    static struct models md;
    static struct sb_tariff tariff;
    static struct week_out wo[NWEEKS];
    struct metrics tot[CTL_COUNT];
    struct opts o;
    FILE *f = NULL;
    int rc, nz = 0, nw = 0;

    if ((rc = parse_args(argc, argv, &o)) != 0) {
        fprintf(stderr, "usage: bench_control [-o json] [-t tariff] [-w week 0..%zu] [-m margin_K] "
                        "[-H horizon_h] [-s test_steps] [-p precool_h]\n", NWEEKS - 1);
        return 2;
    }
    if ((rc = load_tariff(o.tariff, &tariff)) != 0)
        return 1;
    memset(tot, 0, sizeof tot);
    print_head(&o);
    for (size_t i = 0; i < NWEEKS; i++) {
        struct run u = { .w = &weeks[i], .o = &o, .tariff = &tariff, .wx = &wx, .r = &rec };

        if (o.week >= 0 && (size_t)o.week != i)
            continue;
        rc = run_week(&u, &md, &wo[i]);
        sb_plant_free(u.p);
        free(u.epw);
        if (rc != 0) {
            fprintf(stderr, "bench_control: week %s: %s\n", weeks[i].name, sb_strerror(rc));
            return 1;
        }
        nz = wo[i].nz;
        for (int c = 0; c < CTL_COUNT; c++) {
            print_row(weeks[i].name, ctl_name[c], &wo[i].m[c], &wo[i].m[CTL_BASELINE]);
            sum_into(&tot[c], &wo[i].m[c], nz);
        }
        printf("%-14s mpc: plan vs measured kW each step MAE %.1f, bias %+.1f; %ld of %d plans needed slack; "
               "%ld failed; step time max %.0f ms; RC 24 h RMSE mean %.3f K; cooling COP fit at 25 degC %.2f\n", "",
               wo[i].m[CTL_MPC].plan_mae_kw, wo[i].m[CTL_MPC].plan_bias_kw, wo[i].m[CTL_MPC].slack, o.test_steps,
               wo[i].m[CTL_MPC].fail, 1000.0 * wo[i].m[CTL_MPC].t_max_s, mean(wo[i].rmse_24h, nz), wo[i].cop);
        nw++;
        fflush(stdout);
    }
    for (int c = 0; c < CTL_COUNT; c++) {
        tot[c].t_mean_s /= nw;
        tot[c].plan_mae_kw /= nw;
        tot[c].plan_bias_kw /= nw;
        tot[c].disc_per_zone = tot[c].disc_tot / nz;
        tot[c].disc_max = 0;
        for (int z = 0; z < nz; z++)
            tot[c].disc_max = fmax(tot[c].disc_max, tot[c].disc[z]);
        print_row("total", ctl_name[c], &tot[c], &tot[CTL_BASELINE]);
    }
    printf("\nd_* = change against the baseline; tdis = BOPTEST thermal discomfort, K h per zone (occupied band\n"
           "%.0f-%.0f degC, weekdays %d-%d h); peak = highest 15-min mean of the main meter (total: the highest week);\n"
           "cost = electric bill (tariff engine: energy + demand, each week its own bill) + gas at %.3f USD/kWh.\n",
           OCC_HEAT, OCC_COOL, OCC_FROM_H, OCC_TO_H, GAS_PRICE);
    if (!(f = fopen(o.json, "w"))) {
        fprintf(stderr, "bench_control: %s: %s\n", o.json, strerror(errno));
        return 1;
    }
    fprintf(f, "{\"site\": \"sbems-sim default office\", \"floor_area_m2\": 5000, \"horizon_h\": %d, "
               "\"margin_k\": %.3f, \"precool_h\": %d, \"test_steps\": %d, \"gas_price_per_kwh\": %.3f, \"tariff\": \"%s\", \"weeks\": [",
            o.horizon / 4, o.margin, o.precool_h, o.test_steps, GAS_PRICE, o.tariff);
    for (size_t i = 0, first = 1; i < NWEEKS; i++)
        if (o.week < 0 || (size_t)o.week == i) {
            json_week(f, &weeks[i], &wo[i], (int)first);
            first = 0;
        }
    fprintf(f, "\n  ], \"total\": {");
    for (int c = 0; c < CTL_COUNT; c++) {
        fprintf(f, "%s\"%s\": ", c ? ", " : "", ctl_name[c]);
        json_metrics(f, &tot[c], nz);
    }
    fprintf(f, "}}\n");
    fclose(f);
    return 0;
}

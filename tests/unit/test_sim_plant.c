/* test_sim_plant.c - sbems-sim physics (src/sim/plant/): the 5R1C zone
 * against hand solutions and conservation, psychrometrics against the
 * ASHRAE tables, the cooling coil, moisture and energy balances, the
 * plant's controllers, equipment and physical faults against expected
 * physical behaviour, meters and the point API.  White-box where a balance
 * needs the plant's internal flows (plant_int.h). */
#include "tap.h"

#include <time.h>

#include "core/err.h"
#include "sim/plant/equip.h"
#include "sim/plant/plant.h"
#include "sim/plant/plant_int.h"
#include "sim/plant/psychro.h"
#include "sim/plant/zone.h"

#define JAN9 1673240400000LL    /* Mon 2023-01-09 00:00 EST */
#define JUL10 1688965200000LL   /* Mon 2023-07-10 00:00 EST */
#define APR17 1681707600000LL   /* Mon 2023-04-17 00:00 EST */
#define HOUR 3600000LL
#define DAY (24 * HOUR)

static struct sb_epw *wx, *wx_hou;

static void repo_path(char *out, size_t cap, const char *rel)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/"), *env = getenv("SBEMS_SRCDIR");

    if (env)
        snprintf(out, cap, "%s/%s", env, rel);
    else if (p)
        snprintf(out, cap, "%.*s%s", (int)(p - f), f, rel);
    else
        snprintf(out, cap, "%s", rel);
}

static const struct sb_zone_params ZP = {
    .floor_area = 100, .volume = 270, .wall_area = 30, .u_wall = 0.4, .window_area = 20,
    .u_window = 2.0, .g_window = 0.4, .am_factor = 2.5, .cm_per_area = 165000,
    .infiltration_ach = 0.5, .c_air_factor = 0,
};

/* Hand solution, no capacity, gains only as convective phi_hc: the air node
 * is fed by H_ve from t_sup and loses through H_is in series with
 * (H_w parallel (H_ms series H_em)) to outdoors. */
TEST(zone_steady_state_matches_analytic)
{
    struct sb_zone z;
    struct sb_zone_in in = { .t_out = 0, .m_sup = 0.1, .t_sup = 30, .phi_hc = 500 };
    double h_ve, hx, hl, ta, a, s, m;

    REQUIRE(sb_zone_init(&z, &ZP, 10, 420) == 0);
    /* conductances from ISO 13790 by hand */
    CHECK_DBL(z.h_tr_is, 3.45 * 4.5 * 100, 1e-9);
    CHECK_DBL(z.h_tr_ms, 9.1 * 2.5 * 100, 1e-9);
    CHECK_DBL(z.h_tr_w, 40, 1e-9);
    CHECK_DBL(z.h_tr_em, 1.0 / (1.0 / 12.0 - 1.0 / 2275.0), 1e-9);
    CHECK_DBL(z.h_inf, 1200 * 0.5 * 270 / 3600.0, 1e-9);
    h_ve = z.h_inf + 0.1 * 1005;
    hx = z.h_tr_w + z.h_tr_ms * z.h_tr_em / (z.h_tr_ms + z.h_tr_em);
    hl = z.h_tr_is * hx / (z.h_tr_is + hx);
    ta = (0.1 * 1005 * 30 + 500) / (h_ve + hl);     /* t_out = 0 */
    sb_zone_steady(&z, &in, &a, &s, &m);
    CHECK_DBL(a, ta, 1e-9);
    /* time stepping converges to the same point (mass tau ~ 10 h) */
    for (int i = 0; i < 24 * 30; i++)
        sb_zone_step(&z, &in, 3600, NULL);
    CHECK_DBL(z.t_air, ta, 1e-6);
    CHECK_DBL(z.t_m, m, 1e-6);
    /* mass node sits on the divider between surface and outdoors */
    CHECK_DBL(z.t_m, s * z.h_tr_ms / (z.h_tr_ms + z.h_tr_em), 1e-6);
}

/* Heat in (gains delivered to nodes + HVAC + conduction + infiltration)
 * equals the stored heat, step by step and over a day. */
TEST(zone_energy_balance_over_a_day)
{
    struct sb_zone z;
    struct sb_zone_params zp = ZP;
    double in_j = 0, stored = 0, t_m0;

    zp.c_air_factor = 3;
    REQUIRE(sb_zone_init(&z, &zp, 20, 420) == 0);
    t_m0 = z.t_m;
    for (int k = 0; k < 24 * 60; k++) {
        double t = k * 60.0, hr = t / 3600.0;
        struct sb_zone_in in = {
            .t_out = 5 + 8 * sin(2 * M_PI * (hr - 9) / 24), .phi_int = hr > 8 && hr < 18 ? 3000 : 300,
            .phi_sol = fmax(0, 2500 * sin(M_PI * (hr - 6) / 12)), .m_sup = hr > 7 && hr < 19 ? 0.3 : 0,
            .t_sup = 14 + (hr > 12 ? 10 : 0),
        };
        struct sb_zone_out o;

        sb_zone_step(&z, &in, 60, &o);
        in_j += 60 * (in.phi_int + in.phi_sol - o.phi_win_rad + o.phi_hvac + o.phi_inf + o.phi_win + o.phi_em);
        stored += o.stored;
    }
    CHECK(fabs(stored) > 1e6);          /* the day really moved heat */
    CHECK_DBL(in_j, stored, 1e-6 * fabs(stored) + 1);
    CHECK_DBL(stored, z.c_m * (z.t_m - t_m0) + z.c_air * (z.t_air - 20), 1e-3 * fabs(stored));
}

/* Free-floating: the mass decays to outdoors with tau = C_m / H, where H is
 * H_em in parallel with H_ms in series with (H_w + H_is series H_inf). */
TEST(zone_free_floating_time_constant)
{
    struct sb_zone z;
    struct sb_zone_in in = { .t_out = 0 };
    double h_rest, h, tau;
    int steps;

    REQUIRE(sb_zone_init(&z, &ZP, 20, 420) == 0);
    h_rest = z.h_tr_w + z.h_tr_is * z.h_inf / (z.h_tr_is + z.h_inf);
    h = z.h_tr_em + z.h_tr_ms * h_rest / (z.h_tr_ms + h_rest);
    tau = z.c_m / h;
    CHECK(tau > 24 * 3600.0 && tau < 20 * 86400.0);
    steps = (int)(tau / 60.0);
    for (int i = 0; i < steps; i++)
        sb_zone_step(&z, &in, 60, NULL);
    CHECK_DBL(z.t_m / 20.0, exp(-steps * 60.0 / tau), 0.005);
    CHECK(z.t_air < z.t_m && z.t_air > 0);
    /* follows a warmer outdoors upward */
    in.t_out = 30;
    for (int i = 0; i < 3 * steps; i++)
        sb_zone_step(&z, &in, 60, NULL);
    CHECK_DBL(z.t_air, 30, 2.0);
}

TEST(zone_co2_balance)
{
    struct sb_zone z;
    /* 10 people at 0.0052 L/s, 0.2 m3/s of outdoor air: steady rise G/Q */
    struct sb_zone_in in = { .t_out = 20, .m_sup = 0.2 * 1.2, .t_sup = 20, .co2_sup = 420,
                             .co2_out = 420, .co2_gen = 10 * 0.0052e-3 };
    struct sb_zone_params zp = ZP;

    zp.infiltration_ach = 0;
    REQUIRE(sb_zone_init(&z, &zp, 20, 420) == 0);
    for (int i = 0; i < 600; i++)
        sb_zone_step(&z, &in, 60, NULL);
    CHECK_DBL(z.co2, 420 + 10 * 0.0052e-3 / 0.2 * 1e6, 1.0);
}

TEST(chiller_curve_values)
{
    double d, p;

    /* DOE-2 reciprocating curves at their reference point are ~1 */
    CHECK_DBL(sb_chiller_capft(6.67, 35.0), 0.99805, 1e-4);
    CHECK_DBL(sb_chiller_eirft(6.67, 35.0), 0.99997, 1e-4);
    CHECK_DBL(sb_chiller_eirfplr(1.0), 1.0, 1e-5);
    CHECK_DBL(sb_chiller_eirfplr(0.5), 0.088065 + 1.137742 * 0.5 - 0.225806 * 0.25, 1e-9);
    /* full load at AHRI conditions: COP = rated */
    p = sb_chiller_power(100, 3.0, 6.67, 35.0, 1000, &d);
    CHECK_DBL(d, 99.805, 0.01);
    CHECK_DBL(d / p, 3.0, 0.001);
    /* half load at 25 degC ambient (hand: CAPFT 1.09128, EIRFT 0.82142) */
    p = sb_chiller_power(100, 3.0, 6.67, 25.0, 0.5 * 109.12753, &d);
    CHECK_DBL(p, 17.9424, 0.001);
    CHECK_DBL(d / p, 3.0410, 0.001);
    /* hotter outdoors -> lower COP */
    CHECK(sb_chiller_power(100, 3, 6.67, 40, 50, &d) > sb_chiller_power(100, 3, 6.67, 30, 50, &d));
    /* cycling below PLR_min: power proportional to load */
    CHECK_DBL(sb_chiller_power(100, 3, 6.67, 35, 2, &d) * 2, sb_chiller_power(100, 3, 6.67, 35, 4, &d), 1e-9);
    CHECK_DBL(sb_hx_eff_counterflow(sb_hx_ntu_for(0.7, 0.4), 0.4), 0.7, 1e-9);
}

static struct sb_plant *mk_at(const struct sb_epw *w, int64_t start)
{
    struct sb_plant_config c;
    struct sb_plant *p = NULL;
    char err[256] = "";

    sb_plant_config_default(&c);
    if (sb_plant_new(&c, w, start, &p, err, sizeof err) != 0)
        printf("# sb_plant_new: %s\n", err);
    return p;
}

static struct sb_plant *mk(int64_t start)
{
    return mk_at(wx, start);
}

static double get(const struct sb_plant *p, const char *name)
{
    double v = NAN;

    if (sb_plant_get(p, name, &v) != 0)
        printf("# no point %s\n", name);
    return v;
}

/* Runs p from its time to `to` in 60 s steps, summing name's value. */
static double run_avg(struct sb_plant *p, int64_t to, const char *name)
{
    int idx = name ? sb_plant_find(p, name) : -1;
    double sum = 0, v;
    int n = 0;

    while (sb_plant_time_ms(p) < to) {
        sb_plant_step(p, 60, sb_plant_time_ms(p) + 60000);
        if (idx >= 0 && sb_plant_read(p, idx, &v) == 0) {
            sum += v;
            n++;
        }
    }
    return n ? sum / n : 0;
}

static void set_all_zones(struct sb_plant *p, const char *what, double v)
{
    char name[64];

    for (int f = 1; f <= 3; f++) {
        for (int z = 1; z <= 5; z++) {
            snprintf(name, sizeof name, "floor%d.zone%d.%s", f, z, what);
            if (isnan(v))
                sb_plant_relinquish(p, sb_plant_find(p, name));
            else if (sb_plant_set(p, name, v) != 0)
                TAP_FAIL("set %s", name);
        }
    }
}

TEST(cooling_setpoint_step_settles)
{
    struct sb_plant *p = mk(JUL10);

    REQUIRE(p != NULL);
    run_avg(p, JUL10 + 11 * HOUR, NULL);
    CHECK_DBL(get(p, "floor1.zone1.temp"), 24.0, 0.4);
    CHECK_EQ(sb_plant_set(p, "floor1.zone1.clg_sp", 22.5), 0);
    run_avg(p, JUL10 + 12 * HOUR, NULL);
    CHECK_DBL(get(p, "floor1.zone1.temp"), 22.5, 0.3);
    CHECK(get(p, "floor1.zone1.vav.flow") > 0.5);
    sb_plant_free(p);
}

TEST(higher_cooling_setpoint_saves_chiller_and_fan)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);
    double ch_a, ch_b, fan_a, fan_b;

    REQUIRE(a && b);
    run_avg(a, JUL10 + 8 * HOUR, NULL);
    run_avg(b, JUL10 + 8 * HOUR, NULL);
    set_all_zones(b, "clg_sp", 26.0);
    ch_a = run_avg(a, JUL10 + 17 * HOUR, "chiller.kw");
    ch_b = run_avg(b, JUL10 + 17 * HOUR, "chiller.kw");
    fan_a = get(a, "meter.fans.kwh");
    fan_b = get(b, "meter.fans.kwh");
    printf("# chiller kW %.1f -> %.1f, fan kWh %.1f -> %.1f\n", ch_a, ch_b, fan_a, fan_b);
    CHECK(ch_b < 0.95 * ch_a);
    CHECK(fan_b < fan_a);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* Pre-cooling the mass in the morning moves chiller energy out of the
 * afternoon: the basis of load-shifting optimizers. */
TEST(precooling_shifts_load)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);
    double am_a, am_b, pm_a, pm_b;

    REQUIRE(a && b);
    run_avg(a, JUL10 + 6 * HOUR, NULL);
    run_avg(b, JUL10 + 6 * HOUR, NULL);
    set_all_zones(b, "clg_sp", 21.0);
    am_a = run_avg(a, JUL10 + 12 * HOUR, "chiller.load_kw");
    am_b = run_avg(b, JUL10 + 12 * HOUR, "chiller.load_kw");
    set_all_zones(b, "clg_sp", NAN);
    pm_a = run_avg(a, JUL10 + 18 * HOUR, "chiller.load_kw");
    pm_b = run_avg(b, JUL10 + 18 * HOUR, "chiller.load_kw");
    printf("# chiller load kW am %.1f -> %.1f, pm %.1f -> %.1f\n", am_a, am_b, pm_a, pm_b);
    CHECK(am_b > am_a + 10);
    CHECK(pm_b < pm_a - 3);
    CHECK(get(b, "floor1.zone5.mass_temp") < get(a, "floor1.zone5.mass_temp"));
    sb_plant_free(a);
    sb_plant_free(b);
}

TEST(economizer_opens_when_outdoor_cool)
{
    struct sb_plant *p = mk(APR17);
    double oat, oa;

    REQUIRE(p != NULL);
    /* find an occupied April morning hour with cool outdoor air */
    run_avg(p, APR17 + 10 * HOUR, NULL);
    oat = get(p, "weather.oat");
    oa = get(p, "floor1.ahu.oa_fraction");
    printf("# April 10:00 OAT %.1f degC, OA %.0f %%, SAT %.1f\n", oat, oa, get(p, "floor1.ahu.sat"));
    REQUIRE(oat < 15.0);
    CHECK_EQ(get(p, "floor1.ahu.economizer"), 1);
    CHECK(oa > 35.0);
    CHECK(get(p, "floor1.ahu.ccv") < 5.0);
    sb_plant_free(p);
    /* July afternoon: locked out, minimum OA, valve open */
    p = mk(JUL10);
    REQUIRE(p != NULL);
    run_avg(p, JUL10 + 15 * HOUR, NULL);
    CHECK(get(p, "weather.oat") > 25.0);
    CHECK_EQ(get(p, "floor1.ahu.economizer"), 0);
    CHECK(get(p, "floor1.ahu.oa_fraction") < 30.0);
    CHECK(get(p, "floor1.ahu.ccv") > 20.0);
    CHECK_DBL(get(p, "floor1.ahu.sat"), 12.8, 0.5);
    CHECK_DBL(get(p, "floor1.ahu.static"), 250, 15);
    sb_plant_free(p);
}

TEST(meters_integrate_power)
{
    struct sb_plant *p = mk(JUL10);
    int i_kw, i_kwh, i_h, i_l, i_pl;
    double sum = 0, kwh0, v, h, l, pl;

    REQUIRE(p != NULL);
    i_kw = sb_plant_find(p, "meter.main.kw");
    i_kwh = sb_plant_find(p, "meter.main.kwh");
    i_h = sb_plant_find(p, "meter.hvac.kw");
    i_l = sb_plant_find(p, "meter.lighting.kw");
    i_pl = sb_plant_find(p, "meter.plugs.kw");
    REQUIRE(i_kw >= 0 && i_kwh >= 0 && i_h >= 0 && i_l >= 0 && i_pl >= 0);
    sb_plant_read(p, i_kwh, &kwh0);
    for (int k = 1; k <= 24 * 60; k++) {
        sb_plant_step(p, 60, JUL10 + k * 60000LL);
        sb_plant_read(p, i_kw, &v);
        sum += v / 60.0;
    }
    sb_plant_read(p, i_kwh, &v);
    CHECK(sum > 500);
    CHECK_DBL(v - kwh0, sum, 1e-6 * sum);
    sb_plant_read(p, i_kw, &v);
    sb_plant_read(p, i_h, &h);
    sb_plant_read(p, i_l, &l);
    sb_plant_read(p, i_pl, &pl);
    CHECK_DBL(v, h + l + pl, 1e-9);
    sb_plant_free(p);
}

TEST(points_api)
{
    struct sb_plant *p = mk(JUL10);
    struct sb_plant_point_info pi;
    int idx, n;
    double v;

    REQUIRE(p != NULL);
    n = sb_plant_point_count(p);
    CHECK(n > 250);
    for (int i = 0; i < n; i++) {
        REQUIRE(sb_plant_point(p, i, &pi) == 0);
        CHECK_EQ(sb_plant_find(p, pi.name), i);     /* names unique */
    }
    CHECK_EQ(sb_plant_find(p, "floor9.zone1.temp"), SB_ENOENT);
    idx = sb_plant_find(p, "floor2.ahu.sat");
    REQUIRE(idx >= 0);
    CHECK_EQ(sb_plant_write(p, idx, 13), SB_ENOTSUP);
    idx = sb_plant_find(p, "floor2.ahu.sat_sp");
    REQUIRE(idx >= 0 && sb_plant_point(p, idx, &pi) == 0);
    CHECK(pi.writable && !pi.overridden);
    CHECK_STR(pi.unit, "degC");
    CHECK_EQ(sb_plant_write(p, idx, 40), SB_ERANGE);
    CHECK_EQ(sb_plant_write(p, idx, NAN), SB_ENAN);
    CHECK_EQ(sb_plant_write(p, idx, 14.5), 0);
    CHECK_EQ(sb_plant_read(p, idx, &v), 0);
    CHECK_DBL(v, 14.5, 1e-12);
    CHECK_EQ(sb_plant_read_auto(p, idx, &v), 0);
    CHECK_DBL(v, 12.8, 1e-12);
    CHECK_EQ(sb_plant_relinquish(p, idx), 0);
    CHECK_EQ(sb_plant_read(p, idx, &v), 0);
    CHECK_DBL(v, 12.8, 1e-12);
    /* positions are exposed in %; an override drives the plant */
    run_avg(p, JUL10 + 10 * HOUR, NULL);
    CHECK_EQ(sb_plant_set(p, "floor1.ahu.ccv", 0), 0);
    run_avg(p, JUL10 + 11 * HOUR, NULL);
    CHECK(get(p, "floor1.ahu.sat") > 18.0);     /* no cooling: SAT near mixed air */
    CHECK(get(p, "floor2.ahu.sat") < 14.0);
    CHECK(sb_plant_find(p, "floor1.zone1.tstat.setpoint") >= 0);
    CHECK_EQ(sb_plant_find(p, "floor1.zone5.tstat.setpoint"), SB_ENOENT);
    CHECK(get(p, "floor1.zone1.occupancy") > 0);
    CHECK(get(p, "floor1.zone5.co2") > 600);
    CHECK(get(p, "chiller.cop") > 2.0 && get(p, "chiller.cop") < 4.5);
    CHECK_EQ(sb_plant_step(p, 0, JUL10), SB_EINVAL);
    sb_plant_free(p);
}

TEST(json_config)
{
    struct sb_plant_config c;
    struct sb_plant *p = NULL;
    char err[256] = "";
    const char *doc = "{\"name\": \"Houston 2-storey\", \"epw\": \"sim/weather/USA_TX_Houston-Bush."
                      "Intercontinental.AP.722430_TMY3.epw\", \"floors\": 2, \"floor_area_m2\": 2400,"
                      " \"chillers\": 1, \"wwr\": 0.3}";

    sb_plant_config_default(&c);
    CHECK_EQ(sb_plant_config_from_json(doc, strlen(doc), &c, err, sizeof err), 0);
    CHECK_EQ(c.floors, 2);
    CHECK_DBL(c.wwr, 0.3, 1e-12);
    CHECK(strstr(c.epw_file, "Houston") != NULL);
    CHECK_EQ(sb_plant_new(&c, wx, JUL10, &p, err, sizeof err), 0);
    CHECK(p && sb_plant_find(p, "floor2.zone5.temp") >= 0 && sb_plant_find(p, "floor3.zone1.temp") < 0);
    sb_plant_free(p);
    sb_plant_config_default(&c);
    CHECK_EQ(sb_plant_config_from_json("{\"floorz\": 2}", 13, &c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "floorz") != NULL);
    CHECK_EQ(sb_plant_config_from_json("{\"floors\": 0}", 13, &c, err, sizeof err), SB_ECONFIG);
    CHECK(strstr(err, "floors") != NULL);
    CHECK_EQ(sb_plant_config_from_json("{\"floors\": 2.5}", 15, &c, err, sizeof err), SB_EINVAL);
    CHECK_EQ(sb_plant_config_from_json("[1]", 3, &c, err, sizeof err), SB_EINVAL);
    CHECK_EQ(sb_plant_config_from_json("{\"zones_per_floor\": 3}", 22, &c, err, sizeof err), SB_ECONFIG);
    sb_plant_config_default(&c);
    CHECK_EQ(sb_plant_config_from_json("{\"zones_per_floor\": 1}", 22, &c, err, sizeof err), 0);
    CHECK_EQ(sb_plant_new(&c, wx, JUL10, &p, err, sizeof err), 0);
    if (p)
        run_avg(p, JUL10 + 12 * HOUR, NULL);
    CHECK(p && get(p, "floor1.zone1.temp") > 20 && get(p, "floor1.zone1.temp") < 26);
    sb_plant_free(p);
}

/* Backfill: one week of the default site in hour-sized calls; the rate is
 * reported (sim-seconds per wall-second), not asserted beyond sanity. */
TEST(backfill_rate)
{
    struct sb_plant *p = mk(JUL10);
    struct timespec a, b;
    double wall;

    REQUIRE(p != NULL);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int h = 1; h <= 7 * 24; h++)
        REQUIRE(sb_plant_step(p, 3600, JUL10 + h * HOUR) == 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("# backfill: 7 days in %.3f s wall = %.0f sim-s per wall-s\n", wall, 7 * 86400.0 / wall);
    CHECK(isfinite(get(p, "meter.main.kwh")) && get(p, "meter.main.kwh") > 1000);
    CHECK(wall < 30.0);
    sb_plant_free(p);
}

/* ---- psychrometrics, coil, moisture ---- */

/* ASHRAE Handbook - Fundamentals 2017 ch. 1: Table 3 (saturation pressure),
 * Table 1 (standard atmosphere), Table 2 (saturated air at 101.325 kPa). */
TEST(psychrometrics_match_ashrae_tables)
{
    CHECK_DBL(sb_psy_pws(-10) / 1000, 0.25990, 0.0002);
    CHECK_DBL(sb_psy_pws(0) / 1000, 0.61121, 0.0003);
    CHECK_DBL(sb_psy_pws(20) / 1000, 2.3389, 0.001);
    CHECK_DBL(sb_psy_pws(30) / 1000, 4.2467, 0.002);
    CHECK_DBL(sb_psy_pws(50) / 1000, 12.352, 0.005);
    CHECK_DBL(sb_psy_patm(0), 101325, 0.5);
    CHECK_DBL(sb_psy_patm(1500) / 1000, 84.556, 0.005);
    /* Table 2 includes the enhancement factor (~1.004) the model neglects */
    CHECK_DBL(sb_psy_wsat(20, SB_PSY_P_STD), 0.014758, 0.005 * 0.014758);
    CHECK_DBL(sb_psy_hsat(20, SB_PSY_P_STD) / 1000, 57.555, 0.3);
    /* inverses agree with the forward relations */
    for (double t = -30; t <= 45; t += 5) {
        for (double rh = 0.1; rh <= 1.0001; rh += 0.3) {
            double w = sb_psy_w_rh(t, rh, 95000), td = sb_psy_tdp(w, 95000);

            CHECK_DBL(sb_psy_rh(t, w, 95000), rh, 1e-9);
            /* eqs. 5 and 6 leave a 0.06 Pa gap at 0 degC */
            CHECK_DBL(sb_psy_pws(td), rh * sb_psy_pws(t), fmax(1e-6 * sb_psy_pws(t), 0.07));
        }
        CHECK_DBL(sb_psy_tsat_h(sb_psy_hsat(t, 95000), 95000), t, 1e-6);
        CHECK_DBL(sb_psy_w_h(t, sb_psy_h(t, 0.01)), 0.01, 1e-12);
    }
    CHECK_DBL(sb_psy_tdp(sb_psy_wsat(15, SB_PSY_P_STD), SB_PSY_P_STD), 15.0, 1e-6);
}

static double eq_pct50(double v)
{
    return (pow(50.0, v) - 1.0) / 49.0;
}

/* Dry coil = plain counter-flow eps-NTU; wet coil conserves energy between
 * air and water, never supersaturates, and the answer moves smoothly and
 * monotonically from dry through partially wet to wholly wet as the valve
 * opens (a jump there makes a supply-air loop limit-cycle). */
TEST(coil_dry_wet_continuous)
{
    struct sb_coil_in in = { .m_a = 3.6, .t_ai = 24.8, .w_ai = 0.004, .m_w = 2.0, .t_wi = 6.7,
                             .ua = 7000, .ua_o = 10000, .p = SB_PSY_P_STD };
    struct sb_coil_out o, prev = { 0 };
    double ca = 3.6 * SB_CP_AIR, cw = 2.0 * 4186.0, q, wet_seen = 0, dry_seen = 0;

    sb_coil_cool(&in, &o);
    q = sb_hx_eff_counterflow(7000 / ca, ca / cw) * ca * (24.8 - 6.7);
    CHECK_DBL(o.q, q, 1e-9 * q);
    CHECK_DBL(o.t_ao, 24.8 - q / ca, 1e-9);
    CHECK_DBL(o.w_ao, 0.004, 0);
    CHECK_EQ(o.wet, 0);
    in.w_ai = 0.0105;
    sb_coil_cool(&in, &o);
    CHECK(o.wet && o.w_ao < in.w_ai - 5e-4);
    CHECK_DBL(o.q, cw * (o.t_wo - in.t_wi), 1e-6 * o.q);
    /* air-side enthalpy drop = water's gain (dry part uses cp 1005) */
    CHECK_DBL(in.m_a * (sb_psy_h(in.t_ai, in.w_ai) - sb_psy_h(o.t_ao, o.w_ao)), o.q, 0.03 * o.q);
    CHECK(sb_psy_rh(o.t_ao, o.w_ao, in.p) <= 1.0);
    CHECK(o.t_adp > in.t_wi && o.t_adp < o.t_ao);
    CHECK(o.bf > 0.02 && o.bf < 0.2);
    /* at 0.0075 the coil goes dry -> partially wet, at 0.0105 partially ->
     * wholly wet as the valve opens */
    for (int h = 0; h < 2; h++) {
        in.w_ai = h ? 0.0105 : 0.0075;
        for (int k = 0; k <= 400; k++) {
            in.m_w = eq_pct50(k / 400.0) * 8.0;
            sb_coil_cool(&in, &o);
            wet_seen += o.wet && o.f_dry < 0.01;
            dry_seen += !o.wet && k > 0;
            if (k > 0) {
                CHECK(o.t_ao <= prev.t_ao + 1e-4);
                CHECK(o.w_ao <= prev.w_ao + 1e-7);
                CHECK(o.q >= prev.q - 1e-3);
                CHECK(fabs(o.t_ao - prev.t_ao) < 0.25);
                CHECK(fabs(o.w_ao - prev.w_ao) < 1e-4);
            }
            prev = o;
        }
        CHECK(prev.wet && prev.w_ao < in.w_ai - (h ? 1e-3 : 1e-5));
    }
    printf("# valve sweeps: %g steps wholly wet, %g dry\n", wet_seen, dry_seen);
    CHECK(dry_seen > 10);
    CHECK(wet_seen > 10);
}

/* Well-mixed moisture balance: exact discrete conservation and the
 * analytic steady state W = (m_sup W_sup + m_inf W_out + G) / (m_sup + m_inf). */
TEST(zone_moisture_balance)
{
    struct sb_zone z;
    struct sb_zone_params zp = ZP;
    struct sb_zone_in in = { .t_out = 30, .m_sup = 0.3, .t_sup = 14, .w_sup = 0.008,
                             .w_out = 0.016, .w_gen = 10 * 55.0 / SB_PSY_H_FG };
    struct sb_zone_out o;
    double src = 0, st = 0, w0, m_inf, ss;

    zp.moist_cap_factor = 8;
    REQUIRE(sb_zone_init(&z, &zp, 22, 420) == 0);
    CHECK_DBL(z.m_moist, 8 * 1.2 * 270, 1e-9);
    w0 = z.w;
    m_inf = 1.2 * 0.5 * 270 / 3600.0;
    ss = (0.3 * 0.008 + m_inf * 0.016 + in.w_gen) / (0.3 + m_inf);
    for (int k = 0; k < 48 * 60; k++) {
        sb_zone_step(&z, &in, 60, &o);
        src += 60 * (o.w_sup_net + o.w_inf + in.w_gen);
        st += o.w_stored;
    }
    CHECK(fabs(st) > 1.0);              /* kg: the zone really took up water */
    CHECK_DBL(src, st, 1e-9 * fabs(st));
    CHECK_DBL(st, z.m_moist * (z.w - w0), 1e-9 * fabs(st));
    CHECK_DBL(z.w, ss, 1e-7);
    zp.moist_cap_factor = -1;
    CHECK_EQ(sb_zone_init(&z, &zp, 22, 420), SB_EINVAL);
}

/* Moisture held by the zones' air and furnishings, kg. */
static double moisture_stored(const struct sb_plant *p)
{
    double m = 0;

    for (int i = 0; i < p->nzones; i++)
        m += p->zones[i].z.m_moist * p->zones[i].z.w;
    return m;
}

/* Building moisture ledger over one sub-step of h s: outdoor air brought in
 * and relieved by the AHUs, infiltration, people, coil condensate. */
static void moisture_flows(const struct sb_plant *p, double h, double *in, double *out)
{
    for (int f = 0; f < p->nahus; f++) {
        const struct sb_ahu *a = &p->ahus[f];
        double oa = a->oa_frac * SB_RHO_AIR * a->flow;

        *in += h * oa * p->w_out;
        *out += h * (oa * a->w_ret + a->cond);
    }
    for (int i = 0; i < p->nzones; i++) {
        *in += h * (p->zones[i].w_gen + fmax(0, p->zones[i].zo.w_inf));
        *out += h * fmax(0, -p->zones[i].zo.w_inf);
    }
}

/* A humid Houston week: what enters (outdoor air, infiltration, people)
 * minus what leaves (relief air, exfiltration, condensate) is what the
 * zones store, to rounding once the return duct's lag is booked (the AHU
 * mixes the zones' air of the previous sub-step: sum m_i dW_i per step);
 * that lag must itself be small. */
TEST(plant_moisture_balance_week)
{
    struct sb_plant *p = mk_at(wx_hou, JUL10);
    double in = 0, out = 0, s0, cond = 0, lag = 0, w_old[64];

    REQUIRE(p != NULL);
    REQUIRE(p->cfg.substep_s == 60.0 && p->nzones <= 64);
    s0 = moisture_stored(p);
    for (int k = 1; k <= 7 * 24 * 60; k++) {
        for (int i = 0; i < p->nzones; i++)
            w_old[i] = p->zones[i].z.w;
        sb_plant_step(p, 60, JUL10 + k * 60000LL);
        moisture_flows(p, 60, &in, &out);
        for (int i = 0; i < p->nzones; i++)
            lag += 60 * SB_RHO_AIR * p->zones[i].vav.flow * (p->zones[i].z.w - w_old[i]);
        for (int f = 0; f < p->nahus; f++)
            cond += 60 * p->ahus[f].cond;
    }
    printf("# Houston week: moisture in %.0f kg, out %.0f kg (condensate %.0f kg), stored %+.1f kg, "
           "return-duct lag %+.2f kg\n", in, out, cond, moisture_stored(p) - s0, lag);
    CHECK(cond > 1000);                 /* the coils really dehumidified */
    CHECK_DBL(in - out - lag, moisture_stored(p) - s0, 1e-6 * (in + out));
    CHECK(fabs(lag) < 0.01 * (in + out) / 2);
    sb_plant_free(p);
}

/* Zone RH over a Boston summer week stays in the comfortable band.  In a
 * winter week with no humidifier it is dry (outdoor dew points of -10 to
 * -25 degC), as unhumidified offices in cold climates are; people keep the
 * air above the outdoor humidity ratio, but in occupied hours the
 * economizer's outdoor air dilutes them, so nights are the more humid. */
static void rh_week(const struct sb_epw *w, int64_t t0, double *mn, double *mx, double *occ_mean,
                    double *unocc_mean, double *dw_mean)
{
    struct sb_plant *p = mk_at(w, t0 - 3 * DAY);       /* warm-up from a Friday */
    double so = 0, su = 0, dw = 0;
    int no = 0, nu = 0;
    char name[64];

    *mn = 100;
    *mx = 0;
    if (!p)
        return;
    run_avg(p, t0, NULL);
    for (int h = 1; h <= 7 * 24; h++) {
        run_avg(p, t0 + h * HOUR, NULL);
        for (int f = 1; f <= 3; f++) {
            for (int z = 1; z <= 5; z++) {
                double rh;

                snprintf(name, sizeof name, "floor%d.zone%d.rh", f, z);
                rh = get(p, name);
                dw += p->zones[(f - 1) * 5 + z - 1].z.w - p->w_out;
                *mn = fmin(*mn, rh);
                *mx = fmax(*mx, rh);
                snprintf(name, sizeof name, "floor%d.zone%d.occupied", f, z);
                if (get(p, name) > 0.5)
                    so += rh, no++;
                else
                    su += rh, nu++;
            }
        }
    }
    *occ_mean = no ? so / no : NAN;
    *unocc_mean = nu ? su / nu : NAN;
    *dw_mean = dw / (no + nu);
    sb_plant_free(p);
}

TEST(zone_rh_plausible_boston)
{
    double mn, mx, om, um, dw;

    rh_week(wx, JUL10, &mn, &mx, &om, &um, &dw);
    printf("# Boston Jul 10-17 zone RH %.1f..%.1f %%, mean occupied %.1f, unoccupied %.1f\n", mn, mx, om, um);
    CHECK(mn >= 20.0 && mx <= 70.0);
    rh_week(wx, JAN9, &mn, &mx, &om, &um, &dw);
    printf("# Boston Jan 9-16 zone RH %.1f..%.1f %%, mean occupied %.1f, unoccupied %.1f; "
           "indoor W - outdoor W %.4f kg/kg\n", mn, mx, om, um, dw);
    CHECK(mn >= 5.0 && mx <= 50.0);
    CHECK(om >= 8.0 && om <= 35.0);
    CHECK(dw > 0.0005);
}

/* A humid Houston July day: the coils condense, the supply air leaves
 * near saturation, the zones stay below 65 % RH, and the chillers carry
 * the latent load on top of the sensible one. */
TEST(coil_dehumidifies_houston)
{
    struct sb_plant *p = mk_at(wx_hou, JUL10);
    struct sb_plant_point_info pi;
    double coil = 0, lat = 0, ch = 0, chw0, ch_kwh0;
    char name[64];

    REQUIRE(p != NULL);
    run_avg(p, JUL10 + 6 * HOUR, NULL);
    chw0 = p->t_chw;
    ch_kwh0 = get(p, "meter.chiller.kwh");
    for (int k = 1; k <= 12 * 60; k++) {
        sb_plant_step(p, 60, JUL10 + 6 * HOUR + k * 60000LL);
        for (int f = 1; f <= 3; f++) {
            snprintf(name, sizeof name, "floor%d.ahu.coil_kw", f);
            coil += get(p, name) / 60;
            snprintf(name, sizeof name, "floor%d.ahu.coil_latent_kw", f);
            lat += get(p, name) / 60;
        }
        ch += get(p, "chiller.load_kw") / 60;
        /* the coil's load is its sensible part plus the latent part */
        for (int f = 0; f < p->nahus; f++) {
            const struct sb_ahu *a = &p->ahus[f];
            double sens = SB_RHO_AIR * a->flow * SB_CP_AIR * (a->t_mix - a->t_sa) + 1000 * a->fan_kw;

            if (a->flow > 0)
                CHECK_DBL(1000 * a->coil_kw, sens + 1000 * a->coil_lat_kw, 1e-6 * (1000 * a->coil_kw + 1));
        }
        /* the morning start-up, with the night's humid air in the zones
         * and the perimeter overcooled at minimum flow, peaks near 70 % */
        if (k % 60 == 0)
            CHECK(get(p, "floor2.zone1.rh") < 72.0 && get(p, "floor2.zone5.rh") < 72.0);
        if (k % 60 == 0 && k >= 4 * 60) {
            CHECK(get(p, "weather.dewpoint") > 18.0);
            CHECK(get(p, "floor2.ahu.sa_rh") > 85.0);
            CHECK(get(p, "floor2.zone1.rh") > 35.0 && get(p, "floor2.zone1.rh") < 65.0);
            CHECK(get(p, "floor2.zone5.rh") > 35.0 && get(p, "floor2.zone5.rh") < 65.0);
            CHECK(p->w_out > p->ahus[1].w_sa + 0.004);
        }
    }
    REQUIRE(sb_plant_point(p, sb_plant_find(p, "floor3.zone4.rh"), &pi) == 0);
    CHECK(pi.kind == SB_PK_HUMIDITY && !pi.writable);
    CHECK_STR(pi.unit, "%");
    REQUIRE(sb_plant_point(p, sb_plant_find(p, "floor3.ahu.sa_rh"), &pi) == 0);
    CHECK(pi.kind == SB_PK_HUMIDITY);
    printf("# Houston 06-18: coil %.0f kWh of which latent %.0f kWh; chillers %.0f kWh load, %.0f kWh electric\n",
           coil, lat, ch, get(p, "meter.chiller.kwh") - ch_kwh0);
    CHECK(lat > 0.2 * coil);
    /* chillers deliver the coils' total load, less what the loop's water stored */
    CHECK_DBL(ch, coil - p->c_loop * (p->t_chw - chw0) / 3.6e6, 0.005 * coil);
    sb_plant_free(p);
}

/* A week of the plant at 60 s steps: every zone's sensible balance closes
 * (gains + HVAC + conduction + infiltration = stored), every meter is the
 * integral of its power, the boiler delivers the reheat and the chillers
 * the coil load less what the chilled-water loop stores. */
TEST(energy_balance_week)
{
    static const char *const M[][2] = {
        { "meter.main.kw", "meter.main.kwh" }, { "meter.lighting.kw", "meter.lighting.kwh" },
        { "meter.plugs.kw", "meter.plugs.kwh" }, { "meter.hvac.kw", "meter.hvac.kwh" },
        { "meter.fans.kw", "meter.fans.kwh" }, { "chiller.kw", "meter.chiller.kwh" },
        { "meter.gas.kw", "meter.gas.kwh" },
    };
    enum { NM = sizeof M / sizeof M[0] };
    struct sb_plant *p = mk(JUL10);
    double in_j = 0, st_j = 0, gross = 0, kwh0[NM], sum[NM] = { 0 }, coil = 0, chl = 0, rh = 0, blr = 0, chw0;

    REQUIRE(p != NULL);
    for (int m = 0; m < NM; m++)
        kwh0[m] = get(p, M[m][1]);
    chw0 = p->t_chw;
    for (int k = 1; k <= 7 * 24 * 60; k++) {
        sb_plant_step(p, 60, JUL10 + k * 60000LL);
        for (int i = 0; i < p->nzones; i++) {
            const struct sb_zone_ent *ze = &p->zones[i];
            const struct sb_zone_out *o = &ze->zo;
            double flows[] = { ze->phi_int_w, ze->phi_sol_w, -o->phi_win_rad, o->phi_hvac, o->phi_inf,
                               o->phi_win, o->phi_em };

            for (size_t j = 0; j < sizeof flows / sizeof flows[0]; j++) {
                in_j += 60 * flows[j];
                gross += 60 * fabs(flows[j]);
            }
            st_j += o->stored;
            rh += ze->vav.reheat_kw / 60;
        }
        for (int m = 0; m < NM; m++)
            sum[m] += get(p, M[m][0]) / 60;
        for (int f = 0; f < p->nahus; f++)
            coil += p->ahus[f].coil_kw / 60;
        chl += p->ch_load_kw / 60;
        blr += p->blr_load_kw / 60;
    }
    printf("# week: zone heat in %.4g J, stored %.4g J (gross %.3g J); main %.0f kWh\n", in_j, st_j, gross,
           sum[0]);
    CHECK_DBL(in_j, st_j, 1e-6 * gross);
    CHECK(sum[0] > 1000 && sum[5] > 100);     /* main, chillers (no gas in July) */
    for (int m = 0; m < NM; m++)
        CHECK_DBL(get(p, M[m][1]) - kwh0[m], sum[m], 1e-6 * sum[m] + 1e-9);
    CHECK_DBL(blr, rh, 1e-9 * rh + 1e-9);
    CHECK_DBL(chl, coil - p->c_loop * (p->t_chw - chw0) / 3.6e6, 1e-6 * coil);
    sb_plant_free(p);
}

/* ---- physical faults ---- */

TEST(fault_api)
{
    struct sb_plant *p = mk(JUL10);
    double v = -1;

    REQUIRE(p != NULL);
    for (int f = 0; f < SB_PF_COUNT; f++) {
        REQUIRE(sb_plant_fault_name((enum sb_plant_fault)f) != NULL);
        CHECK_EQ(sb_plant_fault_parse(sb_plant_fault_name((enum sb_plant_fault)f)), f);
    }
    CHECK_STR(sb_plant_fault_name(SB_PF_OA_DAMPER_STUCK), "oa_damper_stuck");
    CHECK_STR(sb_plant_fault_name(SB_PF_CHILLER_COP_DEGRADATION), "chiller_cop_degradation");
    CHECK(sb_plant_fault_name(SB_PF_COUNT) == NULL);
    CHECK_EQ(sb_plant_fault_parse("oa_damper"), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_parse("OA_DAMPER_STUCK"), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_parse(NULL), SB_ENOENT);
    /* equipment of the wrong kind or not there */
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor4.ahu", 50), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor1.zone3", 50), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor01.ahu", 50), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, NULL, 50), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_CCV_LEAK, "chiller", 10), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_REHEAT_STUCK, "floor1.zone6", 10), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_REHEAT_STUCK, "floor1.ahu", 10), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_CHILLER_COP_DEGRADATION, "floor1.ahu", 0.2), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_COUNT, "floor1.ahu", 0), SB_EINVAL);
    CHECK_EQ(sb_plant_fault_clear(p, SB_PF_FAN_FAILURE, "floor9.ahu"), SB_ENOENT);
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_FAN_FAILURE, "boiler", NULL), SB_ENOENT);
    /* values */
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", 100.5), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_CCV_STUCK, "floor1.ahu", -1), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_VAV_DAMPER_STUCK, "floor2.zone5", NAN), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_SAT_SENSOR_BIAS, "floor1.ahu", INFINITY), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_CHILLER_COP_DEGRADATION, "chiller", 0.95), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone1", 11), SB_ERANGE);
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", &v), 0);
    /* set, replace, clear */
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", 100), 0);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", 40), 0);
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", &v), 1);
    CHECK_DBL(v, 40, 0);
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_OA_DAMPER_STUCK, "floor2.ahu", NULL), 0);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_FAN_FAILURE, "floor3.ahu", NAN), 0);   /* no value */
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_FAN_FAILURE, "floor3.ahu", NULL), 1);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_SAT_SENSOR_BIAS, "floor2.ahu", -3), 0);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_REHEAT_LEAK, "floor3.zone5", 5), 0);
    CHECK_EQ(sb_plant_fault_set(p, SB_PF_CHILLER_COP_DEGRADATION, "chiller", 0.9), 0);
    CHECK_EQ(sb_plant_fault_clear(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu"), 0);
    CHECK_EQ(sb_plant_fault_clear(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu"), 0);     /* idempotent */
    CHECK_EQ(sb_plant_fault_active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", NULL), 0);
    sb_plant_free(p);
}

/* Runs a (faulted) and b (healthy) side by side to `to`. */
static void run2(struct sb_plant *a, struct sb_plant *b, int64_t to)
{
    run_avg(a, to, NULL);
    run_avg(b, to, NULL);
}

/* Stuck open on a cold morning: the mixed air falls to outdoor, reheat
 * makes up for it, while the damper command sits at minimum OA. */
TEST(fault_oa_damper_stuck_cold_day)
{
    struct sb_plant *a = mk(JAN9), *b = mk(JAN9);

    REQUIRE(a && b);
    run2(a, b, JAN9 + 8 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", 100) == 0);
    run2(a, b, JAN9 + 10 * HOUR);
    printf("# stuck OA: MAT %.1f vs %.1f, boiler %.0f vs %.0f kW, OAT %.1f\n", get(a, "floor1.ahu.mat"),
           get(b, "floor1.ahu.mat"), get(a, "boiler.load_kw"), get(b, "boiler.load_kw"), get(a, "weather.oat"));
    CHECK(get(a, "weather.oat") < 0);
    CHECK_DBL(get(a, "floor1.ahu.oa_fraction"), 100, 1e-9);
    CHECK(get(a, "floor1.ahu.oa_damper") < 50);
    CHECK_DBL(get(a, "floor1.ahu.mat"), get(a, "weather.oat"), 0.01);
    CHECK(get(a, "floor1.ahu.mat") < get(b, "floor1.ahu.mat") - 10);
    CHECK(get(a, "floor1.ahu.sat") < get(a, "floor1.ahu.sat_sp") - 10);
    CHECK(get(a, "boiler.load_kw") > 1.25 * get(b, "boiler.load_kw") + 10);
    CHECK(get(a, "floor1.zone5.vav.reheat_kw") > get(b, "floor1.zone5.vav.reheat_kw") + 5);
    CHECK_DBL(get(a, "floor2.ahu.mat"), get(b, "floor2.ahu.mat"), 1e-9);  /* other AHUs untouched */
    REQUIRE(sb_plant_fault_clear(a, SB_PF_OA_DAMPER_STUCK, "floor1.ahu") == 0);
    run2(a, b, JAN9 + 12 * HOUR);
    CHECK_DBL(get(a, "floor1.ahu.mat"), get(b, "floor1.ahu.mat"), 0.5);
    CHECK_DBL(get(a, "floor1.ahu.oa_fraction"), get(b, "floor1.ahu.oa_fraction"), 3);
    CHECK_DBL(get(a, "boiler.load_kw"), get(b, "boiler.load_kw"), 0.1 * get(b, "boiler.load_kw") + 2);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A leaking cooling valve on a cool April morning: chilled water cools air
 * the economizer would have cooled for free, the supply goes cold, the
 * boxes reheat: simultaneous heating and cooling with the valve "closed". */
TEST(fault_ccv_leak_simultaneous_heating_cooling)
{
    struct sb_plant *a = mk(APR17), *b = mk(APR17);

    REQUIRE(a && b);
    run2(a, b, APR17 + 8 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_CCV_LEAK, "floor1.ahu", 30) == 0);
    run2(a, b, APR17 + 10 * HOUR);
    printf("# CCV leak: coil %.1f vs %.1f kW, boiler %.1f vs %.1f kW, SAT %.1f\n", get(a, "floor1.ahu.coil_kw"),
           get(b, "floor1.ahu.coil_kw"), get(a, "boiler.load_kw"), get(b, "boiler.load_kw"),
           get(a, "floor1.ahu.sat"));
    CHECK(get(a, "floor1.ahu.ccv") < 1.0);
    CHECK(get(b, "floor1.ahu.coil_kw") < 0.5);
    CHECK(get(a, "floor1.ahu.coil_kw") > 10);
    CHECK(get(a, "chiller.load_kw") > 10);
    CHECK(get(a, "boiler.load_kw") > get(b, "boiler.load_kw") + 5);
    CHECK(get(a, "floor1.ahu.sat") < get(a, "floor1.ahu.sat_sp") - 2);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_CCV_LEAK, "floor1.ahu") == 0);
    run2(a, b, APR17 + 12 * HOUR);
    CHECK(get(a, "floor1.ahu.coil_kw") < 0.5);
    CHECK_DBL(get(a, "floor1.ahu.sat"), get(b, "floor1.ahu.sat"), 0.5);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A cooling valve stuck shut on a July afternoon: no coil, warm supply,
 * warm zones, the controller's command pinned open. */
TEST(fault_ccv_stuck)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);

    REQUIRE(a && b);
    run2(a, b, JUL10 + 12 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_CCV_STUCK, "floor2.ahu", 0) == 0);
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK(get(a, "floor2.ahu.coil_kw") < 0.01);
    CHECK(get(a, "floor2.ahu.ccv") > 90);
    CHECK(get(a, "floor2.ahu.sat") > 20);
    CHECK(get(a, "floor2.zone5.temp") > get(b, "floor2.zone5.temp") + 1.0);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_CCV_STUCK, "floor2.ahu") == 0);
    run2(a, b, JUL10 + 16 * HOUR);
    CHECK_DBL(get(a, "floor2.ahu.sat"), get(b, "floor2.ahu.sat"), 0.5);
    /* back under control (the healthy core sits below its setpoint at
     * minimum flow; the recovering one, its mass still warm, at it) */
    for (int z = 1; z <= 5; z++) {
        char t[48], sp[48];

        snprintf(t, sizeof t, "floor2.zone%d.temp", z);
        snprintf(sp, sizeof sp, "floor2.zone%d.clg_sp", z);
        CHECK(get(a, t) < get(a, sp) + 0.3);
    }
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A supply-air sensor reading 2 K high: the loop holds the READING at
 * setpoint, so the air is really 2 K colder (seen at every VAV's discharge
 * sensor) and the coil works harder. */
TEST(fault_sat_sensor_bias)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);

    REQUIRE(a && b);
    run2(a, b, JUL10 + 10 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_SAT_SENSOR_BIAS, "floor1.ahu", 2.0) == 0);
    CHECK_DBL(get(a, "floor1.ahu.sat") - a->ahus[0].t_sa, 2.0, 1e-12);  /* reads biased at once */
    run2(a, b, JUL10 + 12 * HOUR);
    CHECK_DBL(get(a, "floor1.ahu.sat"), 12.8, 0.3);
    CHECK_DBL(a->ahus[0].t_sa, 10.8, 0.3);
    CHECK_DBL(get(a, "floor1.zone5.vav.dat"), 10.8, 0.3);       /* no reheat in July */
    CHECK(get(a, "floor1.ahu.coil_kw") > get(b, "floor1.ahu.coil_kw") + 3);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_SAT_SENSOR_BIAS, "floor1.ahu") == 0);
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK_DBL(get(a, "floor1.zone5.vav.dat"), get(b, "floor1.zone5.vav.dat"), 0.3);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* Reheat valve stuck open in July: the box heats air the AHU cooled, the
 * zone overheats at full cooling flow; a 5 % leak already gives about a
 * third of the coil's heat (the coil's high gain at low flow). */
TEST(fault_reheat_stuck_and_leak)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);

    REQUIRE(a && b);
    run2(a, b, JUL10 + 10 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_REHEAT_STUCK, "floor1.zone1", 100) == 0);
    REQUIRE(sb_plant_fault_set(a, SB_PF_REHEAT_LEAK, "floor1.zone3", 5) == 0);
    run2(a, b, JUL10 + 12 * HOUR);
    printf("# reheat stuck: %.1f kW, zone %.1f degC; leak 5 %%: %.1f kW, DAT %.1f\n",
           get(a, "floor1.zone1.vav.reheat_kw"), get(a, "floor1.zone1.temp"), get(a, "floor1.zone3.vav.reheat_kw"),
           get(a, "floor1.zone3.vav.dat"));
    CHECK(get(a, "floor1.zone1.vav.reheat") < 1);
    CHECK(get(a, "floor1.zone1.vav.reheat_kw") > 20);
    CHECK(get(a, "floor1.zone1.temp") > get(b, "floor1.zone1.temp") + 3);
    CHECK(get(a, "floor1.zone1.vav.flow") > 0.95 * get(a, "floor1.zone1.vav.flow_sp"));
    CHECK(get(a, "floor1.ahu.coil_kw") > 0);            /* cooling at the same time */
    CHECK(get(a, "floor1.zone3.vav.reheat") < 1);
    CHECK(get(a, "floor1.zone3.vav.dat") > get(a, "floor1.ahu.sat") + 5);
    CHECK_DBL(get(b, "floor1.zone3.vav.reheat_kw"), 0, 1e-9);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_REHEAT_STUCK, "floor1.zone1") == 0);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_REHEAT_LEAK, "floor1.zone3") == 0);
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK_DBL(get(a, "floor1.zone1.vav.reheat_kw"), 0, 1e-9);
    CHECK_DBL(get(a, "floor1.zone1.temp"), get(b, "floor1.zone1.temp"), 0.5);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A VAV damper stuck at 10 %: the flow is what 10 % passes at the duct
 * pressure (the same damper law as a healthy box), the zone warms, the
 * controller opens its command in vain. */
TEST(fault_vav_damper_stuck)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);
    double k_a, k_b;

    REQUIRE(a && b);
    run2(a, b, JUL10 + 10 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_VAV_DAMPER_STUCK, "floor1.zone1", 10) == 0);
    run2(a, b, JUL10 + 12 * HOUR);
    /* flow / (position sqrt(P/P_sp)) is the box's q_open in both plants */
    k_a = get(a, "floor1.zone1.vav.flow") / (0.10 * sqrt(get(a, "floor1.ahu.static") / 250.0));
    k_b = get(b, "floor1.zone1.vav.flow") /
          (get(b, "floor1.zone1.vav.damper") / 100 * sqrt(get(b, "floor1.ahu.static") / 250.0));
    CHECK_DBL(k_a, k_b, 1e-3 * k_b);
    CHECK(get(a, "floor1.zone1.vav.damper") > 60);
    CHECK(get(a, "floor1.zone1.temp") > get(b, "floor1.zone1.temp") + 1.5);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_VAV_DAMPER_STUCK, "floor1.zone1") == 0);
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK_DBL(get(a, "floor1.zone1.temp"), get(b, "floor1.zone1.temp"), 0.5);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A zone sensor drifting +2 K/day: after a day it reads 2 K high, the box
 * holds the reading at setpoint, so the room is really 2 K cool.  A new
 * rate continues from the offset reached; clearing reads true again. */
TEST(fault_zone_sensor_drift)
{
    struct sb_plant *a = mk(JUL10);
    struct sb_zone_ent *ze;

    REQUIRE(a != NULL);
    ze = &a->zones[0];      /* floor1.zone1 */
    run_avg(a, JUL10 + 10 * HOUR, NULL);
    REQUIRE(sb_plant_fault_set(a, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone1", 2.0) == 0);
    run_avg(a, JUL10 + 22 * HOUR, NULL);
    CHECK_DBL(get(a, "floor1.zone1.temp") - ze->z.t_air, 1.0, 1e-6);
    CHECK_DBL(get(a, "floor1.zone1.tstat.temp"), get(a, "floor1.zone1.temp"), 0);
    run_avg(a, JUL10 + 34 * HOUR, NULL);
    CHECK_DBL(get(a, "floor1.zone1.temp") - ze->z.t_air, 2.0, 1e-6);
    printf("# drift: reads %.2f, true %.2f, cooling setpoint %.1f\n", get(a, "floor1.zone1.temp"), ze->z.t_air,
           get(a, "floor1.zone1.clg_sp"));
    CHECK_DBL(get(a, "floor1.zone1.temp"), get(a, "floor1.zone1.clg_sp"), 0.4);
    CHECK_DBL(ze->z.t_air, get(a, "floor1.zone1.clg_sp") - 2.0, 0.4);
    REQUIRE(sb_plant_fault_set(a, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone1", 0.0) == 0);
    run_avg(a, JUL10 + 36 * HOUR, NULL);
    CHECK_DBL(get(a, "floor1.zone1.temp") - ze->z.t_air, 2.0, 1e-6);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone1") == 0);
    CHECK_DBL(get(a, "floor1.zone1.temp"), ze->z.t_air, 0);
    run_avg(a, JUL10 + 38 * HOUR, NULL);
    CHECK_DBL(ze->z.t_air, get(a, "floor1.zone1.clg_sp"), 0.4);
    sb_plant_free(a);
}

/* The supply fan fails while commanded on: no flow, no pressure, no fan
 * power; the zones drift up and the CO2 climbs; repaired, all recovers. */
TEST(fault_fan_failure)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);

    REQUIRE(a && b);
    run2(a, b, JUL10 + 10 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_FAN_FAILURE, "floor1.ahu", 0) == 0);
    run2(a, b, JUL10 + 11 * HOUR + HOUR / 2);
    CHECK_EQ(get(a, "floor1.ahu.fan_enable"), 1);
    CHECK_DBL(get(a, "floor1.ahu.flow"), 0, 0);
    CHECK_DBL(get(a, "floor1.ahu.static"), 0, 0);
    CHECK_DBL(get(a, "floor1.ahu.fan_kw"), 0, 0);
    CHECK_DBL(get(a, "floor1.zone1.vav.flow"), 0, 0);
    CHECK(get(a, "floor1.zone1.temp") > get(b, "floor1.zone1.temp") + 2);
    CHECK(get(a, "floor1.zone5.temp") > get(b, "floor1.zone5.temp") + 1);
    CHECK(get(a, "floor1.zone5.co2") > get(b, "floor1.zone5.co2") + 200);
    CHECK(get(a, "floor2.ahu.flow") > 1);
    CHECK_DBL(get(a, "meter.fans.kw"), get(a, "floor2.ahu.fan_kw") + get(a, "floor3.ahu.fan_kw"), 1e-9);
    REQUIRE(sb_plant_fault_clear(a, SB_PF_FAN_FAILURE, "floor1.ahu") == 0);
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK(get(a, "floor1.ahu.flow") > 1);
    CHECK_DBL(get(a, "floor1.zone1.temp"), get(b, "floor1.zone1.temp"), 0.5);
    CHECK_DBL(get(a, "floor1.zone5.temp"), get(b, "floor1.zone5.temp"), 0.5);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* COP down by x: the same load at 1/(1 - x) times the power. */
TEST(fault_chiller_cop_degradation)
{
    struct sb_plant *a = mk(JUL10), *b = mk(JUL10);
    double ea, eb;

    REQUIRE(a && b);
    run2(a, b, JUL10 + 10 * HOUR);
    REQUIRE(sb_plant_fault_set(a, SB_PF_CHILLER_COP_DEGRADATION, "chiller", 0.3) == 0);
    ea = get(a, "meter.chiller.kwh");
    eb = get(b, "meter.chiller.kwh");
    run2(a, b, JUL10 + 14 * HOUR);
    CHECK(get(b, "chiller.kw") > 20);
    CHECK_DBL(get(a, "chiller.load_kw"), get(b, "chiller.load_kw"), 1e-9);
    CHECK_DBL(get(a, "chiller.kw") / get(b, "chiller.kw"), 1 / 0.7, 0.02 / 0.7);
    CHECK_DBL((get(a, "meter.chiller.kwh") - ea) / (get(b, "meter.chiller.kwh") - eb), 1 / 0.7, 0.02 / 0.7);
    CHECK_DBL(get(a, "chiller.cop"), 0.7 * get(b, "chiller.cop"), 0.02 * get(b, "chiller.cop"));
    REQUIRE(sb_plant_fault_clear(a, SB_PF_CHILLER_COP_DEGRADATION, "chiller") == 0);
    run2(a, b, JUL10 + 15 * HOUR);
    CHECK_DBL(get(a, "chiller.kw"), get(b, "chiller.kw"), 1e-9);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* Every fault at once at the ends of its range, on the hottest and the
 * coldest weeks: the physics stays finite and bounded. */
TEST(faults_all_at_once_stay_finite)
{
    static const double ends[2] = { 0, 1 };
    int64_t starts[2] = { JAN9, JUL10 };

    for (int w = 0; w < 2; w++) {
        for (int e = 0; e < 2; e++) {
            struct sb_plant *p = mk_at(w ? wx_hou : wx, starts[w]);
            double v;

            REQUIRE(p != NULL);
            for (int f = 0; f < SB_PF_COUNT; f++) {
                double lo = f == SB_PF_SAT_SENSOR_BIAS ? -20 : f == SB_PF_ZONE_SENSOR_DRIFT ? -10 : 0;
                double hi = f == SB_PF_CHILLER_COP_DEGRADATION ? 0.9 : f == SB_PF_SAT_SENSOR_BIAS ? 20 :
                            f == SB_PF_ZONE_SENSOR_DRIFT ? 10 : 100;
                const char *eq = f == SB_PF_CHILLER_COP_DEGRADATION ? "chiller" :
                                 (f >= SB_PF_REHEAT_STUCK && f <= SB_PF_ZONE_SENSOR_DRIFT) ? "floor2.zone5" :
                                 "floor2.ahu";

                CHECK_EQ(sb_plant_fault_set(p, (enum sb_plant_fault)f, eq, lo + ends[e] * (hi - lo)), 0);
            }
            for (int k = 1; k <= 7 * 24; k++)
                REQUIRE(sb_plant_step(p, 3600, starts[w] + k * HOUR) == 0);
            for (int i = 0; i < sb_plant_point_count(p); i++) {
                REQUIRE(sb_plant_read(p, i, &v) == 0);
                CHECK(isfinite(v) && fabs(v) < 1e9);
            }
            for (int i = 0; i < p->nzones; i++)
                CHECK(p->zones[i].z.t_air > -30 && p->zones[i].z.t_air < 70 && p->zones[i].z.w >= 0 &&
                      p->zones[i].z.w < 0.05);
            sb_plant_free(p);
        }
    }
}

/* Backfill's big calls and real time's small ones run the same sub-steps
 * (the coil solver's hint included): every point agrees exactly. */
TEST(step_size_invariance)
{
    struct sb_plant *a = mk_at(wx_hou, JUL10), *b = mk_at(wx_hou, JUL10);
    double va, vb;
    int diff = 0;

    REQUIRE(a && b);
    REQUIRE(sb_plant_fault_set(a, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone2", 1.5) == 0);
    REQUIRE(sb_plant_fault_set(b, SB_PF_ZONE_SENSOR_DRIFT, "floor1.zone2", 1.5) == 0);
    for (int k = 1; k <= 24; k++)
        REQUIRE(sb_plant_step(a, 3600, JUL10 + k * HOUR) == 0);
    for (int k = 1; k <= 24 * 12; k++)
        REQUIRE(sb_plant_step(b, 300, JUL10 + k * 300000LL) == 0);
    for (int i = 0; i < sb_plant_point_count(a); i++) {
        sb_plant_read(a, i, &va);
        sb_plant_read(b, i, &vb);
        diff += va != vb;
    }
    CHECK_EQ(diff, 0);
    sb_plant_free(a);
    sb_plant_free(b);
}

/* A year of the default site in 300 s calls: the backfill's use.  Wall
 * time is reported, not asserted; the year must stay physically sane. */
TEST(year_wall_time)
{
    struct sb_plant *p = mk(JAN9 - 8 * DAY);    /* 2023-01-01 */
    struct timespec a, b;
    double wall, t_lo = 100, t_hi = -100, rh_lo = 100, rh_hi = 0;
    int64_t t0 = JAN9 - 8 * DAY;

    REQUIRE(p != NULL);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long k = 1; k <= 365L * 288; k++) {
        REQUIRE(sb_plant_step(p, 300, t0 + k * 300000LL) == 0);
        if (k % 12 == 0) {
            for (int i = 0; i < p->nzones; i++) {
                t_lo = fmin(t_lo, p->zones[i].z.t_air);
                t_hi = fmax(t_hi, p->zones[i].z.t_air);
                rh_lo = fmin(rh_lo, p->zones[i].rh);
                rh_hi = fmax(rh_hi, p->zones[i].rh);
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    wall = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("# year (365 d, 300 s steps): %.2f s wall; main %.0f kWh, chillers %.0f kWh, gas %.0f kWh; "
           "zones %.1f..%.1f degC, %.0f..%.0f %% RH\n", wall, get(p, "meter.main.kwh"),
           get(p, "meter.chiller.kwh"), get(p, "meter.gas.kwh"), t_lo, t_hi, rh_lo, rh_hi);
    CHECK(get(p, "meter.main.kwh") > 50.0 * 5000 && get(p, "meter.main.kwh") < 200.0 * 5000);
    CHECK(get(p, "meter.chiller.kwh") > 0.05 * get(p, "meter.main.kwh"));
    CHECK(t_lo > 12.0 && t_hi < 30.0);
    CHECK(rh_lo > 0.5 && rh_hi < 80.0);
    sb_plant_free(p);
}

int main(void)
{
    char path[512], err[256] = "";

    TAP_START();
    wx = malloc(sizeof *wx);
    wx_hou = malloc(sizeof *wx_hou);
    repo_path(path, sizeof path, "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    if (!wx || !wx_hou || sb_epw_load(path, wx, err, sizeof err) != 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    repo_path(path, sizeof path, "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw");
    if (sb_epw_load(path, wx_hou, err, sizeof err) != 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    RUN(zone_steady_state_matches_analytic);
    RUN(zone_energy_balance_over_a_day);
    RUN(zone_free_floating_time_constant);
    RUN(zone_co2_balance);
    RUN(chiller_curve_values);
    RUN(cooling_setpoint_step_settles);
    RUN(higher_cooling_setpoint_saves_chiller_and_fan);
    RUN(precooling_shifts_load);
    RUN(economizer_opens_when_outdoor_cool);
    RUN(meters_integrate_power);
    RUN(points_api);
    RUN(json_config);
    RUN(backfill_rate);
    RUN(psychrometrics_match_ashrae_tables);
    RUN(coil_dry_wet_continuous);
    RUN(zone_moisture_balance);
    RUN(plant_moisture_balance_week);
    RUN(zone_rh_plausible_boston);
    RUN(coil_dehumidifies_houston);
    RUN(energy_balance_week);
    RUN(fault_api);
    RUN(fault_oa_damper_stuck_cold_day);
    RUN(fault_ccv_leak_simultaneous_heating_cooling);
    RUN(fault_ccv_stuck);
    RUN(fault_sat_sensor_bias);
    RUN(fault_reheat_stuck_and_leak);
    RUN(fault_vav_damper_stuck);
    RUN(fault_zone_sensor_drift);
    RUN(fault_fan_failure);
    RUN(fault_chiller_cop_degradation);
    RUN(faults_all_at_once_stay_finite);
    RUN(step_size_invariance);
    RUN(year_wall_time);
    free(wx);
    free(wx_hou);
    TAP_END();
}

/* test_sim_plant.c - sbems-sim physics (src/sim/plant/): the 5R1C zone
 * against hand solutions and conservation, the plant's controllers and
 * equipment against expected physical behaviour, meters and the point API. */
#include "tap.h"

#include <time.h>

#include "core/err.h"
#include "sim/plant/equip.h"
#include "sim/plant/plant.h"
#include "sim/plant/zone.h"

#define JUL10 1688965200000LL   /* Mon 2023-07-10 00:00 EST */
#define APR17 1681707600000LL   /* Mon 2023-04-17 00:00 EST */
#define HOUR 3600000LL

static struct sb_epw *wx;

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

static struct sb_plant *mk(int64_t start)
{
    struct sb_plant_config c;
    struct sb_plant *p = NULL;
    char err[256] = "";

    sb_plant_config_default(&c);
    if (sb_plant_new(&c, wx, start, &p, err, sizeof err) != 0)
        printf("# sb_plant_new: %s\n", err);
    return p;
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

int main(void)
{
    char path[512], err[256] = "";

    TAP_START();
    wx = malloc(sizeof *wx);
    repo_path(path, sizeof path, "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    if (!wx || sb_epw_load(path, wx, err, sizeof err) != 0) {
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
    free(wx);
    TAP_END();
}

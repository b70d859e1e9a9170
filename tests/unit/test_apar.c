/* test_apar.c - the APAR rule set (src/fdd/apar*.c): every rule fires just
 * beyond its threshold and not just inside it, the steady-state filters
 * (mode delay, moving window, occupancy), persistence, NAN handling, mode
 * switching, the beyond-APAR rules, findings and batch use. */
#include "tap.h"

#include "core/err.h"
#include "fdd/apar.h"
#include "fdd/param.h"

#define D 0.01   /* distance from a threshold in the boundary tests */

/* Evaluate on the first sample: no delay, no averaging, no persistence. */
static struct sb_apar_conf quick(void)
{
    struct sb_apar_conf c;

    sb_apar_conf_default(&c);
    c.mode_delay_s = 0;
    c.window_s = 0;
    for (int id = 1; id <= SB_APAR_NRULES; id++)
        c.on_delay_s[id] = 0;
    c.oaf_min = 0.2;
    return c;
}

/* Status of rule id after one sample on a fresh detector. */
static int st1(const struct sb_apar_conf *c, const struct sb_apar_sample *s, int id)
{
    struct sb_apar a;
    struct sb_apar_result r;

    if (sb_apar_init(&a, c) != 0 || sb_apar_step(&a, s, &r) != 0)
        return -1;
    return r.status[id];
}

/* Bitmask of the rules FIRED by one sample. */
static uint64_t fired1(const struct sb_apar_conf *c, const struct sb_apar_sample *s)
{
    struct sb_apar a;
    struct sb_apar_result r;

    if (sb_apar_init(&a, c) != 0 || sb_apar_step(&a, s, &r) != 0)
        return ~UINT64_C(0);
    return r.fired;
}

#define FIRES(c, s, id) CHECK_EQ(st1(&(c), &(s), id), SB_APAR_ST_FIRED)
#define QUIET(c, s, id)                                                  \
    do {                                                                 \
        int st_ = st1(&(c), &(s), id);                                   \
        CHECK_INT(st_, !=, SB_APAR_ST_FIRED);                            \
        CHECK_INT(st_, >=, 0);                                           \
    } while (0)

static struct sb_apar_sample base(double u_hc, double u_cc, double u_oad)
{
    struct sb_apar_sample s;

    sb_apar_sample_init(&s);
    s.t = 1000000;
    s.u_hc = u_hc;
    s.u_cc = u_cc;
    s.u_oad = u_oad;
    s.fan = 1;
    s.fan_speed = 0.7;
    s.occupied = 1;
    return s;
}

/* Mode 1: OA fraction (15-21)/(0-21) = 0.286, within 0.3 of 0.2. */
static struct sb_apar_sample heat(void)
{
    struct sb_apar_sample s = base(0.5, 0, 0);

    s.sat = 30; s.mat = 15; s.rat = 21; s.oat = 0; s.sat_sp = 30;
    return s;
}

static struct sb_apar_sample econ(void)
{
    struct sb_apar_sample s = base(0, 0, 0.5);

    s.sat = 14.1; s.mat = 13; s.rat = 22; s.oat = 10; s.sat_sp = 14;
    return s;
}

static struct sb_apar_sample econ_mech(void)
{
    struct sb_apar_sample s = base(0, 0.5, 1.0);

    s.sat = 13; s.mat = 18; s.rat = 24; s.oat = 18; s.sat_sp = 13;
    return s;
}

/* Mode 4: Tma = Tra + 0.2 (Toa - Tra), so the OA fraction is exactly 0.2. */
static struct sb_apar_sample mech(void)
{
    struct sb_apar_sample s = base(0, 0.5, 0);

    s.sat = 13; s.rat = 24; s.oat = 30; s.mat = 25.2; s.sat_sp = 13;
    return s;
}

TEST(modes)
{
    struct sb_apar_conf c = quick();

    CHECK_EQ(sb_apar_mode_of(&c, 0.5, 0, 0), SB_APAR_MODE_HEAT);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0, 0.5), SB_APAR_MODE_ECON);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0.5, 1), SB_APAR_MODE_ECON_MECH);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0.5, 0), SB_APAR_MODE_MECH);
    CHECK_EQ(sb_apar_mode_of(&c, 0.5, 0.5, 0), SB_APAR_MODE_UNKNOWN);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0, 0), SB_APAR_MODE_UNKNOWN);   /* deadband */
    CHECK_EQ(sb_apar_mode_of(&c, NAN, 0, 0), SB_APAR_MODE_NA);
    /* thresholds: eps 0.02 on each command, damper minimum configurable */
    CHECK_EQ(sb_apar_mode_of(&c, 0.021, 0, 0), SB_APAR_MODE_HEAT);
    CHECK_EQ(sb_apar_mode_of(&c, 0.019, 0, 0), SB_APAR_MODE_UNKNOWN);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0.5, 0.981), SB_APAR_MODE_ECON_MECH);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0.5, 0.979), SB_APAR_MODE_UNKNOWN);
    c.u_oad_min = 0.4;
    CHECK_EQ(sb_apar_mode_of(&c, 0.5, 0, 0.41), SB_APAR_MODE_HEAT);
    CHECK_EQ(sb_apar_mode_of(&c, 0.5, 0, 0.43), SB_APAR_MODE_UNKNOWN);
    CHECK_EQ(sb_apar_mode_of(&c, 0, 0, 0.43), SB_APAR_MODE_ECON);
}

TEST(base_samples_are_clean)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s[4] = { heat(), econ(), econ_mech(), mech() };
    int mode[4] = { 1, 2, 3, 4 };

    c.enabled = SB_APAR_ALL_APAR;
    for (int i = 0; i < 4; i++) {
        struct sb_apar a;
        struct sb_apar_result r;

        REQUIRE(sb_apar_init(&a, &c) == 0);
        REQUIRE(sb_apar_step(&a, &s[i], &r) == 0);
        CHECK_EQ(r.mode, mode[i]);
        CHECK_EQ(r.steady, 1);
        CHECK_EQ(r.fired, 0);
        /* the mode's own rules were evaluated (OK), the others filtered */
        CHECK_EQ(r.status[25], SB_APAR_ST_OK);
        CHECK_EQ(r.status[21], SB_APAR_ST_INACTIVE);
    }
}

TEST(rule1_heating_sat_below_mat)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.sat = s.mat + c.dt_sf - c.eps_t - D;      /* 14.09 < 14.1 */
    FIRES(c, s, 1);
    s.sat = s.mat + c.dt_sf - c.eps_t + D;
    QUIET(c, s, 1);
}

TEST(rule2_heating_oa_fraction)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.mat = s.rat + (0.2 + c.eps_f + D) * (s.oat - s.rat);
    FIRES(c, s, 2);
    s.mat = s.rat + (0.2 + c.eps_f - D) * (s.oat - s.rat);
    QUIET(c, s, 2);
    s.mat = s.rat + (0.2 - c.eps_f - D) * (s.oat - s.rat);
    FIRES(c, s, 2);
    /* |Tra - Toa| < dTmin: the temperature estimate is not trusted */
    s = heat();
    s.oat = s.rat - c.dt_min + D;
    s.mat = s.rat + 0.9 * (s.oat - s.rat);
    CHECK_EQ(st1(&c, &s, 2), SB_APAR_ST_INACTIVE);
    /* a measured fraction is used whatever the temperatures */
    s.oaf = 0.2 + c.eps_f + D;
    FIRES(c, s, 2);
    s.oaf = 0.2 + c.eps_f - D;
    QUIET(c, s, 2);
    /* the sample's own minimum overrides the configured one */
    s.oaf = 0.6;
    s.oaf_min = 0.5;
    QUIET(c, s, 2);
    /* no minimum anywhere: not evaluable */
    c.oaf_min = NAN;
    s.oaf_min = NAN;
    CHECK_EQ(st1(&c, &s, 2), SB_APAR_ST_NOT_EVALUABLE);
}

TEST(rules3_4_heating_valve_saturated)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.u_hc = 1.0;
    s.sat = s.sat_sp - c.eps_t - D;
    FIRES(c, s, 3);
    FIRES(c, s, 4);
    s.sat = s.sat_sp - c.eps_t + D;
    QUIET(c, s, 3);
    s.sat = s.sat_sp - 5;
    s.u_hc = 1.0 - c.eps_hc - D;                 /* not saturated */
    QUIET(c, s, 3);
    QUIET(c, s, 4);
    s.u_hc = 1.0 - c.eps_hc + D;
    FIRES(c, s, 3);
    FIRES(c, s, 4);
}

TEST(rule5_econ_oat_too_warm)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = econ();

    s.oat = s.sat_sp - c.dt_sf + c.eps_t + D;
    FIRES(c, s, 5);
    s.oat = s.sat_sp - c.dt_sf + c.eps_t - D;
    QUIET(c, s, 5);
}

TEST(rule6_econ_sat_above_rat)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = econ();

    s.sat = s.rat - c.dt_rf + c.eps_t + D;
    FIRES(c, s, 6);
    s.sat = s.rat - c.dt_rf + c.eps_t - D;
    QUIET(c, s, 6);
}

TEST(rule7_econ_coils_should_be_idle)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = econ();

    s.sat = s.mat + c.dt_sf + c.eps_t + D;
    FIRES(c, s, 7);
    s.sat = s.mat + c.dt_sf + c.eps_t - D;
    QUIET(c, s, 7);
    s.sat = s.mat + c.dt_sf - c.eps_t - D;
    FIRES(c, s, 7);
    s.sat = s.mat + c.dt_sf - c.eps_t + D;
    QUIET(c, s, 7);
}

TEST(rules8_9_econ_mech_oat_limits)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = econ_mech();

    s.oat = s.mat = s.sat_sp - c.dt_sf - c.eps_t - D;
    FIRES(c, s, 8);
    s.oat = s.mat = s.sat_sp - c.dt_sf - c.eps_t + D;
    QUIET(c, s, 8);
    /* rule 9, differential dry bulb: Tco = Tra */
    s = econ_mech();
    s.oat = s.mat = s.rat + c.eps_t + D;
    FIRES(c, s, 9);
    s.oat = s.mat = s.rat + c.eps_t - D;
    QUIET(c, s, 9);
    /* fixed high limit */
    c.t_co = 20;
    s.oat = s.mat = 20 + c.eps_t + D;
    FIRES(c, s, 9);
    s.oat = s.mat = 20 + c.eps_t - D;
    QUIET(c, s, 9);
}

TEST(rule10_econ_mech_mat_equals_oat)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = econ_mech();

    s.mat = s.oat + c.eps_t + D;
    FIRES(c, s, 10);
    s.mat = s.oat + c.eps_t - D;
    QUIET(c, s, 10);
    s.mat = s.oat - c.eps_t - D;
    FIRES(c, s, 10);
    s = econ_mech();
    s.oaf = 1 - c.eps_f - D;
    FIRES(c, s, 10);
    s.oaf = 1 - c.eps_f + D;
    QUIET(c, s, 10);
}

TEST(rules11_12_16_17_cooling_sat_too_warm)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s3 = econ_mech(), s4 = mech();

    s3.sat = s3.mat + c.dt_sf + c.eps_t + D;
    FIRES(c, s3, 11);
    s3.sat = s3.mat + c.dt_sf + c.eps_t - D;
    QUIET(c, s3, 11);
    s3.sat = s3.rat - c.dt_rf + c.eps_t + D;
    FIRES(c, s3, 12);
    s3.sat = s3.rat - c.dt_rf + c.eps_t - D;
    QUIET(c, s3, 12);
    s4.sat = s4.mat + c.dt_sf + c.eps_t + D;
    FIRES(c, s4, 16);
    s4.sat = s4.mat + c.dt_sf + c.eps_t - D;
    QUIET(c, s4, 16);
    s4.sat = s4.rat - c.dt_rf + c.eps_t + D;
    FIRES(c, s4, 17);
    s4.sat = s4.rat - c.dt_rf + c.eps_t - D;
    QUIET(c, s4, 17);
}

TEST(rules13_14_19_20_cooling_valve_saturated)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s[2] = { econ_mech(), mech() };
    int r_err[2] = { 13, 19 }, r_sat[2] = { 14, 20 };

    for (int i = 0; i < 2; i++) {
        struct sb_apar_sample x = s[i];

        x.u_cc = 1.0;
        x.sat = x.sat_sp + c.eps_t + D;
        FIRES(c, x, r_err[i]);
        FIRES(c, x, r_sat[i]);
        x.sat = x.sat_sp + c.eps_t - D;
        QUIET(c, x, r_err[i]);
        x.u_cc = 1.0 - c.eps_cc + D;
        FIRES(c, x, r_sat[i]);
        x.u_cc = 1.0 - c.eps_cc - D;
        QUIET(c, x, r_sat[i]);
    }
}

TEST(rule15_mech_oat_cool_enough_for_economizer)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = mech();

    s.oat = s.rat - c.eps_t - D;
    FIRES(c, s, 15);
    s.oat = s.rat - c.eps_t + D;
    QUIET(c, s, 15);
    c.t_co = 18;
    s.oat = 18 - c.eps_t - D;
    FIRES(c, s, 15);
    s.oat = 18 - c.eps_t + D;
    QUIET(c, s, 15);
}

TEST(rule18_mech_oa_fraction)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = mech();

    s.mat = s.rat + (0.2 + c.eps_f + D) * (s.oat - s.rat);
    FIRES(c, s, 18);
    s.mat = s.rat + (0.2 + c.eps_f - D) * (s.oat - s.rat);
    QUIET(c, s, 18);
}

TEST(rules21_24_unknown_mode)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = base(0.5, 0.5, 0.5);

    s.sat = 14; s.mat = 18; s.rat = 22; s.oat = 15; s.sat_sp = 14;
    CHECK_EQ(fired1(&c, &s) & (SB_APAR_BIT(21) | SB_APAR_BIT(22) | SB_APAR_BIT(23) | SB_APAR_BIT(24)),
             SB_APAR_BIT(21) | SB_APAR_BIT(22) | SB_APAR_BIT(23) | SB_APAR_BIT(24));
    /* heating and cooling, damper at minimum: 22 only */
    s.u_oad = c.eps_d - D;
    s.u_hc = s.u_cc = c.eps_hc + D;
    CHECK_EQ(fired1(&c, &s) & (SB_APAR_BIT(21) | SB_APAR_BIT(22) | SB_APAR_BIT(23) | SB_APAR_BIT(24)),
             SB_APAR_BIT(22));
    /* only one valve open in mode 5: rule 22 must stay quiet */
    s = base(0, 0.5, 0.5);
    s.sat = 14; s.mat = 18; s.rat = 22; s.oat = 15; s.sat_sp = 14;
    CHECK_EQ(fired1(&c, &s) & (SB_APAR_BIT(21) | SB_APAR_BIT(22) | SB_APAR_BIT(23) | SB_APAR_BIT(24)),
             SB_APAR_BIT(24));
    s.u_hc = 0.5;
    s.u_cc = c.eps_cc - D;
    CHECK_EQ(fired1(&c, &s) & (SB_APAR_BIT(21) | SB_APAR_BIT(22) | SB_APAR_BIT(23) | SB_APAR_BIT(24)),
             SB_APAR_BIT(23));
    /* heating with the damper just above / at its minimum */
    c.u_oad_min = 0.2;
    s = base(0.5, 0, 0.2 + c.eps_d + D);
    s.sat = 30; s.mat = 15; s.rat = 21; s.oat = 0; s.sat_sp = 30;
    FIRES(c, s, 23);
    s.u_oad = 0.2 + c.eps_d - D;               /* mode 1: rule 23 filtered */
    CHECK_EQ(st1(&c, &s, 23), SB_APAR_ST_INACTIVE);
    /* cooling with the damper modulating, and just at full */
    s = base(0, 0.5, 1 - c.eps_d - D);
    s.sat = 13; s.mat = 18; s.rat = 24; s.oat = 18; s.sat_sp = 13;
    FIRES(c, s, 24);
    s.u_oad = 1 - c.eps_d + D;                 /* mode 3 */
    CHECK_EQ(st1(&c, &s, 24), SB_APAR_ST_INACTIVE);
    /* mode 5 without simultaneous action (deadband): rules 21-24 OK */
    s = base(0, 0, 0);
    s.sat = 20; s.mat = 19; s.rat = 21; s.oat = 10; s.sat_sp = 20;
    CHECK_EQ(st1(&c, &s, 22), SB_APAR_ST_OK);
    CHECK_EQ(fired1(&c, &s), 0);
}

TEST(rule25_sat_error_all_modes)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s[3] = { heat(), econ(), mech() };

    for (int i = 0; i < 3; i++) {
        struct sb_apar_sample x = s[i];

        x.sat = x.sat_sp + c.eps_t + D;
        FIRES(c, x, 25);
        x.sat = x.sat_sp - c.eps_t - D;
        FIRES(c, x, 25);
        x.sat = x.sat_sp + c.eps_t - D;
        QUIET(c, x, 25);
    }
}

TEST(split_setpoints_follow_the_mode)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.sat_sp = NAN;
    s.sat_sp_heat = 30;
    s.sat_sp_cool = 12;
    QUIET(c, s, 25);                /* mode 1 uses the heating setpoint */
    s.sat = 30 - c.eps_t - D;
    FIRES(c, s, 25);
    s = mech();
    s.sat_sp = NAN;
    s.sat_sp_heat = 30;
    s.sat_sp_cool = 13;
    QUIET(c, s, 25);                /* mode 4 uses the cooling setpoint */
    /* deadband (mode 5): neither applies */
    s = base(0, 0, 0);
    s.sat = 20; s.mat = 19; s.rat = 21; s.oat = 10;
    s.sat_sp_heat = 15; s.sat_sp_cool = 25;
    CHECK_EQ(st1(&c, &s, 25), SB_APAR_ST_NOT_EVALUABLE);
}

TEST(rules26_27_mat_between_rat_and_oat)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();   /* Tra 21, Toa 0 */

    s.mat = 0 - c.eps_t - D;
    FIRES(c, s, 26);
    s.mat = 0 - c.eps_t + D;
    QUIET(c, s, 26);
    s.mat = 21 + c.eps_t + D;
    FIRES(c, s, 27);
    s.mat = 21 + c.eps_t - D;
    QUIET(c, s, 27);
}

/* Feeds minute samples for `minutes`, switching between modes 1 and 4
 * every `every` minutes; returns how many samples had rule 28 FIRED. */
static int hunt(int every, int minutes)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    int n = 0;

    if (sb_apar_init(&a, &c) != 0)
        return -1;
    for (int m = 0; m < minutes; m++) {
        struct sb_apar_sample s = (m / every) % 2 ? mech() : heat();

        s.t = 60 * (int64_t)m;
        if (sb_apar_step(&a, &s, &r) != 0)
            return -1;
        n += r.status[28] == SB_APAR_ST_FIRED;
    }
    return n;
}

TEST(rule28_mode_switching)
{
    /* every 8 min: 8 switches within an hour from t = 64 min on */
    CHECK_INT(hunt(8, 180), >, 0);
    /* every 9 min: never more than 7 in any hour */
    CHECK_EQ(hunt(9, 180), 0);
    CHECK_EQ(hunt(30, 180), 0);
}

TEST(mode_delay_filters_transients)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    int fired_early = 0, first_fire = -1;

    c.mode_delay_s = 1800;
    REQUIRE(sb_apar_init(&a, &c) == 0);
    /* start-up in heating with a rule-1 fault: nothing for 30 min */
    for (int m = 0; m <= 40; m++) {
        struct sb_apar_sample s = heat();

        s.t = 60 * (int64_t)m;
        s.sat = 10;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        if (r.status[1] == SB_APAR_ST_FIRED && first_fire < 0)
            first_fire = m;
        fired_early |= m < 30 && r.status[1] != SB_APAR_ST_INACTIVE;
        CHECK_EQ(r.steady, m >= 30);
    }
    CHECK_EQ(fired_early, 0);
    CHECK_EQ(first_fire, 30);
    /* switch to mode 4 with a rule-16 fault: the delay starts again */
    first_fire = -1;
    for (int m = 41; m <= 80; m++) {
        struct sb_apar_sample s = mech();

        s.t = 60 * (int64_t)m;
        s.sat = s.mat + 5;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        if (r.status[16] == SB_APAR_ST_FIRED && first_fire < 0)
            first_fire = m;
        CHECK_EQ(r.status[1], SB_APAR_ST_INACTIVE);     /* other mode now */
    }
    CHECK_EQ(first_fire, 71);
    /* rule 1 stays active while filtered; it clears when evaluated false */
    {
        struct sb_apar_finding f;
        int cleared_at = -1;

        CHECK_EQ(sb_apar_finding(&a, 1, &f), 0);
        for (int m = 81; m <= 120; m++) {
            struct sb_apar_sample s = heat();

            s.t = 60 * (int64_t)m;
            REQUIRE(sb_apar_step(&a, &s, &r) == 0);
            if ((r.cleared & SB_APAR_BIT(1)) && cleared_at < 0)
                cleared_at = m;
        }
        CHECK_EQ(cleared_at, 111);
        CHECK_EQ(sb_apar_finding(&a, 1, &f), SB_ENOENT);
    }
}

TEST(on_delay_persistence)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    int raised = 0, pending = 0, first = -1;

    c.on_delay_s[25] = 600;
    REQUIRE(sb_apar_init(&a, &c) == 0);
    for (int m = 0; m < 30; m++) {
        struct sb_apar_sample s = heat();

        s.t = 60 * (int64_t)m;
        s.sat = s.sat_sp - 5;
        if (m == 5)
            s.sat = s.sat_sp;            /* a one-minute break restarts the count */
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        pending += r.status[25] == SB_APAR_ST_PENDING;
        raised += (r.raised & SB_APAR_BIT(25)) != 0;
        if (r.status[25] == SB_APAR_ST_FIRED && first < 0)
            first = m;
    }
    CHECK_EQ(first, 16);                 /* true from m = 6, 600 s later */
    CHECK_EQ(raised, 1);
    CHECK_EQ(pending, 5 + 10);
}

TEST(moving_window_averages)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    int fired = 0;

    c.window_s = 300;                    /* the last 5 one-minute samples */
    REQUIRE(sb_apar_init(&a, &c) == 0);
    for (int m = 0; m < 60; m++) {
        struct sb_apar_sample s = heat();

        s.t = 60 * (int64_t)m;
        /* one sample in five is 8 C off setpoint: the mean is off by 1.6 */
        if (m % 5 == 0)
            s.sat = s.sat_sp - 8;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        fired += r.status[25] == SB_APAR_ST_FIRED;
    }
    CHECK_EQ(fired, 0);
    /* the same spike every other minute: the mean is off by 3.2-4.8 */
    REQUIRE(sb_apar_init(&a, &c) == 0);
    for (int m = 0; m < 60; m++) {
        struct sb_apar_sample s = heat();

        s.t = 60 * (int64_t)m;
        if (m % 2 == 0)
            s.sat = s.sat_sp - 8;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        fired += r.status[25] == SB_APAR_ST_FIRED;
    }
    CHECK_INT(fired, >, 50);
}

TEST(nan_inputs_are_not_evaluable)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();
    static const int need_sat[] = { 1, 3, 25 };
    static const int need_mat[] = { 1, 2, 26, 27 };

    s.sat = NAN;
    s.mat = -50;                         /* would fire 1 and 26 if SAT were there */
    for (size_t i = 0; i < sizeof need_sat / sizeof need_sat[0]; i++)
        CHECK_EQ(st1(&c, &s, need_sat[i]), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 26), SB_APAR_ST_FIRED);
    s = heat();
    s.mat = NAN;
    for (size_t i = 0; i < sizeof need_mat / sizeof need_mat[0]; i++)
        CHECK_EQ(st1(&c, &s, need_mat[i]), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 25), SB_APAR_ST_OK);
    /* an infinite reading is treated as missing */
    s = heat();
    s.sat = INFINITY;
    CHECK_EQ(st1(&c, &s, 25), SB_APAR_ST_NOT_EVALUABLE);
    /* no damper signal: the mode is unknown, mode rules are not evaluable,
     * the all-mode rules still run */
    s = heat();
    s.u_oad = NAN;
    s.sat = s.sat_sp + 5;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 22), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 28), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 25), SB_APAR_ST_FIRED);
    /* neither fan nor occupancy known: nothing can be judged */
    s = heat();
    s.fan = s.fan_speed = s.occupied = NAN;
    s.sat = -40;
    CHECK_EQ(fired1(&c, &s), 0);
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_NOT_EVALUABLE);
    CHECK_EQ(st1(&c, &s, 31), SB_APAR_ST_NOT_EVALUABLE);
    /* a whole sample of NANs never fires anything */
    sb_apar_sample_init(&s);
    CHECK_EQ(fired1(&c, &s), 0);
}

TEST(running_gate)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.sat = 0;                           /* rule 1 and 25 would fire */
    s.occupied = 0;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_INACTIVE);
    s.occupied = 1;
    s.fan = 0;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_INACTIVE);
    /* no status: the speed decides */
    s.fan = NAN;
    s.fan_speed = 0.5;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_FIRED);
    s.fan_speed = 0.0;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_INACTIVE);
    /* unknown occupancy defers to the fan */
    s.fan = 1;
    s.occupied = NAN;
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_FIRED);
    /* disabled rules say so */
    c.enabled &= ~SB_APAR_BIT(1);
    CHECK_EQ(st1(&c, &s, 1), SB_APAR_ST_DISABLED);
}

TEST(time_must_increase_and_gaps_restart)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    struct sb_apar_sample s = heat();

    c.mode_delay_s = 600;
    REQUIRE(sb_apar_init(&a, &c) == 0);
    for (int m = 0; m <= 10; m++) {
        s.t = 60 * (int64_t)m;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
    }
    CHECK_EQ(r.steady, 1);
    CHECK_EQ(sb_apar_step(&a, &s, &r), SB_EINVAL);      /* same time */
    s.t -= 60;
    CHECK_EQ(sb_apar_step(&a, &s, &r), SB_EINVAL);
    s.t = 600 + c.max_gap_s + 60;                      /* a long gap */
    CHECK_EQ(sb_apar_step(&a, &s, &r), 0);
    CHECK_EQ(r.steady, 0);
    s.t = INT64_MAX;
    CHECK_EQ(sb_apar_step(&a, &s, &r), SB_ERANGE);
}

/* Runs two hours of running samples with the SAT setpoint drifting by
 * sp_swing, Toa falling by oat_ramp and the fan speed rising by fs_ramp,
 * each per hour (the reset window here is one hour of running time);
 * returns the FIRED count of rule id. */
static int reset_run(int id, double sp_swing, double oat_ramp, double fs_ramp, double dsp_sp)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    int n = 0, minutes = 120;

    c.reset_window_s = 3600;
    if (sb_apar_init(&a, &c) != 0)
        return -1;
    for (int m = 0; m < minutes; m++) {
        struct sb_apar_sample s = mech();
        double f = (double)m / 60.0;

        s.t = 60 * (int64_t)m;
        s.sat_sp = 13 + sp_swing * f;
        s.sat = s.sat_sp;
        s.oat = 30 - oat_ramp * f;
        s.mat = s.rat + 0.2 * (s.oat - s.rat);
        s.fan_speed = 0.5 + fs_ramp * f;
        s.dsp_sp = dsp_sp;
        if (sb_apar_step(&a, &s, &r) != 0)
            return -1;
        n += r.status[id] == SB_APAR_ST_FIRED;
    }
    return n;
}

TEST(beyond_apar_resets)
{
    /* constant setpoint, Toa down 6 C an hour (>= 5.6): fires */
    CHECK_INT(reset_run(SB_APAR_RULE_SAT_RESET, 0, 6, 0, NAN), >, 0);
    /* the load varies too little (4.5 C an hour; the window is resolved to
     * one bucket, 1/24 of it, so it may span a little more than an hour) */
    CHECK_EQ(reset_run(SB_APAR_RULE_SAT_RESET, 0, 4.5, 0, NAN), 0);
    /* the setpoint is reset by 1 C an hour (band 0.5 C) */
    CHECK_EQ(reset_run(SB_APAR_RULE_SAT_RESET, 1.0, 6, 0, NAN), 0);
    /* static pressure: constant setpoint while the fan speed varies */
    CHECK_INT(reset_run(SB_APAR_RULE_DSP_RESET, 0, 0, 0.25, 250), >, 0);
    CHECK_EQ(reset_run(SB_APAR_RULE_DSP_RESET, 0, 0, 0.15, 250), 0);
    CHECK_EQ(reset_run(SB_APAR_RULE_DSP_RESET, 0, 0, 0.25, NAN), 0);
}

TEST(beyond_apar_fan_unoccupied)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();
    const struct sb_apar_rule_info *info = sb_apar_rule_info(SB_APAR_RULE_FAN_UNOCC);

    REQUIRE(info != NULL);
    CHECK_EQ(info->beyond, 1);
    CHECK_EQ(sb_apar_rule_info(28)->beyond, 0);
    s.occupied = 0;
    FIRES(c, s, SB_APAR_RULE_FAN_UNOCC);
    s.fan = 0;
    s.fan_speed = 0;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_UNOCC), SB_APAR_ST_OK);
    s.fan = NAN;
    s.fan_speed = 0.3;
    FIRES(c, s, SB_APAR_RULE_FAN_UNOCC);
    s.occupied = 1;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_UNOCC), SB_APAR_ST_OK);
    s.occupied = NAN;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_UNOCC), SB_APAR_ST_NOT_EVALUABLE);
}

TEST(finding_and_text)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a;
    struct sb_apar_result r;
    struct sb_apar_finding f;
    struct sb_apar_sample s = heat();
    char buf[1024], small[16];
    int n;

    s.u_hc = 1;
    s.sat = s.sat_sp - 3;
    REQUIRE(sb_apar_init(&a, &c) == 0);
    REQUIRE(sb_apar_step(&a, &s, &r) == 0);
    CHECK(r.raised & SB_APAR_BIT(3));
    REQUIRE(sb_apar_finding(&a, 3, &f) == 0);
    CHECK_EQ(f.rule, 3);
    CHECK_EQ(f.mode, SB_APAR_MODE_HEAT);
    CHECK_DBL(f.lhs, 3.0, 1e-9);
    CHECK_DBL(f.rhs, 2.0, 1e-9);
    CHECK(f.faults & SB_APAR_F_HC_CAPACITY);
    CHECK_DBL(f.ev.sat, s.sat, 1e-9);
    CHECK_EQ(sb_apar_finding(&a, 22, &f), SB_ENOENT);
    CHECK_EQ(sb_apar_finding(&a, 0, &f), SB_EINVAL);
    CHECK_EQ(sb_apar_finding(&a, SB_APAR_NRULES + 1, &f), SB_EINVAL);
    REQUIRE(sb_apar_finding(&a, 3, &f) == 0);
    n = sb_apar_finding_format(&f, buf, sizeof buf);
    CHECK_INT(n, <, (int)sizeof buf);
    CHECK_EQ((int)strlen(buf), n);
    CHECK(strstr(buf, "APAR rule 3 (heating)") != NULL);
    CHECK(strstr(buf, "heating capacity") != NULL);
    CHECK(strstr(buf, "3.00 vs 2.00") != NULL);
    /* truncation keeps snprintf semantics */
    CHECK_EQ(sb_apar_finding_format(&f, small, sizeof small), n);
    CHECK_EQ((int)strlen(small), (int)sizeof small - 1);
    CHECK_STR(sb_apar_fault_name(SB_APAR_F_OAD_STUCK), "OA damper stuck");
    CHECK_STR(sb_apar_fault_name(3), "?");
    CHECK_STR(sb_apar_mode_name(SB_APAR_MODE_ECON_MECH), "mechanical cooling, 100% OA");
    CHECK(sb_apar_rule_info(0) == NULL && sb_apar_rule_info(SB_APAR_NRULES + 1) == NULL);
    for (int id = 1; id <= SB_APAR_NRULES; id++) {
        const struct sb_apar_rule_info *info = sb_apar_rule_info(id);

        REQUIRE(info != NULL);
        CHECK_EQ(info->id, id);
        CHECK(info->expr && info->meaning && info->action && info->faults != 0);
        CHECK_EQ(info->beyond, id > SB_APAR_NAPAR);
    }
}

TEST(diagnosis_votes)
{
    double w[SB_APAR_NRULES + 1] = { 0 }, votes[SB_APAR_NFAULTS];
    uint32_t d;

    /* rules 19 and 20 (cooling valve saturated, SAT above setpoint) and
     * rule 15 (economizer logic) firing together point at the cooling side */
    w[15] = w[19] = w[20] = 100;
    d = sb_apar_diagnose(SB_APAR_BIT(15) | SB_APAR_BIT(19) | SB_APAR_BIT(20), w, votes);
    CHECK(d & SB_APAR_F_CC_STUCK);
    CHECK(!(d & SB_APAR_F_ECON_LOGIC));
    CHECK(votes[8] > votes[12]);
    /* one rule alone: all its classes tie */
    d = sb_apar_diagnose(SB_APAR_BIT(26), NULL, NULL);
    CHECK_EQ(d, SB_APAR_F_MAT_SENSOR | SB_APAR_F_RAT_SENSOR | SB_APAR_F_OAT_SENSOR);
    CHECK_EQ(sb_apar_diagnose(0, NULL, NULL), 0);
    CHECK_EQ(sb_apar_diagnose(SB_APAR_BIT(26), w, NULL), 0);    /* weight 0 */
}

TEST(conf_check)
{
    struct sb_apar_conf c;
    struct sb_apar a;
    char err[128];

    sb_apar_conf_default(&c);
    CHECK_EQ(sb_apar_conf_check(&c, err, sizeof err), 0);
    CHECK_DBL(c.eps_t, 2.0, 0);
    CHECK_DBL(c.eps_f, 0.3, 0);
    CHECK_DBL(c.dt_min, 5.6, 0);
    CHECK_EQ(c.mode_switch_max, 7);
    c.eps_t = NAN;
    CHECK_EQ(sb_apar_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "eps_t") != NULL);
    CHECK_EQ(sb_apar_init(&a, &c), SB_EINVAL);
    sb_apar_conf_default(&c);
    c.window_s = -1;
    CHECK_EQ(sb_apar_conf_check(&c, NULL, 0), SB_EINVAL);
    sb_apar_conf_default(&c);
    c.on_delay_s[7] = -5;
    CHECK_EQ(sb_apar_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "on_delay_s") != NULL);
    sb_apar_conf_default(&c);
    c.t_co = INFINITY;
    CHECK_EQ(sb_apar_conf_check(&c, NULL, 0), SB_EINVAL);
    c.t_co = 18;
    c.oaf_min = 1.5;
    CHECK_EQ(sb_apar_conf_check(&c, NULL, 0), SB_EINVAL);
}

/* Random samples (NANs, infinities, wild values, irregular steps): no
 * crash under the sanitizers, nothing FIRED without a true evaluation, and
 * FIRED only after the on-delay. */
TEST(random_samples_keep_invariants)
{
    struct sb_apar_conf c;
    struct sb_apar a;
    struct sb_apar_result r;
    uint64_t seed = 0x5eed;
    int64_t t = 0;
    int bad_fire = 0, fired = 0;
    static const double pick[] = { NAN, INFINITY, -INFINITY, 0, 1, 0.5, 0.02, 0.98, -1, 2, 15, 30 };

    sb_apar_conf_default(&c);
    c.mode_delay_s = 120;
    c.window_s = 180;
    for (int id = 1; id <= SB_APAR_NRULES; id++)
        c.on_delay_s[id] = 120;
    c.reset_window_s = 2400;
    c.oaf_min = 0.2;
    REQUIRE(sb_apar_init(&a, &c) == 0);
    for (int i = 0; i < 20000; i++) {
        struct sb_apar_sample s;
        double *f[] = { &s.sat, &s.mat, &s.rat, &s.oat, &s.sat_sp, &s.sat_sp_heat, &s.sat_sp_cool,
                        &s.u_hc, &s.u_cc, &s.u_oad, &s.fan, &s.fan_speed, &s.occupied, &s.dsp,
                        &s.dsp_sp, &s.oaf, &s.oaf_min };

        sb_apar_sample_init(&s);
        t += 1 + (int64_t)(tap_rand(&seed) % (i % 97 == 0 ? 2000 : 90));
        s.t = t;
        for (int k = 0; k < 17; k++) {
            uint64_t x = tap_rand(&seed);

            *f[k] = x % 4 == 0 ? pick[(x >> 8) % (sizeof pick / sizeof pick[0])]
                               : (double)((x >> 16) % 4000) / 100.0 - 5.0;
        }
        s.u_hc = (double)(tap_rand(&seed) % 5) / 4.0;
        s.u_cc = (double)(tap_rand(&seed) % 5) / 4.0;
        s.fan = 1;
        s.occupied = tap_rand(&seed) % 10 ? 1 : 0;
        REQUIRE(sb_apar_step(&a, &s, &r) == 0);
        for (int id = 1; id <= SB_APAR_NRULES; id++) {
            if (r.status[id] == SB_APAR_ST_FIRED) {
                fired++;
                bad_fire += t - a.r[id].since < c.on_delay_s[id];
                bad_fire += !(r.fired & SB_APAR_BIT(id));
            }
            if (r.status[id] > SB_APAR_ST_FIRED)
                bad_fire++;
        }
    }
    CHECK_EQ(bad_fire, 0);
    CHECK_INT(fired, >, 0);
}

TEST(batch_equals_incremental)
{
    struct sb_apar_conf c = quick();
    struct sb_apar a, b;
    struct sb_apar_result r;
    struct sb_apar_tally tally = { 0 };
    struct sb_apar_sample s[200];
    uint32_t fired25 = 0, steady = 0;

    c.mode_delay_s = 600;
    c.window_s = 300;
    c.on_delay_s[25] = 300;
    for (int m = 0; m < 200; m++) {
        s[m] = (m / 50) % 2 ? mech() : heat();
        s[m].t = 60 * (int64_t)m;
        if (m % 10 < 8)
            s[m].sat = s[m].sat_sp + 4;
    }
    REQUIRE(sb_apar_init(&a, &c) == 0);
    REQUIRE(sb_apar_init(&b, &c) == 0);
    CHECK_EQ(sb_apar_run(&a, s, 200, &tally), 0);
    for (int m = 0; m < 200; m++) {
        REQUIRE(sb_apar_step(&b, &s[m], &r) == 0);
        fired25 += r.status[25] == SB_APAR_ST_FIRED;
        steady += (uint32_t)r.steady;
    }
    CHECK_EQ(tally.samples, 200);
    CHECK_EQ(tally.steady, steady);
    CHECK_EQ(tally.fired[25], fired25);
    CHECK_INT(fired25, >, 0);
    CHECK_EQ(memcmp(&a.r[25], &b.r[25], sizeof a.r[25]), 0);
    /* a batch stops at the first bad sample */
    sb_apar_reset(&a);
    s[10].t = s[9].t;
    CHECK_EQ(sb_apar_run(&a, s, 200, NULL), SB_EINVAL);
}

/* Rule 32: the start command (or a speed) with no proof of air - the status
 * when there is one, else the duct static pressure against its setpoint. */
TEST(beyond_apar_fan_failure)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = heat();

    s.fan = NAN;
    s.fan_cmd = 1;
    s.dsp_sp = 250;
    s.dsp = 0.2 * 250 - D;                       /* just below 20 % of the setpoint */
    FIRES(c, s, SB_APAR_RULE_FAN_FAIL);
    s.dsp = 0.2 * 250 + D;
    QUIET(c, s, SB_APAR_RULE_FAN_FAIL);
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_FAIL), SB_APAR_ST_OK);
    s.dsp = 0;
    s.fan_cmd = 0;                               /* not commanded: a stopped fan is right */
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_FAIL), SB_APAR_ST_OK);
    s.fan_cmd = NAN;                             /* no command: the speed stands for it */
    s.fan_speed = 0.6;
    FIRES(c, s, SB_APAR_RULE_FAN_FAIL);
    s.fan = 0;                                   /* a status says more than the pressure */
    s.dsp = 250;
    FIRES(c, s, SB_APAR_RULE_FAN_FAIL);
    s.fan = 1;
    s.dsp = 0;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_FAIL), SB_APAR_ST_OK);
    s.fan = NAN;
    s.dsp_sp = NAN;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_FAN_FAIL), SB_APAR_ST_NOT_EVALUABLE);
    /* unoccupied too: a commanded fan that does not run is a fault at any hour */
    s.dsp_sp = 250;
    s.occupied = 0;
    FIRES(c, s, SB_APAR_RULE_FAN_FAIL);

    /* the default on-delay is ten minutes, not APAR's hour */
    struct sb_apar_conf d;
    struct sb_apar a;
    struct sb_apar_result r;
    sb_apar_conf_default(&d);
    CHECK_EQ(sb_apar_init(&a, &d), 0);
    s.occupied = 1;
    for (int i = 0; i <= 10; i++) {
        s.t = 1000 + 60 * i;
        CHECK_EQ(sb_apar_step(&a, &s, &r), 0);
        CHECK_EQ(r.status[SB_APAR_RULE_FAN_FAIL], i < 10 ? SB_APAR_ST_PENDING : SB_APAR_ST_FIRED);
    }
    CHECK(r.raised & SB_APAR_BIT(SB_APAR_RULE_FAN_FAIL));
    struct sb_apar_finding f;
    CHECK_EQ(sb_apar_finding(&a, SB_APAR_RULE_FAN_FAIL, &f), 0);
    CHECK(f.faults & SB_APAR_F_FAN);
    CHECK_DBL(f.lhs, 0, 1e-9);
    CHECK_DBL(f.rhs, 50, 1e-9);
}

/* Rule 33: APAR's rule 7 balance in the deadband (mode 5 with both valves
 * shut and the damper at its minimum), which APAR itself leaves unjudged. */
TEST(beyond_apar_deadband_balance)
{
    struct sb_apar_conf c = quick();
    struct sb_apar_sample s = base(0, 0, 0);

    s.mat = 20; s.rat = 22; s.oat = 16; s.sat_sp = 13;
    s.u_oad_min = 0.2;
    s.u_oad = 0.2;                                 /* at its minimum */
    CHECK_EQ(sb_apar_mode_at(&c, s.u_hc, s.u_cc, s.u_oad, s.u_oad_min), SB_APAR_MODE_UNKNOWN);
    s.sat = s.mat + c.dt_sf - c.eps_t - D;         /* colder than the mixed air: a leaking cooling valve */
    FIRES(c, s, SB_APAR_RULE_REST_BAL);
    s.sat = s.mat + c.dt_sf - c.eps_t + D;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_REST_BAL), SB_APAR_ST_OK);
    s.sat = s.mat + c.dt_sf + c.eps_t + D;         /* warmer: a leaking heating valve */
    FIRES(c, s, SB_APAR_RULE_REST_BAL);
    s.u_oad = 0.5;                                 /* economizing (mode 2): rule 7's, not this one */
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_REST_BAL), SB_APAR_ST_INACTIVE);
    CHECK_EQ(st1(&c, &s, 7), SB_APAR_ST_FIRED);
    s.u_oad = 0.2;
    s.u_cc = 0.5;                                  /* cooling: another mode */
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_REST_BAL), SB_APAR_ST_INACTIVE);
    s.u_cc = 0;
    s.mat = NAN;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_REST_BAL), SB_APAR_ST_NOT_EVALUABLE);
    /* the sample's minimum position decides "at minimum", not the conf's 0 */
    s = base(0, 0, 0);
    s.mat = 20; s.rat = 22; s.oat = 16; s.sat_sp = 13;
    s.u_oad = 0.2;
    s.sat = s.mat - 5;
    CHECK_EQ(st1(&c, &s, SB_APAR_RULE_REST_BAL), SB_APAR_ST_INACTIVE);   /* 0.2 > 0 + eps_d: mode 2 */
    struct sb_apar_conf d;
    sb_apar_conf_default(&d);
    CHECK_EQ(d.on_delay_s[SB_APAR_RULE_REST_BAL], 900);
}

TEST(conf_params_by_name)
{
    struct sb_apar_conf c;
    char err[160];
    size_t n;
    const struct sb_fdd_param *p = sb_apar_conf_params(&n);

    sb_apar_conf_default(&c);
    CHECK(n >= 20);
    for (size_t i = 0; i < n; i++) {             /* every default lies inside its bounds */
        double v = sb_fdd_param_get(&p[i], &c);
        CHECK(v >= p[i].lo && v <= p[i].hi);
    }
    CHECK_EQ(sb_apar_conf_set(&c, "eps_t", 2.5, err, sizeof err), 0);
    CHECK_DBL(c.eps_t, 2.5, 0);
    CHECK_EQ(sb_apar_conf_set(&c, "eps_t", 25, err, sizeof err), SB_ERANGE);
    CHECK(strncmp(err, "eps_t:", 6) == 0);
    CHECK_DBL(c.eps_t, 2.5, 0);                  /* unchanged by a refused value */
    CHECK_EQ(sb_apar_conf_set(&c, "nope", 1, err, sizeof err), SB_ENOENT);
    CHECK(strncmp(err, "nope:", 5) == 0);
    CHECK_EQ(sb_apar_conf_set(&c, "window_s", 30.5, err, sizeof err), SB_ERANGE);
    CHECK_EQ(sb_apar_conf_set(&c, "on_delay_s", 1800, err, sizeof err), 0);
    CHECK_EQ(c.on_delay_s[1], 1800);
    CHECK_EQ(c.on_delay_s[31], 1800);
    CHECK_EQ(c.on_delay_s[SB_APAR_RULE_FAN_FAIL], 600);
    CHECK_EQ(sb_apar_conf_set(&c, "fan_fail_delay_s", 120, err, sizeof err), 0);
    CHECK_EQ(c.on_delay_s[SB_APAR_RULE_FAN_FAIL], 120);
    CHECK_EQ(sb_apar_conf_set(&c, "mode_switch_max", 12, err, sizeof err), 0);
    CHECK_EQ(c.mode_switch_max, 12);
}

int main(void)
{
    TAP_START();
    RUN(modes);
    RUN(base_samples_are_clean);
    RUN(rule1_heating_sat_below_mat);
    RUN(rule2_heating_oa_fraction);
    RUN(rules3_4_heating_valve_saturated);
    RUN(rule5_econ_oat_too_warm);
    RUN(rule6_econ_sat_above_rat);
    RUN(rule7_econ_coils_should_be_idle);
    RUN(rules8_9_econ_mech_oat_limits);
    RUN(rule10_econ_mech_mat_equals_oat);
    RUN(rules11_12_16_17_cooling_sat_too_warm);
    RUN(rules13_14_19_20_cooling_valve_saturated);
    RUN(rule15_mech_oat_cool_enough_for_economizer);
    RUN(rule18_mech_oa_fraction);
    RUN(rules21_24_unknown_mode);
    RUN(rule25_sat_error_all_modes);
    RUN(split_setpoints_follow_the_mode);
    RUN(rules26_27_mat_between_rat_and_oat);
    RUN(rule28_mode_switching);
    RUN(mode_delay_filters_transients);
    RUN(on_delay_persistence);
    RUN(moving_window_averages);
    RUN(nan_inputs_are_not_evaluable);
    RUN(running_gate);
    RUN(time_must_increase_and_gaps_restart);
    RUN(beyond_apar_resets);
    RUN(beyond_apar_fan_unoccupied);
    RUN(beyond_apar_fan_failure);
    RUN(beyond_apar_deadband_balance);
    RUN(conf_params_by_name);
    RUN(finding_and_text);
    RUN(diagnosis_votes);
    RUN(conf_check);
    RUN(random_samples_keep_invariants);
    RUN(batch_equals_incremental);
    TAP_END();
}

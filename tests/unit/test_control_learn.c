/*
 * test_control_learn.c - optimal start learnt from a zone's history of
 * temperatures and setpoints (src/control/learn.[ch]).
 *
 * The history is what the store would hold for a first-order zone (the
 * model of test_ostart.c: C dT/dt = (T_out - T)/R + Q, tau = RC = 10 h,
 * q = Q/C = 5 K/h of heating, solved exactly over 1-min steps) whose
 * heating setpoint is what a controller wrote: 15 °C at night, 21 °C from
 * 05:00 (recovery, then occupied) to 18:00.  Nothing says "recovery" or
 * "occupied": the mode is read from the setpoint.  The recovery from 15 °C
 * to 21 °C runs at q - (T - T_out)/tau, so the fit should find a = 3.2 K/h
 * and b = 0.1 K/h per K (test_ostart.c derives it); the episode mean is a
 * logarithmic mean, which the tolerances cover.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/learn.h"
#include "core/err.h"
#include "tap.h"

#define TAU   10.0
#define Q     5.0
#define DAYS  21
#define N     (DAYS * 1440)
#define T0    1767225600000LL     /* 2026-01-01T00:00:00Z */

static double tz[N], tout[N], hsp[N], csp[N];

/* The zone over DAYS days; each day its own outdoor temperature (-5..10 °C)
 * so the rate's dependence on it can be fitted. */
static void simulate(int gap_day)
{
    double t = 15.0;

    for (int i = 0; i < N; i++) {
        int day = i / 1440, min = i % 1440;
        double to = -5.0 + (double)((day * 7) % 16);
        double sp = min >= 5 * 60 && min < 18 * 60 ? 21.0 : 15.0;
        /* full power below the setpoint (plus half a degree), else off */
        double q = t < sp + 0.5 ? Q : 0.0;
        if (sp == 15.0 && t > 15.0)
            q = 0.0;
        double tinf = to + q * TAU, e = exp(-1.0 / 60.0 / TAU);
        t = tinf + (t - tinf) * e;
        if (q > 0 && t > sp + 0.5)
            t = sp + 0.5;                    /* held there by the controller */
        tz[i] = t;
        tout[i] = to;
        /* the setpoint is a state: the store has it when it was written and
         * at each poll (every 5 minutes here) */
        hsp[i] = min % 5 == 0 || (min >= 5 * 60 && min < 5 * 60 + 1) ? sp : NAN;
        csp[i] = NAN;
        if (day == gap_day && min > 4 * 60 && min < 6 * 60)
            tz[i] = NAN;                     /* the sensor away over one recovery */
    }
}

TEST(mode_from_setpoints)
{
    struct sb_band occ = { 21, 24 };
    CHECK_EQ(sb_ctl_os_mode(NAN, NAN, &occ), -1);
    CHECK_EQ(sb_ctl_os_mode(15, NAN, &occ), SB_OS_UNOCC);
    CHECK_EQ(sb_ctl_os_mode(20.6, NAN, &occ), SB_OS_OCC);        /* within 0.5 K */
    CHECK_EQ(sb_ctl_os_mode(21, 30, &occ), SB_OS_UNOCC);         /* cooling set up */
    CHECK_EQ(sb_ctl_os_mode(NAN, 24.4, &occ), SB_OS_OCC);
    CHECK_EQ(sb_ctl_os_mode(22, 23, &occ), SB_OS_OCC);           /* tighter than the band */
}

TEST(samples_hold_setpoints)
{
    struct sb_band occ = { 21, 24 };
    static const double z[6] = { 15, 15, NAN, 16, 17, 18 };
    static const double o[6] = { 0, 0, 0, 0, 0, 0 };
    static const double h[6] = { 15, NAN, 21, NAN, NAN, NAN };
    struct sb_ctl_hist hi = { .n = 6, .t0_ms = T0, .step_ms = 60000, .tz = z, .tout = o, .hsp = h };
    struct sb_os_sample x[6];

    CHECK_EQ(sb_ctl_os_samples(&hi, &occ, x), 6);   /* the NaN minute is bridged */
    CHECK_EQ(x[0].mode, SB_OS_UNOCC);
    CHECK_EQ(x[1].mode, SB_OS_UNOCC);               /* 15 held */
    CHECK_EQ(x[2].mode, SB_OS_OCC);
    CHECK_EQ(x[5].mode, SB_OS_OCC);                 /* 21 held */
    CHECK_DBL(x[2].t_zone, 15.0, 1e-12);
    CHECK_EQ(x[3].t_ms, T0 + 3 * 60000);
    /* no setpoint known yet: missing, not guessed */
    static const double h2[6] = { NAN, NAN, 21, NAN, NAN, NAN };
    hi.hsp = h2;
    CHECK_EQ(sb_ctl_os_samples(&hi, &occ, x), 4);
    CHECK(isnan(x[0].t_zone) && isnan(x[1].t_zone));
}

TEST(learns_the_recovery_rate)
{
    struct sb_band occ = { 21, 24 };
    static struct sb_os_sample x[N];
    struct sb_os_cfg cfg;
    struct sb_os_model m;

    simulate(3);
    struct sb_ctl_hist h = { .n = N, .t0_ms = T0, .step_ms = 60000, .tz = tz, .tout = tout,
                             .hsp = hsp, .csp = csp };
    CHECK(sb_ctl_os_samples(&h, &occ, x) > N - 200);
    sb_os_cfg_default(&cfg, &occ);
    REQUIRE(sb_os_learn(x, N, &cfg, &m) == 0);
    CHECK(m.warm.learnt);
    CHECK(!m.cool.learnt);
    printf("# warm-up a %.3f K/h, b %.4f /h, %zu of %zu episodes; drift b %.4f\n", m.warm.a,
           m.warm.b, m.warm.n_used, m.warm.n_episodes, m.drift.b);
    CHECK_EQ(m.warm.n_episodes, DAYS - 1);          /* the gap day's recovery is not seen */
    CHECK(m.warm.n_used >= DAYS - 3);
    CHECK_DBL(m.warm.a, 3.2, 0.15);
    CHECK_DBL(m.warm.b, 0.1, 0.01);
    CHECK(m.drift.learnt);
    CHECK_DBL(m.drift.b, 0.0952, 0.01);
    /* the lead it gives on a 0 °C morning from 15 °C: 6 K at 3.2 K/h, with
     * the margins (10 % + 10 min) */
    struct sb_os_plan p;
    REQUIRE(sb_os_start(&m, &cfg, 15.0, 0.0, T0 + 7 * 3600000LL, &p) == 0);
    CHECK(p.learnt);
    CHECK_DBL(p.lead_s, 6.0 / 3.2 * 3600.0 * 1.1 + 600.0, 300.0);
}

int main(void)
{
    TAP_START();
    RUN(mode_from_setpoints);
    RUN(samples_hold_setpoints);
    RUN(learns_the_recovery_rate);
    TAP_END();
}

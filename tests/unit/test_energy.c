/* test_energy.c - energy against its forecast (src/fdd/energy.c): the
 * anomaly's CUSUM on standardised residuals raises on a sustained shift
 * (not on noise), measures it, and clears once back in control; a forecast
 * rule's run raises after exactly `need` intervals outside and clears on the
 * first inside, by side. */
#include "tap.h"

#include "fdd/energy.h"

static double gauss(uint64_t *s)
{
    double u1 = ((tap_rand(s) >> 11) + 1) * 0x1.0p-53;
    double u2 = (tap_rand(s) >> 11) * 0x1.0p-53;

    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

TEST(anomaly_raises_on_a_shift_and_clears)
{
    struct sb_eanom e;
    uint64_t seed = 17;
    int side = 0, raised_at = -1, cleared_at = -1;
    double mean = NAN;
    uint32_t run = 0;

    sb_eanom_init(&e);
    /* three in-control days of hourly residuals (sd 10 kWh): nothing */
    for (int h = 0; h < 72; h++)
        CHECK_EQ(sb_eanom_step(&e, 10 * gauss(&seed) * 0.6, 10, &side, &mean, &run), 0);
    /* then 20 kWh too much every hour (2 sd) for a day, then normal again */
    for (int h = 0; h < 72; h++) {
        double r = (h < 24 ? 20 : 0) + 10 * 0.3 * gauss(&seed);
        int w = sb_eanom_step(&e, r, 10, &side, &mean, &run);
        if ((w & SB_EANOM_RAISE) && raised_at < 0) {
            raised_at = h;
            CHECK_EQ(side, 1);
            CHECK(mean > 12 && mean < 28);      /* the shift, measured over the run */
            CHECK(run >= 1 && run <= (uint32_t)h + 1);
        }
        if (w & SB_EANOM_CLEAR)
            cleared_at = h;
    }
    /* k = 0.5, h = 5 with a 2 sd shift: S+ grows 1.5 an hour, signals in about 4 */
    CHECK(raised_at >= 2 && raised_at <= 6);
    /* back at zero once the shift ends: the capped sum (20) drains 0.5 an hour at most */
    CHECK(cleared_at > 24 && cleared_at < 72);
    CHECK_EQ(e.on, 0);
    /* a shortfall is the other side */
    for (int h = 0, got = 0; h < 48 && !got; h++) {
        int w = sb_eanom_step(&e, -30, 10, &side, &mean, &run);
        if (w & SB_EANOM_RAISE) {
            CHECK_EQ(side, -1);
            CHECK(mean < -20);
            got = 1;
        }
    }
    /* what cannot be judged changes nothing */
    struct sb_eanom before = e;
    CHECK_EQ(sb_eanom_step(&e, NAN, 10, &side, &mean, &run), 0);
    CHECK_EQ(sb_eanom_step(&e, 5, 0, &side, &mean, &run), 0);
    CHECK(memcmp(&before, &e, sizeof e) == 0);
}

TEST(anomaly_quiet_on_noise)
{
    struct sb_eanom e;
    uint64_t seed = 3;
    int side, raised = 0;
    double mean;
    uint32_t run;

    /* forecast errors within the interval's own spread: an hour a week may
     * pass the CUSUM's h by chance (in-control ARL about 465); a month of
     * well-calibrated residuals raises at most once or twice */
    sb_eanom_init(&e);
    for (int h = 0; h < 24 * 30; h++)
        raised += (sb_eanom_step(&e, 10 * gauss(&seed), 10, &side, &mean, &run) & SB_EANOM_RAISE) != 0;
    CHECK(raised <= 3);
}

TEST(forecast_rule_runs)
{
    struct sb_fcrun r = { 0, 0 };
    int side;

    /* above, need 2: raise on the second hour in a row, not the first */
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 120, 80, 110, &side), 0);
    CHECK_EQ(side, 1);
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 115, 80, 110, &side), SB_EANOM_RAISE);
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 130, 80, 110, &side), 0);   /* already raised */
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 110, 80, 110, &side), SB_EANOM_CLEAR);   /* the edge is inside */
    CHECK_EQ(side, 0);
    /* an interrupted run starts again */
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 120, 80, 110, &side), 0);
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 100, 80, 110, &side), 0);
    CHECK_EQ(sb_fcrun_step(&r, 2, SB_FCRUN_ABOVE, 120, 80, 110, &side), 0);
    CHECK_EQ(r.run, 1);
    /* below does not count for "above", and counts for "both" */
    r = (struct sb_fcrun){ 0, 0 };
    CHECK_EQ(sb_fcrun_step(&r, 1, SB_FCRUN_ABOVE, 50, 80, 110, &side), 0);
    CHECK_EQ(side, -1);
    CHECK_EQ(sb_fcrun_step(&r, 1, SB_FCRUN_BOTH, 50, 80, 110, &side), SB_EANOM_RAISE);
    CHECK_EQ(sb_fcrun_step(&r, 1, SB_FCRUN_BELOW, 60, 80, 110, &side), 0);
    CHECK_EQ(sb_fcrun_step(&r, 1, SB_FCRUN_BELOW, 90, 80, 110, &side), SB_EANOM_CLEAR);
}

int main(void)
{
    TAP_START();
    RUN(anomaly_raises_on_a_shift_and_clears);
    RUN(anomaly_quiet_on_noise);
    RUN(forecast_rule_runs);
    TAP_END();
}

/*
 * test_control_demand.c - the demand limiter (src/control/demand.[ch]):
 * the projection of the 15-minute demand interval, the levels raised one
 * per 5 minutes while the projection is over the limit, lowered one per
 * 15 minutes under it less 10 %, held between the two lines and while the
 * power is unknown; and the Guideline 36 offsets of each level.
 */
#include <math.h>

#include "control/demand.h"
#include "tap.h"

#define MIN 60000LL
#define T0  (1790000100000LL - 1790000100000LL % (15 * MIN))   /* an interval start */

TEST(projection)
{
    struct sb_dlim_cfg c;
    struct sb_dlim d;

    sb_dlim_cfg_default(&c, 1000);                  /* far above: only the projection */
    sb_dlim_init(&d);
    for (int m = 0; m <= 10; m++)                   /* 120 kW for 10 min */
        sb_dlim_update(&d, &c, T0 + m * MIN, m < 10 ? 120.0 : 60.0);
    /* 20 kWh so far, 60 kW for the 5 min left: (20 + 5) kWh / 0.25 h */
    CHECK_DBL(d.projected_kw, 100.0, 1e-9);
    /* a new interval starts empty */
    sb_dlim_update(&d, &c, T0 + 15 * MIN, 60.0);
    CHECK_DBL(d.projected_kw, 60.0, 1e-9);
    /* started mid-interval: the unknown part is not counted as zero */
    sb_dlim_init(&d);
    sb_dlim_update(&d, &c, T0 + 7 * MIN, 80.0);
    CHECK_DBL(d.projected_kw, 80.0, 1e-9);
    sb_dlim_update(&d, &c, T0 + 8 * MIN, 80.0);
    CHECK_DBL(d.projected_kw, 80.0, 1e-9);
}

TEST(levels_up_and_down)
{
    struct sb_dlim_cfg c;
    struct sb_dlim d;
    int64_t t = T0;

    sb_dlim_cfg_default(&c, 90);
    sb_dlim_init(&d);
    CHECK_EQ(sb_dlim_update(&d, &c, t, 100.0), 1);  /* over: level 1 at once */
    CHECK_EQ(sb_dlim_update(&d, &c, t += 4 * MIN, 100.0), 1);   /* 5 min between raises */
    CHECK_EQ(sb_dlim_update(&d, &c, t += MIN, 100.0), 2);
    CHECK_EQ(sb_dlim_update(&d, &c, t += 5 * MIN, 100.0), 3);
    CHECK_EQ(sb_dlim_update(&d, &c, t += 5 * MIN, 100.0), 3);   /* the last level */
    /* unknown power: held, never raised or released */
    CHECK_EQ(sb_dlim_update(&d, &c, t += MIN, NAN), 3);
    CHECK(isnan(d.projected_kw));
    /* between 81 and 90 kW: held */
    for (int m = 0; m < 40; m++)
        CHECK_EQ(sb_dlim_update(&d, &c, t += MIN, 85.0), 3);
    /* under 81 kW: one level down per 15 minutes */
    int lv = 3;
    for (int m = 1; m <= 46; m++) {
        lv = sb_dlim_update(&d, &c, t += MIN, 60.0);
        if (m == 14)
            CHECK_EQ(lv, 3);
        if (m == 16)
            CHECK_EQ(lv, 2);
        if (m == 31)
            CHECK_EQ(lv, 1);
    }
    CHECK_EQ(lv, 0);
    /* no limit: nothing */
    sb_dlim_cfg_default(&c, 0);
    sb_dlim_init(&d);
    CHECK_EQ(sb_dlim_update(&d, &c, t, 1e6), 0);
}

TEST(offsets)
{
    CHECK_DBL(sb_dlim_offset_k(0), 0.0, 0);
    CHECK_DBL(sb_dlim_offset_k(1), 5.0 / 9.0, 1e-12);   /* 1 degF */
    CHECK_DBL(sb_dlim_offset_k(2), 10.0 / 9.0, 1e-12);
    CHECK_DBL(sb_dlim_offset_k(3), 20.0 / 9.0, 1e-12);  /* 4 degF */
    CHECK_DBL(sb_dlim_offset_k(7), 20.0 / 9.0, 1e-12);
    CHECK_DBL(sb_dlim_offset_k(-1), 0.0, 0);
}

int main(void)
{
    TAP_START();
    RUN(projection);
    RUN(levels_up_and_down);
    RUN(offsets);
    TAP_END();
}

/*
 * test_arb.c - command arbitration and guardrails (src/control/arb.c).
 *
 * Evidence: the ranking against hand-written expectations and against an
 * independent shadow table in a randomized property test (10,000 random
 * sequences: the commanded value always within the bounds, its change per
 * update never above rate * dt, the winner always the lowest live
 * candidate priority, no relinquish where no priority array exists);
 * ramps with exact values step by step (rates chosen as binary fractions
 * so the expected numbers are exact), a pre-cooling release that ramps
 * instead of stepping, bounds and band against operator and optimizer,
 * refusals of NaN/inf, stale fallback, modes with the building capping the
 * zone, deadband and minimum-interval suppression, failed writes retried.
 */
#include "tap.h"

#include <stdint.h>

#include "control/arb.h"
#include "core/err.h"

#define MIN_MS 60000LL
#define T0 1780000000000LL          /* an arbitrary epoch ms */

/* ---------- helpers ---------- */

static struct sb_arb_cfg cfg_ramped(double up, double down)
{
    struct sb_arb_cfg c;

    sb_arb_cfg_init(&c);
    c.min = 15.0;
    c.max = 30.0;
    c.rate_up = up;
    c.rate_down = down;
    return c;
}

static struct sb_arb_in in_at(int64_t now)
{
    return (struct sb_arb_in){ .now_ms = now, .zone_mode = SB_ARB_AUTO, .building_mode = SB_ARB_AUTO,
                               .band_lo = NAN, .band_hi = NAN, .present = NAN, .release_to = NAN };
}

static int upd(struct sb_arb_point *p, const struct sb_arb_in *in, struct sb_arb_out *o)
{
    int rc = sb_arb_update(p, in, o);
    if (rc)
        TAP_FAIL("sb_arb_update: %d", rc);
    return rc;
}

/* ---------- ranking ---------- */

TEST(priority_order)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    sb_arb_cfg_init(&c);
    CHECK_EQ(c.prio[SB_ARB_OPERATOR], 8);
    CHECK_EQ(c.prio[SB_ARB_SCHEDULE], 14);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    CHECK_EQ(sb_arb_winner(&p, T0, 0), -1);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "sbems-schedule", "occupied until 19:00", T0, 0), 0);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_OPTIMIZER, 22.5, "sbems-mpc", "pre-cool before 16:00", T0, 0), 0);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_SETBACK, 26.0, "sbems-setback", "vacant 20 min", T0, 0), 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_OPTIMIZER);
    CHECK_EQ(o.why.winner_prio, 12);
    CHECK_STR(o.why.owner, "sbems-mpc");
    CHECK_STR(o.why.reason, "pre-cool before 16:00");
    CHECK_DBL(o.value, 22.5, 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    CHECK_EQ(o.priority, 12);
    CHECK_EQ(o.why.live, (1u << SB_ARB_SCHEDULE) | (1u << SB_ARB_OPTIMIZER) | (1u << SB_ARB_SETBACK));

    /* Configurable: rank the setback above the optimizer. */
    c.prio[SB_ARB_OPTIMIZER] = 13;
    c.prio[SB_ARB_SETBACK] = 12;
    struct sb_arb_point q;
    REQUIRE(sb_arb_init(&q, &c) == 0);
    q.cmd[SB_ARB_OPTIMIZER] = p.cmd[SB_ARB_OPTIMIZER];
    q.cmd[SB_ARB_SETBACK] = p.cmd[SB_ARB_SETBACK];
    CHECK_EQ(sb_arb_winner(&q, T0, 0), SB_ARB_SETBACK);
    CHECK_EQ(sb_arb_winner(&q, T0, 1u << SB_ARB_SETBACK), SB_ARB_OPTIMIZER);
}

TEST(cfg_refused)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    char err[128] = "";

    sb_arb_cfg_init(&c);
    CHECK_EQ(sb_arb_cfg_check(&c, err, sizeof(err)), 0);
    c.prio[SB_ARB_TENANT] = 8;
    CHECK_EQ(sb_arb_cfg_check(&c, err, sizeof(err)), SB_EINVAL);
    CHECK(strstr(err, "operator") && strstr(err, "tenant"));
    CHECK_EQ(sb_arb_init(&p, &c), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.prio[SB_ARB_DEMAND] = 17;
    CHECK_EQ(sb_arb_cfg_check(&c, err, sizeof(err)), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.write_priority = 0;
    CHECK_EQ(sb_arb_cfg_check(&c, NULL, 0), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.min = NAN;
    CHECK_EQ(sb_arb_cfg_check(&c, NULL, 0), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.min = 30;
    c.max = 15;
    CHECK_EQ(sb_arb_cfg_check(&c, NULL, 0), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.rate_up = 0;
    CHECK_EQ(sb_arb_cfg_check(&c, NULL, 0), SB_EINVAL);
    sb_arb_cfg_init(&c);
    c.deadband = -0.1;
    CHECK_EQ(sb_arb_cfg_check(&c, NULL, 0), SB_EINVAL);
    CHECK_EQ(sb_arb_src_parse("optimizer"), SB_ARB_OPTIMIZER);
    CHECK_EQ(sb_arb_src_parse("boss"), SB_EINVAL);
    CHECK_STR(sb_arb_src_name(SB_ARB_DEMAND), "demand");
    CHECK_STR(sb_arb_mode_name(SB_ARB_ADVISORY), "advisory");
}

TEST(expiry)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;

    sb_arb_cfg_init(&c);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "occupied", T0, 0);
    sb_arb_set(&p, SB_ARB_TENANT, 22.0, "ann", "after-hours 2 h", T0, T0 + 120 * MIN_MS);
    struct sb_arb_in in = in_at(T0 + 120 * MIN_MS - 1);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_TENANT);
    CHECK_EQ(o.why.expires_ms, T0 + 120 * MIN_MS);
    CHECK_EQ(o.why.expired, 0);
    in.now_ms = T0 + 120 * MIN_MS;           /* the expiry instant is exclusive */
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_SCHEDULE);
    CHECK_EQ(o.why.expired, 1u << SB_ARB_TENANT);
    CHECK_EQ(p.cmd[SB_ARB_TENANT].set, 0);
    CHECK_DBL(o.value, 24.0, 0);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.expired, 0);               /* reported once */
}

TEST(relinquish_order)
{
    static const int order[SB_ARB_NSRC] = { SB_ARB_OPERATOR, SB_ARB_DEMAND, SB_ARB_TENANT,
                                            SB_ARB_OPTIMIZER, SB_ARB_SETBACK, SB_ARB_SCHEDULE };
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    sb_arb_cfg_init(&c);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    for (int i = 0; i < SB_ARB_NSRC; i++)   /* set in reverse: order of setting must not matter */
        CHECK_EQ(sb_arb_set(&p, order[SB_ARB_NSRC - 1 - i], 20.0 + order[SB_ARB_NSRC - 1 - i], "x", "y", T0, 0), 0);
    for (int i = 0; i < SB_ARB_NSRC; i++) {
        REQUIRE(upd(&p, &in, &o) == 0);
        CHECK_EQ(o.why.winner, order[i]);
        CHECK_DBL(o.value, 20.0 + order[i], 0);
        CHECK_EQ(o.action, SB_ARB_WRITE);
        CHECK_EQ(sb_arb_release(&p, order[i]), 0);
        in.now_ms += MIN_MS;
    }
    /* All released, release_to unknown: sbems gives its slot back at once. */
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, -1);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
    CHECK(o.why.flags & SB_ARB_F_RELEASE);
    CHECK_EQ(p.st.held, 0);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_NONE);          /* nothing held, nothing to release */
    CHECK_EQ(sb_arb_release(&p, SB_ARB_NSRC), SB_EINVAL);

    /* Releasing the middle one leaves the order of the rest intact. */
    sb_arb_set(&p, SB_ARB_TENANT, 21, "t", "", T0, 0);
    sb_arb_set(&p, SB_ARB_SETBACK, 27, "b", "", T0, 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24, "s", "", T0, 0);
    sb_arb_release(&p, SB_ARB_SETBACK);
    CHECK_EQ(sb_arb_winner(&p, T0, 0), SB_ARB_TENANT);
    sb_arb_release(&p, SB_ARB_TENANT);
    CHECK_EQ(sb_arb_winner(&p, T0, 0), SB_ARB_SCHEDULE);
}

/* ---------- ramps ---------- */

TEST(ramp_up_down_exact)
{
    struct sb_arb_cfg c = cfg_ramped(0.5, 0.25);   /* K/min */
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);
    static const double up[] = { 22.0, 22.5, 23.0, 23.5, 24.0, 24.0 };
    static const double down[] = { 23.75, 23.5, 23.25, 23.0, 23.0 };

    REQUIRE(sb_arb_init(&p, &c) == 0);
    in.present = 22.0;                           /* the device's value: where the ramp starts */
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "", T0, 0);
    for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
        REQUIRE(upd(&p, &in, &o) == 0);
        CHECK_DBL(o.value, up[i], 0);
        CHECK_EQ(!!(o.why.flags & SB_ARB_F_RAMPED), up[i] != 24.0);
        CHECK_EQ(o.action, i < 5 ? SB_ARB_WRITE : SB_ARB_NONE);   /* unchanged: not rewritten */
        in.now_ms += MIN_MS;
    }
    sb_arb_set(&p, SB_ARB_SCHEDULE, 23.0, "s", "", in.now_ms, 0);
    for (size_t i = 0; i < sizeof(down) / sizeof(down[0]); i++) {
        REQUIRE(upd(&p, &in, &o) == 0);
        CHECK_DBL(o.value, down[i], 0);
        in.now_ms += MIN_MS;
    }
    /* Two minutes since the last update: twice the step. */
    sb_arb_set(&p, SB_ARB_SCHEDULE, 25.0, "s", "", in.now_ms, 0);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 24.0, 0);
    /* A clock that goes backwards allows no movement. */
    in.now_ms -= 10 * MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 24.0, 0);
}

TEST(ramp_without_present_steps_and_says_so)
{
    struct sb_arb_cfg c = cfg_ramped(0.5, 0.5);
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 24.0, 0);
    CHECK(o.why.flags & SB_ARB_F_NOSTART);
    CHECK_EQ(o.action, SB_ARB_WRITE);
}

/* Pre-cooling: the optimizer holds the cooling setpoint at 21 degC until the
 * on-peak window; when it releases, the schedule's 24 degC must be reached
 * by a ramp (0.125 K/min, 4-min updates: +0.5 K each), never a step - a step
 * would start every unit's compressor at once, the rebound above the old
 * peak the guardrail exists for. */
TEST(release_after_precooling_ramps)
{
    struct sb_arb_cfg c = cfg_ramped(0.125, 0.125);
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);
    int64_t onpeak = T0 + 60 * MIN_MS;

    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "sbems-schedule", "occupied", T0, 0);
    sb_arb_set(&p, SB_ARB_OPTIMIZER, 21.0, "sbems-mpc", "pre-cool", T0, onpeak);
    in.present = 21.0;
    double prev = NAN;
    int writes = 0;
    for (int k = 0; k <= 12 + 8; k++, in.now_ms += 4 * MIN_MS) {
        REQUIRE(upd(&p, &in, &o) == 0);
        if (in.now_ms < onpeak) {
            CHECK_EQ(o.why.winner, SB_ARB_OPTIMIZER);
            CHECK_DBL(o.value, 21.0, 0);
        } else {
            int64_t since = in.now_ms - onpeak;   /* 0, 4, 8 ... min after the release */
            /* The update at the release instant already moves 4 min * 0.125 K from 21. */
            double want = fmin(24.0, 21.0 + 0.5 * (double)(since / (4 * MIN_MS) + 1));
            CHECK_EQ(o.why.winner, SB_ARB_SCHEDULE);
            CHECK_DBL(o.value, want, 0);
            CHECK(fabs(o.value - prev) <= 0.5 + 1e-12);
            writes += o.action == SB_ARB_WRITE;
        }
        prev = o.value;
        in.present = o.value;
    }
    CHECK_DBL(o.value, 24.0, 0);
    CHECK_EQ(writes, 6);                          /* 21.5, 22, ..., 24 */
}

/* All sources gone while sbems holds 21 and the device would fall back to
 * 24 (its relinquish default): ramp there, write the last value, then
 * relinquish - the device never sees a step. */
TEST(release_ramps_to_fallback_then_relinquishes)
{
    struct sb_arb_cfg c = cfg_ramped(0.25, 0.25);
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);
    static const double vals[] = { 21.25, 21.5, 21.75, 22.0 };

    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_DEMAND, 21.0, "sbems-demand", "", T0, 0);
    in.present = 21.0;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    sb_arb_release(&p, SB_ARB_DEMAND);
    in.release_to = 22.0;
    for (size_t i = 0; i < 4; i++) {
        in.now_ms += MIN_MS;
        REQUIRE(upd(&p, &in, &o) == 0);
        CHECK_EQ(o.action, SB_ARB_WRITE);
        CHECK_DBL(o.value, vals[i], 0);
        CHECK(o.why.flags & SB_ARB_F_RELEASE);
    }
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
    CHECK_EQ(p.st.held, 0);

    /* No priority array (Modbus/REST): the same ramp, then nothing. */
    c.has_array = 0;
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_DEMAND, 21.0, "d", "", T0, 0);
    in = in_at(T0);
    in.present = 21.0;
    REQUIRE(upd(&p, &in, &o) == 0);
    sb_arb_release(&p, SB_ARB_DEMAND);
    in.release_to = 21.5;
    int relinq = 0, writes = 0;
    for (int i = 0; i < 5; i++) {
        in.now_ms += MIN_MS;
        REQUIRE(upd(&p, &in, &o) == 0);
        relinq += o.action == SB_ARB_RELINQUISH;
        writes += o.action == SB_ARB_WRITE;
    }
    CHECK_EQ(relinq, 0);
    CHECK_EQ(writes, 2);                          /* 21.25, 21.5 */
    CHECK_DBL(p.st.written, 21.5, 0);
    CHECK_EQ(p.st.held, 0);
}

/* ---------- bounds, band, refusals ---------- */

TEST(bounds_and_band)
{
    struct sb_arb_cfg c = cfg_ramped(INFINITY, INFINITY);   /* [15, 30] */
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    REQUIRE(sb_arb_init(&p, &c) == 0);
    in.band_lo = 21.0;
    in.band_hi = 25.0;
    sb_arb_set(&p, SB_ARB_OPTIMIZER, 19.0, "mpc", "", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 21.0, 0);                  /* the optimizer is kept in the band */
    CHECK_DBL(o.why.raw, 19.0, 0);
    CHECK_DBL(o.why.target, 21.0, 0);
    CHECK_EQ(o.why.flags & (SB_ARB_F_BAND | SB_ARB_F_BOUNDS), SB_ARB_F_BAND);
    sb_arb_set(&p, SB_ARB_OPTIMIZER, 35.0, "mpc", "", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 25.0, 0);
    sb_arb_set(&p, SB_ARB_OPERATOR, 19.0, "ann", "cold room test", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 19.0, 0);                  /* the operator may leave the band */
    CHECK_EQ(o.why.flags & (SB_ARB_F_BAND | SB_ARB_F_BOUNDS), 0);
    sb_arb_set(&p, SB_ARB_OPERATOR, 12.0, "ann", "", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 15.0, 0);                  /* ... never the bounds */
    CHECK_EQ(o.why.flags & (SB_ARB_F_BAND | SB_ARB_F_BOUNDS), SB_ARB_F_BOUNDS);
    /* A band open on one side. */
    sb_arb_release(&p, SB_ARB_OPERATOR);
    in.band_hi = NAN;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_DBL(o.value, 30.0, 0);
    CHECK_EQ(o.why.flags & (SB_ARB_F_BAND | SB_ARB_F_BOUNDS), SB_ARB_F_BOUNDS);
    /* Up-front checks for the API. */
    CHECK_EQ(sb_arb_check(&p, SB_ARB_OPERATOR, 19.0, 21.0, 25.0), 0);
    CHECK_EQ(sb_arb_check(&p, SB_ARB_OPTIMIZER, 19.0, 21.0, 25.0), SB_ERANGE);
    CHECK_EQ(sb_arb_check(&p, SB_ARB_OPERATOR, 31.0, 21.0, 25.0), SB_ERANGE);
    CHECK_EQ(sb_arb_check(&p, SB_ARB_OPTIMIZER, 22.0, 21.0, 25.0), 0);
    CHECK_EQ(sb_arb_check(&p, SB_ARB_OPTIMIZER, NAN, 21.0, 25.0), SB_ENAN);
    /* An inverted band is a caller's error. */
    in.band_lo = 25.0;
    in.band_hi = 21.0;
    CHECK_EQ(sb_arb_update(&p, &in, &o), SB_EINVAL);
}

TEST(nan_refused)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;

    sb_arb_cfg_init(&c);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "r", T0, 0);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_SCHEDULE, NAN, "s", "r", T0, 0), SB_ENAN);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_SCHEDULE, INFINITY, "s", "r", T0, 0), SB_ENAN);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_OPERATOR, -INFINITY, "s", "r", T0, 0), SB_ENAN);
    CHECK_DBL(p.cmd[SB_ARB_SCHEDULE].value, 24.0, 0);   /* the previous command stands */
    CHECK_EQ(p.cmd[SB_ARB_OPERATOR].set, 0);
    CHECK_EQ(sb_arb_set(&p, -1, 1.0, "s", "r", T0, 0), SB_EINVAL);
    CHECK_EQ(sb_arb_set(&p, SB_ARB_NSRC, 1.0, "s", "r", T0, 0), SB_EINVAL);
}

/* ---------- stale fallback and modes ---------- */

TEST(stale_falls_back_to_schedule)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    sb_arb_cfg_init(&c);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "occupied", T0, 0);
    sb_arb_set(&p, SB_ARB_OPTIMIZER, 22.0, "mpc", "plan", T0, 0);
    sb_arb_set(&p, SB_ARB_SETBACK, 26.0, "occ", "vacant", T0, 0);
    in.stale = (1u << SB_ARB_OPTIMIZER) | (1u << SB_ARB_SETBACK);   /* solver failed, occupancy stale */
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_SCHEDULE);
    CHECK_DBL(o.value, 24.0, 0);
    CHECK(o.why.flags & SB_ARB_F_FALLBACK);
    CHECK_EQ(o.why.dropped, in.stale);
    CHECK_EQ(p.cmd[SB_ARB_OPTIMIZER].set, 1);     /* kept: back when fresh */
    in.stale = 0;
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_OPTIMIZER);
    CHECK_EQ(o.why.flags & SB_ARB_F_FALLBACK, 0);
    /* A stale bit on a source without a command drops nothing. */
    in.stale = 1u << SB_ARB_TENANT;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.dropped, 0);
    CHECK_EQ(o.why.winner, SB_ARB_OPTIMIZER);
}

TEST(modes_and_building_caps_zone)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    CHECK_EQ(sb_arb_mode_eff(SB_ARB_AUTO, SB_ARB_ADVISORY), SB_ARB_ADVISORY);
    CHECK_EQ(sb_arb_mode_eff(SB_ARB_ADVISORY, SB_ARB_AUTO), SB_ARB_ADVISORY);
    CHECK_EQ(sb_arb_mode_eff(SB_ARB_AUTO, SB_ARB_OFF), SB_ARB_OFF);
    CHECK_EQ(sb_arb_mode_eff(SB_ARB_OFF, SB_ARB_AUTO), SB_ARB_OFF);
    CHECK_EQ(sb_arb_mode_eff(SB_ARB_AUTO, SB_ARB_AUTO), SB_ARB_AUTO);

    sb_arb_cfg_init(&c);
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "", T0, 0);
    /* Zone auto, building advisory: computed, not written. */
    in.building_mode = SB_ARB_ADVISORY;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.mode, SB_ARB_ADVISORY);
    CHECK_EQ(o.action, SB_ARB_NONE);
    CHECK_EQ(o.why.winner, SB_ARB_SCHEDULE);
    CHECK_DBL(o.value, 24.0, 0);
    CHECK(o.why.flags & SB_ARB_F_ADVISORY);
    /* The operator still writes in advisory ... */
    sb_arb_set(&p, SB_ARB_OPERATOR, 23.0, "ann", "", T0, 0);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    CHECK_DBL(o.value, 23.0, 0);
    /* ... and when the operator lets go, sbems's slot is given back. */
    sb_arb_release(&p, SB_ARB_OPERATOR);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
    CHECK(o.why.flags & SB_ARB_F_ADVISORY);

    /* Building off caps a zone in auto: automatic sources ignored. */
    in.building_mode = SB_ARB_OFF;
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.mode, SB_ARB_OFF);
    CHECK_EQ(o.why.winner, -1);
    CHECK_EQ(o.action, SB_ARB_NONE);
    CHECK(o.why.flags & SB_ARB_F_OFF);
    sb_arb_set(&p, SB_ARB_OPERATOR, 22.0, "ann", "", T0, 0);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.why.winner, SB_ARB_OPERATOR);
    CHECK_EQ(o.action, SB_ARB_WRITE);

    /* Both auto: the schedule writes; zone to off: released at once. */
    sb_arb_release(&p, SB_ARB_OPERATOR);
    in.building_mode = SB_ARB_AUTO;
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    CHECK_DBL(o.value, 24.0, 0);
    in.zone_mode = SB_ARB_OFF;
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
    in.zone_mode = 3;
    CHECK_EQ(sb_arb_update(&p, &in, &o), SB_EINVAL);
}

/* ---------- write suppression ---------- */

TEST(deadband_and_min_interval)
{
    struct sb_arb_cfg c = cfg_ramped(0.125, 0.125);
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);
    static const int w[] = { 1, 0, 1, 0, 1, 0, 1, 1, 0 };   /* write expected at update i */

    c.deadband = 0.25;
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 22.875, "s", "", T0, 0);
    in.present = 22.0;
    /* values: 22, 22.125, 22.25, 22.375, 22.5, 22.625, 22.75, 22.875, 22.875;
     * written: 22 (claim), 22.25, 22.5, 22.75, then 22.875 - under the
     * deadband, but the target: a ramp always lands exactly. */
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
        REQUIRE(upd(&p, &in, &o) == 0);
        CHECK_DBL(o.value, fmin(22.875, 22.0 + 0.125 * (double)i), 0);
        CHECK_EQ(o.action == SB_ARB_WRITE, w[i]);
        if (!w[i] && i < 8)
            CHECK(o.why.flags & SB_ARB_F_DEADBAND);
        in.now_ms += MIN_MS;
    }
    CHECK_DBL(p.st.written, 22.875, 0);

    /* Minimum interval 5 min, no ramp: a target that changes each minute
     * is written at most every 5 minutes, and the newest value then. */
    c = cfg_ramped(INFINITY, INFINITY);
    c.min_interval_ms = 5 * MIN_MS;
    REQUIRE(sb_arb_init(&p, &c) == 0);
    in = in_at(T0);
    int writes = 0;
    int64_t last = 0;
    for (int k = 0; k < 30; k++, in.now_ms += MIN_MS) {
        sb_arb_set(&p, SB_ARB_OPTIMIZER, 20.0 + 0.25 * k, "mpc", "", in.now_ms, 0);
        REQUIRE(upd(&p, &in, &o) == 0);
        if (o.action == SB_ARB_WRITE) {
            CHECK(last == 0 || in.now_ms - last >= 5 * MIN_MS);
            CHECK_DBL(o.value, 20.0 + 0.25 * k, 0);
            last = in.now_ms;
            writes++;
        } else {
            CHECK(o.why.flags & SB_ARB_F_INTERVAL);
        }
    }
    CHECK_EQ(writes, 6);                           /* at 0, 5, 10, 15, 20, 25 min */

    /* Refresh: an unchanged value is rewritten after refresh_ms. */
    c = cfg_ramped(INFINITY, INFINITY);
    c.refresh_ms = 30 * MIN_MS;
    REQUIRE(sb_arb_init(&p, &c) == 0);
    in = in_at(T0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "", T0, 0);
    writes = 0;
    for (int k = 0; k <= 60; k++, in.now_ms += MIN_MS) {
        REQUIRE(upd(&p, &in, &o) == 0);
        writes += o.action == SB_ARB_WRITE;
    }
    CHECK_EQ(writes, 3);                           /* 0, 30, 60 min */
}

TEST(failed_write_retried)
{
    struct sb_arb_cfg c = cfg_ramped(INFINITY, INFINITY);
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct sb_arb_in in = in_at(T0);

    c.min_interval_ms = 2 * MIN_MS;
    REQUIRE(sb_arb_init(&p, &c) == 0);
    sb_arb_set(&p, SB_ARB_SCHEDULE, 24.0, "s", "", T0, 0);
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    sb_arb_write_failed(&p);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_NONE);               /* the minimum interval holds */
    CHECK(o.why.flags & SB_ARB_F_INTERVAL);
    in.now_ms += MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_WRITE);
    CHECK_DBL(o.value, 24.0, 0);
    /* A failed relinquish: the slot is still ours, so it is sent again. */
    sb_arb_release(&p, SB_ARB_SCHEDULE);
    in.now_ms += 2 * MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
    sb_arb_write_failed(&p);
    CHECK_EQ(p.st.held, 1);
    in.now_ms += 2 * MIN_MS;
    REQUIRE(upd(&p, &in, &o) == 0);
    CHECK_EQ(o.action, SB_ARB_RELINQUISH);
}

/* ---------- randomized properties ---------- */

struct shadow {                     /* the test's own model of the table */
    int set[SB_ARB_NSRC];
    double v[SB_ARB_NSRC];
    int64_t exp[SB_ARB_NSRC];
};

static double urand(uint64_t *s)
{
    return (double)(tap_rand(s) >> 11) / 9007199254740992.0;
}

/* A zone's heating and cooling setpoints are two points.  With the same
 * rates on both, ordered bounds (shifted by the gap) and ordered commands,
 * the commanded pair stays ordered through any sequence (the doc's
 * argument); 10,000 random updates check it. */
TEST(pair_equal_rates_stays_ordered)
{
    const double gap = 1.0;
    struct sb_arb_cfg hc = cfg_ramped(0.05, 0.05), cc = cfg_ramped(0.05, 0.05);
    struct sb_arb_point h, c;
    struct sb_arb_out ho, co;
    struct sb_arb_in in = in_at(T0);
    uint64_t rs = 42;
    long crossed = 0, moved = 0;

    hc.min = 10.0 - gap;
    hc.max = 32.0 - gap;
    cc.min = 10.0;
    cc.max = 32.0;
    REQUIRE(sb_arb_init(&h, &hc) == 0 && sb_arb_init(&c, &cc) == 0);
    for (int k = 0; k < 10000; k++) {
        int src = (int)(tap_rand(&rs) % SB_ARB_NSRC);
        if (tap_rand(&rs) % 4 == 0) {
            sb_arb_release(&h, src);
            sb_arb_release(&c, src);
        } else if (tap_rand(&rs) % 2) {
            double lo = 5.0 + 30.0 * urand(&rs);
            sb_arb_set(&h, src, lo, "x", "", in.now_ms, 0);
            sb_arb_set(&c, src, lo + gap + 6.0 * urand(&rs), "x", "", in.now_ms, 0);
        }
        in.stale = tap_rand(&rs) % 8 == 0 ? (unsigned)(tap_rand(&rs) % 64) : 0;
        REQUIRE(upd(&h, &in, &ho) == 0 && upd(&c, &in, &co) == 0);
        if (!isnan(h.st.cmd) && !isnan(c.st.cmd)) {
            crossed += h.st.cmd + gap > c.st.cmd + 1e-9;
            moved += !!(ho.why.flags & SB_ARB_F_RAMPED);
        }
        in.now_ms += (int64_t)(tap_rand(&rs) % 121) * 1000;
    }
    printf("# pair: %ld ramp-limited updates, %ld crossings\n", moved, crossed);
    CHECK_EQ(crossed, 0);
    CHECK(moved > 1000);
}

/* The expected winner: scan by priority number 1..16. */
static int shadow_winner(const struct shadow *sh, const struct sb_arb_cfg *c, int64_t now, unsigned stale,
                         int mode)
{
    for (int prio = 1; prio <= 16; prio++)
        for (int i = 0; i < SB_ARB_NSRC; i++)
            if (c->prio[i] == prio && sh->set[i] && (sh->exp[i] == 0 || now < sh->exp[i]) &&
                !(stale & (1u << i)) && (mode != SB_ARB_OFF || prio <= c->prio[SB_ARB_OPERATOR]))
                return i;
    return -1;
}

static void random_cfg(uint64_t *rs, struct sb_arb_cfg *c)
{
    sb_arb_cfg_init(c);
    /* a random permutation of distinct priorities from 1..16 */
    int pool[16];
    for (int i = 0; i < 16; i++)
        pool[i] = i + 1;
    for (int i = 0; i < SB_ARB_NSRC; i++) {
        int j = i + (int)(tap_rand(rs) % (uint64_t)(16 - i));
        int t = pool[i];
        pool[i] = pool[j];
        pool[j] = t;
        c->prio[i] = pool[i];
    }
    c->min = 10.0 + 5.0 * urand(rs);
    c->max = c->min + 2.0 + 15.0 * urand(rs);
    c->rate_up = tap_rand(rs) % 5 == 0 ? INFINITY : 0.01 + urand(rs);
    c->rate_down = tap_rand(rs) % 5 == 0 ? INFINITY : 0.01 + urand(rs);
    c->deadband = tap_rand(rs) % 2 ? 0.0 : 0.3 * urand(rs);
    c->min_interval_ms = (int64_t)(tap_rand(rs) % 4) * MIN_MS;
    c->refresh_ms = tap_rand(rs) % 3 == 0 ? 20 * MIN_MS : 0;
    c->has_array = (int)(tap_rand(rs) % 4 != 0);
}

static void random_event(uint64_t *rs, struct sb_arb_point *p, struct shadow *sh, int64_t now)
{
    int src = (int)(tap_rand(rs) % SB_ARB_NSRC);
    uint64_t what = tap_rand(rs) % 10;

    if (what < 5) {
        double v = 5.0 + 30.0 * urand(rs);             /* often outside the bounds */
        int64_t exp = tap_rand(rs) % 2 ? 0 : now + (int64_t)(tap_rand(rs) % 20) * MIN_MS;
        if (sb_arb_set(p, src, v, "r", "random", now, exp) == 0) {
            sh->set[src] = 1;
            sh->v[src] = v;
            sh->exp[src] = exp;
        }
    } else if (what < 7) {
        sb_arb_release(p, src);
        sh->set[src] = 0;
    } else if (what == 7) {
        CHECK_EQ(sb_arb_set(p, src, NAN, "r", "nan", now, 0), SB_ENAN);
    }
}

struct prop_stats {
    long updates, writes, relinquishes, ramped, violations;
};

static void one_sequence(uint64_t *rs, struct prop_stats *ps)
{
    struct sb_arb_cfg c;
    struct sb_arb_point p;
    struct sb_arb_out o;
    struct shadow sh;
    struct sb_arb_in in = in_at(T0);

    memset(&sh, 0, sizeof(sh));
    random_cfg(rs, &c);
    if (sb_arb_init(&p, &c)) {
        ps->violations++;
        return;
    }
    int held_before = 0;
    double prev = NAN;
    int64_t prev_t = 0;
    int steps = 10 + (int)(tap_rand(rs) % 50);
    for (int k = 0; k < steps; k++) {
        int nev = (int)(tap_rand(rs) % 3);
        for (int e = 0; e < nev; e++)
            random_event(rs, &p, &sh, in.now_ms);
        in.zone_mode = (int)(tap_rand(rs) % 6 < 4 ? SB_ARB_AUTO : tap_rand(rs) % 3);
        in.building_mode = (int)(tap_rand(rs) % 6 < 4 ? SB_ARB_AUTO : tap_rand(rs) % 3);
        in.stale = tap_rand(rs) % 4 == 0 ? (unsigned)(tap_rand(rs) % 64) : 0;
        double lo = 15.0 + 8.0 * urand(rs);
        in.band_lo = tap_rand(rs) % 3 ? lo : NAN;
        in.band_hi = tap_rand(rs) % 3 ? lo + 4.0 * urand(rs) : NAN;
        in.present = tap_rand(rs) % 4 ? 5.0 + 30.0 * urand(rs) : NAN;
        in.release_to = tap_rand(rs) % 2 ? 5.0 + 30.0 * urand(rs) : NAN;
        if (sb_arb_update(&p, &in, &o)) {
            ps->violations++;
            return;
        }
        ps->updates++;
        int mode = sb_arb_mode_eff(in.zone_mode, in.building_mode);
        int want = shadow_winner(&sh, &c, in.now_ms, in.stale, mode);
        int bad = 0;
        if (o.why.winner != want) {
            TAP_FAIL("winner %d, expected %d (k=%d)", o.why.winner, want, k);
            bad = 1;
        }
        if (!isnan(p.st.cmd) && (p.st.cmd < c.min || p.st.cmd > c.max)) {
            TAP_FAIL("commanded %.17g outside [%g, %g]", p.st.cmd, c.min, c.max);
            bad = 1;
        }
        if (o.action == SB_ARB_WRITE && !(o.value >= c.min && o.value <= c.max)) {
            TAP_FAIL("written %.17g outside [%g, %g]", o.value, c.min, c.max);
            bad = 1;
        }
        /* Held across two updates: the change obeys the rate. */
        if (held_before && !isnan(p.st.cmd) && !isnan(prev)) {
            double dt_min = (double)(in.now_ms - prev_t) / 60000.0;
            double d = p.st.cmd - prev;
            double lim = d > 0 ? c.rate_up * dt_min : c.rate_down * dt_min;
            if (fabs(d) > lim + 1e-9) {
                TAP_FAIL("step %.17g > rate*dt %.17g", d, lim);
                bad = 1;
            }
            ps->ramped += !!(o.why.flags & SB_ARB_F_RAMPED);
        }
        if (o.action == SB_ARB_RELINQUISH && !c.has_array) {
            TAP_FAIL("relinquish without a priority array");
            bad = 1;
        }
        if (o.action == SB_ARB_WRITE && mode != SB_ARB_AUTO && want >= 0 &&
            c.prio[want] > c.prio[SB_ARB_OPERATOR] && !(o.why.flags & SB_ARB_F_RELEASE)) {
            TAP_FAIL("automatic source written in mode %d", mode);
            bad = 1;
        }
        ps->violations += bad;
        ps->writes += o.action == SB_ARB_WRITE;
        ps->relinquishes += o.action == SB_ARB_RELINQUISH;
        for (int i = 0; i < SB_ARB_NSRC; i++)          /* the shadow expires too */
            if (sh.set[i] && sh.exp[i] && in.now_ms >= sh.exp[i])
                sh.set[i] = 0;
        held_before = p.st.held;
        prev = p.st.cmd;
        prev_t = in.now_ms;
        in.now_ms += (int64_t)(tap_rand(rs) % 301) * 1000;   /* 0..300 s */
        if (bad)
            return;
    }
}

TEST(property_random_sequences)
{
    uint64_t rs = 0x5eed5eedULL;
    struct prop_stats ps = { 0 };

    for (int n = 0; n < 10000 && !ps.violations; n++)
        one_sequence(&rs, &ps);
    printf("# property: %ld updates, %ld writes, %ld relinquishes, %ld ramped, %ld violations\n", ps.updates,
           ps.writes, ps.relinquishes, ps.ramped, ps.violations);
    CHECK_EQ(ps.violations, 0);
    /* The generator must exercise what it claims to. */
    CHECK(ps.writes > 10000);
    CHECK(ps.relinquishes > 100);
    CHECK(ps.ramped > 1000);
}

int main(void)
{
    TAP_START();
    RUN(priority_order);
    RUN(cfg_refused);
    RUN(expiry);
    RUN(relinquish_order);
    RUN(ramp_up_down_exact);
    RUN(ramp_without_present_steps_and_says_so);
    RUN(release_after_precooling_ramps);
    RUN(release_ramps_to_fallback_then_relinquishes);
    RUN(bounds_and_band);
    RUN(nan_refused);
    RUN(stale_falls_back_to_schedule);
    RUN(modes_and_building_caps_zone);
    RUN(deadband_and_min_interval);
    RUN(failed_write_retried);
    RUN(property_random_sequences);
    RUN(pair_equal_rates_stays_ordered);
    TAP_END();
}

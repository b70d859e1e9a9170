/* test_vav.c - the VAV-box rules (src/fdd/vav*.c): every rule fires just
 * beyond its threshold and not just inside it, the window rules (3, 8, 9)
 * on hand-built minute data, the filters (start delay, occupancy change,
 * gaps, on-delay), latching and clearing, NAN handling, time checks, the
 * configuration table, findings, diagnosis, and a healthy day that must
 * fire nothing. */
#include "tap.h"

#include "core/err.h"
#include "fdd/vav.h"

#define D  0.01     /* distance from a threshold: temperatures (K), commands */
#define DQ 1e-4     /* distance from a threshold: airflow (m3/s) */
#define T0 1000020  /* a whole minute */
#define MIN 60

/* Evaluate on the first sample: no delay, no averaging, no persistence. */
static struct sb_vav_conf quick(void)
{
    struct sb_vav_conf c;

    sb_vav_conf_default(&c);
    c.start_delay_s = 0;
    c.window_s = 0;
    c.resp_window_s = 600;
    for (int id = 1; id <= SB_VAV_NRULES; id++)
        c.on_delay_s[id] = 0;
    return c;
}

/* A healthy box in cooling: tracks 0.2 m3/s, reheat closed, zone in band. */
static struct sb_vav_sample box(int64_t t)
{
    struct sb_vav_sample s;

    sb_vav_sample_init(&s);
    s.t = t;
    s.flow = 0.2;
    s.flow_sp = 0.2;
    s.damper = 0.5;
    s.reheat = 0;
    s.sat = 13;
    s.dat = 13.5;
    s.zat = 22.5;
    s.htg_sp = 21;
    s.clg_sp = 24;
    s.occupied = 1;
    s.ahu_on = 1;
    return s;
}

/* Status of rule id after one sample on a fresh detector. */
static int st1(const struct sb_vav_conf *c, const struct sb_vav_sample *s, int id)
{
    struct sb_vav v;
    struct sb_vav_result r;

    if (sb_vav_init(&v, c) != 0 || sb_vav_step(&v, s, &r) != 0)
        return -1;
    return r.status[id];
}

#define FIRES(c, s, id) CHECK_EQ(st1(&(c), &(s), id), SB_VAV_ST_FIRED)
#define QUIET(c, s, id)                                                  \
    do {                                                                 \
        int st_ = st1(&(c), &(s), id);                                   \
        CHECK_INT(st_, !=, SB_VAV_ST_FIRED);                             \
        CHECK_INT(st_, >=, 0);                                           \
    } while (0)
#define STATUS(c, s, id, want) CHECK_EQ(st1(&(c), &(s), id), want)

TEST(healthy_sample_is_clean)
{
    struct sb_vav_conf c = quick();
    struct sb_vav v;
    struct sb_vav_sample s = box(T0);
    struct sb_vav_result r;

    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(sb_vav_step(&v, &s, &r) == 0);
    CHECK_EQ(r.running, 1);
    CHECK_EQ(r.steady, 1);
    CHECK_EQ(r.fired, 0);
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        int window = id == 3 || id == 8 || id == 9;

        CHECK_EQ(r.status[id], window ? SB_VAV_ST_INACTIVE : SB_VAV_ST_OK);
    }
}

TEST(rule1_airflow_tracking)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.flow = s.flow_sp * (1 + c.eps_q) + DQ;
    FIRES(c, s, 1);
    s.flow = s.flow_sp * (1 + c.eps_q) - DQ;
    QUIET(c, s, 1);
    s.flow = s.flow_sp * (1 - c.eps_q) - DQ;
    FIRES(c, s, 1);
    s.flow = s.flow_sp * (1 - c.eps_q) + DQ;
    QUIET(c, s, 1);
    /* a small setpoint is judged against flow_min_abs, not itself */
    s.flow_sp = 0.005;
    s.flow = 0.005 + c.eps_q * c.flow_min_abs + DQ;
    FIRES(c, s, 1);
    s.flow = 0.005 + c.eps_q * c.flow_min_abs - DQ;
    QUIET(c, s, 1);
    /* damper saturated open: rule 2's case, rule 1 is filtered out */
    s = box(T0);
    s.flow = 0.5 * s.flow_sp;
    s.damper = 1 - c.eps_d + D;
    STATUS(c, s, 1, SB_VAV_ST_INACTIVE);
    s.damper = 1 - c.eps_d - D;
    FIRES(c, s, 1);
    /* closed damper with too much air (leaking damper) is rule 1 */
    s.damper = 0;
    s.flow = 2 * s.flow_sp;
    FIRES(c, s, 1);
}

TEST(rule2_damper_saturated)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.damper = 1.0;
    s.flow = (1 - c.eps_q) * s.flow_sp - DQ;
    FIRES(c, s, 2);
    s.flow = (1 - c.eps_q) * s.flow_sp + DQ;
    QUIET(c, s, 2);
    s.flow = 0.5 * s.flow_sp;
    s.damper = 1 - c.eps_d + D;
    FIRES(c, s, 2);
    s.damper = 1 - c.eps_d;          /* the boundary counts as saturated */
    FIRES(c, s, 2);
    s.damper = 1 - c.eps_d - D;      /* not saturated: evaluated false */
    STATUS(c, s, 2, SB_VAV_ST_OK);
    s.damper = NAN;
    STATUS(c, s, 2, SB_VAV_ST_NOT_EVALUABLE);
}

TEST(rules4_5_zone_temperature)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.zat = s.clg_sp + c.eps_t + D;
    FIRES(c, s, 4);
    STATUS(c, s, 5, SB_VAV_ST_OK);
    s.zat = s.clg_sp + c.eps_t - D;
    QUIET(c, s, 4);
    s.zat = s.htg_sp - c.eps_t - D;
    FIRES(c, s, 5);
    s.zat = s.htg_sp - c.eps_t + D;
    QUIET(c, s, 5);
    /* only occupied zones are judged */
    s.zat = 30;
    s.occupied = 0;
    STATUS(c, s, 4, SB_VAV_ST_INACTIVE);
    s.occupied = NAN;
    STATUS(c, s, 4, SB_VAV_ST_NOT_EVALUABLE);
    s.occupied = 1;
    s.clg_sp = NAN;
    STATUS(c, s, 4, SB_VAV_ST_NOT_EVALUABLE);
}

TEST(rule6_reheat_leaking)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.dat = s.sat + c.dt_duct + c.eps_t + D;
    FIRES(c, s, 6);
    s.dat = s.sat + c.dt_duct + c.eps_t - D;
    QUIET(c, s, 6);
    s.dat = s.sat + 8;
    s.reheat = c.eps_hc + D;         /* commanded open: not a leak */
    STATUS(c, s, 6, SB_VAV_ST_OK);
    s.reheat = c.eps_hc;
    FIRES(c, s, 6);
    s.flow = c.flow_on;              /* no airflow: DAT means nothing */
    STATUS(c, s, 6, SB_VAV_ST_INACTIVE);
    s.flow = 0.2;
    s.reheat = NAN;                  /* cooling-only box */
    STATUS(c, s, 6, SB_VAV_ST_NOT_EVALUABLE);
}

TEST(rule7_reheat_not_heating)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.reheat = c.reheat_hi;
    s.dat = s.sat + c.dt_reheat_min - D;
    FIRES(c, s, 7);
    s.dat = s.sat + c.dt_reheat_min + D;
    QUIET(c, s, 7);
    s.dat = s.sat;
    s.reheat = c.reheat_hi - D;
    STATUS(c, s, 7, SB_VAV_ST_OK);
    s.reheat = 1;
    s.sat = NAN;
    STATUS(c, s, 7, SB_VAV_ST_NOT_EVALUABLE);
}

TEST(rule10_reheat_while_cooling)
{
    struct sb_vav_conf c = quick();
    struct sb_vav_sample s = box(T0);

    s.reheat = 0.2;
    s.dat = 18;
    s.zat = s.clg_sp + D;
    FIRES(c, s, 10);
    STATUS(c, s, 4, SB_VAV_ST_OK);   /* the zone is not "too warm" yet */
    s.zat = s.clg_sp - D;
    QUIET(c, s, 10);
    s.zat = s.clg_sp + D;
    s.reheat = c.eps_hc;
    STATUS(c, s, 10, SB_VAV_ST_OK);
    /* supply air below G36's minimum discharge temperature: heating allowed */
    s.reheat = 0.2;
    s.sat = c.dat_min - D;
    STATUS(c, s, 10, SB_VAV_ST_INACTIVE);
    s.sat = c.dat_min;
    FIRES(c, s, 10);
}

/* Feeds n minute samples made by gen(i, &s, arg) to v from T0; returns the
 * result of the last one in *last.  -1 on a step error. */
typedef void (*gen_fn)(int i, struct sb_vav_sample *s, const double *arg);

static int feed(struct sb_vav *v, int from, int n, gen_fn gen, const double *arg, struct sb_vav_result *last)
{
    for (int i = from; i < from + n; i++) {
        struct sb_vav_sample s = box(T0 + (int64_t)i * MIN);

        gen(i, &s, arg);
        if (sb_vav_step(v, &s, last) != 0)
            return -1;
    }
    return 0;
}

/* Rule 3: damper command alternates arg[0]/arg[1], setpoint arg[2]/arg[3],
 * flow arg[4]/arg[5]. */
static void gen_resp(int i, struct sb_vav_sample *s, const double *a)
{
    int k = i % 2;

    s->damper = a[0 + k];
    s->flow_sp = a[2 + k];
    s->flow = a[4 + k];
}

static int rule3_status(const struct sb_vav_conf *c, const double *arg, int n)
{
    struct sb_vav v;
    struct sb_vav_result r;

    if (sb_vav_init(&v, c) != 0 || feed(&v, 0, n, gen_resp, arg, &r) != 0)
        return -1;
    return r.status[3];
}

TEST(rule3_damper_not_responding)
{
    struct sb_vav_conf c = quick();
    /* reference = flow_min_abs = 0.5 (above any setpoint mean), so the
     * flow must move 0.05 and the setpoint move 0.1 */
    double stuck[6] = { 0.2, 0.6, 0.1, 0.3, 0.2, 0.2 + 0.05 - DQ };

    c.flow_min_abs = 0.5;
    c.eps_q = 1;            /* keep rule 1 quiet: it is not under test */
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_FIRED);
    /* before the window is covered (24 slices of 25 s) */
    CHECK_EQ(rule3_status(&c, stuck, 10), SB_VAV_ST_INACTIVE);
    /* flow moved just enough */
    stuck[5] = 0.2 + 0.05 + DQ;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[5] = 0.2 + 0.05 - DQ;
    /* damper command moved just too little */
    stuck[1] = 0.2 + c.resp_cmd_range - D;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[1] = 0.2 + c.resp_cmd_range + D;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_FIRED);
    /* setpoint constant: a pressure-independent box moves its damper to
     * hold a constant flow when duct static changes -- not a fault */
    stuck[2] = stuck[3] = 0.2;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[3] = 0.2 + c.resp_sp_frac * 0.5 - D;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[3] = 0.2 + c.resp_sp_frac * 0.5 + D;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_FIRED);
    /* no setpoint: cannot tell */
    stuck[2] = stuck[3] = NAN;
    CHECK_EQ(rule3_status(&c, stuck, 40), SB_VAV_ST_NOT_EVALUABLE);
}

/* Rule 8: reheat alternates arg[0]/arg[1], dat - sat alternates arg[2]/arg[3],
 * airflow arg[4]. */
static void gen_rh(int i, struct sb_vav_sample *s, const double *a)
{
    int k = i % 2;

    s->reheat = a[0 + k];
    s->dat = s->sat + a[2 + k];
    s->flow = s->flow_sp = a[4];
}

static int rule8_status(const struct sb_vav_conf *c, const double *arg, int n)
{
    struct sb_vav v;
    struct sb_vav_result r;

    if (sb_vav_init(&v, c) != 0 || feed(&v, 0, n, gen_rh, arg, &r) != 0)
        return -1;
    return r.status[8];
}

TEST(rule8_reheat_not_responding)
{
    struct sb_vav_conf c = quick();
    double stuck[5] = { 0.1, 0.6, 3.0, 3.0 + 1.0 - D, 0.2 };

    c.dt_reheat_min = 0;    /* keep rule 7 quiet */
    c.dt_duct = 10;         /* and rule 6 */
    CHECK_EQ(rule8_status(&c, stuck, 40), SB_VAV_ST_FIRED);
    CHECK_EQ(rule8_status(&c, stuck, 10), SB_VAV_ST_INACTIVE);
    stuck[3] = 3.0 + c.resp_dt_range + D;
    CHECK_EQ(rule8_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[3] = 3.0;
    stuck[1] = 0.1 + c.resp_cmd_range - D;
    CHECK_EQ(rule8_status(&c, stuck, 40), SB_VAV_ST_OK);
    stuck[1] = 0.1 + c.resp_cmd_range + D;
    CHECK_EQ(rule8_status(&c, stuck, 40), SB_VAV_ST_FIRED);
    /* no airflow: the discharge sensor does not see the coil */
    stuck[4] = c.flow_on / 2;
    CHECK_EQ(rule8_status(&c, stuck, 40), SB_VAV_ST_NOT_EVALUABLE);
}

/* Rule 9: the command arg[0] (0 damper, 1 reheat) sits at 0.5; from
 * minute 100 it alternates with 0.5 + arg[2] and holds its value from
 * minute 101 + arg[1]: exactly arg[1] reversals, at minutes 102.. */
static void gen_hunt(int i, struct sb_vav_sample *s, const double *a)
{
    int j = i < 101 + (int)a[1] ? i : 101 + (int)a[1];
    double x = 0.5;

    if (i >= 100)
        x += ((j - 100) % 2) * a[2];
    if (a[0] == 0)
        s->damper = x;
    else
        s->reheat = x;
    s->dat = s->sat + 0.5;
}

static int rule9_status(const struct sb_vav_conf *c, double which, int reversals, double amp, int n)
{
    struct sb_vav v;
    struct sb_vav_result r;
    double arg[3] = { which, reversals, amp };

    if (sb_vav_init(&v, c) != 0 || feed(&v, 0, n, gen_hunt, arg, &r) != 0)
        return -1;
    return r.status[9];
}

TEST(rule9_hunting)
{
    struct sb_vav_conf c = quick();

    c.enabled &= ~(SB_VAV_BIT(6) | SB_VAV_BIT(7) | SB_VAV_BIT(10));
    /* 11 reversals in the last hour > 10 */
    CHECK_EQ(rule9_status(&c, 0, c.hunt_max + 1, 0.1, 121), SB_VAV_ST_FIRED);
    CHECK_EQ(rule9_status(&c, 0, c.hunt_max, 0.1, 121), SB_VAV_ST_OK);
    CHECK_EQ(rule9_status(&c, 1, c.hunt_max + 1, 0.1, 121), SB_VAV_ST_FIRED);
    CHECK_EQ(rule9_status(&c, 1, c.hunt_max, 0.1, 121), SB_VAV_ST_OK);
    /* moves below the deadband are noise */
    CHECK_EQ(rule9_status(&c, 0, 40, c.hunt_deadband - D, 121), SB_VAV_ST_OK);
    CHECK_EQ(rule9_status(&c, 0, 40, c.hunt_deadband + D, 121), SB_VAV_ST_FIRED);
    /* an hour of steady running is needed first */
    CHECK_EQ(rule9_status(&c, 0, 40, 0.1, 59), SB_VAV_ST_INACTIVE);
    /* reversals older than an hour no longer count: they happen at
     * minutes 102-141; at minute 190 those after 130 are 11, at 191 ten */
    CHECK_EQ(rule9_status(&c, 0, 40, 0.1, 191), SB_VAV_ST_FIRED);
    CHECK_EQ(rule9_status(&c, 0, 40, 0.1, 192), SB_VAV_ST_OK);
}

TEST(rule9_nan_commands)
{
    struct sb_vav_conf c = quick();
    struct sb_vav v;
    struct sb_vav_result r;

    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 90; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.damper = s.reheat = NAN;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
    }
    CHECK_EQ(r.status[9], SB_VAV_ST_NOT_EVALUABLE);
    CHECK_EQ(r.fired, 0);
    /* commands that were known but went missing for an hour: not
     * evaluable, not "no reversals" */
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 200; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.reheat = NAN;
        if (i >= 100)
            s.damper = NAN;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        if (i == 150)
            CHECK_EQ(r.status[9], SB_VAV_ST_OK);
    }
    CHECK_EQ(r.status[9], SB_VAV_ST_NOT_EVALUABLE);
}

/* A box whose damper is wide open and short of air (rule 2). */
static void gen_starved(int i, struct sb_vav_sample *s, const double *a)
{
    s->damper = 1;
    s->flow = 0.5 * s->flow_sp;
    s->ahu_on = a ? a[0] : 1;
}

static void gen_ok(int i, struct sb_vav_sample *s, const double *a)
{
    (void)i;
    (void)s;
    (void)a;
}

TEST(start_delay_and_on_delay)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    int first_fired = -1, first_pending = -1, raised = 0;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    /* the AHU starts at minute 0 with the fault present */
    for (int i = 0; i < 120; i++) {
        REQUIRE(feed(&v, i, 1, gen_starved, NULL, &r) == 0);
        if (i < 30) {
            CHECK_EQ(r.steady, 0);
            CHECK_EQ(r.status[2], SB_VAV_ST_INACTIVE);
        }
        if (first_pending < 0 && r.status[2] == SB_VAV_ST_PENDING)
            first_pending = i;
        if (first_fired < 0 && r.status[2] == SB_VAV_ST_FIRED)
            first_fired = i;
        raised += (r.raised & SB_VAV_BIT(2)) != 0;
        CHECK_EQ(r.fired & ~SB_VAV_BIT(2), 0);   /* rule 1 is filtered, others fine */
    }
    CHECK_EQ(first_pending, 30);                 /* start delay 1800 s */
    CHECK_EQ(first_fired, 60);                   /* + on-delay 1800 s */
    CHECK_EQ(raised, 1);
}

TEST(response_window_needs_running_time)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    double off[1] = { 0 };

    /* steady from minute 30; slices of 7200/24 = 300 s of running time;
     * the ring of 24 is full when the 24th slice opens, 23 x 5 min after
     * the first one filled: minute 30 + 1 + 115 */
    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 146, gen_ok, NULL, &r) == 0);
    CHECK_EQ(r.status[3], SB_VAV_ST_INACTIVE);
    CHECK_EQ(r.status[8], SB_VAV_ST_INACTIVE);
    REQUIRE(feed(&v, 146, 1, gen_ok, NULL, &r) == 0);
    CHECK_EQ(r.status[3], SB_VAV_ST_OK);
    CHECK_EQ(r.status[8], SB_VAV_ST_OK);
    /* an AHU stop empties the window: two more hours are needed */
    REQUIRE(feed(&v, 147, 10, gen_starved, off, &r) == 0);
    REQUIRE(feed(&v, 157, 146, gen_ok, NULL, &r) == 0);
    CHECK_EQ(r.status[3], SB_VAV_ST_INACTIVE);
    REQUIRE(feed(&v, 303, 1, gen_ok, NULL, &r) == 0);
    CHECK_EQ(r.status[3], SB_VAV_ST_OK);
}

/* Each rule's fault on minute data with the default filters: a[0] = 1
 * just past the threshold, 0 just inside it.  Square waves have a 40 min
 * period so the 5-minute average follows them. */
static void gen_case(int i, struct sb_vav_sample *s, const double *a)
{
    int id = (int)a[1], hi = (i / 20) % 2;
    double m = a[0] > 0 ? 1 : -1;   /* direction "past the threshold" */

    switch (id) {
    case 1: s->flow = 0.2 * 1.15 + m * 0.002; break;
    case 2: s->damper = 1; s->flow = 0.2 * 0.85 - m * 0.002; break;
    case 3:   /* reference 0.2: the flow must move 0.02 */
        s->damper = hi ? 0.6 : 0.2;
        s->flow_sp = hi ? 0.3 : 0.1;
        s->flow = 0.2 + hi * (m > 0 ? 0.01 : 0.03);
        break;
    case 4: s->zat = s->clg_sp + 1 + m * 0.05; break;
    case 5: s->zat = s->htg_sp - 1 - m * 0.05; break;
    case 6: s->dat = s->sat + 2 + m * 0.05; break;
    case 7: s->reheat = 0.5; s->dat = s->sat + 2 - m * 0.05; break;
    case 8:
        s->reheat = hi ? 0.6 : 0.1;
        s->dat = s->sat + 3 + hi * (m > 0 ? 0.9 : 1.1);
        break;
    case 9:   /* a reversal every 5 min (12/h) or every 6 min (10/h) */
        s->damper = 0.5 + 0.1 * ((i / (m > 0 ? 5 : 6)) % 2);
        break;
    default:
        s->reheat = 0.2;
        s->dat = s->sat + 4;
        s->zat = s->clg_sp + m * 0.05;
        break;
    }
}

TEST(each_rule_on_minute_data)
{
    /* first FIRED minute: start delay 30 min, then the on-delay; the
     * window rules first need their window (minute 146) or an hour of
     * steady running (minute 90) */
    static const int first[SB_VAV_NRULES + 1] = { 0, 60, 60, 206, 90, 90, 60, 60, 206, 150, 90 };
    struct sb_vav_conf c;

    sb_vav_conf_default(&c);
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        for (int past = 1; past >= 0; past--) {
            struct sb_vav v;
            struct sb_vav_result r;
            double arg[2] = { past, id };
            int fired_at = -1;

            REQUIRE(sb_vav_init(&v, &c) == 0);
            for (int i = 0; i < 300; i++) {
                REQUIRE(feed(&v, i, 1, gen_case, arg, &r) == 0);
                if (i < 30 && r.status[id] != SB_VAV_ST_INACTIVE)
                    TAP_FAIL("rule %d: status %d inside the start delay", id, r.status[id]);
                if (fired_at < 0 && (r.fired & SB_VAV_BIT(id)))
                    fired_at = i;
            }
            if (past && fired_at != first[id])
                TAP_FAIL("rule %d: first fired at minute %d, expected %d", id, fired_at, first[id]);
            if (!past && fired_at >= 0)
                TAP_FAIL("rule %d: fired at minute %d just inside its threshold", id, fired_at);
            if (!past && r.status[id] != SB_VAV_ST_OK)
                TAP_FAIL("rule %d: status %d just inside its threshold", id, r.status[id]);
        }
    }
}

TEST(latching_and_clearing)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    struct sb_vav_finding f;
    double off[1] = { 0 };
    int cleared_at = -1;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 70, gen_starved, NULL, &r) == 0);
    REQUIRE(r.status[2] == SB_VAV_ST_FIRED);
    CHECK_EQ(sb_vav_finding(&v, 2, &f), 0);
    /* the AHU stops: filtered out, still active, not cleared */
    REQUIRE(feed(&v, 70, 30, gen_starved, off, &r) == 0);
    CHECK_EQ(r.running, 0);
    CHECK_EQ(r.status[2], SB_VAV_ST_INACTIVE);
    CHECK_EQ(r.cleared, 0);
    CHECK_EQ(sb_vav_finding(&v, 2, &f), 0);
    /* it restarts healthy: still latched through the start delay */
    for (int i = 100; i < 160 && cleared_at < 0; i++) {
        REQUIRE(feed(&v, i, 1, gen_ok, NULL, &r) == 0);
        if (r.cleared & SB_VAV_BIT(2))
            cleared_at = i;
        else
            CHECK_EQ(sb_vav_finding(&v, 2, &f), 0);
    }
    CHECK_EQ(cleared_at, 130);                   /* first steady evaluation, false */
    CHECK_EQ(r.status[2], SB_VAV_ST_OK);
    CHECK_EQ(sb_vav_finding(&v, 2, &f), SB_ENOENT);
}

TEST(clears_when_the_average_recovers)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    int cleared_at = -1;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 70, gen_starved, NULL, &r) == 0);
    REQUIRE(r.status[2] == SB_VAV_ST_FIRED);
    /* healthy from minute 70: the 5-minute window (minutes 66-70) already
     * averages the damper below 1 - eps_d, so the rule is false at once */
    for (int i = 70; i < 80 && cleared_at < 0; i++) {
        REQUIRE(feed(&v, i, 1, gen_ok, NULL, &r) == 0);
        if (r.cleared & SB_VAV_BIT(2))
            cleared_at = i;
    }
    CHECK_EQ(cleared_at, 70);   /* mean damper (4 x 1 + 0.5) / 5 = 0.9 < 0.95 */
    CHECK_EQ(r.status[2], SB_VAV_ST_OK);
}

static void gen_warm(int i, struct sb_vav_sample *s, const double *a)
{
    s->zat = s->clg_sp + 2;
    if (a && i >= (int)a[0])
        s->occupied = 0;
}

TEST(occupancy_change_restarts_the_delay)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    double change[1] = { 60 };

    sb_vav_conf_default(&c);
    c.enabled = SB_VAV_BIT(1);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 60, gen_warm, change, &r) == 0);
    CHECK_EQ(r.steady, 1);
    REQUIRE(feed(&v, 60, 1, gen_warm, change, &r) == 0);
    CHECK_EQ(r.steady, 0);                      /* occupied -> unoccupied */
    REQUIRE(feed(&v, 61, 29, gen_warm, change, &r) == 0);
    CHECK_EQ(r.steady, 0);
    REQUIRE(feed(&v, 90, 1, gen_warm, change, &r) == 0);
    CHECK_EQ(r.steady, 1);
    CHECK_EQ(r.status[1], SB_VAV_ST_OK);
}

TEST(zone_rule_on_delay_is_an_hour)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    int first = -1;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 100 && first < 0; i++) {
        REQUIRE(feed(&v, i, 1, gen_warm, NULL, &r) == 0);
        if (r.raised & SB_VAV_BIT(4))
            first = i;
    }
    CHECK_EQ(first, 90);       /* 30 min start delay + 60 min on-delay */
    /* just inside the threshold never fires */
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 200; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.zat = s.clg_sp + c.eps_t - D;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        CHECK_EQ(r.fired, 0);
    }
    CHECK_EQ(r.status[4], SB_VAV_ST_OK);
    /* a disabled rule is never evaluated */
    c.enabled &= ~SB_VAV_BIT(4);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 120, gen_warm, NULL, &r) == 0);
    CHECK_EQ(r.status[4], SB_VAV_ST_DISABLED);
    CHECK_EQ(r.status[5], SB_VAV_ST_OK);
    CHECK_EQ(r.fired, 0);
}

TEST(interrupted_condition_restarts_persistence)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;

    sb_vav_conf_default(&c);
    c.window_s = 0;
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 59, gen_starved, NULL, &r) == 0);
    CHECK_EQ(r.status[2], SB_VAV_ST_PENDING);
    REQUIRE(feed(&v, 59, 1, gen_ok, NULL, &r) == 0);   /* one good minute */
    CHECK_EQ(r.status[2], SB_VAV_ST_OK);
    REQUIRE(feed(&v, 60, 30, gen_starved, NULL, &r) == 0);
    CHECK_EQ(r.status[2], SB_VAV_ST_PENDING);          /* 29 min, not 30 */
    REQUIRE(feed(&v, 90, 1, gen_starved, NULL, &r) == 0);
    CHECK_EQ(r.status[2], SB_VAV_ST_FIRED);
}

TEST(gaps_restart_the_filters)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    struct sb_vav_sample s;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    REQUIRE(feed(&v, 0, 40, gen_ok, NULL, &r) == 0);
    CHECK_EQ(r.steady, 1);
    s = box(T0 + 39 * MIN + c.max_gap_s);              /* exactly the limit */
    REQUIRE(sb_vav_step(&v, &s, &r) == 0);
    CHECK_EQ(r.steady, 1);
    s.t += c.max_gap_s + 1;                              /* longer: restart */
    REQUIRE(sb_vav_step(&v, &s, &r) == 0);
    CHECK_EQ(r.steady, 0);
    CHECK_EQ(r.status[1], SB_VAV_ST_INACTIVE);
}

TEST(nan_inputs_never_fire)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    uint64_t fired = 0;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    /* the starved-box fault, but no airflow reading */
    for (int i = 0; i < 300; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.damper = 1;
        s.flow = NAN;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        fired |= r.fired;
    }
    CHECK_EQ(fired, 0);
    CHECK_EQ(r.status[1], SB_VAV_ST_NOT_EVALUABLE);
    CHECK_EQ(r.status[2], SB_VAV_ST_NOT_EVALUABLE);
    CHECK_EQ(r.status[3], SB_VAV_ST_NOT_EVALUABLE);
    CHECK_EQ(r.status[4], SB_VAV_ST_OK);
    /* nothing tells whether the box runs: every rule not evaluable */
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 300; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.ahu_on = s.flow = NAN;
        s.zat = 40;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        fired |= r.fired;
    }
    CHECK_EQ(fired, 0);
    CHECK_EQ(r.running, -1);
    for (int id = 1; id <= SB_VAV_NRULES; id++)
        CHECK_EQ(r.status[id], SB_VAV_ST_NOT_EVALUABLE);
    /* no ahu_on point: airflow above flow_on says it runs */
    {
        struct sb_vav_sample s = box(T0);

        s.ahu_on = NAN;
        REQUIRE(sb_vav_init(&v, &c) == 0);
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        CHECK_EQ(r.running, 1);
        s.t += MIN;
        s.flow = c.flow_on;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        CHECK_EQ(r.running, 0);
        /* the AHU point wins over the airflow */
        s.t += MIN;
        s.ahu_on = 1;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        CHECK_EQ(r.running, 1);
    }
    /* a few NAN samples inside the window are averaged over */
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 90; i++) {
        struct sb_vav_sample s = box(T0 + i * MIN);

        s.damper = 1;
        s.flow = i % 3 == 0 ? NAN : 0.5 * s.flow_sp;
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
    }
    CHECK_EQ(r.status[2], SB_VAV_ST_FIRED);
}

TEST(time_must_increase_state_unchanged)
{
    struct sb_vav_conf c;
    struct sb_vav *v = malloc(sizeof *v), *copy = malloc(sizeof *copy);
    struct sb_vav_result r;
    struct sb_vav_sample s;

    REQUIRE(v && copy);
    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(v, &c) == 0);
    REQUIRE(feed(v, 0, 80, gen_starved, NULL, &r) == 0);
    memcpy(copy, v, sizeof *v);
    s = box(T0 + 79 * MIN);                              /* same time */
    CHECK_EQ(sb_vav_step(v, &s, &r), SB_EINVAL);
    s.t -= 1;                                            /* earlier */
    CHECK_EQ(sb_vav_step(v, &s, &r), SB_EINVAL);
    s.t = SB_VAV_T_MAX + 1;
    CHECK_EQ(sb_vav_step(v, &s, &r), SB_ERANGE);
    s.t = -SB_VAV_T_MAX - 1;
    CHECK_EQ(sb_vav_step(v, &s, NULL), SB_ERANGE);
    CHECK(memcmp(copy, v, sizeof *v) == 0);
    s.t = T0 + 80 * MIN;
    CHECK_EQ(sb_vav_step(v, &s, NULL), 0);
    /* reset forgets history and keeps the conf */
    sb_vav_reset(v);
    CHECK_EQ(sb_vav_finding(v, 2, &(struct sb_vav_finding){ 0 }), SB_ENOENT);
    CHECK_EQ(v->conf.on_delay_s[4], 3600);
    s.t = T0;                                            /* time may restart */
    CHECK_EQ(sb_vav_step(v, &s, NULL), 0);
    free(v);
    free(copy);
}

TEST(conf_defaults_and_check)
{
    struct sb_vav_conf c, d;
    char err[128];

    sb_vav_conf_default(&c);
    CHECK_EQ(sb_vav_conf_check(&c, err, sizeof err), 0);
    CHECK_DBL(c.eps_q, 0.15, 0);
    CHECK_DBL(c.eps_d, 0.05, 0);
    CHECK_DBL(c.eps_t, 1.0, 0);
    CHECK_EQ(c.start_delay_s, 1800);
    CHECK_EQ(c.window_s, 300);
    CHECK_EQ(c.on_delay_s[1], 1800);
    CHECK_EQ(c.on_delay_s[6], 1800);
    CHECK_EQ(c.on_delay_s[3], 3600);
    CHECK_EQ(c.on_delay_s[9], 3600);
    CHECK_EQ(c.enabled, SB_VAV_ALL_RULES);

    d = c;
    d.eps_q = -0.1;
    CHECK_EQ(sb_vav_conf_check(&d, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "eps_q") != NULL);
    d = c;
    d.eps_t = NAN;
    CHECK_EQ(sb_vav_conf_check(&d, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "eps_t") != NULL);
    d = c;
    d.on_delay_s[4] = -5;
    CHECK_EQ(sb_vav_conf_check(&d, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "on_delay_s_4") != NULL);
    d = c;
    d.hunt_max = SB_VAV_REV_MAX;
    CHECK_EQ(sb_vav_conf_check(&d, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "hunt_max") != NULL);
    d = c;
    d.resp_window_s = 10;
    CHECK_EQ(sb_vav_conf_check(&d, NULL, 0), SB_EINVAL);
    {
        struct sb_vav v;

        CHECK_EQ(sb_vav_init(&v, &d), SB_EINVAL);
    }
}

TEST(conf_set_by_name)
{
    struct sb_vav_conf c, before;
    char err[128];
    size_t n = 0;
    const struct sb_fdd_param *p = sb_vav_conf_params(&n);

    sb_vav_conf_default(&c);
    CHECK_EQ(sb_vav_conf_set(&c, "eps_q", 0.25, err, sizeof err), 0);
    CHECK_DBL(c.eps_q, 0.25, 0);
    CHECK_EQ(sb_vav_conf_set(&c, "on_delay_s_7", 600, err, sizeof err), 0);
    CHECK_EQ(c.on_delay_s[7], 600);
    CHECK_EQ(sb_vav_conf_set(&c, "hunt_max", 12, err, sizeof err), 0);
    CHECK_EQ(c.hunt_max, 12);

    before = c;
    CHECK_EQ(sb_vav_conf_set(&c, "eps_qq", 0.2, err, sizeof err), SB_ENOENT);
    CHECK(strstr(err, "eps_qq") != NULL);
    CHECK_EQ(sb_vav_conf_set(&c, NULL, 0.2, err, sizeof err), SB_ENOENT);
    CHECK_EQ(sb_vav_conf_set(&c, "eps_q", 2.0, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "eps_q") != NULL);
    CHECK_EQ(sb_vav_conf_set(&c, "dt_reheat_min", NAN, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "dt_reheat_min") != NULL);
    CHECK_EQ(sb_vav_conf_set(&c, "window_s", 60.5, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "window_s") != NULL);
    CHECK_EQ(sb_vav_conf_set(&c, "on_delay_s_10", -1, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "on_delay_s_10") != NULL);
    CHECK(memcmp(&before, &c, sizeof c) == 0);

    /* the table: every number once, defaults inside the bounds, both
     * bounds settable and read back through the offset */
    CHECK_EQ(n, 20 + SB_VAV_NRULES);
    for (size_t i = 0; i < n; i++) {
        struct sb_vav_conf t;
        const char *at;

        CHECK(p[i].name && p[i].unit && p[i].doc && p[i].doc[0]);
        CHECK(p[i].lo <= p[i].hi);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(p[i].name, p[j].name) != 0);
        sb_vav_conf_default(&t);
        CHECK_EQ(sb_vav_conf_set(&t, p[i].name, p[i].hi, err, sizeof err), 0);
        at = (const char *)&t + p[i].off;
        CHECK_DBL(p[i].is_int ? *(const int32_t *)at : *(const double *)at, p[i].hi, 0);
        CHECK_EQ(sb_vav_conf_set(&t, p[i].name, p[i].lo, err, sizeof err), 0);
        CHECK_DBL(p[i].is_int ? *(const int32_t *)at : *(const double *)at, p[i].lo, 0);
    }
}

TEST(finding_and_text)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    struct sb_vav_finding f;
    char buf[1024], small[16], names[256];
    int n;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    CHECK_EQ(sb_vav_finding(&v, 2, &f), SB_ENOENT);
    CHECK_EQ(sb_vav_finding(&v, 0, &f), SB_EINVAL);
    CHECK_EQ(sb_vav_finding(&v, SB_VAV_NRULES + 1, &f), SB_EINVAL);
    REQUIRE(feed(&v, 0, 61, gen_starved, NULL, &r) == 0);
    REQUIRE(sb_vav_finding(&v, 2, &f) == 0);
    CHECK_EQ(f.rule, 2);
    CHECK_EQ(f.since, T0 + 30 * MIN);
    CHECK_EQ(f.fired_at, T0 + 60 * MIN);
    CHECK_DBL(f.lhs, 0.1, 1e-12);
    CHECK_DBL(f.rhs, 0.85 * 0.2, 1e-12);
    CHECK_DBL(f.ev.damper, 1.0, 1e-12);
    CHECK_EQ(f.faults, sb_vav_rule_info(2)->faults);
    n = sb_vav_finding_format(&f, buf, sizeof buf);
    CHECK_INT(n, >, 0);
    CHECK_EQ(strlen(buf), (size_t)n);
    CHECK(strstr(buf, "VAV rule 2") != NULL);
    CHECK(strstr(buf, "low duct static") != NULL);
    CHECK(strstr(buf, "action:") != NULL);
    CHECK_EQ(sb_vav_finding_format(&f, small, sizeof small), n);
    CHECK_EQ(strlen(small), sizeof small - 1);
    CHECK_EQ(sb_vav_finding_format(&f, NULL, 0), n);

    CHECK_STR(sb_vav_fault_name(SB_VAV_F_REHEAT_LEAK), "reheat valve leaking");
    CHECK_STR(sb_vav_fault_name(3), "?");
    CHECK_STR(sb_vav_fault_name(1u << SB_VAV_NFAULTS), "?");
    n = sb_vav_faults_format(SB_VAV_F_FLOW_SENSOR | SB_VAV_F_HUNTING, names, sizeof names);
    CHECK_STR(names, "airflow sensor, control loop hunting");
    CHECK_EQ(n, (int)strlen(names));
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        const struct sb_vav_rule_info *info = sb_vav_rule_info(id);

        REQUIRE(info != NULL);
        CHECK_EQ(info->id, id);
        CHECK(info->name && info->expr && info->meaning && info->action && info->source);
        CHECK(info->faults != 0 && info->faults < (1u << SB_VAV_NFAULTS));
    }
    CHECK(sb_vav_rule_info(0) == NULL);
    CHECK(sb_vav_rule_info(SB_VAV_NRULES + 1) == NULL);
}

TEST(diagnosis_votes)
{
    double votes[SB_VAV_NFAULTS], w[SB_VAV_NRULES + 1] = { 0 };
    uint32_t top;

    /* 2 (4 classes) + 3 (3 classes): damper, actuator and sensor lead */
    top = sb_vav_diagnose(SB_VAV_BIT(2) | SB_VAV_BIT(3), NULL, votes);
    CHECK_EQ(top, SB_VAV_F_DAMPER_STUCK | SB_VAV_F_ACTUATOR | SB_VAV_F_FLOW_SENSOR);
    CHECK_DBL(votes[1], 0.25 + 1.0 / 3, 1e-12);
    CHECK_DBL(votes[3], 0.25, 1e-12);
    /* weights: rule 6 for much longer than rule 8 */
    w[6] = 100;
    w[8] = 1;
    top = sb_vav_diagnose(SB_VAV_BIT(6) | SB_VAV_BIT(8), w, votes);
    CHECK_EQ(top, SB_VAV_F_REHEAT_LEAK | SB_VAV_F_ZONE_SENSOR);
    CHECK_EQ(sb_vav_diagnose(0, NULL, NULL), 0);
    w[6] = 0;
    CHECK_EQ(sb_vav_diagnose(SB_VAV_BIT(6), w, NULL), 0);
}

/* Uniform in [-1, 1). */
static double noise(uint64_t *seed)
{
    return (double)(tap_rand(seed) >> 11) / (double)(UINT64_C(1) << 52) - 1.0;
}

/* One minute of a healthy reheat box: AHU 05:30-20:00, occupied
 * 07:00-19:00, cooling load following the sun, reheat in the morning. */
static struct sb_vav_sample healthy_minute(int m, uint64_t *seed)
{
    struct sb_vav_sample s = box(T0 + (int64_t)m * MIN);
    double hour = m / 60.0;
    int ahu = hour >= 5.5 && hour < 20, occ = hour >= 7 && hour < 19;
    double load = hour > 7 && hour < 19 ? sin((hour - 7) / 12 * M_PI) : 0;
    double rh = hour < 9 ? 0.4 * (9 - hour) / 3.5 : 0;

    s.occupied = occ;
    s.ahu_on = ahu;
    s.htg_sp = occ ? 21 : 16;
    s.clg_sp = occ ? 24 : 29;
    s.zat = (occ ? 22.5 : 20) + 0.3 * noise(seed);
    s.sat = 13 + 0.2 * noise(seed);
    if (!ahu) {
        s.flow = 0.002 * (1 + noise(seed));
        s.flow_sp = 0;
        s.damper = s.reheat = 0;
        s.dat = s.zat;
        return s;
    }
    s.flow_sp = 0.08 + 0.22 * load;
    s.flow = s.flow_sp * (1 + 0.03 * noise(seed));
    s.damper = fmin(1, s.flow_sp / 0.4 + 0.01 * noise(seed));
    s.reheat = rh > 0.02 ? rh + 0.005 * noise(seed) : 0;
    s.dat = s.sat + 0.5 + 20 * s.reheat + 0.2 * noise(seed);
    return s;
}

TEST(healthy_day_fires_nothing)
{
    struct sb_vav_conf c;
    struct sb_vav v;
    struct sb_vav_result r;
    uint64_t seed = 0x5eed;
    uint32_t ok[SB_VAV_NRULES + 1] = { 0 }, steady = 0;
    uint64_t fired = 0;

    sb_vav_conf_default(&c);
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int m = 0; m < 1440; m++) {
        struct sb_vav_sample s = healthy_minute(m, &seed);

        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        fired |= r.fired | r.raised;
        steady += (uint32_t)r.steady;
        for (int id = 1; id <= SB_VAV_NRULES; id++)
            ok[id] += r.status[id] == SB_VAV_ST_OK;
    }
    CHECK_EQ(fired, 0);
    CHECK_INT(steady, >, 600);
    /* every rule was actually judged, and judged healthy, many times */
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        if (ok[id] < 100)
            TAP_FAIL("rule %d evaluated OK only %u times", id, ok[id]);
    }
}

TEST(random_samples_keep_invariants)
{
    struct sb_vav_conf c = quick();
    struct sb_vav v;
    uint64_t seed = 42;
    int active[SB_VAV_NRULES + 1] = { 0 };
    int64_t t = T0;

    c.on_delay_s[2] = 120;
    REQUIRE(sb_vav_init(&v, &c) == 0);
    for (int i = 0; i < 20000; i++) {
        struct sb_vav_sample s = box(0);
        struct sb_vav_result r;
        struct sb_vav_finding f;
        double *x[] = { &s.flow, &s.flow_sp, &s.damper, &s.reheat, &s.dat, &s.sat, &s.zat,
                        &s.occupied, &s.ahu_on };

        t += 1 + (int64_t)(tap_rand(&seed) % 200);
        s.t = t;
        for (size_t k = 0; k < sizeof x / sizeof x[0]; k++) {
            uint64_t u = tap_rand(&seed) % 16;

            if (u == 0)
                *x[k] = NAN;
            else if (u < 4)
                *x[k] = *x[k] * (1 + noise(&seed));
        }
        REQUIRE(sb_vav_step(&v, &s, &r) == 0);
        for (int id = 1; id <= SB_VAV_NRULES; id++) {
            uint64_t b = SB_VAV_BIT(id);

            CHECK_INT(r.status[id], <=, SB_VAV_ST_FIRED);
            CHECK_EQ((r.fired & b) != 0, r.status[id] == SB_VAV_ST_FIRED);
            if (r.raised & b) {
                CHECK(r.fired & b);
                CHECK(!active[id]);
                active[id] = 1;
            }
            if (r.cleared & b) {
                CHECK_EQ(r.status[id], SB_VAV_ST_OK);
                CHECK(active[id]);
                active[id] = 0;
            }
            CHECK_EQ(sb_vav_finding(&v, id, &f) == 0, active[id]);
        }
        CHECK_EQ(r.fired & ~SB_VAV_ALL_RULES, 0);
    }
}

TEST(batch_equals_incremental)
{
    struct sb_vav_conf c;
    struct sb_vav *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
    struct sb_vav_sample *s = calloc(600, sizeof *s);
    struct sb_vav_tally tl = { 0 };
    uint64_t seed = 7;

    REQUIRE(a && b && s);
    sb_vav_conf_default(&c);
    for (int m = 0; m < 600; m++) {
        s[m] = healthy_minute(m + 400, &seed);
        if (m >= 300)
            s[m].damper = 1, s[m].flow = 0.5 * s[m].flow_sp;   /* fault from 11:40 */
    }
    REQUIRE(sb_vav_init(a, &c) == 0 && sb_vav_init(b, &c) == 0);
    CHECK_EQ(sb_vav_run(a, s, 600, &tl), 0);
    for (int m = 0; m < 600; m++)
        REQUIRE(sb_vav_step(b, &s[m], NULL) == 0);
    CHECK(memcmp(a, b, sizeof *a) == 0);
    CHECK_EQ(tl.samples, 600);
    CHECK_EQ(tl.raised[2], 1);
    CHECK_INT(tl.fired[2], >, 200);
    CHECK_EQ(tl.raised[1], 0);
    /* a bad sample stops the batch with its error */
    s[10].t = s[9].t;
    REQUIRE(sb_vav_init(a, &c) == 0);
    CHECK_EQ(sb_vav_run(a, s, 600, NULL), SB_EINVAL);
    free(a);
    free(b);
    free(s);
}

int main(void)
{
    TAP_START();
    RUN(healthy_sample_is_clean);
    RUN(rule1_airflow_tracking);
    RUN(rule2_damper_saturated);
    RUN(rules4_5_zone_temperature);
    RUN(rule6_reheat_leaking);
    RUN(rule7_reheat_not_heating);
    RUN(rule10_reheat_while_cooling);
    RUN(rule3_damper_not_responding);
    RUN(rule8_reheat_not_responding);
    RUN(rule9_hunting);
    RUN(rule9_nan_commands);
    RUN(start_delay_and_on_delay);
    RUN(each_rule_on_minute_data);
    RUN(response_window_needs_running_time);
    RUN(latching_and_clearing);
    RUN(clears_when_the_average_recovers);
    RUN(occupancy_change_restarts_the_delay);
    RUN(zone_rule_on_delay_is_an_hour);
    RUN(interrupted_condition_restarts_persistence);
    RUN(gaps_restart_the_filters);
    RUN(nan_inputs_never_fire);
    RUN(time_must_increase_state_unchanged);
    RUN(conf_defaults_and_check);
    RUN(conf_set_by_name);
    RUN(finding_and_text);
    RUN(diagnosis_votes);
    RUN(healthy_day_fires_nothing);
    RUN(random_samples_keep_invariants);
    RUN(batch_equals_incremental);
    TAP_END();
}

/* test_plant.c - chiller checks (src/fdd/plant.c): the expected-COP curve
 * is learnt from a synthetic chiller (coefficients and predictions within
 * tolerance), a 20 % COP loss fires within a day of running and clears
 * after repair, 30 healthy days never fire, a loss below loss_min never
 * fires, short cycling fires just past its edges, and configuration and
 * time rules behave. */
#include "tap.h"

#include "core/err.h"
#include "fdd/plant.h"

#define DAY 86400
#define STEP 900            /* a sample every 15 minutes */
#define CAP 500.0           /* true capacity, kW */

static double gauss(uint64_t *s)
{
    double u1 = ((tap_rand(s) >> 11) + 1) * 0x1.0p-53;
    double u2 = (tap_rand(s) >> 11) * 0x1.0p-53;

    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static double unif(uint64_t *s)
{
    return (tap_rand(s) >> 11) * 0x1.0p-53;
}

/* The synthetic machine: COP = 2.5 + 9 plr - 6 plr^2 - 0.06 oat + 0.12 chw
 * (a DOE-2-like shape: best near 75 % load, worse with hot outdoor air,
 * better with warmer chilled water), measured with 3 % noise. */
static const double TRUE_B[5] = { 2.5, 9.0, -6.0, -0.06, 0.12 };

static double true_cop(double plr, double oat, double chw)
{
    return TRUE_B[0] + TRUE_B[1] * plr + TRUE_B[2] * plr * plr + TRUE_B[3] * oat + TRUE_B[4] * chw;
}

struct gen {
    uint64_t seed;
    double day_oat;         /* this day's mean outdoor temperature */
    double day_chw;         /* this day's chilled water setpoint */
    int day;                /* day the two were drawn for */
    int with_chw;           /* 0: chw not metered (NAN) */
};

/* The sample at t: runs 07:00-19:00, load follows the weather; loss is
 * the fraction of COP lost (0 healthy). */
static struct sb_chiller_sample gen_at(struct gen *g, int64_t t, double loss)
{
    struct sb_chiller_sample s;
    int day = (int)(t / DAY);
    double h = (double)(t % DAY) / 3600, plr, cop;

    if (day != g->day) {
        g->day = day;
        g->day_oat = 16 + 14 * unif(&g->seed);
        g->day_chw = 6 + 3 * unif(&g->seed);
    }
    sb_chiller_sample_init(&s);
    s.t = t;
    s.oat = g->day_oat + 5 * sin(2 * M_PI * (h - 9) / 24) + 0.3 * gauss(&g->seed);
    s.chw = g->day_chw + 0.1 * gauss(&g->seed);
    if (h < 7 || h >= 19) {
        s.running = 0;
        s.load_kw = 0;
        s.kw = 0.5;         /* standby */
    } else {
        plr = 0.25 + 0.7 * fmin(1, fmax(0, (s.oat - 12) / 26 + 0.1 * gauss(&g->seed)));
        cop = true_cop(plr, s.oat, s.chw) * (1 - loss) * (1 + 0.03 * gauss(&g->seed));
        s.running = 1;
        s.load_kw = plr * CAP;
        s.kw = s.load_kw / cop;
    }
    if (!g->with_chw)
        s.chw = NAN;
    return s;
}

/* ------------------------------------------------------------- learning */

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Runs `days`; returns when learning finished.  *p99 (may be NULL)
 * receives the 99th percentile (type 7) of the running loads fed while
 * learning, which is what the detector should take as capacity. */
static int64_t learn_days_p99(struct sb_chiller *ch, struct gen *g, int days, double *p99)
{
    static double loads[4096];
    struct sb_chiller_result r;
    int64_t learnt_at = -1;
    int n = 0;

    for (int64_t t = 0; t < (int64_t)days * DAY; t += STEP) {
        struct sb_chiller_sample s = gen_at(g, t, 0);

        if (sb_chiller_step(ch, &s, &r) != 0)
            return -2;
        if (learnt_at < 0 && s.running > 0.5 && n < 4096)
            loads[n++] = s.load_kw;
        if (r.learnt_now)
            learnt_at = t;
    }
    if (p99 && n > 1) {
        double h = 0.99 * (n - 1);
        int lo = (int)h;

        qsort(loads, (size_t)n, sizeof loads[0], cmp_d);
        *p99 = loads[lo] + (h - lo) * (loads[lo + 1] - loads[lo]);
    }
    return learnt_at;
}

static int64_t learn_days(struct sb_chiller *ch, struct gen *g, int days)
{
    return learn_days_p99(ch, g, days, NULL);
}

/* Curve error on the operating points of two more days (where the
 * machine actually runs: its load follows the weather, so corners such as
 * full load on a cool day are extrapolation and not judged).  Without a
 * chw point the truth is taken at the mean setpoint, 7.5 °C. */
static void curve_error(const struct sb_chiller *ch, struct gen *g, int64_t from, double *rms, double *worst)
{
    struct sb_chiller_model m;
    double ss = 0;
    int n = 0;

    *worst = 0;
    sb_chiller_get_model(ch, &m);
    for (int64_t t = from; t < from + 2 * DAY; t += STEP) {
        struct sb_chiller_sample x = gen_at(g, t, 0);
        double d;

        if (!(x.running > 0.5))
            continue;
        d = fabs(sb_chiller_expected_cop(ch, x.load_kw / m.cap_kw, x.oat, x.chw) -
                 true_cop(x.load_kw / CAP, x.oat, g->with_chw ? x.chw : 7.5));
        *worst = d > *worst ? d : *worst;
        ss += d * d;
        n++;
    }
    *rms = n ? sqrt(ss / n) : NAN;
}

TEST(learns_curve)
{
    static struct sb_chiller ch;
    struct sb_chiller_conf c;
    struct sb_chiller_model m;
    struct gen g = { .seed = 0xc0, .day = -1, .with_chw = 1 };
    int64_t at;
    double worst, rms;

    sb_chiller_conf_default(&c);
    c.cap_kw = CAP;
    REQUIRE(sb_chiller_init(&ch, &c) == 0);
    CHECK_EQ(sb_chiller_get_model(&ch, &m), SB_EAGAIN);
    CHECK(isnan(sb_chiller_expected_cop(&ch, 0.5, 20, 7)));
    at = learn_days(&ch, &g, 8);
    /* 3 days of running at 11.75 h/day: during day 6. */
    printf("# learnt at day %.2f\n", (double)at / DAY);
    CHECK(at > 6 * DAY && at < 7 * DAY);
    REQUIRE(sb_chiller_get_model(&ch, &m) == 0);
    printf("# b = %.3f %.3f %.3f %.4f %.4f (true 2.5 9 -6 -0.06 0.12), n %u, rmse %.3f, r sd %.4f\n", m.b[0],
           m.b[1], m.b[2], m.b[3], m.b[4], (unsigned)m.n, m.cop_rmse, m.r_sd);
    CHECK(m.use_plr && m.use_oat && m.use_chw);
    CHECK(m.n >= 120);
    CHECK_DBL(m.cap_kw, CAP, 0);
    /* Tolerances: 3 sd of each estimate, measured over 40 seeds of this
     * generator (sd 0.20, 0.51, 0.42, 0.0038, 0.015; no bias). */
    CHECK_DBL(m.b[0], TRUE_B[0], 0.6);
    CHECK_DBL(m.b[1], TRUE_B[1], 1.5);
    CHECK_DBL(m.b[2], TRUE_B[2], 1.25);
    CHECK_DBL(m.b[3], TRUE_B[3], 0.012);
    CHECK_DBL(m.b[4], TRUE_B[4], 0.045);
    CHECK_DBL(m.r_mean, 0, 0.01);
    CHECK_DBL(m.r_sd, 0.03, 0.008);          /* the noise we put in */
    /* The curve itself where the machine runs: over 40 seeds the RMS error
     * was at most 0.038 COP and the largest 0.13. */
    curve_error(&ch, &g, 8 * DAY, &rms, &worst);
    printf("# curve error: rms %.3f, worst %.3f COP\n", rms, worst);
    CHECK(rms < 0.05);
    CHECK(worst < 0.15);
    CHECK(isnan(sb_chiller_expected_cop(&ch, 0.5, 20, NAN)));   /* chw term needs chw */
}

/* Without chw, and with the capacity learnt (99th percentile of load). */
TEST(learns_cap_without_chw)
{
    static struct sb_chiller ch;
    struct sb_chiller_conf c;
    struct sb_chiller_model m;
    struct gen g = { .seed = 0xc1, .day = -1, .with_chw = 0 };
    double worst, rms, p99 = NAN;

    sb_chiller_conf_default(&c);
    REQUIRE(sb_chiller_init(&ch, &c) == 0);
    CHECK(learn_days_p99(&ch, &g, 8, &p99) > 0);
    REQUIRE(sb_chiller_get_model(&ch, &m) == 0);
    CHECK(m.use_plr && m.use_oat && !m.use_chw);
    CHECK_DBL(m.b[4], 0, 0);
    /* All ~290 learning samples fit the store unthinned: the capacity is
     * exactly their 99th percentile. */
    printf("# learnt cap %.1f kW (99th percentile of the learning loads %.1f)\n", m.cap_kw, p99);
    CHECK_DBL(m.cap_kw, p99, 1e-9);
    /* The same curve in terms of the true load; the unmetered chw (6-9 °C
     * by day) is noise now: over 40 seeds the RMS error was at most 0.12 and
     * the largest 0.24. */
    curve_error(&ch, &g, 8 * DAY, &rms, &worst);
    printf("# curve error without chw: rms %.3f, worst %.3f COP\n", rms, worst);
    CHECK(rms < 0.15);
    CHECK(worst < 0.3);
}

/* ---------------------------------------------------------- degradation */

struct deg_out {
    int64_t raised, cleared, false_alarm; /* times, -1: never */
    struct sb_chiller_finding f;          /* at the raise */
    struct sb_chiller_finding late;       /* at the last running sample of the first bad day */
    int have_late;                        /* late is valid */
};

/* Learns (8 days), then runs to day `end`; the COP loses `loss` between
 * day `from` 00:00 and day `to` 00:00. */
static void deg_run(double loss, int from, int to, int end, uint64_t seed, struct deg_out *o)
{
    static struct sb_chiller ch;
    struct sb_chiller_conf c;
    struct sb_chiller_result r;
    struct gen g = { .seed = seed, .day = -1, .with_chw = 1 };

    o->raised = o->cleared = o->false_alarm = -1;
    o->have_late = 0;
    sb_chiller_conf_default(&c);
    if (sb_chiller_init(&ch, &c) != 0)
        return;
    for (int64_t t = 0; t < (int64_t)end * DAY; t += STEP) {
        int bad = t >= (int64_t)from * DAY && t < (int64_t)to * DAY;
        struct sb_chiller_sample s = gen_at(&g, t, bad ? loss : 0);

        if (sb_chiller_step(&ch, &s, &r) != 0)
            return;
        if (r.raised & SB_CHILLER_BIT(SB_CHILLER_DEGRADED)) {
            if (!bad && o->false_alarm < 0)
                o->false_alarm = t;
            if (bad && o->raised < 0) {
                o->raised = t;
                sb_chiller_finding(&ch, SB_CHILLER_DEGRADED, &o->f);
            }
        }
        if (t == (int64_t)from * DAY + 18 * 3600 + 45 * 60)
            o->have_late = sb_chiller_finding(&ch, SB_CHILLER_DEGRADED, &o->late) == 0;
        if ((r.cleared & SB_CHILLER_BIT(SB_CHILLER_DEGRADED)) && o->cleared < 0 && t >= (int64_t)to * DAY)
            o->cleared = t;
        if (r.raised & SB_CHILLER_BIT(SB_CHILLER_SHORT_CYCLING))
            o->false_alarm = t;     /* one start a day is never short cycling */
    }
}

TEST(degraded_20_percent)
{
    struct deg_out o;
    char buf[600];

    /* This seed flapped (cleared and raised again) after the repair before
     * the CUSUM restarted on a clear. */
    deg_run(0.20, 12, 16, 18, 943338, &o);
    printf("# 20 %% loss from day 12: raised at %.2f h (running from 07:00), loss %.3f, extra %.1f kW at %.0f kW\n",
           (o.raised - 12 * DAY) / 3600.0, o.f.loss, o.f.extra_kw, o.f.load_kw);
    CHECK_EQ(o.false_alarm, -1);
    REQUIRE(o.raised > 0);
    /* z is winsorised at 3 (2.5 per sample): the 3rd bad sample, 07:30. */
    CHECK(o.raised < 13 * DAY);                     /* within the first day of running */
    CHECK(o.raised <= 12 * DAY + 7 * 3600 + 3 * STEP);
    CHECK(o.f.loss >= 0.08);
    /* By the end of the day the run mean has the loss. */
    REQUIRE(o.have_late);
    printf("# at 18:45: loss %.3f, extra %.1f kW at %.0f kW\n", o.late.loss, o.late.extra_kw, o.late.load_kw);
    CHECK_DBL(o.late.loss, 0.20, 0.03);
    CHECK_DBL(o.f.extra_kw, o.f.load_kw / (o.f.cop_expected * (1 - o.f.loss)) - o.f.load_kw / o.f.cop_expected,
              1e-9);
    CHECK(o.f.extra_kw > 0.15 * o.f.load_kw / o.f.cop_expected);
    CHECK(o.f.cop < o.f.cop_expected);
    CHECK(o.f.fired_at == o.raised);
    CHECK(sb_chiller_finding_format(&o.f, buf, sizeof buf) > 0);
    CHECK(strstr(buf, "COP degraded") && strstr(buf, "extra"));
    /* Repaired at day 16: clears during that day's running. */
    CHECK(o.cleared >= 16 * DAY && o.cleared < 17 * DAY);
}

TEST(healthy_30_days)
{
    struct deg_out o;

    /* Learning ends in day 6; days 6..38 healthy (loss window empty). */
    deg_run(0.20, 1000, 1000, 38, 0xfeedface, &o);
    CHECK_EQ(o.false_alarm, -1);
    CHECK_EQ(o.raised, -1);
    deg_run(0.20, 1000, 1000, 38, 0x12345, &o);
    CHECK_EQ(o.false_alarm, -1);
}

/* loss_min (8 %) is the edge: 4 % is caught by the CUSUM but not
 * reported; 12 % is. */
TEST(degraded_edge)
{
    struct deg_out o;

    deg_run(0.04, 10, 20, 20, 0xabc, &o);
    CHECK_EQ(o.raised, -1);
    CHECK_EQ(o.false_alarm, -1);
    deg_run(0.12, 10, 20, 20, 0xabc, &o);
    CHECK(o.raised > 10 * DAY && o.raised < 12 * DAY);
    CHECK(o.f.loss >= 0.08 && o.f.loss < 0.2);
}

/* -------------------------------------------------------- short cycling */

/* Samples each minute for `minutes`; running while some run covers it.
 * Returns the minute SHORT_CYCLING was raised (-1 never), the minute it
 * cleared in *cl. */
static int cycle_run(const int *start_min, const int *len_s, int n, int minutes, int *cl)
{
    static struct sb_chiller ch;
    struct sb_chiller_conf c;
    struct sb_chiller_result r;
    int raised = -1;

    *cl = -1;
    sb_chiller_conf_default(&c);
    if (sb_chiller_init(&ch, &c) != 0)
        return -2;
    for (int m = 0; m < minutes; m++) {
        struct sb_chiller_sample s;
        int64_t t = (int64_t)m * 60;

        sb_chiller_sample_init(&s);
        s.t = t;
        s.running = 0;
        for (int i = 0; i < n; i++)
            if (t >= start_min[i] * 60 && t < start_min[i] * 60 + len_s[i])
                s.running = 1;
        sb_chiller_step(&ch, &s, &r);
        if ((r.raised & SB_CHILLER_BIT(SB_CHILLER_SHORT_CYCLING)) && raised < 0)
            raised = m;
        if (r.cleared & SB_CHILLER_BIT(SB_CHILLER_SHORT_CYCLING))
            *cl = m;
    }
    return raised;
}

TEST(short_cycling)
{
    /* Runs of 6 min (not short). */
    static const int len6[8] = { 360, 360, 360, 360, 360, 360, 360, 360 };
    static const int every15[5] = { 10, 25, 40, 55, 70 };   /* 5 starts, first and last 60 min apart */
    static const int every12[5] = { 10, 22, 34, 46, 58 };   /* 5 starts in 48 min */
    /* Runs of 4 min (short) every 30 min: 2 starts/h, short runs pile up. */
    static const int len4[5] = { 240, 240, 240, 240, 240 }, len5[5] = { 300, 300, 300, 300, 300 };
    static const int every30[5] = { 10, 40, 70, 100, 130 };
    int cl;

    /* Starts: 4 in a rolling hour allowed, the 5th within the hour fires. */
    CHECK_EQ(cycle_run(every15, len6, 5, 240, &cl), -1);
    CHECK_EQ(cycle_run(every12, len6, 5, 240, &cl), 58);
    /* Clears when the first start (minute 10) leaves the hour: minute 70. */
    CHECK_EQ(cl, 70);
    /* Short runs: the 4th ending within 2 h fires (at its stop, minute
     * 104); 3 do not; runs of exactly min_run_s are not short. */
    CHECK_EQ(cycle_run(every30, len4, 3, 300, &cl), -1);
    CHECK_EQ(cycle_run(every30, len4, 4, 300, &cl), 104);
    CHECK_EQ(cl, 14 + 120);                 /* first short run (ended minute 14) leaves the 2 h */
    CHECK_EQ(cycle_run(every30, len5, 5, 300, &cl), -1);
}

TEST(unknown_running)
{
    static struct sb_chiller ch;
    struct sb_chiller_conf c;
    struct sb_chiller_result r;
    struct sb_chiller_sample s;

    sb_chiller_conf_default(&c);
    REQUIRE(sb_chiller_init(&ch, &c) == 0);
    sb_chiller_sample_init(&s);
    for (int m = 0; m < 120; m++) {
        s.t = m * 60;
        s.running = m % 2 ? NAN : (m / 2) % 2;  /* unknown every other minute */
        CHECK_EQ(sb_chiller_step(&ch, &s, &r), 0);
        if (isnan(s.running))
            CHECK_EQ(r.evaluated, 0);
    }
    /* On/off every 2 minutes with unknowns between: starts still counted. */
    CHECK(ch.st_n >= 20);
    CHECK(r.active & SB_CHILLER_BIT(SB_CHILLER_SHORT_CYCLING));
}

/* ------------------------------------------------------------ conf, time */

TEST(conf_and_time)
{
    static struct sb_chiller ch, copy;
    struct sb_chiller_conf c;
    struct sb_chiller_sample s;
    char err[160];
    size_t n;
    const struct sb_fdd_param *p = sb_chiller_conf_params(&n);

    sb_chiller_conf_default(&c);
    CHECK_EQ(sb_chiller_conf_check(&c, err, sizeof err), 0);
    REQUIRE(n >= 10);
    for (size_t i = 0; i < n; i++) {
        double v = sb_fdd_param_get(&p[i], &c);

        if (!isnan(v) && !(v >= p[i].lo && v <= p[i].hi))
            TAP_FAIL("default %s = %g outside %g..%g", p[i].name, v, p[i].lo, p[i].hi);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(p[i].name, p[j].name) != 0);
    }
    CHECK_EQ(sb_chiller_conf_set(&c, "starts_max", 6, err, sizeof err), 0);
    CHECK_EQ(c.starts_max, 6);
    CHECK_EQ(sb_chiller_conf_set(&c, "loss_min", 0.95, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "loss_min") != NULL);
    CHECK_EQ(sb_chiller_conf_set(&c, "min_run_s", 299.5, err, sizeof err), SB_ERANGE);
    CHECK_EQ(sb_chiller_conf_set(&c, "cop", 3, err, sizeof err), SB_ENOENT);
    CHECK_EQ(sb_chiller_conf_set(&c, "cap_kw", 800, err, sizeof err), 0);
    CHECK_EQ(sb_chiller_conf_set(&c, "cap_kw", NAN, err, sizeof err), 0);
    CHECK(isnan(c.cap_kw));
    CHECK_EQ(sb_chiller_conf_set(&c, "plr_min", NAN, err, sizeof err), SB_ERANGE);
    c.cop_lo = 6;
    c.cop_hi = 5;
    CHECK_EQ(sb_chiller_conf_check(&c, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "cop_lo") != NULL);
    CHECK_EQ(sb_chiller_init(&ch, &c), SB_EINVAL);
    CHECK(sb_chiller_check_info(SB_CHILLER_DEGRADED) != NULL);
    CHECK(sb_chiller_check_info(2) == NULL);

    sb_chiller_conf_default(&c);
    REQUIRE(sb_chiller_init(&ch, &c) == 0);
    sb_chiller_sample_init(&s);
    s.t = 1000;
    s.running = 1;
    s.load_kw = 300;
    s.kw = 70;
    CHECK_EQ(sb_chiller_step(&ch, &s, NULL), 0);
    copy = ch;
    CHECK_EQ(sb_chiller_step(&ch, &s, NULL), SB_EINVAL);
    s.t = 999;
    CHECK_EQ(sb_chiller_step(&ch, &s, NULL), SB_EINVAL);
    s.t = INT64_C(1) << 53;
    CHECK_EQ(sb_chiller_step(&ch, &s, NULL), SB_ERANGE);
    CHECK(memcmp(&ch, &copy, sizeof ch) == 0);
    struct sb_chiller_finding f;
    CHECK_EQ(sb_chiller_finding(&ch, SB_CHILLER_DEGRADED, &f), SB_ENOENT);
    CHECK_EQ(sb_chiller_finding(&ch, -1, &f), SB_EINVAL);
}

int main(void)
{
    TAP_START();
    RUN(learns_curve);
    RUN(learns_cap_without_chw);
    RUN(degraded_20_percent);
    RUN(healthy_30_days);
    RUN(degraded_edge);
    RUN(short_cycling);
    RUN(unknown_running);
    RUN(conf_and_time);
    TAP_END();
}

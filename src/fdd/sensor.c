/*
 * sensor.c - point-level fault detection: sensors (FLATLINE, RANGE, SPIKE,
 * GAP, DRIFT) and energy meters (GAP, STOPPED, BACKWARDS, MISMATCH).
 *
 * Everything is pure: state lives in the caller's struct.  Each check is an
 * evaluation of one condition on one call; sb_fdd__judge() turns the
 * evaluations into fired / raised / cleared with the latched semantics of
 * the AHU rules (apar.c).  docs/internals/fdd-sensors-plant.md explains the
 * thresholds.
 */
#include "fdd/sensor.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define HOUR_S 3600
#define MAD_SIGMA 1.4826   /* sigma = 1.4826 MAD for normal data (Hampel 1974) */

/* ------------------------------------------------------------ shared bits */

void sb_fdd__judge(struct sb_fdd_chk *c, int id, int cond, int64_t t, int64_t since, int64_t delay,
                   uint32_t acc[4])
{
    uint32_t bit = 1u << id;

    acc[0] |= bit;
    if (!cond) {
        if (c->active)
            acc[3] |= bit;
        c->active = 0;
        c->cond = 0;
        return;
    }
    if (!c->cond || since != INT64_MIN)
        c->since = since != INT64_MIN ? since : t;
    c->cond = 1;
    if (t - c->since < delay)
        return;
    acc[1] |= bit;
    if (!c->active) {
        c->active = 1;
        c->fired_at = t;
        acc[2] |= bit;
    }
}


/* Whether v is allowed for entry i of the table. */
static int param_ok(const struct sb_fdd_param *p, size_t i, uint32_t nan_ok, double v)
{
    if (isnan(v))
        return i < 32 && (nan_ok & (1u << i)) && !p->is_int;
    if (!isfinite(v) || v < p->lo || v > p->hi)
        return 0;
    return !p->is_int || v == floor(v);
}

int sb_fdd__param_set(void *conf, const struct sb_fdd_param *tab, size_t n, uint32_t nan_ok, const char *name,
                      double value, char *err, size_t errlen)
{
    /* NAN ("none", "learn it") is legal for a few doubles only; the shared
     * setter rejects every non-finite value, so it is handled here. */
    for (size_t i = 0; isnan(value) && name && i < n; i++)
        if (strcmp(tab[i].name, name) == 0 && param_ok(&tab[i], i, nan_ok, value)) {
            memcpy((char *)conf + tab[i].off, &value, sizeof value);
            return 0;
        }
    return sb_fdd_param_set(tab, n, conf, name ? name : "", value, err, errlen);
}

int sb_fdd__param_check(const void *conf, const struct sb_fdd_param *tab, size_t n, uint32_t nan_ok,
                        const char *what, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_fdd_param *p = &tab[i];
        double v = sb_fdd_param_get(p, conf);

        if (!param_ok(p, i, nan_ok, v)) {
            sb_errf(err, errlen, "%s: %s = %g, allowed %g..%g%s", what, p->name, v, p->lo, p->hi,
                    p->is_int ? " (whole number)" : "");
            return SB_EINVAL;
        }
    }
    return 0;
}

/* Time rule shared by both detectors: readings strictly increasing, and no
 * call before the latest tick. */
static int time_ok(int64_t t, int have_first, int64_t t_tick, int have_last, int64_t t_last, int reading)
{
    if (t > SB_SENSOR_T_MAX || t < -SB_SENSOR_T_MAX)
        return SB_ERANGE;
    if (have_first && t < t_tick)
        return SB_EINVAL;
    if (reading && have_last && t <= t_last)
        return SB_EINVAL;
    return 0;
}

/* ------------------------------------------------------------ check text */

static const struct sb_fdd_check_info sensor_info[SB_SENSOR_NCHECKS] = {
    { SB_SENSOR_FLATLINE, "flatline",
      "the reading has not moved by more than flat_eps for longer than flat_window_s while it should vary",
      "sensor stuck or disconnected, or the value is frozen upstream (controller, gateway, driver)",
      "compare with a hand-held reading; check the sensor wiring and whether the controller still updates the point" },
    { SB_SENSOR_RANGE, "out of range", "the reading is outside the physical limits for this kind of point",
      "sensor failed (open or short circuit), wrong scaling or unit, or wrong point mapping",
      "check the raw value and its unit and scaling in the driver; check the sensor and its wiring" },
    { SB_SENSOR_SPIKE, "spikes",
      "more than spike_max single readings per hour jump away from the recent median and come straight back",
      "electrical noise, loose connection, failing sensor or transmitter",
      "check terminations, shielding and grounding of the sensor cable; replace the sensor if it persists" },
    { SB_SENSOR_GAP, "no data", "no reading for longer than gap_s",
      "device offline, network or driver failure, point removed or renamed",
      "check the device is powered and reachable and the driver's log for errors on this point" },
    { SB_SENSOR_DRIFT, "drift",
      "the difference to the reference has moved away from the level learnt at commissioning (CUSUM)",
      "sensor drift or offset (calibration), or the reference sensor drifted",
      "check both sensors against a calibrated instrument and recalibrate or replace the one that is off" },
};

static const struct sb_fdd_check_info meter_info[SB_METER_NCHECKS] = {
    { SB_METER_GAP, "no data", "no counter reading for longer than gap_s",
      "meter or gateway offline, bus or network failure, driver error",
      "check the meter's communication (bus wiring, address, gateway) and the driver's log" },
    { SB_METER_STOPPED, "counter stopped",
      "the energy counter did not advance while the power shows use (or, without power, for a long time)",
      "counter register frozen, meter fault, wrong register mapped, or the metered supply is off",
      "read the meter's display; check the register address and that the counter is the import energy" },
    { SB_METER_BACKWARDS, "counter backwards", "the energy counter decreased, and not by rolling over",
      "meter replaced or reset, wrong register (e.g. export or a partial counter), or corrupted reading",
      "check for a meter exchange or reset and record the new start value; check the register mapping" },
    { SB_METER_MISMATCH, "energy/power mismatch",
      "the counter's energy over the window differs from the integral of the power reading by more than mismatch_frac",
      "wrong scaling or CT ratio on one of the two points, missing phase, or the two points are different meters",
      "compare both points with the meter's display; check CT ratios, scaling factors and phase wiring" },
};

const struct sb_fdd_check_info *sb_sensor_check_info(int check)
{
    return check >= 0 && check < SB_SENSOR_NCHECKS ? &sensor_info[check] : NULL;
}

const struct sb_fdd_check_info *sb_meterchk_check_info(int check)
{
    return check >= 0 && check < SB_METER_NCHECKS ? &meter_info[check] : NULL;
}

/* ---------------------------------------------------------- sensor conf */

#define SP(n, u, d, lo, hi, f, i) { n, u, d, lo, hi, offsetof(struct sb_sensor_conf, f), i }
static const struct sb_fdd_param sensor_params[] = {
    SP("lo", "(point)", "lower physical limit (NAN: none)", -1e9, 1e9, lo, 0),
    SP("hi", "(point)", "upper physical limit (NAN: none)", -1e9, 1e9, hi, 0),
    SP("allow_negative", "1", "1: the lower limit is not checked (export, bidirectional)", 0, 1, allow_negative, 1),
    SP("range_delay_s", "s", "out of range this long before RANGE fires", 0, 604800, range_delay_s, 1),
    SP("flat_eps", "(point)", "largest max-min that still counts as flat", 0, 1e6, flat_eps, 0),
    SP("flat_window_s", "s", "flat for longer than this fires FLATLINE (0: off)", 0, 2592000, flat_window_s, 1),
    SP("expect_change", "1", "1: the point should vary, 0: never judged flat", 0, 1, expect_change, 1),
    SP("spike_n", "1", "readings in the spike median window (0: off, else 5..32)", 0, SB_SENSOR_WIN_MAX, spike_n, 1),
    SP("spike_k", "sd", "a spike departs by more than this many robust sigmas", 2, 50, spike_k, 0),
    SP("spike_sd_min", "(point)", "floor of the robust sigma (sensor resolution)", 0, 1e6, spike_sd_min, 0),
    SP("spike_max", "1/h", "more spikes than this in a rolling hour fires SPIKE", 0, SB_SENSOR_SPIKES_MAX - 4,
       spike_max, 1),
    SP("gap_s", "s", "no reading for longer than this fires GAP (0: off)", 0, 2592000, gap_s, 1),
    SP("learn_s", "s", "DRIFT learns the x-ref baseline over this time (0: off)", 0, 31536000, learn_s, 1),
    SP("learn_min", "1", "DRIFT needs at least this many values (blocks, or pairs) to learn", 2, 10000000,
       learn_min, 1),
    SP("drift_block_s", "s", "DRIFT works on means of x-ref over blocks this long (0: each pair)", 0, 86400,
       drift_block_s, 1),
    SP("drift_sd_min", "(point)", "floor of the sd of x-ref (smallest offset of interest)", 1e-9, 1e6,
       drift_sd_min, 0),
    SP("drift_k", "sd", "DRIFT CUSUM reference value", 0, 5, drift_k, 0),
    SP("drift_h", "sd", "DRIFT CUSUM decision interval", 0.5, 100, drift_h, 0),
    SP("drift_clip", "sd", "DRIFT: z is winsorised to +-this (one wild value cannot fire)", 1, 1000, drift_clip, 0),
};
#define N_SENSOR_PARAMS (sizeof sensor_params / sizeof sensor_params[0])
#define SENSOR_NAN_OK 3u   /* lo, hi */

const struct sb_fdd_param *sb_sensor_conf_params(size_t *n)
{
    if (n)
        *n = N_SENSOR_PARAMS;
    return sensor_params;
}

void sb_sensor_conf_default(struct sb_sensor_conf *c)
{
    memset(c, 0, sizeof *c);
    c->lo = c->hi = NAN;
    c->allow_negative = 0;
    c->range_delay_s = 0;
    c->flat_eps = 0;
    c->flat_window_s = 12 * HOUR_S;
    c->expect_change = 1;
    c->spike_n = 15;
    c->spike_k = 5;
    c->spike_sd_min = 1e-3;
    c->spike_max = 3;
    c->gap_s = HOUR_S;
    c->learn_s = 48 * HOUR_S;
    c->learn_min = 24;
    c->drift_block_s = HOUR_S;
    c->drift_sd_min = 1e-3;
    c->drift_k = 0.5;
    c->drift_h = 5;
    c->drift_clip = 3;
}

/* Per-kind values: limits and the resolutions below which changes are
 * noise.  Reasons in docs/internals/fdd-sensors-plant.md. */
struct kind_def {
    const char *name;
    double lo, hi;            /* physical limits */
    double flat_eps;          /* flat tolerance */
    int flat_window_s;        /* flat window */
    int expect_change;        /* normally varies */
    double spike_sd_min;      /* resolution */
    double drift_sd_min;      /* smallest offset of interest */
};

static const struct kind_def kinds[] = {
    { "temperature", -40, 80, 0.05, 12 * HOUR_S, 1, 0.1, 0.2 },
    { "humidity", 0, 100, 0.2, 12 * HOUR_S, 1, 0.5, 1.5 },
    { "co2", 250, 5000, 1, 12 * HOUR_S, 1, 10, 25 },
    { "pressure", -500, 3000, 0.5, 12 * HOUR_S, 1, 2, 5 },
    { "power", 0, NAN, 0, 24 * HOUR_S, 1, 0.01, 0.05 },
    { "flow", 0, NAN, 0, 12 * HOUR_S, 1, 1e-3, 5e-3 },
    { "position", 0, 100, 0, 24 * HOUR_S, 0, 0.5, 2 },
};

int sb_sensor_conf_for_kind(struct sb_sensor_conf *c, const char *kind)
{
    sb_sensor_conf_default(c);
    for (size_t i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++) {
        const struct kind_def *k = &kinds[i];

        if (strcmp(k->name, kind) != 0)
            continue;
        c->lo = k->lo;
        c->hi = k->hi;
        c->flat_eps = k->flat_eps;
        c->flat_window_s = k->flat_window_s;
        c->expect_change = k->expect_change;
        c->spike_sd_min = k->spike_sd_min;
        c->drift_sd_min = k->drift_sd_min;
        return 0;
    }
    return SB_ENOENT;
}

int sb_sensor_conf_check(const struct sb_sensor_conf *c, char *err, size_t errlen)
{
    int rc = sb_fdd__param_check(c, sensor_params, N_SENSOR_PARAMS, SENSOR_NAN_OK, "sensor", err, errlen);

    if (rc)
        return rc;
    if (isfinite(c->lo) && isfinite(c->hi) && !(c->lo < c->hi)) {
        sb_errf(err, errlen, "sensor: lo = %g must be below hi = %g", c->lo, c->hi);
        return SB_EINVAL;
    }
    if (!(c->drift_clip > c->drift_k)) {
        sb_errf(err, errlen, "sensor: drift_clip = %g must exceed drift_k = %g", c->drift_clip, c->drift_k);
        return SB_EINVAL;
    }
    if (c->spike_n > 0 && c->spike_n < 5) {
        sb_errf(err, errlen, "sensor: spike_n = %d, allowed 0 (off) or 5..%d", c->spike_n, SB_SENSOR_WIN_MAX);
        return SB_EINVAL;
    }
    return 0;
}

int sb_sensor_conf_set(struct sb_sensor_conf *c, const char *name, double value, char *err, size_t errlen)
{
    return sb_fdd__param_set(c, sensor_params, N_SENSOR_PARAMS, SENSOR_NAN_OK, name, value, err, errlen);
}

/* --------------------------------------------------------- sensor state */

int sb_sensor_init(struct sb_sensor *s, const struct sb_sensor_conf *conf)
{
    if (sb_sensor_conf_check(conf, NULL, 0) != 0)
        return SB_EINVAL;
    memset(s, 0, sizeof *s);
    s->conf = *conf;
    sb_sensor_reset(s);
    return 0;
}

void sb_sensor_reset(struct sb_sensor *s)
{
    struct sb_sensor_conf c = s->conf;

    memset(s, 0, sizeof *s);
    s->conf = c;
    s->x_last = NAN;
    s->last_ref = NAN;
    s->last_spike_x = s->last_spike_med = s->last_spike_sig = NAN;
    s->ev_limit = s->ev_offset = s->ev_cusum = NAN;
    /* Cannot fail: conf_check bounded learn_min, drift_sd_min, k and h. */
    (void)sb_baseline_init(&s->base, (uint32_t)c.learn_min, c.drift_sd_min);
    (void)sb_cusum_init(&s->cusum, c.drift_k, c.drift_h);
    /* A bounded CUSUM, so that a repaired sensor clears within about h/k
     * samples instead of after the whole excess has drained. */
    s->cusum.cap = 2 * c.drift_h;
    s->cusum.clip = c.drift_clip;
}

int sb_sensor_drift_ready(const struct sb_sensor *s)
{
    return sb_baseline_ready(&s->base);
}

/* FLATLINE (see sensor.h): the run of readings within flat_eps that ends
 * with this one.  When a reading breaks the run, the new run starts at the
 * previous reading if the two are within flat_eps, else at this one: the
 * run never claims more flatness than the data show. */
static void flat_step(struct sb_sensor *s, int64_t t, double x, int expect, uint32_t acc[4])
{
    const struct sb_sensor_conf *c = &s->conf;
    int64_t dt, counted;
    int broke = 0;

    if (c->flat_window_s <= 0)
        return;
    if (!s->have_last) {
        s->flat_t0 = t;
        s->flat_min = s->flat_max = x;
        s->flat_s = 0;
        return;
    }
    dt = t - s->t_last;
    /* Time during a gap is not evidence of flatness: nobody read the sensor. */
    counted = expect && (c->gap_s <= 0 || dt <= c->gap_s) ? dt : 0;
    if (fmax(s->flat_max, x) - fmin(s->flat_min, x) <= c->flat_eps) {
        s->flat_min = fmin(s->flat_min, x);
        s->flat_max = fmax(s->flat_max, x);
        s->flat_s += counted;
    } else if (fabs(x - s->x_last) <= c->flat_eps) {
        broke = 1;
        s->flat_t0 = s->t_last;
        s->flat_min = fmin(x, s->x_last);
        s->flat_max = fmax(x, s->x_last);
        s->flat_s = counted;
    } else {
        broke = 1;
        s->flat_t0 = t;
        s->flat_min = s->flat_max = x;
        s->flat_s = 0;
    }
    /* Not expected to vary: only a move (which proves the sensor alive)
     * is an evaluation. */
    if (!expect && !broke)
        return;
    sb_fdd__judge(&s->chk[SB_SENSOR_FLATLINE], SB_SENSOR_FLATLINE, expect && s->flat_s > c->flat_window_s, t,
                  s->flat_t0, 0, acc);
}

static void range_step(struct sb_sensor *s, int64_t t, double x, uint32_t acc[4])
{
    const struct sb_sensor_conf *c = &s->conf;
    int check_lo = isfinite(c->lo) && !c->allow_negative;
    int below = check_lo && x < c->lo, above = isfinite(c->hi) && x > c->hi;

    if (!check_lo && !isfinite(c->hi))
        return;
    if (below || above)
        s->ev_limit = below ? c->lo : c->hi;
    sb_fdd__judge(&s->chk[SB_SENSOR_RANGE], SB_SENSOR_RANGE, below || above, t, INT64_MIN, c->range_delay_s, acc);
}

static void sort_small(double *v, int n)
{
    for (int i = 1; i < n; i++) {
        double x = v[i];
        int j = i - 1;

        for (; j >= 0 && v[j] > x; j--)
            v[j + 1] = v[j];
        v[j + 1] = x;
    }
}

static double median_sorted(const double *v, int n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Median and robust sigma (1.4826 MAD, floored) of the window. */
static void win_stats(const struct sb_sensor *s, double *med, double *sig)
{
    double v[SB_SENSOR_WIN_MAX], d[SB_SENSOR_WIN_MAX];
    int n = s->win_n;

    memcpy(v, s->win, sizeof(double) * (size_t)n);
    sort_small(v, n);
    *med = median_sorted(v, n);
    for (int i = 0; i < n; i++)
        d[i] = fabs(v[i] - *med);
    sort_small(d, n);
    *sig = fmax(MAD_SIGMA * median_sorted(d, n), s->conf.spike_sd_min);
}

static void win_push(struct sb_sensor *s, double x)
{
    int cap = s->conf.spike_n;

    s->win[s->win_head] = x;
    s->win_head = (s->win_head + 1) % cap;
    if (s->win_n < cap)
        s->win_n++;
}

static int spikes_in_hour(const struct sb_sensor *s, int64_t t)
{
    int n = 0;

    for (int i = 0; i < s->sp_n; i++)
        if (s->spikes[i] > t - HOUR_S)
            n++;
    return n;
}

static void spike_confirm(struct sb_sensor *s)
{
    s->spikes[s->sp_head] = s->pend_t;
    s->sp_head = (s->sp_head + 1) % SB_SENSOR_SPIKES_MAX;
    if (s->sp_n < SB_SENSOR_SPIKES_MAX)
        s->sp_n++;
    s->last_spike_x = s->pend_x;
    s->last_spike_med = s->pend_med;
    s->last_spike_sig = s->pend_sig;
}

/* SPIKE: a reading that leaves the window's median by more than spike_k
 * robust sigmas is held back; if the next reading returns within the band
 * it was a spike, otherwise the level moved (both join the window).  This
 * is a Hampel identifier (Hampel 1974; Pearson 2002) with a one-sample
 * confirmation.  Only an isolated departure is a candidate: none of the
 * last spike_n readings left the band (a spike included), so a sensor
 * counts at most one spike per spike_n readings.  A control
 * loop oscillating from sample to sample is not a sensor throwing spikes
 * (the loop's own checks, APAR rule 28 and the VAV hunting rule, judge it). */
static void spike_step(struct sb_sensor *s, int64_t t, double x, uint32_t acc[4])
{
    const struct sb_sensor_conf *c = &s->conf;
    double med, sig;
    int n;

    if (c->spike_n <= 0)
        return;
    if (s->pend) {
        s->pend = 0;
        if (fabs(x - s->pend_med) <= c->spike_k * s->pend_sig)
            spike_confirm(s);
        else
            win_push(s, s->pend_x);
    }
    if (s->win_n < c->spike_n) {
        win_push(s, x);
        s->outs <<= 1;
        if (s->win_n < c->spike_n)
            return;
    } else {
        win_stats(s, &med, &sig);
        int out = fabs(x - med) > c->spike_k * sig;
        uint32_t recent = s->outs & (c->spike_n >= 32 ? UINT32_MAX : (UINT32_C(1) << c->spike_n) - 1);
        if (out && recent == 0) {
            s->pend = 1;
            s->pend_x = x;
            s->pend_med = med;
            s->pend_sig = sig;
            s->pend_t = t;
        } else {
            win_push(s, x);
        }
        s->outs = (s->outs << 1) | (uint32_t)out;
    }
    n = spikes_in_hour(s, t);
    if (n > c->spike_max)
        s->ev_spikes = n;
    sb_fdd__judge(&s->chk[SB_SENSOR_SPIKE], SB_SENSOR_SPIKE, n > c->spike_max, t, INT64_MIN, 0, acc);
}

/* DRIFT on one value v of x - ref (a block mean, or one pair) at time t:
 * learnt for learn_s (and learn_min values), then a CUSUM on its
 * standardised value. */
static void drift_value(struct sb_sensor *s, int64_t t, double v, uint32_t acc[4])
{
    int side;

    if (!sb_baseline_ready(&s->base)) {
        if (t - s->learn_t0 < s->conf.learn_s || sb_baseline_freeze(&s->base) != 0) {
            (void)sb_baseline_add(&s->base, v);
            return;
        }
    }
    side = sb_cusum_step(&s->cusum, sb_baseline_z(&s->base, v));
    if (side) {
        s->ev_offset = sb_cusum_shift(&s->cusum, side) * sb_baseline_scale(&s->base);
        s->ev_cusum = side > 0 ? s->cusum.sp : s->cusum.sn;
        s->ev_run_n = side > 0 ? s->cusum.np : s->cusum.nn;
    }
    /* Restart after a clear (Montgomery §9.1.2: after the cause is
     * removed), so noise around h cannot raise it again at once. */
    if (!side && s->chk[SB_SENSOR_DRIFT].active)
        sb_cusum_reset(&s->cusum);
    sb_fdd__judge(&s->chk[SB_SENSOR_DRIFT], SB_SENSOR_DRIFT, side != 0, t, INT64_MIN, 0, acc);
}

/* DRIFT: pairs are averaged over drift_block_s blocks (aligned to the
 * first pair) before the CUSUM.  At one reading a minute the textbook
 * ARL0 of 465 values would be a false alarm every 8 hours, and slow
 * wander of the difference would look like a shift; block means learn
 * that wander into their sd (docs/internals/fdd-sensors-plant.md). */
static void drift_step(struct sb_sensor *s, int64_t t, double d, uint32_t acc[4])
{
    int64_t blk = s->conf.drift_block_s;

    if (s->conf.learn_s <= 0)
        return;
    if (!s->have_learn) {
        s->have_learn = 1;
        s->learn_t0 = s->blk_t0 = t;
    }
    if (blk <= 0) {
        drift_value(s, t, d, acc);
        return;
    }
    if (t - s->blk_t0 >= blk) {
        if (s->blk_n > 0)
            drift_value(s, t, s->blk_sum / s->blk_n, acc);
        s->blk_t0 += (t - s->blk_t0) / blk * blk;
        s->blk_sum = 0;
        s->blk_n = 0;
    }
    s->blk_sum += d;
    s->blk_n++;
}

static uint32_t sensor_active(const struct sb_sensor *s)
{
    uint32_t m = 0;

    for (int i = 0; i < SB_SENSOR_NCHECKS; i++)
        if (s->chk[i].active)
            m |= SB_SENSOR_BIT(i);
    return m;
}

static void sensor_out(const struct sb_sensor *s, const uint32_t acc[4], struct sb_sensor_result *res)
{
    if (!res)
        return;
    res->evaluated = acc[0];
    res->fired = acc[1];
    res->raised = acc[2];
    res->cleared = acc[3];
    res->active = sensor_active(s);
}

static void gap_eval(struct sb_sensor *s, int64_t now, uint32_t acc[4])
{
    int64_t ref = s->have_last ? s->t_last : s->t_first;
    int cond;

    if (s->conf.gap_s <= 0)
        return;
    cond = now - ref > s->conf.gap_s;
    if (cond)
        s->ev_gap_s = now - ref;
    sb_fdd__judge(&s->chk[SB_SENSOR_GAP], SB_SENSOR_GAP, cond, now, ref, 0, acc);
}

int sb_sensor_tick(struct sb_sensor *s, int64_t now, struct sb_sensor_result *res)
{
    uint32_t acc[4] = { 0 };
    int rc = time_ok(now, s->have_first, s->t_tick, s->have_last, s->t_last, 0);

    if (rc)
        return rc;
    if (!s->have_first) {
        s->have_first = 1;
        s->t_first = now;
    }
    s->t_tick = now;
    gap_eval(s, now, acc);
    sensor_out(s, acc, res);
    return 0;
}

int sb_sensor_step_ex(struct sb_sensor *s, const struct sb_sensor_sample *in, struct sb_sensor_result *res)
{
    uint32_t acc[4] = { 0 };
    int64_t t = in->t;
    double x = in->x;
    int expect = in->expect_change < 0 ? s->conf.expect_change : in->expect_change != 0;
    int rc;

    if (!isfinite(x))
        return sb_sensor_tick(s, t, res);
    if ((rc = time_ok(t, s->have_first, s->t_tick, s->have_last, s->t_last, 1)) != 0)
        return rc;
    if (!s->have_first) {
        s->have_first = 1;
        s->t_first = t;
    }
    /* A gap makes the spike window stale: start it again. */
    if (s->have_last && s->conf.gap_s > 0 && t - s->t_last > s->conf.gap_s)
        s->win_n = s->win_head = s->pend = 0;
    if (s->conf.gap_s > 0)
        sb_fdd__judge(&s->chk[SB_SENSOR_GAP], SB_SENSOR_GAP, 0, t, INT64_MIN, 0, acc);
    range_step(s, t, x, acc);
    flat_step(s, t, x, expect, acc);
    spike_step(s, t, x, acc);
    if (isfinite(in->ref) && isfinite(x - in->ref)) {
        s->last_ref = in->ref;
        drift_step(s, t, x - in->ref, acc);
    }
    s->have_last = 1;
    s->t_last = s->t_tick = t;
    s->x_last = x;
    sensor_out(s, acc, res);
    return 0;
}

int sb_sensor_step(struct sb_sensor *s, int64_t t, double x, struct sb_sensor_result *res)
{
    struct sb_sensor_sample in = { .t = t, .x = x, .ref = NAN, .expect_change = -1 };

    return sb_sensor_step_ex(s, &in, res);
}

int sb_sensor_step_ref(struct sb_sensor *s, int64_t t, double x, double ref, struct sb_sensor_result *res)
{
    struct sb_sensor_sample in = { .t = t, .x = x, .ref = ref, .expect_change = -1 };

    return sb_sensor_step_ex(s, &in, res);
}

int sb_sensor_finding(const struct sb_sensor *s, int check, struct sb_sensor_finding *f)
{
    if (check < 0 || check >= SB_SENSOR_NCHECKS)
        return SB_EINVAL;
    if (!s->chk[check].active)
        return SB_ENOENT;
    memset(f, 0, sizeof *f);
    f->check = check;
    f->info = &sensor_info[check];
    f->since = s->chk[check].since;
    f->fired_at = s->chk[check].fired_at;
    f->value = s->x_last;
    f->flat_min = s->flat_min;
    f->flat_max = s->flat_max;
    f->flat_s = s->flat_s;
    f->limit = s->ev_limit;
    f->spikes = s->ev_spikes;
    f->spike_x = s->last_spike_x;
    f->spike_median = s->last_spike_med;
    f->spike_sigma = s->last_spike_sig;
    f->last_t = s->have_last ? s->t_last : s->t_first;
    f->gap_s = s->ev_gap_s;
    f->offset = s->ev_offset;
    f->base_mean = sb_baseline_mean(&s->base);
    f->base_sd = sb_baseline_sd(&s->base);
    f->cusum = s->ev_cusum;
    f->run_n = s->ev_run_n;
    f->ref = s->last_ref;
    return 0;
}

int sb_sensor_finding_format(const struct sb_sensor_finding *f, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    sb_fdd_put(buf, len, &off, "sensor %s: %s", f->info->name, f->info->meaning);
    switch (f->check) {
    case SB_SENSOR_FLATLINE:
        sb_fdd_put(buf, len, &off, " [%.4g..%.4g for %" PRId64 " s]", f->flat_min, f->flat_max, f->flat_s);
        break;
    case SB_SENSOR_RANGE:
        sb_fdd_put(buf, len, &off, " [reading %.4g, limit %.4g]", f->value, f->limit);
        break;
    case SB_SENSOR_SPIKE:
        sb_fdd_put(buf, len, &off, " [%d in the last hour; latest %.4g vs median %.4g, sigma %.3g]", f->spikes,
                    f->spike_x, f->spike_median, f->spike_sigma);
        break;
    case SB_SENSOR_GAP:
        sb_fdd_put(buf, len, &off, " [no reading for %" PRId64 " s since t=%" PRId64 "]", f->gap_s, f->last_t);
        break;
    default:
        sb_fdd_put(buf, len, &off, " [offset %+.3g (baseline %.3g, sd %.3g), CUSUM %.1f over %u samples]",
                    f->offset, f->base_mean, f->base_sd, f->cusum, (unsigned)f->run_n);
        break;
    }
    sb_fdd_put(buf, len, &off, "; since t=%" PRId64 ", fired t=%" PRId64 "; fault: %s; action: %s", f->since,
                f->fired_at, f->info->fault, f->info->action);
    return off;
}

/* ------------------------------------------------------------ meter conf */

#define MP(n, u, d, lo, hi, f, i) { n, u, d, lo, hi, offsetof(struct sb_meterchk_conf, f), i }
static const struct sb_fdd_param meter_params[] = {
    MP("gap_s", "s", "no counter reading for longer than this fires GAP (0: off)", 0, 2592000, gap_s, 1),
    MP("stop_s", "s", "counter unchanged this long while power shows use fires STOPPED (0: off)", 0, 604800,
       stop_s, 1),
    MP("power_on", "kW", "power above this shows the load is using energy", 0, 1e6, power_on, 0),
    MP("res_kwh", "kWh", "counter resolution (STOPPED waits for 2 x this from power)", 0, 1e6, res_kwh, 0),
    MP("stop_long_s", "s", "without power: counter unchanged longer than this fires STOPPED (0: off)", 0,
       31536000, stop_long_s, 1),
    MP("back_tol_kwh", "kWh", "decreases up to this are jitter", 0, 1e6, back_tol_kwh, 0),
    MP("wrap_kwh", "kWh", "the register's rollover value (NAN: find 10^N or 2^N)", 1, 1e18, wrap_kwh, 0),
    MP("wrap_frac", "1", "both readings within this fraction of the rollover value", 1e-6, 0.5, wrap_frac, 0),
    MP("mismatch_s", "s", "window comparing counter energy and integrated power (0: off)", 0, 604800,
       mismatch_s, 1),
    MP("mismatch_frac", "1", "relative difference that counts as a mismatch", 0.001, 10, mismatch_frac, 0),
    MP("mismatch_min_kwh", "kWh", "windows with less energy are not judged", 0, 1e9, mismatch_min_kwh, 0),
    MP("mismatch_n", "1", "consecutive mismatching windows before MISMATCH fires", 1, 1000, mismatch_n, 1),
};
#define N_METER_PARAMS (sizeof meter_params / sizeof meter_params[0])
#define METER_NAN_OK (1u << 6)   /* wrap_kwh */

const struct sb_fdd_param *sb_meterchk_conf_params(size_t *n)
{
    if (n)
        *n = N_METER_PARAMS;
    return meter_params;
}

void sb_meterchk_conf_default(struct sb_meterchk_conf *c)
{
    memset(c, 0, sizeof *c);
    c->gap_s = HOUR_S;
    c->stop_s = HOUR_S;
    c->power_on = 0.5;
    c->res_kwh = 0.1;
    c->stop_long_s = 72 * HOUR_S;
    c->back_tol_kwh = 0.01;
    c->wrap_kwh = NAN;
    c->wrap_frac = 0.02;
    c->mismatch_s = HOUR_S;
    c->mismatch_frac = 0.15;
    c->mismatch_min_kwh = 1.0;
    c->mismatch_n = 2;
}

int sb_meterchk_conf_check(const struct sb_meterchk_conf *c, char *err, size_t errlen)
{
    return sb_fdd__param_check(c, meter_params, N_METER_PARAMS, METER_NAN_OK, "meter", err, errlen);
}

int sb_meterchk_conf_set(struct sb_meterchk_conf *c, const char *name, double value, char *err, size_t errlen)
{
    return sb_fdd__param_set(c, meter_params, N_METER_PARAMS, METER_NAN_OK, name, value, err, errlen);
}

/* ----------------------------------------------------------- meter state */

int sb_meterchk_init(struct sb_meterchk *m, const struct sb_meterchk_conf *conf)
{
    if (sb_meterchk_conf_check(conf, NULL, 0) != 0)
        return SB_EINVAL;
    memset(m, 0, sizeof *m);
    m->conf = *conf;
    sb_meterchk_reset(m);
    return 0;
}

void sb_meterchk_reset(struct sb_meterchk *m)
{
    struct sb_meterchk_conf c = m->conf;

    memset(m, 0, sizeof *m);
    m->conf = c;
    m->kwh_last = m->kw_last = NAN;
    m->ev_cnt = m->ev_pow = m->ev_prev = m->ev_new = NAN;
}

static int near_wrap(double w, double last, double now, double f)
{
    return last <= w && last >= (1 - f) * w && now >= 0 && now <= f * w;
}

double sb_meterchk_wrap_of(const struct sb_meterchk_conf *c, double last, double now)
{
    double f = c ? c->wrap_frac : 0.02, best = NAN;

    if (!isfinite(last) || !isfinite(now))
        return NAN;
    if (c && isfinite(c->wrap_kwh))
        return near_wrap(c->wrap_kwh, last, now, f) ? c->wrap_kwh : NAN;
    /* Decimal registers (odometer style) roll over at 10^N; binary ones at
     * 2^N, read in kWh directly or from a Wh/10 Wh/100 Wh register. */
    for (int e = 1; e <= 15; e++) {
        double w = pow(10, e);

        if (near_wrap(w, last, now, f) && !(w >= best))
            best = w;
    }
    for (int e = 8; e <= 64; e++)
        for (int s = 0; s <= 3; s++) {
            double w = ldexp(1, e) / pow(10, s);

            if (near_wrap(w, last, now, f) && !(w >= best))
                best = w;
        }
    return best;
}

static uint32_t meter_active(const struct sb_meterchk *m)
{
    uint32_t a = 0;

    for (int i = 0; i < SB_METER_NCHECKS; i++)
        if (m->chk[i].active)
            a |= SB_METER_BIT(i);
    return a;
}

static void meter_out(const struct sb_meterchk *m, const uint32_t acc[4], struct sb_meterchk_result *res)
{
    if (!res)
        return;
    res->evaluated = acc[0];
    res->fired = acc[1];
    res->raised = acc[2];
    res->cleared = acc[3];
    res->active = meter_active(m);
}

int sb_meterchk_tick(struct sb_meterchk *m, int64_t now, struct sb_meterchk_result *res)
{
    uint32_t acc[4] = { 0 };
    int rc = time_ok(now, m->have_first, m->t_tick, m->have_last, m->t_last, 0);
    int64_t ref;

    if (rc)
        return rc;
    if (res) {
        memset(res, 0, sizeof *res);
        res->increment_kwh = NAN;
    }
    if (!m->have_first) {
        m->have_first = 1;
        m->t_first = now;
    }
    m->t_tick = now;
    ref = m->have_last ? m->t_last : m->t_first;
    if (m->conf.gap_s > 0)
        sb_fdd__judge(&m->chk[SB_METER_GAP], SB_METER_GAP, now - ref > m->conf.gap_s, now, ref, 0, acc);
    meter_out(m, acc, res);
    return 0;
}

/* STOPPED: with power, the counter has not risen for stop_s of continuous
 * use and the power implies at least two counts of energy meanwhile; with
 * no power reading, it has not risen for longer than stop_long_s. */
static void stopped_eval(struct sb_meterchk *m, int64_t t, double kw, uint32_t acc[4])
{
    const struct sb_meterchk_conf *c = &m->conf;
    int64_t since;
    int cond;

    if (isfinite(kw)) {
        if (c->stop_s <= 0)
            return;
        since = m->use_since > m->changed_at ? m->use_since : m->changed_at;
        cond = m->use_on && t - since >= c->stop_s && m->e_pow_since >= 2 * c->res_kwh;
    } else {
        if (c->stop_long_s <= 0)
            return;
        since = m->changed_at;
        cond = t - since > c->stop_long_s;
    }
    sb_fdd__judge(&m->chk[SB_METER_STOPPED], SB_METER_STOPPED, cond, t, cond ? since : INT64_MIN, 0, acc);
}

/* MISMATCH: one usable interval (both power ends known, no gap) joins the
 * window; a full window is judged. */
static void mismatch_add(struct sb_meterchk *m, int64_t t, int64_t dt, double inc, int back, double e_pow,
                         uint32_t acc[4])
{
    const struct sb_meterchk_conf *c = &m->conf;
    double big;
    int mis;

    if (c->mismatch_s <= 0)
        return;
    if (!isfinite(e_pow)) {
        m->win_open = 0;      /* an interval we cannot compare breaks the window */
        return;
    }
    if (!m->win_open) {
        m->win_open = 1;
        m->win_t0 = t - dt;
        m->win_s = 0;
        m->win_cnt = m->win_pow = 0;
        m->win_bad = 0;
    }
    if (back || !isfinite(inc))
        m->win_bad = 1;
    else {
        m->win_cnt += inc;
        m->win_pow += e_pow;
    }
    m->win_s += dt;
    if (m->win_s < c->mismatch_s)
        return;
    m->win_open = 0;
    big = fmax(m->win_cnt, m->win_pow);
    if (m->win_bad || big < c->mismatch_min_kwh)
        return;               /* not judged: nothing to compare */
    /* One count of the register is quantisation, not mismatch. */
    mis = fabs(m->win_cnt - m->win_pow) > c->mismatch_frac * big + c->res_kwh;
    m->mis_run = mis ? m->mis_run + 1 : 0;
    m->ev_cnt = m->win_cnt;
    m->ev_pow = m->win_pow;
    sb_fdd__judge(&m->chk[SB_METER_MISMATCH], SB_METER_MISMATCH, m->mis_run >= c->mismatch_n, t, INT64_MIN, 0, acc);
}

/* The counter's increment over one interval: rollovers unwrapped, jitter
 * below back_tol_kwh as 0, a real decrease flagged in *back. */
static double meter_increment(struct sb_meterchk *m, double kwh, int *back, int *wrapped)
{
    double d = kwh - m->kwh_last, w;

    *back = *wrapped = 0;
    if (d >= 0)
        return d;
    if (-d <= m->conf.back_tol_kwh)
        return 0;
    w = sb_meterchk_wrap_of(&m->conf, m->kwh_last, kwh);
    if (isfinite(w)) {
        *wrapped = 1;
        return w - m->kwh_last + kwh;
    }
    *back = 1;
    return NAN;
}

static void meter_first(struct sb_meterchk *m, int64_t t, double kwh, double kw)
{
    m->changed_at = t;
    m->e_pow_since = 0;
    m->use_on = isfinite(kw) && kw > m->conf.power_on;
    m->use_since = t;
    m->kwh_last = kwh;
}

int sb_meterchk_step(struct sb_meterchk *m, int64_t t, double kwh, double kw, struct sb_meterchk_result *res)
{
    uint32_t acc[4] = { 0 };
    const struct sb_meterchk_conf *c = &m->conf;
    int64_t dt;
    double inc, e_pow = NAN;
    int rc, back, wrapped, usable;

    if (!isfinite(kwh))
        return sb_meterchk_tick(m, t, res);
    if ((rc = time_ok(t, m->have_first, m->t_tick, m->have_last, m->t_last, 1)) != 0)
        return rc;
    if (res) {
        memset(res, 0, sizeof *res);
        res->increment_kwh = NAN;
    }
    kw = isfinite(kw) ? kw : NAN;
    if (!m->have_first) {
        m->have_first = 1;
        m->t_first = t;
    }
    if (c->gap_s > 0)
        sb_fdd__judge(&m->chk[SB_METER_GAP], SB_METER_GAP, 0, t, INT64_MIN, 0, acc);
    if (!m->have_last) {
        meter_first(m, t, kwh, kw);
        goto out;
    }
    dt = t - m->t_last;
    usable = c->gap_s <= 0 || dt <= c->gap_s;
    inc = meter_increment(m, kwh, &back, &wrapped);
    if (res) {
        res->increment_kwh = inc;
        res->wrapped = wrapped;
    }
    if (back) {
        m->ev_prev = m->kwh_last;
        m->ev_new = kwh;
    }
    sb_fdd__judge(&m->chk[SB_METER_BACKWARDS], SB_METER_BACKWARDS, back, t, INT64_MIN, 0, acc);
    if (usable && isfinite(kw) && isfinite(m->kw_last))
        e_pow = 0.5 * (kw + m->kw_last) * (double)dt / HOUR_S;
    /* Rise detection is relative to the highest value: jitter below it is
     * neither a rise nor a new reference. */
    if (back || wrapped || inc > 1e-9 * fmax(1, fabs(kwh))) {
        m->changed_at = t;
        m->e_pow_since = 0;
        m->kwh_last = kwh;
    } else if (isfinite(e_pow)) {
        m->e_pow_since += e_pow;
    }
    if (isfinite(kw) && kw > c->power_on) {
        if (!m->use_on)
            m->use_since = t;
        m->use_on = 1;
    } else {
        m->use_on = 0;
    }
    stopped_eval(m, t, kw, acc);
    if (usable)
        mismatch_add(m, t, dt, inc, back, e_pow, acc);
    else
        m->win_open = 0;
out:
    m->have_last = 1;
    m->t_last = m->t_tick = t;
    m->kw_last = kw;
    meter_out(m, acc, res);
    return 0;
}

int sb_meterchk_finding(const struct sb_meterchk *m, int check, struct sb_meterchk_finding *f)
{
    if (check < 0 || check >= SB_METER_NCHECKS)
        return SB_EINVAL;
    if (!m->chk[check].active)
        return SB_ENOENT;
    memset(f, 0, sizeof *f);
    f->check = check;
    f->info = &meter_info[check];
    f->since = m->chk[check].since;
    f->fired_at = m->chk[check].fired_at;
    f->kwh = m->kwh_last;
    f->kw = m->kw_last;
    f->last_t = m->have_last ? m->t_last : m->t_first;
    f->unchanged_s = m->have_last ? m->t_last - m->changed_at : 0;
    f->expected_kwh = isfinite(m->kw_last) ? m->e_pow_since : NAN;
    f->prev_kwh = m->ev_prev;
    f->new_kwh = m->ev_new;
    f->cnt_kwh = m->ev_cnt;
    f->pow_kwh = m->ev_pow;
    f->windows = m->mis_run;
    return 0;
}

int sb_meterchk_finding_format(const struct sb_meterchk_finding *f, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    sb_fdd_put(buf, len, &off, "meter %s: %s", f->info->name, f->info->meaning);
    switch (f->check) {
    case SB_METER_GAP:
        sb_fdd_put(buf, len, &off, " [last reading t=%" PRId64 "]", f->last_t);
        break;
    case SB_METER_STOPPED:
        sb_fdd_put(buf, len, &off, " [counter %.3f kWh unchanged for %" PRId64 " s, power %.3g kW, %.3g kWh expected]",
                    f->kwh, f->unchanged_s, f->kw, f->expected_kwh);
        break;
    case SB_METER_BACKWARDS:
        sb_fdd_put(buf, len, &off, " [%.3f -> %.3f kWh]", f->prev_kwh, f->new_kwh);
        break;
    default:
        sb_fdd_put(buf, len, &off, " [counter %.3f kWh vs power %.3f kWh over the window, %d windows]", f->cnt_kwh,
                    f->pow_kwh, f->windows);
        break;
    }
    sb_fdd_put(buf, len, &off, "; since t=%" PRId64 ", fired t=%" PRId64 "; fault: %s; action: %s", f->since,
                f->fired_at, f->info->fault, f->info->action);
    return off;
}

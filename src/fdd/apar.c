/*
 * apar.c - the APAR engine: mode detection, steady-state filtering, moving
 * averages and per-rule persistence around the inequalities of
 * apar_rules.c.
 *
 * APAR judges steady operation only (Schein et al. 2006 §2): rules are
 * evaluated while the unit runs (fan on, and occupied when occupancy is
 * known), after a delay following start-up and every mode change, on values
 * averaged over a short moving window.  Mode hunting is itself rule 28.  A
 * rule fires when its condition has held continuously for its on-delay and
 * stays active until it is evaluated false again (periods in which it is
 * filtered out neither fire nor clear it).  Everything here is pure: state
 * lives in the caller's struct sb_apar.
 */
#include "fdd/apar_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "fdd/param.h"

#define HOUR_S 3600

/* The double fields of struct sb_apar_sample, for averaging. */
static const size_t sample_fields[] = {
    offsetof(struct sb_apar_sample, sat),         offsetof(struct sb_apar_sample, mat),
    offsetof(struct sb_apar_sample, rat),         offsetof(struct sb_apar_sample, oat),
    offsetof(struct sb_apar_sample, sat_sp),      offsetof(struct sb_apar_sample, sat_sp_heat),
    offsetof(struct sb_apar_sample, sat_sp_cool), offsetof(struct sb_apar_sample, u_hc),
    offsetof(struct sb_apar_sample, u_cc),        offsetof(struct sb_apar_sample, u_oad),
    offsetof(struct sb_apar_sample, fan),         offsetof(struct sb_apar_sample, fan_speed),
    offsetof(struct sb_apar_sample, occupied),    offsetof(struct sb_apar_sample, dsp),
    offsetof(struct sb_apar_sample, dsp_sp),      offsetof(struct sb_apar_sample, oaf),
    offsetof(struct sb_apar_sample, oaf_min),     offsetof(struct sb_apar_sample, fan_cmd),
    offsetof(struct sb_apar_sample, u_oad_min),
};
#define NFIELDS (sizeof sample_fields / sizeof sample_fields[0])

static double *field(struct sb_apar_sample *s, size_t i)
{
    return (double *)((char *)s + sample_fields[i]);
}

static double cfield(const struct sb_apar_sample *s, size_t i)
{
    return *(const double *)((const char *)s + sample_fields[i]);
}

void sb_apar_sample_init(struct sb_apar_sample *s)
{
    s->t = 0;
    for (size_t i = 0; i < NFIELDS; i++)
        *field(s, i) = NAN;
}

void sb_apar_conf_default(struct sb_apar_conf *c)
{
    memset(c, 0, sizeof *c);
    /* Schein et al. 2006, Table 3 (default thresholds). */
    c->eps_t = 2.0;
    c->eps_f = 0.3;
    c->eps_d = c->eps_hc = c->eps_cc = 0.02;
    c->dt_sf = c->dt_rf = 1.1;
    c->dt_min = 5.6;
    c->mode_switch_max = 7;
    /* Unit configuration, not thresholds: set per site. */
    c->u_oad_min = 0.0;
    c->oaf_min = NAN;
    c->t_co = NAN;
    /* Timing: see docs/internals/fdd-apar.md for the provenance. */
    c->mode_delay_s = 3600;
    c->window_s = 300;
    c->max_gap_s = 900;
    for (int id = 1; id <= SB_APAR_NRULES; id++)
        c->on_delay_s[id] = 3600;
    c->enabled = SB_APAR_ALL_RULES;
    c->reset_window_s = 6 * 3600;
    c->sat_reset_band = 0.5;
    c->dsp_reset_band = 12.0;
    c->load_oat_range = 5.6;
    c->load_fan_range = 0.2;
    c->fan_on_speed = 0.05;
    /* Rule 32: a failed fan shows within minutes; Guideline 36 §5.16's fan
     * status alarm waits for the proof after the start command. */
    c->on_delay_s[SB_APAR_RULE_FAN_FAIL] = 600;
    /* Rule 33: deadband states are short (a unit passes through between
     * economizing and cooling); the mode delay has already waited an hour. */
    c->on_delay_s[SB_APAR_RULE_REST_BAL] = 900;
    c->dsp_fail_frac = 0.2;
}

#define P(n, u, d, lo, hi, f, i) { n, u, d, lo, hi, offsetof(struct sb_apar_conf, f), i }
static const struct sb_fdd_param params[] = {
    P("eps_t", "K", "temperature threshold (NIST 2.0)", 0, 20, eps_t, 0),
    P("eps_f", "", "outdoor-air fraction threshold (NIST 0.3)", 0, 1, eps_f, 0),
    P("eps_d", "", "damper command threshold (NIST 0.02)", 0, 0.5, eps_d, 0),
    P("eps_hc", "", "heating valve command threshold (NIST 0.02)", 0, 0.5, eps_hc, 0),
    P("eps_cc", "", "cooling valve command threshold (NIST 0.02)", 0, 0.5, eps_cc, 0),
    P("dt_sf", "K", "temperature rise across the supply fan (NIST 1.1)", -5, 10, dt_sf, 0),
    P("dt_rf", "K", "temperature rise across the return fan (NIST 1.1)", -5, 10, dt_rf, 0),
    P("dt_min", "K", "|Tra - Toa| needed for the outdoor-air fraction rules (NIST 5.6)", 0, 50, dt_min, 0),
    P("u_oad_min", "", "damper command at minimum outdoor air (learnt from the data unless set)", 0, 0.95,
      u_oad_min, 0),
    P("mode_switch_max", "/h", "mode changes allowed per hour (NIST 7)", 1, 1000, mode_switch_max, 1),
    P("mode_delay_s", "s", "wait after a mode change or start (3600)", 0, 86400, mode_delay_s, 1),
    P("window_s", "s", "moving-average window (300)", 0, 86400, window_s, 1),
    P("on_delay_s", "s", "persistence before rules 1-31 fire (3600)", 0, 604800, on_delay_s[1], 1),
    P("rest_delay_s", "s", "persistence before rule 33 fires (900)", 0, 604800,
      on_delay_s[SB_APAR_RULE_REST_BAL], 1),
    P("fan_fail_delay_s", "s", "persistence before rule 32 fires (600)", 0, 604800,
      on_delay_s[SB_APAR_RULE_FAN_FAIL], 1),
    P("reset_window_s", "s", "running time over which a reset is judged (21600)", SB_APAR_BUCKETS, 604800,
      reset_window_s, 1),
    P("sat_reset_band", "K", "SAT setpoint range counted as constant (0.5)", 0, 10, sat_reset_band, 0),
    P("dsp_reset_band", "Pa", "static setpoint range counted as constant (12)", 0, 500, dsp_reset_band, 0),
    P("load_oat_range", "K", "outdoor temperature range showing the load varied (5.6)", 0, 50,
      load_oat_range, 0),
    P("load_fan_range", "", "fan speed range showing the load varied (0.2)", 0, 1, load_fan_range, 0),
    P("fan_on_speed", "", "fan counts as running above this speed without a status (0.05)", 0, 1,
      fan_on_speed, 0),
    P("dsp_fail_frac", "", "rule 32: static pressure below this part of its setpoint means no air (0.2)", 0,
      1, dsp_fail_frac, 0),
};
#undef P

const struct sb_fdd_param *sb_apar_conf_params(size_t *n)
{
    *n = sizeof(params) / sizeof(params[0]);
    return params;
}

int sb_apar_conf_set(struct sb_apar_conf *c, const char *name, double v, char *err, size_t errlen)
{
    struct sb_apar_conf t = *c;
    int rc = sb_fdd_param_set(params, sizeof(params) / sizeof(params[0]), &t, name, v, err, errlen);

    if (rc)
        return rc;
    if (strcmp(name, "on_delay_s") == 0)
        for (int id = 2; id < SB_APAR_RULE_FAN_FAIL; id++)
            t.on_delay_s[id] = t.on_delay_s[1];
    if (sb_apar_conf_check(&t, err, errlen))
        return SB_ERANGE;
    *c = t;
    return 0;
}

/* One range check for sb_apar_conf_check. */
static int bad(char *err, size_t errlen, const char *name, double v, double lo, double hi)
{
    if (isfinite(v) && v >= lo && v <= hi)
        return 0;
    sb_errf(err, errlen, "apar: %s = %g, allowed %g..%g", name, v, lo, hi);
    return 1;
}

int sb_apar_conf_check(const struct sb_apar_conf *c, char *err, size_t errlen)
{
    int n = bad(err, errlen, "eps_t", c->eps_t, 0, 20) || bad(err, errlen, "eps_f", c->eps_f, 0, 1) ||
            bad(err, errlen, "eps_d", c->eps_d, 0, 0.5) || bad(err, errlen, "eps_hc", c->eps_hc, 0, 0.5) ||
            bad(err, errlen, "eps_cc", c->eps_cc, 0, 0.5) || bad(err, errlen, "dt_sf", c->dt_sf, -5, 10) ||
            bad(err, errlen, "dt_rf", c->dt_rf, -5, 10) || bad(err, errlen, "dt_min", c->dt_min, 0, 50) ||
            bad(err, errlen, "u_oad_min", c->u_oad_min, 0, 0.95) ||
            bad(err, errlen, "mode_switch_max", c->mode_switch_max, 1, 1000) ||
            bad(err, errlen, "mode_delay_s", c->mode_delay_s, 0, 86400) ||
            bad(err, errlen, "window_s", c->window_s, 0, 86400) ||
            bad(err, errlen, "max_gap_s", c->max_gap_s, 1, 86400 * 7) ||
            bad(err, errlen, "reset_window_s", c->reset_window_s, SB_APAR_BUCKETS, 86400 * 7) ||
            bad(err, errlen, "fan_on_speed", c->fan_on_speed, 0, 1) ||
            bad(err, errlen, "dsp_fail_frac", c->dsp_fail_frac, 0, 1);

    for (int id = 1; !n && id <= SB_APAR_NRULES; id++)
        n = bad(err, errlen, "on_delay_s", c->on_delay_s[id], 0, 86400 * 7);
    if (!n && isfinite(c->oaf_min))
        n = bad(err, errlen, "oaf_min", c->oaf_min, 0, 1);
    if (!n && !isnan(c->t_co))
        n = bad(err, errlen, "t_co", c->t_co, -50, 60);
    return n ? SB_EINVAL : 0;
}

void sb_apar_reset(struct sb_apar *a)
{
    struct sb_apar_conf c = a->conf;

    memset(a, 0, sizeof *a);
    a->conf = c;
    a->mode = SB_APAR_MODE_OFF;
}

int sb_apar_reconf(struct sb_apar *a, const struct sb_apar_conf *conf)
{
    if (sb_apar_conf_check(conf, NULL, 0))
        return SB_EINVAL;
    a->conf = *conf;
    return 0;
}

int sb_apar_init(struct sb_apar *a, const struct sb_apar_conf *conf)
{
    if (sb_apar_conf_check(conf, NULL, 0) != 0)
        return SB_EINVAL;
    a->conf = *conf;
    sb_apar_reset(a);
    return 0;
}

int sb_apar_mode_of(const struct sb_apar_conf *c, double u_hc, double u_cc, double u_oad)
{
    return sb_apar_mode_at(c, u_hc, u_cc, u_oad, NAN);
}

int sb_apar_mode_at(const struct sb_apar_conf *c, double u_hc, double u_cc, double u_oad, double u_min)
{
    int heat, cool;

    if (!isfinite(u_hc) || !isfinite(u_cc) || !isfinite(u_oad))
        return SB_APAR_MODE_NA;
    heat = u_hc > c->eps_hc;
    cool = u_cc > c->eps_cc;
    if (heat && !cool && sb_apar__damper_at_min(c, u_oad, u_min))
        return SB_APAR_MODE_HEAT;
    if (!heat && !cool && !sb_apar__damper_at_min(c, u_oad, u_min) && !sb_apar__damper_full(c, u_oad))
        return SB_APAR_MODE_ECON;
    if (!heat && cool && sb_apar__damper_full(c, u_oad))
        return SB_APAR_MODE_ECON_MECH;
    if (!heat && cool && sb_apar__damper_at_min(c, u_oad, u_min))
        return SB_APAR_MODE_MECH;
    return SB_APAR_MODE_UNKNOWN;
}

/* Fan state: 1 on, 0 off, -1 unknown (status, else speed). */
static int fan_state(const struct sb_apar_conf *c, const struct sb_apar_sample *s)
{
    if (isfinite(s->fan))
        return s->fan >= 0.5;
    if (isfinite(s->fan_speed))
        return s->fan_speed > c->fan_on_speed;
    return -1;
}

/* Running = fan on and occupied: 1, 0, or -1 when neither signal is known.
 * An unknown occupancy defers to the fan (APAR itself gates on the fan);
 * an unknown fan defers to occupancy. */
static int running_state(const struct sb_apar_conf *c, const struct sb_apar_sample *s)
{
    int fan = fan_state(c, s);
    int occ = isfinite(s->occupied) ? s->occupied >= 0.5 : -1;

    if (fan < 0 && occ < 0)
        return -1;
    if (fan == 0 || occ == 0)
        return 0;
    return 1;
}

static void win_clear(struct sb_apar *a)
{
    a->win_head = a->win_n = 0;
}

static void win_push(struct sb_apar *a, const struct sb_apar_sample *s)
{
    a->win[a->win_head] = *s;
    a->win_head = (a->win_head + 1) % SB_APAR_WIN_MAX;
    if (a->win_n < SB_APAR_WIN_MAX)
        a->win_n++;
}

/* Mean of each field over the samples of the last window_s (at most
 * SB_APAR_WIN_MAX); a field is NAN unless at least half of them have it. */
static void win_mean(const struct sb_apar *a, int64_t now, struct sb_apar_sample *out)
{
    double sum[NFIELDS] = { 0 };
    int cnt[NFIELDS] = { 0 }, used = 0;

    for (int k = 0; k < a->win_n; k++) {
        const struct sb_apar_sample *s = &a->win[(a->win_head - 1 - k + SB_APAR_WIN_MAX) % SB_APAR_WIN_MAX];

        if (k > 0 && s->t <= now - a->conf.window_s)
            break;
        used++;
        for (size_t i = 0; i < NFIELDS; i++) {
            double v = cfield(s, i);

            if (isfinite(v)) {
                sum[i] += v;
                cnt[i]++;
            }
        }
    }
    out->t = now;
    for (size_t i = 0; i < NFIELDS; i++)
        *field(out, i) = used > 0 && 2 * cnt[i] >= used ? sum[i] / cnt[i] : NAN;
}

static void sw_push(struct sb_apar *a, int64_t t)
{
    a->sw[a->sw_head] = t;
    a->sw_head = (a->sw_head + 1) % SB_APAR_SW_MAX;
    if (a->sw_n < SB_APAR_SW_MAX)
        a->sw_n++;
}

static int sw_count(const struct sb_apar *a, int64_t now)
{
    int n = 0;

    for (int k = 0; k < a->sw_n; k++)
        if (a->sw[(a->sw_head - 1 - k + SB_APAR_SW_MAX) % SB_APAR_SW_MAX] > now - HOUR_S)
            n++;
    return n;
}

static void bucket_blank(struct sb_apar_bucket *b)
{
    b->sp_min = b->oat_min = b->dsp_min = b->fs_min = INFINITY;
    b->sp_max = b->oat_max = b->dsp_max = b->fs_max = -INFINITY;
    b->run_s = 0;
}

static void minmax(double v, double *lo, double *hi)
{
    if (!isfinite(v))
        return;
    if (v < *lo)
        *lo = v;
    if (v > *hi)
        *hi = v;
}

/* Adds a running sample (dt seconds of running time) to the reset buckets;
 * a bucket holds reset_window_s / SB_APAR_BUCKETS of running time. */
static void bucket_add(struct sb_apar *a, const struct sb_apar_sample *s, int64_t dt)
{
    struct sb_apar_bucket *b;
    int32_t len = a->conf.reset_window_s / SB_APAR_BUCKETS;

    if (a->bk_n == 0) {
        a->bk_head = 0;
        a->bk_n = 1;
        bucket_blank(&a->bk[0]);
    } else if (a->bk[a->bk_head].run_s >= len) {
        a->bk_head = (a->bk_head + 1) % SB_APAR_BUCKETS;
        if (a->bk_n < SB_APAR_BUCKETS)
            a->bk_n++;
        bucket_blank(&a->bk[a->bk_head]);
    }
    b = &a->bk[a->bk_head];
    b->run_s += (int32_t)dt;
    minmax(s->sat_sp, &b->sp_min, &b->sp_max);
    minmax(s->oat, &b->oat_min, &b->oat_max);
    minmax(s->dsp_sp, &b->dsp_min, &b->dsp_max);
    minmax(s->fan_speed, &b->fs_min, &b->fs_max);
}

/* Ranges over the reset window; NAN until the ring covers it. */
static void bucket_ranges(const struct sb_apar *a, struct sb_apar__ctx *x)
{
    double lo[4] = { INFINITY, INFINITY, INFINITY, INFINITY };
    double hi[4] = { -INFINITY, -INFINITY, -INFINITY, -INFINITY };
    double *r[4] = { &x->sp_range, &x->oat_range, &x->dsp_range, &x->fs_range };

    for (int i = 0; i < 4; i++)
        *r[i] = NAN;
    if (a->bk_n < SB_APAR_BUCKETS)
        return;
    for (int k = 0; k < SB_APAR_BUCKETS; k++) {
        const struct sb_apar_bucket *b = &a->bk[k];

        minmax(b->sp_min, &lo[0], &hi[0]);   minmax(b->sp_max, &lo[0], &hi[0]);
        minmax(b->oat_min, &lo[1], &hi[1]);  minmax(b->oat_max, &lo[1], &hi[1]);
        minmax(b->dsp_min, &lo[2], &hi[2]);  minmax(b->dsp_max, &lo[2], &hi[2]);
        minmax(b->fs_min, &lo[3], &hi[3]);   minmax(b->fs_max, &lo[3], &hi[3]);
    }
    for (int i = 0; i < 4; i++)
        if (hi[i] >= lo[i])
            *r[i] = hi[i] - lo[i];
}

/* SAT setpoint that applies in mode: the single setpoint, else the heating
 * one in heating and the cooling one in the cooling modes. */
static double sat_sp_for(const struct sb_apar_sample *v, int mode)
{
    if (isfinite(v->sat_sp))
        return v->sat_sp;
    if (mode == SB_APAR_MODE_HEAT)
        return v->sat_sp_heat;
    if (mode >= SB_APAR_MODE_ECON && mode <= SB_APAR_MODE_MECH)
        return v->sat_sp_cool;
    return NAN;
}

/* Tracks mode changes and start-up; returns 1 when the unit is steady. */
static int track_mode(struct sb_apar *a, int run, int mode, int64_t t, int restart)
{
    if (run != 1) {
        win_clear(a);
        return 0;
    }
    if (restart || a->running != 1) {
        a->mode_since = t;
        win_clear(a);
    } else if (mode != a->mode) {
        if (a->mode >= SB_APAR_MODE_HEAT && a->mode <= SB_APAR_MODE_UNKNOWN &&
            mode >= SB_APAR_MODE_HEAT && mode <= SB_APAR_MODE_UNKNOWN)
            sw_push(a, t);
        a->mode_since = t;
        win_clear(a);
    }
    /* Steady once the mode has lasted the delay and fills one window. */
    return t - a->mode_since >= a->conf.mode_delay_s && t - a->mode_since >= a->conf.window_s;
}

/* Filter outcome of rule id before its inequality: -1 to evaluate, else a
 * status. */
static int gate(const struct sb_apar *a, int id, int run, int mode, int steady)
{
    const struct sb_apar_rule_info *info = sb_apar_rule_info(id);

    if (!(a->conf.enabled & SB_APAR_BIT(id)))
        return SB_APAR_ST_DISABLED;
    if (id == SB_APAR_RULE_FAN_UNOCC || id == SB_APAR_RULE_FAN_FAIL)
        return -1;
    if (run < 0)
        return SB_APAR_ST_NOT_EVALUABLE;
    if (run == 0)
        return SB_APAR_ST_INACTIVE;
    if (id == SB_APAR_RULE_SAT_RESET || id == SB_APAR_RULE_DSP_RESET)   /* once the reset window is covered */
        return a->bk_n < SB_APAR_BUCKETS ? SB_APAR_ST_INACTIVE : -1;
    if (id == 28)
        return mode == SB_APAR_MODE_NA ? SB_APAR_ST_NOT_EVALUABLE : -1;
    if (!steady)
        return SB_APAR_ST_INACTIVE;
    if (info->mode == 0)
        return -1;
    if (mode == SB_APAR_MODE_NA)
        return SB_APAR_ST_NOT_EVALUABLE;
    return info->mode == mode ? -1 : SB_APAR_ST_INACTIVE;
}

/* Applies one evaluation outcome to the rule's state and the result. */
static void update_rule(struct sb_apar *a, int id, int st, const struct sb_apar__ctx *x,
                        int64_t t, struct sb_apar_result *res)
{
    struct sb_apar_rule_state *r = &a->r[id];
    int was_true = r->status == SB_APAR_ST_PENDING || r->status == SB_APAR_ST_FIRED;

    if (st == SB_APAR__TRUE) {
        if (!was_true)
            r->since = t;
        r->status = t - r->since >= a->conf.on_delay_s[id] ? SB_APAR_ST_FIRED : SB_APAR_ST_PENDING;
        r->lhs = x->lhs;
        r->rhs = x->rhs;
        r->ev = *x->v;
        r->ev_mode = (uint8_t)x->mode;
        if (r->status == SB_APAR_ST_FIRED) {
            res->fired |= SB_APAR_BIT(id);
            if (!r->active) {
                r->active = 1;
                r->fired_at = t;
                res->raised |= SB_APAR_BIT(id);
            }
        }
    } else if (st == SB_APAR__FALSE) {
        r->status = SB_APAR_ST_OK;
        if (r->active) {
            r->active = 0;
            res->cleared |= SB_APAR_BIT(id);
        }
    } else {
        r->status = (uint8_t)(st == SB_APAR__NA ? SB_APAR_ST_NOT_EVALUABLE : SB_APAR_ST_INACTIVE);
    }
    res->status[id] = r->status;
}

/* Evaluates every rule on this sample. */
static void eval_rules(struct sb_apar *a, const struct sb_apar_sample *s, const struct sb_apar_sample *avg,
                       int run, int mode, int steady, struct sb_apar_result *res)
{
    struct sb_apar__ctx x = { .c = &a->conf, .v = avg, .mode = mode };

    x.sat_sp = sat_sp_for(avg, mode);
    x.switches = sw_count(a, s->t);
    bucket_ranges(a, &x);
    for (int id = 1; id <= SB_APAR_NRULES; id++) {
        int g = gate(a, id, run, mode, steady), st;

        if (g >= 0) {
            a->r[id].status = (uint8_t)g;
            res->status[id] = (uint8_t)g;
            continue;
        }
        x.v = id == SB_APAR_RULE_FAN_UNOCC || id == SB_APAR_RULE_FAN_FAIL ? s : avg;
        x.lhs = x.rhs = NAN;
        if (id == SB_APAR_RULE_FAN_UNOCC) {
            int fan = fan_state(&a->conf, s);

            x.lhs = fan < 0 ? NAN : fan;
        }
        st = sb_apar__eval(id, &x);
        update_rule(a, id, st, &x, s->t, res);
    }
}

int sb_apar_step(struct sb_apar *a, const struct sb_apar_sample *s, struct sb_apar_result *res)
{
    struct sb_apar_result dummy;
    struct sb_apar_sample avg;
    int restart, run, mode, steady;

    /* Bounded so that differences of times can never overflow. */
    if (s->t < -SB_APAR_T_MAX || s->t > SB_APAR_T_MAX)
        return SB_ERANGE;
    if (a->have_last && s->t <= a->last_t)
        return SB_EINVAL;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    restart = !a->have_last || s->t - a->last_t > a->conf.max_gap_s;
    run = running_state(&a->conf, s);
    mode = run == 1 ? sb_apar_mode_at(&a->conf, s->u_hc, s->u_cc, s->u_oad, s->u_oad_min) : SB_APAR_MODE_OFF;
    steady = track_mode(a, run, mode, s->t, restart);
    if (run == 1) {
        win_push(a, s);
        bucket_add(a, s, a->running == 1 && !restart ? s->t - a->last_t : 0);
    }
    win_mean(a, s->t, &avg);
    eval_rules(a, s, &avg, run, mode, steady, res);
    res->mode = mode;
    res->steady = steady;
    a->running = run;
    a->mode = mode;
    a->last_t = s->t;
    a->have_last = 1;
    return 0;
}

int sb_apar_run(struct sb_apar *a, const struct sb_apar_sample *s, size_t n, struct sb_apar_tally *t)
{
    struct sb_apar_result res;

    for (size_t i = 0; i < n; i++) {
        int rc = sb_apar_step(a, &s[i], &res);

        if (rc != 0)
            return rc;
        if (!t)
            continue;
        t->samples++;
        t->steady += (uint32_t)res.steady;
        for (int id = 1; id <= SB_APAR_NRULES; id++) {
            t->fired[id] += res.status[id] == SB_APAR_ST_FIRED;
            t->raised[id] += (res.raised & SB_APAR_BIT(id)) != 0;
            t->not_evaluable[id] += res.status[id] == SB_APAR_ST_NOT_EVALUABLE;
        }
    }
    return 0;
}

int sb_apar_finding(const struct sb_apar *a, int rule, struct sb_apar_finding *f)
{
    const struct sb_apar_rule_state *r;

    if (rule < 1 || rule > SB_APAR_NRULES)
        return SB_EINVAL;
    r = &a->r[rule];
    if (!r->active)
        return SB_ENOENT;
    f->rule = rule;
    f->info = sb_apar_rule_info(rule);
    f->faults = f->info->faults;
    f->mode = r->ev_mode;
    f->since = r->since;
    f->fired_at = r->fired_at;
    f->lhs = r->lhs;
    f->rhs = r->rhs;
    f->ev = r->ev;
    return 0;
}

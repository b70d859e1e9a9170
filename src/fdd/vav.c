/*
 * vav.c - the VAV-box engine: running/steady-state filtering, the moving
 * average, the response window (rules 3 and 8), the reversal counters
 * (rule 9), the inequalities and per-rule persistence.
 *
 * Like APAR (fdd/apar.c), the rules judge steady operation only: while
 * the serving AHU runs, after a start delay following the AHU start and
 * every occupancy change (G36 §5.6.6 as implemented by LBL waits 30 min
 * after the AHU fan starts), on values averaged over a short window.  A
 * rule fires when its condition has held on every sample for its
 * on-delay and stays active until it is evaluated false again (samples on
 * which it is filtered out neither fire nor clear it).  Everything here is
 * pure: state lives in the caller's struct sb_vav.
 */
#include "fdd/vav.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"

/* Outcome of one inequality. */
enum { R_FALSE = 0, R_TRUE = 1, R_NA = -1, R_SKIP = -2 };

/* What a rule sees on one sample. */
struct ctx {
    const struct sb_vav_conf *c;   /* thresholds */
    const struct sb_vav_sample *v; /* moving-average values */
    double dmp_rng, q_rng, sp_rng, sp_mean; /* response window, rule 3 (NAN: no data) */
    double rh_rng, dt_rng;         /* response window, rule 8 */
    int rev[2];                    /* reversals in the last hour, -1 not evaluable (rule 9) */
    double lhs, rhs;               /* out: the two sides of the inequality */
};

/* The double fields of struct sb_vav_sample, for averaging. */
static const size_t sample_fields[] = {
    offsetof(struct sb_vav_sample, flow),     offsetof(struct sb_vav_sample, flow_sp),
    offsetof(struct sb_vav_sample, damper),   offsetof(struct sb_vav_sample, reheat),
    offsetof(struct sb_vav_sample, dat),      offsetof(struct sb_vav_sample, sat),
    offsetof(struct sb_vav_sample, zat),      offsetof(struct sb_vav_sample, htg_sp),
    offsetof(struct sb_vav_sample, clg_sp),   offsetof(struct sb_vav_sample, occupied),
    offsetof(struct sb_vav_sample, ahu_on),
};
#define NFIELDS (sizeof sample_fields / sizeof sample_fields[0])

static double *field(struct sb_vav_sample *s, size_t i)
{
    return (double *)((char *)s + sample_fields[i]);
}

static double cfield(const struct sb_vav_sample *s, size_t i)
{
    return *(const double *)((const char *)s + sample_fields[i]);
}

void sb_vav_sample_init(struct sb_vav_sample *s)
{
    s->t = 0;
    for (size_t i = 0; i < NFIELDS; i++)
        *field(s, i) = NAN;
}

void sb_vav_reset(struct sb_vav *v)
{
    struct sb_vav_conf c = v->conf;

    memset(v, 0, sizeof *v);
    v->conf = c;
    v->running = -1;
    v->occ = -1;
}

int sb_vav_reconf(struct sb_vav *v, const struct sb_vav_conf *conf)
{
    if (sb_vav_conf_check(conf, NULL, 0))
        return SB_EINVAL;
    v->conf = *conf;
    return 0;
}

int sb_vav_init(struct sb_vav *v, const struct sb_vav_conf *conf)
{
    if (sb_vav_conf_check(conf, NULL, 0) != 0)
        return SB_EINVAL;
    v->conf = *conf;
    sb_vav_reset(v);
    return 0;
}

/* The box runs when its AHU's fan runs; without that point, when air
 * flows.  1, 0, or -1 when neither is known. */
static int running_state(const struct sb_vav_conf *c, const struct sb_vav_sample *s)
{
    if (isfinite(s->ahu_on))
        return s->ahu_on >= 0.5;
    if (isfinite(s->flow))
        return s->flow > c->flow_on;
    return -1;
}

/* Empties every filter: the moving window, the response buckets and the
 * reversal counters (they only ever hold one steady stretch). */
static void clear_history(struct sb_vav *v)
{
    v->win_head = v->win_n = 0;
    v->bk_head = v->bk_n = 0;
    memset(v->hunt, 0, sizeof v->hunt);
}

/* Tracks AHU start, occupancy changes and gaps; returns 1 when the box is
 * steady (running for start_delay_s and one full window since). */
static int track(struct sb_vav *v, int run, int occ, int64_t t, int gap)
{
    int occ_changed = occ >= 0 && v->occ >= 0 && occ != v->occ;
    int steady;

    if (occ >= 0)
        v->occ = occ;
    if (run != 1) {
        clear_history(v);
        v->steady = 0;
        return 0;
    }
    if (gap || v->running != 1 || occ_changed) {
        v->since = t;
        v->steady = 0;
        clear_history(v);
    }
    steady = t - v->since >= v->conf.start_delay_s && t - v->since >= v->conf.window_s;
    if (steady && !v->steady)
        v->steady_since = t;
    v->steady = steady;
    return steady;
}

static void win_push(struct sb_vav *v, const struct sb_vav_sample *s)
{
    v->win[v->win_head] = *s;
    v->win_head = (v->win_head + 1) % SB_VAV_WIN_MAX;
    if (v->win_n < SB_VAV_WIN_MAX)
        v->win_n++;
}

/* Mean of each field over the samples of the last window_s (at most
 * SB_VAV_WIN_MAX); a field is NAN unless at least half of them have it. */
static void win_mean(const struct sb_vav *v, int64_t now, struct sb_vav_sample *out)
{
    double sum[NFIELDS] = { 0 };
    int cnt[NFIELDS] = { 0 }, used = 0;

    for (int k = 0; k < v->win_n; k++) {
        const struct sb_vav_sample *s = &v->win[(v->win_head - 1 - k + SB_VAV_WIN_MAX) % SB_VAV_WIN_MAX];

        if (k > 0 && s->t <= now - v->conf.window_s)
            break;
        used++;
        for (size_t i = 0; i < NFIELDS; i++) {
            double x = cfield(s, i);

            if (isfinite(x)) {
                sum[i] += x;
                cnt[i]++;
            }
        }
    }
    out->t = now;
    for (size_t i = 0; i < NFIELDS; i++)
        *field(out, i) = used > 0 && 2 * cnt[i] >= used ? sum[i] / cnt[i] : NAN;
}

static void minmax(double x, double *lo, double *hi)
{
    if (!isfinite(x))
        return;
    if (x < *lo)
        *lo = x;
    if (x > *hi)
        *hi = x;
}

static void bucket_blank(struct sb_vav_bucket *b)
{
    b->dmp_min = b->q_min = b->sp_min = b->rh_min = b->dt_min = INFINITY;
    b->dmp_max = b->q_max = b->sp_max = b->rh_max = b->dt_max = -INFINITY;
    b->sp_sum = 0;
    b->sp_n = 0;
    b->run_s = 0;
}

/* Adds one steady sample's averaged values (dt seconds of running time)
 * to the response buckets; a bucket holds resp_window_s / SB_VAV_BUCKETS
 * of running time, so the ring spans 23/24 to 24/24 of the window once
 * full. */
static void bucket_add(struct sb_vav *v, const struct sb_vav_sample *a, int64_t dt)
{
    const struct sb_vav_conf *c = &v->conf;
    struct sb_vav_bucket *b;

    if (v->bk_n == 0) {
        v->bk_head = 0;
        v->bk_n = 1;
        bucket_blank(&v->bk[0]);
    } else if (v->bk[v->bk_head].run_s >= c->resp_window_s / SB_VAV_BUCKETS) {
        v->bk_head = (v->bk_head + 1) % SB_VAV_BUCKETS;
        if (v->bk_n < SB_VAV_BUCKETS)
            v->bk_n++;
        bucket_blank(&v->bk[v->bk_head]);
    }
    b = &v->bk[v->bk_head];
    b->run_s += (int32_t)(dt < c->max_gap_s ? dt : c->max_gap_s);
    minmax(a->damper, &b->dmp_min, &b->dmp_max);
    minmax(a->flow, &b->q_min, &b->q_max);
    minmax(a->flow_sp, &b->sp_min, &b->sp_max);
    if (isfinite(a->flow_sp)) {
        b->sp_sum += a->flow_sp;
        b->sp_n++;
    }
    minmax(a->reheat, &b->rh_min, &b->rh_max);
    /* Without airflow the discharge sensor reads the ceiling, not the coil. */
    if (a->flow > c->flow_on)
        minmax(a->dat - a->sat, &b->dt_min, &b->dt_max);
}

static double range_of(double lo, double hi)
{
    return hi >= lo ? hi - lo : NAN;
}

/* Ranges over the response window into x; NAN until the ring is full. */
static void bucket_ranges(const struct sb_vav *v, struct ctx *x)
{
    struct sb_vav_bucket all;
    double sum = 0;
    int32_t n = 0;

    x->dmp_rng = x->q_rng = x->sp_rng = x->sp_mean = x->rh_rng = x->dt_rng = NAN;
    if (v->bk_n < SB_VAV_BUCKETS)
        return;
    bucket_blank(&all);
    for (int k = 0; k < SB_VAV_BUCKETS; k++) {
        const struct sb_vav_bucket *b = &v->bk[k];

        minmax(b->dmp_min, &all.dmp_min, &all.dmp_max);  minmax(b->dmp_max, &all.dmp_min, &all.dmp_max);
        minmax(b->q_min, &all.q_min, &all.q_max);        minmax(b->q_max, &all.q_min, &all.q_max);
        minmax(b->sp_min, &all.sp_min, &all.sp_max);     minmax(b->sp_max, &all.sp_min, &all.sp_max);
        minmax(b->rh_min, &all.rh_min, &all.rh_max);     minmax(b->rh_max, &all.rh_min, &all.rh_max);
        minmax(b->dt_min, &all.dt_min, &all.dt_max);     minmax(b->dt_max, &all.dt_min, &all.dt_max);
        sum += b->sp_sum;
        n += b->sp_n;
    }
    x->dmp_rng = range_of(all.dmp_min, all.dmp_max);
    x->q_rng = range_of(all.q_min, all.q_max);
    x->sp_rng = range_of(all.sp_min, all.sp_max);
    x->sp_mean = n > 0 ? sum / n : NAN;
    x->rh_rng = range_of(all.rh_min, all.rh_max);
    x->dt_rng = range_of(all.dt_min, all.dt_max);
}

/* Feeds one raw command value to a reversal counter: a reversal is a move
 * of at least db against the current direction, measured from the last
 * extreme, so noise smaller than db never counts. */
static void hunt_add(struct sb_vav_hunt *h, double x, double db, int64_t t)
{
    if (!isfinite(x))
        return;
    h->seen = t;
    if (!h->have) {
        h->have = 1;
        h->ref = x;
        h->dir = 0;
        return;
    }
    if (h->dir == 0) {
        if (fabs(x - h->ref) >= db) {
            h->dir = x > h->ref ? 1 : -1;
            h->ref = x;
        }
        return;
    }
    if ((h->dir > 0 && x > h->ref) || (h->dir < 0 && x < h->ref)) {
        h->ref = x;   /* still moving the same way: new extreme */
        return;
    }
    if (fabs(x - h->ref) >= db) {
        h->rev[h->head] = t;
        h->head = (h->head + 1) % SB_VAV_REV_MAX;
        if (h->n < SB_VAV_REV_MAX)
            h->n++;
        h->dir = -h->dir;
        h->ref = x;
    }
}

/* Reversals in the last SB_VAV_HUNT_S, or -1 when the command had no
 * finite value in that time. */
static int hunt_count(const struct sb_vav_hunt *h, int64_t now)
{
    int n = 0;

    if (!h->have || h->seen <= now - SB_VAV_HUNT_S)
        return -1;
    for (int k = 0; k < h->n; k++)
        if (h->rev[k] > now - SB_VAV_HUNT_S)
            n++;
    return n;
}

/* Sets both sides, returns lhs > rhs (greater) or lhs < rhs; NA on NAN. */
static int cmp(struct ctx *x, double lhs, double rhs, int greater)
{
    x->lhs = lhs;
    x->rhs = rhs;
    if (!isfinite(lhs) || !isfinite(rhs))
        return R_NA;
    return greater ? lhs > rhs : lhs < rhs;
}

static int all_finite(double a, double b, double c, double d)
{
    return isfinite(a) && isfinite(b) && isfinite(c) && isfinite(d);
}

/* Rules 1-3: the airflow loop. */
static int eval_flow(int id, struct ctx *x)
{
    const struct sb_vav_conf *c = x->c;
    const struct sb_vav_sample *v = x->v;
    double ref;

    if (id == 3) {
        if (!all_finite(x->dmp_rng, x->q_rng, x->sp_rng, x->sp_mean))
            return R_NA;
        ref = fmax(x->sp_mean, c->flow_min_abs);
        x->lhs = x->q_rng;
        x->rhs = c->resp_flow_frac * ref;
        return x->dmp_rng >= c->resp_cmd_range && x->sp_rng >= c->resp_sp_frac * ref && x->lhs < x->rhs;
    }
    if (!all_finite(v->flow, v->flow_sp, v->damper, 0))
        return R_NA;
    if (id == 1) {
        if (v->damper >= 1.0 - c->eps_d)
            return R_SKIP;   /* saturated open: rule 2's case */
        return cmp(x, fabs(v->flow - v->flow_sp), c->eps_q * fmax(v->flow_sp, c->flow_min_abs), 1);
    }
    x->lhs = v->flow;
    x->rhs = (1.0 - c->eps_q) * v->flow_sp;
    return v->damper >= 1.0 - c->eps_d && x->lhs < x->rhs;   /* 2 */
}

/* Rules 6-8: the reheat coil, judged by the rise from the AHU's supply air
 * to the box's discharge air. */
static int eval_reheat(int id, struct ctx *x)
{
    const struct sb_vav_conf *c = x->c;
    const struct sb_vav_sample *v = x->v;

    if (id == 8) {
        x->lhs = x->dt_rng;
        x->rhs = c->resp_dt_range;
        if (!isfinite(x->rh_rng) || !isfinite(x->dt_rng))
            return R_NA;
        return x->rh_rng >= c->resp_cmd_range && x->dt_rng < c->resp_dt_range;
    }
    if (!all_finite(v->reheat, v->flow, v->dat, v->sat))
        return R_NA;
    if (v->flow <= c->flow_on)
        return R_SKIP;   /* no airflow: the discharge sensor does not see the coil */
    if (id == 6) {
        x->lhs = v->dat;
        x->rhs = v->sat + c->dt_duct + c->eps_t;
        return v->reheat <= c->eps_hc && x->lhs > x->rhs;
    }
    x->lhs = v->dat - v->sat;
    x->rhs = c->dt_reheat_min;
    return v->reheat >= c->reheat_hi && x->lhs < x->rhs;   /* 7 */
}

/* Rule 9: the busier of the two commands. */
static int eval_hunting(struct ctx *x)
{
    int n = -1;

    for (int i = 0; i < 2; i++)
        if (x->rev[i] > n)
            n = x->rev[i];
    x->lhs = n < 0 ? NAN : n;
    x->rhs = x->c->hunt_max;
    if (n < 0)
        return R_NA;
    return n > x->c->hunt_max;
}

/* Rule 10: G36 §5.6.5 disables the reheat in the cooling and deadband
 * states except to keep the discharge air at or above Tdis,min; with the
 * supply air at or above that there is no reason to heat. */
static int eval_heat_cool(struct ctx *x)
{
    const struct sb_vav_sample *v = x->v;

    if (!all_finite(v->reheat, v->zat, v->clg_sp, v->sat))
        return R_NA;
    if (v->sat < x->c->dat_min)
        return R_SKIP;
    x->lhs = v->zat;
    x->rhs = v->clg_sp;
    return v->reheat > x->c->eps_hc && v->zat > v->clg_sp;
}

static int eval(int id, struct ctx *x)
{
    const struct sb_vav_conf *c = x->c;
    const struct sb_vav_sample *v = x->v;

    switch (id) {
    case 1: case 2: case 3: return eval_flow(id, x);
    case 4: return cmp(x, v->zat, v->clg_sp + c->eps_t, 1);
    case 5: return cmp(x, v->zat, v->htg_sp - c->eps_t, 0);
    case 6: case 7: case 8: return eval_reheat(id, x);
    case 9: return eval_hunting(x);
    default: return eval_heat_cool(x);   /* 10 */
    }
}

/* Filter outcome of rule id before its inequality: -1 to evaluate, else a
 * status. */
static int gate(const struct sb_vav *v, int id, int run, int occ, int steady, int64_t t)
{
    if (!(v->conf.enabled & SB_VAV_BIT(id)))
        return SB_VAV_ST_DISABLED;
    if (run < 0)
        return SB_VAV_ST_NOT_EVALUABLE;
    if (run == 0 || !steady)
        return SB_VAV_ST_INACTIVE;
    switch (id) {
    case SB_VAV_RULE_ZONE_WARM: case SB_VAV_RULE_ZONE_COLD:
        if (occ < 0)
            return SB_VAV_ST_NOT_EVALUABLE;
        return occ ? -1 : SB_VAV_ST_INACTIVE;
    case SB_VAV_RULE_DAMPER_RESP: case SB_VAV_RULE_REHEAT_RESP:
        return v->bk_n < SB_VAV_BUCKETS ? SB_VAV_ST_INACTIVE : -1;
    case SB_VAV_RULE_HUNTING:
        return t - v->steady_since < SB_VAV_HUNT_S ? SB_VAV_ST_INACTIVE : -1;
    default:
        return -1;
    }
}

/* Applies one evaluation outcome to the rule's state and the result. */
static void update_rule(struct sb_vav *v, int id, int st, const struct ctx *x, int64_t t,
                        struct sb_vav_result *res)
{
    struct sb_vav_rule_state *r = &v->r[id];
    int was_true = r->status == SB_VAV_ST_PENDING || r->status == SB_VAV_ST_FIRED;

    if (st == R_TRUE) {
        if (!was_true)
            r->since = t;
        r->status = t - r->since >= v->conf.on_delay_s[id] ? SB_VAV_ST_FIRED : SB_VAV_ST_PENDING;
        r->lhs = x->lhs;
        r->rhs = x->rhs;
        r->ev = *x->v;
        if (r->status == SB_VAV_ST_FIRED) {
            res->fired |= SB_VAV_BIT(id);
            if (!r->active) {
                r->active = 1;
                r->fired_at = t;
                res->raised |= SB_VAV_BIT(id);
            }
        }
    } else if (st == R_FALSE) {
        r->status = SB_VAV_ST_OK;
        if (r->active) {
            r->active = 0;
            res->cleared |= SB_VAV_BIT(id);
        }
    } else {
        r->status = (uint8_t)(st == R_NA ? SB_VAV_ST_NOT_EVALUABLE : SB_VAV_ST_INACTIVE);
    }
    res->status[id] = r->status;
}

static void eval_rules(struct sb_vav *v, const struct sb_vav_sample *avg, int run, int occ, int steady,
                       int64_t t, struct sb_vav_result *res)
{
    struct ctx x = { .c = &v->conf, .v = avg };

    bucket_ranges(v, &x);
    for (int i = 0; i < 2; i++)
        x.rev[i] = hunt_count(&v->hunt[i], t);
    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        int g = gate(v, id, run, occ, steady, t);

        if (g >= 0) {
            v->r[id].status = (uint8_t)g;
            res->status[id] = (uint8_t)g;
            continue;
        }
        x.lhs = x.rhs = NAN;
        update_rule(v, id, eval(id, &x), &x, t, res);
    }
}

int sb_vav_step(struct sb_vav *v, const struct sb_vav_sample *s, struct sb_vav_result *res)
{
    struct sb_vav_result dummy;
    struct sb_vav_sample avg;
    int gap, run, occ, steady;

    /* Bounded so that differences of times can never overflow. */
    if (s->t < -SB_VAV_T_MAX || s->t > SB_VAV_T_MAX)
        return SB_ERANGE;
    if (v->have_last && s->t <= v->last_t)
        return SB_EINVAL;
    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    gap = !v->have_last || s->t - v->last_t > v->conf.max_gap_s;
    run = running_state(&v->conf, s);
    occ = isfinite(s->occupied) ? s->occupied >= 0.5 : -1;
    steady = track(v, run, occ, s->t, gap);
    if (run == 1)
        win_push(v, s);
    win_mean(v, s->t, &avg);
    if (steady) {
        /* Steadiness never lapses within a stretch, so the previous sample
         * was steady unless this is the stretch's first steady one. */
        bucket_add(v, &avg, s->t > v->steady_since ? s->t - v->last_t : 0);
        hunt_add(&v->hunt[0], s->damper, v->conf.hunt_deadband, s->t);
        hunt_add(&v->hunt[1], s->reheat, v->conf.hunt_deadband, s->t);
    }
    eval_rules(v, &avg, run, occ, steady, s->t, res);
    res->running = run;
    res->steady = steady;
    v->running = run;
    v->last_t = s->t;
    v->have_last = 1;
    return 0;
}

int sb_vav_run(struct sb_vav *v, const struct sb_vav_sample *s, size_t n, struct sb_vav_tally *t)
{
    struct sb_vav_result res;

    for (size_t i = 0; i < n; i++) {
        int rc = sb_vav_step(v, &s[i], &res);

        if (rc != 0)
            return rc;
        if (!t)
            continue;
        t->samples++;
        t->steady += (uint32_t)res.steady;
        for (int id = 1; id <= SB_VAV_NRULES; id++) {
            t->fired[id] += res.status[id] == SB_VAV_ST_FIRED;
            t->raised[id] += (res.raised & SB_VAV_BIT(id)) != 0;
            t->not_evaluable[id] += res.status[id] == SB_VAV_ST_NOT_EVALUABLE;
        }
    }
    return 0;
}

int sb_vav_finding(const struct sb_vav *v, int rule, struct sb_vav_finding *f)
{
    const struct sb_vav_rule_state *r;

    if (rule < 1 || rule > SB_VAV_NRULES)
        return SB_EINVAL;
    r = &v->r[rule];
    if (!r->active)
        return SB_ENOENT;
    f->rule = rule;
    f->info = sb_vav_rule_info(rule);
    f->faults = f->info->faults;
    f->since = r->since;
    f->fired_at = r->fired_at;
    f->lhs = r->lhs;
    f->rhs = r->rhs;
    f->ev = r->ev;
    return 0;
}

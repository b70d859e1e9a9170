/*
 * plant.c - chiller COP degradation (learnt curve + CUSUM) and short
 * cycling.  See plant.h for the contract and
 * docs/internals/fdd-sensors-plant.md for the thresholds.
 */
#include "fdd/plant.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define HOUR_S 3600
#define RETRY_S HOUR_S      /* a failed fit is retried an hour later */

static const struct sb_fdd_check_info chiller_info[SB_CHILLER_NCHECKS] = {
    { SB_CHILLER_DEGRADED, "COP degraded",
      "the chiller's COP has fallen below the curve learnt at the start of monitoring (CUSUM on 1 - COP/expected)",
      "fouled condenser or evaporator, low refrigerant charge, non-condensables, failing compressor, "
      "or a changed operating point (condenser water temperature, chilled water reset)",
      "check condenser and evaporator approach temperatures, refrigerant charge and the condenser water "
      "temperature; clean the tubes if the approaches have grown" },
    { SB_CHILLER_SHORT_CYCLING, "short cycling",
      "the chiller starts more than starts_max times an hour, or runs shorter than min_run_s repeatedly",
      "oversized machine at low load, control deadband too narrow, flow switch or low-pressure trips, "
      "staging logic hunting",
      "check the compressor's alarm history, the chilled water setpoint deadband, minimum flow and the "
      "staging sequence; compressors wear with every start" },
};

const struct sb_fdd_check_info *sb_chiller_check_info(int check)
{
    return check >= 0 && check < SB_CHILLER_NCHECKS ? &chiller_info[check] : NULL;
}

/* ------------------------------------------------------------------ conf */

#define CP(n, u, d, lo, hi, f, i) { n, u, d, lo, hi, offsetof(struct sb_chiller_conf, f), i }
static const struct sb_fdd_param chiller_params[] = {
    CP("cap_kw", "kW", "capacity for the part-load ratio (NAN: learnt as the 99th percentile of load)", 1, 1e6,
       cap_kw, 0),
    CP("learn_s", "s", "running time over which the COP curve is learnt", 3600, 31536000, learn_s, 1),
    CP("learn_min", "1", "usable samples needed to learn the curve", 20, 10000000, learn_min, 1),
    CP("plr_min", "1", "part-load ratio below which COP is not judged", 0, 0.9, plr_min, 0),
    CP("cop_lo", "1", "lowest plausible COP (below: bad sample)", 0.05, 5, cop_lo, 0),
    CP("cop_hi", "1", "highest plausible COP (above: bad sample)", 2, 50, cop_hi, 0),
    CP("sd_min", "1", "floor of the sd of 1 - COP/expected", 0.001, 1, sd_min, 0),
    CP("cusum_k", "sd", "CUSUM reference value", 0, 5, cusum_k, 0),
    CP("cusum_h", "sd", "CUSUM decision interval", 0.5, 100, cusum_h, 0),
    CP("cusum_clip", "sd", "z is winsorised to +-this (one bad sample cannot fire)", 1, 1000, cusum_clip, 0),
    CP("loss_min", "1", "mean COP loss over the CUSUM run needed to fire", 0, 0.9, loss_min, 0),
    CP("max_gap_s", "s", "longer gaps between samples do not count as running time", 60, 86400, max_gap_s, 1),
    CP("starts_max", "1", "more starts than this in start_window_s fires", 1, SB_CHILLER_EVENTS_MAX - 2,
       starts_max, 1),
    CP("start_window_s", "s", "rolling window for counting starts", 60, 86400, start_window_s, 1),
    CP("min_run_s", "s", "a run shorter than this is short", 0, 86400, min_run_s, 1),
    CP("short_runs_max", "1", "more short runs than this in short_window_s fires", 1, SB_CHILLER_EVENTS_MAX - 2,
       short_runs_max, 1),
    CP("short_window_s", "s", "rolling window for counting short runs", 60, 86400, short_window_s, 1),
};
#define N_CHILLER_PARAMS (sizeof chiller_params / sizeof chiller_params[0])
#define CHILLER_NAN_OK 1u   /* cap_kw */

const struct sb_fdd_param *sb_chiller_conf_params(size_t *n)
{
    if (n)
        *n = N_CHILLER_PARAMS;
    return chiller_params;
}

void sb_chiller_sample_init(struct sb_chiller_sample *s)
{
    s->t = 0;
    s->running = s->load_kw = s->kw = s->oat = s->chw = NAN;
}

void sb_chiller_conf_default(struct sb_chiller_conf *c)
{
    memset(c, 0, sizeof *c);
    c->cap_kw = NAN;
    c->learn_s = 3 * 24 * HOUR_S;
    c->learn_min = 120;
    c->plr_min = 0.2;
    c->cop_lo = 0.5;
    c->cop_hi = 15;
    c->sd_min = 0.02;
    c->cusum_k = 0.5;
    c->cusum_h = 5;
    c->cusum_clip = 3;
    c->loss_min = 0.08;
    c->max_gap_s = 1800;
    c->starts_max = 4;
    c->start_window_s = HOUR_S;
    c->min_run_s = 300;
    c->short_runs_max = 3;
    c->short_window_s = 2 * HOUR_S;
}

int sb_chiller_conf_check(const struct sb_chiller_conf *c, char *err, size_t errlen)
{
    int rc = sb_fdd__param_check(c, chiller_params, N_CHILLER_PARAMS, CHILLER_NAN_OK, "chiller", err, errlen);

    if (rc)
        return rc;
    if (!(c->cusum_clip > c->cusum_k)) {
        sb_errf(err, errlen, "chiller: cusum_clip = %g must exceed cusum_k = %g", c->cusum_clip, c->cusum_k);
        return SB_EINVAL;
    }
    if (!(c->cop_lo < c->cop_hi)) {
        sb_errf(err, errlen, "chiller: cop_lo = %g must be below cop_hi = %g", c->cop_lo, c->cop_hi);
        return SB_EINVAL;
    }
    return 0;
}

int sb_chiller_conf_set(struct sb_chiller_conf *c, const char *name, double value, char *err, size_t errlen)
{
    return sb_fdd__param_set(c, chiller_params, N_CHILLER_PARAMS, CHILLER_NAN_OK, name, value, err, errlen);
}

/* ----------------------------------------------------------------- state */

int sb_chiller_init(struct sb_chiller *ch, const struct sb_chiller_conf *conf)
{
    if (sb_chiller_conf_check(conf, NULL, 0) != 0)
        return SB_EINVAL;
    memset(ch, 0, sizeof *ch);
    ch->conf = *conf;
    sb_chiller_reset(ch);
    return 0;
}

void sb_chiller_reset(struct sb_chiller *ch)
{
    struct sb_chiller_conf c = ch->conf;

    memset(ch, 0, sizeof *ch);
    ch->conf = c;
    ch->stride = 1;
    ch->model.cap_kw = NAN;
    ch->ev_loss = ch->ev_cop = ch->ev_exp = ch->ev_load = ch->ev_extra = ch->ev_plr = ch->ev_cusum = NAN;
    /* Cannot fail: conf_check bounded sd_min, k and h. */
    (void)sb_baseline_init(&ch->base, 2, c.sd_min);
    (void)sb_cusum_init(&ch->cusum, c.cusum_k, c.cusum_h);
    /* Bounded, so that a repaired chiller clears in about h/k samples. */
    ch->cusum.cap = 2 * c.cusum_h;
    ch->cusum.clip = c.cusum_clip;
}

/* ------------------------------------------------------------ the curve */

/* Regressors of one row into x[]: 1, plr, plr^2, oat, chw. */
static void regressors(double plr, double oat, double chw, double x[SB_CHILLER_NCOEF])
{
    x[0] = 1;
    x[1] = plr;
    x[2] = plr * plr;
    x[3] = oat;
    x[4] = chw;
}

static double model_eval(const struct sb_chiller_model *m, double plr, double oat, double chw)
{
    double x[SB_CHILLER_NCOEF], y;

    if (!m->learnt || !isfinite(plr) || (m->use_oat && !isfinite(oat)) || (m->use_chw && !isfinite(chw)))
        return NAN;
    regressors(plr, m->use_oat ? oat : 0, m->use_chw ? chw : 0, x);
    y = 0;
    for (int j = 0; j < SB_CHILLER_NCOEF; j++)
        y += m->b[j] * x[j];
    return y;
}

double sb_chiller_expected_cop(const struct sb_chiller *ch, double plr, double oat, double chw)
{
    return model_eval(&ch->model, plr, oat, chw);
}

int sb_chiller_get_model(const struct sb_chiller *ch, struct sb_chiller_model *m)
{
    *m = ch->model;
    return ch->model.learnt ? 0 : SB_EAGAIN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* 99th percentile of the training loads (Hyndman-Fan type 7): the
 * capacity the machine reaches in ordinary operation, robust to a few
 * metering spikes above it. */
static double learn_cap(const struct sb_chiller *ch)
{
    double v[SB_CHILLER_TRAIN_MAX], h;
    int n = ch->n_train, lo;

    for (int i = 0; i < n; i++)
        v[i] = ch->train[i].load;
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    h = 0.99 * (n - 1);
    lo = (int)floor(h);
    return lo + 1 < n ? v[lo] + (h - lo) * (v[lo + 1] - v[lo]) : v[n - 1];
}

/* In-place Cholesky A = L L^T of a p x p symmetric matrix (lower triangle
 * used) and solve A x = b.  Returns 0, or SB_EINVAL when a pivot is not
 * clearly positive (collinear regressors). */
static int chol_solve(double a[SB_CHILLER_NCOEF][SB_CHILLER_NCOEF], double b[SB_CHILLER_NCOEF], int p, double tol)
{
    for (int j = 0; j < p; j++) {
        double d = a[j][j];

        for (int k = 0; k < j; k++)
            d -= a[j][k] * a[j][k];
        if (!(d > tol))
            return SB_EINVAL;
        a[j][j] = sqrt(d);
        for (int i = j + 1; i < p; i++) {
            double s = a[i][j];

            for (int k = 0; k < j; k++)
                s -= a[i][k] * a[j][k];
            a[i][j] = s / a[j][j];
        }
    }
    for (int i = 0; i < p; i++) {          /* L y = b */
        for (int k = 0; k < i; k++)
            b[i] -= a[i][k] * b[k];
        b[i] /= a[i][i];
    }
    for (int i = p - 1; i >= 0; i--) {     /* L^T x = y */
        for (int k = i + 1; k < p; k++)
            b[i] -= a[k][i] * b[k];
        b[i] /= a[i][i];
    }
    return 0;
}

/* The working set of a fit: which rows and columns take part. */
struct fitset {
    double cap;
    int col[SB_CHILLER_NCOEF];   /* regressor indices used, col[0] = 0 */
    int p;                       /* number used */
    double mean[SB_CHILLER_NCOEF], sd[SB_CHILLER_NCOEF]; /* per regressor over the rows */
};

static int row_usable(const struct sb_chiller *ch, const struct sb_chiller_row *r, double cap)
{
    return r->load / cap >= ch->conf.plr_min && isfinite(r->cop);
}

/* Mean and sd of regressor j over usable rows with it finite; returns the
 * count. */
static int col_stats(const struct sb_chiller *ch, double cap, int j, double *mean, double *sd)
{
    double s = 0, ss = 0, x[SB_CHILLER_NCOEF];
    int n = 0;

    for (int i = 0; i < ch->n_train; i++) {
        const struct sb_chiller_row *r = &ch->train[i];

        if (!row_usable(ch, r, cap))
            continue;
        regressors(r->load / cap, r->oat, r->chw, x);
        if (!isfinite(x[j]))
            continue;
        s += x[j];
        ss += x[j] * x[j];
        n++;
    }
    *mean = n ? s / n : NAN;
    *sd = n > 1 ? sqrt(fmax(0, (ss - s * s / n) / (n - 1))) : 0;
    return n;
}

/* Picks the regressors: plr terms when the load varied, oat and chw when
 * (nearly) every row has them and they varied.  A constant column would be
 * collinear with the intercept. */
static int choose_columns(const struct sb_chiller *ch, struct fitset *fs)
{
    static const double sd_need[SB_CHILLER_NCOEF] = { 0, 0.02, 0.02, 0.5, 0.2 };
    int n_all = col_stats(ch, fs->cap, 0, &fs->mean[0], &fs->sd[0]);

    fs->p = 1;
    fs->col[0] = 0;
    fs->mean[0] = 0;
    fs->sd[0] = 1;
    for (int j = 1; j < SB_CHILLER_NCOEF; j++) {
        int n = col_stats(ch, fs->cap, j, &fs->mean[j], &fs->sd[j]);

        if (n >= 0.9 * n_all && fs->sd[j] >= sd_need[j])
            fs->col[fs->p++] = j;
    }
    return n_all;
}

static int row_in_fit(const struct sb_chiller *ch, const struct fitset *fs, const struct sb_chiller_row *r,
                      double x[SB_CHILLER_NCOEF])
{
    if (!row_usable(ch, r, fs->cap))
        return 0;
    regressors(r->load / fs->cap, r->oat, r->chw, x);
    for (int k = 1; k < fs->p; k++)
        if (!isfinite(x[fs->col[k]]))
            return 0;
    return 1;
}

/* Least squares on standardised columns (so the 5 x 5 system is well
 * conditioned whatever the units), then back to b0..b4. */
static int fit_curve(struct sb_chiller *ch, struct fitset *fs, struct sb_chiller_model *m)
{
    double a[SB_CHILLER_NCOEF][SB_CHILLER_NCOEF] = { { 0 } }, rhs[SB_CHILLER_NCOEF] = { 0 };
    double x[SB_CHILLER_NCOEF], z[SB_CHILLER_NCOEF];
    int n = 0, p = fs->p;

    for (int i = 0; i < ch->n_train; i++) {
        const struct sb_chiller_row *r = &ch->train[i];

        if (!row_in_fit(ch, fs, r, x))
            continue;
        for (int k = 0; k < p; k++)
            z[k] = k ? (x[fs->col[k]] - fs->mean[fs->col[k]]) / fs->sd[fs->col[k]] : 1;
        for (int k = 0; k < p; k++) {
            rhs[k] += z[k] * r->cop;
            for (int l = 0; l <= k; l++)
                a[k][l] += z[k] * z[l];
        }
        n++;
    }
    if (n < ch->conf.learn_min || chol_solve(a, rhs, p, 1e-9 * n) != 0)
        return SB_EINVAL;
    memset(m, 0, sizeof *m);
    m->b[0] = rhs[0];
    for (int k = 1; k < p; k++) {
        int j = fs->col[k];

        m->b[j] = rhs[k] / fs->sd[j];
        m->b[0] -= rhs[k] * fs->mean[j] / fs->sd[j];
        m->use_plr |= j == 1 || j == 2;
        m->use_oat |= j == 3;
        m->use_chw |= j == 4;
    }
    m->n = (uint32_t)n;
    m->cap_kw = fs->cap;
    m->learnt = 1;
    return 0;
}

/* Training residuals: the baseline of r = 1 - COP/expected and the COP
 * RMSE. */
static int fit_residuals(struct sb_chiller *ch, const struct fitset *fs, struct sb_chiller_model *m)
{
    double x[SB_CHILLER_NCOEF], se = 0;

    (void)sb_baseline_init(&ch->base, 2, ch->conf.sd_min);
    for (int i = 0; i < ch->n_train; i++) {
        const struct sb_chiller_row *r = &ch->train[i];
        double e;

        if (!row_in_fit(ch, fs, r, x))
            continue;
        e = model_eval(m, r->load / fs->cap, r->oat, r->chw);
        if (!(e > 0.1))
            return SB_EINVAL;   /* a curve that predicts no COP here is unusable */
        (void)sb_baseline_add(&ch->base, 1 - r->cop / e);
        se += (r->cop - e) * (r->cop - e);
    }
    if (sb_baseline_freeze(&ch->base) != 0)
        return SB_EINVAL;
    m->r_mean = sb_baseline_mean(&ch->base);
    m->r_sd = sb_baseline_sd(&ch->base);
    m->cop_rmse = sqrt(se / m->n);
    return 0;
}

static int try_learn(struct sb_chiller *ch)
{
    struct fitset fs;
    struct sb_chiller_model m;

    if (ch->n_train < 2)
        return SB_EAGAIN;
    fs.cap = isfinite(ch->conf.cap_kw) ? ch->conf.cap_kw : learn_cap(ch);
    if (!(fs.cap > 0) || choose_columns(ch, &fs) < ch->conf.learn_min)
        return SB_EAGAIN;
    if (fit_curve(ch, &fs, &m) != 0 || fit_residuals(ch, &fs, &m) != 0)
        return SB_EAGAIN;
    ch->model = m;
    return 0;
}

/* Keeps an even thinning of the training samples: every stride-th is kept;
 * when the store is full, every other kept row goes and the stride doubles. */
static void train_add(struct sb_chiller *ch, const struct sb_chiller_sample *s, double cop)
{
    if (ch->seen++ % ch->stride != 0)
        return;
    if (ch->n_train == SB_CHILLER_TRAIN_MAX) {
        for (int i = 0; i < SB_CHILLER_TRAIN_MAX / 2; i++)
            ch->train[i] = ch->train[2 * i];
        ch->n_train = SB_CHILLER_TRAIN_MAX / 2;
        ch->stride *= 2;
        if ((ch->seen - 1) % ch->stride != 0)
            return;
    }
    ch->train[ch->n_train++] = (struct sb_chiller_row){ s->load_kw, s->oat, s->chw, cop };
}

/* ------------------------------------------------------------- the step */

static int time_ok(const struct sb_chiller *ch, int64_t t)
{
    if (t > SB_CHILLER_T_MAX || t < -SB_CHILLER_T_MAX)
        return SB_ERANGE;
    return ch->have_last && t <= ch->t_last ? SB_EINVAL : 0;
}

static void push_time(int64_t *ring, int *head, int *n, int64_t t)
{
    ring[*head] = t;
    *head = (*head + 1) % SB_CHILLER_EVENTS_MAX;
    if (*n < SB_CHILLER_EVENTS_MAX)
        (*n)++;
}

static int count_since(const int64_t *ring, int n, int64_t after)
{
    int c = 0;

    for (int i = 0; i < n; i++)
        if (ring[i] > after)
            c++;
    return c;
}

/* SHORT_CYCLING: starts and short runs from the transitions of `running`. */
static void cycling_step(struct sb_chiller *ch, int64_t t, double running, uint32_t acc[4])
{
    const struct sb_chiller_conf *c = &ch->conf;
    int on, cond;

    if (!isfinite(running))
        return;
    on = running > 0.5;
    if (ch->run_known && on && !ch->running) {
        push_time(ch->starts, &ch->st_head, &ch->st_n, t);
        ch->run_start = t;
        ch->have_run_start = 1;
    } else if (ch->run_known && !on && ch->running && ch->have_run_start) {
        ch->last_run_s = t - ch->run_start;
        if (ch->last_run_s < c->min_run_s)
            push_time(ch->shorts, &ch->sh_head, &ch->sh_n, t);
    }
    ch->run_known = 1;
    ch->running = on;
    ch->ev_starts = count_since(ch->starts, ch->st_n, t - c->start_window_s);
    ch->ev_shorts = count_since(ch->shorts, ch->sh_n, t - c->short_window_s);
    cond = ch->ev_starts > c->starts_max || ch->ev_shorts > c->short_runs_max;
    sb_fdd__judge(&ch->chk[SB_CHILLER_SHORT_CYCLING], SB_CHILLER_SHORT_CYCLING, cond, t, INT64_MIN, 0, acc);
}

/* COP of a sample, or NAN when it is not a plausible running sample. */
static double sample_cop(const struct sb_chiller *ch, const struct sb_chiller_sample *s)
{
    double cop;

    if (!(s->running > 0.5) || !(s->load_kw > 0) || !(s->kw > 0))
        return NAN;
    cop = s->load_kw / s->kw;
    return cop >= ch->conf.cop_lo && cop <= ch->conf.cop_hi ? cop : NAN;
}

static void learn_step(struct sb_chiller *ch, const struct sb_chiller_sample *s, double cop,
                       struct sb_chiller_result *res)
{
    if (ch->have_last && ch->run_known && ch->running && s->running > 0.5 && s->t - ch->t_last <= ch->conf.max_gap_s)
        ch->run_time += s->t - ch->t_last;
    if (isfinite(cop))
        train_add(ch, s, cop);
    if (ch->run_time < ch->conf.learn_s || (ch->have_try && s->t < ch->next_try))
        return;
    if (try_learn(ch) == 0) {
        res->learnt_now = 1;
        return;
    }
    ch->have_try = 1;
    ch->next_try = s->t + RETRY_S;
}

/* DEGRADED on one judged sample.  It is raised while the upper CUSUM
 * signals and the mean loss over its run is at least loss_min, and stays
 * active while the CUSUM signals (hysteresis: a loss hovering at loss_min
 * must not flap).  When it clears, the CUSUM restarts, so raising it again
 * needs fresh evidence rather than the repaired period's long run. */
static void degraded_step(struct sb_chiller *ch, const struct sb_chiller_sample *s, double cop,
                          struct sb_chiller_result *res, uint32_t acc[4])
{
    const struct sb_chiller_model *m = &ch->model;
    struct sb_fdd_chk *k = &ch->chk[SB_CHILLER_DEGRADED];
    double plr = s->load_kw / m->cap_kw, e, loss;
    int signal, cond;

    if (!isfinite(cop) || plr < ch->conf.plr_min)
        return;
    e = model_eval(m, plr, s->oat, s->chw);
    if (!(e > 0.1))
        return;
    res->ratio = cop / e;
    (void)sb_cusum_step(&ch->cusum, sb_baseline_z(&ch->base, 1 - cop / e));
    /* Mean of r - r_mean over the run: Montgomery's shift estimate in the
     * unit of r, i.e. the fraction of COP lost. */
    loss = sb_cusum_shift(&ch->cusum, 1) * sb_baseline_scale(&ch->base);
    signal = ch->cusum.sp > ch->cusum.h;
    cond = signal && (k->active || loss >= ch->conf.loss_min);
    if (cond) {
        ch->ev_loss = loss;
        ch->ev_cop = cop;
        ch->ev_exp = e;
        ch->ev_load = s->load_kw;
        ch->ev_plr = plr;
        ch->ev_extra = loss < 1 ? s->load_kw / (e * (1 - loss)) - s->load_kw / e : NAN;
        ch->ev_cusum = ch->cusum.sp;
        ch->ev_run_n = ch->cusum.np;
    }
    if (!cond && k->active)
        sb_cusum_reset(&ch->cusum);
    sb_fdd__judge(k, SB_CHILLER_DEGRADED, cond, s->t, INT64_MIN, 0, acc);
}

int sb_chiller_step(struct sb_chiller *ch, const struct sb_chiller_sample *s, struct sb_chiller_result *res)
{
    struct sb_chiller_result tmp;
    uint32_t acc[4] = { 0 };
    double cop;
    int rc = time_ok(ch, s->t);

    if (rc)
        return rc;
    if (!res)
        res = &tmp;
    memset(res, 0, sizeof *res);
    res->ratio = NAN;
    cop = sample_cop(ch, s);
    if (!ch->model.learnt)
        learn_step(ch, s, cop, res);
    else
        degraded_step(ch, s, cop, res, acc);
    cycling_step(ch, s->t, s->running, acc);
    ch->have_last = 1;
    ch->t_last = s->t;
    res->evaluated = acc[0];
    res->fired = acc[1];
    res->raised = acc[2];
    res->cleared = acc[3];
    for (int i = 0; i < SB_CHILLER_NCHECKS; i++)
        if (ch->chk[i].active)
            res->active |= SB_CHILLER_BIT(i);
    return 0;
}

/* -------------------------------------------------------------- findings */

int sb_chiller_finding(const struct sb_chiller *ch, int check, struct sb_chiller_finding *f)
{
    if (check < 0 || check >= SB_CHILLER_NCHECKS)
        return SB_EINVAL;
    if (!ch->chk[check].active)
        return SB_ENOENT;
    memset(f, 0, sizeof *f);
    f->check = check;
    f->info = &chiller_info[check];
    f->since = ch->chk[check].since;
    f->fired_at = ch->chk[check].fired_at;
    f->loss = ch->ev_loss;
    f->cop = ch->ev_cop;
    f->cop_expected = ch->ev_exp;
    f->load_kw = ch->ev_load;
    f->plr = ch->ev_plr;
    f->extra_kw = ch->ev_extra;
    f->cusum = ch->ev_cusum;
    f->run_n = ch->ev_run_n;
    f->starts = ch->ev_starts;
    f->short_runs = ch->ev_shorts;
    f->last_run_s = ch->last_run_s;
    return 0;
}

int sb_chiller_finding_format(const struct sb_chiller_finding *f, char *buf, size_t len)
{
    int off = 0;

    if (buf && len)
        buf[0] = '\0';
    sb_fdd_put(buf, len, &off, "chiller %s: %s", f->info->name, f->info->meaning);
    if (f->check == SB_CHILLER_DEGRADED)
        sb_fdd_put(buf, len, &off,
                    " [COP %.2f vs %.2f expected at %.0f kW (plr %.2f); estimated loss %.0f %%, %.1f kW extra; "
                    "CUSUM %.1f over %u samples]",
                    f->cop, f->cop_expected, f->load_kw, f->plr, 100 * f->loss, f->extra_kw, f->cusum,
                    (unsigned)f->run_n);
    else
        sb_fdd_put(buf, len, &off, " [%d starts in the window, %d short runs, last run %" PRId64 " s]", f->starts,
                    f->short_runs, f->last_run_s);
    sb_fdd_put(buf, len, &off, "; since t=%" PRId64 ", fired t=%" PRId64 "; fault: %s; action: %s", f->since,
                f->fired_at, f->info->fault, f->info->action);
    return off;
}

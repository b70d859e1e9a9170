/*
 * arb.c - command arbitration and guardrails (arb.h,
 * docs/internals/control-arbitration.md).
 *
 * The ranking follows the BACnet priority array (ASHRAE 135 clause 19.2
 * "command prioritization": the non-NULL slot with the lowest index wins; a
 * relinquished slot drops out), computed here rather than in the device
 * so that a ramp can join the values of two sources, and so that Modbus and
 * REST points, which have no array, get the same answer.
 */
#include "control/arb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

static const char *const src_names[SB_ARB_NSRC] = {
    "operator", "demand", "tenant", "optimizer", "setback", "schedule"
};

/* Defaults (justified in the doc): the operator at BACnet's "manual
 * operator" slot 8 (clause 19.2.1.1), the demand limiter right under it
 * because a demand limit protects a contract and beats comfort requests,
 * then the tenant, the optimizer, the setback, and the schedule as the
 * base everything falls back to. */
static const int prio_default[SB_ARB_NSRC] = { 8, 9, 10, 12, 13, 14 };

const char *sb_arb_src_name(int src)
{
    return src >= 0 && src < SB_ARB_NSRC ? src_names[src] : "?";
}

int sb_arb_src_parse(const char *name)
{
    for (int i = 0; name && i < SB_ARB_NSRC; i++)
        if (strcmp(name, src_names[i]) == 0)
            return i;
    return SB_EINVAL;
}

const char *sb_arb_mode_name(int mode)
{
    static const char *const n[] = { "off", "advisory", "auto" };
    return mode >= SB_ARB_OFF && mode <= SB_ARB_AUTO ? n[mode] : "?";
}

void sb_arb_cfg_init(struct sb_arb_cfg *c)
{
    memset(c, 0, sizeof(*c));
    memcpy(c->prio, prio_default, sizeof(c->prio));
    c->write_priority = 12;
    c->min = -1e9;
    c->max = 1e9;
    c->rate_up = INFINITY;
    c->rate_down = INFINITY;
    c->has_array = 1;
}

static int check_prio(const struct sb_arb_cfg *c, char *err, size_t cap)
{
    for (int i = 0; i < SB_ARB_NSRC; i++) {
        if (c->prio[i] < 1 || c->prio[i] > 16) {
            sb_errf(err, cap, "priority of %s: %d is not in 1..16", src_names[i], c->prio[i]);
            return SB_EINVAL;
        }
        for (int j = 0; j < i; j++)
            if (c->prio[j] == c->prio[i]) {
                sb_errf(err, cap, "priority %d given to both %s and %s", c->prio[i], src_names[j],
                        src_names[i]);
                return SB_EINVAL;
            }
    }
    if (c->write_priority < 1 || c->write_priority > 16) {
        sb_errf(err, cap, "write_priority: %d is not in 1..16", c->write_priority);
        return SB_EINVAL;
    }
    return 0;
}

int sb_arb_cfg_check(const struct sb_arb_cfg *c, char *err, size_t cap)
{
    int rc = c ? check_prio(c, err, cap) : SB_EINVAL;

    if (rc)
        goto out;
    rc = SB_EINVAL;
    if (!isfinite(c->min) || !isfinite(c->max) || c->min > c->max)
        sb_errf(err, cap, "bounds [%g, %g]: finite and min <= max", c->min, c->max);
    else if (isnan(c->rate_up) || c->rate_up <= 0 || isnan(c->rate_down) || c->rate_down <= 0)
        sb_errf(err, cap, "rates %g/%g per min: > 0 (INFINITY: no limit)", c->rate_up, c->rate_down);
    else if (!isfinite(c->deadband) || c->deadband < 0)
        sb_errf(err, cap, "deadband %g: finite and >= 0", c->deadband);
    else if (c->min_interval_ms < 0 || c->refresh_ms < 0)
        sb_errf(err, cap, "min_interval/refresh: >= 0");
    else
        rc = 0;
out:
    return rc;
}

int sb_arb_init(struct sb_arb_point *p, const struct sb_arb_cfg *cfg)
{
    int rc = sb_arb_cfg_check(cfg, NULL, 0);

    if (rc)
        return rc;
    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->st.cmd = NAN;
    p->st.written = NAN;
    return 0;
}

int sb_arb_mode_eff(int zone_mode, int building_mode)
{
    return zone_mode < building_mode ? zone_mode : building_mode;
}

int sb_arb_set(struct sb_arb_point *p, int src, double value, const char *owner, const char *reason,
               int64_t set_at_ms, int64_t expires_ms)
{
    if (src < 0 || src >= SB_ARB_NSRC)
        return SB_EINVAL;
    if (!isfinite(value))
        return SB_ENAN;
    struct sb_arb_cmd *c = &p->cmd[src];
    c->set = 1;
    c->value = value;
    snprintf(c->owner, sizeof(c->owner), "%s", owner ? owner : "");
    snprintf(c->reason, sizeof(c->reason), "%s", reason ? reason : "");
    c->set_at_ms = set_at_ms;
    c->expires_ms = expires_ms;
    return 0;
}

int sb_arb_release(struct sb_arb_point *p, int src)
{
    if (src < 0 || src >= SB_ARB_NSRC)
        return SB_EINVAL;
    memset(&p->cmd[src], 0, sizeof(p->cmd[src]));
    return 0;
}

/* "Manual" sources rank at or above the operator: they may leave the
 * comfort band and still write in advisory and off. */
static int manual(const struct sb_arb_point *p, int src)
{
    return p->cfg.prio[src] <= p->cfg.prio[SB_ARB_OPERATOR];
}

static int live(const struct sb_arb_cmd *c, int64_t now)
{
    return c->set && (c->expires_ms == 0 || now < c->expires_ms);
}

int sb_arb_check(const struct sb_arb_point *p, int src, double value, double band_lo, double band_hi)
{
    if (src < 0 || src >= SB_ARB_NSRC)
        return SB_EINVAL;
    if (!isfinite(value))
        return SB_ENAN;
    if (value < p->cfg.min || value > p->cfg.max)
        return SB_ERANGE;
    if (!manual(p, src) && ((!isnan(band_lo) && value < band_lo) || (!isnan(band_hi) && value > band_hi)))
        return SB_ERANGE;
    return 0;
}

int sb_arb_winner(const struct sb_arb_point *p, int64_t now_ms, unsigned skip)
{
    int w = -1;

    for (int i = 0; i < SB_ARB_NSRC; i++)
        if (!(skip & (1u << i)) && live(&p->cmd[i], now_ms) && (w < 0 || p->cfg.prio[i] < p->cfg.prio[w]))
            w = i;
    return w;
}

/* ---- one update ------------------------------------------------------------------------ */

/* Steps 1-3: drop expired commands; the sources not to consider now. */
static unsigned candidates_skip(struct sb_arb_point *p, const struct sb_arb_in *in, int mode,
                                struct sb_arb_explain *why)
{
    unsigned skip = 0;

    for (int i = 0; i < SB_ARB_NSRC; i++) {
        struct sb_arb_cmd *c = &p->cmd[i];
        if (c->set && !live(c, in->now_ms)) {
            why->expired |= 1u << i;
            memset(c, 0, sizeof(*c));
        }
        if (!c->set)
            continue;
        why->live |= 1u << i;
        if (in->stale & (1u << i))
            why->dropped |= 1u << i;
        else if (mode == SB_ARB_OFF && !manual(p, i))
            why->flags |= SB_ARB_F_OFF;
        else
            continue;
        skip |= 1u << i;
    }
    if (why->dropped)
        why->flags |= SB_ARB_F_FALLBACK;
    return skip;
}

/* Step 5: the winner's value within the band (automatic sources) and the
 * bounds (everyone; the bounds protect the equipment, the band comfort). */
static double guard(const struct sb_arb_point *p, int w, const struct sb_arb_in *in, unsigned *flags)
{
    double t = p->cmd[w].value;

    if (!manual(p, w)) {
        if (!isnan(in->band_lo) && t < in->band_lo) {
            t = in->band_lo;
            *flags |= SB_ARB_F_BAND;
        }
        if (!isnan(in->band_hi) && t > in->band_hi) {
            t = in->band_hi;
            *flags |= SB_ARB_F_BAND;
        }
    }
    if (t < p->cfg.min || t > p->cfg.max) {
        t = t < p->cfg.min ? p->cfg.min : p->cfg.max;
        *flags |= SB_ARB_F_BOUNDS;
    }
    return t;
}

/* Step 6: from origin towards target by at most rate * elapsed. */
static double ramp(const struct sb_arb_cfg *c, double origin, double target, int64_t el_ms)
{
    double min = (double)el_ms / 60000.0;
    double up = c->rate_up * min, down = c->rate_down * min;   /* unused when infinite */

    if (target > origin)
        return isinf(c->rate_up) || target - origin <= up ? target : origin + up;
    if (target < origin)
        return isinf(c->rate_down) || origin - target <= down ? target : origin - down;
    return target;
}

static double clamp_bounds(const struct sb_arb_cfg *c, double v)
{
    return v < c->min ? c->min : v > c->max ? c->max : v;
}

/* Step 8: write v now?  v == target forces a write of a residual under
 * the deadband, so a ramp always lands exactly. */
static void decide(struct sb_arb_point *p, double v, double target, int64_t now, struct sb_arb_out *out)
{
    struct sb_arb_state *s = &p->st;
    double d = isnan(s->written) ? INFINITY : fabs(v - s->written);
    int due = !s->held || isnan(s->written) || (d > 0 && d >= p->cfg.deadband) || (v == target && d > 0) ||
              (p->cfg.refresh_ms > 0 && now - s->written_ms >= p->cfg.refresh_ms);

    if (!due) {
        if (d > 0)
            out->why.flags |= SB_ARB_F_DEADBAND;
        return;
    }
    if (s->written_ms && now - s->written_ms < p->cfg.min_interval_ms) {
        out->why.flags |= SB_ARB_F_INTERVAL;
        return;
    }
    out->action = SB_ARB_WRITE;
    s->held = 1;
    s->written = v;
    s->written_ms = now;
    s->last_action = SB_ARB_WRITE;
}

/* The winner is writable: ramp towards its guarded target. */
static void drive(struct sb_arb_point *p, const struct sb_arb_in *in, double target, int64_t el,
                  struct sb_arb_out *out)
{
    struct sb_arb_state *s = &p->st;
    double origin = s->held ? s->cmd : in->present, v;

    if (!isfinite(origin)) {
        v = target;                 /* nothing known to ramp from */
        if (!isinf(p->cfg.rate_up) || !isinf(p->cfg.rate_down))
            out->why.flags |= SB_ARB_F_NOSTART;
    } else {
        v = clamp_bounds(&p->cfg, ramp(&p->cfg, origin, target, el));
    }
    if (v != target)
        out->why.flags |= SB_ARB_F_RAMPED;
    s->cmd = v;
    out->value = v;
    decide(p, v, target, in->now_ms, out);
}

/* Step 7: nothing writable; give the slot back, ramped when the value the
 * device falls back to is known. */
static void release(struct sb_arb_point *p, const struct sb_arb_in *in, int64_t el, struct sb_arb_out *out)
{
    struct sb_arb_state *s = &p->st;

    if (!s->held) {
        s->cmd = NAN;
        return;
    }
    out->why.flags |= SB_ARB_F_RELEASE;
    if (isfinite(in->release_to) && isfinite(s->cmd)) {
        double to = clamp_bounds(&p->cfg, in->release_to);
        double v = ramp(&p->cfg, s->cmd, to, el);
        if (v != to || s->written != to) {
            if (v != to)
                out->why.flags |= SB_ARB_F_RAMPED;
            s->cmd = v;
            out->value = v;
            decide(p, v, to, in->now_ms, out);
            return;
        }
    }
    if (p->cfg.has_array && s->written_ms && in->now_ms - s->written_ms < p->cfg.min_interval_ms) {
        out->why.flags |= SB_ARB_F_INTERVAL;
        return;
    }
    if (p->cfg.has_array) {
        out->action = SB_ARB_RELINQUISH;
        s->written_ms = in->now_ms;
        s->last_action = SB_ARB_RELINQUISH;
    }
    s->held = 0;                    /* written stays: sb_arb_write_failed restores from it */
    s->cmd = NAN;
}

static void explain_winner(const struct sb_arb_point *p, int w, struct sb_arb_explain *why)
{
    const struct sb_arb_cmd *c = &p->cmd[w];

    why->winner = w;
    why->winner_prio = p->cfg.prio[w];
    snprintf(why->owner, sizeof(why->owner), "%s", c->owner);
    snprintf(why->reason, sizeof(why->reason), "%s", c->reason);
    why->set_at_ms = c->set_at_ms;
    why->expires_ms = c->expires_ms;
    why->raw = c->value;
}

static int in_check(const struct sb_arb_in *in)
{
    int ok = in->zone_mode >= SB_ARB_OFF && in->zone_mode <= SB_ARB_AUTO && in->building_mode >= SB_ARB_OFF &&
             in->building_mode <= SB_ARB_AUTO &&
             !(!isnan(in->band_lo) && !isnan(in->band_hi) && in->band_lo > in->band_hi);
    return ok ? 0 : SB_EINVAL;
}

int sb_arb_update(struct sb_arb_point *p, const struct sb_arb_in *in, struct sb_arb_out *out)
{
    int rc = p && in && out ? in_check(in) : SB_EINVAL;

    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    out->priority = p->cfg.write_priority;
    out->value = NAN;
    out->mode = sb_arb_mode_eff(in->zone_mode, in->building_mode);
    out->why.winner = -1;
    out->why.raw = NAN;
    out->why.target = NAN;

    /* The ramp clock: the first update (or a clock gone backwards) allows
     * no movement, so a ramp never starts with a jump. */
    int64_t el = p->st.last_ms && in->now_ms > p->st.last_ms ? in->now_ms - p->st.last_ms : 0;
    p->st.last_ms = in->now_ms;

    unsigned skip = candidates_skip(p, in, out->mode, &out->why);
    int w = sb_arb_winner(p, in->now_ms, skip);
    if (w >= 0) {
        explain_winner(p, w, &out->why);
        double target = guard(p, w, in, &out->why.flags);
        out->why.target = target;
        if (out->mode == SB_ARB_AUTO || manual(p, w)) {
            drive(p, in, target, el, out);
            return 0;
        }
        out->why.flags |= SB_ARB_F_ADVISORY;
        out->value = target;
    }
    release(p, in, el, out);
    return 0;
}

void sb_arb_write_failed(struct sb_arb_point *p)
{
    struct sb_arb_state *s = &p->st;

    if (s->last_action == SB_ARB_RELINQUISH) {
        s->held = 1;                /* the device still holds our slot */
        s->cmd = s->written;
    }
    s->written = NAN;
}

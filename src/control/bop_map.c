/*
 * bop_map.c - BOPTEST zones found in the test case's signal lists, and the
 * supervisory policy that sets their setpoints (see boptest.h).
 *
 * Signal names follow BOPTEST's conventions (the test cases' docs and the
 * KPI definitions of Blum et al. 2021, "Building optimization testing
 * framework (BOPTEST) for simulation-based benchmarking of control
 * strategies in buildings", J. Building Performance Simulation 14(5)):
 * comfort bounds are forecast points LowerSetp[zone] / UpperSetp[zone];
 * overwritable inputs end in "_u"; measurements end in "_y".  Zone
 * temperatures and setpoints carry "TZon", "TRoo" or "TSet" in their
 * names; which input is heating and which cooling is told by "Hea" / "Coo".
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "control/boptest.h"
#include "core/err.h"

/* Case-insensitive substring test. */
static int has(const char *s, const char *sub)
{
    size_t n = strlen(sub);

    if (!n)
        return 1;
    for (; *s; s++)
        if (strncasecmp(s, sub, n) == 0)
            return 1;
    return 0;
}

static int ends(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static double meta_num(const json_t *inputs, const char *key, const char *field)
{
    const json_t *v = json_object_get(json_object_get(inputs, key), field);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A zone temperature measurement: "..._y" with TZon/TRoo and not a setpoint. */
static int is_temp(const char *k)
{
    return ends(k, "_y") && (has(k, "TZon") || has(k, "TRoo")) && !has(k, "Set") && !has(k, "TSup");
}

/* Heating (+1) or cooling (-1) setpoint input, 0 neither.  A single
 * "oveTSet_u"-style setpoint without Hea/Coo is taken as heating (the
 * hydronic test cases, which only heat). */
static int setpoint_kind(const char *k)
{
    if (!ends(k, "_u") || !has(k, "Set") || !has(k, "T") || has(k, "TSup"))
        return 0;
    if (has(k, "Hea"))
        return 1;
    if (has(k, "Coo"))
        return -1;
    return has(k, "TSet") || has(k, "TZon") ? 1 : 0;
}

/* Pick the key of obj that fits and names the zone (or the only one that
 * fits when nothing names it, as single-zone test cases do). */
static int pick(const json_t *obj, const char *zone, int single, int (*fits)(const char *, int),
                int want, char *out)
{
    const char *k, *only = NULL;
    const json_t *v;
    int nfit = 0;

    json_object_foreach((json_t *)obj, k, v) {
        (void)v;
        if (strlen(k) >= SB_BOP_NAME_MAX || !fits(k, want))   /* a longer name could not be sent back */
            continue;
        nfit++;
        if (!only)
            only = k;
        if (has(k, zone)) {
            snprintf(out, SB_BOP_NAME_MAX, "%s", k);
            return 0;
        }
    }
    if (single && nfit >= 1) {
        snprintf(out, SB_BOP_NAME_MAX, "%s", only);
        return 0;
    }
    out[0] = '\0';
    return SB_ENOENT;
}

static int fits_temp(const char *k, int want)
{
    (void)want;
    return is_temp(k);
}

static int fits_sp(const char *k, int want)
{
    return setpoint_kind(k) == want;
}

static void bounds(struct sb_bop_zone *z, const json_t *inputs)
{
    z->heat_min = z->heat[0] ? meta_num(inputs, z->heat, "Minimum") : NAN;
    z->heat_max = z->heat[0] ? meta_num(inputs, z->heat, "Maximum") : NAN;
    z->cool_min = z->cool[0] ? meta_num(inputs, z->cool, "Minimum") : NAN;
    z->cool_max = z->cool[0] ? meta_num(inputs, z->cool, "Maximum") : NAN;
}

/* The electricity price point: the dynamic one when offered (the scenario
 * decides which one BOPTEST's cost KPI uses; the controller only needs its
 * shape), else any "PriceElectric...". */
static void find_price(const json_t *fcpts, char *out)
{
    static const char *const pref[] = { "PriceElectricPowerHighlyDynamic", "PriceElectricPowerDynamic",
                                        "PriceElectricPowerConstant" };
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
        if (json_object_get(fcpts, pref[i])) {
            snprintf(out, SB_BOP_NAME_MAX, "%s", pref[i]);
            return;
        }
}

/* Zone names from the LowerSetp[X] forecast points, in the object's order. */
static size_t zone_names(const json_t *fcpts, char names[][SB_BOP_NAME_MAX], size_t cap)
{
    const char *k;
    const json_t *v;
    size_t n = 0;

    json_object_foreach((json_t *)fcpts, k, v) {
        (void)v;
        size_t len = strlen(k);
        if (strncmp(k, "LowerSetp[", 10) || len < 12 || len >= SB_BOP_NAME_MAX || k[len - 1] != ']' || n == cap)
            continue;
        snprintf(names[n], SB_BOP_NAME_MAX, "%.*s", (int)(len - 11), k + 10);
        n++;
    }
    return n;
}

/* Append one reason to why (the zones skipped, "; "-separated). */
static void skip(char *why, size_t cap, const char *zone, const char *what)
{
    size_t n = strlen(why);

    if (n + 4 < cap)
        snprintf(why + n, cap - n, "%szone %s: %s", n ? "; " : "", zone, what);
}

int sb_bop_map_find(const json_t *inputs, const json_t *meas, const json_t *fcpts,
                    struct sb_bop_map *m, char *why, size_t cap)
{
    char names[SB_BOP_ZONES][SB_BOP_NAME_MAX];
    size_t nz;

    memset(m, 0, sizeof(*m));
    why[0] = '\0';
    if (!json_is_object(inputs) || !json_is_object(meas) || !json_is_object(fcpts)) {
        snprintf(why, cap, "the test case's signal lists are not JSON objects");
        return SB_ENOENT;
    }
    nz = zone_names(fcpts, names, SB_BOP_ZONES);
    for (size_t i = 0; i < nz; i++) {
        struct sb_bop_zone *z = &m->z[m->n];
        int single = nz == 1;

        memset(z, 0, sizeof(*z));
        snprintf(z->name, sizeof(z->name), "%s", names[i]);
        snprintf(z->lower, sizeof(z->lower), "LowerSetp[%s]", names[i]);
        snprintf(z->upper, sizeof(z->upper), "UpperSetp[%s]", names[i]);
        if (!json_object_get(fcpts, z->upper)) {
            skip(why, cap, z->name, "no UpperSetp forecast beside its LowerSetp");
            continue;
        }
        if (pick(meas, z->name, single, fits_temp, 0, z->temp)) {
            skip(why, cap, z->name, "no zone temperature measurement names it");
            continue;
        }
        pick(inputs, z->name, single, fits_sp, 1, z->heat);
        pick(inputs, z->name, single, fits_sp, -1, z->cool);
        if (!z->heat[0] && !z->cool[0]) {
            skip(why, cap, z->name, "no heating or cooling setpoint input names it");
            continue;
        }
        bounds(z, inputs);
        m->n++;
    }
    find_price(fcpts, m->price);
    if (!m->n) {
        if (!why[0])
            snprintf(why, cap, "no LowerSetp[zone] / UpperSetp[zone] forecast points: "
                               "give the zones with --map");
        return SB_ENOENT;
    }
    return 0;
}

static int map_field(const json_t *zd, const char *field, const json_t *list, int required,
                     char *out, size_t i, char *why, size_t cap)
{
    const char *s = json_string_value(json_object_get(zd, field));

    out[0] = '\0';
    if (!s) {
        if (!required)
            return 0;
        snprintf(why, cap, "zones[%zu].%s: required, a signal name", i, field);
        return SB_EINVAL;
    }
    if (strlen(s) >= SB_BOP_NAME_MAX || !json_object_get(list, s)) {
        snprintf(why, cap, "zones[%zu].%s: the test case has no signal \"%.64s\"", i, field, s);
        return SB_EINVAL;
    }
    snprintf(out, SB_BOP_NAME_MAX, "%s", s);
    return 0;
}

int sb_bop_map_load(const json_t *doc, const json_t *inputs, const json_t *meas,
                    const json_t *fcpts, struct sb_bop_map *m, char *why, size_t cap)
{
    const json_t *zs = json_object_get(doc, "zones");
    const char *price = json_string_value(json_object_get(doc, "price"));

    memset(m, 0, sizeof(*m));
    if (!json_is_array(zs) || json_array_size(zs) == 0 || json_array_size(zs) > SB_BOP_ZONES) {
        snprintf(why, cap, "zones: required, an array of 1..%d zones", SB_BOP_ZONES);
        return SB_EINVAL;
    }
    for (size_t i = 0; i < json_array_size(zs); i++) {
        const json_t *zd = json_array_get(zs, i);
        struct sb_bop_zone *z = &m->z[i];
        const char *name = json_string_value(json_object_get(zd, "name"));

        if (!name || !name[0] || strlen(name) > SB_BOP_NAME_MAX - 12) {
            snprintf(why, cap, "zones[%zu].name: required, the X of LowerSetp[X]", i);
            return SB_EINVAL;
        }
        snprintf(z->name, sizeof(z->name), "%s", name);
        snprintf(z->lower, sizeof(z->lower), "LowerSetp[%s]", name);
        snprintf(z->upper, sizeof(z->upper), "UpperSetp[%s]", name);
        if (!json_object_get(fcpts, z->lower) || !json_object_get(fcpts, z->upper)) {
            snprintf(why, cap, "zones[%zu].name: the test case forecasts no %s / %s", i, z->lower,
                     z->upper);
            return SB_EINVAL;
        }
        if (map_field(zd, "temp", meas, 1, z->temp, i, why, cap) ||
            map_field(zd, "heat", inputs, 0, z->heat, i, why, cap) ||
            map_field(zd, "cool", inputs, 0, z->cool, i, why, cap))
            return SB_EINVAL;
        if (!z->heat[0] && !z->cool[0]) {
            snprintf(why, cap, "zones[%zu]: give heat, cool or both", i);
            return SB_EINVAL;
        }
        bounds(z, inputs);
        m->n++;
    }
    if (price && (strlen(price) >= SB_BOP_NAME_MAX || !json_object_get(fcpts, price))) {
        snprintf(why, cap, "price: the test case forecasts no \"%.64s\"", price);
        return SB_EINVAL;
    }
    if (price)
        snprintf(m->price, sizeof(m->price), "%s", price);
    else
        find_price(fcpts, m->price);
    return 0;
}

/* ---- the policy ------------------------------------------------------------------------ */

void sb_bop_policy_default(struct sb_bop_policy *p)
{
    p->margin_k = 0.3;
    p->deadband_k = 1.0;
    p->ramp_k_per_h = 4.0;
    p->max_lead_h = 3.0;
    p->default_rate = 2.0;
}

void sb_bop_zstate_init(struct sb_bop_zstate *s, const struct sb_bop_policy *p)
{
    memset(s, 0, sizeof(*s));
    s->heat_sp = s->cool_sp = NAN;
    s->rate_heat = s->rate_cool = p->default_rate;
    s->last_temp = NAN;
}

/* A recovery step teaches the rate: exponentially weighted (weight 0.2),
 * kept within 0.25..12 K/h so one odd step cannot make the lead absurd.
 * Only clear recoveries count: the zone at least 0.5 K from its setpoint
 * and moving towards it. */
static void learn(const struct sb_bop_policy *p, struct sb_bop_zstate *s, double temp, double step_s)
{
    if (isnan(s->last_temp) || !isfinite(temp) || step_s <= 0)
        return;
    double rate = (temp - s->last_temp) * 3600.0 / step_s;
    double *r = NULL;

    if (s->recovering > 0 && rate > 0)
        r = &s->rate_heat;
    else if (s->recovering < 0 && rate < 0)
        r = &s->rate_cool, rate = -rate;
    if (!r)
        return;
    rate = fmin(12.0, fmax(0.25, rate));
    *r = s->episodes ? 0.8 * *r + 0.2 * rate : rate;
    s->episodes++;
    (void)p;
}

static double ramp(double from, double to, double max_step)
{
    if (isnan(from))
        return to;
    if (to > from + max_step)
        return from + max_step;
    if (to < from - max_step)
        return from - max_step;
    return to;
}

void sb_bop_decide(const struct sb_bop_policy *p, struct sb_bop_zstate *s, const double *lo,
                   const double *hi, size_t n, double temp, double step_s, double *heat_sp,
                   double *cool_sp)
{
    double h = lo[0], c = hi[0];
    double steps_per_h = 3600.0 / step_s;
    size_t max_ahead = (size_t)floor(p->max_lead_h * steps_per_h);

    learn(p, s, temp, step_s);
    /* Optimal start: a bound that tightens at step k is met early enough when
     * the zone, recovering at its learnt rate, needs at least k steps to
     * cover the gap.  Look at every such step within the maximum lead. */
    for (size_t k = 1; k < n && k <= max_ahead; k++) {
        if (isfinite(temp) && lo[k] > h) {
            double need_h = (lo[k] + p->margin_k - temp) / s->rate_heat;
            if (need_h * steps_per_h >= (double)k - 1.0)
                h = lo[k];
        }
        if (isfinite(temp) && hi[k] < c) {
            double need_c = (temp - (hi[k] - p->margin_k)) / s->rate_cool;
            if (need_c * steps_per_h >= (double)k - 1.0)
                c = hi[k];
        }
    }
    h += p->margin_k;
    c -= p->margin_k;
    if (c - h < p->deadband_k) {          /* a narrow band: centre the deadband in it */
        double mid = (h + c) / 2.0;
        h = mid - p->deadband_k / 2.0;
        c = mid + p->deadband_k / 2.0;
    }
    double max_step = p->ramp_k_per_h * step_s / 3600.0;
    /* Ramp towards comfort fast (a recovery must not wait for the ramp), and
     * away from it (setbacks, releases) at the ramp rate: a stepped release
     * makes the plant rebound. */
    *heat_sp = h > s->heat_sp || isnan(s->heat_sp) ? h : ramp(s->heat_sp, h, max_step);
    *cool_sp = c < s->cool_sp || isnan(s->cool_sp) ? c : ramp(s->cool_sp, c, max_step);
    if (*cool_sp - *heat_sp < p->deadband_k)
        *cool_sp = *heat_sp + p->deadband_k;
    s->recovering = isfinite(temp) ? (temp < *heat_sp - 0.5 ? 1 : temp > *cool_sp + 0.5 ? -1 : 0) : 0;
    s->heat_sp = *heat_sp;
    s->cool_sp = *cool_sp;
    s->last_temp = temp;
}

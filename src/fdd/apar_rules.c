/*
 * apar_rules.c - the APAR rule table and its inequalities.
 *
 * Rules 1-28 are APAR as published by Schein, Bushby, Castro & House,
 * "A rule-based fault detection method for air handling units", Energy and
 * Buildings 38 (2006) 1485-1492, Table 2 (the expert rules of House,
 * Vaezi-Nejad & Whitcomb, ASHRAE Trans. 107(1), 2001), the set ASHRAE
 * Guideline 36 §5.16 adopts as AHU fault conditions.  Symbols: Tsa/Tma/Tra/
 * Toa supply/mixed/return/outdoor air temperature, Tsa,s the SAT setpoint,
 * u_hc/u_cc/u_d the valve and damper commands, Qoa/Qsa the outdoor-air
 * fraction, Tco the economizer changeover temperature, ε the thresholds,
 * ΔTsf/ΔTrf the fan heat.  Rules 29-31 are sbems additions ("beyond APAR").
 *
 * The fault classes per rule follow the physical reasoning of House et al.
 * (which component can make that balance fail); they are suggestions for
 * the operator, not a diagnosis the rule set can prove.
 */
#include "fdd/apar_int.h"

#include <math.h>

#define F_SENS_SMR (SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR | SB_APAR_F_RAT_SENSOR)
#define F_SENS_MIX (SB_APAR_F_MAT_SENSOR | SB_APAR_F_RAT_SENSOR | SB_APAR_F_OAT_SENSOR)
#define F_OAD      (SB_APAR_F_OAD_STUCK | SB_APAR_F_OAD_LEAK)
/* "Stuck" covers stuck closed and stuck (partly) open: a cooling valve
 * stuck open cools in heating mode exactly as a leaking one does. */
#define F_COOL_WEAK (SB_APAR_F_CC_STUCK | SB_APAR_F_CC_CAPACITY | SB_APAR_F_HC_LEAK | SB_APAR_F_HC_STUCK)
#define F_HEAT_WEAK (SB_APAR_F_HC_STUCK | SB_APAR_F_HC_CAPACITY | SB_APAR_F_CC_LEAK | SB_APAR_F_CC_STUCK)

static const struct sb_apar_rule_info rules[SB_APAR_NRULES + 1] = {
    [1] = { 1, 1, 0, "Tsa < Tma + dTsf - et",
            "heating: supply air should be warmer than mixed air plus fan heat",
            F_HEAT_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR,
            "check the heating valve strokes and hot water is available; compare SAT and MAT sensors" },
    [2] = { 2, 1, 0, "|Tra-Toa| >= dTmin and |Qoa/Qsa - (Qoa/Qsa)min| > ef",
            "heating: outdoor-air fraction should equal the minimum",
            F_OAD | F_SENS_MIX | SB_APAR_F_ECON_LOGIC,
            "check the outdoor-air damper linkage and minimum position; verify MAT/RAT/OAT sensors" },
    [3] = { 3, 1, 0, "|u_hc - 1| <= ehc and Tsa,s - Tsa >= et",
            "heating: heating valve fully open and supply air still below setpoint",
            F_HEAT_WEAK | SB_APAR_F_OAD_STUCK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_SETPOINT,
            "check hot water supply temperature and pump, heating valve travel, cooling valve leak-by" },
    [4] = { 4, 1, 0, "|u_hc - 1| <= ehc",
            "heating: heating valve command saturated fully open (capacity warning)",
            SB_APAR_F_HC_CAPACITY | SB_APAR_F_HC_STUCK | SB_APAR_F_OAD_LEAK | SB_APAR_F_SETPOINT,
            "check heating capacity and that the outdoor-air damper closes to minimum" },
    [5] = { 5, 2, 0, "Toa > Tsa,s - dTsf + et",
            "cooling with outdoor air: outdoor air too warm to meet the SAT setpoint without mechanical cooling",
            SB_APAR_F_ECON_LOGIC | SB_APAR_F_OAT_SENSOR | SB_APAR_F_SETPOINT,
            "review the economizer changeover logic and the OAT sensor" },
    [6] = { 6, 2, 0, "Tsa > Tra - dTrf + et",
            "cooling with outdoor air: supply air should be cooler than return air",
            SB_APAR_F_HC_LEAK | SB_APAR_F_HC_STUCK | SB_APAR_F_ECON_LOGIC | SB_APAR_F_SAT_SENSOR |
            SB_APAR_F_RAT_SENSOR,
            "check heating valve leak-by and the economizer changeover; compare SAT and RAT sensors" },
    [7] = { 7, 2, 0, "|Tsa - dTsf - Tma| > et",
            "cooling with outdoor air: supply air should equal mixed air plus fan heat (coils idle)",
            SB_APAR_F_HC_LEAK | SB_APAR_F_CC_LEAK | SB_APAR_F_HC_STUCK | SB_APAR_F_CC_STUCK |
            SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR,
            "check both coil valves for leak-by; compare SAT and MAT sensors" },
    [8] = { 8, 3, 0, "Toa < Tsa,s - dTsf - et",
            "mech. cooling, 100 % OA: outdoor air cold enough to cool without mechanical cooling",
            SB_APAR_F_ECON_LOGIC | SB_APAR_F_OAT_SENSOR,
            "review the mode sequencing (should be economizer only); check the OAT sensor" },
    [9] = { 9, 3, 0, "Toa > Tco + et",
            "mech. cooling, 100 % OA: outdoor air too warm for 100 % outdoor air",
            SB_APAR_F_ECON_LOGIC | SB_APAR_F_OAT_SENSOR | SB_APAR_F_RAT_SENSOR,
            "review the economizer high limit; check OAT and RAT sensors" },
    [10] = { 10, 3, 0, "|Toa - Tma| > et",
             "mech. cooling, 100 % OA: mixed air should equal outdoor air",
             F_OAD | SB_APAR_F_OAT_SENSOR | SB_APAR_F_MAT_SENSOR,
             "check the outdoor-air damper really opens fully and the return damper closes" },
    [11] = { 11, 3, 0, "Tsa > Tma + dTsf + et",
             "mech. cooling, 100 % OA: supply air should be cooler than mixed air",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR,
             "check the cooling valve strokes and chilled water is available; heating valve leak-by" },
    [12] = { 12, 3, 0, "Tsa > Tra - dTrf + et",
             "mech. cooling, 100 % OA: supply air should be cooler than return air",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_RAT_SENSOR,
             "check the cooling valve and chilled water; heating valve leak-by" },
    [13] = { 13, 3, 0, "|u_cc - 1| <= ecc and Tsa - Tsa,s >= et",
             "mech. cooling, 100 % OA: cooling valve fully open and supply air still above setpoint",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_SETPOINT,
             "check chilled water temperature and pump, cooling valve travel, heating leak-by" },
    [14] = { 14, 3, 0, "|u_cc - 1| <= ecc",
             "mech. cooling, 100 % OA: cooling valve command saturated (capacity warning)",
             F_COOL_WEAK | SB_APAR_F_SETPOINT,
             "check cooling capacity; consider the economizer high limit" },
    [15] = { 15, 4, 0, "Toa < Tco - et",
             "mech. cooling, min OA: outdoor air cool enough for the economizer",
             SB_APAR_F_ECON_LOGIC | SB_APAR_F_OAT_SENSOR | SB_APAR_F_RAT_SENSOR,
             "review the economizer enable logic; check OAT and RAT sensors" },
    [16] = { 16, 4, 0, "Tsa > Tma + dTsf + et",
             "mech. cooling, min OA: supply air should be cooler than mixed air",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR,
             "check the cooling valve strokes and chilled water is available; heating valve leak-by" },
    [17] = { 17, 4, 0, "Tsa > Tra - dTrf + et",
             "mech. cooling, min OA: supply air should be cooler than return air",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_RAT_SENSOR,
             "check the cooling valve and chilled water; heating valve leak-by" },
    [18] = { 18, 4, 0, "|Tra-Toa| >= dTmin and |Qoa/Qsa - (Qoa/Qsa)min| > ef",
             "mech. cooling, min OA: outdoor-air fraction should equal the minimum",
             F_OAD | F_SENS_MIX | SB_APAR_F_ECON_LOGIC,
             "check the outdoor-air damper linkage and minimum position; verify MAT/RAT/OAT sensors" },
    [19] = { 19, 4, 0, "|u_cc - 1| <= ecc and Tsa - Tsa,s >= et",
             "mech. cooling, min OA: cooling valve fully open and supply air still above setpoint",
             F_COOL_WEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_SETPOINT,
             "check chilled water temperature and pump, cooling valve travel, heating leak-by" },
    [20] = { 20, 4, 0, "|u_cc - 1| <= ecc",
             "mech. cooling, min OA: cooling valve command saturated (capacity warning)",
             F_COOL_WEAK | SB_APAR_F_SETPOINT,
             "check cooling capacity" },
    [21] = { 21, 5, 0, "u_hc > ehc and u_cc > ecc and u_d,min + ed < u_d < 1 - ed",
             "unknown mode: heating valve, cooling valve and damper modulating together",
             SB_APAR_F_ECON_LOGIC | SB_APAR_F_HUNTING,
             "review the AHU sequence: heating, economizer and cooling must be sequenced" },
    [22] = { 22, 5, 0, "u_hc > ehc and u_cc > ecc",
             "unknown mode: heating and cooling valves open together",
             SB_APAR_F_ECON_LOGIC | SB_APAR_F_HUNTING,
             "review the SAT loop split and deadband between heating and cooling" },
    [23] = { 23, 5, 0, "u_hc > ehc and u_d > u_d,min + ed",
             "unknown mode: heating while the outdoor-air damper is above minimum",
             SB_APAR_F_ECON_LOGIC | SB_APAR_F_HUNTING,
             "review the economizer lockout during heating" },
    [24] = { 24, 5, 0, "u_cc > ecc and u_d,min + ed < u_d < 1 - ed",
             "unknown mode: cooling valve and damper modulating together",
             SB_APAR_F_ECON_LOGIC | SB_APAR_F_HUNTING,
             "review the economizer/cooling sequencing (damper should be fully open with mech. cooling)" },
    [25] = { 25, 0, 0, "|Tsa - Tsa,s| > et",
             "all modes: persistent supply air temperature error",
             SB_APAR_F_HC_STUCK | SB_APAR_F_HC_CAPACITY | SB_APAR_F_HC_LEAK | SB_APAR_F_CC_STUCK |
             SB_APAR_F_CC_CAPACITY | SB_APAR_F_CC_LEAK | SB_APAR_F_HUNTING | SB_APAR_F_SETPOINT,
             "trend SAT against setpoint and both valve commands; check loop tuning and coil capacity" },
    [26] = { 26, 0, 0, "Tma < min(Tra, Toa) - et",
             "all modes: mixed air colder than both return and outdoor air",
             F_SENS_MIX,
             "check the MAT sensor (averaging element, stratification) against RAT and OAT" },
    [27] = { 27, 0, 0, "Tma > max(Tra, Toa) + et",
             "all modes: mixed air warmer than both return and outdoor air",
             F_SENS_MIX,
             "check the MAT sensor against RAT and OAT" },
    [28] = { 28, 0, 0, "mode switches per hour > MSmax",
             "all modes: too many operating-mode changes per hour",
             SB_APAR_F_HUNTING | SB_APAR_F_ECON_LOGIC,
             "retune the SAT loop; widen the deadband between heating, economizer and cooling" },
    [29] = { 29, 0, 1, "range(Tsa,s) < band over the reset window while range(Toa) >= load range",
             "beyond APAR: supply air temperature setpoint is not reset although the load varies",
             SB_APAR_F_SEQUENCE,
             "implement SAT reset (e.g. Guideline 36 trim & respond) to save fan, cooling and reheat energy" },
    [30] = { 30, 0, 1, "range(Psp) < band over the reset window while range(fan speed) >= load range",
             "beyond APAR: duct static pressure setpoint is not reset although the load varies",
             SB_APAR_F_SEQUENCE,
             "implement static pressure reset (trim & respond on VAV damper requests)" },
    [31] = { 31, 0, 1, "occupied = 0 and fan running",
             "beyond APAR: supply fan running while the unit is unoccupied",
             SB_APAR_F_SCHEDULE,
             "check the occupancy schedule and any manual override of the fan" },
    [32] = { 32, 0, 1, "fan commanded on and (status off or Psa < f x Psp)",
             "beyond APAR: supply fan commanded on but not running (no status or no duct pressure)",
             SB_APAR_F_FAN,
             "check the fan's drive, belt, motor overloads and safeties (freeze-stat, smoke) and its status proof" },
    [33] = { 33, 5, 1, "|Tsa - dTsf - Tma| > et with both valves shut and the damper at minimum",
             "beyond APAR: coils and damper at rest, yet the supply air is not the mixed air plus fan heat",
             SB_APAR_F_CC_LEAK | SB_APAR_F_HC_LEAK | SB_APAR_F_SAT_SENSOR | SB_APAR_F_MAT_SENSOR,
             "check the cooling and heating valves for leaks (colder supply: cooling; warmer: heating), then the "
             "supply and mixed air sensors" },
};

const struct sb_apar_rule_info *sb_apar_rule_info(int id)
{
    if (id < 1 || id > SB_APAR_NRULES)
        return NULL;
    return &rules[id];
}

uint32_t sb_apar_diagnose(uint64_t fired, const double *weight, double *votes)
{
    double v[SB_APAR_NFAULTS] = { 0 }, best = 0;
    uint32_t top = 0;

    for (int id = 1; id <= SB_APAR_NRULES; id++) {
        uint32_t f = rules[id].faults;
        double w = weight ? weight[id] : 1.0;
        int n = __builtin_popcount(f);

        if (!(fired & SB_APAR_BIT(id)) || !(w > 0) || n == 0)
            continue;
        for (int i = 0; i < SB_APAR_NFAULTS; i++)
            if (f & (1u << i))
                v[i] += w / n;
    }
    for (int i = 0; i < SB_APAR_NFAULTS; i++) {
        if (votes)
            votes[i] = v[i];
        if (v[i] > best * (1 + 1e-12)) {
            best = v[i];
            top = 1u << i;
        } else if (v[i] > 0 && v[i] >= best * (1 - 1e-12)) {
            top |= 1u << i;
        }
    }
    return top;
}

int sb_apar__damper_at_min(const struct sb_apar_conf *c, double u_oad, double u_min)
{
    return u_oad <= (isfinite(u_min) ? u_min : c->u_oad_min) + c->eps_d;
}

int sb_apar__damper_full(const struct sb_apar_conf *c, double u_oad)
{
    return u_oad >= 1.0 - c->eps_d;
}

/* Sets both sides, returns the outcome of lhs OP rhs; NA on a NAN side. */
static int cmp(struct sb_apar__ctx *x, double lhs, double rhs, int greater)
{
    x->lhs = lhs;
    x->rhs = rhs;
    if (!isfinite(lhs) || !isfinite(rhs))
        return SB_APAR__NA;
    return greater ? lhs > rhs : lhs < rhs;
}

/* Outdoor-air fraction Qoa/Qsa: measured when the sample has it, else from
 * the mixing balance (Tma - Tra)/(Toa - Tra), which APAR trusts only when
 * |Tra - Toa| >= dTmin (rules 2 and 18). */
static int oa_fraction(const struct sb_apar__ctx *x, double *frac)
{
    const struct sb_apar_sample *v = x->v;

    if (isfinite(v->oaf)) {
        *frac = v->oaf;
        return SB_APAR__TRUE;
    }
    if (!isfinite(v->mat) || !isfinite(v->rat) || !isfinite(v->oat))
        return SB_APAR__NA;
    if (fabs(v->rat - v->oat) < x->c->dt_min)
        return SB_APAR__SKIP;
    *frac = (v->mat - v->rat) / (v->oat - v->rat);
    return SB_APAR__TRUE;
}

/* Rules 2 and 18. */
static int oaf_at_min(struct sb_apar__ctx *x)
{
    double frac = NAN;
    double fmin = isfinite(x->v->oaf_min) ? x->v->oaf_min : x->c->oaf_min;
    int rc;

    x->lhs = x->rhs = NAN;
    if (!isfinite(fmin))
        return SB_APAR__NA;
    rc = oa_fraction(x, &frac);
    if (rc != SB_APAR__TRUE)
        return rc;
    return cmp(x, fabs(frac - fmin), x->c->eps_f, 1);
}

/* Rules 3, 13 and 19: valve saturated and the SAT error in the direction
 * the valve should have corrected (err = Tsa,s - Tsa for heating). */
static int saturated_with_error(struct sb_apar__ctx *x, double u, double eps, double err)
{
    x->lhs = err;
    x->rhs = x->c->eps_t;
    if (!isfinite(u) || !isfinite(err))
        return SB_APAR__NA;
    return fabs(u - 1.0) <= eps && err >= x->c->eps_t;
}

/* Rules 4, 14 and 20 (true when lhs <= rhs). */
static int saturated(struct sb_apar__ctx *x, double u, double eps)
{
    x->lhs = fabs(u - 1.0);
    x->rhs = eps;
    if (!isfinite(u))
        return SB_APAR__NA;
    return x->lhs <= eps;
}

/* The changeover temperature of rules 9 and 15: configured high limit, or
 * the return air temperature for a differential dry-bulb economizer. */
static double t_co(const struct sb_apar__ctx *x)
{
    return isfinite(x->c->t_co) ? x->c->t_co : x->v->rat;
}

static int eval_heat(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;

    switch (id) {
    case 1: return cmp(x, v->sat, v->mat + c->dt_sf - c->eps_t, 0);
    case 2: return oaf_at_min(x);
    case 3: return saturated_with_error(x, v->u_hc, c->eps_hc, x->sat_sp - v->sat);
    default: return saturated(x, v->u_hc, c->eps_hc);   /* 4 */
    }
}

static int eval_econ(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;

    switch (id) {
    case 5: return cmp(x, v->oat, x->sat_sp - c->dt_sf + c->eps_t, 1);
    case 6: return cmp(x, v->sat, v->rat - c->dt_rf + c->eps_t, 1);
    default: return cmp(x, fabs(v->sat - c->dt_sf - v->mat), c->eps_t, 1);   /* 7 */
    }
}

/* Rules 8-20: modes 3 and 4 share the coil rules (11/16, 12/17, 13/19, 14/20). */
static int eval_mech(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;

    switch (id) {
    case 8:  return cmp(x, v->oat, x->sat_sp - c->dt_sf - c->eps_t, 0);
    case 9:  return cmp(x, v->oat, t_co(x) + c->eps_t, 1);
    case 10:
        if (isfinite(v->oaf))
            return cmp(x, fabs(v->oaf - 1.0), c->eps_f, 1);
        return cmp(x, fabs(v->oat - v->mat), c->eps_t, 1);
    case 11: case 16: return cmp(x, v->sat, v->mat + c->dt_sf + c->eps_t, 1);
    case 12: case 17: return cmp(x, v->sat, v->rat - c->dt_rf + c->eps_t, 1);
    case 13: case 19: return saturated_with_error(x, v->u_cc, c->eps_cc, v->sat - x->sat_sp);
    case 15: return cmp(x, v->oat, t_co(x) - c->eps_t, 0);
    case 18: return oaf_at_min(x);
    default: return saturated(x, v->u_cc, c->eps_cc);   /* 14, 20 */
    }
}

/* Rules 21-24: which commands act together in the unknown mode. */
static int eval_unknown(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;
    int heat = v->u_hc > c->eps_hc, cool = v->u_cc > c->eps_cc;
    int dmod = !sb_apar__damper_at_min(c, v->u_oad, v->u_oad_min) && !sb_apar__damper_full(c, v->u_oad);

    x->lhs = x->rhs = NAN;
    if (!isfinite(v->u_hc) || !isfinite(v->u_cc) || !isfinite(v->u_oad))
        return SB_APAR__NA;
    switch (id) {
    case 21: return heat && cool && dmod;
    case 22: return heat && cool;
    case 23: return heat && !sb_apar__damper_at_min(c, v->u_oad, v->u_oad_min);
    default: return cool && dmod;   /* 24 */
    }
}

static int eval_all(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;

    switch (id) {
    case 25: return cmp(x, fabs(v->sat - x->sat_sp), c->eps_t, 1);
    case 26: return cmp(x, v->mat, fmin(v->rat, v->oat) - c->eps_t, 0);
    case 27: return cmp(x, v->mat, fmax(v->rat, v->oat) + c->eps_t, 1);
    default: return cmp(x, (double)x->switches, (double)c->mode_switch_max, 1);   /* 28 */
    }
}

/* Rule 32: commanded on (the start command, else a speed above the on
 * threshold) with no proof: the status says off, or, without a status, the
 * duct static pressure stays below dsp_fail_frac of its setpoint.  lhs is
 * the proof measured (status, or the pressure), rhs what it should reach. */
static int fan_fail(struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;
    double cmd = isfinite(v->fan_cmd) ? v->fan_cmd
               : isfinite(v->fan_speed) ? (v->fan_speed > c->fan_on_speed) : NAN;

    if (!isfinite(cmd))
        return SB_APAR__NA;
    if (cmd < 0.5)
        return 0;
    if (isfinite(v->fan)) {
        x->lhs = v->fan;
        x->rhs = 0.5;
        return v->fan < 0.5;
    }
    if (!isfinite(v->dsp) || !isfinite(v->dsp_sp) || v->dsp_sp <= 0)
        return SB_APAR__NA;
    x->lhs = v->dsp;
    x->rhs = c->dsp_fail_frac * v->dsp_sp;
    return v->dsp < x->rhs;
}

/* Rules 29-31, beyond APAR: a constant setpoint while the load visibly
 * changed, and a fan running outside occupancy. */
static int eval_beyond(int id, struct sb_apar__ctx *x)
{
    const struct sb_apar_conf *c = x->c;
    const struct sb_apar_sample *v = x->v;
    int rc;

    switch (id) {
    case SB_APAR_RULE_SAT_RESET:
        rc = cmp(x, x->sp_range, c->sat_reset_band, 0);
        return rc == SB_APAR__NA || !isfinite(x->oat_range) ? SB_APAR__NA
               : rc && x->oat_range >= c->load_oat_range;
    case SB_APAR_RULE_DSP_RESET:
        rc = cmp(x, x->dsp_range, c->dsp_reset_band, 0);
        return rc == SB_APAR__NA || !isfinite(x->fs_range) ? SB_APAR__NA
               : rc && x->fs_range >= c->load_fan_range;
    case SB_APAR_RULE_FAN_FAIL:
        return fan_fail(x);
    case SB_APAR_RULE_REST_BAL:
        /* rule 7's balance where APAR judges nothing: mode 5 with every
         * command at rest (the deadband between heating, economizing and
         * cooling) - any other mode-5 combination is not this rule's */
        if (!isfinite(v->u_hc) || !isfinite(v->u_cc) || !isfinite(v->u_oad))
            return SB_APAR__NA;
        if (v->u_hc > c->eps_hc || v->u_cc > c->eps_cc || !sb_apar__damper_at_min(c, v->u_oad, v->u_oad_min))
            return 0;
        return cmp(x, fabs(v->sat - c->dt_sf - v->mat), c->eps_t, 1);
    default:   /* 31: the caller passes the raw sample and has resolved "fan on" into lhs */
        x->rhs = 0.5;
        if (!isfinite(v->occupied) || !isfinite(x->lhs))
            return SB_APAR__NA;
        return v->occupied < 0.5 && x->lhs > 0.5;
    }
}

int sb_apar__eval(int id, struct sb_apar__ctx *x)
{
    if (id <= 4)
        return eval_heat(id, x);
    if (id <= 7)
        return eval_econ(id, x);
    if (id <= 20)
        return eval_mech(id, x);
    if (id <= 24)
        return eval_unknown(id, x);
    if (id <= 28)
        return eval_all(id, x);
    return eval_beyond(id, x);
}

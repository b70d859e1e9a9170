/*
 * vav_rules.c - the static side of the VAV-box rules: the rule table
 * (text, fault classes, actions, sources), the configuration table with
 * its defaults and bounds (per-box overrides by name), and the diagnosis
 * vote.  The inequalities themselves are in vav.c next to the filters
 * that feed them.
 *
 * Sources: NIST's VPACC (Schein & House, ASHRAE Trans. 109(2), 2003;
 * NISTIR 7365, 2006) for what to watch (controlled variables consistently
 * off or unstable), the terminal-unit alarms of ASHRAE Guideline 36 §5.6.6
 * and its reheat sequence §5.6.5.  Every threshold is sbems's own unless
 * the source field names another; docs/internals/fdd-vav.md gives the
 * reasoning.  The fault classes follow which component can make that rule
 * true; they are suggestions for the operator, not a proof.
 */
#include "fdd/vav.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/err.h"

#define F_DAMPER (SB_VAV_F_DAMPER_STUCK | SB_VAV_F_ACTUATOR)

static const struct sb_vav_rule_info rules[SB_VAV_NRULES + 1] = {
    [1] = { 1, "airflow tracking error",
            "u_d < 1-ed and |Q - Qsp| > eq * max(Qsp, Qmin)",
            "the box does not hold its airflow setpoint although the damper is not fully open",
            SB_VAV_F_FLOW_SENSOR | F_DAMPER | SB_VAV_F_HUNTING,
            "check the airflow reading against a hood or pitot traverse; stroke the damper and check the "
            "linkage; review the airflow loop tuning",
            "VPACC watches airflow for being consistently off; tolerance sbems "
            "(G36 5.6.6 alarms at 70 % / 50 % of setpoint)" },
    [2] = { 2, "damper saturated, airflow short",
            "u_d >= 1-ed and Q < (1-eq) * Qsp",
            "the damper is commanded fully open and the airflow is still below its setpoint",
            F_DAMPER | SB_VAV_F_LOW_STATIC | SB_VAV_F_FLOW_SENSOR,
            "check the duct static pressure at this box and the AHU static setpoint/reset; check the damper "
            "really opens fully; the box may be undersized for its maximum",
            "G36 5.6.6 low-airflow alarm, 'starved box' saturation (95 % open); thresholds sbems" },
    [3] = { 3, "damper not responding",
            "over Tr: range(u_d) >= du, range(Qsp) >= fsp*Qref, range(Q) < fq*Qref; Qref = max(mean Qsp, Qmin)",
            "the damper command and the airflow setpoint moved but the airflow did not",
            F_DAMPER | SB_VAV_F_FLOW_SENSOR,
            "command the damper open and closed and watch the airflow; check actuator power, a slipping "
            "linkage and a frozen airflow reading",
            "sbems (response check); window and ranges sbems" },
    [4] = { 4, "zone too warm",
            "occupied and Tz > Tclg + et",
            "the occupied zone is above its cooling setpoint",
            SB_VAV_F_CAPACITY | SB_VAV_F_LOW_STATIC | SB_VAV_F_REHEAT_LEAK | SB_VAV_F_ZONE_SENSOR,
            "check whether the box is at its cooling maximum (capacity, static pressure, supply air too warm) "
            "and the reheat valve is closed; verify the zone sensor and setpoints",
            "sbems zone check; tolerance sbems" },
    [5] = { 5, "zone too cold",
            "occupied and Tz < Thtg - et",
            "the occupied zone is below its heating setpoint",
            SB_VAV_F_CAPACITY | SB_VAV_F_REHEAT_STUCK | SB_VAV_F_DAMPER_STUCK | SB_VAV_F_ZONE_SENSOR,
            "check that the reheat valve opens and hot water is available, that the airflow drops to its "
            "minimum in heating; verify the zone sensor and setpoints",
            "sbems zone check; tolerance sbems" },
    [6] = { 6, "reheat valve leaking",
            "u_rh <= ehc and Q > Qon and Tdis > Tsa + dTduct + et",
            "the reheat valve is commanded closed and the discharge air is still warmer than the supply air",
            SB_VAV_F_REHEAT_LEAK | SB_VAV_F_ZONE_SENSOR,
            "close the valve and confirm the discharge temperature falls to the supply temperature; service "
            "the valve seat or actuator; compare the DAT and SAT sensors",
            "G36 5.6.6 leaking-valve alarm (valve closed, DAT > SAT + 3 K); threshold sbems (2 K)" },
    [7] = { 7, "reheat not heating",
            "u_rh >= rh_hi and Q > Qon and Tdis - Tsa < dTrh",
            "the reheat valve is commanded open and the discharge air is not warmer than the supply air",
            SB_VAV_F_REHEAT_STUCK | SB_VAV_F_ZONE_SENSOR,
            "check the hot water supply temperature, pump and boiler, the valve actuator and the coil "
            "strainer; compare the DAT and SAT sensors",
            "sbems; G36 5.6.6 low-DAT alarm (8 K below DAT setpoint) is the same symptom" },
    [8] = { 8, "reheat not responding",
            "over Tr: range(u_rh) >= du and range(Tdis - Tsa) < dTr (Q > Qon)",
            "the reheat command moved but the temperature rise across the box did not",
            SB_VAV_F_REHEAT_STUCK | SB_VAV_F_REHEAT_LEAK | SB_VAV_F_ZONE_SENSOR,
            "stroke the valve and watch the discharge temperature; check the actuator, hot water "
            "availability and a frozen DAT reading",
            "sbems (response check); window and ranges sbems" },
    [9] = { 9, "control loop hunting",
            "max(reversals per hour of u_d, of u_rh) > Nh (moves < db ignored)",
            "the damper or reheat command keeps reversing direction",
            SB_VAV_F_HUNTING | SB_VAV_F_ACTUATOR,
            "retune the airflow or heating loop (lower gain, longer integral time); check for actuator "
            "backlash and a noisy airflow sensor",
            "VPACC watches for unstable control; count and deadband sbems" },
    [10] = { 10, "reheat while cooling",
             "u_rh > ehc and Tz > Tclg (evaluated only when Tsa >= Tdis,min)",
             "the box reheats while its zone is above the cooling setpoint (simultaneous heating and cooling)",
             SB_VAV_F_SEQUENCE | SB_VAV_F_ZONE_SENSOR,
             "review the box sequence: heating is disabled in the cooling and deadband states except to "
             "hold the minimum discharge temperature; check overrides and the zone sensor",
             "G36 5.6.5 (heating disabled in cooling/deadband unless DAT < 10 C); sbems rule" },
};

const struct sb_vav_rule_info *sb_vav_rule_info(int id)
{
    if (id < 1 || id > SB_VAV_NRULES)
        return NULL;
    return &rules[id];
}

uint32_t sb_vav_diagnose(uint64_t fired, const double *weight, double *votes)
{
    double v[SB_VAV_NFAULTS] = { 0 }, best = 0;
    uint32_t top = 0;

    for (int id = 1; id <= SB_VAV_NRULES; id++) {
        uint32_t f = rules[id].faults;
        double w = weight ? weight[id] : 1.0;
        int n = __builtin_popcount(f);

        if (!(fired & SB_VAV_BIT(id)) || !(w > 0) || n == 0)
            continue;
        for (int i = 0; i < SB_VAV_NFAULTS; i++)
            if (f & (1u << i))
                v[i] += w / n;
    }
    for (int i = 0; i < SB_VAV_NFAULTS; i++) {
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

void sb_vav_conf_default(struct sb_vav_conf *c)
{
    *c = (struct sb_vav_conf){ 0 };
    c->eps_q = 0.15;
    c->eps_d = 0.05;
    c->eps_t = 1.0;
    c->eps_hc = 0.02;
    c->dt_duct = 1.0;
    c->reheat_hi = 0.5;
    c->dt_reheat_min = 2.0;
    c->flow_on = 0.01;
    c->flow_min_abs = 0.02;
    c->resp_window_s = 7200;
    c->resp_cmd_range = 0.3;
    c->resp_flow_frac = 0.1;
    c->resp_sp_frac = 0.2;
    c->resp_dt_range = 1.0;
    c->hunt_max = 10;
    c->hunt_deadband = 0.05;
    c->dat_min = 10.0;
    c->window_s = 300;
    c->start_delay_s = 1800;
    c->max_gap_s = 900;
    /* Flow and valve rules react within half an hour (G36's own alarm
     * delays are 5-15 min); zone, window and hunting rules need an hour. */
    for (int id = 1; id <= SB_VAV_NRULES; id++)
        c->on_delay_s[id] = 3600;
    c->on_delay_s[1] = c->on_delay_s[2] = c->on_delay_s[6] = c->on_delay_s[7] = 1800;
    c->enabled = SB_VAV_ALL_RULES;
}

#define WEEK_S (7 * 86400)
#define DBL(f, u, lo, hi, doc) { #f, u, doc, lo, hi, offsetof(struct sb_vav_conf, f), 0 }
#define INT(f, u, lo, hi, doc) { #f, u, doc, lo, hi, offsetof(struct sb_vav_conf, f), 1 }
#define ON(id) { "on_delay_s_" #id, "s", "persistence before rule " #id " fires", 0, WEEK_S, \
                 offsetof(struct sb_vav_conf, on_delay_s) + (id) * sizeof(int32_t), 1 }

static const struct sb_fdd_param params[] = {
    DBL(eps_q, "1", 0.01, 1, "relative airflow tolerance (rules 1, 2)"),
    DBL(eps_d, "1", 0, 0.5, "damper command within this of 1 counts as fully open (rules 1, 2)"),
    DBL(eps_t, "K", 0, 10, "temperature tolerance (rules 4, 5, 6)"),
    DBL(eps_hc, "1", 0, 0.5, "reheat command at or below this counts as closed (rules 6, 10)"),
    DBL(dt_duct, "K", 0, 10, "supply duct heat gain between the AHU and the box (rule 6)"),
    DBL(reheat_hi, "1", 0.05, 1, "reheat command that must show a temperature rise (rule 7)"),
    DBL(dt_reheat_min, "K", 0, 30, "rise across the box a reheat command >= reheat_hi must give (rule 7)"),
    DBL(flow_on, "m3/s", 0, 10, "airflow above this counts as flowing (running when ahu_on is NAN; rules 6-8)"),
    DBL(flow_min_abs, "m3/s", 0.001, 10, "floor of the airflow reference (rules 1, 3)"),
    INT(resp_window_s, "s", 600, WEEK_S, "running time over which responses are judged (rules 3, 8)"),
    DBL(resp_cmd_range, "1", 0.01, 1, "command range that counts as a real move (rules 3, 8)"),
    DBL(resp_flow_frac, "1", 0.01, 1, "airflow range below this x reference means the flow did not move (rule 3)"),
    DBL(resp_sp_frac, "1", 0.01, 1, "setpoint range at least this x reference means the setpoint moved (rule 3)"),
    DBL(resp_dt_range, "K", 0.1, 20, "(dat - sat) range below this means the temperature did not move (rule 8)"),
    INT(hunt_max, "1", 1, SB_VAV_REV_MAX - 4, "direction reversals per hour allowed per command (rule 9)"),
    DBL(hunt_deadband, "1", 0.001, 1, "command moves smaller than this are not reversals (rule 9)"),
    DBL(dat_min, "C", -10, 30, "lowest discharge temperature the sequence may heat to (rule 10)"),
    INT(window_s, "s", 0, 3600, "moving-average window the rules see"),
    INT(start_delay_s, "s", 0, 86400, "wait after the AHU starts or occupancy changes"),
    INT(max_gap_s, "s", 1, WEEK_S, "a longer gap between samples restarts the filters"),
    ON(1), ON(2), ON(3), ON(4), ON(5), ON(6), ON(7), ON(8), ON(9), ON(10),
};
#define NPARAMS (sizeof params / sizeof params[0])

_Static_assert(NPARAMS == 20 + SB_VAV_NRULES, "one on_delay_s_<id> entry per rule");

const struct sb_fdd_param *sb_vav_conf_params(size_t *n)
{
    if (n)
        *n = NPARAMS;
    return params;
}

static double get(const struct sb_vav_conf *c, const struct sb_fdd_param *p)
{
    const char *at = (const char *)c + p->off;

    return p->is_int ? (double)*(const int32_t *)at : *(const double *)at;
}

/* 0 when v is allowed for p, else SB_ERANGE with p named in err. */
static int check_value(const struct sb_fdd_param *p, double v, char *err, size_t errlen)
{
    if (!isfinite(v) || v < p->lo || v > p->hi) {
        sb_errf(err, errlen, "vav: %s = %g, allowed %g..%g %s", p->name, v, p->lo, p->hi, p->unit);
        return SB_ERANGE;
    }
    if (p->is_int && v != floor(v)) {
        sb_errf(err, errlen, "vav: %s = %g must be a whole number", p->name, v);
        return SB_ERANGE;
    }
    return 0;
}

int sb_vav_conf_check(const struct sb_vav_conf *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < NPARAMS; i++)
        if (check_value(&params[i], get(c, &params[i]), err, errlen) != 0)
            return SB_EINVAL;
    return 0;
}

int sb_vav_conf_set(struct sb_vav_conf *c, const char *name, double value, char *err, size_t errlen)
{
    if (!name) {
        sb_errf(err, errlen, "vav: no parameter name");
        return SB_ENOENT;
    }
    return sb_fdd_param_set(params, NPARAMS, c, name, value, err, errlen);
}

/*
 * apar.h - air-handling-unit fault detection with the 28 NIST APAR rules.
 *
 * APAR ("AHU Performance Assessment Rules": House, Vaezi-Nejad & Whitcomb,
 * ASHRAE Transactions 107(1), 2001; Schein, Bushby, Castro & House, Energy
 * and Buildings 38:1485-1492, 2006) detects AHU faults from the signals every
 * BAS already has: it infers an operating mode from the heating valve, the
 * cooling valve and the outdoor-air damper commands, and in each mode checks
 * the mass and energy balances that must then hold.  ASHRAE Guideline 36
 * §5.16 adopted the same rules as its AHU "fault conditions".  Five checks
 * beyond APAR are added and marked as such (SAT reset missing, duct static
 * reset missing, fan running unoccupied, fan commanded but not proven, and
 * rule 7's balance in the deadband APAR leaves unjudged).  docs/internals/fdd-apar.md lists
 * every rule with its inequality, threshold and the faults it suggests.
 *
 * The module is pure and incremental: the caller owns a struct sb_apar
 * (plain storage, no allocation, no I/O, no clock, no globals), feeds it one
 * struct sb_apar_sample at a time with strictly increasing timestamps (live
 * readings), and reads back each rule's status and the rules that fired or
 * cleared on that sample; sb_apar_run() does the same over an array (batch).
 * Units are SI: °C, Pa, commands and fractions 0..1, time in seconds.  Any
 * input may be NAN (not available): a rule that needs it reports
 * SB_APAR_ST_NOT_EVALUABLE and never fires.
 *
 * Binding rules to an AHU's points (by tags) and raising alerts is the
 * caller's job; sb_apar_finding() and sb_apar_finding_format() give, for a
 * fired rule, its id and APAR text, the fault classes it suggests, the
 * evidence values and a suggested action.  All strings returned are static.
 */
#ifndef SB_FDD_APAR_H
#define SB_FDD_APAR_H

#include <stddef.h>
#include <stdint.h>

/* Rule ids: 1..28 are APAR's own numbering; 29..33 are sbems additions
 * ("beyond APAR"). */
enum {
    SB_APAR_RULE_SAT_RESET = 29,   /* SAT setpoint constant while load varies */
    SB_APAR_RULE_DSP_RESET = 30,   /* duct static setpoint constant while load varies */
    SB_APAR_RULE_FAN_UNOCC = 31,   /* supply fan running while unoccupied */
    SB_APAR_RULE_FAN_FAIL  = 32,   /* supply fan commanded on, no proof of air */
    SB_APAR_RULE_REST_BAL  = 33,   /* coils and damper at rest, supply air not mixed air + fan heat */
    SB_APAR_NRULES         = 33    /* highest rule id; arrays are indexed by id */
};
#define SB_APAR_NAPAR 28            /* rules 1..28 are APAR proper */
#define SB_APAR_BIT(id) (UINT64_C(1) << (id))
#define SB_APAR_ALL_APAR  (((UINT64_C(1) << (SB_APAR_NAPAR + 1)) - 1) & ~UINT64_C(1))
#define SB_APAR_ALL_RULES (((UINT64_C(1) << (SB_APAR_NRULES + 1)) - 1) & ~UINT64_C(1))

/* Operating modes (Schein et al. 2006, Table 1), from the commands u_hc,
 * u_cc and u_oad with thresholds εhc, εcc, εd ("at minimum" means
 * u_oad <= u_oad_min + εd):
 *   1 heating:             u_hc > εhc,  u_cc <= εcc, damper at minimum
 *   2 cooling with OA:     u_hc <= εhc, u_cc <= εcc, damper between minimum and 1 - εd
 *   3 mech. cooling 100 % OA: u_hc <= εhc, u_cc > εcc, u_oad >= 1 - εd
 *   4 mech. cooling min OA:  u_hc <= εhc, u_cc > εcc, damper at minimum
 *   5 unknown: anything else (simultaneous heating/cooling/economizing, and
 *     the deadband with all three at rest, as in APAR's own mode logic). */
enum sb_apar_mode {
    SB_APAR_MODE_OFF      = 0,  /* unit not running (fan off or unoccupied) */
    SB_APAR_MODE_HEAT     = 1,
    SB_APAR_MODE_ECON     = 2,
    SB_APAR_MODE_ECON_MECH = 3,
    SB_APAR_MODE_MECH     = 4,
    SB_APAR_MODE_UNKNOWN  = 5,
    SB_APAR_MODE_NA       = 6   /* running, but a command needed for the mode is NAN */
};

/* Fault classes a rule suggests (diagnosis), as bits. */
enum {
    SB_APAR_F_SAT_SENSOR  = 1u << 0,   /* supply air temperature sensor bias/failure */
    SB_APAR_F_MAT_SENSOR  = 1u << 1,   /* mixed air temperature sensor (or stratification) */
    SB_APAR_F_RAT_SENSOR  = 1u << 2,   /* return air temperature sensor */
    SB_APAR_F_OAT_SENSOR  = 1u << 3,   /* outdoor air temperature sensor */
    SB_APAR_F_HC_LEAK     = 1u << 4,   /* heating coil valve leaking */
    SB_APAR_F_HC_STUCK    = 1u << 5,   /* heating coil valve stuck */
    SB_APAR_F_HC_CAPACITY = 1u << 6,   /* heating capacity: coil, hot water temperature, pump */
    SB_APAR_F_CC_LEAK     = 1u << 7,   /* cooling coil valve leaking */
    SB_APAR_F_CC_STUCK    = 1u << 8,   /* cooling coil valve stuck */
    SB_APAR_F_CC_CAPACITY = 1u << 9,   /* cooling capacity: coil, chilled water temperature, pump */
    SB_APAR_F_OAD_STUCK   = 1u << 10,  /* outdoor-air / mixing box damper stuck */
    SB_APAR_F_OAD_LEAK    = 1u << 11,  /* outdoor-air / mixing box damper leaking */
    SB_APAR_F_ECON_LOGIC  = 1u << 12,  /* economizer or mode-sequencing logic error */
    SB_APAR_F_HUNTING     = 1u << 13,  /* unstable or poorly tuned control loop */
    SB_APAR_F_SETPOINT    = 1u << 14,  /* setpoint not achievable / wrong */
    SB_APAR_F_SEQUENCE    = 1u << 15,  /* control sequence missing (reset, trim & respond) */
    SB_APAR_F_SCHEDULE    = 1u << 16,  /* schedule or manual override keeps the unit running */
    SB_APAR_F_FAN         = 1u << 17,  /* supply fan, belt, drive or its status proof failed */
    SB_APAR_NFAULTS       = 18
};

/* One reading of the unit.  Initialise with sb_apar_sample_init() (all NAN)
 * and fill what the site has. */
struct sb_apar_sample {
    int64_t t;            /* time, s (any epoch; strictly increasing per unit) */
    double sat;           /* supply air temperature Tsa, °C */
    double mat;           /* mixed air temperature Tma, °C */
    double rat;           /* return air temperature Tra, °C */
    double oat;           /* outdoor air temperature Toa, °C */
    double sat_sp;        /* supply air temperature setpoint Tsa,s, °C; NAN: use the next two by mode */
    double sat_sp_heat;   /* heating SAT setpoint (single-zone units), °C: used in mode 1 */
    double sat_sp_cool;   /* cooling SAT setpoint (single-zone units), °C: used in modes 2-4 */
    double u_hc;          /* heating coil valve command, 0..1 */
    double u_cc;          /* cooling coil valve command, 0..1 */
    double u_oad;         /* outdoor-air (mixing box) damper command, 0..1 */
    double fan;           /* supply fan status: 1 on, 0 off */
    double fan_speed;     /* supply fan speed command, 0..1 */
    double occupied;      /* occupied mode: 1 occupied, 0 unoccupied */
    double dsp;           /* duct static pressure, Pa */
    double dsp_sp;        /* duct static pressure setpoint, Pa */
    double oaf;           /* measured outdoor-air fraction Qoa/Qsa (airflow stations); NAN: from temperatures */
    double oaf_min;       /* minimum outdoor-air fraction required now; NAN: conf.oaf_min */
    double fan_cmd;       /* supply fan start command: 1 on, 0 off; NAN: fan_speed > fan_on_speed */
    double u_oad_min;     /* the damper's minimum-outdoor-air position now, 0..1 (a minimum OA
                             held as an airflow moves it with the supply flow); NAN: conf.u_oad_min */
};

/* Per-unit configuration.  sb_apar_conf_default() fills NIST's defaults
 * (Schein et al. 2006) and the reference timing; docs/internals/fdd-apar.md
 * says where each number comes from. */
struct sb_apar_conf {
    double eps_t;         /* εt, temperature threshold, °C (2.0) */
    double eps_f;         /* εf, outdoor-air fraction threshold (0.3) */
    double eps_d;         /* εd, damper command threshold (0.02) */
    double eps_hc;        /* εhc, heating valve command threshold (0.02) */
    double eps_cc;        /* εcc, cooling valve command threshold (0.02) */
    double dt_sf;         /* ΔTsf, temperature rise across the supply fan, °C (1.1) */
    double dt_rf;         /* ΔTrf, temperature rise across the return fan, °C (1.1) */
    double dt_min;        /* ΔTmin, |Tra - Toa| needed for the OA-fraction rules, °C (5.6) */
    double u_oad_min;     /* damper command at minimum outdoor air (unit config, 0) */
    double oaf_min;       /* design minimum OA fraction when the sample has none (NAN) */
    double t_co;          /* economizer high-limit changeover Toa, °C; NAN: differential dry bulb (Tra) */
    int32_t mode_switch_max; /* MSmax, mode changes allowed per hour (7) */
    int32_t mode_delay_s; /* rules 1-27 wait this long after a mode change or start (3600) */
    int32_t window_s;     /* moving-average window the rules see (300) */
    int32_t max_gap_s;    /* a longer gap between samples restarts the filters (900) */
    int32_t on_delay_s[SB_APAR_NRULES + 1]; /* persistence per rule id before it fires (3600) */
    uint64_t enabled;     /* SB_APAR_BIT(id) per rule to evaluate (SB_APAR_ALL_RULES) */
    /* beyond-APAR checks */
    int32_t reset_window_s; /* running time over which a reset is judged (21600) */
    double sat_reset_band;  /* SAT setpoint range below this counts as constant, °C (0.5) */
    double dsp_reset_band;  /* static setpoint range below this counts as constant, Pa (12) */
    double load_oat_range;  /* Toa range over the window that shows the load varied, °C (5.6) */
    double load_fan_range;  /* fan speed range over the window that shows the load varied (0.2) */
    double fan_on_speed;    /* fan counts as running above this speed when status is NAN (0.05) */
    double dsp_fail_frac;   /* rule 32: static pressure below this part of its setpoint = no air (0.2) */
};

/* A rule's outcome on one sample. */
enum sb_apar_status {
    SB_APAR_ST_DISABLED = 0,      /* not in conf.enabled */
    SB_APAR_ST_INACTIVE,          /* filtered out: other mode, not running, not steady yet */
    SB_APAR_ST_NOT_EVALUABLE,     /* an input it needs is NAN */
    SB_APAR_ST_OK,                /* evaluated, condition false */
    SB_APAR_ST_PENDING,           /* condition true, on-delay not yet elapsed */
    SB_APAR_ST_FIRED              /* condition true for at least the on-delay */
};

/* Static description of a rule (see sb_apar_rule_info()). */
struct sb_apar_rule_info {
    int id;               /* 1..31 */
    int mode;             /* APAR mode it applies in, 0 = all modes */
    int beyond;           /* 1 for the sbems additions (29..31), 0 for APAR */
    const char *expr;     /* the inequality, e.g. "Tsa < Tma + dTsf - et" */
    const char *meaning;  /* APAR's text for the rule */
    uint32_t faults;      /* suggested fault classes, SB_APAR_F_* */
    const char *action;   /* what the operator should check first */
};

/* Per-rule state; read it through sb_apar_finding(). */
struct sb_apar_rule_state {
    uint8_t status;       /* enum sb_apar_status on the last sample */
    uint8_t active;       /* 1 from firing until the condition is evaluated false */
    uint8_t ev_mode;      /* mode at the last true evaluation */
    int64_t since;        /* condition continuously true since (valid while true) */
    int64_t fired_at;     /* time it last fired */
    double lhs, rhs;      /* the two sides of the inequality at the last true evaluation */
    struct sb_apar_sample ev;  /* averaged values at the last true evaluation */
};

#define SB_APAR_WIN_MAX 64      /* samples kept for the moving average */
#define SB_APAR_SW_MAX  64      /* mode-switch times kept for rule 28 */
#define SB_APAR_BUCKETS 24      /* buckets over reset_window_s for rules 29-30 */

struct sb_apar_bucket {        /* min/max over one slice of running time */
    double sp_min, sp_max;     /* SAT setpoint */
    double oat_min, oat_max;   /* outdoor air temperature */
    double dsp_min, dsp_max;   /* static pressure setpoint */
    double fs_min, fs_max;     /* fan speed */
    int32_t run_s;             /* running time accumulated in it */
};

/* The detector for one unit.  Caller-owned storage; every field is private
 * to apar.c (read results through the functions below). */
struct sb_apar {
    struct sb_apar_conf conf;  /* copy of the configuration */
    int64_t last_t;            /* time of the previous sample */
    int have_last;             /* last_t is valid */
    int running;               /* previous sample was running */
    int mode;                  /* mode of the previous sample */
    int64_t mode_since;        /* start of the current mode (or of running) */
    struct sb_apar_sample win[SB_APAR_WIN_MAX]; /* ring of running samples */
    int win_head, win_n;       /* next write index, number held */
    int64_t sw[SB_APAR_SW_MAX];/* ring of mode-switch times while running */
    int sw_head, sw_n;         /* next write index, number held */
    struct sb_apar_bucket bk[SB_APAR_BUCKETS]; /* ring for rules 29-30 */
    int bk_head, bk_n;         /* current bucket index, buckets used */
    struct sb_apar_rule_state r[SB_APAR_NRULES + 1]; /* indexed by rule id */
};

/* Result of one sample. */
struct sb_apar_result {
    int mode;                  /* enum sb_apar_mode of this sample (from its raw commands) */
    int steady;                /* 1 when rules 1-27 were evaluated on this sample */
    uint8_t status[SB_APAR_NRULES + 1]; /* enum sb_apar_status per rule id */
    uint64_t fired;            /* SB_APAR_BIT(id): status FIRED on this sample */
    uint64_t raised;           /* ... went active on this sample */
    uint64_t cleared;          /* ... was active and evaluated false on this sample */
};

/* A fired rule, for an alert. */
struct sb_apar_finding {
    int rule;                  /* rule id */
    const struct sb_apar_rule_info *info; /* static text, never NULL */
    uint32_t faults;           /* suggested fault classes (info->faults) */
    int mode;                  /* APAR mode when last true */
    int64_t since;             /* condition true since, s */
    int64_t fired_at;          /* when the on-delay elapsed, s */
    double lhs, rhs;           /* the two sides of the inequality (NAN for logic rules) */
    struct sb_apar_sample ev;  /* the averaged values the rule saw (evidence) */
};

/* Sets every field of s to NAN and t to 0. */
void sb_apar_sample_init(struct sb_apar_sample *s);

/* Fills c with NIST's default thresholds and the reference timing. */
void sb_apar_conf_default(struct sb_apar_conf *c);

/* 0 if c is usable, else SB_EINVAL with the offending field named in
 * err[errlen] (may be NULL). */
int sb_apar_conf_check(const struct sb_apar_conf *c, char *err, size_t errlen);

/* Per-unit overrides by name (the API's FDD settings): the configurable
 * numbers of struct sb_apar_conf with unit, meaning, bounds (static table,
 * *n entries), and a setter that checks bounds and then the whole conf
 * (sb_apar_conf_check).  "on_delay_s" sets the on-delay of rules 1-31,
 * "fan_fail_delay_s" that of rule 32.  Returns 0, SB_ENOENT, SB_ERANGE
 * (err names the parameter). */
struct sb_fdd_param;
const struct sb_fdd_param *sb_apar_conf_params(size_t *n);
int sb_apar_conf_set(struct sb_apar_conf *c, const char *name, double v, char *err, size_t errlen);

/* Initialises a (caller-owned) from a copy of conf.  SB_EINVAL on a bad
 * conf.  No resources are held: there is no release function. */
int sb_apar_init(struct sb_apar *a, const struct sb_apar_conf *conf);

/* Replaces the conf and keeps the history (an operator changed a threshold:
 * active rules stay active until evaluated false under the new one).
 * SB_EINVAL on a bad conf (a is then unchanged). */
int sb_apar_reconf(struct sb_apar *a, const struct sb_apar_conf *conf);

/* Forgets all history (filters, timers, active rules); keeps the conf. */
void sb_apar_reset(struct sb_apar *a);

/* Operating mode of one set of commands (pure helper, also used inside);
 * the _at form takes the damper's minimum now (NAN: conf.u_oad_min). */
int sb_apar_mode_of(const struct sb_apar_conf *c, double u_hc, double u_cc, double u_oad);
int sb_apar_mode_at(const struct sb_apar_conf *c, double u_hc, double u_cc, double u_oad, double u_oad_min);

#define SB_APAR_T_MAX (INT64_C(1) << 52)   /* |sample time| limit, s */

/* Feeds one sample.  Returns 0 and fills *res (may be NULL); SB_EINVAL when
 * s->t is not after the previous sample, SB_ERANGE when |s->t| exceeds
 * SB_APAR_T_MAX (the state is then unchanged). */
int sb_apar_step(struct sb_apar *a, const struct sb_apar_sample *s, struct sb_apar_result *res);

/* Batch tally over many samples. */
struct sb_apar_tally {
    uint32_t samples;                       /* samples fed */
    uint32_t steady;                        /* of which steady (rules 1-27 evaluated) */
    uint32_t fired[SB_APAR_NRULES + 1];     /* samples on which each rule was FIRED */
    uint32_t raised[SB_APAR_NRULES + 1];    /* times each rule went active */
    uint32_t not_evaluable[SB_APAR_NRULES + 1]; /* samples NOT_EVALUABLE */
};

/* Feeds s[0..n-1] in order and adds to *t (zero it first; may be NULL).
 * Returns 0 or the first error of sb_apar_step (samples before it counted). */
int sb_apar_run(struct sb_apar *a, const struct sb_apar_sample *s, size_t n, struct sb_apar_tally *t);

/* Static description of rule id, or NULL when id is not 1..SB_APAR_NRULES. */
const struct sb_apar_rule_info *sb_apar_rule_info(int id);

/* Fills *f for an active rule.  SB_ENOENT when the rule is not active,
 * SB_EINVAL for a bad id. */
int sb_apar_finding(const struct sb_apar *a, int rule, struct sb_apar_finding *f);

/* One-line text of a finding into buf[len] (snprintf semantics: returns the
 * length it needed, never writes past len). */
int sb_apar_finding_format(const struct sb_apar_finding *f, char *buf, size_t len);

/* Static short name of one fault-class bit ("heating valve leaking"), or
 * "?" for an unknown bit. */
const char *sb_apar_fault_name(uint32_t bit);

/* Comma-separated names of the bits in mask into buf[len] (snprintf
 * semantics). */
int sb_apar_faults_format(uint32_t mask, char *buf, size_t len);

/* Diagnosis across the rules that fired (APAR isolates a fault by the
 * combination of rules, House et al. 2001): each rule id set in fired
 * gives weight[id] (e.g. minutes fired; weight NULL = 1 each), split
 * equally over the fault classes it suggests.  Returns the mask of the
 * class(es) with the largest total (ties all included), 0 when no rule
 * carries weight; votes[SB_APAR_NFAULTS] receives the totals (may be NULL). */
uint32_t sb_apar_diagnose(uint64_t fired, const double *weight, double *votes);

/* Static name of a mode ("heating", ...). */
const char *sb_apar_mode_name(int mode);

#endif /* SB_FDD_APAR_H */

/*
 * vav.h - VAV-box (terminal unit) fault detection: ten rules on the
 * airflow loop, the reheat coil and the zone, a sibling of fdd/apar.h.
 *
 * NIST's VPACC ("VAV box Performance Assessment Control Charts": Schein &
 * House, "Application of control charts for detecting faults in
 * variable-air-volume boxes", ASHRAE Transactions 109(2), 2003, 671-682;
 * field-tested in NISTIR 7365, 2006) judges a box by whether what it
 * controls is consistently too high, too low or unstable.  sbems states
 * such checks as threshold rules (airflow tracking, zone temperature,
 * hunting), adds the terminal-unit alarms of ASHRAE Guideline 36 §5.6.6
 * (low airflow, leaking valve) and response checks of its own (damper and
 * reheat not responding, reheat while cooling).  The thresholds are not
 * VPACC's; docs/internals/fdd-vav.md gives every rule's inequality, where
 * its threshold comes from and the faults it suggests.
 *
 * The module is pure and incremental: the caller owns a struct sb_vav
 * (plain storage, no allocation, no I/O, no clock, no globals), feeds it
 * one struct sb_vav_sample at a time with strictly increasing timestamps,
 * and reads back each rule's status and the rules that fired or cleared on
 * that sample.  Units are SI: m3/s, °C, commands 0..1, time in seconds.
 * Any input may be NAN: a rule that needs it reports
 * SB_VAV_ST_NOT_EVALUABLE and never fires.
 *
 * Binding a box's points and raising alerts is the caller's job;
 * sb_vav_finding() and sb_vav_finding_format() give, for a fired rule, its
 * text, the fault classes it suggests, the evidence and an action.  All
 * strings returned are static.
 */
#ifndef SB_FDD_VAV_H
#define SB_FDD_VAV_H

#include <stddef.h>
#include <stdint.h>

#include "fdd/param.h"

/* Rule ids; arrays are indexed by id (0 unused). */
enum {
    SB_VAV_RULE_FLOW_TRACK   = 1,   /* |flow - setpoint| too large, damper not saturated open */
    SB_VAV_RULE_DAMPER_SAT   = 2,   /* damper fully open, flow still below setpoint */
    SB_VAV_RULE_DAMPER_RESP  = 3,   /* damper command and setpoint move, flow does not */
    SB_VAV_RULE_ZONE_WARM    = 4,   /* occupied zone above its cooling setpoint */
    SB_VAV_RULE_ZONE_COLD    = 5,   /* occupied zone below its heating setpoint */
    SB_VAV_RULE_REHEAT_LEAK  = 6,   /* reheat closed, discharge air warmer than supply air */
    SB_VAV_RULE_REHEAT_WEAK  = 7,   /* reheat open, discharge air not warmer */
    SB_VAV_RULE_REHEAT_RESP  = 8,   /* reheat command moves, discharge air rise does not */
    SB_VAV_RULE_HUNTING      = 9,   /* damper or reheat command reverses too often */
    SB_VAV_RULE_HEAT_COOL    = 10,  /* reheating while the zone is above its cooling setpoint */
    SB_VAV_NRULES            = 10
};
#define SB_VAV_BIT(id) (UINT64_C(1) << (id))
#define SB_VAV_ALL_RULES (((UINT64_C(1) << (SB_VAV_NRULES + 1)) - 1) & ~UINT64_C(1))

/* Fault classes a rule suggests (diagnosis), as bits. */
enum {
    SB_VAV_F_FLOW_SENSOR  = 1u << 0,  /* airflow sensor: offset, span, blocked pickup, tubing */
    SB_VAV_F_DAMPER_STUCK = 1u << 1,  /* damper blade stuck or leaking */
    SB_VAV_F_ACTUATOR     = 1u << 2,  /* damper actuator failed or linkage slipping */
    SB_VAV_F_LOW_STATIC   = 1u << 3,  /* duct static too low for this box, or box undersized */
    SB_VAV_F_REHEAT_LEAK  = 1u << 4,  /* reheat valve leaking or stuck open */
    SB_VAV_F_REHEAT_STUCK = 1u << 5,  /* reheat valve stuck closed, or no hot water */
    SB_VAV_F_ZONE_SENSOR  = 1u << 6,  /* zone or discharge temperature sensor */
    SB_VAV_F_CAPACITY     = 1u << 7,  /* load beyond design, or setpoints not achievable */
    SB_VAV_F_HUNTING      = 1u << 8,  /* unstable or poorly tuned control loop */
    SB_VAV_F_SEQUENCE     = 1u << 9,  /* control sequence or programming error */
    SB_VAV_NFAULTS        = 10
};

/* One reading of a box.  Initialise with sb_vav_sample_init() (all NAN)
 * and fill what the site has. */
struct sb_vav_sample {
    int64_t t;            /* time, s (any epoch; strictly increasing per box) */
    double flow;          /* measured discharge airflow, m3/s */
    double flow_sp;       /* active airflow setpoint, m3/s */
    double damper;        /* damper command, 0..1 */
    double reheat;        /* reheat valve command, 0..1 (NAN: cooling-only box) */
    double dat;           /* discharge air temperature, °C */
    double sat;           /* supply air temperature of the serving AHU, °C */
    double zat;           /* zone temperature, °C */
    double htg_sp;        /* active zone heating setpoint, °C */
    double clg_sp;        /* active zone cooling setpoint, °C */
    double occupied;      /* 1 occupied, 0 unoccupied */
    double ahu_on;        /* serving AHU's supply fan runs: 1, 0 (NAN: judged from flow) */
};

/* Per-box configuration.  sb_vav_conf_default() fills the defaults that
 * docs/internals/fdd-vav.md justifies; every number is also reachable by
 * name through sb_vav_conf_set()/sb_vav_conf_params(). */
struct sb_vav_conf {
    double eps_q;          /* relative airflow tolerance (0.15) */
    double eps_d;          /* damper command within this of 1 counts as fully open (0.05) */
    double eps_t;          /* temperature tolerance, K (1.0) */
    double eps_hc;         /* reheat command at or below this counts as closed (0.02) */
    double dt_duct;        /* supply-to-box duct heat gain, K (1.0) */
    double reheat_hi;      /* reheat command that must show a temperature rise (0.5) */
    double dt_reheat_min;  /* rise a reheat command >= reheat_hi must give, K (2.0) */
    double flow_on;        /* box has airflow above this, m3/s (0.01) */
    double flow_min_abs;   /* floor of the airflow reference, m3/s (0.02) */
    int32_t resp_window_s; /* running time over which responses are judged, s (7200) */
    double resp_cmd_range; /* a command range this large is a real move (0.3) */
    double resp_flow_frac; /* flow range below this x reference = flow did not move (0.1) */
    double resp_sp_frac;   /* setpoint range at least this x reference = setpoint moved (0.2) */
    double resp_dt_range;  /* (dat - sat) range below this = temperature did not move, K (1.0) */
    int32_t hunt_max;      /* direction reversals per hour allowed per command (10) */
    double hunt_deadband;  /* moves smaller than this are not reversals (0.05) */
    double dat_min;        /* G36 lowest discharge temperature; rule 10 needs sat >= it, °C (10) */
    int32_t window_s;      /* moving-average window the rules see, s (300) */
    int32_t start_delay_s; /* wait after AHU start or occupancy change, s (1800) */
    int32_t max_gap_s;     /* a longer gap between samples restarts the filters, s (900) */
    int32_t on_delay_s[SB_VAV_NRULES + 1]; /* persistence per rule id, s (1800 or 3600) */
    uint64_t enabled;      /* SB_VAV_BIT(id) per rule to evaluate (SB_VAV_ALL_RULES) */
};

/* A rule's outcome on one sample. */
enum sb_vav_status {
    SB_VAV_ST_DISABLED = 0,       /* not in conf.enabled */
    SB_VAV_ST_INACTIVE,           /* filtered out: not running, unoccupied, not steady, guard */
    SB_VAV_ST_NOT_EVALUABLE,      /* an input it needs is NAN */
    SB_VAV_ST_OK,                 /* evaluated, condition false */
    SB_VAV_ST_PENDING,            /* condition true, on-delay not yet elapsed */
    SB_VAV_ST_FIRED               /* condition true for at least the on-delay */
};

/* Static description of a rule (see sb_vav_rule_info()). */
struct sb_vav_rule_info {
    int id;               /* 1..SB_VAV_NRULES */
    const char *name;     /* short name ("airflow tracking error") */
    const char *expr;     /* the inequality, e.g. "damper >= 1-ed and Q < (1-eq) Qsp" */
    const char *meaning;  /* what it means in words */
    uint32_t faults;      /* suggested fault classes, SB_VAV_F_* */
    const char *action;   /* what the operator should check first */
    const char *source;   /* where the rule and its thresholds come from */
};

/* Per-rule state; read it through sb_vav_finding(). */
struct sb_vav_rule_state {
    uint8_t status;       /* enum sb_vav_status on the last sample */
    uint8_t active;       /* 1 from firing until the condition is evaluated false */
    int64_t since;        /* condition continuously true since (valid while true) */
    int64_t fired_at;     /* time it last fired */
    double lhs, rhs;      /* the two sides of the inequality at the last true evaluation */
    struct sb_vav_sample ev; /* averaged values at the last true evaluation */
};

#define SB_VAV_WIN_MAX  64      /* samples kept for the moving average */
#define SB_VAV_BUCKETS  24      /* slices of resp_window_s for rules 3 and 8 */
#define SB_VAV_REV_MAX  64      /* reversal times kept per command (rule 9); hunt_max < this */
#define SB_VAV_HUNT_S   3600    /* rule 9 counts reversals over this much running time */

struct sb_vav_bucket {          /* min/max over one slice of steady running time */
    double dmp_min, dmp_max;    /* damper command */
    double q_min, q_max;        /* airflow */
    double sp_min, sp_max;      /* airflow setpoint */
    double sp_sum;              /* sum of airflow setpoints, for the mean */
    double rh_min, rh_max;      /* reheat command */
    double dt_min, dt_max;      /* dat - sat, only with airflow above flow_on */
    int32_t sp_n;               /* setpoints summed */
    int32_t run_s;              /* running time accumulated in it */
};

struct sb_vav_hunt {            /* reversal counter of one command (rule 9) */
    double ref;                 /* last extreme since the last reversal */
    int dir;                    /* +1 rising, -1 falling, 0 not yet known */
    int have;                   /* ref is valid */
    int64_t seen;               /* time of the last finite value */
    int64_t rev[SB_VAV_REV_MAX];/* ring of reversal times */
    int head, n;                /* next write index, number held */
};

/* The detector for one box.  Caller-owned storage; every field is private
 * to vav.c (read results through the functions below). */
struct sb_vav {
    struct sb_vav_conf conf;    /* copy of the configuration */
    int64_t last_t;             /* time of the previous sample */
    int have_last;              /* last_t is valid */
    int running;                /* previous sample: 1 running, 0 not, -1 unknown */
    int occ;                    /* last known occupancy: 1, 0, or -1 never known */
    int64_t since;              /* start of the current stretch (AHU start, occupancy change, gap) */
    int steady;                 /* previous sample was steady */
    int64_t steady_since;       /* first steady sample of this stretch */
    struct sb_vav_sample win[SB_VAV_WIN_MAX]; /* ring of running samples */
    int win_head, win_n;        /* next write index, number held */
    struct sb_vav_bucket bk[SB_VAV_BUCKETS]; /* ring for rules 3 and 8 */
    int bk_head, bk_n;          /* current bucket index, buckets used */
    struct sb_vav_hunt hunt[2]; /* rule 9: [0] damper, [1] reheat */
    struct sb_vav_rule_state r[SB_VAV_NRULES + 1]; /* indexed by rule id */
};

/* Result of one sample. */
struct sb_vav_result {
    int running;               /* 1 running, 0 not, -1 unknown */
    int steady;                /* 1 when the steady-state rules were evaluated */
    uint8_t status[SB_VAV_NRULES + 1]; /* enum sb_vav_status per rule id */
    uint64_t fired;            /* SB_VAV_BIT(id): status FIRED on this sample */
    uint64_t raised;           /* ... went active on this sample */
    uint64_t cleared;          /* ... was active and evaluated false on this sample */
};

/* A fired rule, for an alert. */
struct sb_vav_finding {
    int rule;                  /* rule id */
    const struct sb_vav_rule_info *info; /* static text, never NULL */
    uint32_t faults;           /* suggested fault classes (info->faults) */
    int64_t since;             /* condition true since, s */
    int64_t fired_at;          /* when the on-delay elapsed, s */
    double lhs, rhs;           /* the two sides of the inequality (NAN for logic rules) */
    struct sb_vav_sample ev;   /* the averaged values the rule saw (evidence) */
};

/* Sets every field of s to NAN and t to 0. */
void sb_vav_sample_init(struct sb_vav_sample *s);

/* Fills c with the default thresholds and timing. */
void sb_vav_conf_default(struct sb_vav_conf *c);

/* 0 if c is usable, else SB_EINVAL with the offending field named in
 * err[errlen] (may be NULL). */
int sb_vav_conf_check(const struct sb_vav_conf *c, char *err, size_t errlen);

/* Sets the configurable number called name (see sb_vav_conf_params(), e.g.
 * "eps_q", "on_delay_s_4") to value.  SB_ENOENT for an unknown name,
 * SB_ERANGE when value is outside lo..hi, not finite, or not whole for an
 * integer field (c unchanged); err[errlen] (may be NULL) names the field. */
int sb_vav_conf_set(struct sb_vav_conf *c, const char *name, double value, char *err, size_t errlen);

/* The static table of every configurable number; *n receives its length. */
const struct sb_fdd_param *sb_vav_conf_params(size_t *n);

/* Replaces the conf and keeps the history (an operator changed a threshold:
 * active rules stay active until evaluated false under the new one).
 * SB_EINVAL on a bad conf (v is then unchanged). */
int sb_vav_reconf(struct sb_vav *v, const struct sb_vav_conf *conf);

/* Initialises v (caller-owned) from a copy of conf.  SB_EINVAL on a bad
 * conf.  No resources are held: there is no release function. */
int sb_vav_init(struct sb_vav *v, const struct sb_vav_conf *conf);

/* Forgets all history (filters, timers, active rules); keeps the conf. */
void sb_vav_reset(struct sb_vav *v);

#define SB_VAV_T_MAX (INT64_C(1) << 52)   /* |sample time| limit, s */

/* Feeds one sample.  Returns 0 and fills *res (may be NULL); SB_EINVAL when
 * s->t is not after the previous sample, SB_ERANGE when |s->t| exceeds
 * SB_VAV_T_MAX (the state is then unchanged). */
int sb_vav_step(struct sb_vav *v, const struct sb_vav_sample *s, struct sb_vav_result *res);

/* Batch tally over many samples. */
struct sb_vav_tally {
    uint32_t samples;                       /* samples fed */
    uint32_t steady;                        /* of which steady */
    uint32_t fired[SB_VAV_NRULES + 1];      /* samples on which each rule was FIRED */
    uint32_t raised[SB_VAV_NRULES + 1];     /* times each rule went active */
    uint32_t not_evaluable[SB_VAV_NRULES + 1]; /* samples NOT_EVALUABLE */
};

/* Feeds s[0..n-1] in order and adds to *t (zero it first; may be NULL).
 * Returns 0 or the first error of sb_vav_step (samples before it counted). */
int sb_vav_run(struct sb_vav *v, const struct sb_vav_sample *s, size_t n, struct sb_vav_tally *t);

/* Static description of rule id, or NULL when id is not 1..SB_VAV_NRULES. */
const struct sb_vav_rule_info *sb_vav_rule_info(int id);

/* Fills *f for an active rule.  SB_ENOENT when the rule is not active,
 * SB_EINVAL for a bad id. */
int sb_vav_finding(const struct sb_vav *v, int rule, struct sb_vav_finding *f);

/* One-line text of a finding into buf[len] (snprintf semantics: returns the
 * length it needed, never writes past len). */
int sb_vav_finding_format(const struct sb_vav_finding *f, char *buf, size_t len);

/* Static short name of one fault-class bit ("reheat valve leaking"), or
 * "?" for an unknown bit. */
const char *sb_vav_fault_name(uint32_t bit);

/* Comma-separated names of the bits in mask into buf[len] (snprintf
 * semantics). */
int sb_vav_faults_format(uint32_t mask, char *buf, size_t len);

/* Diagnosis across the rules that fired: each rule id set in fired gives
 * weight[id] (e.g. minutes fired; weight NULL = 1 each), split equally
 * over the fault classes it suggests.  Returns the mask of the class(es)
 * with the largest total (ties all included), 0 when no rule carries
 * weight; votes[SB_VAV_NFAULTS] receives the totals (may be NULL). */
uint32_t sb_vav_diagnose(uint64_t fired, const double *weight, double *votes);

#endif /* SB_FDD_VAV_H */

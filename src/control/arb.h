/*
 * arb.h - command arbitration and guardrails for one commandable point.
 *
 * Every supervisory source (operator, demand limiter, tenant override,
 * optimizer, occupancy setback, schedule) holds at most one command per
 * point: value, owner, reason, when set, when it expires.  The sources rank
 * by BACnet-style priority numbers (ASHRAE 135 clause 19.2: lowest number
 * wins, an empty slot drops out); sbems computes the winner itself and
 * writes the guarded result in ONE slot of the device (write_priority), so
 * the same answer serves BACnet devices, Modbus registers and REST
 * thermostats that have no priority array (docs/internals/control-
 * arbitration.md argues the choice).
 *
 * Once per update (sb_arb_update), in this order:
 *   1. expired commands are removed (expires_ms != 0 && now >= expires_ms);
 *   2. sources the caller flags stale/failed are skipped for this update
 *      (their commands stay and return when fresh): the schedule wins;
 *   3. mode: building caps zone (off > advisory > auto); in off only
 *      "manual" sources (priority number <= the operator's) are considered;
 *   4. winner = lowest priority number among the live candidates;
 *   5. guardrails on its value: the comfort band for automatic sources
 *      (manual ones may leave it), then the absolute bounds;
 *   6. rate limit: the commanded value moves from the last commanded value
 *      (or the device's present value when sbems does not hold the slot)
 *      towards that target by at most rate * elapsed - ramped, never
 *      stepped, also when a source releases (a stepped release after
 *      pre-cooling or a demand event rebounds above the old peak);
 *   7. nothing writable (all released, or advisory/off without an operator
 *      command): the slot sbems holds is released - ramped towards
 *      release_to when the caller knows what the device falls back to,
 *      at once otherwise;
 *   8. the write decision: deadband, minimum interval, periodic refresh.
 *
 * Units: values in the point's unit; rates in those units per minute;
 * times UTC epoch ms passed in by the caller (no clock here).
 * Pure: no I/O, clocks, globals, allocation or logging.
 * Ownership: struct sb_arb_point is a plain value owned by the caller
 * (strings copied in); outputs are plain values.  Threads: any, one point
 * per thread at a time (no internal locking).
 */
#ifndef SB_CONTROL_ARB_H
#define SB_CONTROL_ARB_H

#include <stddef.h>
#include <stdint.h>

#define SB_ARB_OWNER_MAX  65    /* as struct sb_cmd_rec.actor (db/appdb.h) */
#define SB_ARB_REASON_MAX 161   /* as struct sb_cmd_rec.reason */

/* The sources, in their default rank order. */
enum sb_arb_src {
    SB_ARB_OPERATOR = 0,   /* a person through the API            (default 8) */
    SB_ARB_DEMAND,         /* demand limiter                       (default 9) */
    SB_ARB_TENANT,         /* tenant after-hours override          (default 10) */
    SB_ARB_OPTIMIZER,      /* model-predictive plan (control/mpc.h) (default 12) */
    SB_ARB_SETBACK,        /* occupancy setback                    (default 13) */
    SB_ARB_SCHEDULE,       /* control schedule                     (default 14) */
    SB_ARB_NSRC
};

/* Modes; same numbers as enum sb_ctlmode (control/settings.h) so that a
 * settings value can be passed straight in.  Lower caps higher. */
enum sb_arb_mode { SB_ARB_OFF = 0, SB_ARB_ADVISORY = 1, SB_ARB_AUTO = 2 };

enum sb_arb_action {
    SB_ARB_NONE = 0,       /* send nothing */
    SB_ARB_WRITE,          /* write value at priority */
    SB_ARB_RELINQUISH      /* write NULL at priority (BACnet relinquish) */
};

/* Flags of an explanation (bits of struct sb_arb_explain.flags). */
#define SB_ARB_F_BOUNDS    0x001u   /* target clamped to the absolute bounds */
#define SB_ARB_F_BAND      0x002u   /* target clamped to the comfort band */
#define SB_ARB_F_RAMPED    0x004u   /* value held back by the rate limit */
#define SB_ARB_F_FALLBACK  0x008u   /* a stale/failed source was skipped */
#define SB_ARB_F_DEADBAND  0x010u   /* write suppressed: change under the deadband */
#define SB_ARB_F_INTERVAL  0x020u   /* write suppressed: minimum interval */
#define SB_ARB_F_ADVISORY  0x040u   /* computed, not written (advisory) */
#define SB_ARB_F_OFF       0x080u   /* automatic sources ignored (mode off) */
#define SB_ARB_F_RELEASE   0x100u   /* releasing sbems's slot */
#define SB_ARB_F_NOSTART   0x200u   /* no present value to ramp from: stepped */

/* One source's command. */
struct sb_arb_cmd {
    int set;                          /* 1: holds a command */
    double value;                     /* finite, point unit */
    char owner[SB_ARB_OWNER_MAX];     /* user name or "sbems-<source>" */
    char reason[SB_ARB_REASON_MAX];   /* why, for audit and UI */
    int64_t set_at_ms;                /* when it was given */
    int64_t expires_ms;               /* 0: until released (as sb_cmd_rec) */
};

/* Per-point configuration; sb_arb_cfg_init fills the defaults. */
struct sb_arb_cfg {
    int prio[SB_ARB_NSRC];            /* rank of each source, 1..16, distinct */
    int write_priority;               /* the device slot sbems writes, 1..16 (12) */
    double min, max;                  /* absolute bounds, finite, min <= max */
    double rate_up;                   /* max rise, units/min, > 0; INFINITY: none */
    double rate_down;                 /* max fall, units/min, > 0; INFINITY: none */
    double deadband;                  /* smaller changes are not written, >= 0 */
    int64_t min_interval_ms;          /* least time between two writes, >= 0 */
    int64_t refresh_ms;               /* rewrite an unchanged value after this; 0 never */
    int has_array;                    /* 1: BACnet priority array (relinquish exists);
                                         0: Modbus/REST - the last value stays */
};

/* Per-point running state (owned by the point, read-only to callers). */
struct sb_arb_state {
    int held;                         /* 1: sbems holds its slot on the device */
    double cmd;                       /* last commanded value (NaN: none) */
    int64_t last_ms;                  /* time of the last update (0: none): ramp clock */
    double written;                   /* last value sent, kept after a relinquish (NaN: none or failed) */
    int64_t written_ms;               /* when the last write/relinquish was sent (0: never) */
    int last_action;                  /* enum sb_arb_action of the last one sent */
};

/* The arbitration table of one point. */
struct sb_arb_point {
    struct sb_arb_cfg cfg;
    struct sb_arb_cmd cmd[SB_ARB_NSRC];
    struct sb_arb_state st;
};

/* What the caller knows this update. */
struct sb_arb_in {
    int64_t now_ms;
    int zone_mode;                    /* enum sb_arb_mode */
    int building_mode;                /* enum sb_arb_mode */
    unsigned stale;                   /* bit (1u << src): its inputs are stale or it failed */
    double band_lo, band_hi;          /* band automatic sources are kept in; NaN: none */
    double present;                   /* the device's value now; NaN unknown */
    double release_to;                /* what the device falls back to when sbems
                                         relinquishes (BACnet: next slot or relinquish
                                         default); NaN unknown: release at once */
};

/* Why the output is what it is: for the audit log and the UI. */
struct sb_arb_explain {
    int winner;                       /* enum sb_arb_src, -1: none */
    int winner_prio;                  /* its priority, 0 none */
    char owner[SB_ARB_OWNER_MAX];     /* the winner's */
    char reason[SB_ARB_REASON_MAX];
    int64_t set_at_ms, expires_ms;
    double raw;                       /* the winner's value as given (NaN none) */
    double target;                    /* after band and bounds (NaN none) */
    unsigned flags;                   /* SB_ARB_F_* */
    unsigned live;                    /* bit per source holding a live command */
    unsigned dropped;                 /* bit per live source skipped as stale/failed */
    unsigned expired;                 /* bit per source whose command expired now */
};

struct sb_arb_out {
    int action;                       /* enum sb_arb_action */
    int priority;                     /* slot to write at (cfg.write_priority) */
    double value;                     /* commanded value (ramped, guarded): what a WRITE
                                         sends; while releasing, the release ramp; in
                                         advisory otherwise the guarded target; NaN none */
    int mode;                         /* effective mode */
    struct sb_arb_explain why;
};

/* "operator", "demand", "tenant", "optimizer", "setback", "schedule";
 * "?" out of range.  sb_arb_src_parse: the source, or SB_EINVAL. */
const char *sb_arb_src_name(int src);
int sb_arb_src_parse(const char *name);
const char *sb_arb_mode_name(int mode);      /* "off", "advisory", "auto" */

/* Defaults: priorities 8/9/10/12/13/14, write at 12, bounds [-1e9, 1e9],
 * no rate limit, deadband 0, no minimum interval, no refresh, has_array. */
void sb_arb_cfg_init(struct sb_arb_cfg *c);

/* 0, or SB_EINVAL (priorities not distinct in 1..16, NaN, rate <= 0, ...)
 * with what is wrong in err. */
int sb_arb_cfg_check(const struct sb_arb_cfg *c, char *err, size_t cap);

/* Empty table with cfg copied in (checked: SB_EINVAL). */
int sb_arb_init(struct sb_arb_point *p, const struct sb_arb_cfg *cfg);

/* The effective mode: the building's caps the zone's. */
int sb_arb_mode_eff(int zone_mode, int building_mode);

/* Put src's command (replacing its previous one).  SB_EINVAL bad source,
 * SB_ENAN value NaN/inf.  Values outside the bounds are accepted and
 * clamped at update (sb_arb_check refuses them up front). */
int sb_arb_set(struct sb_arb_point *p, int src, double value, const char *owner, const char *reason,
               int64_t set_at_ms, int64_t expires_ms);

/* Release src's command (0 also when it had none; SB_EINVAL bad source). */
int sb_arb_release(struct sb_arb_point *p, int src);

/* Would src's value stand as given?  0, SB_ENAN, or SB_ERANGE (outside
 * the bounds, or outside band for an automatic source; NaN band: none). */
int sb_arb_check(const struct sb_arb_point *p, int src, double value, double band_lo, double band_hi);

/* The winner at now among live commands not in skip (bit per source):
 * the source, or -1 when none.  Read-only (expired ones are not removed). */
int sb_arb_winner(const struct sb_arb_point *p, int64_t now_ms, unsigned skip);

/* One update (steps 1-8 above).  0, or SB_EINVAL (bad mode, NULL).  The
 * state assumes an action it returns is carried out; report a failed
 * write with sb_arb_write_failed. */
int sb_arb_update(struct sb_arb_point *p, const struct sb_arb_in *in, struct sb_arb_out *out);

/* The last write or relinquish did not reach the device: the next update
 * sends again (after the minimum interval). */
void sb_arb_write_failed(struct sb_arb_point *p);

#endif /* SB_CONTROL_ARB_H */

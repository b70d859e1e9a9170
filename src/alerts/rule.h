/*
 * rule.h - alert rules: parsing, validation and pure evaluation.
 *
 * A rule is a JSON document (stored as text in the app database, edited
 * through the API) describing one condition on one point, equipment or zone:
 *
 *   threshold  value above `above` and/or below `below`; clears only once
 *              back inside by `hysteresis`; `on_delay_s` / `off_delay_s`.
 *   rate       change of more than `max_rise` / `max_fall` within `per_s`
 *              seconds (e.g. 2 K per 600 s); on/off delays.
 *   stale      no good reading for `after_s` seconds, or the newest reading
 *              is flagged SB_Q_STALE (store/sample.h).
 *   offline    the engine reports all polled points of `equipment` stale
 *              (struct sb_arule_ctx.offline); on/off delays.
 *   comfort    `zone` temperature outside the comfort band while occupied,
 *              integrated to K·h; fires when the K·h within the last
 *              `window_s` reach `kh_limit` (band and occupancy come in ctx).
 *   schedule   `point` (a fan's status, power or flow) above `running_above`
 *              while every zone its equipment serves is unoccupied by its
 *              schedule (occupancy comes in ctx); on/off delays.
 *   forecast   `point` (a meter's energy or power) outside the forecaster's
 *              90 % interval for `hours` consecutive complete hours, in
 *              `direction`.  Parsed and validated here only: the analytics
 *              service evaluates it (feed/tick return SB_AR_NONE).
 *
 * Thresholds are in the point's canonical unit (model/units.h; comfort: °C).
 * Parsing refuses unknown fields, fields that do not apply to the type, wrong
 * JSON types and impossible values, with a message that starts with the
 * field's name.  Whether the point / zone / equipment exists is not checked
 * here (the API has the model); slugs are checked with sb_slug_valid.
 *
 * Evaluation is a state machine per (rule, key): NORMAL -> PENDING_ON
 * (condition true, waiting on_delay) -> ACTIVE -> PENDING_OFF (clear
 * condition true, waiting off_delay) -> NORMAL.  sb_arule_feed takes one
 * reading, sb_arule_tick the passage of time; each returns SB_AR_NONE,
 * SB_AR_RAISE or SB_AR_CLEAR, at most one event per call (a second
 * transition due at the same instant stays pending and is reported by the
 * next call at the same or a later time).  Time is int64 ms since the epoch
 * (store/sample.h).  See docs/internals/alerts-rules.md for the exact rules.
 *
 * Ownership: struct sb_arule and struct sb_arule_state are plain, fixed-size
 * values owned by the caller (no pointers inside, copy freely, nothing to
 * release).  sb_arule_to_json returns a malloc'd string the caller frees.
 * feed/tick never allocate, do no I/O and touch no globals.
 */
#ifndef SB_ALERTS_RULE_H
#define SB_ALERTS_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/slug.h"

#define SB_ARULE_NAME_CHARS 120        /* name: 1..120 characters (code points) */
#define SB_ARULE_MSG_CHARS  200        /* message template: 0..200 characters */
#define SB_ARULE_TEXT_MAX   512        /* event text buffer, bytes incl. NUL */
#define SB_ARULE_MAX_S      604800     /* longest delay / window: 7 days, s */
#define SB_ARULE_JSON_MAX   65536      /* longest rule document accepted, bytes */
#define SB_ARULE_RING       64         /* buckets per rate / comfort window */
#define SB_ARULE_HOLD_MS    3600000LL  /* comfort: a reading holds at most 1 h */

/* Results of sb_arule_feed / sb_arule_tick (negative: SB_E* error). */
enum {
    SB_AR_NONE  = 0,   /* nothing to report */
    SB_AR_RAISE = 1,   /* the condition held long enough: raise an alert */
    SB_AR_CLEAR = 2    /* the clear condition held long enough: clear it */
};

enum sb_arule_type {
    SB_ART_THRESHOLD = 1,
    SB_ART_RATE,
    SB_ART_STALE,
    SB_ART_OFFLINE,
    SB_ART_COMFORT,
    SB_ART_SCHEDULE,   /* running out of schedule */
    SB_ART_FORECAST    /* deviation from forecast (evaluated by analytics) */
};

/* forecast: which side of the interval counts. */
enum sb_arule_dir {
    SB_ARD_ABOVE = 1,  /* energy above the interval's upper bound */
    SB_ARD_BELOW,      /* below its lower bound */
    SB_ARD_BOTH        /* either, hour by hour */
};

#define SB_ARULE_FC_HOURS_MAX 72   /* forecast: longest run of hours */

enum sb_arule_sev {
    SB_ARS_CRITICAL = 1,
    SB_ARS_MAJOR,
    SB_ARS_MINOR,
    SB_ARS_INFO
};

/* One parsed, validated rule.  Strings are NUL-terminated UTF-8; "" means
 * "not set" for the optional ones.  Fields that do not apply to the type are
 * zero (has_* false). */
struct sb_arule {
    char   id[SB_SLUG_MAX];          /* slug, unique rule id */
    char   name[SB_ARULE_NAME_CHARS * 4 + 1];  /* 1..120 characters */
    enum sb_arule_type type;         /* what is evaluated */
    enum sb_arule_sev  severity;     /* critical | major | minor | info */
    bool   enabled;                  /* default true; disabled rules never report */
    bool   auto_resolve;             /* lifecycle hint: resolve on clear (default
                                        true for threshold/stale/offline) */
    char   target[SB_SLUG_MAX];      /* point (threshold/rate/stale/schedule/
                                        forecast), equipment (offline) or zone
                                        (comfort) slug */
    char   building[SB_SLUG_MAX];    /* slug or "" (filled by the API) */
    char   template_id[SB_SLUG_MAX]; /* JSON "template": origin template or "" */
    char   message[SB_ARULE_MSG_CHARS * 4 + 1]; /* template text or "" */
    bool   has_above, has_below;     /* threshold: which limits are set */
    double above, below;             /* threshold limits, canonical unit */
    double hysteresis;               /* threshold: clear margin, >= 0 */
    bool   has_rise, has_fall;       /* rate: which limits are set */
    double max_rise, max_fall;       /* rate: > 0, canonical unit per per_s */
    int32_t per_s;                   /* rate: window, 1..7 d */
    int32_t on_delay_s;              /* threshold/rate/offline/schedule: 0..7 d */
    int32_t off_delay_s;             /* threshold/rate/offline/schedule: 0..7 d */
    int32_t after_s;                 /* stale: 1..7 d */
    int32_t window_s;                /* comfort: 1..7 d, default 86400 */
    double kh_limit;                 /* comfort: K·h, > 0, default 2.0 */
    double running_above;            /* schedule: running when the value is above
                                        it (canonical unit), default 0.5 */
    int32_t hours;                   /* forecast: 1..72 hours in a row, default 2 */
    enum sb_arule_dir direction;     /* forecast: default SB_ARD_ABOVE */
};

/* What the engine knows besides the reading.  May be NULL: offline and
 * schedule keep the last value they were given (schedule: occupied until
 * told otherwise), comfort counts the time as unoccupied. */
struct sb_arule_ctx {
    bool   offline;     /* offline: every polled point of the equipment is stale */
    bool   occupied;    /* comfort: the zone is occupied now; schedule: some zone
                           the point's equipment serves is occupied now */
    double band_heat;   /* comfort: lower edge of the band, °C */
    double band_cool;   /* comfort: upper edge, °C (>= band_heat, else no band) */
};

/* What a RAISE / CLEAR reports.  Caller-owned; filled only when feed/tick
 * return SB_AR_RAISE or SB_AR_CLEAR (left untouched otherwise). */
struct sb_arule_event {
    int     kind;       /* SB_AR_RAISE or SB_AR_CLEAR */
    int64_t t;          /* when the transition happened (evaluation time), ms */
    int64_t since;      /* when its condition began to hold, ms */
    double  value;      /* threshold, schedule: the value; rate: the signed change
                           within per_s; stale: seconds without good data; offline:
                           seconds the condition held; comfort: K·h in window */
    char    text[SB_ARULE_TEXT_MAX];  /* the expanded message or a default sentence */
};

/* Phases of the per-rule state machine. */
enum sb_arule_phase {
    SB_ARP_NORMAL = 0,
    SB_ARP_PENDING_ON,
    SB_ARP_ACTIVE,
    SB_ARP_PENDING_OFF
};

/* Rate: the extremes of one time bucket of the window. */
struct sb_arule_mm {
    int64_t t_lo, t_hi;  /* times of the lowest / highest value (t_hi INT64_MIN: empty) */
    double  lo, hi;      /* lowest / highest value in the bucket */
};

/* Comfort: K·h per time bucket of the window, and what is held between calls. */
struct sb_arule_comfort {
    int64_t idx[SB_ARULE_RING];   /* bucket number (INT64_MIN: empty) */
    double  kms[SB_ARULE_RING];   /* K·ms outside the band in that bucket */
    int64_t acc_t;                /* integrated up to here (valid if has_acc) */
    bool    has_acc;
    bool    occ;                  /* held ctx: occupied */
    double  heat, cool;           /* held ctx: band, °C */
};

/* Evaluation state of one rule for one key.  Fixed size (the rate and comfort
 * windows are rings of SB_ARULE_RING buckets); initialise with
 * sb_arule_state_init, and again whenever the rule is edited (bucket widths
 * follow per_s / window_s). */
struct sb_arule_state {
    enum sb_arule_phase phase;  /* where the machine is */
    int64_t since;       /* when the current phase was entered */
    int64_t now;         /* latest time seen (reading or tick); valid if has_now */
    int64_t origin;      /* first time seen: stale counts from here until a good reading */
    int64_t last_t;      /* time of the last accepted reading; valid if has_t */
    bool    has_now, has_t;
    double  last_v;      /* value held from the last usable reading (has_v) */
    int64_t last_vt;     /* its time */
    bool    has_v;
    int     side;        /* threshold: +1 above, -1 below when the condition began */
    double  chg;         /* rate: signed change at the last evaluation */
    double  kh;          /* comfort: K·h in the window at the last evaluation */
    int64_t last_good_t; /* stale: last reading not flagged SB_Q_STALE (has_good) */
    bool    has_good;
    bool    flagged;     /* stale: the newest reading was flagged SB_Q_STALE */
    bool    offline;     /* offline: last ctx->offline seen */
    bool    occ, has_occ;/* schedule: last ctx->occupied seen (none yet: occupied) */
    uint64_t n_out_of_order;  /* readings ignored: t earlier than the last */
    uint64_t n_nan;           /* readings ignored: NaN / infinite value */
    uint64_t n_quality;       /* readings whose value was skipped: STALE/FAULT flag */
    uint64_t n_back_in_time;  /* ticks ignored: now earlier than the latest time */
    int     view;        /* rule type the union below is set up for (0: none yet) */
    union {
        struct sb_arule_mm rate[SB_ARULE_RING];  /* rate: bucket idx = t_hi / width */
        struct sb_arule_comfort comfort;          /* comfort */
    } u;
};

/* Parses and validates one rule from json[0..len) into *out (overwritten,
 * zero-filled first).  Returns 0, SB_EINVAL with a message in err[errlen]
 * that starts with the offending field's name (or "rule:" for the document
 * as a whole), or SB_ENOMEM.  err may be NULL. */
int sb_arule_parse(const char *json, size_t len, struct sb_arule *out, char *err, size_t errlen);

/* Canonical JSON of r: compact, fixed key order, every field of the type
 * present (unset optional ones as null), shortest round-trip numbers, so
 * sb_arule_parse(sb_arule_to_json(r)) gives back r and re-serialising gives
 * the same text.  Returns a malloc'd string the caller frees, or NULL when
 * out of memory or r is NULL.  r must be valid (as sb_arule_parse leaves it). */
char *sb_arule_to_json(const struct sb_arule *r);

/* 1 when every field of a and b is equal, else 0. */
int sb_arule_equal(const struct sb_arule *a, const struct sb_arule *b);

/* Static names ("threshold", "major", "above"); "?" for an unknown value. */
const char *sb_arule_type_name(enum sb_arule_type t);
const char *sb_arule_sev_name(enum sb_arule_sev s);
const char *sb_arule_dir_name(enum sb_arule_dir d);

/* Resets *s to NORMAL with empty windows and zero counters. */
void sb_arule_state_init(struct sb_arule_state *s);

/* One reading of the rule's point: t ms, v in the canonical unit, q SB_Q_*
 * flags; ctx may be NULL.  NaN / infinite v, and t earlier than the last
 * reading or outside +/- 2^61 ms, are ignored (counted in *s).  Threshold,
 * rate and comfort skip the value of a reading flagged SB_Q_STALE or
 * SB_Q_FAULT (counted) but still let time pass to t.  A reading earlier than
 * the latest tick is accepted; the machine then evaluates at the tick's time
 * (its clock never goes back).  Returns SB_AR_NONE / SB_AR_RAISE /
 * SB_AR_CLEAR (filling *ev when not NULL), or SB_EINVAL if r or s is NULL.
 * A disabled rule, and a forecast rule (evaluated by the analytics service,
 * not here), return SB_AR_NONE and leave *s unchanged. */
int sb_arule_feed(const struct sb_arule *r, struct sb_arule_state *s, int64_t t, double v,
                  uint16_t q, const struct sb_arule_ctx *ctx, struct sb_arule_event *ev);

/* The passage of time to now (ms): delays, stale, offline, sliding windows.
 * A now earlier than the latest time seen, or outside +/- 2^61 ms, is
 * ignored (counted in n_back_in_time).  Same
 * returns as sb_arule_feed. */
int sb_arule_tick(const struct sb_arule *r, struct sb_arule_state *s, int64_t now,
                  const struct sb_arule_ctx *ctx, struct sb_arule_event *ev);

#endif /* SB_ALERTS_RULE_H */

/*
 * sched.h - control schedules: what mode a zone (or a group of zones) is in
 * at any instant, and which heating/cooling setpoints go with it.
 *
 * A control schedule is a weekly program of periods, each with a mode
 * (occupied / unoccupied / standby) and a setpoint band, plus exception
 * days (one local date -> its own periods, or closed) and holidays (local
 * dates that run the "holiday" day type, by default unoccupied all day).
 * Precedence on a given local date: exception, then holiday, then the
 * weekly program.  Time outside every period is unoccupied.
 *
 * Periods are local wall-clock time of the building (as in model.h's
 * occupancy schedules).  They become instants through core/tz.h:
 * sb_tz_local_to_utc maps a wall-clock time inside a spring-forward gap to
 * the instant the gap ends and an ambiguous fall-back time to its first
 * occurrence, so a local day lasts 23 or 25 h on transition days and a
 * period boundary is never lost or repeated.  docs/internals/control-schedule.md
 * has the JSON format and the rules.
 *
 * Pure: no I/O, clocks, globals or logging (zones come from the caller).
 * Threads: a struct sb_csched is caller-owned; reading it (sb_csched_at,
 * sb_csched_horizon, sb_csched_to_json) from several threads at once is safe,
 * changing it is not.  Ownership: sb_csched_init/_release bracket the
 * heap arrays (exceptions, holidays) that the struct owns.
 */
#ifndef SB_CONTROL_SCHED_H
#define SB_CONTROL_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define SB_CSCHED_MAX_PERIODS  8          /* periods in one day */
#define SB_CSCHED_MAX_EXC      1000       /* exception days */
#define SB_CSCHED_MAX_HOL      2000       /* holiday days */
#define SB_CSCHED_JSON_MAX     (512 * 1024) /* bytes of a schedule document */
#define SB_CSCHED_HORIZON_MAX  8192       /* steps in one horizon call */

enum sb_cmode {
    SB_CMODE_UNOCCUPIED = 0,   /* setback band; HVAC off unless outside it */
    SB_CMODE_OCCUPIED   = 1,   /* occupied band, ventilation on */
    SB_CMODE_STANDBY    = 2,   /* occupied hours, nobody present: a wider band */
    SB_CMODE_COUNT
};

/* Where a day's program came from. */
enum sb_cday_kind { SB_CDAY_WEEKLY = 0, SB_CDAY_HOLIDAY, SB_CDAY_EXCEPTION };

/* One period of a day: local wall-clock minutes [start, end). */
struct sb_cperiod {
    uint16_t start;            /* minutes after local midnight, 0..1439 */
    uint16_t end;              /* exclusive, start < end <= 1440 */
    uint8_t mode;              /* enum sb_cmode */
    struct sb_band band;       /* setpoints in force, °C */
};

/* The periods of one day, sorted by start and not overlapping. */
struct sb_cday {
    uint8_t n;                                   /* used entries of p[]; 0: closed */
    struct sb_cperiod p[SB_CSCHED_MAX_PERIODS];  /* the periods */
};

/* An exception: local day number (days since 1970-01-01, sb_days_from_civil). */
struct sb_cexc {
    int64_t day;               /* local date */
    struct sb_cday d;          /* its program (n == 0: closed all day) */
};

struct sb_csched {
    struct sb_cday week[7];            /* 0 = Monday .. 6 = Sunday (ISO 8601) */
    struct sb_band band[SB_CMODE_COUNT]; /* default band of each mode */
    struct sb_cday holiday;            /* the holiday day type (default: closed) */
    struct sb_cexc *exc;               /* n_exc exceptions, sorted by day, unique */
    size_t n_exc;                      /* used entries of exc[] */
    int64_t *hol;                      /* n_hol holiday days, sorted, unique */
    size_t n_hol;                      /* used entries of hol[] */
};

/* The state of a schedule at one instant. */
struct sb_csched_state {
    enum sb_cmode mode;        /* mode in force */
    struct sb_band band;       /* setpoints in force, °C */
    enum sb_cday_kind kind;    /* the day program it came from */
    int64_t since_ms;          /* UTC ms this mode+band began (looked back at most 8 days) */
    int64_t next_ms;           /* UTC ms of the next change (INT64_MAX: none within 400 days) */
};

/* One step of a horizon. */
struct sb_csched_step {
    int64_t t_ms;              /* step start, UTC ms */
    enum sb_cmode mode;        /* mode at the step start */
    struct sb_band band;       /* band at the step start, °C */
};

/* An empty schedule (every day closed, no exceptions or holidays) whose
 * default bands come from comfort c (model.h), or from 21/24 °C occupied
 * and 15/30 °C unoccupied when c is NULL or unset.  Standby defaults to the
 * occupied band widened by 1 K on each side, within the unoccupied band. */
void sb_csched_init(struct sb_csched *s, const struct sb_comfort *c);

/* Frees what s owns; s is then an empty schedule again (call init to reuse). */
void sb_csched_release(struct sb_csched *s);

/* dst = a deep copy of src (its exceptions and holidays duplicated; dst's
 * old contents are not freed).  0, or SB_ENOMEM with dst empty. */
int sb_csched_copy(struct sb_csched *dst, const struct sb_csched *src);

/* The weekly program of a zone's occupancy schedule (model.h): its occupied
 * periods become occupied periods with s's occupied band. */
void sb_csched_from_occupancy(struct sb_csched *s, const struct sb_schedule *occ);

/* Adds n holiday days (duplicates ignored).  SB_ENOSPC past SB_CSCHED_MAX_HOL,
 * SB_ENOMEM. */
int sb_csched_add_holidays(struct sb_csched *s, const int64_t *days, size_t n);

/* Adds or replaces the exception of day.  SB_ENOSPC past SB_CSCHED_MAX_EXC. */
int sb_csched_set_exception(struct sb_csched *s, int64_t day, const struct sb_cday *d);

/* The program that runs on local day (exception, holiday or weekly) and,
 * in *kind (may be NULL), which one.  Points into s. */
const struct sb_cday *sb_csched_day(const struct sb_csched *s, int64_t day,
                                    enum sb_cday_kind *kind);

/* Parses a schedule document (JSON, len bytes) into s, which must be
 * initialised (its bands are the defaults the document may override).  On
 * error returns SB_EINVAL (SB_ERANGE for bounds) and writes a message such
 * as "exceptions[2].date: 2026-02-30 is not a date" into err[errlen]; s is
 * then left empty (released). */
int sb_csched_parse(struct sb_csched *s, const char *json, size_t len, char *err, size_t errlen);

/* Writes s as a canonical document (parses back to the same schedule) into
 * *out (malloc'd, NUL-terminated, the caller frees).  0 or SB_ENOMEM. */
int sb_csched_to_json(const struct sb_csched *s, char **out);
/* A local day number (core/tz.h) as a JSON string "YYYY-MM-DD" (new
 * reference; NULL when out of memory).  struct json_t is jansson's json_t. */
struct json_t *sb_csched_date_json(int64_t day);

/* The state at instant t_ms, read in zone tz (NULL: UTC).  0 or SB_EINVAL. */
int sb_csched_at(const struct sb_csched *s, const struct sb_tz *tz, int64_t t_ms,
                 struct sb_csched_state *out);

/* n steps of step_s seconds from start_ms: out[i] is the state at
 * start_ms + i * step_s * 1000.  SB_EINVAL for step_s < 60 or n past
 * SB_CSCHED_HORIZON_MAX. */
int sb_csched_horizon(const struct sb_csched *s, const struct sb_tz *tz, int64_t start_ms,
                      int32_t step_s, size_t n, struct sb_csched_step *out);

/* "occupied", "unoccupied", "standby" (static). */
const char *sb_cmode_name(enum sb_cmode m);

#endif /* SB_CONTROL_SCHED_H */

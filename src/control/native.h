/*
 * native.h - a zone's control schedule as a controller's own BACnet
 * Schedule and Calendar objects (ANSI/ASHRAE 135: Schedule clause 12.24,
 * Calendar clause 12.9; the values' ASN.1 in clause 21), and back.
 *
 * Where a controller has a Schedule object, sbems writes the zone's
 * weekly program and its exception days and holidays into it and lets the
 * controller switch occupancy itself (docs/internals/control-schedule.md,
 * "Native schedules").  This module is the pure half: it turns a control
 * schedule (sched.h) into a value-level program - what Weekly_Schedule,
 * Exception_Schedule and a Calendar's Date_List must hold - encodes it with
 * the codec (codec/svc2.h), decodes what a device holds into the same
 * form, compares the two, and turns a device's program back into a control
 * schedule.  control/nsync.h carries the values to and from the device.
 *
 * The mapping (the rules are in control-schedule.md):
 *   - the Schedule's values are the zone's occupancy: the datatype is the
 *     device's (its Schedule_Default's, clause 12.24.7): BACnetBinaryPV
 *     active = occupied (standby too: a two-state schedule cannot tell it
 *     apart), Boolean likewise, Unsigned (a multi-state occupancy) 1
 *     occupied, 2 unoccupied, 4 standby (LonMark SNVT_occupancy + 1, the
 *     states most VAV controllers' occupancy objects use), Real 1 / 0;
 *   - every day starts with a 00:00 entry: Schedule_Default is not relied
 *     upon (devices differ on it), and an Exception_Schedule entry without
 *     a value in effect does not take effect at all (clause 12.24.4);
 *   - an exception day is a BACnetSpecialEvent with a date (priority 10);
 *     holidays run the schedule's holiday day type: with a Calendar object,
 *     one BACnetSpecialEvent referring to it (priority 11) and the dates in
 *     its Date_List (runs of days merged into ranges); without one, one
 *     special event per run of days.  10 beats 11 as an exception beats a
 *     holiday in sched.h;
 *   - only dates from today on and within SB_NSCHED_HORIZON_DAYS go to the
 *     device, nearest first, as many as one unsegmented request carries
 *     (requests are never segmented: the caller gives the byte budget);
 *     `exc_wanted` / `dates_wanted` say how many there were.
 *   - periods' own setpoints are not the Schedule's business: the device
 *     applies its own occupied / unoccupied setpoints when it switches.
 *
 * Pure: no I/O, clocks or globals; "today" is the caller's (the building's
 * local day number, core/tz.h).  Ownership: struct sb_nprog owns its
 * exception and date arrays (sb_nprog_release); the JSON returned is the
 * caller's.  Threads: any.
 */
#ifndef SB_CONTROL_NATIVE_H
#define SB_CONTROL_NATIVE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "control/sched.h"

#define SB_NSCHED_TV_MAX       32   /* time-values of one day modelled (ours need 17) */
#define SB_NSCHED_EXC_MAX      255  /* Exception_Schedule entries (sbems's server's limit too) */
#define SB_NSCHED_DATES_MAX    255  /* Date_List entries */
#define SB_NSCHED_HORIZON_DAYS 366  /* exception days and holidays written this far ahead */
#define SB_NSCHED_PRIO_EXC     10   /* eventPriority of an exception day */
#define SB_NSCHED_PRIO_HOL     11   /* .. of the holidays: an exception day wins */

/* What the Schedule's values mean. */
struct sb_nvalues {
    uint8_t type;                  /* SB_BAC_ENUMERATED, SB_BAC_BOOLEAN, SB_BAC_UNSIGNED or
                                      SB_BAC_REAL (codec/tag.h) */
    double v[SB_CMODE_COUNT];      /* the value of each mode (enum sb_cmode) */
};

/* The mapping for a Schedule whose values are of datatype type.  0, or
 * SB_ENOTSUP (strings, dates, ...: not an occupancy schedule). */
int sb_nvalues_for(uint8_t type, struct sb_nvalues *out);

/* One BACnetTimeValue: from minute `min` of the day on, value `v` (NaN:
 * NULL, "relinquish to the next level"). */
struct sb_ntv {
    uint16_t min;                  /* minutes after local midnight, 0..1439 */
    double v;                      /* the value, NaN for NULL */
};

/* One day's time-values, sorted, at most one per minute, no entry
 * repeating the one before it (the canonical form both sides reduce to). */
struct sb_nday {
    uint8_t n;                     /* used entries of tv[] */
    struct sb_ntv tv[SB_NSCHED_TV_MAX];
};

/* What a BACnetSpecialEvent's period is. */
enum sb_nent_kind {
    SB_NENT_DATE = 0,              /* calendarEntry date: from == to */
    SB_NENT_RANGE,                 /* calendarEntry dateRange from .. to */
    SB_NENT_CALENDAR,              /* calendarReference: Calendar `cal` */
    SB_NENT_OTHER                  /* a WeekNDay, a date with wildcards: not sbems's */
};

/* One Exception_Schedule entry (or, in dates[], one Date_List entry). */
struct sb_nexc {
    uint8_t kind;                  /* enum sb_nent_kind */
    int64_t from, to;              /* DATE / RANGE: local day numbers, inclusive */
    uint32_t cal;                  /* CALENDAR: the Calendar's instance */
    uint8_t priority;              /* eventPriority 1..16 */
    struct sb_nday d;              /* listOfTimeValues */
};

/* What a device holds (or should): Weekly_Schedule, Exception_Schedule and
 * the Calendar's Date_List, at the value level. */
struct sb_nprog {
    uint8_t type;                  /* datatype of the values (0: none seen) */
    struct sb_nday week[7];        /* Monday first (clause 12.24.8) */
    struct sb_nexc *exc;           /* n_exc entries (owned) */
    size_t n_exc;
    struct sb_nexc *dates;         /* n_dates Date_List entries: kind, from, to (owned) */
    size_t n_dates;
    size_t exc_wanted;             /* built: exception days + holiday runs in the horizon */
    size_t dates_wanted;           /* built: holiday runs in the horizon */
    unsigned odd[3];               /* decoded: SB_NODD_* of Weekly_Schedule,
                                      Exception_Schedule, Date_List: what this
                                      model cannot hold */
};

enum {
    SB_NODD_SECONDS = 1u << 0,     /* a time with seconds (ours are whole minutes) */
    SB_NODD_LONGDAY = 1u << 1,     /* a day of more than SB_NSCHED_TV_MAX entries */
    SB_NODD_VALUE   = 1u << 2,     /* a value that is no number, or of a second datatype */
    SB_NODD_MANY    = 1u << 3,     /* more entries than the limits */
    SB_NODD_ENTRY   = 1u << 4      /* a WeekNDay or wildcard entry (kept as OTHER) */
};

void sb_nprog_init(struct sb_nprog *p);
void sb_nprog_release(struct sb_nprog *p);   /* then empty again */

/* The program of schedule s from local day `today` on, in the values of
 * val.  cal: the Calendar object's instance for holidays, or -1 (none:
 * holidays become special events).  budget_exc / budget_dates: the most
 * bytes the encoded Exception_Schedule / Date_List may take (one write
 * each).  0, SB_ENOMEM, SB_EINVAL (a bad val). */
int sb_nsched_build(const struct sb_csched *s, int64_t today, const struct sb_nvalues *val, int64_t cal,
                    size_t budget_exc, size_t budget_dates, struct sb_nprog *out);

/* The encoded values (clause 21: Weekly_Schedule = BACnetARRAY[7] of
 * BACnetDailySchedule; Exception_Schedule = BACnetARRAY of
 * BACnetSpecialEvent; Date_List = BACnetLIST of BACnetCalendarEntry), in
 * p->type.  buf NULL computes the length.  Length, or SB_ENOSPC / SB_EINVAL. */
ssize_t sb_nsched_enc_week(const struct sb_nprog *p, uint8_t *buf, size_t cap);
ssize_t sb_nsched_enc_exc(const struct sb_nprog *p, uint8_t *buf, size_t cap);
ssize_t sb_nsched_enc_dates(const struct sb_nprog *p, uint8_t *buf, size_t cap);

/* A device's values into p (which keeps what the other decoders filled):
 * 0, SB_EPROTO (not such a value at all), SB_ENOMEM.  What decodes but
 * does not fit the model sets the part's p->odd[] and never equals a
 * built program. */
int sb_nsched_dec_week(const uint8_t *buf, size_t len, struct sb_nprog *p);
int sb_nsched_dec_exc(const uint8_t *buf, size_t len, struct sb_nprog *p);
int sb_nsched_dec_dates(const uint8_t *buf, size_t len, struct sb_nprog *p);

/* Which parts to compare / which differ. */
enum { SB_NPART_WEEK = 1, SB_NPART_EXC = 2, SB_NPART_DATES = 4 };

/* The parts (of `parts`) in which the device's program `dev` differs from
 * `want`, 0 when it holds exactly the same; why (may be NULL) says where
 * the first difference is ("weekly-schedule: tuesday: 07:00 1 here, 08:00 1
 * on the device"). */
unsigned sb_nsched_diff(const struct sb_nprog *want, const struct sb_nprog *dev, unsigned parts, char *why,
                        size_t cap);

/* A device's program as a control schedule (sched.h) in the bands of
 * `bands` (an initialised schedule whose default bands the periods take;
 * NULL: the defaults): runs of a mode's value become periods, date
 * entries exceptions, the days of the calendar `cal` (-1: none) and of
 * entries at SB_NSCHED_PRIO_HOL holidays with their day type.  0, or
 * SB_EINVAL with why naming what cannot be read back (a value no mode
 * has, a WeekNDay entry, NULL entries). */
int sb_nsched_to_csched(const struct sb_nprog *p, const struct sb_nvalues *val, int64_t cal,
                        struct sb_csched *out, char *why, size_t cap);

/* p as JSON (new reference): {"weekly": {"monday": [{"time": "07:00",
 * "value": 1}, ...], ...}, "exceptions": [{"date" | "from","to" |
 * "calendar", "priority", "values": [...]}], "dates": [...]}. */
json_t *sb_nsched_json(const struct sb_nprog *p);

#endif /* SB_CONTROL_NATIVE_H */

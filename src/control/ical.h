/*
 * ical.h - holiday and closure calendars from iCalendar text (RFC 5545),
 * read with libical, as the building's local days.
 *
 * The subset (docs/internals/control-schedule.md has the details): VEVENTs
 * with DTSTART;VALUE=DATE (all-day; DTEND exclusive, so multi-day events
 * work; no DTEND means one day) or DATE-TIME (UTC "Z", TZID=<IANA name>,
 * or floating = the building's wall clock; DTEND or DURATION, or none = the
 * start's day); RRULE (FREQ=DAILY or coarser, COUNT/UNTIL/BY* as libical
 * expands them) over the requested range; EXDATE; STATUS:CANCELLED skips
 * the event.  RDATE, VTIMEZONE definitions (TZIDs must be IANA names) and
 * sub-daily rules are not supported.
 *
 * Pure: no clocks, logging or globals of ours.  The one lookup is TZID ->
 * zone, through opts->zone (default sb_tz_get, the process-wide cache that
 * reads the tz database once per zone).  Malformed input gives SB_EPROTO
 * (SB_EINVAL for bad arguments, SB_ERANGE past a bound) and a message that
 * names the line and property; it never crashes (fuzz/fuzz_ical.c).
 * Threads: any.  Ownership: the list's array is malloc'd and the caller's
 * (sb_ical_list_free).
 */
#ifndef SB_CONTROL_ICAL_H
#define SB_CONTROL_ICAL_H

#include <stddef.h>
#include <stdint.h>

#include "control/sched.h"

#define SB_ICAL_MAX_BYTES   (1024 * 1024)  /* calendar text */
#define SB_ICAL_MAX_EVENTS  2000           /* VEVENTs */
#define SB_ICAL_MAX_OCC     5000           /* occurrences examined per event */
#define SB_ICAL_MAX_DAYS    20000          /* entries returned */
#define SB_ICAL_MAX_SPAN    366            /* days one occurrence may cover */
#define SB_ICAL_NAME_MAX    64             /* bytes of a name, with the NUL */

struct sb_tz;

/* One local day (part) the calendar closes. */
struct sb_ical_day {
    int64_t day;                   /* local day number (sb_days_from_civil) */
    uint16_t start;                /* closed from this local minute ... */
    uint16_t end;                  /* ... to this one (exclusive); 0..1440 = all day */
    char name[SB_ICAL_NAME_MAX];   /* the event's SUMMARY, cut; "" if none */
};

struct sb_ical_list {
    struct sb_ical_day *v;         /* n entries sorted by (day, start, end), no duplicates */
    size_t n;                      /* used entries */
};

struct sb_ical_opts {
    const struct sb_tz *tz;        /* the building's zone (NULL: UTC) */
    int64_t from_day;              /* first local day wanted */
    int64_t to_day;                /* first local day not wanted (> from_day) */
    int partial;                   /* 1: keep part-day closures; 0: any part closes the day */
    const struct sb_tz *(*zone)(const char *tzid); /* TZID resolver; NULL: sb_tz_get */
};

/* Reads calendar text[len] (need not be NUL-terminated) into *out.
 * Returns 0, SB_EPROTO (malformed; err says where), SB_ERANGE (a bound),
 * SB_EINVAL (bad opts), SB_ENOMEM.  On error *out is empty. */
int sb_ical_parse(const char *text, size_t len, const struct sb_ical_opts *o,
                  struct sb_ical_list *out, char *err, size_t errlen);

void sb_ical_list_free(struct sb_ical_list *l);

/* Applies a list to schedule s: whole days become holidays; part-day
 * closures become exceptions (the day's program with the closed minutes
 * cut out, unoccupied).  0, SB_ENOSPC, SB_ENOMEM. */
int sb_ical_apply(const struct sb_ical_list *l, struct sb_csched *s);

#endif /* SB_CONTROL_ICAL_H */

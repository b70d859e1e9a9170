/*
 * tz.h - IANA time zones without the process-global TZ variable.
 *
 * glibc's localtime_r() reads one zone per process (TZ), so a daemon that
 * serves buildings in several zones cannot use it from worker threads.  This
 * module reads the compiled tz database (TZif files, RFC 8536, versions 1-4)
 * from /usr/share/zoneinfo (or $SBEMS_TZDIR) and answers offset questions for
 * any instant: the transitions in the file, then the POSIX TZ string in its
 * footer (RFC 8536 section 3.3; POSIX.1-2017 section 8.3) for instants past
 * the last transition.
 *
 * A struct sb_tz is immutable once loaded and safe to share between threads.
 * sb_tz_get() keeps one copy per name for the life of the process
 * (thread-safe); callers never free what it returns.
 */
#ifndef SB_TZ_H
#define SB_TZ_H

#include <stddef.h>
#include <stdint.h>

struct sb_tz;

/* Pure parser: build a zone from TZif bytes.  name is copied.  *out is
 * heap-allocated and owned by the caller (sb_tz_free).  Returns 0,
 * SB_ECORRUPT on malformed data, SB_ENOMEM, SB_ENOTSUP for files with
 * leap-second records (the "right/" zones, which do not count POSIX time). */
int sb_tz_parse(const uint8_t *buf, size_t len, const char *name, struct sb_tz **out);

/* Load a zone by IANA name ("Europe/London", "UTC").  Rejects names that
 * could escape the zoneinfo directory.  Caller owns *out. SB_ENOENT if unknown. */
int sb_tz_load(const char *name, struct sb_tz **out);

void sb_tz_free(struct sb_tz *tz);

/* Process-wide cache: returns the shared zone for name, loading it once.
 * NULL if the zone does not exist.  Never free the result. */
const struct sb_tz *sb_tz_get(const char *name);

/* The UTC zone (static; never NULL). */
const struct sb_tz *sb_tz_utc(void);

const char *sb_tz_name(const struct sb_tz *tz);

/* Offset from UTC in seconds east (local = utc + offset) at instant utc_s. */
int32_t sb_tz_offset(const struct sb_tz *tz, int64_t utc_s);

/* The wall clock of tz (NULL: UTC) at now_ms: *wday 0 = Monday .. 6 = Sunday
 * (as schedules count), *minute since local midnight.  Either may be NULL. */
void sb_tz_wall(const struct sb_tz *tz, int64_t now_ms, int *wday, int *minute);

/* Like sb_tz_offset, and also the span [*from, *until) around utc_s over
 * which that offset holds: *from is the last change of offset at or before
 * utc_s, *until the next one after it (INT64_MIN / INT64_MAX when there is
 * none).  Instants where only the abbreviation or the DST flag changes are
 * not changes.  Either pointer may be NULL.  Hour buckets split here. */
int32_t sb_tz_span(const struct sb_tz *tz, int64_t utc_s, int64_t *from, int64_t *until);

/* UTC instant of a local wall-clock time (seconds since 1970-01-01T00:00
 * local).  In a gap (spring forward) returns the first instant after the gap
 * that has a wall clock >= local_s, i.e. the transition instant; in an
 * overlap (fall back) returns the earlier of the two instants. */
int64_t sb_tz_local_to_utc(const struct sb_tz *tz, int64_t local_s);

/* Proleptic Gregorian civil dates <-> days since 1970-01-01. */
int64_t sb_days_from_civil(int64_t y, unsigned m, unsigned d);
void    sb_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* A date "YYYY-MM-DD" (years 1970..2200) that exists; 1 with its day number
 * in *day (may be NULL), else 0.  Building holidays, tariff dates and
 * control schedules' exceptions all read dates with it. */
int sb_local_date_ok(const char *s, int64_t *day);

#endif /* SB_TZ_H */

/*
 * timefmt.h - RFC 3339 timestamps <-> int64 milliseconds since the epoch.
 *
 * Parsing accepts "YYYY-MM-DDTHH:MM:SS[.fff...](Z|+HH:MM|-HH:MM)" (a space
 * may replace the T; fractions beyond milliseconds are truncated), and a
 * plain integer of milliseconds since 1970-01-01T00:00:00Z.  A timestamp
 * without a zone is rejected: guessing a zone is how trend imports go wrong.
 * Pure functions.
 */
#ifndef SB_TIMEFMT_H
#define SB_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Parse s[0..len) into *ms.  Returns 0 or SB_EINVAL. */
int sb_time_parse(const char *s, size_t len, int64_t *ms);

/* Format ms as "2026-11-27T10:00:00.000Z" into buf (>= 32 bytes); returns buf. */
char *sb_time_format(int64_t ms, char *buf, size_t cap);

/* Wall-clock now, ms since the epoch. */
int64_t sb_now_ms(void);

#endif /* SB_TIMEFMT_H */

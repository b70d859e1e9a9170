/*
 * bucket.h - time buckets of the rollup resolutions, in a building's zone.
 *
 * 1-minute and 15-minute buckets are aligned to UTC; since 2012 every zone's
 * offsets and changes sit on the 15-minute grid (except Antarctica/Casey
 * 2020-22), so they are also aligned to local time.  (Before 2012 a few zones
 * changed at 00:01 or had offsets such as -0:44:30; there the coarse buckets
 * still partition time but are not unions of 15-minute buckets:
 * docs/internals/time.md.)  Hour buckets start where the local clock shows
 * HH:00 (they differ from UTC hours in zones such as Asia/Kolkata, +05:30);
 * a fall-back day has two local 01:00 hours, both kept, as separate buckets.
 * Day buckets run from local midnight to the next local midnight (23 or 25
 * hours on DST days; where midnight is skipped the day starts at the first
 * instant after the gap).  Month buckets run from the first local midnight of
 * the month.  Every coarser bucket is a union of 15-minute buckets, which is
 * what lets rollups compose.
 *
 * Pure functions; tz may be NULL for UTC.
 */
#ifndef SB_BUCKET_H
#define SB_BUCKET_H

#include <stdint.h>

#include "core/tz.h"

enum sb_res {
    SB_RES_RAW = 0,
    SB_RES_1M,
    SB_RES_15M,
    SB_RES_1H,
    SB_RES_1D,
    SB_RES_1MO,
    SB_RES_COUNT
};

/* "raw", "1m", "15m", "1h", "1d", "1mo"; NULL for an invalid value. */
const char *sb_res_name(enum sb_res r);
/* Parses the names above (also "1min", "15min", "hour", "day", "month");
 * returns -1 if unknown. */
int sb_res_parse(const char *s);

/* Start (ms, UTC) of the bucket of resolution r containing t_ms. */
int64_t sb_bucket_start(const struct sb_tz *tz, enum sb_res r, int64_t t_ms);

/* Start of the bucket that follows the one starting at start_ms. */
int64_t sb_bucket_next(const struct sb_tz *tz, enum sb_res r, int64_t start_ms);

#endif /* SB_BUCKET_H */

/*
 * bucket.c - rollup bucket boundaries (see bucket.h).
 *
 * Times are ms since the epoch (UTC); zone arithmetic is in whole seconds,
 * since every boundary is a whole second.
 *
 *  1m, 15m  floor division on the UTC axis (correct for negative times).
 *  1h       [local HH:00, next local HH:00), cut wherever the UTC offset
 *           changes (sb_tz_span): the two 01:00 hours of a fall-back day are
 *           two buckets, Lord Howe's half-hour shifts give half-hour buckets,
 *           and a bucket never straddles a change.
 *  1d, 1mo  Day D begins at M(D) = the first instant whose wall clock shows
 *           D 00:00 or later (sb_tz_local_to_utc: the earlier of two
 *           midnights in an overlap, the end of the gap when midnight is
 *           skipped).  M is non-decreasing, so [M(D), M(D+1)) partitions
 *           time; a month is [M(first day), M(first day of next month)).
 *           Both kinds of M are hour boundaries, so days and months are
 *           unions of hours, and hours of 15-minute buckets wherever
 *           offsets and changes fall on quarter hours (all zones since 1972).
 *
 * Valid for |t_ms| <= SB_BUCKET_TMAX (about 146 million years); outside it
 * every millisecond is its own bucket, as for SB_RES_RAW.
 */
#include "store/bucket.h"

#include <stdbool.h>
#include <string.h>

#define SB_BUCKET_TMAX  ((int64_t)1 << 62)
#define MIN_MS          60000
#define QUARTER_MS      900000
#define HOUR_S          3600
#define DAY_S           86400

static const char *const res_names[SB_RES_COUNT] = { "raw", "1m", "15m", "1h", "1d", "1mo" };

/* Aliases accepted by sb_res_parse besides the canonical names. */
static const struct {
    const char *name;   /* alias */
    enum sb_res res;    /* what it means */
} res_alias[] = {
    { "1min", SB_RES_1M }, { "15min", SB_RES_15M }, { "hour", SB_RES_1H },
    { "day", SB_RES_1D },  { "month", SB_RES_1MO },
};

const char *sb_res_name(enum sb_res r)
{
    return (unsigned)r < SB_RES_COUNT ? res_names[r] : NULL;
}

int sb_res_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SB_RES_COUNT; i++)
        if (strcmp(s, res_names[i]) == 0)
            return i;
    for (size_t i = 0; i < sizeof(res_alias) / sizeof(res_alias[0]); i++)
        if (strcmp(s, res_alias[i].name) == 0)
            return (int)res_alias[i].res;
    return -1;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Start (s) of the hour bucket holding t: local HH:00 in the offset in force
 * at t, unless the offset changed between then and t. */
static int64_t hour_start(const struct sb_tz *tz, int64_t t)
{
    int64_t from, h;
    int32_t off = sb_tz_span(tz, t, &from, NULL);

    h = floor_div(t + off, HOUR_S) * HOUR_S - off;
    return h > from ? h : from;
}

/* Start (s) of the hour bucket after the one holding t. */
static int64_t hour_next(const struct sb_tz *tz, int64_t t)
{
    int64_t until, h;
    int32_t off = sb_tz_span(tz, t, NULL, &until);

    h = (floor_div(t + off, HOUR_S) + 1) * HOUR_S - off;
    return h < until ? h : until;
}

/* M(d): first instant showing local day d (days since 1970-01-01) or later. */
static int64_t day_begin(const struct sb_tz *tz, int64_t d)
{
    return sb_tz_local_to_utc(tz, d * DAY_S);
}

/* First local day of month (y, m), m may be 13 (January of y + 1). */
static int64_t month_first_day(int64_t y, unsigned m)
{
    return m > 12 ? sb_days_from_civil(y + 1, m - 12, 1) : sb_days_from_civil(y, m, 1);
}

/* Bucket [M(a), M(b)) holding t, for the local days a < b of the bucket
 * that holds t's wall-clock date (one day, or the days of its month).  Normally that is it; the loops only matter where a clock was set
 * back across a boundary, making M(a) <= t < M(b) hold again.  Returns
 * M(a); *next = M(b). */
static int64_t span_of(const struct sb_tz *tz, int64_t t, bool month, int64_t *next)
{
    int64_t y, a, b, s, n;
    unsigned m, d;

    a = floor_div(t + sb_tz_offset(tz, t), DAY_S);
    sb_civil_from_days(a, &y, &m, &d);
    if (month)
        a = month_first_day(y, m);
    b = month ? month_first_day(y, m + 1) : a + 1;
    s = day_begin(tz, a);
    n = day_begin(tz, b);
    for (int i = 0; i < 4 && n <= t; i++) {
        sb_civil_from_days(b, &y, &m, &d);
        a = b;
        b = month ? month_first_day(y, m + 1) : b + 1;
        s = n;
        n = day_begin(tz, b);
    }
    for (int i = 0; i < 4 && s > t; i++) {
        sb_civil_from_days(a - 1, &y, &m, &d);
        b = a;
        a = month ? month_first_day(y, m) : a - 1;
        n = s;
        s = day_begin(tz, a);
    }
    *next = n;
    return s;
}

static int64_t start_s(const struct sb_tz *tz, enum sb_res r, int64_t t)
{
    int64_t next;

    if (r == SB_RES_1H)
        return hour_start(tz, t);
    return span_of(tz, t, r == SB_RES_1MO, &next);
}

static int64_t next_s(const struct sb_tz *tz, enum sb_res r, int64_t t)
{
    int64_t next;

    if (r == SB_RES_1H)
        return hour_next(tz, t);
    span_of(tz, t, r == SB_RES_1MO, &next);
    return next;
}

static bool in_domain(int64_t t_ms)
{
    return t_ms <= SB_BUCKET_TMAX && t_ms >= -SB_BUCKET_TMAX;
}

int64_t sb_bucket_start(const struct sb_tz *tz, enum sb_res r, int64_t t_ms)
{
    if (!in_domain(t_ms))
        return t_ms;
    switch (r) {
    case SB_RES_1M:
        return floor_div(t_ms, MIN_MS) * MIN_MS;
    case SB_RES_15M:
        return floor_div(t_ms, QUARTER_MS) * QUARTER_MS;
    case SB_RES_1H:
    case SB_RES_1D:
    case SB_RES_1MO:
        return start_s(tz ? tz : sb_tz_utc(), r, floor_div(t_ms, 1000)) * 1000;
    default:                    /* raw (and invalid): each instant alone */
        return t_ms;
    }
}

int64_t sb_bucket_next(const struct sb_tz *tz, enum sb_res r, int64_t start_ms)
{
    if (!in_domain(start_ms))
        return start_ms == INT64_MAX ? start_ms : start_ms + 1;
    switch (r) {
    case SB_RES_1M:
        return (floor_div(start_ms, MIN_MS) + 1) * MIN_MS;
    case SB_RES_15M:
        return (floor_div(start_ms, QUARTER_MS) + 1) * QUARTER_MS;
    case SB_RES_1H:
    case SB_RES_1D:
    case SB_RES_1MO:
        return next_s(tz ? tz : sb_tz_utc(), r, floor_div(start_ms, 1000)) * 1000;
    default:
        return start_ms + 1;
    }
}

/*
 * wxparse.h - parse an Open-Meteo forecast response (api.open-meteo.com
 * /v1/forecast, JSON) into current conditions and hourly series.
 *
 * The shape (open-meteo.com/en/docs):
 *
 *   {"latitude": 42.36, "longitude": -71.06, "utc_offset_seconds": 0,
 *    "timezone": "GMT", ...,
 *    "current_units": {"time": "iso8601", "interval": "seconds",
 *                      "temperature_2m": "°C", ...},
 *    "current": {"time": "2026-01-15T10:45", "interval": 900,
 *                "temperature_2m": -2.3, ...},
 *    "hourly_units": {"time": "iso8601", "temperature_2m": "°C", ...},
 *    "hourly": {"time": ["2026-01-15T00:00", ...],
 *               "temperature_2m": [-4.1, ..., null, ...], ...}}
 *
 * Times are local to utc_offset_seconds ("YYYY-MM-DDTHH:MM", no zone) or,
 * with timeformat=unixtime, integer seconds since the epoch (UTC).  Every
 * numeric array in "hourly" as long as "time" becomes a series (null ->
 * NaN); other members are ignored.  An error body {"error": true,
 * "reason": "..."} is reported as SB_EPROTO with the reason.
 *
 * Pure: no I/O, no clocks, no logging.  The result is a heap object the
 * caller frees with sb_wx_free; once built it is read-only and may be read
 * by any thread.
 */
#ifndef SB_REST_WXPARSE_H
#define SB_REST_WXPARSE_H

#include <stddef.h>
#include <stdint.h>

#define SB_WX_NAME_MAX  48        /* variable name bytes, NUL included */
#define SB_WX_UNIT_MAX  24        /* unit text bytes, NUL included */
#define SB_WX_HOURS_MAX 5000      /* hourly entries accepted (16 days + 92 past) */
#define SB_WX_VARS_MAX  64        /* variables per block */

/* One variable: a current value or an hourly series. */
struct sb_wx_var {
    char name[SB_WX_NAME_MAX];    /* "temperature_2m" */
    char unit[SB_WX_UNIT_MAX];    /* from *_units, "" if absent */
    double v;                     /* current value (NaN for null) */
    double *series;               /* hourly values [nhours] (NaN for null), or NULL */
};

struct sb_wx {
    int64_t current_t;            /* ms UTC of the current block, 0 if none */
    struct sb_wx_var *cur;        /* current values [ncur] */
    size_t ncur;
    int64_t *times;               /* hour starts, ms UTC, increasing [nhours] */
    size_t nhours;
    struct sb_wx_var *hourly;     /* series [nhourly] */
    size_t nhourly;
};

/* Parse body[0..len).  Returns 0 with *out, or SB_EPROTO / SB_ENOMEM with
 * err filled. */
int  sb_wx_parse(const char *body, size_t len, struct sb_wx **out, char *err, size_t errlen);
void sb_wx_free(struct sb_wx *w);

/* A current value by name, or NULL. */
const struct sb_wx_var *sb_wx_current(const struct sb_wx *w, const char *name);
/* An hourly series by name, or NULL. */
const struct sb_wx_var *sb_wx_hourly(const struct sb_wx *w, const char *name);

/* Copy hours hourly values of name starting at the hour that holds
 * from_ms: times[i] = that hour + i h, out[i] = the forecast or NaN where
 * the series has none.  Returns how many out[i] are numbers, SB_ENOENT
 * when the series does not exist, SB_EINVAL for hours > 100000 or from_ms
 * beyond +-1e15. */
int  sb_wx_window(const struct sb_wx *w, const char *name, int64_t from_ms, size_t hours,
                  double *out, int64_t *times);

/* "YYYY-MM-DDTHH:MM[:SS]" as UTC ms, pure (proleptic Gregorian).
 * Returns 0 or SB_EINVAL. */
int  sb_wx_parse_local(const char *s, int64_t *ms);

#endif /* SB_REST_WXPARSE_H */

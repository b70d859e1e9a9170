/*
 * weather.h - the "weather" driver: current outdoor conditions and an
 * hourly forecast (72 h by default) from an Open-Meteo-style API.
 *
 * Configuration (the driver's init object; docs/internals/rest.md):
 *
 *   {"url": "https://api.open-meteo.com/v1/forecast",
 *    "latitude": 42.36, "longitude": -71.06,
 *    "hours": 72,             -- forecast horizon kept (1..360)
 *    "refresh_min": 15,       -- fetch at most this often (0.01..1440)
 *    "timeout_ms": 10000, "max_rps": 1, "max_body": 4194304,
 *    "variables": ["dew_point_2m"],   -- fetched besides the five defaults
 *    "fallback_point": "ahu-1.oat",   -- slug to use while the service is down
 *    "user_agent": "sbems", "ca_file": "/path/ca.pem"}
 *
 * Always fetched: temperature_2m (°C), relative_humidity_2m (%),
 * shortwave_radiation (W/m²), wind_speed_10m (m/s: the driver asks for
 * wind_speed_unit=ms), cloud_cover (%), as "current" and "hourly", with
 * timezone=GMT.  Variables of bound points are added.
 *
 * Addresses: {"variable": "temperature_2m", "what": "current"}; device key
 * "weather:<latitude>,<longitude>".  read() serves the current block,
 * converted to the point's unit when the response's unit parses (°C -> °F),
 * and re-fetches only when the last good response is older than
 * refresh_min.  When a fetch fails read() returns the error (the framework
 * counts it) and the last forecast stays available, marked stale.
 *
 * Threads: read() on workers as driver.h says; the sb_weather_* functions
 * below may be called from any thread at any time between init and free.
 * Values returned are copies; the fallback slug belongs to the driver.
 */
#ifndef SB_DRIVERS_WEATHER_H
#define SB_DRIVERS_WEATHER_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

extern const struct sb_driver_ops sb_driver_weather;

/* The forecast of variable for hours hours from the hour holding from_ms
 * (ms UTC): times[i] = that hour + i h (times may be NULL), out[i] = the
 * value in the response's unit (see above), NaN where the forecast has no
 * value.  Served from the last good response, even when it is stale
 * (sb_weather_status says so).  Returns the number of out[i] that are
 * numbers (0..hours), SB_ENOENT when no forecast has been fetched yet or it
 * has no such variable, SB_EINVAL for bad arguments. */
int sb_weather_forecast(void *state, const char *variable, int64_t from_ms, size_t hours,
                        double *out, int64_t *times);

/* The configured fallback point's slug while the service is down (the last
 * fetch failed, nothing was fetched yet, or the data is older than twice
 * refresh_min); NULL while the service is healthy or when none is
 * configured.  The framework reads that point's values instead. */
const char *sb_weather_fallback(void *state);

/* Health of the forecast cache. */
struct sb_weather_status {
    int have;                     /* a forecast is cached */
    int stale;                    /* down: see sb_weather_fallback */
    int64_t fetched_ms;           /* wall-clock ms of the cached response, 0 if none */
    int64_t current_ms;           /* time of its current block (ms UTC), 0 if none */
    uint64_t fetches;             /* HTTP requests sent so far */
    char err[SB_DRV_ERR_MAX];     /* why the last fetch failed, "" if it did not */
};
void sb_weather_status(void *state, struct sb_weather_status *out);

/* Fetch now unless the cache is younger than refresh_min (blocking: call it
 * from a worker thread, e.g. when no weather point is bound and so nothing
 * polls).  Returns 0, or SB_ETIMEDOUT / SB_EIO / SB_EPROTO with err. */
int sb_weather_refresh(void *state, int64_t timeout_ms, char *err, size_t errlen);

#endif /* SB_DRIVERS_WEATHER_H */

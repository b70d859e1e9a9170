/*
 * meter.h - the series analytics is fed, read from the store: a meter's
 * energy per interval, a building's outdoor temperature per hour, and the
 * local calendar of each hour (hour of the week, holiday).
 *
 * A meter is equipment of type meter; its energy comes from its energy
 * counter when it has one (the store's COUNTER rollup: the consumption in
 * each bucket, store/agg.h), else from its power point (time-weighted mean
 * x the interval).  Only points read from a device count (a virtual point is
 * derived, not measured) - the web UI's energy view decides the same way.
 * An interval without data, or a power interval less than 90 % covered, is
 * NaN: missing, never 0.
 *
 * Threads: any thread that may read the store (the API pool, the analytics
 * worker); the model is only read.  Ownership: outputs are caller arrays.
 */
#ifndef SB_ANALYTICS_METER_H
#define SB_ANALYTICS_METER_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "store/store.h"

#define SB_HOUR_MS 3600000LL

/* The point the meter's energy is read from (energy counter, else power),
 * or NULL when the equipment is not a meter or has neither. */
const struct sb_point *sb_meter_point(const struct sb_model *m, const struct sb_equipment *e);

/* The meter's power point read from a device (its live demand), or NULL. */
const struct sb_point *sb_meter_power_point(const struct sb_model *m, const struct sb_equipment *e);

/* The building's outdoor air temperature: a temperature point tagged
 * "weather" of the building (not a dew point or wet bulb), else one tagged
 * "outside"/"outdoor" + "air", or NULL. */
const struct sb_point *sb_outdoor_temp_point(const struct sb_model *m, int32_t building_ix);

/* The building's measured solar irradiance (W/m²): a point tagged "solar"
 * or "irradiance", or NULL. */
const struct sb_point *sb_solar_point(const struct sb_model *m, int32_t building_ix);

/* Energy in kWh of meter point p (sb_meter_point) in n intervals of res
 * (SB_RES_15M or SB_RES_1H) from t0_ms (aligned to the interval), into
 * out[n], NaN where missing.  Returns the number of intervals with a value,
 * or SB_EINVAL / the store's error. */
int sb_meter_energy(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms,
                    size_t n, double *out);

/* Mean of an analog point (canonical unit) in n intervals of res
 * (SB_RES_1M, SB_RES_15M or SB_RES_1H) from t0_ms (aligned), NaN where the
 * interval has no sample.  Returns intervals with a value. */
int sb_point_mean(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms, size_t n,
                  double *out);

/* The last sample of each interval (statuses and commands: a state, not a
 * mean), NaN where the interval has none.  Returns intervals with a value. */
int sb_point_last(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms, size_t n,
                  double *out);

/* Local calendar of n hours from t0_ms in tz: how[i] the hour of the week
 * (0 = Monday 00:00 .. 167, analytics/towt.h), hol[i] 1 on a holiday: a
 * local date found in days[nd] (days since 1970-01-01, sorted or not).
 * hol may be NULL. */
void sb_calendar_hours(const struct sb_tz *tz, int64_t t0_ms, size_t n, const int64_t *days,
                       size_t nd, uint8_t *how, uint8_t *hol);

/* Local date of utc_ms in tz as days since 1970-01-01. */
int32_t sb_local_day(const struct sb_tz *tz, int64_t utc_ms);

#endif /* SB_ANALYTICS_METER_H */

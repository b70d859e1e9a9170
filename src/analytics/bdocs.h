/*
 * bdocs.h - what a building's analytics documents say, read from the app
 * database (db/appdb.h): its tariff (parsed, analytics/tariff.h) and its
 * holidays.  One reading for the API, the forecasts and the reports.
 *
 * Threads: any (the app database serialises).  Ownership: results are
 * malloc'd, the caller frees them.
 */
#ifndef SB_ANALYTICS_BDOCS_H
#define SB_ANALYTICS_BDOCS_H

#include <stddef.h>
#include <stdint.h>

#include "db/appdb.h"

struct sb_tariff;

/* The building's tariff, parsed; NULL with why in why[cap] ("the building has
 * no tariff (PUT ...)", "the building's tariff x no longer exists", a parse
 * error, out of memory). */
struct sb_tariff *sb_building_tariff(struct sb_appdb *db, const char *building, char *why, size_t cap);

/* The building's holidays as local day numbers (days since 1970-01-01,
 * sb_days_from_civil), *n of them; NULL and 0 when none. */
int64_t *sb_building_holidays(struct sb_appdb *db, const char *building, size_t *n);

/* sb_local_date_ok: core/tz.h. */
#include "core/tz.h"

#endif /* SB_ANALYTICS_BDOCS_H */

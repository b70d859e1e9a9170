/*
 * rconf.h - reading the JSON configuration objects of the REST and weather
 * drivers (internal to src/drivers/rest/).
 *
 * Every reader names the offending member ("apis.hvac.timeout_ms: a number
 * in 100..120000") so a bad configuration is fixed in one go, and unknown
 * members are rejected so a typo never silently falls back to a default.
 * Values are never quoted in messages: some members are secrets.
 * Pure functions; strings returned are borrowed from the object.
 */
#ifndef SB_REST_RCONF_H
#define SB_REST_RCONF_H

#include <jansson.h>
#include <stddef.h>

/* Reject members of obj not in allowed (NULL-terminated).  0 or SB_ECONFIG. */
int sb_rest__conf_keys(const json_t *obj, const char *const *allowed, const char *where,
                       char *err, size_t errlen);

/* Optional number member in [min, max]; *out = def when absent.
 * 0 or SB_ECONFIG. */
int sb_rest__conf_num(const json_t *obj, const char *key, double min, double max, double def,
                      double *out, const char *where, char *err, size_t errlen);

/* String member of 1..maxlen bytes without NUL or control characters;
 * *out = NULL when absent and !required.  0 or SB_ECONFIG. */
int sb_rest__conf_str(const json_t *obj, const char *key, size_t maxlen, int required,
                      const char **out, const char *where, char *err, size_t errlen);

#endif /* SB_REST_RCONF_H */

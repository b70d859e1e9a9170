/*
 * payload.h - the MQTT driver's text payload parsers: plain numbers, a
 * dotted field path into a JSON document, source timestamps, commands.
 *
 * A point bound to an MQTT topic takes its value from the message payload:
 *
 *     number   the payload is the text of one number ("21.5", " 415\n"),
 *              or true/false (1/0)
 *     json     the payload is a JSON document and "field" names the value:
 *              members separated by '.', array elements by index, written
 *              either way: "data.0.v" or "data[0].v"; "" is the document
 *
 * Keys are matched exactly; a key cannot contain '.', '[' or ']'.  A value
 * found by a path is a number, true/false (1/0) or a string that is wholly
 * a decimal number ("21.5"); NaN/Infinity, hex and anything else are
 * refused.  An optional "time_field" path names the source time:
 *
 *     string  RFC 3339 with a zone (core/timefmt.h), or all digits (below)
 *     number  seconds, milliseconds, microseconds or nanoseconds since the
 *             epoch, told apart by magnitude (sb_mqtt_epoch_ms): a value
 *             below 1e11 is seconds (1e11 s is the year 5138), below 1e14
 *             milliseconds (1e11 ms is March 1973), below 1e17
 *             microseconds, below 1e20 nanoseconds.
 *
 * The command channel's payloads (mqtt.h) are parsed here too.
 *
 * Pure functions: no I/O, no logging, no globals; thread-safe.  json_t
 * pointers returned are borrowed from the caller's document.  Errors come
 * back as a code plus a static reason string (*why) for the caller to log.
 */
#ifndef SB_MQTT_PAYLOAD_H
#define SB_MQTT_PAYLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/jpath.h"
#include "drivers/mqtt/mqtt.h"

#define SB_MQTT_PATH_MAX  SB_JPATH_MAX    /* field path bytes (drivers/jpath.h) */
#define SB_MQTT_PATH_SEGS SB_JPATH_DEPTH  /* path segments */
#define SB_MQTT_NUM_MAX   64    /* bytes of a number's text, blanks excluded */
#define SB_MQTT_ID_LEN    64    /* bytes of a command's correlation id */

/* Check a field path (syntax above).  Returns 0 or SB_EINVAL with the
 * reason in err. */
int sb_mqtt_path_check(const char *path, char *err, size_t errlen);

/* Find path in doc: 0 and *out (borrowed), SB_ENOENT when a member or
 * element is missing, SB_EINVAL for a malformed path. */
int sb_mqtt_path_get(const json_t *doc, const char *path, const json_t **out,
                     const char **why);

/* The text s[0..len) of one number, with optional blanks around it, or
 * true/false.  Returns 0, SB_EINVAL (not a number) or SB_ENAN. */
int sb_mqtt_number_parse(const char *s, size_t len, double *v, const char **why);

/* A JSON value as a number (see above).  Returns 0, SB_ENOENT (null),
 * SB_EINVAL (not numeric) or SB_ENAN. */
int sb_mqtt_json_number(const json_t *j, double *v, const char **why);

/* Epoch seconds/ms/µs/ns by magnitude -> ms.  Returns 0 or SB_ERANGE
 * (not finite, <= 0, or >= 1e20). */
int sb_mqtt_epoch_ms(double x, int64_t *ms);

/* A JSON time value (see above) -> ms UTC.  Returns 0, SB_EINVAL or
 * SB_ERANGE. */
int sb_mqtt_json_time(const json_t *j, int64_t *ms, const char **why);

/* Parse buf[0..len) as JSON (at most one document, any type; len <=
 * max_len) into *doc (caller owns: json_decref).  Returns 0, SB_EINVAL
 * (syntax) or SB_ERANGE (too large). */
int sb_mqtt_json_load(const char *buf, size_t len, size_t max_len, json_t **doc,
                      const char **why);

/* A command payload (mqtt.h): {"value": number | true/false | null,
 * "priority": 1..16, "id": "..."}, "value" required, no other key (a
 * misspelt "priorty" must not become a write at the default priority).
 * Fills c->value/relinquish/priority, and c->id pointing at id[] (>=
 * SB_MQTT_ID_LEN + 1 bytes) when given.  Returns 0 or SB_EINVAL with err. */
int sb_mqtt_cmd_parse(const void *payload, size_t len, struct sb_mqtt_cmd *c, char *id,
                      char *err, size_t errlen);

/* Shortest "%.15g".."%.17g" text of v that reads back exactly; buf >= 32
 * bytes.  Returns the length. */
int sb_mqtt_fmt_double(char *buf, size_t cap, double v);

#endif /* SB_MQTT_PAYLOAD_H */

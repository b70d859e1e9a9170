/*
 * jpath.h - the JSON path evaluator of the drivers (REST, weather, MQTT).
 *
 * A path names one value inside a JSON document received from a cloud API:
 *
 *     properties.temperature.value      object members, separated by '.'
 *     setpoints.heating
 *     items[0].value  or  items.0.value  array elements by index
 *     [2]                               an element of a top-level array
 *
 * Keys are matched exactly (case-sensitive); a key cannot contain '.', '['
 * or ']' (none of the APIs we speak need that).  The empty path names the
 * document itself.  Paths are at most SB_JPATH_MAX bytes and
 * SB_JPATH_DEPTH segments deep.
 *
 * Pure functions: no allocation, no I/O, no logging; thread-safe.  The
 * returned json_t pointers are borrowed from the document (valid as long as
 * the caller holds its reference).
 */
#ifndef SB_DRIVERS_JPATH_H
#define SB_DRIVERS_JPATH_H

#include <jansson.h>
#include <stddef.h>

#define SB_JPATH_MAX   256     /* path bytes, NUL excluded */
#define SB_JPATH_DEPTH 32      /* segments */

/* Check that path is well formed (see above).  Returns 0 or SB_EINVAL with
 * the reason in err. */
int sb_jpath_check(const char *path, char *err, size_t errlen);

/* Find path in doc.  Returns 0 and *out (borrowed), SB_ENOENT when a member
 * or element is missing (err names the segment), SB_EINVAL for a malformed
 * path.  A JSON null found at the path is returned as is. */
int sb_jpath_get(const json_t *doc, const char *path, const json_t **out,
                 char *err, size_t errlen);

/* Convert a found value to a number: a finite JSON number as is, true/false
 * as 1/0, a string that is entirely a finite decimal number ("21.5") by
 * strtod.  Returns 0, SB_ENOENT for null, SB_EPROTO for anything else (an
 * enum string, an object, an array) with err saying what was found. */
int sb_jpath_number(const json_t *v, double *out, char *err, size_t errlen);

#endif /* SB_DRIVERS_JPATH_H */

/* payload.c - number, JSON field path, time and command parsers of the
 * MQTT driver (see payload.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/jpath.h"
#include "drivers/mqtt/payload.h"

/* One path segment: a member key, or an array index ("[3]", or a key of
 * digits met on an array). */
/* Field paths are the drivers' one JSON path syntax (drivers/jpath.h);
 * these keep the MQTT driver's error style (a static reason). */
int sb_mqtt_path_check(const char *path, char *err, size_t errlen)
{
    return sb_jpath_check(path, err, errlen);
}

int sb_mqtt_path_get(const json_t *doc, const char *path, const json_t **out,
                     const char **why)
{
    int rc = sb_jpath_get(doc, path, out, NULL, 0);
    if (rc == SB_ENOENT)
        *why = "field missing";
    else if (rc)
        *why = "malformed field path";
    return rc;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Decimal number grammar (RFC 8259 section 6, plus a leading '+' and a
 * missing integer part, as sensors write "+21.5" and ".5"). */
static int decimal_ok(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
        d++;
    if (i < n && s[i] == '.')
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            d++;
    if (d == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        if (++i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            e++;
        if (e == 0)
            return 0;
    }
    return i == n;
}

int sb_mqtt_number_parse(const char *s, size_t len, double *v, const char **why)
{
    char buf[SB_MQTT_NUM_MAX + 1];

    while (len && is_blank(*s))
        s++, len--;
    while (len && is_blank(s[len - 1]))
        len--;
    if (len == 4 && strncasecmp(s, "true", 4) == 0) {
        *v = 1;
        return 0;
    }
    if (len == 5 && strncasecmp(s, "false", 5) == 0) {
        *v = 0;
        return 0;
    }
    /* strtod alone would take "nan", "inf", hex and trailing junk. */
    if (len == 0 || len > SB_MQTT_NUM_MAX || !decimal_ok(s, len)) {
        *why = len > SB_MQTT_NUM_MAX ? "number text too long" : "not a number";
        return SB_EINVAL;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    *v = strtod(buf, NULL);
    if (!isfinite(*v)) {
        *why = "number out of range";
        return SB_ENAN;
    }
    return 0;
}

int sb_mqtt_json_number(const json_t *j, double *v, const char **why)
{
    switch (json_typeof(j)) {
    case JSON_INTEGER:
        *v = (double)json_integer_value(j);
        return 0;
    case JSON_REAL:
        *v = json_real_value(j);
        return isfinite(*v) ? 0 : SB_ENAN;
    case JSON_TRUE:
        *v = 1;
        return 0;
    case JSON_FALSE:
        *v = 0;
        return 0;
    case JSON_STRING:
        return sb_mqtt_number_parse(json_string_value(j), json_string_length(j), v, why);
    case JSON_NULL:
        *why = "value is null";
        return SB_ENOENT;
    default:
        *why = "value is not a number";
        return SB_EINVAL;
    }
}

int sb_mqtt_epoch_ms(double x, int64_t *ms)
{
    static const struct { double below, to_ms; } scale[] = {
        { 1e11, 1e3 }, { 1e14, 1 }, { 1e17, 1e-3 }, { 1e20, 1e-6 },
    };
    if (!isfinite(x) || x <= 0)
        return SB_ERANGE;
    for (size_t i = 0; i < sizeof(scale) / sizeof(scale[0]); i++)
        if (x < scale[i].below) {
            *ms = llround(x * scale[i].to_ms);
            return 0;
        }
    return SB_ERANGE;
}

/* Integers are scaled exactly (a nanosecond count does not fit a double's
 * 53-bit mantissa to the nanosecond, but it does to the millisecond). */
static int epoch_int_ms(json_int_t x, int64_t *ms)
{
    if (x <= 0)
        return SB_ERANGE;
    if (x < 100000000000LL)
        *ms = x * 1000;
    else if (x < 100000000000000LL)
        *ms = x;
    else if (x < 100000000000000000LL)
        *ms = x / 1000;
    else
        *ms = x / 1000000;
    return 0;
}

int sb_mqtt_json_time(const json_t *j, int64_t *ms, const char **why)
{
    const char *s;
    size_t n;
    double x;

    *why = "time is not RFC 3339 or an epoch number";
    if (json_is_integer(j))
        return epoch_int_ms(json_integer_value(j), ms) ? SB_ERANGE : 0;
    if (json_is_real(j))
        return sb_mqtt_epoch_ms(json_real_value(j), ms);
    if (!json_is_string(j))
        return SB_EINVAL;
    s = json_string_value(j);
    n = json_string_length(j);
    if (n && strspn(s, "0123456789.") == n)
        return sb_mqtt_number_parse(s, n, &x, why) ? SB_EINVAL : sb_mqtt_epoch_ms(x, ms);
    return sb_time_parse(s, n, ms) ? SB_EINVAL : 0;
}

int sb_mqtt_json_load(const char *buf, size_t len, size_t max_len, json_t **doc,
                      const char **why)
{
    json_error_t je;
    if (len > max_len) {
        *why = "payload too large";
        return SB_ERANGE;
    }
    /* JSON_ALLOW_NUL keeps a "\u0000" inside a string from failing the
     * whole document; keys are compared by length (json_object_getn). */
    *doc = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!*doc) {
        *why = "payload is not JSON";
        return SB_EINVAL;
    }
    return 0;
}

int sb_mqtt_fmt_double(char *buf, size_t cap, double v)
{
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return n;
}

/* ---- commands --------------------------------------------------------------------- */

static int cmd_value(const json_t *v, struct sb_mqtt_cmd *c, char *err, size_t errlen)
{
    const char *why = NULL;
    if (json_is_null(v)) {
        c->relinquish = 1;
        c->value = NAN;
        return 0;
    }
    if (!(json_is_number(v) || json_is_boolean(v)) || sb_mqtt_json_number(v, &c->value, &why)) {
        sb_errf(err, errlen, "value: must be a finite number, true/false, or null (relinquish)");
        return SB_EINVAL;
    }
    return 0;
}

/* {"value": number|bool|null, "priority": 1..16, "id": "..."}; nothing else,
 * so a misspelt "priorty" is an error, not a write at the default priority. */
int sb_mqtt_cmd_parse(const void *payload, size_t len, struct sb_mqtt_cmd *c, char *id,
                      char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(payload, len, 0, &je), *v;
    const char *k;
    int rc = 0;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "a command is a JSON object {\"value\": ..., \"priority\": ...}");
        rc = SB_EINVAL;
        goto out;
    }
    json_object_foreach(o, k, v) {
        if (strcmp(k, "value") == 0) {
            rc = cmd_value(v, c, err, errlen);
        } else if (strcmp(k, "priority") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 16) {
                sb_errf(err, errlen, "priority: must be an integer 1..16");
                rc = SB_EINVAL;
            }
            c->priority = (int)json_integer_value(v);
        } else if (strcmp(k, "id") == 0) {
            if (!json_is_string(v) || json_string_length(v) > SB_MQTT_ID_LEN ||
                strlen(json_string_value(v)) != json_string_length(v)) {
                sb_errf(err, errlen, "id: must be a string of at most %d bytes", SB_MQTT_ID_LEN);
                rc = SB_EINVAL;
            } else {
                snprintf(id, SB_MQTT_ID_LEN + 1, "%s", json_string_value(v));
                c->id = id;
            }
        } else {
            sb_errf(err, errlen, "unknown key \"%.32s\" (known: value, priority, id)", k);
            rc = SB_EINVAL;
        }
        if (rc)
            goto out;
    }
    if (!json_object_get(o, "value")) {
        sb_errf(err, errlen, "value: missing");
        rc = SB_EINVAL;
    }
out:
    json_decref(o);
    return rc;
}

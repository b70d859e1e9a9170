/*
 * addr.c - point addresses of the Modbus driver (see modbus.h): the
 * connection fields (TCP host/port or RTU serial settings, unit id) and
 * either a map (map.c) or a profile reference.  Pure: no I/O.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

#define WHERE "address"

/* Fields an address may have, and which of them a profile reference allows. */
static const char *const conn_fields[] = {
    "host", "port", "unit", "serial", "baud", "parity", "data_bits", "stop_bits", NULL
};
static const char *const map_fields[] = {
    "register", "table", "type", "bit", "word_order", "byte_order", "scale", "offset",
    "enum", NULL
};

static int in_list(const char *k, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(k, *list) == 0)
            return 1;
    return 0;
}

/* Every key is known; with a profile, no map field. */
static int check_fields(const json_t *o, int profile, char *err, size_t errlen)
{
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)o, k, v) {
        (void)v;
        if (in_list(k, conn_fields) || strcmp(k, "profile") == 0 || strcmp(k, "name") == 0)
            continue;
        if (!in_list(k, map_fields)) {
            sb_errf(err, errlen, WHERE ": unknown field \"%.40s\"", k);
            return SB_EINVAL;
        }
        if (profile) {
            sb_errf(err, errlen, WHERE ": field \"%.40s\" cannot be used with \"profile\" "
                    "(the profile entry defines it)", k);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* An optional integer in [lo, hi]; absent leaves *out. */
static int opt_int(const json_t *o, const char *key, long long lo, long long hi, long long *out,
                   char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        sb_errf(err, errlen, WHERE ": field \"%s\" must be an integer in %lld..%lld", key, lo, hi);
        return SB_EINVAL;
    }
    *out = json_integer_value(v);
    return 0;
}

/* A required-or-optional string of 1..cap-1 bytes whose bytes pass ok(). */
static int get_str(const json_t *o, const char *key, char *dst, size_t cap,
                   int (*ok)(int c), char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, key);
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;
    size_t n = s ? json_string_length(v) : 0;

    if (!s || n == 0 || n >= cap || strlen(s) != n) {
        sb_errf(err, errlen, WHERE ": field \"%s\" must be a string of 1..%zu bytes", key, cap - 1);
        return SB_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ok((unsigned char)s[i])) {
            sb_errf(err, errlen, WHERE ": field \"%s\" has a character not allowed there "
                    "(byte 0x%02x at %zu)", key, (unsigned char)s[i], i);
            return SB_EINVAL;
        }
    }
    memcpy(dst, s, n + 1);
    return 0;
}

/* Host names (RFC 1123 letters, digits, '-', '.'), IPv4 and IPv6 literals
 * (':' and a '%' zone). */
static int host_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == ':' || c == '%' || c == '_';
}

/* Profile and entry names: they become file names and appear in messages. */
static int name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

/* A device path: printable ASCII without spaces (it ends up in keys and logs). */
static int path_char(int c)
{
    return c > 0x20 && c < 0x7f;
}

static int parse_tcp(const json_t *o, struct sb_modbus_addr *a, char *err, size_t errlen)
{
    long long port = 502, unit = 1;
    if (get_str(o, "host", a->host, sizeof(a->host), host_char, err, errlen) ||
        opt_int(o, "port", 1, 65535, &port, err, errlen) ||
        opt_int(o, "unit", 0, 255, &unit, err, errlen))
        return SB_EINVAL;
    a->port = (uint16_t)port;
    a->unit = (uint8_t)unit;
    return 0;
}

/* Baud rates termios (and so libmodbus) can set; libmodbus silently falls
 * back to 9600 for others, so refuse them here. */
static int baud_ok(long long b)
{
    static const long long ok[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200,
                                    230400, 460800, 921600 };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (b == ok[i])
            return 1;
    return 0;
}

static int parse_parity(const json_t *o, struct sb_modbus_addr *a, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, "parity");
    const char *s = json_is_string(v) ? json_string_value(v) : NULL;

    /* MODBUS over Serial Line V1.02 §2.5.1: even parity is the default. */
    a->parity = 'E';
    if (!v || json_is_null(v))
        return 0;
    if (s && (strcmp(s, "N") == 0 || strcmp(s, "E") == 0 || strcmp(s, "O") == 0)) {
        a->parity = s[0];
        return 0;
    }
    sb_errf(err, errlen, WHERE ": field \"parity\" must be \"N\", \"E\" or \"O\"");
    return SB_EINVAL;
}

static int parse_rtu(const json_t *o, struct sb_modbus_addr *a, char *err, size_t errlen)
{
    long long baud = 9600, data = 8, stop = 1, unit = 1;

    if (json_object_get(o, "host") || json_object_get(o, "port")) {
        sb_errf(err, errlen, WHERE ": give either \"host\" (TCP) or \"serial\" (RTU), not both");
        return SB_EINVAL;
    }
    if (get_str(o, "serial", a->serial, sizeof(a->serial), path_char, err, errlen))
        return SB_EINVAL;
    if (a->serial[0] != '/') {
        sb_errf(err, errlen, WHERE ": field \"serial\" must be an absolute device path");
        return SB_EINVAL;
    }
    /* Unit 0 is broadcast (no answer), 248..255 are reserved: Serial Line
     * V1.02 §2.2. */
    if (opt_int(o, "baud", 1, 4000000, &baud, err, errlen) ||
        opt_int(o, "data_bits", 7, 8, &data, err, errlen) ||
        opt_int(o, "stop_bits", 1, 2, &stop, err, errlen) ||
        opt_int(o, "unit", 1, 247, &unit, err, errlen) ||
        parse_parity(o, a, err, errlen))
        return SB_EINVAL;
    if (!baud_ok(baud)) {
        sb_errf(err, errlen, WHERE ": field \"baud\": %lld is not a standard rate (1200, 2400, "
                "4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)", baud);
        return SB_EINVAL;
    }
    a->rtu = 1;
    a->baud = (uint32_t)baud;
    a->data_bits = (uint8_t)data;
    a->stop_bits = (uint8_t)stop;
    a->unit = (uint8_t)unit;
    return 0;
}

/* "profile" + "name", or the map fields. */
static int parse_what(const json_t *o, struct sb_modbus_addr *a, char *err, size_t errlen)
{
    const json_t *p = json_object_get(o, "profile");
    if (!p) {
        if (json_object_get(o, "name")) {
            sb_errf(err, errlen, WHERE ": field \"name\" needs \"profile\"");
            return SB_EINVAL;
        }
        return sb_modbus_map_parse(o, 0, WHERE, &a->map, err, errlen);
    }
    if (get_str(o, "profile", a->profile, sizeof(a->profile), name_char, err, errlen) ||
        get_str(o, "name", a->map.name, sizeof(a->map.name), name_char, err, errlen)) {
        if (!json_object_get(o, "name"))
            sb_errf(err, errlen, WHERE ": field \"name\" (the profile entry) is required "
                    "with \"profile\"");
        return SB_EINVAL;
    }
    return 0;
}

int sb_modbus_addr_parse(const char *text, size_t len, struct sb_modbus_addr *a,
                         char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = NULL;
    int rc = SB_EINVAL;

    memset(a, 0, sizeof(*a));
    if (!text || !(o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(o)) {
        sb_errf(err, errlen, WHERE ": must be a JSON object%s%.80s", o ? "" : ": ",
                o ? "" : (text ? je.text : "(none)"));
        goto out;
    }
    if ((rc = check_fields(o, json_object_get(o, "profile") != NULL, err, errlen)))
        goto out;
    if (json_object_get(o, "serial"))
        rc = parse_rtu(o, a, err, errlen);
    else if (json_object_get(o, "host"))
        rc = parse_tcp(o, a, err, errlen);
    else {
        sb_errf(err, errlen, WHERE ": field \"host\" (Modbus TCP) or \"serial\" (RTU) is required");
        rc = SB_EINVAL;
    }
    if (rc == 0)
        rc = parse_what(o, a, err, errlen);
out:
    json_decref(o);
    if (rc)
        sb_modbus_addr_release(a);
    return rc;
}

void sb_modbus_addr_release(struct sb_modbus_addr *a)
{
    sb_modbus_map_release(&a->map);
}

int sb_modbus_addr_conn_key(const struct sb_modbus_addr *a, char *key, size_t cap)
{
    int n;
    if (a->rtu)
        n = snprintf(key, cap, "rtu:%s", a->serial);
    else if (strchr(a->host, ':'))
        n = snprintf(key, cap, "tcp:[%s]:%u", a->host, (unsigned)a->port);
    else
        n = snprintf(key, cap, "tcp:%s:%u", a->host, (unsigned)a->port);
    return n < 0 || (size_t)n >= cap ? SB_ENOSPC : 0;
}

int sb_modbus_addr_key(const struct sb_modbus_addr *a, char *key, size_t cap)
{
    size_t n;
    int rc = sb_modbus_addr_conn_key(a, key, cap);
    if (rc)
        return rc;
    n = strlen(key);
    rc = snprintf(key + n, cap - n, "/%u", (unsigned)a->unit);
    return rc < 0 || (size_t)rc >= cap - n ? SB_ENOSPC : 0;
}

int sb_modbus_addr_resolve(struct sb_modbus_addr *a, const struct sb_modbus_profile *p,
                           char *err, size_t errlen)
{
    const struct sb_modbus_map *e = sb_modbus_profile_entry(p, a->map.name);
    if (!e) {
        sb_errf(err, errlen, WHERE ": field \"name\": profile \"%s\" has no entry \"%s\"",
                p->name, a->map.name);
        return SB_ENOENT;
    }
    sb_modbus_map_release(&a->map);
    return sb_modbus_map_copy(&a->map, e);
}

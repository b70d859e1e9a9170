/*
 * map.c - the mapping fields shared by point addresses and profile entries:
 * where a value lives (table, register) and how it is stored (type, word
 * and byte order, scale, offset, enum).  See modbus.h.
 *
 * Register numbers without "table" follow Modicon notation (Modicon Modbus
 * Protocol Reference Guide PI-MBUS-300 rev. J, "data addresses"; also
 * Modbus Application Protocol V1.1b3 §4.4: PDU addresses are 0-based,
 * "register N" is address N-1):
 *
 *     1..9999        coil, address N-1 (a register type makes it a holding
 *                    register *number*, address N-1: the 1-based numbering
 *                    vendors such as Schneider PM5xxx print in their lists)
 *     10001..19999   discrete input, N-10001      100001..165536 (6-digit)
 *     30001..39999   input register, N-30001      300001..365536
 *     40001..49999   holding register, N-40001    400001..465536
 *
 * With "table", "register" is the 0-based protocol address (0..65535).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

static const char *const type_names[SB_MODBUS_TYPE_COUNT] = {
    "int16", "uint16", "int32", "uint32", "int64", "uint64",
    "float32", "float64", "coil", "bit"
};
static const unsigned type_regs[SB_MODBUS_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 2, 4, 1, 1 };
static const char *const table_names[SB_MODBUS_TABLE_COUNT] = {
    "coil", "discrete", "input", "holding"
};

const char *sb_modbus_type_name(int type)
{
    return type >= 0 && type < SB_MODBUS_TYPE_COUNT ? type_names[type] : "?";
}

const char *sb_modbus_table_name(int table)
{
    return table >= 0 && table < SB_MODBUS_TABLE_COUNT ? table_names[table] : "?";
}

unsigned sb_modbus_type_regs(int type)
{
    return type >= 0 && type < SB_MODBUS_TYPE_COUNT ? type_regs[type] : 0;
}

static int is_bit_table(int table)
{
    return table == SB_MODBUS_COIL || table == SB_MODBUS_DISCRETE;
}

/* Index of s in names[0..n), or -1. */
static int lookup(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* An optional string field: 0 (absent: *out NULL), or SB_EINVAL. */
static int opt_string(const json_t *obj, const char *key, const char *where,
                      const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        sb_errf(err, errlen, "%s: field \"%s\" must be a string", where, key);
        return SB_EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

/* Modicon reference -> table and 0-based address (see the file comment). */
static int modicon(json_int_t reg, int type, const char *where, int *table, json_int_t *addr,
                   char *err, size_t errlen)
{
    static const struct { json_int_t lo, hi, base; int table; } r[] = {
        { 10001, 19999, 10001, SB_MODBUS_DISCRETE }, { 30001, 39999, 30001, SB_MODBUS_INPUT },
        { 40001, 49999, 40001, SB_MODBUS_HOLDING }, { 100001, 165536, 100001, SB_MODBUS_DISCRETE },
        { 300001, 365536, 300001, SB_MODBUS_INPUT }, { 400001, 465536, 400001, SB_MODBUS_HOLDING },
    };
    if (reg >= 1 && reg <= 9999) {
        *table = (type < 0 || type == SB_MODBUS_COILT) ? SB_MODBUS_COIL : SB_MODBUS_HOLDING;
        *addr = reg - 1;
        return 0;
    }
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        if (reg >= r[i].lo && reg <= r[i].hi) {
            *table = r[i].table;
            *addr = reg - r[i].base;
            return 0;
        }
    }
    sb_errf(err, errlen, "%s: field \"register\": %lld is not a Modicon reference (1-9999 coil or "
            "1-based register number, 10001-19999 discrete input, 30001-39999 input register, "
            "40001-49999 holding register, or the 6-digit 1xxxxx/3xxxxx/4xxxxx forms); "
            "give \"table\" to use a 0-based address", where, (long long)reg);
    return SB_EINVAL;
}

/* register + table + type -> m->table, m->type, m->addr. */
static int parse_location(const json_t *obj, const char *where, struct sb_modbus_map *m,
                          char *err, size_t errlen)
{
    const json_t *reg = json_object_get(obj, "register");
    const char *tname, *tyname;
    int type = -1, table;
    json_int_t addr;

    if (opt_string(obj, "type", where, &tyname, err, errlen) ||
        opt_string(obj, "table", where, &tname, err, errlen))
        return SB_EINVAL;
    if (tyname && (type = lookup(tyname, type_names, SB_MODBUS_TYPE_COUNT)) < 0) {
        sb_errf(err, errlen, "%s: field \"type\": unknown type \"%.40s\" (allowed: int16, uint16, "
                "int32, uint32, int64, uint64, float32, float64, coil, bit)", where, tyname);
        return SB_EINVAL;
    }
    if (!reg || !json_is_integer(reg)) {
        sb_errf(err, errlen, "%s: field \"register\" is required and must be an integer", where);
        return SB_EINVAL;
    }
    if (tname) {
        if ((table = lookup(tname, table_names, SB_MODBUS_TABLE_COUNT)) < 0) {
            sb_errf(err, errlen, "%s: field \"table\": unknown table \"%.40s\" (allowed: holding, "
                    "input, coil, discrete)", where, tname);
            return SB_EINVAL;
        }
        addr = json_integer_value(reg);
        if (addr < 0 || addr > 65535) {
            sb_errf(err, errlen, "%s: field \"register\": %lld is not a 0-based address "
                    "(0..65535) as \"table\" asks", where, (long long)addr);
            return SB_EINVAL;
        }
    } else if (modicon(json_integer_value(reg), type, where, &table, &addr, err, errlen)) {
        return SB_EINVAL;
    }
    if (type < 0)
        type = is_bit_table(table) ? SB_MODBUS_COILT : SB_MODBUS_UINT16;
    if (is_bit_table(table) != (type == SB_MODBUS_COILT)) {
        sb_errf(err, errlen, "%s: field \"type\": %s does not fit the %s table (coil and "
                "discrete tables hold type \"coil\"; registers hold the other types)",
                where, type_names[type], table_names[table]);
        return SB_EINVAL;
    }
    if (addr + type_regs[type] - 1 > 65535) {
        sb_errf(err, errlen, "%s: field \"register\": a %s at address %lld runs past 65535",
                where, type_names[type], (long long)addr);
        return SB_EINVAL;
    }
    m->table = (uint8_t)table;
    m->type = (uint8_t)type;
    m->addr = (uint16_t)addr;
    return 0;
}

/* "big" / "little" -> 0 / 1. */
static int parse_order(const json_t *obj, const char *key, const char *where, uint8_t *le,
                       char *err, size_t errlen)
{
    const char *s;
    if (opt_string(obj, key, where, &s, err, errlen))
        return SB_EINVAL;
    if (!s)
        return 0;
    if (strcmp(s, "big") == 0 || strcmp(s, "little") == 0) {
        *le = s[0] == 'l';
        return 0;
    }
    sb_errf(err, errlen, "%s: field \"%s\": \"%.40s\" is not \"big\" or \"little\"", where, key, s);
    return SB_EINVAL;
}

static int parse_bit(const json_t *obj, const char *where, struct sb_modbus_map *m,
                     char *err, size_t errlen)
{
    const json_t *b = json_object_get(obj, "bit");
    if (m->type != SB_MODBUS_BIT) {
        if (b && !json_is_null(b)) {
            sb_errf(err, errlen, "%s: field \"bit\" is only for type \"bit\"", where);
            return SB_EINVAL;
        }
        return 0;
    }
    if (!b || !json_is_integer(b) || json_integer_value(b) < 0 || json_integer_value(b) > 15) {
        sb_errf(err, errlen, "%s: field \"bit\": type \"bit\" needs an integer 0..15 "
                "(0 = least significant)", where);
        return SB_EINVAL;
    }
    m->bit = (uint8_t)json_integer_value(b);
    return 0;
}

/* An optional finite number; 0 or SB_EINVAL. */
static int opt_number(const json_t *obj, const char *key, const char *where, double *out,
                      char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_number(v) || !isfinite(json_number_value(v))) {
        sb_errf(err, errlen, "%s: field \"%s\" must be a finite number", where, key);
        return SB_EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int parse_scale(const json_t *obj, const char *where, struct sb_modbus_map *m,
                       char *err, size_t errlen)
{
    int has = json_object_get(obj, "scale") || json_object_get(obj, "offset");
    m->scale = 1;
    m->offset = 0;
    if (has && (m->type == SB_MODBUS_COILT || m->type == SB_MODBUS_BIT)) {
        sb_errf(err, errlen, "%s: fields \"scale\" and \"offset\" do not apply to type \"%s\"",
                where, type_names[m->type]);
        return SB_EINVAL;
    }
    if (opt_number(obj, "scale", where, &m->scale, err, errlen) ||
        opt_number(obj, "offset", where, &m->offset, err, errlen))
        return SB_EINVAL;
    if (m->scale == 0) {
        sb_errf(err, errlen, "%s: field \"scale\" must not be 0", where);
        return SB_EINVAL;
    }
    return 0;
}

/* The raw values a type can hold (as doubles; exact for 16/32-bit). */
static void raw_range(int type, double *lo, double *hi)
{
    switch (type) {
    case SB_MODBUS_INT16:  *lo = -32768; *hi = 32767; break;
    case SB_MODBUS_UINT16: *lo = 0; *hi = 65535; break;
    case SB_MODBUS_INT32:  *lo = -2147483648.0; *hi = 2147483647.0; break;
    case SB_MODBUS_UINT32: *lo = 0; *hi = 4294967295.0; break;
    case SB_MODBUS_INT64:  *lo = -9223372036854775808.0; *hi = 9223372036854775807.0; break;
    case SB_MODBUS_UINT64: *lo = 0; *hi = 18446744073709551615.0; break;
    case SB_MODBUS_COILT:
    case SB_MODBUS_BIT:    *lo = 0; *hi = 1; break;
    default:               *lo = -INFINITY; *hi = INFINITY; break;
    }
}

/* One enum key: a decimal integer string the type can hold. */
static int enum_key(const char *k, int type, const char *where, int64_t *out,
                    char *err, size_t errlen)
{
    char *end;
    double lo, hi;
    long long v;

    if (!(k[0] == '-' || (k[0] >= '0' && k[0] <= '9')))
        goto bad;
    errno = 0;
    v = strtoll(k, &end, 10);
    if (*end != '\0' || end == k || errno == ERANGE)
        goto bad;
    raw_range(type, &lo, &hi);
    if ((double)v < lo || (double)v > hi) {
        sb_errf(err, errlen, "%s: field \"enum\": key %lld does not fit type %s", where, v,
                type_names[type]);
        return SB_EINVAL;
    }
    *out = v;
    return 0;
bad:
    sb_errf(err, errlen, "%s: field \"enum\": key \"%.40s\" is not a decimal integer", where, k);
    return SB_EINVAL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int parse_enum(const json_t *obj, const char *where, struct sb_modbus_map *m,
                      char *err, size_t errlen)
{
    const json_t *e = json_object_get(obj, "enum"), *v;
    const char *k;
    size_t i = 0, n;

    if (!e || json_is_null(e))
        return 0;
    n = json_is_object(e) ? json_object_size(e) : 0;
    if (n == 0 || n > SB_MODBUS_ENUM_MAX) {
        sb_errf(err, errlen, "%s: field \"enum\" must be an object of 1..%d \"value\": \"label\" "
                "pairs", where, SB_MODBUS_ENUM_MAX);
        return SB_EINVAL;
    }
    if (m->type == SB_MODBUS_FLOAT32 || m->type == SB_MODBUS_FLOAT64) {
        sb_errf(err, errlen, "%s: field \"enum\" needs an integer type, not %s", where,
                type_names[m->type]);
        return SB_EINVAL;
    }
    if (!(m->enums = malloc(n * sizeof(*m->enums))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)e, k, v) {
        if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 64) {
            sb_errf(err, errlen, "%s: field \"enum\": the label of \"%.40s\" must be a string of "
                    "1..64 bytes", where, k);
            return SB_EINVAL;
        }
        if (enum_key(k, m->type, where, &m->enums[i++], err, errlen))
            return SB_EINVAL;
    }
    m->n_enums = n;
    qsort(m->enums, n, sizeof(*m->enums), cmp_i64);
    for (i = 1; i < n; i++) {
        if (m->enums[i] == m->enums[i - 1]) {
            sb_errf(err, errlen, "%s: field \"enum\": value %lld is named twice", where,
                    (long long)m->enums[i]);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* Profile-only fields: unit, writable. */
static int parse_profile_fields(const json_t *obj, const char *where, struct sb_modbus_map *m,
                                char *err, size_t errlen)
{
    const json_t *w = json_object_get(obj, "writable");
    const char *u;

    if (opt_string(obj, "unit", where, &u, err, errlen))
        return SB_EINVAL;
    if (u && sb_unit_parse(u, &m->unit) != 0) {
        sb_errf(err, errlen, "%s: field \"unit\": \"%.40s\" is not a unit sbems knows "
                "(see docs/site-format.md)", where, u);
        return SB_EINVAL;
    }
    if (w && !json_is_null(w) && !json_is_boolean(w)) {
        sb_errf(err, errlen, "%s: field \"writable\" must be true or false", where);
        return SB_EINVAL;
    }
    m->writable = w && json_is_true(w);
    if (m->writable && (m->table == SB_MODBUS_INPUT || m->table == SB_MODBUS_DISCRETE)) {
        sb_errf(err, errlen, "%s: field \"writable\": the %s table is read-only", where,
                table_names[m->table]);
        return SB_EINVAL;
    }
    return 0;
}

int sb_modbus_map_parse(const json_t *obj, int profile_entry, const char *where,
                        struct sb_modbus_map *m, char *err, size_t errlen)
{
    int rc;

    memset(m, 0, sizeof(*m));
    m->writable = -1;
    m->unit = SB_UNIT_INVALID;
    if ((rc = parse_location(obj, where, m, err, errlen)) ||
        (rc = parse_bit(obj, where, m, err, errlen)) ||
        (rc = parse_order(obj, "word_order", where, &m->word_le, err, errlen)) ||
        (rc = parse_order(obj, "byte_order", where, &m->byte_le, err, errlen)) ||
        (rc = parse_scale(obj, where, m, err, errlen)) ||
        (rc = parse_enum(obj, where, m, err, errlen)))
        goto out;
    if (profile_entry)
        rc = parse_profile_fields(obj, where, m, err, errlen);
out:
    if (rc)
        sb_modbus_map_release(m);
    return rc;
}

int sb_modbus_map_copy(struct sb_modbus_map *dst, const struct sb_modbus_map *src)
{
    *dst = *src;
    dst->enums = NULL;
    if (src->n_enums) {
        if (!(dst->enums = malloc(src->n_enums * sizeof(*dst->enums)))) {
            dst->n_enums = 0;
            return SB_ENOMEM;
        }
        memcpy(dst->enums, src->enums, src->n_enums * sizeof(*dst->enums));
    }
    return 0;
}

void sb_modbus_map_release(struct sb_modbus_map *m)
{
    free(m->enums);
    m->enums = NULL;
    m->n_enums = 0;
}

int sb_modbus_map_enum_ok(const struct sb_modbus_map *m, int64_t raw)
{
    if (!m->n_enums)
        return 1;
    return bsearch(&raw, m->enums, m->n_enums, sizeof(*m->enums), cmp_i64) != NULL;
}

/*
 * codec.c - Modbus register contents <-> numbers (see modbus.h).  Pure.
 *
 * Modbus registers are 16-bit words sent high byte first (Modbus
 * Application Protocol V1.1b3 §4.2: "big-Endian representation");
 * libmodbus hands them to us as host-order uint16 values.  The protocol
 * says nothing about values wider than one register, so devices differ:
 * word_order "big" (default) puts the most significant word at the lowest
 * address (ABCD, e.g. Eastron SDM, Schneider PM5xxx), "little" puts it last
 * (CDAB); byte_order "little" swaps the bytes inside every register
 * (BADC / DCBA).  IEEE 754 binary32/64 for floats.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

/* The k registers as one big-endian integer (most significant word first). */
static uint64_t gather(const struct sb_modbus_map *m, const uint16_t *r, unsigned k)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < k; i++) {
        uint16_t w = r[m->word_le ? k - 1 - i : i];
        if (m->byte_le)
            w = (uint16_t)((w >> 8) | (w << 8));
        v = (v << 16) | w;
    }
    return v;
}

/* The inverse of gather. */
static void scatter(const struct sb_modbus_map *m, uint64_t v, uint16_t *r, unsigned k)
{
    for (unsigned i = 0; i < k; i++) {
        uint16_t w = (uint16_t)(v >> (16 * (k - 1 - i)));
        if (m->byte_le)
            w = (uint16_t)((w >> 8) | (w << 8));
        r[m->word_le ? k - 1 - i : i] = w;
    }
}

static double from_bits(int type, uint64_t v)
{
    switch (type) {
    case SB_MODBUS_INT16:  return (int16_t)(uint16_t)v;
    case SB_MODBUS_UINT16: return (uint16_t)v;
    case SB_MODBUS_INT32:  return (int32_t)(uint32_t)v;
    case SB_MODBUS_UINT32: return (uint32_t)v;
    case SB_MODBUS_INT64:  return (double)(int64_t)v;
    case SB_MODBUS_UINT64: return (double)v;
    case SB_MODBUS_FLOAT32: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        return f;
    }
    default: {
        double d;
        memcpy(&d, &v, sizeof d);
        return d;
    }
    }
}

int sb_modbus_decode(const struct sb_modbus_map *m, const uint16_t *regs, size_t n, double *raw)
{
    unsigned k = sb_modbus_type_regs(m->type);

    if (k == 0 || n < k)
        return SB_EINVAL;
    if (m->type == SB_MODBUS_COILT) {
        *raw = regs[0] != 0;
        return 0;
    }
    if (m->type == SB_MODBUS_BIT) {
        *raw = (double)((gather(m, regs, 1) >> m->bit) & 1u);
        return 0;
    }
    *raw = from_bits(m->type, gather(m, regs, k));
    return isfinite(*raw) ? 0 : SB_ENAN;
}

double sb_modbus_scale(const struct sb_modbus_map *m, double raw)
{
    return raw * m->scale + m->offset;
}

/* Raw values an integer type holds: [lo, hi_excl). */
static int int_range(int type, double *lo, double *hi_excl)
{
    static const double two63 = 9223372036854775808.0, two64 = 18446744073709551616.0;
    switch (type) {
    case SB_MODBUS_INT16:  *lo = -32768; *hi_excl = 32768; return 1;
    case SB_MODBUS_UINT16: *lo = 0; *hi_excl = 65536; return 1;
    case SB_MODBUS_INT32:  *lo = -2147483648.0; *hi_excl = 2147483648.0; return 1;
    case SB_MODBUS_UINT32: *lo = 0; *hi_excl = 4294967296.0; return 1;
    case SB_MODBUS_INT64:  *lo = -two63; *hi_excl = two63; return 1;
    case SB_MODBUS_UINT64: *lo = 0; *hi_excl = two64; return 1;
    default: return 0;
    }
}

int sb_modbus_unscale(const struct sb_modbus_map *m, double value, double *raw,
                      char *err, size_t errlen)
{
    double r, lo, hi;

    if (!isfinite(value)) {
        sb_errf(err, errlen, "value is not a finite number");
        return SB_ENAN;
    }
    if (m->type == SB_MODBUS_COILT || m->type == SB_MODBUS_BIT) {
        if (value != 0 && value != 1) {
            sb_errf(err, errlen, "a %s takes 0 or 1, not %g", sb_modbus_type_name(m->type), value);
            return SB_ERANGE;
        }
        *raw = value;
        return 0;
    }
    r = (value - m->offset) / m->scale;
    if (int_range(m->type, &lo, &hi)) {
        r = round(r);
        if (!(r >= lo && r < hi)) {
            sb_errf(err, errlen, "value %g is raw %.17g, outside what a %s holds", value, r,
                    sb_modbus_type_name(m->type));
            return SB_ERANGE;
        }
    } else if (!isfinite(r) || (m->type == SB_MODBUS_FLOAT32 && fabs(r) > FLT_MAX)) {
        sb_errf(err, errlen, "value %g is raw %g, outside what a %s holds", value, r,
                sb_modbus_type_name(m->type));
        return SB_ERANGE;
    }
    *raw = r;
    return 0;
}

static uint64_t to_bits(int type, double raw)
{
    switch (type) {
    case SB_MODBUS_INT16:
    case SB_MODBUS_INT32:
    case SB_MODBUS_INT64:
        return (uint64_t)(int64_t)raw;
    case SB_MODBUS_FLOAT32: {
        float f = (float)raw;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        return u;
    }
    case SB_MODBUS_FLOAT64: {
        uint64_t u;
        memcpy(&u, &raw, sizeof u);
        return u;
    }
    default:
        return (uint64_t)raw;
    }
}

int sb_modbus_encode(const struct sb_modbus_map *m, double raw, uint16_t *regs, size_t cap)
{
    unsigned k = sb_modbus_type_regs(m->type);
    double lo, hi;

    if (k == 0 || !isfinite(raw))
        return SB_EINVAL;
    if (cap < k)
        return SB_ENOSPC;
    if (int_range(m->type, &lo, &hi) && !(raw >= lo && raw < hi))
        return SB_EINVAL;
    if (m->type == SB_MODBUS_FLOAT32 && fabs(raw) > FLT_MAX)
        return SB_EINVAL;   /* converting it to float would be undefined (C17 6.3.1.5) */
    if (m->type == SB_MODBUS_COILT) {
        regs[0] = raw != 0;
        return 1;
    }
    if (m->type == SB_MODBUS_BIT) {
        uint64_t w = gather(m, regs, 1);
        w = raw != 0 ? (w | (1u << m->bit)) : (w & ~(uint64_t)(1u << m->bit));
        scatter(m, w, regs, 1);
        return 1;
    }
    scatter(m, to_bits(m->type, raw), regs, k);
    return (int)k;
}

const char *sb_modbus_exception_name(int code)
{
    /* Modbus Application Protocol V1.1b3 §7 "MODBUS Exception Responses";
     * 7 is from the Modicon PI-MBUS-300 reference, 9 is unassigned. */
    static const char *const names[] = {
        NULL, "illegal function", "illegal data address", "illegal data value",
        "server device failure", "acknowledge", "server device busy", "negative acknowledge",
        "memory parity error", "not defined", "gateway path unavailable",
        "gateway target device failed to respond"
    };
    return code >= 1 && code <= 11 ? names[code] : "unknown exception";
}

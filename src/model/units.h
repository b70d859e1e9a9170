/*
 * units.h - engineering units: parsing, dimensions and conversion.
 *
 * A point declares the unit its source reports ("degF", "in. w.c.", "cfm");
 * readings are stored in the canonical unit of that unit's dimension (°C, kW,
 * kWh, Pa, L/s, %, ppm, ...), so every chart, rollup and rule compares like
 * with like.  This module maps unit strings to an enum (sb_unit_parse), tells
 * the dimension and canonical unit of each, and converts values between units
 * of one dimension.  Every conversion is affine:
 *
 *     canonical = (value + offset) * mul / div
 *
 * which is exact for the defined ratios (°F -> °C is (F - 32) * 5 / 9, so
 * 212 °F gives exactly 100 °C).  The constants and their sources are in
 * units.c; docs/internals/model.md lists the accepted spellings.
 *
 * Pure functions over static tables: no allocation, no globals that change,
 * thread-safe.  Strings returned are static and never freed.
 */
#ifndef SB_UNITS_H
#define SB_UNITS_H

#include <stddef.h>

/* What a unit measures.  Units convert only within one dimension. */
enum sb_dim {
    SB_DIM_NONE = 0,        /* dimensionless: states, counts, booleans */
    SB_DIM_TEMPERATURE,     /* canonical °C */
    SB_DIM_RATIO,           /* canonical % (humidity, positions, speeds) */
    SB_DIM_CONCENTRATION,   /* canonical ppm (by volume, e.g. CO2) */
    SB_DIM_POWER,           /* canonical kW */
    SB_DIM_ENERGY,          /* canonical kWh */
    SB_DIM_PRESSURE,        /* canonical Pa */
    SB_DIM_FLOW,            /* canonical L/s (volumetric flow) */
    SB_DIM_VOLUME,          /* canonical m³ (water and gas meters) */
    SB_DIM_FREQUENCY,       /* canonical Hz (drive output) */
    SB_DIM_CURRENT,         /* canonical A */
    SB_DIM_VOLTAGE,         /* canonical V */
    SB_DIM_COUNT
};

/* A unit.  SB_UNIT_INVALID (0) is what zeroed storage holds: never valid. */
enum sb_unit {
    SB_UNIT_INVALID = 0,
    SB_UNIT_NONE,           /* dimensionless ("", "-", "none", "state") */
    SB_UNIT_CELSIUS,        /* °C (canonical) */
    SB_UNIT_FAHRENHEIT,     /* °F */
    SB_UNIT_KELVIN,         /* K */
    SB_UNIT_PERCENT,        /* % (canonical ratio) */
    SB_UNIT_PERCENT_RH,     /* %RH, relative humidity in percent */
    SB_UNIT_PPM,            /* ppm (canonical concentration) */
    SB_UNIT_W,              /* W */
    SB_UNIT_KW,             /* kW (canonical power) */
    SB_UNIT_MW,             /* MW */
    SB_UNIT_BTU_H,          /* Btu/h (International Table Btu) */
    SB_UNIT_KBTU_H,         /* kBtu/h, "MBH" in US HVAC catalogues */
    SB_UNIT_TONREF,         /* ton of refrigeration, 12 000 Btu/h */
    SB_UNIT_HP,             /* mechanical horsepower */
    SB_UNIT_WH,             /* Wh */
    SB_UNIT_KWH,            /* kWh (canonical energy) */
    SB_UNIT_MWH,            /* MWh */
    SB_UNIT_BTU,            /* Btu (IT) */
    SB_UNIT_KBTU,           /* kBtu */
    SB_UNIT_MMBTU,          /* MMBtu (10^6 Btu) */
    SB_UNIT_THERM,          /* US therm */
    SB_UNIT_MJ,             /* MJ */
    SB_UNIT_GJ,             /* GJ */
    SB_UNIT_PA,             /* Pa (canonical pressure) */
    SB_UNIT_KPA,            /* kPa */
    SB_UNIT_HPA,            /* hPa */
    SB_UNIT_BAR,            /* bar */
    SB_UNIT_MBAR,           /* mbar */
    SB_UNIT_PSI,            /* pound-force per square inch */
    SB_UNIT_INH2O,          /* inch of water, conventional */
    SB_UNIT_INHG,           /* inch of mercury, conventional */
    SB_UNIT_L_S,            /* L/s (canonical flow) */
    SB_UNIT_L_MIN,          /* L/min */
    SB_UNIT_M3_S,           /* m³/s */
    SB_UNIT_M3_H,           /* m³/h */
    SB_UNIT_CFM,            /* ft³/min */
    SB_UNIT_GPM,            /* US gallons per minute */
    SB_UNIT_M3,             /* m³ (canonical volume) */
    SB_UNIT_L,              /* L */
    SB_UNIT_GAL,            /* US gallon */
    SB_UNIT_FT3,            /* ft³ */
    SB_UNIT_CCF,            /* 100 ft³ (US utility billing) */
    SB_UNIT_HZ,             /* Hz (canonical frequency) */
    SB_UNIT_A,              /* A (canonical current) */
    SB_UNIT_MA,             /* mA */
    SB_UNIT_V,              /* V (canonical voltage) */
    SB_UNIT_KV,             /* kV */
    SB_UNIT_COUNT
};

/* A precomputed conversion out = v * a + b (the ingest hot path: one fused
 * multiply-add per reading).  Identity is a = 1, b = 0, which is exact. */
struct sb_unit_conv {
    double a;               /* scale */
    double b;               /* offset, applied after scaling */
};

/* Parse a unit spelling: symbols (°C, kW, m³/h), ASCII forms (degC, m3/h,
 * inH2O, "in. w.c."), BACnet engineering-unit names (ASHRAE 135 clause 21:
 * "degrees-fahrenheit", "cubic-feet-per-minute") and Project Haystack names
 * (tonref, %RH).  Case-insensitive for ASCII letters, spaces ignored.  NULL
 * or "" parse as SB_UNIT_NONE.  Returns 0 or SB_EUNIT. */
int sb_unit_parse(const char *s, enum sb_unit *out);

/* The display symbol of u ("°C", "kWh", "" for NONE); "?" if invalid.  The
 * symbol parses back to u. */
const char *sb_unit_symbol(enum sb_unit u);

/* The dimension of u; SB_DIM_COUNT if u is invalid. */
enum sb_dim sb_unit_dim(enum sb_unit u);

/* The canonical unit of a dimension (SB_UNIT_INVALID if d is invalid). */
enum sb_unit sb_unit_canonical(enum sb_dim d);

/* "temperature", "power", ... ; "?" if invalid. */
const char *sb_dim_name(enum sb_dim d);

/* Convert v from one unit to another of the same dimension, exactly as the
 * two-step (to canonical, then out) affine formula gives.  Returns 0,
 * SB_EUNIT (invalid unit or different dimensions). */
int sb_unit_convert(enum sb_unit from, enum sb_unit to, double v, double *out);

/* Precompute from -> to as one affine map (may differ from sb_unit_convert
 * in the last bit or two).  Returns 0 or SB_EUNIT. */
int sb_unit_conv_init(struct sb_unit_conv *c, enum sb_unit from, enum sb_unit to);

static inline double sb_unit_conv_apply(const struct sb_unit_conv *c, double v)
{
    return v * c->a + c->b;
}

/* Writes the symbols of every unit of dimension d, comma-separated, into
 * buf (NUL-terminated, truncated to cap).  Returns the length that the full
 * list needs (snprintf style).  For error messages ("allowed: °C, °F, K"). */
size_t sb_unit_dim_symbols(enum sb_dim d, char *buf, size_t cap);

#endif /* SB_UNITS_H */

/*
 * units.c - unit table, spellings and conversions (see units.h).
 *
 * Sources for the constants (exact unless marked):
 *  - NIST SP 811 (2008), "Guide for the Use of the SI", Appendix B.8 and B.9:
 *    T/°C = T/K - 273.15; T/°C = (T/°F - 32) / 1.8; ft = 0.3048 m (exact);
 *    in = 0.0254 m; US gallon = 231 in³ = 3.785411784 L; lbf = 4.4482216152605 N;
 *    Btu (International Table) = 1055.05585262 J; kWh = 3.6 MJ;
 *    horsepower (550 ft·lbf/s) = 745.69987158227022 W (0.3048 × 4.4482216152605 × 550).
 *  - Conventional heads of liquid use standard gravity g_n = 9.80665 m/s²
 *    (3rd CGPM, 1901) and the conventional densities of ISO 80000-4 /
 *    NIST SP 811 B.8 footnote: water 1000 kg/m³ (the density of water near
 *    4 °C), mercury 13 595.1 kg/m³.  So inch of water (conventional, the one
 *    HVAC gauges and BACnet "inches-of-water" mean) = 0.0254 × 1000 × 9.80665
 *    = 249.08891 Pa (NIST lists 2.490 889 E+02); inch of mercury
 *    (conventional) = 0.0254 × 13 595.1 × 9.80665 = 3386.38864 Pa (NIST:
 *    3.386 389 E+03).  Water at 39.2 °F (2.490 82 E+02) or 60 °F
 *    (2.4884 E+02) differ by < 0.1 %, below HVAC transducer accuracy.
 *  - ton of refrigeration = 12 000 Btu/h (ASHRAE Terminology; NIST B.8:
 *    3.516 853 E+03 W).  therm = 100 000 Btu, the definition US gas
 *    utilities bill by (U.S. EIA, "Units and calculators explained"; NIST's
 *    "therm (U.S.)" 1.054 804 E+08 J is based on the 59 °F Btu and differs by
 *    0.02 %).
 *  - cfm = 0.3048³ m³ / 60 s = 0.4719474432 L/s; gpm = 3.785411784 L / 60 s.
 */
#include "model/units.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define BTU_J 1055.05585262          /* J per Btu (IT), exact */
#define KWH_J 3.6e6                  /* J per kWh, exact */
#define FT3_L 28.316846592           /* L per ft³ (0.3048³ m³), exact */
#define GAL_L 3.785411784            /* L per US gallon, exact */

/* One unit: canonical = (value + off) * mul / div. */
struct unit_def {
    enum sb_dim dim;      /* what it measures */
    const char *symbol;   /* display symbol, parses back to the unit */
    double off;           /* added before scaling (temperatures) */
    double mul;           /* scale numerator */
    double div;           /* scale denominator (kept apart so 5/9 is exact) */
};

static const struct unit_def units[SB_UNIT_COUNT] = {
    [SB_UNIT_INVALID]    = { SB_DIM_COUNT, "?", 0, 1, 1 },
    [SB_UNIT_NONE]       = { SB_DIM_NONE, "", 0, 1, 1 },
    [SB_UNIT_CELSIUS]    = { SB_DIM_TEMPERATURE, "°C", 0, 1, 1 },
    [SB_UNIT_FAHRENHEIT] = { SB_DIM_TEMPERATURE, "°F", -32, 5, 9 },
    [SB_UNIT_KELVIN]     = { SB_DIM_TEMPERATURE, "K", -273.15, 1, 1 },
    [SB_UNIT_PERCENT]    = { SB_DIM_RATIO, "%", 0, 1, 1 },
    [SB_UNIT_PERCENT_RH] = { SB_DIM_RATIO, "%RH", 0, 1, 1 },
    [SB_UNIT_PPM]        = { SB_DIM_CONCENTRATION, "ppm", 0, 1, 1 },
    [SB_UNIT_W]          = { SB_DIM_POWER, "W", 0, 1, 1000 },
    [SB_UNIT_KW]         = { SB_DIM_POWER, "kW", 0, 1, 1 },
    [SB_UNIT_MW]         = { SB_DIM_POWER, "MW", 0, 1000, 1 },
    [SB_UNIT_BTU_H]      = { SB_DIM_POWER, "Btu/h", 0, BTU_J, KWH_J },
    [SB_UNIT_KBTU_H]     = { SB_DIM_POWER, "kBtu/h", 0, BTU_J, 3600 },
    [SB_UNIT_TONREF]     = { SB_DIM_POWER, "tonref", 0, 12000 * BTU_J, KWH_J },
    [SB_UNIT_HP]         = { SB_DIM_POWER, "hp", 0, 745.69987158227022, 1000 },
    [SB_UNIT_WH]         = { SB_DIM_ENERGY, "Wh", 0, 1, 1000 },
    [SB_UNIT_KWH]        = { SB_DIM_ENERGY, "kWh", 0, 1, 1 },
    [SB_UNIT_MWH]        = { SB_DIM_ENERGY, "MWh", 0, 1000, 1 },
    [SB_UNIT_BTU]        = { SB_DIM_ENERGY, "Btu", 0, BTU_J, KWH_J },
    [SB_UNIT_KBTU]       = { SB_DIM_ENERGY, "kBtu", 0, BTU_J, 3600 },
    [SB_UNIT_MMBTU]      = { SB_DIM_ENERGY, "MMBtu", 0, BTU_J, 3.6 },
    [SB_UNIT_THERM]      = { SB_DIM_ENERGY, "therm", 0, 100000 * BTU_J, KWH_J },
    [SB_UNIT_MJ]         = { SB_DIM_ENERGY, "MJ", 0, 1, 3.6 },
    [SB_UNIT_GJ]         = { SB_DIM_ENERGY, "GJ", 0, 1000, 3.6 },
    [SB_UNIT_PA]         = { SB_DIM_PRESSURE, "Pa", 0, 1, 1 },
    [SB_UNIT_KPA]        = { SB_DIM_PRESSURE, "kPa", 0, 1000, 1 },
    [SB_UNIT_HPA]        = { SB_DIM_PRESSURE, "hPa", 0, 100, 1 },
    [SB_UNIT_BAR]        = { SB_DIM_PRESSURE, "bar", 0, 100000, 1 },
    [SB_UNIT_MBAR]       = { SB_DIM_PRESSURE, "mbar", 0, 100, 1 },
    [SB_UNIT_PSI]        = { SB_DIM_PRESSURE, "psi", 0, 4.4482216152605, 0.00064516 },
    [SB_UNIT_INH2O]      = { SB_DIM_PRESSURE, "inH2O", 0, 249.08891, 1 },
    [SB_UNIT_INHG]       = { SB_DIM_PRESSURE, "inHg", 0, 3386.38864, 1 },
    [SB_UNIT_L_S]        = { SB_DIM_FLOW, "L/s", 0, 1, 1 },
    [SB_UNIT_L_MIN]      = { SB_DIM_FLOW, "L/min", 0, 1, 60 },
    [SB_UNIT_M3_S]       = { SB_DIM_FLOW, "m³/s", 0, 1000, 1 },
    [SB_UNIT_M3_H]       = { SB_DIM_FLOW, "m³/h", 0, 1, 3.6 },
    [SB_UNIT_CFM]        = { SB_DIM_FLOW, "cfm", 0, FT3_L, 60 },
    [SB_UNIT_GPM]        = { SB_DIM_FLOW, "gpm", 0, GAL_L, 60 },
    [SB_UNIT_M3]         = { SB_DIM_VOLUME, "m³", 0, 1, 1 },
    [SB_UNIT_L]          = { SB_DIM_VOLUME, "L", 0, 1, 1000 },
    [SB_UNIT_GAL]        = { SB_DIM_VOLUME, "gal", 0, GAL_L, 1000 },
    [SB_UNIT_FT3]        = { SB_DIM_VOLUME, "ft³", 0, FT3_L, 1000 },
    [SB_UNIT_CCF]        = { SB_DIM_VOLUME, "ccf", 0, 100 * FT3_L, 1000 },
    [SB_UNIT_HZ]         = { SB_DIM_FREQUENCY, "Hz", 0, 1, 1 },
    [SB_UNIT_A]          = { SB_DIM_CURRENT, "A", 0, 1, 1 },
    [SB_UNIT_MA]         = { SB_DIM_CURRENT, "mA", 0, 1, 1000 },
    [SB_UNIT_V]          = { SB_DIM_VOLTAGE, "V", 0, 1, 1 },
    [SB_UNIT_KV]         = { SB_DIM_VOLTAGE, "kV", 0, 1000, 1 },
};

static const enum sb_unit canonical[SB_DIM_COUNT] = {
    [SB_DIM_NONE] = SB_UNIT_NONE,         [SB_DIM_TEMPERATURE] = SB_UNIT_CELSIUS,
    [SB_DIM_RATIO] = SB_UNIT_PERCENT,     [SB_DIM_CONCENTRATION] = SB_UNIT_PPM,
    [SB_DIM_POWER] = SB_UNIT_KW,          [SB_DIM_ENERGY] = SB_UNIT_KWH,
    [SB_DIM_PRESSURE] = SB_UNIT_PA,       [SB_DIM_FLOW] = SB_UNIT_L_S,
    [SB_DIM_VOLUME] = SB_UNIT_M3,         [SB_DIM_FREQUENCY] = SB_UNIT_HZ,
    [SB_DIM_CURRENT] = SB_UNIT_A,         [SB_DIM_VOLTAGE] = SB_UNIT_V,
};

static const char *const dim_names[SB_DIM_COUNT] = {
    "dimensionless", "temperature", "ratio", "concentration", "power", "energy",
    "pressure", "flow", "volume", "frequency", "current", "voltage",
};

/* Accepted spellings, already normalised (ASCII lower case, no spaces): see
 * norm().  Non-ASCII bytes are compared as they are (UTF-8). BACnet names
 * are from ASHRAE 135 clause 21 (BACnetEngineeringUnits). */
static const struct {
    const char *s;        /* normalised spelling */
    enum sb_unit u;       /* the unit it names */
} aliases[] = {
    { "", SB_UNIT_NONE }, { "-", SB_UNIT_NONE }, { "none", SB_UNIT_NONE },
    { "state", SB_UNIT_NONE }, { "count", SB_UNIT_NONE }, { "no-units", SB_UNIT_NONE },
    { "°c", SB_UNIT_CELSIUS }, { "ºc", SB_UNIT_CELSIUS }, { "℃", SB_UNIT_CELSIUS },
    { "degc", SB_UNIT_CELSIUS }, { "c", SB_UNIT_CELSIUS }, { "celsius", SB_UNIT_CELSIUS },
    { "degrees-celsius", SB_UNIT_CELSIUS },
    { "°f", SB_UNIT_FAHRENHEIT }, { "ºf", SB_UNIT_FAHRENHEIT }, { "℉", SB_UNIT_FAHRENHEIT },
    { "degf", SB_UNIT_FAHRENHEIT }, { "f", SB_UNIT_FAHRENHEIT },
    { "fahrenheit", SB_UNIT_FAHRENHEIT }, { "degrees-fahrenheit", SB_UNIT_FAHRENHEIT },
    { "k", SB_UNIT_KELVIN }, { "kelvin", SB_UNIT_KELVIN }, { "degrees-kelvin", SB_UNIT_KELVIN },
    { "%", SB_UNIT_PERCENT }, { "percent", SB_UNIT_PERCENT }, { "pct", SB_UNIT_PERCENT },
    { "%rh", SB_UNIT_PERCENT_RH }, { "rh", SB_UNIT_PERCENT_RH },
    { "percent-relative-humidity", SB_UNIT_PERCENT_RH },
    { "ppm", SB_UNIT_PPM }, { "parts-per-million", SB_UNIT_PPM },
    { "w", SB_UNIT_W }, { "watts", SB_UNIT_W },
    { "kw", SB_UNIT_KW }, { "kilowatts", SB_UNIT_KW },
    { "mw", SB_UNIT_MW }, { "megawatts", SB_UNIT_MW },
    { "btu/h", SB_UNIT_BTU_H }, { "btu/hr", SB_UNIT_BTU_H }, { "btuh", SB_UNIT_BTU_H },
    { "btus-per-hour", SB_UNIT_BTU_H },
    { "kbtu/h", SB_UNIT_KBTU_H }, { "kbtu/hr", SB_UNIT_KBTU_H }, { "mbh", SB_UNIT_KBTU_H },
    { "kilo-btus-per-hour", SB_UNIT_KBTU_H },
    { "tonref", SB_UNIT_TONREF }, { "ton", SB_UNIT_TONREF }, { "tons", SB_UNIT_TONREF },
    { "tr", SB_UNIT_TONREF }, { "tons-refrigeration", SB_UNIT_TONREF },
    { "hp", SB_UNIT_HP }, { "horsepower", SB_UNIT_HP },
    { "wh", SB_UNIT_WH }, { "watt-hours", SB_UNIT_WH },
    { "kwh", SB_UNIT_KWH }, { "kilowatt-hours", SB_UNIT_KWH },
    { "mwh", SB_UNIT_MWH }, { "megawatt-hours", SB_UNIT_MWH },
    { "btu", SB_UNIT_BTU }, { "btus", SB_UNIT_BTU },
    { "kbtu", SB_UNIT_KBTU }, { "kilo-btus", SB_UNIT_KBTU },
    { "mmbtu", SB_UNIT_MMBTU }, { "mega-btus", SB_UNIT_MMBTU },
    { "therm", SB_UNIT_THERM }, { "therms", SB_UNIT_THERM }, { "thm", SB_UNIT_THERM },
    { "mj", SB_UNIT_MJ }, { "megajoules", SB_UNIT_MJ },
    { "gj", SB_UNIT_GJ }, { "gigajoules", SB_UNIT_GJ },
    { "pa", SB_UNIT_PA }, { "pascals", SB_UNIT_PA },
    { "kpa", SB_UNIT_KPA }, { "kilopascals", SB_UNIT_KPA },
    { "hpa", SB_UNIT_HPA }, { "hectopascals", SB_UNIT_HPA },
    { "bar", SB_UNIT_BAR }, { "bars", SB_UNIT_BAR },
    { "mbar", SB_UNIT_MBAR }, { "millibars", SB_UNIT_MBAR },
    { "psi", SB_UNIT_PSI }, { "psig", SB_UNIT_PSI },
    { "pounds-force-per-square-inch", SB_UNIT_PSI },
    { "inh2o", SB_UNIT_INH2O }, { "inh₂o", SB_UNIT_INH2O }, { "in.w.c.", SB_UNIT_INH2O },
    { "inwc", SB_UNIT_INH2O }, { "in.wc", SB_UNIT_INH2O }, { "iwc", SB_UNIT_INH2O },
    { "inwg", SB_UNIT_INH2O }, { "in.h2o", SB_UNIT_INH2O },
    { "inches-of-water", SB_UNIT_INH2O },
    { "inhg", SB_UNIT_INHG }, { "in.hg", SB_UNIT_INHG }, { "inches-of-mercury", SB_UNIT_INHG },
    { "l/s", SB_UNIT_L_S }, { "lps", SB_UNIT_L_S }, { "liters-per-second", SB_UNIT_L_S },
    { "l/min", SB_UNIT_L_MIN }, { "lpm", SB_UNIT_L_MIN }, { "liters-per-minute", SB_UNIT_L_MIN },
    { "m³/s", SB_UNIT_M3_S }, { "m3/s", SB_UNIT_M3_S }, { "m^3/s", SB_UNIT_M3_S },
    { "cubic-meters-per-second", SB_UNIT_M3_S },
    { "m³/h", SB_UNIT_M3_H }, { "m3/h", SB_UNIT_M3_H }, { "m^3/h", SB_UNIT_M3_H },
    { "m3/hr", SB_UNIT_M3_H }, { "cubic-meters-per-hour", SB_UNIT_M3_H },
    { "cfm", SB_UNIT_CFM }, { "ft³/min", SB_UNIT_CFM }, { "ft3/min", SB_UNIT_CFM },
    { "cubic-feet-per-minute", SB_UNIT_CFM },
    { "gpm", SB_UNIT_GPM }, { "gal/min", SB_UNIT_GPM }, { "us-gallons-per-minute", SB_UNIT_GPM },
    { "m³", SB_UNIT_M3 }, { "m3", SB_UNIT_M3 }, { "m^3", SB_UNIT_M3 }, { "cubic-meters", SB_UNIT_M3 },
    { "l", SB_UNIT_L }, { "liters", SB_UNIT_L }, { "litres", SB_UNIT_L },
    { "gal", SB_UNIT_GAL }, { "us-gallons", SB_UNIT_GAL },
    { "ft³", SB_UNIT_FT3 }, { "ft3", SB_UNIT_FT3 }, { "cubic-feet", SB_UNIT_FT3 },
    { "ccf", SB_UNIT_CCF }, { "hcf", SB_UNIT_CCF },
    { "hz", SB_UNIT_HZ }, { "hertz", SB_UNIT_HZ },
    { "a", SB_UNIT_A }, { "amperes", SB_UNIT_A },
    { "ma", SB_UNIT_MA }, { "milliamperes", SB_UNIT_MA },
    { "v", SB_UNIT_V }, { "volts", SB_UNIT_V },
    { "kv", SB_UNIT_KV }, { "kilovolts", SB_UNIT_KV },
};

/* Normalise s into buf: drop ASCII blanks, fold ASCII letters to lower case.
 * Returns 0, or -1 when s does not fit (no spelling is that long). */
static int norm(const char *s, char *buf, size_t cap)
{
    size_t n = 0;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '\t')
            continue;
        if (n + 1 >= cap)
            return -1;
        buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    buf[n] = '\0';
    return 0;
}

int sb_unit_parse(const char *s, enum sb_unit *out)
{
    char buf[48];

    if (!s)
        s = "";
    if (norm(s, buf, sizeof buf) < 0)
        return SB_EUNIT;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(aliases[i].s, buf) == 0) {
            *out = aliases[i].u;
            return 0;
        }
    }
    return SB_EUNIT;
}

static int valid(enum sb_unit u)
{
    return u > SB_UNIT_INVALID && u < SB_UNIT_COUNT;
}

const char *sb_unit_symbol(enum sb_unit u)
{
    return valid(u) ? units[u].symbol : "?";
}

enum sb_dim sb_unit_dim(enum sb_unit u)
{
    return valid(u) ? units[u].dim : SB_DIM_COUNT;
}

enum sb_unit sb_unit_canonical(enum sb_dim d)
{
    return (unsigned)d < SB_DIM_COUNT ? canonical[d] : SB_UNIT_INVALID;
}

const char *sb_dim_name(enum sb_dim d)
{
    return (unsigned)d < SB_DIM_COUNT ? dim_names[d] : "?";
}

static int compatible(enum sb_unit from, enum sb_unit to)
{
    return valid(from) && valid(to) && units[from].dim == units[to].dim;
}

int sb_unit_convert(enum sb_unit from, enum sb_unit to, double v, double *out)
{
    const struct unit_def *f = &units[from], *t = &units[to];
    double c;

    if (!compatible(from, to))
        return SB_EUNIT;
    if (from == to) {
        *out = v;
        return 0;
    }
    c = (v + f->off) * f->mul / f->div;      /* to canonical */
    *out = c * t->div / t->mul - t->off;     /* canonical to target */
    return 0;
}

int sb_unit_conv_init(struct sb_unit_conv *c, enum sb_unit from, enum sb_unit to)
{
    const struct unit_def *f = &units[from], *t = &units[to];
    double k;

    if (!compatible(from, to))
        return SB_EUNIT;
    if (from == to) {
        c->a = 1;
        c->b = 0;
        return 0;
    }
    /* out = ((v + f.off) * f.mul / f.div) * t.div / t.mul - t.off */
    k = (f->mul * t->div) / (f->div * t->mul);
    c->a = k;
    c->b = f->off * k - t->off;
    return 0;
}

size_t sb_unit_dim_symbols(enum sb_dim d, char *buf, size_t cap)
{
    size_t need = 0;
    int w;

    if (cap)
        buf[0] = '\0';
    for (int u = SB_UNIT_NONE; u < SB_UNIT_COUNT; u++) {
        if (units[u].dim != d)
            continue;
        w = snprintf(buf ? buf + (need < cap ? need : cap) : NULL,
                     need < cap ? cap - need : 0, "%s%s", need ? ", " : "",
                     u == SB_UNIT_NONE ? "\"\"" : units[u].symbol);
        if (w > 0)
            need += (size_t)w;
    }
    return need;
}

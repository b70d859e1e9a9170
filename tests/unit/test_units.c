/* test_units.c - unit parsing and conversion (src/model/units.c). */
#include "tap.h"

#include "core/err.h"
#include "model/units.h"

/* Relative tolerance for conversions that are not exact in binary. */
static double rel(double x)
{
    return fabs(x) * 1e-12 + 1e-12;
}

static double conv(enum sb_unit from, enum sb_unit to, double v)
{
    double out = NAN;

    if (sb_unit_convert(from, to, v, &out) != 0)
        return NAN;
    return out;
}

TEST(temperature_known_values)
{
    /* Exact by the definitions (NIST SP 811 B.8): must be bit-exact. */
    CHECK(conv(SB_UNIT_FAHRENHEIT, SB_UNIT_CELSIUS, 212) == 100.0);
    CHECK(conv(SB_UNIT_FAHRENHEIT, SB_UNIT_CELSIUS, 32) == 0.0);
    CHECK(conv(SB_UNIT_FAHRENHEIT, SB_UNIT_CELSIUS, -40) == -40.0);
    CHECK(conv(SB_UNIT_CELSIUS, SB_UNIT_FAHRENHEIT, 100) == 212.0);
    CHECK(conv(SB_UNIT_CELSIUS, SB_UNIT_FAHRENHEIT, -40) == -40.0);
    CHECK_DBL(conv(SB_UNIT_CELSIUS, SB_UNIT_KELVIN, 0), 273.15, 1e-12);
    CHECK_DBL(conv(SB_UNIT_KELVIN, SB_UNIT_CELSIUS, 0), -273.15, 1e-12);
    /* 68 °F = 20 °C = 293.15 K */
    CHECK_DBL(conv(SB_UNIT_FAHRENHEIT, SB_UNIT_KELVIN, 68), 293.15, 1e-12);
    CHECK_DBL(conv(SB_UNIT_KELVIN, SB_UNIT_FAHRENHEIT, 293.15), 68, 1e-12);
}

TEST(other_known_values)
{
    /* inch of water, conventional: 0.0254 m x 1000 kg/m3 x 9.80665 m/s2 */
    CHECK_DBL(conv(SB_UNIT_INH2O, SB_UNIT_PA, 1), 0.0254 * 1000 * 9.80665, 1e-9);
    CHECK_DBL(conv(SB_UNIT_INH2O, SB_UNIT_PA, 1), 249.0889, 1e-4);
    CHECK_DBL(conv(SB_UNIT_PA, SB_UNIT_INH2O, 249.08891), 1, 1e-12);
    /* 1000 cfm = 1000 x 0.3048^3 m3 / 60 s = 471.9474432 L/s */
    CHECK_DBL(conv(SB_UNIT_CFM, SB_UNIT_L_S, 1000), 471.9474432, 1e-9);
    CHECK_DBL(conv(SB_UNIT_MWH, SB_UNIT_KWH, 1.5), 1500, 0);
    CHECK_DBL(conv(SB_UNIT_WH, SB_UNIT_KWH, 2500), 2.5, 1e-15);
    CHECK_DBL(conv(SB_UNIT_W, SB_UNIT_KW, 1500), 1.5, 1e-15);
    CHECK_DBL(conv(SB_UNIT_MW, SB_UNIT_KW, 2), 2000, 0);
    /* ton of refrigeration = 12000 Btu/h = 3.516 853 kW (NIST SP 811) */
    CHECK_DBL(conv(SB_UNIT_TONREF, SB_UNIT_KW, 1), 3.516853, 1e-6);
    CHECK_DBL(conv(SB_UNIT_TONREF, SB_UNIT_BTU_H, 1), 12000, 1e-8);
    CHECK_DBL(conv(SB_UNIT_KBTU_H, SB_UNIT_BTU_H, 1), 1000, 1e-9);
    CHECK_DBL(conv(SB_UNIT_HP, SB_UNIT_W, 1), 745.699872, 1e-6);
    /* 1 Btu = 1055.05585262 J; 1 kWh = 3412.14163 Btu */
    CHECK_DBL(conv(SB_UNIT_KWH, SB_UNIT_BTU, 1), 3412.14163312794, 1e-8);
    CHECK_DBL(conv(SB_UNIT_THERM, SB_UNIT_KBTU, 1), 100, 1e-10);
    CHECK_DBL(conv(SB_UNIT_MMBTU, SB_UNIT_THERM, 1), 10, 1e-12);
    CHECK_DBL(conv(SB_UNIT_GJ, SB_UNIT_KWH, 1), 277.777777777778, 1e-9);
    CHECK_DBL(conv(SB_UNIT_MJ, SB_UNIT_KWH, 3.6), 1, 1e-15);
    /* psi = 4.4482216152605 N / (0.0254 m)^2 */
    CHECK_DBL(conv(SB_UNIT_PSI, SB_UNIT_PA, 1), 6894.757293168, 1e-6);
    CHECK_DBL(conv(SB_UNIT_KPA, SB_UNIT_PA, 1.2), 1200, 1e-12);
    CHECK_DBL(conv(SB_UNIT_BAR, SB_UNIT_KPA, 1), 100, 0);
    CHECK_DBL(conv(SB_UNIT_MBAR, SB_UNIT_HPA, 1013.25), 1013.25, 1e-12);
    CHECK_DBL(conv(SB_UNIT_INHG, SB_UNIT_HPA, 29.92), 1013.2, 0.1);
    /* US gallon = 231 in3 = 3.785411784 L */
    CHECK_DBL(conv(SB_UNIT_GPM, SB_UNIT_L_MIN, 1), 3.785411784, 1e-12);
    CHECK_DBL(conv(SB_UNIT_M3_H, SB_UNIT_L_S, 36), 10, 1e-12);
    CHECK_DBL(conv(SB_UNIT_M3_S, SB_UNIT_L_S, 0.5), 500, 0);
    CHECK_DBL(conv(SB_UNIT_CCF, SB_UNIT_FT3, 1), 100, 1e-10);
    CHECK_DBL(conv(SB_UNIT_GAL, SB_UNIT_L, 1), 3.785411784, 1e-12);
    CHECK_DBL(conv(SB_UNIT_PERCENT_RH, SB_UNIT_PERCENT, 45), 45, 0);
    CHECK_DBL(conv(SB_UNIT_MA, SB_UNIT_A, 20), 0.02, 1e-15);
    CHECK_DBL(conv(SB_UNIT_KV, SB_UNIT_V, 13.8), 13800, 1e-9);
}

TEST(parse_spellings)
{
    static const struct { const char *s; enum sb_unit u; } cases[] = {
        { "°C", SB_UNIT_CELSIUS }, { "degC", SB_UNIT_CELSIUS }, { "C", SB_UNIT_CELSIUS },
        { "deg C", SB_UNIT_CELSIUS }, { "℃", SB_UNIT_CELSIUS }, { "degrees-celsius", SB_UNIT_CELSIUS },
        { "°F", SB_UNIT_FAHRENHEIT }, { "degF", SB_UNIT_FAHRENHEIT }, { "F", SB_UNIT_FAHRENHEIT },
        { "K", SB_UNIT_KELVIN }, { "W", SB_UNIT_W }, { "kW", SB_UNIT_KW }, { "KW", SB_UNIT_KW },
        { "MW", SB_UNIT_MW }, { "Wh", SB_UNIT_WH }, { "kWh", SB_UNIT_KWH }, { "KWH", SB_UNIT_KWH },
        { "MWh", SB_UNIT_MWH }, { "Pa", SB_UNIT_PA }, { "kPa", SB_UNIT_KPA },
        { "inH2O", SB_UNIT_INH2O }, { "in. w.c.", SB_UNIT_INH2O }, { "in.w.c.", SB_UNIT_INH2O },
        { "inches-of-water", SB_UNIT_INH2O }, { "%", SB_UNIT_PERCENT }, { "%RH", SB_UNIT_PERCENT_RH },
        { "ppm", SB_UNIT_PPM }, { "L/s", SB_UNIT_L_S }, { "l/s", SB_UNIT_L_S },
        { "m3/s", SB_UNIT_M3_S }, { "m³/h", SB_UNIT_M3_H }, { "m3/h", SB_UNIT_M3_H },
        { "cfm", SB_UNIT_CFM }, { "CFM", SB_UNIT_CFM }, { "cubic-feet-per-minute", SB_UNIT_CFM },
        { "tons-refrigeration", SB_UNIT_TONREF }, { "MBH", SB_UNIT_KBTU_H }, { "", SB_UNIT_NONE },
        { "no-units", SB_UNIT_NONE }, { "  kW  ", SB_UNIT_KW },
    };
    enum sb_unit u;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        u = SB_UNIT_INVALID;
        if (sb_unit_parse(cases[i].s, &u) != 0 || u != cases[i].u)
            TAP_FAIL("\"%s\" parsed as %d, want %d", cases[i].s, (int)u, (int)cases[i].u);
    }
    CHECK_EQ(sb_unit_parse(NULL, &u), 0);
    CHECK_EQ(u, SB_UNIT_NONE);
}

TEST(parse_rejects)
{
    static const char *const bad[] = {
        "furlongs", "degX", "kWhh", "°", "k W h x", "inH20x", "celsius2",
        "this unit name is far too long to be any unit that exists anywhere",
    };
    enum sb_unit u = SB_UNIT_KW;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sb_unit_parse(bad[i], &u) != SB_EUNIT)
            TAP_FAIL("\"%s\" accepted", bad[i]);
    CHECK_EQ(u, SB_UNIT_KW);       /* untouched on failure */
}

TEST(symbols_round_trip)
{
    for (int u = SB_UNIT_NONE; u < SB_UNIT_COUNT; u++) {
        enum sb_unit back = SB_UNIT_INVALID;
        const char *s = sb_unit_symbol((enum sb_unit)u);
        if (sb_unit_parse(s, &back) != 0 || back != (enum sb_unit)u)
            TAP_FAIL("symbol \"%s\" of unit %d parses to %d", s, u, (int)back);
        if (sb_unit_dim((enum sb_unit)u) >= SB_DIM_COUNT)
            TAP_FAIL("unit %d has no dimension", u);
    }
    CHECK_STR(sb_unit_symbol(SB_UNIT_INVALID), "?");
    CHECK_STR(sb_unit_symbol(SB_UNIT_COUNT), "?");
    CHECK_EQ(sb_unit_dim(SB_UNIT_INVALID), SB_DIM_COUNT);
}

TEST(canonical_units)
{
    CHECK_EQ(sb_unit_canonical(SB_DIM_TEMPERATURE), SB_UNIT_CELSIUS);
    CHECK_EQ(sb_unit_canonical(SB_DIM_POWER), SB_UNIT_KW);
    CHECK_EQ(sb_unit_canonical(SB_DIM_ENERGY), SB_UNIT_KWH);
    CHECK_EQ(sb_unit_canonical(SB_DIM_PRESSURE), SB_UNIT_PA);
    CHECK_EQ(sb_unit_canonical(SB_DIM_FLOW), SB_UNIT_L_S);
    CHECK_EQ(sb_unit_canonical(SB_DIM_RATIO), SB_UNIT_PERCENT);
    CHECK_EQ(sb_unit_canonical(SB_DIM_CONCENTRATION), SB_UNIT_PPM);
    CHECK_EQ(sb_unit_canonical(SB_DIM_COUNT), SB_UNIT_INVALID);
    for (int d = 0; d < SB_DIM_COUNT; d++) {
        enum sb_unit c = sb_unit_canonical((enum sb_dim)d);
        CHECK_EQ(sb_unit_dim(c), d);
        CHECK(strcmp(sb_dim_name((enum sb_dim)d), "?") != 0);
    }
}

TEST(mismatch_rejected)
{
    double out = 42;
    struct sb_unit_conv c;

    CHECK_EQ(sb_unit_convert(SB_UNIT_KW, SB_UNIT_KWH, 1, &out), SB_EUNIT);
    CHECK_EQ(sb_unit_convert(SB_UNIT_CELSIUS, SB_UNIT_PA, 1, &out), SB_EUNIT);
    CHECK_EQ(sb_unit_convert(SB_UNIT_INVALID, SB_UNIT_INVALID, 1, &out), SB_EUNIT);
    CHECK_EQ(sb_unit_convert(SB_UNIT_COUNT, SB_UNIT_KW, 1, &out), SB_EUNIT);
    CHECK_EQ(sb_unit_convert(SB_UNIT_NONE, SB_UNIT_PERCENT, 1, &out), SB_EUNIT);
    CHECK_EQ(sb_unit_conv_init(&c, SB_UNIT_CFM, SB_UNIT_PA), SB_EUNIT);
    CHECK_DBL(out, 42, 0);
}

/* Property: for every pair of units of one dimension, a -> b -> a gives
 * back the value, and the precomputed affine map agrees with the exact
 * two-step formula. */
TEST(round_trips)
{
    uint64_t seed = 0x5eed0001;

    for (int a = SB_UNIT_NONE; a < SB_UNIT_COUNT; a++) {
        for (int b = SB_UNIT_NONE; b < SB_UNIT_COUNT; b++) {
            struct sb_unit_conv ab, ba;
            if (sb_unit_dim((enum sb_unit)a) != sb_unit_dim((enum sb_unit)b))
                continue;
            REQUIRE(sb_unit_conv_init(&ab, (enum sb_unit)a, (enum sb_unit)b) == 0);
            REQUIRE(sb_unit_conv_init(&ba, (enum sb_unit)b, (enum sb_unit)a) == 0);
            for (int k = 0; k < 200; k++) {
                double v = ((double)(tap_rand(&seed) >> 11) / 9007199254740992.0 - 0.5) * 2e4;
                double x = conv((enum sb_unit)a, (enum sb_unit)b, v);
                double back = conv((enum sb_unit)b, (enum sb_unit)a, x);
                double fast = sb_unit_conv_apply(&ab, v);
                if (fabs(back - v) > rel(v) * 1e3 || fabs(fast - x) > rel(x) * 1e3 + 1e-9 ||
                    fabs(sb_unit_conv_apply(&ba, fast) - v) > rel(v) * 1e3 + 1e-9)
                    TAP_FAIL("%s -> %s: %.17g -> %.17g -> %.17g (fast %.17g)",
                             sb_unit_symbol((enum sb_unit)a), sb_unit_symbol((enum sb_unit)b),
                             v, x, back, fast);
            }
        }
    }
}

TEST(identity_exact)
{
    struct sb_unit_conv c;

    REQUIRE(sb_unit_conv_init(&c, SB_UNIT_FAHRENHEIT, SB_UNIT_FAHRENHEIT) == 0);
    CHECK(c.a == 1.0 && c.b == 0.0);
    CHECK(sb_unit_conv_apply(&c, 0.1) == 0.1);
    REQUIRE(sb_unit_conv_init(&c, SB_UNIT_FAHRENHEIT, SB_UNIT_CELSIUS) == 0);
    CHECK_DBL(sb_unit_conv_apply(&c, 212), 100, 1e-12);
    CHECK_DBL(sb_unit_conv_apply(&c, 50), 10, 1e-12);
}

TEST(dim_symbols)
{
    char buf[128], tiny[6];
    size_t need = sb_unit_dim_symbols(SB_DIM_TEMPERATURE, buf, sizeof buf);

    CHECK_STR(buf, "°C, °F, K");
    CHECK_EQ(need, strlen("°C, °F, K"));
    CHECK_EQ(sb_unit_dim_symbols(SB_DIM_TEMPERATURE, tiny, sizeof tiny), need);
    CHECK(strlen(tiny) < sizeof tiny);
    CHECK_EQ(sb_unit_dim_symbols(SB_DIM_TEMPERATURE, NULL, 0), need);
    sb_unit_dim_symbols(SB_DIM_NONE, buf, sizeof buf);
    CHECK_STR(buf, "\"\"");
}

int main(void)
{
    TAP_START();
    RUN(temperature_known_values);
    RUN(other_known_values);
    RUN(parse_spellings);
    RUN(parse_rejects);
    RUN(symbols_round_trip);
    RUN(canonical_units);
    RUN(mismatch_rejected);
    RUN(round_trips);
    RUN(identity_exact);
    RUN(dim_symbols);
    TAP_END();
}

/*
 * test_bacnet_discover.c - BACnet names, units, Brick proposals and the
 * discovery engine (src/drivers/bacnet/{units,brick,discover}.c).
 *
 * Evidence:
 *  - names and numbers written out here from two published tables
 *    (ASHRAE 135-2020 clause 21 as listed by @bacnet-js/client 3.3.2 and
 *    Milesight's bacnet_unit.md), not computed by the code under test;
 *  - round trips of every name in the tables;
 *  - the Brick class of each Trane-style name and abbreviation the
 *    discovery has to recognise, and the adjustments of confidence;
 *  - end to end on 127.0.0.1: real BACnet devices (the object database of
 *    src/proto/bacnet/server behind a second and third sb_bac_stack) are
 *    discovered by an engine on a stack of its own.  One device answers
 *    Who-Is and has enough objects for a segmented Object_List (the
 *    discovering stack accepts only 128-octet APDUs); another ignores
 *    Who-Is (found by the ReadProperty probe), rejects RPM and cannot
 *    segment (aborts long replies: Object_List is read by index); a third
 *    cannot segment and has long descriptions (RPM batches are halved);
 *    one target address has nobody behind it.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "core/err.h"
#include "drivers/bacnet/discover.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/server/server.h"
#include "proto/bacnet/stack/stack.h"
#include "tap.h"

/* ---------- object types and properties ---------- */

TEST(obj_names)
{
    static const struct { uint16_t t; const char *name, *sh; } k[] = {
        { 0, "analog-input", "ai" }, { 1, "analog-output", "ao" }, { 2, "analog-value", "av" },
        { 3, "binary-input", "bi" }, { 4, "binary-output", "bo" }, { 5, "binary-value", "bv" },
        { 6, "calendar", "cal" }, { 8, "device", "dev" }, { 13, "multi-state-input", "msi" },
        { 14, "multi-state-output", "mso" }, { 15, "notification-class", "nc" },
        { 17, "schedule", "sch" }, { 19, "multi-state-value", "msv" },
        { 20, "trend-log", "tl" }, { 23, "accumulator", "acc" },
        { 27, "trend-log-multiple", "tlm" }, { 56, "network-port", "np" },
    };
    uint16_t t;

    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        CHECK_STR(sb_bacn_obj_name(k[i].t), k[i].name);
        CHECK_STR(sb_bacn_obj_short(k[i].t), k[i].sh);
        CHECK_EQ(sb_bacn_obj_type_parse(k[i].name, &t), 0);
        CHECK_EQ(t, k[i].t);
        CHECK_EQ(sb_bacn_obj_type_parse(k[i].sh, &t), 0);
        CHECK_EQ(t, k[i].t);
    }
    /* every named type parses back */
    for (uint16_t i = 0; i < 1024; i++) {
        const char *n = sb_bacn_obj_name(i);
        if (!n)
            continue;
        REQUIRE(sb_bacn_obj_type_parse(n, &t) == 0);
        CHECK_EQ(t, i);
    }
    CHECK(sb_bacn_obj_name(65) == NULL && sb_bacn_obj_name(128) == NULL);
    CHECK_STR(sb_bacn_obj_name(64), "color-temperature");
    CHECK_STR(sb_bacn_obj_name(59), "lift");
}

TEST(obj_parse)
{
    static const struct { const char *s; uint16_t t; uint32_t i; } ok[] = {
        { "analog-input:1", 0, 1 }, { "av:3", 2, 3 }, { "2:3", 2, 3 }, { "AV:3", 2, 3 },
        { "AnalogValue:7", 2, 7 }, { "ANALOG_VALUE:7", 2, 7 }, { "Analog Value : 8", 2, 8 },
        { "multi-state-value:12", 19, 12 }, { "msv:0", 19, 0 }, { "trend-log:4194303", 20, 4194303 },
        { "1023:5", 1023, 5 }, { "multiStateInput:2", 13, 2 },
    };
    static const char *const bad[] = {
        "", "analog-input", "analog-input:", ":1", "analog-input:4194304", "foo:1", "ai:-1",
        "1024:1", "ai:1x", "ai 1", "ai:0x10", "analog-inputt:1",
    };
    struct sb_bac_oid o;
    char buf[64];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        o = (struct sb_bac_oid){ 0, 0 };
        CHECK_EQ(sb_bacn_obj_parse(ok[i].s, &o), 0);
        CHECK_EQ(o.type, ok[i].t);
        CHECK_EQ(o.instance, ok[i].i);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sb_bacn_obj_parse(bad[i], &o) != SB_EINVAL)
            TAP_FAIL("\"%s\" parsed", bad[i]);
    CHECK_EQ(sb_bacn_obj_parse(NULL, &o), SB_EINVAL);
    CHECK_STR(sb_bacn_obj_str((struct sb_bac_oid){ 2, 3 }, buf, sizeof(buf)), "analog-value:3");
    CHECK_STR(sb_bacn_obj_str((struct sb_bac_oid){ 200, 4 }, buf, sizeof(buf)), "200:4");
    REQUIRE(sb_bacn_obj_parse("200:4", &o) == 0);
    CHECK(o.type == 200 && o.instance == 4);
}

TEST(props)
{
    static const struct { const char *s; uint32_t p; } ok[] = {
        { "present-value", 85 }, { "PRESENT_VALUE", 85 }, { "presentValue", 85 }, { "85", 85 },
        { "priority-array", 87 }, { "object-list", 76 }, { "object-name", 77 },
        { "description", 28 }, { "units", 117 }, { "status-flags", 111 },
        { "log-buffer", 131 }, { "relinquish-default", 104 }, { "4194303", 4194303 },
        { "feedback-value", 40 }, { "max-apdu-length-accepted", 62 },
        { "segmentation-supported", 107 }, { "property-list", 371 },
    };
    uint32_t p;
    size_t named = 0;

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        p = 0;
        CHECK_EQ(sb_bacn_prop_parse(ok[i].s, &p), 0);
        CHECK_EQ(p, ok[i].p);
    }
    CHECK_EQ(sb_bacn_prop_parse("4194304", &p), SB_EINVAL);
    CHECK_EQ(sb_bacn_prop_parse("-1", &p), SB_EINVAL);
    CHECK_EQ(sb_bacn_prop_parse("present value x", &p), SB_EINVAL);
    CHECK_EQ(sb_bacn_prop_parse("", &p), SB_EINVAL);
    for (uint32_t i = 0; i < 1000; i++) {
        const char *n = sb_bacn_prop_name(i);
        if (!n)
            continue;
        named++;
        REQUIRE(sb_bacn_prop_parse(n, &p) == 0);
        CHECK_EQ(p, i);
    }
    CHECK_INT(named, >=, 77);        /* every property enums.h names */
    CHECK_STR(sb_bacn_prop_name(SB_BAC_P_CURRENT_COMMAND_PRIORITY), "current-command-priority");
}

/* ---------- units ---------- */

TEST(units_known)
{
    /* number, ASHRAE name, sbems unit: checked against both tables named
     * in the file comment */
    static const struct { uint32_t n; const char *name; enum sb_unit u; } k[] = {
        { 62, "degrees-celsius", SB_UNIT_CELSIUS }, { 64, "degrees-fahrenheit", SB_UNIT_FAHRENHEIT },
        { 63, "degrees-kelvin", SB_UNIT_KELVIN }, { 98, "percent", SB_UNIT_PERCENT },
        { 29, "percent-relative-humidity", SB_UNIT_PERCENT_RH }, { 48, "kilowatts", SB_UNIT_KW },
        { 47, "watts", SB_UNIT_W }, { 49, "megawatts", SB_UNIT_MW },
        { 19, "kilowatt-hours", SB_UNIT_KWH }, { 18, "watt-hours", SB_UNIT_WH },
        { 146, "megawatt-hours", SB_UNIT_MWH }, { 53, "pascals", SB_UNIT_PA },
        { 54, "kilopascals", SB_UNIT_KPA }, { 58, "inches-of-water", SB_UNIT_INH2O },
        { 56, "pounds-force-per-square-inch", SB_UNIT_PSI }, { 55, "bars", SB_UNIT_BAR },
        { 84, "cubic-feet-per-minute", SB_UNIT_CFM }, { 87, "liters-per-second", SB_UNIT_L_S },
        { 89, "us-gallons-per-minute", SB_UNIT_GPM }, { 135, "cubic-meters-per-hour", SB_UNIT_M3_H },
        { 96, "parts-per-million", SB_UNIT_PPM }, { 27, "hertz", SB_UNIT_HZ },
        { 3, "amperes", SB_UNIT_A }, { 2, "milliamperes", SB_UNIT_MA }, { 5, "volts", SB_UNIT_V },
        { 52, "tons-refrigeration", SB_UNIT_TONREF }, { 50, "btus-per-hour", SB_UNIT_BTU_H },
        { 157, "kilo-btus-per-hour", SB_UNIT_KBTU_H }, { 21, "therms", SB_UNIT_THERM },
        { 148, "mega-btus", SB_UNIT_MMBTU }, { 83, "us-gallons", SB_UNIT_GAL },
        { 80, "cubic-meters", SB_UNIT_M3 }, { 95, "no-units", SB_UNIT_NONE },
        /* named but without an sbems unit */
        { 73, "seconds", SB_UNIT_INVALID }, { 120, "delta-degrees-fahrenheit", SB_UNIT_INVALID },
        { 41, "tons", SB_UNIT_INVALID }, { 37, "luxes", SB_UNIT_INVALID },
        { 47808, "standard-cubic-feet-per-day", SB_UNIT_INVALID },
    };
    uint32_t n;

    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
        CHECK_STR(sb_bacn_unit_name(k[i].n), k[i].name);
        CHECK_EQ(sb_bacn_unit(k[i].n), k[i].u);
        CHECK_EQ(sb_bacn_unit_parse(k[i].name, &n), 0);
        CHECK_EQ(n, k[i].n);
    }
    CHECK(sb_bacn_unit_name(255) == NULL && sb_bacn_unit_name(300) == NULL);
    CHECK_EQ(sb_bacn_unit(300), SB_UNIT_INVALID);
    CHECK_EQ(sb_bacn_unit_parse("DEGREES_FAHRENHEIT", &n), 0);
    CHECK_EQ(n, 64);
    CHECK_EQ(sb_bacn_unit_parse("degrees-rankine", &n), SB_EINVAL);
}

TEST(units_tables)
{
    size_t named = 0, mapped = 0;
    uint32_t n;

    for (uint32_t u = 0; u < 65536; u++) {
        const char *name = sb_bacn_unit_name(u);
        enum sb_unit su = sb_bacn_unit(u);
        if (name) {
            named++;
            REQUIRE(sb_bacn_unit_parse(name, &n) == 0);
            CHECK_EQ(n, u);
        }
        if (su == SB_UNIT_INVALID)
            continue;
        mapped++;
        CHECK(name != NULL);         /* every mapped unit has its name */
        /* the inverse map gives a BACnet unit of the same sbems unit */
        REQUIRE(sb_bacn_unit_from_sb(su, &n));
        CHECK_EQ(sb_bacn_unit(n), su);
        /* model/units.c also reads BACnet names: where it does, it agrees */
        enum sb_unit parsed;
        if (sb_unit_parse(name, &parsed) == 0 && parsed != su)
            TAP_FAIL("model parses \"%s\" as %s, the table says %s", name,
                     sb_unit_symbol(parsed), sb_unit_symbol(su));
    }
    CHECK_INT(named, >=, 255);
    CHECK_INT(mapped, ==, 45);
    CHECK(!sb_bacn_unit_from_sb(SB_UNIT_CCF, &n));
}

/* ---------- Brick proposals ---------- */

struct bcase {
    const char *name;
    uint16_t type;
    uint32_t units;
    const char *brick;
    enum sb_bacn_kind kind;
};

#define AI 0
#define AO 1
#define AV 2
#define BI 3
#define BO 4
#define BV 5
#define MSV 19
#define K(x) SB_BACN_K_##x

static const struct bcase trane[] = {
    { "Space Temperature", AI, 64, "Zone_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "Space Temperature Setpoint Active", AV, 64, "Effective_Zone_Air_Temperature_Setpoint", K(SETPOINT) },
    { "Discharge Air Temp", AI, 64, "Discharge_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "Discharge Air Temp Setpoint", AV, 64, "Discharge_Air_Temperature_Setpoint", K(SETPOINT) },
    { "Supply Fan Status", BI, 95, "Fan_Status", K(STATUS) },
    { "Supply Fan Speed Command", AO, 98, "Fan_Speed_Command", K(POSITION) },
    { "Outdoor Air Damper Position", AO, 98, "Damper_Position_Command", K(POSITION) },
    { "Chilled Water Supply Temp", AI, 64, "Chilled_Water_Supply_Temperature_Sensor", K(TEMPERATURE) },
    { "Chilled Water Return Temp", AI, 64, "Chilled_Water_Return_Temperature_Sensor", K(TEMPERATURE) },
    { "Mixed Air Temp", AI, 64, "Mixed_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "Return Air Temp", AI, 64, "Return_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "Occupancy Status", MSV, 95, "Occupancy_Status", K(OCCUPANCY) },
    { "Space CO2", AI, 96, "CO2_Level_Sensor", K(CO2) },
    { "Duct Static Pressure", AI, 58, "Supply_Air_Static_Pressure_Sensor", K(PRESSURE) },
    { "Duct Static Pressure Setpoint", AV, 58, "Supply_Air_Static_Pressure_Setpoint", K(SETPOINT) },
    { "Cooling Valve", AO, 98, "Valve_Position_Command", K(POSITION) },
    { "Heating Valve", AO, 98, "Valve_Position_Command", K(POSITION) },
    { "Compressor Status", BI, 95, "On_Off_Status", K(STATUS) },
    { "Chiller kW", AI, 48, "Electric_Power_Sensor", K(POWER) },
    { "Outdoor Air Temp", AI, 64, "Outside_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "Space Humidity", AI, 29, "Zone_Air_Humidity_Sensor", K(HUMIDITY) },
    { "Occupied Cooling Setpoint", AV, 64, "Zone_Air_Cooling_Temperature_Setpoint", K(SETPOINT) },
    { "Occupied Heating Setpoint", AV, 64, "Zone_Air_Heating_Temperature_Setpoint", K(SETPOINT) },
    { "Supply Fan Command", BO, 95, "Start_Stop_Command", K(COMMAND) },
    { "Chiller Enable", BV, 95, "Enable_Command", K(COMMAND) },
    { "Supply Air Flow", AI, 84, "Supply_Air_Flow_Sensor", K(FLOW) },
    { "Building kWh", AI, 19, "Electric_Energy_Sensor", K(ENERGY) },
    { "Hot Water Supply Temp", AI, 62, "Hot_Water_Supply_Temperature_Sensor", K(TEMPERATURE) },
    { "Filter Status", BI, 95, "Filter_Status", K(STATUS) },
    /* abbreviations */
    { "SAT", AI, 64, "Supply_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "RAT", AI, 64, "Return_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "MAT", AI, 64, "Mixed_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "OAT", AI, 64, "Outside_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "DAT", AI, 62, "Discharge_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "ZN-T", AI, 64, "Zone_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "CHWST", AI, 64, "Chilled_Water_Supply_Temperature_Sensor", K(TEMPERATURE) },
    { "CHWRT", AI, 64, "Chilled_Water_Return_Temperature_Sensor", K(TEMPERATURE) },
    { "SA-SP", AI, 58, "Supply_Air_Static_Pressure_Sensor", K(PRESSURE) },
    { "DSP STPT", AV, 58, "Supply_Air_Static_Pressure_Setpoint", K(SETPOINT) },
    { "ZN-SP", AV, 64, "Zone_Air_Temperature_Setpoint", K(SETPOINT) },
    { "SAT STPT", AV, 64, "Supply_Air_Temperature_Setpoint", K(SETPOINT) },
    { "SF CMD", BO, 95, "Start_Stop_Command", K(COMMAND) },
    { "SF STS", BI, 95, "Fan_Status", K(STATUS) },
    { "OA DMPR", AO, 98, "Damper_Position_Command", K(POSITION) },
    { "CLG VLV", AO, 98, "Valve_Position_Command", K(POSITION) },
    { "RH", AI, 29, "Relative_Humidity_Sensor", K(HUMIDITY) },
    { "ZN RH", AI, 29, "Zone_Air_Humidity_Sensor", K(HUMIDITY) },
    { "RH VLV", AO, 98, "Valve_Position_Command", K(POSITION) },
    { "CO2", AI, 96, "CO2_Level_Sensor", K(CO2) },
    { "OCC", BI, 95, "Occupancy_Sensor", K(OCCUPANCY) },
    { "OCC CMD", BV, 95, "Occupancy_Command", K(COMMAND) },
    { "AHU1_SAT", AI, 64, "Supply_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "VAV-2-14 ZN-T", AI, 64, "Zone_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "SpaceTemp", AI, 64, "Zone_Air_Temperature_Sensor", K(TEMPERATURE) },
    { "ChwSupTemp", AI, 64, "Chilled_Water_Supply_Temperature_Sensor", K(TEMPERATURE) },
    { "MIN OA DMPR POS SP", AV, 98, "Damper_Position_Setpoint", K(SETPOINT) },
};

static const char *tags_str(const struct sb_bacn_proposal *p, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = 0;
    for (size_t i = 0; i < p->ntags && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", p->tags[i]);
    return buf;
}

TEST(brick_names)
{
    struct sb_bacn_proposal p, q;

    for (size_t i = 0; i < sizeof(trane) / sizeof(trane[0]); i++) {
        const struct bcase *c = &trane[i];
        sb_bacn_propose(c->name, NULL, c->type, c->units, &p);
        if (strcmp(p.brick, c->brick) || p.kind != c->kind)
            TAP_FAIL("\"%s\": %s/%s (rule %s), want %s/%s", c->name, p.brick,
                     sb_bacn_kind_name(p.kind), p.rule, c->brick, sb_bacn_kind_name(c->kind));
        CHECK(p.confidence >= 0.5 && p.confidence <= 0.99);
        CHECK(p.tags[p.ntags] == NULL);
        sb_bacn_propose(c->name, NULL, c->type, c->units, &q);   /* deterministic */
        CHECK(q.brick == p.brick && q.confidence == p.confidence && q.ntags == p.ntags);
    }
}

TEST(brick_tags)
{
    struct sb_bacn_proposal p;
    char b[128];

    /* the style of examples/office-site.json */
    sb_bacn_propose("Supply Fan Status", NULL, BI, 95, &p);
    CHECK_STR(tags_str(&p, b, sizeof(b)), "discharge fan run sensor");
    sb_bacn_propose("Supply Air Temp", NULL, AI, 64, &p);
    CHECK_STR(tags_str(&p, b, sizeof(b)), "discharge air temp sensor");
    sb_bacn_propose("Outdoor Air Damper Position", NULL, AO, 98, &p);
    CHECK_STR(tags_str(&p, b, sizeof(b)), "outside air damper cmd");
    sb_bacn_propose("Occupied Heating Setpoint", NULL, AV, 64, &p);
    CHECK_STR(tags_str(&p, b, sizeof(b)), "zone air temp heating sp");
    sb_bacn_propose("Chilled Water Supply Temp", NULL, AI, 64, &p);
    CHECK_STR(tags_str(&p, b, sizeof(b)), "chilled water leaving temp sensor");
}

TEST(brick_confidence)
{
    struct sb_bacn_proposal named, from_units, clash, desc, none, input;

    /* the quantity said by the name beats the one implied by the units */
    sb_bacn_propose("Space Temperature", NULL, AI, 64, &named);
    sb_bacn_propose("Space", NULL, AI, 64, &from_units);
    CHECK_STR(from_units.brick, "Zone_Air_Temperature_Sensor");
    CHECK(named.confidence > from_units.confidence);
    /* units that contradict the name: the kind follows the units (sbems
     * would refuse °F... for a % reading) and the confidence drops */
    sb_bacn_propose("Space Temperature", NULL, AI, 98, &clash);
    CHECK_EQ(clash.kind, K(POSITION));
    CHECK(clash.confidence < named.confidence - 0.2);
    /* a name that says nothing: the description speaks, with less weight */
    sb_bacn_propose("AI-7", "Zone temperature, north office", AI, 64, &desc);
    CHECK_STR(desc.brick, "Zone_Air_Temperature_Sensor");
    CHECK(desc.confidence < named.confidence);
    /* nothing at all */
    sb_bacn_propose("XYZ", NULL, AI, 95, &none);
    CHECK_STR(none.brick, "Sensor");
    CHECK_EQ(none.kind, K(OTHER));
    CHECK(none.confidence < 0.5);
    sb_bacn_propose(NULL, NULL, 200, 95, &none);
    CHECK_STR(none.brick, "Point");
    /* direction from the object type */
    sb_bacn_propose("OA Damper", NULL, AI, 98, &input);
    CHECK_STR(input.brick, "Damper_Position_Sensor");
    /* hostile input: long words, bytes >= 0x80, no crash, a sane answer */
    char big[600];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    big[10] = (char)0xff;
    sb_bacn_propose(big, big, AI, 64, &none);
    CHECK_STR(none.brick, "Temperature_Sensor");
}

/* ---------- address ranges ---------- */

TEST(ranges)
{
    struct sb_bac_peer p[1024];
    char b[64];

    CHECK_EQ(sb_bacdisc_range("127.0.0.1-127.0.0.40", p, 1024), 40);
    CHECK_STR(sb_bac_peer_str(&p[0], b, sizeof(b)), "127.0.0.1:47808");
    CHECK_STR(sb_bac_peer_str(&p[39], b, sizeof(b)), "127.0.0.40:47808");
    CHECK_EQ(sb_bacdisc_range("10.0.0.5-9:47809", p, 1024), 5);
    CHECK_STR(sb_bac_peer_str(&p[4], b, sizeof(b)), "10.0.0.9:47809");
    CHECK_EQ(sb_bacdisc_range("10.0.0.255-10.0.1.1", p, 1024), 3);
    CHECK_STR(sb_bac_peer_str(&p[1], b, sizeof(b)), "10.0.1.0:47808");
    CHECK_EQ(sb_bacdisc_range("10.0.0.7-10.0.0.7", p, 1024), 1);
    CHECK_EQ(sb_bacdisc_range("10.0.0.0-10.0.8.0", p, 1024), SB_ERANGE);
    CHECK_EQ(sb_bacdisc_range("10.0.0.0-10.0.3.255", p, 1024), 1024);
    static const char *const bad[] = {
        "10.0.0.9-10.0.0.1", "10.0.0.1", "10.0.0.1-", "-10.0.0.1", "10.0.0.1-300",
        "10.0.0.1-10.0.0.x", "10.0.0.1-5:0", "10.0.0.1-5:70000", "10.0.0.1-5:", "a-b",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (sb_bacdisc_range(bad[i], p, 1024) != SB_EINVAL)
            TAP_FAIL("range \"%s\" accepted", bad[i]);
}

/* ---------- end to end on loopback ---------- */

/* Ports on 127.0.0.1: base + 0 the discovering stack, + 1..3 devices A, B,
 * C, + 4 and + 5 nobody, + 6 the CLI.  The base is picked at start among
 * free ones (test binaries may run in parallel). */
static uint16_t port_base = 47900;
#define PORT_DISC (port_base + 0)
#define PORT_A (port_base + 1)
#define PORT_B (port_base + 2)
#define PORT_C (port_base + 3)
#define PORT_NOBODY (port_base + 4)
#define PORT_NOBODY2 (port_base + 5)
#define PORT_CLI (port_base + 6)
#define NPORTS 7

/* "127.0.0.1:<base + k>" in one of a few static buffers. */
static const char *addr(int k)
{
    static char b[8][32];
    static int next;
    char *s = b[next++ % 8];

    snprintf(s, sizeof(b[0]), "127.0.0.1:%u", (unsigned)(port_base + k));
    return s;
}

/* A base whose NPORTS UDP ports are free now (bound and released). */
static void pick_ports(void)
{
    for (unsigned tries = 0; tries < 200; tries++) {
        uint16_t base = (uint16_t)(42000 + ((unsigned)getpid() * 7 + tries * 13) % 2000 * 8);
        int fds[NPORTS], ok = 1, n = 0;
        for (; n < NPORTS && ok; n++) {
            struct sockaddr_in sa = { .sin_family = AF_INET,
                                      .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                      .sin_port = htons((uint16_t)(base + n)) };
            fds[n] = socket(AF_INET, SOCK_DGRAM, 0);
            ok = fds[n] >= 0 && bind(fds[n], (struct sockaddr *)&sa, sizeof(sa)) == 0;
        }
        for (int i = 0; i < n; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (ok) {
            port_base = base;
            return;
        }
    }
}
#define T0_MS 1764237600000LL        /* 2025-11-27T10:00:00Z, the devices' clock */

/* A device: the server object database behind its own stack, plus the
 * quirks of real controllers the engine must cope with. */
struct fake {
    uv_loop_t *loop;
    struct sb_bac_srv *srv;
    struct sb_bac_stack *st;
    bool answer_whois;               /* send I-Am (to the asker) */
    bool iam_no_seg;                 /* ... claiming no segmentation */
    uint16_t iam_max_apdu;           /* ... and this max APDU (0: the server's) */
    bool no_rpm;                     /* Reject RPM: unrecognized-service */
    size_t reply_limit;              /* Abort longer replies: cannot segment */
    int rpm_seen, aborts_sent, whois_seen;
};

static int64_t fake_now(struct fake *f)
{
    return T0_MS + (int64_t)uv_now(f->loop);
}

/* With SB_BACDISC_SEEDS=dir, replies of the devices are saved as seeds
 * for fuzz/fuzz_bacdisc.c (its first byte says what follows). */
static void save_seed(uint8_t service, const uint8_t *out, size_t n)
{
    static unsigned count;
    const char *dir = getenv("SB_BACDISC_SEEDS");
    struct sb_bac_rp ack;
    uint8_t sel;
    const uint8_t *p = out;
    char path[512];
    FILE *f;

    if (!dir || count >= 48)
        return;
    if (service == SB_BAC_SVC_READ_PROPERTY_MULTIPLE) {
        sel = 1;
    } else if (service == SB_BAC_SVC_READ_PROPERTY && sb_bac_dec_rp_ack(out, n, &ack) > 0) {
        sel = ack.prop == SB_BAC_P_OBJECT_LIST && !ack.has_index ? 0 : 2;
        p = ack.value;
        n = ack.value_len;
    } else {
        return;
    }
    snprintf(path, sizeof(path), "%s/reply-%02u.bin", dir, count++);
    if ((f = fopen(path, "wb"))) {
        fputc(sel, f);
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static ssize_t fake_confirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                              const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                              uint8_t *pdu, uint8_t *reason)
{
    struct fake *f = ud;
    ssize_t n;

    if (service == SB_BAC_SVC_READ_PROPERTY_MULTIPLE) {
        f->rpm_seen++;
        if (f->no_rpm) {
            *pdu = SB_BAC_PDU_REJECT;
            *reason = SB_BAC_RJ_UNRECOGNIZED_SERVICE;
            return 0;
        }
    }
    n = sb_bac_srv_confirmed(f->srv, from, service, body, len, fake_now(f), out, cap, pdu, reason);
    if (n > 0 && *pdu == SB_BAC_PDU_COMPLEX_ACK)
        save_seed(service, out, (size_t)n);
    if (n > 0 && f->reply_limit && (size_t)n > f->reply_limit) {
        f->aborts_sent++;
        *pdu = SB_BAC_PDU_ABORT;     /* clause 5.4.5.2: cannot send it segmented */
        *reason = SB_BAC_AB_SEGMENTATION_NOT_SUPPORTED;
        return 0;
    }
    return n;
}

static void fake_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                             const uint8_t *body, size_t len)
{
    struct fake *f = ud;
    uint8_t out[64], reply;
    ssize_t n;

    if (service == SB_BAC_SVC_WHO_IS)
        f->whois_seen++;
    if (!f->answer_whois)
        return;
    n = sb_bac_srv_unconfirmed(f->srv, from, service, body, len, fake_now(f), out, sizeof(out),
                               &reply);
    if (n <= 0 || reply != SB_BAC_SVC_I_AM)
        return;
    if (f->iam_no_seg || f->iam_max_apdu) {
        struct sb_bac_iam iam;
        if (sb_bac_dec_iam(out, (size_t)n, &iam) < 0)
            return;
        if (f->iam_no_seg)
            iam.segmentation = SB_BAC_SEG_NONE;
        if (f->iam_max_apdu)
            iam.max_apdu = f->iam_max_apdu;
        n = sb_bac_enc_iam(out, sizeof(out), &iam);
    }
    /* unicast to the asker: the discovering stack is not on port 47808 */
    sb_bac_unconfirmed(f->st, from, 0, SB_BAC_SVC_I_AM, out, (size_t)n);
}

static int fake_open(struct fake *f, uv_loop_t *loop, uint16_t port, uint32_t inst,
                     const char *name, const char *model)
{
    struct sb_bac_srv_cfg c = { .instance = inst, .name = name, .vendor_name = "Trane",
                                .vendor_id = 2, .model_name = model };
    struct sb_bac_stack_cfg sc = { .bind_ip = "127.0.0.1", .port = port,
                                   .bcast_ip = "127.255.255.255" };
    struct sb_bac_handler h = { .confirmed = fake_confirmed, .unconfirmed = fake_unconfirmed,
                                .ud = f };
    char err[128];
    int rc;

    f->loop = loop;
    if ((rc = sb_bac_srv_new(&c, T0_MS, &f->srv)) < 0)
        return rc;
    if ((rc = sb_bac_stack_new(loop, &sc, &h, &f->st, err, sizeof(err))) < 0)
        printf("# stack on port %u: %s\n", port, err);
    return rc;
}

static void fake_close(struct fake *f)
{
    if (f->st)
        sb_bac_stack_close(f->st);
    sb_bac_srv_free(f->srv);
}

static int add_obj(struct fake *f, uint16_t type, uint32_t inst, const char *name,
                   const char *desc, uint32_t units, uint32_t flags, double v)
{
    static const char *const states[] = { "Occupied", "Unoccupied", "Standby" };
    struct sb_bac_srv_obj_cfg c = { .type = type, .instance = inst, .name = name,
                                    .description = desc, .flags = flags, .initial = v,
                                    .units = units };

    if (type == SB_BAC_OBJ_MSI || type == SB_BAC_OBJ_MSO || type == SB_BAC_OBJ_MSV) {
        c.nstates = 3;
        c.state_text = states;
        if (c.initial < 1)
            c.initial = 1;
    }
    return sb_bac_srv_add(f->srv, &c, T0_MS);
}

/* Device A: an AHU controller with Trane-style names. */
static const struct aobj {
    uint16_t type;
    uint32_t inst;
    const char *name;
    uint32_t units;
    uint32_t flags;
    double v;
    const char *brick;               /* expected proposal */
    const char *unit;                /* expected sbems unit symbol, NULL = none */
    bool writable;                   /* expected */
} ahu[] = {
    { AI, 1, "Space Temperature", 64, 0, 72.5, "Zone_Air_Temperature_Sensor", "°F", false },
    { AV, 1, "Space Temperature Setpoint Active", 64, SB_BAC_SRV_COMMANDABLE, 72,
      "Effective_Zone_Air_Temperature_Setpoint", "°F", true },
    { AI, 2, "Discharge Air Temp", 64, 0, 55, "Discharge_Air_Temperature_Sensor", "°F", false },
    { AV, 2, "Discharge Air Temp Setpoint", 64, SB_BAC_SRV_COMMANDABLE, 55,
      "Discharge_Air_Temperature_Setpoint", "°F", true },
    { BI, 1, "Supply Fan Status", 0, 0, 1, "Fan_Status", NULL, false },
    { AO, 1, "Supply Fan Speed Command", 98, 0, 65, "Fan_Speed_Command", "%", true },
    { AO, 2, "Outdoor Air Damper Position", 98, 0, 20, "Damper_Position_Command", "%", true },
    { AI, 3, "Chilled Water Supply Temp", 64, 0, 44, "Chilled_Water_Supply_Temperature_Sensor",
      "°F", false },
    { AI, 4, "Mixed Air Temp", 64, 0, 60, "Mixed_Air_Temperature_Sensor", "°F", false },
    { AI, 5, "Return Air Temp", 64, 0, 73, "Return_Air_Temperature_Sensor", "°F", false },
    { MSV, 1, "Occupancy Status", 0, 0, 1, "Occupancy_Status", NULL, false },
    { AI, 6, "Space CO2", 96, 0, 640, "CO2_Level_Sensor", "ppm", false },
    { AI, 7, "Duct Static Pressure", 58, 0, 1.2, "Supply_Air_Static_Pressure_Sensor", "inH2O",
      false },
    { AO, 3, "Cooling Valve", 98, 0, 40, "Valve_Position_Command", "%", true },
    { AO, 4, "Heating Valve", 98, 0, 0, "Valve_Position_Command", "%", true },
    { BI, 2, "Compressor Status", 0, 0, 0, "On_Off_Status", NULL, false },
    { AI, 8, "Chiller kW", 48, 0, 88.5, "Electric_Power_Sensor", "kW", false },
    { AI, 9, "Outdoor Air Temp", 64, 0, 38, "Outside_Air_Temperature_Sensor", "°F", false },
    { AI, 10, "Space Humidity", 29, 0, 41, "Zone_Air_Humidity_Sensor", "%RH", false },
    { AV, 3, "Duct Static Pressure Setpoint", 58, SB_BAC_SRV_COMMANDABLE, 1.5,
      "Supply_Air_Static_Pressure_Setpoint", "inH2O", true },
    { AV, 4, "Occupied Cooling Setpoint", 64, SB_BAC_SRV_COMMANDABLE, 75,
      "Zone_Air_Cooling_Temperature_Setpoint", "°F", true },
    { AV, 5, "Occupied Heating Setpoint", 64, SB_BAC_SRV_COMMANDABLE, 70,
      "Zone_Air_Heating_Temperature_Setpoint", "°F", true },
    { BO, 1, "Supply Fan Command", 0, 0, 1, "Start_Stop_Command", NULL, true },
    { BV, 1, "Chiller Enable", 0, SB_BAC_SRV_COMMANDABLE, 1, "Enable_Command", NULL, true },
    { AI, 11, "Supply Air Flow", 84, 0, 8200, "Supply_Air_Flow_Sensor", "cfm", false },
    { AI, 12, "Building kWh", 19, 0, 123456, "Electric_Energy_Sensor", "kWh", false },
    { AV, 6, "Min OA Damper Position Setpoint", 98, SB_BAC_SRV_WRITABLE, 15,
      "Damper_Position_Setpoint", "%", false },
};
#define N_AHU (sizeof(ahu) / sizeof(ahu[0]))

static int fill_ahu(struct fake *f)
{
    struct sb_bac_srv_trend_cfg tl = { .instance = 1, .name = "Discharge Air Temp Log",
                                       .buffer_size = 100, .log_interval_cs = 6000,
                                       .source = { SB_BAC_OBJ_AI, 2 },
                                       .source_prop = SB_BAC_P_PRESENT_VALUE };
    struct sb_bac_srv_sched_cfg sc = { .instance = 1, .name = "Occupancy Schedule",
                                       .dflt = { .type = SB_BAC_ENUMERATED, .v.enumerated = 1 } };
    int rc;

    for (size_t i = 0; i < N_AHU; i++)
        if ((rc = add_obj(f, ahu[i].type, ahu[i].inst, ahu[i].name,
                          i % 3 ? NULL : "Trane UC600 point", ahu[i].units, ahu[i].flags,
                          ahu[i].v)) < 0)
            return rc;
    if ((rc = sb_bac_srv_add_trend(f->srv, &tl)) < 0 ||
        (rc = sb_bac_srv_add_schedule(f->srv, &sc)) < 0)
        return rc;
    return sb_bac_srv_add_calendar(f->srv, 1, "Holidays", "Company holidays");
}

/* A run: a loop, the discovering stack, the engine. */
struct run {
    uv_loop_t loop;
    struct sb_bac_stack *st;
    struct sb_bacdisc *disc;
    json_t *result;
    int rc, done_calls;
    struct fake *fakes[3];
    size_t nfakes;
    uv_timer_t guard;                /* ends a hung test */
    uv_timer_t cancel;               /* cancels the run (cancel_ms) */
    uint32_t cancel_ms;              /* 0 = no cancel */
};

static void run_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                            const uint8_t *body, size_t len)
{
    struct run *r = ud;

    if (r->disc)
        sb_bacdisc_on_unconfirmed(r->disc, from, service, body, len);
}

static void run_done(void *ud, int rc, json_t *result)
{
    struct run *r = ud;

    r->done_calls++;
    r->disc = NULL;
    r->rc = rc;
    r->result = result;
    sb_bac_stack_close(r->st);
    for (size_t i = 0; i < r->nfakes; i++) {
        sb_bac_stack_close(r->fakes[i]->st);
        r->fakes[i]->st = NULL;
    }
    uv_close((uv_handle_t *)&r->guard, NULL);
}

static void run_guard(uv_timer_t *t)
{
    struct run *r = t->data;

    printf("# guard timer fired: cancelling\n");
    if (r->disc)
        sb_bacdisc_cancel(r->disc);
}

static void run_cancel(uv_timer_t *t)
{
    struct run *r = t->data;

    sb_bacdisc_cancel(r->disc);
    CHECK_EQ(r->done_calls, 0);      /* done never runs inside cancel */
    uv_close((uv_handle_t *)t, NULL);
}

/* Runs discovery with args on a stack bound to 127.0.0.1:PORT_DISC. */
static int run_disc(struct run *r, struct sb_bacdisc_args *a, uint16_t max_apdu)
{
    struct sb_bac_stack_cfg sc = { .bind_ip = "127.0.0.1", .port = PORT_DISC,
                                   .bcast_ip = "127.255.255.255", .apdu_timeout_ms = 400,
                                   .retries = 1, .max_apdu = max_apdu };
    struct sb_bac_handler h = { .unconfirmed = run_unconfirmed, .ud = r };
    char err[160];
    int rc;

    if ((rc = sb_bac_stack_new(&r->loop, &sc, &h, &r->st, err, sizeof(err))) < 0) {
        printf("# discovering stack: %s\n", err);
        return rc;
    }
    a->loop = &r->loop;
    if ((rc = sb_bacdisc_start(r->st, a, run_done, r, &r->disc, err, sizeof(err))) < 0) {
        printf("# start: %s\n", err);
        return rc;
    }
    uv_timer_init(&r->loop, &r->guard);
    r->guard.data = r;
    uv_timer_start(&r->guard, run_guard, 30000, 0);
    if (r->cancel_ms) {
        uv_timer_init(&r->loop, &r->cancel);
        r->cancel.data = r;
        uv_timer_start(&r->cancel, run_cancel, r->cancel_ms, 0);
    }
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (getenv("SB_TEST_DUMP") && r->result)   /* for a human reading the result */
        json_dumpf(r->result, stdout, JSON_INDENT(1));
    return 0;
}

static json_t *find_dev(json_t *res, uint32_t inst)
{
    json_t *d;
    size_t i;

    json_array_foreach(json_object_get(res, "devices"), i, d)
        if (json_integer_value(json_object_get(d, "device")) == inst)
            return d;
    return NULL;
}

static json_t *find_point(json_t *dev, const char *object)
{
    json_t *p;
    size_t i;

    json_array_foreach(json_object_get(dev, "points"), i, p) {
        json_t *a = json_object_get(json_object_get(p, "source"), "address");
        if (strcmp(json_string_value(json_object_get(a, "object")), object) == 0)
            return p;
    }
    return NULL;
}

static const char *js(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "(none)";
}

static void check_ahu_points(json_t *dev)
{
    json_t *used = json_object(), *p;
    size_t i;

    CHECK_EQ(json_array_size(json_object_get(dev, "points")), N_AHU);
    for (size_t k = 0; k < N_AHU; k++) {
        char ob[48];
        sb_bacn_obj_str((struct sb_bac_oid){ ahu[k].type, ahu[k].inst }, ob, sizeof(ob));
        if (!(p = find_point(dev, ob))) {
            TAP_FAIL("%s missing", ob);
            continue;
        }
        CHECK_STR(js(p, "name"), ahu[k].name);
        if (strcmp(js(p, "brick"), ahu[k].brick))
            TAP_FAIL("%s \"%s\": brick %s, want %s", ob, ahu[k].name, js(p, "brick"), ahu[k].brick);
        CHECK_STR(js(p, "unit"), ahu[k].unit ? ahu[k].unit : "(none)");
        if (json_is_true(json_object_get(p, "writable")) != ahu[k].writable)
            TAP_FAIL("%s writable %d, want %d", ob, !ahu[k].writable, ahu[k].writable);
        json_t *raw = json_object_get(p, "bacnet");
        json_t *pv = json_object_get(raw, "present_value");
        if (ahu[k].type == AI || ahu[k].type == AO || ahu[k].type == AV)
            CHECK_DBL(json_number_value(pv), ahu[k].v, 1e-3);
        CHECK_STR(js(json_object_get(p, "source"), "driver"), "bacnet");
        CHECK_EQ(json_integer_value(json_object_get(json_object_get(json_object_get(p, "source"),
                                                                    "address"), "device")), 1001);
        CHECK_EQ(json_integer_value(json_object_get(raw, "instance")), ahu[k].inst);
        if (k % 3 == 0)
            CHECK_STR(js(p, "description"), "Trane UC600 point");
    }
    json_array_foreach(json_object_get(dev, "points"), i, p) {   /* ids unique, slug-shaped */
        const char *id = js(p, "id");
        CHECK(json_object_get(used, id) == NULL);
        json_object_set_new(used, id, json_true());
        CHECK(strncmp(id, "ahu-1-uc600.", 12) == 0);
        for (const char *c = id; *c; c++)
            CHECK((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.');
    }
    json_decref(used);
}

TEST(e2e_segmented_object_list)
{
    struct run r = { 0 };
    struct fake a = { .answer_whois = true };
    const char *targets[] = { addr(1) };
    struct sb_bacdisc_args args = { .targets = targets, .ntargets = 1, .wait_ms = 300,
                                    .deadline_ms = 25000 };
    json_t *dev, *tl, *l;

    REQUIRE(uv_loop_init(&r.loop) == 0);
    REQUIRE(fake_open(&a, &r.loop, PORT_A, 1001, "AHU-1 UC600", "Tracer UC600") == 0);
    REQUIRE(fill_ahu(&a) == 0);
    r.fakes[r.nfakes++] = &a;
    /* 128-octet APDUs: the 31-entry Object_List (~165 octets) and every
     * RPM reply must come segmented (clause 5.2) */
    REQUIRE(run_disc(&r, &args, 128) == 0);
    fake_close(&a);
    CHECK_EQ(uv_loop_close(&r.loop), 0);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.rc, 0);
    REQUIRE(r.result != NULL);
    CHECK(json_is_true(json_object_get(r.result, "complete")));
    CHECK_EQ(json_array_size(json_object_get(r.result, "devices")), 1);
    CHECK_EQ(json_array_size(json_object_get(r.result, "unanswered")), 0);
    dev = find_dev(r.result, 1001);
    REQUIRE(dev != NULL);
    CHECK_STR(js(dev, "name"), "AHU-1 UC600");
    CHECK_STR(js(dev, "vendor"), "Trane");
    CHECK_STR(js(dev, "model"), "Tracer UC600");
    CHECK_EQ(json_integer_value(json_object_get(dev, "vendor_id")), 2);
    CHECK_STR(js(dev, "address"), addr(1));
    CHECK_STR(js(dev, "found_by"), "i-am");
    CHECK_STR(js(dev, "segmentation"), "both");
    CHECK_STR(js(dev, "object_list"), "segmented");
    CHECK_EQ(json_integer_value(json_object_get(dev, "objects")), N_AHU + 4);
    CHECK(json_is_true(json_object_get(dev, "rpm")));
    CHECK(json_is_true(json_object_get(dev, "complete")));
    CHECK_INT(a.rpm_seen, >, 0);
    check_ahu_points(dev);
    tl = json_array_get(json_object_get(dev, "trend_logs"), 0);
    REQUIRE(tl != NULL);
    CHECK_STR(js(tl, "object"), "trend-log:1");
    CHECK_STR(js(tl, "name"), "Discharge Air Temp Log");
    l = json_object_get(tl, "logs");
    CHECK_STR(js(l, "object"), "analog-input:2");
    CHECK_STR(js(l, "property"), "present-value");
    CHECK_DBL(json_number_value(json_object_get(tl, "log_interval_s")), 60, 1e-9);
    CHECK_STR(js(json_array_get(json_object_get(dev, "schedules"), 0), "name"),
              "Occupancy Schedule");
    CHECK_STR(js(json_array_get(json_object_get(dev, "calendars"), 0), "description"),
              "Company holidays");
    if (json_array_size(json_object_get(dev, "errors"))) {
        char *s = json_dumps(json_object_get(dev, "errors"), 0);
        TAP_FAIL("unexpected errors: %s", s);
        free(s);
    }
    json_decref(r.result);
}

/* Device B: a small controller that cannot segment (replies over 206
 * octets are aborted), rejects RPM and ignores Who-Is.  Device C: answers
 * Who-Is claiming no segmentation and 480 octets, accepts RPM, and has
 * long descriptions, so that several objects' results overflow 480. */
static const char long_desc[] =
    "Measured by a 10k type II thermistor in the return duct downstream of the "
    "filter bank, calibrated 2025-06; see the AHU-3 sequence of operations.";

static int fill_small(struct fake *b, struct fake *c)
{
    static const char *const bnames[] = { "ZN-T", "ZN-SP", "DA-T", "SF STS", "SF CMD", "OA DMPR",
                                          "CLG VLV", "HTG VLV", "ZN RH", "CO2" };
    static const uint16_t btypes[] = { AI, AV, AI, BI, BO, AO, AO, AO, AI, AI };
    static const uint32_t bunits[] = { 62, 62, 62, 0, 0, 98, 98, 98, 29, 96 };
    int rc;

    for (uint32_t i = 0; i < 10; i++)
        if ((rc = add_obj(b, btypes[i], i + 1, bnames[i], NULL, bunits[i],
                          btypes[i] == AV ? SB_BAC_SRV_COMMANDABLE : 0,
                          btypes[i] == BI || btypes[i] == BO ? 1 : 21)) < 0)
            return rc;
    /* 40 more, so Object_List (51 entries, ~265 octets) exceeds 206 */
    for (uint32_t i = 0; i < 40; i++) {
        char n[32];
        snprintf(n, sizeof(n), "Spare AI %u", (unsigned)i + 1);
        if ((rc = add_obj(b, AI, 100 + i, n, NULL, 95, 0, 0)) < 0)
            return rc;
    }
    for (uint32_t i = 0; i < 12; i++) {
        char n[32];
        snprintf(n, sizeof(n), "Return Air Temp %u", (unsigned)i + 1);
        if ((rc = add_obj(c, AI, i + 1, n, long_desc, 64, 0, 70 + i)) < 0)
            return rc;
    }
    return 0;
}

TEST(e2e_quirky_devices)
{
    struct run r = { 0 };
    struct fake b = { .no_rpm = true, .reply_limit = 206 };
    struct fake c = { .answer_whois = true, .iam_no_seg = true, .iam_max_apdu = 480,
                      .reply_limit = 480 };
    const char *targets[] = { addr(2), addr(3), addr(4) };
    struct sb_bacdisc_args args = { .targets = targets, .ntargets = 3, .wait_ms = 300,
                                    .deadline_ms = 25000 };
    json_t *db, *dc, *p, *e;
    size_t i;
    bool by_index_noted = false;

    REQUIRE(uv_loop_init(&r.loop) == 0);
    REQUIRE(fake_open(&b, &r.loop, PORT_B, 2002, "VAV-2-14", "UC210") == 0);
    REQUIRE(fake_open(&c, &r.loop, PORT_C, 3003, "AHU-3 RA", "UC600") == 0);
    REQUIRE(fill_small(&b, &c) == 0);
    r.fakes[r.nfakes++] = &b;
    r.fakes[r.nfakes++] = &c;
    REQUIRE(run_disc(&r, &args, 0) == 0);
    fake_close(&b);
    fake_close(&c);
    CHECK_EQ(uv_loop_close(&r.loop), 0);
    CHECK_EQ(r.rc, 0);
    REQUIRE(r.result != NULL);
    CHECK_EQ(json_array_size(json_object_get(r.result, "devices")), 2);
    CHECK_EQ(json_array_size(json_object_get(r.result, "unanswered")), 1);
    CHECK_STR(json_string_value(json_array_get(json_object_get(r.result, "unanswered"), 0)),
              addr(4));
    CHECK_INT(b.whois_seen, >=, 1);  /* asked, did not answer */

    db = find_dev(r.result, 2002);
    REQUIRE(db != NULL);
    CHECK_STR(js(db, "found_by"), "probe");
    CHECK_STR(js(db, "object_list"), "by-index");
    CHECK_EQ(json_integer_value(json_object_get(db, "objects")), 51);
    CHECK(json_is_false(json_object_get(db, "rpm")));
    CHECK_EQ(b.rpm_seen, 1);         /* rejected once, never asked again */
    CHECK_EQ(json_array_size(json_object_get(db, "points")), 50);
    CHECK(json_is_true(json_object_get(db, "complete")));
    CHECK_STR(js(find_point(db, "analog-input:1"), "brick"), "Zone_Air_Temperature_Sensor");
    CHECK_STR(js(find_point(db, "analog-value:2"), "brick"), "Zone_Air_Temperature_Setpoint");
    CHECK(json_is_true(json_object_get(find_point(db, "analog-value:2"), "writable")));
    CHECK_STR(js(find_point(db, "analog-input:3"), "brick"), "Discharge_Air_Temperature_Sensor");
    CHECK_STR(js(find_point(db, "binary-input:4"), "brick"), "Fan_Status");
    CHECK_STR(js(find_point(db, "binary-output:5"), "brick"), "Start_Stop_Command");
    CHECK_STR(js(find_point(db, "analog-output:6"), "brick"), "Damper_Position_Command");
    CHECK_STR(js(find_point(db, "analog-input:9"), "brick"), "Zone_Air_Humidity_Sensor");
    CHECK_STR(js(find_point(db, "analog-input:10"), "unit"), "ppm");
    CHECK_STR(js(find_point(db, "analog-input:1"), "unit"), "°C");
    json_array_foreach(json_object_get(db, "errors"), i, e)
        if (strstr(js(e, "error"), "object-list (whole)") &&
            strstr(js(e, "error"), "segmentation-not-supported"))
            by_index_noted = true;
    CHECK(by_index_noted);

    dc = find_dev(r.result, 3003);
    REQUIRE(dc != NULL);
    CHECK_STR(js(dc, "found_by"), "i-am");
    CHECK_STR(js(dc, "segmentation"), "none");
    CHECK_EQ(json_integer_value(json_object_get(dc, "max_apdu")), 480);
    CHECK(json_is_true(json_object_get(dc, "rpm")));
    CHECK_INT(c.aborts_sent, >, 0);  /* the first batches were too long ... */
    CHECK_EQ(json_array_size(json_object_get(dc, "points")), 12);
    json_array_foreach(json_object_get(dc, "points"), i, p) {   /* ... and all was read */
        CHECK_STR(js(p, "brick"), "Return_Air_Temperature_Sensor");
        CHECK_STR(js(p, "description"), long_desc);
    }
    CHECK_EQ(json_array_size(json_object_get(dc, "errors")), 0);
    json_decref(r.result);
}

TEST(e2e_cancel_and_bad_args)
{
    struct run r = { 0 };
    const char *bad_target[] = { "not-an-ip" };
    uint16_t net0[] = { 0 };
    struct sb_bacdisc_args bad[] = {
        { .targets = bad_target, .ntargets = 1 },
        { .broadcast = false },
        { .broadcast = true, .has_limits = true, .low = 10, .high = 5 },
        { .networks = net0, .nnetworks = 1 },
        { .range = "10.0.0.0-10.0.9.0" },
    };
    struct sb_bac_stack_cfg sc = { .bind_ip = "127.0.0.1", .port = PORT_DISC,
                                   .bcast_ip = "127.255.255.255" };
    struct sb_bacdisc *d = NULL;
    char err[160];

    REQUIRE(uv_loop_init(&r.loop) == 0);
    REQUIRE(sb_bac_stack_new(&r.loop, &sc, NULL, &r.st, err, sizeof(err)) == 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bad[i].loop = &r.loop;
        err[0] = 0;
        CHECK_EQ(sb_bacdisc_start(r.st, &bad[i], run_done, &r, &d, err, sizeof(err)), SB_EINVAL);
        CHECK(err[0] != 0);
    }
    sb_bac_stack_close(r.st);
    uv_run(&r.loop, UV_RUN_DEFAULT);

    /* cancel: done runs once, from the loop, with SB_ECLOSED and a result */
    char range[64];
    snprintf(range, sizeof(range), "127.0.0.1-127.0.0.3:%u", (unsigned)PORT_NOBODY2);
    struct sb_bacdisc_args a = { .range = range, .wait_ms = 5000 };
    r.cancel_ms = 100;
    REQUIRE(run_disc(&r, &a, 0) == 0);
    CHECK_EQ(r.done_calls, 1);
    CHECK_EQ(r.rc, SB_ECLOSED);
    REQUIRE(r.result != NULL);
    CHECK(json_is_false(json_object_get(r.result, "complete")));
    CHECK_EQ(uv_loop_close(&r.loop), 0);
    json_decref(r.result);
}

/* ---------- the command line ---------- */

/* Device A on a loop of its own, in a thread, while the CLI runs its own
 * loop in the test's thread. */
struct devthread {
    uv_loop_t loop;
    uv_async_t stop;
    struct fake a;
    pthread_t th;
};

static void dt_stop(uv_async_t *h)
{
    struct devthread *t = h->data;

    fake_close(&t->a);
    uv_close((uv_handle_t *)h, NULL);
}

static void *dt_main(void *arg)
{
    struct devthread *t = arg;

    uv_run(&t->loop, UV_RUN_DEFAULT);
    return NULL;
}

static int cli(const char *out, ...)
{
    char *argv[32] = { "discover" };
    int argc = 1;
    va_list ap;

    va_start(ap, out);
    for (const char *a; argc < 28 && (a = va_arg(ap, const char *));)
        argv[argc++] = (char *)a;
    va_end(ap);
    if (out) {
        argv[argc++] = "--output";
        argv[argc++] = (char *)out;
    }
    return sb_bacdisc_cli(argc, argv);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = calloc(1, 1 << 20);
    size_t n = f && b ? fread(b, 1, (1 << 20) - 1, f) : 0;

    if (f)
        fclose(f);
    (void)n;
    return b;
}

TEST(cli)
{
    struct devthread t = { .a = { .answer_whois = true } };
    char path[] = "/tmp/sb-bacdisc-XXXXXX";
    json_t *r, *dev;
    json_error_t je;
    char *txt;
    int fd;

    /* usage errors: status 2, nothing run */
    CHECK_EQ(cli(NULL, "--wait-ms", "abc", NULL), 2);
    CHECK_EQ(cli(NULL, "--wait-ms", "700000", NULL), 2);
    CHECK_EQ(cli(NULL, "--bogus", NULL), 2);
    CHECK_EQ(cli(NULL, "--low", "5", NULL), 2);
    CHECK_EQ(cli(NULL, "--low", "9", "--high", "5", NULL), 2);
    CHECK_EQ(cli(NULL, "--format", "xml", NULL), 2);
    CHECK_EQ(cli(NULL, "--range", "10.0.0.9-1", NULL), 2);
    CHECK_EQ(cli(NULL, "--target", "300.1.1.1", NULL), 2);
    CHECK_EQ(cli(NULL, "--network", "0", NULL), 2);
    CHECK_EQ(cli(NULL, "--target", NULL), 2);
    CHECK_EQ(cli(NULL, "stray", NULL), 2);
    /* a socket that cannot be had: status 1 */
    CHECK_EQ(cli(NULL, "--bind", "192.0.2.1:47906", "--target", addr(1), NULL), 1);

    REQUIRE((fd = mkstemp(path)) >= 0);
    close(fd);
    REQUIRE(uv_loop_init(&t.loop) == 0);
    REQUIRE(fake_open(&t.a, &t.loop, PORT_A, 1001, "AHU-1 UC600", "Tracer UC600") == 0);
    REQUIRE(fill_ahu(&t.a) == 0);
    uv_async_init(&t.loop, &t.stop, dt_stop);
    t.stop.data = &t;
    REQUIRE(pthread_create(&t.th, NULL, dt_main, &t) == 0);

    CHECK_EQ(cli(path, "--bind", addr(6), "--target", addr(1), "--wait-ms",
                 "200", "--timeout-ms", "400", NULL), 0);
    txt = slurp(path);
    r = json_loads(txt ? txt : "", 0, &je);
    free(txt);
    CHECK(r != NULL);
    dev = find_dev(r, 1001);
    CHECK(dev != NULL);
    CHECK_EQ(json_array_size(json_object_get(dev, "points")), N_AHU);
    CHECK_STR(js(find_point(dev, "analog-input:1"), "brick"), "Zone_Air_Temperature_Sensor");
    json_decref(r);

    CHECK_EQ(cli(path, "--bind", addr(6), "--target", addr(1), "--wait-ms",
                 "200", "--timeout-ms", "400", "--format", "table", NULL), 0);
    txt = slurp(path);
    char head[96];
    snprintf(head, sizeof(head), "device 1001  \"AHU-1 UC600\"  %s", addr(1));
    CHECK(txt && strstr(txt, head));
    CHECK(txt && strstr(txt, "Effective_Zone_Air_Temperature_Setpoint"));
    CHECK(txt && strstr(txt, "1 device(s), 27 point(s)"));
    free(txt);

    /* --devices-only: no object list read */
    CHECK_EQ(cli(path, "--bind", addr(6), "--target", addr(1), "--wait-ms",
                 "200", "--devices-only", NULL), 0);
    txt = slurp(path);
    r = json_loads(txt ? txt : "", 0, &je);
    free(txt);
    dev = find_dev(r, 1001);
    CHECK(dev && json_array_size(json_object_get(dev, "points")) == 0);
    CHECK_STR(js(dev, "name"), "AHU-1 UC600");
    json_decref(r);

    uv_async_send(&t.stop);
    pthread_join(t.th, NULL);
    CHECK_EQ(uv_loop_close(&t.loop), 0);
    unlink(path);
}

int main(void)
{
    TAP_START();
    pick_ports();
    printf("# ports %u..%u\n", (unsigned)port_base, (unsigned)(port_base + NPORTS - 1));
    RUN(obj_names);
    RUN(obj_parse);
    RUN(props);
    RUN(units_known);
    RUN(units_tables);
    RUN(brick_names);
    RUN(brick_tags);
    RUN(brick_confidence);
    RUN(ranges);
    RUN(e2e_segmented_object_list);
    RUN(e2e_quirky_devices);
    RUN(e2e_cancel_and_bad_args);
    RUN(cli);
    TAP_END();
}

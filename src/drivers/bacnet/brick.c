/*
 * brick.c - a Brick class, a site-document kind and Haystack tags for a
 * discovered BACnet object (sb_bacn_propose, names.h).
 *
 * How it decides, in three table-driven steps (docs/internals/
 * bacnet-discovery.md has the same in prose, with examples):
 *  1. words: the object name is split into lower-case words at blanks,
 *     punctuation, camelCase and letter/digit boundaries ("SpaceTemp",
 *     "ZN-T", "AHU1_SAT"); each word found in lexicon[] adds concepts
 *     (C_SUPPLY, C_AIR, C_TEMP, ...).  Abbreviations carry several
 *     ("sat" = supply air temp, "chwst" = chilled water supply temp).
 *  2. evidence from the object: the BACnet units add the quantity they
 *     measure (°F adds C_TEMP) and the object type gives the role
 *     (outputs command, inputs sense).  Two ambiguous words are settled
 *     here: "sp" is static pressure when the units are a pressure and no
 *     other word says setpoint, else setpoint; "rh" next to a valve or a
 *     coil is reheat, else relative humidity.
 *  3. rules: the first row of rules[] whose required concepts are all
 *     present, whose forbidden ones are absent and whose object families
 *     match wins; it names the class, kind and tags and a base
 *     confidence, which is then adjusted: + when the units agree with the
 *     kind, - when the quantity came only from the units or only from the
 *     description, - and the kind replaced when the units contradict it.
 *
 * Class names follow the Brick 1.2 spelling that sbems site documents use
 * (Zone_Air_Heating_Temperature_Setpoint, Chilled_Water_Supply_Temperature_
 * Sensor); Brick 1.3 keeps them as deprecated aliases of the new names.
 * Tags are Project Haystack 3 markers in the same style as
 * examples/office-site.json ("discharge air temp sensor").
 */
#include <ctype.h>
#include <string.h>

#include "drivers/bacnet/names.h"

/* Concepts a word can carry. */
enum {
    C_AIR = 1, C_WATER, C_CHW, C_HW, C_CW, C_ELEC,
    C_ZONE, C_SUPPLY, C_RETURN, C_MIXED, C_OUTSIDE, C_DISCHARGE, C_EXHAUST,
    C_DUCT, C_BUILDING, C_ENTERING, C_LEAVING,
    C_TEMP, C_HUMIDITY, C_CO2, C_PRESSURE, C_STATIC, C_DIFF, C_FLOW, C_POWER,
    C_ENERGY, C_SPEED, C_POSITION, C_OCC, C_CURRENT, C_VOLTAGE, C_FREQ,
    C_FAN, C_DAMPER, C_VALVE, C_PUMP, C_COMPRESSOR, C_CHILLER, C_BOILER, C_FILTER,
    C_COIL, C_VFD,
    C_SP, C_SPWORD, C_CMD, C_STATUS, C_ALARM, C_FAULT, C_ENABLE, C_STARTSTOP, C_RUN,
    C_EFFECTIVE, C_COOL, C_HEAT, C_MODE, C_OVERRIDE, C_SPAMBIG, C_RHAMBIG, C_HOT,
    C__COUNT
};
_Static_assert(C__COUNT <= 64, "concepts must fit a uint64_t mask");
#define B(c) (1ull << (c))

/* Concepts that name a measured quantity (for the "units only" check). */
#define QUANTITY (B(C_TEMP) | B(C_HUMIDITY) | B(C_CO2) | B(C_PRESSURE) | B(C_FLOW) | \
                  B(C_POWER) | B(C_ENERGY) | B(C_SPEED) | B(C_POSITION) | B(C_CURRENT) | \
                  B(C_VOLTAGE) | B(C_FREQ))
#define LOCATION (B(C_ZONE) | B(C_SUPPLY) | B(C_RETURN) | B(C_MIXED) | B(C_OUTSIDE) | \
                  B(C_DISCHARGE) | B(C_EXHAUST) | B(C_DUCT) | B(C_BUILDING))
#define WATERS (B(C_WATER) | B(C_CHW) | B(C_HW) | B(C_CW))

/* One word of the lexicon and what it means. */
struct word {
    const char *w;
    uint64_t c;
};

static const struct word lexicon[] = {
    /* whole abbreviations (BAS point-naming conventions: ASHRAE Guideline 36
     * terms, Trane/JCI/Siemens point lists) */
    { "sat", B(C_SUPPLY) | B(C_AIR) | B(C_TEMP) },
    { "rat", B(C_RETURN) | B(C_AIR) | B(C_TEMP) },
    { "mat", B(C_MIXED) | B(C_AIR) | B(C_TEMP) },
    { "oat", B(C_OUTSIDE) | B(C_AIR) | B(C_TEMP) },
    { "osat", B(C_OUTSIDE) | B(C_AIR) | B(C_TEMP) },
    { "dat", B(C_DISCHARGE) | B(C_AIR) | B(C_TEMP) },
    { "znt", B(C_ZONE) | B(C_AIR) | B(C_TEMP) },
    { "zat", B(C_ZONE) | B(C_AIR) | B(C_TEMP) },
    { "rmt", B(C_ZONE) | B(C_AIR) | B(C_TEMP) },
    { "chwst", B(C_CHW) | B(C_WATER) | B(C_SUPPLY) | B(C_TEMP) },
    { "chwrt", B(C_CHW) | B(C_WATER) | B(C_RETURN) | B(C_TEMP) },
    { "hwst", B(C_HW) | B(C_WATER) | B(C_SUPPLY) | B(C_TEMP) },
    { "hwrt", B(C_HW) | B(C_WATER) | B(C_RETURN) | B(C_TEMP) },
    { "cwst", B(C_CW) | B(C_WATER) | B(C_SUPPLY) | B(C_TEMP) },
    { "cwrt", B(C_CW) | B(C_WATER) | B(C_RETURN) | B(C_TEMP) },
    { "chws", B(C_CHW) | B(C_WATER) | B(C_SUPPLY) },
    { "chwr", B(C_CHW) | B(C_WATER) | B(C_RETURN) },
    { "hws", B(C_HW) | B(C_WATER) | B(C_SUPPLY) },
    { "hwr", B(C_HW) | B(C_WATER) | B(C_RETURN) },
    { "cws", B(C_CW) | B(C_WATER) | B(C_SUPPLY) },
    { "cwr", B(C_CW) | B(C_WATER) | B(C_RETURN) },
    { "dsp", B(C_DUCT) | B(C_STATIC) | B(C_PRESSURE) },
    { "chwp", B(C_CHW) | B(C_WATER) | B(C_PUMP) },
    { "hwp", B(C_HW) | B(C_WATER) | B(C_PUMP) },
    { "cwp", B(C_CW) | B(C_WATER) | B(C_PUMP) },
    { "sf", B(C_SUPPLY) | B(C_FAN) },
    { "rf", B(C_RETURN) | B(C_FAN) },
    { "ef", B(C_EXHAUST) | B(C_FAN) },
    { "sa", B(C_SUPPLY) | B(C_AIR) },
    { "ra", B(C_RETURN) | B(C_AIR) },
    { "ma", B(C_MIXED) | B(C_AIR) },
    { "oa", B(C_OUTSIDE) | B(C_AIR) },
    { "da", B(C_DISCHARGE) | B(C_AIR) },
    { "ea", B(C_EXHAUST) | B(C_AIR) },
    { "airflow", B(C_AIR) | B(C_FLOW) },
    { "cfm", B(C_AIR) | B(C_FLOW) },
    { "gpm", B(C_WATER) | B(C_FLOW) },
    { "kwh", B(C_ENERGY) | B(C_ELEC) },
    { "kwhr", B(C_ENERGY) | B(C_ELEC) },
    { "kw", B(C_POWER) | B(C_ELEC) },
    { "co2", B(C_CO2) },
    { "ss", B(C_STARTSTOP) | B(C_CMD) },
    /* substances */
    { "air", B(C_AIR) },
    { "water", B(C_WATER) }, { "wtr", B(C_WATER) },
    { "chilled", B(C_CHW) }, { "chw", B(C_CHW) | B(C_WATER) }, { "hot", B(C_HOT) },
    { "hw", B(C_HW) | B(C_WATER) }, { "hhw", B(C_HW) | B(C_WATER) },
    { "condenser", B(C_CW) }, { "cond", B(C_CW) }, { "cw", B(C_CW) | B(C_WATER) },
    { "cdw", B(C_CW) | B(C_WATER) },
    { "elec", B(C_ELEC) }, { "electric", B(C_ELEC) }, { "electrical", B(C_ELEC) },
    /* locations */
    { "zone", B(C_ZONE) }, { "zn", B(C_ZONE) }, { "space", B(C_ZONE) },
    { "spc", B(C_ZONE) }, { "room", B(C_ZONE) }, { "rm", B(C_ZONE) },
    { "supply", B(C_SUPPLY) }, { "sup", B(C_SUPPLY) }, { "sply", B(C_SUPPLY) },
    { "return", B(C_RETURN) }, { "ret", B(C_RETURN) }, { "rtn", B(C_RETURN) },
    { "mixed", B(C_MIXED) }, { "mix", B(C_MIXED) }, { "mxd", B(C_MIXED) },
    { "outdoor", B(C_OUTSIDE) }, { "outside", B(C_OUTSIDE) }, { "ambient", B(C_OUTSIDE) },
    { "osa", B(C_OUTSIDE) | B(C_AIR) },
    { "discharge", B(C_DISCHARGE) }, { "disch", B(C_DISCHARGE) }, { "dis", B(C_DISCHARGE) },
    { "exhaust", B(C_EXHAUST) }, { "exh", B(C_EXHAUST) }, { "relief", B(C_EXHAUST) },
    { "duct", B(C_DUCT) }, { "building", B(C_BUILDING) }, { "bldg", B(C_BUILDING) },
    { "entering", B(C_ENTERING) }, { "ent", B(C_ENTERING) },
    { "leaving", B(C_LEAVING) }, { "lvg", B(C_LEAVING) },
    /* quantities */
    { "temperature", B(C_TEMP) }, { "temp", B(C_TEMP) }, { "tmp", B(C_TEMP) },
    { "t", B(C_TEMP) },
    { "humidity", B(C_HUMIDITY) }, { "humid", B(C_HUMIDITY) }, { "hum", B(C_HUMIDITY) },
    { "rh", B(C_RHAMBIG) },
    { "carbon", B(C_CO2) },
    { "pressure", B(C_PRESSURE) }, { "press", B(C_PRESSURE) }, { "pres", B(C_PRESSURE) },
    { "prs", B(C_PRESSURE) },
    { "static", B(C_STATIC) },
    { "differential", B(C_DIFF) }, { "diff", B(C_DIFF) },
    { "dp", B(C_DIFF) | B(C_PRESSURE) }, { "dpt", B(C_DIFF) | B(C_PRESSURE) },
    { "flow", B(C_FLOW) }, { "flw", B(C_FLOW) },
    { "power", B(C_POWER) }, { "pwr", B(C_POWER) }, { "demand", B(C_POWER) },
    { "energy", B(C_ENERGY) }, { "consumption", B(C_ENERGY) }, { "usage", B(C_ENERGY) },
    { "speed", B(C_SPEED) }, { "spd", B(C_SPEED) },
    { "frequency", B(C_FREQ) }, { "freq", B(C_FREQ) }, { "hz", B(C_FREQ) },
    { "position", B(C_POSITION) }, { "pos", B(C_POSITION) }, { "posn", B(C_POSITION) },
    { "occupancy", B(C_OCC) }, { "occupied", B(C_OCC) }, { "occ", B(C_OCC) },
    { "unoccupied", B(C_OCC) }, { "unocc", B(C_OCC) },
    { "current", B(C_CURRENT) }, { "amps", B(C_CURRENT) }, { "amp", B(C_CURRENT) },
    { "voltage", B(C_VOLTAGE) }, { "volts", B(C_VOLTAGE) }, { "volt", B(C_VOLTAGE) },
    /* equipment */
    { "fan", B(C_FAN) }, { "blower", B(C_FAN) },
    { "damper", B(C_DAMPER) }, { "dmpr", B(C_DAMPER) }, { "dpr", B(C_DAMPER) },
    { "dmp", B(C_DAMPER) },
    { "valve", B(C_VALVE) }, { "vlv", B(C_VALVE) },
    { "pump", B(C_PUMP) }, { "pmp", B(C_PUMP) },
    { "compressor", B(C_COMPRESSOR) }, { "comp", B(C_COMPRESSOR) },
    { "compr", B(C_COMPRESSOR) }, { "cmp", B(C_COMPRESSOR) },
    { "chiller", B(C_CHILLER) }, { "chlr", B(C_CHILLER) }, { "ch", B(C_CHILLER) },
    { "boiler", B(C_BOILER) }, { "blr", B(C_BOILER) },
    { "filter", B(C_FILTER) }, { "fltr", B(C_FILTER) },
    { "coil", B(C_COIL) },
    { "vfd", B(C_VFD) | B(C_SPEED) }, { "drive", B(C_VFD) },
    /* roles */
    { "setpoint", B(C_SP) | B(C_SPWORD) }, { "stpt", B(C_SP) | B(C_SPWORD) },
    { "setpt", B(C_SP) | B(C_SPWORD) }, { "set", B(C_SP) | B(C_SPWORD) },
    { "target", B(C_SP) | B(C_SPWORD) }, { "sp", B(C_SPAMBIG) },
    { "command", B(C_CMD) }, { "cmd", B(C_CMD) }, { "cmnd", B(C_CMD) },
    { "output", B(C_CMD) },
    { "start", B(C_STARTSTOP) }, { "stop", B(C_STARTSTOP) },
    { "status", B(C_STATUS) }, { "sts", B(C_STATUS) }, { "stat", B(C_STATUS) },
    { "proof", B(C_STATUS) }, { "prf", B(C_STATUS) }, { "feedback", B(C_STATUS) },
    { "running", B(C_RUN) | B(C_STATUS) }, { "run", B(C_RUN) },
    { "alarm", B(C_ALARM) }, { "alm", B(C_ALARM) }, { "trip", B(C_ALARM) },
    { "fault", B(C_FAULT) }, { "flt", B(C_FAULT) }, { "fail", B(C_FAULT) },
    { "failure", B(C_FAULT) },
    { "enable", B(C_ENABLE) }, { "enabled", B(C_ENABLE) }, { "ena", B(C_ENABLE) },
    { "enbl", B(C_ENABLE) },
    { "active", B(C_EFFECTIVE) }, { "act", B(C_EFFECTIVE) }, { "effective", B(C_EFFECTIVE) },
    { "eff", B(C_EFFECTIVE) },
    { "cooling", B(C_COOL) }, { "cool", B(C_COOL) }, { "clg", B(C_COOL) },
    { "heating", B(C_HEAT) }, { "heat", B(C_HEAT) }, { "htg", B(C_HEAT) },
    { "reheat", B(C_HEAT) }, { "rht", B(C_HEAT) }, { "preheat", B(C_HEAT) },
    { "mode", B(C_MODE) }, { "override", B(C_OVERRIDE) }, { "ovrd", B(C_OVERRIDE) },
};

/* Object families and directions, from the BACnet object type. */
enum { F_ANALOG = 1, F_BINARY = 2, F_MULTI = 4 };
enum { D_IN = 1, D_OUT = 2, D_VAL = 4 };

static void family(uint16_t t, uint8_t *fam, uint8_t *dir)
{
    static const struct { uint16_t t; uint8_t f, d; } map[] = {
        { 0, F_ANALOG, D_IN }, { 1, F_ANALOG, D_OUT }, { 2, F_ANALOG, D_VAL },
        { 3, F_BINARY, D_IN }, { 4, F_BINARY, D_OUT }, { 5, F_BINARY, D_VAL },
        { 13, F_MULTI, D_IN }, { 14, F_MULTI, D_OUT }, { 19, F_MULTI, D_VAL },
        { 23, F_ANALOG, D_IN }, { 24, F_ANALOG, D_IN },   /* accumulator, pulse-converter */
        { 45, F_ANALOG, D_VAL }, { 46, F_ANALOG, D_VAL }, { 48, F_ANALOG, D_VAL },
    };
    *fam = 0;
    *dir = 0;
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].t == t) {
            *fam = map[i].f;
            *dir = map[i].d;
        }
}

#define K(x) SB_BACN_K_##x
#define T(...) { __VA_ARGS__, NULL }

/* A rule: all of req, none of forb, the object among fam/dir (0 = any). */
struct rule {
    const char *name;              /* for docs and tests */
    uint64_t req, forb;
    uint8_t fam, dir;
    const char *brick;
    enum sb_bacn_kind kind;
    const char *tags[SB_BACN_TAGS_MAX];
    double conf;                   /* base confidence */
    bool loc;                      /* prepend the air-side location tag found
                                      in the words ("discharge fan ...") */
};

#define SPT (B(C_SP) | B(C_TEMP))
#define NOSP B(C_SP)
#define AN F_ANALOG
#define BIN F_BINARY
#define CMDDIR (D_OUT | D_VAL)

/* First match wins: specific rows before general ones. */
static const struct rule rules[] = {
    /* ---- temperature setpoints ---- */
    { "zone-temp-sp-effective", SPT | B(C_ZONE) | B(C_EFFECTIVE), 0, 0, 0,
      "Effective_Zone_Air_Temperature_Setpoint", K(SETPOINT),
      T("zone", "air", "temp", "effective", "sp"), 0.9, false },
    { "zone-temp-sp-cooling", SPT | B(C_ZONE) | B(C_COOL), 0, 0, 0,
      "Zone_Air_Cooling_Temperature_Setpoint", K(SETPOINT),
      T("zone", "air", "temp", "cooling", "sp"), 0.9, false },
    { "zone-temp-sp-heating", SPT | B(C_ZONE) | B(C_HEAT), 0, 0, 0,
      "Zone_Air_Heating_Temperature_Setpoint", K(SETPOINT),
      T("zone", "air", "temp", "heating", "sp"), 0.9, false },
    { "zone-temp-sp", SPT | B(C_ZONE), 0, 0, 0,
      "Zone_Air_Temperature_Setpoint", K(SETPOINT), T("zone", "air", "temp", "sp"), 0.85, false },
    { "chw-supply-temp-sp", SPT | B(C_CHW), B(C_RETURN), 0, 0,
      "Chilled_Water_Supply_Temperature_Setpoint", K(SETPOINT),
      T("chilled", "water", "leaving", "temp", "sp"), 0.85, false },
    { "hw-supply-temp-sp", SPT | B(C_HW), B(C_RETURN), 0, 0,
      "Hot_Water_Supply_Temperature_Setpoint", K(SETPOINT),
      T("hot", "water", "leaving", "temp", "sp"), 0.85, false },
    { "discharge-air-temp-sp", SPT | B(C_DISCHARGE), WATERS, 0, 0,
      "Discharge_Air_Temperature_Setpoint", K(SETPOINT),
      T("discharge", "air", "temp", "sp"), 0.9, false },
    { "supply-air-temp-sp", SPT | B(C_SUPPLY), WATERS, 0, 0,
      "Supply_Air_Temperature_Setpoint", K(SETPOINT), T("discharge", "air", "temp", "sp"), 0.9, false },
    { "mixed-air-temp-sp", SPT | B(C_MIXED), WATERS, 0, 0,
      "Mixed_Air_Temperature_Setpoint", K(SETPOINT), T("mixed", "air", "temp", "sp"), 0.85, false },
    /* "Occupied Cooling Setpoint" on a VAV or thermostat: the zone's */
    { "cooling-temp-sp", SPT | B(C_COOL), WATERS | LOCATION, 0, 0,
      "Zone_Air_Cooling_Temperature_Setpoint", K(SETPOINT),
      T("zone", "air", "temp", "cooling", "sp"), 0.65, false },
    { "heating-temp-sp", SPT | B(C_HEAT), WATERS | LOCATION, 0, 0,
      "Zone_Air_Heating_Temperature_Setpoint", K(SETPOINT),
      T("zone", "air", "temp", "heating", "sp"), 0.65, false },
    { "water-temp-sp", SPT | B(C_WATER), 0, 0, 0,
      "Water_Temperature_Setpoint", K(SETPOINT), T("water", "temp", "sp"), 0.7, false },
    { "temp-sp", SPT, 0, 0, 0,
      "Temperature_Setpoint", K(SETPOINT), T("temp", "sp"), 0.6, false },
    /* ---- other setpoints ---- */
    { "static-pressure-sp", B(C_SP) | B(C_PRESSURE) | B(C_STATIC), B(C_BUILDING) | WATERS, 0, 0,
      "Supply_Air_Static_Pressure_Setpoint", K(SETPOINT),
      T("discharge", "air", "pressure", "sp"), 0.85, false },
    { "duct-pressure-sp", B(C_SP) | B(C_PRESSURE) | B(C_DUCT), 0, 0, 0,
      "Supply_Air_Static_Pressure_Setpoint", K(SETPOINT),
      T("discharge", "air", "pressure", "sp"), 0.85, false },
    { "building-pressure-sp", B(C_SP) | B(C_PRESSURE) | B(C_BUILDING), 0, 0, 0,
      "Building_Air_Static_Pressure_Setpoint", K(SETPOINT),
      T("building", "air", "pressure", "sp"), 0.8, false },
    { "chw-dp-sp", B(C_SP) | B(C_PRESSURE) | B(C_CHW), 0, 0, 0,
      "Chilled_Water_Differential_Pressure_Setpoint", K(SETPOINT),
      T("chilled", "water", "pressure", "sp"), 0.8, false },
    { "hw-dp-sp", B(C_SP) | B(C_PRESSURE) | B(C_HW), 0, 0, 0,
      "Hot_Water_Differential_Pressure_Setpoint", K(SETPOINT),
      T("hot", "water", "pressure", "sp"), 0.8, false },
    { "pressure-sp", B(C_SP) | B(C_PRESSURE), 0, 0, 0,
      "Pressure_Setpoint", K(SETPOINT), T("pressure", "sp"), 0.6, false },
    { "supply-air-flow-sp", B(C_SP) | B(C_FLOW) | B(C_SUPPLY), WATERS, 0, 0,
      "Supply_Air_Flow_Setpoint", K(SETPOINT), T("discharge", "air", "flow", "sp"), 0.85, false },
    { "outside-air-flow-sp", B(C_SP) | B(C_FLOW) | B(C_OUTSIDE), WATERS, 0, 0,
      "Outside_Air_Flow_Setpoint", K(SETPOINT), T("outside", "air", "flow", "sp"), 0.85, false },
    { "water-flow-sp", B(C_SP) | B(C_FLOW) | B(C_WATER), 0, 0, 0,
      "Water_Flow_Setpoint", K(SETPOINT), T("water", "flow", "sp"), 0.75, false },
    /* a VAV's "Airflow Setpoint" is the discharge air flow's */
    { "air-flow-sp", B(C_SP) | B(C_FLOW), WATERS, 0, 0,
      "Discharge_Air_Flow_Setpoint", K(SETPOINT), T("discharge", "air", "flow", "sp"), 0.75, false },
    { "zone-humidity-sp", B(C_SP) | B(C_HUMIDITY) | B(C_ZONE), 0, 0, 0,
      "Zone_Air_Humidity_Setpoint", K(SETPOINT), T("zone", "air", "humidity", "sp"), 0.85, false },
    { "humidity-sp", B(C_SP) | B(C_HUMIDITY), 0, 0, 0,
      "Humidity_Setpoint", K(SETPOINT), T("air", "humidity", "sp"), 0.7, false },
    { "co2-sp", B(C_SP) | B(C_CO2), 0, 0, 0,
      "CO2_Setpoint", K(SETPOINT), T("air", "co2", "sp"), 0.8, false },
    { "damper-position-sp", B(C_SP) | B(C_DAMPER), 0, 0, 0,
      "Damper_Position_Setpoint", K(SETPOINT), T("damper", "sp"), 0.7, false },
    { "setpoint", B(C_SP), 0, 0, 0, "Setpoint", K(SETPOINT), T("sp"), 0.5, false },
    /* ---- electrical (before equipment: "Chiller kW", "Fan kWh") ---- */
    { "power", B(C_POWER), 0, AN, 0,
      "Electric_Power_Sensor", K(POWER), T("elec", "power", "sensor"), 0.85, false },
    { "energy", B(C_ENERGY), 0, AN, 0,
      "Electric_Energy_Sensor", K(ENERGY), T("elec", "energy", "sensor"), 0.8, false },
    { "current", B(C_CURRENT), 0, AN, 0,
      "Current_Sensor", K(OTHER), T("elec", "current", "sensor"), 0.8, false },
    { "voltage", B(C_VOLTAGE), 0, AN, 0,
      "Voltage_Sensor", K(OTHER), T("elec", "volt", "sensor"), 0.8, false },
    /* ---- dampers and valves ---- */
    { "damper-status", B(C_DAMPER), 0, BIN, D_IN,
      "Damper_Open_Close_Status", K(STATUS), T("damper", "sensor"), 0.7, false },
    { "damper-position-sensor", B(C_DAMPER), 0, AN, D_IN,
      "Damper_Position_Sensor", K(POSITION), T("air", "damper", "sensor"), 0.8, true },
    { "outside-damper-cmd", B(C_DAMPER) | B(C_OUTSIDE), 0, AN, 0,
      "Damper_Position_Command", K(POSITION), T("outside", "air", "damper", "cmd"), 0.85, false },
    { "return-damper-cmd", B(C_DAMPER) | B(C_RETURN), 0, AN, 0,
      "Damper_Position_Command", K(POSITION), T("return", "air", "damper", "cmd"), 0.85, false },
    { "exhaust-damper-cmd", B(C_DAMPER) | B(C_EXHAUST), 0, AN, 0,
      "Damper_Position_Command", K(POSITION), T("exhaust", "air", "damper", "cmd"), 0.85, false },
    { "damper-cmd", B(C_DAMPER), 0, AN, 0,
      "Damper_Position_Command", K(POSITION), T("air", "damper", "cmd"), 0.8, true },
    { "damper-binary-cmd", B(C_DAMPER), 0, BIN, 0,
      "Damper_Command", K(COMMAND), T("damper", "cmd"), 0.65, false },
    { "valve-status", B(C_VALVE), 0, BIN, D_IN,
      "Valve_Open_Close_Status", K(STATUS), T("valve", "sensor"), 0.7, false },
    { "valve-position-sensor", B(C_VALVE), B(C_CMD), AN, D_IN,
      "Valve_Position_Sensor", K(POSITION), T("valve", "sensor"), 0.75, false },
    { "cooling-valve-cmd", B(C_VALVE) | B(C_COOL), 0, AN, 0,
      "Valve_Position_Command", K(POSITION), T("cool", "valve", "cmd"), 0.85, false },
    { "chw-valve-cmd", B(C_VALVE) | B(C_CHW), 0, AN, 0,
      "Valve_Position_Command", K(POSITION), T("cool", "chilled", "water", "valve", "cmd"), 0.85, false },
    { "heating-valve-cmd", B(C_VALVE) | B(C_HEAT), 0, AN, 0,
      "Valve_Position_Command", K(POSITION), T("heat", "valve", "cmd"), 0.85, false },
    { "hw-valve-cmd", B(C_VALVE) | B(C_HW), 0, AN, 0,
      "Valve_Position_Command", K(POSITION), T("heat", "hot", "water", "valve", "cmd"), 0.85, false },
    { "valve-cmd", B(C_VALVE), 0, AN, 0,
      "Valve_Position_Command", K(POSITION), T("valve", "cmd"), 0.75, false },
    { "valve-binary-cmd", B(C_VALVE), 0, BIN, 0,
      "Valve_Command", K(COMMAND), T("valve", "cmd"), 0.65, false },
    /* ---- fans, pumps, compressors, plant ---- */
    { "fan-speed-cmd", B(C_FAN) | B(C_SPEED), 0, AN, CMDDIR,
      "Fan_Speed_Command", K(POSITION), T("fan", "speed", "cmd"), 0.85, true },
    { "fan-speed-sensor", B(C_FAN) | B(C_SPEED), 0, AN, D_IN,
      "Speed_Sensor", K(POSITION), T("fan", "speed", "sensor"), 0.75, true },
    { "fan-vfd-cmd", B(C_FAN) | B(C_VFD), 0, AN, CMDDIR,
      "Fan_Speed_Command", K(POSITION), T("fan", "speed", "cmd"), 0.8, true },
    { "fan-status", B(C_FAN) | B(C_STATUS), B(C_CMD), BIN | F_MULTI, 0,
      "Fan_Status", K(STATUS), T("fan", "run", "sensor"), 0.9, true },
    { "fan-status-in", B(C_FAN), B(C_CMD) | B(C_ENABLE), BIN, D_IN,
      "Fan_Status", K(STATUS), T("fan", "run", "sensor"), 0.8, true },
    { "fan-enable", B(C_FAN) | B(C_ENABLE), 0, BIN, CMDDIR,
      "Enable_Command", K(COMMAND), T("fan", "enable", "cmd"), 0.8, true },
    { "fan-start-stop", B(C_FAN), 0, BIN, CMDDIR,
      "Start_Stop_Command", K(COMMAND), T("fan", "run", "cmd"), 0.8, true },
    { "pump-speed-cmd", B(C_PUMP) | B(C_SPEED), 0, AN, CMDDIR,
      "Pump_Command", K(POSITION), T("pump", "speed", "cmd"), 0.75, false },
    { "pump-status", B(C_PUMP), B(C_CMD) | B(C_ENABLE), BIN, D_IN,
      "Pump_Start_Stop_Status", K(STATUS), T("pump", "run", "sensor"), 0.8, false },
    { "pump-status-word", B(C_PUMP) | B(C_STATUS), B(C_CMD), BIN, 0,
      "Pump_Start_Stop_Status", K(STATUS), T("pump", "run", "sensor"), 0.8, false },
    { "pump-start-stop", B(C_PUMP), 0, BIN, CMDDIR,
      "Start_Stop_Command", K(COMMAND), T("pump", "run", "cmd"), 0.75, false },
    { "compressor-status", B(C_COMPRESSOR), B(C_CMD) | B(C_ENABLE), BIN | F_MULTI, D_IN,
      "On_Off_Status", K(STATUS), T("compressor", "run", "sensor"), 0.8, false },
    { "compressor-status-word", B(C_COMPRESSOR) | B(C_STATUS), B(C_CMD), BIN | F_MULTI, 0,
      "On_Off_Status", K(STATUS), T("compressor", "run", "sensor"), 0.8, false },
    { "compressor-enable", B(C_COMPRESSOR) | B(C_ENABLE), 0, BIN, 0,
      "Enable_Command", K(COMMAND), T("compressor", "enable", "cmd"), 0.75, false },
    { "compressor-cmd", B(C_COMPRESSOR), 0, BIN, CMDDIR,
      "Start_Stop_Command", K(COMMAND), T("compressor", "run", "cmd"), 0.7, false },
    { "compressor-speed", B(C_COMPRESSOR) | B(C_SPEED), 0, AN, 0,
      "Speed_Sensor", K(POSITION), T("compressor", "speed", "sensor"), 0.6, false },
    { "plant-running", B(C_RUN) | B(C_STATUS), B(C_CMD), BIN | F_MULTI, 0,
      "On_Off_Status", K(STATUS), T("run", "sensor"), 0.75, false },
    { "plant-status", B(C_CHILLER) | B(C_STATUS), B(C_CMD), BIN | F_MULTI, 0,
      "On_Off_Status", K(STATUS), T("chiller", "run", "sensor"), 0.75, false },
    { "plant-status", B(C_BOILER) | B(C_STATUS), B(C_CMD), BIN | F_MULTI, 0,
      "On_Off_Status", K(STATUS), T("boiler", "run", "sensor"), 0.75, false },
    { "filter-status", B(C_FILTER), 0, BIN, 0,
      "Filter_Status", K(STATUS), T("filter", "sensor"), 0.8, false },
    /* ---- occupancy ---- */
    { "occupancy-cmd", B(C_OCC) | B(C_CMD), 0, 0, CMDDIR,
      "Occupancy_Command", K(COMMAND), T("occupied", "cmd"), 0.8, false },
    { "occupancy-status", B(C_OCC) | B(C_STATUS), 0, BIN | F_MULTI, 0,
      "Occupancy_Status", K(OCCUPANCY), T("occupied", "sensor"), 0.85, false },
    { "occupancy-mode", B(C_OCC) | B(C_MODE), 0, BIN | F_MULTI, 0,
      "Occupancy_Status", K(OCCUPANCY), T("occupied", "sensor"), 0.8, false },
    { "occupancy-sensor", B(C_OCC), 0, BIN | F_MULTI, D_IN,
      "Occupancy_Sensor", K(OCCUPANCY), T("occupied", "sensor"), 0.8, false },
    { "occupancy-value", B(C_OCC), 0, BIN | F_MULTI, 0,
      "Occupancy_Status", K(OCCUPANCY), T("occupied", "sensor"), 0.65, false },
    /* ---- temperatures ---- */
    { "zone-temp", B(C_TEMP) | B(C_ZONE), WATERS, 0, 0,
      "Zone_Air_Temperature_Sensor", K(TEMPERATURE), T("zone", "air", "temp", "sensor"), 0.9, false },
    { "discharge-air-temp", B(C_TEMP) | B(C_DISCHARGE), WATERS, 0, 0,
      "Discharge_Air_Temperature_Sensor", K(TEMPERATURE),
      T("discharge", "air", "temp", "sensor"), 0.9, false },
    { "chw-supply-temp", B(C_TEMP) | B(C_CHW), B(C_RETURN) | B(C_ENTERING), 0, 0,
      "Chilled_Water_Supply_Temperature_Sensor", K(TEMPERATURE),
      T("chilled", "water", "leaving", "temp", "sensor"), 0.85, false },
    { "chw-return-temp", B(C_TEMP) | B(C_CHW), 0, 0, 0,
      "Chilled_Water_Return_Temperature_Sensor", K(TEMPERATURE),
      T("chilled", "water", "entering", "temp", "sensor"), 0.85, false },
    { "hw-supply-temp", B(C_TEMP) | B(C_HW), B(C_RETURN) | B(C_ENTERING), 0, 0,
      "Hot_Water_Supply_Temperature_Sensor", K(TEMPERATURE),
      T("hot", "water", "leaving", "temp", "sensor"), 0.85, false },
    { "hw-return-temp", B(C_TEMP) | B(C_HW), 0, 0, 0,
      "Hot_Water_Return_Temperature_Sensor", K(TEMPERATURE),
      T("hot", "water", "entering", "temp", "sensor"), 0.85, false },
    { "cw-supply-temp", B(C_TEMP) | B(C_CW) | B(C_SUPPLY), 0, 0, 0,
      "Condenser_Water_Temperature_Sensor", K(TEMPERATURE),
      T("condenser", "water", "leaving", "temp", "sensor"), 0.8, false },
    { "cw-return-temp", B(C_TEMP) | B(C_CW), 0, 0, 0,
      "Condenser_Water_Temperature_Sensor", K(TEMPERATURE),
      T("condenser", "water", "entering", "temp", "sensor"), 0.75, false },
    { "supply-air-temp", B(C_TEMP) | B(C_SUPPLY), WATERS, 0, 0,
      "Supply_Air_Temperature_Sensor", K(TEMPERATURE),
      T("discharge", "air", "temp", "sensor"), 0.9, false },
    { "return-air-temp", B(C_TEMP) | B(C_RETURN), WATERS, 0, 0,
      "Return_Air_Temperature_Sensor", K(TEMPERATURE), T("return", "air", "temp", "sensor"), 0.9, false },
    { "mixed-air-temp", B(C_TEMP) | B(C_MIXED), WATERS, 0, 0,
      "Mixed_Air_Temperature_Sensor", K(TEMPERATURE), T("mixed", "air", "temp", "sensor"), 0.9, false },
    { "outside-air-temp", B(C_TEMP) | B(C_OUTSIDE), WATERS, 0, 0,
      "Outside_Air_Temperature_Sensor", K(TEMPERATURE),
      T("outside", "air", "temp", "sensor"), 0.9, false },
    { "exhaust-air-temp", B(C_TEMP) | B(C_EXHAUST), WATERS, 0, 0,
      "Exhaust_Air_Temperature_Sensor", K(TEMPERATURE),
      T("exhaust", "air", "temp", "sensor"), 0.85, false },
    { "water-temp", B(C_TEMP) | B(C_WATER), 0, 0, 0,
      "Water_Temperature_Sensor", K(TEMPERATURE), T("water", "temp", "sensor"), 0.7, false },
    { "air-temp", B(C_TEMP) | B(C_AIR), 0, 0, 0,
      "Air_Temperature_Sensor", K(TEMPERATURE), T("air", "temp", "sensor"), 0.65, false },
    { "temp", B(C_TEMP), 0, 0, 0,
      "Temperature_Sensor", K(TEMPERATURE), T("temp", "sensor"), 0.55, false },
    /* ---- humidity, CO2 ---- */
    { "zone-humidity", B(C_HUMIDITY) | B(C_ZONE), 0, 0, 0,
      "Zone_Air_Humidity_Sensor", K(HUMIDITY), T("zone", "air", "humidity", "sensor"), 0.9, false },
    { "outside-humidity", B(C_HUMIDITY) | B(C_OUTSIDE), 0, 0, 0,
      "Outside_Air_Humidity_Sensor", K(HUMIDITY), T("outside", "air", "humidity", "sensor"), 0.9, false },
    { "return-humidity", B(C_HUMIDITY) | B(C_RETURN), 0, 0, 0,
      "Return_Air_Humidity_Sensor", K(HUMIDITY), T("return", "air", "humidity", "sensor"), 0.9, false },
    { "supply-humidity", B(C_HUMIDITY) | B(C_SUPPLY), 0, 0, 0,
      "Supply_Air_Humidity_Sensor", K(HUMIDITY), T("discharge", "air", "humidity", "sensor"), 0.85, false },
    { "discharge-humidity", B(C_HUMIDITY) | B(C_DISCHARGE), 0, 0, 0,
      "Discharge_Air_Humidity_Sensor", K(HUMIDITY),
      T("discharge", "air", "humidity", "sensor"), 0.85, false },
    { "mixed-humidity", B(C_HUMIDITY) | B(C_MIXED), 0, 0, 0,
      "Mixed_Air_Humidity_Sensor", K(HUMIDITY), T("mixed", "air", "humidity", "sensor"), 0.85, false },
    { "humidity", B(C_HUMIDITY), 0, 0, 0,
      "Relative_Humidity_Sensor", K(HUMIDITY), T("air", "humidity", "sensor"), 0.7, false },
    { "outside-co2", B(C_CO2) | B(C_OUTSIDE), 0, 0, 0,
      "Outside_Air_CO2_Sensor", K(CO2), T("outside", "air", "co2", "sensor"), 0.9, false },
    { "return-co2", B(C_CO2) | B(C_RETURN), 0, 0, 0,
      "Return_Air_CO2_Sensor", K(CO2), T("return", "air", "co2", "sensor"), 0.9, false },
    { "zone-co2", B(C_CO2) | B(C_ZONE), 0, 0, 0,
      "CO2_Level_Sensor", K(CO2), T("zone", "air", "co2", "sensor"), 0.9, false },
    { "co2", B(C_CO2), 0, 0, 0,
      "CO2_Level_Sensor", K(CO2), T("air", "co2", "sensor"), 0.8, false },
    /* ---- pressure ---- */
    { "building-pressure", B(C_PRESSURE) | B(C_BUILDING), 0, 0, 0,
      "Building_Air_Static_Pressure_Sensor", K(PRESSURE),
      T("building", "air", "pressure", "sensor"), 0.85, false },
    { "exhaust-static", B(C_PRESSURE) | B(C_EXHAUST), WATERS, 0, 0,
      "Exhaust_Air_Static_Pressure_Sensor", K(PRESSURE),
      T("exhaust", "air", "pressure", "sensor"), 0.8, false },
    { "discharge-static", B(C_PRESSURE) | B(C_STATIC) | B(C_DISCHARGE), WATERS, 0, 0,
      "Discharge_Air_Static_Pressure_Sensor", K(PRESSURE),
      T("discharge", "air", "pressure", "sensor"), 0.85, false },
    { "duct-static", B(C_PRESSURE) | B(C_DUCT), WATERS, 0, 0,
      "Supply_Air_Static_Pressure_Sensor", K(PRESSURE),
      T("discharge", "air", "pressure", "sensor"), 0.9, false },
    { "supply-static", B(C_PRESSURE) | B(C_STATIC) | B(C_SUPPLY), WATERS, 0, 0,
      "Supply_Air_Static_Pressure_Sensor", K(PRESSURE),
      T("discharge", "air", "pressure", "sensor"), 0.9, false },
    { "filter-dp", B(C_PRESSURE) | B(C_FILTER), 0, 0, 0,
      "Filter_Differential_Pressure_Sensor", K(PRESSURE), T("filter", "pressure", "sensor"), 0.85, false },
    { "chw-dp", B(C_PRESSURE) | B(C_CHW), 0, 0, 0,
      "Chilled_Water_Differential_Pressure_Sensor", K(PRESSURE),
      T("chilled", "water", "pressure", "sensor"), 0.8, false },
    { "hw-dp", B(C_PRESSURE) | B(C_HW), 0, 0, 0,
      "Hot_Water_Differential_Pressure_Sensor", K(PRESSURE),
      T("hot", "water", "pressure", "sensor"), 0.8, false },
    { "dp", B(C_PRESSURE) | B(C_DIFF), 0, 0, 0,
      "Differential_Pressure_Sensor", K(PRESSURE), T("pressure", "sensor"), 0.7, false },
    { "static", B(C_PRESSURE) | B(C_STATIC), 0, 0, 0,
      "Static_Pressure_Sensor", K(PRESSURE), T("air", "pressure", "sensor"), 0.7, false },
    { "pressure", B(C_PRESSURE), 0, 0, 0,
      "Pressure_Sensor", K(PRESSURE), T("pressure", "sensor"), 0.6, false },
    /* ---- flow ---- */
    { "chw-flow", B(C_FLOW) | B(C_CHW), 0, 0, 0,
      "Chilled_Water_Flow_Sensor", K(FLOW), T("chilled", "water", "flow", "sensor"), 0.85, false },
    { "hw-flow", B(C_FLOW) | B(C_HW), 0, 0, 0,
      "Hot_Water_Flow_Sensor", K(FLOW), T("hot", "water", "flow", "sensor"), 0.85, false },
    { "water-flow", B(C_FLOW) | B(C_WATER), 0, 0, 0,
      "Water_Flow_Sensor", K(FLOW), T("water", "flow", "sensor"), 0.75, false },
    { "discharge-air-flow", B(C_FLOW) | B(C_DISCHARGE), 0, 0, 0,
      "Discharge_Air_Flow_Sensor", K(FLOW), T("discharge", "air", "flow", "sensor"), 0.9, false },
    { "supply-air-flow", B(C_FLOW) | B(C_SUPPLY), 0, 0, 0,
      "Supply_Air_Flow_Sensor", K(FLOW), T("discharge", "air", "flow", "sensor"), 0.9, false },
    { "return-air-flow", B(C_FLOW) | B(C_RETURN), 0, 0, 0,
      "Return_Air_Flow_Sensor", K(FLOW), T("return", "air", "flow", "sensor"), 0.9, false },
    { "outside-air-flow", B(C_FLOW) | B(C_OUTSIDE), 0, 0, 0,
      "Outside_Air_Flow_Sensor", K(FLOW), T("outside", "air", "flow", "sensor"), 0.9, false },
    { "exhaust-air-flow", B(C_FLOW) | B(C_EXHAUST), 0, 0, 0,
      "Exhaust_Air_Flow_Sensor", K(FLOW), T("exhaust", "air", "flow", "sensor"), 0.85, false },
    { "air-flow", B(C_FLOW), 0, 0, 0,
      "Air_Flow_Sensor", K(FLOW), T("air", "flow", "sensor"), 0.65, false },
    /* ---- generic roles ---- */
    { "speed-cmd", B(C_SPEED), 0, AN, CMDDIR,
      "Speed_Command", K(POSITION), T("speed", "cmd"), 0.6, false },
    { "speed", B(C_SPEED), 0, AN, 0, "Speed_Sensor", K(POSITION), T("speed", "sensor"), 0.55, false },
    { "frequency", B(C_FREQ), 0, AN, 0,
      "Frequency_Sensor", K(OTHER), T("freq", "sensor"), 0.6, false },
    { "cooling-cmd", B(C_COOL), 0, AN, CMDDIR,
      "Cooling_Command", K(POSITION), T("cool", "cmd"), 0.6, false },
    { "heating-cmd", B(C_HEAT), 0, AN, CMDDIR,
      "Heating_Command", K(POSITION), T("heat", "cmd"), 0.6, false },
    { "alarm", B(C_ALARM), 0, 0, 0, "Alarm", K(STATUS), T("alarm"), 0.7, false },
    { "fault", B(C_FAULT), 0, 0, 0, "Fault_Status", K(STATUS), T("fault", "sensor"), 0.7, false },
    { "enable-cmd", B(C_ENABLE), 0, BIN, CMDDIR,
      "Enable_Command", K(COMMAND), T("enable", "cmd"), 0.7, false },
    { "enable-status", B(C_ENABLE), 0, BIN, D_IN,
      "Enable_Status", K(STATUS), T("enable", "sensor"), 0.7, false },
    { "start-stop", B(C_STARTSTOP), 0, BIN, 0,
      "Start_Stop_Command", K(COMMAND), T("run", "cmd"), 0.65, false },
    { "override", B(C_OVERRIDE), 0, 0, 0,
      "Override_Command", K(COMMAND), T("cmd"), 0.55, false },
    { "mode-cmd", B(C_MODE), 0, 0, CMDDIR, "Mode_Command", K(OTHER), T("cmd"), 0.55, false },
    { "mode-status", B(C_MODE), 0, 0, D_IN, "Mode_Status", K(STATUS), T("sensor"), 0.55, false },
    { "position-cmd", B(C_POSITION), 0, AN, CMDDIR,
      "Position_Command", K(POSITION), T("cmd"), 0.5, false },
    { "position", B(C_POSITION), 0, AN, 0,
      "Position_Sensor", K(POSITION), T("sensor"), 0.5, false },
    { "run-status", B(C_RUN), 0, BIN, D_IN, "Run_Status", K(STATUS), T("run", "sensor"), 0.6, false },
    { "status", B(C_STATUS), 0, BIN | F_MULTI, 0, "Status", K(STATUS), T("sensor"), 0.5, false },
    { "command", B(C_CMD), 0, BIN | F_MULTI, 0, "Command", K(COMMAND), T("cmd"), 0.5, false },
    /* ---- nothing recognised: the object type alone ---- */
    { "binary-input", 0, 0, BIN, D_IN, "Status", K(STATUS), T("sensor"), 0.3, false },
    { "binary-output", 0, 0, BIN, D_OUT, "Command", K(COMMAND), T("cmd"), 0.3, false },
    { "binary-value", 0, 0, BIN, D_VAL, "Status", K(STATUS), T("sensor"), 0.25, false },
    { "multistate-output", 0, 0, F_MULTI, D_OUT, "Command", K(COMMAND), T("cmd"), 0.25, false },
    { "multistate", 0, 0, F_MULTI, 0, "Status", K(STATUS), T("sensor"), 0.25, false },
    { "analog-output", 0, 0, AN, D_OUT, "Command", K(OTHER), T("cmd"), 0.25, false },
    { "analog-input", 0, 0, AN, D_IN, "Sensor", K(OTHER), T("sensor"), 0.25, false },
    { "point", 0, 0, 0, 0, "Point", K(OTHER), T(NULL), 0.15, false },
};

/* The concept a unit dimension adds, and the kind it implies. */
static const struct {
    enum sb_dim dim;
    uint64_t c;
    enum sb_bacn_kind kind;
} dim_map[] = {
    { SB_DIM_TEMPERATURE, B(C_TEMP), K(TEMPERATURE) },
    { SB_DIM_CONCENTRATION, B(C_CO2), K(CO2) },
    { SB_DIM_POWER, B(C_POWER), K(POWER) },
    { SB_DIM_ENERGY, B(C_ENERGY), K(ENERGY) },
    { SB_DIM_PRESSURE, B(C_PRESSURE), K(PRESSURE) },
    { SB_DIM_FLOW, B(C_FLOW), K(FLOW) },
    { SB_DIM_FREQUENCY, B(C_FREQ), K(OTHER) },
    { SB_DIM_CURRENT, B(C_CURRENT), K(OTHER) },
    { SB_DIM_VOLTAGE, B(C_VOLTAGE), K(OTHER) },
    { SB_DIM_VOLUME, 0, K(OTHER) },
    { SB_DIM_RATIO, 0, K(POSITION) },
};

static const char *const kind_names[SB_BACN_K_COUNT] = {
    "temperature", "setpoint", "humidity", "co2", "power", "energy", "pressure", "flow",
    "position", "status", "command", "occupancy", "other",
};

const char *sb_bacn_kind_name(enum sb_bacn_kind k)
{
    return (unsigned)k < SB_BACN_K_COUNT ? kind_names[k] : "?";
}

/* ---- words ------------------------------------------------------------------ */

#define WORD_MAX 24

static uint64_t lookup(const char *w)
{
    for (size_t i = 0; i < sizeof(lexicon) / sizeof(lexicon[0]); i++)
        if (strcmp(lexicon[i].w, w) == 0)
            return lexicon[i].c;
    return 0;
}

/* The concepts of one word as written: whole ("co2", "ahu1" -> none), or
 * split at letter/digit boundaries ("sat1" -> "sat"). */
static uint64_t word_concepts(const char *w)
{
    char part[WORD_MAX];
    uint64_t c = lookup(w);
    size_t n = 0;

    if (c)
        return c;
    for (const char *p = w;; p++) {
        bool digit = isdigit((unsigned char)*p);
        bool prev_digit = n > 0 && isdigit((unsigned char)part[n - 1]);
        if (*p == 0 || (n > 0 && digit != prev_digit)) {
            part[n] = 0;
            if (n > 0 && !prev_digit)
                c |= lookup(part);
            n = 0;
            if (*p == 0)
                break;
        }
        if (n + 1 < sizeof(part))
            part[n++] = *p;
    }
    return c;
}

/* Concepts of one run of letters and digits: the whole run when the
 * lexicon knows it ("kWh", "CHWST"), else its camelCase parts
 * ("SpaceTemp" -> "space", "temp"). */
static uint64_t run_concepts(const char *run, size_t n)
{
    char w[WORD_MAX];
    size_t k = 0;
    uint64_t c = 0;

    for (size_t i = 0; i < n && i + 1 < sizeof(w); i++)
        w[i] = (char)tolower((unsigned char)run[i]);
    w[n < sizeof(w) ? n : sizeof(w) - 1] = 0;
    if ((c = lookup(w)))
        return c;
    for (size_t i = 0; i <= n; i++) {
        bool camel = i > 0 && i < n && isupper((unsigned char)run[i]) &&
                     islower((unsigned char)run[i - 1]);
        if (i == n || camel) {
            w[k] = 0;
            if (k)
                c |= word_concepts(w);
            k = 0;
        }
        if (i < n && k + 1 < sizeof(w))
            w[k++] = (char)tolower((unsigned char)run[i]);
    }
    return c;
}

/* Concepts of a text: runs end at anything not an ASCII letter or digit. */
static uint64_t text_concepts(const char *s)
{
    uint64_t c = 0;
    size_t n = 0;

    if (!s)
        return 0;
    for (const char *p = s;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch && ch < 0x80 && isalnum(ch)) {
            n++;
            continue;
        }
        if (n)
            c |= run_concepts(p - n, n);
        n = 0;
        if (!ch)
            break;
    }
    return c;
}

/* ---- evidence and rules ------------------------------------------------- */

/* Settles the two ambiguous words (see the file comment). */
static uint64_t settle(uint64_t c, enum sb_dim dim)
{
    if (c & B(C_SPAMBIG)) {
        if (dim == SB_DIM_PRESSURE && !(c & B(C_TEMP)) && !(c & B(C_SPWORD)))
            c |= B(C_STATIC) | B(C_PRESSURE);
        else
            c |= B(C_SP);
    }
    if (c & B(C_RHAMBIG))
        c |= (c & (B(C_VALVE) | B(C_COIL))) ? B(C_HEAT) : B(C_HUMIDITY);
    if ((c & B(C_HOT)) && (c & B(C_WATER)))
        c |= B(C_HW);                /* "hot water", not a "hot deck" */
    return c;
}

static bool matches(const struct rule *r, uint64_t c, uint8_t fam, uint8_t dir)
{
    if ((c & r->req) != r->req || (c & r->forb))
        return false;
    if (r->fam && !(r->fam & fam))
        return false;
    return !r->dir || (r->dir & dir);
}

static const struct rule *first_match(uint64_t c, uint8_t fam, uint8_t dir)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (matches(&rules[i], c, fam, dir))
            return &rules[i];
    return &rules[sizeof(rules) / sizeof(rules[0]) - 1];
}

/* Whether sbems accepts a reading of dimension d for kind k (the same rule
 * as sb_point_kind_allows in model/model.c, kept here so this file links
 * without the model). */
static bool kind_allows(enum sb_bacn_kind k, enum sb_dim d)
{
    switch (k) {
    case K(SETPOINT):
    case K(OTHER):
        return true;
    case K(COMMAND):
        return d == SB_DIM_NONE || d == SB_DIM_RATIO;
    case K(TEMPERATURE): return d == SB_DIM_TEMPERATURE;
    case K(HUMIDITY):
    case K(POSITION):    return d == SB_DIM_RATIO;
    case K(CO2):         return d == SB_DIM_CONCENTRATION;
    case K(POWER):       return d == SB_DIM_POWER;
    case K(ENERGY):      return d == SB_DIM_ENERGY;
    case K(PRESSURE):    return d == SB_DIM_PRESSURE;
    case K(FLOW):        return d == SB_DIM_FLOW;
    default:             return d == SB_DIM_NONE;   /* status, occupancy */
    }
}

static enum sb_bacn_kind kind_of_dim(enum sb_dim d)
{
    for (size_t i = 0; i < sizeof(dim_map) / sizeof(dim_map[0]); i++)
        if (dim_map[i].dim == d)
            return dim_map[i].kind;
    return K(OTHER);
}

static uint64_t concepts_of_dim(enum sb_dim d)
{
    for (size_t i = 0; i < sizeof(dim_map) / sizeof(dim_map[0]); i++)
        if (dim_map[i].dim == d)
            return dim_map[i].c;
    return 0;
}

static double clamp(double v)
{
    v = v < 0.05 ? 0.05 : v > 0.99 ? 0.99 : v;
    return (double)(long)(v * 100 + 0.5) / 100;    /* two decimals, stable output */
}

/* Haystack's name for the air-side location in c ("discharge" for supply
 * air, as examples/office-site.json writes it), or NULL. */
static const char *loc_tag(uint64_t c)
{
    if (c & (B(C_SUPPLY) | B(C_DISCHARGE)))
        return "discharge";
    if (c & B(C_RETURN))
        return "return";
    if (c & B(C_EXHAUST))
        return "exhaust";
    if (c & B(C_OUTSIDE))
        return "outside";
    return NULL;
}

static void fill(struct sb_bacn_proposal *out, const struct rule *r, uint64_t c)
{
    const char *loc = r->loc ? loc_tag(c) : NULL;

    out->brick = r->brick;
    out->kind = r->kind;
    out->rule = r->name;
    out->ntags = 0;
    if (loc)
        out->tags[out->ntags++] = loc;
    for (size_t i = 0; out->ntags < SB_BACN_TAGS_MAX - 1 && r->tags[i]; i++) {
        if (loc && strcmp(r->tags[i], "air") == 0)
            continue;                 /* "outside damper", not "outside air damper"... */
        out->tags[out->ntags++] = r->tags[i];
    }
    out->tags[out->ntags] = NULL;
    out->confidence = r->conf;
}

void sb_bacn_propose(const char *name, const char *description, uint16_t obj_type,
                     uint32_t bacnet_units, struct sb_bacn_proposal *out)
{
    enum sb_unit u = sb_bacn_unit(bacnet_units);
    enum sb_dim dim = u == SB_UNIT_INVALID ? SB_DIM_COUNT : sb_unit_dim(u);
    uint64_t words = text_concepts(name), from_units = concepts_of_dim(dim);
    uint8_t fam, dir;
    const struct rule *r;
    bool only_desc = false;
    double conf;

    family(obj_type, &fam, &dir);
    r = first_match(settle(words | from_units, dim), fam, dir);
    if (!(r->req & words) && description) {
        /* the name said nothing the rule used: let the description speak */
        uint64_t w2 = words | text_concepts(description);
        const struct rule *r2 = first_match(settle(w2 | from_units, dim), fam, dir);
        if (r2->conf > r->conf) {
            r = r2;
            words = w2;
            only_desc = true;
        }
    }
    fill(out, r, words);
    conf = r->conf;
    if (only_desc)
        conf -= 0.15;
    if ((r->req & QUANTITY) && !(r->req & QUANTITY & words))
        conf -= 0.15;                 /* the quantity came from the units only */
    if (dim != SB_DIM_COUNT && dim != SB_DIM_NONE) {
        if (kind_allows(out->kind, dim)) {
            conf += 0.05;
        } else {
            out->kind = kind_of_dim(dim);   /* sbems would refuse the unit */
            conf -= 0.3;
        }
    }
    out->confidence = clamp(conf);
}

enum sb_bacn_kind sb_bacn_kind_commandable(enum sb_bacn_kind k, uint32_t bacnet_units)
{
    enum sb_unit u = sb_bacn_unit(bacnet_units);
    enum sb_dim d = u == SB_UNIT_INVALID ? SB_DIM_NONE : sb_unit_dim(u);

    if (k == SB_BACN_K_SETPOINT || k == SB_BACN_K_COMMAND)
        return k;
    return d == SB_DIM_NONE || d == SB_DIM_RATIO ? SB_BACN_K_COMMAND : SB_BACN_K_SETPOINT;
}

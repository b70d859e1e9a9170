/*
 * units.c - BACnet names and numbers (see names.h): object types, property
 * identifiers, engineering units and the answer words of clause 18, plus
 * the map from BACnet engineering units to sbems units (model/units.h).
 *
 * The name tables are the ASN.1 identifiers of ANSI/ASHRAE 135-2020
 * clause 21 (BACnetObjectType, BACnetPropertyIdentifier,
 * BACnetEngineeringUnits, BACnetSegmentation) and clause 18 (error class,
 * reject and abort reasons).  The numbers were checked against two
 * independent published tables: the enumerations of the npm package
 * @bacnet-js/client 3.3.2 (tests/integ/peers/bacnet/node_modules) and
 * Milesight's BACnet unit list (github.com/Milesight-IoT/codec,
 * bacnet_unit.md), which agree for every unit sbems maps.  Object types
 * 60..62 come from addenda 135-2016bd/bi and 63..64 from 135-2020ca.
 */
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/enums.h"

#define NAME_MAX_LEN 64              /* longest spelling we normalise */

/* ---- tables ------------------------------------------------------------ */

/* BACnetObjectType, clause 21. */
static const char *const obj_names[] = {
    [0] = "analog-input",
    [1] = "analog-output",
    [2] = "analog-value",
    [3] = "binary-input",
    [4] = "binary-output",
    [5] = "binary-value",
    [6] = "calendar",
    [7] = "command",
    [8] = "device",
    [9] = "event-enrollment",
    [10] = "file",
    [11] = "group",
    [12] = "loop",
    [13] = "multi-state-input",
    [14] = "multi-state-output",
    [15] = "notification-class",
    [16] = "program",
    [17] = "schedule",
    [18] = "averaging",
    [19] = "multi-state-value",
    [20] = "trend-log",
    [21] = "life-safety-point",
    [22] = "life-safety-zone",
    [23] = "accumulator",
    [24] = "pulse-converter",
    [25] = "event-log",
    [26] = "global-group",
    [27] = "trend-log-multiple",
    [28] = "load-control",
    [29] = "structured-view",
    [30] = "access-door",
    [31] = "timer",
    [32] = "access-credential",
    [33] = "access-point",
    [34] = "access-rights",
    [35] = "access-user",
    [36] = "access-zone",
    [37] = "credential-data-input",
    [38] = "network-security",
    [39] = "bitstring-value",
    [40] = "characterstring-value",
    [41] = "datepattern-value",
    [42] = "date-value",
    [43] = "datetimepattern-value",
    [44] = "datetime-value",
    [45] = "integer-value",
    [46] = "large-analog-value",
    [47] = "octetstring-value",
    [48] = "positive-integer-value",
    [49] = "timepattern-value",
    [50] = "time-value",
    [51] = "notification-forwarder",
    [52] = "alert-enrollment",
    [53] = "channel",
    [54] = "lighting-output",
    [55] = "binary-lighting-output",
    [56] = "network-port",
    [57] = "elevator-group",
    [58] = "escalator",
    [59] = "lift",
    [60] = "staging",
    [61] = "audit-log",
    [62] = "audit-reporter",
    [63] = "color",
    [64] = "color-temperature",
};
#define OBJ_NAMED (sizeof(obj_names) / sizeof(obj_names[0]))

/* Short forms used by BACnet tools and point lists ("AI-1", "av:3"). */
static const struct {
    uint16_t type;
    const char *s;
} obj_short[] = {
    { 0, "ai" }, { 1, "ao" }, { 2, "av" }, { 3, "bi" }, { 4, "bo" }, { 5, "bv" },
    { 6, "cal" }, { 7, "cmd" }, { 8, "dev" }, { 9, "ee" }, { 10, "file" }, { 11, "grp" },
    { 12, "loop" }, { 13, "msi" }, { 14, "mso" }, { 15, "nc" }, { 16, "prog" },
    { 17, "sch" }, { 18, "avg" }, { 19, "msv" }, { 20, "tl" }, { 21, "lsp" },
    { 22, "lsz" }, { 23, "acc" }, { 24, "pc" }, { 25, "el" }, { 27, "tlm" },
    { 28, "lc" }, { 29, "sv" }, { 31, "tmr" }, { 40, "csv" }, { 45, "iv" },
    { 46, "lav" }, { 48, "piv" }, { 53, "ch" }, { 54, "lo" }, { 55, "blo" },
    { 56, "np" },
};

/* BACnetPropertyIdentifier, clause 21: those enums.h names, and a few
 * that point lists use (feedback-value, setpoint), sorted by number. */
static const struct {
    uint32_t id;
    const char *name;
} prop_names[] = {
    { 0, "acked-transitions" },
    { 4, "active-text" },
    { 8, "all" },
    { 10, "apdu-segment-timeout" },
    { 11, "apdu-timeout" },
    { 12, "application-software-version" },
    { 15, "change-of-state-count" },
    { 17, "notification-class" },
    { 22, "cov-increment" },
    { 23, "date-list" },
    { 25, "deadband" },
    { 28, "description" },
    { 30, "device-address-binding" },
    { 32, "effective-period" },
    { 33, "elapsed-active-time" },
    { 35, "event-enable" },
    { 36, "event-state" },
    { 38, "exception-schedule" },
    { 40, "feedback-value" },
    { 44, "firmware-revision" },
    { 45, "high-limit" },
    { 46, "inactive-text" },
    { 52, "limit-enable" },
    { 54, "list-of-object-property-references" },
    { 56, "local-date" },
    { 57, "local-time" },
    { 58, "location" },
    { 59, "low-limit" },
    { 62, "max-apdu-length-accepted" },
    { 65, "max-pres-value" },
    { 69, "min-pres-value" },
    { 70, "model-name" },
    { 72, "notify-type" },
    { 73, "number-of-apdu-retries" },
    { 74, "number-of-states" },
    { 75, "object-identifier" },
    { 76, "object-list" },
    { 77, "object-name" },
    { 79, "object-type" },
    { 80, "optional" },
    { 81, "out-of-service" },
    { 84, "polarity" },
    { 85, "present-value" },
    { 87, "priority-array" },
    { 88, "priority-for-writing" },
    { 96, "protocol-object-types-supported" },
    { 97, "protocol-services-supported" },
    { 98, "protocol-version" },
    { 103, "reliability" },
    { 104, "relinquish-default" },
    { 105, "required" },
    { 106, "resolution" },
    { 107, "segmentation-supported" },
    { 108, "setpoint" },
    { 110, "state-text" },
    { 111, "status-flags" },
    { 112, "system-status" },
    { 113, "time-delay" },
    { 117, "units" },
    { 119, "utc-offset" },
    { 120, "vendor-identifier" },
    { 121, "vendor-name" },
    { 123, "weekly-schedule" },
    { 126, "buffer-size" },
    { 130, "event-time-stamps" },
    { 131, "log-buffer" },
    { 132, "log-device-object-property" },
    { 133, "enable" },
    { 134, "log-interval" },
    { 139, "protocol-revision" },
    { 141, "record-count" },
    { 142, "start-time" },
    { 143, "stop-time" },
    { 144, "stop-when-full" },
    { 145, "total-record-count" },
    { 155, "database-revision" },
    { 167, "max-segments-accepted" },
    { 174, "schedule-default" },
    { 197, "logging-type" },
    { 371, "property-list" },
    { 431, "current-command-priority" },
};

/* BACnetEngineeringUnits, clause 21: 0..254 (ASHRAE's range). */
static const char *const unit_names[255] = {
    [0] = "square-meters",
    [1] = "square-feet",
    [2] = "milliamperes",
    [3] = "amperes",
    [4] = "ohms",
    [5] = "volts",
    [6] = "kilovolts",
    [7] = "megavolts",
    [8] = "volt-amperes",
    [9] = "kilovolt-amperes",
    [10] = "megavolt-amperes",
    [11] = "volt-amperes-reactive",
    [12] = "kilovolt-amperes-reactive",
    [13] = "megavolt-amperes-reactive",
    [14] = "degrees-phase",
    [15] = "power-factor",
    [16] = "joules",
    [17] = "kilojoules",
    [18] = "watt-hours",
    [19] = "kilowatt-hours",
    [20] = "btus",
    [21] = "therms",
    [22] = "ton-hours",
    [23] = "joules-per-kilogram-dry-air",
    [24] = "btus-per-pound-dry-air",
    [25] = "cycles-per-hour",
    [26] = "cycles-per-minute",
    [27] = "hertz",
    [28] = "grams-of-water-per-kilogram-dry-air",
    [29] = "percent-relative-humidity",
    [30] = "millimeters",
    [31] = "meters",
    [32] = "inches",
    [33] = "feet",
    [34] = "watts-per-square-foot",
    [35] = "watts-per-square-meter",
    [36] = "lumens",
    [37] = "luxes",
    [38] = "foot-candles",
    [39] = "kilograms",
    [40] = "pounds-mass",
    [41] = "tons",
    [42] = "kilograms-per-second",
    [43] = "kilograms-per-minute",
    [44] = "kilograms-per-hour",
    [45] = "pounds-mass-per-minute",
    [46] = "pounds-mass-per-hour",
    [47] = "watts",
    [48] = "kilowatts",
    [49] = "megawatts",
    [50] = "btus-per-hour",
    [51] = "horsepower",
    [52] = "tons-refrigeration",
    [53] = "pascals",
    [54] = "kilopascals",
    [55] = "bars",
    [56] = "pounds-force-per-square-inch",
    [57] = "centimeters-of-water",
    [58] = "inches-of-water",
    [59] = "millimeters-of-mercury",
    [60] = "centimeters-of-mercury",
    [61] = "inches-of-mercury",
    [62] = "degrees-celsius",
    [63] = "degrees-kelvin",
    [64] = "degrees-fahrenheit",
    [65] = "degree-days-celsius",
    [66] = "degree-days-fahrenheit",
    [67] = "years",
    [68] = "months",
    [69] = "weeks",
    [70] = "days",
    [71] = "hours",
    [72] = "minutes",
    [73] = "seconds",
    [74] = "meters-per-second",
    [75] = "kilometers-per-hour",
    [76] = "feet-per-second",
    [77] = "feet-per-minute",
    [78] = "miles-per-hour",
    [79] = "cubic-feet",
    [80] = "cubic-meters",
    [81] = "imperial-gallons",
    [82] = "liters",
    [83] = "us-gallons",
    [84] = "cubic-feet-per-minute",
    [85] = "cubic-meters-per-second",
    [86] = "imperial-gallons-per-minute",
    [87] = "liters-per-second",
    [88] = "liters-per-minute",
    [89] = "us-gallons-per-minute",
    [90] = "degrees-angular",
    [91] = "degrees-celsius-per-hour",
    [92] = "degrees-celsius-per-minute",
    [93] = "degrees-fahrenheit-per-hour",
    [94] = "degrees-fahrenheit-per-minute",
    [95] = "no-units",
    [96] = "parts-per-million",
    [97] = "parts-per-billion",
    [98] = "percent",
    [99] = "percent-per-second",
    [100] = "per-minute",
    [101] = "per-second",
    [102] = "psi-per-degree-fahrenheit",
    [103] = "radians",
    [104] = "revolutions-per-minute",
    [105] = "currency1",
    [106] = "currency2",
    [107] = "currency3",
    [108] = "currency4",
    [109] = "currency5",
    [110] = "currency6",
    [111] = "currency7",
    [112] = "currency8",
    [113] = "currency9",
    [114] = "currency10",
    [115] = "square-inches",
    [116] = "square-centimeters",
    [117] = "btus-per-pound",
    [118] = "centimeters",
    [119] = "pounds-mass-per-second",
    [120] = "delta-degrees-fahrenheit",
    [121] = "delta-degrees-kelvin",
    [122] = "kilohms",
    [123] = "megohms",
    [124] = "millivolts",
    [125] = "kilojoules-per-kilogram",
    [126] = "megajoules",
    [127] = "joules-per-degree-kelvin",
    [128] = "joules-per-kilogram-degree-kelvin",
    [129] = "kilohertz",
    [130] = "megahertz",
    [131] = "per-hour",
    [132] = "milliwatts",
    [133] = "hectopascals",
    [134] = "millibars",
    [135] = "cubic-meters-per-hour",
    [136] = "liters-per-hour",
    [137] = "kilowatt-hours-per-square-meter",
    [138] = "kilowatt-hours-per-square-foot",
    [139] = "megajoules-per-square-meter",
    [140] = "megajoules-per-square-foot",
    [141] = "watts-per-square-meter-degree-kelvin",
    [142] = "cubic-feet-per-second",
    [143] = "percent-obscuration-per-foot",
    [144] = "percent-obscuration-per-meter",
    [145] = "milliohms",
    [146] = "megawatt-hours",
    [147] = "kilo-btus",
    [148] = "mega-btus",
    [149] = "kilojoules-per-kilogram-dry-air",
    [150] = "megajoules-per-kilogram-dry-air",
    [151] = "kilojoules-per-degree-kelvin",
    [152] = "megajoules-per-degree-kelvin",
    [153] = "newton",
    [154] = "grams-per-second",
    [155] = "grams-per-minute",
    [156] = "tons-per-hour",
    [157] = "kilo-btus-per-hour",
    [158] = "hundredths-seconds",
    [159] = "milliseconds",
    [160] = "newton-meters",
    [161] = "millimeters-per-second",
    [162] = "millimeters-per-minute",
    [163] = "meters-per-minute",
    [164] = "meters-per-hour",
    [165] = "cubic-meters-per-minute",
    [166] = "meters-per-second-per-second",
    [167] = "amperes-per-meter",
    [168] = "amperes-per-square-meter",
    [169] = "ampere-square-meters",
    [170] = "farads",
    [171] = "henrys",
    [172] = "ohm-meters",
    [173] = "siemens",
    [174] = "siemens-per-meter",
    [175] = "teslas",
    [176] = "volts-per-degree-kelvin",
    [177] = "volts-per-meter",
    [178] = "webers",
    [179] = "candelas",
    [180] = "candelas-per-square-meter",
    [181] = "degrees-kelvin-per-hour",
    [182] = "degrees-kelvin-per-minute",
    [183] = "joule-seconds",
    [184] = "radians-per-second",
    [185] = "square-meters-per-newton",
    [186] = "kilograms-per-cubic-meter",
    [187] = "newton-seconds",
    [188] = "newtons-per-meter",
    [189] = "watts-per-meter-per-degree-kelvin",
    [190] = "microsiemens",
    [191] = "cubic-feet-per-hour",
    [192] = "us-gallons-per-hour",
    [193] = "kilometers",
    [194] = "micrometers",
    [195] = "grams",
    [196] = "milligrams",
    [197] = "milliliters",
    [198] = "milliliters-per-second",
    [199] = "decibels",
    [200] = "decibels-millivolt",
    [201] = "decibels-volt",
    [202] = "millisiemens",
    [203] = "watt-hours-reactive",
    [204] = "kilowatt-hours-reactive",
    [205] = "megawatt-hours-reactive",
    [206] = "millimeters-of-water",
    [207] = "per-mille",
    [208] = "grams-per-gram",
    [209] = "kilograms-per-kilogram",
    [210] = "grams-per-kilogram",
    [211] = "milligrams-per-gram",
    [212] = "milligrams-per-kilogram",
    [213] = "grams-per-milliliter",
    [214] = "grams-per-liter",
    [215] = "milligrams-per-liter",
    [216] = "micrograms-per-liter",
    [217] = "grams-per-cubic-meter",
    [218] = "milligrams-per-cubic-meter",
    [219] = "micrograms-per-cubic-meter",
    [220] = "nanograms-per-cubic-meter",
    [221] = "grams-per-cubic-centimeter",
    [222] = "becquerels",
    [223] = "kilobecquerels",
    [224] = "megabecquerels",
    [225] = "gray",
    [226] = "milligray",
    [227] = "microgray",
    [228] = "sieverts",
    [229] = "millisieverts",
    [230] = "microsieverts",
    [231] = "microsieverts-per-hour",
    [232] = "decibels-a",
    [233] = "nephelometric-turbidity-unit",
    [234] = "ph",
    [235] = "grams-per-square-meter",
    [236] = "minutes-per-degree-kelvin",
    [237] = "ohm-meter-squared-per-meter",
    [238] = "ampere-seconds",
    [239] = "volt-ampere-hours",
    [240] = "kilovolt-ampere-hours",
    [241] = "megavolt-ampere-hours",
    [242] = "volt-ampere-hours-reactive",
    [243] = "kilovolt-ampere-hours-reactive",
    [244] = "megavolt-ampere-hours-reactive",
    [245] = "volt-square-hours",
    [246] = "ampere-square-hours",
    [247] = "joule-per-hours",
    [248] = "cubic-feet-per-day",
    [249] = "cubic-meters-per-day",
    [250] = "watt-hours-per-cubic-meter",
    [251] = "joules-per-cubic-meter",
    [252] = "mole-percent",
    [253] = "pascal-seconds",
    [254] = "million-standard-cubic-feet-per-minute",
};

/* Units ASHRAE added above the 0..255 block (135-2020 extends into the
 * range 47808..49999). */
static const struct {
    uint32_t id;
    const char *name;
} unit_ext[] = {
    { 47808, "standard-cubic-feet-per-day" },
    { 47809, "million-standard-cubic-feet-per-day" },
    { 47810, "thousand-cubic-feet-per-day" },
    { 47811, "thousand-standard-cubic-feet-per-day" },
    { 47812, "pounds-mass-per-day" },
    { 47814, "millirems" },
    { 47815, "millirems-per-hour" },
};

/* BACnet unit -> sbems unit, for every unit sbems can store (model/units.h);
 * each pair was checked against both tables named above. */
static const struct {
    uint16_t bac;
    enum sb_unit u;
} unit_map[] = {
    { 2, SB_UNIT_MA },               /* milliamperes */
    { 3, SB_UNIT_A },                /* amperes */
    { 5, SB_UNIT_V },                /* volts */
    { 6, SB_UNIT_KV },               /* kilovolts */
    { 18, SB_UNIT_WH },              /* watt-hours */
    { 19, SB_UNIT_KWH },             /* kilowatt-hours */
    { 20, SB_UNIT_BTU },             /* btus (International Table) */
    { 21, SB_UNIT_THERM },           /* therms (100 000 Btu) */
    { 27, SB_UNIT_HZ },              /* hertz */
    { 29, SB_UNIT_PERCENT_RH },      /* percent-relative-humidity */
    { 47, SB_UNIT_W },               /* watts */
    { 48, SB_UNIT_KW },              /* kilowatts */
    { 49, SB_UNIT_MW },              /* megawatts */
    { 50, SB_UNIT_BTU_H },           /* btus-per-hour */
    { 51, SB_UNIT_HP },              /* horsepower */
    { 52, SB_UNIT_TONREF },          /* tons-refrigeration */
    { 53, SB_UNIT_PA },              /* pascals */
    { 54, SB_UNIT_KPA },             /* kilopascals */
    { 55, SB_UNIT_BAR },             /* bars */
    { 56, SB_UNIT_PSI },             /* pounds-force-per-square-inch */
    { 58, SB_UNIT_INH2O },           /* inches-of-water */
    { 61, SB_UNIT_INHG },            /* inches-of-mercury */
    { 62, SB_UNIT_CELSIUS },         /* degrees-celsius */
    { 63, SB_UNIT_KELVIN },          /* degrees-kelvin */
    { 64, SB_UNIT_FAHRENHEIT },      /* degrees-fahrenheit */
    { 79, SB_UNIT_FT3 },             /* cubic-feet */
    { 80, SB_UNIT_M3 },              /* cubic-meters */
    { 82, SB_UNIT_L },               /* liters */
    { 83, SB_UNIT_GAL },             /* us-gallons */
    { 84, SB_UNIT_CFM },             /* cubic-feet-per-minute */
    { 85, SB_UNIT_M3_S },            /* cubic-meters-per-second */
    { 87, SB_UNIT_L_S },             /* liters-per-second */
    { 88, SB_UNIT_L_MIN },           /* liters-per-minute */
    { 89, SB_UNIT_GPM },             /* us-gallons-per-minute */
    { 95, SB_UNIT_NONE },            /* no-units */
    { 96, SB_UNIT_PPM },             /* parts-per-million */
    { 98, SB_UNIT_PERCENT },         /* percent */
    { 126, SB_UNIT_MJ },             /* megajoules */
    { 133, SB_UNIT_HPA },            /* hectopascals */
    { 134, SB_UNIT_MBAR },           /* millibars */
    { 135, SB_UNIT_M3_H },           /* cubic-meters-per-hour */
    { 146, SB_UNIT_MWH },            /* megawatt-hours */
    { 147, SB_UNIT_KBTU },           /* kilo-btus */
    { 148, SB_UNIT_MMBTU },          /* mega-btus (10^6 Btu) */
    { 157, SB_UNIT_KBTU_H },         /* kilo-btus-per-hour */
};
/* Not mapped on purpose: delta-degrees-* (120, 121) are differences, not
 * temperatures (the affine °F -> °C map would add an offset); tons (41) is
 * mass; ton-hours (22), kilojoules (17) and cubic-feet-per-second (142)
 * have no sbems unit yet.  Gigajoules have no BACnet unit; ccf neither. */

/* Error classes, clause 18 (complete). */
static const char *const err_classes[] = {
    "device", "object", "property", "resources", "security", "services", "vt",
    "communication",
};

/* Error codes sbems names (enums.h), clause 18. */
static const struct {
    uint32_t id;
    const char *name;
} err_codes[] = {
    { 0, "other" }, { 2, "configuration-in-progress" }, { 3, "device-busy" },
    { 7, "inconsistent-parameters" }, { 9, "invalid-data-type" },
    { 16, "missing-required-parameter" }, { 18, "no-space-for-object" },
    { 20, "no-space-to-write-property" }, { 25, "operational-problem" },
    { 26, "password-failure" }, { 27, "read-access-denied" },
    { 29, "service-request-denied" }, { 30, "timeout" }, { 31, "unknown-object" },
    { 32, "unknown-property" }, { 37, "value-out-of-range" },
    { 40, "write-access-denied" }, { 42, "invalid-array-index" },
    { 43, "cov-subscription-failed" }, { 44, "not-cov-property" },
    { 45, "optional-functionality-not-supported" }, { 50, "property-is-not-an-array" },
    { 73, "invalid-event-state" }, { 79, "unknown-subscription" },
};

/* Reject reasons, clause 18.8 (complete). */
static const char *const reject_names[] = {
    "other", "buffer-overflow", "inconsistent-parameters", "invalid-parameter-data-type",
    "invalid-tag", "missing-required-parameter", "parameter-out-of-range",
    "too-many-arguments", "undefined-enumeration", "unrecognized-service",
};

/* Abort reasons, clause 18.9. */
static const char *const abort_names[] = {
    "other", "buffer-overflow", "invalid-apdu-in-this-state",
    "preempted-by-higher-priority-task", "segmentation-not-supported", "security-error",
    "insufficient-security", "window-size-out-of-range", "application-exceeded-reply-time",
    "out-of-resources", "tsm-timeout", "apdu-too-long",
};

static const char *const seg_names[] = { "both", "transmit", "receive", "none" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- spelling ------------------------------------------------------------ */

/* Folds the spellings people use for one identifier to the standard's:
 * "Analog Input", "ANALOG_INPUT", "analogInput" -> "analog-input".
 * Returns false when s is empty or too long to be a name. */
static bool fold(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    char prev = 0;

    while (*s == ' ' || *s == '\t')
        s++;
    for (; *s; s++) {
        char c = *s;
        bool upper = c >= 'A' && c <= 'Z';
        bool lower_prev = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
        if (c == '_' || c == ' ' || c == '\t')
            c = '-';
        if (upper && lower_prev && n + 1 < cap)
            out[n++] = '-';           /* camelCase boundary */
        if (upper)
            c = (char)(c - 'A' + 'a');
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
        prev = *s;
    }
    while (n > 0 && out[n - 1] == '-')
        n--;                          /* trailing blanks */
    out[n] = 0;
    return n > 0;
}

/* A decimal number 0..max with nothing around it but blanks. */
static bool number(const char *s, uint32_t max, uint32_t *out)
{
    char *end;
    unsigned long v;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    v = strtoul(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end || v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- object types -------------------------------------------------------- */

const char *sb_bacn_obj_name(uint16_t type)
{
    return type < OBJ_NAMED ? obj_names[type] : NULL;
}

const char *sb_bacn_obj_short(uint16_t type)
{
    for (size_t i = 0; i < COUNT(obj_short); i++)
        if (obj_short[i].type == type)
            return obj_short[i].s;
    return NULL;
}

int sb_bacn_obj_type_parse(const char *s, uint16_t *out)
{
    char f[NAME_MAX_LEN];
    uint32_t v;

    if (!s)
        return SB_EINVAL;
    if (number(s, 1023, &v)) {        /* clause 20.2.14: 10-bit type */
        *out = (uint16_t)v;
        return 0;
    }
    if (!fold(s, f, sizeof(f)))
        return SB_EINVAL;
    for (size_t i = 0; i < OBJ_NAMED; i++)
        if (obj_names[i] && strcmp(obj_names[i], f) == 0) {
            *out = (uint16_t)i;
            return 0;
        }
    for (size_t i = 0; i < COUNT(obj_short); i++)
        if (strcmp(obj_short[i].s, f) == 0) {
            *out = obj_short[i].type;
            return 0;
        }
    return SB_EINVAL;
}

int sb_bacn_obj_parse(const char *s, struct sb_bac_oid *out)
{
    char type[NAME_MAX_LEN];
    const char *colon;
    uint32_t inst;
    uint16_t t;
    size_t n;

    if (!s || !(colon = strchr(s, ':')))
        return SB_EINVAL;
    n = (size_t)(colon - s);
    if (n == 0 || n >= sizeof(type))
        return SB_EINVAL;
    memcpy(type, s, n);
    type[n] = 0;
    if (sb_bacn_obj_type_parse(type, &t) < 0 || !number(colon + 1, SB_BAC_MAX_INSTANCE, &inst))
        return SB_EINVAL;
    out->type = t;
    out->instance = inst;
    return 0;
}

char *sb_bacn_obj_str(struct sb_bac_oid oid, char *buf, size_t cap)
{
    const char *n = sb_bacn_obj_name(oid.type);

    if (n)
        snprintf(buf, cap, "%s:%u", n, (unsigned)oid.instance);
    else
        snprintf(buf, cap, "%u:%u", (unsigned)oid.type, (unsigned)oid.instance);
    return buf;
}

/* ---- properties ---------------------------------------------------------- */

const char *sb_bacn_prop_name(uint32_t prop)
{
    for (size_t i = 0; i < COUNT(prop_names); i++)
        if (prop_names[i].id == prop)
            return prop_names[i].name;
    return NULL;
}

int sb_bacn_prop_parse(const char *s, uint32_t *out)
{
    char f[NAME_MAX_LEN];

    if (!s)
        return SB_EINVAL;
    /* clause 21: BACnetPropertyIdentifier is 22 bits wide (0..4194303) */
    if (number(s, SB_BAC_MAX_INSTANCE, out))
        return 0;
    if (!fold(s, f, sizeof(f)))
        return SB_EINVAL;
    for (size_t i = 0; i < COUNT(prop_names); i++)
        if (strcmp(prop_names[i].name, f) == 0) {
            *out = prop_names[i].id;
            return 0;
        }
    return SB_EINVAL;
}

/* ---- units --------------------------------------------------------------- */

enum sb_unit sb_bacn_unit(uint32_t bacnet_units)
{
    for (size_t i = 0; i < COUNT(unit_map); i++)
        if (unit_map[i].bac == bacnet_units)
            return unit_map[i].u;
    return SB_UNIT_INVALID;
}

bool sb_bacn_unit_from_sb(enum sb_unit u, uint32_t *out)
{
    for (size_t i = 0; i < COUNT(unit_map); i++)
        if (unit_map[i].u == u) {
            *out = unit_map[i].bac;
            return true;
        }
    return false;
}

const char *sb_bacn_unit_name(uint32_t bacnet_units)
{
    if (bacnet_units < COUNT(unit_names))
        return unit_names[bacnet_units];
    for (size_t i = 0; i < COUNT(unit_ext); i++)
        if (unit_ext[i].id == bacnet_units)
            return unit_ext[i].name;
    return NULL;
}

int sb_bacn_unit_parse(const char *s, uint32_t *out)
{
    char f[NAME_MAX_LEN];

    if (!s)
        return SB_EINVAL;
    if (number(s, 65535, out))        /* clause 21: Enumerated, 0..65535 in use */
        return 0;
    if (!fold(s, f, sizeof(f)))
        return SB_EINVAL;
    for (uint32_t i = 0; i < COUNT(unit_names); i++)
        if (unit_names[i] && strcmp(unit_names[i], f) == 0) {
            *out = i;
            return 0;
        }
    for (size_t i = 0; i < COUNT(unit_ext); i++)
        if (strcmp(unit_ext[i].name, f) == 0) {
            *out = unit_ext[i].id;
            return 0;
        }
    return SB_EINVAL;
}

/* ---- answers ------------------------------------------------------------- */

const char *sb_bacn_err_class_name(uint32_t c)
{
    return c < COUNT(err_classes) ? err_classes[c] : "?";
}

const char *sb_bacn_err_code_name(uint32_t c)
{
    for (size_t i = 0; i < COUNT(err_codes); i++)
        if (err_codes[i].id == c)
            return err_codes[i].name;
    return "?";
}

const char *sb_bacn_reject_name(uint32_t r)
{
    return r < COUNT(reject_names) ? reject_names[r] : "?";
}

const char *sb_bacn_abort_name(uint32_t r)
{
    return r < COUNT(abort_names) ? abort_names[r] : "?";
}

const char *sb_bacn_seg_name(uint32_t s)
{
    return s < COUNT(seg_names) ? seg_names[s] : "?";
}

/* ---- values ---------------------------------------------------------------- */

json_t *sb_bacn_value_json(const struct sb_bac_value *v)
{
    char buf[96];
    switch (v->type) {
    case SB_BAC_NULL: return json_null();
    case SB_BAC_BOOLEAN: return json_boolean(v->v.boolean);
    case SB_BAC_UNSIGNED: return v->v.u <= INT64_MAX ? json_integer((json_int_t)v->v.u) : json_real((double)v->v.u);
    case SB_BAC_SIGNED: return json_integer((json_int_t)v->v.i);
    case SB_BAC_REAL: return isfinite(v->v.real) ? json_real(v->v.real) : json_null();
    case SB_BAC_DOUBLE: return isfinite(v->v.dbl) ? json_real(v->v.dbl) : json_null();
    case SB_BAC_ENUMERATED: return json_integer(v->v.enumerated);
    case SB_BAC_CHAR_STRING:
        if (v->v.str.charset == SB_BAC_CS_UTF8 || v->v.str.charset == SB_BAC_CS_LATIN1)
            return json_stringn((const char *)v->v.str.p, v->v.str.len);
        return json_string("(non-UTF-8 text)");
    case SB_BAC_OBJECT_ID:
        return json_string(sb_bacn_obj_str(v->v.oid, buf, sizeof(buf)));
    case SB_BAC_BIT_STRING: {
        size_t n = v->v.bits.nbits < sizeof(buf) - 1 ? v->v.bits.nbits : sizeof(buf) - 1;
        for (size_t i = 0; i < n; i++)
            buf[i] = sb_bac_bit(&v->v.bits, i) ? '1' : '0';
        buf[n] = 0;
        return json_string(buf);
    }
    case SB_BAC_DATE:
        snprintf(buf, sizeof(buf), "%04d-%02d-%02d", v->v.date.year + 1900, v->v.date.month,
                 v->v.date.day);
        return json_string(buf);
    case SB_BAC_TIME:
        snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%02d", v->v.time.hour, v->v.time.min,
                 v->v.time.sec, v->v.time.hundredths);
        return json_string(buf);
    default: {
        size_t n = v->v.octets.len < 40 ? v->v.octets.len : 40, k = 0;
        for (size_t i = 0; i < n; i++)
            k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%02x", v->v.octets.p[i]);
        return json_string(buf);
    }
    }
}

/*
 * names.h - BACnet names for people and for sbems: object types, property
 * identifiers and engineering units (ANSI/ASHRAE 135-2020 clause 21), the
 * sbems unit of each BACnet unit, and a Brick/Haystack proposal for a
 * discovered object (units.c, brick.c).
 *
 * Point addresses in site documents name objects "analog-input:1" (or the
 * short "ai:1", or the number "0:1") and properties "present-value" (or
 * 85); these functions parse and print them.  Names are the standard's
 * ASN.1 identifiers (clause 21: BACnetObjectType, BACnetPropertyIdentifier,
 * BACnetEngineeringUnits), lower case with hyphens.
 *
 * Pure functions over static const tables: no allocation, no I/O, no
 * globals that change; thread-safe.  Every string returned is static and
 * never freed; the brick proposal points into static tables too.
 */
#ifndef SB_DRIVERS_BACNET_NAMES_H
#define SB_DRIVERS_BACNET_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "model/units.h"
#include "proto/bacnet/codec/tag.h"

/* ---- object types (BACnetObjectType) ---- */

/* "analog-input" for 0 ... "lift" for 59; NULL for a type the table does
 * not name (proprietary types are 128..1023). */
const char *sb_bacn_obj_name(uint16_t type);

/* The short form ("ai", "av", "msv", "tl", "dev"); NULL when none. */
const char *sb_bacn_obj_short(uint16_t type);

/* An object type: a name ("analog-input", "Analog-Input", "analog_input",
 * "analogInput"), a short form ("ai", "AV") or a number 0..1023.  Returns 0
 * or SB_EINVAL. */
int sb_bacn_obj_type_parse(const char *s, uint16_t *out);

/* "type:instance" with type as above and instance 0..4194303, e.g.
 * "analog-input:1", "av:3", "2:3".  Spaces around either part are allowed.
 * Returns 0 or SB_EINVAL. */
int sb_bacn_obj_parse(const char *s, struct sb_bac_oid *out);

/* "analog-input:1" ("128:4" for unnamed types) into buf; returns buf. */
char *sb_bacn_obj_str(struct sb_bac_oid oid, char *buf, size_t cap);

/* ---- properties (BACnetPropertyIdentifier) ---- */

/* "present-value" for 85; NULL for identifiers the table does not name
 * (it names those of proto/bacnet/codec/enums.h). */
const char *sb_bacn_prop_name(uint32_t prop);

/* A property: a name (same spellings as object types) or a number
 * 0..4194303.  Returns 0 or SB_EINVAL. */
int sb_bacn_prop_parse(const char *s, uint32_t *out);

/* ---- engineering units (BACnetEngineeringUnits) ---- */

#define SB_BACN_UNITS_NONE 95u       /* no-units */

/* The sbems unit of a BACnet unit: SB_UNIT_NONE for no-units (95), the
 * matching unit where sbems has one (degrees-fahrenheit -> SB_UNIT_FAHRENHEIT,
 * kilowatts -> SB_UNIT_KW, ...), SB_UNIT_INVALID otherwise (seconds,
 * luxes, delta-degrees, proprietary units 256..65535). */
enum sb_unit sb_bacn_unit(uint32_t bacnet_units);

/* "degrees-fahrenheit" for 64; NULL for a number the table does not name. */
const char *sb_bacn_unit_name(uint32_t bacnet_units);

/* A unit name ("degrees-celsius", "DEGREES_CELSIUS") or a number. */
int sb_bacn_unit_parse(const char *s, uint32_t *out);

/* The BACnet unit sbems would use to report u (its inverse mapping); false
 * when no BACnet unit corresponds (SB_UNIT_CCF). */
bool sb_bacn_unit_from_sb(enum sb_unit u, uint32_t *out);

/* ---- words for answers (clause 18) ---- */

/* "object", "property", ...; "?" past the table.  Error codes print as
 * their name when enums.h names them, else as a number (buf). */
const char *sb_bacn_err_class_name(uint32_t c);
const char *sb_bacn_err_code_name(uint32_t c);
const char *sb_bacn_reject_name(uint32_t r);
const char *sb_bacn_abort_name(uint32_t r);
/* "both", "transmit", "receive", "none" (BACnetSegmentation); "?". */
const char *sb_bacn_seg_name(uint32_t s);

/* ---- semantic proposal (brick.c) ---- */

/* What a point is, in the vocabulary of sbems's site document ("kind"). */
enum sb_bacn_kind {
    SB_BACN_K_TEMPERATURE = 0, SB_BACN_K_SETPOINT, SB_BACN_K_HUMIDITY, SB_BACN_K_CO2,
    SB_BACN_K_POWER, SB_BACN_K_ENERGY, SB_BACN_K_PRESSURE, SB_BACN_K_FLOW,
    SB_BACN_K_POSITION, SB_BACN_K_STATUS, SB_BACN_K_COMMAND, SB_BACN_K_OCCUPANCY,
    SB_BACN_K_OTHER, SB_BACN_K_COUNT
};

/* "temperature", ... "other" (the site document's point kinds); "?". */
const char *sb_bacn_kind_name(enum sb_bacn_kind k);

#define SB_BACN_TAGS_MAX 8

/* What brick.c proposes for one object. */
struct sb_bacn_proposal {
    const char *brick;             /* Brick class local name ("Point" if unknown) */
    enum sb_bacn_kind kind;        /* site-document kind */
    const char *tags[SB_BACN_TAGS_MAX];   /* Haystack marker tags, NULL-terminated */
    size_t ntags;                  /* entries used in tags */
    double confidence;             /* 0..1: how sure the rules are */
    const char *rule;              /* the rule that matched (its name, for docs) */
};

/* Proposes a Brick class, kind and tags from the object's name and
 * description (either may be NULL), its BACnet object type and units
 * (SB_BACN_UNITS_NONE when absent).  Deterministic: the same input gives
 * the same answer; the rules are a table in brick.c, described in
 * docs/internals/bacnet-discovery.md.  Never fails: unknown objects get
 * "Point", kind "other" (or one implied by the units) and a low
 * confidence. */
void sb_bacn_propose(const char *name, const char *description, uint16_t obj_type,
                     uint32_t bacnet_units, struct sb_bacn_proposal *out);

/* The kind of a commandable object (one with a Priority_Array, clause
 * 19.2): sbems writes only setpoints and commands, so a commandable
 * position or status ("Supply Fan Speed Command", %; "Fan Start/Stop") is a
 * command and a commandable quantity with units (°C, Pa) a setpoint. */
enum sb_bacn_kind sb_bacn_kind_commandable(enum sb_bacn_kind k, uint32_t bacnet_units);

/* ---- values ---- */

/* One decoded primitive as JSON (a new reference): numbers (NaN and
 * infinity as null), text, "analog-input:1" for identifiers, "0110" for
 * bit strings, "YYYY-MM-DD" / "hh:mm:ss.cc" for dates and times, hex
 * for octet strings. */
json_t *sb_bacn_value_json(const struct sb_bac_value *v);

#endif /* SB_DRIVERS_BACNET_NAMES_H */

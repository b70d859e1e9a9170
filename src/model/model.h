/*
 * model.h - the building model: sites, buildings, zones, equipment, points.
 *
 * The model says what exists and how to reach it: a site holds buildings
 * (with their IANA time zone), a building holds zones (comfort band, occupancy
 * schedule) and equipment (AHU, VAV, chiller, meter, ...; a VAV may be fed by
 * an AHU), and equipment exposes points (a sensor, setpoint or command, with
 * the unit its source reports, the driver binding that reads it, its Brick
 * class and Haystack tags).  Everything else in sbems refers to these objects.
 *
 * Identity: every object has a slug, [a-z0-9][a-z0-9_.-]{0,63}, unique among
 * objects of its kind (a zone and a point may share one).  Slugs are what
 * documents, the API and people use.  Points also have an integer id (> 0),
 * assigned by the store the first time a point is saved (model_sql.h) and
 * never reused: readings carry it.  A point built from a document has id 0
 * until then.
 *
 * Objects are kept in flat arrays; references are slugs (as written in the
 * document) plus the array index they resolve to, filled by
 * sb_model_validate().  The site JSON format (site_json.h) and SQLite
 * persistence (model_sql.h) build models; every path ends in
 * sb_model_validate(), so a model handed out by this module is valid.
 *
 * Ownership: struct sb_model is caller storage (sb_model_init/_release) or a
 * heap object (sb_model_new/_free).  The model owns every string, array and
 * index inside it; pointers returned by the lookups point into the model and
 * live until the model is released or changed.  A model is not locked: once
 * published to other threads treat it as read-only; to change it, build a new
 * one (sb_model_merge on a copy) and swap the pointer.
 * struct sb_model_errs collects messages; its owner releases it.
 */
#ifndef SB_MODEL_H
#define SB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/tz.h"
#include "model/slug.h"
#include "model/units.h"
#include "store/agg.h"

#define SB_POINT_ID_MAX 0x00ffffffu    /* largest point id the dense index takes */
#define SB_SCHED_MAX_PERIODS 6         /* occupied periods per day */
#define SB_MODEL_ERRS_MAX 200          /* messages kept; more are only counted */

enum sb_point_kind {
    SB_POINT_TEMPERATURE = 0,
    SB_POINT_HUMIDITY,
    SB_POINT_CO2,
    SB_POINT_OCCUPANCY,
    SB_POINT_POWER,
    SB_POINT_ENERGY,
    SB_POINT_SETPOINT,
    SB_POINT_COMMAND,
    SB_POINT_STATUS,
    SB_POINT_PRESSURE,
    SB_POINT_FLOW,
    SB_POINT_POSITION,
    SB_POINT_OTHER,
    SB_POINT_KIND_COUNT
};

enum sb_equip_type {
    SB_EQUIP_AHU = 0,
    SB_EQUIP_RTU,
    SB_EQUIP_VAV,
    SB_EQUIP_CHILLER,
    SB_EQUIP_BOILER,
    SB_EQUIP_HEAT_PUMP,
    SB_EQUIP_FAN_COIL,
    SB_EQUIP_THERMOSTAT,
    SB_EQUIP_METER,
    SB_EQUIP_SENSOR,
    SB_EQUIP_OTHER,
    SB_EQUIP_TYPE_COUNT
};

enum sb_driver {
    SB_DRIVER_BACNET = 0,
    SB_DRIVER_MODBUS,
    SB_DRIVER_MQTT,
    SB_DRIVER_REST,
    SB_DRIVER_WEATHER,
    SB_DRIVER_VIRTUAL,
    SB_DRIVER_COUNT
};

/* One occupied period of a day, local wall-clock minutes [start, end). */
struct sb_period {
    uint16_t start;         /* minutes after local midnight, 0..1439 */
    uint16_t end;           /* exclusive, start < end <= 1440 */
};

/* The periods of one day, sorted and non-overlapping. */
struct sb_day_sched {
    uint8_t n;                                   /* used entries of p[] */
    struct sb_period p[SB_SCHED_MAX_PERIODS];    /* occupied periods */
};

/* A weekly occupancy schedule; days not listed are unoccupied. */
struct sb_schedule {
    int set;                       /* 0: the zone has no schedule */
    struct sb_day_sched day[7];    /* 0 = Monday .. 6 = Sunday (ISO 8601) */
};

/* A comfort band in °C: heat below heating, cool above cooling. */
struct sb_band {
    double heating;        /* heating setpoint, °C */
    double cooling;        /* cooling setpoint, °C (> heating) */
};

/* Comfort bands for occupied and unoccupied (setback) hours. */
struct sb_comfort {
    int set;                    /* 0: the zone has no comfort band */
    struct sb_band occupied;    /* while the schedule says occupied */
    struct sb_band unoccupied;  /* otherwise (wider: setback) */
};

/* A string list (Haystack tags). */
struct sb_strv {
    char **v;       /* n owned, NUL-terminated strings */
    size_t n;       /* entries */
};

struct sb_site {
    char *slug;            /* external id */
    char *name;            /* display name */
    char *description;     /* free text, NULL if none */
};

struct sb_building {
    char *slug;            /* external id */
    char *name;            /* display name */
    char *site;            /* slug of its site */
    int32_t site_ix;       /* index into m->sites (resolved; -1 before) */
    char *address;         /* postal address, NULL if none */
    char *timezone;        /* IANA zone name ("America/New_York") */
    const struct sb_tz *tz;/* resolved zone (sb_tz_get: shared, never freed) */
    double area_m2;        /* gross floor area, m², NaN if unknown */
    double latitude;       /* degrees north, WGS 84, NaN if unknown */
    double longitude;      /* degrees east, WGS 84, NaN if unknown */
};

struct sb_zone {
    char *slug;                /* external id */
    char *name;                /* display name */
    char *building;            /* slug of its building */
    int32_t building_ix;       /* index into m->buildings (resolved) */
    int floor;                 /* storey, 0 = ground (negative: basement) */
    int has_floor;             /* floor was given */
    double area_m2;            /* floor area, m², NaN if unknown */
    struct sb_comfort comfort; /* comfort bands, °C */
    struct sb_schedule sched;  /* weekly occupancy, building local time */
    char *description;         /* free text, NULL if none */
};

struct sb_equipment {
    char *slug;                /* external id */
    char *name;                /* display name */
    enum sb_equip_type type;   /* what it is */
    char *building;            /* slug of its building */
    int32_t building_ix;       /* index into m->buildings (resolved) */
    char *zone;                /* slug of the zone it serves, NULL if none */
    int32_t zone_ix;           /* index into m->zones, -1 if none */
    char *parent;              /* slug of the equipment feeding it, NULL if none */
    int32_t parent_ix;         /* index into m->equipment, -1 if none */
    char *vendor;              /* manufacturer ("Trane"), NULL if unknown */
    char *model;               /* product model, NULL if unknown */
    char *brick;               /* Brick class ("AHU"), NULL if none */
    struct sb_strv tags;       /* Haystack marker tags */
    char *description;         /* free text, NULL if none */
};

/* Where a point's value comes from. */
struct sb_binding {
    enum sb_driver driver;     /* which driver reads/writes it */
    char *address;             /* driver address: a plain string (MQTT topic,
                                  URL, "host:port/unit/register") or, when
                                  address_json, a JSON object as compact text
                                  for the driver to parse; NULL only for
                                  virtual points */
    int address_json;          /* address holds JSON object text */
    uint32_t poll_ms;          /* poll interval, ms; 0 = driver default/push */
};

struct sb_point {
    uint32_t id;               /* stable integer id, 0 until first saved */
    char *slug;                /* external id */
    char *name;                /* display name */
    enum sb_point_kind kind;   /* what it measures / does */
    char *equipment;           /* slug of its equipment */
    int32_t equipment_ix;      /* index into m->equipment (resolved) */
    int32_t building_ix;       /* its equipment's building (resolved) */
    enum sb_unit unit;         /* unit the source reports */
    enum sb_unit canon;        /* canonical unit of readings (resolved) */
    struct sb_unit_conv to_canon; /* source unit -> canonical (resolved) */
    int writable;              /* the daemon may write it */
    int force_writable;        /* writable although not setpoint/command */
    double min, max;           /* valid range in the source unit, NaN = open */
    double counter_modulus;    /* energy register rollover value in the
                                  source unit, 0 = none */
    struct sb_binding source;  /* driver binding */
    char *brick;               /* Brick class, NULL if none */
    struct sb_strv tags;       /* Haystack marker tags */
    char *description;         /* free text, NULL if none */
};

struct sb_model_index;         /* slug and id lookups (model.c) */

struct sb_model {
    struct sb_site *sites;             /* nsites entries */
    size_t nsites;                     /* used */
    struct sb_building *buildings;     /* nbuildings entries */
    size_t nbuildings;                 /* used */
    struct sb_zone *zones;             /* nzones entries */
    size_t nzones;                     /* used */
    struct sb_equipment *equipment;    /* nequipment entries */
    size_t nequipment;                 /* used */
    struct sb_point *points;           /* npoints entries */
    size_t npoints;                    /* used */
    struct sb_model_index *idx;        /* lookups; NULL until validated */
};

/* Error messages, each naming the object and field.  Caller storage. */
struct sb_model_errs {
    char **msg;        /* n owned messages */
    size_t n;          /* messages kept (at most SB_MODEL_ERRS_MAX) */
    size_t total;      /* messages reported, including those not kept */
};

/* --- lifecycle ----------------------------------------------------------- */

void sb_model_init(struct sb_model *m);          /* empty model */
void sb_model_release(struct sb_model *m);       /* frees contents; m is empty after */
struct sb_model *sb_model_new(void);             /* NULL on ENOMEM */
void sb_model_free(struct sb_model *m);          /* NULL is fine */

/* Exchanges the contents of two models (how a built model replaces another). */
void sb_model_swap(struct sb_model *a, struct sb_model *b);

/* --- validation ---------------------------------------------------------- */

/* Checks every rule (docs/site-format.md "Validation"), resolves references
 * (the *_ix fields, building tz, point canon/to_canon) and builds the lookup
 * indexes.  Every problem is appended to errs (may be NULL).  Returns 0,
 * SB_EINVAL (problems found; lookups are not available), SB_ENOMEM. */
int sb_model_validate(struct sb_model *m, struct sb_model_errs *errs);

/* --- lookups (valid model; O(1)) ----------------------------------------- */

const struct sb_site *sb_model_site(const struct sb_model *m, const char *slug);
const struct sb_building *sb_model_building(const struct sb_model *m, const char *slug);
const struct sb_zone *sb_model_zone(const struct sb_model *m, const char *slug);
const struct sb_equipment *sb_model_equipment(const struct sb_model *m, const char *slug);
const struct sb_point *sb_model_point(const struct sb_model *m, const char *slug);
/* By integer id: a dense array index, the ingest hot path.  NULL if unknown. */
const struct sb_point *sb_model_point_by_id(const struct sb_model *m, uint32_t id);
/* The time zone of the building a point belongs to (never NULL: UTC if the
 * model is not validated). */
const struct sb_tz *sb_model_point_tz(const struct sb_model *m, const struct sb_point *p);

/* --- kinds and names ----------------------------------------------------- */

const char *sb_point_kind_name(enum sb_point_kind k);      /* "temperature"; "?" */
int sb_point_kind_parse(const char *s, enum sb_point_kind *out);   /* 0 / SB_EINVAL */
const char *sb_equip_type_name(enum sb_equip_type t);      /* "ahu"; "?" */
int sb_equip_type_parse(const char *s, enum sb_equip_type *out);
const char *sb_driver_name(enum sb_driver d);              /* "bacnet"; "?" */
int sb_driver_parse(const char *s, enum sb_driver *out);

/* How the store aggregates a kind: temperature, humidity, co2, setpoint,
 * pressure, flow, position, other -> MEAN; power -> RATE; energy -> COUNTER;
 * occupancy, command, status -> STATE. */
enum sb_agg_kind sb_point_kind_agg(enum sb_point_kind k);

/* The canonical unit of a kind's readings, or SB_UNIT_INVALID for kinds whose
 * unit depends on what they hold (setpoint, command, other: then it is the
 * canonical unit of the point's declared unit's dimension). */
enum sb_unit sb_point_kind_unit(enum sb_point_kind k);

/* Whether a unit of dimension d is allowed for kind k. */
int sb_point_kind_allows(enum sb_point_kind k, enum sb_dim d);

/* The point's counter modulus in its canonical unit (agg ctx counter_max). */
double sb_point_counter_max(const struct sb_point *p);

/* Fills an aggregation context for the point (kind, counter_max);
 * max_hold_ms is set to max_hold_ms (a store policy). */
void sb_point_agg_ctx(const struct sb_point *p, int64_t max_hold_ms, struct sb_agg_ctx *c);

/* Convert readings' values from their points' source units to the canonical
 * ones (68 degF -> 20 degC) in place; readings of unknown points are left
 * for ingest to refuse.  m must be validated. */
void sb_model_to_canonical(const struct sb_model *m, struct sb_reading *x, size_t n);


/* --- schedules ------------------------------------------------------------ */

/* Parse one day-set key ("mon-fri", "sat,sun", "mon") into a bit mask
 * (bit 0 = Monday) and one value ("07:00-12:00,13:00-19:00", "closed",
 * "00:00-24:00") into day d of s.  Return 0 or SB_EINVAL; msg (cap bytes)
 * gets a reason. */
int sb_schedule_parse_days(const char *key, unsigned *mask, char *msg, size_t cap);
int sb_schedule_parse_periods(const char *val, struct sb_day_sched *d, char *msg, size_t cap);

/* Writes day d's periods as text ("07:00-19:00,20:00-21:00", "closed" when
 * none) into buf.  Returns 0 or SB_ENOSPC. */
int sb_schedule_format_day(const struct sb_day_sched *d, char *buf, size_t cap);

/* Writes a day mask as the canonical day-set key ("mon-fri,sun"): runs of
 * consecutive days Monday..Sunday become ranges.  Returns 0 or SB_ENOSPC. */
int sb_schedule_format_days(unsigned mask, char *buf, size_t cap);

/* True if the schedule is occupied on ISO weekday wday (0 = Monday) at local
 * minute minute_of_day. */
int sb_schedule_occupied(const struct sb_schedule *s, int wday, int minute_of_day);

/* True if schedule s is occupied at now_ms read in time zone tz (NULL: UTC;
 * 0 without a schedule). */
int sb_schedule_occupied_at(const struct sb_schedule *s, const struct sb_tz *tz, int64_t now_ms);

/* True if zone z of m is occupied at now_ms by its schedule, read in its
 * building's time zone (0 without a schedule or a zone). */
int sb_zone_occupied(const struct sb_model *m, const struct sb_zone *z, int64_t now_ms);

/* True if point p carries Haystack marker tag (exact, case-sensitive). */
int sb_point_has_tag(const struct sb_point *p, const char *tag);

/* The zone's temperature: the first temperature point of equipment serving
 * zone index zi (the overview, zone status and comfort alerts agree on it),
 * or NULL. */
const struct sb_point *sb_zone_temp_point(const struct sb_model *m, int32_t zi);

/* --- error lists ---------------------------------------------------------- */

void sb_model_errs_init(struct sb_model_errs *e);
void sb_model_errs_release(struct sb_model_errs *e);
/* Appends a message (printf format).  Returns 0 or SB_ENOMEM. */
int sb_model_errs_add(struct sb_model_errs *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* SB_MODEL_H */

/*
 * plant.h - the simulated office building of sbems-sim: zones (ISO 13790
 * 5R1C with CO2 and moisture balances, zone.h), AHUs with economizer and a
 * dehumidifying chilled-water coil, VAV boxes with hot-water reheat,
 * air-cooled chillers, a boiler, thermostats, meters, the local controllers
 * that make it run sensibly on its own, and physical faults with ground
 * truth (sb_plant_fault_*).
 *
 * Pure and deterministic: no sockets, threads, clocks, globals or logging;
 * time is passed in by the caller, who also chooses the step (time
 * acceleration and "backfill" are just bigger dt_s per call; the plant
 * sub-steps internally at <= cfg.substep_s, itself <= 60 s).
 *
 * Points: every readable quantity has a name ("floor1.ahu.sat",
 * "floor1.zone3.temp", "meter.main.kw", "chiller.cop"), unit, kind and a
 * writable flag.  A writable point is a command with two values: the local
 * controller's own ("auto") value and an optional override; the EFFECTIVE
 * value is the override when one is set, else auto.  sb_plant_write() sets
 * the override, sb_plant_relinquish() returns control to the local loop.
 * The protocol layer keeps its own priority arrays and writes their winner
 * here (or relinquishes when the array is empty).
 *
 * Ownership: sb_plant_new() returns a heap object freed by sb_plant_free().
 * The EPW passed to sb_plant_new() is copied by pointer: the caller keeps it
 * alive and unchanged for the plant's lifetime.  Strings in
 * sb_plant_point_info point into the plant and live as long as it.
 */
#ifndef SB_SIM_PLANT_H
#define SB_SIM_PLANT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/weather/epw.h"

struct sb_plant;

/* Building description; sb_plant_config_default() fills the default site
 * (3-storey, ~5,000 m2 office in Boston), JSON can override any field. */
struct sb_plant_config {
    char name[64];              /* site name */
    char epw_file[256];         /* weather file as given (the caller loads it) */
    int floors;                 /* 1..20 */
    int zones_per_floor;        /* 5 (4 perimeter + core) or 1 (one open zone) */
    double floor_area_total;    /* conditioned floor area, m2 */
    double aspect;              /* plate length / width (>= 1) */
    double floor_height;        /* floor-to-floor, m */
    double perimeter_depth;     /* m */
    double wwr;                 /* window-to-wall ratio, 0..0.95 */
    double u_wall, u_roof, u_window;    /* W/(m2 K) */
    double g_window;            /* effective solar transmittance (incl. frame/shades) */
    double am_factor;           /* A_m/A_f (ISO 13790 Table 12; medium 2.5) */
    double cm_per_area;         /* C_m/A_f, J/(m2 K) (medium 165000) */
    double infiltration_ach;    /* perimeter zones, 1/h (core: none) */
    double c_air_factor;        /* air-node capacity multiplier (0 = pure 5R1C) */
    double m2_per_person;       /* peak occupant density */
    double w_per_person;        /* sensible heat per occupant, W */
    double lights_w_m2, plugs_w_m2;     /* peak power densities */
    double co2_lps_person;      /* CO2 generation, L/s per person */
    double co2_out_ppm;         /* outdoor CO2 */
    double occ_heat_sp, occ_cool_sp;    /* degC */
    double unocc_heat_sp, unocc_cool_sp;/* degC (night setback) */
    int occ_start_h, occ_end_h; /* AHU occupied hours on weekdays, local standard time */
    double vav_lps_m2_perim, vav_lps_m2_core;   /* VAV maximum airflow */
    double vav_min_frac;        /* VAV minimum / maximum airflow */
    double sat_sp;              /* supply-air temperature setpoint, degC */
    double static_sp;           /* duct static pressure setpoint, Pa */
    double oa_lps_person, oa_lps_m2;    /* minimum outdoor air (ASHRAE 62.1 office) */
    double econ_high_limit;     /* economizer fixed dry-bulb high limit, degC */
    double fan_dp_internal;     /* AHU internal pressure drop at design flow, Pa */
    double fan_eff;             /* fan + motor + drive efficiency */
    double fan_floor_frac;      /* minimum fan power while running / design */
    int chillers;               /* identical air-cooled chillers, 1..4 */
    double chiller_kw;          /* capacity each at AHRI conditions (0 = auto-size) */
    double chiller_cop;         /* COP at AHRI 550/590 (35 degC ambient, 6.67 degC CHW) */
    double chw_sp;              /* chilled-water supply setpoint, degC */
    double boiler_eff;          /* gas boiler efficiency (HHV) */
    double hw_temp;             /* hot-water supply temperature, degC */
    int tstat_zones;            /* perimeter zones per floor with a thermostat (0..4) */
    double substep_s;           /* internal step, 1..60 s */
    double latent_w_per_person; /* latent heat per occupant, W (moisture = W / h_fg) */
    double moist_cap_factor;    /* zone moisture capacitance / zone air mass */
};

/* What a point is, for registries and protocol mapping. */
enum sb_plant_kind {
    SB_PK_TEMPERATURE, SB_PK_SETPOINT, SB_PK_POWER, SB_PK_ENERGY, SB_PK_FLOW,
    SB_PK_PRESSURE, SB_PK_POSITION, SB_PK_CO2, SB_PK_OCCUPANCY, SB_PK_STATUS,
    SB_PK_RATIO, SB_PK_IRRADIANCE, SB_PK_HUMIDITY, SB_PK_MODE
};

struct sb_plant_point_info {
    const char *name;           /* "floor1.zone3.temp" */
    const char *unit;           /* "degC", "kW", "kWh", "m3/s", "Pa", "%", "ppm", "" */
    enum sb_plant_kind kind;
    int writable;               /* 1: commandable (write/relinquish) */
    int overridden;             /* 1: an override is in force */
    double min, max;            /* accepted range for writes */
};

/* Fills *cfg with the default site. */
void sb_plant_config_default(struct sb_plant_config *cfg);

/* Checks a config; SB_ECONFIG with "field: problem" in err. */
int sb_plant_config_check(const struct sb_plant_config *cfg, char *err, size_t errlen);

/* Overlays a JSON object (text[len]) on *cfg (start from the default):
 * {"name", "epw", "floors", "zones_per_floor", "floor_area_m2", ...} - see
 * docs/internals/sim-physics.md.  Unknown keys are rejected.  Returns 0,
 * SB_EINVAL (bad JSON / type) or SB_ECONFIG (bad value), message in err. */
int sb_plant_config_from_json(const char *text, size_t len, struct sb_plant_config *cfg,
                              char *err, size_t errlen);

/* Builds the plant at simulated time start_ms (Unix ms), zones at steady
 * conditions near their setpoints.  Returns 0, SB_ECONFIG, SB_ENOMEM. */
int sb_plant_new(const struct sb_plant_config *cfg, const struct sb_epw *epw, int64_t start_ms,
                 struct sb_plant **out, char *err, size_t errlen);
void sb_plant_free(struct sb_plant *p);

/* Advances the plant by dt_s seconds ending at now_ms (the step covers
 * (now_ms - dt_s, now_ms]); any dt_s > 0 is split into sub-steps.
 * Returns 0 or SB_EINVAL (dt_s not in (0, 366 days], non-finite). */
int sb_plant_step(struct sb_plant *p, double dt_s, int64_t now_ms);

/* Simulated time of the state, Unix ms. */
int64_t sb_plant_time_ms(const struct sb_plant *p);

/* Point registry: indices are stable for the plant's lifetime. */
int sb_plant_point_count(const struct sb_plant *p);
int sb_plant_find(const struct sb_plant *p, const char *name);     /* index or SB_ENOENT */
int sb_plant_point(const struct sb_plant *p, int idx, struct sb_plant_point_info *out);
int sb_plant_read(const struct sb_plant *p, int idx, double *v);    /* effective value */
int sb_plant_read_auto(const struct sb_plant *p, int idx, double *v);   /* local loop's value */
int sb_plant_write(struct sb_plant *p, int idx, double v);  /* SB_ENOTSUP, SB_ERANGE, SB_ENAN */
int sb_plant_relinquish(struct sb_plant *p, int idx);

/* A zone controller that runs its own occupancy schedule (a VAV box
 * following its BACnet Schedule object, sim/bacdev.c): zone
 * "floorF.zoneZ", mode 1 occupied, 0 unoccupied, -1 back to the
 * building's hours (the default).  A thermostat's explicit mode still
 * wins; a zone its schedule makes occupied runs its air handler.  0,
 * SB_ENOENT (no such zone), SB_EINVAL. */
int sb_plant_zone_schedule(struct sb_plant *p, const char *zone, int mode);

/* By-name conveniences (linear lookup; cache indices in hot paths). */
int sb_plant_get(const struct sb_plant *p, const char *name, double *v);
int sb_plant_set(struct sb_plant *p, const char *name, double v);

/*
 * Physical faults.  The simulator's fault manager decides when a fault
 * starts and ends and writes the ground-truth labels; the plant only makes
 * the physics wrong in the specified way (docs/internals/sim-physics.md,
 * "Faults").  Equipment names: "floorF.ahu" (AHU faults), "floorF.zoneZ"
 * (VAV box and zone faults), "chiller".  Value by class:
 *   oa_damper_stuck      AHU   actual OA damper position, % 0..100
 *   sat_sensor_bias      AHU   supply-air sensor error, K -20..20
 *   ccv_stuck            AHU   cooling valve position, % 0..100
 *   ccv_leak             AHU   minimum water flow, % of full flow 0..100
 *   reheat_stuck         zone  reheat valve position, % 0..100
 *   reheat_leak          zone  minimum hot-water flow, % of full flow 0..100
 *   vav_damper_stuck     zone  damper position, % 0..100
 *   zone_sensor_drift    zone  sensor drift rate, K/day -10..10, from the
 *                              plant time when set
 *   fan_failure          AHU   value ignored
 *   chiller_cop_degradation chiller  fraction of COP lost, 0..0.9
 * Command points keep showing what the controller commands; measured
 * points show what the (possibly faulty) sensors read.
 */
enum sb_plant_fault {
    SB_PF_OA_DAMPER_STUCK, SB_PF_SAT_SENSOR_BIAS, SB_PF_CCV_STUCK, SB_PF_CCV_LEAK,
    SB_PF_REHEAT_STUCK, SB_PF_REHEAT_LEAK, SB_PF_VAV_DAMPER_STUCK, SB_PF_ZONE_SENSOR_DRIFT,
    SB_PF_FAN_FAILURE, SB_PF_CHILLER_COP_DEGRADATION, SB_PF_COUNT
};

/* "oa_damper_stuck", ...: a static string, NULL for an out-of-range f. */
const char *sb_plant_fault_name(enum sb_plant_fault f);

/* The class called name (exact, lower case), or SB_ENOENT. */
int sb_plant_fault_parse(const char *name);

/* Injects (or, when already set, replaces the value of) fault f on the
 * equipment.  A drifting sensor keeps the offset it has accumulated when
 * its rate is replaced.  Returns 0, SB_EINVAL (f out of range), SB_ENOENT
 * (no such equipment, or the wrong kind for f), SB_ERANGE (value outside
 * the class's range or not finite). */
int sb_plant_fault_set(struct sb_plant *p, enum sb_plant_fault f, const char *equipment, double value);

/* Removes fault f from the equipment: the device works normally again (a
 * drifted sensor reads true: recalibrated).  Clearing a fault that is not
 * set is not an error.  Returns 0, SB_EINVAL or SB_ENOENT as above. */
int sb_plant_fault_clear(struct sb_plant *p, enum sb_plant_fault f, const char *equipment);

/* 1 when fault f is set on the equipment (its value in *value if value is
 * not NULL), 0 when not, or SB_EINVAL / SB_ENOENT as above. */
int sb_plant_fault_active(const struct sb_plant *p, enum sb_plant_fault f, const char *equipment,
                          double *value);

#endif /* SB_SIM_PLANT_H */

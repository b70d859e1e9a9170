/* site.c - the default site, its config table and JSON loader, zone
 * geometry and occupancy schedules (see plant.h, docs/internals/sim-physics.md). */
#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "sim/plant/plant_int.h"

void sb_plant_config_default(struct sb_plant_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", "sbems-sim office");
    snprintf(c->epw_file, sizeof c->epw_file, "%s",
             "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    c->floors = 3;
    c->zones_per_floor = 5;
    c->floor_area_total = 5000.0;
    c->aspect = 1.5;
    c->floor_height = 3.6;
    c->perimeter_depth = 4.5;
    c->wwr = 0.4;
    c->u_wall = 0.35;           /* ~ASHRAE 90.1-2016 zone 5 steel-framed wall */
    c->u_roof = 0.18;
    c->u_window = 2.0;
    c->g_window = 0.38;
    c->am_factor = 2.5;         /* ISO 13790 Table 12, medium */
    c->cm_per_area = 165000.0;
    c->infiltration_ach = 0.3;
    c->c_air_factor = 2.0;
    c->m2_per_person = 18.6;    /* DOE reference medium office */
    c->w_per_person = 75.0;     /* ASHRAE Fundamentals ch. 18, office, sensible */
    c->lights_w_m2 = 8.8;       /* ASHRAE 90.1-2013 office, 0.82 W/ft2 */
    c->plugs_w_m2 = 10.0;
    c->co2_lps_person = 0.0052; /* Persily & de Jonge 2017, adult at 1.2 met */
    c->co2_out_ppm = 420.0;
    c->occ_heat_sp = 21.0;
    c->occ_cool_sp = 24.0;
    c->unocc_heat_sp = 15.6;
    c->unocc_cool_sp = 26.7;
    c->occ_start_h = 6;
    c->occ_end_h = 19;
    c->vav_lps_m2_perim = 7.0;
    c->vav_lps_m2_core = 4.0;
    c->vav_min_frac = 0.3;
    c->sat_sp = 12.8;
    c->static_sp = 250.0;
    c->oa_lps_person = 2.5;     /* ASHRAE 62.1-2016 Table 6.2.2.1, office */
    c->oa_lps_m2 = 0.3;
    c->econ_high_limit = 21.0;  /* ASHRAE 90.1-2016 Table 6.5.1.1.3, fixed dry-bulb */
    c->fan_dp_internal = 500.0;
    c->fan_eff = 0.6;
    c->fan_floor_frac = 0.05;
    c->chillers = 2;
    c->chiller_kw = 0.0;
    c->chiller_cop = 3.0;
    c->chw_sp = 6.7;
    c->boiler_eff = 0.85;
    c->hw_temp = 60.0;
    c->tstat_zones = 2;
    c->substep_s = 60.0;
    c->latent_w_per_person = 55.0;  /* ASHRAE Fundamentals 2017 ch. 18 Table 1, office */
    c->moist_cap_factor = 8.0;      /* furnished office, see sim-physics.md */
}

enum opt_type { OPT_INT, OPT_DBL, OPT_STR };

/* The configuration table: JSON key, type, offset, bounds, one line of doc. */
static const struct opt {
    const char *key;
    enum opt_type type;
    size_t off;
    double lo, hi;
    const char *doc;
} opts[] = {
#define O(k, t, f, lo, hi, d) { k, t, offsetof(struct sb_plant_config, f), lo, hi, d }
    O("name", OPT_STR, name, 0, 0, "site name"),
    O("epw", OPT_STR, epw_file, 0, 0, "EPW weather file"),
    O("floors", OPT_INT, floors, 1, 20, "storeys"),
    O("zones_per_floor", OPT_INT, zones_per_floor, 1, 5, "5 (perimeter+core) or 1"),
    O("floor_area_m2", OPT_DBL, floor_area_total, 50, 200000, "total floor area"),
    O("aspect", OPT_DBL, aspect, 1, 10, "plate length/width"),
    O("floor_height_m", OPT_DBL, floor_height, 2.4, 8, "floor-to-floor height"),
    O("perimeter_depth_m", OPT_DBL, perimeter_depth, 1, 15, "perimeter zone depth"),
    O("wwr", OPT_DBL, wwr, 0, 0.95, "window-to-wall ratio"),
    O("u_wall", OPT_DBL, u_wall, 0.05, 5, "wall U, W/m2K"),
    O("u_roof", OPT_DBL, u_roof, 0.05, 5, "roof U, W/m2K"),
    O("u_window", OPT_DBL, u_window, 0.5, 7, "window U, W/m2K"),
    O("g_window", OPT_DBL, g_window, 0.05, 0.9, "window g-value"),
    O("mass_am_factor", OPT_DBL, am_factor, 2.5, 3.5, "A_m/A_f (ISO 13790 Table 12)"),
    O("mass_cm_j_m2k", OPT_DBL, cm_per_area, 80000, 370000, "C_m/A_f"),
    O("infiltration_ach", OPT_DBL, infiltration_ach, 0, 3, "perimeter infiltration"),
    O("air_capacity_factor", OPT_DBL, c_air_factor, 0, 20, "air-node capacity multiplier"),
    O("m2_per_person", OPT_DBL, m2_per_person, 2, 200, "occupant density"),
    O("w_per_person", OPT_DBL, w_per_person, 30, 200, "sensible W/person"),
    O("lights_w_m2", OPT_DBL, lights_w_m2, 0, 40, "lighting power density"),
    O("plugs_w_m2", OPT_DBL, plugs_w_m2, 0, 60, "plug power density"),
    O("co2_lps_person", OPT_DBL, co2_lps_person, 0, 0.05, "CO2 generation"),
    O("co2_outdoor_ppm", OPT_DBL, co2_out_ppm, 300, 1000, "outdoor CO2"),
    O("occupied_heating_c", OPT_DBL, occ_heat_sp, 10, 30, ""),
    O("occupied_cooling_c", OPT_DBL, occ_cool_sp, 15, 35, ""),
    O("unoccupied_heating_c", OPT_DBL, unocc_heat_sp, 5, 30, ""),
    O("unoccupied_cooling_c", OPT_DBL, unocc_cool_sp, 15, 40, ""),
    O("occupied_start_h", OPT_INT, occ_start_h, 0, 23, "weekday AHU start"),
    O("occupied_end_h", OPT_INT, occ_end_h, 1, 24, "weekday AHU stop"),
    O("vav_lps_m2_perimeter", OPT_DBL, vav_lps_m2_perim, 1, 30, "VAV max flow"),
    O("vav_lps_m2_core", OPT_DBL, vav_lps_m2_core, 1, 30, "VAV max flow"),
    O("vav_min_fraction", OPT_DBL, vav_min_frac, 0.05, 1, "VAV min/max flow"),
    O("sat_setpoint_c", OPT_DBL, sat_sp, 8, 20, "supply air temperature"),
    O("static_setpoint_pa", OPT_DBL, static_sp, 50, 1000, "duct static pressure"),
    O("oa_lps_person", OPT_DBL, oa_lps_person, 0, 20, "min OA per person"),
    O("oa_lps_m2", OPT_DBL, oa_lps_m2, 0, 5, "min OA per area"),
    O("economizer_high_limit_c", OPT_DBL, econ_high_limit, 5, 30, ""),
    O("fan_internal_pa", OPT_DBL, fan_dp_internal, 50, 2000, "AHU internal drop"),
    O("fan_efficiency", OPT_DBL, fan_eff, 0.2, 0.9, "fan total efficiency"),
    O("fan_floor", OPT_DBL, fan_floor_frac, 0, 0.5, "min fan power fraction"),
    O("chillers", OPT_INT, chillers, 1, 4, "air-cooled chillers"),
    O("chiller_kw", OPT_DBL, chiller_kw, 0, 10000, "capacity each (0 auto)"),
    O("chiller_cop", OPT_DBL, chiller_cop, 1.5, 8, "AHRI COP"),
    O("chw_setpoint_c", OPT_DBL, chw_sp, 4, 15, "CHW supply"),
    O("boiler_efficiency", OPT_DBL, boiler_eff, 0.5, 1.1, ""),
    O("hw_temp_c", OPT_DBL, hw_temp, 30, 90, "hot water supply"),
    O("thermostat_zones", OPT_INT, tstat_zones, 0, 4, "perimeter zones/floor with a thermostat"),
    O("substep_s", OPT_DBL, substep_s, 1, 60, "internal step"),
    O("latent_w_per_person", OPT_DBL, latent_w_per_person, 0, 200, "latent W/person"),
    O("moisture_capacity_factor", OPT_DBL, moist_cap_factor, 1, 50, "zone moisture buffering"),
#undef O
};

int sb_plant_config_check(const struct sb_plant_config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const char *base = (const char *)c;
        double v;

        if (opts[i].type == OPT_STR)
            continue;
        v = opts[i].type == OPT_INT ? *(const int *)(const void *)(base + opts[i].off)
                                    : *(const double *)(const void *)(base + opts[i].off);
        if (!(v >= opts[i].lo && v <= opts[i].hi)) {
            sb_errf(err, errlen, "%s: %g not in [%g, %g]", opts[i].key, v, opts[i].lo, opts[i].hi);
            return SB_ECONFIG;
        }
    }
    if (c->zones_per_floor != 1 && c->zones_per_floor != 5) {
        sb_errf(err, errlen, "zones_per_floor: must be 1 or 5");
        return SB_ECONFIG;
    }
    if (c->occ_heat_sp > c->occ_cool_sp - 1 || c->unocc_heat_sp > c->unocc_cool_sp - 1 ||
        c->occ_start_h >= c->occ_end_h) {
        sb_errf(err, errlen, "setpoints/hours: heating must be >= 1 K below cooling, start < end");
        return SB_ECONFIG;
    }
    if (c->zones_per_floor == 5) {
        double w = sqrt(c->floor_area_total / c->floors / c->aspect);

        if (w < 2.5 * c->perimeter_depth) {
            sb_errf(err, errlen, "perimeter_depth_m: %g m too deep for a %.1f m wide plate",
                    c->perimeter_depth, w);
            return SB_ECONFIG;
        }
    }
    return 0;
}

static int set_opt(struct sb_plant_config *c, const struct opt *o, json_t *v, char *err,
                   size_t errlen)
{
    char *base = (char *)c;

    if (o->type == OPT_STR) {
        if (!json_is_string(v) || json_string_length(v) >= (o->off == offsetof(struct sb_plant_config, name) ? sizeof c->name : sizeof c->epw_file)) {
            sb_errf(err, errlen, "%s: expected a string of reasonable length", o->key);
            return SB_EINVAL;
        }
        strcpy(base + o->off, json_string_value(v));
        return 0;
    }
    if (!json_is_number(v) || (o->type == OPT_INT && !json_is_integer(v))) {
        sb_errf(err, errlen, "%s: expected %s", o->key, o->type == OPT_INT ? "an integer" : "a number");
        return SB_EINVAL;
    }
    if (o->type == OPT_INT) {
        json_int_t n = json_integer_value(v);

        *(int *)(void *)(base + o->off) = (n < -1000000 || n > 1000000) ? -1 : (int)n;
    } else {
        *(double *)(void *)(base + o->off) = json_number_value(v);
    }
    return 0;
}

int sb_plant_config_from_json(const char *text, size_t len, struct sb_plant_config *cfg,
                              char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
    const char *key;
    int rc = 0;

    if (!root || !json_is_object(root)) {
        sb_errf(err, errlen, "line %d column %d: %s", je.line, je.column,
                root ? "expected a JSON object" : je.text);
        rc = SB_EINVAL;
        goto out;
    }
    json_object_foreach(root, key, v) {
        size_t i;

        for (i = 0; i < sizeof opts / sizeof opts[0] && strcmp(opts[i].key, key) != 0; i++)
            ;
        if (i == sizeof opts / sizeof opts[0]) {
            sb_errf(err, errlen, "%s: unknown key", key);
            rc = SB_EINVAL;
            goto out;
        }
        if ((rc = set_opt(cfg, &opts[i], v, err, errlen)) != 0)
            goto out;
    }
    rc = sb_plant_config_check(cfg, err, errlen);
out:
    json_decref(root);
    return rc;
}

/* Facade of a perimeter zone index 1..4: S, E, N, W. */
static void zone_facades(const struct sb_plant_config *c, int index, double len_l, double len_w,
                         double win[SB_FACADE_COUNT], double *opaque, double *area)
{
    double d = c->perimeter_depth, h = c->floor_height;
    double face_len[SB_FACADE_COUNT] = { len_l, len_w, len_l, len_w };

    memset(win, 0, sizeof(double) * SB_FACADE_COUNT);
    *opaque = 0;
    if (c->zones_per_floor == 1) {
        for (int f = 0; f < SB_FACADE_COUNT; f++) {
            win[f] = c->wwr * face_len[f] * h;
            *opaque += (1 - c->wwr) * face_len[f] * h;
        }
        *area = len_l * len_w;
    } else if (index <= 4) {
        int f = index - 1;

        win[f] = c->wwr * face_len[f] * h;
        *opaque = (1 - c->wwr) * face_len[f] * h;
        *area = (face_len[f] - d) * d;          /* trapezoid */
    } else {
        *area = (len_l - 2 * d) * (len_w - 2 * d);
    }
}

int sb_plant__zone_geometry(const struct sb_plant_config *c, int floor, int index,
                            struct sb_zone_params *zp, double win[SB_FACADE_COUNT], double *people)
{
    double a_floor = c->floor_area_total / c->floors;
    double w = sqrt(a_floor / c->aspect), l = c->aspect * w, opaque, area, roof;
    int core = c->zones_per_floor == 5 && index == 5;

    zone_facades(c, index, l, w, win, &opaque, &area);
    roof = floor == c->floors ? area : 0.0;     /* ground slab treated as adiabatic */
    memset(zp, 0, sizeof *zp);
    zp->floor_area = area;
    zp->volume = area * c->floor_height * 0.75;     /* ceiling plenum excluded */
    zp->wall_area = opaque + roof;
    zp->u_wall = zp->wall_area > 0 ? (c->u_wall * opaque + c->u_roof * roof) / zp->wall_area : 0;
    zp->window_area = win[0] + win[1] + win[2] + win[3];
    zp->u_window = c->u_window;
    zp->g_window = c->g_window;
    zp->am_factor = c->am_factor;
    zp->cm_per_area = c->cm_per_area;
    zp->infiltration_ach = core ? 0.0 : c->infiltration_ach;
    zp->c_air_factor = c->c_air_factor;
    zp->moist_cap_factor = c->moist_cap_factor;
    *people = area / c->m2_per_person;
    return 0;
}

/* Hourly fractions of peak after the ASHRAE 90.1-1989 User's Manual office
 * schedules used by the DOE commercial reference buildings (Deru et al.,
 * NREL/TP-5500-46861, 2011), rounded.  Rows: weekday, Saturday, Sunday. */
static const float OCC[3][24] = {
    { 0, 0, 0, 0, 0, 0, .1f, .2f, .95f, .95f, .95f, .95f, .5f, .95f, .95f, .95f, .95f, .3f, .1f, .1f, .1f, .1f, .05f, .05f },
    { 0, 0, 0, 0, 0, 0, .1f, .1f, .3f, .3f, .3f, .3f, .1f, .1f, .1f, .1f, .1f, 0, 0, 0, 0, 0, 0, 0 },
    { 0 },
};
static const float LIGHT[3][24] = {
    { .05f, .05f, .05f, .05f, .05f, .1f, .1f, .3f, .9f, .9f, .9f, .9f, .8f, .9f, .9f, .9f, .9f, .5f, .3f, .3f, .2f, .2f, .1f, .05f },
    { .05f, .05f, .05f, .05f, .05f, .05f, .1f, .1f, .3f, .3f, .3f, .3f, .15f, .15f, .15f, .15f, .15f, .05f, .05f, .05f, .05f, .05f, .05f, .05f },
    { .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f, .05f },
};
static const float PLUG[3][24] = {
    { .4f, .4f, .4f, .4f, .4f, .4f, .4f, .4f, .9f, .9f, .9f, .9f, .8f, .9f, .9f, .9f, .9f, .5f, .4f, .4f, .4f, .4f, .4f, .4f },
    { .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .5f, .5f, .5f, .5f, .35f, .35f, .35f, .35f, .35f, .3f, .3f, .3f, .3f, .3f, .3f, .3f },
    { .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f, .3f },
};

void sb_plant__schedules(double hour, int weekday, double *occ, double *light, double *plug)
{
    int row = weekday == 6 ? 1 : weekday == 0 ? 2 : 0;
    int h = (int)floor(hour);

    if (h < 0 || h > 23)
        h = 0;
    *occ = OCC[row][h];
    *light = LIGHT[row][h];
    *plug = PLUG[row][h];
}

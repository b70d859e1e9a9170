/*
 * plant_int.h - internals of sbems-sim's plant shared by plant.c (physics
 * and controllers), site.c (config, geometry), points.c (registry) and
 * fault.c (physical faults).  Not part of the API: include plant.h instead.
 */
#ifndef SB_SIM_PLANT_INT_H
#define SB_SIM_PLANT_INT_H

#include "sim/plant/equip.h"
#include "sim/plant/plant.h"
#include "sim/plant/zone.h"
#include "sim/weather/solar.h"

/* A commandable value: local loop's value and an optional override (NaN = none). */
struct sb_cmd {
    double autov;       /* written by the local controller every sub-step */
    double ovr;         /* written by sb_plant_write, NaN when relinquished */
};

static inline double sb_cmd_eff(const struct sb_cmd *c)
{
    return c->ovr == c->ovr ? c->ovr : c->autov;
}

/* One physical fault on one piece of equipment (fault.c, plant.h). */
struct sb_fault {
    int on;             /* 1 while injected */
    double value;       /* as given: %, K, K/day or fraction (plant.h) */
    int64_t t0_ms;      /* plant time when set (or last re-set) */
    double base;        /* sensor drift: offset already accumulated at t0, K */
};

struct sb_vav {
    double q_max, q_min;        /* airflow limits, m3/s */
    double q_open;              /* flow with damper fully open at the static setpoint, m3/s */
    struct sb_cmd flow_sp;      /* airflow setpoint, m3/s */
    struct sb_cmd damper;       /* damper position 0..1 */
    struct sb_cmd reheat;       /* reheat valve 0..1 */
    struct sb_pi clg, htg;      /* zone cooling / heating loops, 0..1 */
    double flow;                /* actual airflow, m3/s */
    double dat;                 /* discharge air temperature, degC */
    double reheat_kw;           /* heat added by the reheat coil */
};

struct sb_zone_ent {
    struct sb_zone z;           /* thermal state */
    int floor;                  /* 1-based */
    int index;                  /* 1-based within the floor */
    double win_area[SB_FACADE_COUNT];   /* window area per orientation, m2 */
    double people_peak;         /* design occupants */
    struct sb_cmd htg_sp, clg_sp;       /* effective zone setpoints, degC */
    int has_tstat;              /* a wall thermostat is installed */
    struct sb_cmd tstat_sp;     /* thermostat setpoint (centre of the 3 K band) */
    struct sb_cmd tstat_mode;   /* 0 auto (schedule), 1 occupied, 2 unoccupied */
    int own_sched;              /* its controller's own schedule: -1 none (the building's
                                   hours), 0 unoccupied, 1 occupied (sb_plant_zone_schedule) */
    double occupied;            /* 1 when the zone is in occupied mode */
    double occ;                 /* occupants now */
    double lights_kw, plugs_kw; /* electric power */
    double phi_int_w, phi_sol_w, phi_hvac_w;   /* last sub-step's heat flows */
    double w_gen;               /* occupants' moisture, kg/s */
    double t_meas;              /* zone temperature sensor reading, degC */
    double rh;                  /* relative humidity, % (reported) */
    struct sb_zone_out zo;      /* last sub-step's flows (balances, tests) */
    struct sb_vav vav;
    struct sb_fault flt[SB_PF_COUNT];   /* VAV / zone faults */
};

struct sb_ahu {
    int first, n;               /* zone range in p->zones */
    struct sb_cmd fan_en;       /* supply fan on/off */
    struct sb_cmd fan_speed;    /* 0..1 */
    struct sb_cmd oa_damper;    /* outdoor-air fraction 0..1 */
    struct sb_cmd ccv;          /* cooling-coil valve 0..1 */
    struct sb_cmd sat_sp;       /* degC */
    struct sb_cmd static_sp;    /* Pa */
    struct sb_pi sat_pi;        /* 0..2: economizer 0..1, then valve 1..2 */
    struct sb_pi sp_pi;         /* fan speed */
    int night_call;             /* unoccupied heating/cooling call latched */
    double q_des, p0, c_fan, k_int;     /* fan curve and AHU internal loss */
    double fan_kw_des;          /* design fan power, kW */
    double ua, ua_o, mw_des;    /* coil UA overall and air side (W/K), design water flow (kg/s) */
    double flow, static_pa, fan_kw;     /* state */
    double t_ret, t_mix, t_sa, oa_frac, coil_kw, min_oa_frac;
    double t_sa_meas;           /* supply-air sensor reading (biased by a fault) */
    double w_ret, w_mix, w_sa;  /* humidity ratios, kg/kg */
    double coil_lat_kw;         /* latent part of coil_kw */
    double cond;                /* condensate, kg/s */
    double t_adp;               /* coil apparatus dew point, degC */
    double coil_f;              /* dry share of the coil (last sub-step; solver hint) */
    double sa_rh, ra_rh;        /* supply / return relative humidity, % (reported) */
    double co2_ret, co2_sup;
    double econ;                /* 1 when the economizer is enabled */
    struct sb_fault flt[SB_PF_COUNT];   /* AHU faults */
};

struct sb_plant {
    struct sb_plant_config cfg;
    const struct sb_epw *epw;   /* borrowed */
    int64_t now_ms;
    int64_t sub_ms;             /* time at the end of the current sub-step */
    double p_atm;               /* barometric pressure at the site's elevation, Pa */
    double w_out;               /* outdoor humidity ratio now, kg/kg */
    int nzones, nahus;
    struct sb_zone_ent *zones;
    struct sb_ahu *ahus;
    /* weather and sun now */
    struct sb_weather wx;
    struct sb_solar sun;
    double irr[SB_FACADE_COUNT];
    double hour_of_year, local_hour;
    int weekday;                /* 0 Sunday .. 6 Saturday */
    double occ_sched;           /* 1 in scheduled occupied hours */
    /* chilled-water plant */
    struct sb_cmd ch_en;        /* plant enable */
    struct sb_cmd chw_sp;       /* degC */
    double ch_cap_kw;           /* rated capacity each */
    int ch_on;                  /* chillers running */
    double ch_running;          /* ch_on as a point value */
    double t_chw, c_loop;       /* loop supply temperature, loop capacity J/K */
    double ch_load_kw, ch_kw, ch_cop, ch_plr;
    struct sb_fault ch_flt[SB_PF_COUNT];  /* chiller faults */
    /* hot water */
    struct sb_cmd blr_en;
    double blr_load_kw, blr_gas_kw;
    /* meters */
    double m_main_kw, m_light_kw, m_plug_kw, m_hvac_kw, m_fan_kw;
    double m_main_kwh, m_light_kwh, m_plug_kwh, m_hvac_kwh, m_gas_kwh, m_chiller_kwh, m_fan_kwh;
    /* registry (points.c) */
    struct sb_plant_pt *pts;
    int npts, cap_pts;
};

/* site.c: geometry of zone i (fills params, windows, people) */
int sb_plant__zone_geometry(const struct sb_plant_config *c, int floor, int index,
                            struct sb_zone_params *zp, double win[SB_FACADE_COUNT], double *people);
/* site.c: schedules (fractions of peak) at a local hour and weekday */
void sb_plant__schedules(double hour, int weekday, double *occ, double *light, double *plug);
/* fault.c: sensor readings from the true state and any sensor faults */
void sb_plant__sensors(struct sb_plant *p);
double sb_plant__drift(const struct sb_fault *f, int64_t t_ms);
/* points.c */
int sb_plant__build_points(struct sb_plant *p);
void sb_plant__free_points(struct sb_plant *p);

#endif /* SB_SIM_PLANT_INT_H */

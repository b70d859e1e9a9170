/* points.c - the named point registry of sbems-sim (see plant.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/plant/plant_int.h"

struct sb_plant_pt {
    char name[48];              /* "floor1.zone3.temp" */
    const char *unit;           /* static string */
    enum sb_plant_kind kind;
    double scale;               /* exposed = internal * scale (fractions -> %) */
    double lo, hi;              /* write range, exposed units */
    const double *ro;           /* read-only value, or NULL */
    struct sb_cmd *cmd;         /* commandable value, or NULL */
};

struct reg {
    struct sb_plant *p;
    int rc;                     /* first error */
};

static struct sb_plant_pt *add(struct reg *r, const char *unit, enum sb_plant_kind kind, double scale,
                               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static struct sb_plant_pt *add(struct reg *r, const char *unit, enum sb_plant_kind kind, double scale,
                               const char *fmt, ...)
{
    struct sb_plant *p = r->p;
    struct sb_plant_pt *pt;
    va_list ap;

    if (r->rc)
        return NULL;
    if (p->npts == p->cap_pts) {
        int cap = p->cap_pts ? 2 * p->cap_pts : 256;
        struct sb_plant_pt *n = realloc(p->pts, (size_t)cap * sizeof *n);

        if (!n) {
            r->rc = SB_ENOMEM;
            return NULL;
        }
        p->pts = n;
        p->cap_pts = cap;
    }
    pt = &p->pts[p->npts++];
    memset(pt, 0, sizeof *pt);
    va_start(ap, fmt);
    vsnprintf(pt->name, sizeof pt->name, fmt, ap);
    va_end(ap);
    pt->unit = unit;
    pt->kind = kind;
    pt->scale = scale;
    return pt;
}

#define RO(r, unit, kind, scale, ptr, ...) do {                             \
        struct sb_plant_pt *pt_ = add(r, unit, kind, scale, __VA_ARGS__);   \
        if (pt_) pt_->ro = (ptr);                                           \
    } while (0)

#define CMD(r, unit, kind, scale, c, lo_, hi_, ...) do {                    \
        struct sb_plant_pt *pt_ = add(r, unit, kind, scale, __VA_ARGS__);   \
        if (pt_) { pt_->cmd = (c); pt_->lo = (lo_); pt_->hi = (hi_); }      \
    } while (0)

static void weather_points(struct reg *r)
{
    static const char *const fac[SB_FACADE_COUNT] = { "s", "e", "n", "w" };
    struct sb_plant *p = r->p;

    RO(r, "degC", SB_PK_TEMPERATURE, 1, &p->wx.tdb, "weather.oat");
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &p->wx.tdp, "weather.dewpoint");
    RO(r, "%", SB_PK_HUMIDITY, 1, &p->wx.rh, "weather.rh");
    RO(r, "W/m2", SB_PK_IRRADIANCE, 1, &p->wx.ghi, "weather.ghi");
    RO(r, "m/s", SB_PK_RATIO, 1, &p->wx.wind, "weather.wind");
    for (int f = 0; f < SB_FACADE_COUNT; f++)
        RO(r, "W/m2", SB_PK_IRRADIANCE, 1, &p->irr[f], "weather.solar.%s", fac[f]);
}

static void ahu_points(struct reg *r, struct sb_ahu *a, int fl)
{
    CMD(r, "", SB_PK_STATUS, 1, &a->fan_en, 0, 1, "floor%d.ahu.fan_enable", fl);
    CMD(r, "%", SB_PK_POSITION, 100, &a->fan_speed, 0, 100, "floor%d.ahu.fan_speed", fl);
    CMD(r, "%", SB_PK_POSITION, 100, &a->oa_damper, 0, 100, "floor%d.ahu.oa_damper", fl);
    CMD(r, "%", SB_PK_POSITION, 100, &a->ccv, 0, 100, "floor%d.ahu.ccv", fl);
    CMD(r, "degC", SB_PK_SETPOINT, 1, &a->sat_sp, 8, 20, "floor%d.ahu.sat_sp", fl);
    CMD(r, "Pa", SB_PK_SETPOINT, 1, &a->static_sp, 25, 1000, "floor%d.ahu.static_sp", fl);
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &a->t_sa_meas, "floor%d.ahu.sat", fl);   /* the sensor */
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &a->t_mix, "floor%d.ahu.mat", fl);
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &a->t_ret, "floor%d.ahu.rat", fl);
    RO(r, "%", SB_PK_POSITION, 100, &a->oa_frac, "floor%d.ahu.oa_fraction", fl);
    RO(r, "", SB_PK_STATUS, 1, &a->econ, "floor%d.ahu.economizer", fl);
    RO(r, "m3/s", SB_PK_FLOW, 1, &a->flow, "floor%d.ahu.flow", fl);
    RO(r, "Pa", SB_PK_PRESSURE, 1, &a->static_pa, "floor%d.ahu.static", fl);
    RO(r, "kW", SB_PK_POWER, 1, &a->fan_kw, "floor%d.ahu.fan_kw", fl);
    RO(r, "kW", SB_PK_POWER, 1, &a->coil_kw, "floor%d.ahu.coil_kw", fl);
    RO(r, "ppm", SB_PK_CO2, 1, &a->co2_ret, "floor%d.ahu.return_co2", fl);
    RO(r, "%", SB_PK_HUMIDITY, 1, &a->sa_rh, "floor%d.ahu.sa_rh", fl);
    RO(r, "%", SB_PK_HUMIDITY, 1, &a->ra_rh, "floor%d.ahu.ra_rh", fl);
    RO(r, "kW", SB_PK_POWER, 1, &a->coil_lat_kw, "floor%d.ahu.coil_latent_kw", fl);
}

static void zone_points(struct reg *r, struct sb_zone_ent *z)
{
    int f = z->floor, i = z->index;

    RO(r, "degC", SB_PK_TEMPERATURE, 1, &z->t_meas, "floor%d.zone%d.temp", f, i);    /* the sensor */
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &z->z.t_m, "floor%d.zone%d.mass_temp", f, i);
    /* the air itself: what an independent sensor in the room (the IAQ
     * sensor of mqttdev.c) reads; the controller's sensor above may drift */
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &z->z.t_air, "floor%d.zone%d.air_temp", f, i);
    CMD(r, "degC", SB_PK_SETPOINT, 1, &z->htg_sp, 5, 30, "floor%d.zone%d.htg_sp", f, i);
    CMD(r, "degC", SB_PK_SETPOINT, 1, &z->clg_sp, 15, 40, "floor%d.zone%d.clg_sp", f, i);
    RO(r, "ppm", SB_PK_CO2, 1, &z->z.co2, "floor%d.zone%d.co2", f, i);
    RO(r, "people", SB_PK_OCCUPANCY, 1, &z->occ, "floor%d.zone%d.occupancy", f, i);
    RO(r, "", SB_PK_STATUS, 1, &z->occupied, "floor%d.zone%d.occupied", f, i);
    RO(r, "kW", SB_PK_POWER, 1, &z->lights_kw, "floor%d.zone%d.lights_kw", f, i);
    RO(r, "kW", SB_PK_POWER, 1, &z->plugs_kw, "floor%d.zone%d.plugs_kw", f, i);
    RO(r, "kW", SB_PK_POWER, 1e-3, &z->phi_sol_w, "floor%d.zone%d.solar_kw", f, i);
    RO(r, "kW", SB_PK_POWER, 1e-3, &z->phi_hvac_w, "floor%d.zone%d.hvac_kw", f, i);
    RO(r, "m3/s", SB_PK_FLOW, 1, &z->vav.flow, "floor%d.zone%d.vav.flow", f, i);
    CMD(r, "m3/s", SB_PK_SETPOINT, 1, &z->vav.flow_sp, 0, 20, "floor%d.zone%d.vav.flow_sp", f, i);
    CMD(r, "%", SB_PK_POSITION, 100, &z->vav.damper, 0, 100, "floor%d.zone%d.vav.damper", f, i);
    CMD(r, "%", SB_PK_POSITION, 100, &z->vav.reheat, 0, 100, "floor%d.zone%d.vav.reheat", f, i);
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &z->vav.dat, "floor%d.zone%d.vav.dat", f, i);
    RO(r, "kW", SB_PK_POWER, 1, &z->vav.reheat_kw, "floor%d.zone%d.vav.reheat_kw", f, i);
    RO(r, "%", SB_PK_HUMIDITY, 1, &z->rh, "floor%d.zone%d.rh", f, i);
    if (!z->has_tstat)
        return;
    CMD(r, "degC", SB_PK_SETPOINT, 1, &z->tstat_sp, 10, 32, "floor%d.zone%d.tstat.setpoint", f, i);
    CMD(r, "", SB_PK_MODE, 1, &z->tstat_mode, 0, 2, "floor%d.zone%d.tstat.mode", f, i);
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &z->t_meas, "floor%d.zone%d.tstat.temp", f, i);
}

static void plant_points(struct reg *r)
{
    struct sb_plant *p = r->p;

    CMD(r, "", SB_PK_STATUS, 1, &p->ch_en, 0, 1, "chiller.enable");
    CMD(r, "degC", SB_PK_SETPOINT, 1, &p->chw_sp, 4, 15, "chiller.chw_sp");
    RO(r, "degC", SB_PK_TEMPERATURE, 1, &p->t_chw, "chiller.chw_temp");
    RO(r, "kW", SB_PK_POWER, 1, &p->ch_load_kw, "chiller.load_kw");
    RO(r, "kW", SB_PK_POWER, 1, &p->ch_kw, "chiller.kw");
    RO(r, "", SB_PK_RATIO, 1, &p->ch_cop, "chiller.cop");
    RO(r, "", SB_PK_RATIO, 1, &p->ch_plr, "chiller.plr");
    RO(r, "", SB_PK_RATIO, 1, &p->ch_running, "chiller.running");
    CMD(r, "", SB_PK_STATUS, 1, &p->blr_en, 0, 1, "boiler.enable");
    RO(r, "kW", SB_PK_POWER, 1, &p->blr_load_kw, "boiler.load_kw");
    RO(r, "kW", SB_PK_POWER, 1, &p->blr_gas_kw, "boiler.gas_kw");
    RO(r, "kW", SB_PK_POWER, 1, &p->m_main_kw, "meter.main.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_main_kwh, "meter.main.kwh");
    RO(r, "kW", SB_PK_POWER, 1, &p->m_light_kw, "meter.lighting.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_light_kwh, "meter.lighting.kwh");
    RO(r, "kW", SB_PK_POWER, 1, &p->m_plug_kw, "meter.plugs.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_plug_kwh, "meter.plugs.kwh");
    RO(r, "kW", SB_PK_POWER, 1, &p->m_hvac_kw, "meter.hvac.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_hvac_kwh, "meter.hvac.kwh");
    RO(r, "kW", SB_PK_POWER, 1, &p->m_fan_kw, "meter.fans.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_fan_kwh, "meter.fans.kwh");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_chiller_kwh, "meter.chiller.kwh");
    RO(r, "kW", SB_PK_POWER, 1, &p->blr_gas_kw, "meter.gas.kw");
    RO(r, "kWh", SB_PK_ENERGY, 1, &p->m_gas_kwh, "meter.gas.kwh");
}

int sb_plant__build_points(struct sb_plant *p)
{
    struct reg r = { .p = p, .rc = 0 };

    weather_points(&r);
    for (int f = 0; f < p->nahus; f++)
        ahu_points(&r, &p->ahus[f], f + 1);
    for (int i = 0; i < p->nzones; i++)
        zone_points(&r, &p->zones[i]);
    plant_points(&r);
    return r.rc;
}

void sb_plant__free_points(struct sb_plant *p)
{
    free(p->pts);
    p->pts = NULL;
    p->npts = p->cap_pts = 0;
}

int sb_plant_point_count(const struct sb_plant *p)
{
    return p->npts;
}

int sb_plant_find(const struct sb_plant *p, const char *name)
{
    if (!name)
        return SB_ENOENT;
    for (int i = 0; i < p->npts; i++)
        if (strcmp(p->pts[i].name, name) == 0)
            return i;
    return SB_ENOENT;
}

int sb_plant_point(const struct sb_plant *p, int idx, struct sb_plant_point_info *out)
{
    const struct sb_plant_pt *pt;

    if (idx < 0 || idx >= p->npts)
        return SB_ENOENT;
    pt = &p->pts[idx];
    *out = (struct sb_plant_point_info){
        .name = pt->name, .unit = pt->unit, .kind = pt->kind, .writable = pt->cmd != NULL,
        .overridden = pt->cmd && !isnan(pt->cmd->ovr), .min = pt->lo, .max = pt->hi,
    };
    return 0;
}

int sb_plant_read(const struct sb_plant *p, int idx, double *v)
{
    const struct sb_plant_pt *pt;

    if (idx < 0 || idx >= p->npts)
        return SB_ENOENT;
    pt = &p->pts[idx];
    *v = (pt->cmd ? sb_cmd_eff(pt->cmd) : *pt->ro) * pt->scale;
    return 0;
}

int sb_plant_read_auto(const struct sb_plant *p, int idx, double *v)
{
    const struct sb_plant_pt *pt;

    if (idx < 0 || idx >= p->npts)
        return SB_ENOENT;
    pt = &p->pts[idx];
    *v = (pt->cmd ? pt->cmd->autov : *pt->ro) * pt->scale;
    return 0;
}

int sb_plant_write(struct sb_plant *p, int idx, double v)
{
    struct sb_plant_pt *pt;

    if (idx < 0 || idx >= p->npts)
        return SB_ENOENT;
    pt = &p->pts[idx];
    if (!pt->cmd)
        return SB_ENOTSUP;
    if (!isfinite(v))
        return SB_ENAN;
    if (v < pt->lo || v > pt->hi)
        return SB_ERANGE;
    pt->cmd->ovr = v / pt->scale;
    return 0;
}

int sb_plant_relinquish(struct sb_plant *p, int idx)
{
    if (idx < 0 || idx >= p->npts)
        return SB_ENOENT;
    if (!p->pts[idx].cmd)
        return SB_ENOTSUP;
    p->pts[idx].cmd->ovr = NAN;
    return 0;
}

int sb_plant_get(const struct sb_plant *p, const char *name, double *v)
{
    int idx = sb_plant_find(p, name);

    return idx < 0 ? idx : sb_plant_read(p, idx, v);
}

int sb_plant_set(struct sb_plant *p, const char *name, double v)
{
    int idx = sb_plant_find(p, name);

    return idx < 0 ? idx : sb_plant_write(p, idx, v);
}

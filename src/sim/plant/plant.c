/* plant.c - sbems-sim plant: sizing, local controllers and the sub-step
 * (see plant.h and docs/internals/sim-physics.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/plant/plant_int.h"
#include "sim/plant/psychro.h"

#define T_MA_DESIGN 25.8    /* mixed air at design: 80 % return 24 degC + 20 % OA 33 degC */
#define CHW_DT_DESIGN 5.6   /* chilled-water design range, K */
#define CP_WATER 4186.0     /* J/(kg K) */
#define REHEAT_EFF 0.5      /* reheat coil effectiveness at full valve */
#define FAN_SPEED_MIN 0.1
#define COIL_AIR_RES 0.7    /* air side's share of a finned coil's resistance */

static void cmd_init(struct sb_cmd *c, double v)
{
    c->autov = v;
    c->ovr = NAN;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static void vav_init(struct sb_plant *p, struct sb_zone_ent *ze, int core)
{
    const struct sb_plant_config *c = &p->cfg;
    struct sb_vav *v = &ze->vav;
    double lps = core ? c->vav_lps_m2_core : c->vav_lps_m2_perim;

    v->q_max = lps * 1e-3 * ze->z.p.floor_area;
    v->q_min = c->vav_min_frac * v->q_max;
    v->q_open = 1.25 * v->q_max;    /* box sized so max flow is reached at 80 % open */
    cmd_init(&v->flow_sp, 0);
    cmd_init(&v->damper, 0);
    cmd_init(&v->reheat, 0);
    /* zone loops: about 0.15/K proportional, 10 min integral time; tuned for
     * a few-K/unit plant gain and one-sub-step measurement delay */
    v->clg = (struct sb_pi){ .kp = 0.15, .ki = 0.15 / 600.0, .lo = 0, .hi = 1 };
    v->htg = (struct sb_pi){ .kp = 0.15, .ki = 0.15 / 600.0, .lo = 0, .hi = 1 };
}

static int zones_init(struct sb_plant *p)
{
    const struct sb_plant_config *c = &p->cfg;
    int k = 0;

    for (int f = 1; f <= c->floors; f++) {
        for (int i = 1; i <= c->zones_per_floor; i++, k++) {
            struct sb_zone_ent *ze = &p->zones[k];
            struct sb_zone_params zp;
            double t0 = 0.5 * (c->occ_heat_sp + c->occ_cool_sp);

            sb_plant__zone_geometry(c, f, i, &zp, ze->win_area, &ze->people_peak);
            if (sb_zone_init(&ze->z, &zp, t0, c->co2_out_ppm) != 0)
                return SB_ECONFIG;
            ze->floor = f;
            ze->index = i;
            ze->has_tstat = i <= c->tstat_zones && c->zones_per_floor == 5;
            cmd_init(&ze->htg_sp, c->occ_heat_sp);
            cmd_init(&ze->clg_sp, c->occ_cool_sp);
            cmd_init(&ze->tstat_sp, t0);
            cmd_init(&ze->tstat_mode, 0);
            ze->own_sched = -1;
            vav_init(p, ze, c->zones_per_floor == 5 && i == 5);
        }
    }
    return 0;
}

/* Coil design point: 25.8 degC mixed air = 80 % return at 24 degC / 50 %
 * RH + 20 % outdoor air at 33 degC with a 23 degC dew point (a humid
 * ASHRAE 1 % cooling design day east of the Rockies; Boston's 0.4 % dew
 * point is 22.4 degC, Houston's 25.9 degC), leaving at the supply setpoint. */
static double design_w_mix(double p_atm)
{
    return 0.8 * sb_psy_w_rh(24.0, 0.5, p_atm) + 0.2 * sb_psy_w_pw(sb_psy_pws(23.0), p_atm);
}

/* The coil at design air and water flow with overall conductance ua. */
static void coil_design(const struct sb_plant *p, const struct sb_ahu *a, double ua, double mw,
                        struct sb_coil_out *o)
{
    struct sb_coil_in in = {
        .m_a = SB_RHO_AIR * a->q_des, .t_ai = T_MA_DESIGN, .w_ai = design_w_mix(p->p_atm),
        .m_w = mw, .t_wi = p->cfg.chw_sp, .ua = ua, .ua_o = ua / COIL_AIR_RES, .p = p->p_atm,
    };

    sb_coil_cool(&in, o);
}

/* Sizes the coil like a coil selection: the water flow carries the design
 * total load (sensible + latent) over the design range, and the UA (found
 * by bisection, the coil model being monotonic in it) brings design mixed
 * air to the supply setpoint; a few rounds make flow and UA agree.
 * Returns the design total load, W. */
static double coil_size(struct sb_plant *p, struct sb_ahu *a)
{
    const struct sb_plant_config *c = &p->cfg;
    double ca = SB_RHO_AIR * a->q_des * SB_CP_AIR, q = ca * (T_MA_DESIGN - c->sat_sp) / 0.75, ua = ca;
    struct sb_coil_out o;

    for (int round = 0; round < 4; round++) {
        double lo = 0.01 * ca, hi = 20.0 * ca;

        a->mw_des = q / (CP_WATER * CHW_DT_DESIGN);
        for (int i = 0; i < 50; i++) {
            ua = 0.5 * (lo + hi);
            coil_design(p, a, ua, a->mw_des, &o);
            if (o.t_ao > c->sat_sp)
                lo = ua;
            else
                hi = ua;
        }
        coil_design(p, a, ua, a->mw_des, &o);
        q = ca * (T_MA_DESIGN - o.t_ao) +
            SB_RHO_AIR * a->q_des * (design_w_mix(p->p_atm) - o.w_ao) * SB_PSY_H_FG;
        q = fmax(1.0, q);
    }
    a->ua = ua;
    a->ua_o = ua / COIL_AIR_RES;
    return q;
}

/* Fan curve dP = s^2 p0 - c Q^2 and AHU internal loss k Q^2: at full speed
 * and design flow the fan gives 1.3 x the design total pressure. */
static double ahu_size(struct sb_plant *p, struct sb_ahu *a)
{
    const struct sb_plant_config *c = &p->cfg;
    double dp_des = c->static_sp + c->fan_dp_internal, q;

    a->q_des = 0;
    for (int i = 0; i < a->n; i++)
        a->q_des += p->zones[a->first + i].vav.q_max;
    a->k_int = c->fan_dp_internal / (a->q_des * a->q_des);
    a->p0 = 1.3 * dp_des / 0.7;
    a->c_fan = 0.3 * a->p0 / (a->q_des * a->q_des);
    a->fan_kw_des = a->q_des * dp_des / c->fan_eff / 1000.0;
    q = coil_size(p, a);
    cmd_init(&a->fan_en, 0);
    cmd_init(&a->fan_speed, 0);
    cmd_init(&a->oa_damper, 0);
    cmd_init(&a->ccv, 0);
    cmd_init(&a->sat_sp, c->sat_sp);
    cmd_init(&a->static_sp, c->static_sp);
    a->sat_pi = (struct sb_pi){ .kp = 0.02, .ki = 1.5e-4, .lo = 0, .hi = 2 };
    a->sp_pi = (struct sb_pi){ .kp = 5e-4, .ki = 1.5e-5, .lo = FAN_SPEED_MIN, .hi = 1 };
    a->t_sa = a->t_sa_meas = c->sat_sp;
    a->t_ret = a->t_mix = 0.5 * (c->occ_heat_sp + c->occ_cool_sp);
    a->co2_ret = a->co2_sup = c->co2_out_ppm;
    return q;
}

static void plant_size(struct sb_plant *p)
{
    const struct sb_plant_config *c = &p->cfg;
    double total = 0;

    for (int f = 0; f < p->nahus; f++) {
        struct sb_ahu *a = &p->ahus[f];

        a->first = f * c->zones_per_floor;
        a->n = c->zones_per_floor;
        total += ahu_size(p, a) / 1000.0;
    }
    /* 10 % over the summed coil design loads (sensible + latent), split
     * over the chillers */
    p->ch_cap_kw = c->chiller_kw > 0 ? c->chiller_kw : 1.1 * total / c->chillers;
    p->t_chw = c->chw_sp;
    p->c_loop = 4.0 * 1000.0 * CP_WATER * (total / 300.0);  /* ~4 m3 of water per 300 kW */
    cmd_init(&p->ch_en, 1);
    cmd_init(&p->chw_sp, c->chw_sp);
    cmd_init(&p->blr_en, 1);
}

static void update_weather(struct sb_plant *p, int64_t t_ms);
static void report(struct sb_plant *p);

/* Zone air starts with the outdoor moisture (a building at rest follows
 * it), at most 60 % RH at the zone temperature. */
static void init_state(struct sb_plant *p, int64_t t_ms)
{
    update_weather(p, t_ms);
    for (int i = 0; i < p->nzones; i++) {
        struct sb_zone *z = &p->zones[i].z;

        z->w = fmin(p->w_out, sb_psy_w_rh(z->t_air, 0.6, p->p_atm));
    }
    for (int f = 0; f < p->nahus; f++) {
        struct sb_ahu *a = &p->ahus[f];

        a->w_ret = a->w_mix = a->w_sa = p->zones[a->first].z.w;
    }
    sb_plant__sensors(p);
    report(p);
}

int sb_plant_new(const struct sb_plant_config *cfg, const struct sb_epw *epw, int64_t start_ms,
                 struct sb_plant **out, char *err, size_t errlen)
{
    struct sb_plant *p = NULL;
    int rc;

    *out = NULL;
    if ((rc = sb_plant_config_check(cfg, err, errlen)) != 0)
        return rc;
    if (!epw)
        return SB_EINVAL;
    rc = SB_ENOMEM;
    if (!(p = calloc(1, sizeof *p)))
        goto out;
    p->cfg = *cfg;
    p->epw = epw;
    p->now_ms = p->sub_ms = start_ms;
    p->p_atm = sb_psy_patm(epw->elev_m);
    p->nzones = cfg->floors * cfg->zones_per_floor;
    p->nahus = cfg->floors;
    p->zones = calloc((size_t)p->nzones, sizeof *p->zones);
    p->ahus = calloc((size_t)p->nahus, sizeof *p->ahus);
    if (!p->zones || !p->ahus)
        goto out;
    if ((rc = zones_init(p)) != 0) {
        sb_errf(err, errlen, "geometry: a zone's envelope is out of the model's range");
        goto out;
    }
    plant_size(p);
    init_state(p, start_ms);
    if ((rc = sb_plant__build_points(p)) != 0)
        goto out;
    *out = p;
    p = NULL;
out:
    sb_plant_free(p);
    return rc;
}

void sb_plant_free(struct sb_plant *p)
{
    if (!p)
        return;
    sb_plant__free_points(p);
    free(p->zones);
    free(p->ahus);
    free(p);
}

int64_t sb_plant_time_ms(const struct sb_plant *p)
{
    return p->now_ms;
}

/* ---- sub-step pieces, in the order a DDC scan would run them ---- */

static void update_weather(struct sb_plant *p, int64_t t_ms)
{
    const struct sb_epw *w = p->epw;
    double local_s = (double)t_ms / 1000.0 + w->tz_h * 3600.0;
    int64_t days = (int64_t)floor(local_s / 86400.0);

    p->hour_of_year = sb_epw_hour_of_year(t_ms, w->tz_h);
    sb_epw_at(w, p->hour_of_year, &p->wx);
    /* the dew point is the EPW's moisture measure least affected by
     * interpolation (RH swings with temperature) */
    p->w_out = sb_psy_w_pw(sb_psy_pws(p->wx.tdp), p->p_atm);
    sb_solar_position(w->lat, w->lon, w->tz_h, p->hour_of_year, &p->sun);
    for (int f = 0; f < SB_FACADE_COUNT; f++)
        p->irr[f] = sb_solar_vertical(&p->sun, (enum sb_facade)f, p->wx.dni, p->wx.dhi, p->wx.ghi, 0.2);
    p->local_hour = (local_s - (double)days * 86400.0) / 3600.0;
    p->weekday = (int)(((days + 4) % 7 + 7) % 7);    /* 1970-01-01 was a Thursday */
    p->occ_sched = p->weekday >= 1 && p->weekday <= 5 && p->local_hour >= p->cfg.occ_start_h &&
                   p->local_hour < p->cfg.occ_end_h;
}

/* Gains and setpoints of one zone (schedules, thermostat). */
static void zone_loads(struct sb_plant *p, struct sb_zone_ent *ze)
{
    const struct sb_plant_config *c = &p->cfg;
    double fo, fl, fp, a = ze->z.p.floor_area, sol = 0, mode, sp;

    sb_plant__schedules(p->local_hour, p->weekday, &fo, &fl, &fp);
    ze->occ = floor(ze->people_peak * fo + 0.5);
    ze->lights_kw = c->lights_w_m2 * a * fl / 1000.0;
    ze->plugs_kw = c->plugs_w_m2 * a * fp / 1000.0;
    for (int f = 0; f < SB_FACADE_COUNT; f++)
        sol += ze->win_area[f] * c->g_window * p->irr[f];
    ze->phi_sol_w = sol;
    ze->phi_int_w = ze->occ * c->w_per_person + 1000.0 * (ze->lights_kw + ze->plugs_kw);
    ze->w_gen = ze->occ * c->latent_w_per_person / SB_PSY_H_FG;
    mode = ze->has_tstat ? sb_cmd_eff(&ze->tstat_mode) : 0;
    /* a thermostat's explicit mode, else the controller's own schedule
     * (its BACnet Schedule object), else the building's hours */
    ze->occupied = mode == 1 ? 1 : mode == 2 ? 0 : ze->own_sched >= 0 ? ze->own_sched : p->occ_sched;
    if (ze->occupied) {
        ze->tstat_sp.autov = 0.5 * (c->occ_heat_sp + c->occ_cool_sp);
        sp = sb_cmd_eff(&ze->tstat_sp);
        /* a thermostat shifts the occupied band around its setpoint */
        ze->htg_sp.autov = ze->has_tstat ? sp - 0.5 * (c->occ_cool_sp - c->occ_heat_sp) : c->occ_heat_sp;
        ze->clg_sp.autov = ze->has_tstat ? sp + 0.5 * (c->occ_cool_sp - c->occ_heat_sp) : c->occ_cool_sp;
    } else {
        ze->htg_sp.autov = c->unocc_heat_sp;
        ze->clg_sp.autov = c->unocc_cool_sp;
    }
}

/* Night-setback call with 1 K hysteresis: any zone outside the unoccupied
 * band starts the AHU; all zones 1 K inside stop it. */
static int night_call(struct sb_plant *p, struct sb_ahu *a)
{
    int out = 0, inside = 1;

    for (int i = 0; i < a->n; i++) {
        const struct sb_zone_ent *ze = &p->zones[a->first + i];
        double t = ze->t_meas, h = sb_cmd_eff(&ze->htg_sp), cl = sb_cmd_eff(&ze->clg_sp);

        out |= t < h || t > cl;
        inside &= t > h + 1.0 && t < cl - 1.0;
    }
    if (out)
        a->night_call = 1;
    else if (inside)
        a->night_call = 0;
    return a->night_call;
}

/* VAV box loops: single-maximum sequence (cooling loop modulates flow
 * between min and max, heating loop the reheat valve at min flow);
 * pressure-independent flow control modelled as an ideal damper that
 * reaches the setpoint at the last measured static pressure.  The loops
 * see the zone sensor, drift and all. */
static void vav_control(struct sb_plant *p, struct sb_ahu *a, struct sb_zone_ent *ze, int on, double h)
{
    struct sb_vav *v = &ze->vav;
    double t = ze->t_meas, yc, yh, ps;

    if (!on) {
        sb_pi_reset(&v->clg, 0);
        sb_pi_reset(&v->htg, 0);
        v->flow_sp.autov = v->reheat.autov = v->damper.autov = 0;
        return;
    }
    yc = sb_pi_step(&v->clg, t - sb_cmd_eff(&ze->clg_sp), h);
    yh = sb_pi_step(&v->htg, sb_cmd_eff(&ze->htg_sp) - t, h);
    v->flow_sp.autov = v->q_min + yc * (v->q_max - v->q_min);
    v->reheat.autov = yh;
    ps = a->static_pa > 1.0 ? a->static_pa : sb_cmd_eff(&a->static_sp);
    v->damper.autov = clamp(sb_cmd_eff(&v->flow_sp) / (v->q_open * sqrt(ps / p->cfg.static_sp)), 0, 1);
}

/* Supply-air loop: one PI output 0..2 split in sequence (economizer damper
 * from minimum OA to 100 %, then the cooling valve).  With the economizer
 * locked out (outdoor warmer than return or above the high limit) the
 * output is held to the valve range. */
static void sat_control(struct sb_plant *p, struct sb_ahu *a, int on, double h)
{
    double u, q = a->flow > 1e-3 ? a->flow : a->q_des, occ_people = 0, area = 0;

    for (int i = 0; i < a->n; i++) {
        occ_people += p->zones[a->first + i].people_peak;
        area += p->zones[a->first + i].z.p.floor_area;
    }
    a->min_oa_frac = p->occ_sched ? clamp((p->cfg.oa_lps_person * occ_people + p->cfg.oa_lps_m2 * area)
                                          * 1e-3 / q, 0, 1) : 0;
    a->econ = p->wx.tdb < a->t_ret && p->wx.tdb < p->cfg.econ_high_limit;
    if (!on) {
        sb_pi_reset(&a->sat_pi, a->econ ? 0 : 1);
        a->oa_damper.autov = a->ccv.autov = 0;
        return;
    }
    a->sat_pi.lo = a->econ ? 0 : 1;
    u = sb_pi_step(&a->sat_pi, a->t_sa_meas - sb_cmd_eff(&a->sat_sp), h);
    a->oa_damper.autov = a->econ ? fmax(a->min_oa_frac, clamp(u, 0, 1)) : a->min_oa_frac;
    a->ccv.autov = clamp(u - 1.0, 0, 1);
}

static void static_control(struct sb_ahu *a, int on, double h)
{
    if (!on) {
        sb_pi_reset(&a->sp_pi, 0.5);
        a->fan_speed.autov = 0;
        return;
    }
    a->fan_speed.autov = sb_pi_step(&a->sp_pi, sb_cmd_eff(&a->static_sp) - a->static_pa, h);
}

/* Actual position 0..1 of a commanded device: a stuck one stays where it
 * stuck whatever the command. */
static double actual_pos(const struct sb_cmd *c, const struct sb_fault *stuck)
{
    return stuck->on ? stuck->value / 100.0 : clamp(sb_cmd_eff(c), 0, 1);
}

/* Duct network: box i passes Q_i = d_i q_open_i sqrt(P/P_des); the fan
 * gives s^2 p0 - c Q^2 of which k Q^2 is lost inside the AHU, so
 * P = s^2 p0 / (1 + (c + k) K^2) with K = sum d_i q_open_i / sqrt(P_des).
 * A failed fan (motor, belt, VFD trip) turns at 0 whatever its command. */
static void airflow(struct sb_plant *p, struct sb_ahu *a, int on)
{
    double k = 0, s = on ? clamp(sb_cmd_eff(&a->fan_speed), 0, 1) : 0, pst, dp;

    if (a->flt[SB_PF_FAN_FAILURE].on)
        s = 0;
    for (int i = 0; i < a->n; i++) {
        struct sb_zone_ent *ze = &p->zones[a->first + i];

        k += actual_pos(&ze->vav.damper, &ze->flt[SB_PF_VAV_DAMPER_STUCK]) * ze->vav.q_open /
             sqrt(p->cfg.static_sp);
    }
    pst = s * s * a->p0 / (1.0 + (a->c_fan + a->k_int) * k * k);
    a->static_pa = pst;
    a->flow = k * sqrt(pst);
    for (int i = 0; i < a->n; i++) {
        struct sb_zone_ent *ze = &p->zones[a->first + i];

        ze->vav.flow = actual_pos(&ze->vav.damper, &ze->flt[SB_PF_VAV_DAMPER_STUCK]) *
                       ze->vav.q_open * sqrt(pst / p->cfg.static_sp);
    }
    /* hydraulic power Q (P_static + k Q^2) / eta: on a fixed system curve
     * P_static ~ Q^2 as well, which is the affinity law P ~ Q^3 */
    dp = pst + a->k_int * a->flow * a->flow;
    a->fan_kw = s > 0 ? fmax(p->cfg.fan_floor_frac * a->fan_kw_des, a->flow * dp / p->cfg.fan_eff / 1000.0) : 0;
}

/* Equal-percentage valve (rangeability 50) shifted to close tight at 0:
 * it offsets the coil's high gain at small water flows, which is why coil
 * valves are specified this way (ASHRAE Handbook - HVAC Systems and
 * Equipment, valve characteristics). */
static double eq_pct(double v)
{
    return (pow(50.0, v) - 1.0) / 49.0;
}

/* Fraction of design water flow through a valve: equal percentage of
 * the actual position, and never below a leak past the seat. */
static double valve_flow(const struct sb_cmd *c, const struct sb_fault *stuck,
                         const struct sb_fault *leak)
{
    double g = eq_pct(actual_pos(c, stuck));

    return leak->on ? fmax(g, leak->value / 100.0) : g;
}

/* Return air (flow-weighted zone air), mixed air at the actual OA damper
 * position, then the cooling coil (sb_coil_cool: dry or dehumidifying)
 * and the draw-through fan. */
static void air_side(struct sb_plant *p, struct sb_ahu *a)
{
    double qt = 0, tr = 0, cr = 0, wr = 0, f, m = SB_RHO_AIR * a->flow;
    struct sb_coil_out o;

    for (int i = 0; i < a->n; i++) {
        const struct sb_zone_ent *ze = &p->zones[a->first + i];
        double w = a->flow > 1e-6 ? ze->vav.flow : 1.0;

        qt += w;
        tr += w * ze->z.t_air;
        cr += w * ze->z.co2;
        wr += w * ze->z.w;
    }
    a->t_ret = tr / qt;
    a->co2_ret = cr / qt;
    a->w_ret = wr / qt;
    f = a->flow > 1e-6 ? actual_pos(&a->oa_damper, &a->flt[SB_PF_OA_DAMPER_STUCK]) : 0;
    a->oa_frac = f;
    a->t_mix = f * p->wx.tdb + (1 - f) * a->t_ret;
    a->w_mix = f * p->w_out + (1 - f) * a->w_ret;
    a->co2_sup = f * p->cfg.co2_out_ppm + (1 - f) * a->co2_ret;
    sb_coil_cool(&(struct sb_coil_in){
                     .m_a = m, .t_ai = a->t_mix, .w_ai = a->w_mix, .t_wi = p->t_chw,
                     .m_w = a->mw_des * valve_flow(&a->ccv, &a->flt[SB_PF_CCV_STUCK],
                                                   &a->flt[SB_PF_CCV_LEAK]),
                     .ua = a->ua, .ua_o = a->ua_o, .p = p->p_atm, .f_hint = a->coil_f,
                 }, &o);
    a->coil_f = o.f_dry;
    /* the plant's ledger: sensible m cp dT + latent m dW h_fg, the same
     * constants as the zones' gains, so what zones gain the chiller removes */
    a->cond = m * (a->w_mix - o.w_ao);
    a->coil_lat_kw = a->cond * SB_PSY_H_FG / 1000.0;
    a->coil_kw = m * SB_CP_AIR * (a->t_mix - o.t_ao) / 1000.0 + a->coil_lat_kw;
    a->t_adp = o.t_adp;
    /* draw-through fan: its power ends up as heat in the supply air */
    a->t_sa = m > 0 ? o.t_ao + a->fan_kw * 1000.0 / (m * SB_CP_AIR) : a->t_mix;
    a->w_sa = o.w_ao;
    a->t_sa_meas = a->t_sa;
    if (a->flt[SB_PF_SAT_SENSOR_BIAS].on)
        a->t_sa_meas += a->flt[SB_PF_SAT_SENSOR_BIAS].value;
}

/* Heat fraction 0..1 of a reheat coil: valve and coil together have a
 * linear installed characteristic (an equal-percentage valve matched to
 * the coil), so heat ~ position, while a leak is a water flow: it gives
 * the heat of the position whose flow it equals, which is a lot (the
 * coil's high gain at low flow). */
static double reheat_frac(const struct sb_zone_ent *ze, double cmd)
{
    const struct sb_fault *st = &ze->flt[SB_PF_REHEAT_STUCK], *lk = &ze->flt[SB_PF_REHEAT_LEAK];
    double x = st->on ? st->value / 100.0 : clamp(cmd, 0, 1);

    if (lk->on && eq_pct(x) < lk->value / 100.0)
        x = log1p(49.0 * lk->value / 100.0) / log(50.0);  /* inverse of eq_pct */
    return x;
}

static void zone_physics(struct sb_plant *p, struct sb_ahu *a, struct sb_zone_ent *ze, double h)
{
    struct sb_vav *v = &ze->vav;
    struct sb_zone_in in;
    double m = SB_RHO_AIR * v->flow;
    /* no hot water with the boiler off, whatever the valve does */
    double x = sb_cmd_eff(&p->blr_en) > 0.5 ? reheat_frac(ze, sb_cmd_eff(&v->reheat)) : 0;

    v->dat = a->t_sa + x * REHEAT_EFF * fmax(0, p->cfg.hw_temp - a->t_sa);
    v->reheat_kw = m * SB_CP_AIR * (v->dat - a->t_sa) / 1000.0;
    in = (struct sb_zone_in){
        .t_out = p->wx.tdb, .phi_int = ze->phi_int_w, .phi_sol = ze->phi_sol_w,
        .m_sup = m, .t_sup = v->dat, .phi_hc = 0, .co2_sup = a->co2_sup,
        .co2_out = p->cfg.co2_out_ppm, .co2_gen = ze->occ * p->cfg.co2_lps_person * 1e-3,
        .w_sup = a->w_sa, .w_out = p->w_out, .w_gen = ze->w_gen,
    };
    sb_zone_step(&ze->z, &in, h, &ze->zo);
    ze->phi_hvac_w = ze->zo.phi_hvac;
    ze->t_meas = ze->z.t_air + sb_plant__drift(&ze->flt[SB_PF_ZONE_SENSOR_DRIFT], p->sub_ms);
}

/* Chilled-water loop with thermal capacity: chillers remove what the coils
 * add plus what brings the loop back to its setpoint, up to the running
 * capacity; staging adds a machine above 95 % and drops one below 80 % of
 * the remaining machines' capacity. */
static void chw_plant(struct sb_plant *p, double load_kw, double h)
{
    double sp = sb_cmd_eff(&p->chw_sp), t_oa = p->wx.tdb;
    double cap1 = p->ch_cap_kw * sb_chiller_capft(p->t_chw, t_oa), need, given = 0, kw = 0;
    int n_max = p->cfg.chillers, want;

    need = fmax(0, load_kw + p->c_loop * (p->t_chw - sp) / h / 1000.0);
    if (sb_cmd_eff(&p->ch_en) < 0.5 || need <= 0 || cap1 <= 0) {
        p->ch_on = 0;
    } else {
        want = (int)ceil(need / (0.95 * cap1));
        want = want < 1 ? 1 : want > n_max ? n_max : want;
        if (want > p->ch_on || p->ch_on == 0)
            p->ch_on = want;
        else if (p->ch_on > 1 && need < 0.8 * (p->ch_on - 1) * cap1)
            p->ch_on--;
    }
    if (p->ch_on > 0) {
        double each = need / p->ch_on, d;

        kw = p->ch_on * sb_chiller_power(p->ch_cap_kw, p->cfg.chiller_cop, p->t_chw, t_oa, each, &d);
        given = p->ch_on * d;
        /* fouled condenser, refrigerant loss...: same cooling, more input */
        if (p->ch_flt[SB_PF_CHILLER_COP_DEGRADATION].on)
            kw /= 1.0 - p->ch_flt[SB_PF_CHILLER_COP_DEGRADATION].value;
    }
    p->t_chw += (load_kw - given) * 1000.0 * h / p->c_loop;
    p->t_chw = clamp(p->t_chw, 1.0, 40.0);
    p->ch_running = p->ch_on;
    p->ch_load_kw = given;
    p->ch_kw = kw;
    p->ch_cop = kw > 0 ? given / kw : 0;
    p->ch_plr = p->ch_on > 0 ? given / (p->ch_on * cap1) : 0;
}

static void meters(struct sb_plant *p, double fan_kw, double h)
{
    double hr = h / 3600.0;

    p->m_light_kw = p->m_plug_kw = 0;
    for (int i = 0; i < p->nzones; i++) {
        p->m_light_kw += p->zones[i].lights_kw;
        p->m_plug_kw += p->zones[i].plugs_kw;
    }
    p->m_fan_kw = fan_kw;
    p->m_hvac_kw = fan_kw + p->ch_kw;
    p->m_main_kw = p->m_hvac_kw + p->m_light_kw + p->m_plug_kw;
    p->m_main_kwh += p->m_main_kw * hr;
    p->m_light_kwh += p->m_light_kw * hr;
    p->m_plug_kwh += p->m_plug_kw * hr;
    p->m_hvac_kwh += p->m_hvac_kw * hr;
    p->m_fan_kwh += fan_kw * hr;
    p->m_chiller_kwh += p->ch_kw * hr;
    p->m_gas_kwh += p->blr_gas_kw * hr;
}

static void ahu_substep(struct sb_plant *p, struct sb_ahu *a, double h, double *coil_kw,
                        double *rh_kw, double *fan_kw)
{
    int on;

    int asks = 0;                   /* a zone its own schedule made occupied needs the fan */
    for (int i = 0; i < a->n; i++) {
        zone_loads(p, &p->zones[a->first + i]);
        asks |= p->zones[a->first + i].own_sched == 1 && p->zones[a->first + i].occupied > 0.5;
    }
    a->fan_en.autov = p->occ_sched || asks || night_call(p, a);
    on = sb_cmd_eff(&a->fan_en) > 0.5;
    for (int i = 0; i < a->n; i++)
        vav_control(p, a, &p->zones[a->first + i], on, h);
    static_control(a, on, h);
    sat_control(p, a, on, h);
    airflow(p, a, on);
    air_side(p, a);
    for (int i = 0; i < a->n; i++) {
        zone_physics(p, a, &p->zones[a->first + i], h);
        *rh_kw += p->zones[a->first + i].vav.reheat_kw;
    }
    *coil_kw += a->coil_kw;
    *fan_kw += a->fan_kw;
}

static void substep(struct sb_plant *p, int64_t t_ms, double h)
{
    double coil = 0, rh = 0, fan = 0;

    p->sub_ms = t_ms;
    update_weather(p, t_ms);
    for (int f = 0; f < p->nahus; f++)
        ahu_substep(p, &p->ahus[f], h, &coil, &rh, &fan);
    chw_plant(p, coil, h);
    p->blr_load_kw = rh;
    p->blr_gas_kw = rh / p->cfg.boiler_eff;
    meters(p, fan, h);
}

int sb_plant_step(struct sb_plant *p, double dt_s, int64_t now_ms)
{
    double start_ms, h;
    long n;

    if (!(dt_s > 0) || dt_s > 366.0 * 86400.0)
        return SB_EINVAL;
    n = (long)ceil(dt_s / p->cfg.substep_s - 1e-9);
    h = dt_s / (double)n;
    start_ms = (double)now_ms - dt_s * 1000.0;
    for (long k = 1; k <= n; k++)
        substep(p, k == n ? now_ms : (int64_t)llround(start_ms + h * 1000.0 * (double)k), h);
    p->now_ms = now_ms;
    report(p);
    return 0;
}

/* Relative humidities for the points: only read, never fed back, so they
 * are computed once per call rather than every sub-step. */
static void report(struct sb_plant *p)
{
    for (int i = 0; i < p->nzones; i++) {
        struct sb_zone_ent *ze = &p->zones[i];

        ze->rh = 100.0 * sb_psy_rh(ze->z.t_air, ze->z.w, p->p_atm);
    }
    for (int f = 0; f < p->nahus; f++) {
        struct sb_ahu *a = &p->ahus[f];

        a->sa_rh = 100.0 * sb_psy_rh(a->t_sa, a->w_sa, p->p_atm);
        a->ra_rh = 100.0 * sb_psy_rh(a->t_ret, a->w_ret, p->p_atm);
    }
}

int sb_plant_zone_schedule(struct sb_plant *p, const char *zone, int mode)
{
    char name[48];

    if (!p || !zone || mode < -1 || mode > 1)
        return SB_EINVAL;
    for (int i = 0; i < p->nzones; i++) {
        snprintf(name, sizeof name, "floor%d.zone%d", p->zones[i].floor, p->zones[i].index);
        if (strcmp(name, zone) == 0) {
            p->zones[i].own_sched = mode;
            return 0;
        }
    }
    return SB_ENOENT;
}

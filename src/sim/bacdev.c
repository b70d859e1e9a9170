/*
 * bacdev.c - the simulated building's BACnet devices (bacdev.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "drivers/bacnet/names.h"
#include "model/units.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/host/host.h"
#include "sim/bacdev.h"
#include "sim/face.h"
#include "sim/plant/plant.h"

#define MAX_DEVS 512

struct obj {
    int idx;                   /* plant point */
    struct sb_bac_oid oid;
    int writable;
    int applied;               /* priority-array slot last given to the plant (0 = relinquished) */
    double applied_v;          /* and its value */
    uint32_t units;            /* BACnet engineering units */
    char name[80];             /* Object_Name */
};

struct simdev {
    char prefix[48];           /* "floor1.ahu." */
    int offline;               /* 1 while a fault silences it (host closed) */
    char name[160];            /* "AHU-1", "HOU-AHU-1" */
    uint32_t instance;
    char ip[INET_ADDRSTRLEN];
    struct sb_bac_srv *srv;
    struct sb_bac_host *host;
    struct obj *objs;
    size_t nobj;
    char zone[40];             /* a VAV box: its plant zone "floor1.zone3" (has schedule:1) */
    int own;                   /* the occupancy its Schedule gave the plant: -1 none, 0, 1 */
};

struct sb_simbac {
    struct sb_plant *plant;
    uv_loop_t *loop;
    struct sb_sim_site_ref site;
    char dprefix[72];          /* device-name prefix: "" or "HOU-" */
    int listen;
    int zones_per_floor;
    const struct sb_tz *tz;    /* the controllers' local time */
    unsigned port;
    struct simdev devs[MAX_DEVS];
    size_t n;
};

/* Trane-style object names for the plant's point suffixes. */
static const struct { const char *suffix, *name; } names[] = {
    { "sat", "Discharge Air Temp" }, { "sat_sp", "Discharge Air Temp Setpoint" },
    { "mat", "Mixed Air Temp" }, { "rat", "Return Air Temp" },
    { "fan_enable", "Supply Fan Start/Stop" }, { "fan_speed", "Supply Fan Speed Command" },
    { "oa_damper", "Outdoor Air Damper Command" }, { "ccv", "Cooling Valve Command" },
    { "static", "Duct Static Pressure" }, { "static_sp", "Duct Static Pressure Setpoint" },
    { "oa_fraction", "Outdoor Air Fraction" }, { "economizer", "Economizer Enabled" },
    { "flow", "Supply Air Flow" }, { "fan_kw", "Supply Fan Power" }, { "coil_kw", "Cooling Coil Load" },
    { "return_co2", "Return Air CO2" }, { "temp", "Space Temperature" },
    { "htg_sp", "Space Temperature Heating Setpoint" }, { "clg_sp", "Space Temperature Cooling Setpoint" },
    { "co2", "Space CO2" }, { "occupancy", "Occupant Count" }, { "occupied", "Occupancy Status" },
    { "vav.flow", "Discharge Air Flow" }, { "vav.flow_sp", "Discharge Air Flow Setpoint" },
    { "vav.damper", "Air Valve Position Command" }, { "vav.reheat", "Reheat Valve Command" },
    { "vav.dat", "Discharge Air Temp" }, { "tstat.setpoint", "Thermostat Setpoint" },
    { "tstat.mode", "Thermostat Occupancy Mode" }, { "tstat.temp", "Thermostat Space Temperature" },
    { "rh", "Space Relative Humidity" }, { "sa_rh", "Discharge Air Humidity" },
    { "ra_rh", "Return Air Humidity" },
};

static void object_name(const char *suffix, char *out, size_t cap)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(names[i].suffix, suffix) == 0) {
            snprintf(out, cap, "%s", names[i].name);
            return;
        }
    /* "mass_temp" -> "Mass Temp" */
    size_t n = 0;
    int up = 1;
    for (const char *p = suffix; *p && n + 1 < cap; p++) {
        char c = *p == '_' || *p == '.' ? ' ' : *p;
        out[n++] = up && isalpha((unsigned char)c) ? (char)toupper((unsigned char)c) : c;
        up = c == ' ';
    }
    out[n] = 0;
}

static uint32_t units_of(const char *u)
{
    static const struct { const char *s; uint32_t v; } t[] = {
        { "degC", 62 }, { "%", 98 }, { "kW", 48 }, { "kWh", 19 }, { "Pa", 53 }, { "ppm", 96 },
        { "m3/s", 85 }, { "W/m2", 35 }, { "m/s", 74 },
    };
    for (size_t i = 0; u && i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].s, u) == 0)
            return t[i].v;
    return SB_BACN_UNITS_NONE;
}

/* Which controller a plant point belongs to; 0 if none (weather, meters:
 * other protocols). */
static int device_of(const char *name, char *prefix, size_t pcap, char *dname, size_t dcap,
                     uint32_t *inst)
{
    unsigned f, z;
    /* thermostats are on the REST face (httpd.h), people counts on the MQTT
     * sensors (mqttdev.h); the rest is the model's own state that no real
     * controller measures */
    static const char *const not_bacnet[] = { ".tstat.", ".mass_temp", ".lights_kw", ".plugs_kw",
                                              ".solar_kw", ".hvac_kw", ".occupancy", ".temp_true",
                                              ".coil_latent_kw" };
    for (size_t i = 0; i < sizeof(not_bacnet) / sizeof(not_bacnet[0]); i++)
        if (strstr(name, not_bacnet[i]))
            return 0;
    if (sscanf(name, "floor%u.ahu.", &f) == 1 && strstr(name, ".ahu.")) {
        snprintf(prefix, pcap, "floor%u.ahu.", f);
        snprintf(dname, dcap, "AHU-%u", f);
        *inst = 1000 + f;
        return 1;
    }
    if (sscanf(name, "floor%u.zone%u.", &f, &z) == 2) {
        snprintf(prefix, pcap, "floor%u.zone%u.", f, z);
        snprintf(dname, dcap, "VAV-%u-%02u", f, z);
        *inst = 2000 + f * 100 + z;
        return 1;
    }
    if (strncmp(name, "chiller.", 8) == 0 || strncmp(name, "boiler.", 7) == 0) {
        int ch = name[0] == 'c';
        snprintf(prefix, pcap, "%s", ch ? "chiller." : "boiler.");
        snprintf(dname, dcap, "%s", ch ? "CH-1" : "BLR-1");
        *inst = ch ? 3001 : 3101;
        return 1;
    }
    return 0;
}

static struct simdev *dev_for(struct sb_simbac *s, const char *prefix, const char *dname0,
                              uint32_t inst, char *err, size_t errlen)
{
    char dname[160];
    /* a second site's devices must not clash: Device names and instances
     * are unique on a BACnet internetwork (clause 12.11.1, 12.11.2) */
    snprintf(dname, sizeof(dname), "%s%s", s->dprefix, dname0);
    inst += (uint32_t)s->site.index * 10000u;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->devs[i].prefix, prefix) == 0)
            return &s->devs[i];
    if (s->n == MAX_DEVS) {
        snprintf(err, errlen, "more than %d devices", MAX_DEVS);
        return NULL;
    }
    struct simdev *d = &s->devs[s->n];
    struct sb_bac_srv_cfg c = { .instance = inst, .name = dname, .vendor_id = 2,
                                .vendor_name = "Trane", .model_name = "Tracer UC400 (simulated)",
                                .max_objects = 256, .max_cov_subs = 256 };
    memset(d, 0, sizeof(*d));
    snprintf(d->prefix, sizeof(d->prefix), "%s", prefix);
    snprintf(d->name, sizeof(d->name), "%s", dname);
    d->instance = inst;
    if (sb_bac_srv_new(&c, sb_now_ms(), &d->srv) < 0) {
        snprintf(err, errlen, "%s: cannot create the device", dname);
        return NULL;
    }
    s->n++;
    return d;
}

static int add_point(struct sb_simbac *s, int idx, char *err, size_t errlen)
{
    struct sb_plant_point_info in;
    char prefix[48], dname[64], oname[80];
    uint32_t inst;
    double v = 0;

    if (sb_plant_point(s->plant, idx, &in) < 0 ||
        !device_of(in.name, prefix, sizeof(prefix), dname, sizeof(dname), &inst))
        return 0;
    struct simdev *d = dev_for(s, prefix, dname, inst, err, errlen);
    if (!d)
        return SB_ENOMEM;
    struct obj *o = realloc(d->objs, (d->nobj + 1) * sizeof(*o));
    if (!o)
        return SB_ENOMEM;
    d->objs = o;
    o = &d->objs[d->nobj];
    object_name(in.name + strlen(prefix), oname, sizeof(oname));
    sb_plant_read(s->plant, idx, &v);
    struct sb_bac_srv_obj_cfg c = {
        .type = in.writable ? SB_BAC_OBJ_AV : SB_BAC_OBJ_AI, .name = oname,
        .description = in.name, .flags = in.writable ? SB_BAC_SRV_COMMANDABLE : 0,
        .initial = isfinite(v) ? v : 0,
        .units = in.kind == SB_PK_HUMIDITY ? 29u /* percent-relative-humidity */ : units_of(in.unit),
        .cov_increment = in.kind == SB_PK_TEMPERATURE || in.kind == SB_PK_SETPOINT ? 0.1f : 0 };
    /* instances count per type within the device, from 1 */
    uint32_t n = 1;
    for (size_t i = 0; i < d->nobj; i++)
        n += d->objs[i].writable == in.writable;
    c.instance = n;
    int rc = sb_bac_srv_add(d->srv, &c, sb_now_ms());
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s: %s", dname, oname, sb_strerror(rc));
        return rc;
    }
    *o = (struct obj){ .idx = idx, .oid = { c.type, c.instance }, .writable = in.writable, .units = c.units };
    snprintf(o->name, sizeof(o->name), "%s", oname);
    d->nobj++;
    return 0;
}

/* A VAV controller's Schedule and Calendar objects (bacdev.h). */
static int add_schedule(struct simdev *d, char *err, size_t errlen)
{
    unsigned f, z;
    struct sb_bac_srv_sched_cfg c = { .instance = 1, .name = "Occupancy Schedule",
                                      .description = "occupied while active (BACnetBinaryPV)",
                                      .dflt = { .type = SB_BAC_ENUMERATED, .v.enumerated = 0 },
                                      .priority_for_writing = 16 };
    int rc;

    d->own = -1;
    if (sscanf(d->prefix, "floor%u.zone%u.", &f, &z) != 2)
        return 0;
    snprintf(d->zone, sizeof(d->zone), "floor%u.zone%u", f, z);
    if ((rc = sb_bac_srv_add_schedule(d->srv, &c)) < 0 ||
        (rc = sb_bac_srv_add_calendar(d->srv, 1, "Holidays", "dates the Occupancy Schedule may refer to")) < 0)
        snprintf(err, errlen, "%s: schedule objects: %s", d->name, sb_strerror(rc));
    return rc;
}

static int host_up(struct sb_simbac *s, struct simdev *d, char *err, size_t errlen)
{
    struct sb_bac_stack_cfg sc = { .bind_ip = d->ip, .port = (uint16_t)s->port };
    int rc = sb_bac_host_new(s->loop, &sc, d->srv, &d->host, err, errlen);

    if (rc == 0)
        sb_bac_host_announce(d->host);
    return rc;
}

int sb_simbac_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                  const struct sb_simbac_cfg *cfg, struct sb_simbac **out, char *err, size_t errlen)
{
    struct sb_simbac *s = calloc(1, sizeof(*s));
    struct in_addr base;
    int rc = 0;

    if (!s)
        return SB_ENOMEM;
    s->plant = plant;
    s->loop = loop;
    s->site = *site;
    s->listen = cfg->listen;
    sb_sim_name_prefix(site, s->dprefix, sizeof(s->dprefix));
    s->port = cfg->port ? cfg->port : 47808;
    s->zones_per_floor = cfg->zones_per_floor ? cfg->zones_per_floor : 5;
    s->tz = cfg->timezone ? sb_tz_get(cfg->timezone) : NULL;
    if (inet_pton(AF_INET, cfg->ip_base ? cfg->ip_base : "127.0.0.20", &base) != 1) {
        snprintf(err, errlen, "bad base address");
        rc = SB_EINVAL;
        goto fail;
    }
    for (int i = 0; i < sb_plant_point_count(plant) && rc == 0; i++)
        rc = add_point(s, i, err, errlen);
    for (size_t i = 0; i < s->n && rc == 0; i++)
        rc = add_schedule(&s->devs[i], err, errlen);
    for (size_t i = 0; i < s->n && rc == 0; i++) {
        struct simdev *d = &s->devs[i];
        struct in_addr a = { .s_addr = htonl(ntohl(base.s_addr) + (uint32_t)i) };
        inet_ntop(AF_INET, &a, d->ip, sizeof(d->ip));
        if (cfg->listen)
            rc = host_up(s, d, err, errlen);
    }
    if (rc)
        goto fail;
    *out = s;
    return 0;
fail:
    sb_simbac_close(s);
    sb_simbac_free(s);
    return rc;
}

/* A fault takes a device off the network: its socket closes, as when a
 * controller loses power; back online it announces itself again. */
static void offline_check(struct sb_simbac *s, struct simdev *d)
{
    int off = s->site.offline && s->site.offline(s->site.offline_ud, d->name);
    char err[128];

    if (off == d->offline || !s->listen)
        return;
    d->offline = off;
    if (off && d->host) {
        sb_bac_host_close(d->host);
        d->host = NULL;
    } else if (!off && !d->host) {
        host_up(s, d, err, sizeof(err));
    }
}

/* Commands reach the plant only when the priority array changes, so a
 * thermostat (httpd.h) writing the same zone setpoint is not undone every
 * second by an array that never held anything. */
static void apply_cmd(struct sb_simbac *s, struct simdev *d, struct obj *o)
{
    struct sb_bac_srv_cmd cmd;
    int slot = 0;
    double v = 0;

    if (sb_bac_srv_get_cmd(d->srv, o->oid, &cmd) == 0 && cmd.current) {
        slot = cmd.current;
        v = cmd.slot[cmd.current - 1];
    }
    if (slot == o->applied && (!slot || v == o->applied_v))
        return;
    if (slot)
        sb_plant_write(s->plant, o->idx, v);
    else
        sb_plant_relinquish(s->plant, o->idx);
    o->applied = slot;
    o->applied_v = v;
}

/* Whether a Schedule holds a program: a Weekly_Schedule of seven empty
 * days (7 x [0] open + close, 14 octets) and no Exception_Schedule entry
 * is "never programmed". */
static int programmed(struct simdev *d, int64_t now_ms)
{
    uint8_t b[64];
    struct sb_bac_oid oid = { SB_BAC_OBJ_SCHEDULE, 1 };
    ssize_t w = sb_bac_srv_read(d->srv, oid, SB_BAC_P_WEEKLY_SCHEDULE, false, 0, now_ms, b, sizeof(b), NULL);
    ssize_t x = sb_bac_srv_read(d->srv, oid, SB_BAC_P_EXCEPTION_SCHEDULE, false, 0, now_ms, b, sizeof(b), NULL);

    return w != 14 || x != 0;   /* SB_ENOSPC (longer than b) is programmed too */
}

/* A VAV box follows its Schedule's value at the simulated local time:
 * active (multi-state: anything but 2, unoccupied; Real: non-zero) is
 * occupied; NULL or no program leaves the building's hours. */
static void follow_schedule(struct sb_simbac *s, struct simdev *d, int64_t sim_ms, int64_t wall_ms)
{
    struct sb_bac_datetime dt;
    struct sb_bac_value v;
    int own = -1;

    if (!d->zone[0])
        return;
    int off_min = s->tz ? sb_tz_offset(s->tz, sim_ms / 1000) / 60 : 0;
    if (programmed(d, wall_ms) && sb_bac_dt_from_unix(sim_ms, off_min, &dt) == 0 &&
        sb_bac_srv_sched_eval(d->srv, 1, &dt, &v) == 0) {
        switch (v.type) {
        case SB_BAC_ENUMERATED: own = v.v.enumerated != 0; break;
        case SB_BAC_BOOLEAN: own = v.v.boolean; break;
        case SB_BAC_UNSIGNED: own = v.v.u != 2; break;
        case SB_BAC_REAL: own = v.v.real != 0; break;
        default: own = -1;
        }
    }
    if (own != d->own && sb_plant_zone_schedule(s->plant, d->zone, own) == 0)
        d->own = own;
}

void sb_simbac_sync(struct sb_simbac *s, int64_t sim_ms, int64_t wall_ms)
{
    for (size_t i = 0; i < s->n; i++) {
        struct simdev *d = &s->devs[i];
        offline_check(s, d);
        follow_schedule(s, d, sim_ms, wall_ms);
        for (size_t k = 0; k < d->nobj; k++) {
            struct obj *o = &d->objs[k];
            double v;
            if (o->writable) {
                /* the priority array's winner drives the plant; none: the
                 * plant's own loop, whose value is the Relinquish_Default */
                apply_cmd(s, d, o);
                if (sb_plant_read_auto(s->plant, o->idx, &v) == 0 && isfinite(v))
                    sb_bac_srv_set_pv(d->srv, o->oid, v, wall_ms);
            } else if (sb_plant_read(s->plant, o->idx, &v) == 0 && isfinite(v)) {
                sb_bac_srv_set_pv(d->srv, o->oid, v, wall_ms);
            }
        }
    }
}

int sb_simbac_bind(const struct sb_simbac *s, const json_t *source)
{
    const json_t *a = json_object_get(source, "address");
    const char *obj = json_string_value(json_object_get(a, "object"));
    const char *prop = json_string_value(json_object_get(a, "property"));
    json_int_t dev = json_integer_value(json_object_get(a, "device"));
    struct sb_bac_oid oid;
    const char *drv = json_string_value(json_object_get(source, "driver"));

    if (!drv || strcmp(drv, "bacnet") != 0 || !obj || sb_bacn_obj_parse(obj, &oid) < 0 ||
        (prop && strcmp(prop, "present-value") != 0 && strcmp(prop, "85") != 0))
        return SB_ENOENT;
    for (size_t i = 0; i < s->n; i++) {
        if (s->devs[i].instance != (uint32_t)dev)
            continue;
        for (size_t k = 0; k < s->devs[i].nobj; k++)
            if (s->devs[i].objs[k].oid.type == oid.type && s->devs[i].objs[k].oid.instance == oid.instance)
                return (int)(i << 16 | k);
    }
    return SB_ENOENT;
}

int sb_simbac_value(const struct sb_simbac *s, int h, double *v)
{
    size_t i = (size_t)h >> 16, k = (size_t)h & 0xffff;

    if (h < 0 || i >= s->n || k >= s->devs[i].nobj)
        return SB_ENOENT;
    if (s->site.offline && s->site.offline(s->site.offline_ud, s->devs[i].name))
        return SB_EAGAIN;       /* a dead controller leaves a gap */
    /* what Present_Value says: the plant's value; for a commandable object
     * the winning command, else the local loop's (the relinquish default) */
    return sb_plant_read(s->plant, s->devs[i].objs[k].idx, v);
}

json_t *sb_simbac_list(const struct sb_simbac *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < s->n; i++) {
        const struct simdev *d = &s->devs[i];
        json_t *objs = json_array();
        for (size_t k = 0; k < d->nobj; k++) {
            struct sb_plant_point_info in;
            char on[48];
            sb_plant_point(s->plant, d->objs[k].idx, &in);
            json_array_append_new(objs, json_pack("{s:s, s:s, s:s, s:b}", "object",
                                                  sb_bacn_obj_str(d->objs[k].oid, on, sizeof(on)),
                                                  "point", in.name, "unit", in.unit ? in.unit : "",
                                                  "commandable", d->objs[k].writable));
        }
        json_t *dj = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:o}", "protocol", "bacnet/ip", "name", d->name,
                               "address", d->ip, "port", (int)s->port, "device", (int)d->instance,
                               "vendor_id", 2, "objects", objs);
        if (d->zone[0]) {
            json_object_set_new(dj, "schedule", json_string("schedule:1"));
            json_object_set_new(dj, "calendar", json_string("calendar:1"));
        }
        json_array_append_new(arr, dj);
    }
    return arr;
}

/* "Discharge Air Temp" -> "discharge-air-temp": how make demo names accepted points. */
static void slug(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int dash = 0;

    for (; *in && n + 2 < cap; in++) {
        char c = *in;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n)
                out[n++] = '-';
            out[n++] = c;
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[n] = 0;
}

/* The equipment entry of a device: type, Brick class, zone and parent AHU. */
static json_t *equipment_json(const struct sb_simbac *s, const struct simdev *d, const char *eq)
{
    unsigned f, z;
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", eq, "building", s->site.building, "name", d->name,
                          "vendor", "Trane", "model", "Tracer UC400 (simulated)");
    char ref[96], pre[72];

    sb_sim_name_prefix(&s->site, pre, sizeof(pre));
    for (char *c = pre; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    if (sscanf(d->prefix, "floor%u.ahu.", &f) == 1 && strstr(d->prefix, ".ahu.")) {
        json_object_set_new(e, "type", json_string("ahu"));
        json_object_set_new(e, "brick", json_string("AHU"));
    } else if (sscanf(d->prefix, "floor%u.zone%u.", &f, &z) == 2) {
        static const char *const orient[] = { "south", "east", "north", "west", "core" };
        json_object_set_new(e, "type", json_string("vav"));
        json_object_set_new(e, "brick", json_string("Variable_Air_Volume_Box_With_Reheat"));
        snprintf(ref, sizeof(ref), "%sf%u-%s", pre, f, z >= 1 && z <= 5 && s->zones_per_floor == 5 ? orient[z - 1] : "open");
        json_object_set_new(e, "zone", json_string(ref));
        snprintf(ref, sizeof(ref), "%sahu-%u", pre, f);
        json_object_set_new(e, "parent", json_string(ref));
    } else {
        int ch = d->prefix[0] == 'c';
        json_object_set_new(e, "type", json_string(ch ? "chiller" : "boiler"));
        json_object_set_new(e, "brick", json_string(ch ? "Chiller" : "Boiler"));
    }
    return e;
}

json_t *sb_simbac_site(const struct sb_simbac *s)
{
    json_t *eqs = json_array(), *pts = json_array();

    for (size_t i = 0; i < s->n; i++) {
        const struct simdev *d = &s->devs[i];
        char eq[96], id[200], sl[96], on[48];
        slug(d->name, eq, sizeof(eq));
        json_array_append_new(eqs, equipment_json(s, d, eq));
        for (size_t k = 0; k < d->nobj; k++) {
            const struct obj *o = &d->objs[k];
            struct sb_bacn_proposal pr;
            enum sb_unit u = sb_bacn_unit(o->units);
            /* the proposal discovery would make for this object */
            sb_bacn_propose(o->name, NULL, (uint16_t)o->oid.type, o->units, &pr);
            if (o->writable)
                pr.kind = sb_bacn_kind_commandable(pr.kind, o->units);
            slug(o->name, sl, sizeof(sl));
            snprintf(id, sizeof(id), "%s.%s", eq, sl);
            json_t *tags = json_array();
            for (size_t t = 0; t < pr.ntags; t++)
                json_array_append_new(tags, json_string(pr.tags[t]));
            json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:o, s:{s:s, s:{s:i, s:s, s:s}, s:i}}",
                                  "id", id, "equipment", eq, "name", o->name, "kind", sb_bacn_kind_name(pr.kind),
                                  "writable", o->writable, "brick", pr.brick, "tags", tags,
                                  "source", "driver", "bacnet", "address", "device", (int)d->instance,
                                  "object", sb_bacn_obj_str(o->oid, on, sizeof(on)), "property", "present-value",
                                  "poll_s", 60);
            if (u != SB_UNIT_INVALID && u != SB_UNIT_NONE)
                json_object_set_new(p, "unit", json_string(sb_unit_symbol(u)));
            json_array_append_new(pts, p);
        }
    }
    return json_pack("{s:o, s:o}", "equipment", eqs, "points", pts);
}

void sb_simbac_close(struct sb_simbac *s)
{
    for (size_t i = 0; s && i < s->n; i++)
        if (s->devs[i].host) {
            sb_bac_host_close(s->devs[i].host);
            s->devs[i].host = NULL;
        }
}

void sb_simbac_free(struct sb_simbac *s)
{
    for (size_t i = 0; s && i < s->n; i++) {
        sb_bac_srv_free(s->devs[i].srv);
        free(s->devs[i].objs);
    }
    free(s);
}

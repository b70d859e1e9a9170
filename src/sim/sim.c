/*
 * sim.c - sbems-sim's sites and faces (sim.h).
 */
#include <arpa/inet.h>
#include <math.h>
#include <mosquitto.h>
#include <stdbool.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/paths.h"
#include "core/timefmt.h"
#include "model/slug.h"
#include "sim/bacdev.h"
#include "sim/fault.h"
#include "sim/httpd.h"
#include "sim/mbdev.h"
#include "sim/mqttdev.h"
#include "sim/plant/plant_int.h"
#include "sim/sim.h"

#define DEFAULT_EPW "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"

enum { F_BAC, F_MB, F_MQ, F_HTTP, F_COUNT };

/* ---- configuration -------------------------------------------------- */

static int str_member(const json_t *o, const char *k, char *out, size_t cap, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, k);

    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= cap || !json_string_length(v)) {
        snprintf(err, errlen, "%s: a non-empty string under %zu bytes", k, cap);
        return SB_ECONFIG;
    }
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static int port_member(const json_t *o, const char *k, unsigned *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(o, k);

    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
        snprintf(err, errlen, "%s: a port 1..65535", k);
        return SB_ECONFIG;
    }
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static int ip_member(const json_t *o, const char *k, char *out, char *err, size_t errlen)
{
    struct in_addr a;
    int rc = str_member(o, k, out, 16, err, errlen);

    if (rc == 0 && (inet_pton(AF_INET, out, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127)) {
        snprintf(err, errlen, "%s: %s is not a 127.x.y.z address (the simulator stays on loopback)", k, out);
        return SB_ECONFIG;
    }
    return rc;
}

static int only_keys(const json_t *o, const char *const *keys, const char *where, char *err, size_t errlen)
{
    const char *k;
    json_t *v;

    if (!json_is_object(o)) {
        snprintf(err, errlen, "%s: an object", where);
        return SB_ECONFIG;
    }
    json_object_foreach((json_t *)o, k, v) {
        int ok = 0;
        for (int i = 0; keys[i]; i++)
            ok |= strcmp(keys[i], k) == 0;
        if (!ok) {
            snprintf(err, errlen, "%s.%s: unknown member", where, k);
            return SB_ECONFIG;
        }
    }
    return 0;
}

static void site_defaults(struct sb_sim_site *st, int k)
{
    static const char *const bld[] = { "hpo", "hou", "b3", "b4", "b5", "b6", "b7", "b8" };

    snprintf(st->site, sizeof(st->site), k ? "site-%d" : "harbor-point", k + 1);
    snprintf(st->building, sizeof(st->building), "%s", bld[k]);
    snprintf(st->name, sizeof(st->name), k ? "Simulated office %d" : "Harbor Point Office", k + 1);
    snprintf(st->timezone, sizeof(st->timezone), "America/New_York");
    /* the shipped file, in the tree or installed (core/paths.h) */
    sb_path_data(DEFAULT_EPW, st->weather, sizeof(st->weather));
    snprintf(st->bac_ip, sizeof(st->bac_ip), "127.0.%d.20", k);
    snprintf(st->mb_ip, sizeof(st->mb_ip), "127.0.%d.60", k);
    snprintf(st->http_ip, sizeof(st->http_ip), "127.0.%d.10", k);
    st->bac_port = 47808;
    st->mb_port = 5020;
    st->http_port = 8080;
    snprintf(st->client_id, sizeof(st->client_id), "sbems");
    snprintf(st->client_secret, sizeof(st->client_secret), "sbems-sim-secret");
    sb_plant_config_default(&st->pc);
    /* the plant's own "epw" wins over the site's "weather" only when given:
     * the default plant names Boston, which would hide every other site's file */
    st->pc.epw_file[0] = 0;
}

static int site_conf(struct sb_sim_site *st, const json_t *o, int k, char *err, size_t errlen)
{
    static const char *const keys[] = { "site", "building", "name", "timezone", "weather", "plant", "bacnet",
                                        "modbus", "http", NULL };
    static const char *const bk[] = { "ip_base", "port", NULL }, *const hk[] = { "ip", "port", "client_id",
                                                                                  "client_secret", NULL };
    char where[32], e[200];
    int rc;
    const json_t *v;

    snprintf(where, sizeof(where), "sites[%d]", k);
    if ((rc = only_keys(o, keys, where, e, sizeof(e))) ||
        (rc = str_member(o, "site", st->site, sizeof(st->site), e, sizeof(e))) ||
        (rc = str_member(o, "building", st->building, sizeof(st->building), e, sizeof(e))) ||
        (rc = str_member(o, "name", st->name, sizeof(st->name), e, sizeof(e))) ||
        (rc = str_member(o, "timezone", st->timezone, sizeof(st->timezone), e, sizeof(e))) ||
        (rc = str_member(o, "weather", st->weather, sizeof(st->weather), e, sizeof(e))))
        goto out;
    if ((v = json_object_get(o, "bacnet")) &&
        ((rc = only_keys(v, bk, "bacnet", e, sizeof(e))) || (rc = ip_member(v, "ip_base", st->bac_ip, e, sizeof(e))) ||
         (rc = port_member(v, "port", &st->bac_port, e, sizeof(e)))))
        goto out;
    if ((v = json_object_get(o, "modbus")) &&
        ((rc = only_keys(v, bk, "modbus", e, sizeof(e))) || (rc = ip_member(v, "ip_base", st->mb_ip, e, sizeof(e))) ||
         (rc = port_member(v, "port", &st->mb_port, e, sizeof(e)))))
        goto out;
    if ((v = json_object_get(o, "http")) &&
        ((rc = only_keys(v, hk, "http", e, sizeof(e))) || (rc = ip_member(v, "ip", st->http_ip, e, sizeof(e))) ||
         (rc = port_member(v, "port", &st->http_port, e, sizeof(e))) ||
         (rc = str_member(v, "client_id", st->client_id, sizeof(st->client_id), e, sizeof(e))) ||
         (rc = str_member(v, "client_secret", st->client_secret, sizeof(st->client_secret), e, sizeof(e)))))
        goto out;
    if ((v = json_object_get(o, "plant"))) {
        char *t = json_dumps(v, JSON_COMPACT);
        rc = t ? sb_plant_config_from_json(t, strlen(t), &st->pc, e, sizeof(e)) : SB_ENOMEM;
        free(t);
        if (rc)
            goto out;
    }
    /* under 40 bytes: ids derived from the building ("hou-vav-1-01.space-…") must stay slugs */
    if (!sb_slug_valid(st->building) || !sb_slug_valid(st->site) || strlen(st->building) >= 40 ||
        strlen(st->site) >= 40) {
        snprintf(e, sizeof(e), "site and building ids: [a-z0-9_.-], starting with a letter or digit");
        rc = SB_ECONFIG;
    }
out:
    if (rc && strncmp(e, where, strlen(where)) == 0)
        snprintf(err, errlen, "%s", e);         /* it names the site already */
    else if (rc)
        snprintf(err, errlen, "%s: %s", where, e);
    return rc;
}

static const char *const TOP_KEYS[] = { "speed", "labels", "mqtt", "profile_dir", "sites", NULL };

/* The configuration form (sim.h) rather than a plain plant object: it has
 * one of the top-level members (no plant member has these names). */
static int top_form(const json_t *root)
{
    for (int i = 0; TOP_KEYS[i]; i++)
        if (json_object_get(root, TOP_KEYS[i]))
            return 1;
    return 0;
}

static int top_conf(struct sb_sim *s, const json_t *root, char *err, size_t errlen)
{
    static const char *const mk[] = { "host", "port", "period_s", NULL };
    const json_t *v, *m, *site;
    size_t i;
    int rc;

    if ((rc = only_keys(root, TOP_KEYS, "config", err, errlen)) ||
        (rc = str_member(root, "labels", s->labels, sizeof(s->labels), err, errlen)) ||
        (rc = str_member(root, "profile_dir", s->profile_dir, sizeof(s->profile_dir), err, errlen)))
        return rc;
    if ((v = json_object_get(root, "speed"))) {
        s->speed = json_number_value(v);
        if (!json_is_number(v) || s->speed < 1 || s->speed > 3600) {
            snprintf(err, errlen, "speed: 1..3600");
            return SB_ECONFIG;
        }
    }
    if ((m = json_object_get(root, "mqtt"))) {
        if ((rc = only_keys(m, mk, "mqtt", err, errlen)) ||
            (rc = ip_member(m, "host", s->mqtt_host, err, errlen)) ||
            (rc = port_member(m, "port", &s->mqtt_port, err, errlen)))
            return rc;
        if ((v = json_object_get(m, "period_s"))) {
            s->mqtt_period_s = json_number_value(v);
            if (!json_is_number(v) || s->mqtt_period_s < 1 || s->mqtt_period_s > 3600) {
                snprintf(err, errlen, "mqtt.period_s: 1..3600");
                return SB_ECONFIG;
            }
        }
    }
    if (!(v = json_object_get(root, "sites")))
        return 0;       /* every member is optional: the default site */
    if (!json_is_array(v) || json_array_size(v) < 1 || json_array_size(v) > SB_SIM_MAX_SITES) {
        snprintf(err, errlen, "sites: an array of 1..%d sites", SB_SIM_MAX_SITES);
        return SB_ECONFIG;
    }
    s->nsites = (int)json_array_size(v);
    json_array_foreach(v, i, site) {
        site_defaults(&s->sites[i], (int)i);
        if ((rc = site_conf(&s->sites[i], site, (int)i, err, errlen)))
            return rc;
    }
    for (int a = 0; a < s->nsites; a++)
        for (int b = 0; b < a; b++)
            if (strcmp(s->sites[a].building, s->sites[b].building) == 0) {
                snprintf(err, errlen, "sites[%d].building: %s is used twice", a, s->sites[a].building);
                return SB_ECONFIG;
            }
    return 0;
}

int sb_sim_parse(struct sb_sim *s, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = NULL;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    s->speed = 1;
    snprintf(s->mqtt_host, sizeof(s->mqtt_host), "127.0.0.1");
    s->mqtt_port = 1883;
    s->mqtt_period_s = 30;
    sb_path_data("profiles", s->profile_dir, sizeof(s->profile_dir));
    s->nsites = 1;
    site_defaults(&s->sites[0], 0);
    if (text) {
        if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
            snprintf(err, errlen, "line %d: %s", je.line, je.text);
            return SB_EINVAL;
        }
        if (!json_is_object(root)) {
            snprintf(err, errlen, "the configuration is a JSON object");
            rc = SB_EINVAL;
        } else if (top_form(root)) {
            rc = top_conf(s, root, err, errlen);
        } else {
            /* the first form: one plant object */
            rc = sb_plant_config_from_json(text, len, &s->sites[0].pc, err, errlen);
        }
        json_decref(root);
    }
    return rc;
}

int sb_sim_load(struct sb_sim *s, const char *text, size_t len, const char *weather, const char *labels,
                int64_t start_ms, char *err, size_t errlen)
{
    int rc;

    if ((rc = sb_sim_parse(s, text, len, err, errlen)) != 0)
        return rc;
    for (int i = 0; i < s->nsites; i++) {
        struct sb_sim_site *st = &s->sites[i];
        const char *wx = weather ? weather : st->pc.epw_file[0] ? st->pc.epw_file : st->weather;
        char e[200];
        if (!(st->epw = calloc(1, sizeof(*st->epw))))
            return SB_ENOMEM;
        if ((rc = sb_epw_load(wx, st->epw, e, sizeof(e))) < 0) {
            snprintf(err, errlen, "sites[%d]: weather %s: %s", i, wx, e);
            return rc;
        }
        if (wx != st->weather)  /* (no overlapping copy) */
            snprintf(st->weather, sizeof(st->weather), "%s", wx);
        if ((rc = sb_plant_new(&st->pc, st->epw, start_ms, &st->plant, e, sizeof(e))) < 0) {
            snprintf(err, errlen, "sites[%d]: %s", i, e);
            return rc;
        }
        s->sim_ms = start_ms;
        st->ref = (struct sb_sim_site_ref){ .site = st->site, .building = st->building, .index = i,
                                            .offline = sb_simfault_offline };
    }
    if (labels)
        snprintf(s->labels, sizeof(s->labels), "%s", labels);
    if ((rc = sb_simfault_new(s->labels[0] ? s->labels : NULL, &s->faults, err, errlen)) < 0)
        return rc;
    for (int i = 0; i < s->nsites; i++) {
        s->sites[i].ref.offline_ud = s->faults;
        sb_simfault_add_site(s->faults, s->sites[i].plant, s->sites[i].building, i);
    }
    return 0;
}

/* ---- faces ---------------------------------------------------------- */

static int register_devices(struct sb_sim *s, json_t *list)
{
    size_t i;
    json_t *d;
    int rc = 0;

    json_array_foreach(list, i, d) {
        const char *n = json_string_value(json_object_get(d, "name"));
        const char *proto = json_string_value(json_object_get(d, "protocol"));
        if (n && rc == 0)
            rc = sb_simfault_add_device(s->faults, n, proto && strncmp(proto, "modbus", 6) == 0);
    }
    return rc;
}

/* The control endpoint's fault routes (httpd.h) act on the manager at
 * the simulated time of the last step. */
static int ctl_inject(void *ud, const json_t *req, char *err, size_t errlen)
{
    struct sb_sim *s = ud;
    return sb_simfault_inject(s->faults, req, s->sim_ms, sb_now_ms(), err, errlen);
}

static int ctl_clear(void *ud, int id)
{
    struct sb_sim *s = ud;
    return sb_simfault_clear(s->faults, id, s->sim_ms, sb_now_ms());
}

static json_t *ctl_list(void *ud)
{
    struct sb_sim *s = ud;
    return sb_simfault_list(s->faults);
}

int sb_sim_faces(struct sb_sim *s, uv_loop_t *loop, int listen, char *err, size_t errlen)
{
    int rc = 0;

    for (int i = 0; i < s->nsites && rc == 0; i++) {
        struct sb_sim_site *st = &s->sites[i];
        struct sb_simbac_cfg bc = { .ip_base = st->bac_ip, .port = st->bac_port, .listen = listen,
                                    .zones_per_floor = st->pc.zones_per_floor, .timezone = st->timezone };
        struct sb_simmb_cfg mc = { .ip_base = st->mb_ip, .port = st->mb_port, .listen = listen,
                                   .profile_dir = s->profile_dir };
        struct sb_simmq_cfg qc = { .host = s->mqtt_host, .port = s->mqtt_port, .period_s = (unsigned)s->mqtt_period_s,
                                   .listen = listen };
        struct sb_simhttp_cfg hc;
        char e[200];

        sb_simhttp_cfg_default(&hc);
        hc.ip = st->http_ip;
        hc.port = (int)st->http_port;
        hc.listen = listen;
        hc.client_id = st->client_id;
        hc.client_secret = st->client_secret;
        hc.epw = st->epw;
        hc.plant_cfg = &st->pc;
        hc.speed = s->speed;
        s->ctl = (struct sb_simhttp_ctl){ .ud = s, .inject = ctl_inject, .clear = ctl_clear, .list = ctl_list };
        hc.ctl = &s->ctl;
        if ((rc = sb_simbac_new(loop, st->plant, &st->ref, &bc, &st->bac, e, sizeof(e))) ||
            (rc = sb_simmb_new(loop, st->plant, &st->ref, &mc, &st->mb, e, sizeof(e))) ||
            (rc = sb_simmq_new(loop, st->plant, &st->ref, &qc, &st->mq, e, sizeof(e))) ||
            (rc = sb_simhttp_new(loop, st->plant, &st->ref, &hc, &st->http, e, sizeof(e))))
            snprintf(err, errlen, "%s: %s", st->building, e);
    }
    if (rc == 0) {
        json_t *l = sb_sim_list(s);
        rc = register_devices(s, l);
        json_decref(l);
    }
    return rc;
}

static void step_plants(struct sb_sim *s, double dt_s, int64_t sim_ms, int64_t wall_ms)
{
    /* faults due at the start of the step act during it */
    sb_simfault_tick(s->faults, sim_ms - (int64_t)(dt_s * 1000), wall_ms);
    for (int i = 0; i < s->nsites; i++)
        sb_plant_step(s->sites[i].plant, dt_s, sim_ms);
    s->sim_ms = sim_ms;
}

void sb_sim_step(struct sb_sim *s, double dt_s, int64_t sim_ms, int64_t wall_ms)
{
    step_plants(s, dt_s, sim_ms, wall_ms);
    s->sim_ms = sim_ms;
    for (int i = 0; i < s->nsites; i++) {
        struct sb_sim_site *st = &s->sites[i];
        if (st->bac)
            sb_simbac_sync(st->bac, sim_ms, wall_ms);
        if (st->mb)
            sb_simmb_sync(st->mb, sim_ms, wall_ms);
        if (st->mq)
            sb_simmq_sync(st->mq, sim_ms, wall_ms);
        if (st->http)
            sb_simhttp_sync(st->http, sim_ms, wall_ms);
    }
}

static void append_all(json_t *to, json_t *from, const char *building)
{
    size_t i;
    json_t *d;

    json_array_foreach(from, i, d)
        if (!json_object_get(d, "building"))
            json_object_set_new(d, "building", json_string(building));
    json_array_extend(to, from);
    json_decref(from);
}

json_t *sb_sim_list(const struct sb_sim *s)
{
    json_t *a = json_array();

    for (int i = 0; i < s->nsites; i++) {
        const struct sb_sim_site *st = &s->sites[i];
        if (st->bac)
            append_all(a, sb_simbac_list(st->bac), st->building);
        if (st->mb)
            append_all(a, sb_simmb_list(st->mb), st->building);
        if (st->mq)
            append_all(a, sb_simmq_list(st->mq), st->building);
        if (st->http)
            append_all(a, sb_simhttp_list(st->http), st->building);
    }
    return a;
}

void sb_sim_close(struct sb_sim *s)
{
    for (int i = 0; i < s->nsites; i++) {
        struct sb_sim_site *st = &s->sites[i];
        if (st->bac)
            sb_simbac_close(st->bac);
        if (st->mb)
            sb_simmb_close(st->mb);
        if (st->mq)
            sb_simmq_close(st->mq);
        if (st->http)
            sb_simhttp_close(st->http);
    }
}

void sb_sim_free(struct sb_sim *s)
{
    for (int i = 0; i < s->nsites; i++) {
        struct sb_sim_site *st = &s->sites[i];
        sb_simbac_free(st->bac);
        sb_simmb_free(st->mb);
        sb_simmq_free(st->mq);
        sb_simhttp_free(st->http);
        sb_plant_free(st->plant);
        free(st->epw);
        st->bac = NULL;
        st->mb = NULL;
        st->mq = NULL;
        st->http = NULL;
        st->plant = NULL;
        st->epw = NULL;
    }
    sb_simfault_free(s->faults);
    s->faults = NULL;
}

/* ---- the site document ------------------------------------------------ */

static const char *const orient[] = { "south", "east", "north", "west", "core" };

static void zone_id(const struct sb_sim_site *st, int f, int z, int zpf, char *out, size_t cap)
{
    char pre[72];

    sb_sim_name_prefix(&st->ref, pre, sizeof(pre));
    for (char *c = pre; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
    if (zpf == 5)
        snprintf(out, cap, "%sf%d-%s", pre, f, orient[z - 1]);
    else
        snprintf(out, cap, "%sf%d-open", pre, f);
}

static json_t *zones_doc(const struct sb_sim_site *st)
{
    const struct sb_plant_config *c = &st->pc;
    json_t *zs = json_array();
    char occ[32], id[96];

    snprintf(occ, sizeof(occ), "%02d:00-%02d:00", c->occ_start_h, c->occ_end_h);
    for (int f = 1; f <= c->floors; f++)
        for (int z = 1; z <= c->zones_per_floor; z++) {
            struct sb_zone_params zp;
            double win[SB_FACADE_COUNT], people;
            char name[96];
            sb_plant__zone_geometry(c, f, z, &zp, win, &people);
            zone_id(st, f, z, c->zones_per_floor, id, sizeof(id));
            snprintf(name, sizeof(name), "Floor %d %s%s", f, c->zones_per_floor == 5 ? orient[z - 1] : "open office",
                     c->zones_per_floor == 5 && z < 5 ? " perimeter" : "");
            json_array_append_new(zs, json_pack(
                "{s:s, s:s, s:s, s:i, s:f, s:{s:{s:f, s:f}, s:{s:f, s:f}}, s:{s:s}, s:s}",
                "id", id, "building", st->building, "name", name, "floor", f,
                "area_m2", round(zp.floor_area * 10) / 10,
                "comfort", "occupied", "heating", c->occ_heat_sp, "cooling", c->occ_cool_sp,
                "unoccupied", "heating", c->unocc_heat_sp, "cooling", c->unocc_cool_sp,
                "schedule", "mon-fri", occ, "description", "simulated by sbems-sim"));
        }
    return zs;
}

/* sbems's weather driver reads one location (docs/internals/rest.md): the
 * first site's weather service is the one drivers.json names, so the
 * other sites' weather points, which would read it too, are left out. */
static json_t *no_weather(json_t *part)
{
    json_t *pts = json_object_get(part, "points"), *eqs = json_object_get(part, "equipment");
    json_t *drop = json_object();

    for (size_t i = json_array_size(pts); i-- > 0;) {
        json_t *p = json_array_get(pts, i);
        const char *drv = json_string_value(json_object_get(json_object_get(p, "source"), "driver"));
        if (drv && strcmp(drv, "weather") == 0) {
            json_object_set_new(drop, json_string_value(json_object_get(p, "equipment")) ?: "", json_true());
            json_array_remove(pts, i);
        }
    }
    for (size_t i = json_array_size(eqs); i-- > 0;) {
        const char *id = json_string_value(json_object_get(json_array_get(eqs, i), "id"));
        if (id && json_object_get(drop, id))
            json_array_remove(eqs, i);
    }
    json_decref(drop);
    return part;
}

/* Room devices (IAQ sensors "IAQ-1-03", thermostats "RT-1-03 (...)") sit in
 * the zone their name gives: sbems links them to it, so a zone's sensors can
 * be compared (a drifting controller sensor against the room's own). */
static void place_devices(const struct sb_sim_site *st, json_t *part)
{
    json_t *eqs = json_object_get(part, "equipment"), *e;
    size_t i;

    json_array_foreach(eqs, i, e) {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *at = name ? strstr(name, "IAQ-") : NULL;
        int f, z, zpf = st->pc.zones_per_floor;
        char id[96];
        if (!at && name)
            at = strstr(name, "RT-");
        if (!at || json_object_get(e, "zone") || sscanf(strchr(at, '-') + 1, "%d-%d", &f, &z) != 2 ||
            f < 1 || f > st->pc.floors || z < 1 || z > zpf)
            continue;
        zone_id(st, f, z, zpf, id, sizeof(id));
        json_object_set_new(e, "zone", json_string(id));
    }
}

static void merge_face(const struct sb_sim_site *st, json_t *doc, json_t *part)
{
    if (!part)
        return;
    place_devices(st, part);
    json_array_extend(json_object_get(doc, "equipment"), json_object_get(part, "equipment"));
    json_array_extend(json_object_get(doc, "points"), json_object_get(part, "points"));
    json_decref(part);
}

json_t *sb_sim_sitedoc(const struct sb_sim *s, int with_bacnet)
{
    json_t *doc = json_pack("{s:s, s:i, s:[], s:[], s:[], s:[], s:[]}", "format", "sbems-site", "version", 1,
                            "sites", "buildings", "zones", "equipment", "points");

    for (int i = 0; i < s->nsites; i++) {
        const struct sb_sim_site *st = &s->sites[i];
        double area = st->pc.floor_area_total;
        json_array_append_new(json_object_get(doc, "sites"),
                              json_pack("{s:s, s:s}", "id", st->site, "name", st->name));
        json_array_append_new(json_object_get(doc, "buildings"), json_pack(
            "{s:s, s:s, s:s, s:s, s:f, s:f, s:f}", "id", st->building, "site", st->site, "name", st->name,
            "timezone", st->timezone, "area_m2", area, "latitude", st->epw->lat, "longitude", st->epw->lon));
        json_t *zs = zones_doc(st);
        json_array_extend(json_object_get(doc, "zones"), zs);
        json_decref(zs);
        if (st->bac && with_bacnet)
            merge_face(st, doc, sb_simbac_site(st->bac));
        if (st->mb)
            merge_face(st, doc, sb_simmb_site(st->mb));
        if (st->mq)
            merge_face(st, doc, sb_simmq_site(st->mq));
        if (st->http)
            merge_face(st, doc, i == 0 ? sb_simhttp_site(st->http) : no_weather(sb_simhttp_site(st->http)));
    }
    return doc;
}

json_t *sb_sim_drivers(const struct sb_sim *s)
{
    json_t *d = json_object();
    char broker[80];

    char *prof = realpath(s->profile_dir, NULL);

    snprintf(broker, sizeof(broker), "%s", s->mqtt_host);
    json_object_set_new(d, "mqtt", json_pack("{s:s, s:i}", "host", broker, "port", (int)s->mqtt_port));
    /* the meters speak the shipped profiles: sbems reads them from the same place */
    json_object_set_new(d, "modbus", json_pack("{s:s}", "profiles", prof ? prof : s->profile_dir));
    for (int i = 0; i < s->nsites; i++)
        if (s->sites[i].http) {
            json_t *h = sb_simhttp_drivers(s->sites[i].http);
            /* merge the REST APIs of every site; the weather driver takes one location */
            json_t *rest = json_object_get(d, "rest"), *apis = json_object_get(json_object_get(h, "rest"), "apis");
            if (!rest)
                json_object_set(d, "rest", json_object_get(h, "rest"));
            else if (apis)
                json_object_update(json_object_get(rest, "apis"), apis);
            json_object_set_new(json_object_get(d, "rest"), "profile_dir", json_string(prof ? prof : s->profile_dir));
            if (!json_object_get(d, "weather") && json_object_get(h, "weather"))
                json_object_set(d, "weather", json_object_get(h, "weather"));
            json_decref(h);
        }
    /* where each controller is: sbems needs no broadcast Who-Is to find it
     * (a socket bound to one loopback address does not hear 127.255.255.255) */
    json_t *devs = json_object();
    for (int i = 0; i < s->nsites; i++) {
        json_t *l = s->sites[i].bac ? sb_simbac_list(s->sites[i].bac) : NULL, *e;
        size_t k;
        json_array_foreach(l, k, e) {
            char key[16], addr[48];
            snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(e, "device")));
            snprintf(addr, sizeof(addr), "%s:%lld", json_string_value(json_object_get(e, "address")),
                     (long long)json_integer_value(json_object_get(e, "port")));
            json_object_set_new(devs, key, json_string(addr));
        }
        json_decref(l);
    }
    json_object_set_new(d, "bacnet", json_pack("{s:o}", "devices", devs));
    free(prof);
    return d;
}

/* ---- bind and backfill ----------------------------------------------- */

/* Every face's device list, made once per site and face while a set of
 * points is bound (a BACnet list carries every object: not per point). */
struct devlists {
    json_t *l[SB_SIM_MAX_SITES][F_COUNT];
};

static void devlists_free(struct devlists *c)
{
    for (int i = 0; i < SB_SIM_MAX_SITES; i++)
        for (int f = 0; f < F_COUNT; f++)
            json_decref(c->l[i][f]);
}

static json_t *face_list(const struct sb_sim_site *st, int face)
{
    switch (face) {
    case F_BAC: return st->bac ? sb_simbac_list(st->bac) : NULL;
    case F_MB: return st->mb ? sb_simmb_list(st->mb) : NULL;
    case F_MQ: return st->mq ? sb_simmq_list(st->mq) : NULL;
    case F_HTTP: return st->http ? sb_simhttp_list(st->http) : NULL;
    }
    return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The source's address as an object (a new reference): sbems's model keeps
 * an object address as its JSON text. */
static json_t *address_obj(const json_t *src)
{
    json_t *a = json_object_get(src, "address");

    if (json_is_object(a))
        return json_incref(a);
    if (json_is_string(a) && json_string_value(a)[0] == '{')
        return json_loads(json_string_value(a), 0, NULL);
    return NULL;
}

static int same_ipv4(const char *a, const char *b)
{
    struct in_addr x, y;

    return a && b && inet_pton(AF_INET, a, &x) == 1 && inet_pton(AF_INET, b, &y) == 1 && x.s_addr == y.s_addr;
}

/* An uplink topic or a filter that matches it (MQTT 3.1.1 §4.7). */
static int topic_matches(const char *filter, const char *topic)
{
    bool m = false;

    if (!filter || !topic)
        return 0;
    return strcmp(filter, topic) == 0 ||
           (mosquitto_topic_matches_sub(filter, topic, &m) == MOSQ_ERR_SUCCESS && m);
}

/* Whether device d (an entry of the face's list) is the one the source
 * (driver drv, address a) reads.  The face has bound the source already,
 * so one key of the address is enough to tell its devices apart. */
static int serves(const struct sb_sim_site *st, int face, const json_t *d, const char *drv, const json_t *a)
{
    const json_t *inst = json_object_get(a, "device");
    char pre[72], w[80];

    switch (face) {
    case F_BAC:     /* the Device object's instance (135-2020 clause 12.11.1) */
        return json_is_integer(inst) && json_integer_value(inst) == json_integer_value(json_object_get(d, "device"));
    case F_MB:      /* each meter listens on its own address (mbdev.h) */
        return same_ipv4(jstr(a, "host"), jstr(d, "address"));
    case F_MQ:
        return topic_matches(jstr(a, "topic"), jstr(d, "topic"));
    case F_HTTP:
        if (strcmp(drv, "weather") == 0) {
            sb_sim_name_prefix(&st->ref, pre, sizeof(pre));
            snprintf(w, sizeof(w), "%sWEATHER", pre);   /* httpd.h */
            return jstr(d, "name") && strcmp(jstr(d, "name"), w) == 0;
        }
        return jstr(d, "id") && jstr(a, "device") && strcmp(jstr(d, "id"), jstr(a, "device")) == 0;
    }
    return 0;
}

/* b->device: the name of the device of b's face that serves src, or "". */
static void device_of(const struct sb_sim *s, struct devlists *c, const json_t *src, struct sb_sim_bound *b)
{
    const struct sb_sim_site *st = &s->sites[b->site];
    const char *drv = jstr(src, "driver");
    json_t **l = &c->l[b->site][b->face], *a = address_obj(src), *d;
    size_t i;

    b->device[0] = 0;
    if (!*l)
        *l = face_list(st, b->face);
    json_array_foreach(*l, i, d)
        if (a && drv && jstr(d, "name") && serves(st, b->face, d, drv, a)) {
            snprintf(b->device, sizeof(b->device), "%s", jstr(d, "name"));
            break;
        }
    json_decref(a);
}

static int bind_cached(const struct sb_sim *s, const json_t *point, struct sb_sim_bound *b, struct devlists *c)
{
    const json_t *src = json_object_get(point, "source");
    int h;

    if (!src)
        return SB_ENOENT;
    for (int i = 0; i < s->nsites; i++) {
        const struct sb_sim_site *st = &s->sites[i];
        int f = F_BAC;
        if ((st->bac && (h = sb_simbac_bind(st->bac, src)) >= 0) ||
            (f = F_MB, st->mb && (h = sb_simmb_bind(st->mb, src)) >= 0) ||
            (f = F_MQ, st->mq && (h = sb_simmq_bind(st->mq, src)) >= 0) ||
            (f = F_HTTP, st->http && (h = sb_simhttp_bind(st->http, src)) >= 0)) {
            *b = (struct sb_sim_bound){ .site = i, .face = f, .handle = h };
            device_of(s, c, src, b);
            return 0;
        }
    }
    return SB_ENOENT;
}

int sb_sim_bind(const struct sb_sim *s, const json_t *point, struct sb_sim_bound *b)
{
    struct devlists c = { 0 };
    int rc = bind_cached(s, point, b, &c);

    devlists_free(&c);
    return rc;
}

int sb_sim_value(const struct sb_sim *s, const struct sb_sim_bound *b, double *v)
{
    const struct sb_sim_site *st = &s->sites[b->site];

    /* here rather than in each face: a REST thermostat's cloud keeps
     * answering its last values while it is offline (httpd.h), but a
     * history has no stale flag, and the reading did not happen */
    if (b->device[0] && sb_simfault_offline(s->faults, b->device))
        return SB_EAGAIN;
    switch (b->face) {
    case F_BAC: return sb_simbac_value(st->bac, b->handle, v);
    case F_MB: return sb_simmb_value(st->mb, b->handle, v);
    case F_MQ: return sb_simmq_value(st->mq, b->handle, v);
    case F_HTTP: return sb_simhttp_value(st->http, b->handle, v);
    }
    return SB_ENOENT;
}

struct col {
    const char *id;
    struct sb_sim_bound b;
};

static int bind_all(const struct sb_sim *s, const json_t *doc, struct col **out, size_t *n)
{
    const json_t *pts = json_is_array(doc) ? doc : json_object_get(doc, "points");
    struct col *c = calloc(json_array_size(pts) + 1, sizeof(*c));
    struct devlists dl = { 0 };
    size_t i;
    json_t *p;

    *n = 0;
    if (!c)
        return SB_ENOMEM;
    json_array_foreach(pts, i, p) {
        const char *id = json_string_value(json_object_get(p, "id"));
        if (id && bind_cached(s, p, &c[*n].b, &dl) == 0)
            c[(*n)++].id = id;
    }
    devlists_free(&dl);
    *out = c;
    return 0;
}

int64_t sb_sim_backfill_rows(int64_t from_ms, int64_t to_ms, double step_s, int64_t *first_ms, int64_t *last_ms)
{
    int64_t step_ms = (int64_t)(step_s * 1000), n = 0;

    if (step_ms > 0 && to_ms > from_ms)
        n = (to_ms - from_ms) / step_ms;
    *first_ms = from_ms + step_ms;
    *last_ms = from_ms + n * step_ms;
    return n;
}

int sb_sim_backfill_faults(struct sb_sim *s, const char *path, int64_t from_ms, int64_t to_ms, double step_s,
                           char *err, size_t errlen)
{
    int64_t first, last;

    if (!(step_s >= 1 && step_s <= 3600) || sb_sim_backfill_rows(from_ms, to_ms, step_s, &first, &last) < 1) {
        snprintf(err, errlen, "backfill: step 1..3600 s and a period of at least one step");
        return SB_EINVAL;
    }
    sb_simfault_set_period(s->faults, first, last);
    /* injected at the plants' start, before the first row: only the
     * backfill's own ticks start them */
    return sb_simfault_load(s->faults, path, from_ms, from_ms, err, errlen);
}

static void write_row(const struct sb_sim *s, const struct col *cols, size_t n, int64_t t, FILE *out)
{
    fprintf(out, "%lld", (long long)t);
    for (size_t i = 0; i < n; i++) {
        double v;
        if (sb_sim_value(s, &cols[i].b, &v) == 0 && isfinite(v))
            fprintf(out, ",%.7g", v);
        else
            fputc(',', out);
    }
    fputc('\n', out);
}

int64_t sb_sim_backfill(struct sb_sim *s, const json_t *points_doc, int64_t from_ms, int64_t to_ms,
                        double step_s, FILE *out, char *err, size_t errlen)
{
    struct col *cols = NULL;
    size_t n;
    int64_t rows, first, last, step_ms = (int64_t)(step_s * 1000);
    int rc;

    if (!(step_s >= 1 && step_s <= 3600) || to_ms <= from_ms) {
        snprintf(err, errlen, "backfill: step 1..3600 s and a period that ends after it starts");
        return SB_EINVAL;
    }
    if ((rc = bind_all(s, points_doc, &cols, &n)) < 0)
        return rc;
    if (n == 0) {
        snprintf(err, errlen, "backfill: none of the points is served by this simulator");
        free(cols);
        return SB_ENOENT;
    }
    fputs("time", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, ",%s", cols[i].id);
    fputc('\n', out);
    /* the plants were built at from_ms; the first row is one step in.  The
     * tick at the row a step starts from (sim = wall: the rows are stamped
     * in simulated time) starts and ends the faults due by then, so they
     * act over the whole step and their labels carry row times. */
    rows = sb_sim_backfill_rows(from_ms, to_ms, step_s, &first, &last);
    for (int64_t k = 1; k <= rows; k++) {
        int64_t t = from_ms + k * step_ms;
        sb_simfault_tick(s->faults, t - step_ms, t - step_ms);
        for (int i = 0; i < s->nsites; i++)
            sb_plant_step(s->sites[i].plant, step_s, t);
        s->sim_ms = t;
        write_row(s, cols, n, t, out);
    }
    /* a fault that starts or ends at the last row is labelled, though no
     * row shows that */
    sb_simfault_tick(s->faults, last, last);
    free(cols);
    if (fflush(out) != 0 || ferror(out)) {
        snprintf(err, errlen, "backfill: write failed");
        return SB_EIO;
    }
    return rows;
}

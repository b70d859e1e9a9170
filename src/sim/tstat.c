/*
 * tstat.c - the simulated thermostat cloud API of sbems-sim's HTTP face
 * (httpd.h): OAuth 2.0 client credentials (RFC 6749 s.4.4), bearer tokens
 * (RFC 6750), and the thermostats of docs/internals/rest.md "The simulated
 * thermostat API", mapped onto the plant's zone points.
 *
 * Mapping (docs/internals/sim-faces.md has the table):
 *   temperature  floorF.zoneZ.tstat.temp, 0.1 K
 *   humidity     floorF.zoneZ.rh when the plant has it, else null
 *   setpoints    floorF.zoneZ.htg_sp / clg_sp (effective), 0.5 K steps; a
 *                side the mode switches off shows the thermostat's own value
 *   hold         PUT setpoints overrides both plant setpoints
 *   mode         auto: schedule; eco: tstat.mode 2 (unoccupied setback);
 *                heat: cooling setpoint overridden to the plant's maximum;
 *                cool: heating setpoint to its minimum; off: both, plus
 *                unoccupied mode (frost protection only)
 *   demand       heating: VAV reheat valve %; cooling: the VAV airflow's
 *                position between minimum and maximum, %
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/err.h"
#include "sim/httpd_int.h"
#include "sim/plant/plant.h"

#define SCOPE_ALL "thermostats.read thermostats.write"
#define BOX_OPEN  1.25      /* VAV box: q_open / q_max (plant.c vav_init) */

static const char *const mode_names[SH_MODES] = { "off", "heat", "cool", "auto", "eco" };
static const char *const fan_names[SH_FANS] = { "auto", "low", "medium", "high" };

/* The profile's points (profiles/rest-siemens-thermostat.json), in handle order. */
enum q { Q_TEMP, Q_RH, Q_HSP, Q_CSP, Q_MODE, Q_FAN, Q_OCC, Q_DH, Q_DC, Q_HOLD, Q_ONLINE, Q_COUNT };

static const struct qdef {
    const char *name;           /* profile point = point id suffix */
    const char *label;
    const char *kind;
    const char *unit;           /* NULL: none */
    int writable;
    double min, max;            /* NaN: none */
    int poll_s;
    const char *brick;
    const char *tags;           /* space-separated */
    const char *desc;
} qdefs[Q_COUNT] = {
    { "temperature", "Room temperature", "temperature", "°C", 0, NAN, NAN, 60,
      "Zone_Air_Temperature_Sensor", "zone air temp sensor", NULL },
    { "humidity", "Room humidity", "humidity", "%RH", 0, 0, 100, 300,
      "Zone_Air_Humidity_Sensor", "zone air humidity sensor", NULL },
    { "heating_setpoint", "Heating setpoint", "setpoint", "°C", 1, 5, 30, 300,
      "Zone_Air_Heating_Temperature_Setpoint", "zone air temp heating sp", NULL },
    { "cooling_setpoint", "Cooling setpoint", "setpoint", "°C", 1, 15, 35, 300,
      "Zone_Air_Cooling_Temperature_Setpoint", "zone air temp cooling sp", NULL },
    { "mode", "Thermostat mode", "command", NULL, 1, 0, 4, 300, "Mode_Command", "mode cmd",
      "0 off, 1 heat, 2 cool, 3 auto, 4 eco" },
    { "fan", "Fan mode", "command", NULL, 1, 0, 3, 300, "Mode_Command", "fan mode cmd",
      "0 auto, 1 low, 2 medium, 3 high" },
    { "occupancy", "Occupancy", "occupancy", NULL, 0, NAN, NAN, 300, "Occupancy_Status",
      "occupied sensor", "0 unoccupied, 1 occupied, 2 standby" },
    { "heating_demand", "Heating demand", "position", "%", 0, 0, 100, 60,
      "Heating_Demand_Sensor", "heating demand sensor", "VAV reheat valve" },
    { "cooling_demand", "Cooling demand", "position", "%", 0, 0, 100, 60,
      "Cooling_Demand_Sensor", "cooling demand sensor", "VAV airflow above its minimum" },
    { "hold", "Setpoint hold", "status", NULL, 0, NAN, NAN, 300, "Status", "hold sensor",
      "1 while a manual setpoint overrides the schedule" },
    { "online", "Cloud connection", "status", NULL, 0, NAN, NAN, 300, "Status", "online sensor",
      "1 while the thermostat is connected to the cloud" },
};

/* ---- discovery ------------------------------------------------------------ */

static int point(const struct sb_simhttp *h, const struct sh_tstat *t, const char *suffix)
{
    char n[80];

    snprintf(n, sizeof(n), "%s.%s", t->zone, suffix);
    return sb_plant_find(h->plant, n);
}

static const char *facade(int zone_ix)
{
    static const char *const f[] = { "south perimeter", "east perimeter", "north perimeter",
                                     "west perimeter", "core" };
    return zone_ix >= 1 && zone_ix <= 5 ? f[zone_ix - 1] : "zone";
}

/* Accepted setpoint ranges: the API's 5..35 degC narrowed to what the
 * plant's point accepts, so a write the API takes always reaches the plant. */
static void ranges(const struct sb_simhttp *h, struct sh_tstat *t)
{
    struct sb_plant_point_info hi, ci;

    sb_plant_point(h->plant, t->p_htg, &hi);
    sb_plant_point(h->plant, t->p_clg, &ci);
    t->h_lo = fmax(5, hi.min);
    t->h_hi = fmin(35, hi.max);
    t->c_lo = fmax(5, ci.min);
    t->c_hi = fmin(35, ci.max);
    t->h_off = hi.min;
    t->c_off = ci.max;
}

static int tstat_add(struct sb_simhttp *h, int floor, int zone, char *err, size_t errlen)
{
    struct sh_tstat *n = realloc(h->ts, (h->nts + 1) * sizeof(*n)), *t;
    char ahu[48];

    if (!n)
        return SB_ENOMEM;
    h->ts = n;
    t = &h->ts[h->nts];
    memset(t, 0, sizeof(*t));
    t->floor = floor;
    t->zone_ix = zone;
    snprintf(t->id, sizeof(t->id), "rt-%d-%02d", floor, zone);
    snprintf(t->name, sizeof(t->name), "%sRT-%d-%02d", h->prefix, floor, zone);
    snprintf(t->zone, sizeof(t->zone), "floor%d.zone%d", floor, zone);
    snprintf(t->label, sizeof(t->label), "Floor %d %s", floor, facade(zone));
    t->p_temp = point(h, t, "tstat.temp");
    t->p_mode = point(h, t, "tstat.mode");
    t->p_htg = point(h, t, "htg_sp");
    t->p_clg = point(h, t, "clg_sp");
    t->p_occ = point(h, t, "occupied");
    if (t->p_temp < 0 || t->p_mode < 0 || t->p_htg < 0 || t->p_clg < 0 || t->p_occ < 0) {
        sb_errf(err, errlen, "%s: the plant lacks a thermostat point", t->zone);
        return SB_ECONFIG;
    }
    t->p_rh = point(h, t, "rh");
    t->p_reheat = point(h, t, "vav.reheat");
    t->p_damper = point(h, t, "vav.damper");
    t->p_flow = point(h, t, "vav.flow");
    t->p_qmin = point(h, t, "vav.flow_min");
    t->p_qmax = point(h, t, "vav.flow_max");
    snprintf(ahu, sizeof(ahu), "floor%d.ahu.static", floor);
    t->p_static = sb_plant_find(h->plant, ahu);
    t->mode = SH_AUTO;
    t->fan = SH_FAN_AUTO;
    ranges(h, t);
    h->nts++;
    return 0;
}

int sb_simhttp__tstat_init(struct sb_simhttp *h, char *err, size_t errlen)
{
    struct sb_plant_point_info in;
    int rc = 0;

    for (int i = 0; i < sb_plant_point_count(h->plant) && rc == 0; i++) {
        int f, z, n = 0;
        char back[64];
        if (sb_plant_point(h->plant, i, &in) < 0 ||
            sscanf(in.name, "floor%d.zone%d.tstat.temp%n", &f, &z, &n) != 2 || n == 0 ||
            in.name[n] != 0 || f < 1 || f > 99 || z < 1 || z > 99)
            continue;
        /* only canonical spellings ("floor01" would be another point) */
        snprintf(back, sizeof(back), "floor%d.zone%d.tstat.temp", f, z);
        if (strcmp(back, in.name) == 0)
            rc = tstat_add(h, f, z, err, errlen);
    }
    return rc;
}

/* ---- values ---------------------------------------------------------------- */

static double rd(const struct sb_simhttp *h, int idx)
{
    double v = NAN;

    if (idx >= 0)
        sb_plant_read(h->plant, idx, &v);
    return v;
}

static double rd_auto(const struct sb_simhttp *h, int idx)
{
    double v = NAN;

    sb_plant_read_auto(h->plant, idx, &v);
    return v;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Cooling demand: where the VAV airflow sits between its minimum and
 * maximum (the cooling loop's travel in a single-maximum sequence).  With
 * the plant's flow limits as points, directly; else from the box law
 * Q = d q_open sqrt(P / P_sp) (docs/internals/sim-physics.md) with q_open =
 * 1.25 q_max, so Q / q_max = 1.25 d sqrt(P / P_sp) needs no zone area. */
static double cooling_share(const struct sb_simhttp *h, const struct sh_tstat *t)
{
    double x, f = h->vav_min_frac;

    if (t->p_qmin >= 0 && t->p_qmax >= 0 && t->p_flow >= 0) {
        double lo = rd(h, t->p_qmin), hi = rd(h, t->p_qmax);
        x = hi > lo ? (rd(h, t->p_flow) - lo) / (hi - lo) : 0;
    } else if (t->p_damper >= 0 && t->p_static >= 0 && h->static_sp > 0 && f < 1) {
        double d = clamp(rd(h, t->p_damper) / 100.0, 0, 1), ps = fmax(0, rd(h, t->p_static));
        x = (BOX_OPEN * d * sqrt(ps / h->static_sp) - f) / (1 - f);
    } else {
        return 0;
    }
    return isfinite(x) ? round(100 * clamp(x, 0, 1)) : 0;
}

/* Rounded to 1/k; never -0.0, which would print as "-0.0". */
static double step_of(double x, double k)
{
    double r = round(x * k) / k;
    return r == 0 ? 0 : r;
}

static double half(double x)
{
    return step_of(x, 2);
}

static double tenth(double x)
{
    return step_of(x, 10);
}

static int heats(enum sh_mode m)
{
    return m == SH_AUTO || m == SH_ECO || m == SH_HEAT;
}

static int cools(enum sh_mode m)
{
    return m == SH_AUTO || m == SH_ECO || m == SH_COOL;
}

static void live(const struct sb_simhttp *h, const struct sh_tstat *t, struct sh_tvals *v)
{
    double hs, cs;

    v->temp = tenth(rd(h, t->p_temp));
    v->rh = t->p_rh >= 0 ? tenth(rd(h, t->p_rh)) : NAN;
    /* a side the mode switches off shows the thermostat's own setpoint,
     * not the override that disables it */
    hs = heats(t->mode) ? rd(h, t->p_htg) : t->hold ? t->hold_h : rd_auto(h, t->p_htg);
    cs = cools(t->mode) ? rd(h, t->p_clg) : t->hold ? t->hold_c : rd_auto(h, t->p_clg);
    v->htg = half(hs);
    v->clg = half(cs);
    v->occupied = rd(h, t->p_occ) > 0.5;
    v->dem_h = t->p_reheat >= 0 ? round(clamp(rd(h, t->p_reheat), 0, 100)) : 0;
    v->dem_c = cooling_share(h, t);
}

void sb_simhttp__tstat_values(const struct sb_simhttp *h, const struct sh_tstat *t,
                              struct sh_tvals *v)
{
    if (t->offline)
        *v = t->last;
    else
        live(h, t, v);
}

void sb_simhttp__tstat_sync(struct sb_simhttp *h)
{
    for (size_t i = 0; i < h->nts; i++) {
        struct sh_tstat *t = &h->ts[i];
        t->offline = h->site.offline && h->site.offline(h->site.offline_ud, t->name);
        if (!t->offline) {
            live(h, t, &t->last);
            t->updated_ms = h->wall_ms;
        }
    }
}

/* ---- plant commands -------------------------------------------------------- */

static void command(struct sb_plant *p, int idx, double v)
{
    if (isnan(v))
        sb_plant_relinquish(p, idx);
    else
        sb_plant_write(p, idx, v);
}

/* Drives the plant from the thermostat's state.  Called on changes only, so
 * a BACnet write of the same zone setpoint (bacdev.c) stands until the
 * thermostat is changed again: the last writer wins. */
static void apply(struct sb_simhttp *h, const struct sh_tstat *t)
{
    double hs = t->hold ? t->hold_h : NAN, cs = t->hold ? t->hold_c : NAN;

    if (!heats(t->mode))
        hs = t->h_off;
    if (!cools(t->mode))
        cs = t->c_off;
    command(h->plant, t->p_htg, hs);
    command(h->plant, t->p_clg, cs);
    /* tstat.mode: 0 schedule, 1 occupied, 2 unoccupied (sim-physics.md) */
    command(h->plant, t->p_mode, t->mode == SH_ECO || t->mode == SH_OFF ? 2 : NAN);
}

/* ---- OAuth 2.0 -------------------------------------------------------------- */

static void oauth_err(struct sb_shresp *out, int status, const char *code, const char *desc)
{
    sb_simhttp__json(out, status, json_pack("{s:s, s:s}", "error", code, "error_description", desc));
}

/* Basic credentials (RFC 6749 s.2.3.1: each form-encoded, then RFC 7617). */
static int basic_creds(const char *auth, char *id, char *secret, size_t cap)
{
    unsigned char raw[600];
    size_t rawlen = 0;
    const char *b64 = auth + 6, *end = NULL;
    unsigned char *colon;
    int rc = -1;

    while (*b64 == ' ')
        b64++;
    if (sodium_base642bin(raw, sizeof(raw) - 1, b64, strlen(b64), NULL, &rawlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || *end != 0)
        goto out;
    if ((colon = memchr(raw, ':', rawlen)) &&
        sb_simhttp__form_decode((char *)raw, (size_t)(colon - raw), id, cap) >= 0 &&
        sb_simhttp__form_decode((char *)colon + 1, rawlen - (size_t)(colon - raw) - 1, secret, cap) >= 0)
        rc = 0;
out:
    sodium_memzero(raw, sizeof(raw));
    return rc;
}

static int scope_ok(const char *s)
{
    char buf[256];
    char *save = NULL;

    snprintf(buf, sizeof(buf), "%s", s);
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        if (strcmp(w, "thermostats.read") != 0 && strcmp(w, "thermostats.write") != 0)
            return 0;
    return 1;
}

static struct sh_token *token_slot(struct sb_simhttp *h, int64_t now)
{
    struct sh_token *best = &h->tokens[0];

    for (int i = 0; i < SH_TOKENS; i++) {
        if (!h->tokens[i].tok[0] || h->tokens[i].exp_ms <= now)
            return &h->tokens[i];
        if (h->tokens[i].exp_ms < best->exp_ms)
            best = &h->tokens[i];
    }
    return best;                        /* full: the one expiring first goes */
}

static void token_issue(struct sb_simhttp *h, const char *scope, int64_t now, struct sb_shresp *out)
{
    struct sh_token *t = token_slot(h, now);
    unsigned char raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(t->tok, sizeof(t->tok), raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
    t->exp_ms = now + h->token_ttl_ms;
    sb_simhttp__json(out, 200, json_pack("{s:s, s:s, s:I, s:s}", "access_token", t->tok,
                                         "token_type", "Bearer",
                                         "expires_in", (json_int_t)(h->token_ttl_ms / 1000),
                                         "scope", scope[0] ? scope : SCOPE_ALL));
    /* RFC 6749 s.5.1: no caching of token responses (Cache-Control: no-store
     * goes out with every answer) */
    sb_simhttp__header(out, "Pragma: no-cache");
}

/* The client's credentials from Basic or the form body; 0, or 1 with the
 * answer made. */
static int client_creds(const struct sb_shreq *rq, char *id, char *secret, size_t cap,
                        struct sb_shresp *out)
{
    int bid = sb_simhttp__form_get(rq->body, rq->body_len, "client_id", id, cap);
    int bsec = sb_simhttp__form_get(rq->body, rq->body_len, "client_secret", secret, cap);
    int basic = rq->has_auth && strncasecmp(rq->auth, "Basic ", 6) == 0;

    if (basic && (bid >= 0 || bsec >= 0)) {
        /* RFC 6749 s.2.3: one authentication method per request */
        oauth_err(out, 400, "invalid_request", "client authenticated twice");
        return 1;
    }
    if (basic ? basic_creds(rq->auth, id, secret, cap) != 0 : bid < 0 || bsec < 0) {
        oauth_err(out, 401, "invalid_client", "client authentication failed");
        sb_simhttp__header(out, "WWW-Authenticate: Basic realm=\"thermostat-api\"");
        return 1;
    }
    return 0;
}

static void token_endpoint(struct sb_simhttp *h, const struct sb_shreq *rq, int64_t now,
                           struct sb_shresp *out)
{
    char grant[64], scope[256] = "", id[256], secret[256];
    int g = sb_simhttp__form_get(rq->body, rq->body_len, "grant_type", grant, sizeof(grant));
    int sc = sb_simhttp__form_get(rq->body, rq->body_len, "scope", scope, sizeof(scope));

    if (strcmp(rq->method, "POST") != 0) {
        sb_simhttp__not_allowed(out, "POST");
        return;
    }
    if (g < 0 || sc == -2)
        oauth_err(out, 400, "invalid_request", "grant_type is required, once");
    else if (strcmp(grant, "client_credentials") != 0)
        oauth_err(out, 400, "unsupported_grant_type", "only client_credentials");
    else if (client_creds(rq, id, secret, sizeof(id), out) == 0) {
        int ok = sb_simhttp__secret_eq(id, strlen(id), h->client_id, strlen(h->client_id)) &
                 sb_simhttp__secret_eq(secret, strlen(secret), h->client_secret, strlen(h->client_secret));
        if (!ok) {
            oauth_err(out, 401, "invalid_client", "client authentication failed");
            sb_simhttp__header(out, "WWW-Authenticate: Basic realm=\"thermostat-api\"");
        } else if (!scope_ok(scope)) {
            oauth_err(out, 400, "invalid_scope", "scopes: thermostats.read thermostats.write");
        } else {
            token_issue(h, scope, now, out);
        }
    }
    sodium_memzero(secret, sizeof(secret));
}

/* 1 when the request carries a live token (RFC 6750 s.2.1). */
static int bearer_ok(const struct sb_simhttp *h, const struct sb_shreq *rq, int64_t now)
{
    const char *t = rq->auth + 7;
    int ok = 0;

    if (!rq->has_auth || strncasecmp(rq->auth, "Bearer ", 7) != 0)
        return 0;
    while (*t == ' ')
        t++;
    if (strlen(t) != SH_TOKEN_LEN)
        return 0;
    /* every slot is compared in constant time: no early exit on a match */
    for (int i = 0; i < SH_TOKENS; i++)
        ok |= h->tokens[i].tok[0] && h->tokens[i].exp_ms > now &&
              sodium_memcmp(h->tokens[i].tok, t, SH_TOKEN_LEN) == 0;
    return ok;
}

static void unauthorized(const struct sb_shreq *rq, struct sb_shresp *out)
{
    sb_simhttp__err(out, 401, "unauthorized", "invalid or expired token");
    /* RFC 6750 s.3.1: no error code when no credentials came at all */
    if (rq->has_auth)
        sb_simhttp__header(out, "WWW-Authenticate: Bearer realm=\"thermostat-api\", error=\"invalid_token\"");
    else
        sb_simhttp__header(out, "WWW-Authenticate: Bearer realm=\"thermostat-api\"");
}

/* ---- thermostat documents ---------------------------------------------------- */

static json_t *num_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *status_doc(const struct sb_simhttp *h, const struct sh_tstat *t)
{
    struct sh_tvals v;
    char upd[32];

    sb_simhttp__tstat_values(h, t, &v);
    sb_simhttp__rfc3339(t->updated_ms, upd, sizeof(upd));
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:o, s:o, s:{s:f, s:f}, s:s, s:s, s:s,"
                     " s:{s:I, s:I}, s:b}",
                     "id", t->id, "name", t->label, "model", "RDS110", "online", !t->offline,
                     "updated", upd, "temperature", num_or_null(v.temp), "humidity", num_or_null(v.rh),
                     "setpoints", "heating", v.htg, "cooling", v.clg, "mode", mode_names[t->mode],
                     "fan", fan_names[t->fan], "occupancy", v.occupied ? "occupied" : "unoccupied",
                     "demand", "heating", (json_int_t)v.dem_h, "cooling", (json_int_t)v.dem_c,
                     "hold", t->hold);
}

static void list_doc(const struct sb_simhttp *h, struct sb_shresp *out)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < h->nts; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", h->ts[i].id,
                                             "name", h->ts[i].label, "model", "RDS110"));
    sb_simhttp__json(out, 200, json_pack("{s:o}", "thermostats", arr));
}

static void unprocessable(struct sb_shresp *out, const char *code, const char *msg)
{
    sb_simhttp__err(out, 422, code, "%s", msg);
}

/* Merges the body's setpoints into hs and cs; 0, or 1 with the 422 made. */
static int merge_setpoints(const struct sh_tstat *t, json_t *b, double *hs, double *cs,
                           struct sb_shresp *out)
{
    const char *k;
    json_t *x;
    char msg[128];

    if (json_object_size(b) == 0) {
        unprocessable(out, "invalid", "give \"heating\" and/or \"cooling\"");
        return 1;
    }
    json_object_foreach(b, k, x) {
        int heat = strcmp(k, "heating") == 0;
        double lo = heat ? t->h_lo : t->c_lo, hi = heat ? t->h_hi : t->c_hi, d = json_number_value(x);
        if (!heat && strcmp(k, "cooling") != 0) {
            snprintf(msg, sizeof(msg), "unknown setpoint %.40s", k);
            unprocessable(out, "invalid", msg);
            return 1;
        }
        if (!json_is_number(x) || !(d >= lo && d <= hi)) {
            snprintf(msg, sizeof(msg), "%s setpoint %g outside %g..%g °C", k,
                     json_is_number(x) ? d : NAN, lo, hi);
            unprocessable(out, "out_of_range", msg);
            return 1;
        }
        *(heat ? hs : cs) = half(d);
    }
    if (*hs > *cs - 1) {
        unprocessable(out, "out_of_range", "heating must stay 1 K below cooling");
        return 1;
    }
    return 0;
}

static void put_setpoints(struct sb_simhttp *h, struct sh_tstat *t, const struct sb_shreq *rq,
                          struct sb_shresp *out)
{
    json_t *b = sb_simhttp__body_object(rq, out);
    struct sh_tvals v;
    double hs, cs;

    if (!b)
        return;
    sb_simhttp__tstat_values(h, t, &v);
    hs = v.htg;
    cs = v.clg;
    if (merge_setpoints(t, b, &hs, &cs, out) == 0) {
        t->hold = 1;
        t->hold_h = hs;
        t->hold_c = cs;
        apply(h, t);
        sb_simhttp__tstat_values(h, t, &v);
        sb_simhttp__json(out, 200, json_pack("{s:f, s:f}", "heating", v.htg, "cooling", v.clg));
    }
    json_decref(b);
}

/* PUT {"<key>": "<one of names>"}: the index, or -1 with the 422 made. */
static int put_enum(const struct sb_shreq *rq, const char *key, const char *const *names, int n,
                    struct sb_shresp *out)
{
    json_t *b = sb_simhttp__body_object(rq, out);
    const char *s = json_string_value(json_object_get(b, key));
    int r = -1;

    if (!b)
        return -1;
    for (int i = 0; s && json_object_size(b) == 1 && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            r = i;
    if (r < 0)
        sb_simhttp__err(out, 422, "invalid", "unknown %s; one of %s, %s, %s, %s%s%s", key, names[0],
                        names[1], names[2], names[3], n > 4 ? ", " : "", n > 4 ? names[4] : "");
    json_decref(b);
    return r;
}

static void thermostat(struct sb_simhttp *h, struct sh_tstat *t, const char *what, size_t wn,
                       const struct sb_shreq *rq, struct sb_shresp *out)
{
    int is_put = strcmp(rq->method, "PUT") == 0, r;

#define WHAT(s) (wn == sizeof(s) - 1 && memcmp(what, s, wn) == 0)
    if (WHAT("status")) {
        if (sb_simhttp__method_is(rq, "GET"))
            sb_simhttp__json(out, 200, status_doc(h, t));
        else
            sb_simhttp__not_allowed(out, "GET, HEAD");
        return;
    }
    if (!WHAT("setpoints") && !WHAT("mode") && !WHAT("fan") && !WHAT("hold")) {
        sb_simhttp__err(out, 404, "not_found", "no such resource");
        return;
    }
    if (WHAT("hold") ? strcmp(rq->method, "DELETE") != 0 : !is_put) {
        sb_simhttp__not_allowed(out, WHAT("hold") ? "DELETE" : "PUT");
        return;
    }
    if (t->offline) {
        /* the cloud cannot reach the device: it refuses rather than queues */
        sb_simhttp__err(out, 409, "offline", "thermostat %s is offline", t->id);
        return;
    }
    if (WHAT("setpoints")) {
        put_setpoints(h, t, rq, out);
    } else if (WHAT("mode")) {
        if ((r = put_enum(rq, "mode", mode_names, SH_MODES, out)) >= 0) {
            t->mode = (enum sh_mode)r;
            apply(h, t);
            sb_simhttp__json(out, 200, json_pack("{s:s}", "mode", mode_names[r]));
        }
    } else if (WHAT("fan")) {
        if ((r = put_enum(rq, "fan", fan_names, SH_FANS, out)) >= 0) {
            t->fan = (enum sh_fan)r;
            sb_simhttp__json(out, 200, json_pack("{s:s}", "fan", fan_names[r]));
        }
    } else {
        /* back to the schedule: setpoints, hold and mode */
        t->hold = 0;
        t->mode = SH_AUTO;
        apply(h, t);
        sb_simhttp__json(out, 204, NULL);
    }
#undef WHAT
}

static struct sh_tstat *find(struct sb_simhttp *h, const char *id, size_t n)
{
    for (size_t i = 0; i < h->nts; i++)
        if (strlen(h->ts[i].id) == n && memcmp(h->ts[i].id, id, n) == 0)
            return &h->ts[i];
    return NULL;
}

void sb_simhttp__tstat_route(struct sb_simhttp *h, const struct sb_shreq *rq, const char *path,
                             size_t plen, int64_t mono_ms, struct sb_shresp *out)
{
    const char *id, *slash;
    struct sh_tstat *t;

    if (plen == 13 && memcmp(path, "/oauth2/token", 13) == 0) {
        token_endpoint(h, rq, mono_ms, out);
        return;
    }
    if (!bearer_ok(h, rq, mono_ms)) {
        unauthorized(rq, out);
        return;
    }
    if (plen == 12 && memcmp(path, "/thermostats", 12) == 0) {
        if (sb_simhttp__method_is(rq, "GET"))
            list_doc(h, out);
        else
            sb_simhttp__not_allowed(out, "GET, HEAD");
        return;
    }
    if (plen < 14 || memcmp(path, "/thermostats/", 13) != 0 ||
        !(slash = memchr(path + 13, '/', plen - 13))) {
        sb_simhttp__err(out, 404, "not_found", "no such resource");
        return;
    }
    id = path + 13;
    if (!(t = find(h, id, (size_t)(slash - id)))) {
        sb_simhttp__err(out, 404, "not_found", "no thermostat %.*s", (int)(slash - id > 64 ? 64 : slash - id), id);
        return;
    }
    thermostat(h, t, slash + 1, plen - (size_t)(slash + 1 - path), rq, out);
}

/* ---- sbems side: list, site, bind, value ------------------------------------------ */

const char *sb_simhttp__api_name(const struct sb_simhttp *h, char *buf, size_t cap)
{
    const char *b = h->site.building ? h->site.building : "sim";
    size_t n = 0;

    /* rest driver API names are [A-Za-z0-9_-] */
    for (; *b && n + 7 < cap && n < 56; b++)
        buf[n++] = isalnum((unsigned char)*b) || *b == '_' || *b == '-' ? *b : '-';
    snprintf(buf + n, cap - n, "-tstat");
    return buf;
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t n = 0;

    for (; *s && n + 1 < cap; s++)
        out[n++] = (char)tolower((unsigned char)*s);
    out[n] = 0;
}

void sb_simhttp__tstat_list(const struct sb_simhttp *h, json_t *arr)
{
    char base[128];

    snprintf(base, sizeof(base), "http://%s:%d/thermostat-api/v1", h->ip, h->port);
    for (size_t i = 0; i < h->nts; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}",
                                             "protocol", "rest", "name", h->ts[i].name,
                                             "address", h->ip, "port", h->port, "base_url", base,
                                             "id", h->ts[i].id, "zone", h->ts[i].zone,
                                             "auth", "oauth2_client_credentials"));
}

static json_t *tags(const char *s)
{
    json_t *a = json_array();
    char buf[96], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", s);
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(w));
    return a;
}

static json_t *point_doc(const struct sb_simhttp *h, const struct sh_tstat *t, const char *eid,
                         const struct qdef *q, const char *api)
{
    char id[160], name[160];
    json_t *p;

    snprintf(id, sizeof(id), "%s.%s", eid, q->name);
    snprintf(name, sizeof(name), "%s %s", t->name, q->label);
    p = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}, s:i}, s:s, s:o}", "id", id,
                  "equipment", eid, "name", name, "kind", q->kind, "source", "driver", "rest",
                  "address", "api", api, "device", t->id, "name", q->name, "poll_s", q->poll_s,
                  "brick", q->brick, "tags", tags(q->tags));
    if (p && q->unit)
        json_object_set_new(p, "unit", json_string(q->unit));
    if (p && q->writable)
        json_object_set_new(p, "writable", json_true());
    if (p && !isnan(q->min)) {
        json_object_set_new(p, "min", json_real(q->min));
        json_object_set_new(p, "max", json_real(q->max));
    }
    if (p && q->desc)
        json_object_set_new(p, "description", json_string(q->desc));
    return p;
}

void sb_simhttp__tstat_site(const struct sb_simhttp *h, json_t *equip, json_t *points)
{
    char eid[96], name[160], api[80], desc[96];

    sb_simhttp__api_name(h, api, sizeof(api));
    for (size_t i = 0; i < h->nts; i++) {
        const struct sh_tstat *t = &h->ts[i];
        lower(t->name, eid, sizeof(eid));
        snprintf(name, sizeof(name), "%s (%s)", t->name, t->label);
        snprintf(desc, sizeof(desc), "sbems-sim room thermostat of %s", t->zone);
        json_array_append_new(equip, json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:o, s:s}",
                                               "id", eid, "building", h->site.building, "name", name,
                                               "type", "thermostat", "vendor", "Siemens",
                                               "model", "RDS110 (simulated)", "brick", "Thermostat",
                                               "tags", tags("thermostat equip"), "description", desc));
        for (int q = 0; q < Q_COUNT; q++)
            if (q != Q_RH || t->p_rh >= 0)
                json_array_append_new(points, point_doc(h, t, eid, &qdefs[q], api));
    }
}

int sb_simhttp__tstat_bind(const struct sb_simhttp *h, const json_t *addr)
{
    const char *api = json_string_value(json_object_get(addr, "api"));
    const char *dev = json_string_value(json_object_get(addr, "device"));
    const char *name = json_string_value(json_object_get(addr, "name"));
    char mine[80];

    if (!api || !dev || !name || json_object_size(addr) != 3 ||
        strcmp(api, sb_simhttp__api_name(h, mine, sizeof(mine))) != 0)
        return SB_ENOENT;
    for (size_t i = 0; i < h->nts; i++) {
        if (strcmp(h->ts[i].id, dev) != 0)
            continue;
        for (int q = 0; q < Q_COUNT; q++)
            if (strcmp(qdefs[q].name, name) == 0 && (q != Q_RH || h->ts[i].p_rh >= 0))
                return (int)i * 16 + q;
    }
    return SB_ENOENT;
}

int sb_simhttp__tstat_value(const struct sb_simhttp *h, int handle, double *v)
{
    size_t i = (size_t)handle / 16;
    int q = handle % 16;
    const struct sh_tstat *t;
    struct sh_tvals tv;

    if (i >= h->nts || q >= Q_COUNT)
        return SB_ENOENT;
    t = &h->ts[i];
    sb_simhttp__tstat_values(h, t, &tv);
    switch (q) {
    case Q_TEMP:   *v = tv.temp; break;
    case Q_RH:     *v = tv.rh; break;
    case Q_HSP:    *v = tv.htg; break;
    case Q_CSP:    *v = tv.clg; break;
    case Q_MODE:   *v = t->mode; break;
    case Q_FAN:    *v = t->fan; break;
    case Q_OCC:    *v = tv.occupied; break;
    case Q_DH:     *v = tv.dem_h; break;
    case Q_DC:     *v = tv.dem_c; break;
    case Q_HOLD:   *v = t->hold; break;
    default:       *v = !t->offline; break;
    }
    /* null on the wire: the driver reports the point missing */
    return isnan(*v) ? SB_ENOENT : 0;
}

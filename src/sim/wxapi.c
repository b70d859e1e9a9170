/*
 * wxapi.c - sbems-sim's Open-Meteo-shaped weather API (httpd.h):
 * GET /weather/v1/forecast with Open-Meteo's query parameters and response
 * layout (open-meteo.com/en/docs), as src/drivers/rest/wxparse.c reads it.
 *
 * Values come from the EPW file at SIMULATED time, labelled in WALL time:
 * hour t of the answer holds the weather of sim_now + (t - wall_now).  sbems
 * stamps its readings in wall time even when the simulator runs faster, so
 * the forecast for "now" must equal what the points read now, and the
 * forecast hour h ahead the weather the sim will show h hours of wall time
 * later at speed 1.  "current" is the plant's weather (its weather.* points).
 *
 * A forecast is not the truth: each hour after wall_now gets an error that
 * grows with lead time (temperature ~0.3 K at 1 h to ~2.5 K at 72 h), from a
 * deterministic, seeded mix of two sinusoids over lead time whose phases are
 * drawn anew for every wall-clock hour ("model run").  Hours up to now are
 * exact.  cfg forecast_error scales it (0: exact).
 *
 * cloud_cover: the EPW reader keeps no sky cover, so it is derived from the
 * clearness of the sky with Kasten & Czeplak (1980): G/G_clear = 1 -
 * 0.75 (N/8)^3.4, G_clear = 910 cos(z) - 30 W/m2, solved for N; at night
 * (sun below ~11.5 deg) the last daytime estimate of the past 24 h holds.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "sim/httpd_int.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"
#include "sim/weather/solar.h"

#define HOUR_MS   3600000LL
#define DAY_MS    86400000LL

enum wv { W_T, W_RH, W_SW, W_WIND, W_CC, W_TD, W_COUNT };
enum wunit { WU_KMH, WU_MS, WU_MPH, WU_KN };

static const char *const var_names[W_COUNT] = {
    "temperature_2m", "relative_humidity_2m", "shortwave_radiation", "wind_speed_10m",
    "cloud_cover", "dew_point_2m",
};

/* One request's parameters. */
struct wxq {
    double lat, lon;
    int have_lat, have_lon;
    int cur[W_COUNT], ncur;
    int hr[W_COUNT], nhr;
    int days, past_days;
    enum wunit wind;
    int fahrenheit;
    int unixtime;
    char reason[160];
};

/* A weather state: one hour of the answer or the current block. */
struct wxs {
    double v[W_COUNT];          /* degC, %, W/m2, m/s, %, degC */
};

/* ---- the numbers --------------------------------------------------------- */

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

double sb_simhttp__cloud_pct(const struct sb_epw *w, int64_t sim_ms)
{
    for (int k = 0; k < 24; k++) {
        double hoy = sb_epw_hour_of_year(sim_ms - k * HOUR_MS, w->tz_h), cz, gc, n;
        struct sb_solar sun;
        struct sb_weather wx;

        sb_solar_position(w->lat, w->lon, w->tz_h, hoy, &sun);
        cz = cos(sun.zenith_deg * M_PI / 180.0);
        if (cz < 0.2)
            continue;                   /* too low for a clearness estimate */
        sb_epw_at(w, hoy, &wx);
        gc = 910.0 * cz - 30.0;
        n = pow(clamp((1.0 - wx.ghi / gc) / 0.75, 0, 1), 1.0 / 3.4);
        return round(100.0 * n);
    }
    return 50;                          /* a polar night: no information */
}

/* The truth at a simulated instant (shortwave: mean of the preceding hour,
 * which for an EPW hour total is its value placed at mid-hour). */
static void truth(const struct sb_epw *w, int64_t sim_ms, struct wxs *s)
{
    double hoy = sb_epw_hour_of_year(sim_ms, w->tz_h);
    struct sb_weather wx, sw;

    sb_epw_at(w, hoy, &wx);
    sb_epw_at(w, hoy - 0.5, &sw);
    s->v[W_T] = wx.tdb;
    s->v[W_RH] = wx.rh;
    s->v[W_SW] = sw.ghi;
    s->v[W_WIND] = wx.wind;
    s->v[W_CC] = sb_simhttp__cloud_pct(w, sim_ms);
    s->v[W_TD] = wx.tdp;
}

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser (Steele, Lea, Flood 2014) */
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static double u01(uint64_t x)
{
    return (double)(mix(x) >> 11) * 0x1.0p-53;
}

/* A smooth unit-variance function of lead time for (run, variable). */
static double wave(uint64_t seed, int64_t run, int var, double lead_h)
{
    uint64_t k = mix(seed ^ mix((uint64_t)run * 8u + (uint64_t)var));
    double p1 = 2 * M_PI * u01(k), p2 = 2 * M_PI * u01(k ^ 0x5555u);

    /* periods of 31 h and 11 h; amplitudes 0.8 and 0.6 have variance 0.5 */
    return M_SQRT2 * (0.8 * sin(2 * M_PI * lead_h / 31 + p1) + 0.6 * sin(2 * M_PI * lead_h / 11 + p2));
}

/* Error standard deviation: a at 1 h growing linearly to b at 72 h, capped. */
static double sigma(double lead_h, double a, double b, double cap)
{
    return fmin(cap, lead_h < 1 ? a * lead_h : a + (b - a) * (lead_h - 1) / 71.0);
}

/* Saturation vapour pressure over water, hPa (Magnus form, WMO-No. 8
 * (2008) Annex 4.B). */
static double esat(double t)
{
    return 6.112 * exp(17.62 * t / (243.12 + t));
}

static void add_error(const struct sb_simhttp *h, int64_t run, double lead, struct wxs *s)
{
    double k = h->fc_err, t0 = s->v[W_T], d0 = s->v[W_TD], t, d, r, w;

    if (k <= 0 || lead <= 0)
        return;
    t = t0 + k * sigma(lead, 0.3, 2.5, 3.5) * wave(h->fc_seed, run, W_T, lead);
    d = fmin(t, d0 + k * sigma(lead, 0.4, 3.0, 4.0) * wave(h->fc_seed, run, W_TD, lead));
    r = k * sigma(lead, 0.05, 0.30, 0.5) * wave(h->fc_seed, run, W_SW, lead);
    w = k * sigma(lead, 0.10, 0.35, 0.5) * wave(h->fc_seed, run, W_WIND, lead);
    /* humidity follows the temperature and dew-point errors, so the three stay consistent */
    s->v[W_RH] = clamp(s->v[W_RH] + 100.0 * (esat(d) / esat(t) - esat(d0) / esat(t0)), 1, 100);
    s->v[W_T] = t;
    s->v[W_TD] = d;
    s->v[W_SW] = fmax(0, s->v[W_SW] * (1 + r));
    s->v[W_CC] = clamp(s->v[W_CC] - 100.0 * r, 0, 100);
    s->v[W_WIND] = fmax(0, s->v[W_WIND] * (1 + w));
}

/* As the wire shows it: units applied, rounded like Open-Meteo. */
static double shown_raw(int var, double v, enum wunit wu, int fahrenheit);

/* -0.0 prints as "-0.0": make it 0 */
static double shown(int var, double v, enum wunit wu, int fahrenheit)
{
    double r = shown_raw(var, v, wu, fahrenheit);
    return r == 0 ? 0 : r;
}

static double shown_raw(int var, double v, enum wunit wu, int fahrenheit)
{
    static const double wind_div[] = { 1 / 3.6, 1, 0.44704, 1852.0 / 3600.0 };

    if (isnan(v))
        return v;
    switch (var) {
    case W_T:
    case W_TD:
        return round((fahrenheit ? v * 9 / 5 + 32 : v) * 10) / 10;
    case W_WIND:
        return round(v / wind_div[wu] * 10) / 10;
    case W_SW:
        return round(v * 10) / 10;
    default:
        return round(v);
    }
}

static double rd(const struct sb_simhttp *h, int idx)
{
    double v = NAN;

    if (idx >= 0)
        sb_plant_read(h->plant, idx, &v);
    return v;
}

/* The current block: the plant's weather now. */
static void current(const struct sb_simhttp *h, struct wxs *s)
{
    s->v[W_T] = rd(h, h->p_oat);
    s->v[W_RH] = rd(h, h->p_rh);
    s->v[W_SW] = rd(h, h->p_ghi);
    s->v[W_WIND] = rd(h, h->p_wind);
    s->v[W_CC] = sb_simhttp__cloud_pct(h->epw, sb_plant_time_ms(h->plant));
    s->v[W_TD] = rd(h, h->p_dew);
}

/* ---- the query ------------------------------------------------------------ */

static int bad(struct wxq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct wxq *q, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(q->reason, sizeof(q->reason), fmt, ap);
    va_end(ap);
    return -1;
}

static int add_vars(struct wxq *q, const char *list, const char *block, int *arr, int *n)
{
    char buf[512], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        int v = -1, dup = 0;
        for (int i = 0; i < W_COUNT; i++)
            if (strcmp(w, var_names[i]) == 0)
                v = i;
        if (v < 0)
            return bad(q, "Cannot initialize ForecastVariable from invalid String value %.60s for key %s",
                       w, block);
        for (int i = 0; i < *n; i++)
            dup |= arr[i] == v;
        if (!dup)
            arr[(*n)++] = v;
    }
    return 0;
}

static int pick(struct wxq *q, const char *v, const char *key, const char *const *opts, int n, int *out)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v, opts[i]) == 0) {
            *out = i;
            return 0;
        }
    return bad(q, "Invalid String value %.60s for key %s", v, key);
}

static int int_param(struct wxq *q, const char *v, const char *key, int lo, int hi, int *out)
{
    char *end;
    long x = strtol(v, &end, 10);

    if (!*v || *end || x < lo || x > hi) {
        snprintf(q->reason, sizeof(q->reason), "Parameter %s is invalid. Allowed range %d to %d.",
                 key, lo, hi);
        return -1;
    }
    *out = (int)x;
    return 0;
}

static int coord(struct wxq *q, const char *v, const char *key, double lim, double *out, int *have)
{
    char *end;
    double x = strtod(v, &end);

    if (!*v || *end || !isfinite(x))
        return bad(q, "Cannot initialize Float from invalid String value %.60s for key %s", v, key);
    if (fabs(x) > lim) {
        snprintf(q->reason, sizeof(q->reason), "%s must be in range of -%g to %g°. Given: %g.",
                 key[1] == 'a' ? "Latitude" : "Longitude", lim, lim, x);
        return -1;
    }
    *out = x;
    *have = 1;
    return 0;
}

static int param(struct wxq *q, const char *k, const char *v)
{
    static const char *const wind[] = { "kmh", "ms", "mph", "kn" };
    static const char *const temp[] = { "celsius", "fahrenheit" };
    static const char *const tf[] = { "iso8601", "unixtime" };
    static const char *const tz[] = { "GMT", "UTC", "Etc/UTC", "Etc/GMT" };
    int x = 0;

    if (strcmp(k, "latitude") == 0)
        return coord(q, v, k, 90, &q->lat, &q->have_lat);
    if (strcmp(k, "longitude") == 0)
        return coord(q, v, k, 180, &q->lon, &q->have_lon);
    if (strcmp(k, "current") == 0)
        return add_vars(q, v, k, q->cur, &q->ncur);
    if (strcmp(k, "hourly") == 0)
        return add_vars(q, v, k, q->hr, &q->nhr);
    if (strcmp(k, "forecast_days") == 0)
        return int_param(q, v, k, 0, 16, &q->days);
    if (strcmp(k, "past_days") == 0)
        return int_param(q, v, k, 0, 92, &q->past_days);
    if (strcmp(k, "wind_speed_unit") == 0 || strcmp(k, "windspeed_unit") == 0) {
        if (pick(q, v, k, wind, 4, &x) < 0)
            return -1;
        q->wind = (enum wunit)x;
        return 0;
    }
    if (strcmp(k, "temperature_unit") == 0)
        return pick(q, v, k, temp, 2, &q->fahrenheit);
    if (strcmp(k, "timeformat") == 0)
        return pick(q, v, k, tf, 2, &q->unixtime);
    if (strcmp(k, "timezone") == 0)
        return pick(q, v, k, tz, 4, &x) < 0 ?
               bad(q, "sbems-sim serves timezone=GMT only, not %.60s", v) : 0;
    return 0;                           /* other Open-Meteo parameters: ignored */
}

/* Every key=value of the query, in order; 0 or -1 with q->reason. */
static int parse_query(const char *s, size_t len, struct wxq *q)
{
    char k[64], v[512];

    *q = (struct wxq){ .days = 7, .wind = WU_KMH };
    for (size_t i = 0; i < len;) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t e = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + i, '=', e - i);
        size_t ke = eq ? (size_t)(eq - s) : e;
        if (e > i && (sb_simhttp__form_decode(s + i, ke - i, k, sizeof(k)) < 0 ||
                      sb_simhttp__form_decode(eq ? eq + 1 : "", eq ? e - ke - 1 : 0, v, sizeof(v)) < 0))
            return bad(q, "Malformed query parameter");
        if (e > i && param(q, k, v) < 0)
            return -1;
        i = e + 1;
    }
    if (!q->have_lat || !q->have_lon)
        return bad(q, "Parameter 'latitude' and 'longitude' must be set");
    return 0;
}

/* ---- the answer ------------------------------------------------------------ */

static const char *unit_of(int var, const struct wxq *q)
{
    static const char *const wind[] = { "km/h", "m/s", "mp/h", "kn" };

    switch (var) {
    case W_T:
    case W_TD:   return q->fahrenheit ? "°F" : "°C";
    case W_SW:   return "W/m²";
    case W_WIND: return wind[q->wind];
    default:     return "%";
    }
}

static json_t *time_label(int64_t ms, int unixtime)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32];

    if (unixtime)
        return json_integer((json_int_t)t);
    gmtime_r(&t, &tm);
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M", &tm);
    return json_string(buf);
}

/* Open-Meteo writes humidity and cloud cover as integers, the rest with decimals. */
static json_t *num(int var, double v)
{
    if (isnan(v))
        return json_null();
    return var == W_RH || var == W_CC ? json_integer((json_int_t)v) : json_real(v);
}

static json_t *units(const struct wxq *q, const int *vars, int n, int with_interval)
{
    json_t *u = json_pack("{s:s}", "time", q->unixtime ? "unixtime" : "iso8601");

    if (with_interval)
        json_object_set_new(u, "interval", json_string("seconds"));
    for (int i = 0; i < n; i++)
        json_object_set_new(u, var_names[vars[i]], json_string(unit_of(vars[i], q)));
    return u;
}

static json_t *current_block(const struct sb_simhttp *h, const struct wxq *q)
{
    struct wxs s;
    /* Open-Meteo's current block is a 15-minute value labelled with its start */
    json_t *c = json_pack("{s:o, s:i}", "time", time_label(h->wall_ms - h->wall_ms % 900000, q->unixtime),
                          "interval", 900);

    current(h, &s);
    for (int i = 0; i < q->ncur; i++)
        json_object_set_new(c, var_names[q->cur[i]], num(q->cur[i], shown(q->cur[i], s.v[q->cur[i]], q->wind,
                                                              q->fahrenheit)));
    return c;
}

static json_t *hourly_block(const struct sb_simhttp *h, const struct wxq *q)
{
    int64_t day0 = h->wall_ms - ((h->wall_ms % DAY_MS) + DAY_MS) % DAY_MS;   /* 00:00 GMT today */
    int64_t start = day0 - q->past_days * DAY_MS, run = h->wall_ms / HOUR_MS;
    int n = (q->past_days + q->days) * 24;
    json_t *times = json_array(), *series[W_COUNT] = { 0 }, *blk;

    for (int i = 0; i < q->nhr; i++)
        series[q->hr[i]] = json_array();
    for (int k = 0; k < n; k++) {
        int64_t t = start + k * HOUR_MS;
        struct wxs s;
        truth(h->epw, h->sim_ms + (t - h->wall_ms), &s);
        add_error(h, run, (double)(t - h->wall_ms) / HOUR_MS, &s);
        json_array_append_new(times, time_label(t, q->unixtime));
        for (int i = 0; i < q->nhr; i++)
            json_array_append_new(series[q->hr[i]], num(q->hr[i], shown(q->hr[i], s.v[q->hr[i]], q->wind,
                                                              q->fahrenheit)));
    }
    blk = json_pack("{s:o}", "time", times);
    for (int i = 0; i < q->nhr; i++)
        json_object_set_new(blk, var_names[q->hr[i]], series[q->hr[i]]);
    return blk;
}

static void wx_error(struct sb_shresp *out, int status, const char *reason)
{
    char r[200];

    snprintf(r, sizeof(r), "%s", reason);
    sb_simhttp__printable(r);
    sb_simhttp__json(out, status, json_pack("{s:b, s:s}", "error", 1, "reason", r));
}

void sb_simhttp__wx_route(struct sb_simhttp *h, const struct sb_shreq *rq, struct sb_shresp *out)
{
    const char *qs = rq->target + rq->path_len;
    size_t qn = strlen(qs);
    struct wxq q;
    json_t *doc;

    if (!h->epw) {
        wx_error(out, 404, "no weather service on this site");
        return;
    }
    if (!sb_simhttp__method_is(rq, "GET")) {
        wx_error(out, 405, "Method not allowed");
        sb_simhttp__header(out, "Allow: GET, HEAD");
        return;
    }
    if (h->wx_offline) {
        wx_error(out, 503, "service unavailable");
        sb_simhttp__header(out, "Retry-After: 60");
        return;
    }
    if (parse_query(qn ? qs + 1 : qs, qn ? qn - 1 : 0, &q) < 0) {
        wx_error(out, 400, q.reason);
        return;
    }
    /* any coordinates are accepted; the answer is the weather file's station */
    doc = json_pack("{s:f, s:f, s:f, s:i, s:s, s:s, s:f}", "latitude", h->epw->lat,
                    "longitude", h->epw->lon, "generationtime_ms", 0.1, "utc_offset_seconds", 0,
                    "timezone", "GMT", "timezone_abbreviation", "GMT", "elevation", h->epw->elev_m);
    if (q.ncur) {
        json_object_set_new(doc, "current_units", units(&q, q.cur, q.ncur, 1));
        json_object_set_new(doc, "current", current_block(h, &q));
    }
    if (q.nhr) {
        json_object_set_new(doc, "hourly_units", units(&q, q.hr, q.nhr, 0));
        json_object_set_new(doc, "hourly", hourly_block(h, &q));
    }
    sb_simhttp__json(out, 200, doc);
}

/* ---- sbems side ---------------------------------------------------------------- */

int sb_simhttp__wx_init(struct sb_simhttp *h)
{
    h->p_oat = sb_plant_find(h->plant, "weather.oat");
    h->p_dew = sb_plant_find(h->plant, "weather.dewpoint");
    h->p_rh = sb_plant_find(h->plant, "weather.rh");
    h->p_ghi = sb_plant_find(h->plant, "weather.ghi");
    h->p_wind = sb_plant_find(h->plant, "weather.wind");
    return 0;
}

int sb_simhttp__wx_bind(const struct sb_simhttp *h, const json_t *addr)
{
    const char *v = json_string_value(json_object_get(addr, "variable"));
    const json_t *what = json_object_get(addr, "what");
    size_t n = json_object_size(addr);

    if (!h->epw || !v || n != (what ? 2u : 1u) ||
        (what && (!json_is_string(what) || strcmp(json_string_value(what), "current") != 0)))
        return SB_ENOENT;
    for (int i = 0; i < W_COUNT; i++)
        if (strcmp(v, var_names[i]) == 0)
            return SH_WX_HANDLE + i;
    return SB_ENOENT;
}

int sb_simhttp__wx_value(const struct sb_simhttp *h, int handle, double *v)
{
    int var = handle - SH_WX_HANDLE;
    struct wxs s;

    if (!h->epw || var < 0 || var >= W_COUNT)
        return SB_ENOENT;
    current(h, &s);
    /* what the sbems weather driver asks for: m/s and degC */
    *v = shown(var, s.v[var], WU_MS, 0);
    return isnan(*v) ? SB_ENOENT : 0;
}

void sb_simhttp__wx_site(const struct sb_simhttp *h, json_t *equip, json_t *points)
{
    static const struct {
        int var;
        const char *q, *label, *kind, *unit, *brick, *tags;
    } pts[] = {
        { W_T, "oat", "Outdoor temperature", "temperature", "°C", "Outside_Air_Temperature_Sensor",
          "weather air temp sensor" },
        { W_RH, "rh", "Outdoor relative humidity", "humidity", "%", "Outside_Air_Humidity_Sensor",
          "weather air humidity sensor" },
        { W_TD, "dewpoint", "Outdoor dew point", "temperature", "°C", "Outside_Air_Dewpoint_Sensor",
          "weather air dewpoint sensor" },
        { W_SW, "ghi", "Global horizontal irradiance (W/m²)", "other", NULL, "Solar_Radiance_Sensor",
          "weather solar irradiance sensor" },
        { W_WIND, "wind", "Wind speed at 10 m (m/s)", "other", NULL, "Wind_Speed_Sensor",
          "weather wind speed sensor" },
        { W_CC, "cloud_cover", "Cloud cover", "other", "%", NULL, "weather cloud sensor" },
    };
    char eid[96], id[128], name[128];

    if (!h->epw)
        return;
    snprintf(name, sizeof(name), "%sWEATHER", h->prefix);
    for (size_t i = 0; i < sizeof(eid); i++) {
        eid[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
        if (!name[i])
            break;
    }
    json_array_append_new(equip, json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:[s, s]}",
                                           "id", eid, "building", h->site.building,
                                           "name", "Weather service (simulated Open-Meteo)",
                                           "type", "other", "vendor", "sbems-sim",
                                           "model", "Open-Meteo forecast API (simulated)",
                                           "brick", "Weather_Station", "tags", "weatherStation", "equip"));
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        json_t *tg = json_array(), *p;
        char buf[64], *save = NULL;
        snprintf(buf, sizeof(buf), "%s", pts[i].tags);
        for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
            json_array_append_new(tg, json_string(w));
        snprintf(id, sizeof(id), "%s.%s", eid, pts[i].q);
        p = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}, s:i}, s:o}", "id", id,
                      "equipment", eid, "name", pts[i].label, "kind", pts[i].kind, "source",
                      "driver", "weather", "address", "variable", var_names[pts[i].var],
                      "what", "current", "poll_s", 300, "tags", tg);
        if (p && pts[i].unit)
            json_object_set_new(p, "unit", json_string(pts[i].unit));
        if (p && pts[i].brick)
            json_object_set_new(p, "brick", json_string(pts[i].brick));
        json_array_append_new(points, p);
    }
}

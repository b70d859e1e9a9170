/*
 * mqttdev.c - the simulated building's MQTT sensors (mqttdev.h): sensors
 * and their payloads, the publication schedule, the broker connection on
 * the libuv loop, the device list, the site document and bindings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/mqttdev.h"
#include "sim/plant/plant.h"

#define NAME_MAX_    64        /* device name, "HOU-IAQ-1-03" */
#define TOPIC_MAX    192       /* any topic of the face */
#define PAYLOAD_MAX  256       /* an uplink; the longest is about 140 bytes */
#define BLDG_MAX     48        /* building id bytes accepted in topics */
#define MISC_MS      1000      /* mosquitto_loop_misc period (keep-alive) */

/* ---- what a sensor reports --------------------------------------------------------- */

enum field_id { F_CO2, F_TEMP, F_RH, F_OCC, F_OCCUPIED, F_BATTERY, NFIELD };
enum res { R_INT, R_TENTH, R_BOOL };

/* Payload members in payload order.  Readings are clamped to the sensor's
 * range (a saturated NDIR cell reports its full scale, not the truth) and
 * rounded to its resolution. */
static const struct field {
    const char *key;           /* payload member and driver "field" */
    const char *suffix;        /* plant point after "floorF.zoneZ.", NULL: not a plant point */
    enum res res;              /* resolution on the wire */
    double lo, hi;             /* sensor range */
} fields[NFIELD] = {
    [F_CO2]      = { "co2",         "co2",       R_INT,   0, 10000 },
    [F_TEMP]     = { "temperature", "air_temp",  R_TENTH, -20, 60 },   /* its own sensor: not the
                                                                       controller's (which may drift) */
    [F_RH]       = { "humidity",    "rh",        R_TENTH, 0, 100 },
    [F_OCC]      = { "occupancy",   "occupancy", R_INT,   0, 10000 },
    [F_OCCUPIED] = { "occupied",    "occupied",  R_BOOL,  0, 1 },
    [F_BATTERY]  = { "battery",     NULL,        R_INT,   0, 100 },
};

/* sbems points of a sensor (sb_simmq_site); battery is not a building point. */
static const struct ptdesc {
    enum field_id f;
    const char *name, *kind, *unit, *brick;
    const char *tags[5];
} ptdescs[] = {
    { F_CO2, "CO2", "co2", "ppm", "CO2_Level_Sensor", { "zone", "air", "co2", "sensor" } },
    { F_TEMP, "Zone air temperature", "temperature", "°C", "Zone_Air_Temperature_Sensor",
      { "zone", "air", "temp", "sensor" } },
    { F_RH, "Zone relative humidity", "humidity", "%RH", "Zone_Air_Humidity_Sensor",
      { "zone", "air", "humidity", "sensor" } },
    { F_OCC, "People count", "occupancy", "count", "Occupancy_Count_Sensor",
      { "zone", "occupants", "count", "sensor" } },
    { F_OCCUPIED, "Occupied", "status", "", "Occupancy_Sensor", { "zone", "occupied", "sensor" } },
};

struct sensor {
    char name[NAME_MAX_];      /* "IAQ-1-03", "HOU-IAQ-1-03" */
    char zone[32];             /* plant prefix without the dot, "floor1.zone3" */
    char topic[TOPIC_MAX];     /* "hpo/iaq/iaq-1-03/up" */
    char status_topic[TOPIC_MAX];  /* "hpo/iaq/iaq-1-03/status" */
    int idx[NFIELD];           /* plant point per field, -1 when none */
    int battery;               /* % (constant: a simulated battery does not drain) */
    int64_t phase_ms;          /* offset of its slots within the period */
    int64_t next_ms;           /* next due wall time; 0 before the first sync */
    int offline;               /* site->offline's last answer */
};

struct sb_simmq {
    uv_loop_t *loop;
    struct sb_plant *plant;    /* borrowed */
    struct sb_sim_site_ref site;   /* strings borrowed */
    char host[64];             /* broker */
    unsigned port;
    char *username, *password; /* owned copies; the password is wiped on free */
    int qos, keepalive_s;
    unsigned retry_min_ms, retry_max_ms;
    int64_t period_ms;
    char client_id[96];        /* "sbems-sim-<building>" */
    char gw_topic[TOPIC_MAX];  /* "<building>/iaq/gateway/status": the will */
    struct sensor *s;          /* sensors, plant zone order */
    size_t n;
    struct mosquitto *mosq;    /* NULL unless listening */
    uv_poll_t *poll;           /* watches poll_fd; NULL when no socket */
    int poll_fd;
    uv_timer_t *misc;          /* keep-alive timer, NULL unless listening */
    uv_timer_t *retry;         /* reconnect back-off, one-shot */
    unsigned backoff_ms;       /* the next reconnect delay */
    int closing;               /* sb_simmq_close has run */
    struct sb_simmq_stats st;  /* counters, session flag and last error */
};

/* ---- readings ---------------------------------------------------------------------- */

/* The field's value as the payload carries it (and the driver reads it). */
static int field_value(const struct sb_simmq *x, const struct sensor *s, int f, double *v)
{
    const struct field *fd = &fields[f];
    double raw;

    if (f == F_BATTERY) {
        *v = s->battery;
        return 0;
    }
    if (s->idx[f] < 0 || sb_plant_read(x->plant, s->idx[f], &raw) < 0)
        return SB_ENOENT;
    if (!isfinite(raw))
        return SB_ENAN;
    raw = raw < fd->lo ? fd->lo : raw > fd->hi ? fd->hi : raw;
    switch (fd->res) {
    case R_BOOL:
        *v = raw >= 0.5;
        break;
    case R_INT:
        *v = (double)llround(raw);
        break;
    case R_TENTH:
        /* n / 10.0 is the double nearest the decimal n/10, which is what
         * strtod gives for the "%.1f" text below: wire and value agree. */
        *v = (double)llround(raw * 10) / 10.0;
        break;
    }
    return 0;
}

static int offline_now(const struct sb_simmq *x, const struct sensor *s)
{
    return x->site.offline ? x->site.offline(x->site.offline_ud, s->name) != 0 : 0;
}

/* The uplink JSON into buf; returns its length or SB_ENOSPC. */
static int payload(const struct sb_simmq *x, const struct sensor *s, int64_t wall_ms,
                   char *buf, size_t cap)
{
    char ts[40];
    size_t n = (size_t)snprintf(buf, cap, "{\"ts\":\"%s\"", sb_time_format(wall_ms, ts, sizeof(ts)));

    for (int f = 0; f < NFIELD && n < cap; f++) {
        double v;
        if (field_value(x, s, f, &v) != 0)
            continue;       /* no such point (humidity on an older plant): left out */
        if (fields[f].res == R_BOOL)
            n += (size_t)snprintf(buf + n, cap - n, ",\"%s\":%s", fields[f].key, v ? "true" : "false");
        else if (fields[f].res == R_INT)
            n += (size_t)snprintf(buf + n, cap - n, ",\"%s\":%.0f", fields[f].key, v);
        else
            n += (size_t)snprintf(buf + n, cap - n, ",\"%s\":%.1f", fields[f].key, v);
    }
    if (n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "}");
    return n < cap ? (int)n : SB_ENOSPC;
}

/* ---- the broker connection --------------------------------------------------------- */

static void after_io(struct sb_simmq *x);

static void free_handle(uv_handle_t *h)
{
    free(h);
}

static void close_handle(void *h)
{
    if (h && !uv_is_closing(h))
        uv_close(h, free_handle);
}

static void set_error(struct sb_simmq *x, const char *what, int rc)
{
    snprintf(x->st.error, sizeof(x->st.error), "%s: %s", what,
             rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
}

/* A retained status; nothing without a session (the next CONNACK sends
 * every status again). */
static void publish_status(struct sb_simmq *x, const char *topic, int offline)
{
    const char *p = offline ? "offline" : "online";
    if (x->st.connected &&
        mosquitto_publish(x->mosq, NULL, topic, (int)strlen(p), p, x->qos, true) == MOSQ_ERR_SUCCESS)
        x->st.statuses++;
}

static void publish_up(struct sb_simmq *x, const struct sensor *s, int64_t wall_ms)
{
    char buf[PAYLOAD_MAX];
    int len = payload(x, s, wall_ms, buf, sizeof(buf));

    if (!x->st.connected || len < 0 ||
        mosquitto_publish(x->mosq, NULL, s->topic, len, buf, x->qos, false) != MOSQ_ERR_SUCCESS)
        x->st.dropped++;
    else
        x->st.published++;
}

/* libmosquitto callbacks: called from inside mosquitto_loop_read/_write/
 * _misc on the loop thread.  Publications made here are queued and leave
 * when after_io() asks for write readiness. */
static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    struct sb_simmq *x = ud;

    if (rc != 0) {
        snprintf(x->st.error, sizeof(x->st.error), "broker refused: %s", mosquitto_connack_string(rc));
        return;     /* libmosquitto closes the socket; after_io() schedules a retry */
    }
    x->st.connected = 1;
    x->st.connects++;
    x->backoff_ms = x->retry_min_ms;
    x->st.error[0] = '\0';
    publish_status(x, x->gw_topic, 0);
    for (size_t i = 0; i < x->n; i++)
        publish_status(x, x->s[i].status_topic, x->s[i].offline);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    struct sb_simmq *x = ud;

    /* a refused CONNACK has its own message (on_connect) */
    if (rc != 0 && rc != MOSQ_ERR_CONN_REFUSED && !x->closing)
        snprintf(x->st.error, sizeof(x->st.error), "%s: %s",
                 x->st.connected ? "connection lost" : "no session",
                 rc == MOSQ_ERR_KEEPALIVE ? "no answer within the keep-alive" : mosquitto_strerror(rc));
    x->st.connected = 0;
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct sb_simmq *x = h->data;

    /* An error status still goes through loop_read, which then sees the
     * socket's error and closes it the library's way. */
    if (status < 0 || (events & UV_READABLE))
        mosquitto_loop_read(x->mosq, 1);
    if ((events & UV_WRITABLE) && mosquitto_socket(x->mosq) >= 0)
        mosquitto_loop_write(x->mosq, 1);
    after_io(x);
}

static void unwatch(struct sb_simmq *x)
{
    if (x->poll) {
        uv_poll_stop(x->poll);
        close_handle(x->poll);
    }
    x->poll = NULL;
    x->poll_fd = -1;
}

static int watch(struct sb_simmq *x, int fd)
{
    uv_poll_t *p = malloc(sizeof(*p));
    int rc = p ? uv_poll_init_socket(x->loop, p, fd) : UV_ENOMEM;

    if (rc < 0) {
        free(p);
        return rc;
    }
    p->data = x;
    x->poll = p;
    x->poll_fd = fd;
    return 0;
}

static void on_retry(uv_timer_t *t);

static void schedule_retry(struct sb_simmq *x)
{
    if (x->closing || uv_is_active((uv_handle_t *)x->retry))
        return;
    uv_timer_start(x->retry, on_retry, x->backoff_ms, 0);
    x->backoff_ms = x->backoff_ms >= x->retry_max_ms / 2 ? x->retry_max_ms : 2 * x->backoff_ms;
}

/* After every call into libmosquitto: the socket may have been opened,
 * closed (libmosquitto closes it itself on any error) or have data
 * waiting to leave.  The poll handle follows it; a closed socket is never
 * left under a poll handle beyond the call that closed it. */
static void after_io(struct sb_simmq *x)
{
    int fd = mosquitto_socket(x->mosq);

    if (fd != x->poll_fd)
        unwatch(x);
    if (fd < 0) {
        x->st.connected = 0;
        schedule_retry(x);
        return;
    }
    if (!x->poll && watch(x, fd) < 0) {
        /* cannot watch it: give the connection up, retry later */
        snprintf(x->st.error, sizeof(x->st.error), "cannot poll the broker socket");
        mosquitto_disconnect(x->mosq);
        mosquitto_loop_write(x->mosq, 1);
        x->st.connected = 0;
        schedule_retry(x);
        return;
    }
    uv_poll_start(x->poll, UV_READABLE | (mosquitto_want_write(x->mosq) ? UV_WRITABLE : 0), on_poll);
}

static void try_connect(struct sb_simmq *x)
{
    int rc;

    unwatch(x);
    x->st.attempts++;
    /* Non-blocking TCP connect; the host is a loopback address, so there
     * is no DNS lookup and the kernel answers at once. */
    rc = mosquitto_connect_async(x->mosq, x->host, (int)x->port, x->keepalive_s);
    if (rc != MOSQ_ERR_SUCCESS)
        set_error(x, "cannot connect", rc);
    after_io(x);
}

static void on_retry(uv_timer_t *t)
{
    try_connect(t->data);
}

static void on_misc(uv_timer_t *t)
{
    struct sb_simmq *x = t->data;

    if (mosquitto_socket(x->mosq) >= 0) {
        mosquitto_loop_misc(x->mosq);     /* PINGREQ due, PINGRESP overdue */
        after_io(x);
    }
}

static uv_timer_t *timer_new(struct sb_simmq *x)
{
    uv_timer_t *t = malloc(sizeof(*t));
    if (t) {
        uv_timer_init(x->loop, t);
        t->data = x;
    }
    return t;
}

static int start_client(struct sb_simmq *x, char *err, size_t errlen)
{
    mosquitto_lib_init();   /* process-wide; never cleaned up before exit (as the driver) */
    x->mosq = mosquitto_new(x->client_id, true, x);
    x->misc = timer_new(x);
    x->retry = timer_new(x);
    if (!x->mosq || !x->misc || !x->retry)
        return SB_ENOMEM;
    mosquitto_int_option(x->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(x->mosq, on_connect);
    mosquitto_disconnect_callback_set(x->mosq, on_disconnect);
    if ((x->username && mosquitto_username_pw_set(x->mosq, x->username, x->password)) ||
        mosquitto_will_set(x->mosq, x->gw_topic, 7, "offline", x->qos, true)) {
        sb_errf(err, errlen, "mqtt: cannot set the credentials or the will");
        return SB_EINVAL;
    }
    uv_timer_start(x->misc, on_misc, MISC_MS, MISC_MS);
    try_connect(x);
    return 0;
}

/* ---- building the sensors ---------------------------------------------------------- */

static int loopback_host(const char *h)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (strcmp(h, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* A building id goes into topics and names: a slug, no MQTT wildcards. */
static int building_ok(const char *b)
{
    size_t n = b ? strlen(b) : 0;
    if (n == 0 || n > BLDG_MAX)
        return 0;
    for (; *b; b++)
        if (!(islower((unsigned char)*b) || isdigit((unsigned char)*b) || *b == '-' || *b == '_'))
            return 0;
    return 1;
}

static int check_cfg(const uv_loop_t *loop, const struct sb_simmq_cfg *c,
                     const struct sb_sim_site_ref *site, char *err, size_t errlen)
{
    const char *host = c->host ? c->host : "127.0.0.1";

    if (c->listen && !loop)
        sb_errf(err, errlen, "mqtt: listen needs a loop");
    else if (!site || !building_ok(site->building))
        sb_errf(err, errlen, "mqtt: building id must be 1..%d of [a-z0-9_-]", BLDG_MAX);
    else if (!loopback_host(host) || strlen(host) >= 64)
        sb_errf(err, errlen, "mqtt: host %.64s: must be a loopback address or localhost", host);
    else if (c->port > 65535 || (c->qos != 0 && c->qos != 1))
        sb_errf(err, errlen, "mqtt: port must be 1..65535 and qos 0 or 1");
    else if (c->keepalive_s && (c->keepalive_s < 5 || c->keepalive_s > 65535))
        sb_errf(err, errlen, "mqtt: keepalive_s must be 5..65535");
    else if (c->password && !c->username)
        sb_errf(err, errlen, "mqtt: password needs username");
    else if (c->period_s > 86400)
        sb_errf(err, errlen, "mqtt: period_s must be 1..86400");
    else if (c->reconnect_min_ms && c->reconnect_max_ms && c->reconnect_max_ms < c->reconnect_min_ms)
        sb_errf(err, errlen, "mqtt: reconnect_max_ms must be >= reconnect_min_ms");
    else
        return 0;
    return SB_EINVAL;
}

static void apply_cfg(struct sb_simmq *x, const struct sb_simmq_cfg *c)
{
    snprintf(x->host, sizeof(x->host), "%s", c->host ? c->host : "127.0.0.1");
    x->port = c->port ? c->port : 1883;
    x->qos = c->qos;
    x->keepalive_s = c->keepalive_s ? (int)c->keepalive_s : 30;
    x->period_ms = (int64_t)(c->period_s ? c->period_s : 30) * 1000;
    x->retry_min_ms = c->reconnect_min_ms ? c->reconnect_min_ms : 1000;
    x->retry_max_ms = c->reconnect_max_ms ? c->reconnect_max_ms : 30000;
    if (x->retry_max_ms < x->retry_min_ms)
        x->retry_max_ms = x->retry_min_ms;
    x->backoff_ms = x->retry_min_ms;
    x->poll_fd = -1;
    snprintf(x->client_id, sizeof(x->client_id), "sbems-sim-%s", x->site.building);
    snprintf(x->gw_topic, sizeof(x->gw_topic), "%s/iaq/gateway/status", x->site.building);
}

/* Names and topics of sensor s for zone floor f, zone z. */
static int name_sensor(const struct sb_simmq *x, struct sensor *s, unsigned f, unsigned z)
{
    char prefix[BLDG_MAX + 2] = "", lower[NAME_MAX_];
    size_t i;

    if (x->site.index > 0) {
        for (i = 0; x->site.building[i]; i++)
            prefix[i] = (char)toupper((unsigned char)x->site.building[i]);
        prefix[i++] = '-';
        prefix[i] = '\0';
    }
    snprintf(s->name, sizeof(s->name), "%sIAQ-%u-%02u", prefix, f, z);
    snprintf(s->zone, sizeof(s->zone), "floor%u.zone%u", f, z);
    for (i = 0; s->name[i] && i + 1 < sizeof(lower); i++)
        lower[i] = (char)tolower((unsigned char)s->name[i]);
    lower[i] = '\0';
    if ((size_t)snprintf(s->topic, sizeof(s->topic), "%s/iaq/%s/up", x->site.building, lower) >=
            sizeof(s->topic) ||
        (size_t)snprintf(s->status_topic, sizeof(s->status_topic), "%s/iaq/%s/status",
                         x->site.building, lower) >= sizeof(s->status_topic))
        return SB_EINVAL;
    return 0;
}

/* A sensor for zone floor f, zone z (its co2 point exists). */
static int add_sensor(struct sb_simmq *x, unsigned f, unsigned z)
{
    struct sensor *s = realloc(x->s, (x->n + 1) * sizeof(*s));
    char pt[64];

    if (!s)
        return SB_ENOMEM;
    x->s = s;
    s = &x->s[x->n];
    memset(s, 0, sizeof(*s));
    if (name_sensor(x, s, f, z) < 0)
        return SB_EINVAL;
    for (int k = 0; k < NFIELD; k++) {
        s->idx[k] = -1;
        if (fields[k].suffix) {
            snprintf(pt, sizeof(pt), "%s.%s", s->zone, fields[k].suffix);
            int idx = sb_plant_find(x->plant, pt);
            s->idx[k] = idx >= 0 ? idx : -1;
        }
    }
    s->battery = 100 - (int)((x->n * 7) % 13);     /* 88..100, fixed per sensor */
    x->n++;
    return 0;
}

static int find_sensors(struct sb_simmq *x)
{
    struct sb_plant_point_info in;
    unsigned f, z;
    int rc = 0;

    for (int i = 0; i < sb_plant_point_count(x->plant) && rc == 0; i++) {
        int used = 0;
        if (sb_plant_point(x->plant, i, &in) < 0 ||
            sscanf(in.name, "floor%u.zone%u.co2%n", &f, &z, &used) != 2 || used == 0 ||
            in.name[used] != '\0')
            continue;
        rc = add_sensor(x, f, z);
    }
    if (rc == 0 && x->n == 0)
        rc = SB_ENOENT;
    /* slots spread evenly over the period */
    for (size_t i = 0; i < x->n; i++)
        x->s[i].phase_ms = (int64_t)i * x->period_ms / (int64_t)x->n;
    return rc;
}

int sb_simmq_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                 const struct sb_simmq_cfg *cfg, struct sb_simmq **out, char *err, size_t errlen)
{
    struct sb_simmq *x = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_cfg(loop, cfg, site, err, errlen)) < 0)
        return rc;
    if (!(x = calloc(1, sizeof(*x))))
        return SB_ENOMEM;
    x->loop = loop;
    x->plant = plant;
    x->site = *site;
    apply_cfg(x, cfg);
    if ((cfg->username && !(x->username = strdup(cfg->username))) ||
        (cfg->password && !(x->password = strdup(cfg->password)))) {
        rc = SB_ENOMEM;
        goto fail;
    }
    rc = find_sensors(x);
    if (rc == SB_ENOENT)
        sb_errf(err, errlen, "mqtt: the plant has no floorF.zoneZ.co2 point");
    else if (rc == SB_EINVAL)
        sb_errf(err, errlen, "mqtt: topic too long for building %s", site->building);
    if (rc == 0 && cfg->listen)
        rc = start_client(x, err, errlen);
    if (rc < 0)
        goto fail;
    *out = x;
    return 0;
fail:
    if (rc == SB_ENOMEM)
        sb_errf(err, errlen, "mqtt: out of memory");
    sb_simmq_close(x);
    sb_simmq_free(x);
    return rc;
}

/* ---- publishing -------------------------------------------------------------------- */

/* The first slot of phase at or after t. */
static int64_t slot_from(int64_t t, int64_t phase, int64_t period)
{
    int64_t r = ((t - phase) % period + period) % period;
    return r ? t + (period - r) : t;
}

void sb_simmq_sync(struct sb_simmq *x, int64_t sim_ms, int64_t wall_ms)
{
    if (!x || x->closing)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct sensor *s = &x->s[i];
        int off = offline_now(x, s);

        if (off != s->offline) {
            s->offline = off;
            publish_status(x, s->status_topic, off);
        }
        /* first call, or the clock stepped back by more than a period */
        if (s->next_ms == 0 || s->next_ms - wall_ms > x->period_ms)
            s->next_ms = slot_from(wall_ms, s->phase_ms, x->period_ms);
        if (wall_ms < s->next_ms)
            continue;
        /* late (a stalled loop) skips the missed slots rather than bursting */
        s->next_ms = slot_from(wall_ms + 1, s->phase_ms, x->period_ms);
        if (off)
            x->st.silenced++;
        else
            publish_up(x, s, wall_ms);
    }
    if (x->mosq)
        after_io(x);
}

void sb_simmq_stats(const struct sb_simmq *x, struct sb_simmq_stats *out)
{
    *out = x->st;
}

/* ---- list and site document -------------------------------------------------------- */

json_t *sb_simmq_list(const struct sb_simmq *x)
{
    json_t *arr = json_array();
    char broker[96];

    snprintf(broker, sizeof(broker), strchr(x->host, ':') ? "[%s]:%u" : "%s:%u", x->host, x->port);
    for (size_t i = 0; arr && i < x->n; i++) {
        const struct sensor *s = &x->s[i];
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:I}",
                                             "protocol", "mqtt", "name", s->name, "address", x->host,
                                             "port", (int)x->port, "broker", broker, "topic", s->topic,
                                             "status_topic", s->status_topic, "zone", s->zone,
                                             "period_s", (json_int_t)(x->period_ms / 1000)));
    }
    return arr;
}

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i;
    for (i = 0; src[i] && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

static json_t *equipment_json(const struct sb_simmq *x, const struct sensor *s, const char *id)
{
    char desc[320];

    snprintf(desc, sizeof(desc), "Indoor air quality and people-counting sensor of plant zone %s "
             "(sbems-sim), uplinks on %s", s->zone, s->topic);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s], s:s}", "id", id,
                     "building", x->site.building, "name", s->name, "type", "sensor",
                     "vendor", "sbems-sim", "model", "LoRaWAN IAQ + people counter (simulated)",
                     "brick", "Air_Quality_Sensor", "tags", "iaq", "sensor", "device",
                     "description", desc);
}

static json_t *point_json(const struct sensor *s, const char *eq, const struct ptdesc *d)
{
    const struct field *fd = &fields[d->f];
    char id[NAME_MAX_ + 24];
    json_t *tags = json_array(), *p;

    snprintf(id, sizeof(id), "%s.%s", eq, fd->key);
    for (int t = 0; t < 5 && d->tags[t]; t++)
        json_array_append_new(tags, json_string(d->tags[t]));
    p = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}, s:s, s:o}", "id", id,
                  "equipment", eq, "name", d->name, "kind", d->kind, "source", "driver", "mqtt",
                  "address", "topic", s->topic, "field", fd->key, "time_field", "ts",
                  "brick", d->brick, "tags", tags);
    if (p && d->unit[0])
        json_object_set_new(p, "unit", json_string(d->unit));
    if (p && d->f != F_OCCUPIED) {
        json_object_set_new(p, "min", json_real(fd->lo));
        json_object_set_new(p, "max", json_real(fd->hi));
    }
    return p;
}

json_t *sb_simmq_site(const struct sb_simmq *x)
{
    json_t *eqs = json_array(), *pts = json_array();
    char id[NAME_MAX_];

    for (size_t i = 0; eqs && pts && i < x->n; i++) {
        const struct sensor *s = &x->s[i];
        lower_copy(id, sizeof(id), s->name);
        json_array_append_new(eqs, equipment_json(x, s, id));
        for (size_t k = 0; k < sizeof(ptdescs) / sizeof(ptdescs[0]); k++)
            if (s->idx[ptdescs[k].f] >= 0)
                json_array_append_new(pts, point_json(s, id, &ptdescs[k]));
    }
    return json_pack("{s:o, s:o}", "equipment", eqs, "points", pts);
}

/* ---- bindings ---------------------------------------------------------------------- */

/* The sensor whose uplink topic is t, or the only one a filter t matches. */
static int sensor_of_topic(const struct sb_simmq *x, const char *t)
{
    int found = SB_ENOENT;

    for (size_t i = 0; i < x->n; i++) {
        bool m = strcmp(t, x->s[i].topic) == 0;
        if (!m && (strchr(t, '+') || strchr(t, '#')) &&
            mosquitto_topic_matches_sub(t, x->s[i].topic, &m) != MOSQ_ERR_SUCCESS)
            return SB_ENOENT;
        if (m) {
            if (found >= 0)
                return SB_ENOENT;     /* several sensors: not one value */
            found = (int)i;
        }
    }
    return found;
}

static int bind_address(const struct sb_simmq *x, const json_t *a)
{
    const char *topic = json_string_value(json_object_get(a, "topic"));
    const char *field = json_string_value(json_object_get(a, "field"));
    const json_t *fmt = json_object_get(a, "format");
    int si, f;

    if (!topic || !field || (fmt && (!json_is_string(fmt) || strcmp(json_string_value(fmt), "json"))))
        return SB_ENOENT;
    if ((si = sensor_of_topic(x, topic)) < 0)
        return SB_ENOENT;
    for (f = 0; f < NFIELD && strcmp(fields[f].key, field) != 0; f++)
        ;
    if (f == NFIELD || (fields[f].suffix && x->s[si].idx[f] < 0))
        return SB_ENOENT;
    return si * NFIELD + f;
}

int sb_simmq_bind(const struct sb_simmq *x, const json_t *source)
{
    const json_t *drv = json_object_get(source, "driver"), *a = json_object_get(source, "address");
    json_t *parsed = NULL;
    int rc;

    if (!json_is_string(drv) || strcmp(json_string_value(drv), "mqtt") != 0)
        return SB_ENOENT;
    /* the model keeps an object address as its JSON text */
    if (json_is_string(a) && json_string_value(a)[0] == '{')
        a = parsed = json_loads(json_string_value(a), 0, NULL);
    rc = json_is_object(a) ? bind_address(x, a) : SB_ENOENT;
    json_decref(parsed);
    return rc;
}

int sb_simmq_value(const struct sb_simmq *x, int handle, double *v)
{
    const struct sensor *s;

    if (handle < 0 || (size_t)handle >= x->n * NFIELD)
        return SB_ENOENT;
    s = &x->s[handle / NFIELD];
    if (offline_now(x, s))
        return SB_EIO;
    return field_value(x, s, handle % NFIELD, v);
}

/* ---- shutdown ---------------------------------------------------------------------- */

void sb_simmq_close(struct sb_simmq *x)
{
    if (!x || x->closing)
        return;
    x->closing = 1;
    if (x->mosq) {
        for (size_t i = 0; i < x->n; i++)
            publish_status(x, x->s[i].status_topic, 1);
        publish_status(x, x->gw_topic, 1);
        /* DISCONNECT: the broker drops the will (MQTT 3.1.1 §3.14.4); in
         * this mode libmosquitto writes it at once and closes the socket. */
        mosquitto_disconnect(x->mosq);
    }
    unwatch(x);
    close_handle(x->misc);
    close_handle(x->retry);
    x->misc = x->retry = NULL;
    if (x->mosq)
        mosquitto_destroy(x->mosq);
    x->mosq = NULL;
    x->st.connected = 0;
}

void sb_simmq_free(struct sb_simmq *x)
{
    if (!x)
        return;
    if (x->password)
        explicit_bzero(x->password, strlen(x->password));
    free(x->password);
    free(x->username);
    free(x->s);
    free(x);
}

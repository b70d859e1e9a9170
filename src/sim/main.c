/*
 * main.c - sbems-sim: simulated office buildings (src/sim/plant/) whose
 * controllers answer on BACnet/IP (bacdev.h), meters on Modbus TCP
 * (mbdev.h), sensors publish on MQTT (mqttdev.h) and thermostats and a
 * weather service answer on REST (httpd.h), each device on its own
 * loopback address or port.  Time runs real-time or accelerated; faults
 * can be injected with ground truth (fault.h).  See docs/internals/sim.md.
 *
 *   sbems-sim [--config FILE] [--weather FILE.epw] [--speed N] [--start TIME]
 *             [--ip-base 127.0.0.20] [--port 47808] [--mqtt HOST:PORT]
 *             [--faults FILE] [--labels FILE] [--seconds N]
 *   sbems-sim --list | --site-json [--no-bacnet] | --drivers-json   (print, exit)
 *   sbems-sim --backfill DAYS --points FILE [--step S] [--until TIME] [--out FILE]
 *             [--faults FILE] [--labels FILE]
 *
 * Live mode prints one JSON line {"ready":true,...} when every device
 * serves; SIGINT/SIGTERM stop it cleanly.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/fault.h"
#include "sim/sim.h"

struct run {
    uv_loop_t *loop;
    uv_timer_t tick, stop;
    uv_signal_t sig[2];
    struct sb_sim sim;
    int64_t sim_ms;
    int closing;
};

static void on_tick(uv_timer_t *t)
{
    struct run *r = t->data;
    double dt = r->sim.speed;                 /* one wall second per tick */

    r->sim_ms += (int64_t)(dt * 1000);
    sb_sim_step(&r->sim, dt, r->sim_ms, sb_now_ms());
}

static void stop_all(struct run *r)
{
    if (r->closing)
        return;
    r->closing = 1;
    sb_sim_close(&r->sim);
    uv_handle_t *hs[] = { (uv_handle_t *)&r->tick, (uv_handle_t *)&r->stop,
                          (uv_handle_t *)&r->sig[0], (uv_handle_t *)&r->sig[1] };
    for (size_t i = 0; i < 4; i++)
        if (uv_is_active(hs[i]) || hs[i]->data)
            if (!uv_is_closing(hs[i]))
                uv_close(hs[i], NULL);
}

static void on_sig(uv_signal_t *h, int signum)
{
    (void)signum;
    stop_all(h->data);
}

static void on_stop(uv_timer_t *t) { stop_all(t->data); }

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: sbems-sim [--config FILE] [--weather FILE.epw] [--speed 1..3600]\n"
               "                 [--start TIME] [--ip-base 127.0.0.20] [--port 47808]\n"
               "                 [--mqtt 127.0.0.1:1883] [--faults FILE] [--labels FILE] [--seconds N]\n"
               "       sbems-sim --list | --site-json [--no-bacnet] | --drivers-json\n"
               "       sbems-sim --backfill DAYS --points FILE [--step 300] [--until TIME] [--out FILE]\n"
               "                 [--faults FILE] [--labels FILE]\n"
               "See docs/internals/sim.md.\n");
    return rc;
}

struct opts {
    const char *config, *weather, *start, *ip, *mqtt, *faults, *labels, *points, *until, *out;
    double speed, backfill_days, step;
    long port, seconds;
    int list, site_json, drivers_json, no_bacnet;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) { o->list = 1; continue; }
        if (strcmp(a, "--site-json") == 0) { o->site_json = 1; continue; }
        if (strcmp(a, "--drivers-json") == 0) { o->drivers_json = 1; continue; }
        if (strcmp(a, "--no-bacnet") == 0) { o->no_bacnet = 1; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(stdout, 0) - 1;
        if (!v) return usage(stderr, 2);
        i++;
        if (strcmp(a, "--config") == 0) o->config = v;
        else if (strcmp(a, "--weather") == 0) o->weather = v;
        else if (strcmp(a, "--start") == 0) o->start = v;
        else if (strcmp(a, "--ip-base") == 0) o->ip = v;
        else if (strcmp(a, "--mqtt") == 0) o->mqtt = v;
        else if (strcmp(a, "--faults") == 0) o->faults = v;
        else if (strcmp(a, "--labels") == 0) o->labels = v;
        else if (strcmp(a, "--points") == 0) o->points = v;
        else if (strcmp(a, "--until") == 0) o->until = v;
        else if (strcmp(a, "--out") == 0) o->out = v;
        else if (strcmp(a, "--speed") == 0) o->speed = strtod(v, NULL);
        else if (strcmp(a, "--backfill") == 0) o->backfill_days = strtod(v, NULL);
        else if (strcmp(a, "--step") == 0) o->step = strtod(v, NULL);
        else if (strcmp(a, "--port") == 0) o->port = strtol(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0) o->seconds = strtol(v, NULL, 10);
        else return usage(stderr, 2);
    }
    if ((o->speed && (o->speed < 1 || o->speed > 3600)) || o->port < 0 || o->port > 65535 || o->seconds < 0 ||
        o->backfill_days < 0 || o->backfill_days > 3660 || (o->step && (o->step < 1 || o->step > 3600))) {
        fprintf(stderr, "sbems-sim: --speed is 1..3600, --port 1..65535, --seconds >= 0, "
                        "--backfill 0..3660 days, --step 1..3600 s\n");
        return 2;
    }
    if (o->backfill_days > 0 && !o->points) {
        fprintf(stderr, "sbems-sim: --backfill needs --points FILE (sbems's points, e.g. GET /api/v1/points)\n");
        return 2;
    }
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *t = NULL;
    long n;

    *len = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 &&
        (t = malloc((size_t)n + 1)) && fread(t, 1, (size_t)n, f) == (size_t)n) {
        t[n] = 0;
        *len = (size_t)n;
    } else {
        free(t);
        t = NULL;
    }
    fclose(f);
    return t;
}

/* Command-line overrides of the configuration (site 0, or every site for --mqtt). */
static int apply_overrides(struct sb_sim *s, const struct opts *o)
{
    if (o->speed)
        s->speed = o->speed;
    if (o->ip)
        snprintf(s->sites[0].bac_ip, sizeof(s->sites[0].bac_ip), "%s", o->ip);
    if (o->port)
        s->sites[0].bac_port = (unsigned)o->port;
    if (o->mqtt) {
        const char *c = strrchr(o->mqtt, ':');
        long p = c ? strtol(c + 1, NULL, 10) : 1883;
        if (p < 1 || p > 65535 || (c && (size_t)(c - o->mqtt) >= sizeof(s->mqtt_host))) {
            fprintf(stderr, "sbems-sim: --mqtt HOST:PORT\n");
            return 2;
        }
        snprintf(s->mqtt_host, sizeof(s->mqtt_host), "%.*s", c ? (int)(c - o->mqtt) : (int)strlen(o->mqtt), o->mqtt);
        s->mqtt_port = (unsigned)p;
    }
    return 0;
}

static int print_json(json_t *j, int indent)
{
    char *t = json_dumps(j, indent ? JSON_INDENT(2) : JSON_COMPACT);
    int rc = t ? 0 : 1;

    puts(t ? t : "{}");
    fflush(stdout);
    free(t);
    json_decref(j);
    return rc;
}

/* The faults first: a bad request must not truncate the output file. */
static int backfill(struct run *r, const struct opts *o)
{
    json_error_t je;
    json_t *pts = NULL;
    FILE *out = NULL;
    char err[512];
    double step = o->step ? o->step : 300;
    int64_t to = r->sim_ms, from = to - (int64_t)(o->backfill_days * 86400e3), rows;
    int rc = 1;

    if (o->faults && sb_sim_backfill_faults(&r->sim, o->faults, from, to, step, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        return 1;
    }
    if (!(pts = json_load_file(o->points, 0, &je))) {
        fprintf(stderr, "sbems-sim: %s: %s\n", o->points, je.text);
        return 1;
    }
    if (!(out = o->out ? fopen(o->out, "w") : stdout)) {
        fprintf(stderr, "sbems-sim: %s: cannot write\n", o->out);
        goto out;
    }
    rows = sb_sim_backfill(&r->sim, pts, from, to, step, out, err, sizeof(err));
    if (out != stdout && fclose(out) != 0 && rows >= 0) {
        snprintf(err, sizeof(err), "%s: write failed", o->out);
        rows = SB_EIO;
    }
    if (rows < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        goto out;
    }
    fprintf(stderr, "sbems-sim: backfill: %lld rows\n", (long long)rows);
    rc = 0;
out:
    json_decref(pts);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = { 0 };
    struct run r = { 0 };
    char err[256], *text = NULL;
    size_t len = 0;
    int rc;

    signal(SIGPIPE, SIG_IGN);
    if ((rc = parse_args(argc, argv, &o)) != 0)
        return rc < 0 ? 0 : rc;
    if (o.config && !(text = slurp(o.config, &len))) {
        fprintf(stderr, "sbems-sim: %s: cannot read\n", o.config);
        return 2;
    }
    r.sim_ms = sb_now_ms();
    if (o.until && sb_time_parse(o.until, strlen(o.until), &r.sim_ms) < 0) {
        fprintf(stderr, "sbems-sim: --until must be an RFC 3339 time\n");
        return 2;
    }
    if (o.start && sb_time_parse(o.start, strlen(o.start), &r.sim_ms) < 0) {
        fprintf(stderr, "sbems-sim: --start must be an RFC 3339 time\n");
        return 2;
    }
    int64_t build_ms = o.backfill_days > 0 ? r.sim_ms - (int64_t)(o.backfill_days * 86400e3) : r.sim_ms;
    rc = sb_sim_load(&r.sim, text, len, o.weather, o.labels, build_ms, err, sizeof(err));
    free(text);
    if (rc < 0) {
        fprintf(stderr, "sbems-sim: %s%s%s\n", o.config ? o.config : "", o.config ? ": " : "", err);
        sb_sim_free(&r.sim);
        return 2;
    }
    if ((rc = apply_overrides(&r.sim, &o)) != 0) {
        sb_sim_free(&r.sim);
        return rc;
    }
    int listen = !(o.list || o.site_json || o.drivers_json || o.backfill_days > 0);
    r.loop = uv_default_loop();
    rc = 1;
    if (sb_sim_faces(&r.sim, r.loop, listen, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        goto out;
    }
    /* a backfill loads them for its own rows (backfill()) */
    if (o.faults && !(o.backfill_days > 0) &&
        sb_simfault_load(r.sim.faults, o.faults, build_ms, sb_now_ms(), err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        goto out;
    }
    if (o.list || o.site_json || o.drivers_json) {
        rc = print_json(o.list ? sb_sim_list(&r.sim) : o.site_json ? sb_sim_sitedoc(&r.sim, !o.no_bacnet)
                                                                   : sb_sim_drivers(&r.sim), 1);
        goto out;
    }
    if (o.backfill_days > 0) {
        rc = backfill(&r, &o);
        goto out;
    }
    print_json(json_pack("{s:b, s:f, s:o}", "ready", 1, "speed", r.sim.speed, "devices", sb_sim_list(&r.sim)), 0);
    uv_timer_init(r.loop, &r.tick);
    uv_timer_init(r.loop, &r.stop);
    r.tick.data = r.stop.data = &r;
    uv_timer_start(&r.tick, on_tick, 1000, 1000);
    if (o.seconds)
        uv_timer_start(&r.stop, on_stop, (uint64_t)o.seconds * 1000, 0);
    for (int i = 0; i < 2; i++) {
        uv_signal_init(r.loop, &r.sig[i]);
        r.sig[i].data = &r;
        uv_signal_start(&r.sig[i], on_sig, i ? SIGINT : SIGTERM);
    }
    uv_run(r.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    sb_sim_close(&r.sim);
    uv_run(r.loop, UV_RUN_NOWAIT);
    sb_sim_free(&r.sim);
    uv_loop_close(r.loop);
    return rc;
}

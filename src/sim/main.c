/*
 * main.c - sbems-sim: a simulated office building (src/sim/plant/) whose
 * controllers answer on BACnet/IP (src/sim/bacdev.c), each on its own
 * loopback address.  Time runs real-time or accelerated.
 *
 *   sbems-sim [--config FILE] [--weather FILE.epw] [--speed N] [--start TIME]
 *             [--ip-base 127.0.0.20] [--port 47808] [--seconds N] [--list]
 *
 * --list prints every simulated device (protocol, address, port, instance,
 * objects) as JSON and exits; otherwise one JSON line {"ready":true,...}
 * announces the devices, and SIGINT/SIGTERM stop it.  Modbus, MQTT and REST
 * faces, and the backfill mode, come with the rest of issue 6.
 */
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/bacdev.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"

#define DEFAULT_EPW "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"

struct sim {
    uv_loop_t *loop;
    uv_timer_t tick, stop;
    uv_signal_t sig[2];
    struct sb_plant *plant;
    struct sb_simbac *bac;
    double speed;
    int64_t sim_ms;
};

static void on_tick(uv_timer_t *t)
{
    struct sim *s = t->data;
    double dt = s->speed;                     /* one wall second per tick */
    s->sim_ms += (int64_t)(dt * 1000);
    sb_plant_step(s->plant, dt, s->sim_ms);
    sb_simbac_sync(s->bac, sb_now_ms());
}

static void stop_all(struct sim *s)
{
    sb_simbac_close(s->bac);
    uv_handle_t *hs[] = { (uv_handle_t *)&s->tick, (uv_handle_t *)&s->stop,
                          (uv_handle_t *)&s->sig[0], (uv_handle_t *)&s->sig[1] };
    for (size_t i = 0; i < 4; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], NULL);
}

static void on_sig(uv_signal_t *h, int signum) { stop_all(h->data); }
static void on_stop(uv_timer_t *t) { stop_all(t->data); }

static int usage(FILE *f, int rc)
{
    fprintf(f, "usage: sbems-sim [--config FILE] [--weather FILE.epw] [--speed 1..3600]\n"
               "                 [--start TIME] [--ip-base 127.0.0.20] [--port 47808]\n"
               "                 [--seconds N] [--list]\n");
    return rc;
}

int main(int argc, char **argv)
{
    const char *config = NULL, *weather = DEFAULT_EPW, *start = NULL, *ip = "127.0.0.20";
    long port = 47808, seconds = 0;
    int list = 0, rc = 1;
    struct sim s = { .speed = 1 };
    struct sb_plant_config pc;
    struct sb_epw *epw = calloc(1, sizeof(*epw));
    char err[256];

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--list") == 0) { list = 1; continue; }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return usage(stdout, 0);
        if (!v) return usage(stderr, 2);
        i++;
        if (strcmp(a, "--config") == 0) config = v;
        else if (strcmp(a, "--weather") == 0) weather = v;
        else if (strcmp(a, "--start") == 0) start = v;
        else if (strcmp(a, "--ip-base") == 0) ip = v;
        else if (strcmp(a, "--speed") == 0) s.speed = strtod(v, NULL);
        else if (strcmp(a, "--port") == 0) port = strtol(v, NULL, 10);
        else if (strcmp(a, "--seconds") == 0) seconds = strtol(v, NULL, 10);
        else return usage(stderr, 2);
    }
    if (s.speed < 1 || s.speed > 3600 || port < 1 || port > 65535 || seconds < 0) {
        fprintf(stderr, "sbems-sim: --speed is 1..3600, --port 1..65535, --seconds >= 0\n");
        return 2;
    }
    sb_plant_config_default(&pc);
    if (config) {
        FILE *f = fopen(config, "rb");
        char *text = NULL;
        size_t len = 0;
        if (f) {
            fseek(f, 0, SEEK_END);
            len = (size_t)ftell(f);
            rewind(f);
            text = malloc(len + 1);
            if (text && fread(text, 1, len, f) != len)
                len = 0;
            fclose(f);
        }
        if (!text || sb_plant_config_from_json(text, len, &pc, err, sizeof(err)) < 0) {
            fprintf(stderr, "sbems-sim: %s: %s\n", config, text ? err : "cannot read");
            free(text);
            return 2;
        }
        free(text);
    }
    if (!epw || sb_epw_load(weather, epw, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: weather %s: %s\n", weather, epw ? err : "out of memory");
        return 2;
    }
    s.sim_ms = sb_now_ms();
    if (start && sb_time_parse(start, strlen(start), &s.sim_ms) < 0) {
        fprintf(stderr, "sbems-sim: --start must be an RFC 3339 time\n");
        return 2;
    }
    if (sb_plant_new(&pc, epw, s.sim_ms, &s.plant, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        return 2;
    }
    s.loop = uv_default_loop();
    struct sb_simbac_cfg bc = { .ip_base = ip, .port = (unsigned)port, .listen = !list };
    if (sb_simbac_new(s.loop, s.plant, &bc, &s.bac, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems-sim: %s\n", err);
        goto out;
    }
    json_t *devs = sb_simbac_list(s.bac);
    json_t *msg = list ? devs : json_pack("{s:b, s:f, s:o}", "ready", 1, "speed", s.speed, "devices", devs);
    char *txt = json_dumps(msg, list ? JSON_INDENT(2) : JSON_COMPACT);
    puts(txt ? txt : "{}");
    fflush(stdout);
    free(txt);
    json_decref(msg);
    if (list) {
        rc = 0;
        goto out;
    }
    uv_timer_init(s.loop, &s.tick);
    uv_timer_init(s.loop, &s.stop);
    s.tick.data = s.stop.data = &s;
    uv_timer_start(&s.tick, on_tick, 1000, 1000);
    if (seconds)
        uv_timer_start(&s.stop, on_stop, (uint64_t)seconds * 1000, 0);
    for (int i = 0; i < 2; i++) {
        uv_signal_init(s.loop, &s.sig[i]);
        s.sig[i].data = &s;
        uv_signal_start(&s.sig[i], on_sig, i ? SIGINT : SIGTERM);
    }
    uv_run(s.loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    sb_simbac_close(s.bac);
    uv_run(s.loop, UV_RUN_NOWAIT);
    sb_simbac_free(s.bac);
    sb_plant_free(s.plant);
    free(epw);
    return rc;
}

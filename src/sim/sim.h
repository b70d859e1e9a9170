/*
 * sim.h - sbems-sim's sites: the configuration (one or several buildings),
 * each site's plant and its protocol faces, the site document for sbems,
 * and the backfill mode.  main.c drives these on a libuv loop.
 *
 * Configuration (--config FILE), a JSON object; every member optional:
 *   {"speed": 60, "labels": "faults.jsonl",
 *    "mqtt": {"host": "127.0.0.1", "port": 1883, "period_s": 30},
 *    "profile_dir": "profiles",
 *    "sites": [{"site": "harbor-point", "building": "hpo", "name": "Harbor Point Office",
 *               "timezone": "America/New_York", "weather": "sim/weather/…epw",
 *               "plant": { sb_plant_config_from_json members },
 *               "bacnet": {"ip_base": "127.0.0.20", "port": 47808},
 *               "modbus": {"ip_base": "127.0.0.60", "port": 5020},
 *               "http": {"ip": "127.0.0.10", "port": 8080,
 *                        "client_id": "sbems", "client_secret": "…"}}]}
 * A plain plant object (the old form) is one site.  Site k's default
 * addresses are 127.0.k.x, so two or three sites run side by side without
 * any address in the file.
 *
 * Ownership: sb_sim_sites_load() returns an array the caller frees with
 * sb_sim_sites_free(); each site owns its plant, EPW and faces.
 */
#ifndef SB_SIM_SIM_H
#define SB_SIM_SIM_H

#include <jansson.h>
#include <stdio.h>
#include <stdint.h>
#include <uv.h>

#include "sim/face.h"
#include "sim/httpd.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"

#define SB_SIM_MAX_SITES 8

struct sb_simbac;
struct sb_simmb;
struct sb_simmq;
struct sb_simhttp;
struct sb_simfault;

struct sb_sim_site {
    char site[64], building[64], name[128], timezone[64];
    char weather[256];
    char bac_ip[16], mb_ip[16], http_ip[16];
    unsigned bac_port, mb_port, http_port;
    char client_id[64], client_secret[128];
    struct sb_plant_config pc;
    struct sb_epw *epw;
    struct sb_plant *plant;
    struct sb_sim_site_ref ref;
    struct sb_simbac *bac;
    struct sb_simmb *mb;
    struct sb_simmq *mq;
    struct sb_simhttp *http;
};

struct sb_sim {
    double speed;
    char labels[256];
    char mqtt_host[64];
    unsigned mqtt_port;
    double mqtt_period_s;
    char profile_dir[256];
    int nsites;
    struct sb_sim_site sites[SB_SIM_MAX_SITES];
    struct sb_simfault *faults;
    int64_t sim_ms;             /* simulated time of the last step */
    struct sb_simhttp_ctl ctl;  /* the control endpoint's hooks (sim.c) */
};

/* Parses the configuration (text may be NULL: the default site) into *s,
 * loads the weather files (weather, when not NULL, for every site), opens
 * the fault label file (labels, when not NULL, instead of the config's),
 * builds the plants at start_ms.  Returns 0 or SB_ECONFIG / SB_EINVAL /
 * SB_EIO / SB_ENOMEM with the reason in err; sb_sim_free() either way. */
int  sb_sim_load(struct sb_sim *s, const char *text, size_t len, const char *weather, const char *labels,
                 int64_t start_ms, char *err, size_t errlen);
/* What sb_sim_load() does before it loads weather: defaults, then the
 * configuration text (may be NULL) into *s; no file is read or opened and
 * nothing is allocated that outlives the call.  0 or SB_ECONFIG / SB_EINVAL
 * with the reason in err. */
int  sb_sim_parse(struct sb_sim *s, const char *text, size_t len, char *err, size_t errlen);
/* Creates every face of every site; listen = 0 builds them without sockets. */
int  sb_sim_faces(struct sb_sim *s, uv_loop_t *loop, int listen, char *err, size_t errlen);
/* One tick: faults due, plant step of dt_s ending at sim_ms, faces synced. */
void sb_sim_step(struct sb_sim *s, double dt_s, int64_t sim_ms, int64_t wall_ms);
/* Every device of every face (JSON array, caller owns). */
json_t *sb_sim_list(const struct sb_sim *s);
/* The sbems site document: sites, buildings, zones, and the equipment and
 * points of every face (the BACnet controllers only with with_bacnet:
 * `make demo` finds those by discovery, as an integrator would). */
json_t *sb_sim_sitedoc(const struct sb_sim *s, int with_bacnet);
/* The drivers.json members that reach the faces (mqtt, rest, weather, bacnet). */
json_t *sb_sim_drivers(const struct sb_sim *s);
void sb_sim_close(struct sb_sim *s);    /* stop serving */
void sb_sim_free(struct sb_sim *s);     /* after the loop let go */

/* Binds an sbems point (its JSON with "id" and "source") to a face of any
 * site: 0 with b filled in, or SB_ENOENT.  b->device is the device that
 * serves the point, named as the faces list it and the fault manager knows
 * it (sb_simfault_add_device): BACnet by the source's device instance,
 * Modbus by the meter's host, MQTT by the uplink topic, REST by the
 * thermostat id, weather by the site's "WEATHER"; "" if none of the face's
 * devices matches (then no communication fault reaches the point). */
struct sb_sim_bound {
    int site, face, handle;
    char device[64];            /* "AHU-1", "MTR-MAIN", "IAQ-1-03", "RT-1-01", "HOU-WEATHER" */
};
int  sb_sim_bind(const struct sb_sim *s, const json_t *point, struct sb_sim_bound *b);
/* The point's value now, as its device would report it: 0, SB_EAGAIN
 * while b->device is under device_offline or meter_dropout (no answer), or
 * the face's error (SB_ENOENT, SB_ENAN, ...). */
int  sb_sim_value(const struct sb_sim *s, const struct sb_sim_bound *b, double *v);

/* Backfill: simulates (from_ms, to_ms] in step_s steps and writes a wide
 * CSV ("time,<point>,…", times in ms, values as the devices report them:
 * ingest with --units source) for every point of points_doc (an array of
 * sbems points, or an object with "points") that a face binds.  Row k is
 * stamped t_k = from_ms + k·step (k = 1 .. ⌊(to_ms − from_ms)/step⌋) and is
 * the state at the end of the step (t_{k−1}, t_k].  Before that step the
 * fault manager ticks at t_{k−1} (simulated time = wall time: sbems takes
 * the rows' stamps as reading times), after the last row once more at its
 * time; so a fault starts and ends on a row time (its requested times
 * rounded up to the next row) and shows in the rows start < t ≤ end.  A
 * point whose device is offline has an empty cell.  Returns the rows
 * written or SB_E*. */
int64_t sb_sim_backfill(struct sb_sim *s, const json_t *points_doc, int64_t from_ms, int64_t to_ms,
                        double step_s, FILE *out, char *err, size_t errlen);
/* The rows of that backfill: their count, the first and last row times. */
int64_t sb_sim_backfill_rows(int64_t from_ms, int64_t to_ms, double step_s, int64_t *first_ms,
                             int64_t *last_ms);
/* Loads the fault requests of path (sb_simfault_load) for that backfill,
 * before sb_sim_backfill(): relative starts ("+10m", "now", none) count
 * from the first row, and a start before the first row or after the last
 * is refused ("faults.json: fault 2: start: … is before the backfill's
 * first row …", the index 0-based).  0 or SB_E* with the reason in err;
 * after a failure the requests before the bad one stay scheduled, so the
 * caller gives up rather than run the backfill. */
int  sb_sim_backfill_faults(struct sb_sim *s, const char *path, int64_t from_ms, int64_t to_ms, double step_s,
                            char *err, size_t errlen);

#endif /* SB_SIM_SIM_H */

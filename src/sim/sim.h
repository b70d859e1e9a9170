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
 * site: 0 with b filled in, or SB_ENOENT. */
struct sb_sim_bound {
    int site, face, handle;
};
int  sb_sim_bind(const struct sb_sim *s, const json_t *point, struct sb_sim_bound *b);
int  sb_sim_value(const struct sb_sim *s, const struct sb_sim_bound *b, double *v);

/* Backfill: simulates [from_ms, to_ms) in step_s steps and writes a wide
 * CSV ("time,<point>,…", times in ms, values as the devices report them:
 * ingest with --units source) for every point of points_doc (an array of
 * sbems points, or an object with "points") that a face binds.  Faults
 * loaded into s->faults apply.  Returns the rows written or SB_E*. */
int64_t sb_sim_backfill(struct sb_sim *s, const json_t *points_doc, int64_t from_ms, int64_t to_ms,
                        double step_s, FILE *out, char *err, size_t errlen);

#endif /* SB_SIM_SIM_H */

/*
 * httpd.h - sbems-sim's HTTP face: one small HTTP/1.1 server per site
 * (libuv TCP, our own bounded request parser) serving
 *
 *   /thermostat-api/v1/...  a Siemens-style room-thermostat cloud API with
 *                           OAuth 2.0 client credentials, one thermostat per
 *                           plant zone that has one (points floorF.zoneZ.tstat.*),
 *                           exactly as docs/internals/rest.md specifies it
 *                           (profiles/rest-siemens-thermostat.json speaks it);
 *   /weather/v1/forecast    an Open-Meteo-shaped forecast made from the EPW
 *                           weather file at simulated time, labelled in wall
 *                           time, with a deterministic forecast error;
 *   /control/v1/...         status and fault injection (callbacks below).
 *
 * Default address 127.0.<site index>.10, port 8080.  How thermostats map onto
 * the plant, the forecast error model and every status code:
 * docs/internals/sim-faces.md, "REST thermostats and weather".
 *
 * A thermostat the site's offline function (face.h) declares offline is
 * reported "online": false with its last values: the cloud API keeps
 * answering, as a real one does when a device loses its connection.  The
 * device "WEATHER" offline makes the forecast answer 503.
 *
 * Threads: loop thread only.  Ownership: borrows the plant, the site strings,
 * cfg->epw and cfg->ctl (all outlive the face); copies the cfg strings and
 * what it needs of cfg->plant_cfg.  JSON returned belongs to the caller.
 * After sb_simhttp_close() the loop must run until the handles have closed
 * before sb_simhttp_free(); a failed sb_simhttp_new() that had opened its
 * listener frees itself on the loop's next run.
 */
#ifndef SB_SIM_HTTPD_H
#define SB_SIM_HTTPD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sim/face.h"

struct sb_plant;
struct sb_plant_config;
struct sb_epw;
struct sb_simhttp;

/* Fault injection, implemented by the fault manager (fault.h). */
struct sb_simhttp_ctl {
    void *ud;
    /* a fault request (JSON object) -> fault id > 0, or SB_E* with err */
    int (*inject)(void *ud, const json_t *req, char *err, size_t errlen);
    /* 0, or SB_ENOENT for an unknown id */
    int (*clear)(void *ud, int id);
    /* every fault (new reference) */
    json_t *(*list)(void *ud);
};

struct sb_simhttp_cfg {
    const char *ip;             /* listen address in 127.0.0.0/8; NULL: "127.0.<index>.10" */
    int port;                   /* 0: 8080; -1: any free port (tests; see sb_simhttp_port) */
    int listen;                 /* 0: no socket (--list, --site-json, backfill) */
    const char *client_id;      /* OAuth client; NULL: "sbems" */
    const char *client_secret;  /* NULL: "sbems-sim-secret" */
    double max_rps;             /* requests per second per client address; 0: 20 */
    int token_ttl_s;            /* access token lifetime; 0: 3600 */
    const struct sb_epw *epw;   /* the plant's weather file; NULL: no weather API */
    const struct sb_plant_config *plant_cfg;   /* VAV min fraction, static setpoint; NULL: defaults */
    double forecast_error;      /* error scale: 1 = the documented model, 0 = exact forecast */
    uint64_t forecast_seed;     /* 0: derived from the site index */
    const char *control_token;  /* NULL: /control/v1 open; else "Authorization: Bearer <it>" */
    const struct sb_simhttp_ctl *ctl;   /* NULL: the fault routes answer 501 */
    double speed;               /* shown by /control/v1/status; 0: measured between syncs */
};

/* Fills every default (forecast_error 1).  A zero-initialised cfg gets the
 * same defaults except forecast_error, whose 0 means an exact forecast. */
void sb_simhttp_cfg_default(struct sb_simhttp_cfg *cfg);

/* Builds the thermostats from the plant's points and (cfg->listen) binds the
 * server.  Returns 0, SB_EINVAL (address not loopback, bad cfg), SB_EIO
 * (bind failed), SB_ENOMEM; err says why. */
int  sb_simhttp_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                    const struct sb_simhttp_cfg *cfg, struct sb_simhttp **out, char *err,
                    size_t errlen);
/* After each plant step: simulated and wall time now, offline states. */
void sb_simhttp_sync(struct sb_simhttp *h, int64_t sim_ms, int64_t wall_ms);
/* The port bound (listening) or configured. */
int  sb_simhttp_port(const struct sb_simhttp *h);

/* [{"protocol":"rest","name":"RT-1-01","address","port","base_url","id","zone","auth"}, ...,
 *  {"protocol":"rest","name":"WEATHER","address","port","url"}] */
json_t *sb_simhttp_list(const struct sb_simhttp *h);
/* {"equipment":[...],"points":[...]}: thermostats through the sbems "rest"
 * driver (API "<building>-tstat"), weather through the "weather" driver. */
json_t *sb_simhttp_site(const struct sb_simhttp *h);
/* The drivers.json fragment for them: {"rest":{"apis":{...}},"weather":{...}}. */
json_t *sb_simhttp_drivers(const struct sb_simhttp *h);

/* A point source of the site document -> handle >= 0, or SB_ENOENT. */
int  sb_simhttp_bind(const struct sb_simhttp *h, const json_t *source);
/* What the API answers for it now, as the sbems driver reads it (enums as
 * the profile's numbers).  0, SB_ENOENT (bad handle, or null on the wire). */
int  sb_simhttp_value(const struct sb_simhttp *h, int handle, double *v);

void sb_simhttp_close(struct sb_simhttp *h);   /* stops serving, closes connections */
void sb_simhttp_free(struct sb_simhttp *h);    /* after the loop closed the handles */

#endif /* SB_SIM_HTTPD_H */

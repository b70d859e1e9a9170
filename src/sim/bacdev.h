/*
 * bacdev.h - the simulated building's BACnet/IP face: the plant's points
 * (src/sim/plant/) grouped into Trane-style controllers — one AHU per
 * floor, one VAV per zone (with its thermostat), the chiller and the
 * boiler — each a BACnet device (vendor 2) on its own 127.0.0.x address.
 * Writable plant points are commandable Analog Values with a priority
 * array: the winning slot drives the plant, an empty array hands the
 * point back to the plant's local controller (whose value becomes
 * Relinquish_Default).  Everything else is an Analog Input.
 *
 * Each VAV controller also has a Schedule object (schedule:1, "Occupancy
 * Schedule", BACnetBinaryPV, default inactive) and a Calendar (calendar:1,
 * "Holidays") for an integrator or sbems to program (clauses 12.24, 12.9).
 * Once its Weekly_Schedule or Exception_Schedule holds anything, the box
 * runs its zone's occupancy from the Schedule's value (active = occupied),
 * evaluated at the simulated time in the site's time zone, as a real
 * controller follows its own Schedule; while both are empty it keeps the
 * building's hours, as before.
 *
 * Threads: loop thread only.  Ownership: borrows the plant (it must
 * outlive the set); owns its servers and hosts.
 */
#ifndef SB_SIM_BACDEV_H
#define SB_SIM_BACDEV_H

#include <jansson.h>
#include <uv.h>

#include "sim/face.h"

struct sb_plant;
struct sb_simbac;

struct sb_simbac_cfg {
    const char *ip_base;       /* first device address, "127.0.0.20" */
    unsigned port;             /* 47808 when 0 */
    int listen;                /* 0: build the devices without sockets (--list) */
    int zones_per_floor;       /* of the plant, for zone ids (5 when 0) */
    const char *timezone;      /* the site's IANA zone: the controllers' clocks (NULL: UTC) */
};

/* Device names get the site's prefix (face.h) and instances + 10000 x the
 * site index. */
int  sb_simbac_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                   const struct sb_simbac_cfg *cfg, struct sb_simbac **out, char *err, size_t errlen);
/* After each plant step: commands in (when the priority array changed),
 * values out stamped wall_ms (COV follows), offline faults applied. */
void sb_simbac_sync(struct sb_simbac *s, int64_t sim_ms, int64_t wall_ms);
/* A point source {"driver":"bacnet","address":{"device":1001,"object":
 * "analog-input:1"}} -> handle, or SB_ENOENT; value = its Present_Value now. */
int  sb_simbac_bind(const struct sb_simbac *s, const json_t *source);
int  sb_simbac_value(const struct sb_simbac *s, int handle, double *v);
/* The controllers as an sbems site document part {"equipment","points"}:
 * the ids, kinds, units and Brick classes `make demo` gets through
 * discovery and accept (equipment = slug of the device name, point =
 * equipment "." slug of the object name).  Caller owns. */
json_t *sb_simbac_site(const struct sb_simbac *s);
/* Every device with its protocol, address, port, instance and objects (JSON, caller owns). */
json_t *sb_simbac_list(const struct sb_simbac *s);
void sb_simbac_close(struct sb_simbac *s);   /* stops serving */
void sb_simbac_free(struct sb_simbac *s);    /* after the loop let go of the sockets */

#endif /* SB_SIM_BACDEV_H */

/*
 * mqttdev.h - the simulated building's MQTT face: one indoor-air-quality
 * and people-counting sensor per zone ("IAQ-<floor>-<zone 2 digits>",
 * "IAQ-1-03"; "<BLDG>-IAQ-1-03" for sites after the first), as a LoRaWAN
 * network server would present it after decoding: JSON uplinks on
 *
 *     <building>/iaq/<device lower-case>/up        (not retained)
 *     {"ts":"2026-11-27T10:00:00.000Z","co2":612,"temperature":22.4,
 *      "humidity":41.2,"occupancy":7,"occupied":true,"battery":97}
 *
 * co2 ppm as an integer (as NDIR sensors report), temperature and humidity
 * to 0.1, occupancy a people count (integer), occupied a boolean, battery
 * a constant per sensor.  humidity is present only when the plant has the
 * zone's "floorF.zoneZ.rh" point (and likewise for every field: a field
 * whose plant point does not exist, or is not finite, is left out).  ts is
 * the wall time of the publication (sbems stamps readings in wall time).
 * Each sensor publishes every period_s wall seconds, the sensors spread
 * evenly over the period so that they do not all publish in the same tick.
 *
 * Status (retained): <building>/iaq/<dev>/status is "online" or "offline",
 * published on every (re)connection and whenever the fault manager takes
 * the sensor off or back on line.  One broker connection serves the whole
 * face and MQTT gives one last will per connection, so the will covers the
 * connection itself: <building>/iaq/gateway/status, "online" after each
 * CONNACK and "offline" as the will (a crash or a lost connection) or on
 * close().  A per-sensor status therefore goes stale if the simulator dies
 * without close(); the gateway topic tells it.  close() publishes
 * "offline" for every sensor and the gateway, then disconnects cleanly.
 *
 * Event loop.  libmosquitto is driven from the libuv loop, no thread:
 * uv_poll on mosquitto_socket() calls mosquitto_loop_read/_write (write
 * interest only while mosquitto_want_write()), a 1 s timer calls
 * mosquitto_loop_misc (keep-alive), and a one-shot timer reconnects with
 * back-off (reconnect_min_ms doubling to reconnect_max_ms, reset by a
 * CONNACK).  Why not mosquitto_loop_start(): in libmosquitto 2.0.11 its
 * thread gives up for good when the first connection is refused
 * (docs/internals/mqtt.md, measured for the driver), which is exactly "the
 * broker is not up yet"; and on the loop thread the face reads the plant
 * and the fault manager (neither is thread-safe) without locks, like every
 * other face (face.h).  mosquitto_connect_async's TCP connect is
 * non-blocking and, on 127.0.0.0/8, answered by the kernel at once; the
 * host must be a loopback address or "localhost" (no DNS on the loop).
 * While there is no session, publications are dropped and counted, never
 * queued.  A QoS 1 message in flight when the connection breaks is resent
 * by libmosquitto after the reconnect (at least once, MQTT 3.1.1 §4.3.2).
 * mosquitto_new() sets SIGPIPE to SIG_IGN for the whole process.
 *
 * Fault injection: while site->offline(ud, name) is 1 a sensor publishes
 * nothing (its status says "offline"), and sb_simmq_value() answers
 * SB_EIO for it (no reading: a gap, as on the wire).
 *
 * Threads: loop thread only.  Ownership: borrows the plant and the site
 * strings (they outlive the face); copies cfg; JSON it returns belongs to
 * the caller.  Its libuv handles are heap objects freed by their close
 * callbacks, so sb_simmq_free() may follow sb_simmq_close() at once (the
 * loop still has to run once for libuv to release those handles).
 */
#ifndef SB_SIM_MQTTDEV_H
#define SB_SIM_MQTTDEV_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

#include "sim/face.h"

struct sb_plant;
struct sb_simmq;

struct sb_simmq_cfg {
    const char *host;           /* broker: loopback address or "localhost"; "127.0.0.1" when NULL */
    unsigned port;              /* 1883 when 0 */
    const char *username;       /* NULL: none */
    const char *password;       /* NULL: none; needs username (MQTT 3.1.1 §3.1.2.9) */
    unsigned period_s;          /* publication period per sensor, 30 when 0 */
    int qos;                    /* 0 or 1 for uplinks and statuses */
    unsigned keepalive_s;       /* 30 when 0; 5..65535 (libmosquitto refuses less) */
    unsigned reconnect_min_ms;  /* first reconnect delay, 1000 when 0 */
    unsigned reconnect_max_ms;  /* back-off ceiling, 30000 when 0 */
    int listen;                 /* 0: build the sensors without a broker connection */
};

/* Counters since sb_simmq_new (sb_simmq_stats). */
struct sb_simmq_stats {
    uint64_t published;         /* uplinks handed to libmosquitto */
    uint64_t dropped;           /* uplinks due while there was no session (or refused by it) */
    uint64_t silenced;          /* uplinks not sent because the sensor was offline */
    uint64_t statuses;          /* status messages published */
    uint64_t connects;          /* sessions established (CONNACK 0) */
    uint64_t attempts;          /* connection attempts */
    int connected;              /* 1 while a session is up */
    char error[96];             /* last connection problem ("cannot connect: Connection
                                   refused"), "" after a CONNACK */
};

/* Builds one sensor per plant zone that has a "floorF.zoneZ.co2" point;
 * cfg->listen needs a loop.
 * Returns 0, SB_EINVAL (bad cfg or building id: reason in err), SB_ENOENT
 * (no zone), SB_ENOMEM.  A broker that is down is not an error: the face
 * keeps trying in the background. */
int  sb_simmq_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                  const struct sb_simmq_cfg *cfg, struct sb_simmq **out, char *err, size_t errlen);
/* After each plant step: offline changes, then the sensors that are due
 * publish.  wall_ms is the wall clock (the payload's ts); sim_ms unused. */
void sb_simmq_sync(struct sb_simmq *x, int64_t sim_ms, int64_t wall_ms);
/* [{"protocol":"mqtt","name":"IAQ-1-03","address":"127.0.0.1","port":1883,
 *   "broker":"127.0.0.1:1883","topic":"hpo/iaq/iaq-1-03/up",
 *   "status_topic":"hpo/iaq/iaq-1-03/status","zone":"floor1.zone3","period_s":30}, ...] */
json_t *sb_simmq_list(const struct sb_simmq *x);
/* {"equipment":[...],"points":[...]}: one "sensor" per device, points co2,
 * temperature, humidity (when present), occupancy, occupied, read by the
 * sbems "mqtt" driver ({"topic":...,"field":...,"time_field":"ts"}). */
json_t *sb_simmq_site(const struct sb_simmq *x);
/* A point source {"driver":"mqtt","address":{"topic":T,"field":F}} whose
 * topic (or a filter matching exactly one sensor's uplink topic) and field
 * (co2, temperature, humidity, occupancy, occupied, battery) name a value
 * of this face: a handle >= 0; else SB_ENOENT. */
int  sb_simmq_bind(const struct sb_simmq *x, const json_t *source);
/* The value the uplink would carry now, rounded as on the wire (occupied:
 * 1/0, as the driver reads true/false).  0, SB_ENOENT (bad handle), SB_EIO
 * (sensor offline), SB_ENAN (plant value not finite).  No allocation. */
int  sb_simmq_value(const struct sb_simmq *x, int handle, double *v);
void sb_simmq_stats(const struct sb_simmq *x, struct sb_simmq_stats *out);
void sb_simmq_close(struct sb_simmq *x);   /* "offline" statuses, DISCONNECT, handles closed */
void sb_simmq_free(struct sb_simmq *x);    /* NULL is fine */

#endif /* SB_SIM_MQTTDEV_H */

/*
 * mbdev.h - the simulated building's electricity meters as Modbus TCP
 * servers (face prefix sb_simmb_).  Each meter is its own device on its own
 * loopback address:
 *
 *   MTR-MAIN       main incomer, profiles/schneider-pm5xxx.json, plant meter.main.*
 *   MTR-LIGHTING   sub-meter, profiles/eastron-sdm630.json, meter.lighting.*
 *   MTR-PLUGS      sub-meter, eastron-sdm630, meter.plugs.*
 *   MTR-HVAC       sub-meter, eastron-sdm630, meter.hvac.*
 *   MTR-CHILLER    sub-meter, eastron-sdm630, chiller.kw + meter.chiller.kwh
 *                  (only when the plant has both points)
 *
 * The register maps are read from the profile files at run time, and every
 * register a profile lists is served, encoded as the profile says (type,
 * word and byte order, scale, offset, unit), so the meters agree with the
 * profiles sbems reads them with by construction.  Values come from the
 * plant's kW and kWh through a small electrical model (three phases,
 * voltage, current, power factor, frequency; docs/internals/sim-faces.md,
 * "Modbus meters").  Unlisted registers answer exception 2, functions
 * other than reads exception 1.
 *
 * Serving happens on the caller's libuv loop and never blocks it: our own
 * non-blocking sockets and uv_poll handles, Modbus/TCP frames delimited by
 * their MBAP header here, libmodbus (modbus_reply, modbus_reply_exception)
 * building every answer from a modbus_mapping_t that sync() refreshes.
 *
 * Threads: loop thread only.  Ownership: the set borrows the loop, the plant
 * and the site strings (they outlive it) and owns its sockets, handles,
 * profiles and mappings; JSON it returns belongs to the caller.  After
 * sb_simmb_close() the loop must run (once is enough) before sb_simmb_free()
 * so libuv can finish closing the handles; the handles free themselves.
 */
#ifndef SB_SIM_MBDEV_H
#define SB_SIM_MBDEV_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sim/face.h"

struct sb_plant;
struct sb_simmb;

/* Settings; zero / NULL fields take the defaults. */
struct sb_simmb_cfg {
    const char *ip_base;        /* first meter's address; NULL: "127.0.<site index>.60";
                                 * the next meters take the following addresses */
    unsigned port;              /* TCP port of every meter; 0: 5020 */
    const char *profile_dir;    /* directory of the profile files; NULL: "profiles" */
    unsigned max_clients;       /* connections per meter, 1..64; 0: 8 (more are accepted and closed) */
    unsigned idle_s;            /* a connection without a request this long is closed; 0: 300 */
    int listen;                 /* 0: build the meters without sockets (--list, site JSON, backfill) */
};

/* Loads the profiles, builds the meters and (cfg->listen) opens one
 * listening socket per meter.  Returns 0, SB_EINVAL (bad address: not
 * 127.0.0.0/8, bad port or limits), SB_ENOENT / SB_EINVAL (profile missing
 * or invalid), SB_EIO (socket, bind, listen), SB_ENOMEM; err says which
 * meter and why. */
int  sb_simmb_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                  const struct sb_simmb_cfg *cfg, struct sb_simmb **out, char *err, size_t errlen);

/* After each plant step: offline changes (close connections, stop or resume
 * accepting), the demand window, registers from the plant, idle
 * connections.  The plant's own time drives the model; sim_ms and wall_ms
 * are the caller's clocks (sim_ms should equal the plant's time). */
void sb_simmb_sync(struct sb_simmb *x, int64_t sim_ms, int64_t wall_ms);

/* Every meter: {"protocol": "modbus/tcp", "name", "address", "port",
 * "unit", "profile", "vendor", "model", "plant": [kW point, kWh point],
 * "registers": N}.  A new reference the caller owns; NULL on ENOMEM. */
json_t *sb_simmb_list(const struct sb_simmb *x);

/* {"equipment": [...], "points": [...]} in the sbems site-document format
 * (docs/site-format.md): one "meter" per device and its points read through
 * the modbus driver by profile entry.  A new reference; NULL on ENOMEM. */
json_t *sb_simmb_site(const struct sb_simmb *x);

/* A point's source ({"driver": "modbus", "address": {...}, "poll_s": N};
 * the address as an object or as JSON text; by profile entry or by plain
 * register) -> a handle >= 0, or SB_ENOENT when it names no register of
 * these meters (other driver, host, port, unit id, profile, entry, or a
 * register the meter does not list), SB_ENOMEM.  The set is logically
 * const: the handle goes into a table the set owns (binding the same
 * source twice gives the same handle). */
int  sb_simmb_bind(const struct sb_simmb *x, const json_t *source);

/* The value a client reading the handle's register(s) now decodes: raw *
 * scale + offset in the profile entry's unit (for a plain register address:
 * in no particular unit), computed from the plant as sync() computes the
 * registers.  Cheap: no allocation, no JSON.  0, SB_ENOENT (bad handle),
 * SB_ETIMEDOUT (the meter is offline: a poll would time out), SB_ENAN (the
 * register holds NaN, as a driver read would report). */
int  sb_simmb_value(const struct sb_simmb *x, int handle, double *v);

void sb_simmb_close(struct sb_simmb *x);    /* stops serving; NULL is fine */
void sb_simmb_free(struct sb_simmb *x);     /* after the loop ran; NULL is fine */

/* ---- internals shared with the test and the fuzz target ---- */

/* One Modbus/TCP request as framed by sb_simmb__frame. */
struct sb_simmb_req {
    size_t len;                 /* bytes of the whole ADU (MBAP header + PDU) */
    uint8_t unit;               /* unit identifier (MBAP byte 6) */
    uint8_t fc;                 /* function code */
    uint16_t addr;              /* read functions 1-4: starting address */
    uint16_t count;             /* read functions 1-4: quantity */
};

/* Frames the first request in buf[0..len): returns 1 and fills *r when a
 * whole request is there, 0 when more bytes are needed, SB_EPROTO when the
 * bytes cannot be a request (protocol identifier not 0, length field out of
 * 2..254, a read request whose PDU is not 5 bytes, function code >= 0x80).
 * Pure: reads nothing past buf[len). */
int  sb_simmb__frame(const uint8_t *buf, size_t len, struct sb_simmb_req *r);

#endif /* SB_SIM_MBDEV_H */

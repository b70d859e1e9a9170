/*
 * face.h - what every protocol face of sbems-sim shares: the BACnet
 * controllers (bacdev.h), the Modbus meters (mbdev.h), the MQTT sensors
 * (mqttdev.h) and the REST thermostats and weather service (httpd.h).
 *
 * A face presents one site's plant (src/sim/plant/) as devices.  Besides
 * serving, every face can
 *   - list its devices (--list), each with protocol, address, port, ids;
 *   - describe its devices as an sbems site document (equipment + points
 *     with their driver addresses) for `sbems import`;
 *   - bind an sbems point's "source" object (as in the site document) to
 *     what the device would report for it, so the backfill mode can write
 *     history under sbems's own point ids without any protocol round trip.
 *
 * Fault injection reaches the faces through sb_sim_offline_fn: a device
 * that is offline (fault "device_offline", "meter_dropout") does not answer
 * or publish while the function says so.
 *
 * Threads: loop thread only.  Ownership: a face borrows the plant and the
 * site strings (they outlive it); JSON it returns belongs to the caller.
 */
#ifndef SB_SIM_FACE_H
#define SB_SIM_FACE_H

#include <stddef.h>
#include <stdint.h>

/* 1 while device `name` (as the face lists it: "AHU-1", "MTR-MAIN",
 * "IAQ-1-03", "RT-1-01") is offline, else 0. */
typedef int (*sb_sim_offline_fn)(void *ud, const char *name);

/* Who the face's devices belong to. */
struct sb_sim_site_ref {
    const char *site;           /* sbems site id, "harbor-point" */
    const char *building;       /* sbems building id, "hpo" (also the MQTT topic root and REST path) */
    int index;                  /* 0-based position of the site in the simulator's config */
    sb_sim_offline_fn offline;  /* may be NULL: never offline */
    void *offline_ud;
};

/* The device-name prefix of a site: "" for index 0, else the building id
 * upper-cased and a dash ("HOU-"). */
static inline void sb_sim_name_prefix(const struct sb_sim_site_ref *s, char *out, size_t cap)
{
    size_t n = 0;

    if (cap == 0)
        return;
    if (s->index > 0 && s->building) {
        for (const char *c = s->building; *c && n + 2 < cap; c++)
            out[n++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
        out[n++] = '-';
    }
    out[n] = 0;
}

#endif /* SB_SIM_FACE_H */

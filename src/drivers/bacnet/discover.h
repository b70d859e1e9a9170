/*
 * discover.h - find BACnet devices and propose sbems points for their
 * objects (ANSI/ASHRAE 135-2020: Who-Is/I-Am clause 16.10/16.1,
 * ReadProperty 15.5, ReadPropertyMultiple 15.7, Device object 12.11).
 *
 * An asynchronous engine on a caller's stack (proto/bacnet/stack):
 *  1. Who-Is: local broadcast, remote networks (DNET, 0xFFFF global),
 *     directed to "ip[:port]" targets and to each address of an IPv4
 *     range, with an optional device instance range; I-Ams are collected
 *     for a listen window (the stack's owner forwards them, see
 *     sb_bacdisc_on_iam).  A directed target that stays silent is probed
 *     with ReadProperty(device,4194303, object-identifier), which any
 *     device answers for itself (clause 15.5.1.1.1).
 *  2. per device (a bounded number at once): its max APDU and
 *     segmentation go to the stack (sb_bac_stack_learn); the Device
 *     object's name, vendor and model are read; Object_List is read
 *     whole (segmented if the device segments), or by index (0 = count,
 *     then 1..N) when the device aborts or rejects that;
 *  3. per object: ReadPropertyMultiple packed to the device's max APDU
 *     (halving the batch when the device aborts a reply as too long,
 *     ReadProperty per property for a device that rejects RPM): name,
 *     description, units, present value, object type and the size of
 *     Priority_Array (present = commandable).  Points get a proposal
 *     (names.h: Brick class, kind, tags); trend logs, schedules and
 *     calendars are listed apart; other objects are counted.
 *
 * The result is a JSON document (layout in docs/internals/
 * bacnet-discovery.md): {"devices":[...], "unanswered":[...],
 * "duration_ms":N, "complete":bool}.  A device's or an object's refusal,
 * a timeout or a malformed answer is recorded in that device's "errors",
 * never a failure of the whole.  Everything is bounded: addresses of a
 * range (SB_BACDISC_RANGE_MAX), devices, objects per device, errors per
 * device, string lengths, and an overall deadline.
 *
 * Threads and ownership: everything runs on the stack's loop thread.
 * The engine owns its state and one uv_timer; it frees itself after the
 * done callback has returned and the last of its requests has come back
 * from the stack.  The result JSON passed to the done callback belongs to
 * the callback (json_decref it).  The stack must outlive the engine's
 * requests: close it only after done has run (closing it earlier makes
 * the engine finish with SB_ECLOSED and never touch the stack again).
 */
#ifndef SB_DRIVERS_BACNET_DISCOVER_H
#define SB_DRIVERS_BACNET_DISCOVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/peer.h"
#include "proto/bacnet/stack/stack.h"

#define SB_BACDISC_RANGE_MAX 1024    /* addresses one --range may expand to */
#define SB_BACDISC_TARGETS_MAX 256   /* directed targets */
#define SB_BACDISC_NETS_MAX 64       /* remote networks */

struct sb_bacdisc;

/* What to look for.  Zero fields take the default in the comment.  The
 * strings and arrays are copied by sb_bacdisc_start. */
struct sb_bacdisc_args {
    uv_loop_t *loop;               /* the stack's loop (required: stack.h does
                                      not tell it) */
    const char *const *targets;    /* "ip[:port]" for directed Who-Is */
    size_t ntargets;               /* entries in targets (<= TARGETS_MAX) */
    const char *range;             /* "a.b.c.d-e.f.g.h[:port]" or "a.b.c.d-h[:port]",
                                      NULL = none; at most RANGE_MAX addresses */
    bool broadcast;                /* local broadcast Who-Is (and through the
                                      BBMD when the stack is a foreign device) */
    const uint16_t *networks;      /* remote networks for Who-Is with DNET,
                                      0xFFFF = global broadcast */
    size_t nnetworks;              /* entries in networks (<= NETS_MAX) */
    bool has_limits;               /* device instance range given */
    uint32_t low, high;            /* its limits, 0..4194303, low <= high */
    uint32_t wait_ms;              /* listen window after the last Who-Is (3000) */
    uint32_t max_devices;          /* devices interrogated; more are counted (256) */
    uint32_t concurrency;          /* devices interrogated at once (4) */
    uint32_t deadline_ms;          /* whole run, then a partial result (300000) */
    uint32_t max_objects;          /* objects read per device (10000) */
    bool no_probe;                 /* do not probe silent targets with RP */
    bool no_points;                /* devices only: skip Object_List and objects */
};

/* Called once when discovery ends, on the loop and never from inside an
 * sb_bacdisc_* call.  rc: 0 (done), SB_ETIMEDOUT (deadline: the result is
 * partial, unfinished devices say so), SB_ECLOSED (cancelled, or the
 * stack was closed), SB_ENOMEM.  result is the caller's (may be NULL
 * only with SB_ENOMEM).  The engine is gone for the caller afterwards. */
typedef void (*sb_bacdisc_done_cb)(void *ud, int rc, json_t *result);

/* Starts discovery on st (which stays the caller's).  Returns 0 with *out
 * set, or SB_EINVAL (a bad target, range, network or limit; err says
 * which), SB_ENOMEM.  Who-Is requests go out from the loop, not from
 * inside this call. */
int sb_bacdisc_start(struct sb_bac_stack *st, const struct sb_bacdisc_args *args,
                     sb_bacdisc_done_cb done, void *ud, struct sb_bacdisc **out,
                     char *err, size_t errlen);

/* The stack's owner forwards every I-Am it receives while discovery
 * runs (before done has been called).  Devices outside the instance
 * limits, duplicates and those beyond max_devices are ignored. */
void sb_bacdisc_on_iam(struct sb_bacdisc *d, const struct sb_bac_peer *from,
                       const struct sb_bac_iam *iam);

/* Convenience for an sb_bac_handler.unconfirmed callback: decodes an
 * I-Am (service 0) and forwards it; ignores anything else. */
void sb_bacdisc_on_unconfirmed(struct sb_bacdisc *d, const struct sb_bac_peer *from,
                               uint8_t service, const uint8_t *body, size_t len);

/* Ends discovery early: done runs soon (from the loop) with SB_ECLOSED
 * and what was found so far.  No effect once done has been scheduled. */
void sb_bacdisc_cancel(struct sb_bacdisc *d);

/* Expands "a.b.c.d-e.f.g.h[:port]" (or "a.b.c.d-h") into at most cap
 * peers.  Returns the count or SB_EINVAL (syntax, last < first) /
 * SB_ERANGE (more than cap addresses). */
int sb_bacdisc_range(const char *range, struct sb_bac_peer *out, size_t cap);

/* `sbems bacnet discover` (argv[0] is "discover"):
 *   [--bind ip[:port]] [--broadcast-ip ip] [--bbmd ip:port [--ttl s]]
 *   [--target ip[:port]]... [--range a-b[:port]] [--network N]...
 *   [--no-broadcast] [--low N --high N] [--wait-ms N] [--timeout-ms N]
 *   [--retries N] [--max-devices N] [--concurrency N] [--deadline-s N]
 *   [--no-probe] [--devices-only] [--format json|table] [--output FILE]
 * Runs its own loop and stack, prints the result, returns the exit
 * status: 0 done, 1 runtime failure (socket, deadline), 2 usage. */
int sb_bacdisc_cli(int argc, char **argv);

/* Internal, for fuzz/fuzz_bacdisc.c: runs the decoders the engine applies
 * to a device's answers on outside bytes, with no loop and no stack, then
 * builds the device's JSON as the result would hold it.  p[0] % 3 picks
 * what p + 1 is: 0 the value of an Object_List ReadProperty-ACK, 1 a
 * ReadPropertyMultiple-ACK about analog-input:1, analog-output:2,
 * analog-value:3, binary-input:4, multi-state-value:5, trend-log:6,
 * schedule:7 and calendar:8, 2 one encoded property value stored as every
 * property of those objects and of the Device.  Returns the JSON (the
 * caller's) or NULL when out of memory. */
json_t *sb_bacdisc__fuzz_reply(const uint8_t *p, size_t n);

/* The site-document entries for the points a user accepted from a
 * discovery result (accept.c).  sel: {"building": slug, "equipment":
 * [{"device": N, "id", "name"?, "type"?, "create"?: bool}], "points":
 * [{"device": N, "object": "type:inst", "equipment"?, "id"?, "name"?,
 * "kind"?, "unit"?, "writable"?, "brick"?, "tags"?, "min"?, "max"?,
 * "poll_s"?}]}.  Returns {"equipment": [...], "points": [...]} (the
 * caller's) to merge into the site document, or NULL with err naming the
 * first bad entry.  Devices without named equipment get one after their
 * name. */
json_t *sb_bacdisc_accept(const json_t *result, const json_t *sel, char *err, size_t errlen);

#endif /* SB_DRIVERS_BACNET_DISCOVER_H */

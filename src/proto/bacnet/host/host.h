/*
 * host.h - a BACnet device served on the network: one object database
 * (proto/bacnet/server/) behind one stack (proto/bacnet/stack/) on a
 * libuv loop.  sbems-sim runs one host per simulated device (each on its
 * own 127.0.0.x address or port); tests and the benchmark use it to stand
 * up real devices.
 *
 * The host answers confirmed requests with the server, answers Who-Is and
 * Who-Has (I-Am / I-Have unicast to the asker and broadcast, so a directed
 * Who-Is on loopback gets its answer), sends the server's COV
 * notifications, and ticks the server once a second.
 *
 * Ownership: the host borrows srv (the caller frees it after
 * sb_bac_host_close) and owns its stack and timer.  Loop thread only.
 */
#ifndef SB_BAC_HOST_H
#define SB_BAC_HOST_H

#include <uv.h>

#include "proto/bacnet/server/server.h"
#include "proto/bacnet/stack/stack.h"

struct sb_bac_host;

int  sb_bac_host_new(uv_loop_t *loop, const struct sb_bac_stack_cfg *cfg, struct sb_bac_srv *srv,
                     struct sb_bac_host **out, char *err, size_t errlen);
/* Stops serving; the srv may be freed once this returns (the handles'
 * memory goes on the next loop turn). */
void sb_bac_host_close(struct sb_bac_host *h);
struct sb_bac_stack *sb_bac_host_stack(struct sb_bac_host *h);
/* Announce the device (I-Am broadcast), as a device does at start. */
void sb_bac_host_announce(struct sb_bac_host *h);

#endif /* SB_BAC_HOST_H */

/*
 * expose.h - sbems as a BACnet device on the BACnet driver's socket
 * (expose.c; docs/internals/bacnet-driver.md "sbems as a device").
 * Threads: new/stop/free on the loop thread.  Ownership: borrows the
 * manager, bus and model hub; owns its object server.  Stop before the
 * drivers stop; free after the loop has ended.
 */
#ifndef SB_BACNET_EXPOSE_H
#define SB_BACNET_EXPOSE_H

#include <uv.h>

struct sb_drvmgr;
struct sb_bus;
struct sb_mhub;
struct sb_bacexpose;

/* *out stays NULL (and 0 is returned) when the bacnet driver is not
 * running or its settings have no "expose". */
int  sb_bacexpose_new(uv_loop_t *loop, struct sb_drvmgr *mg, struct sb_bus *bus,
                      struct sb_mhub *models, struct sb_bacexpose **out);
void sb_bacexpose_stop(struct sb_bacexpose *x);
void sb_bacexpose_free(struct sb_bacexpose *x);

#endif /* SB_BACNET_EXPOSE_H */

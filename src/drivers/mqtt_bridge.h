/*
 * mqtt_bridge.h - what sbems offers on the MQTT broker, when the mqtt
 * driver's settings enable it (docs/internals/mqtt.md): every durable
 * reading mirrored under <prefix>/<site>/<building>/<equipment>/<point>,
 * and commands taken on <prefix>/<site>/<building>/cmd/<point> through the
 * same verified write as the API (range, writability, rate, read-back),
 * answered on .../result and audited (actor "mqtt").
 *
 * Threads: new/stop/free on the loop thread; the bus callback runs on the
 * ingest writer thread, the command handler on the MQTT network thread;
 * both hand work over under the bridge's lock.  Ownership: the bridge
 * borrows the loop, manager, bus, model hub and database.
 */
#ifndef SB_MQTT_BRIDGE_H
#define SB_MQTT_BRIDGE_H

#include <uv.h>

struct sb_drvmgr;
struct sb_bus;
struct sb_mhub;
struct sb_appdb;
struct sb_mqttbridge;

/* *out stays NULL (and 0 is returned) when the mqtt driver is not running. */
int  sb_mqttbridge_new(uv_loop_t *loop, struct sb_drvmgr *mg, struct sb_bus *bus,
                       struct sb_mhub *models, struct sb_appdb *db, struct sb_mqttbridge **out);
void sb_mqttbridge_stop(struct sb_mqttbridge *b);
int  sb_mqttbridge_idle(struct sb_mqttbridge *b);
void sb_mqttbridge_free(struct sb_mqttbridge *b);

#endif /* SB_MQTT_BRIDGE_H */

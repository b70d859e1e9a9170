/*
 * mqtt.h - the MQTT driver (MQTT 3.1.1 client on libmosquitto 2.0): point
 * values from topics, writes to command topics, and the optional mirror of
 * readings and command channel sbems offers on the broker.
 *
 * Inputs.  Each bound point names a topic filter (MQTT wildcards + and #)
 * and how its value is found in the payload: a plain number, a field of a
 * JSON document (payload.h), or a metric of a Sparkplug B payload (spb.h).
 * Several points may share a filter.  The driver subscribes every distinct
 * filter on each connection, and pushes values (sb_drv_push) from its own
 * network thread.  One broker connection is one device, key
 * "mqtt:<host>:<port>"; its state goes to sb_drv_device_state, malformed
 * payloads to sb_drv_count_bad.  docs/internals/mqtt.md has the address
 * and configuration formats, the reconnect and back-pressure rules, and
 * the topic tree below.
 *
 * Outputs (optional, configuration "publish" and "commands"):
 *
 *     <prefix>/<site>/<building>/<equipment>/<point>   reading {"t":ms,"v":21.5,"q":0}
 *     <prefix>/<site>/<building>/cmd/<point>           command {"value":21.5,"priority":8,"id":"..."}
 *     <prefix>/<site>/<building>/cmd/<point>/result    reply   {"ok":true,"result":"ok","id":"..."}
 *
 * An equipment slug "cmd" is refused by sb_mqtt_publish_reading: its
 * readings would land on the command level of the tree.
 *
 * Threads.  The ops (sb_driver_mqtt) run on the loop thread as driver.h
 * says.  sb_mqtt_publish_reading, sb_mqtt_command_reply and
 * sb_mqtt_get_stats may be called from any thread while the driver exists;
 * the command handler runs on the driver's network thread.  The void *state
 * arguments are the state init() returned; the driver owns it.
 */
#ifndef SB_MQTT_H
#define SB_MQTT_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"

extern const struct sb_driver_ops sb_driver_mqtt;

/* One reading to mirror on the broker. */
struct sb_mqtt_reading {
    const char *site;           /* site slug */
    const char *building;       /* building slug */
    const char *equipment;      /* equipment slug (not "cmd") */
    const char *point;          /* point slug */
    int64_t t;                  /* ms UTC */
    double v;                   /* value (finite) */
    uint16_t q;                 /* SB_Q_* */
};

/* Publish r to <prefix>/<site>/<building>/<equipment>/<point> with the
 * configured QoS and retain flag.  Returns 0 (handed to libmosquitto; a
 * QoS >= 1 message waits there through a reconnect), SB_ENOTSUP (publish
 * not enabled), SB_EINVAL (a slug is empty, has '/', '+', '#' or is not
 * UTF-8, or equipment is "cmd"), SB_ENAN, or SB_EAGAIN (not connected for
 * QoS 0, or publish.max_queued messages still unacknowledged: try later or
 * drop). */
int sb_mqtt_publish_reading(void *state, const struct sb_mqtt_reading *r);

/* A command received on <prefix>/<site>/<building>/cmd/<point>.  The
 * strings live only for the handler call. */
struct sb_mqtt_cmd {
    const char *site;           /* from the topic */
    const char *building;
    const char *point;          /* point slug */
    double value;               /* NaN when relinquish */
    int relinquish;             /* "value": null = release the command */
    int priority;               /* 1..16, 0 = not given */
    const char *id;             /* the sender's correlation id, or NULL */
    const char *reply_topic;    /* ".../cmd/<point>/result" */
};

/* The framework's command handler, called on the network thread; it must
 * not block.  Return 0 when the command is taken: the outcome is then
 * announced with exactly one sb_mqtt_command_reply (from any thread, now or
 * later).  Return a negative SB_E* with err filled to refuse it: the driver
 * replies with that.  Retained commands never reach the handler (a broker
 * replays them on every subscription); malformed ones neither. */
typedef int (*sb_mqtt_cmd_fn)(void *ud, const struct sb_mqtt_cmd *cmd, char *err,
                              size_t errlen);

/* Register the handler (NULL to remove).  Loop thread. */
void sb_mqtt_set_command_handler(void *state, sb_mqtt_cmd_fn fn, void *ud);

/* Publish the outcome of a command to reply_topic (from sb_mqtt_cmd):
 * rc 0 -> {"ok":true,"result":text}, else {"ok":false,"code":"SB_E...",
 * "error":text}; "id" echoed when given.  Returns 0, SB_EINVAL or
 * SB_EAGAIN. */
int sb_mqtt_command_reply(void *state, const char *reply_topic, const char *id, int rc,
                          const char *text);

/* Counters since init. */
struct sb_mqtt_stats {
    uint64_t messages;          /* PUBLISH packets received */
    uint64_t values;            /* values accepted by sb_drv_push */
    uint64_t bad;               /* malformed payloads (sb_drv_count_bad calls) */
    uint64_t unmatched;         /* messages no point took a value from */
    uint64_t stalls;            /* messages that met SB_EAGAIN at least once */
    uint64_t dropped;           /* values given up (QoS 0 after a wait, or at stop) */
    uint64_t connects;          /* successful connections */
    uint64_t published;         /* readings and replies handed to libmosquitto */
    uint64_t commands;          /* commands given to the handler */
};
void sb_mqtt_get_stats(void *state, struct sb_mqtt_stats *st);

#endif /* SB_MQTT_H */

/*
 * mqtt_int.h - internals shared by the MQTT driver's files: the parsed
 * driver configuration and point address (conf.c), the topic-filter routing
 * table (route.c) and the driver state (mqtt.c, pub.c).
 *
 * Threads: conf.c and the sb_mqtt__route_* functions are pure (the caller
 * holds struct sb_mqtt.mu around every route call).  The state's fields say
 * which lock or thread guards them.
 */
#ifndef SB_MQTT_INT_H
#define SB_MQTT_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"
#include "drivers/mqtt/mqtt.h"

struct mosquitto;
struct sb_spb_defs;

#define SB_MQTT_HOST_MAX    140     /* host name bytes (the device key must fit) */
#define SB_MQTT_ID_MAX      128     /* client id bytes */
#define SB_MQTT_TOPIC_MAX   1024    /* topic (filter) bytes, NUL excluded */
#define SB_MQTT_PREFIX_MAX  128     /* publish prefix bytes */
#define SB_MQTT_SECRET_MAX  256     /* user name / password bytes */

/* ---- driver configuration (conf.c) ------------------------------------------------- */

struct sb_mqtt_conf {
    char *host;                 /* broker host or address */
    int port;                   /* broker port */
    char *client_id;            /* MQTT client id ("sbems-<hostname>") */
    char *username;             /* NULL = none */
    char *password;             /* NULL = none; wiped on release, never logged */
    struct {
        int enabled;            /* a "tls" object was given */
        char *ca;               /* CA file, or directory of hashed certs */
        char *cert;             /* client certificate (PEM) */
        char *key;              /* its private key (PEM) */
        int insecure;           /* skip the host name check (tests only) */
    } tls;
    int qos;                    /* subscription and publish QoS, 0..2 */
    int clean_session;          /* 0 = persistent session (default) */
    int keepalive;              /* seconds, 0 or 5..65535 */
    int reconnect_min_ms;      /* first reconnect delay */
    int reconnect_max_ms;      /* back-off cap */
    int max_payload;            /* bigger payloads are refused as bad */
    struct {
        int enabled;            /* sb_mqtt_publish_reading works */
        char *prefix;           /* topic tree root ("sbems") */
        int retain;             /* publish readings retained */
        int max_queued;         /* QoS >= 1 publishes not yet acknowledged */
    } publish;
    struct {
        int enabled;            /* subscribe to <prefix>/+/+/cmd/+ */
    } commands;
};

/* Parse the driver configuration object (NULL: all defaults).  Returns 0,
 * or SB_ECONFIG with err naming the key ("mqtt.tls.cert: ...").  Values of
 * secret keys are never copied into err.  c is released by the caller even
 * on failure. */
int  sb_mqtt__conf_parse(const json_t *conf, struct sb_mqtt_conf *c, char *err, size_t errlen);
void sb_mqtt__conf_release(struct sb_mqtt_conf *c);

/* ---- point address (conf.c) -------------------------------------------------------- */

enum sb_mqtt_fmt {
    SB_MQTT_FMT_NUMBER = 0,     /* payload is one number's text */
    SB_MQTT_FMT_JSON,           /* JSON document, value at field */
    SB_MQTT_FMT_SPARKPLUG       /* Sparkplug B payload, value of metric */
};

enum sb_mqtt_cmdfmt {
    SB_MQTT_CMD_NUMBER = 0,     /* write() publishes "21.5" */
    SB_MQTT_CMD_JSON            /* write() publishes {"value":21.5,"priority":8} */
};

struct sb_mqtt_addr {
    char *topic;                /* subscription filter (+ and # allowed) */
    enum sb_mqtt_fmt fmt;       /* payload format */
    char *field;                /* json: path of the value ("" = document) */
    char *time_field;           /* json: path of the source time, NULL = none */
    char *metric;               /* sparkplug: metric name, NULL = by alias */
    uint64_t alias;             /* sparkplug: metric alias, when has_alias */
    int has_alias;
    char *command_topic;        /* write() target, NULL = the point cannot be written */
    enum sb_mqtt_cmdfmt cmd_fmt;
    int cmd_retain;             /* publish writes retained */
};

/* Parse a point address: JSON object text (is_json), or a plain topic
 * (format number).  Returns 0, SB_ENOMEM, or SB_EINVAL with err naming the
 * field.  *out is freed with sb_mqtt__addr_free. */
int  sb_mqtt__addr_parse(const char *text, int is_json, struct sb_mqtt_addr **out,
                         char *err, size_t errlen);
void sb_mqtt__addr_free(struct sb_mqtt_addr *a);

/* Check a publish topic or prefix: UTF-8, no wildcards, no empty level. */
int  sb_mqtt__topic_ok(const char *t, size_t max);

/* ---- routing: topic filter -> points (route.c) ------------------------------------- */

/* A point routed on a filter.  pt is only compared, never dereferenced
 * here, so free() can release addresses of points the framework already
 * dropped. */
struct sb_mqtt_bound {
    const struct sb_drv_point *pt;  /* the framework's point (identity) */
    struct sb_mqtt_addr *a;     /* its parsed address (owned by the driver) */
    uint32_t id;                /* its point id */
};

struct sb_mqtt_filter {
    char *topic;                /* the filter (owned) */
    unsigned refs;              /* points routed here + derived uses */
    struct sb_mqtt_bound *pts;  /* points whose address names this filter */
    size_t n, cap;
    int sub_mid;                /* message id of its last SUBSCRIBE */
    struct sb_mqtt_filter *next;  /* hash chain, or the wildcard list */
};

struct sb_mqtt_route {
    struct sb_mqtt_filter **b;  /* filters without wildcards, by hash */
    size_t nb;                  /* buckets (power of two) */
    struct sb_mqtt_filter *wild;  /* filters with + or # */
    size_t n;                   /* filters held */
};

/* Add a use of filter topic: a point (b != NULL) or a derived use (b
 * NULL: a Sparkplug birth topic).  *created is the filter when this made
 * it (subscribe it), else NULL.  Returns 0 or SB_ENOMEM (nothing added). */
int  sb_mqtt__route_add(struct sb_mqtt_route *r, const char *topic,
                        const struct sb_mqtt_bound *b, struct sb_mqtt_filter **created);
/* Undo one add (pt NULL for a derived use).  Returns 1 when the filter
 * went away (unsubscribe it), else 0. */
int  sb_mqtt__route_del(struct sb_mqtt_route *r, const char *topic,
                        const struct sb_drv_point *pt);
/* Call fn for every filter matching the topic of a received message. */
void sb_mqtt__route_match(const struct sb_mqtt_route *r, const char *topic,
                          void (*fn)(void *ud, struct sb_mqtt_filter *f), void *ud);
/* Call fn for every filter (subscribe-all on connect). */
void sb_mqtt__route_each(const struct sb_mqtt_route *r,
                         void (*fn)(void *ud, struct sb_mqtt_filter *f), void *ud);
/* Free the table and the addresses still routed in it. */
void sb_mqtt__route_release(struct sb_mqtt_route *r);

/* ---- driver state (mqtt.c) --------------------------------------------------------- */

struct sb_mqtt {
    struct sb_drv *drv;         /* framework handle */
    struct sb_mqtt_conf conf;   /* parsed configuration (immutable after init) */
    char key[SB_DRV_KEY_MAX];   /* device key "mqtt:<host>:<port>" */
    char cmd_filter[SB_MQTT_PREFIX_MAX + 16];  /* "<prefix>/+/+/cmd/+" */
    struct mosquitto *mosq;     /* the client; thread-safe calls only off the io thread */
    pthread_t io;               /* network thread (valid while running) */
    int running;                /* io exists (loop thread only) */

    pthread_mutex_t mu;         /* guards everything down to cv */
    struct sb_mqtt_route rt;    /* bound points by filter */
    int connected;              /* CONNACK 0 seen, not yet lost */
    atomic_int stopping;        /* stop() was called (written under mu) */
    int stalled;                /* io waits for room in the pipeline */
    int cmd_mid;                /* message id of the command SUBSCRIBE */
    sb_mqtt_cmd_fn cmd_fn;      /* command handler, NULL = none */
    void *cmd_ud;               /* its argument */
    pthread_cond_t cv;          /* wakes io's back-off and pipeline waits */

    pthread_mutex_t lmu;        /* guards lasterr only */
    char lasterr[SB_DRV_ERR_MAX];  /* libmosquitto's last error line this attempt */

    struct sb_spb_defs *defs;   /* Sparkplug aliases (io thread only) */
    int session;                /* io: this connection got CONNACK 0 */
    int refused;                /* io: CONNACK refusal code of this attempt, 0 = none */
    atomic_int outstanding;     /* QoS >= 1 publishes not yet acknowledged */
    struct {                    /* counters (struct sb_mqtt_stats) */
        atomic_ullong messages, values, bad, unmatched, stalls, dropped;
        atomic_ullong connects, published, commands;
    } st;
};

/* pub.c: publish with the configured QoS, within publish.max_queued (any
 * thread).  Returns 0, SB_EAGAIN, SB_EINVAL, SB_ENOMEM or SB_EIO. */
int  sb_mqtt__publish(struct sb_mqtt *s, const char *topic, const void *body, int len,
                      int retain);

/* pub.c: commands arriving on cmd_filter (io thread). */
void sb_mqtt__command(struct sb_mqtt *s, const char *topic, const void *payload, int len,
                      int retained);

#endif /* SB_MQTT_INT_H */

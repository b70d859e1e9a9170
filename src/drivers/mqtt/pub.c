/* pub.c - what the MQTT driver publishes: readings mirrored on the broker,
 * and the command channel with its replies (see mqtt.h, topic tree in
 * docs/internals/mqtt.md). */
#include <math.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"

#define MOD     "mqtt"
#define SEG_MAX 128             /* bytes of one slug in a topic */
#define TOPIC_BUF (SB_MQTT_PREFIX_MAX + 5 * (SEG_MAX + 1) + 16)

int sb_mqtt__publish(struct sb_mqtt *s, const char *topic, const void *body, int len, int retain)
{
    int rc;
    /* Bound what libmosquitto holds while the broker is away (it queues
     * QoS >= 1 messages without limit); on_publish gives the count back. */
    if (s->conf.qos > 0 && atomic_fetch_add(&s->outstanding, 1) >= s->conf.publish.max_queued) {
        atomic_fetch_sub(&s->outstanding, 1);
        return SB_EAGAIN;
    }
    rc = mosquitto_publish(s->mosq, NULL, topic, len, body, s->conf.qos, retain);
    if (rc != MOSQ_ERR_SUCCESS) {
        if (s->conf.qos > 0)
            atomic_fetch_sub(&s->outstanding, 1);
        return rc == MOSQ_ERR_NO_CONN ? SB_EAGAIN : rc == MOSQ_ERR_NOMEM ? SB_ENOMEM
             : rc == MOSQ_ERR_INVAL || rc == MOSQ_ERR_PAYLOAD_SIZE ? SB_EINVAL : SB_EIO;
    }
    atomic_fetch_add(&s->st.published, 1);
    return 0;
}

/* A slug used as one topic level. */
static int seg_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && n <= SEG_MAX && !strpbrk(s, "/+#") &&
           mosquitto_validate_utf8(s, (int)n) == MOSQ_ERR_SUCCESS;
}

int sb_mqtt_publish_reading(void *state, const struct sb_mqtt_reading *r)
{
    struct sb_mqtt *s = state;
    char topic[TOPIC_BUF], num[40], body[96];
    int len;

    if (!s->conf.publish.enabled)
        return SB_ENOTSUP;
    if (!seg_ok(r->site) || !seg_ok(r->building) || !seg_ok(r->equipment) ||
        !seg_ok(r->point) || strcmp(r->equipment, "cmd") == 0)
        return SB_EINVAL;
    if (!isfinite(r->v))
        return SB_ENAN;
    snprintf(topic, sizeof(topic), "%s/%s/%s/%s/%s", s->conf.publish.prefix, r->site,
             r->building, r->equipment, r->point);
    sb_mqtt_fmt_double(num, sizeof(num), r->v);
    len = snprintf(body, sizeof(body), "{\"t\":%lld,\"v\":%s,\"q\":%u}", (long long)r->t, num,
                   (unsigned)r->q);
    return sb_mqtt__publish(s, topic, body, len, s->conf.publish.retain);
}

/* ---- commands ---------------------------------------------------------------------- */

void sb_mqtt_set_command_handler(void *state, sb_mqtt_cmd_fn fn, void *ud)
{
    struct sb_mqtt *s = state;
    pthread_mutex_lock(&s->mu);
    s->cmd_fn = fn;
    s->cmd_ud = ud;
    pthread_mutex_unlock(&s->mu);
}

/* A JSON string of text, or "?" when text is not UTF-8 (a cut message). */
static json_t *jstr(const char *text)
{
    json_t *j = json_string(text);
    return j ? j : json_string("?");
}

int sb_mqtt_command_reply(void *state, const char *reply_topic, const char *id, int rc,
                          const char *text)
{
    struct sb_mqtt *s = state;
    size_t pl = strlen(s->conf.publish.prefix), n = reply_topic ? strlen(reply_topic) : 0;
    json_t *o;
    char *body;
    int r;

    if (n < pl + 8 || strncmp(reply_topic, s->conf.publish.prefix, pl) != 0 ||
        reply_topic[pl] != '/' || strcmp(reply_topic + n - 7, "/result") != 0 ||
        !sb_mqtt__topic_ok(reply_topic, TOPIC_BUF))
        return SB_EINVAL;
    if (!(o = json_object()))
        return SB_ENOMEM;
    json_object_set_new(o, "ok", json_boolean(rc == 0));
    if (rc == 0 && text)
        json_object_set_new(o, "result", jstr(text));
    if (rc != 0) {
        json_object_set_new(o, "code", json_string(sb_errname(rc)));
        json_object_set_new(o, "error", jstr(text ? text : sb_strerror(rc)));
    }
    if (id)
        json_object_set_new(o, "id", jstr(id));
    body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body)
        return SB_ENOMEM;
    r = sb_mqtt__publish(s, reply_topic, body, (int)strlen(body), 0);
    free(body);
    return r;
}

/* <prefix>/<site>/<building>/cmd/<point>: the subscription filter already
 * fixed the shape; copy the three names out. */
static int cmd_topic(const struct sb_mqtt *s, const char *topic, char names[3][SEG_MAX + 1])
{
    const char *p = topic + strlen(s->conf.publish.prefix) + 1;
    for (int i = 0; i < 4; i++) {
        size_t n = strcspn(p, "/");
        if (i != 2 && (n == 0 || n > SEG_MAX))
            return SB_EINVAL;
        if (i != 2)
            snprintf(names[i < 2 ? i : 2], SEG_MAX + 1, "%.*s", (int)n, p);
        p += n + (p[n] == '/');
    }
    return 0;
}

void sb_mqtt__command(struct sb_mqtt *s, const char *topic, const void *payload, int len,
                      int retained)
{
    char names[3][SEG_MAX + 1], id[SB_MQTT_ID_LEN + 1], reply[TOPIC_BUF], err[SB_DRV_ERR_MAX] = "";
    struct sb_mqtt_cmd c = { .value = NAN };
    sb_mqtt_cmd_fn fn;
    void *ud;
    int rc;

    if (snprintf(reply, sizeof(reply), "%s/result", topic) >= (int)sizeof(reply))
        return;   /* longer than any topic we would answer on */
    if (len == 0)
        return;   /* a retained command being deleted (MQTT 3.1.1 section 3.3.1.3) */
    if (retained) {
        /* A broker replays a retained message on every subscription
         * (MQTT 3.1.1 section 3.3.1.3): never act on one. */
        SB_WARN(MOD, "ignored a retained command on %s", topic);
        sb_mqtt_command_reply(s, reply, NULL, SB_EINVAL, "retained commands are ignored");
        return;
    }
    rc = cmd_topic(s, topic, names);
    if (rc == 0)
        rc = sb_mqtt_cmd_parse(payload, (size_t)len, &c, id, err, sizeof(err));
    if (rc) {
        char what[SB_DRV_ERR_MAX];
        snprintf(what, sizeof(what), "bad command on %.60s: %.80s", topic, err);
        atomic_fetch_add(&s->st.bad, 1);
        sb_drv_count_bad(s->drv, s->key, what);
        SB_WARN(MOD, "%s", what);
        sb_mqtt_command_reply(s, reply, c.id, rc, err);
        return;
    }
    c.site = names[0];
    c.building = names[1];
    c.point = names[2];
    c.reply_topic = reply;
    pthread_mutex_lock(&s->mu);
    fn = s->cmd_fn;
    ud = s->cmd_ud;
    pthread_mutex_unlock(&s->mu);
    if (!fn) {
        sb_mqtt_command_reply(s, reply, c.id, SB_ENOTSUP, "commands are not accepted now");
        return;
    }
    atomic_fetch_add(&s->st.commands, 1);
    if ((rc = fn(ud, &c, err, sizeof(err))) != 0)
        sb_mqtt_command_reply(s, reply, c.id, rc, err[0] ? err : sb_strerror(rc));
}

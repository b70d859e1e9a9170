/* mqtt.c - the MQTT driver: ops table, network thread, connection state and
 * message dispatch (see mqtt.h; design in docs/internals/mqtt.md).
 *
 * Network thread.  libmosquitto 2.0.11's mosquitto_loop_start() thread
 * (mosquitto_loop_forever) gives up for good when the first connection is
 * refused or the host does not resolve (measured: a broker started 3 s
 * after the client was never connected to), and on errors it deems fatal
 * (MOSQ_ERR_EAI when DNS is briefly down, MOSQ_ERR_TLS, MOSQ_ERR_PROTOCOL:
 * lib/loop.c).  So the driver runs mosquitto_loop() on its own thread
 * (mosquitto_threaded_set), with one reconnect policy for every failure:
 * exponential back-off from reconnect_min_ms to reconnect_max_ms,
 * restarted after each session that reached CONNACK, cut short by stop().
 * tests/unit/test_mqtt.c "broker_late" starts the broker after the driver.
 *
 * Back-pressure.  libmosquitto 2.0 queues a QoS 1 PUBACK before calling
 * on_message, but in threaded mode the packet leaves only when this thread
 * returns to mosquitto_loop (lib/packet_mosq.c packet__queue).  When
 * sb_drv_push says SB_EAGAIN the thread therefore waits and retries (1 ms
 * doubling to 100 ms) for as long as the pipeline stays full: the PUBACK
 * is withheld, no further packet is read, and the broker holds the rest of
 * the session's messages (within its max_queued_messages).  A QoS 0
 * message waits at most QOS0_WAIT_MS, then is dropped and counted.  If
 * stop() comes while a QoS 1 message is undelivered, the thread shuts the
 * socket down before returning, so its PUBACK is never sent and the broker
 * delivers it again in the next session (at least once).  (QoS 2 reaches
 * on_message only after libmosquitto has sent PUBREC, so a message held at
 * stop() is lost: QoS 1, the default, is the level this driver is for.)
 */
#include <errno.h>
#include <math.h>
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/spb.h"
#include "store/sample.h"

#define MOD          "mqtt"
#define LOOP_MS      1000      /* mosquitto_loop timeout; bounds how late stop() is seen */
#define QOS0_WAIT_MS 50        /* a QoS 0 message waits this long for the pipeline */
#define WAIT_MAX_MS  100       /* longest pause between two push attempts */
#define MAX_DEFS     200000    /* Sparkplug metric definitions kept */
#define INLINE_VALS  32        /* values of one message held without malloc */
#define MAX_BAD      4         /* bad reports kept per message */

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init(void)
{
    mosquitto_lib_init();   /* process-wide (OpenSSL); never cleaned up before exit */
}

/* ---- small helpers ----------------------------------------------------------------- */

/* Read without the lock: it is checked once per message and per loop turn,
 * and a stale 0 only costs one more turn (stop() also wakes the loop). */
static int stopping(struct sb_mqtt *s)
{
    return atomic_load_explicit(&s->stopping, memory_order_acquire);
}

static void deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait ms or until stop(); returns 1 when stopping.  stalled marks a wait
 * for the pipeline (what stop() is told about). */
static int pause_ms(struct sb_mqtt *s, int ms, int stalled)
{
    struct timespec ts;
    deadline(&ts, ms);
    pthread_mutex_lock(&s->mu);
    s->stalled = stalled;
    while (!stopping(s) && pthread_cond_timedwait(&s->cv, &s->mu, &ts) != ETIMEDOUT)
        ;
    s->stalled = 0;
    int v = stopping(s);
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Cut the connection without sending anything more: the PUBACKs queued
 * for messages not delivered never leave (io thread only). */
static void cut_connection(struct sb_mqtt *s)
{
    int fd = mosquitto_socket(s->mosq);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
}

/* ---- message dispatch -------------------------------------------------------------- */

/* One received message while it is routed to points.  Payload decodings
 * are done at most once, on first need (done = 1). */
struct dispatch {
    struct sb_mqtt *s;
    const struct mosquitto_message *msg;
    const char *topic;          /* topic routed: the message's, or a birth's data topic */
    int birth;                  /* an NBIRTH/DBIRTH: only Sparkplug points take it */
    struct sb_spb_topic spt;    /* the topic as Sparkplug (type NONE if it is not) */

    int doc_done, doc_rc;       /* JSON document */
    json_t *doc;
    const char *doc_why;
    int num_done, num_rc;       /* plain number */
    double num;
    const char *num_why;
    int pb_done, pb_rc;         /* Sparkplug payload */
    sb_spb_payload *pb;
    const char *pb_why;
    const char **mname;         /* per metric: resolved name (NULL unknown) */
    uint32_t *mtype;            /* per metric: datatype (0 unknown) */

    struct sb_drv_value *v;     /* values found */
    size_t nv, cap;
    struct sb_drv_value inl[INLINE_VALS];
    char bad[MAX_BAD][SB_DRV_ERR_MAX];   /* bad reports, sent after the lock */
    size_t nbad;
    int filter_bad;             /* the current filter already has a bad report */
};

static int add_value(struct dispatch *d, uint32_t id, double v, int64_t t, uint16_t q)
{
    if (d->nv == d->cap) {
        size_t nc = d->cap * 2;
        struct sb_drv_value *nvv = malloc(nc * sizeof(*nvv));
        if (!nvv)
            return SB_ENOMEM;
        memcpy(nvv, d->v, d->nv * sizeof(*nvv));
        if (d->v != d->inl)
            free(d->v);
        d->v = nvv;
        d->cap = nc;
    }
    d->v[d->nv++] = (struct sb_drv_value){ .point = id, .v = v, .t = t, .q = q };
    return 0;
}

static int payload_size_ok(struct dispatch *d, const char **why)
{
    if (d->msg->payloadlen > d->s->conf.max_payload) {
        *why = "payload larger than max_payload";
        return SB_ERANGE;
    }
    return 0;
}

static int need_doc(struct dispatch *d, const char **why)
{
    if (!d->doc_done) {
        d->doc_done = 1;
        d->doc_rc = payload_size_ok(d, &d->doc_why);
        if (d->doc_rc == 0)
            d->doc_rc = sb_mqtt_json_load(d->msg->payload, (size_t)d->msg->payloadlen,
                                          (size_t)d->s->conf.max_payload, &d->doc, &d->doc_why);
    }
    *why = d->doc_why;
    return d->doc_rc;
}

static int need_num(struct dispatch *d, const char **why)
{
    if (!d->num_done) {
        d->num_done = 1;
        d->num_rc = sb_mqtt_number_parse(d->msg->payload, (size_t)d->msg->payloadlen, &d->num,
                                         &d->num_why);
    }
    *why = d->num_why;
    return d->num_rc;
}

static int need_pb(struct dispatch *d, const char **why)
{
    if (!d->pb_done) {
        d->pb_done = 1;
        d->pb_rc = payload_size_ok(d, &d->pb_why);
        if (d->pb_rc == 0)
            d->pb_rc = sb_spb_decode(d->msg->payload, (size_t)d->msg->payloadlen, &d->pb,
                                     &d->pb_why);
        if (d->pb_rc == 0 && d->pb->n_metrics) {
            d->mname = calloc(d->pb->n_metrics, sizeof(*d->mname));
            d->mtype = calloc(d->pb->n_metrics, sizeof(*d->mtype));
            if (!d->mname || !d->mtype) {
                d->pb_rc = SB_ENOMEM;
                d->pb_why = "out of memory";
            }
            for (size_t i = 0; d->pb_rc == 0 && i < d->pb->n_metrics; i++)
                d->mname[i] = sb_spb_defs_resolve(d->s->defs, &d->spt, d->pb->metrics[i],
                                                  &d->mtype[i]);
        }
    }
    *why = d->pb_why;
    return d->pb_rc;
}

static int take_json(struct dispatch *d, const struct sb_mqtt_bound *b, const char **why)
{
    const struct sb_mqtt_addr *a = b->a;
    const json_t *j;
    double v;
    int64_t t = 0;
    int rc;

    if ((rc = need_doc(d, why)) || (rc = sb_mqtt_path_get(d->doc, a->field, &j, why)) ||
        (rc = sb_mqtt_json_number(j, &v, why)))
        return rc;
    if (a->time_field) {
        rc = sb_mqtt_path_get(d->doc, a->time_field, &j, why);
        if (rc == SB_ENOENT)
            *why = "time field missing";
        if (rc || (rc = sb_mqtt_json_time(j, &t, why)))
            return rc;
    }
    /* A retained message replayed on subscribing is old by an unknown
     * amount: without a source time it is flagged stale, not passed as now. */
    return add_value(d, b->id, v, t, !a->time_field && d->msg->retain ? SB_Q_STALE : 0);
}

static int take_number(struct dispatch *d, const struct sb_mqtt_bound *b, const char **why)
{
    int rc = need_num(d, why);
    return rc ? rc : add_value(d, b->id, d->num, 0, d->msg->retain ? SB_Q_STALE : 0);
}

static int metric_is(const struct dispatch *d, size_t i, const struct sb_mqtt_addr *a)
{
    const sb_spb_metric *m = d->pb->metrics[i];
    if (a->has_alias && m->has_alias && m->alias == a->alias)
        return 1;
    return a->metric && d->mname[i] && strcmp(d->mname[i], a->metric) == 0;
}

/* Every occurrence of the metric (a payload may carry several values of
 * one metric, e.g. historical ones).  None is not an error: DATA messages
 * carry only the metrics that changed (report by exception). */
static int take_sparkplug(struct dispatch *d, const struct sb_mqtt_bound *b, const char **why)
{
    int rc = need_pb(d, why);
    for (size_t i = 0; rc == 0 && i < d->pb->n_metrics; i++) {
        const sb_spb_metric *m = d->pb->metrics[i];
        double v;
        int64_t t;
        if (!metric_is(d, i, b->a))
            continue;
        rc = sb_spb_metric_value(m, d->mtype[i], &v, why);
        if (rc == SB_ENOENT) {     /* is_null: no reading, not malformed */
            rc = 0;
            continue;
        }
        if (rc == 0 && (rc = sb_spb_metric_time(d->pb, m, &t)))
            *why = "metric timestamp out of range";
        if (rc == 0)
            rc = add_value(d, b->id, v, t, sb_spb_metric_quality(m));
    }
    return rc;
}

static const char *selector(const struct sb_mqtt_addr *a)
{
    if (a->fmt == SB_MQTT_FMT_JSON)
        return a->field;
    if (a->fmt == SB_MQTT_FMT_SPARKPLUG)
        return a->metric ? a->metric : "(alias)";
    return "number";
}

/* Keep a report (one per filter and message) for after the lock. */
static void note_bad(struct dispatch *d, const char *sel, const char *why)
{
    if (d->filter_bad || d->nbad == MAX_BAD)
        return;
    d->filter_bad = 1;
    snprintf(d->bad[d->nbad++], SB_DRV_ERR_MAX, "bad payload on %.80s (%.40s): %s",
             d->msg->topic, sel, why ? why : "?");
}

/* Route callback: take the values of every point on filter f. */
static void on_filter(void *ud, struct sb_mqtt_filter *f)
{
    struct dispatch *d = ud;
    d->filter_bad = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct sb_mqtt_bound *b = &f->pts[i];
        const char *why = NULL;
        int rc;
        if (d->birth && b->a->fmt != SB_MQTT_FMT_SPARKPLUG)
            continue;
        switch (b->a->fmt) {
        case SB_MQTT_FMT_JSON:      rc = take_json(d, b, &why); break;
        case SB_MQTT_FMT_SPARKPLUG: rc = take_sparkplug(d, b, &why); break;
        default:                    rc = take_number(d, b, &why); break;
        }
        if (rc)
            note_bad(d, selector(b->a), why);
    }
}

/* NBIRTH/DBIRTH: learn the aliases, then route the birth's values as if
 * they came on the matching DATA topic (a birth carries every metric's
 * current value).  Returns 1 when the message is to be routed. */
static int birth(struct dispatch *d, char *data_topic, size_t cap)
{
    const char *why;
    if (d->spt.type != SB_SPB_NBIRTH && d->spt.type != SB_SPB_DBIRTH)
        return 1;
    /* Births name every metric, so need_pb's alias resolution, done
     * before learning, already has the names it needs. */
    if (need_pb(d, &why)) {
        note_bad(d, "birth", why);
        return 0;
    }
    int rc = sb_spb_defs_learn(d->s->defs, &d->spt, d->pb);
    if (rc)
        SB_WARN(MOD, "Sparkplug aliases of %s not all learned: %s", d->msg->topic, sb_strerror(rc));
    if (sb_spb_data_topic(&d->spt, data_topic, cap))
        return 0;
    d->topic = data_topic;
    d->birth = 1;
    return 1;
}

static void dispatch_release(struct dispatch *d)
{
    json_decref(d->doc);
    sb_spb_free(d->pb);
    free(d->mname);
    free(d->mtype);
    if (d->v != d->inl)
        free(d->v);
}

/* Hand values to the framework; see "Back-pressure" at the top.  One value
 * per call: SB_EAGAIN does not say how many of a batch the framework took
 * (manager.c may queue a prefix and drop the rest), so retrying a batch
 * could store a value twice. */
static void deliver(struct sb_mqtt *s, const struct sb_drv_value *v, size_t n,
                    const struct mosquitto_message *msg)
{
    size_t i = 0, ok = 0;
    int rc = 0, fail = 0, waited = 0, step = 1, stop = 0;

    while (i < n) {
        rc = sb_drv_push(s->drv, &v[i], 1);
        if (rc != SB_EAGAIN) {
            ok += rc == 0;
            fail = rc ? rc : fail;
            i++;
            continue;
        }
        if (waited == 0) {
            atomic_fetch_add(&s->st.stalls, 1);
            if (msg->qos > 0)
                SB_WARN(MOD, "pipeline full: holding a QoS %d message on %s unacknowledged "
                        "until there is room", msg->qos, msg->topic);
        }
        if ((msg->qos == 0 && waited >= QOS0_WAIT_MS) || (stop = pause_ms(s, step, 1)))
            break;
        waited += step;
        step = step * 2 > WAIT_MAX_MS ? WAIT_MAX_MS : step * 2;
    }
    atomic_fetch_add(&s->st.values, ok);
    if (ok == n)
        return;
    atomic_fetch_add(&s->st.dropped, n - ok);
    if (stop && msg->qos > 0) {
        cut_connection(s);
        SB_INFO(MOD, "stopping: QoS %d message on %s left unacknowledged; the broker keeps "
                "it for the next session", msg->qos, msg->topic);
    } else {
        SB_WARN(MOD, "dropped %zu values from %s: %s", n - ok, msg->topic,
                i < n ? "pipeline full (QoS 0)" : sb_strerror(fail));
    }
}

static void report_bad(struct sb_mqtt *s, struct dispatch *d)
{
    for (size_t i = 0; i < d->nbad; i++) {
        atomic_fetch_add(&s->st.bad, 1);
        sb_drv_count_bad(s->drv, s->key, d->bad[i]);
        SB_WARN(MOD, "%s", d->bad[i]);   /* rate-limited per call site (core/log.h) */
    }
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
    struct sb_mqtt *s = obj;
    struct dispatch d = { .s = s, .msg = msg, .topic = msg->topic, .cap = INLINE_VALS };
    char data_topic[SB_SPB_TOPIC_MAX];
    bool is_cmd = false;

    (void)m;
    d.v = d.inl;
    atomic_fetch_add(&s->st.messages, 1);
    if (stopping(s)) {
        /* Not delivered, so not to be acknowledged (see deliver()). */
        if (msg->qos > 0)
            cut_connection(s);
        return;
    }
    if (s->conf.commands.enabled &&
        mosquitto_topic_matches_sub(s->cmd_filter, msg->topic, &is_cmd) == MOSQ_ERR_SUCCESS &&
        is_cmd) {
        sb_mqtt__command(s, msg->topic, msg->payload, msg->payloadlen, msg->retain);
        return;
    }
    sb_spb_topic_parse(msg->topic, &d.spt);
    int route = birth(&d, data_topic, sizeof(data_topic));   /* io-thread state only */
    pthread_mutex_lock(&s->mu);
    if (route)
        sb_mqtt__route_match(&s->rt, d.topic, on_filter, &d);
    pthread_mutex_unlock(&s->mu);
    report_bad(s, &d);
    if (d.nv)
        deliver(s, d.v, d.nv, msg);
    else if (!d.nbad)
        atomic_fetch_add(&s->st.unmatched, 1);
    dispatch_release(&d);
}

/* ---- connection -------------------------------------------------------------------- */

static void subscribe_one(void *ud, struct sb_mqtt_filter *f)
{
    struct sb_mqtt *s = ud;
    int rc = mosquitto_subscribe(s->mosq, &f->sub_mid, f->topic, s->conf.qos);
    if (rc != MOSQ_ERR_SUCCESS)
        SB_WARN(MOD, "subscribe %s: %s", f->topic, mosquitto_strerror(rc));
}

static void on_connect(struct mosquitto *m, void *obj, int rc, int flags)
{
    struct sb_mqtt *s = obj;
    (void)m;
    if (rc != 0) {
        /* The broker answered CONNACK with a refusal; io_main reports it. */
        s->refused = rc;
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->connected = 1;
    s->session = 1;
    /* Subscribe every filter on every connection: a broker that lost the
     * session (restart without persistence, clean_session) has none. */
    sb_mqtt__route_each(&s->rt, subscribe_one, s);
    /* Commands at QoS 0: a broker keeps no QoS 0 message for a session
     * that is away (mosquitto's queue_qos0_messages is off by default), so
     * a command sent while sbems is down is not carried out hours later;
     * the sender sees no reply and decides again. */
    if (s->conf.commands.enabled &&
        mosquitto_subscribe(s->mosq, &s->cmd_mid, s->cmd_filter, 0) != MOSQ_ERR_SUCCESS)
        SB_WARN(MOD, "subscribe %s failed", s->cmd_filter);
    size_t nf = s->rt.n;
    pthread_mutex_unlock(&s->mu);
    atomic_fetch_add(&s->st.connects, 1);
    SB_INFO(MOD, "connected to %s:%d as %s (%s session), %zu topic filters", s->conf.host,
            s->conf.port, s->conf.client_id, flags & 1 ? "resumed" : "new", nf);
    sb_drv_device_state(s->drv, s->key, 1, NULL);
}

static const char *no_stop(const char *msg, char *buf, size_t cap);

static void on_disconnect(struct mosquitto *m, void *obj, int rc)
{
    struct sb_mqtt *s = obj;
    (void)m;
    pthread_mutex_lock(&s->mu);
    int was = s->connected;
    s->connected = 0;
    pthread_mutex_unlock(&s->mu);
    if (rc != 0 && was) {
        char a[96];
        SB_WARN(MOD, "connection to %s:%d lost: %s", s->conf.host, s->conf.port,
                no_stop(mosquitto_strerror(rc), a, sizeof(a)));
        sb_drv_device_state(s->drv, s->key, 0, "connection to the broker lost");
    }
}

struct find_mid {
    int mid;                    /* SUBSCRIBE message id */
    const char *topic;          /* the filter found */
};

static void find_mid(void *ud, struct sb_mqtt_filter *f)
{
    struct find_mid *fm = ud;
    if (f->sub_mid == fm->mid)
        fm->topic = f->topic;
}

/* SUBACK: a granted QoS of 0x80 is a refusal (MQTT 3.1.1 section 3.9.3),
 * usually the broker's ACL. */
static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted)
{
    struct sb_mqtt *s = obj;
    struct find_mid fm = { .mid = mid };
    char why[SB_DRV_ERR_MAX];
    (void)m;
    if (n < 1 || granted[0] < 0x80)
        return;
    pthread_mutex_lock(&s->mu);
    sb_mqtt__route_each(&s->rt, find_mid, &fm);
    snprintf(why, sizeof(why), "broker refused the subscription to %.120s",
             fm.topic ? fm.topic : mid == s->cmd_mid ? s->cmd_filter : "?");
    pthread_mutex_unlock(&s->mu);
    SB_WARN(MOD, "%s (ACL?)", why);
    sb_drv_device_state(s->drv, s->key, 0, why);
}

static void on_publish(struct mosquitto *m, void *obj, int mid)
{
    struct sb_mqtt *s = obj;
    (void)m;
    (void)mid;
    if (s->conf.qos > 0)
        atomic_fetch_sub(&s->outstanding, 1);
}

/* libmosquitto's own error lines say what a bare "connection lost" does
 * not (a TLS alert, a certificate problem): the last one is kept for the
 * failure text.  Its own mutex: libmosquitto may log while mu is held. */
static void on_log(struct mosquitto *m, void *obj, int level, const char *str)
{
    struct sb_mqtt *s = obj;
    (void)m;
    if (!(level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)))
        return;
    SB_DEBUG(MOD, "libmosquitto: %s", str);
    if (level & MOSQ_LOG_ERR) {
        pthread_mutex_lock(&s->lmu);
        snprintf(s->lasterr, sizeof(s->lasterr), "%s", str);
        pthread_mutex_unlock(&s->lmu);
    }
}

/* mosquitto_strerror and mosquitto_connack_string end in a full stop. */
static const char *no_stop(const char *msg, char *buf, size_t cap)
{
    size_t n = strlen(msg);
    snprintf(buf, cap, "%.*s", (int)(n && msg[n - 1] == '.' ? n - 1 : n), msg);
    return buf;
}

/* Why the last attempt ended, for the log and the device state. */
static void failure_text(struct sb_mqtt *s, int rc, int err_no, char *buf, size_t cap)
{
    char a[96], detail[SB_DRV_ERR_MAX] = "";
    pthread_mutex_lock(&s->lmu);
    if (s->lasterr[0])
        snprintf(detail, sizeof(detail), " (%.150s)", s->lasterr);
    pthread_mutex_unlock(&s->lmu);
    if (s->refused) {
        snprintf(buf, cap, "broker refused the connection: %s",
                 no_stop(mosquitto_connack_string(s->refused), a, sizeof(a)));
        return;
    }
    snprintf(buf, cap, "cannot connect: %s",
             rc == MOSQ_ERR_ERRNO ? strerror(err_no) : no_stop(mosquitto_strerror(rc), a, sizeof(a)));
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s", detail);   /* cut to what fits */
}

/* One connection attempt and the session that follows, until it ends. */
static int run_session(struct sb_mqtt *s, int *err_no)
{
    int rc;
    s->session = 0;
    s->refused = 0;
    pthread_mutex_lock(&s->lmu);
    s->lasterr[0] = '\0';
    pthread_mutex_unlock(&s->lmu);
    errno = 0;
    rc = mosquitto_connect_async(s->mosq, s->conf.host, s->conf.port, s->conf.keepalive);
    *err_no = errno;
    while (rc == MOSQ_ERR_SUCCESS && !stopping(s)) {
        rc = mosquitto_loop(s->mosq, LOOP_MS, 1);
        *err_no = errno;
    }
    return rc;
}

static void *io_main(void *arg)
{
    struct sb_mqtt *s = arg;
    int delay = s->conf.reconnect_min_ms, err_no;
    char why[SB_DRV_ERR_MAX];

    while (!stopping(s)) {
        int rc = run_session(s, &err_no);
        if (stopping(s))
            break;
        if (s->session) {
            delay = s->conf.reconnect_min_ms;   /* a session happened: start over */
        } else {
            failure_text(s, rc, err_no, why, sizeof(why));
            SB_WARN(MOD, "%s:%d: %s; retrying in %d ms", s->conf.host, s->conf.port, why, delay);
            sb_drv_device_state(s->drv, s->key, 0, why);
        }
        if (pause_ms(s, delay, 0))
            break;
        if (!s->session)
            delay = delay > s->conf.reconnect_max_ms / 2 ? s->conf.reconnect_max_ms : delay * 2;
    }
    /* Send DISCONNECT (queued by stop) unless the socket was cut. */
    for (int i = 0; i < 3 && mosquitto_loop(s->mosq, 100, 1) == MOSQ_ERR_SUCCESS; i++)
        ;
    return NULL;
}

/* ---- driver ops -------------------------------------------------------------------- */

static int client_tls(struct sb_mqtt *s, char *err, size_t errlen)
{
    const struct sb_mqtt_conf *c = &s->conf;
    struct stat st;
    const char *cafile = NULL, *capath = NULL;
    int rc;

    if (!c->tls.enabled)
        return 0;
    if (c->tls.ca && stat(c->tls.ca, &st) == 0 && S_ISDIR(st.st_mode))
        capath = c->tls.ca;
    else if (c->tls.ca)
        cafile = c->tls.ca;
    else
        capath = "/etc/ssl/certs";    /* the system's trust store */
    rc = mosquitto_tls_set(s->mosq, cafile, capath, c->tls.cert, c->tls.key, NULL);
    if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_tls_insecure_set(s->mosq, c->tls.insecure);
    if (rc != MOSQ_ERR_SUCCESS) {
        sb_errf(err, errlen, "mqtt.tls: %s", mosquitto_strerror(rc));
        return SB_ECONFIG;
    }
    if (c->tls.insecure)
        SB_WARN(MOD, "mqtt.tls.insecure: the broker's certificate name is not checked");
    return 0;
}

static int client_new(struct sb_mqtt *s, char *err, size_t errlen)
{
    const struct sb_mqtt_conf *c = &s->conf;
    int rc;

    pthread_once(&lib_once, lib_init);
    s->mosq = mosquitto_new(c->client_id, c->clean_session, s);
    if (!s->mosq) {
        sb_errf(err, errlen, "mqtt: cannot create the client: %s", strerror(errno));
        return errno == ENOMEM ? SB_ENOMEM : SB_ECONFIG;
    }
    mosquitto_threaded_set(s->mosq, true);
    mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (c->username &&
        (rc = mosquitto_username_pw_set(s->mosq, c->username, c->password)) != MOSQ_ERR_SUCCESS) {
        sb_errf(err, errlen, "mqtt.username: %s", mosquitto_strerror(rc));
        return SB_ECONFIG;
    }
    if ((rc = client_tls(s, err, errlen)))
        return rc;
    mosquitto_connect_with_flags_callback_set(s->mosq, on_connect);
    mosquitto_disconnect_callback_set(s->mosq, on_disconnect);
    mosquitto_message_callback_set(s->mosq, on_message);
    mosquitto_subscribe_callback_set(s->mosq, on_subscribe);
    mosquitto_publish_callback_set(s->mosq, on_publish);
    mosquitto_log_callback_set(s->mosq, on_log);
    return 0;
}

static void mqtt_free(void *state);

static int state_new(struct sb_mqtt **out)
{
    struct sb_mqtt *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;
    if (!s)
        return SB_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->lmu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = s;
    return 0;
}

static int mqtt_init(struct sb_drv *drv, const json_t *conf, void **state, char *err,
                     size_t errlen)
{
    struct sb_mqtt *s;
    int rc = state_new(&s);

    if (rc) {
        sb_errf(err, errlen, "mqtt: out of memory");
        return rc;
    }
    s->drv = drv;
    if ((rc = sb_mqtt__conf_parse(conf, &s->conf, err, errlen)))
        goto out;
    /* IPv6 literals in brackets, so the key reads host:port either way. */
    snprintf(s->key, sizeof(s->key), strchr(s->conf.host, ':') ? "mqtt:[%s]:%d" : "mqtt:%s:%d",
             s->conf.host, s->conf.port);
    snprintf(s->cmd_filter, sizeof(s->cmd_filter), "%s/+/+/cmd/+", s->conf.publish.prefix);
    if ((rc = sb_spb_defs_new(MAX_DEFS, &s->defs))) {
        sb_errf(err, errlen, "mqtt: out of memory");
        goto out;
    }
    rc = client_new(s, err, errlen);
out:
    if (rc) {
        mqtt_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* The filters a point uses: its own, and the birth topics its Sparkplug
 * aliases come from. */
_Static_assert(SB_MQTT_TOPIC_MAX < SB_SPB_TOPIC_MAX, "a point's filter fits a filter buffer");

static int point_filters(const struct sb_mqtt_addr *a, char out[3][SB_SPB_TOPIC_MAX])
{
    snprintf(out[0], SB_SPB_TOPIC_MAX, "%s", a->topic);
    if (a->fmt != SB_MQTT_FMT_SPARKPLUG || strlen(a->topic) >= SB_SPB_TOPIC_MAX)
        return 1;
    return 1 + sb_spb_birth_filters(a->topic, out + 1);
}

static void unroute(struct sb_mqtt *s, const struct sb_drv_point *pt, char f[3][SB_SPB_TOPIC_MAX],
                    int n)
{
    for (int i = 0; i < n; i++)
        if (sb_mqtt__route_del(&s->rt, f[i], i == 0 ? pt : NULL) && s->connected)
            mosquitto_unsubscribe(s->mosq, NULL, f[i]);
}

static int mqtt_bind(void *state, struct sb_drv_point *pt, char *key, size_t keycap, char *err,
                     size_t errlen)
{
    struct sb_mqtt *s = state;
    struct sb_mqtt_addr *a;
    char f[3][SB_SPB_TOPIC_MAX];
    int rc = sb_mqtt__addr_parse(pt->address, pt->address_json, &a, err, errlen), n, i;

    if (rc)
        return rc;
    struct sb_mqtt_bound b = { .pt = pt, .a = a, .id = pt->id };
    n = point_filters(a, f);
    pthread_mutex_lock(&s->mu);
    for (i = 0, rc = 0; i < n && rc == 0; i++) {
        struct sb_mqtt_filter *created;
        rc = sb_mqtt__route_add(&s->rt, f[i], i == 0 ? &b : NULL, &created);
        if (rc == 0 && created && s->connected)
            subscribe_one(s, created);
    }
    if (rc)
        unroute(s, pt, f, i - 1);
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        sb_mqtt__addr_free(a);
        sb_errf(err, errlen, "out of memory");
        return rc;
    }
    pt->addr = a;
    snprintf(key, keycap, "%s", s->key);
    return 0;
}

static void mqtt_unbind(void *state, struct sb_drv_point *pt)
{
    struct sb_mqtt *s = state;
    struct sb_mqtt_addr *a = pt->addr;
    char f[3][SB_SPB_TOPIC_MAX];

    if (!a)
        return;
    pthread_mutex_lock(&s->mu);
    unroute(s, pt, f, point_filters(a, f));
    pthread_mutex_unlock(&s->mu);
    sb_mqtt__addr_free(a);
    pt->addr = NULL;
}

static int mqtt_start(void *state)
{
    struct sb_mqtt *s = state;
    if (s->running)
        return 0;
    atomic_store(&s->stopping, 0);
    if (pthread_create(&s->io, NULL, io_main, s) != 0)
        return SB_ENOMEM;
    s->running = 1;
    return 0;
}

static void mqtt_stop(void *state)
{
    struct sb_mqtt *s = state;
    if (!s->running)
        return;
    pthread_mutex_lock(&s->mu);      /* under mu: a waiter cannot miss the wake-up */
    atomic_store(&s->stopping, 1);
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    mosquitto_disconnect(s->mosq);   /* wakes mosquitto_loop; sent by io_main's last loop */
    pthread_join(s->io, NULL);
    s->running = 0;
    pthread_mutex_lock(&s->mu);
    s->connected = 0;
    pthread_mutex_unlock(&s->mu);
}

static int mqtt_write(void *state, const char *key, struct sb_drv_write *w, int64_t timeout_ms)
{
    struct sb_mqtt *s = state;
    const struct sb_mqtt_addr *a = w->pt->addr;
    char num[40], body[96];
    int rc, len;

    (void)key;
    (void)timeout_ms;
    if (!a || !a->command_topic) {
        snprintf(w->err, sizeof(w->err), "the point's address has no command_topic");
        return SB_EINVAL;
    }
    if (!w->relinquish && !isfinite(w->value)) {
        snprintf(w->err, sizeof(w->err), "value is not finite");
        return SB_EINVAL;
    }
    if (w->relinquish && a->cmd_fmt == SB_MQTT_CMD_NUMBER) {
        snprintf(w->err, sizeof(w->err), "relinquish needs command_format json");
        return SB_ENOTSUP;
    }
    sb_mqtt_fmt_double(num, sizeof(num), w->value);
    if (a->cmd_fmt == SB_MQTT_CMD_NUMBER)
        len = snprintf(body, sizeof(body), "%s", num);
    else if (w->priority > 0)
        len = snprintf(body, sizeof(body), "{\"value\":%s,\"priority\":%d}",
                       w->relinquish ? "null" : num, w->priority);
    else
        len = snprintf(body, sizeof(body), "{\"value\":%s}", w->relinquish ? "null" : num);
    /* Not connected: refuse rather than let libmosquitto queue a setpoint
     * that would reach the device whenever the broker comes back. */
    pthread_mutex_lock(&s->mu);
    int up = s->connected;
    pthread_mutex_unlock(&s->mu);
    if (!up) {
        snprintf(w->err, sizeof(w->err), "not connected to the broker");
        return SB_EIO;
    }
    if ((rc = sb_mqtt__publish(s, a->command_topic, body, len, a->cmd_retain))) {
        snprintf(w->err, sizeof(w->err), "publish: %s", sb_strerror(rc));
        return rc == SB_EINVAL ? SB_EINVAL : SB_EIO;
    }
    return 0;
}

static void mqtt_free(void *state)
{
    struct sb_mqtt *s = state;
    if (!s)
        return;
    mqtt_stop(s);
    if (s->mosq)
        mosquitto_destroy(s->mosq);
    sb_mqtt__route_release(&s->rt);
    sb_spb_defs_free(s->defs);
    sb_mqtt__conf_release(&s->conf);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->lmu);
    free(s);
}

void sb_mqtt_get_stats(void *state, struct sb_mqtt_stats *st)
{
    struct sb_mqtt *s = state;
    *st = (struct sb_mqtt_stats){
        .messages = atomic_load(&s->st.messages), .values = atomic_load(&s->st.values),
        .bad = atomic_load(&s->st.bad), .unmatched = atomic_load(&s->st.unmatched),
        .stalls = atomic_load(&s->st.stalls), .dropped = atomic_load(&s->st.dropped),
        .connects = atomic_load(&s->st.connects), .published = atomic_load(&s->st.published),
        .commands = atomic_load(&s->st.commands),
    };
}

const struct sb_driver_ops sb_driver_mqtt = {
    .name = "mqtt",
    .flags = SB_DRV_PUSH | SB_DRV_WRITES,
    .init = mqtt_init,
    .bind = mqtt_bind,
    .unbind = mqtt_unbind,
    .start = mqtt_start,
    .stop = mqtt_stop,
    .write = mqtt_write,
    .free = mqtt_free,
};

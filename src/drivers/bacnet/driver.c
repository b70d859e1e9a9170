/*
 * driver.c - the BACnet/IP driver: configuration, point addresses, device
 * address resolution (configuration, point address, Who-Is/I-Am), the
 * stack's handlers, and the framework's ops.  Reading, writing and COV are
 * in read.c, write.c and cov.c; docs/internals/bacnet-driver.md.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "drivers/bacnet/bacnet.h"
#include "drivers/bacnet/discover.h"
#include "drivers/bacnet/names.h"
#include "drivers/manager.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/server/server.h"
#include "core/timefmt.h"

#define WHOIS_EVERY_MS 5000  /* directed Who-Is for a silent device, at most */

/* ---- devices -------------------------------------------------------------------- */

struct bdev *sb_bacd_dev_by_key(struct bacdrv *b, const char *key)
{
    for (struct bdev *d = b->devs; d; d = d->next)
        if (strcmp(d->key, key) == 0)
            return d;
    return NULL;
}

struct bdev *sb_bacd_dev_by_inst(struct bacdrv *b, uint32_t inst)
{
    for (struct bdev *d = b->devs; d; d = d->next)
        if (d->inst == inst)
            return d;
    return NULL;
}

/* "ip[:port]" or "ip[:port]/net:mac-hex" (a station behind a router). */
static int parse_station(const char *s, struct sb_bac_peer *out)
{
    char head[96];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n >= sizeof(head))
        return SB_EINVAL;
    memcpy(head, s, n);
    head[n] = 0;
    if (sb_bac_peer_parse(head, out) < 0)
        return SB_EINVAL;
    if (!slash)
        return 0;
    char *end;
    unsigned long net = strtoul(slash + 1, &end, 10);
    if (*end != ':' || net == 0 || net >= 0xFFFF)
        return SB_EINVAL;
    const char *h = end + 1;
    size_t hl = strlen(h);
    if (hl == 0 || hl % 2 || hl / 2 > SB_BAC_MAX_MAC)
        return SB_EINVAL;
    for (size_t i = 0; i < hl / 2; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return SB_EINVAL;
        out->addr.mac[i] = (uint8_t)v;
    }
    out->addr.net = (uint16_t)net;
    out->addr.len = (uint8_t)(hl / 2);
    return 0;
}

/* The seen-table slot for inst (binary search); *found tells. */
static size_t seen_at(const struct bacdrv *b, uint32_t inst, bool *found)
{
    size_t lo = 0, hi = b->nseen;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (b->seen[mid].inst < inst)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < b->nseen && b->seen[lo].inst == inst;
    return lo;
}

static void seen_put(struct bacdrv *b, const struct seen *sn)
{
    bool found;
    size_t at = seen_at(b, sn->inst, &found);
    if (found) {
        b->seen[at] = *sn;
        return;
    }
    if (b->nseen == BAC_SEEN_MAX)
        return;                      /* a bounded memory of the network */
    if (b->nseen == b->capseen) {
        size_t c = b->capseen ? b->capseen * 2 : 64;
        struct seen *n = realloc(b->seen, c * sizeof(*n));
        if (!n)
            return;
        b->seen = n;
        b->capseen = c;
    }
    memmove(&b->seen[at + 1], &b->seen[at], (b->nseen - at) * sizeof(*b->seen));
    b->seen[at] = *sn;
    b->nseen++;
}

static struct bdev *dev_get(struct bacdrv *b, uint32_t inst)
{
    struct bdev *d = sb_bacd_dev_by_inst(b, inst);
    if (d)
        return d;
    if (!(d = calloc(1, sizeof(*d))))
        return NULL;
    d->inst = inst;
    snprintf(d->key, sizeof(d->key), "bacnet:%u", inst);
    d->max_apdu = 1476;
    d->seg = SB_BAC_SEG_NONE;
    char k[16];
    snprintf(k, sizeof(k), "%u", inst);
    const char *a = json_string_value(json_object_get(b->conf_devices, k));
    bool found;
    size_t at = seen_at(b, inst, &found);
    if (a && parse_station(a, &d->peer) == 0) {
        d->known = d->fixed = true;
    } else if (found) {
        d->peer = b->seen[at].peer;
        d->max_apdu = b->seen[at].max_apdu;
        d->seg = b->seen[at].seg;
        d->vendor = b->seen[at].vendor;
        d->known = true;
    }
    d->next = b->devs;
    b->devs = d;
    return d;
}

void sb_bacd_whois(struct bacdrv *b, struct bdev *d)
{
    struct sb_bac_whois w = { .has_range = true, .low = d->inst, .high = d->inst };
    uint8_t body[16];
    uint64_t now = uv_now(b->loop);
    ssize_t k;
    size_t i;
    json_t *t;

    if (!b->st || (d->whois_at && now - d->whois_at < WHOIS_EVERY_MS))
        return;
    d->whois_at = now;
    if ((k = sb_bac_enc_whois(body, sizeof(body), &w)) < 0)
        return;
    json_array_foreach(b->whois, i, t) {
        struct sb_bac_peer p;
        if (parse_station(json_string_value(t), &p) == 0)
            sb_bac_unconfirmed(b->st, &p, 0, SB_BAC_SVC_WHO_IS, body, (size_t)k);
    }
    sb_bac_unconfirmed(b->st, NULL, 0, SB_BAC_SVC_WHO_IS, body, (size_t)k);
}

/* ---- the stack's handlers ----------------------------------------------------------- */

static void on_iam(struct bacdrv *b, const struct sb_bac_peer *from, const uint8_t *body, size_t len)
{
    struct sb_bac_iam iam;
    struct bdev *d;

    if (sb_bac_dec_iam(body, len, &iam) < 0) {
        sb_drv_count_bad(b->drv, "bacnet", "malformed I-Am");
        return;
    }
    sb_bac_stack_learn(b->st, from, (uint16_t)(iam.max_apdu > 1476 ? 1476 : iam.max_apdu),
                       iam.segmentation);
    seen_put(b, &(struct seen){ .inst = iam.device.instance, .peer = *from,
                                .max_apdu = (uint16_t)(iam.max_apdu > 1476 ? 1476 : iam.max_apdu),
                                .seg = iam.segmentation, .vendor = iam.vendor_id });
    if ((d = sb_bacd_dev_by_inst(b, iam.device.instance)) && !d->fixed) {
        char a[96];
        if (!d->known || !sb_bac_peer_eq(&d->peer, from))
            SB_INFO("bacnet", "device %u is at %s (max APDU %u, vendor %u)", d->inst,
                    sb_bac_peer_str(from, a, sizeof(a)), iam.max_apdu, iam.vendor_id);
        d->peer = *from;
        d->known = true;
    }
    if (d) {
        d->max_apdu = (uint16_t)(iam.max_apdu > 1476 ? 1476 : iam.max_apdu);
        d->seg = iam.segmentation;
        d->vendor = iam.vendor_id;
        if (d->fixed)
            sb_bac_stack_learn(b->st, &d->peer, d->max_apdu, d->seg);
    }
}

/* sbems's own device's COV notifications (expose.c) */
static void srv_send(void *ud, const struct sb_bac_peer *to, int confirmed, uint8_t service,
                     const uint8_t *body, size_t len)
{
    struct bacdrv *b = ud;
    if (!b->st)
        return;
    if (confirmed)
        sb_bac_request(b->st, to, service, body, len, NULL, NULL);
    else
        sb_bac_unconfirmed(b->st, to, 0, service, body, len);
}

void sb_bacd_serve(struct bacdrv *b, struct sb_bac_srv *srv)
{
    if (b->srv)
        sb_bac_srv_set_sender(b->srv, NULL, NULL);
    b->srv = srv;
    if (srv)
        sb_bac_srv_set_sender(srv, srv_send, b);
}

static void on_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                           const uint8_t *body, size_t len)
{
    struct bacdrv *b = ud;
    if (b->srv && service != SB_BAC_SVC_I_AM && service != SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION) {
        uint8_t out[512], reply = 0;
        ssize_t k = sb_bac_srv_unconfirmed(b->srv, from, service, body, len, sb_now_ms(), out,
                                           sizeof(out), &reply);
        if (k > 0) {
            sb_bac_unconfirmed(b->st, from, 0, reply, out, (size_t)k);
            sb_bac_unconfirmed(b->st, NULL, 0, reply, out, (size_t)k);
        }
        return;
    }
    if (service == SB_BAC_SVC_I_AM) {
        on_iam(b, from, body, len);
        if (b->disc)
            sb_bacdisc_on_unconfirmed(b->disc, from, service, body, len);
    }
    else if (service == SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION)
        sb_bacd_cov_notification(b, from, body, len);
}

static ssize_t on_confirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                            const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                            uint8_t *pdu, uint8_t *reason)
{
    struct bacdrv *b = ud;
    if (service == SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION) {
        struct sb_bac_cov_notif n;
        if (sb_bac_dec_cov_notif(body, len, &n) < 0) {
            *pdu = SB_BAC_PDU_REJECT;
            *reason = SB_BAC_RJ_INVALID_TAG;
            return 0;
        }
        sb_bacd_cov_notification(b, from, body, len);
        *pdu = SB_BAC_PDU_SIMPLE_ACK;
        return 0;
    }
    if (b->srv) {
        int64_t now = sb_now_ms();
        ssize_t k = sb_bac_srv_confirmed(b->srv, from, service, body, len, now, out, cap, pdu, reason);
        sb_bac_srv_flush(b->srv, now);   /* sent after the answer: the stack defers it */
        return k;
    }
    *pdu = SB_BAC_PDU_REJECT;
    *reason = SB_BAC_RJ_UNRECOGNIZED_SERVICE;
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct bacdrv *b = t->data;
    sb_bacd_cov_tick(b, uv_now(b->loop));
}

/* ---- discovery on the driver's socket ------------------------------------------------ */

struct disc_run {
    struct bacdrv *b;
    void (*done)(void *ud, int rc, json_t *result);
    void *ud;
    const char *targets[SB_BACDISC_TARGETS_MAX];
    uint16_t nets[16];
    json_t *args;                    /* holds the strings targets point to */
};

static void disc_done(void *ud, int rc, json_t *result)
{
    struct disc_run *r = ud;
    if (r->b) {                      /* NULL: the driver stopped meanwhile */
        r->b->disc = NULL;
        r->b->disc_run = NULL;
    }
    r->done(r->ud, rc, result);
    json_decref(r->args);
    free(r);
}

int sb_bacnet_discover(struct sb_drvmgr *mg, const json_t *args,
                       void (*done)(void *ud, int rc, json_t *result), void *ud,
                       char *err, size_t errlen)
{
    struct bacdrv *b = sb_drvmgr_state(mg, "bacnet");
    struct sb_bacdisc_args a = { 0 };
    struct disc_run *r;
    json_t *v;
    size_t i;
    int rc;

    if (!b || !b->st) {
        snprintf(err, errlen, "the BACnet driver is not running (drivers.json \"bacnet\", drivers.enabled)");
        return SB_ECLOSED;
    }
    if (b->disc) {
        snprintf(err, errlen, "a discovery is already running");
        return SB_EAGAIN;
    }
    if (!(r = calloc(1, sizeof(*r))))
        return SB_ENOMEM;
    r->b = b;
    r->done = done;
    r->ud = ud;
    r->args = json_deep_copy(args);
    a.loop = b->loop;
    json_array_foreach(json_object_get(r->args, "targets"), i, v)
        if (json_is_string(v) && a.ntargets < SB_BACDISC_TARGETS_MAX)
            r->targets[a.ntargets++] = json_string_value(v);
    a.targets = r->targets;
    a.range = json_string_value(json_object_get(r->args, "range"));
    json_array_foreach(json_object_get(r->args, "networks"), i, v)
        if (json_is_integer(v) && i < 16)
            r->nets[a.nnetworks++] = (uint16_t)json_integer_value(v);
    a.networks = r->nets;
    v = json_object_get(r->args, "broadcast");
    a.broadcast = v ? json_is_true(v) : !a.ntargets && !a.range;
    if (json_object_get(r->args, "low") || json_object_get(r->args, "high")) {
        a.has_limits = true;
        a.low = (uint32_t)json_integer_value(json_object_get(r->args, "low"));
        a.high = (uint32_t)json_integer_value(json_object_get(r->args, "high"));
    }
    a.wait_ms = (uint32_t)json_integer_value(json_object_get(r->args, "wait_ms"));
    a.max_devices = (uint32_t)json_integer_value(json_object_get(r->args, "max_devices"));
    if ((rc = sb_bacdisc_start(b->st, &a, disc_done, r, &b->disc, err, errlen)) < 0) {
        json_decref(r->args);
        free(r);
        b->disc = NULL;
        return rc;
    }
    b->disc_run = r;
    return 0;
}

/* ---- configuration ---------------------------------------------------------------------- */

static int conf_err(char *err, size_t errlen, const char *key, const char *msg)
{
    snprintf(err, errlen, "bacnet.%s: %s", key, msg);
    return SB_ECONFIG;
}

static int conf_uint(const json_t *c, const char *key, long lo, long hi, long *out,
                     char *err, size_t errlen)
{
    json_t *v = json_object_get(c, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        char m[64];
        snprintf(m, sizeof(m), "must be an integer from %ld to %ld", lo, hi);
        return conf_err(err, errlen, key, m);
    }
    *out = (long)json_integer_value(v);
    return 0;
}

static int conf_str(const json_t *c, const char *key, char *out, size_t cap, char *err, size_t errlen)
{
    json_t *v = json_object_get(c, key);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return conf_err(err, errlen, key, "must be a short string");
    snprintf(out, cap, "%s", json_string_value(v));
    return 0;
}

static int parse_conf(struct bacdrv *b, const json_t *c, char *err, size_t errlen)
{
    static const char *const keys[] = { "bind", "port", "broadcast", "bbmd", "fd_ttl",
        "apdu_timeout_ms", "retries", "max_apdu", "per_device", "cov", "cov_confirmed",
        "cov_lifetime_s", "cov_heartbeat_s", "priority", "devices", "whois", "expose", NULL };
    long port = 47808, ttl = 60, to = 3000, retries = 3, maxapdu = 1476, per = 4, life = 300,
         beat = 60, prio = BAC_DEFAULT_PRIORITY;
    const char *k;
    json_t *v;
    int rc;

    b->cov_enabled = true;
    snprintf(b->bind_ip, sizeof(b->bind_ip), "0.0.0.0");
    if (!c)
        goto apply;
    if (!json_is_object(c))
        return conf_err(err, errlen, "", "must be an object");
    json_object_foreach((json_t *)c, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i])
            return conf_err(err, errlen, k, "unknown option");
    }
    if ((rc = conf_str(c, "bind", b->bind_ip, sizeof(b->bind_ip), err, errlen)) ||
        (rc = conf_str(c, "broadcast", b->bcast_ip, sizeof(b->bcast_ip), err, errlen)) ||
        (rc = conf_str(c, "bbmd", b->bbmd, sizeof(b->bbmd), err, errlen)) ||
        (rc = conf_uint(c, "port", 1, 65535, &port, err, errlen)) ||
        (rc = conf_uint(c, "fd_ttl", 10, 65535, &ttl, err, errlen)) ||
        (rc = conf_uint(c, "apdu_timeout_ms", 50, 60000, &to, err, errlen)) ||
        (rc = conf_uint(c, "retries", 0, 10, &retries, err, errlen)) ||
        (rc = conf_uint(c, "max_apdu", 50, 1476, &maxapdu, err, errlen)) ||
        (rc = conf_uint(c, "per_device", 1, 64, &per, err, errlen)) ||
        (rc = conf_uint(c, "cov_lifetime_s", 60, 86400, &life, err, errlen)) ||
        (rc = conf_uint(c, "cov_heartbeat_s", 1, 86400, &beat, err, errlen)) ||
        (rc = conf_uint(c, "priority", 1, 16, &prio, err, errlen)))
        return rc;
    if ((v = json_object_get(c, "cov")) && !json_is_boolean(v))
        return conf_err(err, errlen, "cov", "must be true or false");
    b->cov_enabled = !v || json_is_true(v);
    if ((v = json_object_get(c, "cov_confirmed")) && !json_is_boolean(v))
        return conf_err(err, errlen, "cov_confirmed", "must be true or false");
    b->cov_confirmed = v && json_is_true(v);
    if ((v = json_object_get(c, "devices"))) {
        const char *dk;
        json_t *dv;
        if (!json_is_object(v))
            return conf_err(err, errlen, "devices", "must map device instances to \"ip[:port][/net:mac]\"");
        json_object_foreach(v, dk, dv) {
            struct sb_bac_peer p;
            char *end;
            unsigned long inst = strtoul(dk, &end, 10);
            if (*end || inst >= SB_BAC_MAX_INSTANCE || !json_is_string(dv) ||
                parse_station(json_string_value(dv), &p) < 0) {
                char m[96];
                snprintf(m, sizeof(m), "entry \"%.20s\" must be \"ip[:port][/net:mac]\" under a device instance", dk);
                return conf_err(err, errlen, "devices", m);
            }
        }
        b->conf_devices = json_incref(v);
    }
    if ((v = json_object_get(c, "expose"))) {
        json_t *dev = json_object_get(v, "device"), *pts = json_object_get(v, "points");
        if (!json_is_object(v) || !json_is_integer(dev) || json_integer_value(dev) < 0 ||
            json_integer_value(dev) >= SB_BAC_MAX_INSTANCE ||
            (json_object_get(v, "name") && !json_is_string(json_object_get(v, "name"))) ||
            !(json_is_array(pts) || (json_is_string(pts) && strcmp(json_string_value(pts), "all") == 0)))
            return conf_err(err, errlen, "expose",
                            "must be {\"device\": instance, \"name\": text, \"points\": [slug...] or \"all\"}");
        b->expose = json_incref(v);
    }
    if ((v = json_object_get(c, "whois"))) {
        size_t i;
        json_t *t;
        struct sb_bac_peer p;
        if (!json_is_array(v))
            return conf_err(err, errlen, "whois", "must be a list of \"ip[:port]\"");
        json_array_foreach(v, i, t)
            if (!json_is_string(t) || parse_station(json_string_value(t), &p) < 0)
                return conf_err(err, errlen, "whois", "must be a list of \"ip[:port]\"");
        b->whois = json_incref(v);
    }
apply:
    b->cfg = (struct sb_bac_stack_cfg){
        .bind_ip = b->bind_ip, .port = (uint16_t)port,
        .bcast_ip = b->bcast_ip[0] ? b->bcast_ip : NULL, .bbmd = b->bbmd[0] ? b->bbmd : NULL,
        .fd_ttl = (uint16_t)ttl, .apdu_timeout_ms = (uint32_t)to,
        .retries = retries ? (int)retries : -1, .max_apdu = (uint16_t)maxapdu,
        .per_peer = (uint8_t)per };
    b->cov_lifetime = (uint32_t)life;
    b->cov_heartbeat_ms = (uint32_t)beat * 1000u;
    b->priority = (uint8_t)prio;
    return 0;
}

/* ---- ops ------------------------------------------------------------------------------------ */

static int b_init(struct sb_drv *drv, const json_t *conf, void **state, char *err, size_t errlen)
{
    struct bacdrv *b = calloc(1, sizeof(*b));
    int rc;
    if (!b)
        return SB_ENOMEM;
    b->drv = drv;
    b->loop = sb_drv_loop(drv);
    b->pid = 0x5B;                   /* "sb": any 32-bit value; ours to match */
    if ((rc = parse_conf(b, conf, err, errlen)) < 0) {
        json_decref(b->conf_devices);
        json_decref(b->whois);
        json_decref(b->expose);
        free(b);
        return rc;
    }
    *state = b;
    return 0;
}

/* {"device":N, "object":"analog-input:1", "property":"present-value",
 *  "index":N, "priority":1..16, "cov":bool, "address":"ip[:port][/net:mac]"}
 * or "N/analog-input:1[/present-value]". */
static int parse_addr(struct bacdrv *b, struct sb_drv_point *pt, struct bpt *p, uint32_t *inst,
                      char *err, size_t errlen)
{
    json_t *a = NULL, *v;
    json_error_t je;
    int rc = SB_EINVAL;
    long long dev = -1;

    p->prop = SB_BAC_P_PRESENT_VALUE;
    p->cov_want = true;
    if (!pt->address_json) {
        char obj[64], prop[64] = "";
        if (sscanf(pt->address, "%lld/%63[^/]/%63s", &dev, obj, prop) < 2) {
            snprintf(err, errlen, "address must be {\"device\":N,\"object\":\"type:instance\"} or \"N/type:instance[/property]\"");
            return SB_EINVAL;
        }
        if (sb_bacn_obj_parse(obj, &p->oid) < 0) {
            snprintf(err, errlen, "object \"%.40s\" is not \"type:instance\" (e.g. analog-input:1)", obj);
            return SB_EINVAL;
        }
        if (prop[0] && sb_bacn_prop_parse(prop, &p->prop) < 0) {
            snprintf(err, errlen, "property \"%.40s\" is unknown", prop);
            return SB_EINVAL;
        }
        goto devnum;
    }
    if (!(a = json_loads(pt->address, 0, &je)) || !json_is_object(a)) {
        snprintf(err, errlen, "address is not a JSON object");
        goto out;
    }
    const char *k;
    json_object_foreach(a, k, v) {
        if (strcmp(k, "device") && strcmp(k, "object") && strcmp(k, "property") &&
            strcmp(k, "index") && strcmp(k, "priority") && strcmp(k, "cov") && strcmp(k, "address")) {
            snprintf(err, errlen, "address: unknown field \"%.40s\"", k);
            goto out;
        }
    }
    v = json_object_get(a, "device");
    dev = json_is_integer(v) ? json_integer_value(v) : -1;
    v = json_object_get(a, "object");
    if (!json_is_string(v) || sb_bacn_obj_parse(json_string_value(v), &p->oid) < 0) {
        snprintf(err, errlen, "address.object must be \"type:instance\" (e.g. analog-input:1)");
        goto out;
    }
    if ((v = json_object_get(a, "property")) &&
        !(json_is_string(v) && sb_bacn_prop_parse(json_string_value(v), &p->prop) == 0) &&
        !(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 4194303 &&
          (p->prop = (uint32_t)json_integer_value(v), 1))) {
        snprintf(err, errlen, "address.property must be a property name or number");
        goto out;
    }
    if ((v = json_object_get(a, "index"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 0xFFFFFFFE) {
            snprintf(err, errlen, "address.index must be an array index");
            goto out;
        }
        p->has_index = true;
        p->index = (uint32_t)json_integer_value(v);
    }
    if ((v = json_object_get(a, "priority"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 16) {
            snprintf(err, errlen, "address.priority must be 1 to 16");
            goto out;
        }
        p->priority = (uint8_t)json_integer_value(v);
    }
    if ((v = json_object_get(a, "cov"))) {
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "address.cov must be true or false");
            goto out;
        }
        p->cov_want = json_is_true(v);
    }
    if ((v = json_object_get(a, "address"))) {
        struct sb_bac_peer peer;
        if (!json_is_string(v) || parse_station(json_string_value(v), &peer) < 0) {
            snprintf(err, errlen, "address.address must be \"ip[:port][/net:mac]\"");
            goto out;
        }
    }
devnum:
    if (dev < 0 || dev >= SB_BAC_MAX_INSTANCE) {
        snprintf(err, errlen, "address.device must be a device instance 0 to 4194302");
        goto out;
    }
    *inst = (uint32_t)dev;
    rc = 0;
out:
    json_decref(a);
    return rc;
}

static int b_bind(void *state, struct sb_drv_point *pt, char *key, size_t keycap,
                  char *err, size_t errlen)
{
    struct bacdrv *b = state;
    struct bpt *p = calloc(1, sizeof(*p));
    struct bdev *d;
    uint32_t inst;
    int rc;

    if (!p)
        return SB_ENOMEM;
    if ((rc = parse_addr(b, pt, p, &inst, err, errlen)) < 0 || !(d = dev_get(b, inst))) {
        free(p);
        return rc < 0 ? rc : SB_ENOMEM;
    }
    if (pt->address_json && !d->fixed) {
        json_t *a = json_loads(pt->address, 0, NULL);
        const char *s = json_string_value(json_object_get(a, "address"));
        if (s && parse_station(s, &d->peer) == 0)
            d->known = d->fixed = true;
        json_decref(a);
    }
    p->pt = pt;
    p->dev = d;
    p->cov = COV_OFF;
    d->cov_next = 0;                 /* the COV tick looks at the new point */
    p->next = d->pts;
    d->pts = p;
    d->npts++;
    pt->addr = p;
    snprintf(key, keycap, "%s", d->key);
    return 0;
}

/* Leases (cluster/lease.h): COV subscriptions only from the node that owns
 * the device; a device given up has its subscriptions cancelled. */
static void b_own(void *state, const char *key, int owned)
{
    struct bacdrv *b = state;
    struct bdev *d = sb_bacd_dev_by_key(b, key);
    if (!d || d->foreign == !owned)
        return;
    d->foreign = !owned;
    if (owned) {
        d->cov_next = 0;
    } else {
        /* cancel politely while the lease holds; after it lapsed not a
         * word (the device drops the subscriptions at their lifetime) */
        int talk = sb_drv_may_talk(b->drv, key);
        for (struct bpt *p = d->pts; p; p = p->next) {
            if (talk)
                sb_bacd_cov_cancel(b, p);
            else
                p->cov = COV_OFF;
        }
    }
}

static void b_unbind(void *state, struct sb_drv_point *pt)
{
    struct bacdrv *b = state;
    struct bpt *p = pt->addr;
    if (!p)
        return;
    sb_bacd_cov_cancel(b, p);
    for (struct bpt **pp = &p->dev->pts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    p->dev->npts--;
    free(p);
    pt->addr = NULL;
}

static int b_start(void *state)
{
    struct bacdrv *b = state;
    struct sb_bac_handler h = { .confirmed = on_confirmed, .unconfirmed = on_unconfirmed, .ud = b };
    char err[160];
    int rc;

    if (b->st)
        return 0;
    if ((rc = sb_bac_stack_new(b->loop, &b->cfg, &h, &b->st, err, sizeof(err))) < 0) {
        SB_ERR("bacnet", "cannot start: %s", err);
        return rc;
    }
    if ((b->timer = malloc(sizeof(*b->timer)))) {
        uv_timer_init(b->loop, b->timer);
        b->timer->data = b;
        uv_timer_start(b->timer, on_timer, 1000, 1000);
    }
    for (struct bdev *d = b->devs; d; d = d->next) {
        if (d->fixed)
            sb_bac_stack_learn(b->st, &d->peer, d->max_apdu, d->seg);
        else if (d->npts)
            sb_bacd_whois(b, d);
    }
    SB_INFO("bacnet", "listening on %s:%u%s%s", b->bind_ip, b->cfg.port,
            b->bbmd[0] ? ", foreign device of " : "", b->bbmd);
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void b_stop(void *state)
{
    struct bacdrv *b = state;
    if (b->disc) {
        b->disc_run->b = NULL;
        sb_bacdisc_cancel(b->disc);      /* done runs from the loop, with SB_ECLOSED */
        b->disc = NULL;
        b->disc_run = NULL;
    }
    if (b->timer) {
        uv_close((uv_handle_t *)b->timer, on_timer_closed);
        b->timer = NULL;
    }
    if (b->st) {
        struct sb_bac_stack *st = b->st;
        b->st = NULL;
        sb_bac_stack_close(st);
    }
    for (struct bdev *d = b->devs; d; d = d->next)
        for (struct bpt *p = d->pts; p; p = p->next)
            p->cov = COV_OFF;
}

static int b_read_async(void *state, const char *key, struct sb_drv_item *items, size_t n,
                        int64_t timeout_ms, struct sb_drv_op *op, char *err, size_t errlen)
{
    struct bacdrv *b = state;
    struct bdev *d = sb_bacd_dev_by_key(b, key);

    if (!d || !b->st) {
        snprintf(err, errlen, "BACnet driver not running");
        return SB_EIO;
    }
    if (!d->known) {
        sb_bacd_whois(b, d);
        snprintf(err, errlen, "device %u has not answered Who-Is", d->inst);
        return SB_ETIMEDOUT;
    }
    return sb_bacd_read(b, d, items, n, op, err, errlen);
}

static int b_write_async(void *state, const char *key, struct sb_drv_write *w,
                         int64_t timeout_ms, struct sb_drv_op *op)
{
    struct bacdrv *b = state;
    struct bdev *d = sb_bacd_dev_by_key(b, key);

    if (!d || !b->st || !d->known) {
        snprintf(w->err, sizeof(w->err), "%s", !d || !b->st ? "BACnet driver not running"
                                                            : "device has not answered Who-Is");
        if (d && b->st)
            sb_bacd_whois(b, d);
        return SB_ETIMEDOUT;
    }
    return sb_bacd_write(b, d, w, op);
}

static int b_slots_async(void *state, const char *key, struct sb_drv_point *pt,
                         struct sb_drv_slots *out, int64_t timeout_ms, struct sb_drv_op *op,
                         char *err, size_t errlen)
{
    struct bacdrv *b = state;
    struct bdev *d = sb_bacd_dev_by_key(b, key);

    if (!d || !b->st || !d->known) {
        snprintf(err, errlen, "%s", !d || !b->st ? "BACnet driver not running"
                                                 : "device has not answered Who-Is");
        return SB_ETIMEDOUT;
    }
    return sb_bacd_slots(b, d, pt, out, op, err, errlen);
}

static int b_prop_async(void *state, const char *key, struct sb_drv_prop *p, int64_t timeout_ms,
                        struct sb_drv_op *op)
{
    struct bacdrv *b = state;
    struct bdev *d = sb_bacd_dev_by_key(b, key);

    if (!d || !b->st || !d->known) {
        snprintf(p->err, sizeof(p->err), "%s", !d || !b->st ? "BACnet driver not running"
                                                            : "device has not answered Who-Is");
        if (d && b->st)
            sb_bacd_whois(b, d);
        return SB_ETIMEDOUT;
    }
    return sb_bacd_prop(b, d, p, op);
}

static void b_free(void *state)
{
    struct bacdrv *b = state;
    if (!b)
        return;
    b_stop(b);
    while (b->devs) {
        struct bdev *d = b->devs;
        b->devs = d->next;
        while (d->pts) {
            struct bpt *p = d->pts;
            d->pts = p->next;
            p->pt->addr = NULL;
            free(p);
        }
        free(d);
    }
    json_decref(b->conf_devices);
    json_decref(b->whois);
    json_decref(b->expose);
    free(b->seen);
    free(b);
}

const struct sb_driver_ops sb_driver_bacnet = {
    .name = "bacnet",
    .flags = SB_DRV_ASYNC | SB_DRV_POLLED | SB_DRV_PUSH | SB_DRV_WRITES,
    .init = b_init,
    .bind = b_bind,
    .unbind = b_unbind,
    .start = b_start,
    .stop = b_stop,
    .read_async = b_read_async,
    .write_async = b_write_async,
    .slots_async = b_slots_async,
    .prop_async = b_prop_async,
    .own = b_own,
    .free = b_free,
};

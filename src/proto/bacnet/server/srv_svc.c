/*
 * srv_svc.c - the request handler: confirmed services (ReadProperty 15.5,
 * ReadPropertyMultiple 15.7, WriteProperty 15.9, WritePropertyMultiple
 * 15.10, SubscribeCOV 13.14, ReadRange 15.8, GetEventInformation 13.12,
 * AcknowledgeAlarm 13.5) and unconfirmed ones (Who-Is 16.10, Who-Has
 * 16.9, TimeSynchronization 16.7, UTCTimeSynchronization 16.8) of
 * ANSI/ASHRAE 135-2020.
 *
 * Every reply is written straight into the caller's buffer through the
 * bounded writer; nothing is allocated.  Clause 18.8 decides between
 * Reject and Error: a request that cannot be parsed is rejected (reason
 * from the decoder's failure), an unknown confirmed service is rejected
 * with unrecognized-service, and a well-formed request that cannot be
 * carried out gets an Error PDU.  A reply larger than the buffer is an
 * Abort with buffer-overflow (clause 18.9).
 */
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum { MAX_TRY_ELEMS = 8 };   /* top-level elements of any request we parse */

/* One request being answered. */
struct req {
    struct sb_bac_srv *s;           /* the device */
    const struct sb_bac_peer *from; /* requester */
    const uint8_t *body;            /* service data */
    size_t len;                     /* its length */
    int64_t now;                    /* Unix ms */
    struct srv_w w;                 /* the reply */
    uint8_t pdu;                    /* enum sb_bac_pdu of the reply */
    uint8_t reason;                 /* Reject / Abort reason */
};

/* ---- Reject reasons (clause 18.8) ---- */

/* Whether the element at p carries one of the context tags in mask. */
static bool own_tag(const uint8_t *p, size_t n, uint32_t mask)
{
    struct sb_bac_tag t;

    return sb_bac_dec_tag(p, n, &t) > 0 && t.context && t.kind != SB_BAC_TAG_CLOSE &&
           t.number < 32 && (mask & (1u << t.number));
}

uint8_t sb_bac_srv__reject_for(ssize_t rc, const uint8_t *body, size_t len, srv_dec_fn dec,
                               uint32_t tags)
{
    size_t off = 0, whole = 0;

    if (rc == SB_ECORRUPT)
        return SB_BAC_RJ_MISSING_REQUIRED_PARAMETER;
    if (rc == SB_ERANGE)
        return SB_BAC_RJ_PARAMETER_OUT_OF_RANGE;
    /* The longest prefix, cut at an element boundary, that parses is a
     * complete request; what follows it is an extra argument, or a known
     * optional parameter whose value the decoder refused. */
    for (int i = 0; i < MAX_TRY_ELEMS && off < len && dec; i++) {
        ssize_t k = sb_bac_skip(body + off, len - off);
        if (k <= 0)
            break;
        off += (size_t)k;
        if (off < len && dec(body, off) >= 0)
            whole = off;
    }
    if (!whole)
        return SB_BAC_RJ_INVALID_TAG;
    return own_tag(body + whole, len - whole, tags) ? SB_BAC_RJ_PARAMETER_OUT_OF_RANGE
                                                    : SB_BAC_RJ_TOO_MANY_ARGUMENTS;
}

static int reject(struct req *q, uint8_t reason)
{
    q->pdu = SB_BAC_PDU_REJECT;
    q->reason = reason;
    return 0;
}

/* Reject reason of a list iterator's failure (no trailing-data case). */
static uint8_t reject_elem(ssize_t rc)
{
    return sb_bac_srv__reject_for(rc, NULL, 0, NULL, 0);
}

/* ---- ReadProperty, clause 15.5 ---- */

static ssize_t try_rp(const uint8_t *p, size_t n)
{
    struct sb_bac_rp x;

    return sb_bac_dec_rp_req(p, n, &x);
}

static bool special_prop(uint32_t prop)
{
    return prop == SB_BAC_P_ALL || prop == SB_BAC_P_REQUIRED || prop == SB_BAC_P_OPTIONAL;
}

/* [tp] propertyIdentifier and [tp + 1] propertyArrayIndex. */
static void w_propref(struct srv_w *w, uint8_t tp, uint32_t prop, bool has_index,
                      uint32_t index)
{
    struct sb_bac_value v = { .type = SB_BAC_ENUMERATED, .v.enumerated = prop };

    sb_bac_srv__w_ctx(w, tp, &v);
    if (has_index) {
        v = (struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = index };
        sb_bac_srv__w_ctx(w, (uint8_t)(tp + 1), &v);
    }
}

static void w_ctx_oid(struct srv_w *w, uint8_t tag, struct sb_bac_oid oid)
{
    sb_bac_srv__w_ctx(w, tag, &(struct sb_bac_value){ .type = SB_BAC_OBJECT_ID, .v.oid = oid });
}

static int do_rp(struct req *q)
{
    struct sb_bac_rp rp;
    ssize_t n = sb_bac_dec_rp_req(q->body, q->len, &rp);
    srv_obj *o;
    int rc;

    if (n < 0)
        return reject(q, sb_bac_srv__reject_for(n, q->body, q->len, try_rp, RP_TAGS));
    if (!(o = sb_bac_srv__find(q->s, rp.oid)))
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    if (special_prop(rp.prop))   /* clause 15.5.1.1.2: not with ReadProperty */
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY);
    w_ctx_oid(&q->w, 0, o->oid);
    w_propref(&q->w, 1, rp.prop, rp.has_index, rp.index);
    sb_bac_srv__w_open(&q->w, 3);
    if ((rc = sb_bac_srv__read(q->s, o, rp.prop, rp.has_index, rp.index, q->now, &q->w)) < 0)
        return rc;
    sb_bac_srv__w_close(&q->w, 3);
    q->pdu = SB_BAC_PDU_COMPLEX_ACK;
    return 0;
}

/* ---- ReadPropertyMultiple, clause 15.7 ---- */

/* One readResult: the value in [4] or the error in [5] (clause 15.7.1.3.1). */
static void rpm_elem(struct req *q, srv_obj *o, uint32_t prop, bool has_index, uint32_t index)
{
    struct srv_w *w = &q->w;
    int rc = SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    size_t mark;

    w_propref(w, 2, prop, has_index, index);
    mark = w->n;
    if (o) {
        sb_bac_srv__w_open(w, 4);
        rc = sb_bac_srv__read(q->s, o, prop, has_index, index, q->now, w);
        if (rc == 0) {
            sb_bac_srv__w_close(w, 4);
            return;
        }
        w->n = mark;   /* drop the partial value, keep a latched overflow */
    }
    sb_bac_srv__w_open(w, 5);
    sb_bac_srv__w_enum(w, srv_err_class(rc));
    sb_bac_srv__w_enum(w, srv_err_code(rc));
    sb_bac_srv__w_close(w, 5);
}

/* ALL, REQUIRED, OPTIONAL (clause 15.7.3.1.2): each property on its own. */
static void rpm_special(struct req *q, srv_obj *o, uint32_t prop)
{
    int which = prop == SB_BAC_P_ALL ? SRV_LIST_ALL
              : prop == SB_BAC_P_REQUIRED ? SRV_LIST_REQUIRED : SRV_LIST_OPTIONAL;
    uint32_t ids[64];
    size_t n;

    if (!o) {
        rpm_elem(q, NULL, prop, false, 0);
        return;
    }
    n = sb_bac_srv__prop_ids(o, which, ids, 64);
    for (size_t i = 0; i < n && i < 64 && !q->w.err; i++)
        rpm_elem(q, o, ids[i], false, 0);
}

/* One ReadAccessSpecification -> one ReadAccessResult; returns the bytes
 * consumed or a negative decoder error. */
static ssize_t rpm_spec(struct req *q, const uint8_t *p, size_t left)
{
    struct sb_bac_rpm_spec spec;
    struct sb_bac_propref ref;
    ssize_t n = sb_bac_dec_rpm_spec(p, left, &spec), m;
    srv_obj *o;

    if (n < 0)
        return n;
    o = sb_bac_srv__find(q->s, spec.oid);
    w_ctx_oid(&q->w, 0, o ? o->oid : spec.oid);
    sb_bac_srv__w_open(&q->w, 1);
    for (size_t off = 0; off < spec.list_len; off += (size_t)m) {
        if ((m = sb_bac_dec_propref(spec.list + off, spec.list_len - off, &ref)) < 0)
            return m;
        if (special_prop(ref.prop))
            rpm_special(q, o, ref.prop);
        else
            rpm_elem(q, o, ref.prop, ref.has_index, ref.index);
    }
    sb_bac_srv__w_close(&q->w, 1);
    return n;
}

static int do_rpm(struct req *q)
{
    ssize_t n;

    if (q->len == 0)
        return reject(q, SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
    for (size_t off = 0; off < q->len; off += (size_t)n)
        if ((n = rpm_spec(q, q->body + off, q->len - off)) < 0)
            return reject(q, reject_elem(n));
    q->pdu = SB_BAC_PDU_COMPLEX_ACK;
    return 0;
}

/* ---- WriteProperty, clause 15.9 ---- */

static ssize_t try_wp(const uint8_t *p, size_t n)
{
    struct sb_bac_wp x;

    return sb_bac_dec_wp(p, n, &x);
}

static int do_wp(struct req *q)
{
    struct sb_bac_wp wp;
    ssize_t n = sb_bac_dec_wp(q->body, q->len, &wp);
    srv_obj *o;
    int rc;

    if (n < 0)
        return reject(q, sb_bac_srv__reject_for(n, q->body, q->len, try_wp, WP_TAGS));
    if (!(o = sb_bac_srv__find(q->s, wp.oid)))
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    rc = sb_bac_srv__write(q->s, o, wp.prop, wp.has_index, wp.index, wp.value, wp.value_len,
                           wp.priority, q->now);
    if (rc < 0)
        return rc;
    q->pdu = SB_BAC_PDU_SIMPLE_ACK;
    return 0;
}

/* ---- WritePropertyMultiple, clause 15.10 ---- */

/* Walks every WriteAccessSpecification and BACnetPropertyValue; with
 * apply, performs the writes in order and stops at the first failure.
 * Returns 0, a negative decoder error (parse pass), or 1 with *e filled. */
static int wpm_walk(struct req *q, bool apply, struct sb_bac_wpm_error *e)
{
    struct sb_bac_wpm_spec spec;
    struct sb_bac_propval pv;
    ssize_t n, m;
    int rc;

    for (size_t off = 0; off < q->len; off += (size_t)n) {
        if ((n = sb_bac_dec_wpm_spec(q->body + off, q->len - off, &spec)) < 0)
            return (int)n;
        for (size_t o2 = 0; o2 < spec.list_len; o2 += (size_t)m) {
            if ((m = sb_bac_dec_propval(spec.list + o2, spec.list_len - o2, &pv)) < 0)
                return (int)m;
            if (!apply)
                continue;
            srv_obj *o = sb_bac_srv__find(q->s, spec.oid);
            rc = o ? sb_bac_srv__write(q->s, o, pv.prop, pv.has_index, pv.index, pv.value,
                                       pv.value_len, pv.priority, q->now)
                   : SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
            if (rc < 0) {
                *e = (struct sb_bac_wpm_error){ srv_err_class(rc), srv_err_code(rc), spec.oid,
                                                pv.prop, pv.has_index, pv.index };
                return 1;
            }
        }
    }
    return 0;
}

static int do_wpm(struct req *q)
{
    struct sb_bac_wpm_error e;
    int rc;

    if (q->len == 0)
        return reject(q, SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
    /* parse everything first: a malformed request changes nothing */
    if ((rc = wpm_walk(q, false, &e)) < 0)
        return reject(q, reject_elem(rc));
    if (wpm_walk(q, true, &e) == 0) {
        q->pdu = SB_BAC_PDU_SIMPLE_ACK;
        return 0;
    }
    /* clause 15.10.1.3.1: the writes before the failure stay done */
    SRV_W_ENC(&q->w, sb_bac_enc_wpm_error, &e);
    q->pdu = SB_BAC_PDU_ERROR;
    return 0;
}

/* ---- SubscribeCOV, clause 13.14 ---- */

static ssize_t try_subcov(const uint8_t *p, size_t n)
{
    struct sb_bac_subcov x;

    return sb_bac_dec_subcov(p, n, &x);
}

static int do_subcov(struct req *q)
{
    struct sb_bac_subcov c;
    ssize_t n = sb_bac_dec_subcov(q->body, q->len, &c);
    int rc;

    if (n < 0)
        return reject(q, sb_bac_srv__reject_for(n, q->body, q->len, try_subcov, SUBCOV_TAGS));
    /* a lifetime without issueConfirmedNotifications is no subscription
     * and no cancellation (clause 13.14.1.1.3 is conditional on it) */
    if (c.has_lifetime && !c.has_confirmed)
        return reject(q, SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
    if ((rc = sb_bac_srv__subscribe(q->s, q->from, &c, q->now)) < 0)
        return rc;
    q->pdu = SB_BAC_PDU_SIMPLE_ACK;
    return 0;
}

/* ---- dispatch ---- */

/* The services implemented in other files report a Reject through an
 * out-parameter; 0xFF there means none. */
static int dispatch_ext(struct req *q, uint8_t service)
{
    uint8_t rj = 0xFF;
    int rc;

    q->pdu = service == SB_BAC_SVC_ACKNOWLEDGE_ALARM ? SB_BAC_PDU_SIMPLE_ACK
                                                     : SB_BAC_PDU_COMPLEX_ACK;
    if (service == SB_BAC_SVC_READ_RANGE)
        rc = sb_bac_srv__read_range(q->s, q->body, q->len, &q->w, &rj);
    else if (service == SB_BAC_SVC_GET_EVENT_INFORMATION)
        rc = sb_bac_srv__gei(q->s, q->body, q->len, &q->w, &rj);
    else
        rc = sb_bac_srv__ack_alarm(q->s, q->body, q->len, &rj);
    return rj != 0xFF ? reject(q, rj) : rc;
}

static int dispatch(struct req *q, uint8_t service)
{
    switch (service) {
    case SB_BAC_SVC_READ_PROPERTY:           return do_rp(q);
    case SB_BAC_SVC_READ_PROPERTY_MULTIPLE:  return do_rpm(q);
    case SB_BAC_SVC_WRITE_PROPERTY:          return do_wp(q);
    case SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE: return do_wpm(q);
    case SB_BAC_SVC_SUBSCRIBE_COV:           return do_subcov(q);
    case SB_BAC_SVC_READ_RANGE:
    case SB_BAC_SVC_GET_EVENT_INFORMATION:
    case SB_BAC_SVC_ACKNOWLEDGE_ALARM:
        return dispatch_ext(q, service);
    default:
        return reject(q, SB_BAC_RJ_UNRECOGNIZED_SERVICE);
    }
}

ssize_t sb_bac_srv_confirmed(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                             uint8_t service, const uint8_t *body, size_t len,
                             int64_t now_ms, uint8_t *out, size_t cap,
                             uint8_t *pdu, uint8_t *reason)
{
    struct req q = { .s = s, .from = from, .body = body, .len = len, .now = now_ms,
                     .pdu = SB_BAC_PDU_SIMPLE_ACK };
    int rc;

    if (!s || !from || (!body && len) || !out || !pdu || !reason)
        return SB_EINVAL;
    srv_w_init(&q.w, out, cap);
    rc = dispatch(&q, service);
    if (q.pdu == SB_BAC_PDU_REJECT) {
        q.w.n = 0;
    } else if (rc < 0) {
        struct sb_bac_error e = { srv_err_class(rc), srv_err_code(rc) };
        srv_w_init(&q.w, out, cap);
        SRV_W_ENC(&q.w, sb_bac_enc_error, &e);
        q.pdu = SB_BAC_PDU_ERROR;
    }
    if (q.w.err) {
        /* SB_EINVAL would be a value the codec cannot encode: our bug */
        q.pdu = SB_BAC_PDU_ABORT;
        q.reason = q.w.err == SB_ENOSPC ? SB_BAC_AB_BUFFER_OVERFLOW : SB_BAC_AB_OTHER;
        q.w.n = 0;
    }
    *pdu = q.pdu;
    *reason = q.reason;
    return (ssize_t)q.w.n;
}

/* ---- unconfirmed services ---- */

ssize_t sb_bac_srv_iam(const struct sb_bac_srv *s, uint8_t *out, size_t cap)
{
    struct sb_bac_iam iam;

    if (!s)
        return SB_EINVAL;
    iam = (struct sb_bac_iam){ s->dev->oid, s->max_apdu, SB_BAC_SEG_BOTH, s->vendor_id };
    return sb_bac_enc_iam(out, cap, &iam);
}

static bool in_range(const struct sb_bac_srv *s, bool has_range, uint32_t lo, uint32_t hi)
{
    uint32_t me = s->dev->oid.instance;

    return !has_range || (lo <= me && me <= hi);
}

/* Object_Name is kept in UTF-8; an ISO 8859-1 name matches only when
 * ASCII, where both encodings agree. */
static srv_obj *find_by_cstr(const struct sb_bac_srv *s, const struct sb_bac_cstr *name)
{
    if (name->charset == SB_BAC_CS_LATIN1) {
        for (size_t i = 0; i < name->len; i++)
            if (name->p[i] >= 0x80)
                return NULL;
    } else if (name->charset != SB_BAC_CS_UTF8) {
        return NULL;
    }
    return sb_bac_srv__find_name(s, (const char *)name->p, name->len);
}

static ssize_t who_has(struct sb_bac_srv *s, const uint8_t *body, size_t len, uint8_t *out,
                       size_t cap, uint8_t *reply)
{
    struct sb_bac_whohas wh;
    struct sb_bac_ihave ih;
    srv_obj *o;

    if (sb_bac_dec_whohas(body, len, &wh) < 0 || !in_range(s, wh.has_range, wh.low, wh.high))
        return 0;
    o = wh.by_name ? find_by_cstr(s, &wh.name) : sb_bac_srv__find(s, wh.oid);
    if (!o)
        return 0;
    ih.device = s->dev->oid;
    ih.oid = o->oid;
    ih.name = (struct sb_bac_cstr){ SB_BAC_CS_UTF8, (const uint8_t *)o->name, strlen(o->name) };
    *reply = SB_BAC_SVC_I_HAVE;
    return sb_bac_enc_ihave(out, cap, &ih);
}

/* Clause 16.7/16.8: the device clock follows the sender's time; a local
 * time is converted with our UTC_Offset. */
static void time_sync(struct sb_bac_srv *s, const uint8_t *body, size_t len, bool utc,
                      int64_t now_ms)
{
    struct sb_bac_datetime dt;
    int64_t ms;

    if (sb_bac_dec_timesync(body, len, &dt) < 0 ||
        sb_bac_dt_to_unix(&dt, utc ? 0 : -s->utc_offset, &ms) < 0)
        return;
    s->clock_off = ms - now_ms;
}

ssize_t sb_bac_srv_unconfirmed(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                               uint8_t service, const uint8_t *body, size_t len,
                               int64_t now_ms, uint8_t *out, size_t cap, uint8_t *reply)
{
    struct sb_bac_whois wi;

    if (!s || !from || (!body && len) || !out || !reply)
        return SB_EINVAL;
    switch (service) {
    case SB_BAC_SVC_WHO_IS:
        if (sb_bac_dec_whois(body, len, &wi) < 0 || !in_range(s, wi.has_range, wi.low, wi.high))
            return 0;
        *reply = SB_BAC_SVC_I_AM;
        return sb_bac_srv_iam(s, out, cap);
    case SB_BAC_SVC_WHO_HAS:
        return who_has(s, body, len, out, cap, reply);
    case SB_BAC_SVC_TIME_SYNCHRONIZATION:
    case SB_BAC_SVC_UTC_TIME_SYNCHRONIZATION:
        time_sync(s, body, len, service == SB_BAC_SVC_UTC_TIME_SYNCHRONIZATION, now_ms);
        return 0;
    default:
        return 0;   /* clause 5.4.2: unknown unconfirmed services are ignored */
    }
}

/* ---- the owner's generic property access ---- */

static void set_err(struct sb_bac_error *err, int rc)
{
    if (err)
        *err = (struct sb_bac_error){ srv_err_class(rc), srv_err_code(rc) };
}

ssize_t sb_bac_srv_read(struct sb_bac_srv *s, struct sb_bac_oid oid, uint32_t prop,
                        bool has_index, uint32_t index, int64_t now_ms,
                        uint8_t *buf, size_t cap, struct sb_bac_error *err)
{
    struct srv_w w;
    srv_obj *o;
    int rc;

    if (!s)
        return SB_EINVAL;
    srv_w_init(&w, buf, cap);
    if (!(o = sb_bac_srv__find(s, oid)))
        rc = SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    else
        rc = sb_bac_srv__read(s, o, prop, has_index, index, now_ms, &w);
    if (rc < 0) {
        set_err(err, rc);
        return SB_EPROTO;
    }
    return w.err ? w.err : (ssize_t)w.n;
}

int sb_bac_srv_write(struct sb_bac_srv *s, struct sb_bac_oid oid, uint32_t prop,
                     bool has_index, uint32_t index, const uint8_t *val, size_t len,
                     uint8_t priority, int64_t now_ms, struct sb_bac_error *err)
{
    srv_obj *o;
    int rc;

    if (!s || (!val && len) || priority > SRV_NPRIO)
        return SB_EINVAL;
    if (!(o = sb_bac_srv__find(s, oid)))
        rc = SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    else
        rc = sb_bac_srv__write(s, o, prop, has_index, index, val, len, priority, now_ms);
    if (rc < 0) {
        set_err(err, rc);
        return SB_EPROTO;
    }
    return 0;
}

/*
 * srv_trend.c - Trend Log objects (ANSI/ASHRAE 135-2020, clause 12.25)
 * and ReadRange over their Log_Buffer (clause 15.8).
 *
 * The owner appends records (sbems-sim samples its plant, sbems its
 * points); the buffer is a ring of Buffer_Size records, oldest first.
 * Positions are 1-based from the oldest record (clause 15.8.1.1.4.1);
 * each record keeps the sequence number it got (Total_Record_Count after
 * it was added, clause 12.25.16; it wraps from 2^32-1 to 1).  Log_Buffer
 * is read with ReadRange only: ReadProperty gets read-access-denied.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum {
    MAX_BUFFER = 1048576,
    RR_HEADROOM = 64,       /* room for the ReadRange-ACK fields before itemData */
    RR_TAILROOM = 16        /* closing tag and firstSequenceNumber after it */
};

#define DENIED SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED)
#define BAD_TYPE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE)
#define BAD_RANGE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE)

void sb_bac_srv__trend_free(struct srv_trend *t)
{
    if (t)
        free(t->recs);
    free(t);
}

int sb_bac_srv_add_trend(struct sb_bac_srv *s, const struct sb_bac_srv_trend_cfg *c)
{
    struct srv_trend *t;
    srv_obj *o;

    if (!s || !c || c->buffer_size < 1 || c->buffer_size > MAX_BUFFER || c->logging_type > 2 ||
        c->source.type > 1023 || c->source.instance > SB_BAC_MAX_INSTANCE)
        return SB_EINVAL;
    if (!(o = sb_bac_srv__obj_new((struct sb_bac_oid){ SB_BAC_OBJ_TREND_LOG, c->instance },
                                  FAM_TREND, c->name, c->description)))
        return SB_EINVAL;
    if (!(t = o->u.tl = calloc(1, sizeof(*t))) || !(t->recs = calloc(c->buffer_size, sizeof(*t->recs)))) {
        sb_bac_srv__obj_free(o);
        return SB_ENOMEM;
    }
    t->size = c->buffer_size;
    t->interval = c->log_interval_cs;
    t->logging_type = c->logging_type;
    t->enable = !c->disabled;
    t->stop_when_full = c->stop_when_full;
    t->src = c->source;
    t->src_prop = c->source_prop ? c->source_prop : SB_BAC_P_PRESENT_VALUE;
    return sb_bac_srv__insert(s, o);
}

static srv_obj *trend_obj(const struct sb_bac_srv *s, uint32_t instance)
{
    srv_obj *o = sb_bac_srv__find(s, (struct sb_bac_oid){ SB_BAC_OBJ_TREND_LOG, instance });

    return o && o->fam == FAM_TREND ? o : NULL;
}

static bool kind_ok(uint8_t k)
{
    return k == SB_BAC_LOG_STATUS || k == SB_BAC_LOG_BOOL || k == SB_BAC_LOG_REAL ||
           k == SB_BAC_LOG_ENUM || k == SB_BAC_LOG_UNSIGNED || k == SB_BAC_LOG_SIGNED ||
           k == SB_BAC_LOG_NULL;
}

static void to_logrec(const struct sb_bac_srv *s, const struct srv_rec *r,
                      struct sb_bac_logrec *out);

/* A record ReadRange will be able to encode (an integer kind holds an
 * integer, a REAL fits binary32). */
static bool encodable(const struct sb_bac_srv *s, const struct sb_bac_srv_rec *r)
{
    struct srv_rec rec = { r->ts_ms, r->v, 0, r->kind, r->status_flags, r->has_status };
    struct sb_bac_logrec lr;

    to_logrec(s, &rec, &lr);
    return sb_bac_enc_logrec(NULL, 0, &lr) > 0;
}

int sb_bac_srv_trend_append(struct sb_bac_srv *s, uint32_t instance,
                            const struct sb_bac_srv_rec *r)
{
    srv_obj *o = s && r ? trend_obj(s, instance) : NULL;
    struct srv_trend *t;
    struct srv_rec *slot;

    if (!o)
        return s && r ? SB_ENOENT : SB_EINVAL;
    if (!kind_ok(r->kind) || !encodable(s, r))
        return SB_EINVAL;
    t = o->u.tl;
    if (!t->enable)
        return SB_EAGAIN;
    if (t->count == t->size)
        t->head = (t->head + 1) % t->size;   /* full, not stopping: drop the oldest */
    else
        t->count++;
    if (++t->total == 0)
        t->total = 1;
    slot = &t->recs[(t->head + t->count - 1) % t->size];
    *slot = (struct srv_rec){ r->ts_ms, r->v, t->total, r->kind, r->status_flags,
                              r->has_status };
    if (t->count == t->size && t->stop_when_full)
        t->enable = false;   /* clause 12.25.5 */
    return 0;
}

/* ---- properties ---- */

/* BACnetDeviceObjectPropertyReference: objectIdentifier [0],
 * propertyIdentifier [1], deviceIdentifier [3] (clause 21). */
static void w_source(const struct sb_bac_srv *s, const struct srv_trend *t, struct srv_w *w)
{
    struct sb_bac_value v = { .type = SB_BAC_OBJECT_ID, .v.oid = t->src };

    sb_bac_srv__w_ctx(w, 0, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_ENUMERATED, .v.enumerated = t->src_prop };
    sb_bac_srv__w_ctx(w, 1, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_OBJECT_ID, .v.oid = s->dev->oid };
    sb_bac_srv__w_ctx(w, 3, &v);
}

int sb_bac_srv__trend_read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, struct srv_w *w)
{
    const struct srv_trend *t = o->u.tl;

    switch (prop) {
    case SB_BAC_P_ENABLE:             sb_bac_srv__w_bool(w, t->enable); break;
    case SB_BAC_P_STOP_WHEN_FULL:     sb_bac_srv__w_bool(w, t->stop_when_full); break;
    case SB_BAC_P_BUFFER_SIZE:        sb_bac_srv__w_uint(w, t->size); break;
    case SB_BAC_P_RECORD_COUNT:       sb_bac_srv__w_uint(w, t->count); break;
    case SB_BAC_P_TOTAL_RECORD_COUNT: sb_bac_srv__w_uint(w, t->total); break;
    case SB_BAC_P_LOGGING_TYPE:       sb_bac_srv__w_enum(w, t->logging_type); break;
    case SB_BAC_P_LOG_INTERVAL:       sb_bac_srv__w_uint(w, t->interval); break;
    case SB_BAC_P_LOG_DEVICE_OBJECT_PROPERTY: w_source(s, t, w); break;
    default:   /* Log_Buffer: a list read with ReadRange only */
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_READ_ACCESS_DENIED);
    }
    return 0;
}

int sb_bac_srv__trend_write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop,
                            const uint8_t *val, size_t len)
{
    struct srv_trend *t = o->u.tl;
    struct sb_bac_value v;
    uint8_t want;

    (void)s;
    switch (prop) {
    case SB_BAC_P_ENABLE:
    case SB_BAC_P_STOP_WHEN_FULL: want = SB_BAC_BOOLEAN; break;
    case SB_BAC_P_LOG_INTERVAL:
    case SB_BAC_P_RECORD_COUNT:   want = SB_BAC_UNSIGNED; break;
    default:                      return DENIED;
    }
    if (sb_bac_srv__one_value(val, len, &v) < 0 || v.type != want)
        return BAD_TYPE;
    if (prop == SB_BAC_P_ENABLE)
        t->enable = v.v.boolean;
    else if (prop == SB_BAC_P_STOP_WHEN_FULL)
        t->stop_when_full = v.v.boolean;
    else if (prop == SB_BAC_P_LOG_INTERVAL && v.v.u <= UINT32_MAX)
        t->interval = (uint32_t)v.v.u;
    else if (prop == SB_BAC_P_RECORD_COUNT && v.v.u == 0)
        t->count = t->head = 0;   /* clause 12.25.15: writing 0 empties the buffer */
    else
        return BAD_RANGE;
    return 0;
}

/* ---- ReadRange, clause 15.8 ---- */

static const struct srv_rec *at(const struct srv_trend *t, int64_t pos)
{
    return &t->recs[(t->head + (uint32_t)(pos - 1)) % t->size];
}

/* Positions [first, last] (1-based, inclusive) around reference position
 * ref: count > 0 reads forward from it, count < 0 backward to it. */
static void span(const struct srv_trend *t, int64_t ref, int32_t count, int64_t *first,
                 int64_t *last)
{
    if (ref < 1 || ref > t->count) {
        *first = 1;
        *last = 0;   /* empty */
    } else if (count > 0) {
        *first = ref;
        *last = ref + count - 1 < t->count ? ref + count - 1 : t->count;
    } else {
        *last = ref;
        *first = ref + count + 1 > 1 ? ref + count + 1 : 1;
    }
}

/* By time (clause 15.8.1.1.4.3): forward from the first record newer than
 * the reference, backward from the last record older than it. */
static int64_t time_ref(const struct srv_trend *t, int64_t ref_ms, int32_t count)
{
    if (count > 0) {
        for (int64_t p = 1; p <= t->count; p++)
            if (at(t, p)->ts > ref_ms)
                return p;
    } else {
        for (int64_t p = t->count; p >= 1; p--)
            if (at(t, p)->ts < ref_ms)
                return p;
    }
    return 0;
}

/* The positions selected by the request; SB_EINVAL for a reference time
 * that is not a date and time. */
static int select_span(const struct sb_bac_srv *s, const struct srv_trend *t,
                       const struct sb_bac_rr *rr, int64_t *first, int64_t *last)
{
    int64_t ms;

    switch (rr->kind) {
    case SB_BAC_RR_POSITION:
        span(t, rr->ref_index, rr->count, first, last);
        return 0;
    case SB_BAC_RR_SEQUENCE:
        /* sequence numbers of the records present are consecutive */
        span(t, t->count ? (int64_t)(uint32_t)(rr->ref_index - at(t, 1)->seq) + 1 : 0,
             rr->count, first, last);
        return 0;
    case SB_BAC_RR_TIME:
        if (sb_bac_dt_to_unix(&rr->ref_time, -s->utc_offset, &ms) < 0)
            return SB_EINVAL;
        span(t, time_ref(t, ms, rr->count), rr->count, first, last);
        return 0;
    default:
        *first = 1;
        *last = t->count;
        return 0;
    }
}

static void to_logrec(const struct sb_bac_srv *s, const struct srv_rec *r,
                      struct sb_bac_logrec *out)
{
    memset(out, 0, sizeof(*out));
    if (sb_bac_srv__local(s, r->ts, &out->ts) < 0)
        sb_bac_srv__dt_unset(&out->ts);
    out->kind = r->kind;
    out->v = r->v;
    /* BACnetLogStatus has 3 bits; anything else fails to encode */
    if (r->kind == SB_BAC_LOG_STATUS)
        out->log_status = r->v >= 0 && r->v <= 7 && r->v == (int)r->v ? (uint8_t)r->v : 0xFF;
    out->has_status = r->has_status;
    out->status_flags = r->status;
}

/* Encodes records first..last at p (at most cap bytes); sets *n to the
 * records that fit and returns their length. */
static size_t items(const struct sb_bac_srv *s, const struct srv_trend *t, int64_t first,
                    int64_t last, uint8_t *p, size_t cap, uint32_t *n)
{
    struct sb_bac_logrec lr;
    size_t off = 0;
    ssize_t k;

    *n = 0;
    for (int64_t pos = first; pos <= last; pos++) {
        to_logrec(s, at(t, pos), &lr);
        if ((k = sb_bac_enc_logrec(p + off, cap - off, &lr)) < 0)
            break;
        off += (size_t)k;
        (*n)++;
    }
    return off;
}

static ssize_t try_rr(const uint8_t *p, size_t n)
{
    struct sb_bac_rr x;

    return sb_bac_dec_rr_req(p, n, &x);
}

/* The object and property checks of clause 15.8.1.3.1. */
static int rr_target(struct sb_bac_srv *s, const struct sb_bac_rr *rr, srv_obj **out)
{
    srv_obj *o = sb_bac_srv__find(s, rr->oid);

    if (!o)
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    if (!sb_bac_srv__has_prop(o, rr->prop))
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY);
    if (o->fam != FAM_TREND || rr->prop != SB_BAC_P_LOG_BUFFER)
        return SRV_ERR(SB_BAC_EC_SERVICES, SRV_ERR_PROPERTY_IS_NOT_A_LIST);
    if (rr->has_index)
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_PROPERTY_IS_NOT_AN_ARRAY);
    *out = o;
    return 0;
}

int sb_bac_srv__read_range(struct sb_bac_srv *s, const uint8_t *body, size_t len,
                           struct srv_w *w, uint8_t *reject)
{
    struct sb_bac_rr rr;
    struct sb_bac_rr_ack ack = { 0 };
    ssize_t n = sb_bac_dec_rr_req(body, len, &rr);
    const struct srv_trend *t;
    int64_t first, last, got_last;
    size_t left = SRV_W_LEFT(w);
    uint8_t *scratch;
    srv_obj *o;
    int rc;

    if (n < 0 || (rr.kind != SB_BAC_RR_ALL && rr.count == 0)) {
        /* clause 15.8.1.1.4.1.2: Count shall not be zero */
        *reject = n < 0 ? sb_bac_srv__reject_for(n, body, len, try_rr, RR_TAGS)
                        : SB_BAC_RJ_PARAMETER_OUT_OF_RANGE;
        return 0;
    }
    if ((rc = rr_target(s, &rr, &o)) < 0)
        return rc;
    t = o->u.tl;
    if (select_span(s, t, &rr, &first, &last) < 0) {
        *reject = SB_BAC_RJ_PARAMETER_OUT_OF_RANGE;
        return 0;
    }
    if (!w->buf || left < RR_HEADROOM + RR_TAILROOM) {
        sb_bac_srv__w_add(w, SB_ENOSPC);
        return 0;
    }
    /* itemData is built past the room the fixed fields need; the
     * encoder moves it down into place (the codec copies with memmove) */
    scratch = w->buf + w->n + RR_HEADROOM;
    ack.items = scratch;
    ack.items_len = items(s, t, first, last, scratch, left - RR_HEADROOM - RR_TAILROOM,
                          &ack.count);
    ack.oid = o->oid;
    ack.prop = rr.prop;
    got_last = first + (int64_t)ack.count - 1;
    if (ack.count) {
        ack.flags = (uint8_t)((first == 1 ? SB_BAC_RR_FIRST : 0) |
                              (got_last == t->count ? SB_BAC_RR_LAST : 0));
        ack.has_first_seq = rr.kind == SB_BAC_RR_SEQUENCE || rr.kind == SB_BAC_RR_TIME;
        ack.first_seq = at(t, first)->seq;
    }
    if (got_last < last)
        ack.flags |= SB_BAC_RR_MORE;   /* clause 15.8.1.3.1.5: items did not fit */
    SRV_W_ENC(w, sb_bac_enc_rr_ack, &ack);
    return 0;
}

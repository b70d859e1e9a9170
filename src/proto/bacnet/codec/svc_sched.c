/*
 * svc_sched.c - the constructed values of Schedule and Calendar objects:
 * BACnetTimeValue, BACnetDailySchedule, BACnetDateRange,
 * BACnetCalendarEntry, BACnetSpecialEvent (ANSI/ASHRAE 135, clauses
 * 12.9 Calendar, 12.24 Schedule; ASN.1 in clause 21).  All are element
 * decoders: they return the bytes of one element.
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc2.h"

enum { WND_LEN = 3, MAX_PRIORITY = 16 };

/* BACnetTimeValue ::= SEQUENCE { time Time, value ABSTRACT-SYNTAX.&Type
 * -- any primitive datatype; complex types cannot be decoded } */
static void w_timevalue(struct sb_bac__w *w, const struct sb_bac_timevalue *tv)
{
    struct sb_bac_value t = { .type = SB_BAC_TIME, .v.time = tv->time };

    sb_bac__w_app(w, &t);
    sb_bac__w_app(w, &tv->value);
}

ssize_t sb_bac_enc_timevalue(uint8_t *buf, size_t cap, const struct sb_bac_timevalue *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    w_timevalue(&w, in);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_timevalue(const uint8_t *buf, size_t len, struct sb_bac_timevalue *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value t;
    ssize_t n;
    int rc;

    if ((rc = sb_bac__r_app(&r, SB_BAC_TIME, &t)) < 0)
        return rc;
    out->time = t.v.time;
    /* any application-tagged primitive; a context or constructed element
     * here is SB_EPROTO (sb_bac_dec_app refuses context tags) */
    if ((n = sb_bac_dec_app(buf + r.off, len - r.off, &out->value)) < 0)
        return n;
    return (ssize_t)r.off + n;
}

/* BACnetDailySchedule ::= SEQUENCE { day-schedule [0] SEQUENCE OF
 * BACnetTimeValue } */
static void w_tv_list(struct sb_bac__w *w, uint8_t tag, const struct sb_bac_timevalue *tv, size_t n)
{
    sb_bac__w_open(w, tag);
    for (size_t i = 0; i < n; i++)
        w_timevalue(w, &tv[i]);
    sb_bac__w_close(w, tag);
}

ssize_t sb_bac_enc_daily(uint8_t *buf, size_t cap, const struct sb_bac_timevalue *tv, size_t n)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    w_tv_list(&w, 0, tv, n);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_daily(const uint8_t *buf, size_t len, const uint8_t **list, size_t *list_len)
{
    return sb_bac_dec_constructed(buf, len, 0, list, list_len);
}

/* BACnetDateRange ::= SEQUENCE { startDate Date, endDate Date } */
static void w_daterange(struct sb_bac__w *w, const struct sb_bac_daterange *dr)
{
    struct sb_bac_value v = { .type = SB_BAC_DATE, .v.date = dr->start };

    sb_bac__w_app(w, &v);
    v.v.date = dr->end;
    sb_bac__w_app(w, &v);
}

static int r_daterange(struct sb_bac__r *r, struct sb_bac_daterange *dr)
{
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_app(r, SB_BAC_DATE, &v)) < 0)
        return rc;
    dr->start = v.v.date;
    if ((rc = sb_bac__r_app(r, SB_BAC_DATE, &v)) < 0)
        return rc;
    dr->end = v.v.date;
    return 0;
}

ssize_t sb_bac_enc_daterange(uint8_t *buf, size_t cap, const struct sb_bac_daterange *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    w_daterange(&w, in);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_daterange(const uint8_t *buf, size_t len, struct sb_bac_daterange *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = r_daterange(&r, out);

    return rc < 0 ? rc : (ssize_t)r.off;
}

/* BACnetCalendarEntry ::= CHOICE { date [0] Date, dateRange [1]
 * BACnetDateRange, weekNDay [2] BACnetWeekNDay }
 * BACnetWeekNDay ::= OCTET STRING (SIZE (3)) -- month, week-of-month,
 * day-of-week */
static void w_calentry(struct sb_bac__w *w, const struct sb_bac_calentry *ce)
{
    struct sb_bac_value v = { .type = SB_BAC_DATE, .v.date = ce->date };

    switch (ce->kind) {
    case SB_BAC_CAL_DATE:
        sb_bac__w_ctx(w, 0, &v);
        break;
    case SB_BAC_CAL_RANGE:
        sb_bac__w_open(w, 1);
        w_daterange(w, &ce->range);
        sb_bac__w_close(w, 1);
        break;
    case SB_BAC_CAL_WEEKNDAY:
        v = (struct sb_bac_value){ .type = SB_BAC_OCTET_STRING, .v.octets = { ce->wnd, WND_LEN } };
        sb_bac__w_ctx(w, 2, &v);
        break;
    default:
        sb_bac__w_fail(w, SB_EINVAL);
    }
}

ssize_t sb_bac_enc_calentry(uint8_t *buf, size_t cap, const struct sb_bac_calentry *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    w_calentry(&w, in);
    return sb_bac__w_done(&w);
}

static int r_cal_range(struct sb_bac__r *r, struct sb_bac_daterange *dr)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 1, &in.p, &in.len)) < 0)
        return rc;
    if ((rc = r_daterange(&in, dr)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;   /* the tags closed early */
    return in.off == in.len ? 0 : SB_EPROTO;
}

static int r_calentry(struct sb_bac__r *r, struct sb_bac_calentry *ce)
{
    struct sb_bac_value v;
    int rc;

    memset(ce, 0, sizeof(*ce));
    if (sb_bac__r_peek_ctx(r, 0)) {
        ce->kind = SB_BAC_CAL_DATE;
        if ((rc = sb_bac__r_ctx(r, 0, SB_BAC_DATE, &v)) == 0)
            ce->date = v.v.date;
        return rc;
    }
    if (sb_bac__r_peek_ctx(r, 2)) {
        ce->kind = SB_BAC_CAL_WEEKNDAY;
        if ((rc = sb_bac__r_ctx(r, 2, SB_BAC_OCTET_STRING, &v)) < 0)
            return rc;
        if (v.v.octets.len != WND_LEN)
            return SB_EPROTO;
        memcpy(ce->wnd, v.v.octets.p, WND_LEN);
        return 0;
    }
    ce->kind = SB_BAC_CAL_RANGE;
    return r_cal_range(r, &ce->range);   /* SB_EPROTO if not an opening [1] */
}

ssize_t sb_bac_dec_calentry(const uint8_t *buf, size_t len, struct sb_bac_calentry *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = r_calentry(&r, out);

    return rc < 0 ? rc : (ssize_t)r.off;
}

/* BACnetSpecialEvent ::= SEQUENCE { period CHOICE { calendarEntry [0]
 * BACnetCalendarEntry, calendarReference [1] BACnetObjectIdentifier },
 * listOfTimeValues [2] SEQUENCE OF BACnetTimeValue, eventPriority [3]
 * Unsigned (1..16) } */
ssize_t sb_bac_enc_special(uint8_t *buf, size_t cap, const struct sb_bac_special *in)
{
    struct sb_bac__w w;

    if (in->priority < 1 || in->priority > MAX_PRIORITY)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    if (in->by_ref) {
        sb_bac__w_ctx_oid(&w, 1, in->calendar);
    } else {
        sb_bac__w_open(&w, 0);
        w_calentry(&w, &in->entry);
        sb_bac__w_close(&w, 0);
    }
    w_tv_list(&w, 2, in->tv, in->ntv);
    sb_bac__w_ctx_uint(&w, 3, in->priority);
    return sb_bac__w_done(&w);
}

/* period [0]: one BACnetCalendarEntry filling the tags. */
static int r_period_entry(struct sb_bac__r *r, struct sb_bac_calentry *ce)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 0, &in.p, &in.len)) < 0)
        return rc;
    if ((rc = r_calentry(&in, ce)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_special(const uint8_t *buf, size_t len, struct sb_bac_special *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    uint32_t prio;
    int rc;

    memset(out, 0, sizeof(*out));
    out->by_ref = sb_bac__r_peek_ctx(&r, 1);
    if (out->by_ref)
        rc = sb_bac__r_ctx_oid(&r, 1, &out->calendar);
    else
        rc = r_period_entry(&r, &out->entry);
    if (rc < 0 ||
        (rc = sb_bac__r_constructed(&r, 2, &out->list, &out->list_len)) < 0 ||
        (rc = sb_bac__r_ctx_u32(&r, 3, &prio)) < 0)
        return rc == SB_ERANGE ? SB_EPROTO : rc;
    if (prio < 1 || prio > MAX_PRIORITY)
        return SB_EPROTO;
    out->priority = (uint8_t)prio;
    return (ssize_t)r.off;
}

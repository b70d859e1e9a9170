/*
 * svc_event.c - GetEventInformation request and ACK bodies and
 * AcknowledgeAlarm request body (ANSI/ASHRAE 135, clauses 13.12 and 13.5;
 * ASN.1 GetEventInformation-Request/-ACK, AcknowledgeAlarm-Request in
 * clause 21).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc2.h"

enum { TRANSITION_BITS = 3, MAX_NOTIFY_TYPE = 2, NSTAMPS = 3 };

/* GetEventInformation-Request ::= SEQUENCE {
 * lastReceivedObjectIdentifier [0] BACnetObjectIdentifier OPTIONAL } */
ssize_t sb_bac_enc_gei_req(uint8_t *buf, size_t cap, const struct sb_bac_gei_req *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    if (in->has_last)
        sb_bac__w_ctx_oid(&w, 0, in->last);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_gei_req(const uint8_t *buf, size_t len, struct sb_bac_gei_req *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->has_last = len > 0;
    out->last = (struct sb_bac_oid){ 0, 0 };
    if (out->has_last && (rc = sb_bac__r_ctx_oid(&r, 0, &out->last)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* GetEventInformation-ACK ::= SEQUENCE { listOfEventSummaries [0]
 * SEQUENCE OF SEQUENCE { objectIdentifier [0], eventState [1]
 * BACnetEventState, acknowledgedTransitions [2] BACnetEventTransitionBits,
 * eventTimeStamps [3] SEQUENCE SIZE (3) OF BACnetTimeStamp, notifyType [4]
 * BACnetNotifyType, eventEnable [5] BACnetEventTransitionBits,
 * eventPriorities [6] SEQUENCE SIZE (3) OF Unsigned }, moreEvents [1]
 * BOOLEAN } */
static void w_summary(struct sb_bac__w *w, const struct sb_bac_event_summary *s)
{
    if (s->notify_type > MAX_NOTIFY_TYPE)
        sb_bac__w_fail(w, SB_EINVAL);
    sb_bac__w_ctx_oid(w, 0, s->oid);
    sb_bac__w_ctx_enum(w, 1, s->event_state);
    sb_bac__w_ctx_bits8(w, 2, s->acked, TRANSITION_BITS);
    sb_bac__w_open(w, 3);
    for (size_t i = 0; i < NSTAMPS; i++)
        sb_bac__w_timestamp(w, &s->stamps[i]);
    sb_bac__w_close(w, 3);
    sb_bac__w_ctx_enum(w, 4, s->notify_type);
    sb_bac__w_ctx_bits8(w, 5, s->enable, TRANSITION_BITS);
    sb_bac__w_open(w, 6);
    for (size_t i = 0; i < NSTAMPS; i++)
        sb_bac__w_app_uint(w, s->priorities[i]);
    sb_bac__w_close(w, 6);
}

ssize_t sb_bac_enc_gei_ack(uint8_t *buf, size_t cap, const struct sb_bac_gei_ack *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_open(&w, 0);
    for (size_t i = 0; i < in->nsums; i++)
        w_summary(&w, &in->sums[i]);
    sb_bac__w_close(&w, 0);
    sb_bac__w_ctx_bool(&w, 1, in->more);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_gei_ack(const uint8_t *buf, size_t len, struct sb_bac_gei_ack *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->sums = NULL;
    out->nsums = 0;
    if ((rc = sb_bac__r_constructed(&r, 0, &out->list, &out->list_len)) < 0 ||
        (rc = sb_bac__r_ctx_bool(&r, 1, &out->more)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* eventTimeStamps [3]: exactly three BACnetTimeStamps. */
static int r_stamps(struct sb_bac__r *r, struct sb_bac_timestamp *ts)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 3, &in.p, &in.len)) < 0)
        return rc;
    for (size_t i = 0; i < NSTAMPS; i++)
        if ((rc = sb_bac__r_timestamp(&in, &ts[i])) < 0)
            return rc == SB_ECORRUPT ? SB_EPROTO : rc;   /* fewer than 3 */
    return in.off == in.len ? 0 : SB_EPROTO;
}

/* eventPriorities [6]: exactly three application Unsigneds. */
static int r_priorities(struct sb_bac__r *r, uint32_t *p)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 6, &in.p, &in.len)) < 0)
        return rc;
    for (size_t i = 0; i < NSTAMPS; i++)
        if ((rc = sb_bac__r_app_u32(&in, &p[i])) < 0)
            return rc == SB_ECORRUPT ? SB_EPROTO : rc;
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_event_summary(const uint8_t *buf, size_t len, struct sb_bac_event_summary *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_ctx_enum(&r, 1, &out->event_state)) < 0 ||
        (rc = sb_bac__r_ctx_bits8(&r, 2, &out->acked, TRANSITION_BITS)) < 0 ||
        (rc = r_stamps(&r, out->stamps)) < 0 ||
        (rc = sb_bac__r_ctx_enum(&r, 4, &out->notify_type)) < 0 ||
        (rc = sb_bac__r_ctx_bits8(&r, 5, &out->enable, TRANSITION_BITS)) < 0 ||
        (rc = r_priorities(&r, out->priorities)) < 0)
        return rc;
    if (out->notify_type > MAX_NOTIFY_TYPE)
        return SB_EPROTO;   /* BACnetNotifyType has no proprietary range */
    return (ssize_t)r.off;
}

/* AcknowledgeAlarm-Request ::= SEQUENCE { acknowledgingProcessIdentifier
 * [0] Unsigned32, eventObjectIdentifier [1] BACnetObjectIdentifier,
 * eventStateAcknowledged [2] BACnetEventState, timeStamp [3]
 * BACnetTimeStamp, acknowledgmentSource [4] CharacterString,
 * timeOfAcknowledgment [5] BACnetTimeStamp } */
ssize_t sb_bac_enc_ackalarm(uint8_t *buf, size_t cap, const struct sb_bac_ackalarm *in)
{
    struct sb_bac__w w;
    struct sb_bac_value src = { .type = SB_BAC_CHAR_STRING, .v.str = in->source };

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_uint(&w, 0, in->pid);
    sb_bac__w_ctx_oid(&w, 1, in->oid);
    sb_bac__w_ctx_enum(&w, 2, in->state);
    sb_bac__w_open(&w, 3);
    sb_bac__w_timestamp(&w, &in->stamp);
    sb_bac__w_close(&w, 3);
    sb_bac__w_ctx(&w, 4, &src);
    sb_bac__w_open(&w, 5);
    sb_bac__w_timestamp(&w, &in->when);
    sb_bac__w_close(&w, 5);
    return sb_bac__w_done(&w);
}

/* A BACnetTimeStamp wrapped in constructed tag `tag`, filling it exactly. */
static int r_wrapped_ts(struct sb_bac__r *r, uint8_t tag, struct sb_bac_timestamp *ts)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, tag, &in.p, &in.len)) < 0)
        return rc;
    if ((rc = sb_bac__r_timestamp(&in, ts)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_ackalarm(const uint8_t *buf, size_t len, struct sb_bac_ackalarm *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value v;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = sb_bac__r_ctx_u32(&r, 0, &out->pid)) < 0 ||
        (rc = sb_bac__r_ctx_oid(&r, 1, &out->oid)) < 0 ||
        (rc = sb_bac__r_ctx_enum(&r, 2, &out->state)) < 0 ||
        (rc = r_wrapped_ts(&r, 3, &out->stamp)) < 0 ||
        (rc = sb_bac__r_ctx(&r, 4, SB_BAC_CHAR_STRING, &v)) < 0 ||
        (rc = r_wrapped_ts(&r, 5, &out->when)) < 0)
        return rc;
    out->source = v.v.str;
    return sb_bac__r_end(&r);
}

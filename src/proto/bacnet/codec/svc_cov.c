/*
 * svc_cov.c - SubscribeCOV and (Un)ConfirmedCOVNotification bodies
 * (ANSI/ASHRAE 135, clauses 13.14, 13.6, 13.7; ASN.1 in clause 21).
 */
#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc.h"

enum { MAX_PRIORITY = 16 };

/* SubscribeCOV-Request ::= SEQUENCE { subscriberProcessIdentifier [0]
 * Unsigned32, monitoredObjectIdentifier [1], issueConfirmedNotifications
 * [2] BOOLEAN OPTIONAL, lifetime [3] Unsigned OPTIONAL } */
ssize_t sb_bac_enc_subcov(uint8_t *buf, size_t cap, const struct sb_bac_subcov *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_uint(&w, 0, in->pid);
    sb_bac__w_ctx_oid(&w, 1, in->oid);
    if (in->has_confirmed)
        sb_bac__w_ctx_bool(&w, 2, in->confirmed);
    if (in->has_lifetime)
        sb_bac__w_ctx_uint(&w, 3, in->lifetime);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_subcov(const uint8_t *buf, size_t len, struct sb_bac_subcov *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->confirmed = false;
    out->lifetime = 0;
    if ((rc = sb_bac__r_ctx_u32(&r, 0, &out->pid)) < 0 ||
        (rc = sb_bac__r_ctx_oid(&r, 1, &out->oid)) < 0)
        return rc;
    out->has_confirmed = sb_bac__r_peek_ctx(&r, 2);
    if (out->has_confirmed && (rc = sb_bac__r_ctx_bool(&r, 2, &out->confirmed)) < 0)
        return rc;
    out->has_lifetime = sb_bac__r_peek_ctx(&r, 3);
    if (out->has_lifetime && (rc = sb_bac__r_ctx_u32(&r, 3, &out->lifetime)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* BACnetPropertyValue ::= SEQUENCE { propertyIdentifier [0],
 * propertyArrayIndex [1] OPTIONAL, propertyValue [2] ABSTRACT-SYNTAX.&Type,
 * priority [3] Unsigned (1..16) OPTIONAL } */
void sb_bac__w_propval(struct sb_bac__w *w, const struct sb_bac_propval *p)
{
    if (p->priority > MAX_PRIORITY)
        sb_bac__w_fail(w, SB_EINVAL);
    sb_bac__w_prop(w, 0, p->prop, p->has_index, p->index);
    sb_bac__w_open(w, 2);
    sb_bac__w_put(w, p->value, p->value_len);
    sb_bac__w_close(w, 2);
    if (p->priority != SB_BAC_NO_PRIORITY)
        sb_bac__w_ctx_uint(w, 3, p->priority);
}

ssize_t sb_bac_dec_propval(const uint8_t *buf, size_t len, struct sb_bac_propval *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    uint32_t prio = SB_BAC_NO_PRIORITY;
    int rc;

    if ((rc = sb_bac__r_prop(&r, 0, &out->prop, &out->has_index, &out->index)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 2, &out->value, &out->value_len)) < 0)
        return rc;
    if (sb_bac__r_peek_ctx(&r, 3)) {
        if ((rc = sb_bac__r_ctx_u32(&r, 3, &prio)) < 0)
            return rc;
        if (prio < 1 || prio > MAX_PRIORITY)
            return SB_EPROTO;
    }
    out->priority = (uint8_t)prio;
    return (ssize_t)r.off;
}

/* COVNotification-Request ::= SEQUENCE { subscriberProcessIdentifier [0]
 * Unsigned32, initiatingDeviceIdentifier [1], monitoredObjectIdentifier
 * [2], timeRemaining [3] Unsigned, listOfValues [4] SEQUENCE OF
 * BACnetPropertyValue } -- shared by 13.6 and 13.7 */
ssize_t sb_bac_enc_cov_notif(uint8_t *buf, size_t cap, const struct sb_bac_cov_notif *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_uint(&w, 0, in->pid);
    sb_bac__w_ctx_oid(&w, 1, in->device);
    sb_bac__w_ctx_oid(&w, 2, in->oid);
    sb_bac__w_ctx_uint(&w, 3, in->time_remaining);
    sb_bac__w_open(&w, 4);
    for (size_t i = 0; i < in->nvals; i++)
        sb_bac__w_propval(&w, &in->vals[i]);
    sb_bac__w_close(&w, 4);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_cov_notif(const uint8_t *buf, size_t len, struct sb_bac_cov_notif *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->vals = NULL;
    out->nvals = 0;
    if ((rc = sb_bac__r_ctx_u32(&r, 0, &out->pid)) < 0 ||
        (rc = sb_bac__r_ctx_oid(&r, 1, &out->device)) < 0 ||
        (rc = sb_bac__r_ctx_oid(&r, 2, &out->oid)) < 0 ||
        (rc = sb_bac__r_ctx_u32(&r, 3, &out->time_remaining)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 4, &out->list, &out->list_len)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

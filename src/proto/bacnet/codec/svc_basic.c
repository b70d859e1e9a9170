/*
 * svc_basic.c - Who-Is, I-Am, ReadProperty and WriteProperty bodies
 * (ANSI/ASHRAE 135, clauses 16.10, 16.1, 15.5, 15.9; ASN.1 in clause 21).
 */
#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc.h"

enum { OBJ_DEVICE = 8, MAX_PRIORITY = 16 };

void sb_bac__w_prop(struct sb_bac__w *w, uint8_t tp, uint32_t prop,
                    bool has_index, uint32_t index)
{
    sb_bac__w_ctx_enum(w, tp, prop);
    if (has_index)
        sb_bac__w_ctx_uint(w, (uint8_t)(tp + 1), index);
}

int sb_bac__r_prop(struct sb_bac__r *r, uint8_t tp, uint32_t *prop,
                   bool *has_index, uint32_t *index)
{
    int rc = sb_bac__r_ctx_enum(r, tp, prop);

    if (rc < 0)
        return rc;
    *has_index = sb_bac__r_peek_ctx(r, (uint8_t)(tp + 1));
    *index = 0;
    return *has_index ? sb_bac__r_ctx_u32(r, (uint8_t)(tp + 1), index) : 0;
}

ssize_t sb_bac__r_end(const struct sb_bac__r *r)
{
    return r->off == r->len ? (ssize_t)r->off : SB_EPROTO;
}

/* Who-Is-Request ::= SEQUENCE { deviceInstanceRangeLowLimit [0] Unsigned
 * (0..4194303) OPTIONAL, deviceInstanceRangeHighLimit [1] ... OPTIONAL }
 * -- both or neither (clause 16.10.1.1). */
ssize_t sb_bac_enc_whois(uint8_t *buf, size_t cap, const struct sb_bac_whois *in)
{
    struct sb_bac__w w;

    if (in->has_range && (in->low > in->high || in->high > SB_BAC_MAX_INSTANCE))
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    if (in->has_range) {
        sb_bac__w_ctx_uint(&w, 0, in->low);
        sb_bac__w_ctx_uint(&w, 1, in->high);
    }
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_whois(const uint8_t *buf, size_t len, struct sb_bac_whois *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->has_range = len > 0;
    out->low = out->high = 0;
    if (!out->has_range)
        return 0;
    if ((rc = sb_bac__r_ctx_u32(&r, 0, &out->low)) < 0 ||
        (rc = sb_bac__r_ctx_u32(&r, 1, &out->high)) < 0)
        return rc;
    if (out->low > SB_BAC_MAX_INSTANCE || out->high > SB_BAC_MAX_INSTANCE)
        return SB_EPROTO;
    return sb_bac__r_end(&r);
}

/* I-Am-Request ::= SEQUENCE { iAmDeviceIdentifier BACnetObjectIdentifier,
 * maxAPDULengthAccepted Unsigned, segmentationSupported BACnetSegmentation,
 * vendorID Unsigned16 }, all application tagged (clause 16.1.1). */
ssize_t sb_bac_enc_iam(uint8_t *buf, size_t cap, const struct sb_bac_iam *in)
{
    struct sb_bac__w w;
    struct sb_bac_value v = { .type = SB_BAC_OBJECT_ID, .v.oid = in->device };

    if (in->segmentation > 3)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_app(&w, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = in->max_apdu };
    sb_bac__w_app(&w, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_ENUMERATED, .v.enumerated = in->segmentation };
    sb_bac__w_app(&w, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = in->vendor_id };
    sb_bac__w_app(&w, &v);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_iam(const uint8_t *buf, size_t len, struct sb_bac_iam *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_app(&r, SB_BAC_OBJECT_ID, &v)) < 0)
        return rc;
    out->device = v.v.oid;
    if ((rc = sb_bac__r_app(&r, SB_BAC_UNSIGNED, &v)) < 0)
        return rc;
    if (v.v.u > UINT32_MAX)
        return SB_EPROTO;
    out->max_apdu = (uint32_t)v.v.u;
    if ((rc = sb_bac__r_app(&r, SB_BAC_ENUMERATED, &v)) < 0)
        return rc;
    if (v.v.enumerated > 3)
        return SB_EPROTO;
    out->segmentation = (uint8_t)v.v.enumerated;
    if ((rc = sb_bac__r_app(&r, SB_BAC_UNSIGNED, &v)) < 0)
        return rc;
    if (v.v.u > UINT16_MAX || out->device.type != OBJ_DEVICE)
        return SB_EPROTO;
    out->vendor_id = (uint16_t)v.v.u;
    return sb_bac__r_end(&r);
}

/* ReadProperty-Request ::= SEQUENCE { objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] Unsigned OPTIONAL }
 * (clause 15.5.1.1). */
ssize_t sb_bac_enc_rp_req(uint8_t *buf, size_t cap, const struct sb_bac_rp *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    return sb_bac__w_done(&w);
}

static int r_rp_head(struct sb_bac__r *r, struct sb_bac_rp *out)
{
    int rc = sb_bac__r_ctx_oid(r, 0, &out->oid);

    if (rc < 0)
        return rc;
    return sb_bac__r_prop(r, 1, &out->prop, &out->has_index, &out->index);
}

ssize_t sb_bac_dec_rp_req(const uint8_t *buf, size_t len, struct sb_bac_rp *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = r_rp_head(&r, out);

    out->value = NULL;
    out->value_len = 0;
    return rc < 0 ? rc : sb_bac__r_end(&r);
}

/* ReadProperty-ACK ::= SEQUENCE { objectIdentifier [0], propertyIdentifier
 * [1], propertyArrayIndex [2] OPTIONAL, propertyValue [3] ABSTRACT-SYNTAX
 * .&Type } (clause 15.5.1.3). */
ssize_t sb_bac_enc_rp_ack(uint8_t *buf, size_t cap, const struct sb_bac_rp *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    sb_bac__w_open(&w, 3);
    sb_bac__w_put(&w, in->value, in->value_len);
    sb_bac__w_close(&w, 3);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_rp_ack(const uint8_t *buf, size_t len, struct sb_bac_rp *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    if ((rc = r_rp_head(&r, out)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 3, &out->value, &out->value_len)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* WriteProperty-Request ::= SEQUENCE { objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] OPTIONAL, propertyValue
 * [3], priority [4] Unsigned (1..16) OPTIONAL } (clause 15.9.1.1). */
ssize_t sb_bac_enc_wp(uint8_t *buf, size_t cap, const struct sb_bac_wp *in)
{
    struct sb_bac__w w;

    if (in->priority > MAX_PRIORITY)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    sb_bac__w_open(&w, 3);
    sb_bac__w_put(&w, in->value, in->value_len);
    sb_bac__w_close(&w, 3);
    if (in->priority != SB_BAC_NO_PRIORITY)
        sb_bac__w_ctx_uint(&w, 4, in->priority);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_wp(const uint8_t *buf, size_t len, struct sb_bac_wp *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    uint32_t prio = SB_BAC_NO_PRIORITY;
    int rc;

    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_prop(&r, 1, &out->prop, &out->has_index, &out->index)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 3, &out->value, &out->value_len)) < 0)
        return rc;
    if (sb_bac__r_left(&r)) {
        if ((rc = sb_bac__r_ctx_u32(&r, 4, &prio)) < 0)
            return rc;
        if (prio < 1 || prio > MAX_PRIORITY)
            return SB_EPROTO;
    }
    out->priority = (uint8_t)prio;
    return sb_bac__r_end(&r);
}

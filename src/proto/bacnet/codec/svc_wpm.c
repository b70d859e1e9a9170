/*
 * svc_wpm.c - WritePropertyMultiple request body and WritePropertyMultiple-
 * Error (ANSI/ASHRAE 135, clause 15.10; ASN.1 WriteAccessSpecification,
 * BACnetPropertyValue, BACnetObjectPropertyReference in clause 21).
 */
#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc2.h"

ssize_t sb_bac_enc_propval(uint8_t *buf, size_t cap, const struct sb_bac_propval *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_propval(&w, in);
    return sb_bac__w_done(&w);
}

/* WritePropertyMultiple-Request ::= SEQUENCE { listOfwriteAccessSpecifications
 * SEQUENCE OF WriteAccessSpecification }
 * WriteAccessSpecification ::= SEQUENCE { objectIdentifier [0],
 * listOfProperties [1] SEQUENCE OF BACnetPropertyValue } */
ssize_t sb_bac_enc_wpm_spec(uint8_t *buf, size_t cap, const struct sb_bac_wpm_spec *in)
{
    struct sb_bac__w w;

    if (in->nvals == 0)
        return SB_EINVAL;   /* a specification without values writes nothing */
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_open(&w, 1);
    for (size_t i = 0; i < in->nvals; i++)
        sb_bac__w_propval(&w, &in->vals[i]);
    sb_bac__w_close(&w, 1);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_wpm_spec(const uint8_t *buf, size_t len, struct sb_bac_wpm_spec *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->vals = NULL;
    out->nvals = 0;
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 1, &out->list, &out->list_len)) < 0)
        return rc;
    if (out->list_len == 0)
        return SB_EPROTO;
    return (ssize_t)r.off;
}

/* WritePropertyMultiple-Error ::= SEQUENCE { errorType [0] Error,
 * firstFailedWriteAttempt [1] BACnetObjectPropertyReference }
 * BACnetObjectPropertyReference ::= SEQUENCE { objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] Unsigned OPTIONAL } */
ssize_t sb_bac_enc_wpm_error(uint8_t *buf, size_t cap, const struct sb_bac_wpm_error *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_open(&w, 0);
    sb_bac__w_error(&w, in->err_class, in->err_code);
    sb_bac__w_close(&w, 0);
    sb_bac__w_open(&w, 1);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    sb_bac__w_close(&w, 1);
    return sb_bac__w_done(&w);
}

/* The [1] BACnetObjectPropertyReference, which must fill its tags. */
static int r_objpropref(struct sb_bac__r *r, struct sb_bac_wpm_error *out)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 1, &in.p, &in.len)) < 0)
        return rc;
    if ((rc = sb_bac__r_ctx_oid(&in, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_prop(&in, 1, &out->prop, &out->has_index, &out->index)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;   /* the tags closed early */
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_wpm_error(const uint8_t *buf, size_t len, struct sb_bac_wpm_error *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    if ((rc = sb_bac__r_ctx_error(&r, 0, &out->err_class, &out->err_code)) < 0 ||
        (rc = r_objpropref(&r, out)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

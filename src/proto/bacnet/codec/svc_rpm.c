/*
 * svc_rpm.c - ReadPropertyMultiple request and ACK bodies (ANSI/ASHRAE 135,
 * clause 15.7; ASN.1 ReadAccessSpecification / ReadAccessResult, clause 21).
 */
#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc.h"

/* ReadAccessSpecification ::= SEQUENCE { objectIdentifier [0],
 * listOfPropertyReferences [1] SEQUENCE OF BACnetPropertyReference }
 * BACnetPropertyReference ::= SEQUENCE { propertyIdentifier [0],
 * propertyArrayIndex [1] Unsigned OPTIONAL } */
ssize_t sb_bac_enc_rpm_spec(uint8_t *buf, size_t cap, const struct sb_bac_rpm_spec *in)
{
    struct sb_bac__w w;

    if (in->nrefs == 0)
        return SB_EINVAL;   /* the list has at least one reference */
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_open(&w, 1);
    for (size_t i = 0; i < in->nrefs; i++)
        sb_bac__w_prop(&w, 0, in->refs[i].prop, in->refs[i].has_index,
                       in->refs[i].index);
    sb_bac__w_close(&w, 1);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_rpm_spec(const uint8_t *buf, size_t len, struct sb_bac_rpm_spec *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->refs = NULL;
    out->nrefs = 0;
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 1, &out->list, &out->list_len)) < 0)
        return rc;
    if (out->list_len == 0)
        return SB_EPROTO;
    return (ssize_t)r.off;
}

ssize_t sb_bac_dec_propref(const uint8_t *buf, size_t len, struct sb_bac_propref *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = sb_bac__r_prop(&r, 0, &out->prop, &out->has_index, &out->index);

    return rc < 0 ? rc : (ssize_t)r.off;
}

/* ReadAccessResult ::= SEQUENCE { objectIdentifier [0], listOfResults [1]
 * SEQUENCE OF SEQUENCE { propertyIdentifier [2], propertyArrayIndex [3]
 * OPTIONAL, readResult CHOICE { propertyValue [4] ABSTRACT-SYNTAX.&Type,
 * propertyAccessError [5] Error } } OPTIONAL } */
static void w_elem(struct sb_bac__w *w, const struct sb_bac_rpm_elem *e)
{
    struct sb_bac_value v = { .type = SB_BAC_ENUMERATED };

    sb_bac__w_prop(w, 2, e->prop, e->has_index, e->index);
    if (!e->is_error) {
        sb_bac__w_open(w, 4);
        sb_bac__w_put(w, e->value, e->value_len);
        sb_bac__w_close(w, 4);
        return;
    }
    sb_bac__w_open(w, 5);
    v.v.enumerated = e->err_class;
    sb_bac__w_app(w, &v);
    v.v.enumerated = e->err_code;
    sb_bac__w_app(w, &v);
    sb_bac__w_close(w, 5);
}

ssize_t sb_bac_enc_rpm_result(uint8_t *buf, size_t cap, const struct sb_bac_rpm_result *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_open(&w, 1);
    for (size_t i = 0; i < in->nelems; i++)
        w_elem(&w, &in->elems[i]);
    sb_bac__w_close(&w, 1);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_rpm_result(const uint8_t *buf, size_t len, struct sb_bac_rpm_result *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->elems = NULL;
    out->nelems = 0;
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 1, &out->list, &out->list_len)) < 0)
        return rc;
    return (ssize_t)r.off;
}

/* The [5] Error: two application Enumerateds and nothing else. */
static int r_access_error(struct sb_bac__r *r, struct sb_bac_rpm_elem *out)
{
    struct sb_bac__r in = { 0 };
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_constructed(r, 5, &in.p, &in.len)) < 0 ||
        (rc = sb_bac__r_app(&in, SB_BAC_ENUMERATED, &v)) < 0)
        return rc;
    out->err_class = v.v.enumerated;
    if ((rc = sb_bac__r_app(&in, SB_BAC_ENUMERATED, &v)) < 0)
        return rc;
    out->err_code = v.v.enumerated;
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_rpm_elem(const uint8_t *buf, size_t len, struct sb_bac_rpm_elem *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    out->value = NULL;
    out->value_len = 0;
    out->err_class = out->err_code = 0;
    if ((rc = sb_bac__r_prop(&r, 2, &out->prop, &out->has_index, &out->index)) < 0)
        return rc;
    out->is_error = sb_bac__r_peek_open(&r, 5);
    if (out->is_error)
        rc = r_access_error(&r, out);
    else
        rc = sb_bac__r_constructed(&r, 4, &out->value, &out->value_len);
    return rc < 0 ? rc : (ssize_t)r.off;
}

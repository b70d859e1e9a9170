/*
 * svc_rr.c - ReadRange request and ACK bodies and BACnetLogRecord, the
 * element of a Trend Log's Log_Buffer (ANSI/ASHRAE 135, clause 15.8;
 * ASN.1 ReadRange-Request, ReadRange-ACK, BACnetLogRecord in clause 21).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc2.h"

enum { RR_FLAG_BITS = 3, STATUS_FLAG_BITS = 4, LOG_STATUS_BITS = 3 };
/* Integers a double holds exactly (IEEE-754 binary64: 53-bit mantissa). */
#define EXACT_MAX 9007199254740992.0   /* 2^53 */
#define EXACT_MAX_INT ((int64_t)1 << 53)

static bool count_ok(int32_t count)
{
    return count >= INT16_MIN && count <= INT16_MAX;   /* INTEGER16 */
}

/* ReadRange-Request ::= SEQUENCE { objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] Unsigned OPTIONAL,
 * range CHOICE { byPosition [3] SEQUENCE { referenceIndex Unsigned,
 * count INTEGER16 }, -- context tag 4 is deprecated
 * -- context tag 5 is deprecated
 * bySequenceNumber [6] SEQUENCE { referenceSequenceNumber Unsigned32,
 * count INTEGER16 }, byTime [7] SEQUENCE { referenceTime BACnetDateTime,
 * count INTEGER16 } } OPTIONAL } */
static void w_range(struct sb_bac__w *w, const struct sb_bac_rr *in)
{
    struct sb_bac_value c = { .type = SB_BAC_SIGNED, .v.i = in->count };

    if (in->kind == SB_BAC_RR_ALL)
        return;
    if ((in->kind != SB_BAC_RR_POSITION && in->kind != SB_BAC_RR_SEQUENCE &&
         in->kind != SB_BAC_RR_TIME) || !count_ok(in->count)) {
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    sb_bac__w_open(w, in->kind);
    if (in->kind == SB_BAC_RR_TIME)
        sb_bac__w_datetime(w, &in->ref_time);
    else
        sb_bac__w_app_uint(w, in->ref_index);
    sb_bac__w_app(w, &c);
    sb_bac__w_close(w, in->kind);
}

ssize_t sb_bac_enc_rr_req(uint8_t *buf, size_t cap, const struct sb_bac_rr *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    w_range(&w, in);
    return sb_bac__w_done(&w);
}

/* The content of the range's constructed tag: reference then count. */
static int r_range_inner(struct sb_bac__r *in, struct sb_bac_rr *out)
{
    struct sb_bac_value c;
    int rc;

    if (out->kind == SB_BAC_RR_TIME)
        rc = sb_bac__r_datetime(in, &out->ref_time);
    else
        rc = sb_bac__r_app_u32(in, &out->ref_index);
    if (rc < 0 || (rc = sb_bac__r_app(in, SB_BAC_SIGNED, &c)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;   /* the tags closed early */
    if (c.v.i < INT16_MIN || c.v.i > INT16_MAX || in->off != in->len)
        return SB_EPROTO;
    out->count = (int32_t)c.v.i;
    return 0;
}

static int r_range(struct sb_bac__r *r, struct sb_bac_rr *out)
{
    static const uint8_t kinds[] = { SB_BAC_RR_POSITION, SB_BAC_RR_SEQUENCE, SB_BAC_RR_TIME };
    struct sb_bac__r in = { 0 };
    int rc;

    for (size_t i = 0; i < sizeof(kinds); i++)
        if (sb_bac__r_peek_open(r, kinds[i]))
            out->kind = kinds[i];
    if (out->kind == SB_BAC_RR_ALL)
        return SB_EPROTO;   /* deprecated [4]/[5], or not a range at all */
    if ((rc = sb_bac__r_constructed(r, out->kind, &in.p, &in.len)) < 0)
        return rc;
    return r_range_inner(&in, out);
}

ssize_t sb_bac_dec_rr_req(const uint8_t *buf, size_t len, struct sb_bac_rr *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_prop(&r, 1, &out->prop, &out->has_index, &out->index)) < 0)
        return rc;
    if (sb_bac__r_left(&r) && (rc = r_range(&r, out)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* ReadRange-ACK ::= SEQUENCE { objectIdentifier [0], propertyIdentifier
 * [1], propertyArrayIndex [2] Unsigned OPTIONAL, resultFlags [3]
 * BACnetResultFlags, itemCount [4] Unsigned, itemData [5] SEQUENCE OF
 * ABSTRACT-SYNTAX.&Type, firstSequenceNumber [6] Unsigned32 OPTIONAL } */
ssize_t sb_bac_enc_rr_ack(uint8_t *buf, size_t cap, const struct sb_bac_rr_ack *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx_oid(&w, 0, in->oid);
    sb_bac__w_prop(&w, 1, in->prop, in->has_index, in->index);
    sb_bac__w_ctx_bits8(&w, 3, in->flags, RR_FLAG_BITS);
    sb_bac__w_ctx_uint(&w, 4, in->count);
    sb_bac__w_open(&w, 5);
    sb_bac__w_put(&w, in->items, in->items_len);
    sb_bac__w_close(&w, 5);
    if (in->has_first_seq)
        sb_bac__w_ctx_uint(&w, 6, in->first_seq);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_rr_ack(const uint8_t *buf, size_t len, struct sb_bac_rr_ack *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = sb_bac__r_ctx_oid(&r, 0, &out->oid)) < 0 ||
        (rc = sb_bac__r_prop(&r, 1, &out->prop, &out->has_index, &out->index)) < 0 ||
        (rc = sb_bac__r_ctx_bits8(&r, 3, &out->flags, RR_FLAG_BITS)) < 0 ||
        (rc = sb_bac__r_ctx_u32(&r, 4, &out->count)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 5, &out->items, &out->items_len)) < 0)
        return rc;
    out->has_first_seq = sb_bac__r_left(&r) > 0;
    if (out->has_first_seq && (rc = sb_bac__r_ctx_u32(&r, 6, &out->first_seq)) < 0)
        return rc;
    return sb_bac__r_end(&r);
}

/* ---- BACnetLogRecord ----
 * BACnetLogRecord ::= SEQUENCE { timestamp [0] BACnetDateTime,
 * logDatum [1] CHOICE { log-status [0] BACnetLogStatus, boolean-value [1]
 * BOOLEAN, real-value [2] REAL, enumerated-value [3] ENUMERATED,
 * unsigned-value [4] Unsigned, signed-value [5] INTEGER, bitstring-value
 * [6] BIT STRING, null-value [7] NULL, failure [8] Error, time-change [9]
 * REAL, any-value [10] ABSTRACT-SYNTAX.&Type }, statusFlags [2]
 * BACnetStatusFlags OPTIONAL } */

/* v as an integer in [lo, hi] (within +-2^53), exactly; false for
 * fractions and NaN.  No libm: the codec links nothing but libc. */
static bool int_in(double v, double lo, double hi)
{
    return v >= lo && v <= hi && (double)(int64_t)v == v;
}

/* A numeric datum as a context primitive value, or SB_EINVAL. */
static int num_value(const struct sb_bac_logrec *in, struct sb_bac_value *v)
{
    switch (in->kind) {
    case SB_BAC_LOG_BOOL:
        *v = (struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = in->v != 0 };
        return 0;
    case SB_BAC_LOG_REAL:
    case SB_BAC_LOG_TIME_CHANGE:
        if (isfinite(in->v) && (in->v > FLT_MAX || in->v < -FLT_MAX))
            return SB_EINVAL;   /* would become infinity */
        *v = (struct sb_bac_value){ .type = SB_BAC_REAL, .v.real = (float)in->v };
        return 0;
    case SB_BAC_LOG_ENUM:
        *v = (struct sb_bac_value){ .type = SB_BAC_ENUMERATED };
        if (!int_in(in->v, 0, UINT32_MAX))
            return SB_EINVAL;
        v->v.enumerated = (uint32_t)in->v;
        return 0;
    case SB_BAC_LOG_UNSIGNED:
        *v = (struct sb_bac_value){ .type = SB_BAC_UNSIGNED };
        if (!int_in(in->v, 0, EXACT_MAX))
            return SB_EINVAL;
        v->v.u = (uint64_t)in->v;
        return 0;
    default:   /* SB_BAC_LOG_SIGNED */
        *v = (struct sb_bac_value){ .type = SB_BAC_SIGNED };
        if (!int_in(in->v, -EXACT_MAX, EXACT_MAX))
            return SB_EINVAL;
        v->v.i = (int64_t)in->v;
        return 0;
    }
}

static void w_datum(struct sb_bac__w *w, const struct sb_bac_logrec *in)
{
    struct sb_bac_value v = { .type = SB_BAC_NULL };
    int rc;

    switch (in->kind) {
    case SB_BAC_LOG_STATUS:
        sb_bac__w_ctx_bits8(w, 0, in->log_status, LOG_STATUS_BITS);
        return;
    case SB_BAC_LOG_BITS:
        v = (struct sb_bac_value){ .type = SB_BAC_BIT_STRING, .v.bits = in->bits };
        break;
    case SB_BAC_LOG_NULL:
        break;
    case SB_BAC_LOG_FAILURE:
        sb_bac__w_open(w, 8);
        sb_bac__w_error(w, in->err_class, in->err_code);
        sb_bac__w_close(w, 8);
        return;
    case SB_BAC_LOG_ANY:
        sb_bac__w_open(w, 10);
        sb_bac__w_put(w, in->any, in->any_len);
        sb_bac__w_close(w, 10);
        return;
    case SB_BAC_LOG_BOOL: case SB_BAC_LOG_REAL: case SB_BAC_LOG_ENUM:
    case SB_BAC_LOG_UNSIGNED: case SB_BAC_LOG_SIGNED: case SB_BAC_LOG_TIME_CHANGE:
        if ((rc = num_value(in, &v)) < 0) {
            sb_bac__w_fail(w, rc);
            return;
        }
        break;
    default:
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    sb_bac__w_ctx(w, in->kind, &v);   /* the choice's context tag is the kind */
}

ssize_t sb_bac_enc_logrec(uint8_t *buf, size_t cap, const struct sb_bac_logrec *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_open(&w, 0);
    sb_bac__w_datetime(&w, &in->ts);
    sb_bac__w_close(&w, 0);
    sb_bac__w_open(&w, 1);
    w_datum(&w, in);
    sb_bac__w_close(&w, 1);
    if (in->has_status)
        sb_bac__w_ctx_bits8(&w, 2, in->status_flags, STATUS_FLAG_BITS);
    return sb_bac__w_done(&w);
}

/* Application type of each primitive choice of logDatum, by tag. */
static const uint8_t datum_type[] = {
    SB_BAC_BIT_STRING, SB_BAC_BOOLEAN, SB_BAC_REAL, SB_BAC_ENUMERATED, SB_BAC_UNSIGNED,
    SB_BAC_SIGNED, SB_BAC_BIT_STRING, SB_BAC_NULL, 0, SB_BAC_REAL
};

/* A primitive datum already known to be context tag `kind` (0..9 but 8). */
static int r_prim_datum(struct sb_bac__r *in, struct sb_bac_logrec *out)
{
    struct sb_bac_value v;
    int rc;

    if (out->kind == SB_BAC_LOG_STATUS)
        return sb_bac__r_ctx_bits8(in, 0, &out->log_status, LOG_STATUS_BITS);
    if ((rc = sb_bac__r_ctx(in, out->kind, datum_type[out->kind], &v)) < 0)
        return rc;
    switch (v.type) {
    case SB_BAC_BOOLEAN:    out->v = v.v.boolean; break;
    case SB_BAC_REAL:       out->v = v.v.real; break;
    case SB_BAC_ENUMERATED: out->v = v.v.enumerated; break;
    case SB_BAC_BIT_STRING: out->bits = v.v.bits; break;
    case SB_BAC_NULL:       break;
    case SB_BAC_UNSIGNED:
        if (v.v.u > (uint64_t)EXACT_MAX_INT)
            return SB_ERANGE;
        out->v = (double)v.v.u;
        break;
    default:   /* SB_BAC_SIGNED */
        if (v.v.i > EXACT_MAX_INT || v.v.i < -EXACT_MAX_INT)
            return SB_ERANGE;
        out->v = (double)v.v.i;
    }
    return 0;
}

/* The content of logDatum [1]: exactly one choice. */
static int r_datum(struct sb_bac__r *in, struct sb_bac_logrec *out)
{
    struct sb_bac_tag t;
    ssize_t h = sb_bac_dec_tag(in->p + in->off, sb_bac__r_left(in), &t);
    int rc;

    if (h < 0)
        return h == SB_ECORRUPT ? SB_EPROTO : (int)h;   /* empty or cut by the tags */
    if (!t.context || t.kind == SB_BAC_TAG_CLOSE || t.number > SB_BAC_LOG_ANY ||
        (t.kind == SB_BAC_TAG_OPEN) != (t.number == SB_BAC_LOG_FAILURE || t.number == SB_BAC_LOG_ANY))
        return SB_EPROTO;
    out->kind = t.number;
    if (t.number == SB_BAC_LOG_FAILURE)
        rc = sb_bac__r_ctx_error(in, 8, &out->err_class, &out->err_code);
    else if (t.number == SB_BAC_LOG_ANY)
        rc = sb_bac__r_constructed(in, 10, &out->any, &out->any_len);
    else
        rc = r_prim_datum(in, out);
    if (rc < 0)
        return rc;
    return in->off == in->len ? 0 : SB_EPROTO;
}

static int r_logrec_ts(struct sb_bac__r *r, struct sb_bac_datetime *ts)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 0, &in.p, &in.len)) < 0)
        return rc;
    if ((rc = sb_bac__r_datetime(&in, ts)) < 0)
        return rc == SB_ECORRUPT ? SB_EPROTO : rc;
    return in.off == in.len ? 0 : SB_EPROTO;
}

ssize_t sb_bac_dec_logrec(const uint8_t *buf, size_t len, struct sb_bac_logrec *out)
{
    struct sb_bac__r r = { .p = buf, .len = len }, in = { 0 };
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = r_logrec_ts(&r, &out->ts)) < 0 ||
        (rc = sb_bac__r_constructed(&r, 1, &in.p, &in.len)) < 0 ||
        (rc = r_datum(&in, out)) < 0)
        return rc;
    out->has_status = sb_bac__r_peek_ctx(&r, 2);
    if (out->has_status && (rc = sb_bac__r_ctx_bits8(&r, 2, &out->status_flags, STATUS_FLAG_BITS)) < 0)
        return rc;
    return (ssize_t)r.off;
}

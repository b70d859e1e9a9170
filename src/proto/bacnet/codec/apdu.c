/*
 * apdu.c - BACnet APDU header codec (ANSI/ASHRAE 135, clause 20.1).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/codec_int.h"

/* Flag bits of the first octet, clauses 20.1.2-20.1.9. */
enum { F_SEG = 0x08, F_MOR = 0x04, F_SA = 0x02, F_NAK = 0x02, F_SRV = 0x01 };

/* Clause 20.1.2.5 (Table 20-2 of 135-2020). */
static const unsigned max_apdu_tab[] = { 50, 128, 206, 480, 1024, 1476 };

unsigned sb_bac_max_apdu_octets(uint8_t code)
{
    return code < 6 ? max_apdu_tab[code] : 0;
}

int sb_bac_max_apdu_code(unsigned octets)
{
    for (int c = 5; c >= 0; c--)
        if (octets >= max_apdu_tab[c])
            return c;
    return SB_EINVAL;
}

/* Clause 20.1.2.4: 0 unspecified, 1..6 = 2^code, 7 = more than 64. */
unsigned sb_bac_max_segs(uint8_t code)
{
    if (code == 0)
        return 0;
    return code >= 7 ? 65 : 1u << code;
}

/* Header length of in->type, or SB_EINVAL for a reserved type. */
static ssize_t hdr_len(const struct sb_bac_apdu *in)
{
    switch (in->type) {
    case SB_BAC_PDU_CONFIRMED:   return in->seg ? 6 : 4;
    case SB_BAC_PDU_UNCONFIRMED: return 2;
    case SB_BAC_PDU_SIMPLE_ACK:  return 3;
    case SB_BAC_PDU_COMPLEX_ACK: return in->seg ? 5 : 3;
    case SB_BAC_PDU_SEGMENT_ACK: return 4;
    case SB_BAC_PDU_ERROR:
    case SB_BAC_PDU_REJECT:
    case SB_BAC_PDU_ABORT:       return 3;
    default:                     return SB_EINVAL;
    }
}

static uint8_t first_octet(const struct sb_bac_apdu *in)
{
    uint8_t f = (uint8_t)(in->type << 4);

    switch (in->type) {
    case SB_BAC_PDU_CONFIRMED:
        f |= (uint8_t)((in->sa ? F_SA : 0));
        /* fall through */
    case SB_BAC_PDU_COMPLEX_ACK:
        f |= (uint8_t)((in->seg ? F_SEG : 0) | (in->more ? F_MOR : 0));
        break;
    case SB_BAC_PDU_SEGMENT_ACK:
        f |= (uint8_t)((in->nak ? F_NAK : 0) | (in->srv ? F_SRV : 0));
        break;
    case SB_BAC_PDU_ABORT:
        f |= (uint8_t)(in->srv ? F_SRV : 0);
        break;
    default:
        break;
    }
    return f;
}

/* Everything after the first octet, clause 20.1.x.1 layouts. */
static void w_rest(struct sb_bac__w *w, const struct sb_bac_apdu *in)
{
    if (in->type == SB_BAC_PDU_CONFIRMED)
        sb_bac__w_u8(w, (uint8_t)((in->max_segs & 7) << 4 | (in->max_apdu & 15)));
    if (in->type != SB_BAC_PDU_UNCONFIRMED)
        sb_bac__w_u8(w, in->invoke_id);
    if ((in->type == SB_BAC_PDU_CONFIRMED || in->type == SB_BAC_PDU_COMPLEX_ACK ||
         in->type == SB_BAC_PDU_SEGMENT_ACK) && (in->seg || in->type == SB_BAC_PDU_SEGMENT_ACK)) {
        sb_bac__w_u8(w, in->seq);
        sb_bac__w_u8(w, in->window);
    }
    if (in->type == SB_BAC_PDU_REJECT || in->type == SB_BAC_PDU_ABORT)
        sb_bac__w_u8(w, in->reason);
    else if (in->type != SB_BAC_PDU_SEGMENT_ACK)
        sb_bac__w_u8(w, in->service);
}

ssize_t sb_bac_enc_apdu(uint8_t *buf, size_t cap, const struct sb_bac_apdu *in)
{
    struct sb_bac__w w;
    ssize_t h = hdr_len(in);

    if (h < 0)
        return h;
    if (in->type == SB_BAC_PDU_CONFIRMED && in->max_apdu > SB_BAC_MAX_APDU_1476)
        return SB_EINVAL;
    if (buf && (cap < (size_t)h || cap - (size_t)h < in->body_len))
        return SB_ENOSPC;
    if (buf && in->body_len)
        memmove(buf + h, in->body, in->body_len);
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_u8(&w, first_octet(in));
    w_rest(&w, in);
    w.n += in->body_len;   /* already moved into place */
    return sb_bac__w_done(&w);
}

/* Sequence number and window size of a segmented message. */
static int r_seg(const uint8_t *buf, size_t *off, struct sb_bac_apdu *out)
{
    out->seq = buf[(*off)++];
    out->window = buf[(*off)++];
    /* clause 20.1.2.8: proposed window size is 1..127 */
    return out->window >= 1 && out->window <= 127 ? 0 : SB_EPROTO;
}

static void r_flags(uint8_t f, struct sb_bac_apdu *out)
{
    switch (out->type) {
    case SB_BAC_PDU_CONFIRMED:
        out->sa = f & F_SA;
        /* fall through */
    case SB_BAC_PDU_COMPLEX_ACK:
        out->seg = f & F_SEG;
        out->more = f & F_MOR;
        break;
    case SB_BAC_PDU_SEGMENT_ACK:
        out->nak = f & F_NAK;
        out->srv = f & F_SRV;
        break;
    case SB_BAC_PDU_ABORT:
        out->srv = f & F_SRV;
        break;
    default:
        break;
    }
}

ssize_t sb_bac_dec_apdu(const uint8_t *buf, size_t len, struct sb_bac_apdu *out)
{
    size_t off = 1;
    ssize_t h;
    int rc = 0;

    if (len < 1)
        return SB_ECORRUPT;
    memset(out, 0, sizeof(*out));
    out->type = buf[0] >> 4;
    r_flags(buf[0], out);
    if ((h = hdr_len(out)) < 0)
        return SB_EPROTO;
    if (len < (size_t)h)
        return SB_ECORRUPT;
    if (out->type == SB_BAC_PDU_CONFIRMED) {
        out->max_segs = (buf[1] >> 4) & 7;
        out->max_apdu = buf[1] & 15;
        if (out->max_apdu > SB_BAC_MAX_APDU_1476)
            return SB_EPROTO;
        off++;
    }
    if (out->type != SB_BAC_PDU_UNCONFIRMED)
        out->invoke_id = buf[off++];
    if (out->seg)
        rc = r_seg(buf, &off, out);
    else if (out->type == SB_BAC_PDU_SEGMENT_ACK)
        rc = r_seg(buf, &off, out);
    if (rc < 0)
        return rc;
    if (out->type == SB_BAC_PDU_REJECT || out->type == SB_BAC_PDU_ABORT)
        out->reason = buf[off++];
    else if (out->type != SB_BAC_PDU_SEGMENT_ACK)
        out->service = buf[off++];
    out->body = buf + off;
    out->body_len = len - off;
    return (ssize_t)off;
}

/* Clause 21, BACnet-Error ::= SEQUENCE { error-class ENUMERATED,
 * error-code ENUMERATED }, both application tagged. */
ssize_t sb_bac_enc_error(uint8_t *buf, size_t cap, const struct sb_bac_error *in)
{
    struct sb_bac__w w;
    struct sb_bac_value c = { .type = SB_BAC_ENUMERATED, .v.enumerated = in->err_class };
    struct sb_bac_value k = { .type = SB_BAC_ENUMERATED, .v.enumerated = in->err_code };

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_app(&w, &c);
    sb_bac__w_app(&w, &k);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_error(const uint8_t *buf, size_t len, struct sb_bac_error *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_app(&r, SB_BAC_ENUMERATED, &v)) < 0)
        return rc;
    out->err_class = v.v.enumerated;
    if ((rc = sb_bac__r_app(&r, SB_BAC_ENUMERATED, &v)) < 0)
        return rc;
    out->err_code = v.v.enumerated;
    return (ssize_t)r.off;
}

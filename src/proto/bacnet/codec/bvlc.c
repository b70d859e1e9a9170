/*
 * bvlc.c - BACnet/IP BVLL codec (ANSI/ASHRAE 135, Annex J.2).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/codec_int.h"

/* Shape of each function's body after the 4-octet header (Annex J.2.x). */
enum body { B_NONE, B_U16, B_ADDR, B_FWD, B_NPDU, B_TABLE };

static int body_of(uint8_t fn)
{
    switch (fn) {
    case SB_BVLC_RESULT:           return B_U16;    /* J.2.1 */
    case SB_BVLC_REGISTER_FD:      return B_U16;    /* J.2.6 */
    case SB_BVLC_READ_BDT:                          /* J.2.3 */
    case SB_BVLC_READ_FDT:         return B_NONE;   /* J.2.7 */
    case SB_BVLC_DELETE_FDT_ENTRY: return B_ADDR;   /* J.2.9 */
    case SB_BVLC_FORWARDED_NPDU:   return B_FWD;    /* J.2.5 */
    case SB_BVLC_DISTRIBUTE_BCAST:                  /* J.2.10 */
    case SB_BVLC_ORIGINAL_UNICAST:                  /* J.2.11 */
    case SB_BVLC_ORIGINAL_BCAST:   return B_NPDU;   /* J.2.12 */
    case SB_BVLC_WRITE_BDT:                         /* J.2.2 */
    case SB_BVLC_READ_BDT_ACK:                      /* J.2.4 */
    case SB_BVLC_READ_FDT_ACK:     return B_TABLE;  /* J.2.8 */
    default:                       return SB_EINVAL;
    }
}

ssize_t sb_bac_bvlc_hdr_len(uint8_t fn)
{
    int b = body_of(fn);

    if (b < 0)
        return b;
    return b == B_FWD ? SB_BAC_BVLC_HDR + 6 : SB_BAC_BVLC_HDR;
}

ssize_t sb_bac_enc_bvlc(uint8_t *buf, size_t cap, const struct sb_bac_bvlc *in)
{
    struct sb_bac__w w;
    int b = body_of(in->function);
    size_t total = SB_BAC_BVLC_HDR;

    if (b < 0)
        return b;
    if (b == B_U16)
        total += 2;
    else if (b == B_ADDR)
        total += 6;
    else if (b == B_FWD)
        total += 6 + in->data_len;
    else if (b != B_NONE)
        total += in->data_len;
    if (total > 0xFFFF)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    /* check room first: data may sit inside buf past the header */
    if (buf && cap < total)
        return SB_ENOSPC;
    if (buf && (b == B_FWD || b == B_NPDU || b == B_TABLE) && in->data_len)
        memmove(buf + total - in->data_len, in->data, in->data_len);
    sb_bac__w_u8(&w, SB_BAC_BVLC_TYPE);
    sb_bac__w_u8(&w, in->function);
    sb_bac__w_u16(&w, (uint16_t)total);
    if (b == B_U16)
        sb_bac__w_u16(&w, in->function == SB_BVLC_RESULT ? in->result : in->ttl);
    else if (b == B_ADDR || b == B_FWD)
        sb_bac__w_put(&w, in->addr, 6);
    if (b == B_FWD || b == B_NPDU || b == B_TABLE)
        w.n += in->data_len;   /* already moved into place */
    return sb_bac__w_done(&w);
}

/* Annex J.2: fixed sizes are exact; table bodies are whole 10-octet BDT
 * entries (J.2.2.1) or 10-octet FDT entries (J.2.8.1). */
static int check_size(int b, size_t body)
{
    switch (b) {
    case B_NONE: return body == 0 ? 0 : SB_EPROTO;
    case B_U16:  return body == 2 ? 0 : SB_EPROTO;
    case B_ADDR: return body == 6 ? 0 : SB_EPROTO;
    case B_FWD:  return body >= 6 ? 0 : SB_ECORRUPT;
    case B_TABLE: return body % 10 == 0 ? 0 : SB_EPROTO;
    default:     return 0;   /* B_NPDU: the NPDU decoder checks it */
    }
}

ssize_t sb_bac_dec_bvlc(const uint8_t *buf, size_t len, struct sb_bac_bvlc *out)
{
    size_t total, off = SB_BAC_BVLC_HDR;
    int b, rc;

    if (len < SB_BAC_BVLC_HDR)
        return SB_ECORRUPT;
    if (buf[0] != SB_BAC_BVLC_TYPE)
        return SB_EPROTO;
    if ((b = body_of(buf[1])) < 0)
        return SB_EPROTO;
    total = (size_t)buf[2] << 8 | buf[3];
    if (total < SB_BAC_BVLC_HDR || total > len)
        return SB_ECORRUPT;
    if ((rc = check_size(b, total - off)) < 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->function = buf[1];
    if (b == B_U16) {
        uint16_t v = (uint16_t)(buf[4] << 8 | buf[5]);
        if (out->function == SB_BVLC_RESULT)
            out->result = v;
        else
            out->ttl = v;
        off += 2;
    } else if (b == B_ADDR || b == B_FWD) {
        memcpy(out->addr, buf + off, 6);
        off += 6;
    }
    out->data = buf + off;
    out->data_len = total - off;
    return (ssize_t)total;
}

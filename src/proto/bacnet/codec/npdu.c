/*
 * npdu.c - BACnet NPDU header codec (ANSI/ASHRAE 135, clause 6.2) and the
 * Who-Is-Router-To-Network / I-Am-Router-To-Network bodies (6.4.1, 6.4.2).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/npdu.h"

/* Control octet bits, clause 6.2.2. */
enum {
    CTL_NET_MSG = 0x80,
    CTL_RESERVED = 0x50,       /* bits 6 and 4 shall be zero */
    CTL_DNET = 0x20,
    CTL_SNET = 0x08,
    CTL_REPLY = 0x04,
    CTL_PRIO = 0x03
};

static bool addr_ok(const struct sb_bac_addr *a, bool is_src)
{
    if (a->net == 0 || a->len > SB_BAC_MAX_MAC)
        return false;
    /* clause 6.2.2: SNET is never the broadcast net and SLEN is never 0 */
    return !is_src || (a->net != SB_BAC_NET_BROADCAST && a->len > 0);
}

static void w_addr(struct sb_bac__w *w, const struct sb_bac_addr *a)
{
    sb_bac__w_u16(w, a->net);
    sb_bac__w_u8(w, a->len);
    sb_bac__w_put(w, a->mac, a->len);
}

static size_t hdr_len(const struct sb_bac_npdu *in)
{
    size_t n = 2;

    if (in->has_dst)
        n += 3 + in->dst.len + 1;   /* + hop count */
    if (in->has_src)
        n += 3 + in->src.len;
    if (in->net_msg)
        n += in->msg_type >= SB_BAC_NL_VENDOR_FIRST ? 3 : 1;
    return n;
}

ssize_t sb_bac_enc_npdu(uint8_t *buf, size_t cap, const struct sb_bac_npdu *in)
{
    struct sb_bac__w w;
    size_t h;
    uint8_t ctl;

    if ((in->has_dst && !addr_ok(&in->dst, false)) ||
        (in->has_src && !addr_ok(&in->src, true)) || in->priority > 3)
        return SB_EINVAL;
    h = hdr_len(in);
    if (buf && (cap < h || cap - h < in->payload_len))
        return SB_ENOSPC;
    if (buf && in->payload_len)
        memmove(buf + h, in->payload, in->payload_len);
    ctl = (uint8_t)((in->net_msg ? CTL_NET_MSG : 0) | (in->has_dst ? CTL_DNET : 0) |
                    (in->has_src ? CTL_SNET : 0) |
                    (in->expecting_reply ? CTL_REPLY : 0) | in->priority);
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_u8(&w, SB_BAC_NPDU_VERSION);
    sb_bac__w_u8(&w, ctl);
    if (in->has_dst)
        w_addr(&w, &in->dst);
    if (in->has_src)
        w_addr(&w, &in->src);
    if (in->has_dst)
        sb_bac__w_u8(&w, in->hop_count);
    if (in->net_msg) {
        sb_bac__w_u8(&w, in->msg_type);
        if (in->msg_type >= SB_BAC_NL_VENDOR_FIRST)
            sb_bac__w_u16(&w, in->vendor_id);
    }
    w.n += in->payload_len;   /* already moved into place */
    return sb_bac__w_done(&w);
}

/* NET(2) LEN(1) ADR(LEN) at buf[*off]. */
static int r_addr(const uint8_t *buf, size_t len, size_t *off, struct sb_bac_addr *a)
{
    size_t o = *off;

    if (len - o < 3)
        return SB_ECORRUPT;
    a->net = (uint16_t)(buf[o] << 8 | buf[o + 1]);
    a->len = buf[o + 2];
    o += 3;
    if (a->len > SB_BAC_MAX_MAC)
        return SB_EPROTO;
    if (len - o < a->len)
        return SB_ECORRUPT;
    memcpy(a->mac, buf + o, a->len);
    *off = o + a->len;
    return 0;
}

/* Hop count and message type/vendor id after the addresses. */
static int r_tail(const uint8_t *buf, size_t len, size_t *off, struct sb_bac_npdu *out)
{
    size_t o = *off;

    if (out->has_dst) {
        if (o >= len)
            return SB_ECORRUPT;
        out->hop_count = buf[o++];
    }
    if (out->net_msg) {
        if (o >= len)
            return SB_ECORRUPT;
        out->msg_type = buf[o++];
        if (out->msg_type >= SB_BAC_NL_VENDOR_FIRST) {
            if (len - o < 2)
                return SB_ECORRUPT;
            out->vendor_id = (uint16_t)(buf[o] << 8 | buf[o + 1]);
            o += 2;
        }
    }
    *off = o;
    return 0;
}

ssize_t sb_bac_dec_npdu(const uint8_t *buf, size_t len, struct sb_bac_npdu *out)
{
    size_t off = 2;
    int rc;

    if (len < 2)
        return SB_ECORRUPT;
    if (buf[0] != SB_BAC_NPDU_VERSION || (buf[1] & CTL_RESERVED))
        return SB_EPROTO;
    memset(out, 0, sizeof(*out));
    out->net_msg = buf[1] & CTL_NET_MSG;
    out->has_dst = buf[1] & CTL_DNET;
    out->has_src = buf[1] & CTL_SNET;
    out->expecting_reply = buf[1] & CTL_REPLY;
    out->priority = buf[1] & CTL_PRIO;
    if (out->has_dst && (rc = r_addr(buf, len, &off, &out->dst)) < 0)
        return rc;
    if (out->has_src && (rc = r_addr(buf, len, &off, &out->src)) < 0)
        return rc;
    if (out->has_src && out->src.len == 0)
        return SB_EPROTO;   /* clause 6.2.2: SLEN = 0 is invalid */
    if ((rc = r_tail(buf, len, &off, out)) < 0)
        return rc;
    out->payload = buf + off;
    out->payload_len = len - off;
    return (ssize_t)off;
}

uint16_t sb_bac_netlist_get(const struct sb_bac_netlist *l, size_t i)
{
    return (uint16_t)(l->p[2 * i] << 8 | l->p[2 * i + 1]);
}

ssize_t sb_bac_enc_who_is_router(uint8_t *buf, size_t cap, bool has_net, uint16_t net)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    if (has_net)
        sb_bac__w_u16(&w, net);
    return sb_bac__w_done(&w);
}

/* Clause 6.4.1: the body is empty or exactly one DNET. */
ssize_t sb_bac_dec_who_is_router(const uint8_t *buf, size_t len, bool *has_net, uint16_t *net)
{
    if (len != 0 && len != 2)
        return len == 1 ? SB_ECORRUPT : SB_EPROTO;
    *has_net = len == 2;
    *net = len == 2 ? (uint16_t)(buf[0] << 8 | buf[1]) : 0;
    return (ssize_t)len;
}

ssize_t sb_bac_enc_i_am_router(uint8_t *buf, size_t cap, const uint16_t *nets, size_t n)
{
    struct sb_bac__w w;

    if (n == 0)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    for (size_t i = 0; i < n; i++)
        sb_bac__w_u16(&w, nets[i]);
    return sb_bac__w_done(&w);
}

/* Clause 6.4.2: one or more 2-octet DNETs fill the body. */
ssize_t sb_bac_dec_i_am_router(const uint8_t *buf, size_t len, struct sb_bac_netlist *out)
{
    if (len == 0 || len % 2)
        return SB_ECORRUPT;
    out->p = buf;
    out->count = len / 2;
    return (ssize_t)len;
}

/*
 * npdu.h - BACnet network layer header (ANSI/ASHRAE 135, clause 6.2) and
 * the two router-discovery messages (clauses 6.4.1, 6.4.2).
 *
 * Pure codec.  The decoder returns the header length; the APDU or the
 * network-message body after it is returned as a pointer into the input.
 */
#ifndef SB_BAC_NPDU_H
#define SB_BAC_NPDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SB_BAC_NPDU_VERSION 1      /* clause 6.2.1: protocol version */
#define SB_BAC_MAX_MAC 8           /* longest DADR/SADR we keep (B/IP: 6,
                                      MS/TP: 1, B/IPv6 VMAC: 3, Eth: 6) */
#define SB_BAC_NET_BROADCAST 0xFFFF   /* clause 6.2.2: global broadcast DNET */

/* Priorities, clause 6.2.2 (control bits 1-0). */
enum sb_bac_prio {
    SB_BAC_PRIO_NORMAL = 0,
    SB_BAC_PRIO_URGENT = 1,
    SB_BAC_PRIO_CRITICAL = 2,
    SB_BAC_PRIO_LIFE_SAFETY = 3
};

/* Network layer message types, clause 6.2.4 (the ones we name). */
enum sb_bac_nl_msg {
    SB_BAC_NL_WHO_IS_ROUTER = 0x00,
    SB_BAC_NL_I_AM_ROUTER = 0x01,
    SB_BAC_NL_REJECT_MESSAGE = 0x03,
    SB_BAC_NL_VENDOR_FIRST = 0x80   /* 0x80-0xFF carry a vendor id */
};

/* A remote station: network number and MAC (DNET/DLEN/DADR, clause 6.2.2). */
struct sb_bac_addr {
    uint16_t net;              /* network number; 0xFFFF = all networks */
    uint8_t len;               /* MAC length; 0 = broadcast on `net` */
    uint8_t mac[SB_BAC_MAX_MAC];   /* MAC, len bytes used */
};

/* A decoded or to-be-encoded NPDU header. */
struct sb_bac_npdu {
    bool net_msg;              /* control bit 7: network layer message */
    bool expecting_reply;      /* control bit 2 (clause 6.2.2) */
    uint8_t priority;          /* control bits 1-0, enum sb_bac_prio */
    bool has_dst;              /* control bit 5: DNET, DLEN, DADR, hop count */
    struct sb_bac_addr dst;    /* destination when has_dst */
    bool has_src;              /* control bit 3: SNET, SLEN, SADR */
    struct sb_bac_addr src;    /* source when has_src (SLEN > 0) */
    uint8_t hop_count;         /* when has_dst; 255 for a new message */
    uint8_t msg_type;          /* when net_msg, enum sb_bac_nl_msg */
    uint16_t vendor_id;        /* when net_msg and msg_type >= 0x80 */
    const uint8_t *payload;    /* APDU or message body (into the input on
                                  decode; may point into buf on encode) */
    size_t payload_len;        /* bytes at payload */
};

/* Clause 6.2: encode header then payload (memmove, so the payload may
 * already sit in buf).  SB_EINVAL: MAC too long, SADR empty, SNET/DNET of
 * 0 or an SNET of 0xFFFF (clause 6.2.2). */
ssize_t sb_bac_enc_npdu(uint8_t *buf, size_t cap, const struct sb_bac_npdu *in);

/* Clause 6.2: decode; returns the header length, payload is the rest of
 * len.  SB_EPROTO for a version other than 1, reserved bits, SLEN 0, or an
 * address longer than SB_BAC_MAX_MAC. */
ssize_t sb_bac_dec_npdu(const uint8_t *buf, size_t len, struct sb_bac_npdu *out);

/* A list of 2-octet network numbers, kept in the input buffer. */
struct sb_bac_netlist {
    const uint8_t *p;          /* big-endian network numbers */
    size_t count;              /* how many */
};

/* i-th network number of a list (i < count). */
uint16_t sb_bac_netlist_get(const struct sb_bac_netlist *l, size_t i);

/* Clause 6.4.1 Who-Is-Router-To-Network: optional DNET (has_net false =
 * all networks).  Body only (after the message type). */
ssize_t sb_bac_enc_who_is_router(uint8_t *buf, size_t cap, bool has_net, uint16_t net);
ssize_t sb_bac_dec_who_is_router(const uint8_t *buf, size_t len, bool *has_net, uint16_t *net);

/* Clause 6.4.2 I-Am-Router-To-Network: one or more DNETs. */
ssize_t sb_bac_enc_i_am_router(uint8_t *buf, size_t cap, const uint16_t *nets, size_t n);
ssize_t sb_bac_dec_i_am_router(const uint8_t *buf, size_t len, struct sb_bac_netlist *out);

#endif /* SB_BAC_NPDU_H */

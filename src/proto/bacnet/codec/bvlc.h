/*
 * bvlc.h - BACnet Virtual Link Control for BACnet/IP (ANSI/ASHRAE 135,
 * Annex J.2): the 4-octet header in front of every BACnet/IP datagram.
 *
 * Pure codec: no sockets.  The decoder checks the type octet (0x81), the
 * length field against the datagram and the fixed size of each function;
 * the NPDU (if any) is returned as a pointer into the caller's buffer.
 */
#ifndef SB_BAC_BVLC_H
#define SB_BAC_BVLC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SB_BAC_BVLC_TYPE 0x81      /* Annex J.2: BVLL for BACnet/IP */
#define SB_BAC_BVLC_HDR 4          /* type, function, 16-bit length */
#define SB_BAC_PORT 47808          /* 0xBAC0, Annex J.1 */

/* BVLC functions, Annex J.2 (Table J-1). */
enum sb_bac_bvlc_fn {
    SB_BVLC_RESULT = 0x00,
    SB_BVLC_WRITE_BDT = 0x01,
    SB_BVLC_READ_BDT = 0x02,
    SB_BVLC_READ_BDT_ACK = 0x03,
    SB_BVLC_FORWARDED_NPDU = 0x04,
    SB_BVLC_REGISTER_FD = 0x05,
    SB_BVLC_READ_FDT = 0x06,
    SB_BVLC_READ_FDT_ACK = 0x07,
    SB_BVLC_DELETE_FDT_ENTRY = 0x08,
    SB_BVLC_DISTRIBUTE_BCAST = 0x09,
    SB_BVLC_ORIGINAL_UNICAST = 0x0A,
    SB_BVLC_ORIGINAL_BCAST = 0x0B
};

/* BVLC-Result codes, Annex J.2.1.1. */
enum sb_bac_bvlc_result {
    SB_BVLC_OK = 0x0000,
    SB_BVLC_NAK_WRITE_BDT = 0x0010,
    SB_BVLC_NAK_READ_BDT = 0x0020,
    SB_BVLC_NAK_REGISTER_FD = 0x0030,
    SB_BVLC_NAK_READ_FDT = 0x0040,
    SB_BVLC_NAK_DELETE_FDT = 0x0050,
    SB_BVLC_NAK_DISTRIBUTE = 0x0060
};

/* One BVLL message.  Which fields matter depends on `function`. */
struct sb_bac_bvlc {
    uint8_t function;          /* enum sb_bac_bvlc_fn */
    uint16_t result;           /* BVLC-Result: result code */
    uint16_t ttl;              /* Register-Foreign-Device: seconds */
    uint8_t addr[6];           /* Forwarded-NPDU: originating B/IP address
                                  (IPv4 a.b.c.d then port, network order);
                                  Delete-FDT-Entry: the entry's address */
    const uint8_t *data;       /* NPDU (unicast, broadcast, forwarded,
                                  distribute) or table entries (BDT/FDT
                                  functions); points into the input on
                                  decode; may point into buf on encode */
    size_t data_len;           /* bytes at data */
};

/* Annex J.2: encode header + payload.  data may already sit at
 * buf + sb_bac_bvlc_hdr_len(fn) (it is moved, not assumed distinct).
 * SB_EINVAL for an unknown function or a datagram over 65535 octets. */
ssize_t sb_bac_enc_bvlc(uint8_t *buf, size_t cap, const struct sb_bac_bvlc *in);

/* Annex J.2: decode one datagram.  Returns the BVLC length field (bytes
 * consumed; trailing bytes past it are not ours).  SB_ECORRUPT if the
 * length field exceeds len or is below the function's minimum, SB_EPROTO
 * for a wrong type octet, an unknown function or a wrong fixed size. */
ssize_t sb_bac_dec_bvlc(const uint8_t *buf, size_t len, struct sb_bac_bvlc *out);

/* Header length of function fn (4, or 10 for Forwarded-NPDU), or SB_EINVAL. */
ssize_t sb_bac_bvlc_hdr_len(uint8_t fn);

#endif /* SB_BAC_BVLC_H */

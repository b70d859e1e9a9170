/*
 * apdu.h - BACnet APDU fixed headers (ANSI/ASHRAE 135, clause 20.1) and
 * the BACnet-Error body of an Error PDU (clause 21, Error production).
 *
 * Pure codec.  The decoder fills the header fields of the PDU type found
 * and points `body` at the service data that follows (into the input).
 */
#ifndef SB_BAC_APDU_H
#define SB_BAC_APDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* PDU types, clause 20.1.1 (high nibble of the first octet). */
enum sb_bac_pdu {
    SB_BAC_PDU_CONFIRMED = 0,
    SB_BAC_PDU_UNCONFIRMED = 1,
    SB_BAC_PDU_SIMPLE_ACK = 2,
    SB_BAC_PDU_COMPLEX_ACK = 3,
    SB_BAC_PDU_SEGMENT_ACK = 4,
    SB_BAC_PDU_ERROR = 5,
    SB_BAC_PDU_REJECT = 6,
    SB_BAC_PDU_ABORT = 7
};

/* Confirmed service choices, clause 21 (those sbems speaks). */
enum sb_bac_csvc {
    SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION = 1,
    SB_BAC_SVC_SUBSCRIBE_COV = 5,
    SB_BAC_SVC_READ_PROPERTY = 12,
    SB_BAC_SVC_READ_PROPERTY_MULTIPLE = 14,
    SB_BAC_SVC_WRITE_PROPERTY = 15
};

/* Unconfirmed service choices, clause 21. */
enum sb_bac_usvc {
    SB_BAC_SVC_I_AM = 0,
    SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION = 2,
    SB_BAC_SVC_WHO_IS = 8
};

/* Reject reasons, clause 18.8 (the ones a server needs most). */
enum sb_bac_reject {
    SB_BAC_REJECT_OTHER = 0,
    SB_BAC_REJECT_INVALID_TAG = 4,
    SB_BAC_REJECT_MISSING_REQUIRED_PARAMETER = 5,
    SB_BAC_REJECT_UNRECOGNIZED_SERVICE = 9   /* not Error: see docs */
};

/* Max-APDU-length-accepted codes, clause 20.1.2.5. */
enum sb_bac_max_apdu {
    SB_BAC_MAX_APDU_50 = 0,
    SB_BAC_MAX_APDU_128 = 1,
    SB_BAC_MAX_APDU_206 = 2,
    SB_BAC_MAX_APDU_480 = 3,
    SB_BAC_MAX_APDU_1024 = 4,
    SB_BAC_MAX_APDU_1476 = 5
};

/* A decoded APDU header; fields beyond `type` depend on it. */
struct sb_bac_apdu {
    uint8_t type;              /* enum sb_bac_pdu */
    bool seg;                  /* SEG: segmented message (confirmed, complex ack) */
    bool more;                 /* MOR: more follows (confirmed, complex ack) */
    bool sa;                   /* SA: segmented response accepted (confirmed) */
    bool nak;                  /* NAK: negative ack (segment ack) */
    bool srv;                  /* SRV: sent by server (segment ack, abort) */
    uint8_t max_segs;          /* confirmed: 3-bit code, clause 20.1.2.4 */
    uint8_t max_apdu;          /* confirmed: 4-bit code, clause 20.1.2.5 */
    uint8_t invoke_id;         /* all but unconfirmed */
    uint8_t seq;               /* sequence number (segmented, segment ack) */
    uint8_t window;            /* proposed/actual window size (idem) */
    uint8_t service;           /* service (ack) choice: confirmed,
                                  unconfirmed, simple/complex ack, error */
    uint8_t reason;            /* reject or abort reason */
    const uint8_t *body;       /* service data after the header (into the
                                  input on decode; copied on encode) */
    size_t body_len;           /* bytes at body */
};

/* Clause 20.1: encode a header and copy body after it (memmove). */
ssize_t sb_bac_enc_apdu(uint8_t *buf, size_t cap, const struct sb_bac_apdu *in);

/* Clause 20.1: decode a header; returns its length, body = the rest.
 * Reserved header bits are ignored (robustness); SB_EPROTO for a reserved
 * PDU type (8-15), a reserved max-APDU code, or a segmented message with
 * a window size outside 1..127 (clause 20.1.2.8). */
ssize_t sb_bac_dec_apdu(const uint8_t *buf, size_t len, struct sb_bac_apdu *out);

/* Octets for a max-APDU code (0 for a reserved code); and the code of the
 * largest standard size <= octets (SB_EINVAL below 50).  1482, as some
 * stacks advertise, is not a standard size: it maps to 1476's code. */
unsigned sb_bac_max_apdu_octets(uint8_t code);
int sb_bac_max_apdu_code(unsigned octets);

/* Segments for a max-segments code (0 = unspecified, 65 = more than 64). */
unsigned sb_bac_max_segs(uint8_t code);

/* BACnet-Error: error class and code, two application Enumerateds. */
struct sb_bac_error {
    uint32_t err_class;        /* clause 18: device, object, property... */
    uint32_t err_code;         /* clause 18: e.g. 32 unknown-property */
};

ssize_t sb_bac_enc_error(uint8_t *buf, size_t cap, const struct sb_bac_error *in);
ssize_t sb_bac_dec_error(const uint8_t *buf, size_t len, struct sb_bac_error *out);

#endif /* SB_BAC_APDU_H */

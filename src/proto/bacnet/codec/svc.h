/*
 * svc.h - BACnet service request/ACK bodies (ANSI/ASHRAE 135, clauses 13,
 * 15, 16, 21): the bytes after the APDU header.
 *
 * Pure codec, no allocation.  Property values are "ABSTRACT-SYNTAX.&Type"
 * in the standard: any sequence of tagged elements.  They stay encoded, as
 * (value, value_len) pointing into the input on decode; build them with
 * sb_bac_enc_app() and friends (tag.h) and read them with sb_bac_dec_app()
 * and sb_bac_skip().  Lists (RPM specs and results, COV value lists) decode
 * to a raw (list, list_len) that the caller walks with the matching
 * sb_bac_dec_*() iterator, each call returning the bytes it consumed; they
 * encode from caller-owned arrays.
 */
#ifndef SB_BAC_SVC_H
#define SB_BAC_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/bacnet/codec/tag.h"

#define SB_BAC_PROP_ALL 8                 /* property identifier "all" */
#define SB_BAC_NO_PRIORITY 0              /* WriteProperty without priority */

/* Clause 16.10 Who-Is: both limits or neither. */
struct sb_bac_whois {
    bool has_range;            /* limits present */
    uint32_t low;              /* device instance low limit, 0..4194303 */
    uint32_t high;             /* device instance high limit, >= low */
};

/* Clause 16.1 I-Am. */
struct sb_bac_iam {
    struct sb_bac_oid device;  /* I-Am device identifier (type 8) */
    uint32_t max_apdu;         /* max APDU length accepted, octets */
    uint8_t segmentation;      /* 0 both, 1 transmit, 2 receive, 3 none */
    uint16_t vendor_id;        /* ASHRAE vendor identifier */
};

/* Clause 15.5 ReadProperty request and ACK (value only in the ACK). */
struct sb_bac_rp {
    struct sb_bac_oid oid;     /* object identifier */
    uint32_t prop;             /* property identifier */
    bool has_index;            /* array index present */
    uint32_t index;            /* property array index */
    const uint8_t *value;      /* ACK: encoded value (between [3] tags) */
    size_t value_len;          /* ACK: bytes at value */
};

/* Clause 15.9 WriteProperty request. */
struct sb_bac_wp {
    struct sb_bac_oid oid;     /* object identifier */
    uint32_t prop;             /* property identifier */
    bool has_index;            /* array index present */
    uint32_t index;            /* property array index */
    const uint8_t *value;      /* encoded value (between [3] tags) */
    size_t value_len;          /* bytes at value */
    uint8_t priority;          /* 1..16, or SB_BAC_NO_PRIORITY (absent) */
};

/* BACnetPropertyReference, clause 21: one property of an RPM spec. */
struct sb_bac_propref {
    uint32_t prop;             /* property identifier */
    bool has_index;            /* array index present */
    uint32_t index;            /* property array index */
};

/* ReadAccessSpecification, clause 15.7.1.1. */
struct sb_bac_rpm_spec {
    struct sb_bac_oid oid;     /* object identifier */
    const struct sb_bac_propref *refs;   /* encode: caller's array */
    size_t nrefs;              /* encode: entries in refs (>= 1) */
    const uint8_t *list;       /* decode: encoded refs, see dec_propref */
    size_t list_len;           /* decode: bytes at list */
};

/* One readResult element of a ReadAccessResult, clause 15.7.1.3.1. */
struct sb_bac_rpm_elem {
    uint32_t prop;             /* property identifier */
    bool has_index;            /* array index present */
    uint32_t index;            /* property array index */
    bool is_error;             /* true: err_* valid, else value */
    const uint8_t *value;      /* encoded value (between [4] tags) */
    size_t value_len;          /* bytes at value */
    uint32_t err_class;        /* propertyAccessError class */
    uint32_t err_code;         /* propertyAccessError code */
};

/* ReadAccessResult, clause 15.7.1.3. */
struct sb_bac_rpm_result {
    struct sb_bac_oid oid;     /* object identifier */
    const struct sb_bac_rpm_elem *elems;   /* encode: caller's array */
    size_t nelems;             /* encode: entries in elems */
    const uint8_t *list;       /* decode: encoded elements (dec_rpm_elem) */
    size_t list_len;           /* decode: bytes at list */
};

/* Clause 13.14 SubscribeCOV.  Neither optional = cancellation. */
struct sb_bac_subcov {
    uint32_t pid;              /* subscriber process identifier */
    struct sb_bac_oid oid;     /* monitored object */
    bool has_confirmed;        /* issueConfirmedNotifications present */
    bool confirmed;            /* its value */
    bool has_lifetime;         /* lifetime present */
    uint32_t lifetime;         /* seconds, 0 = indefinite */
};

/* BACnetPropertyValue, clause 21 (list element of a COV notification). */
struct sb_bac_propval {
    uint32_t prop;             /* property identifier */
    bool has_index;            /* array index present */
    uint32_t index;            /* property array index */
    const uint8_t *value;      /* encoded value (between [2] tags) */
    size_t value_len;          /* bytes at value */
    uint8_t priority;          /* 1..16, or SB_BAC_NO_PRIORITY */
};

/* Clauses 13.6/13.7 (Un)ConfirmedCOVNotification, same body. */
struct sb_bac_cov_notif {
    uint32_t pid;              /* subscriber process identifier */
    struct sb_bac_oid device;  /* initiating device identifier */
    struct sb_bac_oid oid;     /* monitored object identifier */
    uint32_t time_remaining;   /* seconds of subscription left */
    const struct sb_bac_propval *vals;   /* encode: caller's array */
    size_t nvals;              /* encode: entries in vals */
    const uint8_t *list;       /* decode: encoded values (dec_propval) */
    size_t list_len;           /* decode: bytes at list */
};

/* Each pair: encoder (buf NULL computes the length) and decoder.  The
 * decoders of whole bodies (Who-Is, I-Am, RP, WP, SubscribeCOV, COV
 * notification) require len to be exactly the body: trailing octets are
 * SB_EPROTO, as are out-of-range fields (instance > 4194303, priority
 * outside 1..16, a Who-Is with one limit).  The list iterators
 * (rpm_spec, propref, rpm_result, rpm_elem, propval) return the bytes of
 * one element and leave the rest to the next call. */
ssize_t sb_bac_enc_whois(uint8_t *buf, size_t cap, const struct sb_bac_whois *in);
ssize_t sb_bac_dec_whois(const uint8_t *buf, size_t len, struct sb_bac_whois *out);
ssize_t sb_bac_enc_iam(uint8_t *buf, size_t cap, const struct sb_bac_iam *in);
ssize_t sb_bac_dec_iam(const uint8_t *buf, size_t len, struct sb_bac_iam *out);
ssize_t sb_bac_enc_rp_req(uint8_t *buf, size_t cap, const struct sb_bac_rp *in);
ssize_t sb_bac_dec_rp_req(const uint8_t *buf, size_t len, struct sb_bac_rp *out);
ssize_t sb_bac_enc_rp_ack(uint8_t *buf, size_t cap, const struct sb_bac_rp *in);
ssize_t sb_bac_dec_rp_ack(const uint8_t *buf, size_t len, struct sb_bac_rp *out);
ssize_t sb_bac_enc_wp(uint8_t *buf, size_t cap, const struct sb_bac_wp *in);
ssize_t sb_bac_dec_wp(const uint8_t *buf, size_t len, struct sb_bac_wp *out);

/* ReadPropertyMultiple: a request is a sequence of specs, an ACK a
 * sequence of results; encode/decode one at a time until the body ends. */
ssize_t sb_bac_enc_rpm_spec(uint8_t *buf, size_t cap, const struct sb_bac_rpm_spec *in);
ssize_t sb_bac_dec_rpm_spec(const uint8_t *buf, size_t len, struct sb_bac_rpm_spec *out);
ssize_t sb_bac_dec_propref(const uint8_t *buf, size_t len, struct sb_bac_propref *out);
ssize_t sb_bac_enc_rpm_result(uint8_t *buf, size_t cap, const struct sb_bac_rpm_result *in);
ssize_t sb_bac_dec_rpm_result(const uint8_t *buf, size_t len, struct sb_bac_rpm_result *out);
ssize_t sb_bac_dec_rpm_elem(const uint8_t *buf, size_t len, struct sb_bac_rpm_elem *out);

ssize_t sb_bac_enc_subcov(uint8_t *buf, size_t cap, const struct sb_bac_subcov *in);
ssize_t sb_bac_dec_subcov(const uint8_t *buf, size_t len, struct sb_bac_subcov *out);
ssize_t sb_bac_enc_cov_notif(uint8_t *buf, size_t cap, const struct sb_bac_cov_notif *in);
ssize_t sb_bac_dec_cov_notif(const uint8_t *buf, size_t len, struct sb_bac_cov_notif *out);
ssize_t sb_bac_dec_propval(const uint8_t *buf, size_t len, struct sb_bac_propval *out);

#endif /* SB_BAC_SVC_H */

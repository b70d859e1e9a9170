/*
 * svc2.h - the BACnet services beyond the basic five (ANSI/ASHRAE 135,
 * clauses 13, 15, 16, 21): WritePropertyMultiple, Who-Has/I-Have,
 * ReadRange and BACnetLogRecord, Time(UTC)Synchronization,
 * GetEventInformation, AcknowledgeAlarm, and the constructed values of
 * Schedule and Calendar objects (BACnetTimeValue, BACnetDailySchedule,
 * BACnetSpecialEvent, BACnetCalendarEntry, BACnetDateRange).
 *
 * Same contract as svc.h: pure, no allocation; decoders point into the
 * input; lists decode to a raw (list, list_len) walked with the matching
 * iterator, each call returning the bytes of one element; encoders take
 * caller-owned arrays; buf == NULL computes the length.
 *
 * Two kinds of decoder (docs/internals/bacnet-codec.md):
 *  - whole service bodies (wpm_error, whohas, ihave, rr_req, rr_ack,
 *    timesync, gei_req, gei_ack, ackalarm) require len to be exactly the
 *    body: trailing octets are SB_EPROTO;
 *  - elements (wpm_spec, logrec, event_summary, timevalue, daily,
 *    daterange, calentry, special, timestamp, datetime) decode one element
 *    at buf and return its length, leaving what follows to the caller:
 *    they are the iterators of the lists and the decoders of property
 *    values (an RP-ACK value of Weekly_Schedule is 7 dailies in a row).
 * Out-of-range fields are SB_EINVAL on encode and SB_EPROTO on decode
 * (a priority of 17, a TimeStamp sequence number over 65535, a ReadRange
 * count outside INTEGER16, a notify type over 2).  Bit strings of named
 * bits (status flags, result flags, event transitions, log status) are
 * masks: any length decodes, but a set bit past the named ones is
 * SB_ERANGE (a later revision's bit we cannot represent or write back).  Decoded pointers (lists, strings, bit
 * strings, encoded values) point into the caller's input buffer, which
 * must outlive the decoded struct; encoders only read the caller's data.
 */
#ifndef SB_BAC_SVC2_H
#define SB_BAC_SVC2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/tag.h"

/* BACnetDateTime: an application Date then an application Time. */
struct sb_bac_datetime {
    struct sb_bac_date date;   /* the Date (fields may be 255 = any) */
    struct sb_bac_time time;   /* the Time (fields may be 255 = any) */
};

/* BACnetTimeStamp, clause 21: CHOICE time [0] / sequenceNumber [1] /
 * dateTime [2]. */
enum sb_bac_ts_kind { SB_BAC_TS_TIME = 0, SB_BAC_TS_SEQ = 1, SB_BAC_TS_DATETIME = 2 };
struct sb_bac_timestamp {
    uint8_t kind;              /* enum sb_bac_ts_kind */
    struct sb_bac_time time;   /* SB_BAC_TS_TIME */
    uint32_t seq;              /* SB_BAC_TS_SEQ: Unsigned (0..65535) */
    struct sb_bac_datetime dt; /* SB_BAC_TS_DATETIME */
};

/* BACnetTimeStamp and BACnetDateTime as elements (e.g. the values of
 * Event_Time_Stamps, Start_Time, Stop_Time).  Added with svc_misc.c. */
ssize_t sb_bac_enc_timestamp(uint8_t *buf, size_t cap, const struct sb_bac_timestamp *in);
ssize_t sb_bac_dec_timestamp(const uint8_t *buf, size_t len, struct sb_bac_timestamp *out);
ssize_t sb_bac_enc_datetime(uint8_t *buf, size_t cap, const struct sb_bac_datetime *in);
ssize_t sb_bac_dec_datetime(const uint8_t *buf, size_t len, struct sb_bac_datetime *out);

/* Masks of the named bits used below (bit n of the BACnet bit string is
 * 1 << n).  BACnetStatusFlags (clause 21): */
enum {
    SB_BAC_SF_IN_ALARM = 1, SB_BAC_SF_FAULT = 2, SB_BAC_SF_OVERRIDDEN = 4,
    SB_BAC_SF_OUT_OF_SERVICE = 8
};
/* BACnetEventTransitionBits (acknowledgedTransitions, eventEnable): */
enum { SB_BAC_TR_TO_OFFNORMAL = 1, SB_BAC_TR_TO_FAULT = 2, SB_BAC_TR_TO_NORMAL = 4 };
/* BACnetLogStatus: */
enum { SB_BAC_LS_LOG_DISABLED = 1, SB_BAC_LS_BUFFER_PURGED = 2, SB_BAC_LS_LOG_INTERRUPTED = 4 };

/* ---- WritePropertyMultiple, clause 15.10 ---- */

/* WriteAccessSpecification: objectIdentifier [0], listOfProperties [1]
 * (BACnetPropertyValue, decoded with sb_bac_dec_propval).  A request body
 * is a sequence of them: decode one at a time until the body ends. */
struct sb_bac_wpm_spec {
    struct sb_bac_oid oid;               /* object identifier */
    const struct sb_bac_propval *vals;   /* encode: caller's array */
    size_t nvals;                        /* encode: >= 1 */
    const uint8_t *list;                 /* decode: encoded propvals */
    size_t list_len;                     /* decode: bytes at list (> 0) */
};
ssize_t sb_bac_enc_wpm_spec(uint8_t *buf, size_t cap, const struct sb_bac_wpm_spec *in);
ssize_t sb_bac_dec_wpm_spec(const uint8_t *buf, size_t len, struct sb_bac_wpm_spec *out);
/* BACnetPropertyValue encoder (the decoder is sb_bac_dec_propval). */
ssize_t sb_bac_enc_propval(uint8_t *buf, size_t cap, const struct sb_bac_propval *in);

/* WritePropertyMultiple-Error (Error PDU body for service 16):
 * errorType [0] { class, code }, firstFailedWriteAttempt [1]
 * BACnetObjectPropertyReference { oid [0], prop [1], index [2] opt }. */
struct sb_bac_wpm_error {
    uint32_t err_class, err_code;        /* errorType */
    struct sb_bac_oid oid;               /* failed write: object */
    uint32_t prop;                       /* failed write: property */
    bool has_index;                      /* failed write: index present */
    uint32_t index;                      /* failed write: array index */
};
ssize_t sb_bac_enc_wpm_error(uint8_t *buf, size_t cap, const struct sb_bac_wpm_error *in);
ssize_t sb_bac_dec_wpm_error(const uint8_t *buf, size_t len, struct sb_bac_wpm_error *out);

/* ---- Who-Has / I-Have, clause 16.9 ---- */

struct sb_bac_whohas {
    bool has_range;            /* device instance limits [0] [1] present */
    uint32_t low, high;        /* limits, 0..4194303, low <= high */
    bool by_name;              /* true: objectName [3], else objectIdentifier [2] */
    struct sb_bac_oid oid;     /* !by_name */
    struct sb_bac_cstr name;   /* by_name */
};
ssize_t sb_bac_enc_whohas(uint8_t *buf, size_t cap, const struct sb_bac_whohas *in);
ssize_t sb_bac_dec_whohas(const uint8_t *buf, size_t len, struct sb_bac_whohas *out);

struct sb_bac_ihave {          /* three application-tagged values */
    struct sb_bac_oid device;  /* deviceIdentifier (type must be Device) */
    struct sb_bac_oid oid;     /* objectIdentifier */
    struct sb_bac_cstr name;   /* objectName */
};
ssize_t sb_bac_enc_ihave(uint8_t *buf, size_t cap, const struct sb_bac_ihave *in);
ssize_t sb_bac_dec_ihave(const uint8_t *buf, size_t len, struct sb_bac_ihave *out);

/* ---- ReadRange, clause 15.8 ---- */

enum sb_bac_rr_kind {
    SB_BAC_RR_ALL = 0,         /* range absent: the whole list */
    SB_BAC_RR_POSITION = 3,    /* byPosition [3] */
    SB_BAC_RR_SEQUENCE = 6,    /* bySequenceNumber [6] */
    SB_BAC_RR_TIME = 7         /* byTime [7] */
};
/* The deprecated range tags [4] (old byTime) and [5] (timeRange) of
 * 135-1995 are refused with SB_EPROTO. */
struct sb_bac_rr {
    struct sb_bac_oid oid;     /* [0] */
    uint32_t prop;             /* [1] */
    bool has_index;            /* [2] */
    uint32_t index;            /* [2] propertyArrayIndex */
    uint8_t kind;              /* enum sb_bac_rr_kind */
    uint32_t ref_index;        /* POSITION: referenceIndex; SEQUENCE: ref seq */
    struct sb_bac_datetime ref_time;   /* TIME */
    int32_t count;             /* INTEGER16 (-32768..32767), negative =
                                  items before the reference */
};
ssize_t sb_bac_enc_rr_req(uint8_t *buf, size_t cap, const struct sb_bac_rr *in);
ssize_t sb_bac_dec_rr_req(const uint8_t *buf, size_t len, struct sb_bac_rr *out);

/* ReadRange-ACK. resultFlags [3] is BACnetResultFlags: bit 0 firstItem,
 * bit 1 lastItem, bit 2 moreItems. itemData [5] stays encoded. */
enum { SB_BAC_RR_FIRST = 1, SB_BAC_RR_LAST = 2, SB_BAC_RR_MORE = 4 };
struct sb_bac_rr_ack {
    struct sb_bac_oid oid;     /* [0] */
    uint32_t prop;             /* [1] */
    bool has_index;            /* [2] */
    uint32_t index;            /* [2] propertyArrayIndex */
    uint8_t flags;             /* SB_BAC_RR_FIRST | LAST | MORE */
    uint32_t count;            /* itemCount [4] (not checked against items) */
    const uint8_t *items;      /* itemData [5]: encoded items (for a log
                                  buffer, walk with sb_bac_dec_logrec) */
    size_t items_len;          /* bytes at items */
    bool has_first_seq;        /* firstSequenceNumber [6] */
    uint32_t first_seq;        /* [6] Unsigned32 */
};
ssize_t sb_bac_enc_rr_ack(uint8_t *buf, size_t cap, const struct sb_bac_rr_ack *in);
ssize_t sb_bac_dec_rr_ack(const uint8_t *buf, size_t len, struct sb_bac_rr_ack *out);

/* BACnetLogRecord: timestamp [0] BACnetDateTime, logDatum [1] CHOICE,
 * statusFlags [2] optional.  The numeric choices decode to `v`. */
enum sb_bac_log_kind {
    SB_BAC_LOG_STATUS = 0, SB_BAC_LOG_BOOL = 1, SB_BAC_LOG_REAL = 2,
    SB_BAC_LOG_ENUM = 3, SB_BAC_LOG_UNSIGNED = 4, SB_BAC_LOG_SIGNED = 5,
    SB_BAC_LOG_BITS = 6, SB_BAC_LOG_NULL = 7, SB_BAC_LOG_FAILURE = 8,
    SB_BAC_LOG_TIME_CHANGE = 9, SB_BAC_LOG_ANY = 10
};
/* `v` holds BOOL (0/1), REAL and TIME_CHANGE (binary32 widened; encoded
 * back as binary32), ENUM, UNSIGNED and SIGNED: integers must be exact in
 * a double, so the codec refuses magnitudes above 2^53 (SB_ERANGE on
 * decode, SB_EINVAL on encode, as for a non-integral or negative value
 * where the type forbids it).  `bits` and `any` were added after the
 * first version of this header: a double cannot hold a Bit String or an
 * ABSTRACT-SYNTAX value. */
struct sb_bac_logrec {
    struct sb_bac_datetime ts; /* timestamp [0] */
    uint8_t kind;              /* enum sb_bac_log_kind */
    double v;                  /* BOOL/REAL/ENUM/UNSIGNED/SIGNED/TIME_CHANGE */
    uint8_t log_status;        /* STATUS: bits log-disabled 0, buffer-purged 1, log-interrupted 2 */
    uint32_t err_class, err_code;   /* FAILURE */
    bool has_status;           /* statusFlags [2] present */
    uint8_t status_flags;      /* bits in-alarm 0, fault 1, overridden 2, out-of-service 3 */
    struct sb_bac_bits bits;   /* BITS: the bit string (points into input) */
    const uint8_t *any;        /* ANY: the encoded value between [10] tags */
    size_t any_len;            /* ANY: bytes at any */
};
ssize_t sb_bac_enc_logrec(uint8_t *buf, size_t cap, const struct sb_bac_logrec *in);
ssize_t sb_bac_dec_logrec(const uint8_t *buf, size_t len, struct sb_bac_logrec *out);

/* ---- TimeSynchronization / UTCTimeSynchronization, 16.7 / 16.8 ---- */
/* Both bodies are one BACnetDateTime (local time / UTC). */
ssize_t sb_bac_enc_timesync(uint8_t *buf, size_t cap, const struct sb_bac_datetime *in);
ssize_t sb_bac_dec_timesync(const uint8_t *buf, size_t len, struct sb_bac_datetime *out);

/* ---- GetEventInformation, clause 13.12 ---- */
struct sb_bac_gei_req {
    bool has_last;             /* lastReceivedObjectIdentifier [0] */
    struct sb_bac_oid last;    /* [0] */
};
ssize_t sb_bac_enc_gei_req(uint8_t *buf, size_t cap, const struct sb_bac_gei_req *in);
ssize_t sb_bac_dec_gei_req(const uint8_t *buf, size_t len, struct sb_bac_gei_req *out);

/* One element of listOfEventSummaries [0]. Bit strings are 3 bits:
 * to-offnormal 0, to-fault 1, to-normal 2 (SB_BAC_TR_*). */
struct sb_bac_event_summary {
    struct sb_bac_oid oid;               /* [0] */
    uint32_t event_state;                /* [1] BACnetEventState */
    uint8_t acked;                       /* [2] acknowledgedTransitions */
    struct sb_bac_timestamp stamps[3];   /* [3] */
    uint32_t notify_type;                /* [4] 0 alarm, 1 event, 2 ack-notification */
    uint8_t enable;                      /* [5] eventEnable */
    uint32_t priorities[3];              /* [6] */
};
struct sb_bac_gei_ack {
    const struct sb_bac_event_summary *sums;  /* encode */
    size_t nsums;                             /* encode: entries (0 allowed) */
    const uint8_t *list;                      /* decode: walk with dec_event_summary */
    size_t list_len;                          /* decode: bytes at list */
    bool more;                                /* moreEvents [1] */
};
ssize_t sb_bac_enc_gei_ack(uint8_t *buf, size_t cap, const struct sb_bac_gei_ack *in);
ssize_t sb_bac_dec_gei_ack(const uint8_t *buf, size_t len, struct sb_bac_gei_ack *out);
ssize_t sb_bac_dec_event_summary(const uint8_t *buf, size_t len, struct sb_bac_event_summary *out);

/* ---- AcknowledgeAlarm, clause 13.5 ---- */
struct sb_bac_ackalarm {
    uint32_t pid;                        /* [0] acknowledgingProcessIdentifier */
    struct sb_bac_oid oid;               /* [1] eventObjectIdentifier */
    uint32_t state;                      /* [2] eventStateAcknowledged */
    struct sb_bac_timestamp stamp;       /* [3] timeStamp */
    struct sb_bac_cstr source;           /* [4] acknowledgmentSource */
    struct sb_bac_timestamp when;        /* [5] timeOfAcknowledgment */
};
ssize_t sb_bac_enc_ackalarm(uint8_t *buf, size_t cap, const struct sb_bac_ackalarm *in);
ssize_t sb_bac_dec_ackalarm(const uint8_t *buf, size_t len, struct sb_bac_ackalarm *out);

/* ---- Schedule and Calendar values, clause 12.24 / 12.9 / 21 ---- */

/* BACnetTimeValue: application Time then a primitive application value. */
struct sb_bac_timevalue {
    struct sb_bac_time time;             /* time of day the value applies from */
    struct sb_bac_value value;           /* NULL, BOOLEAN, REAL, ENUMERATED, UNSIGNED... */
};
ssize_t sb_bac_enc_timevalue(uint8_t *buf, size_t cap, const struct sb_bac_timevalue *in);
ssize_t sb_bac_dec_timevalue(const uint8_t *buf, size_t len, struct sb_bac_timevalue *out);

/* BACnetDailySchedule: day-schedule [0] SEQUENCE OF BACnetTimeValue.  The
 * Weekly_Schedule property is an array of 7 of them (Monday first).
 * Encoding from an array; decoding gives the raw list for dec_timevalue. */
ssize_t sb_bac_enc_daily(uint8_t *buf, size_t cap, const struct sb_bac_timevalue *tv, size_t n);
ssize_t sb_bac_dec_daily(const uint8_t *buf, size_t len, const uint8_t **list, size_t *list_len);

/* BACnetDateRange: two application Dates. */
struct sb_bac_daterange {
    struct sb_bac_date start, end;       /* first and last day (inclusive) */
};
ssize_t sb_bac_enc_daterange(uint8_t *buf, size_t cap, const struct sb_bac_daterange *in);
ssize_t sb_bac_dec_daterange(const uint8_t *buf, size_t len, struct sb_bac_daterange *out);

/* BACnetCalendarEntry: date [0] / dateRange [1] / weekNDay [2] (3 octets:
 * month, week of month, day of week; 255 = any). */
enum sb_bac_cal_kind { SB_BAC_CAL_DATE = 0, SB_BAC_CAL_RANGE = 1, SB_BAC_CAL_WEEKNDAY = 2 };
struct sb_bac_calentry {
    uint8_t kind;                        /* enum sb_bac_cal_kind */
    struct sb_bac_date date;             /* SB_BAC_CAL_DATE */
    struct sb_bac_daterange range;       /* SB_BAC_CAL_RANGE */
    uint8_t wnd[3];                      /* SB_BAC_CAL_WEEKNDAY */
};
ssize_t sb_bac_enc_calentry(uint8_t *buf, size_t cap, const struct sb_bac_calentry *in);
ssize_t sb_bac_dec_calentry(const uint8_t *buf, size_t len, struct sb_bac_calentry *out);

/* BACnetSpecialEvent: period (calendarEntry [0] constructed /
 * calendarReference [1] oid), listOfTimeValues [2], eventPriority [3]. */
struct sb_bac_special {
    bool by_ref;                         /* calendarReference */
    struct sb_bac_calentry entry;        /* !by_ref */
    struct sb_bac_oid calendar;          /* by_ref */
    const struct sb_bac_timevalue *tv;   /* encode */
    size_t ntv;                          /* encode: entries (0 allowed) */
    const uint8_t *list;                 /* decode: walk with dec_timevalue */
    size_t list_len;                     /* decode: bytes at list */
    uint8_t priority;                    /* 1..16 */
};
ssize_t sb_bac_enc_special(uint8_t *buf, size_t cap, const struct sb_bac_special *in);
ssize_t sb_bac_dec_special(const uint8_t *buf, size_t len, struct sb_bac_special *out);

/* BACnet Date/DateTime <-> Unix time, for callers that compute with times
 * (unix milliseconds UTC; the caller supplies the offset of local time in
 * minutes, BACnet devices keep local time).  The offset is local minus
 * UTC (+60 for CET), -1440..1440, i.e. the NEGATED value of the Device
 * object's UTC_Offset property (clause 12.11, positive west of
 * Greenwich); 0 for a UTCTimeSynchronization.  Proleptic Gregorian,
 * years 1900..2154 (the Date octet range); hundredths are truncated.
 * from_unix sets every field including the weekday; SB_ERANGE outside the
 * years, SB_EINVAL for a bad offset.  to_unix needs a fully specified
 * date and time (SB_EINVAL for 255 "any" and the special month/day
 * values 13/14 and 32..34, or a day the month lacks); it ignores the
 * weekday and takes hundredths 255 as 0, as many devices send. */
int sb_bac_dt_from_unix(int64_t ms, int utc_offset_min, struct sb_bac_datetime *out);
int sb_bac_dt_to_unix(const struct sb_bac_datetime *in, int utc_offset_min, int64_t *ms);

#endif /* SB_BAC_SVC2_H */

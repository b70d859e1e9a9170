/*
 * server.h - the server side of a BACnet device: an object database and
 * the request handler that answers it (ANSI/ASHRAE 135-2020, clauses 12,
 * 13, 15, 16, 19).
 *
 * One struct sb_bac_srv is one BACnet device: a Device object plus Analog,
 * Binary and Multi-state Input/Output/Value objects, Trend Logs, Schedules
 * and Calendars.  The transport (src/proto/bacnet/stack/) hands it decoded
 * APDU service data and sends what it returns; sbems-sim runs hundreds of
 * them, sbems one to expose its computed points to a building's BMS.
 *
 * Pure of I/O: no sockets, no clocks (time comes in as now_ms, Unix
 * milliseconds UTC), no threads, no logging.  The only outward calls are
 * COV notifications, through the sender set with sb_bac_srv_set_sender().
 * Not thread-safe: one thread (the loop that owns the stack) uses a srv.
 *
 * Ownership: the srv owns every object, string, trend buffer, schedule
 * value and COV subscription; sb_bac_srv_free() releases all of it.
 * Strings given to the create functions are copied.  Request and reply
 * buffers belong to the caller; the handler keeps no pointer into them.
 * Answering a request allocates nothing.
 *
 * Errors: functions return 0 (or a length) or a negative SB_E* code
 * (core/err.h).  A refusal of a BACnet request is not an error of the
 * call: it is the Error/Reject/Abort PDU described by the reply.
 */
#ifndef SB_BAC_SERVER_H
#define SB_BAC_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/codec/tag.h"
#include "proto/bacnet/peer.h"

struct sb_bac_srv;

/* ---- the device ---- */

/* Device object configuration (clause 12.11).  Zero fields take the
 * default named in the comment. */
struct sb_bac_srv_cfg {
    uint32_t instance;             /* Device instance, 0..4194302 */
    const char *name;              /* Object_Name, required, unique */
    const char *description;       /* Description; NULL = property absent */
    const char *location;          /* Location; NULL = property absent */
    const char *vendor_name;       /* Vendor_Name ("sbems") */
    uint16_t vendor_id;            /* Vendor_Identifier (0; the sim uses 2, Trane) */
    const char *model_name;        /* Model_Name ("sbems") */
    const char *firmware;          /* Firmware_Revision ("1.0") */
    const char *app_version;       /* Application_Software_Version ("1.0") */
    uint16_t max_apdu;             /* Max_APDU_Length_Accepted, 50..1476 (1476) */
    uint8_t max_segments;          /* Max_Segments_Accepted (64) */
    uint32_t apdu_timeout_ms;      /* APDU_Timeout (3000) */
    uint32_t segment_timeout_ms;   /* APDU_Segment_Timeout (= apdu timeout) */
    int apdu_retries;              /* Number_Of_APDU_Retries (3; < 0 means 0) */
    int utc_offset_min;            /* UTC_Offset as clause 12.11.36 defines it:
                                      minutes, POSITIVE WEST of Greenwich
                                      (New York standard time = 300);
                                      local time = UTC - utc_offset_min */
    uint32_t max_objects;          /* objects besides the Device (4096) */
    uint32_t max_cov_subs;         /* COV subscription table size (64) */
};

/* Creates a device.  SB_EINVAL for a bad instance, name or max_apdu,
 * SB_ENOMEM.  *out is owned by the caller, freed by sb_bac_srv_free(). */
int sb_bac_srv_new(const struct sb_bac_srv_cfg *cfg, int64_t now_ms, struct sb_bac_srv **out);
void sb_bac_srv_free(struct sb_bac_srv *s);

/* The Device object identifier. */
struct sb_bac_oid sb_bac_srv_device(const struct sb_bac_srv *s);

/* ---- objects: creation by the owner ---- */

/* Flags of sb_bac_srv_obj_cfg. */
enum {
    SB_BAC_SRV_COMMANDABLE = 1 << 0,   /* Priority_Array etc. (forced on for
                                          outputs, optional for values) */
    SB_BAC_SRV_WRITABLE = 1 << 1,      /* a value object whose Present_Value
                                          a client may write directly */
    SB_BAC_SRV_ALARM = 1 << 2          /* analog: intrinsic OUT_OF_RANGE reporting */
};

/* Bits of Limit_Enable (clause 12.2.x, BACnetLimitEnable) and of
 * Event_Enable / Acked_Transitions (BACnetEventTransitionBits). */
enum { SB_BAC_SRV_LOW_LIMIT = 1, SB_BAC_SRV_HIGH_LIMIT = 2 };
enum { SB_BAC_SRV_TO_OFFNORMAL = 1, SB_BAC_SRV_TO_FAULT = 2, SB_BAC_SRV_TO_NORMAL = 4 };

/* An Analog, Binary or Multi-state Input, Output or Value object. */
struct sb_bac_srv_obj_cfg {
    uint16_t type;                 /* SB_BAC_OBJ_AI .. SB_BAC_OBJ_MSV (enums.h) */
    uint32_t instance;             /* 0..4194302 */
    const char *name;              /* Object_Name, required, unique in the device */
    const char *description;       /* NULL = property absent */
    uint32_t flags;                /* SB_BAC_SRV_COMMANDABLE | _WRITABLE | _ALARM */
    double initial;                /* first Present_Value (and Relinquish_Default):
                                      REAL; binary 0/1; multi-state 1..N */
    /* analog */
    uint32_t units;                /* Units, BACnetEngineeringUnits */
    float cov_increment;           /* COV_Increment, >= 0 */
    /* binary */
    uint8_t polarity;              /* Polarity (inputs, outputs): 0 normal, 1 reverse */
    const char *active_text;       /* Active_Text / Inactive_Text: both or */
    const char *inactive_text;     /* neither (NULL = properties absent) */
    /* multi-state */
    uint32_t nstates;              /* Number_Of_States, 1..255 */
    const char *const *state_text; /* State_Text, nstates strings, or NULL */
    /* intrinsic reporting (analog with SB_BAC_SRV_ALARM), clause 13.3.6 */
    float high_limit, low_limit;   /* High_Limit, Low_Limit */
    float deadband;                /* Deadband, >= 0 */
    uint8_t limit_enable;          /* SB_BAC_SRV_LOW_LIMIT | _HIGH_LIMIT */
    uint8_t event_enable;          /* SB_BAC_SRV_TO_OFFNORMAL | _TO_FAULT | _TO_NORMAL */
    uint32_t notification_class;   /* Notification_Class (informative) */
    uint8_t event_priority;        /* priority shown by GetEventInformation (0..255) */
};

/* Adds an object.  SB_EINVAL (bad type, instance, name, states...),
 * SB_EEXIST (identifier or name taken), SB_ERANGE (max_objects reached),
 * SB_ENOMEM.  Increments Database_Revision. */
int sb_bac_srv_add(struct sb_bac_srv *s, const struct sb_bac_srv_obj_cfg *c, int64_t now_ms);

/* A Trend Log object (clause 12.25), fed by sb_bac_srv_trend_append(). */
struct sb_bac_srv_trend_cfg {
    uint32_t instance;
    const char *name;
    const char *description;       /* NULL = absent */
    uint32_t buffer_size;          /* Buffer_Size, records, 1..1048576 */
    uint32_t log_interval_cs;      /* Log_Interval, hundredths of a second */
    uint8_t logging_type;          /* Logging_Type: 0 polled, 1 cov, 2 triggered */
    bool stop_when_full;           /* Stop_When_Full */
    bool disabled;                 /* Enable = FALSE at start */
    struct sb_bac_oid source;      /* Log_DeviceObjectProperty object (this device) */
    uint32_t source_prop;          /* ... and property (85 Present_Value) */
};
int sb_bac_srv_add_trend(struct sb_bac_srv *s, const struct sb_bac_srv_trend_cfg *c);

/* A Schedule object (clause 12.24).  Weekly_Schedule, Exception_Schedule,
 * Effective_Period and List_Of_Object_Property_References start empty /
 * open; set them with sb_bac_srv_write() as a client would. */
struct sb_bac_srv_sched_cfg {
    uint32_t instance;
    const char *name;
    const char *description;       /* NULL = absent */
    struct sb_bac_value dflt;      /* Schedule_Default: NULL, BOOLEAN, UNSIGNED,
                                      SIGNED, REAL, DOUBLE or ENUMERATED */
    uint8_t priority_for_writing;  /* 1..16 (16) */
};
int sb_bac_srv_add_schedule(struct sb_bac_srv *s, const struct sb_bac_srv_sched_cfg *c);

/* A Calendar object (clause 12.9); Date_List starts empty. */
int sb_bac_srv_add_calendar(struct sb_bac_srv *s, uint32_t instance, const char *name,
                            const char *description);

/* ---- objects: the owner's view ---- */

/* Looks an object (or the Device) up by Object_Name (UTF-8, exact). */
int sb_bac_srv_find_name(const struct sb_bac_srv *s, const char *name, struct sb_bac_oid *out);

/* Sets the measured value of an input, or the local value of a value
 * object / output that is not commanded (the Relinquish_Default of a
 * commandable object), as the plant or sbems computes it.  An input that
 * is Out_Of_Service keeps its value; the measurement is applied when it
 * returns in service (clause 12.2.13).  Fires COV notifications and
 * intrinsic alarms.  SB_ENOENT, SB_EINVAL (wrong family), SB_ERANGE
 * (binary not 0/1, multi-state outside 1..N, NaN). */
int sb_bac_srv_set_pv(struct sb_bac_srv *s, struct sb_bac_oid oid, double v, int64_t now_ms);

/* Commands a commandable object at priority 1..16 as a local program
 * would (clause 19.2); relinquish = true writes NULL. */
int sb_bac_srv_command(struct sb_bac_srv *s, struct sb_bac_oid oid, uint8_t priority,
                       bool relinquish, double v, int64_t now_ms);

/* Present_Value as BACnet sees it (the effective value for commandable
 * objects).  For schedules and calendars use the evaluators below. */
int sb_bac_srv_get_pv(const struct sb_bac_srv *s, struct sb_bac_oid oid, double *v);

/* The command state of a commandable object: which slots hold a value
 * (bit p-1 for priority p), their values, Relinquish_Default and the
 * winning priority (0 = Relinquish_Default in effect). SB_EINVAL if the
 * object is not commandable. */
struct sb_bac_srv_cmd {
    uint16_t active;               /* bit p-1 set: slot p holds a value */
    double slot[16];               /* slot values (0 where NULL) */
    double relinquish_default;
    uint8_t current;               /* Current_Command_Priority, 0 = none */
};
int sb_bac_srv_get_cmd(const struct sb_bac_srv *s, struct sb_bac_oid oid,
                       struct sb_bac_srv_cmd *out);

/* Reliability (clause 12.x, BACnetReliability: 0 no-fault-detected); a
 * fault sets Status_Flags.fault and, with intrinsic reporting, FAULT. */
int sb_bac_srv_set_reliability(struct sb_bac_srv *s, struct sb_bac_oid oid,
                               uint32_t reliability, int64_t now_ms);

/* Event_State and Status_Flags (bit 0 in-alarm, 1 fault, 2 overridden,
 * 3 out-of-service). */
int sb_bac_srv_get_status(const struct sb_bac_srv *s, struct sb_bac_oid oid,
                          uint32_t *event_state, uint8_t *status_flags);

/* One record for a Trend Log (kinds of svc2.h's sb_bac_log_kind:
 * REAL, BOOL, ENUM, UNSIGNED, SIGNED, NULL, STATUS). */
struct sb_bac_srv_rec {
    int64_t ts_ms;                 /* Unix ms UTC; shown in device local time */
    uint8_t kind;                  /* enum sb_bac_log_kind */
    double v;                      /* the datum (STATUS: the log-status bits) */
    bool has_status;               /* statusFlags present */
    uint8_t status_flags;          /* bits in-alarm 0 .. out-of-service 3 */
};
/* Appends (clause 12.25.14): SB_ENOENT, SB_EINVAL (kind),
 * SB_EAGAIN when Enable is FALSE or the buffer is full with
 * Stop_When_Full (which also clears Enable, as the clause says). */
int sb_bac_srv_trend_append(struct sb_bac_srv *s, uint32_t instance,
                            const struct sb_bac_srv_rec *r);

/* The value a Schedule takes at a local date and time (clause 12.24.4):
 * Schedule_Default outside Effective_Period; otherwise the highest
 * priority Exception_Schedule entry in effect (lowest eventPriority,
 * earliest in the array on ties), else the day's Weekly_Schedule entry
 * in effect, else Schedule_Default.  NULL entries relinquish to the next
 * level.  Scalar values only (out->type among those of Schedule_Default).
 * SB_ENOENT, SB_EINVAL (date or time unspecified). */
int sb_bac_srv_sched_eval(const struct sb_bac_srv *s, uint32_t instance,
                          const struct sb_bac_datetime *local, struct sb_bac_value *out);
/* Whether a Calendar's Date_List holds the date (its Present_Value). */
int sb_bac_srv_cal_eval(const struct sb_bac_srv *s, uint32_t instance,
                        const struct sb_bac_date *date, bool *out);

/* The device clock: now_ms corrected by the last Time(UTC)Synchronization,
 * and as a local BACnetDateTime. */
int64_t sb_bac_srv_clock(const struct sb_bac_srv *s, int64_t now_ms);
int sb_bac_srv_local_time(const struct sb_bac_srv *s, int64_t now_ms,
                          struct sb_bac_datetime *out);

/* Generic property access with the same checks a client gets: the value
 * is encoded application data (as inside ReadProperty's [3] tags).
 * On refusal the return is SB_EPROTO and *err (if not NULL) holds the
 * BACnet error class and code; SB_ENOSPC if the value does not fit cap. */
struct sb_bac_error;
ssize_t sb_bac_srv_read(struct sb_bac_srv *s, struct sb_bac_oid oid, uint32_t prop,
                        bool has_index, uint32_t index, int64_t now_ms,
                        uint8_t *buf, size_t cap, struct sb_bac_error *err);
int sb_bac_srv_write(struct sb_bac_srv *s, struct sb_bac_oid oid, uint32_t prop,
                     bool has_index, uint32_t index, const uint8_t *val, size_t len,
                     uint8_t priority, int64_t now_ms, struct sb_bac_error *err);

/* ---- the stack's side ---- */

/* Answers a confirmed request (clause 5.4.5's server TSM gives it the
 * service choice and service data).  Writes the reply's service data into
 * out and sets *pdu (enum sb_bac_pdu):
 *   SIMPLE_ACK  - no data (returns 0);
 *   COMPLEX_ACK - the ACK of `service`;
 *   ERROR       - the Error PDU body for `service`: class/code, or the
 *                 WritePropertyMultiple-Error production for service 16;
 *   REJECT      - *reason (clause 18.8) and no data: malformed or
 *                 truncated requests, unknown confirmed services
 *                 (unrecognized-service, never an Error);
 *   ABORT       - *reason buffer-overflow: the reply does not fit cap.
 * The ack/error service choice is always `service`.  Returns the length
 * of the data in out, or SB_EINVAL for a NULL argument.  cap should be
 * at least 64 KiB (the stack segments replies); reading Object_List of
 * a large device needs it.  After the reply is transmitted, call
 * sb_bac_srv_flush() so a new COV subscription gets its initial
 * notification after the Simple-ACK (clause 13.14.2). */
ssize_t sb_bac_srv_confirmed(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                             uint8_t service, const uint8_t *body, size_t len,
                             int64_t now_ms, uint8_t *out, size_t cap,
                             uint8_t *pdu, uint8_t *reason);

/* Handles an unconfirmed request: Who-Is (I-Am), Who-Has (I-Have),
 * TimeSynchronization and UTCTimeSynchronization (set the device clock).
 * When an answer is due, its service data is written to out and its
 * unconfirmed service choice to *reply; the caller broadcasts it
 * (clause 16.1.2 / 16.9.2).  Returns the answer's length, 0 when there
 * is nothing to send (unknown services, malformed bodies, requests for
 * other devices), SB_EINVAL for a NULL argument, SB_ENOSPC for a tiny cap. */
ssize_t sb_bac_srv_unconfirmed(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                               uint8_t service, const uint8_t *body, size_t len,
                               int64_t now_ms, uint8_t *out, size_t cap, uint8_t *reply);

/* The I-Am service data this device announces (clause 16.1). */
ssize_t sb_bac_srv_iam(const struct sb_bac_srv *s, uint8_t *out, size_t cap);

/* COV notifications leave through fn, called synchronously with the
 * service data of a (Un)ConfirmedCOVNotification (service 1 or 2) for
 * the stack to frame and send; body lives only during the call.  fn must
 * not call back into the srv.  Without a sender, notifications are
 * dropped (subscriptions still work). */
typedef void (*sb_bac_srv_send_fn)(void *ud, const struct sb_bac_peer *to, int confirmed,
                                   uint8_t service, const uint8_t *body, size_t len);
void sb_bac_srv_set_sender(struct sb_bac_srv *s, sb_bac_srv_send_fn fn, void *ud);

/* Sends the pending initial COV notifications. */
void sb_bac_srv_flush(struct sb_bac_srv *s, int64_t now_ms);
/* Periodic work: expires COV subscriptions whose lifetime ran out and
 * flushes pending notifications.  Call about once a second. */
void sb_bac_srv_tick(struct sb_bac_srv *s, int64_t now_ms);

/* Active COV subscriptions (for tests and status pages). */
size_t sb_bac_srv_cov_count(const struct sb_bac_srv *s);

#endif /* SB_BAC_SERVER_H */

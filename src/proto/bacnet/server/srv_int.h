/*
 * srv_int.h - internals shared by the BACnet server files (not an API).
 *
 * The object database: every object, the Device included, is a struct
 * sb_bac_srv__obj on the heap; `objs` holds them sorted by (type,
 * instance) - binary search for lookups, and Object_List index i is
 * objs[i - 1] - and `by_name` sorted by Object_Name.  Pointers to objects
 * are stable (objects are never deleted), so COV subscriptions keep one.
 *
 * Property handlers return 0 or a packed BACnet error (SRV_ERR), never
 * touch the allocator on the read path, and write through the bounded
 * writer below, which latches SB_ENOSPC so callers check once.
 */
#ifndef SB_BAC_SRV_INT_H
#define SB_BAC_SRV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/server/server.h"

/* Numbers of clause 21 that enums.h does not name. */
enum {
    SRV_P_EVENT_DETECTION_ENABLE = 353,
    SRV_ERR_INVALID_TIME_STAMP = 14,
    SRV_ERR_NO_SPACE_TO_ADD_LIST_ELEMENT = 19,
    SRV_ERR_PROPERTY_IS_NOT_A_LIST = 22,
    SRV_ERR_NO_ALARM_CONFIGURED = 74,
    SRV_SYSTEM_STATUS_OPERATIONAL = 0,
    SRV_REL_NO_FAULT = 0,
    SRV_PROTOCOL_REVISION = 22,
    SRV_SERVICES_BITS = 49,         /* BACnetServicesSupported, 135-2020 */
    SRV_OBJTYPES_BITS = 63,         /* BACnetObjectTypesSupported, 0..62 */
    SRV_PRIO_DEFAULT = 16,          /* clause 19.2.1: no priority = 16 */
    SRV_NPRIO = 16
};

/* A BACnet error as one negative int: the class and code of clause 18,
 * far below every SB_E* value.  0 = success. */
#define SRV_ERR(c, k) (-(int)(0x1000000u | ((unsigned)(c) << 16) | (unsigned)(k)))
static inline uint32_t srv_err_class(int e) { return ((unsigned)-e >> 16) & 0xffu; }
static inline uint32_t srv_err_code(int e) { return (unsigned)-e & 0xffffu; }

/* Object families: what a handler needs to know about the type. */
enum srv_fam {
    FAM_DEVICE, FAM_ANALOG, FAM_BINARY, FAM_MULTI, FAM_TREND, FAM_SCHED, FAM_CAL
};

/* Object flags (beyond the public SB_BAC_SRV_* ones, kept in the low bits). */
enum {
    OF_COMMANDABLE = SB_BAC_SRV_COMMANDABLE,
    OF_WRITABLE = SB_BAC_SRV_WRITABLE,
    OF_INPUT = 1 << 4,              /* AI, BI, MSI: PV writable only out of service */
    OF_OUTPUT = 1 << 5              /* AO, BO, MSO */
};

/* A Present_Value: REAL for analog, 0/1 for binary, 1..N for multi-state. */
union srv_pv {
    float r;                        /* FAM_ANALOG */
    uint32_t u;                     /* FAM_BINARY, FAM_MULTI */
};

/* Clause 19.2: the priority array of a commandable object. */
struct srv_cmd {
    uint16_t active;                /* bit p-1: slot p holds a value */
    union srv_pv slot[SRV_NPRIO];   /* slot values */
    union srv_pv relinquish;        /* Relinquish_Default */
};

/* Intrinsic OUT_OF_RANGE reporting, clause 13.3.6 (Time_Delay is 0). */
struct srv_alarm {
    float high, low, deadband;      /* High_Limit, Low_Limit, Deadband */
    uint8_t limit_enable;           /* SB_BAC_SRV_LOW_LIMIT | _HIGH_LIMIT */
    uint8_t event_enable;           /* SB_BAC_SRV_TO_* */
    uint8_t acked;                  /* Acked_Transitions, SB_BAC_SRV_TO_* */
    uint8_t priority;               /* shown in event summaries */
    uint32_t notify_class;          /* Notification_Class */
    uint32_t notify_type;           /* Notify_Type: 0 alarm, 1 event */
    uint32_t time_delay;            /* Time_Delay, s (stored, not applied) */
    struct sb_bac_datetime stamps[3];   /* Event_Time_Stamps: to-offnormal,
                                           to-fault, to-normal (255 = unset) */
};

/* One Trend Log record. */
struct srv_rec {
    int64_t ts;                     /* Unix ms UTC */
    double v;                       /* datum */
    uint32_t seq;                   /* sequence number (Total_Record_Count then) */
    uint8_t kind;                   /* enum sb_bac_log_kind */
    uint8_t status;                 /* status flags */
    bool has_status;                /* statusFlags present */
};

/* Clause 12.25: a ring of records. */
struct srv_trend {
    struct srv_rec *recs;           /* size entries */
    uint32_t size;                  /* Buffer_Size */
    uint32_t count;                 /* Record_Count */
    uint32_t head;                  /* index of the oldest record */
    uint32_t total;                 /* Total_Record_Count */
    uint32_t interval;              /* Log_Interval, 1/100 s */
    uint8_t logging_type;           /* Logging_Type */
    bool enable;                    /* Enable */
    bool stop_when_full;            /* Stop_When_Full */
    struct sb_bac_oid src;          /* Log_DeviceObjectProperty: object */
    uint32_t src_prop;              /* ... property */
};

/* A list of encoded elements kept as one blob (Exception_Schedule,
 * Date_List, List_Of_Object_Property_References). */
struct srv_blob {
    uint8_t *p;                     /* the encoded elements, heap */
    size_t len;                     /* bytes at p */
    uint32_t *off;                  /* n + 1 element offsets into p, heap */
    uint32_t n;                     /* elements */
};

/* Clause 12.24: values stay encoded, validated by the svc2.h decoders. */
struct srv_sched {
    struct srv_blob week[7];        /* Weekly_Schedule: each day one element,
                                       the whole BACnetDailySchedule */
    struct srv_blob except;         /* Exception_Schedule: BACnetSpecialEvents */
    struct srv_blob refs;           /* List_Of_Object_Property_References */
    struct sb_bac_daterange period; /* Effective_Period (all 255 = always) */
    struct sb_bac_value dflt;       /* Schedule_Default (scalar) */
    struct sb_bac_value oos_pv;     /* Present_Value written while out of service */
    uint8_t prio;                   /* Priority_For_Writing */
};

/* Clause 12.9. */
struct srv_cal {
    struct srv_blob dates;          /* Date_List: BACnetCalendarEntries */
};

struct sb_bac_srv__obj {
    struct sb_bac_oid oid;          /* Object_Identifier */
    uint32_t key;                   /* type << 22 | instance: sort key */
    uint8_t fam;                    /* enum srv_fam */
    uint8_t flags;                  /* OF_* */
    uint8_t event_state;            /* Event_State */
    bool oos;                       /* Out_Of_Service */
    uint32_t reliability;           /* Reliability */
    uint32_t nsubs;                 /* COV subscriptions on this object */
    char *name;                     /* Object_Name, heap */
    char *desc;                     /* Description, heap or NULL */
    union srv_pv pv;                /* Present_Value (effective) */
    union srv_pv phys;              /* an input's measurement while out of service */
    struct srv_cmd *cmd;            /* priority array, NULL if not commandable */
    struct srv_alarm *alarm;        /* intrinsic reporting, NULL if none */
    union {
        struct {
            char *location;         /* Location, heap or NULL */
        } dev;
        struct {
            uint32_t units;         /* Units */
            float cov_inc;          /* COV_Increment */
        } an;
        struct {
            uint8_t polarity;       /* Polarity */
            char *active;           /* Active_Text, heap or NULL */
            char *inactive;         /* Inactive_Text, heap or NULL */
        } bin;
        struct {
            uint32_t nstates;       /* Number_Of_States */
            char **text;            /* State_Text, nstates strings, or NULL */
        } ms;
        struct srv_trend *tl;       /* FAM_TREND */
        struct srv_sched *sc;       /* FAM_SCHED */
        struct srv_cal *cal;        /* FAM_CAL */
    } u;
};

/* A COV subscription, clause 13.14: key peer + process id + object. */
struct srv_sub {
    struct sb_bac_peer peer;        /* subscriber */
    uint32_t pid;                   /* subscriberProcessIdentifier */
    struct sb_bac_srv__obj *obj;    /* monitored object; NULL = free slot */
    int64_t expires;                /* Unix ms; 0 = indefinite */
    union srv_pv last_pv;           /* value last notified */
    uint8_t last_flags;             /* Status_Flags last notified */
    bool confirmed;                 /* issueConfirmedNotifications */
    bool pending;                   /* initial notification not yet sent */
};

struct sb_bac_srv {
    struct sb_bac_srv__obj *dev;    /* the Device object (also in objs) */
    struct sb_bac_srv__obj **objs;  /* sorted by key */
    struct sb_bac_srv__obj **by_name;   /* sorted by name */
    size_t nobjs;                   /* entries in objs / by_name */
    size_t cap;                     /* allocated entries */
    size_t max_objs;                /* limit, Device included */
    char *vendor_name, *model_name, *firmware, *app_version;   /* heap */
    uint16_t vendor_id;             /* Vendor_Identifier */
    uint16_t max_apdu;              /* Max_APDU_Length_Accepted */
    uint8_t max_segs;               /* Max_Segments_Accepted */
    uint32_t apdu_timeout;          /* APDU_Timeout, ms */
    uint32_t seg_timeout;           /* APDU_Segment_Timeout, ms */
    uint32_t retries;               /* Number_Of_APDU_Retries */
    int utc_offset;                 /* UTC_Offset, minutes, positive west */
    uint32_t db_rev;                /* Database_Revision */
    int64_t clock_off;              /* ms added to now_ms by time sync */
    struct srv_sub *subs;           /* COV table */
    size_t nsubs_max;               /* its size */
    size_t nsubs;                   /* slots in use */
    sb_bac_srv_send_fn send;        /* notification sender, or NULL */
    void *send_ud;                  /* its user data */
};

typedef struct sb_bac_srv__obj srv_obj;

/* ---- bounded writer (srv_enc.c) ---- */
struct srv_w {
    uint8_t *buf;                   /* output, or NULL to count */
    size_t cap;                     /* capacity */
    size_t n;                       /* bytes written or needed */
    int err;                        /* first error (SB_ENOSPC / SB_EINVAL) */
};

static inline void srv_w_init(struct srv_w *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->n = 0;
    w->err = 0;
}

/* Account for the result of a codec encoder called at the cursor. */
void sb_bac_srv__w_add(struct srv_w *w, ssize_t r);
#define SRV_W_AT(w) ((w)->buf ? (w)->buf + (w)->n : NULL)
#define SRV_W_LEFT(w) ((w)->buf ? (w)->cap - (w)->n : 0)
/* Run a codec encoder fn(buf, cap, arg) at the cursor. */
#define SRV_W_ENC(w, fn, arg) \
    do { if (!(w)->err) sb_bac_srv__w_add((w), fn(SRV_W_AT(w), SRV_W_LEFT(w), (arg))); } while (0)

void sb_bac_srv__w_app(struct srv_w *w, const struct sb_bac_value *v);
void sb_bac_srv__w_ctx(struct srv_w *w, uint8_t tag, const struct sb_bac_value *v);
void sb_bac_srv__w_open(struct srv_w *w, uint8_t tag);
void sb_bac_srv__w_close(struct srv_w *w, uint8_t tag);
void sb_bac_srv__w_raw(struct srv_w *w, const void *p, size_t n);
void sb_bac_srv__w_null(struct srv_w *w);
void sb_bac_srv__w_bool(struct srv_w *w, bool b);
void sb_bac_srv__w_uint(struct srv_w *w, uint64_t u);
void sb_bac_srv__w_sint(struct srv_w *w, int64_t i);
void sb_bac_srv__w_real(struct srv_w *w, float f);
void sb_bac_srv__w_enum(struct srv_w *w, uint32_t e);
void sb_bac_srv__w_oid(struct srv_w *w, struct sb_bac_oid oid);
void sb_bac_srv__w_str(struct srv_w *w, const char *s);
void sb_bac_srv__w_date(struct srv_w *w, struct sb_bac_date d);
void sb_bac_srv__w_time(struct srv_w *w, struct sb_bac_time t);
/* A bit string of nbits (<= 8) from a mask whose bit n is string bit n. */
void sb_bac_srv__w_bits8(struct srv_w *w, uint8_t mask, size_t nbits);
/* A bit string from packed octets (bit 0 = MSB of p[0]). */
void sb_bac_srv__w_bits(struct srv_w *w, const uint8_t *p, size_t nbits);
/* BACnetTimeStamp choice dateTime [2] (clause 21). */
void sb_bac_srv__w_stamp(struct srv_w *w, const struct sb_bac_datetime *dt);

/* Decodes one application value that must be all of (p, n): SB_EPROTO
 * when more or other data follows. */
int sb_bac_srv__one_value(const uint8_t *p, size_t n, struct sb_bac_value *v);

/* Local date and time of a Unix ms instant for this device (no clock
 * correction applied); returns SB_ERANGE outside 1900..2154. */
int sb_bac_srv__local(const struct sb_bac_srv *s, int64_t utc_ms, struct sb_bac_datetime *out);
/* The device's notion of now (clock-corrected, local). */
int sb_bac_srv__now_local(const struct sb_bac_srv *s, int64_t now_ms, struct sb_bac_datetime *out);
/* An unspecified datetime (all fields 255). */
void sb_bac_srv__dt_unset(struct sb_bac_datetime *dt);

/* ---- objects (srv_obj.c) ---- */
srv_obj *sb_bac_srv__find(const struct sb_bac_srv *s, struct sb_bac_oid oid);
srv_obj *sb_bac_srv__find_name(const struct sb_bac_srv *s, const char *name, size_t len);
size_t sb_bac_srv__index_of(const struct sb_bac_srv *s, uint32_t key);   /* first >= key */
int sb_bac_srv__insert(struct sb_bac_srv *s, srv_obj *o);
srv_obj *sb_bac_srv__obj_new(struct sb_bac_oid oid, uint8_t fam, const char *name,
                             const char *desc);
void sb_bac_srv__obj_free(srv_obj *o);
void sb_bac_srv__blob_free(struct srv_blob *b);
/* Status_Flags of an object: in-alarm 0, fault 1, overridden 2, oos 3. */
uint8_t sb_bac_srv__flags(const srv_obj *o);

/* ---- properties (srv_prop.c) ---- */
enum { SRV_LIST_ALL, SRV_LIST_REQUIRED, SRV_LIST_OPTIONAL };
/* Whether the object has the property; and whether it is an array. */
bool sb_bac_srv__has_prop(const srv_obj *o, uint32_t prop);
bool sb_bac_srv__is_array(const srv_obj *o, uint32_t prop);
/* The identifiers of `which` properties, in table order; returns the
 * count (at most max written). */
size_t sb_bac_srv__prop_ids(const srv_obj *o, int which, uint32_t *ids, size_t max);
/* Encodes a property value (the content of ReadProperty's [3]). */
int sb_bac_srv__read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                     uint32_t index, int64_t now_ms, struct srv_w *w);
/* An array of n elements: index 0 = count, 1..n = element, none = all;
 * elem(i) encodes element i (0-based). */
typedef void (*srv_elem_fn)(struct sb_bac_srv *s, const srv_obj *o, uint32_t i,
                            struct srv_w *w);
int sb_bac_srv__array(struct sb_bac_srv *s, const srv_obj *o, uint32_t n, bool has_index,
                      uint32_t index, srv_elem_fn elem, struct srv_w *w);

/* ---- writes (srv_write.c) ---- */
int sb_bac_srv__write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                      uint32_t index, const uint8_t *val, size_t len, uint8_t prio,
                      int64_t now_ms);

/* ---- commanding and change propagation (srv_cmd.c) ---- */
/* Decodes a Present_Value-typed value for the object (REAL, ENUMERATED
 * 0/1, UNSIGNED 1..N; NULL when allow_null): 0 or a packed error.
 * *is_null tells a NULL. */
int sb_bac_srv__pv_decode(const srv_obj *o, const uint8_t *val, size_t len, bool allow_null,
                          union srv_pv *pv, bool *is_null);
/* Clause 19.2: write or relinquish slot prio and re-arbitrate. */
void sb_bac_srv__command(struct sb_bac_srv *s, srv_obj *o, uint8_t prio, bool relinquish,
                         union srv_pv v, int64_t now_ms);
/* Re-arbitrates after a change of slots or Relinquish_Default. */
void sb_bac_srv__rearbitrate(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms);
/* The winning priority, 0 = Relinquish_Default. */
uint8_t sb_bac_srv__current_prio(const srv_obj *o);
/* Present_Value, Out_Of_Service or Reliability changed: run the alarm
 * algorithm and the COV checks. */
void sb_bac_srv__changed(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms);
/* Converting between the public double and an object's value. */
int sb_bac_srv__pv_from_double(const srv_obj *o, double v, union srv_pv *out);
double sb_bac_srv__pv_to_double(const srv_obj *o, union srv_pv v);
/* Encodes a value of the object's Present_Value type. */
void sb_bac_srv__w_pv(struct srv_w *w, const srv_obj *o, union srv_pv v);

/* ---- COV (srv_cov.c) ---- */
int sb_bac_srv__subscribe(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                          const struct sb_bac_subcov *req, int64_t now_ms);
void sb_bac_srv__cov_check(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms);
bool sb_bac_srv__peer_eq(const struct sb_bac_peer *a, const struct sb_bac_peer *b);

/* ---- intrinsic alarms and their services (srv_event.c) ---- */
void sb_bac_srv__alarm_eval(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms);
int sb_bac_srv__gei(struct sb_bac_srv *s, const uint8_t *body, size_t len, struct srv_w *w,
                    uint8_t *reject);
int sb_bac_srv__ack_alarm(struct sb_bac_srv *s, const uint8_t *body, size_t len,
                          uint8_t *reject);

/* ---- trend logs (srv_trend.c) ---- */
int sb_bac_srv__trend_read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, struct srv_w *w);
int sb_bac_srv__trend_write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop,
                            const uint8_t *val, size_t len);
int sb_bac_srv__read_range(struct sb_bac_srv *s, const uint8_t *body, size_t len,
                           struct srv_w *w, uint8_t *reject);
void sb_bac_srv__trend_free(struct srv_trend *t);

/* ---- schedules and calendars (srv_sched.c) ---- */
int sb_bac_srv__sched_read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                           uint32_t index, int64_t now_ms, struct srv_w *w);
int sb_bac_srv__sched_write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                            uint32_t index, const uint8_t *val, size_t len);
void sb_bac_srv__sched_free(struct srv_sched *sc);
void sb_bac_srv__cal_free(struct srv_cal *c);

/* ---- request classification (srv_svc.c) ---- */
/* The Reject reason for a decoder's failure on a whole body (clause
 * 18.8): truncation is missing-required-parameter; a complete request
 * followed by more is too-many-arguments, unless what follows carries
 * one of the service's own context tags (`tags`, bit n = [n]): then it
 * is a parameter with a bad value, parameter-out-of-range (a WriteProperty
 * priority of 17); anything else is invalid-tag. */
typedef ssize_t (*srv_dec_fn)(const uint8_t *p, size_t n);
uint8_t sb_bac_srv__reject_for(ssize_t rc, const uint8_t *body, size_t len, srv_dec_fn dec,
                               uint32_t tags);
/* The context tags of each request (clauses 15.5, 15.9, 13.14, 15.8,
 * 13.12, 13.5). */
enum {
    RP_TAGS = 0x07, WP_TAGS = 0x1F, SUBCOV_TAGS = 0x0F, RR_TAGS = 0xCF, GEI_TAGS = 0x01,
    ACK_TAGS = 0x3F
};

#endif /* SB_BAC_SRV_INT_H */

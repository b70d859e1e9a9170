/*
 * discover.c - BACnet device and point discovery (see discover.h and
 * docs/internals/bacnet-discovery.md).
 *
 * The engine is a set of small state machines driven by two kinds of
 * event: the tick of its timer (Who-Is pacing, the listen window, probes,
 * the deadline, finishing) and the answers of the stack (sb_bac_cb).
 * Every request carries a struct rq naming its device and purpose; the
 * engine counts them (inflight) and frees itself only when none is left,
 * so an answer arriving after the end finds valid memory and is dropped.
 *
 * Per device: D_QUEUED -> D_INFO (Device object properties) -> D_LIST
 * (Object_List whole) [-> D_LIST_IDX (by index)] -> D_OBJS (properties of
 * every object) -> D_DONE.  D_INFO and D_OBJS share one reader: RPM
 * batches one at a time, then ReadProperty for whatever is still missing,
 * RP_WINDOW at a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/discover.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/tag.h"

#define TICK_MS 20                   /* timer period: pacing and deadline checks */
#define WHOIS_PER_TICK 32            /* Who-Is datagrams per tick (a range is paced) */
#define PROBE_WINDOW 32              /* probes outstanding at once */
#define RP_WINDOW 4                  /* ReadProperty requests per device at once */
#define MAX_ERRORS 64                /* errors kept per device; more are counted */
#define UNANSWERED_MAX 64            /* silent addresses listed; more are counted */
#define STR_MAX 256                  /* bytes kept of a name or description */
#define RPM_SEG_BATCH 32             /* objects per RPM when the device segments */
#define RPM_EST_REPLY 160            /* bytes one object's RPM result takes, roughly:
                                        name, description, units, value, type */
#define RPM_BUF 1500                 /* request buffer (largest B/IP APDU + slack) */
#define DEAD_AFTER 3                 /* timeouts in a row that end a device */
#define RPM_GIVE_UP 3                /* single-object RPM failures in a row -> RP */

/* Properties the engine reads, as bit numbers in obj.want / obj.got. */
enum {
    P_NAME, P_DESC, P_UNITS, P_PV, P_TYPE, P_PRIO, P_LOGREF, P_LOGINT, P_RECS,
    P_VNAME, P_VID, P_MODEL, P_MAXAPDU, P_SEG, P_SVCS, P__N
};

static const struct {
    uint32_t prop;
    bool has_index;                  /* Priority_Array[0]: its size (clause 15.5.1.1.3) */
    bool optional;                   /* an unknown-property answer is normal */
} ptab[P__N] = {
    [P_NAME] = { SB_BAC_P_OBJECT_NAME, false, false },
    [P_DESC] = { SB_BAC_P_DESCRIPTION, false, true },
    [P_UNITS] = { SB_BAC_P_UNITS, false, true },
    [P_PV] = { SB_BAC_P_PRESENT_VALUE, false, false },
    [P_TYPE] = { SB_BAC_P_OBJECT_TYPE, false, false },
    [P_PRIO] = { SB_BAC_P_PRIORITY_ARRAY, true, true },
    [P_LOGREF] = { SB_BAC_P_LOG_DEVICE_OBJECT_PROPERTY, false, true },
    [P_LOGINT] = { SB_BAC_P_LOG_INTERVAL, false, true },
    [P_RECS] = { SB_BAC_P_RECORD_COUNT, false, true },
    [P_VNAME] = { SB_BAC_P_VENDOR_NAME, false, true },
    [P_VID] = { SB_BAC_P_VENDOR_IDENTIFIER, false, true },
    [P_MODEL] = { SB_BAC_P_MODEL_NAME, false, true },
    [P_MAXAPDU] = { SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED, false, true },
    [P_SEG] = { SB_BAC_P_SEGMENTATION_SUPPORTED, false, true },
    [P_SVCS] = { SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED, false, true },
};

#define PB(p) (1u << (p))

enum ocls { O_POINT = 0, O_TREND, O_SCHED, O_CAL, O_OTHER };

/* One object and what was read of it. */
struct obj {
    struct sb_bac_oid oid;
    uint8_t cls;                     /* enum ocls */
    uint16_t want, got;              /* PB(P_*) to read / answered (value or error) */
    bool valid;                      /* by-index list: this slot was read */
    bool commandable;                /* Priority_Array present (outputs: always) */
    bool has_units, has_type, has_vid, has_maxapdu, has_seg;
    bool has_svcs, cov;              /* Device: Protocol_Services_Supported; SubscribeCOV in it */
    bool has_logref, has_logdev, has_logint, has_recs;
    uint32_t units, type, vid, maxapdu, seg;
    uint32_t log_prop, log_dev, log_interval, records;
    struct sb_bac_oid log_oid;
    char *name, *desc, *vname, *model;   /* UTF-8, owned */
    json_t *pv;                      /* present value, owned */
};

enum dstate { D_QUEUED = 0, D_INFO, D_LIST, D_LIST_IDX, D_OBJS, D_DONE };

struct sb_bacdisc;

/* One device being interrogated. */
struct dev {
    struct sb_bacdisc *d;
    uint32_t inst;                   /* device instance */
    struct sb_bac_peer peer;         /* where it answers */
    bool from_iam;                   /* found by I-Am (else by a probe) */
    uint16_t max_apdu;               /* from I-Am or the Device object */
    uint8_t seg;                     /* BACnetSegmentation */
    uint16_t vendor_id;              /* from I-Am */
    uint8_t state;                   /* enum dstate */
    struct obj info;                 /* the Device object */
    struct obj *objs;                /* objects to read (points, logs, ...) */
    size_t nobj;                     /* entries in objs */
    size_t ocap;                     /* room in objs */
    uint32_t list_len;               /* Object_List entries (whole or by index) */
    uint32_t idx_next;               /* by index: next index to ask */
    const char *list_method;         /* "whole", "segmented", "by-index" */
    bool list_truncated;             /* longer than max_objects */
    bool list_failed;                /* Object_List could not be read */
    json_t *others;                  /* {"type-name": count} of objects not read */
    struct obj *rd;                  /* the reader: objects being read */
    size_t rd_n;                     /* ... how many */
    size_t cursor;                   /* RPM: next object */
    size_t batch;                    /* RPM: objects per request */
    int rpm_fail;                    /* RPM: single-object failures in a row */
    bool no_rpm;                     /* device rejected RPM: RP only */
    size_t rp_obj;                   /* RP sweep: object */
    int rp_prop;                     /* RP sweep: property bit */
    int outstanding;                 /* requests out for this device */
    int timeouts;                    /* timeouts in a row */
    bool dead;                       /* stopped answering */
    json_t *errors;                  /* [{object, property, error}] */
    size_t err_dropped;              /* errors beyond MAX_ERRORS */
};

/* A silent address to probe, and whether anything answered from it. */
struct target {
    struct sb_bac_peer p;
    bool seen;                       /* a device answered from this address */
};

/* The purpose of one request. */
enum rqk { RQ_PROBE, RQ_LIST, RQ_LIST_IDX, RQ_RPM, RQ_RP };
struct rq {
    struct sb_bacdisc *d;
    struct dev *dev;                 /* NULL for a probe */
    uint8_t kind;                    /* enum rqk */
    size_t a, b;                     /* RPM: first object, count; RP: object, prop;
                                        probe: target index; by index: index */
};

/* The engine. */
struct sb_bacdisc {
    struct sb_bac_stack *st;
    uv_loop_t *loop;
    uv_timer_t timer;
    struct sb_bacdisc_args a;        /* copy; arrays below own the data */
    uint16_t nets[SB_BACDISC_NETS_MAX];
    struct target *tg;               /* targets then range addresses */
    size_t ntg;
    size_t whois_next;               /* next Who-Is to send: 0 broadcast, then
                                        nets, then tg */
    size_t whois_total;
    uint64_t t0, listen_until, deadline;
    bool listening_done;             /* Who-Is sent and window over */
    size_t probe_next;               /* next target to consider for a probe */
    int probes_out;
    struct dev **devs;
    size_t ndev, cap;
    size_t ignored;                  /* devices beyond max_devices */
    size_t active;                   /* devices between D_INFO and D_DONE */
    size_t inflight;                 /* requests not yet answered */
    bool stack_dead;                 /* the stack was closed under us */
    int finish_rc;                   /* 1 = not asked to finish, else the rc */
    bool finished;                   /* done has been (or is being) called */
    bool timer_closed;
    sb_bacdisc_done_cb done;
    void *ud;
};

static void dev_step(struct dev *v);
static void schedule(struct sb_bacdisc *d);

/* ---- small helpers -------------------------------------------------------- */

static uint64_t now_ms(const struct sb_bacdisc *d)
{
    return uv_now(d->loop);
}

/* Appends code point cp as UTF-8 if it fits; false when it does not. */
static bool put_cp(char *out, size_t cap, size_t *n, uint32_t cp)
{
    uint8_t b[4];
    size_t k;

    if (cp < 0x20 || cp == 0x7f)
        cp = ' ';                    /* control characters: blanks in names */
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*n + k >= cap)
        return false;
    memcpy(out + *n, b, k);
    *n += k;
    return true;
}

/* One UTF-8 character at p (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF); its length, or 0 when invalid. */
static size_t utf8_char(const uint8_t *p, size_t n, uint32_t *cp)
{
    size_t k;
    uint32_t c, min;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if ((p[0] & 0xe0) == 0xc0) {
        k = 2, c = p[0] & 0x1f, min = 0x80;
    } else if ((p[0] & 0xf0) == 0xe0) {
        k = 3, c = p[0] & 0x0f, min = 0x800;
    } else if ((p[0] & 0xf8) == 0xf0) {
        k = 4, c = p[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = c << 6 | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return k;
}

/* A Character String (clause 20.2.9) as UTF-8 in out[cap]: UTF-8 is
 * checked, ISO 8859-1, UCS-2 and UCS-4 are converted; anything that does
 * not decode (and the DBCS/JIS sets, which we do not carry tables for)
 * becomes '?'.  Stops before a character that would not fit. */
static void cstr_utf8(const struct sb_bac_cstr *s, char *out, size_t cap)
{
    size_t n = 0, i = 0;
    uint32_t cp;

    while (i < s->len) {
        size_t k = 1;
        switch (s->charset) {
        case SB_BAC_CS_UTF8:
            if (!(k = utf8_char(s->p + i, s->len - i, &cp)))
                k = 1, cp = '?';
            break;
        case SB_BAC_CS_LATIN1:
            cp = s->p[i];
            break;
        case SB_BAC_CS_UCS2:
            k = 2;
            cp = i + 1 < s->len ? (uint32_t)s->p[i] << 8 | s->p[i + 1] : '?';
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = '?';
            break;
        case SB_BAC_CS_UCS4:
            k = 4;
            cp = i + 3 < s->len ? (uint32_t)s->p[i] << 24 | (uint32_t)s->p[i + 1] << 16 |
                                  (uint32_t)s->p[i + 2] << 8 | s->p[i + 3] : '?';
            if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                cp = '?';
            break;
        default:
            cp = s->p[i] < 0x80 ? s->p[i] : '?';
            break;
        }
        if (!put_cp(out, cap, &n, cp))
            break;
        i += k;
    }
    out[n] = 0;
}

/* "error property/unknown-property", "reject unrecognized-service", ... */
static void why(const struct sb_bac_result *r, char *buf, size_t cap)
{
    if (r->rc == SB_EPROTO && r->pdu == SB_BAC_PDU_ERROR)
        snprintf(buf, cap, "error %s/%s", sb_bacn_err_class_name(r->err_class),
                 sb_bacn_err_code_name(r->err_code));
    else if (r->rc == SB_EPROTO && r->pdu == SB_BAC_PDU_REJECT)
        snprintf(buf, cap, "reject %s", sb_bacn_reject_name(r->reason));
    else if (r->rc == SB_EPROTO && r->pdu == SB_BAC_PDU_ABORT)
        snprintf(buf, cap, "abort %s", sb_bacn_abort_name(r->reason));
    else if (r->rc == SB_ETIMEDOUT)
        snprintf(buf, cap, "no answer (timeout)");
    else if (r->rc == SB_ERANGE)
        snprintf(buf, cap, "reply larger than we accept");
    else if (r->rc == 0)
        snprintf(buf, cap, "malformed reply");
    else
        snprintf(buf, cap, "%s", sb_strerror(r->rc));
}

/* Records an error of device v (object/property may be absent). */
static void dev_err(struct dev *v, const struct sb_bac_oid *oid, int p, const char *msg)
{
    json_t *e;
    char ob[64];

    if (!v->errors || json_array_size(v->errors) >= MAX_ERRORS) {
        v->err_dropped++;
        return;
    }
    if (!(e = json_object()))
        return;
    if (oid)
        json_object_set_new(e, "object", json_string(sb_bacn_obj_str(*oid, ob, sizeof(ob))));
    if (p >= 0) {
        const char *pn = sb_bacn_prop_name(ptab[p].prop);
        json_object_set_new(e, "property", json_string(pn ? pn : "?"));
    }
    json_object_set_new(e, "error", json_string(msg));
    json_array_append_new(v->errors, e);
}

static void dev_err_r(struct dev *v, const struct sb_bac_oid *oid, int p, const char *what,
                      const struct sb_bac_result *r)
{
    char w[96], msg[160];

    why(r, w, sizeof(w));
    snprintf(msg, sizeof(msg), "%s: %s", what, w);
    dev_err(v, oid, p, msg);
}

/* ---- requests ------------------------------------------------------------- */

static void on_answer(void *ud, const struct sb_bac_result *r);

/* Sends one confirmed request for dev v (NULL: a probe).  The rq is freed
 * here on failure and by on_answer otherwise. */
static int send_req(struct sb_bacdisc *d, struct dev *v, const struct sb_bac_peer *to,
                    uint8_t service, const uint8_t *body, size_t len, uint8_t kind,
                    size_t a, size_t b)
{
    struct rq *q;
    int rc;

    if (d->stack_dead || d->finished)
        return SB_ECLOSED;
    if (!(q = calloc(1, sizeof(*q))))
        return SB_ENOMEM;
    *q = (struct rq){ .d = d, .dev = v, .kind = kind, .a = a, .b = b };
    if ((rc = sb_bac_request(d->st, to, service, body, len, on_answer, q)) < 0) {
        free(q);
        if (rc == SB_ECLOSED)
            d->stack_dead = true;
        return rc;
    }
    d->inflight++;
    if (v)
        v->outstanding++;
    return 0;
}

static int send_rp(struct sb_bacdisc *d, struct dev *v, const struct sb_bac_peer *to,
                   struct sb_bac_oid oid, uint32_t prop, bool has_index, uint32_t index,
                   uint8_t kind, size_t a, size_t b)
{
    uint8_t buf[64];
    struct sb_bac_rp rp = { .oid = oid, .prop = prop, .has_index = has_index, .index = index };
    ssize_t n = sb_bac_enc_rp_req(buf, sizeof(buf), &rp);

    if (n < 0)
        return (int)n;
    return send_req(d, v, to, SB_BAC_SVC_READ_PROPERTY, buf, (size_t)n, kind, a, b);
}

/* The value of an RP-ACK for the property asked, or NULL. */
static const uint8_t *rp_value(const struct sb_bac_result *r, size_t *len)
{
    struct sb_bac_rp ack;

    if (r->rc || r->pdu != SB_BAC_PDU_COMPLEX_ACK || sb_bac_dec_rp_ack(r->body, r->len, &ack) < 0)
        return NULL;
    *len = ack.value_len;
    return ack.value;
}

/* ---- storing answers ------------------------------------------------------ */

static bool app_u32(const uint8_t *p, size_t n, uint8_t type, uint32_t *out)
{
    struct sb_bac_value v;

    if (sb_bac_dec_app(p, n, &v) < 0 || v.type != type)
        return false;
    if (type == SB_BAC_UNSIGNED) {
        if (v.v.u > UINT32_MAX)
            return false;
        *out = (uint32_t)v.v.u;
    } else {
        *out = v.v.enumerated;
    }
    return true;
}

static char *app_str(const uint8_t *p, size_t n)
{
    struct sb_bac_value v;
    char buf[STR_MAX];

    if (sb_bac_dec_app(p, n, &v) < 0 || v.type != SB_BAC_CHAR_STRING)
        return NULL;
    cstr_utf8(&v.v.str, buf, sizeof(buf));
    return strdup(buf);
}

/* BACnetDeviceObjectPropertyReference (clause 21): objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] OPTIONAL,
 * deviceIdentifier [3] OPTIONAL. */
static void store_logref(struct obj *o, const uint8_t *p, size_t n)
{
    struct sb_bac_value v;
    ssize_t k, off = 0;

    if ((k = sb_bac_dec_ctx(p, n, 0, SB_BAC_OBJECT_ID, &v)) < 0)
        return;
    o->log_oid = v.v.oid;
    off = k;
    if ((k = sb_bac_dec_ctx(p + off, n - (size_t)off, 1, SB_BAC_ENUMERATED, &v)) < 0)
        return;
    o->log_prop = v.v.enumerated;
    o->has_logref = true;
    off += k;
    if ((k = sb_bac_dec_ctx(p + off, n - (size_t)off, 2, SB_BAC_UNSIGNED, &v)) > 0)
        off += k;
    if (sb_bac_dec_ctx(p + off, n - (size_t)off, 3, SB_BAC_OBJECT_ID, &v) > 0) {
        o->log_dev = v.v.oid.instance;
        o->has_logdev = true;
    }
}

/* Stores the encoded value of property bit p of o. */
static void store(struct obj *o, int p, const uint8_t *val, size_t n)
{
    struct sb_bac_value v;

    switch (p) {
    case P_NAME:    free(o->name); o->name = app_str(val, n); break;
    case P_DESC:    free(o->desc); o->desc = app_str(val, n); break;
    case P_VNAME:   free(o->vname); o->vname = app_str(val, n); break;
    case P_MODEL:   free(o->model); o->model = app_str(val, n); break;
    case P_UNITS:   o->has_units = app_u32(val, n, SB_BAC_ENUMERATED, &o->units); break;
    case P_TYPE:    o->has_type = app_u32(val, n, SB_BAC_ENUMERATED, &o->type); break;
    case P_VID:     o->has_vid = app_u32(val, n, SB_BAC_UNSIGNED, &o->vid); break;
    case P_MAXAPDU: o->has_maxapdu = app_u32(val, n, SB_BAC_UNSIGNED, &o->maxapdu); break;
    case P_SEG:     o->has_seg = app_u32(val, n, SB_BAC_ENUMERATED, &o->seg); break;
    case P_SVCS:
        /* BACnetServicesSupported: bit n = confirmed service n (clause 21);
         * SubscribeCOV is 5 */
        if (sb_bac_dec_app(val, n, &v) > 0 && v.type == SB_BAC_BIT_STRING) {
            o->has_svcs = true;
            o->cov = sb_bac_bit(&v.v.bits, SB_BAC_SVC_SUBSCRIBE_COV);
        }
        break;
    case P_LOGINT:  o->has_logint = app_u32(val, n, SB_BAC_UNSIGNED, &o->log_interval); break;
    case P_RECS:    o->has_recs = app_u32(val, n, SB_BAC_UNSIGNED, &o->records); break;
    case P_LOGREF:  store_logref(o, val, n); break;
    case P_PRIO:    o->commandable = true; break;   /* Priority_Array exists */
    case P_PV:
        json_decref(o->pv);
        /* numbers only: a point's present value */
        o->pv = sb_bac_dec_app(val, n, &v) > 0 && v.type <= SB_BAC_ENUMERATED &&
                v.type != SB_BAC_OCTET_STRING && v.type != SB_BAC_CHAR_STRING &&
                v.type != SB_BAC_BIT_STRING ? sb_bacn_value_json(&v) : NULL;
        break;
    default:
        break;
    }
}

/* A refusal of property bit p of o: optional properties may be absent. */
static void store_err(struct dev *v, struct obj *o, int p, uint32_t cls, uint32_t code)
{
    char msg[96];

    if (ptab[p].optional && (cls == SB_BAC_EC_PROPERTY || cls == SB_BAC_EC_OBJECT))
        return;
    snprintf(msg, sizeof(msg), "error %s/%s", sb_bacn_err_class_name(cls),
             sb_bacn_err_code_name(code));
    dev_err(v, &o->oid, p, msg);
}

static int prop_bit(uint16_t want, uint32_t prop, bool has_index, uint32_t index)
{
    for (int p = 0; p < P__N; p++)
        if ((want & PB(p)) && ptab[p].prop == prop && ptab[p].has_index == has_index &&
            (!has_index || index == 0))
            return p;
    return -1;
}

/* ---- object classes -------------------------------------------------------- */

static bool is_point(uint16_t t)
{
    switch (t) {
    case SB_BAC_OBJ_AI: case SB_BAC_OBJ_AO: case SB_BAC_OBJ_AV:
    case SB_BAC_OBJ_BI: case SB_BAC_OBJ_BO: case SB_BAC_OBJ_BV:
    case SB_BAC_OBJ_MSI: case SB_BAC_OBJ_MSO: case SB_BAC_OBJ_MSV:
    case SB_BAC_OBJ_ACCUMULATOR: case 24:           /* pulse-converter */
    case 45: case 46: case 48:                      /* integer, large-analog, positive-integer values */
        return true;
    default:
        return false;
    }
}

static bool has_units(uint16_t t)
{
    return t == SB_BAC_OBJ_AI || t == SB_BAC_OBJ_AO || t == SB_BAC_OBJ_AV ||
           t == SB_BAC_OBJ_ACCUMULATOR || t == 24 || t == 45 || t == 46 || t == 48;
}

/* Outputs always have a Priority_Array (clauses 12.3, 12.7, 12.19); for
 * values it is optional and read to learn whether they are commandable. */
static bool is_output(uint16_t t)
{
    return t == SB_BAC_OBJ_AO || t == SB_BAC_OBJ_BO || t == SB_BAC_OBJ_MSO;
}

static bool is_value(uint16_t t)
{
    return t == SB_BAC_OBJ_AV || t == SB_BAC_OBJ_BV || t == SB_BAC_OBJ_MSV || t == 45 ||
           t == 46 || t == 48;
}

/* Classifies oid into o (what to read); false for objects not read. */
static bool classify(struct sb_bac_oid oid, struct obj *o)
{
    memset(o, 0, sizeof(*o));
    o->oid = oid;
    if (is_point(oid.type)) {
        o->cls = O_POINT;
        o->want = PB(P_NAME) | PB(P_DESC) | PB(P_PV) | PB(P_TYPE);
        if (has_units(oid.type))
            o->want |= PB(P_UNITS);
        if (is_value(oid.type))
            o->want |= PB(P_PRIO);
        o->commandable = is_output(oid.type);
    } else if (oid.type == SB_BAC_OBJ_TREND_LOG || oid.type == 27) {   /* trend-log-multiple */
        o->cls = O_TREND;
        o->want = PB(P_NAME) | PB(P_DESC) | PB(P_LOGINT) | PB(P_RECS);
        if (oid.type == SB_BAC_OBJ_TREND_LOG)
            o->want |= PB(P_LOGREF);
    } else if (oid.type == SB_BAC_OBJ_SCHEDULE || oid.type == SB_BAC_OBJ_CALENDAR) {
        o->cls = oid.type == SB_BAC_OBJ_SCHEDULE ? O_SCHED : O_CAL;
        o->want = PB(P_NAME) | PB(P_DESC);
    } else {
        o->cls = O_OTHER;
        return false;
    }
    return true;
}

static void obj_release(struct obj *o)
{
    free(o->name);
    free(o->desc);
    free(o->vname);
    free(o->model);
    json_decref(o->pv);
    memset(o, 0, sizeof(*o));
}

/* Object_List entry oid: kept for reading, counted, or skipped (the
 * Device object itself). */
static int take_oid(struct dev *v, struct sb_bac_oid oid)
{
    struct obj o;

    if (oid.type == SB_BAC_OBJ_DEVICE)
        return 0;
    if (!classify(oid, &o)) {
        const char *n = sb_bacn_obj_name(oid.type);
        char num[16];
        json_t *c;
        if (!n) {
            snprintf(num, sizeof(num), "%u", (unsigned)oid.type);
            n = num;
        }
        c = json_object_get(v->others, n);
        json_object_set_new(v->others, n, json_integer(c ? json_integer_value(c) + 1 : 1));
        return 0;
    }
    if (v->nobj >= v->d->a.max_objects)
        return 0;
    if (v->nobj == v->ocap) {        /* grow by doubling: a device may list 10 or 10 000 */
        size_t c = v->ocap ? v->ocap * 2 : 64;
        struct obj *n = realloc(v->objs, c * sizeof(*n));
        if (!n)
            return SB_ENOMEM;
        v->objs = n;
        v->ocap = c;
    }
    v->objs[v->nobj++] = o;
    return 0;
}

/* ---- the reader: RPM batches, then RP for what is missing ---------------- */

static void reader_start(struct dev *v, struct obj *objs, size_t n)
{
    v->rd = objs;
    v->rd_n = n;
    v->cursor = 0;
    v->rp_obj = 0;
    v->rp_prop = 0;
    v->rpm_fail = 0;
    /* A device that can send segments may answer a long RPM; one that
     * cannot must fit each answer in one APDU (clause 5.2.1): pack about
     * as many objects as a reply of its max APDU holds. */
    if (v->seg == SB_BAC_SEG_BOTH || v->seg == SB_BAC_SEG_TRANSMIT)
        v->batch = RPM_SEG_BATCH;
    else
        v->batch = v->max_apdu / RPM_EST_REPLY ? v->max_apdu / RPM_EST_REPLY : 1;
}

/* Encodes the specs of objects [first, first + *k) that fit room bytes. */
static ssize_t rpm_encode(struct dev *v, size_t first, size_t *k, uint8_t *buf, size_t room)
{
    size_t n = 0, i;

    for (i = 0; i < *k; i++) {
        struct obj *o = &v->rd[first + i];
        struct sb_bac_propref refs[P__N];
        struct sb_bac_rpm_spec spec = { .oid = o->oid, .refs = refs };
        ssize_t w;
        for (int p = 0; p < P__N; p++)
            if ((o->want & ~o->got) & PB(p))
                refs[spec.nrefs++] = (struct sb_bac_propref){ ptab[p].prop, ptab[p].has_index, 0 };
        if (spec.nrefs == 0)
            continue;                /* nothing left to read (e.g. after a retry) */
        if ((w = sb_bac_enc_rpm_spec(buf + n, room - n, &spec)) < 0)
            break;
        n += (size_t)w;
    }
    *k = i;
    return (ssize_t)n;
}

static void rpm_issue(struct dev *v)
{
    uint8_t buf[RPM_BUF];
    size_t room = sb_bac_stack_room(v->d->st, &v->peer);
    size_t first = v->cursor, k = v->rd_n - first;
    ssize_t n;
    int rc;

    if (k > v->batch)
        k = v->batch;
    if (room > sizeof(buf))
        room = sizeof(buf);
    n = rpm_encode(v, first, &k, buf, room);
    v->cursor = first + k;
    if (n == 0) {
        if (k == 0)
            v->no_rpm = true;        /* not even one spec fits: RP will do */
        return;
    }
    rc = send_req(v->d, v, &v->peer, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, buf, (size_t)n,
                  RQ_RPM, first, k);
    if (rc < 0) {
        v->cursor = first;
        v->no_rpm = true;
    }
}

/* Walks one RPM-ACK over objects [first, first + k). */
static int rpm_parse(struct dev *v, const uint8_t *p, size_t n, size_t first, size_t k)
{
    size_t off = 0, at = first;

    while (off < n) {
        struct sb_bac_rpm_result res;
        ssize_t m = sb_bac_dec_rpm_result(p + off, n - off, &res);
        struct obj *o = NULL;
        size_t eo = 0;
        if (m < 0)
            return (int)m;
        off += (size_t)m;
        for (size_t i = 0; i < k && !o; i++) {   /* results come in order; tolerate not */
            struct obj *c = &v->rd[first + (at - first + i) % k];
            if (c->oid.type == res.oid.type && c->oid.instance == res.oid.instance)
                o = c;
        }
        if (!o)
            continue;                /* not something we asked: ignore */
        at = (size_t)(o - v->rd) + 1 < first + k ? (size_t)(o - v->rd) + 1 : first;
        while (eo < res.list_len) {
            struct sb_bac_rpm_elem e;
            ssize_t q = sb_bac_dec_rpm_elem(res.list + eo, res.list_len - eo, &e);
            int bit;
            if (q < 0)
                return (int)q;
            eo += (size_t)q;
            if ((bit = prop_bit(o->want, e.prop, e.has_index, e.index)) < 0)
                continue;
            o->got |= PB(bit);
            if (e.is_error)
                store_err(v, o, bit, e.err_class, e.err_code);
            else
                store(o, bit, e.value, e.value_len);
        }
    }
    return 0;
}

static void on_rpm(struct dev *v, const struct sb_bac_result *r, size_t first, size_t k)
{
    if (r->rc == 0 && r->pdu == SB_BAC_PDU_COMPLEX_ACK) {
        if (rpm_parse(v, r->body, r->len, first, k) < 0)
            dev_err(v, &v->rd[first].oid, -1, "ReadPropertyMultiple: malformed reply");
        v->rpm_fail = 0;
        return;
    }
    if (r->rc == SB_EPROTO && r->pdu == SB_BAC_PDU_REJECT &&
        r->reason == SB_BAC_RJ_UNRECOGNIZED_SERVICE) {
        v->no_rpm = true;            /* clause 15.7: RPM is optional; RP is not */
        return;
    }
    if (k > 1) {
        /* An abort (segmentation-not-supported, buffer-overflow,
         * apdu-too-long), a reply too large for us, a timeout: ask for
         * fewer objects at once, from the same place. */
        v->batch = k / 2;
        v->cursor = first;
        return;
    }
    dev_err_r(v, &v->rd[first].oid, -1, "ReadPropertyMultiple", r);
    if (++v->rpm_fail >= RPM_GIVE_UP)
        v->no_rpm = true;
}

/* Next (object, property) the RP sweep has to ask; false when none. */
static bool rp_next(struct dev *v, size_t *oi, int *pi)
{
    for (; v->rp_obj < v->rd_n; v->rp_obj++, v->rp_prop = 0) {
        struct obj *o = &v->rd[v->rp_obj];
        for (; v->rp_prop < P__N; v->rp_prop++)
            if ((o->want & ~o->got) & PB(v->rp_prop)) {
                *oi = v->rp_obj;
                *pi = v->rp_prop++;
                return true;
            }
    }
    return false;
}

static void on_rp(struct dev *v, const struct sb_bac_result *r, size_t oi, int p)
{
    struct obj *o = &v->rd[oi];
    const uint8_t *val;
    size_t n;

    o->got |= PB(p);
    if ((val = rp_value(r, &n)))
        store(o, p, val, n);
    else if (r->rc == SB_EPROTO && r->pdu == SB_BAC_PDU_ERROR)
        store_err(v, o, p, r->err_class, r->err_code);
    else
        dev_err_r(v, &o->oid, p, "ReadProperty", r);
}

/* Issues what the reader may; true when the reader is finished. */
static bool reader_pump(struct dev *v)
{
    size_t oi;
    int pi;

    if (!v->no_rpm) {
        while (!v->no_rpm && v->outstanding == 0 && v->cursor < v->rd_n)
            rpm_issue(v);            /* loops only past objects with nothing left */
        if (!v->no_rpm && (v->outstanding || v->cursor < v->rd_n))
            return false;
        if (v->outstanding)
            return false;            /* let the last RPM land first */
    }
    while (v->outstanding < RP_WINDOW && rp_next(v, &oi, &pi)) {
        struct obj *o = &v->rd[oi];
        if (send_rp(v->d, v, &v->peer, o->oid, ptab[pi].prop, ptab[pi].has_index, 0, RQ_RP,
                    oi, (size_t)pi) < 0) {
            o->got |= PB(pi);
            if (v->d->stack_dead)
                return true;
        }
    }
    return v->outstanding == 0 && v->rp_obj >= v->rd_n;
}

/* ---- Object_List ------------------------------------------------------------ */

static struct sb_bac_oid dev_oid(const struct dev *v)
{
    return (struct sb_bac_oid){ SB_BAC_OBJ_DEVICE, v->inst };
}

static void list_whole(struct dev *v)
{
    v->state = D_LIST;
    if (send_rp(v->d, v, &v->peer, dev_oid(v), SB_BAC_P_OBJECT_LIST, false, 0, RQ_LIST, 0, 0) < 0) {
        v->list_failed = true;
        v->state = D_DONE;
    }
}

/* The ACK of Object_List: a sequence of application Object Identifiers. */
static int list_parse(struct dev *v, const uint8_t *p, size_t n)
{
    size_t off = 0;
    int rc;

    while (off < n) {
        struct sb_bac_value val;
        ssize_t k = sb_bac_dec_app(p + off, n - off, &val);
        if (k < 0 || val.type != SB_BAC_OBJECT_ID)
            return k < 0 ? (int)k : SB_EPROTO;
        off += (size_t)k;
        if (v->list_len++ >= v->d->a.max_objects) {
            v->list_truncated = true;
            continue;
        }
        if ((rc = take_oid(v, val.v.oid)) < 0)
            return rc;
    }
    return 0;
}

static void list_by_index(struct dev *v)
{
    v->state = D_LIST_IDX;
    v->list_method = "by-index";
    v->list_len = 0;
    v->idx_next = 0;
    if (send_rp(v->d, v, &v->peer, dev_oid(v), SB_BAC_P_OBJECT_LIST, true, 0, RQ_LIST_IDX, 0,
                0) < 0) {
        v->list_failed = true;
        v->state = D_DONE;
    }
}

static void on_list(struct dev *v, const struct sb_bac_result *r)
{
    const uint8_t *val;
    size_t n;

    if ((val = rp_value(r, &n))) {
        v->list_method = r->segments > 1 ? "segmented" : "whole";
        if (list_parse(v, val, n) == 0) {
            v->state = D_OBJS;
            return;
        }
        dev_err(v, NULL, -1, "object-list: malformed reply, reading it by index");
        for (size_t i = 0; i < v->nobj; i++)
            obj_release(&v->objs[i]);
        v->nobj = 0;
        json_object_clear(v->others);
    } else {
        /* Clause 12.11.19 / 15.5.2: a device that cannot send the whole
         * array in one reply (no segmentation, or too long) still answers
         * element by element. */
        dev_err_r(v, NULL, -1, "object-list (whole), reading it by index", r);
    }
    list_by_index(v);
}

/* By index: [0] is the length, then 1..N one at a time (RP_WINDOW out). */
static void on_list_idx(struct dev *v, const struct sb_bac_result *r, uint32_t idx)
{
    const uint8_t *val;
    size_t n;
    struct sb_bac_value ov;

    if (!(val = rp_value(r, &n))) {
        dev_err_r(v, NULL, -1, idx ? "object-list element" : "object-list length", r);
        if (idx == 0) {
            v->list_failed = true;
            v->state = D_DONE;
        }
        return;
    }
    if (idx == 0) {
        uint32_t len;
        if (!app_u32(val, n, SB_BAC_UNSIGNED, &len)) {
            dev_err(v, NULL, -1, "object-list length: not an Unsigned");
            v->list_failed = true;
            v->state = D_DONE;
            return;
        }
        v->list_truncated = len > v->d->a.max_objects;
        v->list_len = v->list_truncated ? v->d->a.max_objects : len;
        v->idx_next = 1;
        return;
    }
    if (sb_bac_dec_app(val, n, &ov) < 0 || ov.type != SB_BAC_OBJECT_ID) {
        dev_err(v, NULL, -1, "object-list element: not an object identifier");
        return;
    }
    if (take_oid(v, ov.v.oid) < 0)
        dev_err(v, NULL, -1, "out of memory");
}

static bool list_idx_pump(struct dev *v)
{
    while (v->idx_next && v->idx_next <= v->list_len && v->outstanding < RP_WINDOW) {
        uint32_t i = v->idx_next++;
        if (send_rp(v->d, v, &v->peer, dev_oid(v), SB_BAC_P_OBJECT_LIST, true, i, RQ_LIST_IDX, i,
                    0) < 0)
            return true;
    }
    return v->outstanding == 0 && (v->idx_next == 0 || v->idx_next > v->list_len);
}

/* ---- device life -------------------------------------------------------------- */

static void dev_release(struct dev *v)
{
    obj_release(&v->info);
    for (size_t i = 0; i < v->nobj; i++)
        obj_release(&v->objs[i]);
    free(v->objs);
    json_decref(v->errors);
    json_decref(v->others);
}

static void dev_free(struct dev *v)
{
    dev_release(v);
    free(v);
}

static void dev_begin(struct dev *v)
{
    v->state = D_INFO;
    v->d->active++;
    v->info.oid = dev_oid(v);
    v->info.want = PB(P_NAME) | PB(P_DESC) | PB(P_VNAME) | PB(P_VID) | PB(P_MODEL) |
                   PB(P_MAXAPDU) | PB(P_SEG) | PB(P_SVCS);
    reader_start(v, &v->info, 1);
    dev_step(v);
}

/* After the Device object.  A device found by a probe tells its limits
 * here (Max_APDU_Length_Accepted, Segmentation_Supported, clause 12.11);
 * one found by I-Am keeps what it announced, which is what every other
 * client of the network uses too. */
static void info_done(struct dev *v)
{
    struct obj *i = &v->info;

    if (!v->from_iam) {
        if (i->has_maxapdu && i->maxapdu >= 50)
            v->max_apdu = i->maxapdu > 1476 ? 1476 : (uint16_t)i->maxapdu;
        if (i->has_seg && i->seg <= 3)
            v->seg = (uint8_t)i->seg;
        if (i->has_maxapdu || i->has_seg)
            sb_bac_stack_learn(v->d->st, &v->peer, v->max_apdu, v->seg);
        if (i->has_vid)
            v->vendor_id = (uint16_t)i->vid;
    }
    if (!(i->got & PB(P_NAME)) || !i->name)
        dev_err(v, &i->oid, P_NAME, "device name not read");
    if (v->d->a.no_points)
        v->state = D_DONE;
    else
        list_whole(v);
}

/* Advances device v as far as it can go now. */
static void dev_step(struct dev *v)
{
    for (int guard = 0; guard < 8 && v->state != D_DONE; guard++) {
        uint8_t s = v->state;
        if (v->dead || v->d->stack_dead) {
            v->state = D_DONE;
            break;
        }
        switch (s) {
        case D_INFO:
            if (reader_pump(v))
                info_done(v);
            break;
        case D_LIST:
            return;                  /* waiting for Object_List */
        case D_LIST_IDX:
            if (list_idx_pump(v) && v->state == D_LIST_IDX) {
                v->state = D_OBJS;
                reader_start(v, v->objs, v->nobj);
            }
            break;
        case D_OBJS:
            if (v->rd != v->objs || v->rd_n != v->nobj)
                reader_start(v, v->objs, v->nobj);
            if (reader_pump(v))
                v->state = D_DONE;
            break;
        }
        if (v->state == s)
            return;                  /* waiting for answers */
    }
    if (v->state == D_DONE && v->outstanding == 0) {
        v->d->active--;
        v->state = D_DONE + 1;       /* counted once */
        schedule(v->d);
    }
}

/* Starts queued devices up to the concurrency limit. */
static void schedule(struct sb_bacdisc *d)
{
    for (size_t i = 0; i < d->ndev && d->active < d->a.concurrency && !d->finished; i++)
        if (d->devs[i]->state == D_QUEUED)
            dev_begin(d->devs[i]);
}

static bool dev_finished(const struct dev *v)
{
    return v->state > D_DONE;
}

static void found(struct sb_bacdisc *d, const struct sb_bac_peer *from, uint32_t inst,
                  bool from_iam, uint32_t max_apdu, uint8_t seg, uint16_t vendor)
{
    struct dev *v;

    for (size_t i = 0; i < d->ntg; i++)
        if (d->tg[i].p.ip == from->ip && d->tg[i].p.port == from->port)
            d->tg[i].seen = true;
    if (d->finished || (d->a.has_limits && (inst < d->a.low || inst > d->a.high)))
        return;
    for (size_t i = 0; i < d->ndev; i++)
        if (d->devs[i]->inst == inst)
            return;                  /* already known (answers twice, or by probe) */
    if (d->ndev >= d->a.max_devices) {
        d->ignored++;
        return;
    }
    if (d->ndev == d->cap) {
        size_t c = d->cap ? d->cap * 2 : 16;
        struct dev **n = realloc(d->devs, c * sizeof(*n));
        if (!n)
            return;
        d->devs = n;
        d->cap = c;
    }
    if (!(v = calloc(1, sizeof(*v))) || !(v->errors = json_array()) ||
        !(v->others = json_object())) {
        if (v)
            json_decref(v->errors);
        free(v);
        return;
    }
    v->d = d;
    v->inst = inst;
    v->peer = *from;
    v->from_iam = from_iam;
    v->max_apdu = from_iam ? (uint16_t)(max_apdu > 1476 ? 1476 : max_apdu)
                           : (from->addr.net ? 480 : 1476);
    v->seg = from_iam ? seg : SB_BAC_SEG_NONE;
    v->vendor_id = vendor;
    if (from_iam)
        sb_bac_stack_learn(d->st, from, v->max_apdu, v->seg);
    d->devs[d->ndev++] = v;
    schedule(d);
}

/* ---- answers ---------------------------------------------------------------- */

static void on_probe(struct sb_bacdisc *d, size_t ti, const struct sb_bac_result *r)
{
    const uint8_t *val;
    size_t n;
    struct sb_bac_value v;

    d->probes_out--;
    if ((val = rp_value(r, &n)) && sb_bac_dec_app(val, n, &v) > 0 &&
        v.type == SB_BAC_OBJECT_ID && v.v.oid.type == SB_BAC_OBJ_DEVICE &&
        v.v.oid.instance < SB_BAC_MAX_INSTANCE)
        found(d, &d->tg[ti].p, v.v.oid.instance, false, 0, SB_BAC_SEG_NONE, 0);
}

static void dev_answer(struct dev *v, struct rq *q, const struct sb_bac_result *r)
{
    if (r->rc == SB_ETIMEDOUT) {
        if (++v->timeouts >= DEAD_AFTER && !v->dead) {
            v->dead = true;
            dev_err(v, NULL, -1, "device stopped answering");
        }
    } else {
        v->timeouts = 0;
    }
    if (v->dead && q->kind != RQ_RPM && q->kind != RQ_RP)
        return;
    switch (q->kind) {
    case RQ_LIST:
        on_list(v, r);
        break;
    case RQ_LIST_IDX:
        on_list_idx(v, r, (uint32_t)q->a);
        break;
    case RQ_RPM:
        on_rpm(v, r, q->a, q->b);
        break;
    case RQ_RP:
        on_rp(v, r, q->a, (int)q->b);
        break;
    }
}

static void maybe_free(struct sb_bacdisc *d);

static void on_answer(void *ud, const struct sb_bac_result *r)
{
    struct rq *q = ud;
    struct sb_bacdisc *d = q->d;

    d->inflight--;
    if (q->dev)
        q->dev->outstanding--;
    if (r->rc == SB_ECLOSED)
        d->stack_dead = true;
    if (!d->finished) {
        if (q->kind == RQ_PROBE)
            on_probe(d, q->a, r);
        else
            dev_answer(q->dev, q, r);
        if (q->dev)
            dev_step(q->dev);
    }
    free(q);
    maybe_free(d);
}

/* ---- Who-Is, window, probes ------------------------------------------------ */

static void whois_send(struct sb_bacdisc *d, size_t i)
{
    struct sb_bac_whois w = { .has_range = d->a.has_limits, .low = d->a.low, .high = d->a.high };
    uint8_t body[16];
    ssize_t n = sb_bac_enc_whois(body, sizeof(body), &w);

    if (n < 0)
        return;
    if (i == 0) {
        if (d->a.broadcast)
            sb_bac_unconfirmed(d->st, NULL, 0, SB_BAC_SVC_WHO_IS, body, (size_t)n);
        return;
    }
    i--;
    if (i < d->a.nnetworks) {
        sb_bac_unconfirmed(d->st, NULL, d->nets[i], SB_BAC_SVC_WHO_IS, body, (size_t)n);
        return;
    }
    i -= d->a.nnetworks;
    sb_bac_unconfirmed(d->st, &d->tg[i].p, 0, SB_BAC_SVC_WHO_IS, body, (size_t)n);
}

/* Probes silent targets, PROBE_WINDOW at a time; true when all are done. */
static bool probe_pump(struct sb_bacdisc *d)
{
    static const struct sb_bac_oid any = { SB_BAC_OBJ_DEVICE, SB_BAC_MAX_INSTANCE };

    while (!d->a.no_probe && d->probe_next < d->ntg && d->probes_out < PROBE_WINDOW) {
        struct target *t = &d->tg[d->probe_next];
        if (!t->seen) {
            if (send_rp(d, NULL, &t->p, any, SB_BAC_P_OBJECT_IDENTIFIER, false, 0, RQ_PROBE,
                        d->probe_next, 0) == 0)
                d->probes_out++;
        }
        d->probe_next++;
    }
    return d->a.no_probe || (d->probe_next >= d->ntg && d->probes_out == 0);
}

static bool all_devices_done(const struct sb_bacdisc *d)
{
    for (size_t i = 0; i < d->ndev; i++)
        if (!dev_finished(d->devs[i]))
            return false;
    return true;
}

/* ---- the result -------------------------------------------------------------- */

/* A slug (model.c sb_slug_valid: [a-z0-9] first, then [a-z0-9_.-]) of s,
 * at most max bytes; "" when s has no letter or digit. */
static void slugify(const char *s, char *out, size_t max)
{
    size_t n = 0;
    bool dash = false;

    for (; s && *s && n < max; s++) {
        char c = *s;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash && n > 0 && n + 1 < max)
                out[n++] = '-';
            out[n++] = c;
            dash = false;
        } else {
            dash = true;
        }
    }
    out[n] = 0;
}

/* A point id unique in the whole result (used holds the ids given), at
 * most 24 + 1 + 24 + 12 bytes: within SB_SLUG_MAX (64) of model.h. */
static void point_id(json_t *used, const char *dslug, const struct obj *o, char *out, size_t cap)
{
    char os[25];
    const char *sh = sb_bacn_obj_short(o->oid.type);

    slugify(o->name, os, 24);
    if (!os[0])
        snprintf(os, sizeof(os), "%s%u", sh ? sh : "obj", (unsigned)o->oid.instance);
    snprintf(out, cap, "%s.%s", dslug, os);
    if (json_object_get(used, out))
        snprintf(out, cap, "%s.%s-%s%u", dslug, os, sh ? sh : "t", (unsigned)o->oid.instance);
    if (json_object_get(used, out))
        snprintf(out, cap, "%s.%u-%u", dslug, (unsigned)o->oid.type, (unsigned)o->oid.instance);
    json_object_set_new(used, out, json_true());
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v && *v)
        json_object_set_new(o, k, json_string(v));
}

static json_t *point_json(const struct dev *v, const struct obj *o, const char *dslug,
                          json_t *used)
{
    struct sb_bacn_proposal pr;
    char id[80], ob[64];
    uint32_t u = o->has_units ? o->units : SB_BACN_UNITS_NONE;
    enum sb_unit su = sb_bacn_unit(u);
    json_t *j = json_object(), *src = json_object(), *addr = json_object();
    json_t *tags = json_array(), *raw = json_object();

    sb_bacn_propose(o->name, o->desc, o->oid.type, u, &pr);
    if (o->commandable)
        pr.kind = sb_bacn_kind_commandable(pr.kind, u);
    if (!o->name)
        pr.confidence = pr.confidence > 0.2 ? 0.2 : pr.confidence;
    point_id(used, dslug, o, id, sizeof(id));
    sb_bacn_obj_str(o->oid, ob, sizeof(ob));
    json_object_set_new(j, "id", json_string(id));
    json_object_set_new(j, "name", json_string(o->name && *o->name ? o->name : ob));
    json_object_set_new(j, "kind", json_string(sb_bacn_kind_name(pr.kind)));
    if (su != SB_UNIT_INVALID && su != SB_UNIT_NONE)
        json_object_set_new(j, "unit", json_string(sb_unit_symbol(su)));
    json_object_set_new(j, "writable", json_boolean(o->commandable));
    json_object_set_new(addr, "device", json_integer(v->inst));
    json_object_set_new(addr, "object", json_string(ob));
    json_object_set_new(addr, "property", json_string("present-value"));
    /* A device whose services lack SubscribeCOV is polled from the start. */
    if (v->info.has_svcs && !v->info.cov)
        json_object_set_new(addr, "cov", json_false());
    json_object_set_new(src, "driver", json_string("bacnet"));
    json_object_set_new(src, "address", addr);
    json_object_set_new(src, "poll_s", json_integer(has_units(o->oid.type) ? 60 : 30));
    json_object_set_new(j, "source", src);
    json_object_set_new(j, "brick", json_string(pr.brick));
    for (size_t t = 0; t < pr.ntags; t++)
        json_array_append_new(tags, json_string(pr.tags[t]));
    json_object_set_new(j, "tags", tags);
    json_object_set_new(j, "confidence", json_real(pr.confidence));
    json_object_set_new(j, "rule", json_string(pr.rule));
    set_str(j, "description", o->desc);
    json_object_set_new(raw, "object_type", json_integer(o->oid.type));
    json_object_set_new(raw, "instance", json_integer(o->oid.instance));
    if (o->has_units) {
        const char *un = sb_bacn_unit_name(o->units);
        json_object_set_new(raw, "units", json_integer(o->units));
        set_str(raw, "units_name", un);
    }
    if (o->pv)
        json_object_set(raw, "present_value", o->pv);
    json_object_set_new(raw, "commandable", json_boolean(o->commandable));
    if (o->has_type && o->type != o->oid.type)
        json_object_set_new(raw, "object_type_property", json_integer(o->type));
    json_object_set_new(j, "bacnet", raw);
    return j;
}

static json_t *side_json(const struct obj *o)
{
    json_t *j = json_object();
    char ob[64];

    json_object_set_new(j, "object", json_string(sb_bacn_obj_str(o->oid, ob, sizeof(ob))));
    set_str(j, "name", o->name);
    set_str(j, "description", o->desc);
    if (o->has_logref) {
        json_t *l = json_object();
        json_object_set_new(l, "object", json_string(sb_bacn_obj_str(o->log_oid, ob, sizeof(ob))));
        const char *pn = sb_bacn_prop_name(o->log_prop);
        if (pn)
            json_object_set_new(l, "property", json_string(pn));
        else
            json_object_set_new(l, "property", json_integer(o->log_prop));
        if (o->has_logdev)
            json_object_set_new(l, "device", json_integer(o->log_dev));
        json_object_set_new(j, "logs", l);
    }
    if (o->has_logint)              /* Log_Interval is in hundredths of a second */
        json_object_set_new(j, "log_interval_s", json_real(o->log_interval / 100.0));
    if (o->has_recs)
        json_object_set_new(j, "record_count", json_integer(o->records));
    return j;
}

static json_t *dev_json(const struct dev *v, json_t *used)
{
    json_t *j = json_object(), *pts = json_array(), *tl = json_array(), *sc = json_array();
    json_t *ca = json_array();
    char addr[96], dslug[25];

    json_object_set_new(j, "device", json_integer(v->inst));
    json_object_set_new(j, "address", json_string(sb_bac_peer_str(&v->peer, addr, sizeof(addr))));
    set_str(j, "name", v->info.name);
    set_str(j, "description", v->info.desc);
    json_object_set_new(j, "vendor_id", json_integer(v->vendor_id));
    set_str(j, "vendor", v->info.vname);
    set_str(j, "model", v->info.model);
    json_object_set_new(j, "max_apdu", json_integer(v->max_apdu));
    json_object_set_new(j, "segmentation", json_string(sb_bacn_seg_name(v->seg)));
    json_object_set_new(j, "found_by", json_string(v->from_iam ? "i-am" : "probe"));
    json_object_set_new(j, "rpm", json_boolean(!v->no_rpm));
    if (v->info.has_svcs)
        json_object_set_new(j, "cov", json_boolean(v->info.cov));
    json_object_set_new(j, "objects", json_integer(v->list_len));
    if (v->list_method)
        json_object_set_new(j, "object_list", json_string(v->list_method));
    if (v->list_truncated)
        json_object_set_new(j, "objects_truncated", json_true());
    slugify(v->info.name, dslug, 24);
    if (!dslug[0])
        snprintf(dslug, sizeof(dslug), "dev%u", (unsigned)v->inst);
    for (size_t i = 0; i < v->nobj; i++) {
        const struct obj *o = &v->objs[i];
        json_array_append_new(o->cls == O_POINT ? pts : o->cls == O_TREND ? tl :
                              o->cls == O_SCHED ? sc : ca,
                              o->cls == O_POINT ? point_json(v, o, dslug, used) : side_json(o));
    }
    json_object_set_new(j, "points", pts);
    json_object_set_new(j, "trend_logs", tl);
    json_object_set_new(j, "schedules", sc);
    json_object_set_new(j, "calendars", ca);
    json_object_set(j, "other_objects", v->others);
    json_object_set(j, "errors", v->errors);
    if (v->err_dropped)
        json_object_set_new(j, "errors_dropped", json_integer((json_int_t)v->err_dropped));
    json_object_set_new(j, "complete", json_boolean(dev_finished(v) && !v->dead &&
                                                    !v->list_failed));
    return j;
}

static json_t *result_json(struct sb_bacdisc *d, int rc)
{
    json_t *r = json_object(), *devs = json_array(), *un = json_array(), *used = json_object();
    size_t more = 0;

    if (!r || !devs || !un || !used) {
        json_decref(r), json_decref(devs), json_decref(un), json_decref(used);
        return NULL;
    }
    for (size_t i = 0; i < d->ndev; i++)
        json_array_append_new(devs, dev_json(d->devs[i], used));
    for (size_t i = 0; i < d->ntg; i++) {
        char a[64];
        if (d->tg[i].seen)
            continue;
        if (json_array_size(un) < UNANSWERED_MAX)
            json_array_append_new(un, json_string(sb_bac_peer_str(&d->tg[i].p, a, sizeof(a))));
        else
            more++;
    }
    json_decref(used);
    json_object_set_new(r, "devices", devs);
    json_object_set_new(r, "unanswered", un);
    if (more)
        json_object_set_new(r, "unanswered_more", json_integer((json_int_t)more));
    if (d->ignored)
        json_object_set_new(r, "devices_ignored", json_integer((json_int_t)d->ignored));
    json_object_set_new(r, "duration_ms", json_integer((json_int_t)(now_ms(d) - d->t0)));
    json_object_set_new(r, "complete", json_boolean(rc == 0));
    return r;
}

/* ---- life cycle ---------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
    struct sb_bacdisc *d = h->data;

    d->timer_closed = true;
    maybe_free(d);
}

static void maybe_free(struct sb_bacdisc *d)
{
    if (!d->finished || !d->timer_closed || d->inflight)
        return;
    for (size_t i = 0; i < d->ndev; i++)
        dev_free(d->devs[i]);
    free(d->devs);
    free(d->tg);
    free(d);
}

static void finish(struct sb_bacdisc *d, int rc)
{
    json_t *res;

    d->finished = true;
    uv_timer_stop(&d->timer);
    res = result_json(d, rc);
    if (!res)
        rc = SB_ENOMEM;
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
    d->done(d->ud, rc, res);
}

static void on_tick(uv_timer_t *t)
{
    struct sb_bacdisc *d = t->data;
    uint64_t now = now_ms(d);

    if (d->finish_rc != 1 || d->stack_dead) {
        finish(d, d->finish_rc != 1 ? d->finish_rc : SB_ECLOSED);
        return;
    }
    if (now >= d->deadline) {
        finish(d, SB_ETIMEDOUT);
        return;
    }
    for (int k = 0; k < WHOIS_PER_TICK && d->whois_next < d->whois_total; k++)
        whois_send(d, d->whois_next++);
    if (d->whois_next < d->whois_total)
        return;
    if (!d->listen_until)
        d->listen_until = now + d->a.wait_ms;
    if (now < d->listen_until)
        return;
    if (!d->listening_done && !probe_pump(d))
        return;
    d->listening_done = true;
    if (all_devices_done(d))
        finish(d, 0);
}

void sb_bacdisc_on_iam(struct sb_bacdisc *d, const struct sb_bac_peer *from,
                       const struct sb_bac_iam *iam)
{
    if (!d || d->finished || iam->device.type != SB_BAC_OBJ_DEVICE ||
        iam->device.instance >= SB_BAC_MAX_INSTANCE)
        return;
    found(d, from, iam->device.instance, true, iam->max_apdu, iam->segmentation,
          iam->vendor_id);
}

void sb_bacdisc_on_unconfirmed(struct sb_bacdisc *d, const struct sb_bac_peer *from,
                               uint8_t service, const uint8_t *body, size_t len)
{
    struct sb_bac_iam iam;

    if (service == SB_BAC_SVC_I_AM && sb_bac_dec_iam(body, len, &iam) >= 0)
        sb_bacdisc_on_iam(d, from, &iam);
}

void sb_bacdisc_cancel(struct sb_bacdisc *d)
{
    if (d && !d->finished && d->finish_rc == 1)
        d->finish_rc = SB_ECLOSED;
}

/* ---- arguments ------------------------------------------------------------- */

static int parse_ipv4(const char *s, size_t n, uint32_t *host)
{
    char b[INET_ADDRSTRLEN];
    struct in_addr in;

    if (n == 0 || n >= sizeof(b))
        return SB_EINVAL;
    memcpy(b, s, n);
    b[n] = 0;
    if (inet_pton(AF_INET, b, &in) != 1)
        return SB_EINVAL;
    *host = ntohl(in.s_addr);
    return 0;
}

int sb_bacdisc_range(const char *range, struct sb_bac_peer *out, size_t cap)
{
    const char *dash = range ? strchr(range, '-') : NULL;
    const char *colon, *end2;
    uint32_t a, b;
    unsigned long port = 47808;
    char *e;

    if (!dash || parse_ipv4(range, (size_t)(dash - range), &a) < 0)
        return SB_EINVAL;
    colon = strchr(dash, ':');
    end2 = colon ? colon : dash + strlen(dash);
    if (memchr(dash + 1, '.', (size_t)(end2 - dash - 1))) {
        if (parse_ipv4(dash + 1, (size_t)(end2 - dash - 1), &b) < 0)
            return SB_EINVAL;
    } else {                         /* "10.0.0.5-40": the last octet */
        unsigned long o = strtoul(dash + 1, &e, 10);
        if (e != end2 || e == dash + 1 || o > 255)
            return SB_EINVAL;
        b = (a & 0xffffff00u) | (uint32_t)o;
    }
    if (colon) {
        port = strtoul(colon + 1, &e, 10);
        if (*e || e == colon + 1 || port == 0 || port > 65535)
            return SB_EINVAL;
    }
    if (b < a)
        return SB_EINVAL;
    if ((uint64_t)b - a + 1 > cap)
        return SB_ERANGE;
    for (uint32_t i = 0; i <= b - a; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].ip = htonl(a + i);
        out[i].port = htons((uint16_t)port);
    }
    return (int)(b - a + 1);
}

static void apply_defaults(struct sb_bacdisc_args *a)
{
    if (!a->wait_ms)
        a->wait_ms = 3000;
    if (!a->max_devices)
        a->max_devices = 256;
    if (!a->concurrency)
        a->concurrency = 4;
    if (!a->deadline_ms)
        a->deadline_ms = 300000;
    if (!a->max_objects)
        a->max_objects = 10000;
}

static int check_args(const struct sb_bacdisc_args *a, char *err, size_t errlen)
{
    if (a->ntargets > SB_BACDISC_TARGETS_MAX || (a->ntargets && !a->targets)) {
        sb_errf(err, errlen, "at most %d targets", SB_BACDISC_TARGETS_MAX);
        return SB_EINVAL;
    }
    if (a->nnetworks > SB_BACDISC_NETS_MAX || (a->nnetworks && !a->networks)) {
        sb_errf(err, errlen, "at most %d networks", SB_BACDISC_NETS_MAX);
        return SB_EINVAL;
    }
    for (size_t i = 0; i < a->nnetworks; i++)
        if (a->networks[i] == 0) {   /* clause 6.2.2: DNET 0 is not a network */
            sb_errf(err, errlen, "network 0 is not valid (1..65534, 65535 = all)");
            return SB_EINVAL;
        }
    if (a->has_limits && (a->low > a->high || a->high > SB_BAC_MAX_INSTANCE)) {
        sb_errf(err, errlen, "device instance limits must be 0 <= low <= high <= 4194303");
        return SB_EINVAL;
    }
    if (!a->broadcast && !a->ntargets && !a->range && !a->nnetworks) {
        sb_errf(err, errlen, "nothing to ask: no broadcast, target, range or network");
        return SB_EINVAL;
    }
    return 0;
}

static int load_targets(struct sb_bacdisc *d, const struct sb_bacdisc_args *a, char *err,
                        size_t errlen)
{
    size_t cap = a->ntargets + (a->range ? SB_BACDISC_RANGE_MAX : 0);
    int n;

    if (cap && !(d->tg = calloc(cap, sizeof(*d->tg))))
        return SB_ENOMEM;
    for (size_t i = 0; i < a->ntargets; i++) {
        if (sb_bac_peer_parse(a->targets[i], &d->tg[d->ntg].p) < 0) {
            sb_errf(err, errlen, "target \"%.64s\" is not ip[:port]", a->targets[i]);
            return SB_EINVAL;
        }
        d->ntg++;
    }
    if (a->range) {
        struct sb_bac_peer *p = calloc(SB_BACDISC_RANGE_MAX, sizeof(*p));
        if (!p)
            return SB_ENOMEM;
        n = sb_bacdisc_range(a->range, p, SB_BACDISC_RANGE_MAX);
        for (int i = 0; i < n; i++)
            d->tg[d->ntg++].p = p[i];
        free(p);
        if (n < 0) {
            sb_errf(err, errlen, n == SB_ERANGE ? "range \"%.64s\" has more than 1024 addresses"
                                                : "range \"%.64s\" is not a.b.c.d-e.f.g.h[:port]",
                    a->range);
            return SB_EINVAL;
        }
    }
    return 0;
}

int sb_bacdisc_start(struct sb_bac_stack *st, const struct sb_bacdisc_args *args,
                     sb_bacdisc_done_cb done, void *ud, struct sb_bacdisc **out,
                     char *err, size_t errlen)
{
    struct sb_bacdisc *d;
    int rc;

    if (!st || !args || !args->loop || !done || !out) {
        sb_errf(err, errlen, "missing argument");
        return SB_EINVAL;
    }
    if ((rc = check_args(args, err, errlen)) < 0)
        return rc;
    if (!(d = calloc(1, sizeof(*d)))) {
        sb_errf(err, errlen, "out of memory");
        return SB_ENOMEM;
    }
    d->st = st;
    d->loop = args->loop;
    d->a = *args;
    apply_defaults(&d->a);
    d->a.targets = NULL;
    d->a.range = NULL;
    memcpy(d->nets, args->networks ? args->networks : d->nets,
           args->nnetworks * sizeof(uint16_t));
    d->a.networks = d->nets;
    d->finish_rc = 1;
    d->done = done;
    d->ud = ud;
    if ((rc = load_targets(d, args, err, errlen)) < 0)
        goto fail;
    d->whois_total = 1 + d->a.nnetworks + d->ntg;
    d->t0 = now_ms(d);
    d->deadline = d->t0 + d->a.deadline_ms;
    uv_timer_init(d->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_tick, 0, TICK_MS);
    *out = d;
    return 0;
fail:
    if (rc == SB_ENOMEM)
        sb_errf(err, errlen, "out of memory");
    free(d->tg);
    free(d);
    return rc;
}

/* ---- the fuzzer's door ------------------------------------------------------ */

json_t *sb_bacdisc__fuzz_reply(const uint8_t *p, size_t n)
{
    static const struct sb_bac_oid set[] = {
        { SB_BAC_OBJ_AI, 1 }, { SB_BAC_OBJ_AO, 2 }, { SB_BAC_OBJ_AV, 3 }, { SB_BAC_OBJ_BI, 4 },
        { SB_BAC_OBJ_MSV, 5 }, { SB_BAC_OBJ_TREND_LOG, 6 }, { SB_BAC_OBJ_SCHEDULE, 7 },
        { SB_BAC_OBJ_CALENDAR, 8 },
    };
    struct sb_bacdisc d = { .a.max_objects = 64 };
    struct dev v = { .d = &d, .inst = 7, .max_apdu = 480, .seg = SB_BAC_SEG_NONE };
    json_t *used = json_object(), *j = NULL;
    uint8_t sel = n ? p[0] % 3 : 0;

    v.errors = json_array();
    v.others = json_object();
    v.info.oid = dev_oid(&v);
    v.info.want = 0xffff;
    if (!used || !v.errors || !v.others)
        goto out;
    p += n ? 1 : 0;
    n -= n ? 1 : 0;
    if (sel == 0) {
        (void)list_parse(&v, p, n);
    } else {
        for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++)
            (void)take_oid(&v, set[i]);
        v.rd = v.objs;
        v.rd_n = v.nobj;
        if (sel == 1)
            (void)rpm_parse(&v, p, n, 0, v.nobj);
        for (size_t i = 0; sel == 2 && i <= v.nobj; i++) {
            struct obj *o = i < v.nobj ? &v.objs[i] : &v.info;
            for (int b = 0; b < P__N; b++)
                if (o->want & PB(b))
                    store(o, b, p, n);
        }
    }
    j = dev_json(&v, used);
out:
    json_decref(used);
    dev_release(&v);
    return j;
}

/* ---- `sbems bacnet discover` ------------------------------------------------- */

#define CLI_NAME "sbems bacnet discover"

/* The command's state. */
struct cli {
    uv_loop_t loop;
    uv_signal_t sig;                 /* SIGINT: stop and print what was found */
    struct sb_bac_stack *st;
    struct sb_bacdisc *disc;         /* NULL once done has run */
    json_t *result;                  /* owned once done has run */
    int rc;                          /* done's rc */
};

/* Everything the flags set. */
struct cli_opts {
    struct sb_bac_stack_cfg cfg;
    struct sb_bacdisc_args a;
    char bind_ip[INET_ADDRSTRLEN];
    const char *targets[SB_BACDISC_TARGETS_MAX];
    uint16_t nets[SB_BACDISC_NETS_MAX];
    int broadcast;                   /* -1 default, 0 off, 1 on */
    bool has_low, has_high;
    bool table;
    const char *site;                /* --format site: the building the points go to */
    const char *output;
    uint32_t scratch;                /* flags converted after parsing (--retries, --ttl) */
};

static const char cli_usage[] =
    "usage: " CLI_NAME " [options]\n"
    "  --bind IP[:PORT]        local address (0.0.0.0:47808)\n"
    "  --broadcast-ip IP       local broadcast address (255.255.255.255)\n"
    "  --bbmd IP[:PORT]        register as a foreign device with this BBMD\n"
    "  --ttl S                 foreign device registration TTL, s (60)\n"
    "  --target IP[:PORT]      directed Who-Is (repeatable, at most 256)\n"
    "  --range A-B[:PORT]      directed Who-Is to each address A..B (at most 1024)\n"
    "  --network N             remote broadcast on network N, 65535 = global (repeatable)\n"
    "  --broadcast / --no-broadcast\n"
    "                          local broadcast Who-Is (default: on unless a target,\n"
    "                          range or network is given)\n"
    "  --low N --high N        device instance limits of the Who-Is\n"
    "  --wait-ms N             listen window after the last Who-Is (3000)\n"
    "  --timeout-ms N          APDU timeout (2000)   --retries N  APDU retries (1)\n"
    "  --max-devices N (256)   --max-objects N (10000)   --concurrency N (4)\n"
    "  --deadline-s N          give up and print what was found after N s (300)\n"
    "  --no-probe              do not probe silent targets with ReadProperty\n"
    "  --devices-only          skip the object lists\n"
    "  --format json|table     output format (json)\n"
    "  --site BUILDING         instead: a site document of every proposed point (and one\n"
    "                          equipment per device) in BUILDING, to review, edit and\n"
    "                          `sbems import`: nothing is added until you do\n"
    "  --output FILE           write the result to FILE instead of standard output\n";

static int cli_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a usage error; returns the usage exit status. */
static int cli_bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, CLI_NAME ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(" CLI_NAME " --help lists the options)\n");
    return 2;
}

static bool cli_num(const char *s, unsigned long lo, unsigned long hi, uint32_t *out)
{
    char *e;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoul(s, &e, 10);
    if (*e || errno || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* Numeric flags: name, bounds and where the value goes. */
static uint32_t *cli_num_slot(struct cli_opts *o, const char *f, unsigned long *lo,
                              unsigned long *hi)
{
    static const struct { const char *f; unsigned long lo, hi; } t[] = {
        { "--wait-ms", 0, 600000 }, { "--timeout-ms", 100, 60000 }, { "--retries", 0, 10 },
        { "--max-devices", 1, 100000 }, { "--max-objects", 1, 1000000 },
        { "--concurrency", 1, 64 }, { "--deadline-s", 1, 86400 }, { "--low", 0, 4194303 },
        { "--high", 0, 4194303 }, { "--ttl", 1, 65535 },
    };
    uint32_t *slots[] = {
        &o->a.wait_ms, &o->cfg.apdu_timeout_ms, &o->scratch, &o->a.max_devices,
        &o->a.max_objects, &o->a.concurrency, &o->a.deadline_ms, &o->a.low, &o->a.high,
        &o->scratch,
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (strcmp(t[i].f, f) == 0) {
            *lo = t[i].lo;
            *hi = t[i].hi;
            return slots[i];
        }
    return NULL;
}

static int cli_numeric(struct cli_opts *o, const char *f, const char *v)
{
    unsigned long lo, hi;
    uint32_t *slot = cli_num_slot(o, f, &lo, &hi), n;
    char want[64];

    if (!slot)
        return 1;                    /* not a numeric flag */
    if (!cli_num(v, lo, hi, &n)) {
        snprintf(want, sizeof(want), "a number %lu..%lu", lo, hi);
        return cli_bad("%s wants %s, not \"%s\"", f, want, v);
    }
    *slot = n;
    if (strcmp(f, "--retries") == 0)
        o->cfg.retries = n ? (int)n : -1;
    else if (strcmp(f, "--ttl") == 0)
        o->cfg.fd_ttl = (uint16_t)n;
    else if (strcmp(f, "--deadline-s") == 0)
        o->a.deadline_ms = n * 1000;
    o->has_low |= strcmp(f, "--low") == 0;
    o->has_high |= strcmp(f, "--high") == 0;
    return 0;
}

static int cli_bind(struct cli_opts *o, const char *v)
{
    struct sb_bac_peer p;

    if (sb_bac_peer_parse(v, &p) < 0)
        return cli_bad("--bind wants IP[:PORT], not \"%s\"", v);
    inet_ntop(AF_INET, &p.ip, o->bind_ip, sizeof(o->bind_ip));
    o->cfg.bind_ip = o->bind_ip;
    o->cfg.port = ntohs(p.port);
    return 0;
}

/* Whether f is a flag that takes a value. */
static bool cli_known(const char *f)
{
    static const char *const valued[] = {
        "--bind", "--broadcast-ip", "--bbmd", "--target", "--range", "--network", "--format", "--site",
        "--output",
    };
    struct cli_opts scratch;
    unsigned long lo, hi;

    for (size_t i = 0; i < sizeof(valued) / sizeof(valued[0]); i++)
        if (strcmp(valued[i], f) == 0)
            return true;
    return cli_num_slot(&scratch, f, &lo, &hi) != NULL;
}

/* Flags with a value that are not numbers. */
static int cli_valued(struct cli_opts *o, const char *f, const char *v)
{
    struct sb_bac_peer p;
    uint32_t n;

    if (strcmp(f, "--bind") == 0)
        return cli_bind(o, v);
    if (strcmp(f, "--broadcast-ip") == 0) {
        o->cfg.bcast_ip = v;
    } else if (strcmp(f, "--bbmd") == 0) {
        if (sb_bac_peer_parse(v, &p) < 0)
            return cli_bad("--bbmd wants IP[:PORT], not \"%s\"", v);
        o->cfg.bbmd = v;
    } else if (strcmp(f, "--target") == 0) {
        if (sb_bac_peer_parse(v, &p) < 0)
            return cli_bad("--target wants IP[:PORT], not \"%s\"", v);
        if (o->a.ntargets == SB_BACDISC_TARGETS_MAX)
            return cli_bad("at most %d --target", SB_BACDISC_TARGETS_MAX);
        o->targets[o->a.ntargets++] = v;
    } else if (strcmp(f, "--range") == 0) {
        struct sb_bac_peer *tmp = calloc(SB_BACDISC_RANGE_MAX, sizeof(*tmp));
        int k = tmp ? sb_bacdisc_range(v, tmp, SB_BACDISC_RANGE_MAX) : SB_ENOMEM;
        free(tmp);
        if (k < 0)
            return k == SB_ERANGE
                       ? cli_bad("--range \"%s\" spans more than %d addresses", v,
                                 SB_BACDISC_RANGE_MAX)
                       : cli_bad("--range wants A-B[:PORT] (10.0.0.1-10.0.0.40 or "
                                 "10.0.0.1-40), not \"%s\"", v);
        o->a.range = v;
    } else if (strcmp(f, "--network") == 0) {
        if (!cli_num(v, 1, 65535, &n))
            return cli_bad("--network wants 1..65535 (65535 = all networks), not \"%s\"", v);
        if (o->a.nnetworks == SB_BACDISC_NETS_MAX)
            return cli_bad("at most %d --network", SB_BACDISC_NETS_MAX);
        o->nets[o->a.nnetworks++] = (uint16_t)n;
    } else if (strcmp(f, "--format") == 0) {
        if (strcmp(v, "json") && strcmp(v, "table"))
            return cli_bad("--format wants json or table, not \"%s\"", v);
        o->table = strcmp(v, "table") == 0;
    } else if (strcmp(f, "--output") == 0) {
        o->output = v;
    } else if (strcmp(f, "--site") == 0) {
        o->site = v;
    } else {
        int rc = cli_numeric(o, f, v);
        return rc == 1 ? cli_bad("unknown option \"%s\"", f) : rc;
    }
    return 0;
}

static int cli_flag(struct cli_opts *o, const char *f)
{
    if (strcmp(f, "--broadcast") == 0)
        o->broadcast = 1;
    else if (strcmp(f, "--no-broadcast") == 0)
        o->broadcast = 0;
    else if (strcmp(f, "--no-probe") == 0)
        o->a.no_probe = true;
    else if (strcmp(f, "--devices-only") == 0)
        o->a.no_points = true;
    else
        return 1;
    return 0;
}

/* Parses argv into o; 0, 2 (usage error, printed) or 3 (--help printed). */
static int cli_parse(int argc, char **argv, struct cli_opts *o)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->broadcast = -1;
    o->cfg.apdu_timeout_ms = 2000;
    o->cfg.retries = 1;
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--help") == 0 || strcmp(f, "-h") == 0) {
            fputs(cli_usage, stdout);
            return 3;
        }
        if (cli_flag(o, f) == 0)
            continue;
        if (strncmp(f, "--", 2) != 0)
            return cli_bad("unexpected argument \"%s\"", f);
        if (!cli_known(f))
            return cli_bad("unknown option \"%s\"", f);
        if (i + 1 >= argc)
            return cli_bad("%s needs a value", f);
        if ((rc = cli_valued(o, f, argv[++i])) != 0)
            return rc;
    }
    if (o->has_low != o->has_high)
        return cli_bad("--low and --high go together");
    if (o->has_low && o->a.low > o->a.high)
        return cli_bad("--low must not exceed --high");
    o->a.has_limits = o->has_low;
    o->a.targets = o->targets;
    o->a.networks = o->nets;
    o->a.broadcast = o->broadcast == 1 ||
                     (o->broadcast == -1 && !o->a.ntargets && !o->a.range && !o->a.nnetworks);
    return 0;
}

static void cli_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                            const uint8_t *body, size_t len)
{
    struct cli *c = ud;

    if (c->disc)
        sb_bacdisc_on_unconfirmed(c->disc, from, service, body, len);
}

static void cli_done(void *ud, int rc, json_t *result)
{
    struct cli *c = ud;

    c->disc = NULL;
    c->rc = rc;
    c->result = result;
    uv_close((uv_handle_t *)&c->sig, NULL);
    sb_bac_stack_close(c->st);
}

static void cli_sigint(uv_signal_t *s, int signum)
{
    struct cli *c = s->data;

    fprintf(stderr, CLI_NAME ": interrupted, printing what was found\n");
    sb_bacdisc_cancel(c->disc);
}

/* Prints s in exactly w columns (code points), cut or padded. */
static void cell(FILE *f, const char *s, int w)
{
    int cols = 0;
    const char *p = s ? s : "";

    for (; *p && cols < w; cols++) {
        const char *q = p + 1;
        while ((*q & 0xc0) == 0x80)
            q++;
        fwrite(p, 1, (size_t)(q - p), f);
        p = q;
    }
    for (; cols < w; cols++)
        fputc(' ', f);
    fputc(' ', f);
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void table_sides(FILE *f, json_t *dev, const char *key, const char *label)
{
    json_t *arr = json_object_get(dev, key), *e;
    size_t i;

    if (!json_array_size(arr))
        return;
    fprintf(f, "  %s:\n", label);
    json_array_foreach(arr, i, e) {
        json_t *l = json_object_get(e, "logs");
        fprintf(f, "    %-22s %s", jstr(e, "object"), jstr(e, "name"));
        if (l)
            fprintf(f, "  <- %s %s", jstr(l, "object"), jstr(l, "property"));
        fputc('\n', f);
    }
}

static void table_dev(FILE *f, json_t *dev)
{
    json_t *pts = json_object_get(dev, "points"), *p, *errs = json_object_get(dev, "errors");
    size_t i;

    fprintf(f, "device %lld  \"%s\"  %s  vendor %s (%lld)  model %s\n",
            (long long)json_integer_value(json_object_get(dev, "device")), jstr(dev, "name"),
            jstr(dev, "address"), jstr(dev, "vendor"),
            (long long)json_integer_value(json_object_get(dev, "vendor_id")), jstr(dev, "model"));
    fprintf(f, "  max-apdu %lld, segmentation %s, %lld objects (%s), rpm %s%s\n",
            (long long)json_integer_value(json_object_get(dev, "max_apdu")),
            jstr(dev, "segmentation"), (long long)json_integer_value(json_object_get(dev, "objects")),
            jstr(dev, "object_list"), json_is_true(json_object_get(dev, "rpm")) ? "yes" : "no",
            json_is_true(json_object_get(dev, "complete")) ? "" : ", INCOMPLETE");
    if (json_array_size(pts)) {
        fprintf(f, "  ");
        cell(f, "OBJECT", 22), cell(f, "NAME", 30), cell(f, "KIND", 11), cell(f, "UNIT", 6);
        cell(f, "W", 1), cell(f, "BRICK", 40), cell(f, "CONF", 4);
        fputc('\n', f);
    }
    json_array_foreach(pts, i, p) {
        char conf[8];
        snprintf(conf, sizeof(conf), "%.2f", json_real_value(json_object_get(p, "confidence")));
        fprintf(f, "  ");
        cell(f, jstr(json_object_get(json_object_get(p, "source"), "address"), "object"), 22);
        cell(f, jstr(p, "name"), 30), cell(f, jstr(p, "kind"), 11), cell(f, jstr(p, "unit"), 6);
        cell(f, json_is_true(json_object_get(p, "writable")) ? "w" : "-", 1);
        cell(f, jstr(p, "brick"), 40), cell(f, conf, 4);
        fputc('\n', f);
    }
    table_sides(f, dev, "trend_logs", "trend logs");
    table_sides(f, dev, "schedules", "schedules");
    table_sides(f, dev, "calendars", "calendars");
    json_array_foreach(errs, i, p)
        fprintf(f, "  ! %s %s %s\n", jstr(p, "object"), jstr(p, "property"), jstr(p, "error"));
}

static void print_table(FILE *f, json_t *r)
{
    json_t *devs = json_object_get(r, "devices"), *d, *un = json_object_get(r, "unanswered");
    size_t i, npts = 0;

    json_array_foreach(devs, i, d) {
        table_dev(f, d);
        npts += json_array_size(json_object_get(d, "points"));
        fputc('\n', f);
    }
    json_array_foreach(un, i, d)
        fprintf(f, "no answer from %s\n", json_string_value(d));
    fprintf(f, "%zu device(s), %zu point(s) in %lld ms%s\n", json_array_size(devs), npts,
            (long long)json_integer_value(json_object_get(r, "duration_ms")),
            json_is_true(json_object_get(r, "complete")) ? "" : " (incomplete)");
}

/* Every proposal of every device, as a site document for `sbems import`. */
static json_t *site_doc(const char *building, json_t *r)
{
    json_t *sel = json_pack("{s:s, s:[]}", "building", building, "points"), *d, *p;
    size_t i, k;
    char err[200];
    json_array_foreach(json_object_get(r, "devices"), i, d)
        json_array_foreach(json_object_get(d, "points"), k, p)
            json_array_append_new(json_object_get(sel, "points"), json_pack("{s:O, s:O}",
                "device", json_object_get(d, "device"),
                "object", json_object_get(json_object_get(json_object_get(p, "source"), "address"), "object")));
    json_t *frag = sb_bacdisc_accept(r, sel, err, sizeof(err));
    json_decref(sel);
    if (!frag) {
        fprintf(stderr, CLI_NAME ": %s\n", err);
        return NULL;
    }
    json_t *doc = json_pack("{s:s, s:i, s:O, s:O}", "format", "sbems-site", "version", 1,
                            "equipment", json_object_get(frag, "equipment"),
                            "points", json_object_get(frag, "points"));
    json_decref(frag);
    return doc;
}

static int cli_print(const struct cli_opts *o, json_t *r)
{
    FILE *f = stdout;
    int rc = 0;
    json_t *doc = NULL;

    if (o->site && !(doc = site_doc(o->site, r)))
        return 1;
    if (doc)
        r = doc;

    if (o->output && !(f = fopen(o->output, "w"))) {
        fprintf(stderr, CLI_NAME ": %s: %s\n", o->output, strerror(errno));
        return 1;
    }
    if (o->table && !doc)
        print_table(f, r);
    else if (json_dumpf(r, f, JSON_INDENT(2)) == 0)
        fputc('\n', f);
    else
        rc = 1;
    if (f != stdout && fclose(f) != 0)
        rc = 1;
    json_decref(doc);
    return rc;
}

static int cli_run(struct cli *c, struct cli_opts *o)
{
    struct sb_bac_handler h = { .unconfirmed = cli_unconfirmed, .ud = c };
    char err[256];
    int rc;

    if ((rc = sb_bac_stack_new(&c->loop, &o->cfg, &h, &c->st, err, sizeof(err))) < 0) {
        fprintf(stderr, CLI_NAME ": %s\n", err);
        if (!o->cfg.bind_ip)         /* 47808 is usually the daemon's */
            fprintf(stderr, CLI_NAME ": if sbems or another BACnet program holds 47808, "
                            "use --bind 0.0.0.0:47809 with --target/--range (or --bbmd)\n");
        uv_run(&c->loop, UV_RUN_DEFAULT);    /* a half-made stack frees itself here */
        return 1;
    }
    o->a.loop = &c->loop;
    if ((rc = sb_bacdisc_start(c->st, &o->a, cli_done, c, &c->disc, err, sizeof(err))) < 0) {
        fprintf(stderr, CLI_NAME ": %s\n", err);
        sb_bac_stack_close(c->st);
        uv_run(&c->loop, UV_RUN_DEFAULT);
        return rc == SB_EINVAL ? 2 : 1;
    }
    uv_signal_init(&c->loop, &c->sig);
    c->sig.data = c;
    uv_signal_start_oneshot(&c->sig, cli_sigint, SIGINT);
    uv_run(&c->loop, UV_RUN_DEFAULT);
    return 0;
}

int sb_bacdisc_cli(int argc, char **argv)
{
    struct cli_opts o;
    struct cli c = { .rc = 0 };
    int rc = cli_parse(argc, argv, &o);

    if (rc)
        return rc == 3 ? 0 : rc;
    if (uv_loop_init(&c.loop) < 0) {
        fprintf(stderr, CLI_NAME ": cannot start an event loop\n");
        return 1;
    }
    rc = cli_run(&c, &o);
    uv_loop_close(&c.loop);
    if (rc)
        return rc;
    if (!c.result) {
        fprintf(stderr, CLI_NAME ": %s\n", sb_strerror(c.rc));
        return 1;
    }
    rc = cli_print(&o, c.result);
    json_decref(c.result);
    if (c.rc == SB_ETIMEDOUT)
        fprintf(stderr, CLI_NAME ": deadline reached, the result is partial\n");
    return rc ? rc : c.rc ? 1 : 0;
}

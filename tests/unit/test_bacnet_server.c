/*
 * test_bacnet_server.c - unit tests of the BACnet server object database
 * and request handler (src/proto/bacnet/server/).
 *
 * A device with every supported object type is built, then fed requests
 * encoded with the codec's encoders (src/proto/bacnet/codec/); its
 * replies are decoded with the codec's decoders and checked against what
 * ANSI/ASHRAE 135-2020 requires: required properties of each type
 * (listed here from the standard's object tables, not from the server),
 * priority-array arbitration (clause 19.2), WritePropertyMultiple partial
 * failure (15.10), COV (13.1/13.14), ReadRange (15.8), schedules (12.24),
 * intrinsic alarms (13.3.6, 13.5, 13.12), Who-Is/Who-Has (16.9/16.10),
 * and Reject/Abort for malformed, truncated and oversized exchanges.
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/server/server.h"
#include "tap.h"

#define DEV 260001u
#define OFFSET 300          /* UTC_Offset: New York standard time */
#define BIG 65536

static uint8_t g_out[BIG];
static const struct sb_bac_peer P1 = { .ip = 0x0100007f, .port = 0xC0BA };
static const struct sb_bac_peer P2 = { .ip = 0x0200007f, .port = 0xC0BA };

/* Unix ms of a local (UTC_Offset 300) date and time. */
static int64_t ms_of(int y, int mo, int d, int h, int mi)
{
    struct sb_bac_datetime dt = { { (uint8_t)(y - 1900), (uint8_t)mo, (uint8_t)d, 255 },
                                  { (uint8_t)h, (uint8_t)mi, 0, 0 } };
    int64_t ms = 0;

    if (sb_bac_dt_to_unix(&dt, -OFFSET, &ms) < 0)
        abort();
    return ms;
}

/* Monday 2026-11-23 10:00 local. */
#define NOW ms_of(2026, 11, 23, 10, 0)

static struct sb_bac_oid oid(uint16_t t, uint32_t i)
{
    return (struct sb_bac_oid){ t, i };
}

/* ---------- building the device ---------- */

static const char *const ms_text[] = { "Off", "Low", "High" };

static int add_value(struct sb_bac_srv *s, uint16_t type, uint32_t inst, const char *name,
                     uint32_t flags, double init)
{
    struct sb_bac_srv_obj_cfg c = { .type = type, .instance = inst, .name = name,
                                    .flags = flags, .initial = init, .units = SB_BAC_U_DEG_C,
                                    .nstates = 3 };
    return sb_bac_srv_add(s, &c, NOW);
}

static struct sb_bac_srv *mkdev(uint32_t max_subs)
{
    struct sb_bac_srv_cfg cfg = { .instance = DEV, .name = "AHU-1", .vendor_id = 2,
                                  .vendor_name = "Trane", .model_name = "UC600",
                                  .description = "air handler", .utc_offset_min = OFFSET,
                                  .max_cov_subs = max_subs };
    struct sb_bac_srv_obj_cfg ai = {
        .type = SB_BAC_OBJ_AI, .instance = 1, .name = "SAT", .description = "supply air temp",
        .flags = SB_BAC_SRV_ALARM, .initial = 20, .units = SB_BAC_U_DEG_C, .cov_increment = 0.5f,
        .high_limit = 30, .low_limit = 10, .deadband = 1,
        .limit_enable = SB_BAC_SRV_LOW_LIMIT | SB_BAC_SRV_HIGH_LIMIT,
        .event_enable = SB_BAC_SRV_TO_OFFNORMAL | SB_BAC_SRV_TO_FAULT | SB_BAC_SRV_TO_NORMAL,
        .notification_class = 1, .event_priority = 100 };
    struct sb_bac_srv_obj_cfg bo = { .type = SB_BAC_OBJ_BO, .instance = 1, .name = "SF-CMD",
                                     .initial = 0, .active_text = "On", .inactive_text = "Off" };
    struct sb_bac_srv_obj_cfg msi = { .type = SB_BAC_OBJ_MSI, .instance = 1, .name = "MODE",
                                      .initial = 1, .nstates = 3, .state_text = ms_text };
    struct sb_bac_srv_trend_cfg tl = { .instance = 1, .name = "SAT-LOG", .buffer_size = 10,
                                       .log_interval_cs = 6000,
                                       .source = { SB_BAC_OBJ_AI, 1 } };
    struct sb_bac_srv_sched_cfg sc = { .instance = 1, .name = "OCC-SCHED",
                                       .dflt = { .type = SB_BAC_REAL, .v.real = 18 } };
    struct sb_bac_srv *s = NULL;

    if (sb_bac_srv_new(&cfg, NOW, &s) < 0)
        return NULL;
    if (sb_bac_srv_add(s, &ai, NOW) < 0 ||
        add_value(s, SB_BAC_OBJ_AO, 1, "DMPR-CMD", 0, 0) < 0 ||
        add_value(s, SB_BAC_OBJ_AV, 1, "SAT-SP", SB_BAC_SRV_WRITABLE, 13) < 0 ||
        add_value(s, SB_BAC_OBJ_AV, 2, "ZONE-SP", SB_BAC_SRV_COMMANDABLE, 21) < 0 ||
        add_value(s, SB_BAC_OBJ_AV, 3, "KW-CALC", 0, 5) < 0 ||
        add_value(s, SB_BAC_OBJ_BI, 1, "SF-STS", 0, 0) < 0 ||
        sb_bac_srv_add(s, &bo, NOW) < 0 ||
        add_value(s, SB_BAC_OBJ_BV, 1, "OCC", 0, 1) < 0 ||
        sb_bac_srv_add(s, &msi, NOW) < 0 ||
        add_value(s, SB_BAC_OBJ_MSO, 1, "FAN-SPD", 0, 1) < 0 ||
        add_value(s, SB_BAC_OBJ_MSV, 1, "SEASON", SB_BAC_SRV_COMMANDABLE, 2) < 0 ||
        sb_bac_srv_add_trend(s, &tl) < 0 || sb_bac_srv_add_schedule(s, &sc) < 0 ||
        sb_bac_srv_add_calendar(s, 1, "HOLIDAYS", NULL) < 0) {
        sb_bac_srv_free(s);
        return NULL;
    }
    return s;
}

/* ---------- exchanging requests ---------- */

struct rep {
    uint8_t pdu, reason;
    ssize_t n;                  /* bytes in g_out */
    struct sb_bac_error err;    /* when pdu is ERROR */
};

static struct rep conf_cap(struct sb_bac_srv *s, uint8_t svc, const uint8_t *b, size_t n,
                           int64_t now, size_t cap)
{
    struct rep r = { 0 };

    memset(g_out, 0xEE, sizeof(g_out));
    r.n = sb_bac_srv_confirmed(s, &P1, svc, b, n, now, g_out, cap, &r.pdu, &r.reason);
    if (r.pdu == SB_BAC_PDU_ERROR && svc != SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE &&
        (r.n < 0 || sb_bac_dec_error(g_out, (size_t)r.n, &r.err) != r.n))
        r.err = (struct sb_bac_error){ 999, 999 };
    return r;
}

static struct rep conf(struct sb_bac_srv *s, uint8_t svc, const uint8_t *b, size_t n)
{
    return conf_cap(s, svc, b, n, NOW, BIG);
}

static bool is_err(struct rep r, uint32_t cls, uint32_t code)
{
    return r.pdu == SB_BAC_PDU_ERROR && r.err.err_class == cls && r.err.err_code == code;
}

/* ReadProperty; on a Complex-ACK, val and len give the value in g_out. */
static struct rep rp(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop, bool has_index,
                     uint32_t index, const uint8_t **val, size_t *len)
{
    struct sb_bac_rp req = { .oid = o, .prop = prop, .has_index = has_index, .index = index };
    uint8_t b[32];
    ssize_t n = sb_bac_enc_rp_req(b, sizeof(b), &req);
    struct rep r = conf(s, SB_BAC_SVC_READ_PROPERTY, b, (size_t)n);
    struct sb_bac_rp ack;

    *val = NULL;
    *len = 0;
    if (r.pdu == SB_BAC_PDU_COMPLEX_ACK) {
        if (sb_bac_dec_rp_ack(g_out, (size_t)r.n, &ack) != r.n || ack.prop != prop ||
            ack.has_index != has_index) {
            r.pdu = 99;   /* a reply that does not decode fails every check */
            return r;
        }
        *val = ack.value;
        *len = ack.value_len;
    }
    return r;
}

/* Reads a property that must be one primitive value. */
static bool rp_one(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop,
                   struct sb_bac_value *v)
{
    const uint8_t *p;
    size_t n;
    struct rep r = rp(s, o, prop, false, 0, &p, &n);

    return r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, n, v) == (ssize_t)n;
}

static double rp_num(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop)
{
    struct sb_bac_value v;

    if (!rp_one(s, o, prop, &v))
        return -9999;
    switch (v.type) {
    case SB_BAC_REAL:       return v.v.real;
    case SB_BAC_UNSIGNED:   return (double)v.v.u;
    case SB_BAC_ENUMERATED: return v.v.enumerated;
    case SB_BAC_BOOLEAN:    return v.v.boolean;
    case SB_BAC_NULL:       return -1;
    default:                return -9998;
    }
}

/* The value of a property as bits of a bit string (mask, bit n = 1 << n). */
static int rp_bits(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop, size_t *nbits)
{
    struct sb_bac_value v;
    int m = 0;

    if (!rp_one(s, o, prop, &v) || v.type != SB_BAC_BIT_STRING)
        return -1;
    for (size_t i = 0; i < v.v.bits.nbits && i < 16; i++)
        if (sb_bac_bit(&v.v.bits, i))
            m |= 1 << i;
    *nbits = v.v.bits.nbits;
    return m;
}

static size_t enc(uint8_t *b, size_t cap, struct sb_bac_value v)
{
    ssize_t n = sb_bac_enc_app(b, cap, &v);

    return n > 0 ? (size_t)n : 0;
}

#define REALV(f) ((struct sb_bac_value){ .type = SB_BAC_REAL, .v.real = (f) })
#define ENUMV(e) ((struct sb_bac_value){ .type = SB_BAC_ENUMERATED, .v.enumerated = (e) })
#define UNSV(x) ((struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = (x) })
#define BOOLV(x) ((struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = (x) })
#define NULLV ((struct sb_bac_value){ .type = SB_BAC_NULL })

static struct rep wp_raw(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop,
                         bool has_index, uint32_t index, const uint8_t *val, size_t vlen,
                         uint8_t prio, int64_t now)
{
    struct sb_bac_wp req = { .oid = o, .prop = prop, .has_index = has_index, .index = index,
                             .value = val, .value_len = vlen, .priority = prio };
    static uint8_t b[4096];
    ssize_t n = sb_bac_enc_wp(b, sizeof(b), &req);

    if (n < 0)
        abort();
    return conf_cap(s, SB_BAC_SVC_WRITE_PROPERTY, b, (size_t)n, now, BIG);
}

static struct rep wp(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t prop,
                     struct sb_bac_value v, uint8_t prio)
{
    uint8_t val[32];

    return wp_raw(s, o, prop, false, 0, val, enc(val, sizeof(val), v), prio, NOW);
}

/* ---------- required properties, clause 12 tables ---------- */

static const uint32_t req_common[] = {
    SB_BAC_P_OBJECT_IDENTIFIER, SB_BAC_P_OBJECT_NAME, SB_BAC_P_OBJECT_TYPE,
    SB_BAC_P_PRESENT_VALUE, SB_BAC_P_STATUS_FLAGS, SB_BAC_P_EVENT_STATE,
    SB_BAC_P_OUT_OF_SERVICE, SB_BAC_P_PROPERTY_LIST, 0
};
static const uint32_t req_cmd[] = {
    SB_BAC_P_PRIORITY_ARRAY, SB_BAC_P_RELINQUISH_DEFAULT, SB_BAC_P_CURRENT_COMMAND_PRIORITY, 0
};
static const uint32_t req_device[] = {
    SB_BAC_P_OBJECT_IDENTIFIER, SB_BAC_P_OBJECT_NAME, SB_BAC_P_OBJECT_TYPE,
    SB_BAC_P_SYSTEM_STATUS, SB_BAC_P_VENDOR_NAME, SB_BAC_P_VENDOR_IDENTIFIER,
    SB_BAC_P_MODEL_NAME, SB_BAC_P_FIRMWARE_REVISION, SB_BAC_P_APPLICATION_SOFTWARE_VERSION,
    SB_BAC_P_PROTOCOL_VERSION, SB_BAC_P_PROTOCOL_REVISION,
    SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED, SB_BAC_P_PROTOCOL_OBJECT_TYPES_SUPPORTED,
    SB_BAC_P_OBJECT_LIST, SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED, SB_BAC_P_SEGMENTATION_SUPPORTED,
    SB_BAC_P_APDU_TIMEOUT, SB_BAC_P_NUMBER_OF_APDU_RETRIES, SB_BAC_P_DEVICE_ADDRESS_BINDING,
    SB_BAC_P_DATABASE_REVISION, SB_BAC_P_PROPERTY_LIST, SB_BAC_P_MAX_SEGMENTS_ACCEPTED,
    SB_BAC_P_APDU_SEGMENT_TIMEOUT, 0
};
static const uint32_t req_trend[] = {
    SB_BAC_P_OBJECT_IDENTIFIER, SB_BAC_P_OBJECT_NAME, SB_BAC_P_OBJECT_TYPE, SB_BAC_P_ENABLE,
    SB_BAC_P_STOP_WHEN_FULL, SB_BAC_P_BUFFER_SIZE, SB_BAC_P_RECORD_COUNT,
    SB_BAC_P_TOTAL_RECORD_COUNT, SB_BAC_P_LOGGING_TYPE, SB_BAC_P_STATUS_FLAGS,
    SB_BAC_P_EVENT_STATE, SB_BAC_P_PROPERTY_LIST, 0
};
static const uint32_t req_sched[] = {
    SB_BAC_P_OBJECT_IDENTIFIER, SB_BAC_P_OBJECT_NAME, SB_BAC_P_OBJECT_TYPE,
    SB_BAC_P_PRESENT_VALUE, SB_BAC_P_EFFECTIVE_PERIOD, SB_BAC_P_SCHEDULE_DEFAULT,
    SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, SB_BAC_P_PRIORITY_FOR_WRITING,
    SB_BAC_P_STATUS_FLAGS, SB_BAC_P_RELIABILITY, SB_BAC_P_OUT_OF_SERVICE,
    SB_BAC_P_PROPERTY_LIST, 0
};
static const uint32_t req_cal[] = {
    SB_BAC_P_OBJECT_IDENTIFIER, SB_BAC_P_OBJECT_NAME, SB_BAC_P_OBJECT_TYPE,
    SB_BAC_P_PRESENT_VALUE, SB_BAC_P_DATE_LIST, SB_BAC_P_PROPERTY_LIST, 0
};

/* Application type each property's value must have (0xFF: constructed or
 * a list, checked elsewhere). */
static uint8_t type_of(uint16_t otype, uint32_t prop)
{
    switch (prop) {
    case SB_BAC_P_OBJECT_IDENTIFIER: return SB_BAC_OBJECT_ID;
    case SB_BAC_P_OBJECT_NAME: case SB_BAC_P_VENDOR_NAME: case SB_BAC_P_MODEL_NAME:
    case SB_BAC_P_FIRMWARE_REVISION: case SB_BAC_P_APPLICATION_SOFTWARE_VERSION:
        return SB_BAC_CHAR_STRING;
    case SB_BAC_P_OBJECT_TYPE: case SB_BAC_P_EVENT_STATE: case SB_BAC_P_SYSTEM_STATUS:
    case SB_BAC_P_SEGMENTATION_SUPPORTED: case SB_BAC_P_UNITS: case SB_BAC_P_POLARITY:
    case SB_BAC_P_LOGGING_TYPE: case SB_BAC_P_RELIABILITY:
        return SB_BAC_ENUMERATED;
    case SB_BAC_P_STATUS_FLAGS: case SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED:
    case SB_BAC_P_PROTOCOL_OBJECT_TYPES_SUPPORTED:
        return SB_BAC_BIT_STRING;
    case SB_BAC_P_OUT_OF_SERVICE: case SB_BAC_P_ENABLE: case SB_BAC_P_STOP_WHEN_FULL:
        return SB_BAC_BOOLEAN;
    case SB_BAC_P_VENDOR_IDENTIFIER: case SB_BAC_P_PROTOCOL_VERSION:
    case SB_BAC_P_PROTOCOL_REVISION: case SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED:
    case SB_BAC_P_APDU_TIMEOUT: case SB_BAC_P_NUMBER_OF_APDU_RETRIES:
    case SB_BAC_P_DATABASE_REVISION: case SB_BAC_P_MAX_SEGMENTS_ACCEPTED:
    case SB_BAC_P_APDU_SEGMENT_TIMEOUT: case SB_BAC_P_NUMBER_OF_STATES:
    case SB_BAC_P_BUFFER_SIZE: case SB_BAC_P_RECORD_COUNT: case SB_BAC_P_TOTAL_RECORD_COUNT:
    case SB_BAC_P_PRIORITY_FOR_WRITING:
        return SB_BAC_UNSIGNED;
    case SB_BAC_P_PRESENT_VALUE: case SB_BAC_P_RELINQUISH_DEFAULT:
        switch (otype) {
        case SB_BAC_OBJ_AI: case SB_BAC_OBJ_AO: case SB_BAC_OBJ_AV: case SB_BAC_OBJ_SCHEDULE:
            return SB_BAC_REAL;
        case SB_BAC_OBJ_BI: case SB_BAC_OBJ_BO: case SB_BAC_OBJ_BV: return SB_BAC_ENUMERATED;
        case SB_BAC_OBJ_CALENDAR: return SB_BAC_BOOLEAN;
        default: return SB_BAC_UNSIGNED;
        }
    default:
        return 0xFF;
    }
}

/* Each required property answers with a well-typed value. */
static void check_required(struct sb_bac_srv *s, struct sb_bac_oid o, const uint32_t *list)
{
    for (; *list; list++) {
        const uint8_t *p;
        size_t n;
        struct sb_bac_value v;
        uint8_t want = type_of(o.type, *list);
        struct rep r = rp(s, o, *list, false, 0, &p, &n);

        if (r.pdu != SB_BAC_PDU_COMPLEX_ACK) {
            TAP_FAIL("type %u: required property %u: pdu %u err %u/%u", o.type, *list, r.pdu,
                     r.err.err_class, r.err.err_code);
            continue;
        }
        if (want != 0xFF && (sb_bac_dec_app(p, n, &v) != (ssize_t)n || v.type != want))
            TAP_FAIL("type %u: property %u is not one value of type %u", o.type, *list, want);
    }
}

TEST(required_properties)
{
    struct sb_bac_srv *s = mkdev(8);
    static const struct { uint16_t t; bool cmd; } objs[] = {
        { SB_BAC_OBJ_AI, false }, { SB_BAC_OBJ_AO, true }, { SB_BAC_OBJ_AV, false },
        { SB_BAC_OBJ_BI, false }, { SB_BAC_OBJ_BO, true }, { SB_BAC_OBJ_BV, false },
        { SB_BAC_OBJ_MSI, false }, { SB_BAC_OBJ_MSO, true }, { SB_BAC_OBJ_MSV, true }
    };
    struct sb_bac_value v;

    REQUIRE(s);
    for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
        struct sb_bac_oid o = oid(objs[i].t, 1);
        check_required(s, o, req_common);
        if (objs[i].cmd)
            check_required(s, o, req_cmd);
        CHECK(rp_one(s, o, SB_BAC_P_OBJECT_IDENTIFIER, &v) && v.v.oid.type == o.type &&
              v.v.oid.instance == 1);
        CHECK_EQ(rp_num(s, o, SB_BAC_P_OBJECT_TYPE), o.type);
    }
    /* family-specific required properties */
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_AI, 1), SB_BAC_P_UNITS), SB_BAC_U_DEG_C);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_BI, 1), SB_BAC_P_POLARITY), 0);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_BO, 1), SB_BAC_P_POLARITY), 0);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_MSI, 1), SB_BAC_P_NUMBER_OF_STATES), 3);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_MSO, 1), SB_BAC_P_NUMBER_OF_STATES), 3);
    /* Binary Value has no Polarity (clause 12.8) */
    {
        const uint8_t *p;
        size_t n;
        CHECK(is_err(rp(s, oid(SB_BAC_OBJ_BV, 1), SB_BAC_P_POLARITY, false, 0, &p, &n),
                     SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY));
    }
    check_required(s, oid(SB_BAC_OBJ_DEVICE, DEV), req_device);
    check_required(s, oid(SB_BAC_OBJ_TREND_LOG, 1), req_trend);
    check_required(s, oid(SB_BAC_OBJ_SCHEDULE, 1), req_sched);
    check_required(s, oid(SB_BAC_OBJ_CALENDAR, 1), req_cal);
    /* and the values the brief pins down */
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_VENDOR_IDENTIFIER), 2);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_PROTOCOL_VERSION), 1);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_PROTOCOL_REVISION), 22);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED), 1476);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_SEGMENTATION_SUPPORTED), 0);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_DATABASE_REVISION), 15);
    CHECK(rp_one(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_UTC_OFFSET, &v) &&
          v.type == SB_BAC_SIGNED && v.v.i == OFFSET);
    CHECK(rp_one(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_LOCAL_TIME, &v) &&
          v.type == SB_BAC_TIME && v.v.time.hour == 10 && v.v.time.min == 0);
    CHECK(rp_one(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_LOCAL_DATE, &v) &&
          v.type == SB_BAC_DATE && v.v.date.year == 126 && v.v.date.month == 11 &&
          v.v.date.day == 23 && v.v.date.wday == 1);
    CHECK(rp_one(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_VENDOR_NAME, &v) &&
          v.v.str.len == 5 && !memcmp(v.v.str.p, "Trane", 5));
    sb_bac_srv_free(s);
}

/* Property_List: everything but the four of clause 12.1.1.4.1, each
 * readable; the services bit string names what the handler answers. */
TEST(property_list_and_bits)
{
    struct sb_bac_srv *s = mkdev(8);
    static const uint16_t types[] = {
        SB_BAC_OBJ_AI, SB_BAC_OBJ_AO, SB_BAC_OBJ_AV, SB_BAC_OBJ_BI, SB_BAC_OBJ_BO,
        SB_BAC_OBJ_BV, SB_BAC_OBJ_MSI, SB_BAC_OBJ_MSO, SB_BAC_OBJ_MSV, SB_BAC_OBJ_TREND_LOG,
        SB_BAC_OBJ_SCHEDULE, SB_BAC_OBJ_CALENDAR, SB_BAC_OBJ_DEVICE
    };
    struct sb_bac_value v;
    size_t nb;
    int m;

    REQUIRE(s);
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        struct sb_bac_oid o = oid(types[t], types[t] == SB_BAC_OBJ_DEVICE ? DEV : 1);
        uint32_t ids[64];
        size_t n = 0, len;
        const uint8_t *p;
        struct rep r = rp(s, o, SB_BAC_P_PROPERTY_LIST, false, 0, &p, &len);
        ssize_t k;

        REQUIRE(r.pdu == SB_BAC_PDU_COMPLEX_ACK);
        for (size_t off = 0; off < len && n < 64; off += (size_t)k) {
            REQUIRE((k = sb_bac_dec_app(p + off, len - off, &v)) > 0 && v.type == SB_BAC_ENUMERATED);
            ids[n++] = v.v.enumerated;
        }
        CHECK(n >= 2);   /* a Calendar has Present_Value and Date_List */
        for (size_t i = 0; i < n; i++) {
            const uint8_t *q;
            size_t ql;
            struct rep r2 = rp(s, o, ids[i], false, 0, &q, &ql);
            CHECK(ids[i] != SB_BAC_P_OBJECT_IDENTIFIER && ids[i] != SB_BAC_P_OBJECT_NAME &&
                  ids[i] != SB_BAC_P_OBJECT_TYPE && ids[i] != SB_BAC_P_PROPERTY_LIST);
            /* Log_Buffer is read with ReadRange only */
            if (ids[i] == SB_BAC_P_LOG_BUFFER)
                CHECK(is_err(r2, SB_BAC_EC_PROPERTY, SB_BAC_ERR_READ_ACCESS_DENIED));
            else if (r2.pdu != SB_BAC_PDU_COMPLEX_ACK)
                TAP_FAIL("type %u lists %u but cannot read it", o.type, ids[i]);
        }
        /* Property_List[0] is its size */
        r = rp(s, o, SB_BAC_P_PROPERTY_LIST, true, 0, &p, &len);
        CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, len, &v) > 0 && v.v.u == n);
    }
    m = rp_bits(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED, &nb);
    CHECK_EQ(nb, 49);
    {   /* bits 12 RP, 14 RPM, 15 WP, 16 WPM set; 6 atomicReadFile clear */
        const uint8_t *p;
        size_t n;
        rp(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED, false, 0, &p, &n);
        REQUIRE(sb_bac_dec_app(p, n, &v) > 0);
        CHECK(sb_bac_bit(&v.v.bits, 12) && sb_bac_bit(&v.v.bits, 14) && sb_bac_bit(&v.v.bits, 15) &&
              sb_bac_bit(&v.v.bits, 16) && sb_bac_bit(&v.v.bits, 5) && sb_bac_bit(&v.v.bits, 35) &&
              sb_bac_bit(&v.v.bits, 39) && sb_bac_bit(&v.v.bits, 0) && sb_bac_bit(&v.v.bits, 34) &&
              sb_bac_bit(&v.v.bits, 33) && sb_bac_bit(&v.v.bits, 32) && sb_bac_bit(&v.v.bits, 36) &&
              !sb_bac_bit(&v.v.bits, 6) && !sb_bac_bit(&v.v.bits, 20) && !sb_bac_bit(&v.v.bits, 26));
        for (size_t i = 0, set = 0; i <= 49; i++) {   /* exactly the 12 we execute */
            set += sb_bac_bit(&v.v.bits, i);
            if (i == 49)
                CHECK_EQ(set, 12);
        }
        rp(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_PROTOCOL_OBJECT_TYPES_SUPPORTED, false, 0, &p, &n);
        REQUIRE(sb_bac_dec_app(p, n, &v) > 0);
        CHECK(v.v.bits.nbits == 63 && sb_bac_bit(&v.v.bits, 0) && sb_bac_bit(&v.v.bits, 20) &&
              sb_bac_bit(&v.v.bits, 19) && sb_bac_bit(&v.v.bits, 8) && !sb_bac_bit(&v.v.bits, 7));
    }
    (void)m;
    sb_bac_srv_free(s);
}

/* ---------- Object_List, array indexes, RP errors ---------- */

TEST(object_list)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid dev = oid(SB_BAC_OBJ_DEVICE, DEV), all[32];
    struct sb_bac_value v;
    const uint8_t *p;
    size_t len, n = 0;
    struct rep r;
    ssize_t k;
    bool has_dev = false;

    REQUIRE(s);
    r = rp(s, dev, SB_BAC_P_OBJECT_LIST, false, 0, &p, &len);
    REQUIRE(r.pdu == SB_BAC_PDU_COMPLEX_ACK);
    for (size_t off = 0; off < len && n < 32; off += (size_t)k) {
        REQUIRE((k = sb_bac_dec_app(p + off, len - off, &v)) > 0 && v.type == SB_BAC_OBJECT_ID);
        all[n++] = v.v.oid;
        has_dev |= v.v.oid.type == SB_BAC_OBJ_DEVICE && v.v.oid.instance == DEV;
    }
    CHECK_EQ(n, 15);   /* the device and 14 objects */
    CHECK(has_dev);
    r = rp(s, dev, SB_BAC_P_OBJECT_LIST, true, 0, &p, &len);
    CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, len, &v) > 0 &&
          v.type == SB_BAC_UNSIGNED && v.v.u == 15);
    for (size_t i = 0; i < n; i++) {
        r = rp(s, dev, SB_BAC_P_OBJECT_LIST, true, (uint32_t)(i + 1), &p, &len);
        CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, len, &v) == (ssize_t)len &&
              v.v.oid.type == all[i].type && v.v.oid.instance == all[i].instance);
    }
    CHECK(is_err(rp(s, dev, SB_BAC_P_OBJECT_LIST, true, 16, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX));
    CHECK(is_err(rp(s, dev, SB_BAC_P_OBJECT_NAME, true, 1, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_PROPERTY_IS_NOT_AN_ARRAY));
    CHECK(is_err(rp(s, oid(SB_BAC_OBJ_AI, 77), SB_BAC_P_PRESENT_VALUE, false, 0, &p, &len),
                 SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT));
    CHECK(is_err(rp(s, oid(SB_BAC_OBJ_AI, 1), SB_BAC_P_STATE_TEXT, false, 0, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY));
    CHECK(is_err(rp(s, oid(SB_BAC_OBJ_AI, 1), SB_BAC_P_ALL, false, 0, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY));
    /* no Description given: the property does not exist */
    CHECK(is_err(rp(s, oid(SB_BAC_OBJ_AO, 1), SB_BAC_P_DESCRIPTION, false, 0, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY));
    /* clause 15.5.1.1.1: Device instance 4194303 is "this device" */
    r = rp(s, oid(SB_BAC_OBJ_DEVICE, SB_BAC_MAX_INSTANCE), SB_BAC_P_OBJECT_IDENTIFIER, false, 0,
           &p, &len);
    CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, len, &v) > 0 &&
          v.v.oid.instance == DEV);
    /* State_Text by index and whole */
    r = rp(s, oid(SB_BAC_OBJ_MSI, 1), SB_BAC_P_STATE_TEXT, true, 2, &p, &len);
    CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_app(p, len, &v) > 0 &&
          v.v.str.len == 3 && !memcmp(v.v.str.p, "Low", 3));
    CHECK(is_err(rp(s, oid(SB_BAC_OBJ_MSI, 1), SB_BAC_P_STATE_TEXT, true, 4, &p, &len),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX));
    sb_bac_srv_free(s);
}

/* ---------- ReadPropertyMultiple ---------- */

/* Decodes an RPM-ACK into (oid, prop, ok/err) triples. */
struct rpm_out {
    struct sb_bac_oid oid;
    uint32_t prop;
    bool is_error;
    uint32_t cls, code;
};

static size_t rpm_decode(const uint8_t *p, size_t n, struct rpm_out *out, size_t max)
{
    struct sb_bac_rpm_result res;
    struct sb_bac_rpm_elem e;
    size_t cnt = 0;
    ssize_t k, m;

    for (size_t off = 0; off < n; off += (size_t)k) {
        if ((k = sb_bac_dec_rpm_result(p + off, n - off, &res)) <= 0)
            return (size_t)-1;
        for (size_t o = 0; o < res.list_len; o += (size_t)m) {
            if ((m = sb_bac_dec_rpm_elem(res.list + o, res.list_len - o, &e)) <= 0)
                return (size_t)-1;
            if (cnt < max)
                out[cnt] = (struct rpm_out){ res.oid, e.prop, e.is_error, e.err_class, e.err_code };
            cnt++;
        }
    }
    return cnt;
}

static struct rep rpm(struct sb_bac_srv *s, const struct sb_bac_rpm_spec *specs, size_t nspecs,
                      size_t cap)
{
    static uint8_t b[2048];
    size_t n = 0;

    for (size_t i = 0; i < nspecs; i++) {
        ssize_t k = sb_bac_enc_rpm_spec(b + n, sizeof(b) - n, &specs[i]);
        if (k < 0)
            abort();
        n += (size_t)k;
    }
    return conf_cap(s, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, b, n, NOW, cap);
}

static bool has_prop(const struct rpm_out *o, size_t n, uint32_t prop)
{
    for (size_t i = 0; i < n; i++)
        if (o[i].prop == prop && !o[i].is_error)
            return true;
    return false;
}

TEST(rpm)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_propref all = { SB_BAC_P_ALL, false, 0 }, req = { SB_BAC_P_REQUIRED, false, 0 },
                          opt = { SB_BAC_P_OPTIONAL, false, 0 };
    struct sb_bac_propref mixed[] = {
        { SB_BAC_P_PRESENT_VALUE, false, 0 }, { 9999, false, 0 }, { SB_BAC_P_OBJECT_NAME, true, 1 },
        { SB_BAC_P_PRIORITY_ARRAY, true, 16 }, { SB_BAC_P_STATUS_FLAGS, false, 0 }
    };
    struct rpm_out out[128];
    struct rep r;
    size_t n, npl;
    const uint8_t *p;
    struct sb_bac_value v;

    REQUIRE(s);
    /* ALL: the same properties as Property_List plus the four it omits */
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_AI, 1), .refs = &all, .nrefs = 1 },
            1, BIG);
    REQUIRE(r.pdu == SB_BAC_PDU_COMPLEX_ACK);
    n = rpm_decode(g_out, (size_t)r.n, out, 128);
    rp(s, oid(SB_BAC_OBJ_AI, 1), SB_BAC_P_PROPERTY_LIST, true, 0, &p, &npl);
    REQUIRE(sb_bac_dec_app(p, npl, &v) > 0);
    CHECK_EQ(n, v.v.u + 4);
    for (size_t i = 0; i < n && i < 128; i++)
        CHECK(!out[i].is_error && out[i].oid.instance == 1);
    CHECK(has_prop(out, n, SB_BAC_P_HIGH_LIMIT) && has_prop(out, n, SB_BAC_P_DESCRIPTION));
    /* REQUIRED: exactly clause 12.2's required set for an AI */
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_AI, 1), .refs = &req, .nrefs = 1 },
            1, BIG);
    n = rpm_decode(g_out, (size_t)r.n, out, 128);
    CHECK_EQ(n, 9);
    for (const uint32_t *q = req_common; *q; q++)
        CHECK(has_prop(out, n, *q));
    CHECK(has_prop(out, n, SB_BAC_P_UNITS) && !has_prop(out, n, SB_BAC_P_DESCRIPTION));
    /* OPTIONAL: none of the required ones */
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_AI, 1), .refs = &opt, .nrefs = 1 },
            1, BIG);
    n = rpm_decode(g_out, (size_t)r.n, out, 128);
    CHECK(n >= 10 && !has_prop(out, n, SB_BAC_P_PRESENT_VALUE) &&
          has_prop(out, n, SB_BAC_P_DESCRIPTION) && has_prop(out, n, SB_BAC_P_DEADBAND));
    /* mixed: per-property errors inside the ACK, and an unknown object */
    {
        struct sb_bac_rpm_spec specs[2] = {
            { .oid = oid(SB_BAC_OBJ_AO, 1), .refs = mixed, .nrefs = 5 },
            { .oid = oid(SB_BAC_OBJ_AO, 42), .refs = mixed, .nrefs = 2 }
        };
        r = rpm(s, specs, 2, BIG);
        REQUIRE(r.pdu == SB_BAC_PDU_COMPLEX_ACK);
        n = rpm_decode(g_out, (size_t)r.n, out, 128);
        REQUIRE(n == 7);
        CHECK(!out[0].is_error);
        CHECK(out[1].is_error && out[1].cls == SB_BAC_EC_PROPERTY &&
              out[1].code == SB_BAC_ERR_UNKNOWN_PROPERTY);
        CHECK(out[2].is_error && out[2].code == SB_BAC_ERR_PROPERTY_IS_NOT_AN_ARRAY);
        CHECK(!out[3].is_error && !out[4].is_error);
        CHECK(out[5].is_error && out[5].cls == SB_BAC_EC_OBJECT &&
              out[5].code == SB_BAC_ERR_UNKNOWN_OBJECT && out[5].oid.instance == 42);
        CHECK(out[6].is_error && out[6].code == SB_BAC_ERR_UNKNOWN_OBJECT);
    }
    /* ALL on a missing object: one error element for "all" */
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_BI, 9), .refs = &all, .nrefs = 1 },
            1, BIG);
    n = rpm_decode(g_out, (size_t)r.n, out, 128);
    CHECK(n == 1 && out[0].is_error && out[0].prop == SB_BAC_P_ALL);
    /* the whole Device with ALL does not fit 100 octets: Abort */
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_DEVICE, DEV), .refs = &all,
                                          .nrefs = 1 }, 1, 100);
    CHECK(r.pdu == SB_BAC_PDU_ABORT && r.reason == SB_BAC_AB_BUFFER_OVERFLOW && r.n == 0);
    r = rpm(s, &(struct sb_bac_rpm_spec){ .oid = oid(SB_BAC_OBJ_DEVICE, DEV), .refs = &all,
                                          .nrefs = 1 }, 1, BIG);
    n = rpm_decode(g_out, (size_t)r.n, out, 128);
    CHECK(n >= 27 && has_prop(out, n, SB_BAC_P_OBJECT_LIST) &&
          has_prop(out, n, SB_BAC_P_LOCAL_DATE));
    sb_bac_srv_free(s);
}

/* ---------- WriteProperty and commanding, clause 19.2 ---------- */

static double prio_slot(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t p)
{
    const uint8_t *q;
    size_t n;
    struct sb_bac_value v;
    struct rep r = rp(s, o, SB_BAC_P_PRIORITY_ARRAY, true, p, &q, &n);

    if (r.pdu != SB_BAC_PDU_COMPLEX_ACK || sb_bac_dec_app(q, n, &v) != (ssize_t)n)
        return -9999;
    return v.type == SB_BAC_NULL ? -1 : v.type == SB_BAC_REAL ? v.v.real : (double)v.v.u;
}

TEST(write_priority)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid ao = oid(SB_BAC_OBJ_AO, 1);
    struct sb_bac_srv_cmd cmd;
    double pv;

    REQUIRE(s);
    CHECK_EQ(rp_num(s, ao, SB_BAC_P_CURRENT_COMMAND_PRIORITY), -1);   /* NULL */
    CHECK(wp(s, ao, SB_BAC_P_PRESENT_VALUE, REALV(50), 8).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 50, 0);
    CHECK_EQ(rp_num(s, ao, SB_BAC_P_CURRENT_COMMAND_PRIORITY), 8);
    CHECK(wp(s, ao, SB_BAC_P_PRESENT_VALUE, REALV(60), 3).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 60, 0);
    /* no priority: 16 (clause 19.2.1) */
    CHECK(wp(s, ao, SB_BAC_P_PRESENT_VALUE, REALV(70), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 60, 0);
    CHECK_DBL(prio_slot(s, ao, 16), 70, 0);
    CHECK_DBL(prio_slot(s, ao, 8), 50, 0);
    CHECK_DBL(prio_slot(s, ao, 1), -1, 0);
    /* priority 6 behaves as any slot */
    CHECK(wp(s, ao, SB_BAC_P_PRESENT_VALUE, REALV(65), 6).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 60, 0);
    CHECK(wp(s, ao, SB_BAC_P_PRESENT_VALUE, NULLV, 3).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 65, 0);
    CHECK_EQ(rp_num(s, ao, SB_BAC_P_CURRENT_COMMAND_PRIORITY), 6);
    CHECK(sb_bac_srv_get_cmd(s, ao, &cmd) == 0 && cmd.active == ((1 << 5) | (1 << 7) | (1 << 15)) &&
          cmd.current == 6 && cmd.slot[7] == 50);
    wp(s, ao, SB_BAC_P_PRESENT_VALUE, NULLV, 6);
    wp(s, ao, SB_BAC_P_PRESENT_VALUE, NULLV, 8);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 70, 0);
    wp(s, ao, SB_BAC_P_PRESENT_VALUE, NULLV, 0);   /* relinquish 16 */
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 0, 0);   /* Relinquish_Default */
    CHECK(wp(s, ao, SB_BAC_P_RELINQUISH_DEFAULT, REALV(12.5f), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(sb_bac_srv_get_pv(s, ao, &pv) == 0 && pv == 12.5);
    /* the owner commands too; its relinquish default is set_pv */
    CHECK(sb_bac_srv_command(s, ao, 10, false, 33, NOW) == 0);
    CHECK_DBL(rp_num(s, ao, SB_BAC_P_PRESENT_VALUE), 33, 0);
    CHECK(sb_bac_srv_command(s, ao, 10, true, 0, NOW) == 0 && sb_bac_srv_get_pv(s, ao, &pv) == 0 &&
          pv == 12.5);
    CHECK(sb_bac_srv_command(s, ao, 17, false, 1, NOW) == SB_EINVAL);
    /* type and range checks, clause 15.9.2 */
    CHECK(is_err(wp(s, ao, SB_BAC_P_PRESENT_VALUE, ENUMV(1), 8), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_BO, 1), SB_BAC_P_PRESENT_VALUE, ENUMV(2), 8),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_BO, 1), SB_BAC_P_PRESENT_VALUE, REALV(1), 8),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE));
    CHECK(wp(s, oid(SB_BAC_OBJ_BO, 1), SB_BAC_P_PRESENT_VALUE, ENUMV(1), 8).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_BO, 1), SB_BAC_P_PRESENT_VALUE), 1);
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_MSO, 1), SB_BAC_P_PRESENT_VALUE, UNSV(0), 8),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_MSO, 1), SB_BAC_P_PRESENT_VALUE, UNSV(4), 8),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(wp(s, oid(SB_BAC_OBJ_MSO, 1), SB_BAC_P_PRESENT_VALUE, UNSV(3), 8).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, oid(SB_BAC_OBJ_MSO, 1), SB_BAC_P_PRESENT_VALUE), 3);
    /* commandable value object */
    CHECK(wp(s, oid(SB_BAC_OBJ_AV, 2), SB_BAC_P_PRESENT_VALUE, REALV(23), 9).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(prio_slot(s, oid(SB_BAC_OBJ_AV, 2), 9), 23, 0);
    /* read-only things */
    CHECK(is_err(wp(s, ao, SB_BAC_P_PRIORITY_ARRAY, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(is_err(wp(s, ao, SB_BAC_P_OBJECT_NAME, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(is_err(wp(s, ao, 9999, REALV(1), 0), SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY));
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_AO, 5), SB_BAC_P_PRESENT_VALUE, REALV(1), 0),
                 SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT));
    CHECK(is_err(wp(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_VENDOR_IDENTIFIER, UNSV(5), 0),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED));
    sb_bac_srv_free(s);
}

/* Inputs: Present_Value writable only out of service (clause 12.2.4). */
TEST(write_inputs_and_values)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid ai = oid(SB_BAC_OBJ_AI, 1), av1 = oid(SB_BAC_OBJ_AV, 1),
                      av3 = oid(SB_BAC_OBJ_AV, 3);
    size_t nb;

    REQUIRE(s);
    CHECK(is_err(wp(s, ai, SB_BAC_P_PRESENT_VALUE, REALV(22), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(sb_bac_srv_set_pv(s, ai, 21.5, NOW) == 0);
    CHECK_DBL(rp_num(s, ai, SB_BAC_P_PRESENT_VALUE), 21.5, 0);
    CHECK(wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, BOOLV(true), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_STATUS_FLAGS, &nb), 8);
    CHECK(wp(s, ai, SB_BAC_P_PRESENT_VALUE, REALV(25), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(sb_bac_srv_set_pv(s, ai, 19, NOW) == 0);   /* decoupled: kept for later */
    CHECK_DBL(rp_num(s, ai, SB_BAC_P_PRESENT_VALUE), 25, 0);
    CHECK(is_err(wp(s, ai, SB_BAC_P_PRESENT_VALUE, NULLV, 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    CHECK(wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, BOOLV(false), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ai, SB_BAC_P_PRESENT_VALUE), 19, 0);
    CHECK(is_err(wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    /* a writable value object takes writes, priority ignored */
    CHECK(wp(s, av1, SB_BAC_P_PRESENT_VALUE, REALV(14), 4).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, av1, SB_BAC_P_PRESENT_VALUE), 14, 0);
    /* a computed point (not writable) refuses */
    CHECK(is_err(wp(s, av3, SB_BAC_P_PRESENT_VALUE, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(sb_bac_srv_set_pv(s, av3, 7.25, NOW) == 0);
    CHECK_DBL(rp_num(s, av3, SB_BAC_P_PRESENT_VALUE), 7.25, 0);
    CHECK(sb_bac_srv_set_pv(s, oid(SB_BAC_OBJ_BI, 1), 2, NOW) == SB_ERANGE);
    CHECK(sb_bac_srv_set_pv(s, oid(SB_BAC_OBJ_MSI, 1), 1.5, NOW) == SB_ERANGE);
    CHECK(sb_bac_srv_set_pv(s, oid(SB_BAC_OBJ_BI, 9), 1, NOW) == SB_ENOENT);
    CHECK(sb_bac_srv_set_pv(s, oid(SB_BAC_OBJ_TREND_LOG, 1), 1, NOW) == SB_EINVAL);
    CHECK(wp(s, av1, SB_BAC_P_COV_INCREMENT, REALV(0.25f), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(is_err(wp(s, av1, SB_BAC_P_COV_INCREMENT, REALV(-1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    sb_bac_srv_free(s);
}

/* ---------- WritePropertyMultiple, clause 15.10 ---------- */

TEST(wpm_partial_failure)
{
    struct sb_bac_srv *s = mkdev(8);
    uint8_t v1[8], v2[8], v3[8], b[256];
    struct sb_bac_propval pv_ok = { .prop = SB_BAC_P_PRESENT_VALUE, .value = v1,
                                    .value_len = enc(v1, 8, REALV(40)), .priority = 5 };
    struct sb_bac_propval pv_bad = { .prop = SB_BAC_P_PRESENT_VALUE, .value = v2,
                                     .value_len = enc(v2, 8, ENUMV(9)) };
    struct sb_bac_propval pv_late = { .prop = SB_BAC_P_PRESENT_VALUE, .value = v3,
                                      .value_len = enc(v3, 8, REALV(41)), .priority = 4 };
    struct sb_bac_propval first[] = { pv_ok }, second[] = { pv_late, pv_bad }, third[] = { pv_late };
    struct sb_bac_wpm_spec specs[3] = {
        { .oid = oid(SB_BAC_OBJ_AO, 1), .vals = first, .nvals = 1 },
        { .oid = oid(SB_BAC_OBJ_BO, 1), .vals = second, .nvals = 2 },
        { .oid = oid(SB_BAC_OBJ_AV, 2), .vals = third, .nvals = 1 }
    };
    struct sb_bac_wpm_error e;
    size_t n = 0;
    struct rep r;

    REQUIRE(s);
    for (int i = 0; i < 3; i++)
        n += (size_t)sb_bac_enc_wpm_spec(b + n, sizeof(b) - n, &specs[i]);
    r = conf(s, SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, b, n);
    REQUIRE(r.pdu == SB_BAC_PDU_ERROR);
    REQUIRE(sb_bac_dec_wpm_error(g_out, (size_t)r.n, &e) == r.n);
    /* BO's first write is a REAL: that is the first failure */
    CHECK(e.err_class == SB_BAC_EC_PROPERTY && e.err_code == SB_BAC_ERR_INVALID_DATA_TYPE);
    CHECK(e.oid.type == SB_BAC_OBJ_BO && e.oid.instance == 1 && e.prop == SB_BAC_P_PRESENT_VALUE);
    /* the write before it stays; the one after never happened */
    CHECK_DBL(rp_num(s, oid(SB_BAC_OBJ_AO, 1), SB_BAC_P_PRESENT_VALUE), 40, 0);
    CHECK_DBL(rp_num(s, oid(SB_BAC_OBJ_AV, 2), SB_BAC_P_PRESENT_VALUE), 21, 0);
    /* all good: Simple-ACK and every write done */
    n = (size_t)sb_bac_enc_wpm_spec(b, sizeof(b), &specs[2]);
    CHECK(conf(s, SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, b, n).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, oid(SB_BAC_OBJ_AV, 2), SB_BAC_P_PRESENT_VALUE), 41, 0);
    /* malformed after a good spec: Reject, and nothing is written */
    n = (size_t)sb_bac_enc_wpm_spec(b, sizeof(b), &(struct sb_bac_wpm_spec){
        .oid = oid(SB_BAC_OBJ_AO, 1), .vals = (struct sb_bac_propval[]){ pv_late }, .nvals = 1 });
    b[n++] = 0x0C;   /* [0] context tag with 4 octets that are missing */
    r = conf(s, SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, b, n);
    CHECK(r.pdu == SB_BAC_PDU_REJECT);
    CHECK_DBL(rp_num(s, oid(SB_BAC_OBJ_AO, 1), SB_BAC_P_PRESENT_VALUE), 40, 0);
    /* unknown object in a WPM */
    n = (size_t)sb_bac_enc_wpm_spec(b, sizeof(b), &(struct sb_bac_wpm_spec){
        .oid = oid(SB_BAC_OBJ_AO, 9), .vals = first, .nvals = 1 });
    r = conf(s, SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, b, n);
    CHECK(r.pdu == SB_BAC_PDU_ERROR && sb_bac_dec_wpm_error(g_out, (size_t)r.n, &e) == r.n &&
          e.err_class == SB_BAC_EC_OBJECT && e.err_code == SB_BAC_ERR_UNKNOWN_OBJECT &&
          e.oid.instance == 9);
    sb_bac_srv_free(s);
}

/* ---------- COV, clause 13.1 / 13.14 ---------- */

struct sent {
    int n;                          /* notifications seen */
    int confirmed;                  /* last one's kind */
    uint8_t service;
    struct sb_bac_peer to;
    struct sb_bac_cov_notif cn;     /* last one decoded */
    double pv;                      /* its Present_Value */
    int flags;                      /* its Status_Flags */
    uint8_t body[256];
};

static void sender(void *ud, const struct sb_bac_peer *to, int confirmed, uint8_t service,
                   const uint8_t *body, size_t len)
{
    struct sent *c = ud;
    struct sb_bac_propval pv;
    struct sb_bac_value v;
    ssize_t k;

    c->n++;
    c->confirmed = confirmed;
    c->service = service;
    c->to = *to;
    c->pv = -9999;
    c->flags = -1;
    if (len > sizeof(c->body))
        return;
    memcpy(c->body, body, len);
    if (sb_bac_dec_cov_notif(c->body, len, &c->cn) != (ssize_t)len)
        return;
    for (size_t off = 0; off < c->cn.list_len; off += (size_t)k) {
        if ((k = sb_bac_dec_propval(c->cn.list + off, c->cn.list_len - off, &pv)) <= 0 ||
            sb_bac_dec_app(pv.value, pv.value_len, &v) <= 0)
            return;
        if (pv.prop == SB_BAC_P_PRESENT_VALUE)
            c->pv = v.type == SB_BAC_REAL ? v.v.real : (double)v.v.enumerated;
        if (pv.prop == SB_BAC_P_STATUS_FLAGS) {
            c->flags = 0;
            for (size_t i = 0; i < 4; i++)
                c->flags |= sb_bac_bit(&v.v.bits, i) << i;
        }
    }
}

static struct rep subscribe(struct sb_bac_srv *s, const struct sb_bac_peer *from, uint32_t pid,
                            struct sb_bac_oid o, int confirmed, int lifetime, int64_t now)
{
    struct sb_bac_subcov c = { .pid = pid, .oid = o, .has_confirmed = confirmed >= 0,
                               .confirmed = confirmed > 0, .has_lifetime = lifetime >= 0,
                               .lifetime = lifetime > 0 ? (uint32_t)lifetime : 0 };
    uint8_t b[32];
    ssize_t n = sb_bac_enc_subcov(b, sizeof(b), &c);
    struct rep r = { 0 };

    r.n = sb_bac_srv_confirmed(s, from, SB_BAC_SVC_SUBSCRIBE_COV, b, (size_t)n, now, g_out,
                               BIG, &r.pdu, &r.reason);
    if (r.pdu == SB_BAC_PDU_ERROR)
        sb_bac_dec_error(g_out, (size_t)r.n, &r.err);
    return r;
}

TEST(cov)
{
    struct sb_bac_srv *s = mkdev(3);
    struct sb_bac_oid ai = oid(SB_BAC_OBJ_AI, 1), bv = oid(SB_BAC_OBJ_BV, 1);
    struct sent c = { 0 };

    REQUIRE(s);
    sb_bac_srv_set_sender(s, sender, &c);
    CHECK(subscribe(s, &P1, 7, ai, 0, 60, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(c.n, 0);   /* the initial notification waits for the ACK to go out */
    sb_bac_srv_flush(s, NOW);
    CHECK_EQ(c.n, 1);
    CHECK(c.confirmed == 0 && c.service == SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION);
    CHECK(c.cn.pid == 7 && c.cn.device.instance == DEV && c.cn.oid.type == SB_BAC_OBJ_AI &&
          c.cn.time_remaining == 60 && c.to.ip == P1.ip);
    CHECK_DBL(c.pv, 20, 0);
    CHECK_EQ(c.flags, 0);
    sb_bac_srv_flush(s, NOW);
    CHECK_EQ(c.n, 1);   /* sent once */
    /* COV_Increment 0.5: 0.3 is not enough, 0.6 from the last sent is */
    sb_bac_srv_set_pv(s, ai, 20.3, NOW + 1000);
    CHECK_EQ(c.n, 1);
    sb_bac_srv_set_pv(s, ai, 20.6, NOW + 2000);
    CHECK_EQ(c.n, 2);
    CHECK_DBL(c.pv, 20.6, 1e-6);
    CHECK_EQ(c.cn.time_remaining, 58);
    sb_bac_srv_set_pv(s, ai, 20.2, NOW + 3000);
    CHECK_EQ(c.n, 2);   /* 0.4 below the last notified */
    /* Status_Flags change alone notifies (out of service, same value) */
    wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, BOOLV(true), 0);
    CHECK_EQ(c.n, 3);
    CHECK_EQ(c.flags, 8);
    /* binary: any change, confirmed notifications */
    CHECK(subscribe(s, &P1, 8, bv, 1, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    sb_bac_srv_flush(s, NOW);
    CHECK(c.n == 4 && c.confirmed == 1 && c.service == SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION &&
          c.cn.time_remaining == 0);
    sb_bac_srv_set_pv(s, bv, 0, NOW);
    CHECK(c.n == 5 && c.pv == 0);
    sb_bac_srv_set_pv(s, bv, 0, NOW);
    CHECK_EQ(c.n, 5);
    CHECK_EQ(sb_bac_srv_cov_count(s), 2);
    /* renewal keeps one subscription; a new process id is another */
    CHECK(subscribe(s, &P1, 8, bv, 1, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(sb_bac_srv_cov_count(s), 2);
    CHECK(subscribe(s, &P2, 8, bv, 0, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(sb_bac_srv_cov_count(s), 3);
    /* the table (3) is full */
    CHECK(is_err(subscribe(s, &P2, 9, bv, 0, 0, NOW), SB_BAC_EC_RESOURCES, 19));
    /* cancel, and cancel what does not exist */
    CHECK(subscribe(s, &P2, 8, bv, -1, -1, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(sb_bac_srv_cov_count(s), 2);
    CHECK(subscribe(s, &P2, 8, bv, -1, -1, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(sb_bac_srv_cov_count(s), 2);
    /* errors and rejects */
    CHECK(is_err(subscribe(s, &P1, 1, oid(SB_BAC_OBJ_AI, 50), 0, 0, NOW), SB_BAC_EC_OBJECT,
                 SB_BAC_ERR_UNKNOWN_OBJECT));
    CHECK(is_err(subscribe(s, &P1, 1, oid(SB_BAC_OBJ_TREND_LOG, 1), 0, 0, NOW), SB_BAC_EC_OBJECT,
                 SB_BAC_ERR_OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED));
    {
        struct rep r = subscribe(s, &P1, 1, ai, -1, 30, NOW);
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
    }
    /* expiry: the AI subscription (60 s) ends, the indefinite one stays */
    sb_bac_srv_tick(s, NOW + 61000);
    CHECK_EQ(sb_bac_srv_cov_count(s), 1);
    c.n = 0;
    sb_bac_srv_set_pv(s, ai, 99, NOW + 62000);
    wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, BOOLV(false), 0);
    CHECK_EQ(c.n, 0);
    sb_bac_srv_free(s);
}

/* ---------- ReadRange over a Trend Log, clause 15.8 ---------- */

struct rr_out {
    struct rep r;
    struct sb_bac_rr_ack ack;
    double v[16];                   /* item values */
    int n;                          /* items decoded */
};

static struct rr_out read_range(struct sb_bac_srv *s, const struct sb_bac_rr *req, size_t cap)
{
    struct rr_out o = { 0 };
    struct sb_bac_logrec lr;
    uint8_t b[64];
    ssize_t n = sb_bac_enc_rr_req(b, sizeof(b), req), k;

    if (n < 0)
        abort();
    o.r = conf_cap(s, SB_BAC_SVC_READ_RANGE, b, (size_t)n, NOW, cap);
    if (o.r.pdu != SB_BAC_PDU_COMPLEX_ACK || sb_bac_dec_rr_ack(g_out, (size_t)o.r.n, &o.ack) != o.r.n)
        return o;
    for (size_t off = 0; off < o.ack.items_len && o.n < 16; off += (size_t)k) {
        if ((k = sb_bac_dec_logrec(o.ack.items + off, o.ack.items_len - off, &lr)) <= 0)
            break;
        o.v[o.n++] = lr.v;
    }
    return o;
}

TEST(read_range)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid tl = oid(SB_BAC_OBJ_TREND_LOG, 1);
    int64_t t0 = ms_of(2026, 11, 23, 8, 0);
    struct sb_bac_rr q = { .oid = tl, .prop = SB_BAC_P_LOG_BUFFER };
    struct rr_out o;
    const uint8_t *p;
    size_t n;

    REQUIRE(s);
    /* 15 records in a 10-record buffer: 5..14 remain, sequence 6..15 */
    for (int i = 0; i < 15; i++) {
        struct sb_bac_srv_rec r = { .ts_ms = t0 + i * 60000LL, .kind = SB_BAC_LOG_REAL, .v = i,
                                    .has_status = true };
        CHECK(sb_bac_srv_trend_append(s, 1, &r) == 0);
    }
    CHECK_EQ(rp_num(s, tl, SB_BAC_P_RECORD_COUNT), 10);
    CHECK_EQ(rp_num(s, tl, SB_BAC_P_TOTAL_RECORD_COUNT), 15);
    CHECK(is_err(rp(s, tl, SB_BAC_P_LOG_BUFFER, false, 0, &p, &n), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_READ_ACCESS_DENIED));
    /* whole buffer */
    o = read_range(s, &q, BIG);
    CHECK(o.n == 10 && o.ack.count == 10 && o.v[0] == 5 && o.v[9] == 14);
    CHECK_EQ(o.ack.flags, SB_BAC_RR_FIRST | SB_BAC_RR_LAST);
    CHECK(!o.ack.has_first_seq);
    /* by position */
    q.kind = SB_BAC_RR_POSITION;
    q.ref_index = 1;
    q.count = 3;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 3 && o.v[0] == 5 && o.v[2] == 7 && o.ack.flags == SB_BAC_RR_FIRST);
    q.ref_index = 10;
    q.count = -3;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 3 && o.v[0] == 12 && o.v[2] == 14 && o.ack.flags == SB_BAC_RR_LAST);
    q.ref_index = 11;
    o = read_range(s, &q, BIG);
    CHECK(o.r.pdu == SB_BAC_PDU_COMPLEX_ACK && o.ack.count == 0 && o.ack.flags == 0);
    /* by sequence number */
    q.kind = SB_BAC_RR_SEQUENCE;
    q.ref_index = 12;
    q.count = 2;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 2 && o.v[0] == 11 && o.v[1] == 12 && o.ack.has_first_seq &&
          o.ack.first_seq == 12 && o.ack.flags == 0);
    q.count = -20;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 7 && o.v[0] == 5 && o.ack.first_seq == 6 && o.ack.flags == SB_BAC_RR_FIRST);
    q.ref_index = 3;   /* overwritten long ago */
    o = read_range(s, &q, BIG);
    CHECK(o.r.pdu == SB_BAC_PDU_COMPLEX_ACK && o.ack.count == 0);
    /* by time: strictly after / before the reference */
    q.kind = SB_BAC_RR_TIME;
    q.ref_time = (struct sb_bac_datetime){ { 126, 11, 23, 255 }, { 8, 10, 0, 0 } };   /* record 10 */
    q.count = 2;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 2 && o.v[0] == 11 && o.v[1] == 12 && o.ack.first_seq == 12);
    q.count = -2;
    o = read_range(s, &q, BIG);
    CHECK(o.n == 2 && o.v[0] == 8 && o.v[1] == 9);
    q.ref_time.time.hour = 9;   /* after everything */
    q.count = 5;
    o = read_range(s, &q, BIG);
    CHECK(o.r.pdu == SB_BAC_PDU_COMPLEX_ACK && o.ack.count == 0);
    /* too little room: fewer items and moreItems */
    q.kind = SB_BAC_RR_POSITION;
    q.ref_index = 1;
    q.count = 10;
    o = read_range(s, &q, 200);
    CHECK(o.r.pdu == SB_BAC_PDU_COMPLEX_ACK && o.n > 0 && o.n < 10 &&
          (o.ack.flags & SB_BAC_RR_MORE) && (o.ack.flags & SB_BAC_RR_FIRST) &&
          !(o.ack.flags & SB_BAC_RR_LAST));
    /* errors */
    q.count = 0;
    o = read_range(s, &q, BIG);
    CHECK(o.r.pdu == SB_BAC_PDU_REJECT && o.r.reason == SB_BAC_RJ_PARAMETER_OUT_OF_RANGE);
    q.count = 1;
    q.oid = oid(SB_BAC_OBJ_AI, 1);
    q.prop = SB_BAC_P_PRESENT_VALUE;
    CHECK(is_err(read_range(s, &q, BIG).r, SB_BAC_EC_SERVICES, 22));
    q.oid = oid(SB_BAC_OBJ_TREND_LOG, 2);
    CHECK(is_err(read_range(s, &q, BIG).r, SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT));
    /* Record_Count := 0 empties; Stop_When_Full disables at full */
    CHECK(wp(s, tl, SB_BAC_P_RECORD_COUNT, UNSV(0), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, tl, SB_BAC_P_RECORD_COUNT), 0);
    CHECK(is_err(wp(s, tl, SB_BAC_P_RECORD_COUNT, UNSV(3), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(wp(s, tl, SB_BAC_P_STOP_WHEN_FULL, BOOLV(true), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    for (int i = 0; i < 10; i++) {
        struct sb_bac_srv_rec r = { .ts_ms = t0 + i, .kind = SB_BAC_LOG_BOOL, .v = i % 2 };
        CHECK(sb_bac_srv_trend_append(s, 1, &r) == 0);
    }
    CHECK_EQ(rp_num(s, tl, SB_BAC_P_ENABLE), 0);
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_NULL }) == SB_EAGAIN);
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_ANY }) == SB_EINVAL);
    /* records ReadRange could not encode are refused at the door */
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_REAL, .v = 1e300 }) == SB_EINVAL);
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_ENUM, .v = 1.5 }) == SB_EINVAL);
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_STATUS, .v = 1e12 }) == SB_EINVAL);
    CHECK(sb_bac_srv_trend_append(s, 1, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_UNSIGNED, .v = -1 }) == SB_EINVAL);
    CHECK(sb_bac_srv_trend_append(s, 2, &(struct sb_bac_srv_rec){ .kind = SB_BAC_LOG_NULL }) == SB_ENOENT);
    CHECK_EQ(rp_num(s, tl, SB_BAC_P_TOTAL_RECORD_COUNT), 25);
    sb_bac_srv_free(s);
}

/* ---------- Schedule and Calendar, clause 12.24 / 12.9 ---------- */

static struct sb_bac_time hm(int h, int m)
{
    return (struct sb_bac_time){ (uint8_t)h, (uint8_t)m, 0, 0 };
}

static double eval_at(struct sb_bac_srv *s, int y, int mo, int d, int h, int mi)
{
    struct sb_bac_datetime dt = { { (uint8_t)(y - 1900), (uint8_t)mo, (uint8_t)d, 255 },
                                  hm(h, mi) };
    struct sb_bac_value v;

    if (sb_bac_srv_sched_eval(s, 1, &dt, &v) < 0)
        return -9999;
    return v.type == SB_BAC_REAL ? v.v.real : -1;
}

TEST(schedule)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid so = oid(SB_BAC_OBJ_SCHEDULE, 1), co = oid(SB_BAC_OBJ_CALENDAR, 1);
    struct sb_bac_timevalue work[] = { { hm(8, 0), REALV(22) }, { hm(18, 0), NULLV } };
    struct sb_bac_timevalue xmas[] = { { hm(0, 0), REALV(15) } };
    struct sb_bac_timevalue cal_tv[] = { { hm(9, 0), REALV(30) }, { hm(11, 0), NULLV } };
    struct sb_bac_special ex[2] = {
        { .entry = { .kind = SB_BAC_CAL_DATE, .date = { 126, 12, 25, 255 } }, .tv = xmas,
          .ntv = 1, .priority = 10 },
        { .by_ref = true, .calendar = co, .tv = cal_tv, .ntv = 2, .priority = 5 }
    };
    struct sb_bac_calentry dates[2] = {
        { .kind = SB_BAC_CAL_DATE, .date = { 255, 12, 25, 255 } },
        /* the fourth Thursday of November */
        { .kind = SB_BAC_CAL_WEEKNDAY, .wnd = { 11, 4, 4 } }
    };
    static uint8_t b[1024];
    size_t n = 0;
    struct sb_bac_value v;
    const uint8_t *p;
    size_t len;
    bool on;

    REQUIRE(s);
    /* Weekly_Schedule: Monday..Friday work hours, weekend empty */
    for (int d = 0; d < 7; d++)
        n += (size_t)sb_bac_enc_daily(b + n, sizeof(b) - n, work, d < 5 ? 2 : 0);
    CHECK(wp_raw(s, so, SB_BAC_P_WEEKLY_SCHEDULE, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    n = 0;
    for (int i = 0; i < 2; i++)
        n += (size_t)sb_bac_enc_special(b + n, sizeof(b) - n, &ex[i]);
    CHECK(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    n = 0;
    for (int i = 0; i < 2; i++)
        n += (size_t)sb_bac_enc_calentry(b + n, sizeof(b) - n, &dates[i]);
    CHECK(wp_raw(s, co, SB_BAC_P_DATE_LIST, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);

    CHECK_DBL(eval_at(s, 2026, 11, 23, 10, 0), 22, 0);    /* Monday */
    CHECK_DBL(eval_at(s, 2026, 11, 23, 7, 59), 18, 0);    /* before the first entry */
    CHECK_DBL(eval_at(s, 2026, 11, 23, 19, 0), 18, 0);    /* NULL: default */
    CHECK_DBL(eval_at(s, 2026, 11, 28, 10, 0), 18, 0);    /* Saturday */
    /* Christmas (a Friday): the date exception (priority 10) from 00:00,
     * the calendar one (priority 5) wins 09:00-11:00 */
    CHECK_DBL(eval_at(s, 2026, 12, 25, 8, 30), 15, 0);
    CHECK_DBL(eval_at(s, 2026, 12, 25, 10, 0), 30, 0);
    CHECK_DBL(eval_at(s, 2026, 12, 25, 12, 0), 15, 0);
    /* Thanksgiving 2026-11-26 (4th Thursday): calendar only */
    CHECK_DBL(eval_at(s, 2026, 11, 26, 10, 0), 30, 0);
    CHECK_DBL(eval_at(s, 2026, 11, 26, 12, 0), 22, 0);
    CHECK_DBL(eval_at(s, 2026, 11, 19, 10, 0), 22, 0);    /* 3rd Thursday: a work day */
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 126, 11, 26, 255 }, &on) == 0 && on);
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 127, 12, 25, 255 }, &on) == 0 && on);
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 126, 11, 25, 255 }, &on) == 0 && !on);
    /* Present_Value over ReadProperty follows the device clock (Mon 10:00) */
    CHECK_DBL(rp_num(s, so, SB_BAC_P_PRESENT_VALUE), 22, 0);
    CHECK_EQ(rp_num(s, co, SB_BAC_P_PRESENT_VALUE), 0);
    /* Effective_Period that excludes today: Schedule_Default */
    n = (size_t)sb_bac_enc_daterange(b, sizeof(b), &(struct sb_bac_daterange){
        { 127, 1, 1, 255 }, { 127, 12, 31, 255 } });
    CHECK(wp_raw(s, so, SB_BAC_P_EFFECTIVE_PERIOD, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2026, 11, 23, 10, 0), 18, 0);
    CHECK_DBL(eval_at(s, 2027, 11, 22, 10, 0), 22, 0);
    /* arrays: Weekly_Schedule[0] = 7, [6] is Saturday's empty day */
    CHECK(rp(s, so, SB_BAC_P_WEEKLY_SCHEDULE, true, 0, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          sb_bac_dec_app(p, len, &v) > 0 && v.v.u == 7);
    CHECK(rp(s, so, SB_BAC_P_WEEKLY_SCHEDULE, true, 6, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          len == 2 && p[0] == 0x0E && p[1] == 0x0F);
    CHECK(rp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 0, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          sb_bac_dec_app(p, len, &v) > 0 && v.v.u == 2);
    CHECK(is_err(rp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 3, &p, &len), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_ARRAY_INDEX));
    /* one day by index: Saturday gets work hours */
    n = (size_t)sb_bac_enc_daily(b, sizeof(b), work, 2);
    CHECK(wp_raw(s, so, SB_BAC_P_WEEKLY_SCHEDULE, true, 6, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2027, 11, 27, 10, 0), 22, 0);
    /* garbage and wrong counts are refused, nothing changes */
    CHECK(is_err(wp_raw(s, so, SB_BAC_P_WEEKLY_SCHEDULE, false, 0, b, n, 0, NOW),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE));
    CHECK(is_err(wp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    CHECK(is_err(wp(s, so, SB_BAC_P_PRIORITY_FOR_WRITING, UNSV(17), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(rp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 0, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          sb_bac_dec_app(p, len, &v) > 0 && v.v.u == 2);
    /* Schedule_Default and list of references */
    CHECK(wp(s, so, SB_BAC_P_SCHEDULE_DEFAULT, REALV(16), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2026, 11, 23, 10, 0), 16, 0);
    {
        uint8_t r[16];
        struct sb_bac_value a = { .type = SB_BAC_OBJECT_ID, .v.oid = oid(SB_BAC_OBJ_AV, 2) };
        size_t rn = (size_t)sb_bac_enc_ctx(r, 16, 0, &a);
        rn += (size_t)sb_bac_enc_ctx(r + rn, 16 - rn, 1, &ENUMV(SB_BAC_P_PRESENT_VALUE));
        CHECK(wp_raw(s, so, SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, false, 0, r, rn, 0, NOW).pdu ==
              SB_BAC_PDU_SIMPLE_ACK);
        CHECK(rp(s, so, SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, false, 0, &p, &len).pdu ==
                  SB_BAC_PDU_COMPLEX_ACK && len == rn && !memcmp(p, r, rn));
    }
    /* Present_Value is writable only out of service */
    CHECK(is_err(wp(s, so, SB_BAC_P_PRESENT_VALUE, REALV(5), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    wp(s, so, SB_BAC_P_OUT_OF_SERVICE, BOOLV(true), 0);
    CHECK(wp(s, so, SB_BAC_P_PRESENT_VALUE, REALV(5), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, so, SB_BAC_P_PRESENT_VALUE), 5, 0);
    sb_bac_srv_free(s);
}

/* Exception_Schedule elements by index, Date_List ranges, references. */
TEST(schedule_arrays)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid so = oid(SB_BAC_OBJ_SCHEDULE, 1), co = oid(SB_BAC_OBJ_CALENDAR, 1);
    struct sb_bac_timevalue a[] = { { hm(6, 0), REALV(10) } }, b2[] = { { hm(6, 0), REALV(11) } };
    struct sb_bac_special ex[2] = {
        { .entry = { .kind = SB_BAC_CAL_RANGE, .range = { { 126, 12, 1, 255 }, { 126, 12, 31, 255 } } },
          .tv = a, .ntv = 1, .priority = 8 },
        { .entry = { .kind = SB_BAC_CAL_WEEKNDAY, .wnd = { 255, 255, 7 } }, .tv = b2, .ntv = 1,
          .priority = 9 }
    };
    struct sb_bac_special repl = { .entry = { .kind = SB_BAC_CAL_WEEKNDAY, .wnd = { 255, 6, 255 } },
                                   .tv = b2, .ntv = 1, .priority = 3 };
    struct sb_bac_calentry open_end = { .kind = SB_BAC_CAL_RANGE,
                                        .range = { { 126, 12, 20, 255 }, { 255, 255, 255, 255 } } };
    uint8_t b[512], one[128];
    size_t n = 0, on;
    const uint8_t *p;
    size_t len;
    bool hit;

    REQUIRE(s);
    for (int i = 0; i < 2; i++)
        n += (size_t)sb_bac_enc_special(b + n, sizeof(b) - n, &ex[i]);
    CHECK(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2026, 12, 2, 7, 0), 10, 0);      /* in the December range */
    CHECK_DBL(eval_at(s, 2026, 11, 29, 7, 0), 11, 0);     /* a Sunday in November */
    CHECK_DBL(eval_at(s, 2026, 12, 6, 7, 0), 10, 0);      /* Sunday in December: 8 beats 9 */
    /* element 2 read back byte for byte, then replaced by index */
    on = (size_t)sb_bac_enc_special(one, sizeof(one), &ex[1]);
    CHECK(rp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 2, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          len == on && !memcmp(p, one, on));
    on = (size_t)sb_bac_enc_special(one, sizeof(one), &repl);
    CHECK(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 2, one, on, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2026, 11, 22, 7, 0), 18, 0);     /* the Sunday rule is gone */
    CHECK_DBL(eval_at(s, 2026, 11, 29, 7, 0), 11, 0);     /* Nov 24-30: the last 7 days */
    CHECK_DBL(eval_at(s, 2026, 12, 27, 7, 0), 11, 0);     /* last 7 days: priority 3 wins */
    CHECK(rp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 2, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          len == on && !memcmp(p, one, on));
    CHECK(is_err(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 3, one, on, 0, NOW),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX));
    CHECK(is_err(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 0, one, on, 0, NOW),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(is_err(wp(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    {   /* one element by index must be one BACnetSpecialEvent */
        uint8_t two[256];
        memcpy(two, one, on);
        memcpy(two + on, one, on);
        CHECK(is_err(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, true, 1, two, 2 * on, 0, NOW),
                     SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE));
    }
    CHECK(is_err(wp_raw(s, so, SB_BAC_P_WEEKLY_SCHEDULE, true, 0, one, on, 0, NOW),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED));
    CHECK(is_err(wp_raw(s, so, SB_BAC_P_WEEKLY_SCHEDULE, true, 8, one, on, 0, NOW),
                 SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX));
    /* a Date_List range open at its end */
    n = (size_t)sb_bac_enc_calentry(b, sizeof(b), &open_end);
    CHECK(wp_raw(s, co, SB_BAC_P_DATE_LIST, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 130, 1, 1, 255 }, &hit) == 0 && hit);
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 126, 12, 19, 255 }, &hit) == 0 && !hit);
    CHECK(sb_bac_srv_cal_eval(s, 1, &(struct sb_bac_date){ 126, 13, 19, 255 }, &hit) == SB_EINVAL);
    CHECK(rp(s, co, SB_BAC_P_DATE_LIST, false, 0, &p, &len).pdu == SB_BAC_PDU_COMPLEX_ACK &&
          len == n && !memcmp(p, b, n));
    /* references: a device identifier must name a Device */
    {
        struct sb_bac_value v0 = { .type = SB_BAC_OBJECT_ID, .v.oid = oid(SB_BAC_OBJ_AV, 2) };
        struct sb_bac_value v3 = { .type = SB_BAC_OBJECT_ID, .v.oid = oid(SB_BAC_OBJ_DEVICE, 9) };
        size_t rn = (size_t)sb_bac_enc_ctx(b, 64, 0, &v0);
        rn += (size_t)sb_bac_enc_ctx(b + rn, 64, 1, &ENUMV(SB_BAC_P_PRESENT_VALUE));
        rn += (size_t)sb_bac_enc_ctx(b + rn, 64, 3, &v3);
        CHECK(wp_raw(s, so, SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, false, 0, b, rn, 0, NOW).pdu ==
              SB_BAC_PDU_SIMPLE_ACK);
        v3.v.oid.type = SB_BAC_OBJ_AV;
        rn -= 5;
        rn += (size_t)sb_bac_enc_ctx(b + rn, 64, 3, &v3);
        CHECK(is_err(wp_raw(s, so, SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, false, 0, b, rn, 0, NOW),
                     SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE));
    }
    CHECK(is_err(wp(s, so, SB_BAC_P_OBJECT_NAME, REALV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    /* equal eventPriority: the earlier entry wins (clause 12.24.4) */
    ex[1] = ex[0];
    ex[1].tv = b2;
    n = 0;
    for (int i = 0; i < 2; i++)
        n += (size_t)sb_bac_enc_special(b + n, sizeof(b) - n, &ex[i]);
    CHECK(wp_raw(s, so, SB_BAC_P_EXCEPTION_SCHEDULE, false, 0, b, n, 0, NOW).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(eval_at(s, 2026, 12, 2, 7, 0), 10, 0);
    CHECK(wp(s, so, SB_BAC_P_PRIORITY_FOR_WRITING, UNSV(9), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, so, SB_BAC_P_PRIORITY_FOR_WRITING), 9);
    sb_bac_srv_free(s);
}

/* The alarm configuration a client may change. */
TEST(alarm_writes)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid ai = oid(SB_BAC_OBJ_AI, 1);
    uint8_t bits = 0x40;   /* B'01': highLimitEnable only */
    struct sb_bac_value le = { .type = SB_BAC_BIT_STRING, .v.bits = { &bits, 2 } };
    uint8_t three = 0xF0;   /* four bits set: one too many */
    struct sb_bac_value ee = { .type = SB_BAC_BIT_STRING, .v.bits = { &three, 4 } };
    size_t nb;

    REQUIRE(s);
    CHECK(wp(s, ai, SB_BAC_P_LIMIT_ENABLE, le, 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_LIMIT_ENABLE, &nb), 2);
    sb_bac_srv_set_pv(s, ai, 5, NOW);   /* below Low_Limit, but it is disabled */
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_NORMAL);
    CHECK(wp(s, ai, SB_BAC_P_LOW_LIMIT, REALV(2), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_DBL(rp_num(s, ai, SB_BAC_P_LOW_LIMIT), 2, 0);
    CHECK(is_err(wp(s, ai, SB_BAC_P_DEADBAND, REALV(-1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(wp(s, ai, SB_BAC_P_DEADBAND, REALV(2), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(is_err(wp(s, ai, SB_BAC_P_EVENT_ENABLE, ee, 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));   /* a fourth bit set */
    ee.v.bits.nbits = 3;
    three = 0x80;   /* to-offnormal only */
    CHECK(wp(s, ai, SB_BAC_P_EVENT_ENABLE, ee, 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_EVENT_ENABLE, &nb), 1);
    CHECK(is_err(wp(s, ai, SB_BAC_P_NOTIFY_TYPE, ENUMV(2), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_VALUE_OUT_OF_RANGE));
    CHECK(wp(s, ai, SB_BAC_P_NOTIFY_TYPE, ENUMV(1), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(wp(s, ai, SB_BAC_P_NOTIFICATION_CLASS, UNSV(4), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(wp(s, ai, SB_BAC_P_TIME_DELAY, UNSV(30), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_TIME_DELAY), 30);
    CHECK(is_err(wp(s, ai, SB_BAC_P_ACKED_TRANSITIONS, le, 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    /* only transitions enabled in Event_Enable wait for an acknowledgment */
    sb_bac_srv_set_pv(s, ai, 40, NOW);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 6);
    sb_bac_srv_set_pv(s, ai, 20, NOW);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 6);
    /* Reliability: writable out of service only, and it drives FAULT */
    CHECK(is_err(wp(s, ai, SB_BAC_P_RELIABILITY, ENUMV(7), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_WRITE_ACCESS_DENIED));
    wp(s, ai, SB_BAC_P_OUT_OF_SERVICE, BOOLV(true), 0);
    CHECK(wp(s, ai, SB_BAC_P_RELIABILITY, ENUMV(7), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_FAULT);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_STATUS_FLAGS, &nb), 1 | 2 | 8);
    CHECK(is_err(wp(s, ai, SB_BAC_P_HIGH_LIMIT, UNSV(1), 0), SB_BAC_EC_PROPERTY,
                 SB_BAC_ERR_INVALID_DATA_TYPE));
    sb_bac_srv_free(s);
}

/* ---------- intrinsic alarms, GetEventInformation, AcknowledgeAlarm ---------- */

struct gei_out {
    struct rep r;
    int n;
    bool more;
    struct sb_bac_event_summary sum[40];
};

static struct gei_out gei(struct sb_bac_srv *s, bool has_last, struct sb_bac_oid last)
{
    struct sb_bac_gei_req req = { has_last, last };
    struct gei_out o = { 0 };
    struct sb_bac_gei_ack ack;
    uint8_t b[16];
    ssize_t n = sb_bac_enc_gei_req(b, sizeof(b), &req), k;

    o.r = conf(s, SB_BAC_SVC_GET_EVENT_INFORMATION, b, (size_t)n);
    if (o.r.pdu != SB_BAC_PDU_COMPLEX_ACK || sb_bac_dec_gei_ack(g_out, (size_t)o.r.n, &ack) != o.r.n)
        return o;
    o.more = ack.more;
    for (size_t off = 0; off < ack.list_len && o.n < 40; off += (size_t)k)
        if ((k = sb_bac_dec_event_summary(ack.list + off, ack.list_len - off, &o.sum[o.n++])) <= 0)
            break;
    return o;
}

static struct rep ack_alarm(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t state,
                            const struct sb_bac_timestamp *ts)
{
    struct sb_bac_ackalarm a = { .pid = 1, .oid = o, .state = state, .stamp = *ts,
                                 .source = { SB_BAC_CS_UTF8, (const uint8_t *)"op", 2 },
                                 .when = { .kind = SB_BAC_TS_SEQ, .seq = 1 } };
    uint8_t b[128];
    ssize_t n = sb_bac_enc_ackalarm(b, sizeof(b), &a);

    return conf(s, SB_BAC_SVC_ACKNOWLEDGE_ALARM, b, (size_t)n);
}

/* Event_Time_Stamps[i] of an object. */
static struct sb_bac_timestamp stamp_of(struct sb_bac_srv *s, struct sb_bac_oid o, uint32_t i)
{
    struct sb_bac_timestamp ts = { 0 };
    const uint8_t *p;
    size_t n;

    if (rp(s, o, SB_BAC_P_EVENT_TIME_STAMPS, true, i, &p, &n).pdu == SB_BAC_PDU_COMPLEX_ACK)
        sb_bac_dec_timestamp(p, n, &ts);
    return ts;
}

TEST(alarms)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_oid ai = oid(SB_BAC_OBJ_AI, 1);
    struct sb_bac_timestamp ts, bad;
    struct gei_out g;
    uint32_t es;
    uint8_t sf;
    size_t nb;

    REQUIRE(s);
    g = gei(s, false, ai);
    CHECK(g.r.pdu == SB_BAC_PDU_COMPLEX_ACK && g.n == 0 && !g.more);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 7);
    /* above High_Limit: HIGH_LIMIT, in alarm, to-offnormal awaits an ack */
    sb_bac_srv_set_pv(s, ai, 35, NOW + 5000);
    CHECK(sb_bac_srv_get_status(s, ai, &es, &sf) == 0 && es == SB_BAC_ES_HIGH_LIMIT && sf == 1);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_HIGH_LIMIT);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 6);
    ts = stamp_of(s, ai, 1);
    CHECK(ts.kind == SB_BAC_TS_DATETIME && ts.dt.time.hour == 10 && ts.dt.time.sec == 5 &&
          ts.dt.date.day == 23);
    g = gei(s, false, ai);
    REQUIRE(g.n == 1);
    CHECK(g.sum[0].oid.type == SB_BAC_OBJ_AI && g.sum[0].event_state == SB_BAC_ES_HIGH_LIMIT &&
          g.sum[0].acked == 6 && g.sum[0].enable == 7 && g.sum[0].priorities[0] == 100 &&
          g.sum[0].stamps[0].kind == SB_BAC_TS_DATETIME && g.sum[0].stamps[0].dt.time.sec == 5);
    /* the deadband holds the state until below High_Limit - Deadband */
    sb_bac_srv_set_pv(s, ai, 29.5, NOW + 6000);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_HIGH_LIMIT);
    sb_bac_srv_set_pv(s, ai, 28, NOW + 7000);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_NORMAL);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 2);   /* to-fault only */
    g = gei(s, false, ai);
    CHECK(g.n == 1 && g.sum[0].event_state == SB_BAC_ES_NORMAL);   /* unacked, still listed */
    /* AcknowledgeAlarm: wrong time stamp, then right, then already done */
    bad = ts;
    bad.dt.time.sec = 59;
    CHECK(is_err(ack_alarm(s, ai, SB_BAC_ES_HIGH_LIMIT, &bad), SB_BAC_EC_SERVICES, 14));
    CHECK(ack_alarm(s, ai, SB_BAC_ES_HIGH_LIMIT, &ts).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_bits(s, ai, SB_BAC_P_ACKED_TRANSITIONS, &nb), 3);
    CHECK(is_err(ack_alarm(s, ai, SB_BAC_ES_HIGH_LIMIT, &ts), SB_BAC_EC_SERVICES,
                 SB_BAC_ERR_INVALID_EVENT_STATE));
    ts = stamp_of(s, ai, 3);
    CHECK(ack_alarm(s, ai, SB_BAC_ES_NORMAL, &ts).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK(ack_alarm(s, ai, SB_BAC_ES_NORMAL, &ts).pdu == SB_BAC_PDU_SIMPLE_ACK);   /* harmless */
    g = gei(s, false, ai);
    CHECK(g.n == 0);
    CHECK(is_err(ack_alarm(s, oid(SB_BAC_OBJ_AO, 1), SB_BAC_ES_NORMAL, &ts), SB_BAC_EC_OBJECT, 74));
    CHECK(is_err(ack_alarm(s, oid(SB_BAC_OBJ_AI, 3), SB_BAC_ES_NORMAL, &ts), SB_BAC_EC_OBJECT,
                 SB_BAC_ERR_UNKNOWN_OBJECT));
    /* below Low_Limit, straight to high, then a fault */
    sb_bac_srv_set_pv(s, ai, 5, NOW);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_LOW_LIMIT);
    sb_bac_srv_set_pv(s, ai, 31, NOW);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_HIGH_LIMIT);
    sb_bac_srv_set_reliability(s, ai, 7 /* unreliable-other */, NOW);
    CHECK(sb_bac_srv_get_status(s, ai, &es, &sf) == 0 && es == SB_BAC_ES_FAULT && sf == 3);
    sb_bac_srv_set_reliability(s, ai, 0, NOW);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_HIGH_LIMIT);
    /* limits are writable; disabling the high limit returns to normal */
    CHECK(wp(s, ai, SB_BAC_P_HIGH_LIMIT, REALV(40), 0).pdu == SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(rp_num(s, ai, SB_BAC_P_EVENT_STATE), SB_BAC_ES_NORMAL);
    sb_bac_srv_free(s);
}

/* More alarms than one answer carries: lastReceivedObjectIdentifier pages. */
TEST(gei_paging)
{
    struct sb_bac_srv *s = mkdev(8);
    struct gei_out g;
    int total = 0, pages = 0;
    struct sb_bac_oid last = { 0, 0 };
    bool has_last = false;

    REQUIRE(s);
    for (uint32_t i = 0; i < 45; i++) {
        char name[16];
        struct sb_bac_srv_obj_cfg c = { .type = SB_BAC_OBJ_AV, .instance = 100 + i, .name = name,
                                        .flags = SB_BAC_SRV_ALARM, .initial = 50,
                                        .high_limit = 40, .low_limit = 0,
                                        .limit_enable = SB_BAC_SRV_HIGH_LIMIT, .event_enable = 7 };
        snprintf(name, sizeof(name), "AL-%u", i);
        REQUIRE(sb_bac_srv_add(s, &c, NOW) == 0);   /* born in alarm */
    }
    do {
        g = gei(s, has_last, last);
        REQUIRE(g.r.pdu == SB_BAC_PDU_COMPLEX_ACK && g.n > 0);
        for (int i = 0; i < g.n; i++)
            CHECK(g.sum[i].oid.instance == 100u + (uint32_t)total + (uint32_t)i);
        total += g.n;
        last = g.sum[g.n - 1].oid;
        has_last = true;
        pages++;
    } while (g.more && pages < 10);
    CHECK_EQ(total, 45);
    CHECK_EQ(pages, 2);
    /* a page cut by the reply size says moreEvents */
    {
        uint8_t b[4];
        ssize_t n = sb_bac_enc_gei_req(b, sizeof(b), &(struct sb_bac_gei_req){ 0 });
        struct rep r = conf_cap(s, SB_BAC_SVC_GET_EVENT_INFORMATION, b, (size_t)n, NOW, 400);
        struct sb_bac_gei_ack ack;
        CHECK(r.pdu == SB_BAC_PDU_COMPLEX_ACK && sb_bac_dec_gei_ack(g_out, (size_t)r.n, &ack) == r.n &&
              ack.more && ack.list_len > 0);
    }
    sb_bac_srv_free(s);
}

/* ---------- unconfirmed services ---------- */

static ssize_t unconf(struct sb_bac_srv *s, uint8_t svc, const uint8_t *b, size_t n, uint8_t *reply)
{
    *reply = 0xFF;
    return sb_bac_srv_unconfirmed(s, &P1, svc, b, n, NOW, g_out, BIG, reply);
}

TEST(who_is_who_has)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_whois wi = { 0 };
    struct sb_bac_iam iam;
    struct sb_bac_ihave ih;
    uint8_t b[64], reply;
    ssize_t n, k;

    REQUIRE(s);
    n = sb_bac_enc_whois(b, sizeof(b), &wi);
    k = unconf(s, SB_BAC_SVC_WHO_IS, b, (size_t)n, &reply);
    CHECK(k > 0 && reply == SB_BAC_SVC_I_AM && sb_bac_dec_iam(g_out, (size_t)k, &iam) == k &&
          iam.device.instance == DEV && iam.vendor_id == 2 && iam.max_apdu == 1476 &&
          iam.segmentation == 0);
    wi = (struct sb_bac_whois){ true, DEV, DEV };
    n = sb_bac_enc_whois(b, sizeof(b), &wi);
    CHECK(unconf(s, SB_BAC_SVC_WHO_IS, b, (size_t)n, &reply) > 0);
    wi = (struct sb_bac_whois){ true, 0, DEV - 1 };
    n = sb_bac_enc_whois(b, sizeof(b), &wi);
    CHECK(unconf(s, SB_BAC_SVC_WHO_IS, b, (size_t)n, &reply) == 0);
    wi = (struct sb_bac_whois){ true, DEV + 1, SB_BAC_MAX_INSTANCE };
    n = sb_bac_enc_whois(b, sizeof(b), &wi);
    CHECK(unconf(s, SB_BAC_SVC_WHO_IS, b, (size_t)n, &reply) == 0);
    /* malformed: one limit only */
    b[0] = 0x09;
    b[1] = 0x05;
    CHECK(unconf(s, SB_BAC_SVC_WHO_IS, b, 2, &reply) == 0);
    /* Who-Has by name */
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){
        .by_name = true, .name = { SB_BAC_CS_UTF8, (const uint8_t *)"FAN-SPD", 7 } });
    k = unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply);
    CHECK(k > 0 && reply == SB_BAC_SVC_I_HAVE && sb_bac_dec_ihave(g_out, (size_t)k, &ih) == k &&
          ih.oid.type == SB_BAC_OBJ_MSO && ih.oid.instance == 1 && ih.device.instance == DEV &&
          ih.name.len == 7);
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){
        .by_name = true, .name = { SB_BAC_CS_LATIN1, (const uint8_t *)"AHU-1", 5 } });
    k = unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply);
    CHECK(k > 0 && sb_bac_dec_ihave(g_out, (size_t)k, &ih) == k && ih.oid.type == SB_BAC_OBJ_DEVICE);
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){
        .by_name = true, .name = { SB_BAC_CS_UTF8, (const uint8_t *)"FAN-SP", 6 } });
    CHECK(unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply) == 0);
    /* by identifier, and out of range */
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){ .oid = oid(SB_BAC_OBJ_TREND_LOG, 1) });
    k = unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply);
    CHECK(k > 0 && sb_bac_dec_ihave(g_out, (size_t)k, &ih) == k && ih.name.len == 7 &&
          !memcmp(ih.name.p, "SAT-LOG", 7));
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){ .oid = oid(SB_BAC_OBJ_AI, 2) });
    CHECK(unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply) == 0);
    n = sb_bac_enc_whohas(b, sizeof(b), &(struct sb_bac_whohas){
        .has_range = true, .low = 1, .high = 2, .oid = oid(SB_BAC_OBJ_AI, 1) });
    CHECK(unconf(s, SB_BAC_SVC_WHO_HAS, b, (size_t)n, &reply) == 0);
    /* unknown unconfirmed services are ignored */
    CHECK(unconf(s, 40, b, (size_t)n, &reply) == 0);
    sb_bac_srv_free(s);
}

TEST(time_sync)
{
    struct sb_bac_srv *s = mkdev(8);
    struct sb_bac_datetime dt = { { 127, 3, 4, 255 }, { 5, 6, 7, 0 } }, now;
    uint8_t b[16], reply;
    ssize_t n = sb_bac_enc_timesync(b, sizeof(b), &dt);
    struct sb_bac_value v;

    REQUIRE(s);
    CHECK(unconf(s, SB_BAC_SVC_UTC_TIME_SYNCHRONIZATION, b, (size_t)n, &reply) == 0);
    /* UTC 05:06:07 is 00:06:07 in New York (UTC_Offset 300) */
    CHECK(sb_bac_srv_local_time(s, NOW, &now) == 0 && now.time.hour == 0 && now.time.min == 6 &&
          now.date.day == 4 && now.date.month == 3);
    CHECK(rp_one(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_LOCAL_TIME, &v) && v.v.time.hour == 0);
    CHECK(unconf(s, SB_BAC_SVC_TIME_SYNCHRONIZATION, b, (size_t)n, &reply) == 0);
    CHECK(sb_bac_srv_local_time(s, NOW + 60000, &now) == 0 && now.time.hour == 5 &&
          now.time.min == 7);
    CHECK(unconf(s, SB_BAC_SVC_TIME_SYNCHRONIZATION, b, 3, &reply) == 0);   /* truncated: ignored */
    CHECK(sb_bac_srv_local_time(s, NOW, &now) == 0 && now.time.hour == 5);
    sb_bac_srv_free(s);
}

/* ---------- malformed requests: Reject, never a crash ---------- */

struct body {
    uint8_t svc;
    uint8_t b[128];
    size_t n;
};

static size_t valid_bodies(struct body *out)
{
    size_t k = 0;
    uint8_t val[8];
    size_t vl = enc(val, 8, REALV(3));
    struct sb_bac_propref refs[] = { { SB_BAC_P_PRESENT_VALUE, false, 0 }, { SB_BAC_P_PRIORITY_ARRAY, true, 3 } };
    struct sb_bac_propval pv = { .prop = SB_BAC_P_PRESENT_VALUE, .value = val, .value_len = vl,
                                 .priority = 9 };
    struct sb_bac_timestamp ts = { .kind = SB_BAC_TS_DATETIME };

#define ADD(svc_, expr)                                         \
    do {                                                        \
        ssize_t n_ = (expr);                                    \
        if (n_ <= 0) abort();                                   \
        out[k].svc = (svc_);                                    \
        out[k++].n = (size_t)n_;                                \
    } while (0)
    ADD(SB_BAC_SVC_READ_PROPERTY, sb_bac_enc_rp_req(out[k].b, 128, &(struct sb_bac_rp){
        .oid = oid(SB_BAC_OBJ_AO, 1), .prop = SB_BAC_P_PRIORITY_ARRAY, .has_index = true, .index = 2 }));
    ADD(SB_BAC_SVC_READ_PROPERTY_MULTIPLE, sb_bac_enc_rpm_spec(out[k].b, 128, &(struct sb_bac_rpm_spec){
        .oid = oid(SB_BAC_OBJ_AO, 1), .refs = refs, .nrefs = 2 }));
    ADD(SB_BAC_SVC_WRITE_PROPERTY, sb_bac_enc_wp(out[k].b, 128, &(struct sb_bac_wp){
        .oid = oid(SB_BAC_OBJ_AO, 1), .prop = SB_BAC_P_PRESENT_VALUE, .value = val, .value_len = vl,
        .priority = 9 }));
    ADD(SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, sb_bac_enc_wpm_spec(out[k].b, 128, &(struct sb_bac_wpm_spec){
        .oid = oid(SB_BAC_OBJ_AO, 1), .vals = &pv, .nvals = 1 }));
    ADD(SB_BAC_SVC_SUBSCRIBE_COV, sb_bac_enc_subcov(out[k].b, 128, &(struct sb_bac_subcov){
        .pid = 3, .oid = oid(SB_BAC_OBJ_AI, 1), .has_confirmed = true, .has_lifetime = true,
        .lifetime = 100 }));
    ADD(SB_BAC_SVC_READ_RANGE, sb_bac_enc_rr_req(out[k].b, 128, &(struct sb_bac_rr){
        .oid = oid(SB_BAC_OBJ_TREND_LOG, 1), .prop = SB_BAC_P_LOG_BUFFER,
        .kind = SB_BAC_RR_POSITION, .ref_index = 1, .count = 5 }));
    ADD(SB_BAC_SVC_GET_EVENT_INFORMATION, sb_bac_enc_gei_req(out[k].b, 128, &(struct sb_bac_gei_req){
        true, oid(SB_BAC_OBJ_AI, 1) }));
    ADD(SB_BAC_SVC_ACKNOWLEDGE_ALARM, sb_bac_enc_ackalarm(out[k].b, 128, &(struct sb_bac_ackalarm){
        .pid = 1, .oid = oid(SB_BAC_OBJ_AI, 1), .state = 0, .stamp = ts,
        .source = { 0, (const uint8_t *)"x", 1 }, .when = ts }));
#undef ADD
    return k;
}

static bool is_reply_pdu(uint8_t pdu)
{
    return pdu == SB_BAC_PDU_SIMPLE_ACK || pdu == SB_BAC_PDU_COMPLEX_ACK ||
           pdu == SB_BAC_PDU_ERROR || pdu == SB_BAC_PDU_REJECT || pdu == SB_BAC_PDU_ABORT;
}

TEST(malformed_requests)
{
    struct sb_bac_srv *s = mkdev(8);
    struct body bodies[8];
    size_t nb = valid_bodies(bodies);
    uint64_t seed = 0x5EED;
    int rejects = 0;

    REQUIRE(s);
    for (size_t i = 0; i < nb; i++) {
        struct body *bd = &bodies[i];
        struct rep r = conf(s, bd->svc, bd->b, bd->n);
        uint8_t tmp[160];

        if (r.pdu == SB_BAC_PDU_REJECT)
            TAP_FAIL("valid body of service %u rejected (reason %u)", bd->svc, r.reason);
        /* every truncation: a Reject, or a shorter request that is whole */
        for (size_t cut = 0; cut < bd->n; cut++) {
            r = conf(s, bd->svc, bd->b, cut);
            CHECK(is_reply_pdu(r.pdu) && r.pdu != SB_BAC_PDU_ABORT && r.n >= 0);
            if (r.pdu == SB_BAC_PDU_REJECT) {
                rejects++;
                CHECK(r.n == 0 && r.reason != SB_BAC_RJ_UNRECOGNIZED_SERVICE);
            }
        }
        /* a trailing extra element: too-many-arguments (clause 18.8.7) */
        memcpy(tmp, bd->b, bd->n);
        tmp[bd->n] = 0x91;   /* application Enumerated, one octet */
        tmp[bd->n + 1] = 0x01;
        r = conf(s, bd->svc, tmp, bd->n + 2);
        if (bd->svc != SB_BAC_SVC_READ_PROPERTY_MULTIPLE && bd->svc != SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE)
            CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_TOO_MANY_ARGUMENTS);
        else
            CHECK(r.pdu == SB_BAC_PDU_REJECT);
        /* random corruption: any reply, no crash (ASan/UBSan watch) */
        for (int t = 0; t < 300; t++) {
            memcpy(tmp, bd->b, bd->n);
            for (int f = 0; f < 3; f++)
                tmp[tap_rand(&seed) % bd->n] ^= (uint8_t)(1u << (tap_rand(&seed) % 8));
            r = conf(s, bd->svc, tmp, bd->n);
            CHECK(is_reply_pdu(r.pdu));
        }
    }
    CHECK(rejects > 40);
    /* specific reasons */
    {
        uint8_t b[] = { 0x0C, 0x00, 0x00, 0x00, 0x01 };   /* oid only: property missing */
        struct rep r = conf(s, SB_BAC_SVC_READ_PROPERTY, b, sizeof(b));
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
        b[0] = 0x1C;   /* [1] where [0] belongs */
        r = conf(s, SB_BAC_SVC_READ_PROPERTY, b, sizeof(b));
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_INVALID_TAG);
        r = conf(s, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, b, 0);
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_MISSING_REQUIRED_PARAMETER);
    }
    {   /* WriteProperty priority 17, then 0: a bad parameter, not an extra one */
        uint8_t w[64];
        size_t wn = bodies[2].n;
        memcpy(w, bodies[2].b, wn);
        REQUIRE(w[wn - 2] == 0x49 && w[wn - 1] == 9);   /* [4] priority 9 */
        w[wn - 1] = 17;
        struct rep r = conf(s, SB_BAC_SVC_WRITE_PROPERTY, w, wn);
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_PARAMETER_OUT_OF_RANGE);
        w[wn - 1] = 0;
        r = conf(s, SB_BAC_SVC_WRITE_PROPERTY, w, wn);
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_PARAMETER_OUT_OF_RANGE);
        w[wn - 2] = 0x59;   /* [5]: no such parameter */
        r = conf(s, SB_BAC_SVC_WRITE_PROPERTY, w, wn);
        CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_TOO_MANY_ARGUMENTS);
    }
    /* unknown confirmed services: Reject unrecognized-service, not Error */
    for (uint8_t svc = 0; svc < 64; svc++) {
        bool known = svc == 0 || svc == 5 || svc == 12 || svc == 14 || svc == 15 || svc == 16 ||
                     svc == 26 || svc == 29;
        struct rep r = conf(s, svc, bodies[0].b, bodies[0].n);
        if (!known)
            CHECK(r.pdu == SB_BAC_PDU_REJECT && r.reason == SB_BAC_RJ_UNRECOGNIZED_SERVICE);
    }
    /* NULL arguments are the caller's bug */
    {
        uint8_t pdu, reason;
        CHECK(sb_bac_srv_confirmed(NULL, &P1, 12, g_out, 0, NOW, g_out, BIG, &pdu, &reason) == SB_EINVAL);
        CHECK(sb_bac_srv_confirmed(s, &P1, 12, NULL, 3, NOW, g_out, BIG, &pdu, &reason) == SB_EINVAL);
    }
    sb_bac_srv_free(s);
}

/* ---------- the owner's API ---------- */

TEST(owner_api)
{
    struct sb_bac_srv *s = mkdev(8), *t = NULL;
    struct sb_bac_srv_cfg cfg = { .instance = 5, .name = "D5", .max_objects = 2 };
    struct sb_bac_oid o;
    uint8_t buf[64];
    struct sb_bac_error e;
    struct sb_bac_value v;
    ssize_t n;

    REQUIRE(s);
    CHECK(sb_bac_srv_find_name(s, "MODE", &o) == 0 && o.type == SB_BAC_OBJ_MSI && o.instance == 1);
    CHECK(sb_bac_srv_find_name(s, "AHU-1", &o) == 0 && o.type == SB_BAC_OBJ_DEVICE);
    CHECK(sb_bac_srv_find_name(s, "nope", &o) == SB_ENOENT);
    CHECK(add_value(s, SB_BAC_OBJ_AI, 1, "OTHER", 0, 1) == SB_EEXIST);     /* id taken */
    CHECK(add_value(s, SB_BAC_OBJ_AI, 9, "MODE", 0, 1) == SB_EEXIST);      /* name taken */
    CHECK(add_value(s, SB_BAC_OBJ_AI, 9, "AHU-1", 0, 1) == SB_EEXIST);     /* the device's */
    CHECK(add_value(s, SB_BAC_OBJ_AI, SB_BAC_MAX_INSTANCE, "X", 0, 1) == SB_EINVAL);
    CHECK(add_value(s, SB_BAC_OBJ_AI, 9, "", 0, 1) == SB_EINVAL);
    CHECK(add_value(s, SB_BAC_OBJ_AI, 9, "IN", SB_BAC_SRV_COMMANDABLE, 1) == SB_EINVAL);
    CHECK(add_value(s, SB_BAC_OBJ_DEVICE, 9, "DEV2", 0, 1) == SB_EINVAL);
    CHECK(add_value(s, SB_BAC_OBJ_BV, 9, "BAD", 0, 2) == SB_EINVAL);       /* not 0/1 */
    CHECK(add_value(s, SB_BAC_OBJ_MSV, 9, "BAD", 0, 4) == SB_EINVAL);      /* 3 states */
    CHECK(add_value(s, SB_BAC_OBJ_BV, 9, "OK", SB_BAC_SRV_ALARM, 1) == SB_EINVAL);
    /* the object limit */
    REQUIRE(sb_bac_srv_new(&cfg, NOW, &t) == 0);
    CHECK(add_value(t, SB_BAC_OBJ_AV, 1, "A", 0, 1) == 0);
    CHECK(add_value(t, SB_BAC_OBJ_AV, 2, "B", 0, 1) == 0);
    CHECK(add_value(t, SB_BAC_OBJ_AV, 3, "C", 0, 1) == SB_ERANGE);
    CHECK(sb_bac_srv_device(t).instance == 5);
    sb_bac_srv_free(t);
    cfg.instance = SB_BAC_MAX_INSTANCE;
    CHECK(sb_bac_srv_new(&cfg, NOW, &t) == SB_EINVAL);
    cfg.instance = 5;
    cfg.max_apdu = 40;
    CHECK(sb_bac_srv_new(&cfg, NOW, &t) == SB_EINVAL);
    /* generic read / write */
    n = sb_bac_srv_read(s, oid(SB_BAC_OBJ_AV, 1), SB_BAC_P_PRESENT_VALUE, false, 0, NOW, buf,
                        sizeof(buf), &e);
    CHECK(n == 5 && sb_bac_dec_app(buf, (size_t)n, &v) == 5 && v.v.real == 13);
    CHECK(sb_bac_srv_read(s, oid(SB_BAC_OBJ_AV, 1), 9999, false, 0, NOW, buf, sizeof(buf), &e) ==
              SB_EPROTO && e.err_code == SB_BAC_ERR_UNKNOWN_PROPERTY);
    CHECK(sb_bac_srv_read(s, oid(SB_BAC_OBJ_DEVICE, DEV), SB_BAC_P_OBJECT_LIST, false, 0, NOW, buf,
                          8, &e) == SB_ENOSPC);
    n = (ssize_t)enc(buf, sizeof(buf), REALV(2));
    CHECK(sb_bac_srv_write(s, oid(SB_BAC_OBJ_AV, 2), SB_BAC_P_PRESENT_VALUE, false, 0, buf,
                           (size_t)n, 4, NOW, &e) == 0);
    CHECK_DBL(rp_num(s, oid(SB_BAC_OBJ_AV, 2), SB_BAC_P_PRESENT_VALUE), 2, 0);
    CHECK(sb_bac_srv_write(s, oid(SB_BAC_OBJ_BV, 1), SB_BAC_P_PRESENT_VALUE, false, 0, buf,
                           (size_t)n, 4, NOW, &e) == SB_EPROTO &&
          e.err_code == SB_BAC_ERR_WRITE_ACCESS_DENIED);
    sb_bac_srv_free(s);
}

int main(void)
{
    TAP_START();
    RUN(required_properties);
    RUN(property_list_and_bits);
    RUN(object_list);
    RUN(rpm);
    RUN(write_priority);
    RUN(write_inputs_and_values);
    RUN(wpm_partial_failure);
    RUN(cov);
    RUN(read_range);
    RUN(schedule);
    RUN(schedule_arrays);
    RUN(alarms);
    RUN(alarm_writes);
    RUN(gei_paging);
    RUN(who_is_who_has);
    RUN(time_sync);
    RUN(malformed_requests);
    RUN(owner_api);
    TAP_END();
}

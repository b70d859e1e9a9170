/*
 * fuzz_bacnet_server.c - libFuzzer target over the BACnet server's request
 * handler (src/proto/bacnet/server/).
 *
 * Input: octet 0 is the service choice (bit 7 set: an unconfirmed service,
 * choice = octet & 0x7F), octet 1 picks the reply buffer size (0: 64 KiB,
 * else octet * 8 octets, to reach the overflow paths), the rest is the
 * service data.  A fresh device with every object type (alarms, trend
 * records, a schedule, COV subscriptions) answers it, so runs do not
 * depend on one another.  Beyond ASan/UBSan, the target checks that
 * every reply fits the buffer and decodes with the codec's own decoders.
 * Seeds: fuzz/corpus/bacnet_server/ (one valid request per service).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/server/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1795446000000LL   /* 2026-11-23 */
#define CAP 65536

static uint8_t out[CAP];
static int sent;

static void sink(void *ud, const struct sb_bac_peer *to, int confirmed, uint8_t service,
                 const uint8_t *body, size_t len)
{
    struct sb_bac_cov_notif n;

    (void)ud;
    (void)to;
    (void)confirmed;
    (void)service;
    if (sb_bac_dec_cov_notif(body, len, &n) != (ssize_t)len)
        abort();   /* we must send what we can read back */
    sent++;
}

static void add(struct sb_bac_srv *s, uint16_t type, uint32_t inst, const char *name,
                uint32_t flags, double init)
{
    struct sb_bac_srv_obj_cfg c = {
        .type = type, .instance = inst, .name = name, .flags = flags, .initial = init,
        .nstates = 4, .cov_increment = 1, .high_limit = 30, .low_limit = 10, .deadband = 1,
        .limit_enable = 3, .event_enable = 7, .active_text = "on", .inactive_text = "off"
    };

    if (sb_bac_srv_add(s, &c, NOW) < 0)
        abort();
}

static struct sb_bac_srv *device(void)
{
    struct sb_bac_srv_cfg cfg = { .instance = 77, .name = "FUZZ", .location = "lab",
                                  .vendor_id = 2, .utc_offset_min = 300, .max_cov_subs = 4 };
    struct sb_bac_srv_trend_cfg tl = { .instance = 1, .name = "TL", .buffer_size = 8,
                                       .source = { 0, 1 } };
    struct sb_bac_srv_sched_cfg sc = { .instance = 1, .name = "SC",
                                       .dflt = { .type = SB_BAC_REAL, .v.real = 1 } };
    struct sb_bac_srv *s;

    if (sb_bac_srv_new(&cfg, NOW, &s) < 0)
        abort();
    add(s, SB_BAC_OBJ_AI, 1, "AI1", SB_BAC_SRV_ALARM, 35);
    add(s, SB_BAC_OBJ_AO, 1, "AO1", 0, 2);
    add(s, SB_BAC_OBJ_AV, 1, "AV1", SB_BAC_SRV_WRITABLE | SB_BAC_SRV_ALARM, 3);
    add(s, SB_BAC_OBJ_AV, 2, "AV2", SB_BAC_SRV_COMMANDABLE, 4);
    add(s, SB_BAC_OBJ_BI, 1, "BI1", 0, 1);
    add(s, SB_BAC_OBJ_BO, 1, "BO1", 0, 0);
    add(s, SB_BAC_OBJ_BV, 1, "BV1", SB_BAC_SRV_WRITABLE, 1);
    add(s, SB_BAC_OBJ_MSI, 1, "MSI1", 0, 2);
    add(s, SB_BAC_OBJ_MSO, 1, "MSO1", 0, 3);
    add(s, SB_BAC_OBJ_MSV, 1, "MSV1", SB_BAC_SRV_COMMANDABLE, 4);
    if (sb_bac_srv_add_trend(s, &tl) < 0 || sb_bac_srv_add_schedule(s, &sc) < 0 ||
        sb_bac_srv_add_calendar(s, 1, "CAL", NULL) < 0)
        abort();
    for (int i = 0; i < 12; i++) {
        struct sb_bac_srv_rec r = { .ts_ms = NOW - 60000LL * (12 - i), .kind = SB_BAC_LOG_REAL,
                                    .v = i, .has_status = i % 2 };
        sb_bac_srv_trend_append(s, 1, &r);
    }
    sb_bac_srv_set_sender(s, sink, NULL);
    return s;
}

/* Every reply must be one the codec reads back. */
static void check_reply(uint8_t service, uint8_t pdu, const uint8_t *p, size_t n)
{
    struct sb_bac_rp rp;
    struct sb_bac_rpm_result res;
    struct sb_bac_rpm_elem e;
    struct sb_bac_rr_ack rr;
    struct sb_bac_gei_ack gei;
    struct sb_bac_error err;
    struct sb_bac_wpm_error werr;
    ssize_t k, m;

    if (pdu == SB_BAC_PDU_ERROR) {
        k = service == SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE ? sb_bac_dec_wpm_error(p, n, &werr)
                                                          : sb_bac_dec_error(p, n, &err);
        if (k != (ssize_t)n)
            abort();
        return;
    }
    if (pdu != SB_BAC_PDU_COMPLEX_ACK) {
        if (n != 0)
            abort();   /* Simple-ACK, Reject and Abort carry no data */
        return;
    }
    switch (service) {
    case SB_BAC_SVC_READ_PROPERTY:
        if (sb_bac_dec_rp_ack(p, n, &rp) != (ssize_t)n)
            abort();
        break;
    case SB_BAC_SVC_READ_PROPERTY_MULTIPLE:
        for (size_t off = 0; off < n; off += (size_t)k) {
            if ((k = sb_bac_dec_rpm_result(p + off, n - off, &res)) <= 0)
                abort();
            for (size_t o = 0; o < res.list_len; o += (size_t)m)
                if ((m = sb_bac_dec_rpm_elem(res.list + o, res.list_len - o, &e)) <= 0)
                    abort();
        }
        break;
    case SB_BAC_SVC_READ_RANGE:
        if (sb_bac_dec_rr_ack(p, n, &rr) != (ssize_t)n)
            abort();
        break;
    case SB_BAC_SVC_GET_EVENT_INFORMATION:
        if (sb_bac_dec_gei_ack(p, n, &gei) != (ssize_t)n)
            abort();
        break;
    default:
        abort();   /* no other service answers with a Complex-ACK */
    }
}

/* Reads the computed values a written schedule or calendar feeds. */
static void evaluate(struct sb_bac_srv *s)
{
    static const struct sb_bac_oid sched = { SB_BAC_OBJ_SCHEDULE, 1 }, cal = { SB_BAC_OBJ_CALENDAR, 1 };
    struct sb_bac_datetime dt = { { 126, 12, 25, 255 }, { 0, 0, 0, 0 } };
    struct sb_bac_value v;
    uint8_t buf[64];
    bool on;

    for (uint8_t h = 0; h < 24; h += 5) {
        dt.time.hour = h;
        if (sb_bac_srv_sched_eval(s, 1, &dt, &v) < 0)
            abort();
    }
    if (sb_bac_srv_cal_eval(s, 1, &dt.date, &on) < 0)
        abort();
    sb_bac_srv_read(s, sched, SB_BAC_P_PRESENT_VALUE, false, 0, NOW, buf, sizeof(buf), NULL);
    sb_bac_srv_read(s, cal, SB_BAC_P_PRESENT_VALUE, false, 0, NOW, buf, sizeof(buf), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct sb_bac_peer from = { .ip = 0x0100007f, .port = 0xC0BA };
    struct sb_bac_srv *s;
    size_t cap;
    uint8_t pdu = 0, reason = 0, reply = 0;
    ssize_t n;

    if (size < 2)
        return 0;
    cap = data[1] ? (size_t)data[1] * 8 : CAP;
    s = device();
    if (data[0] & 0x80) {
        n = sb_bac_srv_unconfirmed(s, &from, data[0] & 0x7F, data + 2, size - 2, NOW, out, cap,
                                   &reply);
        if (n < 0 && n != -11 /* SB_ENOSPC for a tiny cap */)
            abort();
    } else {
        n = sb_bac_srv_confirmed(s, &from, data[0], data + 2, size - 2, NOW, out, cap, &pdu,
                                 &reason);
        if (n < 0 || (size_t)n > cap)
            abort();
        check_reply(data[0], pdu, out, (size_t)n);
    }
    /* what follows a request: notifications, schedules evaluated (the
     * request may have written them), time passing, the plant */
    sb_bac_srv_flush(s, NOW);
    evaluate(s);
    sb_bac_srv_set_pv(s, (struct sb_bac_oid){ SB_BAC_OBJ_AI, 1 }, (double)(size % 50), NOW + 1000);
    sb_bac_srv_tick(s, NOW + 86400000LL);
    sb_bac_srv_free(s);
    return 0;
}

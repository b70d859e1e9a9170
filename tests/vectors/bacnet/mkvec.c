/*
 * mkvec.c - prints the BACnet golden packets, built with the sbems encoders,
 * one "name hex" line each.  Run by regen.sh, which decodes every packet
 * with tshark (an independent decoder) and records what tshark says in
 * packets.txt; test_bacnet_codec then checks our decoders against that.
 * `mkvec svc2` prints the packets of the svc2.h services instead (the
 * ANSI/ASHRAE 135 Annex F examples typed in by hand, then packets built
 * with our encoders); regen.sh records them in packets_svc2.txt, which
 * test_bacnet_svc2 reads.
 */
#include <stdio.h>
#include <string.h>

#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"

#define CAP 1500

static uint8_t body[CAP];      /* service body under construction */
static size_t body_len;        /* its length */

/* Wrap body in APDU, NPDU and BVLC headers and print it. */
static void emit(const char *name, uint8_t fn, const struct sb_bac_npdu *np0,
                 const struct sb_bac_apdu *ap0)
{
    uint8_t pkt[CAP];
    struct sb_bac_apdu ap = *ap0;
    struct sb_bac_npdu np = *np0;
    struct sb_bac_bvlc bv = { .function = fn };
    ssize_t n;

    ap.body = body;
    ap.body_len = body_len;
    n = sb_bac_enc_apdu(pkt + 100, CAP - 100, &ap);
    np.payload = pkt + 100;
    np.payload_len = (size_t)n;
    if (!np.net_msg)
        n = sb_bac_enc_npdu(pkt + 50, CAP - 50, &np);
    else
        n = sb_bac_enc_npdu(pkt + 50, CAP - 50, np0);
    bv.data = pkt + 50;
    bv.data_len = (size_t)n;
    if (fn == SB_BVLC_FORWARDED_NPDU)
        memcpy(bv.addr, (uint8_t[]){ 192, 168, 1, 10, 0xBA, 0xC0 }, 6);
    n = sb_bac_enc_bvlc(pkt, CAP, &bv);
    if (n < 0) {
        fprintf(stderr, "%s: encode failed %zd\n", name, n);
        return;
    }
    printf("%s ", name);
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", pkt[i]);
    printf("\n");
}

/* A value list exercising every primitive type (clause 20.2.2-20.2.14). */
static size_t all_primitives(uint8_t *out)
{
    static const uint8_t oct[] = { 0xde, 0xad, 0xbe, 0xef };
    static const uint8_t bits[] = { 0xa0 };   /* 1,0,1 */
    struct sb_bac_value v[] = {
        { .type = SB_BAC_NULL },
        { .type = SB_BAC_BOOLEAN, .v.boolean = true },
        { .type = SB_BAC_UNSIGNED, .v.u = 70000 },
        { .type = SB_BAC_SIGNED, .v.i = -129 },
        { .type = SB_BAC_REAL, .v.real = 21.5f },
        { .type = SB_BAC_DOUBLE, .v.dbl = -1234.5 },
        { .type = SB_BAC_OCTET_STRING, .v.octets = { oct, 4 } },
        { .type = SB_BAC_CHAR_STRING, .v.str = { 0, (const uint8_t *)"Zone 1", 6 } },
        { .type = SB_BAC_BIT_STRING, .v.bits = { bits, 3 } },
        { .type = SB_BAC_ENUMERATED, .v.enumerated = 62 },
        { .type = SB_BAC_DATE, .v.date = { 126, 11, 27, 5 } },
        { .type = SB_BAC_TIME, .v.time = { 13, 45, 30, 12 } },
        { .type = SB_BAC_OBJECT_ID, .v.oid = { 8, 260001 } },
    };
    size_t n = 0;

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        n += (size_t)sb_bac_enc_app(out + n, 200, &v[i]);
    return n;
}

static const struct sb_bac_npdu np_plain = { .payload = NULL };
static const struct sb_bac_npdu np_reply = { .expecting_reply = true };

static void unconfirmed(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_UNCONFIRMED, .service = SB_BAC_SVC_WHO_IS };
    struct sb_bac_whois wi = { .has_range = true, .low = 0, .high = 4194303 };
    struct sb_bac_iam ia = { { 8, 260001 }, 1476, 3, 260 };
    struct sb_bac_npdu np_bcast = { .has_dst = true, .dst = { .net = 0xFFFF }, .hop_count = 255 };

    body_len = 0;
    emit("whois_all", SB_BVLC_ORIGINAL_BCAST, &np_bcast, &ap);
    body_len = (size_t)sb_bac_enc_whois(body, CAP, &wi);
    emit("whois_range", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    emit("whois_distribute", SB_BVLC_DISTRIBUTE_BCAST, &np_plain, &ap);
    ap.service = SB_BAC_SVC_I_AM;
    body_len = (size_t)sb_bac_enc_iam(body, CAP, &ia);
    emit("iam", SB_BVLC_ORIGINAL_BCAST, &np_plain, &ap);
    emit("iam_forwarded", SB_BVLC_FORWARDED_NPDU, &np_plain, &ap);
}

static void read_property(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5,
                              .invoke_id = 1, .service = SB_BAC_SVC_READ_PROPERTY };
    struct sb_bac_rp rp = { .oid = { 0, 3 }, .prop = 85 };
    struct sb_bac_npdu np_routed = {
        .expecting_reply = true, .has_dst = true, .hop_count = 255,
        .dst = { .net = 5, .len = 1, .mac = { 0x0a } },
        .has_src = true, .src = { .net = 9, .len = 6, .mac = { 10, 0, 0, 7, 0xBA, 0xC0 } } };
    uint8_t val[200];

    body_len = (size_t)sb_bac_enc_rp_req(body, CAP, &rp);
    emit("rp_req", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    emit("rp_req_routed", SB_BVLC_ORIGINAL_UNICAST, &np_routed, &ap);
    rp = (struct sb_bac_rp){ .oid = { 8, 1234 }, .prop = 76, .has_index = true, .index = 0 };
    ap.sa = true;
    ap.max_segs = 4;
    ap.invoke_id = 2;
    body_len = (size_t)sb_bac_enc_rp_req(body, CAP, &rp);
    emit("rp_req_index", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 1,
                               .service = SB_BAC_SVC_READ_PROPERTY };
    rp = (struct sb_bac_rp){ .oid = { 0, 3 }, .prop = 85, .value = val };
    rp.value_len = all_primitives(val);
    body_len = (size_t)sb_bac_enc_rp_ack(body, CAP, &rp);
    emit("rp_ack_primitives", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void read_property_long(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 9,
                              .service = SB_BAC_SVC_READ_PROPERTY };
    static char text[301];
    uint8_t val[400];
    struct sb_bac_value v = { .type = SB_BAC_CHAR_STRING };
    struct sb_bac_rp rp = { .oid = { 8, 1234 }, .prop = 28, .value = val };

    for (int i = 0; i < 300; i++)
        text[i] = (char)('a' + i % 26);
    v.v.str = (struct sb_bac_cstr){ 0, (const uint8_t *)text, 300 };
    rp.value_len = (size_t)sb_bac_enc_app(val, sizeof(val), &v);
    body_len = (size_t)sb_bac_enc_rp_ack(body, CAP, &rp);
    emit("rp_ack_long_string", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void write_property(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5,
                              .invoke_id = 7, .service = SB_BAC_SVC_WRITE_PROPERTY };
    uint8_t val[16];
    struct sb_bac_value v = { .type = SB_BAC_REAL, .v.real = 18.0f };
    struct sb_bac_wp wp = { .oid = { 1, 1 }, .prop = 85, .value = val, .priority = 8 };

    wp.value_len = (size_t)sb_bac_enc_app(val, sizeof(val), &v);
    body_len = (size_t)sb_bac_enc_wp(body, CAP, &wp);
    emit("wp_real_prio8", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    v.type = SB_BAC_NULL;
    wp.value_len = (size_t)sb_bac_enc_app(val, sizeof(val), &v);
    wp.priority = 16;
    body_len = (size_t)sb_bac_enc_wp(body, CAP, &wp);
    emit("wp_relinquish16", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_SIMPLE_ACK, .invoke_id = 7,
                               .service = SB_BAC_SVC_WRITE_PROPERTY };
    body_len = 0;
    emit("simple_ack_wp", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void rpm(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 11,
                              .service = SB_BAC_SVC_READ_PROPERTY_MULTIPLE };
    struct sb_bac_propref r1[] = { { 77, false, 0 }, { 120, false, 0 } };
    struct sb_bac_propref r2[] = { { 85, false, 0 }, { 111, false, 0 }, { 87, true, 8 } };
    struct sb_bac_rpm_spec s1 = { .oid = { 8, 1234 }, .refs = r1, .nrefs = 2 };
    struct sb_bac_rpm_spec s2 = { .oid = { 0, 0 }, .refs = r2, .nrefs = 3 };
    uint8_t v1[16], v2[16];
    struct sb_bac_value pv = { .type = SB_BAC_REAL, .v.real = 22.25f };
    struct sb_bac_value vid = { .type = SB_BAC_UNSIGNED, .v.u = 260 };
    struct sb_bac_rpm_elem e[] = {
        { .prop = 85, .value = v1 },
        { .prop = 120, .value = v2 },
        { .prop = 9999, .is_error = true, .err_class = 2, .err_code = 32 },
    };
    struct sb_bac_rpm_result res = { .oid = { 0, 0 }, .elems = e, .nelems = 3 };

    body_len = (size_t)sb_bac_enc_rpm_spec(body, CAP, &s1);
    body_len += (size_t)sb_bac_enc_rpm_spec(body + body_len, CAP - body_len, &s2);
    emit("rpm_req", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    e[0].value_len = (size_t)sb_bac_enc_app(v1, sizeof(v1), &pv);
    e[1].value_len = (size_t)sb_bac_enc_app(v2, sizeof(v2), &vid);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 11,
                               .service = SB_BAC_SVC_READ_PROPERTY_MULTIPLE };
    body_len = (size_t)sb_bac_enc_rpm_result(body, CAP, &res);
    emit("rpm_ack", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void cov(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 20,
                              .service = SB_BAC_SVC_SUBSCRIBE_COV };
    struct sb_bac_subcov sc = { 18, { 0, 1 }, true, false, true, 600 };
    static const uint8_t flags[] = { 0x00 };
    uint8_t v1[16], v2[16];
    struct sb_bac_value pv = { .type = SB_BAC_REAL, .v.real = 22.25f };
    struct sb_bac_value sf = { .type = SB_BAC_BIT_STRING, .v.bits = { flags, 4 } };
    struct sb_bac_propval vals[] = { { .prop = 85, .value = v1 }, { .prop = 111, .value = v2 } };
    struct sb_bac_cov_notif cn = { 18, { 8, 1234 }, { 0, 1 }, 590, vals, 2, NULL, 0 };

    body_len = (size_t)sb_bac_enc_subcov(body, CAP, &sc);
    emit("subcov", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    sc.has_confirmed = sc.has_lifetime = false;
    body_len = (size_t)sb_bac_enc_subcov(body, CAP, &sc);
    emit("subcov_cancel", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    vals[0].value_len = (size_t)sb_bac_enc_app(v1, sizeof(v1), &pv);
    vals[1].value_len = (size_t)sb_bac_enc_app(v2, sizeof(v2), &sf);
    body_len = (size_t)sb_bac_enc_cov_notif(body, CAP, &cn);
    ap.service = SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION;
    ap.invoke_id = 21;
    emit("ccov_notif", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_UNCONFIRMED,
                               .service = SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION };
    emit("ucov_notif", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void replies(void)
{
    struct sb_bac_error er = { 1, 31 };
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_ERROR, .invoke_id = 1,
                              .service = SB_BAC_SVC_READ_PROPERTY };

    body_len = (size_t)sb_bac_enc_error(body, CAP, &er);
    emit("error_rp", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    body_len = 0;
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_REJECT, .invoke_id = 3, .reason = 9 };
    emit("reject", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_ABORT, .srv = true, .invoke_id = 4, .reason = 4 };
    emit("abort", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_SEGMENT_ACK, .nak = true, .srv = true,
                               .invoke_id = 5, .seq = 3, .window = 4 };
    emit("segment_ack", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void segmented(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_COMPLEX_ACK, .seg = true, .more = true,
                              .invoke_id = 6, .seq = 0, .window = 2,
                              .service = SB_BAC_SVC_READ_PROPERTY };
    struct sb_bac_rp rp = { .oid = { 8, 1234 }, .prop = 76 };

    body_len = (size_t)sb_bac_enc_rp_req(body, CAP, &rp);   /* a first fragment */
    emit("complex_ack_seg", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_CONFIRMED, .seg = true, .more = true,
                               .sa = true, .max_segs = 7, .max_apdu = 3, .invoke_id = 8,
                               .seq = 0, .window = 16, .service = SB_BAC_SVC_WRITE_PROPERTY };
    emit("confirmed_seg", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
}

/* Network layer messages and BVLL-only functions. */
static void link_layer(void)
{
    static const uint16_t nets[] = { 1, 2, 300 };
    uint8_t msg[16];
    struct sb_bac_npdu np = { .net_msg = true, .msg_type = SB_BAC_NL_WHO_IS_ROUTER };
    struct sb_bac_apdu none = { .type = SB_BAC_PDU_UNCONFIRMED };
    struct sb_bac_bvlc bv = { .function = SB_BVLC_REGISTER_FD, .ttl = 300 };
    uint8_t pkt[64];
    ssize_t n;

    np.payload = msg;
    np.payload_len = 0;
    emit("nl_who_is_router_all", SB_BVLC_ORIGINAL_BCAST, &np, &none);
    np.payload_len = (size_t)sb_bac_enc_who_is_router(msg, sizeof(msg), true, 7);
    emit("nl_who_is_router_7", SB_BVLC_ORIGINAL_BCAST, &np, &none);
    np.msg_type = SB_BAC_NL_I_AM_ROUTER;
    np.payload_len = (size_t)sb_bac_enc_i_am_router(msg, sizeof(msg), nets, 3);
    emit("nl_i_am_router", SB_BVLC_ORIGINAL_BCAST, &np, &none);
    n = sb_bac_enc_bvlc(pkt, sizeof(pkt), &bv);
    printf("bvlc_register_fd ");
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", pkt[i]);
    bv = (struct sb_bac_bvlc){ .function = SB_BVLC_RESULT, .result = SB_BVLC_NAK_REGISTER_FD };
    n = sb_bac_enc_bvlc(pkt, sizeof(pkt), &bv);
    printf("\nbvlc_result_nak ");
    for (ssize_t i = 0; i < n; i++)
        printf("%02x", pkt[i]);
    printf("\n");
}

/* Packets typed in by hand rather than encoded by us: what other stacks
 * send.  The npm BACnet server advertises Max-APDU 1482 (not a standard
 * size, clause 20.1.2.5): the decoder must take it as plain data. */
static void handmade(void)
{
    printf("iam_npm_1482 810b001401001000c4020003e92205ca910321ff\n");
    /* ReadProperty whose context tags use LVT 5 with a short extended
     * length: not minimal, but decoders must accept it (20.2.1.3.1) */
    printf("rp_req_lvt5 810a001301040005" "0d0c" "0d0400000003" "1d0155\n");
}

/* ---- svc2.h services (`mkvec svc2`) ---- */

/* The examples of ANSI/ASHRAE 135 Annex F (encodings of the Annex E
 * examples), APDU octets typed from the standard (the same octets are in
 * BACnet4J's AnnexFEncodingTest), wrapped in an Original-Unicast BVLC and
 * a plain NPDU (expecting-reply for confirmed requests). */
static void svc2_annex_f(void)
{
    /* F.1.1 AcknowledgeAlarm, invoke id 7 */
    printf("f_ackalarm 810a002a0104" "00020700" "0901" "1c00000002" "2903"
           "3e19103f" "4c004d444c" "5e2ea45c0615ffb40d0329092f5f\n");
    /* F.1.8 GetEventInformation request (no lastReceivedObjectIdentifier) */
    printf("f_gei_req 810a000a0104" "0202011d\n");
    /* F.1.8 GetEventInformation-ACK: AI 2 high-limit, AI 3 normal */
    printf("f_gei_ack 810a005d0100" "30011d" "0e"
           "0c00000002" "1903" "2a0560" "3e0c0f2300140cffffffff0cffffffff3f" "4900" "5a05e0"
           "6e210f210f21146f"
           "0c00000003" "1900" "2a05c0" "3e0c0f2800000cffffffff0c0f2d1e1e3f" "4900" "5a05e0"
           "6e210f210f21146f" "0f" "1900\n");
    /* F.3.8 ReadRange by time, Trend Log 1 Log_Buffer, count 4 */
    printf("f_rr_req 810a001f0104" "0202011a" "0c05000001" "1983"
           "7ea462031701b4133422003104" "7f\n");
    /* F.3.8 ReadRange-ACK, two log records, firstSequenceNumber 79201 */
    printf("f_rr_ack 810a00470100" "30011a" "0c05000001" "1983" "3a05c0" "4902" "5e"
           "0ea462031701b413361b000f" "1e2c419000001f" "2a0400"
           "0ea462031701b413381b000f" "1e2c4190cccd1f" "2a0400" "5f" "6b013561\n");
    /* F.3.10 WritePropertyMultiple, AV 5, 6, 7 Present_Value */
    printf("f_wpm 810a003a0104" "00040110"
           "0c00800005" "1e09552e44428600002f1f" "0c00800006" "1e09552e44428600002f1f"
           "0c00800007" "1e09552e44429000002f1f\n");
    /* F.4.7 TimeSynchronization, 17 Nov 1992 22:45:30.70 */
    printf("f_timesync 810a00120100" "1006" "a45c0b11ff" "b4162d1e46\n");
    /* F.4.8 Who-Has by name "OATemp", I-Have, Who-Has by identifier */
    printf("f_whohas_name 810a00110100" "1007" "3d07004f4154656d70\n");
    printf("f_ihave 810a001b0100" "1001" "c402000008" "c400000003" "7507004f4154656d70\n");
    printf("f_whohas_oid 810a000d0100" "1007" "2c00000003\n");
}

static const struct sb_bac_datetime dt_spring = { { 126, 3, 29, 7 }, { 1, 30, 0, 0 } };

static void svc2_wpm(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 40,
                              .service = 16 };
    uint8_t v1[8], v2[8], v3[8];
    struct sb_bac_value real = { .type = SB_BAC_REAL, .v.real = 20.5f };
    struct sb_bac_value null = { .type = SB_BAC_NULL };
    struct sb_bac_value on = { .type = SB_BAC_ENUMERATED, .v.enumerated = 1 };
    struct sb_bac_propval av[] = { { 85, false, 0, v1, 0, 8 }, { 87, true, 3, v2, 0, 0 } };
    struct sb_bac_propval bv[] = { { 85, false, 0, v3, 0, 16 } };
    struct sb_bac_wpm_spec s1 = { .oid = { 2, 1 }, .vals = av, .nvals = 2 };
    struct sb_bac_wpm_spec s2 = { .oid = { 5, 2 }, .vals = bv, .nvals = 1 };
    struct sb_bac_wpm_error we = { 2, 40, { 2, 1 }, 87, true, 3 };

    av[0].value_len = (size_t)sb_bac_enc_app(v1, sizeof(v1), &real);
    av[1].value_len = (size_t)sb_bac_enc_app(v2, sizeof(v2), &null);
    bv[0].value_len = (size_t)sb_bac_enc_app(v3, sizeof(v3), &on);
    body_len = (size_t)sb_bac_enc_wpm_spec(body, CAP, &s1);
    body_len += (size_t)sb_bac_enc_wpm_spec(body + body_len, CAP - body_len, &s2);
    emit("wpm_index_prio", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_ERROR, .invoke_id = 40, .service = 16 };
    body_len = (size_t)sb_bac_enc_wpm_error(body, CAP, &we);
    emit("wpm_error", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void svc2_device_mgmt(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_UNCONFIRMED, .service = 7 };
    struct sb_bac_whohas wh = { true, 100, 200, true, { 0, 0 },
                                { 0, (const uint8_t *)"Zone Temp", 9 } };
    struct sb_bac_ihave ih = { { 8, 260001 }, { 5, 7 }, { 0, (const uint8_t *)"Fan Status", 10 } };

    body_len = (size_t)sb_bac_enc_whohas(body, CAP, &wh);
    emit("whohas_range_name", SB_BVLC_ORIGINAL_BCAST, &np_plain, &ap);
    wh = (struct sb_bac_whohas){ .has_range = true, .high = 4194303, .oid = { 0, 3 } };
    body_len = (size_t)sb_bac_enc_whohas(body, CAP, &wh);
    emit("whohas_range_oid", SB_BVLC_ORIGINAL_BCAST, &np_plain, &ap);
    ap.service = 1;
    body_len = (size_t)sb_bac_enc_ihave(body, CAP, &ih);
    emit("ihave", SB_BVLC_ORIGINAL_BCAST, &np_plain, &ap);
    ap.service = 9;
    body_len = (size_t)sb_bac_enc_timesync(body, CAP, &dt_spring);
    emit("utc_timesync", SB_BVLC_ORIGINAL_BCAST, &np_plain, &ap);
}

static void svc2_rr_req(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 50,
                              .service = 26 };
    struct sb_bac_rr rr = { .oid = { 20, 5 }, .prop = 131, .kind = SB_BAC_RR_POSITION,
                            .ref_index = 1, .count = 10 };

    body_len = (size_t)sb_bac_enc_rr_req(body, CAP, &rr);
    emit("rr_req_position", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    rr = (struct sb_bac_rr){ .oid = { 20, 5 }, .prop = 131, .kind = SB_BAC_RR_SEQUENCE,
                             .ref_index = 70000, .count = -300 };
    body_len = (size_t)sb_bac_enc_rr_req(body, CAP, &rr);
    emit("rr_req_sequence", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    rr = (struct sb_bac_rr){ .oid = { 27, 1 }, .prop = 131, .has_index = true, .index = 2 };
    body_len = (size_t)sb_bac_enc_rr_req(body, CAP, &rr);
    emit("rr_req_all_index", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
}

/* One log record of every logDatum choice (clause 21 BACnetLogRecord). */
static size_t log_records(uint8_t *out, size_t cap)
{
    static const uint8_t bits[] = { 0xb0 };
    static const uint8_t any[] = { 0x91, 0x03 };   /* Enumerated 3 */
    struct sb_bac_logrec r[] = {
        { .kind = SB_BAC_LOG_STATUS, .log_status = SB_BAC_LS_BUFFER_PURGED },
        { .kind = SB_BAC_LOG_BOOL, .v = 1, .has_status = true, .status_flags = SB_BAC_SF_FAULT },
        { .kind = SB_BAC_LOG_REAL, .v = -2.5, .has_status = true },
        { .kind = SB_BAC_LOG_ENUM, .v = 4 },
        { .kind = SB_BAC_LOG_UNSIGNED, .v = 123456 },
        { .kind = SB_BAC_LOG_SIGNED, .v = -40 },
        { .kind = SB_BAC_LOG_BITS, .bits = { bits, 4 } },
        { .kind = SB_BAC_LOG_NULL },
        { .kind = SB_BAC_LOG_FAILURE, .err_class = 7, .err_code = 30 },
        { .kind = SB_BAC_LOG_TIME_CHANGE, .v = 3.25 },
        { .kind = SB_BAC_LOG_ANY, .any = any, .any_len = 2, .has_status = true,
          .status_flags = SB_BAC_SF_IN_ALARM | SB_BAC_SF_OUT_OF_SERVICE },
    };
    size_t n = 0;

    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        r[i].ts = dt_spring;
        r[i].ts.time.min = (uint8_t)(15 * (i % 4));
        n += (size_t)sb_bac_enc_logrec(out + n, cap - n, &r[i]);
    }
    return n;
}

static void svc2_rr_ack(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 50, .service = 26 };
    static uint8_t items[600];
    struct sb_bac_rr_ack ack = { .oid = { 20, 5 }, .prop = 131, .flags = SB_BAC_RR_FIRST | SB_BAC_RR_MORE,
                                 .count = 11, .items = items, .has_first_seq = true,
                                 .first_seq = 4000000000u };

    ack.items_len = log_records(items, sizeof(items));
    body_len = (size_t)sb_bac_enc_rr_ack(body, CAP, &ack);
    emit("rr_ack_log_kinds", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ack = (struct sb_bac_rr_ack){ .oid = { 20, 5 }, .prop = 131, .flags = SB_BAC_RR_LAST };
    body_len = (size_t)sb_bac_enc_rr_ack(body, CAP, &ack);
    emit("rr_ack_empty", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

static void svc2_events(void)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 60,
                              .service = 29 };
    struct sb_bac_gei_req gq = { true, { 0, 2 } };
    struct sb_bac_event_summary es = {
        { 2, 9 }, 2, SB_BAC_TR_TO_NORMAL,
        { { .kind = SB_BAC_TS_DATETIME, .dt = dt_spring }, { .kind = SB_BAC_TS_SEQ, .seq = 65535 },
          { .kind = SB_BAC_TS_TIME, .time = { 255, 255, 255, 255 } } },
        1, SB_BAC_TR_TO_OFFNORMAL | SB_BAC_TR_TO_NORMAL, { 100, 200, 255 } };
    struct sb_bac_gei_ack ga = { &es, 1, NULL, 0, true };
    struct sb_bac_ackalarm aa = { 77, { 2, 9 }, 2, { .kind = SB_BAC_TS_DATETIME, .dt = dt_spring },
                                  { 0, (const uint8_t *)"operator", 8 },
                                  { .kind = SB_BAC_TS_TIME, .time = { 8, 5, 0, 0 } } };

    body_len = (size_t)sb_bac_enc_gei_req(body, CAP, &gq);
    emit("gei_req_last", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 60, .service = 29 };
    body_len = (size_t)sb_bac_enc_gei_ack(body, CAP, &ga);
    emit("gei_ack_more", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ga = (struct sb_bac_gei_ack){ .nsums = 0 };
    body_len = (size_t)sb_bac_enc_gei_ack(body, CAP, &ga);
    emit("gei_ack_empty", SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
    ap = (struct sb_bac_apdu){ .type = SB_BAC_PDU_CONFIRMED, .max_apdu = 5, .invoke_id = 61,
                               .service = 0 };
    body_len = (size_t)sb_bac_enc_ackalarm(body, CAP, &aa);
    emit("ackalarm_datetime", SB_BVLC_ORIGINAL_UNICAST, &np_reply, &ap);
}

/* A ReadProperty-ACK carrying val (a constructed property value). */
static void emit_rp_ack(const char *name, struct sb_bac_oid oid, uint32_t prop,
                        const uint8_t *val, size_t n)
{
    struct sb_bac_apdu ap = { .type = SB_BAC_PDU_COMPLEX_ACK, .invoke_id = 70,
                              .service = SB_BAC_SVC_READ_PROPERTY };
    struct sb_bac_rp rp = { .oid = oid, .prop = prop, .value = val, .value_len = n };

    body_len = (size_t)sb_bac_enc_rp_ack(body, CAP, &rp);
    emit(name, SB_BVLC_ORIGINAL_UNICAST, &np_plain, &ap);
}

/* Weekly_Schedule: 7 BACnetDailySchedules, Monday first (12.24.6). */
static void svc2_weekly(void)
{
    struct sb_bac_timevalue day[] = {
        { { 7, 0, 0, 0 }, { .type = SB_BAC_REAL, .v.real = 21.0f } },
        { { 18, 30, 0, 0 }, { .type = SB_BAC_NULL } },
    };
    struct sb_bac_timevalue sat[] = {
        { { 9, 0, 0, 0 }, { .type = SB_BAC_ENUMERATED, .v.enumerated = 1 } },
        { { 12, 0, 0, 0 }, { .type = SB_BAC_BOOLEAN, .v.boolean = true } },
        { { 13, 0, 0, 0 }, { .type = SB_BAC_UNSIGNED, .v.u = 300 } },
    };
    uint8_t val[400];
    size_t n = 0;

    for (int d = 0; d < 5; d++)
        n += (size_t)sb_bac_enc_daily(val + n, sizeof(val) - n, day, 2);
    n += (size_t)sb_bac_enc_daily(val + n, sizeof(val) - n, sat, 3);
    n += (size_t)sb_bac_enc_daily(val + n, sizeof(val) - n, NULL, 0);   /* Sunday: empty */
    emit_rp_ack("rp_ack_weekly_schedule", (struct sb_bac_oid){ 17, 1 }, 123, val, n);
}

/* Exception_Schedule (12.24.8), Date_List (12.9.7), Effective_Period. */
static void svc2_calendar(void)
{
    struct sb_bac_timevalue tv[] = { { { 0, 0, 0, 0 }, { .type = SB_BAC_REAL, .v.real = 16.0f } } };
    struct sb_bac_calentry ce[] = {
        { .kind = SB_BAC_CAL_DATE, .date = { 126, 12, 25, 255 } },
        { .kind = SB_BAC_CAL_RANGE, .range = { { 126, 8, 1, 255 }, { 126, 8, 15, 255 } } },
        { .kind = SB_BAC_CAL_WEEKNDAY, .wnd = { 11, 4, 4 } },
    };
    struct sb_bac_special se = { .tv = tv, .ntv = 1, .priority = 1 };
    struct sb_bac_daterange dr = { { 126, 1, 1, 4 }, { 126, 12, 31, 4 } };
    uint8_t val[400];
    size_t n = 0;

    for (size_t i = 0; i < 3; i++) {
        se.entry = ce[i];
        se.priority = (uint8_t)(1 + 5 * i);
        n += (size_t)sb_bac_enc_special(val + n, sizeof(val) - n, &se);
    }
    se = (struct sb_bac_special){ .by_ref = true, .calendar = { 6, 3 }, .priority = 16 };
    n += (size_t)sb_bac_enc_special(val + n, sizeof(val) - n, &se);
    emit_rp_ack("rp_ack_exception_schedule", (struct sb_bac_oid){ 17, 1 }, 38, val, n);
    n = 0;
    for (size_t i = 0; i < 3; i++)
        n += (size_t)sb_bac_enc_calentry(val + n, sizeof(val) - n, &ce[i]);
    emit_rp_ack("rp_ack_date_list", (struct sb_bac_oid){ 6, 3 }, 23, val, n);
    n = (size_t)sb_bac_enc_daterange(val, sizeof(val), &dr);
    emit_rp_ack("rp_ack_effective_period", (struct sb_bac_oid){ 17, 1 }, 32, val, n);
}

/* Event_Time_Stamps: a BACnetARRAY[3] of BACnetTimeStamp. */
static void svc2_event_ts(void)
{
    struct sb_bac_timestamp ts[] = {
        { .kind = SB_BAC_TS_TIME, .time = { 10, 11, 12, 14 } },
        { .kind = SB_BAC_TS_SEQ, .seq = 17185 },
        { .kind = SB_BAC_TS_DATETIME, .dt = dt_spring },
    };
    uint8_t val[64];
    size_t n = 0;

    for (size_t i = 0; i < 3; i++)
        n += (size_t)sb_bac_enc_timestamp(val + n, sizeof(val) - n, &ts[i]);
    emit_rp_ack("rp_ack_event_time_stamps", (struct sb_bac_oid){ 0, 2 }, 130, val, n);
}

static int svc2_vectors(void)
{
    svc2_annex_f();
    svc2_wpm();
    svc2_device_mgmt();
    svc2_rr_req();
    svc2_rr_ack();
    svc2_events();
    svc2_weekly();
    svc2_calendar();
    svc2_event_ts();
    return 0;
}


int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "svc2"))
        return svc2_vectors();
    handmade();
    unconfirmed();
    read_property();
    read_property_long();
    write_property();
    rpm();
    cov();
    replies();
    segmented();
    link_layer();
    return 0;
}

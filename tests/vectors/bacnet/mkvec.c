/*
 * mkvec.c - prints the BACnet golden packets, built with the sbems encoders,
 * one "name hex" line each.  Run by regen.sh, which decodes every packet
 * with tshark (an independent decoder) and records what tshark says in
 * packets.txt; test_bacnet_codec then checks our decoders against that.
 */
#include <stdio.h>
#include <string.h>

#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"

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

int main(void)
{
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

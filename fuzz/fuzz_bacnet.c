/*
 * fuzz_bacnet.c - libFuzzer target over every BACnet codec decoder
 * (src/proto/bacnet/codec/).
 *
 * The input is one BACnet/IP datagram: it goes down the layers as the
 * transport will feed it (BVLC -> NPDU -> APDU -> service -> values), and
 * is also fed raw to each service and tag decoder, so a bug deep in one
 * decoder is reachable without building valid outer headers.  Headers
 * that decode must re-encode and decode to the same fields.
 * Seeds: fuzz/corpus/bacnet/ (golden packets from tests/vectors/bacnet).
 */
#include <stdlib.h>
#include <string.h>

#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Walk a sequence of application values (an encoded property value). */
static void values(const uint8_t *p, size_t n)
{
    struct sb_bac_value v;
    ssize_t k;

    for (size_t off = 0; off < n; off += (size_t)k) {
        if ((k = sb_bac_dec_app(p + off, n - off, &v)) < 0 &&
            (k = sb_bac_skip(p + off, n - off)) < 0)
            return;
        if (k == 0)
            abort();   /* a decoder must make progress */
    }
}

static void rpm(const uint8_t *p, size_t n)
{
    struct sb_bac_rpm_spec s;
    struct sb_bac_rpm_result r;
    struct sb_bac_propref pr;
    struct sb_bac_rpm_elem e;
    ssize_t k, m;

    for (size_t off = 0; off < n && (k = sb_bac_dec_rpm_spec(p + off, n - off, &s)) > 0; off += (size_t)k)
        for (size_t o = 0; o < s.list_len && (m = sb_bac_dec_propref(s.list + o, s.list_len - o, &pr)) > 0; o += (size_t)m)
            ;
    for (size_t off = 0; off < n && (k = sb_bac_dec_rpm_result(p + off, n - off, &r)) > 0; off += (size_t)k)
        for (size_t o = 0; o < r.list_len && (m = sb_bac_dec_rpm_elem(r.list + o, r.list_len - o, &e)) > 0; o += (size_t)m)
            if (!e.is_error)
                values(e.value, e.value_len);
}

/* Every service decoder on the same bytes. */
static void services(const uint8_t *p, size_t n)
{
    struct sb_bac_whois wi;
    struct sb_bac_iam ia;
    struct sb_bac_rp rp;
    struct sb_bac_wp wp;
    struct sb_bac_subcov sc;
    struct sb_bac_cov_notif cn;
    struct sb_bac_propval pv;
    struct sb_bac_error er;
    ssize_t m;

    (void)sb_bac_dec_whois(p, n, &wi);
    (void)sb_bac_dec_iam(p, n, &ia);
    (void)sb_bac_dec_rp_req(p, n, &rp);
    if (sb_bac_dec_rp_ack(p, n, &rp) > 0)
        values(rp.value, rp.value_len);
    if (sb_bac_dec_wp(p, n, &wp) > 0)
        values(wp.value, wp.value_len);
    (void)sb_bac_dec_subcov(p, n, &sc);
    (void)sb_bac_dec_error(p, n, &er);
    if (sb_bac_dec_cov_notif(p, n, &cn) > 0)
        for (size_t o = 0; o < cn.list_len && (m = sb_bac_dec_propval(cn.list + o, cn.list_len - o, &pv)) > 0; o += (size_t)m)
            values(pv.value, pv.value_len);
    rpm(p, n);
}

/* Decoded headers re-encode to bytes that decode to the same header. */
static void apdu_layer(const uint8_t *p, size_t n)
{
    struct sb_bac_apdu a, b;
    uint8_t out[2048];
    ssize_t k;

    if (sb_bac_dec_apdu(p, n, &a) < 0)
        return;
    if (!a.seg)
        services(a.body, a.body_len);
    if (a.body_len > sizeof(out) - 8)
        return;
    k = sb_bac_enc_apdu(out, sizeof(out), &a);
    if (k < 0 || sb_bac_dec_apdu(out, (size_t)k, &b) < 0 || a.type != b.type ||
        a.invoke_id != b.invoke_id || a.service != b.service || a.body_len != b.body_len)
        abort();
}

static void npdu_layer(const uint8_t *p, size_t n)
{
    struct sb_bac_npdu a, b;
    struct sb_bac_netlist l;
    uint8_t out[2048];
    bool has;
    uint16_t net;
    ssize_t k;

    if (sb_bac_dec_npdu(p, n, &a) < 0)
        return;
    if (a.net_msg) {
        (void)sb_bac_dec_who_is_router(a.payload, a.payload_len, &has, &net);
        if (sb_bac_dec_i_am_router(a.payload, a.payload_len, &l) > 0 && l.count)
            (void)sb_bac_netlist_get(&l, l.count - 1);
    } else {
        apdu_layer(a.payload, a.payload_len);
    }
    if (a.payload_len > sizeof(out) - 64 || (a.has_src && (a.src.net == 0 || a.src.net == 0xFFFF)) ||
        (a.has_dst && a.dst.net == 0))
        return;   /* encoder refuses these by design */
    k = sb_bac_enc_npdu(out, sizeof(out), &a);
    if (k < 0 || sb_bac_dec_npdu(out, (size_t)k, &b) < 0 || b.payload_len != a.payload_len ||
        b.net_msg != a.net_msg || b.has_dst != a.has_dst || b.has_src != a.has_src)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_bac_bvlc b;
    struct sb_bac_tag t;
    const uint8_t *in;
    size_t in_len;

    if (sb_bac_dec_bvlc(data, size, &b) > 0 &&
        (b.function == SB_BVLC_ORIGINAL_UNICAST || b.function == SB_BVLC_ORIGINAL_BCAST ||
         b.function == SB_BVLC_FORWARDED_NPDU || b.function == SB_BVLC_DISTRIBUTE_BCAST))
        npdu_layer(b.data, b.data_len);
    /* the same bytes raw, past a 4-octet BVLC-sized prefix and at 0 */
    services(data, size);
    if (size > 6)
        services(data + 6, size - 6);
    values(data, size);
    (void)sb_bac_dec_tag(data, size, &t);
    (void)sb_bac_dec_constructed(data, size, 3, &in, &in_len);
    return 0;
}

/*
 * fuzz_bacnet.c - libFuzzer target over every BACnet codec decoder
 * (src/proto/bacnet/codec/).
 *
 * The input is one BACnet/IP datagram: it goes down the layers as the
 * transport will feed it (BVLC -> NPDU -> APDU -> service -> values), and
 * is also fed raw to each service and tag decoder, so a bug deep in one
 * decoder is reachable without building valid outer headers.  Headers
 * that decode must re-encode and decode to the same fields.  The svc2.h
 * decoders run raw too, and down the layers for their own PDU type and
 * service choice; what they decode must re-encode to bytes that decode
 * and re-encode to the same bytes (or be refused with SB_EINVAL).
 * Seeds: fuzz/corpus/bacnet/ (golden packets from tests/vectors/bacnet,
 * packets.txt and packets_svc2.txt).
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"
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

/* ---- svc2.h ---- */

/* x was decoded: enc(x) must decode again to a value that encodes to the
 * same bytes.  Only where may_refuse may the encoder refuse a decoded
 * value (SB_EINVAL: a Who-Has with low > high, which the decoder takes as
 * the Who-Is decoder does); SB_ENOSPC only past our 4 KiB buffer. */
#define STABLE(type, enc, dec, x, may_refuse)                                 \
    do {                                                                      \
        static uint8_t b1_[4096], b2_[4096];                                  \
        type y_;                                                              \
        ssize_t n1_ = enc(b1_, sizeof(b1_), x), n2_;                          \
        if (n1_ < 0) {                                                        \
            if (n1_ != SB_ENOSPC && !(may_refuse && n1_ == SB_EINVAL))        \
                abort();                                                      \
            break;                                                            \
        }                                                                     \
        if (dec(b1_, (size_t)n1_, &y_) != n1_)                                \
            abort();                                                          \
        n2_ = enc(b2_, sizeof(b2_), &y_);                                     \
        if (n2_ != n1_ || memcmp(b1_, b2_, (size_t)n1_))                      \
            abort();                                                          \
    } while (0)

static void timevalues(const uint8_t *p, size_t n)
{
    struct sb_bac_timevalue tv;
    ssize_t k;

    for (size_t off = 0; off < n && (k = sb_bac_dec_timevalue(p + off, n - off, &tv)) > 0; off += (size_t)k)
        STABLE(struct sb_bac_timevalue, sb_bac_enc_timevalue, sb_bac_dec_timevalue, &tv, false);
}

static void logrecs(const uint8_t *p, size_t n)
{
    struct sb_bac_logrec r;
    ssize_t k;

    for (size_t off = 0; off < n && (k = sb_bac_dec_logrec(p + off, n - off, &r)) > 0; off += (size_t)k) {
        if (r.kind == SB_BAC_LOG_ANY)
            values(r.any, r.any_len);
        STABLE(struct sb_bac_logrec, sb_bac_enc_logrec, sb_bac_dec_logrec, &r, false);
    }
}

static void wpm(const uint8_t *p, size_t n)
{
    struct sb_bac_wpm_spec s;
    struct sb_bac_propval pv;
    ssize_t k, m;

    for (size_t off = 0; off < n && (k = sb_bac_dec_wpm_spec(p + off, n - off, &s)) > 0; off += (size_t)k)
        for (size_t o = 0; o < s.list_len && (m = sb_bac_dec_propval(s.list + o, s.list_len - o, &pv)) > 0; o += (size_t)m) {
            values(pv.value, pv.value_len);
            STABLE(struct sb_bac_propval, sb_bac_enc_propval, sb_bac_dec_propval, &pv, false);
        }
}

/* An ACK of one decoded summary re-encodes stably (the decoded ACK holds
 * the raw list, which its encoder does not read: decode the list again). */
static void gei_stable(const struct sb_bac_event_summary *s, bool more)
{
    static uint8_t b1[512], b2[512];
    struct sb_bac_gei_ack one = { s, 1, NULL, 0, more }, d;
    struct sb_bac_event_summary s2;
    ssize_t n1 = sb_bac_enc_gei_ack(b1, sizeof(b1), &one), n2;

    if (n1 < 0)
        abort();
    if (sb_bac_dec_gei_ack(b1, (size_t)n1, &d) != n1 ||
        sb_bac_dec_event_summary(d.list, d.list_len, &s2) != (ssize_t)d.list_len)
        abort();
    one.sums = &s2;
    n2 = sb_bac_enc_gei_ack(b2, sizeof(b2), &one);
    if (n2 != n1 || memcmp(b1, b2, (size_t)n1))
        abort();
}

static void gei_ack(const uint8_t *p, size_t n)
{
    struct sb_bac_gei_ack a;
    struct sb_bac_event_summary s;
    ssize_t k;

    if (sb_bac_dec_gei_ack(p, n, &a) < 0)
        return;
    for (size_t off = 0; off < a.list_len && (k = sb_bac_dec_event_summary(a.list + off, a.list_len - off, &s)) > 0; off += (size_t)k)
        gei_stable(&s, a.more);
}

static void rr_ack(const uint8_t *p, size_t n)
{
    struct sb_bac_rr_ack a;

    if (sb_bac_dec_rr_ack(p, n, &a) < 0)
        return;
    logrecs(a.items, a.items_len);
    STABLE(struct sb_bac_rr_ack, sb_bac_enc_rr_ack, sb_bac_dec_rr_ack, &a, false);
}

/* Schedule values: dailies, special events, calendar entries, ranges. */
static void schedule(const uint8_t *p, size_t n)
{
    struct sb_bac_special sp;
    struct sb_bac_calentry ce;
    struct sb_bac_daterange dr;
    struct sb_bac_timestamp ts;
    struct sb_bac_datetime dt;
    const uint8_t *l;
    size_t ll;

    if (sb_bac_dec_daily(p, n, &l, &ll) > 0)
        timevalues(l, ll);
    if (sb_bac_dec_special(p, n, &sp) > 0) {
        timevalues(sp.list, sp.list_len);
        sp.tv = NULL;
        sp.ntv = 0;
        STABLE(struct sb_bac_special, sb_bac_enc_special, sb_bac_dec_special, &sp, false);
    }
    if (sb_bac_dec_calentry(p, n, &ce) > 0)
        STABLE(struct sb_bac_calentry, sb_bac_enc_calentry, sb_bac_dec_calentry, &ce, false);
    if (sb_bac_dec_daterange(p, n, &dr) > 0)
        STABLE(struct sb_bac_daterange, sb_bac_enc_daterange, sb_bac_dec_daterange, &dr, false);
    if (sb_bac_dec_timestamp(p, n, &ts) > 0)
        STABLE(struct sb_bac_timestamp, sb_bac_enc_timestamp, sb_bac_dec_timestamp, &ts, false);
    if (sb_bac_dec_datetime(p, n, &dt) > 0) {
        int64_t ms;
        if (sb_bac_dt_to_unix(&dt, 0, &ms) == 0 && sb_bac_dt_from_unix(ms, 0, &dt) != 0)
            abort();   /* every date to_unix takes, from_unix can give */
    }
    timevalues(p, n);
}

/* Every svc2.h decoder on the same bytes. */
static void services2(const uint8_t *p, size_t n)
{
    struct sb_bac_whohas wh;
    struct sb_bac_ihave ih;
    struct sb_bac_rr rr;
    struct sb_bac_datetime dt;
    struct sb_bac_gei_req gq;
    struct sb_bac_ackalarm aa;
    struct sb_bac_wpm_error we;

    if (sb_bac_dec_whohas(p, n, &wh) > 0)
        STABLE(struct sb_bac_whohas, sb_bac_enc_whohas, sb_bac_dec_whohas, &wh, true);
    if (sb_bac_dec_ihave(p, n, &ih) > 0)
        STABLE(struct sb_bac_ihave, sb_bac_enc_ihave, sb_bac_dec_ihave, &ih, false);
    if (sb_bac_dec_rr_req(p, n, &rr) > 0)
        STABLE(struct sb_bac_rr, sb_bac_enc_rr_req, sb_bac_dec_rr_req, &rr, false);
    if (sb_bac_dec_timesync(p, n, &dt) > 0)
        STABLE(struct sb_bac_datetime, sb_bac_enc_timesync, sb_bac_dec_timesync, &dt, false);
    if (sb_bac_dec_gei_req(p, n, &gq) > 0)
        STABLE(struct sb_bac_gei_req, sb_bac_enc_gei_req, sb_bac_dec_gei_req, &gq, false);
    if (sb_bac_dec_ackalarm(p, n, &aa) > 0)
        STABLE(struct sb_bac_ackalarm, sb_bac_enc_ackalarm, sb_bac_dec_ackalarm, &aa, false);
    if (sb_bac_dec_wpm_error(p, n, &we) > 0)
        STABLE(struct sb_bac_wpm_error, sb_bac_enc_wpm_error, sb_bac_dec_wpm_error, &we, false);
    wpm(p, n);
    gei_ack(p, n);
    rr_ack(p, n);
    logrecs(p, n);
    schedule(p, n);
}

/* The decoder a BACnet node would pick for this PDU type and service
 * choice (enums.h), as the transport will call it. */
static void svc2_layered(const struct sb_bac_apdu *a)
{
    struct sb_bac_rp rp;
    const uint8_t *b = a->body;
    size_t n = a->body_len;

    if (a->type == SB_BAC_PDU_CONFIRMED && a->service == SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE)
        wpm(b, n);
    else if (a->type == SB_BAC_PDU_ERROR && a->service == SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE)
        services2(b, n);   /* WPM-Error */
    else if (a->type == SB_BAC_PDU_COMPLEX_ACK && a->service == SB_BAC_SVC_READ_RANGE)
        rr_ack(b, n);
    else if (a->type == SB_BAC_PDU_COMPLEX_ACK && a->service == SB_BAC_SVC_GET_EVENT_INFORMATION)
        gei_ack(b, n);
    else if (a->type == SB_BAC_PDU_COMPLEX_ACK && a->service == SB_BAC_SVC_READ_PROPERTY &&
             sb_bac_dec_rp_ack(b, n, &rp) > 0)
        schedule(rp.value, rp.value_len);   /* Weekly_Schedule, Date_List, ... */
    else if (a->type == SB_BAC_PDU_CONFIRMED || a->type == SB_BAC_PDU_UNCONFIRMED)
        services2(b, n);   /* AcknowledgeAlarm, ReadRange, GEI, Who-Has, I-Have, TimeSync */
}

/* Decoded headers re-encode to bytes that decode to the same header. */
static void apdu_layer(const uint8_t *p, size_t n)
{
    struct sb_bac_apdu a, b;
    uint8_t out[2048];
    ssize_t k;

    if (sb_bac_dec_apdu(p, n, &a) < 0)
        return;
    if (!a.seg) {
        services(a.body, a.body_len);
        svc2_layered(&a);
    }
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
    services2(data, size);
    if (size > 6) {
        services(data + 6, size - 6);
        services2(data + 6, size - 6);
    }
    values(data, size);
    (void)sb_bac_dec_tag(data, size, &t);
    (void)sb_bac_dec_constructed(data, size, 3, &in, &in_len);
    return 0;
}

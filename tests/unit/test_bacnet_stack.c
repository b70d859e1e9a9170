/*
 * test_bacnet_stack.c - the BACnet/IP transport and transaction state
 * machine (src/proto/bacnet/stack/) over real UDP sockets on 127.0.0.1.
 *
 * Two stacks talk to each other (client A, server B with a scripted
 * handler); a third socket ("raw", plain libuv UDP speaking bytes built
 * with the codec) plays a BBMD, a router and a misbehaving peer.
 * Every wait is bounded by a loop timer.
 */
#include <arpa/inet.h>
#include <string.h>
#include <uv.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/stack/stack.h"
#include "tap.h"

#define PA 47931
#define PB 47932
#define PR 47933

static uv_loop_t loop;

/* ---- running the loop until a condition, bounded --------------------------- */

static void on_guard(uv_timer_t *t) { *(int *)t->data = 1; }

static void run_until(const int *flag, int want, int ms)
{
    uv_timer_t g;
    int expired = 0;
    uv_timer_init(&loop, &g);
    g.data = &expired;
    uv_timer_start(&g, on_guard, (uint64_t)ms, 0);
    while (*flag < want && !expired)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&g, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* ---- server B's scripted handler ------------------------------------------------ */

static int b_calls;

static ssize_t b_confirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                           const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                           uint8_t *pdu, uint8_t *reason)
{
    struct sb_bac_stack *b = *(struct sb_bac_stack **)ud;
    b_calls++;
    switch (service) {
    case 12: {                                   /* answer body[0]*100 pattern bytes */
        size_t n = len ? (size_t)body[0] * 100 : 0;
        for (size_t i = 0; i < n && i < cap; i++)
            out[i] = (uint8_t)(i * 7 + 3);
        *pdu = SB_BAC_PDU_COMPLEX_ACK;
        return (ssize_t)n;
    }
    case 15:
        *pdu = SB_BAC_PDU_SIMPLE_ACK;
        return 0;
    case 16: {
        struct sb_bac_error e = { .err_class = SB_BAC_EC_PROPERTY, .err_code = SB_BAC_ERR_UNKNOWN_PROPERTY };
        *pdu = SB_BAC_PDU_ERROR;
        return sb_bac_enc_error(out, cap, &e);
    }
    case 5: {                                    /* ack, then an unconfirmed after it */
        uint8_t x[2] = { 0x09, 0x2a };
        CHECK_EQ(sb_bac_unconfirmed(b, from, 0, 2, x, 2), 0);
        *pdu = SB_BAC_PDU_SIMPLE_ACK;
        return 0;
    }
    case 20:
        return -1;                               /* never answer */
    default:
        *pdu = SB_BAC_PDU_REJECT;
        *reason = SB_BAC_RJ_UNRECOGNIZED_SERVICE;
        return 0;
    }
}

/* ---- client A's callbacks ---------------------------------------------------------- */

struct got {
    int done;
    struct sb_bac_result r;
    uint8_t body[8192];
    int order;
};

static int events;       /* a running count: orders callbacks */
static int unconf_seen, unconf_order;
static struct sb_bac_peer unconf_from;
static uint8_t unconf_service;

static void a_cb(void *ud, const struct sb_bac_result *r)
{
    struct got *g = ud;
    g->r = *r;
    if (r->body && r->len <= sizeof(g->body)) {
        memcpy(g->body, r->body, r->len);
        g->r.body = g->body;
    }
    g->order = ++events;
    g->done++;
}

static void a_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                          const uint8_t *body, size_t len)
{
    unconf_seen++;
    unconf_order = ++events;
    unconf_from = *from;
    unconf_service = service;
}

/* ---- the raw peer --------------------------------------------------------------- */

static uv_udp_t raw;
static uint8_t raw_buf[2048], raw_last[2048];
static size_t raw_len;
static int raw_n;

static void raw_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b) { *b = uv_buf_init((char *)raw_buf, sizeof(raw_buf)); }

static void raw_recv(uv_udp_t *u, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned f)
{
    if (n <= 0)
        return;
    memcpy(raw_last, b->base, (size_t)n);
    raw_len = (size_t)n;
    raw_n++;
}

static void raw_send(const uint8_t *p, size_t n, int port)
{
    struct sockaddr_in to;
    uv_ip4_addr("127.0.0.1", port, &to);
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    CHECK_EQ(uv_udp_try_send(&raw, &b, 1, (const struct sockaddr *)&to), (int)n);
}

static struct sb_bac_peer peer_at(int port)
{
    struct sb_bac_peer p;
    char s[32];
    snprintf(s, sizeof(s), "127.0.0.1:%d", port);
    sb_bac_peer_parse(s, &p);
    return p;
}

/* BVLC unicast + NPDU (optionally with SNET/SADR) + APDU into out. */
static size_t frame(uint8_t *out, size_t cap, const struct sb_bac_apdu *a, const struct sb_bac_addr *src)
{
    uint8_t apdu[1600];
    ssize_t k = sb_bac_enc_apdu(apdu, sizeof(apdu), a);
    struct sb_bac_npdu n = { .payload = apdu, .payload_len = (size_t)k };
    if (src) {
        n.has_src = true;
        n.src = *src;
    }
    k = sb_bac_enc_npdu(out, cap, &n);
    struct sb_bac_bvlc b = { .function = SB_BVLC_ORIGINAL_UNICAST, .data = out, .data_len = (size_t)k };
    return (size_t)sb_bac_enc_bvlc(out, cap, &b);
}

/* ---- tests ---------------------------------------------------------------------------- */

static struct sb_bac_stack *A, *B;

TEST(simple_complex_error_reject)
{
    struct sb_bac_peer pb = peer_at(PB);
    struct got g1 = { 0 }, g2 = { 0 }, g3 = { 0 }, g4 = { 0 };
    uint8_t small = 2;
    int all = 0;

    REQUIRE(sb_bac_request(A, &pb, 12, &small, 1, a_cb, &g1) == 0);
    REQUIRE(sb_bac_request(A, &pb, 15, NULL, 0, a_cb, &g2) == 0);
    REQUIRE(sb_bac_request(A, &pb, 16, NULL, 0, a_cb, &g3) == 0);
    REQUIRE(sb_bac_request(A, &pb, 33, NULL, 0, a_cb, &g4) == 0);
    CHECK_EQ(g1.done + g2.done, 0);              /* never from inside the call */
    for (int i = 0; i < 100 && all < 4; i++) {
        run_until(&g4.done, 1, 2000);
        all = g1.done + g2.done + g3.done + g4.done;
    }
    CHECK_EQ(g1.done, 1);
    CHECK_EQ(g1.r.rc, 0);
    CHECK_EQ(g1.r.pdu, SB_BAC_PDU_COMPLEX_ACK);
    CHECK_EQ(g1.r.len, 200);
    CHECK_EQ(g1.r.segments, 1);
    CHECK(g1.r.len == 200 && g1.body[199] == (uint8_t)(199 * 7 + 3));
    CHECK_EQ(g2.r.rc, 0);
    CHECK_EQ(g2.r.pdu, SB_BAC_PDU_SIMPLE_ACK);
    CHECK_EQ(g3.r.rc, SB_EPROTO);
    CHECK_EQ(g3.r.pdu, SB_BAC_PDU_ERROR);
    CHECK_EQ(g3.r.err_class, SB_BAC_EC_PROPERTY);
    CHECK_EQ(g3.r.err_code, SB_BAC_ERR_UNKNOWN_PROPERTY);
    CHECK_EQ(g4.r.rc, SB_EPROTO);
    CHECK_EQ(g4.r.pdu, SB_BAC_PDU_REJECT);
    CHECK_EQ(g4.r.reason, SB_BAC_RJ_UNRECOGNIZED_SERVICE);
}

TEST(segmented_answer_reassembled)
{
    struct sb_bac_peer pb = peer_at(PB);
    struct got g = { 0 };
    uint8_t big = 50;                            /* 5000 bytes over A's 480-octet APDUs */
    uint64_t seg0 = sb_bac_stack_stats(B)->seg_tx;

    REQUIRE(sb_bac_request(A, &pb, 12, &big, 1, a_cb, &g) == 0);
    run_until(&g.done, 1, 5000);
    REQUIRE(g.done == 1);
    CHECK_EQ(g.r.rc, 0);
    CHECK_EQ(g.r.len, 5000);
    CHECK_EQ(g.r.segments, 11);                  /* ceil(5000 / 475) */
    int same = 1;
    for (size_t i = 0; i < 5000; i++)
        same &= g.body[i] == (uint8_t)(i * 7 + 3);
    CHECK(same);
    CHECK_EQ(sb_bac_stack_stats(B)->seg_tx - seg0, 11);
    CHECK(sb_bac_stack_stats(A)->seg_rx >= 11);
}

TEST(more_segments_than_accepted_aborts)
{
    struct sb_bac_peer pb = peer_at(PB);
    struct got g = { 0 };
    uint8_t huge = 80;                           /* 8000 bytes = 17 segments of 475 */

    /* A takes 8 KiB = 17 APDUs of 480, announced as max-segments 16
     * (clause 20.1.2.4 codes are powers of two, rounded down), so B must
     * refuse rather than send what A said it cannot take. */
    REQUIRE(sb_bac_request(A, &pb, 12, &huge, 1, a_cb, &g) == 0);
    run_until(&g.done, 1, 5000);
    REQUIRE(g.done == 1);
    CHECK_EQ(g.r.rc, SB_EPROTO);
    CHECK_EQ(g.r.pdu, SB_BAC_PDU_ABORT);
    CHECK_EQ(g.r.reason, SB_BAC_AB_BUFFER_OVERFLOW);
}

TEST(timeout_after_retries)
{
    struct sb_bac_peer pb = peer_at(PB);
    struct got g = { 0 };
    uint64_t r0 = sb_bac_stack_stats(A)->retries;
    int calls0 = b_calls;

    REQUIRE(sb_bac_request(A, &pb, 20, NULL, 0, a_cb, &g) == 0);
    run_until(&g.done, 1, 5000);
    REQUIRE(g.done == 1);
    CHECK_EQ(g.r.rc, SB_ETIMEDOUT);
    CHECK_EQ(sb_bac_stack_stats(A)->retries - r0, 2);   /* cfg.retries */
    CHECK_EQ(b_calls - calls0, 3);                       /* first try + 2 retries */
}

TEST(window_queues_and_drains)
{
    struct sb_bac_peer pb = peer_at(PB);
    static struct got g[12];
    int done = 0;
    uint64_t q0 = sb_bac_stack_stats(A)->queued;

    memset(g, 0, sizeof(g));
    for (int i = 0; i < 12; i++)
        REQUIRE(sb_bac_request(A, &pb, 15, NULL, 0, a_cb, &g[i]) == 0);
    CHECK_EQ(sb_bac_stack_stats(A)->queued - q0, 10);    /* per_peer = 2 */
    for (int k = 0; k < 200 && done < 12; k++) {
        run_until(&g[11].done, 1, 50);
        done = 0;
        for (int i = 0; i < 12; i++)
            done += g[i].done;
    }
    CHECK_EQ(done, 12);
    for (int i = 0; i < 12; i++)
        CHECK_EQ(g[i].r.rc, 0);
    /* FIFO: answers in the order asked */
    int ordered = 1;
    for (int i = 1; i < 12; i++)
        ordered &= g[i].order > g[i - 1].order;
    CHECK(ordered);
}

TEST(unconfirmed_sent_in_handler_goes_after_the_ack)
{
    struct sb_bac_peer pb = peer_at(PB);
    struct got g = { 0 };
    int seen0 = unconf_seen;

    REQUIRE(sb_bac_request(A, &pb, 5, NULL, 0, a_cb, &g) == 0);
    run_until(&unconf_seen, seen0 + 1, 3000);
    CHECK_EQ(g.done, 1);
    CHECK_EQ(unconf_seen, seen0 + 1);
    CHECK(g.order < unconf_order);
    CHECK_EQ(unconf_service, 2);
    CHECK_EQ(ntohs(unconf_from.port), PB);
}

TEST(server_refuses_what_it_cannot_do)
{
    uint8_t pkt[1600];
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_CONFIRMED, .sa = false, .max_apdu = SB_BAC_MAX_APDU_206,
                             .invoke_id = 77, .service = 12 };
    uint8_t n30 = 30;
    struct sb_bac_apdu d;
    struct sb_bac_bvlc b;
    struct sb_bac_npdu np;

    /* 3000 bytes for a requester taking 206 and no segments: Abort. */
    a.body = &n30;
    a.body_len = 1;
    int n0 = raw_n;
    raw_send(pkt, frame(pkt, sizeof(pkt), &a, NULL), PB);
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_n == n0 + 1);
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    REQUIRE(sb_bac_dec_npdu(b.data, b.data_len, &np) > 0);
    REQUIRE(sb_bac_dec_apdu(np.payload, np.payload_len, &d) > 0);
    CHECK_EQ(d.type, SB_BAC_PDU_ABORT);
    CHECK(d.srv);
    CHECK_EQ(d.invoke_id, 77);
    CHECK_EQ(d.reason, SB_BAC_AB_SEGMENTATION_NOT_SUPPORTED);

    /* A segmented request: we do not take those. */
    a = (struct sb_bac_apdu){ .type = SB_BAC_PDU_CONFIRMED, .seg = true, .more = true, .sa = true,
                              .max_apdu = SB_BAC_MAX_APDU_1476, .invoke_id = 78, .seq = 0, .window = 4,
                              .service = 14, .body = &n30, .body_len = 1 };
    n0 = raw_n;
    raw_send(pkt, frame(pkt, sizeof(pkt), &a, NULL), PB);
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_n == n0 + 1);
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    REQUIRE(sb_bac_dec_npdu(b.data, b.data_len, &np) > 0);
    REQUIRE(sb_bac_dec_apdu(np.payload, np.payload_len, &d) > 0);
    CHECK_EQ(d.type, SB_BAC_PDU_ABORT);
    CHECK_EQ(d.reason, SB_BAC_AB_SEGMENTATION_NOT_SUPPORTED);

    /* Garbage, truncation and a reserved PDU type are counted, not answered. */
    uint64_t bad0 = sb_bac_stack_stats(B)->bad;
    const uint8_t junk1[] = { 0x81, 0x0a, 0x00, 0x40, 0x01 };            /* length lies */
    const uint8_t junk2[] = { 0x81, 0x0a, 0x00, 0x06, 0x01, 0x00 };      /* empty APDU */
    const uint8_t junk3[] = { 0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0xf0, 0x01 };   /* type 15 */
    const uint8_t junk4[] = { 0x42 };
    n0 = raw_n;
    raw_send(junk1, sizeof(junk1), PB);
    raw_send(junk2, sizeof(junk2), PB);
    raw_send(junk3, sizeof(junk3), PB);
    raw_send(junk4, sizeof(junk4), PB);
    int guard = 0;
    run_until(&guard, 1, 200);
    CHECK_EQ(sb_bac_stack_stats(B)->bad - bad0, 4);
    CHECK_EQ(raw_n, n0);
}

TEST(routed_station_and_forwarded_npdu)
{
    uint8_t pkt[1600];
    struct sb_bac_addr sadr = { .net = 5, .len = 1, .mac = { 0x17 } };
    struct sb_bac_iam iam = { .device = { .type = 8, .instance = 5017 }, .max_apdu = 480,
                              .segmentation = 3, .vendor_id = 2 };
    uint8_t body[32];
    ssize_t k = sb_bac_enc_iam(body, sizeof(body), &iam);
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_UNCONFIRMED, .service = SB_BAC_SVC_I_AM,
                             .body = body, .body_len = (size_t)k };
    int s0 = unconf_seen;

    /* An I-Am from an MS/TP station behind the router at raw's address. */
    raw_send(pkt, frame(pkt, sizeof(pkt), &a, &sadr), PA);
    run_until(&unconf_seen, s0 + 1, 2000);
    REQUIRE(unconf_seen == s0 + 1);
    CHECK_EQ(unconf_from.addr.net, 5);
    CHECK_EQ(unconf_from.addr.len, 1);
    CHECK_EQ(unconf_from.addr.mac[0], 0x17);
    CHECK_EQ(ntohs(unconf_from.port), PR);

    /* A request to it goes to the router with DNET/DADR. */
    struct got g = { 0 };
    int n0 = raw_n;
    REQUIRE(sb_bac_request(A, &unconf_from, 12, body, 1, a_cb, &g) == 0);
    run_until(&raw_n, n0 + 1, 2000);
    struct sb_bac_bvlc b;
    struct sb_bac_npdu np;
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    REQUIRE(sb_bac_dec_npdu(b.data, b.data_len, &np) > 0);
    CHECK(np.has_dst);
    CHECK_EQ(np.dst.net, 5);
    CHECK_EQ(np.dst.mac[0], 0x17);
    CHECK(np.expecting_reply);
    /* A routed station defaults to MS/TP's 480-octet limit. */
    CHECK_EQ(sb_bac_stack_room(A, &unconf_from), 476);

    /* Forwarded-NPDU: the originator's address is in the BVLC. */
    uint8_t npdu[64];
    struct sb_bac_npdu n2 = { .payload = pkt, .payload_len = 0 };
    ssize_t ak = sb_bac_enc_apdu(pkt, sizeof(pkt), &a);
    n2.payload_len = (size_t)ak;
    ssize_t nk = sb_bac_enc_npdu(npdu, sizeof(npdu), &n2);
    struct sb_bac_bvlc fw = { .function = SB_BVLC_FORWARDED_NPDU, .addr = { 10, 1, 2, 3, 0xBA, 0xC0 },
                              .data = npdu, .data_len = (size_t)nk };
    ssize_t fk = sb_bac_enc_bvlc(pkt, sizeof(pkt), &fw);
    s0 = unconf_seen;
    raw_send(pkt, (size_t)fk, PA);
    run_until(&unconf_seen, s0 + 1, 2000);
    REQUIRE(unconf_seen == s0 + 1);
    struct in_addr ia = { .s_addr = unconf_from.ip };
    CHECK_STR(inet_ntoa(ia), "10.1.2.3");
    CHECK_EQ(ntohs(unconf_from.port), 47808);
    run_until(&g.done, 1, 3000);                 /* let the routed request time out */
}

/* Decode the APDU raw last received. */
static int raw_apdu(struct sb_bac_apdu *d)
{
    struct sb_bac_bvlc b;
    struct sb_bac_npdu np;
    if (sb_bac_dec_bvlc(raw_last, raw_len, &b) <= 0 || sb_bac_dec_npdu(b.data, b.data_len, &np) < 0)
        return -1;
    return sb_bac_dec_apdu(np.payload, np.payload_len, d) < 0 ? -1 : 0;
}

static void raw_segment(uint8_t invoke, uint8_t seq, bool more, const uint8_t *body, size_t n)
{
    uint8_t pkt[1600];
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_COMPLEX_ACK, .seg = true, .more = more,
                             .invoke_id = invoke, .seq = seq, .window = 2, .service = 12,
                             .body = body, .body_len = n };
    raw_send(pkt, frame(pkt, sizeof(pkt), &a, NULL), PA);
}

TEST(lost_segment_is_nakked_and_resent)
{
    struct sb_bac_peer pr = peer_at(PR);
    struct got g = { 0 };
    struct sb_bac_apdu d;
    uint8_t s0[100], s1[100], s2[50];
    int n0 = raw_n;

    memset(s0, 0xA0, sizeof(s0));
    memset(s1, 0xA1, sizeof(s1));
    memset(s2, 0xA2, sizeof(s2));
    REQUIRE(sb_bac_request(A, &pr, 12, s0, 1, a_cb, &g) == 0);
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_apdu(&d) == 0 && d.type == SB_BAC_PDU_CONFIRMED);
    CHECK(d.sa);
    uint8_t inv = d.invoke_id;

    n0 = raw_n;
    raw_segment(inv, 0, true, s0, sizeof(s0));
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_apdu(&d) == 0);
    CHECK_EQ(d.type, SB_BAC_PDU_SEGMENT_ACK);
    CHECK(!d.nak);
    CHECK_EQ(d.seq, 0);
    CHECK_EQ(d.window, 2);                       /* min(proposed 2, ours 4) */

    n0 = raw_n;
    raw_segment(inv, 2, false, s2, sizeof(s2)); /* segment 1 "lost" */
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_apdu(&d) == 0);
    CHECK_EQ(d.type, SB_BAC_PDU_SEGMENT_ACK);
    CHECK(d.nak);
    CHECK_EQ(d.seq, 0);
    CHECK_EQ(g.done, 0);

    n0 = raw_n;
    raw_segment(inv, 1, true, s1, sizeof(s1));
    raw_segment(inv, 2, false, s2, sizeof(s2));
    run_until(&g.done, 1, 2000);
    REQUIRE(g.done == 1);
    CHECK_EQ(g.r.rc, 0);
    CHECK_EQ(g.r.len, 250);
    CHECK_EQ(g.r.segments, 3);
    CHECK(g.body[0] == 0xA0 && g.body[100] == 0xA1 && g.body[249] == 0xA2);
    REQUIRE(raw_apdu(&d) == 0);                  /* the final ack */
    CHECK_EQ(d.type, SB_BAC_PDU_SEGMENT_ACK);
    CHECK_EQ(d.seq, 2);
}

TEST(foreign_device_registration_and_broadcast)
{
    struct sb_bac_stack_cfg c = { .bind_ip = "127.0.0.1", .port = PA + 10, .bbmd = "127.0.0.1:47933",
                                  .fd_ttl = 30, .apdu_timeout_ms = 200 };
    struct sb_bac_stack *F = NULL;
    char err[128];
    struct sb_bac_bvlc b;
    int n0 = raw_n;

    REQUIRE(sb_bac_stack_new(&loop, &c, NULL, &F, err, sizeof(err)) == 0);
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(raw_n == n0 + 1);
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    CHECK_EQ(b.function, SB_BVLC_REGISTER_FD);
    CHECK_EQ(b.ttl, 30);
    CHECK_EQ(sb_bac_stack_stats(F)->fd_registered, 0);
    const uint8_t ok[] = { 0x81, 0x00, 0x00, 0x06, 0x00, 0x00 };
    raw_send(ok, sizeof(ok), PA + 10);
    int guard = 0;
    run_until(&guard, 1, 200);
    CHECK_EQ(sb_bac_stack_stats(F)->fd_registered, 1);

    /* A broadcast Who-Is goes to the BBMD as Distribute-Broadcast-To-Network. */
    uint8_t w[8];
    struct sb_bac_whois wi = { 0 };
    ssize_t k = sb_bac_enc_whois(w, sizeof(w), &wi);
    n0 = raw_n;
    CHECK_EQ(sb_bac_unconfirmed(F, NULL, 0, SB_BAC_SVC_WHO_IS, w, (size_t)k), 0);
    run_until(&raw_n, n0 + 1, 2000);
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    CHECK_EQ(b.function, SB_BVLC_DISTRIBUTE_BCAST);
    sb_bac_stack_close(F);

    /* Re-registration before the TTL runs out: every TTL/2 (J.5.2.1). */
    c.port = PA + 13;
    c.fd_ttl = 1;
    n0 = raw_n;
    REQUIRE(sb_bac_stack_new(&loop, &c, NULL, &F, err, sizeof(err)) == 0);
    run_until(&raw_n, n0 + 3, 3000);
    CHECK(raw_n >= n0 + 3);                      /* at start, ~0.5 s, ~1 s */
    REQUIRE(sb_bac_dec_bvlc(raw_last, raw_len, &b) > 0);
    CHECK_EQ(b.function, SB_BVLC_REGISTER_FD);
    CHECK_EQ(b.ttl, 1);
    sb_bac_stack_close(F);
}

TEST(close_cancels_outstanding)
{
    struct sb_bac_stack_cfg c = { .bind_ip = "127.0.0.1", .port = PA + 11, .apdu_timeout_ms = 5000 };
    struct sb_bac_stack *C = NULL;
    struct sb_bac_peer pb = peer_at(PB);
    struct got g = { 0 }, g2 = { 0 };
    char err[128];

    REQUIRE(sb_bac_stack_new(&loop, &c, NULL, &C, err, sizeof(err)) == 0);
    REQUIRE(sb_bac_request(C, &pb, 20, NULL, 0, a_cb, &g) == 0);
    for (int i = 0; i < 8; i++)
        REQUIRE(sb_bac_request(C, &pb, 20, NULL, 0, a_cb, &g2) == 0);   /* some queued */
    sb_bac_stack_close(C);
    CHECK_EQ(g.done, 1);
    CHECK_EQ(g.r.rc, SB_ECLOSED);
    CHECK_EQ(g2.done, 8);
    CHECK_EQ(g2.r.rc, SB_ECLOSED);
    CHECK_EQ(sb_bac_request(C, &pb, 15, NULL, 0, a_cb, &g), SB_ECLOSED);
    uv_run(&loop, UV_RUN_NOWAIT);
}

TEST(bad_config_is_refused)
{
    struct sb_bac_stack *X = NULL;
    char err[128];
    struct sb_bac_stack_cfg c = { .bind_ip = "300.1.1.1", .port = PA + 12 };
    CHECK_EQ(sb_bac_stack_new(&loop, &c, NULL, &X, err, sizeof(err)), SB_EINVAL);
    CHECK(strstr(err, "300.1.1.1") != NULL);
    c = (struct sb_bac_stack_cfg){ .bind_ip = "127.0.0.1", .port = PB };   /* taken by B */
    CHECK_EQ(sb_bac_stack_new(&loop, &c, NULL, &X, err, sizeof(err)), SB_EIO);
    c = (struct sb_bac_stack_cfg){ .bind_ip = "127.0.0.1", .port = PA + 12, .bbmd = "nope" };
    CHECK_EQ(sb_bac_stack_new(&loop, &c, NULL, &X, err, sizeof(err)), SB_EINVAL);
    struct sb_bac_peer p;
    CHECK_EQ(sb_bac_peer_parse("127.0.0.1:0", &p), SB_EINVAL);
    CHECK_EQ(sb_bac_peer_parse("127.0.0.1:70000", &p), SB_EINVAL);
    CHECK_EQ(sb_bac_peer_parse("127.0.0.1", &p), 0);
    CHECK_EQ(ntohs(p.port), 47808);
    uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void)
{
    char err[160];
    struct sockaddr_in ra;
    struct sb_bac_handler hb = { .confirmed = b_confirmed, .ud = &B };
    struct sb_bac_handler ha = { .unconfirmed = a_unconfirmed };
    struct sb_bac_stack_cfg ca = { .bind_ip = "127.0.0.1", .port = PA, .apdu_timeout_ms = 300,
                                   .retries = 2, .max_apdu = 480, .window = 4, .max_rx = 8,
                                   .per_peer = 2 };
    struct sb_bac_stack_cfg cb = { .bind_ip = "127.0.0.1", .port = PB, .apdu_timeout_ms = 300,
                                   .window = 16 };

    TAP_START();
    uv_loop_init(&loop);
    if (sb_bac_stack_new(&loop, &ca, &ha, &A, err, sizeof(err)) < 0 ||
        sb_bac_stack_new(&loop, &cb, &hb, &B, err, sizeof(err)) < 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    uv_udp_init(&loop, &raw);
    uv_ip4_addr("127.0.0.1", PR, &ra);
    if (uv_udp_bind(&raw, (const struct sockaddr *)&ra, 0) < 0) {
        printf("Bail out! cannot bind %d\n", PR);
        return 1;
    }
    uv_udp_recv_start(&raw, raw_alloc, raw_recv);

    RUN(simple_complex_error_reject);
    RUN(segmented_answer_reassembled);
    RUN(more_segments_than_accepted_aborts);
    RUN(timeout_after_retries);
    RUN(window_queues_and_drains);
    RUN(unconfirmed_sent_in_handler_goes_after_the_ack);
    RUN(server_refuses_what_it_cannot_do);
    RUN(routed_station_and_forwarded_npdu);
    RUN(lost_segment_is_nakked_and_resent);
    RUN(foreign_device_registration_and_broadcast);
    RUN(close_cancels_outstanding);
    RUN(bad_config_is_refused);

    sb_bac_stack_close(A);
    sb_bac_stack_close(B);
    uv_close((uv_handle_t *)&raw, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK_EQ(uv_loop_close(&loop), 0);
    TAP_END();
}

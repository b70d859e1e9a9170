/*
 * stack.c - BACnet/IP socket, framing and dispatch (Annex J, clause 6).
 *
 * Inbound: BVLC (Original-Unicast/-Broadcast, Forwarded-NPDU, Result) ->
 * NPDU (network messages are counted and ignored: we are not a router) ->
 * APDU, dispatched to the server half (confirmed requests), the handler
 * (unconfirmed), or the client TSM (answers).  Outbound: an APDU built at
 * SB_BAC_APDU_OFF in txbuf gets its NPDU and BVLC headers in front of it
 * in place (the encoders memmove their payload).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/stack/stack_int.h"

#define TICK_MS 50

/* ---- peers ------------------------------------------------------------ */

int sb_bac_peer_eq(const struct sb_bac_peer *a, const struct sb_bac_peer *b)
{
    return a->ip == b->ip && a->port == b->port && a->addr.net == b->addr.net &&
           a->addr.len == b->addr.len && memcmp(a->addr.mac, b->addr.mac, a->addr.len) == 0;
}

static unsigned peer_hash(const struct sb_bac_peer *a)
{
    uint32_t h = 2166136261u;
    const uint8_t *p = (const uint8_t *)&a->ip;
    for (int i = 0; i < 4; i++)
        h = (h ^ p[i]) * 16777619u;
    h = (h ^ (a->port & 0xff)) * 16777619u;
    h = (h ^ (a->port >> 8)) * 16777619u;
    h = (h ^ a->addr.net) * 16777619u;
    for (int i = 0; i < a->addr.len; i++)
        h = (h ^ a->addr.mac[i]) * 16777619u;
    return h % SB_BAC_PEER_BUCKETS;
}

struct peer *sb_bac__peer(struct sb_bac_stack *st, const struct sb_bac_peer *a, bool create)
{
    unsigned b = peer_hash(a);
    for (struct peer *p = st->peers[b]; p; p = p->hnext)
        if (sb_bac_peer_eq(&p->a, a))
            return p;
    if (!create)
        return NULL;
    struct peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->a = *a;
    /* Defaults until the peer's I-Am tells: B/IP devices take 1476, a
     * station behind a router may be on MS/TP, whose limit is 480
     * (clause 9.1); no segmentation. */
    p->max_apdu = a->addr.net ? 480 : 1476;
    p->seg = 3;
    p->next_invoke = (uint8_t)(b & 0xff);
    p->hnext = st->peers[b];
    st->peers[b] = p;
    return p;
}

void sb_bac_stack_learn(struct sb_bac_stack *st, const struct sb_bac_peer *a,
                        uint16_t max_apdu, uint8_t segmentation)
{
    struct peer *p = sb_bac__peer(st, a, true);
    if (!p)
        return;
    if (max_apdu >= 50)
        p->max_apdu = max_apdu > 1476 ? 1476 : max_apdu;   /* 1482 from some stacks */
    p->seg = segmentation <= 3 ? segmentation : 3;
}

size_t sb_bac_stack_room(struct sb_bac_stack *st, const struct sb_bac_peer *a)
{
    struct peer *p = sb_bac__peer(st, a, false);
    unsigned m = p ? p->max_apdu : (a->addr.net ? 480 : 1476);
    return m - 4;             /* the peer's limit, less the confirmed header */
}

int sb_bac_peer_parse(const char *s, struct sb_bac_peer *out)
{
    char ip[64];
    const char *c = strchr(s, ':');
    size_t n = c ? (size_t)(c - s) : strlen(s);
    unsigned long port = 47808;
    struct in_addr in;

    if (n == 0 || n >= sizeof(ip))
        return SB_EINVAL;
    memcpy(ip, s, n);
    ip[n] = 0;
    if (inet_pton(AF_INET, ip, &in) != 1)
        return SB_EINVAL;
    if (c) {
        char *end;
        port = strtoul(c + 1, &end, 10);
        if (*end || port == 0 || port > 65535)
            return SB_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    out->ip = in.s_addr;
    out->port = htons((uint16_t)port);
    return 0;
}

char *sb_bac_peer_str(const struct sb_bac_peer *p, char *buf, size_t cap)
{
    char ip[INET_ADDRSTRLEN];
    struct in_addr in = { .s_addr = p->ip };
    int n;

    inet_ntop(AF_INET, &in, ip, sizeof(ip));
    n = snprintf(buf, cap, "%s:%u", ip, ntohs(p->port));
    if (p->addr.net && n > 0 && (size_t)n < cap) {
        n += snprintf(buf + n, cap - (size_t)n, "/%u:", p->addr.net);
        for (int i = 0; i < p->addr.len && n > 0 && (size_t)n + 2 < cap; i++)
            n += snprintf(buf + n, cap - (size_t)n, "%02x", p->addr.mac[i]);
    }
    return buf;
}

/* ---- sending ------------------------------------------------------------ */

static int send_raw(struct sb_bac_stack *st, const struct sockaddr_in *to, const uint8_t *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    int r = uv_udp_try_send(&st->udp, &b, 1, (const struct sockaddr *)to);
    if (r == (int)n) {
        st->st.tx++;
        return 0;
    }
    /* The socket buffer is full (EAGAIN): BACnet is datagram-lossy by
     * design and the TSM retries, so a dropped send is a lost packet, not a
     * failure to report. */
    return r < 0 ? SB_EIO : 0;
}

/* Frame the APDU that sits at apdu (inside txbuf or elsewhere) and send
 * it.  to == NULL broadcasts: locally, and through the BBMD when we are a
 * foreign device; bnet != 0 makes it a remote/global broadcast. */
int sb_bac__send_apdu(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint16_t bnet,
                      bool expect_reply, const uint8_t *apdu, size_t len)
{
    uint8_t *buf = st->txbuf;
    struct sb_bac_npdu n = { .expecting_reply = expect_reply, .payload = apdu, .payload_len = len,
                             .hop_count = 255 };
    struct sb_bac_bvlc b = { 0 };
    struct sockaddr_in sa = { .sin_family = AF_INET };
    ssize_t k;

    if (len > SB_BAC_PKT - SB_BAC_APDU_OFF)
        return SB_ERANGE;
    if (to && to->addr.net) {
        n.has_dst = true;
        n.dst = to->addr;
    } else if (!to && bnet) {
        n.has_dst = true;
        n.dst.net = bnet;
        n.dst.len = 0;
    }
    if ((k = sb_bac_enc_npdu(buf, SB_BAC_PKT, &n)) < 0)
        return (int)k;
    b.data = buf;
    b.data_len = (size_t)k;
    if (to) {
        b.function = SB_BVLC_ORIGINAL_UNICAST;
        sa.sin_addr.s_addr = to->ip;
        sa.sin_port = to->port;
        if ((k = sb_bac_enc_bvlc(buf, SB_BAC_PKT, &b)) < 0)
            return (int)k;
        return send_raw(st, &sa, buf, (size_t)k);
    }
    /* Broadcast: as a foreign device the BBMD distributes it (J.5.2);
     * on our own subnet we also broadcast locally. */
    if (st->has_bbmd) {
        b.function = SB_BVLC_DISTRIBUTE_BCAST;
        if ((k = sb_bac_enc_bvlc(buf, SB_BAC_PKT, &b)) < 0)
            return (int)k;
        send_raw(st, &st->bbmd, buf, (size_t)k);
        memmove(buf, buf + SB_BAC_BVLC_HDR, b.data_len);
    }
    b.function = SB_BVLC_ORIGINAL_BCAST;
    if ((k = sb_bac_enc_bvlc(buf, SB_BAC_PKT, &b)) < 0)
        return (int)k;
    return send_raw(st, &st->bcast, buf, (size_t)k);
}

int sb_bac_unconfirmed(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint16_t net,
                       uint8_t service, const uint8_t *body, size_t len)
{
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_UNCONFIRMED, .service = service,
                             .body = body, .body_len = len };
    uint8_t *p = st->txbuf + SB_BAC_APDU_OFF;
    ssize_t k;

    if (st->closing)
        return SB_ECLOSED;
    if (st->serving) {
        struct dsend *d = malloc(sizeof(*d) + len);
        if (!d)
            return SB_ENOMEM;
        memset(d, 0, sizeof(*d));
        d->has_to = to != NULL;
        d->net = net;
        d->service = service;
        d->len = len;
        if (to)
            d->to = *to;
        memcpy(d->body, body, len);
        if (st->dt)
            st->dt->next = d;
        else
            st->dh = d;
        st->dt = d;
        return 0;
    }
    if ((k = sb_bac_enc_apdu(p, SB_BAC_PKT - SB_BAC_APDU_OFF, &a)) < 0)
        return k == SB_ENOSPC ? SB_ERANGE : (int)k;
    return sb_bac__send_apdu(st, to, net, false, p, (size_t)k);
}

static void register_fd(struct sb_bac_stack *st, uint64_t now)
{
    struct sb_bac_bvlc b = { .function = SB_BVLC_REGISTER_FD, .ttl = st->cfg.fd_ttl };
    ssize_t k = sb_bac_enc_bvlc(st->txbuf, SB_BAC_PKT, &b);
    if (k > 0)
        send_raw(st, &st->bbmd, st->txbuf, (size_t)k);
    /* J.5.2.1: the BBMD keeps an entry TTL + 30 s; renewing at half the
     * TTL leaves room for a lost datagram or two. */
    st->fd_next = now + (uint64_t)st->cfg.fd_ttl * 500;
}

/* ---- receiving ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    struct sb_bac_stack *st = h->data;
    *b = uv_buf_init((char *)st->rxbuf, sizeof(st->rxbuf));
}

static void dispatch_apdu(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                          const uint8_t *p, size_t n)
{
    struct sb_bac_apdu a;

    if (sb_bac_dec_apdu(p, n, &a) < 0) {
        st->st.bad++;
        return;
    }
    switch (a.type) {
    case SB_BAC_PDU_CONFIRMED:
        sb_bac__serve(st, from, &a);
        break;
    case SB_BAC_PDU_UNCONFIRMED:
        if (st->h.unconfirmed)
            st->h.unconfirmed(st->h.ud, from, a.service, a.body, a.body_len);
        break;
    case SB_BAC_PDU_SEGMENT_ACK:
    case SB_BAC_PDU_ABORT:
        /* Sent by a client: about an answer we are segmenting. */
        if (!a.srv) {
            sb_bac__sresp_ack(st, from, &a);
            break;
        }
        /* fallthrough */
    default:
        sb_bac__tsm_answer(st, from, &a);
        break;
    }
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    struct sb_bac_stack *st = u->data;
    const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;
    struct sb_bac_bvlc b;
    struct sb_bac_npdu n;
    struct sb_bac_peer from = { 0 };

    if (nread <= 0 || !addr || addr->sa_family != AF_INET || st->closing)
        return;
    st->st.rx++;
    if ((flags & UV_UDP_PARTIAL) || sb_bac_dec_bvlc(buf->base ? (const uint8_t *)buf->base : st->rxbuf,
                                                     (size_t)nread, &b) < 0) {
        st->st.bad++;
        return;
    }
    from.ip = sin->sin_addr.s_addr;
    from.port = sin->sin_port;
    switch (b.function) {
    case SB_BVLC_ORIGINAL_UNICAST:
    case SB_BVLC_ORIGINAL_BCAST:
    case SB_BVLC_DISTRIBUTE_BCAST:
        break;
    case SB_BVLC_FORWARDED_NPDU:
        /* J.4.5: the originator's address travels in the BVLC. */
        memcpy(&from.ip, b.addr, 4);
        memcpy(&from.port, b.addr + 4, 2);
        break;
    case SB_BVLC_RESULT:
        if (st->has_bbmd && from.ip == st->bbmd.sin_addr.s_addr) {
            int ok = b.result == SB_BVLC_OK;
            if (ok != st->st.fd_registered)
                SB_INFO("bacnet", "foreign device registration %s (result 0x%04x)",
                        ok ? "accepted" : "refused", b.result);
            st->st.fd_registered = ok;
        }
        return;
    default:
        return;                        /* BBMD table management: not ours */
    }
    /* Our own broadcasts come back to us. */
    if (from.ip == st->self.ip && from.port == st->self.port)
        return;
    if (sb_bac_dec_npdu(b.data, b.data_len, &n) < 0) {
        st->st.bad++;
        return;
    }
    if (n.net_msg)
        return;                        /* we are not a router (clause 6.5) */
    if (n.has_dst && n.dst.net != SB_BAC_NET_BROADCAST)
        return;                        /* for a station on another network */
    if (n.has_src)
        from.addr = n.src;
    dispatch_apdu(st, &from, n.payload, n.payload_len);
}

static void on_tick(uv_timer_t *t)
{
    struct sb_bac_stack *st = t->data;
    uint64_t now = uv_now(st->loop);

    sb_bac__tsm_tick(st, now);
    sb_bac__sresp_tick(st, now);
    if (st->has_bbmd && now >= st->fd_next)
        register_fd(st, now);
}

/* ---- life cycle ------------------------------------------------------------ */

static void apply_defaults(struct sb_bac_stack_cfg *c)
{
    if (!c->port)
        c->port = 47808;
    if (!c->fd_ttl)
        c->fd_ttl = 60;
    if (!c->apdu_timeout_ms)
        c->apdu_timeout_ms = 3000;
    if (!c->segment_timeout_ms)
        c->segment_timeout_ms = c->apdu_timeout_ms;
    if (c->retries == 0)
        c->retries = 3;
    else if (c->retries < 0)
        c->retries = 0;
    if (!c->max_apdu || c->max_apdu > 1476)
        c->max_apdu = 1476;
    if (!c->window || c->window > 127)
        c->window = 16;
    if (!c->max_rx)
        c->max_rx = 256;
    if (!c->per_peer)
        c->per_peer = 4;
}

int sb_bac_stack_new(uv_loop_t *loop, const struct sb_bac_stack_cfg *cfg,
                     const struct sb_bac_handler *h, struct sb_bac_stack **out,
                     char *err, size_t errlen)
{
    struct sb_bac_stack *st = calloc(1, sizeof(*st));
    struct sockaddr_in sa = { .sin_family = AF_INET };
    int r;

    if (!st || !(st->srv_out = malloc(SB_BAC_SRV_OUT))) {
        if (st)
            free(st);
        snprintf(err, errlen, "out of memory");
        return SB_ENOMEM;
    }
    st->loop = loop;
    st->cfg = *cfg;
    apply_defaults(&st->cfg);
    if (h)
        st->h = *h;
    if (inet_pton(AF_INET, cfg->bind_ip ? cfg->bind_ip : "0.0.0.0", &sa.sin_addr) != 1) {
        snprintf(err, errlen, "bad bind address '%s'", cfg->bind_ip);
        goto fail;
    }
    sa.sin_port = htons(st->cfg.port);
    st->bcast.sin_family = AF_INET;
    st->bcast.sin_port = htons(st->cfg.port);
    /* A stack bound to loopback (the simulator, tests) broadcasts on
     * loopback: 255.255.255.255 would leave by the default route. */
    const char *bc = cfg->bcast_ip ? cfg->bcast_ip
                     : (ntohl(sa.sin_addr.s_addr) >> 24) == 127 ? "127.255.255.255"
                     : "255.255.255.255";
    if (inet_pton(AF_INET, bc, &st->bcast.sin_addr) != 1) {
        snprintf(err, errlen, "bad broadcast address '%s'", cfg->bcast_ip);
        goto fail;
    }
    if (cfg->bbmd) {
        struct sb_bac_peer b;
        if (sb_bac_peer_parse(cfg->bbmd, &b) < 0) {
            snprintf(err, errlen, "bad BBMD address '%s' (want ip[:port])", cfg->bbmd);
            goto fail;
        }
        st->has_bbmd = 1;
        st->bbmd.sin_family = AF_INET;
        st->bbmd.sin_addr.s_addr = b.ip;
        st->bbmd.sin_port = b.port;
    }
    st->self.ip = sa.sin_addr.s_addr;
    st->self.port = sa.sin_port;
    uv_udp_init(loop, &st->udp);
    st->udp.data = st;
    st->handles = 1;
    if ((r = uv_udp_bind(&st->udp, (const struct sockaddr *)&sa, 0)) < 0 ||
        (r = uv_udp_set_broadcast(&st->udp, 1)) < 0 ||
        (r = uv_udp_recv_start(&st->udp, on_alloc, on_recv)) < 0) {
        snprintf(err, errlen, "udp %s:%u: %s", cfg->bind_ip ? cfg->bind_ip : "0.0.0.0",
                 st->cfg.port, uv_strerror(r));
        sb_bac_stack_close(st);
        return SB_EIO;
    }
    uv_timer_init(loop, &st->timer);
    st->timer.data = st;
    st->handles = 2;
    uv_timer_start(&st->timer, on_tick, TICK_MS, TICK_MS);
    if (st->has_bbmd)
        register_fd(st, uv_now(loop));
    *out = st;
    return 0;
fail:
    free(st->srv_out);
    free(st);
    return SB_EINVAL;
}

static void on_closed(uv_handle_t *h)
{
    struct sb_bac_stack *st = h->data;
    if (--st->handles == 0) {
        free(st->srv_out);
        free(st);
    }
}

void sb_bac_stack_close(struct sb_bac_stack *st)
{
    if (!st || st->closing)
        return;
    st->closing = 1;
    sb_bac__tsm_cancel_all(st);
    sb_bac__sresp_free_all(st);
    for (int i = 0; i < SB_BAC_PEER_BUCKETS; i++) {
        struct peer *p = st->peers[i];
        while (p) {
            struct peer *nx = p->hnext;
            free(p);
            p = nx;
        }
        st->peers[i] = NULL;
    }
    if (st->handles >= 2)
        uv_close((uv_handle_t *)&st->timer, on_closed);
    uv_close((uv_handle_t *)&st->udp, on_closed);
}

const struct sb_bac_stats *sb_bac_stack_stats(const struct sb_bac_stack *st)
{
    return &st->st;
}

void sb_bac_stack_local(const struct sb_bac_stack *st, struct sb_bac_peer *out)
{
    *out = st->self;
}

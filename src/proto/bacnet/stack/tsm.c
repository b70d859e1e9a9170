/*
 * tsm.c - the client half of the transaction state machine (ANSI/ASHRAE
 * 135 clause 5.4.4): AWAIT_CONFIRMATION with T_out and N_retry, and
 * SEGMENTED_CONFIRMATION for segmented Complex-ACKs, acknowledged every
 * window with a Segment-ACK (clause 5.4.4.4).
 *
 * Each peer has at most cfg.per_peer transactions out (a device's own
 * limit on concurrent requests is rarely documented; 4 keeps one slow
 * controller from being flooded) and a FIFO of the rest.  Invoke ids are
 * per peer and never reused while a transaction with that id is open.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/tag.h"
#include "proto/bacnet/stack/stack_int.h"

/* Max-segments code for the reply sizes we accept (clause 20.1.2.4). */
static uint8_t segs_code(const struct sb_bac_stack *st)
{
    unsigned n = (unsigned)st->cfg.max_rx * 1024u / st->cfg.max_apdu;
    uint8_t c = 1;
    if (n > 64)
        return 7;                        /* more than 64 */
    while (c < 6 && (2u << c) <= n)
        c++;
    return c;
}

static void act_link(struct sb_bac_stack *st, struct txn *t)
{
    t->aprev = NULL;
    t->anext = st->act;
    if (st->act)
        st->act->aprev = t;
    st->act = t;
}

static void act_unlink(struct sb_bac_stack *st, struct txn *t)
{
    if (t->aprev)
        t->aprev->anext = t->anext;
    else
        st->act = t->anext;
    if (t->anext)
        t->anext->aprev = t->aprev;
    t->anext = t->aprev = NULL;
}

static bool invoke_used(const struct peer *pe, uint8_t id)
{
    for (const struct txn *t = pe->active; t; t = t->next)
        if (t->invoke == id)
            return true;
    return false;
}

static void send_req(struct sb_bac_stack *st, struct txn *t)
{
    memcpy(st->txbuf + SB_BAC_APDU_OFF, t->req, t->req_len);
    sb_bac__send_apdu(st, &t->pe->a, 0, true, st->txbuf + SB_BAC_APDU_OFF, t->req_len);
}

static void activate(struct sb_bac_stack *st, struct txn *t)
{
    struct peer *pe = t->pe;
    uint8_t id = pe->next_invoke;

    while (invoke_used(pe, id))
        id++;                            /* per_peer < 256: terminates */
    pe->next_invoke = (uint8_t)(id + 1);
    t->invoke = id;
    t->req[2] = id;                      /* clause 20.1.2: third octet */
    t->state = T_AWAIT;
    t->deadline = uv_now(st->loop) + st->cfg.apdu_timeout_ms;
    t->next = pe->active;
    pe->active = t;
    pe->out++;
    act_link(st, t);
    send_req(st, t);
}

static void pump(struct sb_bac_stack *st, struct peer *pe)
{
    while (!st->closing && pe->qh && pe->out < st->cfg.per_peer) {
        struct txn *t = pe->qh;
        pe->qh = t->next;
        if (!pe->qh)
            pe->qt = NULL;
        activate(st, t);
    }
}

int sb_bac_request(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint8_t service,
                   const uint8_t *body, size_t len, sb_bac_cb cb, void *ud)
{
    struct peer *pe;
    struct txn *t;
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_CONFIRMED, .sa = true, .service = service,
                             .body = body, .body_len = len };

    if (st->closing)
        return SB_ECLOSED;
    if (!(pe = sb_bac__peer(st, to, true)))
        return SB_ENOMEM;
    if (len + 4 > pe->max_apdu)
        return SB_ERANGE;                /* we do not segment requests */
    if (!(t = calloc(1, sizeof(*t))) || !(t->req = malloc(len + 4))) {
        free(t);
        return SB_ENOMEM;
    }
    a.max_segs = segs_code(st);
    a.max_apdu = (uint8_t)sb_bac_max_apdu_code(st->cfg.max_apdu);
    t->req_len = (size_t)sb_bac_enc_apdu(t->req, len + 4, &a);
    t->pe = pe;
    t->service = service;
    t->cb = cb;
    t->ud = ud;
    st->st.requests++;
    if (pe->out < st->cfg.per_peer && !pe->qh && !st->serving) {
        activate(st, t);
        return 0;
    }
    t->state = T_QUEUED;
    t->next = NULL;
    if (pe->qt)
        pe->qt->next = t;
    else
        pe->qh = t;
    pe->qt = t;
    if (st->serving)
        st->kick = 1;
    else
        st->st.queued++;
    return 0;
}

void sb_bac__tsm_kick(struct sb_bac_stack *st)
{
    st->kick = 0;
    for (int i = 0; i < SB_BAC_PEER_BUCKETS && !st->closing; i++)
        for (struct peer *pe = st->peers[i]; pe; pe = pe->hnext)
            pump(st, pe);
}

/* Take t off its peer and the active list, report r, free t, then let the
 * next queued request of the peer go. */
static void finish(struct sb_bac_stack *st, struct txn *t, struct sb_bac_result *r)
{
    struct peer *pe = t->pe;

    for (struct txn **pp = &pe->active; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    pe->out--;
    act_unlink(st, t);
    r->service = t->service;
    if (!r->segments)
        r->segments = t->segments ? t->segments : 1;
    if (t->cb)
        t->cb(t->ud, r);
    free(t->rx);
    free(t->req);
    free(t);
    if (!st->closing)
        pump(st, pe);
}

static void send_short(struct sb_bac_stack *st, const struct sb_bac_peer *to, struct sb_bac_apdu *a)
{
    uint8_t *p = st->txbuf + SB_BAC_APDU_OFF;
    ssize_t k = sb_bac_enc_apdu(p, SB_BAC_PKT - SB_BAC_APDU_OFF, a);
    if (k > 0)
        sb_bac__send_apdu(st, to, 0, false, p, (size_t)k);
}

static void seg_ack(struct sb_bac_stack *st, struct txn *t, uint8_t seq, bool nak)
{
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_SEGMENT_ACK, .nak = nak, .srv = false,
                             .invoke_id = t->invoke, .seq = seq, .window = t->window };
    send_short(st, &t->pe->a, &a);
}

static int rx_append(struct sb_bac_stack *st, struct txn *t, const uint8_t *p, size_t n)
{
    size_t lim = (size_t)st->cfg.max_rx * 1024u;
    if (t->rx_len + n > lim)
        return SB_ERANGE;
    if (t->rx_len + n > t->rx_cap) {
        size_t c = t->rx_cap ? t->rx_cap * 2 : 4096;
        while (c < t->rx_len + n)
            c *= 2;
        uint8_t *q = realloc(t->rx, c);
        if (!q)
            return SB_ENOMEM;
        t->rx = q;
        t->rx_cap = c;
    }
    memcpy(t->rx + t->rx_len, p, n);
    t->rx_len += n;
    return 0;
}

/* A segment of a segmented Complex-ACK (clauses 5.4.4.3 and 5.4.4.4). */
static void segment(struct sb_bac_stack *st, struct txn *t, const struct sb_bac_apdu *a)
{
    struct sb_bac_result r = { 0 };
    int rc;

    if (t->state == T_AWAIT) {
        if (a->seq != 0)
            return;                      /* not the first segment: ignore */
        t->state = T_SEGMENTED;
        t->window = a->window < st->cfg.window ? a->window : st->cfg.window;
        t->win_first = 0;
        t->next_seq = 0;
    }
    if (a->seq != t->next_seq) {
        /* Lost or duplicated segment: NAK the last one in order, the server
         * resends from the one after it. */
        seg_ack(st, t, (uint8_t)(t->next_seq - 1), true);
        t->win_first = (uint8_t)(t->next_seq - 1);
        return;
    }
    st->st.seg_rx++;
    if ((rc = rx_append(st, t, a->body, a->body_len)) < 0) {
        struct sb_bac_apdu ab = { .type = SB_BAC_PDU_ABORT, .srv = false, .invoke_id = t->invoke,
                                  .reason = SB_BAC_AB_BUFFER_OVERFLOW };
        send_short(st, &t->pe->a, &ab);
        r.rc = rc;
        r.pdu = SB_BAC_PDU_ABORT;
        r.reason = SB_BAC_AB_BUFFER_OVERFLOW;
        finish(st, t, &r);
        return;
    }
    t->segments++;
    t->next_seq++;
    t->deadline = uv_now(st->loop) + st->cfg.segment_timeout_ms;
    if (!a->more) {
        seg_ack(st, t, a->seq, false);
        r.pdu = SB_BAC_PDU_COMPLEX_ACK;
        r.body = t->rx;
        r.len = t->rx_len;
        finish(st, t, &r);
        return;
    }
    if (a->seq == 0 || (uint8_t)(a->seq - t->win_first) == t->window) {
        seg_ack(st, t, a->seq, false);
        t->win_first = a->seq;
    }
}

/* An Error PDU's body is BACnet-Error, or for a few services a
 * constructed error whose first element [0] holds it (WPM, clause 21). */
static void error_fields(const struct sb_bac_apdu *a, struct sb_bac_result *r)
{
    struct sb_bac_error e;
    const uint8_t *in;
    size_t inl;

    if (sb_bac_dec_error(a->body, a->body_len, &e) < 0 &&
        (sb_bac_dec_constructed(a->body, a->body_len, 0, &in, &inl) < 0 ||
         sb_bac_dec_error(in, inl, &e) < 0))
        return;
    r->err_class = e.err_class;
    r->err_code = e.err_code;
}

void sb_bac__tsm_answer(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                        const struct sb_bac_apdu *a)
{
    struct peer *pe = sb_bac__peer(st, from, false);
    struct txn *t = NULL;
    struct sb_bac_result r = { .pdu = a->type };

    if (pe)
        for (t = pe->active; t && t->invoke != a->invoke_id; t = t->next)
            ;
    if (!t || a->type == SB_BAC_PDU_SEGMENT_ACK)
        return;                          /* late duplicate, or not ours */
    switch (a->type) {
    case SB_BAC_PDU_COMPLEX_ACK:
        if (a->seg || t->state == T_SEGMENTED) {
            if (a->seg)
                segment(st, t, a);
            return;
        }
        r.body = a->body;
        r.len = a->body_len;
        break;
    case SB_BAC_PDU_SIMPLE_ACK:
        break;
    case SB_BAC_PDU_ERROR:
        st->st.errors++;
        r.rc = SB_EPROTO;
        r.body = a->body;
        r.len = a->body_len;
        error_fields(a, &r);
        break;
    case SB_BAC_PDU_REJECT:
        st->st.rejects++;
        r.rc = SB_EPROTO;
        r.reason = a->reason;
        break;
    case SB_BAC_PDU_ABORT:
        st->st.aborts++;
        r.rc = SB_EPROTO;
        r.reason = a->reason;
        break;
    default:
        return;
    }
    if ((a->type == SB_BAC_PDU_SIMPLE_ACK || a->type == SB_BAC_PDU_COMPLEX_ACK ||
         a->type == SB_BAC_PDU_ERROR) && a->service != t->service) {
        r = (struct sb_bac_result){ .rc = SB_EPROTO, .pdu = a->type };
    }
    finish(st, t, &r);
}

void sb_bac__tsm_tick(struct sb_bac_stack *st, uint64_t now)
{
restart:
    for (struct txn *t = st->act; t; t = t->anext) {
        if (now < t->deadline)
            continue;
        if (t->state == T_AWAIT && t->tries < st->cfg.retries) {
            t->tries++;
            st->st.retries++;
            t->deadline = now + st->cfg.apdu_timeout_ms;
            send_req(st, t);
            continue;
        }
        struct sb_bac_result r = { .rc = SB_ETIMEDOUT };
        st->st.timeouts++;
        finish(st, t, &r);
        if (st->closing)
            return;
        goto restart;                    /* finish() changed the list */
    }
}

void sb_bac__tsm_cancel_all(struct sb_bac_stack *st)
{
    struct sb_bac_result r = { .rc = SB_ECLOSED };

    while (st->act)
        finish(st, st->act, &r);
    for (int i = 0; i < SB_BAC_PEER_BUCKETS; i++)
        for (struct peer *pe = st->peers[i]; pe; pe = pe->hnext)
            while (pe->qh) {
                struct txn *t = pe->qh;
                pe->qh = t->next;
                struct sb_bac_result rr = r;
                rr.service = t->service;
                rr.segments = 1;
                if (t->cb)
                    t->cb(t->ud, &rr);
                free(t->req);
                free(t);
            }
}

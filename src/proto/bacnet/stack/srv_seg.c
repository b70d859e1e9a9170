/*
 * srv_seg.c - the server half of the transaction state machine (ANSI/
 * ASHRAE 135 clause 5.4.5): a confirmed request goes to the handler; its
 * answer is sent whole when it fits the requester's Max_APDU, segmented
 * when it does not and the requester said it accepts segments (SA bit,
 * within its max-segments), and refused with an Abort otherwise.
 *
 * SEGMENTED_RESPONSE: segment 0 goes alone with our proposed window; the
 * requester's Segment-ACK gives the actual window, then each window is
 * sent whole and acknowledged; a NAK resends from the segment after the
 * one it names; T_seg without an answer resends the window N_retry times.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/stack/stack_int.h"

static void send_apdu(struct sb_bac_stack *st, const struct sb_bac_peer *to, struct sb_bac_apdu *a)
{
    uint8_t *p = st->txbuf + SB_BAC_APDU_OFF;
    ssize_t k = sb_bac_enc_apdu(p, SB_BAC_PKT - SB_BAC_APDU_OFF, a);
    if (k > 0)
        sb_bac__send_apdu(st, to, 0, false, p, (size_t)k);
}

static void send_segment(struct sb_bac_stack *st, struct sresp *s, unsigned i)
{
    size_t off = (size_t)i * s->seg_size;
    size_t n = s->len - off < s->seg_size ? s->len - off : s->seg_size;
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_COMPLEX_ACK, .seg = true, .more = i + 1 < s->nseg,
                             .invoke_id = s->invoke, .seq = (uint8_t)i,
                             .window = st->cfg.window, .service = s->service,
                             .body = s->body + off, .body_len = n };
    st->st.seg_tx++;
    send_apdu(st, &s->to, &a);
}

static void send_window(struct sb_bac_stack *st, struct sresp *s)
{
    unsigned end = s->first + s->window;
    if (end > s->nseg)
        end = s->nseg;
    for (unsigned i = s->first; i < end; i++)
        send_segment(st, s, i);
    s->sent = end;
    s->deadline = uv_now(st->loop) + st->cfg.segment_timeout_ms;
}

static struct sresp *find(struct sb_bac_stack *st, const struct sb_bac_peer *p, uint8_t invoke,
                          struct sresp ***link)
{
    for (struct sresp **pp = &st->sresp; *pp; pp = &(*pp)->next)
        if ((*pp)->invoke == invoke && sb_bac_peer_eq(&(*pp)->to, p)) {
            if (link)
                *link = pp;
            return *pp;
        }
    return NULL;
}

static void drop(struct sresp **link)
{
    struct sresp *s = *link;
    *link = s->next;
    free(s->body);
    free(s);
}

/* Segment a Complex-ACK body of len bytes (in st->srv_out). */
static void start_segmented(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                            const struct sb_bac_apdu *a, size_t len, unsigned limit)
{
    struct sresp *s = calloc(1, sizeof(*s));
    unsigned maxsegs = sb_bac_max_segs(a->max_segs);
    struct sb_bac_apdu ab = { .type = SB_BAC_PDU_ABORT, .srv = true, .invoke_id = a->invoke_id };

    if (!s || !(s->body = malloc(len))) {
        free(s);
        ab.reason = SB_BAC_AB_OUT_OF_RESOURCES;
        send_apdu(st, from, &ab);
        return;
    }
    s->seg_size = limit - 5;             /* segmented Complex-ACK header */
    s->nseg = (unsigned)((len + s->seg_size - 1) / s->seg_size);
    /* 0 = unspecified, 65 = more than 64: no limit we can check. */
    if ((maxsegs && maxsegs <= 64 && s->nseg > maxsegs) || s->nseg > 255 * 64) {
        free(s->body);
        free(s);
        ab.reason = SB_BAC_AB_BUFFER_OVERFLOW;
        send_apdu(st, from, &ab);
        return;
    }
    memcpy(s->body, st->srv_out, len);
    s->len = len;
    s->to = *from;
    s->invoke = a->invoke_id;
    s->service = a->service;
    s->window = 1;                       /* until the first Segment-ACK */
    s->next = st->sresp;
    st->sresp = s;
    send_window(st, s);
}

static void flush_deferred(struct sb_bac_stack *st)
{
    struct dsend *d = st->dh;
    st->dh = st->dt = NULL;
    while (d) {
        struct dsend *nx = d->next;
        if (!st->closing)
            sb_bac_unconfirmed(st, d->has_to ? &d->to : NULL, d->net, d->service, d->body, d->len);
        free(d);
        d = nx;
    }
    if (st->kick && !st->closing)
        sb_bac__tsm_kick(st);
}

void sb_bac__serve(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                   const struct sb_bac_apdu *a)
{
    uint8_t pdu = SB_BAC_PDU_REJECT, reason = SB_BAC_RJ_UNRECOGNIZED_SERVICE;
    ssize_t k = 0;
    unsigned limit = sb_bac_max_apdu_octets(a->max_apdu);
    struct sb_bac_apdu r = { .invoke_id = a->invoke_id, .service = a->service, .srv = true };

    if (find(st, from, a->invoke_id, NULL))
        return;                          /* a retry of what we are sending */
    if (a->seg) {
        /* We do not take segmented requests (clause 5.4.5.1). */
        r.type = SB_BAC_PDU_ABORT;
        r.reason = SB_BAC_AB_SEGMENTATION_NOT_SUPPORTED;
        send_apdu(st, from, &r);
        return;
    }
    if (st->h.confirmed) {
        st->serving = 1;
        k = st->h.confirmed(st->h.ud, from, a->service, a->body, a->body_len, st->srv_out,
                            SB_BAC_SRV_OUT, &pdu, &reason);
        st->serving = 0;
        if (k < 0) {
            flush_deferred(st);
            return;
        }
    }
    st->st.served++;
    if (limit > st->cfg.max_apdu)
        limit = st->cfg.max_apdu;
    r.type = pdu;
    r.reason = reason;
    r.body = st->srv_out;
    r.body_len = (size_t)k;
    switch (pdu) {
    case SB_BAC_PDU_COMPLEX_ACK:
        if ((size_t)k + 3 <= limit)
            send_apdu(st, from, &r);
        else if (a->sa)
            start_segmented(st, from, a, (size_t)k, limit);
        else {
            r = (struct sb_bac_apdu){ .type = SB_BAC_PDU_ABORT, .srv = true, .invoke_id = a->invoke_id,
                                      .reason = SB_BAC_AB_SEGMENTATION_NOT_SUPPORTED };
            send_apdu(st, from, &r);
        }
        break;
    case SB_BAC_PDU_SIMPLE_ACK:
    case SB_BAC_PDU_REJECT:
    case SB_BAC_PDU_ABORT:
        r.body_len = 0;
        /* fallthrough */
    case SB_BAC_PDU_ERROR:
        send_apdu(st, from, &r);
        break;
    default:
        break;
    }
    flush_deferred(st);
}

void sb_bac__sresp_ack(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                       const struct sb_bac_apdu *a)
{
    struct sresp **link, *s = find(st, from, a->invoke_id, &link);
    uint8_t delta;

    if (!s)
        return;
    if (a->type == SB_BAC_PDU_ABORT) {
        drop(link);
        return;
    }
    /* The ack names the last segment received in order; anything outside
     * the window in flight is a duplicate (clause 5.4.5.3). */
    delta = (uint8_t)(a->seq - (uint8_t)s->first);
    if (delta >= s->sent - s->first)
        return;
    s->first += delta + 1u;
    s->window = a->window ? a->window : 1;
    s->tries = 0;
    if (s->first >= s->nseg) {
        drop(link);
        return;
    }
    send_window(st, s);
}

void sb_bac__sresp_tick(struct sb_bac_stack *st, uint64_t now)
{
    struct sresp **pp = &st->sresp;
    while (*pp) {
        struct sresp *s = *pp;
        if (now < s->deadline) {
            pp = &s->next;
            continue;
        }
        if (s->tries++ >= st->cfg.retries) {
            st->st.timeouts++;
            drop(pp);
            continue;
        }
        st->st.retries++;
        send_window(st, s);
        pp = &s->next;
    }
}

void sb_bac__sresp_free_all(struct sb_bac_stack *st)
{
    while (st->sresp)
        drop(&st->sresp);
    while (st->dh) {
        struct dsend *d = st->dh;
        st->dh = d->next;
        free(d);
    }
    st->dt = NULL;
}

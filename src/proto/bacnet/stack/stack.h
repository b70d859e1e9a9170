/*
 * stack.h - BACnet/IP transport and transaction state machine
 * (ANSI/ASHRAE 135 Annex J, clause 6 network layer, clause 5.4 TSM).
 *
 * One sb_bac_stack = one UDP socket on a libuv loop.  It frames and
 * unframes BVLC/NPDU/APDU, routes through BACnet routers (DNET/DADR on the
 * way out, SNET/SADR on the way in), registers as a foreign device with a
 * BBMD and re-registers before the TTL runs out, and runs both halves of
 * the transaction state machine:
 *  - client: invoke ids per peer, APDU timeout and retries, a window of
 *    outstanding requests per peer (the rest wait in a FIFO), reception of
 *    segmented Complex-ACKs with Segment-ACKs (clause 5.4.4);
 *  - server: a confirmed request goes to the handler; its answer is sent
 *    whole or, when larger than the requester's Max_APDU and the requester
 *    accepts segments, segmented with a window (clause 5.4.5).
 *
 * Threads: everything runs on the loop thread that created the stack.
 * Ownership: the stack owns its socket, transactions and buffers; bodies
 * given to it are copied; bodies it hands to callbacks live only for the
 * duration of the call.  sb_bac_stack_close() cancels outstanding requests
 * (their callbacks run with SB_ECLOSED) and frees everything once libuv
 * has closed the handles.
 */
#ifndef SB_BAC_STACK_H
#define SB_BAC_STACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "proto/bacnet/peer.h"

struct sb_bac_stack;

struct sb_bac_stack_cfg {
    const char *bind_ip;           /* "0.0.0.0" when NULL */
    uint16_t port;                 /* 47808 when 0 */
    const char *bcast_ip;          /* local broadcast; NULL: 255.255.255.255, or
                                      127.255.255.255 when bound to 127/8 */
    const char *bbmd;              /* "ip[:port]": register as a foreign device; NULL = no */
    uint16_t fd_ttl;               /* foreign registration TTL, s (60 when 0) */
    uint32_t apdu_timeout_ms;      /* clause 5.4.1 T_out (3000 when 0) */
    uint32_t segment_timeout_ms;   /* T_seg (apdu_timeout when 0) */
    int retries;                   /* N_retry: 3 when 0, none when < 0 */
    uint16_t max_apdu;             /* what we accept (1476 when 0) */
    uint8_t window;                /* our proposed/accepted window (16 when 0) */
    uint16_t max_rx;               /* largest reassembled reply, KiB (256 when 0) */
    uint8_t per_peer;              /* outstanding requests per peer (4 when 0) */
};

/* The outcome of a confirmed request. */
struct sb_bac_result {
    int rc;                        /* 0: Simple- or Complex-ACK; SB_EPROTO: Error,
                                      Reject or Abort (fields below);
                                      SB_ETIMEDOUT; SB_ECLOSED; SB_ENOMEM;
                                      SB_ERANGE (the reply was too large) */
    uint8_t pdu;                   /* enum sb_bac_pdu of the answer */
    uint8_t service;               /* the request's service choice */
    const uint8_t *body;           /* Complex-ACK service data, reassembled; Error body */
    size_t len;                    /* bytes at body */
    uint32_t err_class, err_code;  /* Error */
    uint8_t reason;                /* Reject / Abort reason */
    int segments;                  /* segments the answer came in (1 = unsegmented) */
};

typedef void (*sb_bac_cb)(void *ud, const struct sb_bac_result *r);

/* What the stack does with requests addressed to us.  All optional. */
struct sb_bac_handler {
    /* A confirmed request: write the answer's service data into out (cap
     * >= 64 KiB), set *pdu (SIMPLE_ACK, COMPLEX_ACK, ERROR, REJECT or
     * ABORT) and, for REJECT/ABORT, *reason.  Return the length, or < 0 to
     * drop the request silently.  Without this callback every confirmed
     * request but a COV notification is rejected (unrecognized-service). */
    ssize_t (*confirmed)(void *ud, const struct sb_bac_peer *from, uint8_t service,
                         const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                         uint8_t *pdu, uint8_t *reason);
    /* An unconfirmed request (I-Am, Who-Is, COV notification, ...). */
    void (*unconfirmed)(void *ud, const struct sb_bac_peer *from, uint8_t service,
                        const uint8_t *body, size_t len);
    void *ud;
};

/* Counters since start (read on the loop thread). */
struct sb_bac_stats {
    uint64_t rx, tx;               /* datagrams */
    uint64_t bad;                  /* undecodable / not for us, dropped */
    uint64_t requests, timeouts, retries;
    uint64_t errors, rejects, aborts;   /* answers of those kinds received */
    uint64_t seg_rx, seg_tx;       /* segments received / sent */
    uint64_t served;               /* confirmed requests answered */
    uint64_t queued;               /* requests that waited for the window */
    int fd_registered;             /* foreign device: last Register-FD acknowledged */
};

int  sb_bac_stack_new(uv_loop_t *loop, const struct sb_bac_stack_cfg *cfg,
                      const struct sb_bac_handler *h, struct sb_bac_stack **out,
                      char *err, size_t errlen);
void sb_bac_stack_close(struct sb_bac_stack *st);
const struct sb_bac_stats *sb_bac_stack_stats(const struct sb_bac_stack *st);
/* The bound address (port chosen by the system when cfg->port was 0 is
 * not supported: BACnet peers answer to the source port). */
void sb_bac_stack_local(const struct sb_bac_stack *st, struct sb_bac_peer *out);

/* Tell the stack what a peer accepts (from its I-Am or Device object):
 * max APDU octets and segmentation (enum 0..3).  Unknown peers get 1476
 * on the local network, 480 behind a router, and no segmentation. */
void sb_bac_stack_learn(struct sb_bac_stack *st, const struct sb_bac_peer *p,
                        uint16_t max_apdu, uint8_t segmentation);
/* Largest request service data that fits the peer (its max APDU minus the
 * confirmed-request header). */
size_t sb_bac_stack_room(struct sb_bac_stack *st, const struct sb_bac_peer *p);

/* Send a confirmed request.  cb runs exactly once, on the loop, never from
 * inside this call.  SB_ERANGE when the body does not fit the peer's max
 * APDU (we do not send segmented requests), SB_ENOMEM, SB_ECLOSED. */
int  sb_bac_request(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint8_t service,
                    const uint8_t *body, size_t len, sb_bac_cb cb, void *ud);

/* Send an unconfirmed request to a peer, or broadcast it when to is NULL
 * (local broadcast, and Distribute-Broadcast-To-Network through the BBMD
 * when registered as a foreign device).  net != 0 with to == NULL sends a
 * remote broadcast to that network (0xFFFF: global broadcast). */
int  sb_bac_unconfirmed(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint16_t net,
                        uint8_t service, const uint8_t *body, size_t len);

/* Parse "a.b.c.d[:port]" into a peer on the local network (port 47808
 * when absent).  0 or SB_EINVAL. */
int  sb_bac_peer_parse(const char *s, struct sb_bac_peer *out);
/* "a.b.c.d:port" or "a.b.c.d:port/net:mac-hex"; returns buf. */
char *sb_bac_peer_str(const struct sb_bac_peer *p, char *buf, size_t cap);
int  sb_bac_peer_eq(const struct sb_bac_peer *a, const struct sb_bac_peer *b);

#endif /* SB_BAC_STACK_H */

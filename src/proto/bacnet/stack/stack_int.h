/*
 * stack_int.h - internals of the BACnet/IP stack shared by stack.c (socket,
 * framing, dispatch), tsm.c (client transactions) and srv_seg.c (segmented
 * responses).  Not an API.
 */
#ifndef SB_BAC_STACK_INT_H
#define SB_BAC_STACK_INT_H

#include <stdbool.h>

#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/stack/stack.h"

#define SB_BAC_PKT 1600              /* one datagram, with room for headers */
#define SB_BAC_APDU_OFF 40           /* where an APDU is built before framing */
#define SB_BAC_SRV_OUT (64 * 1024)   /* a handler's answer, before segmenting */
#define SB_BAC_PEER_BUCKETS 1024

enum txn_state { T_QUEUED = 0, T_AWAIT, T_SEGMENTED };

/* A client transaction (clause 5.4.4). */
struct txn {
    struct txn *next;                /* peer queue / active list */
    struct txn *anext, *aprev;       /* the stack's active list (timer scan) */
    struct peer *pe;
    uint8_t invoke, service, state;
    int tries;
    uint64_t deadline;               /* uv_now() ms */
    uint8_t *req;                    /* the APDU, kept for retries */
    size_t req_len;
    sb_bac_cb cb;
    void *ud;
    /* segmented Complex-ACK reception */
    uint8_t *rx;
    size_t rx_len, rx_cap;
    uint8_t next_seq, win_first, window;
    int segments;
};

/* A peer we send requests to. */
struct peer {
    struct peer *hnext;
    struct sb_bac_peer a;
    uint16_t max_apdu;
    uint8_t seg;                     /* enum segmentation 0..3 */
    uint8_t next_invoke;
    int out;                         /* transactions awaiting an answer */
    struct txn *active;              /* awaiting (at most cfg.per_peer) */
    struct txn *qh, *qt;             /* waiting for the window */
};

/* A segmented answer we are sending (clause 5.4.5). */
struct sresp {
    struct sresp *next;
    struct sb_bac_peer to;
    uint8_t invoke, service;
    uint8_t *body;
    size_t len, seg_size;
    unsigned nseg, first, sent;      /* absolute segment numbers */
    uint8_t window;
    int tries;
    uint64_t deadline;
};

/* An unconfirmed request sent while the handler runs: it goes out after
 * the answer (an initial COV notification follows its Simple-ACK). */
struct dsend {
    struct dsend *next;
    int has_to;
    struct sb_bac_peer to;
    uint16_t net;
    uint8_t service;
    size_t len;
    uint8_t body[];
};

struct sb_bac_stack {
    uv_loop_t *loop;
    uv_udp_t udp;
    uv_timer_t timer;
    int closing, handles;
    struct sb_bac_stack_cfg cfg;
    struct sb_bac_handler h;
    struct sb_bac_stats st;
    struct sb_bac_peer self;
    struct sockaddr_in bcast;
    struct sockaddr_in bbmd;
    int has_bbmd;
    uint64_t fd_next;                /* next Register-Foreign-Device, uv_now ms */
    struct peer *peers[SB_BAC_PEER_BUCKETS];
    struct txn *act;                 /* active transactions */
    struct sresp *sresp;
    uint8_t rxbuf[SB_BAC_PKT];
    uint8_t txbuf[SB_BAC_PKT];
    uint8_t *srv_out;                /* SB_BAC_SRV_OUT bytes */
    int serving;                     /* inside the confirmed handler */
    int kick;                        /* requests queued while serving */
    struct dsend *dh, *dt;           /* unconfirmed sends deferred while serving */
};

/* stack.c */
int  sb_bac__send_apdu(struct sb_bac_stack *st, const struct sb_bac_peer *to, uint16_t bnet,
                       bool expect_reply, const uint8_t *apdu, size_t len);
struct peer *sb_bac__peer(struct sb_bac_stack *st, const struct sb_bac_peer *a, bool create);

/* tsm.c */
void sb_bac__tsm_answer(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                        const struct sb_bac_apdu *a);
void sb_bac__tsm_tick(struct sb_bac_stack *st, uint64_t now);
void sb_bac__tsm_cancel_all(struct sb_bac_stack *st);
void sb_bac__tsm_kick(struct sb_bac_stack *st);

/* srv_seg.c */
void sb_bac__serve(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                   const struct sb_bac_apdu *a);
void sb_bac__sresp_ack(struct sb_bac_stack *st, const struct sb_bac_peer *from,
                       const struct sb_bac_apdu *a);
void sb_bac__sresp_tick(struct sb_bac_stack *st, uint64_t now);
void sb_bac__sresp_free_all(struct sb_bac_stack *st);

#endif /* SB_BAC_STACK_INT_H */

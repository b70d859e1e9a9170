/*
 * host.c - an object server behind a stack (host.h).
 */
#include <stdlib.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/host/host.h"

struct sb_bac_host {
    struct sb_bac_srv *srv;
    struct sb_bac_stack *st;
    uv_timer_t *timer;
    uint8_t reply[1600];
};

static ssize_t h_confirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                           const uint8_t *body, size_t len, uint8_t *out, size_t cap,
                           uint8_t *pdu, uint8_t *reason)
{
    struct sb_bac_host *h = ud;
    int64_t now = sb_now_ms();
    ssize_t k = sb_bac_srv_confirmed(h->srv, from, service, body, len, now, out, cap, pdu, reason);
    /* Initial COV notifications: the stack holds sends made while it
     * answers and sends them after the answer (clause 13.14.2). */
    sb_bac_srv_flush(h->srv, now);
    return k;
}

static void h_unconfirmed(void *ud, const struct sb_bac_peer *from, uint8_t service,
                          const uint8_t *body, size_t len)
{
    struct sb_bac_host *h = ud;
    uint8_t reply = 0;
    ssize_t k = sb_bac_srv_unconfirmed(h->srv, from, service, body, len, sb_now_ms(), h->reply,
                                       sizeof(h->reply), &reply);
    if (k <= 0)
        return;
    /* I-Am / I-Have are broadcast (clauses 16.1.2, 16.9.2); the asker also
     * gets one directly, since a broadcast does not cross every path (a
     * directed Who-Is across a router, loopback). */
    sb_bac_unconfirmed(h->st, from, 0, reply, h->reply, (size_t)k);
    sb_bac_unconfirmed(h->st, NULL, 0, reply, h->reply, (size_t)k);
}

static void h_send(void *ud, const struct sb_bac_peer *to, int confirmed, uint8_t service,
                   const uint8_t *body, size_t len)
{
    struct sb_bac_host *h = ud;
    if (confirmed)
        sb_bac_request(h->st, to, service, body, len, NULL, NULL);
    else
        sb_bac_unconfirmed(h->st, to, 0, service, body, len);
}

static void h_tick(uv_timer_t *t)
{
    struct sb_bac_host *h = t->data;
    sb_bac_srv_tick(h->srv, sb_now_ms());
}

int sb_bac_host_new(uv_loop_t *loop, const struct sb_bac_stack_cfg *cfg, struct sb_bac_srv *srv,
                    struct sb_bac_host **out, char *err, size_t errlen)
{
    struct sb_bac_host *h = calloc(1, sizeof(*h));
    int rc;

    if (!h || !(h->timer = malloc(sizeof(*h->timer)))) {
        free(h);
        return SB_ENOMEM;
    }
    h->srv = srv;
    struct sb_bac_handler hd = { .confirmed = h_confirmed, .unconfirmed = h_unconfirmed, .ud = h };
    if ((rc = sb_bac_stack_new(loop, cfg, &hd, &h->st, err, errlen)) < 0) {
        free(h->timer);
        free(h);
        return rc;
    }
    sb_bac_srv_set_sender(srv, h_send, h);
    uv_timer_init(loop, h->timer);
    h->timer->data = h;
    uv_timer_start(h->timer, h_tick, 1000, 1000);
    *out = h;
    return 0;
}

static void on_timer_closed(uv_handle_t *t)
{
    free(t);
}

void sb_bac_host_close(struct sb_bac_host *h)
{
    if (!h)
        return;
    sb_bac_srv_set_sender(h->srv, NULL, NULL);
    uv_close((uv_handle_t *)h->timer, on_timer_closed);
    sb_bac_stack_close(h->st);
    free(h);
}

struct sb_bac_stack *sb_bac_host_stack(struct sb_bac_host *h)
{
    return h->st;
}

void sb_bac_host_announce(struct sb_bac_host *h)
{
    ssize_t k = sb_bac_srv_iam(h->srv, h->reply, sizeof(h->reply));
    if (k > 0)
        sb_bac_unconfirmed(h->st, NULL, 0, SB_BAC_SVC_I_AM, h->reply, (size_t)k);
}

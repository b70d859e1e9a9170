/*
 * srv_cov.c - change-of-value reporting, the server half (ANSI/ASHRAE
 * 135-2020, clause 13.1 and SubscribeCOV, clause 13.14).
 *
 * A subscription is keyed by subscriber address, process identifier and
 * monitored object (clause 13.14.1.1); a new SubscribeCOV for the same
 * key renews it.  Lifetime is in seconds, 0 = indefinite; a request with
 * neither issueConfirmedNotifications nor lifetime cancels (clause
 * 13.14.2), and cancelling what does not exist succeeds.  The table has a
 * fixed size; when full, RESOURCES / no-space-to-add-list-element.
 *
 * Clause 13.1.2/13.1.3: the notified values are Present_Value and
 * Status_Flags; a notification goes out when Status_Flags change, when an
 * analog Present_Value moved by COV_Increment or more since the value
 * last notified to that subscriber, and on any change of a binary or
 * multi-state one.  The initial notification (clause 13.14.2) is queued
 * and sent by sb_bac_srv_flush()/tick(), after the Simple-ACK.
 */
#include <math.h>
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum { NOTIF_MAX = 96 };   /* two property values fit easily */

bool sb_bac_srv__peer_eq(const struct sb_bac_peer *a, const struct sb_bac_peer *b)
{
    return a->ip == b->ip && a->port == b->port && a->addr.net == b->addr.net &&
           a->addr.len == b->addr.len && memcmp(a->addr.mac, b->addr.mac, a->addr.len) == 0;
}

static bool cov_capable(const srv_obj *o)
{
    return o->fam == FAM_ANALOG || o->fam == FAM_BINARY || o->fam == FAM_MULTI;
}

static void drop(struct sb_bac_srv *s, struct srv_sub *sub)
{
    sub->obj->nsubs--;
    sub->obj = NULL;
    s->nsubs--;
}

static struct srv_sub *find_sub(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                                uint32_t pid, const srv_obj *o, struct srv_sub **free_slot)
{
    *free_slot = NULL;
    for (size_t i = 0; i < s->nsubs_max; i++) {
        struct srv_sub *sub = &s->subs[i];
        if (!sub->obj) {
            if (!*free_slot)
                *free_slot = sub;
        } else if (sub->obj == o && sub->pid == pid && sb_bac_srv__peer_eq(&sub->peer, from)) {
            return sub;
        }
    }
    return NULL;
}

int sb_bac_srv__subscribe(struct sb_bac_srv *s, const struct sb_bac_peer *from,
                          const struct sb_bac_subcov *req, int64_t now_ms)
{
    srv_obj *o = sb_bac_srv__find(s, req->oid);
    struct srv_sub *sub, *slot;

    if (!o)
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    if (!cov_capable(o))
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_OPTIONAL_FUNCTIONALITY_NOT_SUPPORTED);
    sub = find_sub(s, from, req->pid, o, &slot);
    if (!req->has_confirmed && !req->has_lifetime) {
        if (sub)
            drop(s, sub);
        return 0;
    }
    if (!sub) {
        if (!(sub = slot))
            return SRV_ERR(SB_BAC_EC_RESOURCES, SRV_ERR_NO_SPACE_TO_ADD_LIST_ELEMENT);
        memset(sub, 0, sizeof(*sub));
        sub->peer = *from;
        sub->pid = req->pid;
        sub->obj = o;
        o->nsubs++;
        s->nsubs++;
    }
    sub->confirmed = req->confirmed;
    sub->expires = req->has_lifetime && req->lifetime
                   ? now_ms + (int64_t)req->lifetime * 1000 : 0;
    sub->pending = true;
    return 0;
}

static uint32_t remaining_s(const struct srv_sub *sub, int64_t now_ms)
{
    if (!sub->expires)
        return 0;
    return sub->expires > now_ms ? (uint32_t)((sub->expires - now_ms + 999) / 1000) : 0;
}

/* Builds and hands over one notification (clause 13.1.3 contents). */
static void notify(struct sb_bac_srv *s, struct srv_sub *sub, int64_t now_ms)
{
    uint8_t pvbuf[16], sfbuf[8], out[NOTIF_MAX];
    struct srv_w pw, fw;
    const srv_obj *o = sub->obj;
    uint8_t flags = sb_bac_srv__flags(o);
    struct sb_bac_propval vals[2];
    struct sb_bac_cov_notif n;
    ssize_t len;

    srv_w_init(&pw, pvbuf, sizeof(pvbuf));
    sb_bac_srv__w_pv(&pw, o, o->pv);
    srv_w_init(&fw, sfbuf, sizeof(sfbuf));
    sb_bac_srv__w_bits8(&fw, flags, 4);
    vals[0] = (struct sb_bac_propval){ .prop = SB_BAC_P_PRESENT_VALUE, .value = pvbuf,
                                       .value_len = pw.n };
    vals[1] = (struct sb_bac_propval){ .prop = SB_BAC_P_STATUS_FLAGS, .value = sfbuf,
                                       .value_len = fw.n };
    n = (struct sb_bac_cov_notif){ .pid = sub->pid, .device = s->dev->oid, .oid = o->oid,
                                   .time_remaining = remaining_s(sub, now_ms),
                                   .vals = vals, .nvals = 2 };
    sub->last_pv = o->pv;
    sub->last_flags = flags;
    sub->pending = false;
    len = sb_bac_enc_cov_notif(out, sizeof(out), &n);
    if (len > 0 && s->send && !pw.err && !fw.err)
        s->send(s->send_ud, &sub->peer, sub->confirmed,
                sub->confirmed ? SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION
                               : SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION,
                out, (size_t)len);
}

static bool expired(const struct srv_sub *sub, int64_t now_ms)
{
    return sub->expires && now_ms >= sub->expires;
}

static bool moved(const srv_obj *o, union srv_pv last)
{
    if (o->fam != FAM_ANALOG)
        return o->pv.u != last.u;
    if (o->u.an.cov_inc <= 0)
        return o->pv.r != last.r;
    return fabsf(o->pv.r - last.r) >= o->u.an.cov_inc;
}

void sb_bac_srv__cov_check(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms)
{
    uint8_t flags = sb_bac_srv__flags(o);
    size_t left = o->nsubs;          /* stop once every subscription of o was seen */

    for (size_t i = 0; i < s->nsubs_max && left; i++) {
        struct srv_sub *sub = &s->subs[i];
        if (sub->obj != o)
            continue;
        left--;
        if (expired(sub, now_ms))
            drop(s, sub);
        else if (!sub->pending && (flags != sub->last_flags || moved(o, sub->last_pv)))
            notify(s, sub, now_ms);
    }
}

void sb_bac_srv_flush(struct sb_bac_srv *s, int64_t now_ms)
{
    /* the table is scanned only as far as its last live subscription */
    size_t left = s ? s->nsubs : 0;
    for (size_t i = 0; left && i < s->nsubs_max; i++) {
        if (!s->subs[i].obj)
            continue;
        left--;
        if (s->subs[i].pending && !expired(&s->subs[i], now_ms))
            notify(s, &s->subs[i], now_ms);
    }
}

void sb_bac_srv_tick(struct sb_bac_srv *s, int64_t now_ms)
{
    size_t left = s ? s->nsubs : 0;
    for (size_t i = 0; left && i < s->nsubs_max; i++) {
        if (!s->subs[i].obj)
            continue;
        left--;
        if (expired(&s->subs[i], now_ms))
            drop(s, &s->subs[i]);   /* clause 13.14.1.1.4: lifetime ran out */
    }
    sb_bac_srv_flush(s, now_ms);
}

void sb_bac_srv_set_sender(struct sb_bac_srv *s, sb_bac_srv_send_fn fn, void *ud)
{
    if (!s)
        return;
    s->send = fn;
    s->send_ud = ud;
}

size_t sb_bac_srv_cov_count(const struct sb_bac_srv *s)
{
    return s ? s->nsubs : 0;
}

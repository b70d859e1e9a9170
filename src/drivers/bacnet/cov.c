/*
 * cov.c - change-of-value subscriptions (ANSI/ASHRAE 135 clause 13.1,
 * 13.14 SubscribeCOV, 13.6/13.7 COV notifications).
 *
 * Each Present_Value point of a device that accepts it is subscribed with
 * a finite lifetime (a device that reboots forgets subscriptions; a
 * finite lifetime bounds how long it stays silent) and renewed at 80 % of
 * it.  A device that rejects the service, or an object whose subscription
 * fails, is polled instead.  Notifications are pushed as readings;
 * Status_Flags in them become the quality.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "drivers/bacnet/bacnet.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "store/sample.h"

#define SUBS_PER_TICK 32     /* spread a start over seconds, not one burst */
#define RETRY_MS 30000       /* after a subscription timed out */

struct ticket {
    struct bacdrv *b;
    uint32_t inst;
    struct sb_bac_oid oid;
};

static bool same_oid(struct sb_bac_oid a, struct sb_bac_oid b)
{
    return a.type == b.type && a.instance == b.instance;
}

static bool cov_point(const struct bpt *p)
{
    return p->cov_want && p->prop == SB_BAC_P_PRESENT_VALUE && !p->has_index;
}

static void set_state(struct bdev *d, struct sb_bac_oid oid, uint8_t st, uint64_t at, uint64_t seen)
{
    if (at < d->cov_next)
        d->cov_next = at;
    for (struct bpt *p = d->pts; p; p = p->next)
        if (cov_point(p) && same_oid(p->oid, oid)) {
            p->cov = st;
            p->cov_at = at;
            if (seen)
                p->cov_seen = seen;
        }
}

static void sub_done(void *ud, const struct sb_bac_result *r)
{
    struct ticket *t = ud;
    struct bacdrv *b = t->b;
    struct bdev *d = r->rc == SB_ECLOSED ? NULL : sb_bacd_dev_by_inst(b, t->inst);
    uint64_t now = d ? uv_now(b->loop) : 0;

    if (!d)
        goto out;
    if (r->rc == 0 || r->rc == SB_EPROTO)
        d->heard = now;
    if (r->rc == 0) {
        set_state(d, t->oid, COV_ACTIVE, now + (uint64_t)b->cov_lifetime * 800u, now);
    } else if (r->rc == SB_EPROTO) {
        char why[SB_DRV_ERR_MAX];
        sb_bacd_why(r, &d->peer, why, sizeof(why));
        if (r->pdu == SB_BAC_PDU_REJECT) {
            /* No SubscribeCOV in this device at all. */
            d->no_cov = true;
            SB_INFO("bacnet", "%s: no COV (%s); polling", d->key, why);
        }
        set_state(d, t->oid, COV_REFUSED, 0, 0);
    } else {
        set_state(d, t->oid, COV_IDLE, now + RETRY_MS, 0);
    }
out:
    free(t);
}

static int subscribe(struct bacdrv *b, struct bdev *d, struct bpt *p, bool cancel)
{
    struct sb_bac_subcov s = { .pid = b->pid, .oid = p->oid };
    uint8_t body[32];
    ssize_t k;
    struct ticket *t = NULL;

    if (!cancel) {
        s.has_confirmed = s.has_lifetime = true;
        s.confirmed = b->cov_confirmed;
        s.lifetime = b->cov_lifetime;
    }
    if ((k = sb_bac_enc_subcov(body, sizeof(body), &s)) < 0)
        return (int)k;
    if (!cancel) {
        if (!(t = malloc(sizeof(*t))))
            return SB_ENOMEM;
        *t = (struct ticket){ .b = b, .inst = d->inst, .oid = p->oid };
    }
    int rc = sb_bac_request(b->st, &d->peer, SB_BAC_SVC_SUBSCRIBE_COV, body, (size_t)k,
                            cancel ? NULL : sub_done, t);
    if (rc < 0)
        free(t);
    return rc;
}

/* Subscribe once per object even if several points read it. */
static bool first_of_object(const struct bdev *d, const struct bpt *p)
{
    for (const struct bpt *q = d->pts; q && q != p; q = q->next)
        if (cov_point(q) && same_oid(q->oid, p->oid))
            return false;
    return true;
}

void sb_bacd_cov_tick(struct bacdrv *b, uint64_t now)
{
    int budget = SUBS_PER_TICK;

    if (!b->cov_enabled)
        return;
    for (struct bdev *d = b->devs; d && budget > 0; d = d->next) {
        /* Each point is looked at when its time comes, not every second. */
        if (!d->known || d->no_cov || d->foreign || now < d->cov_next ||
            !sb_drv_may_talk(b->drv, d->key))
            continue;               /* another node's, or our lease lapsed: quiet */
        uint64_t mn = UINT64_MAX;
        struct bpt *p;
        for (p = d->pts; p && budget > 0; p = p->next) {
            if (!cov_point(p) || p->cov == COV_REFUSED)
                continue;
            if (now < p->cov_at) {
                if (p->cov_at < mn)
                    mn = p->cov_at;
                continue;
            }
            if (p->cov == COV_PENDING || !first_of_object(d, p))
                continue;
            uint8_t was = p->cov;
            if (subscribe(b, d, p, false) == 0) {
                budget--;
                /* A renewal keeps the point ACTIVE until it fails. */
                set_state(d, p->oid, was == COV_ACTIVE ? COV_ACTIVE : COV_PENDING,
                          now + (uint64_t)b->cfg.apdu_timeout_ms * 8u, 0);
            }
            if (p->cov_at < mn)
                mn = p->cov_at;
        }
        /* A device left half-done (budget) is looked at again next second. */
        d->cov_next = p ? 0 : mn;
    }
}

void sb_bacd_cov_cancel(struct bacdrv *b, struct bpt *p)
{
    if (b->st && p->dev && p->dev->known && (p->cov == COV_ACTIVE || p->cov == COV_PENDING) &&
        first_of_object(p->dev, p))
        subscribe(b, p->dev, p, true);
    p->cov = COV_OFF;
}

void sb_bacd_cov_notification(struct bacdrv *b, const struct sb_bac_peer *from,
                              const uint8_t *body, size_t len)
{
    struct sb_bac_cov_notif n;
    struct bdev *d;
    double v = NAN;
    uint16_t q = 0;
    bool have = false;

    if (sb_bac_dec_cov_notif(body, len, &n) < 0) {
        b->cov_bad++;
        sb_drv_count_bad(b->drv, "bacnet", "malformed COV notification");
        return;
    }
    if (n.pid != b->pid || !(d = sb_bacd_dev_by_inst(b, n.device.instance)))
        return;                      /* not our subscription */
    for (size_t o = 0; o < n.list_len;) {
        struct sb_bac_propval pv;
        ssize_t k = sb_bac_dec_propval(n.list + o, n.list_len - o, &pv);
        if (k <= 0)
            break;
        o += (size_t)k;
        if (pv.prop == SB_BAC_P_PRESENT_VALUE)
            have = sb_bacd_number(pv.value, pv.value_len, &v) == 0;
        else if (pv.prop == SB_BAC_P_STATUS_FLAGS) {
            struct sb_bac_value f;
            if (sb_bac_dec_app(pv.value, pv.value_len, &f) > 0 && f.type == SB_BAC_BIT_STRING) {
                if (sb_bac_bit(&f.v.bits, 1) || sb_bac_bit(&f.v.bits, 3))
                    q |= SB_Q_FAULT;
                if (sb_bac_bit(&f.v.bits, 2))
                    q |= SB_Q_OVERRIDDEN;
            }
        }
    }
    if (!have)
        return;
    uint64_t now = uv_now(b->loop);
    struct sb_drv_value out[8];
    d->heard = now;
    size_t k = 0;
    for (struct bpt *p = d->pts; p; p = p->next) {
        if (!cov_point(p) || !same_oid(p->oid, n.oid))
            continue;
        p->cov_seen = now;
        if (p->cov != COV_ACTIVE)
            p->cov = COV_ACTIVE;     /* the initial notification may beat the ACK */
        out[k++] = (struct sb_drv_value){ .point = p->pt->id, .v = v, .q = q };
        if (k == 8) {
            sb_drv_push(b->drv, out, k);
            k = 0;
        }
    }
    if (k)
        sb_drv_push(b->drv, out, k);
    b->cov_pushed++;
    (void)from;
}

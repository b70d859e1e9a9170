/*
 * read.c - polling BACnet points: items packed into ReadPropertyMultiple
 * requests as large as the device's Max_APDU allows for both the request
 * and the answer (clause 15.7), ReadProperty (clause 15.5) for devices
 * that reject RPM.  Present_Value is read with Status_Flags, whose fault,
 * out-of-service and overridden bits become the reading's quality.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/bacnet.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "store/sample.h"

#define ITEM_REPLY 32        /* worst-case answer bytes per point (PV + flags) */
#define MAX_PER_RPM 200      /* even when the device segments */

struct rdjob {
    struct bacdrv *b;
    struct bdev *d;
    struct sb_drv_item *items;
    size_t n;
    struct sb_drv_op *op;
    int pending, sent, timeouts;
    char err[SB_DRV_ERR_MAX];
};

struct chunk {
    struct rdjob *rj;
    size_t k;                /* items in idx */
    size_t idx[];            /* indices into rj->items */
};

int sb_bacd_number(const uint8_t *p, size_t n, double *out)
{
    struct sb_bac_value v;
    *out = NAN;
    if (sb_bac_dec_app(p, n, &v) < 0)
        return SB_EPROTO;
    switch (v.type) {
    case SB_BAC_NULL:       return 1;
    case SB_BAC_REAL:       *out = v.v.real; break;
    case SB_BAC_DOUBLE:     *out = v.v.dbl; break;
    case SB_BAC_UNSIGNED:   *out = (double)v.v.u; break;
    case SB_BAC_SIGNED:     *out = (double)v.v.i; break;
    case SB_BAC_ENUMERATED: *out = v.v.enumerated; break;
    case SB_BAC_BOOLEAN:    *out = v.v.boolean; break;
    default:                return SB_EPROTO;
    }
    return 0;
}

static void err_text(uint32_t cls, uint32_t code, char *buf, size_t cap)
{
    const char *cn = sb_bacn_err_code_name(code);
    if (strcmp(cn, "?"))
        snprintf(buf, cap, "%s: %s", sb_bacn_err_class_name(cls), cn);
    else
        snprintf(buf, cap, "%s: error code %u", sb_bacn_err_class_name(cls), code);
}

void sb_bacd_why(const struct sb_bac_result *r, const struct sb_bac_peer *peer, char *buf, size_t cap)
{
    char a[96];
    switch (r->rc) {
    case SB_ETIMEDOUT:
        snprintf(buf, cap, "no answer from %s", sb_bac_peer_str(peer, a, sizeof(a)));
        return;
    case SB_EPROTO:
        if (r->pdu == SB_BAC_PDU_ERROR)
            err_text(r->err_class, r->err_code, buf, cap);
        else if (r->pdu == SB_BAC_PDU_REJECT)
            snprintf(buf, cap, "reject: %s", sb_bacn_reject_name(r->reason));
        else if (r->pdu == SB_BAC_PDU_ABORT)
            snprintf(buf, cap, "abort: %s", sb_bacn_abort_name(r->reason));
        else
            snprintf(buf, cap, "answer does not match the request");
        return;
    default:
        snprintf(buf, cap, "%s", sb_strerror(r->rc));
    }
}

/* ---- completion ------------------------------------------------------------------ */

static void job_done(struct rdjob *rj)
{
    int rc = 0;
    /* The device is down only if nothing at all came back. */
    if (rj->timeouts == rj->sent)
        rc = SB_ETIMEDOUT;
    sb_drv_done(rj->op, rc, rc ? rj->err : NULL);
    free(rj);
}

static void item_fail(struct sb_drv_item *it, int rc, const char *why)
{
    it->rc = rc;
    it->v = NAN;
    snprintf(it->err, sizeof(it->err), "%s", why);
}

static uint16_t flags_quality(const uint8_t *p, size_t n)
{
    struct sb_bac_value v;
    uint16_t q = 0;
    if (sb_bac_dec_app(p, n, &v) < 0 || v.type != SB_BAC_BIT_STRING)
        return 0;
    if (sb_bac_bit(&v.v.bits, 1) || sb_bac_bit(&v.v.bits, 3))   /* fault, out-of-service */
        q |= SB_Q_FAULT;
    if (sb_bac_bit(&v.v.bits, 2))                                 /* overridden */
        q |= SB_Q_OVERRIDDEN;
    return q;
}

static void item_value(struct sb_drv_item *it, const uint8_t *p, size_t n)
{
    double x;
    int r = sb_bacd_number(p, n, &x);
    if (r < 0) {
        item_fail(it, SB_EPROTO, "value is not a number");
        return;
    }
    it->rc = 0;
    it->v = x;                       /* NULL (r == 1): NaN, no reading */
}

/* ---- ReadProperty (fallback) ------------------------------------------------------ */

static void rp_done(void *ud, const struct sb_bac_result *r);

static int send_rp(struct rdjob *rj, size_t i)
{
    struct bpt *p = rj->items[i].pt->addr;
    struct sb_bac_rp rq = { .oid = p->oid, .prop = p->prop, .has_index = p->has_index,
                            .index = p->index };
    uint8_t body[32];
    ssize_t k = sb_bac_enc_rp_req(body, sizeof(body), &rq);
    struct chunk *c = malloc(sizeof(*c) + sizeof(size_t));
    int rc;

    if (k < 0 || !c) {
        free(c);
        return k < 0 ? (int)k : SB_ENOMEM;
    }
    c->rj = rj;
    c->k = 1;
    c->idx[0] = i;
    if ((rc = sb_bac_request(rj->b->st, &rj->d->peer, SB_BAC_SVC_READ_PROPERTY, body, (size_t)k,
                             rp_done, c)) < 0) {
        free(c);
        return rc;
    }
    rj->pending++;
    rj->sent++;
    return 0;
}

static void rp_done(void *ud, const struct sb_bac_result *r)
{
    struct chunk *c = ud;
    struct rdjob *rj = c->rj;
    struct sb_drv_item *it = &rj->items[c->idx[0]];
    struct sb_bac_rp ack;
    char why[SB_DRV_ERR_MAX];

    if (r->rc == 0)
        rj->d->heard = uv_now(rj->b->loop);
    if (r->rc == 0 && sb_bac_dec_rp_ack(r->body, r->len, &ack) >= 0) {
        item_value(it, ack.value, ack.value_len);
    } else {
        sb_bacd_why(r, &rj->d->peer, why, sizeof(why));
        if (r->rc == SB_ETIMEDOUT) {
            rj->timeouts++;
            snprintf(rj->err, sizeof(rj->err), "%s", why);
        }
        item_fail(it, r->rc ? r->rc : SB_EPROTO, r->rc ? why : "malformed ReadProperty-ACK");
    }
    free(c);
    if (--rj->pending == 0)
        job_done(rj);
}

/* ---- ReadPropertyMultiple ------------------------------------------------------------ */

static void rpm_done(void *ud, const struct sb_bac_result *r);

/* One spec per item: the property, plus Status_Flags with Present_Value. */
static ssize_t enc_spec(uint8_t *buf, size_t cap, const struct bpt *p)
{
    struct sb_bac_propref refs[2] = { { .prop = p->prop, .has_index = p->has_index,
                                        .index = p->index },
                                      { .prop = SB_BAC_P_STATUS_FLAGS } };
    struct sb_bac_rpm_spec s = { .oid = p->oid, .refs = refs,
                                 .nrefs = p->prop == SB_BAC_P_PRESENT_VALUE && !p->has_index ? 2 : 1 };
    return sb_bac_enc_rpm_spec(buf, cap, &s);
}

static int send_rpm(struct rdjob *rj, const size_t *idx, size_t k, const uint8_t *body, size_t len)
{
    struct chunk *c = malloc(sizeof(*c) + k * sizeof(size_t));
    int rc;
    if (!c)
        return SB_ENOMEM;
    c->rj = rj;
    c->k = k;
    memcpy(c->idx, idx, k * sizeof(size_t));
    if ((rc = sb_bac_request(rj->b->st, &rj->d->peer, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, body, len,
                             rpm_done, c)) < 0) {
        free(c);
        return rc;
    }
    rj->pending++;
    rj->sent++;
    return 0;
}

/* Fill the chunk's items from an RPM-ACK; 0, or SB_EPROTO if malformed. */
static int rpm_parse(struct rdjob *rj, const struct chunk *c, const uint8_t *p, size_t n)
{
    size_t off = 0, next = 0;
    while (off < n) {
        struct sb_bac_rpm_result res;
        ssize_t k = sb_bac_dec_rpm_result(p + off, n - off, &res);
        if (k <= 0)
            return SB_EPROTO;
        off += (size_t)k;
        /* Results come in the order of the specs (clause 15.7.2). */
        if (next >= c->k)
            return SB_EPROTO;
        struct sb_drv_item *it = &rj->items[c->idx[next++]];
        struct bpt *bp = it->pt->addr;
        if (res.oid.type != bp->oid.type || res.oid.instance != bp->oid.instance)
            return SB_EPROTO;
        item_fail(it, SB_EPROTO, "property missing from the answer");
        for (size_t o = 0; o < res.list_len;) {
            struct sb_bac_rpm_elem e;
            ssize_t m = sb_bac_dec_rpm_elem(res.list + o, res.list_len - o, &e);
            if (m <= 0)
                return SB_EPROTO;
            o += (size_t)m;
            if (e.prop == SB_BAC_P_STATUS_FLAGS && bp->prop != SB_BAC_P_STATUS_FLAGS) {
                if (!e.is_error)
                    it->q = flags_quality(e.value, e.value_len);
                continue;
            }
            if (e.prop != bp->prop)
                continue;
            if (e.is_error) {
                char why[SB_DRV_ERR_MAX];
                err_text(e.err_class, e.err_code, why, sizeof(why));
                item_fail(it, SB_EPROTO, why);
            } else {
                item_value(it, e.value, e.value_len);
            }
        }
    }
    return next == c->k ? 0 : SB_EPROTO;
}

/* The device does not do RPM (or not this one): read the chunk by RP. */
static bool rpm_unsupported(const struct sb_bac_result *r)
{
    return r->rc == SB_EPROTO &&
           ((r->pdu == SB_BAC_PDU_REJECT && r->reason == SB_BAC_RJ_UNRECOGNIZED_SERVICE) ||
            r->pdu == SB_BAC_PDU_ABORT || r->pdu == SB_BAC_PDU_ERROR);
}

static void rpm_done(void *ud, const struct sb_bac_result *r)
{
    struct chunk *c = ud;
    struct rdjob *rj = c->rj;
    char why[SB_DRV_ERR_MAX];

    if (r->rc == 0 || (r->rc == SB_EPROTO && r->pdu != 0))
        rj->d->heard = uv_now(rj->b->loop);
    if (r->rc == 0 && rpm_parse(rj, c, r->body, r->len) == 0)
        goto out;
    if (r->rc == 0 || r->rc == SB_ECLOSED || r->rc == SB_ETIMEDOUT) {
        sb_bacd_why(r, &rj->d->peer, why, sizeof(why));
        if (r->rc == 0)
            snprintf(why, sizeof(why), "malformed ReadPropertyMultiple-ACK");
        if (r->rc == SB_ETIMEDOUT) {
            rj->timeouts++;
            snprintf(rj->err, sizeof(rj->err), "%s", why);
        }
        for (size_t i = 0; i < c->k; i++)
            item_fail(&rj->items[c->idx[i]], r->rc ? r->rc : SB_EPROTO, why);
        goto out;
    }
    if (rpm_unsupported(r)) {
        /* A Reject of the service means the device has no RPM at all; an
         * Error or Abort of this request (some devices fail the whole RPM
         * for one unknown object, or cannot fit the answer) gets per-point
         * answers by RP without giving up RPM for the device. */
        if (r->pdu == SB_BAC_PDU_REJECT)
            rj->d->no_rpm = true;
        rj->sent--;                  /* replaced by the RPs */
        for (size_t i = 0; i < c->k; i++)
            if (send_rp(rj, c->idx[i]) < 0)
                item_fail(&rj->items[c->idx[i]], SB_ENOMEM, "out of memory");
    }
out:
    free(c);
    if (--rj->pending == 0)
        job_done(rj);
}

/* Answer from the COV subscription where it is alive; 1 if done so.  A
 * device that dies sends no notifications, which looks like a quiet
 * one: when nothing came from it for cov_heartbeat, the poll reads
 * everything for real, so a dead device is noticed within a heartbeat
 * (and a quiet one costs one RPM per heartbeat). */
static int from_cov(struct bacdrv *b, struct bdev *d, struct sb_drv_item *it)
{
    struct bpt *p = it->pt->addr;
    uint64_t now = uv_now(b->loop);
    if (p->cov != COV_ACTIVE || now - p->cov_seen > (uint64_t)b->cov_lifetime * 1000u ||
        now - d->heard > b->cov_heartbeat_ms)
        return 0;
    it->rc = 0;
    it->v = NAN;
    it->fresh = 1;
    return 1;
}

static size_t reply_room(const struct bacdrv *b, const struct bdev *d)
{
    /* A device that can send segments may answer beyond one APDU. */
    if (d->seg == 0 || d->seg == 1)
        return (size_t)b->cfg.max_rx * 1024u;
    return d->max_apdu - 3u;
}

int sb_bacd_read(struct bacdrv *b, struct bdev *d, struct sb_drv_item *items, size_t n,
                 struct sb_drv_op *op, char *err, size_t errlen)
{
    struct rdjob *rj = calloc(1, sizeof(*rj));
    size_t *idx = malloc((n ? n : 1) * sizeof(size_t)), k = 0, len = 0, ans = 0;
    size_t room = sb_bac_stack_room(b->st, &d->peer), rroom = reply_room(b, d);
    uint8_t *body = malloc(room + 64);
    int rc = 0;

    if (!rj || !idx || !body) {
        rc = SB_ENOMEM;
        goto fail;
    }
    *rj = (struct rdjob){ .b = b, .d = d, .items = items, .n = n, .op = op, .pending = 1 };
    for (size_t i = 0; i < n; i++) {
        if (from_cov(b, d, &items[i]))
            continue;
        if (d->no_rpm) {
            if ((rc = send_rp(rj, i)) < 0)
                goto fail;
            continue;
        }
        ssize_t sl = enc_spec(NULL, 0, items[i].pt->addr);
        if (sl < 0) {
            item_fail(&items[i], SB_EINVAL, "address cannot be encoded");
            continue;
        }
        if (k && (len + (size_t)sl > room || ans + ITEM_REPLY > rroom || k == MAX_PER_RPM)) {
            if ((rc = send_rpm(rj, idx, k, body, len)) < 0)
                goto fail;
            k = len = ans = 0;
        }
        enc_spec(body + len, room + 64 - len, items[i].pt->addr);
        len += (size_t)sl;
        ans += ITEM_REPLY;
        idx[k++] = i;
    }
    if (k && (rc = send_rpm(rj, idx, k, body, len)) < 0)
        goto fail;
    free(idx);
    free(body);
    if (--rj->pending == 0) {        /* nothing sent: every item answered */
        free(rj);
        return 1;
    }
    return 0;
fail:
    snprintf(err, errlen, "%s", sb_strerror(rc));
    free(idx);
    free(body);
    if (rj && rj->pending > 1) {
        /* Some requests are out: let them finish, report through them. */
        rj->pending--;
        return 0;
    }
    free(rj);
    return rc;
}

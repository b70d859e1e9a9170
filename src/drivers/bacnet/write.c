/*
 * write.c - commanding BACnet points (clause 15.9 WriteProperty, clause
 * 19.2 command prioritization).  A write goes at the caller's priority
 * (else the point's, else the driver's default, 8 = operator); a release
 * writes NULL at that priority.  Then Present_Value and Priority_Array are
 * read back in one RPM, so the result says which value the device holds
 * and which priority slot wins: "priority 8 (ours)", "priority 5", or
 * "relinquish default".  A device without a priority array (a
 * non-commandable value) is last-writer-wins: written without priority
 * and said so.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "drivers/bacnet/bacnet.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"

struct wjob {
    struct bacdrv *b;
    struct bdev *d;
    struct bpt *p;
    struct sb_drv_write *w;
    struct sb_drv_op *op;
    uint8_t prio;
};

/* The encoding a Present_Value of this object type takes (clause 12). */
static int enc_value(uint8_t *buf, size_t cap, const struct bpt *p, const struct sb_drv_write *w)
{
    struct sb_bac_value v = { .type = SB_BAC_REAL };
    if (w->relinquish) {
        v.type = SB_BAC_NULL;
    } else {
        switch (p->oid.type) {
        case SB_BAC_OBJ_BI: case SB_BAC_OBJ_BO: case SB_BAC_OBJ_BV:
            if (w->value != 0 && w->value != 1)
                return SB_ERANGE;
            v.type = SB_BAC_ENUMERATED;          /* BACnetBinaryPV */
            v.v.enumerated = (uint32_t)w->value;
            break;
        case SB_BAC_OBJ_MSI: case SB_BAC_OBJ_MSO: case SB_BAC_OBJ_MSV:
            if (w->value < 1 || w->value > 4294967295.0 || w->value != floor(w->value))
                return SB_ERANGE;
            v.type = SB_BAC_UNSIGNED;
            v.v.u = (uint64_t)w->value;
            break;
        default:
            v.v.real = (float)w->value;
        }
    }
    ssize_t k = sb_bac_enc_app(buf, cap, &v);
    return (int)k;
}

static void finish(struct wjob *j, int rc, const char *why)
{
    sb_drv_done(j->op, rc, why);
    free(j);
}

/* Who wins the Priority_Array (clause 19.2.1): the first non-NULL slot.
 * A slot is an application-tagged primitive or, for a few object types,
 * a constructed BACnetPriorityValue: skip what we cannot decode. */
static void holder(struct wjob *j, const uint8_t *pa, size_t n)
{
    size_t off = 0;
    for (int slot = 1; slot <= 16 && off < n; slot++) {
        struct sb_bac_value v;
        ssize_t k = sb_bac_dec_app(pa + off, n - off, &v);
        bool null = k > 0 && v.type == SB_BAC_NULL;
        if (k <= 0 && (k = sb_bac_skip(pa + off, n - off)) <= 0)
            return;
        if (!null) {
            snprintf(j->w->holder, sizeof(j->w->holder), "priority %d%s", slot,
                     slot == j->prio ? " (ours)" : "");
            return;
        }
        off += (size_t)k;
    }
    snprintf(j->w->holder, sizeof(j->w->holder), "relinquish default");
}

static void readback_done(void *ud, const struct sb_bac_result *r)
{
    struct wjob *j = ud;

    if (r->rc == 0) {
        struct sb_bac_rpm_result res;
        ssize_t k = sb_bac_dec_rpm_result(r->body, r->len, &res);
        for (size_t o = 0; k > 0 && o < res.list_len;) {
            struct sb_bac_rpm_elem e;
            ssize_t m = sb_bac_dec_rpm_elem(res.list + o, res.list_len - o, &e);
            if (m <= 0)
                break;
            o += (size_t)m;
            if (e.is_error)
                continue;
            if (e.prop == SB_BAC_P_PRESENT_VALUE) {
                double x;
                if (sb_bacd_number(e.value, e.value_len, &x) == 0) {
                    j->w->readback = x;
                    j->w->has_readback = 1;
                }
            } else if (e.prop == SB_BAC_P_PRIORITY_ARRAY) {
                holder(j, e.value, e.value_len);
            }
        }
    }
    /* A failed read-back leaves has_readback 0: the framework reads the
     * point itself and reports "not confirmed" if that fails too. */
    finish(j, 0, NULL);
}

static void read_back(struct wjob *j)
{
    struct sb_bac_propref refs[2] = { { .prop = SB_BAC_P_PRESENT_VALUE },
                                      { .prop = SB_BAC_P_PRIORITY_ARRAY } };
    struct sb_bac_rpm_spec s = { .oid = j->p->oid, .refs = refs, .nrefs = 2 };
    uint8_t body[48];
    ssize_t k = sb_bac_enc_rpm_spec(body, sizeof(body), &s);

    if (j->d->no_rpm || k < 0 ||
        sb_bac_request(j->b->st, &j->d->peer, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, body, (size_t)k,
                       readback_done, j) < 0)
        finish(j, 0, NULL);           /* the framework's own read-back follows */
}

static void wp_done(void *ud, const struct sb_bac_result *r)
{
    struct wjob *j = ud;
    char why[SB_DRV_ERR_MAX];

    if (r->rc == 0) {
        if (j->prio == 0)
            snprintf(j->w->holder, sizeof(j->w->holder), "no priority array: last writer wins");
        if (j->prio)
            read_back(j);
        else
            finish(j, 0, NULL);
        return;
    }
    sb_bacd_why(r, &j->d->peer, why, sizeof(why));
    snprintf(j->w->err, sizeof(j->w->err), "%s", why);
    finish(j, r->rc == SB_EPROTO ? SB_EPROTO : r->rc == SB_ETIMEDOUT ? SB_ETIMEDOUT : SB_EIO, why);
}

static bool commandable_type(uint16_t t)
{
    /* Outputs always have a priority array; values may (clause 12). */
    return t == SB_BAC_OBJ_AO || t == SB_BAC_OBJ_BO || t == SB_BAC_OBJ_MSO ||
           t == SB_BAC_OBJ_AV || t == SB_BAC_OBJ_BV || t == SB_BAC_OBJ_MSV;
}

int sb_bacd_write(struct bacdrv *b, struct bdev *d, struct sb_drv_write *w, struct sb_drv_op *op)
{
    struct bpt *p = w->pt->addr;
    struct wjob *j = calloc(1, sizeof(*j));
    struct sb_bac_wp wp = { .oid = p->oid, .prop = p->prop, .has_index = p->has_index,
                            .index = p->index };
    uint8_t val[16], body[64];
    int k, rc;

    if (!j)
        return SB_ENOMEM;
    *j = (struct wjob){ .b = b, .d = d, .p = p, .w = w, .op = op };
    j->prio = (uint8_t)(w->priority ? w->priority : p->priority ? p->priority : b->priority);
    w->priority = j->prio;           /* the result says which slot was written */
    if (!commandable_type(p->oid.type) || p->prop != SB_BAC_P_PRESENT_VALUE) {
        if (w->relinquish) {
            snprintf(w->err, sizeof(w->err), "%s has no priority array to release",
                     p->prop == SB_BAC_P_PRESENT_VALUE ? "this object" : "this property");
            free(j);
            return SB_EPROTO;
        }
        SB_WARN("bacnet", "%s: no priority array, writing without priority (last writer wins)",
                w->pt->slug);
        j->prio = 0;
        w->priority = 0;
    }
    if ((k = enc_value(val, sizeof(val), p, w)) < 0) {
        snprintf(w->err, sizeof(w->err), "%s", k == SB_ERANGE
                 ? "value does not fit the object type (binary 0/1, multi-state 1..n)"
                 : "value cannot be encoded");
        free(j);
        return SB_EPROTO;
    }
    wp.value = val;
    wp.value_len = (size_t)k;
    wp.priority = j->prio;
    ssize_t bl = sb_bac_enc_wp(body, sizeof(body), &wp);
    if (bl < 0 || (rc = sb_bac_request(b->st, &d->peer, SB_BAC_SVC_WRITE_PROPERTY, body,
                                      (size_t)bl, wp_done, j)) < 0) {
        free(j);
        snprintf(w->err, sizeof(w->err), "request not sent");
        return SB_EIO;
    }
    return 0;
}

/* ---- command slots (GET /api/v1/points/{p}/priority) ---------------------------- */

struct sjob {
    struct bacdrv *b;
    struct bdev *d;
    struct sb_drv_slots *out;
    struct sb_drv_op *op;
};

static void slots_rd(void *ud, const struct sb_bac_result *r)
{
    struct sjob *j = ud;
    char why[SB_DRV_ERR_MAX] = "";
    struct sb_bac_rpm_result res;
    int rc = r->rc;

    if (rc == 0 && sb_bac_dec_rpm_result(r->body, r->len, &res) > 0) {
        for (size_t o = 0; o < res.list_len;) {
            struct sb_bac_rpm_elem e;
            ssize_t m = sb_bac_dec_rpm_elem(res.list + o, res.list_len - o, &e);
            if (m <= 0)
                break;
            o += (size_t)m;
            if (e.is_error)
                continue;
            if (e.prop == SB_BAC_P_PRESENT_VALUE) {
                sb_bacd_number(e.value, e.value_len, &j->out->present);
            } else if (e.prop == SB_BAC_P_RELINQUISH_DEFAULT) {
                sb_bacd_number(e.value, e.value_len, &j->out->relinquish_default);
            } else if (e.prop == SB_BAC_P_PRIORITY_ARRAY) {
                size_t off = 0;
                j->out->n = SB_DRV_SLOTS;
                for (int s = 0; s < SB_DRV_SLOTS && off < e.value_len; s++) {
                    double x;
                    ssize_t k = sb_bac_skip(e.value + off, e.value_len - off);
                    if (k <= 0)
                        break;
                    if (sb_bacd_number(e.value + off, (size_t)k, &x) == 0)
                        j->out->value[s] = x;
                    off += (size_t)k;
                }
            }
        }
    } else if (rc == 0) {
        rc = SB_EPROTO;
        snprintf(why, sizeof(why), "malformed ReadPropertyMultiple-ACK");
    } else {
        sb_bacd_why(r, &j->d->peer, why, sizeof(why));
    }
    sb_drv_done(j->op, rc, why[0] ? why : NULL);
    free(j);
}

int sb_bacd_slots(struct bacdrv *b, struct bdev *d, struct sb_drv_point *pt,
                  struct sb_drv_slots *out, struct sb_drv_op *op, char *err, size_t errlen)
{
    struct bpt *p = pt->addr;
    struct sb_bac_propref refs[3] = { { .prop = SB_BAC_P_PRESENT_VALUE },
                                      { .prop = SB_BAC_P_PRIORITY_ARRAY },
                                      { .prop = SB_BAC_P_RELINQUISH_DEFAULT } };
    struct sb_bac_rpm_spec s = { .oid = p->oid, .refs = refs, .nrefs = 3 };
    uint8_t body[48];
    struct sjob *j;

    out->n = 0;
    out->present = out->relinquish_default = NAN;
    for (int i = 0; i < SB_DRV_SLOTS; i++)
        out->value[i] = NAN;
    if (!commandable_type(p->oid.type) || p->prop != SB_BAC_P_PRESENT_VALUE)
        return 1;                    /* no priority array: nothing to read */
    ssize_t k = sb_bac_enc_rpm_spec(body, sizeof(body), &s);
    if (k < 0 || !(j = calloc(1, sizeof(*j))))
        return SB_ENOMEM;
    *j = (struct sjob){ .b = b, .d = d, .out = out, .op = op };
    int rc = sb_bac_request(b->st, &d->peer, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, body, (size_t)k,
                            slots_rd, j);
    if (rc < 0) {
        free(j);
        snprintf(err, errlen, "%s", sb_strerror(rc));
    }
    return rc;
}

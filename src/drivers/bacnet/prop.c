/*
 * prop.c - one property of any object of a device, read (clause 15.5
 * ReadProperty) or written whole (clause 15.9 WriteProperty, no priority:
 * the properties this serves - a Schedule's Weekly_Schedule and
 * Exception_Schedule, a Calendar's Date_List - are not commandable,
 * clause 19.2).  The value travels as the codec encodes it (the
 * application-tagged data between the service's [3] tags), so the driver
 * neither knows nor checks what it carries: control/native.h builds and
 * reads the constructed values with codec/svc2.h.
 *
 * Requests are never segmented (bacnet-stack.md): a value longer than the
 * device's Max_APDU allows is refused here, and max_write tells the caller
 * how long one may be.  Answers may be segmented (up to the stack's
 * reassembly limit), so a long Exception_Schedule still reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/bacnet.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"

/* WriteProperty's own tags around the value (clause 15.9.1): object
 * identifier (5 octets), property identifier (up to 5), opening and
 * closing [3] (2), rounded up; the confirmed-request header is the
 * stack's (sb_bac_stack_room). */
#define WP_OVERHEAD 16

struct pjob {                        /* one exchange out */
    struct bacdrv *b;                /* the driver */
    struct bdev *d;                  /* the device asked */
    struct sb_drv_prop *p;           /* the caller's request (filled on the answer) */
    struct sb_drv_op *op;            /* the framework's handle, finished with sb_drv_done */
};

static size_t max_value(struct bacdrv *b, const struct bdev *d)
{
    size_t room = sb_bac_stack_room(b->st, &d->peer);
    return room > WP_OVERHEAD ? room - WP_OVERHEAD : 0;
}

static int failed(const struct sb_bac_result *r)
{
    return r->rc == SB_EPROTO ? SB_EPROTO : r->rc == SB_ETIMEDOUT ? SB_ETIMEDOUT : SB_EIO;
}

static void prop_answer(void *ud, const struct sb_bac_result *r)
{
    struct pjob *j = ud;
    struct sb_drv_prop *p = j->p;
    struct sb_bac_rp ack;
    int rc = 0;

    if (r->rc) {
        sb_bacd_why(r, &j->d->peer, p->err, sizeof(p->err));
        rc = failed(r);
    } else if (!p->write) {
        if (sb_bac_dec_rp_ack(r->body, r->len, &ack) < 0) {
            snprintf(p->err, sizeof(p->err), "malformed ReadProperty-ACK");
            rc = SB_EPROTO;
        } else if (ack.value_len > p->cap) {
            snprintf(p->err, sizeof(p->err), "the value (%zu bytes) is longer than %zu", ack.value_len,
                     p->cap);
            rc = SB_ENOSPC;
        } else {
            memcpy(p->value, ack.value, ack.value_len);
            p->len = ack.value_len;
        }
    }
    sb_drv_done(j->op, rc, rc ? p->err : NULL);
    free(j);
}

int sb_bacd_prop(struct bacdrv *b, struct bdev *d, struct sb_drv_prop *p, struct sb_drv_op *op)
{
    struct sb_bac_oid oid;
    uint32_t prop;
    uint8_t *body = NULL;
    size_t cap;
    ssize_t k;
    struct pjob *j = NULL;
    int rc = SB_EINVAL;

    p->max_write = max_value(b, d);
    if (sb_bacn_obj_parse(p->object, &oid) < 0 || sb_bacn_prop_parse(p->property, &prop) < 0) {
        snprintf(p->err, sizeof(p->err), "not a BACnet object and property: %.40s %.40s", p->object,
                 p->property);
        goto out;
    }
    if (p->write && p->len > p->max_write) {
        snprintf(p->err, sizeof(p->err), "the value (%zu bytes) does not fit one request to device %u "
                 "(at most %zu)", p->len, d->inst, p->max_write);
        rc = SB_ERANGE;
        goto out;
    }
    cap = (p->write ? p->len : 0) + WP_OVERHEAD;
    rc = SB_ENOMEM;
    if (!(body = malloc(cap)) || !(j = calloc(1, sizeof(*j))))
        goto out;
    if (p->write) {
        struct sb_bac_wp wp = { .oid = oid, .prop = prop, .value = p->value, .value_len = p->len,
                                .priority = SB_BAC_NO_PRIORITY };
        k = sb_bac_enc_wp(body, cap, &wp);
    } else {
        struct sb_bac_rp rq = { .oid = oid, .prop = prop };
        k = sb_bac_enc_rp_req(body, cap, &rq);
    }
    if (k < 0) {
        snprintf(p->err, sizeof(p->err), "the request cannot be encoded");
        rc = SB_EINVAL;
        goto out;
    }
    *j = (struct pjob){ .b = b, .d = d, .p = p, .op = op };
    rc = sb_bac_request(b->st, &d->peer, p->write ? SB_BAC_SVC_WRITE_PROPERTY : SB_BAC_SVC_READ_PROPERTY,
                        body, (size_t)k, prop_answer, j);
    if (rc < 0) {
        snprintf(p->err, sizeof(p->err), "request not sent: %s", sb_strerror(rc));
        rc = SB_EIO;
        goto out;
    }
    j = NULL;                        /* prop_answer frees it */
    rc = 0;
out:
    free(body);
    free(j);
    return rc;
}

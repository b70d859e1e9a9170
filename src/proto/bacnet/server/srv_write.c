/*
 * srv_write.c - writing properties (ANSI/ASHRAE 135-2020, clause 15.9.2:
 * unknown-property, property-is-not-an-array, write-access-denied,
 * invalid-data-type, value-out-of-range, all of class PROPERTY).
 *
 * Present_Value (clause 12.x.4): commandable objects take the write into
 * Priority_Array at the request's priority (16 when absent, clause
 * 19.2.1), NULL relinquishes; inputs accept it only while Out_Of_Service
 * (clause 12.2.4); value objects when created SB_BAC_SRV_WRITABLE or
 * while Out_Of_Service.  What sbems does not let a client change (names,
 * units, the Device's configuration) is write-access-denied.
 */
#include <math.h>

#include "proto/bacnet/server/srv_int.h"

#define DENIED SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED)
#define BAD_TYPE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE)
#define BAD_RANGE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE)

/* One application value of the given type, nothing else. */
static int want(const uint8_t *val, size_t len, uint8_t type, struct sb_bac_value *v)
{
    if (sb_bac_srv__one_value(val, len, v) < 0 || v->type != type)
        return BAD_TYPE;
    return 0;
}

static int want_real(const uint8_t *val, size_t len, bool nonneg, float *out)
{
    struct sb_bac_value v;
    int rc = want(val, len, SB_BAC_REAL, &v);

    if (rc < 0)
        return rc;
    if (!isfinite(v.v.real) || (nonneg && v.v.real < 0))
        return BAD_RANGE;
    *out = v.v.real;
    return 0;
}

/* A bit string of at most nbits named bits (extra bits must be clear). */
static int want_bits(const uint8_t *val, size_t len, size_t nbits, uint8_t *mask)
{
    struct sb_bac_value v;
    int rc = want(val, len, SB_BAC_BIT_STRING, &v);

    if (rc < 0)
        return rc;
    *mask = 0;
    for (size_t n = 0; n < v.v.bits.nbits; n++) {
        if (!sb_bac_bit(&v.v.bits, n))
            continue;
        if (n >= nbits)
            return BAD_RANGE;
        *mask |= (uint8_t)(1u << n);
    }
    return 0;
}

static int want_u32(const uint8_t *val, size_t len, uint8_t type, uint32_t max, uint32_t *out)
{
    struct sb_bac_value v;
    int rc = want(val, len, type, &v);
    uint64_t u;

    if (rc < 0)
        return rc;
    u = type == SB_BAC_ENUMERATED ? v.v.enumerated : v.v.u;
    if (u > max)
        return BAD_RANGE;
    *out = (uint32_t)u;
    return 0;
}

/* ---- Present_Value and the properties around it ---- */

static int write_pv(struct sb_bac_srv *s, srv_obj *o, const uint8_t *val, size_t len,
                    uint8_t prio, int64_t now_ms)
{
    union srv_pv pv;
    bool is_null;
    int rc;

    if (o->cmd) {
        if ((rc = sb_bac_srv__pv_decode(o, val, len, true, &pv, &is_null)) < 0)
            return rc;
        sb_bac_srv__command(s, o, prio ? prio : SRV_PRIO_DEFAULT, is_null, pv, now_ms);
        return 0;
    }
    if (!o->oos && ((o->flags & OF_INPUT) || !(o->flags & OF_WRITABLE)))
        return DENIED;
    if ((rc = sb_bac_srv__pv_decode(o, val, len, false, &pv, &is_null)) < 0)
        return rc;
    o->pv = pv;   /* priority is ignored: not commandable (clause 15.9.1.1.5) */
    sb_bac_srv__changed(s, o, now_ms);
    return 0;
}

static int write_oos(struct sb_bac_srv *s, srv_obj *o, const uint8_t *val, size_t len,
                     int64_t now_ms)
{
    struct sb_bac_value v;
    int rc = want(val, len, SB_BAC_BOOLEAN, &v);

    if (rc < 0)
        return rc;
    if (o->oos && !v.v.boolean && (o->flags & OF_INPUT))
        o->pv = o->phys;   /* back in service: the measurement rules again */
    o->oos = v.v.boolean;
    sb_bac_srv__changed(s, o, now_ms);
    return 0;
}

/* Reliability is writable while Out_Of_Service, to test fault handling. */
static int write_reliability(struct sb_bac_srv *s, srv_obj *o, const uint8_t *val, size_t len,
                             int64_t now_ms)
{
    uint32_t r;
    int rc;

    if (!o->oos)
        return DENIED;
    if ((rc = want_u32(val, len, SB_BAC_ENUMERATED, UINT16_MAX, &r)) < 0)
        return rc;
    o->reliability = r;
    sb_bac_srv__changed(s, o, now_ms);
    return 0;
}

static int write_alarm(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, const uint8_t *val,
                       size_t len, int64_t now_ms)
{
    struct srv_alarm *a = o->alarm;
    int rc;

    switch (prop) {
    case SB_BAC_P_HIGH_LIMIT:   rc = want_real(val, len, false, &a->high); break;
    case SB_BAC_P_LOW_LIMIT:    rc = want_real(val, len, false, &a->low); break;
    case SB_BAC_P_DEADBAND:     rc = want_real(val, len, true, &a->deadband); break;
    case SB_BAC_P_LIMIT_ENABLE: rc = want_bits(val, len, 2, &a->limit_enable); break;
    case SB_BAC_P_EVENT_ENABLE: rc = want_bits(val, len, 3, &a->event_enable); break;
    case SB_BAC_P_NOTIFY_TYPE:  rc = want_u32(val, len, SB_BAC_ENUMERATED, 1, &a->notify_type); break;
    case SB_BAC_P_NOTIFICATION_CLASS:
        rc = want_u32(val, len, SB_BAC_UNSIGNED, SB_BAC_MAX_INSTANCE, &a->notify_class);
        break;
    case SB_BAC_P_TIME_DELAY:
        rc = want_u32(val, len, SB_BAC_UNSIGNED, UINT32_MAX, &a->time_delay);
        break;
    default:
        return DENIED;   /* Acked_Transitions, Event_Time_Stamps, detection */
    }
    if (rc == 0)
        sb_bac_srv__changed(s, o, now_ms);
    return rc;
}

static int write_value(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, const uint8_t *val,
                       size_t len, uint8_t prio, int64_t now_ms)
{
    union srv_pv pv;
    bool is_null;
    int rc;

    switch (prop) {
    case SB_BAC_P_PRESENT_VALUE:
        return write_pv(s, o, val, len, prio, now_ms);
    case SB_BAC_P_OUT_OF_SERVICE:
        return write_oos(s, o, val, len, now_ms);
    case SB_BAC_P_RELIABILITY:
        return write_reliability(s, o, val, len, now_ms);
    case SB_BAC_P_RELINQUISH_DEFAULT:
        if ((rc = sb_bac_srv__pv_decode(o, val, len, false, &pv, &is_null)) < 0)
            return rc;
        o->cmd->relinquish = pv;
        sb_bac_srv__rearbitrate(s, o, now_ms);
        return 0;
    case SB_BAC_P_COV_INCREMENT:
        return want_real(val, len, true, &o->u.an.cov_inc);
    default:
        return o->alarm ? write_alarm(s, o, prop, val, len, now_ms) : DENIED;
    }
}

int sb_bac_srv__write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                      uint32_t index, const uint8_t *val, size_t len, uint8_t prio,
                      int64_t now_ms)
{
    if (!sb_bac_srv__has_prop(o, prop))
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY);
    if (has_index && !sb_bac_srv__is_array(o, prop))
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_PROPERTY_IS_NOT_AN_ARRAY);
    switch (o->fam) {
    case FAM_DEVICE:
        return DENIED;
    case FAM_TREND:
        return sb_bac_srv__trend_write(s, o, prop, val, len);
    case FAM_SCHED:
    case FAM_CAL:
        return sb_bac_srv__sched_write(s, o, prop, has_index, index, val, len);
    default:
        return has_index ? DENIED : write_value(s, o, prop, val, len, prio, now_ms);
    }
}

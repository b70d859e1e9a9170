/*
 * srv_cmd.c - Present_Value typing, priority arrays and command
 * arbitration (ANSI/ASHRAE 135-2020, clause 19.2), and the propagation
 * of a change to the alarm algorithm and the COV checks.
 *
 * Clause 19.2.1: a commandable property's value is that of the highest
 * priority (lowest number) non-NULL slot of Priority_Array, else
 * Relinquish_Default.  Priority 6 (minimum on/off, clause 19.2.3) is
 * kept as an ordinary slot: sbems does not enforce minimum on/off times.
 */
#include <float.h>
#include <math.h>

#include "proto/bacnet/server/srv_int.h"

int sb_bac_srv__pv_from_double(const srv_obj *o, double v, union srv_pv *out)
{
    switch (o->fam) {
    case FAM_ANALOG:
        if (!isfinite(v) || fabs(v) > FLT_MAX)
            return SB_ERANGE;
        out->r = (float)v;
        return 0;
    case FAM_BINARY:
        if (v != 0 && v != 1)
            return SB_ERANGE;
        out->u = (uint32_t)v;
        return 0;
    case FAM_MULTI:
        if (!(v >= 1 && v <= o->u.ms.nstates) || v != floor(v))
            return SB_ERANGE;
        out->u = (uint32_t)v;
        return 0;
    default:
        return SB_EINVAL;
    }
}

double sb_bac_srv__pv_to_double(const srv_obj *o, union srv_pv v)
{
    return o->fam == FAM_ANALOG ? (double)v.r : (double)v.u;
}

void sb_bac_srv__w_pv(struct srv_w *w, const srv_obj *o, union srv_pv v)
{
    switch (o->fam) {
    case FAM_ANALOG: sb_bac_srv__w_real(w, v.r); break;
    case FAM_BINARY: sb_bac_srv__w_enum(w, v.u); break;   /* BACnetBinaryPV */
    default:         sb_bac_srv__w_uint(w, v.u); break;
    }
}

/* Clause 15.9.1.3.1 errors: a value of the wrong application type is
 * invalid-data-type; one of the right type outside the property's range
 * is value-out-of-range (both class PROPERTY). */
int sb_bac_srv__pv_decode(const srv_obj *o, const uint8_t *val, size_t len, bool allow_null,
                          union srv_pv *pv, bool *is_null)
{
    const int bad_type = SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE);
    const int bad_range = SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE);
    struct sb_bac_value v;

    *is_null = false;
    if (sb_bac_srv__one_value(val, len, &v) < 0)
        return bad_type;
    if (v.type == SB_BAC_NULL) {
        *is_null = true;
        return allow_null ? 0 : bad_type;
    }
    switch (o->fam) {
    case FAM_ANALOG:
        if (v.type != SB_BAC_REAL)
            return bad_type;
        if (!isfinite(v.v.real))
            return bad_range;
        pv->r = v.v.real;
        return 0;
    case FAM_BINARY:
        if (v.type != SB_BAC_ENUMERATED)
            return bad_type;
        if (v.v.enumerated > 1)
            return bad_range;   /* BACnetBinaryPV: inactive 0, active 1 */
        pv->u = v.v.enumerated;
        return 0;
    default:
        if (v.type != SB_BAC_UNSIGNED)
            return bad_type;
        if (v.v.u < 1 || v.v.u > o->u.ms.nstates)
            return bad_range;
        pv->u = (uint32_t)v.v.u;
        return 0;
    }
}

uint8_t sb_bac_srv__current_prio(const srv_obj *o)
{
    uint16_t a = o->cmd ? o->cmd->active : 0;

    for (uint8_t p = 0; p < SRV_NPRIO; p++)
        if (a & (1u << p))
            return (uint8_t)(p + 1);
    return 0;
}

void sb_bac_srv__rearbitrate(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms)
{
    uint8_t p = sb_bac_srv__current_prio(o);

    o->pv = p ? o->cmd->slot[p - 1] : o->cmd->relinquish;
    sb_bac_srv__changed(s, o, now_ms);
}

void sb_bac_srv__command(struct sb_bac_srv *s, srv_obj *o, uint8_t prio, bool relinquish,
                         union srv_pv v, int64_t now_ms)
{
    uint16_t bit = (uint16_t)(1u << (prio - 1));

    if (relinquish) {
        o->cmd->active &= (uint16_t)~bit;
    } else {
        o->cmd->active |= bit;
        o->cmd->slot[prio - 1] = v;
    }
    sb_bac_srv__rearbitrate(s, o, now_ms);
}

void sb_bac_srv__changed(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms)
{
    if (o->alarm)
        sb_bac_srv__alarm_eval(s, o, now_ms);
    if (o->nsubs)
        sb_bac_srv__cov_check(s, o, now_ms);
}

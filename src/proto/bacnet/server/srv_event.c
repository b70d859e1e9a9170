/*
 * srv_event.c - intrinsic reporting, light (ANSI/ASHRAE 135-2020): the
 * OUT_OF_RANGE event algorithm of clause 13.3.6 on analog objects, the
 * fault state of clause 13.4 from Reliability, Acked_Transitions and
 * Event_Time_Stamps kept as clause 13.2.2.1 says, GetEventInformation
 * (clause 13.12) and AcknowledgeAlarm (clause 13.5).
 *
 * Light: Time_Delay is stored but treated as 0, there are no
 * Notification Class objects and no event notifications are sent - a BMS
 * polls with GetEventInformation.  Every transition enabled in
 * Event_Enable waits for an acknowledgment (as if AckRequired were set).
 */
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum {
    TR_OFFNORMAL = 0, TR_FAULT = 1, TR_NORMAL = 2,   /* transition bit numbers */
    ALL_ACKED = 7,
    GEI_PAGE = 32                                     /* summaries per answer, at most */
};

static int transition_of(uint32_t state)
{
    if (state == SB_BAC_ES_NORMAL)
        return TR_NORMAL;
    return state == SB_BAC_ES_FAULT ? TR_FAULT : TR_OFFNORMAL;
}

/* Clause 13.2.2.1: record the time of the transition; an enabled
 * transition waits for its acknowledgment. */
static void transition(struct sb_bac_srv *s, srv_obj *o, uint8_t to, int64_t now_ms)
{
    struct srv_alarm *a = o->alarm;
    int t = transition_of(to);

    o->event_state = to;
    if (sb_bac_srv__now_local(s, now_ms, &a->stamps[t]) < 0)
        sb_bac_srv__dt_unset(&a->stamps[t]);
    if (a->event_enable & (1u << t))
        a->acked &= (uint8_t)~(1u << t);
}

/* Clause 13.3.6 (b)-(f): the next state from NORMAL, HIGH_LIMIT or
 * LOW_LIMIT; a limit that is not enabled never holds the state. */
static uint8_t out_of_range(const struct srv_alarm *a, uint8_t from, float pv)
{
    bool hi = a->limit_enable & SB_BAC_SRV_HIGH_LIMIT;
    bool lo = a->limit_enable & SB_BAC_SRV_LOW_LIMIT;

    switch (from) {
    case SB_BAC_ES_HIGH_LIMIT:
        if (lo && pv < a->low)
            return SB_BAC_ES_LOW_LIMIT;
        return !hi || pv < a->high - a->deadband ? SB_BAC_ES_NORMAL : from;
    case SB_BAC_ES_LOW_LIMIT:
        if (hi && pv > a->high)
            return SB_BAC_ES_HIGH_LIMIT;
        return !lo || pv > a->low + a->deadband ? SB_BAC_ES_NORMAL : from;
    default:
        if (hi && pv > a->high)
            return SB_BAC_ES_HIGH_LIMIT;
        return lo && pv < a->low ? SB_BAC_ES_LOW_LIMIT : SB_BAC_ES_NORMAL;
    }
}

void sb_bac_srv__alarm_eval(struct sb_bac_srv *s, srv_obj *o, int64_t now_ms)
{
    uint8_t to;

    if (o->reliability != SRV_REL_NO_FAULT) {
        if (o->event_state != SB_BAC_ES_FAULT)
            transition(s, o, SB_BAC_ES_FAULT, now_ms);
        return;
    }
    if (o->event_state == SB_BAC_ES_FAULT)   /* clause 13.4: fault cleared */
        transition(s, o, SB_BAC_ES_NORMAL, now_ms);
    to = out_of_range(o->alarm, o->event_state, o->pv.r);
    if (to != o->event_state)
        transition(s, o, to, now_ms);
}

/* ---- GetEventInformation, clause 13.12 ---- */

static bool active(const srv_obj *o)
{
    return o->alarm && (o->event_state != SB_BAC_ES_NORMAL || o->alarm->acked != ALL_ACKED);
}

static void summary(const srv_obj *o, struct sb_bac_event_summary *e)
{
    const struct srv_alarm *a = o->alarm;

    memset(e, 0, sizeof(*e));
    e->oid = o->oid;
    e->event_state = o->event_state;
    e->acked = a->acked;
    for (int i = 0; i < 3; i++) {
        e->stamps[i].kind = SB_BAC_TS_DATETIME;
        e->stamps[i].dt = a->stamps[i];
        e->priorities[i] = a->priority;
    }
    e->notify_type = a->notify_type;
    e->enable = a->event_enable;
}

static ssize_t try_gei(const uint8_t *p, size_t n)
{
    struct sb_bac_gei_req x;

    return sb_bac_dec_gei_req(p, n, &x);
}

/* Clause 13.12.1.1: the page starts after lastReceivedObjectIdentifier in
 * our (type, instance) order, which is stable between requests. */
static size_t first_index(const struct sb_bac_srv *s, const struct sb_bac_gei_req *req)
{
    uint32_t key;
    size_t i;

    if (!req->has_last)
        return 0;
    key = ((uint32_t)req->last.type << 22) | req->last.instance;
    i = sb_bac_srv__index_of(s, key);
    return i < s->nobjs && s->objs[i]->key == key ? i + 1 : i;
}

int sb_bac_srv__gei(struct sb_bac_srv *s, const uint8_t *body, size_t len, struct srv_w *w,
                    uint8_t *reject)
{
    struct sb_bac_event_summary sums[GEI_PAGE];
    struct sb_bac_gei_req req;
    struct sb_bac_gei_ack ack = { .sums = sums };
    ssize_t n = sb_bac_dec_gei_req(body, len, &req);
    size_t i;

    if (n < 0) {
        *reject = sb_bac_srv__reject_for(n, body, len, try_gei, GEI_TAGS);
        return 0;
    }
    for (i = first_index(s, &req); i < s->nobjs && ack.nsums < GEI_PAGE; i++)
        if (active(s->objs[i]))
            summary(s->objs[i], &sums[ack.nsums++]);
    for (; i < s->nobjs && !ack.more; i++)
        ack.more = active(s->objs[i]);
    /* moreEvents (clause 13.12.1.3.2) also when the reply must be cut */
    while (ack.nsums > 1 && (n = sb_bac_enc_gei_ack(NULL, 0, &ack)) > 0 &&
           w->buf && (size_t)n > SRV_W_LEFT(w)) {
        ack.nsums /= 2;
        ack.more = true;
    }
    SRV_W_ENC(w, sb_bac_enc_gei_ack, &ack);
    return 0;
}

/* ---- AcknowledgeAlarm, clause 13.5 ---- */

static ssize_t try_ack(const uint8_t *p, size_t n)
{
    struct sb_bac_ackalarm x;

    return sb_bac_dec_ackalarm(p, n, &x);
}

static bool same_dt(const struct sb_bac_datetime *a, const struct sb_bac_datetime *b)
{
    return memcmp(&a->date, &b->date, sizeof(a->date)) == 0 &&
           memcmp(&a->time, &b->time, sizeof(a->time)) == 0;
}

int sb_bac_srv__ack_alarm(struct sb_bac_srv *s, const uint8_t *body, size_t len,
                          uint8_t *reject)
{
    struct sb_bac_ackalarm req;
    ssize_t n = sb_bac_dec_ackalarm(body, len, &req);
    srv_obj *o;
    int t;

    if (n < 0) {
        *reject = sb_bac_srv__reject_for(n, body, len, try_ack, ACK_TAGS);
        return 0;
    }
    if (!(o = sb_bac_srv__find(s, req.oid)))
        return SRV_ERR(SB_BAC_EC_OBJECT, SB_BAC_ERR_UNKNOWN_OBJECT);
    if (!o->alarm)
        return SRV_ERR(SB_BAC_EC_OBJECT, SRV_ERR_NO_ALARM_CONFIGURED);
    t = transition_of(req.state);
    if (o->alarm->acked & (1u << t)) {
        /* nothing waits: re-acknowledging the present state is harmless */
        if (req.state == o->event_state)
            return 0;
        return SRV_ERR(SB_BAC_EC_SERVICES, SB_BAC_ERR_INVALID_EVENT_STATE);
    }
    /* clause 13.5.1.1.4: the time stamp of the transition acknowledged */
    if (req.stamp.kind != SB_BAC_TS_DATETIME || !same_dt(&req.stamp.dt, &o->alarm->stamps[t]))
        return SRV_ERR(SB_BAC_EC_SERVICES, SRV_ERR_INVALID_TIME_STAMP);
    o->alarm->acked |= (uint8_t)(1u << t);
    return 0;
}

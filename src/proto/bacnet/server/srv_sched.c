/*
 * srv_sched.c - Schedule (ANSI/ASHRAE 135-2020, clause 12.24) and
 * Calendar (clause 12.9) objects: their properties, kept as the encoded
 * values a client wrote after validation by the svc2.h decoders, and
 * their evaluation.
 *
 * Clause 12.24.4 (Present_Value): outside Effective_Period the value is
 * Schedule_Default; otherwise the Exception_Schedule entries whose period
 * includes today compete: within each, the BACnetTimeValue with the
 * latest time not after now is in effect (a NULL one, or none yet, takes
 * that entry out); the lowest eventPriority wins, the earlier entry on a
 * tie.  Failing that, today's Weekly_Schedule entry in effect, else
 * Schedule_Default.  Writing the referenced properties (the schedule
 * "commanding" them) is the owner's job: it reads
 * List_Of_Object_Property_References and the evaluated value.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum {
    MAX_ELEMS = 255,            /* exception entries, dates, references */
    UNSPEC = 255, MS_PER_DAY = 86400000
};

#define DENIED SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_WRITE_ACCESS_DENIED)
#define BAD_TYPE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_DATA_TYPE)
#define BAD_RANGE SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_VALUE_OUT_OF_RANGE)
#define NO_SPACE SRV_ERR(SB_BAC_EC_RESOURCES, SB_BAC_ERR_NO_SPACE_TO_WRITE_PROPERTY)
#define BAD_INDEX SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX)

/* An empty BACnetDailySchedule: day-schedule [0] with no entries. */
static const uint8_t empty_day[2] = { 0x0E, 0x0F };

/* ---- validation of written values ---- */

static bool scalar(uint8_t type)
{
    return type == SB_BAC_NULL || type == SB_BAC_BOOLEAN || type == SB_BAC_UNSIGNED ||
           type == SB_BAC_SIGNED || type == SB_BAC_REAL || type == SB_BAC_DOUBLE ||
           type == SB_BAC_ENUMERATED;
}

static bool time_ok(const struct sb_bac_time *t)
{
    return t->hour < 24 && t->min < 60 && t->sec < 60 &&
           (t->hundredths < 100 || t->hundredths == UNSPEC);
}

typedef ssize_t (*elem_fn)(const uint8_t *p, size_t n);

static ssize_t one_tv(const uint8_t *p, size_t n)
{
    struct sb_bac_timevalue tv;
    ssize_t k = sb_bac_dec_timevalue(p, n, &tv);

    if (k < 0)
        return k;
    return time_ok(&tv.time) && scalar(tv.value.type) ? k : SB_EPROTO;
}

/* Whether (p, n) is a whole sequence of elements `one` accepts. */
static bool all_ok(const uint8_t *p, size_t n, elem_fn one)
{
    ssize_t k;

    for (size_t off = 0; off < n; off += (size_t)k)
        if ((k = one(p + off, n - off)) <= 0)
            return false;
    return true;
}

static ssize_t one_daily(const uint8_t *p, size_t n)
{
    const uint8_t *list;
    size_t list_len;
    ssize_t k = sb_bac_dec_daily(p, n, &list, &list_len);

    if (k < 0)
        return k;
    return all_ok(list, list_len, one_tv) ? k : SB_EPROTO;
}

static ssize_t one_special(const uint8_t *p, size_t n)
{
    struct sb_bac_special se;
    ssize_t k = sb_bac_dec_special(p, n, &se);

    if (k < 0)
        return k;
    if (se.priority < 1 || se.priority > 16 || !all_ok(se.list, se.list_len, one_tv))
        return SB_EPROTO;
    return k;
}

static ssize_t one_calentry(const uint8_t *p, size_t n)
{
    struct sb_bac_calentry e;

    return sb_bac_dec_calentry(p, n, &e);
}

/* BACnetDeviceObjectPropertyReference ::= SEQUENCE { objectIdentifier [0],
 * propertyIdentifier [1], propertyArrayIndex [2] OPTIONAL,
 * deviceIdentifier [3] OPTIONAL } (clause 21). */
static ssize_t one_devref(const uint8_t *p, size_t n)
{
    struct sb_bac_value v;
    size_t off = 0;
    ssize_t k;

    if ((k = sb_bac_dec_ctx(p, n, 0, SB_BAC_OBJECT_ID, &v)) < 0)
        return k;
    off += (size_t)k;
    if ((k = sb_bac_dec_ctx(p + off, n - off, 1, SB_BAC_ENUMERATED, &v)) < 0)
        return k;
    off += (size_t)k;
    if (off < n && (k = sb_bac_dec_ctx(p + off, n - off, 2, SB_BAC_UNSIGNED, &v)) > 0)
        off += (size_t)k;
    if (off < n && (k = sb_bac_dec_ctx(p + off, n - off, 3, SB_BAC_OBJECT_ID, &v)) > 0) {
        if (v.v.oid.type != SB_BAC_OBJ_DEVICE)
            return SB_EPROTO;
        off += (size_t)k;
    }
    return (ssize_t)off;
}

/* ---- blobs: lists of encoded elements ---- */

/* Replaces *b with the elements of (val, len), all accepted by `one`. */
static int blob_set(struct srv_blob *b, const uint8_t *val, size_t len, elem_fn one)
{
    struct srv_blob nb = { 0 };
    uint32_t n = 0;
    ssize_t k;

    for (size_t off = 0; off < len; off += (size_t)k, n++)
        if ((k = one(val + off, len - off)) <= 0)
            return BAD_TYPE;
        else if (n == MAX_ELEMS)
            return NO_SPACE;
    if (len && (!(nb.p = malloc(len)) || !(nb.off = malloc((n + 1) * sizeof(*nb.off))))) {
        sb_bac_srv__blob_free(&nb);
        return NO_SPACE;
    }
    if (len)
        memcpy(nb.p, val, len);
    nb.len = len;
    nb.n = n;
    n = 0;
    for (size_t off = 0; off < len; off += (size_t)k) {
        nb.off[n++] = (uint32_t)off;
        k = one(val + off, len - off);
    }
    if (nb.off)
        nb.off[n] = (uint32_t)len;
    sb_bac_srv__blob_free(b);
    *b = nb;
    return 0;
}

static void blob_elem(const struct srv_blob *b, uint32_t i, const uint8_t **p, size_t *n)
{
    *p = b->p + b->off[i];
    *n = b->off[i + 1] - b->off[i];
}

/* Replaces element i of *b with the one element (val, len). */
static int blob_put(struct srv_blob *b, uint32_t i, const uint8_t *val, size_t len, elem_fn one)
{
    const uint8_t *old;
    size_t old_len, total;
    uint8_t *tmp;
    int rc;

    if (one(val, len) != (ssize_t)len)
        return BAD_TYPE;
    blob_elem(b, i, &old, &old_len);
    total = b->len - old_len + len;
    if (!(tmp = malloc(total)))
        return NO_SPACE;
    memcpy(tmp, b->p, b->off[i]);
    memcpy(tmp + b->off[i], val, len);
    memcpy(tmp + b->off[i] + len, old + old_len, b->len - b->off[i + 1]);
    rc = blob_set(b, tmp, total, one);
    free(tmp);
    return rc;
}

/* ---- dates ---- */

/* A local date with what the wildcards of clause 20.2.12 and
 * BACnetWeekNDay need to know about it. */
struct day {
    struct sb_bac_date d;       /* year, month, day, weekday (computed) */
    bool last_day;              /* the last day of its month */
    bool last_week;             /* within the last seven days of its month */
};

static int day_of(const struct sb_bac_date *date, struct day *out)
{
    struct sb_bac_datetime dt = { *date, { 0, 0, 0, 0 } }, next;
    int64_t ms;

    if (sb_bac_dt_to_unix(&dt, 0, &ms) < 0 || sb_bac_dt_from_unix(ms, 0, &dt) < 0)
        return SB_EINVAL;
    out->d = dt.date;
    out->last_day = sb_bac_dt_from_unix(ms + MS_PER_DAY, 0, &next) < 0 ||
                    next.date.month != dt.date.month;
    out->last_week = sb_bac_dt_from_unix(ms + 7LL * MS_PER_DAY, 0, &next) < 0 ||
                     next.date.month != dt.date.month;
    return 0;
}

static bool month_match(uint8_t pat, uint8_t m)
{
    return pat == UNSPEC || pat == m || (pat == 13 && m % 2) || (pat == 14 && !(m % 2));
}

/* Clause 20.2.12: a Date with wildcards matches a date. */
static bool date_match(const struct sb_bac_date *pat, const struct day *dy)
{
    const struct sb_bac_date *d = &dy->d;
    bool day_ok = pat->day == UNSPEC || pat->day == d->day || (pat->day == 32 && dy->last_day) ||
                  (pat->day == 33 && d->day % 2) || (pat->day == 34 && !(d->day % 2));

    return (pat->year == UNSPEC || pat->year == d->year) && month_match(pat->month, d->month) &&
           day_ok && (pat->wday == UNSPEC || pat->wday == d->wday);
}

static bool date_unspec(const struct sb_bac_date *d)
{
    return d->year == UNSPEC || d->month == UNSPEC || d->day == UNSPEC;
}

static int date_cmp(const struct sb_bac_date *a, const struct sb_bac_date *b)
{
    if (a->year != b->year)
        return a->year < b->year ? -1 : 1;
    if (a->month != b->month)
        return a->month < b->month ? -1 : 1;
    return a->day == b->day ? 0 : a->day < b->day ? -1 : 1;
}

/* BACnetDateRange: inclusive; an unspecified end leaves that side open. */
static bool range_match(const struct sb_bac_daterange *r, const struct day *dy)
{
    return (date_unspec(&r->start) || date_cmp(&r->start, &dy->d) <= 0) &&
           (date_unspec(&r->end) || date_cmp(&dy->d, &r->end) <= 0);
}

/* BACnetWeekNDay: month, week of month (1 = days 1-7 ... 5 = 29-31,
 * 6 = the last 7 days), day of week; 255 = any. */
static bool wnd_match(const uint8_t w[3], const struct day *dy)
{
    bool week_ok = w[1] == UNSPEC || (w[1] >= 1 && w[1] <= 5 && (dy->d.day - 1) / 7 + 1 == w[1]) ||
                   (w[1] == 6 && dy->last_week);

    return month_match(w[0], dy->d.month) && week_ok && (w[2] == UNSPEC || w[2] == dy->d.wday);
}

static bool entry_match(const struct sb_bac_calentry *e, const struct day *dy)
{
    switch (e->kind) {
    case SB_BAC_CAL_DATE:  return date_match(&e->date, dy);
    case SB_BAC_CAL_RANGE: return range_match(&e->range, dy);
    default:               return wnd_match(e->wnd, dy);
    }
}

static bool cal_match(const struct srv_cal *c, const struct day *dy)
{
    struct sb_bac_calentry e;
    const uint8_t *p;
    size_t n;

    for (uint32_t i = 0; i < c->dates.n; i++) {
        blob_elem(&c->dates, i, &p, &n);
        if (sb_bac_dec_calentry(p, n, &e) > 0 && entry_match(&e, dy))
            return true;
    }
    return false;
}

/* ---- evaluation ---- */

static int time_cmp(const struct sb_bac_time *a, const struct sb_bac_time *b)
{
    uint32_t x = (uint32_t)a->hour * 360000u + a->min * 6000u + a->sec * 100u +
                 (a->hundredths == UNSPEC ? 0 : a->hundredths);
    uint32_t y = (uint32_t)b->hour * 360000u + b->min * 6000u + b->sec * 100u +
                 (b->hundredths == UNSPEC ? 0 : b->hundredths);

    return x < y ? -1 : x > y;
}

/* The BACnetTimeValue in effect at `now` in a list: the latest time not
 * after now (the later entry on equal times).  False if none. */
static bool tv_at(const uint8_t *list, size_t len, const struct sb_bac_time *now,
                  struct sb_bac_value *out)
{
    struct sb_bac_timevalue tv, best;
    bool found = false;
    ssize_t k;

    for (size_t off = 0; off < len; off += (size_t)k) {
        if ((k = sb_bac_dec_timevalue(list + off, len - off, &tv)) <= 0)
            break;
        if (time_cmp(&tv.time, now) <= 0 && (!found || time_cmp(&tv.time, &best.time) >= 0)) {
            best = tv;
            found = true;
        }
    }
    if (found)
        *out = best.value;
    return found;
}

static bool special_today(const struct sb_bac_srv *s, const struct sb_bac_special *se,
                          const struct day *dy)
{
    srv_obj *c;

    if (!se->by_ref)
        return entry_match(&se->entry, dy);
    c = sb_bac_srv__find(s, se->calendar);
    return c && c->fam == FAM_CAL && cal_match(c->u.cal, dy);
}

/* The winning Exception_Schedule value, if any. */
static bool exception_at(const struct sb_bac_srv *s, const struct srv_sched *sc,
                         const struct day *dy, const struct sb_bac_time *now,
                         struct sb_bac_value *out)
{
    struct sb_bac_special se;
    struct sb_bac_value v;
    uint8_t best = 17;
    const uint8_t *p;
    size_t n;

    for (uint32_t i = 0; i < sc->except.n; i++) {
        blob_elem(&sc->except, i, &p, &n);
        if (sb_bac_dec_special(p, n, &se) <= 0 || se.priority >= best ||
            !special_today(s, &se, dy))
            continue;
        if (tv_at(se.list, se.list_len, now, &v) && v.type != SB_BAC_NULL) {
            *out = v;
            best = se.priority;
        }
    }
    return best <= 16;
}

static bool weekly_at(const struct srv_sched *sc, const struct day *dy,
                      const struct sb_bac_time *now, struct sb_bac_value *out)
{
    const struct srv_blob *b = &sc->week[dy->d.wday - 1];   /* Monday first */
    const uint8_t *list;
    size_t list_len;
    struct sb_bac_value v;

    if (sb_bac_dec_daily(b->p, b->len, &list, &list_len) < 0)
        return false;
    if (!tv_at(list, list_len, now, &v) || v.type == SB_BAC_NULL)
        return false;
    *out = v;
    return true;
}

static int sched_eval(const struct sb_bac_srv *s, const struct srv_sched *sc,
                      const struct sb_bac_datetime *local, struct sb_bac_value *out)
{
    struct day dy;

    if (!time_ok(&local->time) || day_of(&local->date, &dy) < 0)
        return SB_EINVAL;
    if (!range_match(&sc->period, &dy) ||
        (!exception_at(s, sc, &dy, &local->time, out) &&
         !weekly_at(sc, &dy, &local->time, out)))
        *out = sc->dflt;
    return 0;
}

static srv_obj *fam_obj(const struct sb_bac_srv *s, uint16_t type, uint32_t instance,
                        uint8_t fam)
{
    srv_obj *o = s ? sb_bac_srv__find(s, (struct sb_bac_oid){ type, instance }) : NULL;

    return o && o->fam == fam ? o : NULL;
}

int sb_bac_srv_sched_eval(const struct sb_bac_srv *s, uint32_t instance,
                          const struct sb_bac_datetime *local, struct sb_bac_value *out)
{
    srv_obj *o = fam_obj(s, SB_BAC_OBJ_SCHEDULE, instance, FAM_SCHED);

    if (!local || !out)
        return SB_EINVAL;
    return o ? sched_eval(s, o->u.sc, local, out) : SB_ENOENT;
}

int sb_bac_srv_cal_eval(const struct sb_bac_srv *s, uint32_t instance,
                        const struct sb_bac_date *date, bool *out)
{
    srv_obj *o = fam_obj(s, SB_BAC_OBJ_CALENDAR, instance, FAM_CAL);
    struct day dy;

    if (!date || !out)
        return SB_EINVAL;
    if (!o)
        return SB_ENOENT;
    if (day_of(date, &dy) < 0)
        return SB_EINVAL;
    *out = cal_match(o->u.cal, &dy);
    return 0;
}

/* ---- creation ---- */

int sb_bac_srv_add_schedule(struct sb_bac_srv *s, const struct sb_bac_srv_sched_cfg *c)
{
    struct srv_sched *sc;
    srv_obj *o;

    if (!s || !c || !scalar(c->dflt.type) || c->priority_for_writing > 16)
        return SB_EINVAL;
    if (!(o = sb_bac_srv__obj_new((struct sb_bac_oid){ SB_BAC_OBJ_SCHEDULE, c->instance },
                                  FAM_SCHED, c->name, c->description)))
        return SB_EINVAL;
    if (!(sc = o->u.sc = calloc(1, sizeof(*sc))))
        goto nomem;
    for (int d = 0; d < 7; d++)
        if (blob_set(&sc->week[d], empty_day, sizeof(empty_day), one_daily) < 0)
            goto nomem;
    memset(&sc->period, UNSPEC, sizeof(sc->period));
    sc->dflt = c->dflt;
    sc->oos_pv = c->dflt;
    sc->prio = c->priority_for_writing ? c->priority_for_writing : SRV_PRIO_DEFAULT;
    return sb_bac_srv__insert(s, o);
nomem:
    sb_bac_srv__obj_free(o);
    return SB_ENOMEM;
}

int sb_bac_srv_add_calendar(struct sb_bac_srv *s, uint32_t instance, const char *name,
                            const char *description)
{
    srv_obj *o;

    if (!s)
        return SB_EINVAL;
    if (!(o = sb_bac_srv__obj_new((struct sb_bac_oid){ SB_BAC_OBJ_CALENDAR, instance },
                                  FAM_CAL, name, description)))
        return SB_EINVAL;
    if (!(o->u.cal = calloc(1, sizeof(*o->u.cal)))) {
        sb_bac_srv__obj_free(o);
        return SB_ENOMEM;
    }
    return sb_bac_srv__insert(s, o);
}

void sb_bac_srv__sched_free(struct srv_sched *sc)
{
    if (!sc)
        return;
    for (int d = 0; d < 7; d++)
        sb_bac_srv__blob_free(&sc->week[d]);
    sb_bac_srv__blob_free(&sc->except);
    sb_bac_srv__blob_free(&sc->refs);
    free(sc);
}

void sb_bac_srv__cal_free(struct srv_cal *c)
{
    if (c)
        sb_bac_srv__blob_free(&c->dates);
    free(c);
}

/* ---- reading ---- */

static void elem_week(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    (void)s;
    sb_bac_srv__w_raw(w, o->u.sc->week[i].p, o->u.sc->week[i].len);
}

static void elem_except(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    const uint8_t *p;
    size_t n;

    (void)s;
    blob_elem(&o->u.sc->except, i, &p, &n);
    sb_bac_srv__w_raw(w, p, n);
}

static void sched_pv(struct sb_bac_srv *s, const srv_obj *o, int64_t now_ms, struct srv_w *w)
{
    struct sb_bac_datetime now;
    struct sb_bac_value v = o->u.sc->dflt;

    if (o->oos)
        v = o->u.sc->oos_pv;
    else if (sb_bac_srv__now_local(s, now_ms, &now) == 0)
        sched_eval(s, o->u.sc, &now, &v);
    sb_bac_srv__w_app(w, &v);
}

static void cal_pv(struct sb_bac_srv *s, const srv_obj *o, int64_t now_ms, struct srv_w *w)
{
    struct sb_bac_datetime now;
    struct day dy;

    sb_bac_srv__w_bool(w, sb_bac_srv__now_local(s, now_ms, &now) == 0 &&
                          day_of(&now.date, &dy) == 0 && cal_match(o->u.cal, &dy));
}

int sb_bac_srv__sched_read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                           uint32_t index, int64_t now_ms, struct srv_w *w)
{
    const struct srv_sched *sc = o->u.sc;

    if (o->fam == FAM_CAL) {
        if (prop == SB_BAC_P_PRESENT_VALUE)
            cal_pv(s, o, now_ms, w);
        else   /* Date_List */
            sb_bac_srv__w_raw(w, o->u.cal->dates.p, o->u.cal->dates.len);
        return 0;
    }
    switch (prop) {
    case SB_BAC_P_PRESENT_VALUE: sched_pv(s, o, now_ms, w); break;
    case SB_BAC_P_EFFECTIVE_PERIOD:
        sb_bac_srv__w_date(w, sc->period.start);
        sb_bac_srv__w_date(w, sc->period.end);
        break;
    case SB_BAC_P_WEEKLY_SCHEDULE:
        return sb_bac_srv__array(s, o, 7, has_index, index, elem_week, w);
    case SB_BAC_P_EXCEPTION_SCHEDULE:
        return sb_bac_srv__array(s, o, sc->except.n, has_index, index, elem_except, w);
    case SB_BAC_P_SCHEDULE_DEFAULT: sb_bac_srv__w_app(w, &sc->dflt); break;
    case SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES:
        sb_bac_srv__w_raw(w, sc->refs.p, sc->refs.len);
        break;
    default:   /* Priority_For_Writing */
        sb_bac_srv__w_uint(w, sc->prio);
        break;
    }
    return 0;
}

/* ---- writing ---- */

static int write_week(struct srv_sched *sc, bool has_index, uint32_t index, const uint8_t *val,
                      size_t len)
{
    struct srv_blob tmp = { 0 };
    size_t off = 0;
    ssize_t k;
    int rc;

    if (has_index) {
        if (index == 0)
            return DENIED;   /* fixed size: 7 days */
        if (index > 7)
            return BAD_INDEX;
        return blob_set(&sc->week[index - 1], val, len, one_daily);
    }
    /* validate all seven before changing any */
    for (int d = 0; d < 7; d++, off += (size_t)k)
        if (off >= len || (k = one_daily(val + off, len - off)) <= 0)
            return BAD_TYPE;
    if (off != len)
        return BAD_TYPE;
    for (int d = 0; d < 7; d++) {
        k = one_daily(val, len);
        if ((rc = blob_set(&tmp, val, (size_t)k, one_daily)) < 0)
            return rc;
        sb_bac_srv__blob_free(&sc->week[d]);
        sc->week[d] = tmp;
        tmp = (struct srv_blob){ 0 };
        val += k;
        len -= (size_t)k;
    }
    return 0;
}

static int write_except(struct srv_sched *sc, bool has_index, uint32_t index,
                        const uint8_t *val, size_t len)
{
    if (!has_index)
        return blob_set(&sc->except, val, len, one_special);
    if (index == 0)
        return DENIED;   /* resizing the array is not supported */
    if (index > sc->except.n)
        return BAD_INDEX;
    return blob_put(&sc->except, index - 1, val, len, one_special);
}

static int write_scalar(const uint8_t *val, size_t len, struct sb_bac_value *out)
{
    struct sb_bac_value v;

    if (sb_bac_srv__one_value(val, len, &v) < 0 || !scalar(v.type))
        return BAD_TYPE;
    *out = v;
    return 0;
}

static int write_sched(srv_obj *o, uint32_t prop, bool has_index, uint32_t index,
                       const uint8_t *val, size_t len)
{
    struct srv_sched *sc = o->u.sc;
    struct sb_bac_daterange r;
    struct sb_bac_value v;

    switch (prop) {
    case SB_BAC_P_WEEKLY_SCHEDULE:    return write_week(sc, has_index, index, val, len);
    case SB_BAC_P_EXCEPTION_SCHEDULE: return write_except(sc, has_index, index, val, len);
    case SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES:
        return blob_set(&sc->refs, val, len, one_devref);
    case SB_BAC_P_EFFECTIVE_PERIOD:
        if (sb_bac_dec_daterange(val, len, &r) != (ssize_t)len)
            return BAD_TYPE;
        sc->period = r;
        return 0;
    case SB_BAC_P_SCHEDULE_DEFAULT:
        return write_scalar(val, len, &sc->dflt);
    case SB_BAC_P_PRESENT_VALUE:   /* clause 12.24.4: writable when out of service */
        return o->oos ? write_scalar(val, len, &sc->oos_pv) : DENIED;
    case SB_BAC_P_PRIORITY_FOR_WRITING:
        if (sb_bac_srv__one_value(val, len, &v) < 0 || v.type != SB_BAC_UNSIGNED)
            return BAD_TYPE;
        if (v.v.u < 1 || v.v.u > 16)
            return BAD_RANGE;
        sc->prio = (uint8_t)v.v.u;
        return 0;
    case SB_BAC_P_OUT_OF_SERVICE:
        if (sb_bac_srv__one_value(val, len, &v) < 0 || v.type != SB_BAC_BOOLEAN)
            return BAD_TYPE;
        o->oos = v.v.boolean;
        return 0;
    default:
        return DENIED;
    }
}

int sb_bac_srv__sched_write(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                            uint32_t index, const uint8_t *val, size_t len)
{
    (void)s;
    if (o->fam == FAM_SCHED)
        return write_sched(o, prop, has_index, index, val, len);
    if (prop == SB_BAC_P_DATE_LIST)
        return blob_set(&o->u.cal->dates, val, len, one_calentry);
    return DENIED;
}

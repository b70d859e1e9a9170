/*
 * native.c - control schedules as BACnet Schedule / Calendar values (see
 * native.h).  ASN.1 (ANSI/ASHRAE 135 clause 21):
 *   BACnetTimeValue     ::= SEQUENCE { time Time, value ABSTRACT-SYNTAX.&Type }
 *   BACnetDailySchedule ::= SEQUENCE { day-schedule [0] SEQUENCE OF BACnetTimeValue }
 *   BACnetSpecialEvent  ::= SEQUENCE { period CHOICE { calendarEntry [0],
 *                           calendarReference [1] }, listOfTimeValues [2]
 *                           SEQUENCE OF BACnetTimeValue, eventPriority [3] Unsigned (1..16) }
 *   BACnetCalendarEntry ::= CHOICE { date [0] Date, dateRange [1] BACnetDateRange,
 *                           weekNDay [2] BACnetWeekNDay }
 * The encoders are codec/svc2.h's; this file decides what goes in them.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/native.h"
#include "core/err.h"
#include "core/tz.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc2.h"

static const char *const g_days[7] = { "monday", "tuesday", "wednesday", "thursday", "friday",
                                       "saturday", "sunday" };

enum { PART_WEEK = 0, PART_EXC = 1, PART_DATES = 2 };

int sb_nvalues_for(uint8_t type, struct sb_nvalues *out)
{
    memset(out, 0, sizeof(*out));
    out->type = type;
    switch (type) {
    case SB_BAC_ENUMERATED:          /* BACnetBinaryPV: inactive 0, active 1 */
    case SB_BAC_BOOLEAN:
    case SB_BAC_REAL:
        out->v[SB_CMODE_UNOCCUPIED] = 0;
        out->v[SB_CMODE_OCCUPIED] = 1;
        out->v[SB_CMODE_STANDBY] = 1;
        return 0;
    case SB_BAC_UNSIGNED:            /* multi-state: SNVT_occupancy + 1 */
        out->v[SB_CMODE_OCCUPIED] = 1;
        out->v[SB_CMODE_UNOCCUPIED] = 2;
        out->v[SB_CMODE_STANDBY] = 4;
        return 0;
    default:
        return SB_ENOTSUP;
    }
}

void sb_nprog_init(struct sb_nprog *p)
{
    memset(p, 0, sizeof(*p));
}

void sb_nprog_release(struct sb_nprog *p)
{
    free(p->exc);
    free(p->dates);
    sb_nprog_init(p);
}

/* ---- days ------------------------------------------------------------------------------- */

static int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Appends "from min on, v" in canonical form: a later entry at the same
 * minute replaces the earlier (clause 12.24.4 takes the later of equal
 * times), an entry repeating the value in force adds nothing.  -1 when
 * the day is full. */
static int day_add(struct sb_nday *d, uint16_t min, double v)
{
    if (d->n && d->tv[d->n - 1].min == min)
        d->n--;
    if (d->n && same(d->tv[d->n - 1].v, v))
        return 0;
    if (d->n == SB_NSCHED_TV_MAX)
        return -1;
    d->tv[d->n++] = (struct sb_ntv){ .min = min, .v = v };
    return 0;
}

/* A day's periods: unoccupied from 00:00, each period's mode from its
 * start, unoccupied again from its end (at most 1 + 2 x 8 entries). */
static void day_from(const struct sb_cday *c, const struct sb_nvalues *val, struct sb_nday *d)
{
    memset(d, 0, sizeof(*d));
    day_add(d, 0, val->v[SB_CMODE_UNOCCUPIED]);
    for (uint8_t i = 0; i < c->n; i++) {
        day_add(d, c->p[i].start, val->v[c->p[i].mode]);
        if (c->p[i].end < 1440)
            day_add(d, c->p[i].end, val->v[SB_CMODE_UNOCCUPIED]);
    }
}

static int day_equal(const struct sb_nday *a, const struct sb_nday *b)
{
    if (a->n != b->n)
        return 0;
    for (uint8_t i = 0; i < a->n; i++)
        if (a->tv[i].min != b->tv[i].min || !same(a->tv[i].v, b->tv[i].v))
            return 0;
    return 1;
}

/* ---- dates ------------------------------------------------------------------------------- */

/* ISO weekday of a day number (1 = Monday): 1970-01-01 was a Thursday. */
static uint8_t weekday(int64_t day)
{
    return (uint8_t)(((day + 3) % 7 + 7) % 7 + 1);
}

/* A BACnet Date (clause 20.2.12) of a local day: every field given, the
 * weekday too (some devices match it against the day). */
static int date_of(int64_t day, struct sb_bac_date *out)
{
    int64_t y;
    unsigned m, d;

    sb_civil_from_days(day, &y, &m, &d);
    if (y < 1900 || y > 2154)
        return SB_ERANGE;
    *out = (struct sb_bac_date){ (uint8_t)(y - 1900), (uint8_t)m, (uint8_t)d, weekday(day) };
    return 0;
}

/* The day number of a fully specified date (255 "any", odd/even months and
 * "last day" are patterns, not dates): -1 if it is none. */
static int date_day(const struct sb_bac_date *d, int64_t *out)
{
    static const uint8_t mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    if (d->year == 255 || d->month < 1 || d->month > 12 || d->day < 1 || d->day > mdays[d->month - 1])
        return -1;
    int64_t y = 1900 + d->year;
    if (d->month == 2 && d->day == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    *out = sb_days_from_civil(y, d->month, d->day);
    return 0;
}

static int entry_of(const struct sb_nexc *e, struct sb_bac_calentry *ce)
{
    memset(ce, 0, sizeof(*ce));
    if (e->kind == SB_NENT_DATE) {
        ce->kind = SB_BAC_CAL_DATE;
        return date_of(e->from, &ce->date);
    }
    ce->kind = SB_BAC_CAL_RANGE;
    return date_of(e->from, &ce->range.start) < 0 ? SB_ERANGE : date_of(e->to, &ce->range.end);
}

/* ---- encoding ----------------------------------------------------------------------------- */

static int value_of(double v, uint8_t type, struct sb_bac_value *out)
{
    memset(out, 0, sizeof(*out));
    if (isnan(v)) {
        out->type = SB_BAC_NULL;
        return 0;
    }
    out->type = type;
    switch (type) {
    case SB_BAC_ENUMERATED: out->v.enumerated = (uint32_t)v; break;
    case SB_BAC_BOOLEAN: out->v.boolean = v != 0; break;
    case SB_BAC_UNSIGNED: out->v.u = (uint64_t)v; break;
    case SB_BAC_SIGNED: out->v.i = (int64_t)v; break;
    case SB_BAC_REAL: out->v.real = (float)v; break;
    case SB_BAC_DOUBLE: out->v.dbl = v; break;
    default: return SB_EINVAL;
    }
    return 0;
}

static int tvs_of(const struct sb_nday *d, uint8_t type, struct sb_bac_timevalue *tv)
{
    for (uint8_t i = 0; i < d->n; i++) {
        tv[i].time = (struct sb_bac_time){ (uint8_t)(d->tv[i].min / 60), (uint8_t)(d->tv[i].min % 60), 0, 0 };
        if (value_of(d->tv[i].v, type, &tv[i].value) < 0)
            return SB_EINVAL;
    }
    return 0;
}

/* The encoded length of sub-value k at buf + len, or its failure. */
static ssize_t put(uint8_t *buf, size_t cap, size_t len, ssize_t k)
{
    if (k < 0)
        return k;
    if (buf && (size_t)k > cap - len)
        return SB_ENOSPC;
    return (ssize_t)len + k;
}

ssize_t sb_nsched_enc_week(const struct sb_nprog *p, uint8_t *buf, size_t cap)
{
    struct sb_bac_timevalue tv[SB_NSCHED_TV_MAX];
    ssize_t len = 0;

    for (int d = 0; d < 7 && len >= 0; d++) {
        if (tvs_of(&p->week[d], p->type, tv) < 0)
            return SB_EINVAL;
        len = put(buf, cap, (size_t)len,
                  sb_bac_enc_daily(buf ? buf + len : NULL, buf ? cap - (size_t)len : 0, tv, p->week[d].n));
    }
    return len;
}

static ssize_t enc_special(const struct sb_nexc *e, uint8_t type, uint8_t *buf, size_t cap)
{
    struct sb_bac_timevalue tv[SB_NSCHED_TV_MAX];
    struct sb_bac_special se = { .priority = e->priority, .tv = tv, .ntv = e->d.n };

    if (tvs_of(&e->d, type, tv) < 0)
        return SB_EINVAL;
    if (e->kind == SB_NENT_CALENDAR) {
        se.by_ref = true;
        se.calendar = (struct sb_bac_oid){ SB_BAC_OBJ_CALENDAR, e->cal };
    } else if (e->kind == SB_NENT_OTHER || entry_of(e, &se.entry) < 0) {
        return SB_EINVAL;
    }
    return sb_bac_enc_special(buf, cap, &se);
}

ssize_t sb_nsched_enc_exc(const struct sb_nprog *p, uint8_t *buf, size_t cap)
{
    ssize_t len = 0;

    for (size_t i = 0; i < p->n_exc && len >= 0; i++)
        len = put(buf, cap, (size_t)len,
                  enc_special(&p->exc[i], p->type, buf ? buf + len : NULL, buf ? cap - (size_t)len : 0));
    return len;
}

static ssize_t enc_calentry(const struct sb_nexc *e, uint8_t *buf, size_t cap)
{
    struct sb_bac_calentry ce;

    if (e->kind == SB_NENT_OTHER || e->kind == SB_NENT_CALENDAR || entry_of(e, &ce) < 0)
        return SB_EINVAL;
    return sb_bac_enc_calentry(buf, cap, &ce);
}

ssize_t sb_nsched_enc_dates(const struct sb_nprog *p, uint8_t *buf, size_t cap)
{
    ssize_t len = 0;

    for (size_t i = 0; i < p->n_dates && len >= 0; i++)
        len = put(buf, cap, (size_t)len,
                  enc_calentry(&p->dates[i], buf ? buf + len : NULL, buf ? cap - (size_t)len : 0));
    return len;
}

/* ---- building --------------------------------------------------------------------------- */

struct run {
    int64_t from, to;          /* inclusive */
    int hol;                   /* a holiday run, else an exception day */
    const struct sb_cday *day; /* its program */
};

/* The holiday days of s in [from, to) as runs of consecutive days. */
static size_t holiday_runs(const struct sb_csched *s, int64_t from, int64_t to, struct run *r)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n_hol; i++) {
        int64_t d = s->hol[i];
        if (d < from || d >= to)
            continue;
        if (n && r[n - 1].to == d - 1)
            r[n - 1].to = d;
        else
            r[n++] = (struct run){ .from = d, .to = d, .hol = 1, .day = &s->holiday };
    }
    return n;
}

static int push(struct sb_nexc **arr, size_t *n, const struct sb_nexc *e)
{
    struct sb_nexc *v = realloc(*arr, (*n + 1) * sizeof(*v));

    if (!v)
        return SB_ENOMEM;
    v[*n] = *e;
    *arr = v;
    (*n)++;
    return 0;
}

/* Adds entry e to the exception list if it fits the budget. */
static int take_exc(struct sb_nprog *p, const struct sb_nexc *e, size_t *used, size_t budget)
{
    ssize_t k = enc_special(e, p->type, NULL, 0);

    if (k < 0 || *used + (size_t)k > budget || p->n_exc >= SB_NSCHED_EXC_MAX)
        return 0;
    *used += (size_t)k;
    return push(&p->exc, &p->n_exc, e);
}

static int take_date(struct sb_nprog *p, const struct sb_nexc *e, size_t *used, size_t budget)
{
    ssize_t k = enc_calentry(e, NULL, 0);

    if (k < 0 || *used + (size_t)k > budget || p->n_dates >= SB_NSCHED_DATES_MAX)
        return 0;
    *used += (size_t)k;
    return push(&p->dates, &p->n_dates, e);
}

/* Exception days and holiday runs from today on, merged by date: the
 * nearest go first, so a budget cuts the far end. */
static int build_entries(const struct sb_csched *s, int64_t today, const struct sb_nvalues *val, int64_t cal,
                         size_t budget_exc, size_t budget_dates, struct sb_nprog *p)
{
    int64_t end = today + SB_NSCHED_HORIZON_DAYS;
    struct run *hol = s->n_hol ? malloc(s->n_hol * sizeof(*hol)) : NULL;
    size_t nh = hol ? holiday_runs(s, today, end, hol) : 0, ie = 0, ih = 0, ue = 0, ud = 0;
    int rc = 0;

    if (s->n_hol && !hol)
        return SB_ENOMEM;
    if (cal >= 0) {                  /* the holidays' program: one entry naming the Calendar */
        struct sb_nexc e = { .kind = SB_NENT_CALENDAR, .cal = (uint32_t)cal, .priority = SB_NSCHED_PRIO_HOL };
        day_from(&s->holiday, val, &e.d);
        p->exc_wanted++;
        rc = take_exc(p, &e, &ue, budget_exc);
    }
    while (rc == 0 && ie < s->n_exc && s->exc[ie].day < today)
        ie++;
    while (rc == 0 && (ih < nh || (ie < s->n_exc && s->exc[ie].day < end))) {
        int use_exc = ie < s->n_exc && s->exc[ie].day < end && (ih >= nh || s->exc[ie].day <= hol[ih].from);
        struct sb_nexc e = { .priority = SB_NSCHED_PRIO_EXC };
        if (use_exc) {
            e.kind = SB_NENT_DATE;
            e.from = e.to = s->exc[ie].day;
            day_from(&s->exc[ie++].d, val, &e.d);
            p->exc_wanted++;
            rc = take_exc(p, &e, &ue, budget_exc);
            continue;
        }
        e.kind = hol[ih].from == hol[ih].to ? SB_NENT_DATE : SB_NENT_RANGE;
        e.from = hol[ih].from;
        e.to = hol[ih].to;
        ih++;
        if (cal >= 0) {              /* the date goes to the Calendar */
            p->dates_wanted++;
            rc = take_date(p, &e, &ud, budget_dates);
            continue;
        }
        e.priority = SB_NSCHED_PRIO_HOL;
        day_from(&s->holiday, val, &e.d);
        p->exc_wanted++;
        rc = take_exc(p, &e, &ue, budget_exc);
    }
    free(hol);
    return rc;
}

int sb_nsched_build(const struct sb_csched *s, int64_t today, const struct sb_nvalues *val, int64_t cal,
                    size_t budget_exc, size_t budget_dates, struct sb_nprog *out)
{
    struct sb_bac_value probe;
    int rc;

    sb_nprog_init(out);
    if (!val || value_of(val->v[SB_CMODE_OCCUPIED], val->type, &probe) < 0)
        return SB_EINVAL;
    out->type = val->type;
    for (int d = 0; d < 7; d++)
        day_from(&s->week[d], val, &out->week[d]);
    if ((rc = build_entries(s, today, val, cal, budget_exc, budget_dates, out)) < 0)
        sb_nprog_release(out);
    return rc;
}

/* ---- decoding ------------------------------------------------------------------------------ */

/* A decoded value as a number, NaN for NULL; -1 for what is no number. */
static int number(const struct sb_bac_value *v, double *out)
{
    switch (v->type) {
    case SB_BAC_NULL: *out = NAN; return 0;
    case SB_BAC_BOOLEAN: *out = v->v.boolean; return 0;
    case SB_BAC_UNSIGNED: *out = (double)v->v.u; return 0;
    case SB_BAC_SIGNED: *out = (double)v->v.i; return 0;
    case SB_BAC_REAL: *out = v->v.real; return 0;
    case SB_BAC_DOUBLE: *out = v->v.dbl; return 0;
    case SB_BAC_ENUMERATED: *out = v->v.enumerated; return 0;
    default: return -1;
    }
}

/* A list of BACnetTimeValues into canonical form (sorted stably by time,
 * then reduced by day_add). */
static int dec_day(const uint8_t *list, size_t len, struct sb_nprog *p, int part, struct sb_nday *out)
{
    struct sb_ntv raw[SB_NSCHED_TV_MAX];
    size_t n = 0;

    memset(out, 0, sizeof(*out));
    for (size_t off = 0; off < len;) {
        struct sb_bac_timevalue tv;
        ssize_t k = sb_bac_dec_timevalue(list + off, len - off, &tv);
        double v;
        if (k <= 0)
            return SB_EPROTO;
        off += (size_t)k;
        if (tv.time.hour > 23 || tv.time.min > 59)
            return SB_EPROTO;
        if ((tv.time.sec && tv.time.sec != 255) || (tv.time.hundredths && tv.time.hundredths != 255))
            p->odd[part] |= SB_NODD_SECONDS;
        if (number(&tv.value, &v) < 0 ||
            (tv.value.type != SB_BAC_NULL && p->type && p->type != tv.value.type)) {
            p->odd[part] |= SB_NODD_VALUE;
            v = NAN;
        } else if (tv.value.type != SB_BAC_NULL && !p->type) {
            p->type = tv.value.type;
        }
        if (n == SB_NSCHED_TV_MAX) {
            p->odd[part] |= SB_NODD_LONGDAY;
            break;
        }
        size_t i = n++;             /* insertion: stable, so the later of equal times stays later */
        uint16_t m = (uint16_t)(tv.time.hour * 60 + tv.time.min);
        while (i && raw[i - 1].min > m) {
            raw[i] = raw[i - 1];
            i--;
        }
        raw[i] = (struct sb_ntv){ m, v };
    }
    for (size_t i = 0; i < n; i++)
        day_add(out, raw[i].min, raw[i].v);
    return 0;
}

int sb_nsched_dec_week(const uint8_t *buf, size_t len, struct sb_nprog *p)
{
    size_t off = 0;
    int rc;

    for (int d = 0; d < 7; d++) {
        const uint8_t *list;
        size_t ll;
        ssize_t k = off < len ? sb_bac_dec_daily(buf + off, len - off, &list, &ll) : SB_EPROTO;
        if (k <= 0)
            return SB_EPROTO;
        off += (size_t)k;
        if ((rc = dec_day(list, ll, p, PART_WEEK, &p->week[d])) < 0)
            return rc;
    }
    return off == len ? 0 : SB_EPROTO;
}

/* A calendar entry as a date or range; anything else is OTHER. */
static void entry_from(const struct sb_bac_calentry *ce, struct sb_nexc *e, unsigned *odd)
{
    e->kind = SB_NENT_OTHER;
    if (ce->kind == SB_BAC_CAL_DATE && date_day(&ce->date, &e->from) == 0) {
        e->kind = SB_NENT_DATE;
        e->to = e->from;
    } else if (ce->kind == SB_BAC_CAL_RANGE && date_day(&ce->range.start, &e->from) == 0 &&
               date_day(&ce->range.end, &e->to) == 0 && e->from <= e->to) {
        e->kind = SB_NENT_RANGE;
    }
    if (e->kind == SB_NENT_OTHER)
        *odd |= SB_NODD_ENTRY;
}

int sb_nsched_dec_exc(const uint8_t *buf, size_t len, struct sb_nprog *p)
{
    int rc;

    for (size_t off = 0; off < len;) {
        struct sb_bac_special se;
        struct sb_nexc e;
        ssize_t k = sb_bac_dec_special(buf + off, len - off, &se);
        if (k <= 0)
            return SB_EPROTO;
        off += (size_t)k;
        if (p->n_exc >= SB_NSCHED_EXC_MAX) {
            p->odd[PART_EXC] |= SB_NODD_MANY;
            break;
        }
        memset(&e, 0, sizeof(e));
        e.priority = se.priority;
        if (se.by_ref && se.calendar.type == SB_BAC_OBJ_CALENDAR) {
            e.kind = SB_NENT_CALENDAR;
            e.cal = se.calendar.instance;
        } else if (se.by_ref) {
            e.kind = SB_NENT_OTHER;
            p->odd[PART_EXC] |= SB_NODD_ENTRY;
        } else {
            entry_from(&se.entry, &e, &p->odd[PART_EXC]);
        }
        if ((rc = dec_day(se.list, se.list_len, p, PART_EXC, &e.d)) < 0 ||
            (rc = push(&p->exc, &p->n_exc, &e)) < 0)
            return rc;
    }
    return 0;
}

int sb_nsched_dec_dates(const uint8_t *buf, size_t len, struct sb_nprog *p)
{
    int rc;

    for (size_t off = 0; off < len;) {
        struct sb_bac_calentry ce;
        struct sb_nexc e;
        ssize_t k = sb_bac_dec_calentry(buf + off, len - off, &ce);
        if (k <= 0)
            return SB_EPROTO;
        off += (size_t)k;
        if (p->n_dates >= SB_NSCHED_DATES_MAX) {
            p->odd[PART_DATES] |= SB_NODD_MANY;
            break;
        }
        memset(&e, 0, sizeof(e));
        entry_from(&ce, &e, &p->odd[PART_DATES]);
        if ((rc = push(&p->dates, &p->n_dates, &e)) < 0)
            return rc;
    }
    return 0;
}

/* ---- comparing -------------------------------------------------------------------------- */

/* "07:00 1, 18:00 0" (the first entries of a day). */
static void day_text(const struct sb_nday *d, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = '\0';
    for (uint8_t i = 0; i < d->n && i < 6 && n + 1 < cap; i++) {
        int k = isnan(d->tv[i].v)
                ? snprintf(buf + n, cap - n, "%s%02u:%02u null", i ? ", " : "", d->tv[i].min / 60, d->tv[i].min % 60)
                : snprintf(buf + n, cap - n, "%s%02u:%02u %g", i ? ", " : "", d->tv[i].min / 60, d->tv[i].min % 60,
                           d->tv[i].v);
        if (k < 0)
            break;
        n += (size_t)k;
    }
    if (d->n > 6 && n + 8 < cap)
        snprintf(buf + n, cap - n, ", ...");
    if (!d->n)
        snprintf(buf, cap, "empty");
}

static int entry_equal(const struct sb_nexc *a, const struct sb_nexc *b, int with_day)
{
    if (a->kind != b->kind || a->kind == SB_NENT_OTHER)
        return 0;
    if (a->kind == SB_NENT_CALENDAR ? a->cal != b->cal : (a->from != b->from || a->to != b->to))
        return 0;
    return !with_day || (a->priority == b->priority && day_equal(&a->d, &b->d));
}

static void entry_text(const struct sb_nexc *e, char *buf, size_t cap)
{
    int64_t y1, y2;
    unsigned m1, d1, m2, d2;

    if (e->kind == SB_NENT_CALENDAR) {
        snprintf(buf, cap, "calendar:%u", e->cal);
        return;
    }
    if (e->kind == SB_NENT_OTHER) {
        snprintf(buf, cap, "an entry that is no date");
        return;
    }
    sb_civil_from_days(e->from, &y1, &m1, &d1);
    sb_civil_from_days(e->to, &y2, &m2, &d2);
    if (e->from == e->to)
        snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y1, m1, d1);
    else
        snprintf(buf, cap, "%04lld-%02u-%02u..%04lld-%02u-%02u", (long long)y1, m1, d1, (long long)y2, m2, d2);
}

static unsigned diff_week(const struct sb_nprog *w, const struct sb_nprog *dv, char *why, size_t cap)
{
    char a[160], b[160];

    if (dv->odd[PART_WEEK]) {
        snprintf(why, cap, "weekly-schedule: the device holds what sbems does not write (%s)",
                 dv->odd[PART_WEEK] & SB_NODD_VALUE ? "values of another datatype" : "seconds or long days");
        return SB_NPART_WEEK;
    }
    for (int d = 0; d < 7; d++)
        if (!day_equal(&w->week[d], &dv->week[d])) {
            day_text(&w->week[d], a, sizeof(a));
            day_text(&dv->week[d], b, sizeof(b));
            snprintf(why, cap, "weekly-schedule: %s: sbems %.100s; the device %.100s", g_days[d], a, b);
            return SB_NPART_WEEK;
        }
    return 0;
}

static unsigned diff_list(const struct sb_nexc *w, size_t nw, const struct sb_nexc *dv, size_t nd, unsigned odd,
                          int exc, char *why, size_t cap)
{
    const char *what = exc ? "exception-schedule" : "date-list";
    char a[64], b[64];

    if (odd) {
        snprintf(why, cap, "%s: the device holds what sbems does not write (%s)", what,
                 odd & SB_NODD_ENTRY ? "week-and-day or wildcard entries" : "values it cannot compare");
        return exc ? SB_NPART_EXC : SB_NPART_DATES;
    }
    for (size_t i = 0; i < nw || i < nd; i++) {
        if (i < nw && i < nd && entry_equal(&w[i], &dv[i], exc))
            continue;
        if (i < nw)
            entry_text(&w[i], a, sizeof(a));
        if (i < nd)
            entry_text(&dv[i], b, sizeof(b));
        snprintf(why, cap, "%s[%zu]: sbems %s; the device %s", what, i + 1, i < nw ? a : "none",
                 i < nd ? (i < nw && entry_equal(&w[i], &dv[i], 0) ? "other times" : b) : "none");
        return exc ? SB_NPART_EXC : SB_NPART_DATES;
    }
    return 0;
}

unsigned sb_nsched_diff(const struct sb_nprog *want, const struct sb_nprog *dev, unsigned parts, char *why,
                        size_t cap)
{
    char tmp[256], first[256] = "";
    unsigned out = 0, d;

    if ((parts & SB_NPART_WEEK) && (d = diff_week(want, dev, tmp, sizeof(tmp)))) {
        out |= d;
        snprintf(first, sizeof(first), "%s", tmp);
    }
    if ((parts & SB_NPART_EXC) &&
        (d = diff_list(want->exc, want->n_exc, dev->exc, dev->n_exc, dev->odd[PART_EXC], 1, tmp, sizeof(tmp)))) {
        out |= d;
        if (!first[0])
            snprintf(first, sizeof(first), "%s", tmp);
    }
    if ((parts & SB_NPART_DATES) && (d = diff_list(want->dates, want->n_dates, dev->dates, dev->n_dates,
                                                   dev->odd[PART_DATES], 0, tmp, sizeof(tmp)))) {
        out |= d;
        if (!first[0])
            snprintf(first, sizeof(first), "%s", tmp);
    }
    /* the same numbers in another datatype (REAL 1.0 where BinaryPV active
     * is wanted) are another program to the device */
    if (!out && (parts & (SB_NPART_WEEK | SB_NPART_EXC)) && dev->type && want->type && dev->type != want->type) {
        out |= parts & (SB_NPART_WEEK | SB_NPART_EXC);
        snprintf(first, sizeof(first), "the device's values are of datatype %u, sbems writes %u", dev->type,
                 want->type);
    }
    if (why && cap)
        snprintf(why, cap, "%s", first);
    return out;
}

/* ---- back to a control schedule ------------------------------------------------------------- */

/* The mode whose value v is: occupied before standby (a binary schedule
 * cannot tell them apart), -1 none. */
static int mode_of(const struct sb_nvalues *val, double v)
{
    static const int order[] = { SB_CMODE_OCCUPIED, SB_CMODE_STANDBY, SB_CMODE_UNOCCUPIED };

    for (size_t i = 0; i < 3; i++)
        if (val->v[order[i]] == v)
            return order[i];
    return -1;
}

/* A day's time-values as periods (runs of a mode other than unoccupied). */
static int cday_from(const struct sb_nday *d, const struct sb_nvalues *val, const struct sb_csched *bands,
                     struct sb_cday *out, char *why, size_t cap, const char *where)
{
    memset(out, 0, sizeof(*out));
    for (uint8_t i = 0; i < d->n; i++) {
        int m = isnan(d->tv[i].v) ? -1 : mode_of(val, d->tv[i].v);
        if (m < 0) {
            snprintf(why, cap, "%s: %02u:%02u: the value is no occupancy mode", where, d->tv[i].min / 60,
                     d->tv[i].min % 60);
            return SB_EINVAL;
        }
        if (m == SB_CMODE_UNOCCUPIED)
            continue;
        if (out->n == SB_CSCHED_MAX_PERIODS) {
            snprintf(why, cap, "%s: more than %d periods", where, SB_CSCHED_MAX_PERIODS);
            return SB_EINVAL;
        }
        out->p[out->n++] = (struct sb_cperiod){ .start = d->tv[i].min,
                                                .end = (uint16_t)(i + 1 < d->n ? d->tv[i + 1].min : 1440),
                                                .mode = (uint8_t)m, .band = bands->band[m] };
    }
    return 0;
}

static int add_days(struct sb_csched *out, const struct sb_nexc *e, int holiday, const struct sb_cday *day)
{
    int rc = 0;

    for (int64_t d = e->from; d <= e->to && rc == 0; d++)
        rc = holiday ? sb_csched_add_holidays(out, &d, 1) : sb_csched_set_exception(out, d, day);
    return rc;
}

int sb_nsched_to_csched(const struct sb_nprog *p, const struct sb_nvalues *val, int64_t cal,
                        struct sb_csched *out, char *why, size_t cap)
{
    char where[48];
    struct sb_cday day;
    int rc, have_hol = 0;

    why[0] = '\0';
    for (int d = 0; d < 7; d++)
        if ((rc = cday_from(&p->week[d], val, out, &out->week[d], why, cap, g_days[d])) < 0)
            return rc;
    for (size_t i = 0; i < p->n_exc; i++) {
        const struct sb_nexc *e = &p->exc[i];
        snprintf(where, sizeof(where), "exception-schedule[%zu]", i + 1);
        if (e->kind == SB_NENT_OTHER || (e->kind == SB_NENT_CALENDAR && (int64_t)e->cal != cal)) {
            snprintf(why, cap, "%s: %s", where, e->kind == SB_NENT_OTHER ? "not a date or date range"
                                                                         : "refers to another calendar");
            return SB_EINVAL;
        }
        if ((rc = cday_from(&e->d, val, out, &day, why, cap, where)) < 0)
            return rc;
        int hol = e->kind == SB_NENT_CALENDAR || e->priority == SB_NSCHED_PRIO_HOL;
        if (hol && have_hol && memcmp(&day, &out->holiday, sizeof(day)) != 0) {
            snprintf(why, cap, "%s: holidays with two different programs", where);
            return SB_EINVAL;
        }
        if (hol) {
            out->holiday = day;
            have_hol = 1;
        }
        if (e->kind != SB_NENT_CALENDAR && (rc = add_days(out, e, hol, &day)) < 0)
            return rc;
    }
    for (size_t i = 0; i < p->n_dates; i++) {
        if (p->dates[i].kind == SB_NENT_OTHER) {
            snprintf(why, cap, "date-list[%zu]: not a date or date range", i + 1);
            return SB_EINVAL;
        }
        if ((rc = add_days(out, &p->dates[i], 1, NULL)) < 0)
            return rc;
    }
    return 0;
}

/* ---- JSON -------------------------------------------------------------------------------------- */

static json_t *day_json(const struct sb_nday *d)
{
    json_t *a = json_array();
    char t[8];

    for (uint8_t i = 0; i < d->n; i++) {
        snprintf(t, sizeof(t), "%02u:%02u", d->tv[i].min / 60, d->tv[i].min % 60);
        json_array_append_new(a, json_pack("{s:s,s:o}", "time", t, "value",
                                           isnan(d->tv[i].v) ? json_null() : json_real(d->tv[i].v)));
    }
    return a;
}

static json_t *entry_json(const struct sb_nexc *e, int exc)
{
    json_t *o = json_object();

    if (e->kind == SB_NENT_DATE) {
        json_object_set_new(o, "date", sb_csched_date_json(e->from));
    } else if (e->kind == SB_NENT_RANGE) {
        json_object_set_new(o, "from", sb_csched_date_json(e->from));
        json_object_set_new(o, "to", sb_csched_date_json(e->to));
    } else if (e->kind == SB_NENT_CALENDAR) {
        char c[32];
        snprintf(c, sizeof(c), "calendar:%u", e->cal);
        json_object_set_new(o, "calendar", json_string(c));
    } else {
        json_object_set_new(o, "other", json_true());
    }
    if (exc) {
        json_object_set_new(o, "priority", json_integer(e->priority));
        json_object_set_new(o, "values", day_json(&e->d));
    }
    return o;
}

json_t *sb_nsched_json(const struct sb_nprog *p)
{
    json_t *w = json_object(), *ex = json_array(), *dt = json_array();

    for (int d = 0; d < 7; d++)
        json_object_set_new(w, g_days[d], day_json(&p->week[d]));
    for (size_t i = 0; i < p->n_exc; i++)
        json_array_append_new(ex, entry_json(&p->exc[i], 1));
    for (size_t i = 0; i < p->n_dates; i++)
        json_array_append_new(dt, entry_json(&p->dates[i], 0));
    return json_pack("{s:o,s:o,s:o}", "weekly", w, "exceptions", ex, "dates", dt);
}

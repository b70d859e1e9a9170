/*
 * schedule.c - weekly occupancy schedules (see model.h).
 *
 * Text forms, as written in the site document:
 *   day set   "mon", "mon-fri", "sat,sun", "fri-mon" (ranges may wrap past
 *             Sunday), "daily" (all seven days).  Day names are the first
 *             three letters of the English names, lower case.
 *   periods   "07:00-19:00", several separated by commas, in any order but
 *             not overlapping; "24:00" ends a day; "closed" means none.
 * Times are local wall-clock time of the building (ISO 8601 hh:mm).  A
 * period never spans midnight: write "22:00-24:00" on one day and
 * "00:00-06:00" on the next.
 */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/tz.h"
#include "model/model.h"

static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

static int day_index(const char *s, size_t n)
{
    for (int i = 0; i < 7; i++)
        if (n == 3 && memcmp(s, day_names[i], 3) == 0)
            return i;
    return -1;
}

/* One item of a day set: "mon" or "mon-fri". */
static int parse_day_item(const char *s, size_t n, unsigned *mask, char *msg, size_t cap)
{
    const char *dash = memchr(s, '-', n);
    int a, b;

    a = day_index(s, dash ? (size_t)(dash - s) : n);
    b = dash ? day_index(dash + 1, n - (size_t)(dash - s) - 1) : a;
    if (a < 0 || b < 0) {
        snprintf(msg, cap, "\"%.*s\" is not a day or day range (mon..sun, e.g. \"mon-fri\")",
                 (int)(n > 40 ? 40 : n), s);
        return SB_EINVAL;
    }
    for (int d = a;; d = (d + 1) % 7) {
        *mask |= 1u << d;
        if (d == b)
            break;
    }
    return 0;
}

int sb_schedule_parse_days(const char *key, unsigned *mask, char *msg, size_t cap)
{
    const char *s = key;

    *mask = 0;
    if (strcmp(key, "daily") == 0) {
        *mask = 0x7f;
        return 0;
    }
    for (;;) {
        size_t n = strcspn(s, ",");
        if (parse_day_item(s, n, mask, msg, cap))
            return SB_EINVAL;
        if (!s[n])
            return 0;
        s += n + 1;
    }
}

/* "hh:mm" (hour 0-24, 24 only as 24:00) -> minutes; -1 if malformed. */
static int parse_hhmm(const char *s, size_t n)
{
    int h, mi;

    if (n < 4 || n > 5 || s[n - 3] != ':')
        return -1;
    for (size_t i = 0; i < n; i++)
        if (i != n - 3 && (s[i] < '0' || s[i] > '9'))
            return -1;
    h = n == 5 ? (s[0] - '0') * 10 + (s[1] - '0') : s[0] - '0';
    mi = (s[n - 2] - '0') * 10 + (s[n - 1] - '0');
    if (mi > 59 || h > 24 || (h == 24 && mi != 0))
        return -1;
    return h * 60 + mi;
}

/* One "hh:mm-hh:mm" period. */
static int parse_period(const char *s, size_t n, struct sb_period *p, char *msg, size_t cap)
{
    const char *dash = memchr(s, '-', n);
    int a = -1, b = -1;

    if (dash) {
        a = parse_hhmm(s, (size_t)(dash - s));
        b = parse_hhmm(dash + 1, n - (size_t)(dash - s) - 1);
    }
    if (a < 0 || b < 0 || a >= b) {
        snprintf(msg, cap, "\"%.*s\" is not a period hh:mm-hh:mm with start < end "
                 "(periods cannot span midnight)", (int)(n > 40 ? 40 : n), s);
        return SB_EINVAL;
    }
    p->start = (uint16_t)a;
    p->end = (uint16_t)b;
    return 0;
}

/* Sorts d's periods by start (insertion sort, n <= 6) and rejects overlaps. */
static int sort_periods(struct sb_day_sched *d, char *msg, size_t cap)
{
    for (int i = 1; i < d->n; i++) {
        struct sb_period t = d->p[i];
        int j = i;
        for (; j > 0 && d->p[j - 1].start > t.start; j--)
            d->p[j] = d->p[j - 1];
        d->p[j] = t;
    }
    for (int i = 1; i < d->n; i++) {
        if (d->p[i].start < d->p[i - 1].end) {
            snprintf(msg, cap, "periods overlap");
            return SB_EINVAL;
        }
    }
    return 0;
}

int sb_schedule_parse_periods(const char *val, struct sb_day_sched *d, char *msg, size_t cap)
{
    const char *s = val;

    memset(d, 0, sizeof *d);
    if (strcmp(val, "closed") == 0)
        return 0;
    for (;;) {
        size_t n = strcspn(s, ",");
        if (d->n >= SB_SCHED_MAX_PERIODS) {
            snprintf(msg, cap, "more than %d periods in a day", SB_SCHED_MAX_PERIODS);
            return SB_EINVAL;
        }
        if (parse_period(s, n, &d->p[d->n], msg, cap))
            return SB_EINVAL;
        d->n++;
        if (!s[n])
            break;
        s += n + 1;
    }
    return sort_periods(d, msg, cap);
}

int sb_schedule_format_day(const struct sb_day_sched *d, char *buf, size_t cap)
{
    size_t len = 0;

    if (d->n == 0)
        return (size_t)snprintf(buf, cap, "closed") < cap ? 0 : SB_ENOSPC;
    for (int i = 0; i < d->n; i++) {
        int w = snprintf(buf + len, cap - len, "%s%02u:%02u-%02u:%02u", i ? "," : "",
                         d->p[i].start / 60u, d->p[i].start % 60u, d->p[i].end / 60u,
                         d->p[i].end % 60u);
        if (w < 0 || (size_t)w >= cap - len)
            return SB_ENOSPC;
        len += (size_t)w;
    }
    return 0;
}

int sb_schedule_format_days(unsigned mask, char *buf, size_t cap)
{
    size_t len = 0;

    if (cap)
        buf[0] = '\0';
    for (int d = 0; d < 7; d++) {
        int e = d, w;
        if (!(mask & (1u << d)))
            continue;
        while (e + 1 < 7 && (mask & (1u << (e + 1))))
            e++;
        if (e == d)
            w = snprintf(buf + len, cap - len, "%s%s", len ? "," : "", day_names[d]);
        else
            w = snprintf(buf + len, cap - len, "%s%s-%s", len ? "," : "", day_names[d],
                         day_names[e]);
        if (w < 0 || (size_t)w >= cap - len)
            return SB_ENOSPC;
        len += (size_t)w;
        d = e;
    }
    return 0;
}

int sb_schedule_occupied(const struct sb_schedule *s, int wday, int minute_of_day)
{
    const struct sb_day_sched *d;

    if (!s->set || wday < 0 || wday > 6)
        return 0;
    d = &s->day[wday];
    for (int i = 0; i < d->n; i++)
        if (minute_of_day >= d->p[i].start && minute_of_day < d->p[i].end)
            return 1;
    return 0;
}

int sb_schedule_occupied_at(const struct sb_schedule *s, const struct sb_tz *tz, int64_t now_ms)
{
    int wday, minute;
    if (!s->set)
        return 0;
    sb_tz_wall(tz, now_ms, &wday, &minute);
    return sb_schedule_occupied(s, wday, minute);
}

int sb_zone_occupied(const struct sb_model *m, const struct sb_zone *z, int64_t now_ms)
{
    if (!z || z->building_ix < 0 || (size_t)z->building_ix >= m->nbuildings)
        return 0;
    const struct sb_building *b = &m->buildings[z->building_ix];
    return b->tz ? sb_schedule_occupied_at(&z->sched, b->tz, now_ms) : 0;
}

const struct sb_point *sb_zone_temp_point(const struct sb_model *m, int32_t zi)
{
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->kind == SB_POINT_TEMPERATURE && p->equipment_ix >= 0 &&
            m->equipment[p->equipment_ix].zone_ix == zi)
            return p;
    }
    return NULL;
}

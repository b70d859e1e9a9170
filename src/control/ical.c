/*
 * ical.c - holiday / closure calendars from iCalendar (see ical.h).
 *
 * Two passes.  scan() walks the content lines (RFC 5545 section 3.1: CRLF
 * lines, folded by a leading space or tab) to check what libical would
 * silently repair, and to remember line numbers (libical keeps none): the
 * nesting of BEGIN/END, property names, and where each VEVENT begins.
 * libical then parses; its X-LIC-ERROR properties (what it could not read)
 * become errors naming the event's line.  libical does not range-check
 * values (it accepts DTSTART:20261345), so every date is checked here.
 *
 * Times: DATE values are the building's local days (an all-day holiday is
 * the same date everywhere).  DATE-TIME values become UTC instants (UTC,
 * TZID through the zone resolver, floating = the building's zone, all with
 * sb_tz_local_to_utc's gap/overlap rules), then the building's local days
 * they overlap.  An occurrence lasts as long as the first one (RFC 5545
 * section 3.8.5.3: the DTEND/DURATION of a recurring event applies to each
 * occurrence).
 */
#include <libical/ical.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "control/ical.h"
#include "core/err.h"
#include "core/tz.h"

#define DAY_S     86400
#define MAX_DEPTH 8        /* nesting of components in the text */
#define MAX_EX    256      /* EXDATEs per event */

/* A time as written: local wall-clock seconds and how to read them. */
struct when {
    int64_t wall;                  /* seconds since 1970-01-01T00:00 of its own clock */
    int is_date;                   /* a DATE (a local day) */
    const struct sb_tz *zone;      /* its zone (UTC for "Z", building's if floating) */
};

/* An EXDATE: a UTC instant, or a local day for DATEs. */
struct ex {
    int64_t v;                     /* utc seconds, or a day number */
    int is_date;                   /* v is a day number */
};

struct ic {
    const struct sb_ical_opts *o;  /* the caller's options */
    const struct sb_tz *tz;        /* the building's zone */
    char *err;                     /* message buffer */
    size_t errlen;                 /* its size */
    int *ev_line;                  /* line of each top-level VEVENT */
    size_t n_ev;                   /* entries of ev_line */
    int line;                      /* line of the event being read */
    const char *name;              /* its SUMMARY */
    struct sb_ical_day *v;         /* results */
    size_t n, cap;                 /* used / allocated */
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ic *c, int rc, const char *fmt, ...)
{
    va_list ap;

    if (c->err && c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Text from the calendar, safe to quote: printable ASCII, at most 60 bytes. */
static void safe(const char *s, char out[72])
{
    size_t i, n = s ? strlen(s) : 0;

    for (i = 0; i < n && i < 60; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + i, n > 60 ? "..." : "");
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ------------------------------------------------------------------------ */
/* pass 1: content lines                                                      */

static int is_name_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
}

/* One BEGIN/END line (s: its text, n bytes) against the stack. */
static int scan_nest(struct ic *c, const char *s, size_t n, int ln, char stack[][32], int *depth)
{
    int begin = n > 6 && strncasecmp(s, "BEGIN:", 6) == 0;
    size_t off = begin ? 6 : 4, k = n - off;
    char nm[72];

    snprintf(nm, sizeof nm, "%.*s", (int)(k > 60 ? 60 : k), s + off);
    safe(nm, nm);
    if (k == 0 || k >= 32)
        return fail(c, SB_EPROTO, "line %d: %s with a bad component name", ln,
                    begin ? "BEGIN" : "END");
    if (begin) {
        if (*depth == 0 && strncasecmp(s + off, "VCALENDAR", k) != 0)
            return fail(c, SB_EPROTO, "line %d: expected BEGIN:VCALENDAR", ln);
        if (*depth >= MAX_DEPTH)
            return fail(c, SB_EPROTO, "line %d: components nested deeper than %d", ln,
                        MAX_DEPTH);
        memcpy(stack[*depth], s + off, k);
        stack[(*depth)++][k] = '\0';
        return 0;
    }
    if (*depth == 0 || strlen(stack[*depth - 1]) != k ||
        strncasecmp(stack[*depth - 1], s + off, k) != 0)
        return fail(c, SB_EPROTO, "line %d: END:%s does not close %s%s", ln, nm,
                    *depth ? "BEGIN:" : "any component", *depth ? stack[*depth - 1] : "");
    (*depth)--;
    return 0;
}

/* Remembers the line of a top-level VEVENT. */
static int note_event(struct ic *c, int ln)
{
    int *e;

    if (c->n_ev >= SB_ICAL_MAX_EVENTS)
        return fail(c, SB_ERANGE, "line %d: more than %d events", ln, SB_ICAL_MAX_EVENTS);
    e = realloc(c->ev_line, (c->n_ev + 1) * sizeof *e);
    if (!e)
        return SB_ENOMEM;
    c->ev_line = e;
    e[c->n_ev++] = ln;
    return 0;
}

/* One logical line's first physical line s[n] (line ln). */
static int scan_line(struct ic *c, const char *s, size_t n, int ln, char stack[][32], int *depth,
                     int *calendars)
{
    size_t k = 0;
    int rc;

    while (k < n && is_name_char(s[k]))
        k++;
    if (k == 0 || (k < n && s[k] != ';' && s[k] != ':'))
        return fail(c, SB_EPROTO, "line %d: not a content line (NAME[;params]:value)", ln);
    if (*depth == 0 && !(k == 5 && strncasecmp(s, "BEGIN", 5) == 0))
        return fail(c, SB_EPROTO, "line %d: content outside BEGIN:VCALENDAR ... END:VCALENDAR",
                    ln);
    if ((k == 5 && strncasecmp(s, "BEGIN", 5) == 0) || (k == 3 && strncasecmp(s, "END", 3) == 0)) {
        if (*depth == 0 && (*calendars)++)
            return fail(c, SB_EPROTO, "line %d: a second VCALENDAR (one per file)", ln);
        if ((rc = scan_nest(c, s, n, ln, stack, depth)) != 0)
            return rc;
        if (*depth == 2 && k == 5 && strcasecmp(stack[1], "VEVENT") == 0)
            return note_event(c, ln);
    }
    return 0;
}

static int scan(struct ic *c, const char *buf, size_t len)
{
    char stack[MAX_DEPTH][32];
    int depth = 0, calendars = 0, ln = 0, rc;
    size_t i = 0;

    while (i < len) {
        const char *s = buf + i, *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;

        i += n + (nl != NULL);
        ln++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == ' ' || s[0] == '\t')
            continue;       /* blank, or a folded continuation */
        if ((rc = scan_line(c, s, n, ln, stack, &depth, &calendars)) != 0)
            return rc;
    }
    if (depth)
        return fail(c, SB_EPROTO, "line %d: BEGIN:%s is never ended", ln, stack[depth - 1]);
    if (!calendars)
        return fail(c, SB_EPROTO, "line 1: no BEGIN:VCALENDAR");
    return 0;
}

/* ------------------------------------------------------------------------ */
/* times                                                                      */

static int valid_fields(const struct icaltimetype *t)
{
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = t->year % 4 == 0 && (t->year % 100 != 0 || t->year % 400 == 0);

    if (t->year < 1900 || t->year > 2500 || t->month < 1 || t->month > 12 || t->day < 1 ||
        t->day > mdays[t->month - 1] || (t->month == 2 && t->day == 29 && !leap))
        return 0;
    return t->is_date || (t->hour >= 0 && t->hour < 24 && t->minute >= 0 && t->minute < 60 &&
                          t->second >= 0 && t->second <= 60);
}

static int64_t wall_of(const struct icaltimetype *t)
{
    int64_t d = sb_days_from_civil(t->year, (unsigned)t->month, (unsigned)t->day);

    return d * DAY_S + (t->is_date ? 0 : t->hour * 3600 + t->minute * 60 + t->second);
}

static const struct sb_tz *resolve(struct ic *c, const char *tzid)
{
    const struct sb_tz *(*zone)(const char *) = c->o->zone ? c->o->zone : sb_tz_get;
    const struct sb_tz *z = zone(tzid);

    /* Some producers prefix IANA names ("/freeassociation.sourceforge.net/
     * Europe/Berlin", "/mozilla.org/20050126_1/America/New_York"): try the
     * name after each '/' too. */
    for (const char *p = strchr(tzid, '/'); !z && p && p[1]; p = strchr(p + 1, '/'))
        z = zone(p + 1);
    return z;
}

/* The value of a DTSTART/DTEND/EXDATE property p with its TZID. */
static int read_when(struct ic *c, icalproperty *p, struct icaltimetype t, const char *what,
                     struct when *w)
{
    icalparameter *tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
    const char *tzid = tzp ? icalparameter_get_tzid(tzp) : NULL;
    char q[72];

    if (!valid_fields(&t))
        return fail(c, SB_EPROTO, "line %d: %s is not a valid date or date-time (years "
                    "1900-2500)", c->line, what);
    w->wall = wall_of(&t);
    w->is_date = t.is_date;
    w->zone = c->tz;
    if (!t.is_date && icaltime_is_utc(t))
        w->zone = sb_tz_utc();
    else if (!t.is_date && tzid && !(w->zone = resolve(c, tzid))) {
        safe(tzid, q);
        return fail(c, SB_EPROTO, "line %d: %s;TZID=%s is not a known time zone (IANA names "
                    "only)", c->line, what, q);
    }
    return 0;
}

static int64_t when_utc(const struct when *w)
{
    return sb_tz_local_to_utc(w->zone, w->wall);
}

/* ------------------------------------------------------------------------ */
/* results                                                                    */

static int add(struct ic *c, int64_t day, int start, int end)
{
    struct sb_ical_day *d;

    if (day < c->o->from_day || day >= c->o->to_day || start >= end)
        return 0;
    if (c->n >= SB_ICAL_MAX_DAYS)
        return fail(c, SB_ERANGE, "line %d: more than %d days in the range", c->line,
                    SB_ICAL_MAX_DAYS);
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        d = realloc(c->v, cap * sizeof *d);
        if (!d)
            return SB_ENOMEM;
        c->v = d;
        c->cap = cap;
    }
    d = &c->v[c->n++];
    d->day = day;
    d->start = (uint16_t)start;
    d->end = (uint16_t)end;
    snprintf(d->name, sizeof d->name, "%s", c->name ? c->name : "");
    for (char *p = d->name; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    return 0;
}

/* Local days [d0, d0 + nd), all day. */
static int emit_days(struct ic *c, int64_t d0, int64_t nd)
{
    int rc = 0;

    if (nd > SB_ICAL_MAX_SPAN)
        return fail(c, SB_ERANGE, "line %d: an occurrence spans more than %d days", c->line,
                    SB_ICAL_MAX_SPAN);
    for (int64_t d = d0; d < d0 + nd && rc == 0; d++)
        rc = add(c, d, 0, 1440);
    return rc;
}

/* Part of local day d between instants x <= y (utc s) in wall minutes. */
static int emit_part(struct ic *c, int64_t d, int64_t ds, int64_t de, int64_t x, int64_t y)
{
    int64_t a, b;

    if (!c->o->partial || (x == ds && y == de))
        return add(c, d, 0, 1440);
    a = x == ds ? 0 : floor_div(x + sb_tz_offset(c->tz, x) - d * DAY_S, 60);
    b = y == de ? 1440 : floor_div(y + sb_tz_offset(c->tz, y) - d * DAY_S + 59, 60);
    return add(c, d, (int)(a < 0 ? 0 : a), (int)(b > 1440 ? 1440 : b));
}

/* The building's local days that instants [a, b) (utc s) overlap; an
 * empty span marks the day of a. */
static int emit_span(struct ic *c, int64_t a, int64_t b)
{
    int64_t d0 = floor_div(a + sb_tz_offset(c->tz, a), DAY_S), d1;
    int rc = 0;

    if (b <= a)
        return add(c, d0, 0, 1440);
    d1 = floor_div(b - 1 + sb_tz_offset(c->tz, b - 1), DAY_S);
    if (d1 - d0 >= SB_ICAL_MAX_SPAN)
        return fail(c, SB_ERANGE, "line %d: an occurrence spans more than %d days", c->line,
                    SB_ICAL_MAX_SPAN);
    for (int64_t d = d0; d <= d1 && rc == 0; d++) {
        int64_t ds = sb_tz_local_to_utc(c->tz, d * DAY_S);
        int64_t de = sb_tz_local_to_utc(c->tz, (d + 1) * DAY_S);
        int64_t x = a > ds ? a : ds, y = b < de ? b : de;
        if (x < y)
            rc = emit_part(c, d, ds, de, x, y);
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* events                                                                     */

/* What one event needs while its occurrences are expanded. */
struct evt {
    struct when start;             /* DTSTART */
    int64_t ndays;                 /* DATE events: days each occurrence covers */
    int64_t dur_s;                 /* DATE-TIME events: seconds each lasts */
    struct ex ex[MAX_EX];          /* EXDATEs */
    size_t n_ex;                   /* used entries of ex */
};

/* An occurrence whose wall clock is wall (of e->start's zone). */
static int emit_occurrence(struct ic *c, const struct evt *e, int64_t wall)
{
    struct when w = e->start;
    int64_t day = floor_div(wall, DAY_S), u;

    w.wall = wall;
    u = e->start.is_date ? 0 : when_utc(&w);
    for (size_t i = 0; i < e->n_ex; i++)
        if ((e->ex[i].is_date && e->ex[i].v == day) || (!e->ex[i].is_date && !e->start.is_date &&
                                                        e->ex[i].v == u))
            return 0;
    if (e->start.is_date)
        return emit_days(c, day, e->ndays);
    return emit_span(c, u, u + e->dur_s);
}

static int read_end(struct ic *c, icalcomponent *ev, struct evt *e)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY);
    icalproperty *dp = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
    struct when end;
    int rc;

    e->ndays = 1;
    e->dur_s = 0;
    if (p) {
        if ((rc = read_when(c, p, icalproperty_get_dtend(p), "DTEND", &end)) != 0)
            return rc;
        if (end.is_date != e->start.is_date)
            return fail(c, SB_EPROTO, "line %d: DTEND and DTSTART must both be DATE or both "
                        "DATE-TIME", c->line);
        e->ndays = (end.wall - e->start.wall) / DAY_S;
        e->dur_s = e->start.is_date ? 0 : when_utc(&end) - when_utc(&e->start);
    } else if (dp) {
        struct icaldurationtype d = icalproperty_get_duration(dp);
        int64_t s = ((int64_t)d.weeks * 7 + d.days) * DAY_S + (int64_t)d.hours * 3600 +
                    d.minutes * 60 + d.seconds;
        if (d.is_neg)
            return fail(c, SB_EPROTO, "line %d: DURATION is negative", c->line);
        e->ndays = s / DAY_S;
        e->dur_s = s;
    }
    if (e->start.is_date ? e->ndays < 1 : e->dur_s < 0)
        return fail(c, SB_EPROTO, "line %d: the event ends before it starts (DTEND is "
                    "exclusive)", c->line);
    return 0;
}

static int read_exdates(struct ic *c, icalcomponent *ev, struct evt *e)
{
    icalproperty *p;
    struct when w;
    int rc;

    e->n_ex = 0;
    for (p = icalcomponent_get_first_property(ev, ICAL_EXDATE_PROPERTY); p;
         p = icalcomponent_get_next_property(ev, ICAL_EXDATE_PROPERTY)) {
        if (e->n_ex >= MAX_EX)
            return fail(c, SB_ERANGE, "line %d: more than %d EXDATEs", c->line, MAX_EX);
        if ((rc = read_when(c, p, icalproperty_get_exdate(p), "EXDATE", &w)) != 0)
            return rc;
        e->ex[e->n_ex].is_date = w.is_date;
        e->ex[e->n_ex++].v = w.is_date ? floor_div(w.wall, DAY_S) : when_utc(&w);
    }
    return 0;
}

/* The RRULE's occurrences from the range's start on. */
static int expand(struct ic *c, icalproperty *rp, struct icaltimetype dt, const struct evt *e)
{
    struct icalrecurrencetype r = icalproperty_get_rrule(rp);
    icalrecur_iterator *it = NULL;
    int rc = 0;

    if (r.freq == ICAL_NO_RECURRENCE || r.freq < ICAL_DAILY_RECURRENCE)
        return fail(c, SB_EPROTO, "line %d: RRULE FREQ must be DAILY, WEEKLY, MONTHLY or "
                    "YEARLY", c->line);
    dt.zone = NULL;
    it = icalrecur_iterator_new(r, dt);
    if (!it)
        return fail(c, SB_EPROTO, "line %d: RRULE cannot be expanded from this DTSTART",
                    c->line);
    /* Without COUNT, start the iterator near the range (RFC 5545 leaves the
     * set the same; only COUNT needs the occurrences before). */
    if (r.count == 0 && floor_div(e->start.wall, DAY_S) < c->o->from_day - SB_ICAL_MAX_SPAN - 2) {
        struct icaltimetype s = dt;
        int64_t y;
        unsigned m, d;
        sb_civil_from_days(c->o->from_day - SB_ICAL_MAX_SPAN - 2, &y, &m, &d);
        s.year = (int)y, s.month = (int)m, s.day = (int)d;
        icalrecur_iterator_set_start(it, s);
    }
    for (int i = 0; rc == 0; i++) {
        struct icaltimetype o = icalrecur_iterator_next(it);
        if (icaltime_is_null_time(o) || !valid_fields(&o))
            break;
        if (floor_div(wall_of(&o), DAY_S) > c->o->to_day + 1)
            break;
        if (i >= SB_ICAL_MAX_OCC) {
            rc = fail(c, SB_ERANGE, "line %d: RRULE has more than %d occurrences before the "
                      "range ends", c->line, SB_ICAL_MAX_OCC);
            break;
        }
        rc = emit_occurrence(c, e, wall_of(&o));
    }
    icalrecur_iterator_free(it);
    return rc;
}

/* The first X-LIC-ERROR libical left in ev, as an error. */
static int lic_errors(struct ic *c, icalcomponent *ev)
{
    icalproperty *p = icalcomponent_get_first_property(ev, ICAL_XLICERROR_PROPERTY);
    char q[72];

    if (!p)
        return 0;
    safe(icalproperty_get_xlicerror(p), q);
    return fail(c, SB_EPROTO, "line %d: event: %s", c->line, q);
}

static int event(struct ic *c, icalcomponent *ev)
{
    struct evt *e = NULL;
    icalproperty *p, *rp;
    struct icaltimetype dt;
    int rc;

    if ((rc = lic_errors(c, ev)) != 0 || icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
        goto out;
    c->name = icalcomponent_get_summary(ev);
    p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
    if (!p) {
        rc = fail(c, SB_EPROTO, "line %d: VEVENT without DTSTART", c->line);
        goto out;
    }
    if (!(e = malloc(sizeof *e))) {
        rc = SB_ENOMEM;
        goto out;
    }
    dt = icalproperty_get_dtstart(p);
    if ((rc = read_when(c, p, dt, "DTSTART", &e->start)) != 0 || (rc = read_end(c, ev, e)) != 0 ||
        (rc = read_exdates(c, ev, e)) != 0)
        goto out;
    rp = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY);
    rc = rp ? expand(c, rp, dt, e) : emit_occurrence(c, e, e->start.wall);
out:
    free(e);
    return rc;
}

/* ------------------------------------------------------------------------ */

static int cmp_day(const void *a, const void *b)
{
    const struct sb_ical_day *x = a, *y = b;

    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->start != y->start)
        return x->start - y->start;
    return x->end - y->end;
}

/* Sorts and drops repeats of the same (day, start, end), keeping the first. */
static void normalise(struct ic *c)
{
    size_t k = 0;

    if (!c->n)
        return;                      /* qsort's base may not be NULL, even for none */
    qsort(c->v, c->n, sizeof *c->v, cmp_day);
    for (size_t i = 0; i < c->n; i++)
        if (k == 0 || cmp_day(&c->v[k - 1], &c->v[i]) != 0)
            c->v[k++] = c->v[i];
    c->n = k;
}

static int walk(struct ic *c, icalcomponent *root)
{
    size_t k = 0;
    int rc = 0;

    if (icalcomponent_isa(root) != ICAL_VCALENDAR_COMPONENT)
        return fail(c, SB_EPROTO, "line 1: not a VCALENDAR");
    for (icalcomponent *ev = icalcomponent_get_first_component(root, ICAL_VEVENT_COMPONENT);
         ev && rc == 0; ev = icalcomponent_get_next_component(root, ICAL_VEVENT_COMPONENT)) {
        c->line = k < c->n_ev ? c->ev_line[k] : 0;
        k++;
        c->name = NULL;
        rc = event(c, ev);
    }
    return rc;
}

int sb_ical_parse(const char *text, size_t len, const struct sb_ical_opts *o,
                  struct sb_ical_list *out, char *err, size_t errlen)
{
    struct ic c = { .o = o, .err = err, .errlen = errlen };
    icalcomponent *root = NULL;
    char *buf = NULL;
    int rc;

    out->v = NULL;
    out->n = 0;
    if (!o || o->to_day <= o->from_day || o->to_day - o->from_day > 100 * 366) {
        rc = fail(&c, SB_EINVAL, "the range must be 1 to 36600 days");
        goto out;
    }
    c.tz = o->tz ? o->tz : sb_tz_utc();
    if (len > SB_ICAL_MAX_BYTES) {
        rc = fail(&c, SB_ERANGE, "calendar: %zu bytes, more than %d", len, SB_ICAL_MAX_BYTES);
        goto out;
    }
    if (memchr(text, '\0', len)) {
        rc = fail(&c, SB_EPROTO, "calendar: a NUL byte in the text");
        goto out;
    }
    if ((rc = scan(&c, text, len)) != 0)
        goto out;
    if (!(buf = malloc(len + 1))) {
        rc = SB_ENOMEM;
        goto out;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    root = icalparser_parse_string(buf);
    rc = root ? walk(&c, root) : fail(&c, SB_EPROTO, "calendar: libical could not parse it");
    if (rc == 0) {
        normalise(&c);
        out->v = c.v;
        out->n = c.n;
        c.v = NULL;
    }
out:
    if (root)
        icalcomponent_free(root);
    free(buf);
    free(c.v);
    free(c.ev_line);
    return rc;
}

void sb_ical_list_free(struct sb_ical_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Day program d with the minutes [a, b) closed (unoccupied). */
static void cut(struct sb_cday *d, int a, int b)
{
    struct sb_cday r = { 0 };

    for (int i = 0; i < d->n; i++) {
        struct sb_cperiod p = d->p[i];
        if (p.end <= a || p.start >= b) {
            if (r.n < SB_CSCHED_MAX_PERIODS)
                r.p[r.n++] = p;
            continue;
        }
        if (p.start < a && r.n < SB_CSCHED_MAX_PERIODS) {
            r.p[r.n] = p;
            r.p[r.n++].end = (uint16_t)a;
        }
        if (p.end > b && r.n < SB_CSCHED_MAX_PERIODS) {
            r.p[r.n] = p;
            r.p[r.n++].start = (uint16_t)b;
        }
    }
    *d = r;
}

/* True if l has an all-day entry for day (l is sorted by day). */
static int whole_day(const struct sb_ical_list *l, int64_t day)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < l->n && l->v[lo].day == day; lo++)
        if (l->v[lo].start == 0 && l->v[lo].end == 1440)
            return 1;
    return 0;
}

int sb_ical_apply(const struct sb_ical_list *l, struct sb_csched *s)
{
    int rc = 0;

    for (size_t i = 0; i < l->n && rc == 0; i++) {
        const struct sb_ical_day *x = &l->v[i];
        struct sb_cday d;
        if (x->start == 0 && x->end == 1440) {
            rc = sb_csched_add_holidays(s, &x->day, 1);
            continue;
        }
        if (whole_day(l, x->day))
            continue;       /* an exception would override the holiday */
        d = *sb_csched_day(s, x->day, NULL);
        cut(&d, x->start, x->end);
        rc = sb_csched_set_exception(s, x->day, &d);
    }
    return rc;
}

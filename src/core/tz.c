/*
 * tz.c - TZif reader, POSIX TZ rules and offset lookups (see tz.h).
 *
 * A loaded zone is one sorted table of instants at which the UTC offset
 * changes, plus the POSIX TZ rule from the file's footer:
 *
 *   - the explicit transitions of the file (RFC 8536 section 3.2), with
 *     those that change only the abbreviation or the DST flag dropped;
 *   - then the transitions the footer rule produces, computed once at load
 *     time for every year up to TZ_GEN_LAST_YEAR ("slim" files, RFC 8536
 *     section 6 / zic -b slim, stop at the last rule change, so without this
 *     almost every lookup for today would go through the rule);
 *   - beyond the table the rule is evaluated on the fly.
 *
 * So a lookup is a binary search for any instant in practice, "fat" and
 * "slim" builds of the same zone give the same answers, and the struct never
 * changes after sb_tz_parse() returns (no lazily filled caches, no locks).
 *
 * Sources: RFC 8536 (TZif, versions 1-4, footer extensions of section
 * 3.3.1); POSIX.1-2017 XBD section 8.3 (the TZ string); Howard Hinnant,
 * "chrono-Compatible Low-Level Date Algorithms" (days_from_civil,
 * civil_from_days), all re-implemented here.
 */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

#define DAY_SECS        86400
#define TZ_MAX_OFFSET   (26 * 3600)      /* |offset| beyond this is corrupt */
#define TZ_MAX_FILE     (256 * 1024)     /* largest TZif we read (~4 KiB real) */
#define TZ_MAX_FOOTER   255              /* longest footer TZ string we accept */
#define TZ_MAX_NAME     255              /* longest zone name */
#define TZ_GEN_LAST_YEAR 2200            /* rule transitions tabled up to here */
#define TZ_GEN_MAX_YEARS 1000            /* ... for at most this many years */
#define TZ_RULE_TMAX    ((int64_t)1 << 56) /* rule arithmetic domain, seconds */
#define TZ_LOCAL_TMAX   ((int64_t)1 << 60) /* local_to_utc clamps to this */
#define TZIF_HDR_LEN    44               /* RFC 8536 section 3.1 */
#define CACHE_SLOTS     64               /* sb_tz_get hash buckets */

/* How a POSIX rule names the day of a change (POSIX.1-2017 8.3 "rule"). */
enum rule_kind {
    RULE_JULIAN1,   /* Jn: 1..365, February 29 never counted */
    RULE_JULIAN0,   /* n: 0..365, February 29 counted in leap years */
    RULE_MWD        /* Mm.w.d: day d of week w of month m */
};

/* One end of the daylight-saving period of a POSIX TZ rule. */
struct tz_rule {
    enum rule_kind kind;  /* which of the three date forms */
    int day;              /* Jn / n: the day number; Mm.w.d: weekday d, 0 = Sunday */
    int mon;              /* Mm.w.d: month 1..12 */
    int week;             /* Mm.w.d: week 1..5, 5 = the last one */
    int32_t secs;         /* local time of the change, -167h..167h (RFC 8536 3.3.1) */
};

/* A parsed POSIX TZ string. */
struct tz_posix {
    int32_t std_off;      /* standard time, seconds east of UTC */
    int32_t dst_off;      /* daylight time, seconds east of UTC */
    bool has_dst;         /* false: std_off all year */
    struct tz_rule start; /* DST starts; secs in standard local time */
    struct tz_rule end;   /* DST ends; secs in daylight local time */
};

struct sb_tz {
    const char *name;     /* zone name; in this allocation (a literal for UTC) */
    size_t n;             /* entries in at[] and off[] */
    const int64_t *at;    /* UTC instants of offset changes, strictly ascending */
    const int32_t *off;   /* off[i] holds from at[i] until at[i+1] */
    int32_t off0;         /* offset before at[0] (local time type 0) */
    bool rule_before;     /* file had no transitions: the rule holds before at[0] too */
    bool has_rule;        /* rule is valid and governs instants >= rule_from */
    int64_t rule_from;    /* the file's last transition (INT64_MIN if none) */
    struct tz_posix rule; /* footer TZ string (RFC 8536 section 3.3) */
};

/* A change of offset produced by a rule: at instant t the offset becomes off. */
struct tz_event {
    int64_t t;            /* UTC instant */
    int32_t off;          /* offset from t on */
    int32_t seq;          /* generation order: breaks ties in time */
};

/* One TZif header (RFC 8536 section 3.1). */
struct tzif_hdr {
    int version;          /* 1 for version "\0", else the digit ('2' -> 2) */
    uint32_t isutcnt;     /* UT/local indicators */
    uint32_t isstdcnt;    /* standard/wall indicators */
    uint32_t leapcnt;     /* leap-second records */
    uint32_t timecnt;     /* transition times */
    uint32_t typecnt;     /* local time type records */
    uint32_t charcnt;     /* bytes of time zone designations */
};

static const struct sb_tz utc_zone = {
    .name = "UTC", .n = 0, .at = NULL, .off = NULL, .off0 = 0,
    .rule_before = false, .has_rule = false, .rule_from = INT64_MIN,
};

/* ---------------------------------------------------------------------------
 * Civil dates.  Howard Hinnant, "chrono-Compatible Low-Level Date
 * Algorithms" (howardhinnant.github.io/date_algorithms.html): a year is
 * shifted to start on March 1 so the leap day ends it, and years are grouped
 * in 400-year eras of 146097 days.  Valid for |y| < 2^40.
 */

int64_t sb_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);                      /* [0, 399] */
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;          /* [0, 146096] */
    return era * 146097 + (int64_t)doe - 719468;
}

void sb_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);                   /* [0, 146096] */
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);        /* [0, 365] */
    unsigned mp = (5 * doy + 2) / 153;                             /* [0, 11] */
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static bool is_leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static unsigned month_days(int64_t y, int m)
{
    static const unsigned char len[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return len[m - 1] + (m == 2 && is_leap(y));
}

/* ---------------------------------------------------------------------------
 * POSIX TZ rules: turning a rule into instants.
 */

/* Day (since the epoch) on which rule r falls in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
    int64_t jan1 = sb_days_from_civil(y, 1, 1);

    if (r->kind == RULE_JULIAN1)   /* Feb 29 is never counted: J60 is March 1 */
        return jan1 + r->day - 1 + (is_leap(y) && r->day >= 60);
    if (r->kind == RULE_JULIAN0)
        return jan1 + r->day;
    int64_t first = sb_days_from_civil(y, (unsigned)r->mon, 1);
    int wd = (int)((first % 7 + 7 + 4) % 7);     /* 1970-01-01 was a Thursday */
    int64_t day = first + (r->day - wd + 7) % 7 + 7 * (r->week - 1);
    while (day >= first + month_days(y, r->mon))  /* week 5 = "last" */
        day -= 7;
    return day;
}

/* The two changes of year y, start first (they may be out of time order). */
static void rule_year(const struct tz_posix *p, int64_t y, int32_t seq, struct tz_event ev[2])
{
    ev[0].t = rule_day(&p->start, y) * DAY_SECS + p->start.secs - p->std_off;
    ev[0].off = p->dst_off;
    ev[0].seq = seq;
    ev[1].t = rule_day(&p->end, y) * DAY_SECS + p->end.secs - p->dst_off;
    ev[1].off = p->std_off;
    ev[1].seq = seq + 1;
}

static bool event_before(const struct tz_event *a, const struct tz_event *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

/* Sorts events by (t, seq): insertion sort, since rule years arrive almost
 * in order (southern zones swap each year's pair). */
static void events_sort(struct tz_event *ev, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct tz_event x = ev[i];
        size_t j = i;
        while (j > 0 && event_before(&x, &ev[j - 1])) {
            ev[j] = ev[j - 1];
            j--;
        }
        ev[j] = x;
    }
}

/* Keeps only real changes of sorted events: of events at the same instant
 * the last one wins, and an event that does not change the offset in force
 * (prev, or INT32_MIN for "unknown") is dropped.  Returns the new count. */
static size_t events_collapse(struct tz_event *ev, size_t n, int32_t prev)
{
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && ev[i + 1].t == ev[i].t)
            continue;
        if (ev[i].off == prev)
            continue;
        prev = ev[i].off;
        ev[k++] = ev[i];
    }
    return k;
}

/* Offset and span of the rule at t, evaluated from the events of the five
 * years around t (a change may lie up to 167 hours outside its year). */
static int32_t posix_span(const struct tz_posix *p, int64_t t, int64_t *from, int64_t *until)
{
    struct tz_event ev[10];
    int64_t y;
    unsigned m, d;
    size_t n, i;

    *from = INT64_MIN;
    *until = INT64_MAX;
    if (!p->has_dst)
        return p->std_off;
    if (t > TZ_RULE_TMAX || t < -TZ_RULE_TMAX) {   /* beyond any calendar use */
        *from = t > 0 ? TZ_RULE_TMAX + 1 : INT64_MIN;
        *until = t > 0 ? INT64_MAX : -TZ_RULE_TMAX;
        return p->std_off;
    }
    sb_civil_from_days(floor_div(t + p->std_off, DAY_SECS), &y, &m, &d);
    for (int k = 0; k < 5; k++)
        rule_year(p, y - 2 + k, 2 * k, &ev[2 * k]);
    events_sort(ev, 10);
    n = events_collapse(ev, 10, INT32_MIN);
    for (i = 0; i < n && ev[i].t <= t; i++)
        ;
    if (i == 0) {                   /* only for nonsensical rules */
        *until = n ? ev[0].t : INT64_MAX;
        return p->std_off;
    }
    *from = ev[i - 1].t;
    if (i < n)
        *until = ev[i].t;
    return ev[i - 1].off;
}

/* ---------------------------------------------------------------------------
 * POSIX TZ string parser (POSIX.1-2017 XBD 8.3, with the RFC 8536 section
 * 3.3.1 extensions: rule times from -167 to 167 hours, and DST all year).
 *   std offset [dst [offset] [,start[/time],end[/time]]]
 * Each helper returns the position after what it read, or NULL.
 */

static bool is_alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A zone abbreviation: 3+ letters, or <...> of 3+ letters, digits, + or -. */
static const char *parse_abbr(const char *p)
{
    const char *q;

    if (*p == '<') {
        for (q = ++p; is_alpha(*q) || is_digit(*q) || *q == '+' || *q == '-'; q++)
            ;
        return (*q == '>' && q - p >= 3) ? q + 1 : NULL;
    }
    for (q = p; is_alpha(*q); q++)
        ;
    return q - p >= 3 ? q : NULL;
}

/* 1 to 3 decimal digits, value in [0, max]. */
static const char *parse_num(const char *p, int max, int *out)
{
    int v = 0, k = 0;

    while (k < 3 && is_digit(p[k])) {
        v = v * 10 + (p[k] - '0');
        k++;
    }
    if (k == 0 || v > max)
        return NULL;
    *out = v;
    return p + k;
}

/* [+-]hh[:mm[:ss]] with hh <= maxh; *out in seconds, signed as written. */
static const char *parse_hms(const char *p, int maxh, int32_t *out)
{
    int sign = 1, h, mi = 0, s = 0;

    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (!(p = parse_num(p, maxh, &h)))
        return NULL;
    if (*p == ':' && !(p = parse_num(p + 1, 59, &mi)))
        return NULL;
    if (*p == ':' && !(p = parse_num(p + 1, 59, &s)))
        return NULL;
    *out = sign * (h * 3600 + mi * 60 + s);
    return p;
}

/* date[/time]: Jn, n or Mm.w.d; the time defaults to 02:00:00. */
static const char *parse_rule(const char *p, struct tz_rule *r)
{
    r->secs = 2 * 3600;
    r->mon = r->week = 0;
    if (*p == 'J') {
        r->kind = RULE_JULIAN1;
        if (!(p = parse_num(p + 1, 365, &r->day)) || r->day < 1)
            return NULL;
    } else if (*p == 'M') {
        r->kind = RULE_MWD;
        if (!(p = parse_num(p + 1, 12, &r->mon)) || r->mon < 1 || *p != '.' ||
            !(p = parse_num(p + 1, 5, &r->week)) || r->week < 1 || *p != '.' ||
            !(p = parse_num(p + 1, 6, &r->day)))
            return NULL;
    } else {
        r->kind = RULE_JULIAN0;
        if (!(p = parse_num(p, 365, &r->day)))
            return NULL;
    }
    if (*p == '/')
        p = parse_hms(p + 1, 167, &r->secs);
    return p;
}

/* RFC 8536 3.3.1: "DST is considered to be in effect all year if it starts
 * January 1 at 00:00 and ends December 31 at 24:00 plus the difference
 * between daylight saving and standard time". */
static bool posix_all_year_dst(const struct tz_posix *p)
{
    const struct tz_rule *s = &p->start, *e = &p->end;
    bool jan1 = (s->kind == RULE_JULIAN1 && s->day == 1) ||
                (s->kind == RULE_JULIAN0 && s->day == 0);

    return jan1 && s->secs == 0 && e->kind == RULE_JULIAN1 && e->day == 365 &&
           e->secs == DAY_SECS + p->dst_off - p->std_off;
}

/* The rules part, after the DST name and optional offset. */
static const char *parse_rules(const char *p, struct tz_posix *out)
{
    static const struct tz_rule us_start = { RULE_MWD, 0, 3, 2, 7200 };
    static const struct tz_rule us_end = { RULE_MWD, 0, 11, 1, 7200 };

    if (*p != ',') {
        /* No rule: the default of glibc and tzcode (TZDEFRULESTRING), the US
         * rules since 2007. */
        out->start = us_start;
        out->end = us_end;
        return p;
    }
    if (!(p = parse_rule(p + 1, &out->start)) || *p != ',')
        return NULL;
    return parse_rule(p + 1, &out->end);
}

/* Parses a whole TZ string (NUL-terminated).  0 or SB_ECORRUPT. */
static int posix_parse(const char *s, struct tz_posix *out)
{
    const char *p = s;
    int32_t w;

    memset(out, 0, sizeof(*out));
    if (!(p = parse_abbr(p)) || !(p = parse_hms(p, 24, &w)))
        return SB_ECORRUPT;
    out->std_off = out->dst_off = -w;     /* POSIX offsets count westward */
    if (*p != '\0') {
        if (!(p = parse_abbr(p)))
            return SB_ECORRUPT;
        out->has_dst = true;
        out->dst_off = out->std_off + 3600;
        if (*p != ',' && *p != '\0') {
            if (!(p = parse_hms(p, 24, &w)))
                return SB_ECORRUPT;
            out->dst_off = -w;
        }
        if (!(p = parse_rules(p, out)))
            return SB_ECORRUPT;
    }
    if (*p != '\0')
        return SB_ECORRUPT;
    if (out->has_dst && (out->dst_off == out->std_off || posix_all_year_dst(out))) {
        out->std_off = out->dst_off;
        out->has_dst = false;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * TZif parsing (RFC 8536 section 3).
 */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* Reads the header at buf[pos]; checks the magic and, if strict, the count
 * rules of RFC 8536 section 3.1. */
static int hdr_read(const uint8_t *buf, size_t len, size_t pos, bool strict, struct tzif_hdr *h)
{
    if (pos > len || len - pos < TZIF_HDR_LEN || memcmp(buf + pos, "TZif", 4) != 0)
        return SB_ECORRUPT;
    const uint8_t *p = buf + pos;
    if (p[4] != 0 && (p[4] < '2' || p[4] > '9'))   /* later versions stay compatible */
        return SB_ECORRUPT;
    h->version = p[4] ? p[4] - '0' : 1;
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (strict && (h->typecnt == 0 || h->charcnt == 0 ||
                   (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
                   (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)))
        return SB_ECORRUPT;
    return 0;
}

/* Bytes in the data block that follows header h; tsize is 4 (v1) or 8. */
static uint64_t body_len(const struct tzif_hdr *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * (tsize + 1) + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* The parts of a data block we use, located and validated. */
struct tzif_body {
    const uint8_t *times;   /* timecnt transition times, tsize bytes each */
    const uint8_t *idx;     /* timecnt type indices */
    const uint8_t *types;   /* typecnt 6-byte ttinfo records */
    unsigned tsize;         /* 4 or 8 */
    uint32_t timecnt;       /* from the header */
    uint32_t typecnt;       /* from the header */
};

static int64_t body_time(const struct tzif_body *b, size_t i)
{
    const uint8_t *p = b->times + i * b->tsize;
    return b->tsize == 8 ? be64(p) : (int64_t)(int32_t)be32(p);
}

static int32_t body_utoff(const struct tzif_body *b, size_t type)
{
    return (int32_t)be32(b->types + type * 6);
}

/* Checks the data block at buf (length checked by the caller): strictly
 * ascending times, indices in range, sane ttinfo records and indicators. */
static int body_check(const uint8_t *buf, const struct tzif_hdr *h, unsigned tsize,
                      struct tzif_body *b)
{
    b->tsize = tsize;
    b->timecnt = h->timecnt;
    b->typecnt = h->typecnt;
    b->times = buf;
    b->idx = b->times + (size_t)h->timecnt * tsize;
    b->types = b->idx + h->timecnt;
    for (size_t i = 0; i < h->timecnt; i++)
        if (b->idx[i] >= h->typecnt || (i > 0 && body_time(b, i) <= body_time(b, i - 1)))
            return SB_ECORRUPT;
    for (size_t i = 0; i < h->typecnt; i++) {
        const uint8_t *tt = b->types + i * 6;
        int32_t off = body_utoff(b, i);
        if (off < -TZ_MAX_OFFSET || off > TZ_MAX_OFFSET || tt[4] > 1 || tt[5] >= h->charcnt)
            return SB_ECORRUPT;
    }
    const uint8_t *ind = b->types + (size_t)h->typecnt * 6 + h->charcnt +
                         (size_t)h->leapcnt * (tsize + 4);
    for (size_t i = 0; i < (size_t)h->isstdcnt + h->isutcnt; i++)
        if (ind[i] > 1)
            return SB_ECORRUPT;
    return 0;
}

/* The footer "\n<TZ string>\n" at buf[pos] (RFC 8536 section 3.3).  An empty
 * string leaves *has_rule false. */
static int footer_parse(const uint8_t *buf, size_t len, size_t pos, struct tz_posix *p,
                        bool *has_rule)
{
    char s[TZ_MAX_FOOTER + 1];
    const uint8_t *nl;
    size_t n;

    *has_rule = false;
    if (pos >= len || buf[pos] != '\n')
        return SB_ECORRUPT;
    nl = memchr(buf + pos + 1, '\n', len - pos - 1);
    if (!nl || nl != buf + len - 1)      /* the footer ends the file */
        return SB_ECORRUPT;
    n = (size_t)(nl - (buf + pos + 1));
    if (n == 0)
        return 0;
    if (n > TZ_MAX_FOOTER || memchr(buf + pos + 1, '\0', n))
        return SB_ECORRUPT;
    memcpy(s, buf + pos + 1, n);
    s[n] = '\0';
    *has_rule = true;
    return posix_parse(s, p);
}

/* What the parse of the file yields, before the lookup table is built. */
struct tzif_parsed {
    struct tzif_body body;  /* the data block used (64-bit one when present) */
    bool has_rule;          /* footer had a TZ string */
    struct tz_posix rule;   /* ... and this is it */
};

/* Locates the data block to use: the v1 one, or for v2+ files the one after
 * the second header, followed by the footer. */
static int tzif_read(const uint8_t *buf, size_t len, struct tzif_parsed *tp)
{
    struct tzif_hdr h;
    size_t pos = 0;
    unsigned tsize = 4;
    int rc = hdr_read(buf, len, 0, true, &h);

    if (rc == 0 && h.version >= 2) {
        /* zic -b slim writes a minimal v1 block: skip it without judging it. */
        uint64_t skip = body_len(&h, 4);
        if (skip > len - TZIF_HDR_LEN)
            return SB_ECORRUPT;
        pos = TZIF_HDR_LEN + (size_t)skip;
        rc = hdr_read(buf, len, pos, true, &h);
        if (rc == 0 && h.version < 2)
            rc = SB_ECORRUPT;
        tsize = 8;
    }
    if (rc)
        return rc;
    pos += TZIF_HDR_LEN;
    uint64_t blen = body_len(&h, tsize);
    if (blen > len - pos)
        return SB_ECORRUPT;
    /* Leap-second ("right/") zones count time differently from POSIX time,
     * which is what the daemon uses. */
    if (h.leapcnt)
        return SB_ENOTSUP;
    if ((rc = body_check(buf + pos, &h, tsize, &tp->body)))
        return rc;
    tp->has_rule = false;
    if (h.version >= 2)
        return footer_parse(buf, len, pos + (size_t)blen, &tp->rule, &tp->has_rule);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Building the lookup table.
 */

/* First year whose rule changes are tabled, or a value > TZ_GEN_LAST_YEAR
 * when none are. */
static int64_t gen_first_year(const struct tzif_parsed *tp, int64_t rule_from)
{
    int64_t y = 1900, dy;
    unsigned m, d;

    if (!tp->has_rule || !tp->rule.has_dst)
        return TZ_GEN_LAST_YEAR + 1;
    if (rule_from != INT64_MIN) {
        if (rule_from > TZ_RULE_TMAX || rule_from < -TZ_RULE_TMAX)
            return TZ_GEN_LAST_YEAR + 1;
        sb_civil_from_days(floor_div(rule_from, DAY_SECS), &dy, &m, &d);
        y = dy - 1;
    }
    if (y < TZ_GEN_LAST_YEAR - TZ_GEN_MAX_YEARS)
        return TZ_GEN_LAST_YEAR + 1;
    return y;
}

/* Appends the file's transitions that change the offset. */
static size_t table_explicit(const struct tzif_body *b, int64_t *at, int32_t *off)
{
    int32_t prev = body_utoff(b, 0);
    size_t n = 0;

    for (size_t i = 0; i < b->timecnt; i++) {
        int32_t o = body_utoff(b, b->idx[i]);
        if (o == prev)
            continue;
        at[n] = body_time(b, i);
        off[n++] = prev = o;
    }
    return n;
}

/* Appends the rule's changes after rule_from for years y0..TZ_GEN_LAST_YEAR. */
static int table_rule(const struct tz_posix *p, int64_t y0, int64_t rule_from,
                      int32_t prev, int64_t *at, int32_t *off, size_t *n)
{
    size_t cnt = (size_t)(TZ_GEN_LAST_YEAR - y0 + 1) * 2, k = 0;
    struct tz_event *ev = malloc(cnt * sizeof(*ev));

    if (!ev)
        return SB_ENOMEM;
    for (int64_t y = y0; y <= TZ_GEN_LAST_YEAR; y++)
        rule_year(p, y, (int32_t)(2 * (y - y0)), &ev[2 * (y - y0)]);
    events_sort(ev, cnt);
    for (size_t i = 0; i < cnt; i++)      /* only what the file leaves to the rule */
        if (ev[i].t > rule_from)
            ev[k++] = ev[i];
    k = events_collapse(ev, k, prev);
    for (size_t i = 0; i < k; i++) {
        at[*n] = ev[i].t;
        off[(*n)++] = ev[i].off;
    }
    free(ev);
    return 0;
}

/* Allocates the zone with room for cap table entries, and copies name. */
static struct sb_tz *tz_alloc(size_t cap, const char *name)
{
    size_t nlen = strlen(name) + 1;
    struct sb_tz *tz;

    if (cap > (SIZE_MAX - sizeof(*tz) - nlen) / 12)
        return NULL;
    tz = malloc(sizeof(*tz) + cap * 12 + nlen);
    if (!tz)
        return NULL;
    memset(tz, 0, sizeof(*tz));
    int64_t *at = (int64_t *)(tz + 1);       /* struct size is a multiple of 8 */
    int32_t *off = (int32_t *)(at + cap);
    char *nm = (char *)(off + cap);
    memcpy(nm, name, nlen);
    tz->name = nm;
    tz->at = at;
    tz->off = off;
    return tz;
}

static int tz_build(const struct tzif_parsed *tp, const char *name, struct sb_tz **out)
{
    const struct tzif_body *b = &tp->body;
    int64_t rule_from = b->timecnt ? body_time(b, b->timecnt - 1) : INT64_MIN;
    int64_t y0 = gen_first_year(tp, rule_from);
    size_t cap = b->timecnt, n;
    struct sb_tz *tz;

    if (y0 <= TZ_GEN_LAST_YEAR)
        cap += (size_t)(TZ_GEN_LAST_YEAR - y0 + 1) * 2;
    if (!(tz = tz_alloc(cap, name)))
        return SB_ENOMEM;
    int64_t *at = (int64_t *)tz->at;
    int32_t *off = (int32_t *)tz->off;
    tz->off0 = body_utoff(b, 0);
    n = table_explicit(b, at, off);
    if (y0 <= TZ_GEN_LAST_YEAR) {
        int32_t prev = n ? off[n - 1] : b->timecnt ? tz->off0 : INT32_MIN;
        int rc = table_rule(&tp->rule, y0, rule_from, prev, at, off, &n);
        if (rc) {
            free(tz);
            return rc;
        }
    }
    tz->n = n;
    tz->has_rule = tp->has_rule;
    tz->rule = tp->rule;
    tz->rule_from = rule_from;
    tz->rule_before = tp->has_rule && b->timecnt == 0;
    *out = tz;
    return 0;
}

int sb_tz_parse(const uint8_t *buf, size_t len, const char *name, struct sb_tz **out)
{
    struct tzif_parsed tp;
    int rc;

    *out = NULL;
    if (!buf || !name)
        return SB_EINVAL;
    memset(&tp, 0, sizeof(tp));
    if ((rc = tzif_read(buf, len, &tp)))
        return rc;
    return tz_build(&tp, name, out);
}

void sb_tz_free(struct sb_tz *tz)
{
    if (tz && tz != &utc_zone)
        free(tz);
}

/* ---------------------------------------------------------------------------
 * Lookups.
 */

/* Largest i with at[i] <= t; the caller ensures at[0] <= t < at[n-1]. */
static size_t table_find(const struct sb_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n - 1;     /* at[lo] <= t < at[hi] */

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* After the table.  The footer rule governs from the file's last transition
 * (rule_from) on; the table ends with offset cur, in force since last.  The
 * span boundaries reported are real changes of offset only. */
static int32_t span_after(const struct sb_tz *tz, int64_t t, int64_t *from, int64_t *until)
{
    int64_t last = tz->n ? tz->at[tz->n - 1] : INT64_MIN, rf, ru;
    int32_t cur = tz->n ? tz->off[tz->n - 1] : tz->off0, roff;

    *from = last;
    *until = INT64_MAX;
    if (!tz->has_rule)
        return cur;
    if (t >= tz->rule_from) {
        roff = posix_span(&tz->rule, t, &rf, until);
        if (rf >= tz->rule_from)
            *from = rf > last ? rf : last;
        else if (roff != cur && tz->rule_from > last)
            *from = tz->rule_from;      /* file and footer disagree there */
        return roff;
    }
    roff = posix_span(&tz->rule, tz->rule_from, &rf, &ru);
    *until = roff != cur ? tz->rule_from : ru;
    return cur;
}

int32_t sb_tz_span(const struct sb_tz *tz, int64_t utc_s, int64_t *from, int64_t *until)
{
    int64_t f, u;
    int32_t off;

    if (!tz)
        tz = &utc_zone;
    if (tz->n == 0 || utc_s >= tz->at[tz->n - 1]) {
        off = span_after(tz, utc_s, &f, &u);
    } else if (utc_s < tz->at[0]) {
        if (tz->rule_before) {
            off = posix_span(&tz->rule, utc_s, &f, &u);
            if (u > tz->at[0])
                u = tz->at[0];
        } else {
            off = tz->off0;
            f = INT64_MIN;
            u = tz->at[0];
        }
    } else {
        size_t i = table_find(tz, utc_s);
        off = tz->off[i];
        f = tz->at[i];
        u = tz->at[i + 1];
    }
    if (from)
        *from = f;
    if (until)
        *until = u;
    return off;
}

int32_t sb_tz_offset(const struct sb_tz *tz, int64_t utc_s)
{
    return sb_tz_span(tz, utc_s, NULL, NULL);
}

/* Walks the spans that can hold an answer (an offset is within +-26 h) in
 * time order: the first whose offset maps local_s into it is the earliest
 * instant showing local_s; a span that begins after local_s - its offset
 * means local_s fell into the gap just before it.  Real zones need one to
 * three steps; every step moves t forward to a later change, and the last
 * span reaches past local_s + 26 h, so the walk ends. */
int64_t sb_tz_local_to_utc(const struct sb_tz *tz, int64_t local_s)
{
    int64_t t, from, until, u;

    if (local_s > TZ_LOCAL_TMAX)
        local_s = TZ_LOCAL_TMAX;
    if (local_s < -TZ_LOCAL_TMAX)
        local_s = -TZ_LOCAL_TMAX;
    t = local_s - TZ_MAX_OFFSET;
    for (;;) {
        u = local_s - sb_tz_span(tz, t, &from, &until);
        if (u < from)
            return from;
        if (u < until)
            return u;
        t = until;
    }
}

const char *sb_tz_name(const struct sb_tz *tz)
{
    return tz ? tz->name : utc_zone.name;
}

const struct sb_tz *sb_tz_utc(void)
{
    return &utc_zone;
}

/* ---------------------------------------------------------------------------
 * Loading from the zoneinfo directory.
 */

/* A zone name is a relative path of [A-Za-z0-9_+-.] components; no
 * component starts with '.', so "..", "./x" and hidden files are out. */
static bool name_ok(const char *name)
{
    size_t n = strnlen(name, TZ_MAX_NAME + 1);

    if (n == 0 || n > TZ_MAX_NAME || strstr(name, ".."))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool comp_start = i == 0 || name[i - 1] == '/';
        if (comp_start && (c == '.' || c == '/'))
            return false;
        if (!is_alpha(c) && !is_digit(c) && !strchr("_+-./", c))
            return false;
    }
    return name[n - 1] != '/';
}

/* Reads a whole regular file of at most TZ_MAX_FILE bytes into *out. */
static int read_small_file(const char *path, uint8_t **out, size_t *len)
{
    struct stat st;
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = 0;
    /* O_NONBLOCK: opening a FIFO planted in the directory must not hang. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    if (fd < 0)
        return (errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG) ? SB_ENOENT : SB_EIO;
    if (fstat(fd, &st) != 0) {
        rc = SB_EIO;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = SB_ENOENT;                 /* a directory such as "America" */
        goto out;
    }
    if (st.st_size > TZ_MAX_FILE || !(buf = malloc(TZ_MAX_FILE + 1))) {
        rc = st.st_size > TZ_MAX_FILE ? SB_ECORRUPT : SB_ENOMEM;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, TZ_MAX_FILE + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = SB_EIO;
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > TZ_MAX_FILE) {          /* grew since fstat */
            rc = SB_ECORRUPT;
            goto out;
        }
    }
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

int sb_tz_load(const char *name, struct sb_tz **out)
{
    char path[PATH_MAX];
    const char *dir = getenv("SBEMS_TZDIR");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    if (!name || !name_ok(name))
        return SB_EINVAL;
    if (!dir || !*dir)
        dir = "/usr/share/zoneinfo";
    rc = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (rc < 0 || (size_t)rc >= sizeof(path))
        return SB_EINVAL;
    if ((rc = read_small_file(path, &buf, &len)))
        return rc;
    rc = sb_tz_parse(buf, len, name, out);
    free(buf);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Process-wide cache.  Zones are few (one per building zone name) and live
 * until exit, so a fixed hash of chained nodes under one mutex is enough.
 * Failed loads are not cached: a later call retries (tzdata may be updated).
 */

/* One cached zone. */
struct cache_node {
    struct sb_tz *tz;          /* the zone, loaded under the name asked for */
    struct cache_node *next;   /* chain of the same hash slot */
};

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cache_node *cache[CACHE_SLOTS];   /* guarded by cache_mu */

static unsigned name_hash(const char *s)
{
    uint32_t h = 2166136261u;                   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h % CACHE_SLOTS;
}

/* Caller holds cache_mu. */
static const struct sb_tz *cache_find_or_load(const char *name)
{
    unsigned slot = name_hash(name);
    struct cache_node *node;
    struct sb_tz *tz;

    for (node = cache[slot]; node; node = node->next)
        if (strcmp(node->tz->name, name) == 0)
            return node->tz;
    if (sb_tz_load(name, &tz) != 0)
        return NULL;
    if (!(node = malloc(sizeof(*node)))) {
        sb_tz_free(tz);
        return NULL;
    }
    node->tz = tz;
    node->next = cache[slot];
    cache[slot] = node;
    return tz;
}

const struct sb_tz *sb_tz_get(const char *name)
{
    const struct sb_tz *tz;

    if (!name)
        return NULL;
    if (strcmp(name, "UTC") == 0)    /* needs no tzdata */
        return &utc_zone;
    pthread_mutex_lock(&cache_mu);
    tz = cache_find_or_load(name);
    pthread_mutex_unlock(&cache_mu);
    return tz;
}

void sb_tz_wall(const struct sb_tz *tz, int64_t now_ms, int *wday, int *minute)
{
    int64_t s = now_ms >= 0 ? now_ms / 1000 : -((-now_ms + 999) / 1000);
    int64_t local = s + (tz ? sb_tz_offset(tz, s) : 0);
    int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    if (wday)
        *wday = (int)(((days % 7) + 10) % 7);          /* 1970-01-01 was a Thursday (3) */
    if (minute)
        *minute = (int)((local - days * 86400) / 60);
}

int sb_local_date_ok(const char *s, int64_t *day)
{
    unsigned y, m, d, mm, dd;
    int64_t yy;
    int n = 0;

    if (!s || strlen(s) != 10 || sscanf(s, "%4u-%2u-%2u%n", &y, &m, &d, &n) != 3 || n != 10 ||
        y < 1970 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
        return 0;
    int64_t k = sb_days_from_civil(y, m, d);
    sb_civil_from_days(k, &yy, &mm, &dd);
    if (day)
        *day = k;
    return mm == m && dd == d;
}

/*
 * sched.c - control schedules (see sched.h): building, JSON in/out and
 * evaluation in a time zone.
 *
 * Evaluation works in instants, not wall-clock readings: each local day D
 * is cut into segments at its period boundaries, every boundary (and the
 * day's own midnight) mapped to UTC with sb_tz_local_to_utc.  The segment
 * whose [start, end) holds the instant gives the state.  That one rule
 * gives the DST behaviour sched.h promises: a boundary inside a
 * spring-forward gap lands on the gap's end, an ambiguous one on its first
 * occurrence, and a day lasts as long as its midnights are apart (23 or 25
 * h on transition days).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/sched.h"
#include "core/err.h"
#include "core/tz.h"

#define DAY_S      86400
#define MAX_SEG    (2 * SB_CSCHED_MAX_PERIODS + 1)   /* periods + gaps of a day */
#define BACK_DAYS  8
#define AHEAD_DAYS 400

static const char *const mode_names[SB_CMODE_COUNT] = { "unoccupied", "occupied", "standby" };
static const char *const day_names[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };

const char *sb_cmode_name(enum sb_cmode m)
{
    return (unsigned)m < SB_CMODE_COUNT ? mode_names[m] : "?";
}

/* ------------------------------------------------------------------------ */
/* building                                                                  */

void sb_csched_init(struct sb_csched *s, const struct sb_comfort *c)
{
    struct sb_band *b = s->band;

    memset(s, 0, sizeof *s);
    if (c && c->set) {
        b[SB_CMODE_OCCUPIED] = c->occupied;
        b[SB_CMODE_UNOCCUPIED] = c->unoccupied;
    } else {
        b[SB_CMODE_OCCUPIED] = (struct sb_band){ 21.0, 24.0 };
        b[SB_CMODE_UNOCCUPIED] = (struct sb_band){ 15.0, 30.0 };
    }
    /* Standby: occupied hours with the space empty (ASHRAE Guideline 36's
     * "occupied-standby" zone state); the designer sets its band, we
     * default to the occupied band 1 K wider each side, never beyond the
     * setback band. */
    b[SB_CMODE_STANDBY].heating = b[SB_CMODE_OCCUPIED].heating - 1.0;
    b[SB_CMODE_STANDBY].cooling = b[SB_CMODE_OCCUPIED].cooling + 1.0;
    if (b[SB_CMODE_STANDBY].heating < b[SB_CMODE_UNOCCUPIED].heating)
        b[SB_CMODE_STANDBY].heating = b[SB_CMODE_UNOCCUPIED].heating;
    if (b[SB_CMODE_STANDBY].cooling > b[SB_CMODE_UNOCCUPIED].cooling)
        b[SB_CMODE_STANDBY].cooling = b[SB_CMODE_UNOCCUPIED].cooling;
}

void sb_csched_release(struct sb_csched *s)
{
    free(s->exc);
    free(s->hol);
    s->exc = NULL;
    s->hol = NULL;
    s->n_exc = s->n_hol = 0;
    memset(s->week, 0, sizeof s->week);
    memset(&s->holiday, 0, sizeof s->holiday);
}

int sb_csched_copy(struct sb_csched *dst, const struct sb_csched *src)
{
    *dst = *src;
    dst->exc = NULL;
    dst->hol = NULL;
    if ((src->n_exc && !(dst->exc = malloc(src->n_exc * sizeof(*dst->exc)))) ||
        (src->n_hol && !(dst->hol = malloc(src->n_hol * sizeof(*dst->hol))))) {
        sb_csched_release(dst);
        return SB_ENOMEM;
    }
    if (src->n_exc)
        memcpy(dst->exc, src->exc, src->n_exc * sizeof(*dst->exc));
    if (src->n_hol)
        memcpy(dst->hol, src->hol, src->n_hol * sizeof(*dst->hol));
    return 0;
}

void sb_csched_from_occupancy(struct sb_csched *s, const struct sb_schedule *occ)
{
    for (int d = 0; d < 7; d++) {
        const struct sb_day_sched *o = &occ->day[d];
        struct sb_cday *w = &s->week[d];

        w->n = 0;
        for (int i = 0; occ->set && i < o->n && i < SB_CSCHED_MAX_PERIODS; i++) {
            w->p[w->n++] = (struct sb_cperiod){ o->p[i].start, o->p[i].end, SB_CMODE_OCCUPIED,
                                                s->band[SB_CMODE_OCCUPIED] };
        }
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int sb_csched_add_holidays(struct sb_csched *s, const int64_t *days, size_t n)
{
    int64_t *h;
    size_t k = 0;

    if (n > SB_CSCHED_MAX_HOL)
        return SB_ENOSPC;
    h = malloc((s->n_hol + n + 1) * sizeof *h);
    if (!h)
        return SB_ENOMEM;
    if (s->n_hol)
        memcpy(h, s->hol, s->n_hol * sizeof *h);
    if (n)
        memcpy(h + s->n_hol, days, n * sizeof *h);
    qsort(h, s->n_hol + n, sizeof *h, cmp_i64);
    for (size_t i = 0; i < s->n_hol + n; i++)
        if (k == 0 || h[k - 1] != h[i])
            h[k++] = h[i];
    if (k > SB_CSCHED_MAX_HOL) {
        free(h);        /* s is unchanged */
        return SB_ENOSPC;
    }
    free(s->hol);
    s->hol = h;
    s->n_hol = k;
    return 0;
}

/* Index of the exception of day, or the insertion point negated minus 1. */
static long exc_find(const struct sb_cexc *e, size_t n, int64_t day)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (e[mid].day < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && e[lo].day == day ? (long)lo : -(long)lo - 1;
}

int sb_csched_set_exception(struct sb_csched *s, int64_t day, const struct sb_cday *d)
{
    long i = exc_find(s->exc, s->n_exc, day);
    struct sb_cexc *e;

    if (i >= 0) {
        s->exc[i].d = *d;
        return 0;
    }
    if (s->n_exc >= SB_CSCHED_MAX_EXC)
        return SB_ENOSPC;
    e = realloc(s->exc, (s->n_exc + 1) * sizeof *e);
    if (!e)
        return SB_ENOMEM;
    s->exc = e;
    i = -i - 1;
    memmove(e + i + 1, e + i, (s->n_exc - (size_t)i) * sizeof *e);
    e[i].day = day;
    e[i].d = *d;
    s->n_exc++;
    return 0;
}

static int is_holiday(const struct sb_csched *s, int64_t day)
{
    return s->n_hol && bsearch(&day, s->hol, s->n_hol, sizeof *s->hol, cmp_i64) != NULL;
}

/* ------------------------------------------------------------------------ */
/* evaluation                                                                */

/* A stretch of one mode and band between two instants. */
struct seg {
    int64_t a, b;              /* UTC ms [a, b) */
    uint8_t mode;              /* enum sb_cmode */
    uint8_t kind;              /* enum sb_cday_kind */
    struct sb_band band;       /* setpoints */
};

/* The program of local day D and where it came from. */
static const struct sb_cday *day_program(const struct sb_csched *s, int64_t day, uint8_t *kind)
{
    long i = exc_find(s->exc, s->n_exc, day);

    if (i >= 0) {
        *kind = SB_CDAY_EXCEPTION;
        return &s->exc[i].d;
    }
    if (is_holiday(s, day)) {
        *kind = SB_CDAY_HOLIDAY;
        return &s->holiday;
    }
    *kind = SB_CDAY_WEEKLY;
    /* 1970-01-01 was a Thursday (ISO weekday 3 counting Monday = 0). */
    return &s->week[((day % 7) + 7 + 3) % 7];
}

const struct sb_cday *sb_csched_day(const struct sb_csched *s, int64_t day,
                                    enum sb_cday_kind *kind)
{
    uint8_t k;
    const struct sb_cday *d = day_program(s, day, &k);

    if (kind)
        *kind = (enum sb_cday_kind)k;
    return d;
}

static int64_t local_ms(const struct sb_tz *tz, int64_t day, int minute)
{
    return sb_tz_local_to_utc(tz, day * DAY_S + (int64_t)minute * 60) * 1000;
}

static void push_seg(struct seg *out, int *n, int64_t a, int64_t b, uint8_t mode, uint8_t kind,
                     struct sb_band band)
{
    if (b <= a)
        return;     /* a boundary in a spring-forward gap: nothing to run */
    out[(*n)++] = (struct seg){ a, b, mode, kind, band };
}

/* Cuts local day D into segments (gaps between periods are unoccupied). */
static int day_segments(const struct sb_csched *s, const struct sb_tz *tz, int64_t day,
                        struct seg *out)
{
    uint8_t kind;
    const struct sb_cday *d = day_program(s, day, &kind);
    const struct sb_band unocc = s->band[SB_CMODE_UNOCCUPIED];
    int n = 0, m = 0;

    for (int i = 0; i < d->n; i++) {
        const struct sb_cperiod *p = &d->p[i];
        push_seg(out, &n, local_ms(tz, day, m), local_ms(tz, day, p->start), SB_CMODE_UNOCCUPIED,
                 kind, unocc);
        push_seg(out, &n, local_ms(tz, day, p->start), local_ms(tz, day, p->end), p->mode, kind,
                 p->band);
        m = p->end;
    }
    push_seg(out, &n, local_ms(tz, day, m), local_ms(tz, day, 1440), SB_CMODE_UNOCCUPIED, kind,
             unocc);
    return n;
}

static int same_state(const struct seg *x, const struct seg *y)
{
    return x->mode == y->mode && x->band.heating == y->band.heating &&
           x->band.cooling == y->band.cooling;
}

/* The local day an instant falls on. */
static int64_t local_day(const struct sb_tz *tz, int64_t t_ms)
{
    int64_t t_s = t_ms >= 0 ? t_ms / 1000 : -((-t_ms + 999) / 1000);
    int64_t l = t_s + sb_tz_offset(tz, t_s);

    return l >= 0 ? l / DAY_S : -((-l + DAY_S - 1) / DAY_S);
}

/* The segment holding t_ms; searched on the days around its local day. */
static int find_seg(const struct sb_csched *s, const struct sb_tz *tz, int64_t t_ms,
                    struct seg *hit, int64_t *hit_day)
{
    struct seg g[MAX_SEG];
    int64_t d0 = local_day(tz, t_ms);

    for (int64_t d = d0 - 1; d <= d0 + 1; d++) {
        int n = day_segments(s, tz, d, g);
        for (int i = 0; i < n; i++) {
            if (t_ms >= g[i].a && t_ms < g[i].b) {
                *hit = g[i];
                *hit_day = d;
                return 0;
            }
        }
    }
    return SB_EINVAL;   /* unreachable for a valid zone: days tile time */
}

/* Start of the run of same_state segments ending in cur (day cur_day). */
static int64_t run_start(const struct sb_csched *s, const struct sb_tz *tz,
                         const struct seg *cur, int64_t cur_day)
{
    struct seg g[MAX_SEG];
    int64_t since = cur->a;

    for (int64_t d = cur_day; d >= cur_day - BACK_DAYS; d--) {
        int n = day_segments(s, tz, d, g);
        for (int i = n - 1; i >= 0; i--) {
            if (g[i].a >= since)
                continue;
            if (!same_state(&g[i], cur) || g[i].b < since)
                return since;
            since = g[i].a;
        }
    }
    return since;
}

/* First instant after cur where the state changes. */
static int64_t run_end(const struct sb_csched *s, const struct sb_tz *tz,
                       const struct seg *cur, int64_t cur_day)
{
    struct seg g[MAX_SEG];
    int64_t until = cur->b;

    for (int64_t d = cur_day; d <= cur_day + AHEAD_DAYS; d++) {
        int n = day_segments(s, tz, d, g);
        for (int i = 0; i < n; i++) {
            if (g[i].b <= until)
                continue;
            if (!same_state(&g[i], cur) || g[i].a > until)
                return until;
            until = g[i].b;
        }
    }
    return INT64_MAX;
}

int sb_csched_at(const struct sb_csched *s, const struct sb_tz *tz, int64_t t_ms,
                 struct sb_csched_state *out)
{
    struct seg cur;
    int64_t day;
    int rc;

    if (!tz)
        tz = sb_tz_utc();
    rc = find_seg(s, tz, t_ms, &cur, &day);
    if (rc)
        goto out;
    out->mode = (enum sb_cmode)cur.mode;
    out->band = cur.band;
    out->kind = (enum sb_cday_kind)cur.kind;
    out->since_ms = run_start(s, tz, &cur, day);
    out->next_ms = run_end(s, tz, &cur, day);
out:
    return rc;
}

int sb_csched_horizon(const struct sb_csched *s, const struct sb_tz *tz, int64_t start_ms,
                      int32_t step_s, size_t n, struct sb_csched_step *out)
{
    struct seg cur = { 0, 0, 0, 0, { 0, 0 } };
    int64_t day;
    int rc = 0;

    if (step_s < 60 || n > SB_CSCHED_HORIZON_MAX)
        return SB_EINVAL;
    if (!tz)
        tz = sb_tz_utc();
    for (size_t i = 0; i < n; i++) {
        int64_t t = start_ms + (int64_t)i * step_s * 1000;
        /* Reuse the segment while t is inside it: one zone lookup per change. */
        if (!(t >= cur.a && t < cur.b) && (rc = find_seg(s, tz, t, &cur, &day)) != 0)
            break;
        out[i] = (struct sb_csched_step){ t, (enum sb_cmode)cur.mode, cur.band };
    }
    return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON in                                                                   */

struct pc {
    char *err;                 /* caller's message buffer */
    size_t errlen;             /* its size */
    struct sb_csched *s;       /* the schedule being filled */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct pc *c, const char *fmt, ...)
{
    va_list ap;

    if (c->err && c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return SB_EINVAL;
}

/* A string from outside, safe to quote: printable ASCII, at most 40 bytes. */
static void safe(const char *s, char out[48])
{
    size_t i, n = strlen(s);

    for (i = 0; i < n && i < 40; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + i, n > 40 ? "..." : "");
}

/* path + leaf into out[cap], cut with "..." when too long (messages only). */
static void subpath(char *out, size_t cap, const char *path, const char *leaf)
{
    if (snprintf(out, cap, "%s%s", path, leaf) >= (int)cap && cap > 4)
        strcpy(out + cap - 4, "...");
}

static int check_keys(struct pc *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        size_t i;
        char k[48];

        for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
            ;
        if (!allowed[i]) {
            safe(key, k);
            return fail(c, "%s%s%s: unknown field", path, *path ? "." : "", k);
        }
    }
    return 0;
}

static int get_temp(struct pc *c, json_t *v, const char *path, double *out)
{
    double x;

    if (!json_is_number(v))
        return fail(c, "%s: must be a number (°C)", path);
    x = json_number_value(v);
    if (!(x >= 0.0 && x <= 50.0))
        return fail(c, "%s: %g °C out of 0..50", path, x);
    *out = x;
    return 0;
}

/* The "heating" and "cooling" members of v, either may be missing (b keeps
 * its value); the result must have heating < cooling. */
static int get_temps(struct pc *c, json_t *v, const char *path, struct sb_band *b)
{
    char p[160];
    json_t *h = json_object_get(v, "heating"), *k = json_object_get(v, "cooling");
    int rc;

    subpath(p, sizeof p, path, ".heating");
    if (h && (rc = get_temp(c, h, p, &b->heating)) != 0)
        return rc;
    subpath(p, sizeof p, path, ".cooling");
    if (k && (rc = get_temp(c, k, p, &b->cooling)) != 0)
        return rc;
    if (!(b->heating < b->cooling))
        return fail(c, "%s: heating %g °C must be below cooling %g °C", path, b->heating,
                    b->cooling);
    return 0;
}

static int get_mode(struct pc *c, json_t *v, const char *path, uint8_t *mode)
{
    const char *m = json_string_value(v);

    for (int i = 0; m && i < SB_CMODE_COUNT; i++) {
        if (strcmp(m, mode_names[i]) == 0) {
            *mode = (uint8_t)i;
            return 0;
        }
    }
    return fail(c, "%s: must be \"occupied\", \"unoccupied\" or \"standby\"", path);
}

/* {"time": "07:00-19:00", "mode": "occupied", "heating": 21, "cooling": 24} */
static int get_period(struct pc *c, json_t *v, const char *path, struct sb_cperiod *p)
{
    static const char *const keys[] = { "time", "mode", "heating", "cooling", NULL };
    struct sb_day_sched one;
    char p2[160], why[128];
    const char *t;
    int rc;

    if (!json_is_object(v))
        return fail(c, "%s: must be an object {\"time\", \"mode\"}", path);
    if ((rc = check_keys(c, v, path, keys)) != 0)
        return rc;
    t = json_string_value(json_object_get(v, "time"));
    if (!t || strchr(t, ',') || strcmp(t, "closed") == 0 ||
        sb_schedule_parse_periods(t, &one, why, sizeof why) != 0 || one.n != 1)
        return fail(c, "%s.time: must be one period \"hh:mm-hh:mm\" (start < end, "
                    "within one day)", path);
    subpath(p2, sizeof p2, path, ".mode");
    p->mode = SB_CMODE_OCCUPIED;
    if (json_object_get(v, "mode") && (rc = get_mode(c, json_object_get(v, "mode"), p2,
                                                     &p->mode)) != 0)
        return rc;
    p->start = one.p[0].start;
    p->end = one.p[0].end;
    p->band = c->s->band[p->mode];
    return get_temps(c, v, path, &p->band);
}

/* Sorts a day's periods by start and rejects overlaps. */
static int sort_day(struct pc *c, struct sb_cday *d, const char *path)
{
    for (int i = 1; i < d->n; i++) {
        struct sb_cperiod t = d->p[i];
        int j = i;
        for (; j > 0 && d->p[j - 1].start > t.start; j--)
            d->p[j] = d->p[j - 1];
        d->p[j] = t;
    }
    for (int i = 1; i < d->n; i++)
        if (d->p[i].start < d->p[i - 1].end)
            return fail(c, "%s: periods overlap at %02u:%02u", path, d->p[i].start / 60u,
                        d->p[i].start % 60u);
    return 0;
}

/* "closed" or an array of periods. */
static int get_day(struct pc *c, json_t *v, const char *path, struct sb_cday *d)
{
    char p[160], q[24];
    size_t i;
    json_t *e;
    int rc;

    memset(d, 0, sizeof *d);
    if (json_is_string(v) && strcmp(json_string_value(v), "closed") == 0)
        return 0;
    if (!json_is_array(v))
        return fail(c, "%s: must be \"closed\" or an array of periods", path);
    if (json_array_size(v) > SB_CSCHED_MAX_PERIODS)
        return fail(c, "%s: more than %d periods", path, SB_CSCHED_MAX_PERIODS);
    json_array_foreach(v, i, e) {
        snprintf(q, sizeof q, "[%zu]", i);
        subpath(p, sizeof p, path, q);
        if ((rc = get_period(c, e, p, &d->p[d->n])) != 0)
            return rc;
        d->n++;
    }
    return sort_day(c, d, path);
}

static int get_date(struct pc *c, json_t *v, const char *path, int64_t *day)
{
    const char *s = json_string_value(v);
    char q[48];

    if (!s)
        return fail(c, "%s: must be a date \"YYYY-MM-DD\"", path);
    if (!sb_local_date_ok(s, day)) {
        safe(s, q);
        return fail(c, "%s: %s is not a date", path, q);
    }
    return 0;
}

static int parse_setpoints(struct pc *c, json_t *v)
{
    static const char *const keys[] = { "unoccupied", "occupied", "standby", NULL };
    static const char *const bkeys[] = { "heating", "cooling", NULL };
    char p[64];
    int rc;

    if (!v)
        return 0;
    if (!json_is_object(v))
        return fail(c, "setpoints: must be an object");
    if ((rc = check_keys(c, v, "setpoints", keys)) != 0)
        return rc;
    for (int m = 0; m < SB_CMODE_COUNT; m++) {
        json_t *b = json_object_get(v, mode_names[m]);
        snprintf(p, sizeof p, "setpoints.%s", mode_names[m]);
        if (!b)
            continue;
        if (!json_is_object(b))
            return fail(c, "%s: must be an object {\"heating\", \"cooling\"}", p);
        if ((rc = check_keys(c, b, p, bkeys)) != 0 ||
            (rc = get_temps(c, b, p, &c->s->band[m])) != 0)
            return rc;
    }
    return 0;
}

static int parse_week(struct pc *c, json_t *v)
{
    unsigned seen = 0, mask;
    const char *key;
    json_t *e;
    char p[96], why[128], k[48];
    struct sb_cday d;
    int rc;

    if (!v)
        return 0;
    if (!json_is_object(v))
        return fail(c, "week: must be an object {\"mon-fri\": [periods], ...}");
    json_object_foreach(v, key, e) {
        safe(key, k);
        snprintf(p, sizeof p, "week.%s", k);
        if (sb_schedule_parse_days(key, &mask, why, sizeof why) != 0)
            return fail(c, "%s: %s", p, why);
        if (mask & seen)
            return fail(c, "%s: a day is given twice", p);
        seen |= mask;
        if ((rc = get_day(c, e, p, &d)) != 0)
            return rc;
        for (int i = 0; i < 7; i++)
            if (mask & (1u << i))
                c->s->week[i] = d;
    }
    return 0;
}

static int parse_holidays(struct pc *c, json_t *v)
{
    int64_t *days = NULL;
    char p[48];
    size_t i;
    json_t *e;
    int rc = 0;

    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, "holidays: must be an array of dates \"YYYY-MM-DD\"");
    if (json_array_size(v) > SB_CSCHED_MAX_HOL)
        return fail(c, "holidays: more than %d dates", SB_CSCHED_MAX_HOL);
    days = malloc((json_array_size(v) + 1) * sizeof *days);
    if (!days)
        return SB_ENOMEM;
    json_array_foreach(v, i, e) {
        snprintf(p, sizeof p, "holidays[%zu]", i);
        if ((rc = get_date(c, e, p, &days[i])) != 0)
            goto out;
    }
    rc = sb_csched_add_holidays(c->s, days, json_array_size(v));
out:
    free(days);
    return rc;
}

/* {"date": "2026-12-24", "periods": [...] | "closed"} */
static int parse_exception(struct pc *c, json_t *e, size_t i)
{
    static const char *const keys[] = { "date", "periods", NULL };
    char p[64], q[80];
    struct sb_cday d;
    int64_t day;
    int rc;

    snprintf(p, sizeof p, "exceptions[%zu]", i);
    if (!json_is_object(e))
        return fail(c, "%s: must be an object {\"date\", \"periods\"}", p);
    if ((rc = check_keys(c, e, p, keys)) != 0)
        return rc;
    snprintf(q, sizeof q, "%s.date", p);
    if ((rc = get_date(c, json_object_get(e, "date"), q, &day)) != 0)
        return rc;
    if (exc_find(c->s->exc, c->s->n_exc, day) >= 0)
        return fail(c, "%s: %s is given twice", q, json_string_value(json_object_get(e, "date")));
    snprintf(q, sizeof q, "%s.periods", p);
    if (!json_object_get(e, "periods"))
        return fail(c, "%s: missing (\"closed\" or an array of periods)", q);
    if ((rc = get_day(c, json_object_get(e, "periods"), q, &d)) != 0)
        return rc;
    return sb_csched_set_exception(c->s, day, &d);
}

static int parse_exceptions(struct pc *c, json_t *v)
{
    size_t i;
    json_t *e;
    int rc;

    if (!v)
        return 0;
    if (!json_is_array(v))
        return fail(c, "exceptions: must be an array");
    if (json_array_size(v) > SB_CSCHED_MAX_EXC)
        return fail(c, "exceptions: more than %d days", SB_CSCHED_MAX_EXC);
    json_array_foreach(v, i, e)
        if ((rc = parse_exception(c, e, i)) != 0)
            return rc;
    return 0;
}

static int parse_doc(struct pc *c, json_t *root)
{
    static const char *const keys[] = { "setpoints", "week", "holiday", "holidays",
                                        "exceptions", NULL };
    json_t *h;
    int rc;

    if (!json_is_object(root))
        return fail(c, "the schedule must be a JSON object");
    if ((rc = check_keys(c, root, "", keys)) != 0 ||
        (rc = parse_setpoints(c, json_object_get(root, "setpoints"))) != 0 ||
        (rc = parse_week(c, json_object_get(root, "week"))) != 0)
        return rc;
    h = json_object_get(root, "holiday");
    if (h && (rc = get_day(c, h, "holiday", &c->s->holiday)) != 0)
        return rc;
    if ((rc = parse_holidays(c, json_object_get(root, "holidays"))) != 0)
        return rc;
    return parse_exceptions(c, json_object_get(root, "exceptions"));
}

int sb_csched_parse(struct sb_csched *s, const char *json, size_t len, char *err, size_t errlen)
{
    struct pc c = { err, errlen, s };
    json_error_t je;
    json_t *root = NULL;
    int rc;

    sb_csched_release(s);
    if (len > SB_CSCHED_JSON_MAX) {
        rc = SB_ERANGE;
        sb_errf(err, errlen, "schedule: %zu bytes, more than %d", len, SB_CSCHED_JSON_MAX);
        goto out;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = fail(&c, "line %d column %d: %s", je.line, je.column, je.text);
        goto out;
    }
    rc = parse_doc(&c, root);
out:
    json_decref(root);
    if (rc)
        sb_csched_release(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* JSON out                                                                  */

static json_t *band_json(struct sb_band b)
{
    return json_pack("{s:f,s:f}", "heating", b.heating, "cooling", b.cooling);
}

static json_t *day_json(const struct sb_cday *d)
{
    json_t *a;
    char t[16];

    if (d->n == 0)
        return json_string("closed");
    a = json_array();
    for (int i = 0; a && i < d->n; i++) {
        const struct sb_cperiod *p = &d->p[i];
        snprintf(t, sizeof t, "%02u:%02u-%02u:%02u", p->start / 60u, p->start % 60u,
                 p->end / 60u, p->end % 60u);
        if (json_array_append_new(a, json_pack("{s:s,s:s,s:f,s:f}", "time", t, "mode",
                                               sb_cmode_name((enum sb_cmode)p->mode),
                                               "heating", p->band.heating, "cooling",
                                               p->band.cooling)) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

json_t *sb_csched_date_json(int64_t day)
{
    int64_t y;
    unsigned m, d;
    char b[32];

    sb_civil_from_days(day, &y, &m, &d);
    snprintf(b, sizeof b, "%04lld-%02u-%02u", (long long)y, m, d);
    return json_string(b);
}

static json_t *doc_json(const struct sb_csched *s)
{
    json_t *sp = json_object(), *wk = json_object(), *hol = json_array(), *ex = json_array();
    int bad = !sp || !wk || !hol || !ex;

    for (int m = 0; m < SB_CMODE_COUNT; m++)
        bad |= json_object_set_new(sp, mode_names[m], band_json(s->band[m])) != 0;
    for (int d = 0; d < 7; d++)
        bad |= json_object_set_new(wk, day_names[d], day_json(&s->week[d])) != 0;
    for (size_t i = 0; i < s->n_hol; i++)
        bad |= json_array_append_new(hol, sb_csched_date_json(s->hol[i])) != 0;
    for (size_t i = 0; i < s->n_exc; i++)
        bad |= json_array_append_new(ex, json_pack("{s:o,s:o}", "date", sb_csched_date_json(s->exc[i].day),
                                                   "periods", day_json(&s->exc[i].d))) != 0;
    if (bad) {
        json_decref(sp), json_decref(wk), json_decref(hol), json_decref(ex);
        return NULL;
    }
    return json_pack("{s:o,s:o,s:o,s:o,s:o}", "setpoints", sp, "week", wk, "holiday",
                     day_json(&s->holiday), "holidays", hol, "exceptions", ex);
}

int sb_csched_to_json(const struct sb_csched *s, char **out)
{
    json_t *doc = doc_json(s);
    int rc = SB_ENOMEM;

    *out = NULL;
    if (!doc)
        goto out;
    *out = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(1));
    if (*out)
        rc = 0;
out:
    json_decref(doc);
    return rc;
}

/*
 * tariff_parse.c - the tariff JSON document: parsing, strict validation
 * (every hour of every day kind of every season priced exactly once), the
 * derived lookup tables, and the canonical JSON form.  Contract: tariff.h;
 * the format in words: docs/internals/analytics-tariff.md.
 */
#include "analytics/tariff.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/tariff_int.h"
#include "core/err.h"
#include "core/tz.h"

#define NO_SLOT 0xff

/* Parse context: where errors go. */
struct pc {
    char  *err;        /* caller's message buffer (may be NULL) */
    size_t errlen;     /* its size */
};

static int fail(struct pc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct pc *c, const char *fmt, ...)
{
    va_list ap;
    char buf[256];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sb_errf(c->err, c->errlen, "%s", buf);
    return SB_EINVAL;
}

/* A string from outside, safe to quote in a message: printable ASCII, at
 * most 40 bytes, anything else '?'. */
static void safe(const char *s, char out[48])
{
    size_t i, n = strlen(s);

    for (i = 0; i < n && i < 40; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + i, n > 40 ? "..." : "");
}

/* ------------------------------------------------------------------------ */
/* small field readers                                                      */

/* Every key of obj must be in allowed (NULL-terminated). */
static int check_keys(struct pc *c, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        size_t i;
        char s[48];

        for (i = 0; allowed[i] && strcmp(allowed[i], key) != 0; i++)
            ;
        if (!allowed[i]) {
            safe(key, s);
            return fail(c, "%s%s%s: unknown field", path, *path ? "." : "", s);
        }
    }
    return 0;
}

static int want_object(struct pc *c, json_t *v, const char *path)
{
    return json_is_object(v) ? 0 : fail(c, "%s: must be an object", path);
}

/* x to 15 significant digits (DBL_DIG), the precision to_json writes:
 * any such decimal survives text -> double -> text, so the canonical form
 * parses back to the very same tariff.  More digits are noise in a price. */
static double round15(double x)
{
    char b[40];

    snprintf(b, sizeof b, "%.15g", x);
    return strtod(b, NULL);
}

/* A number in [lo, hi], kept to 15 significant digits. */
static int get_num(struct pc *c, json_t *v, const char *path, double lo, double hi, double *out)
{
    double x;

    if (!json_is_number(v))
        return fail(c, "%s: must be a number", path);
    x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return fail(c, "%s: %g out of %g..%g", path, x, lo, hi);
    *out = round15(x);
    return 0;
}

/* An integer in [lo, hi]. */
static int get_int(struct pc *c, json_t *v, const char *path, long lo, long hi, long *out)
{
    json_int_t x;

    if (!json_is_integer(v))
        return fail(c, "%s: must be an integer", path);
    x = json_integer_value(v);
    if (x < lo || x > hi)
        return fail(c, "%s: %" JSON_INTEGER_FORMAT " out of %ld..%ld", path, x, lo, hi);
    *out = (long)x;
    return 0;
}

/* Text of 1..cap-1 bytes (min_len 0 allows ""), no control characters. */
static int get_text(struct pc *c, json_t *v, const char *path, size_t min_len, char *out, size_t cap)
{
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return fail(c, "%s: must be a string", path);
    s = json_string_value(v);
    n = json_string_length(v);
    if (n < min_len || n >= cap)
        return fail(c, "%s: must be %zu..%zu bytes", path, min_len, cap - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return fail(c, "%s: control character at byte %zu", path, i);
    memcpy(out, s, n + 1);
    return 0;
}

/* A key: [a-z0-9][a-z0-9_.-]*, shorter than cap (the site document's slug
 * rule, model/slug.h, restated here so this module stays free of the model). */
static bool key_ok(const char *s, size_t n, size_t cap)
{
    if (n == 0 || n >= cap)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

        if (!alnum && (i == 0 || (ch != '_' && ch != '.' && ch != '-')))
            return false;
    }
    return true;
}

static int get_key(struct pc *c, json_t *v, const char *path, char *out, size_t cap)
{
    if (!json_is_string(v) || !key_ok(json_string_value(v), json_string_length(v), cap))
        return fail(c, "%s: must be a name of 1..%zu characters [a-z0-9_.-], starting with a"
                    " letter or digit", path, cap - 1);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* dates                                                                    */

static bool digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "MM-DD" (year 0: 29 Feb allowed) or "YYYY-MM-DD" (1900..2399).
 * Returns false if malformed or not a date. */
static bool parse_date(const char *s, size_t n, bool allow_year, int *y, int *m, int *d)
{
    const char *md = s;

    *y = 0;
    if (allow_year && n == 10 && digits(s, 4) && s[4] == '-') {
        *y = num2(s) * 100 + num2(s + 2);
        md = s + 5;
        n = 5;
        if (*y < 1900 || *y > 2399)
            return false;
    }
    if (n != 5 || !digits(md, 2) || md[2] != '-' || !digits(md + 3, 2))
        return false;
    *m = num2(md);
    *d = num2(md + 3);
    if (*m < 1 || *m > 12 || *d < 1)
        return false;
    return *d <= sb_tariff__month_days(*y ? *y : 2000, *m);   /* year 0: as a leap year */
}

/* Index of month m, day d in a leap year (0 = 1 Jan .. 365 = 31 Dec). */
static int leap_doy(int m, int d)
{
    int doy = d - 1;

    for (int i = 1; i < m; i++)
        doy += sb_tariff__month_days(2000, i);
    return doy;
}

static void doy_md(int doy, int *m, int *d)
{
    *m = 1;
    while (doy >= sb_tariff__month_days(2000, *m))
        doy -= sb_tariff__month_days(2000, (*m)++);
    *d = doy + 1;
}

/* ------------------------------------------------------------------------ */
/* seasons                                                                  */

static int season_date(struct pc *c, json_t *o, const char *path, const char *key, uint8_t *m,
                       uint8_t *d)
{
    json_t *v = json_object_get(o, key);
    int yy, mm, dd;

    if (!v)
        return fail(c, "%s.%s: required (\"MM-DD\")", path, key);
    if (!json_is_string(v) ||
        !parse_date(json_string_value(v), json_string_length(v), false, &yy, &mm, &dd))
        return fail(c, "%s.%s: must be a date \"MM-DD\"", path, key);
    *m = (uint8_t)mm;
    *d = (uint8_t)dd;
    return 0;
}

static int parse_season(struct pc *c, json_t *o, int i, struct sb_tariff *t)
{
    static const char *const keys[] = { "name", "from", "to", NULL };
    struct sb_tariff_season *s = &t->seasons[i];
    char path[32];
    int rc;

    snprintf(path, sizeof path, "seasons[%d]", i);
    if ((rc = want_object(c, o, path)) || (rc = check_keys(c, o, path, keys)))
        return rc;
    if (!json_object_get(o, "name"))
        return fail(c, "%s.name: required", path);
    {
        char p2[48];

        snprintf(p2, sizeof p2, "%s.name", path);
        if ((rc = get_key(c, json_object_get(o, "name"), p2, s->name, sizeof s->name)))
            return rc;
    }
    for (int j = 0; j < i; j++)
        if (strcmp(t->seasons[j].name, s->name) == 0)
            return fail(c, "%s.name: duplicate season \"%s\"", path, s->name);
    if ((rc = season_date(c, o, path, "from", &s->from_m, &s->from_d)) ||
        (rc = season_date(c, o, path, "to", &s->to_m, &s->to_d)))
        return rc;
    return 0;
}

/* Marks the days of season i in the leap-year calendar cal[366]. */
static int season_mark(struct pc *c, const struct sb_tariff *t, int i, uint8_t cal[366])
{
    const struct sb_tariff_season *s = &t->seasons[i];
    int a = leap_doy(s->from_m, s->from_d), b = leap_doy(s->to_m, s->to_d);
    int n = (b - a + 366) % 366 + 1;

    for (int k = 0; k < n; k++) {
        int doy = (a + k) % 366, m, d;

        if (cal[doy] != NO_SLOT) {
            doy_md(doy, &m, &d);
            return fail(c, "seasons overlap on %02d-%02d (%s and %s)", m, d,
                        t->seasons[cal[doy]].name, s->name);
        }
        cal[doy] = (uint8_t)i;
    }
    return 0;
}

/* Every day of the year in exactly one season.  29 Feb, when no season
 * names it, belongs to the season of 28 Feb (a "to": "02-28" means the
 * end of February in every year). */
static int season_table(struct pc *c, struct sb_tariff *t)
{
    uint8_t cal[366];
    int rc, feb28 = leap_doy(2, 28), feb29 = leap_doy(2, 29);

    memset(cal, NO_SLOT, sizeof cal);
    for (int i = 0; i < t->n_seasons; i++)
        if ((rc = season_mark(c, t, i, cal)))
            return rc;
    if (cal[feb29] == NO_SLOT)
        cal[feb29] = cal[feb28];
    for (int doy = 0; doy < 366; doy++) {
        int m, d;

        doy_md(doy, &m, &d);
        if (cal[doy] == NO_SLOT)
            return fail(c, "seasons: no season covers %02d-%02d", m, d);
        t->season_of[m - 1][d - 1] = cal[doy];
    }
    return 0;
}

static int parse_seasons(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "seasons"), *o;
    size_t i;
    int rc;

    if (!a) {
        strcpy(t->seasons[0].name, "all");
        t->seasons[0].from_m = t->seasons[0].from_d = 1;
        t->seasons[0].to_m = 12;
        t->seasons[0].to_d = 31;
        t->n_seasons = 1;
        return season_table(c, t);
    }
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > SB_TARIFF_MAX_SEASONS)
        return fail(c, "seasons: must be an array of 1..%d seasons", SB_TARIFF_MAX_SEASONS);
    t->seasons_given = true;
    json_array_foreach(a, i, o) {
        if ((rc = parse_season(c, o, (int)i, t)))
            return rc;
        t->n_seasons = (uint8_t)(i + 1);
    }
    return season_table(c, t);
}

/* ------------------------------------------------------------------------ */
/* holidays                                                                 */

static int parse_holidays(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "holidays"), *v;
    size_t i;

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > SB_TARIFF_MAX_HOLIDAYS)
        return fail(c, "holidays: must be an array of at most %d dates", SB_TARIFF_MAX_HOLIDAYS);
    json_array_foreach(a, i, v) {
        int y, m, d;
        char s[48];

        if (!json_is_string(v) ||
            !parse_date(json_string_value(v), json_string_length(v), true, &y, &m, &d)) {
            safe(json_is_string(v) ? json_string_value(v) : "?", s);
            return fail(c, "holidays[%zu]: \"%s\" is not a date \"YYYY-MM-DD\" (1900..2399) or"
                        " \"MM-DD\" (every year)", i, s);
        }
        for (size_t j = 0; j < i; j++)
            if (t->holidays[j].year == y && t->holidays[j].month == m && t->holidays[j].day == d)
                return fail(c, "holidays[%zu]: duplicate of holidays[%zu]", i, j);
        t->holidays[i].year = (int16_t)y;
        t->holidays[i].month = (uint8_t)m;
        t->holidays[i].day = (uint8_t)d;
        if (y == 0)
            t->annual_holiday[m - 1] |= 1u << (d - 1);
        t->n_holidays = (uint8_t)(i + 1);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* when: seasons, days, hours                                               */

static const struct { const char *name; uint8_t mask; } day_words[] = {
    { "mon", 0x01 }, { "tue", 0x02 }, { "wed", 0x04 }, { "thu", 0x08 }, { "fri", 0x10 },
    { "sat", 0x20 }, { "sun", 0x40 }, { "holiday", 0x80 }, { "weekday", 0x1f },
    { "weekend", 0x60 }, { "all", 0xff },
};

static int parse_days(struct pc *c, json_t *a, const char *path, uint8_t *mask)
{
    json_t *v;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) == 0)
        return fail(c, "%s.days: must be a non-empty array of day names", path);
    *mask = 0;
    json_array_foreach(a, i, v) {
        size_t k, nw = sizeof day_words / sizeof day_words[0];
        char s[48];

        for (k = 0; k < nw; k++)
            if (json_is_string(v) && strcmp(json_string_value(v), day_words[k].name) == 0)
                break;
        if (k == nw) {
            safe(json_is_string(v) ? json_string_value(v) : "?", s);
            return fail(c, "%s.days[%zu]: unknown day \"%s\" (weekday, weekend, holiday, all,"
                        " mon..sun)", path, i, s);
        }
        *mask |= day_words[k].mask;
    }
    return 0;
}

static int parse_rule_seasons(struct pc *c, json_t *a, const char *path,
                              const struct sb_tariff *t, uint8_t *mask)
{
    json_t *v;
    size_t i;

    if (!json_is_array(a) || json_array_size(a) == 0)
        return fail(c, "%s.seasons: must be a non-empty array of season names", path);
    *mask = 0;
    json_array_foreach(a, i, v) {
        int s;
        char q[48];

        for (s = 0; s < t->n_seasons; s++)
            if (json_is_string(v) && strcmp(json_string_value(v), t->seasons[s].name) == 0)
                break;
        if (s == t->n_seasons) {
            safe(json_is_string(v) ? json_string_value(v) : "?", q);
            return fail(c, "%s.seasons[%zu]: unknown season \"%s\"", path, i, q);
        }
        *mask |= (uint8_t)(1u << s);
    }
    return 0;
}

/* One range [start, end] of half-open local hours; end 0 means 24
 * (midnight); end < start wraps midnight.  ORs its hours into *mask. */
static int parse_range(struct pc *c, json_t *a, const char *path, uint32_t *mask)
{
    json_t *a0 = json_array_get(a, 0), *a1 = json_array_get(a, 1);
    json_int_t h0, h1;

    if (!json_is_array(a) || json_array_size(a) != 2 || !json_is_integer(a0) ||
        !json_is_integer(a1))
        return fail(c, "%s: must be [start, end], two whole local hours", path);
    h0 = json_integer_value(a0);
    h1 = json_integer_value(a1);
    if (h0 < 0 || h0 > 23)
        return fail(c, "%s: start %" JSON_INTEGER_FORMAT " out of 0..23", path, h0);
    if (h1 < 0 || h1 > 24)
        return fail(c, "%s: end %" JSON_INTEGER_FORMAT " out of 0..24", path, h1);
    if (h1 == 0)
        h1 = 24;
    if (h0 == h1)
        return fail(c, "%s: empty range %" JSON_INTEGER_FORMAT "..%" JSON_INTEGER_FORMAT
                    " (use [0, 24] for the whole day)", path, h0, h1);
    for (json_int_t h = h0; h != h1; h = (h + 1) % 24) {
        *mask |= 1u << h;
        if (h1 == 24 && h == 23)
            break;
    }
    return 0;
}

/* "hours": one range [start, end] or a list of them. */
static int parse_hours(struct pc *c, json_t *a, const char *path, uint32_t *mask)
{
    char p2[64];
    json_t *v;
    size_t i;
    int rc;

    *mask = 0;
    snprintf(p2, sizeof p2, "%s.hours", path);
    if (!json_is_array(a) || !json_is_array(json_array_get(a, 0)))
        return parse_range(c, a, p2, mask);
    if (json_array_size(a) > 24)
        return fail(c, "%s: at most 24 ranges", p2);
    json_array_foreach(a, i, v) {
        snprintf(p2, sizeof p2, "%s.hours[%zu]", path, i);
        if ((rc = parse_range(c, v, p2, mask)))
            return rc;
    }
    return 0;
}

/* The optional seasons / days / hours of a rule; absent = all. */
static int parse_when(struct pc *c, json_t *o, const char *path, const struct sb_tariff *t,
                      struct sb_tariff_when *w, bool *given)
{
    json_t *v;
    int rc;

    w->seasons = (uint8_t)((1u << t->n_seasons) - 1);
    w->days = 0xff;
    w->hours = SB_TARIFF__ALL_HOURS;
    *given = false;
    if ((v = json_object_get(o, "seasons"))) {
        *given = true;
        if ((rc = parse_rule_seasons(c, v, path, t, &w->seasons)))
            return rc;
    }
    if ((v = json_object_get(o, "days"))) {
        *given = true;
        if ((rc = parse_days(c, v, path, &w->days)))
            return rc;
    }
    if ((v = json_object_get(o, "hours"))) {
        *given = true;
        if ((rc = parse_hours(c, v, path, &w->hours)))
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* energy                                                                   */

static int period_index(struct pc *c, struct sb_tariff *t, const char *name, const char *path)
{
    for (int p = 0; p < t->n_periods; p++)
        if (strcmp(t->periods[p], name) == 0)
            return p;
    if (t->n_periods == SB_TARIFF_MAX_PERIODS)
        return fail(c, "%s.period: more than %d TOU periods", path, SB_TARIFF_MAX_PERIODS);
    strcpy(t->periods[t->n_periods], name);
    return t->n_periods++;
}

static int parse_energy_rule(struct pc *c, json_t *o, int i, struct sb_tariff *t)
{
    static const char *const keys[] = { "period", "price_per_kwh", "export_price_per_kwh",
                                        "seasons", "days", "hours", NULL };
    struct sb_tariff_energy *e = &t->energy[i];
    char path[32], p2[64], name[SB_TARIFF_KEY_MAX];
    json_t *v;
    bool given;
    int rc, p;

    snprintf(path, sizeof path, "energy[%d]", i);
    if ((rc = want_object(c, o, path)) || (rc = check_keys(c, o, path, keys)))
        return rc;
    snprintf(p2, sizeof p2, "%s.period", path);
    if (!(v = json_object_get(o, "period")))
        return fail(c, "%s: required", p2);
    if ((rc = get_key(c, v, p2, name, sizeof name)))
        return rc;
    if ((p = period_index(c, t, name, path)) < 0)
        return p;
    e->period = (uint8_t)p;
    snprintf(p2, sizeof p2, "%s.price_per_kwh", path);
    if (!(v = json_object_get(o, "price_per_kwh")))
        return fail(c, "%s: required", p2);
    if ((rc = get_num(c, v, p2, -SB_TARIFF__PRICE_MAX, SB_TARIFF__PRICE_MAX, &e->price)))
        return rc;
    if ((v = json_object_get(o, "export_price_per_kwh"))) {
        snprintf(p2, sizeof p2, "%s.export_price_per_kwh", path);
        if ((rc = get_num(c, v, p2, -SB_TARIFF__PRICE_MAX, SB_TARIFF__PRICE_MAX,
                          &e->export_price)))
            return rc;
    }
    return parse_when(c, o, path, t, &e->when, &given);
}

static const char *const kind_names[SB_TARIFF_DAY_KINDS] = {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "holidays",
};

static void where(const struct sb_tariff *t, int s, int k, int h, char *buf, size_t len)
{
    snprintf(buf, len, "%s %02d:00%s%s", kind_names[k], h, t->seasons_given ? " in " : "",
             t->seasons_given ? t->seasons[s].name : "");
}

/* Fills t->slot and checks that each (season, day kind, hour) has exactly
 * one energy rule. */
static int energy_table(struct pc *c, struct sb_tariff *t)
{
    char w[96];

    memset(t->slot, NO_SLOT, sizeof t->slot);
    for (int r = 0; r < t->n_energy; r++)
        for (int s = 0; s < t->n_seasons; s++)
            for (int k = 0; k < SB_TARIFF_DAY_KINDS; k++)
                for (int h = 0; h < 24; h++) {
                    if (!sb_tariff__when_has(&t->energy[r].when, s, k, h))
                        continue;
                    if (t->slot[s][k][h] != NO_SLOT) {
                        where(t, s, k, h, w, sizeof w);
                        return fail(c, "energy[%d]: overlaps energy[%d] on %s", r,
                                    t->slot[s][k][h], w);
                    }
                    t->slot[s][k][h] = (uint8_t)r;
                }
    for (int s = 0; s < t->n_seasons; s++)
        for (int k = 0; k < SB_TARIFF_DAY_KINDS; k++)
            for (int h = 0; h < 24; h++)
                if (t->slot[s][k][h] == NO_SLOT) {
                    where(t, s, k, h, w, sizeof w);
                    return fail(c, "energy: no energy price covers %s", w);
                }
    return 0;
}

static int parse_energy(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "energy"), *o;
    size_t i;
    int rc;

    if (!a)
        return fail(c, "energy: required (an array of energy prices)");
    if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > SB_TARIFF_MAX_ENERGY)
        return fail(c, "energy: must be an array of 1..%d energy prices", SB_TARIFF_MAX_ENERGY);
    json_array_foreach(a, i, o) {
        if ((rc = parse_energy_rule(c, o, (int)i, t)))
            return rc;
        t->n_energy = (uint8_t)(i + 1);
    }
    return energy_table(c, t);
}

/* ------------------------------------------------------------------------ */
/* export, tiers, demand, fixed                                             */

static int parse_export(struct pc *c, json_t *root, struct sb_tariff *t)
{
    static const char *const keys[] = { "mode", "price_per_kwh", NULL };
    json_t *o = json_object_get(root, "export"), *m, *p;
    const char *ms;
    int rc;

    if (o && ((rc = want_object(c, o, "export")) || (rc = check_keys(c, o, "export", keys))))
        return rc;
    m = o ? json_object_get(o, "mode") : NULL;
    p = o ? json_object_get(o, "price_per_kwh") : NULL;
    ms = m && json_is_string(m) ? json_string_value(m) : m ? "?" : "none";
    if (strcmp(ms, "none") == 0)
        t->export_mode = SB_TARIFF_EXPORT_NONE;
    else if (strcmp(ms, "flat") == 0)
        t->export_mode = SB_TARIFF_EXPORT_FLAT;
    else if (strcmp(ms, "tou") == 0)
        t->export_mode = SB_TARIFF_EXPORT_TOU;
    else
        return fail(c, "export.mode: must be none, flat or tou");
    if (t->export_mode == SB_TARIFF_EXPORT_FLAT && !p)
        return fail(c, "export.price_per_kwh: required when export.mode is flat");
    if (t->export_mode != SB_TARIFF_EXPORT_FLAT && p)
        return fail(c, "export.price_per_kwh: only with export.mode flat (tou: each energy"
                    " price's export_price_per_kwh)");
    if (p && (rc = get_num(c, p, "export.price_per_kwh", -SB_TARIFF__PRICE_MAX,
                           SB_TARIFF__PRICE_MAX, &t->export_price)))
        return rc;
    return 0;
}

/* export_price_per_kwh on every energy rule in TOU mode, on none otherwise. */
static int check_export_rules(struct pc *c, json_t *root, const struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "energy");

    for (int i = 0; i < t->n_energy; i++) {
        bool has = json_object_get(json_array_get(a, (size_t)i), "export_price_per_kwh") != NULL;

        if (t->export_mode == SB_TARIFF_EXPORT_TOU && !has)
            return fail(c, "energy[%d].export_price_per_kwh: required when export.mode is tou", i);
        if (t->export_mode != SB_TARIFF_EXPORT_TOU && has)
            return fail(c, "energy[%d].export_price_per_kwh: only with export.mode tou", i);
    }
    return 0;
}

static int parse_tier(struct pc *c, json_t *o, int i, int n, struct sb_tariff *t)
{
    static const char *const keys[] = { "up_to_kwh", "price_per_kwh", NULL };
    struct sb_tariff_tier *tr = &t->tiers[i];
    char path[32], p2[64];
    json_t *v;
    int rc;

    snprintf(path, sizeof path, "tiers[%d]", i);
    if ((rc = want_object(c, o, path)) || (rc = check_keys(c, o, path, keys)))
        return rc;
    snprintf(p2, sizeof p2, "%s.price_per_kwh", path);
    if (!(v = json_object_get(o, "price_per_kwh")))
        return fail(c, "%s: required", p2);
    if ((rc = get_num(c, v, p2, -SB_TARIFF__PRICE_MAX, SB_TARIFF__PRICE_MAX, &tr->price)))
        return rc;
    snprintf(p2, sizeof p2, "%s.up_to_kwh", path);
    v = json_object_get(o, "up_to_kwh");
    if (i == n - 1) {
        tr->up_to = INFINITY;
        return v ? fail(c, "%s: the last tier has no upper bound", p2) : 0;
    }
    if (!v)
        return fail(c, "%s: required (all tiers but the last)", p2);
    if ((rc = get_num(c, v, p2, 0, 1e12, &tr->up_to)))
        return rc;
    if (tr->up_to <= (i ? t->tiers[i - 1].up_to : 0))
        return fail(c, "%s: must be greater than %s", p2, i ? "the previous tier's" : "0");
    return 0;
}

static int parse_tiers(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "tiers"), *o;
    size_t i, n;
    int rc;

    if (!a)
        return 0;
    n = json_is_array(a) ? json_array_size(a) : 0;
    if (n < 2 || n > SB_TARIFF_MAX_TIERS)
        return fail(c, "tiers: must be an array of 2..%d tiers", SB_TARIFF_MAX_TIERS);
    json_array_foreach(a, i, o) {
        if ((rc = parse_tier(c, o, (int)i, (int)n, t)))
            return rc;
    }
    t->n_tiers = (uint8_t)n;
    return 0;
}

static int parse_demand_one(struct pc *c, json_t *o, int i, struct sb_tariff *t)
{
    static const char *const keys[] = { "name", "price_per_kw", "seasons", "days", "hours",
                                        NULL };
    struct sb_tariff_demand *dm = &t->demand[i];
    char path[32], p2[64];
    json_t *v;
    int rc;

    snprintf(path, sizeof path, "demand[%d]", i);
    if ((rc = want_object(c, o, path)) || (rc = check_keys(c, o, path, keys)))
        return rc;
    snprintf(p2, sizeof p2, "%s.name", path);
    if (!(v = json_object_get(o, "name")))
        return fail(c, "%s: required", p2);
    if ((rc = get_key(c, v, p2, dm->name, sizeof dm->name)))
        return rc;
    for (int j = 0; j < i; j++)
        if (strcmp(t->demand[j].name, dm->name) == 0)
            return fail(c, "%s: duplicate demand charge \"%s\"", p2, dm->name);
    snprintf(p2, sizeof p2, "%s.price_per_kw", path);
    if (!(v = json_object_get(o, "price_per_kw")))
        return fail(c, "%s: required", p2);
    if ((rc = get_num(c, v, p2, 0, SB_TARIFF__DEMAND_MAX, &dm->price)))
        return rc;
    return parse_when(c, o, path, t, &dm->when, &dm->windowed);
}

static int parse_demand(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "demand"), *o;
    size_t i;
    int rc;

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > SB_TARIFF_MAX_DEMAND)
        return fail(c, "demand: must be an array of at most %d demand charges",
                    SB_TARIFF_MAX_DEMAND);
    json_array_foreach(a, i, o) {
        if ((rc = parse_demand_one(c, o, (int)i, t)))
            return rc;
        t->n_demand = (uint8_t)(i + 1);
    }
    return 0;
}

static int parse_fixed_one(struct pc *c, json_t *o, int i, struct sb_tariff *t)
{
    static const char *const keys[] = { "name", "per_day", "per_period", NULL };
    struct sb_tariff_fixed *f = &t->fixed[i];
    json_t *pd, *pp, *v;
    char path[32], p2[64];
    int rc;

    snprintf(path, sizeof path, "fixed[%d]", i);
    if ((rc = want_object(c, o, path)) || (rc = check_keys(c, o, path, keys)))
        return rc;
    snprintf(p2, sizeof p2, "%s.name", path);
    if (!(v = json_object_get(o, "name")))
        return fail(c, "%s: required", p2);
    if ((rc = get_key(c, v, p2, f->name, sizeof f->name)))
        return rc;
    for (int j = 0; j < i; j++)
        if (strcmp(t->fixed[j].name, f->name) == 0)
            return fail(c, "%s: duplicate fixed charge \"%s\"", p2, f->name);
    pd = json_object_get(o, "per_day");
    pp = json_object_get(o, "per_period");
    if (!pd == !pp)
        return fail(c, "%s: needs exactly one of per_day, per_period", path);
    f->per_day = pd != NULL;
    snprintf(p2, sizeof p2, "%s.%s", path, pd ? "per_day" : "per_period");
    return get_num(c, pd ? pd : pp, p2, 0, SB_TARIFF__FIXED_MAX, &f->price);
}

static int parse_fixed(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *a = json_object_get(root, "fixed"), *o;
    size_t i;
    int rc;

    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > SB_TARIFF_MAX_FIXED)
        return fail(c, "fixed: must be an array of at most %d fixed charges", SB_TARIFF_MAX_FIXED);
    json_array_foreach(a, i, o) {
        if ((rc = parse_fixed_one(c, o, (int)i, t)))
            return rc;
        t->n_fixed = (uint8_t)(i + 1);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the document                                                             */

static int parse_head(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *v;
    long x;
    int rc;

    if (!(v = json_object_get(root, "id")) || !json_is_string(v) ||
        !key_ok(json_string_value(v), json_string_length(v), sizeof t->id))
        return fail(c, "id: required, a slug of 1..63 characters [a-z0-9_.-]");
    strcpy(t->id, json_string_value(v));
    if (!(v = json_object_get(root, "name")))
        return fail(c, "name: required");
    if ((rc = get_text(c, v, "name", 1, t->name, sizeof t->name)))
        return rc;
    if ((v = json_object_get(root, "description")) &&
        (rc = get_text(c, v, "description", 0, t->description, sizeof t->description)))
        return rc;
    v = json_object_get(root, "currency");
    if (!v || !json_is_string(v) || json_string_length(v) != 3 ||
        strspn(json_string_value(v), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
        return fail(c, "currency: required, an ISO 4217 code of three capital letters (USD)");
    strcpy(t->currency, json_string_value(v));
    t->cycle_day = 1;
    if ((v = json_object_get(root, "billing_cycle_day"))) {
        if ((rc = get_int(c, v, "billing_cycle_day", 1, 28, &x)))
            return rc;
        t->cycle_day = (uint8_t)x;
    }
    if ((v = json_object_get(root, "tax_pct")) &&
        (rc = get_num(c, v, "tax_pct", 0, 100, &t->tax_pct)))
        return rc;
    return 0;
}

static int parse_demand_head(struct pc *c, json_t *root, struct sb_tariff *t)
{
    json_t *v;
    long x;
    int rc;

    t->demand_min = 15;
    if ((v = json_object_get(root, "demand_interval_min"))) {
        if ((rc = get_int(c, v, "demand_interval_min", 15, 60, &x)))
            return rc;
        if (x != 15 && x != 30 && x != 60)
            return fail(c, "demand_interval_min: must be 15, 30 or 60");
        t->demand_min = (uint8_t)x;
    }
    t->demand_method = SB_TARIFF_DEMAND_BLOCK;
    if ((v = json_object_get(root, "demand_method"))) {
        const char *s = json_is_string(v) ? json_string_value(v) : "";

        if (strcmp(s, "rolling") == 0)
            t->demand_method = SB_TARIFF_DEMAND_ROLLING;
        else if (strcmp(s, "block") != 0)
            return fail(c, "demand_method: must be block or rolling");
    }
    return 0;
}

static int parse_root(struct pc *c, json_t *root, struct sb_tariff *t)
{
    static const char *const keys[] = {
        "id", "name", "description", "currency", "billing_cycle_day", "demand_interval_min",
        "demand_method", "seasons", "holidays", "energy", "tiers", "demand", "fixed", "export",
        "tax_pct", NULL,
    };
    int rc;

    if (!json_is_object(root))
        return fail(c, "tariff: must be a JSON object");
    if ((rc = check_keys(c, root, "", keys)) || (rc = parse_head(c, root, t)) ||
        (rc = parse_demand_head(c, root, t)) || (rc = parse_seasons(c, root, t)) ||
        (rc = parse_holidays(c, root, t)) || (rc = parse_energy(c, root, t)) ||
        (rc = parse_export(c, root, t)) || (rc = check_export_rules(c, root, t)) ||
        (rc = parse_tiers(c, root, t)) || (rc = parse_demand(c, root, t)) ||
        (rc = parse_fixed(c, root, t)))
        return rc;
    return 0;
}

int sb_tariff_parse(const char *json, size_t len, struct sb_tariff *out, char *err, size_t errlen)
{
    struct pc c = { err, errlen };
    json_error_t je;
    json_t *root = NULL;
    int rc;

    if (!out)
        return SB_EINVAL;
    memset(out, 0, sizeof *out);
    if (!json || len > SB_TARIFF_JSON_MAX) {
        rc = fail(&c, "tariff: %s", json ? "document longer than 65536 bytes" : "no document");
        goto out;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        rc = json_error_code(&je) == json_error_out_of_memory ? SB_ENOMEM : SB_EINVAL;
        sb_errf(err, errlen, "tariff: invalid JSON at line %d column %d: %s", je.line, je.column,
                je.text);
        goto out;
    }
    rc = parse_root(&c, root, out);
out:
    json_decref(root);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* canonical JSON                                                           */

/* json_object_set_new that remembers a failure (ENOMEM) in *ok. */
static void put(json_t *o, const char *k, json_t *v, bool *ok)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        *ok = false;
}

static void push(json_t *a, json_t *v, bool *ok)
{
    if (!v || json_array_append_new(a, v) != 0)
        *ok = false;
}

static json_t *days_json(uint8_t m, bool *ok)
{
    static const char *const dn[7] = { "mon", "tue", "wed", "thu", "fri", "sat", "sun" };
    json_t *a = json_array();

    if ((m & 0x1f) == 0x1f)
        push(a, json_string("weekday"), ok);
    else
        for (int k = 0; k < 5; k++)
            if (m & (1u << k))
                push(a, json_string(dn[k]), ok);
    if ((m & 0x60) == 0x60)
        push(a, json_string("weekend"), ok);
    else
        for (int k = 5; k < 7; k++)
            if (m & (1u << k))
                push(a, json_string(dn[k]), ok);
    if (m & 0x80)
        push(a, json_string("holiday"), ok);
    return a;
}

/* The hours of mask as ranges [start, end], end < start wrapping midnight:
 * one pair for a single range, else a list ordered by start. */
static json_t *hours_json(uint32_t mask, bool *ok)
{
    json_t *a = json_array();
    int n = 0;

    for (int h = 0; h < 24; h++) {
        int e;

        if (!(mask >> h & 1u) || (mask >> ((h + 23) % 24) & 1u))
            continue;          /* not the start of a run */
        for (e = h; mask >> (e % 24) & 1u; e++)
            ;
        push(a, json_pack("[ii]", h, e > 24 ? e - 24 : e), ok);
        n++;
    }
    if (n == 1) {
        json_t *one = json_incref(json_array_get(a, 0));

        json_decref(a);
        return one;
    }
    return a;
}

/* Writes the seasons / days / hours that differ from "all". */
static void when_json(const struct sb_tariff *t, const struct sb_tariff_when *w, json_t *o,
                      bool *ok)
{
    if (w->seasons != (uint8_t)((1u << t->n_seasons) - 1)) {
        json_t *a = json_array();

        for (int s = 0; s < t->n_seasons; s++)
            if (w->seasons & (1u << s))
                push(a, json_string(t->seasons[s].name), ok);
        put(o, "seasons", a, ok);
    }
    if (w->days != 0xff)
        put(o, "days", days_json(w->days, ok), ok);
    if (w->hours != SB_TARIFF__ALL_HOURS)
        put(o, "hours", hours_json(w->hours, ok), ok);
}

static json_t *mmdd(int m, int d)
{
    char s[8];

    snprintf(s, sizeof s, "%02d-%02d", m % 100, d % 100);
    return json_string(s);
}

static void seasons_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a;

    if (!t->seasons_given)
        return;
    a = json_array();
    for (int s = 0; s < t->n_seasons; s++) {
        const struct sb_tariff_season *se = &t->seasons[s];
        json_t *o = json_object();

        put(o, "name", json_string(se->name), ok);
        put(o, "from", mmdd(se->from_m, se->from_d), ok);
        put(o, "to", mmdd(se->to_m, se->to_d), ok);
        push(a, o, ok);
    }
    put(root, "seasons", a, ok);
}

static void holidays_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a;

    if (!t->n_holidays)
        return;
    a = json_array();
    for (int i = 0; i < t->n_holidays; i++) {
        char s[16];

        if (t->holidays[i].year)
            snprintf(s, sizeof s, "%04d-%02d-%02d", t->holidays[i].year % 10000,
                     t->holidays[i].month % 100, t->holidays[i].day % 100);
        else
            snprintf(s, sizeof s, "%02d-%02d", t->holidays[i].month % 100,
                     t->holidays[i].day % 100);
        push(a, json_string(s), ok);
    }
    put(root, "holidays", a, ok);
}

static void energy_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a = json_array();

    for (int i = 0; i < t->n_energy; i++) {
        const struct sb_tariff_energy *e = &t->energy[i];
        json_t *o = json_object();

        put(o, "period", json_string(t->periods[e->period]), ok);
        put(o, "price_per_kwh", json_real(e->price), ok);
        if (t->export_mode == SB_TARIFF_EXPORT_TOU)
            put(o, "export_price_per_kwh", json_real(e->export_price), ok);
        when_json(t, &e->when, o, ok);
        push(a, o, ok);
    }
    put(root, "energy", a, ok);
}

static void tiers_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a;

    if (!t->n_tiers)
        return;
    a = json_array();
    for (int i = 0; i < t->n_tiers; i++) {
        json_t *o = json_object();

        if (i < t->n_tiers - 1)
            put(o, "up_to_kwh", json_real(t->tiers[i].up_to), ok);
        put(o, "price_per_kwh", json_real(t->tiers[i].price), ok);
        push(a, o, ok);
    }
    put(root, "tiers", a, ok);
}

static void demand_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a = json_array();

    for (int i = 0; i < t->n_demand; i++) {
        json_t *o = json_object();

        put(o, "name", json_string(t->demand[i].name), ok);
        put(o, "price_per_kw", json_real(t->demand[i].price), ok);
        when_json(t, &t->demand[i].when, o, ok);
        push(a, o, ok);
    }
    put(root, "demand", a, ok);
}

static void fixed_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    json_t *a = json_array();

    for (int i = 0; i < t->n_fixed; i++) {
        json_t *o = json_object();

        put(o, "name", json_string(t->fixed[i].name), ok);
        put(o, t->fixed[i].per_day ? "per_day" : "per_period", json_real(t->fixed[i].price), ok);
        push(a, o, ok);
    }
    put(root, "fixed", a, ok);
}

static void export_json(const struct sb_tariff *t, json_t *root, bool *ok)
{
    static const char *const modes[] = { "none", "flat", "tou" };
    json_t *o = json_object();

    put(o, "mode", json_string(modes[t->export_mode]), ok);
    if (t->export_mode == SB_TARIFF_EXPORT_FLAT)
        put(o, "price_per_kwh", json_real(t->export_price), ok);
    put(root, "export", o, ok);
}

char *sb_tariff_to_json(const struct sb_tariff *t)
{
    json_t *root = json_object();
    bool ok = root != NULL;
    char *s = NULL;

    if (!ok)
        return NULL;
    put(root, "id", json_string(t->id), &ok);
    put(root, "name", json_string(t->name), &ok);
    if (t->description[0])
        put(root, "description", json_string(t->description), &ok);
    put(root, "currency", json_string(t->currency), &ok);
    put(root, "billing_cycle_day", json_integer(t->cycle_day), &ok);
    put(root, "demand_interval_min", json_integer(t->demand_min), &ok);
    put(root, "demand_method",
        json_string(t->demand_method == SB_TARIFF_DEMAND_ROLLING ? "rolling" : "block"), &ok);
    seasons_json(t, root, &ok);
    holidays_json(t, root, &ok);
    energy_json(t, root, &ok);
    tiers_json(t, root, &ok);
    demand_json(t, root, &ok);
    fixed_json(t, root, &ok);
    export_json(t, root, &ok);
    put(root, "tax_pct", json_real(t->tax_pct), &ok);
    if (ok)
        s = json_dumps(root, JSON_PRESERVE_ORDER | JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(root);
    return s;
}

/* ------------------------------------------------------------------------ */
/* a bill as JSON                                                           */

/* "2025-07-01T07:00:00Z" */
static json_t *iso(int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400), s = t - days * 86400, y;
    unsigned m, d;
    char buf[40];

    sb_civil_from_days(days, &y, &m, &d);
    snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    return json_string(buf);
}

static const char *const line_kinds[] = {
    [SB_TL_ENERGY] = "energy", [SB_TL_TIER] = "tier", [SB_TL_DEMAND] = "demand",
    [SB_TL_FIXED] = "fixed", [SB_TL_EXPORT] = "export", [SB_TL_TAX] = "tax",
};

static const char *const line_units[] = {
    [SB_TL_ENERGY] = "kWh", [SB_TL_TIER] = "kWh", [SB_TL_DEMAND] = "kW",
    [SB_TL_FIXED] = "", [SB_TL_EXPORT] = "kWh", [SB_TL_TAX] = "",
};

/* A double, or null when not finite (JSON has no NaN). */
static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *line_json(const struct sb_tariff *t, const struct sb_tariff_line *l, bool *ok)
{
    json_t *o = json_object();
    int k = l->kind >= SB_TL_ENERGY && l->kind <= SB_TL_TAX ? l->kind : 0;
    char label[96];

    sb_tariff_line_label(t, l, label, sizeof label);
    put(o, "kind", json_string(k ? line_kinds[k] : "?"), ok);
    put(o, "label", json_string(label), ok);
    put(o, "qty", num(l->qty), ok);
    put(o, "unit", json_string(k == SB_TL_FIXED
                               ? (l->index >= 0 && l->index < t->n_fixed &&
                                  t->fixed[l->index].per_day ? "day" : "period")
                               : k == SB_TL_TAX ? t->currency : k ? line_units[k] : ""), ok);
    put(o, "price", num(l->price), ok);
    put(o, "cost", num(l->cost), ok);
    if (k == SB_TL_DEMAND) {
        put(o, "peak_at", l->peak_s ? iso(l->peak_at) : json_null(), ok);
        put(o, "peak_s", json_integer(l->peak_s), ok);
        put(o, "no_data", json_boolean(l->no_data), ok);
        put(o, "from_forecast", json_boolean(l->from_forecast), ok);
    }
    return o;
}

static void bill_notes(const struct sb_tariff_bill *b, json_t *o, bool *ok)
{
    static const char *const names[] = { "missing", "partial", "coarse", "no_credit",
                                         "demand_gap", "estimate", "short", "sub_missing" };
    json_t *a = json_array();

    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (b->notes & (1u << i))
            push(a, json_string(names[i]), ok);
    put(o, "notes", a, ok);
    put(o, "note", json_string(b->note), ok);
}

char *sb_tariff_bill_to_json(const struct sb_tariff *t, const struct sb_tariff_bill *b)
{
    json_t *o = json_object(), *lines;
    bool ok = o != NULL;
    char *s = NULL;

    if (!ok)
        return NULL;
    put(o, "tariff", json_string(t->id), &ok);
    put(o, "currency", json_string(t->currency), &ok);
    put(o, "start", iso(b->start), &ok);
    put(o, "end", iso(b->end), &ok);
    put(o, "from", iso(b->from), &ok);
    put(o, "to", iso(b->to), &ok);
    put(o, "coverage", num(b->coverage), &ok);
    put(o, "estimate", json_boolean(b->estimate), &ok);
    put(o, "allocated", json_boolean(b->allocated), &ok);
    put(o, "import_kwh", num(b->import_kwh), &ok);
    put(o, "export_kwh", num(b->export_kwh), &ok);
    put(o, "forecast_kwh", num(b->forecast_kwh), &ok);
    put(o, "peak_kw", num(b->peak_kw), &ok);
    put(o, "peak_at", isfinite(b->peak_kw) ? iso(b->peak_at) : json_null(), &ok);
    put(o, "intervals", json_integer(b->n_intervals), &ok);
    put(o, "missing", json_integer(b->n_missing), &ok);
    put(o, "first_missing", b->n_missing ? iso(b->first_missing) : json_null(), &ok);
    lines = json_array();
    for (uint32_t i = 0; i < b->n_lines && i < SB_TARIFF_MAX_LINES; i++)
        push(lines, line_json(t, &b->lines[i], &ok), &ok);
    put(o, "lines", lines, &ok);
    put(o, "subtotal", num(b->subtotal), &ok);
    put(o, "tax", num(b->tax), &ok);
    put(o, "total", num(b->total), &ok);
    bill_notes(b, o, &ok);
    if (ok)
        s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(2) | JSON_REAL_PRECISION(15));
    json_decref(o);
    return s;
}

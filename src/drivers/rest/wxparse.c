/* wxparse.c - Open-Meteo forecast responses (see wxparse.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/err.h"
#include "core/tz.h"
#include "drivers/rest/wxparse.h"

#define HOUR_MS 3600000LL

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int sb_wx_parse_local(const char *s, int64_t *ms)
{
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, mo, d, h, mi, sec = 0;
    size_t n = s ? strlen(s) : 0;

    if ((n != 16 && n != 19) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
        digits(s + 11, 2, &h) || digits(s + 14, 2, &mi))
        return SB_EINVAL;
    if (n == 19 && (s[16] != ':' || digits(s + 17, 2, &sec)))
        return SB_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59)
        return SB_EINVAL;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return SB_EINVAL;
    *ms = ((sb_days_from_civil(y, (unsigned)mo, (unsigned)d) * 24 + h) * 60 + mi) * 60000LL +
          sec * 1000LL;
    return 0;
}

/* A time value of the response as UTC ms. */
static int time_of(const json_t *v, int64_t offset_s, int64_t *ms)
{
    if (json_is_integer(v)) {
        json_int_t t = json_integer_value(v);
        if (t < 0 || t > 100000000000LL)
            return SB_EPROTO;
        *ms = (int64_t)t * 1000;
        return 0;
    }
    if (!json_is_string(v) || sb_wx_parse_local(json_string_value(v), ms) != 0)
        return SB_EPROTO;
    *ms -= offset_s * 1000;
    return 0;
}

static int name_ok(const char *k)
{
    size_t n = strlen(k);
    return n > 0 && n < SB_WX_NAME_MAX;
}

static void set_unit(struct sb_wx_var *v, const json_t *units)
{
    const char *u = json_string_value(json_object_get(units, v->name));
    snprintf(v->unit, sizeof(v->unit), "%s", u ? u : "");
}

static int parse_current(const json_t *doc, int64_t off, struct sb_wx *w, char *err,
                         size_t errlen)
{
    const json_t *cur = json_object_get(doc, "current"), *units;
    const char *k;
    json_t *v;

    if (!cur)
        return 0;
    if (!json_is_object(cur) || time_of(json_object_get(cur, "time"), off, &w->current_t)) {
        sb_errf(err, errlen, "current: not an object with a valid \"time\"");
        return SB_EPROTO;
    }
    units = json_object_get(doc, "current_units");
    if (!(w->cur = calloc(SB_WX_VARS_MAX, sizeof(*w->cur))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)cur, k, v) {
        struct sb_wx_var *x;
        if (strcmp(k, "time") == 0 || strcmp(k, "interval") == 0 || !name_ok(k) ||
            !(json_is_number(v) || json_is_null(v)))
            continue;
        if (w->ncur == SB_WX_VARS_MAX)
            break;
        x = &w->cur[w->ncur++];
        snprintf(x->name, sizeof(x->name), "%s", k);
        x->v = json_is_null(v) ? NAN : json_number_value(v);
        set_unit(x, units);
    }
    return 0;
}

static int parse_times(const json_t *arr, int64_t off, struct sb_wx *w, char *err, size_t errlen)
{
    size_t n = json_array_size(arr);

    if (!json_is_array(arr) || n == 0 || n > SB_WX_HOURS_MAX) {
        sb_errf(err, errlen, "hourly.time: an array of 1..%d times", SB_WX_HOURS_MAX);
        return SB_EPROTO;
    }
    if (!(w->times = malloc(n * sizeof(*w->times))))
        return SB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (time_of(json_array_get(arr, i), off, &w->times[i]) != 0 ||
            (i && w->times[i] <= w->times[i - 1])) {
            sb_errf(err, errlen, "hourly.time[%zu]: bad or out of order", i);
            return SB_EPROTO;
        }
    }
    w->nhours = n;
    return 0;
}

/* 1: a numeric series of the right length; 0: not a series (skipped). */
static int is_series(const json_t *v, size_t n)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v) || json_array_size(v) != n)
        return 0;
    json_array_foreach(v, i, e)
        if (!json_is_number(e) && !json_is_null(e))
            return 0;
    return 1;
}

static int add_series(struct sb_wx *w, const char *k, const json_t *v, const json_t *units)
{
    struct sb_wx_var *x = &w->hourly[w->nhourly];
    size_t i;
    json_t *e;

    if (!(x->series = malloc(w->nhours * sizeof(double))))
        return SB_ENOMEM;
    w->nhourly++;
    snprintf(x->name, sizeof(x->name), "%s", k);
    x->v = NAN;
    set_unit(x, units);
    json_array_foreach(v, i, e)
        x->series[i] = json_is_null(e) ? NAN : json_number_value(e);
    return 0;
}

static int parse_hourly(const json_t *doc, int64_t off, struct sb_wx *w, char *err,
                        size_t errlen)
{
    const json_t *h = json_object_get(doc, "hourly"), *units;
    const char *k;
    json_t *v;
    int rc;

    if (!h)
        return 0;
    if (!json_is_object(h)) {
        sb_errf(err, errlen, "hourly: not an object");
        return SB_EPROTO;
    }
    if ((rc = parse_times(json_object_get(h, "time"), off, w, err, errlen)) != 0)
        return rc;
    units = json_object_get(doc, "hourly_units");
    if (!(w->hourly = calloc(SB_WX_VARS_MAX, sizeof(*w->hourly))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)h, k, v) {
        if (strcmp(k, "time") == 0 || !name_ok(k))
            continue;
        if (json_is_array(v) && json_array_size(v) != w->nhours) {
            sb_errf(err, errlen, "hourly.%.40s: %zu values for %zu times", k,
                    json_array_size(v), w->nhours);
            return SB_EPROTO;
        }
        if (!is_series(v, w->nhours) || w->nhourly == SB_WX_VARS_MAX)
            continue;
        if ((rc = add_series(w, k, v, units)) != 0)
            return rc;
    }
    return 0;
}

static int parse_doc(const json_t *doc, struct sb_wx *w, char *err, size_t errlen)
{
    const json_t *off = json_object_get(doc, "utc_offset_seconds");
    int64_t o = 0;
    int rc;

    if (json_is_true(json_object_get(doc, "error"))) {
        const char *r = json_string_value(json_object_get(doc, "reason"));
        sb_errf(err, errlen, "service error: %.120s", r ? r : "(no reason)");
        return SB_EPROTO;
    }
    if (off) {
        if (!json_is_integer(off) || llabs((long long)json_integer_value(off)) > 18 * 3600) {
            sb_errf(err, errlen, "utc_offset_seconds: an integer within +-18 h");
            return SB_EPROTO;
        }
        o = (int64_t)json_integer_value(off);
    }
    if ((rc = parse_current(doc, o, w, err, errlen)) != 0 ||
        (rc = parse_hourly(doc, o, w, err, errlen)) != 0)
        return rc;
    if (w->ncur == 0 && w->nhourly == 0) {
        sb_errf(err, errlen, "neither current values nor hourly series in the response");
        return SB_EPROTO;
    }
    return 0;
}

int sb_wx_parse(const char *body, size_t len, struct sb_wx **out, char *err, size_t errlen)
{
    struct sb_wx *w;
    json_error_t je;
    json_t *doc;
    int rc;

    *out = NULL;
    doc = body ? json_loadb(body, len, 0, &je) : NULL;
    if (!json_is_object(doc)) {
        sb_errf(err, errlen, "not a JSON object%s%s", doc ? "" : ": ", doc ? "" : je.text);
        json_decref(doc);
        return SB_EPROTO;
    }
    if (!(w = calloc(1, sizeof(*w)))) {
        json_decref(doc);
        return SB_ENOMEM;
    }
    rc = parse_doc(doc, w, err, errlen);
    json_decref(doc);
    if (rc != 0) {
        if (rc == SB_ENOMEM)
            sb_errf(err, errlen, "out of memory");
        sb_wx_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void sb_wx_free(struct sb_wx *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->nhourly; i++)
        free(w->hourly[i].series);
    free(w->hourly);
    free(w->cur);
    free(w->times);
    free(w);
}

const struct sb_wx_var *sb_wx_current(const struct sb_wx *w, const char *name)
{
    for (size_t i = 0; w && i < w->ncur; i++)
        if (strcmp(w->cur[i].name, name) == 0)
            return &w->cur[i];
    return NULL;
}

const struct sb_wx_var *sb_wx_hourly(const struct sb_wx *w, const char *name)
{
    for (size_t i = 0; w && i < w->nhourly; i++)
        if (strcmp(w->hourly[i].name, name) == 0)
            return &w->hourly[i];
    return NULL;
}

/* Index of the entry at time t, or -1 (times are increasing). */
static long find_hour(const struct sb_wx *w, int64_t t)
{
    size_t lo = 0, hi = w->nhours;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->times[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nhours && w->times[lo] == t ? (long)lo : -1;
}

static int64_t floor_hour(int64_t t)
{
    int64_t r = t % HOUR_MS;
    return t - (r < 0 ? r + HOUR_MS : r);
}

int sb_wx_window(const struct sb_wx *w, const char *name, int64_t from_ms, size_t hours,
                 double *out, int64_t *times)
{
    const struct sb_wx_var *s = sb_wx_hourly(w, name);
    int64_t t0 = floor_hour(from_ms);
    int filled = 0;

    if (!s)
        return SB_ENOENT;
    if (hours > 100000 || llabs((long long)from_ms) > 1000000000000000LL)
        return SB_EINVAL;
    for (size_t i = 0; i < hours; i++) {
        int64_t t = t0 + (int64_t)i * HOUR_MS;
        long k = find_hour(w, t);
        out[i] = k >= 0 ? s->series[k] : NAN;
        if (times)
            times[i] = t;
        if (!isnan(out[i]))
            filled++;
    }
    return filled;
}

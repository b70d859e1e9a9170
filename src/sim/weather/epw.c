/* epw.c - EPW reader and interpolation (see epw.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/weather/epw.h"

#define MAX_LINE_FIELDS 40      /* an EPW row has 35 fields */
#define MAX_NUM_LEN 32          /* longest numeric field we accept */

static const char *const header_keys[8] = {
    "LOCATION", "DESIGN CONDITIONS", "TYPICAL/EXTREME PERIODS", "GROUND TEMPERATURES",
    "HOLIDAYS/DAYLIGHT SAVINGS", "COMMENTS 1", "COMMENTS 2", "DATA PERIODS",
};

static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

/* A line split into fields, pointing into the caller's text (no copy). */
struct fields {
    const char *p[MAX_LINE_FIELDS];
    size_t n[MAX_LINE_FIELDS];
    int count;
};

/* One checked numeric column of a data row. */
struct col {
    int field;          /* 1-based EPW field number */
    const char *name;   /* for messages */
    double lo, hi;      /* accepted range; EPW "missing" codes fall outside */
    size_t off;         /* offset of the float in struct sb_epw_hour */
};

static const struct col cols[] = {
    { 7,  "dry-bulb",  -70, 70,   offsetof(struct sb_epw_hour, tdb) },
    { 8,  "dew point", -70, 70,   offsetof(struct sb_epw_hour, tdp) },
    { 9,  "relative humidity", 0, 110, offsetof(struct sb_epw_hour, rh) },
    { 14, "global horizontal", 0, 1500, offsetof(struct sb_epw_hour, ghi) },
    { 15, "direct normal", 0, 1500, offsetof(struct sb_epw_hour, dni) },
    { 16, "diffuse horizontal", 0, 1000, offsetof(struct sb_epw_hour, dhi) },
    { 22, "wind speed", 0, 40,    offsetof(struct sb_epw_hour, wind) },
};

/* Splits line[len] at commas; fails when there are too many fields. */
static int split(const char *line, size_t len, struct fields *f)
{
    size_t start = 0;

    f->count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && line[i] != ',')
            continue;
        if (f->count == MAX_LINE_FIELDS)
            return SB_EINVAL;
        f->p[f->count] = line + start;
        f->n[f->count] = i - start;
        f->count++;
        start = i + 1;
    }
    return 0;
}

/* Parses field idx (0-based) as a finite number; the whole field must be
 * consumed (surrounding blanks allowed). */
static int field_num(const struct fields *f, int idx, double *out)
{
    char buf[MAX_NUM_LEN + 1];
    char *end;
    size_t n = f->n[idx];
    const char *s = f->p[idx];

    while (n > 0 && (*s == ' ' || *s == '\t')) { s++; n--; }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    if (n == 0 || n > MAX_NUM_LEN)
        return SB_EINVAL;
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    *out = strtod(buf, &end);
    if (end != buf + n || errno == ERANGE || !isfinite(*out))
        return SB_EINVAL;
    return 0;
}

static void copy_field(const struct fields *f, int idx, char *dst, size_t cap)
{
    size_t n = 0;

    if (idx < f->count)
        n = f->n[idx] < cap - 1 ? f->n[idx] : cap - 1;
    if (n)
        memcpy(dst, f->p[idx], n);
    dst[n] = '\0';
}

/* LOCATION,city,state,country,source,WMO,lat,lon,tz,elevation */
static int parse_location(const struct fields *f, struct sb_epw *w, int line, char *err, size_t errlen)
{
    static const char *const names[4] = { "latitude", "longitude", "time zone", "elevation" };
    static const double lo[4] = { -90, -180, -12, -1000 }, hi[4] = { 90, 180, 14, 9000 };
    double v[4];

    if (f->count < 10) {
        sb_errf(err, errlen, "line %d: LOCATION has %d fields, 10 expected", line, f->count);
        return SB_EINVAL;
    }
    for (int i = 0; i < 4; i++) {
        if (field_num(f, 6 + i, &v[i]) != 0 || v[i] < lo[i] || v[i] > hi[i]) {
            sb_errf(err, errlen, "line %d field %d (%s): not a number in [%g, %g]", line, 7 + i,
                    names[i], lo[i], hi[i]);
            return SB_EINVAL;
        }
    }
    copy_field(f, 1, w->city, sizeof w->city);
    copy_field(f, 2, w->state, sizeof w->state);
    copy_field(f, 3, w->country, sizeof w->country);
    copy_field(f, 5, w->wmo, sizeof w->wmo);
    w->lat = v[0];
    w->lon = v[1];
    w->tz_h = v[2];
    w->elev_m = v[3];
    return 0;
}

static int parse_header(const struct fields *f, int k, struct sb_epw *w, int line, char *err,
                        size_t errlen)
{
    size_t kl = strlen(header_keys[k]);

    if (f->n[0] != kl || memcmp(f->p[0], header_keys[k], kl) != 0) {
        sb_errf(err, errlen, "line %d field 1: expected header \"%s\"", line, header_keys[k]);
        return SB_EINVAL;
    }
    return k == 0 ? parse_location(f, w, line, err, errlen) : 0;
}

/* Row `row` (0-based) must be month/day/hour of a 365-day year, in order. */
static void expected_date(int row, int *month, int *day, int *hour)
{
    int doy = row / 24, m = 0;

    while (doy >= month_days[m]) {
        doy -= month_days[m];
        m++;
    }
    *month = m + 1;
    *day = doy + 1;
    *hour = row % 24 + 1;
}

static int check_date(const struct fields *f, int row, int line, char *err, size_t errlen)
{
    static const char *const names[3] = { "month", "day", "hour" };
    int want[3];
    double v;

    if (field_num(f, 0, &v) != 0 || v != floor(v)) {
        sb_errf(err, errlen, "line %d field 1 (year): not an integer", line);
        return SB_EINVAL;
    }
    expected_date(row, &want[0], &want[1], &want[2]);
    for (int i = 0; i < 3; i++) {
        if (field_num(f, 1 + i, &v) != 0 || v != want[i]) {
            sb_errf(err, errlen, "line %d field %d (%s): expected %d (hourly rows of a "
                    "365-day year in order)", line, 2 + i, names[i], want[i]);
            return SB_EINVAL;
        }
    }
    return 0;
}

static int parse_row(const struct fields *f, int row, struct sb_epw *w, int line, char *err,
                     size_t errlen)
{
    double v;
    int rc;

    if (f->count < 22) {
        sb_errf(err, errlen, "line %d: %d fields, at least 22 expected", line, f->count);
        return SB_EINVAL;
    }
    if ((rc = check_date(f, row, line, err, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        const struct col *c = &cols[i];

        if (field_num(f, c->field - 1, &v) != 0 || v < c->lo || v > c->hi) {
            sb_errf(err, errlen, "line %d field %d (%s): not a number in [%g, %g] "
                    "(missing-data codes are rejected)", line, c->field, c->name, c->lo, c->hi);
            return SB_EINVAL;
        }
        *(float *)(void *)((char *)&w->h[row] + c->off) = (float)v;
    }
    return 0;
}

/* Handles one line (without its terminator); *row counts data rows. */
static int parse_line(const char *s, size_t n, int line, int *row, struct sb_epw *w,
                      char *err, size_t errlen)
{
    struct fields f;

    if (n > 0 && s[n - 1] == '\r')
        n--;
    if (line > 8 && n == 0)
        return 0;               /* blank lines after the header are tolerated */
    if (line > 1 && line <= 8) {
        /* other header records (design conditions etc.) are long and
         * unused: only their keyword is checked */
        const char *comma = memchr(s, ',', n);

        f.count = 1;
        f.p[0] = s;
        f.n[0] = comma ? (size_t)(comma - s) : n;
        return parse_header(&f, line - 1, w, line, err, errlen);
    }
    if (split(s, n, &f) != 0) {
        sb_errf(err, errlen, "line %d: more than %d fields", line, MAX_LINE_FIELDS);
        return SB_EINVAL;
    }
    if (line == 1)
        return parse_header(&f, 0, w, line, err, errlen);
    if (*row >= SB_EPW_HOURS) {
        sb_errf(err, errlen, "line %d: more than %d data rows", line, SB_EPW_HOURS);
        return SB_EINVAL;
    }
    return parse_row(&f, (*row)++, w, line, err, errlen);
}

int sb_epw_parse(const char *text, size_t len, struct sb_epw *out, char *err, size_t errlen)
{
    size_t pos = 0;
    int line = 0, row = 0, rc = 0;

    if (!text || !out)
        return SB_EINVAL;
    memset(out, 0, sizeof *out);
    while (pos < len && rc == 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

        line++;
        if (memchr(text + pos, '\0', n)) {
            sb_errf(err, errlen, "line %d: NUL byte", line);
            rc = SB_EINVAL;
            break;
        }
        rc = parse_line(text + pos, n, line, &row, out, err, errlen);
        pos += n + 1;
    }
    if (rc == 0 && (line < 8 || row != SB_EPW_HOURS)) {
        sb_errf(err, errlen, "line %d: file ends after %d data rows, %d expected", line, row,
                SB_EPW_HOURS);
        rc = SB_EINVAL;
    }
    return rc;
}

int sb_epw_load(const char *path, struct sb_epw *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n = -1;
    int rc = SB_EIO;

    if (!f) {
        sb_errf(err, errlen, "%s: cannot open", path);
        return SB_EIO;
    }
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || n > (64L << 20) || fseek(f, 0, SEEK_SET) != 0) {
        sb_errf(err, errlen, "%s: cannot size (or larger than 64 MiB)", path);
        goto out;
    }
    if (!(buf = malloc((size_t)n + 1))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        sb_errf(err, errlen, "%s: read error", path);
        goto out;
    }
    rc = sb_epw_parse(buf, (size_t)n, out, err, errlen);
out:
    free(buf);
    fclose(f);
    return rc;
}

/* Wraps t into [0, 8760). */
static double wrap_hours(double t)
{
    t = fmod(t, (double)SB_EPW_HOURS);
    if (t < 0)
        t += SB_EPW_HOURS;
    if (t >= SB_EPW_HOURS)
        t = 0;
    return t;
}

/* Value "at time k hours" is row k-1 (the hour ending at k); row -1 wraps
 * to the last row (Dec 31 24:00 == Jan 1 00:00 of the typical year). */
static const struct sb_epw_hour *at_hour(const struct sb_epw *w, long k)
{
    long r = (k - 1) % SB_EPW_HOURS;

    if (r < 0)
        r += SB_EPW_HOURS;
    return &w->h[r];
}

void sb_epw_at(const struct sb_epw *w, double hour_of_year, struct sb_weather *out)
{
    double t = wrap_hours(hour_of_year), k = floor(t), a = t - k;
    const struct sb_epw_hour *p = at_hour(w, (long)k), *q = at_hour(w, (long)k + 1);
    /* irradiance: hour totals centred half an hour earlier, so shift by +0.5 */
    double ts = wrap_hours(hour_of_year + 0.5), ks = floor(ts), b = ts - ks;
    const struct sb_epw_hour *ps = at_hour(w, (long)ks), *qs = at_hour(w, (long)ks + 1);

    out->tdb = p->tdb + a * (q->tdb - p->tdb);
    out->tdp = p->tdp + a * (q->tdp - p->tdp);
    out->rh = p->rh + a * (q->rh - p->rh);
    out->wind = p->wind + a * (q->wind - p->wind);
    out->ghi = ps->ghi + b * (qs->ghi - ps->ghi);
    out->dni = ps->dni + b * (qs->dni - ps->dni);
    out->dhi = ps->dhi + b * (qs->dhi - ps->dhi);
}

/* Days since 1970-01-01 of y-01-01 (proleptic Gregorian). */
static int64_t days_before_year(int64_t y)
{
    int64_t y1 = y - 1;

    return 365 * (y - 1970) + (y1 / 4 - 1969 / 4) - (y1 / 100 - 1969 / 100) + (y1 / 400 - 1969 / 400);
}

double sb_epw_hour_of_year(int64_t unix_ms, double tz_h)
{
    double local_s = (double)unix_ms / 1000.0 + tz_h * 3600.0;
    int64_t days = (int64_t)floor(local_s / 86400.0);
    int64_t y = 1970 + days / 366;      /* underestimate, then walk forward */
    double hoy;
    int leap;

    if (days < 0)
        y = 1970 + days / 365 - 1;
    while (days_before_year(y + 1) <= days)
        y++;
    while (days_before_year(y) > days)
        y--;
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    hoy = (local_s - (double)days_before_year(y) * 86400.0) / 3600.0;
    if (leap && hoy >= 59 * 24.0)
        hoy -= 24.0;            /* Feb 29 repeats Feb 28; Mar 1 onward aligned */
    return wrap_hours(hoy);
}

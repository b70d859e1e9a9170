/* report.c - building reports as XLSX, CSV and JSON; see report.h and
 * docs/internals/analytics-reports.md. */
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "analytics/report.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "core/utf8.h"

/* Excel datetimes are days since 1899-12-30 (serial 25569 = 1970-01-01);
 * serials before 1900-03-01 are off by one (Excel's 1900 leap-year bug) and
 * nothing past 9999-12-31 shows (as in src/api/export.c).  Periods keep a
 * day of margin so local dates stay inside. */
#define XL_EPOCH_DAYS 25569.0
#define XL_MIN_MS     (-2203891200000LL)     /* 1900-03-01T00:00:00Z */
#define XL_END_MS     253402300800000LL      /* 10000-01-01T00:00:00Z */
#define DAY_MS        86400000LL
#define MAX_CHART_SERIES 32                  /* main meters drawn; more is unreadable */

static const char *const level_names[3] = { "main", "end use", "sub-meter" };

/* ---- growable output buffer (curl's dynbuf idea: sticky error, a cap) ---- */

struct buf {
    char *p;        /* NUL-terminated once anything was put */
    size_t len;     /* bytes, without the NUL */
    size_t cap;     /* allocated */
    int err;        /* first failure (SB_ENOMEM / SB_ENOSPC); later puts are no-ops */
};

static int buf_grow(struct buf *b, size_t add)
{
    if (b->err)
        return b->err;
    if (add > SB_REPORT_OUT_MAX - b->len) {
        b->err = SB_ENOSPC;
        return b->err;
    }
    size_t need = b->len + add + 1, cap = b->cap ? b->cap : 256;
    if (need <= b->cap)
        return 0;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->err = SB_ENOMEM;
        return b->err;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (buf_grow(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void buf_putc(struct buf *b, char c)
{
    buf_put(b, &c, 1);
}

/* Hand the bytes to the caller, or free them and return the error. */
static int buf_take(struct buf *b, char **out, size_t *len)
{
    if (!b->err && !b->p)
        buf_grow(b, 0);
    if (b->err) {
        free(b->p);
        return b->err;
    }
    b->p[b->len] = '\0';
    *out = b->p;
    *len = b->len;
    return 0;
}

/* ---- text ---- */

/* Append s (NULL = "") as report text: ill-formed bytes become U+FFFD, C0
 * controls other than TAB LF CR a space (XML 1.0 section 2.2 cannot carry
 * them), cut at SB_REPORT_TEXT_MAX bytes on a character boundary. */
static void text_put(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = 0;

    while (*p) {
        size_t l = sb_utf8_seq(p, SIZE_MAX), w = l;
        const char *src = (const char *)p;
        if (!l) {
            src = "\xef\xbf\xbd";
            w = 3;
            l = 1;
        } else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
            src = " ";
        }
        if (n + w > SB_REPORT_TEXT_MAX)
            break;
        buf_put(b, src, w);
        n += w;
        p += l;
    }
}

/* s cleaned into the scratch buffer tmp; valid until tmp's next use. */
static const char *text(struct buf *tmp, const char *s)
{
    tmp->len = 0;
    if (tmp->p)
        tmp->p[0] = '\0';
    text_put(tmp, s);
    return tmp->err || !tmp->p ? "" : tmp->p;
}

/* ---- numbers and times ---- */

/* Shortest of %.15g/%.16g/%.17g that strtod() reads back to d exactly
 * (d finite); a non-C LC_NUMERIC's ',' becomes '.'. */
static void fmt_num(double d, char *buf, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    for (char *p = buf; *p; p++)
        if (*p == ',')
            *p = '.';
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* A time the caller gave (0 = unknown) that every format can show. */
static bool time_known(int64_t ms)
{
    return ms != 0 && ms >= XL_MIN_MS + DAY_MS && ms < XL_END_MS - DAY_MS;
}

static int64_t local_ms(const struct sb_tz *tz, int64_t ms)
{
    return ms + (int64_t)sb_tz_offset(tz, floor_div(ms, 1000)) * 1000;
}

/* The local day (days since 1970-01-01) that contains instant ms. */
static int64_t local_day(const struct sb_tz *tz, int64_t ms)
{
    return floor_div(local_ms(tz, ms), DAY_MS);
}

/* "2026-11-16" */
static void fmt_day(int64_t day, char *buf, size_t cap)
{
    int64_t y;
    unsigned m, dd;
    sb_civil_from_days(day, &y, &m, &dd);
    snprintf(buf, cap, "%04lld-%02u-%02u", (long long)y, m, dd);
}

/* RFC 3339 local time with the zone's offset, "2026-03-29T09:15:00.000+01:00"
 * (minutes only: RFC 3339 section 5.6 has no seconds in offsets). */
static void fmt_local(const struct sb_tz *tz, int64_t ms, char *buf, size_t cap)
{
    int32_t off = sb_tz_offset(tz, floor_div(ms, 1000)), a = off < 0 ? -off : off;
    sb_time_format(ms + (int64_t)off * 1000, buf, cap);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, cap - (n - 1), "%c%02d:%02d", off < 0 ? '-' : '+',
                 (int)(a / 3600), (int)(a / 60 % 60));
}

/* ---- validation and derived figures ---- */

struct ctx {
    const struct sb_report_data *d;  /* the caller's data */
    const struct sb_tz *tz;          /* the building's zone */
    int64_t first_day, last_day;     /* local days of from and to - 1 ms */
    size_t nmain;                    /* meters of depth 0 */
    double total_kwh;                /* main meters; NAN if any is unknown */
    double change_pct;               /* vs prev_total_kwh, percent; NAN = n/a */
    const struct sb_report_meter *peak;  /* main meter with the highest peak, or NULL */
    double occ_h, out_h, out_kh;     /* comfort sums over zones; NAN = no data */
    double out_pct;                  /* out_h / occ_h, percent */
    double fault_cost;               /* sum of known cost_per_day; NAN = none */
};

static int check_frequency(const char *f)
{
    static const char *const ok[] = { "daily", "weekly", "monthly" };
    for (size_t i = 0; f && i < 3; i++)
        if (!strcmp(f, ok[i]))
            return 0;
    return SB_EINVAL;
}

/* [from, to) inside Excel's dates with a day to spare; day starts begin at
 * from and increase strictly below to. */
static int check_days(const struct sb_report_data *d)
{
    if (d->from_ms >= d->to_ms)
        return SB_EINVAL;
    if (d->from_ms < XL_MIN_MS + DAY_MS || d->to_ms > XL_END_MS - DAY_MS)
        return SB_ERANGE;
    if (d->ndays > SB_REPORT_MAX_DAYS || (d->ndays && !d->day_start_ms))
        return SB_EINVAL;
    if (d->ndays && d->day_start_ms[0] != d->from_ms)
        return SB_EINVAL;
    for (size_t i = 0; i < d->ndays; i++) {
        int64_t end = i + 1 < d->ndays ? d->day_start_ms[i + 1] : d->to_ms;
        if (end <= d->day_start_ms[i])
            return SB_EINVAL;
    }
    return 0;
}

static int check_lists(const struct sb_report_data *d)
{
    if (d->nmeters > SB_REPORT_MAX_METERS || (d->nmeters && !d->meters))
        return SB_EINVAL;
    for (size_t i = 0; i < d->nmeters; i++)
        if (d->meters[i].depth < 0 || d->meters[i].depth > 2)
            return SB_EINVAL;
    if (d->nzones > SB_REPORT_MAX_ROWS || (d->nzones && !d->zones))
        return SB_EINVAL;
    if (d->nalerts > SB_REPORT_MAX_ROWS || (d->nalerts && !d->alerts))
        return SB_EINVAL;
    if (d->nnotes > SB_REPORT_MAX_ROWS || (d->nnotes && !d->notes))
        return SB_EINVAL;
    return 0;
}

/* A derived percentage, rounded to 6 decimals so the text formats show
 * "-6.6", not the "-6.6000000000000005" of the division. */
static double pct_of(double part, double whole)
{
    return round(part / whole * 100.0 * 1e6) / 1e6;
}

/* Sum of the finite values; *n counts them. */
static void add_known(double *sum, size_t *n, double v)
{
    if (isfinite(v)) {
        *sum += v;
        (*n)++;
    }
}

static void derive_energy(struct ctx *c)
{
    const struct sb_report_data *d = c->d;
    double peak = -INFINITY, sum = 0;
    size_t known = 0;

    for (size_t i = 0; i < d->nmeters; i++) {
        const struct sb_report_meter *m = &d->meters[i];
        if (m->depth != 0)
            continue;
        c->nmain++;
        add_known(&sum, &known, m->total_kwh);
        if (isfinite(m->peak_kw) && m->peak_kw > peak) {
            peak = m->peak_kw;
            c->peak = m;
        }
    }
    /* a partial sum would read as a drop in consumption: unknown instead */
    c->total_kwh = c->nmain && known == c->nmain ? sum : NAN;
    c->change_pct = NAN;
    if (isfinite(c->total_kwh) && isfinite(d->prev_total_kwh) && d->prev_total_kwh > 0)
        c->change_pct = pct_of(c->total_kwh - d->prev_total_kwh, d->prev_total_kwh);
}

static void derive_other(struct ctx *c)
{
    const struct sb_report_data *d = c->d;
    size_t no = 0, nh = 0, nk = 0, nf = 0;

    c->occ_h = c->out_h = c->out_kh = c->fault_cost = 0;
    for (size_t i = 0; i < d->nzones; i++) {
        add_known(&c->occ_h, &no, d->zones[i].occupied_h);
        add_known(&c->out_h, &nh, d->zones[i].outside_h);
        add_known(&c->out_kh, &nk, d->zones[i].outside_kh);
    }
    for (size_t i = 0; i < d->nalerts; i++)
        add_known(&c->fault_cost, &nf, d->alerts[i].cost_per_day);
    if (!no)
        c->occ_h = NAN;
    if (!nh)
        c->out_h = NAN;
    if (!nk)
        c->out_kh = NAN;
    if (!nf)
        c->fault_cost = NAN;
    c->out_pct = isfinite(c->out_h) && c->occ_h > 0 ? pct_of(c->out_h, c->occ_h) : NAN;
}

static int ctx_init(struct ctx *c, const struct sb_report_data *d)
{
    int rc;

    memset(c, 0, sizeof(*c));
    if (!d || !d->building_slug || !d->timezone)
        return SB_EINVAL;
    if ((rc = check_frequency(d->frequency)) || (rc = check_days(d)) || (rc = check_lists(d)))
        return rc;
    c->d = d;
    c->tz = d->tz ? d->tz : sb_tz_get(d->timezone);
    if (!c->tz)
        return SB_ENOENT;
    c->first_day = local_day(c->tz, d->from_ms);
    c->last_day = local_day(c->tz, d->to_ms - 1);
    derive_energy(c);
    derive_other(c);
    return 0;
}

int sb_report_check(const struct sb_report_data *d)
{
    struct ctx c;
    return ctx_init(&c, d);
}

static int64_t day_end(const struct sb_report_data *d, size_t i)
{
    return i + 1 < d->ndays ? d->day_start_ms[i + 1] : d->to_ms;
}

static double day_hours(const struct sb_report_data *d, size_t i)
{
    return (double)(day_end(d, i) - d->day_start_ms[i]) / 3600000.0;
}

static double kwh_of(const struct sb_report_meter *m, size_t day)
{
    return m->kwh_day ? m->kwh_day[day] : NAN;
}

static const char *name_of(const char *name, const char *slug)
{
    return name ? name : slug ? slug : "";
}

/* ---- CSV (RFC 4180) ---- */

/* One CSV writer: records are padded to width fields so every record has
 * the same number (RFC 4180 section 2, rule 4). */
struct csv {
    struct buf out;      /* the document */
    struct buf tmp;      /* cleaned text of the current cell */
    struct buf key;      /* composed summary keys */
    size_t width;        /* fields per record */
    size_t nf;           /* fields in the current record */
    const struct ctx *c;
};

static void csv_sep(struct csv *w)
{
    if (w->nf++)
        buf_putc(&w->out, ',');
}

static void csv_end(struct csv *w)
{
    while (w->nf < w->width)
        csv_sep(w);
    buf_put(&w->out, "\r\n", 2);
    w->nf = 0;
}

/* A text cell.  OWASP "CSV Injection": a cell starting with = + - @ TAB or
 * CR may run as a formula in a spreadsheet; a leading apostrophe keeps it
 * text (as src/api/export.c does).  Cells holding , " CR or LF are quoted,
 * quotes doubled (RFC 4180 section 2, rules 6-7). */
static void csv_str(struct csv *w, const char *raw)
{
    const char *s = text(&w->tmp, raw);
    bool inject = s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;

    csv_sep(w);
    if (quote)
        buf_putc(&w->out, '"');
    if (inject)
        buf_putc(&w->out, '\'');
    for (; *s; s++) {
        if (*s == '"')
            buf_putc(&w->out, '"');
        buf_putc(&w->out, *s);
    }
    if (quote)
        buf_putc(&w->out, '"');
}

/* A field we made (dates, times, keys): plain ASCII, no quoting needed. */
static void csv_raw(struct csv *w, const char *s)
{
    csv_sep(w);
    buf_puts(&w->out, s);
}

static void csv_num(struct csv *w, double v)
{
    char b[40];
    csv_sep(w);
    if (isfinite(v)) {
        fmt_num(v, b, sizeof(b));
        buf_puts(&w->out, b);
    }
}

static void csv_header(struct csv *w)
{
    const struct sb_report_data *d = w->c->d;
    csv_raw(w, "date");
    csv_raw(w, "hours");
    for (size_t i = 0; i < d->nmeters; i++) {
        /* the header holds the cleaned name, so compose from it */
        w->key.len = 0;
        text_put(&w->key, name_of(d->meters[i].name, d->meters[i].slug));
        buf_puts(&w->key, " (kWh)");
        csv_str(w, w->key.err ? "" : w->key.p);
    }
    csv_end(w);
}

static void csv_days(struct csv *w)
{
    const struct sb_report_data *d = w->c->d;
    char b[40];
    for (size_t i = 0; i < d->ndays; i++) {
        fmt_day(local_day(w->c->tz, d->day_start_ms[i]), b, sizeof(b));
        csv_raw(w, b);
        csv_num(w, day_hours(d, i));
        for (size_t m = 0; m < d->nmeters; m++)
            csv_num(w, kwh_of(&d->meters[m], i));
        csv_end(w);
    }
}

static void sum_begin(struct csv *w, const char *key)
{
    csv_raw(w, "summary");
    csv_raw(w, key);
}

static void sum_num(struct csv *w, const char *key, double v)
{
    sum_begin(w, key);
    csv_num(w, v);
    csv_end(w);
}

static void sum_str(struct csv *w, const char *key, const char *raw)
{
    sum_begin(w, key);
    if (raw)
        csv_str(w, raw);
    csv_end(w);
}

static void sum_day(struct csv *w, const char *key, int64_t day)
{
    char b[40];
    fmt_day(day, b, sizeof(b));
    sum_begin(w, key);
    csv_raw(w, b);
    csv_end(w);
}

/* UTC ("...Z") or, with local, the building's local time with its offset;
 * empty unless known. */
static void sum_time(struct csv *w, const char *key, int64_t ms, bool known, bool local)
{
    char b[48];
    sum_begin(w, key);
    if (known) {
        if (local)
            fmt_local(w->c->tz, ms, b, sizeof(b));
        else
            sb_time_format(ms, b, sizeof(b));
        csv_raw(w, b);
    }
    csv_end(w);
}

static void csv_sum_head(struct csv *w)
{
    const struct ctx *c = w->c;
    const struct sb_report_data *d = c->d;
    sum_str(w, "report_id", d->report_id);
    sum_str(w, "building_slug", d->building_slug);
    sum_str(w, "building_name", name_of(d->building_name, d->building_slug));
    sum_str(w, "timezone", d->timezone);
    sum_str(w, "frequency", d->frequency);
    sum_day(w, "first_day", c->first_day);
    sum_day(w, "last_day", c->last_day);
    sum_num(w, "days", (double)d->ndays);
    sum_time(w, "period_start", d->from_ms, true, false);
    sum_time(w, "period_end", d->to_ms, true, false);
    sum_time(w, "generated", d->generated_ms, time_known(d->generated_ms), false);
}

static void csv_sum_energy(struct csv *w)
{
    const struct ctx *c = w->c;
    const struct sb_report_data *d = c->d;
    sum_str(w, "currency", d->currency);
    sum_num(w, "total_kwh", c->total_kwh);
    sum_num(w, "prev_total_kwh", d->prev_total_kwh);
    sum_num(w, "change_pct", c->change_pct);
    sum_num(w, "total_cost", d->total_cost);
    sum_num(w, "peak_kw", c->peak ? c->peak->peak_kw : NAN);
    int64_t at = c->peak ? c->peak->peak_at_ms : 0;
    sum_time(w, "peak_at", at, time_known(at), true);
    sum_str(w, "peak_meter", c->peak ? name_of(c->peak->slug, NULL) : NULL);
    bool s = d->has_savings;
    sum_num(w, "savings_pct", s ? d->savings_pct : NAN);
    sum_num(w, "savings_kwh", s ? d->savings_kwh : NAN);
    sum_num(w, "savings_lo_kwh", s ? d->savings_lo_kwh : NAN);
    sum_num(w, "savings_hi_kwh", s ? d->savings_hi_kwh : NAN);
    sum_str(w, "savings_note", s ? d->savings_note : NULL);
    sum_num(w, "comfort_occupied_h", c->occ_h);
    sum_num(w, "comfort_outside_h", c->out_h);
    sum_num(w, "comfort_outside_pct", c->out_pct);
    sum_num(w, "comfort_outside_kh", c->out_kh);
    sum_num(w, "faults", (double)d->nalerts);
    sum_num(w, "faults_cost_per_day", c->fault_cost);
}

/* "meter:<slug>:<what>" keys, the slug cleaned and quoted like any text. */
static void sum_meter_key(struct csv *w, const struct sb_report_meter *m, const char *what)
{
    w->key.len = 0;
    buf_puts(&w->key, "meter:");
    text_put(&w->key, m->slug);
    buf_putc(&w->key, ':');
    buf_puts(&w->key, what);
    csv_raw(w, "summary");
    csv_str(w, w->key.err ? "" : w->key.p);
}

static void csv_sum_meters(struct csv *w)
{
    const struct sb_report_data *d = w->c->d;
    char b[48];
    for (size_t i = 0; i < d->nmeters; i++) {
        const struct sb_report_meter *m = &d->meters[i];
        sum_meter_key(w, m, "total_kwh");
        csv_num(w, m->total_kwh);
        csv_end(w);
        sum_meter_key(w, m, "peak_kw");
        csv_num(w, m->peak_kw);
        csv_end(w);
        sum_meter_key(w, m, "peak_at");
        if (time_known(m->peak_at_ms)) {
            fmt_local(w->c->tz, m->peak_at_ms, b, sizeof(b));
            csv_raw(w, b);
        }
        csv_end(w);
        sum_meter_key(w, m, "cost");
        csv_num(w, m->cost);
        csv_end(w);
    }
    for (size_t i = 0; i < d->nnotes; i++)
        sum_str(w, "note", d->notes[i] ? d->notes[i] : "");
}

int sb_report_csv(const struct sb_report_data *d, char **out, size_t *len)
{
    struct csv w = { 0 };
    struct ctx c;
    int rc;

    if (!out || !len)
        return SB_EINVAL;
    if ((rc = ctx_init(&c, d)))
        return rc;
    w.c = &c;
    w.width = d->nmeters + 2 > 3 ? d->nmeters + 2 : 3;   /* summary rows need 3 */
    csv_header(&w);
    csv_days(&w);
    csv_end(&w);          /* the empty record between table and summary */
    csv_sum_head(&w);
    csv_sum_energy(&w);
    csv_sum_meters(&w);
    rc = w.tmp.err ? w.tmp.err : w.key.err;
    free(w.tmp.p);
    free(w.key.p);
    if (rc) {
        free(w.out.p);
        return rc;
    }
    return buf_take(&w.out, out, len);
}

/* ---- JSON (RFC 8259) ---- */

struct json {
    struct buf out;     /* the document */
    struct buf tmp;     /* cleaned text */
    const struct ctx *c;
};

/* A string with the escapes of RFC 8259 section 7; NULL is null.  Only
 * TAB LF CR remain of the controls after cleaning. */
static void j_str(struct json *j, const char *raw)
{
    if (!raw) {
        buf_puts(&j->out, "null");
        return;
    }
    const char *s = text(&j->tmp, raw);
    buf_putc(&j->out, '"');
    for (; *s; s++) {
        switch (*s) {
        case '"':  buf_puts(&j->out, "\\\""); break;
        case '\\': buf_puts(&j->out, "\\\\"); break;
        case '\n': buf_puts(&j->out, "\\n"); break;
        case '\r': buf_puts(&j->out, "\\r"); break;
        case '\t': buf_puts(&j->out, "\\t"); break;
        default:   buf_putc(&j->out, *s);
        }
    }
    buf_putc(&j->out, '"');
}

/* ,"key": (the comma unless first in its object/array) */
static void j_key(struct json *j, bool *first, const char *key)
{
    if (!*first)
        buf_putc(&j->out, ',');
    *first = false;
    if (key) {
        buf_putc(&j->out, '"');
        buf_puts(&j->out, key);
        buf_puts(&j->out, "\":");
    }
}

static void j_num(struct json *j, bool *first, const char *key, double v)
{
    char b[40];
    j_key(j, first, key);
    if (isfinite(v)) {
        fmt_num(v, b, sizeof(b));
        buf_puts(&j->out, b);
    } else {
        buf_puts(&j->out, "null");
    }
}

static void j_text(struct json *j, bool *first, const char *key, const char *raw)
{
    j_key(j, first, key);
    j_str(j, raw);
}

static void j_day(struct json *j, bool *first, const char *key, int64_t day)
{
    char b[40];
    fmt_day(day, b, sizeof(b));
    j_key(j, first, key);
    j_str(j, b);
}

/* key: UTC; key_local (when given): the building's local time; null
 * unless known. */
static void j_when(struct json *j, bool *first, const char *key, const char *key_local,
                   int64_t ms, bool known)
{
    char b[48];
    j_text(j, first, key, known ? sb_time_format(ms, b, sizeof(b)) : NULL);
    if (key_local) {
        if (known)
            fmt_local(j->c->tz, ms, b, sizeof(b));
        j_text(j, first, key_local, known ? b : NULL);
    }
}

/* An optional time (0 = unknown). */
static void j_time(struct json *j, bool *first, const char *key, const char *key_local,
                   int64_t ms)
{
    j_when(j, first, key, key_local, ms, time_known(ms));
}

static void json_head(struct json *j, bool *f)
{
    const struct ctx *c = j->c;
    const struct sb_report_data *d = c->d;
    bool g = true;

    j_text(j, f, "format", "sbems-report/1");
    j_text(j, f, "report_id", d->report_id);
    j_key(j, f, "building");
    buf_putc(&j->out, '{');
    j_text(j, &g, "slug", d->building_slug);
    j_text(j, &g, "name", name_of(d->building_name, d->building_slug));
    j_text(j, &g, "timezone", d->timezone);
    buf_putc(&j->out, '}');
    j_text(j, f, "frequency", d->frequency);
    j_key(j, f, "period");
    buf_putc(&j->out, '{');
    g = true;
    j_when(j, &g, "from", NULL, d->from_ms, true);
    j_when(j, &g, "to", NULL, d->to_ms, true);
    j_day(j, &g, "first_day", c->first_day);
    j_day(j, &g, "last_day", c->last_day);
    j_num(j, &g, "days", (double)d->ndays);
    buf_putc(&j->out, '}');
    j_time(j, f, "generated", NULL, d->generated_ms);
    j_text(j, f, "currency", d->currency);
}

static void json_totals(struct json *j, bool *f)
{
    const struct ctx *c = j->c;
    const struct sb_report_data *d = c->d;
    const struct sb_report_meter *p = c->peak;
    bool g = true;

    j_key(j, f, "totals");
    buf_putc(&j->out, '{');
    j_num(j, &g, "kwh", c->total_kwh);
    j_num(j, &g, "prev_kwh", d->prev_total_kwh);
    j_num(j, &g, "change_pct", c->change_pct);
    j_num(j, &g, "cost", d->total_cost);
    j_num(j, &g, "peak_kw", p ? p->peak_kw : NAN);
    j_time(j, &g, "peak_at", "peak_at_local", p ? p->peak_at_ms : 0);
    j_text(j, &g, "peak_meter", p ? name_of(p->slug, NULL) : NULL);
    buf_putc(&j->out, '}');
    j_key(j, f, "savings");
    if (!d->has_savings) {
        buf_puts(&j->out, "null");
        return;
    }
    buf_putc(&j->out, '{');
    g = true;
    j_num(j, &g, "pct", d->savings_pct);
    j_num(j, &g, "kwh", d->savings_kwh);
    j_num(j, &g, "lo_kwh", d->savings_lo_kwh);
    j_num(j, &g, "hi_kwh", d->savings_hi_kwh);
    j_text(j, &g, "note", d->savings_note);
    buf_putc(&j->out, '}');
}

static void json_comfort(struct json *j, bool *f)
{
    const struct ctx *c = j->c;
    bool g = true;
    j_key(j, f, "comfort");
    buf_putc(&j->out, '{');
    j_num(j, &g, "occupied_h", c->occ_h);
    j_num(j, &g, "outside_h", c->out_h);
    j_num(j, &g, "outside_pct", c->out_pct);
    j_num(j, &g, "outside_kh", c->out_kh);
    buf_putc(&j->out, '}');
}

static void json_days(struct json *j, bool *f)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true;
    j_key(j, f, "days");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->ndays; i++) {
        bool h = true;
        j_key(j, &g, NULL);
        buf_putc(&j->out, '{');
        j_day(j, &h, "date", local_day(j->c->tz, d->day_start_ms[i]));
        j_when(j, &h, "start", NULL, d->day_start_ms[i], true);
        j_num(j, &h, "hours", day_hours(d, i));
        buf_putc(&j->out, '}');
    }
    buf_putc(&j->out, ']');
}

static void json_meter(struct json *j, const struct sb_report_meter *m)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true, h = true;

    buf_putc(&j->out, '{');
    j_text(j, &g, "slug", name_of(m->slug, NULL));
    j_text(j, &g, "name", name_of(m->name, m->slug));
    j_num(j, &g, "depth", m->depth);
    j_text(j, &g, "level", level_names[m->depth]);
    j_num(j, &g, "total_kwh", m->total_kwh);
    j_num(j, &g, "peak_kw", m->peak_kw);
    j_time(j, &g, "peak_at", "peak_at_local", m->peak_at_ms);
    j_num(j, &g, "cost", m->cost);
    j_key(j, &g, "kwh_day");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->ndays; i++)
        j_num(j, &h, NULL, kwh_of(m, i));
    buf_puts(&j->out, "]}");
}

static void json_meters(struct json *j, bool *f)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true;
    j_key(j, f, "meters");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->nmeters; i++) {
        j_key(j, &g, NULL);
        buf_putc(&j->out, '\n');
        json_meter(j, &d->meters[i]);
    }
    buf_putc(&j->out, ']');
}

static void json_zones(struct json *j, bool *f)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true;
    j_key(j, f, "zones");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->nzones; i++) {
        const struct sb_report_zone *z = &d->zones[i];
        bool h = true;
        j_key(j, &g, NULL);
        buf_puts(&j->out, "\n{");
        j_text(j, &h, "slug", name_of(z->slug, NULL));
        j_text(j, &h, "name", name_of(z->name, z->slug));
        j_num(j, &h, "occupied_h", z->occupied_h);
        j_num(j, &h, "outside_h", z->outside_h);
        j_num(j, &h, "outside_kh", z->outside_kh);
        j_num(j, &h, "mean_temp_c", z->mean_temp_c);
        buf_putc(&j->out, '}');
    }
    buf_putc(&j->out, ']');
}

static void json_faults(struct json *j, bool *f)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true;
    j_key(j, f, "faults");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->nalerts; i++) {
        const struct sb_report_alert *a = &d->alerts[i];
        bool h = true;
        j_key(j, &g, NULL);
        buf_puts(&j->out, "\n{");
        j_time(j, &h, "raised", "raised_local", a->raised_ms);
        j_text(j, &h, "severity", name_of(a->severity, NULL));
        j_text(j, &h, "title", name_of(a->title, NULL));
        j_text(j, &h, "state", name_of(a->state, NULL));
        j_text(j, &h, "equipment", a->equipment);
        j_num(j, &h, "cost_per_day", a->cost_per_day);
        buf_putc(&j->out, '}');
    }
    buf_putc(&j->out, ']');
}

static void json_notes(struct json *j, bool *f)
{
    const struct sb_report_data *d = j->c->d;
    bool g = true;
    j_key(j, f, "notes");
    buf_putc(&j->out, '[');
    for (size_t i = 0; i < d->nnotes; i++)
        j_text(j, &g, NULL, d->notes[i] ? d->notes[i] : "");
    buf_putc(&j->out, ']');
}

int sb_report_json(const struct sb_report_data *d, char **out, size_t *len)
{
    struct json j = { 0 };
    struct ctx c;
    bool f = true;
    int rc;

    if (!out || !len)
        return SB_EINVAL;
    if ((rc = ctx_init(&c, d)))
        return rc;
    j.c = &c;
    buf_putc(&j.out, '{');
    json_head(&j, &f);
    json_totals(&j, &f);
    json_comfort(&j, &f);
    json_days(&j, &f);
    json_meters(&j, &f);
    json_zones(&j, &f);
    json_faults(&j, &f);
    json_notes(&j, &f);
    buf_puts(&j.out, "}\n");
    rc = j.tmp.err;
    free(j.tmp.p);
    if (rc) {
        free(j.out.p);
        return rc;
    }
    return buf_take(&j.out, out, len);
}

/* ---- XLSX (libxlsxwriter) ---- */

static int lxw_rc(lxw_error err)
{
    if (err == LXW_NO_ERROR)
        return 0;
    return err == LXW_ERROR_MEMORY_MALLOC_FAILED ? SB_ENOMEM : SB_EIO;
}

/* Workbook-wide state: formats and scratch text. */
struct xl {
    lxw_workbook *wb;
    const struct ctx *c;
    struct buf tmp;              /* cleaned cell text */
    struct buf lab;              /* composed labels ("Cost (EUR)") */
    lxw_format *bold, *title, *wrap;
    lxw_format *date, *dtime;    /* "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss" (as export.c) */
    lxw_format *kwh, *money, *pct, *one, *count;
    lxw_format *indent[3];       /* meter names by depth */
};

/* A sheet being written; the first error sticks and later writes are
 * skipped, so builders read as a list of rows. */
struct sheet {
    struct xl *x;
    lxw_worksheet *ws;
    lxw_row_t r;                 /* current row */
    int rc;                      /* first error */
};

static lxw_format *num_format(lxw_workbook *wb, const char *fmt)
{
    lxw_format *f = workbook_add_format(wb);
    if (f)
        format_set_num_format(f, fmt);
    return f;
}

static int xl_formats(struct xl *x)
{
    lxw_workbook *wb = x->wb;
    x->bold = workbook_add_format(wb);
    x->title = workbook_add_format(wb);
    x->wrap = workbook_add_format(wb);
    x->date = num_format(wb, "yyyy-mm-dd");
    x->dtime = num_format(wb, "yyyy-mm-dd hh:mm:ss");
    x->kwh = num_format(wb, "#,##0.0");
    x->money = num_format(wb, "#,##0.00");
    x->pct = num_format(wb, "0.0%");
    x->one = num_format(wb, "0.0");
    x->count = num_format(wb, "0");
    for (int i = 0; i < 3; i++)
        x->indent[i] = workbook_add_format(wb);
    if (!x->bold || !x->title || !x->wrap || !x->date || !x->dtime || !x->kwh || !x->money ||
        !x->pct || !x->one || !x->count || !x->indent[0] || !x->indent[1] || !x->indent[2])
        return SB_ENOMEM;
    format_set_bold(x->bold);
    format_set_bold(x->title);
    format_set_font_size(x->title, 14);
    format_set_text_wrap(x->wrap);
    format_set_indent(x->indent[1], 1);
    format_set_indent(x->indent[2], 2);
    return 0;
}

static void put_str(struct sheet *s, lxw_col_t col, const char *raw, lxw_format *f)
{
    if (s->rc)
        return;
    const char *t = text(&s->x->tmp, raw);
    if (s->x->tmp.err)
        s->rc = s->x->tmp.err;
    else if (t[0])    /* an empty string is an absent cell */
        s->rc = lxw_rc(worksheet_write_string(s->ws, s->r, col, t, f));
}

static void put_num(struct sheet *s, lxw_col_t col, double v, lxw_format *f)
{
    if (!s->rc && isfinite(v))
        s->rc = lxw_rc(worksheet_write_number(s->ws, s->r, col, v, f));
}

/* A local day as an Excel date. */
static void put_day(struct sheet *s, lxw_col_t col, int64_t day)
{
    put_num(s, col, XL_EPOCH_DAYS + (double)day, s->x->date);
}

/* An instant as an Excel datetime of the building's wall clock (Excel has
 * no zones); split so the day count stays exact. */
static void put_time(struct sheet *s, lxw_col_t col, int64_t ms)
{
    if (!time_known(ms))
        return;
    int64_t l = local_ms(s->x->c->tz, ms), days = floor_div(l, DAY_MS);
    put_num(s, col, XL_EPOCH_DAYS + (double)days + (double)(l - days * DAY_MS) / (double)DAY_MS,
            s->x->dtime);
}

/* "<what> (<currency>)", or "<what>" without a tariff; valid until the next call. */
static const char *cur_label(struct xl *x, const char *what)
{
    x->lab.len = 0;
    buf_puts(&x->lab, what);
    if (x->c->d->currency) {
        buf_puts(&x->lab, " (");
        text_put(&x->lab, x->c->d->currency);
        buf_putc(&x->lab, ')');
    }
    return x->lab.err ? "" : x->lab.p;
}

/* Width in Excel character units: the text's characters plus margin
 * (export.c's rule), 10-60. */
static double col_width(const char *s)
{
    size_t n = 2;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n < 10 ? 10 : n > 60 ? 60 : (double)n;
}

static void set_width(struct sheet *s, lxw_col_t col, double w)
{
    if (!s->rc)
        s->rc = lxw_rc(worksheet_set_column(s->ws, col, col, w, NULL));
}

/* A bold header row from labels[], each column as wide as its label
 * needs (at least min[i]). */
static void header_row(struct sheet *s, const char *const *labels, const double *min, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double w = col_width(labels[i]);
        put_str(s, (lxw_col_t)i, labels[i], s->x->bold);
        set_width(s, (lxw_col_t)i, w > min[i] ? w : min[i]);
    }
    if (!s->rc)
        worksheet_freeze_panes(s->ws, 1, 0);
}

static void add_sheet(struct xl *x, struct sheet *s, const char *name)
{
    /* fixed names: none of Excel's forbidden [ ] : * ? / \ (see export.c) */
    s->x = x;
    s->r = 0;
    s->ws = workbook_add_worksheet(x->wb, name);
    s->rc = s->ws ? 0 : SB_ENOMEM;
}

/* ---- Summary sheet ---- */

static void kv_str(struct sheet *s, const char *label, const char *raw)
{
    put_str(s, 0, label, NULL);
    put_str(s, 1, raw, NULL);
    s->r++;
}

static void kv_num(struct sheet *s, const char *label, double v, lxw_format *f)
{
    put_str(s, 0, label, NULL);
    put_num(s, 1, v, f);
    s->r++;
}

static void kv_day(struct sheet *s, const char *label, int64_t day)
{
    put_str(s, 0, label, NULL);
    put_day(s, 1, day);
    s->r++;
}

static void kv_time(struct sheet *s, const char *label, int64_t ms)
{
    put_str(s, 0, label, NULL);
    put_time(s, 1, ms);
    s->r++;
}

static void section(struct sheet *s, const char *title)
{
    s->r++;
    put_str(s, 0, title, s->x->bold);
    s->r++;
}

static void sum_title(struct sheet *s)
{
    const struct ctx *c = s->x->c;
    const struct sb_report_data *d = c->d;
    struct buf *l = &s->x->lab;
    char a[40], b[40];

    l->len = 0;
    buf_puts(l, "Energy report: ");
    text_put(l, name_of(d->building_name, d->building_slug));
    put_str(s, 0, l->err ? "" : l->p, s->x->title);
    s->r++;
    fmt_day(c->first_day, a, sizeof(a));
    fmt_day(c->last_day, b, sizeof(b));
    l->len = 0;
    buf_puts(l, d->frequency);
    buf_puts(l, " report, ");
    buf_puts(l, a);
    buf_puts(l, c->first_day == c->last_day ? "" : " to ");
    buf_puts(l, c->first_day == c->last_day ? "" : b);
    buf_puts(l, ", local time (");
    text_put(l, d->timezone);
    buf_putc(l, ')');
    put_str(s, 0, l->err ? "" : l->p, NULL);
    s->r += 2;
}

static void sum_head(struct sheet *s)
{
    const struct ctx *c = s->x->c;
    const struct sb_report_data *d = c->d;
    kv_str(s, "Building", name_of(d->building_name, d->building_slug));
    kv_str(s, "Building id", d->building_slug);
    kv_str(s, "Report id", d->report_id);
    kv_str(s, "Frequency", d->frequency);
    kv_str(s, "Time zone", d->timezone);
    kv_day(s, "First day", c->first_day);
    kv_day(s, "Last day", c->last_day);
    kv_num(s, "Days", (double)d->ndays, s->x->count);
    kv_time(s, "Generated (local time)", d->generated_ms);
}

static void sum_energy(struct sheet *s)
{
    struct xl *x = s->x;
    const struct ctx *c = x->c;
    const struct sb_report_data *d = c->d;

    section(s, "Energy");
    kv_num(s, "Consumption, main meters (kWh)", c->total_kwh, x->kwh);
    kv_num(s, "Previous period, main meters (kWh)", d->prev_total_kwh, x->kwh);
    kv_num(s, "Change vs previous period", c->change_pct / 100.0, x->pct);
    if (d->currency)
        kv_num(s, cur_label(x, "Cost"), d->total_cost, x->money);
    else
        kv_str(s, "Cost", "no tariff");
    put_str(s, 2, c->peak ? name_of(c->peak->name, c->peak->slug) : NULL, NULL);
    kv_num(s, "Peak demand, highest main meter (kW)", c->peak ? c->peak->peak_kw : NAN, x->kwh);
    kv_time(s, "Peak at (local time)", c->peak ? c->peak->peak_at_ms : 0);
}

static void sum_savings(struct sheet *s)
{
    struct xl *x = s->x;
    const struct sb_report_data *d = x->c->d;

    section(s, "Savings (measurement and verification)");
    if (!d->has_savings) {
        kv_str(s, "Savings", "not computed for this period");
        return;
    }
    kv_num(s, "Savings (% of adjusted baseline)", d->savings_pct / 100.0, x->pct);
    kv_num(s, "Avoided energy (kWh)", d->savings_kwh, x->kwh);
    kv_num(s, "Uncertainty interval, low (kWh)", d->savings_lo_kwh, x->kwh);
    kv_num(s, "Uncertainty interval, high (kWh)", d->savings_hi_kwh, x->kwh);
    kv_str(s, "Method", d->savings_note);
}

static void sum_comfort_faults(struct sheet *s)
{
    struct xl *x = s->x;
    const struct ctx *c = x->c;

    section(s, "Comfort (occupied hours, all zones)");
    kv_num(s, "Occupied zone-hours (h)", c->occ_h, x->one);
    kv_num(s, "Zone-hours outside comfort band (h)", c->out_h, x->one);
    kv_num(s, "Share of occupied hours outside band", c->out_pct / 100.0, x->pct);
    kv_num(s, "Degree-hours outside band (K\xc2\xb7h)", c->out_kh, x->one);
    section(s, "Faults");
    kv_num(s, "Faults listed", (double)c->d->nalerts, x->count);
    kv_num(s, cur_label(x, "Estimated waste per day"), c->fault_cost, x->money);
}

static void sum_notes(struct sheet *s)
{
    const struct sb_report_data *d = s->x->c->d;
    section(s, "Notes");
    if (!d->nnotes) {
        put_str(s, 0, "None.", NULL);
        s->r++;
    }
    for (size_t i = 0; i < d->nnotes; i++, s->r++)
        put_str(s, 0, d->notes[i], NULL);
}

static void sum_meters(struct sheet *s)
{
    struct xl *x = s->x;
    const struct sb_report_data *d = x->c->d;
    static const char *const head[] = { "Meter", "Level", "Total (kWh)", "Peak (kW)",
                                         "Peak at (local time)" };
    section(s, "Meters");
    for (lxw_col_t i = 0; i < 5; i++)
        put_str(s, i, head[i], x->bold);
    put_str(s, 5, cur_label(x, "Cost"), x->bold);
    s->r++;
    for (size_t i = 0; i < d->nmeters; i++, s->r++) {
        const struct sb_report_meter *m = &d->meters[i];
        put_str(s, 0, name_of(m->name, m->slug), x->indent[m->depth]);
        put_str(s, 1, level_names[m->depth], NULL);
        put_num(s, 2, m->total_kwh, x->kwh);
        put_num(s, 3, m->peak_kw, x->kwh);
        put_time(s, 4, m->peak_at_ms);
        put_num(s, 5, m->cost, x->money);
    }
}

static int sheet_summary(struct xl *x)
{
    static const double widths[] = { 42, 22, 14, 12, 22, 14 };
    struct sheet s;

    add_sheet(x, &s, "Summary");
    for (lxw_col_t i = 0; i < 6; i++)
        set_width(&s, i, widths[i]);
    sum_title(&s);
    sum_head(&s);
    sum_energy(&s);
    sum_savings(&s);
    sum_comfort_faults(&s);
    sum_notes(&s);
    sum_meters(&s);
    return s.rc;
}

/* ---- Daily sheet and its chart ---- */

static void daily_header(struct sheet *s)
{
    struct xl *x = s->x;
    const struct sb_report_data *d = x->c->d;

    put_str(s, 0, "Date", x->bold);
    put_str(s, 1, "Hours (h)", x->bold);
    set_width(s, 0, 12);
    set_width(s, 1, 10);
    for (size_t i = 0; i < d->nmeters; i++) {
        const struct sb_report_meter *m = &d->meters[i];
        lxw_col_t col = (lxw_col_t)(i + 2);
        x->lab.len = 0;
        text_put(&x->lab, name_of(m->name, m->slug));
        buf_puts(&x->lab, " (kWh)");
        put_str(s, col, x->lab.err ? "" : x->lab.p, x->bold);
        set_width(s, col, col_width(x->lab.err ? "" : x->lab.p));
    }
    if (!s->rc)
        worksheet_freeze_panes(s->ws, 1, 2);
}

/* A column chart of the main meters' daily kWh below the table.  Series
 * names refer to the header cells (chart_series_set_name would read a
 * name starting with '=' as a formula). */
static void daily_chart(struct sheet *s)
{
    const struct sb_report_data *d = s->x->c->d;
    lxw_row_t last = (lxw_row_t)d->ndays;
    size_t n = 0;

    if (s->rc || !d->ndays || !s->x->c->nmain)
        return;
    lxw_chart *ch = workbook_add_chart(s->x->wb, LXW_CHART_COLUMN);
    if (!ch) {
        s->rc = SB_ENOMEM;
        return;
    }
    for (size_t i = 0; i < d->nmeters && n < MAX_CHART_SERIES; i++) {
        lxw_col_t col = (lxw_col_t)(i + 2);
        if (d->meters[i].depth != 0)
            continue;
        lxw_chart_series *ser = chart_add_series(ch, NULL, NULL);
        if (!ser) {
            s->rc = SB_ENOMEM;
            return;
        }
        chart_series_set_categories(ser, "Daily", 1, 0, last, 0);
        chart_series_set_values(ser, "Daily", 1, col, last, col);
        chart_series_set_name_range(ser, "Daily", 0, col);
        n++;
    }
    chart_title_set_name(ch, "Daily consumption, main meters");
    chart_axis_set_name(ch->y_axis, "kWh");
    chart_axis_set_num_format(ch->x_axis, "dd mmm");
    chart_legend_set_position(ch, LXW_CHART_LEGEND_BOTTOM);
    lxw_chart_options o = { .x_scale = d->ndays > 10 ? 2.0 : 1.25, .y_scale = 1.25 };
    s->rc = lxw_rc(worksheet_insert_chart_opt(s->ws, last + 2, 0, ch, &o));
}

static int sheet_daily(struct xl *x)
{
    const struct sb_report_data *d = x->c->d;
    struct sheet s;

    add_sheet(x, &s, "Daily");
    daily_header(&s);
    for (size_t i = 0; i < d->ndays; i++) {
        s.r = (lxw_row_t)(i + 1);
        put_day(&s, 0, local_day(x->c->tz, d->day_start_ms[i]));
        put_num(&s, 1, day_hours(d, i), x->one);
        for (size_t m = 0; m < d->nmeters; m++)
            put_num(&s, (lxw_col_t)(m + 2), kwh_of(&d->meters[m], i), x->kwh);
    }
    daily_chart(&s);
    return s.rc;
}

/* ---- Comfort and Faults sheets ---- */

static int sheet_comfort(struct xl *x)
{
    static const char *const head[] = {
        "Zone", "Zone id", "Occupied (h)", "Outside band (h)",
        "Outside band (% of occupied)", "Outside band (K\xc2\xb7h)", "Mean temperature (\302\260C)"
    };
    static const double min[] = { 30, 16, 12, 12, 12, 12, 12 };
    const struct sb_report_data *d = x->c->d;
    struct sheet s;

    add_sheet(x, &s, "Comfort");
    header_row(&s, head, min, 7);
    if (!d->nzones) {
        s.r = 1;
        put_str(&s, 0, "No comfort data for this period.", NULL);
    }
    for (size_t i = 0; i < d->nzones; i++) {
        const struct sb_report_zone *z = &d->zones[i];
        s.r = (lxw_row_t)(i + 1);
        put_str(&s, 0, name_of(z->name, z->slug), NULL);
        put_str(&s, 1, z->slug, NULL);
        put_num(&s, 2, z->occupied_h, x->one);
        put_num(&s, 3, z->outside_h, x->one);
        put_num(&s, 4, z->occupied_h > 0 ? z->outside_h / z->occupied_h : NAN, x->pct);
        put_num(&s, 5, z->outside_kh, x->one);
        put_num(&s, 6, z->mean_temp_c, x->one);
    }
    return s.rc;
}

static int sheet_faults(struct xl *x)
{
    static const double min[] = { 20, 10, 40, 20, 12, 16 };
    const struct sb_report_data *d = x->c->d;
    const char *head[6] = { "Raised (local time)", "Severity", "Title", "Equipment", "State", NULL };
    struct sheet s;

    add_sheet(x, &s, "Faults");
    head[5] = cur_label(x, "Estimated waste per day");
    header_row(&s, head, min, 6);
    if (!d->nalerts) {
        s.r = 1;
        put_str(&s, 0, "No faults in this period.", NULL);
    }
    for (size_t i = 0; i < d->nalerts; i++) {
        const struct sb_report_alert *a = &d->alerts[i];
        s.r = (lxw_row_t)(i + 1);
        put_time(&s, 0, a->raised_ms);
        put_str(&s, 1, a->severity, NULL);
        put_str(&s, 2, a->title, x->wrap);
        put_str(&s, 3, a->equipment, NULL);
        put_str(&s, 4, a->state, NULL);
        put_num(&s, 5, a->cost_per_day, x->money);
    }
    return s.rc;
}

/* Title, author and a creation time taken from the data (not the clock),
 * so the same figures give the same bytes. */
static int xl_properties(struct xl *x)
{
    const struct sb_report_data *d = x->c->d;
    lxw_doc_properties p = { 0 };

    x->lab.len = 0;
    buf_puts(&x->lab, "Energy report: ");
    text_put(&x->lab, name_of(d->building_name, d->building_slug));
    if (x->lab.err)
        return x->lab.err;
    p.title = x->lab.p;
    p.author = "sbems";
    p.created = (time_t)((time_known(d->generated_ms) ? d->generated_ms : d->to_ms) / 1000);
    return lxw_rc(workbook_set_properties(x->wb, &p));
}

static int xl_build(struct xl *x)
{
    int rc = xl_formats(x);
    if (!rc)
        rc = xl_properties(x);
    if (!rc)
        rc = sheet_summary(x);
    if (!rc)
        rc = sheet_daily(x);
    if (!rc)
        rc = sheet_comfort(x);
    if (!rc)
        rc = sheet_faults(x);
    return rc;
}

/* Read the finished file into a malloc'd buffer. */
static int slurp(const char *path, unsigned char **out, size_t *len)
{
    struct stat st;
    unsigned char *p = NULL;
    size_t n = 0;
    int rc = SB_EIO, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return SB_EIO;
    if (fstat(fd, &st) != 0 || st.st_size <= 0)
        goto out;
    rc = (uint64_t)st.st_size > SB_REPORT_OUT_MAX ? SB_ENOSPC : 0;
    if (!rc && !(p = malloc((size_t)st.st_size)))
        rc = SB_ENOMEM;
    while (!rc && n < (size_t)st.st_size) {
        ssize_t k = read(fd, p + n, (size_t)st.st_size - n);
        if (k <= 0)
            rc = SB_EIO;
        else
            n += (size_t)k;
    }
out:
    close(fd);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    *len = n;
    return 0;
}

/* A private, empty file "<tmpdir>/.sbems-report-XXXXXX.xlsx" (mkstemp's
 * O_EXCL means nobody else's file is reused). */
static char *make_tmp(const char *tmpdir)
{
    size_t n = strlen(tmpdir) + sizeof("/.sbems-report-XXXXXX.xlsx");
    char *p = malloc(n);
    if (!p)
        return NULL;
    snprintf(p, n, "%s/.sbems-report-XXXXXX.xlsx", tmpdir);
    int fd = mkostemps(p, 5, O_CLOEXEC);
    if (fd < 0) {
        free(p);
        return NULL;
    }
    close(fd);
    return p;
}

int sb_report_xlsx(const struct sb_report_data *d, const char *tmpdir, unsigned char **out,
                   size_t *len)
{
    struct xl x = { 0 };
    struct ctx c;
    char *path;
    int rc;

    if (!out || !len || !tmpdir || !*tmpdir)
        return SB_EINVAL;
    if ((rc = ctx_init(&c, d)))
        return rc;
    if (!(path = make_tmp(tmpdir)))
        return SB_EIO;
    /* libxlsxwriter only reads tmpdir; its field is not const */
    lxw_workbook_options o = { .tmpdir = (char *)tmpdir };
    x.c = &c;
    x.wb = workbook_new_opt(path, &o);
    rc = x.wb ? xl_build(&x) : SB_ENOMEM;
    if (x.wb && rc)
        lxw_workbook_free(x.wb);
    else if (x.wb)
        rc = lxw_rc(workbook_close(x.wb));   /* frees the workbook in any case */
    if (!rc)
        rc = slurp(path, out, len);
    unlink(path);
    free(path);
    free(x.tmp.p);
    free(x.lab.p);
    return rc;
}

/* ---- download name ---- */

/* Copy s keeping [A-Za-z0-9._-]; each run of other bytes becomes one '_',
 * and a leading '.' or '-' too (no hidden files, no options). */
static void safe_part(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && k + 1 < cap; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '_' ||
                  ((*p == '.' || *p == '-') && k > 0);
        if (ok)
            out[k++] = (char)*p;
        else if (!k || out[k - 1] != '_')
            out[k++] = '_';
    }
    out[k] = '\0';
    if (!k || !strcmp(out, "_"))
        snprintf(out, cap, "building");
}

int sb_report_filename(const struct sb_report_data *d, const char *ext, char *buf, size_t cap)
{
    char slug[65], day[40];
    struct ctx c;
    size_t n = ext ? strlen(ext) : 0;
    int rc;

    if (!buf || n < 1 || n > 8)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!((ext[i] >= 'a' && ext[i] <= 'z') || (ext[i] >= 'A' && ext[i] <= 'Z') ||
              (ext[i] >= '0' && ext[i] <= '9')))
            return SB_EINVAL;
    if ((rc = ctx_init(&c, d)))
        return rc;
    safe_part(d->building_slug, slug, sizeof(slug));
    fmt_day(c.first_day, day, sizeof(day));
    int k = snprintf(buf, cap, "%s-%s-%s.%s", slug, d->frequency, day, ext);
    if (k < 0 || (size_t)k >= cap) {
        if (cap)
            buf[0] = '\0';
        return SB_ENOSPC;
    }
    return k;
}

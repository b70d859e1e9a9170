/*
 * test_report.c - the report builders (src/analytics/report.c).
 *
 * One filled report (Europe/London, the week of 2026-03-23 whose Sunday is
 * the 23-hour day the clocks go forward; NaN gaps; names with commas,
 * quotes, formula-like text, non-ASCII and ill-formed bytes) built in each
 * format and read back independently:
 *  - CSV by a strict RFC 4180 parser below, cell by cell;
 *  - JSON by jansson (which also rejects ill-formed UTF-8);
 *  - XLSX by openpyxl (/usr/bin/python3): sheet names, cells, that dates
 *    are dates, that no cell is a formula, and the chart's references.
 * Plus a 25-hour day, empty reports, validation, the download name, and a
 * property test of random names through all three formats.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analytics/report.h"
#include "core/err.h"
#include "core/tz.h"
#include "tap.h"

#define DAY_MS 86400000LL
#define H_MS 3600000LL
#define NDAYS 7
#define NMETERS 5

static char tmpl[] = "/tmp/sbems-test-report-XXXXXX";
static char *root;

/* ---------- the sample report ---------- */

static const char *const bname = "=Si\xc3\xa8ge \"Nord\", B\xc3\xa2timent \xe6\x9d\xb1\xe4\xba\xac";
static const char *const hvac_name = "=HYPERLINK(\"http://x\",\"y\")";
static const char *const light_name = "-Lighting, \"floor 1\"";
static const char *const lab_name = "\xc3\x89" "clairage labo \xe6\x9d\xb1\xe4\xba\xac @2";

static const double kwh_main[NDAYS] = { 1200.5, 1100.25, NAN, 1300, 1250.125, 800, 700.5 };
static const double kwh_pv[NDAYS] = { -50, -60.5, NAN, NAN, -40, -70, -79.5 };
static const double kwh_hvac[NDAYS] = { 400, 380.75, NAN, 410, 405, 100, 90 };
static const double kwh_light[NDAYS] = { 150, 149.5, NAN, 151, 150, 20, 0.30000000000000004 };

static const char *const notes[] = {
    "Main incomer offline on 2026-03-25 (no data)",
    "line one\nline two",
    "bad \xff\xfe bytes\x01",
    "@SUM(A1)",
};

struct sample {
    int64_t days[NDAYS];
    struct sb_report_meter meters[NMETERS];
    struct sb_report_zone zones[2];
    struct sb_report_alert alerts[2];
    struct sb_report_data d;
};

static int64_t utc_ms(int y, unsigned m, unsigned d, int h, int min)
{
    return sb_days_from_civil(y, m, d) * DAY_MS + h * H_MS + min * 60000LL;
}

/* The UK goes to BST at 01:00 UTC on Sunday 2026-03-29 (last Sunday of
 * March), so that local day is 23 hours and the week ends at 23:00 UTC. */
static void sample_init(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < NDAYS; i++)
        s->days[i] = utc_ms(2026, 3, 23 + i, 0, 0);
    s->meters[0] = (struct sb_report_meter){ "main", "Main incomer", 0, kwh_main, 7000, 250.5,
                                             utc_ms(2026, 3, 29, 10, 0), 1400.75 };
    s->meters[1] = (struct sb_report_meter){ "pv", "+PV export, roof", 0, kwh_pv, -300, 40,
                                             utc_ms(2026, 3, 24, 12, 30), NAN };
    s->meters[2] = (struct sb_report_meter){ "hvac", hvac_name, 1, kwh_hvac, 1785.75, 120, 0, 357.15 };
    s->meters[3] = (struct sb_report_meter){ "light", light_name, 1, kwh_light, NAN, NAN, 0, NAN };
    s->meters[4] = (struct sb_report_meter){ "lab", lab_name, 2, NULL, NAN, NAN, 0, NAN };
    s->zones[0] = (struct sb_report_zone){ "z1", "Open plan, 2nd floor", 50, 12.5, 10, 21.5 };
    s->zones[1] = (struct sb_report_zone){ "z2", "R\xc3\xa9union", 30, NAN, 5, NAN };
    s->alerts[0] = (struct sb_report_alert){ utc_ms(2026, 3, 29, 8, 30), "high",
                                             "=cmd|' /C calc'!A0", "open", "AHU-1, \"roof\"", 35.5 };
    s->alerts[1] = (struct sb_report_alert){ 0, "low", "Filter dirty", "acknowledged", NULL, NAN };
    s->d = (struct sb_report_data){
        .report_id = "hq-weekly", .building_slug = "hq", .building_name = bname,
        .timezone = "Europe/London", .frequency = "weekly",
        .from_ms = s->days[0], .to_ms = utc_ms(2026, 3, 29, 23, 0),
        .generated_ms = utc_ms(2026, 3, 30, 5, 0), .currency = "EUR",
        .ndays = NDAYS, .day_start_ms = s->days, .nmeters = NMETERS, .meters = s->meters,
        .total_cost = 1400.75, .prev_total_kwh = 5360,   /* 6700 / 5360 = +25 % */
        .has_savings = 1, .savings_pct = 8.5, .savings_kwh = 620, .savings_lo_kwh = 410,
        .savings_hi_kwh = 830, .savings_note = "Option C, TOWT, 90 % confidence",
        .nzones = 2, .zones = s->zones, .nalerts = 2, .alerts = s->alerts,
        .notes = notes, .nnotes = 4,
    };
}

/* ---------- a strict RFC 4180 reader ---------- */

#define CSV_MAX_ROWS 128
#define CSV_MAX_FIELDS 16

struct csvdoc {
    char *f[CSV_MAX_ROWS][CSV_MAX_FIELDS];
    size_t nf[CSV_MAX_ROWS];
    size_t nrows;
};

static void csv_free(struct csvdoc *c)
{
    for (size_t r = 0; r < c->nrows; r++)
        for (size_t i = 0; i < c->nf[r]; i++)
            free(c->f[r][i]);
    c->nrows = 0;
}

/* One field at s[*i]: quoted ("" for a quote) or plain (no quote, CR or
 * LF inside).  Returns a malloc'd copy or NULL on a syntax error. */
static char *csv_field(const char *s, size_t len, size_t *i)
{
    char *out = malloc(len + 1);
    size_t k = 0;
    if (!out)
        return NULL;
    if (*i < len && s[*i] == '"') {
        for ((*i)++;; (*i)++) {
            if (*i >= len)
                goto bad;
            if (s[*i] == '"') {
                if (*i + 1 < len && s[*i + 1] == '"')
                    (*i)++;
                else
                    break;
            }
            out[k++] = s[*i];
        }
        (*i)++;
    } else {
        for (; *i < len && s[*i] != ',' && s[*i] != '\r'; (*i)++) {
            if (s[*i] == '"' || s[*i] == '\n')
                goto bad;
            out[k++] = s[*i];
        }
    }
    out[k] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* Records end in CRLF, the last one too.  0 or -1. */
static int csv_parse(const char *s, size_t len, struct csvdoc *c)
{
    size_t i = 0;
    memset(c, 0, sizeof(*c));
    while (i < len) {
        size_t r = c->nrows;
        if (r == CSV_MAX_ROWS)
            return -1;
        c->nrows++;
        for (;;) {
            char *f = c->nf[r] < CSV_MAX_FIELDS ? csv_field(s, len, &i) : NULL;
            if (!f)
                return -1;
            c->f[r][c->nf[r]++] = f;
            if (i < len && s[i] == ',') {
                i++;
                continue;
            }
            if (i + 1 < len && s[i] == '\r' && s[i + 1] == '\n') {
                i += 2;
                break;
            }
            return -1;
        }
    }
    return 0;
}

/* The value of "summary,<key>,<value>" (the first such row), or NULL. */
static const char *csv_sum(const struct csvdoc *c, const char *key)
{
    for (size_t r = 0; r < c->nrows; r++)
        if (c->nf[r] >= 3 && !strcmp(c->f[r][0], "summary") && !strcmp(c->f[r][1], key))
            return c->f[r][2];
    return NULL;
}

static double num_of(const char *s)
{
    char *end;
    if (!s || !*s)
        return NAN;
    double v = strtod(s, &end);
    return *end ? -12345.678 : v;
}

/* ---------- CSV ---------- */

TEST(csv_cells)
{
    struct sample s;
    struct csvdoc c;
    char *out = NULL;
    size_t len = 0;

    sample_init(&s);
    REQUIRE(sb_report_csv(&s.d, &out, &len) == 0);
    CHECK_EQ(strlen(out), len);
    REQUIRE(csv_parse(out, len, &c) == 0);
    for (size_t r = 0; r < c.nrows; r++)
        CHECK_EQ(c.nf[r], NMETERS + 2);   /* rectangular */
    static const char *const head[] = {
        "date", "hours", "Main incomer (kWh)", "'+PV export, roof (kWh)",
        "'=HYPERLINK(\"http://x\",\"y\") (kWh)", "'-Lighting, \"floor 1\" (kWh)",
        "\303\211clairage labo \xe6\x9d\xb1\xe4\xba\xac @2 (kWh)",
    };
    for (int i = 0; i < NMETERS + 2; i++)
        CHECK_STR(c.f[0][i], head[i]);
    const double *cols[] = { kwh_main, kwh_pv, kwh_hvac, kwh_light };
    for (int d = 0; d < NDAYS; d++) {
        char date[32];
        snprintf(date, sizeof(date), "2026-03-%02d", 23 + d);
        CHECK_STR(c.f[d + 1][0], date);
        CHECK_STR(c.f[d + 1][1], d == 6 ? "23" : "24");   /* the spring-forward day */
        for (int m = 0; m < 4; m++) {
            if (isnan(cols[m][d]))
                CHECK_STR(c.f[d + 1][m + 2], "");
            else
                CHECK(num_of(c.f[d + 1][m + 2]) == cols[m][d]);   /* exact */
        }
        CHECK_STR(c.f[d + 1][6], "");                     /* no data at all */
    }
    CHECK_STR(c.f[7][5], "0.30000000000000004");          /* shortest exact text */
    for (int i = 0; i < NMETERS + 2; i++)
        CHECK_STR(c.f[8][i], "");                         /* the separating record */
    csv_free(&c);
    free(out);
}

TEST(csv_summary)
{
    struct sample s;
    struct csvdoc c;
    char *out = NULL;
    size_t len = 0;

    sample_init(&s);
    REQUIRE(sb_report_csv(&s.d, &out, &len) == 0);
    REQUIRE(csv_parse(out, len, &c) == 0);
    CHECK_STR(csv_sum(&c, "building_name"),
              "'=Si\xc3\xa8ge \"Nord\", B\xc3\xa2timent \xe6\x9d\xb1\xe4\xba\xac");
    CHECK_STR(csv_sum(&c, "timezone"), "Europe/London");
    CHECK_STR(csv_sum(&c, "first_day"), "2026-03-23");
    CHECK_STR(csv_sum(&c, "last_day"), "2026-03-29");
    CHECK_STR(csv_sum(&c, "days"), "7");
    CHECK_STR(csv_sum(&c, "period_start"), "2026-03-23T00:00:00.000Z");
    CHECK_STR(csv_sum(&c, "period_end"), "2026-03-29T23:00:00.000Z");
    CHECK_STR(csv_sum(&c, "generated"), "2026-03-30T05:00:00.000Z");
    CHECK_STR(csv_sum(&c, "total_kwh"), "6700");          /* 7000 + (-300) */
    CHECK_STR(csv_sum(&c, "change_pct"), "25");
    CHECK_STR(csv_sum(&c, "total_cost"), "1400.75");
    CHECK_STR(csv_sum(&c, "peak_kw"), "250.5");
    CHECK_STR(csv_sum(&c, "peak_at"), "2026-03-29T11:00:00.000+01:00");   /* BST */
    CHECK_STR(csv_sum(&c, "peak_meter"), "main");
    CHECK_STR(csv_sum(&c, "savings_lo_kwh"), "410");
    CHECK_STR(csv_sum(&c, "savings_note"), "Option C, TOWT, 90 % confidence");
    CHECK_STR(csv_sum(&c, "comfort_outside_pct"), "18.75");   /* 15 h of 80 */
    CHECK_STR(csv_sum(&c, "comfort_outside_kh"), "12.5");     /* NaN skipped */
    CHECK_STR(csv_sum(&c, "faults"), "2");
    CHECK_STR(csv_sum(&c, "faults_cost_per_day"), "35.5");
    CHECK_STR(csv_sum(&c, "meter:pv:total_kwh"), "-300");     /* a number: no apostrophe */
    CHECK_STR(csv_sum(&c, "meter:light:total_kwh"), "");
    CHECK_STR(csv_sum(&c, "meter:main:peak_at"), "2026-03-29T11:00:00.000+01:00");
    CHECK_STR(csv_sum(&c, "meter:pv:peak_at"), "2026-03-24T12:30:00.000+00:00");
    CHECK_STR(csv_sum(&c, "meter:hvac:cost"), "357.15");
    /* notes in order, repaired and guarded */
    const char *want[] = { notes[0], "line one\nline two",
                           "bad \xef\xbf\xbd\xef\xbf\xbd bytes ", "'@SUM(A1)" };
    int k = 0;
    for (size_t r = 0; r < c.nrows; r++)
        if (c.nf[r] >= 3 && !strcmp(c.f[r][1], "note") && k < 4)
            CHECK_STR(c.f[r][2], want[k++]);
    CHECK_EQ(k, 4);
    csv_free(&c);
    free(out);
}

/* ---------- JSON ---------- */

static json_t *json_of(const struct sb_report_data *d)
{
    char *out = NULL;
    size_t len = 0;
    json_error_t e;
    if (sb_report_json(d, &out, &len) != 0)
        return NULL;
    json_t *doc = json_loadb(out, len, 0, &e);
    if (!doc)
        printf("#   jansson: %s at line %d col %d\n", e.text, e.line, e.column);
    free(out);
    return doc;
}

static const char *jstr(json_t *o, const char *path0, const char *path1)
{
    json_t *v = json_object_get(o, path0);
    if (path1)
        v = json_object_get(v, path1);
    return json_string_value(v);
}

static double jnum(json_t *o, const char *path0, const char *path1)
{
    json_t *v = json_object_get(o, path0);
    if (path1)
        v = json_object_get(v, path1);
    return json_is_number(v) ? json_number_value(v) : json_is_null(v) ? NAN : -12345.678;
}

TEST(json_everything)
{
    struct sample s;
    sample_init(&s);
    json_t *doc = json_of(&s.d);
    REQUIRE(doc);
    CHECK_STR(jstr(doc, "format", NULL), "sbems-report/1");
    CHECK_STR(jstr(doc, "building", "name"), bname);      /* JSON needs no guard */
    CHECK_STR(jstr(doc, "period", "from"), "2026-03-23T00:00:00.000Z");
    CHECK_STR(jstr(doc, "period", "to"), "2026-03-29T23:00:00.000Z");
    CHECK_STR(jstr(doc, "period", "last_day"), "2026-03-29");
    CHECK_STR(jstr(doc, "currency", NULL), "EUR");
    CHECK_DBL(jnum(doc, "totals", "kwh"), 6700, 0);
    CHECK_DBL(jnum(doc, "totals", "change_pct"), 25, 0);
    CHECK_STR(jstr(doc, "totals", "peak_at"), "2026-03-29T10:00:00.000Z");
    CHECK_STR(jstr(doc, "totals", "peak_at_local"), "2026-03-29T11:00:00.000+01:00");
    CHECK_DBL(jnum(doc, "savings", "hi_kwh"), 830, 0);
    CHECK_DBL(jnum(doc, "comfort", "outside_pct"), 18.75, 0);

    json_t *days = json_object_get(doc, "days");
    CHECK_EQ(json_array_size(days), NDAYS);
    CHECK_STR(jstr(json_array_get(days, 6), "date", NULL), "2026-03-29");
    CHECK_DBL(jnum(json_array_get(days, 6), "hours", NULL), 23, 0);
    CHECK_DBL(jnum(json_array_get(days, 5), "hours", NULL), 24, 0);

    json_t *meters = json_object_get(doc, "meters");
    REQUIRE(json_array_size(meters) == NMETERS);
    json_t *m0 = json_array_get(meters, 0), *m4 = json_array_get(meters, 4);
    json_t *kd = json_object_get(m0, "kwh_day");
    CHECK_EQ(json_array_size(kd), NDAYS);
    CHECK_DBL(json_real_value(json_array_get(kd, 0)), 1200.5, 0);
    CHECK(json_is_null(json_array_get(kd, 2)));
    CHECK_STR(jstr(json_array_get(meters, 2), "name", NULL), hvac_name);
    CHECK_STR(jstr(m4, "name", NULL), lab_name);
    CHECK_STR(jstr(m4, "level", NULL), "sub-meter");
    CHECK_EQ(json_array_size(json_object_get(m4, "kwh_day")), NDAYS);
    for (size_t i = 0; i < NDAYS; i++)
        CHECK(json_is_null(json_array_get(json_object_get(m4, "kwh_day"), i)));
    CHECK(json_is_null(json_object_get(m4, "peak_at")));
    CHECK_DBL(json_real_value(json_array_get(json_object_get(json_array_get(meters, 3), "kwh_day"), 6)),
              0.30000000000000004, 0);

    json_t *z1 = json_array_get(json_object_get(doc, "zones"), 1);
    CHECK(json_is_null(json_object_get(z1, "outside_kh")));
    CHECK_STR(jstr(z1, "name", NULL), "R\xc3\xa9union");
    json_t *f0 = json_array_get(json_object_get(doc, "faults"), 0);
    json_t *f1 = json_array_get(json_object_get(doc, "faults"), 1);
    CHECK_STR(jstr(f0, "raised_local", NULL), "2026-03-29T09:30:00.000+01:00");
    CHECK_STR(jstr(f0, "equipment", NULL), "AHU-1, \"roof\"");
    CHECK(json_is_null(json_object_get(f1, "raised")));
    CHECK(json_is_null(json_object_get(f1, "equipment")));
    CHECK(json_is_null(json_object_get(f1, "cost_per_day")));
    json_t *n = json_object_get(doc, "notes");
    CHECK_EQ(json_array_size(n), 4);
    CHECK_STR(json_string_value(json_array_get(n, 1)), "line one\nline two");
    CHECK_STR(json_string_value(json_array_get(n, 2)), "bad \xef\xbf\xbd\xef\xbf\xbd bytes ");
    json_decref(doc);
}

/* New York falls back on Sunday 2026-11-01: a 25-hour daily report. */
TEST(fall_back_day)
{
    const int64_t from = utc_ms(2026, 11, 1, 4, 0), to = utc_ms(2026, 11, 2, 5, 0);
    const double kwh[1] = { 99.5 };
    const struct sb_report_meter m = { "m", "Main", 0, kwh, 99.5, 10, from + 90 * 60000LL, NAN };
    struct sb_report_data d = {
        .building_slug = "ny", .timezone = "America/New_York", .frequency = "daily",
        .from_ms = from, .to_ms = to, .prev_total_kwh = NAN, .total_cost = NAN,
        .ndays = 1, .day_start_ms = &from, .nmeters = 1, .meters = &m,
    };
    json_t *doc = json_of(&d);
    REQUIRE(doc);
    CHECK_STR(jstr(doc, "period", "first_day"), "2026-11-01");
    CHECK_STR(jstr(doc, "period", "last_day"), "2026-11-01");
    CHECK_DBL(jnum(json_array_get(json_object_get(doc, "days"), 0), "hours", NULL), 25, 0);
    /* 05:30Z is the first of the two 01:30s, still EDT */
    CHECK_STR(jstr(doc, "totals", "peak_at_local"), "2026-11-01T01:30:00.000-04:00");
    CHECK(json_is_null(json_object_get(doc, "currency")));
    CHECK(json_is_null(json_object_get(doc, "savings")));
    CHECK(json_is_null(json_object_get(doc, "report_id")));
    json_decref(doc);

    char *out = NULL;
    size_t len = 0;
    struct csvdoc c;
    REQUIRE(sb_report_csv(&d, &out, &len) == 0);
    REQUIRE(csv_parse(out, len, &c) == 0);
    CHECK_EQ(c.nf[0], 3);
    CHECK_STR(c.f[1][0], "2026-11-01");
    CHECK_STR(c.f[1][1], "25");
    CHECK_STR(c.f[1][2], "99.5");
    CHECK_STR(csv_sum(&c, "currency"), "");
    CHECK_STR(csv_sum(&c, "change_pct"), "");
    csv_free(&c);
    free(out);
}

/* ---------- XLSX ---------- */

/* Entries of root other than . and .. (temporary files must not linger). */
static int count_entries(void)
{
    DIR *d = opendir(root);
    int n = 0;
    struct dirent *de;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t k = fwrite(p, 1, n, f);
    return fclose(f) == 0 && k == n ? 0 : -1;
}

static int have_openpyxl(void)
{
    return system("/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1") == 0;
}

/* What openpyxl and zipfile see: one line per fact or row (values as
 * Python repr), so the C side compares whole lines. */
static const char dump_py[] =
    "import re, sys, zipfile, openpyxl\n"
    "p = sys.argv[1]\n"
    "wb = openpyxl.load_workbook(p)\n"
    "print('sheets', ','.join(wb.sheetnames))\n"
    "print('formulas', sum(c.data_type == 'f' for ws in wb.worksheets\n"
    "                      for r in ws.iter_rows() for c in r))\n"
    "print('title', repr(wb.properties.title), wb.properties.creator, wb.properties.created)\n"
    "def rows(tag, ws):\n"
    "    for r in ws.iter_rows():\n"
    "        v = [c.value for c in r]\n"
    "        while v and v[-1] is None: v.pop()\n"
    "        if v: print(tag, repr(tuple(v)))\n"
    "for tag, name in (('S', 'Summary'), ('D', 'Daily'), ('C', 'Comfort'), ('F', 'Faults')):\n"
    "    rows(tag, wb[name])\n"
    "d = wb['Daily']\n"
    "print('Dfmt', d['A2'].number_format, d['A2'].is_date, d['B2'].number_format,\n"
    "      d['C2'].number_format, d.freeze_panes)\n"
    "s = wb['Summary']\n"
    "for r in s.iter_rows(max_col=2):\n"
    "    if r[1].value is not None and not isinstance(r[1].value, str):\n"
    "        print('fmt', r[0].value, '|', r[1].number_format, r[1].is_date)\n"
    "print('width', s.column_dimensions['A'].width, d.column_dimensions['E'].width)\n"
    "z = zipfile.ZipFile(p)\n"
    "charts = sorted(n for n in z.namelist() if n.startswith('xl/charts/'))\n"
    "print('charts', charts)\n"
    "for n in charts:\n"
    "    print('refs', re.findall(r'<c:f>(.*?)</c:f>', z.read(n).decode()))\n";

/* Run dump_py on path; its stdout (malloc'd, NUL-terminated) or NULL. */
static char *xlsx_dump(const char *path)
{
    char script[300], cmd[800];
    snprintf(script, sizeof(script), "%s/dump.py", root);
    if (write_file(script, dump_py, sizeof(dump_py) - 1))
        return NULL;
    snprintf(cmd, sizeof(cmd), "PYTHONIOENCODING=utf-8 /usr/bin/python3 %s %s 2>&1", script, path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *out = malloc(cap);
    while (out && n + 1 < cap && (k = fread(out + n, 1, cap - 1 - n, p)) > 0)
        n += k;
    pclose(p);
    unlink(script);
    if (out)
        out[n] = '\0';
    return out;
}

/* text as TAP comment lines. */
static void print_comment(const char *what, const char *text)
{
    printf("# %s:\n# ", what);
    for (; *text; text++)
        printf(*text == '\n' && text[1] ? "\n# " : "%c", *text);
    printf("\n");
}

/* got holds line as a whole line. */
static void check_line(const char *got, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = got; p && (p = strstr(p, line)) != NULL; p++)
        if ((p == got || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return;
    TAP_FAIL("line not found: %s", line);
}

/* Build the sample as XLSX and return openpyxl's view of it. */
static char *sample_xlsx_dump(const struct sb_report_data *d)
{
    unsigned char *x = NULL;
    size_t n = 0;
    char p[300];
    int before = count_entries();

    if (sb_report_xlsx(d, root, &x, &n) != 0)
        return NULL;
    CHECK_EQ(count_entries(), before);                     /* temp file unlinked */
    CHECK(n > 4 && memcmp(x, "PK\x03\x04", 4) == 0);      /* a zip container */
    snprintf(p, sizeof(p), "%s/sample.xlsx", root);
    int rc = write_file(p, x, n);
    free(x);
    char *got = rc ? NULL : xlsx_dump(p);
    unlink(p);
    return got;
}

TEST(xlsx_openpyxl)
{
    struct sample s;
    sample_init(&s);
    char *got = sample_xlsx_dump(&s.d);
    REQUIRE(got);
    check_line(got, "sheets Summary,Daily,Comfort,Faults");
    check_line(got, "formulas 0");   /* "=HYPERLINK(..." and "=cmd|..." stayed text */
    check_line(got, "title 'Energy report: =Si\xc3\xa8ge \"Nord\", B\xc3\xa2timent "
                    "\xe6\x9d\xb1\xe4\xba\xac' sbems 2026-03-30 05:00:00");
    /* Summary: local dates and wall-clock times (BST from the 29th) */
    check_line(got, "S ('weekly report, 2026-03-23 to 2026-03-29, local time (Europe/London)',)");
    check_line(got, "S ('First day', datetime.datetime(2026, 3, 23, 0, 0))");
    check_line(got, "S ('Last day', datetime.datetime(2026, 3, 29, 0, 0))");
    check_line(got, "S ('Generated (local time)', datetime.datetime(2026, 3, 30, 6, 0))");
    check_line(got, "S ('Consumption, main meters (kWh)', 6700)");
    check_line(got, "S ('Change vs previous period', 0.25)");
    check_line(got, "S ('Cost (EUR)', 1400.75)");
    check_line(got, "S ('Peak demand, highest main meter (kW)', 250.5, 'Main incomer')");
    check_line(got, "S ('Peak at (local time)', datetime.datetime(2026, 3, 29, 11, 0))");
    check_line(got, "S ('Savings (% of adjusted baseline)', 0.085)");
    check_line(got, "S ('Uncertainty interval, high (kWh)', 830)");
    check_line(got, "S ('Share of occupied hours outside band', 0.1875)");
    check_line(got, "S ('Estimated waste per day (EUR)', 35.5)");
    check_line(got, "S ('line one\\nline two',)");
    check_line(got, "S ('bad \xef\xbf\xbd\xef\xbf\xbd bytes ',)");
    check_line(got, "S ('@SUM(A1)',)");
    check_line(got, "S ('+PV export, roof', 'main', -300, 40, datetime.datetime(2026, 3, 24, 12, 30))");
    check_line(got, "S ('=HYPERLINK(\"http://x\",\"y\")', 'end use', 1785.75, 120, None, 357.15)");
    check_line(got, "S ('\xc3\x89" "clairage labo \xe6\x9d\xb1\xe4\xba\xac @2', 'sub-meter')");
    check_line(got, "fmt First day | yyyy-mm-dd True");
    check_line(got, "fmt Generated (local time) | yyyy-mm-dd hh:mm:ss True");
    check_line(got, "fmt Consumption, main meters (kWh) | #,##0.0 False");
    check_line(got, "fmt Change vs previous period | 0.0% False");
    check_line(got, "fmt Cost (EUR) | #,##0.00 False");
    /* Daily: one row per local day, real dates, the 23-hour day, gaps empty */
    check_line(got, "D ('Date', 'Hours (h)', 'Main incomer (kWh)', '+PV export, roof (kWh)', "
                    "'=HYPERLINK(\"http://x\",\"y\") (kWh)', '-Lighting, \"floor 1\" (kWh)', "
                    "'\xc3\x89" "clairage labo \xe6\x9d\xb1\xe4\xba\xac @2 (kWh)')");
    check_line(got, "D (datetime.datetime(2026, 3, 23, 0, 0), 24, 1200.5, -50, 400, 150)");
    check_line(got, "D (datetime.datetime(2026, 3, 25, 0, 0), 24)");
    check_line(got, "D (datetime.datetime(2026, 3, 26, 0, 0), 24, 1300, None, 410, 151)");
    /* libxlsxwriter writes %.16G: 0.30000000000000004 reads back as 0.3 */
    check_line(got, "D (datetime.datetime(2026, 3, 29, 0, 0), 23, 700.5, -79.5, 90, 0.3)");
    check_line(got, "Dfmt yyyy-mm-dd True 0.0 #,##0.0 C2");
    /* 42 as set; E1 is 32 characters + 2 margin; libxlsxwriter stores
     * Excel's padded width (+ 0.7109375 at the default font) */
    check_line(got, "width 42.7109375 34.7109375");
    check_line(got, "C ('Open plan, 2nd floor', 'z1', 50, 10, 0.2, 12.5, 21.5)");
    check_line(got, "C ('R\xc3\xa9union', 'z2', 30, 5, 0.1666666666666667)");
    check_line(got, "F (datetime.datetime(2026, 3, 29, 9, 30), 'high', \"=cmd|' /C calc'!A0\", "
                    "'AHU-1, \"roof\"', 'open', 35.5)");
    check_line(got, "F (None, 'low', 'Filter dirty', None, 'acknowledged')");
    /* the chart: both main meters, names from the header cells */
    check_line(got, "charts ['xl/charts/chart1.xml']");
    check_line(got, "refs ['Daily!$C$1', 'Daily!$A$2:$A$8', 'Daily!$C$2:$C$8', "
                    "'Daily!$D$1', 'Daily!$A$2:$A$8', 'Daily!$D$2:$D$8']");
    if (tap_cur_fail)
        print_comment("openpyxl saw", got);
    free(got);
}

/* An empty week: no meters, zones, faults or notes; no chart. */
TEST(xlsx_empty)
{
    int64_t day0 = utc_ms(2026, 6, 1, 0, 0);
    struct sb_report_data d = {
        .building_slug = "empty", .timezone = "UTC", .frequency = "monthly",
        .from_ms = day0, .to_ms = day0 + 30 * DAY_MS, .total_cost = NAN, .prev_total_kwh = NAN,
    };
    char *got = sample_xlsx_dump(&d);
    REQUIRE(got);
    check_line(got, "sheets Summary,Daily,Comfort,Faults");
    check_line(got, "S ('monthly report, 2026-06-01 to 2026-06-30, local time (UTC)',)");
    check_line(got, "S ('Building', 'empty')");
    check_line(got, "S ('Cost', 'no tariff')");
    check_line(got, "S ('Savings', 'not computed for this period')");
    check_line(got, "S ('None.',)");
    check_line(got, "D ('Date', 'Hours (h)')");
    check_line(got, "C ('No comfort data for this period.',)");
    check_line(got, "F ('No faults in this period.',)");
    check_line(got, "charts []");
    if (tap_cur_fail)
        print_comment("openpyxl saw", got);
    free(got);
}

/* Same figures, same bytes (the creation time comes from the data); a
 * tmpdir that does not exist fails cleanly. */
TEST(xlsx_bytes_and_errors)
{
    struct sample s;
    unsigned char *a = NULL, *b = NULL, *keep = (unsigned char *)"x";
    size_t na = 0, nb = 0, nk = 7;
    char bad[300];

    sample_init(&s);
    REQUIRE(sb_report_xlsx(&s.d, root, &a, &na) == 0);
    REQUIRE(sb_report_xlsx(&s.d, root, &b, &nb) == 0);
    CHECK_EQ(na, nb);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);
    snprintf(bad, sizeof(bad), "%s/no/such/dir", root);
    CHECK_EQ(sb_report_xlsx(&s.d, bad, &keep, &nk), SB_EIO);
    CHECK(keep[0] == 'x' && nk == 7);                      /* untouched on failure */
    CHECK_EQ(sb_report_xlsx(&s.d, "", &keep, &nk), SB_EINVAL);
    CHECK_EQ(sb_report_xlsx(&s.d, NULL, &keep, &nk), SB_EINVAL);
    CHECK_EQ(count_entries(), 0);
}

/* ---------- validation ---------- */

TEST(validation)
{
    struct sample s;
    char *out = NULL;
    size_t len = 0;

    sample_init(&s);
    CHECK_EQ(sb_report_check(&s.d), 0);
    CHECK_EQ(sb_report_check(NULL), SB_EINVAL);
    CHECK_EQ(sb_report_csv(&s.d, NULL, &len), SB_EINVAL);
    CHECK_EQ(sb_report_json(&s.d, &out, NULL), SB_EINVAL);

    struct sb_report_data d = s.d;
    d.frequency = "hourly";
    CHECK_EQ(sb_report_csv(&d, &out, &len), SB_EINVAL);
    d = s.d;
    d.timezone = "Mars/Olympus_Mons";
    CHECK_EQ(sb_report_json(&d, &out, &len), SB_ENOENT);
    d.timezone = "../../etc/passwd";
    CHECK_EQ(sb_report_check(&d), SB_ENOENT);
    d = s.d;
    d.tz = sb_tz_get("Europe/London");                    /* given: no look-up */
    d.timezone = "Europe/London";
    CHECK_EQ(sb_report_check(&d), 0);
    d = s.d;
    d.to_ms = d.from_ms;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.day_start_ms = NULL;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.to_ms = s.days[6];                                   /* last day would be empty */
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.from_ms = s.days[0] + 1;                             /* day 0 does not start the period */
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    int64_t days[NDAYS];
    memcpy(days, s.days, sizeof(days));
    days[3] = days[2];                                     /* not increasing */
    d = s.d;
    d.day_start_ms = days;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.ndays = SB_REPORT_MAX_DAYS + 1;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    s.meters[2].depth = 3;
    CHECK_EQ(sb_report_check(&s.d), SB_EINVAL);
    s.meters[2].depth = 1;
    d = s.d;
    d.nzones = 1;
    d.zones = NULL;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.notes = NULL;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    d = s.d;
    d.building_slug = NULL;
    CHECK_EQ(sb_report_check(&d), SB_EINVAL);
    /* Excel's calendar: 1900-03-01 .. 9999-12-31, with a day to spare */
    d = s.d;
    d.ndays = 0;
    d.from_ms = -2203891200000LL;
    d.to_ms = d.from_ms + DAY_MS;
    CHECK_EQ(sb_report_check(&d), SB_ERANGE);
    d.from_ms = 253402300800000LL - 3 * DAY_MS;
    d.to_ms = 253402300800000LL;
    CHECK_EQ(sb_report_check(&d), SB_ERANGE);
    CHECK(out == NULL && len == 0);                        /* never set on failure */
}

/* Totals: a main meter without a total makes the building total unknown
 * (a partial sum would read as a saving), and "vs previous" with it. */
TEST(partial_totals)
{
    struct sample s;
    sample_init(&s);
    s.meters[1].total_kwh = NAN;
    json_t *doc = json_of(&s.d);
    REQUIRE(doc);
    CHECK(json_is_null(json_object_get(json_object_get(doc, "totals"), "kwh")));
    CHECK(json_is_null(json_object_get(json_object_get(doc, "totals"), "change_pct")));
    CHECK_DBL(jnum(doc, "totals", "prev_kwh"), 5360, 0);
    json_decref(doc);
}

/* ---------- download name ---------- */

TEST(filename)
{
    struct sample s;
    char buf[128], big[512];
    sample_init(&s);

    CHECK_EQ(sb_report_filename(&s.d, "xlsx", buf, sizeof(buf)), 25);
    CHECK_STR(buf, "hq-weekly-2026-03-23.xlsx");
    s.d.building_slug = "../../etc/passwd\n\x01\xc3\xa9";
    REQUIRE(sb_report_filename(&s.d, "csv", buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "_._.._etc_passwd_-weekly-2026-03-23.csv");
    s.d.building_slug = "-rf";
    REQUIRE(sb_report_filename(&s.d, "csv", buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "_rf-weekly-2026-03-23.csv");
    s.d.building_slug = "";
    REQUIRE(sb_report_filename(&s.d, "json", buf, sizeof(buf)) > 0);
    CHECK_STR(buf, "building-weekly-2026-03-23.json");
    memset(big, 'a', 300);
    big[300] = '\0';
    s.d.building_slug = big;
    CHECK_EQ(sb_report_filename(&s.d, "csv", buf, sizeof(buf)), 64 + 22);
    for (const char *p = buf; *p; p++)
        CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p));
    s.d.building_slug = "hq";
    CHECK_EQ(sb_report_filename(&s.d, "x/y", buf, sizeof(buf)), SB_EINVAL);
    CHECK_EQ(sb_report_filename(&s.d, "", buf, sizeof(buf)), SB_EINVAL);
    CHECK_EQ(sb_report_filename(&s.d, "xlsxxlsxx", buf, sizeof(buf)), SB_EINVAL);
    CHECK_EQ(sb_report_filename(&s.d, NULL, buf, sizeof(buf)), SB_EINVAL);
    CHECK_EQ(sb_report_filename(&s.d, "xlsx", buf, 25), SB_ENOSPC);
    CHECK_STR(buf, "");
    CHECK_EQ(sb_report_filename(&s.d, "xlsx", buf, 26), 25);
    /* the first local day, not the UTC date: Sydney's Monday starts on Sunday UTC */
    int64_t syd = utc_ms(2026, 11, 15, 13, 0);             /* 2026-11-16T00:00+11:00 */
    struct sb_report_data d = { .building_slug = "syd", .timezone = "Australia/Sydney",
                                .frequency = "weekly", .from_ms = syd,
                                .to_ms = syd + 7 * DAY_MS };
    CHECK_EQ(sb_report_filename(&d, "pdf", buf, sizeof(buf)), 25);
    CHECK_STR(buf, "syd-weekly-2026-11-16.pdf");
}

/* ---------- random names through every format ---------- */

/* A random byte string: ASCII specials, controls, valid and broken UTF-8. */
static void random_name(uint64_t *seed, char *out, size_t cap)
{
    static const char *const parts[] = {
        "=", "+", "-", "@", "\t", "\r", "\n", ",", "\"", "'", "\\", " ", "a", "Z", "7",
        "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe6\x9d\xb1", "\xf0\x9f\x94\xa5",
        "\xff", "\xc3", "\xe6\x9d", "\xed\xa0\x80", "\xc0\xaf", "<", "&", "]]>", "=1+1",
    };
    size_t n = tap_rand(seed) % 12, k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[tap_rand(seed) % (sizeof(parts) / sizeof(parts[0]))];
        size_t l = strlen(p);
        if (k + l + 1 > cap)
            break;
        memcpy(out + k, p, l);
        k += l;
    }
    out[k] = '\0';
}

/* What a CSV text cell must hold for the cleaned text t. */
static void guarded(const char *t, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", t[0] && strchr("=+-@\t\r", t[0]) ? "'" : "", t);
}

static void random_round(uint64_t *seed, int with_xlsx)
{
    char name[128], note[128], want[320], head[300];
    struct sample s;
    struct csvdoc c;
    char *csv = NULL;
    size_t len = 0;

    sample_init(&s);
    random_name(seed, name, sizeof(name));
    random_name(seed, note, sizeof(note));
    s.meters[0].name = name;
    s.d.building_name = name;
    s.d.notes = (const char *const[]){ note };
    s.d.nnotes = 1;
    json_t *doc = json_of(&s.d);              /* jansson: valid JSON, valid UTF-8 */
    REQUIRE(doc);
    const char *jn = jstr(json_array_get(json_object_get(doc, "meters"), 0), "name", NULL);
    const char *jnote = json_string_value(json_array_get(json_object_get(doc, "notes"), 0));
    REQUIRE(jn && jnote);
    for (const unsigned char *p = (const unsigned char *)jn; *p; p++)
        CHECK(*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r');
    REQUIRE(sb_report_csv(&s.d, &csv, &len) == 0);
    if (csv_parse(csv, len, &c) != 0) {
        TAP_FAIL("CSV does not parse for name %s", name);
        free(csv);
        json_decref(doc);
        return;
    }
    snprintf(head, sizeof(head), "%s (kWh)", jn);
    guarded(head, want, sizeof(want));
    CHECK_STR(c.f[0][2], want);               /* same text as JSON, guarded */
    guarded(jn, want, sizeof(want));
    CHECK_STR(csv_sum(&c, "building_name"), want);
    guarded(jnote, want, sizeof(want));
    CHECK_STR(csv_sum(&c, "note"), want);
    csv_free(&c);
    free(csv);
    json_decref(doc);
    if (with_xlsx) {
        unsigned char *x = NULL;
        size_t n = 0;
        CHECK_EQ(sb_report_xlsx(&s.d, root, &x, &n), 0);
        CHECK(x && n > 4 && memcmp(x, "PK\x03\x04", 4) == 0);
        free(x);
    }
}

TEST(random_names)
{
    uint64_t seed = 0x5eed5eed12345678ULL;
    for (int i = 0; i < 300; i++)
        random_round(&seed, i < 20);
    CHECK_EQ(count_entries(), 0);
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! no temp dir\n");
        return 1;
    }
    RUN(csv_cells);
    RUN(csv_summary);
    RUN(json_everything);
    RUN(fall_back_day);
    RUN(partial_totals);
    RUN(validation);
    RUN(filename);
    RUN(xlsx_bytes_and_errors);
    RUN(random_names);
    if (have_openpyxl()) {
        RUN(xlsx_openpyxl);
        RUN(xlsx_empty);
    } else {
        printf("ok %d - xlsx_openpyxl # SKIP /usr/bin/python3 has no openpyxl\n", ++tap_n);
        printf("ok %d - xlsx_empty # SKIP /usr/bin/python3 has no openpyxl\n", ++tap_n);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

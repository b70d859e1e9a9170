/*
 * test_export.c - CSV bytes exactly, JSON read back with jansson, XLSX read
 * back with openpyxl (/usr/bin/python3), the Excel row limit, error paths,
 * and constant memory over 200,000 rows.
 */
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/export.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "tap.h"

static char tmpl[] = "/tmp/sbems-test-export-XXXXXX";
/* 1900-03-01T00:00:00Z, the first time an Excel serial date shows right */
#define XL_TEST_MIN (-2203891200000LL)
static char *root;

/* The sample table: quoting, formula injection, a missing unit, NaN,
 * values whose shortest text needs 15, 16 and 17 digits. */
static const char *const cols[] = { "supply temp", "flow, \"main\"", "=cmd", "-power" };
static const char *const units[] = { "\xc2\xb0" "C", "m3/h", NULL, "kW" };
#define NROWS 3
static const double vals[NROWS][4] = {
    { 21.5, NAN, 0.1, 1e-300 },
    { 0.30000000000000004, -5, INFINITY, 1.2345678901234568e+17 },
    { NAN, NAN, NAN, NAN },
};
static const char *const times[NROWS] = {
    "2026-01-02T03:04:05.000Z", "2026-07-01T00:00:00.123Z", "2026-07-01T00:15:00.000Z"
};

/* ASan keeps freed blocks in a 256 MiB quarantine, which the RSS check
 * would read as growth (libxlsxwriter frees every row it spills).  A small
 * quarantine still catches a use soon after a free. */
#if defined(__SANITIZE_ADDRESS__)
#define SB_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_TEST_ASAN 1
#endif
#endif
#ifdef SB_TEST_ASAN
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=1";
}
#endif

static void path_of(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", root, name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (n >= 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

static int write_sample(enum sb_export_fmt f, const char *path, const char *tz)
{
    struct sb_export_meta m = { "Plant \"A\": 1/2", tz, cols, units, 4 };
    struct sb_export *e;
    int rc = sb_export_open(f, path, &m, &e);
    if (rc)
        return rc;
    for (int i = 0; i < NROWS && !rc; i++) {
        int64_t t;
        sb_time_parse(times[i], strlen(times[i]), &t);
        rc = sb_export_row(e, t, vals[i]);
    }
    if (rc) {
        sb_export_abort(e);
        return rc;
    }
    return sb_export_close(e);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Entries of dir other than . and .. */
static int count_in(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* Files in root (temporary files must not linger). */
static int count_entries(void)
{
    return count_in(root);
}

/* Open descriptors (libxlsxwriter's spill files must be closed). */
static int count_fds(void)
{
    return count_in("/proc/self/fd");
}

TEST(formats)
{
    CHECK_EQ(sb_export_fmt_parse("csv"), SB_EXPORT_CSV);
    CHECK_EQ(sb_export_fmt_parse("json"), SB_EXPORT_JSON);
    CHECK_EQ(sb_export_fmt_parse("xlsx"), SB_EXPORT_XLSX);
    CHECK_EQ(sb_export_fmt_parse("XLSX"), -1);
    CHECK_EQ(sb_export_fmt_parse("xls"), -1);
    CHECK_EQ(sb_export_fmt_parse(NULL), -1);
    CHECK_STR(sb_export_ctype(SB_EXPORT_CSV), "text/csv; charset=utf-8");
    CHECK_STR(sb_export_ctype(SB_EXPORT_JSON), "application/json");
    CHECK_STR(sb_export_ctype(SB_EXPORT_XLSX),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    CHECK_STR(sb_export_ext(SB_EXPORT_XLSX), "xlsx");
    CHECK_STR(sb_export_ext((enum sb_export_fmt)7), "bin");
}

TEST(csv_exact)
{
    char p[300];
    size_t n = 0;
    path_of(p, sizeof(p), "a.csv");
    CHECK_EQ(write_sample(SB_EXPORT_CSV, p, NULL), 0);
    char *got = slurp(p, &n);
    CHECK_STR(got,
              "time,supply temp (\xc2\xb0" "C),\"flow, \"\"main\"\" (m3/h)\",'=cmd,'-power (kW)\r\n"
              "2026-01-02T03:04:05.000Z,21.5,,0.1,1e-300\r\n"
              "2026-07-01T00:00:00.123Z,0.30000000000000004,-5,,1.2345678901234568e+17\r\n"
              "2026-07-01T00:15:00.000Z,,,,\r\n");
    free(got);
    unlink(p);
}

TEST(csv_local_time_and_quoting)
{
    static const char *const c2[] = { "\tx", "a\r\nb", "@sum", "+1", "ok" };
    struct sb_export_meta m = { "t", "Europe/Berlin", c2, NULL, 5 };
    struct sb_export *e;
    char p[300];
    size_t n = 0;
    double v[5] = { 1, 2, 3, 4, 5 };
    path_of(p, sizeof(p), "b.csv");
    REQUIRE(sb_export_open(SB_EXPORT_CSV, p, &m, &e) == 0);
    CHECK_EQ(sb_export_row(e, 1767323045000LL, v), 0);   /* 2026-01-02T03:04:05Z, CET */
    CHECK_EQ(sb_export_row(e, 1782864000000LL, v), 0);   /* 2026-07-01T00:00:00Z, CEST */
    CHECK_EQ(sb_export_close(e), 0);
    char *got = slurp(p, &n);
    CHECK_STR(got,
              "time,local time (Europe/Berlin),'\tx,\"a\r\nb\",'@sum,'+1,ok\r\n"
              "2026-01-02T03:04:05.000Z,2026-01-02T04:04:05.000+01:00,1,2,3,4,5\r\n"
              "2026-07-01T00:00:00.000Z,2026-07-01T02:00:00.000+02:00,1,2,3,4,5\r\n");
    free(got);
    unlink(p);
}

static void check_json_value(json_t *cell, double want)
{
    if (isfinite(want)) {
        CHECK(json_is_number(cell));
        if (json_number_value(cell) != want)     /* exact: shortest round-trip text */
            TAP_FAIL("json %.17g != %.17g", json_number_value(cell), want);
    } else {
        CHECK(json_is_null(cell));
    }
}

TEST(json_round_trip)
{
    char p[300];
    json_error_t jerr;
    path_of(p, sizeof(p), "a.json");
    CHECK_EQ(write_sample(SB_EXPORT_JSON, p, NULL), 0);
    json_t *doc = json_load_file(p, 0, &jerr);
    if (!doc)
        TAP_FAIL("jansson: %s at line %d", jerr.text, jerr.line);
    REQUIRE(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "title")), "Plant \"A\": 1/2");
    CHECK(json_object_get(doc, "tz") == NULL);
    json_t *c = json_object_get(doc, "columns");
    CHECK_EQ(json_array_size(c), 4);
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "name")), "flow, \"main\"");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "unit")), "\xc2\xb0" "C");
    CHECK(json_is_null(json_object_get(json_array_get(c, 2), "unit")));
    json_t *rows = json_object_get(doc, "rows");
    REQUIRE(json_array_size(rows) == NROWS);
    for (size_t i = 0; i < NROWS; i++) {
        json_t *r = json_array_get(rows, i);
        CHECK_EQ(json_array_size(r), 5);
        CHECK_STR(json_string_value(json_array_get(r, 0)), times[i]);
        for (size_t k = 0; k < 4; k++)
            check_json_value(json_array_get(r, k + 1), vals[i][k]);
    }
    json_decref(doc);
    unlink(p);
}

TEST(json_empty_and_escaping)
{
    /* control characters, quotes, backslash, and ill-formed UTF-8 (0xff,
     * a lone continuation byte, an overlong '/') that must become U+FFFD */
    static const char *const c2[] = { "a\x01\"\\\n\t", "bad\xff\x80\xc0\xaf" };
    struct sb_export_meta m = { "zero \xe2\x82\xac", "UTC", c2, NULL, 2 };
    struct sb_export *e;
    char p[300];
    json_error_t jerr;
    path_of(p, sizeof(p), "b.json");
    REQUIRE(sb_export_open(SB_EXPORT_JSON, p, &m, &e) == 0);
    CHECK_EQ(sb_export_close(e), 0);
    json_t *doc = json_load_file(p, 0, &jerr);
    if (!doc)
        TAP_FAIL("jansson: %s", jerr.text);
    REQUIRE(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "title")), "zero \xe2\x82\xac");
    CHECK_STR(json_string_value(json_object_get(doc, "tz")), "UTC");
    json_t *c = json_object_get(doc, "columns");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 0), "name")), "a\x01\"\\\n\t");
    CHECK_STR(json_string_value(json_object_get(json_array_get(c, 1), "name")),
              "bad\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(json_is_array(json_object_get(doc, "rows")));
    CHECK_EQ(json_array_size(json_object_get(doc, "rows")), 0);
    json_decref(doc);
    unlink(p);
}

static int have_openpyxl(void)
{
    return system("/usr/bin/python3 -c 'import openpyxl' >/dev/null 2>&1") == 0;
}

/* Run openpyxl on path; returns its stdout (malloc'd) or NULL. */
static char *openpyxl_dump(const char *path)
{
    char cmd[1200];
    snprintf(cmd, sizeof(cmd),
             "/usr/bin/python3 -c '"
             "import sys, openpyxl\n"
             "wb = openpyxl.load_workbook(sys.argv[1])\n"
             "ws = wb.worksheets[0]\n"
             "print(wb.sheetnames, ws.freeze_panes, ws[\"A1\"].font.b, ws[\"A2\"].number_format)\n"
             "for r in ws.iter_rows(values_only=True): print(repr(r))\n"
             "' %s 2>&1",
             path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return NULL;
    char *out = calloc(1, 8192);
    size_t n = out ? fread(out, 1, 8191, p) : 0;
    (void)n;
    pclose(p);
    return out;
}

TEST(xlsx_openpyxl)
{
    char p[300];
    size_t n = 0;
    path_of(p, sizeof(p), "a.xlsx");
    CHECK_EQ(write_sample(SB_EXPORT_XLSX, p, "Europe/Berlin"), 0);
    char *bytes = slurp(p, &n);
    CHECK(bytes && n > 4 && memcmp(bytes, "PK\x03\x04", 4) == 0);
    free(bytes);
    char *got = openpyxl_dump(p);
    CHECK_STR(got,
              "['Plant \"A\"_ 1_2'] A2 True yyyy-mm-dd hh:mm:ss\n"
              "('time (UTC)', 'local time (Europe/Berlin)', 'supply temp (\xc2\xb0" "C)', "
              "'flow, \"main\" (m3/h)', '=cmd', '-power (kW)')\n"
              "(datetime.datetime(2026, 1, 2, 3, 4, 5), datetime.datetime(2026, 1, 2, 4, 4, 5), "
              "21.5, None, 0.1, 1e-300)\n"
              "(datetime.datetime(2026, 7, 1, 0, 0, 0, 123000), "
              "datetime.datetime(2026, 7, 1, 2, 0, 0, 123000), "
              "0.3, -5, None, 1.234567890123457e+17)\n"   /* 16 digits, see export.h */
              "(datetime.datetime(2026, 7, 1, 0, 15), datetime.datetime(2026, 7, 1, 2, 15), "
              "None, None, None, None)\n");
    free(got);
    unlink(p);
}

TEST(xlsx_sheet_name_and_fp)
{
    static const char *const c1[] = { "v" };
    struct sb_export_meta m = {
        "'Q1/Q2: [Energy]* report? for building 7 and more'", NULL, c1, NULL, 1 };
    struct sb_export *e;
    char p[300];
    double v = 42;
    path_of(p, sizeof(p), "fp.xlsx");
    FILE *fp = fopen(p, "wb");
    REQUIRE(fp != NULL);
    int before = count_entries(), fds = count_fds();
    REQUIRE(sb_export_open_fp(SB_EXPORT_XLSX, fp, root, &m, &e) == 0);
    CHECK_EQ(sb_export_row(e, 0, &v), 0);
    CHECK_EQ(sb_export_row(e, XL_TEST_MIN - 1, &v), SB_ERANGE);
    CHECK_EQ(sb_export_close(e), 0);
    CHECK_EQ(count_entries(), before);           /* the temporary file is gone */
    CHECK_EQ(count_fds(), fds);
    fclose(fp);
    char *got = openpyxl_dump(p);
    CHECK_STR(got,
              "['Q1_Q2_ _Energy__ report_ for bu'] A2 True yyyy-mm-dd hh:mm:ss\n"
              "('time (UTC)', 'v')\n"
              "(datetime.datetime(1970, 1, 1, 0, 0), 42)\n");
    free(got);
    unlink(p);
}

TEST(text_to_fp)
{
    static const char *const c1[] = { "v" };
    struct sb_export_meta m = { "s", NULL, c1, NULL, 1 };
    struct sb_export *e;
    char buf[256] = { 0 };
    double v = 0.5;
    FILE *fp = fmemopen(buf, sizeof(buf) - 1, "w");
    REQUIRE(fp != NULL);
    REQUIRE(sb_export_open_fp(SB_EXPORT_JSON, fp, NULL, &m, &e) == 0);
    CHECK_EQ(sb_export_row(e, 1000, &v), 0);
    CHECK_EQ(sb_export_close(e), 0);
    CHECK_STR(buf, "{\"title\":\"s\",\"columns\":[{\"name\":\"v\",\"unit\":null}],\"rows\":[\n"
                   "[\"1970-01-01T00:00:01.000Z\",0.5]\n]}\n");
    fclose(fp);                                   /* still the caller's */
    CHECK_EQ(sb_export_open_fp(SB_EXPORT_XLSX, stdout, NULL, &m, &e), SB_EINVAL);
}

TEST(errors_and_abort)
{
    static const char *const c1[] = { "v" };
    struct sb_export_meta m = { "s", NULL, c1, NULL, 1 };
    struct sb_export_meta none = { "s", NULL, c1, NULL, 0 };
    struct sb_export_meta badtz = { "s", "Mars/Olympus_Mons", c1, NULL, 1 };
    struct sb_export_meta esc = { "s", "../../etc/passwd", c1, NULL, 1 };
    struct sb_export *e = NULL;
    char p[300], q[300];
    double v = 1;

    path_of(p, sizeof(p), "err.csv");
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, p, &none, &e), SB_EINVAL);
    CHECK_EQ(sb_export_open((enum sb_export_fmt)9, p, &m, &e), SB_EINVAL);
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, p, &badtz, &e), SB_ENOENT);
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, p, &esc, &e), SB_ENOENT);
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, "", &m, &e), SB_EINVAL);
    CHECK(!exists(p));
    path_of(q, sizeof(q), "no/such/dir/x.xlsx");
    CHECK_EQ(sb_export_open(SB_EXPORT_XLSX, q, &m, &e), SB_EIO);
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, q, &m, &e), SB_EIO);

    /* a name longer than Excel's cell limit */
    char *big = malloc(40000);
    REQUIRE(big != NULL);
    memset(big, 'x', 39999);
    big[39999] = '\0';
    const char *cb[] = { big };
    struct sb_export_meta mb = { "s", NULL, cb, NULL, 1 };
    CHECK_EQ(sb_export_open(SB_EXPORT_CSV, p, &mb, &e), SB_EINVAL);
    free(big);

    /* abort removes the file and closes everything, in every format */
    int fds = count_fds();
    for (int f = SB_EXPORT_CSV; f <= SB_EXPORT_XLSX; f++) {
        path_of(p, sizeof(p), f == SB_EXPORT_XLSX ? "ab.xlsx" : "ab.txt");
        REQUIRE(sb_export_open((enum sb_export_fmt)f, p, &m, &e) == 0);
        CHECK(exists(p));
        CHECK_EQ(sb_export_row(e, 0, &v), 0);
        CHECK_EQ(sb_export_row(e, 0, NULL), SB_EINVAL);
        sb_export_abort(e);
        CHECK(!exists(p));
    }
    CHECK_EQ(count_entries(), 0);
    CHECK_EQ(count_fds(), fds);
    sb_export_abort(NULL);

    /* a read-only existing file is refused and left alone */
    path_of(p, sizeof(p), "ro.csv");
    FILE *f = fopen(p, "w");
    REQUIRE(f != NULL);
    fclose(f);
    chmod(p, 0444);
    if (geteuid() != 0) {   /* root ignores the mode */
        CHECK_EQ(sb_export_open(SB_EXPORT_CSV, p, &m, &e), SB_EIO);
        CHECK(exists(p));
    }
    unlink(p);

    /* a write error surfaces (on a row or at close) and removes the file */
    if (exists("/dev/full")) {
        e = NULL;
        FILE *full = fopen("/dev/full", "w");
        REQUIRE(full != NULL);
        int rc = sb_export_open_fp(SB_EXPORT_CSV, full, NULL, &m, &e);
        for (int i = 0; !rc && i < 100000; i++)
            rc = sb_export_row(e, 0, &v);
        if (!rc)
            rc = sb_export_close(e);
        else if (e)
            sb_export_abort(e);
        CHECK_EQ(rc, SB_EIO);
        fclose(full);
    }
}

static long max_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 200,000 rows of 8 series; the high-water RSS may not grow by 20 MiB. */
static void big_export(enum sb_export_fmt f, const char *name)
{
    static const char *const c8[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
    struct sb_export_meta m = { "big", "Europe/Berlin", c8, NULL, 8 };
    struct sb_export *e;
    char p[300];
    double v[8];
    int rc = 0;
    path_of(p, sizeof(p), name);
    long before = max_rss_kib();
    REQUIRE(sb_export_open(f, p, &m, &e) == 0);
    for (int i = 0; i < 200000 && !rc; i++) {
        for (int k = 0; k < 8; k++)
            v[k] = i * 0.25 + k;
        rc = sb_export_row(e, 1767225600000LL + i * 60000LL, v);
    }
    CHECK_EQ(rc, 0);
    CHECK_EQ(sb_export_close(e), 0);
    long grew = max_rss_kib() - before;
    printf("# %s: max RSS grew by %ld KiB\n", name, grew);
    CHECK_INT(grew, <, 20 * 1024);
    struct stat st;
    CHECK(stat(p, &st) == 0 && st.st_size > 1000000);
    unlink(p);
}

TEST(constant_memory_csv)
{
    big_export(SB_EXPORT_CSV, "big.csv");
}

TEST(constant_memory_xlsx)
{
    big_export(SB_EXPORT_XLSX, "big.xlsx");
}

TEST(xlsx_row_limit)
{
    static const char *const c1[] = { "v" };
    struct sb_export_meta m = { "limit", NULL, c1, NULL, 1 };
    struct sb_export *e;
    char p[300];
    double v = 1;
    int rc = 0;
    path_of(p, sizeof(p), "limit.xlsx");
    REQUIRE(sb_export_open(SB_EXPORT_XLSX, p, &m, &e) == 0);
    uint32_t i;
    for (i = 0; i < SB_EXPORT_XLSX_MAX_ROWS && !rc; i++)
        rc = sb_export_row(e, (int64_t)i * 1000, &v);
    CHECK_EQ(rc, 0);
    CHECK_EQ(i, 1048575);
    CHECK_EQ(sb_export_row(e, (int64_t)i * 1000, &v), SB_ENOSPC);
    CHECK_EQ(sb_export_row(e, (int64_t)i * 1000, &v), SB_ENOSPC);
    sb_export_abort(e);        /* assembling a 1M-row zip is not what this tests */
    CHECK(!exists(p));
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! no temp dir\n");
        return 1;
    }
    /* first, while the RSS high-water mark is still low */
    RUN(constant_memory_csv);
    RUN(constant_memory_xlsx);
    RUN(formats);
    RUN(csv_exact);
    RUN(csv_local_time_and_quoting);
    RUN(json_round_trip);
    RUN(json_empty_and_escaping);
    if (have_openpyxl()) {
        RUN(xlsx_openpyxl);
        RUN(xlsx_sheet_name_and_fp);
    } else {
        printf("ok %d - xlsx_openpyxl # SKIP /usr/bin/python3 has no openpyxl\n", ++tap_n);
        printf("ok %d - xlsx_sheet_name_and_fp # SKIP /usr/bin/python3 has no openpyxl\n", ++tap_n);
    }
    RUN(text_to_fp);
    RUN(errors_and_abort);
    RUN(xlsx_row_limit);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

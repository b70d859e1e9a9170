/* export.c - CSV, JSON and XLSX data-export writers; see export.h. */
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "api/export.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "core/utf8.h"

/* Excel stores text cells of at most 32,767 characters; we apply the same
 * bound (in bytes) to every name so all formats accept the same input. */
#define NAME_MAX_BYTES 32767

/* Excel datetimes are days since 1899-12-30 (serial 25569 = 1970-01-01).
 * Serials below 61 (1900-03-01) are off by one day because of Excel's
 * 1900 leap-year bug, and Excel shows nothing past 9999-12-31. */
#define XL_EPOCH_DAYS 25569.0
#define XL_MIN_MS     (-2203891200000LL)     /* 1900-03-01T00:00:00Z */
#define XL_END_MS     253402300800000LL      /* 10000-01-01T00:00:00Z */

struct sb_export {
    enum sb_export_fmt fmt;        /* what is written */
    FILE *fp;                      /* CSV/JSON destination (ours or the caller's) */
    bool own_fp;                   /* fp was opened from path: close it */
    FILE *user_fp;                 /* XLSX via open_fp: where the file is copied */
    char *path;                    /* path export: removed on failure; NULL for open_fp */
    char *xlsx_path;               /* file libxlsxwriter writes: path or our temp file */
    char *tmpdir;                  /* libxlsxwriter's spill directory */
    const struct sb_tz *tz;        /* local-time zone (shared cache), or NULL */
    char *tz_name;                 /* its name (cleaned copy) */
    char *title;                   /* cleaned copy, never NULL */
    char **cols;                   /* ncols cleaned names */
    char **units;                  /* ncols cleaned units ("" = none) */
    char **heads;                  /* ncols header cells "<col> (<unit>)" */
    size_t ncols;                  /* series */
    uint64_t rows;                 /* data rows written */
    lxw_workbook *wb;              /* XLSX workbook, NULL otherwise */
    lxw_worksheet *ws;             /* its only sheet */
    lxw_format *datefmt;           /* "yyyy-mm-dd hh:mm:ss" */
};

/* ---- small helpers ---- */

int sb_export_fmt_parse(const char *s)
{
    static const char *const names[] = { "csv", "json", "xlsx" };
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

const char *sb_export_ctype(enum sb_export_fmt f)
{
    switch (f) {
    case SB_EXPORT_CSV:  return "text/csv; charset=utf-8";
    case SB_EXPORT_JSON: return "application/json";
    case SB_EXPORT_XLSX: return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    }
    return "application/octet-stream";
}

const char *sb_export_ext(enum sb_export_fmt f)
{
    switch (f) {
    case SB_EXPORT_CSV:  return "csv";
    case SB_EXPORT_JSON: return "json";
    case SB_EXPORT_XLSX: return "xlsx";
    }
    return "bin";
}

/* A malloc'd copy of s (NULL = "") with ill-formed UTF-8 bytes replaced by
 * U+FFFD; NULL when out of memory or longer than NAME_MAX_BYTES (*toolong). */
static char *utf8_clean(const char *s, bool *toolong)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), k = 0;
    if (n > NAME_MAX_BYTES / 3) {   /* worst case triples; check the real size */
        size_t need = 0;
        for (const unsigned char *q = p; *q;) {
            size_t l = sb_utf8_seq(q, SIZE_MAX);
            need += l ? l : 3;
            q += l ? l : 1;
        }
        if (need > NAME_MAX_BYTES) {
            *toolong = true;
            return NULL;
        }
    }
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    while (*p) {
        size_t l = sb_utf8_seq(p, SIZE_MAX);
        if (l) {
            memcpy(out + k, p, l);
            k += l;
            p += l;
        } else {
            memcpy(out + k, "\xef\xbf\xbd", 3);
            k += 3;
            p++;
        }
    }
    out[k] = '\0';
    return out;
}

/* Shortest of %.15g/%.16g/%.17g that strtod() reads back to d exactly
 * (d finite).  %.17g always round-trips an IEEE double. */
static void fmt_num(double d, char *buf, size_t cap)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    for (char *p = buf; *p; p++)      /* a non-C LC_NUMERIC writes ',' */
        if (*p == ',')
            *p = '.';
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Offset of tz at t_ms, in seconds east of UTC. */
static int32_t tz_off(const struct sb_tz *tz, int64_t t_ms)
{
    return sb_tz_offset(tz, floor_div(t_ms, 1000));
}

/* RFC 3339 local time with the zone's offset: "2026-01-02T04:04:05.000+01:00".
 * RFC 3339 offsets have minutes only; historic LMT seconds are dropped. */
static void fmt_local(const struct sb_tz *tz, int64_t t_ms, char *buf, size_t cap)
{
    int32_t off = tz_off(tz, t_ms);
    int32_t a = off < 0 ? -off : off;
    sb_time_format(t_ms + (int64_t)off * 1000, buf, cap);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == 'Z')
        snprintf(buf + n - 1, cap - (n - 1), "%c%02d:%02d", off < 0 ? '-' : '+',
                 (int)(a / 3600), (int)(a / 60 % 60));
}

/* ---- CSV (RFC 4180) ---- */

/* One text cell.  OWASP "CSV Injection": a cell starting with = + - @ TAB
 * or CR may be run as a formula by spreadsheet software; a leading
 * apostrophe makes it text.  Quote cells holding , " CR or LF, doubling
 * the quotes inside (RFC 4180 section 2, rules 6-7). */
static void csv_text(FILE *fp, const char *s)
{
    bool inject = s[0] && strchr("=+-@\t\r", s[0]);
    bool quote = strpbrk(s, ",\"\r\n") != NULL;

    if (quote)
        putc('"', fp);
    if (inject)
        putc('\'', fp);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', fp);
        putc(*s, fp);
    }
    if (quote)
        putc('"', fp);
}

static void csv_header(struct sb_export *e)
{
    fputs("time", e->fp);
    if (e->tz) {
        char h[300];
        snprintf(h, sizeof(h), "local time (%s)", e->tz_name);
        putc(',', e->fp);
        csv_text(e->fp, h);
    }
    for (size_t i = 0; i < e->ncols; i++) {
        putc(',', e->fp);
        csv_text(e->fp, e->heads[i]);
    }
    fputs("\r\n", e->fp);
}

static void csv_row(struct sb_export *e, int64_t t_ms, const double *v)
{
    char buf[48];
    fputs(sb_time_format(t_ms, buf, sizeof(buf)), e->fp);
    if (e->tz) {
        fmt_local(e->tz, t_ms, buf, sizeof(buf));
        putc(',', e->fp);
        fputs(buf, e->fp);
    }
    for (size_t i = 0; i < e->ncols; i++) {
        putc(',', e->fp);
        if (isfinite(v[i])) {
            fmt_num(v[i], buf, sizeof(buf));
            fputs(buf, e->fp);
        }
    }
    fputs("\r\n", e->fp);
}

/* ---- JSON (RFC 8259) ---- */

/* A string with the escapes of RFC 8259 section 7; s is valid UTF-8. */
static void json_str(FILE *fp, const char *s)
{
    putc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':  fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\b': fputs("\\b", fp); break;
        case '\f': fputs("\\f", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else
                putc(*p, fp);
        }
    }
    putc('"', fp);
}

static void json_header(struct sb_export *e)
{
    fputs("{\"title\":", e->fp);
    json_str(e->fp, e->title);
    if (e->tz) {
        fputs(",\"tz\":", e->fp);
        json_str(e->fp, e->tz_name);
    }
    fputs(",\"columns\":[", e->fp);
    for (size_t i = 0; i < e->ncols; i++) {
        fputs(i ? ",{\"name\":" : "{\"name\":", e->fp);
        json_str(e->fp, e->cols[i]);
        fputs(",\"unit\":", e->fp);
        if (e->units[i][0])
            json_str(e->fp, e->units[i]);
        else
            fputs("null", e->fp);
        putc('}', e->fp);
    }
    fputs("],\"rows\":[", e->fp);
}

static void json_row(struct sb_export *e, int64_t t_ms, const double *v)
{
    char buf[48];
    fputs(e->rows ? ",\n[\"" : "\n[\"", e->fp);
    fputs(sb_time_format(t_ms, buf, sizeof(buf)), e->fp);
    putc('"', e->fp);
    if (e->tz) {
        fmt_local(e->tz, t_ms, buf, sizeof(buf));
        fprintf(e->fp, ",\"%s\"", buf);
    }
    for (size_t i = 0; i < e->ncols; i++) {
        putc(',', e->fp);
        if (isfinite(v[i])) {
            fmt_num(v[i], buf, sizeof(buf));
            fputs(buf, e->fp);
        } else {
            fputs("null", e->fp);
        }
    }
    putc(']', e->fp);
}

/* ---- XLSX (libxlsxwriter, constant_memory) ---- */

static int lxw_rc(lxw_error err)
{
    if (err == LXW_NO_ERROR)
        return 0;
    return err == LXW_ERROR_MEMORY_MALLOC_FAILED ? SB_ENOMEM : SB_EIO;
}

/* Excel's sheet-name rules (as workbook_validate_sheet_name() checks them):
 * 1-31 characters, none of [ ] : * ? / \, not starting or ending with an
 * apostrophe; "History" is reserved.  Characters outside the BMP count
 * twice (Excel counts UTF-16 units).  Control characters become spaces. */
static void sheet_name(const char *title, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)title;
    size_t k = 0, units = 0;

    while (*p == '\'')
        p++;
    while (*p) {
        size_t l = sb_utf8_seq(p, SIZE_MAX);           /* title is clean: l >= 1 */
        size_t u = l == 4 ? 2 : 1;
        if (units + u > 31 || k + l + 1 > cap)
            break;
        if (l == 1 && (strchr("[]:*?/\\", *p) || *p < 0x20))
            out[k] = *p < 0x20 ? ' ' : '_';
        else
            memcpy(out + k, p, l);
        k += l;
        units += u;
        p += l;
    }
    while (k && (out[k - 1] == '\'' || out[k - 1] == ' '))
        k--;
    out[k] = '\0';
    if (k == 0)
        snprintf(out, cap, "Data");
    else if (!strcasecmp(out, "History"))
        snprintf(out, cap, "History_");
}

/* XML 1.0 cannot carry most C0 controls; libxlsxwriter writes them raw in
 * inline strings, so blank them (in place) before writing a text cell. */
static void xml_safe(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
            *s = ' ';
}

/* Width in Excel character units: the header's characters plus margin. */
static double col_width(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    n += 2;
    return n < 10 ? 10 : n > 60 ? 60 : (double)n;
}

/* A bold header cell and its column width (at least min_width). */
static int xlsx_head_cell(struct sb_export *e, lxw_col_t col, const char *text,
                          lxw_format *bold, double min_width)
{
    char *s = strdup(text);
    if (!s)
        return SB_ENOMEM;
    xml_safe(s);
    double w = col_width(s) > min_width ? col_width(s) : min_width;
    int rc = lxw_rc(worksheet_write_string(e->ws, 0, col, s, bold));
    if (!rc)
        rc = lxw_rc(worksheet_set_column(e->ws, col, col, w, NULL));
    free(s);
    return rc;
}

static int xlsx_header(struct sb_export *e, lxw_format *bold)
{
    char h[300];
    lxw_col_t c = 0;
    /* time columns: "yyyy-mm-dd hh:mm:ss" is 19 characters */
    int rc = xlsx_head_cell(e, c++, "time (UTC)", bold, 20);

    if (!rc && e->tz) {
        snprintf(h, sizeof(h), "local time (%s)", e->tz_name);
        rc = xlsx_head_cell(e, c++, h, bold, 20);
    }
    for (size_t i = 0; !rc && i < e->ncols; i++)
        rc = xlsx_head_cell(e, c++, e->heads[i], bold, 10);
    if (!rc)
        worksheet_freeze_panes(e->ws, 1, 0);
    return rc;
}

static int xlsx_start(struct sb_export *e)
{
    lxw_workbook_options o = { .constant_memory = LXW_TRUE, .tmpdir = e->tmpdir,
                               .use_zip64 = LXW_TRUE };
    char name[4 * 31 + 1];
    lxw_format *bold;

    /* ncols + 2 time columns must fit Excel's 16,384 columns */
    if (e->ncols > 16384 - 2)
        return SB_EINVAL;
    e->wb = workbook_new_opt(e->xlsx_path, &o);
    if (!e->wb)
        return SB_ENOMEM;
    sheet_name(e->title, name, sizeof(name));
    e->ws = workbook_add_worksheet(e->wb, name);
    bold = workbook_add_format(e->wb);
    e->datefmt = workbook_add_format(e->wb);
    if (!e->ws || !bold || !e->datefmt)
        return SB_EIO;   /* constant_memory: the sheet's spill file failed */
    format_set_bold(bold);
    format_set_num_format(e->datefmt, "yyyy-mm-dd hh:mm:ss");
    return xlsx_header(e, bold);
}

/* t_ms as an Excel serial date, split so the day count stays exact. */
static int xl_serial(int64_t t_ms, double *out)
{
    if (t_ms < XL_MIN_MS || t_ms >= XL_END_MS)
        return SB_ERANGE;
    int64_t days = floor_div(t_ms, 86400000);
    *out = XL_EPOCH_DAYS + (double)days + (double)(t_ms - days * 86400000) / 86400000.0;
    return 0;
}

static int xlsx_row(struct sb_export *e, int64_t t_ms, const double *v)
{
    lxw_row_t r = (lxw_row_t)e->rows + 1;
    lxw_col_t c = 0;
    double utc, local = 0;

    if (e->rows >= SB_EXPORT_XLSX_MAX_ROWS)
        return SB_ENOSPC;
    int64_t local_ms = e->tz ? t_ms + (int64_t)tz_off(e->tz, t_ms) * 1000 : t_ms;
    if (xl_serial(t_ms, &utc) || xl_serial(local_ms, &local))
        return SB_ERANGE;
    int rc = lxw_rc(worksheet_write_number(e->ws, r, c++, utc, e->datefmt));
    if (!rc && e->tz)
        rc = lxw_rc(worksheet_write_number(e->ws, r, c++, local, e->datefmt));
    for (size_t i = 0; !rc && i < e->ncols; i++, c++)
        if (isfinite(v[i]))     /* a missing value is an absent (empty) cell */
            rc = lxw_rc(worksheet_write_number(e->ws, r, c, v[i], NULL));
    return rc;
}

/* Copy the finished temporary XLSX to the caller's stream. */
static int copy_to(const char *path, FILE *dst)
{
    char buf[65536];
    size_t n;
    int rc = 0;
    FILE *src = fopen(path, "rbe");

    if (!src)
        return SB_EIO;
    while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
        if (fwrite(buf, 1, n, dst) != n) {
            rc = SB_EIO;
            break;
        }
    if (ferror(src) || fflush(dst) != 0)
        rc = SB_EIO;
    fclose(src);
    return rc;
}

/* ---- lifecycle ---- */

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static void export_free(struct sb_export *e)
{
    free_strs(e->cols, e->ncols);
    free_strs(e->units, e->ncols);
    free_strs(e->heads, e->ncols);
    free(e->title);
    free(e->tz_name);
    free(e->tmpdir);
    free(e->xlsx_path);
    free(e->path);
    free(e);
}

/* "<col> (<unit>)", or "<col>" without a unit. */
static char *head_of(const char *col, const char *unit)
{
    size_t n = strlen(col) + strlen(unit) + 4;
    char *h = malloc(n);
    if (h)
        snprintf(h, n, unit[0] ? "%s (%s)" : "%s", col, unit);
    return h;
}

/* Copy and clean the meta strings into e. */
static int copy_meta(struct sb_export *e, const struct sb_export_meta *m)
{
    bool toolong = false;
    e->ncols = m->ncols;
    e->title = utf8_clean(m->title, &toolong);
    e->cols = calloc(m->ncols, sizeof(char *));
    e->units = calloc(m->ncols, sizeof(char *));
    e->heads = calloc(m->ncols, sizeof(char *));
    if (!e->title || !e->cols || !e->units || !e->heads)
        return toolong ? SB_EINVAL : SB_ENOMEM;
    for (size_t i = 0; i < m->ncols; i++) {
        e->cols[i] = utf8_clean(m->cols[i], &toolong);
        e->units[i] = utf8_clean(m->units ? m->units[i] : NULL, &toolong);
        if (!e->cols[i] || !e->units[i])
            return toolong ? SB_EINVAL : SB_ENOMEM;
        if (strlen(e->cols[i]) + strlen(e->units[i]) + 3 > NAME_MAX_BYTES)
            return SB_EINVAL;
        if (!(e->heads[i] = head_of(e->cols[i], e->units[i])))
            return SB_ENOMEM;
    }
    return 0;
}

static int set_tz(struct sb_export *e, const char *name)
{
    bool toolong = false;
    if (!name)
        return 0;
    if (strlen(name) > 255)      /* IANA names are short; keeps headers bounded */
        return SB_ENOENT;
    e->tz = sb_tz_get(name);
    if (!e->tz)
        return SB_ENOENT;
    e->tz_name = utf8_clean(name, &toolong);
    return e->tz_name ? 0 : SB_ENOMEM;
}

/* Allocate e with cleaned copies of m; the format-specific part follows. */
static int export_new(enum sb_export_fmt f, const struct sb_export_meta *m,
                      struct sb_export **out)
{
    struct sb_export *e;
    int rc;

    if ((unsigned)f > SB_EXPORT_XLSX || !m || !m->ncols || !m->cols || !out)
        return SB_EINVAL;
    if (!(e = calloc(1, sizeof(*e))))
        return SB_ENOMEM;
    e->fmt = f;
    rc = copy_meta(e, m);
    if (!rc)
        rc = set_tz(e, m->tz_name);
    if (rc) {
        export_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* Write the CSV/JSON header to e->fp. */
static int text_start(struct sb_export *e)
{
    if (e->fmt == SB_EXPORT_CSV)
        csv_header(e);
    else
        json_header(e);
    return ferror(e->fp) ? SB_EIO : 0;
}

/* The directory part of path (malloc'd). */
static char *dir_of(const char *path)
{
    char *tmp = strdup(path);
    char *d = tmp ? strdup(dirname(tmp)) : NULL;
    free(tmp);
    return d;
}

/* e->path is set only once the file exists as ours, so a failed open never
 * removes a file it could not write. */
static int open_path(struct sb_export *e, const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return SB_ENOMEM;
    if (e->fmt != SB_EXPORT_XLSX) {
        e->fp = fopen(path, "we");
        if (!e->fp) {
            free(copy);
            return SB_EIO;
        }
        e->own_fp = true;
        e->path = copy;
        return text_start(e);
    }
    /* libxlsxwriter creates the file only on close: create it now so an
     * unwritable path fails here, before any rows are produced */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        free(copy);
        return SB_EIO;
    }
    close(fd);
    e->path = copy;
    e->xlsx_path = strdup(path);
    e->tmpdir = dir_of(path);
    if (!e->xlsx_path || !e->tmpdir)
        return SB_ENOMEM;
    return xlsx_start(e);
}

int sb_export_open(enum sb_export_fmt f, const char *path, const struct sb_export_meta *m,
                   struct sb_export **out)
{
    struct sb_export *e;
    int rc;

    if (!path || !*path)
        return SB_EINVAL;
    rc = export_new(f, m, &e);
    if (rc)
        return rc;
    rc = open_path(e, path);
    if (rc) {
        sb_export_abort(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* XLSX onto a stream: build it in a temporary file in tmpdir. */
static int open_tmp_xlsx(struct sb_export *e, const char *tmpdir)
{
    size_t n = strlen(tmpdir) + sizeof("/.sbems-export-XXXXXX.xlsx");
    char *p = malloc(n);
    if (!p || !(e->tmpdir = strdup(tmpdir))) {
        free(p);
        return SB_ENOMEM;
    }
    snprintf(p, n, "%s/.sbems-export-XXXXXX.xlsx", tmpdir);
    int fd = mkostemps(p, 5, O_CLOEXEC);
    if (fd < 0) {
        free(p);
        return SB_EIO;
    }
    close(fd);
    e->xlsx_path = p;     /* from here on abort/close unlink it */
    return xlsx_start(e);
}

int sb_export_open_fp(enum sb_export_fmt f, FILE *fp, const char *tmpdir,
                      const struct sb_export_meta *m, struct sb_export **out)
{
    struct sb_export *e;
    int rc;

    if (!fp || (f == SB_EXPORT_XLSX && (!tmpdir || !*tmpdir)))
        return SB_EINVAL;
    rc = export_new(f, m, &e);
    if (rc)
        return rc;
    if (f == SB_EXPORT_XLSX) {
        e->user_fp = fp;
        rc = open_tmp_xlsx(e, tmpdir);
    } else {
        e->fp = fp;
        rc = text_start(e);
    }
    if (rc) {
        sb_export_abort(e);
        return rc;
    }
    *out = e;
    return 0;
}

int sb_export_row(struct sb_export *e, int64_t t_ms, const double *v)
{
    if (!e || !v)
        return SB_EINVAL;
    if (e->fmt == SB_EXPORT_XLSX) {
        int rc = xlsx_row(e, t_ms, v);
        if (!rc)
            e->rows++;
        return rc;
    }
    if (e->fmt == SB_EXPORT_CSV)
        csv_row(e, t_ms, v);
    else
        json_row(e, t_ms, v);
    e->rows++;
    return ferror(e->fp) ? SB_EIO : 0;
}

/* Finish CSV/JSON: trailer, flush, close what we opened. */
static int text_close(struct sb_export *e)
{
    int rc = 0;
    if (e->fmt == SB_EXPORT_JSON)
        fputs(e->rows ? "\n]}\n" : "]}\n", e->fp);
    if (ferror(e->fp) || fflush(e->fp) != 0)
        rc = SB_EIO;
    if (e->own_fp && fclose(e->fp) != 0)
        rc = SB_EIO;
    e->fp = NULL;
    return rc;
}

static int xlsx_close(struct sb_export *e)
{
    lxw_error err = workbook_close(e->wb);   /* frees the workbook in any case */
    int rc = lxw_rc(err);
    e->wb = NULL;
    if (!rc && e->user_fp)
        rc = copy_to(e->xlsx_path, e->user_fp);
    if (e->user_fp)
        unlink(e->xlsx_path);
    return rc;
}

int sb_export_close(struct sb_export *e)
{
    int rc;

    if (!e)
        return SB_EINVAL;
    rc = e->fmt == SB_EXPORT_XLSX ? xlsx_close(e) : text_close(e);
    if (rc && e->path)
        unlink(e->path);
    export_free(e);
    return rc;
}

void sb_export_abort(struct sb_export *e)
{
    if (!e)
        return;
    if (e->wb) {
        /* lxw_workbook_free() (1.1.4) does not close a constant_memory
         * sheet's spill file (workbook_close() does), so close it here;
         * it is already unlinked, so closing discards it. */
        if (e->ws && e->ws->optimize_tmpfile) {
            fclose(e->ws->optimize_tmpfile);
            if (e->ws->file == e->ws->optimize_tmpfile)
                e->ws->file = NULL;
            e->ws->optimize_tmpfile = NULL;
        }
        lxw_workbook_free(e->wb);
    }
    if (e->own_fp && e->fp)
        fclose(e->fp);
    if (e->user_fp && e->xlsx_path)
        unlink(e->xlsx_path);
    if (e->path)
        unlink(e->path);
    export_free(e);
}

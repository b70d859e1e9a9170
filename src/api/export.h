/*
 * export.h - streaming writers for data exports: CSV, JSON and XLSX.
 *
 * An export is a "wide" table: one time column, optionally a local-time
 * column, then one column per series.  The caller opens a writer, feeds
 * rows in order with sb_export_row() and finishes with sb_export_close()
 * (or sb_export_abort() on any error).  Memory does not grow with the number
 * of rows: CSV and JSON are written through a stdio buffer as rows arrive;
 * XLSX uses libxlsxwriter's constant_memory mode, which spills each row to a
 * temporary file (created in the output file's directory, so a small /tmp
 * cannot fill up) and assembles the zip container on close.
 *
 * Formats (each documented at its writer in export.c):
 *  - CSV, RFC 4180: CRLF line ends, header "time,<col> (<unit>),...", times
 *    "2026-01-02T03:04:05.000Z", numbers in the shortest text that reads
 *    back to the same double, missing values empty.  Header cells that start
 *    with = + - @ TAB or CR get a leading apostrophe (OWASP CSV injection).
 *  - JSON, RFC 8259: {"title":..,"columns":[{"name":..,"unit":..}],
 *    "rows":[["<rfc3339>",v|null,...],...]}; with a time zone it also has
 *    "tz":"<name>" and each row carries the local time (RFC 3339 with the
 *    zone's offset) as its second element.
 *  - XLSX: one sheet named after the title (sanitised to Excel's rules),
 *    bold frozen header row, times as Excel datetimes
 *    "yyyy-mm-dd hh:mm:ss" (UTC, and local wall-clock time when a zone is
 *    given), values as numbers.  At most SB_EXPORT_XLSX_MAX_ROWS data rows.
 *    Numbers keep 16 significant digits (libxlsxwriter 1.1 writes "%.16G";
 *    Excel shows 15), so 0.30000000000000004 reads back as 0.3.
 * Values that are NaN (or infinite: no format can carry them) are missing.
 * Strings that are not valid UTF-8 are repaired with U+FFFD.
 *
 * Ownership: sb_export_open*() copy everything in *meta; the writer is owned
 * by the caller until sb_export_close() or sb_export_abort(), which free it.
 * A FILE given to sb_export_open_fp() stays the caller's (flushed, never
 * closed).  Threads: a writer is used by one thread at a time; different
 * writers are independent.  The module never logs.
 */
#ifndef SB_API_EXPORT_H
#define SB_API_EXPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sb_export_fmt {
    SB_EXPORT_CSV = 0,
    SB_EXPORT_JSON,
    SB_EXPORT_XLSX
};

/* Excel's sheet has 1,048,576 rows; the header takes one. */
#define SB_EXPORT_XLSX_MAX_ROWS (1048576u - 1u)

/* What the table looks like. */
struct sb_export_meta {
    const char *title;               /* JSON "title", XLSX sheet name; NULL = "" */
    const char *tz_name;             /* IANA zone for a local-time column, or NULL */
    const char *const *cols;         /* ncols series names (NULL entries = "") */
    const char *const *units;        /* ncols units, or NULL; NULL/"" entries = none */
    size_t ncols;                    /* number of series, >= 1 */
};

struct sb_export;

/* "csv", "json", "xlsx" (exact, lowercase) -> SB_EXPORT_*, else -1. */
int sb_export_fmt_parse(const char *s);

/* Content-Type and file extension (without the dot); static strings,
 * "application/octet-stream" / "bin" for an unknown value. */
const char *sb_export_ctype(enum sb_export_fmt f);
const char *sb_export_ext(enum sb_export_fmt f);

/* Create path (truncating it) and start an export there.  Returns 0 with
 * *out set, SB_EINVAL (unknown format, no columns, NULL arguments, a name
 * over 32,767 bytes), SB_ENOENT (unknown time zone), SB_EIO (cannot create
 * path or a temporary file next to it) or SB_ENOMEM. */
int sb_export_open(enum sb_export_fmt f, const char *path, const struct sb_export_meta *m,
                   struct sb_export **out);

/* Start an export onto an open stream (a socket or pipe via fdopen).  CSV
 * and JSON are written to fp as rows arrive; XLSX is built in a temporary
 * file in tmpdir (required for XLSX) and copied to fp on close.  Returns
 * as sb_export_open. */
int sb_export_open_fp(enum sb_export_fmt f, FILE *fp, const char *tmpdir,
                      const struct sb_export_meta *m, struct sb_export **out);

/* Append a row: time t_ms (ms since the epoch, UTC) and v[0..ncols).
 * Returns 0, SB_ENOSPC (XLSX already holds SB_EXPORT_XLSX_MAX_ROWS rows:
 * the row is not written, the export is still valid to close), SB_ERANGE
 * (XLSX: a time Excel cannot show, before 1900-03-01 or after 9999), SB_EIO
 * (write failed; abort the export) or SB_EINVAL. */
int sb_export_row(struct sb_export *e, int64_t t_ms, const double *v);

/* Finish the file (XLSX is assembled here), flush, and free e.  Returns 0,
 * or SB_EIO / SB_ENOMEM, in which case a path export's file is removed. */
int sb_export_close(struct sb_export *e);

/* Free e without finishing; a path export's file (and any temporary file)
 * is removed.  Bytes already written to a caller's FILE stay written.
 * NULL is a no-op. */
void sb_export_abort(struct sb_export *e);

#endif /* SB_API_EXPORT_H */

/*
 * report.h - building reports: one period's figures as XLSX, CSV and JSON.
 *
 * Facility managers receive scheduled daily / weekly / monthly reports per
 * building.  The scheduler gathers the figures (store, tariffs, M&V, comfort,
 * faults) into a struct sb_report_data and calls one builder per format;
 * delivery (mail, webhook, download) is the caller's.  What each format
 * holds, with examples: docs/internals/analytics-reports.md.
 *
 * The builders are pure: no clocks, no globals, no logging, nothing read
 * or written except (a) the XLSX builder's one private temporary file,
 * because libxlsxwriter 1.1.4 (Debian 12) can only write a workbook to a
 * path - it has no in-memory output - and (b) the zone file, once per
 * process, when the caller leaves d->tz NULL (sb_tz_get()).
 *
 * Text: every string is copied as valid UTF-8 (ill-formed bytes become
 * U+FFFD), C0 controls other than TAB, LF and CR become spaces (XML 1.0
 * cannot carry them), and it is cut at SB_REPORT_TEXT_MAX bytes on a
 * character boundary, the same in all three formats.  CSV text cells that
 * start with = + - @ TAB or CR get a leading apostrophe (OWASP "CSV
 * Injection"), as src/api/export.c does; XLSX text is always written as a
 * string cell, never a formula.  Numbers that are NaN or infinite are
 * missing: an empty CSV field, an empty cell, JSON null.
 *
 * Ownership: everything in *d is borrowed for the call and never kept.  On
 * success *out is a malloc'd buffer the caller frees with free(); CSV and
 * JSON are NUL-terminated (*len excludes the NUL).  On failure *out is left
 * untouched and nothing is left behind in tmpdir.  Threads: the builders
 * share no state; any number may run at once.
 */
#ifndef SB_ANALYTICS_REPORT_H
#define SB_ANALYTICS_REPORT_H

#include <stddef.h>
#include <stdint.h>

struct sb_tz;

#define SB_REPORT_TEXT_MAX   4096u     /* longest text kept, bytes */
#define SB_REPORT_MAX_DAYS   1100u     /* three years of daily rows */
#define SB_REPORT_MAX_METERS 1000u     /* Daily columns (Excel allows 16,384) */
#define SB_REPORT_MAX_ROWS   100000u   /* zones, alerts, notes: each */
#define SB_REPORT_OUT_MAX    (256u << 20)  /* largest report, bytes */

/* One meter's figures over the period. */
struct sb_report_meter {
    const char *slug;           /* stable id (borrowed); NULL = "" */
    const char *name;           /* display name (borrowed); NULL = slug */
    int depth;                  /* 0 main meter, 1 end use, 2 nested sub-meter */
    const double *kwh_day;      /* ndays values, NAN = no data; NULL = none at all */
    double total_kwh;           /* over the period, NAN = unknown */
    double peak_kw;             /* highest demand interval, NAN = unknown */
    int64_t peak_at_ms;         /* start of that interval, UTC ms; 0 = unknown */
    double cost;                /* in d->currency, NAN = no tariff */
};

/* One zone's comfort over the occupied hours of the period. */
struct sb_report_zone {
    const char *slug;           /* borrowed; NULL = "" */
    const char *name;           /* borrowed; NULL = slug */
    double occupied_h;          /* occupied hours in the period */
    double outside_kh;          /* kelvin-hours outside the comfort band */
    double outside_h;           /* occupied hours outside the band */
    double mean_temp_c;         /* mean occupied temperature, degC; NAN = unknown */
};

/* One fault, as the alert engine raised it. */
struct sb_report_alert {
    int64_t raised_ms;          /* UTC ms; 0 = unknown */
    const char *severity;       /* "critical", "high", ... (borrowed) */
    const char *title;          /* borrowed */
    const char *state;          /* "open", "acknowledged", ... (borrowed) */
    const char *equipment;      /* borrowed; NULL = none */
    double cost_per_day;        /* estimated waste, d->currency per day; NAN = unknown */
};

struct sb_report_data {
    const char *report_id;      /* the schedule's id; NULL = none */
    const char *building_slug;  /* required */
    const char *building_name;  /* NULL = building_slug */
    const char *timezone;       /* IANA name of the building's zone, required */
    const struct sb_tz *tz;     /* that zone, or NULL: looked up with sb_tz_get() */
    const char *frequency;      /* "daily" | "weekly" | "monthly" */
    int64_t from_ms, to_ms;     /* the period, UTC ms, [from, to) = local midnights */
    int64_t generated_ms;       /* when the figures were taken, UTC ms; 0 = unknown */
    const char *currency;       /* ISO 4217 code, NULL = no tariff */
    size_t ndays;               /* local days of the period */
    const int64_t *day_start_ms;/* ndays UTC starts: [0] = from_ms, increasing, < to_ms */
    size_t nmeters;
    const struct sb_report_meter *meters;
    double total_cost;          /* of the main meters, NAN = none */
    double prev_total_kwh;      /* main meters, same-length previous period, NAN = unknown */
    int has_savings;            /* the savings_* fields below are set */
    double savings_pct;         /* percent of the adjusted baseline (12.5 = 12.5 %) */
    double savings_kwh;         /* avoided energy, kWh */
    double savings_lo_kwh;      /* its uncertainty interval, kWh */
    double savings_hi_kwh;
    const char *savings_note;   /* method / confidence level in words; NULL = none */
    size_t nzones;
    const struct sb_report_zone *zones;
    size_t nalerts;
    const struct sb_report_alert *alerts;   /* top faults, ranked by the caller */
    const char *const *notes;   /* data gaps etc., in words */
    size_t nnotes;
};

/* The workbook (sheets Summary, Daily, Comfort, Faults).  tmpdir is a
 * directory only this process writes (mode 0700): the workbook is built in
 * a mkstemp file there, read back, and unlinked.  Returns 0, SB_EINVAL
 * (bad or inconsistent data, see sb_report_check), SB_ENOENT (unknown zone),
 * SB_ERANGE (a period outside Excel's 1900-03-01 .. 9999-12-31), SB_EIO
 * (tmpdir not writable, libxlsxwriter failed), SB_ENOSPC (over
 * SB_REPORT_OUT_MAX) or SB_ENOMEM. */
int sb_report_xlsx(const struct sb_report_data *d, const char *tmpdir,
                   unsigned char **out, size_t *len);

/* RFC 4180 CSV: the daily table, an empty record, then "summary,<key>,
 * <value>" records, every record padded to the same number of fields.
 * Same errors as sb_report_xlsx except SB_EIO. */
int sb_report_csv(const struct sb_report_data *d, char **out, size_t *len);

/* RFC 8259 JSON: everything, times RFC 3339 UTC plus local dates/times. */
int sb_report_json(const struct sb_report_data *d, char **out, size_t *len);

/* Validate d alone (what every builder checks first): 0, SB_EINVAL,
 * SB_ENOENT or SB_ERANGE. */
int sb_report_check(const struct sb_report_data *d);

/* A safe download name "<slug>-<frequency>-<first local day>.<ext>",
 * e.g. "hq-weekly-2026-11-16.xlsx": only [A-Za-z0-9._-], never starting
 * with '.' or '-', the slug part at most 64 bytes.  ext is 1-8 ASCII
 * letters or digits.  Returns the length written (without the NUL),
 * SB_EINVAL, SB_ENOENT, SB_ERANGE or SB_ENOSPC (cap too small). */
int sb_report_filename(const struct sb_report_data *d, const char *ext, char *buf, size_t cap);

#endif /* SB_ANALYTICS_REPORT_H */

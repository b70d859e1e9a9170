/*
 * log.h - leveled, per-module, rate-limited logging for the daemon.
 *
 * Every line has a level (error .. trace), a module name ("store",
 * "ingest", "bacnet") and a printf-style message.  Lines go to standard
 * error, or to a file (sb_log_open) or descriptor (sb_log_set_fd), as text
 *
 *     2026-11-27T12:00:00.123Z INFO  store: sealed 1200 chunks
 *
 * or as JSON lines (one object per line, RFC 8259, always valid UTF-8)
 *
 *     {"ts":"2026-11-27T12:00:00.123Z","level":"info","module":"store","msg":"..."}
 *
 * The SB_ERR/SB_WARN/SB_INFO/SB_DEBUG/SB_TRACE macros first compare the level
 * with one relaxed atomic load, so a disabled line costs a compare and its
 * arguments are never evaluated.  Every function here is thread-safe; each
 * line is written with a single write(2) under a mutex, so lines from the
 * loop thread and the workers never interleave.  Control characters in
 * messages are escaped, so a peer's bytes cannot forge log lines.
 *
 * A call site (same module and same format string) that logs more than
 * rate_limit lines within rate_window_ms has the rest counted, not written;
 * when the window is over one line reports "suppressed N similar messages".
 * That report is written by the next log call of any module, or by
 * sb_log_flush_suppressed(), which the event loop calls once a second.
 *
 * This module never logs configuration values: it only takes the log
 * settings (struct sb_log_settings, which sb_log_setup() reads from a struct
 * sb_config), and core/conf prints <hidden> for options flagged secret.
 * The log owns the descriptor sb_log_open opened; a descriptor given to
 * sb_log_set_fd stays the caller's.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levels, most severe first; a line is written when its level is <= the
 * module's level.  The order matches the log.level enum in core/conf.c. */
enum sb_log_level {
    SB_LOG_ERROR = 0,   /* something failed and was not recovered */
    SB_LOG_WARN,        /* something is wrong but sbems carries on */
    SB_LOG_INFO,        /* normal, infrequent events (start, stop, config) */
    SB_LOG_DEBUG,       /* detail for diagnosing a problem */
    SB_LOG_TRACE,       /* per-frame / per-sample detail */
    SB_LOG_LEVEL_COUNT
};

enum sb_log_format {
    SB_LOG_FMT_TEXT = 0,   /* "ts LEVEL module: message" */
    SB_LOG_FMT_JSON,       /* one JSON object per line */
    SB_LOG_FMT_COUNT
};

/* Longest module name kept for per-module levels and reports. */
#define SB_LOG_MODULE_MAX 31
/* Most entries in a per-module level list ("store=debug,ingest=warn"). */
#define SB_LOG_MODULES_MAX 32
/* A formatted message longer than this is cut and ends in "...". */
#define SB_LOG_MSG_MAX 4000

/* Everything sb_log_configure() sets, in one struct so a reload is atomic. */
struct sb_log_settings {
    int         level;          /* SB_LOG_* for modules not in modules */
    int         format;         /* SB_LOG_FMT_* */
    const char *modules;        /* "store=debug,ingest=warn", or NULL/"" (copied) */
    bool        timestamps;     /* text: begin lines with the UTC time */
    int         rate_limit;     /* lines per call site per window, 0 = unlimited */
    int64_t     rate_window_ms; /* the rate-limit window, > 0 */
};

/* Internal: the most verbose level any module has enabled, read by the
 * macros below without a lock (a stale read only costs one slow check). */
extern _Atomic int sb_log__max;

#define SB_LOG_AT(lvl, mod, ...)                                           \
    do {                                                                   \
        if ((int)(lvl) <= atomic_load_explicit(&sb_log__max,               \
                                               memory_order_relaxed))      \
            sb_log((lvl), (mod), __VA_ARGS__);                             \
    } while (0)

#define SB_ERR(mod, ...)   SB_LOG_AT(SB_LOG_ERROR, mod, __VA_ARGS__)
#define SB_WARN(mod, ...)  SB_LOG_AT(SB_LOG_WARN, mod, __VA_ARGS__)
#define SB_INFO(mod, ...)  SB_LOG_AT(SB_LOG_INFO, mod, __VA_ARGS__)
#define SB_DEBUG(mod, ...) SB_LOG_AT(SB_LOG_DEBUG, mod, __VA_ARGS__)
#define SB_TRACE(mod, ...) SB_LOG_AT(SB_LOG_TRACE, mod, __VA_ARGS__)

/* Writes one line if level is enabled for mod (and not rate-limited).
 * mod and fmt need not outlive the call. */
void sb_log(int level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sb_logv(int level, const char *mod, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* True when a line of this level and module would be written; for callers
 * that must do work (hex dumps) before logging. */
bool sb_log_enabled(int level, const char *mod);

/* Replaces all settings at once.  Returns 0, or SB_ECONFIG with a message
 * in err (settings unchanged) if a value is invalid. */
int sb_log_configure(const struct sb_log_settings *s, char *err, size_t errlen);

struct sb_config;

/* Applies the log.* options of cfg (core/conf.h): sb_log_configure(), then
 * sb_log_open(log.file).  A failure is also
 * logged (to the previous destination), so callers may ignore the result.
 * Returns 0, SB_ECONFIG, SB_ENOENT or SB_EIO. */
int sb_log_setup(const struct sb_config *cfg);

/* Appends to path (created 0640, O_APPEND|O_CLOEXEC) from now on; NULL or ""
 * goes back to standard error.  Closes the previous file sb_log_open opened,
 * so calling it again with the same path reopens after log rotation.
 * Returns 0, SB_ENOENT or SB_EIO (previous destination kept). */
int sb_log_open(const char *path);

/* Writes to fd from now on; the caller keeps ownership of fd and must not
 * close it before switching away.  Returns 0 or SB_EINVAL (fd < 0). */
int sb_log_set_fd(int fd);

/* Writes the "suppressed N similar messages" line of every rate-limit
 * window that has ended; returns how many lines it wrote. */
int sb_log_flush_suppressed(void);

/* Tests: replaces the clock (ms since the epoch) used for timestamps and
 * rate-limit windows; NULL restores the system clocks. */
void sb_log_set_clock(int64_t (*now_ms)(void));

/* Back to the start state: stderr, info, text with timestamps, no modules,
 * 10 lines per 10 s, empty rate-limit table, system clock. */
void sb_log_reset(void);

/* "error".."trace" <-> SB_LOG_*; parse returns -1 for an unknown name. */
int sb_log_level_parse(const char *name);
const char *sb_log_level_name(int level);   /* "?" if out of range */

/* Checks a per-module list "mod=level[,mod=level...]" (spaces allowed around
 * items; module names of [A-Za-z0-9_.-], at most SB_LOG_MODULE_MAX bytes,
 * each listed once).  Returns 0 or SB_ECONFIG with the reason in err. */
int sb_log_modules_check(const char *spec, char *err, size_t errlen);

#endif /* SB_LOG_H */

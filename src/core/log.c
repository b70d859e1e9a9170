/*
 * log.c - leveled, per-module, rate-limited logging (see log.h).
 *
 * One mutex (L.mu) guards the settings, the destination and the rate-limit
 * table.  A line takes it twice: once to decide (module level, rate limit,
 * clock) and once to write, so the formatting, the slow part, runs without
 * it.  Every line is handed to the kernel in one write(2) call while the
 * mutex is held, so threads of this process never interleave their lines;
 * with O_APPEND (sb_log_open) Linux also keeps other processes' appends
 * whole (POSIX.1-2017 write(): "the file offset shall be set to the end of
 * the file prior to each write").
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/utf8.h"

#define RL_SLOTS     256    /* rate-limit table size (a power of two) */
#define RL_PROBE     8      /* slots searched before evicting the oldest */
#define RL_FMT_KEEP  48     /* bytes of the format kept for the report line */
#define RL_SWEEP_MAX 8      /* reports written per call; the rest wait */
#define RL_REPORTS   (RL_SWEEP_MAX + 2)  /* + one evicted + one window end */
#define LINE_MAX_    8192   /* longest line written, after escaping */
#define LINE_TAIL    16     /* room kept for "...\"}\n" at the end */
#define TS_MAX       80     /* a timestamp, with room for any int the compiler imagines */

_Atomic int sb_log__max = SB_LOG_INFO;

/* One entry of the per-module list. */
struct modlevel {
    char name[SB_LOG_MODULE_MAX + 1];  /* module name, NUL-terminated */
    int  level;                        /* SB_LOG_* enabled for it */
};

/* Rate-limit state of one call site (module + format string). */
struct rl_slot {
    uint64_t key;                      /* hash of module and format; 0 = free */
    int64_t  start;                    /* window start, ms (monotonic clock) */
    uint32_t count;                    /* lines written in this window */
    uint32_t suppressed;               /* lines dropped in this window */
    int      level;                    /* most severe level dropped */
    char     mod[SB_LOG_MODULE_MAX + 1];  /* module, for the report */
    char     fmt[RL_FMT_KEEP + 1];     /* start of the format, for the report */
};

/* A "suppressed N similar messages" line waiting to be written. */
struct rl_report {
    int      level;                    /* level to write it at */
    uint32_t n;                        /* lines suppressed */
    char     mod[SB_LOG_MODULE_MAX + 1];  /* their module */
    char     fmt[RL_FMT_KEEP + 1];     /* the start of their format */
};

/* What a line needs to know about the settings, copied under the lock. */
struct snap {
    int     format;                    /* SB_LOG_FMT_* */
    bool    timestamps;                /* text: print the time */
    int64_t ts;                        /* wall-clock time of the line, ms */
};

/* All state of the module, guarded by mu. */
static struct {
    pthread_mutex_t mu;                /* guards everything below */
    int     level;                     /* default level */
    int     format;                    /* SB_LOG_FMT_* */
    bool    timestamps;                /* text: print the time */
    int     rate_limit;                /* lines per window per site, 0 = off */
    int64_t rate_window;               /* window length, ms */
    struct modlevel mods[SB_LOG_MODULES_MAX];  /* per-module levels */
    int     nmods;                     /* used entries of mods */
    int     fd;                        /* destination */
    bool    fd_owned;                  /* fd was opened by sb_log_open */
    int64_t (*clock)(void);            /* test clock, or NULL */
    struct rl_slot rl[RL_SLOTS];       /* rate-limit table */
    int64_t rl_next;                   /* earliest end of a window with drops */
} L = {
    .mu = PTHREAD_MUTEX_INITIALIZER, .level = SB_LOG_INFO,
    .format = SB_LOG_FMT_TEXT, .timestamps = true, .rate_limit = 10,
    .rate_window = 10000, .fd = 2, .rl_next = INT64_MAX,
};

static const char *const level_names[SB_LOG_LEVEL_COUNT] = {
    "error", "warn", "info", "debug", "trace"
};
/* Text format pads to five columns so messages line up. */
static const char *const level_text[SB_LOG_LEVEL_COUNT] = {
    "ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"
};

/* ---- levels and the per-module list ------------------------------------- */

int sb_log_level_parse(const char *name)
{
    for (int i = 0; name && i < SB_LOG_LEVEL_COUNT; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

const char *sb_log_level_name(int level)
{
    if (level < 0 || level >= SB_LOG_LEVEL_COUNT)
        return "?";
    return level_names[level];
}


static bool modname_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Parses one "name = level" item at *pp into m; advances *pp past it. */
static int parse_item(const char **pp, struct modlevel *m, char *err, size_t errlen)
{
    const char *p = skip_ws(*pp), *name = p, *lv;
    size_t n, ln;
    char word[16];

    while (modname_char(*p))
        p++;
    n = (size_t)(p - name);
    if (n == 0 || n > SB_LOG_MODULE_MAX) {
        sb_errf(err, errlen, "expected a module name (1-%d of A-Z a-z 0-9 _ . -) at \"%.20s\"",
               SB_LOG_MODULE_MAX, name);
        return SB_ECONFIG;
    }
    p = skip_ws(p);
    if (*p != '=') {
        sb_errf(err, errlen, "expected \"=level\" after module \"%.*s\"", (int)n, name);
        return SB_ECONFIG;
    }
    lv = p = skip_ws(p + 1);
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
        p++;
    ln = (size_t)(p - lv);
    snprintf(word, sizeof word, "%.*s", (int)(ln < sizeof word ? ln : sizeof word - 1), lv);
    m->level = ln < sizeof word ? sb_log_level_parse(word) : -1;
    if (m->level < 0) {
        sb_errf(err, errlen, "unknown level \"%.*s\" for module \"%.*s\" "
               "(one of: error, warn, info, debug, trace)", (int)(ln > 16 ? 16 : ln), lv,
               (int)n, name);
        return SB_ECONFIG;
    }
    memcpy(m->name, name, n);
    m->name[n] = '\0';
    *pp = skip_ws(p);
    return 0;
}

/* Parses spec into out[] (at most SB_LOG_MODULES_MAX), *n entries. */
static int parse_modules(const char *spec, struct modlevel *out, int *n,
                         char *err, size_t errlen)
{
    const char *p = skip_ws(spec ? spec : "");
    int rc;

    *n = 0;
    while (*p) {
        if (*n == SB_LOG_MODULES_MAX) {
            sb_errf(err, errlen, "more than %d modules", SB_LOG_MODULES_MAX);
            return SB_ECONFIG;
        }
        if ((rc = parse_item(&p, &out[*n], err, errlen)) < 0)
            return rc;
        for (int i = 0; i < *n; i++) {
            if (strcmp(out[i].name, out[*n].name) == 0) {
                sb_errf(err, errlen, "module \"%s\" listed twice", out[i].name);
                return SB_ECONFIG;
            }
        }
        ++*n;
        if (*p == '\0')
            break;
        if (*p != ',') {
            sb_errf(err, errlen, "expected \",\" between entries at \"%.20s\"", p);
            return SB_ECONFIG;
        }
        p = skip_ws(p + 1);
        if (*p == '\0') {
            sb_errf(err, errlen, "nothing after the last \",\"");
            return SB_ECONFIG;
        }
    }
    return 0;
}

int sb_log_modules_check(const char *spec, char *err, size_t errlen)
{
    struct modlevel tmp[SB_LOG_MODULES_MAX];
    int n;

    return parse_modules(spec, tmp, &n, err, errlen);
}

/* Level enabled for mod.  L.mu held. */
static int mod_level(const char *mod)
{
    for (int i = 0; i < L.nmods; i++)
        if (strcmp(L.mods[i].name, mod) == 0)
            return L.mods[i].level;
    return L.level;
}

/* Recomputes the lock-free upper bound the macros test.  L.mu held. */
static void update_max(void)
{
    int max = L.level;

    for (int i = 0; i < L.nmods; i++)
        if (L.mods[i].level > max)
            max = L.mods[i].level;
    atomic_store_explicit(&sb_log__max, max, memory_order_relaxed);
}

int sb_log_configure(const struct sb_log_settings *s, char *err, size_t errlen)
{
    struct modlevel tmp[SB_LOG_MODULES_MAX];
    int n, rc;

    if (s->level < 0 || s->level >= SB_LOG_LEVEL_COUNT ||
        s->format < 0 || s->format >= SB_LOG_FMT_COUNT ||
        s->rate_limit < 0 || s->rate_window_ms <= 0) {
        sb_errf(err, errlen, "invalid log settings");
        return SB_ECONFIG;
    }
    if ((rc = parse_modules(s->modules, tmp, &n, err, errlen)) < 0)
        return rc;
    pthread_mutex_lock(&L.mu);
    L.level = s->level;
    L.format = s->format;
    L.timestamps = s->timestamps;
    L.rate_limit = s->rate_limit;
    L.rate_window = s->rate_window_ms;
    memcpy(L.mods, tmp, sizeof tmp[0] * (size_t)n);
    L.nmods = n;
    L.rl_next = 0;              /* the window changed: let the next sweep recompute */
    update_max();
    pthread_mutex_unlock(&L.mu);
    return 0;
}

bool sb_log_enabled(int level, const char *mod)
{
    bool on;

    if (level < 0 || level > atomic_load_explicit(&sb_log__max, memory_order_relaxed))
        return false;
    pthread_mutex_lock(&L.mu);
    on = level <= mod_level(mod ? mod : "");
    pthread_mutex_unlock(&L.mu);
    return on;
}

/* ---- destination, clock, reset ------------------------------------------ */

/* Installs fd as the destination.  L.mu held. */
static void set_dest(int fd, bool owned)
{
    if (L.fd_owned && L.fd != fd)
        close(L.fd);
    L.fd = fd;
    L.fd_owned = owned;
}

int sb_log_open(const char *path)
{
    int fd = 2;
    bool owned = false;

    if (path && *path) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
            return errno == ENOENT ? SB_ENOENT : SB_EIO;
        owned = true;
    }
    pthread_mutex_lock(&L.mu);
    set_dest(fd, owned);
    pthread_mutex_unlock(&L.mu);
    return 0;
}

int sb_log_set_fd(int fd)
{
    if (fd < 0)
        return SB_EINVAL;
    pthread_mutex_lock(&L.mu);
    set_dest(fd, false);
    pthread_mutex_unlock(&L.mu);
    return 0;
}

void sb_log_set_clock(int64_t (*now_ms)(void))
{
    pthread_mutex_lock(&L.mu);
    L.clock = now_ms;
    pthread_mutex_unlock(&L.mu);
}

void sb_log_reset(void)
{
    pthread_mutex_lock(&L.mu);
    set_dest(2, false);
    L.level = SB_LOG_INFO;
    L.format = SB_LOG_FMT_TEXT;
    L.timestamps = true;
    L.rate_limit = 10;
    L.rate_window = 10000;
    L.nmods = 0;
    L.clock = NULL;
    memset(L.rl, 0, sizeof L.rl);
    L.rl_next = INT64_MAX;
    update_max();
    pthread_mutex_unlock(&L.mu);
}

/* ms since the epoch (timestamps).  L.mu held. */
static int64_t now_wall(void)
{
    struct timespec ts;

    if (L.clock)
        return L.clock();
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ms of a clock that never jumps (rate-limit windows).  L.mu held. */
static int64_t now_mono(void)
{
    struct timespec ts;

    if (L.clock)
        return L.clock();
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- rate limiting ------------------------------------------------------ */

/* FNV-1a, 64-bit (Fowler, Noll, Vo; IETF draft-eastlake-fnv), over the
 * module, a 0 byte and the format: the call-site identity. */
static uint64_t rl_hash(const char *mod, const char *fmt)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (const unsigned char *p = (const unsigned char *)mod; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h *= 0x100000001b3ULL;
    for (const unsigned char *p = (const unsigned char *)fmt; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    return h ? h : 1;
}

/* Queues slot s's report and clears its count of dropped lines. */
static void rl_report(struct rl_slot *s, struct rl_report *rep, int *nrep)
{
    struct rl_report *r = &rep[(*nrep)++];

    r->level = s->level;
    r->n = s->suppressed;
    memcpy(r->mod, s->mod, sizeof r->mod);
    memcpy(r->fmt, s->fmt, sizeof r->fmt);
    s->suppressed = 0;
}

/* Reports every window with drops that has ended (at most RL_SWEEP_MAX;
 * the rest on a later call) and recomputes L.rl_next.  L.mu held. */
static void rl_sweep(int64_t now, struct rl_report *rep, int *nrep)
{
    int64_t next = INT64_MAX;

    if (now < L.rl_next)
        return;
    for (int i = 0; i < RL_SLOTS; i++) {
        struct rl_slot *s = &L.rl[i];
        if (!s->suppressed)
            continue;
        if (now - s->start < L.rate_window || *nrep >= RL_SWEEP_MAX) {
            int64_t end = now - s->start < L.rate_window ? s->start + L.rate_window : now;
            next = end < next ? end : next;
            continue;
        }
        rl_report(s, rep, nrep);
    }
    L.rl_next = next;
}

/* The slot of key: found, free, or the oldest of the probed ones (its
 * pending report queued).  L.mu held. */
static struct rl_slot *rl_slot(uint64_t key, struct rl_report *rep, int *nrep)
{
    struct rl_slot *oldest = NULL;

    for (int i = 0; i < RL_PROBE; i++) {
        struct rl_slot *s = &L.rl[(key + (uint64_t)i) & (RL_SLOTS - 1)];
        if (s->key == key || s->key == 0)
            return s;
        if (!oldest || s->start < oldest->start)
            oldest = s;
    }
    if (oldest->suppressed)
        rl_report(oldest, rep, nrep);
    oldest->key = 0;
    return oldest;
}

/* True if this line may be written; counts it against its call site.
 * L.mu held. */
static bool rl_admit(int level, const char *mod, const char *fmt, int64_t now,
                     struct rl_report *rep, int *nrep)
{
    uint64_t key = rl_hash(mod, fmt);
    struct rl_slot *s = rl_slot(key, rep, nrep);

    if (s->key != key) {
        memset(s, 0, sizeof *s);
        s->key = key;
        s->start = now;
        snprintf(s->mod, sizeof s->mod, "%s", mod);
        snprintf(s->fmt, sizeof s->fmt, "%s", fmt);
    } else if (now - s->start >= L.rate_window) {
        if (s->suppressed)
            rl_report(s, rep, nrep);
        s->start = now;
        s->count = 0;
    }
    if (s->count < (uint32_t)L.rate_limit) {
        s->count++;
        return true;
    }
    if (s->suppressed++ == 0 || level < s->level)
        s->level = level;
    if (s->start + L.rate_window < L.rl_next)
        L.rl_next = s->start + L.rate_window;
    return false;
}

/* ---- formatting --------------------------------------------------------- */

/* An output buffer that takes whole pieces or nothing (so an escape is
 * never cut in half) and remembers that something did not fit. */
struct obuf {
    char  *p;       /* storage */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes usable now (the tail room is added at the end) */
    bool   full;    /* a piece did not fit; the rest is dropped */
};

static void put(struct obuf *b, const char *s, size_t n)
{
    if (b->full || n > b->cap - b->len) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(struct obuf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Appends s as the inside of a JSON string (RFC 8259 section 7): quote,
 * backslash and control characters escaped, invalid UTF-8 replaced by
 * U+FFFD so the line stays valid JSON (section 8.1). */
static void put_json(struct obuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[8];

    for (size_t i = 0; i < n && !b->full;) {
        size_t k = sb_utf8_seq(u + i, n - i);
        unsigned char c = u[i];
        if (k == 0) {
            puts_(b, "\\ufffd");
            i++;
            continue;
        }
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c == '\n') puts_(b, "\\n");
        else if (c == '\r') puts_(b, "\\r");
        else if (c == '\t') puts_(b, "\\t");
        else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else
            put(b, s + i, k);
        i += k;
    }
}

/* Appends s for the text format: control characters (but tab) escaped so
 * a message can never start a new, forged line. */
static void put_text(struct obuf *b, const char *s, size_t n)
{
    char esc[8];

    for (size_t i = 0; i < n && !b->full; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            puts_(b, "\\n");
        else if (c == '\r')
            puts_(b, "\\r");
        else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", c);
            put(b, esc, 4);
        } else
            put(b, s + i, 1);
    }
}

/* "2026-11-27T12:00:00.123Z" (RFC 3339 section 5.6, UTC) into out[TS_MAX]. */
static void format_ts(int64_t ms, char *out)
{
    int64_t sec = ms / 1000, frac = ms % 1000;
    time_t t;
    struct tm tm;

    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    t = (time_t)sec;
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, TS_MAX, "?");
        return;
    }
    snprintf(out, TS_MAX, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

/* Formats one complete line (ending in '\n') into buf[cap]; returns its
 * length.  cut says the message was already cut by the caller. */
static size_t build_line(char *buf, size_t cap, const struct snap *s, int level,
                         const char *mod, const char *msg, size_t n, bool cut)
{
    struct obuf b = { buf, 0, cap - LINE_TAIL, false };
    char ts[TS_MAX];
    bool json = s->format == SB_LOG_FMT_JSON;

    format_ts(s->ts, ts);
    if (json) {
        puts_(&b, "{\"ts\":\"");
        puts_(&b, ts);
        puts_(&b, "\",\"level\":\"");
        puts_(&b, level_names[level]);
        puts_(&b, "\",\"module\":\"");
        put_json(&b, mod, strlen(mod));
        puts_(&b, "\",\"msg\":\"");
        put_json(&b, msg, n);
    } else {
        if (s->timestamps) {
            puts_(&b, ts);
            puts_(&b, " ");
        }
        puts_(&b, level_text[level]);
        puts_(&b, " ");
        put_text(&b, mod, strlen(mod));
        puts_(&b, ": ");
        put_text(&b, msg, n);
    }
    cut = cut || b.full;
    b.cap = cap;
    b.full = false;
    if (cut)
        puts_(&b, "...");
    puts_(&b, json ? "\"}\n" : "\n");
    return b.len;
}

/* ---- writing ------------------------------------------------------------ */

/* One write(2) per line; loops only on a short write or EINTR.  Errors are
 * dropped: there is nowhere left to report them. */
static void write_line(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Writes the queued rate-limit reports, then line (may be NULL).
 * Takes L.mu for the writes. */
static void emit(const struct snap *s, const struct rl_report *rep, int nrep,
                 const char *line, size_t len)
{
    char buf[512], msg[160];

    pthread_mutex_lock(&L.mu);
    for (int i = 0; i < nrep; i++) {
        int n = snprintf(msg, sizeof msg, "suppressed %u similar messages like \"%s%s\"",
                         (unsigned)rep[i].n, rep[i].fmt,
                         strlen(rep[i].fmt) == RL_FMT_KEEP ? "..." : "");
        size_t k = build_line(buf, sizeof buf, s, rep[i].level, rep[i].mod, msg,
                              (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1, false);
        write_line(L.fd, buf, k);
    }
    if (line)
        write_line(L.fd, line, len);
    pthread_mutex_unlock(&L.mu);
}

/* Decides whether the line is written and collects due reports; fills s.
 * Returns true if the line itself is to be written. */
static bool decide(int level, const char *mod, const char *fmt, struct snap *s,
                   struct rl_report *rep, int *nrep)
{
    bool ok;
    int64_t mono;

    pthread_mutex_lock(&L.mu);
    ok = level <= mod_level(mod);
    mono = now_mono();
    rl_sweep(mono, rep, nrep);
    if (ok && L.rate_limit > 0)
        ok = rl_admit(level, mod, fmt, mono, rep, nrep);
    s->format = L.format;
    s->timestamps = L.timestamps;
    s->ts = now_wall();
    pthread_mutex_unlock(&L.mu);
    return ok;
}

void sb_logv(int level, const char *mod, const char *fmt, va_list ap)
{
    struct rl_report rep[RL_REPORTS];
    struct snap s;
    char msg[SB_LOG_MSG_MAX + 1], line[LINE_MAX_];
    int nrep = 0, n;
    size_t len = 0;
    bool ok;

    if (level < 0 || level > atomic_load_explicit(&sb_log__max, memory_order_relaxed))
        return;
    mod = mod ? mod : "-";
    fmt = fmt ? fmt : "";
    ok = decide(level, mod, fmt, &s, rep, &nrep);
    if (!ok && nrep == 0)
        return;
    if (ok) {
        n = vsnprintf(msg, sizeof msg, fmt, ap);
        if (n < 0)
            n = 0;
        len = build_line(line, sizeof line, &s, level, mod, msg,
                         (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1,
                         (size_t)n >= sizeof msg);
    }
    emit(&s, rep, nrep, ok ? line : NULL, len);
}

void sb_log(int level, const char *mod, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sb_logv(level, mod, fmt, ap);
    va_end(ap);
}

int sb_log_flush_suppressed(void)
{
    struct rl_report rep[RL_REPORTS];
    struct snap s;
    int nrep, total = 0;

    do {    /* a sweep reports at most RL_SWEEP_MAX windows */
        nrep = 0;
        pthread_mutex_lock(&L.mu);
        rl_sweep(now_mono(), rep, &nrep);
        s.format = L.format;
        s.timestamps = L.timestamps;
        s.ts = now_wall();
        pthread_mutex_unlock(&L.mu);
        if (nrep)
            emit(&s, rep, nrep, NULL, 0);
        total += nrep;
    } while (nrep == RL_SWEEP_MAX);
    return total;
}

int sb_log_setup(const struct sb_config *cfg)
{
    struct sb_log_settings s;
    char err[256];
    int rc;

    /* Read the fields here rather than call sb_conf_log_settings(), so
     * linking log.c never needs conf.c. */
    s.level = cfg->log_level;
    s.format = cfg->log_format;
    s.modules = cfg->log_modules;
    s.timestamps = cfg->log_timestamps;
    s.rate_limit = (int)cfg->log_rate_limit;
    s.rate_window_ms = cfg->log_rate_window;
    if ((rc = sb_log_configure(&s, err, sizeof err)) < 0) {
        SB_ERR("log", "log settings rejected: %s", err);
        return rc;
    }
    if ((rc = sb_log_open(cfg->log_file)) < 0)
        SB_ERR("log", "cannot open log file %s: %s", cfg->log_file, sb_strerror(rc));
    return rc;
}

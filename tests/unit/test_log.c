/*
 * test_log.c - unit tests for core/log: both line formats, escaping,
 * levels per module, rate limiting with an injected clock, threads.
 *
 * Output is captured in a tmpfile(3) handed to sb_log_set_fd() and read
 * back with pread(2).
 */
#include <pthread.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "tap.h"

/* 2026-11-27T12:00:00.123Z in ms since the epoch (worked out by hand:
 * 20419 days from 1970-01-01 to 2026-11-27, + 12 h, + 123 ms). */
#define T0 1795780800123LL

static int64_t fake_now = T0;
static int64_t fake_clock(void) { return fake_now; }

static FILE *cap_file;

/* Sends the log to a fresh temporary file, with the fake clock. */
static void cap_begin(void)
{
    sb_log_reset();
    fake_now = T0;
    sb_log_set_clock(fake_clock);
    cap_file = tmpfile();
    sb_log_set_fd(fileno(cap_file));
}

/* Everything written since cap_begin (caller frees); back to stderr. */
static char *cap_end(void)
{
    int fd = fileno(cap_file);
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = malloc((size_t)n + 1);

    if (pread(fd, buf, (size_t)n, 0) != n)
        n = 0;
    buf[n] = '\0';
    sb_log_reset();
    fclose(cap_file);
    return buf;
}

static void configure(int level, int format, const char *mods, int limit)
{
    struct sb_log_settings s = { level, format, mods, true, limit, 10000 };
    char err[256];

    if (sb_log_configure(&s, err, sizeof err) != 0)
        TAP_FAIL("configure: %s", err);
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

TEST(text_format)
{
    char *out;

    cap_begin();
    SB_INFO("store", "sealed %d chunks", 12);
    SB_ERR("ingest", "queue full (%s)", "drop");
    out = cap_end();
    CHECK_STR(out, "2026-11-27T12:00:00.123Z INFO  store: sealed 12 chunks\n"
                   "2026-11-27T12:00:00.123Z ERROR ingest: queue full (drop)\n");
    free(out);
}

TEST(text_without_timestamps_and_negative_time)
{
    struct sb_log_settings s = { SB_LOG_TRACE, SB_LOG_FMT_TEXT, NULL, false, 0, 1000 };
    char *out;

    cap_begin();
    sb_log_configure(&s, NULL, 0);
    SB_WARN("bacnet", "no reply");
    SB_TRACE("bacnet", "frame");
    s.timestamps = true;
    sb_log_configure(&s, NULL, 0);
    fake_now = -1;      /* 1 ms before the epoch: floor, not truncation */
    SB_DEBUG("x", "y");
    out = cap_end();
    CHECK_STR(out, "WARN  bacnet: no reply\nTRACE bacnet: frame\n"
                   "1969-12-31T23:59:59.999Z DEBUG x: y\n");
    free(out);
}

TEST(json_format)
{
    char *out;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 10);
    SB_INFO("store", "sealed %d chunks", 12);
    SB_WARN("api", "%s", "slow");
    out = cap_end();
    CHECK_STR(out, "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"info\",\"module\":\"store\","
                   "\"msg\":\"sealed 12 chunks\"}\n"
                   "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"warn\",\"module\":\"api\","
                   "\"msg\":\"slow\"}\n");
    free(out);
}

TEST(json_escaping)
{
    char *out;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 10);
    /* quote, backslash, newline, tab, CR, other control, DEL, valid UTF-8
     * (e acute, euro sign, U+1F600), then invalid UTF-8: a lone continuation
     * byte, an overlong "/" (C0 AF), a surrogate (ED A0 80), a cut sequence. */
    SB_INFO("m\"od", "%s", "a\"b\\c\nd\te\rf\x01g\x7fh \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"
                           " \x80 \xc0\xaf \xed\xa0\x80 \xe2\x82");
    out = cap_end();
    CHECK_STR(out, "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"info\",\"module\":\"m\\\"od\","
                   "\"msg\":\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u007fh \xc3\xa9 \xe2\x82\xac "
                   "\xf0\x9f\x98\x80 \\ufffd \\ufffd\\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"}\n");
    free(out);
}

/* Checks that s[0, n) is a JSON string body (RFC 8259 section 7) made of
 * valid UTF-8, decoding it into dec; returns the decoded length or -1. */
static long json_body(const unsigned char *s, size_t n, unsigned char *dec)
{
    size_t i = 0, o = 0;

    while (i < n) {
        unsigned c = s[i];
        if (c < 0x20 || c == '"')
            return -1;
        if (c == '\\') {
            const char *simple = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t", *p;
            if (i + 1 >= n)
                return -1;
            if (s[i + 1] == 'u') {
                unsigned v;
                if (i + 6 > n || sscanf((const char *)s + i + 2, "%4x", &v) != 1)
                    return -1;
                if (v == 0xfffd) {
                    memcpy(dec + o, "\xef\xbf\xbd", 3);
                    o += 3;
                } else if (v < 0x80)
                    dec[o++] = (unsigned char)v;
                else
                    return -1;
                i += 6;
                continue;
            }
            if (!(p = strchr(simple, s[i + 1])) || !s[i + 1])
                return -1;
            dec[o++] = (unsigned char)val[p - simple];
            i += 2;
            continue;
        }
        /* UTF-8 well-formedness, RFC 3629 section 4 */
        size_t len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
                   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || i + len > n)
            return -1;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return -1;
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
            (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
            return -1;
        memcpy(dec + o, s + i, len);
        o += len;
        i += len;
    }
    return (long)o;
}

/* Random bytes as messages: every line is valid JSON with valid UTF-8, and
 * decoding gives back the message when the message was valid text. */
TEST(json_property_random_bytes)
{
    uint64_t seed = 0x5eed;
    const char *pre = "\"msg\":\"";

    for (int iter = 0; iter < 400; iter++) {
        unsigned char msg[200], dec[1400];
        size_t n = 1 + tap_rand(&seed) % (sizeof msg - 1);
        bool ascii = iter % 2 == 0;
        for (size_t i = 0; i < n; i++) {
            msg[i] = (unsigned char)(tap_rand(&seed) % (ascii ? 128 : 256));
            if (msg[i] == 0)
                msg[i] = 'z';
        }
        msg[n] = 0;
        cap_begin();
        configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 0);
        SB_INFO("fz", "%s", (char *)msg);
        char *out = cap_end();
        char *b = strstr(out, pre);
        size_t len = strlen(out);
        REQUIRE(b && len > 3 && strcmp(out + len - 3, "\"}\n") == 0);
        b += strlen(pre);
        long d = json_body((unsigned char *)b, (size_t)(out + len - 3 - b), dec);
        CHECK(d >= 0);
        if (ascii && d >= 0) {
            CHECK_EQ(d, (long)n);
            CHECK(memcmp(dec, msg, n) == 0);
        }
        free(out);
        if (tap_cur_fail)
            return;
    }
}

TEST(text_escaping_keeps_one_line)
{
    char *out;

    cap_begin();
    SB_INFO("mqtt", "topic %s", "a\nFAKE 2026 ERROR x: y\r\x1b[31m\tz");
    out = cap_end();
    CHECK_STR(out, "2026-11-27T12:00:00.123Z INFO  mqtt: topic a\\nFAKE 2026 ERROR x: y"
                   "\\r\\x1b[31m\tz\n");
    CHECK_EQ(count_lines(out), 1);
    free(out);
}

TEST(long_message_is_cut)
{
    char big[10000], *out;

    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    cap_begin();
    SB_INFO("m", "%s", big);
    configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 10);
    SB_INFO("m", "%s", big);
    memset(big, '\x01', sizeof big - 1);    /* escapes to 6x: cut by the line buffer */
    SB_INFO("m", "%s", big);
    out = cap_end();
    char *l2 = strchr(out, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    CHECK_EQ(count_lines(out), 3);
    CHECK(l2 - out <= 8192 && l2 - out > SB_LOG_MSG_MAX);
    CHECK(strncmp(l2 - 5, "x...\n", 5) == 0);
    CHECK(strncmp(l3 - 7, "x...\"}\n", 7) == 0);
    CHECK(strlen(l3) <= 8192);
    CHECK(strcmp(l3 + strlen(l3) - 10, "0001...\"}\n") == 0);
    free(out);
}

static int evaluated;
static int side_effect(void) { return ++evaluated; }

TEST(levels_and_lazy_arguments)
{
    char *out;

    cap_begin();
    evaluated = 0;
    SB_DEBUG("store", "n=%d", side_effect());       /* info: debug is off */
    SB_TRACE("store", "n=%d", side_effect());
    CHECK_EQ(evaluated, 0);
    CHECK(!sb_log_enabled(SB_LOG_DEBUG, "store"));
    CHECK(sb_log_enabled(SB_LOG_INFO, "store"));
    configure(SB_LOG_ERROR, SB_LOG_FMT_TEXT, NULL, 10);
    SB_WARN("store", "hidden");
    SB_ERR("store", "shown %d", side_effect());
    sb_log(SB_LOG_WARN, "store", "direct call, also filtered");
    sb_log(99, "store", "bad level");
    sb_log(-1, "store", "bad level");
    out = cap_end();
    CHECK_EQ(evaluated, 1);
    CHECK_STR(out, "2026-11-27T12:00:00.123Z ERROR store: shown 1\n");
    free(out);
}

TEST(per_module_levels)
{
    char *out;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_TEXT, " store = debug , ingest=warn", 10);
    CHECK(sb_log_enabled(SB_LOG_DEBUG, "store"));
    CHECK(!sb_log_enabled(SB_LOG_TRACE, "store"));
    CHECK(!sb_log_enabled(SB_LOG_INFO, "ingest"));
    CHECK(!sb_log_enabled(SB_LOG_DEBUG, "api"));
    CHECK(!sb_log_enabled(SB_LOG_DEBUG, "store2"));     /* exact names only */
    SB_DEBUG("store", "a");
    SB_INFO("ingest", "b");
    SB_WARN("ingest", "c");
    SB_DEBUG("api", "d");
    SB_INFO("api", "e");
    out = cap_end();
    CHECK_STR(out, "2026-11-27T12:00:00.123Z DEBUG store: a\n"
                   "2026-11-27T12:00:00.123Z WARN  ingest: c\n"
                   "2026-11-27T12:00:00.123Z INFO  api: e\n");
    free(out);
}

TEST(module_list_errors)
{
    static const struct { const char *spec, *msg; } bad[] = {
        { "store=loud", "unknown level \"loud\" for module \"store\" "
                        "(one of: error, warn, info, debug, trace)" },
        { "store", "expected \"=level\" after module \"store\"" },
        { "=debug", "expected a module name (1-31 of A-Z a-z 0-9 _ . -) at \"=debug\"" },
        { "store=debug,", "nothing after the last \",\"" },
        { "store=debug,,x=info", "expected a module name (1-31 of A-Z a-z 0-9 _ . -) at \",x=info\"" },
        { "store=debug,store=info", "module \"store\" listed twice" },
        { "a=debug b=info", "expected \",\" between entries at \"b=info\"" },
        { "a/b=debug", "expected \"=level\" after module \"a\"" },
        { "abcdefghijabcdefghijabcdefghijab=info",
          "expected a module name (1-31 of A-Z a-z 0-9 _ . -) at \"abcdefghijabcdefghij\"" },
    };
    char err[256];
    struct sb_log_settings s = { SB_LOG_INFO, SB_LOG_FMT_TEXT, NULL, true, 10, 1000 };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        CHECK_EQ(sb_log_modules_check(bad[i].spec, err, sizeof err), SB_ECONFIG);
        CHECK_STR(err, bad[i].msg);
    }
    CHECK_EQ(sb_log_modules_check("", err, sizeof err), 0);
    CHECK_EQ(sb_log_modules_check("  ", err, sizeof err), 0);
    CHECK_EQ(sb_log_modules_check("a.b-c_d=TRACE,x=error", err, sizeof err), 0);
    s.modules = "store=loud";
    CHECK_EQ(sb_log_configure(&s, err, sizeof err), SB_ECONFIG);
    s.modules = NULL;
    s.rate_window_ms = 0;
    CHECK_EQ(sb_log_configure(&s, err, sizeof err), SB_ECONFIG);
    CHECK_EQ(sb_log_level_parse("debug"), SB_LOG_DEBUG);
    CHECK_EQ(sb_log_level_parse("WARN"), SB_LOG_WARN);
    CHECK_EQ(sb_log_level_parse("verbose"), -1);
    CHECK_STR(sb_log_level_name(SB_LOG_TRACE), "trace");
    CHECK_STR(sb_log_level_name(7), "?");
}

/* Logs from one call site (one format string). */
static void site_a(int i) { SB_WARN("store", "write failed: chunk %d", i); }
static void site_b(int i) { SB_WARN("store", "other site %d", i); }

TEST(rate_limit_window)
{
    char *out, *p;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_TEXT, NULL, 10);      /* 10 per 10 s */
    for (int i = 0; i < 25; i++) {
        site_a(i);
        fake_now += 100;                                    /* 2.5 s in all */
    }
    site_b(0);                                              /* its own budget */
    CHECK_EQ(sb_log_flush_suppressed(), 0);                 /* window not over */
    fake_now = T0 + 10000;                                  /* window over */
    CHECK_EQ(sb_log_flush_suppressed(), 1);
    CHECK_EQ(sb_log_flush_suppressed(), 0);                 /* reported once */
    site_a(100);                                            /* new window */
    out = cap_end();
    CHECK_EQ(count_lines(out), 10 + 1 + 1 + 1);
    CHECK(strstr(out, "chunk 9\n") && !strstr(out, "chunk 10\n"));
    CHECK(strstr(out, "other site 0\n"));
    p = strstr(out, "2026-11-27T12:00:10.123Z WARN  store: suppressed 15 similar messages "
                    "like \"write failed: chunk %d\"\n");
    CHECK(p != NULL);
    CHECK(p && strstr(p, "chunk 100\n"));
    free(out);
}

TEST(rate_limit_report_on_next_line_and_levels)
{
    char *out;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 2);
    for (int i = 0; i < 5; i++)
        SB_INFO("bacnet", "timeout from device %d", i);
    for (int i = 0; i < 3; i++)
        SB_ERR("bacnet", "timeout from device %d", i);  /* same site text: counted together */
    fake_now += 10000;
    SB_INFO("api", "unrelated");                        /* carries the report out */
    out = cap_end();
    CHECK_EQ(count_lines(out), 2 + 1 + 1);
    /* the report takes the most severe level it swallowed */
    CHECK(strstr(out, "{\"ts\":\"2026-11-27T12:00:10.123Z\",\"level\":\"error\",\"module\":\"bacnet\","
                      "\"msg\":\"suppressed 6 similar messages like "
                      "\\\"timeout from device %d\\\"\"}\n"
                      "{\"ts\":\"2026-11-27T12:00:10.123Z\",\"level\":\"info\",\"module\":\"api\","
                      "\"msg\":\"unrelated\"}\n") != NULL);
    free(out);
}

/* Every call is either written or counted in exactly one report, even when
 * more call sites than table slots force evictions. */
TEST(rate_limit_conservation)
{
    char mod[32], *out, *p;
    long written = 0, reported = 0, calls = 0;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_TEXT, NULL, 3);
    for (int round = 0; round < 3; round++) {
        for (int m = 0; m < 600; m++) {
            snprintf(mod, sizeof mod, "m%d", m);
            for (int k = 0; k < 5 + m % 4; k++, calls++)
                SB_INFO(mod, "line %d", k);
            fake_now += 7;
        }
    }
    /* Many windows ending at once: a sweep reports at most a few, so the
     * next line of a site may find its own window over and report it. */
    fake_now += 20000;
    for (int pass = 0; pass < 2; pass++) {
        for (int m = 0; m < 40; m++, calls++) {
            snprintf(mod, sizeof mod, "burst%d", m);
            SB_INFO(mod, "line %d", pass);
            for (int k = 0; k < 4 * (pass == 0); k++, calls++)
                SB_INFO(mod, "line %d", pass);
        }
        fake_now += 20000;
    }
    sb_log_flush_suppressed();
    out = cap_end();
    for (p = out; (p = strstr(p, ": ")) != NULL; p++) {
        unsigned n;
        if (strncmp(p, ": line ", 7) == 0)
            written++;
        else if (sscanf(p, ": suppressed %u similar", &n) == 1)
            reported += n;
    }
    CHECK_EQ(written + reported, calls);
    CHECK(reported > 0);
    free(out);
}

TEST(rate_limit_off)
{
    char *out;

    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_TEXT, NULL, 0);
    for (int i = 0; i < 100; i++)
        site_a(i);
    out = cap_end();
    CHECK_EQ(count_lines(out), 100);
    free(out);
}

#define THREADS 4
#define PER_THREAD 1500
#define PAD_MAX 3000

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    char pad[PAD_MAX + 1];

    for (int i = 0; i < PER_THREAD; i++) {
        int n = (i * 37 + id * 11) % PAD_MAX;
        memset(pad, id % 2 ? '"' : '\\', (size_t)n);
        pad[n] = 0;
        SB_INFO("t", "%d %d %d %s.", id, i, n, pad);
    }
    return NULL;
}

/* Drains the read end of a pipe into a growing buffer. */
struct drain {
    int    fd;      /* read end */
    char  *buf;     /* everything read, NUL-terminated */
    size_t len;     /* bytes in buf */
};

static void *drainer(void *arg)
{
    struct drain *d = arg;
    size_t cap = 1 << 20;
    ssize_t r;

    d->buf = malloc(cap);
    while ((r = read(d->fd, d->buf + d->len, cap - d->len - 1)) > 0) {
        d->len += (size_t)r;
        if (cap - d->len < 65536)
            d->buf = realloc(d->buf, cap *= 2);
    }
    d->buf[d->len] = 0;
    return NULL;
}

/* Checks one JSON line from writer(); updates next[]. */
static bool thread_line_ok(const char *line, int *next)
{
    int id, i, n, off = 0;
    const char *p;

    if (sscanf(line, "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"info\",\"module\":\"t\","
                     "\"msg\":\"%d %d %d %n", &id, &i, &n, &off) != 3 || off == 0 ||
        id < 0 || id >= THREADS || i != next[id])
        return false;
    p = line + off;
    for (int k = 0; k < n; k++, p += 2)
        if (p[0] != '\\' || p[1] != (id % 2 ? '"' : '\\'))
            return false;
    if (strcmp(p, ".\"}") != 0)
        return false;
    next[id]++;
    return true;
}

/* Lines longer than PIPE_BUF from several threads into a pipe (where the
 * kernel may split a write) arrive whole and, per thread, in order. */
TEST(threads_lines_intact)
{
    pthread_t th[THREADS], rd;
    int next[THREADS] = { 0 }, bad = 0, lines = 0, p[2];
    struct drain d = { 0 };
    char *line, *save;

    REQUIRE(pipe(p) == 0);
    d.fd = p[0];
    pthread_create(&rd, NULL, drainer, &d);
    cap_begin();
    configure(SB_LOG_INFO, SB_LOG_FMT_JSON, NULL, 0);
    sb_log_set_fd(p[1]);
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    free(cap_end());
    close(p[1]);
    pthread_join(rd, NULL);
    close(p[0]);
    for (line = strtok_r(d.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lines++;
        bad += !thread_line_ok(line, next);
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(lines, THREADS * PER_THREAD);
    for (int t = 0; t < THREADS; t++)
        CHECK_EQ(next[t], PER_THREAD);
    free(d.buf);
}

TEST(open_file_and_back)
{
    char path[] = "/tmp/sbems_test_log_XXXXXX", buf[256];
    int fd = mkstemp(path);
    FILE *f;

    REQUIRE(fd >= 0);
    close(fd);
    sb_log_reset();
    sb_log_set_clock(fake_clock);
    fake_now = T0;
    CHECK_EQ(sb_log_open(path), 0);
    SB_INFO("core", "one");
    CHECK_EQ(sb_log_open(path), 0);             /* reopen (log rotation) appends */
    SB_INFO("core", "two");
    CHECK_EQ(sb_log_open("/nonexistent-dir/x.log"), SB_ENOENT);
    SB_INFO("core", "three");                   /* still to the file */
    CHECK_EQ(sb_log_open(NULL), 0);
    CHECK_EQ(sb_log_set_fd(-1), SB_EINVAL);
    sb_log_reset();
    f = fopen(path, "r");
    REQUIRE(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    CHECK_STR(buf, "2026-11-27T12:00:00.123Z INFO  core: one\n"
                   "2026-11-27T12:00:00.123Z INFO  core: two\n"
                   "2026-11-27T12:00:00.123Z INFO  core: three\n");
}

/* The log.* options of a struct sb_config reach the log. */
TEST(setup_from_config)
{
    char path[] = "/tmp/sbems_test_setup_XXXXXX", buf[512], e[256], *out;
    int fd = mkstemp(path);
    struct sb_config c;
    FILE *f;
    size_t n;

    REQUIRE(fd >= 0);
    close(fd);
    REQUIRE(sb_conf_init(&c) == 0);
    REQUIRE(sb_conf_set(&c, "log.format", "json", e, sizeof e) == 0);
    REQUIRE(sb_conf_set(&c, "log.modules", "store=debug", e, sizeof e) == 0);
    REQUIRE(sb_conf_set(&c, "log.file", path, e, sizeof e) == 0);
    cap_begin();
    CHECK_EQ(sb_log_setup(&c), 0);
    SB_DEBUG("store", "to the file");
    SB_DEBUG("api", "filtered");
    REQUIRE(sb_conf_set(&c, "log.file", "/nonexistent-dir/x.log", e, sizeof e) == 0);
    CHECK_EQ(sb_log_setup(&c), SB_ENOENT);      /* reported where the log went before */
    out = cap_end();
    CHECK_STR(out, "");
    free(out);
    f = fopen(path, "r");
    REQUIRE(f);
    n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    CHECK_STR(buf, "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"debug\",\"module\":\"store\","
                   "\"msg\":\"to the file\"}\n"
                   "{\"ts\":\"2026-11-27T12:00:00.123Z\",\"level\":\"error\",\"module\":\"log\","
                   "\"msg\":\"cannot open log file /nonexistent-dir/x.log: no such object\"}\n");
    sb_conf_release(&c);
}

int main(void)
{
    TAP_START();
    RUN(text_format);
    RUN(text_without_timestamps_and_negative_time);
    RUN(json_format);
    RUN(json_escaping);
    RUN(json_property_random_bytes);
    RUN(text_escaping_keeps_one_line);
    RUN(long_message_is_cut);
    RUN(levels_and_lazy_arguments);
    RUN(per_module_levels);
    RUN(module_list_errors);
    RUN(rate_limit_window);
    RUN(rate_limit_report_on_next_line_and_levels);
    RUN(rate_limit_conservation);
    RUN(rate_limit_off);
    RUN(threads_lines_intact);
    RUN(open_file_and_back);
    RUN(setup_from_config);
    TAP_END();
}

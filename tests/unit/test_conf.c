/*
 * test_conf.c - unit tests for core/conf: the table, every value type with
 * its bounds and messages, the file syntax, precedence of the sources, the
 * dump, and the committed sbems.conf.example (run from the repository root;
 * SBEMS_WRITE_EXAMPLE=1 rewrites it from the table instead of checking it).
 */
#include <unistd.h>

#include "core/conf.h"
#include "core/err.h"
#include "tap.h"

#define DAY (86400000LL)

static char err[1024];

/* Loads text as a file named "t.conf" into cfg. */
static int load(struct sb_config *cfg, const char *text)
{
    err[0] = 0;
    return sb_conf_load_buf(cfg, text, strlen(text), "t.conf", err, sizeof err);
}

/* sb_conf_set from the command line, clearing err first. */
static int set(struct sb_config *cfg, const char *name, const char *value)
{
    err[0] = 0;
    return sb_conf_set(cfg, name, value, err, sizeof err);
}

/* The formatted value of option name in cfg (static buffer). */
static const char *val(const struct sb_config *cfg, const char *name)
{
    static char buf[SB_CONF_VALUE_MAX + 1];
    const struct sb_conf_opt *o = sb_conf_find(name);

    if (!o || sb_conf_opt_format(o, cfg, buf, sizeof buf) < 0)
        return "(none)";
    return buf;
}

TEST(defaults)
{
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_STR(c.listen, "127.0.0.1:8080");
    CHECK_STR(c.data_dir, "/var/lib/sbems");
    CHECK_STR(c.socket, "");
    CHECK_EQ(c.log_level, SB_LOG_INFO);
    CHECK_EQ(c.log_format, SB_LOG_FMT_TEXT);
    CHECK_STR(c.log_modules, "");
    CHECK_STR(c.log_file, "");
    CHECK(c.log_timestamps);
    CHECK_EQ(c.log_rate_limit, 10);
    CHECK_EQ(c.log_rate_window, 10000);
    CHECK_EQ(c.store_backend, SB_CONF_BACKEND_SQLITE);
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_FULL);
    CHECK_EQ(c.store_cache, 64 * 1024 * 1024);
    CHECK_EQ(c.store_flush_interval, 30000);
    CHECK_EQ(c.store_flush_samples, 1000000);
    CHECK_EQ(c.store_max_hold, 15 * 60000);
    CHECK_EQ(c.retention_raw, 90 * DAY);
    CHECK_EQ(c.retention_15m, 1096 * DAY);
    CHECK_EQ(c.retention_1h, 0);
    CHECK_EQ(c.retention_1d, 0);
    CHECK_EQ(c.retention_1mo, 0);
    CHECK_EQ(c.ingest_queue, 1000000);
    CHECK_EQ(c.ingest_batch, 65536);
    CHECK_EQ(c.ingest_linger, 5);
    CHECK_EQ(c.ingest_future_limit, DAY);
    CHECK(c.file == NULL);
    for (size_t i = 0; i < sb_conf_count(); i++)
        CHECK_EQ(sb_conf_source(&c, sb_conf_opt_at(i)), SB_CONF_SRC_DEFAULT);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    sb_conf_release(&c);
    sb_conf_release(&c);        /* safe twice */
}

/* Rules every row of the table must follow. */
TEST(table_is_sane)
{
    char env[96], env2[96];

    CHECK(sb_conf_count() > 20 && sb_conf_count() <= SB_CONF_MAX_OPTS);
    CHECK(sb_conf_opt_at(sb_conf_count()) == NULL);
    for (size_t i = 0; i < sb_conf_count(); i++) {
        const struct sb_conf_opt *o = sb_conf_opt_at(i);
        CHECK(sb_conf_find(o->name) == o);
        CHECK(strspn(o->name, "abcdefghijklmnopqrstuvwxyz0123456789._") == strlen(o->name));
        CHECK(o->doc && strlen(o->doc) > 10 && !strchr(o->doc, '\n'));
        CHECK(o->def != NULL);
        CHECK(o->off + sizeof(int) <= offsetof(struct sb_config, file));
        CHECK(o->type != SB_CONF_ENUM || o->names != NULL);
        CHECK(!(o->flags & SB_CONF_ZERO) || o->type == SB_CONF_DURATION ||
              o->type == SB_CONF_INT || o->type == SB_CONF_SIZE);
        REQUIRE(sb_conf_env_name(o, env, sizeof env) == 0);
        for (size_t j = 0; j < i; j++) {
            const struct sb_conf_opt *p = sb_conf_opt_at(j);
            CHECK(p->off != o->off);
            sb_conf_env_name(p, env2, sizeof env2);
            if (strcmp(env, env2) == 0)
                TAP_FAIL("%s and %s share %s", o->name, p->name, env);
        }
    }
    CHECK_EQ(sb_conf_env_name(sb_conf_find("store.sync"), env, sizeof env), 0);
    CHECK_STR(env, "SBEMS_STORE_SYNC");
    sb_conf_env_name(sb_conf_find("retention.15m"), env, sizeof env);
    CHECK_STR(env, "SBEMS_RETENTION_15M");
    CHECK_EQ(sb_conf_env_name(sb_conf_find("store.sync"), env, 16), SB_ENOSPC);
}

TEST(bool_values)
{
    static const char *const yes[] = { "true", "TRUE", "yes", "Yes", "on", "ON", "1" };
    static const char *const no[] = { "false", "False", "no", "NO", "off", "Off", "0" };
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    for (size_t i = 0; i < 7; i++) {
        CHECK_EQ(set(&c, "log.timestamps", no[i]), 0);
        CHECK(!c.log_timestamps);
        CHECK_EQ(set(&c, "log.timestamps", yes[i]), 0);
        CHECK(c.log_timestamps);
    }
    CHECK_EQ(set(&c, "log.timestamps", "maybe"), SB_ECONFIG);
    CHECK_STR(err, "log.timestamps: \"maybe\" is not a boolean (true/false, yes/no, on/off, 1/0)");
    CHECK_EQ(set(&c, "log.timestamps", "2"), SB_ECONFIG);
    CHECK_EQ(set(&c, "log.timestamps", ""), SB_ECONFIG);
    CHECK(c.log_timestamps);    /* a rejected value changes nothing */
    CHECK_STR(val(&c, "log.timestamps"), "true");
    sb_conf_release(&c);
}

TEST(int_values)
{
    struct sb_config c;
    static const char *const bad[] = { "12x", "", " 5000", "5000 ", "1e6", "0x1000", "--5", "+" };

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "store.flush_samples", "1000"), 0);
    CHECK_EQ(c.store_flush_samples, 1000);
    CHECK_EQ(set(&c, "store.flush_samples", "+1000000000"), 0);
    CHECK_EQ(c.store_flush_samples, 1000000000);
    CHECK_EQ(set(&c, "store.flush_samples", "999"), SB_ECONFIG);
    CHECK_STR(err, "store.flush_samples: \"999\" is out of range (1000 to 1000000000)");
    CHECK_EQ(set(&c, "store.flush_samples", "1000000001"), SB_ECONFIG);
    CHECK_EQ(set(&c, "store.flush_samples", "-5"), SB_ECONFIG);
    CHECK_STR(err, "store.flush_samples: \"-5\" is out of range (1000 to 1000000000)");
    CHECK_EQ(set(&c, "store.flush_samples", "99999999999999999999999"), SB_ECONFIG);
    CHECK(strstr(err, "is out of range") != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(set(&c, "ingest.batch", bad[i]), SB_ECONFIG);
        CHECK(strstr(err, "is not an integer") != NULL);
    }
    CHECK_EQ(c.ingest_batch, 65536);
    CHECK_EQ(set(&c, "log.rate_limit", "0"), 0);    /* 0 is inside 0..1000000 */
    CHECK_EQ(c.log_rate_limit, 0);
    sb_conf_release(&c);
}

TEST(size_values)
{
    static const struct { const char *s; int64_t v; } ok[] = {
        { "0", 0 }, { "1", 1 }, { "1k", 1024 }, { "1K", 1024 }, { "64m", 64LL << 20 },
        { "64M", 64LL << 20 }, { "2g", 2LL << 30 }, { "1536k", 1536 * 1024 },
        { "8589934591g", 8589934591LL << 30 },
    };
    static const char *const bad[] = { "", "m", "64MB", "64 m", "1.5g", "-1k", "1t", "64mm" };
    struct sb_config c;
    char buf[32];
    int64_t v;
    uint64_t seed = 42;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_EQ(sb_conf_parse_size(ok[i].s, &v), 0);
        CHECK_EQ(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(sb_conf_parse_size(bad[i], &v), SB_EINVAL);
    CHECK_EQ(sb_conf_parse_size("8589934592g", &v), SB_ERANGE);
    CHECK_EQ(sb_conf_parse_size("99999999999999999999", &v), SB_ERANGE);
    CHECK_EQ(sb_conf_format_size(64LL << 20, buf, sizeof buf), 3);
    CHECK_STR(buf, "64m");
    sb_conf_format_size(1536 * 1024, buf, sizeof buf);
    CHECK_STR(buf, "1536k");
    sb_conf_format_size(1000, buf, sizeof buf);
    CHECK_STR(buf, "1000");
    CHECK_EQ(sb_conf_format_size(-1, buf, sizeof buf), SB_EINVAL);
    CHECK_EQ(sb_conf_format_size(64LL << 20, buf, 3), SB_ENOSPC);
    for (int i = 0; i < 2000; i++) {       /* format then parse gives the value back */
        int64_t x = (int64_t)(tap_rand(&seed) >> (1 + tap_rand(&seed) % 63)), y = -1;
        if (i % 3 == 0)         /* a multiple of 1, 1k, 1m or 1g */
            x = x >> (10 * (i % 4)) << (10 * (i % 4));
        REQUIRE(sb_conf_format_size(x, buf, sizeof buf) > 0);
        CHECK_EQ(sb_conf_parse_size(buf, &y), 0);
        CHECK_EQ(y, x);
    }
    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "store.cache", "256m"), 0);
    CHECK_EQ(c.store_cache, 256LL << 20);
    CHECK_EQ(set(&c, "store.cache", "64MB"), SB_ECONFIG);
    CHECK_STR(err, "store.cache: \"64MB\" is not a size (bytes, or a whole number with k, m or g "
                   "for KiB, MiB, GiB, e.g. 64m)");
    CHECK_EQ(set(&c, "store.cache", "512k"), SB_ECONFIG);
    CHECK_STR(err, "store.cache: \"512k\" is out of range (1m to 64g)");
    CHECK_EQ(set(&c, "store.cache", "99999999999g"), SB_ECONFIG);
    CHECK_STR(err, "store.cache: \"99999999999g\" is out of range (1m to 64g)");
    sb_conf_release(&c);
}

TEST(duration_values)
{
    static const struct { const char *s; int64_t v; } ok[] = {
        { "0", 0 }, { "30", 30000 }, { "5ms", 5 }, { "30s", 30000 }, { "15m", 900000 },
        { "2h", 7200000 }, { "90d", 90 * DAY }, { "1h30m", 5400000 },
        { "1d2h3m4s5ms", DAY + 2 * 3600000 + 3 * 60000 + 4000 + 5 }, { "0s", 0 },
        { "1m5ms", 60005 },
    };
    static const char *const bad[] = {
        "", "s", "1.5s", "5 s", "30min", "1h30", "30m1h", "1m1m", "1S", "1H", "-1s", "1w",
        "10ms5s", "1sm", " 1s",
    };
    char buf[64];
    int64_t v;
    uint64_t seed = 7;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        v = -1;
        CHECK_EQ(sb_conf_parse_duration(ok[i].s, &v), 0);
        CHECK_EQ(v, ok[i].v);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sb_conf_parse_duration(bad[i], &v) != SB_EINVAL)
            TAP_FAIL("\"%s\" was accepted", bad[i]);
    CHECK_EQ(sb_conf_parse_duration("106751991168d", &v), SB_ERANGE);
    CHECK_EQ(sb_conf_parse_duration("106751991167d8h", &v), SB_ERANGE);
    CHECK_EQ(sb_conf_parse_duration("106751991167d7h", &v), 0);
    CHECK_EQ(sb_conf_parse_duration("9223372036854775807ms", &v), 0);
    CHECK_EQ(sb_conf_format_duration(5400000, buf, sizeof buf), 5);
    CHECK_STR(buf, "1h30m");
    sb_conf_format_duration(0, buf, sizeof buf);
    CHECK_STR(buf, "0");
    sb_conf_format_duration(90 * DAY + 1, buf, sizeof buf);
    CHECK_STR(buf, "90d1ms");
    CHECK_EQ(sb_conf_format_duration(5400000, buf, 5), SB_ENOSPC);
    CHECK_EQ(sb_conf_format_duration(-1, buf, sizeof buf), SB_EINVAL);
    for (int i = 0; i < 2000; i++) {
        int64_t x = (int64_t)(tap_rand(&seed) >> (1 + tap_rand(&seed) % 63)), y = -1;
        REQUIRE(sb_conf_format_duration(x, buf, sizeof buf) > 0);
        CHECK_EQ(sb_conf_parse_duration(buf, &y), 0);
        CHECK_EQ(y, x);
    }
}

TEST(duration_options)
{
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "retention.raw", "0"), 0);          /* forever */
    CHECK_EQ(c.retention_raw, 0);
    CHECK_EQ(set(&c, "retention.raw", "30m"), SB_ECONFIG);
    CHECK_STR(err, "retention.raw: \"30m\" is out of range (0, or 1h to 36500d)");
    CHECK_EQ(set(&c, "retention.raw", "400d"), 0);
    CHECK_EQ(c.retention_raw, 400 * DAY);
    CHECK_EQ(set(&c, "store.flush_interval", "0"), SB_ECONFIG);   /* no 0 here */
    CHECK_STR(err, "store.flush_interval: \"0\" is out of range (1s to 1d)");
    CHECK_EQ(set(&c, "ingest.linger", "0"), 0);          /* 0 is in 0..10s */
    CHECK_EQ(set(&c, "ingest.linger", "20ms"), 0);
    CHECK_EQ(c.ingest_linger, 20);
    CHECK_EQ(set(&c, "ingest.linger", "5 min"), SB_ECONFIG);
    CHECK_STR(err, "ingest.linger: \"5 min\" is not a duration (whole numbers with units ms, s, "
                   "m, h, d, largest first, e.g. 30s or 1h30m; a bare number is seconds)");
    CHECK_EQ(set(&c, "store.max_hold", "1h"), 0);
    CHECK_STR(val(&c, "store.max_hold"), "1h");
    sb_conf_release(&c);
}

/* A private struct and options, for the types no real option uses yet
 * (double) and for the secret flag. */
struct test_cfg {
    double d;       /* SB_CONF_DOUBLE */
    char  *secret;  /* SB_CONF_STRING | SB_CONF_SECRET */
};

static const struct sb_conf_opt t_double = {
    .name = "test.ratio", .type = SB_CONF_DOUBLE, .off = offsetof(struct test_cfg, d),
    .dmin = -1.5, .dmax = 100, .def = "0", .doc = "test"
};
static const struct sb_conf_opt t_secret = {
    .name = "test.token", .type = SB_CONF_STRING, .flags = SB_CONF_SECRET,
    .off = offsetof(struct test_cfg, secret), .def = "", .doc = "test"
};

TEST(double_values)
{
    static const struct { const char *s; double v; } ok[] = {
        { "0", 0 }, { "1.5", 1.5 }, { "-1.5", -1.5 }, { "+2", 2 }, { ".25", 0.25 },
        { "3.", 3 }, { "1e2", 100 }, { "1E-3", 0.001 }, { "99.99", 99.99 },
    };
    static const char *const bad[] = {
        "", ".", "nan", "inf", "-inf", "0x10", " 1", "1 ", "1e", "1e+", "1,5", "e5", "1.2.3",
    };
    struct test_cfg t = { 0 };
    char buf[64];
    uint64_t seed = 99;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_EQ(sb_conf_opt_parse(&t_double, &t, ok[i].s, err, sizeof err), 0);
        CHECK_DBL(t.d, ok[i].v, 0);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(sb_conf_opt_parse(&t_double, &t, bad[i], err, sizeof err), SB_ECONFIG);
        CHECK(strstr(err, "is not a decimal number") != NULL);
    }
    CHECK_EQ(sb_conf_opt_parse(&t_double, &t, "100.5", err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "test.ratio: \"100.5\" is out of range (-1.5 to 100)");
    CHECK_EQ(sb_conf_opt_parse(&t_double, &t, "1e999", err, sizeof err), SB_ECONFIG);
    CHECK_DBL(t.d, 99.99, 0);                /* unchanged by rejected values */
    for (int i = 0; i < 1000; i++) {         /* shortest format reads back exactly */
        double x = (double)(tap_rand(&seed) >> 11) / 9007199254740992.0 * 101.5 - 1.5, y;
        t.d = x;
        REQUIRE(sb_conf_opt_format(&t_double, &t, buf, sizeof buf) > 0);
        CHECK_EQ(sb_conf_opt_parse(&t_double, &t, buf, err, sizeof err), 0);
        y = t.d;
        CHECK(y == x);
    }
    t.d = 0.1;
    sb_conf_opt_format(&t_double, &t, buf, sizeof buf);
    CHECK_STR(buf, "0.1");
}

TEST(secret_values_never_shown)
{
    struct test_cfg t = { 0 };
    char buf[64];

    CHECK_EQ(sb_conf_opt_parse(&t_secret, &t, "hunter2", err, sizeof err), 0);
    CHECK_STR(t.secret, "hunter2");
    CHECK_EQ(sb_conf_opt_format(&t_secret, &t, buf, sizeof buf), 8);
    CHECK_STR(buf, "<hidden>");
    CHECK_EQ(sb_conf_opt_parse(&t_secret, &t, "bad\x01secret", err, sizeof err), SB_ECONFIG);
    CHECK(strstr(err, "secret") == NULL || strstr(err, "bad") == NULL);
    CHECK_STR(err, "test.token: <hidden> is not allowed: it contains a control character");
    CHECK_STR(t.secret, "hunter2");
    free(t.secret);
}

TEST(enum_values)
{
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "store.sync", "normal"), 0);
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_NORMAL);
    CHECK_EQ(set(&c, "store.sync", "FULL"), 0);
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_FULL);
    CHECK_EQ(set(&c, "store.sync", "fast"), SB_ECONFIG);
    CHECK_STR(err, "store.sync: \"fast\" is not one of: full, normal");
    CHECK_EQ(set(&c, "log.level", "trace"), 0);
    CHECK_EQ(c.log_level, SB_LOG_TRACE);
    CHECK_EQ(set(&c, "log.level", "verbose"), SB_ECONFIG);
    CHECK_STR(err, "log.level: \"verbose\" is not one of: error, warn, info, debug, trace");
    CHECK_EQ(set(&c, "log.format", "json"), 0);
    CHECK_EQ(c.log_format, SB_LOG_FMT_JSON);
    CHECK_EQ(set(&c, "store.backend", "postgres"), 0);
    CHECK_EQ(c.store_backend, SB_CONF_BACKEND_POSTGRES);
    CHECK_STR(sb_conf_backend_name(&c), "postgres");
    CHECK_EQ(set(&c, "store.backend", "mysql"), SB_ECONFIG);
    CHECK_STR(err, "store.backend: \"mysql\" is not one of: sqlite, postgres");
    /* the enum's names must follow the log module's own level names */
    for (int l = 0; l < SB_LOG_LEVEL_COUNT; l++) {
        CHECK_EQ(set(&c, "log.level", sb_log_level_name(l)), 0);
        CHECK_EQ(c.log_level, l);
    }
    sb_conf_release(&c);
}

TEST(string_and_path_values)
{
    struct sb_config c;
    char longp[5000];

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "data_dir", "/srv/sbems data"), 0);
    CHECK_STR(c.data_dir, "/srv/sbems data");
    CHECK_EQ(set(&c, "data_dir", ""), SB_ECONFIG);
    CHECK_STR(err, "data_dir: must not be empty");
    CHECK_EQ(set(&c, "data_dir", "/a\nb"), SB_ECONFIG);
    CHECK_STR(err, "data_dir: \"/a\\x0ab\" is not allowed: it contains a control character");
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    CHECK_EQ(set(&c, "data_dir", longp), SB_ECONFIG);
    CHECK_STR(err, "data_dir: is 4999 bytes long, more than 4095");
    longp[108] = 0;
    CHECK_EQ(set(&c, "socket", longp), SB_ECONFIG);
    CHECK_STR(err, "socket: is 108 bytes long, more than 107");
    longp[107] = 0;
    CHECK_EQ(set(&c, "socket", longp), 0);
    CHECK_EQ(set(&c, "socket", ""), 0);
    CHECK_EQ(set(&c, "log.modules", "store=debug, ingest=warn"), 0);
    CHECK_STR(c.log_modules, "store=debug, ingest=warn");
    CHECK_EQ(set(&c, "log.modules", "store=loud"), SB_ECONFIG);
    CHECK_STR(err, "log.modules: unknown level \"loud\" for module \"store\" "
                   "(one of: error, warn, info, debug, trace)");
    CHECK_STR(c.log_modules, "store=debug, ingest=warn");
    CHECK_EQ(set(&c, "log.file", "/var/log/sbems.log"), 0);
    CHECK_STR(c.data_dir, "/srv/sbems data");
    sb_conf_release(&c);
}

TEST(addr_values)
{
    static const struct { const char *s, *host; uint16_t port; } ok[] = {
        { "127.0.0.1:8080", "127.0.0.1", 8080 }, { "[::1]:8080", "::1", 8080 },
        { "0.0.0.0:1", "0.0.0.0", 1 }, { "[::]:65535", "::", 65535 },
        { "localhost:80", "localhost", 80 }, { "sbems.example.org:443", "sbems.example.org", 443 },
        { "[2001:db8::7]:9000", "2001:db8::7", 9000 },
        { "[::ffff:10.0.0.1]:5", "::ffff:10.0.0.1", 5 },
        { "b-1.x9:08080", "b-1.x9", 8080 },
    };
    static const char *const bad[] = {
        "127.0.0.1", "127.0.0.1:0", ":8080", "127.0.0.1:65536", "::1:8080", "[::1]8080",
        "[::1", "[::1]:", "256.1.1.1:80", "1.2.3:80", "host_name:80", "-bad.com:80",
        "bad-.com:80", "[1.2.3.4]:80", "a:b", "a..b:1", "*:80", "127.0.0.1:80x",
        "[::1]:99999999999999999999", "x.123:80", "", "[]:80", "[:::]:80",
    };
    char host[64];
    uint16_t port;
    struct sb_config c;

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_EQ(sb_conf_parse_addr(ok[i].s, host, sizeof host, &port), 0);
        CHECK_STR(host, ok[i].host);
        CHECK_EQ(port, ok[i].port);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sb_conf_parse_addr(bad[i], host, sizeof host, &port) >= 0)
            TAP_FAIL("\"%s\" was accepted", bad[i]);
    CHECK_EQ(sb_conf_parse_addr("[::1]:80", host, 3, &port), SB_ENOSPC);
    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "listen", "[::1]:9000"), 0);
    CHECK_STR(c.listen, "[::1]:9000");
    CHECK_EQ(set(&c, "listen", "127.0.0.1:0"), SB_ECONFIG);
    CHECK_STR(err, "listen: \"127.0.0.1:0\" is not a valid address: the port must be 1 to 65535");
    CHECK_EQ(set(&c, "listen", "::1:8080"), SB_ECONFIG);
    CHECK_STR(err, "listen: \"::1:8080\" is not a valid address: an IPv6 address needs "
                   "brackets: [::1]:8080");
    CHECK_EQ(set(&c, "listen", "999.0.0.1:80"), SB_ECONFIG);
    CHECK_STR(err, "listen: \"999.0.0.1:80\" is not a valid address: the host is not an IPv4 address");
    CHECK_EQ(set(&c, "listen", ":80"), SB_ECONFIG);
    CHECK_STR(err, "listen: \":80\" is not a valid address: the host is empty "
                   "(0.0.0.0 or [::] mean every interface)");
    CHECK_STR(c.listen, "[::1]:9000");
    sb_conf_release(&c);
}

TEST(file_syntax)
{
    struct sb_config c;
    const char *text =
        "\xef\xbb\xbf# a comment\n"
        "\n"
        "   \t\n"
        "listen = [::1]:9000\r\n"
        "data_dir=/srv/sbems   # trailing comment\n"
        "  store.sync   =   normal  \n"
        "log.file = \"/var/log/a #1 \\\"x\\\" \\\\ y\"  # quoted, with # inside\n"
        "log.modules = \"\"\n"
        "retention.raw = 0\n"
        "store.cache = 128m";               /* no final newline */

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(load(&c, text), 0);
    CHECK_STR(err, "");
    CHECK_STR(c.listen, "[::1]:9000");
    CHECK_STR(c.data_dir, "/srv/sbems");
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_NORMAL);
    CHECK_STR(c.log_file, "/var/log/a #1 \"x\" \\ y");
    CHECK_STR(c.log_modules, "");
    CHECK_EQ(c.retention_raw, 0);
    CHECK_EQ(c.store_cache, 128LL << 20);
    CHECK_STR(c.file, "t.conf");
    CHECK_EQ(sb_conf_source(&c, sb_conf_find("store.sync")), SB_CONF_SRC_FILE);
    CHECK_EQ(c.line[sb_conf_find("store.sync") - sb_conf_opt_at(0)], 6);
    CHECK_EQ(sb_conf_source(&c, sb_conf_find("store.flush_interval")), SB_CONF_SRC_DEFAULT);
    CHECK_EQ(load(&c, ""), 0);                              /* empty file */
    CHECK_EQ(load(&c, "\n\n# only comments\n"), 0);
    CHECK_EQ(c.store_cache, 128LL << 20);                   /* kept */
    sb_conf_release(&c);
}

TEST(file_errors)
{
    static const struct { const char *text, *msg; } bad[] = {
        { "store.sync = full\nstore.synk = normal\n",
          "t.conf:2: unknown option \"store.synk\" (did you mean \"store.sync\"?)" },
        { "\n\nstore.sync = fast\n", "t.conf:3: store.sync: \"fast\" is not one of: full, normal" },
        { "bogus_thing = 1\n", "t.conf:1: unknown option \"bogus_thing\"" },
        { "listen 127.0.0.1:80\n", "t.conf:1: expected \"=\" after \"listen\"" },
        { "= 5\n", "t.conf:1: expected \"name = value\"" },
        { "listen = \"127.0.0.1:80\n", "t.conf:1: missing closing quote" },
        { "data_dir = \"a\\n\"\n", "t.conf:1: unknown escape \"\\n\" (only \\\" and \\\\)" },
        { "data_dir = \"a\" b\n", "t.conf:1: unexpected text after the closing quote" },
        { "store.sync = full\n# x\nstore.sync = normal\n",
          "t.conf:3: store.sync: set twice (lines 1 and 3)" },
        { "data_dir = /x\nlisten = 1\0\n", "t.conf:2: NUL byte in line" },
        { "data_dir =\n", "t.conf:1: data_dir: must not be empty" },
        { "store.cache = 1k\n", "t.conf:1: store.cache: \"1k\" is out of range (1m to 64g)" },
    };
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = strlen(bad[i].text);
        if (strstr(bad[i].msg, "NUL"))
            len += 2;
        err[0] = 0;
        CHECK_EQ(sb_conf_load_buf(&c, bad[i].text, len, "t.conf", err, sizeof err), SB_ECONFIG);
        CHECK_STR(err, bad[i].msg);
    }
    /* all or nothing: the good first line of a bad file was not applied */
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_FULL);
    CHECK_STR(c.data_dir, "/var/lib/sbems");
    CHECK(c.file == NULL);
    sb_conf_release(&c);
}

TEST(load_real_file)
{
    char path[] = "/tmp/sbems_test_conf_XXXXXX";
    int fd = mkstemp(path);
    struct sb_config c;
    const char *text = "store.sync = normal\ningest.batch = 100\n";
    char *big;

    REQUIRE(fd >= 0);
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(sb_conf_load_file(&c, path, err, sizeof err), 0);
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_NORMAL);
    CHECK_EQ(c.ingest_batch, 100);
    CHECK_STR(c.file, path);
    /* a file over 1 MiB is refused */
    big = malloc((1 << 20) + 2);
    memset(big, '#', (1 << 20) + 1);
    FILE *f = fopen(path, "w");
    fwrite(big, 1, (1 << 20) + 1, f);
    fclose(f);
    free(big);
    CHECK_EQ(sb_conf_load_file(&c, path, err, sizeof err), SB_ECONFIG);
    CHECK(strstr(err, "larger than 1048576 bytes") != NULL);
    unlink(path);
    CHECK_EQ(sb_conf_load_file(&c, path, err, sizeof err), SB_ENOENT);
    CHECK(strstr(err, path) != NULL);
    CHECK_EQ(c.ingest_batch, 100);
    sb_conf_release(&c);
}

TEST(environment)
{
    char *env[] = {
        "PATH=/bin", "SBEMS_STORE_SYNC=normal", "SBEMS_LISTEN=[::1]:9000",
        "SBEMS_TZDIR=/usr/share/zoneinfo", "SBEMS_RETENTION_15M=2000d",
        "SBEMS_STORE_SYNC=full", "XSBEMS_INGEST_BATCH=5", NULL
    };
    char *bad[] = { "SBEMS_LOG_LEVEL=debug", "SBEMS_STORE_SYNC=fast", NULL };
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(sb_conf_load_env(&c, env, err, sizeof err), 0);
    CHECK_EQ(c.store_sync, SB_CONF_SYNC_NORMAL);        /* the first one, as getenv */
    CHECK_STR(c.listen, "[::1]:9000");
    CHECK_EQ(c.retention_15m, 2000 * DAY);
    CHECK_EQ(c.ingest_batch, 65536);
    CHECK_EQ(sb_conf_source(&c, sb_conf_find("listen")), SB_CONF_SRC_ENV);
    CHECK_EQ(sb_conf_load_env(&c, bad, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "environment SBEMS_STORE_SYNC: store.sync: \"fast\" is not one of: full, normal");
    CHECK_EQ(c.log_level, SB_LOG_INFO);                 /* all or nothing */
    /* the real environment */
    setenv("SBEMS_INGEST_LINGER", "50ms", 1);
    CHECK_EQ(sb_conf_load_env(&c, NULL, err, sizeof err), 0);
    CHECK_EQ(c.ingest_linger, 50);
    unsetenv("SBEMS_INGEST_LINGER");
    sb_conf_release(&c);
}

/* default < file < env < command line, whatever order the calls come in. */
TEST(precedence)
{
    const char *file = "listen = 10.0.0.1:1\nstore.sync = normal\nlog.level = warn\n"
                       "ingest.batch = 10\n";
    char *env[] = { "SBEMS_LISTEN=10.0.0.2:2", "SBEMS_LOG_LEVEL=error", NULL };
    struct sb_config a, b;

    for (int order = 0; order < 2; order++) {
        struct sb_config *c = order ? &b : &a;
        REQUIRE(sb_conf_init(c) == 0);
        if (order == 0) {
            CHECK_EQ(load(c, file), 0);
            CHECK_EQ(sb_conf_load_env(c, env, err, sizeof err), 0);
            CHECK_EQ(set(c, "listen", "10.0.0.3:3"), 0);
        } else {
            CHECK_EQ(set(c, "listen", "10.0.0.3:3"), 0);
            CHECK_EQ(sb_conf_load_env(c, env, err, sizeof err), 0);
            CHECK_EQ(load(c, file), 0);
        }
        CHECK_STR(c->listen, "10.0.0.3:3");
        CHECK_EQ(c->log_level, SB_LOG_ERROR);
        CHECK_EQ(c->store_sync, SB_CONF_SYNC_NORMAL);
        CHECK_EQ(c->ingest_batch, 10);
        CHECK_EQ(c->store_cache, 64LL << 20);
        CHECK_EQ(sb_conf_source(c, sb_conf_find("listen")), SB_CONF_SRC_CLI);
        CHECK_EQ(sb_conf_source(c, sb_conf_find("log.level")), SB_CONF_SRC_ENV);
        CHECK_EQ(sb_conf_source(c, sb_conf_find("store.sync")), SB_CONF_SRC_FILE);
        CHECK_EQ(sb_conf_source(c, sb_conf_find("store.cache")), SB_CONF_SRC_DEFAULT);
    }
    /* a weaker source is still checked */
    CHECK_EQ(sb_conf_set_src(&a, "listen", "nonsense", SB_CONF_SRC_FILE, err, sizeof err),
             SB_ECONFIG);
    CHECK_EQ(sb_conf_set_src(&a, "listen", "1.1.1.1:1", SB_CONF_SRC_ENV, err, sizeof err), 0);
    CHECK_STR(a.listen, "10.0.0.3:3");
    sb_conf_release(&a);
    sb_conf_release(&b);
}

TEST(runtime_changes)
{
    struct sb_config c;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(sb_conf_set_src(&c, "listen", "1.2.3.4:5", SB_CONF_SRC_RUNTIME, err, sizeof err),
             SB_ENOTSUP);
    CHECK_STR(err, "listen: cannot be changed while sbems runs; change it in the "
                   "configuration file and restart");
    CHECK_EQ(sb_conf_set_src(&c, "log.level", "debug", SB_CONF_SRC_RUNTIME, err, sizeof err), 0);
    CHECK_EQ(c.log_level, SB_LOG_DEBUG);
    CHECK_EQ(sb_conf_source(&c, sb_conf_find("log.level")), SB_CONF_SRC_RUNTIME);
    CHECK_EQ(set(&c, "log.level", "info"), 0);          /* the CLI is weaker than runtime */
    CHECK_EQ(c.log_level, SB_LOG_DEBUG);
    CHECK_EQ(sb_conf_set_src(&c, "log.level", "info", (enum sb_conf_src)9, err, sizeof err),
             SB_EINVAL);
    sb_conf_release(&c);
}

TEST(unknown_names_and_suggestions)
{
    static const struct { const char *in, *sugg; } s[] = {
        { "listne", "listen" }, { "lsietn", "listen" }, { "store.synk", "store.sync" },
        { "sync", "store.sync" },
        { "STORE_SYNC", "store.sync" }, { "store-cache", "store.cache" },
        { "datadir", "data_dir" }, { "retention.row", "retention.raw" },
        { "ingest.lingr", "ingest.linger" }, { "log.levle", "log.level" },
        { "xyzzy", NULL }, { "store", NULL }, { "", NULL },
    };
    struct sb_config c;

    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        const struct sb_conf_opt *o = sb_conf_suggest(s[i].in);
        if (s[i].sugg ? !o || strcmp(o->name, s[i].sugg) != 0 : o != NULL)
            TAP_FAIL("suggest(\"%s\") = %s, want %s", s[i].in, o ? o->name : "NULL",
                     s[i].sugg ? s[i].sugg : "NULL");
    }
    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(set(&c, "listne", "1.2.3.4:5"), SB_ENOENT);
    CHECK_STR(err, "unknown option \"listne\" (did you mean \"listen\"?)");
    CHECK_EQ(set(&c, "no\nsuch", "x"), SB_ENOENT);
    CHECK_STR(err, "unknown option \"no\\x0asuch\"");
    CHECK_EQ(set(&c, NULL, "x"), SB_ENOENT);
    CHECK_EQ(set(&c, "listen", NULL), SB_ECONFIG);
    sb_conf_release(&c);
}

/* Collects what a FILE writer produced. */
static char *capture(int (*fn)(const void *, FILE *), const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (fn(arg, f) != 0)
        TAP_FAIL("writer failed");
    fclose(f);
    return buf;
}

static int dump_fn(const void *cfg, FILE *f) { return sb_conf_dump(cfg, f); }
static int example_fn(const void *unused, FILE *f) { return sb_conf_write_example(f); }

TEST(dump_shows_sources_and_reads_back)
{
    struct sb_config c, d;
    char *env[] = { "SBEMS_INGEST_QUEUE=5000", NULL }, *out;

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(load(&c, "# x\nstore.sync = normal\nlog.file = \"/l/a #b\"\n"), 0);
    CHECK_EQ(sb_conf_load_env(&c, env, err, sizeof err), 0);
    CHECK_EQ(set(&c, "listen", "[::]:8081"), 0);
    out = capture(dump_fn, &c);
    CHECK(strstr(out, "listen = [::]:8081                      # command line\n") != NULL);
    CHECK(strstr(out, "store.sync = normal                     # file t.conf:2\n") != NULL);
    CHECK(strstr(out, "log.file = \"/l/a #b\"                    # file t.conf:3\n") != NULL);
    CHECK(strstr(out, "ingest.queue = 5000                     # env SBEMS_INGEST_QUEUE\n") != NULL);
    CHECK(strstr(out, "socket = \"\"                             # default\n") != NULL);
    CHECK(strstr(out, "retention.15m = 1096d                   # default\n") != NULL);
    /* the dump is itself a configuration file giving the same values */
    REQUIRE(sb_conf_init(&d) == 0);
    CHECK_EQ(load(&d, out), 0);
    CHECK_STR(err, "");
    for (size_t i = 0; i < sb_conf_count(); i++) {
        const char *name = sb_conf_opt_at(i)->name;
        char a[256];
        snprintf(a, sizeof a, "%s", val(&c, name));
        CHECK_STR(a, val(&d, name));
    }
    free(out);
    sb_conf_release(&c);
    sb_conf_release(&d);
}

/* The committed example is what the table generates, and every line of it,
 * uncommented, parses to the defaults. */
TEST(example_file_matches_table)
{
    char *gen = capture(example_fn, NULL), *committed = NULL, *text, *p, *q;
    size_t n = 0;
    FILE *f;
    struct sb_config c, d;

    if (getenv("SBEMS_WRITE_EXAMPLE")) {
        f = fopen("sbems.conf.example", "w");
        REQUIRE(f);
        fputs(gen, f);
        fclose(f);
    }
    f = fopen("sbems.conf.example", "r");
    if (!f) {
        TAP_FAIL("cannot open sbems.conf.example (run from the repository root)");
        free(gen);
        return;
    }
    committed = calloc(1, strlen(gen) + 2);
    n = fread(committed, 1, strlen(gen) + 1, f);
    fclose(f);
    CHECK_EQ(n, strlen(gen));
    CHECK_STR(committed, gen);
    /* uncomment "#name = value" lines */
    text = calloc(1, strlen(gen) + 1);
    for (p = gen, q = text; *p; p = strchr(p, '\n') + 1) {
        size_t len = (size_t)(strchr(p, '\n') - p);
        if (p[0] == '#' && p[1] >= 'a' && p[1] <= 'z' && memchr(p, '=', len)) {
            memcpy(q, p + 1, len - 1);
            q += len - 1;
            *q++ = '\n';
        }
    }
    REQUIRE(sb_conf_init(&c) == 0);
    REQUIRE(sb_conf_init(&d) == 0);
    CHECK_EQ(load(&c, text), 0);
    CHECK_STR(err, "");
    for (size_t i = 0; i < sb_conf_count(); i++) {
        const struct sb_conf_opt *o = sb_conf_opt_at(i);
        char a[256];
        CHECK_EQ(sb_conf_source(&c, o), SB_CONF_SRC_FILE);
        snprintf(a, sizeof a, "%s", val(&c, o->name));
        CHECK_STR(a, val(&d, o->name));
    }
    sb_conf_release(&c);
    sb_conf_release(&d);
    free(text);
    free(committed);
    free(gen);
}

TEST(validate_and_socket_path)
{
    struct sb_config c;
    char path[128], dir[120];

    REQUIRE(sb_conf_init(&c) == 0);
    CHECK_EQ(sb_conf_socket_path(&c, path, sizeof path), 0);
    CHECK_STR(path, "/var/lib/sbems/sbems.sock");
    CHECK_EQ(set(&c, "data_dir", "/srv/x/"), 0);
    sb_conf_socket_path(&c, path, sizeof path);
    CHECK_STR(path, "/srv/x/sbems.sock");
    CHECK_EQ(set(&c, "socket", "/run/sbems.sock"), 0);
    sb_conf_socket_path(&c, path, sizeof path);
    CHECK_STR(path, "/run/sbems.sock");
    CHECK_EQ(sb_conf_socket_path(&c, path, 5), SB_ENOSPC);
    CHECK_EQ(set(&c, "ingest.queue", "1000"), 0);
    CHECK_EQ(set(&c, "ingest.batch", "1001"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "ingest.batch (1001) must not be larger than ingest.queue (1000)");
    CHECK_EQ(set(&c, "ingest.batch", "1000"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    CHECK_EQ(set(&c, "api.tls_cert", "/etc/sbems/cert.pem"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "api.tls_cert and api.tls_key go together: set both or neither");
    CHECK_EQ(set(&c, "api.tls_key", "/etc/sbems/key.pem"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    CHECK_EQ(set(&c, "api.trusted_proxies", "127.0.0.1, 10.0.0.1/8"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "api.trusted_proxies: 10.0.0.1/8: address bits set past the /8 prefix "
                   "(write the network address)");
    CHECK_EQ(set(&c, "api.trusted_proxies", "127.0.0.1, 10.0.0.0/8, ::1"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    /* the application database in PostgreSQL needs the PostgreSQL store's URL */
    CHECK_EQ(set(&c, "store.appdb", "postgres"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "store.appdb = postgres needs store.backend = postgres (it uses "
                   "store.url's database)");
    CHECK_EQ(set(&c, "store.appdb", "sqlite"), 0);
    /* device leases: a shared PostgreSQL store and application database, a
     * node name, a lease long enough that a poll begun before the drivers'
     * deadline ends before expiry */
    CHECK_EQ(set(&c, "cluster.leases", "true"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "cluster.leases needs store.backend = postgres and store.appdb = postgres "
                   "(the nodes share both) and a store.node naming this node");
    CHECK_EQ(set(&c, "store.backend", "postgres"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_EQ(set(&c, "store.node", "n1"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_EQ(set(&c, "store.appdb", "postgres"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    CHECK_EQ(set(&c, "cluster.lease", "9s"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "cluster.lease (9000 ms) must exceed three times drivers.timeout (3000 ms)");
    CHECK_EQ(set(&c, "drivers.timeout", "2s"), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), 0);
    CHECK_EQ(set(&c, "cluster.lease", "1s"), SB_ECONFIG);   /* below its minimum */
    CHECK_EQ(set(&c, "cluster.leases", "false"), 0);
    memset(dir, 'd', sizeof dir - 1);
    dir[0] = '/';
    dir[sizeof dir - 1] = 0;
    CHECK_EQ(set(&c, "socket", ""), 0);
    CHECK_EQ(set(&c, "data_dir", dir), 0);
    CHECK_EQ(sb_conf_validate(&c, err, sizeof err), SB_ECONFIG);
    CHECK_STR(err, "socket: <data_dir>/sbems.sock is longer than 107 bytes; "
                   "set socket to a shorter path");
    sb_conf_release(&c);
}

TEST(copy_and_log_settings)
{
    struct sb_config a, b;
    struct sb_log_settings s;

    REQUIRE(sb_conf_init(&a) == 0);
    CHECK_EQ(load(&a, "log.modules = store=debug\nlog.level = warn\nlog.format = json\n"
                      "log.timestamps = off\nlog.rate_limit = 3\nlog.rate_window = 1m\n"), 0);
    REQUIRE(sb_conf_copy(&b, &a) == 0);
    CHECK(b.listen != a.listen && b.file != a.file);
    CHECK_EQ(set(&b, "data_dir", "/elsewhere"), 0);
    CHECK_STR(a.data_dir, "/var/lib/sbems");
    CHECK_STR(b.file, "t.conf");
    CHECK_STR(sb_conf_backend_name(&a), "sqlite");
    sb_conf_log_settings(&a, &s);
    CHECK_EQ(s.level, SB_LOG_WARN);
    CHECK_EQ(s.format, SB_LOG_FMT_JSON);
    CHECK_STR(s.modules, "store=debug");
    CHECK(!s.timestamps);
    CHECK_EQ(s.rate_limit, 3);
    CHECK_EQ(s.rate_window_ms, 60000);
    CHECK_EQ(sb_log_configure(&s, err, sizeof err), 0);
    CHECK(sb_log_enabled(SB_LOG_DEBUG, "store"));
    CHECK(!sb_log_enabled(SB_LOG_INFO, "api"));
    sb_log_reset();
    sb_conf_release(&a);
    sb_conf_release(&b);
}

int main(void)
{
    TAP_START();
    RUN(defaults);
    RUN(table_is_sane);
    RUN(bool_values);
    RUN(int_values);
    RUN(size_values);
    RUN(duration_values);
    RUN(duration_options);
    RUN(double_values);
    RUN(secret_values_never_shown);
    RUN(enum_values);
    RUN(string_and_path_values);
    RUN(addr_values);
    RUN(file_syntax);
    RUN(file_errors);
    RUN(load_real_file);
    RUN(environment);
    RUN(precedence);
    RUN(runtime_changes);
    RUN(unknown_names_and_suggestions);
    RUN(dump_shows_sources_and_reads_back);
    RUN(example_file_matches_table);
    RUN(validate_and_socket_path);
    RUN(copy_and_log_settings);
    TAP_END();
}

/*
 * conf.c - the option table and everything derived from it (see conf.h).
 *
 * Layout: the table; value parsers and formatters, one pair per type,
 * found through a table indexed by enum sb_conf_type; setting a value with
 * its source; the sources (file, environment, command line); output (dump,
 * example).  Adding an option is adding a row to opts[] and a field to
 * struct sb_config; nothing else changes.
 */
#include "core/cidr.h"
#include "core/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/err.h"

#define F(field) offsetof(struct sb_config, field)

#define MS_S   1000LL
#define MS_M   (60 * MS_S)
#define MS_H   (60 * MS_M)
#define MS_D   (24 * MS_H)
#define KIB    1024LL
#define MIB    (1024 * KIB)
#define GIB    (1024 * MIB)

#define FILE_MAX  (1 << 20)    /* largest configuration file read */
#define NAME_MAX_ 63           /* longest option name */
#define MSG_MAX   640          /* one error message, before the location */

/* The order of level_names must be the order of enum sb_log_level. */
static const char *const level_names[] = { "error", "warn", "info", "debug", "trace", NULL };
static const char *const logfmt_names[] = { "text", "json", NULL };
/* store.backend values, in the order of enum sb_conf_backend. */
static const char *const backend_names[] = { "sqlite", "postgres", NULL };
static const char *const sync_names[] = { "full", "normal", NULL };
static const char *const pwcost_names[] = { "interactive", "moderate", "min", NULL };

_Static_assert(SB_LOG_ERROR == 0 && SB_LOG_TRACE == 4 && SB_LOG_LEVEL_COUNT == 5,
               "level_names[] follows enum sb_log_level");
_Static_assert(SB_LOG_FMT_TEXT == 0 && SB_LOG_FMT_JSON == 1, "logfmt_names[] order");
_Static_assert(SB_CONF_SYNC_FULL == 0 && SB_CONF_SYNC_NORMAL == 1, "sync_names[] order");

/* Socket paths must fit struct sockaddr_un.sun_path (108 bytes on Linux,
 * unix(7)) with the terminating NUL. */
#define SUN_PATH_MAX ((int64_t)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static const struct sb_conf_opt opts[] = {
    { .name = "listen", .type = SB_CONF_ADDR, .off = F(listen),
      .def = "127.0.0.1:8080",
      .doc = "Address the HTTP API listens on: host:port, an IPv6 address in brackets "
             "([::1]:8080); 0.0.0.0 or [::] for every interface." },
    { .name = "data_dir", .type = SB_CONF_PATH, .off = F(data_dir),
      .max = SB_CONF_VALUE_MAX, .def = "/var/lib/sbems",
      .doc = "Directory of the store and, by default, of the control socket; a relative "
             "path is taken from the directory sbems starts in." },
    { .name = "socket", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK, .off = F(socket),
      .max = SUN_PATH_MAX, .def = "",
      .doc = "Unix socket the sbems command-line tool talks to (at most 107 bytes, the "
             "sun_path limit); empty means <data_dir>/sbems.sock." },
    { .name = "log.level", .type = SB_CONF_ENUM, .flags = SB_CONF_RUNTIME,
      .off = F(log_level), .names = level_names, .def = "info",
      .doc = "Least severe level written, for modules not in log.modules." },
    { .name = "log.format", .type = SB_CONF_ENUM, .flags = SB_CONF_RUNTIME,
      .off = F(log_format), .names = logfmt_names, .def = "text",
      .doc = "text: lines like \"2026-11-27T12:00:00.123Z INFO  store: message\"; "
             "json: one JSON object per line, for log collectors." },
    { .name = "log.modules", .type = SB_CONF_STRING,
      .flags = SB_CONF_RUNTIME | SB_CONF_EMPTY_OK, .off = F(log_modules),
      .max = 1024, .def = "", .check = sb_log_modules_check,
      .doc = "Levels of single modules, overriding log.level: module=level pairs "
             "separated by commas, e.g. store=debug,ingest=warn." },
    { .name = "log.file", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(log_file), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "File the log is appended to; empty means standard error (which systemd's "
             "journal collects)." },
    { .name = "log.timestamps", .type = SB_CONF_BOOL, .flags = SB_CONF_RUNTIME,
      .off = F(log_timestamps), .def = "true",
      .doc = "Start text lines with the UTC time; turn off when a journal adds its own "
             "(JSON lines always carry one)." },
    { .name = "log.rate_limit", .type = SB_CONF_INT, .flags = SB_CONF_RUNTIME,
      .off = F(log_rate_limit), .min = 0, .max = 1000000, .def = "10",
      .doc = "Lines one call site (module and message format) may write per "
             "log.rate_window; the rest are counted and reported in one line; 0 = no limit." },
    { .name = "log.rate_window", .type = SB_CONF_DURATION, .flags = SB_CONF_RUNTIME,
      .off = F(log_rate_window), .min = MS_S, .max = MS_H, .def = "10s",
      .doc = "Length of the log rate-limit window." },
    { .name = "store.backend", .type = SB_CONF_ENUM, .off = F(store_backend),
      .names = backend_names, .def = "sqlite",
      .doc = "Storage engine: sqlite (an SQLite database in data_dir) or postgres (PostgreSQL "
             "15 or later at store.url; docs/internals/store-postgres.md). Both keep the same "
             "compressed chunks and rollups." },
    { .name = "store.appdb", .type = SB_CONF_ENUM, .off = F(store_appdb),
      .names = backend_names, .def = "sqlite",
      .doc = "Where accounts, grants, sign-in sessions, the audit log, held commands, alerts "
             "and analytics documents live: sqlite (sbems.db in data_dir, this node's own) or "
             "postgres (app_* tables in store.url's database, shared by every node, so any "
             "node behind a load balancer renews any session; needs store.backend = postgres; "
             "docs/internals/appdb-postgres.md)." },
    { .name = "store.url", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK | SB_CONF_SECRET,
      .off = F(store_url), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "postgres: libpq connection string or URI (host=... dbname=... user=..., or "
             "postgresql://...); may carry a password, hence hidden; empty: libpq's PG* "
             "environment variables." },
    { .name = "store.node", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK,
      .off = F(store_node), .max = 63, .def = "",
      .doc = "postgres: this node's name; it keys the node's unsealed batches, so two nodes "
             "sharing a database must have different names (empty: \"default\")." },
    { .name = "store.sync", .type = SB_CONF_ENUM, .off = F(store_sync),
      .names = sync_names, .def = "full",
      .doc = "full: every commit is flushed to disk (fsync) and survives a power loss; "
             "normal: commits survive a crash of sbems, but the last ones may be lost "
             "if the OS crashes or the power fails (SQLite synchronous=NORMAL in WAL "
             "mode), in exchange for far fewer disk flushes." },
    { .name = "store.cache", .type = SB_CONF_SIZE, .off = F(store_cache),
      .min = MIB, .max = 64 * GIB, .def = "64m",
      .doc = "Memory for SQLite's page cache." },
    { .name = "store.flush_interval", .type = SB_CONF_DURATION, .flags = SB_CONF_RUNTIME,
      .off = F(store_flush_interval), .min = MS_S, .max = MS_D, .def = "30s",
      .doc = "How often buffered samples are sealed into compressed chunks and rollups." },
    { .name = "store.flush_samples", .type = SB_CONF_INT, .flags = SB_CONF_RUNTIME,
      .off = F(store_flush_samples), .min = 1000, .max = 1000000000, .def = "1000000",
      .doc = "Seal buffered samples early once this many are waiting." },
    { .name = "store.max_hold", .type = SB_CONF_DURATION, .off = F(store_max_hold),
      .min = MS_S, .max = 7 * MS_D, .def = "15m",
      .doc = "Longest a sample holds its value in time-weighted rollups (power, states); "
             "a longer gap counts as missing data." },
    { .name = "retention.raw", .type = SB_CONF_DURATION,
      .flags = SB_CONF_RUNTIME | SB_CONF_ZERO, .off = F(retention_raw),
      .min = MS_H, .max = 36500 * MS_D, .def = "90d",
      .doc = "How long raw samples are kept; 0 = forever." },
    { .name = "retention.15m", .type = SB_CONF_DURATION,
      .flags = SB_CONF_RUNTIME | SB_CONF_ZERO, .off = F(retention_15m),
      .min = MS_H, .max = 36500 * MS_D, .def = "1096d",
      .doc = "How long 15-minute rollups are kept; 0 = forever." },
    { .name = "retention.1h", .type = SB_CONF_DURATION,
      .flags = SB_CONF_RUNTIME | SB_CONF_ZERO, .off = F(retention_1h),
      .min = MS_H, .max = 36500 * MS_D, .def = "0",
      .doc = "How long hourly rollups are kept; 0 = forever." },
    { .name = "retention.1d", .type = SB_CONF_DURATION,
      .flags = SB_CONF_RUNTIME | SB_CONF_ZERO, .off = F(retention_1d),
      .min = MS_H, .max = 36500 * MS_D, .def = "0",
      .doc = "How long daily rollups are kept; 0 = forever." },
    { .name = "retention.1mo", .type = SB_CONF_DURATION,
      .flags = SB_CONF_RUNTIME | SB_CONF_ZERO, .off = F(retention_1mo),
      .min = MS_H, .max = 36500 * MS_D, .def = "0",
      .doc = "How long monthly rollups are kept; 0 = forever." },
    { .name = "ingest.queue", .type = SB_CONF_INT, .off = F(ingest_queue),
      .min = 1000, .max = 100000000, .def = "1000000",
      .doc = "Capacity of the ingest queue, in readings." },
    { .name = "ingest.batch", .type = SB_CONF_INT, .off = F(ingest_batch),
      .min = 1, .max = 1000000, .def = "65536",
      .doc = "Most readings written to the store in one transaction (at most ingest.queue)." },
    { .name = "ingest.linger", .type = SB_CONF_DURATION, .flags = SB_CONF_RUNTIME,
      .off = F(ingest_linger), .min = 0, .max = 10 * MS_S, .def = "5ms",
      .doc = "How long a partial batch waits for more readings before it is written." },
    { .name = "ingest.future_limit", .type = SB_CONF_DURATION, .flags = SB_CONF_RUNTIME,
      .off = F(ingest_future_limit), .min = MS_S, .max = 365 * MS_D, .def = "1d",
      .doc = "Readings time-stamped further than this ahead of the clock are rejected." },
    { .name = "api.cors_origins", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK,
      .off = F(api_cors_origins), .max = 2048, .def = "",
      .doc = "Web origins allowed to call the API from a browser (CORS), separated by "
             "commas, e.g. https://ems.example.com; empty allows none but the UI served "
             "by sbems itself." },
    { .name = "api.trusted_proxies", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK,
      .off = F(api_trusted_proxies), .max = 2048, .def = "",
      .doc = "Reverse proxies (addresses or networks: 127.0.0.1, 10.0.0.0/8, ::1) whose "
             "X-Forwarded-For header names the client: its rightmost address that is not a "
             "trusted proxy is the one rate limits, sign-in throttling and the audit log see. "
             "Empty: the header is ignored (it can be forged by anyone else)." },
    { .name = "api.max_body", .type = SB_CONF_SIZE, .off = F(api_max_body),
      .min = 1024, .max = 256 * MIB, .def = "4m",
      .doc = "Largest request body accepted; a larger one is refused with 413." },
    { .name = "api.rate_limit", .type = SB_CONF_INT, .flags = SB_CONF_ZERO,
      .off = F(api_rate_limit), .min = 1, .max = 10000000, .def = "100",
      .doc = "Requests per minute one user may make (a token bucket refilled at this rate); "
             "0 = no limit." },
    { .name = "api.rate_burst", .type = SB_CONF_INT, .off = F(api_rate_burst),
      .min = 1, .max = 10000000, .def = "100",
      .doc = "Requests a user may make at once before api.rate_limit applies." },
    { .name = "api.rate_limit_ip", .type = SB_CONF_INT, .flags = SB_CONF_ZERO,
      .off = F(api_rate_limit_ip), .min = 1, .max = 10000000, .def = "600",
      .doc = "Requests per minute one client address may make before it is authenticated "
             "or in all (burst the same); 0 = no limit." },
    { .name = "api.tls_cert", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(api_tls_cert), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "PEM certificate chain; with api.tls_key the API speaks HTTPS/WSS only." },
    { .name = "api.tls_key", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(api_tls_key), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "PEM private key of api.tls_cert (keep it 0600)." },
    { .name = "api.web_root", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(api_web_root), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "Directory of the web UI's built files, served at /; empty: the one installed "
             "beside the binary (../share/sbems/web or web/dist), if any." },
    { .name = "auth.key_file", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(auth_key_file), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "JSON file of the keys that sign access tokens (created 0600 at first start); "
             "empty means <data_dir>/token-keys.json." },
    { .name = "auth.access_ttl", .type = SB_CONF_DURATION, .off = F(auth_access_ttl),
      .min = MS_M, .max = MS_D, .def = "15m",
      .doc = "Lifetime of an access token (JWT)." },
    { .name = "auth.refresh_ttl", .type = SB_CONF_DURATION, .off = F(auth_refresh_ttl),
      .min = MS_H, .max = 365 * MS_D, .def = "30d",
      .doc = "Lifetime of a refresh token; each use replaces it with a new one." },
    { .name = "auth.password_cost", .type = SB_CONF_ENUM, .off = F(auth_password_cost),
      .names = pwcost_names, .def = "interactive",
      .doc = "argon2id cost: interactive (64 MiB, ~0.1 s), moderate (256 MiB), "
             "min (tests only: fast and weak)." },
    { .name = "auth.lockout_failures", .type = SB_CONF_INT, .off = F(auth_lockout_failures),
      .min = 3, .max = 1000, .def = "10",
      .doc = "Failed logins of one account or address that lock it for auth.lockout; "
             "failures before that are slowed down exponentially." },
    { .name = "auth.lockout", .type = SB_CONF_DURATION, .off = F(auth_lockout),
      .min = MS_S, .max = MS_D, .def = "15m",
      .doc = "How long a locked account or address must wait." },
    { .name = "drivers.enabled", .type = SB_CONF_BOOL, .off = F(drivers_enabled),
      .def = "true",
      .doc = "Talk to devices; false runs sbems without any driver (a copy of a site for "
             "analysis, tests), commands then answer 503." },
    { .name = "drivers.config", .type = SB_CONF_PATH, .flags = SB_CONF_EMPTY_OK,
      .off = F(drivers_config), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "JSON file of the drivers' own settings ({\"mqtt\":{\"host\":..},\"modbus\":{..},..}); "
             "empty means <data_dir>/drivers.json when it exists (keep it 0600: it may hold "
             "passwords)." },
    { .name = "drivers.dry_run", .type = SB_CONF_BOOL, .off = F(drivers_dry_run),
      .def = "false",
      .doc = "Log the writes commands would make instead of sending them to devices." },
    { .name = "drivers.timeout", .type = SB_CONF_DURATION, .off = F(drivers_timeout),
      .min = 100, .max = MS_M, .def = "3s",
      .doc = "How long a device has to answer one request." },
    { .name = "drivers.threads", .type = SB_CONF_INT, .off = F(drivers_threads),
      .min = 1, .max = 256, .def = "8",
      .doc = "Threads for drivers whose libraries block (Modbus, REST): a dead device holds one "
             "for drivers.timeout." },
    { .name = "drivers.breaker_failures", .type = SB_CONF_INT, .off = F(drivers_breaker_failures),
      .min = 1, .max = 1000, .def = "5",
      .doc = "Failures in a row after which a device is left alone for drivers.breaker_cooldown." },
    { .name = "drivers.breaker_cooldown", .type = SB_CONF_DURATION,
      .off = F(drivers_breaker_cooldown), .min = MS_S, .max = MS_H, .def = "60s",
      .doc = "How long a failing device is left alone before one probe." },
    { .name = "drivers.write_interval", .type = SB_CONF_DURATION, .flags = SB_CONF_ZERO,
      .off = F(drivers_write_interval), .min = 10, .max = MS_H, .def = "1s",
      .doc = "Least time between two writes of one point; 0 = no limit." },
    { .name = "drivers.stale_factor", .type = SB_CONF_INT, .off = F(drivers_stale_factor),
      .min = 2, .max = 1000, .def = "3",
      .doc = "Poll intervals without a good reading after which a point counts as stale." },
    { .name = "alerts.enabled", .type = SB_CONF_BOOL, .off = F(alerts_enabled), .def = "true",
      .doc = "Evaluate alert rules as readings arrive (docs/internals/alerts.md); false keeps "
             "the alert API but raises nothing." },
    { .name = "alerts.smtp_url", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK | SB_CONF_SECRET,
      .off = F(alerts_smtp_url), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "SMTP relay for alert e-mails (smtp://host:port or smtps://...; may carry a login, "
             "hence hidden); empty: no e-mail." },
    { .name = "alerts.smtp_from", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK,
      .off = F(alerts_smtp_from), .max = 254, .def = "sbems@localhost",
      .doc = "From address of alert e-mails." },
    { .name = "alerts.mqtt_host", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK,
      .off = F(alerts_mqtt_host), .max = 253, .def = "",
      .doc = "MQTT broker that alert messages are published to; empty: none." },
    { .name = "alerts.mqtt_port", .type = SB_CONF_INT, .off = F(alerts_mqtt_port),
      .min = 1, .max = 65535, .def = "1883", .doc = "Port of alerts.mqtt_host." },
    { .name = "alerts.mqtt_topic", .type = SB_CONF_STRING, .off = F(alerts_mqtt_topic),
      .max = 200, .def = "sbems/alerts",
      .doc = "Topic prefix of alert messages: <prefix>/<building>/<severity>." },
    { .name = "alerts.flap_window", .type = SB_CONF_DURATION, .off = F(alerts_flap_window),
      .min = 1000, .max = 7 * 24 * MS_H, .def = "10m",
      .doc = "A raise this soon after the alert cleared counts as a flap of the same alert." },
    /* 1 s at the least so a test can watch an escalation happen. */
    { .name = "alerts.escalate_after", .type = SB_CONF_DURATION, .flags = SB_CONF_ZERO,
      .off = F(alerts_escalate_after), .min = MS_S, .max = 7 * MS_D, .def = "30m",
      .doc = "An alert nobody acknowledged escalates to level n after n times this (n = 1..3), "
             "telling the subscriptions of that level; info alerts never escalate; 0 = never." },
    { .name = "analytics.enabled", .type = SB_CONF_BOOL, .off = F(analytics_enabled), .def = "true",
      .doc = "Train load forecasters and zone thermal models from the store and issue forecasts "
             "every hour (docs/internals/analytics.md)." },
    { .name = "analytics.train_hour", .type = SB_CONF_INT, .off = F(analytics_train_hour),
      .min = 0, .max = 23, .def = "2",
      .doc = "Local hour of each building at which its models are retrained every night." },
    { .name = "analytics.history_days", .type = SB_CONF_INT, .off = F(analytics_history_days),
      .min = 30, .max = 3660, .def = "730",
      .doc = "Days of history a load forecaster is trained on (it needs 90 days with 90 % coverage)." },
    { .name = "analytics.zone_days", .type = SB_CONF_INT, .off = F(analytics_zone_days),
      .min = 7, .max = 365, .def = "28",
      .doc = "Days of history a zone thermal model is identified from." },
    { .name = "analytics.cooling_cop", .type = SB_CONF_DOUBLE, .off = F(analytics_cooling_cop),
      .dmin = 0.5, .dmax = 15, .def = "3.5",
      .doc = "Cooling plant COP used to turn cooling a fault wastes into electricity (fault impact, "
             "docs/internals/fdd.md)." },
    { .name = "analytics.heat_efficiency", .type = SB_CONF_DOUBLE, .off = F(analytics_heat_efficiency),
      .dmin = 0.3, .dmax = 6, .def = "0.9",
      .doc = "Heating plant efficiency (boiler) or COP (heat pump) used for heating a fault wastes." },
    { .name = "analytics.heat_price", .type = SB_CONF_DOUBLE, .off = F(analytics_heat_price),
      .dmin = 0, .dmax = 10, .def = "0",
      .doc = "Price of heating fuel per kWh in the tariff's currency; 0 leaves wasted heat unpriced "
             "(said in each finding)." },
    { .name = "control.enabled", .type = SB_CONF_BOOL, .off = F(control_enabled), .def = "true",
      .doc = "Run supervisory control: schedules, optimal start, occupancy setback, tenant overrides "
             "(docs/internals/control.md).  Each building's mode (off / advisory / auto, default "
             "advisory) decides whether anything is written." },
    { .name = "control.tick", .type = SB_CONF_DURATION, .off = F(control_tick),
      .min = 5 * MS_S, .max = 15 * 60 * MS_S, .def = "60s",
      .doc = "How often every zone is evaluated." },
    { .name = "control.priority", .type = SB_CONF_INT, .off = F(control_priority),
      .min = 9, .max = 16, .def = "12",
      .doc = "BACnet priority sbems writes the arbitrated setpoints at: below operators (8), so a "
             "manual command at the device or through the API wins." },
    { .name = "control.stale", .type = SB_CONF_DURATION, .off = F(control_stale),
      .min = MS_S * 60, .max = 6 * 3600 * MS_S, .def = "15m",
      .doc = "A zone temperature or occupancy reading older than this is not used (the schedule "
             "stands; no setback, no optimal start)." },
    { .name = "ws.max_rate", .type = SB_CONF_DOUBLE, .off = F(ws_max_rate),
      .dmin = 0.1, .dmax = 1000, .def = "10",
      .doc = "Most WebSocket updates per second per point; faster readings are coalesced "
             "(the newest value is sent)." },
    { .name = "ws.client_queue", .type = SB_CONF_SIZE, .off = F(ws_client_queue),
      .min = 16 * 1024, .max = 64 * MIB, .def = "256k",
      .doc = "Bytes waiting for one slow WebSocket client before its oldest readings are "
             "dropped (it is told it lagged)." },
    { .name = "ws.max_clients", .type = SB_CONF_INT, .off = F(ws_max_clients),
      .min = 1, .max = 1000000, .def = "20000",
      .doc = "Most WebSocket clients at once; more are refused with 503." },
    { .name = "redis.url", .type = SB_CONF_STRING, .flags = SB_CONF_EMPTY_OK | SB_CONF_SECRET,
      .off = F(redis_url), .max = SB_CONF_VALUE_MAX, .def = "",
      .doc = "Redis shared by several sbems nodes (redis://[[user]:password@]host[:port][/db]): "
             "rate limits, login throttling, revoked sessions and live updates are shared "
             "(docs/internals/cluster.md); may carry a password, hence hidden; empty: off, "
             "each node alone. The node id is store.node (random when empty)." },
    { .name = "redis.prefix", .type = SB_CONF_STRING, .off = F(redis_prefix), .max = 48,
      .def = "sbems:",
      .doc = "Prefix of every Redis key and channel sbems uses, so several clusters can share "
             "one Redis." },
    { .name = "cluster.leases", .type = SB_CONF_BOOL, .off = F(cluster_leases), .def = "false",
      .doc = "Several sbems nodes share the PostgreSQL store and its devices: each device is "
             "polled by one node at a time, through leases in the database, and a dead node's "
             "devices move to the others (docs/internals/cluster-leases.md). Needs "
             "store.backend = postgres, store.appdb = postgres and a store.node unique to "
             "each node." },
    { .name = "cluster.lease", .type = SB_CONF_DURATION, .off = F(cluster_lease),
      .min = 3 * MS_S, .max = 10 * MS_M, .def = "15s",
      .doc = "How long a device lease lasts unless renewed (every third of it): a node that "
             "dies loses its devices to the others after about this long. Must exceed three "
             "times drivers.timeout." },
};

#define NOPTS (sizeof opts / sizeof opts[0])
_Static_assert(sizeof opts / sizeof opts[0] <= SB_CONF_MAX_OPTS, "raise SB_CONF_MAX_OPTS");

/* One parsed value, before it is stored. */
union val {
    bool    b;      /* BOOL */
    int64_t i;      /* INT, SIZE, DURATION */
    double  d;      /* DOUBLE */
    int     e;      /* ENUM */
    char   *s;      /* STRING, PATH, ADDR (heap, owned until stored) */
};

/* ---- small helpers ------------------------------------------------------ */


static bool is_str(enum sb_conf_type t)
{
    return t == SB_CONF_STRING || t == SB_CONF_PATH || t == SB_CONF_ADDR;
}

static void *field(const struct sb_conf_opt *o, void *base)
{
    return (char *)base + o->off;
}

static const void *cfield(const struct sb_conf_opt *o, const void *base)
{
    return (const char *)base + o->off;
}

/* The value as shown in an error message: quoted, control characters
 * escaped, cut after 60 bytes; <hidden> for a secret. */
static const char *qval(const struct sb_conf_opt *o, const char *v, char *buf, size_t cap)
{
    size_t n = 0;

    if (o && (o->flags & SB_CONF_SECRET))
        return "<hidden>";
    buf[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)v; *p && n + 8 < cap; p++) {
        if (p - (const unsigned char *)v >= 60) {
            n += (size_t)snprintf(buf + n, cap - n, "...");
            break;
        }
        if (*p < 0x20 || *p == 0x7f || *p == '"' || *p == '\\')
            n += (size_t)snprintf(buf + n, cap - n,
                                  *p == '"' || *p == '\\' ? "\\%c" : "\\x%02x", *p);
        else
            buf[n++] = (char)*p;
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return buf;
}

/* Parses decimal digits at *pp into *v (no sign); advances *pp.
 * SB_EINVAL if there is no digit, SB_ERANGE past INT64_MAX. */
static int digits(const char **pp, int64_t *v)
{
    const char *p = *pp;

    if (*p < '0' || *p > '9')
        return SB_EINVAL;
    for (*v = 0; *p >= '0' && *p <= '9'; p++) {
        if (*v > (INT64_MAX - (*p - '0')) / 10)
            return SB_ERANGE;
        *v = *v * 10 + (*p - '0');
    }
    *pp = p;
    return 0;
}

/* ---- value syntax: sizes, durations, addresses -------------------------- */

int sb_conf_parse_size(const char *s, int64_t *bytes)
{
    int64_t v, mult = 1;
    int rc;

    if ((rc = digits(&s, &v)) < 0)
        return rc;
    switch (*s) {
    case 'k': case 'K': mult = KIB; s++; break;
    case 'm': case 'M': mult = MIB; s++; break;
    case 'g': case 'G': mult = GIB; s++; break;
    default: break;
    }
    if (*s)
        return SB_EINVAL;
    if (v > INT64_MAX / mult)
        return SB_ERANGE;
    *bytes = v * mult;
    return 0;
}

int sb_conf_format_size(int64_t bytes, char *buf, size_t len)
{
    static const struct { int64_t mult; char suffix; } u[] = {
        { GIB, 'g' }, { MIB, 'm' }, { KIB, 'k' }
    };
    int n = -1;

    if (bytes < 0)
        return SB_EINVAL;
    for (size_t i = 0; i < 3 && n < 0; i++)
        if (bytes != 0 && bytes % u[i].mult == 0)
            n = snprintf(buf, len, "%lld%c", (long long)(bytes / u[i].mult), u[i].suffix);
    if (n < 0)
        n = snprintf(buf, len, "%lld", (long long)bytes);
    return (size_t)n < len ? n : SB_ENOSPC;
}

/* Duration units, largest first; "ms" must be tried before "m". */
static const struct { const char *name; int64_t ms; } dur_units[] = {
    { "d", MS_D }, { "h", MS_H }, { "ms", 1 }, { "m", MS_M }, { "s", MS_S },
};

/* The unit at *pp (advanced past it) in ms, or 0 if there is none. */
static int64_t unit_at(const char **pp)
{
    for (size_t i = 0; i < sizeof dur_units / sizeof dur_units[0]; i++) {
        size_t n = strlen(dur_units[i].name);
        if (strncmp(*pp, dur_units[i].name, n) == 0) {
            *pp += n;
            return dur_units[i].ms;
        }
    }
    return 0;
}

int sb_conf_parse_duration(const char *s, int64_t *ms)
{
    int64_t total = 0, prev = INT64_MAX, v, mult;
    int rc;
    bool first = true;

    do {
        if ((rc = digits(&s, &v)) < 0)
            return rc;
        if (first && *s == '\0')    /* a bare number is seconds (as nginx, systemd) */
            mult = MS_S;
        else if ((mult = unit_at(&s)) == 0 || mult >= prev)
            return SB_EINVAL;       /* no unit, or units not largest first */
        if (v > INT64_MAX / mult || v * mult > INT64_MAX - total)
            return SB_ERANGE;
        total += v * mult;
        prev = mult;
        first = false;
    } while (*s);
    *ms = total;
    return 0;
}

int sb_conf_format_duration(int64_t ms, char *buf, size_t len)
{
    static const struct { int64_t ms; const char *name; } u[] = {
        { MS_D, "d" }, { MS_H, "h" }, { MS_M, "m" }, { MS_S, "s" }, { 1, "ms" }
    };
    char tmp[96];
    size_t n = 0;
    int w;

    if (ms < 0)
        return SB_EINVAL;
    tmp[0] = '0';
    tmp[1] = '\0';
    for (size_t i = 0; i < 5; i++) {
        int64_t k = ms / u[i].ms;
        if (k == 0)
            continue;
        ms -= k * u[i].ms;
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lld%s", (long long)k, u[i].name);
    }
    w = snprintf(buf, len, "%s", tmp);
    return w >= 0 && (size_t)w < len ? w : SB_ENOSPC;
}

/* RFC 1123 section 2.1 host name: dot-separated labels of letters, digits
 * and hyphens, 1-63 bytes, not starting or ending with a hyphen, 253 in all.
 * The last label must not be all digits (RFC 3696 section 2), which is what
 * sends "256.1.1.1" to the IPv4 check instead. */
static bool hostname_ok(const char *h, size_t n)
{
    size_t lab = 0;
    bool digits_only = true;

    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = i < n ? h[i] : '.';
        if (c == '.') {
            if (lab == 0 || lab > 63 || h[i - 1] == '-' || h[i - lab] == '-')
                return false;
            if (i < n)
                digits_only = true;
            lab = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-'))
            return false;
        if (c < '0' || c > '9')
            digits_only = false;
        lab++;
    }
    return !digits_only;
}

/* Port: 1 to 65535, decimal digits only. */
static int parse_port(const char *s, uint16_t *port, const char **why)
{
    int64_t v;
    int rc = digits(&s, &v);

    if (rc == SB_EINVAL || (rc == 0 && *s)) {
        *why = "the port must be a number";
        return SB_EINVAL;
    }
    if (rc < 0 || v < 1 || v > 65535) {
        *why = "the port must be 1 to 65535";
        return SB_ERANGE;
    }
    *port = (uint16_t)v;
    return 0;
}

/* Checks the host part [h, h+n); v6 says it was in brackets. */
static int check_host(const char *h, size_t n, bool v6, const char **why)
{
    char tmp[256];
    unsigned char bin[16];
    bool dotted = n > 0 && strspn(h, "0123456789.") >= n;

    if (n == 0 || n >= sizeof tmp) {
        *why = n == 0 ? "the host is empty (0.0.0.0 or [::] mean every interface)"
                      : "the host is too long";
        return SB_EINVAL;
    }
    memcpy(tmp, h, n);
    tmp[n] = '\0';
    if (v6 ? inet_pton(AF_INET6, tmp, bin) == 1
           : dotted ? inet_pton(AF_INET, tmp, bin) == 1 : hostname_ok(tmp, n))
        return 0;
    *why = v6 ? "the host is not an IPv6 address"
              : dotted ? "the host is not an IPv4 address" : "the host is not a valid host name";
    return SB_EINVAL;
}

/* sb_conf_parse_addr with the reason for a failure in *why. */
static int split_addr(const char *s, char *host, size_t hostlen, uint16_t *port,
                      const char **why)
{
    const char *h = s, *colon, *end;
    bool v6 = s[0] == '[';
    int rc;

    if (v6) {
        h = s + 1;
        end = strchr(h, ']');
        if (!end || end[1] != ':') {
            *why = "expected [IPv6 address]:port";
            return SB_EINVAL;
        }
        colon = end + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s))) {
            *why = colon ? "an IPv6 address needs brackets: [::1]:8080" : "expected host:port";
            return SB_EINVAL;
        }
        end = colon;
    }
    if ((rc = check_host(h, (size_t)(end - h), v6, why)) < 0 ||
        (rc = parse_port(colon + 1, port, why)) < 0)
        return rc;
    if (host && snprintf(host, hostlen, "%.*s", (int)(end - h), h) >= (int)hostlen) {
        *why = "the host does not fit the caller's buffer";
        return SB_ENOSPC;
    }
    return 0;
}

int sb_conf_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port)
{
    const char *why;
    uint16_t p;

    return split_addr(s, host, hostlen, port ? port : &p, &why);
}

/* ---- per-type parsers --------------------------------------------------- */

/* "(1000 to 1000000000)" or "(0, or 1h to 36500d)" for messages. */
static void range_text(const struct sb_conf_opt *o, char *buf, size_t cap)
{
    char lo[32], hi[32];

    if (o->type == SB_CONF_SIZE) {
        sb_conf_format_size(o->min, lo, sizeof lo);
        sb_conf_format_size(o->max, hi, sizeof hi);
    } else if (o->type == SB_CONF_DURATION) {
        sb_conf_format_duration(o->min, lo, sizeof lo);
        sb_conf_format_duration(o->max, hi, sizeof hi);
    } else if (o->type == SB_CONF_DOUBLE) {
        snprintf(lo, sizeof lo, "%g", o->dmin);
        snprintf(hi, sizeof hi, "%g", o->dmax);
    } else {
        snprintf(lo, sizeof lo, "%lld", (long long)o->min);
        snprintf(hi, sizeof hi, "%lld", (long long)o->max);
    }
    snprintf(buf, cap, "%s%s to %s", (o->flags & SB_CONF_ZERO) ? "0, or " : "", lo, hi);
}

/* The message for a value of the wrong form: "name: "v" is not <what>". */
static int bad_form(const struct sb_conf_opt *o, const char *v, const char *what,
                    char *err, size_t errlen)
{
    char q[96];

    sb_errf(err, errlen, "%s: %s is not %s", o->name, qval(o, v, q, sizeof q), what);
    return SB_ECONFIG;
}

/* Checks an integer-like value against [min, max] (and 0 if allowed). */
static int in_range(const struct sb_conf_opt *o, const char *v, int64_t x, char *err,
                    size_t errlen)
{
    char q[96], r[96];

    if ((x >= o->min && x <= o->max) || (x == 0 && (o->flags & SB_CONF_ZERO)))
        return 0;
    range_text(o, r, sizeof r);
    sb_errf(err, errlen, "%s: %s is out of range (%s)", o->name, qval(o, v, q, sizeof q), r);
    return SB_ECONFIG;
}

static int p_bool(const struct sb_conf_opt *o, const char *v, union val *out,
                  char *err, size_t errlen)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
            out->b = strcasecmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return bad_form(o, v, "a boolean (true/false, yes/no, on/off, 1/0)", err, errlen);
}

static int p_int(const struct sb_conf_opt *o, const char *v, union val *out,
                 char *err, size_t errlen)
{
    const char *p = v + (v[0] == '-' || v[0] == '+');
    int64_t x;
    int rc = digits(&p, &x);

    if (rc == SB_EINVAL || (rc == 0 && *p))
        return bad_form(o, v, "an integer", err, errlen);
    if (rc == SB_ERANGE)
        x = INT64_MAX;          /* reported as out of range below */
    out->i = v[0] == '-' ? -x : x;
    return in_range(o, v, rc == SB_ERANGE ? INT64_MAX : out->i, err, errlen);
}

static int p_size(const struct sb_conf_opt *o, const char *v, union val *out,
                  char *err, size_t errlen)
{
    int rc = sb_conf_parse_size(v, &out->i);

    if (rc == SB_EINVAL)
        return bad_form(o, v, "a size (bytes, or a whole number with k, m or g for "
                        "KiB, MiB, GiB, e.g. 64m)", err, errlen);
    return in_range(o, v, rc == SB_ERANGE ? INT64_MAX : out->i, err, errlen);
}

static int p_duration(const struct sb_conf_opt *o, const char *v, union val *out,
                      char *err, size_t errlen)
{
    int rc = sb_conf_parse_duration(v, &out->i);

    if (rc == SB_EINVAL)
        return bad_form(o, v, "a duration (whole numbers with units ms, s, m, h, d, "
                        "largest first, e.g. 30s or 1h30m; a bare number is seconds)",
                        err, errlen);
    return in_range(o, v, rc == SB_ERANGE ? INT64_MAX : out->i, err, errlen);
}

/* Decimal only ([+-]digits[.digits][e[+-]digits]): strtod alone would also
 * take hex, "inf", "nan" and leading spaces. */
static bool decimal_ok(const char *p)
{
    size_t n;

    p += (*p == '+' || *p == '-');
    n = strspn(p, "0123456789");
    p += n;
    if (*p == '.') {
        size_t f = strspn(p + 1, "0123456789");
        n += f;
        p += 1 + f;
    }
    if (n == 0)
        return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        p += (*p == '+' || *p == '-');
        if ((n = strspn(p, "0123456789")) == 0)
            return false;
        p += n;
    }
    return *p == '\0';
}

static int p_double(const struct sb_conf_opt *o, const char *v, union val *out,
                    char *err, size_t errlen)
{
    char q[96], r[96];

    if (!decimal_ok(v))
        return bad_form(o, v, "a decimal number", err, errlen);
    out->d = strtod(v, NULL);
    if (isfinite(out->d) && out->d >= o->dmin && out->d <= o->dmax)
        return 0;
    range_text(o, r, sizeof r);
    sb_errf(err, errlen, "%s: %s is out of range (%s)", o->name, qval(o, v, q, sizeof q), r);
    return SB_ECONFIG;
}

static int p_enum(const struct sb_conf_opt *o, const char *v, union val *out,
                  char *err, size_t errlen)
{
    char what[256];
    size_t n = 0;

    for (int i = 0; o->names[i]; i++) {
        if (strcasecmp(v, o->names[i]) == 0) {
            out->e = i;
            return 0;
        }
    }
    n = (size_t)snprintf(what, sizeof what, "one of:");
    for (int i = 0; o->names[i] && n < sizeof what; i++)
        n += (size_t)snprintf(what + n, sizeof what - n, "%s %s", i ? "," : "", o->names[i]);
    return bad_form(o, v, what, err, errlen);
}

/* Text checks shared by STRING, PATH and ADDR, then the copy. */
static int p_text(const struct sb_conf_opt *o, const char *v, union val *out,
                  char *err, size_t errlen)
{
    size_t n = strlen(v), max = o->max > 0 ? (size_t)o->max : SB_CONF_VALUE_MAX;

    if (n == 0 && !(o->flags & SB_CONF_EMPTY_OK)) {
        sb_errf(err, errlen, "%s: must not be empty", o->name);
        return SB_ECONFIG;
    }
    if (n > max) {
        sb_errf(err, errlen, "%s: is %zu bytes long, more than %zu", o->name, n, max);
        return SB_ECONFIG;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return bad_form(o, v, "allowed: it contains a control character", err, errlen);
    if (o->check) {
        char msg[MSG_MAX];
        if (o->check(v, msg, sizeof msg) < 0) {
            sb_errf(err, errlen, "%s: %s", o->name, msg);
            return SB_ECONFIG;
        }
    }
    if (!(out->s = strdup(v)))
        return SB_ENOMEM;
    return 0;
}

static int p_addr(const struct sb_conf_opt *o, const char *v, union val *out,
                  char *err, size_t errlen)
{
    const char *why;
    uint16_t port;
    char q[96];

    if (split_addr(v, NULL, 0, &port, &why) < 0) {
        sb_errf(err, errlen, "%s: %s is not a valid address: %s", o->name,
               qval(o, v, q, sizeof q), why);
        return SB_ECONFIG;
    }
    return p_text(o, v, out, err, errlen);
}

typedef int (*parse_fn)(const struct sb_conf_opt *, const char *, union val *, char *, size_t);

static const parse_fn parsers[SB_CONF_TYPE_COUNT] = {
    [SB_CONF_BOOL] = p_bool, [SB_CONF_INT] = p_int, [SB_CONF_SIZE] = p_size,
    [SB_CONF_DURATION] = p_duration, [SB_CONF_DOUBLE] = p_double,
    [SB_CONF_STRING] = p_text, [SB_CONF_PATH] = p_text, [SB_CONF_ENUM] = p_enum,
    [SB_CONF_ADDR] = p_addr,
};

/* ---- storing and formatting values -------------------------------------- */

/* Stores v (taking ownership of a string) at o's field in base. */
static void store_val(const struct sb_conf_opt *o, void *base, union val *v)
{
    void *f = field(o, base);

    switch (o->type) {
    case SB_CONF_BOOL:   *(bool *)f = v->b; break;
    case SB_CONF_DOUBLE: *(double *)f = v->d; break;
    case SB_CONF_ENUM:   *(int *)f = v->e; break;
    case SB_CONF_INT: case SB_CONF_SIZE: case SB_CONF_DURATION:
        *(int64_t *)f = v->i;
        break;
    default:
        free(*(char **)f);
        *(char **)f = v->s;
        break;
    }
}

static int parse_val(const struct sb_conf_opt *o, const char *v, union val *out,
                     char *err, size_t errlen)
{
    if (!v) {
        sb_errf(err, errlen, "%s: no value", o->name);
        return SB_ECONFIG;
    }
    memset(out, 0, sizeof *out);
    return parsers[o->type](o, v, out, err, errlen);
}

int sb_conf_opt_parse(const struct sb_conf_opt *o, void *base, const char *value,
                      char *err, size_t errlen)
{
    union val v;
    int rc = parse_val(o, value, &v, err, errlen);

    if (rc == 0)
        store_val(o, base, &v);
    return rc;
}

/* Shortest "%.*g" that reads back as the same double. */
static int format_double(double d, char *buf, size_t len)
{
    int n = 0;

    for (int prec = 1; prec <= 17; prec++) {
        n = snprintf(buf, len, "%.*g", prec, d);
        if ((size_t)n < len && strtod(buf, NULL) == d)
            break;
    }
    return n;
}

int sb_conf_opt_format(const struct sb_conf_opt *o, const void *base, char *buf, size_t len)
{
    const void *f = cfield(o, base);
    int n;

    if (o->flags & SB_CONF_SECRET)
        n = snprintf(buf, len, "<hidden>");
    else if (o->type == SB_CONF_BOOL)
        n = snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false");
    else if (o->type == SB_CONF_INT)
        n = snprintf(buf, len, "%lld", (long long)*(const int64_t *)f);
    else if (o->type == SB_CONF_SIZE)
        n = sb_conf_format_size(*(const int64_t *)f, buf, len);
    else if (o->type == SB_CONF_DURATION)
        n = sb_conf_format_duration(*(const int64_t *)f, buf, len);
    else if (o->type == SB_CONF_DOUBLE)
        n = format_double(*(const double *)f, buf, len);
    else if (o->type == SB_CONF_ENUM)
        n = snprintf(buf, len, "%s", o->names[*(const int *)f]);
    else
        n = snprintf(buf, len, "%s", *(char *const *)f ? *(char *const *)f : "");
    return n >= 0 && (size_t)n < len ? n : SB_ENOSPC;
}

/* ---- life cycle --------------------------------------------------------- */

int sb_conf_init(struct sb_config *cfg)
{
    int rc;

    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTS; i++) {
        if ((rc = sb_conf_opt_parse(&opts[i], cfg, opts[i].def, NULL, 0)) < 0) {
            sb_conf_release(cfg);
            return rc;
        }
    }
    return 0;
}

void sb_conf_release(struct sb_config *cfg)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (is_str(opts[i].type))
            free(*(char **)field(&opts[i], cfg));
    free(cfg->file);
    memset(cfg, 0, sizeof *cfg);
}

static int dup_str(char **dst, const char *src)
{
    if (!src)
        return 0;
    return (*dst = strdup(src)) ? 0 : SB_ENOMEM;
}

int sb_conf_copy(struct sb_config *dst, const struct sb_config *src)
{
    int rc = 0;

    *dst = *src;
    dst->file = NULL;
    for (size_t i = 0; i < NOPTS; i++)
        if (is_str(opts[i].type))
            *(char **)field(&opts[i], dst) = NULL;
    for (size_t i = 0; i < NOPTS && rc == 0; i++)
        if (is_str(opts[i].type))
            rc = dup_str((char **)field(&opts[i], dst), *(char *const *)cfield(&opts[i], src));
    if (rc == 0)
        rc = dup_str(&dst->file, src->file);
    if (rc < 0)
        sb_conf_release(dst);
    return rc;
}

/* Replaces *cfg by the successfully modified copy *tmp. */
static void commit(struct sb_config *cfg, struct sb_config *tmp)
{
    sb_conf_release(cfg);
    *cfg = *tmp;
}

/* ---- the table ---------------------------------------------------------- */

size_t sb_conf_count(void)
{
    return NOPTS;
}

const struct sb_conf_opt *sb_conf_opt_at(size_t i)
{
    return i < NOPTS ? &opts[i] : NULL;
}

const struct sb_conf_opt *sb_conf_find(const char *name)
{
    for (size_t i = 0; name && i < NOPTS; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

enum sb_conf_src sb_conf_source(const struct sb_config *cfg, const struct sb_conf_opt *o)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (o == &opts[i])
            return (enum sb_conf_src)cfg->src[i];
    return SB_CONF_SRC_DEFAULT;
}

const char *sb_conf_src_name(enum sb_conf_src src)
{
    static const char *const names[SB_CONF_SRC_COUNT] = {
        "default", "file", "env", "cli", "runtime"
    };
    return (unsigned)src < SB_CONF_SRC_COUNT ? names[src] : "?";
}

const char *sb_conf_type_name(enum sb_conf_type type)
{
    static const char *const names[SB_CONF_TYPE_COUNT] = {
        "bool", "int", "size", "duration", "double", "string", "path", "enum", "addr"
    };
    return (unsigned)type < SB_CONF_TYPE_COUNT ? names[type] : "?";
}

int sb_conf_env_name(const struct sb_conf_opt *o, char *buf, size_t len)
{
    size_t n = strlen(o->name);

    if (len < n + 7)
        return SB_ENOSPC;
    memcpy(buf, "SBEMS_", 6);
    for (size_t i = 0; i <= n; i++) {
        char c = o->name[i];
        buf[6 + i] = c == '.' || c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    return 0;
}

/* ---- suggestions for unknown names -------------------------------------- */

/* Lower case, with '_' and '-' read as '.', so "Store_Sync" meets "store.sync". */
static void normalize(const char *s, char *out, size_t cap)
{
    size_t i = 0;

    for (; s[i] && i + 1 < cap; i++) {
        char c = s[i];
        out[i] = c == '_' || c == '-' ? '.' : (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[i] = '\0';
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions; Damerau 1964, Boytsov 2011 section 2.2), for strings
 * of at most NAME_MAX_ bytes. */
static size_t osa_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d[NAME_MAX_ + 1][NAME_MAX_ + 1];

    for (size_t i = 0; i <= la; i++)
        d[i][0] = (unsigned char)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (unsigned char)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            unsigned v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1u < v) v = d[i - 1][j] + 1u;
            if (d[i][j - 1] + 1u < v) v = d[i][j - 1] + 1u;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1u < v)
                v = d[i - 2][j - 2] + 1u;
            d[i][j] = (unsigned char)v;
        }
    }
    return d[la][lb];
}

const struct sb_conf_opt *sb_conf_suggest(const char *name)
{
    char in[NAME_MAX_ + 1], cand[NAME_MAX_ + 1];
    const struct sb_conf_opt *best = NULL;
    size_t best_d = SIZE_MAX, limit;

    if (!name || strlen(name) > NAME_MAX_)
        return NULL;
    normalize(name, in, sizeof in);
    limit = strlen(in) / 3 < 1 ? 1 : strlen(in) / 3 > 3 ? 3 : strlen(in) / 3;
    for (size_t i = 0; i < NOPTS; i++) {
        const char *dot = strrchr(opts[i].name, '.');
        size_t d;
        normalize(opts[i].name, cand, sizeof cand);
        d = osa_distance(in, cand);
        if (dot && strcmp(in, dot + 1) == 0)
            d = 0;              /* "sync" for "store.sync" */
        if (d < best_d) {
            best_d = d;
            best = &opts[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

/* "unknown option "x"" and, if one is close, "(did you mean "y"?)". */
static int unknown(const char *name, char *err, size_t errlen)
{
    const struct sb_conf_opt *s = sb_conf_suggest(name);
    char q[96];

    if (s)
        sb_errf(err, errlen, "unknown option %s (did you mean \"%s\"?)",
               qval(NULL, name, q, sizeof q), s->name);
    else
        sb_errf(err, errlen, "unknown option %s", qval(NULL, name, q, sizeof q));
    return SB_ENOENT;
}

/* ---- setting values with their source ----------------------------------- */

/* Parses value for option i and stores it unless a stronger source set it. */
static int set_index(struct sb_config *cfg, size_t i, const char *value,
                     enum sb_conf_src src, int line, char *err, size_t errlen)
{
    union val v;
    int rc = parse_val(&opts[i], value, &v, err, errlen);

    if (rc < 0)
        return rc;
    if (src < (enum sb_conf_src)cfg->src[i]) {
        if (is_str(opts[i].type))
            free(v.s);
        return 0;
    }
    store_val(&opts[i], cfg, &v);
    cfg->src[i] = (unsigned char)src;
    cfg->line[i] = line;
    return 0;
}

int sb_conf_set_src(struct sb_config *cfg, const char *name, const char *value,
                    enum sb_conf_src src, char *err, size_t errlen)
{
    const struct sb_conf_opt *o = sb_conf_find(name);

    if (!o)
        return unknown(name ? name : "", err, errlen);
    if ((unsigned)src >= SB_CONF_SRC_COUNT) {
        sb_errf(err, errlen, "%s: invalid source", o->name);
        return SB_EINVAL;
    }
    if (src == SB_CONF_SRC_RUNTIME && !(o->flags & SB_CONF_RUNTIME)) {
        sb_errf(err, errlen, "%s: cannot be changed while sbems runs; change it in the "
               "configuration file and restart", o->name);
        return SB_ENOTSUP;
    }
    return set_index(cfg, (size_t)(o - opts), value, src, 0, err, errlen);
}

int sb_conf_set(struct sb_config *cfg, const char *name, const char *value,
                char *err, size_t errlen)
{
    return sb_conf_set_src(cfg, name, value, SB_CONF_SRC_CLI, err, errlen);
}

/* ---- the file ----------------------------------------------------------- */

/* One "name = value" line, split. */
struct line {
    const char *name;     /* option name (not NUL-terminated) */
    size_t      namelen;  /* its length */
    char       *value;    /* unescaped value, NUL-terminated, in the caller's buffer */
};

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static size_t skip_blank(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
        i++;
    return i;
}

/* The quoted value starting after the opening quote at s[i]; the only
 * escapes are \" and \\ so a path such as C:\x needs no guessing. */
static int quoted(const char *s, size_t n, size_t i, char *out, char *err, size_t errlen)
{
    size_t o = 0;

    for (; i < n && s[i] != '"'; i++) {
        if (s[i] == '\\') {
            if (i + 1 >= n || (s[i + 1] != '"' && s[i + 1] != '\\')) {
                sb_errf(err, errlen, "unknown escape \"\\%.1s\" (only \\\" and \\\\)",
                       i + 1 < n ? s + i + 1 : "");
                return SB_ECONFIG;
            }
            i++;
        }
        out[o++] = s[i];
    }
    out[o] = '\0';
    if (i >= n) {
        sb_errf(err, errlen, "missing closing quote");
        return SB_ECONFIG;
    }
    i = skip_blank(s, n, i + 1);
    if (i < n && s[i] != '#') {
        sb_errf(err, errlen, "unexpected text after the closing quote");
        return SB_ECONFIG;
    }
    return 0;
}

/* Splits line s[0, n) into *l (value unescaped into vbuf).  Returns 1 for an
 * assignment, 0 for a blank or comment line, SB_ECONFIG with a message. */
static int split_line(const char *s, size_t n, struct line *l, char *vbuf,
                      char *err, size_t errlen)
{
    size_t i = skip_blank(s, n, 0), end;

    if (i == n || s[i] == '#')
        return 0;
    l->name = s + i;
    while (i < n && name_char(s[i]))
        i++;
    l->namelen = (size_t)(s + i - l->name);
    i = skip_blank(s, n, i);
    if (l->namelen == 0 || i == n || s[i] != '=') {
        sb_errf(err, errlen, l->namelen ? "expected \"=\" after \"%.*s\""
                                       : "expected \"name = value\"%.*s",
               (int)(l->namelen > NAME_MAX_ ? NAME_MAX_ : l->namelen), l->name);
        return SB_ECONFIG;
    }
    i = skip_blank(s, n, i + 1);
    l->value = vbuf;
    if (i < n && s[i] == '"')
        return quoted(s, n, i + 1, vbuf, err, errlen) < 0 ? SB_ECONFIG : 1;
    for (end = i; end < n && s[end] != '#'; end++)
        ;
    while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r'))
        end--;
    memcpy(vbuf, s + i, end - i);
    vbuf[end - i] = '\0';
    return 1;
}

/* Applies one assignment to tmp; seen[] catches an option set twice. */
static int apply_line(struct sb_config *tmp, const struct line *l, int lineno, int *seen,
                      char *msg, size_t cap)
{
    char name[NAME_MAX_ + 2];
    const struct sb_conf_opt *o;
    size_t i;

    snprintf(name, sizeof name, "%.*s",
             (int)(l->namelen > NAME_MAX_ + 1 ? NAME_MAX_ + 1 : l->namelen), l->name);
    if (!(o = sb_conf_find(name))) {
        unknown(name, msg, cap);
        return SB_ECONFIG;
    }
    i = (size_t)(o - opts);
    if (seen[i]) {
        sb_errf(msg, cap, "%s: set twice (lines %d and %d)", o->name, seen[i], lineno);
        return SB_ECONFIG;
    }
    seen[i] = lineno;
    return set_index(tmp, i, l->value, SB_CONF_SRC_FILE, lineno, msg, cap);
}

/* Parses every line of buf into tmp; on error "fname:line: why" in err. */
static int parse_buf(struct sb_config *tmp, const char *buf, size_t len, const char *fname,
                     char *vbuf, char *err, size_t errlen)
{
    int seen[NOPTS] = { 0 }, lineno = 0, rc = 0;
    char msg[MSG_MAX];
    struct line l;

    if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {   /* UTF-8 byte order mark */
        buf += 3;
        len -= 3;
    }
    for (size_t pos = 0; pos < len && rc >= 0;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
        lineno++;
        if (memchr(buf + pos, '\0', n)) {
            sb_errf(msg, sizeof msg, "NUL byte in line");
            rc = SB_ECONFIG;
        } else if ((rc = split_line(buf + pos, n, &l, vbuf, msg, sizeof msg)) == 1) {
            rc = apply_line(tmp, &l, lineno, seen, msg, sizeof msg);
        }
        pos += n + 1;
    }
    if (rc == SB_ECONFIG)
        sb_errf(err, errlen, "%s:%d: %s", fname, lineno, msg);
    return rc < 0 ? rc : 0;
}

int sb_conf_load_buf(struct sb_config *cfg, const char *buf, size_t len,
                     const char *fname, char *err, size_t errlen)
{
    struct sb_config tmp;
    char *vbuf = NULL;
    int rc;

    fname = fname ? fname : "(config)";
    if ((rc = sb_conf_copy(&tmp, cfg)) < 0)
        return rc;
    if (!(vbuf = malloc(len + 1))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = parse_buf(&tmp, buf, len, fname, vbuf, err, errlen)) < 0)
        goto out;
    free(tmp.file);
    if (!(tmp.file = strdup(fname))) {
        rc = SB_ENOMEM;
        goto out;
    }
    commit(cfg, &tmp);
out:
    if (rc < 0)
        sb_conf_release(&tmp);
    free(vbuf);
    return rc;
}

/* Reads all of fd (at most FILE_MAX bytes) into a new buffer. */
static int read_all(int fd, char **buf, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *p = malloc(cap), *q;
    ssize_t r;
    int rc = 0;

    while (p && rc == 0) {
        if ((r = read(fd, p + n, cap - n)) == 0)
            break;
        if (r < 0) {
            rc = errno == EINTR ? 0 : SB_EIO;
            continue;
        }
        if ((n += (size_t)r) > FILE_MAX)
            rc = SB_ERANGE;
        else if (n == cap && (q = realloc(p, cap * 2)) != NULL) {
            p = q;
            cap *= 2;
        } else if (n == cap)
            rc = SB_ENOMEM;
    }
    if (!p || rc < 0) {
        free(p);
        return p ? rc : SB_ENOMEM;
    }
    *buf = p;
    *len = n;
    return 0;
}

int sb_conf_load_file(struct sb_config *cfg, const char *path, char *err, size_t errlen)
{
    char *buf = NULL;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0) {
        rc = errno == ENOENT ? SB_ENOENT : SB_EIO;
        sb_errf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    rc = read_all(fd, &buf, &len);
    close(fd);
    if (rc == SB_ERANGE)
        sb_errf(err, errlen, "%s: larger than %d bytes", path, FILE_MAX);
    else if (rc == SB_EIO)
        sb_errf(err, errlen, "%s: cannot read", path);
    if (rc == 0)
        rc = sb_conf_load_buf(cfg, buf, len, path, err, errlen);
    free(buf);
    return rc == SB_ERANGE ? SB_ECONFIG : rc;
}

/* ---- the environment ---------------------------------------------------- */

/* Value of the first entry "name=..." in envp, as getenv() would pick. */
static const char *env_find(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (; *envp; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

int sb_conf_load_env(struct sb_config *cfg, char *const *envp, char *err, size_t errlen)
{
    struct sb_config tmp;
    char name[NAME_MAX_ + 8], msg[MSG_MAX];
    const char *v;
    int rc;

    if (!envp)
        envp = environ;
    if ((rc = sb_conf_copy(&tmp, cfg)) < 0)
        return rc;
    for (size_t i = 0; i < NOPTS && rc == 0; i++) {
        if (sb_conf_env_name(&opts[i], name, sizeof name) < 0 || !(v = env_find(envp, name)))
            continue;
        if ((rc = set_index(&tmp, i, v, SB_CONF_SRC_ENV, 0, msg, sizeof msg)) == SB_ECONFIG)
            sb_errf(err, errlen, "environment %s: %s", name, msg);
    }
    if (rc == 0)
        commit(cfg, &tmp);
    else
        sb_conf_release(&tmp);
    return rc;
}

/* ---- checks across options, derived values ------------------------------ */

int sb_conf_socket_path(const struct sb_config *cfg, char *buf, size_t len)
{
    const char *d = cfg->data_dir ? cfg->data_dir : "";
    size_t n = strlen(d);
    int w;

    if (cfg->socket && *cfg->socket)
        w = snprintf(buf, len, "%s", cfg->socket);
    else
        w = snprintf(buf, len, "%.*s/sbems.sock", (int)(n > 1 && d[n - 1] == '/' ? n - 1 : n), d);
    return w >= 0 && (size_t)w < len ? 0 : SB_ENOSPC;
}

int sb_conf_validate(const struct sb_config *cfg, char *err, size_t errlen)
{
    char path[SUN_PATH_MAX + 1];

    if (cfg->ingest_batch > cfg->ingest_queue) {
        sb_errf(err, errlen, "ingest.batch (%lld) must not be larger than ingest.queue (%lld)",
               (long long)cfg->ingest_batch, (long long)cfg->ingest_queue);
        return SB_ECONFIG;
    }
    if (sb_conf_socket_path(cfg, path, sizeof path) < 0) {
        sb_errf(err, errlen, "socket: <data_dir>/sbems.sock is longer than %lld bytes; "
               "set socket to a shorter path", (long long)SUN_PATH_MAX);
        return SB_ECONFIG;
    }
    struct sb_cidrs px;
    char why[160];
    if (sb_cidrs_parse(cfg->api_trusted_proxies, &px, why, sizeof(why)) != 0) {
        sb_errf(err, errlen, "api.trusted_proxies: %s", why);
        return SB_ECONFIG;
    }
    if (!*cfg->api_tls_cert != !*cfg->api_tls_key) {
        sb_errf(err, errlen, "api.tls_cert and api.tls_key go together: set both or neither");
        return SB_ECONFIG;
    }
    if (cfg->store_appdb == SB_CONF_BACKEND_POSTGRES &&
        cfg->store_backend != SB_CONF_BACKEND_POSTGRES) {
        sb_errf(err, errlen, "store.appdb = postgres needs store.backend = postgres (it uses "
               "store.url's database)");
        return SB_ECONFIG;
    }
    if (cfg->cluster_leases && (cfg->store_backend != SB_CONF_BACKEND_POSTGRES ||
                                cfg->store_appdb != SB_CONF_BACKEND_POSTGRES ||
                                !cfg->store_node || !*cfg->store_node)) {
        sb_errf(err, errlen, "cluster.leases needs store.backend = postgres and store.appdb = "
               "postgres (the nodes share both) and a store.node naming this node");
        return SB_ECONFIG;
    }
    /* A poll started just before the drivers' deadline (a third of a lease
     * before expiry) must end before another node may start one. */
    if (cfg->cluster_leases && cfg->cluster_lease / 3 <= cfg->drivers_timeout) {
        sb_errf(err, errlen, "cluster.lease (%lld ms) must exceed three times drivers.timeout "
               "(%lld ms)", (long long)cfg->cluster_lease, (long long)cfg->drivers_timeout);
        return SB_ECONFIG;
    }
    return 0;
}

const char *sb_conf_backend_name(const struct sb_config *cfg)
{
    const int n = (int)(sizeof backend_names / sizeof backend_names[0]) - 1;

    return cfg->store_backend >= 0 && cfg->store_backend < n
           ? backend_names[cfg->store_backend] : "?";
}

void sb_conf_log_settings(const struct sb_config *cfg, struct sb_log_settings *out)
{
    out->level = cfg->log_level;
    out->format = cfg->log_format;
    out->modules = cfg->log_modules;
    out->timestamps = cfg->log_timestamps;
    out->rate_limit = (int)cfg->log_rate_limit;
    out->rate_window_ms = cfg->log_rate_window;
}

/* ---- output ------------------------------------------------------------- */

/* Writes v as a file value: bare if it reads back the same, else quoted. */
static int put_value(FILE *f, const char *v)
{
    size_t n = strlen(v);
    int w = 0;

    if (n > 0 && !strpbrk(v, "#\"\\") && v[0] != ' ' && v[0] != '\t' &&
        v[n - 1] != ' ' && v[n - 1] != '\t')
        return fprintf(f, "%s", v);
    fputc('"', f);
    for (w = 2; *v; v++, w++) {
        if (*v == '"' || *v == '\\') {
            fputc('\\', f);
            w++;
        }
        fputc(*v, f);
    }
    fputc('"', f);
    return w;
}

/* "# file /etc/sbems.conf:12", "# env SBEMS_X", ... */
static void put_source(FILE *f, const struct sb_config *cfg, size_t i)
{
    char env[NAME_MAX_ + 8];

    switch ((enum sb_conf_src)cfg->src[i]) {
    case SB_CONF_SRC_FILE:
        fprintf(f, "# file %s:%d\n", cfg->file ? cfg->file : "?", cfg->line[i]);
        break;
    case SB_CONF_SRC_ENV:
        sb_conf_env_name(&opts[i], env, sizeof env);
        fprintf(f, "# env %s\n", env);
        break;
    case SB_CONF_SRC_CLI:
        fprintf(f, "# command line\n");
        break;
    default:
        fprintf(f, "# %s\n", sb_conf_src_name((enum sb_conf_src)cfg->src[i]));
        break;
    }
}

int sb_conf_dump(const struct sb_config *cfg, FILE *f)
{
    char v[SB_CONF_VALUE_MAX + 1];

    for (size_t i = 0; i < NOPTS; i++) {
        int w = fprintf(f, "%s = ", opts[i].name);
        if (sb_conf_opt_format(&opts[i], cfg, v, sizeof v) < 0)
            snprintf(v, sizeof v, "?");
        w += (opts[i].flags & SB_CONF_SECRET) ? fprintf(f, "%s", v) : put_value(f, v);
        fprintf(f, "%*s", w < 40 ? 40 - w : 1, "");
        put_source(f, cfg, i);
    }
    return ferror(f) ? SB_EIO : 0;
}

/* Writes text as "# " lines of at most 78 columns, breaking at spaces. */
static void put_wrapped(FILE *f, const char *text)
{
    const char *p = text;

    while (*p) {
        size_t n = strlen(p), cut = n;
        if (n > 76) {
            for (cut = 76; cut > 0 && p[cut] != ' '; cut--)
                ;
            if (cut == 0)
                cut = strcspn(p, " ");
        }
        fprintf(f, "# %.*s\n", (int)cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

/* "duration (0, or 1h to 36500d); env SBEMS_RETENTION_RAW; changeable at
 * runtime", wrapped. */
static void put_facts(FILE *f, const struct sb_conf_opt *o)
{
    char env[NAME_MAX_ + 8], r[96], facts[512];
    size_t n = 0;

    sb_conf_env_name(o, env, sizeof env);
    if (o->type == SB_CONF_ENUM) {
        n = (size_t)snprintf(facts, sizeof facts, "one of:");
        for (int i = 0; o->names[i] && n < sizeof facts; i++)
            n += (size_t)snprintf(facts + n, sizeof facts - n, "%s %s", i ? "," : "",
                                  o->names[i]);
    } else if (o->type == SB_CONF_INT || o->type == SB_CONF_SIZE ||
               o->type == SB_CONF_DURATION || o->type == SB_CONF_DOUBLE) {
        range_text(o, r, sizeof r);
        n = (size_t)snprintf(facts, sizeof facts, "%s (%s)", sb_conf_type_name(o->type), r);
    } else {
        n = (size_t)snprintf(facts, sizeof facts, "%s",
                             o->type == SB_CONF_ADDR ? "host:port" : sb_conf_type_name(o->type));
    }
    if (n < sizeof facts)
        snprintf(facts + n, sizeof facts - n, "; env %s%s", env,
                 (o->flags & SB_CONF_RUNTIME) ? "; changeable at runtime" : "");
    put_wrapped(f, facts);
}

static const char example_head[] =
    "# sbems.conf.example - every sbems option, commented out, at its default.\n"
    "#\n"
    "# Generated by sb_conf_write_example() from the option table in\n"
    "# src/core/conf.c; do not edit (tests/unit/test_conf.c checks they match).\n"
    "#\n"
    "# Syntax: one \"name = value\" per line; \"#\" starts a comment.  A value may be\n"
    "# quoted \"...\" with \\\" and \\\\ as the only escapes; quote values that hold \"#\"\n"
    "# or begin or end with a space.  Sizes: bytes, or k, m, g (KiB, MiB, GiB).\n"
    "# Durations: whole numbers with ms, s, m, h, d, largest first (1h30m); a bare\n"
    "# number is seconds.  Booleans: true/false, yes/no, on/off, 1/0.\n"
    "#\n"
    "# Precedence: default < this file < environment < command line.  Every\n"
    "# option can be set from the environment as SBEMS_<NAME>: upper case, with\n"
    "# \".\" and \"-\" as \"_\" (store.sync -> SBEMS_STORE_SYNC).\n";

int sb_conf_write_example(FILE *f)
{
    char sect[NAME_MAX_ + 1] = "-";

    fputs(example_head, f);
    for (size_t i = 0; i < NOPTS; i++) {
        const struct sb_conf_opt *o = &opts[i];
        const char *dot = strchr(o->name, '.');
        int n = dot ? (int)(dot - o->name) : 0;
        if (strlen(sect) != (size_t)n || strncmp(sect, o->name, (size_t)n) != 0) {
            snprintf(sect, sizeof sect, "%.*s", n, o->name);
            fprintf(f, "\n# ---- %s ----\n", n ? sect : "general");
        }
        fprintf(f, "\n");
        put_wrapped(f, o->doc);
        put_facts(f, o);
        fprintf(f, "#%s = ", o->name);
        put_value(f, o->def);
        fprintf(f, "\n");
    }
    return ferror(f) ? SB_EIO : 0;
}

/*
 * conf.h - the daemon's configuration: one table of options, four sources.
 *
 * Every option is one row of a static table in conf.c (name, type, bounds,
 * default, offset into struct sb_config, flags, one line of doc), in the
 * manner of redis's standardConfig and nginx's ngx_command_t.  From that
 * table come the file parser, the SBEMS_<OPTION> environment overrides, the
 * command-line overrides (sb_conf_set), sb_conf_dump() (what `sbems config
 * --dump` and GET /api/v1/config show) and sbems.conf.example.
 *
 * Precedence is default < file < environment < command line < runtime,
 * whatever the order of the calls: every option remembers where its value
 * came from and a source never overrides a value from a stronger one.
 *
 * Ownership: struct sb_config is caller-owned storage (_init/_release); its
 * strings are heap copies owned by the struct and freed by sb_conf_release.
 * Nothing here is synchronised: the daemon owns one sb_config, changes it on
 * its loop thread only, and hands workers the values they need.  Errors go
 * to the caller's err buffer, never to the log.  Options flagged
 * SB_CONF_SECRET are printed as <hidden> by every function here, including
 * error messages; read the struct field to use the value.
 */
#ifndef SB_CONF_H
#define SB_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/log.h"

/* Value types.  The struct field each one is stored in is given in []. */
enum sb_conf_type {
    SB_CONF_BOOL = 0,   /* [bool] true/false, yes/no, on/off, 1/0 */
    SB_CONF_INT,        /* [int64_t] decimal integer within [min, max] */
    SB_CONF_SIZE,       /* [int64_t] bytes; suffix k, m, g = KiB, MiB, GiB */
    SB_CONF_DURATION,   /* [int64_t] ms; units ms, s, m, h, d; bare number = s */
    SB_CONF_DOUBLE,     /* [double] finite decimal number within [dmin, dmax] */
    SB_CONF_STRING,     /* [char *] any text without control characters */
    SB_CONF_PATH,       /* [char *] a file-system path (< PATH_MAX bytes) */
    SB_CONF_ENUM,       /* [int] index into names[] */
    SB_CONF_ADDR,       /* [char *] host:port, IPv6 as [addr]:port */
    SB_CONF_TYPE_COUNT
};

/* Option flags. */
enum {
    SB_CONF_RUNTIME  = 1u << 0,  /* may be changed while sbems runs */
    SB_CONF_SECRET   = 1u << 1,  /* never printed: dump/format/errors show <hidden> */
    SB_CONF_ZERO     = 1u << 2,  /* 0 is allowed besides [min, max]; doc says what it means */
    SB_CONF_EMPTY_OK = 1u << 3   /* STRING/PATH: "" is allowed; doc says what it means */
};

/* Where a value came from, weakest first (the precedence order). */
enum sb_conf_src {
    SB_CONF_SRC_DEFAULT = 0,  /* the table's default */
    SB_CONF_SRC_FILE,         /* the configuration file */
    SB_CONF_SRC_ENV,          /* an SBEMS_<OPTION> environment variable */
    SB_CONF_SRC_CLI,          /* a command-line flag */
    SB_CONF_SRC_RUNTIME,      /* changed while running (API); SB_CONF_RUNTIME only */
    SB_CONF_SRC_COUNT
};

/* store.backend values (extend the names in conf.c in the same order). */
enum sb_conf_backend {
    SB_CONF_BACKEND_SQLITE = 0,  /* embedded SQLite store in data_dir */
    SB_CONF_BACKEND_POSTGRES     /* PostgreSQL at store.url */
};

/* store.sync values. */
enum sb_conf_sync {
    SB_CONF_SYNC_FULL = 0,   /* fsync every commit: survives power loss */
    SB_CONF_SYNC_NORMAL      /* survives a crash of sbems, maybe not of the OS */
};

enum sb_conf_pwcost {
    SB_CONF_PWCOST_INTERACTIVE = 0,  /* libsodium's INTERACTIVE argon2id limits */
    SB_CONF_PWCOST_MODERATE,         /* MODERATE */
    SB_CONF_PWCOST_MIN               /* MIN: tests only */
};

/* Room in struct sb_config for per-option bookkeeping (checked in conf.c). */
#define SB_CONF_MAX_OPTS 96
/* Longest value of any option, in bytes (PATH_MAX - 1 on Linux). */
#define SB_CONF_VALUE_MAX 4095

/* One row of the option table.  Public so the API and the CLI can walk it
 * (sb_conf_count / sb_conf_opt_at); never modified. */
struct sb_conf_opt {
    const char        *name;     /* "store.sync": lower case, dots between parts */
    enum sb_conf_type  type;     /* how the value is parsed and stored */
    unsigned           flags;    /* SB_CONF_RUNTIME | SB_CONF_SECRET | ... */
    size_t             off;      /* offsetof(struct sb_config, field) */
    int64_t            min, max; /* INT/SIZE/DURATION(ms) bounds; STRING/PATH max length */
    double             dmin, dmax;  /* DOUBLE bounds */
    const char *const *names;    /* ENUM: value names, NULL-terminated */
    const char        *def;      /* default, written as in the file */
    const char        *doc;      /* one sentence for the example file and the API */
    int (*check)(const char *value, char *err, size_t errlen);  /* extra check, or NULL */
};

/* The effective configuration.  Each field is named after its option with
 * "." as "_" (store.sync -> store_sync); the type column of enum
 * sb_conf_type gives its C type.  Durations are int64 ms (0 where the doc
 * says "0 = forever"), sizes int64 bytes, enums an index into the names. */
struct sb_config {
    char    *listen;                 /* HTTP API address, "host:port" */
    char    *data_dir;               /* directory of the store and the socket */
    char    *socket;                 /* control socket path; "" = <data_dir>/sbems.sock */
    int      log_level;              /* SB_LOG_* default level */
    int      log_format;             /* SB_LOG_FMT_* */
    char    *log_modules;            /* per-module levels, "store=debug,ingest=warn" */
    char    *log_file;               /* log file; "" = standard error */
    bool     log_timestamps;         /* text lines start with the UTC time */
    int64_t  log_rate_limit;         /* lines per call site per window; 0 = unlimited */
    int64_t  log_rate_window;        /* ms, the rate-limit window */
    int      store_backend;          /* enum sb_conf_backend */
    int      store_appdb;            /* enum sb_conf_backend: users .. documents */
    char    *store_url;              /* postgres connection string (secret), "" = PG* env */
    char    *store_node;             /* postgres node name, "" = "default" */
    int      store_sync;             /* enum sb_conf_sync */
    int64_t  store_cache;            /* bytes of SQLite page cache */
    int64_t  store_flush_interval;   /* ms between seals of buffered samples */
    int64_t  store_flush_samples;    /* buffered samples that force a seal */
    int64_t  store_max_hold;         /* ms a sample holds its value in time-weighted rollups */
    int64_t  retention_raw;          /* ms raw samples are kept; 0 = forever */
    int64_t  retention_15m;          /* ms 15-minute rollups are kept; 0 = forever */
    int64_t  retention_1h;           /* ms hourly rollups are kept; 0 = forever */
    int64_t  retention_1d;           /* ms daily rollups are kept; 0 = forever */
    int64_t  retention_1mo;          /* ms monthly rollups are kept; 0 = forever */
    int64_t  ingest_queue;           /* readings the ingest queue holds */
    int64_t  ingest_batch;           /* most readings written in one transaction */
    int64_t  ingest_linger;          /* ms a partial batch waits for more readings */
    int64_t  ingest_future_limit;    /* ms a reading may be ahead of the clock */
    char    *api_cors_origins;       /* allowed browser origins, comma-separated */
    char    *api_trusted_proxies;    /* reverse proxies whose X-Forwarded-For is believed */
    int64_t  api_max_body;           /* bytes, largest request body */
    int64_t  api_rate_limit;         /* requests/minute per user; 0 = none */
    int64_t  api_rate_burst;         /* bucket capacity per user */
    int64_t  api_rate_limit_ip;      /* requests/minute per client address; 0 = none */
    char    *api_tls_cert;           /* PEM chain; "" = plain HTTP */
    char    *api_tls_key;            /* PEM key */
    char    *api_web_root;           /* web UI files; "" = beside the binary */
    char    *auth_key_file;          /* token signing keys; "" = <data_dir>/token-keys.json */
    int64_t  auth_access_ttl;        /* ms, access token lifetime */
    int64_t  auth_refresh_ttl;       /* ms, refresh token lifetime */
    int      auth_password_cost;     /* enum sb_conf_pwcost */
    int64_t  auth_lockout_failures;  /* failures that lock an account/address */
    int64_t  auth_lockout;           /* ms a lock lasts */
    bool     drivers_enabled;        /* run the drivers at all */
    char    *drivers_config;         /* drivers' JSON settings file; "" = <data_dir>/drivers.json */
    bool     drivers_dry_run;        /* log writes instead of sending them */
    int64_t  drivers_timeout;        /* ms a device has to answer */
    int64_t  drivers_threads;        /* worker threads for blocking drivers */
    int64_t  drivers_breaker_failures; /* failures that open a device's breaker */
    int64_t  drivers_breaker_cooldown; /* ms it stays open */
    int64_t  drivers_write_interval; /* ms between writes of one point */
    int64_t  drivers_stale_factor;   /* intervals without data: stale */
    int      alerts_enabled;         /* evaluate alert rules */
    char    *alerts_smtp_url;        /* e-mail relay, "" = no e-mail */
    char    *alerts_smtp_from;       /* From of alert e-mails */
    char    *alerts_mqtt_host;       /* broker for alert messages, "" = none */
    int64_t  alerts_mqtt_port;
    char    *alerts_mqtt_topic;      /* topic prefix */
    int64_t  alerts_flap_window;     /* ms: a re-raise after a clear within it is a flap */
    int64_t  alerts_escalate_after;  /* ms per escalation level of an unacknowledged alert; 0 = off */
    int      analytics_enabled;      /* train and issue forecasts and zone models */
    int64_t  analytics_train_hour;   /* local hour of the nightly retrain */
    int64_t  analytics_history_days; /* load forecaster training window */
    int64_t  analytics_zone_days;    /* zone model training window */
    double   analytics_cooling_cop;  /* fault impact: cooling plant COP */
    double   analytics_heat_efficiency; /* fault impact: heating plant efficiency */
    double   analytics_heat_price;   /* fault impact: heating fuel price per kWh, 0 = unpriced */
    bool     control_enabled;        /* run supervisory control */
    int64_t  control_tick;           /* ms between evaluations */
    int64_t  control_priority;       /* BACnet priority of sbems's setpoint writes */
    int64_t  control_stale;          /* ms after which a reading is not used */
    double   ws_max_rate;            /* updates/s per point on WebSockets */
    int64_t  ws_client_queue;        /* bytes queued per WebSocket client */
    int64_t  ws_max_clients;         /* WebSocket clients at once */
    char    *redis_url;              /* shared state between nodes; "" = off (secret) */
    char    *redis_prefix;           /* prefix of every Redis key and channel */
    bool     cluster_leases;         /* devices leased between nodes (postgres) */
    int64_t  cluster_lease;          /* ms a lease lasts unless renewed */

    /* Bookkeeping, filled by the functions below. */
    char         *file;                     /* path of the file loaded, or NULL */
    unsigned char src[SB_CONF_MAX_OPTS];    /* enum sb_conf_src, by table index */
    int           line[SB_CONF_MAX_OPTS];   /* line in file (src FILE), else 0 */
};

/* ---- life cycle ---- */

/* Fills cfg with the defaults.  Returns 0 or SB_ENOMEM (cfg released). */
int  sb_conf_init(struct sb_config *cfg);
/* Frees cfg's strings and zeroes it; safe on a zeroed or released cfg. */
void sb_conf_release(struct sb_config *cfg);
/* Deep copy of src into uninitialised dst.  Returns 0 or SB_ENOMEM. */
int  sb_conf_copy(struct sb_config *dst, const struct sb_config *src);

/* ---- sources (each is all-or-nothing: on error cfg is unchanged) ---- */

/* Reads "name = value" lines from path (at most 1 MiB).  Returns 0,
 * SB_ENOENT / SB_EIO (cannot read), or SB_ECONFIG with "path:line: ..." in err. */
int sb_conf_load_file(struct sb_config *cfg, const char *path, char *err, size_t errlen);
/* The same parser on a buffer (need not be NUL-terminated); fname is used
 * in messages and recorded as cfg->file. */
int sb_conf_load_buf(struct sb_config *cfg, const char *buf, size_t len,
                     const char *fname, char *err, size_t errlen);
/* Applies SBEMS_<OPTION> variables from envp (NULL = the process
 * environment).  Other SBEMS_* variables are ignored: modules such as
 * core/tz read their own (SBEMS_TZDIR).  Returns 0 or SB_ECONFIG. */
int sb_conf_load_env(struct sb_config *cfg, char *const *envp, char *err, size_t errlen);
/* Sets one option from the command line (source SB_CONF_SRC_CLI).
 * Returns 0, SB_ENOENT (unknown name; err suggests the closest) or SB_ECONFIG. */
int sb_conf_set(struct sb_config *cfg, const char *name, const char *value,
                char *err, size_t errlen);
/* Same with an explicit source.  A value from a weaker source than the
 * current one is checked but not stored (returns 0).  SB_CONF_SRC_RUNTIME
 * needs an SB_CONF_RUNTIME option, else SB_ENOTSUP. */
int sb_conf_set_src(struct sb_config *cfg, const char *name, const char *value,
                    enum sb_conf_src src, char *err, size_t errlen);
/* Checks what no single option can: ingest.batch <= ingest.queue, the
 * socket path fits sockaddr_un.  Call after all sources.  0 or SB_ECONFIG. */
int sb_conf_validate(const struct sb_config *cfg, char *err, size_t errlen);

/* ---- output ---- */

/* Writes every effective value as a valid config file, each line ending in
 * "# <source>".  Returns 0 or SB_EIO. */
int sb_conf_dump(const struct sb_config *cfg, FILE *f);
/* Writes sbems.conf.example (every option commented out at its default,
 * with its doc).  Returns 0 or SB_EIO. */
int sb_conf_write_example(FILE *f);

/* ---- the table ---- */

size_t sb_conf_count(void);
const struct sb_conf_opt *sb_conf_opt_at(size_t i);          /* NULL past the end */
const struct sb_conf_opt *sb_conf_find(const char *name);    /* exact name, or NULL */
/* The known option closest to a mistyped name, or NULL if none is close. */
const struct sb_conf_opt *sb_conf_suggest(const char *name);
enum sb_conf_src sb_conf_source(const struct sb_config *cfg, const struct sb_conf_opt *o);
const char *sb_conf_src_name(enum sb_conf_src src);          /* "default", "file", ... */
const char *sb_conf_type_name(enum sb_conf_type type);       /* "bool", "int", ... */
/* "SBEMS_STORE_SYNC" for store.sync.  Returns 0 or SB_ENOSPC. */
int sb_conf_env_name(const struct sb_conf_opt *o, char *buf, size_t len);

/* Parses value for o and stores it at base + o->off (base is a struct
 * sb_config, or a test struct laid out for o).  Does no source bookkeeping.
 * Returns 0, SB_ECONFIG ("name: why" in err) or SB_ENOMEM. */
int sb_conf_opt_parse(const struct sb_conf_opt *o, void *base, const char *value,
                      char *err, size_t errlen);
/* Formats o's value at base as it would be written in a file, unquoted;
 * "<hidden>" for a secret.  Returns the length, or SB_ENOSPC. */
int sb_conf_opt_format(const struct sb_conf_opt *o, const void *base, char *buf, size_t len);

/* ---- value helpers, for other modules too ---- */

/* "30s", "1h30m", "5ms", bare "90" = 90 s -> ms.  0 or SB_EINVAL/SB_ERANGE. */
int sb_conf_parse_duration(const char *s, int64_t *ms);
/* ms -> "1h30m" ("0" for 0).  Returns the length, or SB_ENOSPC / SB_EINVAL (< 0). */
int sb_conf_format_duration(int64_t ms, char *buf, size_t len);
/* "64m" -> 67108864.  0 or SB_EINVAL/SB_ERANGE. */
int sb_conf_parse_size(const char *s, int64_t *bytes);
/* 67108864 -> "64m".  Returns the length, or SB_ENOSPC / SB_EINVAL. */
int sb_conf_format_size(int64_t bytes, char *buf, size_t len);
/* Splits "host:port" / "[v6]:port" into host (brackets removed) and port,
 * checking IPv4 and IPv6 literals (inet_pton) and host names (RFC 1123
 * section 2.1).  host may be NULL.  0, SB_EINVAL, SB_ERANGE or SB_ENOSPC. */
int sb_conf_parse_addr(const char *s, char *host, size_t hostlen, uint16_t *port);

/* The control socket path: cfg->socket, or <data_dir>/sbems.sock.
 * Returns 0 or SB_ENOSPC. */
int sb_conf_socket_path(const struct sb_config *cfg, char *buf, size_t len);
/* "sqlite": the name of cfg's store.backend, for sb_store_open(). */
const char *sb_conf_backend_name(const struct sb_config *cfg);
/* The log settings of cfg, for sb_log_configure(); strings point into cfg.
 * (sb_log_setup() in core/log.h does this and opens log.file.) */
void sb_conf_log_settings(const struct sb_config *cfg, struct sb_log_settings *out);

#endif /* SB_CONF_H */

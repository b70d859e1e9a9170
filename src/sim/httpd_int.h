/*
 * httpd_int.h - internals of sbems-sim's HTTP face (httpd.h), shared by
 * httpd.c (server, router, control, public API), httpd_proto.c (HTTP/1.1
 * codec), tstat.c (thermostat API and OAuth) and wxapi.c (weather API).
 * Not part of the API.
 *
 * The request parser and the handler are pure (no sockets, no clocks: time
 * comes in as an argument) so the fuzzer (fuzz/fuzz_sim_http.c) and the unit
 * test drive them without a network.
 */
#ifndef SB_SIM_HTTPD_INT_H
#define SB_SIM_HTTPD_INT_H

#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "sim/httpd.h"

#define SH_HEAD_MAX    8192u   /* request line + header fields, bytes */
#define SH_BODY_MAX    65536u  /* request body, bytes */
#define SH_TARGET_MAX  2048u   /* request target, bytes */
#define SH_AUTH_MAX    1024u   /* Authorization value, bytes */
#define SH_FIELDS_MAX  64      /* header fields per request */
#define SH_TOKENS      64      /* live access tokens */
#define SH_PEERS       32      /* client addresses tracked by the rate limiter */
#define SH_TOKEN_LEN   43      /* 32 random bytes, base64url without padding */

/* A parsed request head (all copies: no pointer into the read buffer
 * except body, which the server sets). */
struct sb_shreq {
    char method[16];                   /* "GET" */
    char target[SH_TARGET_MAX + 1];    /* origin-form "/path?query" */
    size_t path_len;                   /* target[0..path_len) is the path */
    int minor;                         /* HTTP/1.<minor> */
    int has_clen;                      /* Content-Length given */
    uint64_t clen;                     /* its value */
    int close;                         /* the connection ends after this one */
    int expect_continue;               /* "Expect: 100-continue" */
    int has_auth;                      /* Authorization given */
    char auth[SH_AUTH_MAX + 1];        /* its value */
    const char *why;                   /* parse error: static reason */
    uint32_t peer;                     /* client IPv4, host order (0: unknown) */
    const char *body;                  /* body bytes (not owned), body_len of them */
    size_t body_len;
};

/* A response being built. */
struct sb_shresp {
    int status;
    char extra[512];                   /* extra header lines, each ending CRLF */
    size_t extra_len;
    char *body;                        /* malloc'd JSON text, or NULL */
    size_t body_len;
    int close;                         /* close the connection after it */
};

/* Thermostat modes and fan speeds, numbered as the profile's enums. */
enum sh_mode { SH_OFF, SH_HEAT, SH_COOL, SH_AUTO, SH_ECO, SH_MODES };
enum sh_fan { SH_FAN_AUTO, SH_FAN_LOW, SH_FAN_MEDIUM, SH_FAN_HIGH, SH_FANS };

/* One thermostat's readings, as the API reports them (rounded). */
struct sh_tvals {
    double temp, rh;                   /* degC (0.1), %RH (0.1) or NaN (no sensor) */
    double htg, clg;                   /* setpoints, degC (0.5) */
    double dem_h, dem_c;               /* demand, % (integers) */
    int occupied;
};

struct sh_tstat {
    char id[16];                       /* "rt-1-01" (the API's device id) */
    char name[96];                     /* "RT-1-01", "HOU-RT-1-01" */
    char zone[32];                     /* "floor1.zone1" */
    char label[48];                    /* "Floor 1 south perimeter" */
    int floor, zone_ix;
    int p_temp, p_mode, p_htg, p_clg, p_occ;          /* plant points (required) */
    int p_rh, p_reheat, p_damper, p_flow, p_static;   /* optional: -1 */
    int p_qmin, p_qmax;                /* optional VAV flow limits, -1 */
    double h_lo, h_hi, c_lo, c_hi;     /* setpoints accepted: the API's 5..35 within the plant's */
    double h_off, c_off;               /* what disables a side: plant minimum / maximum */
    enum sh_mode mode;
    enum sh_fan fan;
    int hold;                          /* manual setpoints in force */
    double hold_h, hold_c;             /* their values */
    int offline;                       /* as of the last sync */
    struct sh_tvals last;              /* values at the last online sync */
    int64_t updated_ms;                /* wall time of that sync */
};

struct sh_token {
    char tok[SH_TOKEN_LEN + 1];        /* "" = free slot */
    int64_t exp_ms;                    /* monotonic expiry */
};

struct sh_peer {
    uint32_t ip;
    int used;
    double level;                      /* tokens in the bucket */
    int64_t t_ms;                      /* last refill, monotonic */
};

struct sb_shconn;

struct sb_simhttp {
    uv_loop_t *loop;
    struct sb_plant *plant;
    struct sb_sim_site_ref site;
    char prefix[72];                   /* device-name prefix: "" or "HOU-" */
    char ip[INET_ADDRSTRLEN];
    int port;
    int listen;
    char client_id[256], client_secret[256];
    char control_token[256];           /* "" = none */
    double max_rps;
    int64_t token_ttl_ms;
    const struct sb_epw *epw;
    double vav_min_frac, static_sp;    /* from the plant config */
    double fc_err;
    uint64_t fc_seed;
    const struct sb_simhttp_ctl *ctl;
    double speed_cfg;
    int64_t sim_ms, wall_ms;           /* last sync */
    int64_t prev_sim_ms, prev_wall_ms; /* the one before (speed) */
    int wx_offline;                    /* WEATHER offline as of the last sync */
    int p_oat, p_dew, p_rh, p_ghi, p_wind;  /* plant weather points */
    struct sh_tstat *ts;
    size_t nts;
    struct sh_token tokens[SH_TOKENS];
    struct sh_peer peers[SH_PEERS];
    /* server */
    uv_tcp_t lsn;
    int lsn_open;                      /* listener initialised, not closed */
    int closing;                       /* sb_simhttp_close() ran */
    struct sb_shconn *conns;           /* live connections */
    unsigned nconns;
};

/* ---- httpd_proto.c and httpd.c ------------------------------------------------------------- */

/* Parses a request head from buf[0..len).  Returns the head's length (> 0)
 * when complete, 0 when more bytes are needed, or -status (-400, -413,
 * -414, -431, -501, -505) with rq->why set.  Pure; never reads past len. */
int sb_simhttp__parse(const char *buf, size_t len, struct sb_shreq *rq);

/* The answer to a parse error (-status from sb_simhttp__parse): JSON, and
 * the connection closes. */
void sb_simhttp__parse_error(struct sb_shresp *out, int status, const char *why);

/* Answers a complete request (rq->body set); mono_ms is a monotonic clock
 * (rate limit, token expiry).  out must be zeroed; its body is malloc'd. */
void sb_simhttp__handle(struct sb_simhttp *h, const struct sb_shreq *rq, int64_t mono_ms,
                        struct sb_shresp *out);

/* Status line, headers and body (none for HEAD) as one malloc'd buffer. */
char *sb_simhttp__render(const struct sb_shresp *r, int head_only, size_t *len);

/* The value of key in an application/x-www-form-urlencoded text (a query
 * string or a form body), decoded into out[cap].  Returns its length, -1
 * when absent, -2 when malformed or too long. */
int sb_simhttp__form_get(const char *s, size_t len, const char *key, char *out, size_t cap);

/* Decodes form encoding ('+', %XX) of s[0..n) into out[cap]; length or -2. */
int sb_simhttp__form_decode(const char *s, size_t n, char *out, size_t cap);
/* Constant-time comparison of two secrets of any length: 1 when equal. */
int sb_simhttp__secret_eq(const char *a, size_t al, const char *b, size_t bl);
/* "2026-01-15T10:42:17Z" */
void sb_simhttp__rfc3339(int64_t ms, char *buf, size_t cap);
/* 1 when the request's method is m (HEAD counts as GET). */
int sb_simhttp__method_is(const struct sb_shreq *rq, const char *m);
/* 405 with Allow. */
void sb_simhttp__not_allowed(struct sb_shresp *out, const char *allow);

/* Replaces every byte outside printable ASCII with '?', in place. */
void sb_simhttp__printable(char *s);

/* Responses: a NULL doc (json_pack failed) becomes a 500 with a body. */
void sb_simhttp__json(struct sb_shresp *out, int status, json_t *doc);   /* steals doc */
void sb_simhttp__err(struct sb_shresp *out, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void sb_simhttp__header(struct sb_shresp *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The body as a JSON object (400 / 422 answered in out otherwise). */
json_t *sb_simhttp__body_object(const struct sb_shreq *rq, struct sb_shresp *out);

/* ---- tstat.c ------------------------------------------------------------- */

int  sb_simhttp__tstat_init(struct sb_simhttp *h, char *err, size_t errlen);
void sb_simhttp__tstat_sync(struct sb_simhttp *h);
/* path: what follows "/thermostat-api/v1" */
void sb_simhttp__tstat_route(struct sb_simhttp *h, const struct sb_shreq *rq, const char *path,
                             size_t plen, int64_t mono_ms, struct sb_shresp *out);
void sb_simhttp__tstat_values(const struct sb_simhttp *h, const struct sh_tstat *t,
                              struct sh_tvals *v);
int  sb_simhttp__tstat_bind(const struct sb_simhttp *h, const json_t *addr);
int  sb_simhttp__tstat_value(const struct sb_simhttp *h, int handle, double *v);
void sb_simhttp__tstat_site(const struct sb_simhttp *h, json_t *equip, json_t *points);
void sb_simhttp__tstat_list(const struct sb_simhttp *h, json_t *arr);
const char *sb_simhttp__api_name(const struct sb_simhttp *h, char *buf, size_t cap);

/* ---- wxapi.c ------------------------------------------------------------- */

int  sb_simhttp__wx_init(struct sb_simhttp *h);
void sb_simhttp__wx_route(struct sb_simhttp *h, const struct sb_shreq *rq, struct sb_shresp *out);
int  sb_simhttp__wx_bind(const struct sb_simhttp *h, const json_t *addr);
int  sb_simhttp__wx_value(const struct sb_simhttp *h, int handle, double *v);
void sb_simhttp__wx_site(const struct sb_simhttp *h, json_t *equip, json_t *points);
/* Cloud cover (%) at a simulated time from the clearness index. */
double sb_simhttp__cloud_pct(const struct sb_epw *w, int64_t sim_ms);

#define SH_WX_HANDLE 0x100000          /* weather handles start here */

#endif /* SB_SIM_HTTPD_INT_H */

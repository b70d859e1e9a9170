/*
 * http_int.h - internals of the HTTP server shared by src/api/http*.c, the
 * unit test and the fuzzer.  Nothing outside src/api/ includes this.
 *
 * http_parse.c  pure functions: the listen address, request routing, query
 *               parameters, and an output buffer that writes JSON.  They
 *               parse bytes from the network: no I/O, no globals, bounded.
 * http_routes.c builds each endpoint's response (status, type, body); the
 *               store-reading ones run on thread-pool threads.
 * http.c        the lws + libuv glue: listener, request lifecycle, writes.
 */
#ifndef SB_API_HTTP_INT_H
#define SB_API_HTTP_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "api/http.h"
#include "store/agg.h"
#include "store/bucket.h"

#define SB_HTTP_MAX_URL       2048u        /* path + query bytes; longer -> 414 */
#define SB_HTTP_WORKERS       3u           /* requests of one server in the thread pool at once
                                              (libuv's pool has 4 threads: one stays free for
                                              WebSocket sign-ins and retention) */
#define SB_HTTP_QUEUE_MAX     512u         /* requests waiting for a worker; more -> 503 */
#define SB_HTTP_RAW_MAX       1000000u     /* most samples one request may ask for (limit) */
#define SB_HTTP_RAW_DEFAULT   10000u       /* limit when the request gives none */
#define SB_HTTP_BUCKETS_MAX   100000u      /* most buckets a series range may span */
#define SB_HTTP_BODY_MAX      (256u << 20) /* hard cap on one response body */

/* What a request path names. */
enum sb_http__route {
    SB_HTTP_R_NONE = 0,        /* no such path: 404 */
    SB_HTTP_R_INDEX,           /* "/" */
    SB_HTTP_R_HEALTHZ,         /* "/healthz" */
    SB_HTTP_R_READYZ,          /* "/readyz" */
    SB_HTTP_R_STATUS,          /* "/api/v1/status" */
    SB_HTTP_R_LATEST,          /* "/api/v1/points/{id}/latest" */
    SB_HTTP_R_SERIES,          /* "/api/v1/points/{id}/series" */
    SB_HTTP_R_BADID            /* a points path whose {id} is not a point id: 400 */
};

/* Map path[0..len) (already percent-decoded and normalised by lws) to a
 * route; *point gets {id} for LATEST and SERIES. */
enum sb_http__route sb_http__route(const char *path, size_t len, uint32_t *point);

/* Parameters of /series after sb_http__series_finish(). */
struct sb_http__series_q {
    enum sb_res      res;      /* resolution, default SB_RES_RAW */
    enum sb_agg_kind kind;     /* how to reduce a bucket to "value", default MEAN */
    int64_t          from, to; /* [from, to) in ms UTC */
    size_t           limit;    /* most samples / buckets to return */
    unsigned         seen;     /* bit per parameter given (to refuse repeats) */
};

void sb_http__series_init(struct sb_http__series_q *q);

/* Take one query fragment "name=value" (as lws hands it: percent-decoded,
 * no '&').  Returns 0 or SB_EINVAL with *why set to a static message. */
int sb_http__series_arg(struct sb_http__series_q *q, const char *frag, size_t len,
                        const char **why);

/* Apply defaults relative to now_ms and check the whole request (from <= to,
 * limit, span).  Returns 0 or SB_EINVAL / SB_ERANGE with *why set. */
int sb_http__series_finish(struct sb_http__series_q *q, int64_t now_ms, const char **why);

/* "mean", "rate", "counter", "state"; -1 if unknown. */
int sb_http__kind_parse(const char *s, size_t len);
const char *sb_http__kind_name(enum sb_agg_kind k);

/* Parse "127.0.0.1:8080" / "[::1]:8080" into *ss (numeric addresses only).
 * Returns 0 or SB_EINVAL. */
int sb_http__parse_listen(const char *listen, struct sockaddr_storage *ss);

/* A growable byte buffer with a ceiling (curl's dynbuf).  Errors stick:
 * after one failed append every later one is a no-op and buf_done() tells,
 * so a response can be written without checking each call. */
struct sb_http__buf {
    char  *p;                  /* bytes (not NUL-terminated), heap */
    size_t len;                /* bytes used */
    size_t cap;                /* bytes allocated */
    size_t max;                /* len may never exceed this */
    int    err;                /* 0, or the first SB_ENOMEM / SB_ENOSPC */
};

void sb_http__buf_init(struct sb_http__buf *b, size_t max);
void sb_http__buf_release(struct sb_http__buf *b);
void sb_http__buf_reset(struct sb_http__buf *b);
int  sb_http__buf_add(struct sb_http__buf *b, const char *s, size_t n);
int  sb_http__buf_puts(struct sb_http__buf *b, const char *s);
int  sb_http__buf_printf(struct sb_http__buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON number that reads back as the same double (shortest of %.15g..%.17g);
 * null for NaN and infinities (RFC 8259 s.6 has no such numbers). */
int  sb_http__buf_num(struct sb_http__buf *b, double v);
/* A JSON string: quotes added, RFC 8259 s.7 escapes for '"', '\\' and controls. */
int  sb_http__buf_jstr(struct sb_http__buf *b, const char *s);
/* Text for HTML content: &, <, >, " and ' escaped. */
int  sb_http__buf_html(struct sb_http__buf *b, const char *s);

#define SB_HTTP_XHDRS 14        /* extra headers one response may carry */

/* A response ready to send. */
struct sb_http__resp {
    int         status;        /* HTTP status code */
    const char *ctype;         /* Content-Type (static string) */
    const char *allow;         /* Allow header (405), static, or NULL */
    int         retry_after;   /* Retry-After seconds (503, 429), 0 = none */
    int         ui;            /* a web UI file: its own CSP and cache headers */
    const char *cache;         /* Cache-Control (static) instead of no-store, or NULL */
    int         gzip;          /* body is gzip-coded (Content-Encoding: gzip) */
    int         fd;            /* >= 0: the body is this file's first flen bytes */
    uint64_t    flen;          /* its length */
    size_t      nx;            /* extra headers used */
    struct {
        const char *name;      /* lower case with ':' ("location:"), static */
        char value[512];       /* its value */
    } x[SB_HTTP_XHDRS];
    struct sb_http__buf body;  /* the body (when fd < 0) */
};

/* Add a header to r (ignored past SB_HTTP_XHDRS or for a too long value). */
void sb_http__hdr(struct sb_http__resp *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* What a thread-pool job needs besides the server's context. */
struct sb_http__job {
    enum sb_http__route route;     /* STATUS, LATEST or SERIES */
    uint32_t point;                /* LATEST, SERIES */
    struct sb_http__series_q q;    /* SERIES */
    int64_t started_ms;            /* STATUS: when the server started */
    uint64_t served;               /* STATUS: requests answered so far */
    uint64_t busy;                 /* STATUS: requests refused with 503 */
    uint64_t accept_errors;        /* STATUS: failed accepts */
};

void sb_http__resp_init(struct sb_http__resp *r);
void sb_http__resp_release(struct sb_http__resp *r);

/* Fill r with a JSON error {"error": msg, "code": code}. */
void sb_http__error(struct sb_http__resp *r, int status, const char *code, const char *msg);

/* Endpoints.  Those taking a job read the store: call them off the loop. */
void sb_http__index(const struct sb_http_ctx *ctx, struct sb_http__resp *r);
void sb_http__healthz(struct sb_http__resp *r);
void sb_http__readyz(const struct sb_http_ctx *ctx, struct sb_http__resp *r);
void sb_http__run_job(const struct sb_http_ctx *ctx, const struct sb_http__job *job,
                      struct sb_http__resp *r);

#endif /* SB_API_HTTP_INT_H */

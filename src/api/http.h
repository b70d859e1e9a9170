/*
 * http.h - the daemon's HTTP server: health probes, status, point readings.
 *
 * A libwebsockets (lws) server on the daemon's own libuv loop.  lws does the
 * HTTP/1.x framing; this module owns the listening socket (bound with libuv
 * to exactly the address given, because lws 4.1 silently binds to every
 * interface when its iface is not a local address), routes requests, and
 * runs every store read on the libuv thread pool (uv_queue_work) so the loop
 * thread never blocks.  Endpoints and formats: docs/internals/http.md.
 *
 * Ownership: the server copies *ctx but not what it points to: the store,
 * the ingest pipeline, the version string and ready()'s user data must stay
 * valid until the loop has run to completion after sb_http_stop() (store
 * reads may still be running on the thread pool when stop returns).
 * Threads: every function here runs on the loop thread; ctx->ready() is
 * called on the loop thread and must not block; store reads and
 * sb_ingest_get_stats() are called from thread-pool threads.
 */
#ifndef SB_API_HTTP_H
#define SB_API_HTTP_H

#include <uv.h>

#include <stdint.h>

struct sb_store_h;      /* store/store.h */
struct sb_ingest;       /* ingest/ingest.h */
struct sb_bus;          /* ingest/bus.h */
struct sb_appdb;        /* db/appdb.h */
struct sb_mhub;         /* model/hub.h */
struct sb_config;       /* core/conf.h */
struct sb_http;         /* opaque server */
struct sb_api;          /* api/api.h */
struct sb_drvmgr;       /* drivers/manager.h */

/* What the endpoints read and use. */
struct sb_alerts;
struct sb_analytics;
struct sb_ctlsvc;
struct sb_lease;

struct sb_http_ctx {
    struct sb_store_h *store;      /* open store (NULL: /readyz says 503) */
    struct sb_ingest *ingest;      /* readings ingest and /api/v1/status; may be NULL */
    struct sb_bus *bus;            /* live readings for WebSockets; may be NULL */
    struct sb_appdb *db;           /* users, tokens, audit; NULL: every signed-in route 503 */
    struct sb_mhub *models;        /* the building model; NULL: model routes 503 */
    struct sb_drvmgr *drivers;     /* device I/O for commands and health; may be NULL */
    struct sb_lease *lease;        /* device leases between nodes; NULL: one node alone */
    struct sb_alerts *alerts;      /* alert rules and life cycle; NULL: alert routes 503 */
    struct sb_analytics *analytics;/* forecasts and zone models; NULL: prediction routes 503 */
    struct sb_ctlsvc *control;     /* supervisory control; NULL: state empty, settings still stored */
    const struct sb_config *cfg;   /* api.*, auth.*, ws.* options; NULL: defaults */
    const char *version;           /* "0.1.0", shown by / and /api/v1/status */
    int (*ready)(void *ud);        /* 1 when store and drivers are ready; NULL: ready once store is set */
    void *ud;                      /* passed to ready() */
    int64_t max_body;              /* largest request body; 0: 4 MiB (from cfg when set) */
    const char *tls_cert;          /* PEM chain and key: HTTPS/WSS only; NULL/"" = plain */
    const char *tls_key;
};

/* Transport counters. */
struct sb_http_stats {
    uint64_t served;               /* responses sent */
    uint64_t busy;                 /* 503 answers for a full queue */
    uint64_t accept_errors;        /* connections we failed to take */
};

/* Start serving on loop.  listen is "ADDR:PORT" with a numeric address:
 * "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080"; port 0 picks a free port
 * (see sb_http_port).  IPv6 listeners are IPv6-only.  On success *out owns
 * the server.  Returns 0, SB_EINVAL (listen malformed, ctx NULL), SB_EIO
 * (address in use or not local, or lws could not start - e.g. its libuv
 * event-lib plugin is missing), SB_ENOMEM.  After a failure the loop may
 * still hold handles being closed: run it before uv_loop_close(). */
int  sb_http_start(uv_loop_t *loop, const char *listen, const struct sb_http_ctx *ctx,
                   struct sb_http **out);

/* The port actually bound (useful after ":0"). */
int  sb_http_port(const struct sb_http *h);

/* 1 when the server speaks TLS (api.tls_cert). */
int  sb_http_tls(const struct sb_http *h);

/* The API behind the server (for the daemon's own calls, e.g. metrics). */
struct sb_api *sb_http_api(struct sb_http *h);

/* Stop: close the listener and every connection (requests in progress get
 * no answer) and destroy the lws context.  Handles close, store reads in
 * the thread pool finish and lws's context is freed over the next loop
 * iterations: the caller then runs the loop until it returns
 * (uv_run(loop, UV_RUN_DEFAULT), after stopping its other handles) before
 * closing the store or the loop; one UV_RUN_NOWAIT pass is not enough.  The
 * server frees itself when the last of them is done.  h may be NULL; call
 * at most once, on the loop thread, never from inside ctx->ready(). */
void sb_http_stop(struct sb_http *h);

#endif /* SB_API_HTTP_H */

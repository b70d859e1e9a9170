/*
 * http.c - the HTTP server's glue between libuv, libwebsockets and the
 * endpoint code (http_routes.c).  Design notes: docs/internals/http.md.
 *
 * Listener: a socket bound with bind(2) to exactly the configured address
 * and watched by a uv_tcp_t; each accepted connection is handed to lws with
 * lws_adopt_socket_vhost().  (lws 4.1.6 binding its own listener would fall
 * back to every interface when iface is not a local address, and crashes in
 * lws_create_context() when the port is taken with a foreign loop: both
 * seen here, so we keep the socket.)
 *
 * Request lifecycle (all on the loop thread except work_cb):
 *   LWS_CALLBACK_HTTP -> struct req; cheap answers are made at once, store
 *   reads go to a FIFO feeding at most WORKERS uv_queue_work() jobs ->
 *   after_work_cb marks the req READY and asks lws for a writable callback ->
 *   LWS_CALLBACK_HTTP_WRITEABLE sends the headers, then the body in CHUNK
 *   pieces, the last with LWS_WRITE_HTTP_FINAL -> the req is freed.
 * A connection that closes meanwhile (LWS_CALLBACK_CLOSED_HTTP) detaches
 * its req: a waiting one is freed, a working one is orphaned (wsi = NULL)
 * and freed by after_work_cb, which never touches the connection then.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <uv.h>

#include "api/http.h"
#include "api/http_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#define WORKERS        2u      /* store reads of one server in the thread pool at once */
#define QUEUE_MAX      256u    /* requests waiting for a worker; more -> 503 */
#define CHUNK          16384u  /* body bytes per lws_write() */
#define WORK_TIMEOUT_S 60      /* a request waiting for the store longer is dropped */
#define SEND_TIMEOUT_S 30      /* a client that takes no bytes for this long is dropped */
#define HDR_DATA       8192u   /* lws header storage per request: the URL must fit */
#define BACKLOG        511     /* listen(2) backlog, as nginx */

enum req_state {
    RQ_NEW = 0,                /* being routed */
    RQ_WAITING,                /* in the FIFO for a worker */
    RQ_WORKING,                /* in the thread pool */
    RQ_READY                   /* response built, being sent */
};

struct req {
    struct sb_http *h;                 /* server */
    struct lws *wsi;                   /* connection; NULL once it is gone */
    struct req **slot;                 /* &pss->req that points at us; NULL once detached */
    struct req *prev, *next;           /* h->live, every request not yet freed */
    struct req *wnext;                 /* h's wait FIFO */
    uv_work_t work;                    /* thread-pool request (work.data unused) */
    enum req_state st;                 /* where it is */
    int head;                          /* HEAD: headers only */
    int close;                         /* close the connection after answering */
    int hdr_sent;                      /* headers written */
    size_t off;                        /* body bytes written */
    struct sb_http__job job;           /* the store read to do */
    struct sb_http__resp resp;         /* the answer */
};

/* lws's per-connection user data (per_session_data_size). */
struct pss {
    struct req *req;                   /* the request being answered, or NULL */
};

struct sb_http {
    uv_loop_t *loop;                   /* the daemon's loop, not owned */
    void *loops[1];                    /* foreign loop list handed to lws */
    struct sb_http_ctx ctx;            /* copy of the caller's context */
    struct lws_context *lws;           /* lws context on loop; NULL once destroy began */
    struct lws_context *lws_live;      /* lws writes NULL here when the context is freed */
    uv_idle_t reaper;                  /* finishes the context's destruction (see reap) */
    int reaping;                       /* reaper initialised and not yet closed */
    struct lws_vhost *vh;              /* its vhost (no listener of its own) */
    uv_tcp_t listener;                 /* our listening socket */
    int listening;                     /* listener handle initialised and not yet closed */
    int port;                          /* port bound */
    int stopping;                      /* sb_http_stop() was called */
    int64_t started_ms;                /* wall clock at start */
    struct req *live;                  /* requests not yet freed */
    struct req *whead, *wtail;         /* FIFO of requests waiting for a worker */
    unsigned waiting;                  /* its length */
    unsigned working;                  /* requests in the thread pool */
    uint64_t served;                   /* responses sent */
    uint64_t busy;                     /* 503 answers for a full queue */
    uint64_t accept_errors;            /* connections we failed to take */
};

static void maybe_free(struct sb_http *h)
{
    if (h->stopping && !h->listening && !h->reaping && h->working == 0)
        free(h);
}

/* ---- request bookkeeping ----------------------------------------------- */

static struct req *req_new(struct sb_http *h, struct lws *wsi, struct pss *pss)
{
    struct req *rq = calloc(1, sizeof(*rq));

    if (!rq)
        return NULL;
    rq->h = h;
    rq->wsi = wsi;
    rq->slot = &pss->req;
    pss->req = rq;
    sb_http__resp_init(&rq->resp);
    rq->next = h->live;
    if (h->live)
        h->live->prev = rq;
    h->live = rq;
    return rq;
}

static void req_free(struct req *rq)
{
    struct sb_http *h = rq->h;

    if (rq->slot)
        *rq->slot = NULL;
    if (rq->prev)
        rq->prev->next = rq->next;
    else
        h->live = rq->next;
    if (rq->next)
        rq->next->prev = rq->prev;
    sb_http__resp_release(&rq->resp);
    free(rq);
}

static void fifo_remove(struct sb_http *h, struct req *rq)
{
    struct req **pp = &h->whead, *prev = NULL;

    while (*pp && *pp != rq) {
        prev = *pp;
        pp = &(*pp)->wnext;
    }
    if (!*pp)
        return;
    *pp = rq->wnext;
    if (h->wtail == rq)
        h->wtail = prev;
    h->waiting--;
}

/* The connection is going away (or the server is stopping): forget it.  A
 * request in the thread pool stays allocated until its after-work. */
static void req_detach(struct req *rq)
{
    if (rq->slot)
        *rq->slot = NULL;
    rq->slot = NULL;
    rq->wsi = NULL;
    if (rq->st == RQ_WORKING)
        return;
    if (rq->st == RQ_WAITING)
        fifo_remove(rq->h, rq);
    req_free(rq);
}

/* ---- sending ----------------------------------------------------------- */

/* Ask lws to call us back when the connection can take the response. */
static void respond(struct req *rq)
{
    rq->st = RQ_READY;
    lws_set_timeout(rq->wsi, PENDING_TIMEOUT_USER_OK, SEND_TIMEOUT_S);
    lws_callback_on_writable(rq->wsi);
}

static void respond_error(struct req *rq, int status, const char *code, const char *msg)
{
    sb_http__error(&rq->resp, status, code, msg);
    respond(rq);
}

/* Headers every answer carries: the answers are live data and API output,
 * never to be cached, sniffed, framed or leak the URL in a Referer. */
static const struct {
    const char *name;                  /* lower case, with ':' (lws, RFC 9113 s.8.2.1) */
    const char *value;                 /* its value */
} sec_hdrs[] = {
    { "x-content-type-options:", "nosniff" },          /* WHATWG Fetch, "X-Content-Type-Options" */
    { "cache-control:", "no-store" },                  /* RFC 9111 s.5.2.2.5 */
    { "x-frame-options:", "DENY" },                    /* RFC 7034 */
    { "referrer-policy:", "no-referrer" },             /* W3C Referrer Policy s.3.1 */
    { "content-security-policy:", "default-src 'none'; frame-ancestors 'none'" },
};

static int add_hdr(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                   unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int send_headers(struct req *rq)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start;
    unsigned char *end = buf + sizeof(buf) - 1;
    const struct sb_http__resp *r = &rq->resp;
    char ra[16];

    if (lws_add_http_common_headers(rq->wsi, (unsigned)r->status, r->ctype, r->body.len, &p, end))
        return -1;
    for (size_t i = 0; i < sizeof(sec_hdrs) / sizeof(sec_hdrs[0]); i++)
        if (add_hdr(rq->wsi, sec_hdrs[i].name, sec_hdrs[i].value, &p, end))
            return -1;
    if (r->allow && add_hdr(rq->wsi, "allow:", r->allow, &p, end))
        return -1;
    snprintf(ra, sizeof(ra), "%d", r->retry_after);
    if (r->retry_after && add_hdr(rq->wsi, "retry-after:", ra, &p, end))
        return -1;
    if (rq->close && add_hdr(rq->wsi, "connection:", "close", &p, end))
        return -1;
    return lws_finalize_write_http_header(rq->wsi, start, &p, end) ? -1 : 0;
}

/* The response is out: free the request, then keep the connection for the
 * next one unless it must close.  Returns what the lws callback returns. */
static int finish(struct req *rq)
{
    struct lws *wsi = rq->wsi;
    int close = rq->close;

    rq->h->served++;
    req_free(rq);
    lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int send_body(struct req *rq)
{
    unsigned char buf[LWS_PRE + CHUNK];
    const struct sb_http__buf *b = &rq->resp.body;
    size_t n = b->len - rq->off < CHUNK ? b->len - rq->off : CHUNK;
    int final = rq->off + n == b->len;

    memcpy(buf + LWS_PRE, b->p + rq->off, n);
    if (lws_write(rq->wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP)
        != (int)n)
        return -1;
    rq->off += n;
    if (final)
        return finish(rq);
    lws_set_timeout(rq->wsi, PENDING_TIMEOUT_USER_OK, SEND_TIMEOUT_S);
    lws_callback_on_writable(rq->wsi);
    return 0;
}

/* One write per writable callback (lws's rule, needed for HTTP/2). */
static int on_writable(struct pss *pss)
{
    struct req *rq = pss ? pss->req : NULL;

    if (!rq || rq->st != RQ_READY)
        return 0;
    if (rq->hdr_sent)
        return send_body(rq);
    if (send_headers(rq))
        return -1;
    rq->hdr_sent = 1;
    if (rq->head || rq->resp.body.len == 0)
        return finish(rq);
    lws_callback_on_writable(rq->wsi);
    return 0;
}

/* ---- the thread pool --------------------------------------------------- */

static void work_cb(uv_work_t *w)
{
    struct req *rq = (struct req *)((char *)w - offsetof(struct req, work));

    sb_http__run_job(&rq->h->ctx, &rq->job, &rq->resp);
}

static void pump(struct sb_http *h);

static void after_work_cb(uv_work_t *w, int status)
{
    struct req *rq = (struct req *)((char *)w - offsetof(struct req, work));
    struct sb_http *h = rq->h;

    h->working--;
    rq->st = RQ_READY;
    if (!rq->wsi) {
        req_free(rq);                  /* connection gone meanwhile */
    } else {
        if (status)
            sb_http__error(&rq->resp, 500, "internal", "store read cancelled");
        respond(rq);
    }
    pump(h);
    maybe_free(h);
}

static void start_work(struct req *rq)
{
    struct sb_http *h = rq->h;

    rq->st = RQ_WORKING;
    h->working++;
    if (uv_queue_work(h->loop, &rq->work, work_cb, after_work_cb) != 0) {
        h->working--;
        respond_error(rq, 500, "internal", "could not queue the store read");
    }
}

/* Start waiting requests while workers are free. */
static void pump(struct sb_http *h)
{
    while (!h->stopping && h->working < WORKERS && h->whead) {
        struct req *rq = h->whead;
        h->whead = rq->wnext;
        if (!h->whead)
            h->wtail = NULL;
        h->waiting--;
        rq->wnext = NULL;
        start_work(rq);
    }
}

static void enqueue(struct req *rq)
{
    struct sb_http *h = rq->h;

    rq->job.started_ms = h->started_ms;
    rq->job.served = h->served;
    rq->job.busy = h->busy;
    rq->job.accept_errors = h->accept_errors;
    lws_set_timeout(rq->wsi, PENDING_TIMEOUT_USER_OK, WORK_TIMEOUT_S);
    if (h->working < WORKERS) {
        start_work(rq);
    } else if (h->waiting < QUEUE_MAX) {
        rq->st = RQ_WAITING;
        if (h->wtail)
            h->wtail->wnext = rq;
        else
            h->whead = rq;
        h->wtail = rq;
        h->waiting++;
    } else {
        h->busy++;
        rq->resp.retry_after = 1;
        respond_error(rq, 503, "busy", "too many requests in progress, retry shortly");
    }
}

/* ---- routing ----------------------------------------------------------- */

/* A request body on GET/HEAD: Content-Length other than 0, or any
 * Transfer-Encoding (RFC 9112 s.6.1).  We never read one. */
static int has_body(struct lws *wsi)
{
    char cl[4];
    int n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);

    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        return 1;
    if (n <= 0)
        return 0;
    return n != 1 || lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) != 1 ||
           cl[0] != '0';
}

/* Feed every query fragment to the /series parser. */
static int series_args(struct lws *wsi, struct sb_http__series_q *q, const char **why)
{
    char frag[SB_HTTP_MAX_URL + 1];
    int rc = 0;

    sb_http__series_init(q);
    for (int i = 0; rc == 0; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        rc = sb_http__series_arg(q, frag, (size_t)n, why);
    }
    return rc ? rc : sb_http__series_finish(q, sb_now_ms(), why);
}

/* Answer or queue a request with a known route and method GET/HEAD. */
static void dispatch(struct req *rq, enum sb_http__route route)
{
    const char *why = "bad request";
    struct sb_http *h = rq->h;

    switch (route) {
    case SB_HTTP_R_INDEX:
        sb_http__index(&h->ctx, &rq->resp);
        respond(rq);
        return;
    case SB_HTTP_R_HEALTHZ:
        sb_http__healthz(&rq->resp);
        respond(rq);
        return;
    case SB_HTTP_R_READYZ:
        sb_http__readyz(&h->ctx, &rq->resp);
        respond(rq);
        return;
    case SB_HTTP_R_BADID:
        respond_error(rq, 400, "bad_request", "point id must be a whole number (0 to 4294967295)");
        return;
    case SB_HTTP_R_SERIES:
        if (series_args(rq->wsi, &rq->job.q, &why)) {
            respond_error(rq, 400, "bad_request", why);
            return;
        }
        break;
    default:
        break;
    }
    rq->job.route = route;
    enqueue(rq);
}

static int on_http(struct lws *wsi, struct pss *pss)
{
    struct sb_http *h = lws_context_user(lws_get_context(wsi));
    char *uri;
    int ulen;

    if (!h || h->stopping)
        return -1;
    if (pss->req)
        req_detach(pss->req);
    struct req *rq = req_new(h, wsi, pss);
    if (!rq)
        return -1;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    int get = m == LWSHUMETH_GET || m == LWSHUMETH_HEAD;
    rq->head = m == LWSHUMETH_HEAD;
    rq->close = has_body(wsi);         /* we do not read it: the connection can't be reused */
    enum sb_http__route route = m < 0 ? SB_HTTP_R_NONE
                              : sb_http__route(uri, (size_t)ulen, &rq->job.point);
    if (m >= 0 && (size_t)ulen + (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) >
                      SB_HTTP_MAX_URL)
        respond_error(rq, 414, "uri_too_long", "URL longer than 2048 bytes");
    else if (route == SB_HTTP_R_NONE)
        respond_error(rq, 404, "not_found", "no such path");
    else if (!get) {
        rq->resp.allow = "GET, HEAD";
        respond_error(rq, 405, "method_not_allowed", "only GET and HEAD are allowed");
    } else if (rq->close)
        respond_error(rq, 400, "bad_request", "a GET request takes no body");
    else
        dispatch(rq, route);
    return 0;
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(pss);
    case LWS_CALLBACK_HTTP_BODY:
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        /* Refused already (the connection closes after the answer); lws's
         * default would end the transaction under our feet. */
        return 0;
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss && pss->req)
            req_detach(pss->req);
        break;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- listener ---------------------------------------------------------- */

static void free_handle(uv_handle_t *hd)
{
    free(hd);
}

/* libuv accepted a connection: give lws its own descriptor for it. */
static void on_connection(uv_stream_t *server, int status)
{
    struct sb_http *h = server->data;
    uv_os_fd_t fd;
    uv_tcp_t *c;

    if (status < 0 || !(c = malloc(sizeof(*c)))) {
        h->accept_errors++;
        SB_WARN("http", "accept failed: %s", status < 0 ? uv_strerror(status) : "out of memory");
        return;
    }
    uv_tcp_init(h->loop, c);
    int mine = -1;
    if (uv_accept(server, (uv_stream_t *)c) == 0 && uv_fileno((uv_handle_t *)c, &fd) == 0)
        mine = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    uv_close((uv_handle_t *)c, free_handle);   /* closes libuv's copy only */
    /* Headers and body go out as two writes: without TCP_NODELAY, Nagle's
     * algorithm holds the second until the client's delayed ACK (RFC 1122
     * s.4.2.3.2, ~40 ms on Linux) - measured here: ~25 requests/s on a
     * keep-alive connection instead of ~20,000.  lws leaves adopted
     * sockets as they are. */
    if (mine >= 0)
        setsockopt(mine, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
    /* lws_adopt_socket_vhost() closes the descriptor itself when it fails. */
    if (mine < 0 || !lws_adopt_socket_vhost(h->vh, mine)) {
        h->accept_errors++;
        SB_WARN("http", "could not take a connection (descriptors or memory exhausted)");
    }
}

static void on_listener_closed(uv_handle_t *hd)
{
    struct sb_http *h = hd->data;

    h->listening = 0;
    maybe_free(h);
}

/* bind(2) + listen(2) exactly ss: errors show here, synchronously. */
static int open_socket(const struct sockaddr_storage *ss, int *port)
{
    struct sockaddr_storage got;
    socklen_t gl = sizeof(got);
    const int one = 1;
    socklen_t sl = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                             : sizeof(struct sockaddr_in);
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    /* SO_REUSEADDR: restart while old connections sit in TIME_WAIT (on
     * Linux it never lets two sockets listen on one port). */
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&got, &gl) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(got.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&got)->sin6_port
                                            : ((struct sockaddr_in *)&got)->sin_port);
    return fd;
}

/* Hand the listening socket to libuv.  After uv_tcp_init() the handle must
 * be closed through the loop, so h->listening says it exists. */
static int watch_socket(struct sb_http *h, int fd)
{
    if (uv_tcp_init(h->loop, &h->listener) != 0) {
        close(fd);
        return SB_EIO;
    }
    h->listening = 1;
    h->listener.data = h;
    if (uv_tcp_open(&h->listener, fd) != 0) {
        close(fd);
        return SB_EIO;
    }
    return uv_listen((uv_stream_t *)&h->listener, BACKLOG, on_connection) ? SB_EIO : 0;
}

/* ---- finishing lws ----------------------------------------------------- */

/*
 * With a foreign libuv loop, lws_context_destroy() only starts closing: the
 * handles close over the next loop iterations.  lws 4.2+ then frees the
 * context by itself (and writes NULL to info.pcontext).  lws 4.1 does not:
 * it waits for lws_context_destroy() to be called again once its handles
 * are closed, else the context leaks (LeakSanitizer showed it here).  Its
 * static handles (idle, timers) carry the context in handle->data and close
 * after every connection's handle; when none is left in the loop, the
 * second call frees the context without touching the loop (measured:
 * uv_walk() finds no handle before or after it).  An idle handle checks
 * once per iteration, which also keeps the loop from blocking meanwhile.
 */
/* uv_walk() scratch: the context looked for, handles found. */
struct walk {
    const void *ctx;                   /* lws context */
    int found;                         /* handles whose data is ctx */
};

static void count_lws_handle(uv_handle_t *hd, void *arg)
{
    struct walk *w = arg;

    w->found += hd->data == w->ctx;
}

static int lws_handles_left(struct sb_http *h)
{
    struct walk w = { h->lws_live, 0 };

    uv_walk(h->loop, count_lws_handle, &w);
    return w.found;
}

static void on_reaper_closed(uv_handle_t *hd)
{
    struct sb_http *h = hd->data;

    h->reaping = 0;
    maybe_free(h);
}

static void reap(uv_idle_t *idle)
{
    struct sb_http *h = idle->data;

    if (h->lws_live) {
#if LWS_LIBRARY_VERSION_MAJOR == 4 && LWS_LIBRARY_VERSION_MINOR < 2
        if (lws_handles_left(h))
            return;
        lws_context_destroy(h->lws_live);
        h->lws_live = NULL;
#else
        return;
#endif
    }
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, on_reaper_closed);
}

/* Begin destroying the lws context; reap() ends it. */
static void lws_stop(struct sb_http *h)
{
    if (!h->lws)
        return;
    lws_context_destroy(h->lws);
    h->lws = NULL;
    if (!h->lws_live)
        return;
    uv_idle_init(h->loop, &h->reaper);
    h->reaper.data = h;
    h->reaping = 1;
    uv_idle_start(&h->reaper, reap);
}

/* ---- start / stop ------------------------------------------------------ */

/* lws's own log lines (one call site, so the log's rate limit caps them:
 * a client can make lws complain, e.g. "Ran out of header data space"). */
static void lws_emit(int level, const char *line)
{
    size_t n = strlen(line);

    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    if (level & LLL_ERR)
        SB_ERR("http", "lws: %.*s", (int)n, line);
    else
        SB_WARN("http", "lws: %.*s", (int)n, line);
}

static const struct lws_protocols protocols[] = {
    { "http", http_cb, sizeof(struct pss), 0, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }   /* 4.1.6 has no LWS_PROTOCOL_LIST_TERM */
};

static int lws_start(struct sb_http *h)
{
    struct lws_context_creation_info info;

    memset(&info, 0, sizeof(info));
    h->loops[0] = h->loop;
    info.port = CONTEXT_PORT_NO_LISTEN_SERVER;   /* we adopt accepted sockets */
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = h->loops;
    info.pcontext = &h->lws_live;
    info.user = h;
    info.server_string = "sbems";
    info.max_http_header_data = HDR_DATA;
    info.gid = -1;
    info.uid = -1;
    /* lws's log setting is process-wide: errors and warnings, to our log. */
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_emit);
    h->lws = h->lws_live = lws_create_context(&info);
    if (!h->lws)
        return SB_EIO;
    h->vh = lws_get_vhost_by_name(h->lws, "default");
    return h->vh ? 0 : SB_EIO;
}

int sb_http_start(uv_loop_t *loop, const char *listen, const struct sb_http_ctx *ctx,
                  struct sb_http **out)
{
    struct sockaddr_storage ss;
    struct sb_http *h;
    int rc, fd;

    if (out)
        *out = NULL;
    if (!loop || !ctx || !out || sb_http__parse_listen(listen, &ss))
        return SB_EINVAL;
    if (!(h = calloc(1, sizeof(*h))))
        return SB_ENOMEM;
    h->loop = loop;
    h->ctx = *ctx;
    h->started_ms = sb_now_ms();
    if ((fd = open_socket(&ss, &h->port)) < 0) {
        free(h);
        return SB_EIO;
    }
    if ((rc = lws_start(h)) != 0) {
        close(fd);
        goto out;
    }
    rc = watch_socket(h, fd);
out:
    if (rc) {
        sb_http_stop(h);               /* frees h now or once its handle closes */
        return rc;
    }
    *out = h;
    return 0;
}

int sb_http_port(const struct sb_http *h)
{
    return h ? h->port : -1;
}

void sb_http_stop(struct sb_http *h)
{
    struct req *rq, *nx;

    if (!h || h->stopping)
        return;
    h->stopping = 1;
    for (rq = h->live; rq; rq = nx) {
        nx = rq->next;
        req_detach(rq);                /* nothing may reach h through lws now */
    }
    if (h->listening)
        uv_close((uv_handle_t *)&h->listener, on_listener_closed);
    lws_stop(h);
    maybe_free(h);
}

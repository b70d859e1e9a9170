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
#include "api/api.h"
#include "api/gz.h"
#include "api/http_int.h"
#include "api/ws.h"
#include "core/cidr.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"

#define WORKERS        SB_HTTP_WORKERS
#define QUEUE_MAX      SB_HTTP_QUEUE_MAX
#define CHUNK          16384u  /* body bytes per lws_write() */
#define WORK_TIMEOUT_S 60      /* a request waiting for the store longer is dropped */
#define SEND_TIMEOUT_S 30      /* a client that takes no bytes for this long is dropped */
#define BODY_TIMEOUT_S 30      /* a request body must arrive within this */
#define HDR_DATA       16384u  /* lws header storage per request: URL, token, cookies */
#define BACKLOG        511     /* listen(2) backlog, as nginx */

enum req_state {
    RQ_NEW = 0,                /* being routed */
    RQ_BODY,                   /* reading the request body */
    RQ_WAITING,                /* in the FIFO for a worker */
    RQ_WORKING,                /* in the thread pool */
    RQ_HELD,                   /* waiting for an answer made later (a device write) */
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
    int close;                         /* close the connection after answering */
    int hdr_sent;                      /* headers written */
    uint64_t off;                      /* body bytes written */
    size_t want;                       /* request body bytes announced (Content-Length) */
    int timed;                         /* we armed an lws timeout on the connection */
    uint64_t t0;                       /* uv_hrtime() at arrival */
    struct sb_req r;                   /* what the API sees and answers */
};

/* lws's per-connection user data (per_session_data_size). */
struct pss {
    struct req *req;                   /* the request being answered, or NULL */
    struct sb_ws_client *wc;           /* a WebSocket connection's client, or NULL */
    char ip[64];                       /* peer address, looked up once per connection */
};

struct sb_http {
    uv_loop_t *loop;                   /* the daemon's loop, not owned */
    void *loops[1];                    /* foreign loop list handed to lws */
    struct sb_http_ctx ctx;            /* copy of the caller's context */
    struct sb_api *api;                /* the API behind the transport */
    struct lws_context *lws;           /* lws context on loop; NULL once destroy began */
    struct lws_context *lws_live;      /* lws writes NULL here when the context is freed */
    uv_idle_t reaper;                  /* finishes the context's destruction (see reap) */
    int reaping;                       /* reaper initialised and not yet closed */
    struct lws_vhost *vh;              /* its vhost (no listener of its own) */
    uv_tcp_t listener;                 /* our listening socket */
    int listening;                     /* listener handle initialised and not yet closed */
    int port;                          /* port bound */
    int tls;                           /* the vhost speaks TLS */
    int stopping;                      /* sb_http_stop() was called */
    struct req *in_cb;                 /* request whose lws HTTP callback is running */
    int64_t started_ms;                /* wall clock at start */
    struct req *live;                  /* requests not yet freed */
    struct req *whead, *wtail;         /* FIFO of requests waiting for a worker */
    unsigned waiting;                  /* its length */
    unsigned working;                  /* requests in the thread pool */
    unsigned held;                     /* requests waiting for a later answer */
    struct sb_http_stats st;           /* counters */
    struct sb_cidrs proxies;           /* api.trusted_proxies: whose X-Forwarded-For counts */
};

static void maybe_free(struct sb_http *h)
{
    if (h->stopping && !h->listening && !h->reaping && h->working == 0 && h->held == 0 &&
        sb_api__idle(h->api)) {
        sb_api__free(h->api);
        free(h);
    }
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
    rq->t0 = uv_hrtime();
    pss->req = rq;
    sb_http__resp_init(&rq->r.resp);
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
    sb_api__req_release(h->api, &rq->r);
    sb_http__resp_release(&rq->r.resp);
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
    if (rq->st == RQ_WORKING || rq->st == RQ_HELD)
        return;                        /* freed when the work or the answer comes */
    if (rq->st == RQ_WAITING)
        fifo_remove(rq->h, rq);
    req_free(rq);
}

/* ---- sending ----------------------------------------------------------- */

/* Ask lws to call us back when the connection can take the response. */
static void respond(struct req *rq)
{
    rq->st = RQ_READY;
    if (rq->h->in_cb == rq)
        return;                        /* the HTTP callback writes it (write_now) */
    rq->timed = 1;
    lws_set_timeout(rq->wsi, PENDING_TIMEOUT_USER_OK, SEND_TIMEOUT_S);
    lws_callback_on_writable(rq->wsi);
}

static void respond_error(struct req *rq, int status, const char *code, const char *msg)
{
    sb_http__error(&rq->r.resp, status, code, msg);
    respond(rq);
}

/* Headers every API answer carries: live data and API output, never to be
 * cached, sniffed, framed or leak the URL in a Referer. */
static const struct {
    const char *name;                  /* lower case, with ':' (lws, RFC 9113 s.8.2.1) */
    const char *value;                 /* its value */
} sec_hdrs[] = {
    { "x-content-type-options:", "nosniff" },          /* WHATWG Fetch, "X-Content-Type-Options" */
    { "x-frame-options:", "DENY" },                    /* RFC 7034 */
    { "referrer-policy:", "no-referrer" },             /* W3C Referrer Policy s.3.1 */
    { "cross-origin-opener-policy:", "same-origin" },  /* HTML s.7.1.3 */
};

/* The web UI's policy: its own scripts, styles and API only (Vite emits
 * no inline script; Recharts sets inline styles). */
#define UI_CSP "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
               "img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; " \
               "base-uri 'none'; form-action 'self'"
#define API_CSP "default-src 'none'; frame-ancestors 'none'"

static int add_hdr(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                   unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static uint64_t body_len(const struct sb_http__resp *r)
{
    return r->fd >= 0 ? r->flen : r->body.len;
}

/* Every header of the answer into [*p, end); lws's content-length
 * bookkeeping only when the body follows in separate writes (track). */
static int build_headers(struct req *rq, int track, unsigned char **p, unsigned char *end)
{
    const struct sb_http__resp *r = &rq->r.resp;
    char num[24];
    int n;

    if (track) {
        if (lws_add_http_common_headers(rq->wsi, (unsigned)r->status, r->ctype, body_len(r), p, end))
            return -1;
    } else {
        n = snprintf(num, sizeof(num), "%llu", (unsigned long long)body_len(r));
        if (lws_add_http_header_status(rq->wsi, (unsigned)r->status, p, end) ||
            lws_add_http_header_by_token(rq->wsi, WSI_TOKEN_HTTP_CONTENT_TYPE,
                                         (const unsigned char *)r->ctype, (int)strlen(r->ctype),
                                         p, end))
            return -1;
        /* RFC 9110 s.8.6: never a Content-Length on a 204 */
        if (r->status != 204 &&
            lws_add_http_header_by_token(rq->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                         (const unsigned char *)num, n, p, end))
            return -1;
    }
    for (size_t i = 0; i < sizeof(sec_hdrs) / sizeof(sec_hdrs[0]); i++)
        if (add_hdr(rq->wsi, sec_hdrs[i].name, sec_hdrs[i].value, p, end))
            return -1;
    if (add_hdr(rq->wsi, "content-security-policy:", r->ui ? UI_CSP : API_CSP, p, end) ||
        add_hdr(rq->wsi, "cache-control:", r->cache ? r->cache : "no-store", p, end))
        return -1;
    /* RFC 6797: only over TLS, else it is ignored (and misleading). */
    if (rq->h->tls && add_hdr(rq->wsi, "strict-transport-security:", "max-age=31536000", p, end))
        return -1;
    if (r->gzip && (add_hdr(rq->wsi, "content-encoding:", "gzip", p, end)))
        return -1;
    if (r->allow && add_hdr(rq->wsi, "allow:", r->allow, p, end))
        return -1;
    snprintf(num, sizeof(num), "%d", r->retry_after);
    if (r->retry_after && add_hdr(rq->wsi, "retry-after:", num, p, end))
        return -1;
    for (size_t i = 0; i < r->nx; i++)
        if (add_hdr(rq->wsi, r->x[i].name, r->x[i].value, p, end))
            return -1;
    rq->close |= rq->r.close;
    if (rq->close && add_hdr(rq->wsi, "connection:", "close", p, end))
        return -1;
    return 0;
}

static int send_headers(struct req *rq)
{
    unsigned char buf[LWS_PRE + 8192], *start = buf + LWS_PRE, *p = start;
    unsigned char *end = buf + sizeof(buf) - 1;

    if (build_headers(rq, 1, &p, end))
        return -1;
    return lws_finalize_write_http_header(rq->wsi, start, &p, end) ? -1 : 0;
}

static int finish(struct req *rq);

/* A small answer (up to CHUNK bytes from memory) goes as one write of
 * headers and body: one send(2) and no second writable round trip, which
 * measured here saves about a third of the loop's time per request (each
 * round trip re-arms the socket in epoll twice).  Returns -1 if the answer
 * does not qualify (then the caller sends it the usual way), else what the
 * lws callback must return. */
static int write_now(struct req *rq, int *rc)
{
    unsigned char buf[LWS_PRE + 8192 + CHUNK], *start = buf + LWS_PRE, *p = start;
    unsigned char *end = buf + LWS_PRE + 8192;
    const struct sb_http__resp *r = &rq->r.resp;
    size_t n = rq->r.head ? 0 : r->body.len;

    if (r->fd >= 0 || n > CHUNK || lws_get_network_wsi(rq->wsi) != rq->wsi ||
        lws_partial_buffered(rq->wsi))
        return -1;
    if (build_headers(rq, 0, &p, end) || lws_finalize_http_header(rq->wsi, &p, end)) {
        *rc = -1;
        return 0;
    }
    if (n) {
        memcpy(p, r->body.p, n);
        p += n;
    }
    /* h1: LWS_WRITE_HTTP_HEADERS is a raw write of the whole block. */
    if (lws_write(rq->wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_HEADERS) !=
        (int)(p - start)) {
        *rc = -1;
        return 0;
    }
    rq->hdr_sent = 1;
    *rc = finish(rq);
    return 0;
}

/* The response is out: free the request, then keep the connection for the
 * next one unless it must close.  Returns what the lws callback returns. */
static int finish(struct req *rq)
{
    struct lws *wsi = rq->wsi;
    int close = rq->close;

    int timed = rq->timed;

    rq->h->st.served++;
    sb_api__done(rq->h->api, &rq->r, uv_hrtime() - rq->t0);
    req_free(rq);
    if (timed)
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
    if (close)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int send_body(struct req *rq)
{
    unsigned char buf[LWS_PRE + CHUNK];
    const struct sb_http__resp *r = &rq->r.resp;
    uint64_t total = body_len(r);
    size_t n = total - rq->off < CHUNK ? (size_t)(total - rq->off) : CHUNK;
    int final = rq->off + n == total;

    if (r->fd >= 0) {
        /* An export just written to a temporary file: in the page cache. */
        ssize_t got = pread(r->fd, buf + LWS_PRE, n, (off_t)rq->off);
        if (got != (ssize_t)n)
            return -1;
    } else {
        memcpy(buf + LWS_PRE, r->body.p + rq->off, n);
    }
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
    int rc;
    if (write_now(rq, &rc) == 0)
        return rc;
    if (send_headers(rq))
        return -1;
    rq->hdr_sent = 1;
    if (rq->r.head || body_len(&rq->r.resp) == 0)
        return finish(rq);
    lws_callback_on_writable(rq->wsi);
    return 0;
}

/* ---- the thread pool --------------------------------------------------- */

static void work_cb(uv_work_t *w)
{
    struct req *rq = (struct req *)((char *)w - offsetof(struct req, work));

    sb_api__run(rq->h->api, &rq->r);
}

static void pump(struct sb_http *h);

static void dispatch_result(struct req *rq, int d);

/* A loop route whose user had to be loaded on the pool first. */
static void loop_again(struct req *rq)
{
    dispatch_result(rq, sb_api__loop_again(rq->h->api, &rq->r));
}

static void after_work_cb(uv_work_t *w, int status)
{
    struct req *rq = (struct req *)((char *)w - offsetof(struct req, work));
    struct sb_http *h = rq->h;

    h->working--;
    rq->st = RQ_READY;
    if (!rq->wsi) {
        req_free(rq);                  /* connection gone meanwhile */
    } else if (!status && rq->r.loop_again) {
        loop_again(rq);                /* the user is loaded: a loop route's handler now */
    } else {
        if (status)
            sb_http__error(&rq->r.resp, 500, "internal", "request cancelled");
        sb_api__after(h->api, &rq->r);
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
        respond_error(rq, 500, "internal", "could not queue the request");
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

    rq->timed = 1;
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
        h->st.busy++;
        rq->r.resp.retry_after = 1;
        respond_error(rq, 503, "busy", "too many requests in progress, retry shortly");
    }
}

/* ---- reading a request ------------------------------------------------- */

static unsigned method_bit(int m)
{
    switch (m) {
    case LWSHUMETH_GET: return SB_M_GET;
    case LWSHUMETH_HEAD: return SB_M_HEAD;
    case LWSHUMETH_POST: return SB_M_POST;
    case LWSHUMETH_PUT: return SB_M_PUT;
    case LWSHUMETH_PATCH: return SB_M_PATCH;
    case LWSHUMETH_DELETE: return SB_M_DELETE;
    case LWSHUMETH_OPTIONS: return SB_M_OPTIONS;
    default: return 0;
    }
}

/* Copy a header, truncated to cap - 1; "" when absent.  Returns its full
 * length (so a caller can refuse an oversized one) or 0. */
static int hdr(struct lws *wsi, enum lws_token_indexes t, char *buf, size_t cap)
{
    int n = lws_hdr_total_length(wsi, t);

    buf[0] = '\0';
    if (n <= 0)
        return 0;
    if ((size_t)n < cap)
        lws_hdr_copy(wsi, buf, (int)cap, t);
    return n;
}

/* Every query fragment "name=value" into the request's query table. */
static void copy_query(struct lws *wsi, struct sb_req *r)
{
    char frag[SB_HTTP_MAX_URL + 1];

    for (int i = 0; !r->qoverflow; i++) {
        int n = lws_hdr_copy_fragment(wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        if (n > 0)
            sb_req_add_query(r, frag, (size_t)n);
    }
}

/* Content-Length as a number: -1 absent, -2 malformed. */
static long long content_length(struct lws *wsi)
{
    char cl[24];
    int n = hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl));
    long long v = 0;

    if (n == 0)
        return -1;
    if (n >= (int)sizeof(cl) - 1)
        return -2;
    for (int i = 0; i < n; i++) {
        if (cl[i] < '0' || cl[i] > '9')
            return -2;
        v = v * 10 + (cl[i] - '0');
    }
    return v;
}

/* Hand a complete request to the API. */
static void dispatch(struct req *rq)
{
    dispatch_result(rq, sb_api__handle(rq->h->api, &rq->r));
}

/* What the API decided: to the pool, held for a later answer, or done. */
static void dispatch_result(struct req *rq, int d)
{
    if (d == SB_API_POOL) {
        enqueue(rq);
    } else if (d == SB_API_HOLD) {
        rq->st = RQ_HELD;
        rq->h->held++;
        rq->timed = 1;
        lws_set_timeout(rq->wsi, PENDING_TIMEOUT_USER_OK, WORK_TIMEOUT_S);
    } else {
        respond(rq);
    }
}

void sb_http_resume(struct sb_req *r)
{
    struct req *rq = (struct req *)((char *)r - offsetof(struct req, r));
    struct sb_http *h = rq->h;
    if (rq->st != RQ_HELD)
        return;
    h->held--;
    if (!rq->wsi) {
        req_free(rq);                  /* the client left meanwhile */
        maybe_free(h);
        return;
    }
    respond(rq);
}

/* End of an lws HTTP callback for rq: an answer made meanwhile goes out
 * now if it is small, else on the next writable callback. */
static int settle(struct sb_http *h, struct req *rq)
{
    int rc = 0;
    h->in_cb = NULL;
    if (rq->st != RQ_READY)
        return 0;
    if (write_now(rq, &rc) == 0)
        return rc;
    respond(rq);
    return 0;
}

static int on_http(struct lws *wsi, struct pss *pss)
{
    struct sb_http *h = lws_context_user(lws_get_context(wsi));
    struct sb_req *r;
    char *uri;
    int ulen;

    if (!h || h->stopping)
        return -1;
    if (pss->req)
        req_detach(pss->req);
    struct req *rq = req_new(h, wsi, pss);
    if (!rq)
        return -1;
    h->in_cb = rq;
    r = &rq->r;
    int m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
    r->method = m < 0 ? 0 : method_bit(m);
    if (r->method == SB_M_HEAD) {
        r->head = 1;
    }
    r->tls = h->tls;
    if (!pss->ip[0] && !lws_get_peer_simple(wsi, pss->ip, sizeof(pss->ip)))
        snprintf(pss->ip, sizeof(pss->ip), "?");
    /* per request, not per connection: a proxy's kept-alive upstream
     * connection carries many clients (core/cidr.h) */
    char xff[512] = "";
    if (h->proxies.n && lws_hdr_total_length(wsi, WSI_TOKEN_X_FORWARDED_FOR) < (int)sizeof(xff))
        hdr(wsi, WSI_TOKEN_X_FORWARDED_FOR, xff, sizeof(xff));
    sb_client_ip(&h->proxies, pss->ip, xff, r->ip, sizeof(r->ip));
    hdr(wsi, WSI_TOKEN_HTTP_USER_AGENT, r->ua, sizeof(r->ua));
    int alen = hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, r->auth, sizeof(r->auth));
    int clen = hdr(wsi, WSI_TOKEN_HTTP_COOKIE, r->cookie, sizeof(r->cookie));
    char enc[256], origin[256];
    hdr(wsi, WSI_TOKEN_HTTP_ACCEPT_ENCODING, enc, sizeof(enc));
    hdr(wsi, WSI_TOKEN_HTTP_IF_NONE_MATCH, r->inm, sizeof(r->inm));
    hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
    r->gzip_ok = sb_accepts_gzip(enc);
    sb_api__cors(h->api, r, origin);
    long long cl = content_length(wsi);
    int te = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;

    if (m < 0 || !r->method)
        respond_error(rq, 501, "not_implemented", "method not supported");
    else if (ulen < 0 || (size_t)ulen > SB_HTTP_MAX_URL ||
             (size_t)ulen + (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) >
                 SB_HTTP_MAX_URL)
        respond_error(rq, 414, "uri_too_long", "URL longer than 2048 bytes");
    else if (alen >= (int)sizeof(r->auth) || clen >= (int)sizeof(r->cookie))
        respond_error(rq, 431, "header_too_large", "Authorization or Cookie header too large");
    else if (te) {
        /* RFC 9112 s.6.3: we may refuse a body without a length. */
        rq->close = 1;
        respond_error(rq, 411, "length_required", "send the body with a Content-Length");
    } else if (cl == -2) {
        rq->close = 1;
        respond_error(rq, 400, "bad_request", "malformed Content-Length");
    } else if (cl > h->ctx.max_body) {
        rq->close = 1;               /* we will not read it */
        char msg[96];
        snprintf(msg, sizeof(msg), "request body over %lld bytes (option api.max_body)",
                 (long long)h->ctx.max_body);
        respond_error(rq, 413, "payload_too_large", msg);
    } else {
        memcpy(r->path, uri, (size_t)ulen);
        r->path[ulen] = '\0';
        copy_query(wsi, r);
        if (cl > 0) {
            if (!(r->body = malloc((size_t)cl + 1))) {
                rq->close = 1;
                respond_error(rq, 503, "busy", "out of memory");
                return settle(h, rq);
            }
            rq->want = (size_t)cl;
            rq->st = RQ_BODY;
            rq->timed = 1;
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, BODY_TIMEOUT_S);
            h->in_cb = NULL;
            return 0;
        }
        dispatch(rq);
    }
    return settle(h, rq);
}

static int on_body(struct pss *pss, const void *in, size_t len)
{
    struct req *rq = pss ? pss->req : NULL;

    if (!rq || rq->st != RQ_BODY)
        return 0;
    if (rq->r.body_len + len > rq->want)
        return -1;                     /* more than announced: a broken client */
    memcpy(rq->r.body + rq->r.body_len, in, len);
    rq->r.body_len += len;
    return 0;
}

static int on_body_done(struct pss *pss)
{
    struct req *rq = pss ? pss->req : NULL;

    if (!rq || rq->st != RQ_BODY)
        return 0;
    rq->r.body[rq->r.body_len] = '\0';
    rq->st = RQ_NEW;
    lws_set_timeout(rq->wsi, NO_PENDING_TIMEOUT, 0);
    rq->h->in_cb = rq;
    dispatch(rq);
    return settle(rq->h, rq);
}

static int http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                   size_t len)
{
    struct pss *pss = user;
    struct sb_http *h;

    switch (reason) {
    case LWS_CALLBACK_HTTP:
        return on_http(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writable(pss);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_done(pss);
    case LWS_CALLBACK_CLOSED_HTTP:
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
        if (pss && pss->req)
            req_detach(pss->req);
        break;
    /* WebSocket (RFC 6455) on /api/v1/ws: ws.c. */
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        h = lws_context_user(lws_get_context(wsi));
        return !h || h->stopping || sb_ws__filter(h->api, wsi) ? -1 : 0;
    case LWS_CALLBACK_ESTABLISHED:
        h = lws_context_user(lws_get_context(wsi));
        return !h || h->stopping ? -1 : sb_ws__open(h->api, wsi, &pss->wc);
    case LWS_CALLBACK_RECEIVE:
        return pss && pss->wc ? sb_ws__rx(pss->wc, in, len) : -1;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (pss && pss->wc)
            sb_ws__pong(pss->wc);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return pss && pss->wc ? sb_ws__writable(pss->wc) : -1;
    case LWS_CALLBACK_CLOSED:
        if (pss && pss->wc) {
            sb_ws__closed(pss->wc);
            pss->wc = NULL;
        }
        return 0;
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
        h->st.accept_errors++;
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
        h->st.accept_errors++;
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
    if (!sb_api__idle(h->api))
        return;
    uv_idle_stop(idle);
    uv_close((uv_handle_t *)idle, on_reaper_closed);
}

/* Begin destroying the lws context; reap() ends it, once the API's own
 * handles have closed too. */
static void lws_stop(struct sb_http *h)
{
    if (h->lws) {
        lws_context_destroy(h->lws);
        h->lws = NULL;
    }
    if (h->reaping)
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

/* One callback for both: "sbems.v1" is the WebSocket subprotocol a client
 * may ask for by name; without one lws binds the first. */
static const struct lws_protocols protocols[] = {
    { "http", http_cb, sizeof(struct pss), 4096, 0, NULL, 0 },
    { "sbems.v1", http_cb, sizeof(struct pss), 4096, 0, NULL, 0 },
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
    if (h->ctx.tls_cert && *h->ctx.tls_cert) {
        /* Adopted sockets get TLS when the vhost has a certificate
         * (lws_adopt_socket_vhost passes LWS_ADOPT_ALLOW_SSL). */
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = h->ctx.tls_cert;
        info.ssl_private_key_filepath = h->ctx.tls_key;
        /* Mozilla "intermediate" profile: TLS 1.2+ with AEAD suites. */
        info.ssl_cipher_list = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                               "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                               "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
        info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_SSLv3;
        h->tls = 1;
    }
    info.foreign_loops = h->loops;
    info.pcontext = &h->lws_live;
    info.user = h;
    info.server_string = "sbems";
    info.max_http_header_data = HDR_DATA;
    info.keepalive_timeout = 5;
    info.timeout_secs = 20;            /* handshake and header read */
    /* No lws validity timers: lws 4.1 keeps every connection's timer in
     * one sorted list, so with 10,000 WebSockets each lws_set_timeout() of
     * an HTTP request walked 10,000 entries (54 % of the loop's time in
     * lws_dll2_add_sorted, measured).  ws.c pings idle sockets itself from
     * its one-second tick instead. */
    static const lws_retry_bo_t idle = { .secs_since_valid_ping = 0,
                                         .secs_since_valid_hangup = 0 };
    info.retry_and_idle_policy = &idle;
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
    if (ctx->cfg && sb_cidrs_parse(ctx->cfg->api_trusted_proxies, &h->proxies, NULL, 0)) {
        free(h);                       /* sb_conf_validate() said why already */
        return SB_ECONFIG;
    }
    if (ctx->cfg) {
        h->ctx.max_body = ctx->cfg->api_max_body;
        h->ctx.tls_cert = ctx->cfg->api_tls_cert;
        h->ctx.tls_key = ctx->cfg->api_tls_key;
    }
    if (h->ctx.max_body <= 0)
        h->ctx.max_body = 4 << 20;
    h->started_ms = sb_now_ms();
    if ((rc = sb_api__new(loop, &h->ctx, &h->st, &h->api))) {
        free(h);
        return rc;
    }
    if ((fd = open_socket(&ss, &h->port)) < 0) {
        sb_http_stop(h);               /* the API's handles close through the loop */
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

int sb_http_tls(const struct sb_http *h)
{
    return h ? h->tls : 0;
}

struct sb_api *sb_http_api(struct sb_http *h)
{
    return h ? h->api : NULL;
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
    sb_api__stop(h->api);              /* WebSocket clients, timers, bus */
    if (h->listening)
        uv_close((uv_handle_t *)&h->listener, on_listener_closed);
    lws_stop(h);
    maybe_free(h);
}

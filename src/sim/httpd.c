/*
 * httpd.c - sbems-sim's HTTP face (httpd.h): the HTTP/1.1 server on a libuv
 * TCP listener, the router, the rate limiter, the control endpoint and the
 * public functions.  The thermostat API is in tstat.c, the weather API in
 * wxapi.c, the HTTP codec in httpd_proto.c.  Design notes: docs/internals/sim-faces.md.
 *
 * Why not libwebsockets (what the daemon uses): one lws context per site
 * means an evlib plugin, a context-destruction dance (lws 4.1 frees a
 * foreign-loop context only on a second destroy call, docs/internals/http.md)
 * and our own listener anyway; a server that only answers small JSON
 * requests is simpler and fully bounded with a parser of our own, which the
 * fuzzer (fuzz/fuzz_sim_http.c) then covers.
 *
 * The HTTP/1.1 codec (parser, rendering) is in httpd_proto.c.  After an
 * answer that closes the connection the server closes lingeringly (RFC 9112
 * s.9.6): it half-closes and reads and drops what the client still sends, so
 * the client reads the answer before any reset.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/httpd_int.h"
#include "sim/plant/plant.h"

#define MAX_CONNS      128      /* connections per server */
#define BUF_INITIAL    16384u   /* > SH_HEAD_MAX: a whole head always fits */
#define WRITE_HIGH     262144u  /* queued answer bytes before reading pauses */
#define IDLE_MS        5000     /* keep-alive connection without a request */
#define REQUEST_MS     10000    /* a started request must be complete by then */
#define LINGER_MS      2000     /* reading and discarding after an error */

enum { CS_OPEN, CS_LINGER, CS_CLOSING };

struct sb_shconn {
    struct sb_simhttp *h;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_shutdown_t shut;
    int handles;                /* open handles; freed at 0 */
    struct sb_shconn *prev, *next;
    char *buf;                  /* bytes read and not yet consumed */
    size_t len, cap;
    size_t scan;                /* head bytes already searched for CRLFCRLF */
    int have_head;              /* rq holds the parsed head of buf */
    size_t head_len;
    struct sb_shreq rq;
    int state;                  /* CS_* */
    size_t wbytes;              /* answer bytes queued in libuv */
    int reading;
    uint32_t peer;
};

struct wr {
    uv_write_t req;
    struct sb_shconn *c;
    size_t n;
    char *data;
};

/* ======================================================================
 * Router, rate limit, control
 * ====================================================================== */

static int path_is(const struct sb_shreq *rq, const char *p)
{
    return rq->path_len == strlen(p) && memcmp(rq->target, p, rq->path_len) == 0;
}

static int has_prefix(const struct sb_shreq *rq, const char *p)
{
    size_t n = strlen(p);
    return rq->path_len >= n && memcmp(rq->target, p, n) == 0;
}

/* Token bucket per client address: max_rps tokens, refilled at max_rps/s,
 * so a client pacing itself at max_rps (as sbems's rest driver does) is
 * never refused.  Returns 1 when allowed, else 0 with the wait in *retry. */
static int rate_ok(struct sb_simhttp *h, uint32_t ip, int64_t now, int *retry)
{
    struct sh_peer *p = NULL, *lru = &h->peers[0];

    for (int i = 0; i < SH_PEERS; i++) {
        if (h->peers[i].used && h->peers[i].ip == ip) {
            p = &h->peers[i];
            break;
        }
        if (!h->peers[i].used || (lru->used && h->peers[i].t_ms < lru->t_ms))
            lru = &h->peers[i];
    }
    if (!p) {
        p = lru;
        *p = (struct sh_peer){ .ip = ip, .used = 1, .level = h->max_rps, .t_ms = now };
    }
    if (now > p->t_ms)
        p->level = fmin(h->max_rps, p->level + (double)(now - p->t_ms) * h->max_rps / 1000.0);
    p->t_ms = now > p->t_ms ? now : p->t_ms;
    if (p->level >= 1.0) {
        p->level -= 1.0;
        return 1;
    }
    *retry = (int)ceil((1.0 - p->level) / h->max_rps);
    if (*retry < 1)
        *retry = 1;
    return 0;
}

int sb_simhttp__method_is(const struct sb_shreq *rq, const char *m)
{
    return strcmp(rq->method, m) == 0 || (strcmp(m, "GET") == 0 && strcmp(rq->method, "HEAD") == 0);
}

void sb_simhttp__not_allowed(struct sb_shresp *out, const char *allow)
{
    sb_simhttp__err(out, 405, "method_not_allowed", "use %s", allow);
    sb_simhttp__header(out, "Allow: %s", allow);
}

void sb_simhttp__rfc3339(int64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static double speed_now(const struct sb_simhttp *h)
{
    if (h->speed_cfg > 0)
        return h->speed_cfg;
    if (h->wall_ms > h->prev_wall_ms)
        return (double)(h->sim_ms - h->prev_sim_ms) / (double)(h->wall_ms - h->prev_wall_ms);
    return 1;
}

static void ctl_status(struct sb_simhttp *h, struct sb_shresp *out)
{
    char st[32], wt[32];

    sb_simhttp__rfc3339(h->sim_ms, st, sizeof(st));
    sb_simhttp__rfc3339(h->wall_ms, wt, sizeof(wt));
    sb_simhttp__json(out, 200, json_pack("{s:s, s:s, s:f, s:s?, s:s?}", "sim_time", st,
                                         "wall_time", wt, "speed", speed_now(h),
                                         "site", h->site.site, "building", h->site.building));
}

static const char *inject_code(int rc)
{
    switch (rc) {
    case SB_ENOENT: return "not_found";
    case SB_ERANGE: return "out_of_range";
    case SB_EEXIST: return "exists";
    case SB_EINVAL: return "invalid";
    default:        return "rejected";
    }
}

static void ctl_inject(struct sb_simhttp *h, const struct sb_shreq *rq, struct sb_shresp *out)
{
    char err[256] = "";
    json_t *req = sb_simhttp__body_object(rq, out);
    int id;

    if (!req)
        return;
    id = h->ctl->inject(h->ctl->ud, req, err, sizeof(err));
    json_decref(req);
    if (id > 0)
        sb_simhttp__json(out, 201, json_pack("{s:i}", "id", id));
    else if (id == SB_ENOMEM || id == 0)
        sb_simhttp__err(out, 500, "internal", "the fault manager failed (%d)", id);
    else
        sb_simhttp__err(out, 422, inject_code(id), "%s", err[0] ? err : sb_strerror(id));
}

static void ctl_faults(struct sb_simhttp *h, const struct sb_shreq *rq, struct sb_shresp *out)
{
    const struct sb_simhttp_ctl *c = h->ctl;

    if (sb_simhttp__method_is(rq, "GET")) {
        json_t *l = c && c->list ? c->list(c->ud) : NULL;
        if (!c || !c->list)
            sb_simhttp__err(out, 501, "not_implemented", "no fault manager");
        else
            sb_simhttp__json(out, l ? 200 : 500, l ? json_pack("{s:o}", "faults", l) : NULL);
    } else if (sb_simhttp__method_is(rq, "POST")) {
        if (!c || !c->inject)
            sb_simhttp__err(out, 501, "not_implemented", "no fault manager");
        else
            ctl_inject(h, rq, out);
    } else {
        sb_simhttp__not_allowed(out, "GET, HEAD, POST");
    }
}

static void ctl_clear(struct sb_simhttp *h, const struct sb_shreq *rq, const char *idp, size_t n,
                      struct sb_shresp *out)
{
    int id = 0, rc;

    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)idp[i]) || i >= 9) {
            sb_simhttp__err(out, 404, "not_found", "no such fault");
            return;
        }
        id = id * 10 + (idp[i] - '0');
    }
    if (!sb_simhttp__method_is(rq, "DELETE")) {
        sb_simhttp__not_allowed(out, "DELETE");
        return;
    }
    if (!h->ctl || !h->ctl->clear) {
        sb_simhttp__err(out, 501, "not_implemented", "no fault manager");
        return;
    }
    rc = n && id > 0 ? h->ctl->clear(h->ctl->ud, id) : SB_ENOENT;
    if (rc == 0)
        sb_simhttp__json(out, 204, NULL);
    else
        sb_simhttp__err(out, rc == SB_ENOENT ? 404 : 500, rc == SB_ENOENT ? "not_found" : "internal",
                        "fault %d: %s", id, sb_strerror(rc));
}

/* Constant-time equality of two strings of any length: compare their
 * BLAKE2b hashes, so neither content nor length leaks through timing. */
int sb_simhttp__secret_eq(const char *a, size_t al, const char *b, size_t bl)
{
    unsigned char ha[32], hb[32];

    crypto_generichash(ha, sizeof(ha), (const unsigned char *)a, al, NULL, 0);
    crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, bl, NULL, 0);
    return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

static void control(struct sb_simhttp *h, const struct sb_shreq *rq, struct sb_shresp *out)
{
    const char *p = rq->target + 11;            /* after "/control/v1" */
    size_t n = rq->path_len - 11;

    if (h->control_token[0] &&
        (!rq->has_auth || strncasecmp(rq->auth, "Bearer ", 7) != 0 ||
         !sb_simhttp__secret_eq(rq->auth + 7, strlen(rq->auth + 7), h->control_token, strlen(h->control_token)))) {
        sb_simhttp__err(out, 401, "unauthorized", "the control endpoint needs its bearer token");
        sb_simhttp__header(out, "WWW-Authenticate: Bearer realm=\"sbems-sim-control\"");
        return;
    }
    if (n == 7 && memcmp(p, "/status", 7) == 0) {
        if (sb_simhttp__method_is(rq, "GET"))
            ctl_status(h, out);
        else
            sb_simhttp__not_allowed(out, "GET, HEAD");
    } else if (n == 7 && memcmp(p, "/faults", 7) == 0) {
        ctl_faults(h, rq, out);
    } else if (n > 8 && memcmp(p, "/faults/", 8) == 0) {
        ctl_clear(h, rq, p + 8, n - 8, out);
    } else {
        sb_simhttp__err(out, 404, "not_found", "no such resource");
    }
}

static void too_many(struct sb_shresp *out, int retry, int openmeteo, double rps)
{
    if (openmeteo)
        sb_simhttp__json(out, 429, json_pack("{s:b, s:s}", "error", 1, "reason",
                                             "Too many concurrent requests"));
    else
        sb_simhttp__err(out, 429, "rate_limited", "more than %g requests per second", rps);
    sb_simhttp__header(out, "Retry-After: %d", retry);
}

void sb_simhttp__handle(struct sb_simhttp *h, const struct sb_shreq *rq, int64_t mono_ms,
                        struct sb_shresp *out)
{
    static const char tapi[] = "/thermostat-api/v1";
    int retry = 0;
    int is_t = has_prefix(rq, "/thermostat-api/v1/"), is_w = has_prefix(rq, "/weather/v1/");

    out->close = rq->close;
    if (has_prefix(rq, "/control/v1/"))
        control(h, rq, out);
    else if ((is_t || is_w) && !rate_ok(h, rq->peer, mono_ms, &retry))
        too_many(out, retry, is_w, h->max_rps);
    else if (is_t)
        sb_simhttp__tstat_route(h, rq, rq->target + sizeof(tapi) - 1, rq->path_len - (sizeof(tapi) - 1),
                                mono_ms, out);
    else if (path_is(rq, "/weather/v1/forecast"))
        sb_simhttp__wx_route(h, rq, out);
    else
        sb_simhttp__err(out, 404, "not_found", "no such resource");
    if (!out->status)
        sb_simhttp__err(out, 500, "internal", "no answer");
}

/* ======================================================================
 * Server (libuv)
 * ====================================================================== */

static void conn_process(struct sb_shconn *c);
static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_conn_closed(uv_handle_t *hd)
{
    struct sb_shconn *c = hd->data;

    if (--c->handles > 0)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->h->nconns--;
    free(c->buf);
    free(c);
}

static void conn_close(struct sb_shconn *c)
{
    if (c->state == CS_CLOSING)
        return;
    c->state = CS_CLOSING;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_timeout(uv_timer_t *t)
{
    conn_close(t->data);
}

static void on_write(uv_write_t *req, int status)
{
    struct wr *w = (struct wr *)req;
    struct sb_shconn *c = w->c;

    c->wbytes -= w->n;
    free(w->data);
    free(w);
    if (status < 0)
        conn_close(c);
    else if (c->state == CS_OPEN && !c->reading)
        conn_process(c);                /* reading paused for the queue: resume */
}

/* Queues data (taken over) on the connection. */
static void conn_write(struct sb_shconn *c, char *data, size_t n)
{
    struct wr *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init(data, (unsigned)n);

    if (!w || c->state == CS_CLOSING) {
        free(w);
        free(data);
        conn_close(c);
        return;
    }
    *w = (struct wr){ .c = c, .n = n, .data = data };
    c->wbytes += n;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        c->wbytes -= n;
        free(data);
        free(w);
        conn_close(c);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

/* After an answer that ends the connection: half-close, then read and drop
 * what the client still sends (a body we refused) so our close does not
 * reset the connection before it read the answer. */
static void conn_linger(struct sb_shconn *c)
{
    c->state = CS_LINGER;
    c->len = 0;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timeout, LINGER_MS, 0);
}

static void conn_send(struct sb_shconn *c, struct sb_shresp *r, int head_only)
{
    size_t n = 0;
    char *data = sb_simhttp__render(r, head_only, &n);

    free(r->body);
    r->body = NULL;
    if (!data) {
        conn_close(c);
        return;
    }
    conn_write(c, data, n);
    if (r->close && c->state == CS_OPEN)
        conn_linger(c);
}

static void conn_error(struct sb_shconn *c, int status, const char *why)
{
    struct sb_shresp r = { .close = 1 };

    sb_simhttp__parse_error(&r, status, why);
    conn_send(c, &r, 0);
}

static void conn_answer(struct sb_shconn *c)
{
    struct sb_shresp r = { 0 };

    c->rq.body = c->buf + c->head_len;
    c->rq.body_len = (size_t)c->rq.clen;
    sb_simhttp__handle(c->h, &c->rq, (int64_t)uv_now(c->h->loop), &r);
    conn_send(c, &r, strcmp(c->rq.method, "HEAD") == 0);
}

/* Parses the head in buf if complete; 1 = have it, 0 = wait, -1 = answered. */
static int conn_head(struct sb_shconn *c)
{
    size_t from = c->scan > 3 ? c->scan - 3 : 0;
    int found = c->len > from && memmem(c->buf + from, c->len - from, "\r\n\r\n", 4) != NULL;
    int r;

    /* search only new bytes: a client trickling its head byte by byte costs
     * O(n), not O(n^2) */
    c->scan = c->len;
    if (!found && c->len < SH_HEAD_MAX)
        return 0;
    r = sb_simhttp__parse(c->buf, c->len, &c->rq);
    if (r == 0 && c->len >= SH_HEAD_MAX) {
        r = -431;
        c->rq.why = "request head over 8192 bytes";
    }
    if (r == 0)
        return 0;
    if (r < 0) {
        conn_error(c, -r, c->rq.why);
        return -1;
    }
    c->rq.peer = c->peer;
    c->head_len = (size_t)r;
    c->have_head = 1;
    return 1;
}

static int conn_room(struct sb_shconn *c, size_t need)
{
    char *nb;

    if (need <= c->cap)
        return 0;
    if (!(nb = realloc(c->buf, need)))
        return SB_ENOMEM;
    c->buf = nb;
    c->cap = need;
    return 0;
}

static void conn_consume(struct sb_shconn *c, size_t n)
{
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->have_head = 0;
    c->scan = 0;
}

static void conn_process(struct sb_shconn *c)
{
    while (c->state == CS_OPEN && c->wbytes < WRITE_HIGH) {
        if (!c->have_head) {
            int r = conn_head(c);
            if (r <= 0)
                break;
            if (conn_room(c, c->head_len + (size_t)c->rq.clen + 4096) != 0) {
                conn_close(c);
                return;
            }
            if (c->rq.expect_continue && c->len < c->head_len + c->rq.clen) {
                char *cont = strdup("HTTP/1.1 100 Continue\r\n\r\n");
                if (cont)
                    conn_write(c, cont, strlen(cont));
            }
        }
        if (c->len < c->head_len + c->rq.clen)
            break;
        conn_answer(c);
        if (c->state == CS_OPEN)
            conn_consume(c, c->head_len + (size_t)c->rq.clen);
    }
    if (c->state != CS_OPEN)
        return;
    if (c->wbytes >= WRITE_HIGH && c->reading) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        c->reading = 0;
    } else if (c->wbytes < WRITE_HIGH && !c->reading &&
               uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) {
        c->reading = 1;
    }
    uv_timer_start(&c->timer, on_timeout, c->len || c->have_head ? REQUEST_MS : IDLE_MS, 0);
}

static void on_alloc(uv_handle_t *hd, size_t want, uv_buf_t *b)
{
    struct sb_shconn *c = hd->data;

    (void)want;
    if (c->state == CS_LINGER)
        c->len = 0;                     /* discarding */
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct sb_shconn *c = s->data;

    (void)b;
    if (n < 0) {
        conn_close(c);
        return;
    }
    if (n == 0 || c->state != CS_OPEN)
        return;
    c->len += (size_t)n;
    conn_process(c);
}

static int conn_start(struct sb_shconn *c)
{
    struct sockaddr_storage ss;
    int sl = sizeof(ss);

    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
        return SB_EIO;
    c->reading = 1;
    uv_tcp_nodelay(&c->tcp, 1);   /* one write per answer, but never wait for a delayed ACK */
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET)
        c->peer = ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr);
    uv_timer_start(&c->timer, on_timeout, IDLE_MS, 0);
    return 0;
}

static void on_connection(uv_stream_t *lsn, int status)
{
    struct sb_simhttp *h = lsn->data;
    struct sb_shconn *c;

    if (status < 0 || !(c = calloc(1, sizeof(*c))))
        return;
    c->h = h;
    if (!(c->buf = malloc(BUF_INITIAL))) {
        free(c);
        return;
    }
    c->cap = BUF_INITIAL;
    uv_tcp_init(h->loop, &c->tcp);
    uv_timer_init(h->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    c->next = h->conns;
    if (h->conns)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    if (uv_accept(lsn, (uv_stream_t *)&c->tcp) != 0 || h->nconns > MAX_CONNS || h->closing ||
        conn_start(c) != 0)
        conn_close(c);
}

static int server_start(struct sb_simhttp *h, char *err, size_t errlen)
{
    struct sockaddr_in sa;
    struct sockaddr_storage ss;
    int sl = sizeof(ss), rc;

    uv_ip4_addr(h->ip, h->port, &sa);
    if ((rc = uv_tcp_init(h->loop, &h->lsn)) != 0) {
        sb_errf(err, errlen, "%s:%d: %s", h->ip, h->port, uv_strerror(rc));
        return SB_EIO;
    }
    h->lsn.data = h;
    h->lsn_open = 1;
    /* bind exactly this address, never the wildcard (libuv sets SO_REUSEADDR) */
    if ((rc = uv_tcp_bind(&h->lsn, (const struct sockaddr *)&sa, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&h->lsn, 128, on_connection)) != 0) {
        sb_errf(err, errlen, "%s:%d: %s", h->ip, h->port, uv_strerror(rc));
        return SB_EIO;
    }
    if (uv_tcp_getsockname(&h->lsn, (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

/* ======================================================================
 * Public API
 * ====================================================================== */

void sb_simhttp_cfg_default(struct sb_simhttp_cfg *cfg)
{
    *cfg = (struct sb_simhttp_cfg){
        .port = 8080, .listen = 1, .client_id = "sbems", .client_secret = "sbems-sim-secret",
        .max_rps = 20, .token_ttl_s = 3600, .forecast_error = 1,
    };
}

static int copy_str(char *dst, size_t cap, const char *src, const char *def, const char *what,
                    char *err, size_t errlen)
{
    const char *s = src ? src : def;
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            sb_errf(err, errlen, "%s: control characters", what);
            return SB_EINVAL;
        }
    if (n >= cap) {
        sb_errf(err, errlen, "%s: at most %zu bytes", what, cap - 1);
        return SB_EINVAL;
    }
    memcpy(dst, s, n + 1);
    return 0;
}

static int cfg_address(struct sb_simhttp *h, const struct sb_simhttp_cfg *cfg, char *err, size_t errlen)
{
    struct in_addr a;

    if (cfg->ip)
        snprintf(h->ip, sizeof(h->ip), "%.15s", cfg->ip);
    else if (h->site.index >= 0 && h->site.index <= 255)
        snprintf(h->ip, sizeof(h->ip), "127.0.%d.10", h->site.index);
    if (inet_pton(AF_INET, h->ip, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
        sb_errf(err, errlen, "ip: an IPv4 address in 127.0.0.0/8 (loopback only)");
        return SB_EINVAL;
    }
    if (cfg->port < -1 || cfg->port > 65535) {
        sb_errf(err, errlen, "port: 1..65535 (0: 8080, -1: any free port)");
        return SB_EINVAL;
    }
    h->port = cfg->port == 0 ? 8080 : cfg->port < 0 ? 0 : cfg->port;
    return 0;
}

static int cfg_apply(struct sb_simhttp *h, const struct sb_simhttp_cfg *cfg, char *err, size_t errlen)
{
    struct sb_plant_config pc;
    int rc;

    if ((rc = cfg_address(h, cfg, err, errlen)) != 0 ||
        (rc = copy_str(h->client_id, sizeof(h->client_id), cfg->client_id, "sbems", "client_id",
                       err, errlen)) != 0 ||
        (rc = copy_str(h->client_secret, sizeof(h->client_secret), cfg->client_secret,
                       "sbems-sim-secret", "client_secret", err, errlen)) != 0 ||
        (rc = copy_str(h->control_token, sizeof(h->control_token), cfg->control_token, "",
                       "control_token", err, errlen)) != 0)
        return rc;
    if (!(cfg->max_rps >= 0 && cfg->max_rps <= 100000) || cfg->token_ttl_s < 0 ||
        !(cfg->forecast_error >= 0 && cfg->forecast_error <= 10) || !(cfg->speed >= 0)) {
        sb_errf(err, errlen, "max_rps 0..100000, token_ttl_s >= 0, forecast_error 0..10, speed >= 0");
        return SB_EINVAL;
    }
    h->max_rps = cfg->max_rps > 0 ? cfg->max_rps : 20;
    h->token_ttl_ms = (int64_t)(cfg->token_ttl_s > 0 ? cfg->token_ttl_s : 3600) * 1000;
    h->fc_err = cfg->forecast_error;
    h->fc_seed = cfg->forecast_seed ? cfg->forecast_seed : 0x5eedf00dULL + (uint64_t)h->site.index;
    h->epw = cfg->epw;
    h->ctl = cfg->ctl;
    h->speed_cfg = cfg->speed;
    h->listen = cfg->listen;
    sb_plant_config_default(&pc);
    h->vav_min_frac = cfg->plant_cfg ? cfg->plant_cfg->vav_min_frac : pc.vav_min_frac;
    h->static_sp = cfg->plant_cfg ? cfg->plant_cfg->static_sp : pc.static_sp;
    return 0;
}

static void free_on_close(uv_handle_t *hd)
{
    sb_simhttp_free(hd->data);
}

int sb_simhttp_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                   const struct sb_simhttp_cfg *cfg, struct sb_simhttp **out, char *err, size_t errlen)
{
    struct sb_simhttp *h = calloc(1, sizeof(*h));
    int rc;

    *out = NULL;
    if (!h)
        return SB_ENOMEM;
    if (sodium_init() < 0) {
        free(h);
        sb_errf(err, errlen, "libsodium did not initialise");
        return SB_EIO;
    }
    h->loop = loop;
    h->plant = plant;
    h->site = *site;
    sb_sim_name_prefix(site, h->prefix, sizeof(h->prefix));
    h->sim_ms = h->prev_sim_ms = sb_plant_time_ms(plant);
    h->wall_ms = h->prev_wall_ms = sb_now_ms();
    if ((rc = cfg_apply(h, cfg, err, errlen)) != 0 ||
        (rc = sb_simhttp__tstat_init(h, err, errlen)) != 0 ||
        (rc = sb_simhttp__wx_init(h)) != 0)
        goto fail;
    sb_simhttp__tstat_sync(h);
    if (h->listen && (rc = server_start(h, err, errlen)) != 0)
        goto fail;
    *out = h;
    return 0;
fail:
    if (h->lsn_open) {
        /* the handle is registered with the loop: h goes when it has
         * closed, on the caller's next loop run */
        h->lsn_open = 0;
        uv_close((uv_handle_t *)&h->lsn, free_on_close);
        return rc;
    }
    sb_simhttp_free(h);
    return rc;
}

void sb_simhttp_sync(struct sb_simhttp *h, int64_t sim_ms, int64_t wall_ms)
{
    char name[96];

    h->prev_sim_ms = h->sim_ms;
    h->prev_wall_ms = h->wall_ms;
    h->sim_ms = sim_ms;
    h->wall_ms = wall_ms;
    sb_simhttp__tstat_sync(h);
    snprintf(name, sizeof(name), "%sWEATHER", h->prefix);
    h->wx_offline = h->site.offline && h->site.offline(h->site.offline_ud, name);
}

int sb_simhttp_port(const struct sb_simhttp *h)
{
    return h->port;
}

json_t *sb_simhttp_list(const struct sb_simhttp *h)
{
    json_t *arr = json_array();
    char url[128], name[96];

    sb_simhttp__tstat_list(h, arr);
    if (h->epw) {
        snprintf(url, sizeof(url), "http://%s:%d/weather/v1/forecast", h->ip, h->port);
        snprintf(name, sizeof(name), "%sWEATHER", h->prefix);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:i, s:s}", "protocol", "rest",
                                             "name", name, "address", h->ip, "port", h->port,
                                             "url", url));
    }
    return arr;
}

json_t *sb_simhttp_site(const struct sb_simhttp *h)
{
    json_t *eq = json_array(), *pts = json_array();

    sb_simhttp__tstat_site(h, eq, pts);
    sb_simhttp__wx_site(h, eq, pts);
    return json_pack("{s:o, s:o}", "equipment", eq, "points", pts);
}

json_t *sb_simhttp_drivers(const struct sb_simhttp *h)
{
    json_t *out = json_object();
    char base[128], tok[160], api[80];

    if (h->nts) {
        snprintf(base, sizeof(base), "http://%s:%d/thermostat-api/v1", h->ip, h->port);
        snprintf(tok, sizeof(tok), "%s/oauth2/token", base);
        json_object_set_new(out, "rest", json_pack(
            "{s:{s:{s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s}}}", "apis",
            sb_simhttp__api_name(h, api, sizeof(api)), "base_url", base, "auth",
            "type", "oauth2_client_credentials", "token_url", tok, "client_id", h->client_id,
            "client_secret", h->client_secret, "scope", "thermostats.read thermostats.write",
            "profile", "rest-siemens-thermostat"));
    }
    if (h->epw) {
        snprintf(base, sizeof(base), "http://%s:%d/weather/v1/forecast", h->ip, h->port);
        json_object_set_new(out, "weather", json_pack("{s:s, s:f, s:f}", "url", base,
                                                      "latitude", h->epw->lat,
                                                      "longitude", h->epw->lon));
    }
    return out;
}

int sb_simhttp_bind(const struct sb_simhttp *h, const json_t *source)
{
    const char *drv = json_string_value(json_object_get(source, "driver"));
    const json_t *a = json_object_get(source, "address");

    if (!drv || !json_is_object(a))
        return SB_ENOENT;
    if (strcmp(drv, "rest") == 0)
        return sb_simhttp__tstat_bind(h, a);
    if (strcmp(drv, "weather") == 0)
        return sb_simhttp__wx_bind(h, a);
    return SB_ENOENT;
}

int sb_simhttp_value(const struct sb_simhttp *h, int handle, double *v)
{
    if (handle < 0)
        return SB_ENOENT;
    if (handle >= SH_WX_HANDLE)
        return sb_simhttp__wx_value(h, handle, v);
    return sb_simhttp__tstat_value(h, handle, v);
}

void sb_simhttp_close(struct sb_simhttp *h)
{
    if (!h)
        return;
    h->closing = 1;
    if (h->lsn_open && !uv_is_closing((uv_handle_t *)&h->lsn))
        uv_close((uv_handle_t *)&h->lsn, NULL);
    for (struct sb_shconn *c = h->conns; c; c = c->next)
        conn_close(c);
}

void sb_simhttp_free(struct sb_simhttp *h)
{
    if (!h)
        return;
    free(h->ts);
    sodium_memzero(h->tokens, sizeof(h->tokens));
    sodium_memzero(h->client_secret, sizeof(h->client_secret));
    free(h);
}

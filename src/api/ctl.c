/* ctl.c - the control socket (see ctl.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/ctl.h"
#include "core/err.h"
#include "core/log.h"
#include "ingest/acks.h"
#include "ingest/ingest.h"
#include "ingest/parse.h"
#include "model/hub.h"
#include "model/model.h"

#define CTL_SUBMIT   8192          /* readings per submit */
#define CTL_MAXLINE  (1 << 20)     /* longest accepted line */
#define CTL_TICK_MS  50            /* ack / retry period */
#define CTL_BADMAX   20            /* "bad line" messages sent per connection */

struct conn {
    uv_pipe_t pipe;              /* the client */
    uv_timer_t timer;            /* acks and retries */
    struct sb_ctl *ctl;          /* server */
    struct conn *next;           /* server's list */
    struct sb_rdparse *parser;   /* NULL until the INGEST line */
    char *line;                  /* partial line carried between reads */
    size_t len, cap;             /* its length, allocation */
    struct sb_reading *pend;     /* parsed, not yet queued */
    size_t npend, cap_pend;      /* how many, allocated */
    struct sb_acks acks;         /* submitted, not yet acknowledged */
    uint64_t lines;              /* file lines seen (protocol line 1 excluded) */
    uint64_t bad, stored, refused, acked_line;
    uint64_t reasons[SB_REJ_COUNT];
    int eof, paused, closing, open_handles;
    int source_units;            /* "INGEST csv source": convert to canonical units */
    struct sb_mref *model;       /* the model current when the session began (pinned) */
};

struct sb_ctl {
    uv_pipe_t srv;               /* listener */
    struct sb_mhub *models;      /* the building model (borrowed): each session pins its version */
    struct sb_ingest *ing;       /* pipeline (borrowed) */
    char *path;                  /* socket file */
    struct conn *conns;          /* live connections */
    int stopping, srv_open;      /* stop begun; listener handle not yet closed */
};

static void maybe_free_ctl(struct sb_ctl *c)
{
    if (c->stopping && !c->srv_open && !c->conns) {
        free(c->path);
        free(c);
    }
}

/* ---- writing ------------------------------------------------------------ */

struct wreq {
    uv_write_t req;   /* libuv request */
    char data[];      /* the bytes */
};

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void say(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(struct conn *k, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (k->closing || n < 0)
        return;
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    struct wreq *w = malloc(sizeof(*w) + (size_t)n);
    if (!w)
        return;
    memcpy(w->data, buf, (size_t)n);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)n);
    if (uv_write(&w->req, (uv_stream_t *)&k->pipe, &b, 1, on_written) != 0)
        free(w);
}

/* ---- closing ------------------------------------------------------------ */

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *k = h->data;
    if (--k->open_handles > 0)
        return;
    struct sb_ctl *c = k->ctl;
    for (struct conn **pp = &c->conns; *pp; pp = &(*pp)->next)
        if (*pp == k) {
            *pp = k->next;
            break;
        }
    sb_rdparse_free(k->parser);
    if (k->model)
        sb_mref_put(k->model);
    free(k->line);
    free(k->pend);
    sb_acks_release(&k->acks);
    free(k);
    maybe_free_ctl(c);
}

static void close_conn(struct conn *k)
{
    if (k->closing)
        return;
    k->closing = 1;
    uv_read_stop((uv_stream_t *)&k->pipe);
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->pipe, on_conn_closed);
    uv_close((uv_handle_t *)&k->timer, on_conn_closed);
}

/* ---- ingesting ---------------------------------------------------------- */

/* Queue what is pending without waiting; returns 1 when all of it went. */
static int submit(struct conn *k)
{
    struct sb_ingest_result res;
    if (k->npend == 0)
        return 1;
    int rc = sb_ingest_submit(k->ctl->ing, k->pend, k->npend, 0, &res);
    size_t used = res.queued + res.rejected;
    k->stored += res.queued;
    k->refused += res.rejected;
    for (int i = 0; i < SB_REJ_COUNT; i++)
        k->reasons[i] += res.reasons[i];
    memmove(k->pend, k->pend + used, (k->npend - used) * sizeof(*k->pend));
    k->npend -= used;
    if (rc && rc != SB_EAGAIN) {
        say(k, "error ingest refused: %s", sb_strerror(rc));
        close_conn(k);
        return 0;
    }
    if (k->npend == 0 && sb_acks_push(&k->acks, res.ticket, k->lines, k->stored) != 0) {
        say(k, "error out of memory");
        close_conn(k);
        return 0;
    }
    return k->npend == 0;
}

static int resolve(void *ud, const char *name, uint32_t *id)
{
    const struct sb_point *p = sb_model_point(ud, name);
    if (!p)
        return SB_ENOENT;
    *id = p->id;
    return 0;
}

static void handle_line(struct conn *k, const char *s, size_t len)
{
    char err[256];
    size_t n = 0;

    if (!k->parser) {
        if (len > 7 && memcmp(s + len - 7, " source", 7) == 0) {
            k->source_units = 1;
            len -= 7;
        }
        int jsonl = len == 12 && memcmp(s, "INGEST jsonl", 12) == 0;
        /* names resolve in the model of now: points added through the API
         * since the daemon started are known */
        if (!k->model)
            k->model = sb_mhub_get(k->ctl->models);
        if ((!jsonl && !(len == 10 && memcmp(s, "INGEST csv", 10) == 0)) || !k->model ||
            sb_rdparse_new(jsonl ? SB_RDFMT_JSONL : SB_RDFMT_CSV, resolve,
                           (void *)k->model->m, &k->parser) != 0) {
            say(k, "error expected \"INGEST csv\" or \"INGEST jsonl\"");
            close_conn(k);
        }
        return;
    }
    k->lines++;
    if (k->cap_pend < k->npend + SB_RDPARSE_MAX_COLS) {
        size_t nc = k->npend + SB_RDPARSE_MAX_COLS + CTL_SUBMIT;
        struct sb_reading *np = realloc(k->pend, nc * sizeof(*np));
        if (!np) {
            say(k, "error out of memory");
            close_conn(k);
            return;
        }
        k->pend = np;
        k->cap_pend = nc;
    }
    int rc = sb_rdparse_line(k->parser, s, len, k->pend + k->npend, SB_RDPARSE_MAX_COLS, &n, err,
                             sizeof(err));
    if (rc) {
        if (++k->bad <= CTL_BADMAX)
            say(k, "bad line %llu: %s", (unsigned long long)k->lines, err);
        if (k->lines == 1) {   /* a CSV header the parser refused */
            say(k, "error the first line must be a header");
            close_conn(k);
        }
        return;
    }
    if (k->source_units)
        sb_model_to_canonical(k->model->m, k->pend + k->npend, n);
    k->npend += n;
}

/* Split buf into lines; stop early (keeping the rest) when paused. */
static void feed(struct conn *k, const char *buf, size_t n)
{
    for (size_t i = 0; i < n && !k->closing; i++) {
        if (buf[i] != '\n') {
            if (k->len == k->cap) {
                if (k->cap >= CTL_MAXLINE) {
                    say(k, "error line %llu longer than %d bytes",
                        (unsigned long long)k->lines + 1, CTL_MAXLINE);
                    close_conn(k);
                    return;
                }
                size_t nc = k->cap ? k->cap * 2 : 4096;
                char *nl = realloc(k->line, nc);
                if (!nl) {
                    close_conn(k);
                    return;
                }
                k->line = nl;
                k->cap = nc;
            }
            k->line[k->len++] = buf[i];
            continue;
        }
        handle_line(k, k->line, k->len);
        k->len = 0;
        if (!k->paused && k->npend >= CTL_SUBMIT && !submit(k))
            k->paused = 1;   /* the rest of this read is parsed into pend */
    }
}

static void finish_if_done(struct conn *k)
{
    struct sb_ack last;
    if (sb_acks_pop(&k->acks, sb_ingest_durable(k->ctl->ing), &last) &&
        last.line >= k->acked_line) {
        k->acked_line = last.line;
        say(k, "ack readings=%llu lines=%llu", (unsigned long long)last.count,
            (unsigned long long)last.line);
    }
    if (k->eof && k->npend == 0 && k->acks.len == 0 && !k->closing) {
        char extra[256] = "";
        size_t o = 0;
        for (int i = 0; i < SB_REJ_COUNT; i++)
            if (k->reasons[i])
                o += (size_t)snprintf(extra + o, sizeof(extra) - o, " %s=%llu",
                                      sb_reject_name((enum sb_reject)i),
                                      (unsigned long long)k->reasons[i]);
        say(k, "done lines=%llu stored=%llu refused=%llu bad=%llu%s",
            (unsigned long long)k->lines, (unsigned long long)k->stored,
            (unsigned long long)k->refused, (unsigned long long)k->bad, extra);
        close_conn(k);
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);

static void on_tick(uv_timer_t *t)
{
    struct conn *k = t->data;
    if (k->closing)
        return;
    if (k->paused && submit(k)) {
        k->paused = 0;
        if (!k->eof)
            uv_read_start((uv_stream_t *)&k->pipe, on_alloc, on_read);
    }
    if (!k->closing)
        finish_if_done(k);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)hint;
    (void)h;
    buf->base = malloc(65536);
    buf->len = buf->base ? 65536 : 0;
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *k = st->data;
    if (nread > 0) {
        feed(k, buf->base, (size_t)nread);
    } else if (nread == UV_EOF) {
        k->eof = 1;
        if (k->len && !k->closing) {   /* a last line without its newline */
            handle_line(k, k->line, k->len);
            k->len = 0;
        }
        uv_read_stop(st);
    } else if (nread < 0) {
        close_conn(k);
    }
    free(buf->base);
    if (k->closing || nread == 0)
        return;
    if (!k->paused && (k->eof || k->npend) && !submit(k))
        k->paused = 1;
    if (k->paused)
        uv_read_stop(st);   /* backpressure: the client's writes now block */
}

/* ---- the listener ------------------------------------------------------- */

static void on_connection(uv_stream_t *srv, int status)
{
    struct sb_ctl *c = srv->data;
    struct conn *k;
    if (status < 0 || c->stopping || !(k = calloc(1, sizeof(*k))))
        return;
    k->ctl = c;
    uv_pipe_init(srv->loop, &k->pipe, 0);
    uv_timer_init(srv->loop, &k->timer);
    k->pipe.data = k->timer.data = k;
    k->open_handles = 2;
    k->next = c->conns;
    c->conns = k;
    if (uv_accept(srv, (uv_stream_t *)&k->pipe) != 0 ||
        uv_read_start((uv_stream_t *)&k->pipe, on_alloc, on_read) != 0) {
        close_conn(k);
        return;
    }
    uv_timer_start(&k->timer, on_tick, CTL_TICK_MS, CTL_TICK_MS);
}

static void on_srv_closed(uv_handle_t *h)
{
    struct sb_ctl *c = h->data;
    c->srv_open = 0;
    maybe_free_ctl(c);
}

int sb_ctl_start(uv_loop_t *loop, const char *path, struct sb_mhub *models,
                 struct sb_ingest *ing, struct sb_ctl **out)
{
    struct sb_ctl *c = calloc(1, sizeof(*c));
    int rc;

    if (!c || !(c->path = strdup(path))) {
        free(c);
        return SB_ENOMEM;
    }
    c->models = models;
    c->ing = ing;
    uv_pipe_init(loop, &c->srv, 0);
    c->srv.data = c;
    c->srv_open = 1;
    unlink(path);   /* a stale socket of a previous run: we hold the data dir's lock */
    mode_t old = umask(0177);   /* the socket is 0600: only our user may write through it */
    rc = uv_pipe_bind(&c->srv, path);
    umask(old);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&c->srv, 16, on_connection);
    if (rc != 0) {
        SB_ERR("ctl", "cannot listen on %s: %s", path, uv_strerror(rc));
        c->stopping = 1;
        uv_close((uv_handle_t *)&c->srv, on_srv_closed);
        return SB_EIO;
    }
    *out = c;
    return 0;
}

void sb_ctl_stop(struct sb_ctl *c)
{
    if (!c || c->stopping)
        return;
    c->stopping = 1;
    unlink(c->path);
    for (struct conn *k = c->conns; k; k = k->next)
        close_conn(k);
    uv_close((uv_handle_t *)&c->srv, on_srv_closed);
}

/*
 * ws.c - the WebSocket hub (ws.h): authentication, subscriptions, per-point
 * coalescing, per-client batching and bounded queues.
 *
 * Flow: the bus (ingest writer thread) appends durable readings to `in`
 * under a mutex and wakes the loop with uv_async_send; the loop moves them
 * into `pend` (newest per point wins), emits every point whose last update
 * is at least 1/ws.max_rate old, and leaves the rest for a short timer.
 * Emitting a reading formats it once and appends it to the frame being
 * built for each subscriber; after the pass each touched client's frame is
 * closed and queued, and lws is asked for a writable callback.
 */
#include <inttypes.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/live.h"
#include "api/ws.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "model/hub.h"

#define AUTH_TIMEOUT_S  10         /* first message must authenticate within */
#define RX_MAX          65536      /* largest client message */
#define REAUTH_MS       60000      /* ask for a fresh token this long before expiry */
#define SUBS_MAX        100000     /* points one client may watch */
#define EVCH_MAX        8          /* event channels per client */
#define CLOSE_EXPIRED   4001       /* private-use close code (RFC 6455 s.7.4.2) */
#define PING_AFTER_MS   30000      /* silent this long: ping */
#define DROP_AFTER_MS   60000      /* silent this long: close */

struct frame {
    struct frame *next;
    int event;                     /* never dropped */
    uint32_t nread;                /* readings inside (for the lagged count) */
    size_t len;                    /* payload bytes at buf + LWS_PRE */
    unsigned char *buf;            /* heap, LWS_PRE + len */
};

struct sb_ws_client {
    struct sb_ws *ws;
    struct lws *wsi;               /* NULL once closed */
    struct sb_ws_client **slot;    /* pss->wc */
    struct sb_ws_client *prev, *next;
    int authed;                    /* has sent a valid token */
    int reauth_sent;               /* told to refresh */
    int close_code;                /* close at the next writable */
    int jobs;                      /* pool jobs in flight */
    int ping;                      /* a ping is due to be sent */
    int64_t last_rx;               /* last frame or pong from the client, ms */
    int64_t uid;
    int64_t exp_ms;
    char username[65];
    char sid[SB_SID_MAX];
    uint32_t *pts;                 /* points watched, unsorted, unique */
    size_t npts, cappts;
    char (*chs)[96];               /* point channels subscribed, so an unsubscribe keeps
                                    * what another channel still covers */
    size_t nchs, capchs;
    size_t nev;                    /* event channels */
    char ev[EVCH_MAX][96];
    struct frame *qh, *qt;         /* queue */
    size_t qbytes;                 /* payload bytes queued */
    uint64_t dropped;              /* readings dropped, not yet told */
    char *bf;                      /* frame being built (LWS_PRE headroom) */
    size_t blen, bcap;
    uint32_t bcount;               /* readings in it */
    struct sb_ws_client *tnext;    /* touched list of one flush */
    char *rx;                      /* a message arriving in fragments */
    size_t rxlen;
};

struct subs {
    struct sb_ws_client **c;
    uint32_t n, cap;
};

struct sb_ws {
    struct sb_api *api;
    uv_async_t wake;               /* bus -> loop */
    uv_timer_t tick;               /* coalescing and token expiry */
    int handles;                   /* open handles */
    int jobs;                      /* pool jobs */
    int stopped;
    pthread_mutex_t mu;            /* protects in */
    struct sb_reading *in;         /* from the bus */
    size_t nin, capin;
    struct sb_reading *pend;       /* by point id: newest not yet sent */
    int64_t *last;                 /* by point id: last emit, ms */
    uint8_t *dirty;                /* by point id: in dl */
    struct subs *subs;             /* by point id */
    uint32_t npt;                  /* ids covered */
    uint32_t *dl;                  /* dirty points */
    size_t ndl, capdl;
    int64_t interval_ms;           /* 1000 / ws.max_rate */
    size_t qmax;                   /* ws.client_queue */
    size_t max_clients;
    size_t nclients;
    struct sb_ws_client *clients;
    int64_t last_exp_check;
    uint64_t delivered, frames, lagged_drops;
};

/* ---- frames and the queue -------------------------------------------------- */

static struct frame *frame_new(const char *s, size_t n, int event, uint32_t nread)
{
    struct frame *f = malloc(sizeof(*f));
    unsigned char *b = malloc(LWS_PRE + n);
    if (!f || !b) {
        free(f);
        free(b);
        return NULL;
    }
    memcpy(b + LWS_PRE, s, n);
    *f = (struct frame){ .event = event, .nread = nread, .len = n, .buf = b };
    return f;
}

static void frame_free(struct frame *f)
{
    free(f->buf);
    free(f);
}

/* Drop the oldest reading frames until extra more bytes fit. */
static void make_room(struct sb_ws_client *c, size_t extra)
{
    struct frame **pp = &c->qh, *prev = NULL;
    while (*pp && c->qbytes + extra > c->ws->qmax) {
        struct frame *f = *pp;
        if (f->event) {
            prev = f;
            pp = &f->next;
            continue;
        }
        *pp = f->next;
        if (c->qt == f)
            c->qt = prev;
        c->qbytes -= f->len;
        c->dropped += f->nread;
        c->ws->lagged_drops += f->nread;
        frame_free(f);
    }
}

static void enqueue(struct sb_ws_client *c, struct frame *f)
{
    if (!c->wsi || c->close_code) {
        frame_free(f);
        return;
    }
    if (c->qbytes + f->len > c->ws->qmax)
        make_room(c, f->len);
    if (!f->event && c->qbytes + f->len > c->ws->qmax) {
        c->dropped += f->nread;        /* a frame bigger than the queue */
        frame_free(f);
        return;
    }
    if (c->qbytes + f->len > 4 * c->ws->qmax) {
        /* Events alone overflow: nothing more is sent, the client goes. */
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
        frame_free(f);
        while (c->qh) {
            struct frame *g = c->qh;
            c->qh = g->next;
            frame_free(g);
        }
        c->qt = NULL;
        c->qbytes = 0;
        c->dropped = 0;
        lws_callback_on_writable(c->wsi);
        return;
    }
    if (c->qt)
        c->qt->next = f;
    else
        c->qh = f;
    c->qt = f;
    c->qbytes += f->len;
    lws_callback_on_writable(c->wsi);
}

static void send_text(struct sb_ws_client *c, const char *s, int event)
{
    struct frame *f = frame_new(s, strlen(s), event, 0);
    if (f)
        enqueue(c, f);
}

static void send_json(struct sb_ws_client *c, json_t *v)
{
    char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    if (s)
        send_text(c, s, 1);
    free(s);
}

static void send_error(struct sb_ws_client *c, json_t *id, const char *code, const char *msg)
{
    json_t *v = json_pack("{s:s, s:s, s:s}", "type", "error", "code", code, "message", msg);
    if (v && id)
        json_object_set(v, "id", id);
    send_json(c, v);
}

/* ---- per-point tables ----------------------------------------------------------- */

static int grow_points(struct sb_ws *ws, uint32_t id)
{
    if (id < ws->npt)
        return 0;
    if (id > SB_POINT_ID_MAX)
        return SB_ERANGE;
    uint32_t n = ws->npt ? ws->npt : 1024;
    while (n <= id)
        n *= 2;
    struct sb_reading *p = realloc(ws->pend, n * sizeof(*p));
    if (p)
        ws->pend = p;
    int64_t *l = realloc(ws->last, n * sizeof(*l));
    if (l)
        ws->last = l;
    uint8_t *d = realloc(ws->dirty, n);
    if (d)
        ws->dirty = d;
    struct subs *s = realloc(ws->subs, n * sizeof(*s));
    if (s)
        ws->subs = s;
    if (!p || !l || !d || !s)
        return SB_ENOMEM;
    for (uint32_t i = ws->npt; i < n; i++) {
        ws->last[i] = INT64_MIN;
        ws->dirty[i] = 0;
        ws->subs[i] = (struct subs){ 0 };
    }
    ws->npt = n;
    return 0;
}

static int sub_add(struct sb_ws *ws, struct sb_ws_client *c, uint32_t p)
{
    for (size_t i = 0; i < c->npts; i++)
        if (c->pts[i] == p)
            return 0;
    if (c->npts == SUBS_MAX || grow_points(ws, p))
        return SB_ENOSPC;
    struct subs *s = &ws->subs[p];
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? s->cap * 2 : 4;
        void *v = realloc(s->c, cap * sizeof(*s->c));
        if (!v)
            return SB_ENOMEM;
        s->c = v;
        s->cap = cap;
    }
    if (c->npts == c->cappts) {
        size_t cap = c->cappts ? c->cappts * 2 : 16;
        void *v = realloc(c->pts, cap * sizeof(*c->pts));
        if (!v)
            return SB_ENOMEM;
        c->pts = v;
        c->cappts = cap;
    }
    s->c[s->n++] = c;
    c->pts[c->npts++] = p;
    return 0;
}

static void sub_del(struct sb_ws *ws, struct sb_ws_client *c, uint32_t p)
{
    if (p >= ws->npt)
        return;
    struct subs *s = &ws->subs[p];
    for (uint32_t i = 0; i < s->n; i++)
        if (s->c[i] == c) {
            s->c[i] = s->c[--s->n];
            break;
        }
}

/* ---- emitting readings ---------------------------------------------------------- */

static int buf_room(struct sb_ws_client *c, size_t n)
{
    if (c->blen + n <= c->bcap)
        return 0;
    size_t cap = c->bcap ? c->bcap : 512;
    while (cap < c->blen + n)
        cap *= 2;
    char *b = realloc(c->bf, cap);
    if (!b)
        return SB_ENOMEM;
    c->bf = b;
    c->bcap = cap;
    return 0;
}

static const char HEAD[] = "{\"type\":\"readings\",\"data\":[";

/* One reading as JSON "[id,t,v,q]": the shortest number text that reads
 * back as the same double (as the REST answers). */
static size_t fmt_reading(const struct sb_reading *r, char *out, size_t cap)
{
    char num[40];
    if (r->v != r->v || r->v - r->v != 0) {
        snprintf(num, sizeof(num), "null");
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof(num), "%.*g", prec, r->v);
            if (strtod(num, NULL) == r->v)
                break;
        }
    }
    int n = snprintf(out, cap, "[%" PRIu32 ",%" PRId64 ",%s,%u]", r->point, r->t, num,
                     (unsigned)r->q);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static void emit(struct sb_ws *ws, const struct sb_reading *r, struct sb_ws_client **touched)
{
    char txt[96];
    size_t n = 0;
    struct subs *s = &ws->subs[r->point];

    for (uint32_t i = 0; i < s->n; i++) {
        struct sb_ws_client *c = s->c[i];
        if (!c->authed || !c->wsi)
            continue;
        if (!n && !(n = fmt_reading(r, txt, sizeof(txt))))
            return;
        if (c->bcount == 0) {
            if (buf_room(c, LWS_PRE + sizeof(HEAD) + n + 2))
                continue;
            c->blen = LWS_PRE;
            memcpy(c->bf + c->blen, HEAD, sizeof(HEAD) - 1);
            c->blen += sizeof(HEAD) - 1;
            c->tnext = *touched;
            *touched = c;
        } else {
            if (buf_room(c, n + 3))
                continue;
            c->bf[c->blen++] = ',';
        }
        memcpy(c->bf + c->blen, txt, n);
        c->blen += n;
        c->bcount++;
        ws->delivered++;
    }
}

/* From the hub's flush (never inside an lws callback): a client with
 * nothing queued whose socket takes data gets the frame at once, without
 * the writable round trip (two epoll_ctl and a callback per frame, ~22 %
 * of the loop's time in the fan-out benchmark).  lws buffers what the
 * kernel does not take and asks for writable itself.  1 when done. */
static int write_direct(struct sb_ws_client *c, struct frame *f)
{
    if (c->qh || c->dropped || c->close_code || c->ping == 1 || !c->wsi ||
        lws_send_pipe_choked(c->wsi))
        return 0;
    int w = lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
    if (w < (int)f->len) {
        c->close_code = LWS_CLOSE_STATUS_UNEXPECTED_CONDITION;   /* 1011 */
        lws_callback_on_writable(c->wsi);
    }
    frame_free(f);
    return 1;
}

/* Close each touched client's frame and queue it (the buffer moves). */
static void close_frames(struct sb_ws *ws, struct sb_ws_client *touched)
{
    for (struct sb_ws_client *c = touched, *nx; c; c = nx) {
        nx = c->tnext;
        c->tnext = NULL;
        if (buf_room(c, 2) == 0) {
            c->bf[c->blen++] = ']';
            c->bf[c->blen++] = '}';
            struct frame *f = malloc(sizeof(*f));
            if (f) {
                *f = (struct frame){ .nread = c->bcount, .len = c->blen - LWS_PRE,
                                     .buf = (unsigned char *)c->bf };
                c->bf = NULL;
                c->bcap = 0;
                ws->frames++;
                if (!write_direct(c, f))
                    enqueue(c, f);
            }
        }
        c->blen = 0;
        c->bcount = 0;
    }
}

/* Emit every dirty point whose interval has passed; keep the rest. */
static void flush(struct sb_ws *ws, int64_t now)
{
    struct sb_ws_client *touched = NULL;
    size_t keep = 0;

    for (size_t i = 0; i < ws->ndl; i++) {
        uint32_t p = ws->dl[i];
        if (ws->last[p] != INT64_MIN && now - ws->last[p] < ws->interval_ms) {
            ws->dl[keep++] = p;
            continue;
        }
        ws->dirty[p] = 0;
        ws->last[p] = now;
        emit(ws, &ws->pend[p], &touched);
    }
    ws->ndl = keep;
    close_frames(ws, touched);
}

static void on_tick(uv_timer_t *t);

static void arm(struct sb_ws *ws)
{
    if (ws->stopped)
        return;
    /* Due points need a short tick; otherwise once a second for expiry. */
    uint64_t ms = ws->ndl ? (uint64_t)(ws->interval_ms < 10 ? 1 : ws->interval_ms / 4) : 1000;
    uv_timer_start(&ws->tick, on_tick, ms, 0);
}

static void take_in(struct sb_ws *ws)
{
    struct sb_reading *v;
    size_t n, cap;

    pthread_mutex_lock(&ws->mu);
    v = ws->in;
    n = ws->nin;
    cap = ws->capin;
    ws->in = NULL;
    ws->nin = ws->capin = 0;
    pthread_mutex_unlock(&ws->mu);
    for (size_t i = 0; i < n; i++) {
        uint32_t p = v[i].point;
        if (p >= ws->npt || ws->subs[p].n == 0)
            continue;                  /* nobody watches it */
        if (ws->dirty[p] && v[i].t < ws->pend[p].t)
            continue;                  /* late data: the newer stays */
        ws->pend[p] = v[i];
        if (!ws->dirty[p]) {
            if (ws->ndl == ws->capdl) {
                size_t c2 = ws->capdl ? ws->capdl * 2 : 1024;
                uint32_t *d = realloc(ws->dl, c2 * sizeof(*d));
                if (!d)
                    continue;
                ws->dl = d;
                ws->capdl = c2;
            }
            ws->dirty[p] = 1;
            ws->dl[ws->ndl++] = p;
        }
    }
    (void)cap;
    free(v);
}

static void expiry(struct sb_ws *ws, int64_t now)
{
    if (now - ws->last_exp_check < 1000)
        return;
    ws->last_exp_check = now;
    for (struct sb_ws_client *c = ws->clients; c; c = c->next) {
        if (!c->wsi || c->close_code)
            continue;
        if (now - c->last_rx > DROP_AFTER_MS) {
            c->close_code = LWS_CLOSE_STATUS_GOINGAWAY;   /* no pong for a minute */
            lws_callback_on_writable(c->wsi);
            continue;
        }
        if (now - c->last_rx > PING_AFTER_MS && !c->ping) {
            c->ping = 1;
            lws_callback_on_writable(c->wsi);
        }
        if (!c->authed)
            continue;
        if (now >= c->exp_ms) {
            c->close_code = CLOSE_EXPIRED;
            lws_callback_on_writable(c->wsi);
        } else if (!c->reauth_sent && now >= c->exp_ms - REAUTH_MS) {
            char m[80];
            snprintf(m, sizeof(m), "{\"type\":\"reauth\",\"expires_in\":%" PRId64 "}",
                     (c->exp_ms - now) / 1000);
            send_text(c, m, 1);
            c->reauth_sent = 1;
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    struct sb_ws *ws = t->data;
    int64_t now = sb_now_ms();
    take_in(ws);
    flush(ws, now);
    expiry(ws, now);
    arm(ws);
}

static void on_wake(uv_async_t *a)
{
    struct sb_ws *ws = a->data;
    take_in(ws);
    flush(ws, sb_now_ms());
    arm(ws);
}

void sb_ws_publish(struct sb_ws *ws, const struct sb_reading *r, size_t n)
{
    if (!ws || !n)
        return;
    pthread_mutex_lock(&ws->mu);
    if (!ws->stopped && ws->nin + n <= 4u << 20) {   /* bound: a stalled loop drops */
        if (ws->nin + n > ws->capin) {
            size_t cap = ws->capin ? ws->capin : 1024;
            while (cap < ws->nin + n)
                cap *= 2;
            struct sb_reading *v = realloc(ws->in, cap * sizeof(*v));
            if (v) {
                ws->in = v;
                ws->capin = cap;
            }
        }
        if (ws->nin + n <= ws->capin) {
            memcpy(ws->in + ws->nin, r, n * sizeof(*r));
            ws->nin += n;
        }
    }
    int stopped = ws->stopped;
    pthread_mutex_unlock(&ws->mu);
    if (!stopped)
        uv_async_send(&ws->wake);
}

void sb_ws_event(struct sb_ws *ws, const char *channel, const char *json)
{
    char *m = NULL;
    if (!ws || asprintf(&m, "{\"type\":\"event\",\"channel\":\"%s\",\"data\":%s}", channel,
                        json) < 0)
        return;
    for (struct sb_ws_client *c = ws->clients; c; c = c->next)
        for (size_t i = 0; i < c->nev; i++)
            if (c->authed && strcmp(c->ev[i], channel) == 0) {
                send_text(c, m, 1);
                break;
            }
    free(m);
}

/* Whether the principal's grants cover building (a slug): admins see all. */
static int may_see(const struct sb_principal *p, const struct sb_model *m, const char *building)
{
    const struct sb_building *b = sb_model_building(m, building);
    return b && sb_api__in_scope(p, m, (size_t)(b - m->buildings));
}

void sb_ws_event_scoped(struct sb_ws *ws, const char *channel, const char *building,
                        const char *json)
{
    char *m = NULL;
    if (!ws || !building || asprintf(&m, "{\"type\":\"event\",\"channel\":\"%s\",\"data\":%s}",
                                     channel, json) < 0)
        return;
    struct sb_mref *mr = ws->api->ctx.models ? sb_mhub_get(ws->api->ctx.models) : NULL;
    for (struct sb_ws_client *c = ws->clients; mr && c; c = c->next) {
        struct sb_principal p;
        if (!c->authed || sb_api__principal_cached(ws->api, c->uid, &p) ||
            !may_see(&p, mr->m, building))
            continue;
        for (size_t i = 0; i < c->nev; i++)
            if (strcmp(c->ev[i], channel) == 0) {
                send_text(c, m, 1);
                break;
            }
    }
    if (mr)
        sb_mref_put(mr);
    free(m);
}

/* ---- client messages ---------------------------------------------------------- */

/* Points of a channel the principal may see, added to c.  Returns 0, or
 * SB_ENOENT (unknown or out of scope: the same answer). */
static int channel_points(struct sb_ws *ws, struct sb_ws_client *c, const struct sb_principal *p,
                          const struct sb_model *m, const char *ch, size_t *added)
{
    char kind[16];
    const char *val;
    int rc = 0;

    if (sb_ws__channel(ch, kind, sizeof(kind), &val))
        return SB_ENOENT;
#define KIND(s) (strcmp(kind, s) == 0)
    if (KIND("point")) {
        const struct sb_point *pt = sb_api__point(m, val);
        if (!pt || !sb_api__in_scope(p, m, (size_t)pt->building_ix))
            return SB_ENOENT;
        rc = sub_add(ws, c, pt->id);
        *added += rc == 0;
        return rc;
    }
    int bix = -1, zix = -1, eix = -1;
    if (KIND("building")) {
        const struct sb_building *b = sb_model_building(m, val);
        if (!b)
            return SB_ENOENT;
        bix = (int)(b - m->buildings);
    } else if (KIND("zone")) {
        const struct sb_zone *z = sb_model_zone(m, val);
        if (!z)
            return SB_ENOENT;
        zix = (int)(z - m->zones);
        bix = z->building_ix;
    } else if (KIND("equipment")) {
        const struct sb_equipment *e = sb_model_equipment(m, val);
        if (!e)
            return SB_ENOENT;
        eix = (int)(e - m->equipment);
        bix = e->building_ix;
    } else {
        return SB_ENOENT;
    }
#undef KIND
    if (!sb_api__in_scope(p, m, (size_t)bix))
        return SB_ENOENT;
    for (size_t i = 0; i < m->npoints && rc == 0; i++) {
        const struct sb_point *pt = &m->points[i];
        const struct sb_equipment *e = &m->equipment[pt->equipment_ix];
        if (pt->building_ix != bix || (eix >= 0 && pt->equipment_ix != eix) ||
            (zix >= 0 && e->zone_ix != zix) || pt->id == 0)
            continue;
        rc = sub_add(ws, c, pt->id);
        *added += rc == 0;
    }
    return rc;
}

/* After subscribing: the current values at once, so a page fills now. */
static void snapshot(struct sb_ws *ws, struct sb_ws_client *c, size_t from)
{
    struct sb_ws_client *touched = NULL;
    for (size_t i = from; i < c->npts; i++) {
        struct sb_sample s;
        if (sb_live_get(ws->api->live, c->pts[i], &s) == 0) {
            struct sb_reading r = { .t = s.t, .v = s.v, .point = c->pts[i], .q = s.q };
            /* only this client: emit() walks every subscriber */
            struct subs one = { .c = &c, .n = 1, .cap = 1 }, save = ws->subs[r.point];
            ws->subs[r.point] = one;
            emit(ws, &r, &touched);
            ws->subs[r.point] = save;
        }
    }
    close_frames(ws, touched);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int chan_add(struct sb_ws_client *c, const char *ch)
{
    for (size_t i = 0; i < c->nchs; i++)
        if (strcmp(c->chs[i], ch) == 0)
            return 0;
    if (c->nchs == c->capchs) {
        size_t cap = c->capchs ? 2 * c->capchs : 8;
        char (*n)[96] = realloc(c->chs, cap * sizeof(*n));
        if (!n)
            return SB_ENOMEM;
        c->chs = n;
        c->capchs = cap;
    }
    snprintf(c->chs[c->nchs++], sizeof(c->chs[0]), "%s", ch);
    return 0;
}

/* Drops channel ch: its points go unless a channel still subscribed covers
 * them (a building and one of its zones overlap). */
static int unsubscribe(struct sb_ws *ws, struct sb_ws_client *c, const struct sb_principal *p,
                       const struct sb_model *m, const char *ch)
{
    struct sb_ws_client gone = { .ws = ws }, keep = { .ws = ws };
    size_t dummy = 0;
    int rc = channel_points(ws, &gone, p, m, ch, &dummy);

    for (size_t i = 0; i < c->nchs; i++)
        if (strcmp(c->chs[i], ch) == 0) {
            memmove(c->chs[i], c->chs[i + 1], (c->nchs - i - 1) * sizeof(c->chs[0]));
            c->nchs--;
            break;
        }
    for (size_t i = 0; rc == 0 && i < c->nchs; i++)
        channel_points(ws, &keep, p, m, c->chs[i], &dummy);
    if (keep.npts)
        qsort(keep.pts, keep.npts, sizeof(*keep.pts), cmp_u32);
    for (size_t k = 0; rc == 0 && k < gone.npts; k++) {
        uint32_t pt = gone.pts[k];
        if (keep.npts && bsearch(&pt, keep.pts, keep.npts, sizeof(*keep.pts), cmp_u32))
            continue;
        sub_del(ws, c, pt);
        for (size_t j = 0; j < c->npts; j++)
            if (c->pts[j] == pt) {
                c->pts[j] = c->pts[--c->npts];
                break;
            }
    }
    /* the scratch clients registered themselves as subscribers: undo */
    for (size_t k = 0; k < gone.npts; k++)
        sub_del(ws, &gone, gone.pts[k]);
    for (size_t k = 0; k < keep.npts; k++)
        sub_del(ws, &keep, keep.pts[k]);
    free(gone.pts);
    free(keep.pts);
    return rc;
}

static void on_subscribe(struct sb_ws *ws, struct sb_ws_client *c, json_t *msg, int add)
{
    json_t *id = json_object_get(msg, "id"), *chs = json_object_get(msg, "channels"), *v;
    struct sb_principal *p = malloc(sizeof(*p));
    size_t i, added = 0, before = c->npts;

    if (!p)
        return;
    if (!json_is_array(chs) || json_array_size(chs) > 1000) {
        send_error(c, id, "invalid", "channels must be an array of at most 1000 strings");
        goto out;
    }
    memset(p, 0, sizeof(*p));
    p->uid = c->uid;
    if (sb_api__principal_cached(ws->api, c->uid, p) != 0) {
        send_error(c, id, "unavailable", "account not loaded; authenticate again");
        goto out;
    }
    struct sb_mref *mr = ws->api->ctx.models ? sb_mhub_get(ws->api->ctx.models) : NULL;
    json_t *ok = json_array();
    json_array_foreach(chs, i, v) {
        const char *ch = json_string_value(v);
        if (!ch || strlen(ch) > 90) {
            send_error(c, id, "invalid", "a channel must be a string of at most 90 bytes");
            continue;
        }
        if (strcmp(ch, "alerts") == 0 || strcmp(ch, "commands") == 0) {
            size_t k = 0;
            while (k < c->nev && strcmp(c->ev[k], ch) != 0)
                k++;
            if (add && k == c->nev && c->nev < EVCH_MAX)
                snprintf(c->ev[c->nev++], sizeof(c->ev[0]), "%s", ch);
            else if (!add && k < c->nev)
                memmove(c->ev[k], c->ev[k + 1], (--c->nev - k) * sizeof(c->ev[0]));
            json_array_append(ok, v);
            continue;
        }
        if (!add) {
            if (mr && unsubscribe(ws, c, p, mr->m, ch) == 0)
                json_array_append(ok, v);
            continue;
        }
        int rc = mr ? channel_points(ws, c, p, mr->m, ch, &added) : SB_ENOENT;
        if (rc == 0)
            rc = chan_add(c, ch);
        if (rc == 0) {
            json_array_append(ok, v);
        } else {
            char m[160];
            snprintf(m, sizeof(m), "%s: %s", ch,
                     rc == SB_ENOENT ? "no such channel (or not in your scope)"
                                     : "too many points for one client");
            send_error(c, id, rc == SB_ENOENT ? "not_found" : "limit", m);
        }
    }
    sb_mref_put(mr);
    json_t *ans = json_pack("{s:s, s:o, s:I}", "type", add ? "subscribed" : "unsubscribed",
                            "channels", ok, "points", (json_int_t)c->npts);
    if (ans && id)
        json_object_set(ans, "id", id);
    send_json(c, ans);
    if (add && added)
        snapshot(ws, c, before);
out:
    free(p);
}

struct authjob {
    uv_work_t w;
    struct sb_ws_client *c;
    struct sb_principal who;
    int rc;
};

static void client_free(struct sb_ws_client *c);

static void ready(struct sb_ws_client *c, const struct sb_principal *who)
{
    int first = !c->authed;
    if (c->authed && who->uid != c->uid) {
        c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;   /* another user's token */
        lws_callback_on_writable(c->wsi);
        return;
    }
    c->authed = 1;
    c->reauth_sent = 0;
    c->uid = who->uid;
    c->exp_ms = who->exp_ms;
    snprintf(c->username, sizeof(c->username), "%s", who->username);
    snprintf(c->sid, sizeof(c->sid), "%s", who->sid);
    lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
    json_t *v = json_pack("{s:s, s:s, s:I}", "type", first ? "ready" : "reauthed", "user",
                          who->username, "expires_in",
                          (json_int_t)((who->exp_ms - sb_now_ms()) / 1000));
    send_json(c, v);
}

static void auth_work(uv_work_t *w)
{
    struct authjob *j = w->data;
    j->rc = sb_api__principal_load(j->c->ws->api, j->who.uid, &j->who);
}

static void auth_after(uv_work_t *w, int status)
{
    struct authjob *j = w->data;
    struct sb_ws_client *c = j->c;
    c->jobs--;
    c->ws->jobs--;
    if (c->wsi) {
        if (status || j->rc) {
            c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
            lws_callback_on_writable(c->wsi);
        } else {
            ready(c, &j->who);
        }
    } else if (c->jobs == 0) {
        client_free(c);
    }
    free(j);
}

static void on_auth(struct sb_ws *ws, struct sb_ws_client *c, json_t *msg)
{
    const char *tok = json_string_value(json_object_get(msg, "token"));
    struct sb_principal *who = malloc(sizeof(*who));
    if (!who)
        return;
    int rc = tok ? sb_api__authenticate(ws->api, tok, who) : SB_EINVAL;
    if (rc == 0) {
        if (who->must_change_pw)
            rc = SB_EINVAL;
        else
            ready(c, who);
    } else if (rc == SB_EAGAIN) {
        struct authjob *j = calloc(1, sizeof(*j));
        if (j) {
            j->c = c;
            j->who = *who;
            j->w.data = j;
            if (uv_queue_work(ws->api->loop, &j->w, auth_work, auth_after) == 0) {
                c->jobs++;
                ws->jobs++;
            } else {
                free(j);
                rc = SB_EIO;
            }
        }
    }
    free(who);
    if (rc && rc != SB_EAGAIN) {
        send_error(c, NULL, rc == SB_ETIMEDOUT ? "token_expired" : "invalid_token",
                   "authentication failed");
        if (!c->authed) {
            c->close_code = LWS_CLOSE_STATUS_POLICY_VIOLATION;
            lws_callback_on_writable(c->wsi);
        }
    }
}

int sb_ws__parse(const char *s, size_t n, json_t **out)
{
    json_error_t e;
    json_t *msg = n <= RX_MAX ? json_loadb(s, n, JSON_REJECT_DUPLICATES, &e) : NULL;
    const char *type = json_string_value(json_object_get(msg, "type"));
    int t = SB_WS_M_BAD;

    if (msg && json_is_object(msg) && type) {
        t = strcmp(type, "auth") == 0          ? SB_WS_M_AUTH
          : strcmp(type, "subscribe") == 0     ? SB_WS_M_SUB
          : strcmp(type, "unsubscribe") == 0   ? SB_WS_M_UNSUB
          : strcmp(type, "ping") == 0          ? SB_WS_M_PING : SB_WS_M_OTHER;
    }
    if (t == SB_WS_M_AUTH && !json_is_string(json_object_get(msg, "token")))
        t = SB_WS_M_BAD;
    if ((t == SB_WS_M_SUB || t == SB_WS_M_UNSUB) &&
        !json_is_array(json_object_get(msg, "channels")))
        t = SB_WS_M_BAD;
    if (t == SB_WS_M_BAD) {
        json_decref(msg);
        msg = NULL;
    }
    *out = msg;
    return t;
}

int sb_ws__channel(const char *ch, char *kind, size_t kcap, const char **val)
{
    size_t n = strlen(ch), kl = strcspn(ch, ":");
    if (n == 0 || n > 90 || kl >= kcap)
        return SB_EINVAL;
    memcpy(kind, ch, kl);
    kind[kl] = '\0';
    *val = ch[kl] ? ch + kl + 1 : "";
    if (strcmp(kind, "alerts") == 0 || strcmp(kind, "commands") == 0)
        return **val ? SB_EINVAL : 0;
    if (strcmp(kind, "point") && strcmp(kind, "equipment") && strcmp(kind, "zone") &&
        strcmp(kind, "building"))
        return SB_EINVAL;
    return **val && strlen(*val) <= SB_SLUG_MAX ? 0 : SB_EINVAL;
}

static void on_message(struct sb_ws_client *c, const char *s, size_t n)
{
    json_t *msg;
    int t = sb_ws__parse(s, n, &msg);

    if (t == SB_WS_M_BAD) {
        send_error(c, NULL, "invalid", "send JSON objects with a \"type\" (auth needs a "
                   "\"token\", subscribe a \"channels\" array)");
    } else if (t == SB_WS_M_AUTH) {
        on_auth(c->ws, c, msg);
    } else if (!c->authed) {
        send_error(c, json_object_get(msg, "id"), "unauthenticated", "authenticate first");
    } else if (t == SB_WS_M_SUB || t == SB_WS_M_UNSUB) {
        on_subscribe(c->ws, c, msg, t == SB_WS_M_SUB);
    } else if (t == SB_WS_M_PING) {
        send_text(c, "{\"type\":\"pong\"}", 1);
    } else {
        send_error(c, json_object_get(msg, "id"), "invalid", "unknown message type");
    }
    json_decref(msg);
}

/* ---- lws callbacks ------------------------------------------------------------ */

int sb_ws__filter(struct sb_api *api, struct lws *wsi)
{
    char uri[64], origin[256], host[256];
    struct sb_ws *ws = api->ws;

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
        strcmp(uri, "/api/v1/ws") != 0)
        return -1;
    if (ws->stopped || ws->nclients >= ws->max_clients)
        return -1;
    /* Cross-site WebSocket hijacking: a browser always sends Origin; it
     * must be this server or an allowed origin. */
    if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) > 0) {
        int ok = 0;
        const char *o = strstr(origin, "://");
        if (o && lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST) > 0 &&
            strcmp(o + 3, host) == 0)
            ok = 1;
        for (size_t i = 0; i < api->ncors && !ok; i++)
            ok = strcmp(api->cors[i], origin) == 0;
        if (!ok)
            return -1;
    }
    return 0;
}

int sb_ws__open(struct sb_api *api, struct lws *wsi, struct sb_ws_client **slot)
{
    struct sb_ws *ws = api->ws;
    struct sb_ws_client *c = calloc(1, sizeof(*c));
    if (!c)
        return -1;
    c->ws = ws;
    c->wsi = wsi;
    c->slot = slot;
    *slot = c;
    c->next = ws->clients;
    if (ws->clients)
        ws->clients->prev = c;
    ws->clients = c;
    ws->nclients++;
    c->last_rx = sb_now_ms();
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, AUTH_TIMEOUT_S);
    return 0;
}

int sb_ws__rx(struct sb_ws_client *c, const void *in, size_t len)
{
    c->last_rx = sb_now_ms();
    c->ping = 0;
    int final = lws_is_final_fragment(c->wsi);
    if (lws_frame_is_binary(c->wsi))
        return -1;                     /* text only */
    if (final && !c->rx) {
        on_message(c, in, len);
        return 0;
    }
    if (c->rxlen + len > RX_MAX) {
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
        return -1;
    }
    char *b = realloc(c->rx, c->rxlen + len + 1);
    if (!b)
        return -1;
    c->rx = b;
    memcpy(c->rx + c->rxlen, in, len);
    c->rxlen += len;
    if (final) {
        on_message(c, c->rx, c->rxlen);
        free(c->rx);
        c->rx = NULL;
        c->rxlen = 0;
    }
    return 0;
}

void sb_ws__pong(struct sb_ws_client *c)
{
    c->last_rx = sb_now_ms();
    c->ping = 0;
}

int sb_ws__writable(struct sb_ws_client *c)
{
    if (c->ping == 1 && !c->close_code) {
        unsigned char b[LWS_PRE];
        c->ping = 2;                       /* sent; cleared by the next frame or pong */
        if (lws_write(c->wsi, b + LWS_PRE, 0, LWS_WRITE_PING) < 0)
            return -1;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    if (c->dropped && !c->close_code) {
        char m[64];
        int n = snprintf(m, sizeof(m), "{\"type\":\"lagged\",\"dropped\":%" PRIu64 "}",
                         c->dropped);
        unsigned char b[LWS_PRE + 64];
        memcpy(b + LWS_PRE, m, (size_t)n);
        if (lws_write(c->wsi, b + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n)
            return -1;
        c->dropped = 0;
        lws_callback_on_writable(c->wsi);
        return 0;
    }
    struct frame *f = c->qh;
    if (!f) {
        if (!c->close_code)
            return 0;
        /* What was queued (e.g. the error saying why) went first. */
        const char *why = c->close_code == CLOSE_EXPIRED ? "token expired" : "policy";
        lws_close_reason(c->wsi, (enum lws_close_status)c->close_code,
                         (unsigned char *)why, strlen(why));
        return -1;
    }
    c->qh = f->next;
    if (!c->qh)
        c->qt = NULL;
    c->qbytes -= f->len;
    int w = lws_write(c->wsi, f->buf + LWS_PRE, f->len, LWS_WRITE_TEXT);
    int ok = w >= (int)f->len;
    frame_free(f);
    if (!ok)
        return -1;
    if (c->qh || c->close_code)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static void client_free(struct sb_ws_client *c)
{
    while (c->qh) {
        struct frame *f = c->qh;
        c->qh = f->next;
        frame_free(f);
    }
    free(c->pts);
    free(c->chs);
    free(c->bf);
    free(c->rx);
    free(c);
}

void sb_ws__closed(struct sb_ws_client *c)
{
    struct sb_ws *ws = c->ws;
    for (size_t i = 0; i < c->npts; i++)
        sub_del(ws, c, c->pts[i]);
    c->npts = 0;
    if (c->prev)
        c->prev->next = c->next;
    else
        ws->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    ws->nclients--;
    c->wsi = NULL;
    if (c->slot)
        *c->slot = NULL;
    if (c->jobs == 0)
        client_free(c);
}

/* ---- life cycle -------------------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h)
{
    ((struct sb_ws *)h->data)->handles--;
}

int sb_ws_new(struct sb_api *api, struct sb_ws **out)
{
    struct sb_ws *ws = calloc(1, sizeof(*ws));
    const struct sb_config *cfg = api->ctx.cfg;
    if (!ws)
        return SB_ENOMEM;
    ws->api = api;
    double rate = cfg ? cfg->ws_max_rate : 10;
    ws->interval_ms = rate > 0 ? (int64_t)(1000.0 / rate) : 0;
    ws->qmax = cfg ? (size_t)cfg->ws_client_queue : 256 * 1024;
    ws->max_clients = cfg ? (size_t)cfg->ws_max_clients : 20000;
    pthread_mutex_init(&ws->mu, NULL);
    uv_async_init(api->loop, &ws->wake, on_wake);
    uv_timer_init(api->loop, &ws->tick);
    ws->wake.data = ws->tick.data = ws;
    ws->handles = 2;
    uv_timer_start(&ws->tick, on_tick, 1000, 0);
    *out = ws;
    return 0;
}

size_t sb_ws_clients(struct sb_ws *ws)
{
    return ws ? ws->nclients : 0;
}

void sb_ws_stop(struct sb_ws *ws)
{
    if (!ws || ws->stopped)
        return;
    pthread_mutex_lock(&ws->mu);
    ws->stopped = 1;
    pthread_mutex_unlock(&ws->mu);
    uv_close((uv_handle_t *)&ws->wake, on_handle_closed);
    uv_close((uv_handle_t *)&ws->tick, on_handle_closed);
}

int sb_ws_idle(struct sb_ws *ws)
{
    return !ws || (ws->handles == 0 && ws->jobs == 0);
}

void sb_ws_free(struct sb_ws *ws)
{
    if (!ws)
        return;
    while (ws->clients) {
        struct sb_ws_client *c = ws->clients;
        ws->clients = c->next;
        client_free(c);                /* lws (and the pss slot) are gone by now */
    }
    for (uint32_t i = 0; i < ws->npt; i++)
        free(ws->subs[i].c);
    free(ws->subs);
    free(ws->pend);
    free(ws->last);
    free(ws->dirty);
    free(ws->dl);
    free(ws->in);
    pthread_mutex_destroy(&ws->mu);
    free(ws);
}

/*
 * http_routes.c - what each endpoint answers (status, Content-Type, body).
 *
 * index/healthz/readyz run on the loop thread and touch nothing slow;
 * sb_http__run_job() reads the store and runs on a thread-pool thread.  The
 * body formats are documented in docs/internals/http.md.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/http_int.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/ingest.h"
#include "store/store.h"

#define CT_JSON "application/json"
#define CT_HTML "text/html; charset=utf-8"

void sb_http__resp_init(struct sb_http__resp *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 500;
    r->ctype = CT_JSON;
    r->fd = -1;
    sb_http__buf_init(&r->body, SB_HTTP_BODY_MAX);
}

void sb_http__resp_release(struct sb_http__resp *r)
{
    sb_http__buf_release(&r->body);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

void sb_http__hdr(struct sb_http__resp *r, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (r->nx >= SB_HTTP_XHDRS)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(r->x[r->nx].value, sizeof(r->x[0].value), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(r->x[0].value))
        return;
    r->x[r->nx++].name = name;
}

void sb_http__error(struct sb_http__resp *r, int status, const char *code, const char *msg)
{
    struct sb_http__buf *b = &r->body;

    sb_http__buf_reset(b);
    r->status = status;
    r->ctype = CT_JSON;
    r->gzip = 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    sb_http__buf_puts(b, "{\"error\":{\"code\":");
    sb_http__buf_jstr(b, code);
    sb_http__buf_puts(b, ",\"message\":");
    sb_http__buf_jstr(b, msg);
    sb_http__buf_puts(b, "}}\n");
}

/* A store error as an HTTP answer. */
static void store_error(struct sb_http__resp *r, int rc)
{
    if (rc == SB_ENOENT)
        sb_http__error(r, 404, "not_found", "no such point");
    else if (rc == SB_ENOTSUP)
        sb_http__error(r, 501, "not_supported", "not supported by this store backend");
    else if (rc == SB_ECLOSED || rc == SB_EAGAIN)
        sb_http__error(r, 503, "unavailable", sb_strerror(rc));
    else
        sb_http__error(r, 500, "internal", sb_strerror(rc));
}

/* Turn a body that hit its ceiling or ran out of memory into a 500. */
static void finish_body(struct sb_http__resp *r)
{
    if (r->body.err)
        sb_http__error(r, 500, "internal", r->body.err == SB_ENOSPC ? "response too large"
                                                                    : sb_strerror(r->body.err));
}

void sb_http__index(const struct sb_http_ctx *ctx, struct sb_http__resp *r)
{
    struct sb_http__buf *b = &r->body;

    r->status = 200;
    r->ctype = CT_HTML;
    sb_http__buf_puts(b,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>sbems</title></head>\n<body>\n<h1>sbems is running</h1>\n<p>Version ");
    sb_http__buf_html(b, ctx->version ? ctx->version : "unknown");
    sb_http__buf_puts(b,
        "</p>\n<ul>\n"
        "<li><a href=\"/healthz\">/healthz</a> - the process answers</li>\n"
        "<li><a href=\"/readyz\">/readyz</a> - store and drivers are ready</li>\n"
        "<li><a href=\"/api/v1/status\">/api/v1/status</a> - version, uptime, store and "
        "ingest counters</li>\n"
        "<li><a href=\"/api/v1/points/1/latest\">/api/v1/points/{id}/latest</a> - a point's "
        "newest reading</li>\n"
        "<li><a href=\"/api/v1/points/1/series?res=15m\">/api/v1/points/{id}/series"
        "?res=raw|1m|15m|1h|1d|1mo&amp;from=&amp;to=&amp;limit=&amp;kind=</a> - readings "
        "or rollups</li>\n</ul>\n</body></html>\n");
    finish_body(r);
}

void sb_http__healthz(struct sb_http__resp *r)
{
    r->status = 200;
    sb_http__buf_puts(&r->body, "{\"status\":\"ok\"}\n");
    finish_body(r);
}

void sb_http__readyz(const struct sb_http_ctx *ctx, struct sb_http__resp *r)
{
    int ok = ctx->ready ? ctx->ready(ctx->ud) == 1 : ctx->store != NULL;

    struct sb_store_info si;

    r->status = ok ? 200 : 503;
    r->retry_after = ok ? 0 : 1;
    sb_http__buf_puts(&r->body, ok ? "{\"status\":\"ready\"" : "{\"status\":\"not_ready\"");
    /* The store as found at start (no I/O here: readyz runs on the loop). */
    if (ctx->store && ctx->store->ops && sb_store_info(ctx->store, &si) == 0) {
        sb_http__buf_puts(&r->body, ",\"store\":{\"backend\":");
        sb_http__buf_jstr(&r->body, si.backend ? si.backend : "?");
        sb_http__buf_puts(&r->body, ",\"version\":");
        sb_http__buf_jstr(&r->body, si.version);
        sb_http__buf_printf(&r->body, ",\"timescaledb\":%s,\"partitioned\":%s}",
                            si.timescaledb ? "true" : "false", si.partitioned ? "true" : "false");
    }
    sb_http__buf_puts(&r->body, "}\n");
    finish_body(r);
}

/* "key":value for an unsigned counter; sep is "," or "". */
static void kv_u64(struct sb_http__buf *b, const char *sep, const char *key, uint64_t v)
{
    sb_http__buf_printf(b, "%s\"%s\":%" PRIu64, sep, key, v);
}

static void status_store(const struct sb_http_ctx *ctx, struct sb_http__buf *b)
{
    struct sb_store_stats st;
    struct sb_store_h *h = ctx->store;

    if (!h || !h->ops) {
        sb_http__buf_puts(b, "null");
        return;
    }
    memset(&st, 0, sizeof(st));
    int rc = sb_store_stats(h, &st);
    sb_http__buf_puts(b, "{\"backend\":");
    sb_http__buf_jstr(b, h->ops->name ? h->ops->name : "?");
    if (rc) {
        sb_http__buf_puts(b, ",\"error\":");
        sb_http__buf_jstr(b, sb_strerror(rc));
    } else {
        kv_u64(b, ",", "appended", st.appended);
        kv_u64(b, ",", "batches", st.batches);
        kv_u64(b, ",", "flushes", st.flushes);
        kv_u64(b, ",", "buffered", st.buffered);
        kv_u64(b, ",", "chunks", st.chunks);
        kv_u64(b, ",", "raw_samples", st.raw_samples);
        kv_u64(b, ",", "spooled", st.spooled);
        sb_http__buf_printf(b, ",\"db_bytes\":%" PRId64, st.db_bytes);
    }
    sb_http__buf_puts(b, "}");
}

static void status_ingest(const struct sb_http_ctx *ctx, struct sb_http__buf *b)
{
    struct sb_ingest_stats st;

    if (!ctx->ingest) {
        sb_http__buf_puts(b, "null");
        return;
    }
    memset(&st, 0, sizeof(st));
    sb_ingest_get_stats(ctx->ingest, &st);
    kv_u64(b, "{", "submitted", st.submitted);
    kv_u64(b, ",", "queued", st.queued);
    kv_u64(b, ",", "written", st.written);
    kv_u64(b, ",", "batches", st.batches);
    kv_u64(b, ",", "full_waits", st.full_waits);
    kv_u64(b, ",", "store_errors", st.store_errors);
    kv_u64(b, ",", "depth", st.depth);
    sb_http__buf_puts(b, ",\"rejected\":{");
    for (int i = 0; i < SB_REJ_COUNT; i++)
        kv_u64(b, i ? "," : "", sb_reject_name((enum sb_reject)i), st.rejected[i]);
    sb_http__buf_puts(b, "}}");
}

static void do_status(const struct sb_http_ctx *ctx, const struct sb_http__job *job,
                      struct sb_http__resp *r)
{
    struct sb_http__buf *b = &r->body;
    char t0[40], t1[40];
    int64_t now = sb_now_ms();

    r->status = 200;
    sb_http__buf_puts(b, "{\"version\":");
    sb_http__buf_jstr(b, ctx->version ? ctx->version : "unknown");
    sb_http__buf_printf(b, ",\"started\":\"%s\",\"now\":\"%s\",\"uptime_s\":%" PRId64,
                        sb_time_format(job->started_ms, t0, sizeof(t0)),
                        sb_time_format(now, t1, sizeof(t1)), (now - job->started_ms) / 1000);
    sb_http__buf_puts(b, ",\"store\":");
    status_store(ctx, b);
    sb_http__buf_puts(b, ",\"ingest\":");
    status_ingest(ctx, b);
    kv_u64(b, ",\"http\":{", "served", job->served);
    kv_u64(b, ",", "busy", job->busy);
    kv_u64(b, ",", "accept_errors", job->accept_errors);
    sb_http__buf_puts(b, "}}\n");
    finish_body(r);
}

static void do_latest(const struct sb_http_ctx *ctx, const struct sb_http__job *job,
                      struct sb_http__resp *r)
{
    struct sb_store_h *h = ctx->store;
    struct sb_sample s = { .t = INT64_MIN };
    char t[40];

    int rc = sb_store_latest(h, &job->point, 1, &s);
    if (rc == 0 && s.t == INT64_MIN)
        rc = SB_ENOENT;
    if (rc == SB_ENOENT) {
        sb_http__error(r, 404, "not_found", "no reading for this point");
        return;
    }
    if (rc) {
        store_error(r, rc);
        return;
    }
    r->status = 200;
    sb_http__buf_printf(&r->body, "{\"point\":%" PRIu32 ",\"t\":\"%s\",\"ts\":%" PRId64
                        ",\"value\":", job->point, sb_time_format(s.t, t, sizeof(t)), s.t);
    sb_http__buf_num(&r->body, s.v);
    sb_http__buf_printf(&r->body, ",\"quality\":%u}\n", (unsigned)s.q);
    finish_body(r);
}

/* The part every series answer starts with. */
static void series_head(struct sb_http__buf *b, const struct sb_http__job *job)
{
    const struct sb_http__series_q *q = &job->q;

    sb_http__buf_printf(b, "{\"point\":%" PRIu32 ",\"res\":\"%s\"", job->point,
                        sb_res_name(q->res));
    if (q->res != SB_RES_RAW)
        sb_http__buf_printf(b, ",\"kind\":\"%s\"", sb_http__kind_name(q->kind));
    sb_http__buf_printf(b, ",\"from\":%" PRId64 ",\"to\":%" PRId64 ",\"limit\":%zu",
                        q->from, q->to, q->limit);
}

/* count, truncated and next (first time not returned, for paging). */
static void series_tail(struct sb_http__buf *b, size_t count, int truncated, int64_t next)
{
    sb_http__buf_printf(b, "],\"count\":%zu,\"truncated\":%s,\"next\":", count,
                        truncated ? "true" : "false");
    if (truncated)
        sb_http__buf_printf(b, "%" PRId64 "}\n", next);
    else
        sb_http__buf_puts(b, "null}\n");
}

static void series_raw(struct sb_store_h *h, const struct sb_http__job *job,
                       struct sb_http__resp *r)
{
    struct sb_samples s = { 0 };
    struct sb_http__buf *b = &r->body;
    const size_t limit = job->q.limit;

    /* One more than asked tells whether the answer is complete. */
    int rc = sb_store_range_raw(h, job->point, job->q.from, job->q.to, limit + 1, &s);
    if (rc) {
        store_error(r, rc);
        goto out;
    }
    size_t n = s.n > limit ? limit : s.n;
    r->status = 200;
    series_head(b, job);
    sb_http__buf_puts(b, ",\"samples\":[");
    for (size_t i = 0; i < n && !b->err; i++) {
        sb_http__buf_printf(b, "%s{\"ts\":%" PRId64 ",\"value\":", i ? "," : "", s.v[i].t);
        sb_http__buf_num(b, s.v[i].v);
        sb_http__buf_printf(b, ",\"quality\":%u}", (unsigned)s.v[i].q);
    }
    series_tail(b, n, s.n > limit, s.n > limit ? s.v[limit].t : 0);
    finish_body(r);
out:
    sb_samples_release(&s);
}

/* One bucket: start, n, min, max (null when no sample fell inside), the
 * value of the requested kind, quality, and peak for rate/counter. */
static void bucket(struct sb_http__buf *b, enum sb_agg_kind kind, const struct sb_agg *a,
                   int first)
{
    sb_http__buf_printf(b, "%s{\"start\":%" PRId64 ",\"n\":%" PRIu32 ",\"min\":",
                        first ? "" : ",", a->start, a->n);
    sb_http__buf_num(b, a->n ? a->min : NAN);
    sb_http__buf_puts(b, ",\"max\":");
    sb_http__buf_num(b, a->n ? a->max : NAN);
    sb_http__buf_puts(b, ",\"value\":");
    sb_http__buf_num(b, sb_agg_value(kind, a));
    if (kind == SB_AGG_RATE || kind == SB_AGG_COUNTER) {
        sb_http__buf_puts(b, ",\"peak\":");
        sb_http__buf_num(b, a->peak);
    }
    sb_http__buf_printf(b, ",\"quality\":%u}", (unsigned)a->qor);
}

static void series_agg(struct sb_store_h *h, const struct sb_http__job *job,
                       struct sb_http__resp *r)
{
    struct sb_aggs a = { 0 };
    struct sb_http__buf *b = &r->body;
    const size_t limit = job->q.limit;

    int rc = sb_store_range_agg(h, job->point, job->q.res, job->q.from, job->q.to, &a);
    if (rc) {
        store_error(r, rc);
        goto out;
    }
    size_t n = a.n > limit ? limit : a.n;
    r->status = 200;
    series_head(b, job);
    sb_http__buf_puts(b, ",\"buckets\":[");
    for (size_t i = 0; i < n && !b->err; i++)
        bucket(b, job->q.kind, &a.v[i], i == 0);
    series_tail(b, n, a.n > limit, a.n > limit ? a.v[limit].start : 0);
    finish_body(r);
out:
    sb_aggs_release(&a);
}

void sb_http__run_job(const struct sb_http_ctx *ctx, const struct sb_http__job *job,
                      struct sb_http__resp *r)
{
    if (job->route == SB_HTTP_R_STATUS) {
        do_status(ctx, job, r);
        return;
    }
    if (!ctx->store || !ctx->store->ops) {
        sb_http__error(r, 503, "unavailable", "the store is not open");
        r->retry_after = 1;
        return;
    }
    if (job->route == SB_HTTP_R_LATEST)
        do_latest(ctx, job, r);
    else if (job->q.res == SB_RES_RAW)
        series_raw(ctx->store, job, r);
    else
        series_agg(ctx->store, job, r);
}

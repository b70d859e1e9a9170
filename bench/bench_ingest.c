/*
 * bench_ingest.c - durable ingest throughput and bytes per reading of the
 * sbems store behind the ingest pipeline.
 *
 *   bench_ingest -d work_dir [-n readings] [-P producers] [-p n60] [-m n15]
 *                [-b per_submit] [-D class_days] [-S sync_full] [-t max_s]
 *                [-B sqlite|postgres] [-U libpq_connection_string]
 *
 * -B postgres runs the same on the PostgreSQL backend (the database at -U is
 * emptied of sbems tables first); its results are named sbpg_* instead of
 * sb_*, and bytes are what PostgreSQL reports for the tables.
 * Throughput: a store in work_dir/site (sqlite backend, every commit fsynced
 * unless -S 0, like the anchors), the pipeline over it, and P producer threads
 * that submit the site's readings (bench.h: n60 points every 60 s, the same
 * data as the anchors, plus n15 meters every 15 s) as fast as they can, -b
 * readings per submit.  Each producer owns every P-th point, so each point's
 * readings arrive in time order, as from a driver; the readings are generated
 * before the clock starts.  Reported:
 *   sb_ingest_per_s       readings / (first submit -> last ticket durable and
 *                         a final flush has sealed everything into chunks and
 *                         rollups)
 *   sb_ingest_nofl_per_s  the same up to the last ticket durable only
 *   sb_site_bytes_per_reading  all files in work_dir/site after close / readings
 * Bytes per reading by class (stores of their own, appended directly in time
 * order, flushed and closed, then every file counted):
 *   sb_temp_bytes_per_reading   1,000 zone temperatures, 0.1 degC, 60 s, D days
 *   sb_meter_bytes_per_reading  50 power (0.1 kW) + 50 energy (0.01 kWh)
 *                               meters, 15 s, D days
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"
#include "ingest/ingest.h"
#include "store/store.h"

/* Command-line settings. */
struct opts {
    const char *dir;       /* work directory (subdirectories are created) */
    int64_t n;             /* readings to ingest through the pipeline */
    int64_t producers;     /* producer threads */
    int64_t n60, n15;      /* site: 60-s points, 15-s meters */
    int64_t per_submit;    /* readings per sb_ingest_submit() */
    int64_t class_days;    /* days of data for the bytes/reading classes */
    int64_t sync_full;     /* store sync policy */
    int64_t max_s;         /* time cap for each phase, seconds */
};

/* Holds the producers until every one exists, so they start together. */
struct gate {
    pthread_mutex_t mu;           /* protects open */
    pthread_cond_t  cv;           /* signalled when open changes */
    int open;                     /* 0 wait, 1 go, -1 give up (a thread failed to start) */
};

/* One producer thread: its pre-generated readings and what came of them. */
struct producer {
    struct sb_ingest *ing;        /* pipeline (shared) */
    struct gate *go;              /* start signal (shared) */
    struct sb_reading *r;         /* its readings (owned by main) */
    size_t   n;                   /* number of readings */
    size_t   per_submit;          /* readings per call */
    int64_t  deadline_ns;         /* stop submitting after this (monotonic) */
    uint64_t ticket;              /* highest ticket received */
    size_t   queued, rejected;    /* outcome totals */
    int      rc;                  /* 0 or the first hard error */
};

/* How the store aggregates each kind of generated point. */
static struct sb_agg_ctx agg_of(const struct sb_bench_point *p)
{
    struct sb_agg_ctx c = { .kind = SB_AGG_MEAN };
    if (p->kind == SB_BENCH_POWER) {
        c.kind = SB_AGG_RATE;
        c.max_hold_ms = 3 * p->period_ms;   /* a missed poll or two holds; longer is a gap */
    } else if (p->kind == SB_BENCH_ENERGY) {
        c.kind = SB_AGG_COUNTER;
    }
    return c;
}

/* Plausible validation ranges, so ingest checks them as in the daemon. */
static void range_of(enum sb_bench_kind k, double *lo, double *hi)
{
    static const double r[SB_BENCH_KIND_COUNT][2] = {
        { -50.0, 100.0 }, { 0.0, 100.0 }, { 0.0, 100000.0 }, { 0.0, 1e12 },
    };
    *lo = r[k][0];
    *hi = r[k][1];
}

/* Tell the store (and, if ing != NULL, the pipeline) about points p[0..n). */
static int register_points(struct sb_store_h *h, struct sb_ingest *ing,
                           const struct sb_bench_point *p, size_t n)
{
    struct sb_point_meta *m = calloc(n, sizeof *m);
    struct sb_ingest_point *ip = calloc(n, sizeof *ip);
    int rc = (m && ip) ? 0 : SB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        m[i] = (struct sb_point_meta){ .id = p[i].id, .agg = agg_of(&p[i]), .tz = NULL };
        ip[i].id = p[i].id;
        range_of(p[i].kind, &ip[i].vmin, &ip[i].vmax);
    }
    if (rc == 0)
        rc = h->ops->set_points(h->s, m, n);
    if (rc == 0 && ing)
        rc = sb_ingest_set_points(ing, ip, n);
    free(ip);
    free(m);
    return rc;
}

static int open_store(const char *dir, const char *sub, int sync_full, struct sb_store_h *h,
                      char *path, size_t len)
{
    snprintf(path, len, "%s/%s", dir, sub);
    struct sb_store_cfg cfg = { .dir = path, .sync_full = sync_full,  /* 0: backend defaults */
                                .url = sb_bench_url() };
    int rc = sb_bench_pg() ? sb_bench_pg_fresh() : 0;
    if (rc == 0)
        rc = sb_store_open(sb_bench_backend(), &cfg, h);
    if (rc)
        fprintf(stderr, "bench_ingest: open %s: %s\n", path, sb_strerror(rc));
    return rc;
}

static int gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->open == 0)
        pthread_cond_wait(&g->cv, &g->mu);
    int open = g->open;
    pthread_mutex_unlock(&g->mu);
    return open;
}

static void gate_set(struct gate *g, int open)
{
    pthread_mutex_lock(&g->mu);
    g->open = open;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void *producer_main(void *arg)
{
    struct producer *pr = arg;
    size_t off = gate_wait(pr->go) > 0 ? 0 : pr->n;
    while (off < pr->n && sb_bench_now_ns() < pr->deadline_ns) {
        size_t k = pr->n - off < pr->per_submit ? pr->n - off : pr->per_submit;
        struct sb_ingest_result res = { 0 };
        int rc = sb_ingest_submit(pr->ing, pr->r + off, k, 1000, &res);
        if (rc != 0 && rc != SB_EAGAIN) {
            pr->rc = rc;
            break;
        }
        if (res.ticket > pr->ticket)
            pr->ticket = res.ticket;
        pr->queued += res.queued;
        pr->rejected += res.rejected;
        off += res.queued + res.rejected;   /* a full queue leaves the rest for the next call */
    }
    return NULL;
}

/* Split the site among producers (every P-th point) and generate each one's
 * share of the n readings, in time order. */
static int make_producers(const struct opts *o, struct sb_bench_point *all, size_t np,
                          struct producer *pr)
{
    size_t P = (size_t)o->producers;
    for (size_t k = 0; k < P; k++) {
        size_t mine = (np - k + P - 1) / P, j = 0;
        struct sb_bench_point *pts = calloc(mine, sizeof *pts);
        size_t want = (size_t)o->n / P + (k < (size_t)o->n % P);
        pr[k].r = malloc(want * sizeof *pr[k].r);
        if (!pts || !pr[k].r) {
            free(pts);
            return SB_ENOMEM;
        }
        for (size_t i = k; i < np; i += P)
            pts[j++] = all[i];
        struct sb_bench_stream st;
        sb_bench_stream_init(&st, pts, mine, SB_BENCH_T0_MS);
        pr[k].n = sb_bench_stream_fill(&st, pr[k].r, want);
        pr[k].per_submit = (size_t)o->per_submit;
        free(pts);
    }
    return 0;
}

/* Start the producers together, join them; *ticket gets the highest ticket. */
static int run_producers(const struct opts *o, struct sb_ingest *ing, struct producer *pr,
                         uint64_t *ticket, size_t *queued)
{
    size_t P = (size_t)o->producers, started = 0;
    pthread_t *th = calloc(P, sizeof *th);
    struct gate go = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };
    if (!th)
        return SB_ENOMEM;
    int64_t deadline = sb_bench_now_ns() + o->max_s * INT64_C(1000000000);
    for (size_t k = 0; k < P; k++) {
        pr[k].ing = ing;
        pr[k].go = &go;
        pr[k].deadline_ns = deadline;
        if (pthread_create(&th[k], NULL, producer_main, &pr[k]) != 0)
            break;
        started++;
    }
    int rc = started == P ? 0 : SB_ENOMEM;
    gate_set(&go, rc == 0 ? 1 : -1);
    for (size_t k = 0; k < started; k++) {
        pthread_join(th[k], NULL);
        if (pr[k].rc && !rc)
            rc = pr[k].rc;
        if (pr[k].rejected)
            fprintf(stderr, "bench_ingest: producer %zu: %zu readings rejected\n", k, pr[k].rejected);
        *ticket = pr[k].ticket > *ticket ? pr[k].ticket : *ticket;
        *queued += pr[k].queued;
    }
    free(th);
    return rc;
}

/* Run the pipeline over the open store: producers submit, wait for the last
 * ticket, flush, stop.  Reports both rates; *queued gets the readings taken. */
static int pipeline_run(const struct opts *o, struct sb_store_h *h, const struct sb_bench_point *pts,
                        size_t np, struct producer *pr, size_t *queued)
{
    struct sb_ingest_cfg icfg = {
        .queue_cap = 1u << 20, .batch_max = 65536, .linger_ms = 5,
        .future_limit_ms = SB_BENCH_DAY_MS, .too_old_ms = 0, .flush_interval_ms = 10000,
    };
    struct sb_ingest *ing = NULL;
    uint64_t ticket = 0;
    int rc = sb_ingest_new(h, NULL, &icfg, &ing);
    if (rc == 0)
        rc = register_points(h, ing, pts, np);
    if (rc)
        goto out;
    int64_t t0 = sb_bench_now_ns();
    rc = run_producers(o, ing, pr, &ticket, queued);
    if (rc == 0)
        rc = sb_ingest_wait(ing, ticket, o->max_s * 1000);
    int64_t t_durable = sb_bench_now_ns();
    if (rc == 0)
        rc = sb_ingest_flush(ing, o->max_s * 1000);
    int64_t t_sealed = sb_bench_now_ns();
    if (rc == 0)
        rc = sb_ingest_stop(ing);
    if (rc == 0 && *queued > 0) {
        double n = (double)*queued;
        fprintf(stderr, "bench_ingest: %zu readings durable in %.2f s, sealed after %.2f s\n",
                *queued, (double)(t_durable - t0) / 1e9, (double)(t_sealed - t0) / 1e9);
        sb_bench_result("sb_ingest_readings", n, "readings");
        sb_bench_result("sb_ingest_per_s", n * 1e9 / (double)(t_sealed - t0), "readings/s");
        sb_bench_result("sb_ingest_nofl_per_s", n * 1e9 / (double)(t_durable - t0), "readings/s");
    }
out:
    if (ing)
        sb_ingest_free(ing);
    return rc;
}

/* Throughput through the pipeline into work_dir/site, then its bytes/reading. */
static int bench_site(const struct opts *o)
{
    size_t np = (size_t)(o->n60 + o->n15), queued = 0;
    struct sb_bench_point *pts = calloc(np, sizeof *pts);
    struct producer *pr = calloc((size_t)o->producers, sizeof *pr);
    struct sb_store_h h = { 0 };
    char path[4096];
    int rc = (pts && pr) ? 0 : SB_ENOMEM;
    if (rc == 0) {
        sb_bench_site_init(pts, (size_t)o->n60, (size_t)o->n15, SB_BENCH_T0_MS);
        rc = make_producers(o, pts, np, pr);
    }
    if (rc == 0)
        rc = open_store(o->dir, "site", (int)o->sync_full, &h, path, sizeof path);
    if (rc == 0)
        rc = pipeline_run(o, &h, pts, np, pr, &queued);
    int64_t bytes = -1;
    if (sb_bench_pg() && h.ops) {
        sb_store_flush(&h);
        bytes = sb_bench_store_bytes(&h, path);
    }
    sb_store_close(&h);
    if (!sb_bench_pg())
        bytes = sb_bench_store_bytes(&h, path);
    if (rc == 0 && queued > 0) {
        if (bytes > 0)
            sb_bench_result("sb_site_bytes_per_reading", (double)bytes / (double)queued, "B/reading");
    } else if (rc) {
        fprintf(stderr, "bench_ingest: site: %s\n", sb_strerror(rc));
    }
    for (int64_t k = 0; pr && k < o->producers; k++)
        free(pr[k].r);
    free(pr);
    free(pts);
    return rc;
}

/* Append the stream over p[0..n) up to t_end directly to a fresh store in
 * work_dir/sub, flush, close; report bytes/reading as name. */
static int bench_class(const struct opts *o, const char *sub, struct sb_bench_point *p, size_t n,
                       int64_t t_end, const char *name)
{
    struct sb_store_h h = { 0 };
    struct sb_bench_stream st;
    struct sb_reading *blk = malloc(65536 * sizeof *blk);
    char path[4096], rname[96];
    int64_t total = 0, deadline = sb_bench_now_ns() + o->max_s * INT64_C(1000000000);
    int rc = blk ? open_store(o->dir, sub, (int)o->sync_full, &h, path, sizeof path) : SB_ENOMEM;
    if (rc == 0)
        rc = register_points(&h, NULL, p, n);
    sb_bench_stream_init(&st, p, n, SB_BENCH_T0_MS);
    int64_t t0 = sb_bench_now_ns();
    while (rc == 0 && sb_bench_now_ns() < deadline) {
        size_t k = sb_bench_stream_fill(&st, blk, 65536);
        while (k > 0 && blk[k - 1].t >= t_end)
            k--;                            /* time order: the tail is past the end */
        if (k == 0)
            break;
        rc = sb_store_append(&h, blk, k);
        total += (int64_t)k;
    }
    if (rc == 0)
        rc = sb_store_flush(&h);
    double secs = (double)(sb_bench_now_ns() - t0) / 1e9;
    int64_t bytes = sb_bench_pg() && h.ops ? sb_bench_store_bytes(&h, path) : -1;
    sb_store_close(&h);
    if (!sb_bench_pg())
        bytes = sb_bench_store_bytes(&h, path);
    if (rc == 0 && total > 0 && bytes > 0) {
        fprintf(stderr, "bench_ingest: %s: %lld readings, %lld bytes, %.1f s\n", sub,
                (long long)total, (long long)bytes, secs);
        sb_bench_result(name, (double)bytes / (double)total, "B/reading");
        snprintf(rname, sizeof rname, "sb_%s_append_per_s", sub);
        sb_bench_result(rname, (double)total / secs, "readings/s");
    } else if (rc) {
        fprintf(stderr, "bench_ingest: %s: %s\n", sub, sb_strerror(rc));
    }
    free(blk);
    return rc;
}

static int bench_classes(const struct opts *o)
{
    int64_t t_end = SB_BENCH_T0_MS + o->class_days * SB_BENCH_DAY_MS;
    struct sb_bench_point *p = calloc(1000, sizeof *p);
    if (!p)
        return SB_ENOMEM;
    for (uint32_t i = 0; i < 1000; i++)
        sb_bench_point_init(&p[i], i + 1, SB_BENCH_TEMP, SB_BENCH_MIN_MS, SB_BENCH_T0_MS);
    int rc = bench_class(o, "temp", p, 1000, t_end, "sb_temp_bytes_per_reading");
    for (uint32_t i = 0; i < 100; i++)
        sb_bench_point_init(&p[i], i + 1, i % 2 ? SB_BENCH_ENERGY : SB_BENCH_POWER, 15000,
                            SB_BENCH_T0_MS);
    int rc2 = bench_class(o, "meter", p, 100, t_end, "sb_meter_bytes_per_reading");
    free(p);
    return rc ? rc : rc2;
}

static int parse(int argc, char **argv, struct opts *o)
{
    int ch, rc = 0;
    int64_t *dst;
    const char *backend = "sqlite", *url = "";
    while (rc == 0 && (ch = getopt(argc, argv, "d:n:P:p:m:b:D:S:t:B:U:")) != -1) {
        switch (ch) {
        case 'd': o->dir = optarg; continue;
        case 'B': backend = optarg; continue;
        case 'U': url = optarg; continue;
        case 'n': dst = &o->n; break;
        case 'P': dst = &o->producers; break;
        case 'p': dst = &o->n60; break;
        case 'm': dst = &o->n15; break;
        case 'b': dst = &o->per_submit; break;
        case 'D': dst = &o->class_days; break;
        case 'S': dst = &o->sync_full; break;
        case 't': dst = &o->max_s; break;
        default: return SB_EINVAL;
        }
        char opt[3] = { '-', (char)ch, 0 };
        rc = sb_bench_arg_int(opt, optarg, 0, INT64_C(1) << 40, dst);
    }
    if (rc == 0 && (!o->dir || o->n < 1 || o->producers < 1 || o->producers > 64 ||
                    o->n60 + o->n15 < (int64_t)o->producers || o->n60 + o->n15 > 1000000 ||
                    o->per_submit < 1 || o->class_days < 1 || o->sync_full > 1))
        rc = SB_EINVAL;
    if (rc == 0 && sb_bench_set_backend(backend, url) != 0)
        rc = SB_EINVAL;
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .n = 20000000, .producers = 2, .n60 = 1000, .n15 = 100, .per_submit = 5000,
        .class_days = 7, .sync_full = 1, .max_s = 600,
    };
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s -d work_dir [-n readings] [-P producers] [-p n60] [-m n15] "
                        "[-b per_submit] [-D class_days] [-S sync_full 0|1] [-t max_s] "
                        "[-B sqlite|postgres] [-U libpq_url]\n", argv[0]);
        return 2;
    }
    if (mkdir(o.dir, 0700) != 0 && access(o.dir, W_OK) != 0) {
        perror(o.dir);
        return 1;
    }
    int rc = bench_site(&o);
    int rc2 = bench_classes(&o);
    return rc || rc2 ? 1 : 0;
}

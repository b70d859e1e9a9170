/*
 * bench_rss.c - resident memory of a process holding what the daemon holds
 * for data: an open store, the ingest pipeline with a live bus, and 10,000
 * points under a steady trickle of readings, with a dashboard-like reader.
 *
 *   bench_rss -d work_dir [-n points] [-s seconds] [-R readings_per_s]
 *
 * Every 100 ms it submits R/10 readings of the next instants of the points
 * (bench.h data, 60-s period, so simulated time runs faster than the wall
 * clock: at R = 5,000/s, 30 simulated seconds per second, which also makes
 * the store seal and roll up as it would over hours); every second it reads
 * the latest value of 100 points and one point's last day at 15 min, as a
 * dashboard would, and samples VmRSS.  Store and pipeline use their default
 * sizes (cache 0 = backend default, queue as the daemon's example config).
 * Reports VmHWM (peak resident set, /proc/self/status, proc(5)) at the end,
 * the highest VmRSS sampled, and the RSS before the store was opened.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"
#include "ingest/bus.h"
#include "ingest/ingest.h"
#include "store/store.h"

#define TICK_NS   INT64_C(100000000)  /* 100 ms between submits */
#define DASH_PTS  100                 /* points on the "dashboard" */

/* Command-line settings. */
struct opts {
    const char *dir;       /* work directory; the store goes in dir/store */
    int64_t points;        /* points held */
    int64_t secs;          /* how long to run */
    int64_t rate;          /* readings per second submitted */
};

/* Everything the process holds. */
struct rig {
    struct sb_store_h h;   /* the store */
    struct sb_bus *bus;    /* live bus (no subscribers: the daemon's minimum) */
    struct sb_ingest *ing; /* the pipeline */
    struct sb_bench_point *p; /* generator state of every point */
    struct sb_bench_stream st; /* time-ordered readings of all points */
    int64_t max_rss;       /* highest VmRSS sampled, bytes */
};

static struct sb_agg_ctx agg_of(enum sb_bench_kind k)
{
    struct sb_agg_ctx c = { .kind = SB_AGG_MEAN };
    if (k == SB_BENCH_POWER)
        c = (struct sb_agg_ctx){ .kind = SB_AGG_RATE, .max_hold_ms = 3 * SB_BENCH_MIN_MS };
    else if (k == SB_BENCH_ENERGY)
        c.kind = SB_AGG_COUNTER;
    return c;
}

static int register_points(struct rig *g, size_t n)
{
    struct sb_point_meta *m = calloc(n, sizeof *m);
    struct sb_ingest_point *ip = calloc(n, sizeof *ip);
    int rc = (m && ip) ? 0 : SB_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        m[i] = (struct sb_point_meta){ .id = g->p[i].id, .agg = agg_of(g->p[i].kind) };
        ip[i] = (struct sb_ingest_point){ .id = g->p[i].id, .vmin = -1e9, .vmax = 1e12 };
    }
    if (rc == 0)
        rc = g->h.ops->set_points(g->h.s, m, n);
    if (rc == 0)
        rc = sb_ingest_set_points(g->ing, ip, n);
    free(ip);
    free(m);
    return rc;
}

static int rig_open(struct rig *g, const struct opts *o)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/store", o->dir);
    struct sb_store_cfg cfg = { .dir = path, .sync_full = 1 };
    struct sb_ingest_cfg icfg = {
        .queue_cap = 65536, .batch_max = 8192, .linger_ms = 50,
        .future_limit_ms = SB_BENCH_DAY_MS, .too_old_ms = 0, .flush_interval_ms = 10000,
    };
    g->p = calloc((size_t)o->points, sizeof *g->p);
    if (!g->p)
        return SB_ENOMEM;
    sb_bench_site_init(g->p, (size_t)o->points, 0, SB_BENCH_T0_MS);
    sb_bench_stream_init(&g->st, g->p, (size_t)o->points, SB_BENCH_T0_MS);
    int rc = sb_store_open("sqlite", &cfg, &g->h);
    if (rc == 0)
        rc = sb_bus_new(&g->bus);
    if (rc == 0)
        rc = sb_ingest_new(&g->h, g->bus, &icfg, &g->ing);
    if (rc == 0)
        rc = register_points(g, (size_t)o->points);
    return rc;
}

static void rig_close(struct rig *g)
{
    if (g->ing)
        sb_ingest_free(g->ing);
    if (g->bus)
        sb_bus_free(g->bus);
    sb_store_close(&g->h);
    free(g->p);
}

/* What a dashboard refresh reads: latest of DASH_PTS points, one day at 15 min. */
static int dashboard(struct rig *g, int64_t now_sim, uint64_t k, uint32_t npoints)
{
    uint32_t ids[DASH_PTS];
    struct sb_sample out[DASH_PTS];
    for (uint32_t i = 0; i < DASH_PTS; i++)
        ids[i] = 1 + (uint32_t)((k * DASH_PTS + i) % npoints);
    int rc = g->h.ops->latest(g->h.s, ids, DASH_PTS, out);
    struct sb_aggs a = { 0 };
    if (rc == 0)
        rc = g->h.ops->range_agg(g->h.s, ids[0], SB_RES_15M, now_sim - SB_BENCH_DAY_MS, now_sim, &a);
    sb_aggs_release(&a);
    return rc;
}

static void sleep_until(int64_t t_ns)
{
    int64_t d = t_ns - sb_bench_now_ns();
    if (d > 0) {
        struct timespec ts = { .tv_sec = d / 1000000000, .tv_nsec = d % 1000000000 };
        nanosleep(&ts, NULL);
    }
}

/* The trickle: o->secs seconds of ticks, bounded by their count. */
static int trickle(struct rig *g, const struct opts *o)
{
    size_t per_tick = (size_t)(o->rate / 10 > 0 ? o->rate / 10 : 1);
    struct sb_reading *r = malloc(per_tick * sizeof *r);
    int64_t ticks = o->secs * 10, t0 = sb_bench_now_ns();
    uint64_t submitted = 0, late = 0;
    int rc = r ? 0 : SB_ENOMEM;
    for (int64_t i = 0; rc == 0 && i < ticks; i++) {
        size_t k = sb_bench_stream_fill(&g->st, r, per_tick);
        struct sb_ingest_result res = { 0 };
        rc = sb_ingest_submit(g->ing, r, k, 1000, &res);
        if (rc == SB_EAGAIN) {          /* the writer fell behind for a second: note, go on */
            late += k - res.queued;
            rc = 0;
        }
        submitted += res.queued;
        if (i % 10 == 9) {
            if (rc == 0)
                rc = dashboard(g, r[k - 1].t, (uint64_t)i / 10, (uint32_t)o->points);
            int64_t rss = sb_bench_proc_status("VmRSS");
            g->max_rss = rss > g->max_rss ? rss : g->max_rss;
        }
        sleep_until(t0 + (i + 1) * TICK_NS);
    }
    fprintf(stderr, "bench_rss: %llu readings submitted (%llu refused, queue full) in %.1f s%s%s\n",
            (unsigned long long)submitted, (unsigned long long)late,
            (double)(sb_bench_now_ns() - t0) / 1e9,
            rc ? ": " : "", rc ? sb_strerror(rc) : "");
    free(r);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = { .points = 10000, .secs = 120, .rate = 5000 };
    int ch, bad = 0;
    int64_t *dst;
    while (!bad && (ch = getopt(argc, argv, "d:n:s:R:")) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; continue;
        case 'n': dst = &o.points; break;
        case 's': dst = &o.secs; break;
        case 'R': dst = &o.rate; break;
        default: bad = 1; continue;
        }
        char opt[3] = { '-', (char)ch, 0 };
        bad = sb_bench_arg_int(opt, optarg, 1, INT64_C(1) << 32, dst) != 0;
    }
    if (bad || !o.dir || o.points < DASH_PTS || o.points > 1000000 || o.secs > 86400) {
        fprintf(stderr, "usage: %s -d work_dir [-n points>=%d] [-s seconds] [-R readings_per_s]\n",
                argv[0], DASH_PTS);
        return 2;
    }
    if (mkdir(o.dir, 0700) != 0 && access(o.dir, W_OK) != 0) {
        perror(o.dir);
        return 1;
    }
    int64_t base = sb_bench_proc_status("VmRSS");
    struct rig g = { 0 };
    int rc = rig_open(&g, &o);
    if (rc == 0)
        rc = trickle(&g, &o);
    if (rc == 0) {
        sb_bench_result("sb_rss_base_bytes", (double)base, "bytes");
        sb_bench_result("sb_rss_max_sampled_bytes", (double)g.max_rss, "bytes");
        sb_bench_result("sb_rss_hwm_bytes", (double)sb_bench_proc_status("VmHWM"), "bytes");
    } else {
        fprintf(stderr, "bench_rss: %s\n", sb_strerror(rc));
    }
    rig_close(&g);
    return rc ? 1 : 0;
}

/*
 * bench_query.c - read latency of the sbems store on a year of history.
 *
 *   bench_query -d work_dir [-p points] [-D days] [-r reps] [-T max_s_per_query]
 *               [-L max_load_s] [-S sync_full] [-B sqlite|postgres] [-U url]
 *
 * -B postgres: the same on the PostgreSQL backend (results named sbpg_*).
 * Loads points 1..p (the 60-s site of bench.h: temperatures, humidity, power,
 * energy registers) for D days of 1-minute readings (default 1,000 x 365 =
 * 525.6 M readings) with the store's append (batches of 100,000 in time
 * order, as a backfill would), then flushes.  Reports the load rate
 * (generation included) and bytes/reading (all files, after closing the
 * store; the store is then opened again so that queries read from disk, as
 * after a restart).  If the load passes -L seconds it
 * stops there and the queries use the days actually loaded (reported as
 * sb_qset_days).
 *
 * Then, after one warm-up run each, up to -r timed repetitions (at most -T
 * seconds) of the queries the PostgreSQL anchor also runs (same points,
 * chosen by bench.h):
 *   year_hourly    range_agg(one temperature, 1h, the whole period)
 *   all_day_hourly range_agg(each of the p points, 1h, the last day)
 *   zones_raw      range_raw(each of 50 zone temperatures, the last day)
 *   energy_daily   range_agg(one energy register, 1d, the whole period)
 * reporting p50 and p99 in ms.  Each repetition takes the next point or
 * building, so the runs do not just re-read one cached series.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"
#include "store/store.h"

#define LOAD_BATCH 100000
#define ZONES      50

/* Command-line settings. */
struct opts {
    const char *dir;       /* work directory; the store goes in dir/store */
    int64_t points;        /* 60-s points */
    int64_t days;          /* days of history */
    int64_t reps;          /* timed repetitions per query */
    int64_t rep_s;         /* time cap per query, seconds */
    int64_t load_s;        /* time cap for the load, seconds */
    int64_t sync_full;     /* store sync policy */
};

/* What a query run needs: the open store, the period, the loaded points. */
struct ctx {
    struct sb_store_h h;   /* open store */
    uint32_t points;       /* ids 1..points were loaded */
    int64_t t0, t1;        /* the period loaded [t0, t1) */
    double check;          /* checksum of what the queries returned (keeps them honest) */
    size_t items;          /* buckets or samples returned, summed */
    int64_t loaded;        /* readings loaded */
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

static int set_points(struct ctx *c, const struct sb_bench_point *p, size_t n)
{
    struct sb_point_meta *m = calloc(n, sizeof *m);
    if (!m)
        return SB_ENOMEM;
    for (size_t i = 0; i < n; i++)
        m[i] = (struct sb_point_meta){ .id = p[i].id, .agg = agg_of(p[i].kind), .tz = NULL };
    int rc = c->h.ops->set_points(c->h.s, m, n);
    free(m);
    return rc;
}

/* Append the period in time order; c->t1 gets the end actually reached. */
static int load(struct ctx *c, const struct opts *o, struct sb_bench_point *p, size_t n)
{
    struct sb_reading *blk = malloc(LOAD_BATCH * sizeof *blk);
    struct sb_bench_stream st;
    int64_t t_end = c->t0 + o->days * SB_BENCH_DAY_MS, total = 0;
    int64_t t_start = sb_bench_now_ns(), deadline = t_start + o->load_s * INT64_C(1000000000);
    int rc = blk ? 0 : SB_ENOMEM;
    sb_bench_stream_init(&st, p, n, c->t0);
    c->t1 = c->t0;
    while (rc == 0) {
        if (sb_bench_now_ns() > deadline) {
            /* Keep whole days, so "the last day" is a full day. */
            fprintf(stderr, "bench_query: load time cap reached\n");
            t_end = c->t0 + (c->t1 - c->t0) / SB_BENCH_DAY_MS * SB_BENCH_DAY_MS;
            break;
        }
        size_t k = sb_bench_stream_fill(&st, blk, LOAD_BATCH);
        while (k > 0 && blk[k - 1].t >= t_end)
            k--;
        if (k == 0)
            break;
        rc = sb_store_append(&c->h, blk, k);
        total += (int64_t)k;
        c->t1 = blk[k - 1].t + 1;
    }
    if (rc == 0)
        rc = sb_store_flush(&c->h);
    double secs = (double)(sb_bench_now_ns() - t_start) / 1e9;
    c->t1 = t_end;
    if (rc == 0 && total > 0) {
        fprintf(stderr, "bench_query: loaded %lld readings in %.1f s\n", (long long)total, secs);
        sb_bench_result("sb_qset_readings", (double)total, "readings");
        sb_bench_result("sb_qset_days", (double)(c->t1 - c->t0) / SB_BENCH_DAY_MS, "days");
        sb_bench_result("sb_qset_load_per_s", (double)total / secs, "readings/s");
        c->loaded = total;
    }
    free(blk);
    return rc;
}

/* Close the loaded store (its files are then complete: count them), and
 * open it again, so the queries read what is on disk as after a restart. */
static int reopen(struct ctx *c, const struct sb_store_cfg *cfg, const struct sb_bench_point *p,
                  size_t n, const char *dir)
{
    int64_t bytes = sb_bench_pg() ? (sb_store_flush(&c->h), sb_bench_store_bytes(&c->h, dir)) : -1;
    sb_store_close(&c->h);
    if (!sb_bench_pg())
        bytes = sb_bench_store_bytes(&c->h, dir);
    if (bytes > 0 && c->loaded > 0)
        sb_bench_result("sb_qset_bytes_per_reading", (double)bytes / (double)c->loaded, "B/reading");
    int rc = sb_store_open(sb_bench_backend(), cfg, &c->h);
    return rc ? rc : set_points(c, p, n);
}

static int q_agg(struct ctx *c, uint32_t point, enum sb_res r, int64_t t0, int64_t t1)
{
    struct sb_aggs a = { 0 };
    int rc = c->h.ops->range_agg(c->h.s, point, r, t0, t1, &a);
    if (rc == 0 && a.n == 0)
        rc = SB_ENOENT;                 /* every query here must find data */
    for (size_t i = 0; rc == 0 && i < a.n; i++)
        c->check += (double)a.v[i].n + a.v[i].sum + a.v[i].delta;
    c->items += a.n;
    sb_aggs_release(&a);
    return rc;
}

static int q_raw(struct ctx *c, uint32_t point, int64_t t0, int64_t t1)
{
    struct sb_samples s = { 0 };
    int rc = c->h.ops->range_raw(c->h.s, point, t0, t1, 0, &s);
    if (rc == 0 && s.n == 0)
        rc = SB_ENOENT;
    for (size_t i = 0; rc == 0 && i < s.n; i++)
        c->check += s.v[i].v;
    c->items += s.n;
    sb_samples_release(&s);
    return rc;
}

/* The four queries; rep picks the point or building. */
static int q_year_hourly(struct ctx *c, uint64_t rep)
{
    return q_agg(c, sb_bench_nth_of_kind(SB_BENCH_TEMP, c->points, rep), SB_RES_1H, c->t0, c->t1);
}

static int q_all_day_hourly(struct ctx *c, uint64_t rep)
{
    (void)rep;
    int rc = 0;
    for (uint32_t id = 1; rc == 0 && id <= c->points; id++)
        rc = q_agg(c, id, SB_RES_1H, c->t1 - SB_BENCH_DAY_MS, c->t1);
    return rc;
}

static int q_zones_raw(struct ctx *c, uint64_t rep)
{
    uint32_t ids[ZONES];
    size_t n = sb_bench_zones(c->points, rep, ids, ZONES);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = q_raw(c, ids[i], c->t1 - SB_BENCH_DAY_MS, c->t1);
    return rc;
}

static int q_energy_daily(struct ctx *c, uint64_t rep)
{
    return q_agg(c, sb_bench_nth_of_kind(SB_BENCH_ENERGY, c->points, rep), SB_RES_1D, c->t0, c->t1);
}

/* One warm-up run, then up to o->reps timed runs within o->rep_s seconds. */
static int time_query(struct ctx *c, const struct opts *o, const char *name,
                      int (*fn)(struct ctx *, uint64_t))
{
    double *ms = calloc((size_t)o->reps, sizeof *ms);
    if (!ms)
        return SB_ENOMEM;
    c->items = 0;
    int rc = fn(c, 0);
    size_t n = 0, warm_items = c->items;
    int64_t cap = sb_bench_now_ns() + o->rep_s * INT64_C(1000000000);
    for (int64_t i = 0; rc == 0 && i < o->reps && sb_bench_now_ns() < cap; i++) {
        int64_t t = sb_bench_now_ns();
        rc = fn(c, (uint64_t)i);
        ms[n++] = (double)(sb_bench_now_ns() - t) / 1e6;
    }
    char rname[96];
    fprintf(stderr, "bench_query: %s: %zu items per run, %zu runs (checksum %g)%s%s\n", name,
            warm_items, n, c->check,
            rc ? ": " : "", rc ? sb_strerror(rc) : "");
    if (rc == 0 && n > 0) {
        snprintf(rname, sizeof rname, "sb_q_%s_p50_ms", name);
        sb_bench_result(rname, sb_bench_pct(ms, n, 50), "ms");
        snprintf(rname, sizeof rname, "sb_q_%s_p99_ms", name);
        sb_bench_result(rname, sb_bench_pct(ms, n, 99), "ms");
    }
    free(ms);
    return rc;
}

static int run(const struct opts *o)
{
    struct ctx c = { .points = (uint32_t)o->points, .t0 = SB_BENCH_T0_MS };
    struct sb_bench_point *p = calloc((size_t)o->points, sizeof *p);
    char path[4096];
    snprintf(path, sizeof path, "%s/store", o->dir);
    struct sb_store_cfg cfg = { .dir = path, .sync_full = (int)o->sync_full,
                                .url = sb_bench_url() };
    int rc = p ? 0 : SB_ENOMEM;
    if (rc == 0 && sb_bench_pg())
        rc = sb_bench_pg_fresh();
    if (rc == 0)
        rc = sb_store_open(sb_bench_backend(), &cfg, &c.h);
    if (rc)
        goto out;
    sb_bench_site_init(p, (size_t)o->points, 0, c.t0);
    rc = set_points(&c, p, (size_t)o->points);
    if (rc == 0)
        rc = load(&c, o, p, (size_t)o->points);
    if (rc == 0)
        rc = reopen(&c, &cfg, p, (size_t)o->points, o->dir);
    if (rc == 0 && c.t1 - c.t0 < SB_BENCH_DAY_MS)
        rc = SB_ERANGE;                 /* not even one day loaded: nothing to query */
    static const struct {
        const char *name;               /* result name stem */
        int (*fn)(struct ctx *, uint64_t);
    } qs[] = {
        { "year_hourly", q_year_hourly }, { "all_day_hourly", q_all_day_hourly },
        { "zones_raw", q_zones_raw }, { "energy_daily", q_energy_daily },
    };
    for (size_t i = 0; rc == 0 && i < sizeof qs / sizeof qs[0]; i++)
        rc = time_query(&c, o, qs[i].name, qs[i].fn);
out:
    if (rc)
        fprintf(stderr, "bench_query: %s\n", sb_strerror(rc));
    sb_store_close(&c.h);
    free(p);
    return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
    int ch, rc = 0;
    int64_t *dst;
    const char *backend = "sqlite", *url = "";
    while (rc == 0 && (ch = getopt(argc, argv, "d:p:D:r:T:L:S:B:U:")) != -1) {
        switch (ch) {
        case 'd': o->dir = optarg; continue;
        case 'B': backend = optarg; continue;
        case 'U': url = optarg; continue;
        case 'p': dst = &o->points; break;
        case 'D': dst = &o->days; break;
        case 'r': dst = &o->reps; break;
        case 'T': dst = &o->rep_s; break;
        case 'L': dst = &o->load_s; break;
        case 'S': dst = &o->sync_full; break;
        default: return SB_EINVAL;
        }
        char opt[3] = { '-', (char)ch, 0 };
        rc = sb_bench_arg_int(opt, optarg, 0, INT64_C(1) << 40, dst);
    }
    if (rc == 0 && (!o->dir || o->points < 10 || o->points > 1000000 || o->days < 1 ||
                    o->days > 3660 || o->reps < 1 || o->sync_full > 1))
        rc = SB_EINVAL;
    if (rc == 0 && sb_bench_set_backend(backend, url) != 0)
        rc = SB_EINVAL;
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = { .points = 1000, .days = 365, .reps = 50, .rep_s = 60, .load_s = 3000,
                      .sync_full = 1 };
    if (parse(argc, argv, &o)) {
        fprintf(stderr, "usage: %s -d work_dir [-p points>=10] [-D days] [-r reps] "
                        "[-T max_s_per_query] [-L max_load_s] [-S sync_full 0|1] "
                        "[-B sqlite|postgres] [-U libpq_url]\n", argv[0]);
        return 2;
    }
    if (mkdir(o.dir, 0700) != 0 && access(o.dir, W_OK) != 0) {
        perror(o.dir);
        return 1;
    }
    return run(&o) ? 1 : 0;
}

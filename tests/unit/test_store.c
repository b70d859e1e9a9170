/*
 * test_store.c - the embedded SQLite store against real database files.
 *
 * Expected values are computed here directly from the samples (sums, counts,
 * extremes, register advances over local-time windows), not by the store's
 * own rollup code; the incremental path is also checked against a store fed
 * the same data in another order (late and out-of-order batches), across
 * seals, restarts and a crash.
 */
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/err.h"
#include "core/tz.h"
#include "store/store.h"
#include "tap.h"

#define MIN_MS 60000LL
#define T0 1772323200000LL   /* 2026-03-01T00:00:00Z */

static char tmpl[] = "/tmp/sbems-test-store-XXXXXX";
static char *root;
static int dirn;
/* The suite runs once per backend: the embedded store always, PostgreSQL
 * when SBEMS_TEST_PG_URL names a server (tests/pg/pg-run starts one). */
static const char *backend = "sqlite";
static const char *pg_base;          /* SBEMS_TEST_PG_URL */

/* A new, empty store: a directory for SQLite; for PostgreSQL a schema of
 * its own, named after the directory's number, reached through search_path. */
static void newdir(char *out, size_t cap)
{
    int k = dirn++;
    snprintf(out, cap, "%s/%d", root, k);
    if (!pg_base)
        return;
    PGconn *c = PQconnectdb(pg_base);
    char sql[128];
    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS t%d CASCADE; "
             "CREATE SCHEMA t%d", k, k);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        printf("# schema t%d: %s\n", k, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* The connection string of the store "dir" names (PostgreSQL). */
static void store_url(const char *dir, char *out, size_t cap)
{
    const char *k = strrchr(dir, '/');
    snprintf(out, cap, "%s options='-c search_path=t%s'", pg_base, k ? k + 1 : dir);
}

static int open_cfg(const char *dir, struct sb_store_cfg *cfg, struct sb_store_h *h)
{
    char url[1024];
    if (pg_base) {
        store_url(dir, url, sizeof(url));
        cfg->url = url;
    }
    return sb_store_open(backend, cfg, h);
}

static int open_store(const char *dir, struct sb_store_h *h, int64_t flush_samples)
{
    struct sb_store_cfg cfg = { .dir = dir, .sync_full = 0, .cache_bytes = 8 << 20,
                                .flush_samples = flush_samples };
    return open_cfg(dir, &cfg, h);
}

static const struct sb_tz *NY;

static void metas(struct sb_point_meta *m)
{
    /* 1: temperature (MEAN), 2: energy register (COUNTER, modulus 100000),
     * 3: power (RATE), all in New York */
    for (int i = 0; i < 3; i++) {
        memset(&m[i], 0, sizeof(m[i]));
        m[i].id = (uint32_t)i + 1;
        m[i].tz = NY;
        m[i].agg.max_hold_ms = 15 * MIN_MS;
    }
    m[0].agg.kind = SB_AGG_MEAN;
    m[1].agg.kind = SB_AGG_COUNTER;
    m[1].agg.counter_max = 100000;
    m[2].agg.kind = SB_AGG_RATE;
}

/* Three days of 1-minute data for the three points around the US DST start
 * (2026-03-08): temps at 0.1 degC, a register that rolls over, power. */
static size_t make_data(struct sb_reading **out)
{
    size_t n = 0, cap = 3 * 3 * 1440 * 3;
    struct sb_reading *r = malloc(cap * sizeof(*r));
    double reg = 99000.0;
    uint64_t seed = 42;
    for (int64_t t = T0 + 6 * 86400000LL; t < T0 + 9 * 86400000LL; t += MIN_MS) {
        double temp = round((21.0 + 2.0 * sin((double)t / 3.6e6 / 24 * 6.283) +
                             (double)(tap_rand(&seed) % 10) / 10.0) * 10) / 10;
        double kw = round((40 + 20 * sin((double)t / 5e6) + (double)(tap_rand(&seed) % 50) / 10) * 10) / 10;
        reg += kw / 60.0;
        double rv = round(fmod(reg, 100000.0) * 100) / 100;
        r[n++] = (struct sb_reading){ .t = t, .v = temp, .point = 1 };
        r[n++] = (struct sb_reading){ .t = t, .v = rv, .point = 2 };
        r[n++] = (struct sb_reading){ .t = t, .v = kw, .point = 3 };
    }
    *out = r;
    return n;
}

static int append_chunks(struct sb_store_h *h, const struct sb_reading *r, size_t n, size_t step)
{
    for (size_t i = 0; i < n; i += step) {
        int rc = sb_store_append(h, r + i, i + step <= n ? step : n - i);
        if (rc)
            return rc;
    }
    return 0;
}

TEST(raw_roundtrip_and_latest)
{
    char dir[256];
    struct sb_store_h h;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(dir, sizeof(dir));
    REQUIRE(open_store(dir, &h, 20000) == 0);
    metas(m);
    CHECK_EQ(h.ops->set_points(h.s, m, 3), 0);
    CHECK_EQ(append_chunks(&h, r, n, 5000), 0);
    struct sb_samples out = { 0 };
    CHECK_EQ(h.ops->range_raw(h.s, 2, INT64_MIN / 2, INT64_MAX / 2, 0, &out), 0);
    size_t k = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].point != 2)
            continue;
        if (k >= out.n || out.v[k].t != r[i].t || memcmp(&out.v[k].v, &r[i].v, 8) != 0)
            bad++;
        k++;
    }
    CHECK_EQ(out.n, k);
    CHECK_EQ(bad, 0);
    struct sb_sample last;
    uint32_t id = 3;
    CHECK_EQ(h.ops->latest(h.s, &id, 1, &last), 0);
    CHECK_EQ(last.t, r[n - 1].t);
    CHECK_DBL(last.v, r[n - 1].v, 0);
    id = 99;
    CHECK_EQ(h.ops->latest(h.s, &id, 1, &last), 0);
    CHECK(last.t == INT64_MIN);
    sb_samples_release(&out);
    sb_store_close(&h);
    free(r);
}

/* Local-day expectations computed straight from the samples. */
static void day_expect(const struct sb_reading *r, size_t n, uint32_t point, int64_t d0,
                       int64_t d1, double *sum, uint32_t *cnt, double *mn, double *mx)
{
    *sum = 0, *cnt = 0, *mn = INFINITY, *mx = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (r[i].point != point || r[i].t < d0 || r[i].t >= d1)
            continue;
        *sum += r[i].v, (*cnt)++;
        *mn = fmin(*mn, r[i].v), *mx = fmax(*mx, r[i].v);
    }
}

/* Register advance over samples with time in [d0, d1), increase attributed
 * to the later sample, rollover at 100000. */
static double counter_expect(const struct sb_reading *r, size_t n, int64_t d0, int64_t d1)
{
    double prev = NAN, tot = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].point != 2)
            continue;
        if (!isnan(prev) && r[i].t >= d0 && r[i].t < d1) {
            double d = r[i].v - prev;
            tot += d >= 0 ? d : 100000 - prev + r[i].v;
        }
        prev = r[i].v;
    }
    return tot;
}

static void check_days(struct sb_store_h *h, const struct sb_reading *r, size_t n)
{
    struct sb_aggs a = { 0 };
    int64_t from = T0 + 6 * 86400000LL, to = T0 + 9 * 86400000LL;
    CHECK_EQ(h->ops->range_agg(h->s, 1, SB_RES_1D, from, to, &a), 0);
    /* Data runs 2026-03-07T00:00Z..03-10T00:00Z = 03-06 19:00 EST..03-09 20:00
     * EDT: 4 local days, the first and last partial; 03-08 is 23 hours long. */
    CHECK_EQ(a.n, 4);
    for (size_t i = 0; i < a.n; i++) {
        int64_t d0 = a.v[i].start, d1 = sb_bucket_next(NY, SB_RES_1D, d0);
        CHECK_EQ((d0 / 1000 + sb_tz_offset(NY, d0 / 1000)) % 86400, 0);   /* local midnight */
        double sum, mn, mx;
        uint32_t cnt;
        day_expect(r, n, 1, d0, d1, &sum, &cnt, &mn, &mx);
        CHECK_EQ(a.v[i].n, cnt);
        CHECK_DBL(a.v[i].sum, sum, 1e-6);
        CHECK_DBL(a.v[i].min, mn, 0);
        CHECK_DBL(a.v[i].max, mx, 0);
        if (d0 == 1772946000000LL)   /* 2026-03-08T05:00Z: the DST day */
            CHECK_EQ(d1 - d0, 23 * 3600000LL);
    }
    sb_aggs_release(&a);
    CHECK_EQ(h->ops->range_agg(h->s, 2, SB_RES_1D, from, to, &a), 0);
    double total = 0;
    for (size_t i = 0; i < a.n; i++) {
        int64_t d1 = sb_bucket_next(NY, SB_RES_1D, a.v[i].start);
        CHECK_DBL(a.v[i].delta, counter_expect(r, n, a.v[i].start, d1), 1e-6);
        total += a.v[i].delta;
    }
    CHECK_DBL(total, counter_expect(r, n, INT64_MIN / 2, INT64_MAX / 2), 1e-6);
    sb_aggs_release(&a);
}

/* Compare two stores' rollups at every level, bucket by bucket. */
static void same_rollups(struct sb_store_h *a, struct sb_store_h *b)
{
    for (int res = SB_RES_1M; res < SB_RES_COUNT; res++) {
        for (uint32_t p = 1; p <= 3; p++) {
            struct sb_aggs x = { 0 }, y = { 0 };
            CHECK_EQ(a->ops->range_agg(a->s, p, (enum sb_res)res, T0, T0 + 10 * 86400000LL, &x), 0);
            CHECK_EQ(b->ops->range_agg(b->s, p, (enum sb_res)res, T0, T0 + 10 * 86400000LL, &y), 0);
            CHECK_EQ(x.n, y.n);
            size_t bad = 0;
            for (size_t i = 0; i < x.n && i < y.n; i++) {
                const struct sb_agg *u = &x.v[i], *v = &y.v[i];
                if (u->start != v->start || u->n != v->n || u->min != v->min ||
                    u->max != v->max || fabs(u->sum - v->sum) > 1e-6 * (1 + fabs(u->sum)) ||
                    fabs(u->delta - v->delta) > 1e-6 || fabs(u->integral - v->integral) > 1e-3 ||
                    fabs(u->covered - v->covered) > 1e-6 || fabs(u->peak - v->peak) > 1e-6) {
                    if (bad++ < 3)
                        printf("# res %d point %u bucket %zu start %lld/%lld n %u/%u sum %g/%g "
                               "delta %g/%g integral %g/%g covered %g/%g peak %g/%g\n",
                               res, p, i, (long long)u->start, (long long)v->start, u->n, v->n,
                               u->sum, v->sum, u->delta, v->delta, u->integral, v->integral,
                               u->covered, v->covered, u->peak, v->peak);
                }
            }
            CHECK_EQ(bad, 0);
            sb_aggs_release(&x);
            sb_aggs_release(&y);
        }
    }
}

TEST(rollups_inorder_match_direct_computation)
{
    char dir[256];
    struct sb_store_h h;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(dir, sizeof(dir));
    REQUIRE(open_store(dir, &h, 7000) == 0);   /* several seals on the way */
    metas(m);
    h.ops->set_points(h.s, m, 3);
    CHECK_EQ(append_chunks(&h, r, n, 999), 0);
    check_days(&h, r, n);          /* partly from memory */
    CHECK_EQ(sb_store_flush(&h), 0);
    check_days(&h, r, n);          /* all from disk */
    sb_store_close(&h);
    free(r);
}

TEST(late_and_shuffled_equal_inorder)
{
    char d1[256], d2[256];
    struct sb_store_h a, b;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(d1, sizeof(d1));
    newdir(d2, sizeof(d2));
    REQUIRE(open_store(d1, &a, 1000000) == 0);
    REQUIRE(open_store(d2, &b, 5000) == 0);
    metas(m);
    a.ops->set_points(a.s, m, 3);
    b.ops->set_points(b.s, m, 3);
    CHECK_EQ(append_chunks(&a, r, n, 4096), 0);
    /* b: the last day first, then the first day, then the middle in random
     * blocks, with a few duplicates re-sent */
    size_t third = n / 3;
    CHECK_EQ(append_chunks(&b, r + 2 * third, n - 2 * third, 3000), 0);
    CHECK_EQ(append_chunks(&b, r, third, 3000), 0);
    uint64_t seed = 7;
    struct sb_reading *mid = malloc(third * sizeof(*mid));
    memcpy(mid, r + third, third * sizeof(*mid));
    for (size_t i = third - 1; i > 0; i--) {
        size_t j = tap_rand(&seed) % (i + 1);
        struct sb_reading t = mid[i];
        mid[i] = mid[j];
        mid[j] = t;
    }
    CHECK_EQ(append_chunks(&b, mid, third, 2500), 0);
    CHECK_EQ(append_chunks(&b, r + 100, 300, 300), 0);   /* duplicates */
    same_rollups(&a, &b);          /* before the final seal */
    CHECK_EQ(sb_store_flush(&a), 0);
    CHECK_EQ(sb_store_flush(&b), 0);
    same_rollups(&a, &b);
    check_days(&b, r, n);
    struct sb_samples x = { 0 }, y = { 0 };
    a.ops->range_raw(a.s, 1, T0, T0 + 10 * 86400000LL, 0, &x);
    b.ops->range_raw(b.s, 1, T0, T0 + 10 * 86400000LL, 0, &y);
    CHECK_EQ(x.n, y.n);
    /* field by field: the struct's padding after q is not part of a sample */
    size_t diff = 0;
    for (size_t i = 0; x.n == y.n && i < x.n; i++)
        diff += x.v[i].t != y.v[i].t || memcmp(&x.v[i].v, &y.v[i].v, 8) != 0 ||
                x.v[i].q != y.v[i].q;
    CHECK_EQ(diff, 0);
    sb_samples_release(&x);
    sb_samples_release(&y);
    free(mid);
    sb_store_close(&a);
    sb_store_close(&b);
    free(r);
}

TEST(restart_continues_rollups)
{
    char d1[256], d2[256];
    struct sb_store_h a, b;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(d1, sizeof(d1));
    newdir(d2, sizeof(d2));
    metas(m);
    REQUIRE(open_store(d1, &a, 1000000) == 0);
    a.ops->set_points(a.s, m, 3);
    CHECK_EQ(append_chunks(&a, r, n, 4096), 0);
    /* b closes and reopens twice mid-stream (in the middle of a bucket) */
    size_t cuts[] = { 0, n / 3 + 7, 2 * n / 3 + 2, n };
    for (int k = 0; k < 3; k++) {
        REQUIRE(open_store(d2, &b, 1000000) == 0);
        b.ops->set_points(b.s, m, 3);
        CHECK_EQ(append_chunks(&b, r + cuts[k], cuts[k + 1] - cuts[k], 4096), 0);
        if (k < 2)
            sb_store_close(&b);
    }
    same_rollups(&a, &b);
    sb_store_close(&a);
    sb_store_close(&b);
    free(r);
}

TEST(crash_replays_head)
{
    char d1[256], d2[256];
    struct sb_store_h a, b;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(d1, sizeof(d1));
    newdir(d2, sizeof(d2));
    metas(m);
    pid_t pid = fork();
    if (pid == 0) {
        /* the child appends (durably) with a huge seal threshold, then dies
         * without closing: only the head has the data */
        struct sb_store_h c;
        struct sb_store_cfg cfg = { .dir = d1, .sync_full = 1, .flush_samples = 100000000 };
        if (open_cfg(d1, &cfg, &c) || c.ops->set_points(c.s, m, 3) ||
            append_chunks(&c, r, n, 4096))
            _exit(3);
        _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    REQUIRE(open_store(d1, &a, 1000000) == 0);
    a.ops->set_points(a.s, m, 3);   /* replays */
    REQUIRE(open_store(d2, &b, 1000000) == 0);
    b.ops->set_points(b.s, m, 3);
    CHECK_EQ(append_chunks(&b, r, n, 4096), 0);
    same_rollups(&a, &b);
    struct sb_samples x = { 0 };
    a.ops->range_raw(a.s, 3, INT64_MIN / 2, INT64_MAX / 2, 0, &x);
    CHECK_EQ(x.n, n / 3);
    sb_samples_release(&x);
    sb_store_close(&a);
    sb_store_close(&b);
    free(r);
}

TEST(retention_and_backup)
{
    char d1[256], bk[300];
    struct sb_store_h a, b;
    struct sb_point_meta m[3];
    struct sb_reading *r;
    size_t n = make_data(&r);
    newdir(d1, sizeof(d1));
    snprintf(bk, sizeof(bk), "%s/backup.db", root);
    metas(m);
    REQUIRE(open_store(d1, &a, 1000000) == 0);
    a.ops->set_points(a.s, m, 3);
    CHECK_EQ(append_chunks(&a, r, n, 4096), 0);
    /* PostgreSQL is backed up with its own tools (pg_dump; tested in
     * tests/integ/test_pg.py): the store says so. */
    int bk_rc = a.ops->backup(a.s, bk);
    CHECK_EQ(bk_rc, pg_base ? SB_ENOTSUP : 0);
    struct sb_retention keep = { { 0 } };
    int64_t now = T0 + 9 * 86400000LL;
    keep.keep[SB_RES_RAW] = 86400000LL;        /* one day of raw */
    keep.keep[SB_RES_15M] = 2 * 86400000LL;
    CHECK_EQ(a.ops->retention(a.s, now, &keep), 0);
    struct sb_samples x = { 0 };
    a.ops->range_raw(a.s, 1, INT64_MIN / 2, INT64_MAX / 2, 0, &x);
    CHECK_EQ(x.n, 1440);                       /* the last UTC day only */
    CHECK(x.n > 0 && x.v[0].t == now - 86400000LL);
    struct sb_aggs h1 = { 0 };
    a.ops->range_agg(a.s, 1, SB_RES_1H, T0, now, &h1);
    CHECK(h1.n >= 71);                         /* hourly kept forever */
    sb_aggs_release(&h1);
    if (pg_base) {
        sb_samples_release(&x);
        sb_store_close(&a);
        free(r);
        return;
    }
    /* the backup is a complete store */
    char d2[300];
    snprintf(d2, sizeof(d2), "%s/restored", root);
    mkdir(d2, 0700);
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "cp %s %s/sbems.db", bk, d2);
    CHECK_EQ(system(cmd), 0);
    REQUIRE(open_store(d2, &b, 1000000) == 0);
    b.ops->set_points(b.s, m, 3);
    x.n = 0;
    b.ops->range_raw(b.s, 1, INT64_MIN / 2, INT64_MAX / 2, 0, &x);
    CHECK_EQ(x.n, n / 3);
    sb_samples_release(&x);
    sb_store_close(&a);
    sb_store_close(&b);
    free(r);
}

/* A node of a store shared by several (PostgreSQL only): same schema as dir. */
static int open_node(const char *dir, const char *node, int64_t flush, struct sb_store_h *h)
{
    struct sb_store_cfg cfg = { .dir = dir, .sync_full = 1, .flush_samples = flush,
                                .node = node, .shared = 1 };
    return open_cfg(dir, &cfg, h);
}

static void same_raw(struct sb_store_h *h, const struct sb_reading *r, size_t n, uint32_t point)
{
    struct sb_samples x = { 0 };
    CHECK_EQ(h->ops->range_raw(h->s, point, INT64_MIN / 2, INT64_MAX / 2, 0, &x), 0);
    size_t k = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].point != point)
            continue;
        if (k >= x.n || x.v[k].t != r[i].t || x.v[k].v != r[i].v)
            bad++;
        k++;
    }
    CHECK_EQ(x.n, k);
    CHECK_EQ(bad, 0);
    sb_samples_release(&x);
}

/*
 * Three nodes on one database, the points handed from node to node: "a"
 * writes the first part and dies with it unsealed in its head (a child
 * killed before closing); "b" adopts a's head, owns the points, writes the
 * second part and gives them back; "a", restarted, owns them and writes the
 * rest.  "c" never owns them: what it reads (raw, latest, every rollup
 * level, open buckets included) must equal a store fed everything in order
 * by one node.
 */
TEST(shared_nodes_hand_over_and_adopt)
{
    char dref[256], dsh[256];
    struct sb_store_h ref, a, b, c;
    struct sb_point_meta m[3];
    uint32_t ids[3] = { 1, 2, 3 };
    struct sb_reading *r;
    size_t n = make_data(&r);
    size_t n1 = n / 3 / 1024 * 1024, n2 = 2 * n / 3;
    metas(m);
    newdir(dref, sizeof(dref));
    newdir(dsh, sizeof(dsh));
    REQUIRE(open_store(dref, &ref, 1000000) == 0);
    ref.ops->set_points(ref.s, m, 3);
    CHECK_EQ(append_chunks(&ref, r, n, 4096), 0);

    pid_t pid = fork();
    if (pid == 0) {
        struct sb_store_h x;
        if (open_node(dsh, "a", 100000000, &x) || x.ops->set_points(x.s, m, 3) ||
            sb_store_own(&x, ids, 3, 1) || append_chunks(&x, r, n1, 1024))
            _exit(3);
        _exit(0);   /* dies: its batches are only in its head */
    }
    int st = 0;
    waitpid(pid, &st, 0);
    REQUIRE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    REQUIRE(open_node(dsh, "b", 20000, &b) == 0);
    REQUIRE(open_node(dsh, "c", 20000, &c) == 0);
    b.ops->set_points(b.s, m, 3);
    c.ops->set_points(c.s, m, 3);
    int64_t got = 0;
    CHECK_EQ(sb_store_adopt(&b, "a", &got), 0);
    CHECK_EQ(got, (int64_t)(n1 / 1024));
    CHECK_EQ(sb_store_adopt(&b, "a", &got), 0);   /* nothing left to adopt */
    CHECK_EQ(got, 0);
    CHECK_EQ(sb_store_adopt(&b, "b", &got), SB_EINVAL);
    same_raw(&c, r, n1, 2);                       /* c sees a's data through the database */
    CHECK_EQ(sb_store_own(&b, ids, 3, 1), 0);
    CHECK_EQ(append_chunks(&b, r + n1, n2 - n1, 4096), 0);
    CHECK_EQ(sb_store_own(&b, ids, 3, 0), 0);     /* hands them over, sealed */

    REQUIRE(open_node(dsh, "a", 20000, &a) == 0);
    a.ops->set_points(a.s, m, 3);
    CHECK_EQ(sb_store_own(&a, ids, 3, 1), 0);
    CHECK_EQ(append_chunks(&a, r + n2, n - n2, 4096), 0);
    CHECK_EQ(a.ops->flush(a.s), 0);

    for (uint32_t p = 1; p <= 3; p++)
        same_raw(&c, r, n, p);
    same_rollups(&ref, &c);
    same_rollups(&ref, &a);
    check_days(&c, r, n);
    struct sb_sample last;
    CHECK_EQ(c.ops->latest(c.s, &ids[2], 1, &last), 0);
    CHECK_EQ(last.t, r[n - 1].t);
    CHECK_DBL(last.v, r[n - 1].v, 0);
    /* the embedded store is one node's: no sharing to ask for */
    struct sb_store_cfg lc = { .dir = dref };
    struct sb_store_h l;
    char dl[256];
    newdir(dl, sizeof(dl));
    lc.dir = dl;
    REQUIRE(sb_store_open("sqlite", &lc, &l) == 0);
    CHECK_EQ(sb_store_own(&l, ids, 3, 1), SB_ENOTSUP);
    CHECK_EQ(sb_store_adopt(&l, "a", &got), SB_ENOTSUP);
    sb_store_close(&l);
    sb_store_close(&a);
    sb_store_close(&b);
    sb_store_close(&c);
    sb_store_close(&ref);
    free(r);
}

/* Two nodes seal samples of the same points and day at the same time (each
 * with its own timestamps): the per-point locks make them take turns on each
 * chunk, so no seal writes back a merge missing the other's samples. */
TEST(shared_nodes_seal_same_points_concurrently)
{
    char dir[256];
    struct sb_point_meta m[3];
    metas(m);
    newdir(dir, sizeof(dir));
    struct sb_store_h h;
    REQUIRE(open_node(dir, "init", 1000, &h) == 0);   /* schema before the race */
    sb_store_close(&h);
    enum { PER = 2000, STEP = 50 };
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
        if ((kids[k] = fork()) == 0) {
            struct sb_store_h x;
            struct sb_reading r[3 * STEP];
            if (open_node(dir, k ? "y" : "x", 3 * STEP, &x) || x.ops->set_points(x.s, m, 3))
                _exit(3);
            for (int i = 0; i < PER; i += STEP) {   /* a seal every append */
                size_t n = 0;
                for (int j = i; j < i + STEP; j++)
                    for (uint32_t p = 1; p <= 3; p++)
                        r[n++] = (struct sb_reading){ .t = T0 + (int64_t)(2 * j + k) * 1000,
                                                      .v = (double)(j % 50), .point = p };
                if (sb_store_append(&x, r, n))
                    _exit(4);
            }
            if (x.ops->flush(x.s))
                _exit(5);
            _exit(0);
        }
    }
    for (int k = 0; k < 2; k++) {
        int st = 0;
        waitpid(kids[k], &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    REQUIRE(open_node(dir, "reader", 1000, &h) == 0);
    h.ops->set_points(h.s, m, 3);
    for (uint32_t p = 1; p <= 3; p++) {
        struct sb_samples x = { 0 };
        CHECK_EQ(h.ops->range_raw(h.s, p, INT64_MIN / 2, INT64_MAX / 2, 0, &x), 0);
        CHECK_EQ(x.n, 2 * PER);
        sb_samples_release(&x);
        struct sb_aggs a = { 0 };
        CHECK_EQ(h.ops->range_agg(h.s, p, SB_RES_1H, T0, T0 + 86400000LL, &a), 0);
        uint64_t cnt = 0;
        for (size_t i = 0; i < a.n; i++)
            cnt += a.v[i].n;
        CHECK_EQ(cnt, 2 * PER);
        sb_aggs_release(&a);
    }
    sb_store_close(&h);
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    NY = sb_tz_get("America/New_York");
    if (!root || !NY) {
        printf("Bail out! no temp dir or zone\n");
        return 1;
    }
    pg_base = getenv("SBEMS_TEST_PG_URL");
    if (pg_base && !*pg_base)
        pg_base = NULL;
    for (int pass = 0; pass < (pg_base ? 2 : 1); pass++) {
        const char *pb = pg_base;
        if (pass == 0)
            pg_base = NULL;
        backend = pg_base ? "postgres" : "sqlite";
        printf("# backend %s\n", backend);
        RUN(raw_roundtrip_and_latest);
        RUN(rollups_inorder_match_direct_computation);
        RUN(late_and_shuffled_equal_inorder);
        RUN(restart_continues_rollups);
        RUN(crash_replays_head);
        RUN(retention_and_backup);
        pg_base = pb;
    }
    if (pg_base) {
        RUN(shared_nodes_hand_over_and_adopt);
        RUN(shared_nodes_seal_same_points_concurrently);
    }
    if (!pg_base)
        printf("# PostgreSQL backend not run: SBEMS_TEST_PG_URL unset (tests/pg/pg-run sets it)\n");
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

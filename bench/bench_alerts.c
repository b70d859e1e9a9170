/*
 * bench_alerts.c - does the alert engine keep up with ingest?  10,000
 * threshold rules over 10,000 points, fed by the live bus of a real ingest
 * pipeline over a real SQLite store.
 *
 *   bench_alerts -d work_dir [-n readings] [-r rules] [-t max_s]
 *
 * Two runs of the same pre-generated readings (bench.h: the 60-s site of
 * -r points, every point reporting each minute), each into a fresh store:
 *   anchor  ingest alone: readings / (first submit -> last ticket durable)
 *   engine  the same with the alert engine subscribed to the bus and one
 *           threshold rule per point (limits inside each kind's generated
 *           range, so some readings cross them and rules raise and clear):
 *           the ingest rate again, and the time until the engine has
 *           evaluated every reading; readings the engine dropped (its queue
 *           full) must be 0 for it to keep up.
 * Results as RESULT lines (bench.h); the ratio engine/anchor ingest rate
 * shows what the engine costs ingest, evaluated/ingested what it keeps up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerts/engine.h"
#include "alerts/rule.h"
#include "bench.h"
#include "core/err.h"
#include "ingest/bus.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "model/site_json.h"
#include "store/store.h"

static uint64_t g_decisions;

static void decide(void *ud, const struct sb_arule *r, const char *b, int raise,
                   const struct sb_arule_event *ev)
{
    (void)ud, (void)r, (void)b, (void)raise, (void)ev;
    __atomic_add_fetch(&g_decisions, 1, __ATOMIC_RELAXED);
}

/* A model of n points on one equipment (ids 1..n), slugs p<id>. */
static struct sb_model *model(size_t n)
{
    struct sb_model *m = sb_model_new();
    size_t cap = 512 + n * 160;
    char *doc = malloc(cap);
    size_t k = 0;
    if (!m || !doc)
        goto fail;
    k += (size_t)snprintf(doc + k, cap - k,
                          "{\"format\":\"sbems-site\",\"version\":1,\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
                          "\"buildings\":[{\"id\":\"b\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
                          "\"zones\":[],\"equipment\":[{\"id\":\"e\",\"building\":\"b\",\"name\":\"E\",\"type\":\"other\"}],"
                          "\"points\":[");
    for (size_t i = 1; i <= n; i++)
        k += (size_t)snprintf(doc + k, cap - k,
                              "%s{\"id\":\"p%zu\",\"equipment\":\"e\",\"name\":\"P\",\"kind\":\"other\"}",
                              i > 1 ? "," : "", i);
    k += (size_t)snprintf(doc + k, cap - k, "]}");
    if (sb_model_from_json_text(doc, k, m, NULL) || sb_model_validate(m, NULL))
        goto fail;
    for (size_t i = 0; i < m->npoints; i++)
        m->points[i].id = (uint32_t)(i + 1);
    free(doc);
    return m;
fail:
    free(doc);
    sb_model_free(m);
    return NULL;
}

/* One rule per point: above a limit inside the kind's generated range. */
static struct sb_arule *rules(size_t n)
{
    struct sb_arule *r = calloc(n, sizeof(*r));
    char js[256], err[128];
    static const double above[SB_BENCH_KIND_COUNT] = { 23.0, 50.0, 500.0, 1e12 };
    for (size_t i = 0; r && i < n; i++) {
        enum sb_bench_kind k = sb_bench_kind_of((uint32_t)(i + 1));
        snprintf(js, sizeof(js),
                 "{\"id\":\"r%zu\",\"name\":\"R\",\"type\":\"threshold\",\"point\":\"p%zu\","
                 "\"severity\":\"minor\",\"above\":%.17g,\"hysteresis\":0.1}", i + 1, i + 1, above[k]);
        if (sb_arule_parse(js, strlen(js), &r[i], err, sizeof(err))) {
            fprintf(stderr, "bench_alerts: rule %zu: %s\n", i + 1, err);
            free(r);
            return NULL;
        }
    }
    return r;
}

struct run {
    double ingest_per_s;      /* to the last ticket durable */
    double eval_s;            /* first submit -> every reading evaluated */
    uint64_t evaluated, dropped;
};

static int one_run(const char *dir, const char *sub, const struct sb_reading *rd, size_t n,
                   size_t npts, const struct sb_model *m, const struct sb_arule *rl, int with_engine,
                   int64_t max_s, struct run *out)
{
    char path[4096];
    struct sb_store_h h;
    struct sb_bus *bus = NULL;
    struct sb_ingest *ing = NULL;
    struct sb_aeng *eng = NULL;
    struct sb_ingest_point *ip = calloc(npts, sizeof(*ip));
    struct sb_point_meta *pm = calloc(npts, sizeof(*pm));
    struct sb_aeng_rule_in *in = calloc(npts, sizeof(*in));
    int rc = ip && pm && in ? 0 : SB_ENOMEM;

    memset(out, 0, sizeof(*out));
    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    struct sb_store_cfg cfg = { .dir = path };
    if (rc || (rc = sb_store_open("sqlite", &cfg, &h)))
        goto out;
    for (size_t i = 0; i < npts; i++) {
        ip[i] = (struct sb_ingest_point){ .id = (uint32_t)(i + 1), .vmin = -1e15, .vmax = 1e15 };
        pm[i] = (struct sb_point_meta){ .id = (uint32_t)(i + 1), .agg = { .kind = SB_AGG_MEAN } };
        in[i] = (struct sb_aeng_rule_in){ .rule = &rl[i], .building = "b" };
    }
    struct sb_ingest_cfg ic = { 0 };
    if ((rc = h.ops->set_points(h.s, pm, npts)) || (rc = sb_bus_new(&bus)) ||
        (rc = sb_ingest_new(&h, bus, &ic, &ing)) || (rc = sb_ingest_set_points(ing, ip, npts)))
        goto close;
    if (with_engine) {
        /* the queue holds one poll round of every point several times over */
        struct sb_aeng_cfg ec = { .bus = bus, .decide = decide, .queue_max = 8 * npts };
        if ((rc = sb_aeng_new(&ec, &eng)) || (rc = sb_aeng_load(eng, m, in, npts)))
            goto close;
    }
    int64_t t0 = sb_bench_now_ns(), deadline = t0 + max_s * 1000000000LL;
    uint64_t ticket = 0;
    for (size_t off = 0; off < n && sb_bench_now_ns() < deadline;) {
        size_t k = n - off < 10000 ? n - off : 10000;
        struct sb_ingest_result res = { 0 };
        int s = sb_ingest_submit(ing, rd + off, k, 1000, &res);
        if (s && s != SB_EAGAIN) {
            rc = s;
            goto close;
        }
        if (res.ticket > ticket)
            ticket = res.ticket;
        off += res.queued + res.rejected;
    }
    if ((rc = sb_ingest_wait(ing, ticket, max_s * 1000)))
        goto close;
    int64_t t1 = sb_bench_now_ns();
    out->ingest_per_s = (double)n / ((double)(t1 - t0) / 1e9);
    if (eng) {
        struct sb_aeng_stats st;
        for (;;) {
            sb_aeng_stats(eng, &st);
            if (st.readings + st.dropped >= n || sb_bench_now_ns() > deadline)
                break;
            usleep(1000);
        }
        out->eval_s = (double)(sb_bench_now_ns() - t0) / 1e9;
        out->evaluated = st.readings;
        out->dropped = st.dropped;
    }
close:
    sb_aeng_free(eng);
    if (ing) {
        sb_ingest_stop(ing);
        sb_ingest_free(ing);
    }
    sb_bus_free(bus);
    h.ops->close(h.s);
out:
    free(ip);
    free(pm);
    free(in);
    return rc;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    int64_t n = 2000000, nr = 10000, max_s = 300;
    int opt;
    while ((opt = getopt(argc, argv, "d:n:r:t:")) != -1) {
        if ((opt == 'n' && sb_bench_arg_int("-n", optarg, 10000, 100000000, &n)) ||
            (opt == 'r' && sb_bench_arg_int("-r", optarg, 1, 1000000, &nr)) ||
            (opt == 't' && sb_bench_arg_int("-t", optarg, 1, 86400, &max_s)))
            return 2;
        if (opt == 'd')
            dir = optarg;
        else if (opt == '?')
            return 2;
    }
    if (!dir) {
        fprintf(stderr, "usage: bench_alerts -d work_dir [-n readings] [-r rules] [-t max_s]\n");
        return 2;
    }
    mkdir(dir, 0700);
    struct sb_bench_point *pts = calloc((size_t)nr, sizeof(*pts));
    struct sb_reading *rd = malloc((size_t)n * sizeof(*rd));
    struct sb_model *m = model((size_t)nr);
    struct sb_arule *rl = rules((size_t)nr);
    if (!pts || !rd || !m || !rl) {
        fprintf(stderr, "bench_alerts: setup failed (memory or model)\n");
        return 1;
    }
    sb_bench_site_init(pts, (size_t)nr, 0, SB_BENCH_T0_MS);
    struct sb_bench_stream st;
    sb_bench_stream_init(&st, pts, (size_t)nr, SB_BENCH_T0_MS);
    size_t got = sb_bench_stream_fill(&st, rd, (size_t)n);

    struct run a, e;
    int rc = one_run(dir, "anchor", rd, got, (size_t)nr, m, rl, 0, max_s, &a);
    if (rc == 0)
        rc = one_run(dir, "engine", rd, got, (size_t)nr, m, rl, 1, max_s, &e);
    if (rc) {
        fprintf(stderr, "bench_alerts: %s\n", sb_strerror(rc));
        return 1;
    }
    fprintf(stderr, "bench_alerts: %zu readings of %lld points, %lld rules\n", got, (long long)nr,
            (long long)nr);
    sb_bench_result("alerts_anchor_ingest_per_s", a.ingest_per_s, "readings/s");
    sb_bench_result("alerts_engine_ingest_per_s", e.ingest_per_s, "readings/s");
    sb_bench_result("alerts_engine_eval_per_s", (double)e.evaluated / e.eval_s, "readings/s");
    sb_bench_result("alerts_engine_evaluated", (double)e.evaluated, "readings");
    sb_bench_result("alerts_engine_dropped", (double)e.dropped, "readings");
    sb_bench_result("alerts_decisions", (double)g_decisions, "raise+clear");
    free(pts);
    free(rd);
    free(rl);
    sb_model_free(m);
    return 0;
}

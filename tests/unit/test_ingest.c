/*
 * test_ingest.c - the pipeline on a real store: validation reasons, the
 * bounded queue under backpressure, durability tickets, the live bus, stop.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/acks.h"
#include "ingest/bus.h"
#include "ingest/ingest.h"
#include "store/store.h"
#include "tap.h"

static char tmpl[] = "/tmp/sbems-test-ingest-XXXXXX";
static char *root;
static int dirn;

struct env {
    char dir[256];               /* data directory */
    struct sb_store_h store;     /* real store */
    struct sb_bus *bus;          /* live bus */
    struct sb_ingest *ing;       /* pipeline under test */
};

/* What the bus saw. */
struct seen {
    pthread_mutex_t mu;          /* protects the rest */
    uint64_t n;                  /* readings delivered */
    int64_t last_t;              /* order check for point 1 */
    int out_of_order;            /* point 1 times went backwards */
};

static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    struct seen *s = ud;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        if (r[i].point == 1) {
            if (r[i].t <= s->last_t)
                s->out_of_order = 1;
            s->last_t = r[i].t;
        }
    }
    s->n += n;
    pthread_mutex_unlock(&s->mu);
}

static int setup(struct env *e, size_t queue, size_t batch)
{
    struct sb_store_cfg sc = { .dir = e->dir, .sync_full = 1, .flush_samples = 100000 };
    struct sb_point_meta m[3] = { 0 };
    struct sb_ingest_point ip[3];
    snprintf(e->dir, sizeof(e->dir), "%s/%d", root, dirn++);
    if (sb_store_open("sqlite", &sc, &e->store) || sb_bus_new(&e->bus))
        return -1;
    for (int i = 0; i < 3; i++) {
        m[i].id = (uint32_t)i + 1;
        m[i].agg.kind = SB_AGG_MEAN;
        m[i].agg.max_hold_ms = 900000;
        ip[i] = (struct sb_ingest_point){ (uint32_t)i + 1, NAN, NAN };
    }
    ip[2].vmin = 0;       /* point 3: 0..100 */
    ip[2].vmax = 100;
    struct sb_ingest_cfg ic = { .queue_cap = queue, .batch_max = batch, .linger_ms = 2,
                                .future_limit_ms = 86400000, .too_old_ms = 90 * 86400000LL,
                                .flush_interval_ms = 1000 };
    if (e->store.ops->set_points(e->store.s, m, 3) || sb_ingest_new(&e->store, e->bus, &ic, &e->ing))
        return -1;
    return sb_ingest_set_points(e->ing, ip, 3);
}

static void teardown(struct env *e)
{
    sb_ingest_free(e->ing);
    sb_bus_free(e->bus);
    sb_store_close(&e->store);
}

TEST(validation_reasons)
{
    struct env e;
    REQUIRE(setup(&e, 1000, 100) == 0);
    int64_t now = sb_now_ms();
    struct sb_reading r[] = {
        { .t = now - 1000, .v = 1, .point = 1 },                 /* ok */
        { .t = now - 1000, .v = 1, .point = 9 },                 /* unknown point */
        { .t = now - 1000, .v = NAN, .point = 1 },               /* not finite */
        { .t = now - 1000, .v = INFINITY, .point = 2 },          /* not finite */
        { .t = now - 1000, .v = 101, .point = 3 },               /* out of range */
        { .t = now + 2 * 86400000LL, .v = 1, .point = 1 },       /* future */
        { .t = now - 100 * 86400000LL, .v = 1, .point = 1 },     /* too old */
        { .t = now - 999, .v = 100, .point = 3 },                /* ok: the bound itself */
    };
    struct sb_ingest_result res;
    CHECK_EQ(sb_ingest_submit(e.ing, r, 8, 1000, &res), 0);
    CHECK_EQ(res.queued, 2);
    CHECK_EQ(res.rejected, 6);
    CHECK_EQ(res.first_bad, 1);
    CHECK_EQ(res.reasons[SB_REJ_UNKNOWN_POINT], 1);
    CHECK_EQ(res.reasons[SB_REJ_NOT_FINITE], 2);
    CHECK_EQ(res.reasons[SB_REJ_RANGE], 1);
    CHECK_EQ(res.reasons[SB_REJ_FUTURE], 1);
    CHECK_EQ(res.reasons[SB_REJ_TOO_OLD], 1);
    CHECK_EQ(sb_ingest_wait(e.ing, res.ticket, 10000), 0);
    struct sb_ingest_stats st;
    sb_ingest_get_stats(e.ing, &st);
    CHECK_EQ(st.rejected[SB_REJ_NOT_FINITE], 2);
    CHECK_EQ(st.written, 2);
    struct sb_samples out = { 0 };
    CHECK_EQ(e.store.ops->range_raw(e.store.s, 3, now - 5000, now, 0, &out), 0);
    CHECK_EQ(out.n, 1);
    CHECK(out.n == 1 && out.v[0].v == 100);
    sb_samples_release(&out);
    CHECK_STR(sb_reject_name(SB_REJ_FUTURE), "future");
    teardown(&e);
}

/* Producers: each submits its share of point-1/point-2 readings. */
struct prod {
    struct env *e;                /* pipeline */
    int id;                       /* 0 or 1: which point (1 or 2) */
    int64_t t0;                   /* first time */
    size_t n;                     /* readings to submit */
    uint64_t ticket;              /* last ticket */
    uint64_t eagain;              /* SB_EAGAIN answers seen */
    int err;                      /* first other error */
};

static void *produce(void *arg)
{
    struct prod *p = arg;
    struct sb_reading b[500];
    size_t done = 0;
    while (done < p->n) {
        size_t k = p->n - done < 500 ? p->n - done : 500;
        for (size_t i = 0; i < k; i++)
            b[i] = (struct sb_reading){ .t = p->t0 + (int64_t)(done + i) * 1000,
                                        .v = (double)(done + i), .point = (uint32_t)p->id + 1 };
        struct sb_ingest_result res;
        int rc = sb_ingest_submit(p->e->ing, b, k, 0, &res);   /* never wait */
        if (rc == SB_EAGAIN)
            p->eagain++;
        else if (rc)
            p->err = rc;
        done += res.queued;   /* resubmit what did not fit, in order */
        if (rc == SB_EAGAIN)
            sched_yield();
        if (res.queued)
            p->ticket = res.ticket;
        if (p->err)
            break;
    }
    return NULL;
}

TEST(backpressure_nothing_lost)
{
    struct env e;
    struct seen seen = { PTHREAD_MUTEX_INITIALIZER, 0, INT64_MIN, 0 };
    REQUIRE(setup(&e, 2000, 700) == 0);   /* a tiny queue: producers hit it */
    sb_bus_subscribe(e.bus, on_bus, &seen);
    int64_t t0 = sb_now_ms() - 86400000LL;
    struct prod p[2] = { { &e, 0, t0, 60000, 0, 0, 0 }, { &e, 1, t0, 60000, 0, 0, 0 } };
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, produce, &p[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(p[0].err, 0);
    CHECK_EQ(p[1].err, 0);
    CHECK(p[0].eagain + p[1].eagain > 0);   /* the queue did fill */
    uint64_t last = p[0].ticket > p[1].ticket ? p[0].ticket : p[1].ticket;
    CHECK_EQ(sb_ingest_wait(e.ing, last, 60000), 0);
    CHECK(sb_ingest_durable(e.ing) >= 120000);
    struct sb_ingest_stats st;
    sb_ingest_get_stats(e.ing, &st);
    CHECK(st.full_waits > 0);
    CHECK_EQ(st.written, 120000);
    CHECK_EQ(sb_ingest_stop(e.ing), 0);
    pthread_mutex_lock(&seen.mu);
    CHECK_EQ(seen.n, 120000);
    CHECK_EQ(seen.out_of_order, 0);
    pthread_mutex_unlock(&seen.mu);
    for (uint32_t pt = 1; pt <= 2; pt++) {
        struct sb_samples out = { 0 };
        CHECK_EQ(e.store.ops->range_raw(e.store.s, pt, t0, t0 + 60000 * 1000LL, 0, &out), 0);
        CHECK_EQ(out.n, 60000);
        size_t bad = 0;
        for (size_t i = 0; i < out.n; i++)
            bad += out.v[i].t != t0 + (int64_t)i * 1000 || out.v[i].v != (double)i;
        CHECK_EQ(bad, 0);
        sb_samples_release(&out);
    }
    /* after stop: refused, nothing queued */
    struct sb_reading r = { .t = t0, .v = 1, .point = 1 };
    struct sb_ingest_result res;
    CHECK_EQ(sb_ingest_submit(e.ing, &r, 1, 0, &res), SB_ECLOSED);
    CHECK_EQ(res.queued, 0);
    teardown(&e);
}

TEST(blocking_submit_larger_than_queue)
{
    struct env e;
    REQUIRE(setup(&e, 1000, 256) == 0);
    int64_t t0 = sb_now_ms() - 3600000;
    size_t n = 25000;   /* 25x the queue: submit must wait for room, in pieces */
    struct sb_reading *r = malloc(n * sizeof(*r));
    for (size_t i = 0; i < n; i++)
        r[i] = (struct sb_reading){ .t = t0 + (int64_t)i * 100, .v = (double)(i % 1000) / 10,
                                    .point = 3 };
    struct sb_ingest_result res;
    CHECK_EQ(sb_ingest_submit(e.ing, r, n, -1, &res), 0);
    CHECK_EQ(res.queued, n);
    CHECK_EQ(sb_ingest_wait(e.ing, res.ticket, 60000), 0);
    CHECK_EQ(sb_ingest_flush(e.ing, 60000), 0);
    struct sb_aggs a = { 0 };
    CHECK_EQ(e.store.ops->range_agg(e.store.s, 3, SB_RES_15M, t0 - 900000, t0 + 3600000, &a), 0);
    uint64_t total = 0;
    for (size_t i = 0; i < a.n; i++)
        total += a.v[i].n;
    CHECK_EQ(total, n);
    sb_aggs_release(&a);
    free(r);
    teardown(&e);
}

TEST(wait_times_out)
{
    struct env e;
    REQUIRE(setup(&e, 1000, 100) == 0);
    /* a ticket that is never issued cannot become durable */
    CHECK_EQ(sb_ingest_wait(e.ing, 1u << 30, 50), SB_ETIMEDOUT);
    teardown(&e);
}

TEST(acks_fifo)
{
    struct sb_acks q = { 0 };
    struct sb_ack last = { 0 };
    for (uint64_t i = 1; i <= 1000; i++)   /* grows past its first 64 */
        CHECK_EQ(sb_acks_push(&q, i * 10, i, i * 100), 0);
    CHECK_EQ(sb_acks_pop(&q, 5, &last), 0);          /* nothing durable yet */
    CHECK_EQ(sb_acks_pop(&q, 2995, &last), 1);
    CHECK_EQ(last.line, 299);                         /* newest with ticket <= 2995 */
    CHECK_EQ(last.count, 29900);
    CHECK_EQ(q.len, 701);
    CHECK_EQ(sb_acks_push(&q, 10010, 1001, 100100), 0);   /* wraps around */
    CHECK_EQ(sb_acks_pop(&q, UINT64_MAX, &last), 1);
    CHECK_EQ(last.line, 1001);
    CHECK_EQ(q.len, 0);
    sb_acks_release(&q);
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! no temp dir\n");
        return 1;
    }
    RUN(validation_reasons);
    RUN(backpressure_nothing_lost);
    RUN(blocking_submit_larger_than_queue);
    RUN(wait_times_out);
    RUN(acks_fifo);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

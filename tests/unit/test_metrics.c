/*
 * test_metrics.c - the Prometheus registry: exact text format 0.0.4 output,
 * cumulative histogram buckets, label escaping, lock-free updates from
 * several threads, and the child bound that diverts to "other".
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/metrics.h"
#include "tap.h"

static char *scrape(struct sb_metrics *reg)
{
    char *out = NULL;
    size_t len = 0;
    if (sb_metrics_write(reg, &out, &len) != 0)
        return NULL;
    if (strlen(out) != len) {
        free(out);
        return NULL;
    }
    return out;
}

static double queue_depth(void *ud)
{
    return *(double *)ud;
}

TEST(exact_exposition)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    const char *lbl[] = { "method", "code" };
    struct sb_metric *req = sb_metric_counter(reg, "sbems_http_requests_total",
                                              "HTTP requests served.", lbl, 2);
    struct sb_metric *up = sb_metric_gauge(reg, "sbems_up", "1 when running.", NULL, 0);
    struct sb_metric *temp = sb_metric_gauge(reg, "sbems_zone_temp_celsius", NULL,
                                             (const char *[]){ "zone" }, 1);
    double depth = 17;
    REQUIRE(req && up && temp);
    CHECK_EQ(sb_metric_gauge_fn(reg, "sbems_ingest_queue_depth", "Readings queued.",
                                queue_depth, &depth), 0);
    double written = 1234;
    CHECK_EQ(sb_metric_counter_fn(reg, "sbems_ingest_written_total", NULL, queue_depth,
                                  &written), 0);
    sb_metric_inc(req, (const char *[]){ "GET", "200" }, 1);
    sb_metric_inc(req, (const char *[]){ "GET", "200" }, 2);
    sb_metric_inc(req, (const char *[]){ "POST", "400" }, 1);
    sb_metric_inc(req, (const char *[]){ "POST", "400" }, -5);     /* ignored */
    sb_metric_set(req, (const char *[]){ "GET", "200" }, 99);      /* ignored: counter */
    sb_metric_set(temp, (const char *[]){ "east" }, 21.5);
    sb_metric_inc(temp, (const char *[]){ "east" }, -0.25);
    sb_metric_set(temp, (const char *[]){ "west" }, 0.1);
    sb_metric_set(up, NULL, 1);
    char *t = scrape(reg);
    CHECK_STR(t,
              "# HELP sbems_http_requests_total HTTP requests served.\n"
              "# TYPE sbems_http_requests_total counter\n"
              "sbems_http_requests_total{method=\"GET\",code=\"200\"} 3\n"
              "sbems_http_requests_total{method=\"POST\",code=\"400\"} 1\n"
              "# HELP sbems_up 1 when running.\n"
              "# TYPE sbems_up gauge\n"
              "sbems_up 1\n"
              "# TYPE sbems_zone_temp_celsius gauge\n"
              "sbems_zone_temp_celsius{zone=\"east\"} 21.25\n"
              "sbems_zone_temp_celsius{zone=\"west\"} 0.1\n"
              "# HELP sbems_ingest_queue_depth Readings queued.\n"
              "# TYPE sbems_ingest_queue_depth gauge\n"
              "sbems_ingest_queue_depth 17\n"
              "# TYPE sbems_ingest_written_total counter\n"
              "sbems_ingest_written_total 1234\n");
    free(t);
    depth = 2.5;      /* read at scrape time */
    t = scrape(reg);
    CHECK(t && strstr(t, "\nsbems_ingest_queue_depth 2.5\n"));
    free(t);
    sb_metrics_free(reg);
}

TEST(histogram_cumulative)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    const double b[] = { 0.005, 0.1, 1, 2.5 };
    struct sb_metric *h = sb_metric_histogram(reg, "sbems_req_seconds", "Latency.",
                                              (const char *[]){ "route" }, 1, b, 4);
    struct sb_metric *h0 = sb_metric_histogram(reg, "sbems_batch_size", NULL, NULL, 0, b, 1);
    REQUIRE(h && h0);
    const char *r[] = { "/api" };
    const double obs[] = { 0.001, 0.005, 0.05, 0.1, 0.5, 3, 100, NAN };
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
        sb_metric_observe(h, r, obs[i]);     /* NaN is ignored */
    sb_metric_observe(h0, NULL, 1);
    char *t = scrape(reg);
    CHECK_STR(t,
              "# HELP sbems_req_seconds Latency.\n"
              "# TYPE sbems_req_seconds histogram\n"
              "sbems_req_seconds_bucket{route=\"/api\",le=\"0.005\"} 2\n"
              "sbems_req_seconds_bucket{route=\"/api\",le=\"0.1\"} 4\n"
              "sbems_req_seconds_bucket{route=\"/api\",le=\"1\"} 5\n"
              "sbems_req_seconds_bucket{route=\"/api\",le=\"2.5\"} 5\n"
              "sbems_req_seconds_bucket{route=\"/api\",le=\"+Inf\"} 7\n"
              "sbems_req_seconds_sum{route=\"/api\"} 103.656\n"
              "sbems_req_seconds_count{route=\"/api\"} 7\n"
              "# TYPE sbems_batch_size histogram\n"
              "sbems_batch_size_bucket{le=\"0.005\"} 0\n"
              "sbems_batch_size_bucket{le=\"+Inf\"} 1\n"
              "sbems_batch_size_sum 1\n"
              "sbems_batch_size_count 1\n");
    free(t);
    sb_metrics_free(reg);
}

TEST(escaping)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    struct sb_metric *g = sb_metric_gauge(reg, "g", "a \\ back\nslash \"q\"",
                                          (const char *[]){ "device" }, 1);
    REQUIRE(g != NULL);
    sb_metric_set(g, (const char *[]){ "AHU \"1\"\\\nroof" }, -2);
    sb_metric_set(g, (const char *[]){ NULL }, 1e-300);      /* NULL value: "" */
    sb_metric_set(g, (const char *[]){ "inf" }, INFINITY);
    char *t = scrape(reg);
    CHECK_STR(t,
              "# HELP g a \\\\ back\\nslash \"q\"\n"
              "# TYPE g gauge\n"
              "g{device=\"AHU \\\"1\\\"\\\\\\nroof\"} -2\n"
              "g{device=\"\"} 1e-300\n"
              "g{device=\"inf\"} +Inf\n");
    free(t);
    sb_metrics_free(reg);
}

TEST(registration_rules)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    const double up[] = { 1, 2 }, down[] = { 2, 1 }, inf[] = { 1, INFINITY };
    CHECK(sb_metric_counter(reg, "ok_total", NULL, NULL, 0) != NULL);
    CHECK(sb_metric_counter(reg, "ok_total", NULL, NULL, 0) == NULL);          /* taken */
    CHECK_EQ(sb_metric_gauge_fn(reg, "ok_total", NULL, queue_depth, NULL), SB_EEXIST);
    CHECK(sb_metric_counter(reg, "9bad", NULL, NULL, 0) == NULL);
    CHECK(sb_metric_counter(reg, "bad-name", NULL, NULL, 0) == NULL);
    CHECK(sb_metric_counter(reg, "", NULL, NULL, 0) == NULL);
    CHECK(sb_metric_counter(reg, "ns:sub_total", NULL, NULL, 0) != NULL);       /* colon ok */
    CHECK(sb_metric_counter(reg, "a", NULL, (const char *[]){ "x:y" }, 1) == NULL);
    CHECK(sb_metric_counter(reg, "b", NULL, (const char *[]){ "__x" }, 1) == NULL);
    CHECK(sb_metric_counter(reg, "c", NULL, (const char *[]){ "x", "x" }, 2) == NULL);
    CHECK(sb_metric_counter(reg, "d", NULL, NULL, 1) == NULL);
    CHECK(sb_metric_histogram(reg, "e", NULL, (const char *[]){ "le" }, 1, up, 2) == NULL);
    CHECK(sb_metric_counter(reg, "e", NULL, (const char *[]){ "le" }, 1) != NULL);
    CHECK(sb_metric_histogram(reg, "f", NULL, NULL, 0, down, 2) == NULL);
    CHECK(sb_metric_histogram(reg, "f", NULL, NULL, 0, inf, 2) == NULL);
    CHECK(sb_metric_histogram(reg, "f", NULL, NULL, 0, up, 2) != NULL);
    CHECK_EQ(sb_metric_gauge_fn(reg, "h", NULL, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_metrics_set_max_children(reg, 0), SB_EINVAL);
    sb_metric_inc(NULL, NULL, 1);                  /* no crash */
    sb_metrics_free(reg);
    sb_metrics_free(NULL);
}

/* ---- threads ---- */

struct worker {
    struct sb_metric *c;       /* counter under test */
    struct sb_metric *h;       /* histogram under test */
    int id;                    /* 0..3 */
};

static void *hammer(void *arg)
{
    struct worker *w = arg;
    const char *shared[] = { "shared" };
    char own[16];
    snprintf(own, sizeof(own), "t%d", w->id);
    const char *mine[] = { own };
    for (int i = 0; i < 100000; i++) {
        sb_metric_inc(w->c, shared, 1);
        sb_metric_inc(w->c, mine, 1);     /* children created while others update */
        sb_metric_observe(w->h, NULL, (double)(i % 4));
    }
    return NULL;
}

TEST(threads_exact_total)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    const double b[] = { 0.5, 1.5 };
    struct worker w[4];
    pthread_t th[4];
    struct sb_metric *c = sb_metric_counter(reg, "hits_total", NULL,
                                            (const char *[]){ "who" }, 1);
    struct sb_metric *h = sb_metric_histogram(reg, "obs", NULL, NULL, 0, b, 2);
    REQUIRE(c && h);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ c, h, i };
        REQUIRE(pthread_create(&th[i], NULL, hammer, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = scrape(reg);
    REQUIRE(t != NULL);
    CHECK(strstr(t, "hits_total{who=\"shared\"} 400000\n") != NULL);
    for (int i = 0; i < 4; i++) {
        char line[64];
        snprintf(line, sizeof(line), "hits_total{who=\"t%d\"} 100000\n", i);
        CHECK(strstr(t, line) != NULL);
    }
    /* i % 4 = 0,1,2,3 each 100,000 times: le=0.5 -> 100k, le=1.5 -> 200k */
    CHECK(strstr(t, "obs_bucket{le=\"0.5\"} 100000\nobs_bucket{le=\"1.5\"} 200000\n"
                    "obs_bucket{le=\"+Inf\"} 400000\nobs_sum 600000\nobs_count 400000\n") != NULL);
    CHECK_EQ(sb_metric_overflow(c), 0);
    free(t);
    sb_metrics_free(reg);
}

TEST(children_bound_other)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    CHECK_EQ(sb_metrics_set_max_children(reg, 3), 0);
    struct sb_metric *c = sb_metric_counter(reg, "peer_frames_total", NULL,
                                            (const char *[]){ "peer", "kind" }, 2);
    REQUIRE(c != NULL);
    char p[32];
    for (int i = 0; i < 10; i++) {
        snprintf(p, sizeof(p), "10.0.0.%d", i);
        sb_metric_inc(c, (const char *[]){ p, "rx" }, 1);
    }
    sb_metric_inc(c, (const char *[]){ "10.0.0.0", "rx" }, 5);     /* existing child */
    sb_metric_inc(c, (const char *[]){ "other", "other" }, 100);   /* same series, not counted */
    CHECK_EQ(sb_metric_overflow(c), 7);
    char *t = scrape(reg);
    CHECK_STR(t,
              "# TYPE peer_frames_total counter\n"
              "peer_frames_total{peer=\"10.0.0.0\",kind=\"rx\"} 6\n"
              "peer_frames_total{peer=\"10.0.0.1\",kind=\"rx\"} 1\n"
              "peer_frames_total{peer=\"10.0.0.2\",kind=\"rx\"} 1\n"
              "peer_frames_total{peer=\"other\",kind=\"other\"} 107\n");
    free(t);
    sb_metrics_free(reg);
}

/* Many threads racing to create the same and different children under a
 * small bound: never more than the bound, no update lost. */
struct racer {
    struct sb_metric *c;       /* counter under test */
    int id;                    /* seeds the label choice */
};

static void *race(void *arg)
{
    struct racer *r = arg;
    uint64_t seed = (uint64_t)r->id + 1;
    char v[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(v, sizeof(v), "v%u", (unsigned)(tap_rand(&seed) % 40));
        sb_metric_inc(r->c, (const char *[]){ v }, 1);
    }
    return NULL;
}

TEST(threads_create_race)
{
    struct sb_metrics *reg = sb_metrics_new();
    REQUIRE(reg != NULL);
    CHECK_EQ(sb_metrics_set_max_children(reg, 16), 0);
    struct sb_metric *c = sb_metric_counter(reg, "race_total", NULL, (const char *[]){ "v" }, 1);
    REQUIRE(c != NULL);
    struct racer r[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){ c, i };
        REQUIRE(pthread_create(&th[i], NULL, race, &r[i]) == 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *t = scrape(reg);
    REQUIRE(t != NULL);
    int lines = 0;
    double total = 0;
    for (char *s = strchr(t, '\n'); s && s[1]; s = strchr(s + 1, '\n')) {
        lines++;
        char *val = strstr(s + 1, "} ");
        REQUIRE(val != NULL);
        total += strtod(val + 2, NULL);
    }
    CHECK_EQ(lines, 17);                        /* 16 children + other */
    CHECK_EQ((long long)total, 80000);
    CHECK(sb_metric_overflow(c) > 0);
    free(t);
    sb_metrics_free(reg);
}

int main(void)
{
    TAP_START();
    RUN(exact_exposition);
    RUN(histogram_cumulative);
    RUN(escaping);
    RUN(registration_rules);
    RUN(threads_exact_total);
    RUN(children_bound_other);
    RUN(threads_create_race);
    TAP_END();
}

/*
 * test_appdb_analytics.c - the analytics store of the app database (schema
 * v4): documents by kind and key with their building scope and binary part,
 * the forecast log with its horizon filter and purge, report files with the
 * keep-newest trim.  Every test runs on SQLite (real files in a temporary
 * directory) and, when SBEMS_TEST_PG_URL names a server (tests/pg/pg-run),
 * again on PostgreSQL, each database in a fresh schema (appdb_test.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "appdb_test.h"
#include "core/err.h"
#include "db/appdb.h"
#include "tap.h"

#define T0 1772323200000LL   /* 2026-03-01T00:00:00Z */
#define HOUR_MS 3600000LL

static char tmpl[] = "/tmp/sbems-test-analytics-XXXXXX";
static char *root;

/* Database name on this pass's backend: fresh, or as an earlier open left it. */
static struct sb_appdb *open_db(const char *name, int fresh)
{
    return appdb_test_open_in(root, name, fresh);
}

static struct sb_doc mkdoc(const char *kind, const char *key, const char *building, const char *body)
{
    struct sb_doc d;

    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "%s", kind);
    snprintf(d.key, sizeof(d.key), "%s", key);
    snprintf(d.building, sizeof(d.building), "%s", building);
    d.body = (char *)body;
    d.updated_ms = T0;
    return d;
}

TEST(documents)
{
    struct sb_appdb *db = open_db("docs", 1);
    REQUIRE(db);
    struct sb_doc d = mkdoc("tariff", "b19", "", "{\"id\":\"b19\"}"), g;
    CHECK_EQ(sb_appdb_doc_put(db, &d), 0);
    CHECK_EQ(sb_appdb_doc_get(db, "tariff", "b19", &g), 0);
    CHECK_STR(g.body, "{\"id\":\"b19\"}");
    CHECK_STR(g.building, "");
    CHECK(g.blob == NULL);
    sb_doc_release(&g);

    /* Replace by (kind, key): the newer body and a binary part. */
    unsigned char bin[300];
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (unsigned char)(i * 7);
    bin[5] = 0;      /* binary, NUL inside */
    bin[6] = 0xff;   /* and a byte no text encoding has */
    d = mkdoc("fc_model", "meter-main", "hq", "{\"model\":\"gbm\"}");
    d.blob = bin;
    d.blob_len = sizeof(bin);
    CHECK_EQ(sb_appdb_doc_put(db, &d), 0);
    d.body = "{\"model\":\"towt\"}";
    d.updated_ms = T0 + 5;
    CHECK_EQ(sb_appdb_doc_put(db, &d), 0);
    CHECK_EQ(sb_appdb_doc_get(db, "fc_model", "meter-main", &g), 0);
    CHECK_STR(g.body, "{\"model\":\"towt\"}");
    CHECK_EQ(g.blob_len, sizeof(bin));
    CHECK(g.blob && memcmp(g.blob, bin, sizeof(bin)) == 0);
    CHECK_EQ(g.updated_ms, T0 + 5);
    CHECK_STR(g.building, "hq");
    sb_doc_release(&g);
    /* Without the binary part: the same document, no blob read. */
    CHECK_EQ(sb_appdb_doc_meta(db, "fc_model", "meter-main", &g), 0);
    CHECK_STR(g.body, "{\"model\":\"towt\"}");
    CHECK(g.blob == NULL && g.blob_len == 0);
    CHECK_EQ(g.updated_ms, T0 + 5);
    sb_doc_release(&g);

    /* Same key, other kind: a different document. */
    CHECK_EQ(sb_appdb_doc_get(db, "tariff", "meter-main", &g), SB_ENOENT);

    /* Lists by kind, by building, with or without blobs. */
    struct sb_doc e = mkdoc("fc_model", "meter-hvac", "hq", "{}");
    CHECK_EQ(sb_appdb_doc_put(db, &e), 0);
    e = mkdoc("fc_model", "meter-x", "annex", "[]");
    CHECK_EQ(sb_appdb_doc_put(db, &e), 0);
    struct sb_doc *v = NULL;
    size_t n = 0;
    CHECK_EQ(sb_appdb_doc_list(db, "fc_model", NULL, 0, &v, &n), 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_STR(v[0].key, "meter-hvac");   /* by key */
        CHECK_STR(v[1].key, "meter-main");
        CHECK(v[1].blob == NULL);            /* not asked for */
    }
    sb_docs_free(v, n);
    CHECK_EQ(sb_appdb_doc_list(db, "fc_model", "hq", 1, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2)
        CHECK_EQ(v[1].blob_len, sizeof(bin));
    sb_docs_free(v, n);

    /* Keys sort bytewise (upper case first), on either engine. */
    static const char *const keys[] = { "beta", "Zeta", "alpha", "alpha-2", "alpha_2" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        e = mkdoc("measure", keys[i], "hq", "{}");
        CHECK_EQ(sb_appdb_doc_put(db, &e), 0);
    }
    CHECK_EQ(sb_appdb_doc_list(db, "measure", "hq", 0, &v, &n), 0);
    CHECK_EQ(n, 5);
    if (n == 5) {
        CHECK_STR(v[0].key, "Zeta");
        CHECK_STR(v[1].key, "alpha");
        CHECK_STR(v[2].key, "alpha-2");
        CHECK_STR(v[3].key, "alpha_2");
        CHECK_STR(v[4].key, "beta");
    }
    sb_docs_free(v, n);

    /* Refused: not JSON (the database's CHECK), bad kind or key. */
    e = mkdoc("tariff", "bad", "", "{not json");
    CHECK_EQ(sb_appdb_doc_put(db, &e), SB_EINVAL);
    e = mkdoc("tariff", "has space", "", "{}");
    CHECK_EQ(sb_appdb_doc_put(db, &e), SB_EINVAL);
    e = mkdoc("", "k", "", "{}");
    CHECK_EQ(sb_appdb_doc_put(db, &e), SB_EINVAL);
    CHECK_EQ(sb_appdb_doc_get(db, "tariff", "bad", &g), SB_ENOENT);
    /* The body is kept as given (not normalised). */
    e = mkdoc("tariff", "spaced", "", "{ \"b\": 1,  \"a\": [1, 2] }");
    CHECK_EQ(sb_appdb_doc_put(db, &e), 0);
    CHECK_EQ(sb_appdb_doc_get(db, "tariff", "spaced", &g), 0);
    CHECK_STR(g.body, "{ \"b\": 1,  \"a\": [1, 2] }");
    sb_doc_release(&g);

    /* Delete: once, then unknown. */
    CHECK_EQ(sb_appdb_doc_delete(db, "fc_model", "meter-x"), 0);
    CHECK_EQ(sb_appdb_doc_delete(db, "fc_model", "meter-x"), SB_ENOENT);
    sb_appdb_close(db);

    /* Survives a reopen. */
    db = open_db("docs", 0);
    REQUIRE(db);
    CHECK_EQ(sb_appdb_doc_get(db, "tariff", "b19", &g), 0);
    sb_doc_release(&g);
    sb_appdb_close(db);
}

TEST(forecast_log)
{
    struct sb_appdb *db = open_db("fc", 1);
    REQUIRE(db);
    struct sb_fc_row r[72];
    int64_t issued = T0;
    for (int h = 0; h < 72; h++) {
        r[h].issued_ms = issued;
        r[h].target_ms = issued + h * HOUR_MS;   /* the hour starting at issue is horizon 1 */
        r[h].yhat = 100 + h;
        r[h].lo = h == 3 ? NAN : 90 + h;
        r[h].hi = 110 + h;
    }
    CHECK_EQ(sb_appdb_fc_put(db, "meter-main", "gbm", r, 72), 0);
    /* The next day's issue overlaps 48 target hours. */
    for (int h = 0; h < 72; h++) {
        r[h].issued_ms = issued + 24 * HOUR_MS;
        r[h].target_ms = r[h].issued_ms + h * HOUR_MS;
        r[h].yhat = 200 + h;
    }
    CHECK_EQ(sb_appdb_fc_put(db, "meter-main", "towt", r, 72), 0);

    struct sb_fc_row *v = NULL;
    size_t n = 0;
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0, T0 + 96 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 144);
    free(v);
    /* Horizon 1 (the hour starting at the issue): one per issue. */
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0, T0 + 96 * HOUR_MS, 1, 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(v[0].target_ms, v[0].issued_ms);
        CHECK_STR(v[0].model, "gbm");
        CHECK_EQ(v[1].target_ms, T0 + 24 * HOUR_MS);
        CHECK_STR(v[1].model, "towt");
    }
    free(v);
    /* Horizon 30: only the first issue's (the second's lies past t1). */
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0, T0 + 48 * HOUR_MS, 30, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK_EQ(v[0].target_ms, T0 + 29 * HOUR_MS);
    free(v);
    /* Target window [T0+24h, T0+25h): both issues, in issue order. */
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0 + 24 * HOUR_MS, T0 + 25 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_DBL(v[0].yhat, 124, 1e-9);
        CHECK_STR(v[0].model, "gbm");
        CHECK_DBL(v[1].yhat, 200, 1e-9);
        CHECK_STR(v[1].model, "towt");
    }
    free(v);
    /* NaN is kept as missing, not as a number. */
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0 + 3 * HOUR_MS, T0 + 4 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK(isnan(v[0].lo));
    free(v);
    /* Issued again (same issue and target hours): replaced, not added. */
    r[0].yhat = 999;
    r[1].yhat = NAN;
    CHECK_EQ(sb_appdb_fc_put(db, "meter-main", "gbm2", r, 2), 0);
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0 + 24 * HOUR_MS, T0 + 26 * HOUR_MS, 1, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    if (n == 1) {
        CHECK_DBL(v[0].yhat, 999, 1e-9);
        CHECK_STR(v[0].model, "gbm2");
    }
    free(v);
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0 + 25 * HOUR_MS, T0 + 26 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_DBL(v[0].yhat, 125, 1e-9);
        CHECK(isnan(v[1].yhat));
        CHECK_STR(v[1].model, "gbm2");
    }
    free(v);
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0, T0 + 200 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 144);
    free(v);
    /* Purge the first issue. */
    CHECK_EQ(sb_appdb_fc_purge(db, T0 + HOUR_MS), 0);
    CHECK_EQ(sb_appdb_fc_get(db, "meter-main", T0, T0 + 200 * HOUR_MS, 0, 0, &v, &n), 0);
    CHECK_EQ(n, 72);
    free(v);
    CHECK_EQ(sb_appdb_fc_put(db, "bad meter", "gbm", r, 1), SB_EINVAL);
    sb_appdb_close(db);
}

TEST(report_files)
{
    struct sb_appdb *db = open_db("rf", 1);
    REQUIRE(db);
    char body[64];
    for (int i = 0; i < 5; i++) {
        struct sb_report_file f;
        memset(&f, 0, sizeof(f));
        snprintf(f.report, sizeof(f.report), "weekly-hq");
        snprintf(f.building, sizeof(f.building), "hq");
        snprintf(f.format, sizeof(f.format), "csv");
        snprintf(f.name, sizeof(f.name), "hq-week-%d.csv", i);
        int len = snprintf(body, sizeof(body), "day,kwh\n%d,%d\n", i, i * 10);
        f.bytes = body;
        f.size = (size_t)len;
        f.from_ms = T0 + i * 7 * 24 * HOUR_MS;
        f.to_ms = f.from_ms + 7 * 24 * HOUR_MS;
        f.created_ms = f.to_ms + HOUR_MS;
        CHECK_EQ(sb_appdb_report_file_put(db, &f, 3), 0);
        CHECK(f.id > 0);
    }
    struct sb_report_file *v = NULL;
    size_t n = 0;
    CHECK_EQ(sb_appdb_report_file_list(db, "weekly-hq", NULL, 0, &v, &n), 0);
    CHECK_EQ(n, 3);   /* kept the newest 3 */
    int64_t newest = 0;
    if (n == 3) {
        CHECK_STR(v[0].name, "hq-week-4.csv");
        CHECK_STR(v[2].name, "hq-week-2.csv");
        CHECK(v[0].bytes == NULL);
        CHECK_EQ(v[0].size, strlen("day,kwh\n4,40\n"));
        newest = v[0].id;
    }
    free(v);
    struct sb_report_file g;
    CHECK_EQ(sb_appdb_report_file_get(db, newest, &g), 0);
    CHECK(g.bytes && g.size == strlen("day,kwh\n4,40\n") && memcmp(g.bytes, "day,kwh\n4,40\n", g.size) == 0);
    sb_report_file_release(&g);
    CHECK_EQ(sb_appdb_report_file_get(db, 999999, &g), SB_ENOENT);
    /* The same period again replaces its file; deleting the report's files. */
    struct sb_report_file again;
    memset(&again, 0, sizeof(again));
    snprintf(again.report, sizeof(again.report), "weekly-hq");
    snprintf(again.building, sizeof(again.building), "hq");
    snprintf(again.format, sizeof(again.format), "csv");
    snprintf(again.name, sizeof(again.name), "hq-week-4b.csv");
    again.bytes = body;
    again.size = 3;
    again.from_ms = T0 + 4 * 7 * 24 * HOUR_MS;
    again.created_ms = again.from_ms + 8 * 24 * HOUR_MS;
    CHECK_EQ(sb_appdb_report_file_put(db, &again, 3), 0);
    CHECK_EQ(sb_appdb_report_file_list(db, "weekly-hq", NULL, 0, &v, &n), 0);
    CHECK_EQ(n, 3);
    if (n == 3) {
        CHECK_STR(v[0].name, "hq-week-4b.csv");
        CHECK_STR(v[1].name, "hq-week-3.csv");
    }
    free(v);
    /* Binary files come back byte for byte: every byte value, 0x00 and
     * 0xff included, and an empty file. */
    unsigned char raw[512];
    for (size_t i = 0; i < sizeof(raw); i++)
        raw[i] = (unsigned char)(255 - i % 256);
    struct sb_report_file b;
    memset(&b, 0, sizeof(b));
    snprintf(b.report, sizeof(b.report), "monthly-annex");
    snprintf(b.building, sizeof(b.building), "annex");
    snprintf(b.format, sizeof(b.format), "pdf");
    snprintf(b.name, sizeof(b.name), "annex-2026-03.pdf");
    b.bytes = raw;
    b.size = sizeof(raw);
    b.from_ms = T0;
    b.to_ms = T0 + 31 * 24 * HOUR_MS;
    b.created_ms = b.to_ms + HOUR_MS;
    CHECK_EQ(sb_appdb_report_file_put(db, &b, 5), 0);
    int64_t bin_id = b.id;
    CHECK_EQ(sb_appdb_report_file_get(db, bin_id, &g), 0);
    CHECK_EQ(g.size, sizeof(raw));
    CHECK(g.bytes && g.size == sizeof(raw) && memcmp(g.bytes, raw, sizeof(raw)) == 0);
    CHECK_STR(g.format, "pdf");
    sb_report_file_release(&g);
    b.from_ms = T0 + 31 * 24 * HOUR_MS;   /* another period */
    b.size = 0;
    CHECK_EQ(sb_appdb_report_file_put(db, &b, 5), 0);
    CHECK(b.id > bin_id);
    CHECK_EQ(sb_appdb_report_file_get(db, b.id, &g), 0);
    CHECK(g.bytes == NULL && g.size == 0);
    sb_report_file_release(&g);
    CHECK_EQ(sb_appdb_report_file_list(db, NULL, "annex", 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    if (n == 2)
        CHECK(v[0].size == 0 && v[1].size == sizeof(raw));
    free(v);
    CHECK_EQ(sb_appdb_report_file_delete(db, "monthly-annex"), 0);

    CHECK_EQ(sb_appdb_report_file_delete(db, "weekly-hq"), 0);
    CHECK_EQ(sb_appdb_report_file_list(db, "weekly-hq", NULL, 0, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);
    CHECK_EQ(sb_appdb_report_file_list(db, NULL, "annex", 0, &v, &n), 0);
    CHECK_EQ(n, 0);
    free(v);
    sb_appdb_close(db);
}

static void rmtree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
}

int main(void)
{
    const char *pg = appdb_test_pg_url();

    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    for (int pass = 0; pass < (pg ? 2 : 1); pass++) {
        appdb_test_pg = pass ? pg : NULL;
        printf("# backend %s\n", appdb_test_pg ? "postgres" : "sqlite");
        RUN(documents);
        RUN(forecast_log);
        RUN(report_files);
    }
    if (!pg)
        printf("# PostgreSQL backend not run: SBEMS_TEST_PG_URL unset (tests/pg/pg-run sets it)\n");
    rmtree();
    TAP_END();
}

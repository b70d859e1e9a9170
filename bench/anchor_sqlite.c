/*
 * anchor_sqlite.c - the plain-SQLite anchor: one row per reading in an
 * ordinary SQLite table, the obvious way to use the engine sbems embeds.
 *
 *   anchor_sqlite -f db_path [-n rows] [-p n60] [-m n15] [-x rows_per_txn] [-t max_s]
 *
 * Table energy_readings(time INTEGER (Unix ms), sensor_id INTEGER, value
 * REAL, quality INTEGER) with an index on (sensor_id, time); journal_mode=WAL,
 * synchronous=FULL (every commit fsyncs the WAL: durable, like sbems' full
 * sync policy and PostgreSQL's synchronous_commit), a 64 MiB page cache,
 * default automatic checkpoints (1,000 pages).  The site's readings (bench.h,
 * the same values as the PostgreSQL anchor and sbems) are generated first and
 * then inserted with one prepared INSERT, -x rows per transaction.
 * Reports rows/s and bytes/row (database file after a TRUNCATE checkpoint,
 * so the WAL is empty, divided by rows).
 *
 * Pragmas: https://sqlite.org/pragma.html (journal_mode, synchronous,
 * cache_size: a negative value is in KiB; wal_checkpoint).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"

/* Command-line settings. */
struct opts {
    const char *path;      /* database file (created; must not hold other data) */
    int64_t rows;          /* readings to insert */
    int64_t n60;           /* 60-s sensors */
    int64_t n15;           /* 15-s meters */
    int64_t per_txn;       /* rows per transaction */
    int64_t max_s;         /* stop starting transactions after this many seconds */
};

static int exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    fprintf(stderr, "sqlite: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return SB_ESTORE;
}

static int setup(sqlite3 *db)
{
    static const char *const sql[] = {
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=FULL",
        "PRAGMA cache_size=-65536",
        "DROP TABLE IF EXISTS energy_readings",
        ("CREATE TABLE energy_readings (time INTEGER NOT NULL, sensor_id INTEGER NOT NULL, "
         "value REAL, quality INTEGER)"),
        "CREATE INDEX energy_readings_sensor_time ON energy_readings (sensor_id, time)",
    };
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++)
        if (exec_ok(db, sql[i]))
            return SB_ESTORE;
    return 0;
}

/* Insert rows[from..to) in one transaction with the prepared statement. */
static int insert_txn(sqlite3 *db, sqlite3_stmt *ins, const struct sb_reading *rows,
                      int64_t from, int64_t to)
{
    if (exec_ok(db, "BEGIN"))
        return SB_ESTORE;
    for (int64_t i = from; i < to; i++) {
        sqlite3_bind_int64(ins, 1, rows[i].t);
        sqlite3_bind_int64(ins, 2, rows[i].point);
        sqlite3_bind_double(ins, 3, rows[i].v);
        sqlite3_bind_int(ins, 4, rows[i].q);
        int st = sqlite3_step(ins);
        sqlite3_reset(ins);
        if (st != SQLITE_DONE) {
            fprintf(stderr, "sqlite: insert: %s\n", sqlite3_errmsg(db));
            exec_ok(db, "ROLLBACK");
            return SB_ESTORE;
        }
    }
    return exec_ok(db, "COMMIT");
}

/* Insert rows[0..n) in transactions of o->per_txn; *done gets rows committed. */
static int load(sqlite3 *db, const struct sb_reading *rows, int64_t n, const struct opts *o,
                int64_t *done)
{
    sqlite3_stmt *ins = NULL;
    const char *sql = "INSERT INTO energy_readings (time, sensor_id, value, quality) "
                      "VALUES (?1, ?2, ?3, ?4)";
    if (sqlite3_prepare_v2(db, sql, -1, &ins, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite: prepare: %s\n", sqlite3_errmsg(db));
        return SB_ESTORE;
    }
    int rc = 0;
    int64_t t_cap = sb_bench_now_ns() + o->max_s * INT64_C(1000000000);
    *done = 0;
    while (rc == 0 && *done < n) {
        if (sb_bench_now_ns() > t_cap) {
            fprintf(stderr, "sqlite: time cap of %llds reached after %lld rows\n",
                    (long long)o->max_s, (long long)*done);
            break;
        }
        int64_t end = *done + o->per_txn < n ? *done + o->per_txn : n;
        rc = insert_txn(db, ins, rows, *done, end);
        if (rc == 0)
            *done = end;
    }
    sqlite3_finalize(ins);
    return rc;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

static int run(const struct opts *o)
{
    size_t np = (size_t)(o->n60 + o->n15);
    struct sb_bench_point *pts = calloc(np, sizeof *pts);
    struct sb_reading *rows = malloc((size_t)o->rows * sizeof *rows);
    sqlite3 *db = NULL;
    int rc = SB_ENOMEM;
    if (!pts || !rows)
        goto out;
    struct sb_bench_stream st;
    sb_bench_site_init(pts, (size_t)o->n60, (size_t)o->n15, SB_BENCH_T0_MS);
    sb_bench_stream_init(&st, pts, np, SB_BENCH_T0_MS);
    int64_t n = (int64_t)sb_bench_stream_fill(&st, rows, (size_t)o->rows), done = 0;
    rc = SB_ESTORE;
    if (sqlite3_open(o->path, &db) != SQLITE_OK || setup(db))
        goto out;
    int64_t t0 = sb_bench_now_ns();
    rc = load(db, rows, n, o, &done);
    double secs = (double)(sb_bench_now_ns() - t0) / 1e9;
    if (rc || done == 0)
        goto out;
    fprintf(stderr, "sqlite: inserted %lld rows in %.1f s\n", (long long)done, secs);
    sb_bench_result("sqlite_rows", (double)done, "rows");
    sb_bench_result("sqlite_rows_per_s", (double)done / secs, "rows/s");
    rc = exec_ok(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (rc == 0) {
        char wal[4096];
        snprintf(wal, sizeof wal, "%s-wal", o->path);
        int64_t bytes = file_size(o->path) + file_size(wal);
        sb_bench_result("sqlite_bytes_per_row", (double)bytes / (double)done, "B/row");
    }
out:
    if (db && rc == SB_ESTORE)
        fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    free(rows);
    free(pts);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = { .rows = 10000000, .n60 = 1000, .n15 = 100, .per_txn = 10000, .max_s = 1200 };
    int ch, bad = 0;
    int64_t *dst;
    while (!bad && (ch = getopt(argc, argv, "f:n:p:m:x:t:")) != -1) {
        switch (ch) {
        case 'f': o.path = optarg; continue;
        case 'n': dst = &o.rows; break;
        case 'p': dst = &o.n60; break;
        case 'm': dst = &o.n15; break;
        case 'x': dst = &o.per_txn; break;
        case 't': dst = &o.max_s; break;
        default: bad = 1; continue;
        }
        char opt[3] = { '-', (char)ch, 0 };
        bad = sb_bench_arg_int(opt, optarg, 0, INT64_C(1) << 40, dst) != 0;
    }
    if (bad || !o.path || o.rows < 1 || o.per_txn < 1 || o.n60 + o.n15 < 1 ||
        o.n60 + o.n15 > 1000000) {
        fprintf(stderr, "usage: %s -f db_path [-n rows] [-p n60] [-m n15] [-x rows_per_txn] "
                        "[-t max_s]\n", argv[0]);
        return 2;
    }
    return run(&o) ? 1 : 0;
}

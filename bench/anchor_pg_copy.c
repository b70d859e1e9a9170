/*
 * anchor_pg_copy.c - the PostgreSQL anchor: what the seed's design (one row
 * per reading in a plain PostgreSQL table) costs on this machine, measured in
 * the same run as sbems.
 *
 *   anchor_pg_copy ingest [-c conninfo] [-n rows] [-p n60] [-m n15] [-b rows_per_copy] [-t max_s]
 *   anchor_pg_copy query  [-c conninfo] [-k year_sensors] [-D days] [-p n60] [-r reps] [-T max_s]
 *
 * ingest: creates the seed's table energy_readings(time timestamptz,
 * sensor_id int, value double precision, quality smallint) with its index on
 * (sensor_id, time), then loads the site's readings (bench.h; time order, as
 * they arrive) with binary COPY, a few COPY statements of -b rows each, the
 * index present throughout.  Each COPY commits (synchronous_commit is on), so
 * every row counted is durable.  Reports rows/s over the COPYs, and
 * bytes/row (pg_total_relation_size after VACUUM ANALYZE; also heap and
 * index separately).
 *
 * query: loads a reduced data set that holds exactly what each query touches
 * (see docs/internals/bench.md): sensors 1..k for D days of 1-minute
 * readings, plus all n60 sensors on the last day, in time order (so the last
 * day's rows are interleaved in the heap as in a full table, and the year
 * sensors' rows are interleaved k ways rather than 1,000 ways: better heap
 * locality than a full table, which favours PostgreSQL).  Then times, after
 * one warm-up run, up to -r repetitions (and at most -T seconds) of:
 *   year_hourly   one sensor's D days at hourly resolution (avg/min/max/count)
 *   all_day_hourly all n60 sensors' last day, hourly
 *   zones_raw     50 zone temperatures' last day, raw rows
 *   energy_daily  one energy register's consumption per day (max - min)
 * and reports p50 and p99 latency in ms, client included (prepared
 * statements, binary results, rows walked).
 *
 * Binary COPY format: PostgreSQL 15 documentation, "COPY", section "Binary
 * Format": 11-byte signature "PGCOPY\n\377\r\n\0", int32 flags, int32
 * header-extension length; each tuple an int16 field count then per field
 * an int32 length and the value in network byte order; int16 -1 ends the
 * data.  timestamptz is int64 microseconds since 2000-01-01 00:00 UTC
 * (integer datetimes, the only kind since PostgreSQL 10).
 */
#include <endian.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "core/err.h"

#define PG_EPOCH_MS      INT64_C(946684800000)   /* 2000-01-01T00:00Z in Unix ms */
#define COPY_BUF_BYTES   (1u << 20)              /* bytes handed to libpq at a time */
#define TUPLE_BYTES      40                      /* 2 + (4+8) + (4+4) + (4+8) + (4+2) */
#define ZONES            50                      /* zone temperatures per building */

/* Command-line settings. */
struct opts {
    const char *conninfo;  /* libpq connection string */
    int64_t rows;          /* ingest: rows to load */
    int64_t n60;           /* 60-s sensors */
    int64_t n15;           /* 15-s meters (ingest only) */
    int64_t per_copy;      /* ingest: rows per COPY statement */
    int64_t max_s;         /* ingest: stop starting COPYs after this many seconds */
    int64_t year_k;        /* query: sensors with the full period */
    int64_t days;          /* query: length of the period */
    int64_t reps;          /* query: repetitions per query */
    int64_t rep_s;         /* query: time cap per query, seconds */
};

/* A COPY in progress: rows are encoded into buf and handed to libpq in
 * COPY_BUF_BYTES pieces. */
struct copy {
    PGconn  *conn;          /* connection in COPY IN state */
    uint8_t *buf;           /* encoding buffer, COPY_BUF_BYTES */
    size_t   len;           /* bytes used in buf */
    int64_t  rows;          /* rows sent in this COPY */
};

static int exec_ok(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int rc = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? 0 : SB_ESTORE;
    if (rc)
        fprintf(stderr, "pg: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return rc;
}

/* The seed's table and index (docs/seed schema), recreated empty. */
static int create_table(PGconn *c, const char *name)
{
    char sql[512];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", name);
    if (exec_ok(c, sql))
        return SB_ESTORE;
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (time timestamptz NOT NULL, sensor_id int NOT NULL, "
             "value double precision, quality smallint)", name);
    if (exec_ok(c, sql))
        return SB_ESTORE;
    snprintf(sql, sizeof sql, "CREATE INDEX ON %s (sensor_id, time)", name);
    return exec_ok(c, sql);
}

static uint8_t *put16(uint8_t *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); return p + 2; }
static uint8_t *put32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); return p + 4; }
static uint8_t *put64(uint8_t *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); return p + 8; }

static int copy_flush(struct copy *cp)
{
    if (cp->len && PQputCopyData(cp->conn, (const char *)cp->buf, (int)cp->len) != 1) {
        fprintf(stderr, "pg: PQputCopyData: %s", PQerrorMessage(cp->conn));
        return SB_ESTORE;
    }
    cp->len = 0;
    return 0;
}

static int copy_begin(struct copy *cp, PGconn *c, const char *table)
{
    char sql[256];
    snprintf(sql, sizeof sql, "COPY %s (time, sensor_id, value, quality) FROM STDIN (FORMAT binary)",
             table);
    PGresult *r = PQexec(c, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    PQclear(r);
    if (!ok) {
        fprintf(stderr, "pg: %s: %s", sql, PQerrorMessage(c));
        return SB_ESTORE;
    }
    cp->conn = c;
    cp->rows = 0;
    static const uint8_t sig[11] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0 };
    memcpy(cp->buf, sig, sizeof sig);
    uint8_t *p = put32(cp->buf + sizeof sig, 0);   /* flags: no OIDs */
    p = put32(p, 0);                               /* no header extension */
    cp->len = (size_t)(p - cp->buf);
    return 0;
}

static int copy_row(struct copy *cp, const struct sb_reading *r)
{
    if (cp->len + TUPLE_BYTES > COPY_BUF_BYTES && copy_flush(cp))
        return SB_ESTORE;
    uint64_t vbits;
    memcpy(&vbits, &r->v, sizeof vbits);
    uint8_t *p = cp->buf + cp->len;
    p = put16(p, 4);
    p = put32(p, 8);
    p = put64(p, (uint64_t)((r->t - PG_EPOCH_MS) * 1000));
    p = put32(p, 4);
    p = put32(p, r->point);
    p = put32(p, 8);
    p = put64(p, vbits);
    p = put32(p, 2);
    p = put16(p, r->q);
    cp->len = (size_t)(p - cp->buf);
    cp->rows++;
    return 0;
}

/* Send the trailer, end the COPY and wait for its commit. */
static int copy_end(struct copy *cp)
{
    cp->buf[cp->len++] = 0xff;                    /* int16 -1: end of data */
    cp->buf[cp->len++] = 0xff;
    if (copy_flush(cp) || PQputCopyEnd(cp->conn, NULL) != 1) {
        fprintf(stderr, "pg: end of COPY: %s", PQerrorMessage(cp->conn));
        return SB_ESTORE;
    }
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(cp->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            fprintf(stderr, "pg: COPY: %s", PQerrorMessage(cp->conn));
            rc = SB_ESTORE;
        }
        PQclear(r);
    }
    return rc;
}

/* One int64 from a one-row, one-column text result of sql; negative on error. */
static int64_t query_int(PGconn *c, const char *sql)
{
    PGresult *r = PQexec(c, sql);
    int64_t v = SB_ESTORE;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "pg: %s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return v;
}

/* VACUUM ANALYZE table, then report its total, heap and index bytes per row. */
static int report_sizes(PGconn *c, const char *table, int64_t rows, const char *prefix)
{
    char sql[256], name[96];
    snprintf(sql, sizeof sql, "VACUUM ANALYZE %s", table);
    if (exec_ok(c, sql) || rows <= 0)
        return SB_ESTORE;
    static const char *const what[3][2] = {
        { "pg_total_relation_size", "bytes_per_row" },
        { "pg_relation_size", "heap_bytes_per_row" },
        { "pg_indexes_size", "index_bytes_per_row" },
    };
    for (int i = 0; i < 3; i++) {
        snprintf(sql, sizeof sql, "SELECT %s('%s')", what[i][0], table);
        int64_t b = query_int(c, sql);
        if (b < 0)
            return SB_ESTORE;
        snprintf(name, sizeof name, "%s_%s", prefix, what[i][1]);
        sb_bench_result(name, (double)b / (double)rows, "B/row");
    }
    return 0;
}

/* Load rows[0..n) with COPYs of per_copy rows; *done gets the rows committed. */
static int copy_rows(PGconn *c, const struct sb_reading *rows, int64_t n, const struct opts *o,
                     int64_t t_start, int64_t *done)
{
    struct copy cp = { .buf = malloc(COPY_BUF_BYTES) };
    int rc = cp.buf ? 0 : SB_ENOMEM;
    *done = 0;
    while (rc == 0 && *done < n) {
        if (sb_bench_now_ns() - t_start > o->max_s * INT64_C(1000000000)) {
            fprintf(stderr, "pg: time cap of %llds reached after %lld rows\n",
                    (long long)o->max_s, (long long)*done);
            break;
        }
        int64_t end = *done + o->per_copy < n ? *done + o->per_copy : n;
        rc = copy_begin(&cp, c, "energy_readings");
        for (int64_t i = *done; rc == 0 && i < end; i++)
            rc = copy_row(&cp, &rows[i]);
        if (rc == 0)
            rc = copy_end(&cp);
        if (rc == 0)
            *done = end;
    }
    free(cp.buf);
    return rc;
}

static int run_ingest(PGconn *c, const struct opts *o)
{
    size_t np = (size_t)(o->n60 + o->n15);
    struct sb_bench_point *pts = calloc(np, sizeof *pts);
    struct sb_reading *rows = malloc((size_t)o->rows * sizeof *rows);
    int rc = SB_ENOMEM;
    if (!pts || !rows)
        goto out;
    /* Generate first so that the timed part is the database's work plus
     * the client's encoding, as for sbems. */
    struct sb_bench_stream st;
    sb_bench_site_init(pts, (size_t)o->n60, (size_t)o->n15, SB_BENCH_T0_MS);
    sb_bench_stream_init(&st, pts, np, SB_BENCH_T0_MS);
    size_t got = sb_bench_stream_fill(&st, rows, (size_t)o->rows);
    rc = create_table(c, "energy_readings");
    if (rc)
        goto out;
    int64_t done, t0 = sb_bench_now_ns();
    rc = copy_rows(c, rows, (int64_t)got, o, t0, &done);
    double secs = (double)(sb_bench_now_ns() - t0) / 1e9;
    if (rc || done == 0)
        goto out;
    fprintf(stderr, "pg: loaded %lld rows in %.1f s\n", (long long)done, secs);
    sb_bench_result("pg_copy_rows", (double)done, "rows");
    sb_bench_result("pg_copy_rows_per_s", (double)done / secs, "rows/s");
    rc = report_sizes(c, "energy_readings", done, "pg");
out:
    free(rows);
    free(pts);
    return rc;
}

/* Query data set: sensors 1..k from the start, the others from the last day. */
static int load_query_set(PGconn *c, const struct opts *o, int64_t *nrows)
{
    size_t n = (size_t)o->n60;
    int64_t last_day = SB_BENCH_T0_MS + (o->days - 1) * SB_BENCH_DAY_MS;
    int64_t t_end = SB_BENCH_T0_MS + o->days * SB_BENCH_DAY_MS;
    struct sb_bench_point *pts = calloc(n, sizeof *pts);
    struct sb_reading *blk = malloc(65536 * sizeof *blk);
    struct copy cp = { .buf = malloc(COPY_BUF_BYTES) };
    int rc = (pts && blk && cp.buf) ? create_table(c, "q_readings") : SB_ENOMEM;
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++)
        sb_bench_point_init(&pts[i], (uint32_t)(i + 1), sb_bench_kind_of((uint32_t)(i + 1)),
                            SB_BENCH_MIN_MS, (int64_t)i < o->year_k ? SB_BENCH_T0_MS : last_day);
    struct sb_bench_stream st;
    sb_bench_stream_init(&st, pts, n, SB_BENCH_T0_MS);
    rc = copy_begin(&cp, c, "q_readings");
    for (size_t k = 1; rc == 0 && k > 0;) {
        k = sb_bench_stream_fill(&st, blk, 65536);
        for (size_t i = 0; rc == 0 && i < k && blk[i].t < t_end; i++)
            rc = copy_row(&cp, &blk[i]);
        if (k > 0 && blk[k - 1].t >= t_end)
            break;
    }
    if (rc == 0)
        rc = copy_end(&cp);
    *nrows = cp.rows;
out:
    free(cp.buf);
    free(blk);
    free(pts);
    return rc;
}

/* One timed query: its prepared name, parameters, and the series it fills. */
struct q {
    const char *name;       /* result name stem, e.g. "year_hourly" */
    const char *sql;        /* statement, $1 = sensor id or id array, $2/$3 = time range */
    int64_t t0, t1;         /* time range, Unix ms */
};

static void ts_text(char *buf, size_t len, int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S+00", &tm);
}

/* Walk a binary result the way a client would: every float8 in column col. */
static double sum_col(const PGresult *r, int col)
{
    double s = 0.0;
    for (int i = 0; i < PQntuples(r); i++) {
        if (PQgetisnull(r, i, col) || PQgetlength(r, i, col) != 8)
            continue;
        uint64_t b;
        double d;
        memcpy(&b, PQgetvalue(r, i, col), 8);
        b = be64toh(b);
        memcpy(&d, &b, 8);
        s += d;
    }
    return s;
}

/* Run q with the sensor parameter produced by param(rep) for up to o->reps
 * timed repetitions after one warm-up; report p50/p99. */
static int time_query(PGconn *c, const struct q *q, const struct opts *o,
                      void (*param)(int64_t rep, const struct opts *o, char *buf, size_t len),
                      char *pbuf, size_t plen)
{
    char a[40], b[40], name[96];
    ts_text(a, sizeof a, q->t0);
    ts_text(b, sizeof b, q->t1);
    PGresult *r = PQprepare(c, q->name, q->sql, 3, NULL);
    int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SB_ESTORE;
    PQclear(r);
    double *ms = calloc((size_t)o->reps + 1, sizeof *ms);
    if (rc || !ms) {
        fprintf(stderr, "pg: prepare %s: %s", q->name, PQerrorMessage(c));
        free(ms);
        return rc ? rc : SB_ENOMEM;
    }
    int64_t n = 0, t_cap = sb_bench_now_ns() + o->rep_s * INT64_C(1000000000);
    double check = 0.0;
    for (int64_t i = -1; i < o->reps && rc == 0 && sb_bench_now_ns() < t_cap; i++) {
        param(i < 0 ? 0 : i, o, pbuf, plen);
        const char *vals[3] = { pbuf, a, b };
        int fmts[3] = { 0, 0, 0 };
        int64_t t = sb_bench_now_ns();
        r = PQexecPrepared(c, q->name, 3, vals, NULL, fmts, 1);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
            fprintf(stderr, "pg: %s: %s (rows %d)\n", q->name, PQerrorMessage(c), PQntuples(r));
            rc = SB_ESTORE;
        }
        check += sum_col(r, PQnfields(r) - 1);
        PQclear(r);
        if (i >= 0)
            ms[n++] = (double)(sb_bench_now_ns() - t) / 1e6;
    }
    fprintf(stderr, "pg: %s: %lld runs (checksum %g)\n", q->name, (long long)n, check);
    if (rc == 0 && n > 0) {
        snprintf(name, sizeof name, "pg_q_%s_p50_ms", q->name);
        sb_bench_result(name, sb_bench_pct(ms, (size_t)n, 50), "ms");
        snprintf(name, sizeof name, "pg_q_%s_p99_ms", q->name);
        sb_bench_result(name, sb_bench_pct(ms, (size_t)n, 99), "ms");
    }
    free(ms);
    return rc;
}

static void p_year_temp(int64_t rep, const struct opts *o, char *buf, size_t len)
{
    snprintf(buf, len, "%u", sb_bench_nth_of_kind(SB_BENCH_TEMP, (uint32_t)o->year_k, (uint64_t)rep));
}

static void p_year_energy(int64_t rep, const struct opts *o, char *buf, size_t len)
{
    snprintf(buf, len, "%u", sb_bench_nth_of_kind(SB_BENCH_ENERGY, (uint32_t)o->year_k, (uint64_t)rep));
}

/* A PostgreSQL array literal "{a,b,...}" of ids[0..n). */
static void id_array(const uint32_t *ids, size_t n, char *buf, size_t len)
{
    size_t k = (size_t)snprintf(buf, len, "{");
    for (size_t i = 0; i < n && k + 16 < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%u", i ? "," : "", ids[i]);
    snprintf(buf + k, len - k, "}");
}

/* All 60-s sensors, 1..n60. */
static void p_all(int64_t rep, const struct opts *o, char *buf, size_t len)
{
    (void)rep;
    size_t k = (size_t)snprintf(buf, len, "{");
    for (int64_t id = 1; id <= o->n60 && k + 16 < len; id++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld", id > 1 ? "," : "", (long long)id);
    snprintf(buf + k, len - k, "}");
}

/* The zone temperatures of building rep (bench.h). */
static void p_zones(int64_t rep, const struct opts *o, char *buf, size_t len)
{
    uint32_t ids[ZONES];
    size_t n = sb_bench_zones((uint32_t)o->n60, (uint64_t)rep, ids, ZONES);
    id_array(ids, n, buf, len);
}

static int run_queries(PGconn *c, const struct opts *o)
{
    int64_t rows, t0 = sb_bench_now_ns();
    int rc = load_query_set(c, o, &rows);
    if (rc)
        return rc;
    double secs = (double)(sb_bench_now_ns() - t0) / 1e9;
    fprintf(stderr, "pg: query set: %lld rows in %.1f s\n", (long long)rows, secs);
    sb_bench_result("pg_qset_rows", (double)rows, "rows");
    sb_bench_result("pg_qset_rows_per_s", (double)rows / secs, "rows/s");
    if ((rc = report_sizes(c, "q_readings", rows, "pg_qset")) != 0)
        return rc;
    int64_t a = SB_BENCH_T0_MS, z = a + o->days * SB_BENCH_DAY_MS, d = z - SB_BENCH_DAY_MS;
    const char *hourly = "SELECT date_trunc('hour', time) AS h, count(*), min(value), max(value), "
                         "avg(value) FROM q_readings WHERE sensor_id = $1 AND time >= $2 "
                         "AND time < $3 GROUP BY h ORDER BY h";
    const char *all = "SELECT sensor_id, date_trunc('hour', time) AS h, count(*), min(value), "
                      "max(value), avg(value) FROM q_readings WHERE sensor_id = ANY($1::int[]) "
                      "AND time >= $2 AND time < $3 GROUP BY sensor_id, h ORDER BY sensor_id, h";
    const char *raw = "SELECT sensor_id, time, quality, value FROM q_readings WHERE "
                      "sensor_id = ANY($1::int[]) AND time >= $2 AND time < $3 "
                      "ORDER BY sensor_id, time";
    const char *daily = "SELECT date_trunc('day', time) AS d, max(value) - min(value) FROM "
                        "q_readings WHERE sensor_id = $1 AND time >= $2 AND time < $3 "
                        "GROUP BY d ORDER BY d";
    const struct q qs[4] = {
        { "year_hourly", hourly, a, z }, { "all_day_hourly", all, d, z },
        { "zones_raw", raw, d, z }, { "energy_daily", daily, a, z },
    };
    void (*params[4])(int64_t, const struct opts *, char *, size_t) = {
        p_year_temp, p_all, p_zones, p_year_energy,
    };
    size_t plen = (size_t)o->n60 * 12 + 16;
    char *pbuf = malloc(plen);
    if (!pbuf)
        return SB_ENOMEM;
    for (int i = 0; i < 4 && rc == 0; i++)
        rc = time_query(c, &qs[i], o, params[i], pbuf, plen);
    free(pbuf);
    return rc;
}

static int parse(int argc, char **argv, struct opts *o)
{
    int ch, rc = 0;
    int64_t *dst;
    while (rc == 0 && (ch = getopt(argc, argv, "c:n:p:m:b:t:k:D:r:T:")) != -1) {
        switch (ch) {
        case 'c': o->conninfo = optarg; continue;
        case 'n': dst = &o->rows; break;
        case 'p': dst = &o->n60; break;
        case 'm': dst = &o->n15; break;
        case 'b': dst = &o->per_copy; break;
        case 't': dst = &o->max_s; break;
        case 'k': dst = &o->year_k; break;
        case 'D': dst = &o->days; break;
        case 'r': dst = &o->reps; break;
        case 'T': dst = &o->rep_s; break;
        default: return SB_EINVAL;
        }
        char opt[3] = { '-', (char)ch, 0 };
        rc = sb_bench_arg_int(opt, optarg, 1, INT64_C(1) << 40, dst);
    }
    if (rc == 0 && (o->n60 > 100000 || o->year_k > o->n60 || o->n60 + o->n15 > 1000000))
        rc = SB_EINVAL;
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {
        .conninfo = "", .rows = 10000000, .n60 = 1000, .n15 = 100, .per_copy = 2500000,
        .max_s = 1200, .year_k = 20, .days = 365, .reps = 50, .rep_s = 60,
    };
    const char *mode = argc > 1 ? argv[1] : "";
    int ingest = strcmp(mode, "ingest") == 0;
    if ((!ingest && strcmp(mode, "query") != 0) || parse(argc - 1, argv + 1, &o)) {
        fprintf(stderr, "usage: %s ingest|query [-c conninfo] [-n rows] [-p n60] [-m n15] "
                        "[-b rows_per_copy] [-t max_s] [-k year_sensors] [-D days] [-r reps] "
                        "[-T max_s_per_query]\n", argv[0]);
        return 2;
    }
    PGconn *c = PQconnectdb(o.conninfo);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "pg: connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return 1;
    }
    /* UTC buckets, as sbems with tz = NULL; no NOTICEs for DROP IF EXISTS. */
    int rc = exec_ok(c, "SET TimeZone = 'UTC'");
    if (rc == 0)
        rc = exec_ok(c, "SET client_min_messages = warning");
    if (rc == 0)
        rc = ingest ? run_ingest(c, &o) : run_queries(c, &o);
    PQfinish(c);
    return rc ? 1 : 0;
}

/*
 * bench_pg.c - what the sbems benchmarks need to run on the PostgreSQL
 * backend (-B postgres): an empty database per store, and its size.  Linked
 * into the sbems programs only (the anchors do not link libsbems).
 */
#include <stdio.h>

#include <libpq-fe.h>

#include "bench.h"
#include "core/err.h"
#include "store/store.h"

int sb_bench_pg_fresh(void)
{
    static const char *const sql =
        "DROP TABLE IF EXISTS sb_head, sb_meta, sb_chunk, sb_r15m, sb_r1h, sb_r1d, sb_r1mo,"
        " sb_model_point_ids, sb_model_doc CASCADE";
    PGconn *c = PQconnectdb(sb_bench_url());
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int rc = r && PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : SB_ESTORE;
    if (rc)
        fprintf(stderr, "bench: cannot empty the database: %s", PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return rc;
}

int64_t sb_bench_store_bytes(struct sb_store_h *h, const char *path)
{
    if (!sb_bench_pg())
        return sb_bench_du(path);
    struct sb_store_stats st;
    return h->ops && sb_store_stats(h, &st) == 0 ? st.db_bytes : -1;
}

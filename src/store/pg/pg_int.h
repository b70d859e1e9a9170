/*
 * pg_int.h - internals shared by kv_pg.c and pg_model.c (not for other
 * modules: the engine sees only store/engine/kv.h and store/pg/pg.h).
 *
 * Every statement that carries a value is prepared once per connection, on
 * first use (the tables must exist by then: migrate runs first), and run with
 * binary parameters and binary results, so bytea never goes through escaping
 * and integers never through text.  A connection lost under a statement is
 * reset once (sb_pg__run); statements are then prepared again.  Every call
 * has a deadline (store/pg/pg_conn.h, deadline_ms below): past it the
 * statement is SB_ETIMEDOUT, its connection dropped and rebuilt by the
 * next statement.
 *
 * Ownership: struct sb_kv owns its connections and strings; a PGresult handed
 * out by sb_pg__run belongs to the caller (PQclear).
 */
#ifndef SB_PG_INT_H
#define SB_PG_INT_H

#include <endian.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <libpq-fe.h>

#include "store/engine/kv.h"

#define SB_PG_SCHEMA_VERSION 2
#define SB_PG_PART_DAYS 32           /* periods per partition of sb_chunk / sb_r15m */
#define SB_PG_PART_SPAN (1 << 16)    /* partition indexes cached: -2^15 .. 2^15 (periods
                                        are within +/- 2^20, engine_int.h) */
#define SB_PG_NPARTED 2              /* SB_KV_CHUNK and SB_KV_R15M are partitioned */

/* Prepared statements; the per-table ones take + enum sb_kv_table. */
enum {
    SB_PGQ_SCAN_ASC = 0,
    SB_PGQ_SCAN_DESC = SB_PGQ_SCAN_ASC + SB_KV_NTABLES,
    SB_PGQ_PUT = SB_PGQ_SCAN_DESC + SB_KV_NTABLES,
    SB_PGQ_DEL = SB_PGQ_PUT + SB_KV_NTABLES,
    SB_PGQ_DEL_BEFORE = SB_PGQ_DEL + SB_KV_NTABLES,
    SB_PGQ_COUNT_RANGE = SB_PGQ_DEL_BEFORE + SB_KV_NTABLES,
    SB_PGQ_COUNT = SB_PGQ_COUNT_RANGE + SB_KV_NTABLES,
    SB_PGQ_HEAD_PUT = SB_PGQ_COUNT + SB_KV_NTABLES,
    SB_PGQ_HEAD_TRIM, SB_PGQ_HEAD_SCAN, SB_PGQ_SEQS, SB_PGQ_SET_SEALED,
    SB_PGQ_VERSION,             /* the schema version row */
    SB_PGQ_PART_LIST,           /* partitions of a parent, by name */
    SB_PGQ_PART_EXISTS,         /* to_regclass(name) */
    SB_PGQ_BYTES,
    SB_PGQ_REG_ALL, SB_PGQ_REG_INS, SB_PGQ_DOC_GET, SB_PGQ_DOC_PUT,   /* model */
    SB_PGQ_LOCK_POINTS,         /* advisory locks on points, ascending */
    SB_PGQ_N
};

struct sb_kv_conn {
    PGconn *pg;                  /* the connection (owned) */
    struct sb_kv *kv;            /* owner */
    int writer;                  /* 1: the writer's connection */
    int in_tx;                   /* inside begin/commit: a lost connection is not retried */
    int64_t deadline_ms;         /* longest wait for one answer (this session's
                                    statement_timeout + a margin, else 60 s) */
    uint8_t prepared[SB_PGQ_N];  /* statement i prepared on this session */
};

struct sb_kv {
    char *url;                   /* libpq conninfo (owned; a secret: never logged) */
    char *node;                  /* cfg->node or "default" (owned) */
    int readonly;                /* cfg->readonly */
    int timescale;               /* timescaledb is available on the server */
    char version[64];            /* "PostgreSQL 15.8" */
    struct sb_kv_conn w;         /* the writer's connection */
    struct sb_kv_conn **rd;      /* readers handed out (owned) */
    int nrd, caprd;              /* used / allocated entries of rd */
    /* Partitions known to exist, bit (index + SPAN/2) per partitioned table.
     * Writer only (put, delete_before); cleared at rollback, since the DDL
     * that created them may have been rolled back with it. */
    uint8_t parts[SB_PG_NPARTED][SB_PG_PART_SPAN / 8];
};

/* Parameters of one statement: at most 4, binary unless text. */
struct sb_pg_params {
    int n;                       /* used */
    const char *v[4];            /* values (NULL = SQL NULL) */
    int len[4];                  /* lengths (binary) */
    int fmt[4];                  /* 1 binary, 0 text */
    char buf[4][8];              /* big-endian integers */
};

static inline void sb_pg__p_int4(struct sb_pg_params *p, int32_t x)
{
    uint32_t be = htobe32((uint32_t)x);
    memcpy(p->buf[p->n], &be, 4);
    p->v[p->n] = p->buf[p->n];
    p->len[p->n] = 4;
    p->fmt[p->n++] = 1;
}

static inline void sb_pg__p_int8(struct sb_pg_params *p, int64_t x)
{
    uint64_t be = htobe64((uint64_t)x);
    memcpy(p->buf[p->n], &be, 8);
    p->v[p->n] = p->buf[p->n];
    p->len[p->n] = 8;
    p->fmt[p->n++] = 1;
}

/* NUL-terminated text (NULL = SQL NULL). */
static inline void sb_pg__p_text(struct sb_pg_params *p, const char *s)
{
    p->v[p->n] = s;
    p->len[p->n] = 0;
    p->fmt[p->n++] = 0;
}

/* bytea, raw bytes (callers check len <= INT_MAX). */
static inline void sb_pg__p_bytea(struct sb_pg_params *p, const void *b, size_t len)
{
    p->v[p->n] = len ? (const char *)b : "";
    p->len[p->n] = (int)len;
    p->fmt[p->n++] = 1;
}

/* An integer column of a binary result (int2/int4/int8; NULL reads 0). */
static inline int64_t sb_pg__get_int(const PGresult *r, int row, int col)
{
    const unsigned char *v = (const unsigned char *)PQgetvalue(r, row, col);
    uint64_t x = 0;
    int n = PQgetlength(r, row, col);

    if (PQgetisnull(r, row, col))
        return 0;
    for (int i = 0; i < n; i++)
        x = x << 8 | v[i];
    if (n == 4)
        return (int32_t)(uint32_t)x;
    if (n == 2)
        return (int16_t)(uint16_t)x;
    return (int64_t)x;
}

/* Runs prepared statement q with p (may be NULL) on c; binary results.
 * *out (may be NULL) gets the result on success, for the caller to PQclear.
 * Errors are logged with `what` and the server's message; a lost connection
 * is reset once, and the statement retried when not inside a transaction.
 * Returns 0, SB_ESTORE, SB_ENOSPC (disk full), SB_ECORRUPT, or SB_ETIMEDOUT
 * (no answer by c->deadline_ms: not retried, the connection dropped). */
int sb_pg__run(struct sb_kv_conn *c, int q, const struct sb_pg_params *p, PGresult **out,
               const char *what);

/* Runs constant SQL (no values: BEGIN, LOCK, DDL built from integers) on c,
 * with the same error handling as sb_pg__run. */
int sb_pg__exec(struct sb_kv_conn *c, const char *sql, const char *what);

/* Ends a transaction whose outcome no longer matters (ROLLBACK, or COMMIT of
 * a read-only one) on a live connection, within the deadline; nothing is
 * logged but a timeout, nothing retried. */
void sb_pg__end_quietly(struct sb_kv_conn *c, const char *sql);

/* The model (pg_model.c): kv.h model_load / model_save. */
int sb_pg__model_load(struct sb_kv_conn *c, struct sb_model *m);
int sb_pg__model_save(struct sb_kv_conn *w, const struct sb_model *m);

#endif /* SB_PG_INT_H */

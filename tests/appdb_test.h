/*
 * appdb_test.h - the application-database tests run on both backends.
 *
 * A test file sets appdb_test_pg to the conninfo of a PostgreSQL server
 * (SBEMS_TEST_PG_URL, exported by tests/pg/pg-run; scripts/check runs a test
 * under pg-run when its binary names that variable) for its second pass,
 * NULL for the SQLite pass, and opens every database with
 * appdb_test_open(name): on SQLite the file <root>/<name>.db, on PostgreSQL
 * a fresh schema named after the test (dropped first if a run left it),
 * reached through the connection's search_path, so each test starts empty.
 */
#ifndef SB_TESTS_APPDB_TEST_H
#define SB_TESTS_APPDB_TEST_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/appdb.h"

static const char *appdb_test_pg;   /* NULL: SQLite pass */

/* The server's conninfo, or NULL when the PostgreSQL pass cannot run. */
static inline const char *appdb_test_pg_url(void)
{
    const char *u = getenv("SBEMS_TEST_PG_URL");
    return u && *u ? u : NULL;
}

/* conninfo for schema name into out[cap] (keyword form: pg-run's). */
static inline void appdb_test_conninfo(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s options='-c search_path=t_%s'", appdb_test_pg, name);
}

/* Drops and creates schema t_<name> (name: [a-z0-9_]). 0 or -1. */
static inline int appdb_test_fresh_schema(const char *name)
{
    char sql[256];
    PGconn *c = PQconnectdb(appdb_test_pg);
    int ok = PQstatus(c) == CONNECTION_OK;

    snprintf(sql, sizeof(sql),
             "SET client_min_messages = warning; DROP SCHEMA IF EXISTS t_%s CASCADE; "
             "CREATE SCHEMA t_%s", name, name);
    if (ok) {
        PGresult *r = PQexec(c, sql);
        ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            printf("#   schema t_%s: %s", name, PQerrorMessage(c));
        PQclear(r);
    } else {
        printf("#   connect: %s", PQerrorMessage(c));
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Opens database name (fresh when fresh != 0; else the one an earlier
 * call made) on the current pass's backend; root is the SQLite pass's
 * directory.  NULL (reason printed) on failure. */
static inline struct sb_appdb *appdb_test_open_in(const char *root, const char *name, int fresh)
{
    char where[1024], err[256] = "";
    struct sb_appdb *db = NULL;
    int rc;

    if (appdb_test_pg) {
        if (fresh && appdb_test_fresh_schema(name) != 0)
            return NULL;
        appdb_test_conninfo(name, where, sizeof(where));
        rc = sb_appdb_pg_open(where, &db, err, sizeof(err));
    } else {
        snprintf(where, sizeof(where), "%s/%s.db", root, name);
        if (fresh)
            unlink(where);
        rc = sb_appdb_sqlite_open(where, &db, err, sizeof(err));
    }
    if (rc) {
        printf("#   open %s (%s): %d %s\n", name, appdb_test_pg ? "postgres" : "sqlite", rc, err);
        return NULL;
    }
    return db;
}

#endif /* SB_TESTS_APPDB_TEST_H */

/*
 * test_appdb.c - the application database (users, grants, refresh-token
 * rotation, audit log, held commands) on real SQLite files in a temporary
 * directory and, when SBEMS_TEST_PG_URL names a server (tests/pg/pg-run),
 * on a real PostgreSQL: every behaviour test runs on both (appdb_test.h).
 *
 * Besides the API, a raw connection checks what must hold in the database
 * itself (the schema row, the append-only audit log; on SQLite also WAL
 * mode and mode 0600), and a forked process holding the write lock checks
 * that a second SQLite connection waits for it instead of failing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "db/appdb.h"
#include "appdb_test.h"
#include "tap.h"

#define T0 1772323200000LL   /* 2026-03-01T00:00:00Z */
#define DAY_MS 86400000LL

static char tmpl[] = "/tmp/sbems-test-appdb-XXXXXX";
static char *root;
static int dbn;

/* A fresh database: a path in the temp dir, or on PostgreSQL a schema name. */
static void newpath(char *out, size_t cap)
{
    if (appdb_test_pg)
        snprintf(out, cap, "app%d", dbn++);
    else
        snprintf(out, cap, "%s/app%d.db", root, dbn++);
}

static struct sb_appdb *open_db(const char *path)
{
    struct sb_appdb *db = NULL;
    char err[256] = "";
    int rc = sb_appdb_sqlite_open(path, &db, err, sizeof(err));

    if (rc)
        printf("#   open %s: %s: %s\n", path, sb_errname(rc), err);
    return db;
}

static struct sb_appdb *fresh(char *path, size_t cap)
{
    newpath(path, cap);
    return appdb_test_pg ? appdb_test_open_in(root, path, 1) : open_db(path);
}

/* PostgreSQL: a raw libpq connection to schema name, the query's result. */
static PGresult *pg_raw(const char *name, const char *sql, PGconn **conn)
{
    char ci[1024];

    appdb_test_conninfo(name, ci, sizeof(ci));
    *conn = PQconnectdb(ci);
    return PQexec(*conn, sql);
}

static int64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One integer (a boolean as 1/0) from a raw connection (-1 on error). */
static long long raw_int(const char *path, const char *sql)
{
    if (appdb_test_pg) {
        PGconn *c;
        PGresult *res = pg_raw(path, sql, &c);
        long long v = -1;
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            const char *t = PQgetvalue(res, 0, 0);
            v = strcmp(t, "t") == 0 ? 1 : strcmp(t, "f") == 0 ? 0 : atoll(t);
        }
        PQclear(res);
        PQfinish(c);
        return v;
    }
    sqlite3 *r = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (sqlite3_open(path, &r) == SQLITE_OK &&
        sqlite3_prepare_v2(r, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(r);
    return v;
}

/* SQLite's result code; on PostgreSQL SQLITE_OK, SQLITE_CONSTRAINT for what
 * a constraint or trigger refused (SQLSTATE class 23, P0001), else
 * SQLITE_ERROR; msg gets the engine's message. */
static int raw_exec(const char *path, const char *sql, char *msg, size_t cap)
{
    if (appdb_test_pg) {
        PGconn *c;
        PGresult *res = pg_raw(path, sql, &c);
        ExecStatusType st = PQresultStatus(res);
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? SQLITE_OK
                 : state && (strncmp(state, "23", 2) == 0 || strcmp(state, "P0001") == 0)
                     ? SQLITE_CONSTRAINT : SQLITE_ERROR;
        if (msg)
            snprintf(msg, cap, "%s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(c);
        return rc;
    }
    sqlite3 *r = NULL;
    char *m = NULL;
    int rc;

    sqlite3_open(path, &r);
    sqlite3_busy_timeout(r, 5000);
    rc = sqlite3_exec(r, sql, NULL, NULL, &m);
    if (msg)
        snprintf(msg, cap, "%s", m ? m : "");
    sqlite3_free(m);
    sqlite3_close(r);
    return rc;
}

static void mkuser(struct sb_user *u, const char *name, uint32_t roles)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s@example.org", name);
    snprintf(u->display_name, sizeof(u->display_name), "User %s", name);
    snprintf(u->pw_hash, sizeof(u->pw_hash), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    u->roles = roles;
    u->created_ms = u->updated_ms = T0;
}

/* A 32-hex family id or 64-hex token hash made from a number. */
static void hexid(char *out, size_t ndig, unsigned n)
{
    for (size_t i = 0; i < ndig; i++)
        out[i] = "0123456789abcdef"[(n >> ((i % 8) * 4)) & 15];
    out[ndig] = 0;
}

/* ---- schema and connection --------------------------------------------- */

TEST(open_migrate)
{
    char path[512], err[256] = "";
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct stat sb;
    int from = -1, to = -1;

    REQUIRE(db);
    CHECK_STR(db->ops->name, "sqlite");
    CHECK_EQ(db->ops->abi, SB_APPDB_ABI);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);
    CHECK_EQ(to, 5);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);
    CHECK_EQ(to, 5);
    sb_appdb_close(db);

    /* A version 1 database (before app_commands) is upgraded in place. */
    CHECK_EQ(raw_exec(path, "DROP TABLE app_commands; UPDATE app_schema SET version = 1", NULL, 0),
             SQLITE_OK);
    db = open_db(path);
    REQUIRE(db);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);
    sb_appdb_close(db);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name='app_commands'"), 1);

    /* Reopening migrates again: nothing to do, one schema row. */
    db = open_db(path);
    REQUIRE(db);
    sb_appdb_close(db);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM app_schema"), 1);
    CHECK_EQ(raw_int(path, "SELECT version FROM app_schema"), 5);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type='trigger' AND "
                           "tbl_name='app_audit'"), 2);
    CHECK_EQ(raw_int(path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
    REQUIRE(stat(path, &sb) == 0);
    CHECK_EQ(sb.st_mode & 0777, 0600);

    /* A newer schema is refused, with the reason in err. */
    CHECK_EQ(raw_exec(path, "UPDATE app_schema SET version = 99", NULL, 0), SQLITE_OK);
    db = NULL;
    CHECK_EQ(sb_appdb_sqlite_open(path, &db, err, sizeof(err)), SB_ENOTSUP);
    CHECK(db == NULL);
    CHECK(strstr(err, "99") != NULL);

    /* Bad arguments and an impossible path. */
    CHECK_EQ(sb_appdb_sqlite_open(NULL, &db, err, sizeof(err)), SB_EINVAL);
    CHECK_EQ(sb_appdb_sqlite_open("", &db, err, sizeof(err)), SB_EINVAL);
    snprintf(path, sizeof(path), "%s/no/such/dir/x.db", root);
    CHECK(sb_appdb_sqlite_open(path, &db, err, sizeof(err)) < 0);
    CHECK(db == NULL);
    sb_appdb_close(NULL);
}

/* The store's connection created the file first, in WAL mode, with its own
 * tables: the app tables join them and the store's are untouched. */
TEST(shared_file)
{
    char path[512];
    struct sb_appdb *db;

    newpath(path, sizeof(path));
    CHECK_EQ(raw_exec(path, "PRAGMA journal_mode=WAL; CREATE TABLE chunk(id INTEGER PRIMARY KEY,"
                            " data BLOB); INSERT INTO chunk VALUES(1, x'00');", NULL, 0),
             SQLITE_OK);
    db = open_db(path);
    REQUIRE(db);
    sb_appdb_close(db);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM chunk"), 1);
    /* schema, users, grants, refresh tokens, audit, commands, and (v3) alert
     * rules, alerts, alert events, alert subscriptions, and (v4) analytics
     * documents, the forecast log, report files */
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                           "name LIKE 'app%'"), 13);
}

TEST(roles)
{
    CHECK_STR(sb_role_name(SB_ROLE_ADMIN), "admin");
    CHECK_STR(sb_role_name(SB_ROLE_MANAGER), "manager");
    CHECK_STR(sb_role_name(SB_ROLE_OPERATOR), "operator");
    CHECK_STR(sb_role_name(SB_ROLE_VIEWER), "viewer");
    CHECK(sb_role_name(0) == NULL);
    CHECK(sb_role_name(3) == NULL);
    CHECK(sb_role_name(16) == NULL);
    CHECK_EQ(sb_role_parse("admin"), SB_ROLE_ADMIN);
    CHECK_EQ(sb_role_parse("facility_manager"), SB_ROLE_MANAGER);
    CHECK_EQ(sb_role_parse("Manager"), SB_ROLE_MANAGER);
    CHECK_EQ(sb_role_parse("operator"), SB_ROLE_OPERATOR);
    CHECK_EQ(sb_role_parse("viewer"), SB_ROLE_VIEWER);
    CHECK_EQ(sb_role_parse("root"), SB_EINVAL);
    CHECK_EQ(sb_role_parse(""), SB_EINVAL);
    CHECK_EQ(sb_role_parse(NULL), SB_EINVAL);
}

/* ---- users ------------------------------------------------------------- */

TEST(users)
{
    char path[512];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_user u, v, w;
    int64_t n = -1;

    REQUIRE(db);
    mkuser(&u, "Alice", SB_ROLE_ADMIN | SB_ROLE_VIEWER);
    u.must_change_pw = 1;
    CHECK_EQ(sb_appdb_user_create(db, &u), 0);
    CHECK(u.id > 0);
    CHECK_EQ(sb_appdb_user_get(db, u.id, &v), 0);
    CHECK_STR(v.username, "Alice");
    CHECK_STR(v.email, "Alice@example.org");
    CHECK_STR(v.display_name, "User Alice");
    CHECK_STR(v.pw_hash, u.pw_hash);
    CHECK_EQ(v.roles, SB_ROLE_ADMIN | SB_ROLE_VIEWER);
    CHECK_EQ(v.must_change_pw, 1);
    CHECK_EQ(v.disabled, 0);
    CHECK_EQ(v.created_ms, T0);
    CHECK_EQ(v.last_login_ms, 0);

    /* Case-insensitive lookup and uniqueness. */
    CHECK_EQ(sb_appdb_user_by_name(db, "aLiCe", &w), 0);
    CHECK_EQ(w.id, u.id);
    mkuser(&w, "ALICE", SB_ROLE_VIEWER);
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EEXIST);
    CHECK_EQ(sb_appdb_user_by_name(db, "bob", &w), SB_ENOENT);
    CHECK_EQ(sb_appdb_user_get(db, u.id + 100, &w), SB_ENOENT);

    /* Bad input. */
    mkuser(&w, "bad name", SB_ROLE_VIEWER);
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EINVAL);
    mkuser(&w, "", SB_ROLE_VIEWER);
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EINVAL);
    mkuser(&w, "bob", 0x10);
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EINVAL);
    mkuser(&w, "bob", SB_ROLE_VIEWER);
    memset(w.username, 'b', sizeof(w.username));   /* no NUL */
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EINVAL);
    mkuser(&w, "bob", SB_ROLE_VIEWER);
    w.display_name[1] = '\n';
    CHECK_EQ(sb_appdb_user_create(db, &w), SB_EINVAL);
    CHECK_EQ(sb_appdb_user_by_name(db, "a b", &w), SB_EINVAL);
    CHECK_EQ(sb_appdb_user_get(db, 0, &w), SB_EINVAL);

    /* Update changes the editable fields only. */
    v.roles = SB_ROLE_OPERATOR;
    v.disabled = 1;
    v.must_change_pw = 0;
    v.updated_ms = T0 + 5;
    snprintf(v.email, sizeof(v.email), "a@example.net");
    snprintf(v.display_name, sizeof(v.display_name), "Alice A.");
    snprintf(v.username, sizeof(v.username), "mallory");   /* ignored */
    CHECK_EQ(sb_appdb_user_update(db, &v), 0);
    CHECK_EQ(sb_appdb_user_get(db, u.id, &w), 0);
    CHECK_STR(w.username, "Alice");
    CHECK_STR(w.email, "a@example.net");
    CHECK_STR(w.display_name, "Alice A.");
    CHECK_EQ(w.roles, SB_ROLE_OPERATOR);
    CHECK_EQ(w.disabled, 1);
    CHECK_EQ(w.must_change_pw, 0);
    CHECK_EQ(w.updated_ms, T0 + 5);
    CHECK_EQ(w.created_ms, T0);
    v.id = u.id + 100;
    CHECK_EQ(sb_appdb_user_update(db, &v), SB_ENOENT);

    /* Password. */
    CHECK_EQ(sb_appdb_user_set_password(db, u.id, "$argon2id$v=19$new", 1, T0 + 9), 0);
    CHECK_EQ(sb_appdb_user_get(db, u.id, &w), 0);
    CHECK_STR(w.pw_hash, "$argon2id$v=19$new");
    CHECK_EQ(w.must_change_pw, 1);
    CHECK_EQ(w.pw_changed_ms, T0 + 9);
    CHECK_EQ(w.updated_ms, T0 + 9);
    CHECK_EQ(sb_appdb_user_set_password(db, u.id + 100, "$x", 0, T0), SB_ENOENT);
    CHECK_EQ(sb_appdb_user_set_password(db, u.id, "", 0, T0), SB_EINVAL);
    CHECK_EQ(sb_appdb_user_set_password(db, u.id, NULL, 0, T0), SB_EINVAL);

    /* Login time. */
    CHECK_EQ(sb_appdb_user_touch_login(db, u.id, T0 + 77), 0);
    CHECK_EQ(sb_appdb_user_get(db, u.id, &w), 0);
    CHECK_EQ(w.last_login_ms, T0 + 77);
    CHECK_EQ(sb_appdb_user_touch_login(db, u.id + 100, T0), SB_ENOENT);

    CHECK_EQ(sb_appdb_user_count(db, &n), 0);
    CHECK_EQ(n, 1);
    sb_appdb_close(db);
}

TEST(user_list)
{
    char path[512], name[32];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_user u, page[10];
    int64_t ids[25], cur = 0, next = -1, cnt = 0;
    size_t n = 0, seen = 0, sizes[4] = { 0 };
    int pages = 0;

    REQUIRE(db);
    for (int i = 0; i < 25; i++) {
        snprintf(name, sizeof(name), "user%02d", i);
        mkuser(&u, name, SB_ROLE_VIEWER);
        REQUIRE(sb_appdb_user_create(db, &u) == 0);
        ids[i] = u.id;
    }
    CHECK_EQ(sb_appdb_user_count(db, &cnt), 0);
    CHECK_EQ(cnt, 25);
    do {
        REQUIRE(pages < 4);
        CHECK_EQ(sb_appdb_user_list(db, cur, 10, page, &n, &next), 0);
        sizes[pages++] = n;
        for (size_t i = 0; i < n; i++) {
            CHECK_EQ(page[i].id, ids[seen]);   /* in order, no duplicate, none skipped */
            CHECK_STR(page[i].pw_hash, "");    /* never listed */
            seen++;
        }
        cur = next;
    } while (next != 0);
    CHECK_EQ(pages, 3);
    CHECK_EQ(sizes[0], 10);
    CHECK_EQ(sizes[1], 10);
    CHECK_EQ(sizes[2], 5);
    CHECK_EQ(seen, 25);

    /* A page ending exactly at the last user says there is no more. */
    CHECK_EQ(sb_appdb_user_list(db, ids[14], 10, page, &n, &next), 0);
    CHECK_EQ(n, 10);
    CHECK_EQ(next, 0);
    CHECK_EQ(sb_appdb_user_list(db, 0, 0, page, &n, &next), SB_EINVAL);
    CHECK_EQ(sb_appdb_user_list(db, 0, SB_USER_LIST_MAX + 1, page, &n, &next), SB_EINVAL);
    sb_appdb_close(db);
}

/* ---- grants ------------------------------------------------------------ */

TEST(grants)
{
    char path[512];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_user u;
    struct sb_grant g[4] = { { "site", "campus-a" }, { "building", "hq" },
                             { "site", "campus-a" }, { "building", "annex" } };
    struct sb_grant *out = NULL, bad = { "floor", "x" };
    size_t n = 99;

    REQUIRE(db);
    mkuser(&u, "gina", SB_ROLE_OPERATOR);
    REQUIRE(sb_appdb_user_create(db, &u) == 0);
    CHECK_EQ(sb_appdb_grants_get(db, u.id, &out, &n), 0);
    CHECK_EQ(n, 0);
    CHECK(out == NULL);

    CHECK_EQ(sb_appdb_grants_set(db, u.id, g, 4), 0);   /* the duplicate collapses */
    CHECK_EQ(sb_appdb_grants_get(db, u.id, &out, &n), 0);
    REQUIRE(n == 3 && out);
    CHECK_STR(out[0].kind, "building");
    CHECK_STR(out[0].slug, "annex");
    CHECK_STR(out[1].kind, "building");
    CHECK_STR(out[1].slug, "hq");
    CHECK_STR(out[2].kind, "site");
    CHECK_STR(out[2].slug, "campus-a");
    free(out);

    /* Replace: only the new set remains. */
    CHECK_EQ(sb_appdb_grants_set(db, u.id, &g[1], 1), 0);
    CHECK_EQ(sb_appdb_grants_get(db, u.id, &out, &n), 0);
    REQUIRE(n == 1 && out);
    CHECK_STR(out[0].slug, "hq");
    free(out);

    /* A bad entry changes nothing. */
    struct sb_grant mix[2] = { g[0], bad };
    CHECK_EQ(sb_appdb_grants_set(db, u.id, mix, 2), SB_EINVAL);
    struct sb_grant badslug = { "site", "Bad Slug" };
    CHECK_EQ(sb_appdb_grants_set(db, u.id, &badslug, 1), SB_EINVAL);
    CHECK_EQ(sb_appdb_grants_set(db, u.id + 100, g, 1), SB_ENOENT);
    CHECK_EQ(sb_appdb_grants_get(db, u.id, &out, &n), 0);
    CHECK_EQ(n, 1);
    free(out);

    CHECK_EQ(sb_appdb_grants_set(db, u.id, NULL, 0), 0);
    CHECK_EQ(sb_appdb_grants_get(db, u.id, &out, &n), 0);
    CHECK_EQ(n, 0);
    CHECK(out == NULL);
    sb_appdb_close(db);
}

/* ---- refresh tokens ---------------------------------------------------- */

struct rtenv {
    char path[512];
    struct sb_appdb *db;
    int64_t uid, uid2;                  /* two users */
    char fam[SB_RT_FAMILY_LEN + 1];     /* a family of uid */
    char h[8][65];                      /* token hashes */
};

static int rt_setup(struct rtenv *e)
{
    struct sb_user u;

    memset(e, 0, sizeof(*e));
    if (!(e->db = fresh(e->path, sizeof(e->path))))
        return -1;
    mkuser(&u, "rita", SB_ROLE_VIEWER);
    if (sb_appdb_user_create(e->db, &u))
        return -1;
    e->uid = u.id;
    mkuser(&u, "sam", SB_ROLE_VIEWER);
    if (sb_appdb_user_create(e->db, &u))
        return -1;
    e->uid2 = u.id;
    hexid(e->fam, SB_RT_FAMILY_LEN, 0xabc123);
    for (unsigned i = 0; i < 8; i++)
        hexid(e->h[i], 64, 0x1000 + i);
    return 0;
}

TEST(rt_rotation)
{
    struct rtenv e;
    struct sb_rt_result res;
    int64_t exp = T0 + 14 * DAY_MS;

    REQUIRE(rt_setup(&e) == 0);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[0], T0, exp, "192.0.2.1",
                                "Mozilla/5.0 \x01\xc3\xa9"), 0);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, e.fam), 1);

    memset(&res, 0, sizeof(res));
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[1], T0 + 1000, exp, "192.0.2.1", NULL, &res), 0);
    CHECK_EQ(res.user_id, e.uid);
    CHECK_STR(res.family, e.fam);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[1], e.h[2], T0 + 2000, exp, NULL, NULL, &res), 0);
    CHECK_EQ(res.user_id, e.uid);
    CHECK_STR(res.family, e.fam);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, e.fam), 1);
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens WHERE used_ms IS NOT NULL"),
             2);
    /* The User-Agent was kept as printable ASCII. */
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens WHERE "
                             "user_agent = 'Mozilla/5.0 ?" "?" "?'"), 1);

    /* Unknown hash, duplicate hash, bad arguments. */
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[7], e.h[6], T0, exp, NULL, NULL, &res), SB_ENOENT);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[2], T0, exp, NULL, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid + 100, e.fam, e.h[7], T0, exp, NULL, NULL),
             SB_ENOENT);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, "xyz", e.h[7], T0, exp, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, "ABCDEF", T0, exp, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[7], T0, T0, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[7], T0, exp, "a b", NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[2], e.h[2], T0 + 3000, exp, NULL, NULL, &res),
             SB_EEXIST);
    /* That failed exchange rolled back: h[2] is still the live token. */
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[2], e.h[3], T0 + 3000, exp, NULL, NULL, &res), 0);
    sb_appdb_close(e.db);
}

TEST(rt_reuse)
{
    struct rtenv e;
    struct sb_rt_result res;
    int64_t exp = T0 + 14 * DAY_MS;
    char other[SB_RT_FAMILY_LEN + 1];

    REQUIRE(rt_setup(&e) == 0);
    hexid(other, SB_RT_FAMILY_LEN, 0x777);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[0], T0, exp, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, other, e.h[5], T0, exp, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[1], T0 + 1, exp, NULL, NULL, &res), 0);

    /* The old token comes back: theft.  The family is revoked. */
    memset(&res, 0, sizeof(res));
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[2], T0 + 2, exp, NULL, NULL, &res), SB_EPROTO);
    CHECK_EQ(res.user_id, e.uid);
    CHECK_STR(res.family, e.fam);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, e.fam), 0);
    /* No token was issued for the replay, and the legitimate new one is dead too. */
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[2], e.h[3], T0 + 3, exp, NULL, NULL, &res), SB_ENOENT);
    memset(&res, 0, sizeof(res));
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[1], e.h[3], T0 + 3, exp, NULL, NULL, &res), SB_ECLOSED);
    CHECK_EQ(res.user_id, e.uid);
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens WHERE revoked_ms IS NULL"),
             1);
    /* Other families of the same user are not affected. */
    CHECK_EQ(sb_appdb_rt_family_active(e.db, other), 1);
    /* A second replay is still reuse (and keeps the first revocation time). */
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[4], T0 + 9, exp, NULL, NULL, &res), SB_EPROTO);
    CHECK_EQ(raw_int(e.path, "SELECT min(revoked_ms) = max(revoked_ms) FROM app_refresh_tokens "
                             "WHERE revoked_ms IS NOT NULL"), 1);
    sb_appdb_close(e.db);
}

TEST(rt_expiry_revoke_purge)
{
    struct rtenv e;
    struct sb_rt_result res;
    char f2[SB_RT_FAMILY_LEN + 1], f3[SB_RT_FAMILY_LEN + 1], f4[SB_RT_FAMILY_LEN + 1];
    int64_t exp = T0 + 1000;

    REQUIRE(rt_setup(&e) == 0);
    hexid(f2, SB_RT_FAMILY_LEN, 2);
    hexid(f3, SB_RT_FAMILY_LEN, 3);
    hexid(f4, SB_RT_FAMILY_LEN, 4);

    /* Expiry: valid up to exp - 1, dead from exp on. */
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, e.fam, e.h[0], T0, exp, NULL, NULL), 0);
    memset(&res, 0, sizeof(res));
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[1], exp, exp + 1000, NULL, NULL, &res),
             SB_ETIMEDOUT);
    CHECK_EQ(res.user_id, e.uid);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[1], exp - 1, exp + 1000, NULL, NULL, &res), 0);

    /* Revoke a user: all of their families, nobody else's. */
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid, f2, e.h[2], T0, T0 + DAY_MS, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid2, f3, e.h[3], T0, T0 + DAY_MS, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_rt_revoke_user(e.db, e.uid, T0 + 5), 0);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, e.fam), 0);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, f2), 0);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, f3), 1);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[2], e.h[4], T0 + 6, T0 + DAY_MS, NULL, NULL, &res),
             SB_ECLOSED);

    /* Logout: revoke one family. */
    CHECK_EQ(sb_appdb_rt_revoke_family(e.db, f3, T0 + 7), 0);
    CHECK_EQ(sb_appdb_rt_revoke_family(e.db, f3, T0 + 8), 0);   /* twice is fine */
    CHECK_EQ(sb_appdb_rt_family_active(e.db, f3), 0);
    CHECK_EQ(sb_appdb_rt_revoke_family(e.db, f4, T0), SB_ENOENT);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, f4), 0);
    CHECK_EQ(sb_appdb_rt_family_active(e.db, "nothex"), SB_EINVAL);

    /* Purge: rows expired over 30 days ago go, younger ones stay.  Rows now:
     * h0 (expires T0+1000), h1 (T0+2000), h2, h3 (T0+1d), h5 (T0+2d). */
    CHECK_EQ(sb_appdb_rt_insert(e.db, e.uid2, f4, e.h[5], T0, T0 + 2 * DAY_MS, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_rt_purge(e.db, T0 + 30 * DAY_MS + 1500), 0);
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens"), 4);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[0], e.h[6], T0, T0 + 1, NULL, NULL, &res), SB_ENOENT);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[1], e.h[6], T0, T0 + 1, NULL, NULL, &res), SB_ECLOSED);
    CHECK_EQ(sb_appdb_rt_purge(e.db, T0 + 31 * DAY_MS + 1), 0);
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens"), 1);
    CHECK_EQ(sb_appdb_rt_rotate(e.db, e.h[5], e.h[6], T0 + 31 * DAY_MS, T0 + 40 * DAY_MS, NULL,
                                NULL, &res), SB_ETIMEDOUT);
    CHECK_EQ(sb_appdb_rt_purge(e.db, T0 + 40 * DAY_MS), 0);
    CHECK_EQ(raw_int(e.path, "SELECT count(*) FROM app_refresh_tokens"), 0);
    CHECK_EQ(sb_appdb_rt_purge(e.db, -1), SB_EINVAL);
    sb_appdb_close(e.db);
}

/* An engine failure is SB_ESTORE, logged once, without the hash. */
TEST(engine_error)
{
    char path[512], logpath[600], buf[4096] = "", hash[65], fam[SB_RT_FAMILY_LEN + 1];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_user u;
    int fd;
    ssize_t n;

    REQUIRE(db);
    mkuser(&u, "eve", SB_ROLE_VIEWER);
    REQUIRE(sb_appdb_user_create(db, &u) == 0);
    hexid(hash, 64, 0xfeedbeef);
    hexid(fam, SB_RT_FAMILY_LEN, 0x5);
    snprintf(logpath, sizeof(logpath), "%s/log", root);
    fd = open(logpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    sb_log_set_fd(fd);
    CHECK_EQ(raw_exec(path, "DROP TABLE app_refresh_tokens", NULL, 0), SQLITE_OK);
    CHECK_EQ(sb_appdb_rt_insert(db, u.id, fam, hash, T0, T0 + 1, NULL, NULL), SB_ESTORE);
    sb_log_set_fd(2);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    REQUIRE(n > 0);
    buf[n] = 0;
    CHECK(strstr(buf, "appdb") != NULL);
    CHECK(strstr(buf, "app_refresh_tokens") != NULL);
    CHECK(strstr(buf, hash) == NULL);
    /* Everything else still works. */
    CHECK_EQ(sb_appdb_user_touch_login(db, u.id, T0), 0);
    sb_appdb_close(db);
}

/* ---- audit ------------------------------------------------------------- */

static int audit(struct sb_appdb *db, int64_t ts, int64_t actor_id, const char *action,
                 const char *target, int64_t *id)
{
    struct sb_audit_rec r = { .ts_ms = ts, .actor_id = actor_id, .actor = "alice",
                              .ip = "192.0.2.9", .action = action, .target = target,
                              .result = "ok" };
    return sb_appdb_audit_append(db, &r, id);
}

TEST(audit_basic)
{
    char path[512], msg[256];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_audit_page pg = { 0 };
    struct sb_audit_filter f = { .limit = 100 };
    struct sb_audit_rec r = { .ts_ms = T0, .actor_id = 7, .actor = "alice", .ip = "2001:db8::1",
                              .action = "user.create", .target = "user:12",
                              .before = NULL, .after = "{\"username\":\"bob\",\"roles\":[\"viewer\"]}",
                              .result = "ok", .detail = "created by admin" };
    int64_t id1 = 0, id2 = 0;

    REQUIRE(db);
    CHECK_EQ(sb_appdb_audit_append(db, &r, &id1), 0);
    CHECK(id1 > 0);
    CHECK_EQ(sb_appdb_audit_append(db, &r, &id2), 0);
    CHECK(id2 > id1);
    CHECK_EQ(sb_appdb_audit_query(db, &f, &pg), 0);
    REQUIRE(pg.n == 2);
    CHECK_EQ(pg.next_before_id, 0);
    CHECK_EQ(pg.v[0].id, id2);   /* newest first */
    CHECK_EQ(pg.v[1].id, id1);
    CHECK_EQ(pg.v[0].ts_ms, T0);
    CHECK_EQ(pg.v[0].actor_id, 7);
    CHECK_STR(pg.v[0].actor, "alice");
    CHECK_STR(pg.v[0].ip, "2001:db8::1");
    CHECK_STR(pg.v[0].action, "user.create");
    CHECK_STR(pg.v[0].target, "user:12");
    CHECK(pg.v[0].before == NULL);
    CHECK_STR(pg.v[0].after, r.after);
    CHECK_STR(pg.v[0].result, "ok");
    CHECK_STR(pg.v[0].detail, "created by admin");
    sb_audit_page_release(&pg);
    CHECK(pg.v == NULL && pg.n == 0);

    /* Bad records. */
    r.after = "{not json";
    CHECK_EQ(sb_appdb_audit_append(db, &r, NULL), SB_EINVAL);
    r.after = NULL;
    r.action = "";
    CHECK_EQ(sb_appdb_audit_append(db, &r, NULL), SB_EINVAL);
    r.action = "x";
    r.result = NULL;
    CHECK_EQ(sb_appdb_audit_append(db, &r, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_audit_append(db, NULL, NULL), SB_EINVAL);
    f.limit = 0;
    CHECK_EQ(sb_appdb_audit_query(db, &f, &pg), SB_EINVAL);
    f.limit = SB_AUDIT_PAGE_MAX + 1;
    CHECK_EQ(sb_appdb_audit_query(db, &f, &pg), SB_EINVAL);

    /* The database itself refuses to change or delete a record. */
    CHECK_EQ(raw_exec(path, "UPDATE app_audit SET result = 'denied'", msg, sizeof(msg)),
             SQLITE_CONSTRAINT);
    CHECK(strstr(msg, "append-only") != NULL);
    CHECK_EQ(raw_exec(path, "DELETE FROM app_audit WHERE id = 1", msg, sizeof(msg)),
             SQLITE_CONSTRAINT);
    CHECK(strstr(msg, "append-only") != NULL);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM app_audit WHERE result = 'ok'"), 2);
    sb_appdb_close(db);
}

/* Counts a query's records over every page, checking order and cursor. */
static long count_all(struct sb_appdb *db, struct sb_audit_filter f, int *pages)
{
    struct sb_audit_page pg = { 0 };
    int64_t last = INT64_MAX;
    long n = 0;

    *pages = 0;
    f.before_id = 0;
    do {
        if (sb_appdb_audit_query(db, &f, &pg) != 0 || *pages > 1000)
            return -1;
        (*pages)++;
        for (size_t i = 0; i < pg.n; i++) {
            if (pg.v[i].id >= last)
                return -2;   /* not strictly newest first across pages */
            last = pg.v[i].id;
        }
        n += (long)pg.n;
        f.before_id = pg.next_before_id;
    } while (f.before_id != 0);
    sb_audit_page_release(&pg);
    return n;
}

TEST(audit_filters)
{
    char path[512];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_audit_filter f = { .limit = 1000 };
    static const char *const actions[] = { "user.create", "user.update", "users.x",
                                           "point.write", "pointXwrite", "auth.lockout" };
    int pages = 0;

    REQUIRE(db);
    /* 60 records: action i % 6, actor 1 + i % 3, target "t<i % 4>", ts T0 + i s. */
    for (int i = 0; i < 60; i++) {
        char target[8];
        snprintf(target, sizeof(target), "t%d", i % 4);
        REQUIRE(audit(db, T0 + i * 1000LL, 1 + i % 3, actions[i % 6], target, NULL) == 0);
    }
    CHECK_EQ(count_all(db, f, &pages), 60);
    CHECK_EQ(pages, 1);

    f.action = "user.";   /* user.create, user.update - not users.x */
    CHECK_EQ(count_all(db, f, &pages), 20);
    f.action = "point_";  /* no LIKE wildcard: matches nothing */
    CHECK_EQ(count_all(db, f, &pages), 0);
    f.action = "point";   /* point.write and pointXwrite */
    CHECK_EQ(count_all(db, f, &pages), 20);
    f.action = "auth.lockout";
    CHECK_EQ(count_all(db, f, &pages), 10);
    f.action = "\xff\xff";
    CHECK_EQ(count_all(db, f, &pages), 0);
    f.action = NULL;

    f.actor_id = 2;
    CHECK_EQ(count_all(db, f, &pages), 20);
    f.target = "t1";   /* i % 3 == 1 and i % 4 == 1: i % 12 == 1 */
    CHECK_EQ(count_all(db, f, &pages), 5);
    f.actor_id = 0;
    CHECK_EQ(count_all(db, f, &pages), 15);
    f.target = "";

    f.from_ms = T0 + 10000;             /* i in [10, 20) */
    f.to_ms = T0 + 20000;
    CHECK_EQ(count_all(db, f, &pages), 10);
    f.action = "user.";                 /* i % 6 in {0, 1}: 12, 13, 18, 19 */
    CHECK_EQ(count_all(db, f, &pages), 4);
    f.to_ms = f.from_ms;
    struct sb_audit_page pg = { 0 };
    CHECK_EQ(sb_appdb_audit_query(db, &f, &pg), SB_EINVAL);
    f.to_ms = 0;                        /* i >= 10 */
    f.action = NULL;
    CHECK_EQ(count_all(db, f, &pages), 50);

    /* Pagination: 60 records by 7 -> 9 pages, the last with 4. */
    f.from_ms = 0;
    f.limit = 7;
    CHECK_EQ(count_all(db, f, &pages), 60);
    CHECK_EQ(pages, 9);
    f.limit = 10;   /* exact multiple: the 6th page says no more */
    CHECK_EQ(count_all(db, f, &pages), 60);
    CHECK_EQ(pages, 6);

    /* A cursor in the middle. */
    f.limit = 5;
    f.before_id = 31;
    CHECK_EQ(sb_appdb_audit_query(db, &f, &pg), 0);
    REQUIRE(pg.n == 5);
    CHECK_EQ(pg.v[0].id, 30);
    CHECK_EQ(pg.v[4].id, 26);
    CHECK_EQ(pg.next_before_id, 26);
    sb_audit_page_release(&pg);
    sb_appdb_close(db);
}

/* ---- concurrency ------------------------------------------------------- */

struct worker {
    struct sb_appdb *db;
    int64_t uid;
    int idx;
    int errors;
};

static void *work(void *arg)
{
    struct worker *w = arg;

    for (int i = 0; i < 200; i++) {
        char target[32];
        snprintf(target, sizeof(target), "thread%d:%d", w->idx, i);
        if (audit(w->db, T0 + i, w->uid, "auth.login", target, NULL) != 0)
            w->errors++;
        if (sb_appdb_user_touch_login(w->db, w->uid, T0 + w->idx * 1000 + i) != 0)
            w->errors++;
    }
    return NULL;
}

TEST(commands)
{
    char path[512];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct sb_cmd_rec r = { .point = 7, .priority = 8, .value = 21.5, .since_ms = 1000,
                            .expires_ms = 5000 }, out[8];
    size_t n = 99;

    REQUIRE(db);
    snprintf(r.actor, sizeof(r.actor), "ann");
    snprintf(r.reason, sizeof(r.reason), "after hours");
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), 0);
    r.priority = 12;
    r.value = 19.0;
    r.expires_ms = 0;
    r.reason[0] = 0;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), 0);
    CHECK_EQ(sb_appdb_cmd_active(db, 7, 0, out, 8, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(out[0].priority, 8);
    CHECK_DBL(out[0].value, 21.5, 1e-12);
    CHECK_STR(out[0].actor, "ann");
    CHECK_STR(out[0].reason, "after hours");
    CHECK_EQ(out[0].expires_ms, 5000);
    CHECK_EQ(out[1].expires_ms, 0);
    CHECK_STR(out[1].reason, "");
    /* expired by 6000: only the override */
    CHECK_EQ(sb_appdb_cmd_active(db, 0, 6000, out, 8, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].priority, 8);
    /* a newer command of the same slot replaces it; a release closes it */
    r.priority = 8;
    r.value = 23.0;
    r.since_ms = 2000;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), 0);
    CHECK_EQ(sb_appdb_cmd_active(db, 7, 0, out, 8, &n), 0);
    CHECK_EQ(n, 2);
    CHECK_DBL(out[0].value, 23.0, 1e-12);
    r.value = NAN;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), 0);
    CHECK_EQ(sb_appdb_cmd_active(db, 7, 0, out, 8, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].priority, 12);
    CHECK_EQ(sb_appdb_cmd_active(db, 8, 0, out, 8, &n), 0);
    CHECK_EQ(n, 0);
    /* point ids use all 32 bits */
    r.point = 3000000000u;
    r.value = 18.0;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), 0);
    CHECK_EQ(sb_appdb_cmd_active(db, 3000000000u, 0, out, 8, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].point, 3000000000u);
    r.point = 7;
    /* bad records */
    r.priority = 17;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), SB_EINVAL);
    r.priority = 8;
    r.actor[0] = 0;
    CHECK_EQ(sb_appdb_cmd_hold(db, &r), SB_EINVAL);
    sb_appdb_close(db);
}

TEST(threads)
{
    char path[512];
    struct sb_appdb *db = fresh(path, sizeof(path));
    struct worker w[4];
    pthread_t th[4];
    struct sb_user u;
    int pages = 0;

    REQUIRE(db);
    mkuser(&u, "shared", SB_ROLE_VIEWER);
    REQUIRE(sb_appdb_user_create(db, &u) == 0);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){ .db = db, .uid = u.id, .idx = i };
        REQUIRE(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(w[i].errors, 0);
    }
    struct sb_audit_filter f = { .limit = 1000 };
    CHECK_EQ(count_all(db, f, &pages), 800);
    CHECK_EQ(raw_int(path, "SELECT count(DISTINCT target) FROM app_audit"), 800);
    CHECK_EQ(sb_appdb_user_get(db, u.id, &u), 0);
    CHECK(u.last_login_ms >= T0 && u.last_login_ms < T0 + 4000);
    sb_appdb_close(db);
}

/* The child of busy_other_process: once told to, takes the write lock,
 * reports it, holds it 200 ms and commits.  It opens its connection only
 * after the fork, so it shares no SQLite state with the parent
 * (https://www.sqlite.org/howtocorrupt.html#_carrying_an_open_database_connection_across_a_fork_). */
static void locker(const char *path, int go_fd, int ready_fd)
{
    sqlite3 *r = NULL;
    char c;
    int ok;

    if (read(go_fd, &c, 1) != 1)
        _exit(2);
    ok = sqlite3_open(path, &r) == SQLITE_OK &&
         sqlite3_exec(r, "BEGIN IMMEDIATE; INSERT INTO other_lock VALUES(1)", NULL, NULL,
                      NULL) == SQLITE_OK;
    if (write(ready_fd, ok ? "1" : "0", 1) != 1)
        _exit(2);
    usleep(200 * 1000);
    ok = ok && sqlite3_exec(r, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(r);
    _exit(ok ? 0 : 1);
}

/* Another process holds the write lock for 200 ms: a new connection opening
 * (its migration takes the write lock) and writing waits instead of failing. */
TEST(busy_other_process)
{
    char path[512], c = 0;
    struct sb_appdb *db = NULL, *db2 = NULL;
    struct sb_user u;
    int go[2], ready[2], status = 0;
    pid_t pid;

    newpath(path, sizeof(path));
    REQUIRE(raw_exec(path, "PRAGMA journal_mode=WAL; CREATE TABLE other_lock(x)", NULL, 0) ==
            SQLITE_OK);
    REQUIRE(pipe(go) == 0 && pipe(ready) == 0);
    fflush(stdout);
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0)
        locker(path, go[0], ready[1]);
    close(go[0]);
    close(ready[1]);
    db = open_db(path);
    CHECK(db != NULL);
    CHECK_EQ(write(go[1], "g", 1), 1);
    CHECK_EQ(read(ready[0], &c, 1), 1);
    CHECK_EQ(c, '1');
    int64_t t0 = now_mono_ms();
    db2 = open_db(path);
    CHECK(db2 != NULL);
    if (db && db2) {
        mkuser(&u, "late", SB_ROLE_VIEWER);
        CHECK_EQ(sb_appdb_user_create(db2, &u), 0);
        CHECK(now_mono_ms() - t0 >= 150);   /* it really waited for the lock */
        /* The first connection writes too and sees the second's write. */
        CHECK_EQ(audit(db, T0, 0, "system.start", NULL, NULL), 0);
        CHECK_EQ(sb_appdb_user_by_name(db, "late", &u), 0);
    }
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(raw_int(path, "SELECT count(*) FROM other_lock"), 1);
    close(go[1]);
    close(ready[0]);
    sb_appdb_close(db2);
    sb_appdb_close(db);
}

static void rmtree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
}

/* PostgreSQL: the schema is made once whatever the number of nodes; two
 * handles (two nodes) work on it at once; a newer schema is refused. */
TEST(pg_schema)
{
    char name[64], ci[1024], err[256];
    struct sb_appdb *db, *db2 = NULL;
    struct sb_user u;
    int from = -1, to = -1;

    db = fresh(name, sizeof(name));
    REQUIRE(db);
    appdb_test_conninfo(name, ci, sizeof(ci));
    CHECK_EQ(sb_appdb_pg_open(ci, &db2, err, sizeof(err)), 0);
    REQUIRE(db2);
    CHECK_EQ(sb_appdb_migrate(db2, &from, &to), 0);
    CHECK_EQ(from, 5);
    CHECK_EQ(to, 5);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_schema"), 1);
    CHECK_STR(db->ops->name, "postgres");
    /* What one node writes the other reads, and the unique name holds across them. */
    mkuser(&u, "Nina", SB_ROLE_VIEWER);
    CHECK_EQ(sb_appdb_user_create(db, &u), 0);
    CHECK_EQ(sb_appdb_user_by_name(db2, "nINA", &u), 0);
    CHECK_STR(u.username, "Nina");
    mkuser(&u, "NINA", SB_ROLE_VIEWER);
    CHECK_EQ(sb_appdb_user_create(db2, &u), SB_EEXIST);
    sb_appdb_close(db2);
    sb_appdb_close(db);
    CHECK_EQ(raw_exec(name, "UPDATE app_schema SET version = 99", NULL, 0), SQLITE_OK);
    db = NULL;
    CHECK_EQ(sb_appdb_pg_open(ci, &db, err, sizeof(err)), SB_ENOTSUP);
    CHECK(db == NULL);
    /* An unreachable server: a clear error, no handle, the URL not echoed. */
    CHECK_EQ(sb_appdb_pg_open("host=127.0.0.1 port=1 password=hunter2 connect_timeout=2", &db,
                              err, sizeof(err)), SB_ESTORE);
    CHECK(strstr(err, "hunter2") == NULL);
}

/* The two schemas are written twice (dialects differ) and kept in lock-step
 * by this test: the same app_* tables, the same columns in the same order,
 * the same NOT NULLs.  Text "table.column:notnull" per column, sorted by
 * table then position, into out. */
static void lite_columns(const char *path, char *out, size_t cap)
{
    sqlite3 *r = NULL;
    sqlite3_stmt *st = NULL;
    size_t n = 0;

    out[0] = 0;
    if (sqlite3_open(path, &r) == SQLITE_OK &&
        sqlite3_prepare_v2(r, "SELECT m.name, c.name, c.\"notnull\" OR c.pk FROM sqlite_master m, "
                              "pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name "
                              "LIKE 'app\\_%' ESCAPE '\\' ORDER BY m.name, c.cid", -1, &st,
                           NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s.%s:%d ", sqlite3_column_text(st, 0),
                                  sqlite3_column_text(st, 1), sqlite3_column_int(st, 2));
    sqlite3_finalize(st);
    sqlite3_close(r);
}

static void pg_columns(const char *name, char *out, size_t cap)
{
    char sql[512];
    PGconn *c;
    size_t n = 0;

    snprintf(sql, sizeof(sql), "SELECT table_name, column_name, (is_nullable = 'NO')::int "
             "FROM information_schema.columns WHERE table_schema = 't_%s' AND table_name "
             "LIKE 'app\\_%%' ORDER BY table_name, ordinal_position", name);
    PGresult *r = pg_raw(name, sql, &c);
    out[0] = 0;
    for (int i = 0; PQresultStatus(r) == PGRES_TUPLES_OK && i < PQntuples(r) && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s.%s:%s ", PQgetvalue(r, i, 0),
                              PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
    PQclear(r);
    PQfinish(c);
}

TEST(schemas_in_lock_step)
{
    static char lite[16384], pg[16384];
    char name[64], path[512];
    struct sb_appdb *db = fresh(name, sizeof(name));

    REQUIRE(db);
    sb_appdb_close(db);
    snprintf(path, sizeof(path), "%s/lockstep.db", root);
    db = open_db(path);
    REQUIRE(db);
    sb_appdb_close(db);
    lite_columns(path, lite, sizeof(lite));
    pg_columns(name, pg, sizeof(pg));
    CHECK(strlen(lite) > 500);
    CHECK(strstr(lite, "app_users.username:1 ") != NULL);
    CHECK(strstr(lite, "app_alert_subs.level:1 ") != NULL);
    CHECK_STR(pg, lite);
}

/* The behaviour tests, on whichever backend this pass uses. */
static void run_behaviour(void)
{
    RUN(users);
    RUN(user_list);
    RUN(grants);
    RUN(rt_rotation);
    RUN(rt_reuse);
    RUN(rt_expiry_revoke_purge);
    RUN(audit_basic);
    RUN(audit_filters);
    RUN(commands);
    RUN(threads);
}

int main(void)
{
    TAP_START();
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    printf("# backend sqlite\n");
    RUN(roles);
    RUN(open_migrate);
    RUN(shared_file);
    RUN(engine_error);
    RUN(busy_other_process);
    run_behaviour();
    if ((appdb_test_pg = appdb_test_pg_url())) {
        printf("# backend postgres\n");
        RUN(pg_schema);
        RUN(schemas_in_lock_step);
        run_behaviour();
    } else {
        printf("# PostgreSQL backend not run: SBEMS_TEST_PG_URL unset (tests/pg/pg-run sets it)\n");
    }
    rmtree();
    TAP_END();
}

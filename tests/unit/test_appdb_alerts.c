/*
 * test_appdb_alerts.c - the alert store of the app database (schema v3,
 * subscription levels v5): migration of a v2 and of a v4 file, rules, the
 * alert life cycle with its history, listing, escalation, subscriptions.
 * Every behaviour test runs on real SQLite files in a temporary directory
 * and, when SBEMS_TEST_PG_URL names a server (tests/pg/pg-run), once more
 * on PostgreSQL, in a fresh schema per test (appdb_test.h).  The migration
 * tests build old SQLite files and run on SQLite only.  Times are set by
 * hand (T0 + offsets), never read from a clock.
 *
 * A raw connection of the test's own (sqlite3 or libpq) checks what the
 * database itself must refuse (a second open alert for a (rule, key),
 * broken state invariants, history rewrites), and a trigger injected
 * through it makes an event insert fail to show that a transition and its
 * event commit together or not at all.
 */
#include <libpq-fe.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "appdb_test.h"
#include "core/err.h"
#include "core/log.h"
#include "db/appdb.h"
#include "db/appdb_int.h"   /* the v3 and v4 DDL, to build a v4 file */
#include "tap.h"

#define T0 1772323200000LL   /* 2026-03-01T00:00:00Z */
#define MIN_MS 60000LL
#define HOUR_MS 3600000LL
#define NAME_CAP 64

static char tmpl[] = "/tmp/sbems-test-alerts-XXXXXX";
static char *root;
static int dbn;

/* ---- SQLite files (the migration tests) -------------------------------- */

static void newpath(char *out, size_t cap)
{
    snprintf(out, cap, "%s/alerts%d.db", root, dbn++);
}

static struct sb_appdb *open_file(const char *path)
{
    struct sb_appdb *db = NULL;
    char err[256] = "";
    int rc = sb_appdb_sqlite_open(path, &db, err, sizeof(err));

    if (rc)
        printf("#   open %s: %s: %s\n", path, sb_errname(rc), err);
    return db;
}

/* One integer from a raw connection to a file (-1 on error). */
static long long lite_int(const char *path, const char *sql)
{
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

/* Runs sql on a raw connection to a file (foreign keys enforced, as the
 * backend's own connection does): the extended result code, message in
 * msg. */
static int lite_exec(const char *path, const char *sql, char *msg, size_t cap)
{
    sqlite3 *r = NULL;
    char *m = NULL;
    int rc;

    sqlite3_open(path, &r);
    sqlite3_extended_result_codes(r, 1);
    sqlite3_busy_timeout(r, 5000);
    rc = sqlite3_exec(r, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(r, sql, NULL, NULL, &m);
    if (msg)
        snprintf(msg, cap, "%s", m ? m : "");
    sqlite3_free(m);
    sqlite3_close(r);
    return rc;
}

/* ---- the current pass's database, by name -------------------------------- */

/* A fresh database of the current backend; name gets its name. */
static struct sb_appdb *fresh(char *name, size_t cap)
{
    snprintf(name, cap, "alerts%d", dbn++);
    return appdb_test_open_in(root, name, 1);
}

/* A second handle on database name (a second process or node). */
static struct sb_appdb *reopen(const char *name)
{
    return appdb_test_open_in(root, name, 0);
}

/* What a raw statement ran into, on either engine. */
enum raw_rc {
    RAW_OK,
    RAW_CHECK,    /* a CHECK, or a value the column's type refuses (PostgreSQL's json) */
    RAW_UNIQUE,
    RAW_FK,
    RAW_RAISE,    /* a trigger refused it */
    RAW_OTHER
};

static enum raw_rc lite_class(int rc)
{
    switch (rc) {
    case SQLITE_OK: return RAW_OK;
    case SQLITE_CONSTRAINT_CHECK: return RAW_CHECK;
    case SQLITE_CONSTRAINT_UNIQUE: return RAW_UNIQUE;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return RAW_FK;
    case SQLITE_CONSTRAINT_TRIGGER: return RAW_RAISE;
    default: return RAW_OTHER;
    }
}

static enum raw_rc pg_class(const PGresult *r)
{
    ExecStatusType st = PQresultStatus(r);
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return RAW_OK;
    if (!s)
        return RAW_OTHER;
    if (strcmp(s, "23514") == 0 || strcmp(s, "22P02") == 0)
        return RAW_CHECK;
    if (strcmp(s, "23505") == 0)
        return RAW_UNIQUE;
    if (strcmp(s, "23503") == 0)
        return RAW_FK;
    return strcmp(s, "P0001") == 0 ? RAW_RAISE : RAW_OTHER;
}

/* Runs sql on a raw libpq connection to schema name: the result (NULL when
 * the connection failed, reason printed). */
static PGresult *pg_run(const char *name, const char *sql)
{
    char ci[1024];
    PGconn *c;
    PGresult *r = NULL;

    appdb_test_conninfo(name, ci, sizeof(ci));
    c = PQconnectdb(ci);
    if (PQstatus(c) == CONNECTION_OK)
        r = PQexec(c, sql);
    else
        printf("#   raw connect: %s", PQerrorMessage(c));
    PQfinish(c);
    return r;
}

/* Runs sql (one or more statements) on a raw connection to database name
 * of the current backend; the engine's message in msg. */
static enum raw_rc raw_exec(const char *name, const char *sql, char *msg, size_t cap)
{
    char path[512];
    PGresult *r;
    enum raw_rc rc;

    if (!appdb_test_pg) {
        snprintf(path, sizeof(path), "%s/%s.db", root, name);
        return lite_class(lite_exec(path, sql, msg, cap));
    }
    if (!(r = pg_run(name, sql)))
        return RAW_OTHER;
    rc = pg_class(r);
    if (msg)
        snprintf(msg, cap, "%s", rc == RAW_OK ? "" : PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
    PQclear(r);
    return rc;
}

/* One integer from a raw connection to database name (-1 on error). */
static long long raw_int(const char *name, const char *sql)
{
    char path[512];
    PGresult *r;
    long long v = -1;

    if (!appdb_test_pg) {
        snprintf(path, sizeof(path), "%s/%s.db", root, name);
        return lite_int(path, sql);
    }
    if (!(r = pg_run(name, sql)))
        return -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

static void mkuser(struct sb_user *u, const char *name, uint32_t roles)
{
    memset(u, 0, sizeof(*u));
    snprintf(u->username, sizeof(u->username), "%s", name);
    snprintf(u->email, sizeof(u->email), "%s@example.org", name);
    snprintf(u->pw_hash, sizeof(u->pw_hash), "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
    u->roles = roles;
    u->created_ms = u->updated_ms = T0;
}

static void mksub(struct sb_alert_sub *s, int64_t user, const char *channel, const char *target)
{
    memset(s, 0, sizeof(*s));
    s->user_id = user;
    snprintf(s->channel, sizeof(s->channel), "%s", channel);
    snprintf(s->target, sizeof(s->target), "%s", target);
    s->enabled = 1;
}

/* The kinds of an alert's events, oldest first, joined by ','. */
static const char *kinds(struct sb_appdb *db, int64_t id, char *buf, size_t cap)
{
    struct sb_alert_event *ev = NULL;
    size_t n = 0, len = 0;
    int64_t next = 0;

    buf[0] = 0;
    if (sb_appdb_alert_events(db, id, 0, SB_ALERT_PAGE_MAX, &ev, &n, &next) != 0)
        snprintf(buf, cap, "(error)");
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? "," : "", ev[i].kind);
    free(ev);
    return buf;
}

/* The newest event of an alert into *e (0 or an error). */
static int last_event(struct sb_appdb *db, int64_t id, struct sb_alert_event *e)
{
    struct sb_alert_event *ev = NULL;
    size_t n = 0;
    int64_t next = 0;
    int rc = sb_appdb_alert_events(db, id, 0, SB_ALERT_PAGE_MAX, &ev, &n, &next);

    if (rc == 0 && n == 0)
        rc = SB_ENOENT;
    if (rc == 0)
        *e = ev[n - 1];
    free(ev);
    return rc;
}

/* A raise with the common arguments: building "hq", value v. */
static int raise1(struct sb_appdb *db, const char *rule, double v, int64_t t, int64_t flap_ms,
                  struct sb_alert *out, int *how)
{
    return sb_appdb_alert_raise(db, rule, "hq", rule, SB_ALERT_SEV_MAJOR, v, "too warm", t,
                                flap_ms, out, how);
}

/* ---- migration --------------------------------------------------------- */

/* The app schema exactly as an sbems at schema version 2 created it (frozen
 * copy of appdb.c's schema_v1 + schema_v2 at that version): the file a
 * running installation has when it upgrades. */
static const char v2_schema[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE app_schema(version INTEGER NOT NULL);"
    "CREATE TABLE app_users(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " username TEXT NOT NULL COLLATE NOCASE UNIQUE, email TEXT NOT NULL DEFAULT '',"
    " display_name TEXT NOT NULL DEFAULT '', pw_hash TEXT NOT NULL DEFAULT '',"
    " roles INTEGER NOT NULL DEFAULT 0, disabled INTEGER NOT NULL DEFAULT 0,"
    " must_change_pw INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL, pw_changed_ms INTEGER NOT NULL DEFAULT 0,"
    " last_login_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE app_grants(user_id INTEGER NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK(kind IN ('site', 'building')), slug TEXT NOT NULL,"
    " PRIMARY KEY(user_id, kind, slug)) WITHOUT ROWID;"
    "CREATE TABLE app_refresh_tokens(id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " family TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, used_ms INTEGER, revoked_ms INTEGER, ip TEXT, user_agent TEXT);"
    "CREATE INDEX app_rt_family ON app_refresh_tokens(family);"
    "CREATE INDEX app_rt_user ON app_refresh_tokens(user_id);"
    "CREATE INDEX app_rt_expires ON app_refresh_tokens(expires_ms);"
    "CREATE TABLE app_audit(id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL,"
    " actor_id INTEGER NOT NULL DEFAULT 0, actor TEXT, ip TEXT, action TEXT NOT NULL, target TEXT,"
    " \"before\" TEXT CHECK(\"before\" IS NULL OR json_valid(\"before\")),"
    " \"after\" TEXT CHECK(\"after\" IS NULL OR json_valid(\"after\")),"
    " result TEXT NOT NULL, detail TEXT);"
    "CREATE INDEX app_audit_actor ON app_audit(actor_id);"
    "CREATE INDEX app_audit_target ON app_audit(target);"
    "CREATE INDEX app_audit_ts ON app_audit(ts_ms);"
    "CREATE TRIGGER app_audit_no_update BEFORE UPDATE ON app_audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER app_audit_no_delete BEFORE DELETE ON app_audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TABLE app_commands(id INTEGER PRIMARY KEY AUTOINCREMENT, point INTEGER NOT NULL,"
    " priority INTEGER NOT NULL, value REAL, actor TEXT NOT NULL, reason TEXT,"
    " since_ms INTEGER NOT NULL, expires_ms INTEGER, released_ms INTEGER);"
    "CREATE INDEX app_commands_active ON app_commands(point, priority)"
    " WHERE released_ms IS NULL;"
    "INSERT INTO app_schema(version) VALUES(2);"
    "INSERT INTO app_users(username, email, pw_hash, roles, created_ms, updated_ms)"
    " VALUES('ann', 'ann@example.org', '$argon2id$x', 4, 1700000000000, 1700000000000);"
    "INSERT INTO app_grants VALUES(1, 'building', 'hq');"
    "INSERT INTO app_audit(ts_ms, actor_id, actor, action, target, result)"
    " VALUES(1700000000001, 1, 'ann', 'user.create', 'user:1', 'ok');"
    "INSERT INTO app_commands(point, priority, value, actor, since_ms)"
    " VALUES(7, 8, 21.5, 'ann', 1700000000002);";

TEST(migrate_from_v2)
{
    char path[512], msg[256];
    struct sb_appdb *db;
    struct sb_user u;
    struct sb_grant *g = NULL;
    struct sb_audit_filter af = { .limit = 10 };
    struct sb_audit_page ap = { 0 };
    struct sb_cmd_rec cmd[4];
    size_t ng = 0, nc = 0;
    int from = -1, to = -1;

    newpath(path, sizeof(path));
    REQUIRE(lite_exec(path, v2_schema, msg, sizeof(msg)) == SQLITE_OK);
    db = open_file(path);
    REQUIRE(db);
    CHECK_EQ(db->ops->abi, SB_APPDB_ABI);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);   /* open already migrated 2 -> 5 */
    CHECK_EQ(to, 5);
    CHECK_EQ(lite_int(path, "SELECT version FROM app_schema"), 5);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM pragma_table_info('app_alert_subs') WHERE "
                           "name = 'level'"), 1);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM app_schema"), 1);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                           "('app_alert_rules', 'app_alerts', 'app_alert_events', "
                           "'app_alert_subs')"), 4);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                           "name = 'app_alerts_open' AND sql LIKE '%UNIQUE%WHERE%'"), 1);

    /* What v2 held is all there and usable through the API. */
    CHECK_EQ(sb_appdb_user_get(db, 1, &u), 0);
    CHECK_STR(u.username, "ann");
    CHECK_STR(u.pw_hash, "$argon2id$x");
    CHECK_EQ(u.roles, SB_ROLE_OPERATOR);
    CHECK_EQ(sb_appdb_grants_get(db, 1, &g, &ng), 0);
    CHECK_EQ(ng, 1);
    if (ng == 1)
        CHECK_STR(g[0].slug, "hq");
    free(g);
    CHECK_EQ(sb_appdb_audit_query(db, &af, &ap), 0);
    CHECK_EQ(ap.n, 1);
    if (ap.n == 1) {
        CHECK_STR(ap.v[0].action, "user.create");
        CHECK_EQ(ap.v[0].ts_ms, 1700000000001LL);
    }
    sb_audit_page_release(&ap);
    CHECK_EQ(sb_appdb_cmd_active(db, 7, 0, cmd, 4, &nc), 0);
    CHECK_EQ(nc, 1);
    /* the audit log is still append-only */
    CHECK(lite_exec(path, "DELETE FROM app_audit", NULL, 0) != SQLITE_OK);
    /* and the new tables work in the migrated file */
    CHECK_EQ(raise1(db, "r1", 20.0, T0, 0, NULL, NULL), 0);
    sb_appdb_close(db);

    /* Reopening: nothing to migrate, the data stays. */
    db = open_file(path);
    REQUIRE(db);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);
    CHECK_EQ(to, 5);
    sb_appdb_close(db);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM app_alerts"), 1);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM app_users"), 1);
}

/* A v4 file (the v2 schema, then the v3 and v4 steps as they are, which a
 * migration never edits) holding one subscription: v5 gives it level 0, so
 * it still hears of raises and of no escalation. */
TEST(migrate_from_v4)
{
    char path[512], msg[256];
    struct sb_appdb *db;
    struct sb_alert_sub *v = NULL, s;
    size_t n = 0;
    int from = -1, to = -1;

    newpath(path, sizeof(path));
    REQUIRE(lite_exec(path, v2_schema, msg, sizeof(msg)) == SQLITE_OK);
    REQUIRE(lite_exec(path, sb_appdb__schema_v3, msg, sizeof(msg)) == SQLITE_OK);
    REQUIRE(lite_exec(path, sb_appdb__schema_v4, msg, sizeof(msg)) == SQLITE_OK);
    REQUIRE(lite_exec(path, "UPDATE app_schema SET version = 4;"
                           "INSERT INTO app_alert_subs(user_id, channel, target, building,"
                           " min_severity) VALUES(1, 'email', 'ann@example.org', 'hq', 'major')",
                     msg, sizeof(msg)) == SQLITE_OK);
    CHECK_EQ(lite_int(path, "SELECT count(*) FROM pragma_table_info('app_alert_subs') WHERE "
                           "name = 'level'"), 0);
    db = open_file(path);
    REQUIRE(db);
    CHECK_EQ(lite_int(path, "SELECT version FROM app_schema"), 5);
    CHECK_EQ(sb_appdb_alert_sub_list(db, 1, &v, &n), 0);
    REQUIRE(n == 1);
    CHECK_STR(v[0].target, "ann@example.org");
    CHECK_EQ(v[0].level, 0);
    CHECK_EQ(v[0].min_severity, SB_ALERT_SEV_MAJOR);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_MAJOR, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_MAJOR, 1, &v, &n), 0);
    CHECK_EQ(n, 0);
    /* a level-2 subscription is stored and listed as such */
    mksub(&s, 1, "email", "ops@example.org");
    s.level = 2;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    CHECK_EQ(sb_appdb_alert_sub_list(db, 1, &v, &n), 0);
    REQUIRE(n == 2);
    CHECK_EQ(v[1].level, 2);
    free(v);
    v = NULL;
    sb_appdb_close(db);
    /* the database itself refuses a level outside 0..3 */
    CHECK(lite_exec(path, "UPDATE app_alert_subs SET level = 4", msg, sizeof(msg)) != SQLITE_OK);
    CHECK(strstr(msg, "CHECK") != NULL);
    /* set back to v4 with the column there (a re-run): the step is skipped */
    REQUIRE(lite_exec(path, "UPDATE app_schema SET version = 4", NULL, 0) == SQLITE_OK);
    db = open_file(path);
    REQUIRE(db);
    CHECK_EQ(sb_appdb_migrate(db, &from, &to), 0);
    CHECK_EQ(from, 5);
    CHECK_EQ(sb_appdb_alert_sub_list(db, 1, &v, &n), 0);
    CHECK_EQ(n, 2);
    free(v);
    sb_appdb_close(db);
}

TEST(names)
{
    CHECK_STR(sb_alert_sev_name(SB_ALERT_SEV_CRITICAL), "critical");
    CHECK_STR(sb_alert_sev_name(SB_ALERT_SEV_INFO), "info");
    CHECK(sb_alert_sev_name(0) == NULL);
    CHECK(sb_alert_sev_name(5) == NULL);
    CHECK_EQ(sb_alert_sev_parse("major"), SB_ALERT_SEV_MAJOR);
    CHECK_EQ(sb_alert_sev_parse("minor"), SB_ALERT_SEV_MINOR);
    CHECK_EQ(sb_alert_sev_parse("Major"), SB_EINVAL);
    CHECK_EQ(sb_alert_sev_parse(NULL), SB_EINVAL);
    CHECK_STR(sb_alert_state_name(SB_ALERT_ACKED), "acknowledged");
    CHECK(sb_alert_state_name(4) == NULL);
    CHECK_EQ(sb_alert_state_parse("resolved"), SB_ALERT_RESOLVED);
    CHECK_EQ(sb_alert_state_parse("open"), SB_EINVAL);
}

/* ---- rules ------------------------------------------------------------- */

static void mkrule(struct sb_alert_rule *r, const char *id, const char *building, int64_t t)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", id);
    snprintf(r->building, sizeof(r->building), "%s", building);
    snprintf(r->json, sizeof(r->json), "{\"id\":\"%s\",\"type\":\"threshold\",\"above\":16}", id);
    r->enabled = 1;
    r->updated_ms = t;
    snprintf(r->updated_by, sizeof(r->updated_by), "ann");
}

TEST(rules)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert_rule r, got;
    struct sb_alert_rule_page pg = { 0 };
    const char *hq[] = { "hq" }, *both[] = { "hq", "lab" }, *bad[] = { "HQ" };
    struct sb_alert_scope all = { .all = 1 }, s_hq = { 0, hq, 1 }, s_both = { 0, both, 2 },
                          none = { 0 }, s_bad = { 0, bad, 1 };
    int64_t n = -1;
    int created = -1;

    REQUIRE(db);
    mkrule(&r, "ahu-1-sat-high", "hq", T0);
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, &created), 0);
    CHECK_EQ(created, 1);
    CHECK_EQ(sb_appdb_alert_rule_get(db, "ahu-1-sat-high", &got), 0);
    CHECK_STR(got.building, "hq");
    CHECK_STR(got.json, r.json);
    CHECK_EQ(got.enabled, 1);
    CHECK_EQ(got.created_ms, T0);
    CHECK_EQ(got.updated_ms, T0);
    CHECK_STR(got.updated_by, "ann");

    /* Replace: new JSON, building and author; created_ms kept. */
    snprintf(r.json, sizeof(r.json), "{\"id\":\"ahu-1-sat-high\",\"above\":18}");
    snprintf(r.building, sizeof(r.building), "lab");
    snprintf(r.updated_by, sizeof(r.updated_by), "bob");
    r.enabled = 0;
    r.updated_ms = T0 + HOUR_MS;
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, &created), 0);
    CHECK_EQ(created, 0);
    CHECK_EQ(sb_appdb_alert_rule_get(db, "ahu-1-sat-high", &got), 0);
    CHECK_STR(got.json, "{\"id\":\"ahu-1-sat-high\",\"above\":18}");
    CHECK_STR(got.building, "lab");
    CHECK_STR(got.updated_by, "bob");
    CHECK_EQ(got.enabled, 0);
    CHECK_EQ(got.created_ms, T0);
    CHECK_EQ(got.updated_ms, T0 + HOUR_MS);

    /* Bad input: not JSON, not an object, empty, bad slugs. */
    mkrule(&r, "x", "hq", T0);
    snprintf(r.json, sizeof(r.json), "{\"above\":");
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), SB_EINVAL);
    snprintf(r.json, sizeof(r.json), "[1,2]");
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), SB_EINVAL);
    r.json[0] = 0;
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), SB_EINVAL);
    mkrule(&r, "Bad Id", "hq", T0);
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), SB_EINVAL);
    mkrule(&r, "ok", "", T0);
    CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_rule_get(db, "x", &got), SB_ENOENT);

    /* Ten rules in hq, one in lab (above): scope, paging, count. */
    for (int i = 0; i < 10; i++) {
        char id[16];
        snprintf(id, sizeof(id), "r%02d", i);
        mkrule(&r, id, "hq", T0);
        CHECK_EQ(sb_appdb_alert_rule_put(db, &r, NULL), 0);
    }
    CHECK_EQ(sb_appdb_alert_rule_count(db, &all, &n), 0);
    CHECK_EQ(n, 11);
    CHECK_EQ(sb_appdb_alert_rule_count(db, &s_hq, &n), 0);
    CHECK_EQ(n, 10);
    CHECK_EQ(sb_appdb_alert_rule_count(db, &none, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(sb_appdb_alert_rule_count(db, &s_bad, &n), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_rule_count(db, NULL, &n), SB_EINVAL);

    CHECK_EQ(sb_appdb_alert_rule_list(db, &s_hq, NULL, 4, &pg), 0);
    CHECK_EQ(pg.n, 4);
    if (pg.n == 4) {
        CHECK_STR(pg.v[0].id, "r00");
        CHECK_STR(pg.v[3].id, "r03");
    }
    CHECK_STR(pg.next_after, "r03");
    char after[SB_ALERT_SLUG_CAP];
    int pages = 1;
    size_t seen = pg.n;
    while (pg.next_after[0] && pages < 10) {
        snprintf(after, sizeof(after), "%s", pg.next_after);
        CHECK_EQ(sb_appdb_alert_rule_list(db, &s_hq, after, 4, &pg), 0);
        seen += pg.n;
        pages++;
    }
    CHECK_EQ(pages, 3);
    CHECK_EQ(seen, 10);
    CHECK_EQ(sb_appdb_alert_rule_list(db, &s_both, NULL, 100, &pg), 0);
    CHECK_EQ(pg.n, 11);
    CHECK_STR(pg.next_after, "");
    CHECK_EQ(sb_appdb_alert_rule_list(db, &none, NULL, 100, &pg), 0);
    CHECK_EQ(pg.n, 0);
    CHECK_EQ(sb_appdb_alert_rule_list(db, &all, NULL, 0, &pg), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_rule_list(db, &all, NULL, SB_ALERT_PAGE_MAX + 1, &pg), SB_EINVAL);
    sb_alert_rule_page_release(&pg);

    /* Deleting a rule leaves its alerts. */
    CHECK_EQ(raise1(db, "r00", 20.0, T0, 0, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_alert_rule_delete(db, "r00"), 0);
    CHECK_EQ(sb_appdb_alert_rule_delete(db, "r00"), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_rule_get(db, "r00", &got), SB_ENOENT);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alerts WHERE rule = 'r00'"), 1);
    sb_appdb_close(db);
}

/* ---- raise, de-duplicate, clear, flap ------------------------------------ */

TEST(raise_dedupe)
{
    char name[NAME_CAP], k[256];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a, b;
    struct sb_alert_event e;
    int how = 0;

    REQUIRE(db);
    CHECK_EQ(sb_appdb_alert_raise(db, "sat-high", "hq", "sat-high", SB_ALERT_SEV_MAJOR, 17.25,
                                  "AHU-1 discharge air 17.2 \xc2\xb0" "C", T0, 10 * MIN_MS, &a,
                                  &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_NEW);
    CHECK(a.id > 0);
    CHECK_STR(a.rule, "sat-high");
    CHECK_STR(a.building, "hq");
    CHECK_STR(a.key, "sat-high");
    CHECK_EQ(a.severity, SB_ALERT_SEV_MAJOR);
    CHECK_EQ(a.state, SB_ALERT_ACTIVE);
    CHECK_EQ(a.cleared, 0);
    CHECK_EQ(a.count, 1);
    CHECK_EQ(a.flaps, 0);
    CHECK_EQ(a.raised_ms, T0);
    CHECK_EQ(a.acked_ms, 0);
    CHECK_EQ(a.escalated_level, 0);
    CHECK_DBL(a.value, 17.25, 0);
    CHECK_STR(a.message, "AHU-1 discharge air 17.2 \xc2\xb0" "C");
    CHECK_EQ(last_event(db, a.id, &e), 0);
    CHECK_STR(e.kind, "raised");
    CHECK_STR(e.actor, "sbems");
    CHECK_EQ(e.ts_ms, T0);

    /* Same rule and key while open: the same alert, counted. The latest
     * severity, value and message win; raised_ms stays the first. */
    CHECK_EQ(sb_appdb_alert_raise(db, "sat-high", "hq", "sat-high", SB_ALERT_SEV_CRITICAL, NAN,
                                  NULL, T0 + MIN_MS, 10 * MIN_MS, &b, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_AGAIN);
    CHECK_EQ(b.id, a.id);
    CHECK_EQ(b.count, 2);
    CHECK_EQ(b.flaps, 0);
    CHECK_EQ(b.severity, SB_ALERT_SEV_CRITICAL);
    CHECK(isnan(b.value));
    CHECK_STR(b.message, "");
    CHECK_EQ(b.raised_ms, T0);
    CHECK_STR(kinds(db, a.id, k, sizeof(k)), "raised,re-raised");
    CHECK_EQ(last_event(db, a.id, &e), 0);
    CHECK_STR(e.detail, "raise 2");

    /* Another key of the same rule is another alert. */
    CHECK_EQ(sb_appdb_alert_raise(db, "sat-high", "hq", "other-key", SB_ALERT_SEV_MINOR, 1.0,
                                  "m", T0, 0, &b, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_NEW);
    CHECK(b.id != a.id);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alerts"), 2);

    /* outcome and out may be NULL */
    CHECK_EQ(raise1(db, "sat-high", 18.0, T0 + 2 * MIN_MS, 0, NULL, NULL), 0);
    CHECK_EQ(sb_appdb_alert_get(db, a.id, &b), 0);
    CHECK_EQ(b.count, 3);
    sb_appdb_close(db);
}

TEST(clear_and_flap)
{
    char name[NAME_CAP], k[256];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a;
    struct sb_alert_event e;
    const int64_t W = 10 * MIN_MS;   /* flap window */
    int how = 0;
    int64_t id;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "r", 20.0, T0, W, &a, &how), 0);
    id = a.id;
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + MIN_MS, 0, &a), 0);
    CHECK_EQ(a.cleared, 1);
    CHECK_EQ(a.cleared_ms, T0 + MIN_MS);
    CHECK_EQ(a.state, SB_ALERT_ACTIVE);   /* no auto-resolve, not acknowledged */
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + MIN_MS, 0, &a), SB_EEXIST);

    /* Back within the window: a flap, condition present again. */
    CHECK_EQ(raise1(db, "r", 21.0, T0 + MIN_MS + W, W, &a, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_FLAP);
    CHECK_EQ(a.id, id);
    CHECK_EQ(a.flaps, 1);
    CHECK_EQ(a.count, 2);
    CHECK_EQ(a.cleared, 0);
    CHECK_EQ(last_event(db, id, &e), 0);
    CHECK_STR(e.kind, "re-raised");
    CHECK_STR(e.detail, "flap 1: too warm");

    /* A second flap. */
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 20 * MIN_MS, 0, NULL), 0);
    CHECK_EQ(raise1(db, "r", 21.0, T0 + 21 * MIN_MS, W, &a, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_FLAP);
    CHECK_EQ(a.flaps, 2);

    /* Back one ms after the window: de-duplicated, not a flap. */
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 30 * MIN_MS, 0, NULL), 0);
    CHECK_EQ(raise1(db, "r", 21.0, T0 + 30 * MIN_MS + W + 1, W, &a, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_AGAIN);
    CHECK_EQ(a.flaps, 2);
    CHECK_EQ(a.count, 4);
    CHECK_EQ(a.cleared, 0);

    /* A raise on a condition that never cleared is never a flap; window 0
     * counts none. */
    CHECK_EQ(raise1(db, "r", 21.0, T0 + 31 * MIN_MS + W, W, &a, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_AGAIN);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 40 * MIN_MS, 0, NULL), 0);
    CHECK_EQ(raise1(db, "r", 21.0, T0 + 40 * MIN_MS, 0, &a, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_AGAIN);
    CHECK_EQ(a.flaps, 2);
    CHECK_STR(kinds(db, id, k, sizeof(k)),
              "raised,cleared,re-raised,cleared,re-raised,cleared,re-raised,re-raised,cleared,"
              "re-raised");

    /* Clearing what is not open. */
    CHECK_EQ(sb_appdb_alert_clear(db, "nope", "nope", T0, 1, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "other", T0, 1, NULL), SB_ENOENT);
    sb_appdb_close(db);
}

TEST(auto_resolve)
{
    char name[NAME_CAP], k[256];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a, b;
    struct sb_alert_event e;
    int how = 0;

    REQUIRE(db);
    /* auto_resolve: the clear resolves it by "sbems". */
    CHECK_EQ(raise1(db, "r", 20.0, T0, HOUR_MS, &a, &how), 0);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + MIN_MS, 1, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_RESOLVED);
    CHECK_EQ(a.cleared, 1);
    CHECK_EQ(a.resolved_ms, T0 + MIN_MS);
    CHECK_STR(a.resolved_by, "sbems");
    CHECK_STR(kinds(db, a.id, k, sizeof(k)), "raised,cleared,resolved");
    CHECK_EQ(last_event(db, a.id, &e), 0);
    CHECK_STR(e.actor, "sbems");
    CHECK_STR(e.detail, "auto-resolved: the condition cleared");

    /* The next raise opens a new alert (history keeps the old one), even
     * within the flap window: a resolved alert does not flap. */
    CHECK_EQ(raise1(db, "r", 20.0, T0 + 2 * MIN_MS, HOUR_MS, &b, &how), 0);
    CHECK_EQ(how, SB_ALERT_RAISED_NEW);
    CHECK(b.id > a.id);
    CHECK_EQ(b.count, 1);
    CHECK_EQ(b.flaps, 0);

    /* Without auto_resolve an acknowledged alert resolves on clear. */
    CHECK_EQ(sb_appdb_alert_ack(db, b.id, "ann", NULL, T0 + 3 * MIN_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 4 * MIN_MS, 0, &b), 0);
    CHECK_EQ(b.state, SB_ALERT_RESOLVED);
    CHECK_STR(b.resolved_by, "sbems");
    CHECK_STR(b.acked_by, "ann");
    CHECK_STR(kinds(db, b.id, k, sizeof(k)), "raised,acknowledged,cleared,resolved");

    /* Without auto_resolve and unacknowledged it stays open; acknowledging
     * it then resolves it (never acknowledged-and-cleared). */
    CHECK_EQ(raise1(db, "r", 20.0, T0 + 5 * MIN_MS, HOUR_MS, &a, &how), 0);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 6 * MIN_MS, 0, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_ACTIVE);
    CHECK_EQ(sb_appdb_alert_ack(db, a.id, "bob", "seen", T0 + 7 * MIN_MS, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_RESOLVED);
    CHECK_STR(a.acked_by, "bob");
    CHECK_EQ(a.acked_ms, T0 + 7 * MIN_MS);
    CHECK_STR(a.resolved_by, "sbems");
    CHECK_EQ(a.resolved_ms, T0 + 7 * MIN_MS);
    CHECK_STR(kinds(db, a.id, k, sizeof(k)), "raised,cleared,acknowledged,resolved");
    sb_appdb_close(db);
}

/* ---- transitions ------------------------------------------------------- */

TEST(transitions)
{
    char name[NAME_CAP], k[512];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a;
    struct sb_alert_event *ev = NULL;
    size_t n = 0;
    int64_t id, next = -1;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "r", 20.0, T0, 0, &a, NULL), 0);
    id = a.id;

    CHECK_EQ(sb_appdb_alert_assign(db, id, "carl", "ann", "please check the valve", T0 + 1, &a),
             0);
    CHECK_STR(a.assignee, "carl");
    CHECK_EQ(sb_appdb_alert_note(db, id, "carl", "valve stuck\nordered a part", T0 + 2, &a), 0);
    CHECK_EQ(sb_appdb_alert_shelve(db, id, T0 + HOUR_MS, "carl", "until the part comes", T0 + 3,
                                   &a), 0);
    CHECK_EQ(a.shelved_until_ms, T0 + HOUR_MS);
    /* shelving a shelved alert moves its end */
    CHECK_EQ(sb_appdb_alert_shelve(db, id, T0 + 2 * HOUR_MS, "carl", NULL, T0 + 4, &a), 0);
    CHECK_EQ(a.shelved_until_ms, T0 + 2 * HOUR_MS);
    CHECK_EQ(sb_appdb_alert_unshelve(db, id, "ann", T0 + 5, &a), 0);
    CHECK_EQ(a.shelved_until_ms, 0);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 1, T0 + 6, &a), 0);
    CHECK_EQ(a.escalated_level, 1);
    CHECK_EQ(sb_appdb_alert_notified(db, id, "webhook", "https://ops.example.org/hook", 1,
                                     "200", T0 + 7), 0);
    CHECK_EQ(sb_appdb_alert_notified(db, id, "email", "ops@example.org", 0,
                                     "connection refused", T0 + 8), 0);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", "on it", T0 + 9, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_ACKED);
    CHECK_STR(a.acked_by, "ann");
    CHECK_EQ(a.acked_ms, T0 + 9);
    CHECK_EQ(a.escalated_level, 1);
    CHECK_EQ(sb_appdb_alert_assign(db, id, NULL, "ann", NULL, T0 + 10, &a), 0);   /* nobody */
    CHECK_STR(a.assignee, "");
    CHECK_EQ(sb_appdb_alert_resolve(db, id, "ann", "replaced the actuator", T0 + 11, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_RESOLVED);
    CHECK_STR(a.resolved_by, "ann");
    CHECK_EQ(a.resolved_ms, T0 + 11);
    CHECK_EQ(a.cleared, 0);
    /* a resolved alert still takes notes and notification results */
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", "post-mortem in the log", T0 + 12, &a), 0);
    CHECK_EQ(sb_appdb_alert_notified(db, id, "mqtt", NULL, 1, NULL, T0 + 13), 0);

    CHECK_STR(kinds(db, id, k, sizeof(k)),
              "raised,assigned,note,shelved,shelved,unshelved,escalated,notified,notify_failed,"
              "acknowledged,assigned,resolved,note,notified");

    /* Every event: time, actor, detail. */
    CHECK_EQ(sb_appdb_alert_events(db, id, 0, 100, &ev, &n, &next), 0);
    REQUIRE(n == 14);
    CHECK_EQ(next, 0);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(ev[i].alert, id);
        CHECK_EQ(ev[i].ts_ms, T0 + (int64_t)i);
        if (i)
            CHECK(ev[i].id > ev[i - 1].id);
    }
    CHECK_STR(ev[1].actor, "ann");
    CHECK_STR(ev[1].detail, "carl: please check the valve");
    CHECK_STR(ev[2].actor, "carl");
    CHECK_STR(ev[2].detail, "valve stuck\nordered a part");
    CHECK_STR(ev[3].detail, "until 2026-03-01T01:00:00.000Z: until the part comes");
    CHECK_STR(ev[4].detail, "until 2026-03-01T02:00:00.000Z");
    CHECK_STR(ev[5].actor, "ann");
    CHECK_STR(ev[6].actor, "sbems");
    CHECK_STR(ev[6].detail, "level 1");
    CHECK_STR(ev[7].actor, "sbems");
    CHECK_STR(ev[7].detail, "webhook https://ops.example.org/hook: 200");
    CHECK_STR(ev[8].detail, "email ops@example.org: connection refused");
    CHECK_STR(ev[9].actor, "ann");
    CHECK_STR(ev[9].detail, "on it");
    CHECK_STR(ev[10].detail, "nobody");
    CHECK_STR(ev[11].actor, "ann");
    CHECK_STR(ev[11].detail, "replaced the actuator");
    CHECK_STR(ev[13].detail, "mqtt");
    free(ev);

    /* Events page by page. */
    ev = NULL;
    CHECK_EQ(sb_appdb_alert_events(db, id, 0, 5, &ev, &n, &next), 0);
    CHECK_EQ(n, 5);
    CHECK(next > 0);
    int64_t last = n == 5 ? ev[4].id : -1;
    CHECK_EQ(next, last);
    free(ev);
    ev = NULL;
    CHECK_EQ(sb_appdb_alert_events(db, id, next, 100, &ev, &n, &next), 0);
    CHECK_EQ(n, 9);
    CHECK_EQ(next, 0);
    if (n)
        CHECK(ev[0].id > last);
    free(ev);
    ev = NULL;
    CHECK_EQ(sb_appdb_alert_events(db, 9999, 0, 10, &ev, &n, &next), SB_ENOENT);
    CHECK(ev == NULL);
    CHECK_EQ(sb_appdb_alert_events(db, id, 0, 0, &ev, &n, &next), SB_EINVAL);
    sb_appdb_close(db);
}

TEST(illegal_transitions)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a, before, after;
    int64_t id, evs;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "r", 20.0, T0, 0, &a, NULL), 0);
    id = a.id;

    /* Unknown id: SB_ENOENT from every transition. */
    CHECK_EQ(sb_appdb_alert_ack(db, 9999, "ann", NULL, T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_assign(db, 9999, "ann", "ann", NULL, T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_note(db, 9999, "ann", "x", T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_shelve(db, 9999, T0 + 1, "ann", NULL, T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_unshelve(db, 9999, "ann", T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_resolve(db, 9999, "ann", NULL, T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_escalate(db, 9999, 1, T0, NULL), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_notified(db, 9999, "email", "a@b.c", 1, NULL, T0), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_get(db, 9999, &a), SB_ENOENT);

    /* Bad input. */
    CHECK_EQ(sb_appdb_alert_ack(db, id, "", NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, NULL, NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann\n", NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, 0, "ann", NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", "bad \xff utf-8", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", "overlong \xc0\xaf", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", "surrogate \xed\xa0\x80", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", "cut \xe2\x82", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", "", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", "bell \a", T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_shelve(db, id, T0, "ann", NULL, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 0, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, SB_ALERT_LEVEL_MAX + 1, T0, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_notified(db, id, "Web hook", NULL, 1, NULL, T0), SB_EINVAL);
    char big[SB_ALERT_NOTE_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", big, T0, NULL), SB_EINVAL);
    big[SB_ALERT_NOTE_MAX] = 0;   /* exactly the maximum */
    CHECK_EQ(sb_appdb_alert_note(db, id, "ann", big, T0, NULL), 0);

    /* State conflicts on an active alert. */
    CHECK_EQ(sb_appdb_alert_unshelve(db, id, "ann", T0, NULL), SB_EEXIST);   /* not shelved */
    CHECK_EQ(sb_appdb_alert_shelve(db, id, T0 + MIN_MS, "ann", NULL, T0, NULL), 0);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 1, T0 + 1, NULL), SB_EEXIST);   /* shelved */
    /* the shelving has run out at T0 + MIN_MS: nothing to unshelve */
    CHECK_EQ(sb_appdb_alert_unshelve(db, id, "ann", T0 + MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 2, T0 + MIN_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 2, T0 + MIN_MS, NULL), SB_EEXIST);   /* same level */
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 1, T0 + MIN_MS, NULL), SB_EEXIST);   /* lower */
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", NULL, T0 + MIN_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_ack(db, id, "bob", NULL, T0 + MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 3, T0 + MIN_MS, NULL), SB_EEXIST);   /* acked */
    CHECK_EQ(sb_appdb_alert_get(db, id, &a), 0);
    CHECK_STR(a.acked_by, "ann");   /* the second ack changed nothing */
    CHECK_EQ(a.escalated_level, 2);

    /* Everything but note / notified is refused on a resolved alert, and
     * leaves it and its history unchanged. */
    CHECK_EQ(sb_appdb_alert_resolve(db, id, "ann", NULL, T0 + 2 * MIN_MS, &before), 0);
    evs = raw_int(name, "SELECT count(*) FROM app_alert_events");
    CHECK_EQ(sb_appdb_alert_ack(db, id, "ann", NULL, T0 + 3 * MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_assign(db, id, "bob", "ann", NULL, T0 + 3 * MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_shelve(db, id, T0 + HOUR_MS, "ann", NULL, T0 + 3 * MIN_MS, NULL),
             SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_unshelve(db, id, "ann", T0 + 3 * MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_resolve(db, id, "bob", NULL, T0 + 3 * MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_escalate(db, id, 5, T0 + 3 * MIN_MS, NULL), SB_EEXIST);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 3 * MIN_MS, 1, NULL), SB_ENOENT);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alert_events"), evs);
    CHECK_EQ(sb_appdb_alert_get(db, id, &after), 0);
    CHECK(memcmp(&before, &after, sizeof(before)) == 0);

    /* Bad raise input. */
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", "r", 0, 1.0, NULL, T0, 0, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", "r", 1, INFINITY, NULL, T0, 0, NULL, NULL),
             SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "R", "hq", "r", 1, 1.0, NULL, T0, 0, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "", "r", 1, 1.0, NULL, T0, 0, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", "", 1, 1.0, NULL, T0, 0, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", "r", 1, 1.0, NULL, T0, -1, NULL, NULL), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", "r", 1, 1.0, NULL, -5, 0, NULL, NULL), SB_EINVAL);
    char key[SB_ALERT_KEY_MAX + 2];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = 0;
    CHECK_EQ(sb_appdb_alert_raise(db, "r", "hq", key, 1, 1.0, NULL, T0, 0, NULL, NULL), SB_EINVAL);
    sb_appdb_close(db);
}

/* ---- what the database itself enforces ----------------------------------- */

TEST(db_constraints)
{
    char name[NAME_CAP], msg[256];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a;
    struct sb_user u;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "r", 20.0, T0, 0, &a, NULL), 0);
    REQUIRE(a.id == 1);   /* the raw statements below name alert 1 */

    /* A second open alert for (rule, key), behind the API's back. */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alerts(rule, building, \"key\", severity, state, "
                            "raised_ms) VALUES('r', 'hq', 'r', 'minor', 'acknowledged', 1)",
                      msg, sizeof(msg)), RAW_CHECK);   /* acked without acked_ms */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alerts(rule, building, \"key\", severity, state, "
                            "raised_ms) VALUES('r', 'hq', 'r', 'minor', 'active', 1)",
                      msg, sizeof(msg)), RAW_UNIQUE);
    CHECK(strstr(msg, appdb_test_pg ? "app_alerts_open" : "UNIQUE") != NULL);
    /* A resolved one for the same pair is history, allowed. */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alerts(rule, building, \"key\", severity, state, "
                            "raised_ms, resolved_ms) VALUES('r', 'hq', 'r', 'minor', 'resolved', "
                            "1, 2)", NULL, 0), RAW_OK);
    /* Re-opening it while the other is open is refused too. */
    CHECK_EQ(raw_exec(name, "UPDATE app_alerts SET state = 'active', resolved_ms = NULL "
                            "WHERE state = 'resolved'", NULL, 0), RAW_UNIQUE);

    /* The state invariants. */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alerts(rule, building, \"key\", severity, state, "
                            "raised_ms) VALUES('s', 'hq', 's', 'minor', 'open', 1)", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alerts(rule, building, \"key\", severity, state, "
                            "raised_ms) VALUES('s', 'hq', 's', 'fatal', 'active', 1)", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "UPDATE app_alerts SET state = 'resolved' WHERE state = 'active'",
                      NULL, 0), RAW_CHECK);   /* resolved without resolved_ms */
    CHECK_EQ(raw_exec(name, "UPDATE app_alerts SET state = 'acknowledged', acked_ms = 5, "
                            "cleared = 1, cleared_ms = 5 WHERE state = 'active'", NULL, 0),
             RAW_CHECK);   /* acknowledged and cleared */
    CHECK_EQ(raw_exec(name, "UPDATE app_alerts SET count = 0", NULL, 0), RAW_CHECK);

    /* History: no rewrites; an event for no alert is refused (foreign key). */
    CHECK_EQ(raw_exec(name, "UPDATE app_alert_events SET actor = 'mallory'", msg, sizeof(msg)),
             RAW_RAISE);
    CHECK(strstr(msg, "append-only") != NULL);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_events(alert, ts_ms, kind, actor) "
                            "VALUES(999, 1, 'note', 'x')", NULL, 0), RAW_FK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_events(alert, ts_ms, kind, actor) "
                            "VALUES(1, 1, 'deleted', 'x')", NULL, 0), RAW_CHECK);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alert_events WHERE actor = 'sbems'"), 1);

    /* Subscriptions: channel, times, secret only for webhooks, level. */
    mkuser(&u, "ann", SB_ROLE_OPERATOR);
    REQUIRE(sb_appdb_user_create(db, &u) == 0);
    REQUIRE(u.id == 1);   /* named as user 1 below */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target) "
                            "VALUES(1, 'sms', '+4412345')", NULL, 0), RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target, quiet_start, "
                            "quiet_end) VALUES(1, 'email', 'a@b.c', '22:00', NULL)", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target, quiet_start, "
                            "quiet_end) VALUES(1, 'email', 'a@b.c', '10pm', '06:00')", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target, quiet_start, "
                            "quiet_end) VALUES(1, 'email', 'a@b.c', '22:00x', '06:00')", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target, secret) "
                            "VALUES(1, 'email', 'a@b.c', 'k')", NULL, 0), RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target) "
                            "VALUES(2, 'email', 'a@b.c')", NULL, 0), RAW_FK);   /* no such user */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_subs(user_id, channel, target, quiet_start, "
                            "quiet_end) VALUES(1, 'email', 'a@b.c', '22:00', '06:30')", NULL, 0),
             RAW_OK);
    CHECK_EQ(raw_exec(name, "UPDATE app_alert_subs SET level = 4", NULL, 0), RAW_CHECK);
    CHECK_EQ(raw_exec(name, "UPDATE app_alert_subs SET level = 3", NULL, 0), RAW_OK);

    /* Rules: the JSON must be an object. */
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_rules(id, building, json, created_ms, "
                            "updated_ms) VALUES('x', 'hq', 'not json', 1, 1)", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_rules(id, building, json, created_ms, "
                            "updated_ms) VALUES('x', 'hq', '[1, 2]', 1, 1)", NULL, 0),
             RAW_CHECK);
    CHECK_EQ(raw_exec(name, "INSERT INTO app_alert_rules(id, building, json, created_ms, "
                            "updated_ms) VALUES('x', 'hq', '{\"a\": 1}', 1, 1)", NULL, 0),
             RAW_OK);
    sb_appdb_close(db);
}

/* A transition whose event cannot be written leaves the alert as it was:
 * the UPDATE and the INSERT are one transaction.  A trigger made through a
 * raw connection makes the event insert fail. */
static const char fail_ev_lite[] =
    "CREATE TRIGGER fail_ev BEFORE INSERT ON app_alert_events "
    "WHEN NEW.kind IN ('assigned', 're-raised', 'resolved', 'raised') "
    "BEGIN SELECT RAISE(ABORT, 'injected'); END;";
static const char fail_ev_pg[] =
    "CREATE FUNCTION fail_ev() RETURNS trigger LANGUAGE plpgsql AS "
    "$$BEGIN RAISE EXCEPTION 'injected'; END$$;"
    "CREATE TRIGGER fail_ev BEFORE INSERT ON app_alert_events FOR EACH ROW "
    "WHEN (NEW.kind IN ('assigned', 're-raised', 'resolved', 'raised')) "
    "EXECUTE FUNCTION fail_ev();";

TEST(atomic)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert a;
    int how = 0;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "r", 20.0, T0, HOUR_MS, &a, NULL), 0);
    CHECK_EQ(raw_exec(name, appdb_test_pg ? fail_ev_pg : fail_ev_lite, NULL, 0), RAW_OK);
    /* The schema changed under the prepared statements: SQLite re-prepares,
     * PostgreSQL re-plans. */
    CHECK_EQ(sb_appdb_alert_assign(db, a.id, "bob", "ann", NULL, T0 + 1, NULL), SB_ESTORE);
    CHECK_EQ(raise1(db, "r", 20.0, T0 + 2, HOUR_MS, NULL, &how), SB_ESTORE);
    CHECK_EQ(raise1(db, "new", 20.0, T0 + 2, HOUR_MS, NULL, &how), SB_ESTORE);
    /* clear with auto-resolve: "cleared" is written, "resolved" fails (on
     * PostgreSQL the failure aborts the transaction: it must roll back) */
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 3, 1, NULL), SB_ESTORE);
    CHECK_EQ(sb_appdb_alert_get(db, a.id, &a), 0);
    CHECK_STR(a.assignee, "");
    CHECK_EQ(a.count, 1);
    CHECK_EQ(a.cleared, 0);
    CHECK_EQ(a.state, SB_ALERT_ACTIVE);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alerts"), 1);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alert_events"), 1);
    /* the connection is usable afterwards (no transaction left open) */
    CHECK_EQ(sb_appdb_alert_note(db, a.id, "ann", "still here", T0 + 4, NULL), 0);
    CHECK_EQ(raw_exec(name, appdb_test_pg ? "DROP TRIGGER fail_ev ON app_alert_events"
                                          : "DROP TRIGGER fail_ev", NULL, 0), RAW_OK);
    CHECK_EQ(sb_appdb_alert_clear(db, "r", "r", T0 + 5, 1, &a), 0);
    CHECK_EQ(a.state, SB_ALERT_RESOLVED);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alert_events"), 4);
    sb_appdb_close(db);
}

/* ---- listing ----------------------------------------------------------- */

TEST(list_filters_paging)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert_page pg = { 0 };
    struct sb_alert a;
    const char *hq[] = { "hq" }, *lab[] = { "lab" }, *both[] = { "hq", "lab" },
               *bad[] = { "bad slug" };
    struct sb_alert_filter f;
    int64_t ids[12];

    REQUIRE(db);
    /* 12 alerts: even i in hq, odd in lab; severities cycle; times T0 + i min. */
    for (int i = 0; i < 12; i++) {
        char rule[24];
        snprintf(rule, sizeof(rule), "rule-%02d", i);
        CHECK_EQ(sb_appdb_alert_raise(db, rule, i % 2 ? "lab" : "hq", rule, 1 + i % 4, i, NULL,
                                      T0 + i * MIN_MS, 0, &a, NULL), 0);
        ids[i] = a.id;
    }
    CHECK_EQ(sb_appdb_alert_ack(db, ids[2], "ann", NULL, T0 + HOUR_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_resolve(db, ids[4], "ann", NULL, T0 + HOUR_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_assign(db, ids[6], "carl", "ann", NULL, T0 + HOUR_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_assign(db, ids[7], "carl", "ann", NULL, T0 + HOUR_MS, NULL), 0);

    /* Everything, newest first, 5 per page. */
    memset(&f, 0, sizeof(f));
    f.scope.all = 1;
    f.limit = 5;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    REQUIRE(pg.n == 5);
    CHECK_EQ(pg.v[0].id, ids[11]);
    CHECK_EQ(pg.v[4].id, ids[7]);
    CHECK_EQ(pg.next_before_id, ids[7]);
    f.before_id = pg.next_before_id;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    REQUIRE(pg.n == 5);
    CHECK_EQ(pg.v[0].id, ids[6]);
    f.before_id = pg.next_before_id;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 2);
    CHECK_EQ(pg.next_before_id, 0);
    /* exactly a full last page: no next cursor */
    f.before_id = 0;
    f.limit = 12;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 12);
    CHECK_EQ(pg.next_before_id, 0);

    /* Building scope (the caller's grants). */
    f.limit = 100;
    f.scope = (struct sb_alert_scope){ 0, hq, 1 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 6);
    for (size_t i = 0; i < pg.n; i++)
        CHECK_STR(pg.v[i].building, "hq");
    f.scope = (struct sb_alert_scope){ 0, lab, 1 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 6);
    f.scope = (struct sb_alert_scope){ 0, both, 2 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 12);
    f.scope = (struct sb_alert_scope){ 0, NULL, 0 };   /* no grants: nothing */
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 0);
    f.scope = (struct sb_alert_scope){ 0, bad, 1 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), SB_EINVAL);

    /* States: open (default view) leaves the resolved one out. */
    f.scope = (struct sb_alert_scope){ .all = 1 };
    f.states = SB_ALERT_OPEN;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 11);
    f.states = SB_ALERT_BIT(SB_ALERT_ACKED);
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].id, ids[2]);
    f.states = SB_ALERT_BIT(SB_ALERT_RESOLVED);
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 1);
    f.states = SB_ALERT_BIT(7);
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), SB_EINVAL);
    f.states = 1;   /* bit 0 is no state */
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), SB_EINVAL);

    /* Severity, rule, assignee, since, combined with scope. */
    f.states = 0;
    f.severities = SB_ALERT_BIT(SB_ALERT_SEV_CRITICAL);   /* i = 0, 4, 8 */
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 3);
    f.severities |= SB_ALERT_BIT(SB_ALERT_SEV_MAJOR);      /* + 1, 5, 9 */
    f.scope = (struct sb_alert_scope){ 0, lab, 1 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 3);
    f.severities = 0;
    f.scope = (struct sb_alert_scope){ .all = 1 };
    f.rule = "rule-03";
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].id, ids[3]);
    f.rule = NULL;
    f.assignee = "carl";
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 2);
    f.scope = (struct sb_alert_scope){ 0, hq, 1 };
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 1);
    f.assignee = NULL;
    f.scope = (struct sb_alert_scope){ .all = 1 };
    f.since_ms = T0 + 9 * MIN_MS;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), 0);
    CHECK_EQ(pg.n, 3);
    f.since_ms = 0;

    /* Bad filters. */
    f.limit = 0;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), SB_EINVAL);
    f.limit = SB_ALERT_PAGE_MAX + 1;
    CHECK_EQ(sb_appdb_alert_list(db, &f, &pg), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_list(db, NULL, &pg), SB_EINVAL);
    CHECK_EQ(pg.n, 0);
    sb_alert_page_release(&pg);
    sb_alert_page_release(&pg);   /* safe twice */
    sb_appdb_close(db);
}

TEST(escalation_due)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert_page pg = { 0 };
    struct sb_alert a, b, c, d;
    const int64_t TO = 15 * MIN_MS;

    REQUIRE(db);
    CHECK_EQ(raise1(db, "a", 1, T0, 0, &a, NULL), 0);
    CHECK_EQ(raise1(db, "b", 1, T0 + 5 * MIN_MS, 0, &b, NULL), 0);
    CHECK_EQ(raise1(db, "c", 1, T0, 0, &c, NULL), 0);
    CHECK_EQ(raise1(db, "d", 1, T0, 0, &d, NULL), 0);
    CHECK_EQ(sb_appdb_alert_ack(db, c.id, "ann", NULL, T0 + MIN_MS, NULL), 0);
    CHECK_EQ(sb_appdb_alert_shelve(db, d.id, T0 + HOUR_MS, "ann", NULL, T0 + MIN_MS, NULL), 0);

    /* Before the timeout: nothing. */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + TO - 1, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 0);
    /* a is due (b is younger, c acknowledged, d shelved). */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + TO, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].id, a.id);
    CHECK_EQ(sb_appdb_alert_escalate(db, a.id, 1, T0 + TO, NULL), 0);
    /* escalated to 1: due again only after 2 x the timeout; b is due now */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 20 * MIN_MS, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].id, b.id);
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 2 * TO, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 2);
    if (pg.n == 2) {
        CHECK_EQ(pg.v[0].id, a.id);   /* oldest first */
        CHECK_EQ(pg.v[1].id, b.id);
    }
    /* limit */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 2 * TO, TO, 3, 1, &pg), 0);
    CHECK_EQ(pg.n, 1);
    /* at max_level: no more (a is at 1; d still shelved) */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 3 * TO, TO, 1, 100, &pg), 0);
    CHECK_EQ(pg.n, 1);   /* only b (level 0) */
    if (pg.n)
        CHECK_EQ(pg.v[0].id, b.id);
    /* the shelving ends: d is due */
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + HOUR_MS, TO, 1, 100, &pg), 0);
    CHECK_EQ(pg.n, 2);
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0, 0, 3, 100, &pg), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0, TO, 0, 100, &pg), SB_EINVAL);
    sb_alert_page_release(&pg);
    sb_appdb_close(db);
}

/* Info asks nobody to act: never due, however old; critical is. */
TEST(escalation_skips_info)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert_page pg = { 0 };
    struct sb_alert i, c;
    const int64_t TO = 15 * MIN_MS;

    REQUIRE(db);
    CHECK_EQ(sb_appdb_alert_raise(db, "i", "hq", "i", SB_ALERT_SEV_INFO, 1, "fyi", T0, 0, &i, NULL), 0);
    CHECK_EQ(sb_appdb_alert_raise(db, "c", "hq", "c", SB_ALERT_SEV_CRITICAL, 1, "fire", T0, 0, &c,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 10 * TO, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].id, c.id);
    /* a minor one is due too: only info is left out */
    CHECK_EQ(sb_appdb_alert_raise(db, "m", "hq", "m", SB_ALERT_SEV_MINOR, 1, "meh", T0, 0, NULL,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_escalation_due(db, T0 + 10 * TO, TO, 3, 100, &pg), 0);
    CHECK_EQ(pg.n, 2);
    sb_alert_page_release(&pg);
    sb_appdb_close(db);
}

TEST(summary)
{
    char name[NAME_CAP];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_alert_summary s;
    struct sb_alert a;

    REQUIRE(db);
    CHECK_EQ(sb_appdb_alert_raise(db, "a", "hq", "a", SB_ALERT_SEV_CRITICAL, 1, NULL, T0, 0, &a,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_raise(db, "b", "hq", "b", SB_ALERT_SEV_MAJOR, 1, NULL, T0, 0, NULL,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_raise(db, "c", "hq", "c", SB_ALERT_SEV_MINOR, 1, NULL, T0, 0, NULL,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_raise(db, "d", "hq", "d", SB_ALERT_SEV_INFO, 1, NULL, T0, 0, NULL,
                                  NULL), 0);
    CHECK_EQ(sb_appdb_alert_raise(db, "e", "lab", "e", SB_ALERT_SEV_CRITICAL, 1, NULL, T0, 0,
                                  NULL, NULL), 0);
    CHECK_EQ(sb_appdb_alert_ack(db, a.id, "ann", NULL, T0, NULL), 0);
    CHECK_EQ(sb_appdb_alert_clear(db, "d", "d", T0, 1, NULL), 0);   /* resolved */
    CHECK_EQ(sb_appdb_alert_summary(db, "hq", &s), 0);
    CHECK_EQ(s.open, 3);
    CHECK_EQ(s.critical, 1);
    CHECK_EQ(s.major, 1);
    CHECK_EQ(s.minor, 1);
    CHECK_EQ(s.info, 0);
    CHECK_EQ(s.unacknowledged, 2);
    CHECK_EQ(sb_appdb_alert_summary(db, "empty", &s), 0);
    CHECK_EQ(s.open, 0);
    CHECK_EQ(sb_appdb_alert_summary(db, "", &s), SB_EINVAL);
    sb_appdb_close(db);
}

/* ---- subscriptions ----------------------------------------------------- */

TEST(subscriptions)
{
    char name[NAME_CAP], secret[SB_ALERT_SECRET_MAX + 1];
    struct sb_appdb *db = fresh(name, sizeof(name));
    struct sb_user ann, bob, eve;
    struct sb_alert_sub s, *v = NULL;
    size_t n = 0;
    int64_t hook;

    REQUIRE(db);
    mkuser(&ann, "ann", SB_ROLE_OPERATOR);
    mkuser(&bob, "bob", SB_ROLE_MANAGER);
    mkuser(&eve, "eve", SB_ROLE_VIEWER);
    REQUIRE(sb_appdb_user_create(db, &ann) == 0);
    REQUIRE(sb_appdb_user_create(db, &bob) == 0);
    REQUIRE(sb_appdb_user_create(db, &eve) == 0);

    /* ann: a signed webhook for hq at major+, with quiet hours */
    mksub(&s, ann.id, "webhook", "https://ops.example.org/hook");
    snprintf(s.building, sizeof(s.building), "hq");
    s.min_severity = SB_ALERT_SEV_MAJOR;
    snprintf(s.quiet_start, sizeof(s.quiet_start), "22:00");
    snprintf(s.quiet_end, sizeof(s.quiet_end), "06:30");
    snprintf(s.secret, sizeof(s.secret), "0123456789abcdef0123456789abcdef");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    CHECK(s.id > 0);
    hook = s.id;
    /* ann: every alert she may see, by email */
    mksub(&s, ann.id, "email", "ann@example.org");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    /* bob: mqtt for lab, critical only */
    mksub(&s, bob.id, "mqtt", "");
    snprintf(s.building, sizeof(s.building), "lab");
    s.min_severity = SB_ALERT_SEV_CRITICAL;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    /* eve: disabled subscription; then eve herself disabled with another */
    mksub(&s, eve.id, "email", "eve@example.org");
    s.enabled = 0;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);

    /* List by user: no secret, has_secret instead; username filled. */
    CHECK_EQ(sb_appdb_alert_sub_list(db, ann.id, &v, &n), 0);
    REQUIRE(n == 2);
    CHECK_EQ(v[0].id, hook);
    CHECK_STR(v[0].username, "ann");
    CHECK_STR(v[0].channel, "webhook");
    CHECK_STR(v[0].target, "https://ops.example.org/hook");
    CHECK_STR(v[0].building, "hq");
    CHECK_EQ(v[0].min_severity, SB_ALERT_SEV_MAJOR);
    CHECK_STR(v[0].quiet_start, "22:00");
    CHECK_STR(v[0].quiet_end, "06:30");
    CHECK_EQ(v[0].has_secret, 1);
    CHECK_STR(v[0].secret, "");
    CHECK_EQ(v[0].enabled, 1);
    CHECK_EQ(v[1].has_secret, 0);
    CHECK_STR(v[1].building, "");
    CHECK_EQ(v[1].min_severity, 0);
    CHECK_STR(v[1].quiet_start, "");
    for (size_t i = 0; i < n; i++)
        CHECK(memmem(&v[i], sizeof(v[i]), "0123456789abcdef", 16) == NULL);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_list(db, 0, &v, &n), 0);   /* every user */
    CHECK_EQ(n, 4);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_list(db, 9999, &v, &n), 0);
    CHECK_EQ(n, 0);
    CHECK(v == NULL);

    /* The secret, for the notifier only. */
    CHECK_EQ(sb_appdb_alert_sub_secret(db, hook, secret, sizeof(secret)), 0);
    CHECK_STR(secret, "0123456789abcdef0123456789abcdef");
    CHECK_EQ(sb_appdb_alert_sub_secret(db, hook, secret, 32), SB_ENOSPC);
    CHECK_EQ(sb_appdb_alert_sub_secret(db, hook + 1, secret, sizeof(secret)), 0);
    CHECK_STR(secret, "");
    CHECK_EQ(sb_appdb_alert_sub_secret(db, 9999, secret, sizeof(secret)), SB_ENOENT);

    /* Who hears about hq at major: ann twice (hook + email). */
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_MAJOR, 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(v[i].user_id, ann.id);
        CHECK_STR(v[i].secret, "");
    }
    free(v);
    v = NULL;
    /* hq at minor: only the email (the hook wants major and up) */
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_MINOR, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    if (n)
        CHECK_STR(v[0].channel, "email");
    free(v);
    v = NULL;
    /* lab at critical: ann's email and bob's mqtt; at major only ann's */
    CHECK_EQ(sb_appdb_alert_sub_match(db, "lab", SB_ALERT_SEV_CRITICAL, 0, &v, &n), 0);
    CHECK_EQ(n, 2);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "lab", SB_ALERT_SEV_MAJOR, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    free(v);
    v = NULL;
    /* a disabled user hears nothing */
    mksub(&s, eve.id, "email", "eve@example.org");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_INFO, 0, &v, &n), 0);
    CHECK_EQ(n, 2);   /* ann's email + eve's new one */
    free(v);
    v = NULL;
    eve.disabled = 1;
    CHECK_EQ(sb_appdb_user_update(db, &eve), 0);
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_INFO, 0, &v, &n), 0);
    CHECK_EQ(n, 1);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", 0, 0, &v, &n), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_INFO, -1, &v, &n), SB_EINVAL);
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_INFO, SB_ALERT_SUB_LEVEL_MAX + 1, &v,
                                      &n), SB_EINVAL);

    /* Levels: ann's level-1 email for hq hears level 1 only, nothing at
     * raise (level 0) or at level 2. */
    mksub(&s, ann.id, "email", "ann-escalation@example.org");
    snprintf(s.building, sizeof(s.building), "hq");
    s.level = 1;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), 0);
    int64_t lvl1 = s.id;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_INFO, 0, &v, &n), 0);
    CHECK_EQ(n, 1);                                 /* still only ann's level-0 email */
    for (size_t i = 0; i < n; i++)
        CHECK(v[i].id != lvl1);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_CRITICAL, 1, &v, &n), 0);
    REQUIRE(n == 1);
    CHECK_EQ(v[0].id, lvl1);
    CHECK_EQ(v[0].level, 1);
    free(v);
    v = NULL;
    CHECK_EQ(sb_appdb_alert_sub_match(db, "hq", SB_ALERT_SEV_CRITICAL, 2, &v, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(sb_appdb_alert_sub_match(db, "lab", SB_ALERT_SEV_CRITICAL, 1, &v, &n), 0);
    CHECK_EQ(n, 0);                                 /* it is for hq only */
    CHECK_EQ(sb_appdb_alert_sub_delete(db, lvl1, ann.id), 0);

    /* Refused input. */
    mksub(&s, ann.id, "sms", "+441234");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "webhook", "ftp://x.org/");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "webhook", "https://x.org/a b");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "not-an-address");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b@c");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "mqtt", "alerts/#");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b.c");
    snprintf(s.secret, sizeof(s.secret), "0123456789abcdef");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);   /* secret on email */
    mksub(&s, ann.id, "webhook", "https://x.org/");
    snprintf(s.secret, sizeof(s.secret), "short");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b.c");
    snprintf(s.quiet_start, sizeof(s.quiet_start), "24:00");
    snprintf(s.quiet_end, sizeof(s.quiet_end), "06:00");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    snprintf(s.quiet_start, sizeof(s.quiet_start), "22:00");
    s.quiet_end[0] = 0;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b.c");
    s.min_severity = 5;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b.c");
    snprintf(s.building, sizeof(s.building), "H Q");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, ann.id, "email", "a@b.c");
    s.level = SB_ALERT_SUB_LEVEL_MAX + 1;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    s.level = -1;
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_EINVAL);
    mksub(&s, 9999, "email", "a@b.c");
    CHECK_EQ(sb_appdb_alert_sub_add(db, &s), SB_ENOENT);   /* unknown user */

    /* At most SB_ALERT_SUBS_MAX per user. */
    int added = 0, rc = 0;
    for (int i = 0; i < SB_ALERT_SUBS_MAX + 5 && rc == 0; i++) {
        mksub(&s, bob.id, "email", "bob@example.org");
        if ((rc = sb_appdb_alert_sub_add(db, &s)) == 0)
            added++;
    }
    CHECK_EQ(rc, SB_ERANGE);
    CHECK_EQ(added, SB_ALERT_SUBS_MAX - 1);   /* bob had one */

    /* Delete: only the owner (or 0 = admin). */
    CHECK_EQ(sb_appdb_alert_sub_delete(db, hook, bob.id), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_sub_delete(db, hook, ann.id), 0);
    CHECK_EQ(sb_appdb_alert_sub_delete(db, hook, 0), SB_ENOENT);
    CHECK_EQ(sb_appdb_alert_sub_list(db, ann.id, &v, &n), 0);
    CHECK_EQ(n, 1);
    free(v);
    v = NULL;
    /* Deleting a user (no API yet) takes the subscriptions along. */
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM app_alert_subs WHERE user_id = %lld",
             (long long)ann.id);
    CHECK_EQ(raw_int(name, sql), 1);
    CHECK_EQ(raw_exec(name, "DELETE FROM app_users WHERE username = 'ann'", NULL, 0), RAW_OK);
    CHECK_EQ(raw_int(name, sql), 0);
    sb_appdb_close(db);
}

/* ---- concurrency ------------------------------------------------------- */

#define RACE_THREADS 4
#define RACE_RAISES 25

struct racer {
    struct sb_appdb *db;           /* shared by two threads each */
    int fails;                     /* raises that did not return 0 */
    int news;                      /* raises that opened the alert */
};

static void *race(void *arg)
{
    struct racer *r = arg;
    int how;

    for (int i = 0; i < RACE_RAISES; i++) {
        if (raise1(r->db, "race", i, T0 + i, 0, NULL, &how) != 0)
            r->fails++;
        else if (how == SB_ALERT_RAISED_NEW)
            r->news++;
    }
    return NULL;
}

/* Four threads on two connections (as two processes, or on PostgreSQL two
 * nodes, would be) raise the same (rule, key): one alert, every raise
 * counted, exactly one "new".  Only the write lock of sb_sql_begin (SQLite's
 * BEGIN IMMEDIATE, PostgreSQL's advisory lock) keeps the two connections'
 * read-then-insert from both finding no open alert. */
TEST(concurrent_raise)
{
    char name[NAME_CAP];
    struct sb_appdb *db1 = fresh(name, sizeof(name)), *db2 = db1 ? reopen(name) : NULL;
    struct racer r[RACE_THREADS];
    pthread_t th[RACE_THREADS];
    struct sb_alert_page pg = { 0 };
    struct sb_alert_filter f = { .scope.all = 1, .limit = 10 };
    int fails = 0, news = 0, started = 0;

    REQUIRE(db1 && db2);
    for (int i = 0; i < RACE_THREADS; i++) {
        r[i] = (struct racer){ i % 2 ? db2 : db1, 0, 0 };
        if (pthread_create(&th[i], NULL, race, &r[i]) == 0)
            started++;
    }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        fails += r[i].fails;
        news += r[i].news;
    }
    CHECK_EQ(started, RACE_THREADS);
    CHECK_EQ(fails, 0);
    CHECK_EQ(news, 1);
    CHECK_EQ(sb_appdb_alert_list(db1, &f, &pg), 0);
    CHECK_EQ(pg.n, 1);
    if (pg.n)
        CHECK_EQ(pg.v[0].count, RACE_THREADS * RACE_RAISES);
    sb_alert_page_release(&pg);
    CHECK_EQ(raw_int(name, "SELECT count(*) FROM app_alert_events"), RACE_THREADS * RACE_RAISES);
    sb_appdb_close(db2);
    sb_appdb_close(db1);
}

/* A backend without the alert methods answers SB_ENOTSUP. */
TEST(enotsup)
{
    static const struct sb_appdb_ops none = { .abi = SB_APPDB_ABI, .name = "none" };
    struct sb_appdb db = { &none, NULL };
    struct sb_alert a;
    struct sb_alert_page pg = { 0 };
    struct sb_alert_filter f = { .scope.all = 1, .limit = 1 };
    struct sb_alert_sub *v = NULL;
    size_t n;

    CHECK_EQ(sb_appdb_alert_raise(&db, "r", "hq", "r", 1, 1.0, NULL, T0, 0, &a, NULL),
             SB_ENOTSUP);
    CHECK_EQ(sb_appdb_alert_ack(&db, 1, "ann", NULL, T0, &a), SB_ENOTSUP);
    CHECK_EQ(sb_appdb_alert_list(&db, &f, &pg), SB_ENOTSUP);
    CHECK_EQ(sb_appdb_alert_rule_delete(&db, "r"), SB_ENOTSUP);
    CHECK_EQ(sb_appdb_alert_sub_list(&db, 1, &v, &n), SB_ENOTSUP);
}

static void rmtree(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", root);
}

/* Every test of a database, on the current pass's backend. */
static void behaviour(void)
{
    RUN(rules);
    RUN(raise_dedupe);
    RUN(clear_and_flap);
    RUN(auto_resolve);
    RUN(transitions);
    RUN(illegal_transitions);
    RUN(db_constraints);
    RUN(atomic);
    RUN(list_filters_paging);
    RUN(escalation_due);
    RUN(escalation_skips_info);
    RUN(summary);
    RUN(subscriptions);
    RUN(concurrent_raise);
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
    RUN(names);
    RUN(enotsup);
    RUN(migrate_from_v2);
    RUN(migrate_from_v4);
    for (int pass = 0; pass < (pg ? 2 : 1); pass++) {
        appdb_test_pg = pass ? pg : NULL;
        printf("# backend %s\n", appdb_test_pg ? "postgres" : "sqlite");
        behaviour();
    }
    appdb_test_pg = NULL;
    if (!pg)
        printf("# PostgreSQL backend not run: SBEMS_TEST_PG_URL unset (tests/pg/pg-run sets it)\n");
    rmtree();
    TAP_END();
}

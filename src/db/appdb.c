/*
 * appdb.c - application data (see appdb.h): role names, the handle, and the
 * backend on SQLite or PostgreSQL: one code path through db/sql.h, the
 * engines differing in schema and in a few statements' text (q_pg below;
 * docs/internals/appdb-postgres.md).
 *
 * Layout (schema version in app_schema; every table named app_* so it can
 * share the time-series store's database, file or PostgreSQL):
 *
 *   app_users           one row per account; username unique in any case
 *                       (SQLite COLLATE NOCASE, PostgreSQL lower() index)
 *   app_grants          (user_id, kind, slug): sites/buildings a user may act on
 *   app_refresh_tokens  one row per refresh token ever issued, by SHA-256 hex;
 *                       rows of one login chain share a family id
 *   app_audit           append-only; triggers refuse UPDATE and DELETE
 *   app_commands        commands sbems holds at a priority (v2)
 *   app_alert_*         alert rules, alerts, their events, subscriptions (v3,
 *                       appdb_alerts.c, docs/internals/alerts-store.md);
 *                       subscription escalation levels (v5)
 *
 * One connection (SQLite: SQLITE_OPEN_NOMUTEX) serialised by our own mutex:
 * every method locks it for the whole call, so a multi-statement
 * transaction is never interleaved with another thread's statements.
 * Writes that read first run in sb_sql_begin's transaction: SQLite's BEGIN
 * IMMEDIATE (in WAL mode a deferred transaction that upgrades from read to
 * write gets SQLITE_BUSY_SNAPSHOT without waiting,
 * https://www.sqlite.org/wal.html#sometimes_queries_return_sqlite_busy_in_wal_mode,
 * while IMMEDIATE waits for the busy timeout like single statements do);
 * PostgreSQL's BEGIN plus the application tables' advisory lock, so two
 * nodes never both rotate one refresh token.
 *
 * Every statement is constant text prepared once and reset after each use;
 * values are always bound.  The audit query has one statement per
 * combination of filters present (built from constant fragments on first
 * use) so the planner can pick the index that fits.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "db/appdb.h"
#include "db/appdb_int.h"
#include "db/sql.h"

#define MOD "appdb"
#define SCHEMA_VERSION 5
#define BUSY_TIMEOUT_MS 10000

/* ---- roles ------------------------------------------------------------- */

static const struct {
    uint32_t bit;          /* SB_ROLE_* */
    const char *name;      /* canonical name first, aliases after */
} role_names[] = {
    { SB_ROLE_ADMIN, "admin" },
    { SB_ROLE_MANAGER, "manager" },
    { SB_ROLE_OPERATOR, "operator" },
    { SB_ROLE_VIEWER, "viewer" },
    { SB_ROLE_MANAGER, "facility_manager" },
};
#define NCANON 4   /* entries of role_names that are canonical names */

const char *sb_role_name(uint32_t bit)
{
    for (size_t i = 0; i < NCANON; i++)
        if (role_names[i].bit == bit)
            return role_names[i].name;
    return NULL;
}

int sb_role_parse(const char *name)
{
    if (!name)
        return SB_EINVAL;
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcasecmp(name, role_names[i].name) == 0)
            return (int)role_names[i].bit;
    return SB_EINVAL;
}

/* ---- handle and pages -------------------------------------------------- */

void sb_appdb_close(struct sb_appdb *db)
{
    if (!db)
        return;
    if (db->ops && db->ops->close)
        db->ops->close(db->impl);
    free(db);
}

void sb_audit_page_release(struct sb_audit_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->mem_ && i < p->n; i++)
        free(p->mem_[i]);
    free(p->mem_);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

/* ---- input checks ------------------------------------------------------ */

/* s holds a NUL within cap bytes, and no control character. */
static int text_ok(const char *s, size_t cap)
{
    if (!s || !memchr(s, 0, cap))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* 1..max bytes of printable ASCII without space (addresses, encoded hashes). */
static int token_ok(const char *s, size_t max)
{
    size_t n;

    if (!s || (n = strnlen(s, max + 1)) == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

/* [A-Za-z0-9._@+-]{1,64}: ASCII only, so COLLATE NOCASE (which folds ASCII
 * letters only) really makes names unique regardless of case. */
static int username_ok(const char *s)
{
    size_t n;

    if (!s || (n = strnlen(s, SB_USERNAME_MAX + 1)) == 0 || n > SB_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

/* min..max lowercase hex digits. */
static int hex_ok(const char *s, size_t min, size_t max)
{
    size_t n;

    if (!s || (n = strnlen(s, max + 1)) < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* The model's slug rule (model.h): [a-z0-9][a-z0-9_.-]{0,63}. */
static int slug_ok(const char *s, size_t cap)
{
    if (!memchr(s, 0, cap) || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return 0;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
              *s == '-'))
            return 0;
    return 1;
}

static int user_ok(const struct sb_user *u, int creating)
{
    if (!u || !text_ok(u->email, sizeof(u->email)) ||
        !text_ok(u->display_name, sizeof(u->display_name)) || (u->roles & ~(uint32_t)SB_ROLE_ALL))
        return 0;
    if (!creating)
        return u->id > 0;
    return username_ok(u->username) && memchr(u->pw_hash, 0, sizeof(u->pw_hash)) &&
           (u->pw_hash[0] == 0 || token_ok(u->pw_hash, SB_PWHASH_MAX));
}

static int grant_ok(const struct sb_grant *g)
{
    return memchr(g->kind, 0, sizeof(g->kind)) &&
           (strcmp(g->kind, "site") == 0 || strcmp(g->kind, "building") == 0) &&
           slug_ok(g->slug, sizeof(g->slug));
}

/* A User-Agent is peer input shown later in the UI: keep printable ASCII
 * (RFC 9110 §5.5 asks senders for US-ASCII), '?' for anything else, cut to
 * SB_RT_UA_MAX bytes.  Returns ua or NULL. */
static const char *ua_clean(const char *ua, char *buf)
{
    size_t i;

    if (!ua)
        return NULL;
    for (i = 0; ua[i] && i < SB_RT_UA_MAX; i++)
        buf[i] = (ua[i] >= 0x20 && ua[i] < 0x7f) ? ua[i] : '?';
    buf[i] = 0;
    return buf;
}

/* ---- the SQLite backend ------------------------------------------------ */

enum qid {
    Q_USER_INS, Q_USER_GET, Q_USER_BYNAME, Q_USER_UPD, Q_USER_PW, Q_USER_LOGIN,
    Q_USER_LIST, Q_USER_COUNT, Q_USER_EXISTS,
    Q_GRANT_DEL, Q_GRANT_INS, Q_GRANT_GET,
    Q_RT_INS, Q_RT_FIND, Q_RT_USE, Q_RT_REV_FAM, Q_RT_REV_USER, Q_RT_PURGE, Q_RT_FAM,
    Q_AUD_INS,
    Q_CMD_REL, Q_CMD_INS, Q_CMD_ACTIVE,
    Q_COUNT
};

#define USER_SEL "SELECT id, username, email, display_name, pw_hash, roles, disabled, " \
                 "must_change_pw, created_ms, updated_ms, pw_changed_ms, last_login_ms " \
                 "FROM app_users "
#define AUD_COLS "id, ts_ms, actor_id, actor, ip, action, target, \"before\", \"after\", " \
                 "result, detail"

static const char *const q_sql[Q_COUNT] = {
    [Q_USER_INS] = "INSERT INTO app_users(username, email, display_name, pw_hash, roles, "
                   "disabled, must_change_pw, created_ms, updated_ms, pw_changed_ms, "
                   "last_login_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [Q_USER_GET] = USER_SEL "WHERE id = ?1",
    [Q_USER_BYNAME] = USER_SEL "WHERE username = ?1",   /* the column's NOCASE applies */
    [Q_USER_UPD] = "UPDATE app_users SET email = ?2, display_name = ?3, roles = ?4, "
                   "disabled = ?5, must_change_pw = ?6, updated_ms = ?7 WHERE id = ?1",
    [Q_USER_PW] = "UPDATE app_users SET pw_hash = ?2, must_change_pw = ?3, pw_changed_ms = ?4, "
                  "updated_ms = ?4 WHERE id = ?1",
    [Q_USER_LOGIN] = "UPDATE app_users SET last_login_ms = ?2 WHERE id = ?1",
    /* Listing never reads the hash out: a page of users goes to the UI. */
    [Q_USER_LIST] = "SELECT id, username, email, display_name, '', roles, disabled, "
                    "must_change_pw, created_ms, updated_ms, pw_changed_ms, last_login_ms "
                    "FROM app_users WHERE id > ?1 ORDER BY id LIMIT ?2",
    [Q_USER_COUNT] = "SELECT count(*) FROM app_users",
    [Q_USER_EXISTS] = "SELECT 1 FROM app_users WHERE id = ?1",
    [Q_GRANT_DEL] = "DELETE FROM app_grants WHERE user_id = ?1",
    [Q_GRANT_INS] = "INSERT INTO app_grants(user_id, kind, slug) VALUES(?1, ?2, ?3) "
                    "ON CONFLICT DO NOTHING",
    [Q_GRANT_GET] = "SELECT kind, slug FROM app_grants WHERE user_id = ?1 ORDER BY kind, slug",
    [Q_RT_INS] = "INSERT INTO app_refresh_tokens(user_id, family, token_hash, created_ms, "
                 "expires_ms, ip, user_agent) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [Q_RT_FIND] = "SELECT id, user_id, family, expires_ms, used_ms IS NOT NULL, "
                  "revoked_ms IS NOT NULL FROM app_refresh_tokens WHERE token_hash = ?1",
    [Q_RT_USE] = "UPDATE app_refresh_tokens SET used_ms = ?2 WHERE id = ?1 AND used_ms IS NULL",
    /* Revoking keeps the first revocation time of each row. */
    [Q_RT_REV_FAM] = "UPDATE app_refresh_tokens SET revoked_ms = ?2 "
                     "WHERE family = ?1 AND revoked_ms IS NULL",
    [Q_RT_REV_USER] = "UPDATE app_refresh_tokens SET revoked_ms = ?2 "
                      "WHERE user_id = ?1 AND revoked_ms IS NULL",
    [Q_RT_PURGE] = "DELETE FROM app_refresh_tokens WHERE expires_ms < ?1",
    [Q_RT_FAM] = "SELECT EXISTS(SELECT 1 FROM app_refresh_tokens WHERE family = ?1), "
                 "EXISTS(SELECT 1 FROM app_refresh_tokens WHERE family = ?1 "
                 "AND revoked_ms IS NULL)",
    [Q_AUD_INS] = "INSERT INTO app_audit(ts_ms, actor_id, actor, ip, action, target, "
                  "\"before\", \"after\", result, detail) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_CMD_REL] = "UPDATE app_commands SET released_ms = ?3 "
                  "WHERE point = ?1 AND priority = ?2 AND released_ms IS NULL",
    [Q_CMD_INS] = "INSERT INTO app_commands(point, priority, value, actor, reason, since_ms, "
                  "expires_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    /* ?1 = 0: every point; ?2 = 0: expired or not */
    [Q_CMD_ACTIVE] = "SELECT id, point, priority, value, actor, reason, since_ms, "
                     "coalesce(expires_ms, 0) FROM app_commands WHERE released_ms IS NULL "
                     "AND (?1 = 0 OR point = ?1) AND (?2 = 0 OR (expires_ms IS NOT NULL "
                     "AND expires_ms <= ?2)) ORDER BY point, priority LIMIT ?3",
};

/* PostgreSQL's text where it differs: usernames are unique in any letter
 * case through an index on lower(username); an INSERT whose id is read
 * returns it (sql.h); a parameter compared with 0 before a BIGINT column
 * would be inferred as int4, too narrow for a point id past 2^31. */
static const char *const q_pg[Q_COUNT] = {
    [Q_USER_INS] = "INSERT INTO app_users(username, email, display_name, pw_hash, roles, "
                   "disabled, must_change_pw, created_ms, updated_ms, pw_changed_ms, "
                   "last_login_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
                   "RETURNING id",
    [Q_USER_BYNAME] = USER_SEL "WHERE lower(username) = lower(?1)",
    [Q_AUD_INS] = "INSERT INTO app_audit(ts_ms, actor_id, actor, ip, action, target, "
                  "\"before\", \"after\", result, detail) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id",
    [Q_CMD_ACTIVE] = "SELECT id, point, priority, value, actor, reason, since_ms, "
                     "coalesce(expires_ms, 0) FROM app_commands WHERE released_ms IS NULL "
                     "AND (?1::bigint = 0 OR point = ?1::bigint) AND (?2::bigint = 0 OR "
                     "(expires_ms IS NOT NULL AND expires_ms <= ?2::bigint)) "
                     "ORDER BY point, priority LIMIT ?3",
};

/* Audit filters present, as the index of the statement that serves them. */
enum {
    AF_ACTOR = 1, AF_ACTION = 2, AF_TARGET = 4, AF_FROM = 8, AF_TO = 16,
    AF_VARIANTS = 32
};

struct adb {
    sqlite3 *db;                        /* SQLite: the file's connection (NULL on PostgreSQL) */
    struct sb_sql *c;                   /* the one connection, either engine */
    pthread_mutex_t mu;                 /* serialises every use of c and of the statements */
    struct sb_sql_stmt *st[Q_COUNT];    /* prepared at open */
    struct sb_sql_stmt *aud[AF_VARIANTS];   /* audit queries by filter mask, on first use */
    struct sb_appdb__al *al;            /* the alert store's statements (appdb_alerts.c) */
    struct sb_appdb__an *an;            /* the analytics store's (appdb_analytics.c) */
};

/* Schema v1.  Users and audit ids use AUTOINCREMENT so an id is never
 * reused: audit records keep naming the same account forever. */
static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS app_users("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " username TEXT NOT NULL COLLATE NOCASE UNIQUE,"
    " email TEXT NOT NULL DEFAULT '',"
    " display_name TEXT NOT NULL DEFAULT '',"
    " pw_hash TEXT NOT NULL DEFAULT '',"
    " roles INTEGER NOT NULL DEFAULT 0,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " must_change_pw INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " pw_changed_ms INTEGER NOT NULL DEFAULT 0,"
    " last_login_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS app_grants("
    " user_id INTEGER NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK(kind IN ('site', 'building')),"
    " slug TEXT NOT NULL,"
    " PRIMARY KEY(user_id, kind, slug)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS app_refresh_tokens("
    " id INTEGER PRIMARY KEY,"
    " user_id INTEGER NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " family TEXT NOT NULL,"
    " token_hash TEXT NOT NULL UNIQUE,"
    " created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL,"
    " used_ms INTEGER,"
    " revoked_ms INTEGER,"
    " ip TEXT,"
    " user_agent TEXT);"
    "CREATE INDEX IF NOT EXISTS app_rt_family ON app_refresh_tokens(family);"
    "CREATE INDEX IF NOT EXISTS app_rt_user ON app_refresh_tokens(user_id);"
    "CREATE INDEX IF NOT EXISTS app_rt_expires ON app_refresh_tokens(expires_ms);"
    "CREATE TABLE IF NOT EXISTS app_audit("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " ts_ms INTEGER NOT NULL,"
    " actor_id INTEGER NOT NULL DEFAULT 0,"
    " actor TEXT,"
    " ip TEXT,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " \"before\" TEXT CHECK(\"before\" IS NULL OR json_valid(\"before\")),"
    " \"after\" TEXT CHECK(\"after\" IS NULL OR json_valid(\"after\")),"
    " result TEXT NOT NULL,"
    " detail TEXT);"
    /* Each index ends in the rowid, so "actor_id = ? AND id < ? ORDER BY id
     * DESC" walks the index backwards without sorting. */
    "CREATE INDEX IF NOT EXISTS app_audit_actor ON app_audit(actor_id);"
    "CREATE INDEX IF NOT EXISTS app_audit_target ON app_audit(target);"
    "CREATE INDEX IF NOT EXISTS app_audit_ts ON app_audit(ts_ms);"
    /* Append-only in the database itself, whatever code holds a connection. */
    "CREATE TRIGGER IF NOT EXISTS app_audit_no_update BEFORE UPDATE ON app_audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS app_audit_no_delete BEFORE DELETE ON app_audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;";

/* migrations[v] upgrades version v-1 to v; each is idempotent on its own. */
/* Schema v2: the commands sbems holds at a priority (docs/internals/
 * bacnet-driver.md): who, why, until when; an expired override is released
 * by the daemon even after a restart. */
static const char schema_v2[] =
    "CREATE TABLE IF NOT EXISTS app_commands("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " point INTEGER NOT NULL,"
    " priority INTEGER NOT NULL,"
    " value REAL,"
    " actor TEXT NOT NULL,"
    " reason TEXT,"
    " since_ms INTEGER NOT NULL,"
    " expires_ms INTEGER,"
    " released_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS app_commands_active ON app_commands(point, priority)"
    " WHERE released_ms IS NULL;";

/* One step.  A step that adds a column names it: ALTER TABLE ADD COLUMN
 * cannot say IF NOT EXISTS, so the step is skipped when the column is there
 * already (a file set back to an older version, as the tests do), which keeps
 * every step idempotent on its own. */
struct mstep {
    const char *sql;
    const char *table, *column;    /* NULL: run sql every time */
};

/* Schemas v3 (the alert store), v4 (analytics) and v5 (subscription levels)
 * live with the code that uses them. */
static const struct mstep migrations[SCHEMA_VERSION + 1] = {
    [1] = { schema_v1, NULL, NULL }, [2] = { schema_v2, NULL, NULL },
    [3] = { sb_appdb__schema_v3, NULL, NULL }, [4] = { sb_appdb__schema_v4, NULL, NULL },
    [5] = { sb_appdb__schema_v5, "app_alert_subs", "level" },
};

/* PostgreSQL schema of this file's tables at version 5, idempotent.  As in
 * SQLite: ids never reused (identity columns), usernames unique in any
 * letter case (ASCII only, so lower() folds what NOCASE folds), the audit
 * log append-only in the database itself.  Text that is compared or
 * ordered is COLLATE "C": byte order, as SQLite's BINARY, which the audit
 * query's prefix bound (prefix_upper) relies on. */
static const char pg_schema[] =
    "CREATE TABLE IF NOT EXISTS app_users("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " username TEXT COLLATE \"C\" NOT NULL,"
    " email TEXT NOT NULL DEFAULT '',"
    " display_name TEXT NOT NULL DEFAULT '',"
    " pw_hash TEXT NOT NULL DEFAULT '',"
    " roles BIGINT NOT NULL DEFAULT 0,"
    " disabled BIGINT NOT NULL DEFAULT 0,"
    " must_change_pw BIGINT NOT NULL DEFAULT 0,"
    " created_ms BIGINT NOT NULL,"
    " updated_ms BIGINT NOT NULL,"
    " pw_changed_ms BIGINT NOT NULL DEFAULT 0,"
    " last_login_ms BIGINT NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX IF NOT EXISTS app_users_name ON app_users(lower(username));"
    "CREATE TABLE IF NOT EXISTS app_grants("
    " user_id BIGINT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " kind TEXT COLLATE \"C\" NOT NULL CHECK(kind IN ('site', 'building')),"
    " slug TEXT COLLATE \"C\" NOT NULL,"
    " PRIMARY KEY(user_id, kind, slug));"
    "CREATE TABLE IF NOT EXISTS app_refresh_tokens("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " user_id BIGINT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " family TEXT COLLATE \"C\" NOT NULL,"
    " token_hash TEXT COLLATE \"C\" NOT NULL UNIQUE,"
    " created_ms BIGINT NOT NULL,"
    " expires_ms BIGINT NOT NULL,"
    " used_ms BIGINT,"
    " revoked_ms BIGINT,"
    " ip TEXT,"
    " user_agent TEXT);"
    "CREATE INDEX IF NOT EXISTS app_rt_family ON app_refresh_tokens(family);"
    "CREATE INDEX IF NOT EXISTS app_rt_user ON app_refresh_tokens(user_id);"
    "CREATE INDEX IF NOT EXISTS app_rt_expires ON app_refresh_tokens(expires_ms);"
    "CREATE TABLE IF NOT EXISTS app_audit("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " ts_ms BIGINT NOT NULL,"
    " actor_id BIGINT NOT NULL DEFAULT 0,"
    " actor TEXT,"
    " ip TEXT,"
    " action TEXT COLLATE \"C\" NOT NULL,"
    " target TEXT COLLATE \"C\","
    " \"before\" JSON,"
    " \"after\" JSON,"
    " result TEXT NOT NULL,"
    " detail TEXT);"
    /* (x, id): "actor_id = ? AND id < ? ORDER BY id DESC" walks one index. */
    "CREATE INDEX IF NOT EXISTS app_audit_actor ON app_audit(actor_id, id);"
    "CREATE INDEX IF NOT EXISTS app_audit_target ON app_audit(target, id);"
    "CREATE INDEX IF NOT EXISTS app_audit_ts ON app_audit(ts_ms);"
    "CREATE OR REPLACE FUNCTION app_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END$$;"
    "DROP TRIGGER IF EXISTS app_audit_no_change ON app_audit;"
    "CREATE TRIGGER app_audit_no_change BEFORE UPDATE OR DELETE ON app_audit"
    " FOR EACH ROW EXECUTE FUNCTION app_append_only();"
    "CREATE TABLE IF NOT EXISTS app_commands("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " point BIGINT NOT NULL,"
    " priority BIGINT NOT NULL,"
    " value DOUBLE PRECISION,"
    " actor TEXT NOT NULL,"
    " reason TEXT,"
    " since_ms BIGINT NOT NULL,"
    " expires_ms BIGINT,"
    " released_ms BIGINT);"
    "CREATE INDEX IF NOT EXISTS app_commands_active ON app_commands(point, priority)"
    " WHERE released_ms IS NULL;";

struct sb_appdb__al *sb_appdb__al_of(void *impl)
{
    return ((struct adb *)impl)->al;
}

struct sb_appdb__an *sb_appdb__an_of(void *impl)
{
    return ((struct adb *)impl)->an;
}

int sb_appdb__step_done(struct sb_sql_stmt *st, const char *what)
{
    int rc = sb_sql_step(st, MOD, what);

    sb_sql_reset(st);
    return rc == SB_SQL_DONE ? 0 : rc == SB_SQL_ROW ? SB_ESTORE : rc;
}

int sb_appdb__step_row(struct sb_sql_stmt *st, const char *what)
{
    int rc = sb_sql_step(st, MOD, what);

    if (rc == SB_SQL_ROW)
        return 0;
    sb_sql_reset(st);
    return rc == SB_SQL_DONE ? SB_ENOENT : rc;
}

/* Next row of a loop: SB_SQL_ROW, SB_SQL_DONE or an error. */
static int step_next(struct sb_sql_stmt *st, const char *what)
{
    return sb_sql_step(st, MOD, what);
}

static int tx_begin(struct adb *a)
{
    return sb_sql_begin(a->c, MOD);
}

/* Commits (commit != 0) or rolls back.  Returns 0, or SB_ESTORE when the
 * commit failed (the transaction is then rolled back). */
static int tx_end(struct adb *a, int commit)
{
    return sb_sql_end(a->c, commit, MOD);
}

void sb_appdb__cpy_col(char *dst, size_t cap, struct sb_sql_stmt *st, int i)
{
    const char *s = sb_sql_col_text(st, i);
    size_t n = s ? sb_sql_col_bytes(st, i) : 0;

    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, s, n);
    dst[n] = 0;
}

/* The current row of a USER_SEL-shaped statement. */
static void row_user(struct sb_sql_stmt *st, struct sb_user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = sb_sql_col_i64(st, 0);
    sb_appdb__cpy_col(u->username, sizeof(u->username), st, 1);
    sb_appdb__cpy_col(u->email, sizeof(u->email), st, 2);
    sb_appdb__cpy_col(u->display_name, sizeof(u->display_name), st, 3);
    sb_appdb__cpy_col(u->pw_hash, sizeof(u->pw_hash), st, 4);
    u->roles = (uint32_t)sb_sql_col_i64(st, 5) & SB_ROLE_ALL;
    u->disabled = sb_sql_col_int(st, 6) != 0;
    u->must_change_pw = sb_sql_col_int(st, 7) != 0;
    u->created_ms = sb_sql_col_i64(st, 8);
    u->updated_ms = sb_sql_col_i64(st, 9);
    u->pw_changed_ms = sb_sql_col_i64(st, 10);
    u->last_login_ms = sb_sql_col_i64(st, 11);
}

/* ---- open, migrate, close ---------------------------------------------- */

static int exec_err(struct adb *a, const char *sql, char *err, size_t errlen)
{
    char why[200] = "";

    if (sb_sql_exec(a->c, sql, why, sizeof(why)) == 0)
        return 0;
    sb_errf(err, errlen, "appdb: %s", why);
    return SB_ESTORE;
}

/* One-value query sql (parameter ?1 = arg when arg is not NULL, ?2 = arg2
 * likewise) into *v.  0 or SB_ESTORE with the reason in err. */
static int query_int(struct adb *a, const char *sql, const char *arg, const char *arg2, int *v,
                     char *err, size_t errlen)
{
    struct sb_sql_stmt *st = NULL;
    char why[200] = "";
    int rc = sb_sql_prepare(a->c, sql, &st, why, sizeof(why));

    if (rc == 0) {
        if (arg)
            sb_sql_bind_text(st, 1, arg);
        if (arg2)
            sb_sql_bind_text(st, 2, arg2);
        rc = sb_sql_step(st, MOD, "schema");
        *v = rc == SB_SQL_ROW ? sb_sql_col_int(st, 0) : 0;
        rc = rc == SB_SQL_ROW ? 0 : SB_ESTORE;
        snprintf(why, sizeof(why), "no answer (see the log)");
    }
    if (rc)
        sb_errf(err, errlen, "appdb: %s: %s", sql, why);
    sb_sql_finalize(st);
    return rc;
}

/* app_schema holds one row; an empty table is version 0. */
static int schema_get(struct adb *a, int *v, char *err, size_t errlen)
{
    return query_int(a, "SELECT coalesce(max(version), 0) FROM app_schema", NULL, NULL, v, err,
                     errlen);
}

static int schema_set(struct adb *a, int v, char *err, size_t errlen)
{
    char sql[96];

    /* v is our own constant, not input. */
    snprintf(sql, sizeof(sql), "DELETE FROM app_schema; INSERT INTO app_schema(version) "
             "VALUES(%d)", v);
    return exec_err(a, sql, err, errlen);
}

/* 1 when table has column, 0 when not, or SB_ESTORE (SQLite only: the
 * PostgreSQL schema has no history yet). */
static int has_column(struct adb *a, const char *table, const char *column, char *err,
                      size_t errlen)
{
    int n = 0;
    int rc = query_int(a, "SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", table,
                       column, &n, err, errlen);

    return rc ? rc : n > 0;
}

static int run_step(struct adb *a, const struct mstep *m, char *err, size_t errlen)
{
    int has = m->column ? has_column(a, m->table, m->column, err, errlen) : 0;

    return has < 0 ? has : has ? 0 : exec_err(a, m->sql, err, errlen);
}

/* From version v to SCHEMA_VERSION: SQLite steps one version at a time;
 * PostgreSQL creates the current schema whole on an empty database. */
static int upgrade(struct adb *a, int v, char *err, size_t errlen)
{
    int rc = 0;

    if (sb_sql_kind(a->c) == SB_SQL_SQLITE) {
        for (int k = v + 1; rc == 0 && k <= SCHEMA_VERSION; k++)
            rc = run_step(a, &migrations[k], err, errlen);
        return rc;
    }
    if (v != 0)    /* 1..4 never existed on PostgreSQL */
        return v == SCHEMA_VERSION ? 0 : (sb_errf(err, errlen, "appdb: schema version %d has "
                                                  "no PostgreSQL upgrade", v), SB_ENOTSUP);
    if ((rc = exec_err(a, pg_schema, err, errlen)) == 0 &&
        (rc = exec_err(a, sb_appdb__pg_schema_alerts, err, errlen)) == 0)
        rc = exec_err(a, sb_appdb__pg_schema_analytics, err, errlen);
    return rc;
}

/* All steps from the stored version to SCHEMA_VERSION in one write
 * transaction (sb_sql_begin): two processes or nodes migrating at once
 * serialise, and the second finds the work done. */
static int do_migrate(struct adb *a, int *from, int *to, char *err, size_t errlen)
{
    int v = 0, rc = sb_sql_begin(a->c, MOD) ? SB_ESTORE : 0;

    if (rc)
        sb_errf(err, errlen, "appdb: cannot begin the migration (see the log)");
    if (rc == 0)
        rc = exec_err(a, "CREATE TABLE IF NOT EXISTS app_schema(version INTEGER NOT NULL)", err,
                      errlen);
    if (rc == 0)
        rc = schema_get(a, &v, err, errlen);
    if (rc == 0 && v > SCHEMA_VERSION) {
        sb_errf(err, errlen, "appdb: schema version %d is newer than this sbems (%d)", v,
                SCHEMA_VERSION);
        rc = SB_ENOTSUP;
    }
    if (rc == 0)
        rc = upgrade(a, v, err, errlen);
    if (rc == 0 && v != SCHEMA_VERSION)
        rc = schema_set(a, SCHEMA_VERSION, err, errlen);
    if (rc == 0 && sb_sql_end(a->c, 1, MOD)) {
        sb_errf(err, errlen, "appdb: migration commit failed (see the log)");
        rc = SB_ESTORE;
    }
    if (rc)
        sb_sql_end(a->c, 0, MOD);
    if (from)
        *from = v;
    if (to)
        *to = rc == 0 ? SCHEMA_VERSION : v;
    return rc;
}

static int s_migrate(void *impl, int *from, int *to)
{
    struct adb *a = impl;
    char err[256];
    int rc;

    pthread_mutex_lock(&a->mu);
    rc = do_migrate(a, from, to, err, sizeof(err));
    pthread_mutex_unlock(&a->mu);
    if (rc)
        SB_ERR(MOD, "migrate: %s", err);
    return rc;
}

static void s_close(void *impl)
{
    struct adb *a = impl;

    if (!a)
        return;
    for (int i = 0; i < Q_COUNT; i++)
        sb_sql_finalize(a->st[i]);
    for (int i = 0; i < AF_VARIANTS; i++)
        sb_sql_finalize(a->aud[i]);
    sb_appdb__al_close(a->al);
    sb_appdb__an_close(a->an);
    sb_sql_close(a->c);
    if (a->db && sqlite3_close(a->db) != SQLITE_OK)
        SB_ERR(MOD, "close: %s", sqlite3_errmsg(a->db));
    pthread_mutex_destroy(&a->mu);
    free(a);
}

/* SQLite creates a missing file with mode 0644 less the umask; the file
 * holds password hashes, so create it 0600 first (its -wal and -shm files
 * take the main file's mode).  An existing file keeps its mode. */
static int create_private(const char *path, char *err, size_t errlen)
{
    int fd;

    if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
        return 0;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        sb_errf(err, errlen, "appdb: %s: %s", path, strerror(errno));
        return SB_EIO;
    }
    close(fd);
    return 0;
}

/* journal_mode=WAL answers the mode in force: "wal" (set now or already),
 * "memory" for an in-memory database; anything else means WAL could not be
 * set and the store's connection would not see the same journal. */
static int set_wal(struct adb *a, const char *path, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    const char *mode = NULL;
    int rc = 0;

    if (sqlite3_prepare_v2(a->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        mode = (const char *)sqlite3_column_text(st, 0);
    if (!mode) {
        sb_errf(err, errlen, "appdb: %s: %s", path, sqlite3_errmsg(a->db));
        rc = SB_ESTORE;
    } else if (strcasecmp(mode, "wal") != 0 &&
               !(strcasecmp(mode, "memory") == 0 && strcmp(path, ":memory:") == 0)) {
        sb_errf(err, errlen, "appdb: %s: journal_mode is %s, not wal", path, mode);
        rc = SB_ESTORE;
    }
    sqlite3_finalize(st);
    return rc;
}

static int prepare_all(struct adb *a, char *err, size_t errlen)
{
    char why[200];

    for (int i = 0; i < Q_COUNT; i++) {
        if (sb_sql_prepare(a->c, sb_sql_pick(a->c, q_sql[i], q_pg[i]), &a->st[i], why,
                           sizeof(why))) {
            sb_errf(err, errlen, "appdb: statement %d: %s", i, why);
            return SB_ESTORE;
        }
    }
    return 0;
}

static int conn_open(struct adb *a, const char *path, char *err, size_t errlen)
{
    int rc = create_private(path, err, errlen);

    if (rc)
        return rc;
    if (sqlite3_open_v2(path, &a->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        sb_errf(err, errlen, "appdb: %s: %s", path,
                a->db ? sqlite3_errmsg(a->db) : "out of memory");
        return a->db ? SB_ESTORE : SB_ENOMEM;
    }
    sqlite3_extended_result_codes(a->db, 1);
    /* Before any statement: the store's connection may hold the write lock. */
    sqlite3_busy_timeout(a->db, BUSY_TIMEOUT_MS);
    if (sb_sql_wrap_sqlite(a->db, &a->c)) {
        sb_errf(err, errlen, "appdb: out of memory");
        return SB_ENOMEM;
    }
    rc = set_wal(a, path, err, errlen);
    /* NORMAL in WAL mode: a commit survives a process crash; power loss may
     * lose the last commits but never corrupts
     * (https://www.sqlite.org/pragma.html#pragma_synchronous). */
    if (rc == 0)
        rc = exec_err(a, "PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;", err, errlen);
    return rc;
}

static const struct sb_appdb_ops sqlite_ops, pg_ops;

/* The rest of an open once the connection is up: schema, statements. */
static int open_rest(struct adb *a, const struct sb_appdb_ops *ops, struct sb_appdb **out,
                     char *err, size_t errlen)
{
    struct sb_appdb *h = calloc(1, sizeof(*h));
    int rc = h ? 0 : SB_ENOMEM;

    if (rc)
        sb_errf(err, errlen, "appdb: out of memory");
    if (rc == 0)
        rc = do_migrate(a, NULL, NULL, err, errlen);
    if (rc == 0)
        rc = prepare_all(a, err, errlen);
    if (rc == 0)
        rc = sb_appdb__al_open(a->c, &a->mu, &a->al, err, errlen);
    if (rc == 0)
        rc = sb_appdb__an_open(a->c, &a->mu, &a->an, err, errlen);
    if (rc) {
        s_close(a);
        free(h);
        return rc;
    }
    h->ops = ops;
    h->impl = a;
    *out = h;
    return 0;
}

static struct adb *adb_new(char *err, size_t errlen)
{
    struct adb *a = calloc(1, sizeof(*a));

    if (!a)
        sb_errf(err, errlen, "appdb: out of memory");
    else
        pthread_mutex_init(&a->mu, NULL);
    return a;
}

int sb_appdb_sqlite_open(const char *path, struct sb_appdb **out, char *err, size_t errlen)
{
    struct adb *a;
    int rc;

    if (out)
        *out = NULL;
    if (!path || !*path || !out) {
        sb_errf(err, errlen, "appdb: no database path");
        return SB_EINVAL;
    }
    if (!(a = adb_new(err, errlen)))
        return SB_ENOMEM;
    if ((rc = conn_open(a, path, err, errlen))) {
        s_close(a);
        return rc;
    }
    return open_rest(a, &sqlite_ops, out, err, errlen);
}

int sb_appdb_pg_open(const char *conninfo, struct sb_appdb **out, char *err, size_t errlen)
{
    struct adb *a;
    int rc;

    if (out)
        *out = NULL;
    if (!out) {
        sb_errf(err, errlen, "appdb: no handle");
        return SB_EINVAL;
    }
    if (!(a = adb_new(err, errlen)))
        return SB_ENOMEM;
    if ((rc = sb_sql_open_pg(conninfo, &a->c, err, errlen))) {
        s_close(a);
        return rc;
    }
    return open_rest(a, &pg_ops, out, err, errlen);
}

/* ---- users ------------------------------------------------------------- */

static int s_user_create(void *impl, struct sb_user *u)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_INS];
    int rc;

    if (!user_ok(u, 1))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_text(st, 1, u->username);
    sb_sql_bind_text(st, 2, u->email);
    sb_sql_bind_text(st, 3, u->display_name);
    sb_sql_bind_text(st, 4, u->pw_hash);
    sb_sql_bind_i64(st, 5, u->roles);
    sb_sql_bind_i64(st, 6, u->disabled != 0);
    sb_sql_bind_i64(st, 7, u->must_change_pw != 0);
    sb_sql_bind_i64(st, 8, u->created_ms);
    sb_sql_bind_i64(st, 9, u->updated_ms);
    sb_sql_bind_i64(st, 10, u->pw_changed_ms);
    sb_sql_bind_i64(st, 11, u->last_login_ms);
    rc = sb_appdb__step_done(st, "user create");
    if (rc == 0)
        u->id = sb_sql_last_id(a->c);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* Runs a one-row user query whose parameter 1 is already bound. */
static int user_fetch(struct adb *a, struct sb_sql_stmt *st, struct sb_user *out)
{
    int rc = sb_appdb__step_row(st, "user get");

    if (rc == 0) {
        row_user(st, out);
        sb_sql_reset(st);
    }
    return rc;
}

static int s_user_get(void *impl, int64_t id, struct sb_user *out)
{
    struct adb *a = impl;
    int rc;

    if (id <= 0 || !out)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(a->st[Q_USER_GET], 1, id);
    rc = user_fetch(a, a->st[Q_USER_GET], out);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_user_by_name(void *impl, const char *username, struct sb_user *out)
{
    struct adb *a = impl;
    int rc;

    if (!username_ok(username) || !out)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_text(a->st[Q_USER_BYNAME], 1, username);
    rc = user_fetch(a, a->st[Q_USER_BYNAME], out);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* Steps an UPDATE of one user: SB_ENOENT when no row matched. */
static int user_write(struct adb *a, struct sb_sql_stmt *st, const char *what)
{
    int rc = sb_appdb__step_done(st, what);

    if (rc == 0 && sb_sql_changes(a->c) == 0)
        rc = SB_ENOENT;
    return rc;
}

static int s_user_update(void *impl, const struct sb_user *u)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_UPD];
    int rc;

    if (!user_ok(u, 0))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, u->id);
    sb_sql_bind_text(st, 2, u->email);
    sb_sql_bind_text(st, 3, u->display_name);
    sb_sql_bind_i64(st, 4, u->roles);
    sb_sql_bind_i64(st, 5, u->disabled != 0);
    sb_sql_bind_i64(st, 6, u->must_change_pw != 0);
    sb_sql_bind_i64(st, 7, u->updated_ms);
    rc = user_write(a, st, "user update");
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_user_set_password(void *impl, int64_t id, const char *pw_hash, int must_change,
                               int64_t now_ms)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_PW];
    int rc;

    if (id <= 0 || !token_ok(pw_hash, SB_PWHASH_MAX))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, id);
    sb_sql_bind_text(st, 2, pw_hash);
    sb_sql_bind_i64(st, 3, must_change != 0);
    sb_sql_bind_i64(st, 4, now_ms);
    rc = user_write(a, st, "user set password");
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_user_touch_login(void *impl, int64_t id, int64_t now_ms)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_LOGIN];
    int rc;

    if (id <= 0)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, id);
    sb_sql_bind_i64(st, 2, now_ms);
    rc = user_write(a, st, "user touch login");
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* Reads limit + 1 rows: the extra one only tells that another page exists. */
static int s_user_list(void *impl, int64_t after_id, int limit, struct sb_user *out, size_t *n,
                       int64_t *next)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_LIST];
    int src, rc = 0;

    if (!out || !n || !next || limit < 1 || limit > SB_USER_LIST_MAX || after_id < 0)
        return SB_EINVAL;
    *n = 0;
    *next = 0;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, after_id);
    sb_sql_bind_i64(st, 2, limit + 1);
    while ((src = step_next(st, "user list")) == SB_SQL_ROW) {
        if (*n == (size_t)limit) {
            *next = out[limit - 1].id;
            break;
        }
        row_user(st, &out[(*n)++]);
    }
    if (src < 0)
        rc = src;
    sb_sql_reset(st);
    pthread_mutex_unlock(&a->mu);
    if (rc) {
        *n = 0;
        *next = 0;
    }
    return rc;
}

static int s_user_count(void *impl, int64_t *n)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_USER_COUNT];
    int rc;

    if (!n)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    rc = sb_appdb__step_row(st, "user count");
    if (rc == 0) {
        *n = sb_sql_col_i64(st, 0);
        sb_sql_reset(st);
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* ---- grants ------------------------------------------------------------ */

/* Inside the caller's transaction: the user exists, then old rows out, new in. */
static int grants_replace(struct adb *a, int64_t user_id, const struct sb_grant *g, size_t n)
{
    struct sb_sql_stmt *st = a->st[Q_USER_EXISTS];
    int rc;

    sb_sql_bind_i64(st, 1, user_id);
    if ((rc = sb_appdb__step_row(st, "grants user")))
        return rc;
    sb_sql_reset(st);
    st = a->st[Q_GRANT_DEL];
    sb_sql_bind_i64(st, 1, user_id);
    if ((rc = sb_appdb__step_done(st, "grants delete")))
        return rc;
    st = a->st[Q_GRANT_INS];
    for (size_t i = 0; i < n && rc == 0; i++) {
        sb_sql_bind_i64(st, 1, user_id);
        sb_sql_bind_text(st, 2, g[i].kind);
        sb_sql_bind_text(st, 3, g[i].slug);
        rc = sb_appdb__step_done(st, "grants insert");
    }
    return rc;
}

static int s_grants_set(void *impl, int64_t user_id, const struct sb_grant *g, size_t n)
{
    struct adb *a = impl;
    int rc, erc;

    if (user_id <= 0 || n > SB_GRANTS_MAX || (n && !g))
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!grant_ok(&g[i]))
            return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    if ((rc = tx_begin(a)) == 0) {
        rc = grants_replace(a, user_id, g, n);
        erc = tx_end(a, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_grants_get(void *impl, int64_t user_id, struct sb_grant **out, size_t *n)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_GRANT_GET];
    struct sb_grant *v = NULL, *nv;
    size_t len = 0, cap = 0;
    int src = SB_SQL_DONE, rc = 0;

    if (user_id <= 0 || !out || !n)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, user_id);
    while (rc == 0 && (src = step_next(st, "grants get")) == SB_SQL_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            if (!(nv = realloc(v, cap * sizeof(*v)))) {
                rc = SB_ENOMEM;
                break;
            }
            v = nv;
        }
        sb_appdb__cpy_col(v[len].kind, sizeof(v[len].kind), st, 0);
        sb_appdb__cpy_col(v[len].slug, sizeof(v[len].slug), st, 1);
        len++;
    }
    if (rc == 0 && src < 0)
        rc = src;
    sb_sql_reset(st);
    pthread_mutex_unlock(&a->mu);
    if (rc || len == 0) {
        free(v);
        v = NULL;
        len = 0;
    }
    *out = v;
    *n = len;
    return rc;
}

/* ---- refresh tokens ---------------------------------------------------- */

#define FAMILY_OK(f) hex_ok((f), SB_RT_FAMILY_LEN, SB_RT_FAMILY_LEN)
#define HASH_OK(h)   hex_ok((h), SB_RT_HASH_MIN, SB_RT_HASH_MAX)
#define IP_OK(ip)    (!(ip) || token_ok((ip), SB_RT_IP_MAX))

/* Binds and runs Q_RT_INS. */
static int rt_add(struct adb *a, int64_t user_id, const char *family, const char *hash,
                  int64_t now_ms, int64_t expires_ms, const char *ip, const char *ua)
{
    struct sb_sql_stmt *st = a->st[Q_RT_INS];
    char ubuf[SB_RT_UA_MAX + 1];

    sb_sql_bind_i64(st, 1, user_id);
    sb_sql_bind_text(st, 2, family);
    sb_sql_bind_text(st, 3, hash);
    sb_sql_bind_i64(st, 4, now_ms);
    sb_sql_bind_i64(st, 5, expires_ms);
    sb_sql_bind_text(st, 6, ip);
    sb_sql_bind_text(st, 7, ua_clean(ua, ubuf));
    return sb_appdb__step_done(st, "refresh token insert");
}

static int s_rt_insert(void *impl, int64_t user_id, const char *family, const char *token_hash,
                       int64_t now_ms, int64_t expires_ms, const char *ip, const char *ua)
{
    struct adb *a = impl;
    int rc;

    if (user_id <= 0 || !FAMILY_OK(family) || !HASH_OK(token_hash) || expires_ms <= now_ms ||
        !IP_OK(ip))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    rc = rt_add(a, user_id, family, token_hash, now_ms, expires_ms, ip, ua);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int rt_revoke_fam(struct adb *a, const char *family, int64_t now_ms)
{
    struct sb_sql_stmt *st = a->st[Q_RT_REV_FAM];

    sb_sql_bind_text(st, 1, family);
    sb_sql_bind_i64(st, 2, now_ms);
    return sb_appdb__step_done(st, "refresh family revoke");
}

/* A database call's failure as rt_rotate reports it: SB_ETIMEDOUT there
 * means "the token expired", so a statement that ran out of time (a
 * silent PostgreSQL, db/sql.h) is a store failure instead. */
static int rt_db(int rc)
{
    return rc == SB_ETIMEDOUT ? SB_ESTORE : rc;
}

/* The decision of rt_rotate, inside its IMMEDIATE transaction so that two
 * presentations of one token (here or in another process) are serialised
 * and exactly one of them wins. */
static int rt_exchange(struct adb *a, const char *old_hash, const char *new_hash, int64_t now_ms,
                       int64_t new_expires_ms, const char *ip, const char *ua,
                       struct sb_rt_result *res)
{
    struct sb_sql_stmt *st = a->st[Q_RT_FIND];
    int64_t row, expires;
    int used, revoked, rc;

    sb_sql_bind_text(st, 1, old_hash);
    if ((rc = sb_appdb__step_row(st, "refresh token find")))
        return rt_db(rc);
    row = sb_sql_col_i64(st, 0);
    res->user_id = sb_sql_col_i64(st, 1);
    sb_appdb__cpy_col(res->family, sizeof(res->family), st, 2);
    expires = sb_sql_col_i64(st, 3);
    used = sb_sql_col_int(st, 4);
    revoked = sb_sql_col_int(st, 5);
    sb_sql_reset(st);
    /* Security BCP §4.14.2: a refresh token presented twice was stolen from
     * the client or the attacker's copy was used first; the server cannot
     * tell which party is legitimate, so the whole grant is revoked. */
    if (used)
        return (rc = rt_revoke_fam(a, res->family, now_ms)) ? rt_db(rc) : SB_EPROTO;
    if (revoked)
        return SB_ECLOSED;
    if (expires <= now_ms)
        return SB_ETIMEDOUT;
    st = a->st[Q_RT_USE];
    sb_sql_bind_i64(st, 1, row);
    sb_sql_bind_i64(st, 2, now_ms);
    if ((rc = sb_appdb__step_done(st, "refresh token use")))
        return rt_db(rc);
    return rt_db(rt_add(a, res->user_id, res->family, new_hash, now_ms, new_expires_ms, ip, ua));
}

static int s_rt_rotate(void *impl, const char *old_hash, const char *new_hash, int64_t now_ms,
                       int64_t new_expires_ms, const char *ip, const char *ua,
                       struct sb_rt_result *res)
{
    struct adb *a = impl;
    struct sb_rt_result r = { 0 };
    int rc, erc;

    if (!HASH_OK(old_hash) || !HASH_OK(new_hash) || new_expires_ms <= now_ms || !IP_OK(ip) ||
        !res)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    if ((rc = tx_begin(a)) == 0) {
        rc = rt_exchange(a, old_hash, new_hash, now_ms, new_expires_ms, ip, ua, &r);
        /* SB_EPROTO commits: the family's revocation must stick. */
        erc = tx_end(a, rc == 0 || rc == SB_EPROTO);
        rc = erc ? rt_db(erc) : rc;
    } else {
        rc = rt_db(rc);
    }
    pthread_mutex_unlock(&a->mu);
    if (rc == 0 || rc == SB_EPROTO || rc == SB_ECLOSED || rc == SB_ETIMEDOUT)
        *res = r;
    return rc;
}

/* Fills *exists / *active for a family (either may be NULL). */
static int rt_family(struct adb *a, const char *family, int *exists, int *active)
{
    struct sb_sql_stmt *st = a->st[Q_RT_FAM];
    int rc;

    sb_sql_bind_text(st, 1, family);
    if ((rc = sb_appdb__step_row(st, "refresh family")))
        return rc;
    if (exists)
        *exists = sb_sql_col_int(st, 0);
    if (active)
        *active = sb_sql_col_int(st, 1);
    sb_sql_reset(st);
    return 0;
}

static int s_rt_revoke_family(void *impl, const char *family, int64_t now_ms)
{
    struct adb *a = impl;
    int rc, exists = 0;

    if (!FAMILY_OK(family))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    rc = rt_revoke_fam(a, family, now_ms);
    if (rc == 0 && sb_sql_changes(a->c) == 0 && (rc = rt_family(a, family, &exists, NULL)) == 0 &&
        !exists)
        rc = SB_ENOENT;
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_rt_revoke_user(void *impl, int64_t user_id, int64_t now_ms)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_RT_REV_USER];
    int rc;

    if (user_id <= 0)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, user_id);
    sb_sql_bind_i64(st, 2, now_ms);
    rc = sb_appdb__step_done(st, "refresh user revoke");
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* Rows stay SB_RT_PURGE_MS past expiry so a replay of a recently expired,
 * already rotated token is still recognised as reuse. */
static int s_rt_purge(void *impl, int64_t now_ms)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_RT_PURGE];
    int rc;

    if (now_ms < 0)
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, now_ms - SB_RT_PURGE_MS);
    rc = sb_appdb__step_done(st, "refresh purge");
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_rt_family_active(void *impl, const char *family)
{
    struct adb *a = impl;
    int rc, active = 0;

    if (!FAMILY_OK(family))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    rc = rt_family(a, family, NULL, &active);
    pthread_mutex_unlock(&a->mu);
    return rc ? rc : active != 0;
}

/* ---- audit ------------------------------------------------------------- */

static int len_ok(const char *s, size_t max)
{
    return !s || strnlen(s, max + 1) <= max;
}

static int rec_ok(const struct sb_audit_rec *r)
{
    return r && r->action && *r->action && r->result && *r->result && r->actor_id >= 0 &&
           len_ok(r->actor, SB_AUDIT_TEXT_MAX) && len_ok(r->ip, SB_AUDIT_TEXT_MAX) &&
           len_ok(r->action, SB_AUDIT_TEXT_MAX) && len_ok(r->target, SB_AUDIT_TEXT_MAX) &&
           len_ok(r->result, SB_AUDIT_TEXT_MAX) && len_ok(r->detail, SB_AUDIT_TEXT_MAX) &&
           len_ok(r->before, SB_AUDIT_JSON_MAX) && len_ok(r->after, SB_AUDIT_JSON_MAX);
}

static int s_audit_append(void *impl, const struct sb_audit_rec *r, int64_t *id)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_AUD_INS];
    int rc;

    if (!rec_ok(r))
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, r->ts_ms);
    sb_sql_bind_i64(st, 2, r->actor_id);
    sb_sql_bind_text(st, 3, r->actor);
    sb_sql_bind_text(st, 4, r->ip);
    sb_sql_bind_text(st, 5, r->action);
    sb_sql_bind_text(st, 6, r->target);
    sb_sql_bind_text(st, 7, r->before);   /* CHECK(json_valid) refuses bad JSON: SB_EINVAL */
    sb_sql_bind_text(st, 8, r->after);
    sb_sql_bind_text(st, 9, r->result);
    sb_sql_bind_text(st, 10, r->detail);
    rc = sb_appdb__step_done(st, "audit append");
    if (rc == 0 && id)
        *id = sb_sql_last_id(a->c);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* The statement for one combination of filters, from constant fragments
 * only; parameter numbers are fixed so binding does not depend on the mix. */
static struct sb_sql_stmt *aud_stmt(struct adb *a, int mask)
{
    char sql[512];

    if (a->aud[mask])
        return a->aud[mask];
    snprintf(sql, sizeof(sql), "SELECT " AUD_COLS " FROM app_audit WHERE id < ?1%s%s%s%s%s "
             "ORDER BY id DESC LIMIT ?8",
             mask & AF_ACTOR ? " AND actor_id = ?2" : "",
             /* CAST: PostgreSQL must know ?4's type where it meets IS NULL. */
             mask & AF_ACTION ? " AND action >= ?3 AND (CAST(?4 AS TEXT) IS NULL OR "
                                "action < ?4)" : "",
             mask & AF_TARGET ? " AND target = ?5" : "",
             mask & AF_FROM ? " AND ts_ms >= ?6" : "",
             mask & AF_TO ? " AND ts_ms < ?7" : "");
    char why[200];
    if (sb_sql_prepare(a->c, sql, &a->aud[mask], why, sizeof(why))) {
        SB_ERR(MOD, "audit query prepare: %s", why);
        a->aud[mask] = NULL;
    }
    return a->aud[mask];
}

/* The smallest string greater than every string starting with p (byte
 * order, as the BINARY collation compares): p with its last byte below
 * 0xff incremented and the rest cut.  Returns 0 when there is none. */
static int prefix_upper(const char *p, char *buf, size_t cap)
{
    size_t n = strnlen(p, cap - 1);

    memcpy(buf, p, n);
    while (n > 0 && (unsigned char)buf[n - 1] == 0xff)
        n--;
    if (n == 0)
        return 0;
    buf[n - 1] = (char)((unsigned char)buf[n - 1] + 1);
    buf[n] = 0;
    return 1;
}

static int filter_ok(const struct sb_audit_filter *f)
{
    return f && f->limit >= 1 && f->limit <= SB_AUDIT_PAGE_MAX && f->before_id >= 0 &&
           f->actor_id >= 0 && len_ok(f->action, SB_AUDIT_TEXT_MAX) &&
           len_ok(f->target, SB_AUDIT_TEXT_MAX) && (f->to_ms == 0 || f->to_ms > f->from_ms);
}

static void aud_bind(struct sb_sql_stmt *st, const struct sb_audit_filter *f, char *upper)
{
    sb_sql_bind_i64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
    sb_sql_bind_i64(st, 2, f->actor_id);
    if (f->action && *f->action) {
        sb_sql_bind_text(st, 3, f->action);
        sb_sql_bind_text(st, 4, prefix_upper(f->action, upper, SB_AUDIT_TEXT_MAX + 1) ? upper : NULL);
    }
    sb_sql_bind_text(st, 5, f->target && *f->target ? f->target : NULL);
    sb_sql_bind_i64(st, 6, f->from_ms);
    sb_sql_bind_i64(st, 7, f->to_ms);
    sb_sql_bind_i64(st, 8, f->limit + 1);
}

/* Copies the current row into r; its strings go into one block (*mem). */
static int row_audit(struct sb_sql_stmt *st, struct sb_audit_rec *r, void **mem)
{
    const char **dst[8] = { &r->actor, &r->ip, &r->action, &r->target,
                            &r->before, &r->after, &r->result, &r->detail };
    const char *txt[8];
    size_t len[8], total = 1;
    char *p;

    for (int i = 0; i < 8; i++) {
        int null = sb_sql_col_null(st, 3 + i);
        txt[i] = null ? NULL : sb_sql_col_text(st, 3 + i);
        if (!null && !txt[i])
            return SB_ENOMEM;
        len[i] = txt[i] ? (size_t)sb_sql_col_bytes(st, 3 + i) : 0;
        total += txt[i] ? len[i] + 1 : 0;
    }
    if (!(p = *mem = malloc(total)))
        return SB_ENOMEM;
    r->id = sb_sql_col_i64(st, 0);
    r->ts_ms = sb_sql_col_i64(st, 1);
    r->actor_id = sb_sql_col_i64(st, 2);
    for (int i = 0; i < 8; i++) {
        *dst[i] = NULL;
        if (!txt[i])
            continue;
        memcpy(p, txt[i], len[i]);
        p[len[i]] = 0;
        *dst[i] = p;
        p += len[i] + 1;
    }
    return 0;
}

/* Fills out from the bound statement; reads limit + 1 rows to know whether
 * another page follows. */
static int aud_collect(struct adb *a, struct sb_sql_stmt *st, int limit, struct sb_audit_page *out)
{
    int src, rc = 0;

    while ((src = step_next(st, "audit query")) == SB_SQL_ROW) {
        if (out->n == (size_t)limit) {
            out->next_before_id = out->v[limit - 1].id;
            break;
        }
        if ((rc = row_audit(st, &out->v[out->n], &out->mem_[out->n])))
            break;
        out->n++;
    }
    if (rc == 0 && src < 0)
        rc = src;
    sb_sql_reset(st);
    return rc;
}

static int s_audit_query(void *impl, const struct sb_audit_filter *f, struct sb_audit_page *out)
{
    struct adb *a = impl;
    char upper[SB_AUDIT_TEXT_MAX + 1];
    struct sb_sql_stmt *st;
    int rc = SB_ESTORE;

    if (!filter_ok(f) || !out)
        return SB_EINVAL;
    sb_audit_page_release(out);
    out->v = calloc((size_t)f->limit, sizeof(*out->v));
    out->mem_ = calloc((size_t)f->limit, sizeof(*out->mem_));
    if (!out->v || !out->mem_) {
        sb_audit_page_release(out);
        return SB_ENOMEM;
    }
    int mask = (f->actor_id ? AF_ACTOR : 0) | (f->action && *f->action ? AF_ACTION : 0) |
               (f->target && *f->target ? AF_TARGET : 0) | (f->from_ms ? AF_FROM : 0) |
               (f->to_ms ? AF_TO : 0);
    pthread_mutex_lock(&a->mu);
    if ((st = aud_stmt(a, mask))) {
        aud_bind(st, f, upper);
        rc = aud_collect(a, st, f->limit, out);
    }
    pthread_mutex_unlock(&a->mu);
    if (rc)
        sb_audit_page_release(out);
    return rc;
}

/* ---- commands held at a priority ---------------------------------------- */

static int s_cmd_hold(void *impl, const struct sb_cmd_rec *r)
{
    struct adb *a = impl;
    struct sb_sql_stmt *rel = a->st[Q_CMD_REL], *ins = a->st[Q_CMD_INS];
    int rc;

    if (!r || !r->point || r->priority < 1 || r->priority > 16 || !r->actor[0])
        return SB_EINVAL;
    pthread_mutex_lock(&a->mu);
    if ((rc = tx_begin(a)) == 0) {
        /* one active record per point and priority: the newest command */
        sb_sql_bind_i64(rel, 1, r->point);
        sb_sql_bind_i64(rel, 2, r->priority);
        sb_sql_bind_i64(rel, 3, r->since_ms);
        rc = sb_appdb__step_done(rel, "command release");
        if (rc == 0 && !isnan(r->value)) {
            sb_sql_bind_i64(ins, 1, r->point);
            sb_sql_bind_i64(ins, 2, r->priority);
            sb_sql_bind_double(ins, 3, r->value);
            sb_sql_bind_text(ins, 4, r->actor);
            sb_sql_bind_text(ins, 5, r->reason[0] ? r->reason : NULL);
            sb_sql_bind_i64(ins, 6, r->since_ms);
            if (r->expires_ms)
                sb_sql_bind_i64(ins, 7, r->expires_ms);
            else
                sb_sql_bind_null(ins, 7);
            rc = sb_appdb__step_done(ins, "command insert");
        }
        int e = tx_end(a, rc == 0);
        if (rc == 0)
            rc = e;
    }
    pthread_mutex_unlock(&a->mu);
    return rc;
}

static int s_cmd_active(void *impl, uint32_t point, int64_t expired_by, struct sb_cmd_rec *out,
                        size_t cap, size_t *n)
{
    struct adb *a = impl;
    struct sb_sql_stmt *st = a->st[Q_CMD_ACTIVE];
    int rc = 0, sr;

    *n = 0;
    pthread_mutex_lock(&a->mu);
    sb_sql_bind_i64(st, 1, point);
    sb_sql_bind_i64(st, 2, expired_by);
    sb_sql_bind_i64(st, 3, (int64_t)cap);
    while ((sr = step_next(st, "command list")) == SB_SQL_ROW && *n < cap) {
        struct sb_cmd_rec *r = &out[(*n)++];
        memset(r, 0, sizeof(*r));
        r->id = sb_sql_col_i64(st, 0);
        r->point = (uint32_t)sb_sql_col_i64(st, 1);
        r->priority = sb_sql_col_int(st, 2);
        r->value = sb_sql_col_null(st, 3) ? NAN : sb_sql_col_double(st, 3);
        snprintf(r->actor, sizeof(r->actor), "%s", (const char *)sb_sql_col_text(st, 4));
        if (!sb_sql_col_null(st, 5))
            snprintf(r->reason, sizeof(r->reason), "%s", (const char *)sb_sql_col_text(st, 5));
        r->since_ms = sb_sql_col_i64(st, 6);
        r->expires_ms = sb_sql_col_i64(st, 7);
    }
    if (sr < 0)
        rc = sr;
    sb_sql_reset(st);
    pthread_mutex_unlock(&a->mu);
    return rc;
}

/* The methods: one code path for both engines (sql.h). */
#define APPDB_METHODS \
    .close = s_close, \
    .migrate = s_migrate, \
    .user_create = s_user_create, \
    .user_get = s_user_get, \
    .user_by_name = s_user_by_name, \
    .user_update = s_user_update, \
    .user_set_password = s_user_set_password, \
    .user_touch_login = s_user_touch_login, \
    .user_list = s_user_list, \
    .user_count = s_user_count, \
    .grants_set = s_grants_set, \
    .grants_get = s_grants_get, \
    .rt_insert = s_rt_insert, \
    .rt_rotate = s_rt_rotate, \
    .rt_revoke_family = s_rt_revoke_family, \
    .rt_revoke_user = s_rt_revoke_user, \
    .rt_purge = s_rt_purge, \
    .rt_family_active = s_rt_family_active, \
    .audit_append = s_audit_append, \
    .audit_query = s_audit_query, \
    .cmd_hold = s_cmd_hold, \
    .cmd_active = s_cmd_active, \
    .alert_rule_put = sb_appdb__rule_put, \
    .alert_rule_get = sb_appdb__rule_get, \
    .alert_rule_delete = sb_appdb__rule_delete, \
    .alert_rule_list = sb_appdb__rule_list, \
    .alert_rule_count = sb_appdb__rule_count, \
    .alert_raise = sb_appdb__alert_raise, \
    .alert_clear = sb_appdb__alert_clear, \
    .alert_ack = sb_appdb__alert_ack, \
    .alert_assign = sb_appdb__alert_assign, \
    .alert_note = sb_appdb__alert_note, \
    .alert_shelve = sb_appdb__alert_shelve, \
    .alert_unshelve = sb_appdb__alert_unshelve, \
    .alert_resolve = sb_appdb__alert_resolve, \
    .alert_escalate = sb_appdb__alert_escalate, \
    .alert_notified = sb_appdb__alert_notified, \
    .alert_get = sb_appdb__alert_get, \
    .alert_list = sb_appdb__alert_list, \
    .alert_events = sb_appdb__alert_events, \
    .alert_escalation_due = sb_appdb__alert_escalation_due, \
    .alert_summary = sb_appdb__alert_summary, \
    .alert_sub_add = sb_appdb__sub_add, \
    .alert_sub_list = sb_appdb__sub_list, \
    .alert_sub_match = sb_appdb__sub_match, \
    .alert_sub_secret = sb_appdb__sub_secret, \
    .alert_sub_delete = sb_appdb__sub_delete, \
    .doc_put = sb_appdb__doc_put, \
    .doc_get = sb_appdb__doc_get, \
    .doc_delete = sb_appdb__doc_delete, \
    .doc_list = sb_appdb__doc_list, \
    .fc_put = sb_appdb__fc_put, \
    .fc_get = sb_appdb__fc_get, \
    .fc_purge = sb_appdb__fc_purge, \
    .report_file_put = sb_appdb__rf_put, \
    .report_file_list = sb_appdb__rf_list, \
    .report_file_get = sb_appdb__rf_get, \
    .report_file_delete = sb_appdb__rf_delete

static const struct sb_appdb_ops sqlite_ops = {
    .abi = SB_APPDB_ABI,
    .name = "sqlite",
    APPDB_METHODS,
};

static const struct sb_appdb_ops pg_ops = {
    .abi = SB_APPDB_ABI,
    .name = "postgres",
    APPDB_METHODS,
};

/*
 * appdb_alerts.c - the alert store of the app database (appdb.h,
 * docs/internals/alerts-store.md): rules as JSON text, alerts with their
 * life cycle and full history, notification subscriptions.  One code path
 * for SQLite and PostgreSQL through db/sql.h; the engines differ only in
 * schema and in the few statements whose dialects part (aq_pg below).
 *
 * Tables (SQLite schema v3 + v5, below; PostgreSQL's the same at v5):
 *
 *   app_alert_rules   one row per rule: id, building, JSON, enabled
 *   app_alerts        one row per alert; a partial unique index allows one
 *                     open (not resolved) alert per (rule, key), and CHECKs
 *                     hold the state invariants whatever code writes
 *   app_alert_events  the history; UPDATE refused by a trigger
 *   app_alert_subs    subscriptions, deleted with their user; v5 adds the
 *                     escalation level each one hears (0 = when raised)
 *
 * Every change is sb_sql_begin (SQLite's BEGIN IMMEDIATE, PostgreSQL's
 * BEGIN plus the writers' advisory lock), read the alert, check the
 * transition, UPDATE, INSERT the event(s), read the alert back, commit: one
 * transaction, under the connection's mutex (appdb_int.h), so an alert and
 * its history never disagree and two processes or nodes raising at once
 * serialise.  The order of the UPDATEs inside a transaction keeps every
 * CHECK true after each one.  No path goes on after a failed statement
 * inside a transaction (PostgreSQL would refuse every later one): an error
 * ends it with a rollback.
 *
 * Statements are constant text prepared once and reset after each use, as in
 * appdb.c; the alert list has one statement per combination of filters
 * (built from constant fragments on first use) so the planner can choose an
 * index.  Sets (buildings, states, severities) are bound as one JSON array
 * and read with json_each() (PostgreSQL: json_array_elements_text()), never
 * spliced into SQL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "db/appdb.h"
#include "db/appdb_int.h"
#include "model/slug.h"

#define MOD "appdb"
#define DAY_MS (86400LL * 1000)
#define TIMEOUT_MAX_MS (30 * DAY_MS)   /* longest ack timeout escalation_due accepts */

/* ---- names and pages --------------------------------------------------- */

static const char *const sev_names[] = { NULL, "critical", "major", "minor", "info" };
static const char *const state_names[] = { NULL, "active", "acknowledged", "resolved" };
#define NSEV   4
#define NSTATE 3

const char *sb_alert_sev_name(int sev)
{
    return sev >= 1 && sev <= NSEV ? sev_names[sev] : NULL;
}

const char *sb_alert_state_name(int state)
{
    return state >= 1 && state <= NSTATE ? state_names[state] : NULL;
}

static int name_find(const char *const *names, int n, const char *s)
{
    for (int i = 1; s && i <= n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return SB_EINVAL;
}

int sb_alert_sev_parse(const char *name)
{
    return name_find(sev_names, NSEV, name);
}

int sb_alert_state_parse(const char *name)
{
    return name_find(state_names, NSTATE, name);
}

void sb_alert_page_release(struct sb_alert_page *p)
{
    if (!p)
        return;
    free(p->v);
    memset(p, 0, sizeof(*p));
}

void sb_alert_rule_page_release(struct sb_alert_rule_page *p)
{
    if (!p)
        return;
    free(p->v);
    memset(p, 0, sizeof(*p));
}

/* ---- input checks ------------------------------------------------------ */

/* Well-formed UTF-8 (core/utf8.h) of n bytes; controls below 0x20 and 0x7f
 * refused except \t and \n when multiline.  Stored text reaches JSON
 * answers and the UI as it is. */
static int utf8_ok(const unsigned char *s, size_t n, int multiline)
{
    size_t i = 0, k;

    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80 && ((c < 0x20 && !(multiline && (c == '\t' || c == '\n'))) || c == 0x7f))
            return 0;
        if ((k = sb_utf8_seq(s + i, n - i)) == 0)
            return 0;
        i += k;
    }
    return 1;
}

/* NULL or a string of at most max bytes of text (see utf8_ok). */
static int opt_text_ok(const char *s, size_t max, int multiline)
{
    size_t n;

    if (!s)
        return 1;
    n = strnlen(s, max + 1);
    return n <= max && utf8_ok((const unsigned char *)s, n, multiline);
}

/* 1..max bytes of one-line text. */
static int text_ok(const char *s, size_t max)
{
    return s && *s && opt_text_ok(s, max, 0);
}

/* The model's slug rule (model/slug.h): [a-z0-9][a-z0-9_.-]{0,63}. */
/* A slug as the model spells them (model/slug.h), within the store's field. */
static int slug_ok(const char *s)
{
    return s && strnlen(s, SB_ALERT_SLUG_CAP) < SB_ALERT_SLUG_CAP && sb_slug_valid(s);
}

#define ACTOR_OK(s) text_ok((s), SB_ALERT_ACTOR_CAP - 1)
#define NOTE_OK(s)  opt_text_ok((s), SB_ALERT_NOTE_MAX, 1)

/* Printable ASCII without space, min..max bytes (URLs, addresses, secrets). */
static int ascii_ok(const char *s, size_t min, size_t max)
{
    size_t n = strnlen(s, max + 1);

    if (n < min || n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

/* "" or "HH:MM" on a 24-hour clock. */
static int hhmm_ok(const char *s)
{
    if (!*s)
        return 1;
    return strlen(s) == 5 && s[2] == ':' && s[0] >= '0' && s[0] <= '2' && s[1] >= '0' &&
           s[1] <= '9' && (s[0] - '0') * 10 + (s[1] - '0') < 24 && s[3] >= '0' && s[3] <= '5' &&
           s[4] >= '0' && s[4] <= '9';
}

/* A channel's target: a webhook needs an http(s) URL, an email one address
 * (RFC 5321 path limit), mqtt an optional topic prefix without the
 * wildcards a topic name may not hold (MQTT 3.1.1 §4.7.1). */
static int target_ok(const char *channel, const char *t)
{
    size_t n = strnlen(t, SB_ALERT_TARGET_MAX + 1);
    const char *at;

    if (n > SB_ALERT_TARGET_MAX)
        return 0;
    if (strcmp(channel, "webhook") == 0)
        return ascii_ok(t, 8, SB_ALERT_TARGET_MAX) &&
               ((strncmp(t, "http://", 7) == 0 && n > 7) ||
                (strncmp(t, "https://", 8) == 0 && n > 8));
    if (strcmp(channel, "email") == 0)
        return ascii_ok(t, 3, SB_EMAIL_MAX) && (at = strchr(t, '@')) && at != t && at[1] &&
               !strchr(at + 1, '@');
    return utf8_ok((const unsigned char *)t, n, 0) && !strpbrk(t, "+#");
}

static int sub_ok(const struct sb_alert_sub *s)
{
    if (!s || s->user_id <= 0 || !memchr(s->channel, 0, sizeof(s->channel)) ||
        !memchr(s->target, 0, sizeof(s->target)) || !memchr(s->building, 0, sizeof(s->building)) ||
        !memchr(s->quiet_start, 0, sizeof(s->quiet_start)) ||
        !memchr(s->quiet_end, 0, sizeof(s->quiet_end)) || !memchr(s->secret, 0, sizeof(s->secret)))
        return 0;
    if (strcmp(s->channel, "webhook") != 0 && strcmp(s->channel, "email") != 0 &&
        strcmp(s->channel, "mqtt") != 0)
        return 0;
    if (!target_ok(s->channel, s->target) || (s->building[0] && !slug_ok(s->building)) ||
        s->min_severity < 0 || s->min_severity > NSEV || !hhmm_ok(s->quiet_start) ||
        !hhmm_ok(s->quiet_end) || !s->quiet_start[0] != !s->quiet_end[0] || s->level < 0 ||
        s->level > SB_ALERT_SUB_LEVEL_MAX)
        return 0;
    /* A short HMAC key is guessable; only a webhook signs. */
    return !s->secret[0] ||
           (strcmp(s->channel, "webhook") == 0 && ascii_ok(s->secret, 16, SB_ALERT_SECRET_MAX));
}

static int rule_ok(const struct sb_alert_rule *r)
{
    return r && slug_ok(r->id) && slug_ok(r->building) && memchr(r->json, 0, sizeof(r->json)) &&
           r->json[0] && memchr(r->updated_by, 0, sizeof(r->updated_by)) &&
           (!r->updated_by[0] || ACTOR_OK(r->updated_by));
}

/* ---- schema v3 --------------------------------------------------------- */

/* Severity rank in SQL, for min_severity comparisons. */
#define SEVRANK(col) "(CASE " col " WHEN 'critical' THEN 1 WHEN 'major' THEN 2 " \
                     "WHEN 'minor' THEN 3 WHEN 'info' THEN 4 END)"
#define SEV_IN   "IN ('critical', 'major', 'minor', 'info')"
#define HHMM_SQL(c) "(" c " IS NULL OR (length(" c ") = 5 AND " c " GLOB '[0-2][0-9]:[0-5][0-9]'))"

/* What both engines' app_alerts share word for word: the life cycle's
 * invariants (the table's last line) and the indexes. */
#define AL_CHECKS \
    " CHECK((state = 'resolved') = (resolved_ms IS NOT NULL))," \
    " CHECK(state <> 'acknowledged' OR acked_ms IS NOT NULL)," \
    " CHECK(NOT (state = 'acknowledged' AND cleared = 1))," \
    " CHECK(cleared = 0 OR cleared_ms IS NOT NULL));"
#define AL_INDEXES \
    "CREATE UNIQUE INDEX IF NOT EXISTS app_alerts_open ON app_alerts(rule, \"key\")" \
    " WHERE state <> 'resolved';" \
    "CREATE INDEX IF NOT EXISTS app_alerts_building ON app_alerts(building);" \
    "CREATE INDEX IF NOT EXISTS app_alerts_state ON app_alerts(state);" \
    "CREATE INDEX IF NOT EXISTS app_alerts_rule ON app_alerts(rule);" \
    "CREATE INDEX IF NOT EXISTS app_alerts_assignee ON app_alerts(assignee)" \
    " WHERE assignee IS NOT NULL;"

const char sb_appdb__schema_v3[] =
    "CREATE TABLE IF NOT EXISTS app_alert_rules("
    " id TEXT PRIMARY KEY,"
    " building TEXT NOT NULL,"
    " json TEXT NOT NULL CHECK(json_valid(json) AND json_type(json) = 'object'),"
    " enabled INTEGER NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    " created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL,"
    " updated_by TEXT);"
    "CREATE INDEX IF NOT EXISTS app_alert_rules_building ON app_alert_rules(building);"
    /* AUTOINCREMENT: an alert id named in a notification or a ticket is never
     * reused.  The table CHECKs are the life cycle's invariants: resolved
     * exactly when resolved_ms is set; acknowledged implies acked_ms; an open
     * alert is never both acknowledged and cleared (that pair resolves). */
    "CREATE TABLE IF NOT EXISTS app_alerts("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " rule TEXT NOT NULL,"
    " building TEXT NOT NULL,"
    " \"key\" TEXT NOT NULL,"
    " severity TEXT NOT NULL CHECK(severity " SEV_IN "),"
    " state TEXT NOT NULL CHECK(state IN ('active', 'acknowledged', 'resolved')),"
    " cleared INTEGER NOT NULL DEFAULT 0 CHECK(cleared IN (0, 1)),"
    " raised_ms INTEGER NOT NULL,"
    " cleared_ms INTEGER,"
    " acked_ms INTEGER,"
    " acked_by TEXT,"
    " resolved_ms INTEGER,"
    " resolved_by TEXT,"
    " assignee TEXT,"
    " shelved_until_ms INTEGER,"
    " escalated_level INTEGER NOT NULL DEFAULT 0 CHECK(escalated_level BETWEEN 0 AND 9),"
    " flaps INTEGER NOT NULL DEFAULT 0 CHECK(flaps >= 0),"
    " count INTEGER NOT NULL DEFAULT 1 CHECK(count >= 1),"
    " value REAL,"
    " message TEXT,"
    AL_CHECKS
    /* One open alert per (rule, key): raises de-duplicate into it. */
    AL_INDEXES
    "CREATE TABLE IF NOT EXISTS app_alert_events("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " alert INTEGER NOT NULL REFERENCES app_alerts(id),"
    " ts_ms INTEGER NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('raised', 're-raised', 'cleared', 'acknowledged',"
    "  'assigned', 'note', 'shelved', 'unshelved', 'resolved', 'escalated', 'notified',"
    "  'notify_failed')),"
    " actor TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX IF NOT EXISTS app_alert_events_alert ON app_alert_events(alert);"
    /* History is never rewritten; deleting stays possible for a retention
     * purge of old resolved alerts. */
    "CREATE TRIGGER IF NOT EXISTS app_alert_events_no_update BEFORE UPDATE ON app_alert_events"
    " BEGIN SELECT RAISE(ABORT, 'alert history is append-only'); END;"
    "CREATE TABLE IF NOT EXISTS app_alert_subs("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " user_id INTEGER NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " channel TEXT NOT NULL CHECK(channel IN ('webhook', 'email', 'mqtt')),"
    " target TEXT NOT NULL,"
    " building TEXT,"
    " min_severity TEXT CHECK(min_severity IS NULL OR min_severity " SEV_IN "),"
    " quiet_start TEXT CHECK" HHMM_SQL("quiet_start") ","
    " quiet_end TEXT CHECK" HHMM_SQL("quiet_end") ","
    " secret TEXT CHECK(secret IS NULL OR channel = 'webhook'),"
    " enabled INTEGER NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    " CHECK((quiet_start IS NULL) = (quiet_end IS NULL)));"
    "CREATE INDEX IF NOT EXISTS app_alert_subs_user ON app_alert_subs(user_id);";

/* ---- schema v5 --------------------------------------------------------- */

/* Escalation (Niagara-style acknowledge-required alarms): a subscription of
 * level n hears about an alert still unacknowledged after n x
 * alerts.escalate_after; 0, every existing row's, is "when raised" as
 * before.  The CHECK holds for whatever code writes the table. */
const char sb_appdb__schema_v5[] =
    "ALTER TABLE app_alert_subs ADD COLUMN level INTEGER NOT NULL DEFAULT 0"
    " CHECK(level BETWEEN 0 AND 3);";

/* ---- PostgreSQL schema (v5 as a whole) ---------------------------------- */

/* The v3 + v5 tables in PostgreSQL's dialect, the same constraints and
 * indexes: BIGINT for INTEGER; identities for AUTOINCREMENT (a sequence
 * never hands out an id twice either); the rule as json, which keeps the
 * text as written and refuses invalid JSON on input (22P02, SB_EINVAL like
 * SQLite's CHECK); an anchored regular expression for GLOB; a plpgsql
 * trigger for the append-only history.  Rule ids compare as bytes
 * (COLLATE "C", SQLite's BINARY), so rule pages come in the same order on
 * both engines whatever the database's locale.  Idempotent: IF NOT EXISTS,
 * OR REPLACE, and the trigger dropped before it is made. */
#define PG_HHMM(c) "(" c " IS NULL OR " c " ~ '^[0-2][0-9]:[0-5][0-9]$')"

const char sb_appdb__pg_schema_alerts[] =
    "CREATE TABLE IF NOT EXISTS app_alert_rules("
    " id TEXT COLLATE \"C\" PRIMARY KEY,"
    " building TEXT NOT NULL,"
    " json JSON NOT NULL CHECK(json_typeof(json) = 'object'),"
    " enabled BIGINT NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    " created_ms BIGINT NOT NULL,"
    " updated_ms BIGINT NOT NULL,"
    " updated_by TEXT);"
    "CREATE INDEX IF NOT EXISTS app_alert_rules_building ON app_alert_rules(building);"
    "CREATE TABLE IF NOT EXISTS app_alerts("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " rule TEXT NOT NULL,"
    " building TEXT NOT NULL,"
    " \"key\" TEXT NOT NULL,"
    " severity TEXT NOT NULL CHECK(severity " SEV_IN "),"
    " state TEXT NOT NULL CHECK(state IN ('active', 'acknowledged', 'resolved')),"
    " cleared BIGINT NOT NULL DEFAULT 0 CHECK(cleared IN (0, 1)),"
    " raised_ms BIGINT NOT NULL,"
    " cleared_ms BIGINT,"
    " acked_ms BIGINT,"
    " acked_by TEXT,"
    " resolved_ms BIGINT,"
    " resolved_by TEXT,"
    " assignee TEXT,"
    " shelved_until_ms BIGINT,"
    " escalated_level BIGINT NOT NULL DEFAULT 0 CHECK(escalated_level BETWEEN 0 AND 9),"
    " flaps BIGINT NOT NULL DEFAULT 0 CHECK(flaps >= 0),"
    " count BIGINT NOT NULL DEFAULT 1 CHECK(count >= 1),"
    " value DOUBLE PRECISION,"
    " message TEXT,"
    AL_CHECKS
    AL_INDEXES
    "CREATE TABLE IF NOT EXISTS app_alert_events("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " alert BIGINT NOT NULL REFERENCES app_alerts(id),"
    " ts_ms BIGINT NOT NULL,"
    " kind TEXT NOT NULL CHECK(kind IN ('raised', 're-raised', 'cleared', 'acknowledged',"
    "  'assigned', 'note', 'shelved', 'unshelved', 'resolved', 'escalated', 'notified',"
    "  'notify_failed')),"
    " actor TEXT NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX IF NOT EXISTS app_alert_events_alert ON app_alert_events(alert);"
    /* UPDATE only, as on SQLite: a retention purge may still delete. */
    "CREATE OR REPLACE FUNCTION app_alert_events_append_only() RETURNS trigger"
    " LANGUAGE plpgsql AS $f$BEGIN RAISE EXCEPTION 'alert history is append-only'; END$f$;"
    "DROP TRIGGER IF EXISTS app_alert_events_no_update ON app_alert_events;"
    "CREATE TRIGGER app_alert_events_no_update BEFORE UPDATE ON app_alert_events"
    " FOR EACH ROW EXECUTE FUNCTION app_alert_events_append_only();"
    "CREATE TABLE IF NOT EXISTS app_alert_subs("
    " id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
    " user_id BIGINT NOT NULL REFERENCES app_users(id) ON DELETE CASCADE,"
    " channel TEXT NOT NULL CHECK(channel IN ('webhook', 'email', 'mqtt')),"
    " target TEXT NOT NULL,"
    " building TEXT,"
    " min_severity TEXT CHECK(min_severity IS NULL OR min_severity " SEV_IN "),"
    " quiet_start TEXT CHECK" PG_HHMM("quiet_start") ","
    " quiet_end TEXT CHECK" PG_HHMM("quiet_end") ","
    " secret TEXT CHECK(secret IS NULL OR channel = 'webhook'),"
    " enabled BIGINT NOT NULL DEFAULT 1 CHECK(enabled IN (0, 1)),"
    " level BIGINT NOT NULL DEFAULT 0 CHECK(level BETWEEN 0 AND 3),"
    " CHECK((quiet_start IS NULL) = (quiet_end IS NULL)));"
    "CREATE INDEX IF NOT EXISTS app_alert_subs_user ON app_alert_subs(user_id);";

/* ---- statements -------------------------------------------------------- */

enum aq {
    AQ_RULE_PUT, AQ_RULE_EXISTS, AQ_RULE_GET, AQ_RULE_DEL, AQ_RULE_LIST, AQ_RULE_COUNT,
    AQ_AL_GET, AQ_AL_OPEN, AQ_AL_INS, AQ_AL_RERAISE, AQ_AL_CLEAR, AQ_AL_ACK, AQ_AL_RESOLVE,
    AQ_AL_ASSIGN, AQ_AL_SHELVE, AQ_AL_ESCALATE, AQ_AL_DUE, AQ_AL_SUMMARY,
    AQ_EV_INS, AQ_EV_LIST,
    AQ_SUB_COUNT, AQ_SUB_INS, AQ_SUB_LIST, AQ_SUB_MATCH, AQ_SUB_SECRET, AQ_SUB_DEL,
    AQ_COUNT
};

#define RULE_COLS "id, building, json, enabled, created_ms, updated_ms, coalesce(updated_by, '')"
#define SCOPE_SQL(p) "(" p " IS NULL OR building IN (SELECT value FROM json_each(" p ")))"
/* PostgreSQL's: the cast to text types a parameter only compared with NULL. */
#define PG_SCOPE_SQL(p) "(" p "::text IS NULL OR building IN " \
                        "(SELECT json_array_elements_text(" p "::json)))"
/* The column order row_alert reads. */
#define AL_COLS "id, rule, building, \"key\", severity, state, cleared, raised_ms, " \
                "coalesce(cleared_ms, 0), coalesce(acked_ms, 0), coalesce(acked_by, ''), " \
                "coalesce(resolved_ms, 0), coalesce(resolved_by, ''), coalesce(assignee, ''), " \
                "coalesce(shelved_until_ms, 0), escalated_level, flaps, count, value, " \
                "coalesce(message, '')"
#define AL_SEL "SELECT " AL_COLS " FROM app_alerts "
#define SUB_SEL "SELECT s.id, s.user_id, u.username, s.channel, s.target, " \
                "coalesce(s.building, ''), coalesce(s.min_severity, ''), " \
                "coalesce(s.quiet_start, ''), coalesce(s.quiet_end, ''), " \
                "coalesce(s.secret, '') <> '', s.enabled, s.level " \
                "FROM app_alert_subs s JOIN app_users u ON u.id = s.user_id "
#define RULE_LIST_SQL(scope) "SELECT " RULE_COLS " FROM app_alert_rules WHERE id > ?1 AND " \
                             scope " ORDER BY id LIMIT ?3"
#define AL_INS_SQL "INSERT INTO app_alerts(rule, building, \"key\", severity, state, " \
                   "raised_ms, value, message) VALUES(?1, ?2, ?3, ?4, 'active', ?5, ?6, ?7)"
#define SUB_INS_SQL "INSERT INTO app_alert_subs(user_id, channel, target, building, " \
                    "min_severity, quiet_start, quiet_end, secret, enabled, level) " \
                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"

static const char *const aq_sql[AQ_COUNT] = {
    /* created_ms stays that of the first put */
    [AQ_RULE_PUT] = "INSERT INTO app_alert_rules(id, building, json, enabled, created_ms, "
                    "updated_ms, updated_by) VALUES(?1, ?2, ?3, ?4, ?5, ?5, ?6) "
                    "ON CONFLICT(id) DO UPDATE SET building = excluded.building, "
                    "json = excluded.json, enabled = excluded.enabled, "
                    "updated_ms = excluded.updated_ms, updated_by = excluded.updated_by",
    [AQ_RULE_EXISTS] = "SELECT 1 FROM app_alert_rules WHERE id = ?1",
    [AQ_RULE_GET] = "SELECT " RULE_COLS " FROM app_alert_rules WHERE id = ?1",
    [AQ_RULE_DEL] = "DELETE FROM app_alert_rules WHERE id = ?1",
    [AQ_RULE_LIST] = RULE_LIST_SQL(SCOPE_SQL("?2")),
    [AQ_RULE_COUNT] = "SELECT count(*) FROM app_alert_rules WHERE " SCOPE_SQL("?1"),
    [AQ_AL_GET] = AL_SEL "WHERE id = ?1",
    /* the partial index's own WHERE, so the planner uses it */
    [AQ_AL_OPEN] = AL_SEL "WHERE rule = ?1 AND \"key\" = ?2 AND state <> 'resolved'",
    [AQ_AL_INS] = AL_INS_SQL,
    [AQ_AL_RERAISE] = "UPDATE app_alerts SET count = count + 1, cleared = 0, flaps = flaps + ?2, "
                      "severity = ?3, value = ?4, message = ?5 WHERE id = ?1",
    [AQ_AL_CLEAR] = "UPDATE app_alerts SET cleared = 1, cleared_ms = ?2 WHERE id = ?1",
    /* A resolved alert keeps its state: ack of a cleared alert resolves first. */
    [AQ_AL_ACK] = "UPDATE app_alerts SET acked_ms = ?2, acked_by = ?3, state = CASE state "
                  "WHEN 'active' THEN 'acknowledged' ELSE state END WHERE id = ?1",
    [AQ_AL_RESOLVE] = "UPDATE app_alerts SET state = 'resolved', resolved_ms = ?2, "
                      "resolved_by = ?3 WHERE id = ?1",
    [AQ_AL_ASSIGN] = "UPDATE app_alerts SET assignee = ?2 WHERE id = ?1",
    [AQ_AL_SHELVE] = "UPDATE app_alerts SET shelved_until_ms = ?2 WHERE id = ?1",
    [AQ_AL_ESCALATE] = "UPDATE app_alerts SET escalated_level = ?2 WHERE id = ?1",
    /* info asks nobody to act, so it never escalates */
    [AQ_AL_DUE] = AL_SEL "WHERE state = 'active' AND severity <> 'info' AND "
                  "(shelved_until_ms IS NULL OR shelved_until_ms <= ?1) AND escalated_level < ?3 AND "
                  "raised_ms <= ?1 - ?2 * (escalated_level + 1) ORDER BY raised_ms, id LIMIT ?4",
    [AQ_AL_SUMMARY] = "SELECT count(*), coalesce(sum(severity = 'critical'), 0), "
                      "coalesce(sum(severity = 'major'), 0), coalesce(sum(severity = 'minor'), 0), "
                      "coalesce(sum(severity = 'info'), 0), coalesce(sum(state = 'active'), 0) "
                      "FROM app_alerts WHERE building = ?1 AND state <> 'resolved'",
    [AQ_EV_INS] = "INSERT INTO app_alert_events(alert, ts_ms, kind, actor, detail) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)",
    [AQ_EV_LIST] = "SELECT id, alert, ts_ms, kind, actor, coalesce(detail, '') "
                   "FROM app_alert_events WHERE alert = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    [AQ_SUB_COUNT] = "SELECT count(*) FROM app_alert_subs WHERE user_id = ?1",
    [AQ_SUB_INS] = SUB_INS_SQL,
    [AQ_SUB_LIST] = SUB_SEL "WHERE ?1 = 0 OR s.user_id = ?1 ORDER BY s.id",
    [AQ_SUB_MATCH] = SUB_SEL "WHERE s.enabled = 1 AND u.disabled = 0 AND "
                     "(s.building IS NULL OR s.building = ?1) AND "
                     "(s.min_severity IS NULL OR " SEVRANK("s.min_severity") " >= ?2) AND "
                     "s.level = ?3 ORDER BY s.user_id, s.id",
    [AQ_SUB_SECRET] = "SELECT coalesce(secret, '') FROM app_alert_subs WHERE id = ?1",
    [AQ_SUB_DEL] = "DELETE FROM app_alert_subs WHERE id = ?1 AND (?2 = 0 OR user_id = ?2)",
};

/* PostgreSQL's text where it differs (NULL: aq_sql's, with ?N read as $N).
 * An INSERT whose id is read back returns it (sql.h); a parameter first
 * met beside a small literal (?1 = 0) would be typed int4, too narrow for
 * an id, so it is cast; a boolean does not sum, so it is counted. */
static const char *const aq_pg[AQ_COUNT] = {
    [AQ_RULE_LIST] = RULE_LIST_SQL(PG_SCOPE_SQL("?2")),
    [AQ_RULE_COUNT] = "SELECT count(*) FROM app_alert_rules WHERE " PG_SCOPE_SQL("?1"),
    [AQ_AL_INS] = AL_INS_SQL " RETURNING id",
    [AQ_AL_SUMMARY] = "SELECT count(*), count(*) FILTER (WHERE severity = 'critical'), "
                      "count(*) FILTER (WHERE severity = 'major'), "
                      "count(*) FILTER (WHERE severity = 'minor'), "
                      "count(*) FILTER (WHERE severity = 'info'), "
                      "count(*) FILTER (WHERE state = 'active') "
                      "FROM app_alerts WHERE building = ?1 AND state <> 'resolved'",
    [AQ_SUB_INS] = SUB_INS_SQL " RETURNING id",
    [AQ_SUB_LIST] = SUB_SEL "WHERE ?1::bigint = 0 OR s.user_id = ?1 ORDER BY s.id",
    [AQ_SUB_DEL] = "DELETE FROM app_alert_subs WHERE id = ?1 AND "
                   "(?2::bigint = 0 OR user_id = ?2)",
};

/* Alert list filters present, as the index of the statement serving them. */
enum {
    LF_SCOPE = 1, LF_STATES = 2, LF_SEVS = 4, LF_RULE = 8, LF_ASSIGNEE = 16, LF_SINCE = 32,
    LF_VARIANTS = 64
};

struct sb_appdb__al {
    struct sb_sql *c;                       /* appdb.c's connection (not owned) */
    pthread_mutex_t *mu;                    /* .. and its mutex (not owned) */
    struct sb_sql_stmt *st[AQ_COUNT];       /* prepared at open */
    struct sb_sql_stmt *list[LF_VARIANTS];  /* alert lists by filter mask, prepared on first use */
};

int sb_appdb__al_open(struct sb_sql *c, pthread_mutex_t *mu, struct sb_appdb__al **out,
                      char *err, size_t errlen)
{
    struct sb_appdb__al *x = calloc(1, sizeof(*x));
    char why[256];
    int rc;

    *out = NULL;
    if (!x) {
        sb_errf(err, errlen, "appdb: out of memory");
        return SB_ENOMEM;
    }
    x->c = c;
    x->mu = mu;
    for (int i = 0; i < AQ_COUNT; i++) {
        rc = sb_sql_prepare(c, sb_sql_pick(c, aq_sql[i], aq_pg[i]), &x->st[i], why, sizeof(why));
        if (rc) {
            sb_errf(err, errlen, "appdb: prepare alert %d: %s", i, why);
            sb_appdb__al_close(x);
            return rc == SB_ENOMEM ? SB_ENOMEM : SB_ESTORE;
        }
    }
    *out = x;
    return 0;
}

void sb_appdb__al_close(struct sb_appdb__al *x)
{
    if (!x)
        return;
    for (int i = 0; i < AQ_COUNT; i++)
        if (x->st[i])
            sb_sql_finalize(x->st[i]);
    for (int i = 0; i < LF_VARIANTS; i++)
        if (x->list[i])
            sb_sql_finalize(x->list[i]);
    free(x);
}

/* ---- statement helpers (as in appdb.c) ---------------------------------- */

/* NULL and "" bind SQL NULL.  Not copied on SQLite: every statement is reset
 * before the call that bound it returns. */
static void bind_opt(struct sb_sql_stmt *st, int i, const char *s)
{
    if (s && *s)
        sb_sql_bind_text(st, i, s);
    else
        sb_sql_bind_null(st, i);
}

static int step_done(struct sb_sql_stmt *st, const char *what)
{
    return sb_appdb__step_done(st, what);
}

static int step_row(struct sb_sql_stmt *st, const char *what)
{
    return sb_appdb__step_row(st, what);
}

static int tx_begin(struct sb_appdb__al *x)
{
    return sb_sql_begin(x->c, MOD);
}

/* Commits (commit != 0) or rolls back; SB_ESTORE when the commit failed.
 * After a failed statement PostgreSQL's transaction is aborted and SQLite's
 * may be gone (FULL, IOERR): sb_sql_end rolls back whatever is left. */
static int tx_end(struct sb_appdb__al *x, int commit)
{
    return sb_sql_end(x->c, commit, MOD);
}

/* Runs a statement whose parameters are bound and copies each row with fn
 * into a growing malloc'd array of elements of size sz: *out and *n, the
 * rows (NULL and 0 when none or on error). */
static int collect(struct sb_sql_stmt *st, size_t sz, void (*fn)(struct sb_sql_stmt *, void *),
                   void **out, size_t *n, const char *what)
{
    char *v = NULL, *nv;
    size_t len = 0, cap = 0;
    int src, rc = 0;

    while ((src = sb_sql_step(st, MOD, what)) == SB_SQL_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 8;
            if (!(nv = realloc(v, cap * sz))) {
                rc = SB_ENOMEM;
                break;
            }
            v = nv;
        }
        fn(st, v + len++ * sz);
    }
    if (rc == 0 && src < 0)
        rc = src;   /* mapped and logged by sb_sql_step */
    sb_sql_reset(st);
    if (rc || len == 0) {
        free(v);
        v = NULL;
        len = 0;
    }
    *out = v;
    *n = len;
    return rc;
}

/* A set as a JSON array of strings, for json_each(); each element must
 * satisfy ok, which keeps it free of characters JSON would escape.  NULL
 * with *rc = SB_EINVAL / SB_ENOMEM. */
static char *json_set(const char *const *v, size_t n, int (*ok)(const char *), int *rc)
{
    size_t len = 3;
    char *s, *p;

    for (size_t i = 0; i < n; i++) {
        if (!v[i] || !ok(v[i])) {
            *rc = SB_EINVAL;
            return NULL;
        }
        len += strlen(v[i]) + 3;
    }
    if (!(s = p = malloc(len))) {
        *rc = SB_ENOMEM;
        return NULL;
    }
    *p++ = '[';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\"%s\"", i ? "," : "", v[i]);
    strcpy(p, "]");
    return s;
}

/* The scope as a JSON set: *json NULL for "all"; SB_ENOENT when nothing is
 * visible (the caller answers an empty result without a query). */
static int scope_json(const struct sb_alert_scope *sc, char **json)
{
    int rc = 0;

    *json = NULL;
    if (!sc || (!sc->all && sc->n && !sc->buildings) || sc->n > SB_GRANTS_MAX)
        return SB_EINVAL;
    if (sc->all)
        return 0;
    if (sc->n == 0)
        return SB_ENOENT;
    *json = json_set(sc->buildings, sc->n, slug_ok, &rc);
    return rc;
}

/* ---- rules ------------------------------------------------------------- */

static void row_rule(struct sb_sql_stmt *st, void *dst)
{
    struct sb_alert_rule *r = dst;

    memset(r, 0, sizeof(*r));
    sb_appdb__cpy_col(r->id, sizeof(r->id), st, 0);
    sb_appdb__cpy_col(r->building, sizeof(r->building), st, 1);
    sb_appdb__cpy_col(r->json, sizeof(r->json), st, 2);
    r->enabled = sb_sql_col_int(st, 3) != 0;
    r->created_ms = sb_sql_col_i64(st, 4);
    r->updated_ms = sb_sql_col_i64(st, 5);
    sb_appdb__cpy_col(r->updated_by, sizeof(r->updated_by), st, 6);
}

static int rule_upsert(struct sb_appdb__al *x, const struct sb_alert_rule *r, int *created)
{
    struct sb_sql_stmt *st = x->st[AQ_RULE_EXISTS];
    int rc;

    bind_opt(st, 1, r->id);
    rc = step_row(st, "alert rule exists");
    if (rc == 0)
        sb_sql_reset(st);
    else if (rc != SB_ENOENT)
        return rc;
    *created = rc == SB_ENOENT;
    st = x->st[AQ_RULE_PUT];
    bind_opt(st, 1, r->id);
    bind_opt(st, 2, r->building);
    bind_opt(st, 3, r->json);      /* bad JSON: SB_EINVAL (CHECK, json type) */
    sb_sql_bind_i64(st, 4, r->enabled != 0);
    sb_sql_bind_i64(st, 5, r->updated_ms);
    bind_opt(st, 6, r->updated_by);
    return step_done(st, "alert rule put");
}

int sb_appdb__rule_put(void *impl, const struct sb_alert_rule *r, int *created)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    int rc, erc, c = 0;

    if (!rule_ok(r))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    if ((rc = tx_begin(x)) == 0) {
        rc = rule_upsert(x, r, &c);
        erc = tx_end(x, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(x->mu);
    if (rc == 0 && created)
        *created = c;
    return rc;
}

int sb_appdb__rule_get(void *impl, const char *id, struct sb_alert_rule *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_RULE_GET];
    int rc;

    if (!slug_ok(id) || !out)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    bind_opt(st, 1, id);
    if ((rc = step_row(st, "alert rule get")) == 0) {
        row_rule(st, out);
        sb_sql_reset(st);
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__rule_delete(void *impl, const char *id)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_RULE_DEL];
    int rc;

    if (!slug_ok(id))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    bind_opt(st, 1, id);
    rc = step_done(st, "alert rule delete");
    if (rc == 0 && sb_sql_changes(x->c) == 0)
        rc = SB_ENOENT;
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* Reads limit + 1 rows: the extra one only tells that another page exists. */
static int rule_page(struct sb_sql_stmt *st, int limit, struct sb_alert_rule_page *out)
{
    int src, rc = 0;

    while ((src = sb_sql_step(st, MOD, "alert rule list")) == SB_SQL_ROW) {
        if (out->n == (size_t)limit) {
            memcpy(out->next_after, out->v[limit - 1].id, sizeof(out->next_after));
            break;
        }
        row_rule(st, &out->v[out->n++]);
    }
    if (src < 0)
        rc = src;
    sb_sql_reset(st);
    return rc;
}

int sb_appdb__rule_list(void *impl, const struct sb_alert_scope *scope, const char *after,
                        int limit, struct sb_alert_rule_page *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_RULE_LIST];
    char *set = NULL;
    int rc;

    if (!out || limit < 1 || limit > SB_ALERT_PAGE_MAX || (after && *after && !slug_ok(after)))
        return SB_EINVAL;
    sb_alert_rule_page_release(out);
    if ((rc = scope_json(scope, &set)))
        return rc == SB_ENOENT ? 0 : rc;
    if (!(out->v = calloc((size_t)limit, sizeof(*out->v)))) {
        free(set);
        return SB_ENOMEM;
    }
    pthread_mutex_lock(x->mu);
    sb_sql_bind_text(st, 1, after ? after : "");
    bind_opt(st, 2, set);
    sb_sql_bind_i64(st, 3, limit + 1);
    rc = rule_page(st, limit, out);
    pthread_mutex_unlock(x->mu);
    free(set);
    if (rc)
        sb_alert_rule_page_release(out);
    return rc;
}

int sb_appdb__rule_count(void *impl, const struct sb_alert_scope *scope, int64_t *n)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_RULE_COUNT];
    char *set = NULL;
    int rc;

    if (!n)
        return SB_EINVAL;
    *n = 0;
    if ((rc = scope_json(scope, &set)))
        return rc == SB_ENOENT ? 0 : rc;
    pthread_mutex_lock(x->mu);
    bind_opt(st, 1, set);
    if ((rc = step_row(st, "alert rule count")) == 0) {
        *n = sb_sql_col_i64(st, 0);
        sb_sql_reset(st);
    }
    pthread_mutex_unlock(x->mu);
    free(set);
    return rc;
}

/* ---- alert rows and events ---------------------------------------------- */

/* The current row of an AL_COLS statement. */
static void row_alert(struct sb_sql_stmt *st, void *dst)
{
    struct sb_alert *a = dst;

    memset(a, 0, sizeof(*a));
    a->id = sb_sql_col_i64(st, 0);
    sb_appdb__cpy_col(a->rule, sizeof(a->rule), st, 1);
    sb_appdb__cpy_col(a->building, sizeof(a->building), st, 2);
    sb_appdb__cpy_col(a->key, sizeof(a->key), st, 3);
    a->severity = sb_alert_sev_parse(sb_sql_col_text(st, 4));
    a->state = sb_alert_state_parse(sb_sql_col_text(st, 5));
    a->cleared = sb_sql_col_int(st, 6) != 0;
    a->raised_ms = sb_sql_col_i64(st, 7);
    a->cleared_ms = sb_sql_col_i64(st, 8);
    a->acked_ms = sb_sql_col_i64(st, 9);
    sb_appdb__cpy_col(a->acked_by, sizeof(a->acked_by), st, 10);
    a->resolved_ms = sb_sql_col_i64(st, 11);
    sb_appdb__cpy_col(a->resolved_by, sizeof(a->resolved_by), st, 12);
    sb_appdb__cpy_col(a->assignee, sizeof(a->assignee), st, 13);
    a->shelved_until_ms = sb_sql_col_i64(st, 14);
    a->escalated_level = sb_sql_col_int(st, 15);
    a->flaps = sb_sql_col_i64(st, 16);
    a->count = sb_sql_col_i64(st, 17);
    a->value = sb_sql_col_null(st, 18) ? NAN : sb_sql_col_double(st, 18);
    sb_appdb__cpy_col(a->message, sizeof(a->message), st, 19);
}

/* Steps a one-row AL_COLS statement (parameters bound) into out. */
static int alert_fetch(struct sb_sql_stmt *st, struct sb_alert *out)
{
    int rc = step_row(st, "alert get");

    if (rc == 0) {
        row_alert(st, out);
        sb_sql_reset(st);
    }
    return rc;
}

static int alert_load(struct sb_appdb__al *x, int64_t id, struct sb_alert *out)
{
    sb_sql_bind_i64(x->st[AQ_AL_GET], 1, id);
    return alert_fetch(x->st[AQ_AL_GET], out);
}

/* The open alert of (rule, key), SB_ENOENT when none. */
static int alert_open(struct sb_appdb__al *x, const char *rule, const char *key,
                      struct sb_alert *out)
{
    bind_opt(x->st[AQ_AL_OPEN], 1, rule);
    bind_opt(x->st[AQ_AL_OPEN], 2, key);
    return alert_fetch(x->st[AQ_AL_OPEN], out);
}

static int ev_add(struct sb_appdb__al *x, int64_t alert, int64_t ts, const char *kind,
                  const char *actor, const char *detail)
{
    struct sb_sql_stmt *st = x->st[AQ_EV_INS];

    sb_sql_bind_i64(st, 1, alert);
    sb_sql_bind_i64(st, 2, ts);
    bind_opt(st, 3, kind);
    bind_opt(st, 4, actor);
    bind_opt(st, 5, detail);
    return step_done(st, "alert event");
}

/* "a: b", "a" or "b" into buf[SB_ALERT_DETAIL_MAX + 1] (either may be NULL
 * or ""); a cut never splits a UTF-8 sequence.  Returns buf. */
static const char *detail2(char *buf, const char *a, const char *b)
{
    int ha = a && *a, hb = b && *b;
    size_t n;

    snprintf(buf, SB_ALERT_DETAIL_MAX + 1, "%s%s%s", ha ? a : "", ha && hb ? ": " : "",
             hb ? b : "");
    n = strlen(buf);
    if (n == SB_ALERT_DETAIL_MAX) {
        /* back off to the start of the last (possibly cut) sequence, then
         * keep it only if it is whole */
        size_t k = n;
        while (k > 0 && ((unsigned char)buf[k - 1] & 0xc0) == 0x80)
            k--;
        if (k > 0 && !utf8_ok((const unsigned char *)buf + k - 1, n - k + 1, 1))
            buf[k - 1] = 0;
    }
    return buf;
}

/* Both UPDATEs by id with (?2 time, ?3 actor). */
static int upd_time_actor(struct sb_appdb__al *x, enum aq q, int64_t id, int64_t now,
                          const char *actor, const char *what)
{
    struct sb_sql_stmt *st = x->st[q];

    sb_sql_bind_i64(st, 1, id);
    sb_sql_bind_i64(st, 2, now);
    bind_opt(st, 3, actor);
    return step_done(st, what);
}

/* UPDATEs by id with one integer (?2, NULL when null is set). */
static int upd_int(struct sb_appdb__al *x, enum aq q, int64_t id, int64_t v, int null,
                   const char *what)
{
    struct sb_sql_stmt *st = x->st[q];

    sb_sql_bind_i64(st, 1, id);
    if (null)
        sb_sql_bind_null(st, 2);
    else
        sb_sql_bind_i64(st, 2, v);
    return step_done(st, what);
}

/* ---- raise and clear --------------------------------------------------- */

/* What alert_raise was given (checked). */
struct raise_in {
    const char *rule, *building, *key, *message;
    int severity;
    double value;                  /* NaN = none */
    int64_t now, flap_window;
};

static void bind_value(struct sb_sql_stmt *st, int i, double v)
{
    if (isnan(v))
        sb_sql_bind_null(st, i);
    else
        sb_sql_bind_double(st, i, v);
}

static int raise_new(struct sb_appdb__al *x, const struct raise_in *in, int64_t *id)
{
    struct sb_sql_stmt *st = x->st[AQ_AL_INS];
    int rc;

    bind_opt(st, 1, in->rule);
    bind_opt(st, 2, in->building);
    bind_opt(st, 3, in->key);
    bind_opt(st, 4, sb_alert_sev_name(in->severity));
    sb_sql_bind_i64(st, 5, in->now);
    bind_value(st, 6, in->value);
    bind_opt(st, 7, in->message);
    if ((rc = step_done(st, "alert insert")))
        return rc;
    *id = sb_sql_last_id(x->c);
    return ev_add(x, *id, in->now, "raised", SB_ALERT_SYSTEM, in->message);
}

/* De-duplicates into the open alert cur; a raise soon after a clear is a
 * flap (the condition chatters around its threshold). */
static int raise_again(struct sb_appdb__al *x, const struct raise_in *in,
                       const struct sb_alert *cur, int *outcome)
{
    struct sb_sql_stmt *st = x->st[AQ_AL_RERAISE];
    int flap = cur->cleared && in->flap_window > 0 && in->now - cur->cleared_ms <= in->flap_window;
    char buf[SB_ALERT_DETAIL_MAX + 1], what[48];
    int rc;

    sb_sql_bind_i64(st, 1, cur->id);
    sb_sql_bind_i64(st, 2, flap);
    bind_opt(st, 3, sb_alert_sev_name(in->severity));
    bind_value(st, 4, in->value);
    bind_opt(st, 5, in->message);
    if ((rc = step_done(st, "alert re-raise")))
        return rc;
    *outcome = flap ? SB_ALERT_RAISED_FLAP : SB_ALERT_RAISED_AGAIN;
    snprintf(what, sizeof(what), "%s %lld", flap ? "flap" : "raise",
             (long long)(flap ? cur->flaps + 1 : cur->count + 1));
    return ev_add(x, cur->id, in->now, "re-raised", SB_ALERT_SYSTEM,
                  detail2(buf, what, in->message));
}

static int raise_tx(struct sb_appdb__al *x, const struct raise_in *in, int64_t *id, int *outcome)
{
    struct sb_alert cur;
    int rc = alert_open(x, in->rule, in->key, &cur);

    if (rc == SB_ENOENT) {
        *outcome = SB_ALERT_RAISED_NEW;
        return raise_new(x, in, id);
    }
    if (rc)
        return rc;
    *id = cur.id;
    return raise_again(x, in, &cur, outcome);
}

int sb_appdb__alert_raise(void *impl, const char *rule, const char *building, const char *key,
                          int severity, double value, const char *message, int64_t now_ms,
                          int64_t flap_window_ms, struct sb_alert *out, int *outcome)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct raise_in in = { rule, building, key, message, severity, value, now_ms, flap_window_ms };
    int64_t id = 0;
    int rc, erc, how = 0;

    if (!slug_ok(rule) || !slug_ok(building) || !text_ok(key, SB_ALERT_KEY_MAX) ||
        !sb_alert_sev_name(severity) || isinf(value) ||
        !opt_text_ok(message, SB_ALERT_MSG_MAX, 0) || flap_window_ms < 0 || now_ms < 0)
        return SB_EINVAL;   /* times >= 0: now - cleared_ms cannot overflow */
    pthread_mutex_lock(x->mu);
    if ((rc = tx_begin(x)) == 0) {
        rc = raise_tx(x, &in, &id, &how);
        if (rc == 0 && out)
            rc = alert_load(x, id, out);
        erc = tx_end(x, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(x->mu);
    if (rc == 0 && outcome)
        *outcome = how;
    return rc;
}

/* Resolving first keeps the CHECK "never acknowledged and cleared" true
 * after each UPDATE. */
static int clear_tx(struct sb_appdb__al *x, const char *rule, const char *key, int64_t now,
                    int auto_resolve, int64_t *id)
{
    struct sb_alert cur;
    int rc = alert_open(x, rule, key, &cur), resolve;

    if (rc)
        return rc;
    *id = cur.id;
    if (cur.cleared)
        return SB_EEXIST;
    resolve = auto_resolve || cur.state == SB_ALERT_ACKED;
    if (resolve && (rc = upd_time_actor(x, AQ_AL_RESOLVE, cur.id, now, SB_ALERT_SYSTEM,
                                        "alert resolve")))
        return rc;
    if ((rc = upd_int(x, AQ_AL_CLEAR, cur.id, now, 0, "alert clear")) ||
        (rc = ev_add(x, cur.id, now, "cleared", SB_ALERT_SYSTEM, NULL)) || !resolve)
        return rc;
    return ev_add(x, cur.id, now, "resolved", SB_ALERT_SYSTEM,
                  cur.state == SB_ALERT_ACKED ? "acknowledged, and the condition cleared"
                                              : "auto-resolved: the condition cleared");
}

int sb_appdb__alert_clear(void *impl, const char *rule, const char *key, int64_t now_ms,
                          int auto_resolve, struct sb_alert *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    int64_t id = 0;
    int rc, erc;

    if (!slug_ok(rule) || !text_ok(key, SB_ALERT_KEY_MAX) || now_ms < 0)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    if ((rc = tx_begin(x)) == 0) {
        rc = clear_tx(x, rule, key, now_ms, auto_resolve, &id);
        if (rc == 0 && out)
            rc = alert_load(x, id, out);
        erc = tx_end(x, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* ---- transitions by id ------------------------------------------------- */

/* The arguments of one transition (checked by its entry point). */
struct targ {
    int64_t now;
    const char *actor;
    const char *text;              /* note, or a notification's detail */
    const char *who;               /* assignee, or a notification's channel */
    const char *target;            /* a notification's target */
    int64_t until;                 /* shelve */
    int level;                     /* escalate */
    int ok;                        /* notified */
};

/* One transition inside its transaction, given the alert as it is. */
typedef int (*tfn)(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t);

/* Load, check and apply fn, read back into out (may be NULL): one
 * transaction; nothing is written unless all of it succeeds. */
static int transition(void *impl, int64_t id, tfn fn, const struct targ *t, struct sb_alert *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_alert cur;
    int rc, erc;

    if (id <= 0 || t->now < 0)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    if ((rc = tx_begin(x)) == 0) {
        rc = alert_load(x, id, &cur);
        if (rc == 0)
            rc = fn(x, &cur, t);
        if (rc == 0 && out)
            rc = alert_load(x, id, out);
        erc = tx_end(x, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* An acknowledged alert whose condition is gone is done (Niagara's "acked
 * and normal"): acknowledging a cleared alert resolves it, as clearing an
 * acknowledged one does. */
static int t_ack(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    int rc = 0;

    if (cur->state != SB_ALERT_ACTIVE)
        return SB_EEXIST;
    if (cur->cleared)
        rc = upd_time_actor(x, AQ_AL_RESOLVE, cur->id, t->now, SB_ALERT_SYSTEM, "alert resolve");
    if (rc || (rc = upd_time_actor(x, AQ_AL_ACK, cur->id, t->now, t->actor, "alert ack")) ||
        (rc = ev_add(x, cur->id, t->now, "acknowledged", t->actor, t->text)) || !cur->cleared)
        return rc;
    return ev_add(x, cur->id, t->now, "resolved", SB_ALERT_SYSTEM,
                  "acknowledged after the condition cleared");
}

static int t_assign(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    struct sb_sql_stmt *st = x->st[AQ_AL_ASSIGN];
    char buf[SB_ALERT_DETAIL_MAX + 1];
    int rc;

    if (cur->state == SB_ALERT_RESOLVED)
        return SB_EEXIST;
    sb_sql_bind_i64(st, 1, cur->id);
    bind_opt(st, 2, t->who);
    if ((rc = step_done(st, "alert assign")))
        return rc;
    return ev_add(x, cur->id, t->now, "assigned", t->actor,
                  detail2(buf, t->who && *t->who ? t->who : "nobody", t->text));
}

static int t_note(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    return ev_add(x, cur->id, t->now, "note", t->actor, t->text);
}

static int t_shelve(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    char buf[SB_ALERT_DETAIL_MAX + 1], when[40], until[32];
    int rc;

    if (cur->state == SB_ALERT_RESOLVED)
        return SB_EEXIST;
    if ((rc = upd_int(x, AQ_AL_SHELVE, cur->id, t->until, 0, "alert shelve")))
        return rc;
    snprintf(when, sizeof(when), "until %s", sb_time_format(t->until, until, sizeof(until)));
    return ev_add(x, cur->id, t->now, "shelved", t->actor, detail2(buf, when, t->text));
}

static int t_unshelve(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    int rc;

    if (cur->state == SB_ALERT_RESOLVED || cur->shelved_until_ms <= t->now)
        return SB_EEXIST;
    if ((rc = upd_int(x, AQ_AL_SHELVE, cur->id, 0, 1, "alert unshelve")))
        return rc;
    return ev_add(x, cur->id, t->now, "unshelved", t->actor, NULL);
}

static int t_resolve(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    int rc;

    if (cur->state == SB_ALERT_RESOLVED)
        return SB_EEXIST;
    if ((rc = upd_time_actor(x, AQ_AL_RESOLVE, cur->id, t->now, t->actor, "alert resolve")))
        return rc;
    return ev_add(x, cur->id, t->now, "resolved", t->actor, t->text);
}

/* Escalation exists because nobody acknowledged: an acknowledged, shelved
 * or resolved alert is not escalated, even when the escalator raced. */
static int t_escalate(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    char buf[24];
    int rc;

    if (cur->state != SB_ALERT_ACTIVE || cur->shelved_until_ms > t->now ||
        t->level <= cur->escalated_level)
        return SB_EEXIST;
    if ((rc = upd_int(x, AQ_AL_ESCALATE, cur->id, t->level, 0, "alert escalate")))
        return rc;
    snprintf(buf, sizeof(buf), "level %d", t->level);
    return ev_add(x, cur->id, t->now, "escalated", SB_ALERT_SYSTEM, buf);
}

static int t_notified(struct sb_appdb__al *x, const struct sb_alert *cur, const struct targ *t)
{
    char buf[SB_ALERT_DETAIL_MAX + 1], what[16 + 1 + SB_ALERT_TARGET_MAX + 1];

    snprintf(what, sizeof(what), "%s%s%s", t->who, t->target && *t->target ? " " : "",
             t->target ? t->target : "");
    return ev_add(x, cur->id, t->now, t->ok ? "notified" : "notify_failed", SB_ALERT_SYSTEM,
                  detail2(buf, what, t->text));
}

int sb_appdb__alert_ack(void *impl, int64_t id, const char *actor, const char *note,
                        int64_t now_ms, struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor, .text = note };

    if (!ACTOR_OK(actor) || !NOTE_OK(note))
        return SB_EINVAL;
    return transition(impl, id, t_ack, &t, out);
}

int sb_appdb__alert_assign(void *impl, int64_t id, const char *assignee, const char *actor,
                           const char *note, int64_t now_ms, struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor, .text = note, .who = assignee };

    if (!ACTOR_OK(actor) || !NOTE_OK(note) ||
        (assignee && *assignee && !ACTOR_OK(assignee)))
        return SB_EINVAL;
    return transition(impl, id, t_assign, &t, out);
}

int sb_appdb__alert_note(void *impl, int64_t id, const char *actor, const char *text,
                         int64_t now_ms, struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor, .text = text };

    if (!ACTOR_OK(actor) || !text || !*text || !NOTE_OK(text))
        return SB_EINVAL;
    return transition(impl, id, t_note, &t, out);
}

int sb_appdb__alert_shelve(void *impl, int64_t id, int64_t until_ms, const char *actor,
                           const char *note, int64_t now_ms, struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor, .text = note, .until = until_ms };

    if (!ACTOR_OK(actor) || !NOTE_OK(note) || until_ms <= now_ms)
        return SB_EINVAL;
    return transition(impl, id, t_shelve, &t, out);
}

int sb_appdb__alert_unshelve(void *impl, int64_t id, const char *actor, int64_t now_ms,
                             struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor };

    if (!ACTOR_OK(actor))
        return SB_EINVAL;
    return transition(impl, id, t_unshelve, &t, out);
}

int sb_appdb__alert_resolve(void *impl, int64_t id, const char *actor, const char *note,
                            int64_t now_ms, struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .actor = actor, .text = note };

    if (!ACTOR_OK(actor) || !NOTE_OK(note))
        return SB_EINVAL;
    return transition(impl, id, t_resolve, &t, out);
}

int sb_appdb__alert_escalate(void *impl, int64_t id, int level, int64_t now_ms,
                             struct sb_alert *out)
{
    struct targ t = { .now = now_ms, .level = level };

    if (level < 1 || level > SB_ALERT_LEVEL_MAX)
        return SB_EINVAL;
    return transition(impl, id, t_escalate, &t, out);
}

static int channel_ok(const char *s)
{
    size_t n;

    if (!s || (n = strnlen(s, 16)) == 0 || n > 15)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return 1;
}

int sb_appdb__alert_notified(void *impl, int64_t id, const char *channel, const char *target,
                             int ok, const char *detail, int64_t now_ms)
{
    struct targ t = { .now = now_ms, .who = channel, .target = target, .text = detail, .ok = ok };

    if (!channel_ok(channel) || !opt_text_ok(target, SB_ALERT_TARGET_MAX, 0) || !NOTE_OK(detail))
        return SB_EINVAL;
    return transition(impl, id, t_notified, &t, NULL);
}

/* ---- reading alerts ---------------------------------------------------- */

int sb_appdb__alert_get(void *impl, int64_t id, struct sb_alert *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    int rc;

    if (id <= 0 || !out)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    rc = alert_load(x, id, out);
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* The alert list's filters by LF_ bit, in parameter order (?2 .. ?7):
 * SQLite's text and PostgreSQL's (NULL: the same).  An absent filter
 * leaves its parameter out of the text (sb_sql_prepare numbers the rest
 * without gaps on PostgreSQL). */
static const struct list_frag {
    int bit;
    const char *sql, *pg;
} list_frags[] = {
    { LF_SCOPE, " AND building IN (SELECT value FROM json_each(?2))",
      " AND building IN (SELECT json_array_elements_text(?2::json))" },
    { LF_STATES, " AND state IN (SELECT value FROM json_each(?3))",
      " AND state IN (SELECT json_array_elements_text(?3::json))" },
    { LF_SEVS, " AND severity IN (SELECT value FROM json_each(?4))",
      " AND severity IN (SELECT json_array_elements_text(?4::json))" },
    { LF_RULE, " AND rule = ?5", NULL },
    { LF_ASSIGNEE, " AND assignee = ?6", NULL },
    { LF_SINCE, " AND raised_ms >= ?7", NULL },
};
#define NFRAGS (sizeof(list_frags) / sizeof(list_frags[0]))

/* The statement for one combination of filters, from constant fragments
 * only; parameter numbers are fixed so binding does not depend on the mix. */
static struct sb_sql_stmt *list_stmt(struct sb_appdb__al *x, int mask)
{
    char sql[1536], why[256];
    size_t len;

    if (x->list[mask])
        return x->list[mask];
    len = (size_t)snprintf(sql, sizeof(sql), AL_SEL "WHERE id < ?1");
    for (size_t i = 0; i < NFRAGS && len < sizeof(sql); i++)
        if (mask & list_frags[i].bit)
            len += (size_t)snprintf(sql + len, sizeof(sql) - len, "%s",
                                    sb_sql_pick(x->c, list_frags[i].sql, list_frags[i].pg));
    if (len < sizeof(sql))
        len += (size_t)snprintf(sql + len, sizeof(sql) - len, " ORDER BY id DESC LIMIT ?8");
    if (len >= sizeof(sql)) {   /* the fragments are constant: cannot happen */
        SB_ERR(MOD, "alert list: statement too long");
        return NULL;
    }
    if (sb_sql_prepare(x->c, sql, &x->list[mask], why, sizeof(why)) != 0) {
        SB_ERR(MOD, "alert list prepare: %s", why);
        x->list[mask] = NULL;
    }
    return x->list[mask];
}

/* A mask of SB_ALERT_BIT()s as a JSON set of names ("" for 0); SB_EINVAL
 * for a bit without a name. */
static int mask_json(unsigned mask, const char *const *names, int n, char *buf, size_t cap)
{
    const char *v[8];
    size_t k = 0;
    char *s;
    int rc = 0;

    buf[0] = 0;
    if (mask == 0)
        return 0;
    if (mask & ~(((1u << (n + 1)) - 1) & ~1u))
        return SB_EINVAL;
    for (int i = 1; i <= n; i++)
        if (mask & (1u << i))
            v[k++] = names[i];
    if (!(s = json_set(v, k, slug_ok, &rc)))
        return rc;
    snprintf(buf, cap, "%s", s);
    free(s);
    return 0;
}

/* Everything alert_list binds, checked. */
struct list_args {
    char *scope;                   /* JSON set, NULL = all (malloc'd) */
    char states[64], sevs[64];     /* JSON sets, "" = any */
    int mask;                      /* LF_* present */
};

static int list_prepare(const struct sb_alert_filter *f, struct list_args *la)
{
    int rc;

    memset(la, 0, sizeof(*la));
    if (!f || f->limit < 1 || f->limit > SB_ALERT_PAGE_MAX || f->before_id < 0 ||
        f->since_ms < 0 || (f->rule && *f->rule && !slug_ok(f->rule)) ||
        (f->assignee && *f->assignee && !ACTOR_OK(f->assignee)))
        return SB_EINVAL;
    if ((rc = mask_json(f->states, state_names, NSTATE, la->states, sizeof(la->states))) ||
        (rc = mask_json(f->severities, sev_names, NSEV, la->sevs, sizeof(la->sevs))) ||
        (rc = scope_json(&f->scope, &la->scope)))
        return rc;
    la->mask = (la->scope ? LF_SCOPE : 0) | (la->states[0] ? LF_STATES : 0) |
               (la->sevs[0] ? LF_SEVS : 0) | (f->rule && *f->rule ? LF_RULE : 0) |
               (f->assignee && *f->assignee ? LF_ASSIGNEE : 0) | (f->since_ms ? LF_SINCE : 0);
    return 0;
}

static void list_bind(struct sb_sql_stmt *st, const struct sb_alert_filter *f,
                      const struct list_args *la)
{
    sb_sql_bind_i64(st, 1, f->before_id > 0 ? f->before_id : INT64_MAX);
    bind_opt(st, 2, la->scope);
    bind_opt(st, 3, la->states);
    bind_opt(st, 4, la->sevs);
    bind_opt(st, 5, f->rule);
    bind_opt(st, 6, f->assignee);
    sb_sql_bind_i64(st, 7, f->since_ms);
    sb_sql_bind_i64(st, 8, f->limit + 1);
}

/* Reads up to limit rows into out; with more_cursor, a row past limit sets
 * next_before_id (the statement asked for limit + 1). */
static int alert_page(struct sb_sql_stmt *st, int limit, int more_cursor,
                      struct sb_alert_page *out)
{
    int src, rc = 0;

    while ((src = sb_sql_step(st, MOD, "alert list")) == SB_SQL_ROW) {
        if (out->n == (size_t)limit) {
            if (more_cursor)
                out->next_before_id = out->v[limit - 1].id;
            break;
        }
        row_alert(st, &out->v[out->n++]);
    }
    if (src < 0)
        rc = src;
    sb_sql_reset(st);
    return rc;
}

int sb_appdb__alert_list(void *impl, const struct sb_alert_filter *f, struct sb_alert_page *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct list_args la;
    struct sb_sql_stmt *st;
    int rc;

    if (!out)
        return SB_EINVAL;
    sb_alert_page_release(out);
    if ((rc = list_prepare(f, &la)))
        return rc == SB_ENOENT ? 0 : rc;   /* nothing in scope: an empty page */
    if (!(out->v = calloc((size_t)f->limit, sizeof(*out->v)))) {
        free(la.scope);
        return SB_ENOMEM;
    }
    pthread_mutex_lock(x->mu);
    rc = SB_ESTORE;
    if ((st = list_stmt(x, la.mask))) {
        list_bind(st, f, &la);
        rc = alert_page(st, f->limit, 1, out);
    }
    pthread_mutex_unlock(x->mu);
    free(la.scope);
    if (rc)
        sb_alert_page_release(out);
    return rc;
}

static void row_event(struct sb_sql_stmt *st, void *dst)
{
    struct sb_alert_event *e = dst;

    memset(e, 0, sizeof(*e));
    e->id = sb_sql_col_i64(st, 0);
    e->alert = sb_sql_col_i64(st, 1);
    e->ts_ms = sb_sql_col_i64(st, 2);
    sb_appdb__cpy_col(e->kind, sizeof(e->kind), st, 3);
    sb_appdb__cpy_col(e->actor, sizeof(e->actor), st, 4);
    sb_appdb__cpy_col(e->detail, sizeof(e->detail), st, 5);
}

static int events_read(struct sb_appdb__al *x, int64_t id, int64_t after_id, int limit,
                       struct sb_alert_event **out, size_t *n)
{
    struct sb_sql_stmt *st = x->st[AQ_AL_GET];
    void *v;
    int rc;

    sb_sql_bind_i64(st, 1, id);
    if ((rc = step_row(st, "alert events")))
        return rc;
    sb_sql_reset(st);
    st = x->st[AQ_EV_LIST];
    sb_sql_bind_i64(st, 1, id);
    sb_sql_bind_i64(st, 2, after_id);
    sb_sql_bind_i64(st, 3, limit + 1);
    rc = collect(st, sizeof(**out), row_event, &v, n, "alert events");
    *out = v;
    return rc;
}

int sb_appdb__alert_events(void *impl, int64_t id, int64_t after_id, int limit,
                           struct sb_alert_event **out, size_t *n, int64_t *next)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    int rc;

    if (id <= 0 || after_id < 0 || limit < 1 || limit > SB_ALERT_PAGE_MAX || !out || !n || !next)
        return SB_EINVAL;
    *out = NULL;
    *n = 0;
    *next = 0;
    pthread_mutex_lock(x->mu);
    rc = events_read(x, id, after_id, limit, out, n);
    pthread_mutex_unlock(x->mu);
    if (rc == 0 && *n > (size_t)limit) {   /* the extra row only tells that more exist */
        *n = (size_t)limit;
        *next = (*out)[limit - 1].id;
    }
    return rc;
}

int sb_appdb__alert_escalation_due(void *impl, int64_t now_ms, int64_t ack_timeout_ms,
                                   int max_level, int limit, struct sb_alert_page *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_AL_DUE];
    int rc;

    if (!out || ack_timeout_ms < 1 || ack_timeout_ms > TIMEOUT_MAX_MS || max_level < 1 ||
        max_level > SB_ALERT_LEVEL_MAX || limit < 1 || limit > SB_ALERT_PAGE_MAX)
        return SB_EINVAL;
    sb_alert_page_release(out);
    if (!(out->v = calloc((size_t)limit, sizeof(*out->v))))
        return SB_ENOMEM;
    pthread_mutex_lock(x->mu);
    sb_sql_bind_i64(st, 1, now_ms);
    sb_sql_bind_i64(st, 2, ack_timeout_ms);
    sb_sql_bind_i64(st, 3, max_level);
    sb_sql_bind_i64(st, 4, limit);
    rc = alert_page(st, limit, 0, out);
    pthread_mutex_unlock(x->mu);
    if (rc)
        sb_alert_page_release(out);
    return rc;
}

int sb_appdb__alert_summary(void *impl, const char *building, struct sb_alert_summary *out)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_AL_SUMMARY];
    int rc;

    if (!slug_ok(building) || !out)
        return SB_EINVAL;
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(x->mu);
    bind_opt(st, 1, building);
    if ((rc = step_row(st, "alert summary")) == 0) {
        out->open = sb_sql_col_i64(st, 0);
        out->critical = sb_sql_col_i64(st, 1);
        out->major = sb_sql_col_i64(st, 2);
        out->minor = sb_sql_col_i64(st, 3);
        out->info = sb_sql_col_i64(st, 4);
        out->unacknowledged = sb_sql_col_i64(st, 5);
        sb_sql_reset(st);
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

/* ---- subscriptions ----------------------------------------------------- */

/* The current row of a SUB_SEL statement; the secret is never read out. */
static void row_sub(struct sb_sql_stmt *st, void *dst)
{
    struct sb_alert_sub *s = dst;
    int sev;

    memset(s, 0, sizeof(*s));
    s->id = sb_sql_col_i64(st, 0);
    s->user_id = sb_sql_col_i64(st, 1);
    sb_appdb__cpy_col(s->username, sizeof(s->username), st, 2);
    sb_appdb__cpy_col(s->channel, sizeof(s->channel), st, 3);
    sb_appdb__cpy_col(s->target, sizeof(s->target), st, 4);
    sb_appdb__cpy_col(s->building, sizeof(s->building), st, 5);
    sev = sb_alert_sev_parse(sb_sql_col_text(st, 6));
    s->min_severity = sev > 0 ? sev : 0;
    sb_appdb__cpy_col(s->quiet_start, sizeof(s->quiet_start), st, 7);
    sb_appdb__cpy_col(s->quiet_end, sizeof(s->quiet_end), st, 8);
    s->has_secret = sb_sql_col_int(st, 9) != 0;
    s->enabled = sb_sql_col_int(st, 10) != 0;
    s->level = sb_sql_col_int(st, 11);
}

static int sub_insert(struct sb_appdb__al *x, const struct sb_alert_sub *s, int64_t *id)
{
    struct sb_sql_stmt *st = x->st[AQ_SUB_COUNT];
    int rc;

    sb_sql_bind_i64(st, 1, s->user_id);
    if ((rc = step_row(st, "alert sub count")))
        return rc;
    rc = sb_sql_col_i64(st, 0) >= SB_ALERT_SUBS_MAX ? SB_ERANGE : 0;
    sb_sql_reset(st);
    if (rc)
        return rc;
    st = x->st[AQ_SUB_INS];
    sb_sql_bind_i64(st, 1, s->user_id);
    bind_opt(st, 2, s->channel);
    sb_sql_bind_text(st, 3, s->target);
    bind_opt(st, 4, s->building);
    bind_opt(st, 5, sb_alert_sev_name(s->min_severity));
    bind_opt(st, 6, s->quiet_start);
    bind_opt(st, 7, s->quiet_end);
    bind_opt(st, 8, s->secret);
    sb_sql_bind_i64(st, 9, s->enabled != 0);
    sb_sql_bind_i64(st, 10, s->level);
    if ((rc = step_done(st, "alert sub insert")) == 0)   /* unknown user: FK, SB_ENOENT */
        *id = sb_sql_last_id(x->c);
    return rc;
}

int sb_appdb__sub_add(void *impl, struct sb_alert_sub *s)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    int64_t id = 0;
    int rc, erc;

    if (!sub_ok(s))
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    if ((rc = tx_begin(x)) == 0) {
        rc = sub_insert(x, s, &id);
        erc = tx_end(x, rc == 0);
        rc = rc ? rc : erc;
    }
    pthread_mutex_unlock(x->mu);
    if (rc == 0)
        s->id = id;
    return rc;
}

int sb_appdb__sub_list(void *impl, int64_t user_id, struct sb_alert_sub **out, size_t *n)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_SUB_LIST];
    void *v = NULL;
    int rc;

    if (user_id < 0 || !out || !n)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sb_sql_bind_i64(st, 1, user_id);
    rc = collect(st, sizeof(**out), row_sub, &v, n, "alert sub list");
    pthread_mutex_unlock(x->mu);
    *out = v;
    return rc;
}

int sb_appdb__sub_match(void *impl, const char *building, int severity, int level,
                        struct sb_alert_sub **out, size_t *n)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_SUB_MATCH];
    void *v = NULL;
    int rc;

    if (!slug_ok(building) || !sb_alert_sev_name(severity) || level < 0 ||
        level > SB_ALERT_SUB_LEVEL_MAX || !out || !n)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    bind_opt(st, 1, building);
    sb_sql_bind_i64(st, 2, severity);
    sb_sql_bind_i64(st, 3, level);
    rc = collect(st, sizeof(**out), row_sub, &v, n, "alert sub match");
    pthread_mutex_unlock(x->mu);
    *out = v;
    return rc;
}

int sb_appdb__sub_secret(void *impl, int64_t id, char *out, size_t cap)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_SUB_SECRET];
    int rc;

    if (id <= 0 || !out || cap == 0)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sb_sql_bind_i64(st, 1, id);
    if ((rc = step_row(st, "alert sub secret")) == 0) {
        if (sb_sql_col_bytes(st, 0) >= cap)
            rc = SB_ENOSPC;
        else
            sb_appdb__cpy_col(out, cap, st, 0);
        sb_sql_reset(st);
    }
    pthread_mutex_unlock(x->mu);
    return rc;
}

int sb_appdb__sub_delete(void *impl, int64_t id, int64_t user_id)
{
    struct sb_appdb__al *x = sb_appdb__al_of(impl);
    struct sb_sql_stmt *st = x->st[AQ_SUB_DEL];
    int rc;

    if (id <= 0 || user_id < 0)
        return SB_EINVAL;
    pthread_mutex_lock(x->mu);
    sb_sql_bind_i64(st, 1, id);
    sb_sql_bind_i64(st, 2, user_id);
    rc = step_done(st, "alert sub delete");
    if (rc == 0 && sb_sql_changes(x->c) == 0)
        rc = SB_ENOENT;
    pthread_mutex_unlock(x->mu);
    return rc;
}

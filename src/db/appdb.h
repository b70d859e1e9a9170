/*
 * appdb.h - the API's relational application data: users, role grants,
 * refresh-token families, the append-only audit log, held commands, and the
 * alert store (rules, alerts with their history, notification
 * subscriptions), and the analytics store (JSON documents such as tariffs
 * and trained models, the forecast log, generated report files).
 *
 * One ops table per backend (the store's pattern, libmodbus's backend table):
 * callers hold a struct sb_appdb and go through the sb_appdb_* wrappers
 * below, never through ops or SQL.  The SQLite backend lives in the same
 * database file as the time-series store (its own connection, WAL mode,
 * tables named app_*); a PostgreSQL backend can plug in behind the same
 * table later.
 *
 * Threads: every function may be called from any thread at any time (the API
 * calls them from libuv thread-pool workers); the SQLite backend serialises
 * them on one connection under a mutex.  A call blocks while another process
 * holds the database's write lock, for at most the 10 s busy timeout.
 *
 * Ownership: strings given to a function are only read during the call.
 * Users and results are filled into the caller's storage; grants_get returns
 * a malloc'd array the caller frees with free(); an audit page owns its
 * records' strings until sb_audit_page_release(); alert and rule pages own
 * their arrays until sb_alert_page_release() / sb_alert_rule_page_release();
 * alert_events and the subscription lists return malloc'd arrays the caller
 * frees with free(); documents own body and blob until sb_doc_release()
 * (lists: sb_docs_free()), forecast rows are a malloc'd array, report files
 * own their bytes until sb_report_file_release() (lists: free()).  Nothing here logs a password hash, a token hash, a
 * token or a webhook secret.
 *
 * Errors: 0 or a negative SB_E* (core/err.h): SB_EINVAL bad argument,
 * SB_ENOENT unknown id, SB_EEXIST duplicate username or token hash, or an
 * alert transition its state does not allow (the API's 409), SB_ESTORE the
 * engine failed (logged once here with the "appdb" module).
 */
#ifndef SB_APPDB_H
#define SB_APPDB_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SB_APPDB_ABI 4   /* 2: the alert methods (schema v3); 3: analytics (v4);
                            4: subscription levels (v5): alert_sub_match takes one */

/* ---- roles ------------------------------------------------------------- */

/* Roles are a bitmask; a user may hold several. */
enum {
    SB_ROLE_ADMIN    = 1,   /* everything, all sites */
    SB_ROLE_MANAGER  = 2,   /* facility manager: settings of granted sites/buildings */
    SB_ROLE_OPERATOR = 4,   /* commands and overrides on granted sites/buildings */
    SB_ROLE_VIEWER   = 8,   /* read-only on granted sites/buildings */
    SB_ROLE_ALL      = 15   /* every defined bit */
};

/* "admin", "manager", "operator", "viewer" for a single role bit; NULL for
 * 0, several bits or an unknown bit.  Static strings. */
const char *sb_role_name(uint32_t bit);

/* The bit of a role name (ASCII case-insensitive; "facility_manager" is an
 * alias of "manager"), or SB_EINVAL for anything else. */
int sb_role_parse(const char *name);

/* ---- records ----------------------------------------------------------- */

#define SB_USERNAME_MAX   64     /* bytes, [A-Za-z0-9._@+-] */
#define SB_EMAIL_MAX      254    /* bytes (RFC 5321 path limit) */
#define SB_DISPNAME_MAX   128    /* bytes, no control characters */
#define SB_PWHASH_MAX     127    /* bytes: crypto_pwhash_STRBYTES - 1 */
#define SB_USER_LIST_MAX  1000   /* most users per sb_appdb_user_list page */

/* One user.  Strings are NUL-terminated inside their arrays; a string that
 * fills its array without a NUL is rejected with SB_EINVAL. */
struct sb_user {
    int64_t  id;                 /* > 0, assigned by user_create */
    char     username[65];       /* unique, compared ASCII case-insensitively */
    char     email[255];         /* may be "" */
    char     display_name[129];  /* may be "" */
    char     pw_hash[128];       /* encoded Argon2id string ("$argon2id$..."), "" = none */
    uint32_t roles;              /* SB_ROLE_* bits */
    int      disabled;           /* 1: may not log in */
    int      must_change_pw;     /* 1: next login must set a new password */
    int64_t  created_ms;         /* Unix ms, set by the caller at create */
    int64_t  updated_ms;         /* Unix ms of the last change (caller's clock) */
    int64_t  pw_changed_ms;      /* Unix ms of the last password set, 0 = never */
    int64_t  last_login_ms;      /* Unix ms of the last login, 0 = never */
};

#define SB_GRANTS_MAX 1024       /* most grants per user */

/* A scope a non-admin user may act on. */
struct sb_grant {
    char kind[9];                /* "site" or "building" */
    char slug[65];               /* the object's slug (model.h rule) */
};

#define SB_RT_FAMILY_LEN  32     /* hex digits of a token family id */
#define SB_RT_HASH_MIN    32     /* hex digits of a token hash, at least .. */
#define SB_RT_HASH_MAX    128    /* .. at most (SHA-256 is 64) */
#define SB_RT_IP_MAX      63     /* bytes of an address text, longer is SB_EINVAL */
#define SB_RT_UA_MAX      255    /* bytes of a User-Agent kept (non-printable-ASCII -> ?), rest cut */
#define SB_RT_PURGE_MS    (30LL * 86400 * 1000) /* rt_purge keeps rows this long past expiry */

/* What rt_rotate tells about the token it was shown. */
struct sb_rt_result {
    int64_t user_id;                     /* owner of the token */
    char    family[SB_RT_FAMILY_LEN + 1];/* its family id (the access token's "sid") */
};

#define SB_AUDIT_TEXT_MAX  1024          /* bytes of actor/ip/action/target/result/detail */
#define SB_AUDIT_JSON_MAX  (64 * 1024)   /* bytes of before / after */
#define SB_AUDIT_PAGE_MAX  1000          /* most records per query */

/* One audit record.  For audit_append the strings are the caller's (NULL =
 * SQL NULL; action and result are required; before/after must be valid
 * JSON).  In a page they point into memory the page owns; NULL where the
 * stored value is NULL. */
struct sb_audit_rec {
    int64_t     id;              /* > 0, increasing; assigned by append */
    int64_t     ts_ms;           /* Unix ms of the event */
    int64_t     actor_id;        /* user id, 0 = system or anonymous */
    const char *actor;           /* username as it was then */
    const char *ip;              /* client address */
    const char *action;          /* "user.create", "point.write", "auth.lockout" ... */
    const char *target;          /* what was acted on ("user:12", a point slug) */
    const char *before;          /* JSON of the old state */
    const char *after;           /* JSON of the new state */
    const char *result;          /* "ok", "denied", "error" ... */
    const char *detail;          /* free text for humans */
};

/* Which records audit_query returns: all conditions hold, newest first. */
struct sb_audit_filter {
    int64_t     actor_id;        /* 0 = any actor */
    const char *action;          /* prefix ("user." matches "user.create"), NULL/"" = any */
    const char *target;          /* exact, NULL/"" = any */
    int64_t     from_ms;         /* ts_ms >= from_ms (0 = no lower bound) */
    int64_t     to_ms;           /* ts_ms < to_ms (0 = no upper bound) */
    int64_t     before_id;       /* cursor: id < before_id (0 = start at the newest) */
    int         limit;           /* 1 .. SB_AUDIT_PAGE_MAX */
};

/* A page of audit records; zero-initialise, release with sb_audit_page_release. */
struct sb_audit_page {
    struct sb_audit_rec *v;      /* records, newest first */
    size_t  n;                   /* records in v */
    int64_t next_before_id;      /* before_id of the next page, 0 = no more */
    void  **mem_;                /* private: one block per record holding its strings */
};

/* Frees what the page owns and zeroes it (safe on a zeroed page). */
void sb_audit_page_release(struct sb_audit_page *p);

/* ---- commands held at a priority ----------------------------------------- */

/* A command sbems holds on a point at a priority (BACnet priority array):
 * who gave it, why, and until when.  value NaN = a release (no record is
 * kept, the previous one is closed). */
struct sb_cmd_rec {
    int64_t id;
    uint32_t point;              /* point id */
    int priority;                /* 1..16 */
    double value;                /* in the point's unit as the API took it */
    char actor[65];              /* user name, or "sbems" for the daemon itself */
    char reason[161];            /* "" none */
    int64_t since_ms;            /* when written */
    int64_t expires_ms;          /* 0 = until released */
};

/* ---- alerts: rules, life cycle, subscriptions (schema v3) --------------- */

/*
 * The alert store (docs/internals/alerts-store.md).  A rule is JSON text the
 * API validated (alerts/rule.h); the store keeps it by id and building and
 * does not parse it.  An alert is one episode of a rule's condition for a
 * key: raised, de-duplicated while open, acknowledged, assigned, shelved,
 * escalated, cleared, resolved; every change appends an event row in the
 * same transaction, so the history is complete.  At most one alert per
 * (rule, key) is open (not resolved): the database enforces it.
 *
 * Conflicts: a transition the alert's state does not allow (acknowledging a
 * resolved or an already acknowledged alert, ...) answers SB_EEXIST, which
 * the API sends as 409 "conflict"; the table is in alerts-store.md.
 */

/* Severities, most severe first: a subscription's min_severity S takes every
 * severity numerically <= S. */
enum {
    SB_ALERT_SEV_CRITICAL = 1,
    SB_ALERT_SEV_MAJOR    = 2,
    SB_ALERT_SEV_MINOR    = 3,
    SB_ALERT_SEV_INFO     = 4
};

/* Life-cycle states (stored as "active", "acknowledged", "resolved"). */
enum {
    SB_ALERT_ACTIVE   = 1,   /* open, nobody acknowledged it yet */
    SB_ALERT_ACKED    = 2,   /* open, acknowledged */
    SB_ALERT_RESOLVED = 3    /* closed; a new raise opens a new alert */
};

/* A filter mask bit of a state or a severity; SB_ALERT_OPEN = not resolved. */
#define SB_ALERT_BIT(v) (1u << (v))
#define SB_ALERT_OPEN   (SB_ALERT_BIT(SB_ALERT_ACTIVE) | SB_ALERT_BIT(SB_ALERT_ACKED))

/* What sb_appdb_alert_raise did. */
enum {
    SB_ALERT_RAISED_NEW   = 1,   /* no alert was open for (rule, key): a new one */
    SB_ALERT_RAISED_AGAIN = 2,   /* de-duplicated into the open alert (count + 1) */
    SB_ALERT_RAISED_FLAP  = 3    /* .. which had cleared within the flap window (flaps + 1) */
};

/* "critical" .. "info" / "active", "acknowledged", "resolved"; NULL for
 * anything else.  Static strings. */
const char *sb_alert_sev_name(int sev);
const char *sb_alert_state_name(int state);
/* The value of an exact (lowercase) name, or SB_EINVAL. */
int sb_alert_sev_parse(const char *name);
int sb_alert_state_parse(const char *name);

#define SB_ALERT_SLUG_CAP      65    /* rule ids, buildings: a slug (model/slug.h) + NUL */
#define SB_ALERT_ACTOR_CAP     65    /* a username, or "sbems" for the daemon itself */
#define SB_ALERT_RULE_JSON_MAX 8192  /* bytes of a rule's JSON */
#define SB_ALERT_KEY_MAX       128   /* bytes of an alert key (the rule id for now) */
#define SB_ALERT_MSG_MAX       1024  /* bytes of an alert's message */
#define SB_ALERT_NOTE_MAX      4000  /* bytes of a note: 1000 characters of up to 4 UTF-8 bytes */
#define SB_ALERT_DETAIL_MAX    4700  /* bytes of an event's detail (a note plus what it is about) */
#define SB_ALERT_PAGE_MAX      1000  /* most rules, alerts or events per call */
#define SB_ALERT_LEVEL_MAX     9     /* highest escalation level */
#define SB_ALERT_TARGET_MAX    512   /* bytes of a subscription target (URL, address, topic) */
#define SB_ALERT_SECRET_MAX    128   /* bytes of a webhook HMAC secret */
#define SB_ALERT_SUBS_MAX      64    /* subscriptions per user */
#define SB_ALERT_SUB_LEVEL_MAX 3     /* highest escalation level a subscription hears */
#define SB_ALERT_SYSTEM        "sbems" /* the actor of what the daemon does by itself */

/* A stored rule.  Strings are NUL-terminated inside their arrays (one that
 * fills its array is SB_EINVAL). */
struct sb_alert_rule {
    char    id[SB_ALERT_SLUG_CAP];        /* slug, primary key */
    char    building[SB_ALERT_SLUG_CAP];  /* slug of the building it is scoped to */
    char    json[SB_ALERT_RULE_JSON_MAX + 1]; /* the rule (valid JSON, not parsed here) */
    int     enabled;                      /* 0/1, mirrors the JSON for queries */
    int64_t created_ms;                   /* Unix ms of the first put (set by the store) */
    int64_t updated_ms;                   /* Unix ms of the last put (caller's clock) */
    char    updated_by[SB_ALERT_ACTOR_CAP]; /* who put it last, "" unknown */
};

/* Which buildings a query may see: a user's grants resolved to buildings by
 * the caller (a site grant covers its buildings, the model knows which). */
struct sb_alert_scope {
    int                all;         /* 1: every building (admins, the daemon) */
    const char *const *buildings;   /* else only these slugs (the caller's) .. */
    size_t             n;           /* .. n <= SB_GRANTS_MAX of them; 0 = nothing visible */
};

/* A page of rules; zero-initialise, release with sb_alert_rule_page_release. */
struct sb_alert_rule_page {
    struct sb_alert_rule *v;        /* malloc'd, by id */
    size_t n;                       /* rules in v */
    char   next_after[SB_ALERT_SLUG_CAP]; /* `after` of the next page, "" = no more */
};
void sb_alert_rule_page_release(struct sb_alert_rule_page *p);

/* One alert.  Times are Unix ms, 0 = not (yet) happened. */
struct sb_alert {
    int64_t id;                            /* > 0, never reused */
    char    rule[SB_ALERT_SLUG_CAP];       /* rule id (FDD rules need no row in the rule table) */
    char    building[SB_ALERT_SLUG_CAP];   /* slug, for grants */
    char    key[SB_ALERT_KEY_MAX + 1];     /* what the rule fired for (the rule id for now) */
    int     severity;                      /* SB_ALERT_SEV_*, of the latest raise */
    int     state;                         /* SB_ALERT_ACTIVE / _ACKED / _RESOLVED */
    int     cleared;                       /* 1: the condition is gone (it may come back) */
    int64_t raised_ms;                     /* first raise of this alert */
    int64_t cleared_ms;                    /* last time the condition cleared */
    int64_t acked_ms;
    char    acked_by[SB_ALERT_ACTOR_CAP];  /* "" when not acknowledged */
    int64_t resolved_ms;
    char    resolved_by[SB_ALERT_ACTOR_CAP]; /* a user, or "sbems" (auto-resolve) */
    char    assignee[SB_ALERT_ACTOR_CAP];  /* username, "" = nobody */
    int64_t shelved_until_ms;              /* shelved while > now; 0 = never shelved / unshelved */
    int     escalated_level;               /* 0 .. SB_ALERT_LEVEL_MAX */
    int64_t flaps;                         /* re-raises within the flap window after a clear */
    int64_t count;                         /* raises de-duplicated into this alert, >= 1 */
    double  value;                         /* value at the latest raise, NaN = none */
    char    message[SB_ALERT_MSG_MAX + 1]; /* text of the latest raise, "" = none */
};

/* Which alerts alert_list returns: all conditions hold, newest first. */
struct sb_alert_filter {
    struct sb_alert_scope scope;           /* buildings the caller may see */
    unsigned    states;                    /* SB_ALERT_BIT(state) mask, 0 = any */
    unsigned    severities;                /* SB_ALERT_BIT(severity) mask, 0 = any */
    const char *rule;                      /* exact rule id, NULL/"" = any */
    const char *assignee;                  /* exact username, NULL/"" = any */
    int64_t     since_ms;                  /* raised_ms >= since_ms, 0 = any */
    int64_t     before_id;                 /* cursor: id < before_id, 0 = from the newest */
    int         limit;                     /* 1 .. SB_ALERT_PAGE_MAX */
};

/* A page of alerts; zero-initialise, release with sb_alert_page_release. */
struct sb_alert_page {
    struct sb_alert *v;            /* malloc'd */
    size_t  n;                     /* alerts in v */
    int64_t next_before_id;        /* before_id of the next page, 0 = no more */
};
void sb_alert_page_release(struct sb_alert_page *p);

/* One entry of an alert's history. */
struct sb_alert_event {
    int64_t id;                            /* > 0, increasing */
    int64_t alert;                         /* the alert's id */
    int64_t ts_ms;                         /* when (the caller's clock) */
    char    kind[16];                      /* raised, re-raised, cleared, acknowledged, assigned,
                                              note, shelved, unshelved, resolved, escalated,
                                              notified, notify_failed */
    char    actor[SB_ALERT_ACTOR_CAP];     /* username or "sbems" */
    char    detail[SB_ALERT_DETAIL_MAX + 1]; /* for humans (message, note, ...), "" = none */
};

/* Open alerts of one building (the overview's counters). */
struct sb_alert_summary {
    int64_t open;                  /* not resolved */
    int64_t critical, major, minor, info; /* open, by severity */
    int64_t unacknowledged;        /* open and still active */
};

/* A notification subscription.  For alert_sub_add the caller fills it
 * (secret = the webhook key, "" none); lists never fill secret (always "")
 * but set has_secret: the key leaves the store only through
 * sb_appdb_alert_sub_secret, for the notifier. */
struct sb_alert_sub {
    int64_t id;                            /* > 0, assigned by add */
    int64_t user_id;                       /* owner; deleting the user deletes it */
    char    username[SB_USERNAME_MAX + 1]; /* owner's name (lists fill it; ignored by add) */
    char    channel[8];                    /* "webhook", "email", "mqtt" */
    char    target[SB_ALERT_TARGET_MAX + 1]; /* http(s) URL, mail address, topic prefix ("" ok) */
    char    building[SB_ALERT_SLUG_CAP];   /* slug, "" = every building the user may see */
    int     min_severity;                  /* SB_ALERT_SEV_*: that and more severe; 0 = all */
    char    quiet_start[6];                /* "HH:MM" building-local, "" = no quiet hours */
    char    quiet_end[6];                  /* "HH:MM", "" exactly when quiet_start is "" */
    char    secret[SB_ALERT_SECRET_MAX + 1]; /* add: input (webhook only); lists: "" */
    int     has_secret;                    /* lists: 1 when a secret is stored */
    int     enabled;                       /* 0/1 */
    int     level;                         /* 0: told when an alert is raised; 1..3
                                              (SB_ALERT_SUB_LEVEL_MAX): when it
                                              escalates to that level (schema v5) */
};

/* ---- the backend table ------------------------------------------------- */

/* Every method takes the backend state (struct sb_appdb.impl) first.  Only
 * migrate is optional (NULL: the backend needs none); the wrappers answer
 * SB_ENOTSUP for a NULL method. */
/* ---- analytics store (schema v4) ----------------------------------------- */

#define SB_DOC_KEY_MAX 128   /* longest document key, bytes */

/* A JSON document under (kind, key): "tariff" (key = tariff id),
 * "building_tariff" and "holidays" (key = building), "measure", "report",
 * "fc_model" (key = meter), "zone_model" (key = zone).  The module owning a
 * kind validates body before storing it; the database only checks that it
 * is JSON. */
struct sb_doc {
    char kind[24];               /* printable ASCII, no spaces */
    char key[SB_DOC_KEY_MAX + 1];
    char building[65];           /* the building it belongs to, "" = none (scoping) */
    char *body;                  /* JSON text (owned) */
    void *blob;                  /* binary part (owned), NULL = none */
    size_t blob_len;
    int64_t updated_ms;
};
void sb_doc_release(struct sb_doc *d);
void sb_docs_free(struct sb_doc *v, size_t n);

/* One forecast value as issued: the hour starting target_ms, predicted at
 * issued_ms (horizon = (target - issued) / 1 h + 1); lo/hi the prediction
 * interval (NaN = none). */
struct sb_fc_row {
    int64_t issued_ms, target_ms;
    double yhat, lo, hi;
    char model[33];              /* filled by fc_get */
};

/* A generated report file. */
struct sb_report_file {
    int64_t id;                  /* set by report_file_put */
    char report[SB_DOC_KEY_MAX + 1];   /* report definition id */
    char building[65];
    int64_t from_ms, to_ms;      /* the period it covers */
    int64_t created_ms;
    char format[8];              /* "xlsx", "csv", "json" */
    char name[128];              /* download file name */
    size_t size;                 /* bytes */
    void *bytes;                 /* owned; NULL in lists */
};
void sb_report_file_release(struct sb_report_file *f);

struct sb_appdb_ops {
    int abi;                     /* SB_APPDB_ABI */
    const char *name;            /* "sqlite" */
    void (*close)(void *impl);
    /* Create or upgrade the schema (idempotent); *from, *to may be NULL. */
    int (*migrate)(void *impl, int *from, int *to);

    int (*user_create)(void *impl, struct sb_user *u);
    int (*user_get)(void *impl, int64_t id, struct sb_user *out);
    int (*user_by_name)(void *impl, const char *username, struct sb_user *out);
    int (*user_update)(void *impl, const struct sb_user *u);
    int (*user_set_password)(void *impl, int64_t id, const char *pw_hash, int must_change,
                             int64_t now_ms);
    int (*user_touch_login)(void *impl, int64_t id, int64_t now_ms);
    int (*user_list)(void *impl, int64_t after_id, int limit, struct sb_user *out, size_t *n,
                     int64_t *next);
    int (*user_count)(void *impl, int64_t *n);

    int (*grants_set)(void *impl, int64_t user_id, const struct sb_grant *g, size_t n);
    int (*grants_get)(void *impl, int64_t user_id, struct sb_grant **out, size_t *n);

    int (*rt_insert)(void *impl, int64_t user_id, const char *family, const char *token_hash,
                     int64_t now_ms, int64_t expires_ms, const char *ip, const char *ua);
    int (*rt_rotate)(void *impl, const char *old_hash, const char *new_hash, int64_t now_ms,
                     int64_t new_expires_ms, const char *ip, const char *ua,
                     struct sb_rt_result *res);
    int (*rt_revoke_family)(void *impl, const char *family, int64_t now_ms);
    int (*rt_revoke_user)(void *impl, int64_t user_id, int64_t now_ms);
    int (*rt_purge)(void *impl, int64_t now_ms);
    int (*rt_family_active)(void *impl, const char *family);

    int (*audit_append)(void *impl, const struct sb_audit_rec *r, int64_t *id);
    int (*audit_query)(void *impl, const struct sb_audit_filter *f, struct sb_audit_page *out);

    /* Close the active command of (point, priority) and, unless r->value
     * is NaN (a release), record r as the active one. */
    int (*cmd_hold)(void *impl, const struct sb_cmd_rec *r);
    /* Active commands of point (0: all points), only those expired at
     * expired_by when it is not 0; at most cap, by point and priority. */
    int (*cmd_active)(void *impl, uint32_t point, int64_t expired_by, struct sb_cmd_rec *out,
                      size_t cap, size_t *n);

    /* Alert rules, alerts and subscriptions (schema v3): see the wrappers. */
    int (*alert_rule_put)(void *impl, const struct sb_alert_rule *r, int *created);
    int (*alert_rule_get)(void *impl, const char *id, struct sb_alert_rule *out);
    int (*alert_rule_delete)(void *impl, const char *id);
    int (*alert_rule_list)(void *impl, const struct sb_alert_scope *scope, const char *after,
                           int limit, struct sb_alert_rule_page *out);
    int (*alert_rule_count)(void *impl, const struct sb_alert_scope *scope, int64_t *n);

    int (*alert_raise)(void *impl, const char *rule, const char *building, const char *key,
                       int severity, double value, const char *message, int64_t now_ms,
                       int64_t flap_window_ms, struct sb_alert *out, int *outcome);
    int (*alert_clear)(void *impl, const char *rule, const char *key, int64_t now_ms,
                       int auto_resolve, struct sb_alert *out);
    int (*alert_ack)(void *impl, int64_t id, const char *actor, const char *note, int64_t now_ms,
                     struct sb_alert *out);
    int (*alert_assign)(void *impl, int64_t id, const char *assignee, const char *actor,
                        const char *note, int64_t now_ms, struct sb_alert *out);
    int (*alert_note)(void *impl, int64_t id, const char *actor, const char *text, int64_t now_ms,
                      struct sb_alert *out);
    int (*alert_shelve)(void *impl, int64_t id, int64_t until_ms, const char *actor,
                        const char *note, int64_t now_ms, struct sb_alert *out);
    int (*alert_unshelve)(void *impl, int64_t id, const char *actor, int64_t now_ms,
                          struct sb_alert *out);
    int (*alert_resolve)(void *impl, int64_t id, const char *actor, const char *note,
                         int64_t now_ms, struct sb_alert *out);
    int (*alert_escalate)(void *impl, int64_t id, int level, int64_t now_ms, struct sb_alert *out);
    int (*alert_notified)(void *impl, int64_t id, const char *channel, const char *target, int ok,
                          const char *detail, int64_t now_ms);
    int (*alert_get)(void *impl, int64_t id, struct sb_alert *out);
    int (*alert_list)(void *impl, const struct sb_alert_filter *f, struct sb_alert_page *out);
    int (*alert_events)(void *impl, int64_t id, int64_t after_id, int limit,
                        struct sb_alert_event **out, size_t *n, int64_t *next);
    int (*alert_escalation_due)(void *impl, int64_t now_ms, int64_t ack_timeout_ms,
                                int max_level, int limit, struct sb_alert_page *out);
    int (*alert_summary)(void *impl, const char *building, struct sb_alert_summary *out);

    int (*alert_sub_add)(void *impl, struct sb_alert_sub *s);
    int (*alert_sub_list)(void *impl, int64_t user_id, struct sb_alert_sub **out, size_t *n);
    int (*alert_sub_match)(void *impl, const char *building, int severity, int level,
                           struct sb_alert_sub **out, size_t *n);
    int (*alert_sub_secret)(void *impl, int64_t id, char *out, size_t cap);
    int (*alert_sub_delete)(void *impl, int64_t id, int64_t user_id);
    /* analytics (ABI 3) */
    int (*doc_put)(void *impl, const struct sb_doc *d);
    int (*doc_get)(void *impl, const char *kind, const char *key, int with_blob, struct sb_doc *out);
    int (*doc_delete)(void *impl, const char *kind, const char *key);
    int (*doc_list)(void *impl, const char *kind, const char *building, int with_blob,
                    struct sb_doc **out, size_t *n);
    int (*fc_put)(void *impl, const char *meter, const char *model, const struct sb_fc_row *r,
                  size_t n);
    int (*fc_get)(void *impl, const char *meter, int64_t t0, int64_t t1, int horizon_h,
                  size_t limit, struct sb_fc_row **out, size_t *n);
    int (*fc_purge)(void *impl, int64_t before_ms);
    int (*report_file_put)(void *impl, struct sb_report_file *f, int keep);
    int (*report_file_list)(void *impl, const char *report, const char *building, int limit,
                            struct sb_report_file **out, size_t *n);
    int (*report_file_get)(void *impl, int64_t id, struct sb_report_file *out);
    int (*report_file_delete)(void *impl, const char *report);
};

/* The handle the rest of sbems holds: backend + its state. */
struct sb_appdb {
    const struct sb_appdb_ops *ops;  /* backend */
    void *impl;                      /* backend state */
};

/* Opens (creating it 0600 if missing) the SQLite database at path, applies
 * the connection settings (WAL, busy_timeout 10 s, foreign keys, synchronous
 * NORMAL) and migrates the app_* schema.  On success *out is a heap handle
 * for sb_appdb_close.  Returns 0, SB_EINVAL, SB_ENOMEM, SB_EIO (cannot
 * create the file), SB_ENOTSUP (schema newer than this sbems) or SB_ESTORE,
 * with the reason in err (and nothing logged). */
int sb_appdb_sqlite_open(const char *path, struct sb_appdb **out, char *err, size_t errlen);

/* Opens the application tables in the PostgreSQL database at conninfo (libpq
 * keywords or a URI; "" = the PG* environment), the database the
 * PostgreSQL store uses, so every node of a cluster shares users, grants,
 * refresh-token families, the audit log, held commands, alerts and
 * analytics documents; creates or migrates the app_* schema.  Every write
 * that reads first holds an advisory lock for its transaction, as SQLite's
 * BEGIN IMMEDIATE does (docs/internals/appdb-postgres.md).  Returns as
 * sb_appdb_sqlite_open (SB_ESTORE when the server cannot be reached); the
 * reason in err never holds the conninfo. */
int sb_appdb_pg_open(const char *conninfo, struct sb_appdb **out, char *err, size_t errlen);

/* Closes the backend and frees the handle (NULL is fine). */
void sb_appdb_close(struct sb_appdb *db);

/* ---- wrappers: callers never touch ops directly ------------------------ */

#define SB__APPDB_CALL(db, m, ...) \
    ((db)->ops->m ? (db)->ops->m((db)->impl, __VA_ARGS__) : SB_ENOTSUP)

static inline int sb_appdb_cmd_hold(struct sb_appdb *db, const struct sb_cmd_rec *r)
{ return SB__APPDB_CALL(db, cmd_hold, r); }
static inline int sb_appdb_cmd_active(struct sb_appdb *db, uint32_t point, int64_t expired_by,
                                      struct sb_cmd_rec *out, size_t cap, size_t *n)
{ return SB__APPDB_CALL(db, cmd_active, point, expired_by, out, cap, n); }

/* Schema version before and after (either may be NULL). */
static inline int sb_appdb_migrate(struct sb_appdb *db, int *from, int *to)
{ return SB__APPDB_CALL(db, migrate, from, to); }

/* Inserts u (username, email, display_name, pw_hash, roles, flags and the
 * four times as given) and sets u->id.  SB_EEXIST if the username exists in
 * any letter case. */
static inline int sb_appdb_user_create(struct sb_appdb *db, struct sb_user *u)
{ return SB__APPDB_CALL(db, user_create, u); }
/* SB_ENOENT if there is no such user. */
static inline int sb_appdb_user_get(struct sb_appdb *db, int64_t id, struct sb_user *out)
{ return SB__APPDB_CALL(db, user_get, id, out); }
/* Case-insensitive lookup; SB_ENOENT if there is none. */
static inline int sb_appdb_user_by_name(struct sb_appdb *db, const char *username,
                                        struct sb_user *out)
{ return SB__APPDB_CALL(db, user_by_name, username, out); }
/* Stores u's email, display_name, roles, disabled, must_change_pw and
 * updated_ms for user u->id (username, hash and other times unchanged). */
static inline int sb_appdb_user_update(struct sb_appdb *db, const struct sb_user *u)
{ return SB__APPDB_CALL(db, user_update, u); }
/* New hash; pw_changed_ms = updated_ms = now_ms.  Does not revoke refresh
 * tokens: the caller decides (sb_appdb_rt_revoke_user). */
static inline int sb_appdb_user_set_password(struct sb_appdb *db, int64_t id, const char *pw_hash,
                                             int must_change, int64_t now_ms)
{ return SB__APPDB_CALL(db, user_set_password, id, pw_hash, must_change, now_ms); }
static inline int sb_appdb_user_touch_login(struct sb_appdb *db, int64_t id, int64_t now_ms)
{ return SB__APPDB_CALL(db, user_touch_login, id, now_ms); }
/* Up to limit (1..SB_USER_LIST_MAX) users with id > after_id in id order
 * into out[limit]; *n gets how many, *next the after_id of the next page
 * (0 when this is the last).  pw_hash is left "" in listed users. */
static inline int sb_appdb_user_list(struct sb_appdb *db, int64_t after_id, int limit,
                                     struct sb_user *out, size_t *n, int64_t *next)
{ return SB__APPDB_CALL(db, user_list, after_id, limit, out, n, next); }
static inline int sb_appdb_user_count(struct sb_appdb *db, int64_t *n)
{ return SB__APPDB_CALL(db, user_count, n); }

/* Replaces all of a user's grants with g[n] (n <= SB_GRANTS_MAX, duplicates
 * collapse) in one transaction.  SB_ENOENT for an unknown user. */
static inline int sb_appdb_grants_set(struct sb_appdb *db, int64_t user_id,
                                      const struct sb_grant *g, size_t n)
{ return SB__APPDB_CALL(db, grants_set, user_id, g, n); }
/* *out = malloc'd array sorted by (kind, slug), NULL when *n is 0; the
 * caller frees it.  An unknown user has no grants (0, *n = 0). */
static inline int sb_appdb_grants_get(struct sb_appdb *db, int64_t user_id,
                                      struct sb_grant **out, size_t *n)
{ return SB__APPDB_CALL(db, grants_get, user_id, out, n); }

/*
 * Refresh tokens: rotation with reuse detection (OAuth 2.0 Security BCP,
 * draft-ietf-oauth-security-topics §4.14.2).  The table holds hashes only,
 * never tokens.  family is SB_RT_FAMILY_LEN lowercase hex digits, token
 * hashes SB_RT_HASH_MIN..SB_RT_HASH_MAX lowercase hex digits; ip and ua may
 * be NULL.
 */
/* A new family's first token (login).  SB_ENOENT unknown user, SB_EEXIST
 * the hash is already stored, SB_EINVAL expires_ms <= now_ms. */
static inline int sb_appdb_rt_insert(struct sb_appdb *db, int64_t user_id, const char *family,
                                     const char *token_hash, int64_t now_ms, int64_t expires_ms,
                                     const char *ip, const char *ua)
{ return SB__APPDB_CALL(db, rt_insert, user_id, family, token_hash, now_ms, expires_ms, ip, ua); }
/* Exchanges the token hashed old_hash for one hashed new_hash, in one
 * transaction.  Returns, checked in this order:
 *   SB_ENOENT    old_hash is unknown (res untouched);
 *   SB_EPROTO    old_hash was already rotated: a replayed token means it
 *                leaked, so every token of its family is revoked (the
 *                caller audits it; res filled);
 *   SB_ECLOSED   the family was revoked (logout, password change, reuse);
 *   SB_ETIMEDOUT the token expired (expires_ms <= now_ms);
 *   0            old marked used, new row in the same family and user.
 * res is filled for every code but SB_ENOENT / SB_EINVAL / SB_ESTORE. */
static inline int sb_appdb_rt_rotate(struct sb_appdb *db, const char *old_hash,
                                     const char *new_hash, int64_t now_ms, int64_t new_expires_ms,
                                     const char *ip, const char *ua, struct sb_rt_result *res)
{ return SB__APPDB_CALL(db, rt_rotate, old_hash, new_hash, now_ms, new_expires_ms, ip, ua, res); }
/* Revokes every token of the family (logout).  SB_ENOENT for an unknown
 * family; revoking twice keeps the first time. */
static inline int sb_appdb_rt_revoke_family(struct sb_appdb *db, const char *family,
                                            int64_t now_ms)
{ return SB__APPDB_CALL(db, rt_revoke_family, family, now_ms); }
/* Revokes every token of the user (password change, disable). */
static inline int sb_appdb_rt_revoke_user(struct sb_appdb *db, int64_t user_id, int64_t now_ms)
{ return SB__APPDB_CALL(db, rt_revoke_user, user_id, now_ms); }
/* Deletes rows that expired more than SB_RT_PURGE_MS before now_ms. */
static inline int sb_appdb_rt_purge(struct sb_appdb *db, int64_t now_ms)
{ return SB__APPDB_CALL(db, rt_purge, now_ms); }
/* 1 if the family has a token not revoked, 0 if it is revoked or unknown
 * (purged), or a negative code. */
static inline int sb_appdb_rt_family_active(struct sb_appdb *db, const char *family)
{ return SB__APPDB_CALL(db, rt_family_active, family); }

/* Appends r (its id field is ignored) and, if id is not NULL, stores the new
 * record's id there.  SB_EINVAL: action or result missing, a text longer
 * than SB_AUDIT_TEXT_MAX, before/after longer than SB_AUDIT_JSON_MAX or not
 * valid JSON.  Records can never be changed or deleted afterwards: the
 * database refuses UPDATE and DELETE on the table. */
static inline int sb_appdb_audit_append(struct sb_appdb *db, const struct sb_audit_rec *r,
                                        int64_t *id)
{ return SB__APPDB_CALL(db, audit_append, r, id); }
/* Fills out (released first) with the records matching f, newest first. */
static inline int sb_appdb_audit_query(struct sb_appdb *db, const struct sb_audit_filter *f,
                                       struct sb_audit_page *out)
{ return SB__APPDB_CALL(db, audit_query, f, out); }

/*
 * Alert rules.  put stores r (id, building, json, enabled, updated_ms,
 * updated_by) or replaces the rule of that id, keeping its created_ms;
 * *created (may be NULL) = 1 when it was new.  SB_EINVAL: a bad slug, json
 * empty, longer than SB_ALERT_RULE_JSON_MAX or not valid JSON.  Deleting a
 * rule leaves its alerts and their history.
 */
static inline int sb_appdb_alert_rule_put(struct sb_appdb *db, const struct sb_alert_rule *r,
                                          int *created)
{ return SB__APPDB_CALL(db, alert_rule_put, r, created); }
/* SB_ENOENT if there is no such rule. */
static inline int sb_appdb_alert_rule_get(struct sb_appdb *db, const char *id,
                                          struct sb_alert_rule *out)
{ return SB__APPDB_CALL(db, alert_rule_get, id, out); }
static inline int sb_appdb_alert_rule_delete(struct sb_appdb *db, const char *id)
{ return SB__APPDB_CALL(db, alert_rule_delete, id); }
/* Up to limit (1..SB_ALERT_PAGE_MAX) rules in scope with id > after (NULL
 * or "" = from the first) in id order; out is released first. */
static inline int sb_appdb_alert_rule_list(struct sb_appdb *db, const struct sb_alert_scope *scope,
                                           const char *after, int limit,
                                           struct sb_alert_rule_page *out)
{ return SB__APPDB_CALL(db, alert_rule_list, scope, after, limit, out); }
static inline int sb_appdb_alert_rule_count(struct sb_appdb *db,
                                            const struct sb_alert_scope *scope, int64_t *n)
{ return SB__APPDB_CALL(db, alert_rule_count, scope, n); }

/*
 * Alert life cycle.  Every call below that changes an alert does it and
 * appends its event(s) in one transaction, and on success copies the alert
 * as it is now into out (out may be NULL).  now_ms is the caller's clock
 * (Unix ms, >= 0); a failure leaves the alert and its history unchanged.
 * actor: a username or SB_ALERT_SYSTEM; note: optional (NULL or ""), at most
 * SB_ALERT_NOTE_MAX bytes of UTF-8 (newlines and tabs allowed).
 * Common answers: SB_ENOENT unknown id, SB_EEXIST the state does not allow
 * it (a resolved alert allows only note and notified), SB_EINVAL bad input.
 */
/* The condition of rule for key holds.  No open alert for (rule, key): a
 * new active one (event "raised", *outcome SB_ALERT_RAISED_NEW).  Else the
 * open one takes count + 1, this severity, value (NaN = none) and message,
 * and cleared = 0 (event "re-raised"); if it had cleared at most
 * flap_window_ms before now_ms that is a flap (flaps + 1,
 * SB_ALERT_RAISED_FLAP; a window of 0 counts none), otherwise
 * SB_ALERT_RAISED_AGAIN.  outcome may be NULL.  building is only used for
 * a new alert.  A resolved alert never flaps: the next raise is new. */
static inline int sb_appdb_alert_raise(struct sb_appdb *db, const char *rule, const char *building,
                                       const char *key, int severity, double value,
                                       const char *message, int64_t now_ms,
                                       int64_t flap_window_ms, struct sb_alert *out, int *outcome)
{ return SB__APPDB_CALL(db, alert_raise, rule, building, key, severity, value, message, now_ms,
                        flap_window_ms, out, outcome); }
/* The condition of the open alert of (rule, key) is gone: cleared = 1 (event
 * "cleared"); when auto_resolve is set or the alert was acknowledged it is
 * also resolved by "sbems" (event "resolved").  SB_ENOENT no open alert,
 * SB_EEXIST already cleared. */
static inline int sb_appdb_alert_clear(struct sb_appdb *db, const char *rule, const char *key,
                                       int64_t now_ms, int auto_resolve, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_clear, rule, key, now_ms, auto_resolve, out); }
/* active -> acknowledged (event "acknowledged" with the note).  An alert
 * whose condition already cleared is then resolved by "sbems" as well (an
 * open alert is never both acknowledged and cleared).  SB_EEXIST when not
 * active. */
static inline int sb_appdb_alert_ack(struct sb_appdb *db, int64_t id, const char *actor,
                                     const char *note, int64_t now_ms, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_ack, id, actor, note, now_ms, out); }
/* Sets the assignee (a username; NULL or "" = nobody) of an open alert;
 * event "assigned", detail "<assignee>: <note>".  The caller checks the
 * assignee exists and may see the building. */
static inline int sb_appdb_alert_assign(struct sb_appdb *db, int64_t id, const char *assignee,
                                        const char *actor, const char *note, int64_t now_ms,
                                        struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_assign, id, assignee, actor, note, now_ms, out); }
/* Appends a note (text required), in any state. */
static inline int sb_appdb_alert_note(struct sb_appdb *db, int64_t id, const char *actor,
                                      const char *text, int64_t now_ms, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_note, id, actor, text, now_ms, out); }
/* Shelves an open alert until until_ms (> now_ms, else SB_EINVAL; shelving
 * a shelved alert moves its end).  A shelved alert is not escalated; the
 * notifier is expected to stay quiet about it. */
static inline int sb_appdb_alert_shelve(struct sb_appdb *db, int64_t id, int64_t until_ms,
                                        const char *actor, const char *note, int64_t now_ms,
                                        struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_shelve, id, until_ms, actor, note, now_ms, out); }
/* Ends the shelving now.  SB_EEXIST when not shelved at now_ms. */
static inline int sb_appdb_alert_unshelve(struct sb_appdb *db, int64_t id, const char *actor,
                                          int64_t now_ms, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_unshelve, id, actor, now_ms, out); }
/* Resolves an open alert by hand (event "resolved" with the note). */
static inline int sb_appdb_alert_resolve(struct sb_appdb *db, int64_t id, const char *actor,
                                         const char *note, int64_t now_ms, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_resolve, id, actor, note, now_ms, out); }
/* Raises the escalation level of an active (unacknowledged), unshelved
 * alert to level (1..SB_ALERT_LEVEL_MAX); event "escalated" by "sbems".
 * SB_EEXIST: not active, shelved, or already at level or above. */
static inline int sb_appdb_alert_escalate(struct sb_appdb *db, int64_t id, int level,
                                          int64_t now_ms, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_escalate, id, level, now_ms, out); }
/* Records a notification's fate, in any state: event "notified" (ok) or
 * "notify_failed" by "sbems", detail "<channel> <target>: <detail>".
 * channel: 1..15 of [a-z] ("webhook", "email", "mqtt", "ws"); target and
 * detail may be NULL. */
static inline int sb_appdb_alert_notified(struct sb_appdb *db, int64_t id, const char *channel,
                                          const char *target, int ok, const char *detail,
                                          int64_t now_ms)
{ return SB__APPDB_CALL(db, alert_notified, id, channel, target, ok, detail, now_ms); }
static inline int sb_appdb_alert_get(struct sb_appdb *db, int64_t id, struct sb_alert *out)
{ return SB__APPDB_CALL(db, alert_get, id, out); }
/* Fills out (released first) with the alerts matching f, newest first. */
static inline int sb_appdb_alert_list(struct sb_appdb *db, const struct sb_alert_filter *f,
                                      struct sb_alert_page *out)
{ return SB__APPDB_CALL(db, alert_list, f, out); }
/* The alert's history, oldest first: up to limit (1..SB_ALERT_PAGE_MAX)
 * events with id > after_id into *out, a malloc'd array the caller frees
 * (NULL when *n is 0); *next = after_id of the next page, 0 = no more.
 * SB_ENOENT for an unknown alert. */
static inline int sb_appdb_alert_events(struct sb_appdb *db, int64_t id, int64_t after_id,
                                        int limit, struct sb_alert_event **out, size_t *n,
                                        int64_t *next)
{ return SB__APPDB_CALL(db, alert_events, id, after_id, limit, out, n, next); }
/* Alerts due for their next escalation: active (not acknowledged), not
 * shelved at now_ms, not info (it asks nobody to act), escalated_level <
 * max_level (1..SB_ALERT_LEVEL_MAX), raised at least ack_timeout_ms x
 * (escalated_level + 1) before now_ms.
 * Oldest first, at most limit; out is released first (next_before_id 0).
 * The escalator then calls alert_escalate(id, level + 1). */
static inline int sb_appdb_alert_escalation_due(struct sb_appdb *db, int64_t now_ms,
                                                int64_t ack_timeout_ms, int max_level, int limit,
                                                struct sb_alert_page *out)
{ return SB__APPDB_CALL(db, alert_escalation_due, now_ms, ack_timeout_ms, max_level, limit, out); }
/* Counters of the open alerts of one building. */
static inline int sb_appdb_alert_summary(struct sb_appdb *db, const char *building,
                                         struct sb_alert_summary *out)
{ return SB__APPDB_CALL(db, alert_summary, building, out); }

/*
 * Subscriptions.  add stores s (user_id, channel, target, building,
 * min_severity, quiet_start/end, secret, enabled, level) and sets s->id.
 * SB_EINVAL: unknown channel, a webhook target that is not an http(s) URL,
 * an email target that is not an address, bad building/severity/times, a
 * secret on a channel other than webhook, a level outside
 * 0..SB_ALERT_SUB_LEVEL_MAX; SB_ENOENT unknown user;
 * SB_ERANGE the user has SB_ALERT_SUBS_MAX already.
 * The lists return a malloc'd array the caller frees (NULL when *n is 0),
 * never with secrets.
 */
static inline int sb_appdb_alert_sub_add(struct sb_appdb *db, struct sb_alert_sub *s)
{ return SB__APPDB_CALL(db, alert_sub_add, s); }
/* The subscriptions of user_id (0 = every user), by id. */
static inline int sb_appdb_alert_sub_list(struct sb_appdb *db, int64_t user_id,
                                          struct sb_alert_sub **out, size_t *n)
{ return SB__APPDB_CALL(db, alert_sub_list, user_id, out, n); }
/* Who should hear about an alert of building at severity reaching level
 * (0: raised; 1..SB_ALERT_SUB_LEVEL_MAX: escalated to it): enabled
 * subscriptions of enabled users for that building or for all, whose
 * min_severity takes severity and whose level is level; by user, then id.
 * The caller still checks each user may see the building (grants) and
 * applies the quiet hours. */
static inline int sb_appdb_alert_sub_match(struct sb_appdb *db, const char *building, int severity,
                                           int level, struct sb_alert_sub **out, size_t *n)
{ return SB__APPDB_CALL(db, alert_sub_match, building, severity, level, out, n); }
/* The webhook secret of subscription id into out[cap] ("" when none), for
 * signing only; SB_ENOENT unknown id, SB_ENOSPC cap too small. */
static inline int sb_appdb_alert_sub_secret(struct sb_appdb *db, int64_t id, char *out, size_t cap)
{ return SB__APPDB_CALL(db, alert_sub_secret, id, out, cap); }
/* Deletes subscription id of user_id (0 = whoever owns it); SB_ENOENT when
 * there is none (or it is another user's). */
static inline int sb_appdb_alert_sub_delete(struct sb_appdb *db, int64_t id, int64_t user_id)
{ return SB__APPDB_CALL(db, alert_sub_delete, id, user_id); }

/* ---- analytics store ------------------------------------------------------ */

/* Stores d (insert or replace by kind and key; building "" = none).
 * SB_EINVAL for a bad kind/key or body that is not JSON. */
static inline int sb_appdb_doc_put(struct sb_appdb *db, const struct sb_doc *d)
{ return SB__APPDB_CALL(db, doc_put, d); }
/* The document (kind, key) into *out (release it); SB_ENOENT when none. */
static inline int sb_appdb_doc_get(struct sb_appdb *db, const char *kind, const char *key,
                                   struct sb_doc *out)
{ return SB__APPDB_CALL(db, doc_get, kind, key, 1, out); }
/* The same without its binary part (blob NULL): a model's status without
 * reading the model. */
static inline int sb_appdb_doc_meta(struct sb_appdb *db, const char *kind, const char *key,
                                    struct sb_doc *out)
{ return SB__APPDB_CALL(db, doc_get, kind, key, 0, out); }
static inline int sb_appdb_doc_delete(struct sb_appdb *db, const char *kind, const char *key)
{ return SB__APPDB_CALL(db, doc_delete, kind, key); }
/* Documents of kind (of building unless NULL), by key, at most 10,000;
 * blobs only when with_blob.  Free with sb_docs_free. */
static inline int sb_appdb_doc_list(struct sb_appdb *db, const char *kind, const char *building,
                                    int with_blob, struct sb_doc **out, size_t *n)
{ return SB__APPDB_CALL(db, doc_list, kind, building, with_blob, out, n); }

/* Records n issued forecast values of meter by model (one transaction;
 * the same issue and target hour replaces). */
static inline int sb_appdb_fc_put(struct sb_appdb *db, const char *meter, const char *model,
                                  const struct sb_fc_row *r, size_t n)
{ return SB__APPDB_CALL(db, fc_put, meter, model, r, n); }
/* Issued values with t0 <= target < t1 (horizon_h > 0: only that horizon;
 * the hour starting at the issue time is horizon 1, the next 2, ...), by
 * target then issue time, at most
 * limit (0 = 100,000); *out malloc'd. */
static inline int sb_appdb_fc_get(struct sb_appdb *db, const char *meter, int64_t t0, int64_t t1,
                                  int horizon_h, size_t limit, struct sb_fc_row **out, size_t *n)
{ return SB__APPDB_CALL(db, fc_get, meter, t0, t1, horizon_h, limit, out, n); }
static inline int sb_appdb_fc_purge(struct sb_appdb *db, int64_t before_ms)
{ return SB__APPDB_CALL(db, fc_purge, before_ms); }

/* Stores f (sets f->id), replacing a file of the same report, period start
 * and format, and keeps only the newest keep files of its report. */
static inline int sb_appdb_report_file_put(struct sb_appdb *db, struct sb_report_file *f, int keep)
{ return SB__APPDB_CALL(db, report_file_put, f, keep); }
/* Files (without bytes) of report and/or building (NULL = any), newest
 * first, at most limit (1..1000, else 100); *out malloc'd. */
static inline int sb_appdb_report_file_list(struct sb_appdb *db, const char *report,
                                            const char *building, int limit,
                                            struct sb_report_file **out, size_t *n)
{ return SB__APPDB_CALL(db, report_file_list, report, building, limit, out, n); }
static inline int sb_appdb_report_file_get(struct sb_appdb *db, int64_t id, struct sb_report_file *out)
{ return SB__APPDB_CALL(db, report_file_get, id, out); }
/* Deletes every file of report (its definition is going). */
static inline int sb_appdb_report_file_delete(struct sb_appdb *db, const char *report)
{ return SB__APPDB_CALL(db, report_file_delete, report); }

#endif /* SB_APPDB_H */

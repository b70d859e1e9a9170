/*
 * appdb.h - the API's relational application data: users, role grants,
 * refresh-token families and the append-only audit log.
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
 * records' strings until sb_audit_page_release().  Nothing here logs a
 * password hash, a token hash or a token.
 *
 * Errors: 0 or a negative SB_E* (core/err.h): SB_EINVAL bad argument,
 * SB_ENOENT unknown id, SB_EEXIST duplicate username or token hash,
 * SB_ESTORE the engine failed (logged once here with the "appdb" module).
 */
#ifndef SB_APPDB_H
#define SB_APPDB_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define SB_APPDB_ABI 1

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

/* ---- the backend table ------------------------------------------------- */

/* Every method takes the backend state (struct sb_appdb.impl) first.  Only
 * migrate is optional (NULL: the backend needs none); the wrappers answer
 * SB_ENOTSUP for a NULL method. */
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

#endif /* SB_APPDB_H */

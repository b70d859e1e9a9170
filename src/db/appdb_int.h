/*
 * appdb_int.h - internals shared by the files of the application database
 * (appdb.c: handle, connection, schema, users .. commands; appdb_alerts.c:
 * the alert store; appdb_analytics.c: documents, forecast log, report
 * files).  Not for other modules: include db/appdb.h.
 *
 * One code path serves both backends: every file talks to its connection
 * through db/sql.h (SQLite or PostgreSQL) and differs between engines only
 * in SQL text and schema (docs/internals/appdb-postgres.md).
 *
 * appdb.c owns the connection and its mutex; the alert and analytics parts
 * keep their own prepared statements in a struct sb_appdb__al / __an that
 * appdb.c creates after migrating and finalises before closing the
 * connection.  Their methods receive the backend state (impl) like every
 * method and find their part with sb_appdb__al_of() / __an_of(); they lock
 * the same mutex, so the one connection is never used by two threads at
 * once.
 */
#ifndef SB_DB_APPDB_INT_H
#define SB_DB_APPDB_INT_H

#include <pthread.h>

#include "db/appdb.h"
#include "db/sql.h"

struct sb_appdb__al;
struct sb_appdb__an;

/* SQLite schema steps: v3, the four alert tables (appdb_alerts.c); v4,
 * analytics documents, the forecast log, report files (appdb_analytics.c);
 * v5, app_alert_subs.level (appdb_alerts.c; appdb.c skips it when the
 * column exists). */
extern const char sb_appdb__schema_v3[];
extern const char sb_appdb__schema_v4[];
extern const char sb_appdb__schema_v5[];

/* PostgreSQL schema parts of the current version (5) as a whole, each
 * idempotent (IF NOT EXISTS): appdb.c runs its own, then these, on an empty
 * database.  Later versions add steps to both engines. */
extern const char sb_appdb__pg_schema_alerts[];
extern const char sb_appdb__pg_schema_analytics[];

/* The alert and analytics parts of the backend state impl (appdb.c). */
struct sb_appdb__al *sb_appdb__al_of(void *impl);
struct sb_appdb__an *sb_appdb__an_of(void *impl);

/* Step helpers every file uses (appdb.c), module "appdb" in the log: step to
 * done (0) and reset; step to the first row (0 with the row current,
 * SB_ENOENT reset when none); errors as sb_sql_step, statement reset. */
int sb_appdb__step_done(struct sb_sql_stmt *st, const char *what);
int sb_appdb__step_row(struct sb_sql_stmt *st, const char *what);

/* Column i of the current row as text into dst[cap] (truncated, always
 * NUL-terminated; NULL reads as ""). */
void sb_appdb__cpy_col(char *dst, size_t cap, struct sb_sql_stmt *st, int i);

/* Prepares the alert statements on c (after migration); mu is the
 * connection's mutex.  0, SB_ENOMEM or SB_ESTORE with the reason in err. */
int sb_appdb__al_open(struct sb_sql *c, pthread_mutex_t *mu, struct sb_appdb__al **out,
                      char *err, size_t errlen);
/* Finalises its statements and frees it (NULL is fine). */
void sb_appdb__al_close(struct sb_appdb__al *al);

/* The analytics part's statements (appdb_analytics.c), like the alert part's. */
int  sb_appdb__an_open(struct sb_sql *c, pthread_mutex_t *mu, struct sb_appdb__an **out,
                       char *err, size_t errlen);
void sb_appdb__an_close(struct sb_appdb__an *an);

/* The ops methods of the analytics store (appdb_analytics.c): see appdb.h. */
int sb_appdb__doc_put(void *impl, const struct sb_doc *d);
int sb_appdb__doc_get(void *impl, const char *kind, const char *key, int with_blob,
                      struct sb_doc *out);
int sb_appdb__doc_delete(void *impl, const char *kind, const char *key);
int sb_appdb__doc_list(void *impl, const char *kind, const char *building, int with_blob,
                       struct sb_doc **out, size_t *n);
int sb_appdb__fc_put(void *impl, const char *meter, const char *model, const struct sb_fc_row *r,
                     size_t n);
int sb_appdb__fc_get(void *impl, const char *meter, int64_t t0, int64_t t1, int horizon_h,
                     size_t limit, struct sb_fc_row **out, size_t *n);
int sb_appdb__fc_purge(void *impl, int64_t before_ms);
int sb_appdb__rf_put(void *impl, struct sb_report_file *f, int keep);
int sb_appdb__rf_list(void *impl, const char *report, const char *building, int limit,
                      struct sb_report_file **out, size_t *n);
int sb_appdb__rf_get(void *impl, int64_t id, struct sb_report_file *out);
int sb_appdb__rf_delete(void *impl, const char *report);

/* The ops methods of the alert store (appdb_alerts.c): see appdb.h. */
int sb_appdb__rule_put(void *impl, const struct sb_alert_rule *r, int *created);
int sb_appdb__rule_get(void *impl, const char *id, struct sb_alert_rule *out);
int sb_appdb__rule_delete(void *impl, const char *id);
int sb_appdb__rule_list(void *impl, const struct sb_alert_scope *scope, const char *after,
                        int limit, struct sb_alert_rule_page *out);
int sb_appdb__rule_count(void *impl, const struct sb_alert_scope *scope, int64_t *n);
int sb_appdb__alert_raise(void *impl, const char *rule, const char *building, const char *key,
                          int severity, double value, const char *message, int64_t now_ms,
                          int64_t flap_window_ms, struct sb_alert *out, int *outcome);
int sb_appdb__alert_clear(void *impl, const char *rule, const char *key, int64_t now_ms,
                          int auto_resolve, struct sb_alert *out);
int sb_appdb__alert_ack(void *impl, int64_t id, const char *actor, const char *note,
                        int64_t now_ms, struct sb_alert *out);
int sb_appdb__alert_assign(void *impl, int64_t id, const char *assignee, const char *actor,
                           const char *note, int64_t now_ms, struct sb_alert *out);
int sb_appdb__alert_note(void *impl, int64_t id, const char *actor, const char *text,
                         int64_t now_ms, struct sb_alert *out);
int sb_appdb__alert_shelve(void *impl, int64_t id, int64_t until_ms, const char *actor,
                           const char *note, int64_t now_ms, struct sb_alert *out);
int sb_appdb__alert_unshelve(void *impl, int64_t id, const char *actor, int64_t now_ms,
                             struct sb_alert *out);
int sb_appdb__alert_resolve(void *impl, int64_t id, const char *actor, const char *note,
                            int64_t now_ms, struct sb_alert *out);
int sb_appdb__alert_escalate(void *impl, int64_t id, int level, int64_t now_ms,
                             struct sb_alert *out);
int sb_appdb__alert_notified(void *impl, int64_t id, const char *channel, const char *target,
                             int ok, const char *detail, int64_t now_ms);
int sb_appdb__alert_get(void *impl, int64_t id, struct sb_alert *out);
int sb_appdb__alert_list(void *impl, const struct sb_alert_filter *f, struct sb_alert_page *out);
int sb_appdb__alert_events(void *impl, int64_t id, int64_t after_id, int limit,
                           struct sb_alert_event **out, size_t *n, int64_t *next);
int sb_appdb__alert_escalation_due(void *impl, int64_t now_ms, int64_t ack_timeout_ms,
                                   int max_level, int limit, struct sb_alert_page *out);
int sb_appdb__alert_summary(void *impl, const char *building, struct sb_alert_summary *out);
int sb_appdb__sub_add(void *impl, struct sb_alert_sub *s);
int sb_appdb__sub_list(void *impl, int64_t user_id, struct sb_alert_sub **out, size_t *n);
int sb_appdb__sub_match(void *impl, const char *building, int severity, int level,
                        struct sb_alert_sub **out, size_t *n);
int sb_appdb__sub_secret(void *impl, int64_t id, char *out, size_t cap);
int sb_appdb__sub_delete(void *impl, int64_t id, int64_t user_id);

#endif /* SB_DB_APPDB_INT_H */

/*
 * model_sql.h - the building model in SQLite.
 *
 * The store opens the database and calls these inside its own transaction:
 * they never BEGIN, COMMIT or ROLLBACK, so a failed save leaves the caller
 * free to roll everything back.  Tables (all prefixed model_):
 *   model_meta       key/value: schema_version
 *   model_point_ids  the id registry: (id INTEGER PRIMARY KEY, slug UNIQUE).
 *                    Rows are never deleted, so an id is never given to
 *                    another slug, and a point removed and later re-added
 *                    with the same slug gets its old id (and its history)
 *                    back.  Time-series tables should reference this table,
 *                    not model_points.
 *   model_sites, model_buildings, model_zones, model_equipment, model_points
 *                    one row per object: relational columns for what the
 *                    daemon queries (slugs, references as foreign keys, name,
 *                    type/kind, unit, driver, poll, ...) and an "extra" JSON
 *                    text column for the rest (tags, driver address,
 *                    comfort, schedule, descriptions).
 * Foreign keys are DEFERRABLE INITIALLY DEFERRED (checked at COMMIT) and
 * enforced only when the connection has PRAGMA foreign_keys=ON.  All
 * statements are prepared with bound parameters.  On SB_ESTORE,
 * sqlite3_errmsg(db) says why.
 *
 * Ownership: the db handle stays the caller's.  Loading fills an empty
 * struct sb_model (sb_model_init) that the caller releases; on failure it is
 * left empty.
 */
#ifndef SB_MODEL_SQL_H
#define SB_MODEL_SQL_H

#include <sqlite3.h>

#include "model/model.h"

#define SB_MODEL_SQL_VERSION 1    /* schema version this code writes */

/* Creates or upgrades the model tables.  Returns 0, SB_ESTORE, or
 * SB_ENOTSUP when the database was written by a newer schema. */
int sb_model_sql_migrate(sqlite3 *db);

/* Loads the stored model into empty m and validates it.  Returns 0,
 * SB_ESTORE, SB_ECORRUPT (stored rows fail validation), SB_ENOMEM. */
int sb_model_sql_load(sqlite3 *db, struct sb_model *m);

/* As sb_model_sql_load, with the validation messages in errs (may be NULL). */
int sb_model_sql_load_errs(sqlite3 *db, struct sb_model *m, struct sb_model_errs *errs);

/* Replaces the whole stored model with m (a validated model).  Point ids
 * come from the registry: a slug it knows keeps its id, a new slug gets
 * max(id) + 1; m's own ids are not used (call sb_model_sql_assign_ids first
 * to see the ids in memory).  Points missing from m are deleted from
 * model_points (their registry row and readings stay).  Returns 0,
 * SB_ESTORE, SB_ENOMEM. */
int sb_model_sql_save(sqlite3 *db, const struct sb_model *m);

/* Registers m's points (the same rule as save) and writes their ids into m,
 * rebuilding its id index.  Returns 0, SB_ESTORE, SB_ENOMEM, SB_EINVAL (m
 * not validated). */
int sb_model_sql_assign_ids(sqlite3 *db, struct sb_model *m);

#endif /* SB_MODEL_SQL_H */

/*
 * model_sql.c - the model in SQLite (see model_sql.h).
 *
 * Each object travels through the same JSON object the site document uses
 * (sb_model__obj_to_json / sb_model__obj_from_json): saving splits it into
 * the table's relational columns and an "extra" JSON text holding every other
 * field; loading puts the columns back into that object and reads it with
 * the document reader.  So the meaning of every field lives in one place
 * (site_json*.c), and a stored model goes through exactly the checks an
 * imported one does.  Rows keep their document position ("pos") so a model
 * loads in the order it was saved, and exports identically.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/model_sql.h"
#include "model/site_json.h"

/* How a column holds its field. */
enum coltype {
    C_TEXT,     /* JSON string */
    C_REAL,     /* JSON number */
    C_INT,      /* JSON integer */
    C_BOOL,     /* JSON true / absent, stored 1 / 0 */
    C_MS        /* JSON seconds, stored as integer milliseconds */
};

/* One relational column: the JSON field it holds ("source.driver" is field
 * driver of nested object source). */
struct col {
    const char *key;        /* field of the object */
    const char *sub;        /* field of the nested object key, or NULL */
    enum coltype type;      /* representation */
};

/* One table.  Insert parameters: pos, the columns in order, extra, then
 * (points) id.  Select columns: the same order, extra, then (points) id. */
struct table {
    const char *insert;     /* INSERT statement */
    const char *select;     /* SELECT ... ORDER BY pos */
    const char *count;      /* SELECT count(*) */
    const char *clear;      /* DELETE statement */
    int ncols;              /* entries of cols */
    struct col cols[12];    /* relational columns */
};

static const struct table tables[SB_OBJ_COUNT] = {
    [SB_OBJ_SITE] = {
        "INSERT INTO model_sites(pos, slug, name, extra) VALUES(?1, ?2, ?3, ?4)",
        "SELECT slug, name, extra FROM model_sites ORDER BY pos",
        "SELECT count(*) FROM model_sites", "DELETE FROM model_sites",
        2, { { "id", NULL, C_TEXT }, { "name", NULL, C_TEXT } },
    },
    [SB_OBJ_BUILDING] = {
        "INSERT INTO model_buildings(pos, slug, site, name, timezone, area_m2, latitude, "
        "longitude, extra) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        "SELECT slug, site, name, timezone, area_m2, latitude, longitude, extra "
        "FROM model_buildings ORDER BY pos",
        "SELECT count(*) FROM model_buildings", "DELETE FROM model_buildings",
        7, { { "id", NULL, C_TEXT }, { "site", NULL, C_TEXT }, { "name", NULL, C_TEXT },
             { "timezone", NULL, C_TEXT }, { "area_m2", NULL, C_REAL },
             { "latitude", NULL, C_REAL }, { "longitude", NULL, C_REAL } },
    },
    [SB_OBJ_ZONE] = {
        "INSERT INTO model_zones(pos, slug, building, name, floor, area_m2, extra) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        "SELECT slug, building, name, floor, area_m2, extra FROM model_zones ORDER BY pos",
        "SELECT count(*) FROM model_zones", "DELETE FROM model_zones",
        5, { { "id", NULL, C_TEXT }, { "building", NULL, C_TEXT }, { "name", NULL, C_TEXT },
             { "floor", NULL, C_INT }, { "area_m2", NULL, C_REAL } },
    },
    [SB_OBJ_EQUIPMENT] = {
        "INSERT INTO model_equipment(pos, slug, building, zone, parent, name, type, vendor, "
        "model, brick, extra) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        "SELECT slug, building, zone, parent, name, type, vendor, model, brick, extra "
        "FROM model_equipment ORDER BY pos",
        "SELECT count(*) FROM model_equipment", "DELETE FROM model_equipment",
        9, { { "id", NULL, C_TEXT }, { "building", NULL, C_TEXT }, { "zone", NULL, C_TEXT },
             { "parent", NULL, C_TEXT }, { "name", NULL, C_TEXT }, { "type", NULL, C_TEXT },
             { "vendor", NULL, C_TEXT }, { "model", NULL, C_TEXT }, { "brick", NULL, C_TEXT } },
    },
    [SB_OBJ_POINT] = {
        "INSERT INTO model_points(pos, slug, equipment, name, kind, unit, writable, min, max, "
        "counter_modulus, driver, poll_ms, brick, extra, id) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        "SELECT slug, equipment, name, kind, unit, writable, min, max, counter_modulus, "
        "driver, poll_ms, brick, extra, id FROM model_points ORDER BY pos",
        "SELECT count(*) FROM model_points", "DELETE FROM model_points",
        12, { { "id", NULL, C_TEXT }, { "equipment", NULL, C_TEXT }, { "name", NULL, C_TEXT },
              { "kind", NULL, C_TEXT }, { "unit", NULL, C_TEXT }, { "writable", NULL, C_BOOL },
              { "min", NULL, C_REAL }, { "max", NULL, C_REAL },
              { "counter_modulus", NULL, C_REAL }, { "source", "driver", C_TEXT },
              { "source", "poll_s", C_MS }, { "brick", NULL, C_TEXT } },
    },
};

/* Schema version 1.  Foreign keys are deferred: save replaces every row
 * inside the caller's transaction, in any order. */
static const char *const schema_v1[] = {
    "CREATE TABLE IF NOT EXISTS model_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS model_point_ids ("
    " id INTEGER PRIMARY KEY CHECK (id > 0), slug TEXT NOT NULL UNIQUE)",
    "CREATE TABLE IF NOT EXISTS model_sites ("
    " slug TEXT PRIMARY KEY, pos INTEGER NOT NULL, name TEXT, extra TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS model_buildings ("
    " slug TEXT PRIMARY KEY, pos INTEGER NOT NULL,"
    " site TEXT REFERENCES model_sites(slug) DEFERRABLE INITIALLY DEFERRED,"
    " name TEXT, timezone TEXT, area_m2 REAL, latitude REAL, longitude REAL,"
    " extra TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS model_zones ("
    " slug TEXT PRIMARY KEY, pos INTEGER NOT NULL,"
    " building TEXT REFERENCES model_buildings(slug) DEFERRABLE INITIALLY DEFERRED,"
    " name TEXT, floor INTEGER, area_m2 REAL, extra TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS model_equipment ("
    " slug TEXT PRIMARY KEY, pos INTEGER NOT NULL,"
    " building TEXT REFERENCES model_buildings(slug) DEFERRABLE INITIALLY DEFERRED,"
    " zone TEXT REFERENCES model_zones(slug) DEFERRABLE INITIALLY DEFERRED,"
    " parent TEXT REFERENCES model_equipment(slug) DEFERRABLE INITIALLY DEFERRED,"
    " name TEXT, type TEXT, vendor TEXT, model TEXT, brick TEXT, extra TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS model_points ("
    " id INTEGER PRIMARY KEY REFERENCES model_point_ids(id) DEFERRABLE INITIALLY DEFERRED,"
    " slug TEXT NOT NULL UNIQUE, pos INTEGER NOT NULL,"
    " equipment TEXT REFERENCES model_equipment(slug) DEFERRABLE INITIALLY DEFERRED,"
    " name TEXT, kind TEXT, unit TEXT, writable INTEGER NOT NULL DEFAULT 0,"
    " min REAL, max REAL, counter_modulus REAL, driver TEXT,"
    " poll_ms INTEGER NOT NULL DEFAULT 0, brick TEXT, extra TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS model_zones_building ON model_zones(building)",
    "CREATE INDEX IF NOT EXISTS model_equipment_building ON model_equipment(building)",
    "CREATE INDEX IF NOT EXISTS model_equipment_parent ON model_equipment(parent)",
    "CREATE INDEX IF NOT EXISTS model_points_equipment ON model_points(equipment)",
    NULL
};

/* Prepares, steps to the end and finalizes one parameterless statement. */
static int exec1(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = SQLITE_OK;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : SB_ESTORE;
}

/* The integer answer of a one-row query (ok == 0 when there is no row). */
static int query_int(sqlite3 *db, const char *sql, const char *arg, sqlite3_int64 *out, int *ok)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    *ok = 0;
    if (rc == SQLITE_OK && arg)
        rc = sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            *ok = 1;
            rc = SQLITE_DONE;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : SB_ESTORE;
}

int sb_model_sql_migrate(sqlite3 *db)
{
    sqlite3_int64 v = 0;
    int rc = 0, ok;

    for (int i = 0; rc == 0 && schema_v1[i]; i++)
        rc = exec1(db, schema_v1[i]);
    if (rc == 0)
        rc = query_int(db, "SELECT CAST(value AS INTEGER) FROM model_meta "
                       "WHERE key = 'schema_version'", NULL, &v, &ok);
    if (rc)
        return rc;
    if (!ok)
        return exec1(db, "INSERT INTO model_meta(key, value) VALUES('schema_version', '1')");
    /* future versions: apply the steps from v + 1 up to SB_MODEL_SQL_VERSION here */
    return v > SB_MODEL_SQL_VERSION ? SB_ENOTSUP : 0;
}

/* --- ids ------------------------------------------------------------------- */

/* The registry id of every point of m into ids[] (new slugs registered). */
static int register_ids(sqlite3 *db, const struct sb_model *m, uint32_t *ids)
{
    sqlite3_stmt *get = NULL, *ins = NULL;
    sqlite3_int64 next = 0;
    int rc, ok;

    rc = query_int(db, "SELECT COALESCE(MAX(id), 0) FROM model_point_ids", NULL, &next, &ok);
    if (rc)
        return rc;
    rc = SB_ESTORE;
    if (sqlite3_prepare_v2(db, "SELECT id FROM model_point_ids WHERE slug = ?1", -1, &get,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO model_point_ids(id, slug) VALUES(?1, ?2)", -1,
                           &ins, NULL) != SQLITE_OK)
        goto out;
    for (size_t i = 0; i < m->npoints; i++) {
        int s;
        sqlite3_reset(get);
        sqlite3_bind_text(get, 1, m->points[i].slug, -1, SQLITE_STATIC);
        s = sqlite3_step(get);
        if (s == SQLITE_ROW) {
            ids[i] = (uint32_t)sqlite3_column_int64(get, 0);
            continue;
        }
        if (s != SQLITE_DONE)
            goto out;
        if (++next > SB_POINT_ID_MAX) {
            rc = SB_ERANGE;
            goto out;
        }
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, next);
        sqlite3_bind_text(ins, 2, m->points[i].slug, -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            goto out;
        ids[i] = (uint32_t)next;
    }
    rc = 0;
out:
    sqlite3_finalize(get);
    sqlite3_finalize(ins);
    return rc;
}

int sb_model_sql_assign_ids(sqlite3 *db, struct sb_model *m)
{
    uint32_t *ids = calloc(m->npoints + 1, sizeof *ids);
    size_t bad = 0;
    int rc;

    if (!ids)
        return SB_ENOMEM;
    rc = register_ids(db, m, ids);
    for (size_t i = 0; rc == 0 && i < m->npoints; i++)
        m->points[i].id = ids[i];
    free(ids);
    if (rc == 0)
        rc = sb_model__index_build(m, NULL, &bad);
    if (rc == 0 && bad)
        rc = SB_EINVAL;
    return rc;
}

/* --- save ------------------------------------------------------------------ */

static const json_t *col_value(const json_t *o, const struct col *c)
{
    const json_t *v = json_object_get(o, c->key);

    return c->sub ? json_object_get(v, c->sub) : v;
}

static void col_remove(json_t *o, const struct col *c)
{
    if (c->sub)
        json_object_del(json_object_get(o, c->key), c->sub);
    else
        json_object_del(o, c->key);
}

static int bind_col(sqlite3_stmt *st, int at, const json_t *v, enum coltype t)
{
    switch (t) {
    case C_TEXT:
        return json_is_string(v) ? sqlite3_bind_text(st, at, json_string_value(v), -1,
                                                     SQLITE_TRANSIENT)
                                 : sqlite3_bind_null(st, at);
    case C_REAL:
        return json_is_number(v) ? sqlite3_bind_double(st, at, json_number_value(v))
                                 : sqlite3_bind_null(st, at);
    case C_INT:
        return json_is_integer(v) ? sqlite3_bind_int64(st, at, json_integer_value(v))
                                  : sqlite3_bind_null(st, at);
    case C_BOOL:
        return sqlite3_bind_int(st, at, json_is_true(v));
    case C_MS:
        return sqlite3_bind_int64(st, at, json_is_number(v) ?
                                  llround(json_number_value(v) * 1000) : 0);
    }
    return SQLITE_MISUSE;
}

/* Binds object o (consumed: columns are removed from it) to insert st. */
static int bind_obj(sqlite3_stmt *st, const struct table *t, size_t pos, json_t *o)
{
    char *extra;
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)pos);

    for (int c = 0; rc == SQLITE_OK && c < t->ncols; c++) {
        rc = bind_col(st, c + 2, col_value(o, &t->cols[c]), t->cols[c].type);
        col_remove(o, &t->cols[c]);
    }
    if (rc != SQLITE_OK)
        return SB_ESTORE;
    extra = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!extra)
        return SB_ENOMEM;
    rc = sqlite3_bind_text(st, t->ncols + 2, extra, -1, free);
    return rc == SQLITE_OK ? 0 : SB_ESTORE;
}

static int save_kind(sqlite3 *db, const struct sb_model *m, enum sb_obj k, const uint32_t *ids)
{
    const struct table *t = &tables[k];
    sqlite3_stmt *st = NULL;
    size_t n = sb_model__count(m, k);
    int rc = sqlite3_prepare_v2(db, t->insert, -1, &st, NULL) == SQLITE_OK ? 0 : SB_ESTORE;

    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *o = sb_model__obj_to_json(m, k, i);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        rc = o ? bind_obj(st, t, i, o) : SB_ENOMEM;
        json_decref(o);
        if (rc == 0 && ids && sqlite3_bind_int64(st, t->ncols + 3, ids[i]) != SQLITE_OK)
            rc = SB_ESTORE;
        if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
            rc = SB_ESTORE;
    }
    sqlite3_finalize(st);
    return rc;
}

int sb_model_sql_save(sqlite3 *db, const struct sb_model *m)
{
    uint32_t *ids = calloc(m->npoints + 1, sizeof *ids);
    int rc;

    if (!ids)
        return SB_ENOMEM;
    rc = register_ids(db, m, ids);
    /* children first, so that immediate foreign keys would hold too */
    for (int k = SB_OBJ_POINT; rc == 0 && k >= 0; k--)
        rc = exec1(db, tables[k].clear);
    for (int k = 0; rc == 0 && k < SB_OBJ_COUNT; k++)
        rc = save_kind(db, m, (enum sb_obj)k, k == SB_OBJ_POINT ? ids : NULL);
    free(ids);
    return rc;
}

/* --- load ------------------------------------------------------------------- */

/* Puts column c of the current row back into object o. */
static int unbind_col(sqlite3_stmt *st, int at, json_t *o, const struct col *c)
{
    json_t *v = NULL, *dst = o;
    int type = sqlite3_column_type(st, at);

    if (type == SQLITE_NULL)
        return 0;
    if ((c->type == C_BOOL || c->type == C_MS) && sqlite3_column_int64(st, at) == 0)
        return 0;       /* false and 0 are left out of the object */
    switch (c->type) {
    case C_TEXT: v = json_string((const char *)sqlite3_column_text(st, at)); break;
    case C_REAL: v = json_real(sqlite3_column_double(st, at)); break;
    case C_INT:  v = json_integer(sqlite3_column_int64(st, at)); break;
    case C_BOOL: v = json_true(); break;
    case C_MS:   v = json_real((double)sqlite3_column_int64(st, at) / 1000.0); break;
    }
    if (!v)
        return c->type == C_TEXT ? SB_ECORRUPT : SB_ENOMEM;  /* text not UTF-8 */
    if (c->sub) {
        dst = json_object_get(o, c->key);
        if (!dst) {
            dst = json_object();
            if (json_object_set_new(o, c->key, dst))
                dst = NULL;
        }
        if (!json_is_object(dst)) {
            json_decref(v);
            return SB_ECORRUPT;
        }
    }
    return json_object_set_new(dst, c->sub ? c->sub : c->key, v) ? SB_ENOMEM : 0;
}

/* The object of the current row: extra plus the columns. */
static int row_obj(sqlite3_stmt *st, const struct table *t, json_t **out)
{
    const char *extra = (const char *)sqlite3_column_text(st, t->ncols);
    json_t *o = extra ? json_loads(extra, JSON_REJECT_DUPLICATES, NULL) : NULL;
    int rc = 0;

    if (!json_is_object(o)) {
        json_decref(o);
        return SB_ECORRUPT;
    }
    for (int c = 0; rc == 0 && c < t->ncols; c++)
        rc = unbind_col(st, c, o, &t->cols[c]);
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

static int load_kind(sqlite3 *db, struct sb_model *m, enum sb_obj k, struct sb_model_errs *errs,
                     size_t *bad)
{
    const struct table *t = &tables[k];
    sqlite3_stmt *st = NULL;
    size_t i = 0, n = sb_model__count(m, k);
    int rc = sqlite3_prepare_v2(db, t->select, -1, &st, NULL) == SQLITE_OK ? 0 : SB_ESTORE;
    int s = SQLITE_DONE;

    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = NULL;
        if (i >= n) {
            rc = SB_ECORRUPT;     /* rows appeared between count and select */
            break;
        }
        rc = row_obj(st, t, &o);
        if (rc == 0)
            rc = sb_model__obj_from_json(m, k, i, o, errs);
        if (rc == SB_EINVAL) {
            ++*bad;
            rc = 0;
        }
        if (rc == 0 && k == SB_OBJ_POINT) {
            sqlite3_int64 id = sqlite3_column_int64(st, t->ncols + 1);
            /* out of range: UINT32_MAX, which validation rejects */
            m->points[i].id = id > 0 && id <= (sqlite3_int64)SB_POINT_ID_MAX ? (uint32_t)id
                                                                             : UINT32_MAX;
        }
        json_decref(o);
        i++;
    }
    if (rc == 0 && (s != SQLITE_DONE || i != n))
        rc = s != SQLITE_DONE ? SB_ESTORE : SB_ECORRUPT;
    sqlite3_finalize(st);
    return rc;
}

int sb_model_sql_load_errs(sqlite3 *db, struct sb_model *m, struct sb_model_errs *errs)
{
    size_t counts[SB_OBJ_COUNT], bad = 0;
    int rc = 0;

    for (int k = 0; rc == 0 && k < SB_OBJ_COUNT; k++) {
        sqlite3_int64 n = 0;
        int ok;
        rc = query_int(db, tables[k].count, NULL, &n, &ok);
        counts[k] = (size_t)n;
    }
    if (rc == 0)
        rc = sb_model__alloc(m, counts);
    for (int k = 0; rc == 0 && k < SB_OBJ_COUNT; k++)
        rc = load_kind(db, m, (enum sb_obj)k, errs, &bad);
    if (rc == 0 && bad)
        rc = SB_ECORRUPT;
    if (rc == 0) {
        rc = sb_model_validate(m, errs);
        rc = rc == SB_EINVAL ? SB_ECORRUPT : rc;
    }
    if (rc)
        sb_model_release(m);
    return rc;
}

int sb_model_sql_load(sqlite3 *db, struct sb_model *m)
{
    return sb_model_sql_load_errs(db, m, NULL);
}

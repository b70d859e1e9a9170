/*
 * pg_model.c - the building model in PostgreSQL (kv.h model_load/model_save).
 *
 * Two tables:
 *   sb_model_point_ids(id, slug)   the id registry, the same rule as SQLite's
 *                                  model_point_ids (model/model_sql.h): rows
 *                                  are never deleted, a slug keeps its id
 *                                  forever, a new slug gets max(id) + 1
 *   sb_model_doc(k = 1, doc)       the whole model as the site document
 *                                  (model/site_json.h), which carries no ids
 * The document is the one format whose meaning and checks live in one place
 * (site_json*.c); a loaded model passes sb_model_validate() with its ids, as
 * sb_model_sql_load's does.  No relational copy: nothing queries the model in
 * SQL, the daemon holds it in memory.
 */
#include <stdlib.h>

#include "core/err.h"
#include "model/model.h"
#include "model/site_json.h"
#include "store/pg/pg_int.h"

/* ids[i] = the registry's id of point i of m (0 when unknown); *max = the
 * largest id ever given. */
static int registry_read(struct sb_kv_conn *c, const struct sb_model *m, uint32_t *ids,
                         int64_t *max)
{
    PGresult *r;
    int rc = sb_pg__run(c, SB_PGQ_REG_ALL, NULL, &r, "model ids");

    *max = 0;
    if (rc)
        return rc;
    for (int k = 0; k < PQntuples(r); k++) {
        int64_t id = sb_pg__get_int(r, k, 0);
        const struct sb_point *pt = sb_model_point(m, PQgetvalue(r, k, 1));
        if (id > *max)
            *max = id;
        if (pt)       /* out of range: UINT32_MAX, which validation rejects */
            ids[pt - m->points] = id > 0 && id <= (int64_t)SB_POINT_ID_MAX ? (uint32_t)id
                                                                           : UINT32_MAX;
    }
    PQclear(r);
    return 0;
}

/* Registers the points of m the registry does not know yet. */
static int registry_add(struct sb_kv_conn *w, const struct sb_model *m, uint32_t *ids,
                        int64_t next)
{
    int rc = 0;

    for (size_t i = 0; rc == 0 && i < m->npoints; i++) {
        struct sb_pg_params p = { 0 };
        if (ids[i])
            continue;
        if (++next > (int64_t)SB_POINT_ID_MAX)
            return SB_ERANGE;
        sb_pg__p_int4(&p, (int32_t)next);
        sb_pg__p_text(&p, m->points[i].slug);
        rc = sb_pg__run(w, SB_PGQ_REG_INS, &p, NULL, "model ids");
        ids[i] = (uint32_t)next;
    }
    return rc;
}

int sb_pg__model_save(struct sb_kv_conn *w, const struct sb_model *m)
{
    struct sb_pg_params p = { 0 };
    uint32_t *ids = NULL;
    char *doc = NULL;
    int64_t max;
    int rc;

    if (!m->idx)
        return SB_EINVAL;        /* not validated: no slug lookup */
    if (!(ids = calloc(m->npoints + 1, sizeof(*ids))))
        return SB_ENOMEM;
    /* Two nodes saving at once would both take max(id) + 1: the second waits
     * here (until the first commits) and then sees the first's ids.  Readers
     * are not blocked by this mode. */
    if ((rc = sb_pg__exec(w, "LOCK TABLE sb_model_point_ids IN SHARE ROW EXCLUSIVE MODE",
                          "model ids")) ||
        (rc = registry_read(w, m, ids, &max)) ||
        (rc = registry_add(w, m, ids, max)))
        goto out;
    if ((rc = sb_model_to_json_text(m, &doc)))
        goto out;
    sb_pg__p_text(&p, doc);
    rc = sb_pg__run(w, SB_PGQ_DOC_PUT, &p, NULL, "model");
out:
    free(doc);
    free(ids);
    return rc;
}

/* The stored document into empty m, ids from the registry, validated. */
static int load_doc(struct sb_kv_conn *c, struct sb_model *m)
{
    uint32_t *ids = NULL;
    PGresult *r;
    int64_t max;
    int rc;

    if ((rc = sb_pg__run(c, SB_PGQ_DOC_GET, NULL, &r, "model")))
        return rc;
    if (PQntuples(r) == 0) {
        /* Never saved: the empty model, validated (indexed) as
         * sb_model_sql_load gives it. */
        PQclear(r);
        return sb_model_validate(m, NULL);
    }
    rc = sb_model_from_json_text(PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0), m, NULL);
    PQclear(r);
    if (rc)
        return rc == SB_EINVAL ? SB_ECORRUPT : rc;
    if (!(ids = calloc(m->npoints + 1, sizeof(*ids))))
        return SB_ENOMEM;
    if ((rc = registry_read(c, m, ids, &max)))
        goto out;
    for (size_t i = 0; i < m->npoints; i++) {
        if (!ids[i]) {
            rc = SB_ECORRUPT;    /* a saved point is always registered */
            goto out;
        }
        m->points[i].id = ids[i];
    }
    /* Again, now with the ids: duplicates and range, and the id index. */
    rc = sb_model_validate(m, NULL);
    rc = rc == SB_EINVAL ? SB_ECORRUPT : rc;
out:
    free(ids);
    return rc;
}

int sb_pg__model_load(struct sb_kv_conn *c, struct sb_model *m)
{
    /* One snapshot for the document and the registry. */
    int rc = sb_pg__exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "model");

    if (rc)
        return rc;
    c->in_tx = 1;
    rc = load_doc(c, m);
    c->in_tx = 0;
    sb_pg__end_quietly(c, "COMMIT");
    if (rc)
        sb_model_release(m);
    return rc;
}

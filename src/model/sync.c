/*
 * sync.c - push a model's points to the store and ingest (sync.h).
 */
#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "ingest/ingest.h"
#include "model/sync.h"
#include "store/store.h"

int sb_model_sync_points(struct sb_store_h *store, struct sb_ingest *ing,
                         const struct sb_model *mo, int64_t max_hold_ms)
{
    size_t n = mo->npoints;
    struct sb_point_meta *m = calloc(n ? n : 1, sizeof(*m));
    struct sb_ingest_point *ip = calloc(n ? n : 1, sizeof(*ip));
    int rc = SB_ENOMEM;

    if (!m || !ip)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const struct sb_point *p = &mo->points[i];
        m[i].id = p->id;
        m[i].tz = sb_model_point_tz(mo, p);
        sb_point_agg_ctx(p, max_hold_ms, &m[i].agg);
        ip[i].id = p->id;
        /* The range is declared in the source unit; readings are canonical. */
        double lo = p->min, hi = p->max;
        if (!isnan(lo))
            sb_unit_convert(p->unit, p->canon, lo, &lo);
        if (!isnan(hi))
            sb_unit_convert(p->unit, p->canon, hi, &hi);
        ip[i].vmin = lo;
        ip[i].vmax = hi;
    }
    rc = store ? sb_store_set_points(store, m, n) : 0;
    if (rc == 0 && ing)
        rc = sb_ingest_set_points(ing, ip, n);
out:
    free(m);
    free(ip);
    return rc;
}

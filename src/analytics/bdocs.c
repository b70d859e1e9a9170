/*
 * bdocs.c - a building's tariff and holidays from the app database (bdocs.h).
 */
#include "analytics/bdocs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/tariff.h"
#include "core/tz.h"

struct sb_tariff *sb_building_tariff(struct sb_appdb *db, const char *building, char *why, size_t cap)
{
    struct sb_doc d;
    struct sb_tariff *t = NULL;
    char id[SB_DOC_KEY_MAX + 1] = "";

    if (sb_appdb_doc_get(db, "building_tariff", building, &d) == 0) {
        json_t *j = json_loads(d.body, 0, NULL);
        snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(j, "tariff")) ?: "");
        json_decref(j);
        sb_doc_release(&d);
    }
    if (!id[0]) {
        snprintf(why, cap, "the building has no tariff (PUT /api/v1/buildings/%s/tariff)", building);
        return NULL;
    }
    if (sb_appdb_doc_get(db, "tariff", id, &d)) {
        snprintf(why, cap, "the building's tariff %s no longer exists", id);
        return NULL;
    }
    if (!(t = calloc(1, sizeof(*t))))
        snprintf(why, cap, "out of memory");
    else if (sb_tariff_parse(d.body, strlen(d.body), t, why, cap)) {
        free(t);
        t = NULL;
    }
    sb_doc_release(&d);
    return t;
}

int64_t *sb_building_holidays(struct sb_appdb *db, const char *building, size_t *n)
{
    struct sb_doc d;
    int64_t *v = NULL;
    json_t *e;
    size_t i;

    *n = 0;
    if (sb_appdb_doc_get(db, "holidays", building, &d))
        return NULL;
    json_t *j = json_loads(d.body, 0, NULL), *arr = json_object_get(j, "days");
    sb_doc_release(&d);
    if (json_array_size(arr) && (v = malloc(json_array_size(arr) * sizeof(*v))))
        json_array_foreach(arr, i, e)
            if (sb_local_date_ok(json_string_value(json_object_get(e, "date")), &v[*n]))
                (*n)++;
    json_decref(j);
    return v;
}

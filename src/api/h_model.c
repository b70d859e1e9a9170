/*
 * h_model.c - the building model as REST resources: sites, buildings,
 * zones, equipment and points (list, create, read, update, delete).
 *
 * Objects have the site document's form (docs/site-format.md), so what a
 * client reads it can send back.  Every change goes the same way, under the
 * model hub's edit lock: the current model as a document, the change applied
 * to the document, the whole document imported and validated (the same
 * rules as `sbems import`; a change that breaks a reference is refused with
 * every problem named), saved to the store, reloaded (new points get their
 * ids), pushed to the store and ingest, published, audited.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "drivers/manager.h"
#include "model/hub.h"
#include "model/site_json.h"
#include "model/sync.h"
#include "store/store.h"

#define LIST_MAX 1000           /* most objects per page */

/* The object kind a route names, from its path. */
static enum sb_obj route_kind(const struct sb_route *rt)
{
    const char *p = rt->path + strlen("/api/v1/");
    if (strncmp(p, "sites", 5) == 0)
        return SB_OBJ_SITE;
    if (strncmp(p, "buildings", 9) == 0)
        return SB_OBJ_BUILDING;
    if (strncmp(p, "zones", 5) == 0)
        return SB_OBJ_ZONE;
    if (strncmp(p, "equipment", 9) == 0 || strncmp(p, "thermostats", 11) == 0)
        return SB_OBJ_EQUIPMENT;
    return SB_OBJ_POINT;
}

static const char *kind_word(enum sb_obj k)
{
    static const char *const w[] = { "site", "building", "zone", "equipment", "point" };
    return w[k];
}

/* The building index of object i of kind k (-1 for sites). */
static int32_t obj_building(const struct sb_model *m, enum sb_obj k, size_t i)
{
    switch (k) {
    case SB_OBJ_BUILDING: return (int32_t)i;
    case SB_OBJ_ZONE: return m->zones[i].building_ix;
    case SB_OBJ_EQUIPMENT: return m->equipment[i].building_ix;
    case SB_OBJ_POINT: return m->points[i].building_ix;
    default: return -1;
    }
}

static int visible(const struct sb_principal *p, const struct sb_model *m, enum sb_obj k,
                   size_t i)
{
    if (k == SB_OBJ_SITE)
        return sb_api__site_visible(p, m, i);
    return sb_api__in_scope(p, m, (size_t)obj_building(m, k, i));
}

/* One object as JSON, points with their integer id as "point_id". */
json_t *sb_api__obj_json(const struct sb_model *m, enum sb_obj k, size_t i)
{
    json_t *o = sb_model__obj_to_json(m, k, i);
    if (o && k == SB_OBJ_POINT)
        json_object_set_new(o, "point_id", json_integer(m->points[i].id));
    return o;
}

/* Does object i match the list filters (?site= ?building= ?zone= ?equipment=
 * ?type= ?kind=)? */
static int matches(const struct sb_req *rq, const struct sb_model *m, enum sb_obj k, size_t i)
{
    const char *f;
    int32_t b = obj_building(m, k, i);
    if ((f = sb_req_q(rq, "site")) && k != SB_OBJ_SITE &&
        (b < 0 || strcmp(m->buildings[b].site, f) != 0))
        return 0;
    if ((f = sb_req_q(rq, "building")) && k != SB_OBJ_SITE &&
        (b < 0 || strcmp(m->buildings[b].slug, f) != 0))
        return 0;
    if (k == SB_OBJ_EQUIPMENT) {
        const struct sb_equipment *e = &m->equipment[i];
        if ((f = sb_req_q(rq, "type")) && strcmp(sb_equip_type_name(e->type), f) != 0)
            return 0;
        if ((f = sb_req_q(rq, "zone")) && (!e->zone || strcmp(e->zone, f) != 0))
            return 0;
    }
    if (k == SB_OBJ_POINT) {
        const struct sb_point *p = &m->points[i];
        if ((f = sb_req_q(rq, "equipment")) && strcmp(p->equipment, f) != 0)
            return 0;
        if ((f = sb_req_q(rq, "kind")) && strcmp(sb_point_kind_name(p->kind), f) != 0)
            return 0;
    }
    return 1;
}

/* limit and cursor of a list: 0 or answered 400. */
int sb_api__page_args(struct sb_req *rq, size_t *limit, const char **cursor)
{
    const char *l = sb_req_q(rq, "limit");
    *limit = 100;
    *cursor = sb_req_q(rq, "cursor");
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (*l == '\0' || *end || v < 1 || v > LIST_MAX) {
            sb_api__bad_field(rq, "limit", "limit must be a whole number from 1 to 1000");
            return -1;
        }
        *limit = (size_t)v;
    }
    return 0;
}

static const char *const list_filters[SB_OBJ_COUNT][8] = {
    [SB_OBJ_SITE] = { "limit", "cursor", NULL },
    [SB_OBJ_BUILDING] = { "limit", "cursor", "site", NULL },
    [SB_OBJ_ZONE] = { "limit", "cursor", "site", "building", NULL },
    [SB_OBJ_EQUIPMENT] = { "limit", "cursor", "site", "building", "zone", "type", NULL },
    [SB_OBJ_POINT] = { "limit", "cursor", "site", "building", "equipment", "kind", NULL },
};

/* Refuse query parameters not in names (a typo must not widen a list). */
int sb_api__only_query(struct sb_req *rq, const char *const *names)
{
    for (size_t i = 0; i < rq->nq; i++) {
        size_t j = 0;
        while (names[j] && strcmp(names[j], rq->qname[i]) != 0)
            j++;
        if (!names[j]) {
            char msg[128];
            snprintf(msg, sizeof(msg), "unknown query parameter %.64s", rq->qname[i]);
            sb_api__bad_field(rq, rq->qname[i], msg);
            return -1;
        }
    }
    return 0;
}

/* Objects in document order; the cursor is the slug of the last one seen.
 * Slugs are unique and the order is stable between edits, so a page
 * never repeats an object. */
static void list_kind(struct sb_api *api, struct sb_req *rq, enum sb_obj k, int thermostats)
{
    size_t limit;
    const char *cursor;
    (void)api;
    if (sb_api__only_query(rq, list_filters[k]) || sb_api__page_args(rq, &limit, &cursor))
        return;
    const struct sb_model *m = rq->model->m;
    size_t n = sb_model__count(m, k), i = 0;
    if (cursor) {
        int32_t at = sb_model__find(m, k, cursor);
        if (at < 0) {
            sb_api__bad_field(rq, "cursor", "cursor names no object (it may have been deleted)");
            return;
        }
        i = (size_t)at + 1;
    }
    json_t *items = json_array();
    const char *last = NULL;
    int more = 0;
    for (; i < n; i++) {
        if (!visible(&rq->who, m, k, i) || !matches(rq, m, k, i))
            continue;
        if (thermostats && m->equipment[i].type != SB_EQUIP_THERMOSTAT)
            continue;
        if (json_array_size(items) == limit) {
            more = 1;
            break;
        }
        json_array_append_new(items, sb_api__obj_json(m, k, i));
        last = sb_model__slug_at(m, k, i);
    }
    sb_api__json(rq, 200, json_pack("{s:o, s:s?}", "items", items, "next_cursor",
                                    more ? last : NULL));
}

static void pin(struct sb_api *api, struct sb_req *rq)
{
    if (!rq->model)
        rq->model = sb_mhub_get(api->ctx.models);
}

void sb_api__h_list(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.models) {
        sb_api__err(rq, 503, "unavailable", "no building model loaded");
        return;
    }
    pin(api, rq);
    list_kind(api, rq, route_kind(rq->route), strstr(rq->route->path, "thermostats") != NULL);
}

void sb_api__h_get(struct sb_api *api, struct sb_req *rq)
{
    pin(api, rq);
    enum sb_obj k = route_kind(rq->route);
    const struct sb_model *m = rq->model->m;
    int32_t i = k == SB_OBJ_POINT ? -1 : sb_model__find(m, k, rq->params[0]);
    if (k == SB_OBJ_POINT) {
        const struct sb_point *p = sb_api__point(m, rq->params[0]);
        i = p ? (int32_t)(p - m->points) : -1;
    }
    if (i < 0) {
        sb_api__err(rq, 404, "not_found", "no such object");
        return;
    }
    sb_api__json(rq, 200, sb_api__obj_json(m, k, (size_t)i));
}

/* ---- edits ------------------------------------------------------------------- */

enum edit_op { ED_CREATE, ED_PATCH, ED_DELETE };

/* Index of the object with "id" slug in a document list, or -1. */
static ssize_t doc_find(json_t *list, const char *slug)
{
    size_t i;
    json_t *o;
    if (!slug)
        return -1;
    json_array_foreach(list, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id && strcmp(id, slug) == 0)
            return (ssize_t)i;
    }
    return -1;
}

/* The model's validation messages as error details. */
static json_t *errs_json(const struct sb_model_errs *e)
{
    json_t *d = json_array();
    for (size_t i = 0; i < e->n; i++)
        json_array_append_new(d, json_pack("{s:s}", "message", e->msg[i]));
    return d;
}

/* Which building (or site, for a site) a new or changed object falls in,
 * from the document object itself: the scope the editor must hold. */
static int edit_in_scope(const struct sb_req *rq, const struct sb_model *m, enum sb_obj k,
                         json_t *obj)
{
    const struct sb_principal *p = &rq->who;
    if (p->roles & SB_ROLE_ADMIN)
        return 1;
    const char *ref = NULL;
    switch (k) {
    case SB_OBJ_SITE:
        return 0;                          /* admins only */
    case SB_OBJ_BUILDING: {
        ref = json_string_value(json_object_get(obj, "site"));
        for (size_t i = 0; ref && i < p->ngrants; i++)
            if (p->grants[i].kind == 's' && strcmp(p->grants[i].slug, ref) == 0)
                return 1;
        const char *id = json_string_value(json_object_get(obj, "id"));
        const struct sb_building *b = id ? sb_model_building(m, id) : NULL;
        return b && sb_api__in_scope(p, m, (size_t)(b - m->buildings)) && ref &&
               strcmp(ref, b->site) == 0;
    }
    case SB_OBJ_ZONE:
    case SB_OBJ_EQUIPMENT: {
        ref = json_string_value(json_object_get(obj, "building"));
        const struct sb_building *b = ref ? sb_model_building(m, ref) : NULL;
        return b && sb_api__in_scope(p, m, (size_t)(b - m->buildings));
    }
    case SB_OBJ_POINT: {
        ref = json_string_value(json_object_get(obj, "equipment"));
        const struct sb_equipment *e = ref ? sb_model_equipment(m, ref) : NULL;
        return e && sb_api__in_scope(p, m, (size_t)e->building_ix);
    }
    default:
        return 0;
    }
}

/* Loop thread, after an edit: the drivers bind the new model's points. */
static void rebind_drivers(struct sb_api *api, struct sb_req *rq)
{
    (void)rq;
    if (!api->ctx.drivers || !api->ctx.models)
        return;
    struct sb_mref *r = sb_mhub_get(api->ctx.models);
    int rc = sb_drvmgr_apply(api->ctx.drivers, r->m);
    if (rc)
        SB_ERR("api", "drivers could not take the new model: %s", sb_strerror(rc));
    sb_mref_put(r);
}

/* Save, reload with ids, sync points, publish.  Returns 0 or answers. */
static int commit(struct sb_api *api, struct sb_req *rq, struct sb_model *nm)
{
    struct sb_model *loaded = sb_model_new();
    int rc = loaded ? sb_store_model_save(api->ctx.store, nm) : SB_ENOMEM;
    if (rc == 0)
        rc = sb_store_model_load(api->ctx.store, loaded);
    if (rc == 0 && !loaded->idx)
        rc = sb_model_validate(loaded, NULL);
    int64_t hold = api->ctx.cfg ? api->ctx.cfg->store_max_hold : 15 * 60000;
    if (rc == 0)
        rc = sb_model_sync_points(api->ctx.store, api->ctx.ingest, loaded, hold);
    if (rc == 0) {
        rc = sb_mhub_swap(api->ctx.models, loaded);
        loaded = NULL;
        rq->after = rebind_drivers;
    }
    sb_model_free(loaded);
    if (rc)
        sb_api__err_rc(rq, rc, "saving the model");
    return rc;
}


/*
 * RFC 7396 JSON merge patch, applied to the object o in place: a null
 * removes the member, an object is merged member by member (recursively,
 * §2), anything else (arrays included) replaces the member whole.
 */
int sb_api__merge_patch(json_t *o, json_t *patch)
{
    const char *key;
    json_t *v;

    json_object_foreach(patch, key, v) {
        json_t *cur = json_object_get(o, key);
        if (json_is_null(v)) {
            json_object_del(o, key);
        } else if (json_is_object(v)) {
            if (!json_is_object(cur)) {
                if (json_object_set_new(o, key, json_object()))
                    return SB_ENOMEM;
                cur = json_object_get(o, key);
            }
            if (sb_api__merge_patch(cur, v))
                return SB_ENOMEM;
        } else if (json_object_set(o, key, v)) {
            return SB_ENOMEM;
        }
    }
    return 0;
}

static void edit(struct sb_api *api, struct sb_req *rq, enum edit_op op)
{
    enum sb_obj k = route_kind(rq->route);
    const char *word = kind_word(k);
    json_t *body = NULL, *doc = NULL, *before = NULL, *after = NULL;
    struct sb_model *nm = NULL;
    struct sb_model_errs errs;
    char target[160], action[48];
    struct sb_mref *cur = NULL;

    sb_model_errs_init(&errs);
    if (!api->ctx.models || !api->ctx.store) {
        sb_api__err(rq, 503, "unavailable", "no building model loaded");
        return;
    }
    if (op != ED_DELETE && !(body = sb_api__body(rq)))
        return;
    sb_mhub_edit_lock(api->ctx.models);
    cur = sb_mhub_get(api->ctx.models);
    const struct sb_model *m = cur->m;
    if (sb_model_to_json(m, &doc)) {
        sb_api__err(rq, 500, "internal", "out of memory");
        goto out;
    }
    json_t *list = json_object_get(doc, sb_model__list_name(k));
    const char *slug = op == ED_CREATE ? json_string_value(json_object_get(body, "id"))
                                       : rq->params[0];
    if (k == SB_OBJ_POINT && op != ED_CREATE) {
        const struct sb_point *p = sb_api__point(m, rq->params[0]);
        slug = p ? p->slug : NULL;
    }
    if (!slug) {
        sb_api__bad_field(rq, "id", "id (the object's slug) is required");
        goto out;
    }
    ssize_t at = doc_find(list, slug);
    snprintf(target, sizeof(target), "%s:%s", word, slug);
    if (op == ED_CREATE) {
        if (at >= 0) {
            sb_api__err(rq, 409, "conflict", "an object with this id already exists");
            goto out;
        }
        if (!edit_in_scope(rq, m, k, body)) {
            sb_api__err(rq, 403, "forbidden", "outside the buildings you may change");
            goto out;
        }
        json_array_append(list, body);
        after = json_incref(body);
    } else if (at < 0) {
        sb_api__err(rq, 404, "not_found", "no such object");
        goto out;
    } else {
        json_t *o = json_array_get(list, (size_t)at);
        before = json_deep_copy(o);
        if (op == ED_DELETE) {
            json_array_remove(list, (size_t)at);
        } else {
            json_t *id = json_object_get(body, "id");
            if (id && (!json_is_string(id) || strcmp(json_string_value(id), slug) != 0)) {
                sb_api__bad_field(rq, "id", "id cannot be changed (delete and create instead)");
                goto out;
            }
            if (sb_api__merge_patch(o, body)) {
                sb_api__err(rq, 500, "internal", "out of memory");
                goto out;
            }
            if (!edit_in_scope(rq, m, k, o)) {
                sb_api__err(rq, 403, "forbidden", "outside the buildings you may change");
                goto out;
            }
            after = json_deep_copy(o);
        }
    }
    if (!(nm = sb_model_new()) || sb_model_from_json(doc, nm, &errs)) {
        if (errs.n)
            sb_api__errd(rq, op == ED_DELETE ? 409 : 400,
                         op == ED_DELETE ? "conflict" : "invalid",
                         op == ED_DELETE ? "other objects still refer to it"
                                         : "the object is not valid",
                         errs_json(&errs));
        else
            sb_api__err(rq, 500, "internal", "out of memory");
        goto out;
    }
    if (commit(api, rq, nm))
        goto out;
    snprintf(action, sizeof(action), "%s.%s", word,
             op == ED_CREATE ? "create" : op == ED_PATCH ? "update" : "delete");
    sb_api__audit(api, rq, action, target, before, after, "ok", NULL);
    if (op == ED_DELETE) {
        rq->resp.status = 204;
    } else {
        struct sb_mref *now = sb_mhub_get(api->ctx.models);
        int32_t i = sb_model__find(now->m, k, slug);
        sb_api__json(rq, op == ED_CREATE ? 201 : 200,
                     i >= 0 ? sb_api__obj_json(now->m, k, (size_t)i) : json_object());
        if (op == ED_CREATE)
            sb_http__hdr(&rq->resp, "location:", "%s/%s", rq->path, slug);
        sb_mref_put(now);
    }
out:
    if (cur)
        sb_mref_put(cur);
    sb_mhub_edit_unlock(api->ctx.models);
    sb_model_free(nm);
    sb_model_errs_release(&errs);
    json_decref(body);
    json_decref(doc);
    json_decref(before);
    json_decref(after);
}

void sb_api__h_create(struct sb_api *api, struct sb_req *rq) { edit(api, rq, ED_CREATE); }
void sb_api__h_patch(struct sb_api *api, struct sb_req *rq) { edit(api, rq, ED_PATCH); }
void sb_api__h_delete(struct sb_api *api, struct sb_req *rq) { edit(api, rq, ED_DELETE); }

int sb_api__merge_doc(struct sb_api *api, struct sb_req *rq, json_t *frag, const char *action,
                      const char *target)
{
    json_t *doc = NULL;
    struct sb_model *nm = NULL;
    struct sb_model_errs errs;
    struct sb_mref *cur;
    size_t i;
    json_t *o;
    int rc = -1;

    sb_model_errs_init(&errs);
    if (!api->ctx.models || !api->ctx.store) {
        sb_api__err(rq, 503, "unavailable", "no building model loaded");
        return -1;
    }
    sb_mhub_edit_lock(api->ctx.models);
    cur = sb_mhub_get(api->ctx.models);
    if (sb_model_to_json(cur->m, &doc)) {
        sb_api__err(rq, 500, "internal", "out of memory");
        goto out;
    }
    json_t *eqs = json_object_get(doc, "equipment"), *pts = json_object_get(doc, "points");
    json_array_foreach(json_object_get(frag, "equipment"), i, o) {
        ssize_t at = doc_find(eqs, json_string_value(json_object_get(o, "id")));
        if (at >= 0) {
            json_t *have = json_array_get(eqs, (size_t)at);
            if (json_equal(json_object_get(have, "building"), json_object_get(o, "building")))
                continue;                 /* the device's equipment exists: reuse it */
            sb_api__errd(rq, 409, "conflict", "equipment with this id exists in another building",
                         json_pack("[{s:s, s:s}]", "field", "equipment",
                                   "message", json_string_value(json_object_get(o, "id"))));
            goto out;
        }
        json_array_append(eqs, o);
    }
    json_array_foreach(json_object_get(frag, "points"), i, o) {
        if (doc_find(pts, json_string_value(json_object_get(o, "id"))) >= 0) {
            sb_api__errd(rq, 409, "conflict", "a point with this id exists already",
                         json_pack("[{s:s, s:s}]", "field", "points",
                                   "message", json_string_value(json_object_get(o, "id"))));
            goto out;
        }
        json_array_append(pts, o);
    }
    if (!(nm = sb_model_new()) || sb_model_from_json(doc, nm, &errs)) {
        if (errs.n)
            sb_api__errd(rq, 400, "invalid", "the accepted points are not valid", errs_json(&errs));
        else
            sb_api__err(rq, 500, "internal", "out of memory");
        goto out;
    }
    if (commit(api, rq, nm))
        goto out;
    sb_api__audit(api, rq, action, target, NULL, frag, "ok", NULL);
    rc = 0;
out:
    sb_mref_put(cur);
    sb_mhub_edit_unlock(api->ctx.models);
    sb_model_free(nm);
    sb_model_errs_release(&errs);
    json_decref(doc);
    return rc;
}

/*
 * site_json_export.c - exporting the site document, and the operations built
 * on export + import: merge (upsert a partial document) and clone.
 *
 * Canonical form, so that export(import(export(m))) == export(m):
 *  - fields in a fixed order, optional fields omitted when unset (false
 *    booleans, NaN numbers, NULL strings, counter_modulus 0, poll 0);
 *  - a number with an integral value below 2^53 is written as an integer,
 *    others with 15 significant digits (DBL_DIG: a decimal of <= 15 digits
 *    survives text -> double -> text unchanged, C17 5.2.4.2.2);
 *  - units as their display symbol, schedules regrouped by sb_schedule_*;
 *  - the text layout writes each object on one line (diffs show one line
 *    per changed object).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/site_json.h"

#define NUM_FLAGS JSON_REAL_PRECISION(15)

/* Adds key: v to o; a NULL v (allocation failed) sets *fail. */
static void put(json_t *o, const char *key, json_t *v, int *fail)
{
    if (!v || json_object_set_new(o, key, v))
        *fail = 1;
}

static void put_str(json_t *o, const char *key, const char *s, int *fail)
{
    if (s)
        put(o, key, json_string(s), fail);
}

static json_t *num(double v)
{
    if (v == trunc(v) && fabs(v) < 9007199254740992.0)     /* 2^53 */
        return json_integer((json_int_t)v);
    return json_real(v);
}

static void put_num(json_t *o, const char *key, double v, int *fail)
{
    if (!isnan(v))
        put(o, key, num(v), fail);
}

static void put_tags(json_t *o, const struct sb_strv *tags, int *fail)
{
    json_t *a;

    if (!tags->n)
        return;
    a = json_array();
    for (size_t i = 0; a && i < tags->n; i++)
        if (json_array_append_new(a, json_string(tags->v[i])))
            *fail = 1;
    put(o, "tags", a, fail);
}

static void site_json(json_t *o, const struct sb_site *s, int *fail)
{
    put_str(o, "id", s->slug, fail);
    put_str(o, "name", s->name, fail);
    put_str(o, "description", s->description, fail);
}

static void building_json(json_t *o, const struct sb_building *b, int *fail)
{
    put_str(o, "id", b->slug, fail);
    put_str(o, "site", b->site, fail);
    put_str(o, "name", b->name, fail);
    put_str(o, "address", b->address, fail);
    put_str(o, "timezone", b->timezone, fail);
    put_num(o, "area_m2", b->area_m2, fail);
    put_num(o, "latitude", b->latitude, fail);
    put_num(o, "longitude", b->longitude, fail);
}

static json_t *band_json(const struct sb_band *b, int *fail)
{
    json_t *o = json_object();

    if (o) {
        put_num(o, "heating", b->heating, fail);
        put_num(o, "cooling", b->cooling, fail);
    }
    return o;
}

/* Groups days with identical periods: one key per distinct day, listing
 * every day like it, in Monday-first order. */
static json_t *sched_json(const struct sb_schedule *s, int *fail)
{
    json_t *o = json_object();
    unsigned done = 0;
    char key[64], val[128];

    for (int d = 0; o && d < 7; d++) {
        unsigned mask = 0;
        if ((done & (1u << d)) || s->day[d].n == 0)
            continue;
        for (int e = d; e < 7; e++)
            if (memcmp(&s->day[e], &s->day[d], sizeof s->day[d]) == 0)
                mask |= 1u << e;
        done |= mask;
        if (sb_schedule_format_days(mask, key, sizeof key) ||
            sb_schedule_format_day(&s->day[d], val, sizeof val))
            *fail = 1;
        else
            put(o, key, json_string(val), fail);
    }
    return o;
}

static void zone_json(json_t *o, const struct sb_zone *z, int *fail)
{
    json_t *c;

    put_str(o, "id", z->slug, fail);
    put_str(o, "building", z->building, fail);
    put_str(o, "name", z->name, fail);
    if (z->has_floor)
        put(o, "floor", json_integer(z->floor), fail);
    put_num(o, "area_m2", z->area_m2, fail);
    if (z->comfort.set) {
        c = json_object();
        if (c) {
            put(c, "occupied", band_json(&z->comfort.occupied, fail), fail);
            put(c, "unoccupied", band_json(&z->comfort.unoccupied, fail), fail);
        }
        put(o, "comfort", c, fail);
    }
    if (z->sched.set)
        put(o, "schedule", sched_json(&z->sched, fail), fail);
    put_str(o, "description", z->description, fail);
}

static void equipment_json(json_t *o, const struct sb_equipment *e, int *fail)
{
    put_str(o, "id", e->slug, fail);
    put_str(o, "building", e->building, fail);
    put_str(o, "name", e->name, fail);
    put_str(o, "type", sb_equip_type_name(e->type), fail);
    put_str(o, "vendor", e->vendor, fail);
    put_str(o, "model", e->model, fail);
    put_str(o, "zone", e->zone, fail);
    put_str(o, "parent", e->parent, fail);
    put_str(o, "brick", e->brick, fail);
    put_tags(o, &e->tags, fail);
    put_str(o, "description", e->description, fail);
}

static json_t *source_json(const struct sb_binding *b, int *fail)
{
    json_t *o = json_object(), *a;

    if (!o)
        return NULL;
    put_str(o, "driver", sb_driver_name(b->driver), fail);
    if (b->address) {
        a = b->address_json ? json_loads(b->address, 0, NULL) : json_string(b->address);
        put(o, "address", a ? a : json_string(b->address), fail);
    }
    if (b->poll_ms)
        put(o, "poll_s", num(b->poll_ms / 1000.0), fail);
    return o;
}

static void point_json(json_t *o, const struct sb_point *p, int *fail)
{
    enum sb_unit def = sb_point_kind_unit(p->kind);

    put_str(o, "id", p->slug, fail);
    put_str(o, "equipment", p->equipment, fail);
    put_str(o, "name", p->name, fail);
    put_str(o, "kind", sb_point_kind_name(p->kind), fail);
    /* "unit" may be left out only where import defaults it to "" */
    if (p->unit != SB_UNIT_NONE || p->kind == SB_POINT_SETPOINT ||
        (def != SB_UNIT_INVALID && def != SB_UNIT_NONE))
        put_str(o, "unit", sb_unit_symbol(p->unit), fail);
    if (p->writable)
        put(o, "writable", json_true(), fail);
    if (p->force_writable)
        put(o, "force_writable", json_true(), fail);
    put_num(o, "min", p->min, fail);
    put_num(o, "max", p->max, fail);
    if (p->counter_modulus != 0)
        put_num(o, "counter_modulus", p->counter_modulus, fail);
    put(o, "source", source_json(&p->source, fail), fail);
    put_str(o, "brick", p->brick, fail);
    put_tags(o, &p->tags, fail);
    put_str(o, "description", p->description, fail);
}

json_t *sb_model__obj_to_json(const struct sb_model *m, enum sb_obj k, size_t i)
{
    json_t *o = json_object();
    int fail = !o;

    if (fail)
        return NULL;
    switch (k) {
    case SB_OBJ_SITE:      site_json(o, &m->sites[i], &fail); break;
    case SB_OBJ_BUILDING:  building_json(o, &m->buildings[i], &fail); break;
    case SB_OBJ_ZONE:      zone_json(o, &m->zones[i], &fail); break;
    case SB_OBJ_EQUIPMENT: equipment_json(o, &m->equipment[i], &fail); break;
    case SB_OBJ_POINT:     point_json(o, &m->points[i], &fail); break;
    default:               fail = 1; break;
    }
    if (fail) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *list_json(const struct sb_model *m, enum sb_obj k)
{
    json_t *a = json_array();
    size_t n = sb_model__count(m, k);

    for (size_t i = 0; a && i < n; i++) {
        if (json_array_append_new(a, sb_model__obj_to_json(m, k, i))) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

int sb_model_to_json(const struct sb_model *m, json_t **out)
{
    json_t *doc = json_object();
    int fail = !doc;

    if (doc) {
        put(doc, "format", json_string(SB_SITE_FORMAT), &fail);
        put(doc, "version", json_integer(SB_SITE_VERSION), &fail);
        for (int k = 0; k < SB_OBJ_COUNT; k++)
            put(doc, sb_model__list_name((enum sb_obj)k), list_json(m, (enum sb_obj)k), &fail);
    }
    if (fail) {
        json_decref(doc);
        return SB_ENOMEM;
    }
    *out = doc;
    return 0;
}

/* --- text layout ------------------------------------------------------------ */

/* A growing text buffer. */
struct tbuf {
    char *p;       /* text, NUL-terminated */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
    int fail;      /* an allocation failed */
};

static void tb_add(struct tbuf *b, const char *s)
{
    size_t n = strlen(s);

    if (b->fail)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *np;
        while (cap < b->len + n + 1)
            cap *= 2;
        np = realloc(b->p, cap);
        if (!np) {
            b->fail = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void tb_list(struct tbuf *b, const struct sb_model *m, enum sb_obj k)
{
    size_t n = sb_model__count(m, k);

    tb_add(b, "  \"");
    tb_add(b, sb_model__list_name(k));
    tb_add(b, n ? "\": [\n" : "\": []");
    for (size_t i = 0; i < n; i++) {
        json_t *o = sb_model__obj_to_json(m, k, i);
        char *t = o ? json_dumps(o, NUM_FLAGS) : NULL;
        json_decref(o);
        if (!t) {
            b->fail = 1;
            return;
        }
        tb_add(b, "    ");
        tb_add(b, t);
        tb_add(b, i + 1 < n ? ",\n" : "\n  ]");
        free(t);
    }
    tb_add(b, k + 1 < SB_OBJ_COUNT ? ",\n" : "\n");
}

int sb_model_to_json_text(const struct sb_model *m, char **out)
{
    struct tbuf b = { 0 };
    char head[96];

    snprintf(head, sizeof head, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n",
             SB_SITE_FORMAT, SB_SITE_VERSION);
    tb_add(&b, head);
    for (int k = 0; k < SB_OBJ_COUNT; k++)
        tb_list(&b, m, (enum sb_obj)k);
    tb_add(&b, "}\n");
    if (b.fail) {
        free(b.p);
        return SB_ENOMEM;
    }
    *out = b.p;
    return 0;
}

/* --- merge and clone ---------------------------------------------------------- */

/* Upserts the objects of list s into list d by "id". */
static int upsert_list(json_t *d, const json_t *s)
{
    json_t *pos = json_object(), *o;
    size_t i;
    int rc = SB_ENOMEM;

    if (!pos)
        return SB_ENOMEM;
    json_array_foreach(d, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id && json_object_set_new(pos, id, json_integer((json_int_t)i)))
            goto out;
    }
    json_array_foreach(s, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        json_t *at = id ? json_object_get(pos, id) : NULL;
        if (at) {
            if (json_array_set(d, (size_t)json_integer_value(at), o))
                goto out;
        } else {
            if (id && json_object_set_new(pos, id, json_integer((json_int_t)json_array_size(d))))
                goto out;
            if (json_array_append(d, o))
                goto out;
        }
    }
    rc = 0;
out:
    json_decref(pos);
    return rc;
}

/* Parses doc into tmp, gives its first nkeep points the ids of keep's points
 * at the same positions, validates, and swaps it into dst. */
static int rebuild(struct sb_model *dst, const json_t *doc, const struct sb_model *keep,
                   struct sb_model_errs *errs)
{
    struct sb_model tmp;
    int rc;

    sb_model_init(&tmp);
    rc = sb_model_parse_json(doc, &tmp, errs);
    if (rc)
        return rc;
    for (size_t i = 0; i < keep->npoints && i < tmp.npoints; i++)
        tmp.points[i].id = keep->points[i].id;
    rc = sb_model_validate(&tmp, errs);
    if (rc == 0)
        sb_model_swap(dst, &tmp);
    sb_model_release(&tmp);
    return rc;
}

int sb_model_merge(struct sb_model *dst, const struct sb_model *src, struct sb_model_errs *errs)
{
    json_t *d = NULL, *s = NULL;
    int rc;

    rc = sb_model_to_json(dst, &d);
    if (rc == 0)
        rc = sb_model_to_json(src, &s);
    for (int k = 0; rc == 0 && k < SB_OBJ_COUNT; k++) {
        const char *name = sb_model__list_name((enum sb_obj)k);
        rc = upsert_list(json_object_get(d, name), json_object_get(s, name));
    }
    if (rc == 0)
        rc = rebuild(dst, d, dst, errs);
    json_decref(d);
    json_decref(s);
    return rc;
}

int sb_model_merge_json(struct sb_model *dst, const json_t *doc, struct sb_model_errs *errs)
{
    struct sb_model src;
    int rc;

    sb_model_init(&src);
    rc = sb_model_parse_json(doc, &src, errs);
    if (rc == 0)
        rc = sb_model_merge(dst, &src, errs);
    sb_model_release(&src);
    return rc;
}

int sb_model_clone(const struct sb_model *src, struct sb_model *dst)
{
    json_t *d = NULL;
    int rc = sb_model_to_json(src, &d);

    if (rc == 0)
        rc = rebuild(dst, d, src, NULL);
    json_decref(d);
    return rc;
}

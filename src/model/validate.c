/*
 * validate.c - the model's rules (sb_model_validate, see model.h).
 *
 * Every rule reports through vfail() and validation goes on, so one pass
 * lists every problem in the document.  The rules and their reasons are in
 * docs/site-format.md ("Validation").  Ranges:
 *  - latitude [-90, 90], longitude [-180, 180]: WGS 84 degrees (ISO 6709).
 *  - comfort setpoints within [0, 45] °C: anything outside is a typo or a
 *    value in °F (this module stores comfort bands in °C only).  Heating must
 *    be below cooling; ASHRAE 90.1-2019 section 6.4.3.1.2 asks for a 5 °F
 *    (2.8 K) dead band for zone thermostats, which we recommend in the docs
 *    but do not enforce (some retrofits run narrower bands on purpose).
 *  - Haystack tag names: Project Haystack 4 "Names" (start with a-z, then
 *    ASCII letters, digits or '_').  Brick classes: the local name of a
 *    Brick Schema class (Supply_Air_Temperature_Sensor), letters, digits, '_'.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/model_int.h"

#define POLL_MIN_MS 100u               /* below this a field bus is flooded */
#define POLL_MAX_MS 86400000u          /* one day */
#define TAGS_MAX 64                    /* tags per object */
#define COMFORT_MIN_C 0.0
#define COMFORT_MAX_C 45.0

/* Validation pass state. */
struct vctx {
    struct sb_model *m;            /* model being checked */
    struct sb_model_errs *errs;    /* where messages go (may be NULL) */
    size_t bad;                    /* problems found */
    int oom;                       /* a message could not be stored */
};

static void vfail(struct vctx *v, enum sb_obj k, size_t i, const char *slug, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void vfail(struct vctx *v, enum sb_obj k, size_t i, const char *slug, const char *fmt, ...)
{
    char prefix[128];
    va_list ap;

    v->bad++;
    if (slug)
        snprintf(prefix, sizeof prefix, "%s[%zu] \"%.64s\": ", sb_model__list_name(k), i, slug);
    else
        snprintf(prefix, sizeof prefix, "%s[%zu]: ", sb_model__list_name(k), i);
    va_start(ap, fmt);
    if (sb_model__verr(v->errs, prefix, fmt, ap))
        v->oom = 1;
    va_end(ap);
}

/* Resolves reference field (slug ref) of object i of kind k to an object of
 * kind target.  Returns its index, or -1 (reported unless absent and
 * optional). */
static int32_t resolve(struct vctx *v, enum sb_obj k, size_t i, const char *slug,
                       const char *field, enum sb_obj target, const char *ref, int required)
{
    int32_t ix;

    if (!ref) {
        if (required)
            vfail(v, k, i, slug, "%s is missing", field);
        return -1;
    }
    ix = sb_model__find(v->m, target, ref);
    if (ix < 0)
        vfail(v, k, i, slug, "%s \"%.64s\" does not exist (no such %s id)", field, ref,
              sb_model__list_name(target));
    return ix;
}

static void check_name(struct vctx *v, enum sb_obj k, size_t i, const char *slug, const char *name)
{
    if (!name || !*name)
        vfail(v, k, i, slug, "name is missing or empty");
}

static void check_area(struct vctx *v, enum sb_obj k, size_t i, const char *slug, double a)
{
    if (!isnan(a) && !(a > 0 && isfinite(a)))
        vfail(v, k, i, slug, "area_m2 %g must be > 0", a);
}

static int tag_valid(const char *t)
{
    size_t n = 0;

    if (!t || !(t[0] >= 'a' && t[0] <= 'z'))
        return 0;
    for (; t[n]; n++) {
        char c = t[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return n <= 64;
}

static int brick_valid(const char *b)
{
    size_t n = 0;

    if (!((b[0] >= 'a' && b[0] <= 'z') || (b[0] >= 'A' && b[0] <= 'Z')))
        return 0;
    for (; b[n]; n++) {
        char c = b[n];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return n <= 128;
}

static void check_semantic(struct vctx *v, enum sb_obj k, size_t i, const char *slug,
                           const char *brick, const struct sb_strv *tags)
{
    if (brick && !brick_valid(brick))
        vfail(v, k, i, slug, "brick \"%.64s\" is not a Brick class name "
              "(letters, digits, '_', e.g. \"Supply_Air_Temperature_Sensor\")", brick);
    if (tags->n > TAGS_MAX)
        vfail(v, k, i, slug, "%zu tags (at most %d)", tags->n, TAGS_MAX);
    for (size_t t = 0; t < tags->n; t++) {
        if (!tag_valid(tags->v[t]))
            vfail(v, k, i, slug, "tags[%zu] \"%.64s\" is not a Haystack tag name "
                  "(a-z first, then letters, digits, '_')", t, tags->v[t] ? tags->v[t] : "");
        for (size_t u = 0; u < t && tags->v[t]; u++)
            if (tags->v[u] && strcmp(tags->v[u], tags->v[t]) == 0)
                vfail(v, k, i, slug, "tags[%zu] \"%.64s\" is listed twice", t, tags->v[t]);
    }
}

static void check_sites(struct vctx *v)
{
    for (size_t i = 0; i < v->m->nsites; i++)
        check_name(v, SB_OBJ_SITE, i, v->m->sites[i].slug, v->m->sites[i].name);
}

static void check_latlon(struct vctx *v, size_t i, const struct sb_building *b)
{
    if (isnan(b->latitude) != isnan(b->longitude))
        vfail(v, SB_OBJ_BUILDING, i, b->slug, "latitude and longitude go together: "
              "give both or neither");
    if (!isnan(b->latitude) && !(b->latitude >= -90 && b->latitude <= 90))
        vfail(v, SB_OBJ_BUILDING, i, b->slug, "latitude %g is outside [-90, 90]", b->latitude);
    if (!isnan(b->longitude) && !(b->longitude >= -180 && b->longitude <= 180))
        vfail(v, SB_OBJ_BUILDING, i, b->slug, "longitude %g is outside [-180, 180]",
              b->longitude);
}

static void check_buildings(struct vctx *v)
{
    for (size_t i = 0; i < v->m->nbuildings; i++) {
        struct sb_building *b = &v->m->buildings[i];
        check_name(v, SB_OBJ_BUILDING, i, b->slug, b->name);
        b->site_ix = resolve(v, SB_OBJ_BUILDING, i, b->slug, "site", SB_OBJ_SITE, b->site, 1);
        b->tz = b->timezone ? sb_tz_get(b->timezone) : NULL;
        if (!b->timezone)
            vfail(v, SB_OBJ_BUILDING, i, b->slug, "timezone is missing");
        else if (!b->tz)
            vfail(v, SB_OBJ_BUILDING, i, b->slug, "timezone \"%.64s\" is not a known IANA "
                  "time zone (e.g. \"America/New_York\")", b->timezone);
        check_area(v, SB_OBJ_BUILDING, i, b->slug, b->area_m2);
        check_latlon(v, i, b);
    }
}

static void check_band(struct vctx *v, size_t i, const char *slug, const char *which,
                       const struct sb_band *b)
{
    if (!(b->heating >= COMFORT_MIN_C && b->heating <= COMFORT_MAX_C) ||
        !(b->cooling >= COMFORT_MIN_C && b->cooling <= COMFORT_MAX_C))
        vfail(v, SB_OBJ_ZONE, i, slug, "comfort.%s: setpoints must be in [%g, %g] °C",
              which, COMFORT_MIN_C, COMFORT_MAX_C);
    else if (!(b->heating < b->cooling))
        vfail(v, SB_OBJ_ZONE, i, slug, "comfort.%s: heating %g °C must be below cooling %g °C",
              which, b->heating, b->cooling);
}

static void check_comfort(struct vctx *v, size_t i, const struct sb_zone *z)
{
    const struct sb_comfort *c = &z->comfort;

    if (!c->set)
        return;
    check_band(v, i, z->slug, "occupied", &c->occupied);
    check_band(v, i, z->slug, "unoccupied", &c->unoccupied);
    if (c->unoccupied.heating > c->occupied.heating ||
        c->unoccupied.cooling < c->occupied.cooling)
        vfail(v, SB_OBJ_ZONE, i, z->slug, "comfort.unoccupied must contain comfort.occupied "
              "(setback heats less and cools less)");
}

static void check_sched(struct vctx *v, size_t i, const struct sb_zone *z)
{
    for (int d = 0; z->sched.set && d < 7; d++) {
        const struct sb_day_sched *ds = &z->sched.day[d];
        int ok = ds->n <= SB_SCHED_MAX_PERIODS;
        for (int p = 0; ok && p < ds->n; p++)
            ok = ds->p[p].start < ds->p[p].end && ds->p[p].end <= 1440 &&
                 (p == 0 || ds->p[p].start >= ds->p[p - 1].end);
        if (!ok)
            vfail(v, SB_OBJ_ZONE, i, z->slug, "schedule: day %d has unsorted, overlapping or "
                  "out-of-range periods", d);
    }
}

static void check_zones(struct vctx *v)
{
    for (size_t i = 0; i < v->m->nzones; i++) {
        struct sb_zone *z = &v->m->zones[i];
        check_name(v, SB_OBJ_ZONE, i, z->slug, z->name);
        z->building_ix = resolve(v, SB_OBJ_ZONE, i, z->slug, "building", SB_OBJ_BUILDING,
                                 z->building, 1);
        check_area(v, SB_OBJ_ZONE, i, z->slug, z->area_m2);
        check_comfort(v, i, z);
        check_sched(v, i, z);
    }
}

static void check_equipment_refs(struct vctx *v, size_t i, struct sb_equipment *e)
{
    const struct sb_model *m = v->m;

    e->building_ix = resolve(v, SB_OBJ_EQUIPMENT, i, e->slug, "building", SB_OBJ_BUILDING,
                             e->building, 1);
    e->zone_ix = resolve(v, SB_OBJ_EQUIPMENT, i, e->slug, "zone", SB_OBJ_ZONE, e->zone, 0);
    e->parent_ix = resolve(v, SB_OBJ_EQUIPMENT, i, e->slug, "parent", SB_OBJ_EQUIPMENT,
                           e->parent, 0);
    if (e->building_ix < 0)
        return;
    if (e->zone_ix >= 0 && m->zones[e->zone_ix].building_ix != e->building_ix)
        vfail(v, SB_OBJ_EQUIPMENT, i, e->slug, "zone \"%s\" is in building \"%s\", not \"%s\"",
              e->zone, m->zones[e->zone_ix].building, e->building);
    if (e->parent_ix >= 0 && m->equipment[e->parent_ix].building && e->building &&
        strcmp(m->equipment[e->parent_ix].building, e->building) != 0)
        vfail(v, SB_OBJ_EQUIPMENT, i, e->slug, "parent \"%s\" is in building \"%s\", not \"%s\"",
              e->parent, m->equipment[e->parent_ix].building, e->building);
}

/* Parent chains must end.  Each chain is walked once: nodes get the number
 * of the walk that reached them; meeting the current walk's number again is
 * a cycle, meeting an earlier walk's is a known-good tail.  O(n). */
static int check_cycles(struct vctx *v)
{
    struct sb_model *m = v->m;
    size_t *seen = calloc(m->nequipment ? m->nequipment : 1, sizeof *seen);

    if (!seen)
        return SB_ENOMEM;
    for (size_t i = 0; i < m->nequipment; i++) {
        int32_t j = (int32_t)i;
        while (j >= 0 && !seen[j]) {
            seen[j] = i + 1;
            j = m->equipment[j].parent_ix;
        }
        if (j >= 0 && seen[j] == i + 1)
            vfail(v, SB_OBJ_EQUIPMENT, (size_t)j, m->equipment[j].slug,
                  "parent chain loops back to itself");
    }
    free(seen);
    return 0;
}

static int check_equipment(struct vctx *v)
{
    for (size_t i = 0; i < v->m->nequipment; i++) {
        struct sb_equipment *e = &v->m->equipment[i];
        check_name(v, SB_OBJ_EQUIPMENT, i, e->slug, e->name);
        if ((unsigned)e->type >= SB_EQUIP_TYPE_COUNT)
            vfail(v, SB_OBJ_EQUIPMENT, i, e->slug, "type is invalid");
        check_equipment_refs(v, i, e);
        check_semantic(v, SB_OBJ_EQUIPMENT, i, e->slug, e->brick, &e->tags);
    }
    return check_cycles(v);
}

/* The point's unit against its kind; fills canon and to_canon. */
static void check_unit(struct vctx *v, size_t i, struct sb_point *p)
{
    char allowed[256];
    enum sb_dim d = sb_unit_dim(p->unit);

    p->canon = SB_UNIT_INVALID;
    if (d == SB_DIM_COUNT) {
        vfail(v, SB_OBJ_POINT, i, p->slug, "unit is invalid");
        return;
    }
    if ((unsigned)p->kind >= SB_POINT_KIND_COUNT)
        return;     /* reported by check_point */
    if (!sb_point_kind_allows(p->kind, d)) {
        enum sb_dim want = sb_unit_dim(sb_point_kind_unit(p->kind));
        if (want == SB_DIM_COUNT)
            want = SB_DIM_NONE;     /* command: also allows % */
        sb_unit_dim_symbols(want, allowed, sizeof allowed);
        vfail(v, SB_OBJ_POINT, i, p->slug, "unit \"%s\" is not a %s unit (a %s point takes: %s)",
              sb_unit_symbol(p->unit), sb_dim_name(want), sb_point_kind_name(p->kind),
              allowed);
        return;
    }
    p->canon = sb_unit_canonical(d);
    sb_unit_conv_init(&p->to_canon, p->unit, p->canon);
}

static void check_range(struct vctx *v, size_t i, const struct sb_point *p)
{
    if ((!isnan(p->min) && !isfinite(p->min)) || (!isnan(p->max) && !isfinite(p->max)))
        vfail(v, SB_OBJ_POINT, i, p->slug, "min and max must be finite");
    else if (!isnan(p->min) && !isnan(p->max) && p->min > p->max)
        vfail(v, SB_OBJ_POINT, i, p->slug, "min %g is greater than max %g", p->min, p->max);
    if (p->counter_modulus != 0 && p->kind != SB_POINT_ENERGY)
        vfail(v, SB_OBJ_POINT, i, p->slug, "counter_modulus is only for energy points "
              "(kind is \"%s\")", sb_point_kind_name(p->kind));
    else if (!(p->counter_modulus >= 0 && isfinite(p->counter_modulus)))
        vfail(v, SB_OBJ_POINT, i, p->slug, "counter_modulus %g must be > 0", p->counter_modulus);
}

static void check_binding(struct vctx *v, size_t i, const struct sb_point *p)
{
    const struct sb_binding *b = &p->source;

    if ((unsigned)b->driver >= SB_DRIVER_COUNT)
        vfail(v, SB_OBJ_POINT, i, p->slug, "source.driver is invalid");
    else if (!b->address && b->driver != SB_DRIVER_VIRTUAL)
        vfail(v, SB_OBJ_POINT, i, p->slug, "source.address is missing (driver \"%s\")",
              sb_driver_name(b->driver));
    if (b->poll_ms && (b->poll_ms < POLL_MIN_MS || b->poll_ms > POLL_MAX_MS))
        vfail(v, SB_OBJ_POINT, i, p->slug, "source.poll_s %.3f is outside [%.1f, %u] s",
              b->poll_ms / 1000.0, POLL_MIN_MS / 1000.0, POLL_MAX_MS / 1000u);
}

static void check_point(struct vctx *v, size_t i, struct sb_point *p)
{
    int32_t e;

    check_name(v, SB_OBJ_POINT, i, p->slug, p->name);
    if ((unsigned)p->kind >= SB_POINT_KIND_COUNT)
        vfail(v, SB_OBJ_POINT, i, p->slug, "kind is invalid");
    e = resolve(v, SB_OBJ_POINT, i, p->slug, "equipment", SB_OBJ_EQUIPMENT, p->equipment, 1);
    p->equipment_ix = e;
    p->building_ix = e >= 0 ? v->m->equipment[e].building_ix : -1;
    check_unit(v, i, p);
    if (p->writable && !p->force_writable && p->kind != SB_POINT_SETPOINT &&
        p->kind != SB_POINT_COMMAND)
        vfail(v, SB_OBJ_POINT, i, p->slug, "writable, but kind \"%s\" is neither setpoint nor "
              "command (set \"force_writable\": true if the device really takes writes here)",
              sb_point_kind_name(p->kind));
    check_range(v, i, p);
    check_binding(v, i, p);
    check_semantic(v, SB_OBJ_POINT, i, p->slug, p->brick, &p->tags);
}

int sb_model_validate(struct sb_model *m, struct sb_model_errs *errs)
{
    struct vctx v = { m, errs, 0, 0 };
    int rc;

    rc = sb_model__index_build(m, errs, &v.bad);
    if (rc)
        return rc;
    check_sites(&v);
    check_buildings(&v);
    check_zones(&v);
    rc = check_equipment(&v);
    for (size_t i = 0; rc == 0 && i < m->npoints; i++)
        check_point(&v, i, &m->points[i]);
    if (rc == 0 && v.oom)
        rc = SB_ENOMEM;
    if (rc == 0 && v.bad)
        rc = SB_EINVAL;
    if (rc)
        sb_model__index_drop(m);
    return rc;
}

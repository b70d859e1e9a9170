/*
 * model.c - model lifecycle, names of kinds, lookups and error lists
 * (see model.h).  Validation rules are in validate.c, schedules in
 * schedule.c.
 *
 * Lookups: one open-addressing hash table (linear probing, FNV-1a) per
 * object kind maps slug -> array index; point ids map through a dense array
 * of pointers indexed by id, so sb_model_point_by_id() is one bounds check
 * and one load (ids are handed out as max + 1 by model_sql.c, so the array
 * stays dense).
 */
#include "model/model_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* slug -> index map for one kind. */
struct slugmap {
    uint32_t *slot;    /* index + 1, 0 = empty; mask + 1 entries */
    size_t mask;       /* capacity - 1 (capacity is a power of two) */
};

struct sb_model_index {
    struct slugmap map[SB_OBJ_COUNT];   /* per kind */
    const struct sb_point **by_id;      /* by_id[id] -> point, NULL if none */
    uint32_t nby_id;                    /* entries of by_id (max id + 1) */
};

static const char *const list_names[SB_OBJ_COUNT] = {
    "sites", "buildings", "zones", "equipment", "points",
};

static const char *const kind_names[SB_POINT_KIND_COUNT] = {
    "temperature", "humidity", "co2", "occupancy", "power", "energy", "setpoint",
    "command", "status", "pressure", "flow", "position", "other",
};

static const char *const type_names[SB_EQUIP_TYPE_COUNT] = {
    "ahu", "rtu", "vav", "chiller", "boiler", "heat_pump", "fan_coil", "thermostat",
    "meter", "sensor", "other",
};

static const char *const driver_names[SB_DRIVER_COUNT] = {
    "bacnet", "modbus", "mqtt", "rest", "weather", "virtual",
};

/* --- lifecycle ------------------------------------------------------------ */

void sb_model_init(struct sb_model *m)
{
    memset(m, 0, sizeof *m);
}

void sb_model_release(struct sb_model *m)
{
    for (size_t i = 0; i < m->nsites; i++)
        sb_model__site_release(&m->sites[i]);
    for (size_t i = 0; i < m->nbuildings; i++)
        sb_model__building_release(&m->buildings[i]);
    for (size_t i = 0; i < m->nzones; i++)
        sb_model__zone_release(&m->zones[i]);
    for (size_t i = 0; i < m->nequipment; i++)
        sb_model__equipment_release(&m->equipment[i]);
    for (size_t i = 0; i < m->npoints; i++)
        sb_model__point_release(&m->points[i]);
    free(m->sites);
    free(m->buildings);
    free(m->zones);
    free(m->equipment);
    free(m->points);
    sb_model__index_drop(m);
    sb_model_init(m);
}

struct sb_model *sb_model_new(void)
{
    struct sb_model *m = malloc(sizeof *m);

    if (m)
        sb_model_init(m);
    return m;
}

void sb_model_free(struct sb_model *m)
{
    if (!m)
        return;
    sb_model_release(m);
    free(m);
}

void sb_model_swap(struct sb_model *a, struct sb_model *b)
{
    struct sb_model t = *a;

    *a = *b;
    *b = t;
}

char *sb_model__strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void sb_model__strv_release(struct sb_strv *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->v[i]);
    free(v->v);
    v->v = NULL;
    v->n = 0;
}

void sb_model__site_release(struct sb_site *s)
{
    free(s->slug);
    free(s->name);
    free(s->description);
}

void sb_model__building_release(struct sb_building *b)
{
    free(b->slug);
    free(b->name);
    free(b->site);
    free(b->address);
    free(b->timezone);
}

void sb_model__zone_release(struct sb_zone *z)
{
    free(z->slug);
    free(z->name);
    free(z->building);
    free(z->description);
}

void sb_model__equipment_release(struct sb_equipment *e)
{
    free(e->slug);
    free(e->name);
    free(e->building);
    free(e->zone);
    free(e->parent);
    free(e->vendor);
    free(e->model);
    free(e->brick);
    sb_model__strv_release(&e->tags);
    free(e->description);
}

void sb_model__point_release(struct sb_point *p)
{
    free(p->slug);
    free(p->name);
    free(p->equipment);
    free(p->source.address);
    free(p->brick);
    sb_model__strv_release(&p->tags);
    free(p->description);
}

/* --- kinds ----------------------------------------------------------------- */

const char *sb_model__list_name(enum sb_obj k)
{
    return (unsigned)k < SB_OBJ_COUNT ? list_names[k] : "?";
}

size_t sb_model__count(const struct sb_model *m, enum sb_obj k)
{
    switch (k) {
    case SB_OBJ_SITE:      return m->nsites;
    case SB_OBJ_BUILDING:  return m->nbuildings;
    case SB_OBJ_ZONE:      return m->nzones;
    case SB_OBJ_EQUIPMENT: return m->nequipment;
    case SB_OBJ_POINT:     return m->npoints;
    default:               return 0;
    }
}

const char *sb_model__slug_at(const struct sb_model *m, enum sb_obj k, size_t i)
{
    switch (k) {
    case SB_OBJ_SITE:      return m->sites[i].slug;
    case SB_OBJ_BUILDING:  return m->buildings[i].slug;
    case SB_OBJ_ZONE:      return m->zones[i].slug;
    case SB_OBJ_EQUIPMENT: return m->equipment[i].slug;
    case SB_OBJ_POINT:     return m->points[i].slug;
    default:               return NULL;
    }
}

static int parse_name(const char *const *names, int n, const char *s, int *out)
{
    for (int i = 0; s && i < n; i++) {
        if (strcmp(names[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return SB_EINVAL;
}

const char *sb_point_kind_name(enum sb_point_kind k)
{
    return (unsigned)k < SB_POINT_KIND_COUNT ? kind_names[k] : "?";
}

int sb_point_kind_parse(const char *s, enum sb_point_kind *out)
{
    int v, rc = parse_name(kind_names, SB_POINT_KIND_COUNT, s, &v);

    if (rc == 0)
        *out = (enum sb_point_kind)v;
    return rc;
}

const char *sb_equip_type_name(enum sb_equip_type t)
{
    return (unsigned)t < SB_EQUIP_TYPE_COUNT ? type_names[t] : "?";
}

int sb_equip_type_parse(const char *s, enum sb_equip_type *out)
{
    int v, rc = parse_name(type_names, SB_EQUIP_TYPE_COUNT, s, &v);

    if (rc == 0)
        *out = (enum sb_equip_type)v;
    return rc;
}

const char *sb_driver_name(enum sb_driver d)
{
    return (unsigned)d < SB_DRIVER_COUNT ? driver_names[d] : "?";
}

int sb_driver_parse(const char *s, enum sb_driver *out)
{
    int v, rc = parse_name(driver_names, SB_DRIVER_COUNT, s, &v);

    if (rc == 0)
        *out = (enum sb_driver)v;
    return rc;
}

enum sb_agg_kind sb_point_kind_agg(enum sb_point_kind k)
{
    switch (k) {
    case SB_POINT_POWER:     return SB_AGG_RATE;
    case SB_POINT_ENERGY:    return SB_AGG_COUNTER;
    case SB_POINT_OCCUPANCY:
    case SB_POINT_COMMAND:
    case SB_POINT_STATUS:    return SB_AGG_STATE;
    default:                 return SB_AGG_MEAN;
    }
}

enum sb_unit sb_point_kind_unit(enum sb_point_kind k)
{
    switch (k) {
    case SB_POINT_TEMPERATURE: return SB_UNIT_CELSIUS;
    case SB_POINT_HUMIDITY:    return SB_UNIT_PERCENT;
    case SB_POINT_CO2:         return SB_UNIT_PPM;
    case SB_POINT_OCCUPANCY:   return SB_UNIT_NONE;
    case SB_POINT_POWER:       return SB_UNIT_KW;
    case SB_POINT_ENERGY:      return SB_UNIT_KWH;
    case SB_POINT_STATUS:      return SB_UNIT_NONE;
    case SB_POINT_PRESSURE:    return SB_UNIT_PA;
    case SB_POINT_FLOW:        return SB_UNIT_L_S;
    case SB_POINT_POSITION:    return SB_UNIT_PERCENT;
    default:                   return SB_UNIT_INVALID;
    }
}

int sb_point_kind_allows(enum sb_point_kind k, enum sb_dim d)
{
    if ((unsigned)d >= SB_DIM_COUNT)
        return 0;
    switch (k) {
    case SB_POINT_SETPOINT:
    case SB_POINT_OTHER:
        return 1;
    case SB_POINT_COMMAND:
        /* on/off and multistate commands, or a 0-100 % command */
        return d == SB_DIM_NONE || d == SB_DIM_RATIO;
    default:
        return (unsigned)k < SB_POINT_KIND_COUNT &&
               d == sb_unit_dim(sb_point_kind_unit(k));
    }
}

double sb_point_counter_max(const struct sb_point *p)
{
    double v;

    if (p->counter_modulus <= 0 || sb_unit_convert(p->unit, p->canon, p->counter_modulus, &v))
        return 0;
    return v;
}

void sb_point_agg_ctx(const struct sb_point *p, int64_t max_hold_ms, struct sb_agg_ctx *c)
{
    c->kind = sb_point_kind_agg(p->kind);
    c->counter_max = sb_point_counter_max(p);
    c->max_hold_ms = max_hold_ms;
}

int sb_slug_valid(const char *s)
{
    size_t n;

    if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
        return 0;
    for (n = 1; s[n]; n++) {
        char c = s[n];
        if (n >= SB_SLUG_MAX)
            return 0;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* --- error lists ----------------------------------------------------------- */

void sb_model_errs_init(struct sb_model_errs *e)
{
    memset(e, 0, sizeof *e);
}

void sb_model_errs_release(struct sb_model_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msg[i]);
    free(e->msg);
    sb_model_errs_init(e);
}

/* Appends prefix + formatted message. */
int sb_model__verr(struct sb_model_errs *e, const char *prefix, const char *fmt, va_list ap)
{
    char *body = NULL, *msg = NULL, **nv;
    int rc = SB_ENOMEM;

    if (!e)
        return 0;
    e->total++;
    if (e->n >= SB_MODEL_ERRS_MAX)
        return 0;
    if (vasprintf(&body, fmt, ap) < 0) {
        body = NULL;
        goto out;
    }
    if (asprintf(&msg, "%s%s", prefix, body) < 0) {
        msg = NULL;
        goto out;
    }
    nv = realloc(e->msg, (e->n + 1) * sizeof *nv);
    if (!nv)
        goto out;
    e->msg = nv;
    e->msg[e->n++] = msg;
    msg = NULL;
    rc = 0;
out:
    free(body);
    free(msg);
    return rc;
}

int sb_model_errs_add(struct sb_model_errs *e, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = sb_model__verr(e, "", fmt, ap);
    va_end(ap);
    return rc;
}

int sb_model__err(struct sb_model_errs *e, enum sb_obj k, size_t i, const char *slug,
                  const char *fmt, ...)
{
    char prefix[128];
    va_list ap;
    int rc;

    if ((unsigned)k >= SB_OBJ_COUNT)
        snprintf(prefix, sizeof prefix, "document: ");
    else if (slug)
        snprintf(prefix, sizeof prefix, "%s[%zu] \"%.64s\": ", sb_model__list_name(k), i, slug);
    else
        snprintf(prefix, sizeof prefix, "%s[%zu]: ", sb_model__list_name(k), i);
    va_start(ap, fmt);
    rc = sb_model__verr(e, prefix, fmt, ap);
    va_end(ap);
    return rc;
}

/* --- indexes --------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a 64-bit offset basis */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;            /* FNV 64-bit prime */
    }
    return h;
}

/* Slot of slug in map k: either the slot holding it or the empty slot where
 * it would go. */
static size_t map_probe(const struct sb_model *m, enum sb_obj k, const struct slugmap *sm,
                        const char *slug)
{
    size_t i = (size_t)fnv1a(slug) & sm->mask;

    while (sm->slot[i] && strcmp(sb_model__slug_at(m, k, sm->slot[i] - 1), slug) != 0)
        i = (i + 1) & sm->mask;
    return i;
}

int32_t sb_model__find(const struct sb_model *m, enum sb_obj k, const char *slug)
{
    const struct slugmap *sm;
    size_t i;

    if (!m->idx || !slug || (unsigned)k >= SB_OBJ_COUNT)
        return -1;
    sm = &m->idx->map[k];
    i = map_probe(m, k, sm, slug);
    return sm->slot[i] ? (int32_t)(sm->slot[i] - 1) : -1;
}

/* Fills map k; reports malformed and duplicate slugs. */
static int map_build(struct sb_model *m, enum sb_obj k, struct sb_model_errs *errs, size_t *bad)
{
    struct slugmap *sm = &m->idx->map[k];
    size_t n = sb_model__count(m, k), cap = 8;

    while (cap < 2 * n)
        cap <<= 1;
    sm->slot = calloc(cap, sizeof *sm->slot);
    if (!sm->slot)
        return SB_ENOMEM;
    sm->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        const char *slug = sb_model__slug_at(m, k, i);
        size_t s;
        if (!sb_slug_valid(slug)) {
            ++*bad;
            if (sb_model__err(errs, k, i, slug, "id is not a valid slug "
                              "([a-z0-9][a-z0-9_.-], at most 64 bytes)"))
                return SB_ENOMEM;
            continue;
        }
        s = map_probe(m, k, sm, slug);
        if (sm->slot[s]) {
            ++*bad;
            if (sb_model__err(errs, k, i, slug, "duplicate id (also %s[%u])",
                              sb_model__list_name(k), sm->slot[s] - 1))
                return SB_ENOMEM;
            continue;
        }
        sm->slot[s] = (uint32_t)i + 1;
    }
    return 0;
}

/* Fills the dense id array; reports duplicate and out-of-range ids. */
static int ids_build(struct sb_model *m, struct sb_model_errs *errs, size_t *bad)
{
    struct sb_model_index *x = m->idx;
    uint32_t max = 0;

    for (size_t i = 0; i < m->npoints; i++)
        if (m->points[i].id <= SB_POINT_ID_MAX && m->points[i].id > max)
            max = m->points[i].id;
    x->by_id = calloc((size_t)max + 1, sizeof *x->by_id);
    if (!x->by_id)
        return SB_ENOMEM;
    x->nby_id = max + 1;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        const char *why = NULL;
        if (p->id == 0)
            continue;
        if (p->id > SB_POINT_ID_MAX)
            why = "is larger than the supported maximum";
        else if (x->by_id[p->id])
            why = "is used by another point";
        if (why) {
            ++*bad;
            if (sb_model__err(errs, SB_OBJ_POINT, i, p->slug, "integer id %u %s", p->id, why))
                return SB_ENOMEM;
            continue;
        }
        x->by_id[p->id] = p;
    }
    return 0;
}

void sb_model__index_drop(struct sb_model *m)
{
    if (!m->idx)
        return;
    for (int k = 0; k < SB_OBJ_COUNT; k++)
        free(m->idx->map[k].slot);
    free(m->idx->by_id);
    free(m->idx);
    m->idx = NULL;
}

int sb_model__index_build(struct sb_model *m, struct sb_model_errs *errs, size_t *bad)
{
    int rc;

    sb_model__index_drop(m);
    m->idx = calloc(1, sizeof *m->idx);
    if (!m->idx)
        return SB_ENOMEM;
    for (int k = 0; k < SB_OBJ_COUNT; k++) {
        rc = map_build(m, (enum sb_obj)k, errs, bad);
        if (rc)
            goto out;
    }
    rc = ids_build(m, errs, bad);
out:
    if (rc)
        sb_model__index_drop(m);
    return rc;
}

/* --- lookups --------------------------------------------------------------- */

const struct sb_site *sb_model_site(const struct sb_model *m, const char *slug)
{
    int32_t i = sb_model__find(m, SB_OBJ_SITE, slug);

    return i < 0 ? NULL : &m->sites[i];
}

const struct sb_building *sb_model_building(const struct sb_model *m, const char *slug)
{
    int32_t i = sb_model__find(m, SB_OBJ_BUILDING, slug);

    return i < 0 ? NULL : &m->buildings[i];
}

const struct sb_zone *sb_model_zone(const struct sb_model *m, const char *slug)
{
    int32_t i = sb_model__find(m, SB_OBJ_ZONE, slug);

    return i < 0 ? NULL : &m->zones[i];
}

const struct sb_equipment *sb_model_equipment(const struct sb_model *m, const char *slug)
{
    int32_t i = sb_model__find(m, SB_OBJ_EQUIPMENT, slug);

    return i < 0 ? NULL : &m->equipment[i];
}

const struct sb_point *sb_model_point(const struct sb_model *m, const char *slug)
{
    int32_t i = sb_model__find(m, SB_OBJ_POINT, slug);

    return i < 0 ? NULL : &m->points[i];
}

const struct sb_point *sb_model_point_by_id(const struct sb_model *m, uint32_t id)
{
    const struct sb_model_index *x = m->idx;

    return x && id < x->nby_id ? x->by_id[id] : NULL;
}

const struct sb_tz *sb_model_point_tz(const struct sb_model *m, const struct sb_point *p)
{
    const struct sb_tz *tz = NULL;

    if (m->idx && p->building_ix >= 0 && (size_t)p->building_ix < m->nbuildings)
        tz = m->buildings[p->building_ix].tz;
    return tz ? tz : sb_tz_utc();
}

void sb_model_to_canonical(const struct sb_model *m, struct sb_reading *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sb_point *p = sb_model_point_by_id(m, x[i].point);
        if (p)
            x[i].v = sb_unit_conv_apply(&p->to_canon, x[i].v);
    }
}

int sb_point_has_tag(const struct sb_point *p, const char *tag)
{
    for (size_t i = 0; p && tag && i < p->tags.n; i++)
        if (strcmp(p->tags.v[i], tag) == 0)
            return 1;
    return 0;
}

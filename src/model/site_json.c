/*
 * site_json.c - importing the site document (see site_json.h and
 * docs/site-format.md).  Export, merge and clone are in site_json_export.c.
 *
 * Each object is read field by field by the get_* helpers, which record a
 * message for a missing, mistyped or oversized field and go on, so one pass
 * reports every problem.  Unknown fields are errors (a typo such as
 * "schedual" would otherwise silently drop a schedule); a close match is
 * suggested.  Cross-object rules (ids unique, references, units for kinds,
 * ...) are sb_model_validate()'s.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/site_json.h"

#define LEN_NAME 200           /* names, bytes */
#define LEN_TEXT 4000          /* descriptions */
#define LEN_SHORT 200          /* vendor, model, postal address */
#define LEN_ADDR 1000          /* driver address (compact JSON text) */
#define LEN_BRICK 128          /* Brick class */
#define LEN_TAG 64             /* one Haystack tag */
#define MAX_TAGS 64            /* tags per object */
#define MAX_OBJECTS 1000000    /* objects per list */

/* Reading one object. */
struct rd {
    struct sb_model_errs *errs;    /* messages (may be NULL) */
    enum sb_obj k;                 /* kind of the object */
    size_t i;                      /* its position in its list */
    const char *slug;              /* its id once read, for messages */
    char sub[48];                  /* path of the nested object being read ("source.") */
    int bad;                       /* problems found */
    int oom;                       /* an allocation failed */
};

/* Records a problem with field key of the object being read. */
static void ffail(struct rd *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void ffail(struct rd *r, const char *key, const char *fmt, ...)
{
    char body[320];
    va_list ap;

    r->bad++;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (sb_model__err(r->errs, r->k, r->i, r->slug, "%s%s%s%s", r->sub, key, *key ? " " : "",
                      body))
        r->oom = 1;
}

/* The value of key, NULL when absent or JSON null (absent, for hand
 * writing). */
static const json_t *get(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_null(v) ? NULL : v;
}

static char *dup_or_oom(struct rd *r, const char *s)
{
    char *d = strdup(s);

    if (!d)
        r->oom = 1;
    return d;
}

static char *get_str(struct rd *r, const json_t *o, const char *key, size_t max, int required)
{
    const json_t *v = get(o, key);

    if (!v) {
        if (required)
            ffail(r, key, "is missing");
        return NULL;
    }
    if (!json_is_string(v)) {
        ffail(r, key, "must be a string");
        return NULL;
    }
    if (json_string_length(v) > max) {
        ffail(r, key, "is longer than %zu bytes", max);
        return NULL;
    }
    return dup_or_oom(r, json_string_value(v));
}

/* Number field: *out is left alone when absent.  Returns 1 when read. */
static int get_num(struct rd *r, const json_t *o, const char *key, double *out)
{
    const json_t *v = get(o, key);

    if (!v)
        return 0;
    if (!json_is_number(v)) {
        ffail(r, key, "must be a number");
        return 0;
    }
    *out = json_number_value(v);
    return 1;
}

static int get_bool(struct rd *r, const json_t *o, const char *key)
{
    const json_t *v = get(o, key);

    if (v && !json_is_boolean(v))
        ffail(r, key, "must be true or false");
    return json_is_true(v);
}

static void get_tags(struct rd *r, const json_t *o, struct sb_strv *tags)
{
    const json_t *v = get(o, "tags"), *t;
    size_t n, i;

    if (!v)
        return;
    if (!json_is_array(v) || (n = json_array_size(v)) > MAX_TAGS) {
        ffail(r, "tags", "must be an array of at most %d strings", MAX_TAGS);
        return;
    }
    tags->v = calloc(n ? n : 1, sizeof *tags->v);
    if (!tags->v) {
        r->oom = 1;
        return;
    }
    json_array_foreach(v, i, t) {
        if (!json_is_string(t) || json_string_length(t) > LEN_TAG) {
            ffail(r, "tags", "[%zu] must be a string of at most %d bytes", i, LEN_TAG);
            continue;
        }
        tags->v[tags->n] = dup_or_oom(r, json_string_value(t));
        if (tags->v[tags->n])
            tags->n++;
    }
}

/* Edit distance with adjacent transpositions (optimal string alignment), for
 * "did you mean": "uint" is 1 from "unit".  Keys are short. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), d[65][65];

    if (la > 64 || lb > 64)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The allowed key closest to key, if within 2 edits. */
static const char *nearest(const char *key, const char *const *allowed)
{
    const char *near = NULL;
    size_t best = 3;

    for (size_t j = 0; allowed[j]; j++) {
        size_t dist = edit_distance(key, allowed[j]);
        if (dist < best) {
            best = dist;
            near = allowed[j];
        }
    }
    return near;
}

/* Rejects keys of o not in allowed (NULL-terminated). */
static void check_keys(struct rd *r, const json_t *o, const char *const *allowed)
{
    const char *key, *near;
    json_t *v;

    json_object_foreach((json_t *)o, key, v) {
        size_t j;
        for (j = 0; allowed[j] && strcmp(allowed[j], key) != 0; j++)
            ;
        if (allowed[j])
            continue;
        near = nearest(key, allowed);
        r->bad++;
        if (sb_model__err(r->errs, r->k, r->i, r->slug, "unknown field \"%s%.64s\"%s%s%s",
                          r->sub, key, near ? " (did you mean \"" : "", near ? near : "",
                          near ? "\"?)" : ""))
            r->oom = 1;
    }
}

/* --- sites, buildings ------------------------------------------------------ */

static void read_site(struct rd *r, const json_t *o, struct sb_site *s)
{
    static const char *const keys[] = { "id", "name", "description", NULL };

    s->name = get_str(r, o, "name", LEN_NAME, 1);
    s->description = get_str(r, o, "description", LEN_TEXT, 0);
    check_keys(r, o, keys);
}

static void read_building(struct rd *r, const json_t *o, struct sb_building *b)
{
    static const char *const keys[] = { "id", "site", "name", "address", "timezone",
                                        "area_m2", "latitude", "longitude", NULL };

    b->site_ix = -1;
    b->area_m2 = b->latitude = b->longitude = NAN;
    b->site = get_str(r, o, "site", SB_SLUG_MAX, 1);
    b->name = get_str(r, o, "name", LEN_NAME, 1);
    b->address = get_str(r, o, "address", LEN_SHORT, 0);
    b->timezone = get_str(r, o, "timezone", SB_SLUG_MAX, 1);
    get_num(r, o, "area_m2", &b->area_m2);
    get_num(r, o, "latitude", &b->latitude);
    get_num(r, o, "longitude", &b->longitude);
    check_keys(r, o, keys);
}

/* --- zones ----------------------------------------------------------------- */

static void read_band(struct rd *r, const json_t *c, const char *which, struct sb_band *b)
{
    static const char *const keys[] = { "heating", "cooling", NULL };
    const json_t *o = get(c, which);

    snprintf(r->sub, sizeof r->sub, "comfort.");
    b->heating = b->cooling = NAN;
    if (!o || !json_is_object(o)) {
        ffail(r, which, "must be an object {\"heating\": °C, \"cooling\": °C}");
        goto out;
    }
    snprintf(r->sub, sizeof r->sub, "comfort.%s.", which);
    if (!get_num(r, o, "heating", &b->heating))
        ffail(r, "heating", "is missing");
    if (!get_num(r, o, "cooling", &b->cooling))
        ffail(r, "cooling", "is missing");
    check_keys(r, o, keys);
out:
    r->sub[0] = '\0';
}

static void read_comfort(struct rd *r, const json_t *o, struct sb_comfort *c)
{
    static const char *const keys[] = { "occupied", "unoccupied", NULL };
    const json_t *v = get(o, "comfort");

    if (!v)
        return;
    if (!json_is_object(v)) {
        ffail(r, "comfort", "must be an object with \"occupied\" and \"unoccupied\"");
        return;
    }
    c->set = 1;
    read_band(r, v, "occupied", &c->occupied);
    read_band(r, v, "unoccupied", &c->unoccupied);
    snprintf(r->sub, sizeof r->sub, "comfort.");
    check_keys(r, v, keys);
    r->sub[0] = '\0';
}

/* One "days": "periods" entry; *seen collects the days already given. */
static void read_sched_entry(struct rd *r, const char *key, const json_t *val,
                             struct sb_schedule *s, unsigned *seen)
{
    struct sb_day_sched d;
    char msg[160];
    unsigned mask;

    if (sb_schedule_parse_days(key, &mask, msg, sizeof msg)) {
        ffail(r, "schedule", "key %s", msg);
        return;
    }
    if (mask & *seen) {
        ffail(r, "schedule", "key \"%.40s\" names a day already given by another key", key);
        return;
    }
    *seen |= mask;
    if (!json_is_string(val)) {
        ffail(r, "schedule", "\"%.40s\" must be a string such as \"07:00-19:00\" or \"closed\"",
              key);
        return;
    }
    if (sb_schedule_parse_periods(json_string_value(val), &d, msg, sizeof msg)) {
        ffail(r, "schedule", "\"%.40s\": %s", key, msg);
        return;
    }
    for (int i = 0; i < 7; i++)
        if (mask & (1u << i))
            s->day[i] = d;
}

static void read_schedule(struct rd *r, const json_t *o, struct sb_schedule *s)
{
    const json_t *v = get(o, "schedule");
    const char *key;
    json_t *val;
    unsigned seen = 0;

    if (!v)
        return;
    if (!json_is_object(v)) {
        ffail(r, "schedule", "must be an object such as {\"mon-fri\": \"07:00-19:00\"}");
        return;
    }
    s->set = 1;
    json_object_foreach((json_t *)v, key, val)
        read_sched_entry(r, key, val, s, &seen);
}

static void read_zone(struct rd *r, const json_t *o, struct sb_zone *z)
{
    static const char *const keys[] = { "id", "building", "name", "floor", "area_m2",
                                        "comfort", "schedule", "description", NULL };
    const json_t *f = get(o, "floor");

    z->building_ix = -1;
    z->area_m2 = NAN;
    z->building = get_str(r, o, "building", SB_SLUG_MAX, 1);
    z->name = get_str(r, o, "name", LEN_NAME, 1);
    if (f && (!json_is_integer(f) || json_integer_value(f) < -20 ||
              json_integer_value(f) > 200))
        ffail(r, "floor", "must be an integer in [-20, 200] (0 = ground)");
    else if (f) {
        z->floor = (int)json_integer_value(f);
        z->has_floor = 1;
    }
    get_num(r, o, "area_m2", &z->area_m2);
    read_comfort(r, o, &z->comfort);
    read_schedule(r, o, &z->sched);
    z->description = get_str(r, o, "description", LEN_TEXT, 0);
    check_keys(r, o, keys);
}

/* --- equipment ------------------------------------------------------------- */

static void read_equipment(struct rd *r, const json_t *o, struct sb_equipment *e)
{
    static const char *const keys[] = { "id", "building", "name", "type", "vendor", "model",
                                        "zone", "parent", "brick", "tags", "description",
                                        NULL };
    char *type;

    e->building_ix = e->zone_ix = e->parent_ix = -1;
    e->type = SB_EQUIP_TYPE_COUNT;
    e->building = get_str(r, o, "building", SB_SLUG_MAX, 1);
    e->name = get_str(r, o, "name", LEN_NAME, 1);
    type = get_str(r, o, "type", LEN_NAME, 1);
    if (type && sb_equip_type_parse(type, &e->type))
        ffail(r, "type", "\"%.40s\" is not one of ahu, rtu, vav, chiller, boiler, heat_pump, "
              "fan_coil, thermostat, meter, sensor, other", type);
    free(type);
    e->vendor = get_str(r, o, "vendor", LEN_SHORT, 0);
    e->model = get_str(r, o, "model", LEN_SHORT, 0);
    e->zone = get_str(r, o, "zone", SB_SLUG_MAX, 0);
    e->parent = get_str(r, o, "parent", SB_SLUG_MAX, 0);
    e->brick = get_str(r, o, "brick", LEN_BRICK, 0);
    get_tags(r, o, &e->tags);
    e->description = get_str(r, o, "description", LEN_TEXT, 0);
    check_keys(r, o, keys);
}

/* --- points ---------------------------------------------------------------- */

static void read_address(struct rd *r, const json_t *s, struct sb_binding *b)
{
    const json_t *a = get(s, "address");
    char *text;

    if (!a)
        return;     /* required unless virtual: sb_model_validate says so */
    if (json_is_string(a) && json_string_length(a) > 0 && json_string_length(a) <= LEN_ADDR) {
        b->address = dup_or_oom(r, json_string_value(a));
        return;
    }
    if (!json_is_object(a) || json_object_size(a) == 0) {
        ffail(r, "address", "must be a non-empty string or object of at most %d bytes",
              LEN_ADDR);
        return;
    }
    text = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!text) {
        r->oom = 1;
        return;
    }
    if (strlen(text) > LEN_ADDR) {
        ffail(r, "address", "is longer than %d bytes", LEN_ADDR);
        free(text);
        return;
    }
    b->address = text;
    b->address_json = 1;
}

static void read_source(struct rd *r, const json_t *o, struct sb_binding *b)
{
    static const char *const keys[] = { "driver", "address", "poll_s", NULL };
    const json_t *s = get(o, "source");
    double poll = 0;
    char *drv;

    b->driver = SB_DRIVER_VIRTUAL;      /* no source: a virtual point */
    if (!s)
        return;
    if (!json_is_object(s)) {
        ffail(r, "source", "must be an object {\"driver\": ..., \"address\": ...}");
        return;
    }
    snprintf(r->sub, sizeof r->sub, "source.");
    drv = get_str(r, s, "driver", LEN_NAME, 1);
    if (drv && sb_driver_parse(drv, &b->driver))
        ffail(r, "driver", "\"%.40s\" is not one of bacnet, modbus, mqtt, rest, virtual", drv);
    free(drv);
    read_address(r, s, b);
    if (get_num(r, s, "poll_s", &poll) && !(poll >= 0 && poll <= 4e6))
        ffail(r, "poll_s", "%g must be a number of seconds >= 0", poll);
    else
        b->poll_ms = (uint32_t)llround(poll * 1000);
    check_keys(r, s, keys);
    r->sub[0] = '\0';
}

/* The unit a point gets when the document gives none. */
static enum sb_unit default_unit(enum sb_point_kind k)
{
    enum sb_unit u = sb_point_kind_unit(k);

    if (u != SB_UNIT_INVALID)
        return u;
    return k == SB_POINT_SETPOINT ? SB_UNIT_INVALID : SB_UNIT_NONE;
}

static void read_kind_unit(struct rd *r, const json_t *o, struct sb_point *p)
{
    char *kind = get_str(r, o, "kind", LEN_NAME, 1);
    char *unit = get_str(r, o, "unit", LEN_NAME, 0);

    p->kind = SB_POINT_KIND_COUNT;
    p->unit = SB_UNIT_INVALID;
    if (kind && sb_point_kind_parse(kind, &p->kind))
        ffail(r, "kind", "\"%.40s\" is not one of temperature, humidity, co2, occupancy, "
              "power, energy, setpoint, command, status, pressure, flow, position, other",
              kind);
    if (unit && sb_unit_parse(unit, &p->unit))
        ffail(r, "unit", "\"%.40s\" is not a known unit (see docs/internals/model.md)", unit);
    else if (!unit && p->kind != SB_POINT_KIND_COUNT) {
        p->unit = default_unit(p->kind);
        if (p->unit == SB_UNIT_INVALID)
            ffail(r, "unit", "is missing (a setpoint needs one: \"°C\", \"Pa\", ...)");
    }
    free(kind);
    free(unit);
}

static void read_point(struct rd *r, const json_t *o, struct sb_point *p)
{
    static const char *const keys[] = { "id", "equipment", "name", "kind", "unit", "writable",
                                        "force_writable", "min", "max", "counter_modulus",
                                        "source", "brick", "tags", "description", NULL };

    p->equipment_ix = p->building_ix = -1;
    p->min = p->max = NAN;
    p->equipment = get_str(r, o, "equipment", SB_SLUG_MAX, 1);
    p->name = get_str(r, o, "name", LEN_NAME, 1);
    read_kind_unit(r, o, p);
    p->writable = get_bool(r, o, "writable");
    p->force_writable = get_bool(r, o, "force_writable");
    get_num(r, o, "min", &p->min);
    get_num(r, o, "max", &p->max);
    get_num(r, o, "counter_modulus", &p->counter_modulus);
    read_source(r, o, &p->source);
    p->brick = get_str(r, o, "brick", LEN_BRICK, 0);
    get_tags(r, o, &p->tags);
    p->description = get_str(r, o, "description", LEN_TEXT, 0);
    check_keys(r, o, keys);
}

/* --- objects and documents ------------------------------------------------- */

int sb_model__obj_from_json(struct sb_model *m, enum sb_obj k, size_t i, const json_t *o,
                            struct sb_model_errs *errs)
{
    struct rd r = { .errs = errs, .k = k, .i = i };
    char *slug;

    if (!json_is_object(o)) {
        sb_model__err(errs, k, i, NULL, "must be an object");
        return SB_EINVAL;
    }
    slug = get_str(&r, o, "id", SB_SLUG_MAX, 1);
    r.slug = slug;
    switch (k) {
    case SB_OBJ_SITE:      m->sites[i].slug = slug;     read_site(&r, o, &m->sites[i]); break;
    case SB_OBJ_BUILDING:  m->buildings[i].slug = slug; read_building(&r, o, &m->buildings[i]); break;
    case SB_OBJ_ZONE:      m->zones[i].slug = slug;     read_zone(&r, o, &m->zones[i]); break;
    case SB_OBJ_EQUIPMENT: m->equipment[i].slug = slug; read_equipment(&r, o, &m->equipment[i]); break;
    case SB_OBJ_POINT:     m->points[i].slug = slug;    read_point(&r, o, &m->points[i]); break;
    default:               free(slug); return SB_EINVAL;
    }
    if (r.oom)
        return SB_ENOMEM;
    return r.bad ? SB_EINVAL : 0;
}

int sb_model__alloc(struct sb_model *m, const size_t counts[SB_OBJ_COUNT])
{
    m->sites = calloc(counts[SB_OBJ_SITE] + 1, sizeof *m->sites);
    m->buildings = calloc(counts[SB_OBJ_BUILDING] + 1, sizeof *m->buildings);
    m->zones = calloc(counts[SB_OBJ_ZONE] + 1, sizeof *m->zones);
    m->equipment = calloc(counts[SB_OBJ_EQUIPMENT] + 1, sizeof *m->equipment);
    m->points = calloc(counts[SB_OBJ_POINT] + 1, sizeof *m->points);
    if (!m->sites || !m->buildings || !m->zones || !m->equipment || !m->points) {
        sb_model_release(m);
        return SB_ENOMEM;
    }
    m->nsites = counts[SB_OBJ_SITE];
    m->nbuildings = counts[SB_OBJ_BUILDING];
    m->nzones = counts[SB_OBJ_ZONE];
    m->nequipment = counts[SB_OBJ_EQUIPMENT];
    m->npoints = counts[SB_OBJ_POINT];
    return 0;
}

/* "format", "version" and the keys of the document object. */
static int check_header(const json_t *doc, struct sb_model_errs *errs)
{
    static const char *const keys[] = { "format", "version", "sites", "buildings", "zones",
                                        "equipment", "points", NULL };
    const json_t *f = json_object_get(doc, "format"), *v = json_object_get(doc, "version");
    struct rd r = { .errs = errs, .k = SB_OBJ_COUNT };
    int bad = 0;

    if (!json_is_string(f) || strcmp(json_string_value(f), SB_SITE_FORMAT) != 0) {
        sb_model_errs_add(errs, "document: \"format\" must be \"%s\"", SB_SITE_FORMAT);
        bad++;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        sb_model_errs_add(errs, "document: \"version\" must be the integer %d", SB_SITE_VERSION);
        bad++;
    } else if (json_integer_value(v) > SB_SITE_VERSION) {
        sb_model_errs_add(errs, "document: version %lld is newer than this sbems reads (%d)",
                          (long long)json_integer_value(v), SB_SITE_VERSION);
        bad++;
    }
    check_keys(&r, doc, keys);
    return bad + r.bad;
}

/* The list of kind k (NULL if absent); counts[k] gets its length. */
static int get_list(const json_t *doc, enum sb_obj k, const json_t **list, size_t *count,
                    struct sb_model_errs *errs)
{
    const json_t *l = json_object_get(doc, sb_model__list_name(k));

    *list = NULL;
    *count = 0;
    if (!l)
        return 0;
    if (!json_is_array(l) || json_array_size(l) > MAX_OBJECTS) {
        sb_model_errs_add(errs, "document: \"%s\" must be an array of at most %d objects",
                          sb_model__list_name(k), MAX_OBJECTS);
        return 1;
    }
    *list = l;
    *count = json_array_size(l);
    return 0;
}

int sb_model_parse_json(const json_t *doc, struct sb_model *m, struct sb_model_errs *errs)
{
    const json_t *lists[SB_OBJ_COUNT];
    size_t counts[SB_OBJ_COUNT];
    int bad = 0, rc;

    if (!json_is_object(doc)) {
        sb_model_errs_add(errs, "document: must be a JSON object {\"format\": \"%s\", ...}",
                          SB_SITE_FORMAT);
        return SB_EINVAL;
    }
    bad = check_header(doc, errs);
    for (int k = 0; k < SB_OBJ_COUNT; k++)
        bad += get_list(doc, (enum sb_obj)k, &lists[k], &counts[k], errs);
    rc = sb_model__alloc(m, counts);
    for (int k = 0; rc == 0 && k < SB_OBJ_COUNT; k++) {
        for (size_t i = 0; rc == 0 && i < counts[k]; i++) {
            rc = sb_model__obj_from_json(m, (enum sb_obj)k, i, json_array_get(lists[k], i), errs);
            bad += rc == SB_EINVAL;
            rc = rc == SB_EINVAL ? 0 : rc;
        }
    }
    if (rc == 0 && bad)
        rc = SB_EINVAL;
    if (rc)
        sb_model_release(m);
    return rc;
}

int sb_model_from_json(const json_t *doc, struct sb_model *m, struct sb_model_errs *errs)
{
    int rc = sb_model_parse_json(doc, m, errs);

    if (rc == 0)
        rc = sb_model_validate(m, errs);
    if (rc)
        sb_model_release(m);
    return rc;
}

int sb_model_from_json_text(const char *text, size_t len, struct sb_model *m,
                            struct sb_model_errs *errs)
{
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    int rc;

    if (!doc) {
        sb_model_errs_add(errs, "document: line %d column %d: %s", je.line, je.column, je.text);
        return SB_EINVAL;
    }
    rc = sb_model_from_json(doc, m, errs);
    json_decref(doc);
    return rc;
}

/*
 * accept.c - turning the points a user accepted from a discovery result
 * into site-document entries (docs/internals/bacnet-discovery.md).
 * Nothing reaches the building model until a person picks the points:
 * the API's accept call and `sbems bacnet discover --format site` both
 * come here, and the result is merged like any site document.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/discover.h"

/* Keys of a proposal that are site-document point fields. */
static const char *const point_keys[] = { "id", "name", "kind", "unit", "writable", "source",
                                          "brick", "tags", NULL };
/* What a user may change while accepting. */
static const char *const override_keys[] = { "id", "name", "kind", "unit", "writable", "brick",
                                              "tags", "min", "max", NULL };

/* Equipment fields a user may give with an equipment entry. */
static const char *const equip_keys[] = { "zone", "parent", "vendor", "model", "brick", NULL };

static json_t *find_device(const json_t *result, json_int_t dev)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(result, "devices"), i, d)
        if (json_integer_value(json_object_get(d, "device")) == dev)
            return d;
    return NULL;
}

static json_t *find_point(const json_t *dev, const char *object)
{
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(dev, "points"), i, p) {
        json_t *a = json_object_get(json_object_get(p, "source"), "address");
        if (strcmp(json_string_value(json_object_get(a, "object")) ?: "", object) == 0)
            return p;
    }
    return NULL;
}

/* A model equipment type from a controller's name (Trane-style names). */
static const char *equip_type(const char *name)
{
    char low[96];
    size_t n = 0;
    for (; name && name[n] && n + 1 < sizeof(low); n++)
        low[n] = (char)tolower((unsigned char)name[n]);
    low[n] = 0;
    if (strstr(low, "ahu") || strstr(low, "air handler")) return "ahu";
    if (strstr(low, "rtu") || strstr(low, "rooftop")) return "rtu";
    if (strstr(low, "vav")) return "vav";
    if (strstr(low, "chiller") || strstr(low, "ch-") == low) return "chiller";
    if (strstr(low, "boiler")) return "boiler";
    if (strstr(low, "fcu") || strstr(low, "fan coil")) return "fan_coil";
    if (strstr(low, "meter")) return "meter";
    return "other";
}

static void slugify(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    int dash = 0;
    for (; in && *in && n + 1 < cap; in++) {
        unsigned char c = (unsigned char)*in;
        if (isalnum(c)) {
            out[n++] = (char)tolower(c);
            dash = 0;
        } else if (!dash && n) {
            out[n++] = '-';
            dash = 1;
        }
    }
    while (n && out[n - 1] == '-')
        n--;
    out[n] = 0;
}

json_t *sb_bacdisc_accept(const json_t *result, const json_t *sel, char *err, size_t errlen)
{
    const char *building = json_string_value(json_object_get(sel, "building"));
    json_t *out = json_pack("{s:[], s:[]}", "equipment", "points");
    json_t *eqs = json_object_get(out, "equipment"), *pts = json_object_get(out, "points");
    json_t *eqmap = json_object();          /* device instance -> equipment slug */
    size_t i;
    json_t *e, *s;

    if (!building) {
        snprintf(err, errlen, "building: the building the points go to is required");
        goto bad;
    }
    /* Equipment the user named for devices. */
    json_array_foreach(json_object_get(sel, "equipment"), i, e) {
        json_int_t dev = json_integer_value(json_object_get(e, "device"));
        const char *id = json_string_value(json_object_get(e, "id"));
        json_t *d = find_device(result, dev);
        char k[16];
        if (!d || !id) {
            snprintf(err, errlen, "equipment[%zu]: needs \"device\" (one that was discovered) and \"id\"", i);
            goto bad;
        }
        snprintf(k, sizeof(k), "%lld", (long long)dev);
        json_object_set_new(eqmap, k, json_string(id));
        if (!json_is_false(json_object_get(e, "create"))) {
            json_t *ne = json_pack("{s:s, s:s, s:s, s:s}", "id", id, "building", building,
                "name", json_string_value(json_object_get(e, "name")) ?: json_string_value(json_object_get(d, "name")) ?: id,
                "type", json_string_value(json_object_get(e, "type")) ?: equip_type(json_string_value(json_object_get(d, "name"))));
            /* where it sits and what it is, as the site document says */
            for (int j = 0; equip_keys[j]; j++)
                if (json_is_string(json_object_get(e, equip_keys[j])))
                    json_object_set(ne, equip_keys[j], json_object_get(e, equip_keys[j]));
            json_array_append_new(eqs, ne);
        }
    }
    json_array_foreach(json_object_get(sel, "points"), i, s) {
        json_int_t dev = json_integer_value(json_object_get(s, "device"));
        const char *obj = json_string_value(json_object_get(s, "object"));
        json_t *d = find_device(result, dev), *p = d && obj ? find_point(d, obj) : NULL, *np;
        char k[16];
        if (!p) {
            snprintf(err, errlen, "points[%zu]: device %lld has no discovered point %s", i,
                     (long long)dev, obj ? obj : "(object missing)");
            goto bad;
        }
        snprintf(k, sizeof(k), "%lld", (long long)dev);
        const char *eq = json_string_value(json_object_get(s, "equipment")) ?:
                         json_string_value(json_object_get(eqmap, k));
        if (!eq) {
            /* A device nobody named becomes equipment named after it. */
            char slug[64];
            slugify(json_string_value(json_object_get(d, "name")) ?: k, slug, sizeof(slug));
            json_object_set_new(eqmap, k, json_string(slug));
            json_array_append_new(eqs, json_pack("{s:s, s:s, s:s, s:s}", "id", slug, "building", building,
                "name", json_string_value(json_object_get(d, "name")) ?: slug,
                "type", equip_type(json_string_value(json_object_get(d, "name")))));
            eq = json_string_value(json_object_get(eqmap, k));
        }
        np = json_object();
        for (int j = 0; point_keys[j]; j++)
            if (json_object_get(p, point_keys[j]))
                json_object_set(np, point_keys[j], json_object_get(p, point_keys[j]));
        json_object_set_new(np, "equipment", json_string(eq));
        for (int j = 0; override_keys[j]; j++)
            if (json_object_get(s, override_keys[j]))
                json_object_set(np, override_keys[j], json_object_get(s, override_keys[j]));
        if (json_is_integer(json_object_get(s, "poll_s")))
            json_object_set(json_object_get(np, "source"), "poll_s", json_object_get(s, "poll_s"));
        if (!json_object_get(np, "kind"))
            json_object_set_new(np, "kind", json_string("other"));
        json_array_append_new(pts, np);
    }
    if (!json_array_size(pts)) {
        snprintf(err, errlen, "points: pick at least one discovered point");
        goto bad;
    }
    json_decref(eqmap);
    return out;
bad:
    json_decref(eqmap);
    json_decref(out);
    return NULL;
}

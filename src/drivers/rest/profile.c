/* profile.c - REST profiles, addresses, templates, value mapping (see profile.h). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/jpath.h"
#include "drivers/rest/profile.h"

#define MAX_POINTS     256      /* points per profile */
#define MAX_ENUMS      64       /* names per enum map */
#define MAX_BODY_DEPTH 16       /* nesting of a body template */
#define TMPL_URL_MAX   1024     /* template bytes */
#define PROFILE_MAX    (256 * 1024)  /* profile file bytes */

/* ---- small helpers ------------------------------------------------------ */

static int keys_ok(const json_t *obj, const char *const *allowed, const char *where,
                   char *err, size_t errlen)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v) {
        size_t i;
        for (i = 0; allowed[i]; i++)
            if (strcmp(k, allowed[i]) == 0)
                break;
        if (!allowed[i]) {
            sb_errf(err, errlen, "%s: unknown member \"%.40s\"", where, k);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* An optional string member: 0 with *out = NULL when absent. */
static int opt_str(const json_t *obj, const char *key, size_t maxlen, const char *where,
                   const char **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    *out = NULL;
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0 ||
        json_string_length(v) > maxlen ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        sb_errf(err, errlen, "%s.%s: must be a string of 1..%zu bytes", where, key, maxlen);
        return SB_EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

static int dup_into(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : SB_ENOMEM;
}

int sb_rest_name_ok(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++)
        if (!isalnum((unsigned char)s[n]) && s[n] != '_' && s[n] != '-')
            return 0;
    return n >= 1 && n <= SB_REST_NAME_MAX;
}

static int unreserved(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int sb_rest_device_ok(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++)
        if (!unreserved((unsigned char)s[n]) && s[n] != ':' && s[n] != '@')
            return 0;
    return n >= 1 && n <= SB_REST_DEVICE_MAX;
}

/* ---- URL templates ------------------------------------------------------ */

static int is_absolute(const char *u)
{
    return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0;
}

/* Checks a URL template: relative ("/...") or absolute, printable ASCII
 * without spaces, braces only around {device} and {value}. */
static int url_tmpl_ok(const char *u, int allow_value, char *err, size_t errlen,
                       const char *where)
{
    if (strlen(u) > TMPL_URL_MAX || (u[0] != '/' && !is_absolute(u))) {
        sb_errf(err, errlen, "%s: url must start with '/' or http(s):// (max %d bytes)",
                where, TMPL_URL_MAX);
        return SB_EINVAL;
    }
    for (const char *p = u; *p; p++) {
        if (*p <= ' ' || *p >= 0x7f || *p == '}') {
            sb_errf(err, errlen, "%s: url has a bad character at byte %zu", where,
                    (size_t)(p - u));
            return SB_EINVAL;
        }
        if (*p != '{')
            continue;
        if (strncmp(p, "{device}", 8) == 0) {
            p += 7;
        } else if (allow_value && strncmp(p, "{value}", 7) == 0) {
            p += 6;
        } else {
            sb_errf(err, errlen, "%s: unknown placeholder at byte %zu (allowed: {device}%s)",
                    where, (size_t)(p - u), allow_value ? ", {value}" : "");
            return SB_EINVAL;
        }
    }
    return 0;
}

static size_t pct_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += unreserved((unsigned char)*s) ? 1 : 3;
    return n;
}

static char *pct_put(char *o, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (unreserved(c)) {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    return o;
}

int sb_rest_url(const char *base, const char *tmpl, const char *device,
                const char *value, char **out)
{
    size_t blen = 0, need = 0;
    const char *p;
    char *buf, *o;

    *out = NULL;
    if (!is_absolute(tmpl)) {
        if (!base)
            return SB_EINVAL;
        blen = strlen(base);
        while (blen && base[blen - 1] == '/')
            blen--;
    }
    for (p = tmpl; *p; p++) {
        if (strncmp(p, "{device}", 8) == 0 && device) {
            need += pct_len(device);
            p += 7;
        } else if (strncmp(p, "{value}", 7) == 0 && value) {
            need += pct_len(value);
            p += 6;
        } else if (*p == '{' || *p == '}') {
            return SB_EINVAL;
        } else {
            need++;
        }
    }
    if (blen + need > SB_REST_URL_MAX)
        return SB_EINVAL;
    if (!(buf = malloc(blen + need + 1)))
        return SB_ENOMEM;
    memcpy(buf, base ? base : "", blen);
    o = buf + blen;
    for (p = tmpl; *p; p++) {
        if (strncmp(p, "{device}", 8) == 0) {
            o = pct_put(o, device);
            p += 7;
        } else if (strncmp(p, "{value}", 7) == 0) {
            o = pct_put(o, value);
            p += 6;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    *out = buf;
    return 0;
}

/* ---- profile parsing ---------------------------------------------------- */

static int body_ok(const json_t *b, int depth, char *err, size_t errlen, const char *where)
{
    const char *k;
    json_t *v;
    size_t i;

    if (depth > MAX_BODY_DEPTH) {
        sb_errf(err, errlen, "%s: body nested deeper than %d", where, MAX_BODY_DEPTH);
        return SB_EINVAL;
    }
    if (json_is_string(b)) {
        const char *s = json_string_value(b);
        size_t n = json_string_length(b);
        /* A string that is all one {...} must be a known placeholder, so a
         * typo like "{valeu}" is caught here, not sent to a thermostat. */
        if (n >= 2 && s[0] == '{' && s[n - 1] == '}' && !strchr(s + 1, '{') &&
            strcmp(s, "{value}") != 0 && strcmp(s, "{value:int}") != 0 &&
            strcmp(s, "{value:bool}") != 0 && strcmp(s, "{device}") != 0) {
            sb_errf(err, errlen, "%s: unknown placeholder \"%.32s\" (allowed: {value}, "
                    "{value:int}, {value:bool}, {device})", where, s);
            return SB_EINVAL;
        }
        return 0;
    }
    if (json_is_object(b)) {
        json_object_foreach((json_t *)b, k, v)
            if (body_ok(v, depth + 1, err, errlen, where) != 0)
                return SB_EINVAL;
    } else if (json_is_array(b)) {
        json_array_foreach(b, i, v)
            if (body_ok(v, depth + 1, err, errlen, where) != 0)
                return SB_EINVAL;
    }
    return 0;
}

static void tmpl_release(struct sb_rest_tmpl *t)
{
    if (!t)
        return;
    free(t->url);
    json_decref(t->body);
    t->url = NULL;
    t->body = NULL;
}

static int parse_tmpl(const json_t *o, const char *defmethod, int allow_value,
                      struct sb_rest_tmpl *t, const char *where, char *err, size_t errlen)
{
    static const char *const keys[] = { "method", "url", "body", "time_path",
                                        "online_path", NULL };
    static const char *const methods[] = { "GET", "PUT", "POST", "PATCH", "DELETE", NULL };
    const char *m, *u;
    size_t i;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "%s: must be an object", where);
        return SB_EINVAL;
    }
    if (allow_value && (json_object_get(o, "time_path") || json_object_get(o, "online_path"))) {
        sb_errf(err, errlen, "%s: time_path and online_path belong to the status request",
                where);
        return SB_EINVAL;
    }
    if (keys_ok(o, keys, where, err, errlen) || opt_str(o, "method", 7, where, &m, err, errlen) ||
        opt_str(o, "url", TMPL_URL_MAX, where, &u, err, errlen))
        return SB_EINVAL;
    if (!m)
        m = defmethod;
    for (i = 0; m && methods[i]; i++)
        if (strcmp(m, methods[i]) == 0)
            break;
    if (!m || !methods[i]) {
        sb_errf(err, errlen, "%s.method: one of GET, PUT, POST, PATCH, DELETE", where);
        return SB_EINVAL;
    }
    if (!u) {
        sb_errf(err, errlen, "%s.url: missing", where);
        return SB_EINVAL;
    }
    if (url_tmpl_ok(u, allow_value, err, errlen, where) != 0)
        return SB_EINVAL;
    if (json_object_get(o, "body") && body_ok(json_object_get(o, "body"), 0, err, errlen, where))
        return SB_EINVAL;
    snprintf(t->method, sizeof(t->method), "%s", m);
    if (!(t->url = strdup(u)))
        return SB_ENOMEM;
    t->body = json_incref(json_object_get(o, "body"));
    return 0;
}

static int parse_enums(const json_t *o, struct sb_rest_ppoint *pp, const char *where,
                       char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    size_t n = json_object_size(o);

    if (!json_is_object(o) || n == 0 || n > MAX_ENUMS) {
        sb_errf(err, errlen, "%s.enum: an object of 1..%d \"name\": number pairs", where, MAX_ENUMS);
        return SB_EINVAL;
    }
    if (!(pp->enums = calloc(n, sizeof(*pp->enums))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)o, k, v) {
        double d = json_number_value(v);
        if (!json_is_number(v) || !isfinite(d) || strlen(k) == 0 || strlen(k) > SB_REST_NAME_MAX) {
            sb_errf(err, errlen, "%s.enum.%.40s: must be a finite number", where, k);
            return SB_EINVAL;
        }
        for (size_t i = 0; i < pp->nenums; i++)
            if (pp->enums[i].v == d) {
                sb_errf(err, errlen, "%s.enum: \"%.40s\" and \"%.40s\" share the number %g",
                        where, pp->enums[i].name, k, d);
                return SB_EINVAL;
            }
        if (!(pp->enums[pp->nenums].name = strdup(k)))
            return SB_ENOMEM;
        pp->enums[pp->nenums++].v = d;
    }
    return 0;
}

static int parse_scale(const json_t *o, struct sb_rest_ppoint *pp, const char *where,
                       char *err, size_t errlen)
{
    const json_t *s = json_object_get(o, "scale"), *f = json_object_get(o, "offset");

    pp->scale = 1.0;
    pp->offset = 0.0;
    if (s && (!json_is_number(s) || !isfinite(json_number_value(s)) ||
              json_number_value(s) == 0.0)) {
        sb_errf(err, errlen, "%s.scale: a finite, non-zero number", where);
        return SB_EINVAL;
    }
    if (f && (!json_is_number(f) || !isfinite(json_number_value(f)))) {
        sb_errf(err, errlen, "%s.offset: a finite number", where);
        return SB_EINVAL;
    }
    if (s)
        pp->scale = json_number_value(s);
    if (f)
        pp->offset = json_number_value(f);
    return 0;
}

static int parse_opt_tmpl(const json_t *o, const char *key, struct sb_rest_tmpl **out,
                          const char *where, char *err, size_t errlen)
{
    const json_t *w = json_object_get(o, key);
    char wh[128];

    if (!w)
        return 0;
    if (!(*out = calloc(1, sizeof(**out))))
        return SB_ENOMEM;
    snprintf(wh, sizeof(wh), "%s.%s", where, key);
    return parse_tmpl(w, NULL, 1, *out, wh, err, errlen);
}

static int parse_point(const char *name, const json_t *o, struct sb_rest_ppoint *pp,
                       char *err, size_t errlen)
{
    static const char *const keys[] = { "path", "enum", "scale", "offset", "unit",
                                        "description", "write", "relinquish", NULL };
    char where[96];
    const char *path, *dummy;
    int rc;

    snprintf(where, sizeof(where), "points.%.64s", name);
    if (!sb_rest_name_ok(name) || !json_is_object(o)) {
        sb_errf(err, errlen, "%s: point names are [A-Za-z0-9_-], values objects", where);
        return SB_EINVAL;
    }
    if (!(pp->name = strdup(name)))
        return SB_ENOMEM;
    if (keys_ok(o, keys, where, err, errlen) ||
        opt_str(o, "path", SB_JPATH_MAX, where, &path, err, errlen) ||
        opt_str(o, "unit", 32, where, &dummy, err, errlen) ||
        opt_str(o, "description", 512, where, &dummy, err, errlen))
        return SB_EINVAL;
    if (!path || sb_jpath_check(path, err, errlen) != 0) {
        if (!path)
            sb_errf(err, errlen, "%s.path: missing", where);
        return SB_EINVAL;
    }
    if ((rc = dup_into(path, &pp->path)) != 0 || (rc = parse_scale(o, pp, where, err, errlen)))
        return rc;
    if (json_object_get(o, "enum") &&
        (rc = parse_enums(json_object_get(o, "enum"), pp, where, err, errlen)) != 0)
        return rc;
    if ((rc = parse_opt_tmpl(o, "write", &pp->write, where, err, errlen)) != 0 ||
        (rc = parse_opt_tmpl(o, "relinquish", &pp->relinquish, where, err, errlen)) != 0)
        return rc;
    return 0;
}

static int parse_points(const json_t *pts, struct sb_rest_profile *p, char *err, size_t errlen)
{
    const char *k;
    json_t *v;
    size_t n = json_object_size(pts);
    int rc;

    if (!json_is_object(pts) || n == 0 || n > MAX_POINTS) {
        sb_errf(err, errlen, "points: an object of 1..%d points", MAX_POINTS);
        return SB_EINVAL;
    }
    if (!(p->points = calloc(n, sizeof(*p->points))))
        return SB_ENOMEM;
    json_object_foreach((json_t *)pts, k, v) {
        rc = parse_point(k, v, &p->points[p->npoints++], err, errlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int parse_paths(const json_t *doc, const json_t *st, struct sb_rest_profile *p,
                       char *err, size_t errlen)
{
    const char *tp, *ep, *op;
    int rc;

    if (opt_str(st, "time_path", SB_JPATH_MAX, "status", &tp, err, errlen) ||
        opt_str(st, "online_path", SB_JPATH_MAX, "status", &op, err, errlen) ||
        opt_str(doc, "error_path", SB_JPATH_MAX, "profile", &ep, err, errlen))
        return SB_EINVAL;
    if ((tp && sb_jpath_check(tp, err, errlen)) || (ep && sb_jpath_check(ep, err, errlen)) ||
        (op && sb_jpath_check(op, err, errlen)))
        return SB_EINVAL;
    if ((rc = dup_into(tp, &p->time_path)) != 0 || (rc = dup_into(ep, &p->error_path)) != 0 ||
        (rc = dup_into(op, &p->online_path)) != 0)
        return rc;
    return 0;
}

static int parse_profile(const json_t *doc, struct sb_rest_profile *p, char *err, size_t errlen)
{
    static const char *const keys[] = { "profile", "description", "status", "error_path",
                                        "points", NULL };
    const char *name, *dummy;
    const json_t *st;
    int rc;

    if (!json_is_object(doc)) {
        sb_errf(err, errlen, "profile: must be a JSON object");
        return SB_EINVAL;
    }
    if (keys_ok(doc, keys, "profile", err, errlen) ||
        opt_str(doc, "profile", SB_REST_NAME_MAX, "profile", &name, err, errlen) ||
        opt_str(doc, "description", 1024, "profile", &dummy, err, errlen))
        return SB_EINVAL;
    if (!name || !sb_rest_name_ok(name)) {
        sb_errf(err, errlen, "profile.profile: the profile's name, [A-Za-z0-9_-]");
        return SB_EINVAL;
    }
    if ((rc = dup_into(name, &p->name)) != 0)
        return rc;
    st = json_object_get(doc, "status");
    if (!st) {
        sb_errf(err, errlen, "profile.status: missing");
        return SB_EINVAL;
    }
    if ((rc = parse_tmpl(st, "GET", 0, &p->status, "status", err, errlen)) != 0)
        return rc;
    if ((rc = parse_paths(doc, st, p, err, errlen)) != 0)
        return rc;
    return parse_points(json_object_get(doc, "points"), p, err, errlen);
}

int sb_rest_profile_parse(const json_t *doc, struct sb_rest_profile **out,
                          char *err, size_t errlen)
{
    struct sb_rest_profile *p = calloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    if (!p)
        return SB_ENOMEM;
    rc = parse_profile(doc, p, err, errlen);
    if (rc != 0) {
        if (rc == SB_ENOMEM)
            sb_errf(err, errlen, "out of memory");
        sb_rest_profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void ppoint_release(struct sb_rest_ppoint *pp)
{
    free(pp->name);
    free(pp->path);
    for (size_t i = 0; i < pp->nenums; i++)
        free(pp->enums[i].name);
    free(pp->enums);
    tmpl_release(pp->write);
    tmpl_release(pp->relinquish);
    free(pp->write);
    free(pp->relinquish);
}

void sb_rest_profile_free(struct sb_rest_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->npoints; i++)
        ppoint_release(&p->points[i]);
    free(p->points);
    tmpl_release(&p->status);
    free(p->name);
    free(p->time_path);
    free(p->online_path);
    free(p->error_path);
    free(p);
}

static int profile_name_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!islower((unsigned char)s[n]) && !isdigit((unsigned char)s[n]) && s[n] != '-')
            return 0;
    return n >= 1 && n <= SB_REST_NAME_MAX;
}

int sb_rest_profile_load(const char *dir, const char *name, struct sb_rest_profile **out,
                         char *err, size_t errlen)
{
    char path[4096];
    json_error_t je;
    json_t *doc = NULL;
    int rc;

    *out = NULL;
    if (!dir || !name || !profile_name_ok(name)) {
        sb_errf(err, errlen, "profile name \"%.64s\": use [a-z0-9-]", name ? name : "");
        return SB_EINVAL;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/%s.json", dir, name) >= sizeof(path)) {
        sb_errf(err, errlen, "profile directory path too long");
        return SB_EINVAL;
    }
    doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!doc) {
        int missing = strstr(je.text, "unable to open") != NULL;
        sb_errf(err, errlen, "profile %s: %s (line %d)", path, je.text, je.line);
        return missing ? SB_ENOENT : SB_EINVAL;
    }
    rc = sb_rest_profile_parse(doc, out, err, errlen);
    if (rc == 0 && strcmp((*out)->name, name) != 0) {
        sb_errf(err, errlen, "profile %s names itself \"%s\"", path, (*out)->name);
        sb_rest_profile_free(*out);
        *out = NULL;
        rc = SB_EINVAL;
    }
    json_decref(doc);
    return rc;
}

const struct sb_rest_ppoint *sb_rest_profile_point(const struct sb_rest_profile *p,
                                                   const char *name)
{
    for (size_t i = 0; p && i < p->npoints; i++)
        if (strcmp(p->points[i].name, name) == 0)
            return &p->points[i];
    return NULL;
}

/* ---- addresses ---------------------------------------------------------- */

static int addr_profile_form(const json_t *o, struct sb_rest_addr *a, char *err, size_t errlen)
{
    const char *dev, *name;
    int rc;

    if (opt_str(o, "device", SB_REST_DEVICE_MAX, "address", &dev, err, errlen) ||
        opt_str(o, "name", SB_REST_NAME_MAX, "address", &name, err, errlen))
        return SB_EINVAL;
    if (!dev || !sb_rest_device_ok(dev)) {
        sb_errf(err, errlen, "address.device: 1..%d of [A-Za-z0-9._~:@-]", SB_REST_DEVICE_MAX);
        return SB_EINVAL;
    }
    if (!name || !sb_rest_name_ok(name)) {
        sb_errf(err, errlen, "address.name: a point name of the API's profile");
        return SB_EINVAL;
    }
    if ((rc = dup_into(dev, &a->device)) != 0 || (rc = dup_into(name, &a->name)) != 0)
        return rc;
    return 0;
}

static int addr_url_form(const json_t *o, struct sb_rest_addr *a, char *err, size_t errlen)
{
    const char *url, *path, *tp;
    int rc;

    if (opt_str(o, "url", TMPL_URL_MAX, "address", &url, err, errlen) ||
        opt_str(o, "path", SB_JPATH_MAX, "address", &path, err, errlen) ||
        opt_str(o, "time_path", SB_JPATH_MAX, "address", &tp, err, errlen))
        return SB_EINVAL;
    if (!url || url_tmpl_ok(url, 0, err, errlen, "address.url") != 0 || strchr(url, '{') ||
        (!a->api[0] && !is_absolute(url))) {
        if (!url || strchr(url, '{') || !is_absolute(url))
            sb_errf(err, errlen, "address.url: an http(s) URL (or a path starting with '/' "
                    "when \"api\" is given), no placeholders");
        return SB_EINVAL;
    }
    if (!path) {
        sb_errf(err, errlen, "address.path: missing (JSON path of the value)");
        return SB_EINVAL;
    }
    if (sb_jpath_check(path, err, errlen) || (tp && sb_jpath_check(tp, err, errlen)))
        return SB_EINVAL;
    if ((rc = dup_into(url, &a->url)) || (rc = dup_into(path, &a->path)) ||
        (rc = dup_into(tp, &a->time_path)))
        return rc;
    return 0;
}

static int addr_from_json(const json_t *o, struct sb_rest_addr *a, char *err, size_t errlen)
{
    static const char *const keys[] = { "api", "device", "name", "url", "path",
                                        "time_path", NULL };
    const char *api;
    int has_url, has_dev;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "address: must be a JSON object");
        return SB_EINVAL;
    }
    if (keys_ok(o, keys, "address", err, errlen) ||
        opt_str(o, "api", SB_REST_NAME_MAX, "address", &api, err, errlen))
        return SB_EINVAL;
    if (api && !sb_rest_name_ok(api)) {
        sb_errf(err, errlen, "address.api: [A-Za-z0-9_-]");
        return SB_EINVAL;
    }
    snprintf(a->api, sizeof(a->api), "%s", api ? api : "");
    has_url = json_object_get(o, "url") != NULL;
    has_dev = json_object_get(o, "device") || json_object_get(o, "name");
    if (has_url == has_dev) {
        sb_errf(err, errlen, "address: give either {\"api\",\"device\",\"name\"} or "
                "{\"url\",\"path\"}");
        return SB_EINVAL;
    }
    if (has_url)
        return addr_url_form(o, a, err, errlen);
    if (!api) {
        sb_errf(err, errlen, "address.api: missing");
        return SB_EINVAL;
    }
    return addr_profile_form(o, a, err, errlen);
}

int sb_rest_addr_parse(const char *text, size_t len, struct sb_rest_addr **out,
                       char *err, size_t errlen)
{
    struct sb_rest_addr *a;
    json_error_t je;
    json_t *o;
    int rc;

    *out = NULL;
    o = text ? json_loadb(text, len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!o) {
        sb_errf(err, errlen, "address: not a JSON object (%s)", text ? je.text : "missing");
        return SB_EINVAL;
    }
    if (!(a = calloc(1, sizeof(*a)))) {
        json_decref(o);
        return SB_ENOMEM;
    }
    rc = addr_from_json(o, a, err, errlen);
    json_decref(o);
    if (rc != 0) {
        sb_rest_addr_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void sb_rest_addr_free(struct sb_rest_addr *a)
{
    if (!a)
        return;
    free(a->device);
    free(a->name);
    free(a->url);
    free(a->path);
    free(a->time_path);
    free(a);
}

/* ---- values ------------------------------------------------------------- */

int sb_rest_value(const struct sb_rest_ppoint *pp, const json_t *doc, double *v,
                  char *err, size_t errlen)
{
    const json_t *j;
    double raw;
    int rc;

    if ((rc = sb_jpath_get(doc, pp->path, &j, err, errlen)) != 0)
        return rc;
    if (json_is_string(j) && pp->nenums) {
        for (size_t i = 0; i < pp->nenums; i++)
            if (strcmp(pp->enums[i].name, json_string_value(j)) == 0) {
                *v = pp->enums[i].v;
                return 0;
            }
        sb_errf(err, errlen, "\"%.40s\" at %s is not in the profile's enum map",
                json_string_value(j), pp->path);
        return SB_EPROTO;
    }
    if ((rc = sb_jpath_number(j, &raw, err, errlen)) != 0)
        return rc;
    *v = raw * pp->scale + pp->offset;
    if (!isfinite(*v)) {
        sb_errf(err, errlen, "value at %s overflows", pp->path);
        return SB_EPROTO;
    }
    return 0;
}

int sb_rest_value_json(const struct sb_rest_ppoint *pp, double value, json_t **out,
                       char *err, size_t errlen)
{
    double raw;

    *out = NULL;
    if (!isfinite(value)) {
        sb_errf(err, errlen, "value is not finite");
        return SB_EINVAL;
    }
    if (pp->nenums) {
        for (size_t i = 0; i < pp->nenums; i++)
            if (fabs(pp->enums[i].v - value) < 1e-9) {
                *out = json_string(pp->enums[i].name);
                return *out ? 0 : SB_ENOMEM;
            }
        sb_errf(err, errlen, "%g has no name in the enum map of %s", value, pp->name);
        return SB_EINVAL;
    }
    raw = (value - pp->offset) / pp->scale;
    if (!isfinite(raw)) {
        sb_errf(err, errlen, "value out of range after scaling");
        return SB_EINVAL;
    }
    /* Integral values go out as JSON integers: "21" reads better than "21.0"
     * and some APIs type-check integers. */
    if (raw == floor(raw) && fabs(raw) < 9e15)
        *out = json_integer((json_int_t)raw);
    else
        *out = json_real(raw);
    return *out ? 0 : SB_ENOMEM;
}

/* Replace every "{device}" in s; returns a new JSON string. */
static json_t *subst_device(const char *s, const char *device)
{
    size_t n = 0, dl = strlen(device);
    const char *p;
    char *buf, *o;
    json_t *j;

    for (p = s; (p = strstr(p, "{device}")); p += 8)
        n++;
    if (n == 0)
        return json_string(s);
    if (!(buf = malloc(strlen(s) + n * dl + 1)))
        return NULL;
    for (o = buf, p = s; *p;) {
        if (strncmp(p, "{device}", 8) == 0) {
            memcpy(o, device, dl);
            o += dl;
            p += 8;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    j = json_string(buf);
    free(buf);
    return j;
}

struct body_ctx {
    const struct sb_rest_ppoint *pp;   /* the point written */
    const char *device;                /* device id */
    double value;                      /* value in the point's unit */
    char *err;                         /* caller's error buffer */
    size_t errlen;
};

static int body_str(struct body_ctx *c, const char *s, json_t **out)
{
    if (strcmp(s, "{value}") == 0)
        return sb_rest_value_json(c->pp, c->value, out, c->err, c->errlen);
    if (strcmp(s, "{value:bool}") == 0) {
        if (!isfinite(c->value)) {
            sb_errf(c->err, c->errlen, "value is not finite");
            return SB_EINVAL;
        }
        *out = json_boolean(c->value != 0.0);
        return 0;
    }
    if (strcmp(s, "{value:int}") == 0) {
        double r = nearbyint((c->value - c->pp->offset) / c->pp->scale);
        if (!isfinite(r) || fabs(r) > 9e15) {
            sb_errf(c->err, c->errlen, "value out of integer range");
            return SB_EINVAL;
        }
        *out = json_integer((json_int_t)r);
        return *out ? 0 : SB_ENOMEM;
    }
    *out = subst_device(s, c->device);
    return *out ? 0 : SB_ENOMEM;
}

static int body_build(struct body_ctx *c, const json_t *t, int depth, json_t **out)
{
    const char *k;
    json_t *v, *nv = NULL;
    size_t i;
    int rc = 0;

    *out = NULL;
    if (depth > MAX_BODY_DEPTH)
        return SB_EINVAL;
    if (json_is_string(t))
        return body_str(c, json_string_value(t), out);
    if (!json_is_object(t) && !json_is_array(t)) {
        *out = json_deep_copy(t);
        return *out ? 0 : SB_ENOMEM;
    }
    *out = json_is_object(t) ? json_object() : json_array();
    if (!*out)
        return SB_ENOMEM;
    if (json_is_object(t)) {
        json_object_foreach((json_t *)t, k, v) {
            if ((rc = body_build(c, v, depth + 1, &nv)) != 0 ||
                (rc = json_object_set_new(*out, k, nv) ? SB_ENOMEM : 0) != 0)
                break;
        }
    } else {
        json_array_foreach(t, i, v) {
            if ((rc = body_build(c, v, depth + 1, &nv)) != 0 ||
                (rc = json_array_append_new(*out, nv) ? SB_ENOMEM : 0) != 0)
                break;
        }
    }
    if (rc != 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

int sb_rest_body(const struct sb_rest_ppoint *pp, const json_t *tmpl, const char *device,
                 double value, char **out, char *err, size_t errlen)
{
    struct body_ctx c = { pp, device ? device : "", value, err, errlen };
    json_t *b = NULL;
    int rc;

    *out = NULL;
    if (!tmpl)
        return SB_EINVAL;
    if ((rc = body_build(&c, tmpl, 0, &b)) != 0)
        return rc;
    /* 15 significant digits: 21.1 goes out as 21.1, not 21.100000000000001. */
    *out = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(b);
    return *out ? 0 : SB_ENOMEM;
}

/* ---- errors and times --------------------------------------------------- */

static void clean_copy(const char *s, size_t n, char *out, size_t cap)
{
    size_t i, o = 0;

    for (i = 0; i < n && o + 1 < cap; i++)
        out[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    out[o] = '\0';
}

static int reason_at(const json_t *doc, const char *path, char *out, size_t cap)
{
    const json_t *v;

    if (sb_jpath_get(doc, path, &v, NULL, 0) != 0 || !json_is_string(v) ||
        json_string_length(v) == 0)
        return 0;
    clean_copy(json_string_value(v), json_string_length(v), out, cap);
    return 1;
}

int sb_rest_reason(const char *body, size_t len, const char *error_path,
                   char *out, size_t cap)
{
    static const char *const guesses[] = { "message", "error.message", "error_description",
                                           "error", "detail", "title", NULL };
    json_t *doc;
    int found = 0;

    if (cap == 0)
        return 0;
    out[0] = '\0';
    if (!body || len == 0)
        return 0;
    doc = json_loadb(body, len, 0, NULL);
    if (!doc)
        return 0;
    if (error_path)
        found = reason_at(doc, error_path, out, cap);
    for (size_t i = 0; !found && guesses[i]; i++)
        found = reason_at(doc, guesses[i], out, cap);
    json_decref(doc);
    return found;
}

int sb_rest_time(const json_t *doc, const char *path, int64_t *ms)
{
    const json_t *v;
    double d;

    if (sb_jpath_get(doc, path, &v, NULL, 0) != 0 || json_is_null(v))
        return SB_ENOENT;
    if (json_is_string(v))
        return sb_time_parse(json_string_value(v), json_string_length(v), ms) == 0
                   ? 0 : SB_EPROTO;
    if (!json_is_number(v))
        return SB_EPROTO;
    d = json_number_value(v);
    if (!isfinite(d) || d <= 0 || d > 1e14)
        return SB_EPROTO;
    *ms = d < 1e11 ? (int64_t)(d * 1000.0) : (int64_t)d;
    return 0;
}

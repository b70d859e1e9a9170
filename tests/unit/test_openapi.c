/*
 * test_openapi.c - the OpenAPI document (src/api/openapi.json) against the
 * route table (sb_api__routes[], routes.c), in both directions: every route
 * is exactly one operation with the same path, method, operationId, summary
 * and least role (x-sbems-role), and every operation is a route.  Also: each
 * path parameter is declared, each operation answers some 4xx with the
 * shared Error schema, operationIds are unique, every local $ref resolves,
 * and the copy embedded in the binary (openapi_data.S) is the file's bytes.
 *
 * Runs from the top of the tree, or with SBEMS_SRC naming it.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "tap.h"

/* The embedded document (openapi_data.S). */
extern const char sb_openapi_json[];
extern const char sb_openapi_json_end[];

#define ERROR_REF "#/components/schemas/Error"

static const char *const http_methods[] = { "get", "put", "post", "delete", "options", "head",
                                            "patch", "trace", NULL };

/* ---- helpers ------------------------------------------------------------------ */

/* The document's path: $SBEMS_SRC/src/api/openapi.json or relative. */
static void doc_path(char *buf, size_t cap)
{
    const char *root = getenv("SBEMS_SRC");
    snprintf(buf, cap, "%s%ssrc/api/openapi.json", root ? root : "", root ? "/" : "");
}

/* The file's bytes (heap, *len set) or NULL. */
static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    *len = 0;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        goto out;
    if (!(buf = malloc((size_t)n + 1)))
        goto out;
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    *len = (size_t)n;
out:
    fclose(f);
    return buf;
}

/* The parsed document (duplicate keys refused: a second "get" under one
 * path would otherwise hide the first), or NULL with a TAP diagnostic. */
static json_t *load_doc(void)
{
    char path[4096];
    size_t len;
    json_error_t e;

    doc_path(path, sizeof(path));
    char *buf = read_all(path, &len);
    if (!buf) {
        TAP_FAIL("cannot read %s (run from the top of the tree or set SBEMS_SRC)", path);
        return NULL;
    }
    json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    if (!doc)
        TAP_FAIL("%s:%d:%d: %s", path, e.line, e.column, e.text);
    free(buf);
    return doc;
}

static int is_method(const char *k)
{
    for (size_t i = 0; http_methods[i]; i++)
        if (strcmp(http_methods[i], k) == 0)
            return 1;
    return 0;
}

/* "GET" -> "get" into buf. */
static const char *lower(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] && i + 1 < cap; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return buf;
}

static const char *need_name(enum sb_need n)
{
    switch (n) {
    case SB_NEED_PUBLIC: return "public";
    case SB_NEED_USER: return "user";
    case SB_NEED_VIEWER: return "viewer";
    case SB_NEED_OPERATOR: return "operator";
    case SB_NEED_MANAGER: return "manager";
    case SB_NEED_ADMIN: return "admin";
    }
    return "?";
}

/* Resolve a local JSON pointer "#/a/b" (RFC 6901 escapes ~0 ~1) in doc. */
static json_t *resolve(json_t *doc, const char *ref)
{
    char tok[256];
    json_t *v = doc;

    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    const char *p = ref + 1;
    while (v && *p == '/') {
        size_t n = 0;
        p++;
        while (*p && *p != '/' && n + 1 < sizeof(tok)) {
            if (p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
                tok[n++] = p[1] == '0' ? '~' : '/';
                p += 2;
            } else {
                tok[n++] = *p++;
            }
        }
        tok[n] = '\0';
        if (json_is_array(v)) {
            char *end;
            unsigned long i = strtoul(tok, &end, 10);
            v = *end ? NULL : json_array_get(v, i);
        } else {
            v = json_object_get(v, tok);
        }
    }
    return *p ? NULL : v;
}

/* v, or what its "$ref" names (one level, as components use it). */
static json_t *deref(json_t *doc, json_t *v)
{
    const char *ref = json_string_value(json_object_get(v, "$ref"));
    return ref ? resolve(doc, ref) : v;
}

/* The path with every {name} made {}: "/a/{b}" -> "/a/{}", to catch two
 * document paths that are the same route under different parameter names. */
static void shape(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *p = path; *p && n + 1 < cap; p++) {
        buf[n++] = *p;
        if (*p == '{') {
            while (*p && *p != '}')
                p++;
            if (!*p)
                break;
            if (n + 1 < cap)
                buf[n++] = '}';
        }
    }
    buf[n] = '\0';
}

/* The route with this path and method, or NULL. */
static const struct sb_route *route_of(const char *path, const char *method)
{
    char m[16];
    for (size_t i = 0; i < sb_api__nroutes; i++) {
        const struct sb_route *r = &sb_api__routes[i];
        if (strcmp(r->path, path) == 0 &&
            strcmp(lower(sb_api__method_name(r->method), m, sizeof(m)), method) == 0)
            return r;
    }
    return NULL;
}

/* Whether op (or its path item) declares path parameter name. */
static int declares(json_t *doc, json_t *item, json_t *op, const char *name)
{
    json_t *lists[2] = { json_object_get(op, "parameters"), json_object_get(item, "parameters") };
    for (size_t l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p) {
            json_t *d = deref(doc, p);
            if (json_is_true(json_object_get(d, "required")) &&
                strcmp(json_string_value(json_object_get(d, "in")) ?: "", "path") == 0 &&
                strcmp(json_string_value(json_object_get(d, "name")) ?: "", name) == 0)
                return 1;
        }
    }
    return 0;
}

/* Whether a response (after $ref) has a JSON body whose schema is Error. */
static int is_error_response(json_t *doc, json_t *resp)
{
    json_t *r = deref(doc, resp);
    json_t *s = json_object_get(json_object_get(json_object_get(r, "content"),
                                                "application/json"), "schema");
    const char *ref = json_string_value(json_object_get(s, "$ref"));
    return ref && strcmp(ref, ERROR_REF) == 0;
}

/* Every "$ref" under v, counting those that do not resolve in doc. */
static size_t dangling_refs(json_t *doc, json_t *v)
{
    size_t bad = 0, i;
    const char *k;
    json_t *x;

    if (json_is_object(v)) {
        json_object_foreach(v, k, x) {
            if (strcmp(k, "$ref") == 0 && json_is_string(x)) {
                if (!resolve(doc, json_string_value(x))) {
                    TAP_FAIL("$ref %s does not resolve", json_string_value(x));
                    bad++;
                }
            } else {
                bad += dangling_refs(doc, x);
            }
        }
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, x)
            bad += dangling_refs(doc, x);
    }
    return bad;
}

/* ---- tests ------------------------------------------------------------------ */

TEST(document)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *info = json_object_get(doc, "info");
    CHECK(json_is_string(json_object_get(info, "title")));
    CHECK(json_is_string(json_object_get(info, "version")));
    CHECK(json_is_object(json_object_get(doc, "paths")));
    /* bearer JWT, required everywhere unless an operation says otherwise */
    json_t *bearer = resolve(doc, "#/components/securitySchemes/bearerAuth");
    CHECK_STR(json_string_value(json_object_get(bearer, "type")), "http");
    CHECK_STR(json_string_value(json_object_get(bearer, "scheme")), "bearer");
    CHECK_STR(json_string_value(json_object_get(bearer, "bearerFormat")), "JWT");
    json_t *sec = json_object_get(doc, "security");
    CHECK(json_array_size(sec) == 1 && json_object_get(json_array_get(sec, 0), "bearerAuth"));
    /* the one error shape */
    json_t *e = resolve(doc, "#/components/schemas/Error/properties/error/properties");
    CHECK(json_object_get(e, "code") && json_object_get(e, "message"));
    CHECK(resolve(doc, "#/components/schemas/Error/properties/error/properties/details/items/"
                       "properties/field") != NULL);
    /* the WebSocket is described, not an HTTP operation */
    CHECK(json_is_object(json_object_get(doc, "x-websocket")));
    CHECK(json_object_get(json_object_get(doc, "paths"), "/api/v1/ws") == NULL);
    CHECK_EQ(dangling_refs(doc, doc), 0);
    json_decref(doc);
}

/* Table -> document. */
TEST(routes_in_document)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    json_t *paths = json_object_get(doc, "paths");
    char m[16], want[512], got[512];

    for (size_t i = 0; i < sb_api__nroutes; i++) {
        const struct sb_route *r = &sb_api__routes[i];
        const char *meth = lower(sb_api__method_name(r->method), m, sizeof(m));
        json_t *op = json_object_get(json_object_get(paths, r->path), meth);
        if (!op) {
            TAP_FAIL("route %s %s has no operation", meth, r->path);
            continue;
        }
        CHECK_STR(json_string_value(json_object_get(op, "operationId")), r->op);
        CHECK_STR(json_string_value(json_object_get(op, "summary")), r->summary);
        CHECK_STR(json_string_value(json_object_get(op, "x-sbems-role")), need_name(r->need));
        json_t *sec = json_object_get(op, "security");
        if (r->need == SB_NEED_PUBLIC && !(json_is_array(sec) && json_array_size(sec) == 0))
            TAP_FAIL("%s is public but does not say security: []", r->op);
        if (r->need != SB_NEED_PUBLIC && sec && json_array_size(sec) == 0)
            TAP_FAIL("%s needs a token but says security: []", r->op);
        /* exactly one: no other document path is the same route by shape */
        size_t same = 0;
        const char *k;
        json_t *item;
        shape(r->path, want, sizeof(want));
        json_object_foreach(paths, k, item) {
            shape(k, got, sizeof(got));
            same += strcmp(want, got) == 0 && json_object_get(item, meth) != NULL;
        }
        if (same != 1)
            TAP_FAIL("route %s %s: %zu operations in the document", meth, r->path, same);
    }
    json_decref(doc);
}

/* Document -> table. */
TEST(document_in_routes)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    const char *path, *k;
    json_t *item, *op;
    size_t nops = 0;

    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, k, op) {
            if (!is_method(k)) {
                if (strcmp(k, "parameters") && strcmp(k, "summary") && strcmp(k, "description"))
                    TAP_FAIL("path %s: unexpected key %s", path, k);
                continue;
            }
            nops++;
            if (strcmp(k, "head") == 0) {
                TAP_FAIL("path %s lists HEAD (GET implies it)", path);
                continue;
            }
            const struct sb_route *r = route_of(path, k);
            if (!r) {
                TAP_FAIL("operation %s %s (%s) is not in the route table", k, path,
                         json_string_value(json_object_get(op, "operationId")) ?: "?");
                continue;
            }
            CHECK_STR(json_string_value(json_object_get(op, "operationId")), r->op);
        }
    }
    CHECK_EQ(nops, sb_api__nroutes);
    json_decref(doc);
}

TEST(path_parameters)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    const char *path, *k;
    json_t *item, *op;
    char name[64], rname[64];

    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, k, op) {
            if (!is_method(k))
                continue;
            const struct sb_route *r = route_of(path, k);
            size_t n = 0;
            for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
                size_t len = strcspn(p + 1, "}");
                snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
                if (!declares(doc, item, op, name))
                    TAP_FAIL("%s %s: path parameter {%s} not declared (in: path, required)", k,
                             path, name);
                /* the router names the same parameter at the same place */
                if (r && (sb_api__param_name(r->path, n, rname, sizeof(rname)) != 0 ||
                          strcmp(rname, name) != 0))
                    TAP_FAIL("%s %s: router has no parameter %zu named %s", k, path, n, name);
                n++;
            }
            /* and no declared path parameter the path lacks */
            size_t i;
            json_t *p;
            json_array_foreach(json_object_get(op, "parameters"), i, p) {
                json_t *d = deref(doc, p);
                const char *in = json_string_value(json_object_get(d, "in"));
                const char *pn = json_string_value(json_object_get(d, "name"));
                char brace[80];
                snprintf(brace, sizeof(brace), "{%s}", pn ? pn : "");
                if (!d || !in || !pn)
                    TAP_FAIL("%s %s: parameter %zu has no name or in", k, path, i);
                else if (strcmp(in, "path") == 0 && !strstr(path, brace))
                    TAP_FAIL("%s %s: declares path parameter %s the path lacks", k, path, pn);
            }
        }
    }
    json_decref(doc);
}

TEST(errors_use_error_schema)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    const char *path, *k, *code;
    json_t *item, *op, *resp;

    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, k, op) {
            if (!is_method(k))
                continue;
            json_t *rs = json_object_get(op, "responses");
            size_t with_error = 0;
            if (json_object_size(rs) == 0)
                TAP_FAIL("%s %s has no responses", k, path);
            json_object_foreach(rs, code, resp) {
                if (!deref(doc, resp))
                    TAP_FAIL("%s %s: response %s does not resolve", k, path, code);
                if (code[0] == '4' && is_error_response(doc, resp))
                    with_error++;
            }
            if (!with_error)
                TAP_FAIL("%s %s: no 4xx answers with %s", k, path, ERROR_REF);
        }
    }
    json_decref(doc);
}

TEST(operation_ids_unique)
{
    json_t *doc = load_doc();
    REQUIRE(doc);
    json_t *seen = json_object();
    const char *path, *k;
    json_t *item, *op;

    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        json_object_foreach(item, k, op) {
            if (!is_method(k))
                continue;
            const char *id = json_string_value(json_object_get(op, "operationId"));
            if (!id) {
                TAP_FAIL("%s %s has no operationId", k, path);
                continue;
            }
            if (json_object_get(seen, id))
                TAP_FAIL("operationId %s used twice", id);
            json_object_set_new(seen, id, json_true());
        }
    }
    json_decref(seen);
    json_decref(doc);
}

/* What the binary serves is the file as it is now (the build embeds it). */
TEST(embedded_copy)
{
    char path[4096];
    size_t len;
    doc_path(path, sizeof(path));
    char *buf = read_all(path, &len);
    REQUIRE(buf);
    size_t elen = (size_t)(sb_openapi_json_end - sb_openapi_json);
    CHECK_EQ(elen, len);
    CHECK(elen == len && memcmp(sb_openapi_json, buf, len) == 0);
    free(buf);
}

int main(void)
{
    TAP_START();
    RUN(document);
    RUN(routes_in_document);
    RUN(document_in_routes);
    RUN(path_parameters);
    RUN(errors_use_error_schema);
    RUN(operation_ids_unique);
    RUN(embedded_copy);
    TAP_END();
}

/*
 * profile.h - the data side of the REST driver: device profiles, point
 * addresses, URL and body templates, and reading values out of responses.
 *
 * A profile (profiles/rest-<name>.json, docs/internals/rest.md) describes
 * one cloud API family: the status request that returns everything about a
 * device, and for each named point the JSON path of its value (with an
 * optional enum map and linear scale) and, for writable points, the request
 * that changes it.  An address binds a point either to a profile point of a
 * configured API ({"api","device","name"}) or to a plain URL and JSON path
 * ({"url","path"}).
 *
 * Everything here is pure: no sockets, clocks or logging, so the fuzzer
 * (fuzz/fuzz_rest.c) drives it directly.  Objects returned by *_parse and
 * *_load are heap objects the caller frees with the matching *_free; strings
 * returned through char ** are malloc'd and the caller frees them.  A parsed
 * profile is immutable and may be shared by any number of threads.
 */
#ifndef SB_REST_PROFILE_H
#define SB_REST_PROFILE_H

#include <jansson.h>
#include <stddef.h>

#define SB_REST_NAME_MAX   64     /* API, profile and point names, bytes */
#define SB_REST_DEVICE_MAX 64     /* device ids, bytes */
#define SB_REST_URL_MAX    2048   /* expanded URLs, bytes */

/* One request template. */
struct sb_rest_tmpl {
    char method[8];               /* "GET", "PUT", "POST", "PATCH", "DELETE" */
    char *url;                    /* "/path/{device}" (relative to base_url) or absolute */
    json_t *body;                 /* JSON body template (placeholders below), or NULL */
};

/* One name <-> number pair of an enumerated point ("heat" <-> 1). */
struct sb_rest_enum {
    char *name;                   /* the API's string */
    double v;                     /* the number sbems stores */
};

/* One point of a profile. */
struct sb_rest_ppoint {
    char *name;                   /* "temperature", "heating_setpoint" */
    char *path;                   /* JSON path in the status document */
    double scale, offset;         /* value = raw * scale + offset (1, 0) */
    struct sb_rest_enum *enums;   /* string values, or NULL */
    size_t nenums;                /* entries in enums */
    struct sb_rest_tmpl *write;   /* how to change it, NULL = read-only */
    struct sb_rest_tmpl *relinquish; /* how to release a command, or NULL */
};

/* A parsed profile. */
struct sb_rest_profile {
    char *name;                   /* "rest-siemens-thermostat" */
    struct sb_rest_tmpl status;   /* the one request that reads a device */
    char *time_path;              /* RFC 3339 / epoch-ms source time, or NULL */
    char *online_path;            /* boolean "device reachable", or NULL */
    char *error_path;             /* where a refusal's reason is, or NULL */
    struct sb_rest_ppoint *points; /* points[npoints] */
    size_t npoints;
};

/* A parsed point address (pt->addr of the rest driver). */
struct sb_rest_addr {
    char api[SB_REST_NAME_MAX + 1];  /* API name; "" for a bare URL */
    char *device;                 /* profile form: device id, else NULL */
    char *name;                   /* profile form: point name, else NULL */
    char *url;                    /* URL form: absolute, or relative to api's base_url */
    char *path;                   /* URL form: JSON path of the value */
    char *time_path;              /* URL form: optional source-time path */
    const struct sb_rest_ppoint *pp; /* set by the driver's bind (borrowed) */
    void *dev;                    /* the driver's device record (borrowed) */
};

/* Parse a profile document.  Unknown members are rejected so that typos
 * surface.  Returns 0 or SB_EINVAL / SB_ENOMEM with err naming the member. */
int  sb_rest_profile_parse(const json_t *doc, struct sb_rest_profile **out,
                           char *err, size_t errlen);
/* Read <dir>/<name>.json (name: [a-z0-9-], no path components) and parse
 * it.  Returns 0, SB_ENOENT, SB_EINVAL or SB_ENOMEM with err filled. */
int  sb_rest_profile_load(const char *dir, const char *name,
                          struct sb_rest_profile **out, char *err, size_t errlen);
void sb_rest_profile_free(struct sb_rest_profile *p);
/* The point called name, or NULL. */
const struct sb_rest_ppoint *sb_rest_profile_point(const struct sb_rest_profile *p,
                                                   const char *name);

/* Parse an address: JSON object text of either form (rest.md).  Returns 0
 * or SB_EINVAL / SB_ENOMEM with err naming the field. */
int  sb_rest_addr_parse(const char *text, size_t len, struct sb_rest_addr **out,
                        char *err, size_t errlen);
void sb_rest_addr_free(struct sb_rest_addr *a);

/* Join base and a template: "{device}" and "{value}" are replaced by their
 * percent-encoded text (RFC 3986 unreserved characters pass as is); value
 * may be NULL when the template has no "{value}".  An absolute template
 * (http:// or https://) ignores base.  Returns 0, SB_EINVAL (unknown
 * placeholder, result over SB_REST_URL_MAX) or SB_ENOMEM. */
int  sb_rest_url(const char *base, const char *tmpl, const char *device,
                 const char *value, char **out);

/* The value of pp in a status document: the JSON value at pp->path,
 * mapped through the enum table or converted to a number, then scaled.
 * Returns 0, SB_ENOENT (missing or null), SB_EPROTO (unmapped string, wrong
 * type) with err filled. */
int  sb_rest_value(const struct sb_rest_ppoint *pp, const json_t *doc, double *v,
                   char *err, size_t errlen);

/* The text that represents value for pp in a URL or body: the enum name,
 * or the unscaled number.  Returns 0, SB_EINVAL (value has no enum name,
 * not finite) with err filled. */
int  sb_rest_value_json(const struct sb_rest_ppoint *pp, double value, json_t **out,
                        char *err, size_t errlen);

/* Build a request body from a template: a string member that is exactly
 * "{value}" becomes the point's JSON value (enum name or number),
 * "{value:int}" an integer, "{value:bool}" true/false; "{device}" inside
 * other strings is replaced by the device id.  *out is compact JSON text.
 * Returns 0, SB_EINVAL (with err) or SB_ENOMEM. */
int  sb_rest_body(const struct sb_rest_ppoint *pp, const json_t *tmpl, const char *device,
                  double value, char **out, char *err, size_t errlen);

/* A peer's reason for refusing a request, from its JSON error body: the
 * string at error_path if given, else the first string among "message",
 * "error.message", "error_description", "error", "detail", "title".
 * Control characters are replaced; the result is cut to cap.  Returns 1
 * when a reason was found, 0 otherwise (out is then ""). */
int  sb_rest_reason(const char *body, size_t len, const char *error_path,
                    char *out, size_t cap);

/* Source time at path in doc: an RFC 3339 string or epoch milliseconds /
 * seconds (numbers below 1e11 are taken as seconds).  Returns 0 or
 * SB_ENOENT / SB_EPROTO. */
int  sb_rest_time(const json_t *doc, const char *path, int64_t *ms);

/* Names: 1..SB_REST_NAME_MAX of [A-Za-z0-9_-]; devices: 1..SB_REST_DEVICE_MAX
 * of RFC 3986 unreserved plus ':' and '@'.  1 when valid. */
int  sb_rest_name_ok(const char *s);
int  sb_rest_device_ok(const char *s);

#endif /* SB_REST_PROFILE_H */

/* conf.c - the MQTT driver's configuration object and point addresses
 * (see mqtt_int.h; formats in docs/internals/mqtt.md).
 *
 * Both are JSON objects read through one option table each (name, type,
 * bounds, where it goes): unknown keys are refused so a typo ("qso") is an
 * error, not a silent default. */
#include <mosquitto.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"

enum ctype {
    C_STR,                      /* string of 1..max bytes */
    C_SECRET,                   /* same; its value never appears in an error */
    C_EMPTYOK,                  /* string of 0..max bytes */
    C_INT,                      /* integer in min..max */
    C_BOOL,                     /* true/false (stored as int 0/1) */
    C_ENUM,                     /* one of names[] (stored as int index) */
    C_OBJ,                      /* nested object of sub[]; off: int set to 1 when present,
                                   or NO_OFF */
    C_SKIP                      /* known key read elsewhere */
};

#define NO_OFF ((size_t)-1)

struct copt {
    const char *name;           /* JSON key */
    enum ctype type;            /* see above */
    size_t off;                 /* where the value goes */
    long long min, max;         /* C_INT bounds; strings: max bytes */
    const struct copt *sub;     /* C_OBJ: its keys (NULL-name terminated) */
    const char *const *names;   /* C_ENUM: the values */
};

#define OFF(m) offsetof(struct sb_mqtt_conf, m)

static const struct copt tls_opts[] = {
    { "ca",       C_STR,  OFF(tls.ca),       0, 4096, NULL, NULL },
    { "cert",     C_STR,  OFF(tls.cert),     0, 4096, NULL, NULL },
    { "key",      C_STR,  OFF(tls.key),      0, 4096, NULL, NULL },
    { "insecure", C_BOOL, OFF(tls.insecure), 0, 1, NULL, NULL },
    { NULL, 0, 0, 0, 0, NULL, NULL }
};

static const struct copt pub_opts[] = {
    { "enabled",    C_BOOL, OFF(publish.enabled),    0, 1, NULL, NULL },
    { "prefix",     C_STR,  OFF(publish.prefix),     0, SB_MQTT_PREFIX_MAX, NULL, NULL },
    { "retain",     C_BOOL, OFF(publish.retain),     0, 1, NULL, NULL },
    { "max_queued", C_INT,  OFF(publish.max_queued), 1, 1000000, NULL, NULL },
    { NULL, 0, 0, 0, 0, NULL, NULL }
};

static const struct copt cmd_opts[] = {
    { "enabled", C_BOOL, OFF(commands.enabled), 0, 1, NULL, NULL },
    { NULL, 0, 0, 0, 0, NULL, NULL }
};

static const struct copt conf_opts[] = {
    { "host",             C_STR,    OFF(host),             0, SB_MQTT_HOST_MAX, NULL, NULL },
    { "port",             C_INT,    OFF(port),             1, 65535, NULL, NULL },
    { "client_id",        C_STR,    OFF(client_id),        0, SB_MQTT_ID_MAX, NULL, NULL },
    { "username",         C_STR,    OFF(username),         0, SB_MQTT_SECRET_MAX, NULL, NULL },
    { "password",         C_SECRET, OFF(password),         0, SB_MQTT_SECRET_MAX, NULL, NULL },
    { "tls",              C_OBJ,    OFF(tls.enabled),      0, 0, tls_opts, NULL },
    { "qos",              C_INT,    OFF(qos),              0, 2, NULL, NULL },
    { "clean_session",    C_BOOL,   OFF(clean_session),    0, 1, NULL, NULL },
    { "keepalive",        C_INT,    OFF(keepalive),        0, 65535, NULL, NULL },
    { "reconnect_min_ms", C_INT,    OFF(reconnect_min_ms), 50, 600000, NULL, NULL },
    { "reconnect_max_ms", C_INT,    OFF(reconnect_max_ms), 50, 3600000, NULL, NULL },
    { "max_payload",      C_INT,    OFF(max_payload),      16, 16 << 20, NULL, NULL },
    { "publish",          C_OBJ,    NO_OFF,                0, 0, pub_opts, NULL },
    { "commands",         C_OBJ,    NO_OFF,                0, 0, cmd_opts, NULL },
    { NULL, 0, 0, 0, 0, NULL, NULL }
};

/* ---- the table reader -------------------------------------------------------------- */

static void list_keys(const struct copt *t, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (; t->name && n < cap; t++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", t->name);
}

static int read_str(const json_t *v, const struct copt *o, const char *path, char **dst,
                    char *err, size_t errlen)
{
    size_t len = json_is_string(v) ? json_string_length(v) : 0;
    if (!json_is_string(v) || len > (size_t)o->max || (len == 0 && o->type != C_EMPTYOK) ||
        strlen(json_string_value(v)) != len) {
        sb_errf(err, errlen, "%s: must be a string of %d..%lld bytes without NUL", path,
                o->type == C_EMPTYOK ? 0 : 1, o->max);
        return SB_ECONFIG;
    }
    free(*dst);
    if (!(*dst = strdup(json_string_value(v))))
        return SB_ENOMEM;
    return 0;
}

static int read_enum(const json_t *v, const struct copt *o, const char *path, int *dst,
                     char *err, size_t errlen)
{
    char all[160];
    for (int i = 0; json_is_string(v) && o->names[i]; i++)
        if (strcmp(json_string_value(v), o->names[i]) == 0) {
            *dst = i;
            return 0;
        }
    size_t n = 0;
    all[0] = '\0';
    for (int i = 0; o->names[i]; i++)
        n += (size_t)snprintf(all + n, sizeof(all) - n, "%s%s", i ? ", " : "", o->names[i]);
    sb_errf(err, errlen, "%s: must be one of %s", path, all);
    return SB_ECONFIG;
}

static int read_obj(const json_t *obj, const struct copt *t, void *base, const char *prefix,
                    char *err, size_t errlen);

static int read_opt(const json_t *v, const struct copt *o, void *base, const char *path,
                    char *err, size_t errlen)
{
    void *dst = o->off == NO_OFF ? NULL : (char *)base + o->off;
    switch (o->type) {
    case C_STR: case C_SECRET: case C_EMPTYOK:
        return read_str(v, o, path, dst, err, errlen);
    case C_INT:
        if (!json_is_integer(v) || json_integer_value(v) < o->min || json_integer_value(v) > o->max) {
            sb_errf(err, errlen, "%s: must be an integer %lld..%lld", path, o->min, o->max);
            return SB_ECONFIG;
        }
        *(int *)dst = (int)json_integer_value(v);
        return 0;
    case C_BOOL:
        if (!json_is_boolean(v)) {
            sb_errf(err, errlen, "%s: must be true or false", path);
            return SB_ECONFIG;
        }
        *(int *)dst = json_is_true(v);
        return 0;
    case C_ENUM:
        return read_enum(v, o, path, dst, err, errlen);
    case C_OBJ:
        if (o->off != NO_OFF)
            *(int *)dst = 1;
        return read_obj(v, o->sub, base, path, err, errlen);
    case C_SKIP:
        return 0;
    }
    return SB_ECONFIG;
}

static int read_obj(const json_t *obj, const struct copt *t, void *base, const char *prefix,
                    char *err, size_t errlen)
{
    const char *k;
    const json_t *v;
    char path[96], keys[320];

    if (!json_is_object(obj)) {
        sb_errf(err, errlen, "%s: must be an object", prefix);
        return SB_ECONFIG;
    }
    json_object_foreach((json_t *)obj, k, v) {
        const struct copt *o = t;
        while (o->name && strcmp(o->name, k) != 0)
            o++;
        if (!o->name) {
            list_keys(t, keys, sizeof(keys));
            sb_errf(err, errlen, "%s: unknown key \"%.40s\" (known: %s)", prefix, k, keys);
            return SB_ECONFIG;
        }
        snprintf(path, sizeof(path), "%s.%s", prefix, k);
        int rc = read_opt(v, o, base, path, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- driver configuration ---------------------------------------------------------- */

int sb_mqtt__topic_ok(const char *t, size_t max)
{
    size_t n = strlen(t);
    return n > 0 && n <= max && mosquitto_pub_topic_check(t) == MOSQ_ERR_SUCCESS &&
           mosquitto_validate_utf8(t, (int)n) == MOSQ_ERR_SUCCESS && t[0] != '/' &&
           t[n - 1] != '/' && !strstr(t, "//") && t[0] != '$';
}

static int file_ok(const char *path, const char *name, int dir_ok, char *err, size_t errlen)
{
    struct stat st;
    if (!path)
        return 0;
    if (stat(path, &st) != 0 || access(path, R_OK) != 0 ||
        !(S_ISREG(st.st_mode) || (dir_ok && S_ISDIR(st.st_mode)))) {
        sb_errf(err, errlen, "mqtt.tls.%s: cannot read %s%.200s", name,
                dir_ok ? "file or directory " : "file ", path);
        return SB_ECONFIG;
    }
    return 0;
}

static int set_defaults(struct sb_mqtt_conf *c)
{
    char host[64] = "localhost", id[SB_MQTT_ID_MAX + 1];
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(id, sizeof(id), "sbems-%s", host);
    *c = (struct sb_mqtt_conf){ .port = 1883, .qos = 1, .keepalive = 30,
                                .reconnect_min_ms = 1000, .reconnect_max_ms = 60000,
                                .max_payload = 256 << 10 };
    c->publish.max_queued = 10000;
    c->host = strdup("127.0.0.1");
    c->client_id = strdup(id);
    c->publish.prefix = strdup("sbems");
    return c->host && c->client_id && c->publish.prefix ? 0 : SB_ENOMEM;
}

static int check_conf(const struct sb_mqtt_conf *c, char *err, size_t errlen)
{
    int rc;
    if (c->keepalive > 0 && c->keepalive < 5) {
        /* libmosquitto refuses 1..4 (MOSQ_ERR_INVAL); 0 turns keepalive off. */
        sb_errf(err, errlen, "mqtt.keepalive: must be 0 or 5..65535 seconds");
        return SB_ECONFIG;
    }
    if (c->reconnect_max_ms < c->reconnect_min_ms) {
        sb_errf(err, errlen, "mqtt.reconnect_max_ms: must be >= reconnect_min_ms");
        return SB_ECONFIG;
    }
    if (c->password && !c->username) {
        /* MQTT 3.1.1 section 3.1.2.9: no password flag without the user name flag. */
        sb_errf(err, errlen, "mqtt.password: needs mqtt.username");
        return SB_ECONFIG;
    }
    if (mosquitto_validate_utf8(c->client_id, (int)strlen(c->client_id)) != MOSQ_ERR_SUCCESS) {
        sb_errf(err, errlen, "mqtt.client_id: must be UTF-8");
        return SB_ECONFIG;
    }
    if (!sb_mqtt__topic_ok(c->publish.prefix, SB_MQTT_PREFIX_MAX)) {
        sb_errf(err, errlen, "mqtt.publish.prefix: must be a topic without wildcards, "
                "empty levels or a leading '$' or '/'");
        return SB_ECONFIG;
    }
    if (!c->tls.cert != !c->tls.key) {
        sb_errf(err, errlen, "mqtt.tls: cert and key go together");
        return SB_ECONFIG;
    }
    if ((rc = file_ok(c->tls.ca, "ca", 1, err, errlen)) ||
        (rc = file_ok(c->tls.cert, "cert", 0, err, errlen)) ||
        (rc = file_ok(c->tls.key, "key", 0, err, errlen)))
        return rc;
    return 0;
}

int sb_mqtt__conf_parse(const json_t *conf, struct sb_mqtt_conf *c, char *err, size_t errlen)
{
    int rc = set_defaults(c);
    if (rc == 0 && conf)
        rc = read_obj(conf, conf_opts, c, "mqtt", err, errlen);
    if (rc == 0)
        rc = check_conf(c, err, errlen);
    if (rc == SB_ENOMEM)
        sb_errf(err, errlen, "mqtt: out of memory");
    return rc;
}

static void wipe_free(char *s)
{
    if (s)
        explicit_bzero(s, strlen(s));
    free(s);
}

void sb_mqtt__conf_release(struct sb_mqtt_conf *c)
{
    free(c->host);
    free(c->client_id);
    wipe_free(c->username);
    wipe_free(c->password);
    free(c->tls.ca);
    free(c->tls.cert);
    free(c->tls.key);
    free(c->publish.prefix);
    memset(c, 0, sizeof(*c));
}

/* ---- point addresses --------------------------------------------------------------- */

#undef OFF
#define OFF(m) offsetof(struct sb_mqtt_addr, m)

static const char *const fmt_names[] = { "number", "json", "sparkplug", NULL };
static const char *const cmdfmt_names[] = { "number", "json", NULL };

/* "alias" is read by hand: a uint64 does not fit the table's int. */
static const struct copt addr_opts[] = {
    { "topic",          C_STR,     OFF(topic),         0, SB_MQTT_TOPIC_MAX, NULL, NULL },
    { "format",         C_ENUM,    OFF(fmt),           0, 0, NULL, fmt_names },
    { "field",          C_EMPTYOK, OFF(field),         0, SB_MQTT_PATH_MAX, NULL, NULL },
    { "time_field",     C_STR,     OFF(time_field),    0, SB_MQTT_PATH_MAX, NULL, NULL },
    { "metric",         C_STR,     OFF(metric),        0, 256, NULL, NULL },
    { "alias",          C_SKIP,    NO_OFF,             0, 0, NULL, NULL },
    { "command_topic",  C_STR,     OFF(command_topic), 0, SB_MQTT_TOPIC_MAX, NULL, NULL },
    { "command_format", C_ENUM,    OFF(cmd_fmt),       0, 0, NULL, cmdfmt_names },
    { "command_retain", C_BOOL,    OFF(cmd_retain),    0, 1, NULL, NULL },
    { NULL, 0, 0, 0, 0, NULL, NULL }
};

static int read_alias(json_t *o, struct sb_mqtt_addr *a, char *err, size_t errlen)
{
    json_t *v = json_object_get(o, "alias");
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        sb_errf(err, errlen, "alias: must be an integer >= 0 (a Sparkplug metric alias)");
        return SB_EINVAL;
    }
    a->alias = (uint64_t)json_integer_value(v);
    a->has_alias = 1;
    return 0;
}

/* Rules between fields, once each has its type. */
static int check_addr(const struct sb_mqtt_addr *a, char *err, size_t errlen)
{
    if (!a->topic || mosquitto_sub_topic_check(a->topic) != MOSQ_ERR_SUCCESS ||
        mosquitto_validate_utf8(a->topic, (int)strlen(a->topic)) != MOSQ_ERR_SUCCESS) {
        sb_errf(err, errlen, "topic: %s", a->topic ? "not a valid MQTT topic filter "
                "(+ and # must fill a whole level, # only last)" : "is required");
        return SB_EINVAL;
    }
    if (a->field && a->fmt != SB_MQTT_FMT_JSON) {
        sb_errf(err, errlen, "field: only for format json");
        return SB_EINVAL;
    }
    if (a->time_field && a->fmt != SB_MQTT_FMT_JSON) {
        sb_errf(err, errlen, "time_field: only for format json (Sparkplug metrics carry their time)");
        return SB_EINVAL;
    }
    if ((a->metric || a->has_alias) != (a->fmt == SB_MQTT_FMT_SPARKPLUG)) {
        sb_errf(err, errlen, a->fmt == SB_MQTT_FMT_SPARKPLUG ? "metric: format sparkplug needs "
                "metric (a name) or alias" : "metric: only for format sparkplug");
        return SB_EINVAL;
    }
    if (a->command_topic && !sb_mqtt__topic_ok(a->command_topic, SB_MQTT_TOPIC_MAX)) {
        sb_errf(err, errlen, "command_topic: must be a topic without wildcards or empty levels");
        return SB_EINVAL;
    }
    return 0;
}

static int parse_json_addr(const char *text, struct sb_mqtt_addr *a, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    int rc, fmt_given;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "address: must be a JSON object {\"topic\": ...}");
        json_decref(o);
        return SB_EINVAL;
    }
    fmt_given = json_object_get(o, "format") != NULL;
    if (!fmt_given && (json_object_get(o, "field") || json_object_get(o, "time_field")))
        a->fmt = SB_MQTT_FMT_JSON;
    else if (!fmt_given && (json_object_get(o, "metric") || json_object_get(o, "alias")))
        a->fmt = SB_MQTT_FMT_SPARKPLUG;
    rc = read_alias(o, a, err, errlen);
    if (rc == 0)
        rc = read_obj(o, addr_opts, a, "address", err, errlen);
    json_decref(o);
    if (rc == SB_ECONFIG) {
        /* "address.topic: ..." -> "topic: ..." (the framework names the point) */
        size_t skip = strncmp(err, "address.", 8) == 0 ? 8 : 0;
        memmove(err, err + skip, strlen(err + skip) + 1);
        rc = SB_EINVAL;
    }
    if (rc == 0)
        rc = check_addr(a, err, errlen);
    if (rc == 0 && a->fmt == SB_MQTT_FMT_JSON && !a->field && !(a->field = strdup("")))
        rc = SB_ENOMEM;
    return rc;
}

int sb_mqtt__addr_parse(const char *text, int is_json, struct sb_mqtt_addr **out,
                        char *err, size_t errlen)
{
    struct sb_mqtt_addr *a = calloc(1, sizeof(*a));
    char perr[160];
    int rc;

    *out = NULL;
    if (!a)
        return SB_ENOMEM;
    if (!text) {
        sb_errf(err, errlen, "address: missing");
        rc = SB_EINVAL;
    } else if (is_json) {
        rc = parse_json_addr(text, a, err, errlen);
    } else {
        rc = (a->topic = strdup(text)) ? check_addr(a, err, errlen) : SB_ENOMEM;
    }
    if (rc == 0 && a->field && sb_mqtt_path_check(a->field, perr, sizeof(perr))) {
        sb_errf(err, errlen, "field: %s", perr);
        rc = SB_EINVAL;
    }
    if (rc == 0 && a->time_field && sb_mqtt_path_check(a->time_field, perr, sizeof(perr))) {
        sb_errf(err, errlen, "time_field: %s", perr);
        rc = SB_EINVAL;
    }
    if (rc) {
        if (rc == SB_ENOMEM)
            sb_errf(err, errlen, "out of memory");
        sb_mqtt__addr_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void sb_mqtt__addr_free(struct sb_mqtt_addr *a)
{
    if (!a)
        return;
    free(a->topic);
    free(a->field);
    free(a->time_field);
    free(a->metric);
    free(a->command_topic);
    free(a);
}

/*
 * profile.c - register-map profiles: JSON files naming the values of a
 * device model (profiles/<name>.json), validated on load so a typo is
 * reported with the file, the entry and the field.  See modbus.h and
 * docs/internals/modbus.md for the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

#define PROFILE_FORMAT "sbems-modbus-profile"

static const char *const top_fields[] = {
    "format", "version", "name", "vendor", "model", "description", "word_order",
    "byte_order", "registers", NULL
};
static const char *const entry_fields[] = {
    "name", "register", "table", "type", "bit", "word_order", "byte_order", "scale", "offset",
    "unit", "writable", "enum", "description", NULL
};

static int known(const json_t *o, const char *const *fields, const char *where,
                 char *err, size_t errlen)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        const char *const *f = fields;
        (void)v;
        while (*f && strcmp(*f, k) != 0)
            f++;
        if (!*f) {
            sb_errf(err, errlen, "%s: unknown field \"%.40s\"", where, k);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* Names of profiles and entries: [a-z0-9][a-z0-9_.-]*, no "..". */
static int slug_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return 0;
    }
    return strstr(s, "..") == NULL;
}

/* Top-level checks: format, version, name, string fields. */
static int check_top(const json_t *root, const char *file, const char *expect,
                     char *err, size_t errlen)
{
    const json_t *f = json_object_get(root, "format"), *v = json_object_get(root, "version");
    const json_t *n = json_object_get(root, "name");
    static const char *const strs[] = { "vendor", "model", "description" };

    if (known(root, top_fields, file, err, errlen))
        return SB_EINVAL;
    if (!json_is_string(f) || strcmp(json_string_value(f), PROFILE_FORMAT) != 0) {
        sb_errf(err, errlen, "%s: field \"format\" must be \"" PROFILE_FORMAT "\"", file);
        return SB_EINVAL;
    }
    if (!json_is_integer(v) || json_integer_value(v) != 1) {
        sb_errf(err, errlen, "%s: field \"version\" must be 1", file);
        return SB_EINVAL;
    }
    if (!json_is_string(n) || !slug_ok(json_string_value(n), SB_MODBUS_NAME_MAX)) {
        sb_errf(err, errlen, "%s: field \"name\" must be a slug ([a-z0-9][a-z0-9_.-]*, < %d bytes)",
                file, SB_MODBUS_NAME_MAX);
        return SB_EINVAL;
    }
    if (expect && strcmp(json_string_value(n), expect) != 0) {
        sb_errf(err, errlen, "%s: field \"name\" is \"%s\" but the file is named for \"%s\"",
                file, json_string_value(n), expect);
        return SB_EINVAL;
    }
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        const json_t *s = json_object_get(root, strs[i]);
        if (s && !json_is_string(s)) {
            sb_errf(err, errlen, "%s: field \"%s\" must be a string", file, strs[i]);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* The entry with the profile's word/byte order defaults filled in (new ref). */
static json_t *with_defaults(const json_t *root, json_t *e)
{
    static const char *const keys[] = { "word_order", "byte_order" };
    json_t *c = json_copy(e);
    for (size_t i = 0; c && i < 2; i++) {
        json_t *d = json_object_get(root, keys[i]);
        if (d && !json_object_get(c, keys[i]) && json_object_set(c, keys[i], d) != 0) {
            json_decref(c);
            return NULL;
        }
    }
    return c;
}

static int parse_entry(const json_t *root, json_t *e, size_t i, const char *file,
                       struct sb_modbus_profile *p, char *err, size_t errlen)
{
    char where[512];
    const json_t *n = json_object_get(e, "name"), *d = json_object_get(e, "description");
    json_t *c = NULL;
    int rc = SB_EINVAL;

    snprintf(where, sizeof where, "%s: registers[%zu]", file, i);
    if (!json_is_object(e)) {
        sb_errf(err, errlen, "%s: must be an object", where);
        return SB_EINVAL;
    }
    if (!json_is_string(n) || !slug_ok(json_string_value(n), SB_MODBUS_NAME_MAX)) {
        sb_errf(err, errlen, "%s: field \"name\" must be a slug ([a-z0-9][a-z0-9_.-]*, < %d bytes)",
                where, SB_MODBUS_NAME_MAX);
        return SB_EINVAL;
    }
    snprintf(where, sizeof where, "%s: registers[%zu] \"%s\"", file, i, json_string_value(n));
    if (sb_modbus_profile_entry(p, json_string_value(n))) {
        sb_errf(err, errlen, "%s: field \"name\": another entry has this name", where);
        return SB_EINVAL;
    }
    if (d && !json_is_string(d)) {
        sb_errf(err, errlen, "%s: field \"description\" must be a string", where);
        return SB_EINVAL;
    }
    if (known(e, entry_fields, where, err, errlen))
        return SB_EINVAL;
    if (!(c = with_defaults(root, e)))
        return SB_ENOMEM;
    rc = sb_modbus_map_parse(c, 1, where, &p->entries[p->n], err, errlen);
    if (rc == 0)
        snprintf(p->entries[p->n++].name, SB_MODBUS_NAME_MAX, "%s", json_string_value(n));
    json_decref(c);
    return rc;
}

static int parse_root(const json_t *root, const char *file, const char *expect,
                      struct sb_modbus_profile *p, char *err, size_t errlen)
{
    const json_t *regs = json_object_get(root, "registers");
    json_t *e;
    size_t i;
    int rc;

    if (!json_is_object(root)) {
        sb_errf(err, errlen, "%s: must be a JSON object", file);
        return SB_EINVAL;
    }
    if ((rc = check_top(root, file, expect, err, errlen)))
        return rc;
    if (!json_is_array(regs) || json_array_size(regs) == 0 ||
        json_array_size(regs) > SB_MODBUS_ENTRIES_MAX) {
        sb_errf(err, errlen, "%s: field \"registers\" must be an array of 1..%d entries", file,
                SB_MODBUS_ENTRIES_MAX);
        return SB_EINVAL;
    }
    snprintf(p->name, sizeof p->name, "%s", json_string_value(json_object_get(root, "name")));
    if (!(p->entries = calloc(json_array_size(regs), sizeof(*p->entries))))
        return SB_ENOMEM;
    json_array_foreach(regs, i, e) {
        if ((rc = parse_entry(root, e, i, file, p, err, errlen)))
            return rc;
    }
    return 0;
}

int sb_modbus_profile_parse(const char *text, size_t len, const char *file,
                            const char *expect_name, struct sb_modbus_profile **out,
                            char *err, size_t errlen)
{
    struct sb_modbus_profile *p = NULL;
    json_error_t je;
    json_t *root = NULL;
    int rc = SB_EINVAL;

    *out = NULL;
    if (len > SB_MODBUS_PROFILE_MAX) {
        sb_errf(err, errlen, "%s: larger than %u bytes", file, SB_MODBUS_PROFILE_MAX);
        goto out;
    }
    if (!(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
        sb_errf(err, errlen, "%s: line %d column %d: %s", file, je.line, je.column, je.text);
        goto out;
    }
    if (!(p = calloc(1, sizeof(*p)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = parse_root(root, file, expect_name, p, err, errlen)))
        goto out;
    *out = p;
    p = NULL;
out:
    sb_modbus_profile_free(p);
    json_decref(root);
    return rc;
}

/* Read all of path (a regular file of at most SB_MODBUS_PROFILE_MAX bytes). */
static int read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
    struct stat st;
    ssize_t r = 0;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc = SB_EIO;

    *buf = NULL;
    if (fd < 0) {
        rc = errno == ENOENT ? SB_ENOENT : SB_EIO;
        sb_errf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > SB_MODBUS_PROFILE_MAX) {
        sb_errf(err, errlen, "%s: not a regular file of at most %u bytes", path,
                SB_MODBUS_PROFILE_MAX);
        rc = SB_EINVAL;
        goto out;
    }
    if (!(*buf = malloc((size_t)st.st_size + 1))) {
        rc = SB_ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size && (r = read(fd, *buf + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)r;
    if (r < 0) {
        sb_errf(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    *len = got;
    rc = 0;
out:
    if (rc) {
        free(*buf);
        *buf = NULL;
    }
    close(fd);
    return rc;
}

int sb_modbus_profile_load(const char *dir, const char *name, struct sb_modbus_profile **out,
                           char *err, size_t errlen)
{
    char path[4096];
    char *buf = NULL;
    size_t len = 0;
    int rc, n;

    *out = NULL;
    if (!slug_ok(name, SB_MODBUS_NAME_MAX)) {
        sb_errf(err, errlen, "profile \"%.64s\": not a profile name ([a-z0-9][a-z0-9_.-]*)", name);
        return SB_EINVAL;
    }
    n = snprintf(path, sizeof path, "%s/%s.json", dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        sb_errf(err, errlen, "profile \"%s\": directory path too long", name);
        return SB_EINVAL;
    }
    if ((rc = read_file(path, &buf, &len, err, errlen)) == 0)
        rc = sb_modbus_profile_parse(buf, len, path, name, out, err, errlen);
    free(buf);
    return rc;
}

const struct sb_modbus_map *sb_modbus_profile_entry(const struct sb_modbus_profile *p,
                                                    const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->entries[i].name, name) == 0)
            return &p->entries[i];
    return NULL;
}

void sb_modbus_profile_free(struct sb_modbus_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        sb_modbus_map_release(&p->entries[i]);
    free(p->entries);
    free(p);
}

/*
 * fuzz_conf.c - libFuzzer target for the configuration file parser and the
 * value parsers of core/conf.
 *
 * Input starting with 0xff: value mode.  The next byte picks an option,
 * the rest (up to a NUL) is its value; a value that parses must format and
 * parse back to the same formatted value.  The size, duration and address
 * helpers and the name suggester see the same bytes.
 * Any other input: a configuration file.  When it loads, its dump must load
 * too and give every option the same value (the dump is a valid file).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

/* Aborts unless a and b give every option the same formatted value. */
static void same_values(const struct sb_config *a, const struct sb_config *b)
{
    static char va[SB_CONF_VALUE_MAX + 1], vb[SB_CONF_VALUE_MAX + 1];

    for (size_t i = 0; i < sb_conf_count(); i++) {
        const struct sb_conf_opt *o = sb_conf_opt_at(i);
        if (sb_conf_opt_format(o, a, va, sizeof va) < 0 ||
            sb_conf_opt_format(o, b, vb, sizeof vb) < 0 || strcmp(va, vb) != 0)
            abort();
    }
}

static void file_mode(const uint8_t *data, size_t size)
{
    struct sb_config c, d;
    char err[512], *out = NULL;
    size_t len = 0;
    FILE *f;

    if (sb_conf_init(&c) != 0)
        return;
    if (sb_conf_load_buf(&c, (const char *)data, size, "fuzz", err, sizeof err) == 0 &&
        (f = open_memstream(&out, &len)) != NULL) {
        sb_conf_dump(&c, f);
        fclose(f);
        if (sb_conf_init(&d) != 0 || sb_conf_load_buf(&d, out, len, "dump", err, sizeof err) != 0)
            abort();
        same_values(&c, &d);
        sb_conf_release(&d);
        free(out);
    }
    sb_conf_release(&c);
}

static void value_mode(const uint8_t *data, size_t size)
{
    const struct sb_conf_opt *o = sb_conf_opt_at(data[1] % sb_conf_count());
    struct sb_config c, d;
    char *v = malloc(size - 1), err[512], host[256], buf[SB_CONF_VALUE_MAX + 1];
    int64_t x;
    uint16_t port;

    memcpy(v, data + 2, size - 2);
    v[size - 2] = '\0';
    sb_conf_parse_size(v, &x);
    sb_conf_parse_duration(v, &x);
    sb_conf_parse_addr(v, host, sizeof host, &port);
    sb_conf_suggest(v);
    if (sb_conf_init(&c) == 0 && sb_conf_init(&d) == 0 &&
        sb_conf_opt_parse(o, &c, v, err, sizeof err) == 0) {
        if (sb_conf_opt_format(o, &c, buf, sizeof buf) < 0 ||
            sb_conf_opt_parse(o, &d, buf, err, sizeof err) != 0)
            abort();
        same_values(&c, &d);
    }
    sb_conf_release(&c);
    sb_conf_release(&d);
    free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 2 && data[0] == 0xff)
        value_mode(data, size);
    else
        file_mode(data, size);
    return 0;
}

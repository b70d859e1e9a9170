/*
 * fuzz_mqtt.c - libFuzzer target for the MQTT driver's parsers of outside
 * bytes: plain-number payloads, JSON payloads with field paths and time
 * fields, Sparkplug B payloads (wire check, decode, metric values, alias
 * learning), Sparkplug topics, command payloads, point addresses and the
 * driver configuration.  Any input gives a value or an error, never a
 * crash, a leak or undefined behaviour.
 *
 * The first byte picks the parser; the rest is its input.  For the path
 * modes the input is "<path>\n<document>" so the fuzzer varies both.
 *
 *     clang -fsanitize=fuzzer,address,undefined -g -Isrc fuzz/fuzz_mqtt.c \
 *         src/drivers/mqtt/{payload,spb,conf,sparkplug_b.pb-c}.c \
 *         src/core/{err,timefmt,tz}.c \
 *         $(pkg-config --cflags --libs libmosquitto libprotobuf-c jansson) -lm
 *     ./a.out -max_total_time=20 fuzz/corpus/mqtt
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/mqtt/mqtt_int.h"
#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/spb.h"

/* A NUL-terminated copy (parsers of topics and addresses take C strings). */
static char *cstr(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, d, n);
        s[n] = '\0';
    }
    return s;
}

static void fuzz_number(const uint8_t *d, size_t n)
{
    double v;
    const char *why = NULL;
    if (sb_mqtt_number_parse((const char *)d, n, &v, &why) == 0 && v != v)
        abort();   /* NaN must never pass */
}

/* "<path>\n<json>": the driver's json format, field then time field. */
static void fuzz_json(const uint8_t *d, size_t n)
{
    const uint8_t *nl = memchr(d, '\n', n);
    size_t plen = nl ? (size_t)(nl - d) : 0;
    char *path = cstr(d, plen), err[160];
    const char *why = NULL;
    json_t *doc = NULL;
    const json_t *j;
    double v;
    int64_t t;

    if (!path)
        return;
    if (sb_mqtt_path_check(path, err, sizeof(err)) == 0 &&
        sb_mqtt_json_load((const char *)d + plen + !!nl, n - plen - !!nl, 1 << 16, &doc, &why) == 0) {
        if (sb_mqtt_path_get(doc, path, &j, &why) == 0) {
            if (sb_mqtt_json_number(j, &v, &why) == 0 && v != v)
                abort();
            sb_mqtt_json_time(j, &t, &why);
        }
        json_decref(doc);
    }
    free(path);
}

static void fuzz_sparkplug(const uint8_t *d, size_t n)
{
    static const char *const topics[] = { "spBv1.0/G/NBIRTH/N", "spBv1.0/G/DBIRTH/N/D",
                                          "spBv1.0/G/DDATA/N/D" };
    struct sb_spb_defs *defs;
    sb_spb_payload *p;
    const char *why;

    if (sb_spb_defs_new(64, &defs))
        return;
    /* The same bytes as a birth (learn), then as data (resolve by alias). */
    for (size_t k = 0; k < 3; k++) {
        struct sb_spb_topic t;
        if (sb_spb_decode(d, n, &p, &why) != 0)
            break;
        sb_spb_topic_parse(topics[k], &t);
        if (k < 2)
            sb_spb_defs_learn(defs, &t, p);
        for (size_t i = 0; i < p->n_metrics; i++) {
            uint32_t type;
            double v;
            int64_t ms;
            sb_spb_defs_resolve(defs, &t, p->metrics[i], &type);
            if (sb_spb_metric_value(p->metrics[i], type, &v, &why) == 0 && v != v)
                abort();
            sb_spb_metric_quality(p->metrics[i]);
            sb_spb_metric_time(p, p->metrics[i], &ms);
        }
        sb_spb_free(p);
    }
    sb_spb_defs_free(defs);
}

static void fuzz_topic(const uint8_t *d, size_t n)
{
    char *s = cstr(d, n), buf[SB_SPB_TOPIC_MAX], f[2][SB_SPB_TOPIC_MAX];
    struct sb_spb_topic t;
    if (!s)
        return;
    if (sb_spb_topic_parse(s, &t) == 0)
        sb_spb_data_topic(&t, buf, sizeof(buf));
    if (strlen(s) < SB_MQTT_TOPIC_MAX)
        sb_spb_birth_filters(s, f);
    free(s);
}

static void fuzz_command(const uint8_t *d, size_t n)
{
    struct sb_mqtt_cmd c = { 0 };
    char id[SB_MQTT_ID_LEN + 1], err[160];
    if (sb_mqtt_cmd_parse(d, n, &c, id, err, sizeof(err)) == 0 &&
        ((c.relinquish && c.value == c.value) || (c.priority && (c.priority < 1 || c.priority > 16))))
        abort();
}

static void fuzz_address(const uint8_t *d, size_t n, int is_json)
{
    char *s = cstr(d, n), err[160];
    struct sb_mqtt_addr *a;
    if (!s)
        return;
    if (sb_mqtt__addr_parse(s, is_json, &a, err, sizeof(err)) == 0)
        sb_mqtt__addr_free(a);
    free(s);
}

static void fuzz_conf(const uint8_t *d, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)d, n, 0, &je);
    struct sb_mqtt_conf c;
    char err[160];
    if (!j)
        return;
    sb_mqtt__conf_parse(j, &c, err, sizeof(err));
    sb_mqtt__conf_release(&c);
    json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    switch (data[0] % 8) {
    case 0: fuzz_number(d, n); break;
    case 1: fuzz_json(d, n); break;
    case 2: fuzz_sparkplug(d, n); break;
    case 3: fuzz_topic(d, n); break;
    case 4: fuzz_command(d, n); break;
    case 5: fuzz_address(d, n, 1); break;
    case 6: fuzz_address(d, n, 0); break;
    default: fuzz_conf(d, n); break;
    }
    return 0;
}

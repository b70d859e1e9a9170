/*
 * fuzz_alert_rule.c - libFuzzer target for alert rules (src/alerts/rule.c).
 *
 * Input: a rule document, optionally followed by a NUL byte and a stream of
 * 16-byte events.  The document must be refused with a message or accepted;
 * an accepted rule must survive to_json -> parse -> to_json unchanged (the
 * canonical-form promise of rule.h).  The events drive feed / tick on the
 * accepted rule, or on a built-in rule of each type when it was refused,
 * with any value (NaN, infinities, huge), times jumping both ways and to the
 * extremes; results must stay in range, events must alternate RAISE / CLEAR
 * with non-decreasing times, and the text must be bounded valid UTF-8.
 * Seeds: fuzz/corpus/alert_rule/ (golden rules, some with events).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts/rule.h"
#include "core/err.h"

static const char *const builtin[] = {
    "{\"id\":\"t\",\"name\":\"T\",\"type\":\"threshold\",\"point\":\"p\",\"severity\":\"major\","
    "\"above\":16,\"below\":10,\"hysteresis\":0.5,\"on_delay_s\":3,\"off_delay_s\":2}",
    "{\"id\":\"r\",\"name\":\"R\",\"type\":\"rate\",\"point\":\"p\",\"severity\":\"minor\","
    "\"max_rise\":2,\"max_fall\":1,\"per_s\":60,\"on_delay_s\":1}",
    "{\"id\":\"s\",\"name\":\"S\",\"type\":\"stale\",\"point\":\"p\",\"severity\":\"info\","
    "\"after_s\":10}",
    "{\"id\":\"o\",\"name\":\"O\",\"type\":\"offline\",\"equipment\":\"e\",\"severity\":\"critical\","
    "\"on_delay_s\":5,\"off_delay_s\":5}",
    "{\"id\":\"c\",\"name\":\"C\",\"type\":\"comfort\",\"zone\":\"z\",\"severity\":\"minor\","
    "\"window_s\":600,\"kh_limit\":0.01,\"message\":\"{value} {above} {below} {point}\"}",
};

static void check_round_trip(const struct sb_arule *a)
{
    struct sb_arule b;
    char *j1 = sb_arule_to_json(a), *j2;

    if (!j1)
        return;         /* out of memory only */
    if (sb_arule_parse(j1, strlen(j1), &b, NULL, 0) != 0 || !sb_arule_equal(a, &b))
        __builtin_trap();
    j2 = sb_arule_to_json(&b);
    if (j2 && strcmp(j1, j2) != 0)
        __builtin_trap();
    free(j1);
    free(j2);
}

static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2
              : (*p & 0xf8) == 0xf0 ? 3 : -1;

        if (n < 0)
            return 0;
        for (p++; n > 0; n--, p++)
            if ((*p & 0xc0) != 0x80)
                return 0;
    }
    return 1;
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t x = 0;

    for (int i = 7; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

/* One event: op, q, dt (int32 ms), 8 bytes of value, band heat, band cool. */
static int run_one(const struct sb_arule *r, struct sb_arule_state *s, const uint8_t *e,
                   int64_t *t, struct sb_arule_event *ev)
{
    uint8_t op = e[0];
    int32_t dt = (int32_t)((uint32_t)e[2] | (uint32_t)e[3] << 8 | (uint32_t)e[4] << 16 |
                           (uint32_t)e[5] << 24);
    uint64_t bits = le64(e + 6);
    struct sb_arule_ctx c = { .offline = op & 4, .occupied = op & 8,
                              .band_heat = e[14] / 4.0, .band_cool = e[15] / 4.0 };
    double v;

    if (op & 16)
        memcpy(&v, &bits, sizeof v);            /* any double: NaN, inf, denormals */
    else
        v = (double)(int32_t)bits / 100.0;
    if (op & 32)
        *t = (int64_t)bits;                      /* jump anywhere, extremes included */
    else if (dt > 0 ? *t <= INT64_MAX - dt : *t >= INT64_MIN - dt)
        *t += dt;                                /* (an overflowing step keeps the time) */
    if (op & 1)
        return sb_arule_tick(r, s, *t, (op & 2) ? NULL : &c, ev);
    return sb_arule_feed(r, s, *t, v, e[1], (op & 2) ? NULL : &c, ev);
}

static void drive(const struct sb_arule *r, const uint8_t *e, size_t n)
{
    struct sb_arule_state s;
    struct sb_arule_event ev;
    int64_t t = 1767571200000LL, last = INT64_MIN;
    int expect = SB_AR_RAISE;

    sb_arule_state_init(&s);
    for (; n >= 16; e += 16, n -= 16) {
        int rc = run_one(r, &s, e, &t, &ev);

        if (rc == SB_AR_NONE)
            continue;
        if (rc != expect || ev.kind != rc || ev.t < last || ev.since > ev.t ||
            strlen(ev.text) >= SB_ARULE_TEXT_MAX || !utf8_ok(ev.text))
            __builtin_trap();
        last = ev.t;
        expect = rc == SB_AR_RAISE ? SB_AR_CLEAR : SB_AR_RAISE;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t jlen = nul ? (size_t)(nul - data) : size;
    struct sb_arule r;
    char err[256] = "";
    int rc = sb_arule_parse((const char *)data, jlen, &r, err, sizeof err);

    if (rc == SB_EINVAL && err[0] == '\0')
        __builtin_trap();       /* a refusal always says why */
    if (rc == 0)
        check_round_trip(&r);
    if (!nul)
        return 0;
    if (rc != 0) {
        size_t k = (size_t)(nul + 1 < data + size ? nul[1] : 0) % 5;

        if (sb_arule_parse(builtin[k], strlen(builtin[k]), &r, NULL, 0) != 0)
            __builtin_trap();
    }
    drive(&r, nul + 1, size - jlen - 1);
    return 0;
}

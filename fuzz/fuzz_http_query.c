/*
 * fuzz_http_query.c - libFuzzer target for the HTTP server's parsers
 * (src/api/http_parse.c): what a client controls before any store read.
 *
 * The input is up to three lines:
 *   1  a request path            -> sb_http__route()
 *   2  a query string, split at '&' as lws does -> sb_http__series_arg()
 *      per fragment, then sb_http__series_finish()
 *   3  a listen address           -> sb_http__parse_listen()
 * and the whole input also goes through the JSON and HTML writers.
 * Properties (a broken one traps): a routed point id is what the path
 * spells; an accepted query has from <= to, 1 <= limit <= 1,000,000, a
 * valid res and kind, and at most 100,000 buckets; a rejected one says why;
 * the JSON string writer emits no raw control byte and ends in a quote.
 * Seeds: fuzz/corpus/http_query/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_int.h"
#include "core/err.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

/* Split [p, end) at the first newline: returns the line, moves p past it. */
static const uint8_t *line(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));

    *len = (size_t)((nl ? nl : end) - s);
    *p = nl ? nl + 1 : end;
    return s;
}

static void check_route(const char *path, size_t len)
{
    static const char pre[] = "/api/v1/points/";
    const size_t pl = sizeof(pre) - 1;
    uint32_t id = 0;
    enum sb_http__route r = sb_http__route(path, len, &id);

    if (r != SB_HTTP_R_LATEST && r != SB_HTTP_R_SERIES)
        return;
    /* The id segment is 1..10 digits whose value is id. */
    uint64_t v = 0;
    size_t n = 0;
    REQUIRE(len > pl && memcmp(path, pre, pl) == 0);
    for (; pl + n < len && path[pl + n] != '/'; n++) {
        REQUIRE(path[pl + n] >= '0' && path[pl + n] <= '9' && n < 10);
        v = v * 10 + (uint64_t)(path[pl + n] - '0');
    }
    REQUIRE(n >= 1 && v == id);
}

static void check_query(const char *q, size_t len)
{
    struct sb_http__series_q sq;
    const char *why = NULL;
    int rc = 0;
    size_t i = 0;

    sb_http__series_init(&sq);
    while (i <= len && rc == 0) {
        const char *amp = memchr(q + i, '&', len - i);
        size_t fl = (size_t)((amp ? amp : q + len) - (q + i));
        if (fl)                        /* lws hands no empty fragment */
            rc = sb_http__series_arg(&sq, q + i, fl, &why);
        i += fl + 1;
    }
    if (rc == 0)
        rc = sb_http__series_finish(&sq, 1795651200000LL, &why);
    if (rc) {
        REQUIRE(why != NULL);
        return;
    }
    REQUIRE(sq.from <= sq.to);
    REQUIRE(sq.limit >= 1 && sq.limit <= SB_HTTP_RAW_MAX);
    REQUIRE((unsigned)sq.res < SB_RES_COUNT && (unsigned)sq.kind < SB_AGG_KIND_COUNT);
    /* Shortest bucket per res: 1 min, 15 min, 1 h, 23 h (DST day), 28 days. */
    static const int64_t shortest[SB_RES_COUNT] = { 0, 60000, 900000, 3600000, 82800000,
                                                    2419200000 };
    REQUIRE(sq.res == SB_RES_RAW ||
            (sq.to - sq.from) / shortest[sq.res] + 1 <= (int64_t)SB_HTTP_BUCKETS_MAX);
}

static void check_writers(const char *s)
{
    struct sb_http__buf b;

    sb_http__buf_init(&b, 1u << 20);
    sb_http__buf_jstr(&b, s);
    REQUIRE(b.err == 0 && b.len >= 2 && b.p[0] == '"' && b.p[b.len - 1] == '"');
    for (size_t i = 0; i < b.len; i++)
        REQUIRE((unsigned char)b.p[i] >= 0x20);
    sb_http__buf_reset(&b);
    sb_http__buf_html(&b, s);
    REQUIRE(b.err == 0 && memchr(b.p ? b.p : "", '<', b.len) == NULL);
    sb_http__buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    size_t l1, l2, l3;
    struct sockaddr_storage ss;

    if (size > 8192)
        return 0;
    const uint8_t *path = line(&p, end, &l1);
    const uint8_t *query = line(&p, end, &l2);
    const uint8_t *listen = line(&p, end, &l3);
    check_route((const char *)path, l1);
    check_query((const char *)query, l2);

    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, listen, l3);
    s[l3] = '\0';
    if (sb_http__parse_listen(s, &ss) == 0)
        REQUIRE(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
    memcpy(s, data, size);
    s[size] = '\0';
    check_writers(s);
    free(s);
    return 0;
}

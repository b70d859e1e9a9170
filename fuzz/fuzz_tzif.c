/*
 * fuzz_tzif.c - libFuzzer target for the TZif parser (core/tz.c).
 *
 * Feeds arbitrary bytes to sb_tz_parse(); whatever parses must then answer
 * lookups without crashing and keep its own contracts: a span contains the
 * instant asked about, and local_to_utc() of a wall clock that exists maps
 * back to it.  Seeds: real zone files in fuzz/corpus/tzif/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tz.h"

/* Instants worth asking about: the input's own bytes pick some, plus fixed
 * ones at the edges of the tables and of the int64 range. */
static int64_t pick(const uint8_t *data, size_t size, size_t i)
{
    static const int64_t fixed[] = {
        0, -1, 1795774620, 2145916800, 7258118400, -5364662400, INT64_MIN, INT64_MAX,
        (int64_t)1 << 56, -((int64_t)1 << 56) - 1,
    };
    uint64_t v = 0;

    if (i < sizeof(fixed) / sizeof(fixed[0]) || size < 8)
        return fixed[i % (sizeof(fixed) / sizeof(fixed[0]))];
    memcpy(&v, data + (i * 7919) % (size - 7), 8);
    return (int64_t)v >> (i % 24);     /* spread over many magnitudes */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_tz *tz = NULL;

    if (sb_tz_parse(data, size, "fuzz", &tz) != 0)
        return 0;
    for (size_t i = 0; i < 24; i++) {
        int64_t t = pick(data, size, i), from, until;
        int32_t off = sb_tz_span(tz, t, &from, &until);
        if (from > t || (until <= t && until != INT64_MAX) || off != sb_tz_offset(tz, t))
            abort();
        if (off < -26 * 3600 || off > 26 * 3600)
            abort();
        if (t > -((int64_t)1 << 58) && t < ((int64_t)1 << 58)) {
            int64_t u = sb_tz_local_to_utc(tz, t + off);
            if (u > t)          /* the earliest instant showing t's wall clock */
                abort();
        }
    }
    sb_tz_free(tz);
    return 0;
}

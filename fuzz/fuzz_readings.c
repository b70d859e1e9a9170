/*
 * fuzz_readings.c - libFuzzer target for the reading parser (CSV long/wide
 * and JSON lines) and RFC 3339 times: any bytes give readings or an error
 * message, never a crash.  The first byte picks the format; the rest is fed
 * line by line like `sbems ingest` does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/parse.h"

static int resolve(void *ud, const char *name, uint32_t *id)
{
    (void)ud;
    size_t n = strlen(name);
    if (n == 0 || n > 40)
        return SB_ENOENT;
    *id = (uint32_t)n;   /* every short name is a point */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sb_reading out[SB_RDPARSE_MAX_COLS];
    struct sb_rdparse *p;
    char err[256];
    int64_t t;

    if (size < 1)
        return 0;
    sb_time_parse((const char *)data + 1, size - 1, &t);
    if (sb_rdparse_new(data[0] & 1 ? SB_RDFMT_JSONL : SB_RDFMT_CSV, resolve, NULL, &p))
        return 0;
    const char *s = (const char *)data + 1, *end = (const char *)data + size;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s), n = 0;
        if (sb_rdparse_line(p, s, len, out, SB_RDPARSE_MAX_COLS, &n, err, sizeof(err)) == 0 &&
            n > SB_RDPARSE_MAX_COLS)
            abort();
        s += len + 1;
    }
    sb_rdparse_free(p);
    return 0;
}

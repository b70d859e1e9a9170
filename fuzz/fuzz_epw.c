/*
 * fuzz_epw.c - libFuzzer target for the EPW weather reader
 * (src/sim/weather/epw.c).
 *
 * Any input must be rejected with a message or accepted; an accepted file
 * must give finite, in-range values everywhere the interpolator reaches.
 * Seeds: fuzz/corpus/epw/ (a full Boston file and small broken variants).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/weather/epw.h"

static struct sb_epw w;     /* fuzzer-local scratch, too big for the stack */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct sb_weather a;

    err[0] = '\0';
    if (sb_epw_parse((const char *)data, size, &w, err, sizeof err) != 0) {
        if (err[0] == '\0')
            __builtin_trap();       /* every rejection explains itself */
        return 0;
    }
    for (double t = -1.0; t < 8761.0; t += 97.3) {
        sb_epw_at(&w, t, &a);
        if (!isfinite(a.tdb) || a.tdb < -70 || a.tdb > 70 || a.ghi < 0 || a.ghi > 1500)
            __builtin_trap();
    }
    return 0;
}

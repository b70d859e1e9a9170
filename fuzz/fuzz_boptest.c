/*
 * fuzz_boptest.c - libFuzzer target for what a BOPTEST service answers
 * (src/control/bop_map.c): the /inputs, /measurements and /forecast_points
 * payloads and a --map document, as one JSON array [inputs, measurements,
 * forecast_points, map].  Zone finding and map loading must refuse with a
 * message or give zones whose every signal exists in the lists; the policy
 * then runs on bounds taken from the input's bytes and must give finite
 * setpoints kept a deadband apart.
 * Seeds: fuzz/corpus/boptest/ (bestest_air's and a two-zone test case's lists).
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/boptest.h"

static void check_map(const struct sb_bop_map *m, const json_t *in, const json_t *me, const json_t *fc)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct sb_bop_zone *z = &m->z[i];
        if (!json_object_get(me, z->temp) || !json_object_get(fc, z->lower) || !json_object_get(fc, z->upper) ||
            (z->heat[0] && !json_object_get(in, z->heat)) || (z->cool[0] && !json_object_get(in, z->cool)) ||
            (!z->heat[0] && !z->cool[0]))
            abort();
    }
}

static void run_policy(const uint8_t *d, size_t n)
{
    struct sb_bop_policy p;
    struct sb_bop_zstate s;
    double lo[16], hi[16], h, c;

    sb_bop_policy_default(&p);
    sb_bop_zstate_init(&s, &p);
    for (size_t step = 0; step + 17 <= n && step < 64 * 17; step += 17) {
        for (int k = 0; k < 16; k++) {
            lo[k] = 280.0 + d[step + k % 8] / 8.0;
            hi[k] = lo[k] + d[step + 8 + k % 8] / 16.0;
        }
        double temp = d[step + 16] == 255 ? NAN : 270.0 + d[step + 16] / 5.0;
        sb_bop_decide(&p, &s, lo, hi, 1 + d[step] % 16, temp, 900, &h, &c);
        if (!isfinite(h) || !isfinite(c) || c - h < p.deadband_k - 1e-9)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *a = json_loadb((const char *)data, size, JSON_DISABLE_EOF_CHECK, NULL);
    struct sb_bop_map *m = malloc(sizeof(*m));
    char why[512];

    if (m && json_is_array(a)) {
        const json_t *in = json_array_get(a, 0), *me = json_array_get(a, 1), *fc = json_array_get(a, 2);
        if (sb_bop_map_find(in, me, fc, m, why, sizeof(why)) == 0)
            check_map(m, in, me, fc);
        else if (!why[0])
            abort();
        const json_t *doc = json_array_get(a, 3);
        if (doc) {
            if (sb_bop_map_load(doc, in, me, fc, m, why, sizeof(why)) == 0)
                check_map(m, in, me, fc);
            else if (!why[0])
                abort();
        }
    }
    run_policy(data, size);
    json_decref(a);
    free(m);
    return 0;
}

/*
 * fuzz_sitejson.c - libFuzzer target for the site document importer
 * (src/model/site_json.c, validate.c, schedule.c, units.c).
 *
 * Any input must be either rejected with messages or accepted; an accepted
 * document must then survive export -> import -> export byte for byte (the
 * canonical-form promise of site_json.h), and a clone must export the same.
 * Seeds: fuzz/corpus/sitejson/ (the example site and a few small documents).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "model/site_json.h"

static void check_round_trip(const struct sb_model *m)
{
    struct sb_model m2, c;
    char *a = NULL, *b = NULL, *x = NULL;

    sb_model_init(&m2);
    sb_model_init(&c);
    if (sb_model_to_json_text(m, &a) != 0)
        return;     /* out of memory only */
    if (sb_model_from_json_text(a, strlen(a), &m2, NULL) != 0)
        __builtin_trap();       /* our own export must import */
    if (sb_model_to_json_text(&m2, &b) != 0 || strcmp(a, b) != 0)
        __builtin_trap();
    if (sb_model_clone(m, &c) != 0 || sb_model_to_json_text(&c, &x) != 0 || strcmp(a, x) != 0)
        __builtin_trap();
    free(a);
    free(b);
    free(x);
    sb_model_release(&m2);
    sb_model_release(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_model m;
    struct sb_model_errs errs;
    int rc;

    sb_model_init(&m);
    sb_model_errs_init(&errs);
    rc = sb_model_from_json_text((const char *)data, size, &m, &errs);
    if (rc == 0)
        check_round_trip(&m);
    else if (rc == SB_EINVAL && errs.total == 0)
        __builtin_trap();       /* a rejection always says why */
    sb_model_release(&m);
    sb_model_errs_release(&errs);
    return 0;
}

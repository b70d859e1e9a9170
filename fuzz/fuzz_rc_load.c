/*
 * fuzz_rc_load.c - libFuzzer target for the RC zone-model loader
 * (src/analytics/rc.c, sb_rc_load): the bytes come from the database.
 *
 * Any input must be either refused with a message or accepted; an
 * accepted model must pass sb_rc_params_check, survive save -> load ->
 * save byte for byte (the saved form is canonical), discretise at its own
 * step and give finite, bounded predictions (an RC network is stable: a
 * loaded model can never blow up the optimizer).
 * Seeds: fuzz/corpus/rc_load/ (saved 2R2C and 3R2C models, a few broken).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/rc.h"
#include "core/err.h"

#define STEPS 48

/* Predicts STEPS steps at the model's step from 20 degC under constant
 * inputs with a comfort band; every value must stay finite and the heat
 * within the capacities. */
static void check_predicts(const struct sb_rc_model *m)
{
    struct sb_rc_disc d;
    double to[STEPS], sol[STEPS], hs[STEPS], cs[STEPS], t[STEPS], q[STEPS], x0[2] = { 20, 20 };
    struct sb_rc_inputs in = { .t_out = to, .solar = sol };

    if (sb_rc_discretize(&m->p, m->dt_s, &d) != 0)
        __builtin_trap();       /* a valid model always discretises */
    for (int k = 0; k < STEPS; k++) {
        to[k] = k % 2 ? -10.0 : 35.0;
        sol[k] = k % 3 ? 0.0 : 800.0;
        hs[k] = 20.0;
        cs[k] = 24.0;
    }
    if (sb_rc_predict_setpoints(&d, x0, &in, hs, cs, STEPS, m->q_heat_max_kw, m->q_cool_max_kw, t, q) != 0)
        __builtin_trap();
    for (int k = 0; k < STEPS; k++)
        if (!isfinite(t[k]) || !(q[k] <= m->q_heat_max_kw) || !(q[k] >= -m->q_cool_max_kw))
            __builtin_trap();
}

static void check_round_trip(const struct sb_rc_model *m)
{
    struct sb_rc_model m2;
    char *a = NULL, *b = NULL;

    if (sb_rc_params_check(&m->p, NULL, 0) != 0)
        __builtin_trap();
    if (sb_rc_save(m, &a) != 0)
        __builtin_trap();       /* what loads must save */
    if (sb_rc_load(a, strlen(a), &m2, NULL, 0) != 0)
        __builtin_trap();       /* our own output must load */
    if (sb_rc_save(&m2, &b) != 0 || strcmp(a, b) != 0)
        __builtin_trap();
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_rc_model m;
    char err[256] = "";
    int rc = sb_rc_load((const char *)data, size, &m, err, sizeof err);

    if (rc == 0) {
        check_round_trip(&m);
        check_predicts(&m);
    } else if (rc != SB_EINVAL || err[0] == '\0') {
        __builtin_trap();       /* a refusal always says why */
    }
    return 0;
}

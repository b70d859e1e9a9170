/*
 * fuzz_forecast_load.c - libFuzzer target for the model loaders of the
 * load forecaster: sb_towt_load (towt.h JSON), sb_gbm_load (gbm.h JSON
 * with an embedded XGBoost model) and sb_fc_load (the forecaster blob,
 * forecast.h).  They parse bytes read back from the database.
 *
 * The first byte picks the loader (0: towt, 1: gbm, else: forecaster), the
 * rest is the document.  Properties: a rejection explains itself; an
 * accepted model saves to a document that loads again and saves to the
 * same bytes; an accepted forecaster forecasts a fixed week without error
 * (XGBoost is reached only through a document whose CRC-32 matches).
 * Seeds: fuzz/corpus/forecast_load/ (saved models of each kind, small).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/forecast.h"
#include "analytics/gbm.h"
#include "analytics/towt.h"
#include "core/err.h"

#define HIST (6 * 168)
#define NH (HIST + 72)

static double y[NH], t[NH];
static uint8_t how[NH], hol[NH];

static void fixed_week(void)
{
    for (int i = 0; i < NH; i++) {
        how[i] = (uint8_t)(i % 168);
        hol[i] = i % 500 == 0;
        t[i] = 8 + 6 * sin(i * 0.26);
        y[i] = i < HIST ? 50 + 20 * (how[i] % 24 > 7 && how[i] % 24 < 18) + (i % 7) : NAN;
    }
}

static void check_towt(const char *doc, size_t len)
{
    struct sb_towt *m = NULL, *m2 = NULL;
    char err[256] = "", *a = NULL, *b = NULL;
    if (sb_towt_load(doc, len, &m, err, sizeof(err))) {
        if (!err[0])
            __builtin_trap();
        return;
    }
    double yh[72];
    if (sb_towt_predict(m, t, how, 72, yh) || sb_towt_save(m, &a) ||
        sb_towt_load(a, strlen(a), &m2, err, sizeof(err)) || sb_towt_save(m2, &b) ||
        strcmp(a, b) != 0)
        __builtin_trap();
    free(a);
    free(b);
    sb_towt_free(m);
    sb_towt_free(m2);
}

static void check_gbm(const char *doc, size_t len)
{
    struct sb_gbm *m = NULL;
    char err[256] = "", *a = NULL;
    if (sb_gbm_load(doc, len, &m, err, sizeof(err))) {
        if (!err[0])
            __builtin_trap();
        return;
    }
    if (sb_gbm_save(m, &a))
        __builtin_trap();
    free(a);
    sb_gbm_free(m);
}

static void check_fc(const char *doc, size_t len)
{
    struct sb_forecaster *f = NULL, *g = NULL;
    char err[256] = "", *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    double pt[72], lo[72], hi[72];
    int model;
    struct sb_load_series s = {y, t, how, hol, NH, 0};

    if (sb_fc_load(doc, len, &f, err, sizeof(err))) {
        if (!err[0])
            __builtin_trap();
        return;
    }
    if (sb_fc_predict(f, &s, HIST, 72, pt, lo, hi, &model, err, sizeof(err)) ||
        model < 0 || model >= SB_FC_NMODELS)
        __builtin_trap();
    if (sb_fc_save(f, &a, &la) || sb_fc_load(a, la, &g, err, sizeof(err)) ||
        sb_fc_save(g, &b, &lb) || la != lb || memcmp(a, b, la) != 0)
        __builtin_trap();
    free(a);
    free(b);
    sb_fc_free(f);
    sb_fc_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!how[1])
        fixed_week();
    const char *doc = (const char *)data + 1;
    switch (data[0]) {
    case 0: check_towt(doc, size - 1); break;
    case 1: check_gbm(doc, size - 1); break;
    default: check_fc(doc, size - 1); break;
    }
    return 0;
}

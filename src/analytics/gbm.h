/*
 * gbm.h - gradient-boosted-tree load forecaster (XGBoost C API), direct
 * multi-horizon: one model whose rows are (origin, horizon) pairs, with the
 * horizon as a feature.
 *
 * Origin and leakage: a forecast from origin o predicts hours o .. o+H-1
 * (horizon h = 1 .. H is hour o+h-1).  Load is read only at indices < o;
 * temperature and calendar are read up to the target hour (the temperature
 * "forecast" for hours >= o is whatever the caller puts in t[]).  Training
 * builds its rows the same way, so no row sees load at or after its origin.
 *
 * Features of the row (o, h), target j = o + h - 1 (all as float, NAN =
 * missing; XGBoost learns a default direction for missing values):
 *   0 hour of week of j, holidays mapped to the same hour of Sunday
 *   1 hour of day of j          2 day of week of j (0 = Monday)
 *   3 holiday flag of j         4 outdoor temperature at j (°C)
 *   5 mean temperature over the 24 h ending at j
 *   6 horizon h                 7 last observed load y[o-1]
 *   8 mean load over [o-24, o)  9 load at the same hour on the latest day
 *                                 before o: y[j - 24 ceil(h/24)]
 *  10 load at the same hour a week before: y[j-168]
 *  11 mean of y[j-168 k], k = 1..4 (the recent weekly profile)
 *  12 mean load over [o-168, o)
 *  13 holiday flag of the day used by feature 9
 *  14 TOWT prediction at j       (stacking only, else NAN)
 *  15 mean of y - TOWT over [o-24, o)  (stacking only: the current anomaly)
 *  16 y[o-1] - TOWT[o-1]          (stacking only)
 *  17 y - TOWT at the hour of feature 9   (stacking only)
 *  18 y - TOWT at j - 168                 (stacking only)
 *  19 mean of y - TOWT over [o-168, o)    (stacking only)
 *  20 temperature at j minus temperature at the hour of feature 9
 *
 * Ownership: a struct sb_gbm is created by sb_gbm_fit or sb_gbm_load and
 * owned by the caller (sb_gbm_free).  Series arrays stay caller-owned.
 * Thread safety: a model may be used by one thread at a time (XGBoost
 * boosters keep prediction caches); distinct models are independent.
 * XGBoost runs with tree_method=hist and nthread=1 (the daemon schedules
 * meters on its own worker; two threads measured 8x slower here).
 */
#ifndef SB_ANALYTICS_GBM_H
#define SB_ANALYTICS_GBM_H

#include <stddef.h>
#include <stdint.h>

#define SB_FC_MAX_HORIZON 72   /* hours; the daemon forecasts 1..72 h ahead */
#define SB_GBM_NFEAT 21

/* An hourly series as the analytics layer sees it (caller-owned arrays,
 * one element per hour, hour i starts at start_utc + 3600 i). */
struct sb_load_series {
    const double  *y;          /* load in kWh per hour; NAN = missing */
    const double  *t;          /* outdoor air temperature, °C; NAN = missing */
    const uint8_t *how;        /* local hour of week 0..167, 0 = Monday 00:00 */
    const uint8_t *hol;        /* 1 = holiday (local calendar); NULL = none */
    size_t         n;          /* hours */
    int64_t        start_utc;  /* UTC seconds at the start of hour 0 */
};

/* What the trees learn; the forecast adds the base back. */
enum sb_gbm_target {
    SB_GBM_TARGET_LOAD = 0,    /* y[j] itself */
    SB_GBM_TARGET_LEVEL = 1,   /* y[j] - mean load over [o-24, o) */
    SB_GBM_TARGET_TOWT = 2,    /* y[j] - TOWT[j] (needs stack_towt) */
    SB_GBM_TARGET_ANOMALY = 3  /* y[j] - TOWT[j] - mean(y - TOWT) over [o-24, o): the trees
                                  learn corrections to "TOWT plus today's anomaly" (stack_towt) */
};

struct sb_gbm_opts {
    int      rounds;               /* boosting rounds; 0 = default */
    int      max_depth;            /* 0 = default */
    double   eta;                  /* learning rate; 0 = default */
    double   subsample;            /* row subsampling per tree; 0 = default */
    double   colsample;            /* column subsampling per tree; 0 = 1 */
    double   min_child_weight;     /* 0 = default */
    double   lambda;               /* L2 on leaf weights; 0 = default */
    int      max_bin;              /* histogram bins per feature (hist); 0 = default */
    int      max_horizon;          /* 1..SB_FC_MAX_HORIZON; 0 = 72 */
    int      origin_stride;        /* hours between training origins; 0 = default */
    int      horizons_per_origin;  /* horizons drawn per origin; 0 = default */
    int      stack_towt;           /* 1 = TOWT predictions are features 14-16 */
    int      target;               /* enum sb_gbm_target */
    uint64_t seed;                 /* row sampling and XGBoost seed; 0 = 1 */
};

struct sb_gbm;   /* opaque */

/* Fills o with the defaults the benchmark chose (tuned on 2018 validation). */
void sb_gbm_defaults(struct sb_gbm_opts *o);

/*
 * Trains on s (cleaned: NAN = excluded).  towt_hat[s->n] are the TOWT
 * predictions for every hour of s (required when o->stack_towt, else
 * ignored; may be NULL).  o NULL = defaults.  Needs at least 2 weeks; rows
 * whose target or temperature is missing are skipped.  *out owns the new
 * model.  Errors: SB_EINVAL with a message in err, SB_ENOMEM, SB_EIO when
 * XGBoost fails (its message in err).
 */
int sb_gbm_fit(const struct sb_load_series *s, const double *towt_hat,
               const struct sb_gbm_opts *o, struct sb_gbm **out, char *err, size_t errlen);

/*
 * Forecasts hours origin .. origin+H-1 of s (H <= the model's
 * max_horizon, origin + H <= s->n, origin >= 1) into yhat[H].  Reads y only
 * below origin.  yhat[k] is NAN when the temperature at the target is
 * missing, or when the target needs the 24-h load level and it is missing
 * (never an invented number).  towt_hat as for fit.  Returns 0, SB_EINVAL,
 * SB_EIO.
 */
int sb_gbm_predict(const struct sb_gbm *m, const struct sb_load_series *s,
                   const double *towt_hat, size_t origin, int H, double *yhat);

/* Options the model was trained with (stack_towt, target, max_horizon...). */
const struct sb_gbm_opts *sb_gbm_opts(const struct sb_gbm *m);

/* The feature row for (origin, h) as the model sees it: x[SB_GBM_NFEAT]
 * (exposed for tests and for explaining a forecast). */
void sb_gbm_features(const struct sb_load_series *s, const double *towt_hat, int stack,
                     size_t origin, int h, float *x);

/*
 * Serialises as a JSON object (new malloc'd string in *json, caller frees):
 * {"format":"sbems-gbm","version":1,"opts":{...},"xgb_size":<bytes>,
 *  "xgb_crc32":<CRC-32 of those bytes>,"xgb_ubj_deflate":"<base64 of the
 *  zlib-deflated XGBoost UBJSON model>"}.  Deflate because the UBJSON of
 * 300 trees is ~1.4 MB and deflates ~3.4x.  sb_gbm_load parses it back,
 * refusing anything malformed (bad base64, a stream that does not inflate
 * to exactly xgb_size bytes (<= 64 MiB), CRC mismatch, options out of
 * range) before XGBoost sees the bytes.
 */
int sb_gbm_save(const struct sb_gbm *m, char **json);
int sb_gbm_load(const char *json, size_t len, struct sb_gbm **out, char *err, size_t errlen);

void sb_gbm_free(struct sb_gbm *m);

#endif /* SB_ANALYTICS_GBM_H */

/*
 * forecast.h - the hourly load forecaster the daemon uses: 1..72 h ahead,
 * per meter, with prediction intervals and a report of how it was chosen.
 *
 * Training (sb_fc_train) on an hourly history:
 *   1. cleans a private copy of the load (analytics/clean.h) and counts
 *      what it excluded;
 *   2. refuses when the data do not suffice ("needs 90 days with >= 90 %
 *      coverage, has 41");
 *   3. rolling-origin backtest on the end of the window: the candidates
 *      (same-hour-yesterday, same-hour-last-week, TOWT, gradient-boosted
 *      trees) are fitted on the window minus its last backtest_days, then
 *      forecast 1..72 h from origins every backtest_stride hours inside
 *      those days, each origin seeing only the load before it;
 *   4. chooses the candidate with the lowest CV(RMSE) over all horizons
 *      (ASHRAE Guideline 14 definitions, analytics/stats.h);
 *   5. calibrates intervals by split conformal prediction on the backtest
 *      residuals r = y - yhat of each model, per horizon bucket, normalised
 *      by a scale known at the origin (locally weighted conformal; Lei et
 *      al. 2018, "Distribution-free predictive inference for regression",
 *      JASA 113:1094, section 5.2):
 *          scale(o) = mean |y[i] - y[i-24]| over the week before o
 *      (the meter's current day-to-day variability, so bands widen in the
 *      seasons when the load is erratic).  The interval is
 *      [yhat + scale q(a/2), yhat + scale q(1 - a/2)], q the empirical
 *      quantiles of r / scale with the split-conformal finite-sample
 *      correction, a = 1 - level; without a scale (less than a week of
 *      history) the unscaled quantiles of r are used.  Coverage is measured
 *      by 2-fold cross-calibration over alternate backtest origins;
 *   6. refits TOWT (always: it is the fallback when recent load is
 *      missing) and the chosen learner on the whole window.
 *
 * Forecasting (sb_fc_predict) from an origin: the caller's series holds the
 * recent history (load known strictly before the origin; at least 4 weeks
 * is best for the lag features) and, for the horizon hours, the
 * temperature forecast and the calendar.  Load at or after the origin is
 * never read.  An hour whose inputs are missing gets NAN, never a number.
 *
 * Units: load in kWh per hour, temperature in °C, times in UTC seconds.
 * Ownership: sb_fc_train / sb_fc_load return a heap forecaster owned by the
 * caller (sb_fc_free); the report inside it lives as long as it does.  All
 * arrays are caller-owned.  A forecaster may be used by one thread at a
 * time (XGBoost's booster caches); distinct forecasters are independent.
 */
#ifndef SB_ANALYTICS_FORECAST_H
#define SB_ANALYTICS_FORECAST_H

#include <stddef.h>
#include <stdint.h>

#include "analytics/clean.h"
#include "analytics/gbm.h"
#include "analytics/towt.h"

/* Candidate models (bit (1u << model) in sb_fc_opts.candidates). */
enum sb_fc_model {
    SB_FC_NAIVE_DAY = 0,   /* y at the same hour of the latest day before the origin */
    SB_FC_NAIVE_WEEK = 1,  /* y at the same hour one week earlier */
    SB_FC_TOWT = 2,        /* time-of-week-and-temperature regression (towt.h) */
    SB_FC_GBM = 3,         /* gradient-boosted trees (gbm.h) */
    SB_FC_NMODELS = 4
};

/* Horizon buckets for statistics and intervals: 1-6, 7-24, 25-48, 49-72 h;
 * index SB_FC_NBUCKETS holds all horizons pooled. */
#define SB_FC_NBUCKETS 4

struct sb_fc_opts {
    int                  min_days;         /* days with >= min_coverage needed; 0 = 90 */
    double               min_coverage;     /* share of a day's hours; 0 = 0.9 */
    double               level;            /* central interval level; 0 = 0.9 */
    int                  backtest_days;    /* 0 = auto: a quarter of the window, 14..182 days */
    int                  backtest_stride;  /* hours between backtest origins; 0 = 13 */
    unsigned             candidates;       /* models to choose from (bits of enum sb_fc_model);
                                              0 = all.  TOWT is scored in any case (fallback) */
    struct sb_clean_opts clean;            /* cleaning rules (zero_is_missing etc.) */
    struct sb_towt_opts  towt;             /* zero = TOWT defaults */
    struct sb_gbm_opts   gbm;              /* zero fields = sb_gbm_defaults */
};

/* Backtest statistics of one model in one horizon bucket. */
struct sb_fc_bucket {
    size_t n;          /* forecast/actual pairs scored */
    double rmse;       /* root mean square error, kWh (p = 0: out of sample) */
    double cvrmse;     /* CV(RMSE), fraction; NAN if n too small */
    double nmbe;       /* NMBE, fraction, > 0 = under-forecast */
    double lo, hi;     /* residual quantiles, kWh: [yhat+lo, yhat+hi] (used without a scale) */
    double slo, shi;   /* quantiles of r / scale(o): [yhat + scale slo, yhat + scale shi] */
    double coverage;   /* cross-calibrated coverage of the scaled interval on the backtest */
};

struct sb_fc_report {
    int                    chosen;              /* enum sb_fc_model */
    double                 level;               /* interval level used */
    int64_t                train_start_utc;     /* window [start, end) */
    int64_t                train_end_utc;
    int64_t                backtest_start_utc;  /* backtest covers [this, train_end) */
    int                    backtest_origins;    /* origins forecast in the backtest */
    struct sb_clean_report clean;               /* what cleaning excluded */
    struct sb_sufficiency  sufficiency;         /* the data-sufficiency test */
    struct sb_fc_bucket    bt[SB_FC_NMODELS][SB_FC_NBUCKETS + 1]; /* n = 0: not a candidate */
    double                 fit_ms_towt;         /* final TOWT fit, wall ms */
    double                 fit_ms_gbm;          /* final GBM fit (0 when not chosen) */
    char                   message[256];        /* refusal reason, or why the model was chosen */
};

struct sb_forecaster;   /* opaque */

/* Fills o with the defaults (the values the benchmark was run with). */
void sb_fc_defaults(struct sb_fc_opts *o);

/* "naive_day", "naive_week", "towt", "gbm" (static), or "?" */
const char *sb_fc_model_name(int model);

/* Lower/upper horizon of bucket b (0..SB_FC_NBUCKETS-1). */
void sb_fc_bucket_range(int b, int *h_lo, int *h_hi);

/*
 * Trains a forecaster on s (s->y is not modified; cleaning works on a
 * copy).  o NULL = defaults.  rep (may be NULL) receives the report, also
 * on refusal (then rep->message says why, e.g. "needs 90 days with >= 90 %
 * coverage, has 41").  Returns 0 with *out owned by the caller, SB_EINVAL
 * (refusal or bad arguments), SB_ENOMEM, SB_EIO (XGBoost failed).
 */
int sb_fc_train(const struct sb_load_series *s, const struct sb_fc_opts *o,
                struct sb_forecaster **out, struct sb_fc_report *rep);

/*
 * Forecasts hours origin .. origin+H-1 (H in 1..72; origin + H <= s->n;
 * origin >= 1).  s->y is read below origin only; s->t, how and hol are read
 * up to origin+H-1 (the temperature forecast goes there).  point, lower,
 * upper: H elements each (lower/upper may be NULL).  *model (may be NULL)
 * gets the model that produced the forecast: the chosen one, or TOWT when
 * the chosen model needs recent load that is missing (fewer than 12 of the
 * 24 hours before the origin, or less than a week of history).  Elements
 * are NAN where an input of that hour is missing.  Returns 0, SB_EINVAL
 * (message in err), SB_EIO.
 */
int sb_fc_predict(const struct sb_forecaster *f, const struct sb_load_series *s, size_t origin,
                  int H, double *point, double *lower, double *upper, int *model, char *err,
                  size_t errlen);

/* The training report (owned by f). */
const struct sb_fc_report *sb_fc_get_report(const struct sb_forecaster *f);

/* The report as a JSON object in a new malloc'd string (caller frees);
 * NAN statistics are written as null. */
int sb_fc_report_json(const struct sb_fc_report *r, char **json);

/*
 * The whole forecaster as ONE blob: a JSON object (UTF-8 text, no NUL
 * inside; *len excludes the terminating NUL that is also written)
 *   {"format":"sbems-forecaster","version":1,
 *    "report":{...sb_fc_report_json...},
 *    "towt":{...towt.h JSON...},
 *    "gbm":{...gbm.h JSON with the XGBoost model base64-embedded...} | null}
 * *blob is malloc'd, caller frees.  sb_fc_load parses exactly that,
 * refusing anything else with a message (it is fed bytes from the database).
 */
int sb_fc_save(const struct sb_forecaster *f, char **blob, size_t *len);
int sb_fc_load(const char *blob, size_t len, struct sb_forecaster **out, char *err,
               size_t errlen);

void sb_fc_free(struct sb_forecaster *f);

/* Result of a drift check. */
struct sb_fc_drift {
    size_t n;                /* pairs used (finite actual and forecast, horizon 1..72) */
    double cvrmse;           /* recent CV(RMSE) of the forecasts */
    double backtest_cvrmse;  /* the backtest's CV(RMSE) of that model, same horizon mix */
    double miss_rate;        /* share of actuals outside the calibrated interval */
    double expected_miss;    /* 1 - level */
    double z;                /* (misses - n a) / sqrt(n a (1 - a)) */
    int    retrain;          /* 1 = the error is beyond the backtest's band */
    char   reason[160];      /* human reason when retrain */
};

/*
 * Is the recent error beyond what the backtest promised?  y[i] the actual,
 * yhat[i] the point forecast made by model (enum sb_fc_model, as returned by
 * sb_fc_predict) at horizon[i] (1..72).  The band used is the unscaled one
 * (bucket lo/hi: the caller need not keep each forecast's scale), so a
 * season more erratic than the backtest also counts as drift.  Retrain
 * when, with at least 48
 * pairs, the interval misses significantly more often than 1 - level
 * (z > 3; the z is optimistic for autocorrelated errors, hence 3 rather
 * than 2) or the CV(RMSE) exceeds 1.5 times the backtest's for the same
 * horizon mix.  Returns 0 or SB_EINVAL.
 */
int sb_fc_drift_check(const struct sb_forecaster *f, int model, const double *y,
                      const double *yhat, const uint8_t *horizon, size_t n,
                      struct sb_fc_drift *d);

#endif /* SB_ANALYTICS_FORECAST_H */

/*
 * mv_int.h - internals shared by mv.c, mv_daily.c and mv_hourly.c (not a
 * public interface; see mv.h).
 */
#ifndef SB_ANALYTICS_MV_INT_H
#define SB_ANALYTICS_MV_INT_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "analytics/mv.h"

struct sb_towt;

#define MV_BASE_DAYS 365          /* CalTRACK 2.2.1.1 / 3.1.3 */
#define MV_MAX_MISSING_DAYS 37    /* CalTRACK 2.2.1.2 */
#define MV_HOURLY_MONTH_COV 0.90  /* CalTRACK 2.2.1.2, hourly */
#define MV_MONTH_DAYS 30.4375     /* mean Gregorian month, for the drift time axis */

struct sb_mv_model {
    enum sb_mv_method method;
    int    gas;
    const struct sb_tz *tz;            /* zone (immutable, outlives the model: sb_tz_get) */
    int64_t *holidays;                 /* owned copy */
    size_t n_holidays;
    struct sb_mv_daily_model daily;    /* SB_MV_DAILY */
    struct sb_towt *towt[SB_MV_MONTHS];/* SB_MV_HOURLY: month models, or [0] alone if single */
    int64_t origin;                    /* start of the baseline: UTC s (hourly) or local day (daily) */
    double block_t[SB_MV_MONTHS];      /* mean time of each block, months since origin */
    double block_n[SB_MV_MONTHS];      /* used intervals in each block */
    struct sb_mv_model_info info;
};

/* Local civil day and hour of day of the hour starting at utc. */
void sb_mv__local(const struct sb_tz *tz, int64_t utc, int64_t *day, int *hour);

/* Calendar month 0..11 of a civil day number. */
int sb_mv__month(int64_t day);

/* 1 when the value counts as a reading (finite, and non-zero for electricity). */
static inline int sb_mv__reading(double v, int gas)
{
    return isfinite(v) && (gas || v != 0);
}

/* Hourly model fit/predict (mv_hourly.c). */
int sb_mv__hourly_fit(struct sb_mv_model *m, const struct sb_mv_input *in, int single,
                      int blocks, char *err, size_t errlen);
int sb_mv__hourly_predict(const struct sb_mv_model *m, const struct sb_mv_input *in,
                          double *yhat);
int sb_mv__hourly_check(const struct sb_mv_input *in, const struct sb_mv_opts *o,
                        struct sb_mv_suff *s);

/* Daily model fit with month blocks (mv_daily.c). */
int sb_mv__daily_fit(struct sb_mv_model *m, const struct sb_mv_input *in,
                     const struct sb_mv_opts *o, int blocks, char *err, size_t errlen);
int sb_mv__daily_check(const struct sb_mv_input *in, int gas, struct sb_mv_suff *s);

/* Leave-one-month-out errors of the daily model on daily input: per calendar
 * month, the sum of (actual - predicted) and the day count. */
int sb_mv__daily_blocks(const struct sb_mv_input *in, const struct sb_mv_opts *o, double *bsum,
                        double *bcnt);

/* Fills info.fit, rho, n_eff, g14, t range, the block statistics and the
 * drift trend from in-sample predictions yhat, the method's own month-out
 * errors (sums and counts) and the whole-year probe's month-out mean errors
 * per interval (mv.c).  The last three may be NULL. */
void sb_mv__finish_info(struct sb_mv_model *m, const struct sb_mv_input *in, const double *y,
                        const double *yhat, const double *blk_sum, const double *blk_cnt,
                        const double *probe);

/* Time of interval i of in, in months since m->origin. */
double sb_mv__months_since(const struct sb_mv_model *m, const struct sb_mv_input *in, size_t i);

#endif /* SB_ANALYTICS_MV_INT_H */

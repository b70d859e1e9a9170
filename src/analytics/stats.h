/*
 * stats.h - goodness-of-fit statistics for energy models, as ASHRAE
 * Guideline 14-2014 (clause 4.3 and annex B) and CalTRACK define them.
 *
 * Pure functions over caller-owned arrays; a pair is used only when both
 * the actual and the predicted value are finite (missing = NAN), so a
 * statistic never silently counts an invented number.
 */
#ifndef SB_ANALYTICS_STATS_H
#define SB_ANALYTICS_STATS_H

#include <stddef.h>

struct sb_fit_stats {
    size_t n;         /* pairs used (both values finite) */
    double mean;      /* mean of the actual values over those pairs */
    double rmse;      /* sqrt(sum e^2 / (n - p)) */
    double cvrmse;    /* rmse / mean, a fraction (0.068 = 6.8 %) */
    double nmbe;      /* sum(y - yhat) / ((n - p) * mean), a fraction; >0 = model under-predicts */
    double r2;        /* 1 - SSres / SStot */
    double mape;      /* mean |e| / y over pairs with y != 0, a fraction */
};

/* Statistics of yhat against y over n elements; p is the number of model
 * parameters (Guideline 14 divides by n - p; use 0 for forecasts scored
 * out of sample).  Returns 0, or SB_EINVAL when fewer than p + 2 pairs are
 * usable or the mean is 0 (CV and NMBE undefined); *st is then zeroed
 * except n. */
int sb_fit_stats(const double *y, const double *yhat, size_t n, int p, struct sb_fit_stats *st);

/* Lag-1 autocorrelation of the residuals y - yhat over consecutive finite
 * pairs (a gap breaks the chain), or 0 when fewer than 3 such pairs. */
double sb_resid_lag1(const double *y, const double *yhat, size_t n);

/* Two-sided Student t quantile: the t with P(|T| < t) = conf for df
 * degrees of freedom (conf in (0,1), df >= 1).  Accurate to 1e-6 for the
 * conf levels M&V uses (0.68..0.99). */
double sb_t_quantile(double conf, double df);

/* The q-quantile (0..1, linear interpolation, Hyndman-Fan type 7) of the
 * finite values of v[n]; sorts a private copy.  NAN when none is finite or
 * on allocation failure. */
double sb_quantile(const double *v, size_t n, double q);

#endif /* SB_ANALYTICS_STATS_H */

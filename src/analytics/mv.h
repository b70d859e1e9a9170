/*
 * mv.h - measurement and verification (M&V) of energy savings: IPMVP
 * Option C (whole facility), with the CalTRACK 2.0 daily and hourly baseline
 * methods, ASHRAE Guideline 14-2014 statistics and savings uncertainty, and
 * a drift-aware uncertainty interval.
 *
 * What it does (docs/internals/analytics-mv.md has the formulas and sources):
 *   1. Data sufficiency of a baseline (CalTRACK 2.2): refusals carry a
 *      message such as "needs 365 days with at most 37 missing (>= 90 %
 *      coverage), has 281 valid days".
 *   2. Baseline models: CalTRACK daily (intercept-only, HDD-only, CDD-only,
 *      HDD+CDD with a balance-point grid search, CalTRACK 3.2-3.4) or
 *      CalTRACK hourly (time-of-week-and-temperature, towt.h, with twelve
 *      three-month weighted month models, CalTRACK 3.7-3.11).
 *   3. Fit statistics (CV(RMSE), NMBE, R^2 with n - p, stats.h) and pass/fail
 *      against Guideline 14's limits for the data's interval.
 *   4. Reporting period: adjusted baseline (baseline model driven by the
 *      reporting period's weather), avoided energy = adjusted baseline -
 *      actual, per interval and in total; savings per measure; normalised
 *      savings on a normal-year temperature series.
 *   5. Uncertainty: Guideline 14 annex B fractional savings uncertainty, and
 *      an "honest" interval built from out-of-sample month-block errors and
 *      the trend of the building's level that the baseline year cannot rule
 *      out, carried across the gap to the reporting period, which the annex
 *      B formula does not see; plus an optional caller-supplied prior for
 *      year-to-year drift that no single baseline year can show.
 *
 * Units: energy in kWh (any energy unit works; results come back in the
 * unit given), temperature in degrees Celsius, time in seconds since
 * 1970-01-01 UTC.  Missing values are NAN.  For electricity, a reading of
 * exactly 0 is also treated as missing (CalTRACK 2.2.1.4); for gas it is a
 * reading.
 *
 * Pure: no I/O, no globals, no logging.  All arrays are owned by the
 * caller; the functions never keep a pointer to them.  A struct sb_mv_model
 * is allocated by sb_mv_fit() and owned by its caller (sb_mv_model_free).
 * The local time zone is passed in as an already-loaded struct sb_tz (the
 * caller loads it; sb_tz_offset() reads only memory).
 *
 * Typical use (the savings endpoint):
 *     struct sb_mv_opts o = { .method = SB_MV_HOURLY, .tz = tz };
 *     rc = sb_mv_savings(&base, &rep, NULL, measures, n_meas, &o,
 *                        adj_baseline, &res, meas_res, NULL, err, sizeof err);
 * (rc == SB_EINVAL: err says why, e.g. the baseline is insufficient), then
 * price adj_baseline and rep.kwh through the tariff: cost savings =
 * tariff(adjusted baseline) - tariff(actual).  For SB_MV_DAILY, roll both
 * periods up to local days first with sb_mv_to_daily; the adjusted baseline
 * is then per day.
 */
#ifndef SB_ANALYTICS_MV_H
#define SB_ANALYTICS_MV_H

#include <stddef.h>
#include <stdint.h>

#include "analytics/stats.h"

struct sb_tz;

#define SB_MV_MONTHS 12
#define SB_MV_MSG 256

/* Baseline method. */
enum sb_mv_method {
    SB_MV_DAILY  = 1,   /* CalTRACK 2.0 daily (section 3a); hourly input is summed to local days */
    SB_MV_HOURLY = 2    /* CalTRACK 2.0 hourly (section 3b); needs hourly input */
};

/* Interval of an input series. */
enum sb_mv_interval {
    SB_MV_HOUR = 3600,
    SB_MV_DAY  = 86400
};

/* A series of consecutive intervals. */
struct sb_mv_input {
    enum sb_mv_interval interval; /* SB_MV_HOUR or SB_MV_DAY */
    int64_t t0;          /* SB_MV_HOUR: UTC seconds at the start of interval 0, a multiple of
                            3600.  SB_MV_DAY: local civil day number of interval 0 (days since
                            1970-01-01 in the building's zone, sb_days_from_civil) */
    size_t n;            /* intervals */
    const double *kwh;   /* n: energy per interval; NAN = missing.  May be NULL for a
                            temperature-only series (normal year) */
    const double *temp_c;/* n: outdoor dry-bulb, °C (SB_MV_DAY: the day's mean); NAN = missing */
};

struct sb_mv_opts {
    enum sb_mv_method method;     /* 0 = SB_MV_DAILY */
    int    gas;                   /* 1 = gas meter: no CDD models (CalTRACK 3.2.1.1) and zero
                                     readings are readings (2.2.1.4) */
    double conf;                  /* two-sided confidence of the intervals; 0 = 0.90 */
    double p_max;                 /* slope significance screen: a HDD/CDD slope must have
                                     p < p_max.  0 = 0.10 (CalTRACK 1.0 / OpenEEmeter 1.x);
                                     >= 1 disables it, as CalTRACK 2.0 appendix 3.4.3.2 does */
    int    hourly_single;         /* SB_MV_HOURLY: 1 = one 365-day model instead of the twelve
                                     month models (CalTRACK 3.7.5.1 / 3.7.5.2) */
    int    no_blocks;             /* 1 = skip the twelve month-out refits: faster, but the
                                     honest interval is then NAN */
    double drift_prior;           /* extra standard deviation of the year-to-year level change,
                                     as a fraction of the adjusted baseline, added to the
                                     honest interval; 0 = use only what the data show */
    const struct sb_tz *tz;       /* building's zone (local days, hours of week, months);
                                     NULL = UTC */
    const int64_t *holidays;      /* local civil day numbers treated as Sundays by the hourly
                                     model (towt.h); may be NULL */
    size_t n_holidays;
};

/* ---- data sufficiency (CalTRACK 2.2) ----------------------------------- */

struct sb_mv_suff {
    int    ok;              /* 1 = sufficient */
    size_t days_span;       /* days in the window */
    size_t days_valid;      /* days with usage and temperature */
    double coverage;        /* days_valid / 365 (daily) or the worst month's hourly coverage */
    int    worst_month;     /* hourly: calendar month 1..12 with the lowest coverage */
    char   msg[SB_MV_MSG];  /* why not, or "" */
};

/* Checks a baseline for the method in o (the same rules sb_mv_fit applies):
 * daily - 365 days (CalTRACK 2.2.1.1) with at most 37 missing (2.2.1.2);
 * hourly - 365 days and more than 90 % of hours in every calendar month
 * (2.2.1.2: each month model needs its month and both neighbours).
 * Returns 0 (then read s->ok) or SB_EINVAL for malformed input. */
int sb_mv_check(const struct sb_mv_input *base, const struct sb_mv_opts *o, struct sb_mv_suff *s);

/* Fills temperature gaps of at most 6 consecutive hours by linear
 * interpolation, in place (CalTRACK 2.2.4.1); longer gaps stay NAN.
 * Returns the number of hours filled. */
size_t sb_mv_fill_temp(double *temp_c, size_t n);

/* Sums an hourly series to local days (CalTRACK 2.2.2): a day with more
 * than 50 % of its hours missing is missing, otherwise its missing hours are
 * filled with the mean of its present hours (2.2.2.1); likewise the daily
 * mean temperature (2.2.2.3).  kwh_day/temp_day have room for cap days;
 * *day0 and *ndays describe the result.  in->kwh may be NULL (kwh_day is
 * then all NAN).  Returns 0, SB_EINVAL, or SB_ENOSPC if cap is too small. */
int sb_mv_to_daily(const struct sb_mv_input *in, const struct sb_tz *tz, int gas,
                   double *kwh_day, double *temp_day, size_t cap, int64_t *day0, size_t *ndays);

/* ---- CalTRACK daily model ---------------------------------------------- */

enum sb_mv_kind {              /* CalTRACK 3.4.3.1 */
    SB_MV_INTERCEPT = 0,
    SB_MV_HDD       = 1,
    SB_MV_CDD       = 2,
    SB_MV_HDD_CDD   = 3
};

struct sb_mv_daily_model {
    enum sb_mv_kind kind;
    double mu;            /* intercept: base load, kWh/day */
    double beta_h;        /* kWh/day per heating degree-day (K·day); 0 if unused */
    double beta_c;        /* kWh/day per cooling degree-day (K·day); 0 if unused */
    double tb_h;          /* heating balance point, °C; NAN if unused */
    double tb_c;          /* cooling balance point, °C; NAN if unused */
    double t_h, t_c;      /* t statistics of the slopes (NAN if unused) */
    double r2_adj;        /* adjusted R^2 (CalTRACK 3.4.3.3; 0 for intercept-only) */
    int    n_params;      /* 1 + number of slopes */
    size_t n_days;        /* days used */
    int    n_candidates;  /* candidate models fitted */
    int    n_qualified;   /* of which qualified */
};

/* Fits the CalTRACK daily model to n days (use in kWh/day, tmean in °C;
 * a day with either missing is left out).  No sufficiency check (use
 * sb_mv_check); fails with a message only when no candidate qualifies. */
int sb_mv_daily_fit(const double *use, const double *tmean, size_t n, const struct sb_mv_opts *o,
                    struct sb_mv_daily_model *m, char *err, size_t errlen);

/* Usage per day the model predicts at daily mean temperature t (NAN if t is). */
double sb_mv_daily_eval(const struct sb_mv_daily_model *m, double t);

/* ---- baseline model ---------------------------------------------------- */

struct sb_mv_model;   /* opaque */

/* Guideline 14-2014 limits for the data's interval and the verdict. */
struct sb_mv_g14 {
    double cv_max;        /* CV(RMSE) limit, fraction: 0.30 hourly, 0.15 monthly; daily uses
                             the hourly limits (Guideline 14 gives none for days) */
    double nmbe_max;      /* |NMBE| limit, fraction: 0.10 hourly, 0.05 monthly */
    int    pass;          /* CV(RMSE) <= cv_max and |NMBE| <= nmbe_max */
};

struct sb_mv_model_info {
    enum sb_mv_method method;
    int    single;                 /* hourly: 1 = one 365-day model */
    struct sb_mv_daily_model daily;/* SB_MV_DAILY: the selected model */
    int    n_params;               /* p of Guideline 14's n - p */
    struct sb_fit_stats fit;       /* in-sample, per interval of the method */
    struct sb_mv_g14 g14;
    double rho;                    /* lag-1 autocorrelation of the residuals */
    double n_eff;                  /* n' = n (1 - rho) / (1 + rho), rho clamped to >= 0 */
    double t_min, t_max;           /* baseline temperature range, °C */
    int    n_blocks;               /* months with an out-of-sample error (0 = not computed) */
    double block_err[SB_MV_MONTHS];/* per calendar month: out-of-sample mean error per
                                      interval, kWh (actual - predicted); NAN = none */
    double block_rms;              /* root mean square of block_err, kWh per interval */
    double block_cv;               /* block_rms / mean use per interval */
    double probe_err[SB_MV_MONTHS];/* per calendar month: month-out mean error per interval of
                                      the whole-year daily model (the drift probe), kWh */
    double drift_slope;            /* trend of probe_err over the baseline, kWh per interval
                                      per month (NAN = not computed) */
    double drift_se;               /* its standard error */
};

/* Checks sufficiency, then fits the baseline model of o->method to base.
 * On success *out owns a new model.  SB_EINVAL with a message in err when
 * the data are insufficient or no model qualifies; SB_ENOMEM. */
int sb_mv_fit(const struct sb_mv_input *base, const struct sb_mv_opts *o,
              struct sb_mv_model **out, char *err, size_t errlen);

/* As sb_mv_fit, without the sufficiency check (the benchmark's and the
 * normalised-savings reporting-period fits use it). */
int sb_mv_fit_unchecked(const struct sb_mv_input *base, const struct sb_mv_opts *o,
                        struct sb_mv_model **out, char *err, size_t errlen);

void sb_mv_model_free(struct sb_mv_model *m);

/* Copies the model's description and statistics into *info. */
void sb_mv_model_info(const struct sb_mv_model *m, struct sb_mv_model_info *info);

/* Predicts energy per interval for the intervals of in (in->kwh is ignored)
 * into yhat[in->n]: NAN where the temperature is missing.  A daily model
 * needs daily input; an hourly model accepts hourly input only.
 * Returns 0 or SB_EINVAL. */
int sb_mv_predict(const struct sb_mv_model *m, const struct sb_mv_input *in, double *yhat);

/* ---- reporting period -------------------------------------------------- */

/* A measure tagged with its start; the caller keeps names by index. */
struct sb_mv_measure {
    int64_t start;        /* UTC seconds; for daily series the local day containing it */
};

struct sb_mv_result {
    size_t n;             /* reporting intervals */
    size_t n_used;        /* with actual and adjusted baseline both known (CalTRACK 3.5) */
    double baseline;      /* sum of the adjusted baseline over used intervals, kWh */
    double actual;        /* sum of actual use over used intervals, kWh */
    double avoided;       /* baseline - actual, kWh (CalTRACK 1.4.5, 3.6.1, 3.12.1) */
    double frac;          /* avoided / baseline */
    double conf;          /* confidence level of both intervals */
    double g14_half;      /* Guideline 14 annex B half-width, kWh: avoided +- g14_half */
    double g14_fsu;       /* g14_half / |avoided| (fractional savings uncertainty) */
    double honest_half;   /* drift-aware half-width, kWh (NAN if opts.no_blocks) */
    double sd_block;      /* its month-block part (one standard deviation), kWh */
    double sd_drift;      /* its within-baseline trend part, kWh */
    double sd_prior;      /* its opts.drift_prior part, kWh */
    int    temp_outside;  /* 1 = reporting temperatures leave the baseline range by more than
                             10 % of it (CalTRACK 3.7.5.2): extrapolation */
};

struct sb_mv_measure_result {
    size_t first;         /* first reporting interval attributed to the measure */
    size_t count;         /* intervals attributed (from its start to the next measure's) */
    struct sb_mv_result r;/* the window's totals and intervals */
};

/*
 * Drives the baseline model with the reporting period's weather.
 * adj_baseline[rep->n] (may be NULL) receives the adjusted baseline per
 * interval (NAN where the temperature is missing); avoided per interval is
 * adj_baseline - rep->kwh.  Totals count only intervals where both are
 * known.  Measures (sorted or not; n_meas may be 0) get the intervals from
 * their start up to the next measure's start; intervals before the first
 * start belong to none (meas_res[] has n_meas entries, in the caller's
 * order).  Returns 0, SB_EINVAL (interval mismatch, bad input), SB_ENOMEM.
 */
int sb_mv_report(const struct sb_mv_model *m, const struct sb_mv_input *rep,
                 const struct sb_mv_opts *o, const struct sb_mv_measure *meas, size_t n_meas,
                 double *adj_baseline, struct sb_mv_result *res,
                 struct sb_mv_measure_result *meas_res, char *err, size_t errlen);

/* Normalised savings (IPMVP "normalised savings"): baseline and reporting
 * models both driven by a normal-year temperature series (e.g. TMY). */
struct sb_mv_normalised {
    double baseline;      /* baseline model on the normal year, kWh */
    double reporting;     /* reporting model on the normal year, kWh */
    double savings;       /* baseline - reporting */
    double frac;          /* savings / baseline */
    size_t n_used;        /* normal-year intervals with both predictions */
};

int sb_mv_normalise(const struct sb_mv_model *base, const struct sb_mv_model *post,
                    const struct sb_mv_input *normal, struct sb_mv_normalised *out);

/*
 * The whole endpoint in one call: checks and fits the baseline (switching
 * an hourly fit to one 365-day model when the reporting temperatures leave
 * the baseline's range, CalTRACK 3.7.5.2), reports, and when normal is not
 * NULL fits a reporting-period model (no sufficiency check other than the
 * fit's own) and computes normalised savings into *norm (zeroed and its
 * n_used 0 when the reporting period cannot support a model).  Arguments as
 * in sb_mv_report.
 */
int sb_mv_savings(const struct sb_mv_input *base, const struct sb_mv_input *rep,
                  const struct sb_mv_input *normal, const struct sb_mv_measure *meas,
                  size_t n_meas, const struct sb_mv_opts *o, double *adj_baseline,
                  struct sb_mv_result *res, struct sb_mv_measure_result *meas_res,
                  struct sb_mv_normalised *norm, char *err, size_t errlen);

/* ---- formulas (exposed for tests and for callers' own reports) -------- */

/* Guideline 14-2014 annex B fractional savings uncertainty:
 *   FSU = t * 1.26 * cv * sqrt((n / n') * (1 + 2 / n') * (1 / m)) / F,
 *   n' = n (1 - rho) / (1 + rho)   (rho clamped to [0, 0.99])
 * cv = CV(RMSE) of the baseline model (fraction), n baseline points, m
 * reporting points, F savings fraction, t the Student t for the confidence
 * wanted.  Returns NAN when F == 0 or an argument is out of range. */
double sb_mv_fsu(double t, double cv, double n, double rho, double m, double F);

/* Guideline 14 calibration limits for data of interval_s seconds
 * (<= 3600: hourly; otherwise monthly; daily uses the hourly limits). */
struct sb_mv_g14 sb_mv_g14_limits(int interval_s, double cvrmse, double nmbe);

#endif /* SB_ANALYTICS_MV_H */

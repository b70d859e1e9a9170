/*
 * towt.h - the LBNL time-of-week-and-temperature (TOWT) regression
 * (Mathieu, Price, Kiliccote and Piette 2011, "Quantifying changes in
 * building electricity use, with application to demand response", IEEE
 * Trans. Smart Grid 2(3):507-518), which CalTRACK 2.0 adopted as its hourly
 * baseline model.
 *
 * Load is modelled as one coefficient per hour of the week plus a piecewise-
 * linear function of outdoor temperature (knots in °C); hours of the week
 * the data shows to be "occupied" get their own temperature slopes.
 *
 * Pure: no I/O, no globals.  Inputs are caller-owned arrays with one element
 * per hour; the model is owned by the caller of sb_towt_fit/sb_towt_load and
 * released with sb_towt_free.  Hour of week is local time, 0 = Monday
 * 00:00-01:00 ... 167 = Sunday 23:00; callers map a holiday to the same hour
 * of Sunday (the building's calendar says what a holiday is).
 */
#ifndef SB_ANALYTICS_TOWT_H
#define SB_ANALYTICS_TOWT_H

#include <stddef.h>
#include <stdint.h>

#define SB_TOWT_MAX_KNOTS 8

struct sb_towt_opts {
    int    n_knots;                     /* 0 = the default knots */
    double knots[SB_TOWT_MAX_KNOTS];    /* ascending, °C */
    int    no_occupancy;                /* 1 = one set of temperature slopes for all hours */
    double occ_threshold;               /* share of positive residuals marking an hour occupied; 0 = 0.65 */
};

struct sb_towt;   /* opaque model */

/*
 * Fits the model to n hours: y[i] the load (NAN = missing: the hour is left
 * out), t[i] the outdoor temperature in °C (NAN = missing: left out),
 * how[i] the local hour of the week, w[i] a non-negative weight per hour or
 * NULL for 1 (CalTRACK's month weighting uses it).  o may be NULL.
 * On success *out owns a new model.  Returns SB_EINVAL with a message in
 * err (e.g. "needs at least 2 usable hours for every hour of the week,
 * hour 36 has 1") when the data cannot support the model.
 */
int sb_towt_fit(const double *y, const double *t, const uint8_t *how, const double *w, size_t n,
                const struct sb_towt_opts *o, struct sb_towt **out, char *err, size_t errlen);

/* Predicts yhat[i] for n hours (NAN where t[i] is NAN). Returns 0 or SB_EINVAL. */
int sb_towt_predict(const struct sb_towt *m, const double *t, const uint8_t *how, size_t n,
                    double *yhat);

/* Number of fitted parameters (for Guideline 14's n - p). */
int sb_towt_nparams(const struct sb_towt *m);

/* Serialises the model as a JSON object into a new malloc'd string (*json,
 * caller frees). sb_towt_load parses what sb_towt_save wrote, refusing
 * anything else with a message. */
int sb_towt_save(const struct sb_towt *m, char **json);
int sb_towt_load(const char *json, size_t len, struct sb_towt **out, char *err, size_t errlen);

void sb_towt_free(struct sb_towt *m);

#endif /* SB_ANALYTICS_TOWT_H */

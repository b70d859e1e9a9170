/*
 * stats.c - Guideline 14 fit statistics, residual autocorrelation, the
 * Student t quantile and empirical quantiles (stats.h).
 */
#include "analytics/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

int sb_fit_stats(const double *y, const double *yhat, size_t n, int p, struct sb_fit_stats *st)
{
    double sy = 0, sres = 0, sres2 = 0, sape = 0;
    size_t k = 0, nape = 0;

    memset(st, 0, sizeof(*st));
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(yhat[i]))
            continue;
        double e = y[i] - yhat[i];
        sy += y[i];
        sres += e;
        sres2 += e * e;
        if (y[i] != 0) {
            sape += fabs(e / y[i]);
            nape++;
        }
        k++;
    }
    st->n = k;
    if (p < 0 || k < (size_t)p + 2 || sy == 0)
        return SB_EINVAL;
    st->mean = sy / (double)k;
    double dof = (double)k - p;
    st->rmse = sqrt(sres2 / dof);
    st->cvrmse = st->rmse / st->mean;
    st->nmbe = sres / (dof * st->mean);
    st->mape = nape ? sape / (double)nape : NAN;

    double sst = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(yhat[i]))
            continue;
        double d = y[i] - st->mean;
        sst += d * d;
    }
    st->r2 = sst > 0 ? 1.0 - sres2 / sst : NAN;
    return 0;
}

double sb_resid_lag1(const double *y, const double *yhat, size_t n)
{
    double num = 0, den = 0, mean = 0;
    size_t k = 0, pairs = 0;

    for (size_t i = 0; i < n; i++) {
        if (isfinite(y[i]) && isfinite(yhat[i])) {
            mean += y[i] - yhat[i];
            k++;
        }
    }
    if (k < 3)
        return 0;
    mean /= (double)k;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(yhat[i]))
            continue;
        double e = y[i] - yhat[i] - mean;
        den += e * e;
        if (i > 0 && isfinite(y[i - 1]) && isfinite(yhat[i - 1])) {
            num += e * (y[i - 1] - yhat[i - 1] - mean);
            pairs++;
        }
    }
    if (pairs < 2 || den <= 0)
        return 0;
    return num / den;
}

/* Regularised incomplete beta I_x(a, b) by the Lentz continued fraction
 * (Numerical Recipes' betacf form); the t CDF is built on it. */
static double betacf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1), h;

    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    h = d;
    for (int m = 1; m <= 300; m++) {
        double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        c = 1 + aa / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        c = 1 + aa / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-14)
            break;
    }
    return h;
}

static double ibeta(double a, double b, double x)
{
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2))
        return exp(lbt) * betacf(a, b, x) / a;
    return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

/* P(|T| < t) for Student's t with df degrees of freedom. */
static double t_two_sided(double t, double df)
{
    return 1 - ibeta(df / 2, 0.5, df / (df + t * t));
}

double sb_t_quantile(double conf, double df)
{
    if (!(conf > 0 && conf < 1) || !(df >= 1))
        return NAN;
    double lo = 0, hi = 1;
    while (t_two_sided(hi, df) < conf && hi < 1e6)
        hi *= 2;
    for (int i = 0; i < 200 && hi - lo > 1e-9; i++) {
        double mid = (lo + hi) / 2;
        if (t_two_sided(mid, df) < conf)
            lo = mid;
        else
            hi = mid;
    }
    return (lo + hi) / 2;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_quantile(const double *v, size_t n, double q)
{
    size_t k = 0;
    double *c = malloc((n ? n : 1) * sizeof(*c));
    double r = NAN;

    if (!c)
        return NAN;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]))
            c[k++] = v[i];
    if (k > 0) {
        qsort(c, k, sizeof(*c), cmp_double);
        double h = (double)(k - 1) * (q < 0 ? 0 : q > 1 ? 1 : q);
        size_t lo = (size_t)floor(h);
        size_t hi = lo + 1 < k ? lo + 1 : lo;
        r = c[lo] + (h - (double)lo) * (c[hi] - c[lo]);
    }
    free(c);
    return r;
}

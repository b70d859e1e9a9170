/*
 * test_stats.c - Guideline 14 fit statistics, residual autocorrelation, the
 * Student t quantile (against printed table values) and empirical quantiles.
 */
#include <math.h>

#include "analytics/stats.h"
#include "core/err.h"
#include "tap.h"

TEST(fit_stats_by_hand)
{
    /* y = 10, 12, 14, 16; yhat = 11, 11, 15, 15: e = -1, 1, -1, 1. */
    double y[] = { 10, 12, 14, 16, NAN, 5 }, yh[] = { 11, 11, 15, 15, 3, NAN };
    struct sb_fit_stats s;
    CHECK_EQ(sb_fit_stats(y, yh, 6, 0, &s), 0);
    CHECK_EQ(s.n, 4);                         /* pairs with a NaN are left out */
    CHECK_DBL(s.mean, 13, 1e-12);
    CHECK_DBL(s.rmse, 1, 1e-12);
    CHECK_DBL(s.cvrmse, 1.0 / 13, 1e-12);
    CHECK_DBL(s.nmbe, 0, 1e-12);
    CHECK_DBL(s.r2, 1 - 4.0 / 20, 1e-12);     /* SStot = 9+1+1+9 */
    CHECK_DBL(s.mape, (0.1 + 1.0 / 12 + 1.0 / 14 + 1.0 / 16) / 4, 1e-12);
    /* Guideline 14 divides by n - p. */
    CHECK_EQ(sb_fit_stats(y, yh, 6, 2, &s), 0);
    CHECK_DBL(s.rmse, sqrt(4.0 / 2), 1e-12);
    /* A bias: yhat 1 low everywhere -> NMBE = +1/mean. */
    double yl[] = { 9, 11, 13, 15 };
    CHECK_EQ(sb_fit_stats(y, yl, 4, 0, &s), 0);
    CHECK_DBL(s.nmbe, 1.0 / 13, 1e-12);
    /* Too few pairs, zero mean. */
    CHECK_EQ(sb_fit_stats(y, yh, 6, 3, &s), SB_EINVAL);
    double z[] = { -1, 1, -1, 1 };
    CHECK_EQ(sb_fit_stats(z, yh, 4, 0, &s), SB_EINVAL);
}

TEST(lag1)
{
    double y[200], yh[200];
    for (int i = 0; i < 200; i++) {
        yh[i] = 0;
        y[i] = (i % 2) ? 1 : -1;              /* alternating: rho near -1 */
    }
    CHECK(sb_resid_lag1(y, yh, 200) < -0.95);
    for (int i = 0; i < 200; i++)
        y[i] = (i / 20) % 2 ? 1 : -1;         /* long runs: rho near +1 */
    CHECK(sb_resid_lag1(y, yh, 200) > 0.85);
    CHECK_DBL(sb_resid_lag1(y, yh, 2), 0, 0);
}

TEST(t_quantile_table)
{
    /* Two-sided critical values from any t table. */
    CHECK_DBL(sb_t_quantile(0.90, 1), 6.3138, 1e-3);
    CHECK_DBL(sb_t_quantile(0.90, 10), 1.8125, 1e-4);
    CHECK_DBL(sb_t_quantile(0.95, 30), 2.0423, 1e-4);
    CHECK_DBL(sb_t_quantile(0.99, 5), 4.0321, 1e-3);
    CHECK_DBL(sb_t_quantile(0.68, 1e6), 0.9945, 1e-3);
    CHECK_DBL(sb_t_quantile(0.90, 1e6), 1.6449, 1e-4);
    CHECK(isnan(sb_t_quantile(1.0, 10)));
    CHECK(isnan(sb_t_quantile(0.9, 0.5)));
}

TEST(quantile)
{
    double v[] = { 4, NAN, 1, 3, 2 };
    CHECK_DBL(sb_quantile(v, 5, 0.5), 2.5, 1e-12);
    CHECK_DBL(sb_quantile(v, 5, 0), 1, 0);
    CHECK_DBL(sb_quantile(v, 5, 1), 4, 0);
    CHECK_DBL(sb_quantile(v, 5, 0.9), 3.7, 1e-12);   /* type 7: 1 + 0.9 * 3 = 3.7th */
    double none[] = { NAN };
    CHECK(isnan(sb_quantile(none, 1, 0.5)));
}

int main(void)
{
    TAP_START();
    RUN(fit_stats_by_hand);
    RUN(lag1);
    RUN(t_quantile_table);
    RUN(quantile);
    TAP_END();
}

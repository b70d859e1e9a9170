/*
 * cusum.c - tabular CUSUM (Page 1954; Montgomery §9.1.2) and a Welford
 * baseline.  See cusum.h for the contract.
 */
#include "fdd/cusum.h"

#include <math.h>

#include "core/err.h"

int sb_cusum_init(struct sb_cusum *c, double k, double h)
{
    if (!isfinite(k) || !isfinite(h) || k < 0 || h <= 0)
        return SB_EINVAL;
    c->k = k;
    c->h = h;
    c->cap = INFINITY;
    c->clip = INFINITY;
    sb_cusum_reset(c);
    return 0;
}

void sb_cusum_reset(struct sb_cusum *c)
{
    c->sp = c->sn = 0;
    c->zp = c->zn = 0;
    c->np = c->nn = 0;
    c->n = 0;
}

int sb_cusum_state(const struct sb_cusum *c)
{
    int up = c->sp > c->h, dn = c->sn > c->h;

    if (up && dn)
        return c->sp >= c->sn ? 1 : -1;
    return up ? 1 : dn ? -1 : 0;
}

/* One side: s = max(0, s + d), capped; the run (sum of z, count) follows s:
 * it restarts when s leaves 0 and is emptied when s returns to 0. */
static void side(double *s, double *zsum, uint32_t *n, double d, double z, double cap)
{
    double v = *s + d;

    if (v <= 0) {
        *s = 0;
        *zsum = 0;
        *n = 0;
        return;
    }
    *s = v < cap ? v : cap;
    *zsum += z;
    if (*n < UINT32_MAX)
        (*n)++;
}

int sb_cusum_step(struct sb_cusum *c, double z)
{
    double w;

    if (!isfinite(z))
        return sb_cusum_state(c);
    w = z > c->clip ? c->clip : z < -c->clip ? -c->clip : z;
    side(&c->sp, &c->zp, &c->np, w - c->k, z, c->cap);
    side(&c->sn, &c->zn, &c->nn, -w - c->k, z, c->cap);
    if (c->n < UINT32_MAX)
        c->n++;
    return sb_cusum_state(c);
}

double sb_cusum_shift(const struct sb_cusum *c, int s)
{
    if (s > 0)
        return c->np ? c->zp / c->np : NAN;
    return c->nn ? c->zn / c->nn : NAN;
}

int sb_baseline_init(struct sb_baseline *b, uint32_t min_n, double sd_min)
{
    if (min_n < 2 || !isfinite(sd_min) || sd_min < 0)
        return SB_EINVAL;
    b->n = 0;
    b->min_n = min_n;
    b->frozen = 0;
    b->mean = 0;
    b->m2 = 0;
    b->sd_min = sd_min;
    return 0;
}

int sb_baseline_add(struct sb_baseline *b, double x)
{
    double d;

    if (!isfinite(x))
        return SB_ENAN;
    if (b->frozen)
        return SB_ECLOSED;
    if (b->n == UINT32_MAX)
        return 0;             /* saturated: the estimate is as good as it gets */
    /* Welford 1962: update the mean, then M2 with both deviations. */
    b->n++;
    d = x - b->mean;
    b->mean += d / b->n;
    b->m2 += d * (x - b->mean);
    return 0;
}

int sb_baseline_freeze(struct sb_baseline *b)
{
    if (b->n < b->min_n)
        return SB_EAGAIN;
    b->frozen = 1;
    return 0;
}

int sb_baseline_ready(const struct sb_baseline *b)
{
    return b->frozen;
}

double sb_baseline_mean(const struct sb_baseline *b)
{
    return b->n ? b->mean : NAN;
}

double sb_baseline_sd(const struct sb_baseline *b)
{
    if (b->n < 2)
        return NAN;
    return sqrt(b->m2 > 0 ? b->m2 / (b->n - 1) : 0);
}

double sb_baseline_scale(const struct sb_baseline *b)
{
    double sd = sb_baseline_sd(b);

    if (isnan(sd))
        return NAN;
    return sd > b->sd_min ? sd : b->sd_min;
}

double sb_baseline_z(const struct sb_baseline *b, double x)
{
    double s;

    if (!b->frozen || !isfinite(x))
        return NAN;
    s = sb_baseline_scale(b);
    if (!(s > 0))
        return NAN;
    return (x - b->mean) / s;
}

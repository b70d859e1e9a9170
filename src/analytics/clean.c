/*
 * clean.c - reported cleaning of hourly meter series and the data-
 * sufficiency test (clean.h).
 */
#include "analytics/clean.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define MAD_TO_SD 1.4826   /* 1 / Phi^-1(3/4): MAD of a normal sample -> its sd */
#define SPIKE_MIN_PAIRS 12   /* hour-to-hour changes needed to estimate a scale */

struct clean_cfg {
    int    zero_is_missing;
    int    allow_negative;
    int    flat_min_run;
    double flat_tol;
    int    halfwin;
    double k;
    double floor;
};

static int resolve(const struct sb_clean_opts *o, struct clean_cfg *c)
{
    struct sb_clean_opts d = {0};
    if (!o)
        o = &d;
    if (o->flat_tol < 0 || o->spike_k < 0 || o->spike_floor < 0 || o->spike_halfwin > 24 * 14)
        return SB_EINVAL;
    c->zero_is_missing = o->zero_is_missing;
    c->allow_negative = o->allow_negative;
    c->flat_min_run = o->flat_min_run == 0 ? 12 : o->flat_min_run;
    c->flat_tol = o->flat_tol;
    c->halfwin = o->spike_halfwin == 0 ? 84 : o->spike_halfwin;
    c->k = o->spike_k > 0 ? o->spike_k : 6.0;
    c->floor = o->spike_floor > 0 ? o->spike_floor : 0.05;
    return 0;
}

/* Rules 1-3: one reading at a time. */
static void pointwise(double *y, size_t n, const struct clean_cfg *c, uint8_t *f)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            f[i] = SB_CLEAN_MISSING;
        else if (c->zero_is_missing && y[i] == 0)
            f[i] = SB_CLEAN_ZERO;
        else if (!c->allow_negative && y[i] < 0)
            f[i] = SB_CLEAN_NEGATIVE;
    }
}

/* Rule 4: runs of equal consecutive valid readings; keeps the first. */
static void flatlines(const double *y, size_t n, const struct clean_cfg *c, uint8_t *f)
{
    if (c->flat_min_run < 2)
        return;
    size_t i = 0;
    while (i < n) {
        if (f[i] != SB_CLEAN_OK) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && f[j] == SB_CLEAN_OK && fabs(y[j] - y[i]) <= c->flat_tol)
            j++;
        if (j - i >= (size_t)c->flat_min_run)
            for (size_t k = i + 1; k < j; k++)
                f[k] = SB_CLEAN_FLAT;
        i = j;
    }
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[m] (sorts v). */
static double median(double *v, size_t m)
{
    qsort(v, m, sizeof(double), cmp_dbl);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

/* Robust sd of the hour-to-hour changes and the median level over the
 * valid readings of [lo, hi); 0 when too few. */
static double change_scale(const double *y, const uint8_t *f, size_t lo, size_t hi,
                           double *scratch, double floor_rel)
{
    size_t m = 0, k = 0;
    for (size_t j = lo + 1; j < hi; j++)
        if (f[j] == SB_CLEAN_OK && f[j - 1] == SB_CLEAN_OK)
            scratch[m++] = fabs(y[j] - y[j - 1]);
    if (m < SPIKE_MIN_PAIRS)
        return 0;
    double s = MAD_TO_SD * median(scratch, m);
    for (size_t j = lo; j < hi; j++)
        if (f[j] == SB_CLEAN_OK)
            scratch[k++] = y[j];
    double lvl = fabs(median(scratch, k));
    return s > floor_rel * lvl ? s : floor_rel * lvl;
}

/* Excursion of hour i: how far it stands above (or below) BOTH valid
 * neighbours, 0 when it does not or a neighbour is missing. */
static double excursion(const double *y, const uint8_t *f, size_t i, size_t n)
{
    if (i == 0 || i + 1 >= n || f[i] != SB_CLEAN_OK || f[i - 1] != SB_CLEAN_OK ||
        f[i + 1] != SB_CLEAN_OK)
        return 0;
    double d1 = y[i] - y[i - 1], d2 = y[i] - y[i + 1];
    return (d1 > 0) == (d2 > 0) ? fmin(fabs(d1), fabs(d2)) : 0;
}

/* A spike: an excursion above thr that is also the largest among its
 * neighbours (the hour after a spike looks like a dip between the spike
 * and the next reading; it is not one). */
static int is_spike(const double *y, const uint8_t *f, size_t i, size_t n, double thr)
{
    double e = excursion(y, f, i, n);
    return e > thr && e > excursion(y, f, i - 1, n) && e >= excursion(y, f, i + 1, n);
}

/* Rule 5 on the readings that survived rules 1-4.  The scale is computed
 * once per day from the window centred on that day; the tests see the
 * pre-filter flags, so one spike cannot hide another. */
static int spikes(const double *y, size_t n, const struct clean_cfg *c, uint8_t *f)
{
    if (c->halfwin < 1 || n < 3)
        return 0;
    size_t w = (size_t)c->halfwin;
    double *scratch = malloc(sizeof(double) * (2 * w + 25));
    uint8_t *hit = calloc(n, 1);
    int rc = SB_ENOMEM;
    if (!scratch || !hit)
        goto out;
    for (size_t d0 = 0; d0 < n; d0 += 24) {
        size_t mid = d0 + 12, lo = mid > w ? mid - w : 0, hi = mid + w < n ? mid + w : n;
        double s = change_scale(y, f, lo, hi, scratch, c->floor);
        for (size_t i = d0; i < d0 + 24 && i < n; i++)
            hit[i] = s > 0 && is_spike(y, f, i, n, c->k * s);
    }
    for (size_t i = 0; i < n; i++)
        if (hit[i])
            f[i] = SB_CLEAN_SPIKE;
    rc = 0;
out:
    free(scratch);
    free(hit);
    return rc;
}

static void tally(double *y, size_t n, const uint8_t *f, struct sb_clean_report *r)
{
    memset(r, 0, sizeof(*r));
    r->n = n;
    for (size_t i = 0; i < n; i++) {
        switch (f[i]) {
        case SB_CLEAN_OK: r->kept++; break;
        case SB_CLEAN_MISSING: r->missing++; break;
        case SB_CLEAN_ZERO: r->zeros++; break;
        case SB_CLEAN_NEGATIVE: r->negative++; break;
        case SB_CLEAN_FLAT:
            r->flat++;
            if (i == 0 || f[i - 1] != SB_CLEAN_FLAT)
                r->flat_runs++;
            break;
        default: r->spikes++; break;
        }
        if (f[i] != SB_CLEAN_OK)
            y[i] = NAN;
    }
}

int sb_clean_series(double *y, size_t n, const struct sb_clean_opts *o, uint8_t *flags,
                    struct sb_clean_report *r)
{
    struct clean_cfg c;
    struct sb_clean_report local;
    uint8_t *f = flags;
    int rc;

    if ((n && !y) || (rc = resolve(o, &c)))
        return SB_EINVAL;
    if (!f && n && !(f = malloc(n)))
        return SB_ENOMEM;
    memset(f, SB_CLEAN_OK, n);
    pointwise(y, n, &c, f);
    flatlines(y, n, &c, f);
    if ((rc = spikes(y, n, &c, f)) == 0)
        tally(y, n, f, r ? r : &local);
    if (f != flags)
        free(f);
    return rc;
}

int sb_clean_describe(const struct sb_clean_report *r, char *buf, size_t len)
{
    size_t ex = r->n - r->kept;
    return snprintf(buf, len,
                    "excluded %zu of %zu hours: %zu missing, %zu zero reads treated as missing, "
                    "%zu negative, %zu spikes, %zu in %zu flatline run%s",
                    ex, r->n, r->missing, r->zeros, r->negative, r->spikes, r->flat,
                    r->flat_runs, r->flat_runs == 1 ? "" : "s");
}

const char *sb_clean_flag_name(int flag)
{
    static const char *const names[] = {"ok", "missing", "zero", "negative", "flatline", "spike"};
    return flag >= 0 && flag <= SB_CLEAN_SPIKE ? names[flag] : "unknown";
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

int sb_data_sufficiency(const double *y, size_t n, int64_t start_utc, int days_needed,
                        double min_coverage, struct sb_sufficiency *s, char *msg, size_t msglen)
{
    if ((n && !y) || !s || days_needed < 0 || min_coverage < 0 || min_coverage > 1)
        return SB_EINVAL;
    memset(s, 0, sizeof(*s));
    s->days_needed = days_needed;
    s->min_coverage = min_coverage > 0 ? min_coverage : 0.9;
    int64_t h0 = floor_div(start_utc, 3600);
    size_t i = 0;
    while (i < n) {
        int64_t d = floor_div(h0 + (int64_t)i, 24);
        int have = 0;
        for (; i < n && floor_div(h0 + (int64_t)i, 24) == d; i++)
            have += isfinite(y[i]) != 0;
        s->days_total++;
        s->days_ok += have >= s->min_coverage * 24 - 1e-9;
    }
    s->ok = s->days_ok >= days_needed;
    if (!s->ok)
        sb_errf(msg, msglen, "needs %d days with >= %.0f %% coverage, has %d", days_needed,
                100 * s->min_coverage, s->days_ok);
    return 0;
}

/*
 * meter.c - meter energy, outdoor temperature and the local calendar from
 * the store and the model (meter.h).
 */
#include "analytics/meter.h"

#include <math.h>
#include <string.h>

#include "core/err.h"
#include "core/tz.h"
#include "store/agg.h"

static const struct sb_point *first_real(const struct sb_model *m, const struct sb_equipment *e,
                                         enum sb_point_kind kind)
{
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->kind == kind && p->source.driver != SB_DRIVER_VIRTUAL && p->equipment &&
            strcmp(p->equipment, e->slug) == 0)
            return p;
    }
    return NULL;
}

const struct sb_point *sb_meter_point(const struct sb_model *m, const struct sb_equipment *e)
{
    const struct sb_point *p;

    if (!e || e->type != SB_EQUIP_METER)
        return NULL;
    p = first_real(m, e, SB_POINT_ENERGY);
    return p ? p : first_real(m, e, SB_POINT_POWER);
}

const struct sb_point *sb_meter_power_point(const struct sb_model *m, const struct sb_equipment *e)
{
    return e && e->type == SB_EQUIP_METER ? first_real(m, e, SB_POINT_POWER) : NULL;
}

const struct sb_point *sb_outdoor_temp_point(const struct sb_model *m, int32_t building_ix)
{
    const struct sb_point *outside = NULL;

    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->kind != SB_POINT_TEMPERATURE || p->building_ix != building_ix)
            continue;
        if (sb_point_has_tag(p, "dewpoint") || sb_point_has_tag(p, "wetbulb"))
            continue;
        if (sb_point_has_tag(p, "weather"))
            return p;
        if (!outside && sb_point_has_tag(p, "air") && (sb_point_has_tag(p, "outside") || sb_point_has_tag(p, "outdoor")))
            outside = p;
    }
    return outside;
}

const struct sb_point *sb_solar_point(const struct sb_model *m, int32_t building_ix)
{
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *p = &m->points[i];
        if (p->building_ix == building_ix && (sb_point_has_tag(p, "solar") || sb_point_has_tag(p, "irradiance")) &&
            p->kind != SB_POINT_ENERGY && p->kind != SB_POINT_POWER)
            return p;
    }
    return NULL;
}

static int64_t res_ms(int res)
{
    return res == SB_RES_1M ? 60000LL : res == SB_RES_15M ? 15 * 60000LL
         : res == SB_RES_1H ? SB_HOUR_MS : 0;
}

int sb_meter_energy(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms,
                    size_t n, double *out)
{
    int64_t step = res_ms(res);
    struct sb_aggs a = { 0 };
    int counter, rc, got = 0;

    if (!p || !step || t0_ms % step || (p->kind != SB_POINT_ENERGY && p->kind != SB_POINT_POWER))
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    if (n == 0)
        return 0;
    counter = p->kind == SB_POINT_ENERGY;
    rc = sb_store_range_agg(st, p->id, (enum sb_res)res, t0_ms, t0_ms + (int64_t)n * step, &a);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < a.n; k++) {
        const struct sb_agg *b = &a.v[k];
        if (b->start < t0_ms || (b->start - t0_ms) % step)
            continue;
        size_t i = (size_t)((b->start - t0_ms) / step);
        if (i >= n || b->n == 0)
            continue;
        double v;
        if (counter) {
            v = b->delta;
        } else {
            /* Time-weighted mean power x the interval, when the samples
             * held at least 90 % of it (less would guess the rest). */
            if (b->covered < 0.9 * (double)step / 1000.0)
                continue;
            v = b->integral / b->covered * ((double)step / SB_HOUR_MS);
        }
        if (isfinite(v)) {
            out[i] = v;
            got++;
        }
    }
    sb_aggs_release(&a);
    return got;
}

/* One value per interval of an analog or state point: the mean (MEAN: sum /
 * n; analog points aggregated as RATE: the time-weighted mean) or the
 * interval's last sample. */
static int fill(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms, size_t n,
                double *out, int last)
{
    int64_t step = res_ms(res);
    struct sb_aggs a = { 0 };
    int rc, got = 0;

    if (!p || !step || t0_ms % step)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        out[i] = NAN;
    if (n == 0)
        return 0;
    rc = sb_store_range_agg(st, p->id, (enum sb_res)res, t0_ms, t0_ms + (int64_t)n * step, &a);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < a.n; k++) {
        const struct sb_agg *b = &a.v[k];
        if (b->start < t0_ms || (b->start - t0_ms) % step || b->n == 0)
            continue;
        size_t i = (size_t)((b->start - t0_ms) / step);
        if (i >= n)
            continue;
        double v = last ? b->last
                 : b->covered > 0 && b->integral != 0 ? b->integral / b->covered : b->sum / b->n;
        if (isfinite(v)) {
            out[i] = v;
            got++;
        }
    }
    sb_aggs_release(&a);
    return got;
}

int sb_point_mean(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms, size_t n,
                  double *out)
{
    return fill(st, p, res, t0_ms, n, out, 0);
}

int sb_point_last(struct sb_store_h *st, const struct sb_point *p, int res, int64_t t0_ms, size_t n,
                  double *out)
{
    return fill(st, p, res, t0_ms, n, out, 1);
}

int32_t sb_local_day(const struct sb_tz *tz, int64_t utc_ms)
{
    int64_t s = utc_ms / 1000 + sb_tz_offset(tz, utc_ms / 1000);
    return (int32_t)(s >= 0 ? s / 86400 : -((-s + 86399) / 86400));
}

void sb_calendar_hours(const struct sb_tz *tz, int64_t t0_ms, size_t n, const int64_t *days,
                       size_t nd, uint8_t *how, uint8_t *hol)
{
    for (size_t i = 0; i < n; i++) {
        int64_t t = t0_ms + (int64_t)i * SB_HOUR_MS;
        int64_t s = t / 1000 + sb_tz_offset(tz, t / 1000);
        int64_t day = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
        int hour = (int)((s - day * 86400) / 3600);
        int wday = (int)(((day + 3) % 7 + 7) % 7);   /* 1970-01-01 was a Thursday: Monday = 0 */
        int h = 0;
        for (size_t k = 0; k < nd && days; k++)
            if (days[k] == day) {
                h = 1;
                break;
            }
        how[i] = (uint8_t)(wday * 24 + hour);
        if (hol)
            hol[i] = (uint8_t)h;
    }
}

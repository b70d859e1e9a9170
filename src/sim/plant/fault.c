/* fault.c - physical faults of sbems-sim's plant: the class table, the
 * equipment lookup and the sensor readings they distort (see plant.h and
 * docs/internals/sim-physics.md "Faults").  The physics that uses the
 * faults' values is in plant.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "sim/plant/plant_int.h"

enum eq_kind { EQ_AHU, EQ_ZONE, EQ_CHILLER };

static const struct fault_def {
    const char *name;
    enum eq_kind eq;
    double lo, hi;      /* accepted values */
    int has_value;      /* 0: value ignored */
} DEFS[SB_PF_COUNT] = {
    [SB_PF_OA_DAMPER_STUCK] = { "oa_damper_stuck", EQ_AHU, 0, 100, 1 },
    [SB_PF_SAT_SENSOR_BIAS] = { "sat_sensor_bias", EQ_AHU, -20, 20, 1 },
    [SB_PF_CCV_STUCK] = { "ccv_stuck", EQ_AHU, 0, 100, 1 },
    [SB_PF_CCV_LEAK] = { "ccv_leak", EQ_AHU, 0, 100, 1 },
    [SB_PF_REHEAT_STUCK] = { "reheat_stuck", EQ_ZONE, 0, 100, 1 },
    [SB_PF_REHEAT_LEAK] = { "reheat_leak", EQ_ZONE, 0, 100, 1 },
    [SB_PF_VAV_DAMPER_STUCK] = { "vav_damper_stuck", EQ_ZONE, 0, 100, 1 },
    [SB_PF_ZONE_SENSOR_DRIFT] = { "zone_sensor_drift", EQ_ZONE, -10, 10, 1 },
    [SB_PF_FAN_FAILURE] = { "fan_failure", EQ_AHU, 0, 0, 0 },
    [SB_PF_CHILLER_COP_DEGRADATION] = { "chiller_cop_degradation", EQ_CHILLER, 0, 0.9, 1 },
};

const char *sb_plant_fault_name(enum sb_plant_fault f)
{
    return (unsigned)f < SB_PF_COUNT ? DEFS[f].name : NULL;
}

int sb_plant_fault_parse(const char *name)
{
    for (int i = 0; name && i < SB_PF_COUNT; i++)
        if (strcmp(DEFS[i].name, name) == 0)
            return i;
    return SB_ENOENT;
}

/* The fault slot of class f on the named equipment, or NULL when the name
 * is not equipment of f's kind.  Names are matched against their canonical
 * spelling, so "floor01.ahu" or "floor1.ahu " are not equipment. */
static struct sb_fault *slot(const struct sb_plant *cp, enum sb_plant_fault f, const char *eq)
{
    struct sb_plant *p = (struct sb_plant *)cp;     /* callers keep const-ness */
    char name[48];

    if (!eq)
        return NULL;
    switch (DEFS[f].eq) {
    case EQ_CHILLER:
        return strcmp(eq, "chiller") == 0 ? &p->ch_flt[f] : NULL;
    case EQ_AHU:
        for (int i = 0; i < p->nahus; i++) {
            snprintf(name, sizeof name, "floor%d.ahu", i + 1);
            if (strcmp(name, eq) == 0)
                return &p->ahus[i].flt[f];
        }
        return NULL;
    case EQ_ZONE:
        for (int i = 0; i < p->nzones; i++) {
            snprintf(name, sizeof name, "floor%d.zone%d", p->zones[i].floor, p->zones[i].index);
            if (strcmp(name, eq) == 0)
                return &p->zones[i].flt[f];
        }
        return NULL;
    }
    return NULL;
}

double sb_plant__drift(const struct sb_fault *f, int64_t t_ms)
{
    return f->on ? f->base + f->value * (double)(t_ms - f->t0_ms) / 86400000.0 : 0.0;
}

void sb_plant__sensors(struct sb_plant *p)
{
    for (int i = 0; i < p->nahus; i++) {
        struct sb_ahu *a = &p->ahus[i];
        const struct sb_fault *b = &a->flt[SB_PF_SAT_SENSOR_BIAS];

        a->t_sa_meas = a->t_sa + (b->on ? b->value : 0.0);
    }
    for (int i = 0; i < p->nzones; i++) {
        struct sb_zone_ent *ze = &p->zones[i];

        ze->t_meas = ze->z.t_air + sb_plant__drift(&ze->flt[SB_PF_ZONE_SENSOR_DRIFT], p->sub_ms);
    }
}

int sb_plant_fault_set(struct sb_plant *p, enum sb_plant_fault f, const char *equipment, double value)
{
    struct sb_fault *s;

    if (!p || (unsigned)f >= SB_PF_COUNT)
        return SB_EINVAL;
    if (!(s = slot(p, f, equipment)))
        return SB_ENOENT;
    if (!DEFS[f].has_value)
        value = 0;
    else if (!(value >= DEFS[f].lo && value <= DEFS[f].hi))
        return SB_ERANGE;
    /* a re-set drift continues from the offset reached so far */
    s->base = f == SB_PF_ZONE_SENSOR_DRIFT ? sb_plant__drift(s, p->now_ms) : 0.0;
    s->t0_ms = p->now_ms;
    s->value = value;
    s->on = 1;
    sb_plant__sensors(p);
    return 0;
}

int sb_plant_fault_clear(struct sb_plant *p, enum sb_plant_fault f, const char *equipment)
{
    struct sb_fault *s;

    if (!p || (unsigned)f >= SB_PF_COUNT)
        return SB_EINVAL;
    if (!(s = slot(p, f, equipment)))
        return SB_ENOENT;
    *s = (struct sb_fault){ 0 };
    sb_plant__sensors(p);
    return 0;
}

int sb_plant_fault_active(const struct sb_plant *p, enum sb_plant_fault f, const char *equipment,
                          double *value)
{
    const struct sb_fault *s;

    if (!p || (unsigned)f >= SB_PF_COUNT)
        return SB_EINVAL;
    if (!(s = slot(p, f, equipment)))
        return SB_ENOENT;
    if (s->on && value)
        *value = s->value;
    return s->on;
}

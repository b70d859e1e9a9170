/*
 * fdd_units.h - the detectors a piece of equipment gets and their settings,
 * for the API (GET/PUT /fdd/units) and the service: which detector watches
 * an equipment type, the numbers an operator may override per unit, their
 * defaults, and the check of an overrides object before it is stored.
 *
 * Threads: any (tables are static).  Ownership: JSON results are new
 * references owned by the caller.
 */
#ifndef SB_ANALYTICS_FDD_UNITS_H
#define SB_ANALYTICS_FDD_UNITS_H

#include <jansson.h>
#include <stddef.h>

#include "model/model.h"

struct sb_fdd_param;

struct sb_fdd_kind {
    const char *name;                                   /* "ahu", "vav", "chiller" */
    const struct sb_fdd_param *(*params)(size_t *n);    /* the overridable numbers */
    void (*defaults)(void *conf);                       /* fills the detector's default conf */
    int (*set)(void *conf, const char *name, double v, char *err, size_t errlen);
    size_t conf_size;                                   /* bytes of the conf struct */
};

/* The detector of equipment type t, or NULL (not watched by a per-unit
 * detector). */
const struct sb_fdd_kind *sb_fdd_kind_of(enum sb_equip_type t);

/* 0 when overrides is an object of known names with numbers in range
 * (applied together, the whole conf valid); else -1 with "name: why" in err. */
int sb_fdd_overrides_check(const struct sb_fdd_kind *k, const json_t *overrides, char *err, size_t errlen);

/* [{"name","unit","doc","lo","hi","default","value"}] for the unit with
 * these overrides (may be NULL). */
json_t *sb_fdd_params_json(const struct sb_fdd_kind *k, const json_t *overrides);

#endif /* SB_ANALYTICS_FDD_UNITS_H */

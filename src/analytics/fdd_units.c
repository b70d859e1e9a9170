/* fdd_units.c - detectors per equipment type and their settings (fdd_units.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/fdd_units.h"
#include "fdd/apar.h"
#include "fdd/param.h"
#include "fdd/plant.h"
#include "fdd/vav.h"

static void apar_def(void *c) { sb_apar_conf_default(c); }
static int apar_set(void *c, const char *n, double v, char *e, size_t l) { return sb_apar_conf_set(c, n, v, e, l); }
static void vav_def(void *c) { sb_vav_conf_default(c); }
static int vav_set(void *c, const char *n, double v, char *e, size_t l) { return sb_vav_conf_set(c, n, v, e, l); }
static void ch_def(void *c) { sb_chiller_conf_default(c); }
static int ch_set(void *c, const char *n, double v, char *e, size_t l) { return sb_chiller_conf_set(c, n, v, e, l); }

static const struct sb_fdd_kind kinds[] = {
    { "ahu", sb_apar_conf_params, apar_def, apar_set, sizeof(struct sb_apar_conf) },
    { "vav", sb_vav_conf_params, vav_def, vav_set, sizeof(struct sb_vav_conf) },
    { "chiller", sb_chiller_conf_params, ch_def, ch_set, sizeof(struct sb_chiller_conf) },
};

const struct sb_fdd_kind *sb_fdd_kind_of(enum sb_equip_type t)
{
    switch (t) {
    case SB_EQUIP_AHU:
    case SB_EQUIP_RTU: return &kinds[0];
    case SB_EQUIP_VAV: return &kinds[1];
    case SB_EQUIP_CHILLER: return &kinds[2];
    default: return NULL;
    }
}

int sb_fdd_overrides_check(const struct sb_fdd_kind *k, const json_t *overrides, char *err, size_t errlen)
{
    const char *name;
    json_t *v;
    void *c;
    int rc = 0;

    if (!json_is_object(overrides)) {
        snprintf(err, errlen, "overrides: must be an object of parameter names and numbers");
        return -1;
    }
    if (!(c = malloc(k->conf_size))) {
        snprintf(err, errlen, "overrides: out of memory");
        return -1;
    }
    k->defaults(c);
    json_object_foreach((json_t *)overrides, name, v) {
        if (!json_is_number(v)) {
            snprintf(err, errlen, "%s: must be a number", name);
            rc = -1;
            break;
        }
        if (k->set(c, name, json_number_value(v), err, errlen)) {
            rc = -1;
            break;
        }
    }
    free(c);
    return rc;
}

json_t *sb_fdd_params_json(const struct sb_fdd_kind *k, const json_t *overrides)
{
    size_t n;
    const struct sb_fdd_param *p = k->params(&n);
    void *c = malloc(k->conf_size);
    json_t *out = json_array();

    if (!c)
        return out;
    k->defaults(c);
    for (size_t i = 0; i < n; i++) {
        double d = sb_fdd_param_get(&p[i], c);
        json_t *o = overrides ? json_object_get(overrides, p[i].name) : NULL;
        json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:f, s:f, s:o, s:o}", "name", p[i].name, "unit",
                                             p[i].unit, "doc", p[i].doc, "lo", p[i].lo, "hi", p[i].hi,
                                             "default", isfinite(d) ? json_real(d) : json_null(), "value",
                                             json_is_number(o) ? json_real(json_number_value(o))
                                             : isfinite(d) ? json_real(d) : json_null()));
    }
    free(c);
    return out;
}

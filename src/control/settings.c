/*
 * settings.c - a building's control settings document (see settings.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "control/settings.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/enums.h"

static const char *const mode_names[] = { "off", "advisory", "auto" };

const char *sb_ctlmode_name(int mode)
{
    return mode >= 0 && mode <= SB_CTL_AUTO ? mode_names[mode] : "inherit";
}

void sb_ctlset_init(struct sb_ctlset *s)
{
    memset(s, 0, sizeof(*s));
    s->mode = SB_CTL_ADVISORY;
    s->optimal_start = 1;
    s->max_lead_h = 3.0;
    s->default_rate = 2.0;
    s->ramp_k_per_h = 2.0;
    s->recover_k_per_h = 6.0;
    s->vacancy_ms = 20 * 60000LL;
    s->native_check_ms = 60 * 60000LL;
}

void sb_ctlset_release(struct sb_ctlset *s)
{
    for (size_t i = 0; i < s->nz; i++)
        if (s->z[i].has_sched) {
            sb_csched_release(&s->z[i].sched);
            free(s->z[i].sched_json);
        }
    free(s->z);
    free(s->ical);
    sb_ctlset_init(s);
}

struct sb_ctlset_zone *sb_ctlset_zone(struct sb_ctlset *s, const char *zone)
{
    for (size_t i = 0; i < s->nz; i++)
        if (strcmp(s->z[i].zone, zone) == 0)
            return &s->z[i];
    return NULL;
}

struct sb_ctlset_zone *sb_ctlset_zone_add(struct sb_ctlset *s, const char *zone)
{
    struct sb_ctlset_zone *z = sb_ctlset_zone(s, zone), *v;

    if (z)
        return z;
    if (s->nz >= SB_CTLSET_ZONES || strlen(zone) >= SB_CTLSET_SLUG)
        return NULL;
    v = realloc(s->z, (s->nz + 1) * sizeof(*v));
    if (!v)
        return NULL;
    s->z = v;
    z = &v[s->nz++];
    memset(z, 0, sizeof(*z));
    snprintf(z->zone, sizeof(z->zone), "%s", zone);
    z->mode = -1;
    z->vacancy_ms = -1;
    z->native_sched = z->native_cal = -1;
    return z;
}

int sb_ctlset_mode(const struct sb_ctlset *s, const struct sb_ctlset_zone *z)
{
    int m = z && z->mode >= 0 ? z->mode : s->mode;
    return m < s->mode ? m : s->mode;
}

static int mode_of(const json_t *v, int *out)
{
    const char *t = json_string_value(v);

    for (int i = 0; t && i <= SB_CTL_AUTO; i++)
        if (strcmp(t, mode_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return SB_EINVAL;
}

/* A number field within [lo, hi]; absent keeps *out. */
static int num(const json_t *doc, const char *key, double lo, double hi, double *out, const char *pfx,
               char *err, size_t cap)
{
    const json_t *v = json_object_get(doc, key);

    if (!v)
        return 0;
    if (!json_is_number(v) || !(json_number_value(v) >= lo && json_number_value(v) <= hi)) {
        snprintf(err, cap, "%s%s: a number from %g to %g", pfx, key, lo, hi);
        return SB_EINVAL;
    }
    *out = json_number_value(v);
    return 0;
}

static int known_keys(const json_t *o, const char *const *keys, const char *pfx, char *err, size_t cap)
{
    const char *k;
    const json_t *v;

    json_object_foreach((json_t *)o, k, v) {
        (void)v;
        int ok = 0;
        for (const char *const *p = keys; *p && !ok; p++)
            ok = strcmp(*p, k) == 0;
        if (!ok) {
            snprintf(err, cap, "%s%.64s: unknown field", pfx, k);
            return SB_EINVAL;
        }
    }
    return 0;
}

static int parse_override(const json_t *o, struct sb_ctlset_zone *z, char *err, size_t cap)
{
    const char *until = json_string_value(json_object_get(o, "until"));
    const char *by = json_string_value(json_object_get(o, "by"));
    const char *why = json_string_value(json_object_get(o, "reason"));

    if (!json_is_object(o) || !until || sb_time_parse(until, strlen(until), &z->override_until_ms)) {
        snprintf(err, cap, "overrides.%s.until: an RFC 3339 time", z->zone);
        return SB_EINVAL;
    }
    snprintf(z->override_by, sizeof(z->override_by), "%s", by ? by : "");
    snprintf(z->override_reason, sizeof(z->override_reason), "%s", why ? why : "");
    return 0;
}

/* "schedule:1" (any spelling names.h reads: "schedule:1", "17:1") of the
 * type wanted; absent or null keeps -1. */
static int native_obj(const json_t *o, const char *key, uint16_t type, int64_t *out, const char *pfx, char *err,
                      size_t cap)
{
    const json_t *v = json_object_get(o, key);
    struct sb_bac_oid oid;

    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || sb_bacn_obj_parse(json_string_value(v), &oid) < 0 || oid.type != type ||
        oid.instance >= SB_BAC_MAX_INSTANCE) {
        snprintf(err, cap, "%s%s: a BACnet %s object of the zone's controller, \"%s:N\" (N 0..%u)", pfx, key,
                 sb_bacn_obj_name(type), sb_bacn_obj_name(type), SB_BAC_MAX_INSTANCE - 1);
        return SB_EINVAL;
    }
    *out = oid.instance;
    return 0;
}

static int parse_zone(const char *slug, const json_t *o, struct sb_ctlset_zone *z, char *err, size_t cap)
{
    static const char *const keys[] = { "mode", "vacancy_delay_min", "schedule", "native_schedule",
                                        "native_calendar", NULL };
    char pfx[96], msg[256];
    const json_t *v;

    snprintf(pfx, sizeof(pfx), "zones.%.64s.", slug);
    if (!json_is_object(o)) {
        snprintf(err, cap, "zones.%.64s: an object", slug);
        return SB_EINVAL;
    }
    if (known_keys(o, keys, pfx, err, cap))
        return SB_EINVAL;
    if ((v = json_object_get(o, "mode")) && mode_of(v, &z->mode)) {
        snprintf(err, cap, "%smode: off, advisory or auto", pfx);
        return SB_EINVAL;
    }
    double vd = NAN;
    if (num(o, "vacancy_delay_min", 0, 1440, &vd, pfx, err, cap) ||
        native_obj(o, "native_schedule", SB_BAC_OBJ_SCHEDULE, &z->native_sched, pfx, err, cap) ||
        native_obj(o, "native_calendar", SB_BAC_OBJ_CALENDAR, &z->native_cal, pfx, err, cap))
        return SB_EINVAL;
    if (z->native_cal >= 0 && z->native_sched < 0) {
        snprintf(err, cap, "%snative_calendar: needs native_schedule (the Schedule that refers to it)", pfx);
        return SB_EINVAL;
    }
    if (!isnan(vd))
        z->vacancy_ms = (int64_t)(vd * 60000.0);
    if ((v = json_object_get(o, "schedule")) && !json_is_null(v)) {
        char *txt = json_dumps(v, JSON_COMPACT);
        if (!txt)
            return SB_ENOMEM;
        /* validated over the default bands; kept as text (see settings.h) */
        sb_csched_init(&z->sched, NULL);
        int rc = sb_csched_parse(&z->sched, txt, strlen(txt), msg, sizeof(msg));
        if (rc) {
            free(txt);
            snprintf(err, cap, "%sschedule: %s", pfx, msg);
            return SB_EINVAL;
        }
        if (z->has_sched) {            /* the same zone twice: the last wins */
            sb_csched_release(&z->sched);
            free(z->sched_json);
        }
        z->sched_json = txt;
        z->has_sched = 1;
    }
    return 0;
}

int sb_ctlset_parse(const json_t *doc, struct sb_ctlset *s, char *err, size_t cap)
{
    static const char *const keys[] = { "mode", "optimal_start", "optimizer", "max_lead_h", "default_rate_k_per_h",
                                        "vacancy_delay_min", "ramp_k_per_h", "recover_k_per_h", "holidays_ical", "zones",
                                        "overrides", "demand_limit_kw", "native_check_min", NULL };
    const json_t *v, *zv;
    const char *k;
    double vd;
    int rc = SB_EINVAL;

    sb_ctlset_init(s);
    err[0] = '\0';
    if (!json_is_object(doc)) {
        snprintf(err, cap, "the control settings are a JSON object");
        return SB_EINVAL;
    }
    if (known_keys(doc, keys, "", err, cap))
        goto fail;
    if ((v = json_object_get(doc, "mode")) && mode_of(v, &s->mode)) {
        snprintf(err, cap, "mode: off, advisory or auto");
        goto fail;
    }
    if ((v = json_object_get(doc, "optimal_start")) && !json_is_boolean(v)) {
        snprintf(err, cap, "optimal_start: true or false");
        goto fail;
    }
    if (v)
        s->optimal_start = json_is_true(v);
    if ((v = json_object_get(doc, "optimizer")) && !json_is_boolean(v)) {
        snprintf(err, cap, "optimizer: true or false");
        goto fail;
    }
    s->optimizer = json_is_true(v);
    vd = (double)s->vacancy_ms / 60000.0;
    if (num(doc, "max_lead_h", 0.25, 12, &s->max_lead_h, "", err, cap) ||
        num(doc, "default_rate_k_per_h", 0.1, 20, &s->default_rate, "", err, cap) ||
        num(doc, "ramp_k_per_h", 0.1, 60, &s->ramp_k_per_h, "", err, cap) ||
        num(doc, "recover_k_per_h", 0.1, 120, &s->recover_k_per_h, "", err, cap) ||
        num(doc, "demand_limit_kw", 0, 1e6, &s->demand_limit_kw, "", err, cap) ||
        num(doc, "vacancy_delay_min", 0, 1440, &vd, "", err, cap))
        goto fail;
    s->vacancy_ms = (int64_t)(vd * 60000.0);
    vd = (double)s->native_check_ms / 60000.0;
    if (num(doc, "native_check_min", 0.1, 1440, &vd, "", err, cap))
        goto fail;
    s->native_check_ms = (int64_t)(vd * 60000.0);
    if ((v = json_object_get(doc, "holidays_ical")) && !json_is_null(v)) {
        if (!json_is_string(v) || json_string_length(v) > 1024 * 1024) {
            snprintf(err, cap, "holidays_ical: iCalendar text (RFC 5545), at most 1 MiB");
            goto fail;
        }
        if (!(s->ical = strdup(json_string_value(v)))) {
            rc = SB_ENOMEM;
            goto fail;
        }
    }
    if ((v = json_object_get(doc, "zones")) && !json_is_object(v)) {
        snprintf(err, cap, "zones: an object keyed by zone");
        goto fail;
    }
    json_object_foreach((json_t *)v, k, zv) {
        struct sb_ctlset_zone *z = sb_ctlset_zone_add(s, k);
        if (!z) {
            snprintf(err, cap, "zones.%.64s: too many zones or too long a name", k);
            goto fail;
        }
        if ((rc = parse_zone(k, zv, z, err, cap)))
            goto fail;
    }
    rc = SB_EINVAL;
    if ((v = json_object_get(doc, "overrides")) && !json_is_object(v)) {
        snprintf(err, cap, "overrides: an object keyed by zone");
        goto fail;
    }
    json_object_foreach((json_t *)v, k, zv) {
        struct sb_ctlset_zone *z = sb_ctlset_zone_add(s, k);
        if (!z) {
            snprintf(err, cap, "overrides.%.64s: too many zones or too long a name", k);
            goto fail;
        }
        if (parse_override(zv, z, err, cap))
            goto fail;
    }
    return 0;
fail:
    sb_ctlset_release(s);
    return rc;
}

static json_t *zone_json(const struct sb_ctlset_zone *z)
{
    json_t *o = json_object();

    if (z->mode >= 0)
        json_object_set_new(o, "mode", json_string(sb_ctlmode_name(z->mode)));
    if (z->vacancy_ms >= 0)
        json_object_set_new(o, "vacancy_delay_min", json_real((double)z->vacancy_ms / 60000.0));
    if (z->has_sched) {
        json_t *sj = json_loads(z->sched_json, 0, NULL);
        if (sj)
            json_object_set_new(o, "schedule", sj);
    }
    if (z->native_sched >= 0)
        json_object_set_new(o, "native_schedule", json_sprintf("schedule:%lld", (long long)z->native_sched));
    if (z->native_cal >= 0)
        json_object_set_new(o, "native_calendar", json_sprintf("calendar:%lld", (long long)z->native_cal));
    return o;
}

json_t *sb_ctlset_to_json(const struct sb_ctlset *s)
{
    json_t *d = json_pack("{s:s,s:b,s:b,s:f,s:f,s:f,s:f,s:f,s:f}", "mode", sb_ctlmode_name(s->mode),
                          "optimal_start", s->optimal_start, "optimizer", s->optimizer, "max_lead_h",
                          s->max_lead_h, "default_rate_k_per_h", s->default_rate, "ramp_k_per_h",
                          s->ramp_k_per_h, "recover_k_per_h", s->recover_k_per_h, "vacancy_delay_min",
                          (double)s->vacancy_ms / 60000.0, "demand_limit_kw", s->demand_limit_kw);
    json_t *zs = json_object(), *ov = json_object();
    char t[40];

    if (!d || !zs || !ov) {
        json_decref(d), json_decref(zs), json_decref(ov);
        return NULL;
    }
    json_object_set_new(d, "native_check_min", json_real((double)s->native_check_ms / 60000.0));
    if (s->ical)
        json_object_set_new(d, "holidays_ical", json_string(s->ical));
    for (size_t i = 0; i < s->nz; i++) {
        const struct sb_ctlset_zone *z = &s->z[i];
        if (z->mode >= 0 || z->vacancy_ms >= 0 || z->has_sched || z->native_sched >= 0)
            json_object_set_new(zs, z->zone, zone_json(z));
        if (z->override_until_ms > 0)
            json_object_set_new(ov, z->zone,
                                json_pack("{s:s,s:s,s:s}", "until", sb_time_format(z->override_until_ms, t, sizeof(t)),
                                          "by", z->override_by, "reason", z->override_reason));
    }
    json_object_set_new(d, "zones", zs);
    json_object_set_new(d, "overrides", ov);
    return d;
}

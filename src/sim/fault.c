/*
 * fault.c - sbems-sim's fault manager (fault.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "sim/fault.h"
#include "sim/plant/plant.h"

#define MAX_SITES 16
#define MAX_FAULTS 1024
#define MAX_TIME_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z, the last RFC 3339 time */
#define MAX_DUR_MS (366LL * 86400000LL) /* "up to a year", in either form */

enum { ST_SCHEDULED, ST_ACTIVE, ST_ENDED };
enum { C_OFFLINE = -1, C_DROPOUT = -2 };    /* communication faults; >= 0 = plant fault */

struct fsite {
    struct sb_plant *plant;
    char building[64];
    char prefix[72];            /* "" or "HOU-" */
};

struct fault {
    int id, cls, state, site;
    char equipment[64];         /* device name as requested */
    char target[48];            /* plant equipment ("floor1.ahu") or the device name */
    double value;
    int64_t start_ms, end_ms;   /* sim time; end_ms 0 = until cleared */
    int64_t start_wall, end_wall;
};

struct sb_simfault {
    FILE *labels;
    struct fsite sites[MAX_SITES];
    int nsites;
    char (*devs)[64];           /* devices the faces serve */
    unsigned char *is_meter;
    size_t ndevs;
    struct fault *f;
    int nf, next_id;
    int has_period;             /* a backfill: starts confined to its rows */
    int64_t first_ms, last_ms;  /* the backfill's first and last row times */
};

int sb_simfault_new(const char *label_file, struct sb_simfault **out, char *err, size_t errlen)
{
    struct sb_simfault *f = calloc(1, sizeof(*f));

    *out = NULL;
    if (!f)
        return SB_ENOMEM;
    f->next_id = 1;
    if (label_file && *label_file && !(f->labels = fopen(label_file, "a"))) {
        snprintf(err, errlen, "%s: cannot open for append", label_file);
        free(f);
        return SB_EIO;
    }
    *out = f;
    return 0;
}

void sb_simfault_free(struct sb_simfault *f)
{
    if (!f)
        return;
    if (f->labels)
        fclose(f->labels);
    free(f->devs);
    free(f->is_meter);
    free(f->f);
    free(f);
}

int sb_simfault_add_site(struct sb_simfault *f, struct sb_plant *plant, const char *building, int index)
{
    struct fsite *s;

    if (f->nsites == MAX_SITES)
        return SB_ENOSPC;
    s = &f->sites[f->nsites++];
    s->plant = plant;
    snprintf(s->building, sizeof(s->building), "%s", building);
    s->prefix[0] = 0;
    if (index > 0) {
        size_t n = 0;
        for (const char *c = building; *c && n + 2 < sizeof(s->prefix); c++)
            s->prefix[n++] = (char)toupper((unsigned char)*c);
        s->prefix[n++] = '-';
        s->prefix[n] = 0;
    }
    return 0;
}

int sb_simfault_add_device(struct sb_simfault *f, const char *name, int meter)
{
    char (*d)[64] = realloc(f->devs, (f->ndevs + 1) * sizeof(*d));
    unsigned char *m;

    if (!d)
        return SB_ENOMEM;
    f->devs = d;
    if (!(m = realloc(f->is_meter, f->ndevs + 1)))
        return SB_ENOMEM;
    f->is_meter = m;
    snprintf(f->devs[f->ndevs], sizeof(f->devs[0]), "%s", name);
    f->is_meter[f->ndevs++] = (unsigned char)(meter != 0);
    return 0;
}

int sb_simfault_set_period(struct sb_simfault *f, int64_t first_ms, int64_t last_ms)
{
    if (last_ms < first_ms)
        return SB_EINVAL;
    f->has_period = 1;
    f->first_ms = first_ms;
    f->last_ms = last_ms;
    return 0;
}

/* "AHU-2" -> floor2.ahu, "VAV-1-03" -> floor1.zone3, "CH-1" -> chiller, after
 * the site's prefix; the site index in *site. */
static int plant_target(const struct sb_simfault *f, const char *dev, int *site, char *out, size_t cap)
{
    for (int i = 0; i < f->nsites; i++) {
        const struct fsite *s = &f->sites[i];
        size_t pl = strlen(s->prefix);
        unsigned a, b;
        char tail;
        if (strncmp(dev, s->prefix, pl) != 0)
            continue;
        const char *n = dev + pl;
        if (pl == 0 && i > 0)
            continue;
        char canon[32] = "";
        *site = i;
        /* only the spelling the faces list ("AHU-2", "VAV-1-03"): sscanf
         * alone also takes "AHU-02", "AHU- 2" or "AHU--1", and the label
         * would then name no device */
        if (sscanf(n, "AHU-%u%c", &a, &tail) == 1) {
            snprintf(out, cap, "floor%u.ahu", a);
            snprintf(canon, sizeof(canon), "AHU-%u", a);
        } else if (sscanf(n, "VAV-%u-%u%c", &a, &b, &tail) == 2) {
            snprintf(out, cap, "floor%u.zone%u", a, b);
            snprintf(canon, sizeof(canon), "VAV-%u-%02u", a, b);
        } else if (strcmp(n, "CH-1") == 0) {
            snprintf(out, cap, "chiller");
            snprintf(canon, sizeof(canon), "CH-1");
        }
        if (strcmp(n, canon) != 0)
            continue;
        return 0;
    }
    return SB_ENOENT;
}

/* The site whose device-name prefix `name` carries (site 0's is ""), or -1. */
static int dev_site(const struct sb_simfault *f, const char *name)
{
    int best = f->nsites > 0 ? 0 : -1;
    size_t bl = 0;

    for (int i = 1; i < f->nsites; i++) {
        size_t pl = strlen(f->sites[i].prefix);
        if (pl > bl && strncmp(name, f->sites[i].prefix, pl) == 0) {
            best = i;
            bl = pl;
        }
    }
    return best;
}

static int find_dev(const struct sb_simfault *f, const char *name)
{
    for (size_t i = 0; i < f->ndevs; i++)
        if (strcmp(f->devs[i], name) == 0)
            return (int)i;
    return SB_ENOENT;
}

static const char *class_name(int cls)
{
    return cls == C_OFFLINE ? "device_offline" : cls == C_DROPOUT ? "meter_dropout"
                                               : sb_plant_fault_name((enum sb_plant_fault)cls);
}

static void label(struct sb_simfault *f, const struct fault *x, const char *event)
{
    char s[40], e[40], sw[40], ew[40];

    if (!f->labels)
        return;
    json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "id", x->id,
                          "event", event, "class", class_name(x->cls), "equipment", x->equipment,
                          "site", x->site >= 0 ? f->sites[x->site].building : "",
                          "target", x->target, "start", sb_time_format(x->start_ms, s, sizeof(s)),
                          "end", x->state == ST_ENDED ? json_string(sb_time_format(x->end_ms, e, sizeof(e)))
                                                      : json_null(),
                          "start_wall", sb_time_format(x->start_wall, sw, sizeof(sw)),
                          "end_wall", x->state == ST_ENDED ? json_string(sb_time_format(x->end_wall, ew, sizeof(ew)))
                                                           : json_null());
    if (!isnan(x->value))
        json_object_set_new(j, "value", json_real(x->value));
    /* 15 digits give back the decimal the request was written in (0.3,
     * not 0.29999999999999999) */
    char *t = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (t) {
        fprintf(f->labels, "%s\n", t);
        fflush(f->labels);     /* a scorer may read while the sim runs */
        free(t);
    }
    json_decref(j);
}

static int apply(struct sb_simfault *f, struct fault *x, int on)
{
    if (x->cls < 0)
        return 0;
    struct sb_plant *p = f->sites[x->site].plant;
    if (on)
        return sb_plant_fault_set(p, (enum sb_plant_fault)x->cls, x->target, x->value);
    return sb_plant_fault_clear(p, (enum sb_plant_fault)x->cls, x->target);
}

/* "+10m" / "+600" relative to now, or an RFC 3339 time. */
static int parse_when(const json_t *j, int64_t now, int64_t *out)
{
    const char *s = json_string_value(j);
    int64_t d;

    if (!j) {
        *out = now;
        return 0;
    }
    if (json_is_integer(j)) {
        *out = json_integer_value(j);
    } else if (!s) {
        return SB_EINVAL;
    } else if (strcmp(s, "now") == 0) {
        *out = now;
    } else if (s[0] == '+') {
        if (sb_conf_parse_duration(s + 1, &d) < 0 || d > MAX_TIME_MS)
            return SB_EINVAL;
        *out = now + d;
    } else if (sb_time_parse(s, strlen(s), out) < 0) {
        return SB_EINVAL;
    }
    /* bounded, so start + duration and the labels' dates cannot overflow */
    return *out >= 0 && *out <= MAX_TIME_MS ? 0 : SB_EINVAL;
}

static int parse_duration(const json_t *j, int64_t *ms)
{
    *ms = 0;
    if (!j || json_is_null(j))
        return 0;
    if (json_is_number(j)) {
        double s = json_number_value(j);
        if (!(s > 0 && s <= 366.0 * 86400.0))
            return SB_ERANGE;
        *ms = (int64_t)(s * 1000.0);
        return *ms > 0 ? 0 : SB_ERANGE;
    }
    if (!json_is_string(j) || sb_conf_parse_duration(json_string_value(j), ms) < 0 || *ms <= 0)
        return SB_EINVAL;
    return *ms <= MAX_DUR_MS ? 0 : SB_ERANGE;
}

static int check_keys(const json_t *req, char *err, size_t errlen)
{
    static const char *const keys[] = { "class", "equipment", "value", "start", "duration", NULL };
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)req, k, v) {
        int ok = 0;
        for (int i = 0; keys[i]; i++)
            ok |= strcmp(k, keys[i]) == 0;
        if (!ok) {
            snprintf(err, errlen, "%s: unknown member (class, equipment, value, start, duration)", k);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* Fills x from req: class, equipment, value. */
static int parse_target(struct sb_simfault *f, const json_t *req, struct fault *x, char *err, size_t errlen)
{
    const char *cls = json_string_value(json_object_get(req, "class"));
    const char *eq = json_string_value(json_object_get(req, "equipment"));
    json_t *val = json_object_get(req, "value");
    int rc;

    if (!cls || !eq) {
        snprintf(err, errlen, "class and equipment are required strings");
        return SB_EINVAL;
    }
    if (val && !json_is_number(val)) {
        snprintf(err, errlen, "value: a number");
        return SB_EINVAL;
    }
    snprintf(x->equipment, sizeof(x->equipment), "%s", eq);
    x->value = val ? json_number_value(val) : NAN;
    x->site = -1;
    if (strcmp(cls, "device_offline") == 0 || strcmp(cls, "meter_dropout") == 0) {
        int d = find_dev(f, eq);
        x->cls = cls[0] == 'd' ? C_OFFLINE : C_DROPOUT;
        if (d < 0 || (x->cls == C_DROPOUT && !f->is_meter[d])) {
            snprintf(err, errlen, "equipment: no %s named %s", x->cls == C_DROPOUT ? "meter" : "device", eq);
            return SB_ENOENT;
        }
        snprintf(x->target, sizeof(x->target), "%s", eq);
        x->site = dev_site(f, eq);      /* for the label only: apply() skips these */
        return 0;
    }
    if ((rc = sb_plant_fault_parse(cls)) < 0) {
        snprintf(err, errlen, "class: unknown fault %s", cls);
        return SB_EINVAL;
    }
    x->cls = rc;
    if (plant_target(f, eq, &x->site, x->target, sizeof(x->target)) < 0) {
        snprintf(err, errlen, "equipment: no AHU, VAV or chiller named %s", eq);
        return SB_ENOENT;
    }
    /* a stuck damper at 0 % and a bias of 0 K are different faults from
     * "no value": every class but fan_failure says how bad it is */
    if (isnan(x->value) && x->cls != SB_PF_FAN_FAILURE) {
        snprintf(err, errlen, "value: %s needs one (%s)", cls,
                 x->cls == SB_PF_SAT_SENSOR_BIAS ? "K" : x->cls == SB_PF_ZONE_SENSOR_DRIFT ? "K per day" :
                 x->cls == SB_PF_CHILLER_COP_DEGRADATION ? "fraction of COP lost, 0..0.9" : "%");
        return SB_EINVAL;
    }
    /* a dry run on the plant checks equipment and value now, not at start */
    double had;
    int was = sb_plant_fault_active(f->sites[x->site].plant, (enum sb_plant_fault)x->cls, x->target, &had);
    rc = sb_plant_fault_set(f->sites[x->site].plant, (enum sb_plant_fault)x->cls, x->target,
                            isnan(x->value) ? 0 : x->value);
    if (rc == 0 && was <= 0)
        sb_plant_fault_clear(f->sites[x->site].plant, (enum sb_plant_fault)x->cls, x->target);
    else if (rc == 0)
        sb_plant_fault_set(f->sites[x->site].plant, (enum sb_plant_fault)x->cls, x->target, had);
    if (rc < 0) {
        snprintf(err, errlen, rc == SB_ERANGE ? "value: out of range for %s" : "equipment: %s has no such part",
                 rc == SB_ERANGE ? cls : eq);
        return rc;
    }
    if (isnan(x->value))
        x->value = 0;
    return 0;
}

/* A backfill has no rows outside its period: a fault starting there
 * would be labelled but never show. */
static int in_period(const struct sb_simfault *f, int64_t start_ms, char *err, size_t errlen)
{
    char a[40], b[40];
    int before = start_ms < f->first_ms;

    if (!f->has_period || (!before && start_ms <= f->last_ms))
        return 0;
    snprintf(err, errlen, "start: %s is %s the backfill's %s row %s", sb_time_format(start_ms, a, sizeof(a)),
             before ? "before" : "after", before ? "first" : "last",
             sb_time_format(before ? f->first_ms : f->last_ms, b, sizeof(b)));
    return SB_ERANGE;
}

int sb_simfault_inject(struct sb_simfault *f, const json_t *req, int64_t sim_now_ms, int64_t wall_now_ms,
                       char *err, size_t errlen)
{
    struct fault x = { 0 };
    int64_t dur;
    int rc;

    if (!json_is_object(req)) {
        snprintf(err, errlen, "a fault is a JSON object");
        return SB_EINVAL;
    }
    if ((rc = check_keys(req, err, errlen)) < 0 || (rc = parse_target(f, req, &x, err, errlen)) < 0)
        return rc;
    if (parse_when(json_object_get(req, "start"), f->has_period ? f->first_ms : sim_now_ms, &x.start_ms) < 0) {
        snprintf(err, errlen, "start: \"now\", \"+10m\" or an RFC 3339 time");
        return SB_EINVAL;
    }
    if ((rc = in_period(f, x.start_ms, err, errlen)) < 0)
        return rc;
    if ((rc = parse_duration(json_object_get(req, "duration"), &dur)) < 0) {
        snprintf(err, errlen, "duration: seconds or \"2h\" (up to a year)");
        return rc;
    }
    x.end_ms = dur ? x.start_ms + dur : 0;
    if (f->nf == MAX_FAULTS) {
        /* make room by forgetting the oldest ended fault (its labels are written) */
        for (int i = 0; i < f->nf; i++)
            if (f->f[i].state == ST_ENDED) {
                memmove(&f->f[i], &f->f[i + 1], (size_t)(f->nf - i - 1) * sizeof(f->f[0]));
                f->nf--;
                break;
            }
    }
    if (f->nf == MAX_FAULTS) {
        snprintf(err, errlen, "too many faults (%d)", MAX_FAULTS);
        return SB_ENOSPC;
    }
    struct fault *n = realloc(f->f, (size_t)(f->nf + 1) * sizeof(*n));
    if (!n)
        return SB_ENOMEM;
    f->f = n;
    x.id = f->next_id++;
    x.state = ST_SCHEDULED;
    f->f[f->nf++] = x;
    sb_simfault_tick(f, sim_now_ms, wall_now_ms);
    return x.id;
}

static void end_fault(struct sb_simfault *f, struct fault *x, int64_t sim_ms, int64_t wall_ms)
{
    int was = x->state == ST_ACTIVE;

    x->state = ST_ENDED;
    x->end_ms = sim_ms;
    x->end_wall = wall_ms;
    if (was) {
        apply(f, x, 0);
        /* another active fault of the same class on the same target keeps acting */
        for (int i = 0; i < f->nf; i++)
            if (f->f[i].state == ST_ACTIVE && f->f[i].cls == x->cls && strcmp(f->f[i].target, x->target) == 0 &&
                f->f[i].site == x->site)
                apply(f, &f->f[i], 1);
        label(f, x, "end");
    }
}

int sb_simfault_clear(struct sb_simfault *f, int id, int64_t sim_now_ms, int64_t wall_now_ms)
{
    for (int i = 0; i < f->nf; i++)
        if (f->f[i].id == id && f->f[i].state != ST_ENDED) {
            end_fault(f, &f->f[i], sim_now_ms, wall_now_ms);
            return 0;
        }
    return SB_ENOENT;
}

void sb_simfault_tick(struct sb_simfault *f, int64_t sim_now_ms, int64_t wall_now_ms)
{
    for (int i = 0; i < f->nf; i++) {
        struct fault *x = &f->f[i];
        if (x->state == ST_SCHEDULED && sim_now_ms >= x->start_ms) {
            x->state = ST_ACTIVE;
            x->start_ms = sim_now_ms;    /* the plant has it from this step on */
            x->start_wall = wall_now_ms;
            apply(f, x, 1);
            label(f, x, "start");
        }
        if (x->state == ST_ACTIVE && x->end_ms && sim_now_ms >= x->end_ms)
            end_fault(f, x, sim_now_ms, wall_now_ms);
    }
}

json_t *sb_simfault_list(const struct sb_simfault *f)
{
    static const char *const st[] = { "scheduled", "active", "ended" };
    json_t *a = json_array();
    char s[40], e[40];

    for (int i = 0; i < f->nf; i++) {
        const struct fault *x = &f->f[i];
        json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s}", "id", x->id, "class", class_name(x->cls),
                              "equipment", x->equipment, "target", x->target, "state", st[x->state],
                              "start", sb_time_format(x->start_ms, s, sizeof(s)));
        if (x->end_ms)
            json_object_set_new(j, "end", json_string(sb_time_format(x->end_ms, e, sizeof(e))));
        if (x->cls >= 0)
            json_object_set_new(j, "value", json_real(x->value));
        json_array_append_new(a, j);
    }
    return a;
}

int sb_simfault_offline(void *ud, const char *name)
{
    const struct sb_simfault *f = ud;

    for (int i = 0; f && i < f->nf; i++)
        if (f->f[i].state == ST_ACTIVE && f->f[i].cls < 0 && strcmp(f->f[i].target, name) == 0)
            return 1;
    return 0;
}

int sb_simfault_load(struct sb_simfault *f, const char *path, int64_t sim_now_ms, int64_t wall_now_ms,
                     char *err, size_t errlen)
{
    json_error_t je;
    json_t *a = json_load_file(path, 0, &je), *r;
    size_t i;
    int rc = 0;
    char e[200];

    if (!json_is_array(a)) {
        snprintf(err, errlen, "%s: %s", path, a ? "a JSON array of faults is expected" : je.text);
        json_decref(a);
        return SB_EINVAL;
    }
    json_array_foreach(a, i, r) {
        if ((rc = sb_simfault_inject(f, r, sim_now_ms, wall_now_ms, e, sizeof(e))) < 0) {
            snprintf(err, errlen, "%s: fault %zu: %s", path, i, e);
            break;
        }
        rc = 0;
    }
    json_decref(a);
    return rc;
}

/*
 * svc.c - supervisory control in the daemon (see svc.h).
 *
 * State: one struct zrt per controlled zone, keyed by zone slug, living in
 * the service.  The tick's worker job is the only writer of the zones'
 * plans; the loop thread's write callbacks only set what the device holds
 * (a failed write), and the next job starts only after every write is back, so the
 * two never touch a zone at once.  The newest readings come from the live
 * bus into a table guarded by its own mutex; the API's view is a JSON
 * snapshot per building swapped under another.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analytics/bdocs.h"
#include "analytics/meter.h"
#include "analytics/service.h"
#include "control/arb.h"
#include "control/demand.h"
#include "control/ical.h"
#include "control/learn.h"
#include "control/native.h"
#include "control/nsync.h"
#include "control/sched.h"
#include "control/settings.h"
#include "control/svc.h"
#include "control/zone.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "db/appdb.h"
#include "db/audit_later.h"
#include "drivers/manager.h"
#include "ingest/bus.h"
#include "model/hub.h"

#define MAX_ZONES      4096
#define REFRESH_MS     (30 * 60000LL)   /* rewrite an unchanged setpoint this often */
#define DEADBAND_K     0.05             /* smaller changes are not written */
#define DRIFT_K        0.3              /* the device reads this far off what we hold: rewrite */
#define LEARN_EVERY_MS (24 * 3600000LL)  /* optimal start/stop relearnt daily */
#define LEARN_RETRY_MS (3600000LL)       /* .. hourly while it cannot be */
#define LEARN_PER_TICK 4                 /* zones learnt per tick at most: a tick stays short */
#define NAT_RETRY_MS   (60000LL)         /* a failed native schedule check is tried again this soon */

/* A zone's native Schedule object (control/nsync.h): what to keep it
 * holding and what the last check found.  Heap-allocated, so a check out
 * on the loop keeps it while the worker grows the zones' array; every
 * field is under the service's nmu. */
struct znat {
    char zone[64];
    struct sb_ctlsvc *s;
    int busy;                            /* a check is out (loop) */
    int64_t sched, cal;                  /* the objects configured (-1 none) */
    int64_t run_sched, run_cal;          /* .. those of the check out (a verdict on objects
                                            since changed is not kept) */
    uint32_t point;                      /* a point of the zone's controller */
    int mode;                            /* the zone's mode in force (writes only in auto) */
    int64_t check_ms;                    /* the settings' native_check_min */
    struct sb_csched want;               /* the zone's schedule, holidays applied */
    char *want_json;                     /* .. canonical (sb_csched_to_json): changes show */
    int64_t today;                       /* the building's local day it was built for */
    int64_t next_ms;                     /* next check due */
    int due;                             /* check at this tick whatever next_ms says */
    char due_why[64];                    /* why ("the schedule changed", ...) */
    int stale;                           /* the controller's setpoint was stale last tick */
    /* the last check */
    int state;                           /* enum sb_nsync_state */
    char why[300];
    int64_t checked_ms, written_ms, sync_ms;   /* last check, write, and in-sync verdict */
    size_t n_exc, exc_wanted, n_dates, dates_wanted;
    double present;                      /* the Schedule's Present_Value at the check */
};

struct last {                            /* newest reading of a point */
    int64_t t;
    double v;
};

struct zrt {
    char zone[64], building[64];
    int used;                            /* seen in this tick */
    uint32_t heat_pt, cool_pt;           /* writable setpoints (0: none) */
    uint32_t temp_pt, occ_pt;
    double heat_min, heat_max, cool_min, cool_max;   /* canonical degC, NaN open */
    struct sb_unit_conv heat_out, cool_out;          /* canonical -> the points' source unit */
    /* the plan of the last tick */
    int mode;                            /* enum sb_ctlmode in force */
    enum sb_cmode cmode;
    double want_heat, want_cool;         /* the winner's setpoints, degC */
    char winner[16], reason[SB_ARB_REASON_MAX + 8];
    int64_t until_ms;
    int64_t vacant_since;
    int was_occ;
    /* optimal start/stop learnt from the zone's history (control/learn.h) */
    struct sb_os_model os;
    int64_t os_at;                       /* last attempt, 0 never */
    char os_why[120];                    /* why nothing was learnt ("" when something was) */
    int os_used;                         /* the last lead came from the learnt rate */
    int64_t stop_period;                 /* optimal stop decided for the period ending here .. */
    int64_t stop_from;                   /* .. from this time (0: not in that period) */
    /* arbitration and guardrails of the two setpoints ([0] heating, [1]
     * cooling), values in degC; the loop thread only reports failed writes */
    struct sb_arb_point ap[2];
    struct sb_arb_out ao[2];
    int ap_ok;
    char last_result[24];
    int64_t last_write_ms;
    struct znat *nat;                    /* its native Schedule, NULL when it never had one */
};

struct wr {                              /* one write the tick decided */
    struct sb_ctlsvc *s;
    size_t zi;
    int heat;                            /* 1 heating, 0 cooling setpoint */
    int relinquish;                      /* release sbems's slot instead */
    uint32_t point;
    double value;                        /* canonical */
    double src;                          /* in the point's source unit */
    char reason[256];
};

struct job {
    uv_work_t w;
    struct sb_ctlsvc *s;
    struct wr *wv;
    size_t nw, capw;
    struct znat **nq;                    /* native schedule checks due */
    size_t nnq, capnq;
};

struct snap {
    char building[64];
    json_t *state;
};

struct planc {                           /* a building's last plan (worker only) */
    char building[64];
    json_t *plan;                        /* sb_analytics_plan's answer, NULL none */
    int64_t at;                          /* when it was asked for */
    char err[256];                       /* why there is none */
};

#define PLAN_EVERY_MS (15 * 60000LL)
#define PLAN_TTL_MS   (30 * 60000LL)    /* a plan older than this is not used */

struct sb_ctlsvc {
    struct sb_ctlsvc_cfg cfg;
    uv_timer_t timer;
    int timer_on, stopping, busy, writes_out, poked;
    int nat_out;                         /* native Schedule checks out (loop) */
    int bus_sub;
    pthread_mutex_t mu;                  /* last[] */
    struct last *last;
    size_t nlast;
    pthread_mutex_t smu;                 /* snaps, stats */
    struct snap *snaps;
    size_t nsnaps;
    struct sb_ctlsvc_stats st;
    struct planc *plans;                 /* worker only */
    size_t nplans;
    sb_ctlsvc_rec_fn rec;                /* loop thread */
    void *rec_ud;
    struct zrt *z;                       /* zones (job / loop, see above) */
    size_t nz;
    struct dlim *dl;                     /* demand limiters by building (worker only) */
    size_t ndl;
    pthread_mutex_t nmu;                 /* every struct znat, and nats[] */
    struct znat **nats;                  /* the zones' native schedules (owned) */
    size_t nnats;
};

struct dlim {                            /* a building's demand limiter */
    char building[64];
    struct sb_dlim st;
    double power_kw;                     /* the main meters' power at the last tick, NaN unknown */
    int meters;                          /* main meters with a power point */
};

/* ---- newest readings ------------------------------------------------------------------- */

static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    struct sb_ctlsvc *s = ud;

    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = r[i].point;
        if (id >= s->nlast) {
            if (id >= 16u << 20)         /* a point id this large is not one of a model's */
                continue;
            size_t cap = s->nlast ? s->nlast : 1024;
            while (cap <= id)
                cap *= 2;
            struct last *v = realloc(s->last, cap * sizeof(*v));
            if (!v)
                continue;
            memset(v + s->nlast, 0, (cap - s->nlast) * sizeof(*v));
            s->last = v;
            s->nlast = cap;
        }
        if (r[i].t >= s->last[id].t && isfinite(r[i].v)) {
            s->last[id].t = r[i].t;
            s->last[id].v = r[i].v;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* The point's newest value if fresh, else NaN. */
static double fresh(struct sb_ctlsvc *s, uint32_t id, int64_t now)
{
    double v = NAN;

    if (!id)
        return NAN;
    pthread_mutex_lock(&s->mu);
    if (id < s->nlast && s->last[id].t && now - s->last[id].t <= s->cfg.stale_ms)
        v = s->last[id].v;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* ---- the zones' points ----------------------------------------------------------------- */

static int is_brick(const struct sb_point *p, const char *cls)
{
    return p->brick && strcmp(p->brick, cls) == 0;
}

static int tagged(const struct sb_point *p, const char *const *tags)
{
    for (; *tags; tags++)
        if (!sb_point_has_tag(p, *tags))
            return 0;
    return 1;
}

/* A zone's heating (+1) or cooling (-1) setpoint, 0 neither.  Brick first,
 * then Haystack tags: "zone air temp heating sp" / "... cooling sp". */
static int sp_kind(const struct sb_point *p)
{
    static const char *const heat[] = { "zone", "air", "temp", "heating", "sp", NULL };
    static const char *const cool[] = { "zone", "air", "temp", "cooling", "sp", NULL };

    if (!p->writable || p->kind != SB_POINT_SETPOINT)
        return 0;
    if (is_brick(p, "Zone_Air_Heating_Temperature_Setpoint") || tagged(p, heat))
        return 1;
    if (is_brick(p, "Zone_Air_Cooling_Temperature_Setpoint") || tagged(p, cool))
        return -1;
    return 0;
}

/* An occupancy reading (> 0.5: someone there): the kind, a Brick
 * occupancy class, the Haystack "occupied" tag, or - devices that expose
 * it as a plain value, as many VAV controllers do - a point named
 * "Occupancy ..." that is not a command. */
static int is_occupancy(const struct sb_point *p)
{
    if (p->writable)
        return 0;
    return p->kind == SB_POINT_OCCUPANCY || (p->brick && strstr(p->brick, "Occupancy")) ||
           sb_point_has_tag(p, "occupied") ||
           (p->kind == SB_POINT_OTHER && p->name && strncasecmp(p->name, "Occupancy", 9) == 0);
}

static double to_canon(const struct sb_point *p, double v)
{
    return isnan(v) ? NAN : sb_unit_conv_apply(&p->to_canon, v);
}

static struct zrt *zone_rt(struct sb_ctlsvc *s, const char *slug)
{
    for (size_t i = 0; i < s->nz; i++)
        if (strcmp(s->z[i].zone, slug) == 0)
            return &s->z[i];
    if (s->nz >= MAX_ZONES)
        return NULL;
    struct zrt *v = realloc(s->z, (s->nz + 1) * sizeof(*v));
    if (!v)
        return NULL;
    s->z = v;
    struct zrt *z = &v[s->nz++];
    memset(z, 0, sizeof(*z));
    snprintf(z->zone, sizeof(z->zone), "%s", slug);
    z->want_heat = z->want_cool = NAN;
    return z;
}

/* Bind a zone's points from the model (every tick: the model may change). */
/* The model's points grouped by the zone of their equipment, in model
 * order: zone zi's are pts[first[zi] .. first[zi + 1]).  Built once a tick
 * (counting sort), so binding every zone costs one pass over the points. */
struct zindex {
    uint32_t *first;                     /* nzones + 1 entries */
    uint32_t *pts;                       /* point indices */
};

static int point_zone(const struct sb_model *m, size_t i)
{
    int32_t e = m->points[i].equipment_ix;
    return e >= 0 ? m->equipment[e].zone_ix : -1;
}

static int zindex_build(const struct sb_model *m, struct zindex *x)
{
    x->first = calloc(m->nzones + 2, sizeof(*x->first));
    x->pts = malloc((m->npoints ? m->npoints : 1) * sizeof(*x->pts));
    if (!x->first || !x->pts)
        return SB_ENOMEM;
    for (size_t i = 0; i < m->npoints; i++) {
        int zi = point_zone(m, i);
        if (zi >= 0 && (size_t)zi < m->nzones)
            x->first[zi + 2]++;
    }
    for (size_t z = 2; z < m->nzones + 2; z++)
        x->first[z] += x->first[z - 1];
    for (size_t i = 0; i < m->npoints; i++) {   /* first[zi + 1]: the next free slot of zi */
        int zi = point_zone(m, i);
        if (zi >= 0 && (size_t)zi < m->nzones)
            x->pts[x->first[zi + 1]++] = (uint32_t)i;
    }
    return 0;
}

static void zindex_free(struct zindex *x)
{
    free(x->first);
    free(x->pts);
}

static void bind_points(struct zrt *z, const struct sb_model *m, const struct zindex *x, int32_t zi)
{
    z->heat_pt = z->cool_pt = z->occ_pt = 0;
    const struct sb_point *tp = sb_zone_temp_point(m, zi);
    z->temp_pt = tp ? tp->id : 0;
    for (uint32_t j = x->first[zi]; j < x->first[zi + 1]; j++) {
        const struct sb_point *p = &m->points[x->pts[j]];
        int k = sp_kind(p);
        if ((k == 1 && !z->heat_pt) || (k == -1 && !z->cool_pt)) {
            struct sb_unit_conv *out = k == 1 ? &z->heat_out : &z->cool_out;
            if (sb_unit_conv_init(out, p->canon, p->unit))
                continue;
            *(k == 1 ? &z->heat_pt : &z->cool_pt) = p->id;
            *(k == 1 ? &z->heat_min : &z->cool_min) = to_canon(p, p->min);
            *(k == 1 ? &z->heat_max : &z->cool_max) = to_canon(p, p->max);
        }
        if (!z->occ_pt && is_occupancy(p))
            z->occ_pt = p->id;
    }
}

/* ---- one zone's evaluation (worker) ---------------------------------------------------- */

struct bctx {                            /* what a building's zones share in one tick */
    struct sb_ctlsvc *s;
    const struct sb_model *m;
    const struct sb_building *b;
    struct sb_ctlset set;
    int64_t *hol;
    size_t nhol;
    struct sb_ical_list ical;
    int64_t now;
    struct job *job;
    json_t *zones;
    struct planc *plan;                  /* the building's, NULL when the optimizer is off */
    const struct zindex *zx;             /* the points by zone */
    int learn_left;                      /* zones that may still learn in this tick */
    const struct sb_point *oat;          /* the building's outdoor temperature point, NULL none */
    struct dlim *dl;                     /* the building's demand limiter, NULL when off */
};

/* The zone's control schedule: the settings' own, else the model's
 * occupancy schedule and comfort bands; with the building's holidays and
 * the imported calendar.  0, or 1 when the zone has no schedule at all. */
static int zone_sched(struct bctx *c, const struct sb_zone *zo, struct sb_ctlset_zone *zs, struct sb_csched *cs)
{
    char why[128];

    /* the settings' schedule, over the zone's comfort bands: setpoints it
     * leaves out are the zone's (settings.h) */
    if (zs && zs->has_sched) {
        sb_csched_init(cs, zo->comfort.set ? &zo->comfort : NULL);
        if (sb_csched_parse(cs, zs->sched_json, strlen(zs->sched_json), why, sizeof(why)) != 0) {
            /* valid over the defaults only (a period's lone heating setpoint
             * above the zone's cooling): the defaults it was checked with */
            SB_WARN("control", "zone %s: schedule over the zone's comfort bands: %s; "
                    "using the default bands", zo->slug, why);
            *cs = zs->sched;             /* moved: the settings are this tick's own */
            memset(&zs->sched, 0, sizeof(zs->sched));
        }
    } else {
        if (!zo->sched.set)
            return 1;
        sb_csched_init(cs, &zo->comfort);
        sb_csched_from_occupancy(cs, &zo->sched);
    }
    if (c->nhol)
        sb_csched_add_holidays(cs, c->hol, c->nhol);
    if (c->ical.n)
        sb_ical_apply(&c->ical, cs);
    return 0;
}

/* The next occupied period within the lead, by walking the schedule's
 * transitions (at most 8). */
static void next_occupied(const struct sb_csched *cs, const struct sb_tz *tz, const struct sb_csched_state *now,
                          int64_t horizon_ms, struct sb_csched_state *out)
{
    struct sb_csched_state st = *now;

    memset(out, 0, sizeof(*out));
    out->mode = SB_CMODE_UNOCCUPIED;
    for (int i = 0; i < 8 && st.next_ms != INT64_MAX && st.next_ms <= horizon_ms; i++) {
        int64_t at = st.next_ms;
        if (sb_csched_at(cs, tz, at, &st))
            return;
        if (st.mode == SB_CMODE_OCCUPIED) {
            *out = st;
            out->since_ms = at;
            return;
        }
    }
}

/* Occupancy: when the zone last turned vacant. */
static void occupancy(struct zrt *z, double occ, int64_t now, int *known, int *occupied)
{
    *known = !isnan(occ);
    *occupied = *known && occ > 0.5;
    if (!*known)
        return;
    if (*occupied)
        z->vacant_since = 0;
    else if (!z->vacant_since)
        z->vacant_since = now;          /* first seen vacant: the delay counts from here */
    z->was_occ = *occupied;
}

static void add_write(struct bctx *c, size_t zi, int heat, double v, int relinquish)
{
    struct job *j = c->job;
    struct zrt *z = &c->s->z[zi];

    if (j->nw == j->capw) {
        size_t cap = j->capw ? j->capw * 2 : 32;
        struct wr *nv = realloc(j->wv, cap * sizeof(*nv));
        if (!nv)
            return;
        j->wv = nv;
        j->capw = cap;
    }
    struct wr *w = &j->wv[j->nw++];
    memset(w, 0, sizeof(*w));
    w->s = c->s;
    w->zi = zi;
    w->heat = heat;
    w->point = heat ? z->heat_pt : z->cool_pt;
    w->relinquish = relinquish;
    w->value = relinquish ? NAN : v;
    w->src = relinquish ? NAN : sb_unit_conv_apply(heat ? &z->heat_out : &z->cool_out, v);
    if (relinquish)
        snprintf(w->reason, sizeof(w->reason), "%s %s: released (%s)", z->zone, heat ? "heating" : "cooling",
                 z->mode == SB_CTL_OFF ? "control off" : "no source commands it");
    else
        snprintf(w->reason, sizeof(w->reason), "%s %s: %s", z->zone, heat ? "heating" : "cooling", z->reason);
}

static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(round(v * 100.0) / 100.0) : json_null();
}

/* The guardrails that shaped a setpoint, in words. */
static json_t *flags_json(unsigned f)
{
    static const struct { unsigned bit; const char *name; } names[] = {
        { SB_ARB_F_BOUNDS, "bounds" }, { SB_ARB_F_BAND, "band" }, { SB_ARB_F_RAMPED, "ramped" },
        { SB_ARB_F_FALLBACK, "fallback" }, { SB_ARB_F_DEADBAND, "deadband" }, { SB_ARB_F_INTERVAL, "interval" },
        { SB_ARB_F_ADVISORY, "advisory" }, { SB_ARB_F_OFF, "off" }, { SB_ARB_F_RELEASE, "release" },
        { SB_ARB_F_NOSTART, "stepped" },
    };
    json_t *a = json_array();
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (f & names[i].bit)
            json_array_append_new(a, json_string(names[i].name));
    return a;
}

static json_t *src_json(const char *name, int prio, const struct sb_zsup_cmd *k)
{
    char t[40];
    return json_pack("{s:s,s:i,s:b,s:o,s:o,s:s,s:o}", "source", name, "priority", prio, "active", k->active,
                     "heating", num_or_null(k->active ? k->band.heating : NAN), "cooling",
                     num_or_null(k->active ? k->band.cooling : NAN), "reason", k->reason, "until",
                     k->active && k->until_ms != INT64_MAX ? json_string(sb_time_format(k->until_ms, t, sizeof(t)))
                                                           : json_null());
}

/* One learnt rate: a + b x, K/h, with its episodes. */
static json_t *fit_json(const struct sb_os_fit *f)
{
    if (!f->learnt)
        return json_pack("{s:b,s:I}", "learnt", 0, "episodes", (json_int_t)f->n_episodes);
    return json_pack("{s:b,s:f,s:f,s:I,s:I,s:f}", "learnt", 1, "a_k_per_h", f->a, "b_per_h", f->b,
                     "episodes", (json_int_t)f->n_episodes, "used", (json_int_t)f->n_used,
                     "rmse_k_per_h", f->rmse);
}

/* What optimal start knows of the zone: when it last learnt, the warm-up
 * and cool-down rates against the outdoor temperature (a + b T_out), the
 * passive drift, and whether the last lead came from them. */
static json_t *os_json(const struct zrt *z)
{
    char t[40];

    if (!z->os_at)
        return json_null();
    return json_pack("{s:s,s:s?,s:o,s:o,s:o,s:b}", "learnt_at",
                     sb_time_format(z->os_at, t, sizeof(t)), "why_not",
                     z->os_why[0] ? z->os_why : NULL, "warm_up", fit_json(&z->os.warm),
                     "cool_down", fit_json(&z->os.cool), "drift", fit_json(&z->os.drift),
                     "lead_from_learnt", z->os_used);
}

static json_t *nat_json(struct sb_ctlsvc *s, struct znat *n);

static void zone_json(struct bctx *c, const struct zrt *z, const char *why_not, const struct sb_zsup_out *o,
                      double temp, int occ_known, int occupied)
{
    char t[40];
    json_t *j = json_pack("{s:s,s:s,s:b}", "zone", z->zone, "mode", sb_ctlmode_name(z->mode), "controlled",
                          why_not == NULL);

    if (why_not) {
        json_object_set_new(j, "why_not", json_string(why_not));
    } else {
        json_object_set_new(j, "state", json_string(sb_cmode_name(z->cmode)));
        json_object_set_new(j, "winner", json_string(z->winner));
        json_object_set_new(j, "reason", json_string(z->reason));
        json_object_set_new(j, "until", z->until_ms != INT64_MAX
                                            ? json_string(sb_time_format(z->until_ms, t, sizeof(t)))
                                            : json_null());
        json_object_set_new(j, "target", json_pack("{s:o,s:o}", "heating", num_or_null(z->want_heat),
                                                   "cooling", num_or_null(z->want_cool)));
        json_object_set_new(j, "heating_sp", num_or_null(z->heat_pt ? z->ao[0].value : NAN));
        json_object_set_new(j, "cooling_sp", num_or_null(z->cool_pt ? z->ao[1].value : NAN));
        json_object_set_new(j, "flags", json_pack("[o,o]", flags_json(z->ao[0].why.flags),
                                                  flags_json(z->ao[1].why.flags)));
        json_object_set_new(j, "sources", json_pack("[o,o,o,o,o]", src_json("demand", 9, &o->demand),
                                                    src_json("tenant", 10, &o->tenant),
                                                    src_json("optimizer", 12, &o->optimizer),
                                                    src_json("setback", 13, &o->setback),
                                                    src_json("schedule", 14, &o->schedule)));
    }
    json_object_set_new(j, "temp", num_or_null(temp));
    json_object_set_new(j, "optimal_start", os_json(z));
    json_object_set_new(j, "occupied", occ_known ? json_boolean(occupied) : json_null());
    json_object_set_new(j, "points", json_pack("{s:i,s:i,s:i,s:i}", "heating_sp", (int)z->heat_pt, "cooling_sp",
                                               (int)z->cool_pt, "temp", (int)z->temp_pt, "occupancy",
                                               (int)z->occ_pt));
    json_object_set_new(j, "last_write", z->last_write_ms
                        ? json_pack("{s:s,s:s}", "at", sb_time_format(z->last_write_ms, t, sizeof(t)),
                                    "result", z->last_result)
                        : json_null());
    json_t *nj = z->nat ? nat_json(c->s, z->nat) : NULL;
    if (nj)
        json_object_set_new(j, "native_schedule", nj);
    json_array_append_new(c->zones, j);
}

/* The building's plan, asked for again every 15 minutes (and when the
 * settings turn the optimizer on).  A failure leaves no plan: the zones
 * fall back to their other sources. */
static struct planc *building_plan(struct bctx *c)
{
    struct sb_ctlsvc *s = c->s;
    struct planc *p = NULL;
    char err[256] = "";

    if (!c->set.optimizer || !s->cfg.analytics)
        return NULL;
    for (size_t i = 0; i < s->nplans && !p; i++)
        if (strcmp(s->plans[i].building, c->b->slug) == 0)
            p = &s->plans[i];
    if (!p) {
        struct planc *v = realloc(s->plans, (s->nplans + 1) * sizeof(*v));
        if (!v)
            return NULL;
        s->plans = v;
        p = &v[s->nplans++];
        memset(p, 0, sizeof(*p));
        snprintf(p->building, sizeof(p->building), "%s", c->b->slug);
    }
    if (p->at && c->now - p->at < PLAN_EVERY_MS)
        return p;
    json_decref(p->plan);
    p->plan = NULL;
    p->at = c->now;
    int rc = sb_analytics_plan(s->cfg.analytics, c->b->slug, 24, &p->plan, err, sizeof(err));
    const char *st = p->plan ? json_string_value(json_object_get(p->plan, "status")) : NULL;
    if (rc || !st || strcmp(st, "solver") == 0) {
        snprintf(p->err, sizeof(p->err), "%s", rc ? (err[0] ? err : sb_strerror(rc)) : "the solver failed");
        json_decref(p->plan);
        p->plan = NULL;
        SB_WARN("control", "building %s: no plan: %s", c->b->slug, p->err);
    } else {
        p->err[0] = '\0';
    }
    return p;
}

/* The optimizer's command for a zone: the plan's setpoints of the step
 * holding now, valid to the plan's time to live. */
static void zone_plan(const struct bctx *c, const char *zone, struct sb_zsup_cmd *k)
{
    const json_t *zs = c->plan && c->plan->plan ? json_object_get(c->plan->plan, "zones") : NULL;
    const json_t *z, *pt;
    size_t i, j;

    memset(k, 0, sizeof(*k));
    if (!zs || c->now - c->plan->at > PLAN_TTL_MS)
        return;
    json_array_foreach(zs, i, z) {
        if (strcmp(json_string_value(json_object_get(z, "zone")) ?: "", zone))
            continue;
        json_array_foreach(json_object_get(z, "points"), j, pt) {
            const char *ts = json_string_value(json_object_get(pt, "t"));
            int64_t t;
            if (!ts || sb_time_parse(ts, strlen(ts), &t) || c->now < t || c->now >= t + 900000)
                continue;
            k->active = 1;
            k->band.heating = json_number_value(json_object_get(pt, "heating_sp"));
            k->band.cooling = json_number_value(json_object_get(pt, "cooling_sp"));
            k->until_ms = c->plan->at + PLAN_TTL_MS;
            snprintf(k->reason, sizeof(k->reason), "plan: %.1f K predicted, cost %.2f against %.2f by the schedule",
                     json_number_value(json_object_get(pt, "temperature")),
                     json_number_value(json_object_get(json_object_get(c->plan->plan, "plan"), "cost")),
                     json_number_value(json_object_get(json_object_get(c->plan->plan, "baseline"), "cost")));
            return;
        }
    }
}

/* Configure a setpoint's arbitration table: sbems's priority, the point's
 * bounds, ramps (away from comfort at ramp_k_per_h, back towards it at
 * recover_k_per_h: never a step either way - a stepped return after a
 * setback or a demand event makes every box call for cooling at once, the
 * rebound above the old peak), and the write rules. */
static void arb_setup(struct sb_arb_point *p, const struct sb_ctlsvc *s, const struct sb_ctlset *set, int heat,
                      double lo, double hi)
{
    struct sb_arb_cfg cfg;
    double away = set->ramp_k_per_h / 60.0, back = set->recover_k_per_h / 60.0;

    sb_arb_cfg_init(&cfg);
    cfg.write_priority = s->cfg.priority;
    cfg.min = isnan(lo) ? -50.0 : lo;
    cfg.max = isnan(hi) ? 60.0 : hi;
    cfg.rate_up = heat ? back : away;
    cfg.rate_down = heat ? away : back;
    cfg.deadband = DEADBAND_K;
    cfg.refresh_ms = REFRESH_MS;
    if (!p->cfg.write_priority) {
        sb_arb_init(p, &cfg);
    } else {
        p->cfg = cfg;                    /* settings may change; the commands and state stay */
    }
}

static void arb_source(struct sb_arb_point *p, int src, const struct sb_zsup_cmd *k, int heat, int64_t now)
{
    char owner[32];

    if (!k->active) {
        sb_arb_release(p, src);
        return;
    }
    snprintf(owner, sizeof(owner), "sbems-%s", sb_arb_src_name(src));
    sb_arb_set(p, src, heat ? k->band.heating : k->band.cooling, owner, k->reason, now,
               k->until_ms == INT64_MAX ? 0 : k->until_ms);
}

/* The sources into each setpoint's table, one update, and the writes due. */
static void arbitrate(struct bctx *c, struct zrt *z, const struct sb_zsup_out *o)
{
    const uint32_t pts[2] = { z->heat_pt, z->cool_pt };
    const double lo[2] = { z->heat_min, z->cool_min }, hi[2] = { z->heat_max, z->cool_max };
    int zmode = z->mode, bmode = c->s->cfg.drivers ? c->set.mode : SB_CTL_ADVISORY;
    size_t ix = (size_t)(z - c->s->z);

    for (int k = 0; k < 2; k++) {
        struct sb_arb_point *p = &z->ap[k];
        struct sb_arb_out *out = &z->ao[k];
        memset(out, 0, sizeof(*out));
        out->value = NAN;
        out->why.winner = -1;
        if (!pts[k])
            continue;
        arb_setup(p, c->s, &c->set, k == 0, lo[k], hi[k]);
        arb_source(p, SB_ARB_DEMAND, &o->demand, k == 0, c->now);
        arb_source(p, SB_ARB_TENANT, &o->tenant, k == 0, c->now);
        arb_source(p, SB_ARB_OPTIMIZER, &o->optimizer, k == 0, c->now);
        arb_source(p, SB_ARB_SETBACK, &o->setback, k == 0, c->now);
        arb_source(p, SB_ARB_SCHEDULE, &o->schedule, k == 0, c->now);
        struct sb_arb_in ai = { .now_ms = c->now, .zone_mode = zmode, .building_mode = bmode,
                                .band_lo = NAN, .band_hi = NAN, .release_to = NAN,
                                .present = fresh(c->s, pts[k], c->now) };
        if (sb_arb_update(p, &ai, out))
            continue;
        if (out->action == SB_ARB_WRITE)
            add_write(c, ix, k == 0, out->value, 0);
        else if (out->action == SB_ARB_RELINQUISH)
            add_write(c, ix, k == 0, NAN, 1);
    }
    /* what the zone shows: the winner of the cooling table (or heating) */
    const struct sb_arb_explain *w = z->cool_pt ? &z->ao[1].why : &z->ao[0].why;
    snprintf(z->winner, sizeof(z->winner), "%s", w->winner >= 0 ? sb_arb_src_name(w->winner) : "none");
    snprintf(z->reason, sizeof(z->reason), "%s", w->winner >= 0 ? w->reason : "");
    z->until_ms = w->winner >= 0 && w->expires_ms ? w->expires_ms : INT64_MAX;
    z->want_heat = z->heat_pt ? z->ao[0].why.target : NAN;
    z->want_cool = z->cool_pt ? z->ao[1].why.target : NAN;
}

/* ---- the demand limiter (control/demand.h) ------------------------------------------- */

static struct dlim *dlim_of(struct sb_ctlsvc *s, const char *building)
{
    for (size_t i = 0; i < s->ndl; i++)
        if (strcmp(s->dl[i].building, building) == 0)
            return &s->dl[i];
    struct dlim *v = realloc(s->dl, (s->ndl + 1) * sizeof(*v));
    if (!v)
        return NULL;
    s->dl = v;
    v = &s->dl[s->ndl++];
    memset(v, 0, sizeof(*v));
    snprintf(v->building, sizeof(v->building), "%s", building);
    sb_dlim_init(&v->st);
    return v;
}

/* The building's demand now: the sum of its main meters' (meters fed by no
 * other meter) power, NaN when one of them has no fresh reading. */
static double building_power(struct bctx *c, int *meters)
{
    const struct sb_model *m = c->m;
    int32_t bi = (int32_t)(c->b - m->buildings);
    double kw = 0;

    *meters = 0;
    for (size_t i = 0; i < m->nequipment; i++) {
        const struct sb_equipment *e = &m->equipment[i];
        const struct sb_point *p;
        if (e->building_ix != bi || e->parent_ix >= 0 || !(p = sb_meter_power_point(m, e)))
            continue;
        (*meters)++;
        kw += fresh(c->s, p->id, c->now);
    }
    return *meters ? kw : NAN;
}

/* This tick's level of the building's limiter (off: none, its state
 * forgotten so a limit set again starts from level 0). */
static void demand_tick(struct bctx *c)
{
    struct sb_dlim_cfg dc;
    struct dlim *d = dlim_of(c->s, c->b->slug);

    if (!d)
        return;
    if (!(c->set.demand_limit_kw > 0)) {
        sb_dlim_init(&d->st);
        return;
    }
    sb_dlim_cfg_default(&dc, c->set.demand_limit_kw);
    d->power_kw = building_power(c, &d->meters);
    sb_dlim_update(&d->st, &dc, c->now, d->power_kw);
    c->dl = d;
}

/* The limiter's wish for a zone: the band the zone would get from the
 * sources below it, widened by the level's offset - never narrower than
 * what the zone has (a setback band stays a setback band). */
static void demand_cmd(const struct bctx *c, struct sb_zsup_out *o)
{
    const struct sb_zsup_cmd *base[] = { &o->tenant, &o->optimizer, &o->setback, &o->schedule };
    const struct dlim *d = c->dl;

    memset(&o->demand, 0, sizeof(o->demand));
    if (!d || d->st.level <= 0)
        return;
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
        if (!base[i]->active)
            continue;
        double off = sb_dlim_offset_k(d->st.level);
        o->demand.active = 1;
        o->demand.band.heating = base[i]->band.heating - off;
        o->demand.band.cooling = base[i]->band.cooling + off;
        o->demand.until_ms = INT64_MAX;
        snprintf(o->demand.reason, sizeof(o->demand.reason),
                 "demand limit level %d: %.0f kW projected, limit %.0f kW", d->st.level,
                 d->st.projected_kw, c->set.demand_limit_kw);
        return;
    }
}

static json_t *demand_json(const struct bctx *c)
{
    const struct dlim *d = c->dl;

    if (!d)
        return json_null();
    return json_pack("{s:f,s:i,s:f,s:o,s:o,s:i}", "limit_kw", c->set.demand_limit_kw, "level",
                     d->st.level, "offset_k", sb_dlim_offset_k(d->st.level), "projected_kw",
                     num_or_null(d->st.projected_kw), "power_kw", num_or_null(d->power_kw),
                     "meters", d->meters);
}

/* Relearns zone zi's optimal start/stop from its history when due (daily;
 * hourly while nothing can be learnt), a few zones per tick. */
static void learn_zone(struct bctx *c, struct zrt *z, int32_t zi, const struct sb_band *occ)
{
    const struct sb_model *m = c->m;
    int64_t every = z->os_why[0] || !z->os_at ? LEARN_RETRY_MS : LEARN_EVERY_MS;
    char err[sizeof(z->os_why)] = "";

    if (!c->s->cfg.store || !c->set.optimal_start || c->learn_left <= 0 ||
        (z->os_at && c->now - z->os_at < every))
        return;
    c->learn_left--;
    z->os_at = c->now;
    struct sb_ctl_os_points p = {
        .tz = sb_zone_temp_point(m, zi),
        .tout = c->oat,
        .hsp = z->heat_pt ? sb_model_point_by_id(m, z->heat_pt) : NULL,
        .csp = z->cool_pt ? sb_model_point_by_id(m, z->cool_pt) : NULL,
    };
    int rc = sb_ctl_os_learn(c->s->cfg.store, &p, occ, c->now, SB_CTL_LEARN_DAYS, &z->os, err,
                             sizeof(err));
    if (rc == 0 && !z->os.warm.learnt && !z->os.cool.learnt)
        snprintf(err, sizeof(err), "fewer than 5 recoveries in %d days (warm-up %zu, cool-down %zu "
                 "found)", SB_CTL_LEARN_DAYS, z->os.warm.n_episodes, z->os.cool.n_episodes);
    else if (rc && !err[0])
        snprintf(err, sizeof(err), "%s", sb_strerror(rc));
    snprintf(z->os_why, sizeof(z->os_why), "%s", err);
    if (!err[0])
        SB_INFO("control", "zone %s: optimal start learnt (warm-up %zu episodes, cool-down %zu, "
                "drift %zu)", z->zone, z->os.warm.n_used, z->os.cool.n_used, z->os.drift.n_used);
}

/* The building's outdoor temperature now, NaN unknown or stale. */
static double outdoor_now(struct bctx *c)
{
    return c->oat ? fresh(c->s, c->oat->id, c->now) : NAN;
}

/* The lead optimal start needs before the next occupied period: from the
 * zone's learnt rate against the outdoor temperature now, else the
 * settings' default rate. */
static double start_lead(struct bctx *c, struct zrt *z, double temp,
                         const struct sb_csched_state *next)
{
    double tout = outdoor_now(c);
    struct sb_os_cfg oc;
    struct sb_os_plan plan;

    z->os_used = 0;
    if ((z->os.warm.learnt || z->os.cool.learnt) && isfinite(temp) && isfinite(tout)) {
        sb_os_cfg_default(&oc, &next->band);
        oc.max_lead_s = c->set.max_lead_h * 3600.0;
        if (sb_os_start(&z->os, &oc, temp, tout, next->since_ms, &plan) == 0 &&
            (plan.learnt || plan.need == 0)) {
            z->os_used = 1;
            return plan.lead_s / 3600.0;
        }
    }
    return sb_zsup_lead(temp, &next->band, c->set.default_rate, c->set.default_rate,
                        c->set.max_lead_h);
}

/* When optimal stop may give the zone up before its occupied period ends:
 * its learnt drift, the outdoor temperature now.  0: not at all. */
static int64_t stop_at(struct bctx *c, struct zrt *z, double temp,
                       const struct sb_csched_state *now)
{
    double tout = outdoor_now(c);
    struct sb_os_cfg oc;
    struct sb_os_plan plan;

    if (!z->os.drift.learnt || !isfinite(temp) || !isfinite(tout))
        return 0;
    sb_os_cfg_default(&oc, &now->band);
    if (sb_os_stop(&z->os, &oc, temp, tout, now->next_ms, &plan) || !plan.learnt ||
        plan.lead_s <= 0)
        return 0;
    return plan.at_ms;
}

/* Optimal stop, decided once per occupied period: recomputed each tick
 * from the drifting temperature the stop time would move later and the
 * zone would flap between bands.  Once stopped it stays stopped, unless the
 * zone leaves the occupied band (drifting faster than learnt): then the
 * band is held to the end of the period. */
static int64_t stop_latched(struct bctx *c, struct zrt *z, double temp,
                            const struct sb_csched_state *now, const struct sb_band *occ)
{
    if (z->stop_period == now->next_ms) {
        if (z->stop_from && isfinite(temp) && (temp < occ->heating || temp > occ->cooling))
            z->stop_from = 0;
        return z->stop_from;
    }
    int64_t at = stop_at(c, z, temp, now);
    if (at && c->now >= at) {
        z->stop_period = now->next_ms;
        z->stop_from = at;
    }
    return at;
}

/* ---- native Schedule objects (control/native.h, nsync.h) --------------------------------- */

static struct znat *nat_of(struct sb_ctlsvc *s, struct zrt *z)
{
    struct znat *n, **v;

    if (z->nat)
        return z->nat;
    if (!(n = calloc(1, sizeof(*n))))
        return NULL;
    snprintf(n->zone, sizeof(n->zone), "%s", z->zone);
    n->s = s;
    n->sched = n->cal = -1;
    n->present = NAN;
    pthread_mutex_lock(&s->nmu);
    if (!(v = realloc(s->nats, (s->nnats + 1) * sizeof(*v)))) {
        pthread_mutex_unlock(&s->nmu);
        free(n);
        return NULL;
    }
    s->nats = v;
    v[s->nnats++] = n;
    pthread_mutex_unlock(&s->nmu);
    return z->nat = n;
}

static void nat_due(struct znat *n, const char *why)
{
    if (!n->due)
        snprintf(n->due_why, sizeof(n->due_why), "%s", why);
    n->due = 1;
}

static int queue_nat(struct job *j, struct znat *n)
{
    if (j->nnq == j->capnq) {
        size_t cap = j->capnq ? j->capnq * 2 : 8;
        struct znat **v = realloc(j->nq, cap * sizeof(*v));
        if (!v)
            return SB_ENOMEM;
        j->nq = v;
        j->capnq = cap;
    }
    j->nq[j->nnq++] = n;
    return 0;
}

/* The building's local day number now. */
static int64_t local_today(const struct sb_tz *tz, int64_t now_ms)
{
    int64_t t = now_ms / 1000, l = t + sb_tz_offset(tz, t);
    return l >= 0 ? l / 86400 : -((-l + 86399) / 86400);
}

/* A zone's native Schedule (zone settings' native_schedule): remember the
 * program it must hold (the zone's schedule with the building's holidays)
 * and queue a check when one is due - the program changed, a new day,
 * the controller answers again after a silence (it may have restarted),
 * or native_check_min passed.  1 while the last check found the
 * controller holding the program: the controller then switches the zone's
 * occupancy itself and sbems does not (eval_zone). */
static int native_plan(struct bctx *c, struct zrt *z, const struct sb_ctlset_zone *zs, const struct sb_csched *cs)
{
    struct sb_ctlsvc *s = c->s;
    struct znat *n = z->nat;
    uint32_t point = z->cool_pt ? z->cool_pt : z->heat_pt;
    char *js = NULL;
    int in_sync;

    if (!zs || zs->native_sched < 0) {
        if (n) {
            pthread_mutex_lock(&s->nmu);
            n->sched = n->cal = -1;
            n->state = SB_NSYNC_PENDING;
            pthread_mutex_unlock(&s->nmu);
        }
        return 0;
    }
    if (!(n = nat_of(s, z)))
        return 0;
    if (sb_csched_to_json(cs, &js) < 0)
        js = NULL;
    int stale = isnan(fresh(s, point, c->now));
    int64_t today = local_today(c->b->tz, c->now);
    pthread_mutex_lock(&s->nmu);
    if (n->sched != zs->native_sched || n->cal != zs->native_cal || n->point != point) {
        n->sched = zs->native_sched;
        n->cal = zs->native_cal;
        n->point = point;
        n->state = SB_NSYNC_PENDING;
        n->why[0] = '\0';
        nat_due(n, "configured");
    }
    n->mode = z->mode;
    n->check_ms = c->set.native_check_ms;
    if (!n->busy && js && (!n->want_json || strcmp(js, n->want_json) != 0)) {
        struct sb_csched cp;
        if (sb_csched_copy(&cp, cs) == 0) {
            if (n->want_json)
                nat_due(n, "the zone's schedule changed");
            sb_csched_release(&n->want);
            free(n->want_json);
            n->want = cp;
            n->want_json = js;
            js = NULL;
        }
    }
    if (!n->busy && today != n->today) {
        if (n->today)
            nat_due(n, "a new day");
        n->today = today;
    }
    if (n->stale && !stale)
        nat_due(n, "the controller answers again");
    n->stale = stale;
    if (c->now >= n->next_ms)
        nat_due(n, "periodic check");
    if (n->due && !n->busy && n->want_json && z->mode != SB_CTL_OFF && s->cfg.drivers &&
        queue_nat(c->job, n) == 0)
        n->due = 0;
    in_sync = n->state == SB_NSYNC_IN_SYNC;
    pthread_mutex_unlock(&s->nmu);
    free(js);
    return in_sync;
}

static json_t *time_or_null(int64_t ms)
{
    char t[40];
    return ms ? json_string(sb_time_format(ms, t, sizeof(t))) : json_null();
}

/* The zone's native Schedule in its state: objects, the last check's
 * verdict and when, what was written of what was wanted. */
static json_t *nat_json(struct sb_ctlsvc *s, struct znat *n)
{
    json_t *j = NULL;

    pthread_mutex_lock(&s->nmu);
    if (n->sched < 0)
        goto out;
    j = json_object();
    json_object_set_new(j, "object", json_sprintf("schedule:%lld", (long long)n->sched));
    json_object_set_new(j, "calendar", n->cal >= 0 ? json_sprintf("calendar:%lld", (long long)n->cal) : json_null());
    json_object_set_new(j, "state", json_string(sb_nsync_state_name(n->state)));
    json_object_set_new(j, "why", n->why[0] ? json_string(n->why) : json_null());
    json_object_set_new(j, "runs_occupancy", json_boolean(n->state == SB_NSYNC_IN_SYNC));
    json_object_set_new(j, "checked_at", time_or_null(n->checked_ms));
    json_object_set_new(j, "written_at", time_or_null(n->written_ms));
    json_object_set_new(j, "in_sync_at", time_or_null(n->sync_ms));
    json_object_set_new(j, "next_check", n->busy ? json_string("running") : time_or_null(n->next_ms));
    json_object_set_new(j, "present_value", num_or_null(n->present));
    json_object_set_new(j, "exceptions", json_pack("{s:I,s:I}", "written", (json_int_t)n->n_exc, "wanted",
                                                   (json_int_t)n->exc_wanted));
    if (n->cal >= 0)
        json_object_set_new(j, "dates", json_pack("{s:I,s:I}", "written", (json_int_t)n->n_dates, "wanted",
                                                  (json_int_t)n->dates_wanted));
out:
    pthread_mutex_unlock(&s->nmu);
    return j;
}

static void eval_zone(struct bctx *c, int32_t zi)
{
    const struct sb_zone *zo = &c->m->zones[zi];
    struct sb_ctlset_zone *zs = sb_ctlset_zone(&c->set, zo->slug);
    struct zrt *z = zone_rt(c->s, zo->slug);
    struct sb_csched cs;
    struct sb_zsup_in in = { .now_ms = c->now };
    struct sb_zsup_out o;
    int known = 0, occupied = 0;

    if (!z)
        return;
    z->used = 1;
    snprintf(z->building, sizeof(z->building), "%s", c->b->slug);
    bind_points(z, c->m, c->zx, zi);
    z->mode = c->s->cfg.drivers ? sb_ctlset_mode(&c->set, zs) : SB_CTL_ADVISORY;
    double temp = fresh(c->s, z->temp_pt, c->now);
    occupancy(z, fresh(c->s, z->occ_pt, c->now), c->now, &known, &occupied);
    memset(&o, 0, sizeof(o));
    if (!z->heat_pt && !z->cool_pt) {
        zone_json(c, z, "no writable zone heating or cooling setpoint", &o, temp, known, occupied);
        return;
    }
    if (zone_sched(c, zo, zs, &cs)) {
        arbitrate(c, z, &o);             /* no source: a slot sbems held is given back */
        zone_json(c, z, "no schedule: give the zone an occupancy schedule or a control schedule", &o, temp,
                  known, occupied);
        return;
    }
    const struct sb_tz *tz = c->b->tz;
    if (sb_csched_at(&cs, tz, c->now, &in.now)) {
        sb_csched_release(&cs);
        arbitrate(c, z, &o);
        zone_json(c, z, "the schedule cannot be evaluated", &o, temp, known, occupied);
        return;
    }
    next_occupied(&cs, tz, &in.now, c->now + (int64_t)(c->set.max_lead_h * 3600000.0), &in.next_occ);
    in.temp = temp;
    learn_zone(c, z, zi, &cs.band[SB_CMODE_OCCUPIED]);
    in.lead_h = c->set.optimal_start && in.next_occ.mode == SB_CMODE_OCCUPIED
                ? start_lead(c, z, temp, &in.next_occ)
                : NAN;
    if (c->set.optimal_start && in.now.mode == SB_CMODE_OCCUPIED && in.now.next_ms != INT64_MAX &&
        sb_csched_at(&cs, tz, in.now.next_ms, &in.after) == 0)
        in.stop_at_ms = stop_latched(c, z, temp, &in.now, &cs.band[SB_CMODE_OCCUPIED]);
    in.occ_known = known;
    in.occupied = occupied;
    in.vacant_since_ms = z->vacant_since;
    in.vacancy_delay_ms = zs && zs->vacancy_ms >= 0 ? zs->vacancy_ms : c->set.vacancy_ms;
    in.override_until_ms = zs ? zs->override_until_ms : 0;
    in.standby = cs.band[SB_CMODE_STANDBY];
    in.occ_band = cs.band[SB_CMODE_OCCUPIED];
    int native = native_plan(c, z, zs, &cs);
    sb_csched_release(&cs);
    sb_zsup_eval(&in, &o);
    zone_plan(c, zo->slug, &o.optimizer);
    demand_cmd(c, &o);                   /* widens the schedule's band even when the controller runs it */
    if (native && o.schedule.active && !o.sched_optimal) {
        /* the controller's own Schedule switches occupied / unoccupied:
         * sbems writes nothing for it (the other sources still write) */
        char r[sizeof(o.schedule.reason)];
        snprintf(r, sizeof(r), "%.40s; the controller's schedule:%lld runs it", o.schedule.reason,
                 (long long)zs->native_sched);
        memcpy(o.schedule.reason, r, sizeof(r));
        o.schedule.active = 0;
    }

    z->cmode = o.mode;
    arbitrate(c, z, &o);
    zone_json(c, z, NULL, &o, temp, known, occupied);
}

/* ---- one tick (worker) ----------------------------------------------------------------- */

int sb_ctlsvc_settings_load(struct sb_appdb *db, const char *building, struct sb_ctlset *s, char *err,
                            size_t cap)
{
    struct sb_doc d;

    sb_ctlset_init(s);
    if (!db || sb_appdb_doc_get(db, "control", building, &d))
        return 0;
    json_t *j = json_loads(d.body, 0, NULL);
    int rc = sb_ctlset_parse(j, s, err, cap);
    json_decref(j);
    sb_doc_release(&d);
    return rc;
}

/* The building's settings; a stored document that no longer parses (a
 * newer format, a hand edit) switches the building off, loudly. */
static void load_settings(struct bctx *c)
{
    char err[256];

    if (sb_ctlsvc_settings_load(c->s->cfg.db, c->b->slug, &c->set, err, sizeof(err))) {
        SB_ERR("control", "building %s: stored control settings refused (%s): control is off", c->b->slug, err);
        sb_ctlset_init(&c->set);
        c->set.mode = SB_CTL_OFF;
    }
}

static void load_calendar(struct bctx *c)
{
    char err[256];
    int64_t today = c->now / 86400000;
    struct sb_ical_opts o = { .tz = c->b->tz, .from_day = today - 2, .to_day = today + 400 };

    memset(&c->ical, 0, sizeof(c->ical));
    if (c->set.ical && sb_ical_parse(c->set.ical, strlen(c->set.ical), &o, &c->ical, err, sizeof(err)))
        SB_WARN("control", "building %s: holiday calendar not used: %s", c->b->slug, err);
    if (c->s->cfg.db)
        c->hol = sb_building_holidays(c->s->cfg.db, c->b->slug, &c->nhol);
}

static void put_snapshot(struct sb_ctlsvc *s, const char *building, json_t *state)
{
    pthread_mutex_lock(&s->smu);
    for (size_t i = 0; i < s->nsnaps; i++)
        if (strcmp(s->snaps[i].building, building) == 0) {
            json_decref(s->snaps[i].state);
            s->snaps[i].state = state;
            pthread_mutex_unlock(&s->smu);
            return;
        }
    struct snap *v = realloc(s->snaps, (s->nsnaps + 1) * sizeof(*v));
    if (v) {
        s->snaps = v;
        snprintf(v[s->nsnaps].building, sizeof(v[s->nsnaps].building), "%s", building);
        v[s->nsnaps++].state = state;
    } else {
        json_decref(state);
    }
    pthread_mutex_unlock(&s->smu);
}

static void eval_building(struct sb_ctlsvc *s, struct job *j, const struct sb_model *m, const struct zindex *zx,
                          size_t bi, int64_t now)
{
    struct bctx c = { .s = s, .m = m, .b = &m->buildings[bi], .now = now, .job = j, .zones = json_array(),
                      .learn_left = LEARN_PER_TICK,
                      .zx = zx };
    char t[40];

    load_settings(&c);
    load_calendar(&c);
    c.plan = building_plan(&c);
    demand_tick(&c);
    c.oat = sb_outdoor_temp_point(m, (int32_t)bi);   /* once a tick, not per zone: it scans the points */
    for (size_t zi = 0; zi < m->nzones; zi++)
        if (m->zones[zi].building_ix == (int32_t)bi)
            eval_zone(&c, (int32_t)zi);
    json_t *st = json_pack("{s:s,s:s,s:o,s:o}", "building", c.b->slug, "evaluated_at",
                           sb_time_format(now, t, sizeof(t)), "settings", sb_ctlset_to_json(&c.set), "zones",
                           c.zones);
    json_object_set_new(st, "holidays_imported", json_integer((json_int_t)c.ical.n));
    json_object_set_new(st, "demand", demand_json(&c));
    if (c.plan) {
        char at[40];
        json_t *pj = c.plan->plan;
        json_object_set_new(st, "optimizer",
                            json_pack("{s:s,s:s?,s:O?,s:O?,s:O?}", "planned_at", sb_time_format(c.plan->at, at, sizeof(at)),
                                      "error", c.plan->err[0] ? c.plan->err : NULL,
                                      "status", pj ? json_object_get(pj, "status") : NULL,
                                      "plan", pj ? json_object_get(pj, "plan") : NULL,
                                      "baseline", pj ? json_object_get(pj, "baseline") : NULL));
    }
    put_snapshot(s, c.b->slug, st);
    sb_ical_list_free(&c.ical);
    free(c.hol);
    sb_ctlset_release(&c.set);
}

static void tick_work(uv_work_t *w)
{
    struct job *j = w->data;
    struct sb_ctlsvc *s = j->s;
    struct sb_mref *ref = sb_mhub_get(s->cfg.models);
    int64_t now = sb_now_ms();
    uint32_t n = 0, na = 0;

    if (!ref)
        return;
    for (size_t i = 0; i < s->nz; i++)
        s->z[i].used = 0;
    struct zindex zx = { 0 };
    if (zindex_build(ref->m, &zx) == 0)
        for (size_t bi = 0; bi < ref->m->nbuildings; bi++)
            eval_building(s, j, ref->m, &zx, bi, now);
    zindex_free(&zx);
    for (size_t i = 0; i < s->nz; i++)
        if (s->z[i].used && (s->z[i].heat_pt || s->z[i].cool_pt)) {
            n++;
            na += s->z[i].mode == SB_CTL_AUTO;
        }
    sb_mref_put(ref);
    pthread_mutex_lock(&s->smu);
    s->st.ticks++;
    s->st.zones = n;
    s->st.zones_auto = na;
    pthread_mutex_unlock(&s->smu);
}

/* ---- writes (loop) --------------------------------------------------------------------- */

static void write_done(struct sb_ctlsvc *s, struct wr *w, enum sb_wres res, const char *why)
{
    struct zrt *z = &s->z[w->zi];
    char target[32], detail[512];
    int64_t now = sb_now_ms();

    if (res != SB_WRES_OK && res != SB_WRES_NOT_CONFIRMED && res != SB_WRES_DRY_RUN) {
        sb_arb_write_failed(&z->ap[w->heat ? 0 : 1]);
        pthread_mutex_lock(&s->smu);
        s->st.write_errors++;
        pthread_mutex_unlock(&s->smu);
    }
    snprintf(z->last_result, sizeof(z->last_result), "%s", sb_wres_name(res));
    z->last_write_ms = now;
    snprintf(target, sizeof(target), "point:%u", w->point);
    if (w->relinquish)
        snprintf(detail, sizeof(detail), "released priority %d: %s%s%s", s->cfg.priority, w->reason,
                 why && *why ? "; " : "", why ? why : "");
    else
        snprintf(detail, sizeof(detail), "%.2f degC at priority %d: %s%s%s", w->value, s->cfg.priority, w->reason,
                 why && *why ? "; " : "", why ? why : "");
    struct sb_audit_rec a = { .ts_ms = now, .actor = "sbems-control", .action = "control.write",
                              .target = target, .result = sb_wres_name(res), .detail = detail };
    if (s->cfg.db)
        sb_appdb_audit_later(s->cfg.loop, s->cfg.db, &a, NULL);
    if (res != SB_WRES_OK && res != SB_WRES_DRY_RUN)
        SB_WARN("control", "writing %s: %s%s%s", w->reason, sb_wres_name(res), why && *why ? ": " : "",
                why ? why : "");
}

static void on_timer(uv_timer_t *t);

/* The tick and its writes are back; one asked for meanwhile runs now. */
static void finish_tick(struct sb_ctlsvc *s)
{
    s->busy = 0;
    if (s->poked && !s->stopping) {
        s->poked = 0;
        uv_timer_start(&s->timer, on_timer, 0, (uint64_t)s->cfg.tick_ms);
    }
}

static void written(void *ud, const struct sb_write_result *r)
{
    struct wr *w = ud;
    struct sb_ctlsvc *s = w->s;

    write_done(s, w, r->res, r->reason);
    if (s->rec && (r->res == SB_WRES_OK || r->res == SB_WRES_NOT_CONFIRMED)) {
        struct sb_write_result rr = *r;
        if (w->relinquish)
            rr.value = NAN;              /* closes the record */
        s->rec(s->rec_ud, &rr, w->reason);
    }
    free(w);
    if (--s->writes_out == 0)
        finish_tick(s);
}

/* ---- native Schedule checks (loop) ------------------------------------------------------- */

/* "weekly-schedule, exception-schedule (3 of 3), date-list (2 of 2)" */
static void parts_text(unsigned parts, const struct sb_nsync_res *r, char *buf, size_t cap)
{
    size_t n = 0;

    buf[0] = '\0';
    if (parts & SB_NPART_DATES)
        n += (size_t)snprintf(buf + n, cap - n, "calendar date-list (%zu of %zu dates)", r->n_dates,
                              r->dates_wanted);
    if ((parts & SB_NPART_EXC) && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, "%sexception-schedule (%zu of %zu entries)", n ? ", " : "",
                              r->n_exc, r->exc_wanted);
    if ((parts & SB_NPART_WEEK) && n < cap)
        snprintf(buf + n, cap - n, "%sweekly-schedule", n ? ", " : "");
}

/* A write to the controller's Schedule or Calendar is audited like a
 * setpoint write: what was written, and what the device holds after it. */
static void nat_audit(struct sb_ctlsvc *s, const struct znat *n, uint32_t point, const struct sb_nsync_res *r,
                      int64_t now)
{
    char what[200], cal[40] = "", detail[700];
    const char *res = r->dry_run ? "dry_run" : r->state == SB_NSYNC_IN_SYNC ? "ok"
                      : r->state == SB_NSYNC_DIFFERS ? "not_confirmed" : "error";

    parts_text(r->tried, r, what, sizeof(what));
    if (n->run_cal >= 0)
        snprintf(cal, sizeof(cal), " and calendar:%lld", (long long)n->run_cal);
    snprintf(detail, sizeof(detail), "wrote %s of schedule:%lld%s on the controller of point %u: %s%s%s", what,
             (long long)n->run_sched, cal, point, sb_nsync_state_name(r->state), r->why[0] ? ": " : "", r->why);
    struct sb_audit_rec a = { .ts_ms = now, .actor = "sbems-control", .action = "control.native_schedule",
                              .target = n->zone, .result = res, .detail = detail };
    if (s->cfg.db)
        sb_appdb_audit_later(s->cfg.loop, s->cfg.db, &a, NULL);
    if (r->state == SB_NSYNC_IN_SYNC)
        SB_INFO("control", "zone %s: %s", n->zone, detail);
    else
        SB_WARN("control", "zone %s: %s", n->zone, detail);
}

static void nat_done(void *ud, struct sb_nsync_res *r)
{
    struct znat *n = ud;
    struct sb_ctlsvc *s = n->s;
    int64_t now = sb_now_ms();

    pthread_mutex_lock(&s->nmu);
    int was = n->state;
    uint32_t point = n->point;
    char before[sizeof(n->why)];
    memcpy(before, n->why, sizeof(before));
    n->busy = 0;
    if (n->run_sched != n->sched || n->run_cal != n->cal) {
        pthread_mutex_unlock(&s->nmu);  /* reconfigured meanwhile: the next tick checks again */
        if (r->tried)
            nat_audit(s, n, point, r, now);
        s->nat_out--;
        return;
    }
    n->state = r->state;
    snprintf(n->why, sizeof(n->why), "%s", r->why);
    n->checked_ms = now;
    if (r->wrote)
        n->written_ms = now;
    if (r->state == SB_NSYNC_IN_SYNC)
        n->sync_ms = now;
    n->present = r->present;
    n->n_exc = r->n_exc;
    n->exc_wanted = r->exc_wanted;
    n->n_dates = r->n_dates;
    n->dates_wanted = r->dates_wanted;
    n->next_ms = now + (r->state == SB_NSYNC_FAILED && n->check_ms > NAT_RETRY_MS ? NAT_RETRY_MS : n->check_ms);
    pthread_mutex_unlock(&s->nmu);
    if (r->tried)
        nat_audit(s, n, point, r, now);
    else if ((r->state != was || strcmp(before, r->why) != 0) && r->state == SB_NSYNC_IN_SYNC)
        SB_INFO("control", "zone %s: schedule:%lld in sync", n->zone, (long long)n->run_sched);
    else if (r->state != was || strcmp(before, r->why) != 0)
        SB_WARN("control", "zone %s: schedule:%lld: %s: %s", n->zone, (long long)n->run_sched,
                sb_nsync_state_name(r->state), r->why);
    s->nat_out--;
    if ((was == SB_NSYNC_IN_SYNC) != (r->state == SB_NSYNC_IN_SYNC))
        sb_ctlsvc_poke(s);           /* who switches occupancy changed: evaluate now */
}

static void nat_start(struct sb_ctlsvc *s, struct znat *n)
{
    struct sb_nsync_req rq;
    struct sb_csched want;
    int rc;

    pthread_mutex_lock(&s->nmu);
    if (n->busy || n->sched < 0 || !n->want_json || sb_csched_copy(&want, &n->want) < 0) {
        pthread_mutex_unlock(&s->nmu);
        return;
    }
    rq = (struct sb_nsync_req){ .point = n->point, .sched = n->sched, .cal = n->cal,
                                .may_write = n->mode == SB_CTL_AUTO, .want = &want, .today = n->today };
    n->busy = 1;
    n->run_sched = n->sched;
    n->run_cal = n->cal;
    SB_DEBUG("control", "zone %s: checking schedule:%lld (%s)", n->zone, (long long)n->sched, n->due_why);
    pthread_mutex_unlock(&s->nmu);
    s->nat_out++;
    rc = sb_nsync_start(s->cfg.drivers, &rq, nat_done, n);   /* nat_done may run already */
    sb_csched_release(&want);
    if (rc) {
        s->nat_out--;
        pthread_mutex_lock(&s->nmu);
        n->busy = 0;
        n->state = SB_NSYNC_FAILED;
        snprintf(n->why, sizeof(n->why), "not started: %s", sb_strerror(rc));
        n->next_ms = sb_now_ms() + NAT_RETRY_MS;
        pthread_mutex_unlock(&s->nmu);
    }
}

static void tick_after(uv_work_t *w, int status)
{
    struct job *j = w->data;
    struct sb_ctlsvc *s = j->s;

    s->writes_out = 1;                   /* held while issuing */
    for (size_t i = 0; i < j->nw && status == 0 && !s->stopping; i++) {
        struct wr *x = malloc(sizeof(*x));
        const char *why = NULL;
        if (!x)
            break;
        *x = j->wv[i];
        pthread_mutex_lock(&s->smu);
        s->st.writes++;
        pthread_mutex_unlock(&s->smu);
        s->writes_out++;
        int rc = sb_drvmgr_write(s->cfg.drivers, x->point, x->src, s->cfg.priority, x->relinquish, written, x,
                                 &why);
        if (rc) {
            s->writes_out--;
            write_done(s, x, SB_WRES_ERROR, why ? why : sb_strerror(rc));
            free(x);
        }
    }
    /* the native Schedule checks run beside the ticks: a dead controller's
     * timeouts must not hold the next tick back */
    for (size_t i = 0; i < j->nnq && status == 0 && !s->stopping; i++)
        nat_start(s, j->nq[i]);
    free(j->nq);
    free(j->wv);
    free(j);
    if (--s->writes_out == 0)
        finish_tick(s);
}

static void on_timer(uv_timer_t *t)
{
    struct sb_ctlsvc *s = t->data;
    struct job *j;

    if (s->stopping)
        return;
    if (s->busy) {                       /* the previous tick or its writes are not back */
        s->poked = 1;
        return;
    }
    if (!(j = calloc(1, sizeof(*j))))
        return;
    j->s = s;
    j->w.data = j;
    s->busy = 1;
    if (uv_queue_work(s->cfg.loop, &j->w, tick_work, tick_after)) {
        s->busy = 0;
        free(j);
    }
}

/* ---- a native Schedule read for the API (loop) -------------------------------------------- */

struct nview {                           /* a read of a zone's native Schedule for the API */
    struct sb_ctlsvc *s;
    struct znat *n;                      /* the zone's (lives as long as the service) */
    int64_t sched, cal;                  /* as when the read started */
    sb_ctlsvc_native_cb cb;              /* the API's answer */
    void *ud;
};

/* The device's program as a control schedule, or why it is none. */
static void as_schedule(json_t *out, const struct sb_nsync_res *r, int64_t cal)
{
    struct sb_csched cs;
    char why[200], *txt = NULL;
    json_t *doc = NULL;

    sb_csched_init(&cs, NULL);
    if (sb_nsched_to_csched(&r->dev, &r->val, cal, &cs, why, sizeof(why)) == 0 &&
        sb_csched_to_json(&cs, &txt) == 0)
        doc = json_loads(txt, 0, NULL);
    json_object_set_new(out, "as_schedule", doc ? doc : json_null());
    if (!doc)
        json_object_set_new(out, "unreadable", json_string(why[0] ? why : "out of memory"));
    free(txt);
    sb_csched_release(&cs);
}

static void nview_done(void *ud, struct sb_nsync_res *r)
{
    struct nview *v = ud;
    json_t *a;

    if (r->state == SB_NSYNC_FAILED) {
        v->cb(v->ud, SB_EIO, NULL, r->why);
        free(v);
        return;
    }
    a = json_pack("{s:s,s:o,s:o,s:i,s:o,s:b,s:o,s:o}", "zone", v->n->zone, "schedule",
                  json_sprintf("schedule:%lld", (long long)v->sched), "calendar",
                  v->cal >= 0 ? json_sprintf("calendar:%lld", (long long)v->cal) : json_null(), "datatype",
                  (int)r->dev.type, "present_value", num_or_null(r->present), "matches",
                  r->state == SB_NSYNC_IN_SYNC, "differs", r->why[0] ? json_string(r->why) : json_null(),
                  "device", sb_nsched_json(&r->dev));
    as_schedule(a, r, v->cal);
    json_t *last = nat_json(v->s, v->n);
    json_object_set_new(a, "last_check", last ? last : json_null());
    v->cb(v->ud, 0, a, NULL);
    free(v);
}

int sb_ctlsvc_native_read(struct sb_ctlsvc *s, const char *zone, sb_ctlsvc_native_cb cb, void *ud,
                          const char **why)
{
    struct znat *n = NULL;
    struct sb_csched want;
    struct sb_nsync_req rq;
    struct nview *v;
    int have = 0, rc;

    *why = NULL;
    if (!s || !s->cfg.drivers) {
        *why = "supervisory control has no drivers";
        return SB_ENOENT;
    }
    pthread_mutex_lock(&s->nmu);
    for (size_t i = 0; i < s->nnats && !n; i++)
        if (strcmp(s->nats[i]->zone, zone) == 0 && s->nats[i]->sched >= 0)
            n = s->nats[i];
    if (n) {
        rq = (struct sb_nsync_req){ .point = n->point, .sched = n->sched, .cal = n->cal, .today = n->today,
                                    .view = 1 };
        have = n->want_json && sb_csched_copy(&want, &n->want) == 0;
    }
    pthread_mutex_unlock(&s->nmu);
    if (!n) {
        *why = "the zone has no native_schedule in its control settings (or it was not evaluated yet)";
        return SB_ENOENT;
    }
    if (!(v = calloc(1, sizeof(*v)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    *v = (struct nview){ .s = s, .n = n, .sched = rq.sched, .cal = rq.cal, .cb = cb, .ud = ud };
    rq.want = have ? &want : NULL;
    if ((rc = sb_nsync_start(s->cfg.drivers, &rq, nview_done, v)) < 0)
        free(v);
out:
    if (have)
        sb_csched_release(&want);
    return rc;
}

/* ---- life cycle and views ---------------------------------------------------------------- */

int sb_ctlsvc_new(const struct sb_ctlsvc_cfg *cfg, struct sb_ctlsvc **out)
{
    struct sb_ctlsvc *s = calloc(1, sizeof(*s));
    int rc = 0;

    *out = NULL;
    if (!s)
        return SB_ENOMEM;
    s->cfg = *cfg;
    if (s->cfg.tick_ms < 1000)
        s->cfg.tick_ms = 60000;
    if (s->cfg.stale_ms <= 0)
        s->cfg.stale_ms = 15 * 60000LL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->smu, NULL);
    pthread_mutex_init(&s->nmu, NULL);
    if (cfg->bus && (rc = sb_bus_subscribe(cfg->bus, on_bus, s)) < 0) {
        pthread_mutex_destroy(&s->mu);
        pthread_mutex_destroy(&s->smu);
        pthread_mutex_destroy(&s->nmu);
        free(s);
        return rc;
    }
    s->bus_sub = cfg->bus ? rc : 0;
    uv_timer_init(cfg->loop, &s->timer);
    s->timer.data = s;
    /* the first tick after 5 s: the live bus has had the drivers' first reads */
    uv_timer_start(&s->timer, on_timer, 5000, (uint64_t)s->cfg.tick_ms);
    s->timer_on = 1;
    *out = s;
    return 0;
}

void sb_ctlsvc_set_recorder(struct sb_ctlsvc *s, sb_ctlsvc_rec_fn fn, void *ud)
{
    if (!s)
        return;
    s->rec = fn;
    s->rec_ud = ud;
}

void sb_ctlsvc_poke(struct sb_ctlsvc *s)
{
    if (!s || s->stopping)
        return;
    if (s->busy)
        s->poked = 1;
    else
        uv_timer_start(&s->timer, on_timer, 0, (uint64_t)s->cfg.tick_ms);
}

json_t *sb_ctlsvc_state(struct sb_ctlsvc *s, const char *building)
{
    json_t *j = NULL;

    if (!s)
        return NULL;
    pthread_mutex_lock(&s->smu);
    for (size_t i = 0; i < s->nsnaps && !j; i++)
        if (strcmp(s->snaps[i].building, building) == 0)
            j = json_deep_copy(s->snaps[i].state);
    pthread_mutex_unlock(&s->smu);
    return j;
}

void sb_ctlsvc_stats(struct sb_ctlsvc *s, struct sb_ctlsvc_stats *out)
{
    memset(out, 0, sizeof(*out));
    if (!s)
        return;
    pthread_mutex_lock(&s->smu);
    *out = s->st;
    pthread_mutex_unlock(&s->smu);
}

static void timer_closed(uv_handle_t *h)
{
    (void)h;
}

void sb_ctlsvc_stop(struct sb_ctlsvc *s)
{
    if (!s || s->stopping)
        return;
    s->stopping = 1;
    if (s->bus_sub > 0)
        sb_bus_unsubscribe(s->cfg.bus, s->bus_sub);
    s->bus_sub = 0;
    if (s->timer_on)
        uv_close((uv_handle_t *)&s->timer, timer_closed);
    s->timer_on = 0;
}

void sb_ctlsvc_free(struct sb_ctlsvc *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nsnaps; i++)
        json_decref(s->snaps[i].state);
    free(s->snaps);
    for (size_t i = 0; i < s->nplans; i++)
        json_decref(s->plans[i].plan);
    free(s->plans);
    free(s->last);
    free(s->z);
    free(s->dl);
    for (size_t i = 0; i < s->nnats; i++) {
        sb_csched_release(&s->nats[i]->want);
        free(s->nats[i]->want_json);
        free(s->nats[i]);
    }
    free(s->nats);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->smu);
    pthread_mutex_destroy(&s->nmu);
    free(s);
}

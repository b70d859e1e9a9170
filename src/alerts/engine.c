/* engine.c - routes readings to alert rules, ticks them; see engine.h. */
#include "alerts/engine.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/tz.h"
#include "ingest/bus.h"
#include "model/model.h"
#include "model/slug.h"

#define MOD "alerts"

/* A zone an equipment serves, for a schedule rule: when it is occupied. */
struct served {
    int32_t zone;                      /* index in the model bound to (each zone once) */
    struct sb_schedule sched;          /* the zone's schedule (copied) */
    const struct sb_tz *tz;            /* its building's zone (shared, never freed) */
};

/* A rule bound to the model's ids, with its state. */
struct bound {
    struct sb_arule r;                 /* copy of the definition */
    char building[SB_SLUG_MAX + 1];
    struct sb_arule_state st;
    uint32_t point;                    /* watched point (threshold, rate, stale, comfort) */
    uint32_t *eqp;                     /* offline: the equipment's points */
    size_t neqp;
    int comfort;                       /* zone context below is set */
    struct sb_schedule sched;          /* the zone's schedule (copied) */
    const struct sb_tz *tz;            /* its building's zone (shared, never freed) */
    struct sb_comfort band;            /* its comfort bands, degC */
    struct served *srv;                /* schedule: the zones the point's equipment serves */
    size_t nsrv;
};

struct pidx {                          /* point -> rule, sorted by point */
    uint32_t point;
    uint32_t rule;
};

struct sb_aeng {
    struct sb_aeng_cfg cfg;
    int bus_sub;
    pthread_t thr;
    int started;
    /* Three locks, so neither the ingest writer (bus) nor the loop (freshness)
     * ever waits for an evaluation, whose decide callback writes to SQLite. */
    pthread_mutex_t qmu;               /* queue, watched map, quit, dropped */
    pthread_cond_t cv;
    int quit;
    struct sb_reading *q, *work;       /* queue (filled by the bus) and the thread's copy */
    size_t nq, qmax;
    uint8_t *watched;                  /* by point id: some rule watches it */
    uint32_t nwatched;
    uint64_t dropped;
    pthread_mutex_t mu;                /* rules, index, stats (engine thread, load) */
    struct bound *rules;
    size_t nrules;
    struct pidx *idx;
    size_t nidx;
    struct sb_aeng_stats st;
    pthread_mutex_t smu;               /* stale map */
    uint8_t *stale;                    /* by point id: 1 stale per the driver framework */
    uint32_t nstale;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int pidx_cmp(const void *a, const void *b)
{
    const struct pidx *x = a, *y = b;
    return x->point < y->point ? -1 : x->point > y->point ? 1 : (x->rule > y->rule) - (x->rule < y->rule);
}

/* First index entry of point p (or nidx). */
static size_t pidx_find(const struct sb_aeng *e, uint32_t p)
{
    size_t lo = 0, hi = e->nidx;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->idx[mid].point < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- context ----------------------------------------------------------------------- */


/* What the rule cannot know by itself (mu held). */
static void context(const struct sb_aeng *e, const struct bound *b, int64_t now, struct sb_arule_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->band_heat = 1.0;                /* no band: cool below heat (rule.h) */
    c->band_cool = 0.0;
    if (b->comfort) {
        c->occupied = b->tz && sb_schedule_occupied_at(&b->sched, b->tz, now);
        const struct sb_band *band = c->occupied ? &b->band.occupied : &b->band.unoccupied;
        if (b->band.set) {
            c->band_heat = band->heating;
            c->band_cool = band->cooling;
        }
    }
    for (size_t i = 0; i < b->nsrv && !c->occupied; i++)
        c->occupied = sb_schedule_occupied_at(&b->srv[i].sched, b->srv[i].tz, now) != 0;
    if (b->neqp) {
        size_t n = 0;
        pthread_mutex_lock((pthread_mutex_t *)&e->smu);
        for (size_t i = 0; i < b->neqp; i++)
            n += b->eqp[i] < e->nstale && e->stale[b->eqp[i]];
        pthread_mutex_unlock((pthread_mutex_t *)&e->smu);
        c->offline = n == b->neqp;
    }
}

static void decided(struct sb_aeng *e, struct bound *b, int rc, const struct sb_arule_event *ev)
{
    if (rc == SB_AR_RAISE || rc == SB_AR_CLEAR) {
        if (rc == SB_AR_RAISE)
            e->st.raised++;
        else
            e->st.cleared++;
        e->cfg.decide(e->cfg.ud, &b->r, b->building, rc == SB_AR_RAISE, ev);
    }
}

/* ---- evaluation (engine thread, mu held) ---------------------------------------------- */

static void evaluate(struct sb_aeng *e, const struct sb_reading *r, size_t n)
{
    struct sb_arule_ctx c;
    struct sb_arule_event ev;
    for (size_t i = 0; i < n; i++) {
        for (size_t k = pidx_find(e, r[i].point); k < e->nidx && e->idx[k].point == r[i].point; k++) {
            struct bound *b = &e->rules[e->idx[k].rule];
            context(e, b, r[i].t, &c);
            memset(&ev, 0, sizeof(ev));
            decided(e, b, sb_arule_feed(&b->r, &b->st, r[i].t, r[i].v, r[i].q, &c, &ev), &ev);
        }
        e->st.readings++;
    }
}

static void tick(struct sb_aeng *e, int64_t now)
{
    struct sb_arule_ctx c;
    struct sb_arule_event ev;
    for (size_t i = 0; i < e->nrules; i++) {
        struct bound *b = &e->rules[i];
        context(e, b, now, &c);
        memset(&ev, 0, sizeof(ev));
        decided(e, b, sb_arule_tick(&b->r, &b->st, now, &c, &ev), &ev);
    }
}

static void *run(void *arg)
{
    struct sb_aeng *e = arg;
    int64_t next = now_ms() + e->cfg.tick_ms;
    for (;;) {
        pthread_mutex_lock(&e->qmu);
        if (e->nq == 0 && !e->quit) {
            struct timespec ts = { .tv_sec = next / 1000, .tv_nsec = (long)(next % 1000) * 1000000 };
            pthread_cond_timedwait(&e->cv, &e->qmu, &ts);
        }
        if (e->quit) {
            pthread_mutex_unlock(&e->qmu);
            break;
        }
        /* swap buffers so the bus can go on queueing while we evaluate */
        struct sb_reading *w = e->q;
        size_t n = e->nq;
        e->q = e->work;
        e->work = w;
        e->nq = 0;
        pthread_mutex_unlock(&e->qmu);

        pthread_mutex_lock(&e->mu);
        evaluate(e, w, n);
        int64_t now = now_ms();
        if (now >= next) {
            tick(e, now);
            next = now + e->cfg.tick_ms;
        }
        pthread_mutex_unlock(&e->mu);
    }
    return NULL;
}

/* ---- input ---------------------------------------------------------------------------- */

void sb_aeng_feed(struct sb_aeng *e, const struct sb_reading *r, size_t n)
{
    size_t took = 0;
    pthread_mutex_lock(&e->qmu);
    for (size_t i = 0; i < n; i++) {
        if (r[i].point >= e->nwatched || !e->watched[r[i].point])
            continue;                              /* no rule watches it */
        if (e->nq == e->qmax) {
            e->dropped++;
            continue;
        }
        e->q[e->nq++] = r[i];
        took++;
    }
    if (took)
        pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->qmu);
}

static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    sb_aeng_feed(ud, r, n);
}

void sb_aeng_fresh(void *engine, uint32_t point, int stale)
{
    struct sb_aeng *e = engine;
    pthread_mutex_lock(&e->smu);
    if (point >= e->nstale) {
        uint32_t n = e->nstale ? e->nstale : 1024;
        while (n <= point && n < UINT32_MAX / 2)
            n *= 2;
        uint8_t *s = point < n ? realloc(e->stale, n) : NULL;
        if (s) {
            memset(s + e->nstale, 0, n - e->nstale);
            e->stale = s;
            e->nstale = n;
        }
    }
    if (point < e->nstale)
        e->stale[point] = (uint8_t)(stale != 0);
    pthread_mutex_unlock(&e->smu);
}

/* ---- loading ---------------------------------------------------------------------------- */

static void bound_free(struct bound *b)
{
    free(b->eqp);
    free(b->srv);
}

/* Zone zi, once, into b's served list if its schedule says anything (a zone
 * without one cannot tell when the equipment should run). */
static void add_served(const struct sb_model *m, int32_t zi, struct bound *b)
{
    const struct sb_zone *z = &m->zones[zi];
    const struct sb_tz *tz = z->building_ix >= 0 ? m->buildings[z->building_ix].tz : NULL;

    if (!z->sched.set || !tz)
        return;
    for (size_t i = 0; i < b->nsrv; i++)
        if (b->srv[i].zone == zi)
            return;                                /* two boxes in one zone */
    b->srv[b->nsrv++] = (struct served){ .zone = zi, .sched = z->sched, .tz = tz };
}

/* Schedule: the zones equipment ei serves, its own or its boxes' (those
 * whose parent it is), as the FDD service reads them; SB_ENOENT when none
 * has a schedule. */
static int bind_served(const struct sb_model *m, int32_t ei, struct bound *b)
{
    size_t n = 1;

    for (size_t i = 0; i < m->nequipment; i++)
        n += m->equipment[i].parent_ix == ei;
    if (!(b->srv = calloc(n, sizeof(*b->srv))))
        return SB_ENOMEM;
    if (m->equipment[ei].zone_ix >= 0)
        add_served(m, m->equipment[ei].zone_ix, b);
    for (size_t i = 0; i < m->nequipment; i++)
        if (m->equipment[i].parent_ix == ei && m->equipment[i].zone_ix >= 0)
            add_served(m, m->equipment[i].zone_ix, b);
    return b->nsrv ? 0 : SB_ENOENT;
}


/* Bind rule r to m's ids; 0, or SB_ENOENT when the model lacks its object. */
static int bind(const struct sb_model *m, const struct sb_arule *r, struct bound *b)
{
    if (r->type == SB_ART_THRESHOLD || r->type == SB_ART_RATE || r->type == SB_ART_STALE ||
        r->type == SB_ART_SCHEDULE) {
        const struct sb_point *p = sb_model_point(m, r->target);
        if (!p)
            return SB_ENOENT;
        b->point = p->id;
        if (r->type == SB_ART_SCHEDULE)
            return p->equipment_ix >= 0 ? bind_served(m, p->equipment_ix, b) : SB_ENOENT;
    } else if (r->type == SB_ART_COMFORT) {
        const struct sb_zone *z = sb_model_zone(m, r->target);
        if (!z)
            return SB_ENOENT;
        const struct sb_point *t = sb_zone_temp_point(m, (int32_t)(z - m->zones));
        if (!t)
            return SB_ENOENT;                      /* nothing measures the zone */
        b->point = t->id;
        b->comfort = 1;
        b->sched = z->sched;
        b->band = z->comfort;
        b->tz = z->building_ix >= 0 ? m->buildings[z->building_ix].tz : NULL;
    } else if (r->type == SB_ART_OFFLINE) {
        const struct sb_equipment *q = sb_model_equipment(m, r->target);
        if (!q)
            return SB_ENOENT;
        int32_t qi = (int32_t)(q - m->equipment);
        size_t n = 0;
        for (size_t i = 0; i < m->npoints; i++)
            n += m->points[i].equipment_ix == qi && m->points[i].source.driver != SB_DRIVER_VIRTUAL;
        if (!n)
            return SB_ENOENT;                      /* nothing polled: never offline */
        if (!(b->eqp = malloc(n * sizeof(*b->eqp))))
            return SB_ENOMEM;
        for (size_t i = 0; i < m->npoints; i++)
            if (m->points[i].equipment_ix == qi && m->points[i].source.driver != SB_DRIVER_VIRTUAL)
                b->eqp[b->neqp++] = m->points[i].id;
    } else {
        return SB_ENOENT;
    }
    return 0;
}

int sb_aeng_load(struct sb_aeng *e, const struct sb_model *m, const struct sb_aeng_rule_in *in,
                 size_t n)
{
    struct bound *rules = calloc(n ? n : 1, sizeof(*rules));
    struct pidx *idx = calloc(n ? n : 1, sizeof(*idx));
    size_t nr = 0, ni = 0, unbound = 0;
    int rc = 0;

    if (!rules || !idx) {
        rc = SB_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct bound *b = &rules[nr];
        /* forecast rules are the analytics service's (sb_alerts_rules_of_type) */
        if (!in[i].rule->enabled || in[i].rule->type == SB_ART_FORECAST)
            continue;
        b->r = *in[i].rule;
        snprintf(b->building, sizeof(b->building), "%s", in[i].building ? in[i].building : "");
        int brc = bind(m, in[i].rule, b);
        if (brc == SB_ENOMEM) {
            rc = brc;
            goto out;
        }
        if (brc) {
            SB_WARN(MOD, "rule %s: %s is not in the model (or nothing measures it, or it "
                    "serves no zone with a schedule): skipped", b->r.id, b->r.target);
            bound_free(b);
            memset(b, 0, sizeof(*b));
            unbound++;
            continue;
        }
        sb_arule_state_init(&b->st);
        if (b->point)
            idx[ni++] = (struct pidx){ .point = b->point, .rule = (uint32_t)nr };
        nr++;
    }
    qsort(idx, ni, sizeof(*idx), pidx_cmp);
    uint32_t nw = ni ? idx[ni - 1].point + 1 : 0;
    uint8_t *watched = calloc(nw ? nw : 1, 1);
    if (!watched) {
        rc = SB_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < ni; k++)
        watched[idx[k].point] = 1;

    pthread_mutex_lock(&e->mu);
    /* keep the state of rules whose definition did not change */
    for (size_t i = 0; i < nr; i++)
        for (size_t k = 0; k < e->nrules; k++)
            if (strcmp(e->rules[k].r.id, rules[i].r.id) == 0 &&
                sb_arule_equal(&e->rules[k].r, &rules[i].r) &&
                e->rules[k].point == rules[i].point) {
                rules[i].st = e->rules[k].st;
                break;
            }
    struct bound *old = e->rules;
    size_t nold = e->nrules;
    struct pidx *oidx = e->idx;
    e->rules = rules;
    e->nrules = nr;
    e->idx = idx;
    e->nidx = ni;
    e->st.rules = nr;
    e->st.unbound = unbound;
    pthread_mutex_lock(&e->qmu);
    uint8_t *ow = e->watched;
    e->watched = watched;
    e->nwatched = nw;
    pthread_mutex_unlock(&e->qmu);
    pthread_mutex_unlock(&e->mu);
    free(ow);
    for (size_t k = 0; k < nold; k++)
        bound_free(&old[k]);
    free(old);
    free(oidx);
    return 0;
out:
    for (size_t k = 0; rules && k <= nr && k < (n ? n : 1); k++)
        bound_free(&rules[k]);
    free(rules);
    free(idx);
    return rc;
}

/* ---- life cycle -------------------------------------------------------------------------- */

int sb_aeng_new(const struct sb_aeng_cfg *cfg, struct sb_aeng **out)
{
    struct sb_aeng *e = calloc(1, sizeof(*e));
    if (!e)
        return SB_ENOMEM;
    e->cfg = *cfg;
    if (!e->cfg.tick_ms)
        e->cfg.tick_ms = 1000;
    e->qmax = cfg->queue_max ? cfg->queue_max : 65536;
    pthread_mutex_init(&e->qmu, NULL);
    pthread_mutex_init(&e->mu, NULL);
    pthread_mutex_init(&e->smu, NULL);
    pthread_cond_init(&e->cv, NULL);
    if (!(e->q = malloc(e->qmax * sizeof(*e->q))) || !(e->work = malloc(e->qmax * sizeof(*e->work))) ||
        pthread_create(&e->thr, NULL, run, e) != 0) {
        sb_aeng_free(e);
        return SB_ENOMEM;
    }
    e->started = 1;
    if (cfg->bus) {
        int id = sb_bus_subscribe(cfg->bus, on_bus, e);
        if (id < 0) {
            sb_aeng_free(e);
            return id;
        }
        e->bus_sub = id;
    }
    *out = e;
    return 0;
}

void sb_aeng_stats(struct sb_aeng *e, struct sb_aeng_stats *st)
{
    pthread_mutex_lock(&e->mu);
    *st = e->st;
    pthread_mutex_unlock(&e->mu);
    pthread_mutex_lock(&e->qmu);
    st->dropped = e->dropped;
    pthread_mutex_unlock(&e->qmu);
}

void sb_aeng_free(struct sb_aeng *e)
{
    if (!e)
        return;
    if (e->bus_sub > 0)
        sb_bus_unsubscribe(e->cfg.bus, e->bus_sub);
    if (e->started) {
        pthread_mutex_lock(&e->qmu);
        e->quit = 1;
        pthread_cond_signal(&e->cv);
        pthread_mutex_unlock(&e->qmu);
        pthread_join(e->thr, NULL);
    }
    for (size_t k = 0; k < e->nrules; k++)
        bound_free(&e->rules[k]);
    free(e->rules);
    free(e->idx);
    free(e->q);
    free(e->work);
    free(e->stale);
    free(e->watched);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->qmu);
    pthread_mutex_destroy(&e->mu);
    pthread_mutex_destroy(&e->smu);
    free(e);
}

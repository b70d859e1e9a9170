/*
 * expose.c - sbems as a BACnet device: chosen points (computed or
 * gathered from other protocols) served as read-only Analog Value objects
 * on the BACnet driver's own socket, so a building's existing BMS reads
 * them, and subscribes to them (COV), like any controller's.
 *
 * drivers.json: "bacnet": {"expose": {"device": 599, "name": "sbems",
 * "points": ["main-meter.kw", ...] | "all"}}.  Each point is
 * analog-value:<point id> (ids are stable across restarts and model
 * edits), named by its slug, described by its name, in the BACnet units
 * of its canonical unit; Reliability no-sensor until its first reading.
 * Read-only on purpose (least privilege): commands reach sbems through
 * its API, not through its BACnet face.
 *
 * Threads: readings arrive on the ingest writer thread (the live bus);
 * they are kept under a lock as the newest value per exposed point and
 * applied on the loop (uv_async), where the object server lives.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "drivers/bacnet/bacnet.h"
#include "drivers/bacnet/expose.h"
#include "drivers/bacnet/names.h"
#include "drivers/manager.h"
#include "ingest/bus.h"
#include "model/hub.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/server/server.h"

#define EXPOSE_MAX 10000

struct xpt {
    uint32_t id;
    double v;                        /* newest value not yet applied, NaN = none */
    int fresh;
};

struct sb_bacexpose {
    struct bacdrv *b;
    struct sb_bus *bus;
    int sub;
    uv_async_t *wake;                /* own allocation: freed by its close callback */
    pthread_mutex_t mu;
    struct xpt *pts;                 /* sorted by id */
    size_t n;
    struct sb_bac_srv *srv;
};

static struct xpt *find(struct sb_bacexpose *x, uint32_t id)
{
    size_t lo = 0, hi = x->n;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        if (x->pts[m].id < id)
            lo = m + 1;
        else
            hi = m;
    }
    return lo < x->n && x->pts[lo].id == id ? &x->pts[lo] : NULL;
}

/* Ingest writer thread: keep the newest value, wake the loop. */
static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    struct sb_bacexpose *x = ud;
    int any = 0;
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < n; i++) {
        struct xpt *p = find(x, r[i].point);
        if (p) {
            p->v = r[i].v;
            p->fresh = 1;
            any = 1;
        }
    }
    pthread_mutex_unlock(&x->mu);
    if (any && x->wake)
        uv_async_send(x->wake);
}

/* Loop thread: into the objects (COV notifications go out from here). */
static void on_wake(uv_async_t *a)
{
    struct sb_bacexpose *x = a->data;
    int64_t now = sb_now_ms();
    pthread_mutex_lock(&x->mu);
    for (size_t i = 0; i < x->n; i++) {
        struct xpt *p = &x->pts[i];
        if (!p->fresh)
            continue;
        p->fresh = 0;
        struct sb_bac_oid oid = { SB_BAC_OBJ_AV, p->id };
        if (isfinite(p->v) && sb_bac_srv_set_pv(x->srv, oid, p->v, now) == 0)
            sb_bac_srv_set_reliability(x->srv, oid, 0, now);
    }
    pthread_mutex_unlock(&x->mu);
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = ((const struct xpt *)a)->id, y = ((const struct xpt *)b)->id;
    return x < y ? -1 : x > y;
}

static bool wanted(const json_t *pts, const char *slug)
{
    size_t i;
    json_t *v;
    if (json_is_string(pts) && strcmp(json_string_value(pts), "all") == 0)
        return true;
    json_array_foreach(pts, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), slug) == 0)
            return true;
    return false;
}

static int add_points(struct sb_bacexpose *x, const struct sb_model *m, const json_t *sel)
{
    int64_t now = sb_now_ms();
    if (!(x->pts = calloc(m->npoints ? m->npoints : 1, sizeof(*x->pts))))
        return SB_ENOMEM;
    for (size_t i = 0; i < m->npoints && x->n < EXPOSE_MAX; i++) {
        const struct sb_point *p = &m->points[i];
        uint32_t units = SB_BACN_UNITS_NONE;
        if (!p->id || !wanted(sel, p->slug))
            continue;
        sb_bacn_unit_from_sb(p->canon, &units);
        struct sb_bac_srv_obj_cfg c = { .type = SB_BAC_OBJ_AV, .instance = p->id, .name = p->slug,
                                        .description = p->name, .units = units };
        int rc = sb_bac_srv_add(x->srv, &c, now);
        if (rc < 0) {
            SB_WARN("bacnet", "expose: %s: %s", p->slug, sb_strerror(rc));
            continue;
        }
        /* no value yet: Reliability no-sensor (clause 12.3.x) */
        sb_bac_srv_set_reliability(x->srv, (struct sb_bac_oid){ SB_BAC_OBJ_AV, p->id }, 1, now);
        x->pts[x->n++] = (struct xpt){ .id = p->id, .v = NAN };
    }
    qsort(x->pts, x->n, sizeof(*x->pts), cmp_id);
    return 0;
}

static void closed(uv_handle_t *h)
{
    free(h);
}

int sb_bacexpose_new(uv_loop_t *loop, struct sb_drvmgr *mg, struct sb_bus *bus,
                     struct sb_mhub *models, struct sb_bacexpose **out)
{
    struct bacdrv *b = sb_drvmgr_state(mg, "bacnet");
    struct sb_bacexpose *x;
    const json_t *e;
    int rc;

    *out = NULL;
    if (!b || !b->st || !(e = b->expose))
        return 0;                    /* nothing to expose */
    if (!(x = calloc(1, sizeof(*x))) || !(x->wake = malloc(sizeof(*x->wake)))) {
        free(x);
        return SB_ENOMEM;
    }
    pthread_mutex_init(&x->mu, NULL);
    x->b = b;
    x->bus = bus;
    struct sb_bac_srv_cfg sc = {
        .instance = (uint32_t)json_integer_value(json_object_get(e, "device")),
        .name = json_string_value(json_object_get(e, "name")) ?: "sbems",
        .description = "sbems - smart building energy management",
        .vendor_name = "sbems", .model_name = "sbems", .max_objects = EXPOSE_MAX };
    if ((rc = sb_bac_srv_new(&sc, sb_now_ms(), &x->srv)) < 0) {
        SB_ERR("bacnet", "expose: device %u \"%s\": %s", sc.instance, sc.name, sb_strerror(rc));
        goto fail;
    }
    struct sb_mref *r = sb_mhub_get(models);
    rc = add_points(x, r->m, json_object_get(e, "points"));
    sb_mref_put(r);
    if (rc < 0)
        goto fail;
    uv_async_init(loop, x->wake, on_wake);
    x->wake->data = x;
    if (bus && (x->sub = sb_bus_subscribe(bus, on_bus, x)) < 0) {
        rc = x->sub;
        x->sub = 0;
        uv_close((uv_handle_t *)x->wake, closed);
        x->wake = NULL;
        goto fail;
    }
    sb_bacd_serve(b, x->srv);
    SB_INFO("bacnet", "exposing %zu points as device %u \"%s\"", x->n, sc.instance, sc.name);
    *out = x;
    return 0;
fail:
    sb_bac_srv_free(x->srv);
    free(x->wake);
    free(x->pts);
    pthread_mutex_destroy(&x->mu);
    free(x);
    return rc;
}

void sb_bacexpose_stop(struct sb_bacexpose *x)
{
    if (!x)
        return;
    if (x->sub > 0)
        sb_bus_unsubscribe(x->bus, x->sub);
    x->sub = 0;
    sb_bacd_serve(x->b, NULL);
    if (x->wake) {
        uv_close((uv_handle_t *)x->wake, closed);
        x->wake = NULL;
    }
}

void sb_bacexpose_free(struct sb_bacexpose *x)
{
    if (!x)
        return;
    sb_bac_srv_free(x->srv);
    free(x->pts);
    pthread_mutex_destroy(&x->mu);
    free(x);
}

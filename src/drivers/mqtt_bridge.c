/*
 * mqtt_bridge.c - readings to the broker, commands from it (mqtt_bridge.h).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/appdb.h"
#include "db/audit_later.h"
#include "drivers/manager.h"
#include "drivers/mqtt/mqtt.h"
#include "drivers/mqtt_bridge.h"
#include "ingest/bus.h"
#include "model/hub.h"

struct slugs {                  /* a point's place in the topic tree */
    char *site, *building, *equipment, *point;
};

struct cmdq {                   /* a command on its way to the loop */
    uint32_t point;
    double value;
    int relinquish, priority;
    char *reply, *cid;
    char slug[SB_SLUG_MAX + 1];
    struct sb_mqttbridge *b;
    enum sb_wres res;
    char why[SB_DRV_ERR_MAX];
    struct cmdq *next;
};

struct sb_mqttbridge {
    uv_loop_t *loop;
    struct sb_drvmgr *mg;
    struct sb_bus *bus;
    struct sb_mhub *models;
    struct sb_appdb *db;
    void *mqtt;                 /* the driver's state */
    int sub;                    /* bus subscription */
    uv_async_t wake;
    int handles, jobs, stopping;
    pthread_mutex_t mu;         /* protects everything below */
    uint64_t version;           /* model version the table is from */
    struct slugs *tab;          /* by point id */
    uint32_t ntab;
    struct cmdq *qh, *qt;       /* commands for the loop */
};

/* Rebuild the id -> slugs table when the model changed (mu held). */
static void refresh(struct sb_mqttbridge *b)
{
    struct sb_mref *r = sb_mhub_get(b->models);
    if (r->version == b->version) {
        sb_mref_put(r);
        return;
    }
    const struct sb_model *m = r->m;
    for (uint32_t i = 0; i < b->ntab; i++) {
        free(b->tab[i].point);      /* one block per entry */
    }
    free(b->tab);
    b->tab = NULL;
    b->ntab = 0;
    uint32_t n = 0;
    for (size_t i = 0; i < m->npoints; i++)
        if (m->points[i].id >= n)
            n = m->points[i].id + 1;
    if ((b->tab = calloc(n ? n : 1, sizeof(*b->tab)))) {
        b->ntab = n;
        for (size_t i = 0; i < m->npoints; i++) {
            const struct sb_point *p = &m->points[i];
            const struct sb_equipment *e = &m->equipment[p->equipment_ix];
            const struct sb_building *bd = &m->buildings[e->building_ix];
            char *blk = NULL;
            if (asprintf(&blk, "%s%c%s%c%s%c%s", p->slug, 0, bd->site, 0, bd->slug, 0,
                         e->slug) < 0)
                continue;
            struct slugs *s = &b->tab[p->id];
            s->point = blk;
            s->site = blk + strlen(blk) + 1;
            s->building = s->site + strlen(s->site) + 1;
            s->equipment = s->building + strlen(s->building) + 1;
        }
    }
    b->version = r->version;
    sb_mref_put(r);
}

/* Ingest writer thread: mirror a durable batch. */
static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    struct sb_mqttbridge *b = ud;
    pthread_mutex_lock(&b->mu);
    refresh(b);
    for (size_t i = 0; i < n; i++) {
        if (r[i].point >= b->ntab || !b->tab[r[i].point].point)
            continue;
        const struct slugs *s = &b->tab[r[i].point];
        struct sb_mqtt_reading m = { .site = s->site, .building = s->building,
                                     .equipment = s->equipment, .point = s->point,
                                     .t = r[i].t, .v = r[i].v, .q = r[i].q };
        if (sb_mqtt_publish_reading(b->mqtt, &m) == SB_ENOTSUP)
            break;                  /* publishing is off */
    }
    pthread_mutex_unlock(&b->mu);
}

/* MQTT network thread: take a command, check it names a point of that
 * site and building, hand it to the loop. */
static int on_command(void *ud, const struct sb_mqtt_cmd *c, char *err, size_t errlen)
{
    struct sb_mqttbridge *b = ud;
    uint32_t id = 0;

    pthread_mutex_lock(&b->mu);
    refresh(b);
    for (uint32_t i = 0; i < b->ntab && !id; i++)
        if (b->tab[i].point && strcmp(b->tab[i].point, c->point) == 0 &&
            strcmp(b->tab[i].site, c->site) == 0 && strcmp(b->tab[i].building, c->building) == 0)
            id = i;
    pthread_mutex_unlock(&b->mu);
    if (!id) {
        snprintf(err, errlen, "no point %s in %s/%s", c->point, c->site, c->building);
        return SB_ENOENT;
    }
    struct cmdq *q = calloc(1, sizeof(*q));
    if (!q || !(q->reply = strdup(c->reply_topic)) || (c->id && !(q->cid = strdup(c->id)))) {
        if (q)
            free(q->reply);
        free(q);
        snprintf(err, errlen, "out of memory");
        return SB_ENOMEM;
    }
    q->point = id;
    q->value = c->value;
    q->relinquish = c->relinquish;
    q->priority = c->priority;
    q->b = b;
    snprintf(q->slug, sizeof(q->slug), "%s", c->point);
    pthread_mutex_lock(&b->mu);
    int stopping = b->stopping;
    if (!stopping) {
        if (b->qt)
            b->qt->next = q;
        else
            b->qh = q;
        b->qt = q;
    }
    pthread_mutex_unlock(&b->mu);
    if (stopping) {
        free(q->reply);
        free(q->cid);
        free(q);
        snprintf(err, errlen, "sbems is stopping");
        return SB_ECLOSED;
    }
    uv_async_send(&b->wake);
    return 0;
}

/* Answer on the result topic, audit (written on the pool), free. */
static void finish(struct cmdq *q, int rc, const char *text)
{
    struct sb_mqttbridge *b = q->b;
    char target[128], after[160];
    sb_mqtt_command_reply(b->mqtt, q->reply, q->cid, rc, text);
    snprintf(target, sizeof(target), "point:%s", q->slug);
    snprintf(after, sizeof(after), "{\"value\":%.17g,\"priority\":%d,\"via\":\"mqtt\"}",
             isfinite(q->value) ? q->value : 0, q->priority);
    struct sb_audit_rec r = { .ts_ms = sb_now_ms(), .actor = "mqtt", .action = "point.write",
                              .target = target, .after = after, .result = sb_wres_name(q->res),
                              .detail = q->why[0] ? q->why : NULL };
    sb_appdb_audit_later(b->loop, b->db, &r, &b->jobs);
    free(q->reply);
    free(q->cid);
    free(q);
}

static void on_written(void *ud, const struct sb_write_result *r)
{
    struct cmdq *q = ud;
    q->res = r->res;
    snprintf(q->why, sizeof(q->why), "%s", r->reason);
    int ok = r->res == SB_WRES_OK || r->res == SB_WRES_DRY_RUN;
    finish(q, ok ? 0 : r->res == SB_WRES_REJECTED ? SB_EPROTO : r->res == SB_WRES_ERROR ?
                                                                  SB_ETIMEDOUT : SB_EIO,
           r->reason[0] ? r->reason : sb_wres_name(r->res));
}

static void on_wake(uv_async_t *a)
{
    struct sb_mqttbridge *b = a->data;
    pthread_mutex_lock(&b->mu);
    struct cmdq *q = b->qh;
    b->qh = b->qt = NULL;
    pthread_mutex_unlock(&b->mu);
    while (q) {
        struct cmdq *nx = q->next;
        const char *why = NULL;
        q->next = NULL;
        int rc = sb_drvmgr_write(b->mg, q->point, q->value, q->priority, q->relinquish,
                                 on_written, q, &why);
        if (rc) {
            q->res = SB_WRES_ERROR;
            snprintf(q->why, sizeof(q->why), "%s", why ? why : sb_strerror(rc));
            finish(q, rc, q->why);
        }
        q = nx;
    }
}

int sb_mqttbridge_new(uv_loop_t *loop, struct sb_drvmgr *mg, struct sb_bus *bus,
                      struct sb_mhub *models, struct sb_appdb *db, struct sb_mqttbridge **out)
{
    *out = NULL;
    void *st = sb_drvmgr_state(mg, "mqtt");
    if (!st || !models)
        return 0;
    struct sb_mqttbridge *b = calloc(1, sizeof(*b));
    if (!b)
        return SB_ENOMEM;
    *b = (struct sb_mqttbridge){ .loop = loop, .mg = mg, .bus = bus, .models = models,
                                 .db = db, .mqtt = st };
    pthread_mutex_init(&b->mu, NULL);
    uv_async_init(loop, &b->wake, on_wake);
    b->wake.data = b;
    b->handles = 1;
    if (bus) {
        int rc = sb_bus_subscribe(bus, on_bus, b);
        b->sub = rc > 0 ? rc : 0;
    }
    sb_mqtt_set_command_handler(st, on_command, b);
    *out = b;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    ((struct sb_mqttbridge *)h->data)->handles--;
}

void sb_mqttbridge_stop(struct sb_mqttbridge *b)
{
    if (!b || b->stopping)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_mutex_unlock(&b->mu);
    sb_mqtt_set_command_handler(b->mqtt, NULL, NULL);
    if (b->sub)
        sb_bus_unsubscribe(b->bus, b->sub);
    b->sub = 0;
    uv_close((uv_handle_t *)&b->wake, on_closed);
}

int sb_mqttbridge_idle(struct sb_mqttbridge *b)
{
    return !b || (b->handles == 0 && b->jobs == 0);
}

void sb_mqttbridge_free(struct sb_mqttbridge *b)
{
    if (!b)
        return;
    while (b->qh) {
        struct cmdq *q = b->qh;
        b->qh = q->next;
        free(q->reply);
        free(q->cid);
        free(q);
    }
    for (uint32_t i = 0; i < b->ntab; i++)
        free(b->tab[i].point);
    free(b->tab);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/*
 * manager.c - the driver framework (manager.h).
 *
 * Structures: one `inst` per driver in use (its ops and state), one `dev`
 * per device key, one `dpt` per bound point.  The loop thread owns them;
 * worker threads only run a job's driver call on data the job holds, and
 * the loop touches a device again only when its job comes back.  Points'
 * unit conversions are also published in `conv` (by point id, under a
 * read-write lock) for sb_drv_push from drivers' own threads.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <sodium.h>

#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "drivers/manager.h"
#include "ingest/ingest.h"
#include "model/site_json.h"
#include "store/sample.h"

#define TICK_MS     50          /* scheduler resolution */
#define BACKOFF_MS  500         /* first retry after a failure */

enum brk { BRK_CLOSED = 0, BRK_OPEN, BRK_HALF };

struct dev;
struct inst;

struct sb_drv {                 /* the handle drivers get */
    struct sb_drvmgr *mg;
    struct inst *in;
};

struct inst {
    const struct sb_driver_ops *ops;
    void *state;
    struct sb_drv h;
    int inited, started, failed;
    char err[SB_DRV_ERR_MAX];
    struct inst *next;
};

struct dpt {
    struct sb_drv_point p;      /* what the driver sees (addr: its parse) */
    struct sb_unit_conv to_canon;
    char *slug, *address;       /* owned copies */
    int64_t next_due, last_ok, last_write;
    int stale_mark;             /* last freshness told to on_fresh (loop thread) */
    struct dev *dev;
};

struct wreq {                   /* a queued write */
    struct dpt *pt;
    struct sb_drv_write w;
    sb_write_cb cb;
    void *ud;
    struct wreq *next;
};

struct dev {
    char key[SB_DRV_KEY_MAX];
    struct inst *in;
    int owned;                  /* cfg.leased: this node polls it (its name in mg->own) */
    struct dpt **pts;
    size_t n, cap;
    int busy;                   /* a job is out */
    int64_t min_due;            /* earliest next_due of its points: the tick skips
                                   the device until then (a scan of every point of
                                   every device each 50 ms was a quarter of the
                                   daemon's CPU with 10,000 BACnet points) */
    enum brk brk;
    int fails;                  /* failures in a row */
    int64_t retry_at, open_until;
    struct wreq *wq, *wqt;      /* writes waiting */
    /* health (also written by push drivers from their threads: hmu) */
    uint64_t reads, errors, bad;
    int64_t last_ok, last_err_at;
    double latency_ms;
    int push_ok;                /* push drivers: connected */
    char last_err[SB_DRV_ERR_MAX];
    struct dev *next;
};

struct job {
    struct dev *d;
    int is_write;
    struct sb_drv_item *items;  /* read: n items */
    size_t n;
    struct wreq *wr;            /* write */
    int rc, rb_rc;              /* driver result; read-back result */
    double readback;
    char err[SB_DRV_ERR_MAX];
    uint64_t t0, t1;            /* uv_hrtime */
    int phase;                  /* async write: 0 writing, 1 reading back */
    struct sb_drv_item rb;      /* async write: the read-back item */
    int is_slots;               /* a command-slot read (no device job) */
    struct sb_drv_slots slots;
    sb_slots_cb scb;
    void *sud;
    int is_prop;                /* a property read/write (no device job either) */
    struct sb_drv_prop *prop;   /* the caller's */
    sb_prop_cb pcb;
    struct job *next;
};

struct conv {                   /* by point id, for sb_drv_push */
    struct sb_unit_conv c;
    int known;
    int owned;                  /* its device is this node's (always, unless cfg.leased) */
};

struct misconf {
    char slug[SB_SLUG_MAX + 1];
    char driver[16];
    char err[SB_DRV_ERR_MAX];
};

struct sb_drvmgr {
    struct sb_drvmgr_cfg cfg;
    json_t *conf;               /* own reference */
    uv_timer_t tick;
    uv_async_t done_wake;
    int handles, stopping;
    struct inst *insts;
    struct dev *devs;
    struct dpt *pts;            /* all bound points */
    size_t npts;
    struct misconf *mis;
    size_t nmis;
    struct sb_model *pending;   /* apply waiting for jobs */
    int jobs;                   /* jobs out */
    /* workers */
    pthread_t *thr;
    int nthr;
    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    struct job *qh, *qt;        /* to do */
    struct job *dh;             /* done */
    int quit;
    /* push path */
    pthread_rwlock_t clk;
    struct conv *conv;
    uint32_t nconv;
    pthread_mutex_t hmu;        /* device health fields written by other threads */
    struct sb_drvmgr_stats st;
    struct { sb_fresh_cb cb; void *ud; } fresh[SB_FRESH_MAX];  /* listeners (loop thread) */
    int nfresh;
    int64_t fresh_next;         /* next freshness scan */
    /* cfg.leased: names of the devices this node owns ("<driver>/<key>") */
    char **own;
    size_t nown, capown;
    _Atomic int64_t lease_until; /* monotonic ms; past it nothing owned is polled */
};

const char *sb_wres_name(enum sb_wres r)
{
    static const char *const n[] = { "ok", "not_confirmed", "rejected", "error", "dry_run" };
    return (unsigned)r < sizeof(n) / sizeof(n[0]) ? n[r] : "?";
}

/* ---- workers ------------------------------------------------------------ */

static void run_job(struct job *j)
{
    struct inst *in = j->d->in;
    int64_t to = in->h.mg->cfg.timeout_ms;

    j->t0 = uv_hrtime();
    if (!j->is_write) {
        j->rc = in->ops->read(in->state, j->d->key, j->items, j->n, to, j->err, sizeof(j->err));
    } else {
        j->rc = in->ops->write(in->state, j->d->key, &j->wr->w, to);
        j->readback = j->wr->w.has_readback ? j->wr->w.readback : NAN;
        if (j->rc == 0 && in->ops->read && !j->wr->w.relinquish && !j->wr->w.has_readback) {
            struct sb_drv_item it = { .pt = &j->wr->pt->p };
            char e[SB_DRV_ERR_MAX];
            j->rb_rc = in->ops->read(in->state, j->d->key, &it, 1, to, e, sizeof(e));
            if (j->rb_rc == 0 && it.rc == 0)
                j->readback = it.v;
            else if (j->rb_rc == 0)
                j->rb_rc = it.rc;
        }
    }
    j->t1 = uv_hrtime();
}

static void *worker(void *arg)
{
    struct sb_drvmgr *mg = arg;
    pthread_mutex_lock(&mg->qmu);
    for (;;) {
        while (!mg->qh && !mg->quit)
            pthread_cond_wait(&mg->qcv, &mg->qmu);
        if (mg->quit && !mg->qh)
            break;
        struct job *j = mg->qh;
        mg->qh = j->next;
        if (!mg->qh)
            mg->qt = NULL;
        pthread_mutex_unlock(&mg->qmu);
        run_job(j);
        pthread_mutex_lock(&mg->qmu);
        j->next = mg->dh;
        mg->dh = j;
        if (!mg->quit)
            uv_async_send(&mg->done_wake);
    }
    pthread_mutex_unlock(&mg->qmu);
    return NULL;
}

static void finish_job(struct sb_drvmgr *mg, struct job *j);
static struct dpt *find_point(struct sb_drvmgr *mg, uint32_t id);
static int apply_now(struct sb_drvmgr *mg, struct sb_model *m);

/* ---- asynchronous drivers (SB_DRV_ASYNC, loop thread) ----------------------- */

/* The op handle a driver gets is the job itself. */
static void async_readback(struct sb_drvmgr *mg, struct job *j)
{
    struct inst *in = j->d->in;
    char e[SB_DRV_ERR_MAX] = "";
    j->phase = 1;
    j->rb = (struct sb_drv_item){ .pt = &j->wr->pt->p };
    int rc = in->ops->read_async(in->state, j->d->key, &j->rb, 1, mg->cfg.timeout_ms,
                                 (struct sb_drv_op *)j, e, sizeof(e));
    if (rc == 1) {
        sb_drv_done((struct sb_drv_op *)j, 0, NULL);
    } else if (rc < 0) {
        j->rb_rc = rc;
        j->t1 = uv_hrtime();
        finish_job(mg, j);
    }
}

struct uv_loop_s *sb_drv_loop(struct sb_drv *drv)
{
    return drv->mg->cfg.loop;
}

/* A job ended: a model change waiting for the last one goes now. */
static void job_gone(struct sb_drvmgr *mg)
{
    mg->jobs--;
    if (mg->jobs == 0 && mg->pending) {
        struct sb_model *m = mg->pending;
        mg->pending = NULL;
        apply_now(mg, m);
        sb_model_free(m);
    }
}

static void slots_done(struct sb_drvmgr *mg, struct job *j, int rc, const char *err)
{
    j->scb(j->sud, rc, &j->slots, rc ? (err && *err ? err : sb_strerror(rc)) : NULL);
    free(j);
    job_gone(mg);
}

static int64_t mono_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

/* May this node talk to d now?  Always, unless devices are leased. */
static int dev_mine(struct sb_drvmgr *mg, const struct dev *d)
{
    return !mg->cfg.leased || (d->owned && mono_ms() < mg->lease_until);
}

int sb_drvmgr_slots(struct sb_drvmgr *mg, uint32_t point, sb_slots_cb cb, void *ud,
                    const char **why)
{
    struct dpt *p = find_point(mg, point);
    struct job *j;
    char e[SB_DRV_ERR_MAX] = "";

    if (!p || mg->stopping || mg->pending || !p->dev->in->started) {
        *why = "no running driver serves this point";
        return SB_ENOENT;
    }
    if (!(p->dev->in->ops->flags & SB_DRV_ASYNC) || !p->dev->in->ops->slots_async) {
        *why = "this point's protocol has no command priorities";
        return SB_ENOTSUP;
    }
    if (!dev_mine(mg, p->dev)) {
        *why = "another sbems node polls this point's device (GET /api/v1/cluster names it)";
        return SB_ECLOSED;
    }
    if (!(j = calloc(1, sizeof(*j))))
        return SB_ENOMEM;
    j->d = p->dev;
    j->is_slots = 1;
    j->scb = cb;
    j->sud = ud;
    mg->jobs++;                      /* a model change waits for it */
    int rc = p->dev->in->ops->slots_async(p->dev->in->state, p->dev->key, &p->p, &j->slots,
                                          mg->cfg.timeout_ms, (struct sb_drv_op *)j, e, sizeof(e));
    if (rc != 0)
        slots_done(mg, j, rc == 1 ? 0 : rc, e);   /* cb on this turn: the caller holds */
    return 0;
}

static void prop_done(struct sb_drvmgr *mg, struct job *j, int rc, const char *err)
{
    if (rc && err && *err && !j->prop->err[0])
        snprintf(j->prop->err, sizeof(j->prop->err), "%s", err);
    j->pcb(j->sud, rc, j->prop, rc ? (j->prop->err[0] ? j->prop->err : sb_strerror(rc)) : NULL);
    free(j);
    job_gone(mg);
}

int sb_drvmgr_prop(struct sb_drvmgr *mg, uint32_t point, struct sb_drv_prop *p, sb_prop_cb cb,
                   void *ud, const char **why)
{
    struct dpt *dp = find_point(mg, point);
    struct job *j;

    *why = NULL;
    p->err[0] = '\0';
    p->dry_run = 0;
    p->max_write = 0;
    if (!dp || mg->stopping || mg->pending || !dp->dev->in->started) {
        *why = "no running driver serves this point";
        return SB_ENOENT;
    }
    if (!(dp->dev->in->ops->flags & SB_DRV_ASYNC) || !dp->dev->in->ops->prop_async) {
        *why = "this point's protocol has no objects to read or write";
        return SB_ENOTSUP;
    }
    if (!dev_mine(mg, dp->dev)) {
        *why = "another sbems node polls this point's device (GET /api/v1/cluster names it)";
        return SB_ECLOSED;
    }
    if (p->write && mg->cfg.dry_run) {
        SB_INFO("drivers", "dry run: %s %s of %s's device would be written (%zu bytes)", p->object,
                p->property, dp->slug, p->len);
        p->dry_run = 1;
        cb(ud, 0, p, NULL);
        return 0;
    }
    if (!(j = calloc(1, sizeof(*j))))
        return SB_ENOMEM;
    j->d = dp->dev;
    j->is_prop = 1;
    j->prop = p;
    j->pcb = cb;
    j->sud = ud;
    mg->jobs++;                      /* a model change waits for it */
    if (p->write)
        mg->st.writes++;
    int rc = dp->dev->in->ops->prop_async(dp->dev->in->state, dp->dev->key, p, mg->cfg.timeout_ms,
                                          (struct sb_drv_op *)j);
    if (rc != 0)
        prop_done(mg, j, rc == 1 ? 0 : rc, NULL);  /* cb on this turn: the caller holds */
    return 0;
}

void sb_drv_done(struct sb_drv_op *op, int rc, const char *err)
{
    struct job *j = (struct job *)op;
    struct sb_drvmgr *mg = j->d->in->h.mg;
    struct inst *in = j->d->in;

    if (j->is_slots) {
        slots_done(mg, j, rc, err);
        return;
    }
    if (j->is_prop) {
        prop_done(mg, j, rc, err);
        return;
    }

    if (!j->is_write) {
        j->rc = rc;
        if (rc && err)
            snprintf(j->err, sizeof(j->err), "%s", err);
    } else if (j->phase == 0) {
        j->rc = rc;
        if (rc && err && !j->wr->w.err[0])
            snprintf(j->wr->w.err, sizeof(j->wr->w.err), "%s", err);
        j->readback = j->wr->w.has_readback ? j->wr->w.readback : NAN;
        if (rc == 0 && !j->wr->w.relinquish && !j->wr->w.has_readback && in->ops->read_async) {
            async_readback(mg, j);
            return;
        }
    } else {
        j->rb_rc = rc ? rc : j->rb.rc;
        if (rc == 0 && j->rb.rc == 0)
            j->readback = j->rb.v;
    }
    j->t1 = uv_hrtime();
    finish_job(mg, j);
}

static void async_start(struct sb_drvmgr *mg, struct job *j)
{
    struct inst *in = j->d->in;
    int rc;

    j->t0 = uv_hrtime();
    j->readback = NAN;
    if (!j->is_write)
        rc = in->ops->read_async(in->state, j->d->key, j->items, j->n, mg->cfg.timeout_ms,
                                 (struct sb_drv_op *)j, j->err, sizeof(j->err));
    else
        rc = in->ops->write_async(in->state, j->d->key, &j->wr->w, mg->cfg.timeout_ms,
                                  (struct sb_drv_op *)j);
    if (rc == 1) {
        sb_drv_done((struct sb_drv_op *)j, 0, NULL);
    } else if (rc < 0) {
        j->rc = rc;
        j->t1 = uv_hrtime();
        finish_job(mg, j);
    }
}

static void submit(struct sb_drvmgr *mg, struct job *j)
{
    j->d->busy = 1;
    mg->jobs++;
    if (j->d->in->ops->flags & SB_DRV_ASYNC) {
        async_start(mg, j);
        return;
    }
    if (!(j->d->in->ops->flags & SB_DRV_BLOCKING)) {
        run_job(j);                 /* a non-blocking driver: here, on the loop */
        finish_job(mg, j);
        return;
    }
    pthread_mutex_lock(&mg->qmu);
    j->next = NULL;
    if (mg->qt)
        mg->qt->next = j;
    else
        mg->qh = j;
    mg->qt = j;
    pthread_cond_signal(&mg->qcv);
    pthread_mutex_unlock(&mg->qmu);
}

/* ---- results -------------------------------------------------------------- */

static void dev_error(struct sb_drvmgr *mg, struct dev *d, int64_t now, int rc, const char *err)
{
    pthread_mutex_lock(&mg->hmu);
    d->errors++;
    d->last_err_at = now;
    snprintf(d->last_err, sizeof(d->last_err), "%s", err && *err ? err : sb_strerror(rc));
    pthread_mutex_unlock(&mg->hmu);
    mg->st.read_errors++;
    d->fails++;
    if (d->brk == BRK_HALF || d->fails >= mg->cfg.breaker_failures) {
        if (d->brk != BRK_OPEN)
            SB_WARN("drivers", "%s: breaker open after %d failures (%s); retry in %.1f s",
                    d->key, d->fails, d->last_err, (double)mg->cfg.breaker_cooldown_ms / 1000);
        d->brk = BRK_OPEN;
        d->open_until = now + mg->cfg.breaker_cooldown_ms;
        return;
    }
    /* smallest poll interval of the device caps the back-off */
    int64_t cap = INT64_MAX, b = BACKOFF_MS;
    for (size_t i = 0; i < d->n; i++)
        if (d->pts[i]->p.poll_ms && (int64_t)d->pts[i]->p.poll_ms < cap)
            cap = d->pts[i]->p.poll_ms;
    for (int k = 1; k < d->fails && b < cap; k++)
        b *= 2;
    d->retry_at = now + (b < cap ? b : cap);
}

static void dev_ok(struct sb_drvmgr *mg, struct dev *d, int64_t now, double ms)
{
    if (d->brk != BRK_CLOSED)
        SB_INFO("drivers", "%s: answering again, breaker closed", d->key);
    d->brk = BRK_CLOSED;
    d->fails = 0;
    d->retry_at = 0;
    pthread_mutex_lock(&mg->hmu);
    d->last_ok = now;
    d->latency_ms = ms;
    pthread_mutex_unlock(&mg->hmu);
}

static void read_done(struct sb_drvmgr *mg, struct job *j, int64_t now)
{
    struct dev *d = j->d;
    struct sb_reading r[64];
    size_t nr = 0;

    d->reads++;
    mg->st.reads++;
    if (j->rc) {
        dev_error(mg, d, now, j->rc, j->err);
        return;
    }
    dev_ok(mg, d, now, (double)(j->t1 - j->t0) / 1e6);
    for (size_t i = 0; i < j->n; i++) {
        struct sb_drv_item *it = &j->items[i];
        struct dpt *p = (struct dpt *)((char *)it->pt - offsetof(struct dpt, p));
        if (it->rc) {
            pthread_mutex_lock(&mg->hmu);
            d->bad++;
            snprintf(d->last_err, sizeof(d->last_err), "%.64s: %.90s", p->slug,
                     it->err[0] ? it->err : sb_strerror(it->rc));
            d->last_err_at = now;
            pthread_mutex_unlock(&mg->hmu);
            continue;
        }
        if (it->fresh)
            p->last_ok = now;
        if (!isfinite(it->v))
            continue;
        p->last_ok = now;
        r[nr++] = (struct sb_reading){ .t = it->t ? it->t : now,
                                       .v = sb_unit_conv_apply(&p->to_canon, it->v),
                                       .point = p->p.id, .q = it->q };
        if (nr == sizeof(r) / sizeof(r[0]) || i + 1 == j->n) {
            struct sb_ingest_result res;
            if (mg->cfg.ingest && sb_ingest_submit(mg->cfg.ingest, r, nr, 0, &res) == SB_EAGAIN)
                mg->st.dropped += nr - res.queued;
            mg->st.readings += nr;
            nr = 0;
        }
    }
    if (nr && mg->cfg.ingest) {
        struct sb_ingest_result res;
        if (sb_ingest_submit(mg->cfg.ingest, r, nr, 0, &res) == SB_EAGAIN)
            mg->st.dropped += nr - res.queued;
        mg->st.readings += nr;
    }
}

static void write_done(struct sb_drvmgr *mg, struct job *j, int64_t now)
{
    struct wreq *w = j->wr;
    struct sb_write_result r = { .point = w->pt->p.id, .value = w->w.value,
                                 .readback = j->readback };
    snprintf(r.holder, sizeof(r.holder), "%s", w->w.holder);
    r.priority = w->w.priority;
    double tol = fmax(1e-6, fabs(w->w.value) * 1e-3);

    mg->st.writes++;
    if (j->rc == SB_EPROTO) {
        r.res = SB_WRES_REJECTED;
        snprintf(r.reason, sizeof(r.reason), "%s", w->w.err[0] ? w->w.err : "refused");
    } else if (j->rc) {
        r.res = SB_WRES_ERROR;
        snprintf(r.reason, sizeof(r.reason), "%s", w->w.err[0] ? w->w.err : sb_strerror(j->rc));
        dev_error(mg, j->d, now, j->rc, r.reason);
    } else if (w->w.relinquish || (!isnan(j->readback) && fabs(j->readback - w->w.value) <= tol)) {
        r.res = SB_WRES_OK;
        dev_ok(mg, j->d, now, (double)(j->t1 - j->t0) / 1e6);
    } else {
        r.res = SB_WRES_NOT_CONFIRMED;
        if (isnan(j->readback))
            snprintf(r.reason, sizeof(r.reason), "read-back failed: %s", sb_strerror(j->rb_rc));
        else
            snprintf(r.reason, sizeof(r.reason), "read back %.6g", j->readback);
    }
    SB_INFO("drivers", "write %s = %.6g: %s%s%s", w->pt->slug, w->w.value, sb_wres_name(r.res),
            r.reason[0] ? ": " : "", r.reason);
    if (w->cb)
        w->cb(w->ud, &r);
    free(w);
}

static int apply_now(struct sb_drvmgr *mg, struct sb_model *m);

static void finish_job(struct sb_drvmgr *mg, struct job *j)
{
    int64_t now = sb_now_ms();
    if (j->is_write)
        write_done(mg, j, now);
    else
        read_done(mg, j, now);
    j->d->busy = 0;
    free(j->items);
    free(j);
    job_gone(mg);
}

static void on_done(uv_async_t *a)
{
    struct sb_drvmgr *mg = a->data;
    pthread_mutex_lock(&mg->qmu);
    struct job *j = mg->dh;
    mg->dh = NULL;
    pthread_mutex_unlock(&mg->qmu);
    while (j) {
        struct job *nx = j->next;
        finish_job(mg, j);
        j = nx;
    }
}

/* ---- scheduling --------------------------------------------------------------- */

static int start_write(struct sb_drvmgr *mg, struct dev *d)
{
    struct wreq *w = d->wq;
    if (!w)
        return 0;
    d->wq = w->next;
    if (!d->wq)
        d->wqt = NULL;
    struct job *j = calloc(1, sizeof(*j));
    if (!j) {
        struct sb_write_result r = { .res = SB_WRES_ERROR, .point = w->pt->p.id,
                                     .value = w->w.value, .readback = NAN };
        snprintf(r.reason, sizeof(r.reason), "out of memory");
        if (w->cb)
            w->cb(w->ud, &r);
        free(w);
        return 1;
    }
    j->d = d;
    j->is_write = 1;
    j->wr = w;
    submit(mg, j);
    return 1;
}

static void poll_dev(struct sb_drvmgr *mg, struct dev *d, int64_t now)
{
    size_t due = 0;
    if (d->busy || !(d->in->ops->flags & SB_DRV_POLLED) || !d->in->started || !dev_mine(mg, d))
        return;
    if (start_write(mg, d))
        return;
    if (d->brk == BRK_OPEN) {
        if (now < d->open_until)
            return;
        d->brk = BRK_HALF;                     /* one probe decides */
    } else if (now < d->retry_at) {
        return;
    }
    if (now < d->min_due)
        return;
    int64_t mn = INT64_MAX;
    for (size_t i = 0; i < d->n; i++) {
        if (d->pts[i]->next_due <= now)
            due++;
        else if (d->pts[i]->next_due < mn)
            mn = d->pts[i]->next_due;
    }
    if (!due) {
        d->min_due = mn;
        return;
    }
    struct job *j = calloc(1, sizeof(*j));
    struct sb_drv_item *it = calloc(due, sizeof(*it));
    if (!j || !it) {
        free(j);
        free(it);
        return;
    }
    for (size_t i = 0, k = 0; i < d->n; i++) {
        struct dpt *p = d->pts[i];
        if (p->next_due > now)
            continue;
        it[k++].pt = &p->p;
        /* Whole intervals from the schedule, not from this tick: no drift
         * (the tick is 50 ms late at most); a point that fell more than an
         * interval behind (a long outage) restarts from now. */
        int64_t iv = p->p.poll_ms ? p->p.poll_ms : 60000;
        p->next_due += iv;
        if (p->next_due <= now)
            p->next_due = now + iv;
        if (p->next_due < mn)
            mn = p->next_due;
    }
    d->min_due = mn;
    j->d = d;
    j->items = it;
    j->n = due;
    submit(mg, j);
}

static int64_t stale_after(const struct sb_drvmgr *mg, const struct dpt *p);

/* Tell the listener which polled points turned stale or fresh (once a second:
 * a comparison per point, 10,000 points cost microseconds). */
static void fresh_scan(struct sb_drvmgr *mg, int64_t now)
{
    mg->fresh_next = now + 1000;
    for (struct dev *d = mg->devs; d; d = d->next) {
        if (!(d->in->ops->flags & SB_DRV_POLLED) || (mg->cfg.leased && !d->owned))
            continue;               /* push points: no schedule to miss; another node's */
        for (size_t i = 0; i < d->n; i++) {
            struct dpt *p = d->pts[i];
            int64_t since = p->last_ok ? p->last_ok : p->next_due;
            int stale = now - since > stale_after(mg, p);
            if (stale != p->stale_mark) {
                p->stale_mark = stale;
                for (int k = 0; k < mg->nfresh; k++)
                    mg->fresh[k].cb(mg->fresh[k].ud, p->p.id, stale);
            }
        }
    }
}

int sb_drvmgr_on_fresh(struct sb_drvmgr *mg, sb_fresh_cb cb, void *ud)
{
    if (mg->nfresh == SB_FRESH_MAX)
        return SB_ENOSPC;
    mg->fresh[mg->nfresh].cb = cb;
    mg->fresh[mg->nfresh++].ud = ud;
    return 0;
}

void sb_drvmgr_off_fresh(struct sb_drvmgr *mg, sb_fresh_cb cb, void *ud)
{
    for (int k = 0; k < mg->nfresh; k++)
        if (mg->fresh[k].cb == cb && mg->fresh[k].ud == ud) {
            mg->fresh[k] = mg->fresh[--mg->nfresh];
            return;
        }
}

static void on_tick(uv_timer_t *t)
{
    struct sb_drvmgr *mg = t->data;
    int64_t now = sb_now_ms();
    if (mg->stopping || mg->pending)
        return;
    for (struct dev *d = mg->devs; d; d = d->next)
        poll_dev(mg, d, now);
    if (mg->nfresh && now >= mg->fresh_next)
        fresh_scan(mg, now);
}

/* ---- binding ------------------------------------------------------------------ */

static struct inst *instance(struct sb_drvmgr *mg, const char *name)
{
    for (struct inst *in = mg->insts; in; in = in->next)
        if (strcmp(in->ops->name, name) == 0)
            return in;
    const struct sb_driver_ops *const *list = mg->cfg.drivers ? mg->cfg.drivers : sb_drivers;
    const struct sb_driver_ops *ops = NULL;
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i]->name, name) == 0)
            ops = list[i];
    if (!ops)
        return NULL;
    struct inst *in = calloc(1, sizeof(*in));
    if (!in)
        return NULL;
    in->ops = ops;
    in->h.mg = mg;
    in->h.in = in;
    in->next = mg->insts;
    mg->insts = in;
    int rc = ops->init(&in->h, json_object_get(mg->conf, name), &in->state, in->err,
                       sizeof(in->err));
    if (rc) {
        in->failed = 1;
        SB_ERR("drivers", "driver %s: %s", name, in->err[0] ? in->err : sb_strerror(rc));
    } else {
        in->inited = 1;
    }
    return in;
}

static struct dev *device(struct sb_drvmgr *mg, struct inst *in, const char *key)
{
    for (struct dev *d = mg->devs; d; d = d->next)
        if (d->in == in && strcmp(d->key, key) == 0)
            return d;
    struct dev *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    snprintf(d->key, sizeof(d->key), "%s", key);
    d->in = in;
    d->next = mg->devs;
    mg->devs = d;
    return d;
}

static void misconfigured(struct sb_drvmgr *mg, const char *slug, const char *drv,
                          const char *err)
{
    struct misconf *v = realloc(mg->mis, (mg->nmis + 1) * sizeof(*v));
    if (!v)
        return;
    mg->mis = v;
    snprintf(v[mg->nmis].slug, sizeof(v[0].slug), "%s", slug);
    snprintf(v[mg->nmis].driver, sizeof(v[0].driver), "%s", drv);
    snprintf(v[mg->nmis].err, sizeof(v[0].err), "%s", err);
    mg->nmis++;
    SB_DEBUG("drivers", "point %s (%s): %s", slug, drv, err);
}

/* One line per driver with unbound points, not one per point. */
static void report_misconfigured(const struct sb_drvmgr *mg)
{
    for (size_t i = 0; i < mg->nmis; i++) {
        size_t n = 0, first = i;
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(mg->mis[j].driver, mg->mis[i].driver) == 0;
        if (seen)
            continue;
        for (size_t j = i; j < mg->nmis; j++)
            n += strcmp(mg->mis[j].driver, mg->mis[i].driver) == 0;
        SB_WARN("drivers", "%zu point(s) of driver %s not bound, e.g. %s: %s (GET /api/v1/drivers "
                "lists them)", n, mg->mis[first].driver, mg->mis[first].slug, mg->mis[first].err);
    }
}

/* Unbind everything (no job may be out). */
static void unbind_all(struct sb_drvmgr *mg)
{
    for (struct inst *in = mg->insts; in; in = in->next)
        if (in->started) {
            if (in->ops->stop)
                in->ops->stop(in->state);
            in->started = 0;
        }
    for (size_t i = 0; i < mg->npts; i++) {
        struct dpt *p = &mg->pts[i];
        if (p->dev && p->dev->in->ops->unbind)
            p->dev->in->ops->unbind(p->dev->in->state, &p->p);
        free(p->slug);
        free(p->address);
    }
    free(mg->pts);
    mg->pts = NULL;
    mg->npts = 0;
    while (mg->devs) {
        struct dev *d = mg->devs;
        mg->devs = d->next;
        while (d->wq) {
            struct wreq *w = d->wq;
            d->wq = w->next;
            struct sb_write_result r = { .res = SB_WRES_ERROR, .point = w->pt->p.id,
                                         .value = w->w.value, .readback = NAN };
            snprintf(r.reason, sizeof(r.reason), "the model changed before it was sent");
            if (w->cb)
                w->cb(w->ud, &r);
            free(w);
        }
        free(d->pts);
        free(d);
    }
    free(mg->mis);
    mg->mis = NULL;
    mg->nmis = 0;
}

static int dev_add(struct dev *d, struct dpt *p)
{
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        void *v = realloc(d->pts, cap * sizeof(*d->pts));
        if (!v)
            return SB_ENOMEM;
        d->pts = v;
        d->cap = cap;
    }
    d->pts[d->n++] = p;
    p->dev = d;
    return 0;
}

/* Publish the unit conversions of the bound points for push drivers. */
static void publish_conv(struct sb_drvmgr *mg)
{
    uint32_t n = 0;
    for (size_t i = 0; i < mg->npts; i++)
        if (mg->pts[i].p.id >= n)
            n = mg->pts[i].p.id + 1;
    struct conv *c = calloc(n ? n : 1, sizeof(*c));
    if (!c)
        return;
    for (size_t i = 0; i < mg->npts; i++)
        if (mg->pts[i].dev) {
            c[mg->pts[i].p.id].c = mg->pts[i].to_canon;
            c[mg->pts[i].p.id].known = 1;
            c[mg->pts[i].p.id].owned = !mg->cfg.leased || mg->pts[i].dev->owned;
        }
    pthread_rwlock_wrlock(&mg->clk);
    free(mg->conv);
    mg->conv = c;
    mg->nconv = n;
    pthread_rwlock_unlock(&mg->clk);
}

/* ---- ownership (cfg.leased) ------------------------------------------------ */

static void dev_name(const struct dev *d, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", d->in->ops->name, d->key);
}

/* Index of d's name in mg->own, or -1. */
static ssize_t own_find_name(const struct sb_drvmgr *mg, const char *name)
{
    for (size_t i = 0; i < mg->nown; i++)
        if (strcmp(mg->own[i], name) == 0)
            return (ssize_t)i;
    return -1;
}

static ssize_t own_find(const struct sb_drvmgr *mg, const struct dev *d)
{
    char name[SB_DRV_KEY_MAX + 24];
    dev_name(d, name, sizeof(name));
    return own_find_name(mg, name);
}

void sb_drvmgr_each_device(struct sb_drvmgr *mg, sb_dev_fn fn, void *ud)
{
    char name[SB_DRV_KEY_MAX + 24];
    uint32_t *ids = NULL;
    size_t cap = 0;

    for (struct dev *d = mg->devs; d; d = d->next) {
        if (d->n > cap) {
            uint32_t *v = realloc(ids, d->n * sizeof(*ids));
            if (!v)
                break;
            ids = v;
            cap = d->n;
        }
        for (size_t i = 0; i < d->n; i++)
            ids[i] = d->pts[i]->p.id;
        dev_name(d, name, sizeof(name));
        fn(ud, name, ids, d->n, d->owned, d->busy);
    }
    free(ids);
}

int sb_drvmgr_own(struct sb_drvmgr *mg, const char *name, int own)
{
    ssize_t k = own_find_name(mg, name);
    int rc = SB_ENOENT;

    if (own && k < 0) {
        if (mg->nown == mg->capown) {
            size_t nc = mg->capown ? mg->capown * 2 : 16;
            char **v = realloc(mg->own, nc * sizeof(*v));
            if (!v)
                return SB_ENOMEM;
            mg->own = v;
            mg->capown = nc;
        }
        if (!(mg->own[mg->nown] = strdup(name)))
            return SB_ENOMEM;
        mg->nown++;
    } else if (!own && k >= 0) {
        free(mg->own[k]);
        mg->own[k] = mg->own[--mg->nown];
    }
    char dn[SB_DRV_KEY_MAX + 24];
    for (struct dev *d = mg->devs; d; d = d->next) {
        dev_name(d, dn, sizeof(dn));
        if (strcmp(dn, name) != 0)
            continue;
        /* told while d->owned is still the old value: a driver giving a
         * device up may still talk to it (cancel subscriptions) only if the
         * lease has not lapsed (sb_drv_may_talk) */
        if (d->owned != own && d->in->ops->own)
            d->in->ops->own(d->in->state, d->key, own);
        d->owned = own;
        if (own)               /* poll at once: the previous owner stopped a while ago */
            for (size_t i = 0; i < d->n; i++)
                d->pts[i]->next_due = d->min_due = sb_now_ms();
        pthread_rwlock_wrlock(&mg->clk);
        for (size_t i = 0; i < d->n; i++)
            if (d->pts[i]->p.id < mg->nconv)
                mg->conv[d->pts[i]->p.id].owned = own;
        pthread_rwlock_unlock(&mg->clk);
        rc = 0;
    }
    return rc;
}

void sb_drvmgr_lease_until(struct sb_drvmgr *mg, int64_t mono_ms)
{
    mg->lease_until = mono_ms;
}

static int apply_now(struct sb_drvmgr *mg, struct sb_model *m)
{
    char key[SB_DRV_KEY_MAX], err[SB_DRV_ERR_MAX];
    size_t n = 0;
    int64_t now = sb_now_ms();

    unbind_all(mg);
    for (size_t i = 0; i < m->npoints; i++)
        n += m->points[i].source.driver != SB_DRIVER_VIRTUAL && m->points[i].id;
    if (n && !(mg->pts = calloc(n, sizeof(*mg->pts))))
        return SB_ENOMEM;
    for (size_t i = 0; i < m->npoints; i++) {
        const struct sb_point *sp = &m->points[i];
        const char *dn = sb_driver_name(sp->source.driver);
        if (sp->source.driver == SB_DRIVER_VIRTUAL || !sp->id)
            continue;
        struct inst *in = instance(mg, dn);
        if (!in || in->failed) {
            misconfigured(mg, sp->slug, dn, in ? in->err : "no such driver in this build");
            continue;
        }
        struct dpt *p = &mg->pts[mg->npts++];
        p->slug = strdup(sp->slug);
        p->address = sp->source.address ? strdup(sp->source.address) : NULL;
        p->p = (struct sb_drv_point){ .id = sp->id, .slug = p->slug, .address = p->address,
                                      .address_json = sp->source.address_json,
                                      .poll_ms = sp->source.poll_ms, .unit = sp->unit,
                                      .writable = sp->writable, .min = sp->min, .max = sp->max };
        p->to_canon = sp->to_canon;
        err[0] = '\0';
        if (!p->slug || in->ops->bind(in->state, &p->p, key, sizeof(key), err, sizeof(err))) {
            misconfigured(mg, sp->slug, dn, err[0] ? err : "address refused");
            continue;
        }
        struct dev *d = device(mg, in, key);
        if (!d || dev_add(d, p)) {
            if (in->ops->unbind)
                in->ops->unbind(in->state, &p->p);
            continue;
        }
    }
    report_misconfigured(mg);
    for (struct dev *d = mg->devs; d; d = d->next) {
        d->owned = own_find(mg, d) >= 0;
        if (mg->cfg.leased && d->in->ops->own)
            d->in->ops->own(d->in->state, d->key, d->owned);
    }
    /* First polls: one random phase per device (spread over its shortest
     * interval, so a thousand devices configured together do not fire
     * together), the same for all its points so they are read in one
     * request and stay together (next_due advances by whole intervals). */
    for (struct dev *d = mg->devs; d; d = d->next) {
        uint32_t shortest = UINT32_MAX;
        for (size_t i = 0; i < d->n; i++)
            if (d->pts[i]->p.poll_ms && d->pts[i]->p.poll_ms < shortest)
                shortest = d->pts[i]->p.poll_ms;
        int64_t phase = shortest != UINT32_MAX ? (int64_t)randombytes_uniform(shortest) : 0;
        for (size_t i = 0; i < d->n; i++)
            d->pts[i]->next_due = now + phase;
        d->min_due = now + phase;
    }
    publish_conv(mg);
    /* A driver with settings runs even without points (MQTT's mirror of
     * readings and its command channel need the broker connection). */
    const char *name;
    json_t *v;
    json_object_foreach(mg->conf, name, v) {
        (void)v;
        if (!instance(mg, name))
            SB_WARN("drivers", "settings for \"%s\": no such driver in this build", name);
    }
    for (struct inst *in = mg->insts; in; in = in->next) {
        int used = json_object_get(mg->conf, in->ops->name) != NULL;
        for (struct dev *d = mg->devs; d; d = d->next)
            used |= d->in == in;
        if (!used || in->failed)
            continue;
        int rc = in->ops->start ? in->ops->start(in->state) : 0;
        if (rc)
            SB_ERR("drivers", "driver %s did not start: %s", in->ops->name, sb_strerror(rc));
        in->started = rc == 0;
    }
    return 0;
}

int sb_drvmgr_apply(struct sb_drvmgr *mg, const struct sb_model *m)
{
    struct sb_model *copy = sb_model_new();
    int rc;
    if (!copy || (rc = sb_model_clone(m, copy))) {
        sb_model_free(copy);
        return SB_ENOMEM;
    }
    if (mg->jobs) {                 /* after the jobs out come back */
        sb_model_free(mg->pending);
        mg->pending = copy;
        return 0;
    }
    rc = apply_now(mg, copy);
    sb_model_free(copy);
    return rc;
}

/* ---- writes -------------------------------------------------------------------- */

static struct dpt *find_point(struct sb_drvmgr *mg, uint32_t id)
{
    for (size_t i = 0; i < mg->npts; i++)
        if (mg->pts[i].p.id == id && mg->pts[i].dev)
            return &mg->pts[i];
    return NULL;
}

int sb_drvmgr_write(struct sb_drvmgr *mg, uint32_t point, double value, int priority,
                    int relinquish, sb_write_cb cb, void *ud, const char **why)
{
    struct dpt *p = find_point(mg, point);
    int64_t now = sb_now_ms();

    *why = NULL;
    if (!p) {
        *why = "no running driver serves this point";
        return SB_ENOENT;
    }
    if (!(p->dev->in->ops->flags & SB_DRV_WRITES) || (!p->dev->in->ops->write && !p->dev->in->ops->write_async)) {
        *why = "this point's driver cannot write";
        return SB_ENOTSUP;
    }
    if (!p->p.writable) {
        *why = "the point is not writable";
        return SB_EINVAL;
    }
    if (!dev_mine(mg, p->dev)) {
        *why = "another sbems node polls this point's device (GET /api/v1/cluster names it)";
        return SB_ECLOSED;
    }
    if (!relinquish && (!isfinite(value) || (!isnan(p->p.min) && value < p->p.min) ||
                        (!isnan(p->p.max) && value > p->p.max))) {
        *why = "value outside the point's range";
        return SB_ERANGE;
    }
    if (p->last_write && now - p->last_write < mg->cfg.write_interval_ms) {
        *why = "written too recently (drivers.write_interval)";
        return SB_EAGAIN;
    }
    p->last_write = now;
    if (mg->cfg.dry_run) {
        struct sb_write_result r = { .res = SB_WRES_DRY_RUN, .point = point, .value = value,
                                     .readback = NAN };
        snprintf(r.reason, sizeof(r.reason), "dry run: %s would be %s %.6g (priority %d)",
                 p->slug, relinquish ? "released from" : "set to", value, priority);
        SB_INFO("drivers", "%s", r.reason);
        if (cb)
            cb(ud, &r);
        return 0;
    }
    struct wreq *w = calloc(1, sizeof(*w));
    if (!w)
        return SB_ENOMEM;
    w->pt = p;
    w->w = (struct sb_drv_write){ .pt = &p->p, .value = value, .priority = priority,
                                  .relinquish = relinquish };
    w->cb = cb;
    w->ud = ud;
    struct dev *d = p->dev;
    if (d->wqt)
        d->wqt->next = w;
    else
        d->wq = w;
    d->wqt = w;
    if (!d->busy && !mg->pending)
        start_write(mg, d);
    return 0;
}

/* ---- push services (any thread) ------------------------------------------------ */

int sb_drv_push(struct sb_drv *drv, const struct sb_drv_value *v, size_t n)
{
    struct sb_drvmgr *mg = drv->mg;
    struct sb_reading r[256];
    int64_t now = sb_now_ms();
    int rc = 0;

    while (n && rc == 0) {
        size_t k = 0, foreign = 0, take = n < 256 ? n : 256;
        int lapsed = mg->cfg.leased && mono_ms() >= mg->lease_until;
        pthread_rwlock_rdlock(&mg->clk);
        for (size_t i = 0; i < take; i++) {
            if (v[i].point >= mg->nconv || !mg->conv[v[i].point].known || !isfinite(v[i].v))
                continue;
            if (!mg->conv[v[i].point].owned || lapsed) {
                foreign++;          /* another node takes this device's values */
                continue;
            }
            r[k++] = (struct sb_reading){ .t = v[i].t ? v[i].t : now,
                                          .v = sb_unit_conv_apply(&mg->conv[v[i].point].c, v[i].v),
                                          .point = v[i].point, .q = v[i].q };
        }
        pthread_rwlock_unlock(&mg->clk);
        struct sb_ingest_result res = { 0 };
        if (k && mg->cfg.ingest)
            rc = sb_ingest_submit(mg->cfg.ingest, r, k, 0, &res);
        pthread_mutex_lock(&mg->hmu);
        mg->st.pushed += res.queued;
        mg->st.not_owned += foreign;
        mg->st.dropped += (take - k - foreign) + (rc ? k - res.queued : 0);
        pthread_mutex_unlock(&mg->hmu);
        v += take;
        n -= take;
    }
    return rc == SB_EAGAIN ? SB_EAGAIN : 0;
}

int sb_drv_may_talk(struct sb_drv *drv, const char *key)
{
    struct sb_drvmgr *mg = drv->mg;
    if (!mg->cfg.leased)
        return 1;
    for (struct dev *d = mg->devs; d; d = d->next)
        if (d->in == drv->in && strcmp(d->key, key) == 0)
            return dev_mine(mg, d);
    return 0;
}

void sb_drv_device_state(struct sb_drv *drv, const char *key, int ok, const char *err)
{
    struct sb_drvmgr *mg = drv->mg;
    int64_t now = sb_now_ms();
    pthread_mutex_lock(&mg->hmu);
    for (struct dev *d = mg->devs; d; d = d->next)
        if (d->in == drv->in && strcmp(d->key, key) == 0) {
            d->push_ok = ok;
            if (ok) {
                d->last_ok = now;
            } else {
                d->errors++;
                d->last_err_at = now;
                snprintf(d->last_err, sizeof(d->last_err), "%s", err ? err : "down");
            }
        }
    pthread_mutex_unlock(&mg->hmu);
}

void sb_drv_count_bad(struct sb_drv *drv, const char *key, const char *what)
{
    struct sb_drvmgr *mg = drv->mg;
    pthread_mutex_lock(&mg->hmu);
    mg->st.bad++;
    for (struct dev *d = mg->devs; d; d = d->next)
        if (d->in == drv->in && strcmp(d->key, key) == 0) {
            d->bad++;
            snprintf(d->last_err, sizeof(d->last_err), "%s", what ? what : "bad input");
            d->last_err_at = sb_now_ms();
        }
    pthread_mutex_unlock(&mg->hmu);
}

/* ---- health ---------------------------------------------------------------------- */

static int64_t stale_after(const struct sb_drvmgr *mg, const struct dpt *p)
{
    int64_t iv = p->p.poll_ms ? p->p.poll_ms : 60000;
    return iv * mg->cfg.stale_factor;
}

static size_t stale_points(const struct sb_drvmgr *mg, const struct dev *d, int64_t now)
{
    size_t n = 0;
    if (!(d->in->ops->flags & SB_DRV_POLLED) || (mg->cfg.leased && !d->owned))
        return 0;                   /* push points: no schedule to miss; another node's */
    for (size_t i = 0; i < d->n; i++) {
        const struct dpt *p = d->pts[i];
        int64_t since = p->last_ok ? p->last_ok : p->next_due;
        n += now - since > stale_after(mg, p);
    }
    return n;
}

static const char *dev_state(const struct dev *d)
{
    if (!d->in->started)
        return "stopped";
    if (d->brk == BRK_OPEN)
        return "open";
    if (d->brk == BRK_HALF)
        return "probing";
    if (d->in->ops->flags & SB_DRV_PUSH && !(d->in->ops->flags & SB_DRV_POLLED))
        return d->push_ok ? "ok" : "down";
    return d->fails ? "failing" : d->last_ok ? "ok" : "waiting";
}

json_t *sb_drvmgr_health(struct sb_drvmgr *mg)
{
    json_t *devs = json_array(), *mis = json_array();
    int64_t now = sb_now_ms();
    char t1[40], t2[40];

    pthread_mutex_lock(&mg->hmu);
    for (struct dev *d = mg->devs; d; d = d->next) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:s?, s:s?, s:s?, s:f}",
                              "device", d->key, "driver", d->in->ops->name, "state", dev_state(d),
                              "points", (json_int_t)d->n,
                              "stale_points", (json_int_t)stale_points(mg, d, now),
                              "reads", (json_int_t)d->reads, "errors", (json_int_t)d->errors,
                              "bad_inputs", (json_int_t)d->bad, "consecutive_failures", d->fails,
                              "last_ok", d->last_ok ? sb_time_format(d->last_ok, t1, sizeof(t1)) : NULL,
                              "last_error", d->last_err[0] ? d->last_err : NULL,
                              "last_error_at", d->last_err_at ?
                                  sb_time_format(d->last_err_at, t2, sizeof(t2)) : NULL,
                              "latency_ms", d->latency_ms);
        if (mg->cfg.leased)
            json_object_set_new(o, "owned", json_boolean(d->owned));
        json_array_append_new(devs, o);
    }
    pthread_mutex_unlock(&mg->hmu);
    for (size_t i = 0; i < mg->nmis; i++)
        json_array_append_new(mis, json_pack("{s:s, s:s, s:s}", "point", mg->mis[i].slug,
                                             "driver", mg->mis[i].driver, "error", mg->mis[i].err));
    return json_pack("{s:o, s:o, s:b}", "devices", devs, "misconfigured", mis, "dry_run",
                     mg->cfg.dry_run);
}

void sb_drvmgr_stats(struct sb_drvmgr *mg, struct sb_drvmgr_stats *st)
{
    int64_t now = sb_now_ms();
    pthread_mutex_lock(&mg->hmu);
    *st = mg->st;
    pthread_mutex_unlock(&mg->hmu);
    st->devices = st->devices_failing = st->devices_open = st->stale_points = 0;
    for (struct dev *d = mg->devs; d; d = d->next) {
        st->devices++;
        st->devices_failing += d->fails > 0;
        st->devices_open += d->brk == BRK_OPEN;
        st->stale_points += stale_points(mg, d, now);
    }
    st->misconfigured = mg->nmis;
}

void *sb_drvmgr_state(struct sb_drvmgr *mg, const char *name)
{
    for (struct inst *in = mg->insts; in; in = in->next)
        if (strcmp(in->ops->name, name) == 0)
            return in->inited && !in->failed ? in->state : NULL;
    return NULL;
}

int sb_drvmgr_ready(struct sb_drvmgr *mg)
{
    for (struct dev *d = mg->devs; d; d = d->next)
        if (!d->in->started)
            return 0;
    return 1;
}

/* ---- life cycle -------------------------------------------------------------------- */

int sb_drvmgr_new(const struct sb_drvmgr_cfg *cfg, struct sb_drvmgr **out)
{
    struct sb_drvmgr *mg = calloc(1, sizeof(*mg));
    if (!mg)
        return SB_ENOMEM;
    mg->cfg = *cfg;
    if (mg->cfg.timeout_ms <= 0)
        mg->cfg.timeout_ms = 3000;
    if (mg->cfg.threads <= 0)
        mg->cfg.threads = 8;
    if (mg->cfg.breaker_failures <= 0)
        mg->cfg.breaker_failures = 5;
    if (mg->cfg.breaker_cooldown_ms <= 0)
        mg->cfg.breaker_cooldown_ms = 60000;
    if (mg->cfg.stale_factor <= 0)
        mg->cfg.stale_factor = 3;
    mg->conf = cfg->conf ? json_incref(cfg->conf) : json_object();
    pthread_mutex_init(&mg->qmu, NULL);
    pthread_cond_init(&mg->qcv, NULL);
    pthread_rwlock_init(&mg->clk, NULL);
    pthread_mutex_init(&mg->hmu, NULL);
    uv_timer_init(cfg->loop, &mg->tick);
    uv_async_init(cfg->loop, &mg->done_wake, on_done);
    mg->tick.data = mg->done_wake.data = mg;
    mg->handles = 2;
    uv_timer_start(&mg->tick, on_tick, TICK_MS, TICK_MS);
    if (!(mg->thr = calloc((size_t)mg->cfg.threads, sizeof(*mg->thr)))) {
        sb_drvmgr_stop(mg);
        *out = mg;
        return SB_ENOMEM;
    }
    for (; mg->nthr < mg->cfg.threads; mg->nthr++)
        if (pthread_create(&mg->thr[mg->nthr], NULL, worker, mg) != 0)
            break;
    *out = mg;
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    ((struct sb_drvmgr *)h->data)->handles--;
}

void sb_drvmgr_stop(struct sb_drvmgr *mg)
{
    if (!mg || mg->stopping)
        return;
    mg->stopping = 1;
    /* workers finish the jobs they hold (bounded by the timeout) */
    pthread_mutex_lock(&mg->qmu);
    mg->quit = 1;
    pthread_cond_broadcast(&mg->qcv);
    pthread_mutex_unlock(&mg->qmu);
    for (int i = 0; i < mg->nthr; i++)
        pthread_join(mg->thr[i], NULL);
    mg->nthr = 0;
    on_done(&mg->done_wake);         /* results of the last jobs */
    sb_model_free(mg->pending);
    mg->pending = NULL;
    unbind_all(mg);
    uv_close((uv_handle_t *)&mg->tick, on_closed);
    uv_close((uv_handle_t *)&mg->done_wake, on_closed);
}

int sb_drvmgr_idle(struct sb_drvmgr *mg)
{
    return !mg || mg->handles == 0;
}

void sb_drvmgr_free(struct sb_drvmgr *mg)
{
    if (!mg)
        return;
    while (mg->insts) {
        struct inst *in = mg->insts;
        mg->insts = in->next;
        if (in->inited && in->ops->free)
            in->ops->free(in->state);
        free(in);
    }
    free(mg->conv);
    free(mg->thr);
    for (size_t i = 0; i < mg->nown; i++)
        free(mg->own[i]);
    free(mg->own);
    json_decref(mg->conf);
    pthread_mutex_destroy(&mg->qmu);
    pthread_cond_destroy(&mg->qcv);
    pthread_rwlock_destroy(&mg->clk);
    pthread_mutex_destroy(&mg->hmu);
    free(mg);
}

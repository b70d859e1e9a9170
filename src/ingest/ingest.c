/*
 * ingest.c - bounded queue + batching writer thread (see ingest.h).
 *
 * The queue is a ring of readings under one mutex with two condition
 * variables (room / data).  Tickets count readings: a submit's ticket is the
 * total queued after its last reading, and the writer's durable counter is
 * the total it has appended, so FIFO order makes "durable >= ticket" mean
 * "every reading of that submit is on disk".
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "ingest/bus.h"
#include "ingest/ingest.h"

/* Validation facts, indexed by point id. */
struct ptab {
    double  *vmin, *vmax;   /* range per id (NaN vmin = unknown point) */
    uint32_t n;             /* ids covered: 0 .. n-1 */
};

struct sb_ingest {
    struct sb_store_h *store;    /* not owned */
    struct sb_bus *bus;          /* not owned, may be NULL */
    struct sb_ingest_cfg cfg;    /* copy */
    pthread_mutex_t mu;          /* protects everything below but ptab */
    pthread_cond_t room, data, done;
    struct sb_reading *ring;     /* queue storage, cfg.queue_cap entries */
    size_t head, len;            /* first queued, how many */
    uint64_t queued_total;       /* readings ever queued (ticket clock) */
    uint64_t durable_total;      /* readings made durable */
    uint64_t flush_req, flush_done; /* explicit flush requests / completions */
    int stopping, failed, started;
    pthread_t thr;               /* writer */
    pthread_rwlock_t plock;      /* protects pt */
    struct ptab pt;              /* known points */
    struct sb_ingest_stats st;   /* counters (under mu) */
};

static const char *const rej_names[SB_REJ_COUNT] = {
    "unknown_point", "not_finite", "out_of_range", "future", "too_old"
};

const char *sb_reject_name(enum sb_reject r)
{
    return (unsigned)r < SB_REJ_COUNT ? rej_names[r] : "?";
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

/* -1 if acceptable, else the reason. */
static int check(const struct sb_ingest *ing, const struct sb_reading *r, int64_t now)
{
    const struct ptab *t = &ing->pt;
    if (r->point >= t->n || isnan(t->vmin[r->point]))
        return SB_REJ_UNKNOWN_POINT;
    if (!isfinite(r->v))
        return SB_REJ_NOT_FINITE;
    if (r->v < t->vmin[r->point] || r->v > t->vmax[r->point])
        return SB_REJ_RANGE;
    if (r->t > now + ing->cfg.future_limit_ms)
        return SB_REJ_FUTURE;
    if (ing->cfg.too_old_ms > 0 && r->t < now - ing->cfg.too_old_ms)
        return SB_REJ_TOO_OLD;
    return -1;
}

int sb_ingest_set_points(struct sb_ingest *ing, const struct sb_ingest_point *p, size_t n)
{
    uint32_t maxid = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].id > maxid)
            maxid = p[i].id;
    struct ptab t = { malloc((maxid + 1) * sizeof(double)), malloc((maxid + 1) * sizeof(double)),
                      maxid + 1 };
    if (!t.vmin || !t.vmax) {
        free(t.vmin);
        free(t.vmax);
        return SB_ENOMEM;
    }
    for (uint32_t i = 0; i <= maxid; i++)
        t.vmin[i] = t.vmax[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        t.vmin[p[i].id] = isnan(p[i].vmin) ? -INFINITY : p[i].vmin;
        t.vmax[p[i].id] = isnan(p[i].vmax) ? INFINITY : p[i].vmax;
    }
    pthread_rwlock_wrlock(&ing->plock);
    struct ptab old = ing->pt;
    ing->pt = t;
    pthread_rwlock_unlock(&ing->plock);
    free(old.vmin);
    free(old.vmax);
    return 0;
}

/* Copy up to n valid readings into the ring (mu held); returns how many of
 * r[] were consumed (valid or not). */
static size_t enqueue(struct sb_ingest *ing, const struct sb_reading *r, size_t n, size_t base,
                      int64_t now, struct sb_ingest_result *res)
{
    size_t i = 0;
    for (; i < n && ing->len < ing->cfg.queue_cap; i++) {
        int why = check(ing, &r[i], now);
        if (why >= 0) {
            res->reasons[why]++;
            res->rejected++;
            ing->st.rejected[why]++;
            if (res->first_bad < 0)
                res->first_bad = (long)(base + i);
            continue;
        }
        ing->ring[(ing->head + ing->len) % ing->cfg.queue_cap] = r[i];
        ing->len++;
        ing->queued_total++;
        res->queued++;
    }
    return i;
}

int sb_ingest_submit(struct sb_ingest *ing, const struct sb_reading *r, size_t n,
                     int64_t timeout_ms, struct sb_ingest_result *res)
{
    struct sb_ingest_result local;
    struct timespec dl;
    int rc = 0, waited = 0;
    size_t done = 0;
    int64_t now = now_ms();

    if (!res)
        res = &local;
    memset(res, 0, sizeof(*res));
    res->first_bad = -1;
    if (timeout_ms > 0)
        deadline(&dl, timeout_ms);
    pthread_rwlock_rdlock(&ing->plock);
    pthread_mutex_lock(&ing->mu);
    ing->st.submitted += n;
    while (done < n) {
        if (ing->stopping) {
            rc = SB_ECLOSED;
            break;
        }
        done += enqueue(ing, r + done, n - done, done, now, res);
        pthread_cond_signal(&ing->data);
        if (done == n)
            break;
        if (!waited++)
            ing->st.full_waits++;
        if (timeout_ms == 0) {
            rc = SB_EAGAIN;
            break;
        }
        int w = timeout_ms < 0 ? pthread_cond_wait(&ing->room, &ing->mu)
                               : pthread_cond_timedwait(&ing->room, &ing->mu, &dl);
        if (w == ETIMEDOUT && ing->len >= ing->cfg.queue_cap) {
            rc = SB_EAGAIN;
            break;
        }
    }
    ing->st.queued += res->queued;
    res->ticket = ing->queued_total;
    pthread_mutex_unlock(&ing->mu);
    pthread_rwlock_unlock(&ing->plock);
    return rc;
}

uint64_t sb_ingest_durable(struct sb_ingest *ing)
{
    pthread_mutex_lock(&ing->mu);
    uint64_t d = ing->durable_total;
    pthread_mutex_unlock(&ing->mu);
    return d;
}

uint64_t sb_ingest_queued(struct sb_ingest *ing)
{
    pthread_mutex_lock(&ing->mu);
    uint64_t q = ing->queued_total;
    pthread_mutex_unlock(&ing->mu);
    return q;
}

int sb_ingest_wait(struct sb_ingest *ing, uint64_t ticket, int64_t timeout_ms)
{
    struct timespec dl;
    int rc = 0;

    if (timeout_ms > 0)
        deadline(&dl, timeout_ms);
    pthread_mutex_lock(&ing->mu);
    while (ing->durable_total < ticket && rc == 0) {
        if (ing->failed)
            rc = SB_EIO;
        else if (timeout_ms < 0)
            pthread_cond_wait(&ing->done, &ing->mu);
        else if (timeout_ms == 0 || pthread_cond_timedwait(&ing->done, &ing->mu, &dl) == ETIMEDOUT)
            rc = ing->durable_total >= ticket ? 0 : SB_ETIMEDOUT;
    }
    pthread_mutex_unlock(&ing->mu);
    return rc;
}

int sb_ingest_flush(struct sb_ingest *ing, int64_t timeout_ms)
{
    struct timespec dl;
    int rc = 0;

    if (timeout_ms > 0)
        deadline(&dl, timeout_ms);
    pthread_mutex_lock(&ing->mu);
    uint64_t want = ++ing->flush_req;
    pthread_cond_signal(&ing->data);
    while (ing->flush_done < want && rc == 0) {
        if (ing->failed || !ing->started)
            rc = SB_EIO;
        else if (timeout_ms < 0)
            pthread_cond_wait(&ing->done, &ing->mu);
        else if (pthread_cond_timedwait(&ing->done, &ing->mu, &dl) == ETIMEDOUT)
            rc = SB_ETIMEDOUT;
    }
    pthread_mutex_unlock(&ing->mu);
    return rc;
}

void sb_ingest_get_stats(struct sb_ingest *ing, struct sb_ingest_stats *st)
{
    pthread_mutex_lock(&ing->mu);
    *st = ing->st;
    st->depth = ing->len;
    pthread_mutex_unlock(&ing->mu);
}

/* ---- writer thread ------------------------------------------------------ */

/* Append a batch, retrying with back-off while the store fails (disk full,
 * I/O error): the readings stay unacknowledged and producers are slowed by
 * the full queue, so nothing is lost or acknowledged falsely. */
static int write_batch(struct sb_ingest *ing, const struct sb_reading *b, size_t n)
{
    int64_t backoff = 50;
    for (int attempt = 0;; attempt++) {
        int rc = sb_store_append(ing->store, b, n);
        if (rc == 0)
            return 0;
        pthread_mutex_lock(&ing->mu);
        ing->st.store_errors++;
        int stop = ing->stopping && attempt >= 5;
        pthread_mutex_unlock(&ing->mu);
        SB_ERR("ingest", "store append of %zu readings failed: %s (attempt %d)", n,
               sb_strerror(rc), attempt + 1);
        if (stop)
            return rc;
        struct timespec ts = { backoff / 1000, (backoff % 1000) * 1000000 };
        nanosleep(&ts, NULL);
        if (backoff < 5000)
            backoff *= 2;
    }
}

/* Take up to batch_max readings (mu held), copying out of the ring. */
static size_t take(struct sb_ingest *ing, struct sb_reading *b)
{
    size_t n = ing->len < ing->cfg.batch_max ? ing->len : ing->cfg.batch_max;
    for (size_t i = 0; i < n; i++)
        b[i] = ing->ring[(ing->head + i) % ing->cfg.queue_cap];
    return n;
}

static void *writer(void *arg)
{
    struct sb_ingest *ing = arg;
    struct sb_reading *b = malloc(ing->cfg.batch_max * sizeof(*b));
    int64_t last_flush = now_ms();

    pthread_mutex_lock(&ing->mu);
    while (b) {
        /* wait for data, a flush request, stop, or the flush interval */
        if (ing->len == 0 && !ing->stopping && ing->flush_req == ing->flush_done) {
            struct timespec dl;
            deadline(&dl, ing->cfg.flush_interval_ms > 0 ? ing->cfg.flush_interval_ms : 1000);
            pthread_cond_timedwait(&ing->data, &ing->mu, &dl);
        }
        /* linger briefly so small submits share one durable commit */
        if (ing->len > 0 && ing->len < ing->cfg.batch_max && ing->cfg.linger_ms > 0 &&
            !ing->stopping) {
            struct timespec dl;
            deadline(&dl, ing->cfg.linger_ms);
            pthread_cond_timedwait(&ing->data, &ing->mu, &dl);
        }
        size_t n = take(ing, b);
        uint64_t freq = ing->flush_req;
        int stopping = ing->stopping;
        pthread_mutex_unlock(&ing->mu);

        int rc = n ? write_batch(ing, b, n) : 0;
        if (rc == 0 && n && ing->bus)
            sb_bus_publish(ing->bus, b, n);
        int64_t now = now_ms();
        int do_flush = freq != ing->flush_done || (stopping && n == 0) ||
                       (ing->cfg.flush_interval_ms > 0 && now - last_flush >= ing->cfg.flush_interval_ms);
        if (do_flush && rc == 0) {
            /* The batch is durable whatever the seal does: a failed seal
             * (a database server away) is counted and tried again later. */
            int frc = sb_store_flush(ing->store);
            if (frc) {
                pthread_mutex_lock(&ing->mu);
                ing->st.store_errors++;
                pthread_mutex_unlock(&ing->mu);
                if (frc != SB_EAGAIN)
                    SB_WARN("ingest", "seal failed: %s (data stays in the head)",
                            sb_strerror(frc));
            }
            last_flush = now;
        }

        pthread_mutex_lock(&ing->mu);
        if (rc && n) {
            ing->failed = 1;   /* only when stopping: write_batch retries otherwise */
        } else if (n) {
            ing->head = (ing->head + n) % ing->cfg.queue_cap;
            ing->len -= n;
            ing->durable_total += n;
            ing->st.written += n;
            ing->st.batches++;
            pthread_cond_broadcast(&ing->room);
        }
        if (do_flush)
            ing->flush_done = freq;
        pthread_cond_broadcast(&ing->done);
        if ((stopping && ing->len == 0 && n == 0) || ing->failed)
            break;
    }
    ing->started = 0;
    pthread_cond_broadcast(&ing->done);
    pthread_mutex_unlock(&ing->mu);
    free(b);
    return NULL;
}

int sb_ingest_new(struct sb_store_h *store, struct sb_bus *bus, const struct sb_ingest_cfg *cfg,
                  struct sb_ingest **out)
{
    struct sb_ingest *ing = calloc(1, sizeof(*ing));
    if (!ing)
        return SB_ENOMEM;
    ing->store = store;
    ing->bus = bus;
    ing->cfg = *cfg;
    if (ing->cfg.queue_cap < 1)
        ing->cfg.queue_cap = 1000000;
    if (ing->cfg.batch_max < 1)
        ing->cfg.batch_max = 65536;
    if (ing->cfg.batch_max > ing->cfg.queue_cap)
        ing->cfg.batch_max = ing->cfg.queue_cap;
    if (ing->cfg.future_limit_ms <= 0)
        ing->cfg.future_limit_ms = 86400000;
    pthread_mutex_init(&ing->mu, NULL);
    pthread_cond_init(&ing->room, NULL);
    pthread_cond_init(&ing->data, NULL);
    pthread_cond_init(&ing->done, NULL);
    pthread_rwlock_init(&ing->plock, NULL);
    ing->ring = malloc(ing->cfg.queue_cap * sizeof(*ing->ring));
    if (!ing->ring) {
        sb_ingest_free(ing);
        return SB_ENOMEM;
    }
    ing->started = 1;
    if (pthread_create(&ing->thr, NULL, writer, ing) != 0) {
        ing->started = 0;
        sb_ingest_free(ing);
        return SB_ENOMEM;
    }
    *out = ing;
    return 0;
}

int sb_ingest_stop(struct sb_ingest *ing)
{
    pthread_mutex_lock(&ing->mu);
    int was = ing->stopping;
    ing->stopping = 1;
    pthread_cond_broadcast(&ing->data);
    pthread_cond_broadcast(&ing->room);
    pthread_mutex_unlock(&ing->mu);
    if (!was && ing->thr)
        pthread_join(ing->thr, NULL);
    return ing->failed ? SB_EIO : 0;
}

void sb_ingest_free(struct sb_ingest *ing)
{
    if (!ing)
        return;
    if (ing->thr)
        sb_ingest_stop(ing);
    pthread_mutex_destroy(&ing->mu);
    pthread_cond_destroy(&ing->room);
    pthread_cond_destroy(&ing->data);
    pthread_cond_destroy(&ing->done);
    pthread_rwlock_destroy(&ing->plock);
    free(ing->pt.vmin);
    free(ing->pt.vmax);
    free(ing->ring);
    free(ing);
}

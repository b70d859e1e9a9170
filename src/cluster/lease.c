/*
 * lease.c - device leases between nodes (lease.h,
 * docs/internals/cluster-leases.md).
 *
 * The loop owns the drivers' view (which device is bound, owned, busy) and
 * the list of devices being given back; the lease thread owns the
 * connection and everything that waits (SQL, the ingest queue, the store's
 * seals).  One round at a time: the loop hands a request over, the thread
 * answers with a result, the loop applies it and schedules the next.
 * Every statement is prepared, values travel as parameters (device names as
 * one text[] array literal built here with quoting, never as SQL text).
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "cluster/lease.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "drivers/manager.h"
#include "ingest/ingest.h"
#include "store/pg/pg.h"
#include "store/pg/pg_conn.h"
#include "store/store.h"

#define FIRST_ROUND_MS 1000   /* after the first heartbeat: let nodes started together meet */
#define RETRY_MS       1000   /* after a failed round */
#define MIN_ROUND_MS   100

enum { ST_FREE = 0, ST_OWNED, ST_GIVING };

struct ldev {                 /* one device as the loop saw it */
    char *name;               /* "<driver>/<key>" */
    uint32_t *ids;            /* its points */
    size_t n;
    int state;                /* ST_* */
};

struct req {                  /* loop -> thread */
    struct ldev *devs;        /* every bound device */
    size_t ndev;
    struct ldev *rel;         /* to hand back now (idle) */
    size_t nrel;
};

struct names {
    char **v;
    size_t n, cap;
};

struct res {                  /* thread -> loop */
    int ok;
    int duties;               /* this node holds the duties lease (DUTIES) */
    int64_t deadline;         /* monotonic ms; 0: unchanged */
    struct names held;        /* leases held after the round (sorted); store state loaded */
    struct names give;        /* over the fair share: stop polling, then hand back */
    struct names released;    /* handed back (lease freed) */
    int64_t next_ms;
    json_t *nodes;            /* [{"node","alive","leases"}] or NULL */
    size_t live;
};

/* Prepared statements of the lease connection. */
enum { Q_HB = 0, Q_REL, Q_RENEW, Q_DEAD, Q_LOCK, Q_DROP, Q_LIVE, Q_ENSURE, Q_ACQ, Q_NEXT,
       Q_NODES, Q_LEAVE, Q_LEAVE_NODE, Q_N };

#define MS "* interval '1 millisecond'"
static const char *const sql[Q_N] = {
    [Q_HB] = "INSERT INTO sb_node(node, expires) VALUES($1, now() + $2::int8 " MS ") "
             "ON CONFLICT (node) DO UPDATE SET expires = EXCLUDED.expires",
    [Q_REL] = "UPDATE sb_lease SET node = '', expires = now() WHERE device = $1 AND node = $2",
    [Q_RENEW] = "UPDATE sb_lease SET expires = now() + $2::int8 " MS " WHERE node = $1 "
                "AND device = ANY($3::text[]) RETURNING device",
    [Q_DEAD] = "SELECT node FROM sb_node WHERE expires < now() AND node <> $1",
    [Q_LOCK] = "SELECT node FROM sb_node WHERE node = $1 AND expires < now() "
               "FOR UPDATE SKIP LOCKED",
    [Q_DROP] = "DELETE FROM sb_node WHERE node = $1",
    [Q_LIVE] = "SELECT count(*) FROM sb_node WHERE expires >= now()",
    [Q_ENSURE] = "INSERT INTO sb_lease(device) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
    /* Free (''), our own expired lease, or one whose holder's row is gone.
     * A row goes only when its node is reaped (its row expired, its head
     * adopted) or leaves (it stopped and gave everything back), and a
     * node's drivers stop a third of a lease before its row expires (the
     * deadline comes from the start of the round that renews both), so such
     * a lease is taken at once, without waiting for its own expiry a few ms
     * later.  A holder whose row still exists keeps its expired leases until
     * it is reaped (its head may hold readings of those points).
     * SKIP LOCKED: two nodes never wait on or take the same row, and FOR
     * UPDATE re-checks the condition on the row it locks. */
    [Q_ACQ] = "WITH c AS (SELECT l.device, l.node AS prev FROM sb_lease l "
              "WHERE l.device = ANY($3::text[]) AND ((l.expires < now() AND (l.node = '' OR "
              "l.node = $1)) OR NOT EXISTS (SELECT 1 FROM sb_node n WHERE n.node = l.node)) "
              "ORDER BY random() LIMIT $4::int8 FOR UPDATE SKIP LOCKED) "
              "UPDATE sb_lease s SET node = $1, expires = now() + $2::int8 " MS ", "
              "epoch = s.epoch + 1, since = now() FROM c WHERE s.device = c.device "
              "RETURNING s.device, c.prev, s.epoch",
    /* ms until a lease of another node among ours, or a node row, expires */
    [Q_NEXT] = "SELECT GREATEST(0, extract(epoch FROM LEAST("
               "(SELECT min(expires) FROM sb_lease WHERE device = ANY($2::text[]) AND "
               "node <> $1 AND node <> '' AND expires >= now()), "
               "(SELECT min(expires) FROM sb_node WHERE node <> $1 AND expires >= now()))"
               " - now()) * 1000)::int8",
    /* devices only: '@duties' is not one */
    [Q_NODES] = "SELECT n.node, n.expires >= now(), (SELECT count(*) FROM sb_lease l "
                "WHERE l.node = n.node AND l.expires >= now() AND l.device NOT LIKE '@%') "
                "FROM sb_node n ORDER BY n.node",
    [Q_LEAVE] = "UPDATE sb_lease SET node = '', expires = now() WHERE node = $1",
    [Q_LEAVE_NODE] = "DELETE FROM sb_node WHERE node = $1",
};

struct sb_lease {
    uv_loop_t *loop;
    char *url, *node;
    int64_t lease_ms;
    struct sb_store_h *store;
    struct sb_ingest *ingest;
    struct sb_drvmgr *drivers;
    /* loop side */
    uv_timer_t timer;
    uv_async_t wake;
    int handles, stopping, busy;  /* closing handles; a round is out */
    struct names giving;          /* stopped, to hand back once idle */
    struct res last;              /* the last good round's view (held, nodes) */
    int64_t last_round_ms;        /* wall clock of the last good round */
    int ok;                       /* the last round worked */
    int duties;                   /* the last good round held the duties lease .. */
    int64_t duties_until;         /* .. valid until this monotonic ms (the drivers' deadline) */
    /* last, last_round_ms, ok, duties and giving change on the loop under vmu;
     * sb_lease_status may run on an API pool thread (a route the API runs
     * on the loop goes to the pool when the user must be loaded first) */
    pthread_mutex_t vmu;
    /* thread side */
    pthread_t thr;
    int thr_ok;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct req *req;              /* waiting for the thread */
    struct res *res;              /* waiting for the loop (NULL: the round ran out of memory) */
    int answered;                 /* the thread finished a round */
    int quit;
    PGconn *pg;                   /* the lease connection (thread) */
    int first;                    /* no round has succeeded yet (thread) */
    uint64_t ensured;             /* hash of the device list whose rows exist (thread) */
    int duties_row;               /* the DUTIES row exists (thread) */
    struct sb_lease_stats st;     /* under mu */
};

/* The lease of the cluster's singleton duties: the analytics passes that
 * write shared results or send mail (model training, forecasts, reports,
 * fault detection), which one node must run, not every node.  A row of
 * sb_lease like a device's, so it has the same expiry, reaping and
 * deadline; no driver device is named with '@'. */
#define DUTIES "@duties"

static int64_t mono_ms(void)
{
    return (int64_t)(uv_hrtime() / 1000000u);
}

/* ---- small helpers -------------------------------------------------------- */

static int names_push(struct names *a, const char *s)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 16;
        char **v = realloc(a->v, nc * sizeof(*v));
        if (!v)
            return SB_ENOMEM;
        a->v = v;
        a->cap = nc;
    }
    if (!(a->v[a->n] = strdup(s)))
        return SB_ENOMEM;
    a->n++;
    return 0;
}

static void names_free(struct names *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void names_sort(struct names *a)
{
    if (a->n > 1)
        qsort(a->v, a->n, sizeof(*a->v), cmpstr);
}

/* In a sorted list? */
static int names_has(const struct names *a, const char *s)
{
    return a->n && bsearch(&s, a->v, a->n, sizeof(*a->v), cmpstr) != NULL;
}

/* Linear (short, unsorted lists: giving). */
static ssize_t names_find(const struct names *a, const char *s)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], s) == 0)
            return (ssize_t)i;
    return -1;
}

static void names_del(struct names *a, size_t i)
{
    free(a->v[i]);
    a->v[i] = a->v[--a->n];
}

static void ldevs_free(struct ldev *d, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(d[i].name);
        free(d[i].ids);
    }
    free(d);
}

static void req_free(struct req *r)
{
    if (!r)
        return;
    ldevs_free(r->devs, r->ndev);
    ldevs_free(r->rel, r->nrel);
    free(r);
}

static void res_clear(struct res *r)
{
    names_free(&r->held);
    names_free(&r->give);
    names_free(&r->released);
    json_decref(r->nodes);
    r->nodes = NULL;
}

/* A text[] literal of the names: {"a","b\"c"} (a parameter value, not SQL). */
static char *text_array(const struct ldev *d, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += 2 * strlen(d[i].name) + 3;
    char *s = malloc(cap), *p = s;
    if (!s)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = d[i].name; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return s;
}

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static const struct ldev *ldev_find(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->ndev; i++)
        if (strcmp(rq->devs[i].name, name) == 0)
            return &rq->devs[i];
    return NULL;
}

/* ---- the connection (thread) ---------------------------------------------- */

static void pg_drop(struct sb_lease *l)
{
    if (l->pg)
        PQfinish(l->pg);
    l->pg = NULL;
}

/* The server's message only: never the conninfo (it may hold a password). */
static int pg_fail(struct sb_lease *l, PGresult *r, const char *what)
{
    const char *m = r ? PQresultErrorMessage(r) : l->pg ? PQerrorMessage(l->pg) : "";
    char msg[300];
    snprintf(msg, sizeof(msg), "%s", m && *m ? m : "no answer");
    msg[strcspn(msg, "\n")] = '\0';
    SB_WARN("lease", "postgres: %s: %s", what, msg);
    PQclear(r);
    if (!l->pg || PQstatus(l->pg) != CONNECTION_OK)
        pg_drop(l);
    return SB_ESTORE;
}

/* The longest wait for one answer: the session's statement_timeout (a
 * third of the lease) and a margin, so that a relay gone silent costs a
 * round, never the thread (pg_conn.h). */
static int64_t deadline(const struct sb_lease *l)
{
    return sb_pg_deadline(l->lease_ms / 3, l->lease_ms / 3);
}

/* No answer by the deadline: the connection is closed; the next round
 * connects again.  Host and port only, never the conninfo. */
static int pg_timed_out(struct sb_lease *l, const char *what)
{
    SB_WARN("lease", "postgres: %s: no answer from %s:%s within %lld ms: connection dropped",
            what, PQhost(l->pg), PQport(l->pg), (long long)deadline(l));
    pg_drop(l);
    return SB_ETIMEDOUT;
}

/* sb_pg_exec's answer as pg_fail/pg_timed_out see it: the result, or NULL
 * (logged, the connection dropped when lost). */
static PGresult *checked(struct sb_lease *l, int rc, PGresult *r, ExecStatusType want,
                         const char *what)
{
    ExecStatusType st = PQresultStatus(r);

    if (rc == SB_ETIMEDOUT) {
        pg_timed_out(l, what);
        return NULL;
    }
    if (rc || (st != want && st != PGRES_COMMAND_OK)) {
        pg_fail(l, r, what);
        return NULL;
    }
    return r;
}

static int pg_connect(struct sb_lease *l)
{
    char sql_set[200];
    int64_t third = l->lease_ms / 3;
    /* Fail fast: a round that cannot finish within a third of the lease is
     * worthless (the drivers' deadline passes anyway). */
    const struct sb_pg_timeouts to = { (int)(third / 1000 > 2 ? third / 1000 : 2), 2, 1, 2,
                                       (int)third };

    l->pg = sb_pg_connect(l->url, "sbems-lease", &to);
    if (!l->pg)
        return SB_ENOMEM;
    if (PQstatus(l->pg) != CONNECTION_OK)
        return pg_fail(l, NULL, "connect");
    snprintf(sql_set, sizeof(sql_set), "SET statement_timeout = %lld; SET lock_timeout = %lld; "
             "SET synchronous_commit = on", (long long)third, (long long)third);
    PGresult *r = NULL;
    int rc = sb_pg_exec(l->pg, sql_set, deadline(l), &r);
    if (!(r = checked(l, rc, r, PGRES_COMMAND_OK, "session settings")))
        return SB_ESTORE;
    PQclear(r);
    for (int q = 0; q < Q_N; q++) {
        char name[16];
        snprintf(name, sizeof(name), "l%d", q);
        rc = sb_pg_prepare(l->pg, name, sql[q], deadline(l), &r);
        if (!(r = checked(l, rc, r, PGRES_COMMAND_OK, "prepare")))
            return SB_ESTORE;
        PQclear(r);
    }
    return 0;
}

/* Run statement q with text parameters; NULL (logged) on failure. */
static PGresult *run(struct sb_lease *l, int q, int n, const char *const *v, const char *what)
{
    char name[16];
    if (!l->pg)
        return NULL;
    snprintf(name, sizeof(name), "l%d", q);
    PGresult *r = NULL;
    int rc = sb_pg_exec_prepared(l->pg, name, n, v, NULL, NULL, 0, deadline(l), &r);
    return checked(l, rc, r, PGRES_TUPLES_OK, what);
}

static int exec_ok(struct sb_lease *l, int q, int n, const char *const *v, const char *what)
{
    PGresult *r = run(l, q, n, v, what);
    PQclear(r);
    return r ? 0 : SB_ESTORE;
}

static int plain(struct sb_lease *l, const char *cmd)
{
    PGresult *r = NULL;
    if (!l->pg)
        return pg_fail(l, NULL, cmd);
    int rc = sb_pg_exec(l->pg, cmd, deadline(l), &r);
    if (!(r = checked(l, rc, r, PGRES_COMMAND_OK, cmd)))
        return SB_ESTORE;
    PQclear(r);
    return 0;
}

/* ---- one round (thread) ---------------------------------------------------- */

/* The point ids of a list of devices, concatenated (NULL when none). */
static uint32_t *all_ids(const struct ldev *const *d, size_t n, size_t *nids)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += d[i]->n;
    *nids = k;
    uint32_t *ids = k ? malloc(k * sizeof(*ids)) : NULL;
    if (!ids)
        return NULL;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(ids + k, d[i]->ids, d[i]->n * sizeof(*ids));
        k += d[i]->n;
    }
    return ids;
}

/* Hand devices back: every reading queued so far durable, their points
 * sealed and forgotten (one seal for all), then each lease freed.  If that
 * fails the devices stay held (renewed, not polled) for the next round. */
static void hand_back(struct sb_lease *l, const struct req *rq, struct res *rs)
{
    const struct ldev **d = rq->nrel ? malloc(rq->nrel * sizeof(*d)) : NULL;
    size_t nids = 0;
    int rc;

    if (!rq->nrel)
        return;
    if (!d)
        return;
    for (size_t i = 0; i < rq->nrel; i++)
        d[i] = &rq->rel[i];
    uint32_t *ids = all_ids(d, rq->nrel, &nids);
    rc = sb_ingest_wait(l->ingest, sb_ingest_queued(l->ingest), l->lease_ms / 3);
    if (rc == 0 && nids)
        rc = ids ? sb_store_own(l->store, ids, nids, 0) : SB_ENOMEM;
    for (size_t i = 0; i < rq->nrel && rc == 0; i++) {
        const char *v[2] = { d[i]->name, l->node };
        if (exec_ok(l, Q_REL, 2, v, "release"))
            break;
        names_push(&rs->released, d[i]->name);
        SB_INFO("lease", "device %s handed back", d[i]->name);
    }
    if (rc)
        SB_WARN("lease", "%zu device(s) not handed back yet: %s", rq->nrel, sb_strerror(rc));
    free(ids);
    free(d);
}

/* Adopt the heads of nodes whose rows expired, one transaction each. */
static void reap(struct sb_lease *l)
{
    const char *v[1] = { l->node };
    PGresult *r = run(l, Q_DEAD, 1, v, "dead nodes");
    struct names dead = { 0 };

    for (int i = 0; r && i < PQntuples(r); i++)
        names_push(&dead, PQgetvalue(r, i, 0));
    PQclear(r);
    for (size_t i = 0; i < dead.n && l->pg; i++) {
        const char *w[1] = { dead.v[i] };
        int64_t batches = 0;
        if (plain(l, "BEGIN"))
            break;
        PGresult *k = run(l, Q_LOCK, 1, w, "lock dead node");
        int mine = k && PQntuples(k) == 1;
        PQclear(k);
        int rc = !k ? SB_ESTORE : !mine ? 0 : sb_store_adopt(l->store, dead.v[i], &batches);
        if (rc == 0 && mine)
            rc = exec_ok(l, Q_DROP, 1, w, "drop dead node");
        if (rc || !mine || plain(l, "COMMIT")) {
            if (l->pg)
                plain(l, "ROLLBACK");
            if (rc)
                SB_WARN("lease", "node %s: head not adopted: %s", dead.v[i], sb_strerror(rc));
            continue;
        }
        SB_WARN("lease", "node %s stopped renewing: adopted its %lld unsealed batches; its "
                "devices are free", dead.v[i], (long long)batches);
        pthread_mutex_lock(&l->mu);
        l->st.adopted_nodes++;
        l->st.adopted_batches += (uint64_t)batches;
        pthread_mutex_unlock(&l->mu);
    }
    names_free(&dead);
}

/* Take up to want free leases; their points' state is loaded before the
 * loop hears of them. */
static void acquire(struct sb_lease *l, const char *arr, size_t want, struct names *held)
{
    char lease[24], lim[24];
    snprintf(lease, sizeof(lease), "%lld", (long long)l->lease_ms);
    snprintf(lim, sizeof(lim), "%zu", want);
    uint64_t h = fnv(arr);
    if (h != l->ensured) {
        const char *e[1] = { arr };
        if (exec_ok(l, Q_ENSURE, 1, e, "lease rows"))
            return;
        l->ensured = h;
    }
    const char *v[4] = { l->node, lease, arr, lim };
    PGresult *r = run(l, Q_ACQ, 4, v, "acquire");
    for (int i = 0; r && i < PQntuples(r); i++) {
        const char *name = PQgetvalue(r, i, 0), *prev = PQgetvalue(r, i, 1);
        SB_INFO("lease", "device %s taken (epoch %s%s%s)", name, PQgetvalue(r, i, 2),
                *prev && strcmp(prev, l->node) ? ", from node " : "",
                *prev && strcmp(prev, l->node) ? prev : "");
        names_push(held, name);
    }
    PQclear(r);
}

/* Held leases the loop does not poll yet: load their points' state (one
 * seal for all), or give the leases straight back if that fails. */
static void load_new(struct sb_lease *l, const struct req *rq, struct names *held)
{
    const struct ldev **d = held->n ? malloc(held->n * sizeof(*d)) : NULL;
    size_t n = 0, nids = 0;

    if (!d)
        return;
    for (size_t i = 0; i < held->n; i++) {
        const struct ldev *x = ldev_find(rq, held->v[i]);
        if (x && x->state == ST_FREE)
            d[n++] = x;
    }
    uint32_t *ids = all_ids(d, n, &nids);
    int rc = nids == 0 ? 0 : ids ? sb_store_own(l->store, ids, nids, 1) : SB_ENOMEM;
    for (size_t i = 0; i < n && rc; i++) {
        SB_WARN("lease", "device %s: state not loaded (%s): lease given back", d[i]->name,
                sb_strerror(rc));
        const char *v[2] = { d[i]->name, l->node };
        (void)exec_ok(l, Q_REL, 2, v, "release");
        for (size_t k = 0; k < held->n; k++)
            if (strcmp(held->v[k], d[i]->name) == 0) {
                names_del(held, k);
                break;
            }
    }
    free(ids);
    free(d);
}

static json_t *nodes_view(struct sb_lease *l)
{
    PGresult *r = run(l, Q_NODES, 0, NULL, "nodes");
    if (!r)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < PQntuples(r); i++)
        json_array_append_new(a, json_pack("{s:s, s:b, s:I}", "node", PQgetvalue(r, i, 0),
                                           "alive", *PQgetvalue(r, i, 1) == 't',
                                           "leases", (json_int_t)atoll(PQgetvalue(r, i, 2))));
    PQclear(r);
    return a;
}

/* A third of a lease, or just after the next expiry of another node's row
 * or lease, if sooner: a node that died is reaped, and its devices taken,
 * right as its lease runs out (in steady state the others renew theirs, so
 * their expiries stay two thirds of a lease away and change nothing). */
static int64_t next_round(struct sb_lease *l, const char *arr)
{
    int64_t dflt = l->lease_ms / 3;
    const char *v[2] = { l->node, arr };
    PGresult *r = run(l, Q_NEXT, 2, v, "next expiry");
    int64_t ms = dflt;
    if (r && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        ms = atoll(PQgetvalue(r, 0, 0)) + 20;   /* just after it expires */
    PQclear(r);
    return ms < MIN_ROUND_MS ? MIN_ROUND_MS : ms > dflt ? dflt : ms;
}

/* Takes the duties lease when it is free (no fair share: one node holds it
 * until it dies or leaves; then the first node to ask takes it). */
static void take_duties(struct sb_lease *l, struct res *rs)
{
    static const char arr[] = "{" DUTIES "}";
    char lease[24];
    const char *v[4] = { l->node, lease, arr, "1" };

    if (!l->duties_row) {
        const char *e[1] = { arr };
        if (exec_ok(l, Q_ENSURE, 1, e, "duties row"))
            return;
        l->duties_row = 1;
    }
    snprintf(lease, sizeof(lease), "%lld", (long long)l->lease_ms);
    PGresult *r = run(l, Q_ACQ, 4, v, "duties");
    if (r && PQntuples(r) == 1) {
        SB_INFO("lease", "this node now runs the cluster's duties (analytics passes)");
        rs->duties = 1;
    }
    PQclear(r);
}

static void round_run(struct sb_lease *l, const struct req *rq, struct res *rs)
{
    int64_t t0 = mono_ms();
    char lease[24];
    char *arr = text_array(rq->devs, rq->ndev);
    const char *v[3] = { l->node, lease, arr };

    snprintf(lease, sizeof(lease), "%lld", (long long)l->lease_ms);
    rs->next_ms = RETRY_MS;
    if (!arr || (!l->pg && pg_connect(l)))
        goto out;
    if (exec_ok(l, Q_HB, 2, v, "heartbeat"))
        goto out;
    PGresult *r = run(l, Q_RENEW, 3, v, "renew");
    if (!r)
        goto out;
    /* Renewed now, so valid until at least t0 + lease on the server's clock;
     * the drivers stop a third of a lease before that. */
    rs->deadline = t0 + l->lease_ms - l->lease_ms / 3;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 0), DUTIES) == 0)
            rs->duties = 1;           /* renewed: not a device */
        else
            names_push(&rs->held, PQgetvalue(r, i, 0));
    }
    PQclear(r);
    hand_back(l, rq, rs);
    for (size_t i = 0; i < rs->released.n; i++)
        for (size_t k = 0; k < rs->held.n; k++)
            if (strcmp(rs->held.v[k], rs->released.v[i]) == 0) {
                names_del(&rs->held, k);
                break;
            }
    rs->ok = 1;
    rs->next_ms = FIRST_ROUND_MS;
    if (!l->first) {
        reap(l);
        PGresult *c = run(l, Q_LIVE, 0, NULL, "live nodes");
        rs->live = c && PQntuples(c) == 1 ? (size_t)atoll(PQgetvalue(c, 0, 0)) : 1;
        PQclear(c);
        if (rs->live < 1)
            rs->live = 1;
        if (!rs->duties)
            take_duties(l, rs);
        size_t share = (rq->ndev + rs->live - 1) / rs->live;
        if (rs->held.n < share)
            acquire(l, arr, share - rs->held.n, &rs->held);
        /* over the fair share (a node joined): give the excess back */
        for (size_t i = 0, over = rs->held.n > share ? rs->held.n - share : 0;
             i < rs->held.n && over; i++) {
            const struct ldev *d = ldev_find(rq, rs->held.v[i]);
            if (d && d->state == ST_OWNED) {
                names_push(&rs->give, d->name);
                over--;
            }
        }
        rs->next_ms = next_round(l, arr);
    }
    load_new(l, rq, &rs->held);
    names_sort(&rs->held);
    rs->nodes = nodes_view(l);
    l->first = 0;
out:
    free(arr);
    if (!rs->ok)
        pg_drop(l);
}

static void *thread_main(void *arg)
{
    struct sb_lease *l = arg;

    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->req && !l->quit)
            pthread_cond_wait(&l->cv, &l->mu);
        if (l->quit)
            break;
        struct req *rq = l->req;
        l->req = NULL;
        pthread_mutex_unlock(&l->mu);
        struct res *rs = calloc(1, sizeof(*rs));
        if (rs)
            round_run(l, rq, rs);
        req_free(rq);
        pthread_mutex_lock(&l->mu);
        l->res = rs;
        l->answered = 1;
        l->st.rounds++;
        l->st.round_errors += !rs || !rs->ok;
        uv_async_send(&l->wake);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- the loop side ---------------------------------------------------------- */

struct build {
    struct sb_lease *l;
    struct req *rq;
    size_t cap;
    int err;
};

static void build_dev(void *ud, const char *name, const uint32_t *ids, size_t n, int owned,
                      int busy)
{
    struct build *b = ud;
    struct req *rq = b->rq;
    int giving = names_find(&b->l->giving, name) >= 0;

    if (b->err)
        return;
    if (rq->ndev == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        struct ldev *v = realloc(rq->devs, nc * sizeof(*v));
        if (!v) {
            b->err = 1;
            return;
        }
        rq->devs = v;
        b->cap = nc;
    }
    struct ldev *d = &rq->devs[rq->ndev];
    d->name = strdup(name);
    d->ids = malloc((n ? n : 1) * sizeof(*ids));
    d->n = n;
    d->state = giving ? ST_GIVING : owned ? ST_OWNED : ST_FREE;
    if (!d->name || !d->ids) {
        free(d->name);
        free(d->ids);
        b->err = 1;
        return;
    }
    memcpy(d->ids, ids, n * sizeof(*ids));
    rq->ndev++;
    if (giving && !busy) {    /* idle: hand it back this round */
        struct ldev *r = realloc(rq->rel, (rq->nrel + 1) * sizeof(*r));
        if (!r)
            return;
        rq->rel = r;
        r[rq->nrel].name = strdup(name);
        r[rq->nrel].ids = malloc((n ? n : 1) * sizeof(*ids));
        r[rq->nrel].n = n;
        r[rq->nrel].state = ST_GIVING;
        if (r[rq->nrel].name && r[rq->nrel].ids) {
            memcpy(r[rq->nrel].ids, ids, n * sizeof(*ids));
            rq->nrel++;
        } else {
            free(r[rq->nrel].name);
            free(r[rq->nrel].ids);
        }
    }
}

static struct req *build_req(struct sb_lease *l)
{
    struct req *rq = calloc(1, sizeof(*rq));
    struct build b = { l, rq, 0, 0 };
    if (!rq)
        return NULL;
    sb_drvmgr_each_device(l->drivers, build_dev, &b);
    /* giving devices no longer bound (the model changed): free the lease */
    for (size_t i = 0; i < l->giving.n && !b.err; i++) {
        if (ldev_find(rq, l->giving.v[i]))
            continue;
        struct ldev *r = realloc(rq->rel, (rq->nrel + 1) * sizeof(*r));
        if (!r)
            break;
        rq->rel = r;
        r[rq->nrel] = (struct ldev){ .name = strdup(l->giving.v[i]), .ids = NULL, .n = 0,
                                     .state = ST_GIVING };
        if (r[rq->nrel].name)
            rq->nrel++;
    }
    if (b.err) {
        req_free(rq);
        return NULL;
    }
    return rq;
}

static void on_timer(uv_timer_t *t)
{
    struct sb_lease *l = t->data;
    if (l->busy || l->stopping)
        return;
    struct req *rq = build_req(l);
    if (!rq) {
        uv_timer_start(&l->timer, on_timer, RETRY_MS, 0);
        return;
    }
    pthread_mutex_lock(&l->mu);
    l->req = rq;
    l->busy = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

struct apply {
    struct sb_lease *l;
    struct names owned;       /* owned by the drivers before this result */
    size_t now_owned;         /* after */
};

static void list_owned(void *ud, const char *name, const uint32_t *ids, size_t n, int owned,
                       int busy)
{
    struct apply *a = ud;
    (void)ids, (void)n, (void)busy;
    if (owned)
        names_push(&a->owned, name);
}

static void count_owned(void *ud, const char *name, const uint32_t *ids, size_t n, int owned,
                        int busy)
{
    struct apply *a = ud;
    (void)name, (void)ids, (void)n, (void)busy;
    a->now_owned += owned != 0;
}

static void give_up(struct sb_lease *l, const char *name)
{
    sb_drvmgr_own(l->drivers, name, 0);
    if (names_find(&l->giving, name) < 0)
        names_push(&l->giving, name);
}

/* The thread's result on the drivers: stop what is lost or over the share,
 * poll what was taken (its state already loaded), move the deadline. */
static void apply_res(struct sb_lease *l, const struct res *rs)
{
    struct apply a = { l, { 0 }, 0 };
    uint64_t taken = 0, lost = 0;

    for (size_t i = 0; i < rs->released.n; i++) {
        ssize_t k = names_find(&l->giving, rs->released.v[i]);
        if (k >= 0)
            names_del(&l->giving, (size_t)k);
    }
    sb_drvmgr_each_device(l->drivers, list_owned, &a);
    names_sort(&a.owned);
    for (size_t i = 0; i < a.owned.n; i++) {
        if (names_has(&rs->held, a.owned.v[i]))
            continue;
        SB_WARN("lease", "device %s: lease lost to another node; polling stopped", a.owned.v[i]);
        give_up(l, a.owned.v[i]);
        lost++;
    }
    for (size_t i = 0; i < rs->give.n; i++)
        give_up(l, rs->give.v[i]);
    for (size_t i = 0; i < rs->held.n; i++)
        if (!names_has(&a.owned, rs->held.v[i]) && names_find(&l->giving, rs->held.v[i]) < 0 &&
            sb_drvmgr_own(l->drivers, rs->held.v[i], 1) == 0)
            taken++;
    sb_drvmgr_lease_until(l->drivers, rs->deadline);
    sb_drvmgr_each_device(l->drivers, count_owned, &a);
    pthread_mutex_lock(&l->mu);
    l->st.lost += lost;
    l->st.released += rs->released.n;
    l->st.acquired += taken;
    l->st.owned = a.now_owned;
    l->st.live_nodes = rs->live;
    pthread_mutex_unlock(&l->mu);
    names_free(&a.owned);
}

static void on_wake(uv_async_t *h)
{
    struct sb_lease *l = h->data;
    pthread_mutex_lock(&l->mu);
    struct res *rs = l->res;
    int answered = l->answered;
    l->res = NULL;
    l->answered = 0;
    pthread_mutex_unlock(&l->mu);
    if (!answered)
        return;
    l->busy = 0;
    if (!rs) {
        pthread_mutex_lock(&l->vmu);
        l->ok = 0;
        pthread_mutex_unlock(&l->vmu);
        if (!l->stopping)
            uv_timer_start(&l->timer, on_timer, RETRY_MS, 0);
        return;
    }
    int64_t next = rs->next_ms;
    pthread_mutex_lock(&l->vmu);
    l->ok = rs->ok;
    if (rs->ok && !l->stopping) {
        l->duties = rs->duties;
        l->duties_until = rs->deadline;
        apply_res(l, rs);
        res_clear(&l->last);
        l->last = *rs;            /* keeps held and nodes for the status */
        memset(&l->last.give, 0, sizeof(l->last.give));
        memset(&l->last.released, 0, sizeof(l->last.released));
        names_free(&rs->give);
        names_free(&rs->released);
        l->last_round_ms = sb_now_ms();
    } else {
        res_clear(rs);
    }
    pthread_mutex_unlock(&l->vmu);
    free(rs);
    if (!l->stopping)
        uv_timer_start(&l->timer, on_timer, (uint64_t)next, 0);
}

/* ---- life cycle --------------------------------------------------------------- */

int sb_lease_new(const struct sb_lease_cfg *cfg, struct sb_lease **out)
{
    struct sb_lease *l = calloc(1, sizeof(*l));

    *out = NULL;
    if (!l)
        return SB_ENOMEM;
    if (!cfg->node || !*cfg->node || !cfg->drivers || !cfg->store || !cfg->ingest ||
        cfg->lease_ms < 300) {
        free(l);
        return SB_EINVAL;
    }
    l->loop = cfg->loop;
    l->url = strdup(cfg->url ? cfg->url : "");
    l->node = strdup(cfg->node);
    l->lease_ms = cfg->lease_ms;
    l->store = cfg->store;
    l->ingest = cfg->ingest;
    l->drivers = cfg->drivers;
    l->first = 1;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->vmu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (!l->url || !l->node) {
        sb_lease_free(l);
        return SB_ENOMEM;
    }
    uv_timer_init(l->loop, &l->timer);
    uv_async_init(l->loop, &l->wake, on_wake);
    l->timer.data = l->wake.data = l;
    l->handles = 2;
    if (pthread_create(&l->thr, NULL, thread_main, l) != 0) {
        sb_lease_stop(l);
        *out = l;
        return SB_ENOMEM;
    }
    l->thr_ok = 1;
    /* Until a round renews them, nothing is polled (no lease yet anyway). */
    sb_drvmgr_lease_until(l->drivers, 0);
    uv_timer_start(&l->timer, on_timer, 0, 0);
    *out = l;
    return 0;
}

json_t *sb_lease_status(struct sb_lease *l)
{
    struct sb_lease_stats st;
    char t[40];
    json_t *owned = json_array();

    sb_lease_stats(l, &st);
    pthread_mutex_lock(&l->vmu);
    for (size_t i = 0; i < l->last.held.n; i++)
        if (names_find(&l->giving, l->last.held.v[i]) < 0)
            json_array_append_new(owned, json_string(l->last.held.v[i]));
    json_error_t e;
    json_t *o = json_pack_ex(&e, 0,
                     "{s:s, s:I, s:b, s:b, s:s?, s:o, s:I, s:O?, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
                     "node", l->node, "lease_ms", (json_int_t)l->lease_ms, "ok", l->ok,
                     "duties", l->duties && mono_ms() < l->duties_until,
                     "last_round", l->last_round_ms ? sb_time_format(l->last_round_ms, t, sizeof(t))
                                                    : NULL,
                     "owned", owned, "giving", (json_int_t)l->giving.n,
                     "nodes", l->last.nodes,
                     "rounds", (json_int_t)st.rounds, "round_errors", (json_int_t)st.round_errors,
                     "acquired", (json_int_t)st.acquired, "released", (json_int_t)st.released,
                     "lost", (json_int_t)st.lost, "adopted_nodes", (json_int_t)st.adopted_nodes,
                     "adopted_batches", (json_int_t)st.adopted_batches);
    pthread_mutex_unlock(&l->vmu);
    if (!o)
        SB_ERR("lease", "status: %s", e.text);
    return o;
}

int sb_lease_duties(struct sb_lease *l)
{
    int yes;

    if (!l)
        return 1;
    pthread_mutex_lock(&l->vmu);
    yes = l->duties && mono_ms() < l->duties_until;
    pthread_mutex_unlock(&l->vmu);
    return yes;
}

void sb_lease_stats(struct sb_lease *l, struct sb_lease_stats *st)
{
    pthread_mutex_lock(&l->mu);
    *st = l->st;
    pthread_mutex_unlock(&l->mu);
}

static void on_close(uv_handle_t *h)
{
    ((struct sb_lease *)h->data)->handles--;
}

void sb_lease_stop(struct sb_lease *l)
{
    if (!l || l->stopping)
        return;
    l->stopping = 1;
    pthread_mutex_lock(&l->mu);
    l->quit = 1;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (l->thr_ok)
        pthread_join(l->thr, NULL);
    l->thr_ok = 0;
    /* no device is polled past this point (the drivers stop too) */
    sb_drvmgr_lease_until(l->drivers, 0);
    uv_close((uv_handle_t *)&l->timer, on_close);
    uv_close((uv_handle_t *)&l->wake, on_close);
}

int sb_lease_idle(struct sb_lease *l)
{
    return !l || l->handles == 0;
}

int sb_lease_leave(struct sb_lease *l)
{
    if (!l)
        return 0;
    if (!l->pg && pg_connect(l))
        return SB_ESTORE;
    const char *v[1] = { l->node };
    int rc = exec_ok(l, Q_LEAVE, 1, v, "leave");
    if (rc == 0)
        rc = exec_ok(l, Q_LEAVE_NODE, 1, v, "leave");
    if (rc == 0)
        SB_INFO("lease", "node %s left: its devices are free for the other nodes", l->node);
    return rc;
}

void sb_lease_free(struct sb_lease *l)
{
    if (!l)
        return;
    pg_drop(l);
    req_free(l->req);
    if (l->res) {
        res_clear(l->res);
        free(l->res);
    }
    res_clear(&l->last);
    names_free(&l->giving);
    if (l->url) {
        sodium_memzero(l->url, strlen(l->url));
        free(l->url);
    }
    free(l->node);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->vmu);
    pthread_cond_destroy(&l->cv);
    free(l);
}

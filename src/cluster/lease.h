/*
 * lease.h - device ownership between sbems nodes sharing one PostgreSQL
 * store: each device is polled by exactly one node at a time, through
 * leases with an expiry in the database (tables sb_node and sb_lease,
 * schema 2 of src/store/pg/kv_pg.c).  docs/internals/cluster-leases.md has
 * the protocol and why it cannot poll a device twice.
 *
 * Every round (a third of cluster.lease, sooner when a lease it may take
 * is about to expire) the lease thread, on its own connection:
 *   1. renews its node row and its leases (the new expiry is the server's
 *      now() + lease), and gives the drivers a local deadline: the time the
 *      round started + lease - lease/3.  Past it the drivers poll none of
 *      this node's devices until a later round renews them, so a node cut
 *      off from the database stops before its leases can pass to another;
 *   2. hands back the devices the loop gave up (over its fair share, or
 *      lost): their queued readings are made durable and sealed, and their
 *      state forgotten, before the lease is freed (sb_store_own(0));
 *   3. adopts the head of every node whose row expired (sb_store_adopt:
 *      its acknowledged, unsealed readings) and deletes that row, in one
 *      transaction holding the row: only then are its leases free to take;
 *   4. takes free or orphaned leases up to its fair share
 *      (ceil(devices / live nodes)), loads their points' state
 *      (sb_store_own(1)) and only then tells the loop to poll them.
 *
 * Threads: one lease thread (blocking libpq, statement deadlines); the
 * loop builds each round's request from the drivers and applies the
 * result (uv_async).  Nothing here makes the loop wait for the database.
 *
 * Ownership: sb_lease_new() copies what it needs from cfg (the URL is a
 * secret: never logged); store, ingest and drivers are borrowed and must
 * outlive the object.  Stopping: sb_lease_stop() (loop thread) ends rounds,
 * joins the thread and closes the handles; after the drivers have stopped
 * and the store's final seal, sb_lease_leave() frees this node's leases and
 * row so the others take its devices at once; then sb_lease_free().
 */
#ifndef SB_CLUSTER_LEASE_H
#define SB_CLUSTER_LEASE_H

#include <jansson.h>
#include <stdint.h>
#include <uv.h>

struct sb_store_h;
struct sb_ingest;
struct sb_drvmgr;
struct sb_lease;

struct sb_lease_cfg {
    uv_loop_t *loop;              /* the daemon's loop */
    const char *url;              /* libpq conninfo of the store (secret) */
    const char *node;             /* this node's name (store.node, unique per node) */
    int64_t lease_ms;             /* cluster.lease */
    struct sb_store_h *store;     /* own / adopt (borrowed) */
    struct sb_ingest *ingest;     /* readings made durable before a hand-over (borrowed) */
    struct sb_drvmgr *drivers;    /* the devices (borrowed; cfg.leased) */
};

/* Counters for /metrics and the status. */
struct sb_lease_stats {
    uint64_t rounds, round_errors;  /* rounds run / failed (database away) */
    uint64_t acquired, released;    /* leases taken / given back */
    uint64_t lost;                  /* leases found taken by another node */
    uint64_t adopted_nodes, adopted_batches; /* dead nodes' heads adopted */
    size_t owned, devices, live_nodes;
};

int  sb_lease_new(const struct sb_lease_cfg *cfg, struct sb_lease **out);

/* 1 while this node holds the lease of the cluster's singleton duties (the
 * analytics passes: one node trains models, issues forecasts, builds and
 * mails reports, runs fault detection) and its last renewal is good (the
 * same deadline as the drivers'); 1 for a NULL l (no leases: one node does
 * everything).  Any thread. */
int sb_lease_duties(struct sb_lease *l);

/* {"node","lease_ms","ok","duties","last_round","owned":[names],"devices",
 *  "nodes":[{"node","alive","leases"}], counters}: a new reference (loop). */
json_t *sb_lease_status(struct sb_lease *l);
void sb_lease_stats(struct sb_lease *l, struct sb_lease_stats *st);

void sb_lease_stop(struct sb_lease *l);      /* loop thread */
int  sb_lease_idle(struct sb_lease *l);      /* 1 once its handles are closed */
/* Free this node's leases and row (the drivers stopped, the store sealed). */
int  sb_lease_leave(struct sb_lease *l);
void sb_lease_free(struct sb_lease *l);

#endif /* SB_CLUSTER_LEASE_H */

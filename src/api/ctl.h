/*
 * ctl.h - the control socket: how `sbems ingest` backfills through a running
 * daemon instead of opening the store itself (which the daemon holds).
 *
 * A Unix stream socket (option `socket`, default <data_dir>/sbems.sock,
 * mode 0600: only the daemon's user may write through it) on the daemon's
 * libuv loop.  Protocol, line-oriented text:
 *   client: "INGEST csv" or "INGEST jsonl", then the file's lines, then EOF
 *           (shutdown of its write side)
 *   daemon: "ack readings=N lines=L" whenever every reading of lines 1..L
 *           is durable (the same contract as offline `sbems ingest`),
 *           "bad line L: message" for refused lines (the first 20),
 *           and at the end "done lines=.. stored=.. refused=.. bad=.. <reason>=.."
 *           or "error message", then it closes.
 * Lines are parsed on the loop thread in read-sized pieces (64 KiB, about
 * 1,000 lines, ~1 ms); readings go to the ingest pipeline without waiting:
 * when its queue is full the connection stops reading (so the client's
 * writes block) and retries every 10 ms - backpressure end to end.
 *
 * Ownership: the server borrows the model hub and the pipeline; both must
 * outlive it.  Each ingest session pins the model current when it begins
 * (points added through the API since the daemon started resolve) and
 * releases it when the connection closes.  All functions run on the loop
 * thread.
 */
#ifndef SB_API_CTL_H
#define SB_API_CTL_H

#include <uv.h>

struct sb_mhub;     /* model/hub.h */
struct sb_ingest;
struct sb_ctl;

/* Listen on path (an existing socket file is replaced: the caller holds the
 * data directory's lock, so no other daemon owns it).  0, SB_EIO, SB_ENOMEM. */
int  sb_ctl_start(uv_loop_t *loop, const char *path, struct sb_mhub *models,
                  struct sb_ingest *ing, struct sb_ctl **out);

/* Close the listener and every connection, remove the socket file; the
 * server frees itself once the loop has closed its handles. */
void sb_ctl_stop(struct sb_ctl *c);

#endif /* SB_API_CTL_H */

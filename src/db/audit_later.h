/*
 * audit_later.h - append an audit record from the loop thread, which must
 * never wait for the database: the record is copied and written on
 * libuv's thread pool.
 *
 * Ownership: nothing of r is kept (every string is copied); db must stay
 * open until the loop has run the job (the daemon closes it after the
 * loop ends).  *pending, if given, counts jobs not yet done (loop thread),
 * for owners that must wait for them before freeing themselves.
 * Threads: call on the loop thread.  A failure to append is logged.
 */
#ifndef SB_DB_AUDIT_LATER_H
#define SB_DB_AUDIT_LATER_H

#include <uv.h>

#include "db/appdb.h"

/* 0, or SB_ENOMEM / SB_EIO (not queued; logged). */
int sb_appdb_audit_later(uv_loop_t *loop, struct sb_appdb *db, const struct sb_audit_rec *r,
                         int *pending);

#endif /* SB_DB_AUDIT_LATER_H */

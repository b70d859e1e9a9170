/*
 * nsync.h - one check of a zone's native BACnet Schedule (and Calendar):
 * read what the controller holds, compare it with the zone's program
 * (native.h), write what differs and read it back - through the drivers
 * (sb_drvmgr_prop: the device's owner node only, the same as every write).
 *
 * One check, in order (clause numbers of ANSI/ASHRAE 135):
 *   1. Schedule_Default (12.24.7): the datatype of the Schedule's values,
 *      which picks the occupancy values (native.h); NULL there: the
 *      datatype of the weekly program's values, else BACnetBinaryPV;
 *   2. Weekly_Schedule (12.24.8), Exception_Schedule (12.24.9), the
 *      Calendar's Date_List (12.9.6) when one is named;
 *   3. with may_write, each part that differs is written whole - the
 *      Calendar first, so that the Schedule's reference to it finds the
 *      dates, then Exception_Schedule, then Weekly_Schedule - and read
 *      back: the result is "in sync" only when the device then holds
 *      exactly the program;
 *   4. Present_Value (12.24.4): what the Schedule says now.
 * A read or write that fails ends the check "failed" with the device's
 * words.  A program longer than one request carries (requests are never
 * segmented) is cut at its far end: the nearest dates go first.
 *
 * Threads: loop thread (the drivers' callbacks).  Ownership: the request
 * is copied (want deep-copied) by sb_nsync_start; the result passed to cb
 * is the job's and lives until cb returns - take dev with
 * sb_nsync_take_dev to keep it.
 */
#ifndef SB_CONTROL_NSYNC_H
#define SB_CONTROL_NSYNC_H

#include <stdint.h>

#include "control/native.h"
#include "control/sched.h"

struct sb_drvmgr;

enum sb_nsync_state {
    SB_NSYNC_PENDING = 0,          /* not checked yet */
    SB_NSYNC_IN_SYNC,              /* the device holds the zone's program */
    SB_NSYNC_DIFFERS,              /* it holds something else (advisory, dry run, or it
                                      kept something else after the write) */
    SB_NSYNC_FAILED                /* a read or write failed: why */
};
const char *sb_nsync_state_name(int state);   /* "pending", "in_sync", "differs", "failed" */

struct sb_nsync_req {
    uint32_t point;                /* a point of the zone's controller: its device is talked to */
    int64_t sched;                 /* the Schedule object's instance */
    int64_t cal;                   /* the Calendar's, -1 none */
    int may_write;                 /* write what differs (auto mode), else compare only */
    const struct sb_csched *want;  /* the zone's schedule, holidays applied; NULL: read only */
    int64_t today;                 /* the building's local day number (core/tz.h) */
    int view;                      /* a look (the API's): compare, never write, and say
                                      where it differs without "advisory" */
};

struct sb_nsync_res {
    int state;                     /* enum sb_nsync_state */
    char why[300];                 /* failed: what and the device's words; differs: where */
    unsigned tried;                /* SB_NPART_* whose write was attempted */
    unsigned wrote;                /* SB_NPART_* written (and read back) */
    int dry_run;                   /* drivers.dry_run: a write was not sent */
    struct sb_nvalues val;         /* the values used (from the device's datatype) */
    struct sb_nprog dev;           /* what the device holds, after any write */
    double present;                /* the Schedule's Present_Value now, NaN unknown */
    size_t n_exc, exc_wanted;      /* Exception_Schedule entries sbems wrote / wanted */
    size_t n_dates, dates_wanted;  /* Date_List entries sbems wrote / wanted */
};

typedef void (*sb_nsync_cb)(void *ud, struct sb_nsync_res *r);

/* Starts a check; cb runs exactly once, on the loop - possibly before this
 * returns (a driver that answers at once, or refuses at once), so the
 * caller must not hold a lock cb takes.  0, or SB_ENOMEM / SB_EINVAL with
 * nothing started (no cb). */
int sb_nsync_start(struct sb_drvmgr *dm, const struct sb_nsync_req *rq, sb_nsync_cb cb, void *ud);

/* Moves the device's program out of r (the caller then owns it). */
void sb_nsync_take_dev(struct sb_nsync_res *r, struct sb_nprog *out);


#endif /* SB_CONTROL_NSYNC_H */

/*
 * nsync.c - one check of a zone's native Schedule / Calendar (see nsync.h).
 *
 * A check is a chain of single-property exchanges (sb_drvmgr_prop), one
 * at a time: step() issues the next, answer() files its result and calls
 * step() again.  The job owns its buffers and its copy of the schedule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/nsync.h"
#include "core/err.h"
#include "drivers/manager.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/codec/tag.h"

#define READ_CAP (64 * 1024)         /* the longest value read (an Exception_Schedule
                                        of 255 full days is about 40 KiB) */

/* The steps, in order; a step that does not apply is skipped. */
enum step {
    S_DEFAULT = 0,                   /* read Schedule_Default */
    S_WEEK, S_EXC, S_DATES,          /* read the program */
    S_COMPARE,                       /* build ours, compare (no exchange) */
    S_W_DATES, S_W_EXC, S_W_WEEK,    /* write what differs */
    S_R_DATES, S_R_EXC, S_R_WEEK,    /* read back what was written */
    S_CHECK,                         /* compare again (no exchange) */
    S_PV,                            /* read Present_Value */
    S_END
};

struct njob {
    struct sb_drvmgr *dm;
    struct sb_nsync_req rq;
    struct sb_csched want;           /* own copy (rq.want points here) */
    int have_want;
    sb_nsync_cb cb;
    void *ud;
    int step;
    uint8_t dflt_type;               /* Schedule_Default's datatype, 0 NULL/unknown */
    size_t max_write;                /* from the first answer */
    struct sb_nprog prog;            /* ours, in the device's values */
    unsigned differs;                /* SB_NPART_* */
    struct sb_drv_prop p;            /* the exchange in flight */
    uint8_t *buf;                    /* READ_CAP bytes: reads land here */
    uint8_t *wbuf;                   /* a write's value */
    struct sb_nsync_res res;
};

const char *sb_nsync_state_name(int state)
{
    static const char *const n[] = { "pending", "in_sync", "differs", "failed" };
    return state >= 0 && state <= SB_NSYNC_FAILED ? n[state] : "?";
}

static void step(struct njob *j);

static void finish(struct njob *j)
{
    j->cb(j->ud, &j->res);
    sb_nprog_release(&j->res.dev);
    sb_nprog_release(&j->prog);
    if (j->have_want)
        sb_csched_release(&j->want);
    free(j->buf);
    free(j->wbuf);
    free(j);
}

static void fail(struct njob *j, const char *what, const char *why)
{
    j->res.state = SB_NSYNC_FAILED;
    snprintf(j->res.why, sizeof(j->res.why), "%s: %s", what, why);
    finish(j);
}

/* What a step reads or writes: object, property, part. */
static void target(const struct njob *j, int s, char *obj, size_t ocap, const char **prop, unsigned *part)
{
    int cal = s == S_DATES || s == S_W_DATES || s == S_R_DATES;

    snprintf(obj, ocap, "%s:%lld", cal ? "calendar" : "schedule", (long long)(cal ? j->rq.cal : j->rq.sched));
    *part = 0;
    switch (s) {
    case S_DEFAULT: *prop = "schedule-default"; break;
    case S_PV: *prop = "present-value"; break;
    case S_WEEK: case S_W_WEEK: case S_R_WEEK: *prop = "weekly-schedule"; *part = SB_NPART_WEEK; break;
    case S_EXC: case S_W_EXC: case S_R_EXC: *prop = "exception-schedule"; *part = SB_NPART_EXC; break;
    default: *prop = "date-list"; *part = SB_NPART_DATES; break;
    }
}

/* The datatype of the first non-NULL value of Schedule_Default. */
static void file_default(struct njob *j)
{
    struct sb_bac_value v;

    if (sb_bac_dec_app(j->p.value, j->p.len, &v) > 0 && v.type != SB_BAC_NULL)
        j->dflt_type = v.type;
}

static int file_read(struct njob *j, unsigned part)
{
    struct sb_nprog *d = &j->res.dev;

    if (part == SB_NPART_WEEK) {
        memset(d->week, 0, sizeof(d->week));
        d->odd[0] = 0;
        return sb_nsched_dec_week(j->p.value, j->p.len, d);
    }
    if (part == SB_NPART_EXC) {
        free(d->exc);
        d->exc = NULL;
        d->n_exc = 0;
        d->odd[1] = 0;
        return sb_nsched_dec_exc(j->p.value, j->p.len, d);
    }
    free(d->dates);
    d->dates = NULL;
    d->n_dates = 0;
    d->odd[2] = 0;
    return sb_nsched_dec_dates(j->p.value, j->p.len, d);
}

static void answer(void *ud, int rc, struct sb_drv_prop *p, const char *why)
{
    struct njob *j = ud;
    char what[128];
    const char *prop;
    unsigned part;

    target(j, j->step, what, sizeof(what), &prop, &part);
    snprintf(what + strlen(what), sizeof(what) - strlen(what), " %s", prop);
    if (!j->max_write && p->max_write)
        j->max_write = p->max_write;
    if (rc) {
        char w[160];
        snprintf(w, sizeof(w), "%s %s", p->write ? "writing" : "reading", what);
        fail(j, w, why ? why : sb_strerror(rc));
        return;
    }
    if (p->write) {
        j->res.dry_run |= p->dry_run;
        if (!p->dry_run)
            j->res.wrote |= part;
    } else if (j->step == S_DEFAULT) {
        file_default(j);
    } else if (j->step == S_PV) {
        struct sb_bac_value v;
        if (sb_bac_dec_app(p->value, p->len, &v) > 0) {
            double x = NAN;
            if (v.type == SB_BAC_ENUMERATED) x = v.v.enumerated;
            else if (v.type == SB_BAC_UNSIGNED) x = (double)v.v.u;
            else if (v.type == SB_BAC_BOOLEAN) x = v.v.boolean;
            else if (v.type == SB_BAC_REAL) x = v.v.real;
            else if (v.type == SB_BAC_DOUBLE) x = v.v.dbl;
            else if (v.type == SB_BAC_SIGNED) x = (double)v.v.i;
            j->res.present = x;
        }
    } else if (file_read(j, part) < 0) {
        char w[160];
        snprintf(w, sizeof(w), "reading %s", what);
        fail(j, w, "the device's value is not of this property's datatype");
        return;
    }
    j->step++;
    step(j);
}

/* Our program in the device's values; 0 or the failure already reported. */
static int build(struct njob *j)
{
    uint8_t type = j->dflt_type ? j->dflt_type : j->res.dev.type ? j->res.dev.type : SB_BAC_ENUMERATED;
    size_t budget = j->max_write ? j->max_write : 400;
    char w[96];

    if (sb_nvalues_for(type, &j->res.val) < 0) {
        snprintf(w, sizeof(w), "schedule:%lld schedule-default", (long long)j->rq.sched);
        fail(j, w, "its datatype is no occupancy (Boolean, BinaryPV, Unsigned or Real)");
        return -1;
    }
    if (sb_nsched_build(&j->want, j->rq.today, &j->res.val, j->rq.cal, budget, budget, &j->prog) < 0) {
        fail(j, "building the program", "out of memory");
        return -1;
    }
    j->res.n_exc = j->prog.n_exc;
    j->res.exc_wanted = j->prog.exc_wanted;
    j->res.n_dates = j->prog.n_dates;
    j->res.dates_wanted = j->prog.dates_wanted;
    return 0;
}

static unsigned parts(const struct njob *j)
{
    return SB_NPART_WEEK | SB_NPART_EXC | (j->rq.cal >= 0 ? SB_NPART_DATES : 0);
}

/* Whether step s has an exchange to make in this check. */
static int applies(const struct njob *j, int s)
{
    switch (s) {
    case S_DATES: return j->rq.cal >= 0;
    case S_W_DATES: case S_R_DATES: return (j->differs & SB_NPART_DATES) != 0;
    case S_W_EXC: case S_R_EXC: return (j->differs & SB_NPART_EXC) != 0;
    case S_W_WEEK: case S_R_WEEK: return (j->differs & SB_NPART_WEEK) != 0;
    default: return 1;
    }
}

static int encode(struct njob *j, unsigned part)
{
    ssize_t n = part == SB_NPART_WEEK ? sb_nsched_enc_week(&j->prog, NULL, 0)
              : part == SB_NPART_EXC ? sb_nsched_enc_exc(&j->prog, NULL, 0)
              : sb_nsched_enc_dates(&j->prog, NULL, 0);
    free(j->wbuf);
    if (n < 0 || !(j->wbuf = malloc(n ? (size_t)n : 1)))
        return SB_ENOMEM;
    n = part == SB_NPART_WEEK ? sb_nsched_enc_week(&j->prog, j->wbuf, (size_t)n)
      : part == SB_NPART_EXC ? sb_nsched_enc_exc(&j->prog, j->wbuf, (size_t)n)
      : sb_nsched_enc_dates(&j->prog, j->wbuf, (size_t)n);
    if (n < 0)
        return (int)n;
    j->p.value = j->wbuf;
    j->p.len = (size_t)n;
    return 0;
}

/* After the reads: in sync, differs (not to be written), or write. */
static int compare(struct njob *j, int again)
{
    char why[sizeof(j->res.why)];

    if (!j->have_want) {             /* a read only (the API's view) */
        j->step = S_PV;
        return 0;
    }
    if (!again && build(j) < 0)
        return -1;
    j->differs = sb_nsched_diff(&j->prog, &j->res.dev, parts(j), why, sizeof(why));
    if (!j->differs) {
        j->res.state = SB_NSYNC_IN_SYNC;
        j->res.why[0] = '\0';
        j->step = S_PV;
        return 0;
    }
    j->res.state = SB_NSYNC_DIFFERS;
    const char *pfx = again ? (j->res.dry_run ? "dry run, not written: " : "written, but the device keeps: ")
                      : j->rq.view || j->rq.may_write ? "" : "not written (advisory): ";
    snprintf(j->res.why, sizeof(j->res.why), "%s%.260s", pfx, why);
    j->step = again || !j->rq.may_write || j->rq.view ? S_PV : S_W_DATES;
    return 0;
}

static void step(struct njob *j)
{
    const char *prop, *why = NULL;
    unsigned part;
    int rc;

    for (;;) {
        if (j->step == S_END) {
            finish(j);
            return;
        }
        if (j->step == S_COMPARE || j->step == S_CHECK) {
            if (compare(j, j->step == S_CHECK) < 0)
                return;
            continue;
        }
        if (applies(j, j->step))
            break;
        j->step++;
    }
    memset(&j->p, 0, sizeof(j->p));
    target(j, j->step, j->p.object, sizeof(j->p.object), &prop, &part);
    snprintf(j->p.property, sizeof(j->p.property), "%s", prop);
    j->p.write = j->step >= S_W_DATES && j->step <= S_W_WEEK;
    if (j->p.write) {
        j->res.tried |= part;
        if ((rc = encode(j, part)) < 0) {
            fail(j, "encoding the program", sb_strerror(rc));
            return;
        }
    } else {
        j->p.value = j->buf;
        j->p.cap = READ_CAP;
    }
    rc = sb_drvmgr_prop(j->dm, j->rq.point, &j->p, answer, j, &why);
    if (rc) {                        /* not started: no answer comes */
        char w[128];
        snprintf(w, sizeof(w), "%s %s %s", j->p.write ? "writing" : "reading", j->p.object, j->p.property);
        fail(j, w, why ? why : sb_strerror(rc));
    }
    /* else answer() has the job (it may have run already) */
}

int sb_nsync_start(struct sb_drvmgr *dm, const struct sb_nsync_req *rq, sb_nsync_cb cb, void *ud)
{
    struct njob *j;

    if (!dm || !rq || !cb || rq->sched < 0)
        return SB_EINVAL;
    if (!(j = calloc(1, sizeof(*j))))
        return SB_ENOMEM;
    if (!(j->buf = malloc(READ_CAP)) || (rq->want && sb_csched_copy(&j->want, rq->want) < 0)) {
        free(j->buf);
        free(j);
        return SB_ENOMEM;
    }
    j->dm = dm;
    j->rq = *rq;
    j->have_want = rq->want != NULL;
    j->rq.want = j->have_want ? &j->want : NULL;
    j->cb = cb;
    j->ud = ud;
    j->res.present = NAN;
    sb_nprog_init(&j->res.dev);
    sb_nprog_init(&j->prog);
    step(j);
    return 0;
}

void sb_nsync_take_dev(struct sb_nsync_res *r, struct sb_nprog *out)
{
    *out = r->dev;
    sb_nprog_init(&r->dev);
}

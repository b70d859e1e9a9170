/*
 * audit_later.c - audit records from the loop, written on the pool
 * (audit_later.h).
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "db/audit_later.h"

struct job {
    uv_work_t w;
    struct sb_appdb *db;
    struct sb_audit_rec r;      /* strings point into text[] */
    int *pending;
    char text[];
};

enum { NFIELDS = 8 };

/* The eight strings of a record (NULL = SQL NULL), in order. */
static const char **field(struct sb_audit_rec *r, int i)
{
    const char **f[] = { &r->actor, &r->ip, &r->action, &r->target, &r->before, &r->after,
                         &r->result, &r->detail };
    return f[i];
}



static void work(uv_work_t *w)
{
    struct job *j = w->data;
    int rc = sb_appdb_audit_append(j->db, &j->r, NULL);
    if (rc)
        SB_ERR("audit", "append failed (%s %s): %s", j->r.action,
               j->r.target ? j->r.target : "", sb_strerror(rc));
}

static void after(uv_work_t *w, int status)
{
    struct job *j = w->data;
    (void)status;
    if (j->pending)
        (*j->pending)--;
    free(j);
}

int sb_appdb_audit_later(uv_loop_t *loop, struct sb_appdb *db, const struct sb_audit_rec *r,
                         int *pending)
{
    struct sb_audit_rec in = *r;
    size_t n = 0;

    if (!db)
        return 0;
    for (int i = 0; i < NFIELDS; i++)
        n += *field(&in, i) ? strlen(*field(&in, i)) + 1 : 0;
    struct job *j = malloc(sizeof(*j) + n);
    if (!j) {
        SB_ERR("audit", "out of memory: %s not audited", r->action);
        return SB_ENOMEM;
    }
    j->w.data = j;
    j->db = db;
    j->pending = pending;
    j->r = in;
    char *p = j->text;
    for (int i = 0; i < NFIELDS; i++) {
        const char **src = field(&in, i), **dst = field(&j->r, i);
        if (!*src)
            continue;
        size_t len = strlen(*src) + 1;
        memcpy(p, *src, len);
        *dst = p;
        p += len;
    }
    if (uv_queue_work(loop, &j->w, work, after) != 0) {
        SB_ERR("audit", "could not queue %s", r->action);
        free(j);
        return SB_EIO;
    }
    if (pending)
        (*pending)++;
    return 0;
}

/*
 * plan.c - group the values of one device into few read requests (see
 * modbus.h).  Pure.
 *
 * Each request costs a round trip (and, on RTU at 9600 baud, ~4 ms of line
 * time for the frame overhead alone), so neighbouring values are read
 * together, bridging small unread gaps: reading 8 unused registers costs 16
 * bytes, far less than a second request.  Limits: 125 registers or 2000
 * bits per read (Modbus Application Protocol V1.1b3 §6.1-6.4).
 */
#include <stdlib.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

static int bit_table(int t)
{
    return t == SB_MODBUS_COIL || t == SB_MODBUS_DISCRETE;
}

static int cmp_span(const void *a, const void *b, void *ctx)
{
    const struct sb_modbus_span *s = ctx;
    const struct sb_modbus_span *x = &s[*(const size_t *)a], *y = &s[*(const size_t *)b];
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    return (x->count > y->count) - (x->count < y->count);
}

static int limits_ok(const struct sb_modbus_limits *lim)
{
    return lim->max_regs >= 1 && lim->max_regs <= 125 && lim->max_bits >= 1 &&
           lim->max_bits <= 2000 && lim->max_gap <= 124;
}

/* Can span s join request r (whose spans have flags rf)? */
static int joins(const struct sb_modbus_req *r, unsigned rf, const struct sb_modbus_span *s,
                 const struct sb_modbus_limits *lim)
{
    long end = (long)r->addr + r->count, send = (long)s->addr + s->count;
    long gap = (long)s->addr - end, maxgap, maxc;
    unsigned f = rf | s->flags;

    if (s->table != r->table || (f & SB_MODBUS_SPAN_ALONE))
        return 0;
    maxgap = (f & SB_MODBUS_SPAN_GAPLESS) ? 0
             : (long)lim->max_gap * (bit_table(s->table) ? 16 : 1);
    maxc = bit_table(s->table) ? (long)lim->max_bits : (long)lim->max_regs;
    return gap <= maxgap && (send > end ? send : end) - (long)r->addr <= maxc;
}

int sb_modbus_plan(const struct sb_modbus_span *spans, size_t n,
                   const struct sb_modbus_limits *lim, size_t *order,
                   struct sb_modbus_req *reqs, size_t *nreq)
{
    unsigned rf = 0;

    *nreq = 0;
    if (!limits_ok(lim))
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        const struct sb_modbus_span *s = &spans[i];
        unsigned max = bit_table(s->table) ? lim->max_bits : lim->max_regs;
        if (s->table >= SB_MODBUS_TABLE_COUNT || s->count == 0 || s->count > max ||
            (long)s->addr + s->count > 65536)
            return SB_EINVAL;
        order[i] = i;
    }
    qsort_r(order, n, sizeof(*order), cmp_span, (void *)spans);
    for (size_t i = 0; i < n; i++) {
        const struct sb_modbus_span *s = &spans[order[i]];
        struct sb_modbus_req *r = *nreq ? &reqs[*nreq - 1] : NULL;
        if (r && joins(r, rf, s, lim)) {
            long send = (long)s->addr + s->count;
            if (send > (long)r->addr + r->count)
                r->count = (uint16_t)(send - r->addr);
            r->n++;
            rf |= s->flags;
            continue;
        }
        reqs[(*nreq)++] = (struct sb_modbus_req){ s->table, s->addr, s->count, i, 1 };
        rf = s->flags;
    }
    return 0;
}

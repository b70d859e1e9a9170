/*
 * agg.c - rollup aggregation: buckets from samples, merges, pages.
 *
 * The rules (step-hold, counter increases, peak, states) are stated in agg.h
 * and worked through with examples in docs/internals/rollups.md.  Two
 * properties shape the code:
 *
 *  - sb_agg_compute() is built from sb_agg_hold() and sb_agg_add(), called in
 *    the same order as a live writer calls them, so the batch and the
 *    incremental form do the same floating-point operations in the same
 *    order and agree bit for bit.
 *  - Pages are columnar: each field of a block of buckets is one column,
 *    written with the codec's column functions (codec.h).  Double columns
 *    that are decimals plus a few ulps of rounding (a sum of 0.1 degC
 *    readings, kWh deltas) are stored as scaled integers plus ulp residuals,
 *    which the codec packs into a few bits per value; fields that follow
 *    from others (a counter's delta from its readings, a 15-minute peak from
 *    its own mean) are stored as a guess plus the list of its misses.
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "store/agg.h"
#include "store/codec.h"

/* ------------------------------------------------------------------ */
/* One bucket                                                          */
/* ------------------------------------------------------------------ */

void sb_agg_init(struct sb_agg *a, int64_t start)
{
    memset(a, 0, sizeof *a);
    a->start = start;
}

int sb_agg_nonempty(const struct sb_agg *a)
{
    return a->n > 0 || a->covered > 0 || a->delta != 0 || a->nstates > 0;
}

static int kind_holds(enum sb_agg_kind k)
{
    return k == SB_AGG_RATE || k == SB_AGG_STATE;
}

/* First instant (exclusive) at which sample p stops holding its value:
 * p->t + max_hold_ms, saturating.  max_hold_ms <= 0: no hold at all (a
 * limit is required: without one a dead meter's last reading would fill
 * every bucket until it comes back). */
static int64_t hold_end(const struct sb_agg_ctx *c, const struct sb_sample *p)
{
    if (c->max_hold_ms <= 0)
        return p->t;
    if (p->t > INT64_MAX - c->max_hold_ms)
        return INT64_MAX;
    return p->t + c->max_hold_ms;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Adds secs to the state v; the ninth and later distinct values of a bucket
 * are folded into the last slot and the bucket is flagged as estimated. */
static void state_add(struct sb_agg *a, double v, double secs)
{
    for (unsigned i = 0; i < a->nstates; i++) {
        if (a->st[i].value == v) {
            a->st[i].secs += secs;
            return;
        }
    }
    if (a->nstates < SB_AGG_MAX_STATES) {
        a->st[a->nstates].value = v;
        a->st[a->nstates].secs = secs;
        a->nstates++;
        return;
    }
    a->st[SB_AGG_MAX_STATES - 1].secs += secs;
    a->qor |= SB_Q_ESTIMATED;
}

void sb_agg_hold(const struct sb_agg_ctx *c, struct sb_agg *a, int64_t a_end,
                 const struct sb_sample *prev, int64_t until)
{
    if (prev == NULL || !kind_holds(c->kind))
        return;
    int64_t lo = max64(prev->t, a->start);
    int64_t hi = min64(min64(until, a_end), hold_end(c, prev));
    if (hi <= lo)
        return;
    /* ms -> s by one division: exact whenever the span is whole seconds. */
    double secs = (double)(hi - lo) / 1000.0;
    if (c->kind == SB_AGG_RATE) {
        double w = prev->v * secs;   /* own statement: never fused into an FMA */
        a->integral += w;
        a->covered += secs;
        a->peak = a->integral / a->covered;  /* own mean; see agg.h on peak */
    } else {
        state_add(a, prev->v, secs);
        a->covered += secs;
    }
}

/* Register advance from reading a to reading b (agg.h, COUNTER). */
static double counter_inc(const struct sb_agg_ctx *c, double a, double b, int *reset)
{
    if (b >= a)
        return b - a;
    if (c->counter_max > 0 && a - b > c->counter_max / 2)
        return (c->counter_max - a) + b;   /* wrapped past the modulus */
    *reset = 1;                            /* register replaced or cleared */
    return b;
}

static void add_stats(const struct sb_agg_ctx *c, struct sb_agg *a, const struct sb_sample *s)
{
    if (a->n == 0) {
        a->min = a->max = a->first = s->v;
        a->t_first = s->t;
    } else {
        if (s->v < a->min)
            a->min = s->v;
        if (s->v > a->max)
            a->max = s->v;
    }
    if (c->kind == SB_AGG_MEAN || c->kind == SB_AGG_RATE)
        a->sum += s->v;   /* a sum of register readings or states means nothing */
    a->last = s->v;
    a->t_last = s->t;
    if (a->n < UINT32_MAX)
        a->n++;
    a->qor |= s->q;
}

void sb_agg_add(const struct sb_agg_ctx *c, struct sb_agg *a, int64_t a_end,
                const struct sb_sample *prev, const struct sb_sample *s)
{
    sb_agg_hold(c, a, a_end, prev, s->t);
    add_stats(c, a, s);
    if (c->kind == SB_AGG_COUNTER && prev != NULL) {
        int reset = 0;
        a->delta += counter_inc(c, prev->v, s->v, &reset);
        if (reset)
            a->qor |= SB_Q_ESTIMATED;
        a->peak = a->delta;   /* own delta; see agg.h on peak */
    }
}

void sb_agg_dirty(const struct sb_agg_ctx *c, const struct sb_sample *prev,
                  const struct sb_sample *s, const struct sb_sample *next,
                  int64_t *t0, int64_t *t1)
{
    int64_t after_s = s->t < INT64_MAX ? s->t + 1 : INT64_MAX;
    *t0 = s->t;
    *t1 = after_s;                           /* s's own bucket */
    if (c->kind == SB_AGG_COUNTER && next)   /* next's increase starts at s */
        *t1 = next->t < INT64_MAX ? next->t + 1 : INT64_MAX;
    if (kind_holds(c->kind)) {               /* prev's and s's holds, cut at next */
        int64_t end = max64(hold_end(c, s), prev ? hold_end(c, prev) : after_s);
        *t1 = max64(next ? min64(end, next->t) : end, after_s);
    }
}

/* ------------------------------------------------------------------ */
/* Merge and display value                                             */
/* ------------------------------------------------------------------ */

static void merge_stats(struct sb_agg *into, const struct sb_agg *from)
{
    if (from->n == 0)
        return;
    if (into->n == 0) {
        into->min = from->min;
        into->max = from->max;
        into->first = from->first;
        into->t_first = from->t_first;
        into->last = from->last;
        into->t_last = from->t_last;
    } else {
        if (from->min < into->min)
            into->min = from->min;
        if (from->max > into->max)
            into->max = from->max;
        if (from->t_first < into->t_first) {
            into->first = from->first;
            into->t_first = from->t_first;
        }
        if (from->t_last > into->t_last) {
            into->last = from->last;
            into->t_last = from->t_last;
        }
    }
    into->n = from->n > UINT32_MAX - into->n ? UINT32_MAX : into->n + from->n;
}

static void merge_states(struct sb_agg *into, const struct sb_agg *from)
{
    for (unsigned i = 0; i < from->nstates && i < SB_AGG_MAX_STATES; i++)
        state_add(into, from->st[i].value, from->st[i].secs);
}

/* Peak of into after from was added.  had = into held a peak before (RATE:
 * covered > 0, COUNTER: n > 0).  Children of 15 minutes or more carry a
 * 15-minute peak: keep the highest.  Finer children (1 min) carry only their
 * own mean, which is no 15-minute figure: the merged bucket then gets its own
 * mean/delta, which is what a 15-minute bucket computed from the samples
 * would hold (see agg.h). */
static void merge_peak(const struct sb_agg_ctx *c, struct sb_agg *into,
                       const struct sb_agg *from, enum sb_res from_res, int had)
{
    int has = c->kind == SB_AGG_RATE ? from->covered > 0 : from->n > 0;
    if (from_res < SB_RES_15M) {
        if (c->kind == SB_AGG_RATE && into->covered > 0)
            into->peak = into->integral / into->covered;
        else if (c->kind == SB_AGG_COUNTER)
            into->peak = into->delta;
        return;
    }
    if (has && (!had || from->peak > into->peak))
        into->peak = from->peak;
}

void sb_agg_merge(const struct sb_agg_ctx *c, struct sb_agg *into,
                  const struct sb_agg *from, enum sb_res from_res)
{
    int had = c->kind == SB_AGG_RATE ? into->covered > 0 : into->n > 0;
    merge_stats(into, from);
    into->qor |= from->qor;
    into->sum += from->sum;
    into->integral += from->integral;
    into->covered += from->covered;
    into->delta += from->delta;
    if (c->kind == SB_AGG_STATE)
        merge_states(into, from);
    if (c->kind == SB_AGG_RATE || c->kind == SB_AGG_COUNTER)
        merge_peak(c, into, from, from_res, had);
}

double sb_agg_value(enum sb_agg_kind kind, const struct sb_agg *a)
{
    double on = 0;
    switch (kind) {
    case SB_AGG_MEAN:
        return a->n > 0 ? a->sum / a->n : NAN;
    case SB_AGG_RATE:
        /* No held time (one sample, or a zero hold): the samples' mean is
         * the best estimate there is. */
        if (a->covered > 0)
            return a->integral / a->covered;
        return a->n > 0 ? a->sum / a->n : NAN;
    case SB_AGG_COUNTER:
        return a->n > 0 ? a->delta : NAN;
    case SB_AGG_STATE:
        if (!(a->covered > 0))
            return NAN;
        for (unsigned i = 0; i < a->nstates && i < SB_AGG_MAX_STATES; i++)
            if (a->st[i].value != 0)
                on += a->st[i].secs;
        return on / a->covered;
    default:
        return NAN;
    }
}

/* ------------------------------------------------------------------ */
/* Batch computation                                                   */
/* ------------------------------------------------------------------ */

/* A pass over the samples, one bucket open at a time. */
struct walk {
    const struct sb_agg_ctx *c;  /* the point's rules */
    const struct sb_tz *tz;      /* the building's zone (bucket bounds) */
    enum sb_res r;               /* 1 min or 15 min */
    int64_t lo, hi;              /* [lo, hi): whole buckets covering [t0, t1) */
    struct sb_agg cur;           /* the bucket being filled */
    int64_t cur_end;             /* its end (exclusive) */
    int open;                    /* cur is in use */
    struct sb_agg *out;          /* caller's output array */
    size_t cap;                  /* its size */
    size_t count;                /* non-empty buckets closed (written or not) */
};

static void walk_close(struct walk *w)
{
    if (!w->open)
        return;
    if (sb_agg_nonempty(&w->cur)) {
        if (w->count < w->cap)
            w->out[w->count] = w->cur;
        w->count++;
    }
    w->open = 0;
}

/* Makes the bucket holding t (t >= cur.start) the open one. */
static void walk_goto(struct walk *w, int64_t t)
{
    if (w->open && t < w->cur_end)
        return;
    walk_close(w);
    int64_t start = sb_bucket_start(w->tz, w->r, t);
    sb_agg_init(&w->cur, start);
    w->cur_end = sb_bucket_next(w->tz, w->r, start);
    w->open = 1;
}

/* Spreads the hold of p (ending at until, the next sample's time) over the
 * buckets before stop; the part from stop on is sb_agg_add()'s. */
static void walk_hold(struct walk *w, const struct sb_sample *p, int64_t until, int64_t stop)
{
    if (p == NULL || !kind_holds(w->c->kind))
        return;
    int64_t end = min64(min64(until, stop), min64(hold_end(w->c, p), w->hi));
    int64_t t = max64(p->t, w->lo);
    if (w->open)
        t = max64(t, w->cur.start);
    while (t < end) {
        walk_goto(w, t);
        sb_agg_hold(w->c, &w->cur, w->cur_end, p, until);
        if (w->cur_end <= t)   /* defensive: a bucket that does not advance */
            break;
        t = w->cur_end;
    }
}

static int check_sorted(const struct sb_sample *prev, const struct sb_sample *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t before = i > 0 ? s[i - 1].t : prev ? prev->t : INT64_MIN;
        if ((i > 0 || prev) && s[i].t <= before)
            return SB_EINVAL;
    }
    return 0;
}

static void walk_samples(struct walk *w, const struct sb_sample *prev,
                         const struct sb_sample *s, size_t n)
{
    const struct sb_sample *p = prev;
    for (size_t i = 0; i < n; i++) {
        const struct sb_sample *x = &s[i];
        if (x->t >= w->hi) {                 /* cuts p's hold short; no more */
            walk_hold(w, p, x->t, w->hi);
            return;
        }
        if (x->t >= w->lo) {
            int64_t b = sb_bucket_start(w->tz, w->r, x->t);
            walk_hold(w, p, x->t, b);
            walk_goto(w, x->t);
            sb_agg_add(w->c, &w->cur, w->cur_end, p, x);
        }
        p = x;
    }
    /* The newest sample given holds nothing: with no later sample we do not
     * know how long its value lasted, and the live writer (sb_agg_add) does
     * not extrapolate either.  Callers pass the sample after the range when
     * there is one. */
}

int sb_agg_compute(const struct sb_agg_ctx *c, const struct sb_tz *tz, enum sb_res r,
                   const struct sb_sample *prev, const struct sb_sample *s, size_t n,
                   int64_t t0, int64_t t1, struct sb_agg *out, size_t cap, size_t *nout)
{
    *nout = 0;
    if (r != SB_RES_1M && r != SB_RES_15M)
        return SB_EINVAL;
    if ((unsigned)c->kind >= SB_AGG_KIND_COUNT || (n > 0 && s == NULL))
        return SB_EINVAL;
    if (check_sorted(prev, s, n) < 0)
        return SB_EINVAL;
    if (t1 <= t0)
        return 0;
    struct walk w = { .c = c, .tz = tz, .r = r, .out = out, .cap = cap };
    w.lo = sb_bucket_start(tz, r, t0);
    w.hi = sb_bucket_next(tz, r, sb_bucket_start(tz, r, t1 - 1));
    walk_samples(&w, prev, s, n);
    walk_close(&w);
    *nout = w.count;
    return w.count > cap ? SB_ENOSPC : 0;
}

/* ------------------------------------------------------------------ */
/* Pages                                                               */
/* ------------------------------------------------------------------ */
/*
 * page  := version(1 byte) kind(1 byte) count(varint) block*
 * block := the next min(count left, PAGE_BLOCK) buckets, column by column:
 *   start              times  every bucket
 *   n                  dcol   every bucket
 *   qor                u16s   every bucket
 *   t_first, t_last    dcol   the buckets with n > 0: ms after start
 *   first, last        dcol   those buckets
 *   min, max           dcol   those; guess min / max of (first, last)
 *   sum                dcol   those; guess first (n = 1), first + last (n = 2)
 *   integral, covered  dcol   every bucket
 *   delta              dcol   every bucket; guess last - last of the bucket
 *                             with samples before it (a counter's delta is
 *                             exactly that when the register did not wrap)
 *   peak               dcol   every bucket; guess its own mean / delta
 *   nstates            dcol   every bucket
 *   st value, secs     dcol   each used entry, bucket by bucket
 * dcol  := mode(1 byte), then by mode:
 *   ZERO    -                               every value +0.0
 *   RAW     values(x)                       the codec's own choice
 *   GUESS   varint e, e varint index gaps, then the e misses as a dcol
 *           that is not GUESS; every other value is the guess
 *   DIV     varint d, then y as a dcol that is neither GUESS nor DIV:
 *           x = y / d (a 15-min mean is a decimal integral / 900 s)
 *   DEC|k   varint g, values(q)             x = q*g / 10^k
 *   DECR|k  varint g, values(q), values(r)  x = the double r ulps away from
 *           q*g / 10^k (sums of decimals are decimals to within a few ulps)
 * Blocks bound the scratch arrays (the module allocates nothing) and what a
 * corrupt byte can reach.  Fields that mean nothing (the sample fields of a
 * bucket with n = 0, unused st[] entries) must be zero and are not stored.
 */

#define PAGE_VERSION 1
#define PAGE_BLOCK   128
#define PAGE_STATES  (PAGE_BLOCK * SB_AGG_MAX_STATES)

enum {
    DCOL_ZERO  = 0x00,
    DCOL_RAW   = 0x01,
    DCOL_GUESS = 0x02,
    DCOL_DIV   = 0x03,
    DCOL_DEC   = 0x10,   /* | k, k = 0..DCOL_MAX_K */
    DCOL_DECR  = 0x20,   /* | k */
    DCOL_MAX_K = 6
};

#define DCOL_MAX_RES (1 << 20)        /* beyond: not a rounded decimal */
#define SCALED_MAX   4503599627370496.0  /* 2^52: q*g stays an exact integer */
#define PEAK_DIV     900                 /* seconds in 15 min: see enc_field */
#define DIV_MAX      UINT32_MAX

static const double pow10_tab[DCOL_MAX_K + 1] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };

/* Scratch columns of one block (about 50 KB, on the stack). */
struct cols {
    int64_t  t[PAGE_BLOCK];      /* a times column */
    uint16_t q[PAGE_BLOCK];      /* the qor column */
    size_t   idx[PAGE_BLOCK];    /* index of each bucket with n > 0 */
    double   x[PAGE_STATES];     /* a double column */
    double   g[PAGE_STATES];     /* its guesses */
    double   e[PAGE_STATES];     /* the values the guess missed */
    size_t   ei[PAGE_STATES];    /* and their indices */
    double   m[PAGE_STATES];     /* scaled integers (DEC) */
    double   res[PAGE_STATES];   /* ulp residuals (DECR) */
};

/* Output cursor; buf NULL only counts. */
struct wbuf {
    uint8_t *buf;   /* destination or NULL */
    size_t cap;     /* its size */
    size_t len;     /* bytes written / needed so far */
};

static uint8_t *w_at(const struct wbuf *w) { return w->buf ? w->buf + w->len : NULL; }
static size_t w_room(const struct wbuf *w) { return w->buf ? w->cap - w->len : 0; }

static int w_adv(struct wbuf *w, ssize_t got)
{
    if (got < 0)
        return (int)got;
    w->len += (size_t)got;
    return 0;
}

static int w_byte(struct wbuf *w, uint8_t b)
{
    if (w->buf) {
        if (w->len >= w->cap)
            return SB_ENOSPC;
        w->buf[w->len] = b;
    }
    w->len++;
    return 0;
}

static int w_varint(struct wbuf *w, uint64_t x)
{
    return w_adv(w, sb_varint_put(w_at(w), w_room(w), x));
}

static int w_values(struct wbuf *w, const double *v, size_t n)
{
    return w_adv(w, sb_codec_put_values(w_at(w), w_room(w), v, n));
}

/* Input cursor. */
struct rbuf {
    const uint8_t *p;   /* the page */
    size_t len;         /* its length */
    size_t off;         /* bytes consumed */
};

static int r_adv(struct rbuf *r, ssize_t got)
{
    if (got < 0 || (size_t)got > r->len - r->off)
        return SB_ECORRUPT;
    r->off += (size_t)got;
    return 0;
}

static int r_byte(struct rbuf *r, uint8_t *b)
{
    if (r->off >= r->len)
        return SB_ECORRUPT;
    *b = r->p[r->off++];
    return 0;
}

static int r_varint(struct rbuf *r, uint64_t *x)
{
    return r_adv(r, sb_varint_get(r->p + r->off, r->len - r->off, x));
}

static int r_values(struct rbuf *r, double *v, size_t n)
{
    if (r_adv(r, sb_codec_get_values(r->p + r->off, r->len - r->off, v, n)) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return SB_ECORRUPT;
    return 0;
}

static int same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

static int is_pos_zero(double x)
{
    return same_bits(x, 0.0);
}

/* Doubles as integers in value order, so that a difference counts ulps
 * (-0.0 lands on +0.0: a column holding -0.0 is never DEC). */
static int64_t dkey(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return (u >> 63) ? -(int64_t)(u & INT64_MAX) : (int64_t)u;
}

static double dunkey(int64_t k)
{
    uint64_t u = k < 0 ? ((uint64_t)-k | (1ull << 63)) : (uint64_t)k;
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* ---- plain columns: ZERO, RAW, DEC, DECR ---- */

/* Splits x into q*g / 10^k + residuals.  0 if that fits, -1 if not. */
static int dec_split(const double *x, size_t n, int k, double *m, double *res,
                     int *has_res, uint64_t *gcd)
{
    double p = pow10_tab[k];
    uint64_t g = 0;
    *has_res = 0;
    for (size_t i = 0; i < n; i++) {
        double y = x[i] * p;
        int64_t r;
        if ((signbit(x[i]) && x[i] == 0) || !(fabs(y) <= SCALED_MAX))
            return -1;
        m[i] = nearbyint(y);
        if (__builtin_sub_overflow(dkey(x[i]), dkey(m[i] / p), &r) ||
            r > DCOL_MAX_RES || r < -DCOL_MAX_RES)
            return -1;
        res[i] = (double)r;
        *has_res |= r != 0;
        g = gcd64(g, (uint64_t)fabs(m[i]));
    }
    *gcd = g ? g : 1;
    for (size_t i = 0; i < n; i++)
        m[i] /= (double)*gcd;   /* exact: a multiple of g below 2^53 */
    return 0;
}

/* Writes a column already split by dec_split (m, res, has_res, g). */
static int dec_put_split(struct wbuf *w, size_t n, int k, const double *m, const double *res,
                         int has_res, uint64_t g)
{
    int rc = w_byte(w, (uint8_t)((has_res ? DCOL_DECR : DCOL_DEC) | k));
    if (rc == 0)
        rc = w_varint(w, g);
    if (rc == 0)
        rc = w_values(w, m, n);
    if (rc == 0 && has_res)
        rc = w_values(w, res, n);
    return rc;
}

static int dec_put(struct wbuf *w, const double *x, size_t n, int k, double *m, double *res)
{
    int has_res;
    uint64_t g;
    if (dec_split(x, n, k, m, res, &has_res, &g) < 0)
        return SB_EINVAL;
    return dec_put_split(w, n, k, m, res, has_res, g);
}

/* The cheapest k for DEC/DECR, or -1 (its length in *best). */
static int dec_pick(const double *x, size_t n, double *m, double *res, size_t *best)
{
    int kbest = -1;
    for (int k = 0; k <= DCOL_MAX_K; k++) {
        struct wbuf cnt = { 0 };
        int has_res;
        uint64_t g;
        if (dec_split(x, n, k, m, res, &has_res, &g) < 0)
            continue;
        if (dec_put_split(&cnt, n, k, m, res, has_res, g) == 0 && (kbest < 0 || cnt.len < *best)) {
            kbest = k;
            *best = cnt.len;
        }
        if (!has_res)
            break;   /* more digits only cost more */
    }
    return kbest;
}

static int all_pos_zero(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_pos_zero(x[i]))
            return 0;
    return 1;
}

/* Writes x[0..n) as RAW or DEC (whichever is shortest) straight into w:
 * RAW first, then each DEC candidate after it, moved down when shorter, so
 * nothing is encoded twice.  SB_ENOSPC when w lacks the spare room. */
static int plain_put_direct(struct wbuf *w, const double *x, size_t n, double *m, double *res)
{
    size_t base = w->len;
    int rc = w_byte(w, DCOL_RAW);
    if (rc == 0)
        rc = w_values(w, x, n);
    if (rc)
        return rc;
    size_t best = w->len - base;
    for (int k = 0; k <= DCOL_MAX_K; k++) {
        int has_res;
        uint64_t g;
        if (dec_split(x, n, k, m, res, &has_res, &g) < 0)
            continue;
        struct wbuf t = { w->buf + base + best, w->cap - base - best, 0 };
        rc = dec_put_split(&t, n, k, m, res, has_res, g);
        if (rc)
            return rc;
        if (t.len < best) {
            memmove(w->buf + base, t.buf, t.len);
            best = t.len;
            w->len = base + best;
        }
        if (!has_res)
            break;   /* more digits only cost more */
    }
    return 0;
}

/* Writes x[0..n) as ZERO, RAW or DEC, whichever is shortest. */
static int plain_put(struct wbuf *w, const double *x, size_t n, double *m, double *res)
{
    if (all_pos_zero(x, n))
        return w_byte(w, DCOL_ZERO);
    if (w->buf) {
        size_t base = w->len;
        int rc = plain_put_direct(w, x, n, m, res);
        if (rc != SB_ENOSPC)
            return rc;
        w->len = base;   /* no spare room: measure, then write the winner */
    }
    ssize_t raw = sb_codec_put_values(NULL, 0, x, n);
    if (raw < 0)
        return (int)raw;
    size_t dlen = 0;
    int k = dec_pick(x, n, m, res, &dlen);
    if (k >= 0 && dlen < (size_t)raw + 1)
        return dec_put(w, x, n, k, m, res);
    int rc = w_byte(w, DCOL_RAW);
    return rc ? rc : w_values(w, x, n);
}

/* ---- guessed columns ---- */

/* Writes cs->x[0..n) as GUESS against cs->g. */
static int guess_put(struct wbuf *w, struct cols *cs, size_t n)
{
    size_t ne = 0;
    for (size_t i = 0; i < n; i++) {
        if (!same_bits(cs->x[i], cs->g[i])) {
            cs->e[ne] = cs->x[i];
            cs->ei[ne++] = i;
        }
    }
    int rc = w_byte(w, DCOL_GUESS);
    if (rc == 0)
        rc = w_varint(w, ne);
    for (size_t j = 0; j < ne && rc == 0; j++)
        rc = w_varint(w, cs->ei[j] - (j ? cs->ei[j - 1] + 1 : 0));
    return rc ? rc : plain_put(w, cs->e, ne, cs->m, cs->res);
}

/* Writes cs->x[0..n) as DIV d, if every x * d / d gives x back. */
static int div_put(struct wbuf *w, struct cols *cs, size_t n, uint64_t d)
{
    for (size_t i = 0; i < n; i++) {
        cs->e[i] = cs->x[i] * (double)d;
        if (!isfinite(cs->e[i]) || !same_bits(cs->e[i] / (double)d, cs->x[i]))
            return SB_EINVAL;
    }
    int rc = w_byte(w, DCOL_DIV);
    if (rc == 0)
        rc = w_varint(w, d);
    return rc ? rc : plain_put(w, cs->e, n, cs->m, cs->res);
}

enum { AS_PLAIN, AS_GUESS, AS_DIV, AS_COUNT };

static int col_put_as(struct wbuf *w, struct cols *cs, size_t n, int as, uint64_t d)
{
    if (as == AS_GUESS)
        return guess_put(w, cs, n);
    if (as == AS_DIV)
        return div_put(w, cs, n, d);
    return plain_put(w, cs->x, n, cs->m, cs->res);
}

/* Writes the column cs->x[0..n) in the shortest form: plain, GUESS against
 * cs->g (when guess), DIV by d (when d > 0). */
static int col_put(struct wbuf *w, struct cols *cs, size_t n, int guess, uint64_t d)
{
    size_t best = SIZE_MAX, base = w->len, bestoff = 0, off = base;
    int how = -1, spill = 0;
    /* Each candidate is written after the best so far, in the output's spare
     * room, and the winner moved into place: no second encoding of it.  A
     * candidate that does not fit (or a length-only pass) is only measured,
     * and the winner is then written again. */
    for (int as = 0; as < AS_COUNT; as++) {
        if ((as == AS_GUESS && !guess) || (as == AS_DIV && !d))
            continue;
        struct wbuf t = { w->buf ? w->buf + off : NULL, w->buf ? w->cap - off : 0, 0 };
        int rc = col_put_as(&t, cs, n, as, d);
        if (rc == SB_ENOSPC && w->buf) {
            struct wbuf cnt = { 0 };
            rc = col_put_as(&cnt, cs, n, as, d);
            t.len = cnt.len;
            if (rc == 0 && t.len < best)
                spill = 1;
        } else if (rc == 0 && t.len < best) {
            spill = 0;
        }
        if (rc == 0 && t.len < best) {
            best = t.len;
            how = as;
            bestoff = off;
            if (!spill && w->buf)
                off += t.len;
        }
    }
    if (how < 0)
        return SB_EINVAL;
    if (!w->buf || spill) {
        if (!w->buf) {
            w->len += best;
            return 0;
        }
        return col_put_as(w, cs, n, how, d);
    }
    memmove(w->buf + base, w->buf + bestoff, best);
    w->len = base + best;
    return 0;
}

/* ---- reading columns ---- */

static int get_ints(struct rbuf *r, double *v, size_t n, double lim)
{
    if (r_values(r, v, n) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(v[i]) <= lim) || v[i] != nearbyint(v[i]))
            return SB_ECORRUPT;
    return 0;
}

static int dec_get(struct rbuf *r, uint8_t mode, double *x, size_t n, double *m, double *res)
{
    int k = mode & 0x0f, has_res = (mode & 0xf0) == DCOL_DECR;
    uint64_t g;
    if (k > DCOL_MAX_K || r_varint(r, &g) < 0 || g == 0 || g > (uint64_t)SCALED_MAX)
        return SB_ECORRUPT;
    if (get_ints(r, m, n, SCALED_MAX / (double)g) < 0)
        return SB_ECORRUPT;
    if (has_res && get_ints(r, res, n, DCOL_MAX_RES) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++) {
        int64_t key = dkey(m[i] * (double)g / pow10_tab[k]);
        if (has_res)
            key += (int64_t)res[i];   /* |key| < 2^63 - 2^20: cannot wrap */
        x[i] = dunkey(key);
        if (!isfinite(x[i]))
            return SB_ECORRUPT;
    }
    return 0;
}

static int plain_get(struct rbuf *r, uint8_t mode, double *x, size_t n, double *m, double *res)
{
    if ((mode & 0xf0) == DCOL_DEC || (mode & 0xf0) == DCOL_DECR)
        return dec_get(r, mode, x, n, m, res);
    if (mode == DCOL_ZERO) {
        memset(x, 0, n * sizeof x[0]);
        return 0;
    }
    return mode == DCOL_RAW ? r_values(r, x, n) : SB_ECORRUPT;
}

static int guess_get(struct rbuf *r, struct cols *cs, size_t n)
{
    uint64_t ne, gap;
    uint8_t mode;
    size_t at = 0;
    if (r_varint(r, &ne) < 0 || ne > n)
        return SB_ECORRUPT;
    for (size_t j = 0; j < ne; j++) {
        if (r_varint(r, &gap) < 0 || gap >= n - at)
            return SB_ECORRUPT;
        cs->ei[j] = at + gap;
        at = cs->ei[j] + 1;
    }
    if (r_byte(r, &mode) < 0 || plain_get(r, mode, cs->e, ne, cs->m, cs->res) < 0)
        return SB_ECORRUPT;
    memcpy(cs->x, cs->g, n * sizeof cs->x[0]);
    for (size_t j = 0; j < ne; j++)
        cs->x[cs->ei[j]] = cs->e[j];
    for (size_t i = 0; i < n; i++)
        if (!isfinite(cs->x[i]))   /* a guess from corrupt fields overflowed */
            return SB_ECORRUPT;
    return 0;
}

static int div_get(struct rbuf *r, struct cols *cs, size_t n)
{
    uint64_t d;
    uint8_t mode;
    if (r_varint(r, &d) < 0 || d == 0 || d > DIV_MAX || r_byte(r, &mode) < 0 ||
        plain_get(r, mode, cs->e, n, cs->m, cs->res) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        cs->x[i] = cs->e[i] / (double)d;
    return 0;
}

/* Reads a column into cs->x[0..n); guesses (if guess) are in cs->g. */
static int col_get(struct rbuf *r, struct cols *cs, size_t n, int guess)
{
    uint8_t mode;
    if (r_byte(r, &mode) < 0)
        return SB_ECORRUPT;
    if (mode == DCOL_GUESS)
        return guess ? guess_get(r, cs, n) : SB_ECORRUPT;
    if (mode == DCOL_DIV)
        return div_get(r, cs, n);
    return plain_get(r, mode, cs->x, n, cs->m, cs->res);
}

/* ---- guesses: the same functions feed the encoder and the decoder ---- */

static double guess_min(const struct sb_agg *a) { return a->first < a->last ? a->first : a->last; }
static double guess_max(const struct sb_agg *a) { return a->first > a->last ? a->first : a->last; }

/* sum as add_stats() builds it from one or two samples: 0 + first (+ last) */
static double guess_sum(const struct sb_agg *a)
{
    double s = 0.0 + a->first;
    return a->n == 1 ? s : a->n == 2 ? s + a->last : 0.0;
}

/* Peak as sb_agg_add()/sb_agg_hold() leave it (0 for MEAN and STATE). */
static double own_peak(enum sb_agg_kind kind, const struct sb_agg *a)
{
    if (kind == SB_AGG_RATE)
        return a->covered > 0 ? a->integral / a->covered : 0.0;
    return kind == SB_AGG_COUNTER ? a->delta : 0.0;
}

/* delta guesses: last - last of the previous bucket with samples. */
static void guess_deltas(const struct sb_agg *a, size_t n, double *g)
{
    const struct sb_agg *before = NULL;
    for (size_t i = 0; i < n; i++) {
        g[i] = a[i].n > 0 && before ? a[i].last - before->last : 0.0;
        if (a[i].n > 0)
            before = &a[i];
    }
}

/* The double fields, by column. */
enum dfield { F_FIRST, F_LAST, F_MIN, F_MAX, F_SUM, F_INTEGRAL, F_COVERED, F_DELTA, F_PEAK };

static const size_t dfield_off[] = {
    offsetof(struct sb_agg, first),    offsetof(struct sb_agg, last),
    offsetof(struct sb_agg, min),      offsetof(struct sb_agg, max),
    offsetof(struct sb_agg, sum),      offsetof(struct sb_agg, integral),
    offsetof(struct sb_agg, covered),  offsetof(struct sb_agg, delta),
    offsetof(struct sb_agg, peak),
};

static double dfield_get(const struct sb_agg *a, enum dfield f)
{
    double v;
    memcpy(&v, (const char *)a + dfield_off[f], sizeof v);
    return v;
}

static void dfield_set(struct sb_agg *a, enum dfield f, double v)
{
    memcpy((char *)a + dfield_off[f], &v, sizeof v);
}

/* Fills cs->g for field f over the buckets listed (sel: cs->idx[0..n) when
 * set, else a[0..n)); returns whether f has a guess at all. */
static int guesses(struct cols *cs, enum sb_agg_kind kind, const struct sb_agg *a, size_t n,
                   int sel, enum dfield f)
{
    if (f == F_DELTA) {
        guess_deltas(a, n, cs->g);
        return 1;
    }
    if (f != F_MIN && f != F_MAX && f != F_SUM && f != F_PEAK)
        return 0;
    for (size_t j = 0; j < n; j++) {
        const struct sb_agg *b = &a[sel ? cs->idx[j] : j];
        cs->g[j] = f == F_MIN ? guess_min(b) : f == F_MAX ? guess_max(b)
                 : f == F_SUM ? guess_sum(b) : own_peak(kind, b);
    }
    return 1;
}

/* ---- encoding ---- */

static const enum dfield sample_cols[] = { F_FIRST, F_LAST, F_MIN, F_MAX, F_SUM };
static const enum dfield bucket_cols[] = { F_INTEGRAL, F_COVERED, F_DELTA, F_PEAK };
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* What the format relies on: fields not stored are zero, doubles finite. */
static int enc_check_one(const struct sb_agg *a)
{
    if (a->nstates > SB_AGG_MAX_STATES)
        return SB_EINVAL;
    for (size_t f = 0; f < NELEM(sample_cols); f++) {
        double v = dfield_get(a, sample_cols[f]);
        if (!isfinite(v) || (a->n == 0 && !is_pos_zero(v)))
            return SB_EINVAL;
    }
    if (a->n == 0 && (a->t_first != 0 || a->t_last != 0))
        return SB_EINVAL;
    for (size_t f = 0; f < NELEM(bucket_cols); f++)
        if (!isfinite(dfield_get(a, bucket_cols[f])))
            return SB_EINVAL;
    for (unsigned i = 0; i < SB_AGG_MAX_STATES; i++) {
        const struct sb_agg_state *st = &a->st[i];
        if (i < a->nstates ? !isfinite(st->value) || !isfinite(st->secs)
                           : !is_pos_zero(st->value) || !is_pos_zero(st->secs))
            return SB_EINVAL;
    }
    return 0;
}

/* t - start as a double, exactly, or -1. */
static int time_offset(int64_t t, int64_t start, double *off)
{
    int64_t d;
    if (__builtin_sub_overflow(t, start, &d) || d > (int64_t)SCALED_MAX || d < -(int64_t)SCALED_MAX)
        return -1;
    *off = (double)d;
    return 0;
}

/* Starts strictly increasing; sample times within 2^52 ms of the start. */
static int enc_check(const struct sb_agg *a, size_t n)
{
    double off;
    for (size_t i = 0; i < n; i++) {
        if ((i > 0 && a[i].start <= a[i - 1].start) || enc_check_one(&a[i]) < 0)
            return SB_EINVAL;
        if (a[i].n > 0 && (time_offset(a[i].t_first, a[i].start, &off) < 0 ||
                           time_offset(a[i].t_last, a[i].start, &off) < 0))
            return SB_EINVAL;
    }
    return 0;
}

static int put_times(struct wbuf *w, const int64_t *t, size_t n)
{
    if (n == 0)
        return 0;
    return w_adv(w, sb_codec_put_times(w_at(w), w_room(w), t, n));
}

/* start, n, qor */
static int enc_head(struct wbuf *w, struct cols *cs, const struct sb_agg *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cs->t[i] = a[i].start;
        cs->x[i] = a[i].n;
        cs->q[i] = a[i].qor;
    }
    int rc = put_times(w, cs->t, n);
    if (rc == 0)
        rc = col_put(w, cs, n, 0, 0);
    return rc ? rc : w_adv(w, sb_codec_put_u16s(w_at(w), w_room(w), cs->q, n));
}

/* One double field as a column (sel: only the buckets in cs->idx).  A
 * merged RATE bucket's peak is some 15-min bucket's integral / covered:
 * with full cover, a decimal divided by 900 s, hence DIV for peaks. */
static int enc_field(struct wbuf *w, struct cols *cs, enum sb_agg_kind kind,
                     const struct sb_agg *a, size_t n, int sel, enum dfield f)
{
    for (size_t j = 0; j < n; j++)
        cs->x[j] = dfield_get(&a[sel ? cs->idx[j] : j], f);
    return col_put(w, cs, n, guesses(cs, kind, a, n, sel, f),
                   f == F_PEAK && kind == SB_AGG_RATE ? PEAK_DIV : 0);
}

static int enc_samples(struct wbuf *w, struct cols *cs, enum sb_agg_kind kind,
                       const struct sb_agg *a, size_t m)
{
    int rc = 0;
    for (int col = 0; col < 2 && rc == 0; col++) {
        for (size_t j = 0; j < m; j++) {
            const struct sb_agg *b = &a[cs->idx[j]];
            (void)time_offset(col == 0 ? b->t_first : b->t_last, b->start, &cs->x[j]);
        }
        rc = col_put(w, cs, m, 0, 0);
    }
    for (size_t f = 0; f < NELEM(sample_cols) && rc == 0; f++)
        rc = enc_field(w, cs, kind, a, m, 1, sample_cols[f]);
    return rc;
}

static int enc_states(struct wbuf *w, struct cols *cs, const struct sb_agg *a, size_t n)
{
    size_t tot = 0;
    for (size_t i = 0; i < n; i++)
        cs->x[i] = a[i].nstates;
    int rc = col_put(w, cs, n, 0, 0);
    for (int col = 0; col < 2 && rc == 0; col++) {
        tot = 0;
        for (size_t i = 0; i < n; i++)
            for (unsigned j = 0; j < a[i].nstates; j++)
                cs->x[tot++] = col == 0 ? a[i].st[j].value : a[i].st[j].secs;
        rc = col_put(w, cs, tot, 0, 0);
    }
    return rc;
}

static int enc_block(struct wbuf *w, struct cols *cs, enum sb_agg_kind kind,
                     const struct sb_agg *a, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].n > 0)
            cs->idx[m++] = i;
    int rc = enc_head(w, cs, a, n);
    if (rc == 0)
        rc = enc_samples(w, cs, kind, a, m);
    for (size_t f = 0; f < NELEM(bucket_cols) && rc == 0; f++)
        rc = enc_field(w, cs, kind, a, n, 0, bucket_cols[f]);
    return rc ? rc : enc_states(w, cs, a, n);
}

ssize_t sb_agg_page_encode(uint8_t *buf, size_t cap, enum sb_agg_kind kind,
                           const struct sb_agg *a, size_t n)
{
    struct wbuf w = { .buf = buf, .cap = cap };
    struct cols cs;
    if ((unsigned)kind >= SB_AGG_KIND_COUNT || n > SB_AGG_PAGE_MAX || (n > 0 && a == NULL))
        return SB_EINVAL;
    int rc = enc_check(a, n);
    if (rc == 0)
        rc = w_byte(&w, PAGE_VERSION);
    if (rc == 0)
        rc = w_byte(&w, (uint8_t)kind);
    if (rc == 0)
        rc = w_varint(&w, n);
    for (size_t i = 0; i < n && rc == 0; i += PAGE_BLOCK)
        rc = enc_block(&w, &cs, kind, a + i, n - i < PAGE_BLOCK ? n - i : PAGE_BLOCK);
    return rc < 0 ? rc : (ssize_t)w.len;
}

/* ---- decoding ---- */

static int get_times(struct rbuf *r, int64_t *t, size_t n)
{
    if (n == 0)
        return 0;
    return r_adv(r, sb_codec_get_times(r->p + r->off, r->len - r->off, t, n));
}

static int is_count(double x, double lim)
{
    return x >= 0 && x <= lim && x == nearbyint(x);
}

/* start, n, qor.  *last: the previous start (starts rise across the page). */
static int dec_head(struct rbuf *r, struct cols *cs, struct sb_agg *a, size_t n,
                    int64_t *last, int first_block)
{
    if (get_times(r, cs->t, n) < 0 || col_get(r, cs, n, 0) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++) {
        if (((i > 0 || !first_block) && cs->t[i] <= *last) || !is_count(cs->x[i], UINT32_MAX))
            return SB_ECORRUPT;
        *last = cs->t[i];
        sb_agg_init(&a[i], cs->t[i]);
        a[i].n = (uint32_t)cs->x[i];
    }
    if (r_adv(r, sb_codec_get_u16s(r->p + r->off, r->len - r->off, cs->q, n)) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        a[i].qor = cs->q[i];
    return 0;
}

static int dec_field(struct rbuf *r, struct cols *cs, enum sb_agg_kind kind, struct sb_agg *a,
                     size_t n, int sel, enum dfield f)
{
    if (col_get(r, cs, n, guesses(cs, kind, a, n, sel, f)) < 0)
        return SB_ECORRUPT;
    for (size_t j = 0; j < n; j++)
        dfield_set(&a[sel ? cs->idx[j] : j], f, cs->x[j]);
    return 0;
}

/* t_first (col 0) or t_last of the m buckets with samples. */
static int dec_times(struct rbuf *r, struct cols *cs, struct sb_agg *a, size_t m, int col)
{
    if (col_get(r, cs, m, 0) < 0)
        return SB_ECORRUPT;
    for (size_t j = 0; j < m; j++) {
        struct sb_agg *b = &a[cs->idx[j]];
        int64_t t;
        if (!(fabs(cs->x[j]) <= SCALED_MAX) || cs->x[j] != nearbyint(cs->x[j]) ||
            __builtin_add_overflow(b->start, (int64_t)cs->x[j], &t))
            return SB_ECORRUPT;
        *(col == 0 ? &b->t_first : &b->t_last) = t;
    }
    return 0;
}

static int dec_samples(struct rbuf *r, struct cols *cs, enum sb_agg_kind kind,
                       struct sb_agg *a, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (a[i].n > 0)
            cs->idx[m++] = i;
    if (dec_times(r, cs, a, m, 0) < 0 || dec_times(r, cs, a, m, 1) < 0)
        return SB_ECORRUPT;
    for (size_t f = 0; f < NELEM(sample_cols); f++)
        if (dec_field(r, cs, kind, a, m, 1, sample_cols[f]) < 0)
            return SB_ECORRUPT;
    return 0;
}

static int dec_states(struct rbuf *r, struct cols *cs, struct sb_agg *a, size_t n)
{
    size_t tot = 0;
    if (col_get(r, cs, n, 0) < 0)
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++) {
        if (!is_count(cs->x[i], SB_AGG_MAX_STATES))
            return SB_ECORRUPT;
        a[i].nstates = (uint8_t)cs->x[i];
        tot += a[i].nstates;
    }
    for (int col = 0; col < 2; col++) {
        size_t k = 0;
        if (col_get(r, cs, tot, 0) < 0)
            return SB_ECORRUPT;
        for (size_t i = 0; i < n; i++)
            for (unsigned j = 0; j < a[i].nstates; j++, k++)
                *(col == 0 ? &a[i].st[j].value : &a[i].st[j].secs) = cs->x[k];
    }
    return 0;
}

static int dec_block(struct rbuf *r, struct cols *cs, enum sb_agg_kind kind,
                     struct sb_agg *a, size_t n, int64_t *last, int first_block)
{
    if (dec_head(r, cs, a, n, last, first_block) < 0 || dec_samples(r, cs, kind, a, n) < 0)
        return SB_ECORRUPT;
    for (size_t f = 0; f < NELEM(bucket_cols); f++)
        if (dec_field(r, cs, kind, a, n, 0, bucket_cols[f]) < 0)
            return SB_ECORRUPT;
    return dec_states(r, cs, a, n);
}

/* Version, kind and bucket count. */
static int dec_header(struct rbuf *r, enum sb_agg_kind *kind, size_t *count)
{
    uint8_t ver, k;
    uint64_t cnt;
    if (r_byte(r, &ver) < 0 || ver != PAGE_VERSION || r_byte(r, &k) < 0 ||
        k >= SB_AGG_KIND_COUNT || r_varint(r, &cnt) < 0 || cnt > SB_AGG_PAGE_MAX)
        return SB_ECORRUPT;
    *kind = (enum sb_agg_kind)k;
    *count = (size_t)cnt;
    return 0;
}

int sb_agg_page_info(const uint8_t *buf, size_t len, enum sb_agg_kind *kind, size_t *n)
{
    struct rbuf r = { .p = buf, .len = buf ? len : 0 };
    return dec_header(&r, kind, n);
}

int sb_agg_page_decode(const uint8_t *buf, size_t len, struct sb_agg *out, size_t cap,
                       size_t *n)
{
    struct rbuf r = { .p = buf, .len = buf ? len : 0 };
    struct cols cs;
    enum sb_agg_kind kind;
    size_t count;
    int64_t last = 0;
    *n = 0;
    if (dec_header(&r, &kind, &count) < 0)
        return SB_ECORRUPT;
    *n = count;
    if (count > cap)
        return SB_ENOSPC;
    for (size_t i = 0; i < count; i += PAGE_BLOCK) {
        size_t b = count - i < PAGE_BLOCK ? count - i : PAGE_BLOCK;
        if (dec_block(&r, &cs, kind, out + i, b, &last, i == 0) < 0)
            return SB_ECORRUPT;
    }
    return r.off == r.len ? 0 : SB_ECORRUPT;
}

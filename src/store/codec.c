/*
 * codec.c - compression of time-series chunks and columns (see codec.h and
 * docs/internals/compression.md for the byte layout and the reasons).
 *
 * Column encoders read, and decoders write, strided arrays so that one
 * implementation serves both the public column API (stride = element size)
 * and struct sb_sample arrays in chunks, without a temporary allocation.
 * Integer arithmetic on deltas is done in uint64_t (wrapping, well defined);
 * decoders check every derived time and value before they store it.
 */
#include "store/codec.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "store/bits.h"

/* The decimal path relies on IEEE 754 double arithmetic rounded once per
 * operation: a decoder elsewhere must compute x / 10^k exactly as here. */
#if defined(__FAST_MATH__) || (defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0)
#error "store/codec.c needs strict IEEE 754 double arithmetic (no -ffast-math, no x87)"
#endif

#define SIGN64 (UINT64_C(1) << 63)
#define P2(w) (UINT64_C(1) << (w))

/* One element of a strided column, as an lvalue / an rvalue. */
#define AT(base, stride, i, type) \
    (*(type *)(void *)((char *)(base) + (i) * (stride)))
#define CAT(base, stride, i, type) \
    (*(const type *)(const void *)((const char *)(base) + (i) * (stride)))

/* Value column modes (low nibble of its header byte; the scale is bits 4-6). */
enum {
    VM_XOR   = 0,   /* Gorilla XOR of the IEEE-754 bits */
    VM_CONST = 1,   /* every value has the same bits: stored once */
    VM_DELTA = 2,   /* decimal: scaled integers, first value then deltas */
    VM_DOD   = 3    /* decimal: first value, first delta, then delta-of-deltas */
};

#define DEC_KMAX 6              /* at most 6 fractional decimal digits */
#define DEC_XMAX P2(53)         /* scaled integers stay within +/- 2^53 (exact in a double) */

/* 10^k, exact in binary64 for k <= 22. */
static const double p10[DEC_KMAX + 1] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6 };

/* ---- integers ---------------------------------------------------------- */

/* Zig-zag on the two's-complement bits (Protocol Buffers encoding guide):
 * small magnitudes of either sign become small unsigned numbers. */
static inline uint64_t zz_u(uint64_t u) { return (u << 1) ^ (0 - (u >> 63)); }
static inline uint64_t unzz_u(uint64_t z) { return (z >> 1) ^ (0 - (z & 1)); }

/* uint64 -> int64 with two's-complement meaning, without relying on the
 * implementation-defined conversion of C17 6.3.1.3p3. */
static inline int64_t u2i(uint64_t u)
{
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

/* Order-preserving map of int64 times onto uint64 (t + 2^63). */
static inline uint64_t tbias(int64_t t) { return (uint64_t)t ^ SIGN64; }

static inline uint64_t dbits(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double bitsd(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof d);
    return d;
}

static inline int bits_finite(uint64_t u)
{
    return (u & UINT64_C(0x7ff0000000000000)) != UINT64_C(0x7ff0000000000000);
}

/* LEB128 (DWARF 4, section 7.6), unsigned: 7 bits a byte, low group first,
 * high bit set on every byte but the last. */
ssize_t sb_varint_put(uint8_t *buf, size_t cap, uint64_t x)
{
    uint8_t tmp[10];
    size_t n = 0;

    do {
        tmp[n++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x);
    if (buf) {
        if (cap < n)
            return SB_ENOSPC;
        memcpy(buf, tmp, n);
    }
    return (ssize_t)n;
}

/* Rejects truncation, more than 64 bits and non-minimal encodings, so every
 * value has exactly one encoding. */
ssize_t sb_varint_get(const uint8_t *buf, size_t len, uint64_t *x)
{
    uint64_t v = 0;

    for (size_t i = 0; i < len && i < 10; i++) {
        uint8_t b = buf[i];

        if (i == 9 && b > 1)
            return SB_ECORRUPT;
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return SB_ECORRUPT;
            *x = v;
            return (ssize_t)(i + 1);
        }
    }
    return SB_ECORRUPT;
}

/* LEB128 through the bit writer, so byte fields and bit fields share one
 * cursor and one out-of-space rule. */
static void bw_varint(struct sb_bitw *w, uint64_t x)
{
    while (x > 0x7f) {
        sb_bitw_put(w, (x & 0x7f) | 0x80, 8);
        x >>= 7;
    }
    sb_bitw_put(w, x, 8);
}

/* Reads a varint at a byte boundary of r: finds the byte offset the reader
 * has reached, decodes there and restarts the reader after the varint. */
static int br_varint(struct sb_bitr *r, uint64_t *x)
{
    size_t off;
    ssize_t k;

    if (r->n % 8 != 0)
        return SB_ECORRUPT;
    off = r->pos - r->n / 8;
    k = sb_varint_get(r->buf + off, r->len - off, x);
    if (k < 0)
        return (int)k;
    sb_bitr_init(r, r->buf, r->len, off + (size_t)k);
    return 0;
}

/* Length of a finished bit writer, or SB_ENOSPC. */
static ssize_t bw_done(struct sb_bitw *w)
{
    size_t len = sb_bitw_finish(w);

    return w->full ? SB_ENOSPC : (ssize_t)len;
}

/* Bytes consumed by a reader that should now be at its end, or SB_ECORRUPT. */
static ssize_t br_done(struct sb_bitr *r)
{
    size_t len = sb_bitr_finish(r);

    return r->err ? SB_ECORRUPT : (ssize_t)len;
}

/* ---- adaptive exponential-Golomb code ------------------------------------ */

/*
 * Deltas and delta-of-deltas are zig-zagged, then written with an
 * exponential-Golomb code of order s (J. Teuhola, "A compression method for
 * clustered bit-vectors", Inf. Proc. Letters 7(6), 1978; the k-th order
 * Exp-Golomb binarization of ITU-T H.264 clause 9.3.2.3): with h = zz >> s
 * and q = floor(log2(h + 1)), q one bits, a zero, the q bits of h + 1 below
 * its leading one, then the s low bits of zz, 2q + 1 + s bits in all.
 * Order 0 spends 1 bit on 0 and 3 bits on +/-1, what Gorilla's
 * delta-of-delta code (Pelkonen et al., VLDB 2015, section 4.1.1) spends on
 * a regular series.  The order is chosen per column from a histogram of bit
 * lengths, as FLAC chooses a Rice parameter per partition, so noisy series
 * (poll jitter, metered power) do not pay for a table sized for others.
 * A prefix of EG_QMAX ones escapes to the 64 raw bits of zz, which bounds
 * every code to EG_MAXBITS.
 */
#define EG_QMAX 16
#define EG_SMAX 56
#define EG_MAXBITS 80   /* max(EG_QMAX + 64, s + 2 * min(EG_QMAX - 1, 64 - s) + 1) */

/* Histogram of code values, to choose the order: h[b] counts the values zz
 * with bitlen(zz + 1) == b (b = 65 for 2^64 - 1), since at order 0 such a
 * value costs exactly 2b - 1 bits. */
struct eg_hist {
    uint64_t h[66];     /* counts by bit length of zz + 1; h[0] unused */
};

static inline unsigned bitlen(uint64_t x)
{
    return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

static inline void eg_count(struct eg_hist *e, uint64_t zz)
{
    e->h[zz == UINT64_MAX ? 65 : bitlen(zz + 1)]++;
}

/* Bits of a code of order s whose h + 1 has q bits after its leading one. */
static inline double eg_bits(unsigned q, unsigned s)
{
    return q >= EG_QMAX ? EG_QMAX + 64 : 2.0 * q + 1 + s;
}

/* Estimated bits of the histogram's values at order s.  For m = zz + 1 in
 * [2^(b-1), 2^b) and s < b, h + 1 = ceil(m / 2^s) has q = b - 1 - s, or one
 * more for the top 2^s - 1 values of m; values are taken as uniform within
 * their band (exact at s = 0).  Only the choice of s depends on this. */
static double eg_estimate(const struct eg_hist *e, unsigned s, unsigned maxb)
{
    double bits = 0;

    for (unsigned b = 1; b <= maxb; b++) {
        double f;

        if (e->h[b] == 0)
            continue;
        if (s >= b) {
            bits += (double)e->h[b] * (1 + s);
            continue;
        }
        f = ldexp((double)(P2(s) - 1), 1 - (int)b);
        bits += (double)e->h[b] * ((1 - f) * eg_bits(b - 1 - s, s) + f * eg_bits(b - s, s));
    }
    return bits;
}

/* The order with the smallest estimate; *bits receives that estimate.
 * Orders above the largest band only add bits, so the search stops there. */
static unsigned eg_choose(const struct eg_hist *e, double *bits)
{
    unsigned maxb = 65, best = 0;

    while (maxb > 1 && e->h[maxb] == 0)
        maxb--;
    *bits = eg_estimate(e, 0, maxb);
    for (unsigned s = 1; s <= maxb && s <= EG_SMAX; s++) {
        double b = eg_estimate(e, s, maxb);

        if (b < *bits) {
            *bits = b;
            best = s;
        } else if (s >= best + 2) {
            /* The estimate is convex in the order (each band's cost is),
             * so two steps past the minimum nothing smaller follows. */
            break;
        }
    }
    return best;
}

static inline void eg_put(struct sb_bitw *w, uint64_t zz, unsigned s)
{
    uint64_t h = zz >> s, lo = zz & (P2(s) - 1);
    unsigned q, nb;

    if (h >= P2(EG_QMAX) - 1) {
        sb_bitw_put(w, P2(EG_QMAX) - 1, EG_QMAX);
        sb_bitw_put64(w, zz, 64);
        return;
    }
    q = bitlen(h + 1) - 1;          /* <= EG_QMAX - 1, so 2q + 1 <= 31 bits */
    nb = 2 * q + 1;
    h = (P2(q) - 1) | (h + 1 - P2(q)) << (q + 1);   /* q ones, a zero, q bits */
    if (nb + s <= 32) {
        sb_bitw_put(w, h | lo << nb, nb + s);
    } else {
        sb_bitw_put(w, h, nb);
        sb_bitw_put64(w, lo, s);
    }
}

/* The rare, long codes: escapes and those longer than 56 bits. */
static uint64_t eg_get_slow(struct sb_bitr *r, unsigned q, unsigned s)
{
    uint64_t h;

    if (q == EG_QMAX) {
        if (!sb_bitr_need(r, EG_QMAX))
            return 0;
        sb_bitr_skip(r, EG_QMAX);
        return sb_bitr_get64(r, 64);
    }
    if (!sb_bitr_need(r, 2 * q + 1))
        return 0;
    h = (r->acc >> (q + 1) & (P2(q) - 1)) + P2(q) - 1;
    sb_bitr_skip(r, 2 * q + 1);
    if (h >> (64 - s)) {            /* s > 0 here: 2q + 1 + s > 56 */
        r->err = 1;
        return 0;
    }
    return h << s | sb_bitr_get64(r, s);
}

/* Reads one code of order s; sets r->err on truncation or on a value that
 * does not fit 64 bits. */
static inline uint64_t eg_get(struct sb_bitr *r, unsigned s)
{
    unsigned q, nb;
    uint64_t h, lo;

    if (r->n < 56)
        sb_bitr_refill(r);
    q = (unsigned)__builtin_ctzll(~r->acc | P2(EG_QMAX));  /* leading ones, capped */
    nb = 2 * q + 1 + s;
    if (q == EG_QMAX || nb > 56)
        return eg_get_slow(r, q, s);
    if (nb > r->n) {
        r->err = 1;
        return 0;
    }
    h = (r->acc >> (q + 1) & (P2(q) - 1)) + P2(q) - 1;
    lo = r->acc >> (2 * q + 1) & (P2(s) - 1);
    sb_bitr_skip(r, nb);
    return h << s | lo;         /* h < 2^(q+1): at most 56 bits in all */
}

/* ---- times ------------------------------------------------------------- */

/* Checks the order of t[0..n) (non-decreasing, or increasing if strict) and
 * chooses the order of the delta-of-delta code from their histogram. */
static int times_plan(const int64_t *t, size_t stride, size_t n, int strict,
                      unsigned *order)
{
    struct eg_hist e;
    uint64_t prev, d = 0;
    double bits;

    memset(&e, 0, sizeof e);
    prev = n ? tbias(CAT(t, stride, 0, int64_t)) : 0;
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = tbias(CAT(t, stride, i, int64_t));

        if (cur < prev || (strict && cur == prev))
            return SB_EINVAL;
        if (i >= 2)
            eg_count(&e, zz_u(cur - prev - d));
        d = cur - prev;
        prev = cur;
    }
    *order = eg_choose(&e, &bits);
    return 0;
}

/* Layout: zig-zag varint t0; if n >= 2 varint (t1 - t0); if n >= 3 the
 * order byte and the code of each delta-of-delta (mod 2^64, read as
 * signed), zero-padded to a byte.  t is sorted (times_plan). */
static ssize_t times_write(uint8_t *buf, size_t cap, const int64_t *t, size_t stride,
                           size_t n, unsigned order)
{
    struct sb_bitw w;
    uint64_t prev, d;

    if (n == 0)
        return 0;
    sb_bitw_init(&w, buf, cap, 0);
    prev = tbias(CAT(t, stride, 0, int64_t));
    bw_varint(&w, zz_u(prev ^ SIGN64));
    d = n >= 2 ? tbias(CAT(t, stride, 1, int64_t)) - prev : 0;
    if (n >= 2)
        bw_varint(&w, d);
    if (n >= 3)
        sb_bitw_put(&w, order, 8);
    prev += d;
    for (size_t i = 2; i < n; i++) {
        uint64_t cur = tbias(CAT(t, stride, i, int64_t));

        eg_put(&w, zz_u(cur - prev - d), order);
        d = cur - prev;
        prev = cur;
    }
    return bw_done(&w);
}

/* Adds delta d to the biased time *cur; fails if the sum leaves int64 or, in
 * strict mode, does not advance. */
static inline int times_step(uint64_t *cur, uint64_t d, int strict)
{
    if (d > UINT64_MAX - *cur || (strict && d == 0))
        return SB_ECORRUPT;
    *cur += d;
    return 0;
}

static inline void put_time(int64_t *t, size_t stride, size_t i, uint64_t biased)
{
    if (t)
        AT(t, stride, i, int64_t) = u2i(biased ^ SIGN64);
}

/* Decodes n times into t (NULL: only check), *last (if not NULL) receives
 * the last one.  Returns the bytes consumed or SB_ECORRUPT. */
static ssize_t times_dec(const uint8_t *buf, size_t len, int64_t *t, size_t stride,
                         size_t n, int strict, int64_t *last)
{
    struct sb_bitr r;
    uint64_t z, cur, d = 0;
    unsigned s = 0;

    if (n == 0)
        return 0;
    sb_bitr_init(&r, buf, len, 0);
    if (br_varint(&r, &z) < 0)
        return SB_ECORRUPT;
    cur = unzz_u(z) ^ SIGN64;
    put_time(t, stride, 0, cur);
    if (n >= 2) {
        if (br_varint(&r, &d) < 0 || times_step(&cur, d, strict) < 0)
            return SB_ECORRUPT;
        put_time(t, stride, 1, cur);
    }
    if (n >= 3 && (s = (unsigned)sb_bitr_get(&r, 8)) > EG_SMAX)
        return SB_ECORRUPT;
    for (size_t i = 2; i < n; i++) {
        d += unzz_u(eg_get(&r, s));
        if (r.err || times_step(&cur, d, strict) < 0)
            return SB_ECORRUPT;
        put_time(t, stride, i, cur);
    }
    if (last)
        *last = u2i(cur ^ SIGN64);
    return br_done(&r);
}

/* ---- values: decimal detection ----------------------------------------- */

/* The decoder's one formula: x / 10^k, correctly rounded (IEEE 754 division),
 * hence the double nearest the decimal, as strtod would give for its text. */
static inline double dec_value(int64_t x, int k)
{
    return (double)x / p10[k];
}

/* Nearest integer to v * 10^k if it is within +/- 2^53.  The rounding
 * method only proposes a candidate: dec_fits() checks it exactly. */
static inline int dec_round(double v, int k, int64_t *x)
{
    double y = v * p10[k];

    if (!(fabs(y) < 0x1p53))
        return 0;
    *x = (int64_t)(y < 0 ? y - 0.5 : y + 0.5);  /* truncation, C17 6.3.1.4 */
    return 1;
}

/* True if v is exactly dec_value(x, k) for the rounded x: bit equality, so
 * -0.0 (which would come back as +0.0) never takes the decimal path. */
static inline int dec_fits(double v, int k, int64_t *x)
{
    return dec_round(v, k, x) && dbits(dec_value(*x, k)) == dbits(v);
}

/* Smallest k <= DEC_KMAX at which every value fits, or -1.  Each value is
 * tried from the k reached so far; when k must grow the scan starts over,
 * since fitting at k does not formally imply fitting at k + 1 (it does
 * except near 2^53), so at most DEC_KMAX restarts, in practice at the first
 * values. */
static int dec_scale(const double *v, size_t stride, size_t n)
{
    int k = 0;
    int64_t x;

    for (size_t i = 0; i < n; i++) {
        double vi = CAT(v, stride, i, double);

        if (dec_fits(vi, k, &x))
            continue;
        while (++k <= DEC_KMAX && !dec_fits(vi, k, &x))
            ;
        if (k > DEC_KMAX)
            return -1;
        i = SIZE_MAX;   /* wraps to 0: check the earlier values at the new k */
    }
    return k;
}

/* Histograms of the codes after the first value, at a scale k where every
 * value fits: *hd of the deltas, *hdd of the first delta then the
 * delta-of-deltas. */
static void dec_hist(const double *v, size_t stride, size_t n, int k,
                     struct eg_hist *hd, struct eg_hist *hdd)
{
    int64_t x = 0, px = 0, pd = 0;   /* |x| <= 2^53: deltas and dods fit int64 */

    memset(hd, 0, sizeof *hd);
    memset(hdd, 0, sizeof *hdd);
    for (size_t i = 0; i < n; i++) {
        int64_t d;

        dec_round(CAT(v, stride, i, double), k, &x);
        d = x - px;
        if (i >= 1) {
            eg_count(hd, sb_zigzag(d));
            eg_count(hdd, sb_zigzag(i >= 2 ? d - pd : d));
        }
        pd = d;
        px = x;
    }
}

/* ---- values: encoders ---------------------------------------------------- */

/* Decimal body: zig-zag varint of the first scaled value, then the code of
 * order s of each delta (or of the first delta and each delta-of-delta). */
static void dec_enc(struct sb_bitw *w, const double *v, size_t stride, size_t n,
                    int k, int dod, unsigned s)
{
    int64_t x = 0, px = 0, pd = 0;

    dec_round(CAT(v, stride, 0, double), k, &px);   /* all fit: dec_scale */
    bw_varint(w, sb_zigzag(px));
    for (size_t i = 1; i < n; i++) {
        int64_t d;

        dec_round(CAT(v, stride, i, double), k, &x);
        d = x - px;
        eg_put(w, sb_zigzag(dod && i >= 2 ? d - pd : d), s);
        pd = d;
        px = x;
    }
}

/*
 * Gorilla XOR (Pelkonen et al., section 4.1.2): first value raw; then per
 * value '0' if it equals the previous one, else '1' and the XOR with the
 * previous: '0' + the bits inside the previous window of meaningful bits,
 * or '1' + 5 bits of leading zeros (capped at 31) + 6 bits of (length - 1)
 * + the meaningful bits.  Unlike the paper, the old window is reused only
 * when that is not longer than opening a new one.
 */
static void xor_enc(struct sb_bitw *w, const double *v, size_t stride, size_t n)
{
    uint64_t prev = dbits(CAT(v, stride, 0, double));
    unsigned plead = 0, plen = 0;   /* previous window; plen 0 = none yet */

    sb_bitw_put64(w, prev, 64);
    for (size_t i = 1; i < n; i++) {
        uint64_t cur = dbits(CAT(v, stride, i, double)), x = cur ^ prev;
        unsigned lz, lead, trail, len;

        prev = cur;
        if (x == 0) {
            sb_bitw_put(w, 0, 1);
            continue;
        }
        lz = (unsigned)__builtin_clzll(x);
        lead = lz > 31 ? 31 : lz;       /* 5 bits */
        trail = (unsigned)__builtin_ctzll(x);
        len = 64 - lead - trail;
        if (plen && lz >= plead && trail >= 64 - plead - plen && plen + 2 <= len + 13) {
            sb_bitw_put(w, 1, 2);                       /* '1', '0' */
            sb_bitw_put64(w, x >> (64 - plead - plen), plen);
        } else {
            sb_bitw_put(w, 3 | lead << 2 | (uint64_t)(len - 1) << 7, 13);
            sb_bitw_put64(w, x >> trail, len);
            plead = lead;
            plen = len;
        }
    }
}

/* Checks finiteness; sets *same if every value has the bits of the first. */
static int values_check(const double *v, size_t stride, size_t n, int *same)
{
    uint64_t b0 = dbits(CAT(v, stride, 0, double));

    *same = 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = dbits(CAT(v, stride, i, double));

        if (!bits_finite(b))
            return SB_EINVAL;
        *same &= b == b0;
    }
    return 0;
}

/* What the encoder chose for a value column. */
struct vplan {
    int      mode;      /* VM_* */
    int      k;         /* decimal scale (VM_DELTA, VM_DOD), else 0 */
    unsigned order;     /* Exp-Golomb order of the decimal codes */
};

/* Checks the values and chooses the mode: CONST if all share their bits,
 * else decimal at the smallest common scale, coding deltas or
 * delta-of-deltas (whichever is estimated smaller), else XOR. */
static int values_plan(const double *v, size_t stride, size_t n, struct vplan *p)
{
    struct eg_hist hd, hdd;
    double bd, bdd;
    unsigned sd, sdd;
    int same, rc;

    p->mode = VM_XOR;
    p->k = 0;
    p->order = 0;
    if (n == 0)
        return 0;
    if ((rc = values_check(v, stride, n, &same)) < 0)
        return rc;
    if (same) {
        p->mode = VM_CONST;
        return 0;
    }
    if ((p->k = dec_scale(v, stride, n)) < 0) {
        p->k = 0;
        return 0;
    }
    dec_hist(v, stride, n, p->k, &hd, &hdd);
    sd = eg_choose(&hd, &bd);
    sdd = eg_choose(&hdd, &bdd);
    p->mode = bdd < bd ? VM_DOD : VM_DELTA;
    p->order = bdd < bd ? sdd : sd;
    return 0;
}

/* Header byte (mode | scale << 4), then the body of the mode: CONST the 8
 * bytes of the value; decimal the order byte and dec_enc(); XOR xor_enc(). */
static ssize_t values_write(uint8_t *buf, size_t cap, const double *v, size_t stride,
                            size_t n, const struct vplan *p)
{
    struct sb_bitw w;

    if (n == 0)
        return 0;
    sb_bitw_init(&w, buf, cap, 0);
    sb_bitw_put(&w, (uint64_t)p->mode | (uint64_t)p->k << 4, 8);
    if (p->mode == VM_CONST) {
        sb_bitw_put64(&w, dbits(CAT(v, stride, 0, double)), 64);
    } else if (p->mode == VM_XOR) {
        xor_enc(&w, v, stride, n);
    } else {
        sb_bitw_put(&w, p->order, 8);
        dec_enc(&w, v, stride, n, p->k, p->mode == VM_DOD, p->order);
    }
    return bw_done(&w);
}

/* ---- values: decoders ---------------------------------------------------- */

static inline void put_value(double *v, size_t stride, size_t i, double x)
{
    if (v)
        AT(v, stride, i, double) = x;
}

static int const_dec(struct sb_bitr *r, double *v, size_t stride, size_t n)
{
    uint64_t b = sb_bitr_get64(r, 64);

    if (r->err || !bits_finite(b))
        return SB_ECORRUPT;
    for (size_t i = 0; i < n; i++)
        put_value(v, stride, i, bitsd(b));
    return 0;
}

static int dec_dec(struct sb_bitr *r, double *v, size_t stride, size_t n, int k, int dod)
{
    uint64_t x, d = 0, s;   /* wrapping arithmetic; x is range-checked */
    unsigned order = (unsigned)sb_bitr_get(r, 8);

    if (r->err || order > EG_SMAX || br_varint(r, &x) < 0)
        return SB_ECORRUPT;
    x = unzz_u(x);
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            s = unzz_u(eg_get(r, order));
            d = dod && i >= 2 ? d + s : s;
            x += d;
        }
        if (r->err || x + DEC_XMAX > 2 * DEC_XMAX)
            return SB_ECORRUPT;
        put_value(v, stride, i, dec_value(u2i(x), k));
    }
    return 0;
}

/* Reads one XOR control sequence and updates the window; returns the XOR. */
static inline uint64_t xor_next(struct sb_bitr *r, unsigned *plead, unsigned *plen)
{
    if (sb_bitr_get(r, 1) == 0)
        return 0;
    if (sb_bitr_get(r, 1) != 0) {
        unsigned lead = (unsigned)sb_bitr_get(r, 5);
        unsigned len = (unsigned)sb_bitr_get(r, 6) + 1;

        if (lead + len > 64) {
            r->err = 1;
            return 0;
        }
        *plead = lead;
        *plen = len;
    } else if (*plen == 0) {
        r->err = 1;             /* window reuse before any window */
        return 0;
    }
    return sb_bitr_get64(r, *plen) << (64 - *plead - *plen);
}

static int xor_dec(struct sb_bitr *r, double *v, size_t stride, size_t n)
{
    uint64_t cur = sb_bitr_get64(r, 64);
    unsigned plead = 0, plen = 0;

    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            cur ^= xor_next(r, &plead, &plen);
        if (r->err || !bits_finite(cur))
            return SB_ECORRUPT;
        put_value(v, stride, i, bitsd(cur));
    }
    return 0;
}

static ssize_t values_dec(const uint8_t *buf, size_t len, double *v, size_t stride, size_t n)
{
    struct sb_bitr r;
    unsigned hdr, mode, k;
    int rc;

    if (n == 0)
        return 0;
    sb_bitr_init(&r, buf, len, 0);
    hdr = (unsigned)sb_bitr_get(&r, 8);
    mode = hdr & 0x0f;
    k = hdr >> 4;
    if (r.err || k > DEC_KMAX || (k != 0 && mode != VM_DELTA && mode != VM_DOD))
        return SB_ECORRUPT;
    switch (mode) {
    case VM_CONST: rc = const_dec(&r, v, stride, n); break;
    case VM_DELTA: rc = dec_dec(&r, v, stride, n, (int)k, 0); break;
    case VM_DOD:   rc = dec_dec(&r, v, stride, n, (int)k, 1); break;
    case VM_XOR:   rc = xor_dec(&r, v, stride, n); break;
    default:       rc = SB_ECORRUPT; break;
    }
    return rc < 0 ? rc : br_done(&r);
}

/* ---- quality flags --------------------------------------------------------- */

/* Runs of equal flags: (flags varint, run length varint) until n are covered. */
static ssize_t u16s_enc(uint8_t *buf, size_t cap, const uint16_t *q, size_t stride, size_t n)
{
    struct sb_bitw w;

    sb_bitw_init(&w, buf, cap, 0);
    for (size_t i = 0, run; i < n; i += run) {
        uint16_t x = CAT(q, stride, i, uint16_t);

        for (run = 1; i + run < n && CAT(q, stride, i + run, uint16_t) == x; run++)
            ;
        bw_varint(&w, x);
        bw_varint(&w, run);
    }
    return bw_done(&w);
}

static ssize_t u16s_dec(const uint8_t *buf, size_t len, uint16_t *q, size_t stride, size_t n)
{
    size_t pos = 0;

    for (size_t i = 0; i < n;) {
        uint64_t x, run;
        ssize_t a, b;

        a = sb_varint_get(buf + pos, len - pos, &x);
        if (a < 0)
            return SB_ECORRUPT;
        pos += (size_t)a;
        b = sb_varint_get(buf + pos, len - pos, &run);
        if (b < 0 || x > UINT16_MAX || run == 0 || run > n - i)
            return SB_ECORRUPT;
        pos += (size_t)b;
        for (size_t j = 0; q && j < run; j++)
            AT(q, stride, i + j, uint16_t) = (uint16_t)x;
        i += (size_t)run;
    }
    return (ssize_t)pos;
}

/* ---- public column API ----------------------------------------------------- */

ssize_t sb_codec_put_times(uint8_t *buf, size_t cap, const int64_t *t, size_t n)
{
    unsigned order;
    int rc = times_plan(t, sizeof *t, n, 0, &order);

    return rc < 0 ? rc : times_write(buf, cap, t, sizeof *t, n, order);
}

ssize_t sb_codec_get_times(const uint8_t *buf, size_t len, int64_t *t, size_t n)
{
    return times_dec(buf, len, t, sizeof *t, n, 0, NULL);
}

ssize_t sb_codec_put_values(uint8_t *buf, size_t cap, const double *v, size_t n)
{
    struct vplan p;
    int rc = values_plan(v, sizeof *v, n, &p);

    return rc < 0 ? rc : values_write(buf, cap, v, sizeof *v, n, &p);
}

ssize_t sb_codec_get_values(const uint8_t *buf, size_t len, double *v, size_t n)
{
    return values_dec(buf, len, v, sizeof *v, n);
}

ssize_t sb_codec_put_u16s(uint8_t *buf, size_t cap, const uint16_t *q, size_t n)
{
    return u16s_enc(buf, cap, q, sizeof *q, n);
}

ssize_t sb_codec_get_u16s(const uint8_t *buf, size_t len, uint16_t *q, size_t n)
{
    return u16s_dec(buf, len, q, sizeof *q, n);
}

/* ---- chunks ---------------------------------------------------------------- */

/* Worst cases per sample: a time code and a value code of at most
 * EG_MAXBITS (80) bits each (XOR: 13 + 64), flags 3 + 1 bytes (a run of
 * one); plus version, count, t0, t1 - t0, order bytes, value header, the
 * first value and padding, all within 64 bytes. */
size_t sb_chunk_bound(size_t n)
{
    if (n > (SIZE_MAX - 64) / 24)
        return SIZE_MAX;
    return 64 + 24 * n;
}

/* Version byte and count: SB_ECORRUPT unless the version is known and the
 * count is at most SB_CHUNK_MAX_SAMPLES and could fit in len bytes (every
 * sample after the second costs at least one bit of time). */
static int chunk_header(const uint8_t *buf, size_t len, size_t *n, size_t *pos)
{
    uint64_t cnt;
    ssize_t k;

    if (len < 2 || buf[0] != SB_CHUNK_VERSION)
        return SB_ECORRUPT;
    k = sb_varint_get(buf + 1, len - 1, &cnt);
    if (k < 0 || cnt > SB_CHUNK_MAX_SAMPLES || (cnt > 2 && (cnt - 2) / 8 >= len))
        return SB_ECORRUPT;
    *n = (size_t)cnt;
    *pos = 1 + (size_t)k;
    return 0;
}

int sb_chunk_count(const uint8_t *buf, size_t len, size_t *n)
{
    size_t pos;

    return chunk_header(buf, len, n, &pos);
}

/* Adds a column's result r to *pos; returns r if negative. */
static inline ssize_t advance(size_t *pos, ssize_t r)
{
    if (r >= 0)
        *pos += (size_t)r;
    return r;
}

/* Writes column col (0 times, 1 values, 2 flags) of s into buf at pos. */
static ssize_t chunk_col(uint8_t *buf, size_t cap, size_t pos, int col,
                         const struct sb_sample *s, size_t n,
                         unsigned torder, const struct vplan *vp)
{
    uint8_t *o = buf ? buf + pos : NULL;
    size_t oc = buf ? cap - pos : 0;

    switch (col) {
    case 0:  return times_write(o, oc, &s->t, sizeof *s, n, torder);
    case 1:  return values_write(o, oc, &s->v, sizeof *s, n, vp);
    default: return u16s_enc(o, oc, &s->q, sizeof *s, n);
    }
}

/* Plans both columns first, so that SB_EINVAL wins over SB_ENOSPC and
 * nothing is checked twice. */
ssize_t sb_chunk_encode(uint8_t *buf, size_t cap, const struct sb_sample *s, size_t n)
{
    struct sb_bitw w;
    struct vplan vp;
    unsigned torder = 0;
    size_t pos;
    ssize_t r;

    if (n > SB_CHUNK_MAX_SAMPLES || (n > 0 && !s))
        return SB_EINVAL;
    if (n > 0 && (times_plan(&s->t, sizeof *s, n, 1, &torder) < 0 ||
                  values_plan(&s->v, sizeof *s, n, &vp) < 0))
        return SB_EINVAL;
    sb_bitw_init(&w, buf, cap, 0);
    sb_bitw_put(&w, SB_CHUNK_VERSION, 8);
    bw_varint(&w, n);
    if ((r = bw_done(&w)) < 0 || n == 0)
        return r;
    pos = (size_t)r;
    for (int col = 0; col < 3; col++) {
        if ((r = chunk_col(buf, cap, pos, col, s, n, torder, &vp)) < 0)
            return r;
        pos += (size_t)r;
    }
    return (ssize_t)pos;
}

int sb_chunk_decode(const uint8_t *buf, size_t len, struct sb_sample *out, size_t cap, size_t *n)
{
    const size_t st = sizeof *out;
    size_t cnt, pos;
    int rc;

    *n = 0;
    if ((rc = chunk_header(buf, len, &cnt, &pos)) < 0)
        return rc;
    if (cnt > cap) {
        *n = cnt;
        return SB_ENOSPC;
    }
    if (cnt > 0 &&
        (advance(&pos, times_dec(buf + pos, len - pos, &out->t, st, cnt, 1, NULL)) < 0 ||
         advance(&pos, values_dec(buf + pos, len - pos, &out->v, st, cnt)) < 0 ||
         advance(&pos, u16s_dec(buf + pos, len - pos, &out->q, st, cnt)) < 0))
        return SB_ECORRUPT;
    if (pos != len)
        return SB_ECORRUPT;
    *n = cnt;
    return 0;
}

int sb_chunk_span(const uint8_t *buf, size_t len, int64_t *first, int64_t *last)
{
    size_t cnt, pos;
    uint64_t z;
    int rc;

    if ((rc = chunk_header(buf, len, &cnt, &pos)) < 0)
        return rc;
    if (cnt == 0)
        return SB_ENOENT;
    if (sb_varint_get(buf + pos, len - pos, &z) < 0 ||
        times_dec(buf + pos, len - pos, NULL, 0, cnt, 1, last) < 0)
        return SB_ECORRUPT;
    *first = sb_unzigzag(z);
    return 0;
}

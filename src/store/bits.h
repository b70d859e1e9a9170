/*
 * bits.h - little-endian bit writer and bounded bit reader for the column
 * codecs in store/codec.c (owned by the codec; nothing else should need it).
 *
 * Bits are packed LSB first: the first bit written is bit 0 of byte 0, so a
 * value of k bits put at bit offset o occupies bits o..o+k-1 of the stream
 * read as one little-endian integer.  That order lets the reader keep a
 * 64-bit window and use one shift per field ("variant 4" in F. Giesen,
 * "Reading bits in far too many ways", 2018), and lets unary prefixes be
 * counted with a single count-trailing-zeros.
 *
 * The writer never writes past cap: when the output does not fit (or buf is
 * NULL) it keeps counting bytes so the caller learns the length it needs.
 * The reader never reads past len: a request for bits that are not there sets
 * a sticky err flag and yields zeros, so a decoder can check err once per
 * sample or once at the end.  Both are plain structs on the caller's stack;
 * they own nothing.
 */
#ifndef SB_BITS_H
#define SB_BITS_H

#include <stddef.h>
#include <stdint.h>

/* Bit writer over a caller-owned buffer. */
struct sb_bitw {
    uint8_t *buf;   /* output, or NULL to only count */
    size_t   cap;   /* bytes available at buf */
    size_t   pos;   /* bytes produced so far, counted even when they did not fit */
    uint64_t acc;   /* pending bits, LSB first; only the low n are meaningful */
    unsigned n;     /* pending bits in acc, < 32 between calls */
    int      full;  /* set once a byte did not fit in cap */
};

/* Bit reader over a caller-owned buffer. */
struct sb_bitr {
    const uint8_t *buf; /* input */
    size_t   len;       /* bytes available at buf */
    size_t   pos;       /* bytes already loaded into acc */
    uint64_t acc;       /* the next bits, LSB first; low n are valid */
    unsigned n;         /* valid bits in acc (< 64) */
    int      err;       /* sticky: a read wanted bits beyond len */
};

static inline void sb_bitw_init(struct sb_bitw *w, uint8_t *buf, size_t cap, size_t pos)
{
    w->buf = buf;
    w->cap = cap;
    w->pos = pos;
    w->acc = 0;
    w->n = 0;
    w->full = 0;
}

/* Emits one byte (or only counts it). */
static inline void sb_bitw__byte(struct sb_bitw *w, uint8_t b)
{
    if (w->buf && w->pos < w->cap)
        w->buf[w->pos] = b;
    else if (w->buf)
        w->full = 1;
    w->pos++;
}

/* Moves the low 32 pending bits to the output. */
static inline void sb_bitw__flush32(struct sb_bitw *w)
{
    uint32_t x = (uint32_t)w->acc;

    if (w->buf && w->pos <= w->cap && w->cap - w->pos >= 4) {
        uint8_t *p = w->buf + w->pos;   /* byte stores: endian-neutral, merged by the compiler */
        p[0] = (uint8_t)x;
        p[1] = (uint8_t)(x >> 8);
        p[2] = (uint8_t)(x >> 16);
        p[3] = (uint8_t)(x >> 24);
    } else if (w->buf) {
        w->full = 1;
    }
    w->pos += 4;
    w->acc >>= 32;
    w->n -= 32;
}

/* Appends the k low bits of v (k <= 32, v < 2^k). */
static inline void sb_bitw_put(struct sb_bitw *w, uint64_t v, unsigned k)
{
    w->acc |= v << w->n;    /* n < 32 and v < 2^32: fits in 64 bits */
    w->n += k;
    if (w->n >= 32)
        sb_bitw__flush32(w);
}

/* Appends the k low bits of v for any k <= 64 (v < 2^k). */
static inline void sb_bitw_put64(struct sb_bitw *w, uint64_t v, unsigned k)
{
    if (k > 32) {
        sb_bitw_put(w, v & 0xffffffffu, 32);
        v >>= 32;
        k -= 32;
    }
    sb_bitw_put(w, v, k);
}

/* Pads the last byte with zero bits and returns the total length in bytes. */
static inline size_t sb_bitw_finish(struct sb_bitw *w)
{
    while (w->n > 0) {
        sb_bitw__byte(w, (uint8_t)w->acc);
        w->acc >>= 8;
        w->n = w->n > 8 ? w->n - 8 : 0;
    }
    return w->pos;
}

static inline void sb_bitr_init(struct sb_bitr *r, const uint8_t *buf, size_t len, size_t pos)
{
    r->buf = buf;
    r->len = len;
    r->pos = pos;
    r->acc = 0;
    r->n = 0;
    r->err = 0;
}

/* Tops acc up to at least 56 valid bits when the input has them.  Fast path:
 * load 8 bytes and OR them in at bit n; bits above the new n may hold part of
 * the next byte, which the next refill ORs in again at the same place. */
static inline void sb_bitr_refill(struct sb_bitr *r)
{
    if (r->len - r->pos >= 8) {
        const uint8_t *p = r->buf + r->pos;
        uint64_t x = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
                     (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
                     (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
        r->acc |= x << r->n;
        r->pos += (63 - r->n) >> 3;
        r->n |= 56;
        return;
    }
    while (r->n <= 56 && r->pos < r->len) {
        r->acc |= (uint64_t)r->buf[r->pos++] << r->n;
        r->n += 8;
    }
}

/* Makes sure k (<= 56) bits are buffered; sets err and returns 0 if the
 * input ends first. */
static inline int sb_bitr_need(struct sb_bitr *r, unsigned k)
{
    if (r->n >= k)
        return 1;
    sb_bitr_refill(r);
    if (r->n >= k)
        return 1;
    r->err = 1;
    return 0;
}

/* Drops k (<= n) buffered bits. */
static inline void sb_bitr_skip(struct sb_bitr *r, unsigned k)
{
    r->acc >>= k;
    r->n -= k;
}

/* Reads k <= 56 bits; 0 (and err set) past the end. */
static inline uint64_t sb_bitr_get(struct sb_bitr *r, unsigned k)
{
    uint64_t v;

    if (!sb_bitr_need(r, k))
        return 0;
    v = r->acc & ((UINT64_C(1) << k) - 1);
    sb_bitr_skip(r, k);
    return v;
}

/* Reads k <= 64 bits. */
static inline uint64_t sb_bitr_get64(struct sb_bitr *r, unsigned k)
{
    uint64_t lo;

    if (k <= 32)
        return sb_bitr_get(r, k);
    lo = sb_bitr_get(r, 32);
    return lo | sb_bitr_get(r, k - 32) << 32;
}

/* Skips the padding up to the next byte boundary, which must be zero bits,
 * and returns the offset of that boundary; err is set (and 0 returned) if
 * the padding is not zero or a read failed earlier. */
static inline size_t sb_bitr_finish(struct sb_bitr *r)
{
    unsigned pad = r->n & 7;    /* pos*8 is a byte boundary, so n%8 bits remain of the current byte */

    if (r->err || (r->acc & ((UINT64_C(1) << pad) - 1)) != 0) {
        r->err = 1;
        return 0;
    }
    return r->pos - r->n / 8;
}

#endif /* SB_BITS_H */

/*
 * tag.c - BACnet tag headers, opening/closing tags, element skipping and the
 * shared writer/reader cursors (ANSI/ASHRAE 135, clause 20.2.1).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"

/* LVT values with a special meaning, clause 20.2.1.3. */
enum { LVT_EXT_LEN = 5, LVT_OPEN = 6, LVT_CLOSE = 7 };
/* Extended length markers in the octet after LVT 5, clause 20.2.1.3.1. */
enum { XLEN_16 = 254, XLEN_32 = 255 };
/* Nesting bound for sb_bac_skip: far above any real BACnet construct, low
 * enough that a hostile packet cannot make us count to 2^32. */
enum { MAX_DEPTH = 64 };

void sb_bac__w_init(struct sb_bac__w *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->n = 0;
    w->err = 0;
}

ssize_t sb_bac__w_done(const struct sb_bac__w *w)
{
    return w->err ? w->err : (ssize_t)w->n;
}

void sb_bac__w_fail(struct sb_bac__w *w, int err)
{
    if (!w->err)
        w->err = err;
}

void sb_bac__w_put(struct sb_bac__w *w, const void *p, size_t k)
{
    if (w->buf && !w->err) {
        if (k > w->cap - w->n) {
            w->err = SB_ENOSPC;
            return;
        }
        if (k)
            memmove(w->buf + w->n, p, k);
    }
    w->n += k;
}

void sb_bac__w_u8(struct sb_bac__w *w, uint8_t v)
{
    sb_bac__w_put(w, &v, 1);
}

void sb_bac__w_u16(struct sb_bac__w *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

    sb_bac__w_put(w, b, 2);
}

/* Clause 20.2.1.3.1: lengths 0-4 in LVT, else 5 then 1, 1+2 or 1+4 octets. */
static void w_ext_len(struct sb_bac__w *w, uint32_t len)
{
    if (len < XLEN_16) {
        sb_bac__w_u8(w, (uint8_t)len);
    } else if (len <= 0xFFFF) {
        sb_bac__w_u8(w, XLEN_16);
        sb_bac__w_u16(w, (uint16_t)len);
    } else {
        uint8_t b[5] = { XLEN_32, (uint8_t)(len >> 24), (uint8_t)(len >> 16),
                         (uint8_t)(len >> 8), (uint8_t)len };
        sb_bac__w_put(w, b, 5);
    }
}

/* Clause 20.2.1: initial octet = tag number (4 bits, 15 = extended in the
 * next octet, clause 20.2.1.2), class bit, LVT (3 bits). */
void sb_bac__w_tag(struct sb_bac__w *w, const struct sb_bac_tag *t)
{
    uint8_t lvt, first;

    if (t->number == 255 || (t->kind != SB_BAC_TAG_PRIM && !t->context)) {
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    if (t->kind == SB_BAC_TAG_OPEN)
        lvt = LVT_OPEN;
    else if (t->kind == SB_BAC_TAG_CLOSE)
        lvt = LVT_CLOSE;
    else
        lvt = t->lvt <= 4 ? (uint8_t)t->lvt : LVT_EXT_LEN;
    first = (uint8_t)((t->number < 15 ? t->number : 15) << 4);
    first |= (uint8_t)((t->context ? 0x08 : 0) | lvt);
    sb_bac__w_u8(w, first);
    if (t->number >= 15)
        sb_bac__w_u8(w, t->number);
    if (lvt == LVT_EXT_LEN)
        w_ext_len(w, t->lvt);
}

ssize_t sb_bac_enc_tag(uint8_t *buf, size_t cap, const struct sb_bac_tag *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_tag(&w, in);
    return sb_bac__w_done(&w);
}

size_t sb_bac_tag_content_len(const struct sb_bac_tag *t)
{
    if (t->kind != SB_BAC_TAG_PRIM)
        return 0;
    if (!t->context && t->number == SB_BAC_BOOLEAN)
        return 0;   /* clause 20.2.3: the value is in LVT */
    return t->lvt;
}

/* Clause 20.2.1.3.1: the extended length after LVT 5, at buf[*off]. */
static int dec_ext_len(const uint8_t *buf, size_t len, size_t *off, uint32_t *out)
{
    size_t o = *off, k;
    uint32_t v = 0;

    if (o >= len)
        return SB_ECORRUPT;
    if (buf[o] < XLEN_16) {
        *out = buf[o];
        *off = o + 1;
        return 0;
    }
    k = buf[o] == XLEN_16 ? 2 : 4;
    if (len - o - 1 < k)
        return SB_ECORRUPT;
    for (size_t i = 0; i < k; i++)
        v = (v << 8) | buf[o + 1 + i];
    *out = v;
    *off = o + 1 + k;
    return 0;
}

ssize_t sb_bac_dec_tag(const uint8_t *buf, size_t len, struct sb_bac_tag *out)
{
    size_t off = 1;
    uint8_t lvt;
    int rc;

    if (len < 1)
        return SB_ECORRUPT;
    out->number = buf[0] >> 4;
    out->context = (buf[0] & 0x08) != 0;
    lvt = buf[0] & 0x07;
    if (out->number == 15) {
        if (len < 2)
            return SB_ECORRUPT;
        if (buf[1] == 255)
            return SB_EPROTO;   /* clause 20.2.1.2: reserved */
        out->number = buf[1];
        off = 2;
    }
    out->kind = SB_BAC_TAG_PRIM;
    out->lvt = lvt;
    if (out->context && (lvt == LVT_OPEN || lvt == LVT_CLOSE)) {
        out->kind = lvt == LVT_OPEN ? SB_BAC_TAG_OPEN : SB_BAC_TAG_CLOSE;
        out->lvt = 0;
    } else if (!out->context && out->number == SB_BAC_BOOLEAN) {
        if (lvt > 1)
            return SB_EPROTO;   /* clause 20.2.3: 0 or 1 only */
    } else if (lvt == LVT_EXT_LEN) {
        if ((rc = dec_ext_len(buf, len, &off, &out->lvt)) < 0)
            return rc;
    } else if (lvt > LVT_EXT_LEN) {
        return SB_EPROTO;       /* LVT 6/7 are reserved in application tags */
    }
    if (sb_bac_tag_content_len(out) > len - off)
        return SB_ECORRUPT;
    return (ssize_t)off;
}

static ssize_t enc_openclose(uint8_t *buf, size_t cap, uint8_t tag, uint8_t kind)
{
    struct sb_bac_tag t = { .number = tag, .context = true, .kind = kind };

    return sb_bac_enc_tag(buf, cap, &t);
}

ssize_t sb_bac_enc_open(uint8_t *buf, size_t cap, uint8_t tag)
{
    return enc_openclose(buf, cap, tag, SB_BAC_TAG_OPEN);
}

ssize_t sb_bac_enc_close(uint8_t *buf, size_t cap, uint8_t tag)
{
    return enc_openclose(buf, cap, tag, SB_BAC_TAG_CLOSE);
}

void sb_bac__w_open(struct sb_bac__w *w, uint8_t tag)
{
    struct sb_bac_tag t = { .number = tag, .context = true, .kind = SB_BAC_TAG_OPEN };

    sb_bac__w_tag(w, &t);
}

void sb_bac__w_close(struct sb_bac__w *w, uint8_t tag)
{
    struct sb_bac_tag t = { .number = tag, .context = true, .kind = SB_BAC_TAG_CLOSE };

    sb_bac__w_tag(w, &t);
}

/* Clause 20.2.1.3.2: an opening tag starts a constructed element that ends
 * at the closing tag with the same number at the same depth. */
ssize_t sb_bac_skip(const uint8_t *buf, size_t len)
{
    uint8_t stack[MAX_DEPTH];
    size_t off = 0, depth = 0;
    struct sb_bac_tag t;
    ssize_t h;

    do {
        if ((h = sb_bac_dec_tag(buf + off, len - off, &t)) < 0)
            return h;
        off += (size_t)h + sb_bac_tag_content_len(&t);
        if (t.kind == SB_BAC_TAG_OPEN) {
            if (depth == MAX_DEPTH)
                return SB_EPROTO;
            stack[depth++] = t.number;
        } else if (t.kind == SB_BAC_TAG_CLOSE) {
            if (depth == 0 || stack[depth - 1] != t.number)
                return SB_EPROTO;
            depth--;
        }
    } while (depth > 0);
    return (ssize_t)off;
}

ssize_t sb_bac_dec_constructed(const uint8_t *buf, size_t len, uint8_t tag,
                               const uint8_t **inner, size_t *inner_len)
{
    struct sb_bac_tag t;
    ssize_t h, n;

    if ((h = sb_bac_dec_tag(buf, len, &t)) < 0)
        return h;
    if (t.kind != SB_BAC_TAG_OPEN || t.number != tag)
        return SB_EPROTO;
    if ((n = sb_bac_skip(buf, len)) < 0)
        return n;
    /* the closing tag is as long as the opening tag (same number) */
    *inner = buf + h;
    *inner_len = (size_t)(n - 2 * h);
    return n;
}

bool sb_bac__r_peek_ctx(const struct sb_bac__r *r, uint8_t tag)
{
    struct sb_bac_tag t;

    return sb_bac_dec_tag(r->p + r->off, sb_bac__r_left(r), &t) > 0 &&
           t.context && t.kind == SB_BAC_TAG_PRIM && t.number == tag;
}

bool sb_bac__r_peek_open(const struct sb_bac__r *r, uint8_t tag)
{
    struct sb_bac_tag t;

    return sb_bac_dec_tag(r->p + r->off, sb_bac__r_left(r), &t) > 0 &&
           t.kind == SB_BAC_TAG_OPEN && t.number == tag;
}

int sb_bac__r_constructed(struct sb_bac__r *r, uint8_t tag,
                          const uint8_t **inner, size_t *inner_len)
{
    ssize_t n = sb_bac_dec_constructed(r->p + r->off, sb_bac__r_left(r), tag,
                                       inner, inner_len);

    if (n < 0)
        return (int)n;
    r->off += (size_t)n;
    return 0;
}

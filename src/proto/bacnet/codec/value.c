/*
 * value.c - BACnet primitive values, application- and context-tagged
 * (ANSI/ASHRAE 135, clauses 20.2.2-20.2.15).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/codec_int.h"

/* Date and Time are copied as their four wire octets, in field order. */
_Static_assert(sizeof(struct sb_bac_date) == 4, "sb_bac_date must be 4 octets");
_Static_assert(sizeof(struct sb_bac_time) == 4, "sb_bac_time must be 4 octets");

/* Octets of the minimal big-endian encoding of u (clause 20.2.4). */
static size_t uint_len(uint64_t u)
{
    size_t n = 1;

    while (n < 8 && (u >> (8 * n)) != 0)
        n++;
    return n;
}

/* Octets of the minimal two's complement encoding of i (clause 20.2.5):
 * the smallest n whose sign-extended value equals i. */
static size_t sint_len(int64_t i)
{
    for (size_t n = 1; n < 8; n++) {
        int64_t lo = -((int64_t)1 << (8 * n - 1));
        int64_t hi = ((int64_t)1 << (8 * n - 1)) - 1;
        if (i >= lo && i <= hi)
            return n;
    }
    return 8;
}

static void w_be(struct sb_bac__w *w, uint64_t v, size_t n)
{
    uint8_t b[8];

    for (size_t k = 0; k < n; k++)
        b[k] = (uint8_t)(v >> (8 * (n - 1 - k)));
    sb_bac__w_put(w, b, n);
}

static uint64_t r_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;

    for (size_t k = 0; k < n; k++)
        v = (v << 8) | p[k];
    return v;
}

/* Content length of v (not counting the tag), or a negative SB_EINVAL. */
static ssize_t content_len(const struct sb_bac_value *v)
{
    switch (v->type) {
    case SB_BAC_NULL:         return 0;
    case SB_BAC_BOOLEAN:      return 1;   /* context form; app form has 0 */
    case SB_BAC_UNSIGNED:     return (ssize_t)uint_len(v->v.u);
    case SB_BAC_SIGNED:       return (ssize_t)sint_len(v->v.i);
    case SB_BAC_REAL:         return 4;
    case SB_BAC_DOUBLE:       return 8;
    case SB_BAC_OCTET_STRING: return (ssize_t)v->v.octets.len;
    case SB_BAC_CHAR_STRING:  return (ssize_t)v->v.str.len + 1;
    case SB_BAC_BIT_STRING:   return (ssize_t)((v->v.bits.nbits + 7) / 8) + 1;
    case SB_BAC_ENUMERATED:   return (ssize_t)uint_len(v->v.enumerated);
    case SB_BAC_DATE:
    case SB_BAC_TIME:
    case SB_BAC_OBJECT_ID:    return 4;
    default:                  return SB_EINVAL;
    }
}

/* Clause 20.2.10: the first octet is the count of unused bits (0-7) in the
 * last octet; unused bits are sent as zero. */
static void w_bits(struct sb_bac__w *w, const struct sb_bac_bits *b)
{
    size_t nbytes = (b->nbits + 7) / 8;
    uint8_t unused = (uint8_t)(nbytes * 8 - b->nbits);

    sb_bac__w_u8(w, unused);
    if (nbytes == 0)
        return;
    sb_bac__w_put(w, b->p, nbytes - 1);
    sb_bac__w_u8(w, (uint8_t)(b->p[nbytes - 1] & (0xFF << unused)));
}

static void w_oid(struct sb_bac__w *w, struct sb_bac_oid oid)
{
    if (oid.type > 1023 || oid.instance > SB_BAC_MAX_INSTANCE)
        sb_bac__w_fail(w, SB_EINVAL);
    w_be(w, ((uint64_t)oid.type << 22) | oid.instance, 4);
}

static void w_content(struct sb_bac__w *w, const struct sb_bac_value *v)
{
    uint32_t f32;
    uint64_t f64;

    switch (v->type) {
    case SB_BAC_BOOLEAN:      sb_bac__w_u8(w, v->v.boolean ? 1 : 0); break;
    case SB_BAC_UNSIGNED:     w_be(w, v->v.u, uint_len(v->v.u)); break;
    case SB_BAC_SIGNED:       w_be(w, (uint64_t)v->v.i, sint_len(v->v.i)); break;
    case SB_BAC_REAL:
        memcpy(&f32, &v->v.real, 4);   /* clause 20.2.6: IEEE-754 big-endian */
        w_be(w, f32, 4);
        break;
    case SB_BAC_DOUBLE:
        memcpy(&f64, &v->v.dbl, 8);
        w_be(w, f64, 8);
        break;
    case SB_BAC_OCTET_STRING: sb_bac__w_put(w, v->v.octets.p, v->v.octets.len); break;
    case SB_BAC_CHAR_STRING:
        if (v->v.str.charset > SB_BAC_CS_LATIN1)
            sb_bac__w_fail(w, SB_EINVAL);
        sb_bac__w_u8(w, v->v.str.charset);
        sb_bac__w_put(w, v->v.str.p, v->v.str.len);
        break;
    case SB_BAC_BIT_STRING:   w_bits(w, &v->v.bits); break;
    case SB_BAC_ENUMERATED:   w_be(w, v->v.enumerated, uint_len(v->v.enumerated)); break;
    case SB_BAC_DATE:
        sb_bac__w_put(w, &v->v.date, 4);   /* four uint8_t fields, in order */
        break;
    case SB_BAC_TIME:         sb_bac__w_put(w, &v->v.time, 4); break;
    case SB_BAC_OBJECT_ID:    w_oid(w, v->v.oid); break;
    default:                  break;       /* Null has no content */
    }
}

/* Shared by the application and context forms: tag then content. */
static void w_value(struct sb_bac__w *w, bool context, uint8_t tag,
                    const struct sb_bac_value *v)
{
    struct sb_bac_tag t = { .number = tag, .context = context, .kind = SB_BAC_TAG_PRIM };
    ssize_t n = content_len(v);

    if (n < 0 || (v->type == SB_BAC_BIT_STRING && v->v.bits.nbits && !v->v.bits.p)) {
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    if (!context && v->type == SB_BAC_BOOLEAN) {
        t.lvt = v->v.boolean ? 1 : 0;   /* clause 20.2.3: value in LVT */
        sb_bac__w_tag(w, &t);
        return;
    }
    if ((uint64_t)n > UINT32_MAX) {
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    t.lvt = (uint32_t)n;
    sb_bac__w_tag(w, &t);
    w_content(w, v);
}

void sb_bac__w_app(struct sb_bac__w *w, const struct sb_bac_value *v)
{
    w_value(w, false, v->type, v);
}

void sb_bac__w_ctx(struct sb_bac__w *w, uint8_t tag, const struct sb_bac_value *v)
{
    w_value(w, true, tag, v);
}

ssize_t sb_bac_enc_app(uint8_t *buf, size_t cap, const struct sb_bac_value *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_app(&w, in);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_enc_ctx(uint8_t *buf, size_t cap, uint8_t tag,
                       const struct sb_bac_value *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_ctx(&w, tag, in);
    return sb_bac__w_done(&w);
}

/* Clauses 20.2.4 / 20.2.11: 1..8 octets (leading zeros tolerated).  Zero
 * octets is illegal; more than eight do not fit a uint64_t. */
static int r_uint(const uint8_t *p, size_t n, uint64_t *u)
{
    if (n == 0)
        return SB_EPROTO;
    while (n > 8 && *p == 0) {   /* tolerate over-long zero padding */
        p++;
        n--;
    }
    if (n > 8)
        return SB_ERANGE;
    *u = r_be(p, n);
    return 0;
}

/* Clause 20.2.5: two's complement, sign-extended from n octets. */
static int r_sint(const uint8_t *p, size_t n, int64_t *i)
{
    uint64_t u;

    if (n == 0)
        return SB_EPROTO;
    if (n > 8)
        return SB_ERANGE;
    u = r_be(p, n);
    if (n < 8 && (p[0] & 0x80))
        u |= ~(uint64_t)0 << (8 * n);
    memcpy(i, &u, 8);
    return 0;
}

/* Clause 20.2.10: unused-bit count then the packed bits. */
static int r_bits(const uint8_t *p, size_t n, struct sb_bac_bits *b)
{
    if (n == 0 || p[0] > 7 || (n == 1 && p[0] != 0))
        return SB_EPROTO;
    b->p = p + 1;
    b->nbits = (n - 1) * 8 - p[0];
    return 0;
}

/* Clause 20.2.9: charset octet then the text; charsets past ISO 8859-1
 * are not defined by the standard and are refused. */
static int r_cstr(const uint8_t *p, size_t n, struct sb_bac_cstr *s)
{
    if (n == 0 || p[0] > SB_BAC_CS_LATIN1)
        return SB_EPROTO;
    s->charset = p[0];
    s->p = p + 1;
    s->len = n - 1;
    return 0;
}

static int r_fixed(const uint8_t *p, size_t n, size_t want, void *out)
{
    if (n != want)
        return SB_EPROTO;
    memcpy(out, p, want);
    return 0;
}

static int r_num(const uint8_t *p, size_t n, struct sb_bac_value *v)
{
    uint64_t u;
    int rc;

    switch (v->type) {
    case SB_BAC_UNSIGNED:
        return r_uint(p, n, &v->v.u);
    case SB_BAC_SIGNED:
        return r_sint(p, n, &v->v.i);
    case SB_BAC_ENUMERATED:
        if ((rc = r_uint(p, n, &u)) < 0)
            return rc;
        if (u > UINT32_MAX)
            return SB_ERANGE;
        v->v.enumerated = (uint32_t)u;
        return 0;
    case SB_BAC_REAL:
        if (n != 4)
            return SB_EPROTO;
        u = r_be(p, 4);
        uint32_t f32 = (uint32_t)u;
        memcpy(&v->v.real, &f32, 4);
        return 0;
    default:   /* SB_BAC_DOUBLE */
        if (n != 8)
            return SB_EPROTO;
        u = r_be(p, 8);
        memcpy(&v->v.dbl, &u, 8);
        return 0;
    }
}

/* Decode n content octets at p as v->type. */
static int r_content(const uint8_t *p, size_t n, struct sb_bac_value *v)
{
    switch (v->type) {
    case SB_BAC_NULL:
        return n == 0 ? 0 : SB_EPROTO;
    case SB_BAC_BOOLEAN:   /* context form, clause 20.2.3 */
        if (n != 1 || p[0] > 1)
            return SB_EPROTO;
        v->v.boolean = p[0] != 0;
        return 0;
    case SB_BAC_UNSIGNED:
    case SB_BAC_SIGNED:
    case SB_BAC_ENUMERATED:
    case SB_BAC_REAL:
    case SB_BAC_DOUBLE:
        return r_num(p, n, v);
    case SB_BAC_OCTET_STRING:
        v->v.octets.p = p;
        v->v.octets.len = n;
        return 0;
    case SB_BAC_CHAR_STRING: return r_cstr(p, n, &v->v.str);
    case SB_BAC_BIT_STRING:  return r_bits(p, n, &v->v.bits);
    case SB_BAC_DATE:        return r_fixed(p, n, 4, &v->v.date);
    case SB_BAC_TIME:        return r_fixed(p, n, 4, &v->v.time);
    case SB_BAC_OBJECT_ID: {
        if (n != 4)
            return SB_EPROTO;
        uint32_t raw = (uint32_t)r_be(p, 4);
        v->v.oid.type = (uint16_t)(raw >> 22);
        v->v.oid.instance = raw & SB_BAC_MAX_INSTANCE;
        return 0;
    }
    default:
        return SB_EPROTO;   /* application tags 13-15 are reserved */
    }
}

ssize_t sb_bac_dec_app(const uint8_t *buf, size_t len, struct sb_bac_value *out)
{
    struct sb_bac_tag t;
    ssize_t h;
    int rc;

    if ((h = sb_bac_dec_tag(buf, len, &t)) < 0)
        return h;
    if (t.context)
        return SB_EPROTO;
    out->type = t.number;
    if (t.number == SB_BAC_BOOLEAN) {
        out->v.boolean = t.lvt != 0;
        return h;
    }
    if ((rc = r_content(buf + h, t.lvt, out)) < 0)
        return rc;
    return h + (ssize_t)t.lvt;
}

ssize_t sb_bac_dec_ctx(const uint8_t *buf, size_t len, uint8_t tag,
                       uint8_t type, struct sb_bac_value *out)
{
    struct sb_bac_tag t;
    ssize_t h;
    int rc;

    if ((h = sb_bac_dec_tag(buf, len, &t)) < 0)
        return h;
    if (!t.context || t.kind != SB_BAC_TAG_PRIM || t.number != tag)
        return SB_EPROTO;
    out->type = type;
    if ((rc = r_content(buf + h, t.lvt, out)) < 0)
        return rc;
    return h + (ssize_t)t.lvt;
}

bool sb_bac_bit(const struct sb_bac_bits *b, size_t n)
{
    if (n >= b->nbits)
        return false;
    return (b->p[n / 8] >> (7 - n % 8)) & 1;
}

/* ---- cursor helpers used by the service codecs ---- */

void sb_bac__w_ctx_uint(struct sb_bac__w *w, uint8_t tag, uint64_t u)
{
    struct sb_bac_value v = { .type = SB_BAC_UNSIGNED, .v.u = u };

    sb_bac__w_ctx(w, tag, &v);
}

void sb_bac__w_ctx_enum(struct sb_bac__w *w, uint8_t tag, uint32_t e)
{
    struct sb_bac_value v = { .type = SB_BAC_ENUMERATED, .v.enumerated = e };

    sb_bac__w_ctx(w, tag, &v);
}

void sb_bac__w_ctx_oid(struct sb_bac__w *w, uint8_t tag, struct sb_bac_oid oid)
{
    struct sb_bac_value v = { .type = SB_BAC_OBJECT_ID, .v.oid = oid };

    sb_bac__w_ctx(w, tag, &v);
}

void sb_bac__w_ctx_bool(struct sb_bac__w *w, uint8_t tag, bool b)
{
    struct sb_bac_value v = { .type = SB_BAC_BOOLEAN, .v.boolean = b };

    sb_bac__w_ctx(w, tag, &v);
}

int sb_bac__r_app(struct sb_bac__r *r, uint8_t type, struct sb_bac_value *v)
{
    ssize_t n = sb_bac_dec_app(r->p + r->off, sb_bac__r_left(r), v);

    if (n < 0)
        return (int)n;
    if (v->type != type)
        return SB_EPROTO;
    r->off += (size_t)n;
    return 0;
}

int sb_bac__r_ctx(struct sb_bac__r *r, uint8_t tag, uint8_t type, struct sb_bac_value *v)
{
    ssize_t n = sb_bac_dec_ctx(r->p + r->off, sb_bac__r_left(r), tag, type, v);

    if (n < 0)
        return (int)n;
    r->off += (size_t)n;
    return 0;
}

int sb_bac__r_ctx_u32(struct sb_bac__r *r, uint8_t tag, uint32_t *u)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_ctx(r, tag, SB_BAC_UNSIGNED, &v);

    if (rc < 0)
        return rc;
    if (v.v.u > UINT32_MAX)
        return SB_ERANGE;
    *u = (uint32_t)v.v.u;
    return 0;
}

int sb_bac__r_ctx_enum(struct sb_bac__r *r, uint8_t tag, uint32_t *e)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_ctx(r, tag, SB_BAC_ENUMERATED, &v);

    if (rc == 0)
        *e = v.v.enumerated;
    return rc;
}

int sb_bac__r_ctx_oid(struct sb_bac__r *r, uint8_t tag, struct sb_bac_oid *oid)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_ctx(r, tag, SB_BAC_OBJECT_ID, &v);

    if (rc == 0)
        *oid = v.v.oid;
    return rc;
}

int sb_bac__r_ctx_bool(struct sb_bac__r *r, uint8_t tag, bool *b)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_ctx(r, tag, SB_BAC_BOOLEAN, &v);

    if (rc == 0)
        *b = v.v.boolean;
    return rc;
}

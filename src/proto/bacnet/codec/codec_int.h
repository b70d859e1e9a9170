/*
 * codec_int.h - internals shared by the BACnet codec files (not an API).
 *
 * A bounded writer (buf == NULL only counts, as every public encoder allows)
 * and a bounded reader over one input buffer, plus tag-level helpers that the
 * service codecs chain.  The writer latches the first error so encoders can
 * write straight-line code and check once at the end.
 */
#ifndef SB_BAC_CODEC_INT_H
#define SB_BAC_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/bacnet/codec/tag.h"

/* Output cursor. */
struct sb_bac__w {
    uint8_t *buf;              /* output, or NULL to only count */
    size_t cap;                /* capacity of buf */
    size_t n;                  /* bytes written (or needed) so far */
    int err;                   /* first error (SB_ENOSPC/SB_EINVAL) or 0 */
};

/* Input cursor. */
struct sb_bac__r {
    const uint8_t *p;          /* input */
    size_t len;                /* bytes in p */
    size_t off;                /* bytes consumed */
};

void sb_bac__w_init(struct sb_bac__w *w, uint8_t *buf, size_t cap);
/* Returns the byte count, or the latched error. */
ssize_t sb_bac__w_done(const struct sb_bac__w *w);
/* Copy k bytes (memmove, so p may lie inside the output buffer). */
void sb_bac__w_put(struct sb_bac__w *w, const void *p, size_t k);
void sb_bac__w_u8(struct sb_bac__w *w, uint8_t v);
void sb_bac__w_u16(struct sb_bac__w *w, uint16_t v);   /* big-endian */
void sb_bac__w_fail(struct sb_bac__w *w, int err);

/* Tag-level writers (clause 20.2). */
void sb_bac__w_tag(struct sb_bac__w *w, const struct sb_bac_tag *t);
void sb_bac__w_app(struct sb_bac__w *w, const struct sb_bac_value *v);
void sb_bac__w_ctx(struct sb_bac__w *w, uint8_t tag, const struct sb_bac_value *v);
void sb_bac__w_ctx_uint(struct sb_bac__w *w, uint8_t tag, uint64_t u);
void sb_bac__w_ctx_enum(struct sb_bac__w *w, uint8_t tag, uint32_t e);
void sb_bac__w_ctx_oid(struct sb_bac__w *w, uint8_t tag, struct sb_bac_oid oid);
void sb_bac__w_ctx_bool(struct sb_bac__w *w, uint8_t tag, bool b);
void sb_bac__w_open(struct sb_bac__w *w, uint8_t tag);
void sb_bac__w_close(struct sb_bac__w *w, uint8_t tag);

/* Readers: return 0 or a negative SB_E*, advance r->off on success. */
static inline size_t sb_bac__r_left(const struct sb_bac__r *r)
{
    return r->len - r->off;
}
bool sb_bac__r_peek_ctx(const struct sb_bac__r *r, uint8_t tag);
bool sb_bac__r_peek_open(const struct sb_bac__r *r, uint8_t tag);
int sb_bac__r_app(struct sb_bac__r *r, uint8_t type, struct sb_bac_value *v);
int sb_bac__r_ctx(struct sb_bac__r *r, uint8_t tag, uint8_t type, struct sb_bac_value *v);
int sb_bac__r_ctx_u32(struct sb_bac__r *r, uint8_t tag, uint32_t *u);
int sb_bac__r_ctx_enum(struct sb_bac__r *r, uint8_t tag, uint32_t *e);
int sb_bac__r_ctx_oid(struct sb_bac__r *r, uint8_t tag, struct sb_bac_oid *oid);
int sb_bac__r_ctx_bool(struct sb_bac__r *r, uint8_t tag, bool *b);
int sb_bac__r_constructed(struct sb_bac__r *r, uint8_t tag,
                          const uint8_t **inner, size_t *inner_len);

/* Property identifier [tp] and optional array index [tp + 1], the pair
 * that opens RP, WP, BACnetPropertyReference and BACnetPropertyValue. */
void sb_bac__w_prop(struct sb_bac__w *w, uint8_t tp, uint32_t prop,
                    bool has_index, uint32_t index);
int sb_bac__r_prop(struct sb_bac__r *r, uint8_t tp, uint32_t *prop,
                   bool *has_index, uint32_t *index);
/* A whole-body decoder's return: consumed, or SB_EPROTO if bytes remain. */
ssize_t sb_bac__r_end(const struct sb_bac__r *r);

/* BACnetPropertyValue (clause 21), shared by the COV notification and
 * WritePropertyMultiple encoders (defined in svc_cov.c). */
struct sb_bac_propval;
void sb_bac__w_propval(struct sb_bac__w *w, const struct sb_bac_propval *p);

/* ---- helpers of the svc2.h codecs (defined in svc_misc.c) ---- */
struct sb_bac_datetime;
struct sb_bac_timestamp;

/* BACnetDateTime: an application Date then an application Time. */
void sb_bac__w_datetime(struct sb_bac__w *w, const struct sb_bac_datetime *dt);
int sb_bac__r_datetime(struct sb_bac__r *r, struct sb_bac_datetime *dt);
/* BACnetTimeStamp, the bare CHOICE (callers add the enclosing tags). */
void sb_bac__w_timestamp(struct sb_bac__w *w, const struct sb_bac_timestamp *ts);
int sb_bac__r_timestamp(struct sb_bac__r *r, struct sb_bac_timestamp *ts);
/* A context Bit String of nbits (<= 8) named bits held as a mask: bit n of
 * the string (clause 20.2.10 numbering, MSB first) is mask bit (1 << n).
 * The reader takes any length (older revisions sent fewer bits, later ones
 * may send more) but a set bit at or past nbits is SB_ERANGE, so whatever
 * it returns the writer can write back. */
void sb_bac__w_ctx_bits8(struct sb_bac__w *w, uint8_t tag, uint8_t mask, size_t nbits);
int sb_bac__r_ctx_bits8(struct sb_bac__r *r, uint8_t tag, uint8_t *mask, size_t nbits);
/* Application Unsigned that must fit 32 bits (SB_ERANGE otherwise). */
void sb_bac__w_app_uint(struct sb_bac__w *w, uint64_t u);
int sb_bac__r_app_u32(struct sb_bac__r *r, uint32_t *u);
/* Application Enumerated pair class, code (the Error production). */
void sb_bac__w_error(struct sb_bac__w *w, uint32_t err_class, uint32_t err_code);
/* Constructed element [tag] whose content must be exactly one Error. */
int sb_bac__r_ctx_error(struct sb_bac__r *r, uint8_t tag, uint32_t *err_class,
                        uint32_t *err_code);

#endif /* SB_BAC_CODEC_INT_H */

/*
 * tag.h - BACnet tag and primitive value codec (ANSI/ASHRAE 135, clause 20.2).
 *
 * The lowest layer of the sbems BACnet stack: codec -> transport -> services
 * -> driver.  Everything here is a pure function on byte buffers: no I/O, no
 * clocks, no globals, no allocation, no logging.
 *
 * Encoders take (buf, cap); with buf == NULL they only compute the length.
 * They return bytes written (or needed) or SB_ENOSPC / SB_EINVAL.
 * Decoders take (buf, len), never read past len and return bytes consumed or:
 *   SB_ECORRUPT  the data ends before the element does (truncation),
 *   SB_EPROTO    the bytes are not a legal encoding (reserved values, wrong
 *                tag, wrong length for a fixed-size type, unknown charset),
 *   SB_ERANGE    legal, but the value does not fit our representation
 *                (an Unsigned wider than 64 bits, an Enumerated over 32).
 * Values that need storage (strings, octet and bit strings) point into the
 * caller's input buffer, which must outlive the decoded struct.
 */
#ifndef SB_BAC_TAG_H
#define SB_BAC_TAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Application tag numbers, clause 20.2.1.4 (Table 20-1 of 135-2020). */
enum sb_bac_type {
    SB_BAC_NULL = 0,
    SB_BAC_BOOLEAN = 1,
    SB_BAC_UNSIGNED = 2,
    SB_BAC_SIGNED = 3,
    SB_BAC_REAL = 4,
    SB_BAC_DOUBLE = 5,
    SB_BAC_OCTET_STRING = 6,
    SB_BAC_CHAR_STRING = 7,
    SB_BAC_BIT_STRING = 8,
    SB_BAC_ENUMERATED = 9,
    SB_BAC_DATE = 10,
    SB_BAC_TIME = 11,
    SB_BAC_OBJECT_ID = 12
};

/* Character sets of a Character String, clause 20.2.9. */
enum sb_bac_charset {
    SB_BAC_CS_UTF8 = 0,        /* ISO 10646 UTF-8 (was ANSI X3.4) */
    SB_BAC_CS_DBCS = 1,        /* IBM/Microsoft DBCS (code page follows) */
    SB_BAC_CS_JIS = 2,         /* JIS X 0208 */
    SB_BAC_CS_UCS4 = 3,        /* ISO 10646 UCS-4 */
    SB_BAC_CS_UCS2 = 4,        /* ISO 10646 UCS-2 */
    SB_BAC_CS_LATIN1 = 5       /* ISO 8859-1 */
};

/* What a tag introduces, clause 20.2.1.3. */
enum sb_bac_tag_kind {
    SB_BAC_TAG_PRIM = 0,       /* primitive: lvt is the content length */
    SB_BAC_TAG_OPEN = 1,       /* opening tag (context class only), LVT 6 */
    SB_BAC_TAG_CLOSE = 2       /* closing tag (context class only), LVT 7 */
};

/* A decoded tag header. */
struct sb_bac_tag {
    uint8_t number;            /* tag number 0..254 (255 is reserved) */
    bool context;              /* class bit: true = context specific */
    uint8_t kind;              /* enum sb_bac_tag_kind */
    uint32_t lvt;              /* content length; for an application
                                  Boolean the value itself (no content) */
};

/* Clause 20.2.12: Date; every field may be 255 = unspecified. */
struct sb_bac_date {
    uint8_t year;              /* years since 1900 (0..254), 255 any */
    uint8_t month;             /* 1..12, 13 odd, 14 even, 255 any */
    uint8_t day;               /* 1..31, 32 last, 33 odd, 34 even, 255 any */
    uint8_t wday;              /* 1 = Monday .. 7 = Sunday, 255 any */
};

/* Clause 20.2.13: Time; every field may be 255 = unspecified. */
struct sb_bac_time {
    uint8_t hour;              /* 0..23 */
    uint8_t min;               /* 0..59 */
    uint8_t sec;               /* 0..59 */
    uint8_t hundredths;        /* 0..99 */
};

/* Clause 20.2.14: BACnetObjectIdentifier, 10-bit type, 22-bit instance. */
struct sb_bac_oid {
    uint16_t type;             /* object type 0..1023 */
    uint32_t instance;         /* instance 0..4194303 (4194303 = wildcard) */
};

#define SB_BAC_MAX_INSTANCE 4194303u

/* Bytes that live in the caller's buffer (octet string, string text). */
struct sb_bac_bytes {
    const uint8_t *p;          /* first byte (not NUL-terminated) */
    size_t len;                /* number of bytes */
};

/* A Character String: charset plus the encoded bytes, not converted. */
struct sb_bac_cstr {
    uint8_t charset;           /* enum sb_bac_charset */
    const uint8_t *p;          /* encoded text, not NUL-terminated */
    size_t len;                /* bytes of text */
};

/* A Bit String, clause 20.2.10: bit 0 is the MSB of p[0]. */
struct sb_bac_bits {
    const uint8_t *p;          /* packed bits, MSB first */
    size_t nbits;              /* number of meaningful bits */
};

/* One primitive value of any application type. */
struct sb_bac_value {
    uint8_t type;              /* enum sb_bac_type: selects the member */
    union {
        bool boolean;          /* SB_BAC_BOOLEAN */
        uint64_t u;            /* SB_BAC_UNSIGNED */
        int64_t i;             /* SB_BAC_SIGNED */
        float real;            /* SB_BAC_REAL (IEEE-754 binary32) */
        double dbl;            /* SB_BAC_DOUBLE (IEEE-754 binary64) */
        uint32_t enumerated;   /* SB_BAC_ENUMERATED */
        struct sb_bac_bytes octets;   /* SB_BAC_OCTET_STRING */
        struct sb_bac_cstr str;       /* SB_BAC_CHAR_STRING */
        struct sb_bac_bits bits;      /* SB_BAC_BIT_STRING */
        struct sb_bac_date date;      /* SB_BAC_DATE */
        struct sb_bac_time time;      /* SB_BAC_TIME */
        struct sb_bac_oid oid;        /* SB_BAC_OBJECT_ID */
    } v;                       /* the value */
};

/* Clause 20.2.1: encode a tag header (minimal form).  Opening/closing tags
 * must be context class; number 255 is reserved (SB_EINVAL). */
ssize_t sb_bac_enc_tag(uint8_t *buf, size_t cap, const struct sb_bac_tag *in);

/* Clause 20.2.1: decode a tag header.  Returns the header length; on
 * success the content (lvt bytes, none for an application Boolean or an
 * opening/closing tag) is known to fit in len. */
ssize_t sb_bac_dec_tag(const uint8_t *buf, size_t len, struct sb_bac_tag *out);

/* Content bytes that follow a decoded tag header. */
size_t sb_bac_tag_content_len(const struct sb_bac_tag *t);

/* Clauses 20.2.2-20.2.14: a primitive with an application tag. */
ssize_t sb_bac_enc_app(uint8_t *buf, size_t cap, const struct sb_bac_value *in);
ssize_t sb_bac_dec_app(const uint8_t *buf, size_t len, struct sb_bac_value *out);

/* Clause 20.2.15 (context-tagged primitives): the content is that of the
 * application type, the tag carries `tag` with the context class.  The
 * decoder needs the expected type (out->type is set to it) and returns
 * SB_EPROTO when the next tag is not primitive context tag `tag`. */
ssize_t sb_bac_enc_ctx(uint8_t *buf, size_t cap, uint8_t tag,
                       const struct sb_bac_value *in);
ssize_t sb_bac_dec_ctx(const uint8_t *buf, size_t len, uint8_t tag,
                       uint8_t type, struct sb_bac_value *out);

/* Clause 20.2.1.3.2: opening and closing tags. */
ssize_t sb_bac_enc_open(uint8_t *buf, size_t cap, uint8_t tag);
ssize_t sb_bac_enc_close(uint8_t *buf, size_t cap, uint8_t tag);

/* Length of the one complete element at buf: a primitive (header and
 * content) or a constructed element from its opening tag to the matching
 * closing tag.  SB_EPROTO on a stray closing tag, SB_ECORRUPT if the data
 * ends first.  Used to delimit Any-typed values (ABT) without decoding. */
ssize_t sb_bac_skip(const uint8_t *buf, size_t len);

/* Expect opening tag `tag` at buf, find its matching closing tag; sets the
 * enclosed bytes (*inner, *inner_len) and returns the bytes consumed
 * including both tags. */
ssize_t sb_bac_dec_constructed(const uint8_t *buf, size_t len, uint8_t tag,
                               const uint8_t **inner, size_t *inner_len);

/* Bit n (0 = first) of a decoded bit string; false past the end. */
bool sb_bac_bit(const struct sb_bac_bits *b, size_t n);

#endif /* SB_BAC_TAG_H */

/*
 * test_bacnet_codec.c - unit tests of the pure BACnet/IP codec
 * (src/proto/bacnet/codec/).
 *
 * Three kinds of evidence:
 *  - byte-exact encodings taken from the rules and examples of ANSI/ASHRAE
 *    135 clause 20.2 (written out by hand below, not computed by the codec);
 *  - golden packets in tests/vectors/bacnet/packets.txt whose decode by
 *    tshark (an independent implementation) is recorded there: we decode
 *    each packet and must report the same fields, tag by tag;
 *  - properties: round trips of random values, every truncation of every
 *    packet fails cleanly (run under ASan/UBSan).
 * Run from the repository root (the vector path is relative), or set
 * SB_BAC_VECTORS to the packets.txt path.
 */
#include <stdarg.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/bvlc.h"
#include "proto/bacnet/codec/npdu.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/tag.h"
#include "tap.h"

#define VEC_PATH "tests/vectors/bacnet/packets.txt"
#define MAX_VEC 64
#define MAX_FIELDS 64
#define PKT_MAX 1500

/* ---------- helpers ---------- */

/* Parse hex into out; returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;

    while (s[0] && s[1] && n < cap) {
        unsigned v;
        if (sscanf(s, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

/* Encode v with an application tag and compare with the expected bytes. */
static void check_app(const struct sb_bac_value *v, const char *hex)
{
    uint8_t want[64], got[64];
    size_t wn = unhex(hex, want, sizeof(want));
    ssize_t n = sb_bac_enc_app(got, sizeof(got), v);
    ssize_t need = sb_bac_enc_app(NULL, 0, v);

    CHECK_EQ(n, (ssize_t)wn);
    CHECK_EQ(need, (ssize_t)wn);
    if (n == (ssize_t)wn && memcmp(got, want, wn) != 0)
        TAP_FAIL("encoding of type %u differs from %s", v->type, hex);
}

/* ---------- clause 20.2 encodings, checked byte by byte ---------- */

/* Examples from clause 20.2.2-20.2.14 of ANSI/ASHRAE 135. */
TEST(app_examples)
{
    static const uint8_t oct[] = { 0x12, 0x34, 0xFF };
    static const uint8_t bits[] = { 0xA8 };   /* B'10101' */
    static const char *s = "This is a BACnet string!";

    check_app(&(struct sb_bac_value){ .type = SB_BAC_NULL }, "00");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = false }, "10");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = true }, "11");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 72 }, "2148");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = 72 }, "3148");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_REAL, .v.real = 72.0f }, "4442900000");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_DOUBLE, .v.dbl = 72.0 },
              "55084052000000000000");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_OCTET_STRING, .v.octets = { oct, 3 } },
              "631234ff");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_CHAR_STRING,
                                      .v.str = { 0, (const uint8_t *)s, 24 } },
              "75190054686973206973206120424143"
              "6e657420737472696e6721");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_BIT_STRING, .v.bits = { bits, 5 } },
              "8203a8");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_ENUMERATED, .v.enumerated = 0 }, "9100");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_DATE, .v.date = { 91, 1, 24, 4 } },
              "a45b011804");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_TIME, .v.time = { 17, 35, 45, 17 } },
              "b411232d11");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_OBJECT_ID, .v.oid = { 0, 15 } },
              "c40000000f");
}

/* Minimal lengths of Unsigned and Signed (clauses 20.2.4, 20.2.5). */
TEST(int_widths)
{
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 0 }, "2100");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 255 }, "21ff");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 256 }, "220100");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 0xFFFFFFFFu }, "24ffffffff");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 0x100000000ull },
              "25050100000000");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = UINT64_MAX },
              "2508ffffffffffffffff");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = 127 }, "317f");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = 128 }, "320080");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = -128 }, "3180");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = -129 }, "32ff7f");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = -1 }, "31ff");
    check_app(&(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = INT64_MIN },
              "35088000000000000000");
}

/* Clause 20.2.1.3.1: lengths 0-4 in LVT, 5-253 in one octet, 254-65535
 * after the marker 254, longer after 255 in four octets. */
TEST(ext_lengths)
{
    static const struct { uint32_t len; const char *hdr; } c[] = {
        { 4, "64" }, { 5, "6505" }, { 253, "65fd" }, { 254, "65fe00fe" },
        { 65535, "65feffff" }, { 65536, "65ff00010000" },
    };
    static uint8_t data[70000], out[70016];

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct sb_bac_value v = { .type = SB_BAC_OCTET_STRING, .v.octets = { data, c[i].len } };
        uint8_t hdr[8];
        size_t hn = unhex(c[i].hdr, hdr, sizeof(hdr));
        ssize_t n = sb_bac_enc_app(out, sizeof(out), &v);
        struct sb_bac_value d;

        REQUIRE(n == (ssize_t)(hn + c[i].len));
        CHECK(memcmp(out, hdr, hn) == 0);
        CHECK_EQ(sb_bac_dec_app(out, (size_t)n, &d), n);
        CHECK_EQ(d.v.octets.len, c[i].len);
        CHECK(d.v.octets.p == out + hn);
        CHECK_EQ(sb_bac_dec_app(out, (size_t)n - 1, &d), SB_ECORRUPT);
    }
}

/* Clause 20.2.1.2: tag numbers 15-254 go in an extra octet; 255 is
 * reserved.  Clause 20.2.1.3.2: opening/closing tags. */
TEST(tag_numbers)
{
    uint8_t b[16];
    struct sb_bac_tag t;

    CHECK_EQ(sb_bac_enc_ctx(b, sizeof(b), 14, &(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 1 }), 2);
    CHECK_EQ(b[0], 0xE9);
    CHECK_EQ(sb_bac_enc_ctx(b, sizeof(b), 15, &(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 1 }), 3);
    CHECK(b[0] == 0xF9 && b[1] == 15 && b[2] == 1);
    CHECK_EQ(sb_bac_enc_open(b, sizeof(b), 254), 2);
    CHECK(b[0] == 0xFE && b[1] == 254);
    CHECK_EQ(sb_bac_dec_tag(b, 2, &t), 2);
    CHECK(t.kind == SB_BAC_TAG_OPEN && t.number == 254 && t.context);
    CHECK_EQ(sb_bac_enc_close(b, sizeof(b), 3), 1);
    CHECK_EQ(b[0], 0x3F);
    CHECK_EQ(sb_bac_enc_open(b, sizeof(b), 255), SB_EINVAL);
    b[0] = 0xF8; b[1] = 0xFF;
    CHECK_EQ(sb_bac_dec_tag(b, 2, &t), SB_EPROTO);
    CHECK_EQ(sb_bac_dec_tag(b, 1, &t), SB_ECORRUPT);
    /* context Boolean carries one content octet (clause 20.2.3) */
    CHECK_EQ(sb_bac_enc_ctx(b, sizeof(b), 2, &(struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = true }), 2);
    CHECK(b[0] == 0x29 && b[1] == 0x01);
    CHECK_EQ(sb_bac_enc_app(NULL, 0, &(struct sb_bac_value){ .type = 13 }), SB_EINVAL);
    CHECK_EQ(sb_bac_enc_app(b, 1, &(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = 1 }), SB_ENOSPC);
}

/* Malformed primitives are refused with the documented codes. */
TEST(bad_primitives)
{
    static const struct { const char *hex; int rc; } c[] = {
        { "12", SB_EPROTO },            /* app Boolean with LVT 2 */
        { "20", SB_EPROTO },            /* Unsigned with no octets */
        { "2509ffffffffffffffffff", SB_ERANGE },   /* 9 significant octets */
        { "4300000000", SB_EPROTO },    /* Real of 3 octets */
        { "720641", SB_EPROTO },        /* charset 6 does not exist */
        { "7300", SB_ECORRUPT },        /* length past the end */
        { "7700", SB_EPROTO },          /* LVT 7 in an application tag */
        { "8108", SB_EPROTO },          /* 8 unused bits */
        { "8101", SB_EPROTO },          /* unused bits with no bit octet */
        { "95050100000000", SB_ERANGE }, /* Enumerated over 32 bits */
        { "a3010203", SB_EPROTO },      /* Date of 3 octets */
        { "d100", SB_EPROTO },          /* application tag 13 reserved */
        { "0e", SB_EPROTO },            /* opening tag is not an app value */
        { "06", SB_EPROTO },            /* LVT 6 in an application tag */
        { "0100", SB_EPROTO },          /* Null with content */
        { "", SB_ECORRUPT },
    };
    uint8_t b[32];
    struct sb_bac_value v;

    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        size_t n = unhex(c[i].hex, b, sizeof(b));
        ssize_t rc = sb_bac_dec_app(b, n, &v);
        if (rc != c[i].rc)
            TAP_FAIL("%s: got %zd want %d", c[i].hex, rc, c[i].rc);
    }
    /* Latin-1 decodes (a defined charset), and leading zero octets of an
     * Unsigned are tolerated (robustness, clause 20.2.4 asks minimal). */
    CHECK_EQ(sb_bac_dec_app(b, unhex("720541", b, sizeof(b)), &v), 3);
    CHECK(v.v.str.charset == SB_BAC_CS_LATIN1 && v.v.str.len == 1);
    CHECK_EQ(sb_bac_dec_app(b, unhex("220007", b, sizeof(b)), &v), 3);
    CHECK_EQ(v.v.u, 7);
    CHECK_EQ(sb_bac_dec_ctx(b, unhex("0907", b, sizeof(b)), 1, SB_BAC_UNSIGNED, &v), SB_EPROTO);
}

/* A random value of type t; strings point into pool. */
static struct sb_bac_value rand_value(uint64_t *s, uint8_t t, const uint8_t *pool)
{
    struct sb_bac_value v = { .type = t };
    uint64_t r = tap_rand(s);
    int shift = (int)(tap_rand(s) % 64);

    switch (t) {
    case SB_BAC_BOOLEAN:      v.v.boolean = r & 1; break;
    case SB_BAC_UNSIGNED:     v.v.u = r >> shift; break;
    case SB_BAC_SIGNED:       v.v.i = (int64_t)r >> shift; break;
    case SB_BAC_REAL:         v.v.real = (float)((int64_t)r >> 40) / 7.0f; break;
    case SB_BAC_DOUBLE:       v.v.dbl = (double)(int64_t)r / 3.0; break;
    case SB_BAC_ENUMERATED:   v.v.enumerated = (uint32_t)(r >> (shift / 2 + 32)); break;
    case SB_BAC_OCTET_STRING: v.v.octets = (struct sb_bac_bytes){ pool, r % 300 }; break;
    case SB_BAC_CHAR_STRING:  v.v.str = (struct sb_bac_cstr){ (uint8_t)(r % 6), pool, r % 300 }; break;
    case SB_BAC_BIT_STRING:   v.v.bits = (struct sb_bac_bits){ pool, r % 70 }; break;
    case SB_BAC_DATE:         v.v.date = (struct sb_bac_date){ (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24) }; break;
    case SB_BAC_TIME:         v.v.time = (struct sb_bac_time){ (uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16), (uint8_t)(r >> 24) }; break;
    case SB_BAC_OBJECT_ID:    v.v.oid = (struct sb_bac_oid){ (uint16_t)(r % 1024), (uint32_t)(r >> 20) % 4194304 }; break;
    default:                  break;
    }
    return v;
}

static bool same_value(const struct sb_bac_value *a, const struct sb_bac_value *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case SB_BAC_NULL:         return true;
    case SB_BAC_BOOLEAN:      return a->v.boolean == b->v.boolean;
    case SB_BAC_UNSIGNED:     return a->v.u == b->v.u;
    case SB_BAC_SIGNED:       return a->v.i == b->v.i;
    case SB_BAC_REAL:         return memcmp(&a->v.real, &b->v.real, 4) == 0;
    case SB_BAC_DOUBLE:       return memcmp(&a->v.dbl, &b->v.dbl, 8) == 0;
    case SB_BAC_ENUMERATED:   return a->v.enumerated == b->v.enumerated;
    case SB_BAC_OCTET_STRING: return a->v.octets.len == b->v.octets.len &&
                                     !memcmp(a->v.octets.p, b->v.octets.p, a->v.octets.len);
    case SB_BAC_CHAR_STRING:  return a->v.str.charset == b->v.str.charset && a->v.str.len == b->v.str.len &&
                                     !memcmp(a->v.str.p, b->v.str.p, a->v.str.len);
    case SB_BAC_BIT_STRING:
        if (a->v.bits.nbits != b->v.bits.nbits)
            return false;
        for (size_t i = 0; i < a->v.bits.nbits; i++)
            if (sb_bac_bit(&a->v.bits, i) != sb_bac_bit(&b->v.bits, i))
                return false;
        return true;
    case SB_BAC_DATE:         return !memcmp(&a->v.date, &b->v.date, 4);
    case SB_BAC_TIME:         return !memcmp(&a->v.time, &b->v.time, 4);
    default:                  return a->v.oid.type == b->v.oid.type && a->v.oid.instance == b->v.oid.instance;
    }
}

/* Property: decode(encode(v)) == v for application and context forms,
 * the NULL-buffer length agrees, every shorter cap gives SB_ENOSPC. */
TEST(value_round_trip)
{
    static uint8_t pool[300], buf[320];
    uint64_t s = 0x5eed;

    for (size_t i = 0; i < sizeof(pool); i++)
        pool[i] = (uint8_t)tap_rand(&s);
    for (int it = 0; it < 20000; it++) {
        uint8_t t = (uint8_t)(tap_rand(&s) % 13), tag = (uint8_t)(tap_rand(&s) % 255);
        struct sb_bac_value v = rand_value(&s, t, pool), d;
        ssize_t n = sb_bac_enc_app(buf, sizeof(buf), &v);
        REQUIRE(n > 0 && n == sb_bac_enc_app(NULL, 0, &v));
        CHECK_EQ(sb_bac_dec_app(buf, (size_t)n, &d), n);
        if (!same_value(&v, &d))
            TAP_FAIL("app round trip, type %u, iteration %d", t, it);
        CHECK_EQ(sb_bac_enc_app(buf, (size_t)(tap_rand(&s) % (uint64_t)n), &v), SB_ENOSPC);
        n = sb_bac_enc_ctx(buf, sizeof(buf), tag, &v);
        REQUIRE(n > 0);
        CHECK_EQ(sb_bac_dec_ctx(buf, (size_t)n, tag, t, &d), n);
        if (!same_value(&v, &d))
            TAP_FAIL("ctx round trip, type %u tag %u", t, tag);
        CHECK_EQ(sb_bac_skip(buf, (size_t)n), n);
    }
}

/* sb_bac_skip and sb_bac_dec_constructed follow nesting (20.2.1.3.2). */
TEST(constructed)
{
    uint8_t b[32];
    const uint8_t *in;
    size_t in_len;
    size_t n = unhex("3e1e2101" "1f" "4e4f" "3f" "21ff", b, sizeof(b));

    CHECK_EQ(sb_bac_skip(b, n), 8);
    CHECK_EQ(sb_bac_dec_constructed(b, n, 3, &in, &in_len), 8);
    CHECK(in == b + 1 && in_len == 6);
    CHECK_EQ(sb_bac_dec_constructed(b, n, 4, &in, &in_len), SB_EPROTO);
    CHECK_EQ(sb_bac_skip(b, 7), SB_ECORRUPT);
    n = unhex("3e1e3f1f", b, sizeof(b));   /* crossed closing tags */
    CHECK_EQ(sb_bac_skip(b, n), SB_EPROTO);
    CHECK_EQ(sb_bac_skip(b + 3, 1), SB_EPROTO);   /* stray closing tag */
}

TEST(bvlc_checks)
{
    uint8_t b[32];
    struct sb_bac_bvlc v;

    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("820a00060100", b, 32), &v), SB_EPROTO);   /* type */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("810a00070100", b, 32), &v), SB_ECORRUPT); /* length > len */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("810a00030100", b, 32), &v), SB_ECORRUPT); /* length < 4 */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("8100000700000a", b, 32), &v), SB_EPROTO); /* Result of 3 */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("810d0004", b, 32), &v), SB_EPROTO);       /* function 0x0d */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("81040008c0a80101", b, 32), &v), SB_ECORRUPT); /* short fwd */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("81020004", b, 32), &v), 4);               /* Read-BDT */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("8103000e0102030405060708090a", b, 32), &v), 14); /* 1 BDT entry */
    CHECK_EQ(v.data_len, 10);
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("8103000d0102030405060708090a", b, 32), &v), SB_EPROTO);
    /* bytes past the BVLC length are not consumed */
    CHECK_EQ(sb_bac_dec_bvlc(b, unhex("81000006000000", b, 32), &v), 6);
    CHECK_EQ(sb_bac_enc_bvlc(b, 32, &(struct sb_bac_bvlc){ .function = 0x0d }), SB_EINVAL);
    CHECK_EQ(sb_bac_enc_bvlc(b, 5, &(struct sb_bac_bvlc){ .function = SB_BVLC_RESULT }), SB_ENOSPC);
}

TEST(npdu_checks)
{
    uint8_t b[32];
    struct sb_bac_npdu n;
    struct sb_bac_npdu bad = { .has_src = true, .src = { .net = 5, .len = 0 } };

    CHECK_EQ(sb_bac_dec_npdu(b, unhex("0200", b, 32), &n), SB_EPROTO);      /* version */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("0140", b, 32), &n), SB_EPROTO);      /* reserved bit 6 */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("0108000500", b, 32), &n), SB_EPROTO); /* SLEN 0 */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("01200005090102030405060708090aff", b, 32), &n), SB_EPROTO); /* DLEN 9 */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("0120000501", b, 32), &n), SB_ECORRUPT);
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("0180", b, 32), &n), SB_ECORRUPT);    /* no message type */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("018080", b, 32), &n), SB_ECORRUPT);  /* no vendor id */
    CHECK_EQ(sb_bac_dec_npdu(b, unhex("01808001040a", b, 32), &n), 5);      /* vendor message */
    CHECK(n.net_msg && n.msg_type == 0x80 && n.vendor_id == 0x0104 && n.payload_len == 1);
    CHECK_EQ(sb_bac_enc_npdu(b, 32, &bad), SB_EINVAL);
    bad.src.len = 1;
    bad.src.net = 0xFFFF;
    CHECK_EQ(sb_bac_enc_npdu(b, 32, &bad), SB_EINVAL);
}

TEST(apdu_checks)
{
    uint8_t b[32];
    struct sb_bac_apdu a;

    CHECK_EQ(sb_bac_dec_apdu(b, unhex("8000", b, 32), &a), SB_EPROTO);       /* type 8 */
    CHECK_EQ(sb_bac_dec_apdu(b, unhex("0006010c", b, 32), &a), SB_EPROTO);   /* max-APDU code 6 */
    CHECK_EQ(sb_bac_dec_apdu(b, unhex("08050100000c", b, 32), &a), SB_EPROTO); /* window 0 */
    CHECK_EQ(sb_bac_dec_apdu(b, unhex("0805010000", b, 32), &a), SB_ECORRUPT);
    CHECK_EQ(sb_bac_max_apdu_octets(5), 1476);
    CHECK_EQ(sb_bac_max_apdu_octets(6), 0);
    CHECK_EQ(sb_bac_max_apdu_code(1482), SB_BAC_MAX_APDU_1476);
    CHECK_EQ(sb_bac_max_apdu_code(1475), SB_BAC_MAX_APDU_1024);
    CHECK_EQ(sb_bac_max_apdu_code(49), SB_EINVAL);
    CHECK_EQ(sb_bac_max_segs(0), 0);
    CHECK_EQ(sb_bac_max_segs(4), 16);
    CHECK_EQ(sb_bac_max_segs(7), 65);
    CHECK_EQ(sb_bac_enc_apdu(b, 32, &(struct sb_bac_apdu){ .type = 9 }), SB_EINVAL);
}

/* Service-level refusals of out-of-range fields. */
TEST(service_checks)
{
    uint8_t b[64];
    struct sb_bac_whois wi;
    struct sb_bac_wp wp;
    struct sb_bac_iam ia;

    CHECK_EQ(sb_bac_dec_whois(b, unhex("0901", b, 64), &wi), SB_ECORRUPT);   /* high limit missing */
    CHECK_EQ(sb_bac_dec_whois(b, unhex("0b4000001b400000", b, 64), &wi), SB_EPROTO); /* > 4194303 */
    CHECK_EQ(sb_bac_enc_whois(b, 64, &(struct sb_bac_whois){ true, 5, 4 }), SB_EINVAL);
    /* WP priority 0 and 17 are illegal (clause 15.9.1.1.5) */
    CHECK_EQ(sb_bac_dec_wp(b, unhex("0c0040000119553e00" "3f" "4900", b, 64), &wp), SB_EPROTO);
    CHECK_EQ(sb_bac_dec_wp(b, unhex("0c0040000119553e00" "3f" "4911", b, 64), &wp), SB_EPROTO);
    CHECK_EQ(sb_bac_dec_wp(b, unhex("0c0040000119553e00" "3f" "4910", b, 64), &wp), 12);
    CHECK_EQ(wp.priority, 16);
    CHECK_EQ(sb_bac_enc_wp(b, 64, &(struct sb_bac_wp){ .priority = 17 }), SB_EINVAL);
    /* I-Am must name a Device and carry a 16-bit vendor id */
    CHECK_EQ(sb_bac_dec_iam(b, unhex("c4000003e92205c4910321ff", b, 64), &ia), SB_EPROTO);
    CHECK_EQ(sb_bac_dec_iam(b, unhex("c4020003e92205c491032301ffff", b, 64), &ia), SB_EPROTO);
    /* trailing octets after a whole body */
    CHECK_EQ(sb_bac_dec_iam(b, unhex("c4020003e92205c4910321ff00", b, 64), &ia), SB_EPROTO);
}

/* ---------- golden vectors checked against tshark's decode ---------- */

/* One vector of packets.txt. */
struct vec {
    char name[64];                     /* vector name */
    uint8_t pkt[PKT_MAX];              /* the UDP payload */
    size_t len;                        /* its length */
    size_t nf;                         /* fields tshark reported */
    char fname[MAX_FIELDS][48];        /* their names */
    char fval[MAX_FIELDS][1024];       /* their values */
};

static struct vec vecs[MAX_VEC];       /* loaded vectors */
static size_t nvec;                    /* how many */
static char field_list[MAX_FIELDS][48];   /* the "# fields:" line */
static size_t nfield_list;             /* entries in field_list */

static void parse_field_list(char *line)
{
    for (char *tok = strtok(line, " \n"); tok && nfield_list < MAX_FIELDS; tok = strtok(NULL, " \n"))
        snprintf(field_list[nfield_list++], 48, "%.47s", tok);
}

static void parse_line(char *line)
{
    struct vec *v = nvec ? &vecs[nvec - 1] : NULL;
    char *sp;

    line[strcspn(line, "\n")] = 0;
    if (!strncmp(line, "# fields: ", 10)) {
        parse_field_list(line + 10);
    } else if (!strncmp(line, "vector ", 7) && nvec < MAX_VEC) {
        v = &vecs[nvec++];
        snprintf(v->name, sizeof(v->name), "%.63s", line + 7);
    } else if (v && !strncmp(line, "hex ", 4)) {
        v->len = unhex(line + 4, v->pkt, sizeof(v->pkt));
    } else if (v && !strncmp(line, "field ", 6) && v->nf < MAX_FIELDS &&
               (sp = strchr(line + 6, ' ')) != NULL) {
        *sp = 0;
        snprintf(v->fname[v->nf], 48, "%.47s", line + 6);
        snprintf(v->fval[v->nf], 1024, "%.1023s", sp + 1);
        v->nf++;
    }
}

static int load_vectors(void)
{
    const char *path = getenv("SB_BAC_VECTORS") ? getenv("SB_BAC_VECTORS") : VEC_PATH;
    FILE *f = fopen(path, "r");
    static char line[4096];

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        parse_line(line);
    fclose(f);
    return 0;
}

/* Our decode, rendered as tshark renders its fields. */
struct flds {
    size_t n;                          /* fields set */
    char name[MAX_FIELDS][48];         /* field names */
    char val[MAX_FIELDS][1024];        /* values, occurrences joined by ',' */
};

__attribute__((format(printf, 3, 4)))
static void add(struct flds *f, const char *name, const char *fmt, ...)
{
    size_t i;
    va_list ap;

    for (i = 0; i < f->n && strcmp(f->name[i], name); i++)
        ;
    if (i == f->n) {
        REQUIRE(f->n < MAX_FIELDS);
        snprintf(f->name[f->n], 48, "%.47s", name);
        f->val[f->n++][0] = 0;
    }
    size_t l = strlen(f->val[i]);
    if (l)
        f->val[i][l++] = ',';
    va_start(ap, fmt);
    vsnprintf(f->val[i] + l, 1024 - l, fmt, ap);
    va_end(ap);
}

static const char *get(const struct flds *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->name[i], name))
            return f->val[i];
    return "";
}

/* Every tag of an APDU body, flat, as tshark lists them. */
static int add_tags(struct flds *f, const uint8_t *p, size_t len)
{
    size_t off = 0;
    struct sb_bac_tag t;
    ssize_t h;

    while (off < len) {
        if ((h = sb_bac_dec_tag(p + off, len - off, &t)) < 0)
            return (int)h;
        if (t.context)
            add(f, "bacapp.context_tag_number", "%u", t.number);
        else
            add(f, "bacapp.application_tag_number", "%u", t.number);
        if (t.kind == SB_BAC_TAG_PRIM)
            add(f, "bacapp.LVT", "%u", t.lvt);
        off += (size_t)h + sb_bac_tag_content_len(&t);
    }
    return 0;
}

/* The primitives of an encoded value; tshark names those of present-value. */
static int add_values(struct flds *f, uint32_t prop, const uint8_t *p, size_t len)
{
    struct sb_bac_value v;
    ssize_t n;

    for (size_t off = 0; off < len; off += (size_t)n) {
        if ((n = sb_bac_dec_app(p + off, len - off, &v)) < 0)
            return (int)n;
        if (prop != 85)
            continue;
        if (v.type == SB_BAC_UNSIGNED)
            add(f, "bacapp.present_value.uint", "%" PRIu64, v.v.u);
        else if (v.type == SB_BAC_SIGNED)
            add(f, "bacapp.present_value.int", "%" PRId64, v.v.i);
        else if (v.type == SB_BAC_REAL)
            add(f, "bacapp.present_value.real", "%g", (double)v.v.real);
        else if (v.type == SB_BAC_DOUBLE)
            add(f, "bacapp.present_value.double", "%g", v.v.dbl);
        else if (v.type == SB_BAC_CHAR_STRING)
            add(f, "bacapp.present_value.char_string", "%.*s", (int)v.v.str.len, (const char *)v.v.str.p);
    }
    return 0;
}

static void add_oid(struct flds *f, struct sb_bac_oid o)
{
    add(f, "bacapp.objectType", "%u", o.type);
    add(f, "bacapp.instance_number", "%u", o.instance);
}

static int svc_rp(struct flds *f, const uint8_t *b, size_t n, bool ack)
{
    struct sb_bac_rp rp;
    ssize_t rc = ack ? sb_bac_dec_rp_ack(b, n, &rp) : sb_bac_dec_rp_req(b, n, &rp);

    if (rc < 0)
        return (int)rc;
    add_oid(f, rp.oid);
    add(f, "bacapp.property_identifier", "%u", rp.prop);
    return ack ? add_values(f, rp.prop, rp.value, rp.value_len) : 0;
}

static int svc_wp(struct flds *f, const uint8_t *b, size_t n)
{
    struct sb_bac_wp wp;
    ssize_t rc = sb_bac_dec_wp(b, n, &wp);

    if (rc < 0)
        return (int)rc;
    add_oid(f, wp.oid);
    add(f, "bacapp.property_identifier", "%u", wp.prop);
    return add_values(f, wp.prop, wp.value, wp.value_len);
}

static int svc_rpm_req(struct flds *f, const uint8_t *b, size_t n)
{
    struct sb_bac_rpm_spec s;
    struct sb_bac_propref r;
    ssize_t k, m;

    if (n == 0)
        return SB_EPROTO;   /* at least one specification */
    for (size_t off = 0; off < n; off += (size_t)k) {
        if ((k = sb_bac_dec_rpm_spec(b + off, n - off, &s)) < 0)
            return (int)k;
        add_oid(f, s.oid);
        for (size_t o = 0; o < s.list_len; o += (size_t)m) {
            if ((m = sb_bac_dec_propref(s.list + o, s.list_len - o, &r)) < 0)
                return (int)m;
            add(f, "bacapp.property_identifier", "%u", r.prop);
        }
    }
    return 0;
}

static int rpm_elems(struct flds *f, const uint8_t *b, size_t n)
{
    struct sb_bac_rpm_elem e;
    ssize_t m;
    int rc;

    for (size_t o = 0; o < n; o += (size_t)m) {
        if ((m = sb_bac_dec_rpm_elem(b + o, n - o, &e)) < 0)
            return (int)m;
        add(f, "bacapp.property_identifier", "%u", e.prop);
        if (e.is_error) {
            add(f, "bacapp.error_class", "%u", e.err_class);
            add(f, "bacapp.error_code", "%u", e.err_code);
        } else if ((rc = add_values(f, e.prop, e.value, e.value_len)) < 0) {
            return rc;
        }
    }
    return 0;
}

static int svc_rpm_ack(struct flds *f, const uint8_t *b, size_t n)
{
    struct sb_bac_rpm_result r;
    ssize_t k;
    int rc;

    if (n == 0)
        return SB_EPROTO;
    for (size_t off = 0; off < n; off += (size_t)k) {
        if ((k = sb_bac_dec_rpm_result(b + off, n - off, &r)) < 0)
            return (int)k;
        add_oid(f, r.oid);
        if ((rc = rpm_elems(f, r.list, r.list_len)) < 0)
            return rc;
    }
    return 0;
}

static int svc_cov(struct flds *f, const uint8_t *b, size_t n)
{
    struct sb_bac_cov_notif c;
    struct sb_bac_propval pv;
    ssize_t rc, m;

    if ((rc = sb_bac_dec_cov_notif(b, n, &c)) < 0)
        return (int)rc;
    add(f, "bacapp.processId", "%u", c.pid);
    add_oid(f, c.device);
    add_oid(f, c.oid);
    for (size_t o = 0; o < c.list_len; o += (size_t)m) {
        if ((m = sb_bac_dec_propval(c.list + o, c.list_len - o, &pv)) < 0)
            return (int)m;
        add(f, "bacapp.property_identifier", "%u", pv.prop);
        if ((rc = add_values(f, pv.prop, pv.value, pv.value_len)) < 0)
            return (int)rc;
    }
    return 0;
}

static int svc_unconfirmed(struct flds *f, const struct sb_bac_apdu *a)
{
    struct sb_bac_whois wi;
    struct sb_bac_iam ia;
    ssize_t rc;

    switch (a->service) {
    case SB_BAC_SVC_WHO_IS:
        if ((rc = sb_bac_dec_whois(a->body, a->body_len, &wi)) < 0)
            return (int)rc;
        if (wi.has_range) {
            add(f, "bacapp.who_is.low_limit", "%u", wi.low);
            add(f, "bacapp.who_is.high_limit", "%u", wi.high);
        }
        return 0;
    case SB_BAC_SVC_I_AM:
        if ((rc = sb_bac_dec_iam(a->body, a->body_len, &ia)) < 0)
            return (int)rc;
        add_oid(f, ia.device);
        add(f, "bacapp.vendor_identifier", "%u", ia.vendor_id);
        return 0;
    case SB_BAC_SVC_UNCONFIRMED_COV_NOTIFICATION:
        return svc_cov(f, a->body, a->body_len);
    default:
        return SB_ENOTSUP;
    }
}

static int svc_confirmed(struct flds *f, const struct sb_bac_apdu *a)
{
    struct sb_bac_subcov sc;
    ssize_t rc;

    switch (a->service) {
    case SB_BAC_SVC_READ_PROPERTY:          return svc_rp(f, a->body, a->body_len, false);
    case SB_BAC_SVC_WRITE_PROPERTY:         return svc_wp(f, a->body, a->body_len);
    case SB_BAC_SVC_READ_PROPERTY_MULTIPLE: return svc_rpm_req(f, a->body, a->body_len);
    case SB_BAC_SVC_CONFIRMED_COV_NOTIFICATION: return svc_cov(f, a->body, a->body_len);
    case SB_BAC_SVC_SUBSCRIBE_COV:
        if ((rc = sb_bac_dec_subcov(a->body, a->body_len, &sc)) < 0)
            return (int)rc;
        add_oid(f, sc.oid);
        return 0;
    default:
        return SB_ENOTSUP;
    }
}

/* The service body of an unsegmented APDU. */
static int dec_service(struct flds *f, const struct sb_bac_apdu *a)
{
    struct sb_bac_error e;
    ssize_t rc;

    switch (a->type) {
    case SB_BAC_PDU_CONFIRMED:   return svc_confirmed(f, a);
    case SB_BAC_PDU_UNCONFIRMED: return svc_unconfirmed(f, a);
    case SB_BAC_PDU_COMPLEX_ACK:
        if (a->service == SB_BAC_SVC_READ_PROPERTY)
            return svc_rp(f, a->body, a->body_len, true);
        if (a->service == SB_BAC_SVC_READ_PROPERTY_MULTIPLE)
            return svc_rpm_ack(f, a->body, a->body_len);
        return SB_ENOTSUP;
    case SB_BAC_PDU_ERROR:
        if ((rc = sb_bac_dec_error(a->body, a->body_len, &e)) < 0)
            return (int)rc;
        if ((size_t)rc != a->body_len)
            return SB_EPROTO;
        add(f, "bacapp.error_class", "%u", e.err_class);
        add(f, "bacapp.error_code", "%u", e.err_code);
        return 0;
    default:   /* simple ack, segment ack, reject, abort: header only */
        return a->body_len == 0 ? 0 : SB_EPROTO;
    }
}

static void add_apdu_hdr(struct flds *f, const struct sb_bac_apdu *a)
{
    bool segd = a->type == SB_BAC_PDU_CONFIRMED || a->type == SB_BAC_PDU_COMPLEX_ACK;

    add(f, "bacapp.type", "%u", a->type);
    if (segd) {
        add(f, "bacapp.segmented_request", "%d", a->seg);
        add(f, "bacapp.more_segments", "%d", a->more);
    }
    if (a->type == SB_BAC_PDU_CONFIRMED) {
        add(f, "bacapp.SA", "%d", a->sa);
        add(f, "bacapp.max_adpu_size", "%u", a->max_apdu);
        add(f, "bacapp.response_segments", "%u", a->max_segs);
    }
    if (a->type == SB_BAC_PDU_SEGMENT_ACK)
        add(f, "bacapp.NAK", "%d", a->nak);
    if (a->type == SB_BAC_PDU_SEGMENT_ACK || a->type == SB_BAC_PDU_ABORT)
        add(f, "bacapp.SRV", "%d", a->srv);
    if (a->type != SB_BAC_PDU_UNCONFIRMED)
        add(f, "bacapp.invoke_id", "%u", a->invoke_id);
    if (a->seg || a->type == SB_BAC_PDU_SEGMENT_ACK) {
        add(f, "bacapp.sequence_number", "%u", a->seq);
        add(f, "bacapp.window_size", "%u", a->window);
    }
    if (a->type == SB_BAC_PDU_UNCONFIRMED)
        add(f, "bacapp.unconfirmed_service", "%u", a->service);
    else if (a->type == SB_BAC_PDU_REJECT)
        add(f, "bacapp.reject_reason", "%u", a->reason);
    else if (a->type == SB_BAC_PDU_ABORT)
        add(f, "bacapp.abort_reason", "%u", a->reason);
    else if (a->type != SB_BAC_PDU_SEGMENT_ACK)
        add(f, "bacapp.confirmed_service", "%u", a->service);
}

static int dec_netmsg(struct flds *f, const struct sb_bac_npdu *n)
{
    struct sb_bac_netlist l;
    bool has;
    uint16_t net;
    ssize_t rc;

    add(f, "bacnet.mesgtyp", "0x%02x", n->msg_type);
    if (n->msg_type == SB_BAC_NL_WHO_IS_ROUTER) {
        if ((rc = sb_bac_dec_who_is_router(n->payload, n->payload_len, &has, &net)) < 0)
            return (int)rc;
        if (has)
            add(f, "bacnet.dnet", "%u", net);
        return 0;
    }
    if (n->msg_type != SB_BAC_NL_I_AM_ROUTER)
        return SB_ENOTSUP;
    if ((rc = sb_bac_dec_i_am_router(n->payload, n->payload_len, &l)) < 0)
        return (int)rc;
    for (size_t i = 0; i < l.count; i++)
        add(f, "bacnet.dnet", "%u", sb_bac_netlist_get(&l, i));
    return 0;
}

static void add_npdu_hdr(struct flds *f, const uint8_t *raw, const struct sb_bac_npdu *n)
{
    const uint8_t *m = n->src.mac;

    add(f, "bacnet.control", "0x%02x", raw[1]);
    if (n->has_dst) {
        add(f, "bacnet.dnet", "%u", n->dst.net);
        add(f, "bacnet.dlen", "%u", n->dst.len);
        if (n->dst.len == 1)
            add(f, "bacnet.dadr_mstp", "%u", n->dst.mac[0]);
        add(f, "bacnet.hopc", "%u", n->hop_count);
    }
    if (n->has_src) {
        add(f, "bacnet.snet", "%u", n->src.net);
        add(f, "bacnet.slen", "%u", n->src.len);
        if (n->src.len == 6)
            add(f, "bacnet.sadr_eth", "%02x:%02x:%02x:%02x:%02x:%02x",
                m[0], m[1], m[2], m[3], m[4], m[5]);
    }
}

static int dec_npdu_up(struct flds *f, const uint8_t *p, size_t len)
{
    struct sb_bac_npdu n;
    struct sb_bac_apdu a;
    ssize_t rc;

    if ((rc = sb_bac_dec_npdu(p, len, &n)) < 0)
        return (int)rc;
    add_npdu_hdr(f, p, &n);
    if (n.net_msg)
        return dec_netmsg(f, &n);
    if ((rc = sb_bac_dec_apdu(n.payload, n.payload_len, &a)) < 0)
        return (int)rc;
    add_apdu_hdr(f, &a);
    if (a.seg)
        return 0;   /* a fragment: the body is not parsable alone */
    if ((rc = add_tags(f, a.body, a.body_len)) < 0)
        return (int)rc;
    return dec_service(f, &a);
}

/* Decode a whole datagram, every layer, requiring exact consumption. */
static int dec_packet(struct flds *f, const uint8_t *p, size_t len)
{
    struct sb_bac_bvlc b;
    ssize_t rc = sb_bac_dec_bvlc(p, len, &b);
    const uint8_t *ip = b.addr;

    if (rc < 0)
        return (int)rc;
    if ((size_t)rc != len)
        return SB_EPROTO;
    add(f, "bvlc.function", "0x%02x", b.function);
    if (b.function == SB_BVLC_RESULT)
        add(f, "bvlc.length", "%zd", rc);
    else if (b.function == SB_BVLC_REGISTER_FD)
        add(f, "bvlc.length", "%zd", rc);
    else
        add(f, "bvlc.length", "%zd", sb_bac_bvlc_hdr_len(b.function));
    if (b.function == SB_BVLC_RESULT)
        add(f, "bvlc.result", "0x%04x", b.result);
    if (b.function == SB_BVLC_REGISTER_FD)
        add(f, "bvlc.reg_ttl", "%u", b.ttl);
    if (b.function == SB_BVLC_FORWARDED_NPDU) {
        add(f, "bvlc.fwd_ip", "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
        add(f, "bvlc.fwd_port", "%u", (unsigned)(ip[4] << 8 | ip[5]));
    }
    if (b.function != SB_BVLC_ORIGINAL_UNICAST && b.function != SB_BVLC_ORIGINAL_BCAST &&
        b.function != SB_BVLC_FORWARDED_NPDU && b.function != SB_BVLC_DISTRIBUTE_BCAST)
        return 0;
    return dec_npdu_up(f, b.data, b.data_len);
}

/* Each golden packet decodes, and every field of regen.sh's list has the
 * value tshark gave it (absent where tshark showed nothing). */
TEST(vectors_match_tshark)
{
    static struct flds f;

    REQUIRE(nvec >= 30 && nfield_list >= 40);
    for (size_t i = 0; i < nvec; i++) {
        struct vec *v = &vecs[i];
        int rc;

        memset(&f, 0, sizeof(f));
        rc = dec_packet(&f, v->pkt, v->len);
        if (rc < 0) {
            TAP_FAIL("%s: decode failed: %s", v->name, sb_errname(rc));
            continue;
        }
        for (size_t k = 0; k < nfield_list; k++) {
            const char *theirs = "";
            for (size_t j = 0; j < v->nf; j++)
                if (!strcmp(v->fname[j], field_list[k]))
                    theirs = v->fval[j];
            if (strcmp(get(&f, field_list[k]), theirs))
                TAP_FAIL("%s: %s: ours '%s' tshark '%s'", v->name, field_list[k],
                         get(&f, field_list[k]), theirs);
        }
    }
}

/* Cutting a datagram anywhere must fail (the BVLC length no longer fits). */
TEST(truncated_datagrams)
{
    static struct flds f;

    for (size_t i = 0; i < nvec; i++)
        for (size_t l = 0; l < vecs[i].len; l++) {
            memset(&f, 0, sizeof(f));
            if (dec_packet(&f, vecs[i].pkt, l) >= 0)
                TAP_FAIL("%s cut at %zu decoded", vecs[i].name, l);
        }
}

/* Body length of the unsegmented APDU inside a golden packet. */
static size_t seg_body_len(const struct vec *v)
{
    struct sb_bac_bvlc b;
    struct sb_bac_npdu n;
    struct sb_bac_apdu a;

    if (sb_bac_dec_bvlc(v->pkt, v->len, &b) < 0 || sb_bac_dec_npdu(b.data, b.data_len, &n) < 0 ||
        n.net_msg || sb_bac_dec_apdu(n.payload, n.payload_len, &a) < 0 || !a.seg)
        return 0;
    return a.body_len;
}

/* Cut the packet and fix the BVLC length so the inner layers see the
 * truncation.  Only prefixes that are themselves whole messages may
 * decode: a Who-Is without range, the first of two RPM specifications,
 * a shorter I-Am-Router list, Who-Is-Router without DNET, a request cut
 * before its trailing OPTIONAL fields (array index, priority, SubscribeCOV
 * lifetime and confirmed flag), and any prefix of a segment's body
 * (opaque until reassembly). */
TEST(truncated_layers)
{
    static const struct { const char *name; size_t ok; } allowed[] = {
        { "whois_range", 1 }, { "whois_distribute", 1 }, { "rpm_req", 1 },
        { "nl_who_is_router_7", 1 }, { "nl_i_am_router", 2 }, { "rp_req_index", 1 },
        { "wp_real_prio8", 1 }, { "wp_relinquish16", 1 }, { "subcov", 2 },
    };
    static struct flds f;
    uint8_t p[PKT_MAX];

    for (size_t i = 0; i < nvec; i++) {
        size_t want = seg_body_len(&vecs[i]), got = 0;

        for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++)
            if (!strcmp(allowed[k].name, vecs[i].name))
                want = allowed[k].ok;
        for (size_t l = 4; l < vecs[i].len; l++) {
            memcpy(p, vecs[i].pkt, l);
            p[2] = (uint8_t)(l >> 8);
            p[3] = (uint8_t)l;
            memset(&f, 0, sizeof(f));
            got += dec_packet(&f, p, l) >= 0;
        }
        if (got != want)
            TAP_FAIL("%s: %zu truncations decoded, expected %zu", vecs[i].name, got, want);
    }
}

/* Random corruption of the golden packets never crashes (ASan/UBSan). */
TEST(mutated_packets)
{
    static struct flds f;
    uint8_t p[PKT_MAX];
    uint64_t s = 42;
    size_t ok = 0, total = 0;

    for (size_t i = 0; i < nvec; i++)
        for (int it = 0; it < 300; it++) {
            memcpy(p, vecs[i].pkt, vecs[i].len);
            for (int k = 0; k < 1 + it % 3; k++)
                p[4 + tap_rand(&s) % (vecs[i].len - 4)] ^= (uint8_t)(1u << (tap_rand(&s) % 8));
            memset(&f, 0, sizeof(f));
            ok += dec_packet(&f, p, vecs[i].len) >= 0;
            total++;
        }
    CHECK(ok < total);   /* at least some corruption is caught */
    printf("# %zu of %zu mutated packets still decode\n", ok, total);
}

/* Headers decode and re-encode to the same bytes (canonical encoders). */
TEST(header_round_trip)
{
    for (size_t i = 0; i < nvec; i++) {
        const struct vec *v = &vecs[i];
        struct sb_bac_bvlc b;
        struct sb_bac_npdu n;
        struct sb_bac_apdu a;
        uint8_t out[PKT_MAX];
        ssize_t k;

        REQUIRE(sb_bac_dec_bvlc(v->pkt, v->len, &b) == (ssize_t)v->len);
        if (b.function == SB_BVLC_ORIGINAL_UNICAST || b.function == SB_BVLC_ORIGINAL_BCAST ||
            b.function == SB_BVLC_FORWARDED_NPDU || b.function == SB_BVLC_DISTRIBUTE_BCAST) {
            REQUIRE(sb_bac_dec_npdu(b.data, b.data_len, &n) > 0);
            if (!n.net_msg) {
                REQUIRE(sb_bac_dec_apdu(n.payload, n.payload_len, &a) > 0);
                k = sb_bac_enc_apdu(out, sizeof(out), &a);
                CHECK(k == (ssize_t)n.payload_len && !memcmp(out, n.payload, (size_t)k));
                CHECK_EQ(sb_bac_enc_apdu(NULL, 0, &a), k);
            }
            k = sb_bac_enc_npdu(out, sizeof(out), &n);
            CHECK(k == (ssize_t)b.data_len && !memcmp(out, b.data, (size_t)k));
            CHECK_EQ(sb_bac_enc_npdu(NULL, 0, &n), k);
        }
        k = sb_bac_enc_bvlc(out, sizeof(out), &b);
        if (k != (ssize_t)v->len || memcmp(out, v->pkt, v->len))
            TAP_FAIL("%s: BVLC re-encode differs", v->name);
        CHECK_EQ(sb_bac_enc_bvlc(NULL, 0, &b), (ssize_t)v->len);
        CHECK_EQ(sb_bac_enc_bvlc(out, v->len - 1, &b), SB_ENOSPC);
    }
}

static struct sb_bac_oid rand_oid(uint64_t *s)
{
    return (struct sb_bac_oid){ (uint16_t)(tap_rand(s) % 1024),
                                (uint32_t)(tap_rand(s) % (SB_BAC_MAX_INSTANCE + 1)) };
}

static bool same_oid(struct sb_bac_oid a, struct sb_bac_oid b)
{
    return a.type == b.type && a.instance == b.instance;
}

/* ReadProperty, WriteProperty and SubscribeCOV with random fields. */
TEST(service_round_trip)
{
    uint64_t s = 7;
    uint8_t b[256], val[8] = { 0x44, 0x41, 0xac, 0, 0 };   /* Real 21.5 */

    for (int it = 0; it < 5000; it++) {
        struct sb_bac_wp w = { rand_oid(&s), (uint32_t)(tap_rand(&s) % 4194304), tap_rand(&s) & 1,
                               (uint32_t)tap_rand(&s), val, 5, (uint8_t)(tap_rand(&s) % 17) }, wd;
        struct sb_bac_rp r = { w.oid, w.prop, w.has_index, w.has_index ? w.index : 0, val, 5 }, rd;
        struct sb_bac_subcov c = { (uint32_t)tap_rand(&s), w.oid, tap_rand(&s) & 1, tap_rand(&s) & 1,
                                   tap_rand(&s) & 1, (uint32_t)tap_rand(&s) }, cd;
        ssize_t n;

        n = sb_bac_enc_wp(b, sizeof(b), &w);
        REQUIRE(n > 0 && sb_bac_dec_wp(b, (size_t)n, &wd) == n);
        CHECK(same_oid(w.oid, wd.oid) && w.prop == wd.prop && w.has_index == wd.has_index &&
              (!w.has_index || w.index == wd.index) && w.priority == wd.priority &&
              wd.value_len == 5 && !memcmp(wd.value, val, 5));
        n = sb_bac_enc_rp_ack(b, sizeof(b), &r);
        REQUIRE(n > 0 && sb_bac_dec_rp_ack(b, (size_t)n, &rd) == n);
        CHECK(same_oid(r.oid, rd.oid) && r.prop == rd.prop && r.has_index == rd.has_index &&
              r.index == rd.index && rd.value_len == 5);
        n = sb_bac_enc_rp_req(b, sizeof(b), &r);
        REQUIRE(n > 0 && sb_bac_dec_rp_req(b, (size_t)n, &rd) == n);
        CHECK(rd.value == NULL && r.index == rd.index);
        if (!c.has_confirmed)
            c.confirmed = false;
        if (!c.has_lifetime)
            c.lifetime = 0;
        n = sb_bac_enc_subcov(b, sizeof(b), &c);
        REQUIRE(n > 0 && sb_bac_dec_subcov(b, (size_t)n, &cd) == n);
        CHECK(c.pid == cd.pid && same_oid(c.oid, cd.oid) && c.has_confirmed == cd.has_confirmed &&
              c.confirmed == cd.confirmed && c.has_lifetime == cd.has_lifetime && c.lifetime == cd.lifetime);
    }
}

/* The layers can be built in place, inside out, in one buffer. */
TEST(in_place_layers)
{
    uint8_t b[64];
    struct sb_bac_whois wi = { true, 10, 20 };
    ssize_t n = sb_bac_enc_whois(b + 30, 34, &wi);
    struct sb_bac_apdu a = { .type = SB_BAC_PDU_UNCONFIRMED, .service = SB_BAC_SVC_WHO_IS,
                             .body = b + 30, .body_len = (size_t)n };
    struct sb_bac_npdu np = { .payload = b + 28 };
    struct sb_bac_bvlc bv = { .function = SB_BVLC_ORIGINAL_BCAST, .data = b + 26 };
    uint8_t want[16];
    size_t wn = unhex("810b000c01001008090a1914", want, sizeof(want));

    np.payload_len = (size_t)sb_bac_enc_apdu(b + 28, 36, &a);
    bv.data_len = (size_t)sb_bac_enc_npdu(b + 26, 38, &np);
    n = sb_bac_enc_bvlc(b, sizeof(b), &bv);
    CHECK(n == (ssize_t)wn && !memcmp(b, want, wn));
}

int main(void)
{
    int have = load_vectors() == 0;

    TAP_START();
    RUN(app_examples);
    RUN(int_widths);
    RUN(ext_lengths);
    RUN(tag_numbers);
    RUN(bad_primitives);
    RUN(value_round_trip);
    RUN(constructed);
    RUN(bvlc_checks);
    RUN(npdu_checks);
    RUN(apdu_checks);
    RUN(service_checks);
    RUN(service_round_trip);
    RUN(in_place_layers);
    if (!have)
        printf("# cannot open %s (run from the repository root)\n", VEC_PATH);
    RUN(vectors_match_tshark);
    RUN(truncated_datagrams);
    RUN(truncated_layers);
    RUN(mutated_packets);
    RUN(header_round_trip);
    TAP_END();
}

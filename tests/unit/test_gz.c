/*
 * test_gz.c - gzip bodies round-trip through zlib's own gzip decoder, and
 * Accept-Encoding values are judged per RFC 9110 section 12.5.3.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/gz.h"
#include "core/err.h"
#include "tap.h"

/* Inflate a gzip member (windowBits 15 + 16: gzip only, no auto-detect)
 * into out[cap]; returns the length or -1.  Also checks that the member is
 * the whole buffer. */
static long gunzip(const void *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (inflateInit2(&zs, 15 + 16) != Z_OK)
        return -1;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int zr = inflate(&zs, Z_FINISH);
    long got = zr == Z_STREAM_END && zs.avail_in == 0 ? (long)zs.total_out : -1;
    inflateEnd(&zs);
    return got;
}

static void round_trip(const unsigned char *in, size_t n, int level)
{
    void *z = NULL;
    size_t zn = 0;
    CHECK_EQ(sb_gzip(in, n, level, &z, &zn), 0);
    REQUIRE(z != NULL);
    CHECK(zn >= 18);                        /* 10-byte header + 8-byte trailer */
    const unsigned char *b = z;
    CHECK(b[0] == 0x1f && b[1] == 0x8b && b[2] == 8);   /* RFC 1952 ID1 ID2 CM */
    unsigned char *back = malloc(n + 1);
    REQUIRE(back != NULL);
    long got = gunzip(z, zn, back, n + 1);
    CHECK_EQ(got, (long)n);
    CHECK(got == (long)n && (n == 0 || memcmp(back, in, n) == 0));
    free(back);
    free(z);
}

TEST(gzip_empty)
{
    round_trip(NULL, 0, -1);
    round_trip((const unsigned char *)"", 0, 9);
}

TEST(gzip_small)
{
    const char *s = "{\"points\":[1,2,3],\"status\":\"ok\"}";
    round_trip((const unsigned char *)s, strlen(s), -1);
    round_trip((const unsigned char *)s, strlen(s), 0);   /* stored blocks */
    round_trip((const unsigned char *)s, strlen(s), 1);
}

TEST(gzip_1mib)
{
    size_t n = 1 << 20;
    unsigned char *in = malloc(n);
    REQUIRE(in != NULL);
    uint64_t seed = 42;
    /* half compressible text, half random bytes */
    for (size_t i = 0; i < n / 2; i++)
        in[i] = (unsigned char)"2026-01-02T03:04:05.000Z,21.5\r\n"[i % 31];
    for (size_t i = n / 2; i < n; i++)
        in[i] = (unsigned char)tap_rand(&seed);
    round_trip(in, n, -1);
    round_trip(in, n, 9);
    void *z = NULL;
    size_t zn = 0;
    CHECK_EQ(sb_gzip(in, n / 2, 6, &z, &zn), 0);
    CHECK(zn < n / 20);                     /* the text half really compresses */
    free(z);
    free(in);
}

TEST(gzip_bad_args)
{
    void *z = NULL;
    size_t zn = 0;
    CHECK_EQ(sb_gzip("x", 1, 10, &z, &zn), SB_EINVAL);
    CHECK_EQ(sb_gzip("x", 1, -2, &z, &zn), SB_EINVAL);
    CHECK_EQ(sb_gzip(NULL, 1, 6, &z, &zn), SB_EINVAL);
    CHECK_EQ(sb_gzip("x", 1, 6, NULL, &zn), SB_EINVAL);
    CHECK(z == NULL);
}

TEST(accept_encoding)
{
    static const struct { const char *v; int want; } c[] = {
        { "gzip", 1 },
        { "GZIP", 1 },
        { "x-gzip", 1 },
        { "deflate, gzip;q=0.5", 1 },
        { "deflate , gzip ; Q=0.5 ", 1 },
        { "gzip;q=0", 0 },
        { "gzip;q=0.000", 0 },
        { "gzip;q=0.001", 1 },
        { "gzip;q=1.000", 1 },
        { "gzip;q=0, *", 0 },            /* explicit refusal beats * */
        { "*", 1 },
        { "*;q=0", 0 },
        { "*;q=0, gzip", 1 },
        { "identity;q=0, *;q=0.1", 1 },
        { "br", 0 },
        { "br, identity", 0 },
        { "", 0 },
        { " , ,gzip,", 1 },              /* empty list elements are allowed */
        { "gzip;q=1.5", 0 },             /* malformed qvalue */
        { "gzip;q=0.1234", 0 },
        { "gzip;q=", 0 },
        { "gzip;level=1", 0 },
        { "gzip q=1", 0 },
        { "gzip;;q=1", 0 },
        { "gz\"ip", 0 },
        { "\x01\x02garbage", 0 },
        { ";q=1", 0 },
        { "gzipped", 0 },
        { "deflate, br;q=1, gzip;q=0.000, *;q=1", 0 },
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
        if (sb_accepts_gzip(c[i].v) != c[i].want)
            TAP_FAIL("Accept-Encoding \"%s\": got %d, want %d", c[i].v,
                     sb_accepts_gzip(c[i].v), c[i].want);
    CHECK_EQ(sb_accepts_gzip(NULL), 0);
}

int main(void)
{
    TAP_START();
    RUN(gzip_empty);
    RUN(gzip_small);
    RUN(gzip_1mib);
    RUN(gzip_bad_args);
    RUN(accept_encoding);
    TAP_END();
}

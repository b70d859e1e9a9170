/*
 * fuzz_chunk.c - libFuzzer target for store/codec.
 *
 * The first input byte picks what the rest is:
 *   0  a chunk: decode it; if that succeeds, the samples must satisfy the
 *      chunk's invariants, re-encode, decode again to the same bits, and
 *      agree with sb_chunk_count() and sb_chunk_span();
 *   1  a column: byte 1 picks times / values / flags, byte 2 the count / 16;
 *      decode, and if that succeeds re-encode and decode again;
 *   2  samples to encode: each 8+8+2 bytes give a time step, value bits and
 *      flags; encode (NULL length first), decode, compare bit for bit.
 * Any broken property traps.  Seeds: fuzz/corpus/chunk/ (encoder output
 * with the selector byte in front).  libFuzzer writes new inputs into the
 * first corpus directory, so give it a scratch one first:
 *   fuzz_chunk -max_total_time=60 /tmp/chunk-corpus fuzz/corpus/chunk/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "store/codec.h"

#define MAX_N 4096

static struct sb_sample s1[MAX_N], s2[MAX_N];
static uint8_t enc[64 + 24 * MAX_N];   /* sb_chunk_bound(MAX_N) */

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static uint64_t bits_of(double d)
{
    uint64_t u;

    memcpy(&u, &d, sizeof u);
    return u;
}

static void same_samples(const struct sb_sample *a, const struct sb_sample *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        REQUIRE(a[i].t == b[i].t && bits_of(a[i].v) == bits_of(b[i].v) && a[i].q == b[i].q);
}

/* Encodes s1[0..n), checks the length contract, decodes into s2. */
static void reencode(size_t n)
{
    ssize_t need = sb_chunk_encode(NULL, 0, s1, n), len;
    size_t got = 0;

    REQUIRE(need > 0 && (size_t)need <= sb_chunk_bound(n) && (size_t)need <= sizeof enc);
    len = sb_chunk_encode(enc, (size_t)need, s1, n);
    REQUIRE(len == need);
    if (need > 1)
        REQUIRE(sb_chunk_encode(enc, (size_t)need - 1, s1, n) == SB_ENOSPC);
    len = sb_chunk_encode(enc, (size_t)need, s1, n);
    REQUIRE(sb_chunk_decode(enc, (size_t)len, s2, n, &got) == 0 && got == n);
    same_samples(s1, s2, n);
}

static void fuzz_chunk(const uint8_t *d, size_t len)
{
    size_t n = 0, cnt = 0;
    int64_t first, last;
    int rc = sb_chunk_decode(d, len, s1, MAX_N, &n);

    if (rc != 0)
        return;
    REQUIRE(sb_chunk_count(d, len, &cnt) == 0 && cnt == n);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(s1[i].v - s1[i].v == 0);               /* finite */
        REQUIRE(i == 0 || s1[i].t > s1[i - 1].t);
    }
    rc = sb_chunk_span(d, len, &first, &last);
    REQUIRE(n ? rc == 0 && first == s1[0].t && last == s1[n - 1].t : rc == SB_ENOENT);
    reencode(n);
}

/* Decodes, re-encodes and decodes again one column of n elements. */
static void fuzz_column(const uint8_t *d, size_t len)
{
    static int64_t t[MAX_N], t2[MAX_N];
    static double v[MAX_N], v2[MAX_N];
    static uint16_t q[MAX_N], q2[MAX_N];
    size_t n;
    ssize_t r, w;

    if (len < 2)
        return;
    n = d[1] * 16u;
    switch (d[0] % 3) {
    case 0:
        if ((r = sb_codec_get_times(d + 2, len - 2, t, n)) < 0)
            return;
        REQUIRE((size_t)r <= len - 2);
        w = sb_codec_put_times(enc, sizeof enc, t, n);
        REQUIRE(w >= 0 && sb_codec_get_times(enc, (size_t)w, t2, n) == w);
        REQUIRE(memcmp(t, t2, n * sizeof *t) == 0);
        break;
    case 1:
        if ((r = sb_codec_get_values(d + 2, len - 2, v, n)) < 0)
            return;
        REQUIRE((size_t)r <= len - 2);
        w = sb_codec_put_values(enc, sizeof enc, v, n);
        REQUIRE(w >= 0 && sb_codec_get_values(enc, (size_t)w, v2, n) == w);
        REQUIRE(memcmp(v, v2, n * sizeof *v) == 0);
        break;
    default:
        if ((r = sb_codec_get_u16s(d + 2, len - 2, q, n)) < 0)
            return;
        REQUIRE((size_t)r <= len - 2);
        w = sb_codec_put_u16s(enc, sizeof enc, q, n);
        REQUIRE(w >= 0 && sb_codec_get_u16s(enc, (size_t)w, q2, n) == w);
        REQUIRE(memcmp(q, q2, n * sizeof *q) == 0);
        break;
    }
}

/* Samples from raw bytes: time steps >= 1 (saturating at INT64_MAX), values
 * from raw bits (non-finite ones replaced) or, when the top byte says so,
 * small decimals, flags as given. */
static void fuzz_encode(const uint8_t *d, size_t len)
{
    size_t n = 0;
    uint64_t t = 0;

    for (; n < MAX_N && len >= 18; n++, d += 18, len -= 18) {
        uint64_t step, vb;
        uint16_t q;

        memcpy(&step, d, 8);
        memcpy(&vb, d + 8, 8);
        memcpy(&q, d + 16, 2);
        step = n == 0 ? step : 1 + (step >> (step & 63));
        if (n > 0 && step > UINT64_MAX - t)
            break;
        t += step;
        s1[n].t = (int64_t)(t ^ (UINT64_C(1) << 63));
        s1[n].v = vb >> 56 == 0x42 ? (double)(int64_t)(vb & 0xffffff) / 100.0
                                   : (memcpy(&s1[n].v, &vb, 8), s1[n].v);
        if (s1[n].v - s1[n].v != 0)
            s1[n].v = -0.0;
        s1[n].q = q;
    }
    reencode(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0:  fuzz_chunk(data + 1, size - 1); break;
    case 1:  fuzz_column(data + 1, size - 1); break;
    default: fuzz_encode(data + 1, size - 1); break;
    }
    return 0;
}

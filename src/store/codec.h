/*
 * codec.h - compression of time series: pure functions on byte buffers.
 *
 * A chunk holds the samples of one point, sorted by strictly increasing time.
 * Layout (all integers little-endian varints unless said otherwise):
 *   version byte, count, then three columns: times, values, quality.
 * Times: first timestamp (zig-zag varint), first delta, then delta-of-delta
 *   with a Gorilla-style prefix code (Pelkonen et al., "Gorilla", VLDB 2015,
 *   section 4.1.1) so regular series cost about one bit per sample.  The
 *   code is exponential-Golomb with an order chosen per column, so jittered
 *   poll times cost about one byte instead of a fixed table's worst case.
 * Values: if all values have the same bits, they are stored once.  Else if
 *   every value is a decimal with at most 6 fractional digits that
 *   round-trips exactly through (integer / 10^k), the column stores scaled
 *   integers as deltas (or delta-of-deltas, whichever is smaller) with a short
 *   prefix code (0 and +/-1 take 1-3 bits); otherwise Gorilla's XOR encoding
 *   of the IEEE-754 bits (section 4.1.2).  Decoding is bit-exact in all modes.
 * Quality: run-length encoded (runs of equal flags), almost always one run.
 * The byte-level format is in docs/internals/compression.md.
 *
 * Every function here is pure: no I/O, no globals, no allocation, no logging.
 * Encoders take (buf, cap); with buf == NULL they only compute the length.
 * They return the number of bytes written (or needed), or a negative SB_E*.
 * Decoders never read past len and return SB_ECORRUPT on malformed input.
 */
#ifndef SB_CODEC_H
#define SB_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/sample.h"

#define SB_CHUNK_VERSION 1
#define SB_CHUNK_MAX_SAMPLES (1u << 24)   /* decoder refuses more */

/* Upper bound of the encoded size of a chunk of n samples. */
size_t sb_chunk_bound(size_t n);

/* Encode n samples (t strictly increasing; values finite) into buf.
 * Returns bytes written / needed, SB_EINVAL on unsorted or non-finite input
 * (or n > SB_CHUNK_MAX_SAMPLES), SB_ENOSPC if cap is too small (checked
 * after the input, so SB_EINVAL wins; buf's contents are then unspecified). */
ssize_t sb_chunk_encode(uint8_t *buf, size_t cap, const struct sb_sample *s, size_t n);

/* Read a chunk's header: the sample count, without decoding any column.
 * Returns 0 or SB_ECORRUPT (unknown version, count too large for the
 * limit or for len).  First and last time: sb_chunk_span(). */
int sb_chunk_count(const uint8_t *buf, size_t len, size_t *n);

/* Decode a chunk into out[0..cap).  *n receives the sample count.
 * Returns 0, SB_ENOSPC if cap < count (with *n set), or SB_ECORRUPT (*n = 0)
 * on anything malformed, including bytes left over after the chunk: len must
 * be the chunk's exact length. */
int sb_chunk_decode(const uint8_t *buf, size_t len, struct sb_sample *out, size_t cap, size_t *n);

/* First and last time of a chunk, decoding (and checking) only the time
 * column.  Returns 0, SB_ENOENT for an empty chunk, or SB_ECORRUPT. */
int sb_chunk_span(const uint8_t *buf, size_t len, int64_t *first, int64_t *last);

/* Column codecs, used by chunks and by rollup pages.  put_* return bytes
 * written/needed; get_* return bytes consumed; both negative on error.
 * Times need not be regular but must be sorted non-decreasing for
 * put_times; values must be finite.  A column does not store its count:
 * get_* must be given the n that put_* was given.  Columns of n == 0 are
 * empty (0 bytes).  get_* accept a NULL output to only check and measure. */
ssize_t sb_codec_put_times(uint8_t *buf, size_t cap, const int64_t *t, size_t n);
ssize_t sb_codec_get_times(const uint8_t *buf, size_t len, int64_t *t, size_t n);
ssize_t sb_codec_put_values(uint8_t *buf, size_t cap, const double *v, size_t n);
ssize_t sb_codec_get_values(const uint8_t *buf, size_t len, double *v, size_t n);
ssize_t sb_codec_put_u16s(uint8_t *buf, size_t cap, const uint16_t *q, size_t n);
ssize_t sb_codec_get_u16s(const uint8_t *buf, size_t len, uint16_t *q, size_t n);

/* Varints (LEB128) and zig-zag, exposed for other encoders. */
ssize_t sb_varint_put(uint8_t *buf, size_t cap, uint64_t x);
ssize_t sb_varint_get(const uint8_t *buf, size_t len, uint64_t *x);
static inline uint64_t sb_zigzag(int64_t x) { return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63); }
static inline int64_t sb_unzigzag(uint64_t x) { return (int64_t)(x >> 1) ^ -(int64_t)(x & 1); }

#endif /* SB_CODEC_H */

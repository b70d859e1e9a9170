/*
 * gz.h - gzip response bodies and the Accept-Encoding check that allows them.
 *
 * sb_gzip() compresses a whole buffer into one gzip member (RFC 1952) with
 * zlib; sb_accepts_gzip() answers whether a request's Accept-Encoding field
 * value (RFC 9110 section 12.5.3) lets the server send Content-Encoding: gzip.
 * Pure functions: no globals, no logging, safe from any thread.  The buffer
 * sb_gzip() returns is malloc'd and owned by the caller (free()).
 */
#ifndef SB_API_GZ_H
#define SB_API_GZ_H

#include <stddef.h>

/* Compress in[0..n) (in may be NULL when n is 0) into a single gzip member.
 * level is zlib's: -1 (default, 6) or 0..9.  On success *out is a malloc'd
 * buffer of *outlen bytes.  Returns 0, SB_EINVAL (bad level or arguments),
 * SB_ENOMEM, or SB_EIO (zlib reported an internal error). */
int sb_gzip(const void *in, size_t n, int level, void **out, size_t *outlen);

/* 1 when the Accept-Encoding field value ae allows gzip, else 0.
 * Tokens are case-insensitive and "x-gzip" counts as "gzip" (RFC 9110
 * section 8.4.1.3).  An explicit gzip entry decides by its q-value (q=0 is a
 * refusal even if "*" is accepted); otherwise "*" with q > 0 allows it.
 * "identity" and other codings are irrelevant.  NULL, an empty value (the
 * client wants no coding, section 12.5.3) and any value that does not match
 * the grammar  #( codings [ OWS ";" OWS "q=" qvalue ] )  give 0. */
int sb_accepts_gzip(const char *ae);

#endif /* SB_API_GZ_H */

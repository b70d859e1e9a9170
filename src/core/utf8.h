/*
 * utf8.h - well-formed UTF-8, one sequence at a time (RFC 3629 section 4:
 * no overlong forms, no UTF-16 surrogates, nothing above U+10FFFF).
 *
 * Pure: no allocation, no state.  Every module that checks or cleans text
 * from outside (log lines, exports, reports, alert texts, database text)
 * uses this one decoder, so they agree on what is valid.
 */
#ifndef SB_CORE_UTF8_H
#define SB_CORE_UTF8_H

#include <stddef.h>

/* Length (1-4) of the well-formed sequence at s, of at most n bytes, or 0
 * when the bytes there are not one.  A NUL-terminated string may pass
 * SIZE_MAX: a NUL fails every check before any byte after it is read. */
size_t sb_utf8_seq(const unsigned char *s, size_t n);

/* 1 when the n bytes at s are well-formed UTF-8 (NULs included), else 0. */
int sb_utf8_valid(const unsigned char *s, size_t n);

#endif /* SB_CORE_UTF8_H */

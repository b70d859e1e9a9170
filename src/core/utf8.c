/*
 * utf8.c - see utf8.h.  The ranges of the second byte are RFC 3629's table
 * in section 4: they exclude overlong forms (E0 80..9F, F0 80..8F),
 * surrogates (ED A0..BF) and code points past U+10FFFF (F4 90..BF).
 */
#include "core/utf8.h"

size_t sb_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (n == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

int sb_utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        if ((k = sb_utf8_seq(s + i, n - i)) == 0)
            return 0;
        i += k;
    }
    return 1;
}

/*
 * test_utf8.c - core/utf8.h against the boundaries of RFC 3629's table
 * (section 4) and the examples of its section 7, and the Unicode standard's
 * ill-formed sequences (Table 3-7 and the U+FFFD substitution examples,
 * section 3.9).
 */
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"
#include "tap.h"

static size_t seq(const char *s)
{
    return sb_utf8_seq((const unsigned char *)s, SIZE_MAX);
}

TEST(well_formed)
{
    CHECK_EQ(seq("A"), 1);
    CHECK_EQ(seq("\x7f"), 1);
    CHECK_EQ(seq("\xc2\x80"), 2);                  /* U+0080, the first two-byte */
    CHECK_EQ(seq("\xdf\xbf"), 2);                  /* U+07FF */
    CHECK_EQ(seq("\xe0\xa0\x80"), 3);              /* U+0800 */
    CHECK_EQ(seq("\xed\x9f\xbf"), 3);              /* U+D7FF, below the surrogates */
    CHECK_EQ(seq("\xee\x80\x80"), 3);              /* U+E000, above them */
    CHECK_EQ(seq("\xef\xbf\xbd"), 3);              /* U+FFFD */
    CHECK_EQ(seq("\xf0\x90\x80\x80"), 4);          /* U+10000 */
    CHECK_EQ(seq("\xf4\x8f\xbf\xbf"), 4);          /* U+10FFFF, the last */
    /* RFC 3629 section 7: "A<NOT IDENTICAL TO><ALPHA>." and Japanese "nihongo" */
    static const char ex1[] = "\x41\xe2\x89\xa2\xce\x91\x2e";
    static const char ex3[] = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
    CHECK(sb_utf8_valid((const unsigned char *)ex1, sizeof(ex1) - 1));
    CHECK(sb_utf8_valid((const unsigned char *)ex3, sizeof(ex3) - 1));
}

TEST(ill_formed)
{
    CHECK_EQ(seq("\x80"), 0);                      /* a lone continuation byte */
    CHECK_EQ(seq("\xc0\xaf"), 0);                  /* overlong '/' (C0, C1 never occur) */
    CHECK_EQ(seq("\xc1\xbf"), 0);
    CHECK_EQ(seq("\xe0\x9f\xbf"), 0);              /* overlong three-byte */
    CHECK_EQ(seq("\xed\xa0\x80"), 0);              /* U+D800, a surrogate */
    CHECK_EQ(seq("\xed\xbf\xbf"), 0);              /* U+DFFF */
    CHECK_EQ(seq("\xf0\x8f\xbf\xbf"), 0);          /* overlong four-byte */
    CHECK_EQ(seq("\xf4\x90\x80\x80"), 0);          /* U+110000 */
    CHECK_EQ(seq("\xf5\x80\x80\x80"), 0);
    CHECK_EQ(seq("\xff"), 0);
    CHECK_EQ(seq("\xe2\x89"), 0);                  /* cut short by the NUL */
    CHECK_EQ(seq("\xf0\x90\x80"), 0);
    /* a bound shorter than the sequence */
    CHECK_EQ(sb_utf8_seq((const unsigned char *)"\xe2\x89\xa2", 2), 0);
    CHECK_EQ(sb_utf8_seq((const unsigned char *)"A", 0), 0);
    CHECK(!sb_utf8_valid((const unsigned char *)"ok\xe2\x89", 4));
    CHECK(sb_utf8_valid((const unsigned char *)"a\0b", 3));   /* NUL is U+0000 */
    CHECK(sb_utf8_valid((const unsigned char *)"", 0));
}

int main(void)
{
    TAP_START();
    RUN(well_formed);
    RUN(ill_formed);
    TAP_END();
}

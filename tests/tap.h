/*
 * tap.h - a tiny Test Anything Protocol harness for sbems unit tests.
 *
 * One binary per module; each TEST() is registered by hand in main() through
 * RUN(name).  Assertions print both operands with file:line on failure and
 * mark the current test "not ok"; the binary exits non-zero if any failed.
 * Output is TAP version 13, run by `prove` so the summary line is standard.
 * Inspired by libuv's test/task.h and git's unit tests.
 */
#ifndef SB_TAP_H
#define SB_TAP_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_n;          /* tests run so far */
static int tap_failed;     /* tests that failed */
static int tap_cur_fail;   /* current test has failed */

#define TAP_FAIL(...)                                                   \
    do {                                                                \
        tap_cur_fail = 1;                                               \
        printf("#   %s:%d: ", __FILE__, __LINE__);                      \
        printf(__VA_ARGS__);                                            \
        printf("\n");                                                   \
    } while (0)

#define CHECK(cond)                                                     \
    do { if (!(cond)) TAP_FAIL("CHECK(%s) failed", #cond); } while (0)

#define CHECK_INT(a, op, b)                                             \
    do {                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);             \
        if (!(a_ op b_))                                                \
            TAP_FAIL("CHECK_INT(%s %s %s): %lld vs %lld",               \
                     #a, #op, #b, a_, b_);                              \
    } while (0)

#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)

#define CHECK_DBL(a, b, eps)                                            \
    do {                                                                \
        double a_ = (double)(a), b_ = (double)(b);                      \
        if (!(fabs(a_ - b_) <= (eps)) && !(isnan(a_) && isnan(b_)))     \
            TAP_FAIL("CHECK_DBL(%s, %s): %.17g vs %.17g (eps %g)",      \
                     #a, #b, a_, b_, (double)(eps));                    \
    } while (0)

#define CHECK_STR(a, b)                                                 \
    do {                                                                \
        const char *a_ = (a), *b_ = (b);                                \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                          \
            TAP_FAIL("CHECK_STR(%s, %s): \"%s\" vs \"%s\"", #a, #b,     \
                     a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
    } while (0)

/* Aborts the current test function (use after a failed precondition). */
#define REQUIRE(cond)                                                   \
    do {                                                                \
        if (!(cond)) { TAP_FAIL("REQUIRE(%s) failed", #cond); return; } \
    } while (0)

#define TEST(name) static void test_##name(void)

#define RUN(name)                                                       \
    do {                                                                \
        tap_cur_fail = 0;                                               \
        test_##name();                                                  \
        tap_n++;                                                        \
        if (tap_cur_fail) tap_failed++;                                 \
        printf("%s %d - %s\n", tap_cur_fail ? "not ok" : "ok", tap_n,   \
               #name);                                                  \
        fflush(stdout);                                                 \
    } while (0)

#define TAP_START() printf("TAP version 13\n")

#define TAP_END()                                                       \
    do {                                                                \
        printf("1..%d\n", tap_n);                                       \
        return tap_failed ? 1 : 0;                                      \
    } while (0)

/* A small deterministic PRNG (xorshift64*) so property tests replay. */
static inline uint64_t tap_rand(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

#endif /* SB_TAP_H */

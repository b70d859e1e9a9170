/*
 * fuzz_nsched.c - libFuzzer target for the values a controller answers
 * for its native Schedule and Calendar (src/control/native.c:
 * sb_nsched_dec_week, _dec_exc, _dec_dates): a device's Weekly_Schedule,
 * Exception_Schedule and Date_List are bytes from the network.
 *
 * Input: one byte that picks the property (0 Weekly_Schedule, 1
 * Exception_Schedule, 2 Date_List; the rest modulo 3), then the value as
 * the device sent it (the application-tagged data of a ReadProperty-ACK).
 * Properties (a broken one traps): a value that decodes with nothing odd
 * encodes again, and that encoding decodes to the same program
 * (sb_nsched_diff finds nothing); the program's JSON view is built; nothing
 * leaks or is read out of bounds (ASan).  Seeds: fuzz/corpus/nsched/,
 * programs of sb_nsched_build encoded by sb_nsched_enc_*.
 */
#include <stdint.h>
#include <stdlib.h>

#include "control/native.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static const unsigned part_of[3] = { SB_NPART_WEEK, SB_NPART_EXC, SB_NPART_DATES };

static int dec(int k, const uint8_t *b, size_t n, struct sb_nprog *p)
{
    return k == 0 ? sb_nsched_dec_week(b, n, p) : k == 1 ? sb_nsched_dec_exc(b, n, p)
                                                         : sb_nsched_dec_dates(b, n, p);
}

static ssize_t enc(int k, const struct sb_nprog *p, uint8_t *b, size_t cap)
{
    return k == 0 ? sb_nsched_enc_week(p, b, cap) : k == 1 ? sb_nsched_enc_exc(p, b, cap)
                                                           : sb_nsched_enc_dates(p, b, cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_nprog p, q;
    if (size < 1)
        return 0;
    int k = data[0] % 3;
    sb_nprog_init(&p);
    if (dec(k, data + 1, size - 1, &p) == 0) {
        json_t *j = sb_nsched_json(&p);
        json_decref(j);
        ssize_t n = p.odd[k] ? -1 : enc(k, &p, NULL, 0);
        uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
        if (b && enc(k, &p, b, (size_t)n) == n) {
            sb_nprog_init(&q);
            q.type = p.type;
            REQUIRE(dec(k, b, (size_t)n, &q) == 0);
            REQUIRE(sb_nsched_diff(&p, &q, part_of[k], NULL, 0) == 0);
            sb_nprog_release(&q);
        }
        free(b);
    }
    sb_nprog_release(&p);
    return 0;
}

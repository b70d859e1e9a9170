/*
 * fuzz_simmb.c - libFuzzer target for the one parser of outside bytes in
 * sbems-sim's Modbus meters (src/sim/mbdev.c): sb_simmb__frame(), which
 * delimits Modbus/TCP requests by their MBAP header before libmodbus
 * builds the answer.
 *
 * The input is a byte stream cut into segments the way recv() delivers
 * them: each segment is appended to a 260-byte buffer as the server does,
 * then every whole request is taken off the front.  Invariants: a framed
 * request is 8..260 bytes, inside the buffer, with a function code 1..127
 * and, for reads (1-4), exactly 12 bytes; "need more" is only said while the
 * buffer is not full and the header's length is not there yet; a refusal
 * is SB_EPROTO and ends the connection (the stream).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/mbdev.h"

#define ADU_MAX 260

static void check_framed(const struct sb_simmb_req *r, size_t len)
{
    if (r->len < 8 || r->len > ADU_MAX || r->len > len || r->fc == 0 || r->fc >= 0x80)
        abort();
    if (r->fc <= 4 && r->len != 12)
        abort();
}

static void check_more(const uint8_t *b, size_t len)
{
    if (len >= ADU_MAX)
        abort();            /* a full buffer must frame or fail */
    if (len >= 7 && len >= 6 + ((size_t)b[4] << 8 | b[5]))
        abort();            /* the whole request was there */
}

/* Take whole requests off the front; 0 to go on, -1 when refused. */
static int drain(uint8_t *buf, size_t *len)
{
    struct sb_simmb_req r;
    int rc;

    while ((rc = sb_simmb__frame(buf, *len, &r)) == 1) {
        check_framed(&r, *len);
        memmove(buf, buf + r.len, *len - r.len);
        *len -= r.len;
    }
    if (rc == 0) {
        check_more(buf, *len);
        return 0;
    }
    if (rc != SB_EPROTO)
        abort();
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t buf[ADU_MAX];
    size_t len = 0, i = 0;

    /* segment sizes come from the data itself: byte k (mod 64) + 1 */
    while (i < size) {
        size_t seg = (size_t)(data[i] % 64) + 1;
        if (seg > size - i)
            seg = size - i;
        if (seg > sizeof buf - len)
            seg = sizeof buf - len;
        memcpy(buf + len, data + i, seg);
        len += seg;
        i += seg;
        if (drain(buf, &len) != 0)
            break;
    }
    return 0;
}

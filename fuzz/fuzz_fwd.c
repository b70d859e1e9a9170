/*
 * fuzz_fwd.c - libFuzzer target for the forwarding messages sbems nodes
 * send each other through Redis (src/api/fwd.c): sb_api__fwd_parse on the
 * message, then sb_api__fwd_write_parse on a request's body.  The bytes
 * come from any node, and from anything else that can PUBLISH on that
 * Redis.
 *
 * Properties (a broken one traps): a parsed message is a request with a
 * non-empty kind or a reply, from a non-empty node id shorter than its
 * bound, with an id > 0 and an object body; a parsed write has a point id
 * > 0, a priority 0..16, a finite value unless it relinquishes (then NaN),
 * an expiry >= 0 and an object as the original command; nothing leaks or
 * is read out of bounds (ASan).  Seeds: fuzz/corpus/fwd/.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "api/fwd.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_fwd_msg m;
    struct sb_fwd_write w;

    if (sb_api__fwd_parse((const char *)data, size, &m) != 0) {
        REQUIRE(m.body == NULL);
        return 0;
    }
    REQUIRE(m.op == SB_FWD_REQ || m.op == SB_FWD_REP);
    REQUIRE(m.op == SB_FWD_REP || m.kind[0]);
    REQUIRE(m.from.node[0] && strlen(m.from.node) < SB_FWD_NODE_MAX);
    REQUIRE(m.from.id > 0 && json_is_object(m.body));
    if (m.op == SB_FWD_REQ && sb_api__fwd_write_parse(m.body, &w) == 0) {
        REQUIRE(w.point && w.username && w.ip && json_is_object(w.asked));
        REQUIRE(w.point_id > 0 && w.priority >= 0 && w.priority <= 16 && w.expires >= 0);
        REQUIRE(w.relinquish ? isnan(w.value) : isfinite(w.value));
    }
    json_decref(m.body);
    return 0;
}

/*
 * fuzz_xff.c - libFuzzer target for the client address behind trusted
 * proxies (src/core/cidr.c): X-Forwarded-For is what any client writes, and
 * api.trusted_proxies what an operator types.
 *
 * Input: "<trusted list>\n<peer>\n<X-Forwarded-For>" (missing parts empty).
 * Properties (a broken one traps): a list that parses has at most
 * SB_CIDR_MAX networks; the answer is the peer itself when the peer is not
 * trusted, and otherwise either the peer or an address (it parses back and
 * matches or not consistently); nothing is read or written out of bounds
 * (ASan).  Seeds: fuzz/corpus/xff/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/cidr.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *peer = NULL, *xff = NULL, out[SB_IP_STR];
    struct sb_cidrs px;

    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if ((peer = strchr(s, '\n')) != NULL) {
        *peer++ = '\0';
        if ((xff = strchr(peer, '\n')) != NULL)
            *xff++ = '\0';
    }
    if (sb_cidrs_parse(s, &px, NULL, 0) == 0 && peer && strlen(peer) < SB_IP_STR) {
        REQUIRE(px.n <= SB_CIDR_MAX);
        sb_client_ip(&px, peer, xff, out, sizeof(out));
        if (!sb_cidrs_match(&px, peer))
            REQUIRE(strcmp(out, peer) == 0);
        else if (strcmp(out, peer) != 0) {
            struct sb_cidrs any;
            REQUIRE(sb_cidrs_parse("0.0.0.0/0 ::/0", &any, NULL, 0) == 0);
            REQUIRE(sb_cidrs_match(&any, out));          /* an address, in canonical form */
        }
    }
    free(s);
    return 0;
}

/*
 * fuzz_jwt.c - libFuzzer target for access-token verification
 * (src/auth/jwt.c sb_jwt_verify): what any HTTP client controls in its
 * Authorization header, before it is anybody.
 *
 * The input, NUL-terminated, is the token, checked against a fixed ring of
 * two keys at a fixed time.  An input starting with '!' is
 * "header.payload" that the harness signs with the active key first, so
 * the fuzzer also reaches the claim checks and libjwt's decoder, which a
 * random signature never would.
 * Properties (a broken one traps): the result is 0, SB_EINVAL,
 * SB_ETIMEDOUT or SB_ENOMEM; an accepted token has uid > 0, a kid of the
 * ring, iat < exp, iat no later and exp no earlier than the skew allows,
 * and re-issuing its claims gives a token that verifies to the same claims.
 * Seeds: fuzz/corpus/jwt/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "core/err.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)
#define NOW_MS 1795651200000LL   /* 2026-11-27T00:00:00Z, the seeds' clock */

static struct sb_keyring ring;

/* Keys 0x00..0x1f ("fz-active") and 0x20..0x3f ("fz-old"), so seeds can be
 * made outside the harness. */
static void ring_init(void)
{
    static int done;

    if (done)
        return;
    done = 1;
    REQUIRE(sodium_init() >= 0);
    ring.n = 2;
    strcpy(ring.keys[0].kid, "fz-active");
    strcpy(ring.keys[1].kid, "fz-old");
    for (int i = 0; i < SB_JWT_KEY_BYTES; i++) {
        ring.keys[0].k[i] = (unsigned char)i;
        ring.keys[1].k[i] = (unsigned char)(i + 32);
    }
    strcpy(ring.active, "fz-active");
}

/* "!h.p" -> "h.p.<HMAC-SHA-256 with the active key>" */
static char *sign(const uint8_t *data, size_t size)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char *t = malloc(size + 64);

    if (!t)
        return NULL;
    memcpy(t, data + 1, size - 1);
    crypto_auth_hmacsha256(mac, data + 1, size - 1, ring.keys[0].k);
    t[size - 1] = '.';
    sodium_bin2base64(t + size, 64, mac, sizeof(mac), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return t;
}

static void check_accepted(const struct sb_claims *c)
{
    struct sb_claims c2;
    char tok[1024];

    REQUIRE(c->uid > 0);
    REQUIRE(strcmp(c->kid, "fz-active") == 0 || strcmp(c->kid, "fz-old") == 0);
    REQUIRE(c->iat < c->exp);
    REQUIRE(c->iat * 1000 <= NOW_MS + SB_JWT_SKEW_MS);
    REQUIRE(c->exp * 1000 + SB_JWT_SKEW_MS > NOW_MS);
    REQUIRE(memchr(c->sid, '\0', sizeof(c->sid)) != NULL);
    REQUIRE(sb_jwt_issue(&ring, c, tok, sizeof(tok)) == 0);
    REQUIRE(sb_jwt_verify(&ring, tok, NOW_MS, &c2) == 0);
    REQUIRE(c2.uid == c->uid && c2.roles == c->roles && c2.iat == c->iat &&
            c2.exp == c->exp && strcmp(c2.sid, c->sid) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_claims c;
    char *tok;
    int rc, signed_here = size > 0 && data[0] == '!';

    if (size > 2 * SB_JWT_MAX)
        return 0;
    ring_init();
    tok = signed_here ? sign(data, size) : malloc(size + 1);
    if (!tok)
        return 0;
    if (!signed_here) {
        memcpy(tok, data, size);
        tok[size] = '\0';
    }
    rc = sb_jwt_verify(&ring, tok, NOW_MS, &c);
    REQUIRE(rc == 0 || rc == SB_EINVAL || rc == SB_ETIMEDOUT || rc == SB_ENOMEM);
    if (rc == 0)
        check_accepted(&c);
    free(tok);
    return 0;
}

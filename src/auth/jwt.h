/*
 * jwt.h - access tokens (HS256 JWTs, RFC 7519 / RFC 7515) signed by a key
 * ring, and the opaque refresh tokens that come with them.
 *
 * Key ring: up to SB_KEYRING_MAX HMAC-SHA-256 keys of 32 random bytes, each
 * named by a key id ("kid", 16 random hex characters); the active key signs,
 * every key in the ring verifies, so a rotation does not log anybody out.
 * It lives in one JSON file, mode 0600:
 *
 *     {"active":"<kid>","keys":[{"kid":"<kid>","k":"<base64url>","created":<ms>}]}
 *
 * which sb_keyring_load_or_create() creates on first start and
 * sb_keyring_rotate() rewrites (temp file + fsync + rename, so a crash
 * leaves the old or the new ring, never half of one).  The daemon is the
 * file's only writer.  The ring is caller-owned storage holding secrets:
 * sb_keyring_wipe() it when done; never log it.
 *
 * Access token: header {"alg":"HS256","typ":"JWT","kid":...}, payload
 * {"sub":"<uid>","roles":<bitmask>,"sid":...,"iat":<s>,"exp":<s>,"iss":"sbems"}.
 * sb_jwt_verify() is strict on purpose (we issue every token it will ever
 * see): the header is checked by this module before libjwt sees the token,
 * so "alg":"none", other algorithms, extra header members, a missing or
 * unknown kid and non-canonical base64url are refused whatever libjwt
 * would do; the signature is checked in constant time with libsodium
 * (libjwt 1.x compares with strcmp) and then again by libjwt.
 *
 * Refresh token: 32 random bytes in base64url (43 characters) handed to
 * the client once; the store keeps only sb_token_hash() of it, so a leaked
 * database does not leak live tokens.
 *
 * No state, no logging.  Any thread may call these functions on a ring
 * nobody is modifying (load/rotate/wipe need exclusive access).
 */
#ifndef SB_AUTH_JWT_H
#define SB_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#define SB_KEYRING_MAX   8       /* keys in a ring */
#define SB_KID_MAX       24      /* key id, NUL included */
#define SB_JWT_KEY_BYTES 32      /* HMAC-SHA-256 key (RFC 7518 3.2: >= 256 bits) */
#define SB_JWT_MAX       4096    /* longest token sb_jwt_verify() reads, bytes */
#define SB_JWT_SKEW_MS   30000   /* clock skew allowed on exp and iat */
#define SB_SID_MAX       40      /* session id, NUL included */
#define SB_JWT_OUT_MAX   512     /* sb_jwt_issue() never needs more, NUL included */
#define SB_TOKEN_LEN     43      /* sb_token_random() characters, NUL excluded */

/* One signing key. */
struct sb_jwt_key {
    char kid[SB_KID_MAX];               /* [A-Za-z0-9_-]{1,23} */
    unsigned char k[SB_JWT_KEY_BYTES];  /* secret */
    int64_t created_ms;                 /* when it was made, ms since the epoch */
};

/* The key ring; keys[0..n) newest first as written by this module. */
struct sb_keyring {
    struct sb_jwt_key keys[SB_KEYRING_MAX];   /* n used */
    size_t n;                                 /* 1..SB_KEYRING_MAX once loaded */
    char active[SB_KID_MAX];                  /* kid of the signing key */
};

/* What an access token says. */
struct sb_claims {
    int64_t uid;              /* "sub": user id, > 0 */
    uint32_t roles;           /* "roles": role bitmask */
    char sid[SB_SID_MAX];     /* "sid": session / refresh-token family id, printable ASCII */
    int64_t iat, exp;         /* issued at, expires: seconds since the epoch (NumericDate) */
    char kid[SB_KID_MAX];     /* verify: the key that signed it; issue: ignored */
};

/* Loads the ring at path into kr; when path does not exist, makes a ring
 * of one new key created at now_ms and writes it (mode 0600).  Returns 0;
 * SB_ECONFIG for a file that group or others may access, that is not a
 * regular file, or that is malformed; SB_EIO when it cannot be read or
 * written; SB_EINVAL for NULL arguments.  err says which and why.  On
 * failure kr is zeroed. */
int sb_keyring_load_or_create(const char *path, int64_t now_ms, struct sb_keyring *kr,
                              char *err, size_t errlen);

/* Makes a new key (created now_ms) the active one, keeps the newest keep
 * keys (1..SB_KEYRING_MAX; larger means SB_KEYRING_MAX) and rewrites path.
 * Returns 0, SB_EINVAL or SB_EIO; on failure kr and the file are unchanged.
 * Tokens signed by a dropped key stop verifying. */
int sb_keyring_rotate(const char *path, int64_t now_ms, struct sb_keyring *kr, size_t keep);

/* Zeroes kr (sodium_memzero, which the compiler may not elide). */
void sb_keyring_wipe(struct sb_keyring *kr);

/* Signs c with the active key into out (NUL-terminated).  c->kid is
 * ignored.  Returns 0; SB_EINVAL (no active key, uid <= 0, exp <= iat, a
 * time outside 0..year 9999, sid not NUL-terminated or not printable
 * ASCII); SB_ENOSPC when outlen is too small (SB_JWT_OUT_MAX always
 * suffices); SB_ENOMEM. */
int sb_jwt_issue(const struct sb_keyring *kr, const struct sb_claims *c, char *out,
                 size_t outlen);

/* Verifies token at now_ms and fills *out.  Returns 0; SB_ETIMEDOUT when
 * the token is genuine but exp + SB_JWT_SKEW_MS has passed ("token
 * expired"); SB_EINVAL for anything else wrong (longer than SB_JWT_MAX, not
 * three base64url segments, alg not HS256, kid missing or unknown, bad
 * signature, iss not "sbems", sub not a positive integer, iat more than
 * SB_JWT_SKEW_MS ahead, missing or mistyped claims); SB_ENOMEM.  Time is
 * checked only after the signature, so a forged token never reads as
 * "expired".  *out is written only on success. */
int sb_jwt_verify(const struct sb_keyring *kr, const char *token, int64_t now_ms,
                  struct sb_claims *out);

/* Writes a new refresh token (SB_TOKEN_LEN base64url characters + NUL).
 * Returns 0, SB_ENOSPC (outlen <= SB_TOKEN_LEN) or SB_EIO. */
int sb_token_random(char *out, size_t outlen);

/* out_hex = lowercase hex of BLAKE2b-256(token) (crypto_generichash), what
 * the store keeps and looks refresh tokens up by.  NULL hashes as "". */
void sb_token_hash(const char *token, char out_hex[65]);

#endif /* SB_AUTH_JWT_H */

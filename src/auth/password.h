/*
 * password.h - password hashing (argon2id) and the password policy.
 *
 * Hashes are libsodium's crypto_pwhash_str() strings for argon2id v1.3
 * (RFC 9106), "$argon2id$v=19$m=<KiB>,t=<passes>,p=1$<salt>$<tag>", at most
 * SB_PW_HASH_MAX bytes with the NUL; they carry their own salt and cost, so
 * the store keeps the string and nothing else.  sb_pw_verify() accepts only
 * argon2id strings whose cost is within SB_PW_OPSLIMIT_MAX/SB_PW_MEMLIMIT_MAX,
 * so a corrupt or hostile hash in the store can neither crash the daemon nor
 * make it allocate gigabytes.
 *
 * Unknown users: a login for a user that does not exist must take as long as
 * one for a wrong password, or the response time tells which user names
 * exist.  Call sb_pw_verify_dummy() then; it verifies against a fixed hash
 * made with sb_pw_params_default().
 *
 * sb_pw_policy() is the NIST SP 800-63B section 5.1.1.2 check for a new
 * password: length, not the user name, not trivially repetitive, not a
 * well-known password.  No composition rules (SP 800-63B says not to).
 *
 * Nothing here keeps state or logs; the caller owns every buffer.  Any thread
 * may call these functions (each initialises libsodium, which is
 * thread-safe).  Hashing takes tens of milliseconds and 64 MiB with the
 * defaults: call it from a worker thread, not the event loop.
 */
#ifndef SB_AUTH_PASSWORD_H
#define SB_AUTH_PASSWORD_H

#include <stddef.h>

#include <sodium.h>

/* Room for a hash string, NUL included. */
#define SB_PW_HASH_MAX crypto_pwhash_STRBYTES

/* Policy bounds (SP 800-63B 5.1.1.2: at least 8, allow at least 64). */
#define SB_PW_MIN_CHARS 10     /* code points */
#define SB_PW_MAX_BYTES 256    /* UTF-8 bytes */
/* User names shorter than this are not looked for in the password: banning
 * every password containing "al" would refuse good ones and stop nothing. */
#define SB_PW_USER_MIN 3       /* bytes */

/* Highest cost sb_pw_hash() accepts and sb_pw_verify() will spend on a
 * stored hash: libsodium's SENSITIVE level (1 GiB, 4 passes) times 4
 * passes of headroom. */
#define SB_PW_OPSLIMIT_MAX 16ULL
#define SB_PW_MEMLIMIT_MAX ((size_t)crypto_pwhash_MEMLIMIT_SENSITIVE)

/* argon2id cost. */
struct sb_pw_params {
    unsigned long long opslimit;   /* passes over memory (t) */
    size_t memlimit;               /* bytes of memory (m * 1024) */
};

/* libsodium's INTERACTIVE level: t=2, 64 MiB. */
struct sb_pw_params sb_pw_params_default(void);

/* Hashes pw with a fresh random salt into out.  Returns 0, SB_EINVAL (NULL
 * argument, or p outside [crypto_pwhash_*_MIN, SB_PW_*_MAX]) or SB_ENOMEM. */
int sb_pw_hash(const struct sb_pw_params *p, const char *pw, char out[SB_PW_HASH_MAX]);

/* 0 when pw matches hash; SB_EINVAL for a wrong password and for any hash
 * that is not a well-formed argon2id string within the cost limits (never
 * crashes on garbage).  Comparison is constant-time (libsodium). */
int sb_pw_verify(const char *hash, const char *pw);

/* Spends the time of one sb_pw_verify() with default parameters on a fixed
 * hash nobody knows the password of; always returns SB_EINVAL. */
int sb_pw_verify_dummy(const char *pw);

/* 1 when hash should be replaced by sb_pw_hash(p, pw) at the next
 * successful login (other cost, or not argon2id, or malformed), else 0. */
int sb_pw_needs_rehash(const char *hash, const struct sb_pw_params *p);

/* Checks a new password for user username (NULL: no user-name rule), in
 * this order: at most SB_PW_MAX_BYTES bytes, valid UTF-8 (RFC 3629), at
 * least SB_PW_MIN_CHARS code points, not one code point repeated, not
 * containing the user name (ASCII case ignored), not on the built-in list
 * of common passwords (ASCII case ignored).  Returns 0, or SB_EINVAL with
 * the first broken rule in err, e.g.
 * "password must be at least 10 characters (has 7)".  No Unicode
 * normalisation: the same bytes must be typed at login. */
int sb_pw_policy(const char *pw, const char *username, char *err, size_t errlen);

/* Internal, for tests: the fixed hash sb_pw_verify_dummy() checks. */
extern const char sb_pw__dummy_hash[SB_PW_HASH_MAX];

#endif /* SB_AUTH_PASSWORD_H */

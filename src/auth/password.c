/* password.c - argon2id hashing and the new-password policy (see password.h). */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "auth/password.h"
#include "core/err.h"

/* The hash sb_pw_verify_dummy() checks: made once with libsodium
 * crypto_pwhash_str_alg() at the INTERACTIVE level from 32 random bytes
 * that were then thrown away.  test_auth checks it still matches
 * sb_pw_params_default(), so both paths cost the same. */
const char sb_pw__dummy_hash[SB_PW_HASH_MAX] =
    "$argon2id$v=19$m=65536,t=2,p=1$CIrPZGgE5IGA+x/orXQClQ$"
    "7Ll1vV1Nz0hpmuXfkVD73pMge3nhbuujlleoee9EkuA";

/* What every hash we accept starts with (argon2 v1.3 = 0x13 = 19). */
static const char prefix[] = "$argon2id$v=19$m=";

struct sb_pw_params sb_pw_params_default(void)
{
    return (struct sb_pw_params){
        .opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE,
        .memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE,
    };
}

static int params_ok(const struct sb_pw_params *p)
{
    return p && p->opslimit >= crypto_pwhash_OPSLIMIT_MIN && p->opslimit <= SB_PW_OPSLIMIT_MAX &&
           p->memlimit >= crypto_pwhash_MEMLIMIT_MIN && p->memlimit <= SB_PW_MEMLIMIT_MAX;
}

int sb_pw_hash(const struct sb_pw_params *p, const char *pw, char out[SB_PW_HASH_MAX])
{
    if (!params_ok(p) || !pw || !out)
        return SB_EINVAL;
    if (sodium_init() < 0)
        return SB_ENOMEM;
    /* libsodium fails only when it cannot allocate memlimit bytes. */
    if (crypto_pwhash_str_alg(out, pw, strlen(pw), p->opslimit, p->memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return SB_ENOMEM;
    return 0;
}

/* Reads 1..10 decimal digits at *s into *v (no sign, no leading zero). */
static int read_num(const char **s, uint64_t *v)
{
    const char *p = *s;
    uint64_t x = 0;
    int n = 0;

    while (*p >= '0' && *p <= '9' && n < 11) {
        x = x * 10 + (uint64_t)(*p++ - '0');
        n++;
    }
    if (n == 0 || n > 10 || (n > 1 && **s == '0'))
        return -1;
    *s = p;
    *v = x;
    return 0;
}

/* Parses the cost of an argon2id hash string (the PHC string format,
 * "$argon2id$v=19$m=M,t=T,p=P$salt$tag") so verify can refuse one that
 * would take too much memory or time before libsodium starts on it. */
static int parse_cost(const char *hash, uint64_t *m_kib, uint64_t *t, uint64_t *par)
{
    const char *s = hash;

    if (!hash || strnlen(hash, SB_PW_HASH_MAX) >= SB_PW_HASH_MAX)
        return -1;
    if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
        return -1;
    s += sizeof(prefix) - 1;
    if (read_num(&s, m_kib) || strncmp(s, ",t=", 3) != 0)
        return -1;
    s += 3;
    if (read_num(&s, t) || strncmp(s, ",p=", 3) != 0)
        return -1;
    s += 3;
    if (read_num(&s, par) || *s != '$')
        return -1;
    return 0;
}

static int cost_ok(const char *hash)
{
    uint64_t m, t, par;

    if (parse_cost(hash, &m, &t, &par) != 0)
        return 0;
    return t >= 1 && t <= SB_PW_OPSLIMIT_MAX && m >= 8 && m <= SB_PW_MEMLIMIT_MAX / 1024 &&
           par >= 1 && par <= 16;
}

int sb_pw_verify(const char *hash, const char *pw)
{
    if (!pw || !cost_ok(hash))
        return SB_EINVAL;
    if (sodium_init() < 0)
        return SB_EINVAL;
    if (crypto_pwhash_str_verify(hash, pw, strlen(pw)) != 0)
        return SB_EINVAL;
    return 0;
}

int sb_pw_verify_dummy(const char *pw)
{
    /* The result does not matter: whatever pw is, the answer is "no". */
    if (pw && sodium_init() >= 0 &&
        crypto_pwhash_str_verify(sb_pw__dummy_hash, pw, strlen(pw)) == 0)
        return SB_EINVAL;
    return SB_EINVAL;
}

int sb_pw_needs_rehash(const char *hash, const struct sb_pw_params *p)
{
    if (!params_ok(p) || !cost_ok(hash) || sodium_init() < 0)
        return 1;
    /* Checks the argon2id cost and salt/tag lengths against libsodium's. */
    return crypto_pwhash_argon2id_str_needs_rehash(hash, p->opslimit, p->memlimit) == 0 ? 0 : 1;
}

/* ---- policy ---------------------------------------------------------- */

/* Well-known passwords of 10+ characters (shorter ones already fail the
 * length rule), from the public top-lists (SecLists, NCSC "100k most
 * used"); compared without ASCII case. */
static const char *const common[] = {
    "password123", "password1234", "password12", "password01", "passw0rd123",
    "p@ssw0rd123", "qwertyuiop", "qwerty1234", "qwerty12345", "qwerty123456",
    "1234567890", "0123456789", "0987654321", "9876543210", "12345678910",
    "123456789a", "1q2w3e4r5t", "1qaz2wsx3edc", "qazwsxedcrfv", "zxcvbnm123",
    "asdfghjkl1", "letmein123", "welcome123", "welcome1234", "changeme123",
    "administrator", "admin12345", "admin123456", "iloveyou12", "football123",
    "sunshine123", "princess123", "monkey1234", "abcdefghij", "trustno1234",
    "passwordpassword",
};

/* Decodes one UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF); returns its length and the code point in *cp,
 * or 0 if it is invalid. */
static size_t utf8_one(const unsigned char *s, uint32_t *cp)
{
    uint32_t c = s[0], min;
    size_t n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) { n = 2; c &= 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; c &= 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; c &= 0x07; min = 0x10000; }
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)     /* also stops at the NUL */
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* Counts code points; -1 if pw is not valid UTF-8.  *same is 1 when every
 * code point equals the first. */
static long utf8_count(const char *pw, int *same)
{
    const unsigned char *s = (const unsigned char *)pw;
    uint32_t first = 0, cp;
    long n = 0;

    *same = 1;
    while (*s) {
        size_t l = utf8_one(s, &cp);
        if (l == 0)
            return -1;
        if (n == 0)
            first = cp;
        else if (cp != first)
            *same = 0;
        s += l;
        n++;
    }
    return n;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* strstr() ignoring ASCII case (locale-independent on purpose). */
static int contains_nocase(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);

    for (; *hay; hay++) {
        size_t i = 0;
        while (i < nl && hay[i] && lower((unsigned char)hay[i]) == lower((unsigned char)needle[i]))
            i++;
        if (i == nl)
            return 1;
    }
    return 0;
}

static int is_common(const char *pw)
{
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        const char *a = pw, *b = common[i];
        while (*a && lower((unsigned char)*a) == *b) {
            a++;
            b++;
        }
        if (*a == '\0' && *b == '\0')
            return 1;
    }
    return 0;
}

int sb_pw_policy(const char *pw, const char *username, char *err, size_t errlen)
{
    int same;
    long n;

    if (!pw) {
        sb_errf(err, errlen, "password is missing");
        return SB_EINVAL;
    }
    if (strnlen(pw, SB_PW_MAX_BYTES + 1) > SB_PW_MAX_BYTES) {
        sb_errf(err, errlen, "password must be at most %d bytes", SB_PW_MAX_BYTES);
        return SB_EINVAL;
    }
    n = utf8_count(pw, &same);
    if (n < 0) {
        sb_errf(err, errlen, "password must be valid UTF-8");
        return SB_EINVAL;
    }
    if (n < SB_PW_MIN_CHARS) {
        sb_errf(err, errlen, "password must be at least %d characters (has %ld)",
                SB_PW_MIN_CHARS, n);
        return SB_EINVAL;
    }
    if (same) {
        sb_errf(err, errlen, "password must not be one character repeated");
        return SB_EINVAL;
    }
    if (username && strlen(username) >= SB_PW_USER_MIN && contains_nocase(pw, username)) {
        sb_errf(err, errlen, "password must not contain the user name");
        return SB_EINVAL;
    }
    if (is_common(pw)) {
        sb_errf(err, errlen, "password is on the list of commonly used passwords");
        return SB_EINVAL;
    }
    return 0;
}

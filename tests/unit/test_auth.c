/*
 * test_auth.c - src/auth: argon2id hashing and the password policy, the key
 * ring file, HS256 access tokens (genuine, tampered, forged, expired),
 * refresh tokens, the token-bucket limiter and the login throttle.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "auth/jwt.h"
#include "auth/limits.h"
#include "auth/password.h"
#include "core/err.h"
#include "tap.h"

#define NOW_MS 1795651200000LL           /* 2026-11-27T00:00:00Z */
#define NOW_S (NOW_MS / 1000)
#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING

static char tmpl[] = "/tmp/sbems-test-auth-XXXXXX";
static char *root;

static struct sb_pw_params pw_min(void)
{
    return (struct sb_pw_params){ crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };
}

/* ---- passwords ------------------------------------------------------- */

TEST(pw_hash_verify)
{
    struct sb_pw_params p = pw_min();
    char h1[SB_PW_HASH_MAX], h2[SB_PW_HASH_MAX];

    REQUIRE(sb_pw_hash(&p, "correct horse battery", h1) == 0);
    CHECK(strncmp(h1, "$argon2id$v=19$m=8,t=1,p=1$", 27) == 0);
    CHECK_EQ(sb_pw_verify(h1, "correct horse battery"), 0);
    CHECK_EQ(sb_pw_verify(h1, "correct horse batterY"), SB_EINVAL);
    CHECK_EQ(sb_pw_verify(h1, ""), SB_EINVAL);
    REQUIRE(sb_pw_hash(&p, "correct horse battery", h2) == 0);
    CHECK(strcmp(h1, h2) != 0);                         /* fresh salt each time */
    CHECK_EQ(sb_pw_needs_rehash(h1, &p), 0);
    struct sb_pw_params d = sb_pw_params_default();
    CHECK_EQ(sb_pw_needs_rehash(h1, &d), 1);
    /* An empty password hashes and verifies too (the policy refuses it). */
    REQUIRE(sb_pw_hash(&p, "", h2) == 0);
    CHECK_EQ(sb_pw_verify(h2, ""), 0);
}

TEST(pw_bad_params)
{
    struct sb_pw_params p = pw_min();
    char h[SB_PW_HASH_MAX];

    p.opslimit = 0;
    CHECK_EQ(sb_pw_hash(&p, "x", h), SB_EINVAL);
    p = pw_min();
    p.memlimit = SB_PW_MEMLIMIT_MAX + 1;
    CHECK_EQ(sb_pw_hash(&p, "x", h), SB_EINVAL);
    p = pw_min();
    p.opslimit = SB_PW_OPSLIMIT_MAX + 1;
    CHECK_EQ(sb_pw_hash(&p, "x", h), SB_EINVAL);
    CHECK_EQ(sb_pw_hash(NULL, "x", h), SB_EINVAL);
    CHECK_EQ(sb_pw_hash(&p, NULL, h), SB_EINVAL);
}

TEST(pw_garbage_hashes)
{
    struct sb_pw_params p = pw_min();
    char good[SB_PW_HASH_MAX], trunc[SB_PW_HASH_MAX], tail[SB_PW_HASH_MAX + 8];
    char flip[SB_PW_HASH_MAX], big[300], huge_m[SB_PW_HASH_MAX + 16];

    REQUIRE(sb_pw_hash(&p, "pw", good) == 0);
    /* A well-formed hash (real salt and tag) asking for 4 TiB. */
    snprintf(huge_m, sizeof(huge_m), "$argon2id$v=19$m=4294967295%s", good + 19);
    snprintf(trunc, sizeof(trunc), "%.*s", (int)strlen(good) - 5, good);
    snprintf(tail, sizeof(tail), "%sAAAA", good);
    snprintf(flip, sizeof(flip), "%s", good);
    flip[strlen(flip) - 3] = flip[strlen(flip) - 3] == 'A' ? 'B' : 'A';
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    const char *bad[] = {
        "", "x", "$", "$argon2id$", "$argon2id$v=19$", "$argon2id$v=19$m=8,t=1,p=1$",
        "$argon2id$v=19$m=8,t=1,p=1$$", "$argon2id$v=19$m=,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=08,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        /* Costs that would take 4 TiB or a million passes: refused unread. */
        "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=99999999999,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=8,t=1000000,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$argon2id$v=19$m=8,t=1,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$argon2id$v=16$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNo",
        "$2b$12$abcdefghijklmnopqrstuuQWERTYUIOPASDFGHJKLZXCVBNM12345",
        "$argon2id$v=19$m=8,t=1,p=1$!!!!$????",
        huge_m, trunc, big, tail, flip,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (sb_pw_verify(bad[i], "pw") != SB_EINVAL)
            TAP_FAIL("bad[%zu] \"%s\" verified", i, bad[i]);
        /* The last four are well-formed enough for libsodium's cost check:
         * a tag cut short may still decode (when the bits base64 leaves
         * over happen to be zero, about one salt in sixteen), so whether
         * "trunc" needs a rehash depends on the random salt. */
        if (i + 4 < sizeof(bad) / sizeof(bad[0]) && sb_pw_needs_rehash(bad[i], &p) != 1)
            TAP_FAIL("bad[%zu] does not need a rehash", i);
    }
    CHECK_EQ(sb_pw_verify(NULL, "pw"), SB_EINVAL);
    CHECK_EQ(sb_pw_verify(good, NULL), SB_EINVAL);
    CHECK_EQ(sb_pw_verify(good, "pw"), 0);
}

TEST(pw_dummy)
{
    struct sb_pw_params d = sb_pw_params_default();

    /* Same cost as a real default-cost hash, so unknown users take as long. */
    CHECK_EQ(sb_pw_needs_rehash(sb_pw__dummy_hash, &d), 0);
    CHECK_EQ(sb_pw_verify_dummy("anything at all"), SB_EINVAL);
    CHECK_EQ(sb_pw_verify_dummy(NULL), SB_EINVAL);
}

/* One policy case: expect rc and, when refused, a message containing want. */
static void policy_case(const char *pw, const char *user, int rc, const char *want)
{
    char err[200] = "";
    int got = sb_pw_policy(pw, user, err, sizeof(err));

    if (got != rc)
        TAP_FAIL("policy(\"%s\", %s) = %d, want %d (%s)", pw ? pw : "(null)",
                 user ? user : "(null)", got, rc, err);
    else if (want && !strstr(err, want))
        TAP_FAIL("policy(\"%s\") message \"%s\" lacks \"%s\"", pw, err, want);
}

TEST(pw_policy)
{
    char big[SB_PW_MAX_BYTES + 2];

    policy_case("correct horse battery staple", "alice", 0, NULL);
    policy_case(NULL, "alice", SB_EINVAL, "missing");
    /* Length counts code points: 9 of them in 11 bytes is too short. */
    policy_case("short1", NULL, SB_EINVAL, "at least 10 characters (has 6)");
    policy_case("Gr\xc3\xbc\xc3\x9f" "e1234", NULL, SB_EINVAL, "(has 9)");
    policy_case("Gr\xc3\xbc\xc3\x9f" "e12345", NULL, 0, NULL);
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = (char)('a' + i % 26);
    big[SB_PW_MAX_BYTES] = '\0';
    policy_case(big, NULL, 0, NULL);
    big[SB_PW_MAX_BYTES] = 'x';
    big[SB_PW_MAX_BYTES + 1] = '\0';
    policy_case(big, NULL, SB_EINVAL, "at most 256 bytes");
    /* UTF-8: a stray byte, an overlong '/', a surrogate, a truncated tail. */
    policy_case("abcdefghij\xff", NULL, SB_EINVAL, "UTF-8");
    policy_case("abcdefghij\xc0\xaf", NULL, SB_EINVAL, "UTF-8");
    policy_case("abcdefghij\xed\xa0\x80", NULL, SB_EINVAL, "UTF-8");
    policy_case("abcdefghij\xe2\x82", NULL, SB_EINVAL, "UTF-8");
    policy_case("aaaaaaaaaaaa", NULL, SB_EINVAL, "repeated");
    policy_case("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac"
                "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac",
                NULL, SB_EINVAL, "repeated");
    policy_case("aaaaaaaaaab", NULL, 0, NULL);
    policy_case("xxAliceSmith99", "alicesmith", SB_EINVAL, "user name");
    policy_case("my ALICESMITH pass", "AliceSmith", SB_EINVAL, "user name");
    policy_case("xxAliceSmith99", "bob", 0, NULL);
    policy_case("alcatraz-rocks", "al", 0, NULL);       /* too short a name to ban */
    policy_case("Password123", NULL, SB_EINVAL, "commonly used");
    policy_case("qwertyuiop", NULL, SB_EINVAL, "commonly used");
    policy_case("ADMINISTRATOR", NULL, SB_EINVAL, "commonly used");
    policy_case("1234567890", NULL, SB_EINVAL, "commonly used");
    policy_case("password1234x", NULL, 0, NULL);
}

/* ---- key ring ---------------------------------------------------------- */

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", root, name);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f;

    unlink(path);
    f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static int count_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

TEST(keyring_create_reload)
{
    char path[600], err[256] = "", dir[512];
    struct sb_keyring kr, kr2;
    struct stat st;

    path_in(dir, sizeof(dir), "create");
    REQUIRE(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof(path), "%s/keys.json", dir);
    REQUIRE(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)) == 0);
    CHECK_EQ(kr.n, 1);
    CHECK_EQ(strlen(kr.active), 16);
    CHECK_STR(kr.active, kr.keys[0].kid);
    CHECK_EQ(kr.keys[0].created_ms, NOW_MS);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    CHECK_EQ(count_dir_entries(dir), 1);                /* no temp file left */

    REQUIRE(sb_keyring_load_or_create(path, NOW_MS + 5, &kr2, err, sizeof(err)) == 0);
    CHECK_EQ(kr2.n, 1);
    CHECK_STR(kr2.active, kr.active);
    CHECK(memcmp(kr2.keys[0].k, kr.keys[0].k, SB_JWT_KEY_BYTES) == 0);
    CHECK_EQ(kr2.keys[0].created_ms, NOW_MS);

    /* Another ring gets another key. */
    char path2[700];
    struct sb_keyring kr3;
    snprintf(path2, sizeof(path2), "%s/other.json", dir);
    REQUIRE(sb_keyring_load_or_create(path2, NOW_MS, &kr3, err, sizeof(err)) == 0);
    CHECK(memcmp(kr3.keys[0].k, kr.keys[0].k, SB_JWT_KEY_BYTES) != 0);

    sb_keyring_wipe(&kr2);
    CHECK_EQ(kr2.n, 0);
    CHECK(kr2.keys[0].k[0] == 0 && kr2.active[0] == '\0');
    sb_keyring_wipe(&kr);
    sb_keyring_wipe(&kr3);
    unlink(path);
    unlink(path2);
    rmdir(dir);
}

TEST(keyring_refuse_mode)
{
    char path[512], err[256] = "";
    struct sb_keyring kr;

    path_in(path, sizeof(path), "mode.json");
    REQUIRE(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)) == 0);
    sb_keyring_wipe(&kr);
    REQUIRE(chmod(path, 0644) == 0);
    CHECK_EQ(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "chmod 600") != NULL);
    CHECK(strstr(err, "644") != NULL);
    CHECK_EQ(kr.n, 0);
    REQUIRE(chmod(path, 0640) == 0);
    CHECK_EQ(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)), SB_ECONFIG);
    REQUIRE(chmod(path, 0602) == 0);
    CHECK_EQ(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)), SB_ECONFIG);
    REQUIRE(chmod(path, 0400) == 0);
    CHECK_EQ(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)), 0);
    sb_keyring_wipe(&kr);
    unlink(path);
    /* A directory and a path under a missing directory. */
    CHECK_EQ(sb_keyring_load_or_create(root, NOW_MS, &kr, err, sizeof(err)), SB_ECONFIG);
    path_in(path, sizeof(path), "nodir/keys.json");
    CHECK_EQ(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)), SB_EIO);
    CHECK(strstr(err, "nodir") != NULL);
    CHECK_EQ(sb_keyring_load_or_create(NULL, NOW_MS, &kr, err, sizeof(err)), SB_EINVAL);
}

TEST(keyring_malformed)
{
    static const char k32[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";   /* bytes 0..31 */
    char path[512], err[256], text[1024];
    struct sb_keyring kr;
    const char *bad[] = {
        "", "not json", "[]", "{\"active\":\"a\"}",
        "{\"active\":\"a\",\"keys\":[]}",
        "{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"AAEC\",\"created\":1}]}",
        "{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s=\",\"created\":1}]}",
        "{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":-1}]}",
        "{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":\"1\"}]}",
        "{\"active\":\"a b\",\"keys\":[{\"kid\":\"a b\",\"k\":\"%s\",\"created\":1}]}",
        "{\"active\":\"b\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":1}]}",
        ("{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":1},"
         "{\"kid\":\"a\",\"k\":\"%s\",\"created\":2}]}"),
        "{\"active\":\"a\",\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":1}]}",
        "{\"active\":\"a\",\"keys\":[{\"kid\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"k\":\"%s\",\"created\":1}]}",
    };

    path_in(path, sizeof(path), "bad.json");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(text, sizeof(text), bad[i], k32, k32);
#pragma GCC diagnostic pop
        write_text(path, text, 0600);
        err[0] = '\0';
        int rc = sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err));
        if (rc != SB_ECONFIG || !strstr(err, path))
            TAP_FAIL("bad[%zu]: rc %d err \"%s\"", i, rc, err);
    }
    /* The same key written correctly loads, with the bytes it spells. */
    snprintf(text, sizeof(text),
             "{\"active\":\"a\",\"keys\":[{\"kid\":\"a\",\"k\":\"%s\",\"created\":7}]}", k32);
    write_text(path, text, 0600);
    REQUIRE(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)) == 0);
    CHECK_EQ(kr.keys[0].k[31], 31);
    CHECK_EQ(kr.keys[0].created_ms, 7);
    sb_keyring_wipe(&kr);
    unlink(path);
}

static struct sb_claims claims(int64_t uid, int64_t iat, int64_t exp)
{
    struct sb_claims c = { .uid = uid, .roles = 5, .iat = iat, .exp = exp };

    snprintf(c.sid, sizeof(c.sid), "fam-%lld", (long long)uid);
    return c;
}

TEST(keyring_rotate)
{
    char path[512], err[256] = "", t0[1024], t1[1024];
    struct sb_keyring kr, disk;
    struct sb_claims c = claims(42, NOW_S, NOW_S + 900), out;
    char old[SB_KID_MAX];
    struct stat st;

    path_in(path, sizeof(path), "rot.json");
    REQUIRE(sb_keyring_load_or_create(path, NOW_MS, &kr, err, sizeof(err)) == 0);
    REQUIRE(sb_jwt_issue(&kr, &c, t0, sizeof(t0)) == 0);
    memcpy(old, kr.active, sizeof(old));

    REQUIRE(sb_keyring_rotate(path, NOW_MS + 1000, &kr, 3) == 0);
    CHECK_EQ(kr.n, 2);
    CHECK(strcmp(kr.active, old) != 0);
    CHECK_STR(kr.keys[0].kid, kr.active);
    CHECK_EQ(sb_jwt_verify(&kr, t0, NOW_MS, &out), 0);     /* old tokens still good */
    CHECK_STR(out.kid, old);
    REQUIRE(sb_jwt_issue(&kr, &c, t1, sizeof(t1)) == 0);
    CHECK_EQ(sb_jwt_verify(&kr, t1, NOW_MS, &out), 0);
    CHECK_STR(out.kid, kr.active);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);
    REQUIRE(sb_keyring_load_or_create(path, NOW_MS, &disk, err, sizeof(err)) == 0);
    CHECK_EQ(disk.n, 2);
    CHECK_STR(disk.active, kr.active);
    CHECK(memcmp(disk.keys, kr.keys, sizeof(kr.keys[0]) * 2) == 0);
    sb_keyring_wipe(&disk);

    /* keep = 2: the original key falls out, its tokens stop verifying. */
    REQUIRE(sb_keyring_rotate(path, NOW_MS + 2000, &kr, 2) == 0);
    CHECK_EQ(kr.n, 2);
    CHECK_EQ(sb_jwt_verify(&kr, t0, NOW_MS, &out), SB_EINVAL);
    CHECK_EQ(sb_jwt_verify(&kr, t1, NOW_MS, &out), 0);
    for (int i = 0; i < 12; i++)
        REQUIRE(sb_keyring_rotate(path, NOW_MS + 3000 + i, &kr, 100) == 0);
    CHECK_EQ(kr.n, SB_KEYRING_MAX);
    CHECK_EQ(kr.keys[0].created_ms, NOW_MS + 3011);
    CHECK_EQ(kr.keys[SB_KEYRING_MAX - 1].created_ms, NOW_MS + 3004);
    CHECK_EQ(sb_keyring_rotate(path, NOW_MS, &kr, 0), SB_EINVAL);
    CHECK_EQ(count_dir_entries(root), 1);
    sb_keyring_wipe(&kr);
    unlink(path);
}

/* ---- access tokens ------------------------------------------------------ */

static struct sb_keyring ring;   /* made in main() */

/* Hand-built compact JWS: b64(hdr).b64(payload).b64(HMAC-SHA-256) or, when
 * key is NULL, an empty signature. */
static void make_token(const char *hdr, const char *pl, const unsigned char *key, char *out,
                       size_t cap)
{
    char h[2048], p[8192], s[64];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    sodium_bin2base64(h, sizeof(h), (const unsigned char *)hdr, strlen(hdr), B64V);
    sodium_bin2base64(p, sizeof(p), (const unsigned char *)pl, strlen(pl), B64V);
    snprintf(out, cap, "%s.%s", h, p);
    s[0] = '\0';
    if (key) {
        crypto_auth_hmacsha256(mac, (const unsigned char *)out, strlen(out), key);
        sodium_bin2base64(s, sizeof(s), mac, sizeof(mac), B64V);
    }
    snprintf(out + strlen(out), cap - strlen(out), ".%s", s);
}

static void std_header(char *buf, size_t n)
{
    snprintf(buf, n, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}", ring.active);
}

static void std_payload(char *buf, size_t n, const char *sub, const char *iss)
{
    snprintf(buf, n, "{\"sub\":%s,\"roles\":1,\"sid\":\"s1\",\"iat\":%lld,\"exp\":%lld,"
             "\"iss\":%s}", sub, (long long)NOW_S, (long long)NOW_S + 900, iss);
}

static int verify(const char *tok)
{
    struct sb_claims out;

    return sb_jwt_verify(&ring, tok, NOW_MS, &out);
}

TEST(jwt_roundtrip)
{
    struct sb_claims c = claims(42, NOW_S - 10, NOW_S + 900), out;
    char tok[1024], seg[512];
    size_t n;

    c.roles = 0x80000001u;
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    memset(&out, 0x55, sizeof(out));
    REQUIRE(sb_jwt_verify(&ring, tok, NOW_MS, &out) == 0);
    CHECK_EQ(out.uid, 42);
    CHECK_EQ(out.roles, 0x80000001u);
    CHECK_STR(out.sid, "fam-42");
    CHECK_EQ(out.iat, NOW_S - 10);
    CHECK_EQ(out.exp, NOW_S + 900);
    CHECK_STR(out.kid, ring.active);
    /* What the segments say (RFC 7519 names, sub a string). */
    const char *dot = strchr(tok, '.');
    REQUIRE(dot);
    REQUIRE(sodium_base642bin((unsigned char *)seg, sizeof(seg) - 1, tok, (size_t)(dot - tok),
                              NULL, &n, NULL, B64V) == 0);
    seg[n] = '\0';
    CHECK(strstr(seg, "\"alg\":\"HS256\"") && strstr(seg, "\"typ\":\"JWT\"") &&
          strstr(seg, ring.active));
    const char *dot2 = strchr(dot + 1, '.');
    REQUIRE(dot2);
    REQUIRE(sodium_base642bin((unsigned char *)seg, sizeof(seg) - 1, dot + 1,
                              (size_t)(dot2 - dot - 1), NULL, &n, NULL, B64V) == 0);
    seg[n] = '\0';
    CHECK(strstr(seg, "\"sub\":\"42\"") && strstr(seg, "\"iss\":\"sbems\""));
    /* Our hand-built tokens verify too, so the refusals below are real. */
    char h[256], p[512];
    std_header(h, sizeof(h));
    std_payload(p, sizeof(p), "\"7\"", "\"sbems\"");
    make_token(h, p, ring.keys[0].k, tok, sizeof(tok));
    CHECK_EQ(verify(tok), 0);
}

TEST(jwt_issue_errors)
{
    struct sb_claims c = claims(42, NOW_S, NOW_S + 900);
    char tok[1024];
    struct sb_keyring empty = { 0 };

    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, 40), SB_ENOSPC);
    CHECK_EQ(sb_jwt_issue(&empty, &c, tok, sizeof(tok)), SB_EINVAL);
    c.uid = 0;
    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, sizeof(tok)), SB_EINVAL);
    c = claims(42, NOW_S, NOW_S);
    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, sizeof(tok)), SB_EINVAL);
    c = claims(42, NOW_S, NOW_S + 1);
    memset(c.sid, 'x', sizeof(c.sid));
    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, sizeof(tok)), SB_EINVAL);
    c.sid[5] = '\0';
    c.sid[2] = '\n';
    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, sizeof(tok)), SB_EINVAL);
    c.sid[2] = (char)0xc3;
    CHECK_EQ(sb_jwt_issue(&ring, &c, tok, sizeof(tok)), SB_EINVAL);
    /* The largest claims (every sid byte escaped) fit SB_JWT_OUT_MAX. */
    struct sb_claims big = { .uid = INT64_MAX, .roles = UINT32_MAX, .iat = NOW_S,
                             .exp = 253402300799LL }, out;
    memset(big.sid, '"', SB_SID_MAX - 1);
    big.sid[SB_SID_MAX - 1] = '\0';
    char *t = malloc(SB_JWT_OUT_MAX);
    REQUIRE(t);
    CHECK_EQ(sb_jwt_issue(&ring, &big, t, SB_JWT_OUT_MAX), 0);
    CHECK_EQ(sb_jwt_verify(&ring, t, NOW_MS, &out), 0);
    CHECK_STR(out.sid, big.sid);
    CHECK_EQ(out.uid, INT64_MAX);
    free(t);
}

TEST(jwt_tampered)
{
    struct sb_claims c = claims(42, NOW_S, NOW_S + 900);
    char tok[1024], forged[2048], h[256], p[512], pb64[1024];

    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    REQUIRE(d1 && d2 && d1 != d2);
    /* Payload swapped for uid 1 with the original signature. */
    std_payload(p, sizeof(p), "\"1\"", "\"sbems\"");
    sodium_bin2base64(pb64, sizeof(pb64), (const unsigned char *)p, strlen(p), B64V);
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, pb64, d2);
    CHECK_EQ(verify(forged), SB_EINVAL);
    /* One payload character changed. */
    snprintf(forged, sizeof(forged), "%s", tok);
    forged[d1 - tok + 5] = forged[d1 - tok + 5] == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(forged), SB_EINVAL);
    /* One signature character changed; the signature cut short; dropped. */
    snprintf(forged, sizeof(forged), "%s", tok);
    forged[d2 - tok + 1] = forged[d2 - tok + 1] == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(forged), SB_EINVAL);
    snprintf(forged, sizeof(forged), "%s", tok);
    forged[strlen(forged) - 1] = '\0';
    CHECK_EQ(verify(forged), SB_EINVAL);
    snprintf(forged, sizeof(forged), "%.*s.", (int)(d2 - tok), tok);
    CHECK_EQ(verify(forged), SB_EINVAL);
    /* Non-canonical last character (stray low bits) of a good signature. */
    snprintf(forged, sizeof(forged), "%s", tok);
    char *last = forged + strlen(forged) - 1;
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t pos = (size_t)(strchr(alpha, *last) - alpha);
    *last = alpha[(pos & ~3u) | ((pos + 1) & 3u)];
    CHECK_EQ(verify(forged), SB_EINVAL);
    /* Signed by a key that is not in the ring, under the ring's kid. */
    unsigned char other[SB_JWT_KEY_BYTES];
    memset(other, 7, sizeof(other));
    std_header(h, sizeof(h));
    std_payload(p, sizeof(p), "\"42\"", "\"sbems\"");
    make_token(h, p, other, forged, sizeof(forged));
    CHECK_EQ(verify(forged), SB_EINVAL);
    CHECK_EQ(verify(tok), 0);
}

TEST(jwt_bad_headers)
{
    char tok[2048], h[256], p[512], pb64[1024];
    const unsigned char *k = ring.keys[0].k;

    std_payload(p, sizeof(p), "\"42\"", "\"sbems\"");
    /* The classic: alg none, no signature. */
    sodium_bin2base64(pb64, sizeof(pb64), (const unsigned char *)p, strlen(p), B64V);
    snprintf(tok, sizeof(tok), "eyJhbGciOiJub25lIn0.%s.", pb64);
    CHECK_EQ(verify(tok), SB_EINVAL);
    snprintf(h, sizeof(h), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}", ring.active);
    make_token(h, p, NULL, tok, sizeof(tok));
    CHECK_EQ(verify(tok), SB_EINVAL);
    make_token(h, p, k, tok, sizeof(tok));        /* none with a valid HMAC */
    CHECK_EQ(verify(tok), SB_EINVAL);
    /* Every other header shape, each with a correct HS256 signature. */
    const char *fmts[] = {
        "{\"alg\":\"HS384\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "{\"alg\":\"hs256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "{\"alg\":\"HS256 \",\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "{\"typ\":\"JWT\",\"kid\":\"%s\"}",
        "{\"alg\":null,\"kid\":\"%s\"}",
        "{\"alg\":\"HS256\",\"alg\":\"none\",\"kid\":\"%s\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWE\",\"kid\":\"%s\"}",
        "{\"alg\":\"HS256\",\"kid\":\"%s\",\"jku\":\"http://evil/\"}",
        "{\"alg\":\"HS256\",\"kid\":\"%s\",\"crit\":[\"exp\"]}",
        "{\"alg\":\"HS256\",\"kid\":\"%s0\"}",              /* unknown kid */
        "{\"alg\":\"HS256\",\"kid\":1}%s",
        "{\"alg\":\"HS256\"}%s",                            /* missing kid */
        "[\"%s\"]",
    };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(h, sizeof(h), fmts[i], ring.active);
#pragma GCC diagnostic pop
        make_token(h, p, k, tok, sizeof(tok));
        if (verify(tok) != SB_EINVAL)
            TAP_FAIL("header %zu (%s) accepted", i, h);
    }
    /* Without typ is fine (RFC 7519 5.1: optional). */
    snprintf(h, sizeof(h), "{\"alg\":\"HS256\",\"kid\":\"%s\"}", ring.active);
    make_token(h, p, k, tok, sizeof(tok));
    CHECK_EQ(verify(tok), 0);
}

TEST(jwt_bad_claims)
{
    char tok[2048], h[256], p[512];
    const unsigned char *k = ring.keys[0].k;
    struct { const char *sub, *iss; } cases[] = {
        { "\"42\"", "\"other\"" }, { "\"42\"", "\"SBEMS\"" }, { "\"42\"", "null" },
        { "42", "\"sbems\"" }, { "\"0\"", "\"sbems\"" }, { "\"-1\"", "\"sbems\"" },
        { "\"042\"", "\"sbems\"" }, { "\"4x\"", "\"sbems\"" }, { "\"\"", "\"sbems\"" },
        { "\"99999999999999999999\"", "\"sbems\"" }, { "\"+5\"", "\"sbems\"" },
    };

    std_header(h, sizeof(h));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        std_payload(p, sizeof(p), cases[i].sub, cases[i].iss);
        make_token(h, p, k, tok, sizeof(tok));
        if (verify(tok) != SB_EINVAL)
            TAP_FAIL("case %zu (%s) accepted", i, p);
    }
    /* Missing or mistyped claims. */
    const char *pls[] = {
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651200,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"sid\":\"s\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":-1,\"sid\":\"s\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":4294967296,\"sid\":\"s\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        ("{\"sub\":\"1\",\"roles\":1,\"sid\":\"0123456789012345678901234567890123456789\","
         "\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}"),
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"a\\nb\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"a\\u0000b\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651200.5,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651200,\"exp\":\"1795652100\",\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651200,\"exp\":9223372036854775807,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651220,\"exp\":1795651210,\"iss\":\"sbems\"}",
        "{\"sub\":\"1\",\"sub\":\"2\",\"roles\":1,\"sid\":\"s\",\"iat\":1795651200,\"exp\":1795652100,\"iss\":\"sbems\"}",
        "[1,2,3]", "{}", "nul",
    };
    for (size_t i = 0; i < sizeof(pls) / sizeof(pls[0]); i++) {
        make_token(h, pls[i], k, tok, sizeof(tok));
        if (verify(tok) != SB_EINVAL)
            TAP_FAIL("payload %zu (%s) accepted", i, pls[i]);
    }
}

TEST(jwt_time)
{
    struct sb_claims c, out;
    char tok[1024], forged[1024];

    /* exp passed by more than the skew: expired; within it: still fine. */
    c = claims(42, NOW_S - 1000, NOW_S - 31);
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS, &out), SB_ETIMEDOUT);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS - 2000, &out), 0);
    /* A tampered expired token is "invalid", never "expired". */
    snprintf(forged, sizeof(forged), "%s", tok);
    forged[strlen(forged) - 5] = forged[strlen(forged) - 5] == 'A' ? 'B' : 'A';
    CHECK_EQ(sb_jwt_verify(&ring, forged, NOW_MS, &out), SB_EINVAL);
    c = claims(42, NOW_S - 1000, NOW_S - 29);
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS, &out), 0);
    /* exactly exp + skew is expired (RFC 7519 4.1.4: "on or after"). */
    c = claims(42, NOW_S - 1000, NOW_S - 30);
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS, &out), SB_ETIMEDOUT);
    /* iat from the future. */
    c = claims(42, NOW_S + 31, NOW_S + 900);
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS, &out), SB_EINVAL);
    c = claims(42, NOW_S + 29, NOW_S + 900);
    REQUIRE(sb_jwt_issue(&ring, &c, tok, sizeof(tok)) == 0);
    CHECK_EQ(sb_jwt_verify(&ring, tok, NOW_MS, &out), 0);
    /* Absurd clocks do not overflow. */
    CHECK_EQ(sb_jwt_verify(&ring, tok, INT64_MAX, &out), SB_ETIMEDOUT);
    CHECK_EQ(sb_jwt_verify(&ring, tok, INT64_MIN, &out), SB_EINVAL);
}

TEST(jwt_shape)
{
    char tok[8192], big[8192], h[256], p[6000];
    const unsigned char *k = ring.keys[0].k;
    struct sb_claims c = claims(42, NOW_S, NOW_S + 900);
    char good[1024];
    const char *bad[] = {
        "", ".", "..", "...", "a.b", "a.b.c.d", "a..c", ".b.c", "a.b.",
        "eyJhbGciOiJIUzI1NiJ9", "not a token", "a.b.c ",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (verify(bad[i]) != SB_EINVAL)
            TAP_FAIL("bad[%zu] \"%s\" accepted", i, bad[i]);
    struct sb_claims out;
    CHECK_EQ(sb_jwt_verify(&ring, NULL, NOW_MS, &out), SB_EINVAL);
    CHECK_EQ(sb_jwt_verify(NULL, good, NOW_MS, &out), SB_EINVAL);
    /* A good token with padding, a space, a second dot pair. */
    REQUIRE(sb_jwt_issue(&ring, &c, good, sizeof(good)) == 0);
    snprintf(tok, sizeof(tok), "%s=", good);
    CHECK_EQ(verify(tok), SB_EINVAL);
    snprintf(tok, sizeof(tok), " %s", good);
    CHECK_EQ(verify(tok), SB_EINVAL);
    snprintf(tok, sizeof(tok), "%s.%s", good, good);
    CHECK_EQ(verify(tok), SB_EINVAL);
    /* Size: a valid token just under the bound verifies, one over it does not. */
    std_header(h, sizeof(h));
    size_t padn = 2890;
    for (int round = 0; round < 2; round++) {
        char pad[3200];
        memset(pad, 'x', padn);
        pad[padn] = '\0';
        snprintf(p, sizeof(p), "{\"sub\":\"1\",\"roles\":1,\"sid\":\"s\",\"iat\":%lld,"
                 "\"exp\":%lld,\"iss\":\"sbems\",\"pad\":\"%s\"}", (long long)NOW_S,
                 (long long)NOW_S + 60, pad);
        make_token(h, p, k, tok, sizeof(tok));
        if (round == 0) {
            CHECK_INT(strlen(tok), <=, SB_JWT_MAX);
            CHECK_INT(strlen(tok), >, SB_JWT_MAX - 200);
            CHECK_EQ(verify(tok), 0);
            padn = 3100;
        } else {
            CHECK_INT(strlen(tok), >, SB_JWT_MAX);
            CHECK_EQ(verify(tok), SB_EINVAL);
        }
    }
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ(verify(big), SB_EINVAL);
}

/* ---- refresh tokens ----------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

TEST(refresh_tokens)
{
    enum { N = 2000 };
    static char toks[N][SB_TOKEN_LEN + 1];
    char hex[65], hex2[65], small[SB_TOKEN_LEN];

    for (int i = 0; i < N; i++) {
        REQUIRE(sb_token_random(toks[i], sizeof(toks[i])) == 0);
        REQUIRE(strlen(toks[i]) == SB_TOKEN_LEN);
        CHECK(strspn(toks[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
              SB_TOKEN_LEN);
    }
    qsort(toks, N, sizeof(toks[0]), cmp_str);
    for (int i = 1; i < N; i++)
        CHECK(strcmp(toks[i - 1], toks[i]) != 0);
    CHECK_EQ(sb_token_random(small, sizeof(small)), SB_ENOSPC);

    sb_token_hash(toks[0], hex);
    CHECK_EQ(strlen(hex), 64);
    CHECK_EQ(strspn(hex, "0123456789abcdef"), 64);
    sb_token_hash(toks[0], hex2);
    CHECK_STR(hex, hex2);
    sb_token_hash(toks[1], hex2);
    CHECK(strcmp(hex, hex2) != 0);
    /* BLAKE2b-256("") (RFC 7693 parameters, libsodium crypto_generichash). */
    sb_token_hash("", hex);
    CHECK_STR(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
}

/* ---- rate limiter ------------------------------------------------------- */

TEST(rl_burst_refill)
{
    struct sb_rl *rl;
    struct sb_rl_result r;

    REQUIRE(sb_rl_new(5, 1.0, 100, &rl) == 0);
    for (int i = 0; i < 5; i++) {
        REQUIRE(sb_rl_take(rl, "u:42", 0, &r) == 0);
        CHECK_EQ(r.allowed, 1);
        CHECK_EQ(r.remaining, 4 - i);
        CHECK_EQ(r.limit, 5);
        CHECK_EQ(r.reset_s, i + 1);
    }
    CHECK_EQ(r.retry_after_s, 1);                       /* allowed, none left */
    sb_rl_take(rl, "u:42", 0, &r);
    CHECK_EQ(r.allowed, 0);
    CHECK_EQ(r.remaining, 0);
    CHECK_EQ(r.retry_after_s, 1);
    CHECK_EQ(r.reset_s, 5);
    /* Other keys have their own buckets. */
    sb_rl_take(rl, "ip:127.0.0.1", 0, &r);
    CHECK_EQ(r.allowed, 1);
    CHECK_EQ(r.remaining, 4);
    CHECK_EQ(r.retry_after_s, 0);
    /* Half a token after 500 ms: still refused, one more second to wait. */
    sb_rl_take(rl, "u:42", 500, &r);
    CHECK_EQ(r.allowed, 0);
    CHECK_EQ(r.retry_after_s, 1);
    sb_rl_take(rl, "u:42", 1000, &r);
    CHECK_EQ(r.allowed, 1);
    CHECK_EQ(r.remaining, 0);
    /* Idle long enough to be full again, and no more than full. */
    sb_rl_take(rl, "u:42", 60000, &r);
    CHECK_EQ(r.allowed, 1);
    CHECK_EQ(r.remaining, 4);
    /* A clock that goes back refills nothing. */
    sb_rl_take(rl, "u:42", 1000, &r);
    CHECK_EQ(r.remaining, 3);
    sb_rl_free(rl);

    /* Slow refill: 1 token per 2 s. */
    REQUIRE(sb_rl_new(2, 0.5, 10, &rl) == 0);
    sb_rl_take(rl, "k", 0, &r);
    sb_rl_take(rl, "k", 0, &r);
    sb_rl_take(rl, "k", 0, &r);
    CHECK_EQ(r.allowed, 0);
    CHECK_EQ(r.retry_after_s, 2);
    CHECK_EQ(r.reset_s, 4);
    sb_rl_take(rl, "k", 1999, &r);
    CHECK_EQ(r.allowed, 0);
    CHECK_EQ(r.retry_after_s, 1);
    sb_rl_take(rl, "k", 2000, &r);
    CHECK_EQ(r.allowed, 1);
    sb_rl_free(rl);
}

TEST(rl_params)
{
    struct sb_rl *rl = NULL;
    struct sb_rl_result r;

    CHECK_EQ(sb_rl_new(0.5, 1, 10, &rl), SB_EINVAL);
    CHECK_EQ(sb_rl_new(5, 0, 10, &rl), SB_EINVAL);
    CHECK_EQ(sb_rl_new(5, NAN, 10, &rl), SB_EINVAL);
    CHECK_EQ(sb_rl_new(INFINITY, 1, 10, &rl), SB_EINVAL);
    CHECK_EQ(sb_rl_new(5, 1, 0, &rl), SB_EINVAL);
    CHECK_EQ(sb_rl_new(5, 1, SB_LIM_KEYS_MAX + 1, &rl), SB_EINVAL);
    REQUIRE(sb_rl_new(5, 1, 1, &rl) == 0);
    CHECK_EQ(sb_rl_take(rl, NULL, 0, &r), SB_EINVAL);
    CHECK_EQ(sb_rl_take(NULL, "k", 0, &r), SB_EINVAL);
    sb_rl_free(rl);
    sb_rl_free(NULL);
}

TEST(rl_eviction)
{
    struct sb_rl *rl;
    struct sb_rl_result r;
    char key[32];

    /* Bounded: 10x max_keys distinct keys. */
    REQUIRE(sb_rl_new(3, 1, 64, &rl) == 0);
    for (int i = 0; i < 640; i++) {
        snprintf(key, sizeof(key), "ip:10.0.%d.%d", i / 256, i % 256);
        REQUIRE(sb_rl_take(rl, key, i, &r) == 0);
        CHECK_EQ(r.allowed, 1);
        if (sb_rl_count(rl) > 64)
            TAP_FAIL("count %zu after %d keys", sb_rl_count(rl), i + 1);
    }
    CHECK_EQ(sb_rl_count(rl), 64);
    /* The newest keys are still there (drained one token each). */
    sb_rl_take(rl, "ip:10.0.2.127", 640, &r);
    CHECK_EQ(r.remaining, 1);
    sb_rl_free(rl);

    /* A full bucket goes before an older, partly drained one. */
    REQUIRE(sb_rl_new(2, 1, 3, &rl) == 0);
    sb_rl_take(rl, "A", 0, &r);
    sb_rl_take(rl, "A", 0, &r);                          /* A empty, oldest */
    sb_rl_take(rl, "B", 10, &r);
    sb_rl_take(rl, "C", 10, &r);
    sb_rl_take(rl, "D", 1010, &r);                       /* B, C full; A has 1 */
    CHECK_EQ(sb_rl_count(rl), 3);
    sb_rl_take(rl, "A", 1010, &r);
    CHECK_EQ(r.remaining, 0);                            /* kept: a new A would say 1 */
    sb_rl_free(rl);

    /* Long keys are told apart by their digest. */
    char k1[200], k2[200];
    memset(k1, 'a', sizeof(k1) - 1);
    k1[sizeof(k1) - 1] = '\0';
    memcpy(k2, k1, sizeof(k2));
    k2[198] = 'b';
    REQUIRE(sb_rl_new(1, 0.001, 8, &rl) == 0);
    sb_rl_take(rl, k1, 0, &r);
    CHECK_EQ(r.allowed, 1);
    sb_rl_take(rl, k1, 0, &r);
    CHECK_EQ(r.allowed, 0);
    sb_rl_take(rl, k2, 0, &r);
    CHECK_EQ(r.allowed, 1);
    CHECK_EQ(sb_rl_count(rl), 2);
    sb_rl_free(rl);
}

/* Random inserts and removals keep every live key findable (the table's
 * backward-shift deletion), checked against a shadow of counts. */
TEST(thr_table_property)
{
    enum { MAXK = 32, KEYS = 48, STEPS = 20000 };
    struct sb_thr_cfg cfg = sb_thr_cfg_default();
    struct sb_thr *thr;
    int fails[KEYS] = { 0 };
    uint64_t seed = 0x1234567;
    char key[16];

    cfg.free_failures = 1000;           /* delays never start: counts only */
    cfg.lockout_failures = 0;
    REQUIRE(sb_thr_new(MAXK * 4, cfg, &thr) == 0);       /* never evicts here */
    for (int s = 0; s < STEPS; s++) {
        int k = (int)(tap_rand(&seed) % KEYS);
        snprintf(key, sizeof(key), "k%d", k);
        if (tap_rand(&seed) % 3 == 0) {
            sb_thr_success(thr, key);
            fails[k] = 0;
        } else {
            sb_thr_fail(thr, key, s);
            fails[k]++;
        }
    }
    size_t live = 0;
    for (int k = 0; k < KEYS; k++)
        live += fails[k] > 0;
    CHECK_EQ(sb_thr_count(thr), live);
    /* Each key's count shows in when delays start: set them off one by one. */
    sb_thr_free(thr);
    cfg = sb_thr_cfg_default();
    cfg.free_failures = 0;
    cfg.lockout_failures = 0;
    cfg.base_delay_ms = 1;
    cfg.max_delay_ms = INT64_MAX / 4;
    REQUIRE(sb_thr_new(MAXK * 4, cfg, &thr) == 0);
    memset(fails, 0, sizeof(fails));
    seed = 99;
    for (int s = 0; s < STEPS; s++) {
        int k = (int)(tap_rand(&seed) % KEYS);
        snprintf(key, sizeof(key), "k%d", k);
        if (tap_rand(&seed) % 3 == 0 || fails[k] >= 20) {
            sb_thr_success(thr, key);
            fails[k] = 0;
        } else {
            sb_thr_fail(thr, key, 0);
            fails[k]++;
        }
    }
    for (int k = 0; k < KEYS; k++) {
        snprintf(key, sizeof(key), "k%d", k);
        int64_t want = fails[k] ? (int64_t)1 << (fails[k] - 1) : 0;
        if (sb_thr_check(thr, key, 0) != want)
            TAP_FAIL("key %d: wait %lld, want %lld", k, (long long)sb_thr_check(thr, key, 0),
                     (long long)want);
    }
    sb_thr_free(thr);
}

/* ---- login throttle ----------------------------------------------------- */

TEST(thr_delays_lockout)
{
    struct sb_thr *thr;
    struct sb_thr_cfg cfg = sb_thr_cfg_default();
    const char *k = "login:alice";
    int64_t t = NOW_MS, want[] = { 0, 0, 0, 1000, 2000, 4000, 8000, 16000, 32000 };
    int locks = 0;

    REQUIRE(sb_thr_new(100, cfg, &thr) == 0);
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    for (int n = 1; n <= 9; n++) {
        CHECK_EQ(sb_thr_fail(thr, k, t), 0);
        int64_t w = sb_thr_check(thr, k, t);
        if (w != want[n - 1])
            TAP_FAIL("after %d failures wait %lld, want %lld", n, (long long)w,
                     (long long)want[n - 1]);
        if (w > 1) {
            CHECK_EQ(sb_thr_check(thr, k, t + w / 2), w - w / 2);
        }
        t += w;
        CHECK_EQ(sb_thr_check(thr, k, t), 0);
    }
    /* The 10th failure locks the key out for 15 minutes, reported once. */
    locks += sb_thr_fail(thr, k, t);
    CHECK_EQ(locks, 1);
    CHECK_EQ(sb_thr_check(thr, k, t), 15 * 60 * 1000);
    CHECK_EQ(sb_thr_check(thr, k, t + 60000), 14 * 60 * 1000);
    t += 15 * 60 * 1000;
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    /* Later failures keep doubling up to the cap, without new lock-outs. */
    for (int n = 11; n <= 20; n++) {
        locks += sb_thr_fail(thr, k, t);
        int64_t w = sb_thr_check(thr, k, t);
        int64_t exp = n <= 13 ? 1000LL << (n - 4) : cfg.max_delay_ms;
        if (w != exp)
            TAP_FAIL("after %d failures wait %lld, want %lld", n, (long long)w, (long long)exp);
        t += w;
    }
    CHECK_EQ(locks, 1);
    /* Success clears everything: three free failures again. */
    sb_thr_success(thr, k);
    CHECK_EQ(sb_thr_count(thr), 0);
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    for (int n = 0; n < 3; n++)
        sb_thr_fail(thr, k, t);
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    sb_thr_fail(thr, k, t);
    CHECK_EQ(sb_thr_check(thr, k, t), 1000);
    /* After forget_ms without failures the key starts over. */
    t += cfg.forget_ms;
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    CHECK_EQ(sb_thr_count(thr), 0);
    for (int n = 0; n < 3; n++)
        sb_thr_fail(thr, k, t);
    CHECK_EQ(sb_thr_check(thr, k, t), 0);
    /* A clock that goes back does not lengthen the wait. */
    sb_thr_fail(thr, k, t);
    CHECK_EQ(sb_thr_check(thr, k, t - 100000), 1000);
    sb_thr_free(thr);
}

TEST(thr_bounded)
{
    struct sb_thr *thr;
    struct sb_thr_cfg cfg = sb_thr_cfg_default();
    char key[32];
    int64_t t = NOW_MS;

    CHECK_EQ(sb_thr_new(16, (struct sb_thr_cfg){ .free_failures = 3, .lockout_failures = 3,
                                                  .forget_ms = 1 }, &thr), SB_EINVAL);
    CHECK_EQ(sb_thr_new(16, (struct sb_thr_cfg){ .base_delay_ms = 10, .max_delay_ms = 5,
                                                  .forget_ms = 1 }, &thr), SB_EINVAL);
    CHECK_EQ(sb_thr_new(16, (struct sb_thr_cfg){ .forget_ms = 0 }, &thr), SB_EINVAL);
    CHECK_EQ(sb_thr_new(0, cfg, &thr), SB_EINVAL);
    REQUIRE(sb_thr_new(16, cfg, &thr) == 0);
    CHECK_EQ(sb_thr_fail(thr, NULL, t), SB_EINVAL);
    CHECK_INT(sb_thr_check(thr, NULL, t), <, 0);
    /* Lock one account out, then flood with 10x max_keys new keys. */
    for (int n = 0; n < 10; n++)
        sb_thr_fail(thr, "login:victim", t);
    CHECK_INT(sb_thr_check(thr, "login:victim", t), >, 0);
    for (int i = 0; i < 160; i++) {
        snprintf(key, sizeof(key), "login:flood%d", i);
        sb_thr_fail(thr, key, t + i);
        if (sb_thr_count(thr) > 16)
            TAP_FAIL("count %zu after %d keys", sb_thr_count(thr), i + 1);
    }
    CHECK_EQ(sb_thr_count(thr), 16);
    /* The flood pushed out other flood keys, not the locked account. */
    CHECK_EQ(sb_thr_check(thr, "login:victim", t + 1000), 15 * 60 * 1000 - 1000);
    sb_thr_free(thr);
}

int main(void)
{
    char err[256] = "", path[512];

    TAP_START();
    root = mkdtemp(tmpl);
    if (!root || sodium_init() < 0) {
        printf("Bail out! no temp dir or libsodium\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/ring.json", root);
    if (sb_keyring_load_or_create(path, NOW_MS, &ring, err, sizeof(err)) != 0) {
        printf("Bail out! %s\n", err);
        return 1;
    }
    unlink(path);
    RUN(pw_hash_verify);
    RUN(pw_bad_params);
    RUN(pw_garbage_hashes);
    RUN(pw_dummy);
    RUN(pw_policy);
    RUN(keyring_create_reload);
    RUN(keyring_refuse_mode);
    RUN(keyring_malformed);
    RUN(keyring_rotate);
    RUN(jwt_roundtrip);
    RUN(jwt_issue_errors);
    RUN(jwt_tampered);
    RUN(jwt_bad_headers);
    RUN(jwt_bad_claims);
    RUN(jwt_time);
    RUN(jwt_shape);
    RUN(refresh_tokens);
    RUN(rl_burst_refill);
    RUN(rl_params);
    RUN(rl_eviction);
    RUN(thr_table_property);
    RUN(thr_delays_lockout);
    RUN(thr_bounded);
    sb_keyring_wipe(&ring);
    rmdir(root);
    TAP_END();
}

/* jwt.c - the signing key ring, HS256 access tokens, refresh tokens (see jwt.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <sodium.h>

#include "auth/jwt.h"
#include "core/err.h"

#define B64V sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define FILE_MAX 8192                 /* a full ring is ~1 KiB */
#define MAX_TIME_S 253402300799LL     /* 9999-12-31T23:59:59Z */
#define SEG_MAX ((SB_JWT_MAX / 4) * 3 + 3)   /* decoded header or payload */

/* ---- helpers ---------------------------------------------------------- */

static int kid_ok(const char *s)
{
    size_t n = 0;

    for (; s[n]; n++) {
        char c = s[n];
        if (n >= SB_KID_MAX - 1 ||
            !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return n > 0;
}

static const struct sb_jwt_key *find_key(const struct sb_keyring *kr, const char *kid)
{
    for (size_t i = 0; i < kr->n && i < SB_KEYRING_MAX; i++)
        if (strcmp(kr->keys[i].kid, kid) == 0)
            return &kr->keys[i];
    return NULL;
}

/* Strict base64url without padding (RFC 7515 2): the whole of s[0..n),
 * no stray bits.  Returns the decoded length or -1. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    const char *end = NULL;
    size_t len = 0;

    if (sodium_base642bin(out, cap, s, n, NULL, &len, &end, B64V) != 0 || end != s + n)
        return -1;
    return (long)len;
}

/* A fresh key created at now_ms whose kid is not in kr. */
static void new_key(const struct sb_keyring *kr, int64_t now_ms, struct sb_jwt_key *k)
{
    unsigned char id[8];

    do {
        randombytes_buf(id, sizeof(id));
        sodium_bin2hex(k->kid, sizeof(k->kid), id, sizeof(id));
    } while (kr && find_key(kr, k->kid));
    randombytes_buf(k->k, sizeof(k->k));
    k->created_ms = now_ms;
}

/* ---- key file --------------------------------------------------------- */

/* Renders kr as the key file's JSON into buf; returns the length or -1. */
static int render(const struct sb_keyring *kr, char *buf, size_t cap)
{
    char b64[sodium_base64_ENCODED_LEN(SB_JWT_KEY_BYTES, B64V)];
    size_t len;
    int n = snprintf(buf, cap, "{\"active\":\"%s\",\"keys\":[", kr->active);

    if (n < 0 || (size_t)n >= cap)
        return -1;
    len = (size_t)n;
    for (size_t i = 0; i < kr->n; i++) {
        sodium_bin2base64(b64, sizeof(b64), kr->keys[i].k, SB_JWT_KEY_BYTES, B64V);
        n = snprintf(buf + len, cap - len, "%s{\"kid\":\"%s\",\"k\":\"%s\",\"created\":%" PRId64 "}",
                     i ? "," : "", kr->keys[i].kid, b64, kr->keys[i].created_ms);
        sodium_memzero(b64, sizeof(b64));
        if (n < 0 || (size_t)n >= cap - len)
            return -1;
        len += (size_t)n;
    }
    n = snprintf(buf + len, cap - len, "]}\n");
    if (n < 0 || (size_t)n >= cap - len)
        return -1;
    return (int)(len + (size_t)n);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Makes the rename durable (best effort: some file systems refuse). */
static void sync_dir(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Writes kr to path atomically: a temp file in the same directory created
 * O_EXCL with mode 0600 (never a moment with wider permissions), fsync,
 * rename over path. */
static int write_ring(const char *path, const struct sb_keyring *kr, char *err, size_t errlen)
{
    char buf[FILE_MAX], tmp[PATH_MAX];
    unsigned char rnd[6];
    char hex[13];
    int fd = -1, made = 0, rc = SB_EIO, len = render(kr, buf, sizeof(buf));

    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
    if (len < 0 || snprintf(tmp, sizeof(tmp), "%s.tmp-%s", path, hex) >= (int)sizeof(tmp)) {
        sb_errf(err, errlen, "key file %s: path or ring too long", path);
        rc = SB_EINVAL;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sb_errf(err, errlen, "key file %s: cannot create %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    made = 1;
    /* umask can only remove bits; fchmod makes it exactly 0600. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, buf, (size_t)len) != 0 || fsync(fd) != 0) {
        sb_errf(err, errlen, "key file %s: cannot write %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    rc = close(fd);
    fd = -1;
    if (rc != 0 || rename(tmp, path) != 0) {
        sb_errf(err, errlen, "key file %s: cannot replace: %s", path, strerror(errno));
        rc = SB_EIO;
        goto out;
    }
    made = 0;
    sync_dir(path);
out:
    if (fd >= 0)
        close(fd);
    if (made)
        (void)unlink(tmp);
    sodium_memzero(buf, sizeof(buf));
    return rc;
}

/* Reads path into buf (NUL-terminated) after checking what it is.
 * SB_ENOENT when it does not exist. */
static int read_ring_file(const char *path, char *buf, size_t cap, char *err, size_t errlen)
{
    struct stat st;
    size_t len = 0;
    int rc = SB_EIO, fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return SB_ENOENT;
        sb_errf(err, errlen, "key file %s: %s", path, strerror(errno));
        return SB_EIO;
    }
    if (fstat(fd, &st) != 0) {
        sb_errf(err, errlen, "key file %s: %s", path, strerror(errno));
        goto out;
    }
    rc = SB_ECONFIG;
    if (!S_ISREG(st.st_mode)) {
        sb_errf(err, errlen, "key file %s: not a regular file", path);
        goto out;
    }
    if (st.st_mode & 077) {
        sb_errf(err, errlen, "key file %s: mode %03o lets group or others access the "
                "signing keys; run chmod 600 on it", path, (unsigned)(st.st_mode & 0777));
        goto out;
    }
    if (st.st_size <= 0 || st.st_size >= (off_t)cap) {
        sb_errf(err, errlen, "key file %s: size %lld is not in 1..%zu", path,
                (long long)st.st_size, cap - 1);
        goto out;
    }
    rc = SB_EIO;
    while (len < cap - 1) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sb_errf(err, errlen, "key file %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    rc = 0;
out:
    close(fd);
    return rc;
}

/* One element of "keys". */
static int parse_key(json_t *o, size_t i, struct sb_jwt_key *k, const char *path, char *err,
                     size_t errlen)
{
    json_t *kid = json_object_get(o, "kid"), *kk = json_object_get(o, "k"),
           *cr = json_object_get(o, "created");

    if (!json_is_string(kid) || !kid_ok(json_string_value(kid))) {
        sb_errf(err, errlen, "key file %s: keys[%zu].kid must be 1..%d characters of "
                "[A-Za-z0-9_-]", path, i, SB_KID_MAX - 1);
        return SB_ECONFIG;
    }
    if (!json_is_string(kk) ||
        b64_decode(json_string_value(kk), json_string_length(kk), k->k, sizeof(k->k)) !=
            SB_JWT_KEY_BYTES) {
        sb_errf(err, errlen, "key file %s: keys[%zu].k must be %d bytes in base64url "
                "without padding", path, i, SB_JWT_KEY_BYTES);
        return SB_ECONFIG;
    }
    if (!json_is_integer(cr) || json_integer_value(cr) < 0) {
        sb_errf(err, errlen, "key file %s: keys[%zu].created must be an integer >= 0 (ms)",
                path, i);
        return SB_ECONFIG;
    }
    snprintf(k->kid, sizeof(k->kid), "%s", json_string_value(kid));
    k->created_ms = json_integer_value(cr);
    return 0;
}

static int parse_ring(const char *text, struct sb_keyring *kr, const char *path, char *err,
                      size_t errlen)
{
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je), *keys, *act;
    int rc = SB_ECONFIG;

    if (!root) {
        sb_errf(err, errlen, "key file %s: line %d: %s", path, je.line, je.text);
        return SB_ECONFIG;
    }
    keys = json_object_get(root, "keys");
    act = json_object_get(root, "active");
    if (!json_is_array(keys) || json_array_size(keys) < 1 ||
        json_array_size(keys) > SB_KEYRING_MAX) {
        sb_errf(err, errlen, "key file %s: \"keys\" must be an array of 1..%d keys", path,
                SB_KEYRING_MAX);
        goto out;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        if ((rc = parse_key(json_array_get(keys, i), i, &kr->keys[i], path, err, errlen)))
            goto out;
        if (find_key(kr, kr->keys[i].kid)) {
            sb_errf(err, errlen, "key file %s: kid %s appears twice", path, kr->keys[i].kid);
            rc = SB_ECONFIG;
            goto out;
        }
        kr->n = i + 1;
    }
    rc = SB_ECONFIG;
    if (!json_is_string(act) || !find_key(kr, json_string_value(act))) {
        sb_errf(err, errlen, "key file %s: \"active\" must be the kid of one of the keys", path);
        goto out;
    }
    snprintf(kr->active, sizeof(kr->active), "%s", json_string_value(act));
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int sb_keyring_load_or_create(const char *path, int64_t now_ms, struct sb_keyring *kr,
                              char *err, size_t errlen)
{
    char buf[FILE_MAX];
    int rc;

    if (!path || !*path || !kr) {
        sb_errf(err, errlen, "key file: no path");
        return SB_EINVAL;
    }
    sodium_memzero(kr, sizeof(*kr));
    if (sodium_init() < 0) {
        sb_errf(err, errlen, "key file %s: libsodium failed to initialise", path);
        return SB_EIO;
    }
    rc = read_ring_file(path, buf, sizeof(buf), err, errlen);
    if (rc == 0) {
        rc = parse_ring(buf, kr, path, err, errlen);
    } else if (rc == SB_ENOENT) {
        new_key(NULL, now_ms, &kr->keys[0]);
        kr->n = 1;
        memcpy(kr->active, kr->keys[0].kid, sizeof(kr->active));
        rc = write_ring(path, kr, err, errlen);
    }
    sodium_memzero(buf, sizeof(buf));
    if (rc != 0)
        sb_keyring_wipe(kr);
    return rc;
}

int sb_keyring_rotate(const char *path, int64_t now_ms, struct sb_keyring *kr, size_t keep)
{
    struct sb_keyring nk;
    size_t used[SB_KEYRING_MAX] = { 0 };
    int rc;

    if (!path || !kr || keep < 1 || kr->n > SB_KEYRING_MAX || sodium_init() < 0)
        return SB_EINVAL;
    if (keep > SB_KEYRING_MAX)
        keep = SB_KEYRING_MAX;
    sodium_memzero(&nk, sizeof(nk));
    new_key(kr, now_ms, &nk.keys[0]);
    memcpy(nk.active, nk.keys[0].kid, sizeof(nk.active));
    nk.n = 1;
    /* Then the old keys, newest first (selection: n <= 8). */
    while (nk.n < keep) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < kr->n; i++)
            if (!used[i] && (best == SIZE_MAX || kr->keys[i].created_ms > kr->keys[best].created_ms))
                best = i;
        if (best == SIZE_MAX)
            break;
        used[best] = 1;
        nk.keys[nk.n++] = kr->keys[best];
    }
    rc = write_ring(path, &nk, NULL, 0);
    if (rc == 0) {
        sb_keyring_wipe(kr);
        *kr = nk;
    }
    sodium_memzero(&nk, sizeof(nk));
    return rc;
}

void sb_keyring_wipe(struct sb_keyring *kr)
{
    if (kr)
        sodium_memzero(kr, sizeof(*kr));
}

/* ---- issue ------------------------------------------------------------ */

/* Session ids are ours (hex, UUIDs): printable ASCII keeps them out of
 * UTF-8 and escaping trouble and bounds the token's size. */
static int sid_ok(const char *s, size_t cap)
{
    size_t n = 0;

    for (; n < cap && s[n]; n++)
        if (s[n] < 0x20 || s[n] > 0x7e)
            return 0;
    return n < cap;
}

static int claims_ok(const struct sb_claims *c)
{
    return c->uid > 0 && c->iat >= 0 && c->exp > c->iat && c->exp <= MAX_TIME_S &&
           sid_ok(c->sid, sizeof(c->sid));
}

/* libjwt 1.x returns errno values; ENOMEM is the only one that is not
 * our own fault. */
static int add_claims(jwt_t *j, const struct sb_keyring *kr, const struct sb_jwt_key *k,
                      const struct sb_claims *c)
{
    char sub[24];

    snprintf(sub, sizeof(sub), "%" PRId64, c->uid);
    if (jwt_set_alg(j, JWT_ALG_HS256, k->k, (int)sizeof(k->k)) ||
        jwt_add_header(j, "kid", kr->active) ||
        jwt_add_grant(j, "iss", "sbems") || jwt_add_grant(j, "sub", sub) ||
        jwt_add_grant_int(j, "roles", (long)c->roles) || jwt_add_grant(j, "sid", c->sid) ||
        jwt_add_grant_int(j, "iat", (long)c->iat) || jwt_add_grant_int(j, "exp", (long)c->exp))
        return SB_ENOMEM;
    return 0;
}

int sb_jwt_issue(const struct sb_keyring *kr, const struct sb_claims *c, char *out,
                 size_t outlen)
{
    const struct sb_jwt_key *k;
    jwt_t *j = NULL;
    char *s = NULL;
    int rc;

    if (!kr || !c || !out || !claims_ok(c) || !(k = find_key(kr, kr->active)))
        return SB_EINVAL;
    if (jwt_new(&j) != 0)
        return SB_ENOMEM;
    if ((rc = add_claims(j, kr, k, c)))
        goto out;
    rc = SB_ENOMEM;
    if (!(s = jwt_encode_str(j)))
        goto out;
    rc = SB_ENOSPC;
    if (strlen(s) >= outlen)
        goto out;
    memcpy(out, s, strlen(s) + 1);
    rc = 0;
out:
    free(s);            /* libjwt 1.10 allocates with malloc (no jwt_free_str) */
    jwt_free(j);        /* scrubs its copy of the key */
    return rc;
}

/* ---- verify ----------------------------------------------------------- */

/* A token split at its two dots. */
struct parts {
    const char *h, *p, *s;   /* header, payload, signature */
    size_t hl, pl, sl;       /* their lengths */
};

static int is_b64url(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

/* Exactly three non-empty base64url segments (RFC 7515 7.1, compact form). */
static int split(const char *t, size_t len, struct parts *pt)
{
    size_t dots[2], nd = 0;

    for (size_t i = 0; i < len; i++) {
        if (t[i] == '.') {
            if (nd == 2)
                return -1;
            dots[nd++] = i;
        } else if (!is_b64url(t[i])) {
            return -1;
        }
    }
    if (nd != 2)
        return -1;
    *pt = (struct parts){ t, t + dots[0] + 1, t + dots[1] + 1,
                          dots[0], dots[1] - dots[0] - 1, len - dots[1] - 1 };
    return pt->hl && pt->pl && pt->sl ? 0 : -1;
}

/* Decodes a segment and parses it as a JSON object (duplicate names
 * refused, so we and libjwt cannot read different values). */
static json_t *seg_json(const char *s, size_t n)
{
    unsigned char buf[SEG_MAX];
    long len = b64_decode(s, n, buf, sizeof(buf));
    json_t *o;

    if (len <= 0)
        return NULL;
    o = json_loadb((const char *)buf, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    if (o && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Header: only alg (exactly "HS256"), typ (absent or "JWT") and kid (a
 * key of the ring).  RFC 8725 2.1/3.1: the verifier picks the algorithm. */
static const struct sb_jwt_key *check_header(const struct sb_keyring *kr, const struct parts *pt)
{
    json_t *h = seg_json(pt->h, pt->hl), *v;
    const struct sb_jwt_key *k = NULL;
    const char *name;

    if (!h)
        return NULL;
    json_object_foreach(h, name, v) {
        if (strcmp(name, "alg") && strcmp(name, "typ") && strcmp(name, "kid"))
            goto out;
    }
    v = json_object_get(h, "typ");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), "JWT") != 0))
        goto out;
    v = json_object_get(h, "alg");
    if (!json_is_string(v) || strcmp(json_string_value(v), "HS256") != 0)
        goto out;
    v = json_object_get(h, "kid");
    if (json_is_string(v) && kid_ok(json_string_value(v)))
        k = find_key(kr, json_string_value(v));
out:
    json_decref(h);
    return k;
}

/* HMAC-SHA-256 over "header.payload", compared in constant time. */
static int check_sig(const struct sb_jwt_key *k, const char *token, const struct parts *pt)
{
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES + 3];
    int ok;

    if (b64_decode(pt->s, pt->sl, got, sizeof(got)) != (long)sizeof(want))
        return -1;
    crypto_auth_hmacsha256(want, (const unsigned char *)token, pt->hl + 1 + pt->pl, k->k);
    ok = sodium_memcmp(want, got, sizeof(want)) == 0;
    sodium_memzero(want, sizeof(want));
    return ok ? 0 : -1;
}

/* libjwt's own decode and verification with the same key. */
static int libjwt_check(const struct sb_jwt_key *k, const char *token)
{
    jwt_t *j = NULL;
    int rc = jwt_decode(&j, token, k->k, (int)sizeof(k->k));

    if (rc == ENOMEM)
        return SB_ENOMEM;
    rc = rc == 0 && jwt_get_alg(j) == JWT_ALG_HS256 ? 0 : SB_EINVAL;
    jwt_free(j);
    return rc;
}

/* "sub": decimal digits, no sign or leading zero, 1..INT64_MAX. */
static int parse_sub(json_t *v, int64_t *uid)
{
    const char *s = json_string_value(v);
    int64_t x = 0;

    if (!s || !*s || *s == '0' || json_string_length(v) > 19)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || x > (INT64_MAX - (*s - '0')) / 10)
            return -1;
        x = x * 10 + (*s - '0');
    }
    *uid = x;
    return 0;
}

static int get_time(json_t *o, const char *name, int64_t *t)
{
    json_t *v = json_object_get(o, name);

    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAX_TIME_S)
        return -1;
    *t = json_integer_value(v);
    return 0;
}

/* The payload's claims, types and ranges (not time). */
static int parse_claims(const struct parts *pt, struct sb_claims *c)
{
    json_t *o = seg_json(pt->p, pt->pl), *v;
    int rc = -1;

    if (!o)
        return -1;
    v = json_object_get(o, "iss");
    if (!json_is_string(v) || strcmp(json_string_value(v), "sbems") != 0)
        goto out;
    if (parse_sub(json_object_get(o, "sub"), &c->uid) != 0)
        goto out;
    v = json_object_get(o, "roles");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
        goto out;
    c->roles = (uint32_t)json_integer_value(v);
    v = json_object_get(o, "sid");
    if (!json_is_string(v) || json_string_length(v) >= sizeof(c->sid) ||
        !sid_ok(json_string_value(v), json_string_length(v) + 1))
        goto out;
    memcpy(c->sid, json_string_value(v), json_string_length(v) + 1);
    if (get_time(o, "iat", &c->iat) != 0 || get_time(o, "exp", &c->exp) != 0)
        goto out;
    rc = 0;
out:
    json_decref(o);
    return rc;
}

int sb_jwt_verify(const struct sb_keyring *kr, const char *token, int64_t now_ms,
                  struct sb_claims *out)
{
    const struct sb_jwt_key *k;
    struct sb_claims c = { 0 };
    struct parts pt;
    size_t len;
    int rc;

    if (!kr || !token || !out || sodium_init() < 0)
        return SB_EINVAL;
    len = strnlen(token, SB_JWT_MAX + 1);
    if (len > SB_JWT_MAX || split(token, len, &pt) != 0)
        return SB_EINVAL;
    if (!(k = check_header(kr, &pt)) || check_sig(k, token, &pt) != 0)
        return SB_EINVAL;
    if ((rc = libjwt_check(k, token)) != 0)
        return rc;
    if (parse_claims(&pt, &c) != 0)
        return SB_EINVAL;
    /* Clamped so the sums below cannot overflow (claims are <= MAX_TIME_S). */
    if (now_ms < 0)
        now_ms = 0;
    if (now_ms > MAX_TIME_S * 1000)
        now_ms = MAX_TIME_S * 1000;
    /* RFC 7519 4.1.4: reject at or after exp (plus the skew). */
    if (now_ms >= c.exp * 1000 + SB_JWT_SKEW_MS)
        return SB_ETIMEDOUT;
    if (c.iat * 1000 > now_ms + SB_JWT_SKEW_MS || c.exp <= c.iat)
        return SB_EINVAL;
    memcpy(c.kid, k->kid, sizeof(c.kid));
    *out = c;
    return 0;
}

/* ---- refresh tokens --------------------------------------------------- */

int sb_token_random(char *out, size_t outlen)
{
    unsigned char b[32];

    if (!out || outlen <= SB_TOKEN_LEN)
        return SB_ENOSPC;
    if (sodium_init() < 0)
        return SB_EIO;
    randombytes_buf(b, sizeof(b));
    sodium_bin2base64(out, outlen, b, sizeof(b), B64V);
    sodium_memzero(b, sizeof(b));
    return 0;
}

void sb_token_hash(const char *token, char out_hex[65])
{
    unsigned char h[32];

    if (!token)
        token = "";
    crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out_hex, 65, h, sizeof(h));
}

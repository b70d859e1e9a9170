/*
 * h_auth.c - sign in, token refresh with rotation, sign out, the current
 * user, password change, signing-key rotation; and user administration.
 *
 * Login (OWASP Authentication Cheat Sheet): the same answer and about the
 * same time for an unknown user and a wrong password (a dummy argon2id
 * verification); failures throttled per account and per address with
 * exponential delays, and a lock-out audited.  The throttle lives on the
 * loop thread: the loop checks it before the pool verifies the password,
 * and the result is recorded in the request's after() on the loop.
 *
 * Refresh tokens (OAuth 2.0 Security BCP s.4.14): opaque, stored hashed,
 * rotated on every use; showing an already-used one revokes its whole
 * family and is audited as token theft.  The web UI gets the refresh token
 * also as an HttpOnly, SameSite=Strict cookie scoped to /api/v1/auth.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "db/audit_later.h"
#include "auth/limits.h"
#include "cluster/redis.h"
#include "core/conf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/timefmt.h"

#define COOKIE "sbems_rt"

/* ---- tokens -------------------------------------------------------------------- */

/* Issue an access token and answer with both tokens. */
static void issue(struct sb_api *api, struct sb_req *rq, const struct sb_user *u,
                  const char *family, const char *refresh, int status)
{
    struct sb_claims c;
    char jwt[2048];
    int64_t now = sb_now_ms();

    memset(&c, 0, sizeof(c));
    c.uid = u->id;
    c.roles = u->roles;
    snprintf(c.sid, sizeof(c.sid), "%s", family);
    c.iat = now / 1000;
    c.exp = (now + api->access_ttl) / 1000;
    pthread_mutex_lock(&api->krmu);
    int rc = sb_jwt_issue(&api->kr, &c, jwt, sizeof(jwt));
    pthread_mutex_unlock(&api->krmu);
    if (rc) {
        sb_api__err_rc(rq, rc, "signing the token");
        return;
    }
    json_t *roles = json_array();
    for (uint32_t b = 1; b <= SB_ROLE_VIEWER; b <<= 1)
        if (u->roles & b)
            json_array_append_new(roles, json_string(sb_role_name(b)));
    sb_api__json(rq, status,
                 json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I, s:s, s:o, s:b}}",
                           "access_token", jwt, "token_type", "Bearer", "expires_in",
                           (json_int_t)(api->access_ttl / 1000), "refresh_token", refresh,
                           "refresh_expires_in", (json_int_t)(api->refresh_ttl / 1000),
                           "user", "id", (json_int_t)u->id, "username", u->username,
                           "roles", roles, "must_change_password", u->must_change_pw));
    sb_http__hdr(&rq->resp, "set-cookie:",
                 COOKIE "=%s; Path=/api/v1/auth; Max-Age=%" PRId64 "; HttpOnly; SameSite=Strict%s",
                 refresh, api->refresh_ttl / 1000, rq->tls ? "; Secure" : "");
}

/* A new refresh family for u: insert and answer. */
static void new_session(struct sb_api *api, struct sb_req *rq, const struct sb_user *u)
{
    char tok[SB_TOKEN_LEN + 1], hash[65], fam[SB_RT_FAMILY_LEN + 1];
    unsigned char fb[SB_RT_FAMILY_LEN / 2];
    int64_t now = sb_now_ms();

    randombytes_buf(fb, sizeof(fb));
    sodium_bin2hex(fam, sizeof(fam), fb, sizeof(fb));
    if (sb_token_random(tok, sizeof(tok))) {
        sb_api__err(rq, 500, "internal", "no randomness");
        return;
    }
    sb_token_hash(tok, hash);
    int rc = sb_appdb_rt_insert(api->ctx.db, u->id, fam, hash, now, now + api->refresh_ttl,
                                rq->ip, rq->ua);
    if (rc) {
        sb_api__err_rc(rq, rc, "creating the session");
        return;
    }
    issue(api, rq, u, fam, tok, 200);
    sodium_memzero(tok, sizeof(tok));
}

/* ---- login ------------------------------------------------------------------------ */

/* A lock-out is audited from the loop: written later, on the pool. */
static void audit_lockout(struct sb_api *api, const struct sb_req *rq)
{
    char target[160];
    snprintf(target, sizeof(target), "user:%s", rq->xs[0]);
    struct sb_audit_rec r = { .ts_ms = sb_now_ms(), .ip = rq->ip, .action = "auth.lockout",
                              .target = target, .result = "locked",
                              .detail = "repeated failed sign-ins: account and address throttled" };
    sb_appdb_audit_later(api->loop, api->ctx.db, &r, NULL);
}

/* Loop thread: record the outcome in the throttles. */
static void login_after(struct sb_api *api, struct sb_req *rq)
{
    char ku[160], ki[96];
    snprintf(ku, sizeof(ku), "u:%s", rq->xs[0]);
    snprintf(ki, sizeof(ki), "ip:%s", rq->ip);
    const char *res[] = { rq->xi[0] == 1 ? "ok" : rq->xi[0] == 2 ? "failed" : "refused" };
    sb_metric_inc(api->m_auth, res, 1);
    if (rq->xi[0] == 1) {
        sb_thr_success(api->thr_user, ku);
        sb_redis_thr_success(api->redis, ku);
        return;
    }
    if (rq->xi[0] != 2)
        return;
    int locked = sb_thr_fail(api->thr_user, ku, sb_now_ms());
    locked |= sb_thr_fail(api->thr_ip, ki, sb_now_ms());
    sb_redis_thr_fail(api->redis, ku, &api->thr_cfg);     /* counted for every node */
    sb_redis_thr_fail(api->redis, ki, &api->thr_cfg);
    if (locked) {
        SB_WARN("auth", "lock-out after repeated failed logins (user %s, address %s)",
                rq->xs[0], rq->ip);
        audit_lockout(api, rq);
    }
}

/* Loop thread, before the pool: refuse while throttled. */
int sb_api__login_gate(struct sb_api *api, struct sb_req *rq, const char *username)
{
    char ku[96], ki[96];
    snprintf(ku, sizeof(ku), "u:%s", username);
    snprintf(ki, sizeof(ki), "ip:%s", rq->ip);
    int64_t now = sb_now_ms();
    int64_t w = sb_thr_check(api->thr_user, ku, now), wi = sb_thr_check(api->thr_ip, ki, now);
    if (wi > w)
        w = wi;
    if (api->redis) {                  /* what the failures on every node impose */
        int64_t su = sb_redis_thr_wait(api->redis, ku), si = sb_redis_thr_wait(api->redis, ki);
        w = su > w ? su : w;
        w = si > w ? si : w;
    }
    if (w <= 0)
        return 0;
    rq->resp.retry_after = (int)((w + 999) / 1000);
    sb_api__err(rq, 429, "too_many_attempts",
                "too many failed sign-ins; wait before trying again (see Retry-After)");
    return -1;
}

void sb_api__h_login(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "username", "password", NULL };
    json_t *b = sb_api__body(rq);
    struct sb_user u;
    const char *name, *pw;

    rq->after = login_after;
    rq->xi[0] = 0;
    if (!b || sb_api__only_keys(rq, b, keys))
        goto out;
    name = json_string_value(json_object_get(b, "username"));
    pw = json_string_value(json_object_get(b, "password"));
    if (!name || !pw || !*name || strlen(name) > SB_USERNAME_MAX || strlen(pw) > SB_PW_MAX_BYTES) {
        sb_api__bad_field(rq, !name || !*name || strlen(name) > SB_USERNAME_MAX ? "username"
                                                                                : "password",
                          "username and password are required strings");
        goto out;
    }
    snprintf(rq->xs[0], sizeof(rq->xs[0]), "%s", name);
    for (char *p = rq->xs[0]; *p; p++)          /* throttle key: case-insensitive */
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
    int rc = sb_appdb_user_by_name(api->ctx.db, name, &u);
    if (rc && rc != SB_ENOENT) {
        sb_api__err_rc(rq, rc, "reading the account");
        goto out;
    }
    int ok = rc == 0 ? sb_pw_verify(u.pw_hash, pw) == 0 : (sb_pw_verify_dummy(pw), 0);
    if (!ok || u.disabled) {
        rq->xi[0] = 2;
        sb_api__audit(api, rq, "auth.login", name, NULL, NULL, "denied",
                      rc ? "unknown user" : u.disabled ? "account disabled" : "wrong password");
        sb_api__err(rq, 401, "invalid_credentials", "wrong username or password");
        goto out;
    }
    rq->xi[0] = 1;
    if (sb_pw_needs_rehash(u.pw_hash, &api->pw) == 1) {
        char h[SB_PW_HASH_MAX];
        if (sb_pw_hash(&api->pw, pw, h) == 0)
            sb_appdb_user_set_password(api->ctx.db, u.id, h, u.must_change_pw, sb_now_ms());
    }
    sb_appdb_user_touch_login(api->ctx.db, u.id, sb_now_ms());
    rq->who.uid = u.id;
    snprintf(rq->who.username, sizeof(rq->who.username), "%s", u.username);
    sb_api__audit(api, rq, "auth.login", name, NULL, NULL, "ok", NULL);
    new_session(api, rq, &u);
out:
    json_decref(b);
}

/* ---- refresh / logout ------------------------------------------------------------- */

/* The refresh token from the body or the cookie, into out. */
static int refresh_token(struct sb_req *rq, char *out, size_t cap)
{
    if (rq->body && rq->body_len) {
        json_t *b = sb_api__body(rq);
        if (!b)
            return -1;
        const char *t = json_string_value(json_object_get(b, "refresh_token"));
        if (t)
            snprintf(out, cap, "%s", t);
        json_decref(b);
        if (t)
            return 0;
    }
    const char *c = strstr(rq->cookie, COOKIE "=");
    if (c) {
        c += strlen(COOKIE) + 1;
        size_t n = strcspn(c, "; ");
        if (n && n < cap) {
            memcpy(out, c, n);
            out[n] = '\0';
            return 0;
        }
    }
    /* no credential at all is "not signed in" (RFC 6750 section 3.1), what a
     * page asks at load to restore a session: 401, not a malformed request */
    sb_api__err(rq, 401, "invalid_token", "no refresh token (body or cookie): sign in");
    return -1;
}

void sb_api__h_refresh(struct sb_api *api, struct sb_req *rq)
{
    char old[128], tok[SB_TOKEN_LEN + 1], oh[65], nh[65];
    struct sb_rt_result res;
    struct sb_user u;
    int64_t now = sb_now_ms();

    if (refresh_token(rq, old, sizeof(old)))
        return;
    sb_token_hash(old, oh);
    sb_token_random(tok, sizeof(tok));
    sb_token_hash(tok, nh);
    memset(&res, 0, sizeof(res));
    int rc = sb_appdb_rt_rotate(api->ctx.db, oh, nh, now, now + api->refresh_ttl, rq->ip, rq->ua,
                                &res);
    if (rc == SB_EPROTO) {
        /* A used token again: someone holds a copy.  The family is revoked
         * (appdb did it); its access tokens die now too. */
        sb_api__revoke_sid(api, res.family, now + api->access_ttl + 60000);
        char target[64];
        snprintf(target, sizeof(target), "user:%" PRId64, res.user_id);
        rq->who.uid = res.user_id;
        sb_api__audit(api, rq, "auth.token_reuse", target, NULL, NULL, "denied",
                      "a rotated refresh token was used again: session revoked");
        SB_WARN("auth", "refresh token reuse for user %" PRId64 " from %s: session revoked",
                res.user_id, rq->ip);
    }
    if (rc == 0 && api->redis && sb_redis_revoked(api->redis, res.family) == 1) {
        /* revoked on another node (logout, reuse, password change there);
         * Redis down or slow: this node's database alone decides */
        sb_appdb_rt_revoke_family(api->ctx.db, res.family, now);
        rc = SB_EINVAL;
    }
    if (rc == SB_ESTORE || rc == SB_ENOMEM) {
        /* The database failed, not the token: a 401 would send the client
         * to the sign-in page over a restart of PostgreSQL. */
        sb_api__err_rc(rq, rc, "renewing the session");
        return;
    }
    if (rc) {
        sb_api__err(rq, 401, "invalid_token", "the refresh token is invalid, used or expired");
        return;
    }
    if ((rc = sb_appdb_user_get(api->ctx.db, res.user_id, &u)) || u.disabled) {
        sb_appdb_rt_revoke_family(api->ctx.db, res.family, now);
        sb_api__err(rq, 401, "invalid_token", "the account is disabled");
        return;
    }
    issue(api, rq, &u, res.family, tok, 200);
    sodium_memzero(tok, sizeof(tok));
}

void sb_api__h_logout(struct sb_api *api, struct sb_req *rq)
{
    int64_t now = sb_now_ms();
    sb_appdb_rt_revoke_family(api->ctx.db, rq->who.sid, now);
    sb_api__revoke_sid(api, rq->who.sid, now + api->access_ttl + 60000);
    sb_api__audit(api, rq, "auth.logout", rq->who.username, NULL, NULL, "ok", NULL);
    rq->resp.status = 204;
    sb_http__hdr(&rq->resp, "set-cookie:",
                 COOKIE "=; Path=/api/v1/auth; Max-Age=0; HttpOnly; SameSite=Strict");
}

/* ---- users ---------------------------------------------------------------------------- */

json_t *sb_api__user_json(struct sb_api *api, const struct sb_user *u)
{
    json_t *roles = json_array(), *grants = json_array();
    struct sb_grant *g = NULL;
    size_t ng = 0;
    char t1[40], t2[40];
    for (uint32_t b = 1; b <= SB_ROLE_VIEWER; b <<= 1)
        if (u->roles & b)
            json_array_append_new(roles, json_string(sb_role_name(b)));
    if (sb_appdb_grants_get(api->ctx.db, u->id, &g, &ng) == 0)
        for (size_t i = 0; i < ng; i++)
            json_array_append_new(grants, json_pack("{s:s, s:s}", "kind", g[i].kind, "id",
                                                    g[i].slug));
    free(g);
    return json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:b, s:b, s:s, s:s?}",
                     "id", (json_int_t)u->id, "username", u->username, "email", u->email,
                     "display_name", u->display_name, "roles", roles, "grants", grants,
                     "disabled", u->disabled, "must_change_password", u->must_change_pw,
                     "created", sb_time_format(u->created_ms, t1, sizeof(t1)),
                     "last_login", u->last_login_ms ?
                         sb_time_format(u->last_login_ms, t2, sizeof(t2)) : NULL);
}

void sb_api__h_me(struct sb_api *api, struct sb_req *rq)
{
    struct sb_user u;
    int rc = sb_appdb_user_get(api->ctx.db, rq->who.uid, &u);
    if (rc) {
        sb_api__err_rc(rq, rc, "reading the account");
        return;
    }
    sb_api__json(rq, 200, sb_api__user_json(api, &u));
}

void sb_api__h_password(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "current_password", "new_password", NULL };
    json_t *b = sb_api__body(rq);
    struct sb_user u;
    char err[200], h[SB_PW_HASH_MAX];

    if (!b || sb_api__only_keys(rq, b, keys))
        goto out;
    const char *cur = json_string_value(json_object_get(b, "current_password"));
    const char *nw = json_string_value(json_object_get(b, "new_password"));
    if (!cur || !nw) {
        sb_api__bad_field(rq, cur ? "new_password" : "current_password", "required string");
        goto out;
    }
    int rc = sb_appdb_user_get(api->ctx.db, rq->who.uid, &u);
    if (rc) {
        sb_api__err_rc(rq, rc, "reading the account");
        goto out;
    }
    if (sb_pw_verify(u.pw_hash, cur) != 0) {
        sb_api__audit(api, rq, "auth.password_change", u.username, NULL, NULL, "denied",
                      "wrong current password");
        sb_api__bad_field(rq, "current_password", "the current password is wrong");
        goto out;
    }
    if (sb_pw_policy(nw, u.username, err, sizeof(err))) {
        sb_api__bad_field(rq, "new_password", err);
        goto out;
    }
    if (strcmp(cur, nw) == 0) {
        sb_api__bad_field(rq, "new_password", "the new password must differ from the current one");
        goto out;
    }
    int64_t now = sb_now_ms();
    if ((rc = sb_pw_hash(&api->pw, nw, h)) ||
        (rc = sb_appdb_user_set_password(api->ctx.db, u.id, h, 0, now))) {
        sb_api__err_rc(rq, rc, "storing the password");
        goto out;
    }
    /* Every other session ends; this one gets fresh tokens. */
    sb_appdb_rt_revoke_user(api->ctx.db, u.id, now);
    sb_api__revoke_sid(api, rq->who.sid, now + api->access_ttl + 60000);
    sb_api__principal_forget(api, u.id);
    sb_api__audit(api, rq, "auth.password_change", u.username, NULL, NULL, "ok", NULL);
    u.must_change_pw = 0;
    new_session(api, rq, &u);
out:
    json_decref(b);
}

void sb_api__h_rotate_keys(struct sb_api *api, struct sb_req *rq)
{
    pthread_mutex_lock(&api->krmu);
    int rc = sb_keyring_rotate(api->key_path, sb_now_ms(), &api->kr, 3);
    char kid[SB_KID_MAX];
    snprintf(kid, sizeof(kid), "%s", api->kr.active);
    pthread_mutex_unlock(&api->krmu);
    if (rc) {
        sb_api__err_rc(rq, rc, "rotating the keys");
        return;
    }
    sb_api__audit(api, rq, "auth.keys_rotate", kid, NULL, NULL, "ok", NULL);
    sb_api__json(rq, 200, json_pack("{s:s}", "active_kid", kid));
}

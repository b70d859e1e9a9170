/* oauth.c - OAuth 2.0 client-credentials token cache (see oauth.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "core/err.h"
#include "drivers/rest/http.h"
#include "drivers/rest/oauth.h"

#define TOKEN_BODY_MAX  (64 * 1024)   /* a token response is small */
#define DEFAULT_LIFE_S  3600          /* expires_in is only RECOMMENDED (5.1) */
#define REFRESH_EARLY_S 60            /* refresh this long before expiry */

static char *sdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

int sb_rest_oauth_init(struct sb_rest_oauth *o, const char *token_url, const char *client_id,
                       const char *client_secret, const char *scope, int body_auth)
{
    memset(o, 0, sizeof(*o));
    o->body_auth = body_auth;
    if (pthread_mutex_init(&o->mu, NULL) != 0)
        return SB_EIO;
    o->token_url = sdup(token_url);
    o->client_id = sdup(client_id);
    o->client_secret = sdup(client_secret);
    o->scope = sdup(scope);
    o->curl = curl_easy_init();
    if (!o->token_url || !o->client_id || !o->client_secret || (scope && !o->scope) || !o->curl)
        return SB_ENOMEM;
    return 0;
}

void sb_rest_oauth_release(struct sb_rest_oauth *o)
{
    if (o->curl)
        curl_easy_cleanup(o->curl);
    sb_rest_secret_free(o->client_secret);
    sb_rest_secret_free(o->token);
    free(o->token_url);
    free(o->client_id);
    free(o->scope);
    pthread_mutex_destroy(&o->mu);
    memset(o, 0, sizeof(*o));
}

/* RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
 * "~" / "+" / "/" ) *"=" */
static int b64token_ok(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n && (isalnum((unsigned char)s[i]) || strchr("-._~+/", s[i])) && s[i])
        i++;
    if (i == 0)
        return 0;
    while (i < n && s[i] == '=')
        i++;
    return i == n;
}

static int parse_fields(const json_t *d, char **token, int64_t *expires_s,
                        char *err, size_t errlen)
{
    const json_t *at = json_object_get(d, "access_token");
    const json_t *tt = json_object_get(d, "token_type");
    const json_t *ex = json_object_get(d, "expires_in");

    if (!json_is_string(at) || json_string_length(at) > SB_OAUTH_TOKEN_MAX ||
        !b64token_ok(json_string_value(at), json_string_length(at))) {
        sb_errf(err, errlen, "token response: access_token missing or not a bearer token");
        return SB_EPROTO;
    }
    if (!json_is_string(tt) || strcasecmp(json_string_value(tt), "Bearer") != 0) {
        sb_errf(err, errlen, "token response: token_type is not Bearer");
        return SB_EPROTO;
    }
    *expires_s = DEFAULT_LIFE_S;
    if (ex && json_is_integer(ex))
        *expires_s = (int64_t)json_integer_value(ex);
    else if (ex && json_is_string(ex))     /* some servers quote it */
        *expires_s = strtoll(json_string_value(ex), NULL, 10);
    else if (ex && !json_is_null(ex))
        *expires_s = -1;
    if (*expires_s <= 0 || *expires_s > 366LL * 86400) {
        sb_errf(err, errlen, "token response: expires_in out of range");
        return SB_EPROTO;
    }
    *token = strdup(json_string_value(at));
    return *token ? 0 : SB_ENOMEM;
}

int sb_rest_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_s,
                        char *err, size_t errlen)
{
    json_t *d;
    int rc;

    *token = NULL;
    d = body ? json_loadb(body, len, 0, NULL) : NULL;
    if (!json_is_object(d)) {
        json_decref(d);
        sb_errf(err, errlen, "token response is not a JSON object");
        return SB_EPROTO;
    }
    rc = parse_fields(d, token, expires_s, err, errlen);
    json_decref(d);
    return rc;
}

int64_t sb_rest_oauth_refresh_delay_ms(int64_t expires_s)
{
    if (expires_s > 2 * REFRESH_EARLY_S)
        return (expires_s - REFRESH_EARLY_S) * 1000;
    return expires_s * 500;
}

/* application/x-www-form-urlencoded value (RFC 6749 appendix B). */
static int form_put(char *o, size_t cap, size_t *at, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (*at + 4 > cap)
            return SB_ENOSPC;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            o[(*at)++] = (char)c;
        } else {
            o[(*at)++] = '%';
            o[(*at)++] = hex[c >> 4];
            o[(*at)++] = hex[c & 15];
        }
    }
    o[*at] = '\0';
    return 0;
}

static int form_add(char *o, size_t cap, size_t *at, const char *k, const char *v)
{
    size_t kl = strlen(k);

    if (*at + kl + 3 > cap)
        return SB_ENOSPC;
    if (*at)
        o[(*at)++] = '&';
    memcpy(o + *at, k, kl);
    *at += kl;
    o[(*at)++] = '=';
    o[*at] = '\0';
    return form_put(o, cap, at, v);
}

/* The token request's body and Basic credentials (all secret). */
struct creds {
    char body[2048];              /* form body */
    char user[768], pass[768];    /* form-encoded id and secret for Basic */
};

static int make_creds(const struct sb_rest_oauth *o, struct creds *c)
{
    size_t at = 0, u = 0, p = 0;

    if (form_add(c->body, sizeof(c->body), &at, "grant_type", "client_credentials") ||
        (o->scope && form_add(c->body, sizeof(c->body), &at, "scope", o->scope)))
        return SB_ENOSPC;
    if (o->body_auth)
        return form_add(c->body, sizeof(c->body), &at, "client_id", o->client_id) ||
               form_add(c->body, sizeof(c->body), &at, "client_secret", o->client_secret)
                   ? SB_ENOSPC : 0;
    /* RFC 6749 2.3.1: id and secret are form-encoded, then used for Basic. */
    if (form_put(c->user, sizeof(c->user), &u, o->client_id) ||
        form_put(c->pass, sizeof(c->pass), &p, o->client_secret))
        return SB_ENOSPC;
    return 0;
}

static int refused(const struct sb_rest_http_resp *rs, char *err, size_t errlen)
{
    char code[64] = "";
    json_t *d = rs->body ? json_loadb(rs->body, rs->len, 0, NULL) : NULL;
    const char *e = json_string_value(json_object_get(d, "error"));

    /* Only the RFC 6749 5.2 error code: it is a fixed word, never a secret. */
    for (size_t i = 0; e && e[i] && i + 1 < sizeof(code); i++) {
        code[i] = (isalnum((unsigned char)e[i]) || e[i] == '_') ? e[i] : '?';
        code[i + 1] = '\0';
    }
    json_decref(d);
    sb_errf(err, errlen, "token endpoint: HTTP %ld%s%s", rs->status, code[0] ? " " : "", code);
    return rs->status >= 500 || rs->status == 429 ? SB_EIO : SB_EPROTO;
}

static int fetch(struct sb_rest_oauth *o, const struct sb_rest_oauth_ctx *ctx,
                 char *err, size_t errlen)
{
    struct sb_rest_http_resp rs = { 0 };
    struct sb_rest_http_req rq = { 0 };
    struct creds *c = calloc(1, sizeof(*c));
    int64_t left = ctx->deadline - sb_rest_mono_ms(), life = 0;
    char *tok = NULL;
    int rc;

    if (!c)
        return SB_ENOMEM;
    if ((rc = make_creds(o, c)) != 0) {
        sb_errf(err, errlen, "client credentials too long");
        goto out;
    }
    if ((rc = sb_rest_pace_acquire(ctx->pace, ctx->deadline, ctx->stop, err, errlen)) != 0)
        goto out;
    rq = (struct sb_rest_http_req){ .method = "POST", .url = o->token_url, .body = c->body,
        .content_type = "application/x-www-form-urlencoded",
        .user = o->body_auth ? NULL : c->user, .password = o->body_auth ? NULL : c->pass,
        .user_agent = ctx->user_agent, .ca_file = ctx->ca_file,
        .timeout_ms = left < ctx->timeout_ms ? left : ctx->timeout_ms,
        .max_body = TOKEN_BODY_MAX };
    if ((rc = sb_rest_http(o->curl, &rq, &rs, err, errlen)) != 0)
        goto out;
    if (rs.status == 429 || rs.status == 503)
        sb_rest_pace_block(ctx->pace, sb_rest_mono_ms() +
                           (rs.retry_after_ms >= 0 ? rs.retry_after_ms : 30000), rs.status);
    if (rs.status != 200) {
        rc = refused(&rs, err, errlen);
        goto out;
    }
    if ((rc = sb_rest_oauth_parse(rs.body, rs.len, &tok, &life, err, errlen)) != 0)
        goto out;
    sb_rest_secret_free(o->token);
    o->token = tok;
    o->refresh_at = sb_rest_mono_ms() + sb_rest_oauth_refresh_delay_ms(life);
    o->gen++;
out:
    if (rs.body)
        explicit_bzero(rs.body, rs.len);   /* it held the token */
    sb_rest_http_resp_release(&rs);
    explicit_bzero(c, sizeof(*c));
    free(c);
    return rc;
}

static int lock_until(pthread_mutex_t *mu, int64_t deadline)
{
    struct timespec ts = { .tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000 };
    int e = pthread_mutex_clocklock(mu, CLOCK_MONOTONIC, &ts);
    return e == 0 ? 0 : e == ETIMEDOUT ? SB_ETIMEDOUT : SB_EIO;
}

static int make_header(const char *token, char **hdr)
{
    size_t n = strlen(token) + sizeof("Authorization: Bearer ");
    if (!(*hdr = malloc(n)))
        return SB_ENOMEM;
    snprintf(*hdr, n, "Authorization: Bearer %s", token);
    return 0;
}

int sb_rest_oauth_header(struct sb_rest_oauth *o, const struct sb_rest_oauth_ctx *ctx,
                         char **hdr, uint64_t *gen, char *err, size_t errlen)
{
    int rc;

    *hdr = NULL;
    if ((rc = lock_until(&o->mu, ctx->deadline)) != 0) {
        sb_errf(err, errlen, "waiting for the OAuth token %s",
                rc == SB_ETIMEDOUT ? "timed out" : "failed");
        return rc;
    }
    if (!o->token || sb_rest_mono_ms() >= o->refresh_at)
        rc = fetch(o, ctx, err, errlen);
    if (rc == 0 && o->token) {
        rc = make_header(o->token, hdr);
        *gen = o->gen;
    }
    pthread_mutex_unlock(&o->mu);
    return rc;
}

void sb_rest_oauth_invalidate(struct sb_rest_oauth *o, uint64_t gen)
{
    pthread_mutex_lock(&o->mu);
    if (o->gen == gen && o->token) {
        sb_rest_secret_free(o->token);
        o->token = NULL;
    }
    pthread_mutex_unlock(&o->mu);
}

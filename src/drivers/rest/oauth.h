/*
 * oauth.h - OAuth 2.0 client-credentials tokens for one cloud API
 * (RFC 6749 section 4.4; bearer use per RFC 6750).
 *
 * The token is fetched on first use, cached, and fetched anew when it is
 * within 60 s of its expiry (expires_in - 60; half the lifetime for tokens
 * shorter than two minutes) or when the API answered 401 to it
 * (sb_rest_oauth_invalidate, then one retry by the caller).  Only one
 * thread fetches at a time; the others wait for its token instead of
 * asking for their own.  The client authenticates with HTTP Basic
 * (client_secret_basic, RFC 6749 section 2.3.1, which every server must
 * accept) or, if configured, with the credentials in the form body.
 *
 * Secrets (client secret, tokens) never appear in error text or logs and
 * are wiped from memory when replaced or released.  Caller-owned storage
 * (init / release); every other function is thread-safe.
 */
#ifndef SB_REST_OAUTH_H
#define SB_REST_OAUTH_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/rest/pace.h"

#define SB_OAUTH_TOKEN_MAX 8192      /* access token bytes accepted */

struct sb_rest_oauth {
    pthread_mutex_t mu;           /* held while fetching; guards the fields below */
    char *token_url;              /* token endpoint */
    char *client_id;              /* client id (not secret, still not logged) */
    char *client_secret;          /* secret: wiped on release */
    char *scope;                  /* requested scope, or NULL */
    int body_auth;                /* send credentials in the body, not Basic */
    CURL *curl;                   /* the token endpoint's handle */
    char *token;                  /* current access token (secret), or NULL */
    int64_t refresh_at;           /* monotonic ms: fetch anew from then on */
    uint64_t gen;                 /* number of the current token (1, 2, ...) */
};

/* Everything a token fetch needs from its API. */
struct sb_rest_oauth_ctx {
    struct sb_rest_pace *pace;    /* the API's pacer (the token request counts) */
    const atomic_int *stop;       /* abort waits when set */
    const char *user_agent;       /* User-Agent */
    const char *ca_file;          /* CA bundle or NULL */
    int64_t deadline;             /* monotonic ms */
    int64_t timeout_ms;           /* per-request cap */
};

/* Copies the strings.  body_auth: 0 = Basic, 1 = form body.  Returns 0,
 * SB_ENOMEM or SB_EIO. */
int  sb_rest_oauth_init(struct sb_rest_oauth *o, const char *token_url, const char *client_id,
                        const char *client_secret, const char *scope, int body_auth);
void sb_rest_oauth_release(struct sb_rest_oauth *o);

/* The "Authorization: Bearer <token>" header line for a request, fetching
 * a token first when needed; *gen receives the token's number for
 * sb_rest_oauth_invalidate.  *hdr is malloc'd: free it with
 * sb_rest_secret_free.  Returns 0, or what the token request failed with:
 * SB_ETIMEDOUT, SB_EIO, SB_EAGAIN (paced out), SB_EPROTO (endpoint
 * refused: err has its status and RFC 6749 section 5.2 error code). */
int  sb_rest_oauth_header(struct sb_rest_oauth *o, const struct sb_rest_oauth_ctx *ctx,
                          char **hdr, uint64_t *gen, char *err, size_t errlen);

/* The API refused token number gen (401): forget it unless a newer one
 * has been fetched meanwhile. */
void sb_rest_oauth_invalidate(struct sb_rest_oauth *o, uint64_t gen);

/* Parse a token response (RFC 6749 section 5.1): access_token (RFC 6750
 * b64token characters only, so it can never split a header), token_type
 * "Bearer" (any case), expires_in (seconds; absent = 3600).  *token is
 * malloc'd.  Returns 0 or SB_EPROTO with err (never quoting the token). */
int  sb_rest_oauth_parse(const char *body, size_t len, char **token, int64_t *expires_s,
                         char *err, size_t errlen);

/* When a token that lives expires_s seconds is fetched anew, as a delay
 * from its receipt in ms: 60 s before expiry, or half the lifetime for
 * tokens that live two minutes or less (pure). */
int64_t sb_rest_oauth_refresh_delay_ms(int64_t expires_s);

#endif /* SB_REST_OAUTH_H */

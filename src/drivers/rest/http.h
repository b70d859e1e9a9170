/*
 * http.h - one HTTP exchange over a libcurl easy handle, for the REST and
 * weather drivers.
 *
 * The transport layer: it sends one request and returns the status, the
 * body (bounded by max_body, like curl's own dynbuf "toobig") and the
 * Retry-After delay; it never retries, never follows redirects (a redirect
 * could carry the Authorization header to another host), never logs, and
 * speaks only http and https.  The caller decides what a status means.
 *
 * Secrets: auth_header and password are copied into libcurl's buffers for
 * the exchange only; the header list is wiped (explicit_bzero) before it
 * is freed.  libcurl's verbose output is never enabled.
 *
 * A handle is used by one thread at a time (libcurl's rule); the caller
 * owns it and its connection cache.  sb_rest_http_global_init() must be
 * called before the first handle is made (curl_global_init, which libcurl
 * 7.84+ built "threadsafe" makes safe to call from any thread).
 */
#ifndef SB_REST_HTTP_H
#define SB_REST_HTTP_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

/* What to send. */
struct sb_rest_http_req {
    const char *method;           /* "GET", "PUT", "POST", "PATCH", "DELETE" */
    const char *url;              /* absolute http(s) URL */
    const char *body;             /* request body (NUL-terminated), or NULL */
    const char *content_type;     /* of body; default application/json */
    const char *auth_header;      /* "Authorization: Bearer ..." / "X-Api-Key: ...", or NULL */
    const char *user, *password;  /* HTTP Basic credentials, or NULL */
    const char *user_agent;       /* User-Agent value */
    const char *ca_file;          /* CA bundle for https, NULL = system default */
    int64_t timeout_ms;           /* whole exchange, > 0 */
    size_t max_body;              /* largest response body accepted */
};

/* What came back (caller-owned; sb_rest_http_resp_release). */
struct sb_rest_http_resp {
    long status;                  /* HTTP status, 0 if none */
    char *body;                   /* NUL-terminated body, or NULL */
    size_t len;                   /* body bytes */
    int64_t retry_after_ms;       /* Retry-After as a delay, -1 if absent */
};

/* curl_global_init / _cleanup, reference counted by libcurl. */
int  sb_rest_http_global_init(void);
void sb_rest_http_global_cleanup(void);

/* Send rq on h and wait for the answer.  Returns 0 when a response arrived
 * (any status), SB_ETIMEDOUT, SB_EIO (connect, TLS, transfer: err has
 * libcurl's reason), SB_EPROTO (body over max_body, garbled response),
 * SB_ENOMEM.  rs is filled in every case (release it). */
int  sb_rest_http(CURL *h, const struct sb_rest_http_req *rq, struct sb_rest_http_resp *rs,
                  char *err, size_t errlen);
void sb_rest_http_resp_release(struct sb_rest_http_resp *rs);

/* Parse a Retry-After field value: delay-seconds or an HTTP-date (RFC 9110
 * section 10.2.3), relative to now_wall_ms (ms since the epoch).  Returns
 * the delay in ms (0 for a date in the past, capped at one hour), or -1
 * when the value is neither. */
int64_t sb_rest_retry_after(const char *value, int64_t now_wall_ms);

/* Check a configured URL: absolute http or https with a host.  When
 * secrets will be sent to it, plain http is allowed only to a loopback
 * host (127.0.0.0/8, ::1, localhost), so credentials never cross a network
 * in clear text.  what names the option in err.  Returns 0 or SB_ECONFIG. */
int  sb_rest_url_check(const char *url, int secrets, const char *what, char *err, size_t errlen);

/* Wipe and free a secret string (NULL is fine). */
void sb_rest_secret_free(char *s);

#endif /* SB_REST_HTTP_H */

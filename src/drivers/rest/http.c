/* http.c - one bounded HTTP exchange over libcurl (see http.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/rest/http.h"

#define RETRY_AFTER_MAX_MS (3600 * 1000)   /* never wait longer than an hour */
#define CONNECT_MAX_MS     10000

/* The response being received. */
struct rx {
    struct sb_rest_http_resp *rs;   /* where it goes */
    size_t cap;                     /* allocated body bytes */
    size_t max;                     /* largest body accepted */
    int toobig;                     /* body went over max */
    char retry[64];                 /* last Retry-After value seen */
};

int sb_rest_http_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : SB_EIO;
}

void sb_rest_http_global_cleanup(void)
{
    curl_global_cleanup();
}

void sb_rest_secret_free(char *s)
{
    if (!s)
        return;
    explicit_bzero(s, strlen(s));
    free(s);
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud)
{
    struct rx *x = ud;
    struct sb_rest_http_resp *rs = x->rs;
    size_t n = sz * nm;

    if (n > x->max || rs->len + n > x->max) {
        x->toobig = 1;
        return 0;                   /* makes libcurl fail with CURLE_WRITE_ERROR */
    }
    if (rs->len + n + 1 > x->cap) {
        size_t nc = x->cap ? x->cap : 4096;
        char *nb;
        while (nc < rs->len + n + 1)
            nc *= 2;
        if (!(nb = realloc(rs->body, nc)))
            return 0;
        rs->body = nb;
        x->cap = nc;
    }
    memcpy(rs->body + rs->len, p, n);
    rs->len += n;
    rs->body[rs->len] = '\0';
    return n;
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct rx *x = ud;
    size_t n = sz * nm, i = 12;

    if (n > 5 && strncmp(p, "HTTP/", 5) == 0)
        x->retry[0] = '\0';         /* a new response (after 100 Continue) */
    if (n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        size_t o = 0;
        while (i < n && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (i < n && p[i] != '\r' && p[i] != '\n' && o + 1 < sizeof(x->retry))
            x->retry[o++] = p[i++];
        x->retry[o] = '\0';
    }
    return n;
}

int64_t sb_rest_retry_after(const char *v, int64_t now_wall_ms)
{
    int64_t ms;
    time_t t;

    if (!v || !*v)
        return -1;
    if (isdigit((unsigned char)v[0])) {
        long long s = 0;
        for (const char *p = v; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return -1;
            if (s < RETRY_AFTER_MAX_MS)
                s = s * 10 + (*p - '0');
        }
        ms = s * 1000;
    } else {
        if ((t = curl_getdate(v, NULL)) == -1)
            return -1;
        /* a date ages ahead or behind must not overflow (found by fuzz_rest) */
        if ((int64_t)t > (now_wall_ms + RETRY_AFTER_MAX_MS) / 1000 + 1)
            return RETRY_AFTER_MAX_MS;
        if ((int64_t)t < now_wall_ms / 1000 - 1)
            return 0;
        ms = (int64_t)t * 1000 - now_wall_ms;
    }
    if (ms < 0)
        ms = 0;
    return ms > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS : ms;
}

static void wipe_headers(struct curl_slist *l)
{
    for (struct curl_slist *i = l; i; i = i->next)
        explicit_bzero(i->data, strlen(i->data));
    curl_slist_free_all(l);
}

static int build_headers(const struct sb_rest_http_req *rq, struct curl_slist **out)
{
    struct curl_slist *l = NULL, *n;
    char ct[160];

    *out = NULL;
    snprintf(ct, sizeof(ct), "Content-Type: %s",
             rq->content_type ? rq->content_type : "application/json");
    /* "Expect:" turns off 100-continue: bodies are small and some API
     * gateways answer 417 to it. */
    if (!(n = curl_slist_append(l, "Accept: application/json")) || !(l = n) ||
        !(n = curl_slist_append(l, "Expect:")) || !(l = n) ||
        (rq->body && (!(n = curl_slist_append(l, ct)) || !(l = n))) ||
        (rq->auth_header && (!(n = curl_slist_append(l, rq->auth_header)) || !(l = n)))) {
        wipe_headers(l);
        return SB_ENOMEM;
    }
    *out = l;
    return 0;
}

static CURLcode set_method(CURL *h, const struct sb_rest_http_req *rq)
{
    CURLcode c = CURLE_OK;

    if (rq->body) {
        c = curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
        if (!c)
            c = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
    } else if (strcmp(rq->method, "POST") == 0) {
        c = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        if (!c)
            c = curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    } else {
        c = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (!c && strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0)
        c = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
    return c;
}

static CURLcode set_opts(CURL *h, const struct sb_rest_http_req *rq, struct curl_slist *hd,
                         struct rx *x)
{
    long tmo = rq->timeout_ms > 0 ? (long)rq->timeout_ms : 1;
    CURLcode c = CURLE_OK;

#define SET(opt, val) do { if (!c) c = curl_easy_setopt(h, opt, val); } while (0)
    SET(CURLOPT_URL, rq->url);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_NOSIGNAL, 1L);           /* worker threads: no SIGALRM for DNS timeouts */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_TIMEOUT_MS, tmo);
    SET(CURLOPT_CONNECTTIMEOUT_MS, tmo < CONNECT_MAX_MS ? tmo : (long)CONNECT_MAX_MS);
    SET(CURLOPT_HTTPHEADER, hd);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_ACCEPT_ENCODING, "");    /* whatever libcurl can decode */
    SET(CURLOPT_USERAGENT, rq->user_agent ? rq->user_agent : "sbems");
    if (rq->ca_file)
        SET(CURLOPT_CAINFO, rq->ca_file);
    if (rq->user) {
        SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SET(CURLOPT_USERNAME, rq->user);
        SET(CURLOPT_PASSWORD, rq->password ? rq->password : "");
    }
#undef SET
    if (!c)
        c = set_method(h, rq);
    return c;
}

static int map_curl(CURLcode c, const struct rx *x, char *err, size_t errlen)
{
    switch (c) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        sb_errf(err, errlen, "timed out");
        return SB_ETIMEDOUT;
    case CURLE_OUT_OF_MEMORY:
        sb_errf(err, errlen, "out of memory");
        return SB_ENOMEM;
    case CURLE_WRITE_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
        if (x->toobig) {
            sb_errf(err, errlen, "response larger than %zu bytes", x->max);
            return SB_EPROTO;
        }
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP2:
        sb_errf(err, errlen, "%s", curl_easy_strerror(c));
        return SB_EPROTO;
    default:
        break;
    }
    sb_errf(err, errlen, "%s", curl_easy_strerror(c));
    return SB_EIO;
}

int sb_rest_http(CURL *h, const struct sb_rest_http_req *rq, struct sb_rest_http_resp *rs,
                 char *err, size_t errlen)
{
    struct rx x = { .rs = rs, .max = rq->max_body };
    struct curl_slist *hd = NULL;
    CURLcode c;
    int rc;

    memset(rs, 0, sizeof(*rs));
    rs->retry_after_ms = -1;
    if ((rc = build_headers(rq, &hd)) != 0) {
        sb_errf(err, errlen, "out of memory");
        return rc;
    }
    curl_easy_reset(h);             /* keeps the connection cache, drops old options */
    c = set_opts(h, rq, hd, &x);
    if (c == CURLE_OK)
        c = curl_easy_perform(h);
    if (c == CURLE_OK || c == CURLE_WRITE_ERROR)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs->status);
    rc = map_curl(c, &x, err, errlen);
    rs->retry_after_ms = sb_rest_retry_after(x.retry, sb_now_ms());
    /* Drop the credentials libcurl copied for this exchange. */
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(h, CURLOPT_PASSWORD, "");
    wipe_headers(hd);
    if (!rs->body && rc == 0 && !(rs->body = calloc(1, 1)))
        rc = SB_ENOMEM;
    return rc;
}

static int loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
           strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

int sb_rest_url_check(const char *url, int secrets, const char *what, char *err, size_t errlen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = SB_ECONFIG;

    if (!u)
        return SB_ENOMEM;
    if (!url || strlen(url) > 1024 || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)) {
        sb_errf(err, errlen, "%s: an absolute http(s) URL with a host", what);
        goto out;
    }
    if (secrets && strcmp(scheme, "http") == 0 && !loopback(host)) {
        sb_errf(err, errlen, "%s: credentials are sent only over https "
                "(plain http only to a loopback host)", what);
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

void sb_rest_http_resp_release(struct sb_rest_http_resp *rs)
{
    free(rs->body);
    rs->body = NULL;
    rs->len = 0;
}

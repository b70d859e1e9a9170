/*
 * httpd_proto.c - the HTTP/1.1 codec of sbems-sim's HTTP face (httpd.h):
 * the bounded request-head parser, form/query decoding and response
 * rendering.  Pure except for sb_simhttp__render's Date header; fuzzed by
 * fuzz/fuzz_sim_http.c.
 *
 * Request framing follows RFC 9112: request-line (s.3), field lines without
 * obs-fold and without whitespace before the colon (s.5.1, 5.2), a body only
 * with Content-Length (s.6.3; Transfer-Encoding answers 411), Host required
 * in HTTP/1.1 (s.3.2), persistent connections unless "close" or HTTP/1.0
 * without keep-alive (s.9.3).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "sim/httpd_int.h"

/* ======================================================================
 * Request parser (pure)
 * ====================================================================== */

static int is_tchar(unsigned char c)
{
    /* RFC 9110 s.5.6.2 token characters */
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int fail(struct sb_shreq *rq, int status, const char *why)
{
    rq->why = why;
    return -status;
}

/* Bytes of the head including its empty line, 0 if not in buf yet. */
static size_t head_end(const char *buf, size_t len)
{
    size_t lim = len < SH_HEAD_MAX ? len : SH_HEAD_MAX;
    for (size_t i = 0; i + 3 < lim; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
            return i + 4;
    return 0;
}

static int parse_request_line(const char *s, size_t n, struct sb_shreq *rq)
{
    size_t i = 0, m = 0, t0, tn;

    while (i < n && is_tchar((unsigned char)s[i]) && m + 1 < sizeof(rq->method))
        rq->method[m++] = s[i++];
    if (m == 0 || i >= n || s[i] != ' ')
        return fail(rq, 400, "malformed request line");
    t0 = ++i;
    while (i < n && s[i] != ' ') {
        unsigned char c = (unsigned char)s[i++];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return fail(rq, 400, "malformed request target");
    }
    tn = i - t0;
    if (tn == 0 || s[t0] != '/')
        return fail(rq, 400, "the request target must be a path");
    if (tn > SH_TARGET_MAX)
        return fail(rq, 414, "request target over 2048 bytes");
    memcpy(rq->target, s + t0, tn);
    rq->target[tn] = 0;
    rq->path_len = strcspn(rq->target, "?");
    if (i >= n || n - i != 9 || memcmp(s + i, " HTTP/", 6) != 0 || !isdigit((unsigned char)s[i + 6]) ||
        s[i + 7] != '.' || !isdigit((unsigned char)s[i + 8]))
        return fail(rq, 400, "malformed HTTP version");
    if (s[i + 6] != '1')
        return fail(rq, 505, "only HTTP/1.x is spoken here");
    rq->minor = s[i + 8] - '0';
    return 0;
}

static int field_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',' && v[j] != ' ' && v[j] != '\t')
            j++;
        if (j - i == tl && strncasecmp(v + i, tok, tl) == 0)
            return 1;
        i = j;
    }
    return 0;
}

/* What the fields the server cares about say. */
struct seen {
    int host, clen, te, keepalive;
};

static int use_field(const char *name, size_t nl, const char *v, size_t vl, struct sb_shreq *rq,
                     struct seen *sn)
{
    if (field_is(name, nl, "content-length")) {
        uint64_t x = 0;
        if (vl == 0 || vl > 10)
            return fail(rq, 400, "bad Content-Length");
        for (size_t i = 0; i < vl; i++) {
            if (!isdigit((unsigned char)v[i]))
                return fail(rq, 400, "bad Content-Length");
            x = x * 10 + (uint64_t)(v[i] - '0');
        }
        if (sn->clen && x != rq->clen)
            return fail(rq, 400, "conflicting Content-Length fields");
        sn->clen = 1;
        rq->has_clen = 1;
        rq->clen = x;
    } else if (field_is(name, nl, "transfer-encoding")) {
        sn->te = 1;
    } else if (field_is(name, nl, "host")) {
        if (sn->host++)
            return fail(rq, 400, "more than one Host field");
    } else if (field_is(name, nl, "connection")) {
        rq->close |= has_token(v, vl, "close");
        sn->keepalive |= has_token(v, vl, "keep-alive");
    } else if (field_is(name, nl, "expect")) {
        if (vl != 12 || strncasecmp(v, "100-continue", 12) != 0)
            return fail(rq, 417, "only Expect: 100-continue is understood");
        rq->expect_continue = 1;
    } else if (field_is(name, nl, "authorization")) {
        if (rq->has_auth)
            return fail(rq, 400, "more than one Authorization field");
        if (vl > SH_AUTH_MAX)
            return fail(rq, 431, "Authorization field too large");
        memcpy(rq->auth, v, vl);
        rq->auth[vl] = 0;
        rq->has_auth = 1;
    }
    return 0;
}

/* One field line s[0..n) (no CRLF). */
static int parse_field(const char *s, size_t n, struct sb_shreq *rq, struct seen *sn)
{
    size_t i = 0, v0, v1;

    while (i < n && is_tchar((unsigned char)s[i]))
        i++;
    if (i == 0 || i >= n || s[i] != ':')
        return fail(rq, 400, "malformed header field");
    v0 = i + 1;
    while (v0 < n && (s[v0] == ' ' || s[v0] == '\t'))
        v0++;
    v1 = n;
    while (v1 > v0 && (s[v1 - 1] == ' ' || s[v1 - 1] == '\t'))
        v1--;
    for (size_t k = v0; k < v1; k++) {
        unsigned char c = (unsigned char)s[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(rq, 400, "control character in a header field");
    }
    return use_field(s, i, s + v0, v1 - v0, rq, sn);
}

int sb_simhttp__parse(const char *buf, size_t len, struct sb_shreq *rq)
{
    struct seen sn = { 0 };
    size_t end, pos = 0, nfields = 0;
    int rc;

    memset(rq, 0, sizeof(*rq));
    /* RFC 9112 s.2.2: ignore empty lines before the request-line */
    while (pos + 1 < len && pos < SH_HEAD_MAX && buf[pos] == '\r' && buf[pos + 1] == '\n')
        pos += 2;
    if (pos >= SH_HEAD_MAX)
        return fail(rq, 431, "request head over 8192 bytes");
    end = head_end(buf + pos, len - pos);
    if (end == 0)
        return len - pos >= SH_HEAD_MAX ? fail(rq, 431, "request head over 8192 bytes") : 0;
    end += pos;
    for (int first = 1; pos < end - 2; first = 0) {
        const char *s = buf + pos;
        const char *cr = memchr(s, '\r', end - pos);
        size_t n = (size_t)(cr - s);
        if (cr[1] != '\n' || memchr(s, '\n', n))
            return fail(rq, 400, "lines must end with CRLF");
        if (!first && (s[0] == ' ' || s[0] == '\t'))
            return fail(rq, 400, "obsolete line folding");
        if (!first && ++nfields > SH_FIELDS_MAX)
            return fail(rq, 431, "too many header fields");
        rc = first ? parse_request_line(s, n, rq) : parse_field(s, n, rq, &sn);
        if (rc < 0)
            return rc;
        pos += n + 2;
    }
    if (sn.te)
        return fail(rq, 411, "Transfer-Encoding is not supported: send Content-Length");
    if (rq->minor >= 1 && !sn.host)
        return fail(rq, 400, "HTTP/1.1 requires a Host field");
    if (rq->has_clen && rq->clen > SH_BODY_MAX)
        return fail(rq, 413, "request body over 65536 bytes");
    if (rq->minor == 0 && !sn.keepalive)
        rq->close = 1;
    return (int)end;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes s[0..n) (form encoding) into out[cap]; length or -2. */
int sb_simhttp__form_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return -2;
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0)
                return -2;
            c = a * 16 + b;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap)
            return -2;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return (int)o;
}

int sb_simhttp__form_get(const char *s, size_t len, const char *key, char *out, size_t cap)
{
    int found = -1;
    char name[64];

    for (size_t i = 0; i <= len && len > 0;) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t e = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + i, '=', e - i);
        size_t ne = eq ? (size_t)(eq - s) : e;
        if (sb_simhttp__form_decode(s + i, ne - i, name, sizeof(name)) >= 0 && strcmp(name, key) == 0) {
            if (found >= 0)
                return -2;          /* a repeated key is ambiguous */
            found = eq ? sb_simhttp__form_decode(eq + 1, e - ne - 1, out, cap) : sb_simhttp__form_decode("", 0, out, cap);
            if (found < 0)
                return -2;
        }
        i = e + 1;
    }
    return found;
}

/* ======================================================================
 * Responses
 * ====================================================================== */

static const char *reason(int status)
{
    static const struct { int s; const char *r; } t[] = {
        { 200, "OK" }, { 201, "Created" }, { 204, "No Content" }, { 400, "Bad Request" },
        { 401, "Unauthorized" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
        { 409, "Conflict" }, { 411, "Length Required" }, { 413, "Content Too Large" },
        { 414, "URI Too Long" }, { 417, "Expectation Failed" }, { 422, "Unprocessable Content" },
        { 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 503, "Service Unavailable" }, { 505, "HTTP Version Not Supported" },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        if (t[i].s == status)
            return t[i].r;
    return "Unknown";
}

static const char *status_code_name(int status)
{
    switch (status) {
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 411: return "length_required";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 417: return "expectation_failed";
    case 431: return "header_too_large";
    case 505: return "http_version_not_supported";
    default:  return "bad_request";
    }
}

void sb_simhttp__parse_error(struct sb_shresp *out, int status, const char *why)
{
    sb_simhttp__err(out, status, status_code_name(status), "%s", why ? why : "bad request");
    out->close = 1;
}

void sb_simhttp__printable(char *s)
{
    /* messages quote request bytes, which need not be UTF-8: jansson would
     * refuse them, so anything but printable ASCII becomes '?' */
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

void sb_simhttp__json(struct sb_shresp *out, int status, json_t *doc)
{
    static const char oops[] = "{\"error\":{\"code\":\"internal\",\"message\":\"cannot build the answer\"}}";

    out->status = status;
    free(out->body);
    /* 15 significant digits: 21.4 prints as 21.4 and reads back as the same
     * double (any double nearest a <= 15-digit decimal round-trips) */
    out->body = doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    if (!out->body && status != 204) {
        out->status = 500;
        out->body = strdup(oops);
    }
    out->body_len = out->body ? strlen(out->body) : 0;
    json_decref(doc);
}

void sb_simhttp__err(struct sb_shresp *out, int status, const char *code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sb_simhttp__printable(msg);
    sb_simhttp__json(out, status, json_pack("{s:{s:s, s:s}}", "error", "code", code,
                                            "message", msg));
}

void sb_simhttp__header(struct sb_shresp *out, const char *fmt, ...)
{
    va_list ap;
    size_t room = sizeof(out->extra) - out->extra_len;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out->extra + out->extra_len, room, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n + 2 < room) {
        out->extra_len += (size_t)n;
        memcpy(out->extra + out->extra_len, "\r\n", 3);
        out->extra_len += 2;
    } else {
        out->extra[out->extra_len] = 0;
    }
}

json_t *sb_simhttp__body_object(const struct sb_shreq *rq, struct sb_shresp *out)
{
    json_t *d = rq->body_len ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, NULL) : NULL;

    if (!d) {
        sb_simhttp__err(out, 400, "bad_json", "body is not JSON");
        return NULL;
    }
    if (!json_is_object(d)) {
        json_decref(d);
        sb_simhttp__err(out, 422, "invalid", "body must be a JSON object");
        return NULL;
    }
    return d;
}

/* IMF-fixdate (RFC 9110 s.5.6.7), locale-independent. */
static void http_date(int64_t ms, char *buf, size_t cap)
{
    static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday % 7], tm.tm_mday,
             mo[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static char *render_at(const struct sb_shresp *r, int head_only, int64_t now_ms, size_t *len)
{
    char date[40], clen[80] = "", head[1024];
    int nobody = r->status == 204, n;
    size_t blen = head_only || nobody ? 0 : r->body_len;
    char *out;

    http_date(now_ms, date, sizeof(date));
    /* RFC 9110 s.8.6: no Content-Length in a 204; a HEAD answer carries the
     * length the GET would have (s.9.3.2) */
    if (!nobody)
        snprintf(clen, sizeof(clen), "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                 r->body_len);
    n = snprintf(head, sizeof(head),
                 "HTTP/1.1 %d %s\r\nServer: sbems-sim\r\nDate: %s\r\nCache-Control: no-store\r\n"
                 "%s%.*s%s\r\n", r->status, reason(r->status), date, clen, (int)r->extra_len,
                 r->extra, r->close ? "Connection: close\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(head) || !(out = malloc((size_t)n + blen + 1)))
        return NULL;
    memcpy(out, head, (size_t)n);
    if (blen)
        memcpy(out + n, r->body, blen);
    *len = (size_t)n + blen;
    out[*len] = 0;
    return out;
}

char *sb_simhttp__render(const struct sb_shresp *r, int head_only, size_t *len)
{
    return render_at(r, head_only, sb_now_ms(), len);
}

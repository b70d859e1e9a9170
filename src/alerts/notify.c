/*
 * notify.c - the alert notification dispatcher (see notify.h; design and
 * the webhook signature in docs/internals/alerts-notify.md).
 *
 * Scheduling.  Every notice held is in exactly one place: the due-time heap
 * (a binary min-heap on (due_ms, seq), capacity queue_max) or one worker's
 * hands.  A worker pops the earliest notice whose time has come, makes one
 * attempt without any lock held, and either reports it or pushes it back
 * with a later due time.  So a target that hangs occupies one worker for at
 * most one attempt timeout, and the other workers keep serving the heap.
 *
 * MQTT network thread.  libmosquitto 2.0.11's mosquitto_loop_start() thread
 * stops for good when the first connection is refused (lib/loop.c: the
 * error path sets the state to "disconnected", which loop_forever reads as
 * "the user disconnected"; the MQTT driver measured the same, see
 * src/drivers/mqtt/mqtt.c).  A notifier must come up even if it starts
 * before the broker, so this file runs mosquitto_loop() on its own thread
 * (mosquitto_threaded_set) with a reconnect back-off of 0.5 s doubling to
 * 30 s; test_alert_notify.c "mqtt_broker_late" covers it.
 *
 * Lock order: n->mu (queue) and n->mq_mu (MQTT state) are never held
 * together; no lock is held while calling libcurl, libmosquitto's publish
 * or the result callback.
 */
#include "alerts/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <mosquitto.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "core/utf8.h"

#define MOD "notify"

#define ACK_RING            256     /* PUBACKs remembered for waiting workers */
#define MQ_LOOP_MS          200     /* mosquitto_loop timeout: the stop latency */
#define MQ_KEEPALIVE_S      30
#define MQ_RECONNECT_MIN_MS 500
#define MQ_RECONNECT_MAX_MS 30000
#define SUBJECT_WORD_BYTES  45      /* RFC 2047 2: 12 + 4*45/3 = 72 <= 75 chars */
#define QP_LINE             76      /* RFC 2045 6.7 rule 5 */

enum chan { CH_WEBHOOK, CH_EMAIL, CH_MQTT };
enum outcome { OUT_OK, OUT_RETRY, OUT_FINAL };

/* One notice in the dispatcher. */
struct item {
    struct sb_notice nt;                 /* the notice; owns its bodies */
    int      chan;                       /* enum chan */
    int      tries;                      /* attempts made */
    int64_t  due_ms;                     /* CLOCK_MONOTONIC time of the next attempt */
    uint64_t seq;                        /* submission order, breaks due-time ties */
    char     delivery[33];               /* X-Sbems-Delivery, the same on every retry */
    char     last[SB_NOTIFY_DETAIL_MAX]; /* what the last attempt said */
};

/* What one attempt came to. */
struct attempt {
    int     outcome;                     /* enum outcome */
    int64_t retry_after_ms;              /* the peer's Retry-After, 0 if none */
    char    detail[SB_NOTIFY_DETAIL_MAX];
};

struct sb_notify {
    char    *smtp_url;             /* NULL: e-mail not configured */
    char    *smtp_from;            /* sender address */
    int      smtp_tls;             /* STARTTLS required */
    char    *mqtt_host;            /* NULL: MQTT not configured */
    int      mqtt_port;
    char    *mqtt_prefix;          /* topic prefix, no trailing '/' */
    char    *mqtt_id;              /* client id */
    int      max_tries;
    int64_t  first_ms, max_ms;     /* back-off */
    int64_t  timeout_ms;           /* one attempt */
    size_t   queue_max;
    int      nthreads;
    sb_notify_result_cb cb;        /* may be NULL */
    void    *ud;

    pthread_mutex_t mu;            /* guards the fields below up to mq_* */
    pthread_cond_t  cv;            /* heap changed or stopping (CLOCK_MONOTONIC) */
    struct item   **heap;          /* min-heap on (due_ms, seq), queue_max slots */
    size_t          nheap;
    size_t          held;          /* in the heap or in a worker's hands */
    uint64_t        seq;
    struct sb_notify_stats st;     /* counters (held filled in on read) */
    atomic_int      stopping;      /* set once by sb_notify_free */
    pthread_t      *workers;
    int             nworkers;      /* started */
    int             curl_inited;

    struct mosquitto *mosq;        /* NULL without MQTT */
    pthread_t       mq_thread;
    int             mq_started;
    pthread_mutex_t mq_mu;         /* guards the fields below */
    pthread_cond_t  mq_cv;         /* PUBACK, connection change or stopping */
    int             mq_connected;  /* CONNACK accepted, not yet disconnected */
    int             mq_session;    /* this connection attempt reached CONNACK */
    int             acked[ACK_RING]; /* recent PUBACK message ids, 0 = free */
    unsigned        ack_n;
};

/* ---- small helpers ------------------------------------------------------------------ */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits on cv until CLOCK_MONOTONIC time end_ms; returns ETIMEDOUT or 0. */
static int wait_until(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t end_ms)
{
    struct timespec ts = { .tv_sec = end_ms / 1000, .tv_nsec = (end_ms % 1000) * 1000000 };
    return pthread_cond_timedwait(cv, mu, &ts);
}

static bool stopping(struct sb_notify *n)
{
    return atomic_load(&n->stopping) != 0;
}

static void set_detail(struct attempt *a, int outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_detail(struct attempt *a, int outcome, const char *fmt, ...)
{
    va_list ap;
    a->outcome = outcome;
    va_start(ap, fmt);
    vsnprintf(a->detail, sizeof(a->detail), fmt, ap);
    va_end(ap);
}

static char *dup_or_null(const char *s, bool *oom)
{
    char *d;
    if (!s || !*s)
        return NULL;
    if (!(d = strdup(s)))
        *oom = true;
    return d;
}

/* ---- validation --------------------------------------------------------------------- */

static bool terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* No C0 control character and no DEL: a CR or LF would end a mail header
 * and start a new one (header injection, RFC 5322 2.2). */
static bool ctl_free(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* Well-formed UTF-8 (core/utf8.h). */
static bool utf8_ok(const unsigned char *s)
{
    return sb_utf8_valid(s, strlen((const char *)s));
}

/* http:// or https:// with a host, printable ASCII only (a space or CR in a
 * URL is a caller bug, and libcurl would refuse it anyway). */
static bool url_ok(const char *u)
{
    size_t skip = !strncasecmp(u, "http://", 7) ? 7 : !strncasecmp(u, "https://", 8) ? 8 : 0;
    if (!skip || !u[skip] || u[skip] == '/')
        return false;
    for (; *u; u++)
        if ((unsigned char)*u <= 0x20 || (unsigned char)*u >= 0x7f)
            return false;
    return true;
}

/* atext of RFC 5322 3.2.3. */
static bool atext(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A dot-atom local part and a host-name domain (RFC 5321 4.1.2 Mailbox
 * without quoted strings or address literals; 4.5.3.1 lengths): nothing
 * that could end a header, open a comment or list a second address. */
bool sb_notify_addr_ok(const char *a)
{
    const char *at = strchr(a, '@'), *p;
    size_t len = strlen(a), label = 0;

    if (!at || at == a || at - a > 64 || len > 254 || strchr(at + 1, '@') || !at[1])
        return false;
    if (a[0] == '.' || at[-1] == '.')
        return false;
    for (p = a; p < at; p++)
        if (!(atext((unsigned char)*p) || (*p == '.' && p[1] != '.')))
            return false;
    for (p = at + 1; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9');
        if (*p == '.') {
            if (label == 0 || p[-1] == '-')
                return false;
            label = 0;
        } else if (alnum || (*p == '-' && label > 0)) {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return label > 0 && p[-1] != '-';
}

/* One MQTT topic level of 1..64 bytes of [A-Za-z0-9._-]: never '/', '+'
 * or '#' (MQTT 3.1.1 4.7.1), so a building cannot reach another's topics. */
static bool level_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return false;
    return true;
}

static int chan_parse(const char *s)
{
    return !strcmp(s, "webhook") ? CH_WEBHOOK : !strcmp(s, "email") ? CH_EMAIL
         : !strcmp(s, "mqtt") ? CH_MQTT : -1;
}

static bool fields_terminated(const struct sb_notice *nt)
{
    return terminated(nt->channel, sizeof(nt->channel)) &&
           terminated(nt->target, sizeof(nt->target)) &&
           terminated(nt->secret, sizeof(nt->secret)) &&
           terminated(nt->building, sizeof(nt->building)) &&
           terminated(nt->severity, sizeof(nt->severity)) &&
           terminated(nt->subject, sizeof(nt->subject));
}

static bool body_ok(const char *b)
{
    return !b || strnlen(b, SB_NOTIFY_BODY_MAX + 1) <= SB_NOTIFY_BODY_MAX;
}

/* An attachment's name and type: a safe file name (it reaches a header),
 * a type of the form word/word. */
static int attach_ok(const struct sb_notice *nt)
{
    size_t n = strnlen(nt->attach_name, sizeof(nt->attach_name)), slash = 0;

    if (n == 0 || n == sizeof(nt->attach_name) || nt->attach_name[0] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = nt->attach_name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    n = strnlen(nt->attach_type, sizeof(nt->attach_type));
    if (n == 0 || n == sizeof(nt->attach_type))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = nt->attach_type[i];
        if (c == '/')
            slash++;
        else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                   c == '+'))
            return 0;
    }
    return slash == 1 && nt->attach_type[0] != '/' && nt->attach_type[n - 1] != '/';
}

/* The notice is deliverable by n; *chan set.  SB_EINVAL or SB_ENOTSUP. */
static int notice_check(const struct sb_notify *n, const struct sb_notice *nt, int *chan)
{
    if (!fields_terminated(nt) || (*chan = chan_parse(nt->channel)) < 0)
        return SB_EINVAL;
    if (!nt->body_json || !body_ok(nt->body_json) || !body_ok(nt->body_text))
        return SB_EINVAL;
    if (nt->attach && (nt->attach_len > SB_NOTIFY_ATTACH_MAX || !attach_ok(nt)))
        return SB_EINVAL;
    if (!ctl_free(nt->subject) || !utf8_ok((const unsigned char *)nt->subject))
        return SB_EINVAL;
    switch (*chan) {
    case CH_WEBHOOK:
        return url_ok(nt->target) && nt->secret[0] ? 0 : SB_EINVAL;
    case CH_EMAIL:
        if (!sb_notify_addr_ok(nt->target))
            return SB_EINVAL;
        return n->smtp_url ? 0 : SB_ENOTSUP;
    default:
        if (!level_ok(nt->building) || !level_ok(nt->severity))
            return SB_EINVAL;
        return n->mosq ? 0 : SB_ENOTSUP;
    }
}

/* ---- the webhook signature ---------------------------------------------------------- */

int sb_notify_sign(const char *secret, int64_t ts, const char *body, size_t len,
                   char *out, size_t outlen)
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char pre[24];
    int k = snprintf(pre, sizeof(pre), "%lld.", (long long)ts);

    if (outlen < 7 + 2 * sizeof(mac) + 1)
        return SB_ENOSPC;
    /* HMAC with a key of any length (RFC 2104 2), so the _init form, not
     * crypto_auth_hmacsha256() whose key is fixed at 32 bytes. */
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)pre, (unsigned long long)k);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, outlen - 7, mac, sizeof(mac));
    sodium_memzero(&st, sizeof(st));
    return 0;
}

/* ---- the e-mail message (RFC 5322) -------------------------------------------------- */

/* An output buffer whose capacity was computed up front; a write past it
 * marks it bad instead of overflowing. */
struct obuf {
    char  *p;
    size_t n, cap;
    bool   bad;
};

static void put(struct obuf *o, const char *s, size_t k)
{
    if (o->bad || k > o->cap - o->n) {
        o->bad = true;
        return;
    }
    memcpy(o->p + o->n, s, k);
    o->n += k;
}

static void puts_(struct obuf *o, const char *s)
{
    put(o, s, strlen(s));
}

/* RFC 5322 3.3 date-time in UTC, names spelled out (strftime's are locale's). */
static void mail_date(int64_t t, char *buf, size_t cap)
{
    static const char wd[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char mo[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    snprintf(buf, cap, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Subject as is when printable ASCII, else RFC 2047 "B" encoded-words of
 * whole UTF-8 characters (2047 5(3)), folded onto continuation lines. */
static void put_subject(struct obuf *o, const char *s)
{
    size_t len = strlen(s), i = 0;
    char b64[sodium_base64_ENCODED_LEN(SUBJECT_WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];

    puts_(o, "Subject: ");
    if (printable_ascii(s)) {
        puts_(o, s);
        puts_(o, "\r\n");
        return;
    }
    while (i < len) {
        size_t j = len - i > SUBJECT_WORD_BYTES ? i + SUBJECT_WORD_BYTES : len;
        while (j < len && j > i + 1 && ((unsigned char)s[j] & 0xc0) == 0x80)
            j--;   /* do not split a character */
        sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)s + i, j - i,
                          sodium_base64_VARIANT_ORIGINAL);
        puts_(o, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?");
        puts_(o, b64);
        puts_(o, "?=");
        i = j;
    }
    puts_(o, "\r\n");
}

/* Is s[i] the last byte before a line break or the end? */
static bool at_eol(const char *s, size_t len, size_t i)
{
    return i + 1 == len || s[i + 1] == '\n' ||
           (s[i + 1] == '\r' && i + 2 < len && s[i + 2] == '\n');
}

/* Quoted-printable body (RFC 2045 6.7): LF or CRLF become CRLF hard breaks,
 * lines stay <= 76 characters through soft breaks, trailing white space
 * and anything not printable ASCII is =XX.  So no line can exceed the 998
 * of RFC 5322 2.1.1 and 8-bit text survives any relay. */
static void put_qp(struct obuf *o, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n' || (c == '\r' && i + 1 < len && s[i + 1] == '\n')) {
            i += c == '\r';
            puts_(o, "\r\n");
            col = 0;
            continue;
        }
        bool lit = (c >= 33 && c <= 126 && c != '=') ||
                   ((c == ' ' || c == '\t') && !at_eol(s, len, i));
        size_t w = lit ? 1 : 3;
        if (col + w > QP_LINE - 1) {
            puts_(o, "=\r\n");
            col = 0;
        }
        char enc[3] = { '=', hex[c >> 4], hex[c & 15] };
        if (lit)
            put(o, (const char *)&c, 1);
        else
            put(o, enc, 3);
        col += w;
    }
    puts_(o, "\r\n");
}

static void put_headers(struct obuf *o, const char *from, const struct sb_notice *nt,
                        int64_t now_s, const char *boundary)
{
    char date[64], line[600], rnd[8], rhex[17];

    mail_date(now_s, date, sizeof(date));
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(rhex, sizeof(rhex), (const unsigned char *)rnd, sizeof(rnd));
    snprintf(line, sizeof(line), "Date: %s\r\nFrom: %s\r\nTo: %s\r\n", date, from, nt->target);
    puts_(o, line);
    put_subject(o, nt->subject[0] ? nt->subject : "sbems alert");
    /* RFC 5322 3.6.4: unique id; the right side is the sender's domain. */
    snprintf(line, sizeof(line), "Message-ID: <%s.%lld@%s>\r\n", rhex,
             (long long)nt->alert_id, strchr(from, '@') + 1);
    puts_(o, line);
    puts_(o, "MIME-Version: 1.0\r\n");
    if (nt->attach) {
        snprintf(line, sizeof(line), "Content-Type: multipart/mixed; boundary=\"%s\"\r\n", boundary);
        puts_(o, line);
    } else {
        puts_(o, "Content-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: quoted-printable\r\n");
    }
    puts_(o, "Auto-Submitted: auto-generated\r\n");   /* RFC 3834 5: no auto-replies */
    if (nt->alert_id > 0) {
        snprintf(line, sizeof(line), "X-Sbems-Alert: %lld\r\n", (long long)nt->alert_id);
        puts_(o, line);
    }
    puts_(o, "\r\n");
}

/* The attachment in base64, 76 characters a line (RFC 2045 6.8). */
static void put_b64(struct obuf *o, const unsigned char *b, size_t n)
{
    char line[80];

    for (size_t i = 0; i < n; i += 57) {
        size_t k = n - i < 57 ? n - i : 57;
        sodium_bin2base64(line, sizeof(line), b + i, k, sodium_base64_VARIANT_ORIGINAL);
        puts_(o, line);
        puts_(o, "\r\n");
    }
}

char *sb_notify__email_build(const char *from, const struct sb_notice *nt, int64_t now_s,
                             size_t *len)
{
    const char *text = nt->body_text ? nt->body_text : nt->body_json;
    size_t tlen = text ? strlen(text) : 0;
    struct obuf o = { 0 };
    char boundary[48] = "", line[640];

    if (!from || !sb_notify_addr_ok(from) || !terminated(nt->target, sizeof(nt->target)) ||
        !sb_notify_addr_ok(nt->target) || !terminated(nt->subject, sizeof(nt->subject)) ||
        !ctl_free(nt->subject) || !utf8_ok((const unsigned char *)nt->subject) ||
        tlen > SB_NOTIFY_BODY_MAX ||
        (nt->attach && (nt->attach_len > SB_NOTIFY_ATTACH_MAX || !attach_ok(nt))))
        return NULL;
    if (nt->attach) {   /* a boundary that cannot occur in QP or base64 text: '=' + '_' */
        unsigned char rnd[12];
        char hx[25];
        randombytes_buf(rnd, sizeof(rnd));
        sodium_bin2hex(hx, sizeof(hx), rnd, sizeof(rnd));
        snprintf(boundary, sizeof(boundary), "=_sbems_%s", hx);
    }
    /* headers < 2 KiB; subject words <= 2x; QP <= 3 bytes per byte + 3 per soft
     * break; base64 4/3 + CRLF per 57 bytes; part headers < 1 KiB */
    o.cap = 2048 + 2 * 4 * sizeof(nt->subject) + 4 * tlen + 8 +
            (nt->attach ? nt->attach_len / 57 * 78 + 80 + 1024 : 0);
    if (!(o.p = malloc(o.cap)))
        return NULL;
    put_headers(&o, from, nt, now_s, boundary);
    if (nt->attach) {
        snprintf(line, sizeof(line), "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                 "Content-Transfer-Encoding: quoted-printable\r\n\r\n", boundary);
        puts_(&o, line);
    }
    put_qp(&o, text ? text : "", tlen);
    if (nt->attach) {
        snprintf(line, sizeof(line), "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n"
                 "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", boundary,
                 nt->attach_type, nt->attach_name, nt->attach_name);
        puts_(&o, line);
        put_b64(&o, nt->attach, nt->attach_len);
        snprintf(line, sizeof(line), "--%s--\r\n", boundary);
        puts_(&o, line);
    }
    put(&o, "", 1);
    if (o.bad) {
        free(o.p);
        return NULL;
    }
    *len = o.n - 1;
    return o.p;
}

/* ---- libcurl attempts --------------------------------------------------------------- */

static size_t discard(char *p, size_t sz, size_t nm, void *ud)
{
    (void)p;
    (void)ud;
    return sz * nm;
}

/* Called by libcurl at least once a second: aborts an attempt at shutdown. */
static int xfer_check(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    return stopping(ud) ? 1 : 0;
}

static void curl_common(struct sb_notify *n, CURL *c, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);   /* threads: no SIGALRM for DNS */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)n->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, xfer_check);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, n);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
}

/* A libcurl failure: shutdown and the URL's own faults are final, the rest
 * (connect, DNS, TLS, timeouts, resets) may pass. */
static void curl_failed(CURLcode rc, const char *errbuf, struct attempt *a)
{
    const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_ABORTED_BY_CALLBACK)
        set_detail(a, OUT_FINAL, "shutdown");
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        set_detail(a, OUT_RETRY, "timeout");
    else if (rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT)
        set_detail(a, OUT_FINAL, "%s (final)", why);
    else
        set_detail(a, OUT_RETRY, "%s", why);
}

/* 2xx delivered; 408 and 429 (the peer asks to come back: RFC 9110 15.5.9,
 * RFC 6585 4) and 5xx retried; every other status is the receiver's final
 * word (a redirect is not followed: it could send the alert elsewhere). */
static void http_status(CURL *c, long st, struct attempt *a)
{
    curl_off_t ra = 0;
    if (st >= 200 && st <= 299) {
        set_detail(a, OUT_OK, "HTTP %ld", st);
        return;
    }
    if (st != 408 && st != 429 && st < 500) {
        set_detail(a, OUT_FINAL, "HTTP %ld (final)", st);
        return;
    }
    set_detail(a, OUT_RETRY, "HTTP %ld", st);
    if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        a->retry_after_ms = (ra > 86400 ? 86400 : (int64_t)ra) * 1000;
}

static int add_header(struct curl_slist **l, const char *h)
{
    struct curl_slist *t = curl_slist_append(*l, h);
    if (!t)
        return -1;
    *l = t;
    return 0;
}

static int webhook_headers(const struct item *it, size_t len, struct curl_slist **hl)
{
    char sig[80], h[160];
    int64_t ts = (int64_t)time(NULL);
    int rc = 0;

    sb_notify_sign(it->nt.secret, ts, it->nt.body_json, len, sig, sizeof(sig));
    rc |= add_header(hl, "Content-Type: application/json");
    rc |= add_header(hl, "Expect:");   /* no 100-continue round trip */
    snprintf(h, sizeof(h), "X-Sbems-Timestamp: %lld", (long long)ts);
    rc |= add_header(hl, h);
    snprintf(h, sizeof(h), "X-Sbems-Signature: %s", sig);
    rc |= add_header(hl, h);
    snprintf(h, sizeof(h), "X-Sbems-Delivery: %s", it->delivery);
    rc |= add_header(hl, h);
    return rc;
}

static void do_webhook(struct sb_notify *n, struct item *it, struct attempt *a)
{
    size_t len = strlen(it->nt.body_json);
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    long st = 0;
    CURLcode rc;

    if (!c || webhook_headers(it, len, &hl) < 0) {
        set_detail(a, OUT_RETRY, "out of memory");
        goto out;
    }
    curl_common(n, c, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, it->nt.target);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "sbems-notify");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->nt.body_json);
    rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        curl_failed(rc, errbuf, a);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    http_status(c, st, a);
out:
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}

struct reader {
    const char *p;
    size_t      left;
};

static size_t read_msg(char *buf, size_t sz, size_t nm, void *ud)
{
    struct reader *r = ud;
    size_t k = sz * nm < r->left ? sz * nm : r->left;
    memcpy(buf, r->p, k);
    r->p += k;
    r->left -= k;
    return k;
}

/* SMTP replies: 2yz done, 5yz permanent, 4yz transient (RFC 5321 4.2.1). */
static void smtp_result(CURL *c, CURLcode rc, const char *errbuf, struct attempt *a)
{
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK)
        set_detail(a, OUT_OK, "SMTP %ld", code);
    else if (rc != CURLE_ABORTED_BY_CALLBACK && code >= 500 && code <= 599)
        set_detail(a, OUT_FINAL, "SMTP %ld (final)", code);
    else
        curl_failed(rc, errbuf, a);
}

static void do_email(struct sb_notify *n, struct item *it, struct attempt *a)
{
    char errbuf[CURL_ERROR_SIZE] = "", from[300], to[SB_NOTIFY_TARGET_MAX + 2];
    struct curl_slist *rcpt = NULL;
    struct reader r = { 0 };
    size_t len = 0;
    char *msg = sb_notify__email_build(n->smtp_from, &it->nt, (int64_t)time(NULL), &len);
    CURL *c = curl_easy_init();

    snprintf(from, sizeof(from), "<%s>", n->smtp_from);
    snprintf(to, sizeof(to), "<%s>", it->nt.target);
    if (!msg || !c || add_header(&rcpt, to) < 0) {
        set_detail(a, OUT_RETRY, "out of memory");
        goto out;
    }
    r = (struct reader){ msg, len };
    curl_common(n, c, errbuf);
    curl_easy_setopt(c, CURLOPT_URL, n->smtp_url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     n->smtp_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, read_msg);
    curl_easy_setopt(c, CURLOPT_READDATA, &r);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    smtp_result(c, curl_easy_perform(c), errbuf, a);
out:
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(c);
    free(msg);
}

/* ---- MQTT --------------------------------------------------------------------------- */

static void mq_set(struct sb_notify *n, int connected)
{
    pthread_mutex_lock(&n->mq_mu);
    n->mq_connected = connected;
    if (connected)
        n->mq_session = 1;
    pthread_cond_broadcast(&n->mq_cv);
    pthread_mutex_unlock(&n->mq_mu);
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    (void)m;
    if (rc == 0)
        mq_set(ud, 1);
    else
        SB_WARN(MOD, "mqtt: broker refused the connection: %s", mosquitto_connack_string(rc));
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc)
{
    (void)m, (void)rc;
    mq_set(ud, 0);
}

/* QoS 1: called when the PUBACK for mid arrived (MQTT 3.1.1 4.3.2). */
static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    struct sb_notify *n = ud;
    (void)m;
    pthread_mutex_lock(&n->mq_mu);
    n->acked[n->ack_n++ % ACK_RING] = mid;
    pthread_cond_broadcast(&n->mq_cv);
    pthread_mutex_unlock(&n->mq_mu);
}

/* Under mq_mu: was mid acknowledged?  Consumes the record. */
static bool ack_take(struct sb_notify *n, int mid)
{
    for (int i = 0; i < ACK_RING; i++)
        if (n->acked[i] == mid) {
            n->acked[i] = 0;
            return true;
        }
    return false;
}

/* Waits (up to the attempt timeout) for mid's PUBACK: 1, else 0. */
static int wait_puback(struct sb_notify *n, int mid)
{
    int64_t end = mono_ms() + n->timeout_ms;
    bool got;
    pthread_mutex_lock(&n->mq_mu);
    while (!(got = ack_take(n, mid)) && !stopping(n))
        if (wait_until(&n->mq_cv, &n->mq_mu, end) == ETIMEDOUT) {
            got = ack_take(n, mid);
            break;
        }
    pthread_mutex_unlock(&n->mq_mu);
    return got;
}

static void do_mqtt(struct sb_notify *n, struct item *it, struct attempt *a)
{
    char topic[512];
    const char *body = it->nt.body_json;
    int mid = 0, rc, up;

    snprintf(topic, sizeof(topic), "%s/%s/%s", n->mqtt_prefix, it->nt.building, it->nt.severity);
    pthread_mutex_lock(&n->mq_mu);
    up = n->mq_connected;
    pthread_mutex_unlock(&n->mq_mu);
    if (!up) {   /* not handed to libmosquitto: its offline queue is unbounded */
        set_detail(a, OUT_RETRY, "mqtt: not connected");
        return;
    }
    rc = mosquitto_publish(n->mosq, &mid, topic, (int)strlen(body), body, 1, false);
    if (rc != MOSQ_ERR_SUCCESS)
        set_detail(a, rc == MOSQ_ERR_PAYLOAD_SIZE ? OUT_FINAL : OUT_RETRY, "mqtt: %s",
                   mosquitto_strerror(rc));
    else if (wait_puback(n, mid))
        set_detail(a, OUT_OK, "PUBACK %s", topic);
    else if (stopping(n))
        set_detail(a, OUT_FINAL, "shutdown");
    else
        set_detail(a, OUT_RETRY, "mqtt: no PUBACK within %lld ms", (long long)n->timeout_ms);
}

/* Sleeps ms unless stopping; returns 1 when stopping. */
static int mq_pause(struct sb_notify *n, int64_t ms)
{
    int64_t end = mono_ms() + ms;
    pthread_mutex_lock(&n->mq_mu);
    while (!stopping(n) && wait_until(&n->mq_cv, &n->mq_mu, end) != ETIMEDOUT)
        ;
    pthread_mutex_unlock(&n->mq_mu);
    return stopping(n);
}

/* One connection attempt and its session; returns when it ends.  Sets
 * *session when it reached CONNACK. */
static int mq_session(struct sb_notify *n, int *session)
{
    int rc;
    pthread_mutex_lock(&n->mq_mu);
    n->mq_session = 0;
    pthread_mutex_unlock(&n->mq_mu);
    rc = mosquitto_connect_async(n->mosq, n->mqtt_host, n->mqtt_port, MQ_KEEPALIVE_S);
    while (rc == MOSQ_ERR_SUCCESS && !stopping(n))
        rc = mosquitto_loop(n->mosq, MQ_LOOP_MS, 1);
    mq_set(n, 0);
    pthread_mutex_lock(&n->mq_mu);
    *session = n->mq_session;
    pthread_mutex_unlock(&n->mq_mu);
    return rc;
}

static void *mq_main(void *arg)
{
    struct sb_notify *n = arg;
    int64_t delay = MQ_RECONNECT_MIN_MS;
    int session, rc;

    while (!stopping(n)) {
        rc = mq_session(n, &session);
        if (stopping(n))
            break;
        if (session)
            delay = MQ_RECONNECT_MIN_MS;   /* it worked once: start over */
        else
            SB_WARN(MOD, "mqtt %s:%d: cannot connect (%s); retrying in %lld ms", n->mqtt_host,
                    n->mqtt_port, mosquitto_strerror(rc), (long long)delay);
        if (mq_pause(n, delay))
            break;
        if (!session)
            delay = delay * 2 > MQ_RECONNECT_MAX_MS ? MQ_RECONNECT_MAX_MS : delay * 2;
    }
    mosquitto_disconnect(n->mosq);   /* sent by the loop below if still connected */
    for (int i = 0; i < 3 && mosquitto_loop(n->mosq, 100, 1) == MOSQ_ERR_SUCCESS; i++)
        ;
    return NULL;
}

static int mq_start(struct sb_notify *n, char *err, size_t errlen)
{
    mosquitto_lib_init();   /* process-wide; never cleaned up before exit (as the MQTT driver) */
    if (!(n->mosq = mosquitto_new(n->mqtt_id, true, n))) {
        sb_errf(err, errlen, "alerts.mqtt: cannot create the client: %s", strerror(errno));
        return errno == ENOMEM ? SB_ENOMEM : SB_EIO;
    }
    mosquitto_threaded_set(n->mosq, true);
    mosquitto_int_option(n->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_connect_callback_set(n->mosq, on_connect);
    mosquitto_disconnect_callback_set(n->mosq, on_disconnect);
    mosquitto_publish_callback_set(n->mosq, on_publish);
    if (pthread_create(&n->mq_thread, NULL, mq_main, n) != 0) {
        sb_errf(err, errlen, "alerts.mqtt: cannot start the network thread");
        return SB_EIO;
    }
    n->mq_started = 1;
    return 0;
}

/* ---- the due-time heap -------------------------------------------------------------- */

static bool before(const struct item *a, const struct item *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

/* Under mu; there is always room (nheap <= held <= queue_max). */
static void heap_push(struct sb_notify *n, struct item *it)
{
    size_t i = n->nheap++;
    while (i > 0 && before(it, n->heap[(i - 1) / 2])) {
        n->heap[i] = n->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    n->heap[i] = it;
}

static struct item *heap_pop(struct sb_notify *n)
{
    struct item *top = n->heap[0], *last = n->heap[--n->nheap];
    size_t i = 0, k;
    while ((k = 2 * i + 1) < n->nheap) {
        if (k + 1 < n->nheap && before(n->heap[k + 1], n->heap[k]))
            k++;
        if (!before(n->heap[k], last))
            break;
        n->heap[i] = n->heap[k];
        i = k;
    }
    if (n->nheap)
        n->heap[i] = last;
    return top;
}

/* ---- workers ------------------------------------------------------------------------ */

static void item_free(struct item *it)
{
    if (!it)
        return;
    free(it->nt.body_json);
    free(it->nt.body_text);
    free(it->nt.attach);
    sodium_memzero(it->nt.secret, sizeof(it->nt.secret));
    free(it);
}

/* The delay before attempt tries+1: first * 2^(tries-1), capped, times a
 * random factor in [0.5, 1] so targets failing together spread out. */
static int64_t backoff_ms(const struct sb_notify *n, int tries)
{
    int64_t d = n->first_ms;
    for (int i = 1; i < tries && d < n->max_ms; i++)
        d *= 2;
    if (d > n->max_ms)
        d = n->max_ms;
    return d / 2 + (int64_t)((uint64_t)(d - d / 2) * randombytes_uniform(1001) / 1000);
}

/* Reports it (counters first, so a callback sees them) and frees it. */
static void finish(struct sb_notify *n, struct item *it, int ok, const char *detail)
{
    pthread_mutex_lock(&n->mu);
    if (ok)
        n->st.delivered++;
    else
        n->st.failed++;
    n->held--;
    pthread_mutex_unlock(&n->mu);
    if (!ok)   /* not the target: a webhook URL may carry a token */
        SB_WARN(MOD, "alert %lld: %s notice (subscription %lld) failed after %d tries: %s",
                (long long)it->nt.alert_id, it->nt.channel, (long long)it->nt.sub_id, it->tries,
                detail);
    if (n->cb)
        n->cb(n->ud, &it->nt, ok, it->tries, detail);
    item_free(it);
}

static void settle(struct sb_notify *n, struct item *it, const struct attempt *a)
{
    int64_t d;
    snprintf(it->last, sizeof(it->last), "%s", a->detail);
    if (a->outcome != OUT_RETRY || it->tries >= n->max_tries) {
        finish(n, it, a->outcome == OUT_OK, a->detail);
        return;
    }
    d = backoff_ms(n, it->tries);
    if (a->retry_after_ms > d)
        d = a->retry_after_ms < n->max_ms ? a->retry_after_ms : n->max_ms;
    SB_DEBUG(MOD, "alert %lld: %s attempt %d: %s; next in %lld ms", (long long)it->nt.alert_id,
             it->nt.channel, it->tries, a->detail, (long long)d);
    pthread_mutex_lock(&n->mu);
    it->due_ms = mono_ms() + d;
    heap_push(n, it);   /* when stopping, sb_notify_free reports it */
    n->st.retried++;
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
}

/* The earliest notice whose time has come; NULL when stopping. */
static struct item *next_due(struct sb_notify *n)
{
    struct item *it = NULL;
    pthread_mutex_lock(&n->mu);
    while (!stopping(n)) {
        if (n->nheap == 0) {
            pthread_cond_wait(&n->cv, &n->mu);
        } else if (n->heap[0]->due_ms <= mono_ms()) {
            it = heap_pop(n);
            break;
        } else {
            wait_until(&n->cv, &n->mu, n->heap[0]->due_ms);
        }
    }
    pthread_mutex_unlock(&n->mu);
    return it;
}

static void *worker(void *arg)
{
    struct sb_notify *n = arg;
    struct item *it;
    while ((it = next_due(n)) != NULL) {
        struct attempt a = { .outcome = OUT_RETRY };
        it->tries++;
        if (it->chan == CH_WEBHOOK)
            do_webhook(n, it, &a);
        else if (it->chan == CH_EMAIL)
            do_email(n, it, &a);
        else
            do_mqtt(n, it, &a);
        settle(n, it, &a);
    }
    return NULL;
}

/* ---- settings, life cycle ----------------------------------------------------------- */

static int range(int64_t *v, int64_t def, int64_t lo, int64_t hi, const char *name, char *err,
                 size_t errlen)
{
    if (*v == 0)
        *v = def;
    if (*v < lo || *v > hi) {
        sb_errf(err, errlen, "alerts.%s: %lld is outside %lld..%lld", name, (long long)*v,
                (long long)lo, (long long)hi);
        return SB_ECONFIG;
    }
    return 0;
}

static int numbers(struct sb_notify *n, const struct sb_notify_cfg *c, char *err, size_t el)
{
    int64_t tries = c->max_tries, thr = c->threads, q = (int64_t)c->queue_max;
    int rc;
    n->first_ms = c->backoff_first_ms;
    n->max_ms = c->backoff_max_ms;
    n->timeout_ms = c->timeout_ms;
    if ((rc = range(&tries, 8, 1, 20, "max_tries", err, el)) ||
        (rc = range(&thr, 4, 1, 64, "threads", err, el)) ||
        (rc = range(&q, 1024, 1, 1000000, "queue_max", err, el)) ||
        (rc = range(&n->timeout_ms, 10000, 100, 120000, "timeout_ms", err, el)) ||
        (rc = range(&n->first_ms, 1000, 1, 3600000, "backoff_first_ms", err, el)) ||
        (rc = range(&n->max_ms, 300000, n->first_ms, 86400000, "backoff_max_ms", err, el)))
        return rc;
    n->max_tries = (int)tries;
    n->nthreads = (int)thr;
    n->queue_max = (size_t)q;
    return 0;
}

static int smtp_settings(struct sb_notify *n, const struct sb_notify_cfg *c, char *err,
                         size_t el)
{
    if (!c->smtp_url || !*c->smtp_url)
        return 0;
    if (strncasecmp(c->smtp_url, "smtp://", 7) && strncasecmp(c->smtp_url, "smtps://", 8)) {
        sb_errf(err, el, "alerts.smtp_url: must start with smtp:// or smtps://");
        return SB_ECONFIG;
    }
    if (!c->smtp_from || !sb_notify_addr_ok(c->smtp_from)) {
        sb_errf(err, el, "alerts.smtp_from: a plain address (name@example.org) is required");
        return SB_ECONFIG;
    }
    n->smtp_tls = c->smtp_require_tls != 0;
    return 0;
}

static int mqtt_settings(struct sb_notify *n, const struct sb_notify_cfg *c, char *err,
                         size_t el)
{
    const char *p = c->mqtt_topic_prefix && *c->mqtt_topic_prefix ? c->mqtt_topic_prefix
                                                                  : "sbems/alerts";
    size_t pl = strlen(p);
    int64_t port = c->mqtt_port;
    if (!c->mqtt_host || !*c->mqtt_host)
        return 0;
    if (range(&port, 1883, 1, 65535, "mqtt_port", err, el))
        return SB_ECONFIG;
    n->mqtt_port = (int)port;
    if (pl > 200 || strpbrk(p, "+#") || p[pl - 1] == '/' || p[0] == '/' || !ctl_free(p)) {
        sb_errf(err, el, "alerts.mqtt_topic_prefix: 1..200 bytes, no '+', '#', leading or "
                         "trailing '/'");
        return SB_ECONFIG;
    }
    return 0;
}

static int settings(struct sb_notify *n, const struct sb_notify_cfg *c, char *err, size_t el)
{
    bool oom = false;
    char id[64];
    int rc;

    if ((rc = numbers(n, c, err, el)) || (rc = smtp_settings(n, c, err, el)) ||
        (rc = mqtt_settings(n, c, err, el)))
        return rc;
    snprintf(id, sizeof(id), "sbems-notify-%d-%04x", (int)getpid(),
             (unsigned)randombytes_uniform(0x10000));
    n->smtp_url = dup_or_null(c->smtp_url, &oom);
    n->smtp_from = n->smtp_url ? dup_or_null(c->smtp_from, &oom) : NULL;
    n->mqtt_host = dup_or_null(c->mqtt_host, &oom);
    if (n->mqtt_host) {
        n->mqtt_prefix = dup_or_null(c->mqtt_topic_prefix && *c->mqtt_topic_prefix
                                     ? c->mqtt_topic_prefix : "sbems/alerts", &oom);
        n->mqtt_id = dup_or_null(c->mqtt_client_id && *c->mqtt_client_id ? c->mqtt_client_id
                                                                          : id, &oom);
    }
    return oom ? SB_ENOMEM : 0;
}

static void teardown(struct sb_notify *n)
{
    if (n->mosq)
        mosquitto_destroy(n->mosq);
    if (n->curl_inited)
        curl_global_cleanup();
    free(n->smtp_url);
    free(n->smtp_from);
    free(n->mqtt_host);
    free(n->mqtt_prefix);
    free(n->mqtt_id);
    free(n->heap);
    free(n->workers);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    pthread_mutex_destroy(&n->mq_mu);
    pthread_cond_destroy(&n->mq_cv);
    free(n);
}

static struct sb_notify *alloc(void)
{
    struct sb_notify *n = calloc(1, sizeof(*n));
    pthread_condattr_t ca;
    if (!n)
        return NULL;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, &ca);
    pthread_mutex_init(&n->mq_mu, NULL);
    pthread_cond_init(&n->mq_cv, &ca);
    pthread_condattr_destroy(&ca);
    return n;
}

static int start_workers(struct sb_notify *n, char *err, size_t errlen)
{
    for (int i = 0; i < n->nthreads; i++) {
        if (pthread_create(&n->workers[i], NULL, worker, n) != 0) {
            sb_errf(err, errlen, "alerts: cannot start worker thread %d", i);
            return SB_EIO;
        }
        n->nworkers++;
    }
    return 0;
}

int sb_notify_new(const struct sb_notify_cfg *cfg, sb_notify_result_cb cb, void *ud,
                  struct sb_notify **out, char *err, size_t errlen)
{
    struct sb_notify *n = NULL;
    int rc;

    *out = NULL;
    if (sodium_init() < 0) {
        sb_errf(err, errlen, "alerts: libsodium failed to initialise");
        return SB_EIO;
    }
    if (!(n = alloc()))
        return SB_ENOMEM;
    n->cb = cb;
    n->ud = ud;
    if ((rc = settings(n, cfg, err, errlen)))
        goto out;
    rc = SB_ENOMEM;
    if (!(n->heap = calloc(n->queue_max, sizeof(*n->heap))) ||
        !(n->workers = calloc((size_t)n->nthreads, sizeof(*n->workers))))
        goto out;
    rc = SB_EIO;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        sb_errf(err, errlen, "alerts: curl_global_init failed");
        goto out;
    }
    n->curl_inited = 1;
    if ((n->mqtt_host && (rc = mq_start(n, err, errlen))) ||
        (rc = start_workers(n, err, errlen)))
        goto out;
    *out = n;
    return 0;
out:
    sb_notify_free(n);
    return rc;
}

int sb_notify_submit(struct sb_notify *n, struct sb_notice *nt)
{
    struct item *it = NULL;
    unsigned char rnd[16];
    int chan = 0, rc;

    if (!nt)
        return SB_EINVAL;
    if ((rc = n ? notice_check(n, nt, &chan) : SB_EINVAL) < 0)
        goto out;
    if (!(it = calloc(1, sizeof(*it)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    it->nt = *nt;   /* the bodies move into the item */
    nt->body_json = nt->body_text = NULL;
    nt->attach = NULL;
    it->chan = chan;
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(it->delivery, sizeof(it->delivery), rnd, sizeof(rnd));
    pthread_mutex_lock(&n->mu);
    if (stopping(n)) {
        rc = SB_ECLOSED;
    } else if (n->held >= n->queue_max) {
        rc = SB_EAGAIN;
        n->st.dropped++;
    } else {
        it->seq = n->seq++;
        it->due_ms = mono_ms();
        heap_push(n, it);
        n->held++;
        n->st.submitted++;
        pthread_cond_broadcast(&n->cv);
        it = NULL;
    }
    pthread_mutex_unlock(&n->mu);
    if (rc == SB_EAGAIN)
        SB_WARN(MOD, "queue full (%zu notices): alert %lld %s notice dropped", n->queue_max,
                (long long)nt->alert_id, nt->channel);
out:
    free(nt->body_json);
    free(nt->body_text);
    free(nt->attach);
    nt->body_json = nt->body_text = NULL;
    nt->attach = NULL;
    item_free(it);
    return rc;
}

void sb_notify_stats(struct sb_notify *n, struct sb_notify_stats *st)
{
    pthread_mutex_lock(&n->mu);
    *st = n->st;
    st->held = n->held;
    pthread_mutex_unlock(&n->mu);
    pthread_mutex_lock(&n->mq_mu);
    st->mqtt_connected = n->mq_connected;
    pthread_mutex_unlock(&n->mq_mu);
}

void sb_notify_free(struct sb_notify *n)
{
    struct item *it;
    char detail[SB_NOTIFY_DETAIL_MAX];

    if (!n)
        return;
    pthread_mutex_lock(&n->mu);
    atomic_store(&n->stopping, 1);
    pthread_cond_broadcast(&n->cv);
    pthread_mutex_unlock(&n->mu);
    pthread_mutex_lock(&n->mq_mu);
    pthread_cond_broadcast(&n->mq_cv);
    pthread_mutex_unlock(&n->mq_mu);
    for (int i = 0; i < n->nworkers; i++)
        pthread_join(n->workers[i], NULL);
    if (n->mq_started)
        pthread_join(n->mq_thread, NULL);
    while (n->nheap > 0) {   /* no worker left: no lock needed for the heap */
        it = heap_pop(n);
        if (it->last[0])
            snprintf(detail, sizeof(detail), "shutdown (last: %.200s)", it->last);
        else
            snprintf(detail, sizeof(detail), "shutdown");
        finish(n, it, 0, detail);
    }
    teardown(n);
}

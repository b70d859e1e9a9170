/*
 * test_alert_notify.c - the alert notification dispatcher against real
 * peers on 127.0.0.1: a small HTTP server thread (records requests, answers
 * scripted statuses or never answers), a minimal SMTP peer thread (RFC 5321
 * as far as libcurl needs it) and a real /usr/sbin/mosquitto.
 *
 * The webhook signature is recomputed with an HMAC built here from SHA-256
 * (RFC 2104 2, checked against RFC 4231 4.3), not with the HMAC the module
 * uses.  The e-mail builder is also checked as a property over random
 * subjects and bodies: CRLF-only lines, no line over the RFC limits, only
 * the expected header fields, and the body decodes back to the input.
 *
 * Every wait is bounded; every process started is killed at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include "alerts/notify.h"
#include "core/err.h"
#include "core/log.h"
#include "tap.h"

extern char **environ;

static char tmpl[] = "/tmp/sbems-test-notify-XXXXXX";
static char *root;
static char logpath[300];

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

#define WAIT_FOR(cond, ms)                                                   \
    ({                                                                       \
        int64_t end_ = mono_ms() + (ms);                                     \
        int ok_;                                                             \
        while (!(ok_ = !!(cond)) && mono_ms() < end_)                        \
            sleep_ms(2);                                                     \
        ok_;                                                                 \
    })

static int listen_any(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int free_port(void)
{
    int port = -1, fd = listen_any(&port);
    if (fd >= 0)
        close(fd);
    return port;
}

static void set_rcvtimeo(int fd, int ms)
{
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

static void send_all(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        s += k;
        n -= (size_t)k;
    }
}

/* Waits up to 50 ms for a connection on lfd; -1 if none. */
static int accept_poll(int lfd)
{
    struct pollfd p = { .fd = lfd, .events = POLLIN };
    if (poll(&p, 1, 50) != 1)
        return -1;
    return accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
}

/* ---- results reported by the dispatcher -------------------------------------------- */

struct res {
    int64_t alert_id, sub_id;
    char    channel[8];
    int     ok, tries;
    char    detail[SB_NOTIFY_DETAIL_MAX];
    int64_t t_ms;
};

static struct {
    pthread_mutex_t mu;
    struct res r[64];
    int n;
} R = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void on_result(void *ud, const struct sb_notice *nt, int ok, int tries, const char *detail)
{
    (void)ud;
    pthread_mutex_lock(&R.mu);
    if (R.n < 64) {
        struct res *r = &R.r[R.n++];
        r->alert_id = nt->alert_id;
        r->sub_id = nt->sub_id;
        snprintf(r->channel, sizeof(r->channel), "%s", nt->channel);
        r->ok = ok;
        r->tries = tries;
        snprintf(r->detail, sizeof(r->detail), "%s", detail);
        r->t_ms = mono_ms();
    }
    pthread_mutex_unlock(&R.mu);
}

static void res_reset(void)
{
    pthread_mutex_lock(&R.mu);
    R.n = 0;
    pthread_mutex_unlock(&R.mu);
}

static int res_count(void)
{
    pthread_mutex_lock(&R.mu);
    int n = R.n;
    pthread_mutex_unlock(&R.mu);
    return n;
}

/* The result for alert id, copied into *out; 0 when there is none yet. */
static int res_get(int64_t id, struct res *out)
{
    int found = 0;
    pthread_mutex_lock(&R.mu);
    for (int i = 0; i < R.n && !found; i++)
        if (R.r[i].alert_id == id) {
            *out = R.r[i];
            found = 1;
        }
    pthread_mutex_unlock(&R.mu);
    return found;
}

/* ---- a tiny HTTP server ------------------------------------------------------------ */

#define HREQ_MAX 16

struct hreq {
    char    head[4096];      /* request line and headers */
    char    body[16384];
    size_t  blen;
    int64_t t_ms;            /* when it was read */
};

struct hsrv {
    int          lfd, port;
    pthread_t    th;
    atomic_int   stop;
    int          script[8];  /* statuses in turn, the last repeats; 0 = never answer */
    int          nscript;
    pthread_mutex_t mu;
    struct hreq *req;        /* HREQ_MAX recorded requests */
    int          nreq;
    int          accepted;
    int          hung[HREQ_MAX];  /* connections held open unanswered */
    int          nhung;
};

/* Header value (case-insensitive name) into out; 1 if found. */
static int hdr(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl, *e;
            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
            return 1;
        }
    }
    return 0;
}

/* Reads one request (head, then Content-Length bytes) into q; 0 or -1. */
static int read_request(int fd, struct hreq *q)
{
    size_t n = 0, need = 0;
    char *end = NULL, cl[32];
    char buf[4096 + 16384];
    while (!end && n < sizeof(q->head) - 1) {
        ssize_t k = recv(fd, buf + n, sizeof(q->head) - 1 - n, 0);
        if (k <= 0)
            return -1;
        n += (size_t)k;
        buf[n] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        return -1;
    snprintf(q->head, sizeof(q->head), "%.*s", (int)(end + 2 - buf), buf);
    need = hdr(q->head, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
    if (need >= sizeof(q->body))
        return -1;
    q->blen = n - (size_t)(end + 4 - buf);
    memcpy(q->body, end + 4, q->blen);
    while (q->blen < need) {
        ssize_t k = recv(fd, q->body + q->blen, need - q->blen, 0);
        if (k <= 0)
            return -1;
        q->blen += (size_t)k;
    }
    q->body[q->blen] = '\0';
    q->t_ms = mono_ms();
    return 0;
}

static void serve_one(struct hsrv *s, int fd)
{
    struct hreq q;
    char resp[256];
    int status, hang;

    set_rcvtimeo(fd, 3000);
    if (read_request(fd, &q) < 0) {
        close(fd);
        return;
    }
    pthread_mutex_lock(&s->mu);
    status = s->script[s->nreq < s->nscript ? s->nreq : s->nscript - 1];
    if (s->nreq < HREQ_MAX)
        s->req[s->nreq++] = q;
    hang = status == 0 && s->nhung < HREQ_MAX;
    if (hang)
        s->hung[s->nhung++] = fd;
    pthread_mutex_unlock(&s->mu);
    if (hang)
        return;
    snprintf(resp, sizeof(resp),
             "HTTP/1.1 %d Scripted\r\nContent-Length: 0\r\nConnection: close\r\n%s\r\n", status,
             status / 100 == 3 ? "Location: /elsewhere\r\n" : "");
    send_all(fd, resp);
    close(fd);
}

static void *hsrv_main(void *arg)
{
    struct hsrv *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = accept_poll(s->lfd);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->accepted++;
        pthread_mutex_unlock(&s->mu);
        serve_one(s, fd);
    }
    return NULL;
}

/* Starts a server answering the statuses given (ended by -1) in turn. */
static int hsrv_start(struct hsrv *s, ...)
{
    va_list ap;
    int st;
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    va_start(ap, s);
    while ((st = va_arg(ap, int)) >= 0 && s->nscript < 8)
        s->script[s->nscript++] = st;
    va_end(ap);
    s->req = calloc(HREQ_MAX, sizeof(*s->req));
    if (!s->req || (s->lfd = listen_any(&s->port)) < 0)
        return -1;
    return pthread_create(&s->th, NULL, hsrv_main, s) == 0 ? 0 : -1;
}

static void hsrv_stop(struct hsrv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    for (int i = 0; i < s->nhung; i++)
        close(s->hung[i]);
    close(s->lfd);
    free(s->req);
    pthread_mutex_destroy(&s->mu);
}

static int hsrv_nreq(struct hsrv *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void url_of(const struct hsrv *s, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "http://127.0.0.1:%d%s", s->port, path);
}

/* ---- a minimal SMTP peer (RFC 5321 4.1, 4.3.2: the replies curl needs) -------------- */

struct smtp {
    int          lfd, port;
    pthread_t    th;
    atomic_int   stop;
    int          rcpt_codes[4];   /* reply to RCPT per connection, the last repeats */
    int          ncodes;
    pthread_mutex_t mu;
    int          conns;           /* connections accepted */
    int          msgs;            /* messages accepted (DATA ended by '.') */
    char         from[300], rcpt[600];
    char        *data;            /* the last message, dot-unstuffed, CRLF lines */
    size_t       dlen;
};

#define SMTP_DATA_MAX (1 << 20)

/* One CRLF line (without CRLF) into line; -1 on EOF/timeout/overlong. */
static int smtp_line(int fd, char *rb, size_t *rn, char *line, size_t cap)
{
    for (;;) {
        char *e = memmem(rb, *rn, "\r\n", 2);
        if (e) {
            size_t k = (size_t)(e - rb);
            if (k >= cap)
                return -1;
            memcpy(line, rb, k);
            line[k] = '\0';
            memmove(rb, e + 2, *rn - k - 2);
            *rn -= k + 2;
            return 0;
        }
        if (*rn >= 8192)
            return -1;
        ssize_t got = recv(fd, rb + *rn, 8192 - *rn, 0);
        if (got <= 0)
            return -1;
        *rn += (size_t)got;
    }
}

static void smtp_data(struct smtp *s, int fd, char *rb, size_t *rn)
{
    char line[2048];
    size_t n = 0;
    char *d = malloc(SMTP_DATA_MAX);
    while (d && smtp_line(fd, rb, rn, line, sizeof(line)) == 0) {
        const char *l = line;
        if (!strcmp(line, ".")) {
            pthread_mutex_lock(&s->mu);
            free(s->data);
            s->data = d;
            s->dlen = n;
            d[n] = '\0';
            s->msgs++;
            pthread_mutex_unlock(&s->mu);
            send_all(fd, "250 2.0.0 queued\r\n");
            return;
        }
        if (l[0] == '.')
            l++;   /* RFC 5321 4.5.2: transparency */
        size_t k = strlen(l);
        if (n + k + 3 >= SMTP_DATA_MAX)
            break;
        memcpy(d + n, l, k);
        memcpy(d + n + k, "\r\n", 2);
        n += k + 2;
    }
    free(d);
}

static void smtp_session(struct smtp *s, int fd, int conn)
{
    char rb[8192], line[2048], reply[64];
    size_t rn = 0;
    set_rcvtimeo(fd, 3000);
    send_all(fd, "220 peer.test ESMTP\r\n");
    while (smtp_line(fd, rb, &rn, line, sizeof(line)) == 0) {
        if (!strncasecmp(line, "EHLO", 4) || !strncasecmp(line, "HELO", 4)) {
            send_all(fd, "250 peer.test\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            pthread_mutex_lock(&s->mu);
            snprintf(s->from, sizeof(s->from), "%.299s", line + 10);
            pthread_mutex_unlock(&s->mu);
            send_all(fd, "250 2.1.0 ok\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            int code = s->rcpt_codes[conn < s->ncodes ? conn : s->ncodes - 1];
            pthread_mutex_lock(&s->mu);
            snprintf(s->rcpt, sizeof(s->rcpt), "%.599s", line + 8);
            pthread_mutex_unlock(&s->mu);
            snprintf(reply, sizeof(reply), "%d scripted\r\n", code);
            send_all(fd, reply);
        } else if (!strcasecmp(line, "DATA")) {
            send_all(fd, "354 end with <CRLF>.<CRLF>\r\n");
            smtp_data(s, fd, rb, &rn);
        } else if (!strcasecmp(line, "QUIT")) {
            send_all(fd, "221 bye\r\n");
            break;
        } else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
            send_all(fd, "250 ok\r\n");
        } else {
            send_all(fd, "502 unknown\r\n");
        }
    }
    close(fd);
}

static void *smtp_main(void *arg)
{
    struct smtp *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd = accept_poll(s->lfd), conn;
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        conn = s->conns++;
        pthread_mutex_unlock(&s->mu);
        smtp_session(s, fd, conn);
    }
    return NULL;
}

static int smtp_start(struct smtp *s, int code0, int code1)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    s->rcpt_codes[0] = code0;
    s->rcpt_codes[1] = code1;
    s->ncodes = 2;
    if ((s->lfd = listen_any(&s->port)) < 0)
        return -1;
    return pthread_create(&s->th, NULL, smtp_main, s) == 0 ? 0 : -1;
}

static void smtp_stop(struct smtp *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    free(s->data);
    pthread_mutex_destroy(&s->mu);
}

static int smtp_get(struct smtp *s, int *conns, int *msgs)
{
    pthread_mutex_lock(&s->mu);
    *conns = s->conns;
    *msgs = s->msgs;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* ---- HMAC-SHA256 from SHA-256 (RFC 2104 2), independent of the module ------------- */

static void hmac_ref(const void *key, size_t klen, const void *msg, size_t mlen,
                     unsigned char out[32])
{
    unsigned char k0[64] = { 0 }, ipad[64], opad[64], inner[32];
    crypto_hash_sha256_state st;
    if (klen > 64)
        crypto_hash_sha256(k0, key, klen);
    else
        memcpy(k0, key, klen);
    for (int i = 0; i < 64; i++) {
        ipad[i] = k0[i] ^ 0x36;
        opad[i] = k0[i] ^ 0x5c;
    }
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, ipad, 64);
    crypto_hash_sha256_update(&st, msg, mlen);
    crypto_hash_sha256_final(&st, inner);
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, opad, 64);
    crypto_hash_sha256_update(&st, inner, 32);
    crypto_hash_sha256_final(&st, out);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* ---- helpers for notices and dispatchers ------------------------------------------- */

static struct sb_notify_cfg base_cfg(void)
{
    return (struct sb_notify_cfg){ .max_tries = 3, .backoff_first_ms = 100,
                                   .backoff_max_ms = 400, .timeout_ms = 3000,
                                   .queue_max = 64, .threads = 2 };
}

static void webhook_notice(struct sb_notice *nt, int64_t id, const char *url, const char *body)
{
    memset(nt, 0, sizeof(*nt));
    snprintf(nt->channel, sizeof(nt->channel), "webhook");
    snprintf(nt->target, sizeof(nt->target), "%s", url);
    snprintf(nt->secret, sizeof(nt->secret), "whsec-%lld", (long long)id);
    snprintf(nt->building, sizeof(nt->building), "hq");
    snprintf(nt->severity, sizeof(nt->severity), "major");
    nt->alert_id = id;
    nt->sub_id = 1000 + id;
    snprintf(nt->subject, sizeof(nt->subject), "AHU-1 discharge air too warm");
    nt->body_json = strdup(body);
}

static struct sb_notify *dispatcher(const struct sb_notify_cfg *cfg)
{
    struct sb_notify *n = NULL;
    char err[256] = "";
    int rc = sb_notify_new(cfg, on_result, NULL, &n, err, sizeof(err));
    if (rc != 0)
        printf("# sb_notify_new: %s: %s\n", sb_errname(rc), err);
    return n;
}

/* ---- signature ---------------------------------------------------------------------- */

TEST(hmac_reference)
{
    /* RFC 4231 4.3 (test case 2) and 4.7 (case 6, a key longer than the block). */
    unsigned char mac[32], key6[131];
    char h[65];
    hmac_ref("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    memset(key6, 0xaa, sizeof(key6));
    hmac_ref(key6, sizeof(key6), "Test Using Larger Than Block-Size Key - Hash Key First", 54, mac);
    hex(mac, 32, h);
    CHECK_STR(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(sign_matches_reference)
{
    const char *body = "{\"alert\":42,\"state\":\"active\"}";
    char sig[80], want[72] = "sha256=", msg[128];
    unsigned char mac[32];
    int k = snprintf(msg, sizeof(msg), "1700000000.%s", body);

    CHECK_EQ(sb_notify_sign("s3cret", 1700000000, body, strlen(body), sig, sizeof(sig)), 0);
    hmac_ref("s3cret", 6, msg, (size_t)k, mac);
    hex(mac, 32, want + 7);
    CHECK_STR(sig, want);
    /* The timestamp is signed: another second gives another signature. */
    CHECK_EQ(sb_notify_sign("s3cret", 1700000001, body, strlen(body), msg, sizeof(msg)), 0);
    CHECK(strcmp(msg, sig) != 0);
    CHECK_EQ(sb_notify_sign("s3cret", 1, body, 1, sig, 71), SB_ENOSPC);
}

/* ---- configuration and submit checks ----------------------------------------------- */

static int new_err(const struct sb_notify_cfg *c, char *err, size_t cap)
{
    struct sb_notify *n = NULL;
    int rc = sb_notify_new(c, on_result, NULL, &n, err, cap);
    sb_notify_free(n);
    return rc;
}

TEST(config_errors)
{
    struct sb_notify_cfg c = base_cfg();
    char err[256];

    c.max_tries = 21;
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "alerts.max_tries") != NULL);
    c = base_cfg();
    c.backoff_first_ms = 5000;
    c.backoff_max_ms = 1000;
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "alerts.backoff_max_ms") != NULL);
    c = base_cfg();
    c.smtp_url = "smtp://127.0.0.1:1";
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "alerts.smtp_from") != NULL);
    c.smtp_from = "alerts@example.org\r\nBcc: x@example.org";
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    c.smtp_url = "http://127.0.0.1:1";
    c.smtp_from = "alerts@example.org";
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "alerts.smtp_url") != NULL);
    c = base_cfg();
    c.mqtt_host = "127.0.0.1";
    c.mqtt_topic_prefix = "sbems/#";
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "alerts.mqtt_topic_prefix") != NULL);
    c.mqtt_topic_prefix = NULL;
    c.mqtt_port = 70000;
    CHECK_EQ(new_err(&c, err, sizeof(err)), SB_ECONFIG);
    CHECK_EQ(new_err(&(struct sb_notify_cfg){ 0 }, err, sizeof(err)), 0);   /* all defaults */
}

/* Submits a valid webhook notice changed by edit; returns the code and
 * checks the bodies were taken in every case. */
static int submit_edit(struct sb_notify *n, void (*edit)(struct sb_notice *))
{
    struct sb_notice nt;
    webhook_notice(&nt, 1, "http://127.0.0.1:9/hook", "{}");
    nt.body_text = strdup("text");
    edit(&nt);
    int rc = sb_notify_submit(n, &nt);
    CHECK(nt.body_json == NULL && nt.body_text == NULL);
    return rc;
}

static void e_chan(struct sb_notice *nt) { snprintf(nt->channel, sizeof(nt->channel), "sms"); }
static void e_file(struct sb_notice *nt) { snprintf(nt->target, sizeof(nt->target), "file:///etc/passwd"); }
static void e_ftp(struct sb_notice *nt) { snprintf(nt->target, sizeof(nt->target), "ftp://127.0.0.1/x"); }
static void e_space(struct sb_notice *nt) { snprintf(nt->target, sizeof(nt->target), "http://a b/"); }
static void e_nohost(struct sb_notice *nt) { snprintf(nt->target, sizeof(nt->target), "http:///x"); }
static void e_nosecret(struct sb_notice *nt) { nt->secret[0] = '\0'; }
static void e_unterm(struct sb_notice *nt) { memset(nt->target, 'a', sizeof(nt->target)); }
static void e_nobody(struct sb_notice *nt) { free(nt->body_json); nt->body_json = NULL; }
static void e_subj(struct sb_notice *nt) { snprintf(nt->subject, sizeof(nt->subject), "a\nb"); }
static void e_utf8(struct sb_notice *nt) { snprintf(nt->subject, sizeof(nt->subject), "caf\xc3"); }
static void e_big(struct sb_notice *nt)
{
    free(nt->body_json);
    nt->body_json = calloc(1, SB_NOTIFY_BODY_MAX + 2);
    memset(nt->body_json, 'x', SB_NOTIFY_BODY_MAX + 1);
}
static void e_email(struct sb_notice *nt)
{
    snprintf(nt->channel, sizeof(nt->channel), "email");
    snprintf(nt->target, sizeof(nt->target), "ops@example.org");
}
static void e_mqtt(struct sb_notice *nt) { snprintf(nt->channel, sizeof(nt->channel), "mqtt"); }

TEST(submit_checks)
{
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n = dispatcher(&c);
    struct sb_notify_stats st;
    REQUIRE(n);
    CHECK_EQ(submit_edit(n, e_chan), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_file), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_ftp), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_space), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_nohost), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_nosecret), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_unterm), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_nobody), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_subj), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_utf8), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_big), SB_EINVAL);
    CHECK_EQ(submit_edit(n, e_email), SB_ENOTSUP);   /* no smtp_url */
    CHECK_EQ(submit_edit(n, e_mqtt), SB_ENOTSUP);    /* no mqtt_host */
    sb_notify_stats(n, &st);
    CHECK_EQ(st.submitted, 0);
    CHECK_EQ(sb_notify_submit(n, NULL), SB_EINVAL);
    struct sb_notice nt;
    webhook_notice(&nt, 2, "http://127.0.0.1:9/hook", "{}");
    CHECK_EQ(sb_notify_submit(NULL, &nt), SB_EINVAL);
    CHECK(nt.body_json == NULL);   /* taken even so */
    sb_notify_free(n);
    CHECK_EQ(res_count(), 0);
}

/* ---- webhooks ----------------------------------------------------------------------- */

TEST(webhook_signed)
{
    struct hsrv s;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    char url[128], v[128], want[80] = "sha256=", msg[512];
    const char *body = "{\"alert\":7,\"rule\":\"ahu-1-sat-high\",\"value\":17.25}";
    unsigned char mac[32];
    long long ts;

    res_reset();
    REQUIRE(hsrv_start(&s, 200, -1) == 0);
    n = dispatcher(&c);
    url_of(&s, "/hooks/ops?token=tok-in-url", url, sizeof(url));
    webhook_notice(&nt, 7, url, body);
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(7, &r), 5000));
    CHECK_EQ(r.ok, 1);
    CHECK_EQ(r.tries, 1);
    CHECK_STR(r.detail, "HTTP 200");
    CHECK_EQ(r.sub_id, 1007);
    REQUIRE(hsrv_nreq(&s) == 1);
    struct hreq *q = &s.req[0];
    const char *line = "POST /hooks/ops?token=tok-in-url HTTP/1.1\r\n";
    CHECK(strncmp(q->head, line, strlen(line)) == 0);
    CHECK_STR(q->body, body);
    CHECK(hdr(q->head, "Content-Type", v, sizeof(v)) && !strcmp(v, "application/json"));
    REQUIRE(hdr(q->head, "X-Sbems-Timestamp", v, sizeof(v)));
    ts = atoll(v);
    CHECK_INT(llabs(ts - (long long)time(NULL)), <=, 5);
    /* The receiver's check: HMAC(secret, "<timestamp>.<raw body>"). */
    int k = snprintf(msg, sizeof(msg), "%s.%s", v, q->body);
    hmac_ref("whsec-7", 7, msg, (size_t)k, mac);
    hex(mac, 32, want + 7);
    CHECK(hdr(q->head, "X-Sbems-Signature", v, sizeof(v)));
    CHECK_STR(v, want);
    CHECK(hdr(q->head, "X-Sbems-Delivery", v, sizeof(v)) && strlen(v) == 32);
    sb_notify_stats(n, &st);
    CHECK_EQ(st.submitted, 1);
    CHECK_EQ(st.delivered, 1);
    CHECK_EQ(st.held, 0);
    sb_notify_free(n);
    hsrv_stop(&s);
}

TEST(webhook_retry_after_500)
{
    struct hsrv s;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    char url[128], d0[64] = "", d1[64] = "";

    res_reset();
    REQUIRE(hsrv_start(&s, 500, 200, -1) == 0);
    n = dispatcher(&c);
    url_of(&s, "/h", url, sizeof(url));
    webhook_notice(&nt, 8, url, "{\"n\":8}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(8, &r), 5000));
    CHECK_EQ(r.ok, 1);
    CHECK_EQ(r.tries, 2);
    REQUIRE(hsrv_nreq(&s) == 2);
    /* back-off 100 ms with jitter in [0.5, 1] */
    int64_t gap = s.req[1].t_ms - s.req[0].t_ms;
    CHECK_INT(gap, >=, 45);
    CHECK_INT(gap, <, 1000);
    hdr(s.req[0].head, "X-Sbems-Delivery", d0, sizeof(d0));
    hdr(s.req[1].head, "X-Sbems-Delivery", d1, sizeof(d1));
    CHECK(d0[0] && !strcmp(d0, d1));   /* receivers can de-duplicate retries */
    sb_notify_stats(n, &st);
    CHECK_EQ(st.retried, 1);
    CHECK_EQ(st.delivered, 1);
    CHECK_EQ(st.failed, 0);
    sb_notify_free(n);
    hsrv_stop(&s);
}

/* One attempt only for a final status, then nothing more is sent. */
static void final_status(int status, int64_t id, const char *want)
{
    struct hsrv s;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    char url[128];

    c.max_tries = 5;
    REQUIRE(hsrv_start(&s, status, 200, -1) == 0);
    n = dispatcher(&c);
    url_of(&s, "/h", url, sizeof(url));
    webhook_notice(&nt, id, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(id, &r), 5000));
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.tries, 1);
    CHECK_STR(r.detail, want);
    sleep_ms(300);   /* > the largest back-off (100 ms): a retry would have come */
    CHECK_EQ(hsrv_nreq(&s), 1);
    sb_notify_stats(n, &st);
    CHECK_EQ(st.failed, 1);
    CHECK_EQ(st.retried, 0);
    sb_notify_free(n);
    hsrv_stop(&s);
}

TEST(webhook_no_retry_on_400)
{
    res_reset();
    final_status(400, 9, "HTTP 400 (final)");
    final_status(404, 10, "HTTP 404 (final)");
    final_status(302, 11, "HTTP 302 (final)");   /* redirect not followed */
}

TEST(webhook_retries_408_429_503)
{
    struct hsrv s;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r;
    char url[128];

    res_reset();
    c.max_tries = 4;
    REQUIRE(hsrv_start(&s, 408, 429, 503, 204, -1) == 0);
    n = dispatcher(&c);
    url_of(&s, "/h", url, sizeof(url));
    webhook_notice(&nt, 12, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(12, &r), 5000));
    CHECK_EQ(r.ok, 1);
    CHECK_EQ(r.tries, 4);
    CHECK_STR(r.detail, "HTTP 204");
    sb_notify_free(n);
    hsrv_stop(&s);
}

TEST(webhook_gives_up)
{
    struct hsrv s;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    char url[128];

    res_reset();
    c.backoff_first_ms = 60;
    c.backoff_max_ms = 100;
    REQUIRE(hsrv_start(&s, 500, -1) == 0);
    n = dispatcher(&c);
    url_of(&s, "/h", url, sizeof(url));
    webhook_notice(&nt, 13, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(13, &r), 5000));
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.tries, 3);
    CHECK_STR(r.detail, "HTTP 500");
    REQUIRE(hsrv_nreq(&s) == 3);
    int64_t g1 = s.req[1].t_ms - s.req[0].t_ms, g2 = s.req[2].t_ms - s.req[1].t_ms;
    CHECK_INT(g1, >=, 28);    /* 60 ms x [0.5, 1] */
    CHECK_INT(g2, >=, 48);    /* min(120, 100) ms x [0.5, 1] */
    CHECK_INT(g2, <, 1000);
    sleep_ms(250);
    CHECK_EQ(hsrv_nreq(&s), 3);   /* max_tries reached: no 4th */
    sb_notify_stats(n, &st);
    CHECK_EQ(st.retried, 2);
    CHECK_EQ(st.failed, 1);
    sb_notify_free(n);
    hsrv_stop(&s);
}

TEST(webhook_connection_refused_retried)
{
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r;
    char url[128];

    res_reset();
    c.max_tries = 2;
    n = dispatcher(&c);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/h", free_port());
    webhook_notice(&nt, 14, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(14, &r), 5000));
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.tries, 2);
    CHECK(strstr(r.detail, "onnect") != NULL);
    sb_notify_free(n);
}

/* A receiver that accepts the connection and never answers holds one worker
 * for at most the attempt timeout; a second target is served meanwhile. */
TEST(webhook_hanging_target_does_not_delay_others)
{
    struct hsrv hang, good;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r1, r2;
    char url[128];
    int64_t t0;

    res_reset();
    c.threads = 2;
    c.timeout_ms = 1500;
    c.max_tries = 1;
    REQUIRE(hsrv_start(&hang, 0, -1) == 0);
    REQUIRE(hsrv_start(&good, 200, -1) == 0);
    n = dispatcher(&c);
    t0 = mono_ms();
    url_of(&hang, "/slow", url, sizeof(url));
    webhook_notice(&nt, 21, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(hsrv_nreq(&hang) == 1, 2000));   /* the hanging attempt is in flight */
    url_of(&good, "/fast", url, sizeof(url));
    webhook_notice(&nt, 22, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(22, &r2), 1000));
    CHECK_EQ(r2.ok, 1);
    CHECK_INT(r2.t_ms - t0, <, 1000);            /* bound: well under the 1.5 s timeout */
    CHECK(!res_get(21, &r1));                    /* the hanging one is still in flight */
    CHECK(WAIT_FOR(res_get(21, &r1), 5000));
    CHECK_EQ(r1.ok, 0);
    CHECK_STR(r1.detail, "timeout");
    CHECK_INT(r1.t_ms - t0, >=, 1400);
    CHECK_INT(r1.t_ms - t0, <, 4000);
    sb_notify_free(n);
    hsrv_stop(&hang);
    hsrv_stop(&good);
}

TEST(queue_full_drops)
{
    struct hsrv hang;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    char url[128];

    res_reset();
    c.threads = 1;
    c.queue_max = 2;
    REQUIRE(hsrv_start(&hang, 0, -1) == 0);
    n = dispatcher(&c);
    url_of(&hang, "/slow", url, sizeof(url));
    for (int i = 0; i < 2; i++) {
        webhook_notice(&nt, 31 + i, url, "{}");
        CHECK_EQ(sb_notify_submit(n, &nt), 0);
    }
    webhook_notice(&nt, 33, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EAGAIN);
    CHECK(nt.body_json == NULL);
    sb_notify_stats(n, &st);
    CHECK_EQ(st.dropped, 1);
    CHECK_EQ(st.submitted, 2);
    CHECK_EQ(st.held, 2);
    sb_notify_free(n);
    CHECK_EQ(res_count(), 2);   /* the two held, reported at shutdown; not the dropped one */
    hsrv_stop(&hang);
}

/* sb_notify_free reports everything not delivered, promptly: a notice in
 * flight to a hanging target (aborted), notices queued behind it, and one
 * waiting for its retry. */
TEST(shutdown_reports_pending)
{
    struct hsrv hang, fail, good;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    char url[128];
    int64_t t0;

    res_reset();
    c.threads = 1;
    c.timeout_ms = 10000;
    c.backoff_first_ms = 60000;
    c.backoff_max_ms = 60000;
    REQUIRE(hsrv_start(&hang, 0, -1) == 0);
    REQUIRE(hsrv_start(&fail, 500, -1) == 0);
    REQUIRE(hsrv_start(&good, 200, -1) == 0);
    n = dispatcher(&c);
    url_of(&fail, "/f", url, sizeof(url));
    webhook_notice(&nt, 41, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR((sb_notify_stats(n, &st), st.retried == 1), 3000));
    url_of(&hang, "/h", url, sizeof(url));
    webhook_notice(&nt, 42, url, "{}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(hsrv_nreq(&hang) == 1, 3000));
    url_of(&good, "/g", url, sizeof(url));
    for (int i = 0; i < 2; i++) {
        webhook_notice(&nt, 43 + i, url, "{}");
        CHECK_EQ(sb_notify_submit(n, &nt), 0);
    }
    t0 = mono_ms();
    sb_notify_free(n);
    CHECK_INT(mono_ms() - t0, <, 2500);   /* not the 10 s attempt timeout */
    CHECK_EQ(res_count(), 4);
    CHECK(res_get(41, &r) && !r.ok && !strcmp(r.detail, "shutdown (last: HTTP 500)") && r.tries == 1);
    CHECK(res_get(42, &r) && !r.ok && !strcmp(r.detail, "shutdown") && r.tries == 1);
    CHECK(res_get(43, &r) && !r.ok && !strcmp(r.detail, "shutdown") && r.tries == 0);
    CHECK(res_get(44, &r) && !r.ok && !strcmp(r.detail, "shutdown") && r.tries == 0);
    CHECK_EQ(hsrv_nreq(&good), 0);
    CHECK_EQ(hsrv_nreq(&fail), 1);
    hsrv_stop(&hang);
    hsrv_stop(&fail);
    hsrv_stop(&good);
}

/* ---- e-mail ------------------------------------------------------------------------- */

/* RFC 2045 6.7 decoding of the body (soft breaks removed). */
static size_t qp_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        if (in[i] == '=' && i + 2 < len + 0 && in[i + 1] == '\r' && in[i + 2] == '\n') {
            i += 3;
        } else if (in[i] == '=' && i + 2 < len) {
            char h[3] = { in[i + 1], in[i + 2], 0 };
            out[o++] = (char)strtol(h, NULL, 16);
            i += 3;
        } else {
            out[o++] = in[i++];
        }
    }
    return o;
}

/* The Subject as the reader sees it: RFC 2047 words decoded and joined. */
static int subject_decode(const char *msg, char *out, size_t cap)
{
    const char *p = strstr(msg, "\r\nSubject: "), *e;
    size_t o = 0;
    if (!p)
        return -1;
    p += 11;
    if (strncmp(p, "=?UTF-8?B?", 10) != 0) {
        e = strstr(p, "\r\n");
        snprintf(out, cap, "%.*s", (int)(e - p), p);
        return 0;
    }
    while (!strncmp(p, "=?UTF-8?B?", 10)) {
        size_t bl;
        p += 10;
        e = strstr(p, "?=");
        if (!e || sodium_base642bin((unsigned char *)out + o, cap - o - 1, p, (size_t)(e - p),
                                    NULL, &bl, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            return -1;
        o += bl;
        p = e + 2;
        if (!strncmp(p, "\r\n ", 3))
            p += 3;
    }
    out[o] = '\0';
    return 0;
}

static void email_notice(struct sb_notice *nt, int64_t id, const char *to, const char *subj,
                         const char *text)
{
    memset(nt, 0, sizeof(*nt));
    snprintf(nt->channel, sizeof(nt->channel), "email");
    snprintf(nt->target, sizeof(nt->target), "%s", to);
    snprintf(nt->building, sizeof(nt->building), "hq");
    snprintf(nt->severity, sizeof(nt->severity), "critical");
    nt->alert_id = id;
    snprintf(nt->subject, sizeof(nt->subject), "%s", subj);
    nt->body_json = strdup("{\"alert\":1}");
    nt->body_text = text ? strdup(text) : NULL;
}

TEST(email_build_fixed)
{
    struct sb_notice nt;
    size_t len = 0;
    char *m, subj[256];

    email_notice(&nt, 77, "ops@example.org", "[major] AHU-1 Zuluft zu warm \xe2\x80\x93 17,3 \xc2\xb0""C",
                 "line one\n.\nfin");
    m = sb_notify__email_build("alerts@sbems.example", &nt, 1700000000, &len);
    REQUIRE(m);
    CHECK_EQ(strlen(m), len);
    const char *date = "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n";
    CHECK(strncmp(m, date, strlen(date)) == 0);
    CHECK(strstr(m, "\r\nFrom: alerts@sbems.example\r\n") != NULL);
    CHECK(strstr(m, "\r\nTo: ops@example.org\r\n") != NULL);
    CHECK(strstr(m, ".77@sbems.example>\r\n") != NULL);
    CHECK(strstr(m, "\r\nX-Sbems-Alert: 77\r\n") != NULL);
    CHECK(strstr(m, "\r\nContent-Transfer-Encoding: quoted-printable\r\n") != NULL);
    CHECK(subject_decode(m, subj, sizeof(subj)) == 0);
    CHECK_STR(subj, nt.subject);
    CHECK(strstr(m, "\r\n\r\nline one\r\n.\r\nfin\r\n") != NULL);
    free(m);
    free(nt.body_json);
    free(nt.body_text);
}

static const char *const hnames[] = { "Date", "From", "To", "Subject", "Message-ID",
                                      "MIME-Version", "Content-Type",
                                      "Content-Transfer-Encoding", "Auto-Submitted",
                                      "X-Sbems-Alert" };

/* Every header line is one of hnames (once each) or a folded Subject line;
 * all lines end CRLF and are short; returns the body start or NULL. */
static const char *check_lines(const char *m, size_t len)
{
    int seen[10] = { 0 }, in_head = 1, last = -1;
    const char *p = m, *end = m + len, *body = NULL;
    while (p < end) {
        const char *e = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!e || memchr(p, '\n', (size_t)(e - p)) || memchr(p, '\r', (size_t)(e - p)))
            return NULL;
        size_t ll = (size_t)(e - p);
        if (in_head && ll == 0) {
            in_head = 0;
            body = e + 2;
        } else if (in_head && p[0] == ' ') {
            if (last != 3)
                return NULL;   /* only the Subject is folded */
        } else if (in_head) {
            int k = -1;
            for (int i = 0; i < 10; i++)
                if (!strncmp(p, hnames[i], strlen(hnames[i])) && p[strlen(hnames[i])] == ':')
                    k = i;
            if (k < 0 || seen[k]++)
                return NULL;
            last = k;
        }
        if (ll > (in_head ? 998u : 76u))
            return NULL;
        p = e + 2;
    }
    for (int i = 0; i < 10; i++)   /* X-Sbems-Alert only names a real alert (id > 0) */
        if (seen[i] != 1 && !(i == 9 && seen[i] == 0))
            return NULL;
    return body;
}

/* UTF-8 of code point cp (RFC 3629 3) into b; returns its length. */
static size_t utf8_put(uint32_t cp, char *b)
{
    static const unsigned char lead[] = { 0, 0, 0xc0, 0xe0, 0xf0 };
    size_t k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (k == 1) {
        b[0] = (char)cp;
        return 1;
    }
    for (size_t i = k - 1; i > 0; i--, cp >>= 6)
        b[i] = (char)(0x80 | (cp & 63));
    b[0] = (char)(lead[k] | cp);
    return k;
}

/* A random well-formed UTF-8 string of up to 80 characters from all planes. */
static size_t rand_utf8(uint64_t *rs, char *out, size_t cap)
{
    size_t n = 0, want = tap_rand(rs) % 80;
    for (size_t i = 0; i < want; i++) {
        uint32_t cp, r = (uint32_t)(tap_rand(rs) % 4);
        char b[4];
        cp = r == 0 ? 0x20 + (uint32_t)(tap_rand(rs) % 95)
           : r == 1 ? 0x80 + (uint32_t)(tap_rand(rs) % 0x780)
           : r == 2 ? 0x800 + (uint32_t)(tap_rand(rs) % 0xf800)
                    : 0x10000 + (uint32_t)(tap_rand(rs) % 0x100000);
        if (cp >= 0xd800 && cp <= 0xdfff)
            cp = 'x';   /* surrogates are not characters */
        size_t k = utf8_put(cp, b);
        if (n + k >= cap)
            break;
        memcpy(out + n, b, k);
        n += k;
    }
    out[n] = '\0';
    return n;
}

/* LF not after CR becomes CRLF: what the reader gets for the text. */
static size_t normalise(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = in[i];
    }
    return o;
}

TEST(email_build_property)
{
    static const char alpha[] = "a .=\t\r\n\xff\xc3\xa9Z";
    uint64_t rs = 0x5eed5eedULL;
    struct sb_notice nt;
    char subj[256], *want = malloc(2 * 4000 + 8), *got = malloc(4 * 4000 + 8);
    int bad = 0;

    REQUIRE(want && got);
    for (int iter = 0; iter < 400 && !bad; iter++) {
        size_t tl = tap_rand(&rs) % 4000, len = 0;
        char *text = malloc(tl + 1);
        for (size_t i = 0; i < tl; i++)
            text[i] = tap_rand(&rs) % 5 ? alpha[tap_rand(&rs) % (sizeof(alpha) - 1)]
                                        : (char)(1 + tap_rand(&rs) % 255);
        text[tl] = '\0';
        tl = strlen(text);
        email_notice(&nt, iter, "a.b+c@mail.example.org", "", NULL);
        rand_utf8(&rs, nt.subject, sizeof(nt.subject));
        nt.body_text = text;
        char *m = sb_notify__email_build("x@y.example", &nt, 1700000000 + iter, &len);
        const char *body = m ? check_lines(m, len) : NULL;
        if (!m || !body) {
            printf("# iteration %d: %s\n", iter, m ? "bad lines" : "build failed");
            bad = 1;
        } else {
            size_t gl = qp_decode(body, len - (size_t)(body - m), got);
            size_t wl = normalise(text, tl, want);
            memcpy(want + wl, "\r\n", 2);
            wl += 2;
            if (gl != wl || memcmp(got, want, wl) != 0 ||
                subject_decode(m, subj, sizeof(subj)) != 0 ||
                strcmp(subj, nt.subject[0] ? nt.subject : "sbems alert") != 0) {
                printf("# iteration %d: body or subject does not round-trip\n", iter);
                bad = 1;
            }
        }
        free(m);
        free(nt.body_json);
        free(text);
    }
    CHECK(!bad);
    /* Control characters anywhere in the subject or addresses: no message. */
    size_t len;
    email_notice(&nt, 1, "ops@example.org", "ok\x1b[31m", NULL);
    CHECK(sb_notify__email_build("x@y.example", &nt, 0, &len) == NULL);
    snprintf(nt.subject, sizeof(nt.subject), "fine");
    snprintf(nt.target, sizeof(nt.target), "ops@example.org\r\nBcc: evil@example.net");
    CHECK(sb_notify__email_build("x@y.example", &nt, 0, &len) == NULL);
    snprintf(nt.target, sizeof(nt.target), "ops@example.org");
    CHECK(sb_notify__email_build("x@y.example\n", &nt, 0, &len) == NULL);
    free(nt.body_json);
    free(want);
    free(got);
}

TEST(email_delivered)
{
    struct smtp p;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r;
    char url[64], subj[256], long_line[1500];
    int conns, msgs;

    res_reset();
    REQUIRE(smtp_start(&p, 250, 250) == 0);
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", p.port);
    c.smtp_url = url;
    c.smtp_from = "alerts@sbems.example";
    n = dispatcher(&c);
    REQUIRE(n);
    memset(long_line, 'k', sizeof(long_line) - 1);
    long_line[sizeof(long_line) - 1] = '\0';
    char *text = malloc(2000);
    snprintf(text, 2000, "Discharge air 17.3 \xc2\xb0""C above 16.0\n.\n..two dots\n%s\nend", long_line);
    email_notice(&nt, 51, "ops@example.org", "[major] AHU-1 discharge air too warm", NULL);
    nt.body_text = text;
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(51, &r), 5000));
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.detail, "SMTP 250");
    smtp_get(&p, &conns, &msgs);
    CHECK_EQ(msgs, 1);
    pthread_mutex_lock(&p.mu);
    CHECK_STR(p.from, "<alerts@sbems.example>");
    CHECK_STR(p.rcpt, "<ops@example.org>");
    const char *body = p.data ? check_lines(p.data, p.dlen) : NULL;
    CHECK(body != NULL);
    CHECK(subject_decode(p.data, subj, sizeof(subj)) == 0 && !strcmp(subj, nt.subject));
    CHECK(strstr(p.data, "\r\nTo: ops@example.org\r\n") != NULL);
    CHECK(strstr(p.data, "\r\nFrom: alerts@sbems.example\r\n") != NULL);
    CHECK(strstr(p.data, "@sbems.example>\r\n") != NULL);   /* Message-ID */
    if (body) {
        char *dec = malloc(p.dlen + 1), *want = malloc(4000);
        size_t dl = qp_decode(body, p.dlen - (size_t)(body - p.data), dec);
        snprintf(want, 4000, "Discharge air 17.3 \xc2\xb0""C above 16.0\r\n.\r\n..two dots\r\n%s\r\nend\r\n", long_line);
        CHECK_EQ(dl, strlen(want));
        CHECK(dl == strlen(want) && memcmp(dec, want, dl) == 0);
        free(dec);
        free(want);
    }
    pthread_mutex_unlock(&p.mu);
    sb_notify_free(n);
    smtp_stop(&p);
}

/* An e-mail with a file attached: multipart/mixed, the text in
 * quoted-printable, the file in base64 lines of 76 characters that decode
 * to the same bytes (all 256 byte values, NULs included), through a real
 * SMTP exchange.  Unsafe names and types are refused at submit. */
TEST(email_attachment)
{
    struct smtp p;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r;
    char url[64];
    size_t alen = 3000;
    unsigned char *att = malloc(alen), *copy = malloc(alen);

    REQUIRE(att && copy);
    for (size_t i = 0; i < alen; i++)
        att[i] = (unsigned char)(i * 7 + i / 256);
    memcpy(copy, att, alen);
    res_reset();
    REQUIRE(smtp_start(&p, 250, 250) == 0);
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", p.port);
    c.smtp_url = url;
    c.smtp_from = "reports@sbems.example";
    n = dispatcher(&c);
    REQUIRE(n);
    email_notice(&nt, 61, "fm@example.org", "Weekly report: HQ", "Your weekly report is attached.");
    nt.attach = att;
    nt.attach_len = alen;
    snprintf(nt.attach_name, sizeof(nt.attach_name), "hq-weekly-2026-11-16.xlsx");
    snprintf(nt.attach_type, sizeof(nt.attach_type),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(nt.attach == NULL);   /* taken */
    CHECK(WAIT_FOR(res_get(61, &r), 5000));
    CHECK_EQ(r.ok, 1);
    pthread_mutex_lock(&p.mu);
    const char *m = p.data, *ct = m ? strstr(m, "Content-Type: multipart/mixed; boundary=\"") : NULL;
    CHECK(ct != NULL);
    if (ct) {
        char b[64], delim[80], endd[84];
        const char *q = ct + strlen("Content-Type: multipart/mixed; boundary=\"");
        size_t bl = strcspn(q, "\"");
        REQUIRE(bl > 0 && bl < sizeof(b));
        memcpy(b, q, bl);
        b[bl] = 0;
        snprintf(delim, sizeof(delim), "\r\n--%s\r\n", b);
        snprintf(endd, sizeof(endd), "\r\n--%s--\r\n", b);
        const char *p1 = strstr(m, delim), *p2 = p1 ? strstr(p1 + 1, delim) : NULL;
        const char *pe = p2 ? strstr(p2, endd) : NULL;
        CHECK(p1 && p2 && pe);
        CHECK(p1 && strstr(p1, "Your weekly report is attached.") != NULL);
        if (p2 && pe) {
            CHECK(strstr(p2, "filename=\"hq-weekly-2026-11-16.xlsx\"") != NULL);
            const char *d = strstr(p2, "\r\n\r\n");
            REQUIRE(d && d < pe);
            d += 4;
            /* lines of at most 76 characters, then decode all of them */
            char *b64 = malloc((size_t)(pe - d) + 1);
            size_t k = 0, col = 0, longest = 0;
            for (const char *x = d; x < pe; x++) {
                if (*x == '\r' || *x == '\n') {
                    longest = col > longest ? col : longest;
                    col = 0;
                    continue;
                }
                b64[k++] = *x;
                col++;
            }
            CHECK(longest <= 76);
            unsigned char *dec = malloc(alen + 8);
            size_t dl = 0;
            CHECK(sodium_base642bin(dec, alen + 8, b64, k, NULL, &dl, NULL,
                                    sodium_base64_VARIANT_ORIGINAL) == 0);
            CHECK(dl == alen && memcmp(dec, copy, alen) == 0);
            free(dec);
            free(b64);
        }
    }
    pthread_mutex_unlock(&p.mu);
    /* refused: a path in the name, a type with a space */
    email_notice(&nt, 62, "fm@example.org", "x", "y");
    nt.attach = malloc(4);
    nt.attach_len = 4;
    snprintf(nt.attach_name, sizeof(nt.attach_name), "../etc.csv");
    snprintf(nt.attach_type, sizeof(nt.attach_type), "text/csv");
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    CHECK(nt.attach == NULL);
    email_notice(&nt, 63, "fm@example.org", "x", "y");
    nt.attach = malloc(4);
    nt.attach_len = 4;
    snprintf(nt.attach_name, sizeof(nt.attach_name), "r.csv");
    snprintf(nt.attach_type, sizeof(nt.attach_type), "text/csv; x=1");
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    sb_notify_free(n);
    smtp_stop(&p);
    free(copy);
}

TEST(email_refuses_header_injection)
{
    struct smtp p;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    char url[64];
    int conns, msgs;

    res_reset();
    REQUIRE(smtp_start(&p, 250, 250) == 0);
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", p.port);
    c.smtp_url = url;
    c.smtp_from = "alerts@sbems.example";
    n = dispatcher(&c);
    REQUIRE(n);
    email_notice(&nt, 52, "ops@example.org", "hi\r\nBcc: victim@example.net", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    email_notice(&nt, 53, "ops@example.org\r\nBcc: victim@example.net", "hi", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    email_notice(&nt, 54, "ops@example.org>\r\nRCPT TO:<victim@example.net", "hi", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    email_notice(&nt, 55, "ops@example.org, victim@example.net", "hi", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    email_notice(&nt, 56, "\"odd\"@example.org", "hi", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    email_notice(&nt, 57, "ops@-bad-.example", "hi", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    sleep_ms(200);
    smtp_get(&p, &conns, &msgs);
    CHECK_EQ(conns, 0);   /* refused before anything was sent */
    sb_notify_free(n);
    CHECK_EQ(res_count(), 0);
    smtp_stop(&p);
}

TEST(email_smtp_codes)
{
    struct smtp p;
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct sb_notice nt;
    struct res r;
    char url[64];
    int conns, msgs;

    res_reset();
    /* 451 (transient) then 250: retried and delivered. */
    REQUIRE(smtp_start(&p, 451, 250) == 0);
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", p.port);
    c.smtp_url = url;
    c.smtp_from = "alerts@sbems.example";
    n = dispatcher(&c);
    email_notice(&nt, 61, "ops@example.org", "transient", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(61, &r), 5000));
    CHECK(r.ok == 1 && r.tries == 2);
    sb_notify_free(n);
    smtp_stop(&p);
    /* 550 (permanent): one attempt. */
    REQUIRE(smtp_start(&p, 550, 250) == 0);
    snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", p.port);
    n = dispatcher(&c);
    email_notice(&nt, 62, "nobody@example.org", "permanent", NULL);
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(62, &r), 5000));
    CHECK_EQ(r.ok, 0);
    CHECK_EQ(r.tries, 1);
    CHECK_STR(r.detail, "SMTP 550 (final)");
    sleep_ms(300);
    smtp_get(&p, &conns, &msgs);
    CHECK_EQ(conns, 1);
    CHECK_EQ(msgs, 0);
    sb_notify_free(n);
    smtp_stop(&p);
}

/* ---- MQTT: a real broker ------------------------------------------------------------ */

static pid_t broker_pid;
static int broker_port;

static int port_open(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int broker_start(int port)
{
    char conf[400], log[400];
    FILE *f;
    snprintf(conf, sizeof(conf), "%s/mosquitto.conf", root);
    snprintf(log, sizeof(log), "%s/mosquitto.log", root);
    if (!(f = fopen(conf, "w")))
        return -1;
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n", port);
    fprintf(f, "log_dest file %s\n", log);
    if (geteuid() == 0)
        fprintf(f, "user root\n");   /* else it drops to "mosquitto", locked out of root */
    fclose(f);
    char *argv[] = { "/usr/sbin/mosquitto", "-c", conf, NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&broker_pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        broker_pid = 0;
        return -1;
    }
    broker_port = port;
    return WAIT_FOR(port_open(port), 5000) ? 0 : -1;
}

static void broker_stop(void)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        for (int i = 0; i < 500 && waitpid(broker_pid, NULL, WNOHANG) == 0; i++)
            sleep_ms(10);
        kill(broker_pid, SIGKILL);
        waitpid(broker_pid, NULL, WNOHANG);
    }
    broker_pid = 0;
}

/* The test's own subscriber. */
static struct {
    pthread_mutex_t mu;
    int  subscribed, n;
    char topic[256], payload[1024];
    int  qos;
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void sub_on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m, (void)ud;
    pthread_mutex_lock(&S.mu);
    S.n++;
    snprintf(S.topic, sizeof(S.topic), "%s", msg->topic);
    snprintf(S.payload, sizeof(S.payload), "%.*s", msg->payloadlen, (const char *)msg->payload);
    S.qos = msg->qos;
    pthread_mutex_unlock(&S.mu);
}

static void sub_on_subscribe(struct mosquitto *m, void *ud, int mid, int nq, const int *g)
{
    (void)m, (void)ud, (void)mid, (void)nq, (void)g;
    pthread_mutex_lock(&S.mu);
    S.subscribed = 1;
    pthread_mutex_unlock(&S.mu);
}

static int sub_get(int *n, int *subscribed)
{
    pthread_mutex_lock(&S.mu);
    *n = S.n;
    *subscribed = S.subscribed;
    pthread_mutex_unlock(&S.mu);
    return *n;
}

static struct mosquitto *subscriber(int port)
{
    struct mosquitto *m = mosquitto_new(NULL, true, NULL);
    pthread_mutex_lock(&S.mu);
    S.n = S.subscribed = 0;
    pthread_mutex_unlock(&S.mu);
    if (!m)
        return NULL;
    mosquitto_message_callback_set(m, sub_on_message);
    mosquitto_subscribe_callback_set(m, sub_on_subscribe);
    if (mosquitto_connect(m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS ||
        mosquitto_subscribe(m, NULL, "test/alerts/#", 1) != MOSQ_ERR_SUCCESS ||
        mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(m);
        return NULL;
    }
    int n, sub;
    if (!WAIT_FOR((sub_get(&n, &sub), sub), 3000)) {
        mosquitto_disconnect(m);
        mosquitto_loop_stop(m, false);
        mosquitto_destroy(m);
        return NULL;
    }
    return m;
}

static void subscriber_free(struct mosquitto *m)
{
    if (!m)
        return;
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
}

static void mqtt_notice(struct sb_notice *nt, int64_t id, const char *building, const char *body)
{
    memset(nt, 0, sizeof(*nt));
    snprintf(nt->channel, sizeof(nt->channel), "mqtt");
    snprintf(nt->building, sizeof(nt->building), "%s", building);
    snprintf(nt->severity, sizeof(nt->severity), "major");
    nt->alert_id = id;
    nt->body_json = strdup(body);
}

TEST(mqtt_publish)
{
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct mosquitto *sub;
    struct sb_notice nt;
    struct sb_notify_stats st;
    struct res r;
    int cnt, s;
    const char *body = "{\"alert\":71,\"severity\":\"major\"}";

    res_reset();
    REQUIRE(broker_start(free_port()) == 0);
    sub = subscriber(broker_port);
    REQUIRE(sub);
    c.mqtt_host = "127.0.0.1";
    c.mqtt_port = broker_port;
    c.mqtt_topic_prefix = "test/alerts";
    n = dispatcher(&c);
    REQUIRE(n);
    mqtt_notice(&nt, 71, "hq", body);
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    CHECK(WAIT_FOR(res_get(71, &r), 5000));
    CHECK_EQ(r.ok, 1);
    CHECK_STR(r.detail, "PUBACK test/alerts/hq/major");
    CHECK(WAIT_FOR(sub_get(&cnt, &s) == 1, 3000));
    pthread_mutex_lock(&S.mu);
    CHECK_STR(S.topic, "test/alerts/hq/major");
    CHECK_STR(S.payload, body);
    CHECK_EQ(S.qos, 1);
    pthread_mutex_unlock(&S.mu);
    /* A topic level that would escape the building is refused. */
    mqtt_notice(&nt, 72, "hq/+", body);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    mqtt_notice(&nt, 73, "#", body);
    CHECK_EQ(sb_notify_submit(n, &nt), SB_EINVAL);
    sb_notify_stats(n, &st);
    CHECK_EQ(st.mqtt_connected, 1);
    CHECK_EQ(st.delivered, 1);
    sb_notify_free(n);
    subscriber_free(sub);
    broker_stop();
}

/* The dispatcher starts before the broker (libmosquitto's own loop thread
 * would give up here); the notice is retried until it is connected. */
TEST(mqtt_broker_late)
{
    struct sb_notify_cfg c = base_cfg();
    struct sb_notify *n;
    struct mosquitto *sub;
    struct sb_notice nt;
    struct res r;
    int cnt, s, port = free_port();

    res_reset();
    c.mqtt_host = "127.0.0.1";
    c.mqtt_port = port;
    c.mqtt_topic_prefix = "test/alerts";
    c.max_tries = 20;
    c.backoff_first_ms = 200;
    c.backoff_max_ms = 400;
    n = dispatcher(&c);
    REQUIRE(n);
    mqtt_notice(&nt, 81, "annex", "{\"late\":true}");
    CHECK_EQ(sb_notify_submit(n, &nt), 0);
    sleep_ms(700);
    CHECK(!res_get(81, &r));   /* not connected: held, retrying */
    REQUIRE(broker_start(port) == 0);
    sub = subscriber(port);
    CHECK(sub != NULL);
    CHECK(WAIT_FOR(res_get(81, &r), 8000));
    CHECK_EQ(r.ok, 1);
    CHECK_INT(r.tries, >, 1);
    CHECK(WAIT_FOR(sub_get(&cnt, &s) >= 1, 3000));
    pthread_mutex_lock(&S.mu);
    CHECK_STR(S.topic, "test/alerts/annex/major");
    pthread_mutex_unlock(&S.mu);
    sb_notify_free(n);
    subscriber_free(sub);
    broker_stop();
}

/* ---- the log never shows secrets or webhook URLs ------------------------------------ */

TEST(log_has_no_secrets)
{
    char buf[1 << 16];
    FILE *f = fopen(logpath, "r");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    CHECK_INT(n, >, 0);
    CHECK(strstr(buf, "whsec-") == NULL);
    CHECK(strstr(buf, "tok-in-url") == NULL);
    CHECK(strstr(buf, "failed after") != NULL);   /* the log did get the failures */
}

int main(void)
{
    struct sb_log_settings ls = { .level = SB_LOG_DEBUG, .format = SB_LOG_FMT_TEXT,
                                  .timestamps = true, .rate_limit = 0, .rate_window_ms = 1000 };
    char err[128];
    int have_broker = access("/usr/sbin/mosquitto", X_OK) == 0;

    TAP_START();
    signal(SIGPIPE, SIG_IGN);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    if (sodium_init() < 0 || !(root = mkdtemp(tmpl)))
        return 1;
    snprintf(logpath, sizeof(logpath), "%s/notify.log", root);
    sb_log_configure(&ls, err, sizeof(err));
    sb_log_open(logpath);
    mosquitto_lib_init();

    RUN(hmac_reference);
    RUN(sign_matches_reference);
    RUN(config_errors);
    RUN(submit_checks);
    RUN(webhook_signed);
    RUN(webhook_retry_after_500);
    RUN(webhook_no_retry_on_400);
    RUN(webhook_retries_408_429_503);
    RUN(webhook_gives_up);
    RUN(webhook_connection_refused_retried);
    RUN(webhook_hanging_target_does_not_delay_others);
    RUN(queue_full_drops);
    RUN(shutdown_reports_pending);
    RUN(email_build_fixed);
    RUN(email_build_property);
    RUN(email_attachment);
    RUN(email_delivered);
    RUN(email_refuses_header_injection);
    RUN(email_smtp_codes);
    if (have_broker) {
        RUN(mqtt_publish);
        RUN(mqtt_broker_late);
    } else {
        printf("# /usr/sbin/mosquitto not installed: MQTT tests skipped\n");
    }
    RUN(log_has_no_secrets);

    broker_stop();
    sb_log_open(NULL);
    mosquitto_lib_cleanup();
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (!getenv("SB_TEST_KEEP") && system(cmd) != 0)
        printf("# could not remove %s\n", root);
    TAP_END();
}

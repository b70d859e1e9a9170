/*
 * notify.h - alert notifications: signed webhooks, e-mail over SMTP, MQTT.
 *
 * A dispatcher owns a bounded queue of notices ordered by due time and a
 * few worker threads that deliver them.  sb_notify_submit() never blocks
 * (a full queue answers SB_EAGAIN, counted and logged); a worker takes the
 * earliest due notice, makes one attempt, and either reports the final
 * result through the result callback or puts the notice back with an
 * exponential back-off (first, doubling, capped, jitter in [0.5, 1]).  A
 * target that hangs holds one worker for at most the attempt timeout, so
 * with N workers it cannot delay the others (see docs/internals/alerts-notify.md).
 *
 * Channels:
 *   webhook  HTTP(S) POST of the JSON body, signed:
 *              X-Sbems-Timestamp: <unix seconds>
 *              X-Sbems-Signature: sha256=<hex HMAC-SHA256(secret, "<ts>.<body>")>
 *              X-Sbems-Delivery:  <32 hex, the same on every retry of a notice>
 *            2xx delivered; 408, 429, 5xx and transport errors retried;
 *            other statuses (3xx: redirects are never followed; 4xx) final.
 *   email    SMTP through libcurl to cfg.smtp_url, an RFC 5322 message
 *            (text/plain, quoted-printable; RFC 2047 subject when not ASCII).
 *            SMTP 5yz is final, 4yz and transport errors retried (RFC 5321 4.2.1).
 *   mqtt     QoS 1 PUBLISH of the JSON body to <prefix>/<building>/<severity>
 *            on the dispatcher's own libmosquitto connection; delivered on
 *            PUBACK; retried while disconnected (at-least-once: a receiver
 *            may see a duplicate after a reconnect).
 *
 * Threads: the result callback runs on a worker thread (or, for notices
 * still queued, on the thread calling sb_notify_free), never under a lock
 * of the dispatcher, so it may call sb_notify_submit().  It must not call
 * sb_notify_free().
 *
 * Ownership: the dispatcher copies cfg's strings; sb_notify_submit() copies
 * the notice and takes its body_json / body_text / attach buffers in every
 * case (also when it refuses the notice), setting those pointers to NULL.
 * An e-mail with an attachment is multipart/mixed (RFC 2046 5.1.3): the
 * text, then the file in base64 (RFC 2045 6.8).
 * Secrets are wiped (sodium_memzero) before the memory is released and are
 * never logged.  Webhook URLs are not restricted to public addresses: the
 * API that stores subscriptions decides which targets users may set.
 */
#ifndef SB_ALERTS_NOTIFY_H
#define SB_ALERTS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits (also the sizes of the notice's fixed fields, NUL included). */
#define SB_NOTIFY_TARGET_MAX   512         /* URL or e-mail address */
#define SB_NOTIFY_SECRET_MAX   65          /* webhook HMAC key, 1..64 bytes */
#define SB_NOTIFY_BODY_MAX     (256 * 1024) /* body_json / body_text bytes */
#define SB_NOTIFY_ATTACH_MAX   (8 * 1024 * 1024) /* e-mail attachment bytes */
#define SB_NOTIFY_DETAIL_MAX   256         /* result detail, NUL included */

/* Dispatcher settings; 0 / NULL selects the default shown. */
struct sb_notify_cfg {
    const char *smtp_url;          /* "smtp://127.0.0.1:2525"; NULL = no e-mail */
    const char *smtp_from;         /* From and envelope sender; needed with smtp_url */
    int         smtp_require_tls;  /* 1: STARTTLS required (CURLUSESSL_ALL) */
    const char *mqtt_host;         /* broker host; NULL = no MQTT */
    int         mqtt_port;         /* 1883 */
    const char *mqtt_topic_prefix; /* "sbems/alerts" */
    const char *mqtt_client_id;    /* "sbems-notify-<pid>" */
    int         max_tries;         /* 8, range 1..20: attempts per notice */
    int64_t     backoff_first_ms;  /* 1000: delay before the 2nd attempt */
    int64_t     backoff_max_ms;    /* 300000: cap of the doubling delay */
    int64_t     timeout_ms;        /* 10000, range 100..120000: one attempt */
    size_t      queue_max;         /* 1024: notices held (queued + in flight) */
    int         threads;           /* 4, range 1..64: worker threads */
};

/* One notification to one target.  Fill every string NUL-terminated. */
struct sb_notice {
    char    channel[8];                     /* "webhook", "email" or "mqtt" */
    char    target[SB_NOTIFY_TARGET_MAX];   /* http(s) URL / address / ignored for mqtt */
    char    secret[SB_NOTIFY_SECRET_MAX];   /* webhook: HMAC key (required) */
    char    building[65];                   /* building slug (MQTT topic level) */
    char    severity[16];                   /* "critical".."info" (MQTT topic level) */
    int64_t alert_id;                       /* app_alerts.id, echoed to the callback */
    int64_t sub_id;                         /* app_alert_subs.id, echoed (opaque) */
    char    subject[200];                   /* e-mail Subject; no control characters */
    char   *body_json;                      /* malloc'd JSON (webhook/mqtt body); taken */
    char   *body_text;                      /* malloc'd e-mail text, NULL = body_json; taken */
    unsigned char *attach;                  /* e-mail: malloc'd file to attach, NULL = none; taken */
    size_t  attach_len;                     /* its bytes, at most SB_NOTIFY_ATTACH_MAX */
    char    attach_name[128];               /* its file name: [A-Za-z0-9._-] only */
    char    attach_type[80];                /* its media type ("text/csv") */
};

/* Final result of one notice: ok 1 = delivered, 0 = given up; tries =
 * attempts made; detail e.g. "HTTP 204", "HTTP 400 (final)", "timeout",
 * "shutdown".  nt (and detail) are valid only during the call. */
typedef void (*sb_notify_result_cb)(void *ud, const struct sb_notice *nt, int ok, int tries,
                                    const char *detail);

/* Counters since sb_notify_new (a consistent snapshot). */
struct sb_notify_stats {
    uint64_t submitted;   /* notices accepted by sb_notify_submit */
    uint64_t delivered;   /* reported ok */
    uint64_t retried;     /* attempts that failed and were rescheduled */
    uint64_t failed;      /* reported failed (final error, tries used up, shutdown) */
    uint64_t dropped;     /* refused because the queue was full */
    uint64_t held;        /* notices held now (queued + in flight) */
    int      mqtt_connected; /* 1 while the MQTT connection is up */
};

struct sb_notify;

/* Validates cfg, starts the workers (and the MQTT connection, which comes
 * up in the background).  Returns 0 and *out (free with sb_notify_free),
 * SB_ECONFIG with the reason in err, SB_ENOMEM or SB_EIO. */
int sb_notify_new(const struct sb_notify_cfg *cfg, sb_notify_result_cb cb, void *ud,
                  struct sb_notify **out, char *err, size_t errlen);

/* Queues nt for delivery now; never blocks.  Takes nt->body_json and
 * nt->body_text in every case (sets them to NULL).  Returns 0, SB_EAGAIN
 * (queue full: dropped and counted), SB_EINVAL (bad field: unknown channel,
 * not an http(s) URL, bad address, CR/LF or other control characters in
 * the subject, missing secret, unterminated string, body too large),
 * SB_ENOTSUP (channel not configured), SB_ECLOSED (shutting down) or
 * SB_ENOMEM. */
int sb_notify_submit(struct sb_notify *n, struct sb_notice *nt);

void sb_notify_stats(struct sb_notify *n, struct sb_notify_stats *st);

/* Stops the workers (an attempt in progress is aborted within about a
 * second), reports every notice not yet delivered as failed ("shutdown"),
 * closes the MQTT connection and frees n.  NULL is a no-op. */
void sb_notify_free(struct sb_notify *n);

/* The webhook signature: writes "sha256=<64 hex>" (72 bytes with the NUL)
 * for HMAC-SHA256 keyed with secret over "<ts>.<body>".  Returns 0 or
 * SB_ENOSPC.  Exposed for receivers written in C and for tests. */
/* Whether a is one mailbox the e-mail sender accepts (RFC 5321 dot-atom local
 * part, host-name domain; nothing that could end a header or add an address). */
bool sb_notify_addr_ok(const char *a);

int sb_notify_sign(const char *secret, int64_t ts, const char *body, size_t len,
                   char *out, size_t outlen);

/* Internal, exposed for tests: builds the RFC 5322 message for an e-mail
 * notice (malloc'd, CRLF lines, NUL-terminated; *len its length).  Returns
 * it, or NULL (bad field or no memory). */
char *sb_notify__email_build(const char *from, const struct sb_notice *nt, int64_t now_s,
                             size_t *len);

#endif /* SB_ALERTS_NOTIFY_H */

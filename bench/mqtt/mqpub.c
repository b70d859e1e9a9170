/*
 * mqpub.c - the MQTT benchmark's publisher: N messages to a local broker,
 * as fast as possible or at a fixed rate, each payload stamped with its
 * send time.
 *
 *   mqpub -p PORT -n N [-H 127.0.0.1] [-q 0|1] [-t bench/p/] [-T 1000]
 *         [-r RATE] [-i INFLIGHT] [-c CLIENT_ID] [-w TIMEOUT_S]
 *         [-L SENDLOG [-S EVERY]] [-N]
 *
 * Message k (0-based) goes to topic "<prefix><k % T + 1>", so a site whose
 * point i is bound to "bench/p/<i>" gets the messages round-robin.  The
 * payload is one number, the wall clock (CLOCK_REALTIME) in milliseconds
 * with a microsecond fraction ("1795773600123.456"): a subscriber, or the
 * value read back from sbems, gives the end-to-end latency as its own clock
 * minus the value (same machine, same clock).  The plain-number format is
 * the MQTT driver's `number` format (docs/internals/mqtt.md).
 *
 * One thread, libmosquitto in its non-threaded mode: mosquitto_publish()
 * writes each packet to the socket at once (lib/packet_mosq.c
 * packet__queue), and mosquitto_loop() is turned every 64 messages to read
 * PUBACKs and flush what a full socket buffer held back.  QoS 1: at most
 * INFLIGHT (default 1000) unacknowledged messages (MOSQ_OPT_SEND_MAXIMUM);
 * the rest wait in libmosquitto's queue.  -r RATE paces message k to
 * start + k / RATE (0 = full speed).  -L writes "k t_send_us" for every
 * EVERY-th message (default 100) to SENDLOG, after the run (kept in memory
 * meanwhile), for watch.py's latency.  -N sets TCP_NODELAY: without it a
 * paced publisher's small writes wait for the broker's delayed ACK (40 ms
 * on Linux) now and then - measured: ~1,000 messages 40 ms late at the
 * start of each paced phase - which would be charged to the consumer.
 *
 * Output: one JSON line on stdout when every message is written (QoS 0) or
 * acknowledged (QoS 1): {"sent":N,"acked":A,"t_start_us":..,"t_end_us":..,
 * "rate":messages/s}.  Exit 0 when all were sent (and acknowledged), 1 when
 * the -w timeout (default 120 s) ended the run first, 2 on a usage error.
 *
 * Build: gcc -O2 -std=c17 -D_GNU_SOURCE mqpub.c $(pkg-config --cflags --libs libmosquitto)
 */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct pub {
    int connected;              /* CONNACK 0 seen */
    int conn_rc;                /* CONNACK code, -1 before */
    long acked;                 /* on_publish calls (QoS 1: PUBACKs) */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    struct pub *p = ud;
    (void)m;
    p->conn_rc = rc;
    p->connected = rc == 0;
}

static void on_publish(struct mosquitto *m, void *ud, int mid)
{
    struct pub *p = ud;
    (void)m;
    (void)mid;
    p->acked++;
}

static void usage(void)
{
    fprintf(stderr, "usage: mqpub -p PORT -n N [-H host] [-q 0|1] [-t prefix] [-T topics] "
                    "[-r rate] [-i inflight] [-c client_id] [-w timeout_s] "
                    "[-L sendlog [-S every]] [-N]\n");
    exit(2);
}

static long num(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        usage();
    return v;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *prefix = "bench/p/", *id = NULL, *logpath = NULL;
    long port = 0, n = 0, qos = 0, ntopics = 1000, rate = 0, inflight = 1000, wait_s = 120;
    long every = 100;
    int64_t *sendt = NULL;
    int c, rc = 1, nodelay = 0;

    while ((c = getopt(argc, argv, "H:p:n:q:t:T:r:i:c:w:L:S:N")) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': port = num(optarg, 1, 65535); break;
        case 'n': n = num(optarg, 1, 100000000); break;
        case 'q': qos = num(optarg, 0, 1); break;
        case 't': prefix = optarg; break;
        case 'T': ntopics = num(optarg, 1, 1000000); break;
        case 'r': rate = num(optarg, 0, 100000000); break;
        case 'i': inflight = num(optarg, 1, 65535); break;
        case 'c': id = optarg; break;
        case 'w': wait_s = num(optarg, 1, 3600); break;
        case 'L': logpath = optarg; break;
        case 'S': every = num(optarg, 1, 100000000); break;
        case 'N': nodelay = 1; break;
        default: usage();
        }
    }
    if (!port || !n || optind != argc)
        usage();
    if (logpath && !(sendt = calloc((size_t)(n / every + 1), sizeof(*sendt)))) {
        perror("mqpub");
        return 1;
    }

    struct pub p = { .conn_rc = -1 };
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(id, true, &p);
    if (!m) {
        perror("mqpub: mosquitto_new");
        return 1;
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, (int)inflight);
    if (nodelay)
        mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    int64_t deadline = mono_us() + wait_s * 1000000;
    if (mosquitto_connect(m, host, (int)port, 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqpub: cannot connect to %s:%ld\n", host, port);
        goto out;
    }
    while (!p.connected && p.conn_rc <= 0 && mono_us() < deadline)
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
            break;
    if (!p.connected) {
        fprintf(stderr, "mqpub: no CONNACK (rc %d)\n", p.conn_rc);
        goto out;
    }

    char topic[256], payload[64];
    size_t plen = strlen(prefix);
    if (plen > sizeof(topic) - 24) {
        fprintf(stderr, "mqpub: prefix too long\n");
        goto out;
    }
    memcpy(topic, prefix, plen);
    int64_t t0 = now_us(), m0 = mono_us();
    long sent = 0;
    int timed_out = 0;
    for (long k = 0; k < n; k++) {
        if (rate) {
            int64_t due = m0 + (int64_t)((double)k * 1e6 / (double)rate);
            int64_t d = due - mono_us();
            if (d > 200) {      /* below that, sleeping overshoots more than it saves */
                struct timespec ts = { d / 1000000, (d % 1000000) * 1000 };
                nanosleep(&ts, NULL);
            }
        }
        snprintf(topic + plen, sizeof(topic) - plen, "%ld", k % ntopics + 1);
        int64_t t = now_us();
        if (sendt && k % every == 0)
            sendt[k / every] = t;
        int len = snprintf(payload, sizeof(payload), "%lld.%03lld", (long long)(t / 1000),
                           (long long)(t % 1000));
        int prc = mosquitto_publish(m, NULL, topic, len, payload, (int)qos, false);
        if (prc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqpub: publish %ld: %s\n", k, mosquitto_strerror(prc));
            goto out;
        }
        sent++;
        if ((k & 63) == 63 && mosquitto_loop(m, 0, 1) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqpub: connection lost after %ld messages\n", sent);
            goto out;
        }
        if ((k & 4095) == 4095 && mono_us() > deadline) {
            timed_out = 1;
            break;
        }
    }
    /* Flush what the socket held back; QoS 1: wait for every PUBACK. */
    while (!timed_out && (mosquitto_want_write(m) || (qos && p.acked < sent))) {
        if (mosquitto_loop(m, 10, 1) != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqpub: connection lost while flushing\n");
            goto out;
        }
        if (mono_us() > deadline)
            timed_out = 1;
    }
    int64_t t1 = now_us();
    double secs = (double)(t1 - t0) / 1e6;
    printf("{\"sent\":%ld,\"acked\":%ld,\"qos\":%ld,\"t_start_us\":%lld,\"t_end_us\":%lld,"
           "\"rate\":%.0f,\"timed_out\":%s}\n", sent, qos ? p.acked : sent, qos, (long long)t0,
           (long long)t1, secs > 0 ? (double)sent / secs : 0.0, timed_out ? "true" : "false");
    fflush(stdout);
    mosquitto_disconnect(m);
    mosquitto_loop(m, 100, 1);
    rc = timed_out ? 1 : 0;
    if (logpath) {
        FILE *f = fopen(logpath, "w");
        for (long k = 0; f && k < sent; k += every)
            fprintf(f, "%ld %lld\n", k, (long long)sendt[k / every]);
        if (!f || fclose(f)) {
            perror(logpath);
            rc = 1;
        }
    }
out:
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(sendt);
    return rc;
}

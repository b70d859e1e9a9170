/*
 * mqsub.c - the MQTT benchmark's anchor consumer: a libmosquitto subscriber
 * of the mosquitto_sub class that counts the publisher's messages (mqpub.c)
 * instead of printing them, and times each one.
 *
 *   mqsub -p PORT -n N [-H 127.0.0.1] [-q 0|1] [-t 'bench/p/#']
 *         [-c CLIENT_ID] [-R READY_FILE] [-I IDLE_S] [-w TIMEOUT_S]
 *
 * It connects (clean session), subscribes at QoS -q, writes READY_FILE once
 * the SUBACK is in (the runner starts the publisher then), and reads until
 * N messages arrived, or IDLE_S seconds (default 5) passed without one after
 * the first, or TIMEOUT_S (default 120) in all.  One thread, libmosquitto in
 * non-threaded mode: a QoS 1 PUBACK is written before on_message runs, as
 * mosquitto_sub does.
 *
 * Latency: each payload is the publisher's wall clock in ms with a
 * microsecond fraction; on arrival now - payload is kept (ms), and the
 * percentiles are exact (nearest rank over the sorted values).
 *
 * Output: one JSON line: {"received":R,"t_first_us","t_10_us","t_90_us",
 * "t_last_us" (wall clock of the first, the 10 %-of-N-th, 90 %-th and last
 * message), "lat_ms":{"p50","p99","max"},"bad":payloads that were not a
 * number}.  Exit 0 when N arrived, 1 otherwise, 2 on a usage error.
 *
 * Build: gcc -O2 -std=c17 -D_GNU_SOURCE mqsub.c $(pkg-config --cflags --libs libmosquitto)
 */
#include <errno.h>
#include <getopt.h>
#include <mosquitto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sub {
    long n, received, bad;
    int subscribed, conn_rc;
    int64_t t_first, t_10, t_90, t_last;
    float *lat;                 /* ms, one per message (n of them) */
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
    struct sub *s = ud;
    (void)m;
    s->conn_rc = rc;
}

static void on_subscribe(struct mosquitto *m, void *ud, int mid, int n, const int *granted)
{
    struct sub *s = ud;
    (void)m;
    (void)mid;
    s->subscribed = n > 0 && granted[0] != 0x80 ? 1 : -1;
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    struct sub *s = ud;
    int64_t t = now_us();
    char buf[64], *end;
    (void)m;
    if (!s->received)
        s->t_first = t;
    s->t_last = t;
    if (msg->payloadlen > 0 && msg->payloadlen < (int)sizeof(buf)) {
        memcpy(buf, msg->payload, (size_t)msg->payloadlen);
        buf[msg->payloadlen] = 0;
        double v = strtod(buf, &end);
        if (end != buf && !*end && s->received < s->n)
            s->lat[s->received] = (float)((double)t / 1000.0 - v);
        else
            s->bad++;
    } else {
        s->bad++;
    }
    s->received++;
    if (s->received == s->n / 10)
        s->t_10 = t;
    if (s->received == s->n - s->n / 10)
        s->t_90 = t;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: mqsub -p PORT -n N [-H host] [-q 0|1] [-t filter] [-c client_id] "
                    "[-R ready_file] [-I idle_s] [-w timeout_s]\n");
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
    const char *host = "127.0.0.1", *filter = "bench/p/#", *id = NULL, *ready = NULL;
    long port = 0, n = 0, qos = 0, idle_s = 5, wait_s = 120;
    int c, rc = 1;

    while ((c = getopt(argc, argv, "H:p:n:q:t:c:R:I:w:")) != -1) {
        switch (c) {
        case 'H': host = optarg; break;
        case 'p': port = num(optarg, 1, 65535); break;
        case 'n': n = num(optarg, 1, 100000000); break;
        case 'q': qos = num(optarg, 0, 1); break;
        case 't': filter = optarg; break;
        case 'c': id = optarg; break;
        case 'R': ready = optarg; break;
        case 'I': idle_s = num(optarg, 1, 3600); break;
        case 'w': wait_s = num(optarg, 1, 3600); break;
        default: usage();
        }
    }
    if (!port || !n || optind != argc)
        usage();

    struct sub s = { .n = n, .conn_rc = -1, .lat = calloc((size_t)n, sizeof(float)) };
    if (!s.lat) {
        perror("mqsub");
        return 1;
    }
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new(id, true, &s);
    if (!m) {
        perror("mqsub: mosquitto_new");
        free(s.lat);
        return 1;
    }
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_message_callback_set(m, on_message);
    int64_t deadline = mono_us() + wait_s * 1000000, last = 0;
    if (mosquitto_connect(m, host, (int)port, 60) != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "mqsub: cannot connect to %s:%ld\n", host, port);
        goto out;
    }
    while (s.conn_rc < 0 && mono_us() < deadline)
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
            break;
    if (s.conn_rc != 0) {
        fprintf(stderr, "mqsub: no CONNACK (rc %d)\n", s.conn_rc);
        goto out;
    }
    mosquitto_subscribe(m, NULL, filter, (int)qos);
    while (!s.subscribed && mono_us() < deadline)
        if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
            break;
    if (s.subscribed != 1) {
        fprintf(stderr, "mqsub: subscription to %s failed\n", filter);
        goto out;
    }
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (!f || fclose(f)) {
            perror(ready);
            goto out;
        }
    }
    long seen = 0;
    while (s.received < n) {
        int lrc = mosquitto_loop(m, 100, 1);
        if (lrc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "mqsub: %s\n", mosquitto_strerror(lrc));
            break;
        }
        int64_t t = mono_us();
        if (s.received != seen) {
            seen = s.received;
            last = t;
        }
        if (t > deadline || (seen && t - last > idle_s * 1000000))
            break;
    }
    long k = s.received < n ? s.received : n;
    qsort(s.lat, (size_t)k, sizeof(float), cmp_float);
    double p50 = k ? s.lat[(k * 50 + 99) / 100 - 1] : 0, p99 = k ? s.lat[(k * 99 + 99) / 100 - 1] : 0,
           mx = k ? s.lat[k - 1] : 0;
    printf("{\"received\":%ld,\"bad\":%ld,\"t_first_us\":%lld,\"t_10_us\":%lld,\"t_90_us\":%lld,"
           "\"t_last_us\":%lld,\"lat_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f}}\n",
           s.received, s.bad, (long long)s.t_first, (long long)s.t_10, (long long)s.t_90,
           (long long)s.t_last, p50, p99, mx);
    fflush(stdout);
    mosquitto_disconnect(m);
    rc = s.received >= n ? 0 : 1;
out:
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(s.lat);
    return rc;
}

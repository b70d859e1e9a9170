/*
 * mbsim.c - N simulated Modbus TCP devices in one process, on loopback, for
 * the driver benchmark (bench/modbus/run).
 *
 *   mbsim --base PORT --devices N --stats FILE [--regs R] [--ready FILE]
 *
 * Device i listens on 127.0.0.1:(PORT + i) and has its own libmodbus
 * context and its own mapping: R holding and R input registers (default 100
 * each) holding float32 values, high word first ("ABCD", what sbems reads by
 * default):
 *
 *     register pair k (addresses 2k, 2k+1) = (i + 1) * 100 + k + (s % 10) / 10
 *
 * where s counts whole seconds since start, so the integer part says which
 * device and which pair answered and the fraction changes every second.
 * One epoll loop serves every listening and client socket with
 * modbus_receive / modbus_reply, as libmodbus's
 * tests/bandwidth-server-many-up.c does for one device (select there).
 *
 * Signals (through a signalfd, handled in the loop):
 *   SIGUSR2          start a measuring window (zero its counters)
 *   SIGUSR1          write the statistics to FILE (written whole, then renamed)
 *   SIGTERM, SIGINT  write them and exit 0
 * FILE holds key=value lines: requests since start, and for the current
 * window its requests, the devices polled, and the gaps between consecutive
 * requests of the same shape (function, address, quantity) to one device:
 * the poll period, whether a poller reads a device's points together or one
 * by one (mean, p50, p99, max, and how many exceed 1.1 x --interval-ms,
 * default 5000); "shapes" is the number of distinct shapes seen (per device
 * 1 when its points are read in one request).
 *
 * If a port cannot be bound, mbsim exits 3 at once (the runner picks another
 * base); other start-up failures exit 1.  When every device listens it
 * writes "ready" to the --ready file.
 *
 * Ownership: everything is allocated in main and lives until exit.  One
 * thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

#define SHAPES      16          /* request shapes tracked per device */
#define MAX_EVENTS  256

struct dev {
    modbus_t *ctx;
    modbus_mapping_t *map;
    int lfd;
    int64_t upd_s;              /* second the registers were last written for */
    struct shape {              /* one kind of request this device gets */
        uint8_t fc;
        uint16_t addr, qty;
        int64_t last;           /* ms (monotonic) of the latest one */
    } shapes[SHAPES];
    int nshapes;
    uint64_t wreq;              /* requests in the window */
};

struct sim {
    struct dev *devs;
    int n, regs;
    int64_t t0_ms, interval_ms;
    uint64_t requests, accepted, closed, rx_errors, tx_errors, fc3, fc4, fc_other;
    /* window */
    int64_t w0_ms;
    uint64_t w_requests, w_untracked;
    int64_t *gaps;
    size_t ngaps, capgaps;
    const char *stats;
    int nullfd, lowfd;          /* /dev/null; a reserved descriptor < FD_SETSIZE (on_request) */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* IEEE 754 binary32, most significant register first.  Not libmodbus's
 * modbus_set_float_abcd: its byte orders have changed between releases
 * (libmodbus issues #358, #611, #665); with 3.1.6 here it gave values that
 * mbpoll -B and sbems read as garbage.  Shifts say what the wire holds. */
static void put_f32(float f, uint16_t *dest)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    dest[0] = (uint16_t)(u >> 16);
    dest[1] = (uint16_t)(u & 0xffff);
}

static void refresh(struct sim *s, int i, int64_t now_ms)
{
    struct dev *d = &s->devs[i];
    int64_t sec = (now_ms - s->t0_ms) / 1000;
    if (sec == d->upd_s)
        return;
    d->upd_s = sec;
    for (int k = 0; k < s->regs / 2; k++) {
        float v = (float)((i + 1) * 100 + k) + (float)(sec % 10) / 10.0f;
        put_f32(v, d->map->tab_input_registers + 2 * k);
        put_f32(v, d->map->tab_registers + 2 * k);
    }
}

/* The period of a poll: time since the previous request of the same shape
 * (function, start address, quantity) to the same device.  A poller that
 * reads a device's points together sends one shape per poll; one that
 * reads them one by one sends one shape per point: either way each shape
 * recurs once per interval when the schedule is kept. */
static void note_request(struct sim *s, struct dev *d, const uint8_t *q, int len, int64_t now)
{
    struct shape *sh = NULL;
    d->wreq++;
    s->w_requests++;
    if (len < 12)
        return;
    /* PDU after the 7-byte MBAP header: function, address, quantity (Modbus
     * Application Protocol V1.1b3 §6.3, §6.4) */
    uint8_t fc = q[7];
    uint16_t addr = (uint16_t)(q[8] << 8 | q[9]), qty = (uint16_t)(q[10] << 8 | q[11]);
    for (int i = 0; i < d->nshapes && !sh; i++)
        if (d->shapes[i].fc == fc && d->shapes[i].addr == addr && d->shapes[i].qty == qty)
            sh = &d->shapes[i];
    if (!sh) {
        if (d->nshapes == SHAPES) {
            s->w_untracked++;
            return;
        }
        sh = &d->shapes[d->nshapes++];
        *sh = (struct shape){ .fc = fc, .addr = addr, .qty = qty };
    }
    if (sh->last && sh->last >= s->w0_ms) {
        if (s->ngaps == s->capgaps) {
            size_t c = s->capgaps ? 2 * s->capgaps : 4096;
            int64_t *g = realloc(s->gaps, c * sizeof(*g));
            if (!g)
                goto out;
            s->gaps = g;
            s->capgaps = c;
        }
        s->gaps[s->ngaps++] = now - sh->last;
    }
out:
    sh->last = now;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void write_stats(struct sim *s)
{
    char tmp[4096];
    struct rusage ru;
    int64_t now = mono_ms();
    int seen = 0, shapes = 0;
    double mean = 0;
    int64_t p50 = 0, p99 = 0, max = 0, min = 0;
    size_t late = 0;

    for (int i = 0; i < s->n; i++) {
        seen += s->devs[i].wreq > 0;
        shapes += s->devs[i].nshapes;
    }
    if (s->ngaps) {
        qsort(s->gaps, s->ngaps, sizeof(*s->gaps), cmp_i64);
        for (size_t i = 0; i < s->ngaps; i++) {
            mean += (double)s->gaps[i];
            late += s->gaps[i] * 10 > s->interval_ms * 11;
        }
        mean /= (double)s->ngaps;
        /* nearest rank: the smallest gap with at least p % at or below it */
        p50 = s->gaps[(s->ngaps * 50 + 99) / 100 - 1];
        p99 = s->gaps[(s->ngaps * 99 + 99) / 100 - 1];
        min = s->gaps[0];
        max = s->gaps[s->ngaps - 1];
    }
    getrusage(RUSAGE_SELF, &ru);
    snprintf(tmp, sizeof(tmp), "%s.tmp", s->stats);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "mbsim: %s: %s\n", tmp, strerror(errno));
        return;
    }
    fprintf(f, "devices=%d\nrequests=%" PRIu64 "\nfc3=%" PRIu64 "\nfc4=%" PRIu64 "\nfc_other=%" PRIu64
            "\naccepted=%" PRIu64 "\nclosed=%" PRIu64 "\nrx_errors=%" PRIu64 "\ntx_errors=%" PRIu64
            "\nwindow_ms=%" PRId64 "\nwindow_requests=%" PRIu64 "\nwindow_untracked=%" PRIu64
            "\nshapes=%d"
            "\nwindow_devices_polled=%d\ngaps=%zu\ngap_ms_mean=%.1f\ngap_ms_min=%" PRId64
            "\ngap_ms_p50=%" PRId64 "\ngap_ms_p99=%" PRId64 "\ngap_ms_max=%" PRId64
            "\ngaps_late=%zu\ncpu_user_s=%.3f\ncpu_sys_s=%.3f\n",
            s->n, s->requests, s->fc3, s->fc4, s->fc_other, s->accepted, s->closed, s->rx_errors,
            s->tx_errors,
            now - s->w0_ms, s->w_requests, s->w_untracked, shapes, seen, s->ngaps, mean, min, p50, p99, max, late,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6);
    if (fclose(f) != 0 || rename(tmp, s->stats) != 0)
        fprintf(stderr, "mbsim: %s: %s\n", s->stats, strerror(errno));
}

static void window_start(struct sim *s)
{
    s->w0_ms = mono_ms();
    s->w_requests = s->w_untracked = 0;
    s->ngaps = 0;
    for (int i = 0; i < s->n; i++)
        s->devs[i].wreq = 0;
}

/* epoll data: fd in the high half, device index and a listener bit low. */
static uint64_t tag(int fd, int dev, int listener)
{
    return (uint64_t)(uint32_t)fd << 32 | (uint64_t)(uint32_t)dev << 1 | (uint64_t)!!listener;
}

static int add_fd(int ep, int fd, uint64_t t)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = t };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void on_accept(struct sim *s, int ep, int dev)
{
    int one = 1;
    for (;;) {
        int fd = accept4(s->devs[dev].lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                fprintf(stderr, "mbsim: accept on device %d: %s\n", dev, strerror(errno));
            return;
        }
        /* one reply per request: no reason to let Nagle hold it */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (add_fd(ep, fd, tag(fd, dev, 0)) != 0) {
            fprintf(stderr, "mbsim: epoll add: %s\n", strerror(errno));
            close(fd);
            continue;
        }
        s->accepted++;
    }
}

static void on_request(struct sim *s, int fd, int dev)
{
    uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
    struct dev *d = &s->devs[dev];
    int use = fd;

    /* libmodbus 3.1.6 waits for the rest of a frame with select(), which
     * cannot take a descriptor >= FD_SETSIZE (glibc's fortified FD_SET
     * aborts: "bit out of range 0 - FD_SETSIZE on fd_set").  Such a socket
     * is served through a low alias (dup2 onto the reserved descriptor); the
     * epoll registration stays on the original. */
    if (fd >= FD_SETSIZE) {
        if (dup2(fd, s->lowfd) < 0) {
            s->rx_errors++;
            return;
        }
        use = s->lowfd;
    }
    modbus_set_socket(d->ctx, use);
    int rc = modbus_receive(d->ctx, q);
    if (rc > 0) {
        int64_t now = mono_ms();
        refresh(s, dev, now);
        s->requests++;
        /* MBAP header is 7 bytes, then the function code (Modbus Messaging
         * on TCP/IP Implementation Guide V1.0b §3.1.3) */
        if (q[7] == 3)
            s->fc3++;
        else if (q[7] == 4)
            s->fc4++;
        else
            s->fc_other++;
        note_request(s, d, q, rc, now);
        if (modbus_reply(d->ctx, q, rc, d->map) < 0)
            s->tx_errors++;
        return;
    }
    if (rc == 0)
        return;                 /* a request for another unit: ignored */
    /* libmodbus reports the peer's close as ECONNRESET; anything else is a
     * malformed or truncated request */
    if (errno != ECONNRESET)
        s->rx_errors++;
    /* an alias keeps the socket open (and in the epoll set, which holds
     * open file descriptions): point it back at /dev/null first */
    if (use != fd)
        dup2(s->nullfd, s->lowfd);
    close(fd);
    s->closed++;
}

static int usage(void)
{
    fprintf(stderr, "usage: mbsim --base PORT --devices N --stats FILE [--regs R] "
            "[--interval-ms MS] [--ready FILE]\n");
    return 2;
}

static int setup(struct sim *s, int base, int ep)
{
    s->devs = calloc((size_t)s->n, sizeof(*s->devs));
    if (!s->devs)
        return 1;
    for (int i = 0; i < s->n; i++) {
        struct dev *d = &s->devs[i];
        d->upd_s = -1;
        d->ctx = modbus_new_tcp("127.0.0.1", base + i);
        d->map = modbus_mapping_new(0, 0, s->regs, s->regs);
        if (!d->ctx || !d->map) {
            fprintf(stderr, "mbsim: device %d: %s\n", i, modbus_strerror(errno));
            return 1;
        }
        d->lfd = modbus_tcp_listen(d->ctx, 64);
        if (d->lfd < 0) {
            fprintf(stderr, "mbsim: 127.0.0.1:%d: %s\n", base + i, strerror(errno));
            return errno == EADDRINUSE || errno == EACCES ? 3 : 1;
        }
        fcntl(d->lfd, F_SETFL, fcntl(d->lfd, F_GETFL) | O_NONBLOCK);
        fcntl(d->lfd, F_SETFD, FD_CLOEXEC);
        refresh(s, i, s->t0_ms);
        if (add_fd(ep, d->lfd, tag(d->lfd, i, 1)) != 0) {
            fprintf(stderr, "mbsim: epoll add: %s\n", strerror(errno));
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct sim s = { .regs = 100, .interval_ms = 5000 };
    const char *ready = NULL;
    int base = 0, rc = 1;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--base"))
            base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--devices"))
            s.n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--regs"))
            s.regs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--interval-ms"))
            s.interval_ms = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--stats"))
            s.stats = argv[i + 1];
        else if (!strcmp(argv[i], "--ready"))
            ready = argv[i + 1];
        else
            return usage();
    }
    if (argc % 2 == 0 || base < 1 || s.n < 1 || base + s.n > 65536 || !s.stats || s.regs < 2 ||
        s.regs > MODBUS_MAX_READ_REGISTERS * 8 || s.interval_ms < 1)
        return usage();

    /* 2 descriptors per device (listener + sbems' connection), a few spare */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)(2 * s.n + 64)) {
        fprintf(stderr, "mbsim: descriptor limit %lu < %d needed\n", (unsigned long)rl.rlim_cur,
                2 * s.n + 64);
        return 1;
    }

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);   /* a client gone mid-reply: send fails, we close */
    s.nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    s.lowfd = s.nullfd >= 0 ? fcntl(s.nullfd, F_DUPFD_CLOEXEC, 0) : -1;
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (s.lowfd < 0 || sfd < 0 || ep < 0 || add_fd(ep, sfd, UINT64_MAX) != 0) {
        fprintf(stderr, "mbsim: signalfd/epoll: %s\n", strerror(errno));
        return 1;
    }
    s.t0_ms = s.w0_ms = mono_ms();
    if ((rc = setup(&s, base, ep)) != 0)
        return rc;
    if (ready) {
        FILE *f = fopen(ready, "w");
        if (f) {
            fputs("ready\n", f);
            fclose(f);
        }
    }
    fprintf(stderr, "mbsim: %d devices on 127.0.0.1:%d..%d, %d holding + %d input registers each\n",
            s.n, base, base + s.n - 1, s.regs, s.regs);

    struct epoll_event ev[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, ev, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "mbsim: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int k = 0; k < n; k++) {
            uint64_t t = ev[k].data.u64;
            if (t == UINT64_MAX) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
                    continue;
                if (si.ssi_signo == SIGUSR2) {
                    window_start(&s);
                } else {
                    write_stats(&s);
                    if (si.ssi_signo != SIGUSR1)
                        return 0;
                }
                continue;
            }
            int dev = (int)((t & 0xffffffffu) >> 1), fd = (int)(t >> 32);
            if (t & 1)
                on_accept(&s, ep, dev);
            else
                on_request(&s, fd, dev);
        }
    }
}

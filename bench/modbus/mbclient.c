/*
 * mbclient.c - the anchor of the Modbus benchmark: a plain libmodbus client
 * reading the same registers of the same simulated devices as sbems does,
 * with nothing around it (no scheduler, no store, no API).
 *
 *   mbclient --base PORT --devices N --seconds S [--points K] [--period-ms P]
 *
 * It connects once to each of the N devices on 127.0.0.1:PORT.. (one
 * modbus_t each, kept open, as sbems keeps its connections), then reads K
 * float32 input registers (2K registers from address 0, one function-4
 * request) from device 0, 1, ..., N-1, 0, ... for S seconds:
 *   - without --period-ms, back to back as fast as it can: the CPU cost per
 *     read of a bare client (the anchor);
 *   - with --period-ms P, each device once every P ms, the reads spread
 *     evenly over the period (read j at t0 + j * P / N): the same schedule
 *     as sbems, so its CPU % compares directly.
 * Every value is decoded and checked against what mbsim serves (integer part
 * (i + 1) * 100 + k), so the client does all the work a poller must.
 *
 * Output on stdout: key=value lines (reads, errors, mismatches, seconds,
 * cpu_user_s, cpu_sys_s, cpu_us_per_read, reads_per_s, cpu_pct, connect_failures,
 * value_sum: the sum of every value read, so the decoding cannot be optimised away).
 * CPU is getrusage(RUSAGE_SELF) from after the connections to the end.
 * Exit 0 when every read succeeded and matched, 1 otherwise.
 *
 * One thread; everything allocated in main lives until exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(int sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    struct timeval *tv = sys ? &ru.ru_stime : &ru.ru_utime;
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

/* IEEE 754 binary32, most significant register first (mbsim.c put_f32). */
static float get_f32(const uint16_t *src)
{
    uint32_t u = (uint32_t)src[0] << 16 | src[1];
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = { .tv_sec = (time_t)d, .tv_nsec = (long)((d - (double)(time_t)d) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int main(int argc, char **argv)
{
    int base = 0, n = 0, k = 10;
    double secs = 0, period = 0;
    uint16_t regs[MODBUS_MAX_READ_REGISTERS];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--base"))
            base = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--devices"))
            n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            secs = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--points"))
            k = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--period-ms"))
            period = atof(argv[i + 1]) / 1000;
        else
            goto usage;
    }
    if (argc % 2 == 0 || base < 1 || n < 1 || base + n > 65536 || secs <= 0 || k < 1 ||
        2 * k > MODBUS_MAX_READ_REGISTERS || period < 0)
        goto usage;

    modbus_t **ctx = calloc((size_t)n, sizeof(*ctx));
    int *hi = malloc((size_t)n * sizeof(*hi)), lowfd = -1;
    if (!ctx || !hi)
        return 1;
    for (int i = 0; i < n; i++)
        hi[i] = -1;
    unsigned long connfail = 0;
    for (int i = 0; i < n; i++) {
        ctx[i] = modbus_new_tcp("127.0.0.1", base + i);
        if (!ctx[i])
            return 1;
        modbus_set_response_timeout(ctx[i], 1, 0);
        if (modbus_connect(ctx[i]) != 0) {
            fprintf(stderr, "mbclient: 127.0.0.1:%d: %s\n", base + i, modbus_strerror(errno));
            connfail++;
            continue;
        }
        /* libmodbus 3.1.6 waits with select(), which takes descriptors
         * below FD_SETSIZE only (glibc's fortified FD_SET aborts): near the
         * limit, park the socket above it and read through a low alias */
        int fd = modbus_get_socket(ctx[i]);
        if (fd >= FD_SETSIZE - 16) {
            hi[i] = fcntl(fd, F_DUPFD_CLOEXEC, FD_SETSIZE);
            if (hi[i] < 0 || (lowfd < 0 && (lowfd = fcntl(fd, F_DUPFD_CLOEXEC, 0)) < 0)) {
                fprintf(stderr, "mbclient: fcntl: %s\n", strerror(errno));
                return 1;
            }
            close(fd);
        }
    }

    unsigned long reads = 0, errors = 0, mismatches = 0;
    volatile double sink = 0;
    double u0 = cpu_s(0), s0 = cpu_s(1), t0 = now_s(), t = t0;
    for (unsigned long j = 0; t - t0 < secs; j++) {
        int i = (int)(j % (unsigned long)n);
        if (period > 0)
            sleep_until(t0 + (double)j * period / n);
        if (hi[i] >= 0) {
            if (dup2(hi[i], lowfd) < 0)
                return 1;
            modbus_set_socket(ctx[i], lowfd);
        }
        if (modbus_read_input_registers(ctx[i], 0, 2 * k, regs) != 2 * k) {
            errors++;
        } else {
            for (int p = 0; p < k; p++) {
                float v = get_f32(regs + 2 * p);
                mismatches += floorf(v) != (float)((i + 1) * 100 + p);
                sink += v;
            }
        }
        reads++;
        t = now_s();
    }
    double el = t - t0, cu = cpu_s(0) - u0, cs = cpu_s(1) - s0;
    printf("reads=%lu\nerrors=%lu\nmismatches=%lu\nconnect_failures=%lu\nseconds=%.3f\n"
           "cpu_user_s=%.3f\ncpu_sys_s=%.3f\ncpu_us_per_read=%.3f\nreads_per_s=%.1f\ncpu_pct=%.2f\n"
           "value_sum=%.6g\n",
           reads, errors, mismatches, connfail, el, cu, cs,
           reads ? (cu + cs) * 1e6 / (double)reads : 0.0, el > 0 ? (double)reads / el : 0.0,
           el > 0 ? 100 * (cu + cs) / el : 0.0, (double)sink);
    for (int i = 0; i < n; i++) {
        if (hi[i] >= 0)
            close(hi[i]);
        else
            modbus_close(ctx[i]);
        modbus_free(ctx[i]);
    }
    free(ctx);
    free(hi);
    return errors || mismatches || connfail ? 1 : 0;
usage:
    fprintf(stderr, "usage: mbclient --base PORT --devices N --seconds S [--points K] "
            "[--period-ms P]\n");
    return 2;
}

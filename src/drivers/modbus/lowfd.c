/*
 * lowfd.c - reserved low descriptors for libmodbus and a select-free TCP
 * connect (see lowfd.h and docs/internals/modbus.md, "Descriptors").
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "drivers/modbus/lowfd.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ pool */

static int pool_sync_init(struct sb_modbus_lowfd *p)
{
    pthread_condattr_t ca;
    int rc;

    if (pthread_condattr_init(&ca) != 0)
        return SB_ENOMEM;
    /* Deadlines are CLOCK_MONOTONIC: a wall-clock step must not stretch a wait. */
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&p->cv, &ca) == 0 ? 0 : SB_ENOMEM;
    pthread_condattr_destroy(&ca);
    if (rc == 0)
        pthread_mutex_init(&p->mu, NULL);
    return rc;
}

int sb_modbus_lowfd_init(struct sb_modbus_lowfd *p, size_t n, char *err, size_t errlen)
{
    int rc = 0;

    memset(p, 0, sizeof(*p));
    p->devnull = -1;
    if (!(p->slots = malloc(n * sizeof(int))) || !(p->free = malloc(n * sizeof(int))) ||
        pool_sync_init(p) != 0) {
        free(p->slots);
        free(p->free);
        p->slots = p->free = NULL;
        return SB_ENOMEM;
    }
    if ((p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        sb_errf(err, errlen, "modbus: cannot open /dev/null: %s", strerror(errno));
        rc = SB_EIO;
        goto out;
    }
    /* F_DUPFD_CLOEXEC gives the lowest free number: at init, when the
     * daemon has few files open, these are all far below FD_SETSIZE. */
    for (; p->n < n; p->n++) {
        int fd = fcntl(p->devnull, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            sb_errf(err, errlen, "modbus: cannot reserve descriptor %zu of %zu: %s", p->n + 1,
                    n, strerror(errno));
            rc = SB_EIO;
            goto out;
        }
        p->slots[p->n] = p->free[p->n] = fd;
        if (fd >= FD_SETSIZE) {
            p->n++;
            sb_errf(err, errlen, "modbus: no descriptor below %d (FD_SETSIZE) left for "
                    "libmodbus' select() (lowest free: %d); start the driver before opening "
                    "many files", FD_SETSIZE, fd);
            rc = SB_ERANGE;
            goto out;
        }
    }
    p->nfree = p->n;
out:
    if (rc)
        sb_modbus_lowfd_release(p);
    return rc;
}

void sb_modbus_lowfd_release(struct sb_modbus_lowfd *p)
{
    if (!p->slots)
        return;
    for (size_t i = 0; i < p->n; i++)
        close(p->slots[i]);
    if (p->devnull >= 0)
        close(p->devnull);
    free(p->slots);
    free(p->free);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    memset(p, 0, sizeof(*p));
    p->devnull = -1;
}

/* Take an idle slot, waiting until deadline_ms; -1 if none came in time. */
static int take(struct sb_modbus_lowfd *p, int64_t deadline_ms)
{
    struct timespec ts = { .tv_sec = deadline_ms / 1000,
                           .tv_nsec = (long)(deadline_ms % 1000) * 1000000 };
    int slot = -1;

    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0 && now_ms() < deadline_ms)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT)
            break;
    if (p->nfree)
        slot = p->free[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return slot;
}

int sb_modbus_lowfd_lend(struct sb_modbus_lowfd *p, int fd, int64_t deadline_ms, int *slot)
{
    int e;

    if ((*slot = take(p, deadline_ms)) < 0)
        return SB_ETIMEDOUT;
    /* dup3 replaces the slot atomically (dup2(2)): the number is never free
     * for another thread's open().  dup2 would drop close-on-exec. */
    if (dup3(fd, *slot, O_CLOEXEC) < 0) {
        e = errno;
        sb_modbus_lowfd_return(p, *slot);
        *slot = -1;
        errno = e;
        return SB_EIO;
    }
    return 0;
}

void sb_modbus_lowfd_park(struct sb_modbus_lowfd *p, int slot)
{
    /* Cannot fail for two valid descriptors (EINTR is not returned by
     * dup3); should it, the slot keeps the socket open until the next park. */
    (void)dup3(p->devnull, slot, O_CLOEXEC);
}

void sb_modbus_lowfd_return(struct sb_modbus_lowfd *p, int slot)
{
    sb_modbus_lowfd_park(p, slot);
    pthread_mutex_lock(&p->mu);
    p->free[p->nfree++] = slot;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* --------------------------------------------------------------- connect */

/* Wait for a non-blocking connect of s; 0, or an errno value. */
static int connect_wait(int s, int64_t deadline_ms)
{
    struct pollfd pf = { .fd = s, .events = POLLOUT };
    int rc, soerr = 0;
    socklen_t len = sizeof soerr;

    do {
        int64_t left = deadline_ms - now_ms();
        if (left <= 0)
            return ETIMEDOUT;
        rc = poll(&pf, 1, left > 60000 ? 60000 : (int)left);
    } while (rc == 0 || (rc < 0 && errno == EINTR));
    if (rc < 0)
        return errno;
    if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
        return errno;
    return soerr;
}

/* One address: a connected socket in *fd, or an errno value. */
static int connect_one(const struct addrinfo *ai, int64_t deadline_ms, int *fd)
{
    int s, one = 1, tos = IPTOS_LOWDELAY, e = 0;

    s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (s < 0)
        return errno;
    /* As libmodbus' _modbus_tcp_set_ipv4_options: no Nagle delay for the
     * small request/answer exchange; low-delay TOS is optional. */
    if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        e = errno;
    if (!e && ai->ai_family == AF_INET)
        (void)setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    if (!e && connect(s, ai->ai_addr, ai->ai_addrlen) != 0)
        e = errno == EINPROGRESS ? connect_wait(s, deadline_ms) : errno;
    if (e) {
        close(s);
        return e;
    }
    *fd = s;
    return 0;
}

int sb_modbus_tcp_connect(const char *host, unsigned port, int64_t deadline_ms, int *fd,
                          char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV,
                              .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *list = NULL;
    char serv[8];
    int rc, e = EHOSTUNREACH;

    *fd = -1;
    snprintf(serv, sizeof serv, "%u", port);
    if ((rc = getaddrinfo(host, serv, &hints, &list)) != 0) {
        sb_errf(err, errlen, "%s", gai_strerror(rc));
        return SB_EIO;
    }
    for (const struct addrinfo *ai = list; ai && e != ETIMEDOUT; ai = ai->ai_next)
        if ((e = connect_one(ai, deadline_ms, fd)) == 0)
            break;
    freeaddrinfo(list);
    if (e == 0)
        return 0;
    sb_errf(err, errlen, "%s", e == ETIMEDOUT ? "timed out" : strerror(e));
    return e == ETIMEDOUT ? SB_ETIMEDOUT : SB_EIO;
}

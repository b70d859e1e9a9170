/*
 * lowfd.h - descriptors libmodbus can wait on: a pool of reserved low
 * descriptor numbers, and a TCP connect that waits with poll().
 *
 * libmodbus 3.1.6 waits with select() (its TCP connect and every receive:
 * _connect() and _modbus_tcp_select()/_modbus_rtu_select() in
 * src/modbus-tcp.c and src/modbus-rtu.c).  FD_SET on a descriptor >=
 * FD_SETSIZE (1024) is undefined behaviour, and glibc's fortified FD_SET
 * (Debian builds libmodbus with _FORTIFY_SOURCE=2) aborts the whole process:
 * "*** bit out of range 0 - FD_SETSIZE on fd_set ***".  A daemon with many
 * HTTP/WebSocket clients or ~1,000 Modbus connections has sockets above that.
 *
 * The rule (docs/internals/modbus.md): libmodbus never sees a descriptor >=
 * FD_SETSIZE.  The driver connects TCP itself (sb_modbus_tcp_connect, poll()
 * has no such limit) and keeps each connection's socket wherever it lands;
 * for one transaction it borrows a slot of this pool, dup3()s the socket onto
 * it, hands the slot to libmodbus, and gives it back parked on /dev/null.
 *
 * Ownership: the pool owns its slots and its /dev/null descriptor (closed by
 * _release).  A slot always holds an open file (/dev/null or a lent socket),
 * so no other thread's open() or socket() can ever be given its number.
 * Threads: _init/_release on one thread with no borrower; _lend/_return/_park
 * from any thread (the pool's mutex; a borrower waits on its condition
 * variable, bounded by its deadline).  sb_modbus_tcp_connect is reentrant.
 */
#ifndef SB_DRIVERS_MODBUS_LOWFD_H
#define SB_DRIVERS_MODBUS_LOWFD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define SB_MODBUS_LOWFD_DEFAULT 64  /* slots: parallel transactions on high sockets */
#define SB_MODBUS_LOWFD_MAX 512     /* largest pool the configuration accepts */

struct sb_modbus_lowfd {
    pthread_mutex_t mu;         /* guards nfree and free[] */
    pthread_cond_t cv;          /* signalled when a slot is returned (CLOCK_MONOTONIC) */
    int devnull;                /* /dev/null, what an idle slot holds; -1 when unset */
    int *slots;                 /* the n reserved descriptor numbers, each < FD_SETSIZE */
    int *free;                  /* stack of idle slots */
    size_t n;                   /* slots reserved */
    size_t nfree;               /* entries in free[] */
};

/* Reserve n slots (dups of /dev/null, each checked < FD_SETSIZE).  Call it
 * while the process has few descriptors open (at driver init).  0, SB_ENOMEM,
 * SB_EIO (cannot open /dev/null or dup), SB_ERANGE (a slot landed at or
 * above FD_SETSIZE: too many descriptors already open); err says which. */
int sb_modbus_lowfd_init(struct sb_modbus_lowfd *p, size_t n, char *err, size_t errlen);

/* Close every slot; no slot may be lent. */
void sb_modbus_lowfd_release(struct sb_modbus_lowfd *p);

/* Borrow a slot and make it a duplicate of fd (atomically, close-on-exec).
 * Waits for a free slot until deadline_ms (CLOCK_MONOTONIC milliseconds).
 * 0 with *slot set; SB_ETIMEDOUT (none free in time) or SB_EIO (dup3 failed,
 * errno kept) with *slot = -1. */
int sb_modbus_lowfd_lend(struct sb_modbus_lowfd *p, int fd, int64_t deadline_ms, int *slot);

/* Point slot back at /dev/null; it stays borrowed.  The socket it held is
 * no longer referenced by the slot (closing the real one now ends it). */
void sb_modbus_lowfd_park(struct sb_modbus_lowfd *p, int slot);

/* Park slot and give it back to the pool. */
void sb_modbus_lowfd_return(struct sb_modbus_lowfd *p, int slot);

/* Connect a TCP socket to host:port (any address getaddrinfo gives, in
 * order) by a non-blocking connect waited with poll() until deadline_ms.
 * The socket is close-on-exec, TCP_NODELAY (and IPTOS_LOWDELAY on IPv4) and
 * stays non-blocking, as libmodbus' own connect leaves it.  0 with *fd set;
 * SB_ETIMEDOUT, or SB_EIO with err naming the cause (getaddrinfo's message
 * or strerror, e.g. "Connection refused"). */
int sb_modbus_tcp_connect(const char *host, unsigned port, int64_t deadline_ms, int *fd,
                          char *err, size_t errlen);

#endif

/*
 * pace.h - the request pacer of one cloud API: at most max_rps requests per
 * second, and none while the server has asked us to wait (HTTP 429 or 503
 * with Retry-After, RFC 9110 section 10.2.3; RFC 6585 section 4).
 *
 * Requests are spaced 1/max_rps seconds apart (a slot per request, handed
 * out in order), so any one-second window holds at most max_rps of them
 * even when worker threads ask at the same moment; a bucket that allowed
 * bursts could send 2 * max_rps across a window boundary.  A caller whose
 * slot would come after its deadline gets SB_ETIMEDOUT at once and no slot.
 *
 * Caller-owned storage (sb_rest_pace_init / _release); every function is
 * thread-safe.  Times are CLOCK_MONOTONIC milliseconds (sb_rest_mono_ms).
 */
#ifndef SB_REST_PACE_H
#define SB_REST_PACE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct sb_rest_pace {
    pthread_mutex_t mu;           /* guards the fields below */
    int64_t interval_us;          /* 1e6 / max_rps */
    int64_t next_us;              /* monotonic us of the next free slot */
    int64_t blocked_until;        /* monotonic ms: no request before it */
    long blocked_status;          /* the HTTP status that asked us to wait */
    uint64_t sent;                /* slots handed out (for tests and metrics) */
};

/* max_rps in (0, 1000].  Returns 0 or SB_EINVAL / SB_EIO. */
int  sb_rest_pace_init(struct sb_rest_pace *p, double max_rps);
void sb_rest_pace_release(struct sb_rest_pace *p);

/* Wait for the next request slot.  Returns 0 when it is time to send;
 * SB_EAGAIN while a Retry-After is in force (err: status and time left);
 * SB_ETIMEDOUT when the slot would come after deadline (monotonic ms);
 * SB_ECLOSED when *stop became non-zero while waiting. */
int  sb_rest_pace_acquire(struct sb_rest_pace *p, int64_t deadline, const atomic_int *stop,
                          char *err, size_t errlen);

/* The server asked us to send nothing before until (monotonic ms).  A
 * later until replaces an earlier one, never the reverse. */
void sb_rest_pace_block(struct sb_rest_pace *p, int64_t until, long status);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t sb_rest_mono_ms(void);

#endif /* SB_REST_PACE_H */

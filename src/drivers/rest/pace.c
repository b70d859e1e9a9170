/* pace.c - per-API request spacing and Retry-After blocks (see pace.h). */
#include <math.h>
#include <time.h>

#include "core/err.h"
#include "drivers/rest/pace.h"

#define WAIT_STEP_US 50000      /* re-check the stop flag this often */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t sb_rest_mono_ms(void)
{
    return mono_us() / 1000;
}

int sb_rest_pace_init(struct sb_rest_pace *p, double max_rps)
{
    if (!(max_rps > 0.0) || max_rps > 1000.0)
        return SB_EINVAL;
    p->interval_us = (int64_t)ceil(1e6 / max_rps);
    p->next_us = 0;
    p->blocked_until = 0;
    p->blocked_status = 0;
    p->sent = 0;
    return pthread_mutex_init(&p->mu, NULL) == 0 ? 0 : SB_EIO;
}

void sb_rest_pace_release(struct sb_rest_pace *p)
{
    pthread_mutex_destroy(&p->mu);
}

static int sleep_until(int64_t when_us, const atomic_int *stop)
{
    int64_t now;

    while ((now = mono_us()) < when_us) {
        int64_t d = when_us - now;
        struct timespec ts;
        if (stop && atomic_load(stop))
            return SB_ECLOSED;
        if (d > WAIT_STEP_US)
            d = WAIT_STEP_US;
        ts.tv_sec = d / 1000000;
        ts.tv_nsec = (d % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
    return 0;
}

int sb_rest_pace_acquire(struct sb_rest_pace *p, int64_t deadline, const atomic_int *stop,
                         char *err, size_t errlen)
{
    int64_t now = mono_us(), slot;

    pthread_mutex_lock(&p->mu);
    if (p->blocked_until > now / 1000) {
        sb_errf(err, errlen, "HTTP %ld: the server asked to wait; %lld ms left",
                p->blocked_status, (long long)(p->blocked_until - now / 1000));
        pthread_mutex_unlock(&p->mu);
        return SB_EAGAIN;
    }
    slot = p->next_us > now ? p->next_us : now;
    if (slot / 1000 > deadline) {
        pthread_mutex_unlock(&p->mu);
        sb_errf(err, errlen, "rate limit: next request slot in %lld ms is past the deadline",
                (long long)((slot - now) / 1000));
        return SB_ETIMEDOUT;
    }
    p->next_us = slot + p->interval_us;
    p->sent++;
    pthread_mutex_unlock(&p->mu);
    return sleep_until(slot, stop);
}

void sb_rest_pace_block(struct sb_rest_pace *p, int64_t until, long status)
{
    pthread_mutex_lock(&p->mu);
    if (until > p->blocked_until) {
        p->blocked_until = until;
        p->blocked_status = status;
    }
    pthread_mutex_unlock(&p->mu);
}

/*
 * limits.h - in-memory request rate limiting and login throttling.
 *
 * sb_rl is a token bucket per key ("u:42", "ip:192.0.2.7"): capacity tokens,
 * refill_per_s tokens a second, one token per request.  Its result carries
 * what the RateLimit-* and Retry-After headers need (RFC 6585 4,
 * draft-ietf-httpapi-ratelimit-headers).
 *
 * sb_thr slows password guessing per key ("login:alice", "ip:192.0.2.7"),
 * NIST SP 800-63B 5.2.2: the first free_failures failures cost nothing;
 * after failure n > free_failures the key must wait
 * base_delay_ms * 2^(n - free_failures - 1), at most max_delay_ms, from
 * that failure; failure number lockout_failures also locks the key for
 * lockout_ms (sb_thr_fail() returns 1 that once, so the caller writes one
 * audit record).  A success clears the key; a key with no failure for
 * forget_ms starts over.
 *
 * Both keep at most max_keys keys in a preallocated hash table (SipHash
 * with a per-table random key, so clients cannot aim keys at one chain).
 * When it is full a new key replaces one of the 8 least recently used:
 * one whose state is as good as new if there is one (a full bucket, a
 * forgotten throttle key), else the least recently used bucket, or the
 * throttle key with the fewest failures (so a flood of new keys pushes
 * out other flood keys before a locked-out account).  Memory never grows
 * past max_keys entries (about 136 bytes a key with its hash slots,
 * allocated up front).  A key longer than SB_LIM_KEY_MAX bytes is kept as
 * its BLAKE2b-128 digest.
 *
 * Times are the caller's ms clock (monotonic or wall; a clock that goes
 * back is treated as no time passing).  NOT thread-safe: the event loop
 * thread owns each object and is the only caller.  No logging.
 */
#ifndef SB_AUTH_LIMITS_H
#define SB_AUTH_LIMITS_H

#include <stddef.h>
#include <stdint.h>

#define SB_LIM_KEY_MAX  63          /* key bytes stored as is */
#define SB_LIM_KEYS_MAX (1u << 20)  /* largest max_keys */

/* ---- token bucket ------------------------------------------------------- */

struct sb_rl;

/* What sb_rl_take() decided, in header-ready units. */
struct sb_rl_result {
    int allowed;             /* 1: go on; 0: answer 429 */
    int64_t limit;           /* the capacity (RateLimit-Limit) */
    int64_t remaining;       /* whole tokens left after this request */
    int64_t reset_s;         /* seconds until the bucket is full again */
    int64_t retry_after_s;   /* seconds until one token; >= 1 when refused, 0 if one is left */
};

/* Makes a limiter (heap; sb_rl_free).  capacity >= 1 and refill_per_s > 0,
 * both finite; 1 <= max_keys <= SB_LIM_KEYS_MAX.  0, SB_EINVAL or SB_ENOMEM. */
int sb_rl_new(double capacity, double refill_per_s, size_t max_keys, struct sb_rl **out);

/* Takes one token from key's bucket (a new key starts full).  0 and *res
 * filled (refused is still 0: see res->allowed), or SB_EINVAL for NULL. */
int sb_rl_take(struct sb_rl *rl, const char *key, int64_t now_ms, struct sb_rl_result *res);

/* Keys held now (<= max_keys). */
size_t sb_rl_count(const struct sb_rl *rl);

void sb_rl_free(struct sb_rl *rl);

/* ---- login throttle ----------------------------------------------------- */

struct sb_thr;

struct sb_thr_cfg {
    uint32_t free_failures;      /* failures without delay (3) */
    int64_t base_delay_ms;       /* delay after the first counted failure (1000) */
    int64_t max_delay_ms;        /* delay cap (15 min) */
    uint32_t lockout_failures;   /* failure that locks the key; 0 = never (10) */
    int64_t lockout_ms;          /* lock-out length (15 min) */
    int64_t forget_ms;           /* failures older than this are forgotten (24 h) */
};

/* The values in parentheses above. */
struct sb_thr_cfg sb_thr_cfg_default(void);

/* Makes a throttle (heap; sb_thr_free).  Needs 1 <= max_keys <=
 * SB_LIM_KEYS_MAX, 0 <= base_delay_ms <= max_delay_ms, lockout_ms >= 0,
 * forget_ms > 0, lockout_failures 0 or > free_failures.
 * 0, SB_EINVAL or SB_ENOMEM. */
int sb_thr_new(size_t max_keys, struct sb_thr_cfg cfg, struct sb_thr **out);

/* Milliseconds key must wait before its next attempt; 0 = go ahead.
 * SB_EINVAL (< 0) for NULL arguments: treat as "refuse". */
int64_t sb_thr_check(struct sb_thr *thr, const char *key, int64_t now_ms);

/* Records a failed attempt.  1 when this failure locked the key out (once
 * per lock-out: audit it), 0 otherwise, SB_EINVAL for NULL arguments. */
int sb_thr_fail(struct sb_thr *thr, const char *key, int64_t now_ms);

/* Forgets key (after a successful login). */
void sb_thr_success(struct sb_thr *thr, const char *key);

/* Keys held now (<= max_keys). */
size_t sb_thr_count(const struct sb_thr *thr);

void sb_thr_free(struct sb_thr *thr);

#endif /* SB_AUTH_LIMITS_H */

/* limits.c - token-bucket rate limiter and login throttle (see limits.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/limits.h"
#include "core/err.h"

#define NIL UINT32_MAX
#define DIGEST_LEN 16        /* BLAKE2b-128 of a long key */
#define VICTIMS 8            /* LRU entries looked at when evicting */
#define EPS 1e-9             /* float slack on token counts */

/* ---- bounded LRU hash table shared by both ------------------------------ */

/* now - then in ms when now is later, else 0 (no signed overflow). */
static uint64_t elapsed(int64_t now, int64_t then)
{
    return now > then ? (uint64_t)now - (uint64_t)then : 0;
}

/* A key as stored: the bytes, or the digest of a long key. */
struct nkey {
    uint8_t len;                    /* bytes in b */
    uint8_t digest;                 /* 1: b is DIGEST_LEN bytes of BLAKE2b */
    char b[SB_LIM_KEY_MAX];         /* not NUL-terminated */
};

struct ent {
    uint64_t h;                     /* SipHash of the key, for the slot */
    uint32_t prev, next;            /* LRU list (head = most recent); next links the free list */
    struct nkey k;                  /* the key */
    union {
        struct {
            double tokens;          /* tokens at last_ms */
            int64_t last_ms;        /* last refill */
        } rl;
        struct {
            uint32_t fails;         /* failures since the last success / forget */
            int64_t last_ms;        /* time of the last failure */
            int64_t lock_ms;        /* when the lock-out began */
            int locked;             /* lock_ms is set */
        } thr;
    } u;
};

struct tab {
    struct ent *e;                  /* max entries, [0, used) ever handed out */
    uint32_t *slot;                 /* open addressing: entry index + 1, 0 = empty */
    size_t mask;                    /* slot count - 1 (power of two >= 2 * max) */
    size_t n, used, max;            /* live entries, high-water mark, bound */
    uint32_t head, tail, freel;     /* LRU ends, free list */
    unsigned char sipkey[crypto_shorthash_KEYBYTES];   /* per-table hash key */
};

/* Lower is evicted first; 0 means "as good as new": evict at once. */
typedef uint64_t (*score_fn)(const void *ctx, const struct ent *e, int64_t now_ms);

static int tab_init(struct tab *t, size_t max)
{
    size_t slots = 4;

    memset(t, 0, sizeof(*t));
    if (max < 1 || max > SB_LIM_KEYS_MAX || sodium_init() < 0)
        return SB_EINVAL;
    while (slots < 2 * max)
        slots *= 2;
    t->e = malloc(max * sizeof(*t->e));
    t->slot = calloc(slots, sizeof(*t->slot));
    if (!t->e || !t->slot) {
        free(t->e);
        free(t->slot);
        return SB_ENOMEM;
    }
    t->mask = slots - 1;
    t->max = max;
    t->head = t->tail = t->freel = NIL;
    crypto_shorthash_keygen(t->sipkey);
    return 0;
}

static void tab_release(struct tab *t)
{
    free(t->e);
    free(t->slot);
    memset(t, 0, sizeof(*t));
}

static void nkey_make(const char *key, struct nkey *k)
{
    size_t len = strlen(key);

    memset(k, 0, sizeof(*k));
    if (len <= SB_LIM_KEY_MAX) {
        k->len = (uint8_t)len;
        memcpy(k->b, key, len);
    } else {
        k->len = DIGEST_LEN;
        k->digest = 1;
        crypto_generichash((unsigned char *)k->b, DIGEST_LEN, (const unsigned char *)key, len,
                           NULL, 0);
    }
}

static uint64_t key_hash(const struct tab *t, const struct nkey *k)
{
    unsigned char out[crypto_shorthash_BYTES];
    uint64_t h;

    /* Hash the flag too, so a digest never collides with a short key. */
    crypto_shorthash(out, (const unsigned char *)k, 2u + k->len, t->sipkey);
    memcpy(&h, out, sizeof(h));
    return h;
}

static int key_eq(const struct nkey *a, const struct nkey *b)
{
    return a->len == b->len && a->digest == b->digest && memcmp(a->b, b->b, a->len) == 0;
}

/* Slot position holding entry idx (it is there). */
static size_t slot_of(const struct tab *t, uint32_t idx)
{
    size_t i = t->e[idx].h & t->mask;

    while (t->slot[i] != idx + 1)
        i = (i + 1) & t->mask;
    return i;
}

static uint32_t tab_find(const struct tab *t, const struct nkey *k, uint64_t h)
{
    for (size_t i = h & t->mask; t->slot[i]; i = (i + 1) & t->mask) {
        uint32_t idx = t->slot[i] - 1;
        if (t->e[idx].h == h && key_eq(&t->e[idx].k, k))
            return idx;
    }
    return NIL;
}

static void lru_unlink(struct tab *t, uint32_t idx)
{
    struct ent *e = &t->e[idx];

    if (e->prev != NIL)
        t->e[e->prev].next = e->next;
    else
        t->head = e->next;
    if (e->next != NIL)
        t->e[e->next].prev = e->prev;
    else
        t->tail = e->prev;
}

static void lru_push(struct tab *t, uint32_t idx)
{
    struct ent *e = &t->e[idx];

    e->prev = NIL;
    e->next = t->head;
    if (t->head != NIL)
        t->e[t->head].prev = idx;
    t->head = idx;
    if (t->tail == NIL)
        t->tail = idx;
}

static void tab_touch(struct tab *t, uint32_t idx)
{
    if (t->head != idx) {
        lru_unlink(t, idx);
        lru_push(t, idx);
    }
}

/* Removes entry idx; linear probing's backward-shift deletion (Knuth 6.4
 * Algorithm R) keeps every other key reachable without tombstones. */
static void tab_remove(struct tab *t, uint32_t idx)
{
    size_t i = slot_of(t, idx), j = i;

    for (;;) {
        j = (j + 1) & t->mask;
        if (!t->slot[j])
            break;
        size_t home = t->e[t->slot[j] - 1].h & t->mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
            t->slot[i] = t->slot[j];
            i = j;
        }
    }
    t->slot[i] = 0;
    lru_unlink(t, idx);
    t->e[idx].next = t->freel;
    t->freel = idx;
    t->n--;
}

/* Picks the entry to evict among the VICTIMS least recently used. */
static uint32_t tab_victim(const struct tab *t, score_fn score, const void *ctx, int64_t now)
{
    uint32_t best = t->tail, idx = t->tail;
    uint64_t bs = UINT64_MAX;

    for (int i = 0; i < VICTIMS && idx != NIL; i++, idx = t->e[idx].prev) {
        uint64_t s = score(ctx, &t->e[idx], now);
        if (s < bs) {
            bs = s;
            best = idx;
        }
        if (s == 0)
            break;
    }
    return best;
}

/* Adds key (not present), evicting if full; returns the new zeroed-state entry. */
static uint32_t tab_insert(struct tab *t, const struct nkey *k, uint64_t h, score_fn score,
                           const void *ctx, int64_t now)
{
    uint32_t idx;
    size_t i;

    if (t->n == t->max)
        tab_remove(t, tab_victim(t, score, ctx, now));
    if (t->freel != NIL) {
        idx = t->freel;
        t->freel = t->e[idx].next;
    } else {
        idx = (uint32_t)t->used++;
    }
    memset(&t->e[idx], 0, sizeof(t->e[idx]));
    t->e[idx].h = h;
    t->e[idx].k = *k;
    for (i = h & t->mask; t->slot[i]; i = (i + 1) & t->mask)
        ;
    t->slot[i] = idx + 1;
    lru_push(t, idx);
    t->n++;
    return idx;
}

/* ---- token bucket ------------------------------------------------------- */

struct sb_rl {
    struct tab t;        /* the buckets */
    double cap;          /* tokens in a full bucket */
    double rate;         /* tokens per ms */
};

static double rl_level(const struct sb_rl *rl, const struct ent *e, int64_t now)
{
    double x = e->u.rl.tokens;

    x += (double)elapsed(now, e->u.rl.last_ms) * rl->rate;
    return x < rl->cap ? x : rl->cap;
}

static uint64_t rl_score(const void *ctx, const struct ent *e, int64_t now)
{
    const struct sb_rl *rl = ctx;

    return rl_level(rl, e, now) >= rl->cap - EPS ? 0 : 1;
}

int sb_rl_new(double capacity, double refill_per_s, size_t max_keys, struct sb_rl **out)
{
    struct sb_rl *rl;
    int rc;

    if (!out || !isfinite(capacity) || !isfinite(refill_per_s) || capacity < 1 ||
        refill_per_s <= 0)
        return SB_EINVAL;
    if (!(rl = calloc(1, sizeof(*rl))))
        return SB_ENOMEM;
    if ((rc = tab_init(&rl->t, max_keys)) != 0) {
        free(rl);
        return rc;
    }
    rl->cap = capacity;
    rl->rate = refill_per_s / 1000.0;
    *out = rl;
    return 0;
}

/* Whole seconds until the bucket holds `want` tokens (0 if it does). */
static int64_t secs_until(const struct sb_rl *rl, double have, double want)
{
    double s = (want - have) / (rl->rate * 1000.0);

    return s <= EPS ? 0 : (int64_t)ceil(s - EPS);
}

int sb_rl_take(struct sb_rl *rl, const char *key, int64_t now_ms, struct sb_rl_result *res)
{
    struct nkey k;
    uint64_t h;
    uint32_t idx;
    struct ent *e;

    if (!rl || !key || !res)
        return SB_EINVAL;
    nkey_make(key, &k);
    h = key_hash(&rl->t, &k);
    idx = tab_find(&rl->t, &k, h);
    if (idx == NIL) {
        idx = tab_insert(&rl->t, &k, h, rl_score, rl, now_ms);
        rl->t.e[idx].u.rl.tokens = rl->cap;
        rl->t.e[idx].u.rl.last_ms = now_ms;
    } else {
        tab_touch(&rl->t, idx);
    }
    e = &rl->t.e[idx];
    e->u.rl.tokens = rl_level(rl, e, now_ms);
    if (now_ms > e->u.rl.last_ms)
        e->u.rl.last_ms = now_ms;
    res->allowed = e->u.rl.tokens >= 1 - EPS;
    if (res->allowed)
        e->u.rl.tokens = e->u.rl.tokens - 1 > 0 ? e->u.rl.tokens - 1 : 0;
    res->limit = (int64_t)floor(rl->cap);
    res->remaining = (int64_t)floor(e->u.rl.tokens + EPS);
    res->reset_s = secs_until(rl, e->u.rl.tokens, rl->cap);
    res->retry_after_s = secs_until(rl, e->u.rl.tokens, 1);
    if (!res->allowed && res->retry_after_s < 1)
        res->retry_after_s = 1;
    return 0;
}

size_t sb_rl_count(const struct sb_rl *rl)
{
    return rl ? rl->t.n : 0;
}

void sb_rl_free(struct sb_rl *rl)
{
    if (!rl)
        return;
    tab_release(&rl->t);
    free(rl);
}

/* ---- login throttle ----------------------------------------------------- */

struct sb_thr {
    struct tab t;            /* the keys with failures */
    struct sb_thr_cfg cfg;   /* checked by sb_thr_new */
};

struct sb_thr_cfg sb_thr_cfg_default(void)
{
    return (struct sb_thr_cfg){
        .free_failures = 3,
        .base_delay_ms = 1000,
        .max_delay_ms = 15 * 60 * 1000,
        .lockout_failures = 10,
        .lockout_ms = 15 * 60 * 1000,
        .forget_ms = 24LL * 3600 * 1000,
    };
}

static int forgotten(const struct sb_thr *thr, const struct ent *e, int64_t now)
{
    return elapsed(now, e->u.thr.last_ms) >= (uint64_t)thr->cfg.forget_ms;
}

static uint64_t thr_score(const void *ctx, const struct ent *e, int64_t now)
{
    return forgotten(ctx, e, now) ? 0 : e->u.thr.fails;
}

/* base * 2^(n - free - 1), capped, without overflow. */
static int64_t delay_after(const struct sb_thr_cfg *c, uint32_t n)
{
    uint32_t shift;

    if (n <= c->free_failures || c->base_delay_ms == 0)
        return 0;
    shift = n - c->free_failures - 1;
    if (shift >= 62 || c->base_delay_ms > (c->max_delay_ms >> shift))
        return c->max_delay_ms;
    return c->base_delay_ms << shift;
}

int sb_thr_new(size_t max_keys, struct sb_thr_cfg cfg, struct sb_thr **out)
{
    struct sb_thr *thr;
    int rc;

    if (!out || cfg.base_delay_ms < 0 || cfg.max_delay_ms < cfg.base_delay_ms ||
        cfg.lockout_ms < 0 || cfg.forget_ms <= 0 ||
        (cfg.lockout_failures && cfg.lockout_failures <= cfg.free_failures))
        return SB_EINVAL;
    if (!(thr = calloc(1, sizeof(*thr))))
        return SB_ENOMEM;
    if ((rc = tab_init(&thr->t, max_keys)) != 0) {
        free(thr);
        return rc;
    }
    thr->cfg = cfg;
    *out = thr;
    return 0;
}

static uint32_t thr_find(struct sb_thr *thr, const char *key, struct nkey *k, uint64_t *h)
{
    nkey_make(key, k);
    *h = key_hash(&thr->t, k);
    return tab_find(&thr->t, k, *h);
}

/* Remaining part of a wait of len ms that began at start (a clock that went
 * back never makes it longer than len). */
static int64_t remaining(int64_t start, int64_t len, int64_t now)
{
    uint64_t gone = elapsed(now, start);

    return gone >= (uint64_t)len ? 0 : len - (int64_t)gone;
}

int64_t sb_thr_check(struct sb_thr *thr, const char *key, int64_t now_ms)
{
    struct nkey k;
    uint64_t h;
    uint32_t idx;
    const struct ent *e;
    int64_t w = 0, d;

    if (!thr || !key)
        return SB_EINVAL;
    if ((idx = thr_find(thr, key, &k, &h)) == NIL)
        return 0;
    e = &thr->t.e[idx];
    if (forgotten(thr, e, now_ms)) {
        tab_remove(&thr->t, idx);
        return 0;
    }
    if (e->u.thr.locked)
        w = remaining(e->u.thr.lock_ms, thr->cfg.lockout_ms, now_ms);
    d = remaining(e->u.thr.last_ms, delay_after(&thr->cfg, e->u.thr.fails), now_ms);
    return d > w ? d : w;
}

int sb_thr_fail(struct sb_thr *thr, const char *key, int64_t now_ms)
{
    struct nkey k;
    uint64_t h;
    uint32_t idx;
    struct ent *e;

    if (!thr || !key)
        return SB_EINVAL;
    if ((idx = thr_find(thr, key, &k, &h)) == NIL) {
        idx = tab_insert(&thr->t, &k, h, thr_score, thr, now_ms);
    } else {
        tab_touch(&thr->t, idx);
        if (forgotten(thr, &thr->t.e[idx], now_ms))
            memset(&thr->t.e[idx].u.thr, 0, sizeof(thr->t.e[idx].u.thr));
    }
    e = &thr->t.e[idx];
    if (e->u.thr.fails < UINT32_MAX)
        e->u.thr.fails++;
    e->u.thr.last_ms = now_ms;
    if (thr->cfg.lockout_failures && e->u.thr.fails == thr->cfg.lockout_failures) {
        e->u.thr.lock_ms = now_ms;
        e->u.thr.locked = 1;
        return 1;
    }
    return 0;
}

void sb_thr_success(struct sb_thr *thr, const char *key)
{
    struct nkey k;
    uint64_t h;
    uint32_t idx;

    if (thr && key && (idx = thr_find(thr, key, &k, &h)) != NIL)
        tab_remove(&thr->t, idx);
}

size_t sb_thr_count(const struct sb_thr *thr)
{
    return thr ? thr->t.n : 0;
}

void sb_thr_free(struct sb_thr *thr)
{
    if (!thr)
        return;
    tab_release(&thr->t);
    free(thr);
}

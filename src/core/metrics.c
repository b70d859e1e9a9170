/* metrics.c - Prometheus registry and text exposition 0.0.4; see metrics.h. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/metrics.h"

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM, K_GAUGE_FN, K_COUNTER_FN };

static const char *const kind_names[] = { "counter", "gauge", "histogram", "gauge", "counter" };

/* One label-value list of a metric.  Doubles live in _Atomic uint64_t as
 * bit patterns: C11 has no portable lock-free atomic double arithmetic, and
 * a CAS loop on the bits is lock-free on every target we build for. */
struct child {
    uint64_t hash;                 /* FNV-1a of the label values */
    char **values;                 /* nlabels copies, owned */
    _Atomic uint64_t val;          /* counter / gauge value (double bits) */
    _Atomic uint64_t sum;          /* histogram sum (double bits) */
    _Atomic uint64_t buckets[];    /* histogram: per-bucket counts, nbounds + 1 (+Inf last) */
};

struct sb_metric {
    struct sb_metric *next;              /* registry list, registration order */
    char *name;                          /* metric name, owned */
    char *help;                          /* HELP text or NULL, owned */
    enum kind kind;                      /* what it is */
    char *labels[SB_METRICS_MAX_LABELS]; /* label names, owned */
    size_t nlabels;                      /* used entries of labels */
    double *bounds;                      /* histogram upper bounds, owned */
    size_t nbounds;                      /* entries of bounds */
    size_t max;                          /* child bound */
    _Atomic(struct child *) *slots;      /* open-addressing table, written under mu */
    size_t mask;                         /* table size - 1 (size is a power of 2 > max) */
    struct child **order;                /* children in creation order, [max] */
    _Atomic size_t n;                    /* published entries of order */
    _Atomic(struct child *) other;       /* the "other" child, created on first overflow */
    _Atomic uint64_t overflow;           /* updates diverted to other or dropped */
    pthread_mutex_t mu;                  /* serialises child creation */
    double (*fn)(void *);                /* K_GAUGE_FN: value at scrape time */
    void *ud;                            /* passed to fn */
};

struct sb_metrics {
    pthread_mutex_t mu;                  /* protects the list and max_children */
    struct sb_metric *head;              /* first registered */
    struct sb_metric **tail;             /* where the next one is linked */
    size_t max_children;                 /* bound for metrics registered next */
};

static const char *const other_vals[SB_METRICS_MAX_LABELS] = {
    "other", "other", "other", "other", "other", "other", "other", "other"
};

/* ---- doubles in atomics ---- */

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static double bitsd(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void atomic_add_double(_Atomic uint64_t *a, double by)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(a, &old, dbits(bitsd(old) + by),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registration ---- */

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || (colon && *s == ':')))
            return false;
    return true;
}

static bool valid_labels(const char *const *labels, size_t n, bool histogram)
{
    if (n > SB_METRICS_MAX_LABELS || (n && !labels))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(labels[i], false) || !strncmp(labels[i], "__", 2) ||
            (histogram && !strcmp(labels[i], "le")))
            return false;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(labels[i], labels[j]))
                return false;
    }
    return true;
}

static bool valid_bounds(const double *b, size_t n)
{
    if (n > SB_METRICS_MAX_BOUNDS || (n && !b))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i && !(b[i] > b[i - 1])))
            return false;
    return true;
}

static void child_free(struct child *c, size_t nlabels)
{
    if (!c)
        return;
    for (size_t i = 0; c->values && i < nlabels; i++)
        free(c->values[i]);
    free(c->values);
    free(c);
}

static void metric_free(struct sb_metric *m)
{
    size_t n = atomic_load(&m->n);
    for (size_t i = 0; i < n; i++)
        child_free(m->order[i], m->nlabels);
    child_free(atomic_load(&m->other), m->nlabels);
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    pthread_mutex_destroy(&m->mu);
    free(m->slots);
    free(m->order);
    free(m->bounds);
    free(m->help);
    free(m->name);
    free(m);
}

/* Allocate a metric with its child table; NULL when out of memory. */
static struct sb_metric *metric_alloc(const char *name, const char *help, enum kind k,
                                      const char *const *labels, size_t nlabels, size_t max)
{
    struct sb_metric *m = calloc(1, sizeof(*m));
    size_t cap = 2;
    if (!m)
        return NULL;
    while (cap <= max)      /* > max entries: a probe always meets an empty slot */
        cap *= 2;
    pthread_mutex_init(&m->mu, NULL);
    m->kind = k;
    m->max = max;
    m->mask = cap - 1;
    m->nlabels = nlabels;
    m->name = strdup(name);
    m->help = help ? strdup(help) : NULL;
    m->slots = calloc(cap, sizeof(*m->slots));
    m->order = calloc(max, sizeof(*m->order));
    bool ok = m->name && (!help || m->help) && m->slots && m->order;
    for (size_t i = 0; i < cap && m->slots; i++)
        atomic_init(&m->slots[i], NULL);
    atomic_init(&m->n, 0);
    atomic_init(&m->other, NULL);
    atomic_init(&m->overflow, 0);
    for (size_t i = 0; i < nlabels; i++)
        ok = (m->labels[i] = strdup(labels[i])) != NULL && ok;
    if (!ok) {
        metric_free(m);
        return NULL;
    }
    return m;
}

static struct sb_metric *find_metric(struct sb_metrics *reg, const char *name)
{
    for (struct sb_metric *m = reg->head; m; m = m->next)
        if (!strcmp(m->name, name))
            return m;
    return NULL;
}

static struct child *child_for(struct sb_metric *m, const char *const *values);

/* Link m into reg unless its name is taken; frees m and returns SB_EEXIST if it is. */
static int link_metric(struct sb_metrics *reg, struct sb_metric *m)
{
    int rc = 0;
    pthread_mutex_lock(&reg->mu);
    if (find_metric(reg, m->name)) {
        rc = SB_EEXIST;
    } else {
        *reg->tail = m;
        reg->tail = &m->next;
    }
    pthread_mutex_unlock(&reg->mu);
    if (rc)
        metric_free(m);
    return rc;
}

static size_t max_children(struct sb_metrics *reg)
{
    pthread_mutex_lock(&reg->mu);
    size_t n = reg->max_children;
    pthread_mutex_unlock(&reg->mu);
    return n;
}

static struct sb_metric *reg_metric(struct sb_metrics *reg, enum kind k, const char *name,
                                    const char *help, const char *const *labels, size_t nlabels,
                                    const double *bounds, size_t nbounds)
{
    struct sb_metric *m;

    if (!reg || !valid_name(name, true) || !valid_labels(labels, nlabels, k == K_HISTOGRAM) ||
        !valid_bounds(bounds, nbounds))
        return NULL;
    m = metric_alloc(name, help, k, labels, nlabels, max_children(reg));
    if (!m)
        return NULL;
    if (nbounds) {
        m->bounds = malloc(nbounds * sizeof(*bounds));
        if (!m->bounds) {
            metric_free(m);
            return NULL;
        }
        memcpy(m->bounds, bounds, nbounds * sizeof(*bounds));
        m->nbounds = nbounds;
    }
    /* an unlabelled metric exists from the start (exported as 0) */
    if (nlabels == 0 && !child_for(m, NULL)) {
        metric_free(m);
        return NULL;
    }
    return link_metric(reg, m) ? NULL : m;
}

struct sb_metric *sb_metric_counter(struct sb_metrics *reg, const char *name, const char *help,
                                    const char *const *labels, size_t nlabels)
{
    return reg_metric(reg, K_COUNTER, name, help, labels, nlabels, NULL, 0);
}

struct sb_metric *sb_metric_gauge(struct sb_metrics *reg, const char *name, const char *help,
                                  const char *const *labels, size_t nlabels)
{
    return reg_metric(reg, K_GAUGE, name, help, labels, nlabels, NULL, 0);
}

struct sb_metric *sb_metric_histogram(struct sb_metrics *reg, const char *name, const char *help,
                                      const char *const *labels, size_t nlabels,
                                      const double *bounds, size_t nbounds)
{
    return reg_metric(reg, K_HISTOGRAM, name, help, labels, nlabels, bounds, nbounds);
}

static int fn_metric(struct sb_metrics *reg, enum kind k, const char *name, const char *help,
                     double (*fn)(void *ud), void *ud)
{
    struct sb_metric *m;

    if (!reg || !fn || !valid_name(name, true))
        return SB_EINVAL;
    m = metric_alloc(name, help, k, NULL, 0, 1);
    if (!m)
        return SB_ENOMEM;
    m->fn = fn;
    m->ud = ud;
    return link_metric(reg, m);
}

int sb_metric_gauge_fn(struct sb_metrics *reg, const char *name, const char *help,
                       double (*fn)(void *ud), void *ud)
{
    return fn_metric(reg, K_GAUGE_FN, name, help, fn, ud);
}

int sb_metric_counter_fn(struct sb_metrics *reg, const char *name, const char *help,
                         double (*fn)(void *ud), void *ud)
{
    return fn_metric(reg, K_COUNTER_FN, name, help, fn, ud);
}

struct sb_metrics *sb_metrics_new(void)
{
    struct sb_metrics *reg = calloc(1, sizeof(*reg));
    if (!reg)
        return NULL;
    pthread_mutex_init(&reg->mu, NULL);
    reg->tail = &reg->head;
    reg->max_children = SB_METRICS_DEFAULT_MAX_CHILDREN;
    return reg;
}

int sb_metrics_set_max_children(struct sb_metrics *reg, size_t n)
{
    if (!reg || n < 1 || n > SIZE_MAX / 4)
        return SB_EINVAL;
    pthread_mutex_lock(&reg->mu);
    reg->max_children = n;
    pthread_mutex_unlock(&reg->mu);
    return 0;
}

void sb_metrics_free(struct sb_metrics *reg)
{
    if (!reg)
        return;
    for (struct sb_metric *m = reg->head, *next; m; m = next) {
        next = m->next;
        metric_free(m);
    }
    pthread_mutex_destroy(&reg->mu);
    free(reg);
}

/* ---- children ---- */

static const char *val_at(const char *const *values, size_t i)
{
    return values && values[i] ? values[i] : "";
}

static uint64_t hash_values(const struct sb_metric *m, const char *const *values)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a 64 */
    for (size_t i = 0; i < m->nlabels; i++) {
        for (const unsigned char *p = (const unsigned char *)val_at(values, i); *p; p++)
            h = (h ^ *p) * 0x100000001b3ULL;
        h = (h ^ 0xff) * 0x100000001b3ULL;   /* separator: no UTF-8 byte is 0xff */
    }
    return h;
}

static bool same_values(const struct sb_metric *m, const struct child *c,
                        const char *const *values)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (strcmp(c->values[i], val_at(values, i)))
            return false;
    return true;
}

/* Lock-free probe; on a miss *slot (if given) is the empty slot that ends it. */
static struct child *probe(struct sb_metric *m, const char *const *values, uint64_t h,
                           size_t *slot)
{
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        struct child *c = atomic_load_explicit(&m->slots[i], memory_order_acquire);
        if (!c) {
            if (slot)
                *slot = i;
            return NULL;
        }
        if (c->hash == h && same_values(m, c, values))
            return c;
    }
}

static struct child *child_new(const struct sb_metric *m, const char *const *values, uint64_t h)
{
    size_t nb = m->kind == K_HISTOGRAM ? m->nbounds + 1 : 0;
    struct child *c = calloc(1, sizeof(*c) + nb * sizeof(c->buckets[0]));
    if (!c)
        return NULL;
    c->hash = h;
    atomic_init(&c->val, dbits(0.0));
    atomic_init(&c->sum, dbits(0.0));
    for (size_t i = 0; i < nb; i++)
        atomic_init(&c->buckets[i], 0);
    c->values = calloc(m->nlabels ? m->nlabels : 1, sizeof(*c->values));
    for (size_t i = 0; c->values && i < m->nlabels; i++)
        if (!(c->values[i] = strdup(val_at(values, i)))) {
            child_free(c, m->nlabels);
            return NULL;
        }
    if (!c->values) {
        free(c);
        return NULL;
    }
    return c;
}

/* The "other" child, created on first use; NULL only when out of memory. */
static struct child *other_child(struct sb_metric *m)
{
    struct child *c = atomic_load_explicit(&m->other, memory_order_acquire);
    if (c)
        return c;
    pthread_mutex_lock(&m->mu);
    c = atomic_load_explicit(&m->other, memory_order_relaxed);
    if (!c && (c = child_new(m, other_vals, hash_values(m, other_vals))) != NULL)
        atomic_store_explicit(&m->other, c, memory_order_release);
    pthread_mutex_unlock(&m->mu);
    return c;
}

static bool all_other(const struct sb_metric *m, const char *const *values)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (strcmp(val_at(values, i), "other"))
            return false;
    return m->nlabels > 0;
}

/* Create and publish a child for values under m->mu, or return the one
 * another thread published first; NULL when the bound is reached. */
static struct child *create_child(struct sb_metric *m, const char *const *values, uint64_t h)
{
    size_t slot;
    pthread_mutex_lock(&m->mu);
    struct child *c = probe(m, values, h, &slot);
    size_t n = atomic_load_explicit(&m->n, memory_order_relaxed);
    if (!c && n < m->max && (c = child_new(m, values, h)) != NULL) {
        m->order[n] = c;
        /* release: the child's fields are visible before its pointer */
        atomic_store_explicit(&m->slots[slot], c, memory_order_release);
        atomic_store_explicit(&m->n, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&m->mu);
    return c;
}

/* The child for values: lock-free when it exists.  Past the bound (or out
 * of memory) the update is counted and goes to "other" (NULL: dropped). */
static struct child *child_for(struct sb_metric *m, const char *const *values)
{
    uint64_t h = hash_values(m, values);
    struct child *c = probe(m, values, h, NULL);

    if (c)
        return c;
    if (all_other(m, values))       /* the caller's own "other": same series */
        return other_child(m);
    if (atomic_load_explicit(&m->n, memory_order_acquire) < m->max &&
        (c = create_child(m, values, h)) != NULL)
        return c;
    atomic_fetch_add_explicit(&m->overflow, 1, memory_order_relaxed);
    return other_child(m);
}

/* ---- updates ---- */

void sb_metric_inc(struct sb_metric *m, const char *const *values, double by)
{
    if (!m || (m->kind != K_COUNTER && m->kind != K_GAUGE) || isnan(by) ||
        (m->kind == K_COUNTER && by < 0))
        return;
    struct child *c = child_for(m, values);
    if (c)
        atomic_add_double(&c->val, by);
}

void sb_metric_set(struct sb_metric *m, const char *const *values, double v)
{
    if (!m || m->kind != K_GAUGE)
        return;
    struct child *c = child_for(m, values);
    if (c)
        atomic_store_explicit(&c->val, dbits(v), memory_order_relaxed);
}

void sb_metric_observe(struct sb_metric *m, const char *const *values, double v)
{
    if (!m || m->kind != K_HISTOGRAM || isnan(v))
        return;
    struct child *c = child_for(m, values);
    if (!c)
        return;
    /* first bucket with v <= le (buckets are "less than or equal") */
    size_t lo = 0, hi = m->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    atomic_fetch_add_explicit(&c->buckets[lo], 1, memory_order_relaxed);
    atomic_add_double(&c->sum, v);
}

uint64_t sb_metric_overflow(const struct sb_metric *m)
{
    return m ? atomic_load_explicit(&((struct sb_metric *)m)->overflow, memory_order_relaxed) : 0;
}

/* ---- exposition ---- */

/* A growing output buffer; oom sticks so writers need not check each call. */
struct buf {
    char *p;        /* data, NUL-terminated when non-NULL */
    size_t len;     /* bytes used */
    size_t cap;     /* bytes allocated */
    bool oom;       /* an allocation failed */
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 1024;
        while (nc < b->len + n + 1)
            nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = true;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* Escape \ and newline (HELP), plus " when quote (label values). */
static void put_escaped(struct buf *b, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(b, "\\\\", 2);
        else if (*s == '\n')
            put(b, "\\n", 2);
        else if (quote && *s == '"')
            put(b, "\\\"", 2);
        else
            put(b, s, 1);
    }
}

/* Go-compatible float text: "+Inf", "-Inf", "NaN", else the shortest of
 * %.15g/%.16g/%.17g that reads back to the same double. */
static void put_double(struct buf *b, double d)
{
    char s[40];
    if (isnan(d)) {
        puts_(b, "NaN");
        return;
    }
    if (isinf(d)) {
        puts_(b, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    for (char *p = s; *p; p++)      /* a non-C LC_NUMERIC would write ',' */
        if (*p == ',')
            *p = '.';
    puts_(b, s);
}

static void put_u64(struct buf *b, uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
    puts_(b, s);
}

/* name{l1="v1",...[,le="x"]} with no braces when there is nothing inside. */
static void put_series(struct buf *b, const struct sb_metric *m, const char *suffix,
                       const struct child *c, const char *le)
{
    puts_(b, m->name);
    puts_(b, suffix);
    if (!m->nlabels && !le)
        return;
    put(b, "{", 1);
    for (size_t i = 0; i < m->nlabels; i++) {
        if (i)
            put(b, ",", 1);
        puts_(b, m->labels[i]);
        put(b, "=\"", 2);
        put_escaped(b, c->values[i], true);
        put(b, "\"", 1);
    }
    if (le) {
        puts_(b, m->nlabels ? ",le=\"" : "le=\"");
        puts_(b, le);
        put(b, "\"", 1);
    }
    put(b, "}", 1);
}

static void write_histogram(struct buf *b, const struct sb_metric *m, struct child *c)
{
    uint64_t cum = 0;
    struct buf le = { 0 };
    for (size_t i = 0; i <= m->nbounds; i++) {
        cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
        le.len = 0;
        if (i < m->nbounds)
            put_double(&le, m->bounds[i]);
        else
            puts_(&le, "+Inf");
        if (le.oom) {
            b->oom = true;
            break;
        }
        put_series(b, m, "_bucket", c, le.p);
        put(b, " ", 1);
        put_u64(b, cum);
        put(b, "\n", 1);
    }
    free(le.p);
    put_series(b, m, "_sum", c, NULL);
    put(b, " ", 1);
    put_double(b, bitsd(atomic_load_explicit(&c->sum, memory_order_relaxed)));
    put(b, "\n", 1);
    put_series(b, m, "_count", c, NULL);   /* == the +Inf bucket, by construction */
    put(b, " ", 1);
    put_u64(b, cum);
    put(b, "\n", 1);
}

static void write_child(struct buf *b, const struct sb_metric *m, struct child *c)
{
    if (m->kind == K_HISTOGRAM) {
        write_histogram(b, m, c);
        return;
    }
    put_series(b, m, "", c, NULL);
    put(b, " ", 1);
    put_double(b, bitsd(atomic_load_explicit(&c->val, memory_order_relaxed)));
    put(b, "\n", 1);
}

static void write_metric(struct buf *b, struct sb_metric *m)
{
    if (m->help) {
        puts_(b, "# HELP ");
        puts_(b, m->name);
        put(b, " ", 1);
        put_escaped(b, m->help, false);
        put(b, "\n", 1);
    }
    puts_(b, "# TYPE ");
    puts_(b, m->name);
    put(b, " ", 1);
    puts_(b, kind_names[m->kind]);
    put(b, "\n", 1);
    if (m->kind == K_GAUGE_FN || m->kind == K_COUNTER_FN) {
        puts_(b, m->name);
        put(b, " ", 1);
        put_double(b, m->fn(m->ud));
        put(b, "\n", 1);
        return;
    }
    size_t n = atomic_load_explicit(&m->n, memory_order_acquire);
    for (size_t i = 0; i < n; i++)
        write_child(b, m, m->order[i]);
    struct child *o = atomic_load_explicit(&m->other, memory_order_acquire);
    if (o)
        write_child(b, m, o);
}

int sb_metrics_write(struct sb_metrics *reg, char **out, size_t *len)
{
    struct buf b = { 0 };

    if (!reg || !out || !len)
        return SB_EINVAL;
    put(&b, "", 0);   /* an empty registry is "", not NULL */
    pthread_mutex_lock(&reg->mu);
    for (struct sb_metric *m = reg->head; m; m = m->next)
        write_metric(&b, m);
    pthread_mutex_unlock(&reg->mu);
    if (b.oom) {
        free(b.p);
        return SB_ENOMEM;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}

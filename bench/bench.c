/*
 * bench.c - synthetic building data and measurement helpers (see bench.h).
 *
 * Value models, chosen to look like what a building management system logs:
 *  - zone temperature: setpoint 20.5-23.4 degC, a daily swing (coldest 03:00,
 *    warmest 15:00 UTC) of 0.3-1.7 degC, plus AR(1) noise with a 30-minute
 *    time constant and 0.15 degC standard deviation, rounded to 0.1 degC (the
 *    display resolution of most BACnet room sensors);
 *  - humidity: 40-54 %RH, 3 % daily swing, AR(1) noise (60 min, 0.8 %), 0.1 %;
 *  - power: a base load of 5-54 kW times an occupancy profile (35 % at
 *    night and weekends, a sin^2 bump to 100 % between 06:00 and 20:00 on
 *    weekdays), AR(1) noise (5 min, 5 %), rounded to 0.1 kW;
 *  - energy: the integral of that power, as a register rounded down to
 *    0.01 kWh (so it never decreases), starting from a point-specific reading.
 * Gaussian noise is the Irwin-Hall sum of four uniforms (mean 0, sd 1 after
 * scaling by sqrt(3)): cheap, and its bounded tails suit sensor noise.
 * The PRNG is xorshift64* (Vigna, "An experimental exploration of
 * Marsaglia's xorshift generators, scrambled", ACM TOMS 42(4), 2016).
 */
#include "bench.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/err.h"

#define MIN_PER_DAY 1440

static double daily_tab[MIN_PER_DAY];    /* -cos swing, -1 at 03:00, +1 at 15:00 */
static double occ_tab[MIN_PER_DAY];      /* weekday occupancy profile, 0.35..1 */
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tab_init(void)
{
    for (int m = 0; m < MIN_PER_DAY; m++) {
        double h = m / 60.0;
        daily_tab[m] = -cos(2.0 * M_PI * (h - 3.0) / 24.0);
        double bump = 0.0;
        if (h >= 6.0 && h < 20.0) {
            double s = sin(M_PI * (h - 6.0) / 14.0);
            bump = s * s;
        }
        occ_tab[m] = 0.35 + 0.65 * bump;
    }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform in [0, 1) from the top 53 bits. */
static double rng_unit(uint64_t *s)
{
    return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Approximately standard normal (Irwin-Hall, n = 4). */
static double rng_gauss(uint64_t *s)
{
    double u = rng_unit(s) + rng_unit(s) + rng_unit(s) + rng_unit(s);
    return (u - 2.0) * 1.7320508075688772;
}

/* splitmix64 finaliser: spreads a point id into a well-mixed seed. */
static uint64_t mix64(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* AR(1) noise with time constant tau_min and stationary deviation sd:
 * x' = phi x + sd sqrt(1 - phi^2) e, phi = exp(-dt / tau), e ~ N(0, 1). */
static void ar_setup(struct sb_bench_point *p, double tau_min, double sd)
{
    p->phi = exp(-(double)p->period_ms / (tau_min * 60000.0));
    p->innov = sd * sqrt(1.0 - p->phi * p->phi);
}

static void ar_step(struct sb_bench_point *p)
{
    p->noise = p->phi * p->noise + p->innov * rng_gauss(&p->rng);
}

enum sb_bench_kind sb_bench_kind_of(uint32_t id)
{
    switch (id % 10) {
    case 7: return SB_BENCH_HUMID;
    case 8: return SB_BENCH_POWER;
    case 9: return SB_BENCH_ENERGY;
    default: return SB_BENCH_TEMP;
    }
}

const char *sb_bench_kind_name(enum sb_bench_kind k)
{
    static const char *const names[SB_BENCH_KIND_COUNT] = { "temp", "humid", "power", "energy" };
    return (unsigned)k < SB_BENCH_KIND_COUNT ? names[k] : "?";
}

void sb_bench_point_init(struct sb_bench_point *p, uint32_t id, enum sb_bench_kind k,
                         int64_t period_ms, int64_t t_start)
{
    pthread_once(&tab_once, tab_init);
    memset(p, 0, sizeof *p);
    p->id = id;
    p->kind = k;
    p->period_ms = period_ms;
    p->t_next = t_start;
    p->rng = mix64(id) | 1;         /* xorshift state must be non-zero */
    uint64_t h = mix64(id ^ UINT64_C(0x5bd1e995));
    switch (k) {
    case SB_BENCH_TEMP:
        p->base = 20.5 + (double)(h % 30) / 10.0;
        p->amp = 0.3 + (double)(h % 15) / 10.0;
        ar_setup(p, 30.0, 0.15);
        break;
    case SB_BENCH_HUMID:
        p->base = 40.0 + (double)(h % 15);
        p->amp = 3.0;
        ar_setup(p, 60.0, 0.8);
        break;
    default:                        /* POWER, ENERGY: relative noise on the load */
        p->base = 5.0 + (double)(h % 50);
        ar_setup(p, 5.0, 0.05);
        break;
    }
    p->reg = 1000.0 + (double)(h % 900000) / 10.0;
}

void sb_bench_site_init(struct sb_bench_point *p, size_t n60, size_t n15, int64_t t_start)
{
    for (size_t i = 0; i < n60; i++)
        sb_bench_point_init(&p[i], (uint32_t)(i + 1), sb_bench_kind_of((uint32_t)(i + 1)),
                            SB_BENCH_MIN_MS, t_start);
    for (size_t i = 0; i < n15; i++)
        sb_bench_point_init(&p[n60 + i], (uint32_t)(n60 + i + 1),
                            i % 2 ? SB_BENCH_ENERGY : SB_BENCH_POWER, 15000, t_start);
}

/* Instantaneous power in kW at time t (POWER and ENERGY points). */
static double power_kw(struct sb_bench_point *p, int64_t t, int minute)
{
    int64_t day = t / SB_BENCH_DAY_MS;
    int dow = (int)((day + 4) % 7);   /* 1970-01-01 was a Thursday; 0 = Sunday */
    double occ = (dow == 0 || dow == 6) ? 0.35 : occ_tab[minute];
    ar_step(p);
    double kw = p->base * occ * (1.0 + p->noise);
    return kw > 0.0 ? kw : 0.0;
}

void sb_bench_next(struct sb_bench_point *p, struct sb_reading *out)
{
    int64_t t = p->t_next;
    int minute = (int)((t % SB_BENCH_DAY_MS) / SB_BENCH_MIN_MS);
    double v = 0.0;
    switch (p->kind) {
    case SB_BENCH_TEMP:
        ar_step(p);
        v = round((p->base + p->amp * daily_tab[minute] + p->noise) * 10.0) / 10.0;
        break;
    case SB_BENCH_HUMID:
        ar_step(p);
        v = round((p->base + p->amp * daily_tab[minute] + p->noise) * 10.0) / 10.0;
        break;
    case SB_BENCH_POWER:
        v = round(power_kw(p, t, minute) * 10.0) / 10.0;
        break;
    case SB_BENCH_ENERGY:
        p->reg += power_kw(p, t, minute) * (double)p->period_ms / 3600000.0;
        v = floor(p->reg * 100.0) / 100.0;
        break;
    default:
        break;
    }
    out->t = t;
    out->v = v;
    out->point = p->id;
    /* About one reading in 50,000 is flagged stale, as a flaky poll would be. */
    out->q = (rng_next(&p->rng) % 50000 == 0) ? SB_Q_STALE : 0;
    p->t_next = t + p->period_ms;
}

void sb_bench_stream_init(struct sb_bench_stream *s, struct sb_bench_point *p, size_t n,
                          int64_t t_start)
{
    s->p = p;
    s->n = n;
    s->pos = 0;
    s->t_after = INT64_MAX;
    s->t = INT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (p[i].t_next < t_start)
            p[i].t_next = t_start;
        if (p[i].t_next < s->t)
            s->t = p[i].t_next;
    }
}

size_t sb_bench_stream_fill(struct sb_bench_stream *s, struct sb_reading *out, size_t cap)
{
    size_t k = 0;
    while (k < cap && s->n > 0) {
        if (s->pos == s->n) {            /* instant done: move to the next one */
            s->t = s->t_after;
            s->t_after = INT64_MAX;
            s->pos = 0;
        }
        struct sb_bench_point *p = &s->p[s->pos++];
        if (p->t_next == s->t)
            sb_bench_next(p, &out[k++]);
        if (p->t_next < s->t_after)
            s->t_after = p->t_next;
    }
    return k;
}

uint32_t sb_bench_nth_of_kind(enum sb_bench_kind k, uint32_t limit, uint64_t rep)
{
    uint64_t count = 0;
    for (uint32_t id = 1; id <= limit; id++)
        count += sb_bench_kind_of(id) == k;
    if (count == 0)
        return 1;
    uint64_t want = rep % count;
    for (uint32_t id = 1; id <= limit; id++)
        if (sb_bench_kind_of(id) == k && want-- == 0)
            return id;
    return 1;
}

size_t sb_bench_zones(uint32_t n60, uint64_t rep, uint32_t *ids, size_t cap)
{
    uint64_t ntemp = 0;
    for (uint32_t id = 1; id <= n60; id++)
        ntemp += sb_bench_kind_of(id) == SB_BENCH_TEMP;
    uint64_t runs = cap > 0 && ntemp / cap > 0 ? ntemp / cap : 1;
    uint64_t skip = (rep % runs) * cap;
    size_t k = 0;
    for (uint32_t id = 1; id <= n60 && k < cap; id++) {
        if (sb_bench_kind_of(id) != SB_BENCH_TEMP)
            continue;
        if (skip > 0)
            skip--;
        else
            ids[k++] = id;
    }
    return k;
}

int64_t sb_bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double sb_bench_pct(double *v, size_t n, double pct)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    /* Nearest rank: the smallest value with at least pct % of the samples at
     * or below it (so p99 of fewer than 100 samples is the maximum). */
    size_t rank = (size_t)ceil(pct / 100.0 * (double)n);
    if (rank < 1)
        rank = 1;
    return v[(rank > n ? n : rank) - 1];
}

static int64_t du_total;

static int du_visit(const char *path, const struct stat *st, int type, struct FTW *f)
{
    (void)path;
    (void)f;
    if (type == FTW_F && S_ISREG(st->st_mode))
        du_total += st->st_size;
    return 0;
}

int64_t sb_bench_du(const char *dir)
{
    /* Not thread-safe (nftw has no context argument); benchmarks call it from
     * their main thread only. */
    du_total = 0;
    if (nftw(dir, du_visit, 16, FTW_PHYS) != 0)
        return SB_EIO;
    return du_total;
}

int64_t sb_bench_proc_status(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int64_t kb = -1;
    size_t len = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kb = strtoll(line + len + 1, NULL, 10);   /* "VmRSS:   1234 kB" */
            break;
        }
    }
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* The store backend the sbems programs run on (-B, -U). */
static const char *bench_backend = "sqlite";
static const char *bench_url = "";

int sb_bench_set_backend(const char *name, const char *url)
{
    if (strcmp(name, "sqlite") != 0 && strcmp(name, "postgres") != 0) {
        fprintf(stderr, "backend '%s' is not sqlite or postgres\n", name);
        return -1;
    }
    bench_backend = name;
    bench_url = url ? url : "";
    return 0;
}

const char *sb_bench_backend(void)
{
    return bench_backend;
}

const char *sb_bench_url(void)
{
    return bench_url;
}

int sb_bench_pg(void)
{
    return strcmp(bench_backend, "postgres") == 0;
}

/* Names start "sb_"; on PostgreSQL they start "sbpg_", so one run records
 * both backends side by side. */
void sb_bench_result(const char *name, double value, const char *unit)
{
    if (sb_bench_pg() && strncmp(name, "sb_", 3) == 0)
        printf("RESULT name=sbpg_%s value=%.9g unit=%s\n", name + 3, value, unit);
    else
        printf("RESULT name=%s value=%.9g unit=%s\n", name, value, unit);
    fflush(stdout);
}

int sb_bench_arg_int(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s ? s : "", &end, 10);
    if (!s || end == s || *end != '\0' || errno != 0 || v < lo || v > hi) {
        fprintf(stderr, "option %s: '%s' is not an integer in [%lld, %lld]\n", opt,
                s ? s : "", (long long)lo, (long long)hi);
        return SB_EINVAL;
    }
    *out = v;
    return 0;
}

/*
 * driver.c - the Modbus TCP/RTU driver: struct sb_driver_ops on libmodbus
 * 3.1 (see modbus.h and docs/internals/modbus.md).
 *
 * Connections are shared: one libmodbus context per TCP endpoint (a gateway
 * serves several unit ids on one connection) and per serial port.  Its
 * mutex keeps one transaction on the wire at a time, so two devices behind
 * one gateway, read on two worker threads, take turns.  A connection is
 * opened on first use and closed after any transport error (timeout, reset,
 * bad frame): a late answer must never be taken for the next request's, and
 * the next read reconnects.  An exception response is an answer: the
 * connection stays.
 *
 * Every libmodbus call gets the time left before the caller's deadline as
 * its response timeout, with the byte timeout off, so read() and write()
 * return within timeout_ms (plus the lock wait, also bounded).
 *
 * Descriptors: libmodbus 3.1.6 waits with select(), which aborts the process
 * (glibc's fortified FD_SET) for a descriptor >= FD_SETSIZE.  So libmodbus
 * never sees one: TCP is connected here (lowfd.c, poll()) and handed over
 * with modbus_set_socket(); a connection's descriptor (c->fd) stays where it
 * landed, and a transaction on one >= FD_SETSIZE borrows a low slot of the
 * driver's pool for its duration (conn_begin/conn_end).  See lowfd.h.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <modbus.h>

#include "core/err.h"
#include "core/paths.h"
#include "core/log.h"
#include "drivers/modbus/lowfd.h"
#include "drivers/modbus/modbus.h"

#define MOD "modbus"
#define DEFAULT_PROFILE_DIRS { "profiles", "/usr/share/sbems/profiles" }
#define DIR_MAX 1024

/* One TCP endpoint or serial port. */
struct conn {
    struct conn *next;          /* the driver's list (under mb.mu) */
    char key[SB_DRV_KEY_MAX];   /* "tcp:host:port" / "rtu:/dev/x" */
    struct sb_modbus_addr cfg;  /* connection settings (map unused) */
    unsigned refs;              /* bound points using it (under mb.mu) */
    pthread_mutex_t mu;         /* one transaction at a time; guards the rest */
    modbus_t *ctx;              /* libmodbus context, created on first use */
    int open;                   /* ctx is connected */
    int fd;                     /* the connection's own descriptor (any number), -1 closed */
    int slot;                   /* low slot lent for this transaction, or -1 */
    struct sb_modbus_lowfd *low;/* the driver's slot pool */
};

/* A bound point (pt->addr). */
struct mbpt {
    struct sb_modbus_addr a;    /* parsed address, profile entry resolved */
    struct conn *c;             /* its connection (holds a ref) */
    uint8_t flags;              /* SB_MODBUS_SPAN_* learnt from exceptions; only the
                                 * device's read (one at a time) touches it */
    int conv;                   /* the entry's unit differs from the point's */
    struct sb_unit_conv to_pt;  /* entry unit -> point unit */
    struct sb_unit_conv from_pt;/* point unit -> entry unit */
};

/* The driver instance. */
struct mb {
    struct sb_drv *drv;         /* framework handle */
    char dirs[2][DIR_MAX];      /* profile directories, searched in order */
    int ndirs;                  /* 1 or 2 */
    struct sb_modbus_limits lim;/* planner limits */
    pthread_mutex_t mu;         /* conns and profiles */
    struct conn *conns;         /* open or idle connections */
    struct sb_modbus_profile **prof;  /* loaded profiles */
    size_t nprof;               /* entries in prof */
    unsigned fd_slots;          /* size of low */
    struct sb_modbus_lowfd low; /* low descriptors lent to libmodbus (lowfd.h) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ init */

static int conf_uint(const json_t *conf, const char *key, unsigned lo, unsigned hi, unsigned *out,
                     char *err, size_t errlen)
{
    const json_t *v = json_object_get(conf, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        sb_errf(err, errlen, "modbus: \"%s\" must be an integer in %u..%u", key, lo, hi);
        return SB_ECONFIG;
    }
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static int conf_parse(struct mb *s, const json_t *conf, char *err, size_t errlen)
{
    static const char *const keys[] = { "profiles", "max_regs", "max_bits", "max_gap",
                                        "fd_slots" };
    const json_t *d = json_object_get(conf, "profiles"), *v;
    const char *k;

    if (!json_is_object(conf)) {
        sb_errf(err, errlen, "modbus: the configuration must be a JSON object");
        return SB_ECONFIG;
    }
    json_object_foreach((json_t *)conf, k, v) {
        size_t i = 0;
        while (i < 5 && strcmp(k, keys[i]) != 0)
            i++;
        if (i == 5) {
            sb_errf(err, errlen, "modbus: unknown configuration field \"%.40s\"", k);
            return SB_ECONFIG;
        }
    }
    if (d && (!json_is_string(d) || json_string_length(d) == 0 ||
              json_string_length(d) >= DIR_MAX)) {
        sb_errf(err, errlen, "modbus: \"profiles\" must be a directory path");
        return SB_ECONFIG;
    }
    if (d) {
        snprintf(s->dirs[0], DIR_MAX, "%s", json_string_value(d));
        s->ndirs = 1;
    }
    if (conf_uint(conf, "max_regs", 1, 125, &s->lim.max_regs, err, errlen) ||
        conf_uint(conf, "max_bits", 1, 2000, &s->lim.max_bits, err, errlen) ||
        conf_uint(conf, "max_gap", 0, 124, &s->lim.max_gap, err, errlen) ||
        conf_uint(conf, "fd_slots", 1, SB_MODBUS_LOWFD_MAX, &s->fd_slots, err, errlen))
        return SB_ECONFIG;
    return 0;
}

static void mb_free(void *state);

static int mb_init(struct sb_drv *drv, const json_t *conf, void **state, char *err, size_t errlen)
{
    static const char *const dirs[] = DEFAULT_PROFILE_DIRS;
    struct mb *s = calloc(1, sizeof(*s));
    int rc;

    *state = NULL;
    if (!s)
        return SB_ENOMEM;
    s->drv = drv;
    s->lim = (struct sb_modbus_limits){ .max_regs = MODBUS_MAX_READ_REGISTERS,
                                        .max_bits = MODBUS_MAX_READ_BITS, .max_gap = 8 };
    s->ndirs = 2;
    for (int i = 0; i < 2; i++)
        if (sb_path_data(dirs[i], s->dirs[i], DIR_MAX))   /* tree or installed */
            snprintf(s->dirs[i], DIR_MAX, "%s", dirs[i]);
    s->fd_slots = SB_MODBUS_LOWFD_DEFAULT;
    s->low.devnull = -1;
    pthread_mutex_init(&s->mu, NULL);
    /* The slots are reserved now, while the daemon has few files open. */
    if ((conf && (rc = conf_parse(s, conf, err, errlen))) ||
        (rc = sb_modbus_lowfd_init(&s->low, s->fd_slots, err, errlen))) {
        mb_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* -------------------------------------------------------------- profiles */

/* The profile called name, loaded on first use (under s->mu). */
static int profile_get(struct mb *s, const char *name, const struct sb_modbus_profile **out,
                       char *err, size_t errlen)
{
    struct sb_modbus_profile *p = NULL, **np;
    int rc = SB_ENOENT;

    for (size_t i = 0; i < s->nprof; i++) {
        if (strcmp(s->prof[i]->name, name) == 0) {
            *out = s->prof[i];
            return 0;
        }
    }
    for (int i = 0; i < s->ndirs && rc == SB_ENOENT; i++)
        rc = sb_modbus_profile_load(s->dirs[i], name, &p, err, errlen);
    if (rc == SB_ENOENT)
        sb_errf(err, errlen, "profile \"%s\": no %s.json in %s%s%s", name, name, s->dirs[0],
                s->ndirs > 1 ? " or " : "", s->ndirs > 1 ? s->dirs[1] : "");
    if (rc)
        return rc;
    if (!(np = realloc(s->prof, (s->nprof + 1) * sizeof(*np)))) {
        sb_modbus_profile_free(p);
        return SB_ENOMEM;
    }
    s->prof = np;
    s->prof[s->nprof++] = p;
    SB_INFO(MOD, "loaded profile %s (%zu entries)", p->name, p->n);
    *out = p;
    return 0;
}

/* ----------------------------------------------------------- connections */

static int same_serial(const struct sb_modbus_addr *a, const struct sb_modbus_addr *b)
{
    return a->baud == b->baud && a->parity == b->parity && a->data_bits == b->data_bits &&
           a->stop_bits == b->stop_bits;
}

/* Find or create the connection for a (under s->mu); takes a reference. */
static int conn_get(struct mb *s, const struct sb_modbus_addr *a, struct conn **out,
                    char *err, size_t errlen)
{
    char key[SB_DRV_KEY_MAX];
    struct conn *c;

    if (sb_modbus_addr_conn_key(a, key, sizeof key)) {
        sb_errf(err, errlen, "address: host or serial path too long for a device key");
        return SB_EINVAL;
    }
    for (c = s->conns; c && strcmp(c->key, key) != 0; c = c->next)
        ;
    if (c && a->rtu && !same_serial(&c->cfg, a)) {
        sb_errf(err, errlen, "address: serial %s is already used at %u baud %u%c%u by other "
                "points; all points on one port need the same settings", a->serial,
                (unsigned)c->cfg.baud, (unsigned)c->cfg.data_bits, c->cfg.parity,
                (unsigned)c->cfg.stop_bits);
        return SB_EINVAL;
    }
    if (!c) {
        if (!(c = calloc(1, sizeof(*c))))
            return SB_ENOMEM;
        memcpy(c->key, key, sizeof key);
        c->cfg = *a;
        memset(&c->cfg.map, 0, sizeof(c->cfg.map));
        pthread_mutex_init(&c->mu, NULL);
        c->fd = c->slot = -1;
        c->low = &s->low;
        c->next = s->conns;
        s->conns = c;
    }
    c->refs++;
    *out = c;
    return 0;
}

/* Close the connection (under c->mu), also in the middle of a transaction:
 * the slot, if one is lent, is parked first (it stays lent until conn_end)
 * and libmodbus closes the real descriptor, never the slot. */
static void conn_close(struct conn *c)
{
    if (!c->open)
        return;
    if (c->slot >= 0) {
        sb_modbus_lowfd_park(c->low, c->slot);
        modbus_set_socket(c->ctx, c->fd);
    }
    /* TCP: shutdown + close; RTU: restores the saved termios, then close. */
    modbus_close(c->ctx);
    c->open = 0;
    c->fd = -1;
    SB_DEBUG(MOD, "%s: closed", c->key);
}

static void conn_destroy(struct conn *c)
{
    conn_close(c);
    if (c->ctx)
        modbus_free(c->ctx);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Drop a reference (under s->mu); the last one frees the connection. */
static void conn_put(struct mb *s, struct conn *c)
{
    struct conn **pp;
    if (--c->refs)
        return;
    for (pp = &s->conns; *pp && *pp != c; pp = &(*pp)->next)
        ;
    if (*pp)
        *pp = c->next;
    conn_destroy(c);
}

/* The time left before deadline as the response timeout; SB_ETIMEDOUT when
 * none is left. */
static int set_deadline(modbus_t *ctx, int64_t deadline)
{
    int64_t left = deadline - now_ms();
    if (left <= 0)
        return SB_ETIMEDOUT;
    modbus_set_response_timeout(ctx, (uint32_t)(left / 1000), (uint32_t)(left % 1000) * 1000);
    return 0;
}

static modbus_t *ctx_new(const struct sb_modbus_addr *a)
{
    char port[8];
    modbus_t *ctx;

    if (a->rtu) {
        ctx = modbus_new_rtu(a->serial, (int)a->baud, a->parity, a->data_bits, a->stop_bits);
    } else {
        snprintf(port, sizeof port, "%u", (unsigned)a->port);
        ctx = modbus_new_tcp_pi(a->host, port);
    }
    if (ctx) {
        /* No byte timeout: the response timeout then bounds the whole
         * answer (modbus_set_byte_timeout(3)). */
        modbus_set_byte_timeout(ctx, 0, 0);
        modbus_set_error_recovery(ctx, MODBUS_ERROR_RECOVERY_NONE);
    }
    return ctx;
}

/* A failed libmodbus call's errno as an SB_E code; *exc = exception code. */
static int classify(int e, int *exc)
{
    *exc = 0;
    if (e > MODBUS_ENOBASE && e <= MODBUS_ENOBASE + MODBUS_EXCEPTION_GATEWAY_TARGET) {
        *exc = e - MODBUS_ENOBASE;
        return SB_EPROTO;
    }
    if (e == ETIMEDOUT || e == EINPROGRESS || e == EAGAIN)
        return SB_ETIMEDOUT;
    if (e >= EMBBADCRC && e <= EMBBADSLAVE)
        return SB_EPROTO;   /* garbled or mismatched frame */
    return SB_EIO;
}

/* Connect c if it is not (under c->mu). */
static int conn_open(struct conn *c, int64_t deadline, char *err, size_t errlen)
{
    int rc, exc;

    if (c->open)
        return 0;
    if (!c->ctx && !(c->ctx = ctx_new(&c->cfg))) {
        sb_errf(err, errlen, "%s: cannot create the libmodbus context: %s", c->key,
                modbus_strerror(errno));
        return SB_EIO;
    }
    if ((rc = set_deadline(c->ctx, deadline))) {
        sb_errf(err, errlen, "%s: no time left to connect", c->key);
        return rc;
    }
    if (!c->cfg.rtu) {
        char why[128];
        /* Not modbus_connect(): its _connect() waits with select(). */
        if ((rc = sb_modbus_tcp_connect(c->cfg.host, c->cfg.port, deadline, &c->fd, why,
                                        sizeof why))) {
            sb_errf(err, errlen, "%s: connect: %s", c->key, why);
            return rc;
        }
        modbus_set_socket(c->ctx, c->fd);
    } else if (modbus_connect(c->ctx) != 0) {
        /* RTU opens the tty with open(2), no select(), whatever its number. */
        int e = errno;
        rc = classify(e, &exc);
        sb_errf(err, errlen, "%s: connect: %s", c->key,
                rc == SB_ETIMEDOUT ? "timed out" : modbus_strerror(e));
        return rc;
    } else {
        c->fd = modbus_get_socket(c->ctx);
    }
    c->open = 1;
    SB_DEBUG(MOD, "%s: connected", c->key);
    return 0;
}

/* Lock c within the deadline.  pthread_mutex_timedlock takes a
 * CLOCK_REALTIME time, so a clock step while waiting stretches or cuts the
 * wait; pthread_mutex_clocklock (glibc 2.30) would avoid that but sanitizers
 * do not intercept it yet, and the wait only matters on a busy gateway. */
static int conn_lock(struct conn *c, int64_t deadline, char *err, size_t errlen)
{
    struct timespec ts;
    int64_t left = deadline - now_ms();
    clock_gettime(CLOCK_REALTIME, &ts);
    if (left < 0)
        left = 0;
    ts.tv_sec += left / 1000;
    ts.tv_nsec += (left % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    if (pthread_mutex_timedlock(&c->mu, &ts) != 0) {
        sb_errf(err, errlen, "%s: connection busy with another device past the deadline", c->key);
        return SB_ETIMEDOUT;
    }
    return 0;
}

/* Give libmodbus a descriptor below FD_SETSIZE for this transaction: the
 * connection's own, or a slot of the pool holding a duplicate of it. */
static int conn_lend(struct conn *c, int64_t deadline, char *err, size_t errlen)
{
    int rc;

    if (c->fd < FD_SETSIZE)
        return 0;
    if ((rc = sb_modbus_lowfd_lend(c->low, c->fd, deadline, &c->slot))) {
        if (rc == SB_ETIMEDOUT)
            sb_errf(err, errlen, "%s: every low descriptor slot busy past the deadline "
                    "(raise the driver's fd_slots)", c->key);
        else
            sb_errf(err, errlen, "%s: cannot lend a low descriptor: %s", c->key,
                    strerror(errno));
        return rc;
    }
    modbus_set_socket(c->ctx, c->slot);
    return 0;
}

/* Lock, connect, select the unit, lend a low descriptor. */
static int conn_begin(struct conn *c, int unit, int64_t deadline, char *err, size_t errlen)
{
    int rc = conn_lock(c, deadline, err, errlen);
    if (rc)
        return rc;
    if ((rc = conn_open(c, deadline, err, errlen)) == 0 &&
        (rc = conn_lend(c, deadline, err, errlen)) == 0)
        modbus_set_slave(c->ctx, unit);
    if (rc)
        pthread_mutex_unlock(&c->mu);
    return rc;
}

/* End the transaction: libmodbus gets the real descriptor back, the slot
 * goes back to the pool (parked on /dev/null), the connection is unlocked. */
static void conn_end(struct conn *c)
{
    if (c->slot >= 0) {
        if (c->open)
            modbus_set_socket(c->ctx, c->fd);
        sb_modbus_lowfd_return(c->low, c->slot);
        c->slot = -1;
    }
    pthread_mutex_unlock(&c->mu);
}

/* Describe a failed transaction in err; close the connection unless the
 * device answered (an exception).  Returns the SB_E code. */
static int fail(struct conn *c, int unit, int e, const char *what, int64_t timeout_ms,
                int *exc, char *err, size_t errlen)
{
    int rc = classify(e, exc);
    if (*exc)
        sb_errf(err, errlen, "exception %d: %s", *exc, sb_modbus_exception_name(*exc));
    else if (rc == SB_ETIMEDOUT)
        sb_errf(err, errlen, "%s/%d: %s: no answer within %lld ms", c->key, unit, what,
                (long long)timeout_ms);
    else
        sb_errf(err, errlen, "%s/%d: %s: %s", c->key, unit, what, modbus_strerror(e));
    if (!*exc) {
        SB_DEBUG(MOD, "%s/%d: %s failed (%s); reconnecting on next use", c->key, unit, what,
                 modbus_strerror(e));
        conn_close(c);
    }
    return rc;
}

/* ------------------------------------------------------------------ bind */

/* Units: the profile entry's unit -> the point's.  Nothing to convert when
 * either side declares none (a point without a unit takes the entry's
 * numbers as they are). */
static int bind_units(struct mbpt *p, const struct sb_drv_point *pt, char *err, size_t errlen)
{
    enum sb_unit from = p->a.map.unit, to = pt->unit;
    if (from == SB_UNIT_INVALID || to == SB_UNIT_INVALID || to == SB_UNIT_NONE || from == to)
        return 0;
    if (sb_unit_conv_init(&p->to_pt, from, to) || sb_unit_conv_init(&p->from_pt, to, from)) {
        sb_errf(err, errlen, "address: profile entry \"%s\" is in %s, which does not convert to "
                "the point's unit %s", p->a.map.name, sb_unit_symbol(from), sb_unit_symbol(to));
        return SB_EINVAL;
    }
    p->conv = 1;
    return 0;
}

static int bind_locked(struct mb *s, struct sb_drv_point *pt, struct mbpt *p, char *key,
                       size_t keycap, char *err, size_t errlen)
{
    const struct sb_modbus_profile *prof;
    int rc;

    if (p->a.profile[0]) {
        if ((rc = profile_get(s, p->a.profile, &prof, err, errlen)))
            return rc == SB_ENOMEM ? rc : SB_EINVAL;
        if ((rc = sb_modbus_addr_resolve(&p->a, prof, err, errlen)))
            return rc == SB_ENOMEM ? rc : SB_EINVAL;
    }
    if ((rc = bind_units(p, pt, err, errlen)))
        return rc;
    if (sb_modbus_addr_key(&p->a, key, keycap)) {
        sb_errf(err, errlen, "address: device key longer than %zu bytes", keycap - 1);
        return SB_EINVAL;
    }
    return conn_get(s, &p->a, &p->c, err, errlen);
}

static int mb_bind(void *state, struct sb_drv_point *pt, char *key, size_t keycap,
                   char *err, size_t errlen)
{
    struct mb *s = state;
    struct mbpt *p;
    int rc;

    if (!pt->address || !pt->address_json) {
        sb_errf(err, errlen, "address: a Modbus address is a JSON object "
                "({\"host\":..., \"register\":..., \"type\":...})");
        return SB_EINVAL;
    }
    if (!(p = calloc(1, sizeof(*p))))
        return SB_ENOMEM;
    if ((rc = sb_modbus_addr_parse(pt->address, strlen(pt->address), &p->a, err, errlen)))
        goto out;
    pthread_mutex_lock(&s->mu);
    rc = bind_locked(s, pt, p, key, keycap, err, errlen);
    pthread_mutex_unlock(&s->mu);
out:
    if (rc) {
        sb_modbus_addr_release(&p->a);
        free(p);
        return rc;
    }
    pt->addr = p;
    return 0;
}

static void mb_unbind(void *state, struct sb_drv_point *pt)
{
    struct mb *s = state;
    struct mbpt *p = pt->addr;
    if (!p)
        return;
    pthread_mutex_lock(&s->mu);
    conn_put(s, p->c);
    pthread_mutex_unlock(&s->mu);
    sb_modbus_addr_release(&p->a);
    free(p);
    pt->addr = NULL;
}

/* ------------------------------------------------------------------ read */

/* Read one request into v[] (registers, or bits as 0/1). */
static int xfer_read(struct conn *c, const struct sb_modbus_req *r, uint16_t *v)
{
    uint8_t bits[MODBUS_MAX_READ_BITS];
    int n;

    switch (r->table) {
    case SB_MODBUS_COIL:     n = modbus_read_bits(c->ctx, r->addr, r->count, bits); break;
    case SB_MODBUS_DISCRETE: n = modbus_read_input_bits(c->ctx, r->addr, r->count, bits); break;
    case SB_MODBUS_INPUT:    n = modbus_read_input_registers(c->ctx, r->addr, r->count, v); break;
    default:                 n = modbus_read_registers(c->ctx, r->addr, r->count, v); break;
    }
    if (n < 0)
        return -1;
    if (r->table == SB_MODBUS_COIL || r->table == SB_MODBUS_DISCRETE)
        for (int i = 0; i < n; i++)
            v[i] = bits[i] != 0;
    return 0;
}

/* Fill item from the values v[] read starting at address base. */
static void decode_item(struct sb_drv_item *it, const uint16_t *v, size_t nv, uint16_t base)
{
    struct mbpt *p = it->pt->addr;
    size_t off = (size_t)(p->a.map.addr - base);
    double raw;
    int rc = sb_modbus_decode(&p->a.map, v + off, nv - off, &raw);

    it->t = 0;
    it->q = 0;
    it->rc = rc;
    if (rc == SB_ENAN) {
        sb_errf(it->err, sizeof it->err, "the device reports no value (NaN or infinity)");
        return;
    }
    if (rc) {
        sb_errf(it->err, sizeof it->err, "short answer");
        return;
    }
    it->v = sb_modbus_scale(&p->a.map, raw);
    if (p->conv)
        it->v = sb_unit_conv_apply(&p->to_pt, it->v);
    it->err[0] = '\0';
}

static void item_fail(struct sb_drv_item *it, int rc, const char *msg)
{
    it->rc = rc;
    it->v = NAN;
    snprintf(it->err, sizeof it->err, "%s", msg);
}

/* One request for the single item it. */
static struct sb_modbus_req solo_req(const struct sb_drv_item *it)
{
    const struct mbpt *p = it->pt->addr;
    return (struct sb_modbus_req){ p->a.map.table, p->a.map.addr,
                                   (uint16_t)sb_modbus_type_regs(p->a.map.type), 0, 1 };
}

/* Per-device context of one read() call. */
struct rd {
    struct conn *c;             /* the connection, locked */
    int unit;                   /* unit id */
    int64_t deadline;           /* monotonic ms */
    int64_t timeout_ms;         /* for messages */
    char *err;                  /* the caller's error buffer */
    size_t errlen;
};

/* Run request r; 0 (values in v), a device-level SB_E code (err filled), or
 * 1 with *exc set when the device answered with an exception. */
static int run_req(struct rd *d, const struct sb_modbus_req *r, uint16_t *v, int *exc)
{
    char what[64];
    int rc;

    *exc = 0;
    if ((rc = set_deadline(d->c->ctx, d->deadline))) {
        sb_errf(d->err, d->errlen, "%s/%d: no answer within %lld ms", d->c->key, d->unit,
                (long long)d->timeout_ms);
        return rc;
    }
    if (xfer_read(d->c, r, v) == 0)
        return 0;
    snprintf(what, sizeof what, "read %s %u+%u", sb_modbus_table_name(r->table),
             (unsigned)r->addr, (unsigned)r->count);
    rc = fail(d->c, d->unit, errno, what, d->timeout_ms, exc, d->err, d->errlen);
    /* Exceptions 10/11: the gateway answers for a device that did not;
     * that is the device failing, not one point. */
    if (*exc == MODBUS_EXCEPTION_GATEWAY_TARGET)
        return SB_ETIMEDOUT;
    if (*exc == MODBUS_EXCEPTION_GATEWAY_PATH)
        return SB_EIO;
    return *exc ? 1 : rc;
}

/* A group answered with an exception: read its points one by one so one
 * bad address does not cost its neighbours; remember what was learnt. */
static int split_req(struct rd *d, struct sb_drv_item **its, size_t n, uint16_t *v)
{
    char why[SB_DRV_ERR_MAX];
    int exc, rc;

    for (size_t i = 0; i < n; i++) {
        struct mbpt *p = its[i]->pt->addr;
        struct sb_modbus_req r = solo_req(its[i]);
        p->flags |= SB_MODBUS_SPAN_GAPLESS;
        if ((rc = run_req(d, &r, v, &exc)) == 0) {
            decode_item(its[i], v, r.count, r.addr);
        } else if (rc == 1) {
            p->flags |= SB_MODBUS_SPAN_ALONE;
            snprintf(why, sizeof why, "%s", d->err);
            item_fail(its[i], SB_EPROTO, why);
            d->err[0] = '\0';
        } else {
            return rc;
        }
    }
    return 0;
}

static int do_req(struct rd *d, const struct sb_modbus_req *r, struct sb_drv_item **its,
                  uint16_t *v)
{
    int exc, rc = run_req(d, r, v, &exc);

    if (rc == 0) {
        for (size_t i = 0; i < r->n; i++)
            decode_item(its[i], v, r->count, r->addr);
        return 0;
    }
    if (rc != 1)
        return rc;
    if (r->n == 1) {
        item_fail(its[0], SB_EPROTO, d->err);
        d->err[0] = '\0';
        return 0;
    }
    d->err[0] = '\0';
    return split_req(d, its, r->n, v);
}

/* The bound items of this device as spans; others get an error. */
static size_t collect(struct sb_drv_item *items, size_t n, struct conn *c, int unit,
                      struct sb_modbus_span *sp, struct sb_drv_item **its)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        struct mbpt *p = items[i].pt ? items[i].pt->addr : NULL;
        if (!p || p->c != c || p->a.unit != unit) {
            item_fail(&items[i], SB_EINVAL, "point is not bound to this device");
            continue;
        }
        sp[m] = (struct sb_modbus_span){ p->a.map.table, p->flags, p->a.map.addr,
                                         (uint16_t)sb_modbus_type_regs(p->a.map.type) };
        its[m++] = &items[i];
    }
    return m;
}

struct plan {
    struct sb_modbus_span *sp;  /* spans of the bound items */
    struct sb_drv_item **its;   /* their items */
    struct sb_drv_item **sorted;/* items in request order */
    size_t *order;              /* planner output */
    struct sb_modbus_req *reqs; /* planner output */
    size_t n, nreq;             /* spans, requests */
};

static void plan_free(struct plan *pl)
{
    free(pl->sp);
    free(pl->its);
    free(pl->sorted);
    free(pl->order);
    free(pl->reqs);
}

static int plan_make(struct mb *s, struct sb_drv_item *items, size_t n, struct conn *c, int unit,
                     struct plan *pl)
{
    memset(pl, 0, sizeof(*pl));
    pl->sp = malloc(n * sizeof(*pl->sp));
    pl->its = malloc(n * sizeof(*pl->its));
    pl->sorted = malloc(n * sizeof(*pl->sorted));
    pl->order = malloc(n * sizeof(*pl->order));
    pl->reqs = malloc(n * sizeof(*pl->reqs));
    if (!pl->sp || !pl->its || !pl->sorted || !pl->order || !pl->reqs)
        return SB_ENOMEM;
    pl->n = collect(items, n, c, unit, pl->sp, pl->its);
    if (sb_modbus_plan(pl->sp, pl->n, &s->lim, pl->order, pl->reqs, &pl->nreq))
        return SB_EINVAL;
    for (size_t i = 0; i < pl->n; i++)
        pl->sorted[i] = pl->its[pl->order[i]];
    return 0;
}

static int mb_read(void *state, const char *key, struct sb_drv_item *items, size_t n,
                   int64_t timeout_ms, char *err, size_t errlen)
{
    uint16_t v[MODBUS_MAX_READ_BITS];
    struct mbpt *p0 = n && items[0].pt ? items[0].pt->addr : NULL;
    struct rd d = { .deadline = now_ms() + timeout_ms, .timeout_ms = timeout_ms,
                    .err = err, .errlen = errlen };
    struct plan pl;
    int rc;

    (void)key;
    if (!p0) {
        for (size_t i = 0; i < n; i++)
            item_fail(&items[i], SB_EINVAL, "point is not bound");
        return 0;
    }
    d.c = p0->c;
    d.unit = p0->a.unit;
    if ((rc = plan_make(state, items, n, d.c, d.unit, &pl))) {
        sb_errf(err, errlen, "%s: cannot plan the read: %s", d.c->key, sb_strerror(rc));
        goto out;
    }
    if ((rc = conn_begin(d.c, d.unit, d.deadline, err, errlen)))
        goto out;
    for (size_t i = 0; i < pl.nreq && rc == 0; i++)
        rc = do_req(&d, &pl.reqs[i], pl.sorted + pl.reqs[i].first, v);
    conn_end(d.c);
out:
    plan_free(&pl);
    if (rc)
        for (size_t i = 0; i < n; i++)
            if (items[i].rc == 0)
                item_fail(&items[i], rc, err);
    return rc;
}

/* ----------------------------------------------------------------- write */

/* Refusals that need no device: read-only table or entry, relinquish. */
static int write_allowed(struct sb_drv_write *w, const struct mbpt *p)
{
    const struct sb_modbus_map *m = &p->a.map;
    char *err = w->err;
    size_t errlen = sizeof w->err;

    if (w->relinquish) {
        sb_errf(err, errlen, "Modbus has no command priorities to relinquish");
        return SB_ENOTSUP;
    }
    if (m->table == SB_MODBUS_INPUT || m->table == SB_MODBUS_DISCRETE) {
        sb_errf(err, errlen, "the %s table is read-only (Modbus has no function to write it)",
                m->table == SB_MODBUS_INPUT ? "input register" : "discrete input");
        return SB_EINVAL;
    }
    if (m->writable == 0) {
        sb_errf(err, errlen, "profile entry \"%s\" is not writable", m->name);
        return SB_EINVAL;
    }
    if (!w->pt->writable) {
        sb_errf(err, errlen, "the point is not writable");
        return SB_EINVAL;
    }
    return 0;
}

/* The raw value to send for w. */
static int write_raw(struct sb_drv_write *w, const struct mbpt *p, double *raw)
{
    double value = w->value;
    int rc;

    if (p->conv)
        value = sb_unit_conv_apply(&p->from_pt, value);
    if ((rc = sb_modbus_unscale(&p->a.map, value, raw, w->err, sizeof w->err)))
        return rc;
    if (!sb_modbus_map_enum_ok(&p->a.map, (int64_t)*raw)) {
        sb_errf(w->err, sizeof w->err, "raw value %.0f is not one of the entry's enum values",
                *raw);
        return SB_EINVAL;
    }
    return 0;
}

/* The transaction(s) of a write (connection locked). */
static int write_xfer(struct conn *c, const struct sb_modbus_map *m, double raw)
{
    uint16_t regs[4];
    int k;

    if (m->type == SB_MODBUS_COILT)
        return modbus_write_bit(c->ctx, m->addr, raw != 0) == 1 ? 0 : -1;
    if (m->type == SB_MODBUS_BIT) {
        /* Read-modify-write (FC 3 then FC 6): FC 22 (mask write) would be
         * atomic but many devices lack it. */
        if (modbus_read_registers(c->ctx, m->addr, 1, regs) != 1)
            return -1;
    }
    k = sb_modbus_encode(m, raw, regs, 4);
    if (k < 0) {
        errno = EINVAL;
        return -1;
    }
    if (k == 1)
        return modbus_write_register(c->ctx, m->addr, regs[0]) == 1 ? 0 : -1;
    return modbus_write_registers(c->ctx, m->addr, k, regs) == k ? 0 : -1;
}

static int mb_write(void *state, const char *key, struct sb_drv_write *w, int64_t timeout_ms)
{
    struct mbpt *p = w->pt ? w->pt->addr : NULL;
    int64_t deadline = now_ms() + timeout_ms;
    double raw;
    int rc, exc;

    (void)state;
    (void)key;
    w->err[0] = '\0';
    if (!p) {
        sb_errf(w->err, sizeof w->err, "point is not bound");
        return SB_EINVAL;
    }
    if ((rc = write_allowed(w, p)) || (rc = write_raw(w, p, &raw)))
        return rc;
    if ((rc = conn_begin(p->c, p->a.unit, deadline, w->err, sizeof w->err)))
        return rc;
    if ((rc = set_deadline(p->c->ctx, deadline)) == 0 && write_xfer(p->c, &p->a.map, raw) != 0)
        rc = fail(p->c, p->a.unit, errno, "write", timeout_ms, &exc, w->err, sizeof w->err);
    else if (rc)
        sb_errf(w->err, sizeof w->err, "%s/%d: no time left to write", p->c->key, p->a.unit);
    conn_end(p->c);
    return rc;
}

/* ------------------------------------------------------------- stop/free */

static void mb_stop(void *state)
{
    struct mb *s = state;
    pthread_mutex_lock(&s->mu);
    for (struct conn *c = s->conns; c; c = c->next) {
        pthread_mutex_lock(&c->mu);
        conn_close(c);
        pthread_mutex_unlock(&c->mu);
    }
    pthread_mutex_unlock(&s->mu);
}

static void mb_free(void *state)
{
    struct mb *s = state;
    if (!s)
        return;
    while (s->conns) {
        struct conn *c = s->conns;
        s->conns = c->next;
        conn_destroy(c);
    }
    for (size_t i = 0; i < s->nprof; i++)
        sb_modbus_profile_free(s->prof[i]);
    free(s->prof);
    sb_modbus_lowfd_release(&s->low);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

const struct sb_driver_ops sb_driver_modbus = {
    .name = "modbus",
    .flags = SB_DRV_BLOCKING | SB_DRV_POLLED | SB_DRV_WRITES,
    .init = mb_init,
    .bind = mb_bind,
    .unbind = mb_unbind,
    .start = NULL,
    .stop = mb_stop,
    .read = mb_read,
    .write = mb_write,
    .discover = NULL,
    .free = mb_free,
};

/*
 * test_sim_modbus.c - sbems-sim's Modbus TCP meters (src/sim/mbdev.c).
 *
 * The face runs on a libuv loop in the main thread (stepped with
 * UV_RUN_NOWAIT); clients run on a second thread: libmodbus reading raw
 * registers (decoded here by hand, independently of sbems' codec), sbems'
 * own Modbus driver (src/drivers/modbus) reading every profile entry as a
 * site would, raw sockets for malformed frames, and mbpoll when installed.
 * The plant is the real one (src/sim/plant) on the Boston weather file.
 *
 * Run from the repository root (profiles/ and sim/weather/ are found
 * relative to it).  Network: 127.0.77.60-64 only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <modbus.h>
#include <uv.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"
#include "model/model.h"
#include "model/site_json.h"
#include "sim/mbdev.h"
#include "sim/plant/plant.h"
#include "tap.h"

#define EPW "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"
#define JUL10 1688965200000LL   /* Mon 2023-07-10 00:00 EST */
#define MINUTE 60000LL
#define HOUR 3600000LL
#define IP_MAIN "127.0.77.60"
#define IP_LIGHT "127.0.77.61"
#define IP_PLUGS "127.0.77.62"
#define IP_HVAC "127.0.77.63"
#define IP_CHIL "127.0.77.64"
#define WATCHDOG_S 240
#define NPT 64

/* ------------------------------------------------- framework link seams */

int sb_drv_push(struct sb_drv *drv, const struct sb_drv_value *v, size_t n)
{
    (void)drv;
    (void)v;
    (void)n;
    return 0;
}

void sb_drv_device_state(struct sb_drv *drv, const char *key, int ok, const char *err)
{
    (void)drv;
    (void)key;
    (void)ok;
    (void)err;
}

void sb_drv_count_bad(struct sb_drv *drv, const char *key, const char *what)
{
    (void)drv;
    (void)key;
    (void)what;
}

/* -------------------------------------------------------------- fixture */

static uv_loop_t loop;
static struct sb_epw *wx;
static struct sb_plant *plant;
static int64_t plant_ms;
static unsigned g_port;
static char g_offline[64];      /* the device the site says is offline ("" none) */
static int g_offline_calls;

static int is_offline(void *ud, const char *name)
{
    (void)ud;
    g_offline_calls++;
    return g_offline[0] && strcmp(name, g_offline) == 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void step(int64_t ms)
{
    plant_ms += ms;
    sb_plant_step(plant, (double)ms / 1000.0, plant_ms);
}

static double pget(const char *name)
{
    double v = NAN;
    sb_plant_get(plant, name, &v);
    return v;
}

/* A face on 127.0.77.60..; a taken port moves every later test up one. */
static struct sb_simmb *face_cfg(int listen, unsigned max_clients, unsigned idle_s, int index,
                                 const char *ip)
{
    struct sb_sim_site_ref site = { "harbor-point", index ? "hou" : "hpo", index, is_offline, NULL };
    struct sb_simmb *x = NULL;
    char err[256] = "";
    int rc = SB_EIO;

    for (int tries = 0; tries < 20 && rc == SB_EIO; tries++) {
        struct sb_simmb_cfg c = { .ip_base = ip, .port = g_port, .max_clients = max_clients,
                                  .idle_s = idle_s, .listen = listen };
        if ((rc = sb_simmb_new(&loop, plant, &site, &c, &x, err, sizeof err)) == SB_EIO) {
            uv_run(&loop, UV_RUN_NOWAIT);
            g_port++;
        }
    }
    if (rc)
        printf("# sb_simmb_new: %s (%s)\n", err, sb_strerror(rc));
    return rc ? NULL : x;
}

static struct sb_simmb *face(int listen)
{
    return face_cfg(listen, 0, 0, 0, IP_MAIN);
}

static void face_done(struct sb_simmb *x)
{
    sb_simmb_close(x);
    uv_run(&loop, UV_RUN_NOWAIT);
    sb_simmb_free(x);
}

/* Run fn(arg) on a thread while this thread turns the loop; 0 when it
 * finished within ms (the loop keeps turning until it does in any case:
 * every client call is bounded by its own timeout). */
struct runner {
    void (*fn)(void *);
    void *arg;
    atomic_int done;
};

static void *trampoline(void *p)
{
    struct runner *r = p;
    r->fn(r->arg);
    atomic_store(&r->done, 1);
    return NULL;
}

static int with_loop(void (*fn)(void *), void *arg, int ms)
{
    struct runner r = { fn, arg, 0 };
    pthread_t t;
    int64_t end = mono_ms() + ms;
    int late = 0;

    if (pthread_create(&t, NULL, trampoline, &r) != 0)
        return -1;
    while (!atomic_load(&r.done)) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(200);
        late = mono_ms() > end;
    }
    pthread_join(t, NULL);
    return late ? -1 : 0;
}

/* Turn the loop for ms. */
static void spin(int ms)
{
    int64_t end = mono_ms() + ms;
    while (mono_ms() < end) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(500);
    }
}

/* A libmodbus client (unit 255, as libmodbus' TCP default). */
static modbus_t *cli(const char *ip, int timeout_ms)
{
    modbus_t *c = modbus_new_tcp(ip, (int)g_port);
    if (!c)
        return NULL;
    modbus_set_response_timeout(c, (uint32_t)timeout_ms / 1000, (uint32_t)(timeout_ms % 1000) * 1000);
    if (modbus_connect(c) != 0) {
        modbus_free(c);
        return NULL;
    }
    return c;
}

static void cli_free(modbus_t *c)
{
    if (c) {
        modbus_close(c);
        modbus_free(c);
    }
}

/* Big-endian words (the profiles' word and byte order), decoded here
 * without sbems' codec. */
static float f32(const uint16_t *r)
{
    uint32_t u = (uint32_t)r[0] << 16 | r[1];
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static int64_t i64(const uint16_t *r)
{
    uint64_t u = (uint64_t)r[0] << 48 | (uint64_t)r[1] << 32 | (uint64_t)r[2] << 16 | r[3];
    return (int64_t)u;
}

/* ---------------------------------------------------- reads on a thread */

struct rd {
    const char *ip;             /* meter */
    int fc;                     /* 3 holding, 4 input, 1 coils, 6 write one, 16 write many */
    int addr, n;
    uint16_t r[32];             /* out */
    int rc, err;                /* out: libmodbus result and errno */
};

#define RD(ip_, fc_, addr_, n_) { .ip = ip_, .fc = fc_, .addr = addr_, .n = n_ }

struct rds {
    struct rd *v;
    size_t n;
    int timeout_ms;
};

static int do_rd(modbus_t *c, struct rd *d)
{
    uint8_t bits[32];
    switch (d->fc) {
    case 1:  return modbus_read_bits(c, d->addr, d->n, bits);
    case 3:  return modbus_read_registers(c, d->addr, d->n, d->r);
    case 4:  return modbus_read_input_registers(c, d->addr, d->n, d->r);
    case 6:  return modbus_write_register(c, d->addr, 1);
    default: return modbus_write_registers(c, d->addr, d->n, d->r);
    }
}

/* One connection per distinct meter, reused across items. */
static void job_reads(void *p)
{
    struct rds *j = p;
    const char *ips[8];
    modbus_t *cs[8];
    size_t nc = 0;

    for (size_t i = 0; i < j->n; i++) {
        struct rd *d = &j->v[i];
        size_t k = 0;
        while (k < nc && strcmp(ips[k], d->ip) != 0)
            k++;
        if (k == nc && nc < 8) {
            ips[nc] = d->ip;
            cs[nc++] = cli(d->ip, j->timeout_ms);
        }
        errno = 0;
        d->rc = cs[k] ? do_rd(cs[k], d) : -2;
        d->err = errno;
    }
    for (size_t k = 0; k < nc; k++)
        cli_free(cs[k]);
}

static int reads(struct rd *v, size_t n, int timeout_ms)
{
    struct rds j = { v, n, timeout_ms };
    return with_loop(job_reads, &j, 20000);
}

/* ----------------------------------------------------- sbems' driver */

struct drv {
    void *st;                               /* driver state */
    size_t n;
    struct sb_drv_point pt[NPT];
    char *addr[NPT];
    char key[NPT][SB_DRV_KEY_MAX];
    struct sb_drv_item it[NPT];
    char err[256];
    size_t first, count;                    /* the read to do */
    int rc;                                 /* its result */
};

static const struct sb_driver_ops *ops = &sb_driver_modbus;

static struct drv *drv_new(void)
{
    struct drv *d = calloc(1, sizeof(*d));
    if (d && ops->init(NULL, NULL, &d->st, d->err, sizeof d->err) != 0) {
        printf("# driver init: %s\n", d->err);
        free(d);
        d = NULL;
    }
    return d;
}

/* Bind an address (JSON text, taken over); its index or -1. */
static int drv_add(struct drv *d, char *addr, enum sb_unit unit)
{
    size_t i = d->n;
    if (!addr || i >= NPT)
        return -1;
    d->addr[i] = addr;
    d->pt[i] = (struct sb_drv_point){ .id = (uint32_t)i + 1, .slug = "p", .address = addr,
                                      .address_json = 1, .unit = unit, .min = NAN, .max = NAN };
    if (ops->bind(d->st, &d->pt[i], d->key[i], SB_DRV_KEY_MAX, d->err, sizeof d->err) != 0) {
        printf("# bind %s: %s\n", addr, d->err);
        free(addr);
        return -1;
    }
    d->n++;
    return (int)i;
}

static void job_drv(void *p)
{
    struct drv *d = p;
    for (size_t i = d->first; i < d->first + d->count; i++)
        d->it[i] = (struct sb_drv_item){ .pt = &d->pt[i] };
    d->rc = ops->read(d->st, d->key[d->first], &d->it[d->first], d->count, 3000, d->err,
                      sizeof d->err);
}

/* Read points [first, first + n), all of one device, through the driver. */
static int drv_read(struct drv *d, size_t first, size_t n)
{
    d->first = first;
    d->count = n;
    d->rc = SB_EIO;
    with_loop(job_drv, d, 20000);
    return d->rc;
}

static void drv_free(struct drv *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        ops->unbind(d->st, &d->pt[i]);
        free(d->addr[i]);
    }
    ops->stop(d->st);
    ops->free(d->st);
    free(d);
}

/* A source object for an address given as JSON text. */
static json_t *src_of(const char *addr_json)
{
    json_t *a = json_loads(addr_json, 0, NULL);
    return a ? json_pack("{s:s, s:o}", "driver", "modbus", "address", a) : NULL;
}

static int bind_text(struct sb_simmb *x, const char *addr_json)
{
    json_t *s = src_of(addr_json);
    int h = s ? sb_simmb_bind(x, s) : SB_ENOMEM;
    json_decref(s);
    return h;
}

static char *entry_addr(const char *ip, const char *profile, const char *name)
{
    char *s = NULL;
    if (asprintf(&s, "{\"host\":\"%s\",\"port\":%u,\"unit\":1,\"profile\":\"%s\",\"name\":\"%s\"}",
                 ip, g_port, profile, name) < 0)
        return NULL;
    return s;
}

/* ================================================================ tests */

TEST(frame_parser)
{
    struct sb_simmb_req r;
    uint8_t rd[12] = { 0x12, 0x34, 0, 0, 0, 6, 1, 3, 0x0b, 0xf3, 0, 2 };
    uint8_t wr[13] = { 0, 1, 0, 0, 0, 7, 0xff, 0x10, 0, 1, 0, 1, 2 };
    uint8_t big[260] = { 0, 1, 0, 0, 0, 254, 1, 0x10 };
    uint8_t two[24];

    for (size_t n = 0; n < sizeof rd; n++)  /* every prefix: more bytes needed */
        CHECK_EQ(sb_simmb__frame(rd, n, &r), 0);
    CHECK_EQ(sb_simmb__frame(rd, sizeof rd, &r), 1);
    CHECK_EQ(r.len, 12);
    CHECK_EQ(r.unit, 1);
    CHECK_EQ(r.fc, 3);
    CHECK_EQ(r.addr, 3059);
    CHECK_EQ(r.count, 2);
    CHECK_EQ(sb_simmb__frame(wr, sizeof wr, &r), 1);       /* not a read: framed, not parsed */
    CHECK_EQ(r.fc, 0x10);
    CHECK_EQ(r.len, 13);
    CHECK_EQ(sb_simmb__frame(big, sizeof big, &r), 1);     /* the largest ADU */
    CHECK_EQ(r.len, 260);
    memcpy(two, rd, 12);
    memcpy(two + 12, rd, 12);
    CHECK_EQ(sb_simmb__frame(two, sizeof two, &r), 1);     /* pipelined: the first one */
    CHECK_EQ(r.len, 12);
    /* refusals */
    uint8_t bad[12];
    memcpy(bad, rd, 12);
    bad[3] = 1;                                             /* protocol id 1 */
    CHECK_EQ(sb_simmb__frame(bad, 4, &r), SB_EPROTO);       /* known as soon as it is seen */
    memcpy(bad, rd, 12);
    bad[5] = 255;                                           /* 6 + 255 > 260 */
    CHECK_EQ(sb_simmb__frame(bad, 12, &r), SB_EPROTO);
    bad[5] = 1;                                             /* no function code */
    CHECK_EQ(sb_simmb__frame(bad, 12, &r), SB_EPROTO);
    memcpy(bad, rd, 12);
    bad[7] = 0;                                             /* function 0 */
    CHECK_EQ(sb_simmb__frame(bad, 12, &r), SB_EPROTO);
    bad[7] = 0x83;                                          /* an exception code as request */
    CHECK_EQ(sb_simmb__frame(bad, 12, &r), SB_EPROTO);
    memcpy(bad, rd, 12);
    bad[5] = 5;                                             /* read PDU of 4 bytes */
    CHECK_EQ(sb_simmb__frame(bad, 11, &r), SB_EPROTO);
    CHECK_EQ(sb_simmb__frame((const uint8_t *)"GET / HTTP/1.0\r\n", 16, &r), SB_EPROTO);
}

TEST(list_and_site)
{
    static const char *names[] = { "MTR-MAIN", "MTR-LIGHTING", "MTR-PLUGS", "MTR-HVAC",
                                   "MTR-CHILLER" };
    static const char *ips[] = { IP_MAIN, IP_LIGHT, IP_PLUGS, IP_HVAC, IP_CHIL };
    struct sb_simmb *x = face(0);
    json_t *l, *s, *doc;
    struct sb_model m;
    struct sb_model_errs errs;

    REQUIRE(x != NULL);
    l = sb_simmb_list(x);
    REQUIRE(json_array_size(l) == 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *o = json_array_get(l, i);
        CHECK_STR(json_string_value(json_object_get(o, "protocol")), "modbus/tcp");
        CHECK_STR(json_string_value(json_object_get(o, "name")), names[i]);
        CHECK_STR(json_string_value(json_object_get(o, "address")), ips[i]);
        CHECK_EQ(json_integer_value(json_object_get(o, "port")), g_port);
        CHECK_EQ(json_integer_value(json_object_get(o, "unit")), 1);
        CHECK_STR(json_string_value(json_object_get(o, "profile")),
                  i ? "eastron-sdm630" : "schneider-pm5xxx");
    }
    /* PM5xxx holding 2699..3210 = 512 registers; SDM630 input 0..343 */
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(l, 0), "registers")), 512);
    CHECK_EQ(json_integer_value(json_object_get(json_array_get(l, 1), "registers")), 344);
    CHECK_STR(json_string_value(json_array_get(json_object_get(json_array_get(l, 4), "plant"), 0)),
              "chiller.kw");
    json_decref(l);

    s = sb_simmb_site(x);
    REQUIRE(s != NULL);
    CHECK_EQ(json_array_size(json_object_get(s, "equipment")), 5);
    CHECK_EQ(json_array_size(json_object_get(s, "points")), 10 + 4 * 2);
    json_t *e4 = json_array_get(json_object_get(s, "equipment"), 4);
    CHECK_STR(json_string_value(json_object_get(e4, "id")), "mtr-chiller");
    CHECK_STR(json_string_value(json_object_get(e4, "parent")), "mtr-hvac");
    CHECK_STR(json_string_value(json_object_get(e4, "building")), "hpo");
    json_t *p0 = json_array_get(json_object_get(s, "points"), 0);
    CHECK_STR(json_string_value(json_object_get(p0, "id")), "mtr-main.power");
    CHECK_STR(json_string_value(json_object_get(p0, "unit")), "kW");
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(p0, "source"), "poll_s")), 15);
    /* sbems imports it: a whole document around the face's part validates */
    doc = json_pack("{s:s, s:i, s:[{s:s, s:s}], s:[{s:s, s:s, s:s, s:s}], s:O, s:O}",
                    "format", "sbems-site", "version", 1,
                    "sites", "id", "harbor-point", "name", "Harbor Point",
                    "buildings", "id", "hpo", "site", "harbor-point", "name", "Office",
                    "timezone", "America/New_York",
                    "equipment", json_object_get(s, "equipment"),
                    "points", json_object_get(s, "points"));
    sb_model_init(&m);
    sb_model_errs_init(&errs);
    CHECK_EQ(sb_model_from_json(doc, &m, &errs), 0);
    for (size_t i = 0; i < errs.n; i++)
        printf("# %s\n", errs.msg[i]);
    const struct sb_point *pt = sb_model_point(&m, "mtr-plugs.power");
    CHECK(pt != NULL);
    const struct sb_point *pe = sb_model_point(&m, "mtr-main.energy");
    CHECK(pe != NULL);
    sb_model_release(&m);
    sb_model_errs_release(&errs);
    json_decref(doc);
    json_decref(s);
    face_done(x);

    /* a second site: names prefixed, default address 127.0.<index>.60 */
    x = face_cfg(0, 0, 0, 3, NULL);
    REQUIRE(x != NULL);
    l = sb_simmb_list(x);
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 0), "name")), "HOU-MTR-MAIN");
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 0), "address")), "127.0.3.60");
    CHECK_STR(json_string_value(json_object_get(json_array_get(l, 2), "address")), "127.0.3.62");
    s = sb_simmb_site(x);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s, "equipment"), 1),
                                                "id")), "hou-mtr-lighting");
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(s, "points"), 0),
                                                "id")), "hou-mtr-main.power");
    json_decref(s);
    json_decref(l);
    face_done(x);
}

/* Configuration refusals name the problem. */
TEST(config_refusals)
{
    struct sb_sim_site_ref site = { "harbor-point", "hpo", 0, NULL, NULL };
    struct sb_simmb *x = NULL;
    char err[256];
    struct sb_simmb_cfg c = { .ip_base = "10.0.0.5" };

    CHECK_EQ(sb_simmb_new(&loop, plant, &site, &c, &x, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "127.0.0.0/8") != NULL);
    c.ip_base = "127.255.255.253";      /* no room for five meters */
    CHECK_EQ(sb_simmb_new(&loop, plant, &site, &c, &x, err, sizeof err), SB_EINVAL);
    c = (struct sb_simmb_cfg){ .ip_base = IP_MAIN, .max_clients = 65 };
    CHECK_EQ(sb_simmb_new(&loop, plant, &site, &c, &x, err, sizeof err), SB_EINVAL);
    c = (struct sb_simmb_cfg){ .ip_base = IP_MAIN, .profile_dir = "/nonexistent" };
    CHECK_EQ(sb_simmb_new(&loop, plant, &site, &c, &x, err, sizeof err), SB_ENOENT);
    CHECK(strstr(err, "schneider-pm5xxx") != NULL);
    CHECK(x == NULL);
}

/* The registers as a client sees them: encodings exact against the plant,
 * and the electrical model consistent. */
TEST(raw_registers)
{
    struct sb_simmb *x = face(1);
    struct rd v[] = {
        RD(IP_MAIN, 3, 3059, 2),        /* 0 total kW */
        RD(IP_MAIN, 3, 2699, 4),        /* 1 kWh delivered, received (float32) */
        RD(IP_MAIN, 3, 3203, 4),        /* 2 Wh delivered (int64) */
        RD(IP_MAIN, 3, 3207, 4),        /* 3 Wh received */
        RD(IP_MAIN, 3, 3019, 8),        /* 4 V ab bc ca ll_avg */
        RD(IP_MAIN, 3, 3027, 6),        /* 5 V an bn cn */
        RD(IP_MAIN, 3, 3035, 2),        /* 6 V ln avg */
        RD(IP_MAIN, 3, 2999, 8),        /* 7 I a b c n */
        RD(IP_MAIN, 3, 3009, 2),        /* 8 I avg */
        RD(IP_MAIN, 3, 3053, 8),        /* 9 kW a b c total */
        RD(IP_MAIN, 3, 3083, 2),        /* 10 PF */
        RD(IP_MAIN, 3, 3109, 2),        /* 11 Hz */
        RD(IP_PLUGS, 4, 52, 2),         /* 12 total W */
        RD(IP_PLUGS, 4, 72, 4),         /* 13 import, export kWh */
        RD(IP_PLUGS, 4, 342, 2),        /* 14 total kWh */
        RD(IP_PLUGS, 4, 0, 18),         /* 15 V1-3, I1-3, P1-3 */
        RD(IP_PLUGS, 4, 30, 6),         /* 16 PF1-3 */
        RD(IP_PLUGS, 4, 70, 2),         /* 17 Hz */
        RD(IP_CHIL, 4, 52, 2),          /* 18 chiller W */
        RD(IP_HVAC, 4, 52, 2),          /* 19 hvac W */
    };
    size_t n = sizeof v / sizeof v[0];

    REQUIRE(x != NULL);
    sb_simmb_sync(x, plant_ms, 0);
    CHECK_EQ(reads(v, n, 1000), 0);
    for (size_t i = 0; i < n; i++)
        if (v[i].rc != v[i].n)
            TAP_FAIL("read %zu (%s fc %d @%d): %d, %s", i, v[i].ip, v[i].fc, v[i].addr, v[i].rc,
                     modbus_strerror(v[i].err));
    double kw = pget("meter.main.kw"), kwh = pget("meter.main.kwh");
    REQUIRE(kw > 20);                   /* an afternoon load, so the checks mean something */
    /* energy: float32 kWh and int64 Wh from the same plant kWh, exactly */
    CHECK(f32(v[0].r) == (float)kw);
    CHECK(f32(v[1].r) == (float)kwh);
    CHECK(f32(v[1].r + 2) == 0.0f);
    CHECK_EQ(i64(v[2].r), llround(kwh * 1000.0));
    CHECK_EQ(i64(v[3].r), 0);
    CHECK(f32(v[12].r) == (float)(pget("meter.plugs.kw") * 1000.0));
    CHECK(f32(v[13].r) == (float)pget("meter.plugs.kwh"));
    CHECK(f32(v[13].r + 2) == 0.0f);
    CHECK(f32(v[14].r) == (float)pget("meter.plugs.kwh"));
    CHECK(f32(v[18].r) == (float)(pget("chiller.kw") * 1000.0));
    CHECK(f32(v[19].r) == (float)(pget("meter.hvac.kw") * 1000.0));
    /* main: 480Y/277 V, three phases adding up, I = P / (sqrt(3) V_LL PF) */
    double vll = f32(v[4].r + 6), vln = f32(v[6].r), pf = f32(v[10].r), iavg = f32(v[8].r);
    for (int k = 0; k < 3; k++) {
        CHECK_DBL(f32(v[5].r + 2 * k), 277.0, 277.0 * 0.04);
        CHECK_DBL(f32(v[4].r + 2 * k), 480.0, 480.0 * 0.04);
        CHECK_DBL(f32(v[7].r + 2 * k), f32(v[9].r + 2 * k) * 1000.0 / (f32(v[5].r + 2 * k) * pf),
                  0.01);
    }
    CHECK_DBL(vll, (f32(v[4].r) + f32(v[4].r + 2) + f32(v[4].r + 4)) / 3.0, 1e-3);
    CHECK_DBL(vll / vln, sqrt(3.0), 0.002);
    CHECK_DBL(f32(v[9].r) + f32(v[9].r + 2) + f32(v[9].r + 4), kw, kw * 1e-6);
    CHECK_DBL(iavg, kw * 1000.0 / (sqrt(3.0) * vll * pf), iavg * 0.002);
    CHECK(f32(v[7].r + 6) < 0.05 * iavg);               /* neutral: imbalance only */
    CHECK(f32(v[7].r + 6) > 0);
    CHECK(pf >= 0.92 && pf <= 0.975);
    CHECK_DBL(f32(v[11].r), 60.0, 0.03);
    CHECK_DBL(f32(v[17].r), f32(v[11].r), 1e-4);        /* one grid */
    /* SDM630: 400/230 V, per-phase PF equals the total */
    for (int k = 0; k < 3; k++) {
        CHECK_DBL(f32(v[15].r + 2 * k), 230.0, 230.0 * 0.04);
        CHECK(f32(v[16].r + 2 * k) >= 0.92f && f32(v[16].r + 2 * k) <= 0.975f);
        CHECK_DBL(f32(v[15].r + 6 + 2 * k),
                  f32(v[15].r + 12 + 2 * k) / (f32(v[15].r + 2 * k) * f32(v[16].r + 2 * k)), 0.01);
    }
    face_done(x);
}

/* Unlisted addresses, other tables, writes, bad quantities and foreign unit
 * ids get the exceptions Application Protocol §6-7 give them; the
 * connection stays. */
struct exc_job {
    int rc[12], err[12];
    uint8_t rsp[64];
    int rsp_len;
    uint16_t after[2];
    int after_rc;
};

static void job_exceptions(void *p)
{
    struct exc_job *j = p;
    modbus_t *c = cli(IP_MAIN, 1000), *s = cli(IP_LIGHT, 1000);
    uint16_t r[16] = { 0 };
    uint8_t bits[8], raw[] = { 0xff, 0x03, 0x0b, 0xf3, 0x00, 126 };
    int k = 0;

    if (!c || !s) {
        j->after_rc = -9;
        goto out;
    }
#define TRY(call) do { errno = 0; j->rc[k] = (call); j->err[k++] = errno; } while (0)
    TRY(modbus_read_registers(c, 3007, 2, r));          /* 0: gap between current_n and avg */
    TRY(modbus_read_registers(c, 2999, 12, r));         /* 1: a range across that gap */
    TRY(modbus_read_input_registers(c, 0, 2, r));       /* 2: PM5xxx has no input registers */
    TRY(modbus_read_bits(c, 0, 8, bits));               /* 3: nor coils */
    TRY(modbus_write_register(c, 3059, 1));             /* 4: writes */
    TRY(modbus_write_registers(c, 3059, 2, r));         /* 5 */
    TRY(modbus_read_registers(s, 52, 2, r));            /* 6: SDM630 holds inputs only */
    TRY(modbus_read_registers(c, 3210, 4, r));          /* 7: past the last register */
    modbus_set_slave(c, 7);
    TRY(modbus_read_registers(c, 3059, 2, r));          /* 8: not our unit id */
    modbus_set_slave(c, 1);
    TRY(modbus_read_registers(c, 3059, 2, r));          /* 9: unit 1 is ours */
    modbus_set_slave(c, 0xff);
#undef TRY
    /* 126 registers: libmodbus' client refuses to ask, so send it raw */
    if (modbus_send_raw_request(c, raw, sizeof raw) > 0)
        j->rsp_len = modbus_receive_confirmation(c, j->rsp);
    j->after_rc = modbus_read_registers(c, 3059, 2, j->after);
out:
    cli_free(c);
    cli_free(s);
}

TEST(exceptions)
{
    struct sb_simmb *x = face(1);
    struct exc_job j;

    REQUIRE(x != NULL);
    memset(&j, 0, sizeof j);
    CHECK_EQ(with_loop(job_exceptions, &j, 20000), 0);
    for (int i = 0; i < 8; i++)
        CHECK_EQ(j.rc[i], -1);
    CHECK_EQ(j.err[0], EMBXILADD);
    CHECK_EQ(j.err[1], EMBXILADD);
    CHECK_EQ(j.err[2], EMBXILADD);
    CHECK_EQ(j.err[3], EMBXILADD);
    CHECK_EQ(j.err[4], EMBXILFUN);
    CHECK_EQ(j.err[5], EMBXILFUN);
    CHECK_EQ(j.err[6], EMBXILADD);
    CHECK_EQ(j.err[7], EMBXILADD);
    CHECK_EQ(j.rc[8], -1);
    CHECK_EQ(j.err[8], EMBXGTAR);
    CHECK_EQ(j.rc[9], 2);
    CHECK_EQ(j.rsp_len, 9);                             /* MBAP + 0x83 + code */
    CHECK_EQ(j.rsp[7], 0x83);
    CHECK_EQ(j.rsp[8], MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE);
    CHECK_EQ(j.after_rc, 2);                            /* still connected */
    CHECK(f32(j.after) == (float)pget("meter.main.kw"));
    face_done(x);
}

/* Every entry of both profiles through sbems' own driver, with the profile
 * exactly as a site uses it, equals bind/value; and the site document's own
 * point sources read the same through the driver. */
TEST(driver_reads_every_entry)
{
    static const char *ips[] = { IP_MAIN, IP_LIGHT, IP_PLUGS, IP_HVAC, IP_CHIL };
    static const char *profs[] = { "schneider-pm5xxx", "eastron-sdm630" };
    struct sb_simmb *x = face(1);
    struct sb_modbus_profile *p[2] = { NULL, NULL };
    char err[256];

    REQUIRE(x != NULL);
    for (int i = 0; i < 2; i++)
        REQUIRE(sb_modbus_profile_load("profiles", profs[i], &p[i], err, sizeof err) == 0);
    /* a demand history, so total_power_demand is not just 0 */
    for (int i = 0; i < 65; i++) {
        step(MINUTE);
        sb_simmb_sync(x, plant_ms, 0);
    }
    for (int mi = 0; mi < 5; mi++) {
        const struct sb_modbus_profile *pr = p[mi ? 1 : 0];
        struct drv *d = drv_new();
        size_t n = 0;
        REQUIRE(d != NULL);
        for (size_t e = 0; e < pr->n; e++) {
            enum sb_unit u = pr->entries[e].unit == SB_UNIT_INVALID ? SB_UNIT_NONE
                                                                     : pr->entries[e].unit;
            n += drv_add(d, entry_addr(ips[mi], pr->name, pr->entries[e].name), u) >= 0;
        }
        CHECK_EQ(n, pr->n);
        CHECK_EQ(drv_read(d, 0, n), 0);
        if (d->rc)
            printf("# %s: %s\n", ips[mi], d->err);
        for (size_t e = 0; e < n; e++) {
            double want = NAN;
            char *a = entry_addr(ips[mi], pr->name, pr->entries[e].name);
            int h = bind_text(x, a);
            free(a);
            CHECK(h >= 0);
            CHECK_EQ(sb_simmb_value(x, h, &want), 0);
            if (d->it[e].rc != 0 || d->it[e].v != want)
                TAP_FAIL("%s %s: driver %.17g (rc %d %s) vs value %.17g", ips[mi],
                         pr->entries[e].name, d->it[e].v, d->it[e].rc, d->it[e].err, want);
        }
        /* the sub-meter's demand is the last hour's kWh (non-zero by now) */
        if (mi == 2) {
            char *a = entry_addr(ips[mi], pr->name, "total_power_demand");
            double dem = 0;
            CHECK_EQ(sb_simmb_value(x, bind_text(x, a), &dem), 0);
            CHECK(dem > 1000);              /* W */
            free(a);
        }
        drv_free(d);
    }

    /* the site document: each point through the driver, in its unit */
    json_t *s = sb_simmb_site(x), *pt;
    size_t i;
    struct drv *d = drv_new();
    REQUIRE(s != NULL && d != NULL);
    json_array_foreach(json_object_get(s, "points"), i, pt) {
        const json_t *src = json_object_get(pt, "source");
        enum sb_unit u = SB_UNIT_NONE;
        sb_unit_parse(json_string_value(json_object_get(pt, "unit")), &u);
        CHECK_EQ(drv_add(d, json_dumps(json_object_get(src, "address"), JSON_COMPACT), u), (int)i);
    }
    for (size_t first = 0; first < d->n;) {     /* one read per device key */
        size_t k = first;
        while (k < d->n && strcmp(d->key[k], d->key[first]) == 0)
            k++;
        CHECK_EQ(drv_read(d, first, k - first), 0);
        for (size_t j = first; j < k; j++) {
            double want = NAN;
            int h = sb_simmb_bind(x, json_object_get(json_array_get(json_object_get(s, "points"), j),
                                                     "source"));
            CHECK(h >= 0);
            CHECK_EQ(sb_simmb_value(x, h, &want), 0);
            CHECK_EQ(d->it[j].rc, 0);
            CHECK(d->it[j].v == want);
        }
        first = k;
    }
    /* and with a point in kW on the SDM630's W entry the driver converts */
    struct drv *k2 = drv_new();
    REQUIRE(k2 != NULL);
    CHECK_EQ(drv_add(k2, entry_addr(IP_PLUGS, "eastron-sdm630", "total_active_power"),
                     SB_UNIT_KW), 0);
    CHECK_EQ(drv_read(k2, 0, 1), 0);
    CHECK_DBL(k2->it[0].v, (float)(pget("meter.plugs.kw") * 1000.0) / 1000.0, 1e-9);
    drv_free(k2);
    drv_free(d);
    json_decref(s);
    sb_modbus_profile_free(p[0]);
    sb_modbus_profile_free(p[1]);
    face_done(x);
}

/* Several clients at once on one meter, and the bound on clients. */
struct conc_job {
    int ok;                     /* successful reads */
    float last;
};

static void job_conc(void *p)
{
    struct conc_job *j = p;
    modbus_t *c = cli(IP_MAIN, 2000);
    uint16_t r[2];

    for (int i = 0; c && i < 40; i++)
        if (modbus_read_registers(c, 3059, 2, r) == 2) {
            j->ok++;
            j->last = f32(r);
        }
    cli_free(c);
}

struct par {
    struct conc_job j[6];
};

static void *conc_thread(void *p)
{
    job_conc(p);
    return NULL;
}

static void job_par(void *p)
{
    struct par *q = p;
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        pthread_create(&t[i], NULL, conc_thread, &q->j[i]);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
}

struct limit_job {
    int rc[5], err[5];
};

static void job_limit(void *p)
{
    struct limit_job *j = p;
    modbus_t *a = cli(IP_MAIN, 500), *b = cli(IP_MAIN, 500), *c, *d;
    uint16_t r[2];

    j->rc[0] = a ? modbus_read_registers(a, 3059, 2, r) : -9;
    j->rc[1] = b ? modbus_read_registers(b, 3059, 2, r) : -9;
    c = cli(IP_MAIN, 500);      /* a third: accepted and dropped */
    errno = 0;
    j->rc[2] = c ? modbus_read_registers(c, 3059, 2, r) : -9;
    j->err[2] = errno;
    cli_free(a);                /* a slot frees up */
    usleep(100 * 1000);
    d = cli(IP_MAIN, 500);
    j->rc[3] = d ? modbus_read_registers(d, 3059, 2, r) : -9;
    j->rc[4] = b ? modbus_read_registers(b, 3059, 2, r) : -9;
    cli_free(b);
    cli_free(c);
    cli_free(d);
}

TEST(concurrent_clients)
{
    struct sb_simmb *x = face(1);
    struct par q;
    struct limit_job lj;

    REQUIRE(x != NULL);
    memset(&q, 0, sizeof q);
    CHECK_EQ(with_loop(job_par, &q, 20000), 0);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ(q.j[i].ok, 40);
        CHECK(q.j[i].last == (float)pget("meter.main.kw"));
    }
    face_done(x);

    x = face_cfg(1, 2, 0, 0, IP_MAIN);
    REQUIRE(x != NULL);
    memset(&lj, 0, sizeof lj);
    CHECK_EQ(with_loop(job_limit, &lj, 20000), 0);
    CHECK_EQ(lj.rc[0], 2);
    CHECK_EQ(lj.rc[1], 2);
    CHECK_EQ(lj.rc[2], -1);                 /* closed: no answer from a full meter */
    CHECK(lj.err[2] == ECONNRESET || lj.err[2] == EPIPE || lj.err[2] == ETIMEDOUT);
    CHECK_EQ(lj.rc[3], 2);
    CHECK_EQ(lj.rc[4], 2);
    face_done(x);
}

/* A raw TCP peer on 127.0.77.60. */
static int raw_connect(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)g_port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, IP_MAIN, &a.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Bytes within ms: count, 0 for EOF / reset, -1 for nothing. */
static int raw_recv(int fd, uint8_t *buf, size_t cap, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    ssize_t n;
    if (poll(&p, 1, ms) != 1)
        return -1;
    n = recv(fd, buf, cap, 0);
    return n < 0 ? 0 : (int)n;
}

struct garbage_job {
    int before, after;          /* the good client's reads */
    int http, badfc, badlen;    /* what each garbage peer saw: 0 = closed */
    int split, piped;           /* bytes answered to a split and to two pipelined requests */
};

static void job_garbage(void *p)
{
    struct garbage_job *j = p;
    modbus_t *good = cli(IP_MAIN, 1000);
    uint16_t r[2];
    uint8_t buf[128], req[12] = { 0, 7, 0, 0, 0, 6, 1, 3, 0x0b, 0xf3, 0, 2 };
    uint8_t fc90[12] = { 0, 7, 0, 0, 0, 6, 1, 0x90, 0, 0, 0, 1 };
    uint8_t len1[8] = { 0, 7, 0, 0, 1, 0x2c, 1, 3 };
    uint8_t two[24];
    int fd;

    j->before = good ? modbus_read_registers(good, 3059, 2, r) : -9;
    if ((fd = raw_connect()) >= 0) {
        send(fd, "GET / HTTP/1.0\r\n\r\n", 18, MSG_NOSIGNAL);
        j->http = raw_recv(fd, buf, sizeof buf, 1000);
        close(fd);
    }
    if ((fd = raw_connect()) >= 0) {
        send(fd, fc90, sizeof fc90, MSG_NOSIGNAL);
        j->badfc = raw_recv(fd, buf, sizeof buf, 1000);
        close(fd);
    }
    if ((fd = raw_connect()) >= 0) {
        send(fd, len1, sizeof len1, MSG_NOSIGNAL);  /* length 300 */
        j->badlen = raw_recv(fd, buf, sizeof buf, 1000);
        close(fd);
    }
    if ((fd = raw_connect()) >= 0) {    /* one request in two segments */
        send(fd, req, 5, MSG_NOSIGNAL);
        usleep(50 * 1000);
        send(fd, req + 5, 7, MSG_NOSIGNAL);
        j->split = raw_recv(fd, buf, sizeof buf, 1000);
        memcpy(two, req, 12);
        memcpy(two + 12, req, 12);
        two[1] = 8;
        send(fd, two, sizeof two, MSG_NOSIGNAL);   /* two requests in one segment */
        j->piped = 0;
        for (int i = 0; i < 2 && j->piped < 26; i++) {
            int n = raw_recv(fd, buf, sizeof buf, 1000);
            j->piped += n > 0 ? n : 0;
        }
        close(fd);
    }
    j->after = good ? modbus_read_registers(good, 3059, 2, r) : -9;
    cli_free(good);
}

TEST(garbage_closes_only_that_client)
{
    struct sb_simmb *x = face(1);
    struct garbage_job j;

    REQUIRE(x != NULL);
    memset(&j, 0, sizeof j);
    CHECK_EQ(with_loop(job_garbage, &j, 20000), 0);
    CHECK_EQ(j.before, 2);
    CHECK_EQ(j.http, 0);
    CHECK_EQ(j.badfc, 0);
    CHECK_EQ(j.badlen, 0);
    CHECK_EQ(j.split, 13);                  /* 7 + fc + count + 4 */
    CHECK_EQ(j.piped, 26);
    CHECK_EQ(j.after, 2);
    face_done(x);
}

/* Offline: connections dropped, new ones unanswered (a timeout, not an
 * error reply), other meters unaffected, value() refuses; back online it
 * answers again. */
struct off_job {
    int phase;                  /* 0 before, 1 offline */
    int hv_old, hv_new, main, err_new;
};

static void job_offline(void *p)
{
    struct off_job *j = p;
    static modbus_t *old;
    modbus_t *c, *m;
    uint16_t r[2];

    if (j->phase == 0) {
        old = cli(IP_HVAC, 300);
        j->hv_old = old ? modbus_read_input_registers(old, 52, 2, r) : -9;
        return;
    }
    errno = 0;
    j->hv_old = old ? modbus_read_input_registers(old, 52, 2, r) : -9;
    cli_free(old);
    old = NULL;
    c = cli(IP_HVAC, 300);      /* the kernel still completes the handshake */
    errno = 0;
    j->hv_new = c ? modbus_read_input_registers(c, 52, 2, r) : -9;
    j->err_new = errno;
    cli_free(c);
    m = cli(IP_MAIN, 300);
    j->main = m ? modbus_read_registers(m, 3059, 2, r) : -9;
    cli_free(m);
}

TEST(offline)
{
    struct sb_simmb *x = face(1);
    struct off_job j = { 0 };
    struct rd back[] = { RD(IP_HVAC, 4, 52, 2) };
    double v;
    int h;

    REQUIRE(x != NULL);
    g_offline[0] = 0;
    h = bind_text(x, "{\"host\":\"" IP_HVAC "\",\"register\":30053,\"type\":\"float32\",\"port\":0}");
    CHECK_EQ(h, SB_ENOENT);     /* port 0 is not an address */
    char *a = entry_addr(IP_HVAC, "eastron-sdm630", "total_active_power");
    h = bind_text(x, a);
    free(a);
    CHECK(h >= 0);
    CHECK_EQ(sb_simmb_value(x, h, &v), 0);
    CHECK_EQ(with_loop(job_offline, &j, 10000), 0);
    CHECK_EQ(j.hv_old, 2);
    snprintf(g_offline, sizeof g_offline, "MTR-HVAC");
    sb_simmb_sync(x, plant_ms, 0);
    CHECK_EQ(sb_simmb_value(x, h, &v), SB_ETIMEDOUT);
    j.phase = 1;
    CHECK_EQ(with_loop(job_offline, &j, 10000), 0);
    CHECK_EQ(j.hv_old, -1);     /* its connection was closed */
    CHECK_EQ(j.hv_new, -1);
    CHECK_EQ(j.err_new, ETIMEDOUT);
    CHECK_EQ(j.main, 2);
    g_offline[0] = 0;
    sb_simmb_sync(x, plant_ms, 0);
    CHECK_EQ(sb_simmb_value(x, h, &v), 0);
    CHECK_EQ(reads(back, 1, 1000), 0);
    CHECK_EQ(back[0].rc, 2);
    CHECK(f32(back[0].r) == (float)(pget("meter.hvac.kw") * 1000.0));
    face_done(x);
}

/* A connection with no request for idle_s is closed at the next sync. */
struct idle_job {
    int phase, first, second, fresh;
};

static void job_idle(void *p)
{
    struct idle_job *j = p;
    static modbus_t *c;
    uint16_t r[2];

    if (j->phase == 0) {
        c = cli(IP_MAIN, 500);
        j->first = c ? modbus_read_registers(c, 3059, 2, r) : -9;
        return;
    }
    j->second = c ? modbus_read_registers(c, 3059, 2, r) : -9;
    cli_free(c);
    c = cli(IP_MAIN, 500);
    j->fresh = c ? modbus_read_registers(c, 3059, 2, r) : -9;
    cli_free(c);
    c = NULL;
}

TEST(idle_timeout)
{
    struct sb_simmb *x = face_cfg(1, 0, 1, 0, IP_MAIN);
    struct idle_job j = { 0 };

    REQUIRE(x != NULL);
    CHECK_EQ(with_loop(job_idle, &j, 10000), 0);
    CHECK_EQ(j.first, 2);
    spin(1300);
    sb_simmb_sync(x, plant_ms, 0);
    spin(50);
    j.phase = 1;
    CHECK_EQ(with_loop(job_idle, &j, 10000), 0);
    CHECK_EQ(j.second, -1);
    CHECK_EQ(j.fresh, 2);
    face_done(x);
}

/* bind: what is ours and what is not; plain register addresses too. */
TEST(bind_value)
{
    struct sb_simmb *x = face(0);
    double v, w;
    char a[512];
    int h, h2;

    REQUIRE(x != NULL);
    char *e = entry_addr(IP_MAIN, "schneider-pm5xxx", "total_active_power");
    h = bind_text(x, e);
    CHECK(h >= 0);
    h2 = bind_text(x, e);
    CHECK_EQ(h2, h);                        /* same source, same handle */
    free(e);
    CHECK_EQ(sb_simmb_value(x, h, &v), 0);
    CHECK(v == (double)(float)pget("meter.main.kw"));
    /* the same register by plain address (the manual's 1-based number) */
    snprintf(a, sizeof a, "{\"host\":\"%s\",\"port\":%u,\"register\":3060,\"type\":\"float32\"}",
             IP_MAIN, g_port);
    CHECK((h2 = bind_text(x, a)) >= 0);
    CHECK_EQ(sb_simmb_value(x, h2, &w), 0);
    CHECK(w == v);
    /* with a scale and as address text */
    snprintf(a, sizeof a, "{\"host\":\"%s\",\"port\":%u,\"register\":3060,\"type\":\"float32\","
             "\"scale\":1000}", IP_MAIN, g_port);
    json_t *src = json_pack("{s:s, s:s}", "driver", "modbus", "address", a);
    CHECK((h2 = sb_simmb_bind(x, src)) >= 0);
    json_decref(src);
    CHECK_EQ(sb_simmb_value(x, h2, &w), 0);
    CHECK(w == v * 1000);
    /* the int64 Wh counter read as two halves: the low 32 bits */
    snprintf(a, sizeof a, "{\"host\":\"%s\",\"port\":%u,\"register\":3206,\"type\":\"uint32\"}",
             IP_MAIN, g_port);
    CHECK((h2 = bind_text(x, a)) >= 0);
    CHECK_EQ(sb_simmb_value(x, h2, &w), 0);
    CHECK_EQ((long long)w, llround(pget("meter.main.kwh") * 1000.0) & 0xffffffffLL);
    /* not ours */
    static const char *const no[] = {       /* each gets "port" added */
        "\"host\":\"127.0.77.99\",\"register\":3060,\"type\":\"float32\"}",
        "\"host\":\"" IP_MAIN "\",\"unit\":2,\"register\":3060,\"type\":\"float32\"}",
        "\"host\":\"" IP_MAIN "\",\"register\":3008,\"type\":\"float32\"}",
        "\"host\":\"" IP_MAIN "\",\"register\":30053,\"type\":\"float32\"}",
        "\"host\":\"" IP_MAIN "\",\"register\":1,\"type\":\"coil\"}",
        "\"host\":\"" IP_MAIN "\",\"profile\":\"eastron-sdm630\",\"name\":\"frequency\"}",
        "\"host\":\"" IP_MAIN "\",\"profile\":\"schneider-pm5xxx\",\"name\":\"nope\"}",
        "\"serial\":\"/dev/ttyS0\",\"register\":3060,\"type\":\"float32\"}",
        "\"host\":\"" IP_MAIN "\",\"register\":3060,\"type\":\"flaot32\"}",
    };
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        snprintf(a, sizeof a, "{\"port\":%u,%s", g_port, no[i]);
        if (bind_text(x, a) != SB_ENOENT)
            TAP_FAIL("bound: %s", a);
    }
    /* the RTU form of the same register is not a TCP meter's */
    CHECK_EQ(bind_text(x, "{\"serial\":\"/dev/ttyS0\",\"register\":3060,\"type\":\"float32\"}"),
             SB_ENOENT);
    snprintf(a, sizeof a, "{\"host\":\"%s\",\"port\":%u,\"register\":3060,\"type\":\"float32\"}",
             IP_MAIN, g_port + 1);
    CHECK_EQ(bind_text(x, a), SB_ENOENT);           /* other port */
    src = json_pack("{s:s, s:{s:i}}", "driver", "bacnet", "address", "device", 1);
    CHECK_EQ(sb_simmb_bind(x, src), SB_ENOENT);
    json_decref(src);
    CHECK_EQ(sb_simmb_value(x, -1, &v), SB_ENOENT);
    CHECK_EQ(sb_simmb_value(x, 100000, &v), SB_ENOENT);
    face_done(x);
}

/* The electrical model over a day, through value(): every reading in its
 * range, and two sets over the same plant agree (deterministic). */
TEST(model_over_a_day)
{
    struct sb_simmb *x = face(0), *y = face_cfg(0, 0, 0, 0, IP_MAIN);
    static const char *names[] = { "total_power_factor", "frequency", "voltage_an", "voltage_ab",
                                   "current_n", "current_avg" };
    int hx[6], hy[6], hs[3];
    char *a;

    REQUIRE(x != NULL && y != NULL);
    for (int i = 0; i < 6; i++) {
        a = entry_addr(IP_MAIN, "schneider-pm5xxx", names[i]);
        hx[i] = bind_text(x, a);
        hy[i] = bind_text(y, a);
        free(a);
        REQUIRE(hx[i] >= 0 && hy[i] >= 0);
    }
    static const char *sn[] = { "voltage_l1", "current_thd_l2", "voltage_thd_l3" };
    for (int i = 0; i < 3; i++) {
        a = entry_addr(IP_CHIL, "eastron-sdm630", sn[i]);
        hs[i] = bind_text(x, a);
        free(a);
        REQUIRE(hs[i] >= 0);
    }
    double pfmin = 1, pfmax = 0;
    for (int s = 0; s < 96; s++) {
        double v[6], w[6], sv[3], kw = pget("meter.main.kw");
        step(15 * MINUTE);
        kw = pget("meter.main.kw");
        for (int i = 0; i < 6; i++) {
            CHECK_EQ(sb_simmb_value(x, hx[i], &v[i]), 0);
            CHECK_EQ(sb_simmb_value(y, hy[i], &w[i]), 0);
            CHECK(v[i] == w[i]);
        }
        for (int i = 0; i < 3; i++)
            CHECK_EQ(sb_simmb_value(x, hs[i], &sv[i]), 0);
        CHECK(v[0] >= 0.92 && v[0] <= 0.975);
        pfmin = fmin(pfmin, v[0]);
        pfmax = fmax(pfmax, v[0]);
        CHECK_DBL(v[1], 60.0, 0.02);
        CHECK_DBL(v[2], 277.0, 277.0 * 0.035);
        CHECK_DBL(v[3], 480.0, 480.0 * 0.035);
        CHECK(v[4] <= 0.05 * v[5] + 1e-6);
        CHECK(kw <= 0 || v[5] > 0);
        CHECK_DBL(sv[0], 230.0, 230.0 * 0.035);
        CHECK(sv[1] > 4 && sv[1] < 25);
        CHECK(sv[2] > 1 && sv[2] < 3);
    }
    CHECK(pfmax - pfmin > 0.01);            /* it does vary with load */
    face_done(x);
    face_done(y);
}

/* The SDM630 demand register: the average power of the last 60 minutes,
 * 0 until an hour has been seen. */
TEST(demand_window)
{
    struct sb_simmb *x = face(0);
    double kwh[80], dem;
    char *a = entry_addr(IP_LIGHT, "eastron-sdm630", "total_power_demand");
    int h;

    REQUIRE(x != NULL);
    h = bind_text(x, a);
    free(a);
    REQUIRE(h >= 0);
    /* align to a whole minute: the meter samples at minute boundaries */
    step(MINUTE - plant_ms % MINUTE);
    sb_simmb_sync(x, plant_ms, 0);
    kwh[0] = pget("meter.lighting.kwh");
    for (int i = 1; i < 75; i++) {
        step(MINUTE);
        sb_simmb_sync(x, plant_ms, 0);
        kwh[i] = pget("meter.lighting.kwh");
        CHECK_EQ(sb_simmb_value(x, h, &dem), 0);
        if (i < 61)     /* sample 0 is the first boundary; the window needs 61 */
            CHECK(dem == 0);
        else
            CHECK(dem == (double)(float)((kwh[i] - kwh[i - 60]) * 1000.0));
    }
    CHECK(dem > 0);
    /* a 30-minute step crosses 30 boundaries: interpolated, still a kW average */
    step(30 * MINUTE);
    sb_simmb_sync(x, plant_ms, 0);
    CHECK_EQ(sb_simmb_value(x, h, &dem), 0);
    CHECK_DBL(dem, (pget("meter.lighting.kwh") - kwh[74 - 30]) * 1000.0, 1.0);
    face_done(x);
}

/* mbpoll (a separate client program), when installed. */
struct mbp_job {
    char out[2][2048];
    int rc[2];
};

static int run_cmd(char *const argv[], char *out, size_t cap)
{
    int pfd[2], st = -1;
    size_t n = 0;
    ssize_t got;
    pid_t pid;

    if (pipe(pfd) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        close(pfd[0]);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    while (pid > 0 && n + 1 < cap && (got = read(pfd[0], out + n, cap - 1 - n)) > 0)
        n += (size_t)got;
    out[n] = 0;
    close(pfd[0]);
    if (pid > 0)
        waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void job_mbpoll(void *p)
{
    struct mbp_job *j = p;
    char port[16];
    snprintf(port, sizeof port, "%u", g_port);
    char *a0[] = { "/usr/bin/mbpoll", "-m", "tcp", "-p", port, "-a", "1", "-t", "4:float", "-B",
                   "-r", "3060", "-1", "-o", "2", IP_MAIN, NULL };
    char *a1[] = { "/usr/bin/mbpoll", "-m", "tcp", "-p", port, "-a", "1", "-t", "3:float", "-B",
                   "-r", "53", "-1", "-o", "2", IP_PLUGS, NULL };
    j->rc[0] = run_cmd(a0, j->out[0], sizeof j->out[0]);
    j->rc[1] = run_cmd(a1, j->out[1], sizeof j->out[1]);
}

static double mbpoll_value(const char *out, const char *tag)
{
    const char *s = strstr(out, tag);
    return s ? strtod(s + strlen(tag), NULL) : NAN;
}

TEST(mbpoll_reads)
{
    struct sb_simmb *x;
    struct mbp_job j;

    if (access("/usr/bin/mbpoll", X_OK) != 0) {
        printf("# mbpoll not installed: skipped\n");
        return;
    }
    x = face(1);
    REQUIRE(x != NULL);
    memset(&j, 0, sizeof j);
    CHECK_EQ(with_loop(job_mbpoll, &j, 20000), 0);
    CHECK_EQ(j.rc[0], 0);
    CHECK_EQ(j.rc[1], 0);
    /* mbpoll prints a few significant digits: compare relatively */
    double kw = pget("meter.main.kw"), w = pget("meter.plugs.kw") * 1000.0;
    CHECK_DBL(mbpoll_value(j.out[0], "[3060]:"), kw, fabs(kw) * 1e-5 + 1e-3);
    CHECK_DBL(mbpoll_value(j.out[1], "[53]:"), w, fabs(w) * 1e-5 + 1e-3);
    if (tap_cur_fail || getenv("SIM_MB_VERBOSE"))
        printf("# mbpoll said:\n%s\n%s\n", j.out[0], j.out[1]);
    face_done(x);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "Bail out! watchdog\n";
    ssize_t r = write(1, msg, sizeof msg - 1);
    (void)r;
    _exit(1);
}

int main(void)
{
    struct sb_plant_config pc;
    char err[256];

    signal(SIGALRM, on_alarm);
    alarm(WATCHDOG_S);
    signal(SIGPIPE, SIG_IGN);
    wx = calloc(1, sizeof(*wx));
    sb_plant_config_default(&pc);
    plant_ms = JUL10 + 13 * HOUR;
    if (!wx || sb_epw_load(EPW, wx, err, sizeof err) != 0 ||
        sb_plant_new(&pc, wx, plant_ms, &plant, err, sizeof err) != 0) {
        printf("Bail out! plant: %s\n", err);
        return 1;
    }
    for (int i = 0; i < 60; i++)        /* to 14:00 on a July weekday */
        step(MINUTE);
    uv_loop_init(&loop);
    g_port = 20000 + (unsigned)getpid() % 20000;
    TAP_START();
    RUN(frame_parser);
    RUN(list_and_site);
    RUN(config_refusals);
    RUN(raw_registers);
    RUN(exceptions);
    RUN(driver_reads_every_entry);
    RUN(concurrent_clients);
    RUN(garbage_closes_only_that_client);
    RUN(offline);
    RUN(idle_timeout);
    RUN(bind_value);
    RUN(model_over_a_day);
    RUN(demand_window);
    RUN(mbpoll_reads);
    uv_run(&loop, UV_RUN_NOWAIT);
    if (uv_loop_close(&loop) != 0) {    /* every handle closed itself */
        printf("# uv_loop_close: handles left\n");
        tap_failed++;
    }
    sb_plant_free(plant);
    free(wx);
    printf("# offline callback asked %d times\n", g_offline_calls);
    TAP_END();
}

/*
 * test_drivers.c - the driver framework (drivers/manager.c) with a fixture
 * driver whose device the test controls (values, a dead device, refusals,
 * a read-back that differs), feeding the real ingest pipeline and SQLite
 * store.  What the framework decides - batching, unit conversion, back-off,
 * circuit breaker, verified writes, dry run, push, health - is checked from
 * what reaches the store and what the health report says.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/manager.h"
#include "ingest/bus.h"
#include "ingest/ingest.h"
#include "model/site_json.h"
#include "model/sync.h"
#include "store/store.h"
#include "tap.h"

/* ---- the fixture device ---------------------------------------------------- */

static struct {
    pthread_mutex_t mu;
    double value[8];            /* by point id: what the device holds */
    int dead;                   /* reads time out */
    int refuse;                 /* writes refused */
    double skew;                /* read-back = written + skew */
    int reads, writes, items_last;
    int bind_refuse_id;         /* this point's address is refused */
} dev = { .mu = PTHREAD_MUTEX_INITIALIZER };

static struct sb_drv *handle;

static int t_init(struct sb_drv *drv, const json_t *conf, void **state, char *err, size_t n)
{
    (void)conf; (void)err; (void)n;
    handle = drv;
    *state = &dev;
    return 0;
}

static int t_bind(void *st, struct sb_drv_point *pt, char *key, size_t cap, char *err, size_t n)
{
    (void)st;
    if ((int)pt->id == dev.bind_refuse_id) {
        snprintf(err, n, "register: not a number");
        return SB_EINVAL;
    }
    snprintf(key, cap, "tcp:127.0.0.1:502/1");
    return 0;
}

static int t_read(void *st, const char *key, struct sb_drv_item *it, size_t n, int64_t to,
                  char *err, size_t errlen)
{
    (void)st; (void)key;
    pthread_mutex_lock(&dev.mu);
    dev.reads++;
    dev.items_last = (int)n;
    int dead = dev.dead;
    for (size_t i = 0; i < n && !dead; i++)
        it[i].v = dev.value[it[i].pt->id];
    pthread_mutex_unlock(&dev.mu);
    if (dead) {
        usleep((useconds_t)(to < 50 ? to : 50) * 1000);
        snprintf(err, errlen, "no answer in %lld ms", (long long)to);
        return SB_ETIMEDOUT;
    }
    return 0;
}

static int t_write(void *st, const char *key, struct sb_drv_write *w, int64_t to)
{
    (void)st; (void)key; (void)to;
    pthread_mutex_lock(&dev.mu);
    dev.writes++;
    int rc = 0;
    if (dev.refuse) {
        snprintf(w->err, sizeof(w->err), "exception 2: illegal data address");
        rc = SB_EPROTO;
    } else {
        dev.value[w->pt->id] = w->value + dev.skew;
    }
    pthread_mutex_unlock(&dev.mu);
    return rc;
}

static const struct sb_driver_ops t_ops = {
    .name = "modbus", .flags = SB_DRV_BLOCKING | SB_DRV_POLLED | SB_DRV_WRITES,
    .init = t_init, .bind = t_bind, .read = t_read, .write = t_write,
};
static const struct sb_driver_ops *const t_list[] = { &t_ops, NULL };

/* ---- fixture: store, ingest, model, loop ---------------------------------------- */

static const char doc[] =
    "{\"format\":\"sbems-site\",\"version\":1,"
    "\"sites\":[{\"id\":\"s\",\"name\":\"S\"}],"
    "\"buildings\":[{\"id\":\"b\",\"site\":\"s\",\"name\":\"B\",\"timezone\":\"UTC\"}],"
    "\"zones\":[],"
    "\"equipment\":[{\"id\":\"e\",\"building\":\"b\",\"name\":\"E\",\"type\":\"boiler\"}],"
    "\"points\":["
    "{\"id\":\"t\",\"equipment\":\"e\",\"name\":\"T\",\"kind\":\"temperature\",\"unit\":\"°F\","
    " \"source\":{\"driver\":\"modbus\",\"address\":{\"register\":1},\"poll_s\":0.2}},"
    "{\"id\":\"sp\",\"equipment\":\"e\",\"name\":\"SP\",\"kind\":\"setpoint\",\"unit\":\"°C\","
    " \"writable\":true,\"min\":40,\"max\":80,"
    " \"source\":{\"driver\":\"modbus\",\"address\":{\"register\":2},\"poll_s\":0.2}},"
    "{\"id\":\"ro\",\"equipment\":\"e\",\"name\":\"RO\",\"kind\":\"temperature\",\"unit\":\"°C\","
    " \"source\":{\"driver\":\"modbus\",\"address\":{\"register\":3},\"poll_s\":0.2}},"
    "{\"id\":\"bad\",\"equipment\":\"e\",\"name\":\"X\",\"kind\":\"other\","
    " \"source\":{\"driver\":\"modbus\",\"address\":{\"register\":\"x\"},\"poll_s\":0.2}},"
    "{\"id\":\"nodrv\",\"equipment\":\"e\",\"name\":\"Y\",\"kind\":\"other\","
    " \"source\":{\"driver\":\"bacnet\",\"address\":{\"device\":1},\"poll_s\":1}}]}";

static char dir[64];
static struct sb_store_h store;
static struct sb_ingest *ing;
static struct sb_model model;
static uv_loop_t loop;
static struct sb_drvmgr *mg;
static atomic_int nread[8];
static double lastv[8];

static void on_bus(void *ud, const struct sb_reading *r, size_t n)
{
    (void)ud;
    for (size_t i = 0; i < n; i++)
        if (r[i].point < 8) {
            lastv[r[i].point] = r[i].v;
            atomic_fetch_add(&nread[r[i].point], 1);
        }
}

static struct sb_bus *bus;

static int fixture(void)
{
    struct sb_store_cfg sc = { .dir = dir };
    struct sb_ingest_cfg ic = { .queue_cap = 4096, .batch_max = 512, .linger_ms = 1,
                                .future_limit_ms = 3600000, .flush_interval_ms = 1000 };
    struct sb_model tmp;

    snprintf(dir, sizeof(dir), "/tmp/sbems_test_drivers_XXXXXX");
    if (!mkdtemp(dir) || sb_store_open("sqlite", &sc, &store))
        return -1;
    sb_model_init(&tmp);
    sb_model_init(&model);
    if (sb_model_from_json_text(doc, sizeof(doc) - 1, &tmp, NULL) ||
        sb_store_model_save(&store, &tmp) || sb_store_model_load(&store, &model) ||
        sb_model_validate(&model, NULL))
        return -1;
    sb_model_release(&tmp);
    if (sb_bus_new(&bus) || sb_bus_subscribe(bus, on_bus, NULL) < 0 ||
        sb_ingest_new(&store, bus, &ic, &ing) ||
        sb_model_sync_points(&store, ing, &model, 900000))
        return -1;
    dev.bind_refuse_id = (int)sb_model_point(&model, "bad")->id;
    return uv_loop_init(&loop);
}

/* Run the loop until pred() or ms pass. */
static int spin(int (*pred)(void), int ms)
{
    double end = (double)sb_now_ms() + ms;
    while ((double)sb_now_ms() < end) {
        if (pred())
            return 1;
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    return pred();
}

static uint32_t id_of(const char *slug)
{
    return sb_model_point(&model, slug)->id;
}

static struct sb_drvmgr_cfg base_cfg(void)
{
    return (struct sb_drvmgr_cfg){ .loop = &loop, .ingest = ing, .timeout_ms = 100,
                                   .threads = 2, .breaker_failures = 3,
                                   .breaker_cooldown_ms = 400, .write_interval_ms = 200,
                                   .stale_factor = 3, .drivers = t_list };
}

static int have_t(void) { return atomic_load(&nread[id_of("t")]) >= 3; }

static json_t *device_health(void)
{
    json_t *h = sb_drvmgr_health(mg);
    json_t *d = json_incref(json_array_get(json_object_get(h, "devices"), 0));
    json_decref(h);
    return d;
}

TEST(poll_convert_batch)
{
    pthread_mutex_lock(&dev.mu);
    dev.value[id_of("t")] = 212.0;      /* °F */
    dev.value[id_of("sp")] = 55.0;
    pthread_mutex_unlock(&dev.mu);
    struct sb_drvmgr_cfg c = base_cfg();
    REQUIRE(sb_drvmgr_new(&c, &mg) == 0);
    REQUIRE(sb_drvmgr_apply(mg, &model) == 0);
    CHECK(spin(have_t, 5000));
    CHECK_DBL(lastv[id_of("t")], 100.0, 1e-9);       /* stored in °C */
    /* the device's three points share its phase and interval: one call
     * reads them all, every time */
    CHECK_EQ(dev.items_last, 3);
    json_t *h = sb_drvmgr_health(mg);
    json_t *d = json_array_get(json_object_get(h, "devices"), 0);
    CHECK_STR(json_string_value(json_object_get(d, "state")), "ok");
    CHECK_EQ(json_integer_value(json_object_get(d, "points")), 3);
    json_t *mis = json_object_get(h, "misconfigured");
    CHECK_EQ(json_array_size(mis), 2);                /* bad address, no bacnet driver */
    CHECK_STR(json_string_value(json_object_get(json_array_get(mis, 0), "error")),
              "register: not a number");
    json_decref(h);
    CHECK_EQ(sb_drvmgr_ready(mg), 1);
}

static int is_open(void)
{
    json_t *d = device_health();
    int r = d && strcmp(json_string_value(json_object_get(d, "state")), "open") == 0;
    json_decref(d);
    return r;
}

static int is_ok(void)
{
    json_t *d = device_health();
    int r = d && strcmp(json_string_value(json_object_get(d, "state")), "ok") == 0;
    json_decref(d);
    return r;
}

TEST(backoff_breaker_recovery)
{
    pthread_mutex_lock(&dev.mu);
    dev.dead = 1;
    dev.reads = 0;
    pthread_mutex_unlock(&dev.mu);
    CHECK(spin(is_open, 5000));
    int reads_open = dev.reads;
    CHECK_INT(reads_open, >=, 3);
    json_t *d = device_health();
    CHECK(strstr(json_string_value(json_object_get(d, "last_error")), "no answer") != NULL);
    CHECK_INT(json_integer_value(json_object_get(d, "consecutive_failures")), >=, 3);
    json_decref(d);
    /* open: no read for the cooldown (0.4 s), though points are due every 0.2 s */
    spin(is_ok, 200);                                 /* stays open meanwhile */
    CHECK_INT(dev.reads, <=, reads_open + 1);
    pthread_mutex_lock(&dev.mu);
    dev.dead = 0;
    pthread_mutex_unlock(&dev.mu);
    CHECK(spin(is_ok, 5000));                         /* the probe succeeds */
}

static struct sb_write_result wres;
static int wgot;
static void on_write(void *ud, const struct sb_write_result *r)
{
    (void)ud;
    wres = *r;
    wgot = 1;
}
static int got_write(void) { return wgot; }

TEST(verified_writes)
{
    const char *why;
    uint32_t sp = id_of("sp");

    wgot = 0;
    CHECK_EQ(sb_drvmgr_write(mg, sp, 60, 8, 0, on_write, NULL, &why), 0);
    CHECK(spin(got_write, 3000));
    CHECK_EQ(wres.res, SB_WRES_OK);
    CHECK_DBL(wres.readback, 60, 1e-9);
    /* too soon */
    CHECK_EQ(sb_drvmgr_write(mg, sp, 61, 8, 0, on_write, NULL, &why), SB_EAGAIN);
    usleep(250000);
    /* out of range, not writable, unknown */
    CHECK_EQ(sb_drvmgr_write(mg, sp, 99, 8, 0, on_write, NULL, &why), SB_ERANGE);
    CHECK_EQ(sb_drvmgr_write(mg, id_of("ro"), 20, 8, 0, on_write, NULL, &why), SB_EINVAL);
    CHECK_EQ(sb_drvmgr_write(mg, id_of("nodrv"), 1, 8, 0, on_write, NULL, &why), SB_ENOENT);
    /* the device takes it but holds something else */
    pthread_mutex_lock(&dev.mu);
    dev.skew = 0.5;
    pthread_mutex_unlock(&dev.mu);
    wgot = 0;
    CHECK_EQ(sb_drvmgr_write(mg, sp, 62, 8, 0, on_write, NULL, &why), 0);
    CHECK(spin(got_write, 3000));
    CHECK_EQ(wres.res, SB_WRES_NOT_CONFIRMED);
    CHECK_STR(wres.reason, "read back 62.5");
    /* the device refuses */
    usleep(250000);
    pthread_mutex_lock(&dev.mu);
    dev.skew = 0;
    dev.refuse = 1;
    pthread_mutex_unlock(&dev.mu);
    wgot = 0;
    CHECK_EQ(sb_drvmgr_write(mg, sp, 63, 8, 0, on_write, NULL, &why), 0);
    CHECK(spin(got_write, 3000));
    CHECK_EQ(wres.res, SB_WRES_REJECTED);
    CHECK_STR(wres.reason, "exception 2: illegal data address");
    pthread_mutex_lock(&dev.mu);
    dev.refuse = 0;
    pthread_mutex_unlock(&dev.mu);
}

static int have_push(void) { return atomic_load(&nread[id_of("ro")]) > 0 && lastv[id_of("ro")] == 7.5; }

TEST(push_and_stop)
{
    struct sb_drv_value v[] = { { .point = id_of("ro"), .v = 7.5 }, { .point = 9999, .v = 1 } };
    CHECK_EQ(sb_drv_push(handle, v, 2), 0);
    CHECK(spin(have_push, 3000));
    struct sb_drvmgr_stats st;
    sb_drvmgr_stats(mg, &st);
    CHECK_INT(st.pushed, >=, 1);
    CHECK_INT(st.dropped, >=, 1);                     /* the unknown id */
    CHECK_INT(st.reads, >=, 5);
    sb_drvmgr_stop(mg);
    for (int i = 0; i < 100 && !sb_drvmgr_idle(mg); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    CHECK(sb_drvmgr_idle(mg));
    sb_drvmgr_free(mg);
    mg = NULL;
}

TEST(dry_run)
{
    struct sb_drvmgr_cfg c = base_cfg();
    const char *why;
    c.dry_run = 1;
    REQUIRE(sb_drvmgr_new(&c, &mg) == 0);
    REQUIRE(sb_drvmgr_apply(mg, &model) == 0);
    int writes = dev.writes;
    wgot = 0;
    CHECK_EQ(sb_drvmgr_write(mg, id_of("sp"), 70, 8, 0, on_write, NULL, &why), 0);
    CHECK(wgot);
    CHECK_EQ(wres.res, SB_WRES_DRY_RUN);
    CHECK(strstr(wres.reason, "would be set to 70") != NULL);
    spin(is_ok, 300);
    CHECK_EQ(dev.writes, writes);                     /* nothing sent */
    sb_drvmgr_stop(mg);
    for (int i = 0; i < 100 && !sb_drvmgr_idle(mg); i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    sb_drvmgr_free(mg);
}

int main(void)
{
    char cmd[128];
    TAP_START();
    if (fixture()) {
        printf("Bail out! fixture\n");
        return 1;
    }
    RUN(poll_convert_batch);
    RUN(backoff_breaker_recovery);
    RUN(verified_writes);
    RUN(push_and_stop);
    RUN(dry_run);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    sb_ingest_stop(ing);
    sb_ingest_free(ing);
    sb_bus_free(bus);
    sb_model_release(&model);
    sb_store_close(&store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    TAP_END();
}

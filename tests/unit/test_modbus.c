/*
 * test_modbus.c - the Modbus driver: address and profile parsing, codecs
 * and the request planner on their own, then the driver through its ops
 * table against real peers on loopback: Debian's pymodbus 3.0 server
 * (tests/integ/peers/modbus_server.py, TCP and RTU over a socat pty pair)
 * and mbpoll as an independent client.
 *
 * Run from the repository root (profiles/ and tests/integ/peers/ are found
 * relative to it).  Every peer is started with fork/exec and stopped by its
 * PID; a watchdog alarm bounds the whole run.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"
#include "tap.h"

#define PY "/usr/bin/python3"
#define PEERS "tests/integ/peers"
#define WATCHDOG_S 240
#define DEV_MAX 128

/* ------------------------------------------------- framework link seams */

static int pushed;      /* sb_drv_push calls (the Modbus driver never pushes) */

int sb_drv_push(struct sb_drv *drv, const struct sb_drv_value *v, size_t n)
{
    (void)drv;
    (void)v;
    (void)n;
    pushed++;
    return 0;
}

void sb_drv_device_state(struct sb_drv *drv, const char *key, int ok, const char *err)
{
    (void)drv;
    (void)key;
    (void)ok;
    (void)err;
    pushed++;
}

void sb_drv_count_bad(struct sb_drv *drv, const char *key, const char *what)
{
    (void)drv;
    (void)key;
    (void)what;
    pushed++;
}

/* ------------------------------------------------------------- processes */

static char tmpl[] = "/tmp/sbems-test-modbus-XXXXXX";
static char *root;
static pid_t peers[8];  /* started and not yet reaped */
static int seq;         /* file name counter */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_alarm(int sig)
{
    (void)sig;
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
        if (peers[i] > 0)
            kill(peers[i], SIGKILL);
    static const char msg[] = "Bail out! watchdog expired\n";
    (void)!write(1, msg, sizeof msg - 1);
    _exit(1);
}

static void peer_track(pid_t pid, int add)
{
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++) {
        if (add ? peers[i] == 0 : peers[i] == pid) {
            peers[i] = add ? pid : 0;
            return;
        }
    }
}

/* Start argv with stdout+stderr to out; returns the PID or -1. */
static pid_t spawn(char *const argv[], const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0)
            _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        peer_track(pid, 1);
    return pid;
}

/* Wait up to ms for pid; returns its wait status or -1 if it still runs. */
static int reap(pid_t pid, int ms)
{
    int st;
    for (int i = 0; i <= ms / 10; i++) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            peer_track(pid, 0);
            return st;
        }
        usleep(10000);
    }
    return -1;
}

/* SIGTERM, 3 s grace, then SIGKILL. */
static void stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    if (reap(pid, 3000) == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        peer_track(pid, 0);
    }
}

/* Run argv to completion (at most ms); its output in out[cap]. Exit code or -1. */
static int run(char *const argv[], char *out, size_t cap, int ms)
{
    char path[512];
    int st;
    FILE *f;
    pid_t pid;

    snprintf(path, sizeof path, "%s/run-%d.out", root, seq++);
    if ((pid = spawn(argv, path)) < 0)
        return -1;
    if ((st = reap(pid, ms)) == -1) {
        stop(pid);
        return -1;
    }
    out[0] = '\0';
    if ((f = fopen(path, "r"))) {
        size_t n = fread(out, 1, cap - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        close(s);
    return port;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* ---------------------------------------------------------- the server */

struct srv {
    pid_t pid;              /* python process */
    int port;               /* TCP port (0 for RTU) */
    char layout[512];       /* layout file */
    char log[512];          /* request log */
    char ready[512];        /* ready marker */
    char out[512];          /* stdout/stderr */
    int nolog;              /* TCP: no request log (for measurements) */
};

/* Start modbus_server.py on a free port (or serial device); 0 when it is
 * listening. */
static int srv_start(struct srv *s, const char *layout, const char *serial, int port)
{
    char portbuf[16];
    int n = seq++;

    snprintf(s->layout, sizeof s->layout, "%s/layout-%d.json", root, n);
    snprintf(s->log, sizeof s->log, "%s/req-%d.log", root, n);
    snprintf(s->ready, sizeof s->ready, "%s/ready-%d", root, n);
    snprintf(s->out, sizeof s->out, "%s/srv-%d.out", root, n);
    if (write_text(s->layout, layout))
        return -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        s->port = serial ? 0 : (port ? port : free_port());
        snprintf(portbuf, sizeof portbuf, "%d", s->port);
        char *tcp[] = { PY, PEERS "/modbus_server.py", "--port", portbuf, "--layout", s->layout,
                        "--ready", s->ready, s->nolog ? NULL : "--log", s->log, NULL };
        char *rtu[] = { PY, PEERS "/modbus_server.py", "--serial", (char *)serial, "--parity", "N",
                        "--layout", s->layout, "--ready", s->ready, "--log", s->log, NULL };
        unlink(s->ready);
        if ((s->pid = spawn(serial ? rtu : tcp, s->out)) < 0)
            return -1;
        for (int i = 0; i < 1500 && !file_exists(s->ready); i++) {
            if (reap(s->pid, 0) != -1) {
                s->pid = -1;
                break;
            }
            usleep(10000);
        }
        if (s->pid > 0 && file_exists(s->ready))
            return 0;
        stop(s->pid);
        if (port)
            usleep(300000);   /* same port asked for: let the old one go */
    }
    printf("# server did not start; see %s\n", s->out);
    return -1;
}

/* Requests in the log: reads (function 1-4, every request is validated
 * once, answered or refused) when set is 0, else stores of function fc. */
static int log_count(const struct srv *s, int set, int fc)
{
    char line[128], what[8];
    int unit, f, addr, cnt, n = 0;
    FILE *fp = fopen(s->log, "r");
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp)) {
        if (sscanf(line, "%d %7s %d %d %d", &unit, what, &f, &addr, &cnt) != 5)
            continue;
        if (!set && strcmp(what, "val") == 0 && f >= 1 && f <= 4)
            n++;
        if (set && strcmp(what, "set") == 0 && f == fc)
            n++;
    }
    fclose(fp);
    return n;
}

/* The largest count of any read in the log. */
static int log_max_count(const struct srv *s)
{
    char line[128], what[8];
    int unit, f, addr, cnt, max = 0;
    FILE *fp = fopen(s->log, "r");
    if (!fp)
        return 0;
    while (fgets(line, sizeof line, fp))
        if (sscanf(line, "%d %7s %d %d %d", &unit, what, &f, &addr, &cnt) == 5 && cnt > max)
            max = cnt;
    fclose(fp);
    return max;
}

/* ------------------------------------------------------ driver harness */

struct dev {
    void *st;                               /* driver state */
    size_t n;                               /* bound points */
    struct sb_drv_point pt[DEV_MAX];        /* points */
    char *addr[DEV_MAX];                    /* their address text */
    char key[DEV_MAX][SB_DRV_KEY_MAX];      /* their device keys */
    struct sb_drv_item it[DEV_MAX];         /* read items */
    char err[256];                          /* last error */
};

static const struct sb_driver_ops *ops = &sb_driver_modbus;

static struct dev *dev_new(const char *conf)
{
    struct dev *d = calloc(1, sizeof(*d));
    json_t *c = conf ? json_loads(conf, 0, NULL) : NULL;
    if (d && ops->init(NULL, c, &d->st, d->err, sizeof d->err) != 0) {
        printf("# init: %s\n", d->err);
        free(d);
        d = NULL;
    }
    json_decref(c);
    return d;
}

/* Bind one point; its index or -1 (d->err says why). */
static int dev_add(struct dev *d, enum sb_unit unit, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int dev_add(struct dev *d, enum sb_unit unit, const char *fmt, ...)
{
    size_t i = d->n;
    va_list ap;
    int rc;

    if (i >= DEV_MAX)
        return -1;
    va_start(ap, fmt);
    rc = vasprintf(&d->addr[i], fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -1;
    d->pt[i] = (struct sb_drv_point){ .id = (uint32_t)i + 1, .slug = "p", .address = d->addr[i],
                                      .address_json = 1, .unit = unit, .writable = 1,
                                      .min = NAN, .max = NAN };
    if (ops->bind(d->st, &d->pt[i], d->key[i], SB_DRV_KEY_MAX, d->err, sizeof d->err) != 0) {
        printf("# bind %s: %s\n", d->addr[i], d->err);
        free(d->addr[i]);
        d->addr[i] = NULL;
        return -1;
    }
    d->n++;
    return (int)i;
}

/* Read points [first, first+n) of one device. */
static int dev_read(struct dev *d, size_t first, size_t n, int64_t timeout_ms)
{
    for (size_t i = first; i < first + n; i++)
        d->it[i] = (struct sb_drv_item){ .pt = &d->pt[i] };
    d->err[0] = '\0';
    return ops->read(d->st, d->key[first], &d->it[first], n, timeout_ms, d->err, sizeof d->err);
}

static int dev_write(struct dev *d, size_t i, double v, char *err, size_t errlen)
{
    struct sb_drv_write w = { .pt = &d->pt[i], .value = v };
    int rc = ops->write(d->st, d->key[i], &w, 2000);
    snprintf(err, errlen, "%s", w.err);
    return rc;
}

static void dev_free(struct dev *d)
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

/* -------------------------------------------------------- pure: parsing */

static int parse(const char *json, struct sb_modbus_addr *a, char *err)
{
    return sb_modbus_addr_parse(json, strlen(json), a, err, 256);
}

TEST(addr_modicon)
{
    static const struct { const char *json; int table, type; unsigned addr; } ok[] = {
        { "{\"host\":\"h\",\"register\":30001,\"type\":\"float32\"}", SB_MODBUS_INPUT, SB_MODBUS_FLOAT32, 0 },
        { "{\"host\":\"h\",\"register\":40001}", SB_MODBUS_HOLDING, SB_MODBUS_UINT16, 0 },
        { "{\"host\":\"h\",\"register\":49999}", SB_MODBUS_HOLDING, SB_MODBUS_UINT16, 9998 },
        { "{\"host\":\"h\",\"register\":400001,\"type\":\"int16\"}", SB_MODBUS_HOLDING, SB_MODBUS_INT16, 0 },
        { "{\"host\":\"h\",\"register\":465536}", SB_MODBUS_HOLDING, SB_MODBUS_UINT16, 65535 },
        { "{\"host\":\"h\",\"register\":365536}", SB_MODBUS_INPUT, SB_MODBUS_UINT16, 65535 },
        { "{\"host\":\"h\",\"register\":10003,\"type\":\"coil\"}", SB_MODBUS_DISCRETE, SB_MODBUS_COILT, 2 },
        { "{\"host\":\"h\",\"register\":100001}", SB_MODBUS_DISCRETE, SB_MODBUS_COILT, 0 },
        { "{\"host\":\"h\",\"register\":1,\"type\":\"coil\"}", SB_MODBUS_COIL, SB_MODBUS_COILT, 0 },
        { "{\"host\":\"h\",\"register\":9999}", SB_MODBUS_COIL, SB_MODBUS_COILT, 9998 },
        { "{\"host\":\"h\",\"register\":3060,\"type\":\"float32\"}", SB_MODBUS_HOLDING, SB_MODBUS_FLOAT32, 3059 },
        { "{\"host\":\"h\",\"table\":\"holding\",\"register\":0}", SB_MODBUS_HOLDING, SB_MODBUS_UINT16, 0 },
        { "{\"host\":\"h\",\"table\":\"input\",\"register\":65534,\"type\":\"int32\"}", SB_MODBUS_INPUT, SB_MODBUS_INT32, 65534 },
        { "{\"host\":\"h\",\"table\":\"coil\",\"register\":7}", SB_MODBUS_COIL, SB_MODBUS_COILT, 7 },
        { "{\"host\":\"h\",\"table\":\"discrete\",\"register\":7}", SB_MODBUS_DISCRETE, SB_MODBUS_COILT, 7 },
        { "{\"host\":\"h\",\"register\":40010,\"type\":\"bit\",\"bit\":15}", SB_MODBUS_HOLDING, SB_MODBUS_BIT, 9 },
    };
    struct sb_modbus_addr a;
    char err[256];

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int rc = parse(ok[i].json, &a, err);
        CHECK_EQ(rc, 0);
        if (rc) {
            printf("#   %s: %s\n", ok[i].json, err);
            continue;
        }
        CHECK_EQ(a.map.table, ok[i].table);
        CHECK_EQ(a.map.type, ok[i].type);
        CHECK_EQ(a.map.addr, ok[i].addr);
        CHECK_EQ(a.port, 502);
        CHECK_EQ(a.unit, 1);
        sb_modbus_addr_release(&a);
    }
}

/* Each bad address fails with a message that contains want. */
TEST(addr_errors)
{
    static const struct { const char *json, *want; } bad[] = {
        { "{\"host\":\"h\",\"register\":0}", "Modicon" },
        { "{\"host\":\"h\",\"register\":25000}", "Modicon" },
        { "{\"host\":\"h\",\"register\":465536,\"type\":\"float32\"}", "runs past 65535" },
        { "{\"host\":\"h\",\"table\":\"holding\",\"register\":65536}", "0-based address" },
        { "{\"host\":\"h\",\"table\":\"holdings\",\"register\":1}", "unknown table \"holdings\"" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"flaot32\"}", "unknown type \"flaot32\"" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"coil\"}", "does not fit the holding table" },
        { "{\"host\":\"h\",\"register\":10001,\"type\":\"float32\"}", "does not fit the discrete table" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"bit\"}", "\"bit\"" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"bit\",\"bit\":16}", "0..15" },
        { "{\"host\":\"h\",\"register\":40001,\"bit\":3}", "only for type \"bit\"" },
        { "{\"host\":\"h\",\"register\":40001,\"word_order\":\"middle\"}", "\"word_order\"" },
        { "{\"host\":\"h\",\"register\":40001,\"scale\":0}", "\"scale\" must not be 0" },
        { "{\"host\":\"h\",\"register\":1,\"scale\":2}", "do not apply to type \"coil\"" },
        { "{\"host\":\"h\",\"register\":40001,\"enum\":{\"x\":\"a\"}}", "key \"x\"" },
        { "{\"host\":\"h\",\"register\":40001,\"enum\":{\"1\":\"a\",\"01\":\"b\"}}", "named twice" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"float32\",\"enum\":{\"1\":\"a\"}}", "integer type" },
        { "{\"host\":\"h\",\"register\":40001,\"type\":\"int16\",\"enum\":{\"40000\":\"a\"}}", "does not fit" },
        { "{\"host\":\"h\",\"registr\":40001}", "unknown field \"registr\"" },
        { "{\"host\":\"h\"}", "\"register\" is required" },
        { "{\"host\":\"h\",\"register\":40001,\"unit\":256}", "\"unit\"" },
        { "{\"host\":\"h\",\"register\":40001,\"port\":0}", "\"port\"" },
        { "{\"host\":\"h h\",\"register\":40001}", "\"host\"" },
        { "{\"host\":\"\",\"register\":40001}", "\"host\"" },
        { "{\"register\":40001}", "\"host\"" },
        { "{\"serial\":\"ttyUSB0\",\"register\":40001}", "absolute" },
        { "{\"serial\":\"/dev/ttyUSB0\",\"baud\":1234,\"register\":40001}", "standard rate" },
        { "{\"serial\":\"/dev/ttyUSB0\",\"parity\":\"X\",\"register\":40001}", "\"parity\"" },
        { "{\"serial\":\"/dev/ttyUSB0\",\"unit\":0,\"register\":40001}", "\"unit\"" },
        { "{\"serial\":\"/dev/x\",\"host\":\"h\",\"register\":40001}", "not both" },
        { "{\"host\":\"h\",\"profile\":\"vfd\",\"name\":\"run\",\"register\":1}", "cannot be used with \"profile\"" },
        { "{\"host\":\"h\",\"profile\":\"vfd\"}", "\"name\"" },
        { "{\"host\":\"h\",\"name\":\"run\",\"register\":1}", "needs \"profile\"" },
        { "{\"host\":\"h\",\"register\":40001,\"register\":40002}", "JSON object" },
        { "[1,2]", "JSON object" },
        { "{\"host\":", "JSON object" },
    };
    struct sb_modbus_addr a;
    char err[256];

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = parse(bad[i].json, &a, err);
        CHECK_EQ(rc, SB_EINVAL);
        if (!strstr(err, bad[i].want))
            TAP_FAIL("%s: message \"%s\" lacks \"%s\"", bad[i].json, err, bad[i].want);
    }
}

TEST(addr_keys)
{
    struct sb_modbus_addr a;
    char err[256], key[SB_DRV_KEY_MAX];

    REQUIRE(parse("{\"host\":\"10.20.1.50\",\"port\":502,\"unit\":1,\"register\":3060,"
                  "\"type\":\"float32\"}", &a, err) == 0);
    CHECK_EQ(sb_modbus_addr_key(&a, key, sizeof key), 0);
    CHECK_STR(key, "tcp:10.20.1.50:502/1");
    CHECK_EQ(sb_modbus_addr_conn_key(&a, key, sizeof key), 0);
    CHECK_STR(key, "tcp:10.20.1.50:502");
    CHECK_EQ(sb_modbus_addr_key(&a, key, 10), SB_ENOSPC);
    sb_modbus_addr_release(&a);
    REQUIRE(parse("{\"host\":\"::1\",\"port\":1502,\"unit\":7,\"register\":40001}", &a, err) == 0);
    CHECK_EQ(sb_modbus_addr_key(&a, key, sizeof key), 0);
    CHECK_STR(key, "tcp:[::1]:1502/7");
    sb_modbus_addr_release(&a);
    REQUIRE(parse("{\"serial\":\"/dev/ttyUSB0\",\"baud\":19200,\"parity\":\"N\",\"stop_bits\":2,"
                  "\"unit\":3,\"register\":30001,\"type\":\"float32\"}", &a, err) == 0);
    CHECK_EQ(a.rtu, 1);
    CHECK_EQ(a.baud, 19200);
    CHECK_EQ(a.parity, 'N');
    CHECK_EQ(a.data_bits, 8);
    CHECK_EQ(a.stop_bits, 2);
    CHECK_EQ(sb_modbus_addr_key(&a, key, sizeof key), 0);
    CHECK_STR(key, "rtu:/dev/ttyUSB0/3");
    sb_modbus_addr_release(&a);
    REQUIRE(parse("{\"serial\":\"/dev/ttyS1\",\"register\":1}", &a, err) == 0);
    CHECK_EQ(a.parity, 'E');    /* the Serial Line spec's default */
    CHECK_EQ(a.baud, 9600);
    sb_modbus_addr_release(&a);
}

/* Every Modbus address of the example site parses. */
TEST(example_site)
{
    json_t *doc = json_load_file("examples/office-site.json", 0, NULL), *p;
    size_t i, n = 0;
    char err[256];

    REQUIRE(doc != NULL);
    json_array_foreach(json_object_get(doc, "points"), i, p) {
        json_t *src = json_object_get(p, "source");
        const char *drv = json_string_value(json_object_get(src, "driver"));
        struct sb_modbus_addr a;
        char *txt;
        if (!drv || strcmp(drv, "modbus") != 0)
            continue;
        txt = json_dumps(json_object_get(src, "address"), JSON_COMPACT);
        if (parse(txt, &a, err) != 0)
            TAP_FAIL("%s: %s", txt, err);
        else
            sb_modbus_addr_release(&a);
        free(txt);
        n++;
    }
    CHECK_INT(n, >=, 10);
    json_decref(doc);
}

/* ----------------------------------------------------------- pure: codec */

static struct sb_modbus_map mk(int type, int wle, int ble)
{
    return (struct sb_modbus_map){ .table = SB_MODBUS_HOLDING, .type = (uint8_t)type,
                                   .word_le = (uint8_t)wle, .byte_le = (uint8_t)ble,
                                   .scale = 1, .offset = 0, .writable = -1 };
}

TEST(codec_vectors)
{
    struct sb_modbus_map m = mk(SB_MODBUS_FLOAT32, 0, 0);
    uint16_t r[4];
    double v;

    /* 1.5f = 0x3FC00000 (IEEE 754). */
    CHECK_EQ(sb_modbus_encode(&m, 1.5, r, 4), 2);
    CHECK_EQ(r[0], 0x3FC0);
    CHECK_EQ(r[1], 0x0000);
    m.word_le = 1;
    CHECK_EQ(sb_modbus_encode(&m, 1.5, r, 4), 2);
    CHECK_EQ(r[0], 0x0000);
    CHECK_EQ(r[1], 0x3FC0);
    m = mk(SB_MODBUS_FLOAT32, 0, 1);
    CHECK_EQ(sb_modbus_encode(&m, 1.5, r, 4), 2);
    CHECK_EQ(r[0], 0xC03F);
    m = mk(SB_MODBUS_INT32, 0, 0);
    CHECK_EQ(sb_modbus_encode(&m, -2, r, 4), 2);
    CHECK_EQ(r[0], 0xFFFF);
    CHECK_EQ(r[1], 0xFFFE);
    m = mk(SB_MODBUS_UINT32, 1, 0);
    r[0] = 0x5678;
    r[1] = 0x1234;
    CHECK_EQ(sb_modbus_decode(&m, r, 2, &v), 0);
    CHECK_DBL(v, 0x12345678, 0);
    CHECK_EQ(sb_modbus_decode(&m, r, 1, &v), SB_EINVAL);
    m = mk(SB_MODBUS_INT64, 0, 0);
    r[0] = r[1] = r[2] = 0xFFFF;
    r[3] = 0xFF00;
    CHECK_EQ(sb_modbus_decode(&m, r, 4, &v), 0);
    CHECK_DBL(v, -256, 0);
    m = mk(SB_MODBUS_FLOAT32, 0, 0);
    r[0] = 0x7FC0;      /* a quiet NaN: "not available" on many meters */
    r[1] = 0;
    CHECK_EQ(sb_modbus_decode(&m, r, 2, &v), SB_ENAN);
    m = mk(SB_MODBUS_BIT, 0, 0);
    m.bit = 8;
    r[0] = 0x0100;
    CHECK_EQ(sb_modbus_decode(&m, r, 1, &v), 0);
    CHECK_DBL(v, 1, 0);
    CHECK_EQ(sb_modbus_encode(&m, 0, r, 1), 1);
    CHECK_EQ(r[0], 0);
    r[0] = 0x00F0;
    m.bit = 0;
    CHECK_EQ(sb_modbus_encode(&m, 1, r, 1), 1);
    CHECK_EQ(r[0], 0x00F1);
    CHECK_STR(sb_modbus_exception_name(2), "illegal data address");
    CHECK_STR(sb_modbus_exception_name(11), "gateway target device failed to respond");
    CHECK_STR(sb_modbus_exception_name(12), "unknown exception");
}

/* Every type, every order: encode then decode gives the raw back. */
TEST(codec_roundtrip)
{
    static const double vals[] = { 0, 1, -1, 127, -32768, 32767, 65535, 2147483647.0,
                                   -2147483648.0, 4294967295.0, 1e15, -1e15, 21.75, -0.1, 3e38 };
    uint64_t seed = 42;

    for (int t = 0; t < SB_MODBUS_FLOAT64 + 1; t++) {
        for (int o = 0; o < 4; o++) {
            struct sb_modbus_map m = mk(t, o & 1, o >> 1);
            for (size_t i = 0; i < sizeof vals / sizeof vals[0] + 50; i++) {
                double want = i < sizeof vals / sizeof vals[0]
                                  ? vals[i] : (double)(int64_t)(tap_rand(&seed) >> 20) - 4e12;
                uint16_t r[4];
                double raw, got;
                char err[128];
                if (sb_modbus_unscale(&m, want, &raw, err, sizeof err) != 0)
                    continue;   /* out of the type's range */
                if (t == SB_MODBUS_FLOAT32)
                    raw = (float)raw;
                CHECK_INT(sb_modbus_encode(&m, raw, r, 4), ==, (int)sb_modbus_type_regs(t));
                CHECK_EQ(sb_modbus_decode(&m, r, 4, &got), 0);
                if (got != raw)
                    TAP_FAIL("%s order %d: %.17g -> %.17g", sb_modbus_type_name(t), o, raw, got);
            }
        }
    }
}

TEST(codec_scale)
{
    struct sb_modbus_map m = mk(SB_MODBUS_INT16, 0, 0);
    double raw;
    char err[128];

    m.scale = 0.1;
    CHECK_EQ(sb_modbus_unscale(&m, 21.5, &raw, err, sizeof err), 0);
    CHECK_DBL(raw, 215, 0);
    CHECK_DBL(sb_modbus_scale(&m, 215), 21.5, 1e-12);
    CHECK_EQ(sb_modbus_unscale(&m, 4000, &raw, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "int16") != NULL);
    m = mk(SB_MODBUS_UINT16, 0, 0);
    m.scale = 0.01;
    m.offset = -40;
    CHECK_DBL(sb_modbus_scale(&m, 1000), -30, 1e-12);
    CHECK_EQ(sb_modbus_unscale(&m, -30, &raw, err, sizeof err), 0);
    CHECK_DBL(raw, 1000, 0);
    CHECK_EQ(sb_modbus_unscale(&m, -50, &raw, err, sizeof err), SB_ERANGE);
    CHECK_EQ(sb_modbus_unscale(&m, NAN, &raw, err, sizeof err), SB_ENAN);
    m = mk(SB_MODBUS_INT64, 0, 0);
    CHECK_EQ(sb_modbus_unscale(&m, 9223372036854775808.0, &raw, err, sizeof err), SB_ERANGE);
    m = mk(SB_MODBUS_COILT, 0, 0);
    CHECK_EQ(sb_modbus_unscale(&m, 0.5, &raw, err, sizeof err), SB_ERANGE);
    m = mk(SB_MODBUS_FLOAT32, 0, 0);
    CHECK_EQ(sb_modbus_unscale(&m, 1e39, &raw, err, sizeof err), SB_ERANGE);
}

/* --------------------------------------------------------- pure: planner */

static size_t plan(const struct sb_modbus_span *s, size_t n, unsigned gap,
                   struct sb_modbus_req *reqs)
{
    struct sb_modbus_limits lim = { 125, 2000, gap };
    size_t order[256], nreq = 0;
    if (sb_modbus_plan(s, n, &lim, order, reqs, &nreq) != 0)
        return (size_t)-1;
    return nreq;
}

TEST(plan_coalesce)
{
    struct sb_modbus_span s[256];
    struct sb_modbus_req r[256];
    size_t n = 0;

    /* 100 float32, given in reverse: 200 registers -> 2 requests of <= 125. */
    for (int i = 99; i >= 0; i--)
        s[n++] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, (uint16_t)(100 + 2 * i), 2 };
    CHECK_EQ(plan(s, n, 8, r), 2);
    CHECK_EQ(r[0].addr, 100);
    CHECK_EQ(r[0].count, 124);
    CHECK_EQ(r[0].n, 62);
    CHECK_EQ(r[1].addr, 224);
    CHECK_EQ(r[1].count, 76);
    /* Gaps: 8 unread registers are bridged, 9 are not. */
    n = 0;
    s[n++] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, 0, 2 };
    s[n++] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, 10, 1 };     /* gap 8 */
    s[n++] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, 20, 1 };     /* gap 9 */
    s[n++] = (struct sb_modbus_span){ SB_MODBUS_INPUT, 0, 11, 1 };       /* other table */
    s[n++] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, 20, 1 };     /* same register twice */
    CHECK_EQ(plan(s, n, 8, r), 3);
    CHECK_EQ(r[0].table, SB_MODBUS_INPUT);     /* tables in enum order: input before holding */
    CHECK_EQ(r[1].table, SB_MODBUS_HOLDING);
    CHECK_EQ(r[1].addr, 0);
    CHECK_EQ(r[1].count, 11);
    CHECK_EQ(r[1].n, 2);
    CHECK_EQ(r[2].addr, 20);
    CHECK_EQ(r[2].n, 2);
    CHECK_EQ(plan(s, n, 0, r), 4);
    /* Flags learnt from exceptions. */
    s[1].flags = SB_MODBUS_SPAN_ALONE;
    CHECK_EQ(plan(s, n, 8, r), 4);
    s[1].flags = SB_MODBUS_SPAN_GAPLESS;
    CHECK_EQ(plan(s, n, 8, r), 4);
    /* Coils: 2000 bits per request, gaps of 16 x max_gap bits. */
    n = 0;
    for (int i = 0; i < 2001; i += 1)
        if (n < 256 && (i % 8) == 0)
            s[n++] = (struct sb_modbus_span){ SB_MODBUS_COIL, 0, (uint16_t)i, 1 };
    CHECK_EQ(plan(s, n, 8, r), 2);
    CHECK_EQ(r[0].count, 1993);
    /* A span too big for one request, bad limits. */
    s[0] = (struct sb_modbus_span){ SB_MODBUS_HOLDING, 0, 65535, 2 };
    CHECK_EQ(plan(s, 1, 8, r), (size_t)-1);
    CHECK_EQ(plan(s, 0, 200, r), (size_t)-1);
}

/* ------------------------------------------------------ pure: profiles */

TEST(profiles_shipped)
{
    static const char *const names[] = { "eastron-sdm630", "schneider-pm5xxx",
                                         "chiller-gateway", "vfd" };
    struct sb_modbus_profile *p;
    const struct sb_modbus_map *e;
    char err[512];

    for (size_t i = 0; i < 4; i++) {
        int rc = sb_modbus_profile_load("profiles", names[i], &p, err, sizeof err);
        CHECK_EQ(rc, 0);
        if (rc) {
            printf("#   %s\n", err);
            continue;
        }
        CHECK_STR(p->name, names[i]);
        CHECK_INT(p->n, >=, 8);
        if (i == 0) {
            /* SDM630: total power 30053, frequency 30071, import kWh 30073. */
            REQUIRE((e = sb_modbus_profile_entry(p, "total_active_power")) != NULL);
            CHECK_EQ(e->table, SB_MODBUS_INPUT);
            CHECK_EQ(e->addr, 52);
            CHECK_EQ(e->type, SB_MODBUS_FLOAT32);
            CHECK_EQ(e->unit, SB_UNIT_W);
            REQUIRE((e = sb_modbus_profile_entry(p, "frequency")) != NULL);
            CHECK_EQ(e->addr, 70);
            REQUIRE((e = sb_modbus_profile_entry(p, "import_active_energy")) != NULL);
            CHECK_EQ(e->addr, 72);
            CHECK_EQ(e->unit, SB_UNIT_KWH);
        }
        if (i == 1) {
            /* PM5xxx register 3060 is protocol address 3059. */
            REQUIRE((e = sb_modbus_profile_entry(p, "total_active_power")) != NULL);
            CHECK_EQ(e->table, SB_MODBUS_HOLDING);
            CHECK_EQ(e->addr, 3059);
            REQUIRE((e = sb_modbus_profile_entry(p, "active_energy_delivered")) != NULL);
            CHECK_EQ(e->addr, 2699);
        }
        if (i == 2) {
            REQUIRE((e = sb_modbus_profile_entry(p, "chw_setpoint")) != NULL);
            CHECK_EQ(e->writable, 1);
            CHECK_EQ(e->unit, SB_UNIT_CELSIUS);
        }
        if (i == 3) {
            REQUIRE((e = sb_modbus_profile_entry(p, "fault_code")) != NULL);
            CHECK_INT(e->n_enums, >=, 5);
            REQUIRE((e = sb_modbus_profile_entry(p, "run")) != NULL);
            CHECK_EQ(e->table, SB_MODBUS_COIL);
        }
        sb_modbus_profile_free(p);
    }
}

#define PROF_HEAD "{\"format\":\"sbems-modbus-profile\",\"version\":1,\"name\":\"t\",\"registers\":["

/* A bad profile file fails with a message naming file, entry and field. */
TEST(profile_errors)
{
    static const struct { const char *text, *want; } bad[] = {
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001},{\"name\":\"freq\",\"register\":30071,"
          "\"type\":\"flaot32\"}]}", "t.json: registers[1] \"freq\": field \"type\": unknown type" },
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001,\"unit\":\"furlongs\"}]}",
          "registers[0] \"a\": field \"unit\"" },
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001,\"writable\":true}]}",
          "registers[0] \"a\": field \"writable\": the input table is read-only" },
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001},{\"name\":\"a\",\"register\":30002}]}",
          "registers[1] \"a\": field \"name\": another entry" },
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001,\"colour\":1}]}",
          "registers[0] \"a\": unknown field \"colour\"" },
        { PROF_HEAD "{\"name\":\"A B\",\"register\":30001}]}", "registers[0]: field \"name\"" },
        { PROF_HEAD "{\"name\":\"a\",\"register\":30001,\"description\":1}]}", "\"description\"" },
        { PROF_HEAD "7]}", "registers[0]: must be an object" },
        { PROF_HEAD "]}", "\"registers\" must be an array of 1.." },
        { "{\"format\":\"x\",\"version\":1,\"name\":\"t\",\"registers\":[]}", "field \"format\"" },
        { "{\"format\":\"sbems-modbus-profile\",\"version\":2,\"name\":\"t\"}", "\"version\" must be 1" },
        { "{\"format\":\"sbems-modbus-profile\",\"version\":1,\"name\":\"other\",\"registers\":"
          "[{\"name\":\"a\",\"register\":30001}]}", "named for \"t\"" },
        { "{\"format\":\"sbems-modbus-profile\",\"version\":1,\"name\":\"t\",\"word_order\":\"x\","
          "\"registers\":[{\"name\":\"a\",\"register\":30001,\"type\":\"int32\"}]}", "\"word_order\"" },
        { "{\"format\":\"sbems-modbus-profile\",\n\"version\":1,,}", "t.json: line 2" },
        { "{\"format\":\"sbems-modbus-profile\",\"format\":\"sbems-modbus-profile\"}", "t.json: line" },
    };
    char dir[512], path[600], err[512];
    struct sb_modbus_profile *p;

    snprintf(dir, sizeof dir, "%s/prof", root);
    REQUIRE(mkdir(dir, 0700) == 0);
    snprintf(path, sizeof path, "%s/t.json", dir);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        REQUIRE(write_text(path, bad[i].text) == 0);
        err[0] = '\0';
        CHECK_EQ(sb_modbus_profile_load(dir, "t", &p, err, sizeof err), SB_EINVAL);
        if (!strstr(err, bad[i].want))
            TAP_FAIL("case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].want);
    }
    CHECK_EQ(sb_modbus_profile_load(dir, "../prof/t", &p, err, sizeof err), SB_EINVAL);
    CHECK_EQ(sb_modbus_profile_load(dir, "nope", &p, err, sizeof err), SB_ENOENT);
    /* The profile's word order is the default of its entries. */
    REQUIRE(write_text(path, "{\"format\":\"sbems-modbus-profile\",\"version\":1,\"name\":\"t\","
                       "\"word_order\":\"little\",\"registers\":[{\"name\":\"a\",\"register\":30001,"
                       "\"type\":\"int32\"},{\"name\":\"b\",\"register\":30003,\"type\":\"int32\","
                       "\"word_order\":\"big\"}]}") == 0);
    REQUIRE(sb_modbus_profile_load(dir, "t", &p, err, sizeof err) == 0);
    CHECK_EQ(p->entries[0].word_le, 1);
    CHECK_EQ(p->entries[1].word_le, 0);
    sb_modbus_profile_free(p);
}

TEST(driver_conf)
{
    static const char *const bad[] = { "{\"bogus\":1}", "{\"max_regs\":200}", "{\"max_gap\":-1}",
                                       "{\"profiles\":5}", "[]" };
    void *st = NULL;
    char err[256];

    CHECK_STR(ops->name, "modbus");
    CHECK_EQ(ops->flags, SB_DRV_BLOCKING | SB_DRV_POLLED | SB_DRV_WRITES);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *c = json_loads(bad[i], 0, NULL);
        CHECK_EQ(ops->init(NULL, c, &st, err, sizeof err), SB_ECONFIG);
        CHECK(st == NULL);
        json_decref(c);
    }
    /* A profile that is not there: the message lists where it looked. */
    struct dev *d = dev_new("{\"profiles\":\"/nonexistent-sbems\"}");
    REQUIRE(d != NULL);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"host\":\"127.0.0.1\",\"profile\":\"vfd\",\"name\":\"run\"}"), -1);
    CHECK(strstr(d->err, "/nonexistent-sbems") != NULL);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"host\":\"127.0.0.1\",\"profile\":\"vfd\",\"name\":\"run\"}"), -1);
    dev_free(d);
    d = dev_new(NULL);      /* defaults: ./profiles first */
    REQUIRE(d != NULL);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"host\":\"127.0.0.1\",\"profile\":\"vfd\",\"name\":\"nope\"}"), -1);
    CHECK(strstr(d->err, "no entry \"nope\"") != NULL);
    /* The entry's unit must convert to the point's. */
    CHECK_EQ(dev_add(d, SB_UNIT_CELSIUS, "{\"host\":\"127.0.0.1\",\"profile\":\"vfd\",\"name\":"
                     "\"output_power\"}"), -1);
    CHECK(strstr(d->err, "does not convert") != NULL);
    CHECK_EQ(dev_add(d, SB_UNIT_W, "{\"host\":\"127.0.0.1\",\"profile\":\"vfd\",\"name\":"
                     "\"output_power\"}"), 0);
    /* All points on one serial port share its settings. */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"/dev/ttyX9\",\"baud\":9600,\"register\":40001}"), 1);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"/dev/ttyX9\",\"baud\":19200,\"register\":40001}"), -1);
    CHECK(strstr(d->err, "same settings") != NULL);
    d->pt[0].address_json = 0;
    CHECK_EQ(ops->bind(d->st, &d->pt[0], d->key[0], SB_DRV_KEY_MAX, d->err, sizeof d->err), SB_EINVAL);
    d->pt[0].address_json = 1;
    dev_free(d);
}

/* ------------------------------------------------- against pymodbus TCP */

static struct srv S;       /* the main TCP server */

/* Unit 1: every type in both word orders and more; unit 2: an SDM630. */
static const char *main_layout(void)
{
    return "{\"units\":{\"1\":{"
        "\"fill\":[{\"table\":\"holding\",\"start\":0,\"count\":1200},"
        "{\"table\":\"coil\",\"start\":0,\"count\":32},{\"table\":\"discrete\",\"start\":0,\"count\":32},"
        "{\"table\":\"input\",\"start\":0,\"count\":10}],"
        "\"values\":["
        "{\"table\":\"holding\",\"addr\":0,\"type\":\"int16\",\"value\":-1234},"
        "{\"table\":\"holding\",\"addr\":1,\"type\":\"uint16\",\"value\":54321},"
        "{\"table\":\"holding\",\"addr\":2,\"type\":\"int32\",\"value\":-123456789},"
        "{\"table\":\"holding\",\"addr\":4,\"type\":\"int32\",\"value\":-123456789,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":6,\"type\":\"uint32\",\"value\":3000000000},"
        "{\"table\":\"holding\",\"addr\":8,\"type\":\"uint32\",\"value\":3000000000,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":10,\"type\":\"int64\",\"value\":-1234567890123},"
        "{\"table\":\"holding\",\"addr\":14,\"type\":\"int64\",\"value\":-1234567890123,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":18,\"type\":\"uint64\",\"value\":123456789012345},"
        "{\"table\":\"holding\",\"addr\":22,\"type\":\"uint64\",\"value\":123456789012345,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":26,\"type\":\"float32\",\"value\":21.75},"
        "{\"table\":\"holding\",\"addr\":28,\"type\":\"float32\",\"value\":21.75,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":30,\"type\":\"float64\",\"value\":-1234.5678},"
        "{\"table\":\"holding\",\"addr\":34,\"type\":\"float64\",\"value\":-1234.5678,\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":38,\"type\":\"float32\",\"value\":3.5,\"byte_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":40,\"type\":\"float32\",\"value\":-7.25,\"byte_order\":\"little\",\"word_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":42,\"type\":\"int16\",\"value\":-2,\"byte_order\":\"little\"},"
        "{\"table\":\"holding\",\"addr\":44,\"type\":\"int16\",\"value\":215},"
        "{\"table\":\"holding\",\"addr\":45,\"type\":\"uint16\",\"value\":1000},"
        "{\"table\":\"holding\",\"addr\":46,\"raw\":[264]},"
        "{\"table\":\"holding\",\"addr\":606,\"raw\":[240]},"
        "{\"table\":\"holding\",\"addr\":1300,\"type\":\"uint16\",\"value\":11},"
        "{\"table\":\"holding\",\"addr\":1305,\"type\":\"uint16\",\"value\":22},"
        "{\"table\":\"input\",\"addr\":2,\"type\":\"float32\",\"value\":99.5},"
        "{\"table\":\"input\",\"addr\":20,\"type\":\"uint16\",\"value\":7},"
        "{\"table\":\"coil\",\"addr\":3,\"value\":1},"
        "{\"table\":\"discrete\",\"addr\":5,\"value\":1}]},"
        "\"2\":{\"fill\":[{\"table\":\"input\",\"start\":0,\"count\":80}],"
        "\"values\":["
        "{\"table\":\"input\",\"addr\":0,\"type\":\"float32\",\"value\":230.1},"
        "{\"table\":\"input\",\"addr\":52,\"type\":\"float32\",\"value\":1234.5},"
        "{\"table\":\"input\",\"addr\":70,\"type\":\"float32\",\"value\":50.0},"
        "{\"table\":\"input\",\"addr\":72,\"type\":\"float32\",\"value\":98765.25}]}}}";
}

#define TCP "{\"host\":\"127.0.0.1\",\"port\":%d,\"unit\":1,"
#define SDM "{\"host\":\"127.0.0.1\",\"port\":%d,\"unit\":2,\"profile\":\"eastron-sdm630\",\"name\":\"%s\"}"

TEST(tcp_types)
{
    static const struct { const char *type, *order; unsigned addr; double want; } t[] = {
        { "int16", "big", 0, -1234 }, { "uint16", "big", 1, 54321 },
        { "int32", "big", 2, -123456789 }, { "int32", "little", 4, -123456789 },
        { "uint32", "big", 6, 3000000000.0 }, { "uint32", "little", 8, 3000000000.0 },
        { "int64", "big", 10, -1234567890123.0 }, { "int64", "little", 14, -1234567890123.0 },
        { "uint64", "big", 18, 123456789012345.0 }, { "uint64", "little", 22, 123456789012345.0 },
        { "float32", "big", 26, 21.75 }, { "float32", "little", 28, 21.75 },
        { "float64", "big", 30, -1234.5678 }, { "float64", "little", 34, -1234.5678 },
    };
    struct dev *d = dev_new(NULL);
    size_t n = sizeof t / sizeof t[0];
    int before, rc;

    REQUIRE(d != NULL && S.pid > 0);
    for (size_t i = 0; i < n; i++)
        CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":%u,\"type\":\"%s\","
                         "\"word_order\":\"%s\"}", S.port, t[i].addr, t[i].type, t[i].order), (int)i);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40039,\"type\":\"float32\",\"byte_order\":\"little\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40041,\"type\":\"float32\",\"byte_order\":\"little\",\"word_order\":\"little\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40043,\"type\":\"int16\",\"byte_order\":\"little\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40045,\"type\":\"int16\",\"scale\":0.1}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40046,\"scale\":0.01,\"offset\":-40}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40047,\"type\":\"bit\",\"bit\":3}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40047,\"type\":\"bit\",\"bit\":8}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40047,\"type\":\"bit\",\"bit\":4}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":30003,\"type\":\"float32\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":4,\"type\":\"coil\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":3,\"type\":\"coil\"}", S.port) >= 0);
    CHECK(dev_add(d, SB_UNIT_NONE, TCP "\"register\":10006,\"type\":\"coil\"}", S.port) >= 0);
    REQUIRE(d->n == n + 12);
    CHECK_STR(d->key[0], d->key[n + 11]);
    before = log_count(&S, 0, 0);
    rc = dev_read(d, 0, d->n, 3000);
    CHECK_EQ(rc, 0);
    if (rc)
        printf("#   %s\n", d->err);
    /* One request per table: holding, input, coil, discrete. */
    CHECK_EQ(log_count(&S, 0, 0) - before, 4);
    for (size_t i = 0; i < d->n; i++) {
        CHECK_EQ(d->it[i].rc, 0);
        if (d->it[i].rc)
            printf("#   item %zu: %s\n", i, d->it[i].err);
    }
    for (size_t i = 0; i < n; i++)
        if (d->it[i].v != t[i].want)
            TAP_FAIL("%s %s: %.17g, want %.17g", t[i].type, t[i].order, d->it[i].v, t[i].want);
    /* Modicon coil 4 is address 3 (set), coil 3 is address 2. */
    double want[] = { 3.5, -7.25, -2, 21.5, -30, 1, 1, 0, 99.5, 1, 0, 1 };
    for (size_t i = 0; i < 12; i++)
        CHECK_DBL(d->it[n + i].v, want[i], 1e-9);
    dev_free(d);
}

TEST(tcp_coalesce)
{
    struct dev *d = dev_new(NULL);
    int before;

    REQUIRE(d != NULL && S.pid > 0);
    for (int i = 0; i < 20; i++)
        dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":%d,\"type\":\"float32\"}",
                S.port, 200 + 2 * i);
    dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":248}", S.port);   /* gap 8 */
    dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":258}", S.port);   /* gap 9 */
    dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":259}", S.port);
    dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"input\",\"register\":2,\"type\":\"float32\"}", S.port);
    REQUIRE(d->n == 24);
    before = log_count(&S, 0, 0);
    CHECK_EQ(dev_read(d, 0, d->n, 3000), 0);
    CHECK_EQ(log_count(&S, 0, 0) - before, 3);
    CHECK_DBL(d->it[23].v, 99.5, 0);
    dev_free(d);
    /* 100 float32 = 200 registers: two requests, none above 125. */
    d = dev_new(NULL);
    REQUIRE(d != NULL);
    for (int i = 0; i < 100; i++)
        dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":%d,\"type\":\"float32\"}",
                S.port, 200 + 2 * i);
    REQUIRE(d->n == 100);
    before = log_count(&S, 0, 0);
    CHECK_EQ(dev_read(d, 0, d->n, 3000), 0);
    CHECK_EQ(log_count(&S, 0, 0) - before, 2);
    CHECK_INT(log_max_count(&S), <=, 125);
    for (size_t i = 0; i < d->n; i++)
        CHECK_EQ(d->it[i].rc, 0);
    dev_free(d);
}

/* How many TCP connections this process has to 127.0.0.1:port. */
static int my_conns(int port)
{
    char path[300], link[128], line[512];
    long inodes[256];
    int n = 0, found = 0;
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;
    FILE *f;

    while (dir && (e = readdir(dir)) && n < 256) {
        ssize_t l;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        if ((l = readlink(path, link, sizeof link - 1)) > 0) {
            link[l] = '\0';
            if (sscanf(link, "socket:[%ld]", &inodes[n]) == 1)
                n++;
        }
    }
    if (dir)
        closedir(dir);
    if (!(f = fopen("/proc/net/tcp", "r")))
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned rport, st;
        long ino;
        if (sscanf(line, " %*d: %*x:%*x %*x:%x %x %*s %*s %*s %*s %*s %ld", &rport, &st, &ino) != 3)
            continue;
        for (int i = 0; i < n; i++)
            if (ino == inodes[i] && (int)rport == port && st == 1)
                found++;
    }
    fclose(f);
    return found;
}

TEST(tcp_profile_gateway)
{
    struct dev *d = dev_new("{\"profiles\":\"profiles\"}");

    REQUIRE(d != NULL && S.pid > 0);
    CHECK_EQ(dev_add(d, SB_UNIT_KW, SDM, S.port, "total_active_power"), 0);   /* W -> kW */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, SDM, S.port, "frequency"), 1);         /* unit unknown: as is */
    CHECK_EQ(dev_add(d, SB_UNIT_KWH, SDM, S.port, "import_active_energy"), 2);
    CHECK_EQ(dev_add(d, SB_UNIT_V, SDM, S.port, "voltage_l1"), 3);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40002}", S.port), 4);
    {
        char want[64];
        snprintf(want, sizeof want, "tcp:127.0.0.1:%d/2", S.port);
        CHECK_STR(d->key[0], want);
        snprintf(want, sizeof want, "tcp:127.0.0.1:%d/1", S.port);
        CHECK_STR(d->key[4], want);
    }
    int before = log_count(&S, 0, 0);
    CHECK_EQ(dev_read(d, 0, 4, 3000), 0);
    /* 0-1, 52-53 and 70-73: gaps of 50 and 16 registers are not bridged. */
    CHECK_EQ(log_count(&S, 0, 0) - before, 3);
    CHECK_DBL(d->it[0].v, 1.2345, 1e-12);
    CHECK_DBL(d->it[1].v, 50, 0);
    CHECK_DBL(d->it[2].v, 98765.25, 0);
    CHECK_DBL(d->it[3].v, (double)230.1f, 0);
    /* Unit 1 behind the same endpoint: the same connection. */
    CHECK_EQ(dev_read(d, 4, 1, 3000), 0);
    CHECK_DBL(d->it[4].v, 54321, 0);
    CHECK_EQ(my_conns(S.port), 1);
    dev_free(d);
}

/* Two devices behind one endpoint, read from two threads at once (as the
 * framework's worker pool may): the shared connection serialises them. */
struct gw_arg {
    struct dev *d;          /* shared driver state and points */
    size_t first;           /* this thread's point */
    double want;            /* its value */
    int bad;                /* failed reads */
};

static void *gw_main(void *arg)
{
    struct gw_arg *g = arg;
    for (int i = 0; i < 200; i++) {
        struct sb_drv_item it = { .pt = &g->d->pt[g->first] };
        char err[256];
        if (ops->read(g->d->st, g->d->key[g->first], &it, 1, 3000, err, sizeof err) != 0 ||
            it.rc != 0 || it.v != g->want)
            g->bad++;
    }
    return NULL;
}

TEST(tcp_gateway_threads)
{
    struct dev *d = dev_new("{\"profiles\":\"profiles\"}");
    struct gw_arg g[2];
    pthread_t th[2];

    REQUIRE(d != NULL && S.pid > 0);
    CHECK_EQ(dev_add(d, SB_UNIT_W, SDM, S.port, "total_active_power"), 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40002}", S.port), 1);
    REQUIRE(d->n == 2);
    g[0] = (struct gw_arg){ d, 0, 1234.5, 0 };
    g[1] = (struct gw_arg){ d, 1, 54321, 0 };
    for (int i = 0; i < 2; i++)
        REQUIRE(pthread_create(&th[i], NULL, gw_main, &g[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ(g[0].bad, 0);
    CHECK_EQ(g[1].bad, 0);
    CHECK_EQ(my_conns(S.port), 1);
    dev_free(d);
}

TEST(tcp_exceptions)
{
    struct dev *d = dev_new(NULL);
    int before;

    REQUIRE(d != NULL && S.pid > 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":5000}", S.port), 0);
    CHECK_EQ(dev_read(d, 0, 1, 3000), 0);      /* the device answered */
    CHECK_EQ(d->it[0].rc, SB_EPROTO);
    CHECK_STR(d->it[0].err, "exception 2: illegal data address");
    CHECK(isnan(d->it[0].v));
    /* A bad point in a bridged group does not cost its neighbours; an unmapped
     * gap between two good points neither. */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":1196}", S.port), 1);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":1202}", S.port), 2);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":1300}", S.port), 3);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":1305}", S.port), 4);
    for (int round = 0; round < 2; round++) {
        before = log_count(&S, 0, 0);
        CHECK_EQ(dev_read(d, 1, 4, 3000), 0);
        /* First: 2 groups fail, 4 single reads; then what was learnt: 4. */
        CHECK_EQ(log_count(&S, 0, 0) - before, round == 0 ? 6 : 4);
        CHECK_EQ(d->it[1].rc, 0);
        CHECK_DBL(d->it[1].v, 0, 0);
        CHECK_EQ(d->it[2].rc, SB_EPROTO);
        CHECK_EQ(d->it[3].rc, 0);
        CHECK_DBL(d->it[3].v, 11, 0);
        CHECK_EQ(d->it[4].rc, 0);
        CHECK_DBL(d->it[4].v, 22, 0);
    }
    dev_free(d);
}

/* A peer that accepts one connection and never answers. */
struct silent {
    int ls;                 /* listening socket */
    int fd;                 /* the accepted connection, or -1 */
};

static void *silent_main(void *arg)
{
    struct silent *s = arg;
    struct pollfd p = { .fd = s->ls, .events = POLLIN };
    if (poll(&p, 1, 3000) == 1)
        s->fd = accept(s->ls, NULL, NULL);
    return NULL;
}

TEST(tcp_dead)
{
    struct dev *d = dev_new(NULL);
    int port = free_port(), ls, rc;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    int64_t t0;
    char err[SB_DRV_ERR_MAX];

    REQUIRE(d != NULL);
    /* Nothing listens: refused at once. */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", port), 0);
    t0 = now_ms();
    CHECK_EQ(dev_read(d, 0, 1, 2000), SB_EIO);
    CHECK_INT(now_ms() - t0, <, 500);
    CHECK(strstr(d->err, "refused") != NULL);
    CHECK_EQ(d->it[0].rc, SB_EIO);
    /* A peer that accepts but never answers: timed out within the timeout. */
    ls = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 4) == 0);
    REQUIRE(getsockname(ls, (struct sockaddr *)&a, &al) == 0);
    struct silent sil = { ls, -1 };
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, silent_main, &sil) == 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", ntohs(a.sin_port)), 1);
    t0 = now_ms();
    rc = dev_read(d, 1, 1, 300);
    CHECK_EQ(rc, SB_ETIMEDOUT);
    CHECK_INT(now_ms() - t0, >=, 290);
    CHECK_INT(now_ms() - t0, <, 800);
    CHECK(strstr(d->err, "no answer within 300 ms") != NULL);
    t0 = now_ms();
    CHECK_EQ(dev_write(d, 1, 1, err, sizeof err), SB_ETIMEDOUT);
    CHECK_INT(now_ms() - t0, <, 2500);
    pthread_join(th, NULL);
    CHECK(sil.fd >= 0);             /* the driver did connect */
    if (sil.fd >= 0)
        close(sil.fd);
    close(ls);
    dev_free(d);
}

struct slow_arg {
    struct dev *d;          /* driver state and points */
    int rc;                 /* read result */
};

static void *slow_main(void *arg)
{
    struct slow_arg *a = arg;
    struct sb_drv_item it = { .pt = &a->d->pt[0] };
    char err[256];
    a->rc = ops->read(a->d->st, a->d->key[0], &it, 1, 1500, err, sizeof err);
    return NULL;
}

/* Unit 1 behind a gateway hangs for its whole timeout; unit 2 on the same
 * connection still returns within its own timeout. */
TEST(tcp_busy_gateway)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    struct dev *d = dev_new(NULL);
    struct slow_arg sa = { d, 0 };
    pthread_t th;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    int64_t t0;

    REQUIRE(d != NULL && ls >= 0);
    REQUIRE(bind(ls, (struct sockaddr *)&a, sizeof a) == 0 && listen(ls, 4) == 0);
    REQUIRE(getsockname(ls, (struct sockaddr *)&a, &al) == 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", ntohs(a.sin_port)), 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"host\":\"127.0.0.1\",\"port\":%d,\"unit\":2,"
                     "\"register\":40001}", ntohs(a.sin_port)), 1);
    REQUIRE(d->n == 2 && pthread_create(&th, NULL, slow_main, &sa) == 0);
    usleep(200000);
    t0 = now_ms();
    CHECK_EQ(dev_read(d, 1, 1, 300), SB_ETIMEDOUT);
    CHECK_INT(now_ms() - t0, <, 700);
    CHECK(strstr(d->err, "busy") != NULL);
    pthread_join(th, NULL);
    CHECK_EQ(sa.rc, SB_ETIMEDOUT);
    close(ls);
    dev_free(d);
}

/* A server that goes away and comes back: the read after the error reconnects. */
TEST(tcp_reconnect)
{
    struct srv s2;
    struct dev *d = dev_new(NULL);
    const char *lay = "{\"units\":{\"1\":{\"values\":[{\"table\":\"holding\",\"addr\":0,\"value\":77}]}}}";
    int rc;

    REQUIRE(d != NULL && srv_start(&s2, lay, NULL, 0) == 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", s2.port), 0);
    CHECK_EQ(dev_read(d, 0, 1, 2000), 0);
    CHECK_DBL(d->it[0].v, 77, 0);
    stop(s2.pid);
    rc = dev_read(d, 0, 1, 1000);
    CHECK(rc == SB_EIO || rc == SB_ETIMEDOUT);
    printf("#   after the server stopped: %s (%s)\n", sb_errname(rc), d->err);
    CHECK_EQ(dev_read(d, 0, 1, 1000), SB_EIO);      /* refused now */
    if (srv_start(&s2, lay, NULL, s2.port) == 0) {
        CHECK_EQ(dev_read(d, 0, 1, 2000), 0);
        CHECK_DBL(d->it[0].v, 77, 0);
        stop(s2.pid);
    } else {
        TAP_FAIL("could not restart the server on port %d", s2.port);
    }
    dev_free(d);
}

/* mbpoll's reading of one value ("[addr]: \tvalue"); NAN when absent. */
static double mbpoll(int port, const char *type, int addr, const char *extra)
{
    char out[4096], p[16], r[16], want[24];
    char *argv[20];
    int n = 0;
    const char *s;

    snprintf(p, sizeof p, "%d", port);
    snprintf(r, sizeof r, "%d", addr);
    argv[n++] = "/usr/bin/mbpoll";
    argv[n++] = "-m"; argv[n++] = "tcp"; argv[n++] = "-p"; argv[n++] = p;
    argv[n++] = "-a"; argv[n++] = "1"; argv[n++] = "-0"; argv[n++] = "-r"; argv[n++] = r;
    argv[n++] = "-t"; argv[n++] = (char *)type; argv[n++] = "-1"; argv[n++] = "-o"; argv[n++] = "2";
    if (extra)
        argv[n++] = (char *)extra;
    argv[n++] = "127.0.0.1";
    argv[n] = NULL;
    if (run(argv, out, sizeof out, 5000) != 0)
        return NAN;
    snprintf(want, sizeof want, "[%d]:", addr);
    if (!(s = strstr(out, want)))
        return NAN;
    return strtod(s + strlen(want), NULL);
}

TEST(tcp_writes)
{
    struct dev *d = dev_new(NULL);
    char err[SB_DRV_ERR_MAX];
    int s6, s16, s5;

    REQUIRE(d != NULL && S.pid > 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":600}", S.port), 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":601,\"type\":\"float32\"}", S.port), 1);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":603,\"type\":\"int32\",\"word_order\":\"little\"}", S.port), 2);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":605,\"type\":\"int16\",\"scale\":0.1}", S.port), 3);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":606,\"type\":\"bit\",\"bit\":0}", S.port), 4);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":606,\"type\":\"bit\",\"bit\":4}", S.port), 5);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"coil\",\"register\":10}", S.port), 6);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":607,\"enum\":{\"0\":\"off\",\"1\":\"on\",\"2\":\"auto\"}}", S.port), 7);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":606}", S.port), 8);
    s6 = log_count(&S, 1, 6);
    s16 = log_count(&S, 1, 16);
    s5 = log_count(&S, 1, 5);
    CHECK_EQ(dev_write(d, 0, 4321, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 1, -12.5, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 2, -7654321, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 3, 21.5, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 4, 1, err, sizeof err), 0);      /* 0x00F0 -> 0x00F1 */
    CHECK_EQ(dev_write(d, 5, 0, err, sizeof err), 0);      /* -> 0x00E1 */
    CHECK_EQ(dev_write(d, 6, 1, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 7, 2, err, sizeof err), 0);
    /* Function codes: 6 for one register, 16 for two, 5 for a coil. */
    CHECK_EQ(log_count(&S, 1, 6) - s6, 5);
    CHECK_EQ(log_count(&S, 1, 16) - s16, 2);
    CHECK_EQ(log_count(&S, 1, 5) - s5, 1);
    /* Read back through the driver ... */
    CHECK_EQ(dev_read(d, 0, 9, 3000), 0);
    double want[] = { 4321, -12.5, -7654321, 21.5, 1, 0, 1, 2, 0xE1 };
    for (size_t i = 0; i < 9; i++) {
        CHECK_EQ(d->it[i].rc, 0);
        CHECK_DBL(d->it[i].v, want[i], 1e-9);
    }
    /* ... and through mbpoll, an independent client. */
    CHECK_DBL(mbpoll(S.port, "4", 600, NULL), 4321, 0);
    CHECK_DBL(mbpoll(S.port, "4:float", 601, "-B"), -12.5, 0);      /* -B: high word first */
    CHECK_DBL(mbpoll(S.port, "4:int", 603, NULL), -7654321, 0);      /* default: low word first */
    CHECK_DBL(mbpoll(S.port, "4", 605, NULL), 215, 0);
    CHECK_DBL(mbpoll(S.port, "4", 606, NULL), 0xE1, 0);
    CHECK_DBL(mbpoll(S.port, "0", 10, NULL), 1, 0);
    dev_free(d);
}

TEST(tcp_write_refusals)
{
    struct dev *d = dev_new("{\"profiles\":\"profiles\"}");
    struct sb_drv_write w;
    char err[SB_DRV_ERR_MAX];

    REQUIRE(d != NULL && S.pid > 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":30001}", S.port), 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":10001}", S.port), 1);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":600}", S.port), 2);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":607,\"enum\":{\"0\":\"off\",\"1\":\"on\"}}", S.port), 3);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":5000}", S.port), 4);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"coil\",\"register\":11}", S.port), 5);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"host\":\"127.0.0.1\",\"port\":%d,\"unit\":2,\"profile\":"
                     "\"eastron-sdm630\",\"name\":\"frequency\"}", S.port), 6);
    int before = log_count(&S, 1, 6) + log_count(&S, 1, 16) + log_count(&S, 1, 5);
    CHECK_EQ(dev_write(d, 0, 1, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "input register table is read-only") != NULL);
    CHECK_EQ(dev_write(d, 1, 1, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "read-only") != NULL);
    CHECK_EQ(dev_write(d, 2, 70000, err, sizeof err), SB_ERANGE);
    CHECK(strstr(err, "uint16") != NULL);
    CHECK_EQ(dev_write(d, 2, NAN, err, sizeof err), SB_ENAN);
    CHECK_EQ(dev_write(d, 3, 5, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "enum") != NULL);
    CHECK_EQ(dev_write(d, 5, 0.5, err, sizeof err), SB_ERANGE);
    CHECK_EQ(dev_write(d, 6, 50, err, sizeof err), SB_EINVAL);     /* input table, via profile */
    d->pt[2].writable = 0;
    CHECK_EQ(dev_write(d, 2, 1, err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, "not writable") != NULL);
    d->pt[2].writable = 1;
    w = (struct sb_drv_write){ .pt = &d->pt[2], .value = NAN, .relinquish = 1 };
    CHECK_EQ(ops->write(d->st, d->key[2], &w, 1000), SB_ENOTSUP);
    /* None of these reached the device. */
    CHECK_EQ(log_count(&S, 1, 6) + log_count(&S, 1, 16) + log_count(&S, 1, 5), before);
    /* The device refuses: an exception is SB_EPROTO with its reason. */
    CHECK_EQ(dev_write(d, 4, 1, err, sizeof err), SB_EPROTO);
    CHECK_STR(err, "exception 2: illegal data address");
    /* ... and the connection stays usable. */
    CHECK_EQ(dev_write(d, 2, 4321, err, sizeof err), 0);
    dev_free(d);
}

/* ------------------------------------------- descriptors above FD_SETSIZE */

/* Descriptors whose /proc/self/fd link starts with what, below and at or
 * above FD_SETSIZE (1024). */
static void fd_count(const char *what, int *low, int *high)
{
    char path[300], link[128];
    DIR *dir = opendir("/proc/self/fd");
    struct dirent *e;

    *low = *high = 0;
    while (dir && (e = readdir(dir))) {
        ssize_t l;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        if ((l = readlink(path, link, sizeof link - 1)) <= 0)
            continue;
        link[l] = '\0';
        if (strncmp(link, what, strlen(what)) == 0)
            (atoi(e->d_name) >= FD_SETSIZE ? high : low)[0]++;
    }
    if (dir)
        closedir(dir);
}

static void fd_sockets(int *low, int *high)
{
    fd_count("socket:", low, high);
}

/* Take every descriptor below 1100 (dups of /dev/null), as a daemon with
 * many HTTP/WebSocket clients or ~1,000 Modbus devices has: the sockets the
 * driver opens next get numbers >= 1100.  0, or -1 when the limit is too low. */
static int fill_fds(void)
{
    struct rlimit rl;
    int nul, fd = -1;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max < 1400)
        return -1;
    rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || (nul = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    for (int i = 0; i < 1200 && fd < 1100; i++)
        if ((fd = fcntl(nul, F_DUPFD_CLOEXEC, 0)) < 0)
            return -1;
    return fd >= 1100 ? 0 : -1;
}

/* Run gw_main on g[0] and g[1] at once; their failed reads in total, or -1. */
static int run_pair(struct gw_arg g[2])
{
    pthread_t th[2];
    int n = 0;

    for (; n < 2; n++)
        if (pthread_create(&th[n], NULL, gw_main, &g[n]) != 0)
            break;
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return n == 2 ? g[0].bad + g[1].bad : -1;
}

/* The child of tcp_high_fds: everything a device does, with its sockets
 * above FD_SETSIZE.  Exit status 0 when every check passed. */
static int high_fds_child(int port2)
{
    struct dev *d = dev_new("{\"profiles\":\"profiles\"}");
    struct dev *e = dev_new("{\"fd_slots\":1}");   /* two connections, one slot */
    char err[SB_DRV_ERR_MAX];
    struct gw_arg g[2];
    int low0, low, high, dead = free_port();

    tap_cur_fail = 0;
    CHECK(e != NULL);
    if (!d || fill_fds() != 0) {
        TAP_FAIL("setup: driver init or descriptor fill failed (hard limit below 1400?)");
        return 1;
    }
    /* Started now, the driver cannot reserve low slots: a clear refusal. */
    {
        void *st = NULL;
        int rc = ops->init(NULL, NULL, &st, err, sizeof err);
        CHECK_EQ(rc, SB_ERANGE);
        CHECK(st == NULL && strstr(err, "below 1024") != NULL);
        printf("#   init with no descriptor below 1024 free: %s\n", err);
        if (rc == 0)
            ops->free(st);
    }
    fd_sockets(&low0, &high);
    CHECK_EQ(dev_add(d, SB_UNIT_KW, SDM, S.port, "total_active_power"), 0);     /* unit 2 */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40002}", S.port), 1);    /* unit 1 */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":1100}", S.port), 2);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":5000}", S.port), 3);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", dead), 4);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", port2), 5);
    if (d->n != 6)
        return 1;
    /* Today's bug: libmodbus' select() on a descriptor >= 1024 aborts here. */
    CHECK_EQ(dev_read(d, 0, 1, 3000), 0);
    CHECK_DBL(d->it[0].v, 1.2345, 1e-12);
    fd_sockets(&low, &high);
    CHECK_INT(high, >=, 1);             /* the connection really is above 1024 */
    CHECK_EQ(low, low0);                /* and no slot still holds it */
    CHECK_EQ(dev_read(d, 1, 1, 3000), 0);
    CHECK_DBL(d->it[1].v, 54321, 0);
    CHECK_EQ(dev_write(d, 2, 4321, err, sizeof err), 0);
    CHECK_EQ(dev_read(d, 2, 1, 3000), 0);
    CHECK_DBL(d->it[2].v, 4321, 0);
    CHECK_EQ(dev_read(d, 3, 1, 3000), 0);              /* an exception: answered */
    CHECK_EQ(d->it[3].rc, SB_EPROTO);
    CHECK_EQ(dev_read(d, 4, 1, 2000), SB_EIO);         /* refused, at once */
    CHECK(strstr(d->err, "refused") != NULL);
    /* A peer that never answers: the timeout closes the real socket, and
     * the slot it borrowed is back on /dev/null. */
    {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof sa;
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), h0;
        if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 4) != 0 ||
            getsockname(ls, (struct sockaddr *)&sa, &al) != 0) {
            TAP_FAIL("silent listener");
            return 1;
        }
        fd_sockets(&low, &h0);
        CHECK_EQ(dev_add(d, SB_UNIT_NONE, TCP "\"register\":40001}", ntohs(sa.sin_port)), 6);
        CHECK_EQ(dev_read(d, 6, 1, 300), SB_ETIMEDOUT);
        fd_sockets(&low, &high);
        CHECK_EQ(high, h0);
        CHECK_EQ(low, low0);
        close(ls);
        CHECK_EQ(dev_read(d, 1, 1, 3000), 0);      /* the gateway still fine */
    }
    /* Two connections on two threads, sharing one driver's slot pool. */
    g[0] = (struct gw_arg){ d, 1, 54321, 0 };
    g[1] = (struct gw_arg){ d, 5, 77, 0 };
    CHECK_EQ(run_pair(g), 0);
    /* One slot for two busy connections: they take turns, none fails. */
    if (e) {
        CHECK_EQ(dev_add(e, SB_UNIT_NONE, TCP "\"register\":40002}", S.port), 0);
        CHECK_EQ(dev_add(e, SB_UNIT_NONE, TCP "\"register\":40001}", port2), 1);
        g[0] = (struct gw_arg){ e, 0, 54321, 0 };
        g[1] = (struct gw_arg){ e, 1, 77, 0 };
        CHECK_EQ(run_pair(g), 0);
    }
    fd_sockets(&low, &high);
    CHECK_INT(high, >=, e ? 3 : 2);
    CHECK_EQ(low, low0);
    dev_free(d);
    dev_free(e);
    fd_sockets(&low, &high);
    CHECK_EQ(high, 0);                  /* every connection closed */
    return tap_cur_fail;
}

/* libmodbus 3.1.6 waits with select(); glibc's fortified FD_SET aborts the
 * process for a descriptor >= FD_SETSIZE.  The driver must never give
 * libmodbus such a descriptor.  Run in a child so the abort is a failure
 * here, not the end of the test binary. */
TEST(tcp_high_fds)
{
    const char *lay = "{\"units\":{\"1\":{\"values\":[{\"table\":\"holding\",\"addr\":0,\"value\":77}]}}}";
    struct srv s2 = { .pid = -1 };
    pid_t pid;
    int st;

    REQUIRE(S.pid > 0 && srv_start(&s2, lay, NULL, 0) == 0);
    fflush(stdout);
    if ((pid = fork()) == 0) {
        signal(SIGALRM, SIG_DFL);   /* the parent's handler would kill its peers */
        alarm(100);
        int code = high_fds_child(s2.port);
        fflush(stdout);
        _exit(code);
    }
    REQUIRE(pid > 0);
    peer_track(pid, 1);
    if ((st = reap(pid, 110000)) == -1) {
        stop(pid);
        TAP_FAIL("child did not finish");
    } else if (WIFSIGNALED(st)) {
        TAP_FAIL("child killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
    } else {
        CHECK_EQ(WEXITSTATUS(st), 0);
    }
    stop(s2.pid);
}

/* ------------------------------------------------------ RTU over a pty */

/* The two "PTY is /dev/pts/N" lines socat -d -d prints. */
static int socat_ptys(const char *out, char a[64], char b[64])
{
    char line[512];
    int n = 0;
    for (int i = 0; i < 500 && n < 2; i++) {
        FILE *f = fopen(out, "r");
        n = 0;
        while (f && n < 2 && fgets(line, sizeof line, f)) {
            char *p = strstr(line, "PTY is ");
            if (p && sscanf(p + 7, "%63s", n ? b : a) == 1)
                n++;
        }
        if (f)
            fclose(f);
        if (n < 2)
            usleep(10000);
    }
    return n == 2 ? 0 : -1;
}

/* Read the RTU device on tty b from a child whose descriptors below 1100
 * are all taken: the wait status (0 when every check passed). */
static int rtu_high_fds(const char *tty)
{
    pid_t pid;
    int st;

    fflush(stdout);
    if ((pid = fork()) == 0) {
        struct dev *d = dev_new("{\"fd_slots\":2}");
        int low, high;
        signal(SIGALRM, SIG_DFL);
        alarm(30);
        tap_cur_fail = 0;
        if (!d || fill_fds() != 0)
            _exit(2);
        CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"%s\",\"baud\":9600,\"parity\":\"N\","
                         "\"unit\":1,\"register\":40003,\"type\":\"int16\"}", tty), 0);
        CHECK_EQ(dev_read(d, 0, 1, 3000), 0);
        CHECK_DBL(d->it[0].v, 1234, 0);
        fd_count(tty, &low, &high);
        CHECK_EQ(high, 1);      /* the port really is above 1024 ... */
        CHECK_EQ(low, 0);       /* ... and no slot still holds it */
        dev_free(d);
        fflush(stdout);
        _exit(tap_cur_fail);
    }
    if (pid < 0)
        return -1;
    peer_track(pid, 1);
    if ((st = reap(pid, 35000)) == -1)
        stop(pid);
    if (st != -1 && WIFSIGNALED(st))
        printf("#   RTU child killed by signal %d (%s)\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
    return st;
}

TEST(rtu)
{
    char out[512], a[64], b[64], err[SB_DRV_ERR_MAX];
    char *argv[] = { "/usr/bin/socat", "-d", "-d", "pty,raw,echo=0", "pty,raw,echo=0", NULL };
    const char *lay = "{\"units\":{\"1\":{\"fill\":[{\"table\":\"holding\",\"start\":0,\"count\":20}],"
        "\"values\":[{\"table\":\"holding\",\"addr\":0,\"type\":\"float32\",\"value\":-3.25},"
        "{\"table\":\"holding\",\"addr\":2,\"type\":\"int16\",\"value\":-5},"
        "{\"table\":\"coil\",\"addr\":0,\"value\":1}]}}}";
    struct srv rs = { .pid = -1 };
    struct dev *d = dev_new(NULL);
    pid_t socat;
    int64_t t0;

    REQUIRE(d != NULL);
    snprintf(out, sizeof out, "%s/socat.out", root);
    REQUIRE((socat = spawn(argv, out)) > 0);
    if (socat_ptys(out, a, b) != 0) {
        TAP_FAIL("socat did not report two ptys");
        goto out;
    }
    if (srv_start(&rs, lay, a, 0) != 0) {
        TAP_FAIL("pymodbus RTU server did not start on %s", a);
        goto out;
    }
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"%s\",\"baud\":9600,\"parity\":\"N\",\"unit\":1,"
                     "\"register\":40001,\"type\":\"float32\"}", b), 0);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"%s\",\"baud\":9600,\"parity\":\"N\",\"unit\":1,"
                     "\"register\":40003,\"type\":\"int16\"}", b), 1);
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"%s\",\"baud\":9600,\"parity\":\"N\",\"unit\":1,"
                     "\"register\":1,\"type\":\"coil\"}", b), 2);
    REQUIRE(d->n == 3);
    {
        char want[128];
        snprintf(want, sizeof want, "rtu:%s/1", b);
        CHECK_STR(d->key[0], want);
    }
    t0 = now_ms();
    CHECK_EQ(dev_read(d, 0, 3, 3000), 0);
    printf("#   RTU read of 3 points (2 requests): %lld ms; %s\n", (long long)(now_ms() - t0), d->err);
    CHECK_DBL(d->it[0].v, -3.25, 0);
    CHECK_DBL(d->it[1].v, -5, 0);
    CHECK_DBL(d->it[2].v, 1, 0);
    CHECK_EQ(dev_write(d, 1, 1234, err, sizeof err), 0);
    CHECK_EQ(dev_write(d, 2, 0, err, sizeof err), 0);
    CHECK_EQ(dev_read(d, 0, 3, 3000), 0);
    CHECK_DBL(d->it[1].v, 1234, 0);
    CHECK_DBL(d->it[2].v, 0, 0);
    /* An absent unit on the line: no answer, timed out. */
    CHECK_EQ(dev_add(d, SB_UNIT_NONE, "{\"serial\":\"%s\",\"baud\":9600,\"parity\":\"N\",\"unit\":9,"
                     "\"register\":40001}", b), 3);
    t0 = now_ms();
    CHECK_EQ(dev_read(d, 3, 1, 400), SB_ETIMEDOUT);
    CHECK_INT(now_ms() - t0, <, 1000);
    /* ... and the line still works for unit 1 (port reopened). */
    CHECK_EQ(dev_read(d, 0, 3, 3000), 0);
    CHECK_DBL(d->it[1].v, 1234, 0);
    /* The tty opened above descriptor 1024 (in a child, see tcp_high_fds). */
    ops->stop(d->st);
    CHECK_EQ(rtu_high_fds(b), 0);
out:
    dev_free(d);
    stop(rs.pid);
    stop(socat);
}

/* ---------------------------------------------------------- measurement */

static double bench(struct dev *d, int ms, int *reads)
{
    int64_t t0 = now_ms(), t;
    *reads = 0;
    while ((t = now_ms()) - t0 < ms) {
        if (dev_read(d, 0, d->n, 3000) != 0)
            return -1;
        (*reads)++;
    }
    return *reads * 1000.0 / (double)(t - t0);
}

/* 100 float32 points of one pymodbus device (a server without the request
 * log, which would dominate the time). */
TEST(bench_tcp)
{
    struct dev *d = dev_new(NULL), *e = dev_new(NULL);
    struct srv b = { .pid = -1, .nolog = 1 };
    char lay[256];
    int reads;
    double rate;

    REQUIRE(d && e);
    snprintf(lay, sizeof lay, "{\"units\":{\"1\":{\"fill\":[{\"table\":\"holding\",\"start\":0,"
             "\"count\":1200}]}}}");
    REQUIRE(srv_start(&b, lay, NULL, 0) == 0);
    for (int i = 0; i < 100; i++) {
        dev_add(d, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":%d,\"type\":\"float32\"}",
                b.port, 200 + 2 * i);
        dev_add(e, SB_UNIT_NONE, TCP "\"table\":\"holding\",\"register\":%d,\"type\":\"float32\"}",
                b.port, 11 * i);    /* 9-register gaps: one request each */
    }
    REQUIRE(d->n == 100 && e->n == 100);
    rate = bench(d, 2000, &reads);
    CHECK(rate > 0);
    printf("# bench: 100 float32 points, coalesced (2 requests/read): %.1f reads/s = %.0f points/s\n",
           rate, rate * 100);
    rate = bench(e, 2000, &reads);
    CHECK(rate > 0);
    printf("# bench: 100 float32 points, not coalescable (100 requests/read): %.1f reads/s = "
           "%.0f points/s\n", rate, rate * 100);
    dev_free(d);
    dev_free(e);
    stop(b.pid);
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    alarm(WATCHDOG_S);
    signal(SIGPIPE, SIG_IGN);
    root = mkdtemp(tmpl);
    if (!root) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }
    TAP_START();
    RUN(addr_modicon);
    RUN(addr_errors);
    RUN(addr_keys);
    RUN(example_site);
    RUN(codec_vectors);
    RUN(codec_roundtrip);
    RUN(codec_scale);
    RUN(plan_coalesce);
    RUN(profiles_shipped);
    RUN(profile_errors);
    RUN(driver_conf);
    if (srv_start(&S, main_layout(), NULL, 0) != 0)
        S.pid = -1;
    RUN(tcp_types);
    RUN(tcp_coalesce);
    RUN(tcp_profile_gateway);
    RUN(tcp_gateway_threads);
    RUN(tcp_exceptions);
    RUN(tcp_dead);
    RUN(tcp_busy_gateway);
    RUN(tcp_reconnect);
    RUN(tcp_writes);
    RUN(tcp_write_refusals);
    RUN(tcp_high_fds);
    RUN(rtu);
    RUN(bench_tcp);
    stop(S.pid);
    for (size_t i = 0; i < sizeof peers / sizeof peers[0]; i++)
        stop(peers[i]);     /* any a failed test left behind */
    printf("# framework callbacks used: %d (a polled driver pushes nothing)\n", pushed);
    {
        char *argv[] = { "/bin/rm", "-rf", root, NULL };
        char out[256];
        run(argv, out, sizeof out, 10000);
    }
    TAP_END();
}

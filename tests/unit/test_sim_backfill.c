/* test_sim_backfill.c - sbems-sim's backfill with injected faults and
 * ground-truth labels (src/sim/sim.h sb_sim_backfill_faults /
 * sb_sim_backfill, src/sim/fault.h sb_simfault_set_period) on the default
 * Boston building, two days of July at 300 s:
 *   - which device serves each point of the site document (sb_sim_bind's
 *     b.device), on two sites, for every face, with the address as JSON
 *     text and an MQTT filter, and that the fault manager knows each name;
 *   - a stuck-closed cooling valve on AHU-2 and a 25 % reheat leak on
 *     VAV-1-02: every row up to a fault's start is identical to a backfill
 *     without it, the rows after show it (no coil load; reheat power);
 *   - device_offline on a BACnet VAV and a REST thermostat, meter_dropout on
 *     a Modbus meter: their cells are empty in exactly their rows, every
 *     other cell is filled as in the fault-free run;
 *   - the labels: relative starts from the first row, an absolute start off
 *     the 5-minute grid rounded up to the next row (and its end), wall times
 *     equal to simulated times, a fault at the last row labelled;
 *   - bad requests refused with the request's index and the reason.
 * Runs from the repository root (it changes there: the weather and profile
 * paths are relative to it). */
#include "tap.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/fault.h"
#include "sim/sim.h"

#define MINUTE 60000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define STEP (5 * MINUTE)
#define FROM 1688961600000LL        /* Mon 2023-07-10 00:00 EDT (04:00Z) */
#define TO (FROM + 2 * DAY)
#define FIRST (FROM + STEP)         /* the first row */
#define ROWS 576                    /* 2 days of 5 minutes */

#define HOU_EPW "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw"

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------ */

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static char *tfmt(int64_t ms, char *buf)
{
    return sb_time_format(ms, buf, 40);
}

static int write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    if (!fp)
        return -1;
    fputs(text, fp);
    return fclose(fp);
}

/* A CSV in memory: the header's columns and each row's cells. */
struct table {
    char *buf;
    int ncol, nrow;
    char **col;                 /* ncol names; col[0] = "time" */
    char ***cell;               /* nrow x ncol */
    int64_t *t;                 /* row times */
};

static void table_free(struct table *tb)
{
    for (int r = 0; tb->cell && r < tb->nrow; r++)
        free(tb->cell[r]);
    free(tb->cell);
    free(tb->col);
    free(tb->t);
    free(tb->buf);
    memset(tb, 0, sizeof *tb);
}

/* Splits line (NUL-terminated, no newline) at commas, keeping at most cap
 * fields; returns how many there were. */
static int split(char *line, char **f, int cap)
{
    int n = 0;

    for (char *c = line;; n++) {
        char *e = strchr(c, ',');
        if (n < cap)
            f[n] = c;
        if (!e)
            return n + 1;
        *e = 0;
        c = e + 1;
    }
}

/* Reads the whole CSV of fp into tb; 0, or -1 with the reason printed. */
static int table_read(FILE *fp, struct table *tb)
{
    long len;
    char *line, *next;

    memset(tb, 0, sizeof *tb);
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) <= 0 || fseek(fp, 0, SEEK_SET) != 0 ||
        !(tb->buf = malloc((size_t)len + 1)) || fread(tb->buf, 1, (size_t)len, fp) != (size_t)len)
        return -1;
    tb->buf[len] = 0;
    for (char *c = tb->buf; *c; c++)
        tb->nrow += *c == '\n';
    tb->nrow -= 1;                              /* the header */
    tb->ncol = 1;
    for (char *c = tb->buf; *c && *c != '\n'; c++)
        tb->ncol += *c == ',';
    tb->col = calloc((size_t)tb->ncol, sizeof(char *));
    tb->cell = calloc((size_t)tb->nrow + 1, sizeof(char **));
    tb->t = calloc((size_t)tb->nrow + 1, sizeof(int64_t));
    if (!tb->col || !tb->cell || !tb->t || tb->nrow < 0)
        return -1;
    line = tb->buf;
    for (int r = -1; r < tb->nrow; r++, line = next) {
        char **f = r < 0 ? tb->col : (tb->cell[r] = calloc((size_t)tb->ncol, sizeof(char *)));
        next = strchr(line, '\n');
        if (!f || !next)
            return -1;
        *next++ = 0;
        if (split(line, f, tb->ncol) != tb->ncol) {
            printf("# row %d: not %d cells\n", r, tb->ncol);
            return -1;
        }
        if (r >= 0)
            tb->t[r] = strtoll(f[0], NULL, 10);
    }
    return 0;
}

static int col_of(const struct table *tb, const char *name)
{
    for (int i = 0; i < tb->ncol; i++)
        if (strcmp(tb->col[i], name) == 0)
            return i;
    return -1;
}

/* A backfill of the default site over [FROM, TO] with the fault requests
 * in faults (JSON text; NULL: none) and labels appended to labels (NULL:
 * none), read into tb.  Returns the rows, or the SB_E* of the failing step
 * with its message in err. */
static int64_t backfill(const char *faults, const char *labels, struct table *tb, char *err, size_t errlen)
{
    struct sb_sim s;
    uv_loop_t loop;
    char path[300];
    FILE *out = tmpfile();
    int64_t rc;

    err[0] = 0;
    memset(tb, 0, sizeof *tb);
    if (!out)
        return SB_EIO;
    rc = sb_sim_load(&s, NULL, 0, NULL, labels, FROM, err, errlen);
    if (rc == 0 && uv_loop_init(&loop) != 0) {
        sb_sim_free(&s);
        fclose(out);
        return SB_EIO;
    }
    if (rc == 0)
        rc = sb_sim_faces(&s, &loop, 0, err, errlen);
    tmp_path(path, sizeof path, "faults.json");
    if (rc == 0 && faults && (rc = write_file(path, faults)) == 0)
        rc = sb_sim_backfill_faults(&s, path, FROM, TO, 300, err, errlen);
    if (rc == 0) {
        json_t *doc = sb_sim_sitedoc(&s, 1);
        rc = sb_sim_backfill(&s, doc, FROM, TO, 300, out, err, errlen);
        json_decref(doc);
        if (rc >= 0 && table_read(out, tb) != 0)
            rc = SB_EIO;
    }
    sb_sim_close(&s);
    if (s.sites[0].plant) {
        uv_run(&loop, UV_RUN_NOWAIT);
        uv_loop_close(&loop);
    }
    sb_sim_free(&s);
    fclose(out);
    return rc;
}

static json_t *read_labels(const char *path)
{
    json_t *a = json_array();
    FILE *fp = fopen(path, "r");
    char line[4096];

    while (fp && fgets(line, sizeof line, fp)) {
        json_t *r = json_loads(line, 0, NULL);
        json_array_append_new(a, r ? r : json_null());
    }
    if (fp)
        fclose(fp);
    return a;
}

static const char *lstr(const json_t *rec, const char *k)
{
    return json_string_value(json_object_get(rec, k));
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t n = 0;

    for (; *in && n + 1 < cap; in++)
        out[n++] = (char)tolower((unsigned char)*in);
    out[n] = 0;
}

/* ---- which device serves a point ------------------------------------------ */

static int bind_text(const struct sb_sim *s, const char *point, struct sb_sim_bound *b)
{
    json_t *p = json_loads(point, 0, NULL);
    int rc = p ? sb_sim_bind(s, p, b) : -999;

    json_decref(p);
    return rc;
}

/* Two sites: every point of the site document binds to a device whose name
 * the faces list, whose lower-case name is the point's equipment and which
 * the fault manager accepts; the address as JSON text and an MQTT filter
 * name the same device; a thermostat point's value is refused while its
 * device is offline (the REST face itself would keep answering). */
TEST(point_to_device_mapping)
{
    static const char cfg[] = "{\"sites\": [{}, {\"building\": \"hou\", \"weather\": \"" HOU_EPW "\","
                              " \"plant\": {\"floors\": 2, \"floor_area_m2\": 3000}}]}";
    struct sb_sim s;
    uv_loop_t loop;
    char err[256] = "", eq[80], req[200];
    struct sb_sim_bound b;
    json_t *doc, *list, *names = json_object(), *p;
    size_t i;
    static const char *const drivers[] = { "bacnet", "modbus", "mqtt", "rest", "weather" };
    int per_drv[5] = { 0 }, nb = 0;

    REQUIRE(sb_sim_load(&s, cfg, strlen(cfg), NULL, NULL, FROM, err, sizeof err) == 0);
    REQUIRE(uv_loop_init(&loop) == 0);
    REQUIRE(sb_sim_faces(&s, &loop, 0, err, sizeof err) == 0);
    list = sb_sim_list(&s);
    json_array_foreach(list, i, p)
        json_object_set_new(names, lstr(p, "name"), json_true());
    doc = sb_sim_sitedoc(&s, 1);
    REQUIRE(json_array_size(json_object_get(doc, "points")) > 500);
    json_array_foreach(json_object_get(doc, "points"), i, p) {
        memset(&b, 0x55, sizeof b);
        if (sb_sim_bind(&s, p, &b) != 0) {
            TAP_FAIL("%s does not bind", lstr(p, "id"));
            continue;
        }
        lower(b.device, eq, sizeof eq);
        if (!json_object_get(names, b.device) || strcmp(eq, lstr(p, "equipment")) != 0)
            TAP_FAIL("%s (equipment %s): device \"%s\"", lstr(p, "id"), lstr(p, "equipment"), b.device);
        for (int d = 0; d < 5; d++)
            per_drv[d] += strcmp(lstr(json_object_get(p, "source"), "driver"), drivers[d]) == 0;
        nb++;
    }
    /* every face took part */
    for (int d = 0; d < 5; d++)
        if (per_drv[d] == 0)
            TAP_FAIL("no %s point", drivers[d]);
    CHECK_EQ(nb, (long long)json_array_size(json_object_get(doc, "points")));
    /* the second site's devices carry its prefix */
    REQUIRE(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"bacnet\",\"address\":{\"device\":11001,"
                          "\"object\":\"analog-input:1\"}}}", &b) == 0);
    CHECK_STR(b.device, "HOU-AHU-1");
    CHECK_EQ(b.site, 1);
    /* the address as sbems's model keeps it: JSON text */
    REQUIRE(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"modbus\",\"address\":\"{\\\"host\\\":"
                          "\\\"127.0.1.61\\\",\\\"port\\\":5020,\\\"unit\\\":1,\\\"profile\\\":\\\"eastron-sdm630\\\","
                          "\\\"name\\\":\\\"total_active_power\\\"}\"}}", &b) == 0);
    CHECK_STR(b.device, "HOU-MTR-LIGHTING");
    /* a filter that matches one sensor's uplink */
    REQUIRE(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"mqtt\",\"address\":{\"topic\":"
                          "\"hpo/iaq/iaq-2-04/+\",\"field\":\"co2\"}}}", &b) == 0);
    CHECK_STR(b.device, "IAQ-2-04");
    REQUIRE(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"weather\",\"address\":{\"variable\":"
                          "\"temperature_2m\",\"what\":\"current\"}}}", &b) == 0);
    CHECK_STR(b.device, "WEATHER");
    /* no face serves it */
    CHECK_EQ(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"bacnet\",\"address\":{\"device\":9999,"
                           "\"object\":\"analog-input:1\"}}}", &b), SB_ENOENT);
    /* the manager knows every device the mapping names */
    json_array_foreach(list, i, p) {
        snprintf(req, sizeof req, "{\"class\":\"device_offline\",\"equipment\":\"%s\",\"start\":\"+1h\"}",
                 lstr(p, "name"));
        json_t *r = json_loads(req, 0, NULL);
        if (sb_simfault_inject(s.faults, r, FROM, FROM, err, sizeof err) <= 0)
            TAP_FAIL("%s: %s", lstr(p, "name"), err);
        json_decref(r);
    }
    /* a thermostat's reading: answered, then refused while it is offline */
    double v = NAN;
    REQUIRE(bind_text(&s, "{\"id\":\"x\",\"source\":{\"driver\":\"rest\",\"address\":{\"api\":\"hpo-tstat\","
                          "\"device\":\"rt-1-01\",\"name\":\"temperature\"}}}", &b) == 0);
    CHECK_STR(b.device, "RT-1-01");
    CHECK_EQ(sb_sim_value(&s, &b, &v), 0);
    CHECK(v > 10 && v < 40);
    sb_simfault_tick(s.faults, FROM + HOUR, FROM + HOUR);
    CHECK_EQ(sb_sim_value(&s, &b, &v), SB_EAGAIN);
    json_decref(doc);
    json_decref(list);
    json_decref(names);
    sb_sim_close(&s);
    uv_run(&loop, UV_RUN_NOWAIT);
    sb_sim_free(&s);
    CHECK_EQ(uv_loop_close(&loop), 0);
}

/* ---- two days with faults --------------------------------------------------- */

/* Relative starts count from the first row (00:05 EDT Monday): the cooling
 * valve sticks shut from 08:05 to 18:05 EDT; the thermostat is offline
 * Tuesday 06:05-07:35; the VAV (absolute, on the grid) 10:00-12:00; the
 * leak starts 09:02 (off the grid: 09:05) for 6 h (ends 15:02: 15:05); the
 * meter drops out 16:05-19:05; a fault at the very last row starts there. */
static const char FAULTS[] =
    "[{\"class\":\"ccv_stuck\",\"equipment\":\"AHU-2\",\"value\":0,\"start\":\"+8h\",\"duration\":\"10h\"},"
    " {\"class\":\"device_offline\",\"equipment\":\"RT-1-01\",\"start\":\"+30h\",\"duration\":5400},"
    " {\"class\":\"device_offline\",\"equipment\":\"VAV-2-03\",\"start\":\"2023-07-11T14:00:00Z\","
    "  \"duration\":\"2h\"},"
    " {\"class\":\"reheat_leak\",\"equipment\":\"VAV-1-02\",\"value\":25,\"start\":\"2023-07-11T13:02:00Z\","
    "  \"duration\":\"6h\"},"
    " {\"class\":\"meter_dropout\",\"equipment\":\"MTR-HVAC\",\"start\":\"+40h\",\"duration\":\"3h\"},"
    " {\"class\":\"fan_failure\",\"equipment\":\"AHU-3\",\"start\":\"+47h55m\"}]";

#define CCV_S (FIRST + 8 * HOUR)
#define CCV_E (CCV_S + 10 * HOUR)
#define RT_S (FIRST + 30 * HOUR)
#define RT_E (RT_S + 90 * MINUTE)
#define VAV_S (FROM + DAY + 10 * HOUR)
#define VAV_E (VAV_S + 2 * HOUR)
#define LEAK_S (FROM + DAY + 9 * HOUR + 5 * MINUTE)
#define LEAK_E (LEAK_S + 6 * HOUR)
#define MTR_S (FIRST + 40 * HOUR)
#define MTR_E (MTR_S + 3 * HOUR)

/* The labels: ids in request order, events in time order, row times, wall
 * times equal to simulated ones. */
static void check_labels(const char *path)
{
    static const struct {
        int id;
        const char *ev, *cls, *eq;
        int64_t s, e;
    } want[] = {
        { 1, "start", "ccv_stuck", "AHU-2", CCV_S, 0 },
        { 1, "end", "ccv_stuck", "AHU-2", CCV_S, CCV_E },
        { 2, "start", "device_offline", "RT-1-01", RT_S, 0 },
        { 2, "end", "device_offline", "RT-1-01", RT_S, RT_E },
        { 4, "start", "reheat_leak", "VAV-1-02", LEAK_S, 0 },
        { 3, "start", "device_offline", "VAV-2-03", VAV_S, 0 },
        { 3, "end", "device_offline", "VAV-2-03", VAV_S, VAV_E },
        { 4, "end", "reheat_leak", "VAV-1-02", LEAK_S, LEAK_E },
        { 5, "start", "meter_dropout", "MTR-HVAC", MTR_S, 0 },
        { 5, "end", "meter_dropout", "MTR-HVAC", MTR_S, MTR_E },
        { 6, "start", "fan_failure", "AHU-3", TO, 0 },
    };
    json_t *l = read_labels(path);
    char a[40];

    CHECK_EQ(json_array_size(l), sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0] && i < json_array_size(l); i++) {
        const json_t *r = json_array_get(l, i);
        CHECK_EQ(json_integer_value(json_object_get(r, "id")), want[i].id);
        CHECK_STR(lstr(r, "event"), want[i].ev);
        CHECK_STR(lstr(r, "class"), want[i].cls);
        CHECK_STR(lstr(r, "equipment"), want[i].eq);
        CHECK_STR(lstr(r, "site"), "hpo");
        CHECK_STR(lstr(r, "start"), tfmt(want[i].s, a));
        CHECK_STR(lstr(r, "start_wall"), tfmt(want[i].s, a));
        if (want[i].e) {
            CHECK_STR(lstr(r, "end"), tfmt(want[i].e, a));
            CHECK_STR(lstr(r, "end_wall"), tfmt(want[i].e, a));
        } else {
            CHECK(json_is_null(json_object_get(r, "end")) && json_is_null(json_object_get(r, "end_wall")));
        }
    }
    CHECK_DBL(json_number_value(json_object_get(json_array_get(l, 4), "value")), 25, 0);
    CHECK_STR(lstr(json_array_get(l, 4), "target"), "floor1.zone2");
    json_decref(l);
}

/* Rows up to `upto` equal, cell for cell; returns how many rows. */
static int same_rows_until(const struct table *a, const struct table *b, int64_t upto)
{
    int n = 0;

    for (int r = 0; r < a->nrow && r < b->nrow && a->t[r] <= upto; r++, n++)
        for (int c = 0; c < a->ncol; c++)
            if (strcmp(a->cell[r][c], b->cell[r][c]) != 0) {
                TAP_FAIL("t=%lld %s: \"%s\" vs \"%s\" before the fault", (long long)a->t[r], a->col[c],
                         a->cell[r][c], b->cell[r][c]);
                return -1;
            }
    return n;
}

/* The offline devices' cells are empty in their rows start < t <= end and
 * nowhere else; every other cell is filled exactly where the fault-free
 * run's is. */
static void check_gaps(const struct table *f, const struct table *base)
{
    static const struct { const char *eq; int64_t s, e; } off[] = {
        { "rt-1-01.", RT_S, RT_E }, { "vav-2-03.", VAV_S, VAV_E }, { "mtr-hvac.", MTR_S, MTR_E },
    };
    int gaps[3] = { 0 }, cols[3] = { 0 }, bad = 0;

    for (int c = 1; c < f->ncol; c++) {
        int k = -1;
        for (int i = 0; i < 3; i++)
            if (strncmp(f->col[c], off[i].eq, strlen(off[i].eq)) == 0)
                k = i;
        if (k >= 0)
            cols[k]++;
        for (int r = 0; r < f->nrow; r++) {
            int in = k >= 0 && f->t[r] > off[k].s && f->t[r] <= off[k].e;
            int empty = f->cell[r][c][0] == 0, want = in || base->cell[r][c][0] == 0;
            gaps[k < 0 ? 0 : k] += k >= 0 && empty;
            if (empty != want && bad++ < 5)
                TAP_FAIL("t=%lld %s: \"%s\" (offline %d)", (long long)f->t[r], f->col[c], f->cell[r][c], in);
        }
    }
    CHECK_EQ(bad, 0);
    /* 18 rows of 1.5 h, 24 of 2 h, 36 of 3 h, in each of the device's columns */
    CHECK(cols[0] >= 8 && cols[1] >= 10 && cols[2] >= 2);
    CHECK_EQ(gaps[0], 18 * cols[0]);
    CHECK_EQ(gaps[1], 24 * cols[1]);
    CHECK_EQ(gaps[2], 36 * cols[2]);
}

/* The stuck-shut valve: no coil load and a warmer supply from the first row
 * after the start to its end, where the fault-free AHU cools. */
static void check_ccv(const struct table *f, const struct table *base)
{
    int load = col_of(f, "ahu-2.cooling-coil-load"), sat = col_of(f, "ahu-2.discharge-air-temp"), n = 0, warm = 0;

    REQUIRE(load > 0 && sat > 0);
    for (int r = 0; r < f->nrow; r++) {
        if (!(f->t[r] > CCV_S && f->t[r] <= CCV_E))
            continue;
        double lf = strtod(f->cell[r][load], NULL), lb = strtod(base->cell[r][load], NULL);
        if (lf != 0 || !(lb > 20))
            TAP_FAIL("t=%lld: coil load %g kW, fault-free %g kW", (long long)f->t[r], lf, lb);
        warm += strtod(f->cell[r][sat], NULL) > strtod(base->cell[r][sat], NULL) + 2;
        n++;
    }
    CHECK_EQ(n, 120);
    CHECK(warm > 100);
}

/* The leak: reheat power where the fault-free box has none, from the first
 * row after its start to its end; none after. */
static void check_leak(const struct table *f, const struct table *noleak)
{
    int kw = col_of(f, "vav-1-02.vav-reheat-kw"), dat = col_of(f, "vav-1-02.discharge-air-temp"), n = 0;

    REQUIRE(kw > 0 && dat > 0);
    for (int r = 0; r < f->nrow; r++) {
        int in = f->t[r] > LEAK_S && f->t[r] <= LEAK_E;
        double a = strtod(f->cell[r][kw], NULL), b = strtod(noleak->cell[r][kw], NULL);
        if (in && !(a > 10 && b == 0 && strtod(f->cell[r][dat], NULL) > strtod(noleak->cell[r][dat], NULL) + 10))
            TAP_FAIL("t=%lld: reheat %g kW (without the leak %g)", (long long)f->t[r], a, b);
        if (f->t[r] > LEAK_E && a != b)
            TAP_FAIL("t=%lld: reheat %g kW after the leak (without it %g)", (long long)f->t[r], a, b);
        n += in;
    }
    CHECK_EQ(n, 72);
}

TEST(two_days_with_faults)
{
    struct table f, base, noleak;
    char labels[300], err[512], nl[sizeof FAULTS];
    const char *leak = strstr(FAULTS, " {\"class\":\"reheat_leak\""), *after = strstr(FAULTS, " {\"class\":\"meter");

    REQUIRE(leak && after);
    tmp_path(labels, sizeof labels, "labels.jsonl");
    unlink(labels);
    CHECK_EQ(backfill(FAULTS, labels, &f, err, sizeof err), ROWS);
    if (err[0])
        printf("# %s\n", err);
    CHECK_EQ(backfill(NULL, NULL, &base, err, sizeof err), ROWS);
    /* the same faults but the leak */
    snprintf(nl, sizeof nl, "%.*s%s", (int)(leak - FAULTS), FAULTS, after);
    CHECK_EQ(backfill(nl, NULL, &noleak, err, sizeof err), ROWS);
    REQUIRE(f.nrow == ROWS && base.nrow == ROWS && noleak.nrow == ROWS);
    REQUIRE(f.ncol == base.ncol && f.ncol == noleak.ncol && f.ncol > 400);
    CHECK_EQ(f.t[0], FIRST);
    CHECK_EQ(f.t[ROWS - 1], TO);
    /* identical up to each fault's start, cell for cell */
    CHECK_EQ(same_rows_until(&f, &base, CCV_S), 8 * 12 + 1);
    CHECK_EQ(same_rows_until(&f, &noleak, LEAK_S), 33 * 12 + 1);
    check_ccv(&f, &base);
    check_leak(&f, &noleak);
    check_gaps(&f, &base);
    check_labels(labels);
    table_free(&f);
    table_free(&base);
    table_free(&noleak);
}

/* Requests a backfill refuses, with the request's index (0-based) and why;
 * and the edges it takes. */
TEST(bad_requests)
{
    static const struct {
        const char *faults;
        int rc;
        const char *msg;        /* after "<path>: " */
    } cases[] = {
        { "[{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"+1h\"},"
          " {\"class\":\"melted_coil\",\"equipment\":\"AHU-1\",\"start\":\"+2h\"}]",
          SB_EINVAL, "fault 1: class: unknown fault melted_coil" },
        { "[{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"2023-07-10T04:00:00Z\"}]", SB_ERANGE,
          "fault 0: start: 2023-07-10T04:00:00.000Z is before the backfill's first row 2023-07-10T04:05:00.000Z" },
        { "[{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\"},"
          " {\"class\":\"device_offline\",\"equipment\":\"AHU-2\",\"start\":\"2023-07-01T00:00:00Z\"}]", SB_ERANGE,
          "fault 1: start: 2023-07-01T00:00:00.000Z is before the backfill's first row 2023-07-10T04:05:00.000Z" },
        { "[{\"class\":\"ccv_stuck\",\"equipment\":\"AHU-1\",\"value\":100,\"start\":\"+47h56m\"}]", SB_ERANGE,
          "fault 0: start: 2023-07-12T04:01:00.000Z is after the backfill's last row 2023-07-12T04:00:00.000Z" },
        { "[{\"class\":\"ccv_stuck\",\"equipment\":\"AHU-1\",\"value\":100,\"start\":\"+3d\"}]", SB_ERANGE,
          "fault 0: start: 2023-07-13T04:05:00.000Z is after the backfill's last row 2023-07-12T04:00:00.000Z" },
        { "[{\"class\":\"ccv_stuck\",\"equipment\":\"AHU-9\",\"value\":100}]", SB_ENOENT,
          "fault 0: equipment: AHU-9 has no such part" },
        { "[{\"class\":\"meter_dropout\",\"equipment\":\"AHU-1\"}]", SB_ENOENT,
          "fault 0: equipment: no meter named AHU-1" },
    };
    char path[300], want[512], err[512], labels[300];
    struct table tb;

    tmp_path(path, sizeof path, "faults.json");
    tmp_path(labels, sizeof labels, "bad.jsonl");
    unlink(labels);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t rc = backfill(cases[i].faults, labels, &tb, err, sizeof err);
        snprintf(want, sizeof want, "%s: %s", path, cases[i].msg);
        if (rc != cases[i].rc || strcmp(err, want) != 0)
            TAP_FAIL("case %zu: %lld \"%s\", want %d \"%s\"", i, (long long)rc, err, cases[i].rc, want);
        CHECK_EQ(tb.nrow, 0);
        table_free(&tb);
    }
    /* nothing was labelled: a refused file starts nothing */
    json_t *l = read_labels(labels);
    CHECK_EQ(json_array_size(l), 0);
    json_decref(l);
    /* the edges: "now" and no start are the first row, the last row is in */
    CHECK_EQ(backfill("[{\"class\":\"device_offline\",\"equipment\":\"AHU-1\",\"start\":\"now\",\"duration\":600},"
                      " {\"class\":\"device_offline\",\"equipment\":\"AHU-2\",\"duration\":\"5m\"},"
                      " {\"class\":\"device_offline\",\"equipment\":\"AHU-3\",\"start\":\"2023-07-12T04:00:00Z\"}]",
                      labels, &tb, err, sizeof err), ROWS);
    int a1 = col_of(&tb, "ahu-1.supply-air-flow"), a2 = col_of(&tb, "ahu-2.supply-air-flow");
    int a3 = col_of(&tb, "ahu-3.supply-air-flow");
    REQUIRE(a1 > 0 && a2 > 0 && a3 > 0 && tb.nrow == ROWS);
    /* AHU-1 misses rows 2 and 3 (t in (first, first + 10 min]), AHU-2 row 2 */
    for (int r = 0; r < 5; r++) {
        CHECK_EQ(tb.cell[r][a1][0] == 0, r == 1 || r == 2);
        CHECK_EQ(tb.cell[r][a2][0] == 0, r == 1);
    }
    for (int r = 0; r < ROWS; r++)
        if (tb.cell[r][a3][0] == 0)
            TAP_FAIL("row %d: AHU-3 empty", r);
    l = read_labels(labels);
    CHECK_EQ(json_array_size(l), 5);
    char a[40];
    CHECK_STR(lstr(json_array_get(l, 0), "start"), tfmt(FIRST, a));
    CHECK_STR(lstr(json_array_get(l, 1), "start"), tfmt(FIRST, a));
    CHECK_STR(lstr(json_array_get(l, 4), "start"), tfmt(TO, a));
    CHECK_STR(lstr(json_array_get(l, 4), "equipment"), "AHU-3");
    json_decref(l);
    table_free(&tb);
}

/* The period's own checks. */
TEST(period_setter)
{
    struct sb_simfault *f = NULL;
    char err[256] = "";

    REQUIRE(sb_simfault_new(NULL, &f, err, sizeof err) == 0);
    CHECK_EQ(sb_simfault_set_period(f, FIRST, FROM), SB_EINVAL);
    CHECK_EQ(sb_simfault_set_period(f, FIRST, FIRST), 0);
    sb_simfault_free(f);
    int64_t first = 0, last = 0;
    CHECK_EQ(sb_sim_backfill_rows(FROM, TO, 300, &first, &last), ROWS);
    CHECK_EQ(first, FIRST);
    CHECK_EQ(last, TO);
    /* a period that is not a whole number of steps ends on the last whole one */
    CHECK_EQ(sb_sim_backfill_rows(FROM, FROM + 17 * MINUTE, 300, &first, &last), 3);
    CHECK_EQ(last, FROM + 15 * MINUTE);
    CHECK_EQ(sb_sim_backfill_rows(FROM, FROM + 4 * MINUTE, 300, &first, &last), 0);
}

/* ---- main ------------------------------------------------------------- */

int main(void)
{
    const char *f = __FILE__, *q = strstr(f, "tests/unit/"), *env = getenv("SBEMS_SRCDIR");
    char root[512], p[300];

    TAP_START();
    if (env)
        snprintf(root, sizeof root, "%s", env);
    else if (q && q > f)
        snprintf(root, sizeof root, "%.*s", (int)(q - f), f);
    else
        snprintf(root, sizeof root, ".");
    if (chdir(root) != 0) {
        printf("Bail out! chdir %s: %s\n", root, strerror(errno));
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/sbems-simbackfill-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    RUN(point_to_device_mapping);
    RUN(two_days_with_faults);
    RUN(bad_requests);
    RUN(period_setter);
    static const char *const names[] = { "faults.json", "labels.jsonl", "bad.jsonl", NULL };
    for (int i = 0; names[i]; i++) {
        tmp_path(p, sizeof p, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    TAP_END();
}

/* test_sim_fault.c - sbems-sim's fault manager (src/sim/fault.h) against
 * real plants (Boston and Houston TMY3 weather): every request error with
 * its message, scheduling on simulated time, clear, overlapping faults on
 * one target, communication faults, a second site's names, loading a file
 * of requests, the ground-truth label file; then the simulator's
 * configuration (sb_sim_load / sb_sim_parse, src/sim/sim.h) and a backfill
 * in which an offline device leaves exactly its fault's rows empty and a
 * failed fan shows as zero fan power.  Runs from the repository root (it
 * changes there: the configuration's weather and profile paths are
 * relative to it). */
#include "tap.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <uv.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "sim/fault.h"
#include "sim/plant/plant.h"
#include "sim/sim.h"

#define JUL10 1688965200000LL   /* Mon 2023-07-10 00:00 EST (05:00Z) */
#define MINUTE 60000LL
#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define T0 (JUL10 + 8 * HOUR)   /* 08:00 EST, occupied: the AHU fans run */
#define WALL(t) ((t) - 1000 * DAY)  /* a wall clock distinct from simulated time */

#define BOS_EPW "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"
#define HOU_EPW "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw"

static struct sb_epw *wx_bos, *wx_hou;
static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------ */

static struct sb_plant *mk_plant(const struct sb_epw *w, const char *json, int64_t t)
{
    struct sb_plant_config c;
    struct sb_plant *p = NULL;
    char err[256] = "";

    sb_plant_config_default(&c);
    if (json && sb_plant_config_from_json(json, strlen(json), &c, err, sizeof err) != 0) {
        printf("# plant config: %s\n", err);
        return NULL;
    }
    if (sb_plant_new(&c, w, t, &p, err, sizeof err) != 0)
        printf("# plant: %s\n", err);
    return p;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* A manager on the Boston plant (site 0, "hpo") and, when p1 is given, the
 * Houston plant (site 1, "hou"), with the devices the faces would list. */
static struct sb_simfault *mk_mgr(const char *labels, struct sb_plant *p0, struct sb_plant *p1)
{
    static const char *const devs0[] = { "AHU-1", "AHU-2", "AHU-3", "VAV-1-01", "CH-1", "BLR-1", NULL };
    struct sb_simfault *f = NULL;
    char err[256] = "";

    if (sb_simfault_new(labels, &f, err, sizeof err) != 0) {
        printf("# manager: %s\n", err);
        return NULL;
    }
    sb_simfault_add_site(f, p0, "hpo", 0);
    for (int i = 0; devs0[i]; i++)
        sb_simfault_add_device(f, devs0[i], 0);
    sb_simfault_add_device(f, "MTR-MAIN", 1);
    if (p1) {
        sb_simfault_add_site(f, p1, "hou", 1);
        sb_simfault_add_device(f, "HOU-AHU-1", 0);
        sb_simfault_add_device(f, "HOU-MTR-MAIN", 1);
    }
    return f;
}

/* Injects the request in text at simulated time now (wall WALL(now)). */
static int inj(struct sb_simfault *f, const char *text, int64_t now, char *err, size_t errlen)
{
    json_error_t je;
    json_t *r = json_loads(text, 0, &je);
    int rc;

    err[0] = 0;
    if (!r) {
        snprintf(err, errlen, "test bug: %s", je.text);
        return -999;
    }
    rc = sb_simfault_inject(f, r, now, WALL(now), err, errlen);
    json_decref(r);
    return rc;
}

/* Every line of the label file, parsed (a bad line is a JSON null). */
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

static char *tfmt(int64_t ms, char *buf)
{
    return sb_time_format(ms, buf, 40);
}

static int active(const struct sb_plant *p, enum sb_plant_fault c, const char *eq, double *v)
{
    return sb_plant_fault_active(p, c, eq, v);
}

/* The state of fault id in sb_simfault_list(), or "" when absent. */
static const char *state_of(const struct sb_simfault *f, int id, char *buf, size_t cap)
{
    json_t *l = sb_simfault_list(f), *x;
    size_t i;

    snprintf(buf, cap, "%s", "");
    json_array_foreach(l, i, x)
        if (json_integer_value(json_object_get(x, "id")) == id)
            snprintf(buf, cap, "%s", lstr(x, "state"));
    json_decref(l);
    return buf;
}

/* ---- requests ----------------------------------------------------------- */

TEST(request_errors_with_messages)
{
    static const struct {
        const char *req;
        int rc;
        const char *msg;
    } cases[] = {
        { "[1]", SB_EINVAL, "a fault is a JSON object" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"colour\":1}", SB_EINVAL,
          "colour: unknown member (class, equipment, value, start, duration)" },
        { "{\"equipment\":\"AHU-1\"}", SB_EINVAL, "class and equipment are required strings" },
        { "{\"class\":\"fan_failure\",\"equipment\":7}", SB_EINVAL, "class and equipment are required strings" },
        { "{\"class\":\"oa_damper_stuck\",\"equipment\":\"AHU-1\",\"value\":\"40\"}", SB_EINVAL, "value: a number" },
        { "{\"class\":\"melted_coil\",\"equipment\":\"AHU-1\"}", SB_EINVAL, "class: unknown fault melted_coil" },
        /* unknown equipment: a name no face uses, a floor the building lacks,
         * equipment of the wrong kind for the class, a non-canonical name */
        { "{\"class\":\"fan_failure\",\"equipment\":\"RTU-1\"}", SB_ENOENT,
          "equipment: no AHU, VAV or chiller named RTU-1" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-9\"}", SB_ENOENT, "equipment: AHU-9 has no such part" },
        { "{\"class\":\"reheat_stuck\",\"equipment\":\"VAV-1-09\",\"value\":5}", SB_ENOENT,
          "equipment: VAV-1-09 has no such part" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"VAV-1-01\"}", SB_ENOENT,
          "equipment: VAV-1-01 has no such part" },
        { "{\"class\":\"chiller_cop_degradation\",\"equipment\":\"AHU-1\",\"value\":0.2}", SB_ENOENT,
          "equipment: AHU-1 has no such part" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-01\"}", SB_ENOENT,
          "equipment: no AHU, VAV or chiller named AHU-01" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"HOU-AHU-1\"}", SB_ENOENT,
          "equipment: no AHU, VAV or chiller named HOU-AHU-1" },
        { "{\"class\":\"device_offline\",\"equipment\":\"AHU-7\"}", SB_ENOENT, "equipment: no device named AHU-7" },
        { "{\"class\":\"meter_dropout\",\"equipment\":\"AHU-1\"}", SB_ENOENT, "equipment: no meter named AHU-1" },
        /* values out of the class's range (plant.h) */
        { "{\"class\":\"oa_damper_stuck\",\"equipment\":\"AHU-1\",\"value\":150}", SB_ERANGE,
          "value: out of range for oa_damper_stuck" },
        { "{\"class\":\"sat_sensor_bias\",\"equipment\":\"AHU-2\",\"value\":-25}", SB_ERANGE,
          "value: out of range for sat_sensor_bias" },
        { "{\"class\":\"chiller_cop_degradation\",\"equipment\":\"CH-1\",\"value\":0.95}", SB_ERANGE,
          "value: out of range for chiller_cop_degradation" },
        { "{\"class\":\"zone_sensor_drift\",\"equipment\":\"VAV-1-01\",\"value\":11}", SB_ERANGE,
          "value: out of range for zone_sensor_drift" },
        /* start */
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"tomorrow\"}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"+10 minutes\"}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"2023-07-10T25:00:00Z\"}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":true}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":-1}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":9223372036854775807}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"+106751991167d\"}", SB_EINVAL,
          "start: \"now\", \"+10m\" or an RFC 3339 time" },
        /* duration */
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":0}", SB_ERANGE,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":-60}", SB_ERANGE,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":40000000}", SB_ERANGE,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":\"400d\"}", SB_ERANGE,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":\"2 hours\"}", SB_EINVAL,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":\"0s\"}", SB_EINVAL,
          "duration: seconds or \"2h\" (up to a year)" },
        { "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"duration\":[1]}", SB_EINVAL,
          "duration: seconds or \"2h\" (up to a year)" },
    };
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char labels[300], err[256];
    struct sb_simfault *f;
    json_t *l;

    REQUIRE(p);
    tmp_path(labels, sizeof labels, "errors.jsonl");
    f = mk_mgr(labels, p, NULL);
    REQUIRE(f);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = inj(f, cases[i].req, T0, err, sizeof err);
        if (rc != cases[i].rc || strcmp(err, cases[i].msg) != 0)
            TAP_FAIL("%s: %d \"%s\", want %d \"%s\"", cases[i].req, rc, err, cases[i].rc, cases[i].msg);
    }
    /* nothing was scheduled, nothing reached the plant, nothing was labelled */
    l = sb_simfault_list(f);
    CHECK_EQ(json_array_size(l), 0);
    json_decref(l);
    CHECK_EQ(active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", NULL), 0);
    CHECK_EQ(active(p, SB_PF_CHILLER_COP_DEGRADATION, "chiller", NULL), 0);
    CHECK_EQ(active(p, SB_PF_SAT_SENSOR_BIAS, "floor2.ahu", NULL), 0);
    l = read_labels(labels);
    CHECK_EQ(json_array_size(l), 0);
    json_decref(l);
    /* the first valid request gets id 1: failed ones used no id */
    CHECK_EQ(inj(f, "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\",\"start\":\"+1h\"}", T0, err, sizeof err), 1);
    /* a scheduled fault is not in the plant yet: the dry run put nothing there */
    CHECK_EQ(active(p, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 0);
    sb_simfault_free(f);
    sb_plant_free(p);
}

TEST(label_file_cannot_open)
{
    struct sb_simfault *f = (struct sb_simfault *)&f;
    char err[256] = "";

    CHECK_EQ(sb_simfault_new("/nonexistent-dir/x/labels.jsonl", &f, err, sizeof err), SB_EIO);
    CHECK(f == NULL);
    CHECK_STR(err, "/nonexistent-dir/x/labels.jsonl: cannot open for append");
    /* no label file at all is allowed */
    CHECK_EQ(sb_simfault_new(NULL, &f, err, sizeof err), 0);
    CHECK(f != NULL);
    sb_simfault_free(f);
    sb_simfault_free(NULL);
}

/* A fault "+1h" for "2h" acts in the plant from T0+1h up to T0+3h of
 * simulated time and nowhere else; the plant's OA fraction shows the stuck
 * position while the fan runs; the label file gets a "start" line at the
 * start and an "end" line at the end with both times. */
TEST(scheduled_fault_starts_and_ends_on_sim_time)
{
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char labels[300], err[256], st[16], a[40], b[40];
    struct sb_simfault *f;
    int id, n_in = 0, n_oa = 0, oa_idx, flow_idx;

    REQUIRE(p);
    tmp_path(labels, sizeof labels, "sched.jsonl");
    REQUIRE((f = mk_mgr(labels, p, NULL)));
    id = inj(f, "{\"class\":\"oa_damper_stuck\",\"equipment\":\"AHU-1\",\"value\":40,\"start\":\"+1h\","
                "\"duration\":\"2h\"}", T0, err, sizeof err);
    REQUIRE(id == 1);
    CHECK_STR(state_of(f, id, st, sizeof st), "scheduled");
    oa_idx = sb_plant_find(p, "floor1.ahu.oa_fraction");
    flow_idx = sb_plant_find(p, "floor1.ahu.flow");
    REQUIRE(oa_idx >= 0 && flow_idx >= 0);
    for (int64_t t = T0; t <= T0 + 4 * HOUR; t += 5 * MINUTE) {
        double v = -1, oa, flow;
        int want = t >= T0 + HOUR && t < T0 + 3 * HOUR;
        sb_simfault_tick(f, t, WALL(t));
        int on = active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", &v);
        if (on != want)
            TAP_FAIL("at T0%+lld min: active %d, want %d", (long long)((t - T0) / MINUTE), on, want);
        if (on == 1)
            CHECK_DBL(v, 40, 0);
        /* the other AHUs never have it */
        CHECK_EQ(active(p, SB_PF_OA_DAMPER_STUCK, "floor2.ahu", NULL), 0);
        n_in += on == 1;
        /* the physics: the step after the tick mixes air at the stuck position */
        REQUIRE(sb_plant_step(p, 300, t + 5 * MINUTE) == 0);
        REQUIRE(sb_plant_read(p, oa_idx, &oa) == 0 && sb_plant_read(p, flow_idx, &flow) == 0);
        if (flow > 0 && want) {
            CHECK_DBL(oa, 40, 1e-9);
            n_oa++;
        } else if (flow > 0) {
            CHECK(fabs(oa - 40) > 1e-6);
        }
        if (t == T0 + 2 * HOUR)
            CHECK_STR(state_of(f, id, st, sizeof st), "active");
    }
    CHECK_EQ(n_in, 24);         /* 2 h of 5-minute ticks */
    CHECK_EQ(n_oa, 24);         /* and the fan ran through all of them */
    CHECK_STR(state_of(f, id, st, sizeof st), "ended");

    json_t *l = read_labels(labels), *s0 = json_array_get(l, 0), *s1 = json_array_get(l, 1);
    REQUIRE(json_array_size(l) == 2);
    CHECK_STR(lstr(s0, "event"), "start");
    CHECK_STR(lstr(s1, "event"), "end");
    for (int k = 0; k < 2; k++) {
        const json_t *r = json_array_get(l, (size_t)k);
        CHECK_EQ(json_integer_value(json_object_get(r, "id")), id);
        CHECK_STR(lstr(r, "class"), "oa_damper_stuck");
        CHECK_STR(lstr(r, "equipment"), "AHU-1");
        CHECK_STR(lstr(r, "site"), "hpo");
        CHECK_STR(lstr(r, "target"), "floor1.ahu");
        CHECK_DBL(json_number_value(json_object_get(r, "value")), 40, 0);
        CHECK_STR(lstr(r, "start"), tfmt(T0 + HOUR, a));
        CHECK_STR(lstr(r, "start_wall"), tfmt(WALL(T0 + HOUR), a));
    }
    CHECK(json_is_null(json_object_get(s0, "end")) && json_is_null(json_object_get(s0, "end_wall")));
    CHECK_STR(lstr(s1, "end"), tfmt(T0 + 3 * HOUR, b));
    CHECK_STR(lstr(s1, "end_wall"), tfmt(WALL(T0 + 3 * HOUR), b));
    json_decref(l);
    sb_simfault_free(f);
    sb_plant_free(p);
}

/* clear: an active fault ends at once (labelled), a scheduled one is
 * dropped without ever starting (no label), a cleared id is gone. */
TEST(clear_ends_early)
{
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char labels[300], err[256], st[16], a[40];
    struct sb_simfault *f;
    int a_id, s_id;
    double v = 0;

    REQUIRE(p);
    tmp_path(labels, sizeof labels, "clear.jsonl");
    REQUIRE((f = mk_mgr(labels, p, NULL)));
    /* "now", until cleared */
    a_id = inj(f, "{\"class\":\"sat_sensor_bias\",\"equipment\":\"AHU-2\",\"value\":-3.5}", T0, err, sizeof err);
    s_id = inj(f, "{\"class\":\"ccv_stuck\",\"equipment\":\"AHU-3\",\"value\":10,\"start\":\"+2h\","
                  "\"duration\":3600}", T0, err, sizeof err);
    REQUIRE(a_id == 1 && s_id == 2);
    CHECK_EQ(active(p, SB_PF_SAT_SENSOR_BIAS, "floor2.ahu", &v), 1);
    CHECK_DBL(v, -3.5, 0);
    /* no end: still on after a year of ticks */
    sb_simfault_tick(f, T0 + 30 * MINUTE, WALL(T0 + 30 * MINUTE));
    CHECK_EQ(active(p, SB_PF_SAT_SENSOR_BIAS, "floor2.ahu", NULL), 1);
    CHECK_EQ(sb_simfault_clear(f, a_id, T0 + 45 * MINUTE, WALL(T0 + 45 * MINUTE)), 0);
    CHECK_EQ(active(p, SB_PF_SAT_SENSOR_BIAS, "floor2.ahu", NULL), 0);
    CHECK_STR(state_of(f, a_id, st, sizeof st), "ended");
    CHECK_EQ(sb_simfault_clear(f, a_id, T0 + 50 * MINUTE, WALL(T0 + 50 * MINUTE)), SB_ENOENT);
    CHECK_EQ(sb_simfault_clear(f, 99, T0 + 50 * MINUTE, WALL(T0 + 50 * MINUTE)), SB_ENOENT);
    /* the scheduled one, dropped before its start, never acts */
    CHECK_EQ(sb_simfault_clear(f, s_id, T0 + HOUR, WALL(T0 + HOUR)), 0);
    for (int64_t t = T0 + HOUR; t <= T0 + 4 * HOUR; t += 10 * MINUTE) {
        sb_simfault_tick(f, t, WALL(t));
        CHECK_EQ(active(p, SB_PF_CCV_STUCK, "floor3.ahu", NULL), 0);
    }
    json_t *l = read_labels(labels);
    REQUIRE(json_array_size(l) == 2);
    const json_t *e = json_array_get(l, 1);
    CHECK_STR(lstr(json_array_get(l, 0), "event"), "start");
    CHECK_STR(lstr(e, "event"), "end");
    CHECK_EQ(json_integer_value(json_object_get(e, "id")), a_id);
    CHECK_STR(lstr(e, "start"), tfmt(T0, a));
    CHECK_STR(lstr(e, "end"), tfmt(T0 + 45 * MINUTE, a));
    CHECK_DBL(json_number_value(json_object_get(e, "value")), -3.5, 0);
    json_decref(l);
    sb_simfault_free(f);
    sb_plant_free(p);
}

/* Two faults of one class on one target: the later one's value acts while
 * both are on, the earlier one's comes back when the later ends, and the
 * plant is clean only when both have ended; also when both end together. */
TEST(overlapping_faults_on_one_target)
{
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char labels[300], err[256], a[40];
    struct sb_simfault *f;
    double v = -1;

    REQUIRE(p);
    tmp_path(labels, sizeof labels, "overlap.jsonl");
    REQUIRE((f = mk_mgr(labels, p, NULL)));
    REQUIRE(inj(f, "{\"class\":\"vav_damper_stuck\",\"equipment\":\"VAV-1-01\",\"value\":30,\"duration\":\"4h\"}",
                T0, err, sizeof err) == 1);
    REQUIRE(inj(f, "{\"class\":\"vav_damper_stuck\",\"equipment\":\"VAV-1-01\",\"value\":80,\"start\":\"+1h\","
                   "\"duration\":\"1h\"}", T0, err, sizeof err) == 2);
    /* the dry run of the second request kept the first one's value */
    CHECK_EQ(active(p, SB_PF_VAV_DAMPER_STUCK, "floor1.zone1", &v), 1);
    CHECK_DBL(v, 30, 0);
    for (int64_t t = T0; t <= T0 + 5 * HOUR; t += 15 * MINUTE) {
        double want = t < T0 + HOUR ? 30 : t < T0 + 2 * HOUR ? 80 : t < T0 + 4 * HOUR ? 30 : -1;
        sb_simfault_tick(f, t, WALL(t));
        v = -1;
        int on = active(p, SB_PF_VAV_DAMPER_STUCK, "floor1.zone1", &v);
        if (on != (want >= 0) || (on && v != want))
            TAP_FAIL("at T0%+lld min: on %d value %g, want %g", (long long)((t - T0) / MINUTE), on, v, want);
    }
    json_t *l = read_labels(labels);
    static const struct { int id; const char *ev; int64_t at; } want[] = {
        { 1, "start", T0 }, { 2, "start", T0 + HOUR }, { 2, "end", T0 + 2 * HOUR }, { 1, "end", T0 + 4 * HOUR },
    };
    REQUIRE(json_array_size(l) == 4);
    for (size_t i = 0; i < 4; i++) {
        const json_t *r = json_array_get(l, i);
        CHECK_EQ(json_integer_value(json_object_get(r, "id")), want[i].id);
        CHECK_STR(lstr(r, "event"), want[i].ev);
        CHECK_STR(lstr(r, strcmp(want[i].ev, "end") == 0 ? "end" : "start"), tfmt(want[i].at, a));
    }
    json_decref(l);

    /* both ending in the same tick leave the plant clean, whichever order */
    int64_t t1 = T0 + 6 * HOUR;
    REQUIRE(inj(f, "{\"class\":\"reheat_leak\",\"equipment\":\"VAV-1-01\",\"value\":20,\"duration\":\"1h\"}",
                t1, err, sizeof err) == 3);
    REQUIRE(inj(f, "{\"class\":\"reheat_leak\",\"equipment\":\"VAV-1-01\",\"value\":50,\"start\":\"+30m\","
                   "\"duration\":\"30m\"}", t1, err, sizeof err) == 4);
    sb_simfault_tick(f, t1 + 30 * MINUTE, WALL(t1));
    CHECK_EQ(active(p, SB_PF_REHEAT_LEAK, "floor1.zone1", &v), 1);
    CHECK_DBL(v, 50, 0);
    sb_simfault_tick(f, t1 + HOUR, WALL(t1));
    CHECK_EQ(active(p, SB_PF_REHEAT_LEAK, "floor1.zone1", NULL), 0);
    sb_simfault_free(f);
    sb_plant_free(p);
}

/* device_offline and meter_dropout act on the faces (sb_simfault_offline),
 * never on the plant. */
TEST(communication_faults)
{
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char labels[300], err[256];
    struct sb_simfault *f;

    REQUIRE(p);
    tmp_path(labels, sizeof labels, "comm.jsonl");
    REQUIRE((f = mk_mgr(labels, p, NULL)));
    REQUIRE(inj(f, "{\"class\":\"device_offline\",\"equipment\":\"AHU-2\",\"start\":\"+10m\",\"duration\":\"1h\"}",
                T0, err, sizeof err) == 1);
    REQUIRE(inj(f, "{\"class\":\"meter_dropout\",\"equipment\":\"MTR-MAIN\",\"duration\":600}", T0, err,
                sizeof err) == 2);
    CHECK_EQ(sb_simfault_offline(f, "AHU-2"), 0);     /* not yet */
    CHECK_EQ(sb_simfault_offline(f, "MTR-MAIN"), 1);
    for (int64_t t = T0; t <= T0 + 2 * HOUR; t += 5 * MINUTE) {
        sb_simfault_tick(f, t, WALL(t));
        CHECK_EQ(sb_simfault_offline(f, "AHU-2"), t >= T0 + 10 * MINUTE && t < T0 + 70 * MINUTE);
        CHECK_EQ(sb_simfault_offline(f, "MTR-MAIN"), t < T0 + 10 * MINUTE);
        CHECK_EQ(sb_simfault_offline(f, "AHU-1"), 0);
        CHECK_EQ(sb_simfault_offline(f, "AHU-22"), 0);
        CHECK_EQ(sb_simfault_offline(f, "floor2.ahu"), 0);
        for (int c = 0; c < SB_PF_COUNT; c++)
            if (active(p, (enum sb_plant_fault)c, "floor2.ahu", NULL) == 1)
                TAP_FAIL("plant fault %d on floor2.ahu", c);
    }
    CHECK_EQ(sb_simfault_offline(NULL, "AHU-2"), 0);
    /* a device offline can also be a meter, and a value is kept in the label */
    REQUIRE(inj(f, "{\"class\":\"device_offline\",\"equipment\":\"MTR-MAIN\",\"value\":1}", T0 + 3 * HOUR, err,
                sizeof err) == 3);
    CHECK_EQ(sb_simfault_offline(f, "MTR-MAIN"), 1);
    json_t *l = read_labels(labels), *last = json_array_get(l, json_array_size(l) - 1);
    CHECK_EQ(json_array_size(l), 5);
    CHECK_STR(lstr(last, "class"), "device_offline");
    CHECK_STR(lstr(last, "target"), "MTR-MAIN");
    CHECK_STR(lstr(last, "site"), "hpo");
    CHECK_DBL(json_number_value(json_object_get(last, "value")), 1, 0);
    /* the first ones carry no value */
    CHECK(json_object_get(json_array_get(l, 0), "value") == NULL);
    json_decref(l);
    sb_simfault_free(f);
    sb_plant_free(p);
}

/* A second site's devices carry its building id ("HOU-AHU-1"); a fault on
 * one reaches its own plant only; its label names the site. */
TEST(second_site)
{
    struct sb_plant *p0 = mk_plant(wx_bos, NULL, T0);
    struct sb_plant *p1 = mk_plant(wx_hou, "{\"floors\": 2, \"floor_area_m2\": 3000}", T0);
    char labels[300], err[256];
    struct sb_simfault *f;

    REQUIRE(p0 && p1);
    tmp_path(labels, sizeof labels, "sites.jsonl");
    REQUIRE((f = mk_mgr(labels, p0, p1)));
    REQUIRE(inj(f, "{\"class\":\"fan_failure\",\"equipment\":\"HOU-AHU-1\"}", T0, err, sizeof err) == 1);
    CHECK_EQ(active(p1, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 1);
    CHECK_EQ(active(p0, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 0);
    REQUIRE(inj(f, "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\"}", T0, err, sizeof err) == 2);
    CHECK_EQ(active(p0, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 1);
    /* Houston has two floors: its VAV-2-05 exists, its AHU-3 does not */
    CHECK_EQ(inj(f, "{\"class\":\"reheat_stuck\",\"equipment\":\"HOU-VAV-2-05\",\"value\":60}", T0, err, sizeof err),
             3);
    CHECK_EQ(active(p1, SB_PF_REHEAT_STUCK, "floor2.zone5", NULL), 1);
    CHECK_EQ(active(p0, SB_PF_REHEAT_STUCK, "floor2.zone5", NULL), 0);
    CHECK_EQ(inj(f, "{\"class\":\"fan_failure\",\"equipment\":\"HOU-AHU-3\"}", T0, err, sizeof err), SB_ENOENT);
    CHECK_STR(err, "equipment: HOU-AHU-3 has no such part");
    CHECK_EQ(inj(f, "{\"class\":\"chiller_cop_degradation\",\"equipment\":\"HOU-CH-1\",\"value\":0.3}", T0, err,
                 sizeof err), 4);
    CHECK_EQ(active(p1, SB_PF_CHILLER_COP_DEGRADATION, "chiller", NULL), 1);
    CHECK_EQ(active(p0, SB_PF_CHILLER_COP_DEGRADATION, "chiller", NULL), 0);
    CHECK_EQ(inj(f, "{\"class\":\"meter_dropout\",\"equipment\":\"HOU-MTR-MAIN\"}", T0, err, sizeof err), 5);
    CHECK_EQ(sb_simfault_offline(f, "HOU-MTR-MAIN"), 1);
    CHECK_EQ(sb_simfault_offline(f, "MTR-MAIN"), 0);
    CHECK_EQ(sb_simfault_clear(f, 1, T0 + HOUR, WALL(T0 + HOUR)), 0);
    CHECK_EQ(active(p1, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 0);
    CHECK_EQ(active(p0, SB_PF_FAN_FAILURE, "floor1.ahu", NULL), 1);

    json_t *l = read_labels(labels);
    static const char *const site[] = { "hou", "hpo", "hou", "hou", "hou", "hou" };
    static const char *const target[] = { "floor1.ahu", "floor1.ahu", "floor2.zone5", "chiller", "HOU-MTR-MAIN",
                                          "floor1.ahu" };
    REQUIRE(json_array_size(l) == 6);
    for (size_t i = 0; i < 6; i++) {
        CHECK_STR(lstr(json_array_get(l, i), "site"), site[i]);
        CHECK_STR(lstr(json_array_get(l, i), "target"), target[i]);
    }
    CHECK_STR(lstr(json_array_get(l, 5), "equipment"), "HOU-AHU-1");
    CHECK_STR(lstr(json_array_get(l, 5), "event"), "end");
    json_decref(l);
    sb_simfault_free(f);
    sb_plant_free(p0);
    sb_plant_free(p1);
}

static int write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");

    if (!fp)
        return -1;
    fputs(text, fp);
    return fclose(fp);
}

TEST(load_file_of_requests)
{
    struct sb_plant *p = mk_plant(wx_bos, NULL, T0);
    char path[300], err[512], st[16];
    struct sb_simfault *f;
    json_t *l;

    REQUIRE(p);
    REQUIRE((f = mk_mgr(NULL, p, NULL)));
    tmp_path(path, sizeof path, "faults.json");
    REQUIRE(write_file(path, "[{\"class\":\"oa_damper_stuck\",\"equipment\":\"AHU-1\",\"value\":100,"
                             "\"start\":\"2023-07-10T14:00:00Z\",\"duration\":\"6h\"},\n"
                             " {\"class\":\"device_offline\",\"equipment\":\"VAV-1-01\"}]\n") == 0);
    CHECK_EQ(sb_simfault_load(f, path, T0, WALL(T0), err, sizeof err), 0);
    l = sb_simfault_list(f);
    CHECK_EQ(json_array_size(l), 2);
    CHECK_STR(lstr(json_array_get(l, 0), "start"), "2023-07-10T14:00:00.000Z");
    CHECK_STR(lstr(json_array_get(l, 0), "end"), "2023-07-10T20:00:00.000Z");
    json_decref(l);
    CHECK_STR(state_of(f, 1, st, sizeof st), "scheduled");     /* T0 is 13:00Z */
    CHECK_STR(state_of(f, 2, st, sizeof st), "active");
    CHECK_EQ(sb_simfault_offline(f, "VAV-1-01"), 1);
    sb_simfault_tick(f, JUL10 + 9 * HOUR, WALL(0));           /* 14:00Z */
    CHECK_EQ(active(p, SB_PF_OA_DAMPER_STUCK, "floor1.ahu", NULL), 1);

    /* bad files: not JSON, not an array, a bad element, absent */
    tmp_path(path, sizeof path, "bad1.json");
    REQUIRE(write_file(path, "[{\"class\": ") == 0);
    CHECK_EQ(sb_simfault_load(f, path, T0, WALL(T0), err, sizeof err), SB_EINVAL);
    CHECK(strncmp(err, path, strlen(path)) == 0 && strlen(err) > strlen(path) + 2);
    tmp_path(path, sizeof path, "bad2.json");
    REQUIRE(write_file(path, "{\"class\":\"fan_failure\",\"equipment\":\"AHU-1\"}") == 0);
    CHECK_EQ(sb_simfault_load(f, path, T0, WALL(T0), err, sizeof err), SB_EINVAL);
    CHECK(strstr(err, ": a JSON array of faults is expected") != NULL);
    tmp_path(path, sizeof path, "bad3.json");
    REQUIRE(write_file(path, "[{\"class\":\"fan_failure\",\"equipment\":\"AHU-2\"},"
                             " {\"class\":\"fan_failure\",\"equipment\":\"AHU-2\",\"duration\":\"soon\"}]") == 0);
    CHECK_EQ(sb_simfault_load(f, path, T0, WALL(T0), err, sizeof err), SB_EINVAL);
    char want[400];
    snprintf(want, sizeof want, "%s: fault 1: duration: seconds or \"2h\" (up to a year)", path);
    CHECK_STR(err, want);
    tmp_path(path, sizeof path, "absent.json");
    CHECK_EQ(sb_simfault_load(f, path, T0, WALL(T0), err, sizeof err), SB_EINVAL);
    CHECK(strncmp(err, path, strlen(path)) == 0);
    sb_simfault_free(f);
    sb_plant_free(p);
}

/* ---- the simulator's configuration (sim.h) -------------------------------- */

static int load(struct sb_sim *s, const char *text, char *err, size_t errlen)
{
    err[0] = 0;
    return sb_sim_load(s, text, text ? strlen(text) : 0, NULL, NULL, T0, err, errlen);
}

TEST(config_defaults)
{
    struct sb_sim s;
    char err[256];

    REQUIRE(load(&s, NULL, err, sizeof err) == 0);
    CHECK_EQ(s.nsites, 1);
    CHECK_DBL(s.speed, 1, 0);
    CHECK_STR(s.mqtt_host, "127.0.0.1");
    CHECK_EQ(s.mqtt_port, 1883);
    CHECK_STR(s.profile_dir, "profiles");
    CHECK_STR(s.labels, "");
    CHECK_STR(s.sites[0].building, "hpo");
    CHECK_STR(s.sites[0].site, "harbor-point");
    CHECK_STR(s.sites[0].timezone, "America/New_York");
    CHECK_STR(s.sites[0].bac_ip, "127.0.0.20");
    CHECK_STR(s.sites[0].mb_ip, "127.0.0.60");
    CHECK_STR(s.sites[0].http_ip, "127.0.0.10");
    CHECK_EQ(s.sites[0].bac_port, 47808);
    CHECK_EQ(s.sites[0].mb_port, 5020);
    CHECK_EQ(s.sites[0].http_port, 8080);
    CHECK_STR(s.sites[0].weather, BOS_EPW);
    CHECK(s.sites[0].plant != NULL && s.faults != NULL);
    CHECK_DBL(s.sites[0].epw->lat, 42.37, 0.01);
    CHECK_EQ(sb_plant_time_ms(s.sites[0].plant), T0);
    CHECK_EQ(s.sim_ms, T0);
    sb_sim_free(&s);
    /* only top-level members: still the default site */
    REQUIRE(load(&s, "{\"speed\": 60, \"labels\": \"\"}", err, sizeof err) == SB_ECONFIG);
    CHECK_STR(err, "labels: a non-empty string under 256 bytes");
    sb_sim_free(&s);
    REQUIRE(load(&s, "{\"speed\": 60, \"mqtt\": {\"port\": 18830}}", err, sizeof err) == 0);
    CHECK_EQ(s.nsites, 1);
    CHECK_DBL(s.speed, 60, 0);
    CHECK_EQ(s.mqtt_port, 18830);
    CHECK_STR(s.sites[0].building, "hpo");
    sb_sim_free(&s);
}

TEST(config_two_sites)
{
    static const char cfg[] =
        "{\"speed\": 60, \"sites\": [{\"building\": \"hpo\", \"site\": \"harbor-point\"},"
        " {\"building\": \"hou\", \"site\": \"bayou\", \"name\": \"Bayou Center\", \"timezone\": \"America/Chicago\","
        "  \"weather\": \"" HOU_EPW "\", \"plant\": {\"floors\": 2, \"floor_area_m2\": 3000},"
        "  \"http\": {\"port\": 18080, \"client_secret\": \"s3\"}}]}";
    struct sb_sim s;
    char err[256];

    REQUIRE(load(&s, cfg, err, sizeof err) == 0);
    CHECK_EQ(s.nsites, 2);
    CHECK_STR(s.sites[0].bac_ip, "127.0.0.20");
    CHECK_STR(s.sites[0].mb_ip, "127.0.0.60");
    CHECK_STR(s.sites[0].http_ip, "127.0.0.10");
    CHECK_STR(s.sites[1].bac_ip, "127.0.1.20");
    CHECK_STR(s.sites[1].mb_ip, "127.0.1.60");
    CHECK_STR(s.sites[1].http_ip, "127.0.1.10");
    CHECK_EQ(s.sites[1].http_port, 18080);
    CHECK_STR(s.sites[1].client_secret, "s3");
    CHECK_STR(s.sites[1].name, "Bayou Center");
    CHECK_STR(s.sites[1].timezone, "America/Chicago");
    CHECK_EQ(s.sites[1].pc.floors, 2);
    CHECK_EQ(s.sites[0].pc.floors, 3);
    /* each site runs on its own weather file */
    CHECK_STR(s.sites[0].weather, BOS_EPW);
    CHECK_STR(s.sites[1].weather, HOU_EPW);
    CHECK_DBL(s.sites[0].epw->lat, 42.37, 0.01);
    CHECK_DBL(s.sites[1].epw->lat, 30.0, 0.05);
    CHECK(s.sites[0].plant && s.sites[1].plant && s.sites[0].plant != s.sites[1].plant);
    /* the manager knows both sites' equipment */
    char e[256];
    CHECK_EQ(inj(s.faults, "{\"class\":\"fan_failure\",\"equipment\":\"HOU-AHU-2\"}", T0, e, sizeof e), 1);
    CHECK_EQ(active(s.sites[1].plant, SB_PF_FAN_FAILURE, "floor2.ahu", NULL), 1);
    CHECK_EQ(active(s.sites[0].plant, SB_PF_FAN_FAILURE, "floor2.ahu", NULL), 0);
    sb_sim_free(&s);
    /* --weather wins over every site's */
    err[0] = 0;
    REQUIRE(sb_sim_load(&s, cfg, strlen(cfg), BOS_EPW, NULL, T0, err, sizeof err) == 0);
    CHECK_DBL(s.sites[1].epw->lat, 42.37, 0.01);
    sb_sim_free(&s);
}

TEST(config_errors)
{
    static const struct {
        const char *cfg, *msg;
        int rc;
    } cases[] = {
        { "{\"sites\": [{\"bacnet\": {\"ip_base\": \"10.0.0.20\"}}]}",
          "sites[0]: ip_base: 10.0.0.20 is not a 127.x.y.z address (the simulator stays on loopback)", SB_ECONFIG },
        { "{\"sites\": [{}, {\"http\": {\"ip\": \"0.0.0.0\"}}]}",
          "sites[1]: ip: 0.0.0.0 is not a 127.x.y.z address (the simulator stays on loopback)", SB_ECONFIG },
        { "{\"mqtt\": {\"host\": \"192.168.1.5\"}}",
          "host: 192.168.1.5 is not a 127.x.y.z address (the simulator stays on loopback)", SB_ECONFIG },
        { "{\"sites\": [{\"modbus\": {\"ip_base\": \"localhost\"}}]}",
          "sites[0]: ip_base: localhost is not a 127.x.y.z address (the simulator stays on loopback)", SB_ECONFIG },
        { "{\"sites\": [{\"building\": \"hpo\"}, {\"building\": \"hpo\"}]}", "sites[1].building: hpo is used twice",
          SB_ECONFIG },
        { "{\"sites\": [{}, {\"building\": \"hpo\"}]}", "sites[1].building: hpo is used twice", SB_ECONFIG },
        { "{\"speed\": 60, \"colour\": 1}", "config.colour: unknown member", SB_ECONFIG },
        { "{\"sites\": [{\"bilding\": \"x\"}]}", "sites[0].bilding: unknown member", SB_ECONFIG },
        { "{\"sites\": [{\"bacnet\": {\"ip\": \"127.0.0.20\"}}]}", "sites[0]: bacnet.ip: unknown member",
          SB_ECONFIG },
        { "{\"mqtt\": {\"hots\": \"127.0.0.1\"}}", "mqtt.hots: unknown member", SB_ECONFIG },
        { "{\"sites\": [{\"plant\": {\"flors\": 2}}]}", "sites[0]: flors: unknown key", SB_EINVAL },
        { "{\"sites\": [{\"plant\": {\"floors\": 40}}]}", "sites[0]: floors: 40 not in [1, 20]", SB_ECONFIG },
        { "{\"sites\": []}", "sites: an array of 1..8 sites", SB_ECONFIG },
        { "{\"sites\": {}}", "sites: an array of 1..8 sites", SB_ECONFIG },
        { "{\"sites\": [1]}", "sites[0]: an object", SB_ECONFIG },
        { "{\"sites\": [{\"building\": \"Hou\"}]}",
          "sites[0]: site and building ids: [a-z0-9_.-], starting with a letter or digit", SB_ECONFIG },
        { "{\"sites\": [{\"bacnet\": {\"port\": 0}}]}", "sites[0]: port: a port 1..65535", SB_ECONFIG },
        { "{\"speed\": 0}", "speed: 1..3600", SB_ECONFIG },
        { "{\"speed\": \"fast\"}", "speed: 1..3600", SB_ECONFIG },
        { "{\"mqtt\": {\"period_s\": 0.5}}", "mqtt.period_s: 1..3600", SB_ECONFIG },
        /* a plain plant object: its own rules */
        { "{\"flors\": 2}", "flors: unknown key", SB_EINVAL },
        { "[1, 2]", "the configuration is a JSON object", SB_EINVAL },
        { "{\"sites\": [", "line 1: ']' expected near end of file", SB_EINVAL },
        { "{\"speed\": 2, \"speed\": 3}", "line 1: duplicate object key near '\"speed\"'", SB_EINVAL },
    };
    struct sb_sim s;
    char err[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = load(&s, cases[i].cfg, err, sizeof err);
        if (rc != cases[i].rc || strcmp(err, cases[i].msg) != 0)
            TAP_FAIL("%s: %d \"%s\", want %d \"%s\"", cases[i].cfg, rc, err, cases[i].rc, cases[i].msg);
        CHECK(s.sites[0].plant == NULL && s.faults == NULL);
        sb_sim_free(&s);
    }
    /* a weather file that is not there fails the load, not the parse */
    const char *cfg = "{\"sites\": [{\"weather\": \"sim/weather/nowhere.epw\"}]}";
    CHECK_EQ(sb_sim_parse(&s, cfg, strlen(cfg), err, sizeof err), 0);
    CHECK_STR(s.sites[0].weather, "sim/weather/nowhere.epw");
    CHECK(s.sites[0].epw == NULL && s.faults == NULL);
    CHECK(load(&s, cfg, err, sizeof err) < 0);
    CHECK(strncmp(err, "sites[0]: weather sim/weather/nowhere.epw: ", 43) == 0);
    sb_sim_free(&s);
}

TEST(config_plain_plant_form)
{
    struct sb_sim s;
    char err[256];

    REQUIRE(load(&s, "{\"floors\": 2, \"floor_area_m2\": 3000, \"name\": \"Small\"}", err, sizeof err) == 0);
    CHECK_EQ(s.nsites, 1);
    CHECK_EQ(s.sites[0].pc.floors, 2);
    CHECK_DBL(s.sites[0].pc.floor_area_total, 3000, 0);
    CHECK_STR(s.sites[0].pc.name, "Small");
    CHECK_STR(s.sites[0].building, "hpo");
    CHECK_STR(s.sites[0].bac_ip, "127.0.0.20");
    CHECK_STR(s.sites[0].weather, BOS_EPW);
    CHECK_EQ(sb_plant_find(s.sites[0].plant, "floor2.ahu.sat") >= 0, 1);
    CHECK_EQ(sb_plant_find(s.sites[0].plant, "floor3.ahu.sat"), SB_ENOENT);
    sb_sim_free(&s);
    /* its "epw" names the weather */
    REQUIRE(load(&s, "{\"epw\": \"" HOU_EPW "\"}", err, sizeof err) == 0);
    CHECK_STR(s.sites[0].weather, HOU_EPW);
    CHECK_DBL(s.sites[0].epw->lat, 30.0, 0.05);
    sb_sim_free(&s);
}

/* ---- backfill ----------------------------------------------------------- */

/* Splits one CSV line in place into at most cap fields; returns the count. */
static int split(char *line, char **f, int cap)
{
    int n = 0;

    line[strcspn(line, "\r\n")] = 0;
    f[n++] = line;
    for (char *c = line; *c && n < cap; c++)
        if (*c == ',') {
            *c = 0;
            f[n++] = c + 1;
        }
    return n;
}

#define MAXCOLS 1024

/* A day of backfill, 5-minute steps, on a two-floor building: AHU-1
 * offline 09:00-11:00 EST, AHU-2's fan failed 13:00-14:00.  A row is the
 * state at the end of the step that produced it (the step (t - 5 min, t]),
 * and a fault acts on the steps that start in [start, end): its rows are
 * start < t <= end.  (Faults injected directly, as here, take absolute
 * times; test_sim_backfill.c loads them as the command line does.)  The offline device's cells are empty in exactly those
 * rows; the failed fan draws 0 kW in exactly those rows while the other
 * AHU's fan runs; the labels have the requested times. */
TEST(backfill_with_faults)
{
    static const char cfg[] = "{\"sites\": [{\"plant\": {\"floors\": 2, \"floor_area_m2\": 3000}}]}";
    const int64_t from = JUL10, off_s = JUL10 + 9 * HOUR, off_e = JUL10 + 11 * HOUR;
    const int64_t fan_s = JUL10 + 13 * HOUR, fan_e = JUL10 + 14 * HOUR;
    struct sb_sim s;
    uv_loop_t loop;
    char labels[300], err[256], a[40], b[40], req[300];
    static char line[65536], hdr[65536];
    static char *col[MAXCOLS], *val[MAXCOLS];
    int ncol, ahu1[64], n1 = 0, fan1 = -1, fan2 = -1, mtr = -1, rows = 0;

    tmp_path(labels, sizeof labels, "backfill.jsonl");
    REQUIRE(sb_sim_load(&s, cfg, strlen(cfg), NULL, labels, from, err, sizeof err) == 0);
    REQUIRE(uv_loop_init(&loop) == 0);
    REQUIRE(sb_sim_faces(&s, &loop, 0, err, sizeof err) == 0);
    snprintf(req, sizeof req, "{\"class\":\"device_offline\",\"equipment\":\"AHU-1\",\"start\":\"%s\",\"duration\":\"2h\"}",
             tfmt(off_s, a));
    CHECK_EQ(inj(s.faults, req, from, err, sizeof err), 1);
    snprintf(req, sizeof req, "{\"class\":\"fan_failure\",\"equipment\":\"AHU-2\",\"start\":\"%s\",\"duration\":3600}",
             tfmt(fan_s, a));
    CHECK_EQ(inj(s.faults, req, from, err, sizeof err), 2);

    json_t *doc = sb_sim_sitedoc(&s, 1);
    FILE *out = tmpfile();
    REQUIRE(doc && out);
    CHECK_EQ(sb_sim_backfill(&s, doc, from, from + DAY, 300, out, err, sizeof err), 288);
    json_decref(doc);
    rewind(out);
    REQUIRE(fgets(hdr, sizeof hdr, out));
    ncol = split(hdr, col, MAXCOLS);
    CHECK_STR(col[0], "time");
    for (int i = 1; i < ncol; i++) {
        if (strncmp(col[i], "ahu-1.", 6) == 0 && n1 < 64)
            ahu1[n1++] = i;
        if (strcmp(col[i], "ahu-1.supply-fan-power") == 0)
            fan1 = i;
        if (strcmp(col[i], "ahu-2.supply-fan-power") == 0)
            fan2 = i;
        if (strcmp(col[i], "mtr-main.power") == 0 || (mtr < 0 && strncmp(col[i], "mtr-main.", 9) == 0))
            mtr = i;
    }
    REQUIRE(n1 >= 10 && fan1 > 0 && fan2 > 0 && mtr > 0);
    int64_t prev = from;
    while (fgets(line, sizeof line, out)) {
        int n = split(line, val, MAXCOLS);
        int64_t t = strtoll(val[0], NULL, 10);
        int off = t > off_s && t <= off_e, fan_off = t > fan_s && t <= fan_e;
        if (n != ncol) {
            TAP_FAIL("row %d: %d fields, header %d", rows, n, ncol);
            break;
        }
        CHECK_EQ(t, prev + 5 * MINUTE);
        prev = t;
        rows++;
        for (int k = 0; k < n1; k++)
            if ((val[ahu1[k]][0] == 0) != off)
                TAP_FAIL("t=%s %s: \"%s\" (offline %d)", tfmt(t, a), col[ahu1[k]], val[ahu1[k]], off);
        /* every other device answers throughout */
        CHECK(val[fan2][0] != 0 && val[mtr][0] != 0);
        double f2 = strtod(val[fan2], NULL);
        if (fan_off && f2 != 0)
            TAP_FAIL("t=%s: failed fan draws %g kW", tfmt(t, a), f2);
        /* around the failure (occupied hours) the same fan runs, and the
         * other AHU's fan runs during it */
        if (!fan_off && t > fan_s - HOUR && t <= fan_e + HOUR && !(f2 > 0.1))
            TAP_FAIL("t=%s: fan 2 draws %g kW outside its failure", tfmt(t, a), f2);
        if (fan_off && !(strtod(val[fan1], NULL) > 0.1))
            TAP_FAIL("t=%s: fan 1 draws %s kW", tfmt(t, a), val[fan1]);
    }
    CHECK_EQ(rows, 288);
    fclose(out);

    json_t *l = read_labels(labels);
    static const struct { int id; const char *ev; } want[] = { { 1, "start" }, { 1, "end" }, { 2, "start" },
                                                              { 2, "end" } };
    REQUIRE(json_array_size(l) == 4);
    for (size_t i = 0; i < 4; i++) {
        const json_t *r = json_array_get(l, i);
        CHECK_EQ(json_integer_value(json_object_get(r, "id")), want[i].id);
        CHECK_STR(lstr(r, "event"), want[i].ev);
        CHECK_STR(lstr(r, "start"), tfmt(want[i].id == 1 ? off_s : fan_s, a));
        /* the rows are stamped in simulated time: so are the labels' wall times */
        CHECK_STR(lstr(r, "start_wall"), tfmt(want[i].id == 1 ? off_s : fan_s, a));
    }
    CHECK_STR(lstr(json_array_get(l, 1), "end_wall"), tfmt(off_e, b));
    CHECK_STR(lstr(json_array_get(l, 3), "end_wall"), tfmt(fan_e, b));
    CHECK_STR(lstr(json_array_get(l, 1), "end"), tfmt(off_e, b));
    CHECK_STR(lstr(json_array_get(l, 3), "end"), tfmt(fan_e, b));
    CHECK_STR(lstr(json_array_get(l, 3), "class"), "fan_failure");
    CHECK_STR(lstr(json_array_get(l, 3), "target"), "floor2.ahu");
    json_decref(l);
    sb_sim_close(&s);
    uv_run(&loop, UV_RUN_NOWAIT);
    sb_sim_free(&s);
    CHECK_EQ(uv_loop_close(&loop), 0);
}

/* ---- main ------------------------------------------------------------- */

static int rm_tmp(void)
{
    static const char *const names[] = { "errors.jsonl", "sched.jsonl", "clear.jsonl", "overlap.jsonl",
                                         "comm.jsonl", "sites.jsonl", "faults.json", "bad1.json", "bad2.json",
                                         "bad3.json", "backfill.jsonl", NULL };
    char p[300];

    for (int i = 0; names[i]; i++) {
        tmp_path(p, sizeof p, names[i]);
        unlink(p);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const char *f = __FILE__, *q = strstr(f, "tests/unit/"), *env = getenv("SBEMS_SRCDIR");
    char root[512], err[256] = "";

    TAP_START();
    /* the repository root: the configuration's relative paths start there */
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
    wx_bos = malloc(sizeof *wx_bos);
    wx_hou = malloc(sizeof *wx_hou);
    if (!wx_bos || !wx_hou || sb_epw_load(BOS_EPW, wx_bos, err, sizeof err) != 0 ||
        sb_epw_load(HOU_EPW, wx_hou, err, sizeof err) != 0) {
        printf("Bail out! weather: %s\n", err);
        return 1;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/sbems-simfault-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    RUN(request_errors_with_messages);
    RUN(label_file_cannot_open);
    RUN(scheduled_fault_starts_and_ends_on_sim_time);
    RUN(clear_ends_early);
    RUN(overlapping_faults_on_one_target);
    RUN(communication_faults);
    RUN(second_site);
    RUN(load_file_of_requests);
    RUN(config_defaults);
    RUN(config_two_sites);
    RUN(config_errors);
    RUN(config_plain_plant_form);
    RUN(backfill_with_faults);
    rm_tmp();
    free(wx_bos);
    free(wx_hou);
    TAP_END();
}

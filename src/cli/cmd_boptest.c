/*
 * cmd_boptest.c - `sbems boptest`: sbems's supervisory zone control run
 * against any plant that serves the BOPTEST REST API, scored by BOPTEST's
 * own KPIs (control/boptest.h, docs/internals/control-boptest.md).  No store,
 * no daemon: the command is a client of the BOPTEST service.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "control/boptest.h"
#include "core/err.h"
#include "drivers/rest/http.h"

static int num_arg(const char *name, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d;

    if (!v)
        return 0;
    d = strtod(v, &end);
    if (end == v || *end || !isfinite(d) || d < lo || d > hi) {
        fprintf(stderr, "sbems boptest: --%s: a number from %g to %g\n", name, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static json_t *load_map(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);

    if (!j)
        fprintf(stderr, "sbems boptest: --map %s: line %d: %s\n", path, je.line, je.text);
    return j;
}

int sb_cmd_boptest(int argc, char **argv)
{
    const char *url = NULL, *testcase = NULL, *scenario = NULL, *price = NULL, *days = NULL,
               *step = NULL, *start = NULL, *warmup = NULL, *map = NULL, *baseline = NULL, *out = NULL;
    const struct sb_cli_opt opts[] = {
        { "url", 1, &url, "BOPTEST service address, e.g. http://127.0.0.1:8000 (required)" },
        { "testcase", 1, &testcase, "test case name, e.g. bestest_air (required)" },
        { "scenario", 1, &scenario, "time period: typical_heat_day, peak_cool_day, ... (BOPTEST's)" },
        { "price", 1, &price, "electricity price scenario: constant, dynamic, highly_dynamic" },
        { "days", 1, &days, "days to run (default: the whole scenario, or 7 without one)" },
        { "step", 1, &step, "control step, seconds (default 900)" },
        { "start", 1, &start, "start time without a scenario, day of the year (default 1)" },
        { "warmup", 1, &warmup, "warm-up without a scenario, days (default 7)" },
        { "map", 1, &map, "a JSON file naming each zone's signals when they cannot be found" },
        { "baseline", 0, &baseline, "override nothing: score the test case's own controller" },
        { "out", 1, &out, "also write the KPIs as JSON to this file" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_cli c;
    struct sb_bop_opts o = { .step_s = 900, .start_time = 0, .warmup_s = 7 * 86400.0, .timeout_ms = 600000,
                             .log = stderr };
    json_t *mapdoc = NULL, *kpi = NULL;
    double d_days = -1, d_start = 1, d_warm = 7;
    char why[1024];
    int rc = sb_cli_parse(&c, argc, argv, opts,
                          "--url URL --testcase NAME [--scenario PERIOD] [--days N]\n"
                          "Run sbems's supervisory zone control (comfort bounds tracked with optimal\n"
                          "start, ramped releases) against a BOPTEST test case and print BOPTEST's\n"
                          "KPIs as JSON: ener_tot kWh/m2, cost_tot, pele_tot kW/m2, tdis_tot K.h/zone,\n"
                          "idis_tot, time_rat, plus the steps and the controller's time per step\n"
                          "(its forecast request and its decision).");
    if (rc) {
        rc = rc == 1 ? 0 : 2;
        goto done;
    }
    rc = 2;
    if (!url || !testcase) {
        fprintf(stderr, "sbems boptest: --url and --testcase are required\n");
        goto done;
    }
    if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        fprintf(stderr, "sbems boptest: --url must start with http:// or https://\n");
        goto done;
    }
    if (num_arg("days", days, 0.01, 366, &d_days) || num_arg("step", step, 1, 86400, &o.step_s) ||
        num_arg("start", start, 1, 366, &d_start) || num_arg("warmup", warmup, 0, 60, &d_warm))
        goto done;
    if (map && !(mapdoc = load_map(map)))
        goto done;
    o.url = url;
    o.testcase = testcase;
    o.scenario = scenario;
    o.price = price;
    o.days = scenario ? d_days : (d_days > 0 ? d_days : 7);
    o.start_time = (d_start - 1) * 86400.0;
    o.warmup_s = d_warm * 86400.0;
    o.map = mapdoc;
    o.baseline = baseline != NULL;
    sb_rest_http_global_init();
    rc = sb_bop_run(&o, &kpi, why, sizeof(why));
    sb_rest_http_global_cleanup();
    if (rc) {
        fprintf(stderr, "sbems boptest: %s\n", why[0] ? why : sb_strerror(rc));
        rc = 1;
        goto done;
    }
    json_object_set_new(kpi, "testcase", json_string(testcase));
    if (scenario)
        json_object_set_new(kpi, "scenario", json_string(scenario));
    char *txt = json_dumps(kpi, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (txt)
        printf("%s\n", txt);
    free(txt);
    rc = 0;
    if (out && json_dump_file(kpi, out, JSON_INDENT(2) | JSON_SORT_KEYS)) {
        fprintf(stderr, "sbems boptest: cannot write %s\n", out);
        rc = 1;
    }
done:
    json_decref(kpi);
    json_decref(mapdoc);
    sb_cli_release(&c);
    return rc;
}

/*
 * cmd_data.c - the offline sub-commands: migrate, import, export, query,
 * backup, config.  (ingest is cmd_ingest.c, serve is cmd_serve.c.)
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "model/site_json.h"

int sb_cmd_migrate(int argc, char **argv)
{
    struct sb_cli c;
    int rc = sb_cli_parse(&c, argc, argv, NULL, "[options]\nCreate or upgrade the store's schema.");
    int from = 0, to = 0;

    if (rc)
        goto out;
    rc = 1;
    if (sb_cli_open(&c, 0) == 0 && sb_store_migrate(&c.store, &from, &to) == 0) {
        printf("schema version %d (was %d) in %s\n", to, from, c.cfg.data_dir);
        rc = 0;
    }
out:
    sb_cli_release(&c);
    return rc == 1 && argc > 1 && strcmp(argv[1], "--help") == 0 ? 0 : rc;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (n + 65536 > cap) {
            char *nb = realloc(buf, cap = cap * 2 + 65536);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    if (f != stdin)
        fclose(f);
    *len = n;
    return buf;
}

static void print_errs(const char *cmd, const struct sb_model_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(stderr, "sbems %s: %s\n", cmd, e->msg[i]);
    if (e->total > e->n)
        fprintf(stderr, "sbems %s: ... and %zu more problems\n", cmd, e->total - e->n);
}

int sb_cmd_import(int argc, char **argv)
{
    const char *replace = NULL;
    const struct sb_cli_opt opts[] = {
        { "replace", 0, &replace, "replace the whole model (default: add and update)" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_cli c;
    struct sb_model_errs errs;
    json_error_t je;
    json_t *doc = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = sb_cli_parse(&c, argc, argv, opts,
                          "FILE.json [--replace]\nImport a site document (docs/site-format.md).");

    sb_model_errs_init(&errs);
    if (rc)
        goto out;
    rc = 1;
    if (c.argc != 1) {
        fprintf(stderr, "sbems import: give one FILE.json (or - for stdin)\n");
        rc = 2;
        goto out;
    }
    if (!(text = read_file(c.argv[0], &len))) {
        fprintf(stderr, "sbems import: %s: %s\n", c.argv[0], strerror(errno));
        goto out;
    }
    if (!(doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
        fprintf(stderr, "sbems import: %s:%d:%d: %s\n", c.argv[0], je.line, je.column, je.text);
        goto out;
    }
    if (sb_cli_open(&c, 0))
        goto out;
    if (replace) {
        struct sb_model fresh;
        sb_model_init(&fresh);
        int e = sb_model_from_json(doc, &fresh, &errs);
        if (e == 0)
            sb_model_swap(&c.model, &fresh);
        sb_model_release(&fresh);
        if (e)
            goto bad;
    } else if (sb_model_merge_json(&c.model, doc, &errs) != 0) {
        goto bad;
    }
    if (sb_model_validate(&c.model, &errs) != 0)
        goto bad;
    int e = sb_store_model_save(&c.store, &c.model);
    if (e) {
        fprintf(stderr, "sbems import: saving the model failed: %s\n", sb_strerror(e));
        goto out;
    }
    printf("imported %s: %zu sites, %zu buildings, %zu zones, %zu equipment, %zu points\n",
           c.argv[0], c.model.nsites, c.model.nbuildings, c.model.nzones, c.model.nequipment,
           c.model.npoints);
    rc = 0;
    goto out;
bad:
    print_errs("import", &errs);
    fprintf(stderr, "sbems import: %s rejected; nothing was changed\n", c.argv[0]);
out:
    sb_model_errs_release(&errs);
    json_decref(doc);
    free(text);
    sb_cli_release(&c);
    return rc;
}

int sb_cmd_export(int argc, char **argv)
{
    struct sb_cli c;
    char *text = NULL;
    int rc = sb_cli_parse(&c, argc, argv, NULL,
                          "[FILE.json]\nWrite the building model as a site document (default: stdout).");
    if (rc)
        goto out;
    rc = 1;
    if (sb_cli_open(&c, 1) || sb_model_to_json_text(&c.model, &text) != 0)
        goto out;
    FILE *f = c.argc > 0 && strcmp(c.argv[0], "-") != 0 ? fopen(c.argv[0], "w") : stdout;
    if (!f) {
        fprintf(stderr, "sbems export: %s: %s\n", c.argv[0], strerror(errno));
        goto out;
    }
    fputs(text, f);
    fputc('\n', f);
    rc = (f != stdout ? fclose(f) : fflush(f)) == 0 ? 0 : 1;
out:
    free(text);
    sb_cli_release(&c);
    return rc;
}

/* ---- query -------------------------------------------------------------- */

static int parse_time_arg(const char *s, int64_t now, int64_t *out)
{
    /* relative: -24h, -7d, -15m, -30s */
    if (s[0] == '-' && strlen(s) > 2 && strchr("smhd", s[strlen(s) - 1])) {
        char *end;
        long long v = strtoll(s + 1, &end, 10);
        int64_t unit = *end == 's' ? 1000 : *end == 'm' ? 60000 : *end == 'h' ? 3600000 : 86400000;
        if (end[1] != 0 || v < 0 || v > 100000 * 365LL)
            return SB_EINVAL;
        *out = now - v * unit;
        return 0;
    }
    if (strcmp(s, "now") == 0) {
        *out = now;
        return 0;
    }
    return sb_time_parse(s, strlen(s), out);
}

/* The shortest text that reads back as exactly v (12.8, not 12.800000000000001). */
static const char *num(char *buf, size_t cap, double v)
{
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* CSV output is "point,time,value,quality": it can be fed back to ingest. */
static void print_raw(const char *slug, const struct sb_samples *v, int json)
{
    char ts[40], b[40];
    for (size_t i = 0; i < v->n; i++) {
        sb_time_format(v->v[i].t, ts, sizeof(ts));
        num(b, sizeof(b), v->v[i].v);
        if (json)
            printf("{\"point\":\"%s\",\"t\":\"%s\",\"ts\":%" PRId64 ",\"v\":%s,\"q\":%u}\n",
                   slug, ts, v->v[i].t, b, v->v[i].q);
        else
            printf("%s,%s,%s,%u\n", slug, ts, b, v->v[i].q);
    }
}

static void print_aggs(const char *slug, const struct sb_aggs *v, enum sb_agg_kind kind, int json)
{
    char ts[40];
    for (size_t i = 0; i < v->n; i++) {
        const struct sb_agg *a = &v->v[i];
        double val = sb_agg_value(kind, a);
        sb_time_format(a->start, ts, sizeof(ts));
        /* JSON is for programs: exact values.  CSV is for people: aggregates
         * carry float noise from summing decimals (80.84000000010186), so 10
         * significant digits; min and max are samples, printed exactly. */
        char v1[40], v2[40], v3[40], v4[40];
        num(v2, sizeof(v2), a->n ? a->min : NAN);
        num(v3, sizeof(v3), a->n ? a->max : NAN);
        if (json) {
            printf("{\"point\":\"%s\",\"t\":\"%s\",\"ts\":%" PRId64 ",\"value\":%s,\"n\":%u,"
                   "\"min\":%s,\"max\":%s,\"peak\":%s,\"q\":%u}\n",
                   slug, ts, a->start, isnan(val) ? "null" : num(v1, sizeof(v1), val), a->n,
                   a->n ? v2 : "null", a->n ? v3 : "null", num(v4, sizeof(v4), a->peak), a->qor);
        } else {
            printf("%s,%s,%.10g,%u,%s,%s,%.10g,%u\n", slug, ts, val, a->n, a->n ? v2 : "",
                   a->n ? v3 : "", a->peak, a->qor);
        }
    }
}

int sb_cmd_query(int argc, char **argv)
{
    const char *from = NULL, *to = NULL, *res = NULL, *fmt = NULL, *limit = NULL, *latest = NULL;
    const struct sb_cli_opt opts[] = {
        { "from", 1, &from, "start: RFC 3339, ms, or relative (-24h, -7d); default -24h" },
        { "to", 1, &to, "end (exclusive); default now" },
        { "res", 1, &res, "raw|1m|15m|1h|1d|1mo (default raw)" },
        { "format", 1, &fmt, "csv|json (default csv)" },
        { "limit", 1, &limit, "at most this many raw samples" },
        { "latest", 0, &latest, "print the latest sample of each POINT" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_cli c;
    struct sb_samples raw = { 0 };
    struct sb_aggs agg = { 0 };
    int rc = sb_cli_parse(&c, argc, argv, opts,
                          "POINT... [--from T] [--to T] [--res R] [--format csv|json]\n"
                          "Print a point's readings or rollups (POINT: slug or id).");
    if (rc)
        goto out;
    rc = 2;
    int64_t now = sb_now_ms(), t0 = now - 86400000, t1 = now + 1;
    int r = res ? sb_res_parse(res) : SB_RES_RAW, json = fmt && strcmp(fmt, "json") == 0;
    if (c.argc < 1 || r < 0 || (from && parse_time_arg(from, now, &t0)) ||
        (to && parse_time_arg(to, now, &t1)) || (fmt && !json && strcmp(fmt, "csv") != 0)) {
        fprintf(stderr, "sbems query: bad arguments (try --help)\n");
        goto out;
    }
    rc = 1;
    if (sb_cli_open(&c, 1) || sb_cli_sync_points(&c, NULL))
        goto out;
    if (!json)
        puts(r == SB_RES_RAW || latest ? "point,time,value,quality"
                                       : "point,time,value,n,min,max,peak,quality");
    for (int i = 0; i < c.argc; i++) {
        const struct sb_point *p = sb_cli_point(&c, c.argv[i]);
        if (!p) {
            fprintf(stderr, "sbems query: unknown point %s\n", c.argv[i]);
            goto out;
        }
        raw.n = agg.n = 0;
        int e;
        if (latest) {
            struct sb_sample s;
            e = sb_store_latest(&c.store, &p->id, 1, &s);
            if (e == 0 && s.t != INT64_MIN && sb_samples_push(&raw, &s) == 0)
                print_raw(p->slug, &raw, json);
        } else if (r == SB_RES_RAW) {
            size_t lim = limit ? strtoul(limit, NULL, 10) : 0;
            e = sb_store_range_raw(&c.store, p->id, t0, t1, lim, &raw);
            if (e == 0)
                print_raw(p->slug, &raw, json);
        } else {
            e = sb_store_range_agg(&c.store, p->id, (enum sb_res)r, t0, t1, &agg);
            if (e == 0)
                print_aggs(p->slug, &agg, sb_point_kind_agg(p->kind), json);
        }
        if (e) {
            fprintf(stderr, "sbems query: %s: %s\n", p->slug, sb_strerror(e));
            goto out;
        }
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
out:
    sb_samples_release(&raw);
    sb_aggs_release(&agg);
    sb_cli_release(&c);
    return rc;
}

int sb_cmd_backup(int argc, char **argv)
{
    struct sb_cli c;
    int rc = sb_cli_parse(&c, argc, argv, NULL,
                          "FILE\nCopy the whole store into FILE (consistent while sbems runs).");
    if (rc)
        goto out;
    rc = 2;
    if (c.argc != 1) {
        fprintf(stderr, "sbems backup: give the destination FILE\n");
        goto out;
    }
    rc = 1;
    if (sb_cli_open(&c, 1))
        goto out;
    int e = sb_store_backup(&c.store, c.argv[0]);
    if (e == SB_ENOTSUP && c.cfg.store_backend == SB_CONF_BACKEND_POSTGRES) {
        fprintf(stderr, "sbems backup: the PostgreSQL store is backed up with PostgreSQL's own "
                        "tools: pg_dump -Fc (restore with pg_restore), or a base backup with "
                        "WAL archiving (docs/operations.md)\n");
        goto out;
    }
    if (e) {
        fprintf(stderr, "sbems backup: %s: %s\n", c.argv[0], sb_strerror(e));
        goto out;
    }
    printf("backup written to %s\n", c.argv[0]);
    rc = 0;
out:
    sb_cli_release(&c);
    return rc;
}

int sb_cmd_config(int argc, char **argv)
{
    const char *dump = NULL, *example = NULL;
    const struct sb_cli_opt opts[] = {
        { "dump", 0, &dump, "print every option's effective value and where it came from" },
        { "example", 0, &example, "print the annotated example file" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_cli c;
    int rc = sb_cli_parse(&c, argc, argv, opts, "--dump | --example");
    if (rc == 0) {
        if (example)
            sb_conf_write_example(stdout);
        else
            sb_conf_dump(&c.cfg, stdout);
    }
    sb_cli_release(&c);
    return rc == 1 ? 0 : rc;
}

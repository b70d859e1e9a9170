/* cli.c - shared plumbing of the sbems sub-commands (see cli.h). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/log.h"
#include "model/site_json.h"
#include "model/sync.h"

static const struct {
    const char *flag;     /* command-line flag */
    const char *option;   /* configuration option it sets */
} globals[] = {
    { "data-dir", "data_dir" },
    { "listen", "listen" },
    { "log-level", "log.level" },
    { "log-format", "log.format" },
};

static void usage_globals(FILE *f)
{
    fprintf(f, "Global options:\n"
               "  --config FILE       configuration file (default: none; see sbems.conf.example)\n"
               "  --data-dir DIR      data directory (option data_dir)\n"
               "  --listen ADDR:PORT  HTTP listen address (option listen)\n"
               "  --log-level LEVEL   error|warn|info|debug|trace\n"
               "  --log-format FMT    text|json\n"
               "  --set NAME=VALUE    set any configuration option\n"
               "  --help              this help\n"
               "Environment: SBEMS_<OPTION> overrides the file (e.g. SBEMS_STORE_SYNC=normal).\n");
}

/* Match "--name" or "--name=value"; *val gets the inline value or NULL. */
static int match(const char *arg, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0)
        return 0;
    if (arg[2 + n] == 0) {
        *val = NULL;
        return 1;
    }
    if (arg[2 + n] == '=') {
        *val = arg + 3 + n;
        return 1;
    }
    return 0;
}

static int take_value(int argc, char **argv, int *i, const char *inl, const char **out)
{
    if (inl) {
        *out = inl;
        return 0;
    }
    if (*i + 1 >= argc)
        return -1;
    *out = argv[++*i];
    return 0;
}

static int set_opt(struct sb_cli *c, const char *name, const char *value)
{
    char err[256];
    if (sb_conf_set(&c->cfg, name, value, err, sizeof(err)) != 0) {
        fprintf(stderr, "sbems %s: %s\n", c->cmd, err);
        return 2;
    }
    return 0;
}

/* First pass: find --config so the file loads before command-line values. */
static const char *find_config(int argc, char **argv)
{
    const char *v = NULL;
    for (int i = 1; i < argc; i++)
        if (match(argv[i], "config", &v))
            return v ? v : (i + 1 < argc ? argv[i + 1] : NULL);
    return NULL;
}

static void print_help(const struct sb_cli *c, const struct sb_cli_opt *opts, const char *usage)
{
    printf("Usage: sbems %s %s\n", c->cmd, usage);
    for (size_t k = 0; opts && opts[k].name; k++)
        printf("  --%s%s%*s%s\n", opts[k].name, opts[k].has_arg ? " VALUE" : "",
               (int)(18 - strlen(opts[k].name) - (opts[k].has_arg ? 6 : 0)) > 0
                   ? (int)(18 - strlen(opts[k].name) - (opts[k].has_arg ? 6 : 0))
                   : 1,
               "", opts[k].help);
    usage_globals(stdout);
}

static int load_conf(struct sb_cli *c, const char *file)
{
    char err[512];
    if (file && sb_conf_load_file(&c->cfg, file, err, sizeof(err)) != 0) {
        fprintf(stderr, "sbems %s: %s\n", c->cmd, err);
        return 2;
    }
    if (sb_conf_load_env(&c->cfg, NULL, err, sizeof(err)) != 0) {
        fprintf(stderr, "sbems %s: %s\n", c->cmd, err);
        return 2;
    }
    return 0;
}

static int parse_one(struct sb_cli *c, int argc, char **argv, int *i,
                     const struct sb_cli_opt *opts)
{
    const char *v, *val;
    if (match(argv[*i], "config", &v))
        return take_value(argc, argv, i, v, &val) ? 2 : 0;
    for (size_t g = 0; g < sizeof(globals) / sizeof(globals[0]); g++)
        if (match(argv[*i], globals[g].flag, &v))
            return take_value(argc, argv, i, v, &val) ? 2 : set_opt(c, globals[g].option, val);
    if (match(argv[*i], "set", &v)) {
        if (take_value(argc, argv, i, v, &val) || !strchr(val, '='))
            return 2;
        char name[128];
        size_t n = (size_t)(strchr(val, '=') - val);
        if (n >= sizeof(name))
            return 2;
        memcpy(name, val, n);
        name[n] = 0;
        return set_opt(c, name, val + n + 1);
    }
    for (size_t k = 0; opts && opts[k].name; k++) {
        if (!match(argv[*i], opts[k].name, &v))
            continue;
        if (!opts[k].has_arg) {
            *opts[k].out = "1";
            return 0;
        }
        return take_value(argc, argv, i, v, opts[k].out) ? 2 : 0;
    }
    fprintf(stderr, "sbems %s: unknown option %s\n", c->cmd, argv[*i]);
    return 2;
}

int sb_cli_parse(struct sb_cli *c, int argc, char **argv, const struct sb_cli_opt *opts,
                 const char *usage)
{
    int rc, npos = 0;

    memset(c, 0, sizeof(*c));
    c->lock_fd = -1;
    c->cmd = argv[0];
    sb_conf_init(&c->cfg);
    sb_model_init(&c->model);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(c, opts, usage);
            return 1;
        }
    }
    if ((rc = load_conf(c, find_config(argc, argv))))
        return rc;
    c->argv = argv + 1;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2]) {
            if ((rc = parse_one(c, argc, argv, &i, opts))) {
                if (rc == 2)
                    fprintf(stderr, "Try: sbems %s --help\n", c->cmd);
                return rc;
            }
        } else {
            c->argv[npos++] = argv[i];   /* compact positionals */
        }
    }
    c->argc = npos;
    char err[512];
    if (sb_conf_validate(&c->cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "sbems %s: %s\n", c->cmd, err);
        return 2;
    }
    if (sb_log_setup(&c->cfg) != 0) {
        fprintf(stderr, "sbems %s: cannot open log.file %s\n", c->cmd,
                c->cfg.log_file ? c->cfg.log_file : "");
        return 2;
    }
    return 0;
}

static int take_lock(struct sb_cli *c)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/LOCK", c->cfg.data_dir);
    if (mkdir(c->cfg.data_dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "sbems %s: cannot create %s: %s\n", c->cmd, c->cfg.data_dir,
                strerror(errno));
        return SB_EIO;
    }
    c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (c->lock_fd < 0 || flock(c->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "sbems %s: %s is in use by another sbems process (%s)\n", c->cmd,
                c->cfg.data_dir, strerror(errno));
        return SB_EAGAIN;
    }
    return 0;
}

int sb_cli_open(struct sb_cli *c, int readonly)
{
    struct sb_store_cfg sc = {
        .dir = c->cfg.data_dir,
        .sync_full = c->cfg.store_sync == SB_CONF_SYNC_FULL,
        .cache_bytes = c->cfg.store_cache,
        .flush_samples = c->cfg.store_flush_samples,
        .readonly = readonly,
        .url = c->cfg.store_url,
        .node = c->cfg.store_node,
        .shared = c->cfg.cluster_leases,
    };
    int rc;

    if (!readonly && (rc = take_lock(c)))
        return rc;
    if ((rc = sb_store_open(sb_conf_backend_name(&c->cfg), &sc, &c->store))) {
        /* never the URL: it may hold a password */
        if (c->cfg.store_backend == SB_CONF_BACKEND_POSTGRES)
            fprintf(stderr, "sbems %s: cannot open the PostgreSQL store (store.url): %s\n",
                    c->cmd, sb_strerror(rc));
        else
            fprintf(stderr, "sbems %s: cannot open the store in %s: %s\n", c->cmd,
                    c->cfg.data_dir, sb_strerror(rc));
        return rc;
    }
    if ((rc = sb_store_model_load(&c->store, &c->model))) {
        fprintf(stderr, "sbems %s: cannot load the building model: %s\n", c->cmd,
                sb_strerror(rc));
        return rc;
    }
    struct sb_model_errs errs;
    sb_model_errs_init(&errs);
    rc = sb_model_validate(&c->model, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "sbems %s: stored model: %s\n", c->cmd, errs.msg[i]);
    sb_model_errs_release(&errs);
    return rc;
}

int sb_cli_sync_points(struct sb_cli *c, struct sb_ingest *ing)
{
    return sb_model_sync_points(&c->store, ing, &c->model, c->cfg.store_max_hold);
}

void sb_cli_ingest_cfg(const struct sb_cli *c, struct sb_ingest_cfg *ic)
{
    memset(ic, 0, sizeof(*ic));
    ic->queue_cap = (size_t)c->cfg.ingest_queue;
    ic->batch_max = (size_t)c->cfg.ingest_batch;
    ic->linger_ms = c->cfg.ingest_linger;
    ic->future_limit_ms = c->cfg.ingest_future_limit;
    ic->too_old_ms = c->cfg.retention_raw;
    ic->flush_interval_ms = c->cfg.store_flush_interval;
}

void sb_cli_retention(const struct sb_cli *c, struct sb_retention *r)
{
    memset(r, 0, sizeof(*r));
    r->keep[SB_RES_RAW] = c->cfg.retention_raw;
    r->keep[SB_RES_15M] = c->cfg.retention_15m;
    r->keep[SB_RES_1H] = c->cfg.retention_1h;
    r->keep[SB_RES_1D] = c->cfg.retention_1d;
    r->keep[SB_RES_1MO] = c->cfg.retention_1mo;
}

const struct sb_point *sb_cli_point(const struct sb_cli *c, const char *name)
{
    char *end;
    unsigned long id = strtoul(name, &end, 10);
    if (*name && *end == 0 && id > 0 && id <= UINT32_MAX)
        return sb_model_point_by_id(&c->model, (uint32_t)id);
    return sb_model_point(&c->model, name);
}

void sb_cli_release(struct sb_cli *c)
{
    sb_store_close(&c->store);
    sb_model_release(&c->model);
    sb_conf_release(&c->cfg);
    if (c->lock_fd >= 0)
        close(c->lock_fd);
    c->lock_fd = -1;
}

/*
 * cli.h - what every sbems sub-command shares: option parsing into the
 * configuration table, opening the store (with the data directory's lock for
 * writers), loading the model and telling the store and ingest about points.
 *
 * A struct sb_cli lives on main()'s stack; sb_cli_release frees what it holds.
 */
#ifndef SB_CLI_H
#define SB_CLI_H

#include <stdio.h>

#include "core/conf.h"
#include "ingest/ingest.h"
#include "model/model.h"
#include "store/store.h"

#define SB_VERSION "0.1.0"

struct sb_cli {
    struct sb_config cfg;      /* effective configuration */
    const char *cmd;           /* sub-command name */
    int argc;                  /* positional arguments left after options */
    char **argv;               /* (point into main's argv) */
    struct sb_store_h store;   /* open store, ops NULL when not open */
    struct sb_model model;     /* model loaded from the store */
    int lock_fd;               /* data directory lock, -1 if not held */
};

/* A command-specific option: name without "--", whether it takes a value,
 * and where to put it (value or "1" for flags). */
struct sb_cli_opt {
    const char *name;          /* "format" */
    int has_arg;               /* takes a value */
    const char **out;          /* receives the value */
    const char *help;          /* one line */
};

/* Parse argv: global options (--config, --data-dir, --listen, --set k=v,
 * --log-level) and the command's opts; loads file and environment first so
 * precedence is default < file < env < command line.  Prints help and
 * returns 1 for --help, 0 to go on, or 2 after printing a usage error. */
int  sb_cli_parse(struct sb_cli *c, int argc, char **argv, const struct sb_cli_opt *opts,
                  const char *usage);

/* Open the store (readonly: no lock, no writes) and load the model; writers
 * take <data_dir>/LOCK so two processes never write one store. */
int  sb_cli_open(struct sb_cli *c, int readonly);

/* Give the store and (if ing) the ingest pipeline the model's points. */
int  sb_cli_sync_points(struct sb_cli *c, struct sb_ingest *ing);

/* Ingest/retention settings from the configuration. */
void sb_cli_ingest_cfg(const struct sb_cli *c, struct sb_ingest_cfg *ic);
void sb_cli_retention(const struct sb_cli *c, struct sb_retention *r);

void sb_cli_release(struct sb_cli *c);

/* Resolve a point given as slug or integer id; NULL if unknown. */
const struct sb_point *sb_cli_point(const struct sb_cli *c, const char *name);

/* Commands (cmd_*.c); each returns the process exit status. */
int sb_cmd_serve(int argc, char **argv);
int sb_cmd_migrate(int argc, char **argv);
int sb_cmd_import(int argc, char **argv);
int sb_cmd_export(int argc, char **argv);
int sb_cmd_ingest(int argc, char **argv);
int sb_cmd_fdd(int argc, char **argv);
int sb_cmd_query(int argc, char **argv);
int sb_cmd_backup(int argc, char **argv);
int sb_cmd_config(int argc, char **argv);
int sb_cmd_user(int argc, char **argv);
int sb_cmd_bacnet(int argc, char **argv);
int sb_cmd_boptest(int argc, char **argv);

struct sb_appdb;
struct sb_config;
/* Opens the application database store.appdb names: <data_dir>/sbems.db, or
 * the app_* tables in store.url's PostgreSQL database.  0 or an SB_E code
 * with the reason in err (never the URL: it may hold a password); where is
 * set to what was opened, for messages. */
int sb_cli_open_appdb(const struct sb_config *cfg, struct sb_appdb **db, char *where,
                      size_t wherelen, char *err, size_t errlen);
/* First start of the daemon: no account yet -> an admin with a one-time
 * password in <data_dir>/initial-admin-password (0600). */
int sb_cli_first_admin(struct sb_cli *c, struct sb_appdb *db);

#endif /* SB_CLI_H */

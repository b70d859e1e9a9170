/*
 * main.c - the sbems command: one binary, one sub-command per job.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;                     /* sub-command */
    int (*fn)(int argc, char **argv);     /* runs it; returns the exit status */
    const char *help;                     /* one line */
} cmds[] = {
    { "serve", sb_cmd_serve, "run the daemon" },
    { "migrate", sb_cmd_migrate, "create or upgrade the store's schema" },
    { "import", sb_cmd_import, "import a site document (buildings, zones, equipment, points)" },
    { "export", sb_cmd_export, "export the building model as a site document" },
    { "ingest", sb_cmd_ingest, "backfill readings from CSV or JSON lines" },
    { "fdd", sb_cmd_fdd, "run fault detection over stored history, print the findings" },
    { "query", sb_cmd_query, "print readings or rollups of points" },
    { "backup", sb_cmd_backup, "copy the whole store into one file, while running" },
    { "config", sb_cmd_config, "print the effective configuration or the example file" },
    { "user", sb_cmd_user, "add, list, disable accounts or set a password" },
    { "boptest", sb_cmd_boptest, "run sbems's zone control against a BOPTEST test case, print its KPIs" },
    { "bacnet", sb_cmd_bacnet, "BACnet/IP tools: discover, read, write, trend logs, serve devices" },
};

static void usage(FILE *f)
{
    fprintf(f, "sbems %s - smart building energy management\n\nUsage: sbems COMMAND [options]\n\n",
            SB_VERSION);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "  version   print the version\n\n'sbems COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("sbems %s\n", SB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "sbems: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}

/*
 * test_paths.c - shipped data files found in the tree or installed
 * (src/core/paths.c): a real install layout in a temporary directory, this
 * binary copied into its bin/ and run from an unrelated directory, so the
 * lookup beside /proc/self/exe is exercised for real.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/paths.h"
#include "tap.h"

static char g_dir[64];

static void touch(const char *p)
{
    FILE *f = fopen(p, "w");
    if (f)
        fclose(f);
}

/* The copy in <prefix>/bin, run from cwd, asked for rel: its one line of output. */
static void ask(const char *cwd, const char *rel, char *line, size_t len)
{
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof(cmd), "cd %s && %s/bin/t --child %s", cwd, g_dir, rel);
    FILE *p = popen(cmd, "r");
    line[0] = '\0';
    if (p) {
        if (!fgets(line, (int)len, p))
            line[0] = '\0';
        pclose(p);
    }
}

TEST(installed_beside_bin)
{
    char line[PATH_MAX + 32], want[PATH_MAX + 64], work[PATH_MAX];
    snprintf(work, sizeof(work), "%s/work", g_dir);
    ask(work, "profiles/a.json", line, sizeof(line));
    snprintf(want, sizeof(want), "0 %s/share/sbems/profiles/a.json\n", g_dir);
    CHECK_STR(line, want);
    /* a directory is found the same way */
    ask(work, "profiles", line, sizeof(line));
    snprintf(want, sizeof(want), "0 %s/share/sbems/profiles\n", g_dir);
    CHECK_STR(line, want);
}

TEST(missing_keeps_the_name)
{
    char line[PATH_MAX + 32], want[64], work[PATH_MAX];
    snprintf(work, sizeof(work), "%s/work", g_dir);
    ask(work, "profiles/none.json", line, sizeof(line));
    snprintf(want, sizeof(want), "%d profiles/none.json\n", SB_ENOENT);
    CHECK_STR(line, want);
}

TEST(working_directory_first)
{
    char line[PATH_MAX + 32], p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/work/profiles", g_dir);
    CHECK_EQ(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/work/profiles/a.json", g_dir);
    touch(p);
    snprintf(p, sizeof(p), "%s/work", g_dir);
    ask(p, "profiles/a.json", line, sizeof(line));
    CHECK_STR(line, "0 profiles/a.json\n");
}

TEST(absolute_and_bad_arguments)
{
    char out[PATH_MAX], p[PATH_MAX];
    snprintf(p, sizeof(p), "%s/share/sbems/profiles/a.json", g_dir);
    CHECK_EQ(sb_path_data(p, out, sizeof(out)), 0);
    CHECK_STR(out, p);
    snprintf(p, sizeof(p), "%s/nowhere.json", g_dir);
    CHECK_EQ(sb_path_data(p, out, sizeof(out)), SB_ENOENT);
    CHECK_EQ(sb_path_data("profiles", out, 4), SB_EINVAL);
    CHECK_EQ(sb_path_data("", out, sizeof(out)), SB_EINVAL);
    CHECK_EQ(sb_path_data(NULL, out, sizeof(out)), SB_EINVAL);
}

int main(int argc, char **argv)
{
    char self[PATH_MAX], cmd[PATH_MAX * 3];
    if (argc == 3 && strcmp(argv[1], "--child") == 0) {
        char out[PATH_MAX];
        int rc = sb_path_data(argv[2], out, sizeof(out));
        printf("%d %s\n", rc, out);
        return 0;
    }
    TAP_START();
    snprintf(g_dir, sizeof(g_dir), "/tmp/sbems-paths-XXXXXX");
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (!mkdtemp(g_dir) || n <= 0) {
        printf("Bail out! no temporary directory or no /proc/self/exe\n");
        return 1;
    }
    self[n] = '\0';
    snprintf(cmd, sizeof(cmd), "mkdir -p %s/bin %s/share/sbems/profiles %s/work && cp %s %s/bin/t",
             g_dir, g_dir, g_dir, self, g_dir);
    if (system(cmd) != 0) {
        printf("Bail out! cannot lay out %s\n", g_dir);
        return 1;
    }
    snprintf(cmd, sizeof(cmd), "%s/share/sbems/profiles/a.json", g_dir);
    touch(cmd);
    RUN(installed_beside_bin);
    RUN(missing_keeps_the_name);
    RUN(working_directory_first);
    RUN(absolute_and_bad_arguments);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", g_dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", g_dir);
    TAP_END();
}

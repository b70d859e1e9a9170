/* paths.c - shipped data files in the tree or installed; see paths.h. */
#include "core/paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"

static int put(char *out, size_t outlen, const char *a, const char *b)
{
    int n = snprintf(out, outlen, "%s%s", a, b);
    return n >= 0 && (size_t)n < outlen ? 0 : SB_EINVAL;
}

int sb_path_data(const char *rel, char *out, size_t outlen)
{
    /* beside the binary: installed first, then the build tree (build/rel) */
    static const char *const up[] = { "/../share/sbems/", "/../../" };
    char exe[PATH_MAX], base[PATH_MAX + 32];

    if (!rel || !*rel || put(out, outlen, rel, ""))
        return SB_EINVAL;
    if (rel[0] == '/' || access(rel, F_OK) == 0)
        return rel[0] == '/' && access(rel, F_OK) != 0 ? SB_ENOENT : 0;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return SB_ENOENT;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return SB_ENOENT;
    *slash = '\0';
    for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
        snprintf(base, sizeof(base), "%s%s", exe, up[i]);
        char cand[PATH_MAX + 64];
        if (put(cand, sizeof(cand), base, rel) == 0 && access(cand, F_OK) == 0) {
            char real[PATH_MAX];
            const char *got = realpath(cand, real) ? real : cand;
            return put(out, outlen, got, "");
        }
    }
    return SB_ENOENT;
}

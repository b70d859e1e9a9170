/* paths.h - where sbems finds the data files it ships (device profiles, the
 * simulator's weather files), whether run from the source tree or installed.
 *
 * A shipped file is named by its path in the source tree ("profiles",
 * "sim/weather/x.epw").  `make install` copies those to
 * $(PREFIX)/share/sbems/ beside $(PREFIX)/bin/, so one relative name serves
 * both layouts.  Pure lookups: nothing is allocated or kept.
 */
#ifndef SB_CORE_PATHS_H
#define SB_CORE_PATHS_H

#include <stddef.h>

/*
 * The first of these that exists, written to out (outlen bytes):
 *   rel itself (relative to the working directory: running in the tree),
 *   <dir of the running binary>/../share/sbems/<rel> (installed),
 *   <dir of the running binary>/../../<rel> (build/rel/ inside the tree).
 * An absolute rel is taken as it is.  Returns 0, SB_ENOENT when none exists
 * (out then holds rel unchanged, so the caller's error names what was
 * looked for), or SB_EINVAL when out is too small.
 */
int sb_path_data(const char *rel, char *out, size_t outlen);

#endif

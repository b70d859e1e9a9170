/* err.c - names and messages for SB_E* codes (see err.h). */
#include <stdarg.h>
#include <stdio.h>

#include "core/err.h"

static const struct {
    const char *name;
    const char *msg;
} errs[] = {
    { "SB_OK",        "success" },
    { "SB_ENOMEM",    "out of memory" },
    { "SB_EINVAL",    "invalid argument or malformed input" },
    { "SB_ERANGE",    "value out of range" },
    { "SB_ENOENT",    "no such object" },
    { "SB_EEXIST",    "object already exists" },
    { "SB_EIO",       "input/output error" },
    { "SB_EAGAIN",    "resource temporarily unavailable" },
    { "SB_ETIMEDOUT", "timed out" },
    { "SB_ECLOSED",   "closed or shutting down" },
    { "SB_ECORRUPT",  "data corrupt" },
    { "SB_ENOSPC",    "buffer too small" },
    { "SB_ENOTSUP",   "operation not supported" },
    { "SB_EUNIT",     "unknown or incompatible unit" },
    { "SB_ESTORE",    "storage engine error" },
    { "SB_ECONFIG",   "invalid configuration" },
    { "SB_EPROTO",    "protocol error" },
    { "SB_EFUTURE",   "timestamp too far in the future" },
    { "SB_ENAN",      "value is NaN or infinite" },
};

const char *sb_strerror(int code)
{
    if (code > 0 || code <= SB_ELAST)
        return "unknown error";
    return errs[-code].msg;
}

const char *sb_errname(int code)
{
    if (code > 0 || code <= SB_ELAST)
        return "SB_E?";
    return errs[-code].name;
}

void sb_errf(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/*
 * err.h - sbems error codes.
 *
 * Every fallible function in sbems returns 0 on success or a negative SB_E*
 * code (libuv's negative-errno style).  Codes say what went wrong in terms a
 * caller can act on; the human detail goes to the log or to an error-message
 * buffer the caller owns, never both.  sb_strerror() returns a static string.
 */
#ifndef SB_ERR_H
#define SB_ERR_H

#include <stddef.h>

enum {
    SB_OK        = 0,
    SB_ENOMEM    = -1,   /* allocation failed */
    SB_EINVAL    = -2,   /* invalid argument or malformed input */
    SB_ERANGE    = -3,   /* value out of the allowed range */
    SB_ENOENT    = -4,   /* no such object (point, building, file) */
    SB_EEXIST    = -5,   /* object already exists */
    SB_EIO       = -6,   /* I/O error from the OS or the storage engine */
    SB_EAGAIN    = -7,   /* try again: queue full, resource busy */
    SB_ETIMEDOUT = -8,   /* deadline passed */
    SB_ECLOSED   = -9,   /* object is shutting down or closed */
    SB_ECORRUPT  = -10,  /* stored or received data fails its integrity check */
    SB_ENOSPC    = -11,  /* output buffer too small */
    SB_ENOTSUP   = -12,  /* operation not supported by this backend */
    SB_EUNIT     = -13,  /* unit unknown or not convertible */
    SB_ESTORE    = -14,  /* storage engine reported an error (see the log) */
    SB_ECONFIG   = -15,  /* configuration value rejected */
    SB_EPROTO    = -16,  /* protocol violation by a peer */
    SB_EFUTURE   = -17,  /* timestamp too far in the future */
    SB_ENAN      = -18,  /* NaN or infinite value */
    SB_ELAST     = -19
};

/* Returns a static, human-readable description of code (never NULL). */
const char *sb_strerror(int code);

/* Returns the symbolic name of code ("SB_EINVAL"), static, never NULL. */
const char *sb_errname(int code);

/* Formats a message into the caller's error buffer err[errlen] (nothing
 * when err is NULL or errlen is 0), the way every parser reports "what,
 * where, what is allowed" to its caller. */
void sb_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* SB_ERR_H */

/* gz.c - gzip bodies and Accept-Encoding negotiation; see gz.h. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "api/gz.h"
#include "core/err.h"

/* Grow the output buffer when deflateBound() was not enough (it always is
 * for one-shot use, but a loop costs nothing and survives zlib changes). */
static int grow(z_stream *zs, unsigned char **buf, size_t *cap)
{
    size_t used = *cap - zs->avail_out;
    size_t nc = *cap * 2;
    unsigned char *nb = nc > *cap ? realloc(*buf, nc) : NULL;
    if (!nb)
        return SB_ENOMEM;
    *buf = nb;
    *cap = nc;
    zs->next_out = nb + used;
    zs->avail_out = (uInt)(nc - used > UINT_MAX ? UINT_MAX : nc - used);
    return 0;
}

/* Feed all of in[0..n) in uInt-sized pieces (avail_in is 32 bits) and
 * finish the stream. */
static int run_deflate(z_stream *zs, const unsigned char *in, size_t n,
                       unsigned char **buf, size_t *cap)
{
    size_t left = n;
    int zr;

    zs->next_in = (Bytef *)in;   /* zlib's API is not const-correct */
    do {
        if (zs->avail_in == 0 && left) {
            zs->avail_in = (uInt)(left > UINT_MAX ? UINT_MAX : left);
            left -= zs->avail_in;
        }
        if (zs->avail_out == 0 && grow(zs, buf, cap))
            return SB_ENOMEM;
        zr = deflate(zs, left || zs->avail_in ? Z_NO_FLUSH : Z_FINISH);
        if (zr == Z_STREAM_ERROR)
            return SB_EIO;
    } while (zr != Z_STREAM_END);
    return 0;
}

int sb_gzip(const void *in, size_t n, int level, void **out, size_t *outlen)
{
    z_stream zs;
    unsigned char *buf = NULL;
    size_t cap;
    int rc;

    if (!out || !outlen || (!in && n) || level < -1 || level > 9)
        return SB_EINVAL;
    memset(&zs, 0, sizeof(zs));
    /* windowBits 15 + 16: write a gzip header and trailer (zlib manual,
     * deflateInit2) instead of the zlib wrapper of RFC 1950. */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SB_ENOMEM;
    /* deflateBound() includes the gzip wrapper once deflateInit2 has run
     * (uLong is size_t on LP64; grow() covers anything else). */
    cap = deflateBound(&zs, (uLong)n);
    if (cap < 64)
        cap = 64;
    buf = malloc(cap);
    rc = SB_ENOMEM;
    if (!buf)
        goto out;
    zs.next_out = buf;
    zs.avail_out = (uInt)(cap > UINT_MAX ? UINT_MAX : cap);
    rc = run_deflate(&zs, in, n, &buf, &cap);
    if (rc)
        goto out;
    *out = buf;
    *outlen = (size_t)zs.total_out;
    buf = NULL;
out:
    deflateEnd(&zs);
    free(buf);
    return rc;
}

/* ---- Accept-Encoding (RFC 9110 section 12.5.3) ---- */

/* tchar of RFC 9110 section 5.6.2. */
static int is_tchar(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char **p)
{
    while (**p == ' ' || **p == '\t')
        (*p)++;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 * (section 12.4.2); the result in thousandths, or -1 if malformed. */
static int parse_qvalue(const char **p)
{
    const char *s = *p;
    int whole = *s == '1' ? 1 : *s == '0' ? 0 : -1, frac = 0, k = 0;

    if (whole < 0)
        return -1;
    s++;
    if (*s == '.') {
        for (s++; k < 3 && *s >= '0' && *s <= '9'; s++, k++)
            frac = frac * 10 + (*s - '0');
        if (*s >= '0' && *s <= '9')
            return -1;            /* more than three digits */
        for (; k < 3; k++)
            frac *= 10;
        if (whole == 1 && frac != 0)
            return -1;            /* above 1 */
    }
    *p = s;
    return whole * 1000 + frac;
}

/* One list element "coding [ OWS ; OWS q=qvalue ]" at *p: copies the coding
 * (lowercased, cut to cap-1 bytes) and the weight (1000 if absent).
 * Returns 0, or -1 if malformed; *p ends at OWS before "," or NUL. */
static int parse_element(const char **p, char *coding, size_t cap, int *q)
{
    const char *s = *p;
    size_t n = 0;

    for (; is_tchar((unsigned char)*s); s++)
        if (n + 1 < cap)
            coding[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
    coding[n] = '\0';
    if (s == *p)
        return -1;
    *q = 1000;
    skip_ows(&s);
    if (*s == ';') {
        s++;
        skip_ows(&s);
        if ((s[0] != 'q' && s[0] != 'Q') || s[1] != '=')
            return -1;
        s += 2;
        if ((*q = parse_qvalue(&s)) < 0)
            return -1;
        skip_ows(&s);
    }
    *p = s;
    return 0;
}

int sb_accepts_gzip(const char *ae)
{
    int gzip_q = -1, star_q = -1, q;
    char coding[16];
    const char *p = ae;

    if (!ae)
        return 0;
    for (;;) {
        /* #rule: empty elements and surrounding OWS are allowed (5.6.1.2) */
        skip_ows(&p);
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            break;
        if (parse_element(&p, coding, sizeof(coding), &q))
            return 0;
        if (*p != ',' && *p != '\0')
            return 0;
        if (!strcmp(coding, "gzip") || !strcmp(coding, "x-gzip"))
            gzip_q = q > gzip_q ? q : gzip_q;
        else if (!strcmp(coding, "*"))
            star_q = q > star_q ? q : star_q;
    }
    if (gzip_q >= 0)
        return gzip_q > 0;
    return star_q > 0;
}

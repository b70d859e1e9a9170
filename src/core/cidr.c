/*
 * cidr.c - IP network lists and the client address behind trusted proxies
 * (cidr.h says why and how).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/cidr.h"
#include "core/err.h"

#define MAX_HOPS 64                    /* X-Forwarded-For entries looked at, from the right */

static int space(char c)
{
    return c == ' ' || c == '\t';
}

/* One address from s[0, n): 1 with its family (4 or 6) and bytes, else 0.
 * Takes the forms proxies write: "192.0.2.7", "192.0.2.7:5000", "2001:db8::1",
 * "[2001:db8::1]" and "[2001:db8::1]:5000". */
static int addr_parse(const char *s, size_t n, uint8_t a[16], uint8_t *fam)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    char buf[SB_IP_STR + 1];

    while (n && space(*s))
        s++, n--;
    while (n && space(s[n - 1]))
        n--;
    if (n && s[0] == '[') {
        const char *e = memchr(s, ']', n);
        if (!e || (e + 1 < s + n && e[1] != ':'))
            return 0;
        n = (size_t)(e - s) - 1;
        s++;
    } else {
        const char *c = memchr(s, ':', n);
        if (c && !memchr(c + 1, ':', n - (size_t)(c + 1 - s)))
            n = (size_t)(c - s);       /* one colon: IPv4 and a port */
    }
    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET, buf, a) == 1) {
        *fam = 4;
        return 1;
    }
    if (inet_pton(AF_INET6, buf, a) != 1)
        return 0;
    *fam = 6;
    if (memcmp(a, mapped, sizeof(mapped)) == 0) {   /* ::ffff:a.b.c.d is a.b.c.d */
        memmove(a, a + 12, 4);
        *fam = 4;
    }
    return 1;
}

static int in_net(const struct sb_cidr *c, const uint8_t *a, uint8_t fam)
{
    unsigned full = c->bits / 8u, rem = c->bits % 8u;

    if (c->fam != fam || memcmp(c->a, a, full) != 0)
        return 0;
    return rem == 0 || ((c->a[full] ^ a[full]) & (uint8_t)(0xffu << (8u - rem))) == 0;
}

static int in_any(const struct sb_cidrs *c, const uint8_t *a, uint8_t fam)
{
    for (size_t i = 0; c && i < c->n; i++)
        if (in_net(&c->v[i], a, fam))
            return 1;
    return 0;
}

/* "addr" or "addr/bits" in s[0, n) into *c. */
static int net_parse(const char *s, size_t n, struct sb_cidr *c, char *err, size_t errlen)
{
    const char *slash = memchr(s, '/', n);
    size_t an = slash ? (size_t)(slash - s) : n;
    unsigned bits = 0, max;

    memset(c, 0, sizeof(*c));
    if (!addr_parse(s, an, c->a, &c->fam) || memchr(s, '[', an)) {
        sb_errf(err, errlen, "\"%.*s\" is not an IP address", (int)(an > 60 ? 60 : an), s);
        return SB_ECONFIG;
    }
    max = c->fam == 4 ? 32 : 128;
    bits = max;
    if (slash) {
        const char *p = slash + 1, *e = s + n;
        if (p == e || e - p > 3)
            goto bad_bits;
        for (bits = 0; p < e; p++) {
            if (*p < '0' || *p > '9')
                goto bad_bits;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            goto bad_bits;
    }
    c->bits = (uint8_t)bits;
    for (unsigned i = bits; i < max; i++)
        if (c->a[i / 8] & (0x80u >> (i % 8))) {
            sb_errf(err, errlen, "%.*s: address bits set past the /%u prefix (write the network "
                    "address)", (int)(n > 60 ? 60 : n), s, bits);
            return SB_ECONFIG;
        }
    return 0;
bad_bits:
    sb_errf(err, errlen, "%.*s: the prefix length must be 0..%u", (int)(n > 60 ? 60 : n), s, max);
    return SB_ECONFIG;
}

int sb_cidrs_parse(const char *list, struct sb_cidrs *out, char *err, size_t errlen)
{
    const char *p = list ? list : "";

    out->n = 0;
    for (;;) {
        while (*p == ',' || space(*p))
            p++;
        if (!*p)
            return 0;
        size_t n = strcspn(p, ", \t");
        if (out->n == SB_CIDR_MAX) {
            sb_errf(err, errlen, "more than %d networks", SB_CIDR_MAX);
            out->n = 0;
            return SB_ECONFIG;
        }
        if (net_parse(p, n, &out->v[out->n], err, errlen) != 0) {
            out->n = 0;
            return SB_ECONFIG;
        }
        out->n++;
        p += n;
    }
}

int sb_cidrs_match(const struct sb_cidrs *c, const char *ip)
{
    uint8_t a[16], fam;

    return ip && addr_parse(ip, strlen(ip), a, &fam) && in_any(c, a, fam);
}

void sb_client_ip(const struct sb_cidrs *trusted, const char *peer, const char *xff, char *out,
                  size_t cap)
{
    uint8_t a[16], fam;
    size_t end;

    snprintf(out, cap, "%s", peer ? peer : "");
    if (!trusted || !trusted->n || !xff || !*xff || !peer ||
        !addr_parse(peer, strlen(peer), a, &fam) || !in_any(trusted, a, fam))
        return;
    end = strlen(xff);
    for (int hop = 0; hop < MAX_HOPS; hop++) {
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        /* not an address: the trusted hop that wrote it is the answer */
        if (!addr_parse(xff + start, end - start, a, &fam) ||
            !inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)cap))
            return;
        if (!in_any(trusted, a, fam) || start == 0)
            return;                    /* the client, or the leftmost of trusted hops */
        end = start - 1;
    }
}

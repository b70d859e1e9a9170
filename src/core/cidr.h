/*
 * cidr.h - lists of IP networks ("127.0.0.1, 10.0.0.0/8, ::1, fd00::/8") and
 * the client's address behind trusted reverse proxies (X-Forwarded-For).
 *
 * Behind nginx every request comes from the proxy's address, so the API's
 * per-address rate limit and sign-in throttle would count every client as
 * one.  The proxy appends the address it saw to X-Forwarded-For; anything
 * to the left of that came from the client and may be forged.  So the
 * header is believed only when the TCP peer is a trusted proxy, and read
 * from the right: the first address that is not itself a trusted proxy is
 * the client (the rule RFC 7239 s.7.4 gives for its Forwarded header, used
 * for the de-facto X-Forwarded-For that nginx writes).  An entry that is
 * not an IP address stops the walk at the proxy that wrote it.
 *
 * IPv4-mapped IPv6 addresses (::ffff:192.0.2.7, what a dual-stack socket
 * reports) are read as the IPv4 address.
 *
 * Pure: no I/O, no allocation, no logging; thread-safe on distinct objects.
 * Errors: 0 or SB_ECONFIG with a message in err.
 */
#ifndef SB_CORE_CIDR_H
#define SB_CORE_CIDR_H

#include <stddef.h>
#include <stdint.h>

#define SB_CIDR_MAX 32                 /* networks in one list */
#define SB_IP_STR   46                 /* INET6_ADDRSTRLEN */

struct sb_cidr {
    uint8_t fam;                       /* 4 or 6 */
    uint8_t bits;                      /* prefix length */
    uint8_t a[16];                     /* network address (4 or 16 bytes used) */
};

struct sb_cidrs {
    size_t n;
    struct sb_cidr v[SB_CIDR_MAX];
};

/* Parses a comma- or space-separated list of addresses and networks into
 * *out (emptied first; "" gives an empty list).  Host bits set under the
 * prefix are refused (10.0.0.1/8: a typo, most likely). */
int  sb_cidrs_parse(const char *list, struct sb_cidrs *out, char *err, size_t errlen);

/* 1 when ip (text) is in one of the networks, else 0 (also for text that is
 * not an address). */
int  sb_cidrs_match(const struct sb_cidrs *c, const char *ip);

/* The client's address for a request from peer carrying X-Forwarded-For
 * xff (NULL or "" when absent), into out[cap] (cap >= SB_IP_STR):
 * peer itself unless peer is trusted and xff names an untrusted address
 * to the right of anything forged (see above).  Addresses written back are
 * in canonical text form. */
void sb_client_ip(const struct sb_cidrs *trusted, const char *peer, const char *xff, char *out,
                  size_t cap);

#endif /* SB_CORE_CIDR_H */

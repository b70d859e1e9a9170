/*
 * test_cidr.c - network lists and the client address behind trusted
 * proxies (src/core/cidr.c): what X-Forwarded-For may and may not change.
 */
#include <string.h>

#include "core/cidr.h"
#include "core/err.h"
#include "tap.h"

static struct sb_cidrs px;

static void client(const char *peer, const char *xff, const char *want)
{
    char out[SB_IP_STR];
    sb_client_ip(&px, peer, xff, out, sizeof(out));
    CHECK_STR(out, want);
}

TEST(parse_lists)
{
    char err[160] = "";
    CHECK_EQ(sb_cidrs_parse("", &px, err, sizeof(err)), 0);
    CHECK_EQ(px.n, 0);
    CHECK_EQ(sb_cidrs_parse(NULL, &px, err, sizeof(err)), 0);
    CHECK_EQ(sb_cidrs_parse(" 127.0.0.1, 10.0.0.0/8 ::1,fd00::/8 ,", &px, err, sizeof(err)), 0);
    CHECK_EQ(px.n, 4);
    CHECK_EQ(px.v[1].bits, 8);
    CHECK_EQ(px.v[2].fam, 6);
    CHECK_EQ(px.v[2].bits, 128);
    /* refused, each with the reason */
    CHECK_EQ(sb_cidrs_parse("10.0.0.1/8", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "network address") != NULL);
    CHECK_EQ(px.n, 0);
    CHECK_EQ(sb_cidrs_parse("10.0.0.0/33", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "0..32") != NULL);
    CHECK_EQ(sb_cidrs_parse("fd00::/129", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK_EQ(sb_cidrs_parse("proxy.example", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "not an IP address") != NULL);
    CHECK_EQ(sb_cidrs_parse("10.0.0.0/", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK_EQ(sb_cidrs_parse("10.0.0.0/8x", &px, err, sizeof(err)), SB_ECONFIG);
    CHECK_EQ(sb_cidrs_parse("[::1]", &px, err, sizeof(err)), SB_ECONFIG);
    char many[33 * 12 + 1] = "";
    for (int i = 0; i < 33; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.0.%d.1 ", i);
    CHECK_EQ(sb_cidrs_parse(many, &px, err, sizeof(err)), SB_ECONFIG);
    CHECK(strstr(err, "more than 32") != NULL);
}

TEST(match_v4_v6_and_mapped)
{
    char err[160];
    REQUIRE(sb_cidrs_parse("10.0.0.0/8, 192.168.1.128/25, fd00::/8, 0.0.0.0/0 ::2", &px, err,
                           sizeof(err)) == 0);
    CHECK(sb_cidrs_match(&px, "10.255.0.1"));
    CHECK(sb_cidrs_match(&px, "192.168.1.200"));
    CHECK(sb_cidrs_match(&px, "fd12:3456::1"));
    CHECK(sb_cidrs_match(&px, "::ffff:10.1.2.3"));       /* dual-stack socket's form */
    CHECK(sb_cidrs_match(&px, "1.2.3.4"));               /* 0.0.0.0/0 */
    CHECK(!sb_cidrs_match(&px, "fe80::1"));
    CHECK(!sb_cidrs_match(&px, "not an address"));
    CHECK(!sb_cidrs_match(&px, NULL));
    REQUIRE(sb_cidrs_parse("192.168.1.128/25", &px, err, sizeof(err)) == 0);
    CHECK(!sb_cidrs_match(&px, "192.168.1.127"));
    CHECK(sb_cidrs_match(&px, "192.168.1.128"));
    CHECK(sb_cidrs_match(&px, "192.168.1.255"));
}

TEST(forwarded_for_from_trusted_proxies_only)
{
    char err[160];
    REQUIRE(sb_cidrs_parse("127.0.0.1, 10.0.0.0/8", &px, err, sizeof(err)) == 0);
    /* an untrusted peer cannot choose its address */
    client("198.51.100.9", "203.0.113.5", "198.51.100.9");
    /* nginx on loopback: the address it appended */
    client("127.0.0.1", "203.0.113.5", "203.0.113.5");
    client("::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5");
    /* what the client forged stands left of what the proxy saw */
    client("127.0.0.1", "1.1.1.1, 203.0.113.5", "203.0.113.5");
    /* two trusted hops (a load balancer, then nginx) */
    client("127.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.7", "203.0.113.5");
    /* every hop trusted: the leftmost */
    client("127.0.0.1", "10.0.0.8, 10.0.0.7", "10.0.0.8");
    /* no header, an empty one */
    client("127.0.0.1", NULL, "127.0.0.1");
    client("127.0.0.1", "", "127.0.0.1");
    /* garbage where the proxy wrote: the proxy that wrote it */
    client("127.0.0.1", "203.0.113.5, unknown", "127.0.0.1");
    client("127.0.0.1", "1.1.1.1, bogus, 10.0.0.7", "10.0.0.7");
    client("127.0.0.1", ",", "127.0.0.1");
    /* ports and brackets as some proxies write them; canonical output */
    client("127.0.0.1", "203.0.113.5:4711", "203.0.113.5");
    client("127.0.0.1", "[2001:DB8::0001]:4711", "2001:db8::1");
    client("127.0.0.1", " 2001:db8:0:0::2 ", "2001:db8::2");
    /* no trusted proxies at all: the header means nothing */
    REQUIRE(sb_cidrs_parse("", &px, err, sizeof(err)) == 0);
    client("127.0.0.1", "203.0.113.5", "127.0.0.1");
}

TEST(long_chains_are_bounded)
{
    char err[160], xff[64 * 16 + 32] = "203.0.113.5";
    REQUIRE(sb_cidrs_parse("10.0.0.0/8", &px, err, sizeof(err)) == 0);
    for (int i = 0; i < 64; i++)
        snprintf(xff + strlen(xff), sizeof(xff) - strlen(xff), ",10.0.%d.%d", i / 200, i % 200 + 1);
    char out[SB_IP_STR];
    sb_client_ip(&px, "10.9.9.9", xff, out, sizeof(out));
    /* 64 hops looked at, all trusted: the last one looked at, never past it */
    CHECK_STR(out, "10.0.0.1");
}

int main(void)
{
    TAP_START();
    RUN(parse_lists);
    RUN(match_v4_v6_and_mapped);
    RUN(forwarded_for_from_trusted_proxies_only);
    RUN(long_chains_are_bounded);
    TAP_END();
}

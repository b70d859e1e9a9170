/*
 * test_fwd.c - the forwarding messages between nodes (src/api/fwd.h): the
 * seeds of fuzz/corpus/fwd/ parse to what they say, and each way a message
 * or a forwarded write can be malformed is refused whole.  The forwarding
 * itself, through a real Redis between three daemons, is in
 * tests/integ/test_cluster.py.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/fwd.h"
#include "core/err.h"
#include "tap.h"

static int parse(const char *s, struct sb_fwd_msg *m)
{
    return sb_api__fwd_parse(s, strlen(s), m);
}

static char *seed(const char *name)
{
    char path[256], *buf = calloc(1, 4096);
    snprintf(path, sizeof(path), "fuzz/corpus/fwd/%s", name);   /* run from the root */
    FILE *f = fopen(path, "r");
    if (f && buf)
        buf[fread(buf, 1, 4095, f)] = '\0';
    if (f)
        fclose(f);
    return buf;
}

TEST(messages)
{
    struct sb_fwd_msg m;
    char *s = seed("write");
    REQUIRE(s && *s);
    REQUIRE(parse(s, &m) == 0);
    CHECK_EQ(m.op, SB_FWD_REQ);
    CHECK_STR(m.kind, "write");
    CHECK_STR(m.from.node, "n2");
    CHECK_EQ(m.from.id, 7);
    struct sb_fwd_write w;
    REQUIRE(sb_api__fwd_write_parse(m.body, &w) == 0);
    CHECK_STR(w.point, "vav-1-01.clg_sp");
    CHECK_EQ(w.point_id, 42);
    CHECK_DBL(w.value, 24.5, 0);
    CHECK_EQ(w.priority, 8);
    CHECK_EQ(w.relinquish, 0);
    CHECK_EQ(w.uid, 1);
    CHECK_STR(w.username, "op");
    CHECK_EQ(w.expires, 1795651200123);
    CHECK(json_is_object(w.asked));
    json_decref(m.body);
    free(s);

    s = seed("release");
    REQUIRE(s && parse(s, &m) == 0);
    REQUIRE(sb_api__fwd_write_parse(m.body, &w) == 0);
    CHECK(w.relinquish && isnan(w.value));
    json_decref(m.body);
    free(s);

    s = seed("reply");
    REQUIRE(s && parse(s, &m) == 0);
    CHECK_EQ(m.op, SB_FWD_REP);
    CHECK_STR(m.kind, "");
    CHECK_STR(m.from.node, "n1");
    CHECK_EQ(json_integer_value(json_object_get(m.body, "res")), 0);
    json_decref(m.body);
    free(s);
}

TEST(malformed_messages)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"op\":\"req\",\"kind\":\"write\",\"id\":1,\"from\":\"n2\"}",             /* no body */
        "{\"op\":\"req\",\"kind\":\"write\",\"id\":1,\"from\":\"n2\",\"body\":[]}",
        "{\"op\":\"req\",\"kind\":\"write\",\"id\":0,\"from\":\"n2\",\"body\":{}}",  /* id > 0 */
        "{\"op\":\"req\",\"kind\":\"write\",\"id\":\"1\",\"from\":\"n2\",\"body\":{}}",
        "{\"op\":\"req\",\"kind\":\"\",\"id\":1,\"from\":\"n2\",\"body\":{}}",
        "{\"op\":\"req\",\"id\":1,\"from\":\"n2\",\"body\":{}}",
        "{\"op\":\"req\",\"kind\":\"write\",\"id\":1,\"from\":\"\",\"body\":{}}",
        "{\"op\":\"ask\",\"kind\":\"write\",\"id\":1,\"from\":\"n2\",\"body\":{}}",
        "{\"op\":\"rep\",\"id\":1,\"id\":2,\"from\":\"n2\",\"body\":{}}",           /* duplicate */
        "{\"op\":\"req\",\"kind\":\"a-kind-far-too-long\",\"id\":1,\"from\":\"n2\",\"body\":{}}",
        "{\"op\":\"rep\",\"id\":1,\"from\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxxxxxxxxxx\",\"body\":{}}",                                /* node > 63 */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sb_fwd_msg m;
        int rc = parse(bad[i], &m);
        CHECK_EQ(rc, SB_EPROTO);
        CHECK(m.body == NULL);
        if (rc != SB_EPROTO)
            printf("# accepted: %s\n", bad[i]);
    }
}

static int write_rc(const char *body)
{
    struct sb_fwd_write w;
    json_t *b = json_loads(body, 0, NULL);
    int rc = b ? sb_api__fwd_write_parse(b, &w) : SB_ENOMEM;
    json_decref(b);
    return rc;
}

#define GOOD_REST "\"asked\":{},\"uid\":1,\"username\":\"op\",\"ip\":\"::1\",\"expires\":0"

TEST(malformed_writes)
{
    CHECK_EQ(write_rc("{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":0,"
                      "\"relinquish\":false," GOOD_REST "}"), 0);
    static const char *const bad[] = {
        "{\"point_id\":3,\"value\":1,\"priority\":8,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":0,\"value\":1,\"priority\":8,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":4294967296,\"value\":1,\"priority\":8,\"relinquish\":false,"
        GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":17,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":-1,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":null,\"priority\":8,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":\"1\",\"priority\":8,\"relinquish\":false," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":8,\"relinquish\":0," GOOD_REST "}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":8,\"relinquish\":false,"
        "\"asked\":[],\"uid\":1,\"username\":\"op\",\"ip\":\"::1\",\"expires\":0}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":8,\"relinquish\":false,"
        "\"asked\":{},\"uid\":1,\"username\":\"op\",\"ip\":\"::1\",\"expires\":-5}",
        "{\"point\":\"p\",\"point_id\":3,\"value\":1,\"priority\":8,\"relinquish\":false,"
        "\"asked\":{},\"uid\":1,\"ip\":\"::1\",\"expires\":0}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_EQ(write_rc(bad[i]), SB_EPROTO);
    /* a release needs no value */
    CHECK_EQ(write_rc("{\"point\":\"p\",\"point_id\":3,\"priority\":8,\"relinquish\":true,"
                      GOOD_REST "}"), 0);
}

int main(void)
{
    TAP_START();
    RUN(messages);
    RUN(malformed_messages);
    RUN(malformed_writes);
    TAP_END();
}

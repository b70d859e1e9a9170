/* test_parse.c - RFC 3339 times and the CSV / JSON-lines reading parser. */
#include <string.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "ingest/parse.h"
#include "tap.h"

static int64_t T(const char *s)
{
    int64_t ms = 0;
    return sb_time_parse(s, strlen(s), &ms) == 0 ? ms : -1;
}

TEST(time_parse)
{
    CHECK_EQ(T("1970-01-01T00:00:00Z"), 0);
    CHECK_EQ(T("2026-11-27T10:00:00Z"), 1795773600000LL);          /* python: datetime(...).timestamp() */
    CHECK_EQ(T("2026-11-27T10:00:00.5Z"), 1795773600500LL);
    CHECK_EQ(T("2026-11-27T10:00:00.123456Z"), 1795773600123LL);   /* truncated to ms */
    CHECK_EQ(T("2026-11-27T05:00:00-05:00"), 1795773600000LL);
    CHECK_EQ(T("2026-11-27 15:30:00+05:30"), 1795773600000LL);
    CHECK_EQ(T("2024-02-29T00:00:00Z"), 1709164800000LL);           /* leap day */
    CHECK_EQ(T("1795773600000"), 1795773600000LL);                  /* epoch ms */
    CHECK_EQ(T("-1000"), -1000);
    CHECK_EQ(T("2026-11-27T10:00:00"), -1);                         /* no zone */
    CHECK_EQ(T("2025-02-29T00:00:00Z"), -1);                        /* not a leap year */
    CHECK_EQ(T("2026-13-01T00:00:00Z"), -1);
    CHECK_EQ(T("2026-11-27T24:00:00Z"), -1);
    CHECK_EQ(T("2026-11-27T10:00:00+25:00"), -1);
    CHECK_EQ(T("2026-11-27T10:00:00Zjunk"), -1);
    CHECK_EQ(T(""), -1);
    CHECK_EQ(T("12a"), -1);
    char buf[40];
    CHECK_STR(sb_time_format(1795773600123LL, buf, sizeof(buf)), "2026-11-27T10:00:00.123Z");
    CHECK_STR(sb_time_format(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999Z");
    /* format -> parse round trip over a wide range */
    uint64_t seed = 3;
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t t = (int64_t)(tap_rand(&seed) % 8000000000000ULL) - 1000000000000LL;
        sb_time_format(t, buf, sizeof(buf));
        bad += T(buf) != t;
    }
    CHECK_EQ(bad, 0);
}

static int resolve(void *ud, const char *name, uint32_t *id)
{
    (void)ud;
    if (strcmp(name, "ahu-1.sat") == 0)
        *id = 7;
    else if (strcmp(name, "zone \"a\"") == 0)
        *id = 8;
    else
        return SB_ENOENT;
    return 0;
}

static int line(struct sb_rdparse *p, const char *s, struct sb_reading *out, size_t *n, char *err)
{
    return sb_rdparse_line(p, s, strlen(s), out, SB_RDPARSE_MAX_COLS, n, err, 200);
}

TEST(csv_long)
{
    static struct sb_reading out[SB_RDPARSE_MAX_COLS];
    struct sb_rdparse *p;
    char err[200];
    size_t n;
    REQUIRE(sb_rdparse_new(SB_RDFMT_CSV, resolve, NULL, &p) == 0);
    CHECK_EQ(line(p, "# a comment", out, &n, err), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(line(p, "Time, Point ,value,quality\r", out, &n, err), 0);   /* any order */
    CHECK_EQ(line(p, "2026-11-27T10:00:00Z,ahu-1.sat,21.5,ok", out, &n, err), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].point, 7);
    CHECK_EQ(out[0].t, 1795773600000LL);
    CHECK_DBL(out[0].v, 21.5, 0);
    CHECK_EQ(out[0].q, 0);
    CHECK_EQ(line(p, "1795773600000,12,-3e2,stale|fault", out, &n, err), 0);
    CHECK_EQ(out[0].point, 12);
    CHECK_DBL(out[0].v, -300, 0);
    CHECK_EQ(out[0].q, SB_Q_STALE | SB_Q_FAULT);
    CHECK_EQ(line(p, "1795773600000,\"zone \"\"a\"\"\",1,0", out, &n, err), 0);
    CHECK_EQ(out[0].point, 8);
    CHECK_EQ(line(p, "1795773600000,nope,1,0", out, &n, err), SB_ENOENT);
    CHECK(strstr(err, "nope") != NULL);
    CHECK_EQ(line(p, "1795773600000,7,1x,0", out, &n, err), SB_EINVAL);
    CHECK(strstr(err, "value") != NULL);
    CHECK_EQ(line(p, "yesterday,7,1,0", out, &n, err), SB_EINVAL);
    CHECK(strstr(err, "time") != NULL);
    CHECK_EQ(line(p, "1795773600000,7,1", out, &n, err), SB_EINVAL);     /* 3 of 4 columns */
    CHECK(strstr(err, "columns") != NULL);
    CHECK_EQ(line(p, "1795773600000,7,1,shiny", out, &n, err), SB_EINVAL);
    CHECK_EQ(line(p, "1795773600000,\"7,1,0", out, &n, err), SB_EINVAL);  /* open quote */
    sb_rdparse_free(p);
    /* a header that is neither long nor wide */
    REQUIRE(sb_rdparse_new(SB_RDFMT_CSV, resolve, NULL, &p) == 0);
    CHECK_EQ(line(p, "a,b,c", out, &n, err), SB_EINVAL);
    CHECK(strstr(err, "header") != NULL);
    sb_rdparse_free(p);
}

TEST(csv_wide)
{
    static struct sb_reading out[SB_RDPARSE_MAX_COLS];
    struct sb_rdparse *p;
    char err[200];
    size_t n;
    REQUIRE(sb_rdparse_new(SB_RDFMT_CSV, resolve, NULL, &p) == 0);
    CHECK_EQ(line(p, "time,ahu-1.sat,12", out, &n, err), 0);
    CHECK_EQ(line(p, "2026-11-27T10:00:00Z,13.5,", out, &n, err), 0);
    CHECK_EQ(n, 1);   /* empty cell: no reading */
    CHECK_EQ(out[0].point, 7);
    CHECK_EQ(line(p, "2026-11-27T10:01:00Z,13.6,0.25", out, &n, err), 0);
    CHECK_EQ(n, 2);
    CHECK_EQ(out[1].point, 12);
    CHECK_DBL(out[1].v, 0.25, 0);
    CHECK_EQ(line(p, "2026-11-27T10:01:00Z,13.6", out, &n, err), SB_EINVAL);
    sb_rdparse_free(p);
    REQUIRE(sb_rdparse_new(SB_RDFMT_CSV, resolve, NULL, &p) == 0);
    CHECK_EQ(line(p, "time,ahu-1.sat,ghost", out, &n, err), SB_ENOENT);
    CHECK(strstr(err, "ghost") != NULL);
    sb_rdparse_free(p);
}

TEST(jsonl)
{
    struct sb_reading out[4];
    struct sb_rdparse *p;
    char err[200];
    size_t n;
    REQUIRE(sb_rdparse_new(SB_RDFMT_JSONL, resolve, NULL, &p) == 0);
    const char *a = "{\"point\":\"ahu-1.sat\",\"t\":\"2026-11-27T10:00:00Z\",\"v\":21.25,\"q\":\"estimated\"}";
    CHECK_EQ(sb_rdparse_line(p, a, strlen(a), out, 4, &n, err, 200), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(out[0].point, 7);
    CHECK_EQ(out[0].q, SB_Q_ESTIMATED);
    CHECK_DBL(out[0].v, 21.25, 0);
    const char *b = "{\"point\":9,\"time\":1795773600000,\"value\":-1}";
    CHECK_EQ(sb_rdparse_line(p, b, strlen(b), out, 4, &n, err, 200), 0);
    CHECK_EQ(out[0].point, 9);
    CHECK_EQ(out[0].t, 1795773600000LL);
    const char *bad[] = {
        "{\"point\":9,\"t\":1,\"v\":\"x\"}", "{\"point\":0,\"t\":1,\"v\":1}", "[1,2]",
        "{\"point\":9,\"t\":1,\"v\":1,\"v\":2}", "{\"point\":9,\"t\":\"noon\",\"v\":1}",
        "{\"point\":9,\"t\":1,\"v\":1,\"q\":99}", "{not json",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = 0;
        CHECK(sb_rdparse_line(p, bad[i], strlen(bad[i]), out, 4, &n, err, 200) != 0);
        CHECK(err[0] != 0);
    }
    sb_rdparse_free(p);
}

int main(void)
{
    TAP_START();
    RUN(time_parse);
    RUN(csv_long);
    RUN(csv_wide);
    RUN(jsonl);
    TAP_END();
}

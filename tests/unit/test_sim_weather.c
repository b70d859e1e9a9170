/* test_sim_weather.c - EPW reader, interpolation and solar geometry
 * (src/sim/weather/).  Expected row values were read by hand from
 * sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw. */
#include "tap.h"

#include "core/err.h"
#include "sim/weather/epw.h"
#include "sim/weather/solar.h"

static struct sb_epw *boston;
static char *boston_text;
static size_t boston_len;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (size_t)n;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    return buf;
}

/* Path of a repository file, from this source file's location. */
static void repo_path(char *out, size_t cap, const char *rel)
{
    const char *f = __FILE__, *p = strstr(f, "tests/unit/");
    const char *env = getenv("SBEMS_SRCDIR");

    if (env)
        snprintf(out, cap, "%s/%s", env, rel);
    else if (p)
        snprintf(out, cap, "%.*s%s", (int)(p - f), f, rel);
    else
        snprintf(out, cap, "%s", rel);
}

TEST(parse_boston_header_and_rows)
{
    char path[512], err[256] = "";

    repo_path(path, sizeof path, "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw");
    boston_text = slurp(path, &boston_len);
    REQUIRE(boston_text != NULL);
    boston = malloc(sizeof *boston);
    REQUIRE(boston != NULL);
    CHECK_EQ(sb_epw_parse(boston_text, boston_len, boston, err, sizeof err), 0);
    CHECK_STR(boston->city, "Boston Logan IntL Arpt");
    CHECK_STR(boston->wmo, "725090");
    CHECK_DBL(boston->lat, 42.37, 1e-9);
    CHECK_DBL(boston->lon, -71.02, 1e-9);
    CHECK_DBL(boston->tz_h, -5.0, 1e-9);
    CHECK_DBL(boston->elev_m, 6.0, 1e-9);
    /* row 1: 1976,1,1,1 ... 1.7,-3.9,67,...,0,0,0 (GHI/DNI/DHI), wind 6.2 */
    CHECK_DBL(boston->h[0].tdb, 1.7, 1e-6);
    CHECK_DBL(boston->h[0].tdp, -3.9, 1e-6);
    CHECK_DBL(boston->h[0].rh, 67, 1e-6);
    CHECK_DBL(boston->h[0].ghi, 0, 1e-6);
    CHECK_DBL(boston->h[0].wind, 6.2, 1e-6);
    /* row 13 (Jan 1, hour ending 13:00): 2.2,-6.1,55; GHI 371, DNI 688, DHI 93; wind 5.7 */
    CHECK_DBL(boston->h[12].tdb, 2.2, 1e-6);
    CHECK_DBL(boston->h[12].tdp, -6.1, 1e-6);
    CHECK_DBL(boston->h[12].rh, 55, 1e-6);
    CHECK_DBL(boston->h[12].ghi, 371, 1e-6);
    CHECK_DBL(boston->h[12].dni, 688, 1e-6);
    CHECK_DBL(boston->h[12].dhi, 93, 1e-6);
    CHECK_DBL(boston->h[12].wind, 5.7, 1e-6);
    /* last row, Dec 31 hour 24: 5.0,-3.3,53, wind 7.2 */
    CHECK_DBL(boston->h[8759].tdb, 5.0, 1e-6);
    CHECK_DBL(boston->h[8759].tdp, -3.3, 1e-6);
    CHECK_DBL(boston->h[8759].wind, 7.2, 1e-6);
}

TEST(houston_parses)
{
    char path[512], err[256] = "";
    struct sb_epw *w = malloc(sizeof *w);

    REQUIRE(w != NULL);
    repo_path(path, sizeof path, "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw");
    CHECK_EQ(sb_epw_load(path, w, err, sizeof err), 0);
    CHECK_DBL(w->lat, 30.0, 1e-9);
    CHECK_DBL(w->tz_h, -6.0, 1e-9);
    CHECK_EQ(sb_epw_load("/nonexistent/x.epw", w, err, sizeof err), SB_EIO);
    free(w);
}

TEST(interpolation_and_wrap)
{
    struct sb_weather a;

    REQUIRE(boston != NULL);
    /* t = 12.5 h: halfway between the rows ending at 12:00 and 13:00 */
    sb_epw_at(boston, 12.5, &a);
    CHECK_DBL(a.tdb, 0.5 * (boston->h[11].tdb + boston->h[12].tdb), 1e-6);
    CHECK_DBL(a.wind, 0.5 * (boston->h[11].wind + boston->h[12].wind), 1e-6);
    /* irradiance is an hour total centred at 12:30: exactly row 13 */
    CHECK_DBL(a.ghi, 371, 1e-6);
    CHECK_DBL(a.dni, 688, 1e-6);
    sb_epw_at(boston, 12.25, &a);
    CHECK_DBL(a.tdb, 0.75 * boston->h[11].tdb + 0.25 * boston->h[12].tdb, 1e-6);
    /* t = 0 is Dec 31 24:00 of the typical year; a year later is the same */
    sb_epw_at(boston, 0.0, &a);
    CHECK_DBL(a.tdb, 5.0, 1e-6);
    sb_epw_at(boston, 8760.0 + 0.25, &a);
    CHECK_DBL(a.tdb, 0.75 * 5.0 + 0.25 * 1.7, 1e-6);
    sb_epw_at(boston, -0.75, &a);       /* wraps backwards */
    CHECK_DBL(a.tdb, 0.25 * boston->h[8758].tdb + 0.75 * 5.0, 1e-6);
}

TEST(hour_of_year)
{
    /* 2023-01-01 00:00 EST = 05:00Z */
    CHECK_DBL(sb_epw_hour_of_year(1672549200000LL, -5), 0.0, 1e-9);
    /* 2023-07-10 00:00 EST: day 191 -> 190 * 24 */
    CHECK_DBL(sb_epw_hour_of_year(1688965200000LL, -5), 190 * 24.0, 1e-9);
    /* leap year 2024: Feb 29 12:00 EST reuses Feb 28, Mar 1 00:00 aligns with day 60 */
    CHECK_DBL(sb_epw_hour_of_year(1709226000000LL, -5), 58 * 24.0 + 12, 1e-9);
    CHECK_DBL(sb_epw_hour_of_year(1709269200000LL, -5), 59 * 24.0, 1e-9);
    /* Dec 31 2024 23:00 EST, leap year: hour 8759 */
    CHECK_DBL(sb_epw_hour_of_year(1735704000000LL, -5), 8759.0, 1e-9);
}

TEST(solar_position_known_dates)
{
    struct sb_solar s;
    double noon;

    /* declination at the solstices and an equinox (D&B Table 1.6.1: 23.45) */
    sb_solar_position(42.37, -71.02, -5, 171 * 24 + 12, &s);    /* Jun 21 */
    CHECK_DBL(s.decl_deg, 23.45, 0.1);
    sb_solar_position(42.37, -71.02, -5, 354 * 24 + 12, &s);    /* Dec 21 */
    CHECK_DBL(s.decl_deg, -23.45, 0.1);
    sb_solar_position(42.37, -71.02, -5, 78 * 24 + 12, &s);     /* Mar 20 */
    CHECK(fabs(s.decl_deg) < 0.5);
    /* equation of time extremes: ~+16.4 min early Nov, ~-14.2 min mid Feb */
    sb_solar_position(42.37, -71.02, -5, 306 * 24 + 12, &s);
    CHECK_DBL(s.eot_min, 16.4, 0.4);
    sb_solar_position(42.37, -71.02, -5, 41 * 24 + 12, &s);
    CHECK_DBL(s.eot_min, -14.2, 0.4);
    /* Boston solar noon on Jun 21: clock 12 h - (4 (lon - 15 tz) + E)/60,
     * zenith = lat - decl, the south facade sees cos(theta) = sin(zenith) */
    sb_solar_position(42.37, -71.02, -5, 171 * 24 + 12, &s);
    noon = 12.0 - (4.0 * (-71.02 + 75.0) + s.eot_min) / 60.0;
    sb_solar_position(42.37, -71.02, -5, 171 * 24 + noon, &s);
    CHECK_DBL(s.hour_angle_deg, 0.0, 0.02);
    CHECK_DBL(s.zenith_deg, 42.37 - s.decl_deg, 0.02);
    CHECK_DBL(sb_solar_cos_incidence(&s, SB_FACADE_S), sin((42.37 - s.decl_deg) * M_PI / 180), 1e-3);
    CHECK_DBL(sb_solar_cos_incidence(&s, SB_FACADE_N), 0.0, 1e-9);
    CHECK(sb_solar_cos_incidence(&s, SB_FACADE_E) < 0.01);
    /* morning: the sun is east (negative azimuth), the east facade gets beam */
    sb_solar_position(42.37, -71.02, -5, 171 * 24 + 8, &s);
    CHECK(s.azimuth_deg < -60);
    CHECK(sb_solar_cos_incidence(&s, SB_FACADE_E) > 0.5);
    CHECK_DBL(sb_solar_cos_incidence(&s, SB_FACADE_W), 0.0, 1e-9);
    /* isotropic sky on a vertical surface: beam + half the diffuse + half the ground */
    CHECK_DBL(sb_solar_vertical(&s, SB_FACADE_E, 700, 100, 500, 0.2),
              700 * sb_solar_cos_incidence(&s, SB_FACADE_E) + 50 + 50, 1e-9);
    /* night: no beam on any facade */
    sb_solar_position(42.37, -71.02, -5, 171 * 24 + 1, &s);
    CHECK(s.zenith_deg > 90);
    CHECK_DBL(sb_solar_vertical(&s, SB_FACADE_S, 0, 0, 0, 0.2), 0, 1e-12);
}

/* Copy of the Boston text with field `field` (1-based) of line `line`
 * replaced by `with`. */
static char *mutate(int line, int field, const char *with, size_t *len)
{
    const char *s = boston_text, *end = boston_text + boston_len;
    const char *a, *b;
    char *out;
    int l = 1, f = 1;

    while (l < line && s < end) {
        if (*s++ == '\n')
            l++;
    }
    for (a = s; f < field && a < end && *a != '\n'; a++)
        if (*a == ',')
            f++;
    for (b = a; b < end && *b != ',' && *b != '\r' && *b != '\n'; b++)
        ;
    out = malloc(boston_len + strlen(with) + 1);
    if (!out)
        return NULL;
    memcpy(out, boston_text, (size_t)(a - boston_text));
    memcpy(out + (a - boston_text), with, strlen(with));
    memcpy(out + (a - boston_text) + strlen(with), b, (size_t)(end - b));
    *len = boston_len - (size_t)(b - a) + strlen(with);
    return out;
}

static void expect_error(int line, int field, const char *with, const char *msg)
{
    char err[256] = "";
    size_t len = 0;
    char *t = mutate(line, field, with, &len);
    struct sb_epw *w = malloc(sizeof *w);

    if (!t || !w) {
        TAP_FAIL("out of memory");
    } else {
        CHECK_EQ(sb_epw_parse(t, len, w, err, sizeof err), SB_EINVAL);
        if (!strstr(err, msg))
            TAP_FAIL("error \"%s\" lacks \"%s\"", err, msg);
    }
    free(t);
    free(w);
}

TEST(malformed_rejected_with_line_and_field)
{
    char err[256] = "";
    struct sb_epw *w = malloc(sizeof *w);

    REQUIRE(boston_text != NULL && w != NULL);
    expect_error(108, 7, "abc", "line 108 field 7 (dry-bulb)");
    expect_error(108, 7, "99.9", "line 108 field 7 (dry-bulb)");   /* EPW missing code */
    expect_error(500, 15, "9999", "line 500 field 15 (direct normal)");
    expect_error(20, 4, "7", "line 20 field 4 (hour)");
    expect_error(9, 2, "2", "line 9 field 2 (month)");
    expect_error(8761, 22, "-1", "line 8761 field 22 (wind speed)");
    expect_error(1, 7, "91", "line 1 field 7 (latitude)");
    expect_error(3, 1, "TYPICAL", "line 3 field 1");
    expect_error(9, 7, "1e999", "line 9 field 7");                 /* overflow */
    expect_error(9, 7, "nan", "line 9 field 7");
    /* truncated: header plus 100 rows */
    {
        const char *s = boston_text;
        int l = 0;

        while (l < 108 && (s = strchr(s, '\n')) != NULL) {
            s++;
            l++;
        }
        REQUIRE(s != NULL);
        CHECK_EQ(sb_epw_parse(boston_text, (size_t)(s - boston_text), w, err, sizeof err), SB_EINVAL);
        CHECK(strstr(err, "after 100 data rows") != NULL);
    }
    /* one extra row */
    {
        size_t n = boston_len + 200;
        char *t = malloc(n);

        REQUIRE(t != NULL);
        memcpy(t, boston_text, boston_len);
        n = boston_len + (size_t)snprintf(t + boston_len, 200, "2003,1,1,1,0,x,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n");
        CHECK_EQ(sb_epw_parse(t, n, w, err, sizeof err), SB_EINVAL);
        CHECK(strstr(err, "more than 8760") != NULL);
        free(t);
    }
    CHECK_EQ(sb_epw_parse("", 0, w, err, sizeof err), SB_EINVAL);
    free(w);
}

int main(void)
{
    TAP_START();
    RUN(parse_boston_header_and_rows);
    RUN(houston_parses);
    RUN(interpolation_and_wrap);
    RUN(hour_of_year);
    RUN(solar_position_known_dates);
    RUN(malformed_rejected_with_line_and_field);
    free(boston);
    free(boston_text);
    TAP_END();
}

/* test_boptest.c - the pure parts of the BOPTEST adapter (control/bop_map.c):
 * zones found from BOPTEST's signal names (one zone, several zones, supply
 * air setpoints left out, zones without a setpoint named), a map document
 * checked against the signal lists, and the supervisory policy: optimal
 * start as late as the learnt rate allows, the rate learnt from recoveries,
 * releases ramped, the deadband kept. */
#include "tap.h"

#include <jansson.h>

#include "control/boptest.h"
#include "core/err.h"

static json_t *obj(const char *const *keys)
{
    json_t *o = json_object();
    for (; *keys; keys++)
        json_object_set_new(o, *keys, json_pack("{s:f,s:f,s:s}", "Minimum", 278.15, "Maximum", 308.15, "Unit", "K"));
    return o;
}

TEST(one_zone_by_its_only_signals)
{
    const char *in[] = { "fcu_oveFan_u", "con_oveTSetHea_u", "con_oveTSetCoo_u", "fcu_oveTSup_u", NULL };
    const char *me[] = { "fcu_reaPCoo_y", "zon_reaTRooAir_y", "zon_reaCO2RooAir_y", NULL };
    const char *fc[] = { "TDryBul", "LowerSetp[zon]", "UpperSetp[zon]", "PriceElectricPowerDynamic", NULL };
    json_t *i = obj(in), *m = obj(me), *f = obj(fc);
    struct sb_bop_map map;
    char why[256];

    REQUIRE(sb_bop_map_find(i, m, f, &map, why, sizeof(why)) == 0);
    CHECK_EQ(map.n, 1);
    CHECK_STR(map.z[0].name, "zon");
    CHECK_STR(map.z[0].temp, "zon_reaTRooAir_y");
    CHECK_STR(map.z[0].heat, "con_oveTSetHea_u");
    CHECK_STR(map.z[0].cool, "con_oveTSetCoo_u");
    CHECK_DBL(map.z[0].heat_min, 278.15, 1e-9);
    CHECK_STR(map.price, "PriceElectricPowerDynamic");
    CHECK_STR(why, "");
    json_decref(i), json_decref(m), json_decref(f);
}

TEST(zones_by_name_and_what_is_left_out)
{
    const char *in[] = { "hvac_oveAhu_TSupSet_u", "hvac_oveZonSupCor_TZonHeaSet_u", "hvac_oveZonSupCor_TZonCooSet_u",
                         "hvac_oveZonSupNor_TZonCooSet_u", NULL };
    const char *me[] = { "hvac_reaZonCor_TZon_y", "hvac_reaZonNor_TZon_y", "hvac_reaAhu_TSup_y", NULL };
    const char *fc[] = { "LowerSetp[cor]", "UpperSetp[cor]", "LowerSetp[nor]", "UpperSetp[nor]", "LowerSetp[sou]",
                         "UpperSetp[sou]", NULL };
    json_t *i = obj(in), *m = obj(me), *f = obj(fc);
    struct sb_bop_map map;
    char why[256];

    REQUIRE(sb_bop_map_find(i, m, f, &map, why, sizeof(why)) == 0);
    CHECK_EQ(map.n, 2);
    CHECK_STR(map.z[0].temp, "hvac_reaZonCor_TZon_y");
    CHECK_STR(map.z[0].heat, "hvac_oveZonSupCor_TZonHeaSet_u");
    CHECK_STR(map.z[1].name, "nor");
    CHECK_STR(map.z[1].heat, "");                       /* only cooling in nor */
    CHECK_STR(map.z[1].cool, "hvac_oveZonSupNor_TZonCooSet_u");
    CHECK_STR(why, "zone sou: no zone temperature measurement names it");
    CHECK_STR(map.price, "");
    json_decref(f);

    /* no bounds at all: nothing to control */
    f = obj((const char *[]){ "TDryBul", NULL });
    CHECK_EQ(sb_bop_map_find(i, m, f, &map, why, sizeof(why)), SB_ENOENT);
    CHECK(strstr(why, "--map") != NULL);
    json_decref(i), json_decref(m), json_decref(f);
}

TEST(map_document_checked)
{
    const char *in[] = { "a_u", "b_u", NULL };
    const char *me[] = { "t_y", NULL };
    const char *fc[] = { "LowerSetp[z]", "UpperSetp[z]", "PriceElectricPowerConstant", NULL };
    json_t *i = obj(in), *m = obj(me), *f = obj(fc), *d;
    struct sb_bop_map map;
    char why[256];

    d = json_loads("{\"zones\":[{\"name\":\"z\",\"temp\":\"t_y\",\"heat\":\"a_u\",\"cool\":\"b_u\"}]}", 0, NULL);
    REQUIRE(sb_bop_map_load(d, i, m, f, &map, why, sizeof(why)) == 0);
    CHECK_EQ(map.n, 1);
    CHECK_STR(map.z[0].cool, "b_u");
    CHECK_STR(map.price, "PriceElectricPowerConstant");
    json_decref(d);

    d = json_loads("{\"zones\":[{\"name\":\"z\",\"temp\":\"t_y\",\"heat\":\"x_u\"}]}", 0, NULL);
    CHECK_EQ(sb_bop_map_load(d, i, m, f, &map, why, sizeof(why)), SB_EINVAL);
    CHECK_STR(why, "zones[0].heat: the test case has no signal \"x_u\"");
    json_decref(d);

    d = json_loads("{\"zones\":[{\"name\":\"q\",\"temp\":\"t_y\",\"heat\":\"a_u\"}]}", 0, NULL);
    CHECK_EQ(sb_bop_map_load(d, i, m, f, &map, why, sizeof(why)), SB_EINVAL);
    CHECK(strstr(why, "LowerSetp[q]") != NULL);
    json_decref(d);

    d = json_loads("{\"zones\":[{\"name\":\"z\",\"temp\":\"t_y\"}]}", 0, NULL);
    CHECK_EQ(sb_bop_map_load(d, i, m, f, &map, why, sizeof(why)), SB_EINVAL);
    CHECK_STR(why, "zones[0]: give heat, cool or both");
    json_decref(d);

    d = json_loads("{\"zones\":[]}", 0, NULL);
    CHECK_EQ(sb_bop_map_load(d, i, m, f, &map, why, sizeof(why)), SB_EINVAL);
    json_decref(d);
    json_decref(i), json_decref(m), json_decref(f);
}

/* Bounds over 8 h at 15 min: unoccupied 15/30 degC for the first 3 h, then
 * occupied 21/24 degC. */
static void day(double *lo, double *hi, size_t n, size_t occ_from)
{
    for (size_t k = 0; k < n; k++) {
        lo[k] = k < occ_from ? 288.15 : 294.15;
        hi[k] = k < occ_from ? 303.15 : 297.15;
    }
}

TEST(optimal_start_as_late_as_the_rate_allows)
{
    struct sb_bop_policy p;
    struct sb_bop_zstate s;
    double lo[32], hi[32], h, c;

    sb_bop_policy_default(&p);
    day(lo, hi, 32, 12);                   /* occupancy in 3 h */
    /* 16 degC and 2 K/h: 5.3 K need 2.65 h, so not yet at 3 h ahead ... */
    sb_bop_zstate_init(&s, &p);
    sb_bop_decide(&p, &s, lo, hi, 32, 289.15, 900, &h, &c);
    CHECK_DBL(h, 288.15 + 0.3, 1e-9);
    CHECK_DBL(c, 303.15 - 0.3, 1e-9);
    /* ... but 2.5 h ahead (10 steps) it is time: the recovery starts */
    sb_bop_zstate_init(&s, &p);
    sb_bop_decide(&p, &s, lo + 2, hi + 2, 30, 289.15, 900, &h, &c);
    CHECK_DBL(h, 294.15 + 0.3, 1e-9);
    /* the cooling setpoint may not come down yet (the zone is far below it),
     * and keeps the deadband */
    CHECK(c - h >= p.deadband_k - 1e-9);
    /* a zone already warm waits until the last step */
    sb_bop_zstate_init(&s, &p);
    sb_bop_decide(&p, &s, lo + 2, hi + 2, 30, 294.0, 900, &h, &c);
    CHECK_DBL(h, 288.15 + 0.3, 1e-9);
    /* beyond the maximum lead (3 h) nothing starts, however cold */
    sb_bop_zstate_init(&s, &p);
    day(lo, hi, 32, 13);
    sb_bop_decide(&p, &s, lo, hi, 32, 280.0, 900, &h, &c);
    CHECK_DBL(h, 288.15 + 0.3, 1e-9);
}

TEST(rate_learnt_from_recoveries)
{
    struct sb_bop_policy p;
    struct sb_bop_zstate s;
    double lo[8], hi[8], h, c, t = 288.15;

    sb_bop_policy_default(&p);
    sb_bop_zstate_init(&s, &p);
    day(lo, hi, 8, 0);                      /* occupied now: recover */
    /* the zone warms 0.25 K per 15 min = 1 K/h: the learnt rate converges there */
    for (int k = 0; k < 40; k++) {
        sb_bop_decide(&p, &s, lo, hi, 8, t, 900, &h, &c);
        CHECK_DBL(h, 294.45, 1e-9);
        t += 0.25;
        if (t > 293.5)
            t = 288.15;                     /* keep it recovering */
    }
    CHECK(s.episodes > 20);
    CHECK_DBL(s.rate_heat, 1.0, 0.02);
    CHECK_DBL(s.rate_cool, p.default_rate, 1e-12);   /* never cooled: untouched */
}

TEST(release_ramped_recovery_not)
{
    struct sb_bop_policy p;
    struct sb_bop_zstate s;
    double lo[8], hi[8], h, c, prev;

    sb_bop_policy_default(&p);
    sb_bop_zstate_init(&s, &p);
    day(lo, hi, 8, 0);
    sb_bop_decide(&p, &s, lo, hi, 8, 294.5, 900, &h, &c);   /* occupied: 21.3 / 23.7 */
    CHECK_DBL(h, 294.45, 1e-9);
    CHECK_DBL(c, 296.85, 1e-9);
    /* evening: the bounds open to 15/30; each step moves 1 K (4 K/h at 15 min) */
    day(lo, hi, 8, 8);
    prev = h;
    for (int k = 0; k < 6; k++) {
        sb_bop_decide(&p, &s, lo, hi, 8, 294.5, 900, &h, &c);
        CHECK_DBL(prev - h, 1.0, 1e-9);
        prev = h;
    }
    CHECK_DBL(c, 296.85 + 6.0, 1e-9);
    /* the morning: back to comfort at once */
    day(lo, hi, 8, 0);
    sb_bop_decide(&p, &s, lo, hi, 8, 290.0, 900, &h, &c);
    CHECK_DBL(h, 294.45, 1e-9);
    CHECK_DBL(c, 296.85, 1e-9);
}

TEST(narrow_band_keeps_the_deadband)
{
    struct sb_bop_policy p;
    struct sb_bop_zstate s;
    double lo[2] = { 295.0, 295.0 }, hi[2] = { 295.5, 295.5 }, h, c;

    sb_bop_policy_default(&p);
    sb_bop_zstate_init(&s, &p);
    sb_bop_decide(&p, &s, lo, hi, 2, 295.2, 900, &h, &c);
    CHECK_DBL(c - h, p.deadband_k, 1e-9);
    CHECK_DBL((c + h) / 2, 295.25, 1e-9);
    /* a missing temperature: no start look-ahead, no learning, still setpoints */
    sb_bop_decide(&p, &s, lo, hi, 2, NAN, 900, &h, &c);
    CHECK(isfinite(h) && isfinite(c));
    CHECK_EQ(s.recovering, 0);
}

int main(void)
{
    TAP_START();
    RUN(one_zone_by_its_only_signals);
    RUN(zones_by_name_and_what_is_left_out);
    RUN(map_document_checked);
    RUN(optimal_start_as_late_as_the_rate_allows);
    RUN(rate_learnt_from_recoveries);
    RUN(release_ramped_recovery_not);
    RUN(narrow_band_keeps_the_deadband);
    TAP_END();
}

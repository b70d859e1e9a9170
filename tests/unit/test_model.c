/* test_model.c - the building model: validation, site JSON, merge, SQLite
 * persistence (src/model/). */
#include "tap.h"

#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "model/model.h"
#include "model/model_sql.h"
#include "model/site_json.h"

/* A small valid document that the validation tests change one field at a time. */
static const char BASE[] =
    "{\"format\": \"sbems-site\", \"version\": 1,"
    " \"sites\": [{\"id\": \"s1\", \"name\": \"Site\"}],"
    " \"buildings\": [{\"id\": \"b1\", \"site\": \"s1\", \"name\": \"B\","
    "   \"timezone\": \"Europe/London\", \"area_m2\": 1000, \"latitude\": 51.5,"
    "   \"longitude\": -0.12}],"
    " \"zones\": [{\"id\": \"z1\", \"building\": \"b1\", \"name\": \"Z\", \"floor\": 1,"
    "   \"area_m2\": 100, \"comfort\": {\"occupied\": {\"heating\": 21, \"cooling\": 24},"
    "   \"unoccupied\": {\"heating\": 16, \"cooling\": 28}},"
    "   \"schedule\": {\"mon-fri\": \"08:00-18:00\"}}],"
    " \"equipment\": [{\"id\": \"ahu1\", \"building\": \"b1\", \"name\": \"AHU\", \"type\": \"ahu\"},"
    "   {\"id\": \"vav1\", \"building\": \"b1\", \"name\": \"VAV\", \"type\": \"vav\","
    "    \"zone\": \"z1\", \"parent\": \"ahu1\"}],"
    " \"points\": [{\"id\": \"ahu1.sat\", \"equipment\": \"ahu1\", \"name\": \"SAT\","
    "   \"kind\": \"temperature\", \"unit\": \"degF\", \"source\": {\"driver\": \"bacnet\","
    "   \"address\": {\"device\": 1, \"object\": \"analog-input:1\"}, \"poll_s\": 60}},"
    "  {\"id\": \"vav1.sp\", \"equipment\": \"vav1\", \"name\": \"SP\", \"kind\": \"setpoint\","
    "   \"unit\": \"°C\", \"writable\": true, \"min\": 15, \"max\": 30,"
    "   \"source\": {\"driver\": \"bacnet\", \"address\": \"1/av:1\"}}]}";

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

/* examples/office-site.json, found from this file's path ($SBEMS_SRCDIR overrides). */
static char *example_text(size_t *len)
{
    const char *env = getenv("SBEMS_SRCDIR"), *f = __FILE__, *p = strstr(f, "tests/unit/");
    char path[4096];

    if (env)
        snprintf(path, sizeof path, "%s/examples/office-site.json", env);
    else
        snprintf(path, sizeof path, "%.*sexamples/office-site.json", p ? (int)(p - f) : 0, f);
    return slurp(path, len);
}

static int has_msg(const struct sb_model_errs *e, const char *sub)
{
    for (size_t i = 0; i < e->n; i++)
        if (strstr(e->msg[i], sub))
            return 1;
    return 0;
}

static void dump_errs(const struct sb_model_errs *e)
{
    for (size_t i = 0; i < e->n; i++)
        printf("#     %s\n", e->msg[i]);
}

#define CHECK_MSG(e, sub)                                                   \
    do {                                                                    \
        if (!has_msg((e), (sub))) {                                         \
            TAP_FAIL("no message containing \"%s\"; got:", (sub));          \
            dump_errs(e);                                                   \
        }                                                                   \
    } while (0)

/* Imports BASE with doc[list][i][key] = val (key "a.b" sets field b of
 * object a; val NULL deletes the key; val is consumed).  Returns the
 * import's result; messages in *e (initialised here). */
static int try_set(const char *list, size_t i, const char *key, json_t *val,
                   struct sb_model_errs *e)
{
    json_t *doc = json_loads(BASE, 0, NULL), *o;
    struct sb_model m;
    char parent[64];
    const char *dot = strchr(key, '.');
    int rc;

    sb_model_errs_init(e);
    sb_model_init(&m);
    o = json_array_get(json_object_get(doc, list), i);
    if (dot) {
        snprintf(parent, sizeof parent, "%.*s", (int)(dot - key), key);
        o = json_object_get(o, parent);
        key = dot + 1;
    }
    if (val)
        json_object_set_new(o, key, val);
    else
        json_object_del(o, key);
    rc = sb_model_from_json(doc, &m, e);
    if (rc == 0)
        CHECK_EQ(e->total, 0);
    else
        CHECK(m.npoints == 0 && m.idx == NULL);     /* left empty on failure */
    sb_model_release(&m);
    json_decref(doc);
    return rc;
}

/* Expects that setting the field fails with a message containing sub. */
static void expect_err(const char *list, size_t i, const char *key, json_t *val, const char *sub)
{
    struct sb_model_errs e;
    int rc = try_set(list, i, key, val, &e);

    if (rc != SB_EINVAL)
        TAP_FAIL("%s[%zu].%s: import returned %d, want SB_EINVAL", list, i, key, rc);
    CHECK_MSG(&e, sub);
    sb_model_errs_release(&e);
}

static void expect_ok(const char *list, size_t i, const char *key, json_t *val)
{
    struct sb_model_errs e;
    int rc = try_set(list, i, key, val, &e);

    if (rc != 0) {
        TAP_FAIL("%s[%zu].%s: import returned %d, want 0", list, i, key, rc);
        dump_errs(&e);
    }
    sb_model_errs_release(&e);
}

static int import_text(const char *text, struct sb_model *m, struct sb_model_errs *e)
{
    sb_model_init(m);
    sb_model_errs_init(e);
    return sb_model_from_json_text(text, strlen(text), m, e);
}

/* --- the example ------------------------------------------------------------ */

TEST(example_validates)
{
    struct sb_model m;
    struct sb_model_errs e;
    size_t len = 0, vavs = 0;
    char *text = example_text(&len);
    int rc;

    REQUIRE(text);
    rc = import_text(text, &m, &e);
    dump_errs(&e);
    CHECK_EQ(rc, 0);
    CHECK_EQ(m.nzones, 15);
    CHECK(m.npoints >= 150 && m.npoints <= 300);
    CHECK_EQ(m.nbuildings, 1);
    if (rc == 0) {
        const struct sb_building *b = &m.buildings[0];
        CHECK_STR(b->timezone, "America/New_York");
        CHECK(b->tz != NULL);
        CHECK(b->area_m2 >= 4500 && b->area_m2 <= 5500);
        /* every zone is served by exactly one VAV whose AHU is on its floor */
        for (size_t z = 0; z < m.nzones; z++) {
            int served = 0;
            for (size_t q = 0; q < m.nequipment; q++) {
                const struct sb_equipment *v = &m.equipment[q];
                char ahu[16];
                if (v->type != SB_EQUIP_VAV || v->zone_ix != (int32_t)z)
                    continue;
                served++;
                vavs++;
                snprintf(ahu, sizeof ahu, "ahu-%d", m.zones[z].floor);
                REQUIRE(v->parent_ix >= 0);
                CHECK_STR(m.equipment[v->parent_ix].slug, ahu);
                CHECK_STR(m.equipment[v->parent_ix].vendor, "Trane");
            }
            CHECK_EQ(served, 1);
        }
        CHECK_EQ(vavs, 15);
        CHECK(sb_model_point(&m, "meter-main.energy") != NULL);
        if (sb_model_point(&m, "meter-main.energy"))
            CHECK(sb_model_point(&m, "meter-main.energy")->counter_modulus > 0);
    }
    sb_model_release(&m);
    sb_model_errs_release(&e);
    free(text);
}

/* The example file is written in the exporter's canonical layout (it was
 * generated independently), so import + export reproduces it byte for byte. */
TEST(example_round_trip)
{
    struct sb_model m, m2;
    struct sb_model_errs e;
    size_t len = 0;
    char *text = example_text(&len), *out = NULL, *out2 = NULL;

    REQUIRE(text);
    REQUIRE(import_text(text, &m, &e) == 0);
    REQUIRE(sb_model_to_json_text(&m, &out) == 0);
    CHECK_STR(out, text);
    sb_model_errs_release(&e);
    REQUIRE(import_text(out, &m2, &e) == 0);
    REQUIRE(sb_model_to_json_text(&m2, &out2) == 0);
    CHECK_STR(out2, out);
    sb_model_release(&m);
    sb_model_release(&m2);
    sb_model_errs_release(&e);
    free(out);
    free(out2);
    free(text);
}

TEST(base_round_trip)
{
    struct sb_model m, m2;
    struct sb_model_errs e;
    char *a = NULL, *b = NULL;
    json_t *ja = NULL;

    REQUIRE(import_text(BASE, &m, &e) == 0);
    REQUIRE(sb_model_to_json_text(&m, &a) == 0);
    sb_model_errs_release(&e);
    REQUIRE(import_text(a, &m2, &e) == 0);
    REQUIRE(sb_model_to_json_text(&m2, &b) == 0);
    CHECK_STR(a, b);
    /* canonical forms: degF -> °F, poll 60 s, writable kept, address text */
    CHECK(strstr(a, "\"unit\": \"°F\"") != NULL);
    CHECK(strstr(a, "\"address\": \"1/av:1\"") != NULL);
    CHECK(strstr(a, "\"address\": {\"device\": 1, \"object\": \"analog-input:1\"}") != NULL);
    /* the json_t export equals the text export */
    REQUIRE(sb_model_to_json(&m, &ja) == 0);
    {
        json_t *jb = json_loads(a, 0, NULL);
        CHECK(json_equal(ja, jb));
        json_decref(jb);
    }
    json_decref(ja);
    sb_model_release(&m);
    sb_model_release(&m2);
    sb_model_errs_release(&e);
    free(a);
    free(b);
}

/* --- validation rules --------------------------------------------------------- */

TEST(rule_ids)
{
    expect_err("zones", 0, "id", json_string("Bad Zone"), "zones[0] \"Bad Zone\": id is not a valid slug");
    expect_err("zones", 0, "id", json_string("-z"), "is not a valid slug");
    expect_err("zones", 0, "id", NULL, "zones[0]: id is missing");
    expect_err("points", 1, "id", json_string("ahu1.sat"), "points[1] \"ahu1.sat\": duplicate id (also points[0])");
    expect_err("equipment", 1, "id", json_string("ahu1"), "duplicate id");
    /* 64 bytes is the longest slug */
    expect_ok("sites", 0, "id", json_string("s1"));
    {
        char id[66];
        memset(id, 'a', 64);
        id[64] = '\0';
        struct sb_model_errs e;
        json_t *v = json_string(id);
        /* the building refers to "s1": give it the long id too */
        int rc = try_set("sites", 0, "id", v, &e);
        CHECK_EQ(rc, SB_EINVAL);       /* building's site "s1" now dangles */
        CHECK_MSG(&e, "site \"s1\" does not exist");
        CHECK(!has_msg(&e, "valid slug"));
        sb_model_errs_release(&e);
        id[64] = 'a';
        id[65] = '\0';
        expect_err("sites", 0, "id", json_string(id), "is longer than 64 bytes");
    }
    /* a zone and a point may share a slug: uniqueness is per kind */
    expect_ok("points", 1, "id", json_string("z1"));
}

TEST(rule_references)
{
    expect_err("buildings", 0, "site", json_string("nope"),
               "buildings[0] \"b1\": site \"nope\" does not exist (no such sites id)");
    expect_err("zones", 0, "building", json_string("b2"), "zones[0] \"z1\": building \"b2\" does not exist");
    expect_err("equipment", 1, "zone", json_string("z9"), "equipment[1] \"vav1\": zone \"z9\" does not exist");
    expect_err("equipment", 1, "parent", json_string("ahu9"), "parent \"ahu9\" does not exist");
    expect_err("points", 0, "equipment", json_string("ahu9"), "points[0] \"ahu1.sat\": equipment \"ahu9\" does not exist");
    expect_err("points", 0, "equipment", NULL, "equipment is missing");
    expect_err("equipment", 0, "building", NULL, "building is missing");
    /* null is "absent" for optional references */
    expect_ok("equipment", 1, "parent", json_null());
}

TEST(rule_cross_building)
{
    const char *doc =
        "{\"format\": \"sbems-site\", \"version\": 1, \"sites\": [{\"id\": \"s\", \"name\": \"S\"}],"
        " \"buildings\": [{\"id\": \"b1\", \"site\": \"s\", \"name\": \"B1\", \"timezone\": \"UTC\"},"
        "  {\"id\": \"b2\", \"site\": \"s\", \"name\": \"B2\", \"timezone\": \"UTC\"}],"
        " \"zones\": [{\"id\": \"z2\", \"building\": \"b2\", \"name\": \"Z\"}],"
        " \"equipment\": [{\"id\": \"e1\", \"building\": \"b1\", \"name\": \"E\", \"type\": \"other\", \"zone\": \"z2\"},"
        "  {\"id\": \"e2\", \"building\": \"b2\", \"name\": \"E2\", \"type\": \"vav\", \"parent\": \"e1\"}]}";
    struct sb_model m;
    struct sb_model_errs e;

    CHECK_EQ(import_text(doc, &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "equipment[0] \"e1\": zone \"z2\" is in building \"b2\", not \"b1\"");
    CHECK_MSG(&e, "equipment[1] \"e2\": parent \"e1\" is in building \"b1\", not \"b2\"");
    CHECK_EQ(e.total, 2);
    sb_model_release(&m);
    sb_model_errs_release(&e);
}

TEST(rule_cycles)
{
    const char *doc =
        "{\"format\": \"sbems-site\", \"version\": 1, \"sites\": [{\"id\": \"s\", \"name\": \"S\"}],"
        " \"buildings\": [{\"id\": \"b\", \"site\": \"s\", \"name\": \"B\", \"timezone\": \"UTC\"}],"
        " \"equipment\": [{\"id\": \"a\", \"building\": \"b\", \"name\": \"A\", \"type\": \"ahu\", \"parent\": \"c\"},"
        "  {\"id\": \"b\", \"building\": \"b\", \"name\": \"B\", \"type\": \"vav\", \"parent\": \"a\"},"
        "  {\"id\": \"c\", \"building\": \"b\", \"name\": \"C\", \"type\": \"vav\", \"parent\": \"b\"},"
        "  {\"id\": \"d\", \"building\": \"b\", \"name\": \"D\", \"type\": \"vav\", \"parent\": \"c\"},"
        "  {\"id\": \"self\", \"building\": \"b\", \"name\": \"S\", \"type\": \"vav\", \"parent\": \"self\"}]}";
    struct sb_model m;
    struct sb_model_errs e;

    CHECK_EQ(import_text(doc, &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "parent chain loops back to itself");
    CHECK_MSG(&e, "equipment[4] \"self\": parent chain loops");
    CHECK_EQ(e.total, 2);      /* one cycle a-b-c, one self loop; d only hangs off it */
    sb_model_release(&m);
    sb_model_errs_release(&e);
}

TEST(rule_building_fields)
{
    expect_err("buildings", 0, "timezone", json_string("Mars/Olympus_Mons"),
               "timezone \"Mars/Olympus_Mons\" is not a known IANA time zone");
    expect_err("buildings", 0, "timezone", json_string("../../etc/passwd"), "not a known IANA");
    expect_err("buildings", 0, "timezone", NULL, "timezone is missing");
    expect_ok("buildings", 0, "timezone", json_string("Asia/Kolkata"));
    expect_err("buildings", 0, "latitude", json_real(90.5), "latitude 90.5 is outside [-90, 90]");
    expect_err("buildings", 0, "longitude", json_integer(-181), "longitude -181 is outside [-180, 180]");
    expect_ok("buildings", 0, "longitude", json_integer(180));
    expect_err("buildings", 0, "longitude", NULL, "latitude and longitude go together");
    expect_err("buildings", 0, "area_m2", json_integer(0), "area_m2 0 must be > 0");
    expect_err("zones", 0, "area_m2", json_real(-5), "zones[0] \"z1\": area_m2 -5 must be > 0");
    expect_err("buildings", 0, "area_m2", json_string("big"), "area_m2 must be a number");
    expect_err("buildings", 0, "name", json_string(""), "name is missing or empty");
    expect_err("buildings", 0, "name", json_integer(3), "name must be a string");
    expect_err("zones", 0, "floor", json_real(1.5), "floor must be an integer");
}

TEST(rule_comfort)
{
    expect_err("zones", 0, "comfort", json_pack("{s{sisi}s{sisi}}", "occupied", "heating", 25,
                                                 "cooling", 24, "unoccupied", "heating", 16,
                                                 "cooling", 28),
               "zones[0] \"z1\": comfort.occupied: heating 25 °C must be below cooling 24 °C");
    expect_err("zones", 0, "comfort", json_pack("{s{sisi}s{sisi}}", "occupied", "heating", 70,
                                                 "cooling", 75, "unoccupied", "heating", 16,
                                                 "cooling", 28),
               "comfort.occupied: setpoints must be in [0, 45] °C");
    expect_err("zones", 0, "comfort", json_pack("{s{sisi}s{sisi}}", "occupied", "heating", 21,
                                                 "cooling", 24, "unoccupied", "heating", 22,
                                                 "cooling", 28),
               "comfort.unoccupied must contain comfort.occupied");
    expect_err("zones", 0, "comfort", json_pack("{s{si}}", "occupied", "heating", 21),
               "comfort.occupied.cooling is missing");
    expect_err("zones", 0, "comfort", json_pack("{s{sisi}}", "occupied", "heating", 21,
                                                 "cooling", 24),
               "comfort.unoccupied must be an object");
    expect_err("zones", 0, "comfort", json_pack("{s{sisisi}s{sisi}}", "occupied", "heating", 21,
                                                 "cooling", 24, "coolin", 3, "unoccupied",
                                                 "heating", 16, "cooling", 28),
               "unknown field \"comfort.occupied.coolin\" (did you mean \"cooling\"?)");
}

TEST(rule_schedule)
{
    expect_err("zones", 0, "schedule", json_pack("{ss}", "mon-fry", "08:00-18:00"),
               "schedule key \"mon-fry\" is not a day");
    expect_err("zones", 0, "schedule", json_pack("{ss}", "mon", "08:00-25:00"),
               "schedule \"mon\": \"08:00-25:00\" is not a period");
    expect_err("zones", 0, "schedule", json_pack("{ss}", "mon", "18:00-08:00"), "is not a period");
    expect_err("zones", 0, "schedule", json_pack("{ss}", "mon", "8-18"), "is not a period");
    expect_err("zones", 0, "schedule", json_pack("{ss}", "mon", "07:00-12:00,11:00-13:00"),
               "periods overlap");
    expect_err("zones", 0, "schedule", json_pack("{ssss}", "mon-fri", "08:00-18:00", "fri",
                                                  "09:00-10:00"),
               "names a day already given");
    expect_err("zones", 0, "schedule", json_pack("{si}", "mon", 8), "must be a string");
    expect_err("zones", 0, "schedule", json_string("weekdays"), "schedule must be an object");
    expect_ok("zones", 0, "schedule", json_pack("{ss}", "daily", "00:00-24:00"));
    expect_ok("zones", 0, "schedule", json_pack("{ssss}", "sat,sun", "closed", "tue-thu",
                                                "7:30-9:00"));
}

TEST(rule_points)
{
    expect_err("points", 0, "unit", json_string("kW"),
               "points[0] \"ahu1.sat\": unit \"kW\" is not a temperature unit "
               "(a temperature point takes: °C, °F, K)");
    expect_err("points", 0, "unit", json_string("degX"), "unit \"degX\" is not a known unit");
    expect_err("points", 0, "kind", json_string("temprature"), "kind \"temprature\" is not one of");
    expect_err("points", 1, "unit", NULL, "unit is missing (a setpoint needs one");
    expect_ok("points", 0, "unit", NULL);      /* temperature defaults to °C */
    expect_err("points", 1, "min", json_integer(31), "min 31 is greater than max 30");
    expect_ok("points", 1, "min", json_integer(30));
    expect_err("points", 0, "writable", json_true(),
               "writable, but kind \"temperature\" is neither setpoint nor command");
    expect_err("points", 0, "writable", json_string("yes"), "writable must be true or false");
    expect_err("points", 0, "counter_modulus", json_integer(1000),
               "counter_modulus is only for energy points");
    expect_err("points", 0, "tags", json_pack("[ss]", "temp", "Bad-Tag"),
               "tags[1] \"Bad-Tag\" is not a Haystack tag name");
    expect_err("points", 0, "tags", json_pack("[ss]", "temp", "temp"), "tags[1] \"temp\" is listed twice");
    expect_err("points", 0, "tags", json_string("temp"), "tags must be an array");
    expect_err("points", 0, "brick", json_string("Supply Air Temp"), "is not a Brick class name");
    expect_ok("points", 0, "brick", json_string("Supply_Air_Temperature_Sensor"));
    expect_err("points", 0, "sensor", json_true(), "unknown field \"sensor\"");
    expect_err("points", 0, "uint", json_string("°C"), "unknown field \"uint\" (did you mean \"unit\"?)");
}

TEST(rule_writable_forced)
{
    struct sb_model_errs e;
    json_t *doc = json_loads(BASE, 0, NULL);
    json_t *p = json_array_get(json_object_get(doc, "points"), 0);
    struct sb_model m;

    json_object_set_new(p, "writable", json_true());
    json_object_set_new(p, "force_writable", json_true());
    sb_model_init(&m);
    sb_model_errs_init(&e);
    CHECK_EQ(sb_model_from_json(doc, &m, &e), 0);
    dump_errs(&e);
    if (m.npoints)
        CHECK(m.points[0].writable && m.points[0].force_writable);
    sb_model_release(&m);
    sb_model_errs_release(&e);
    json_decref(doc);
}

TEST(rule_energy_and_source)
{
    struct sb_model_errs e;
    json_t *doc = json_loads(BASE, 0, NULL);
    json_t *p = json_array_get(json_object_get(doc, "points"), 0);
    struct sb_model m;

    /* an energy register in Wh with a 2^32 modulus */
    json_object_set_new(p, "kind", json_string("energy"));
    json_object_set_new(p, "unit", json_string("Wh"));
    json_object_set_new(p, "counter_modulus", json_integer(4294967296LL));
    sb_model_init(&m);
    sb_model_errs_init(&e);
    REQUIRE(sb_model_from_json(doc, &m, &e) == 0);
    CHECK_EQ(m.points[0].canon, SB_UNIT_KWH);
    CHECK_DBL(sb_point_counter_max(&m.points[0]), 4294967.296, 1e-6);
    {
        struct sb_agg_ctx c;
        sb_point_agg_ctx(&m.points[0], 900000, &c);
        CHECK_EQ(c.kind, SB_AGG_COUNTER);
        CHECK_DBL(c.counter_max, 4294967.296, 1e-6);
        CHECK_EQ(c.max_hold_ms, 900000);
    }
    sb_model_release(&m);
    sb_model_errs_release(&e);
    json_decref(doc);

    expect_err("points", 0, "source.address", NULL, "source.address is missing (driver \"bacnet\")");
    expect_err("points", 0, "source.driver", json_string("knx"), "source.driver \"knx\" is not one of");
    expect_err("points", 0, "source.poll_s", json_real(0.01), "source.poll_s 0.010 is outside");
    expect_err("points", 0, "source.poll_s", json_integer(-1), "source.poll_s -1 must be");
    expect_err("points", 0, "source.adress", json_string("x"),
               "unknown field \"source.adress\" (did you mean \"address\"?)");
    expect_err("points", 0, "source.address", json_integer(5), "source.address must be a non-empty");
    expect_err("points", 0, "source.address", json_string(""), "source.address must be a non-empty");
    expect_ok("points", 0, "source.driver", json_string("virtual"));
    expect_ok("points", 0, "source", NULL);     /* no source: virtual */
}

TEST(rule_document)
{
    struct sb_model m;
    struct sb_model_errs e;

    CHECK_EQ(import_text("[1, 2]", &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "document: must be a JSON object");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\",\n \"version\": 1,,}", &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "document: line 2 column");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 1, \"sites\": [],"
                         " \"sites\": []}", &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "duplicate object key");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"site\", \"version\": 1}", &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "document: \"format\" must be \"sbems-site\"");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 2}", &m, &e), SB_EINVAL);
    CHECK_MSG(&e, "document: version 2 is newer");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 1, \"zone\": []}", &m, &e),
             SB_EINVAL);
    CHECK_MSG(&e, "document: unknown field \"zone\" (did you mean \"zones\"?)");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 1, \"points\": {}}", &m, &e),
             SB_EINVAL);
    CHECK_MSG(&e, "\"points\" must be an array");
    sb_model_errs_release(&e);
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 1, \"points\": [3]}", &m, &e),
             SB_EINVAL);
    CHECK_MSG(&e, "points[0]: must be an object");
    sb_model_errs_release(&e);
    /* an empty document is a valid (empty) model */
    CHECK_EQ(import_text("{\"format\": \"sbems-site\", \"version\": 1}", &m, &e), 0);
    sb_model_release(&m);
    sb_model_errs_release(&e);
}

/* Every problem of a document is reported in one pass, not just the first. */
TEST(errors_collected)
{
    json_t *doc = json_loads(BASE, 0, NULL);
    json_t *pts = json_object_get(doc, "points");
    struct sb_model m;
    struct sb_model_errs e;

    json_object_set_new(json_array_get(pts, 0), "unit", json_string("kW"));
    json_object_set_new(json_array_get(pts, 1), "equipment", json_string("nope"));
    json_object_set_new(json_array_get(json_object_get(doc, "buildings"), 0), "latitude",
                        json_integer(100));
    json_object_set_new(json_array_get(json_object_get(doc, "zones"), 0), "flor", json_integer(1));
    sb_model_init(&m);
    sb_model_errs_init(&e);
    CHECK_EQ(sb_model_from_json(doc, &m, &e), SB_EINVAL);
    /* the structural one (unknown field) stops before the cross-object checks */
    CHECK_EQ(e.total, 1);
    CHECK_MSG(&e, "unknown field \"flor\"");
    sb_model_errs_release(&e);
    json_object_del(json_array_get(json_object_get(doc, "zones"), 0), "flor");
    sb_model_errs_init(&e);
    CHECK_EQ(sb_model_from_json(doc, &m, &e), SB_EINVAL);
    CHECK_EQ(e.total, 3);
    CHECK_MSG(&e, "not a temperature unit");
    CHECK_MSG(&e, "equipment \"nope\" does not exist");
    CHECK_MSG(&e, "latitude 100 is outside");
    sb_model_errs_release(&e);
    sb_model_release(&m);
    json_decref(doc);
}

TEST(errors_capped)
{
    json_t *doc = json_loads(BASE, 0, NULL), *pts = json_array();
    struct sb_model m;
    struct sb_model_errs e;

    for (int i = 0; i < 300; i++)
        json_array_append_new(pts, json_pack("{sssssssss{ss}}", "id", "p", "equipment", "x",
                                             "name", "n", "kind", "temperature", "source",
                                             "driver", "virtual"));
    json_object_set_new(doc, "points", pts);
    sb_model_init(&m);
    sb_model_errs_init(&e);
    CHECK_EQ(sb_model_from_json(doc, &m, &e), SB_EINVAL);
    CHECK_EQ(e.n, SB_MODEL_ERRS_MAX);
    CHECK_EQ(e.total, 300 + 299);   /* every point: no equipment; all but one: duplicate */
    sb_model_errs_release(&e);
    sb_model_release(&m);
    json_decref(doc);
}

/* --- kinds, lookups, conversions ---------------------------------------------- */

TEST(kind_tables)
{
    /* the mapping from the store's brief, written out independently */
    static const struct { const char *kind; enum sb_agg_kind agg; } want[] = {
        { "temperature", SB_AGG_MEAN }, { "humidity", SB_AGG_MEAN }, { "co2", SB_AGG_MEAN },
        { "setpoint", SB_AGG_MEAN }, { "pressure", SB_AGG_MEAN }, { "flow", SB_AGG_MEAN },
        { "position", SB_AGG_MEAN }, { "other", SB_AGG_MEAN }, { "power", SB_AGG_RATE },
        { "energy", SB_AGG_COUNTER }, { "occupancy", SB_AGG_STATE }, { "command", SB_AGG_STATE },
        { "status", SB_AGG_STATE },
    };
    enum sb_point_kind k;

    CHECK_EQ(sizeof want / sizeof want[0], SB_POINT_KIND_COUNT);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        REQUIRE(sb_point_kind_parse(want[i].kind, &k) == 0);
        CHECK_STR(sb_point_kind_name(k), want[i].kind);
        if (sb_point_kind_agg(k) != want[i].agg)
            TAP_FAIL("%s aggregates as %d", want[i].kind, (int)sb_point_kind_agg(k));
    }
    CHECK_EQ(sb_point_kind_parse("Temperature", &k), SB_EINVAL);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_TEMPERATURE), SB_UNIT_CELSIUS);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_POWER), SB_UNIT_KW);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_ENERGY), SB_UNIT_KWH);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_PRESSURE), SB_UNIT_PA);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_FLOW), SB_UNIT_L_S);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_HUMIDITY), SB_UNIT_PERCENT);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_CO2), SB_UNIT_PPM);
    CHECK_EQ(sb_point_kind_unit(SB_POINT_SETPOINT), SB_UNIT_INVALID);
    CHECK(sb_point_kind_allows(SB_POINT_SETPOINT, SB_DIM_PRESSURE));
    CHECK(sb_point_kind_allows(SB_POINT_COMMAND, SB_DIM_RATIO));
    CHECK(!sb_point_kind_allows(SB_POINT_STATUS, SB_DIM_RATIO));
    CHECK(!sb_point_kind_allows(SB_POINT_CO2, SB_DIM_TEMPERATURE));
    for (int t = 0; t < SB_EQUIP_TYPE_COUNT; t++) {
        enum sb_equip_type back;
        CHECK_EQ(sb_equip_type_parse(sb_equip_type_name((enum sb_equip_type)t), &back), 0);
        CHECK_EQ(back, t);
    }
    for (int d = 0; d < SB_DRIVER_COUNT; d++) {
        enum sb_driver back;
        CHECK_EQ(sb_driver_parse(sb_driver_name((enum sb_driver)d), &back), 0);
        CHECK_EQ(back, d);
    }
    CHECK_STR(sb_equip_type_name(SB_EQUIP_HEAT_PUMP), "heat_pump");
    CHECK_EQ(sb_driver_parse("BACnet", &(enum sb_driver){ 0 }), SB_EINVAL);
}

TEST(slugs)
{
    char s[80];

    CHECK(sb_slug_valid("a"));
    CHECK(sb_slug_valid("0ahu-1.sat_x"));
    CHECK(!sb_slug_valid(""));
    CHECK(!sb_slug_valid(NULL));
    CHECK(!sb_slug_valid("_a"));
    CHECK(!sb_slug_valid(".a"));
    CHECK(!sb_slug_valid("A"));
    CHECK(!sb_slug_valid("a b"));
    CHECK(!sb_slug_valid("a/b"));
    memset(s, 'a', 64);
    s[64] = '\0';
    CHECK(sb_slug_valid(s));
    s[64] = 'a';
    s[65] = '\0';
    CHECK(!sb_slug_valid(s));
}

TEST(lookups_and_conversion)
{
    struct sb_model m;
    struct sb_model_errs e;
    const struct sb_point *p;

    REQUIRE(import_text(BASE, &m, &e) == 0);
    CHECK(sb_model_site(&m, "s1") == &m.sites[0]);
    CHECK(sb_model_building(&m, "b1") == &m.buildings[0]);
    CHECK(sb_model_zone(&m, "z1") == &m.zones[0]);
    CHECK(sb_model_equipment(&m, "vav1") == &m.equipment[1]);
    CHECK(sb_model_point(&m, "vav1.sp") == &m.points[1]);
    CHECK(sb_model_point(&m, "vav1") == NULL);
    CHECK(sb_model_zone(&m, "ahu1") == NULL);
    CHECK(sb_model_point(&m, NULL) == NULL);
    /* ids are 0 until the store assigns them */
    CHECK(sb_model_point_by_id(&m, 0) == NULL);
    CHECK(sb_model_point_by_id(&m, 1) == NULL);
    m.points[0].id = 7;
    m.points[1].id = 3;
    REQUIRE(sb_model_validate(&m, &e) == 0);
    CHECK(sb_model_point_by_id(&m, 7) == &m.points[0]);
    CHECK(sb_model_point_by_id(&m, 3) == &m.points[1]);
    CHECK(sb_model_point_by_id(&m, 4) == NULL);
    CHECK(sb_model_point_by_id(&m, 8) == NULL);
    CHECK(sb_model_point_by_id(&m, UINT32_MAX) == NULL);
    /* resolution */
    p = sb_model_point(&m, "ahu1.sat");
    REQUIRE(p);
    CHECK_EQ(p->unit, SB_UNIT_FAHRENHEIT);
    CHECK_EQ(p->canon, SB_UNIT_CELSIUS);
    CHECK_DBL(sb_unit_conv_apply(&p->to_canon, 212), 100, 1e-12);
    CHECK_EQ(p->equipment_ix, 0);
    CHECK_EQ(p->building_ix, 0);
    CHECK(sb_model_point_tz(&m, p) == sb_tz_get("Europe/London"));
    CHECK_EQ(m.equipment[1].zone_ix, 0);
    CHECK_EQ(m.equipment[1].parent_ix, 0);
    CHECK_EQ(m.equipment[0].parent_ix, -1);
    /* duplicate ids are refused */
    m.points[1].id = 7;
    CHECK_EQ(sb_model_validate(&m, &e), SB_EINVAL);
    CHECK_MSG(&e, "integer id 7 is used by another point");
    CHECK(sb_model_point(&m, "ahu1.sat") == NULL);     /* no lookups when invalid */
    m.points[1].id = SB_POINT_ID_MAX + 1;
    CHECK_EQ(sb_model_validate(&m, NULL), SB_EINVAL);
    sb_model_release(&m);
    sb_model_errs_release(&e);
}

TEST(schedules)
{
    struct sb_model m;
    struct sb_model_errs e;
    char *out = NULL;
    json_t *doc = json_loads(BASE, 0, NULL);
    json_t *z = json_array_get(json_object_get(doc, "zones"), 0);

    /* days given in any order and form come out grouped, Monday first */
    json_object_set_new(z, "schedule", json_pack("{ssssssss}", "sun", "closed", "sat",
                                                 "13:00-17:00,08:00-12:00", "thu,tue,wed",
                                                 "7:00-19:00", "mon", "07:00-19:00"));
    sb_model_init(&m);
    sb_model_errs_init(&e);
    REQUIRE(sb_model_from_json(doc, &m, &e) == 0);
    REQUIRE(sb_model_to_json_text(&m, &out) == 0);
    CHECK(strstr(out, "\"schedule\": {\"mon-thu\": \"07:00-19:00\", "
                      "\"sat\": \"08:00-12:00,13:00-17:00\"}") != NULL);
    {
        const struct sb_schedule *s = &m.zones[0].sched;
        CHECK(sb_schedule_occupied(s, 0, 7 * 60));
        CHECK(!sb_schedule_occupied(s, 0, 19 * 60));     /* end is exclusive */
        CHECK(sb_schedule_occupied(s, 0, 19 * 60 - 1));
        CHECK(!sb_schedule_occupied(s, 4, 12 * 60));     /* Friday not listed */
        CHECK(sb_schedule_occupied(s, 5, 13 * 60));
        CHECK(!sb_schedule_occupied(s, 5, 12 * 60 + 30));
        CHECK(!sb_schedule_occupied(s, 6, 10 * 60));
        CHECK(!sb_schedule_occupied(s, 7, 10 * 60));
    }
    {
        struct sb_day_sched d;
        char buf[64], msg[128];
        unsigned mask;
        CHECK_EQ(sb_schedule_parse_days("fri-mon", &mask, msg, sizeof msg), 0);
        CHECK_EQ(mask, 0x71);      /* fri sat sun mon */
        CHECK_EQ(sb_schedule_format_days(mask, buf, sizeof buf), 0);
        CHECK_STR(buf, "mon,fri-sun");
        CHECK_EQ(sb_schedule_parse_days("daily", &mask, msg, sizeof msg), 0);
        CHECK_EQ(mask, 0x7f);
        CHECK_EQ(sb_schedule_parse_days("mon,", &mask, msg, sizeof msg), SB_EINVAL);
        CHECK_EQ(sb_schedule_parse_periods("00:00-24:00", &d, msg, sizeof msg), 0);
        CHECK(d.n == 1 && d.p[0].start == 0 && d.p[0].end == 1440);
        CHECK_EQ(sb_schedule_parse_periods("24:00-24:00", &d, msg, sizeof msg), SB_EINVAL);
        CHECK_EQ(sb_schedule_parse_periods("10:60-11:00", &d, msg, sizeof msg), SB_EINVAL);
        CHECK_EQ(sb_schedule_parse_periods("1:00-2:00,3:00-4:00,5:00-6:00,7:00-8:00,"
                                           "9:00-10:00,11:00-12:00,13:00-14:00", &d, msg,
                                           sizeof msg), SB_EINVAL);
        CHECK_EQ(sb_schedule_parse_periods("closed", &d, msg, sizeof msg), 0);
        CHECK_EQ(d.n, 0);
        CHECK_EQ(sb_schedule_format_day(&d, buf, sizeof buf), 0);
        CHECK_STR(buf, "closed");
        CHECK_EQ(sb_schedule_format_day(&m.zones[0].sched.day[5], buf, 8), SB_ENOSPC);
    }
    sb_model_release(&m);
    sb_model_errs_release(&e);
    json_decref(doc);
    free(out);
}

/* --- merge and clone ------------------------------------------------------------ */

/* Copies of the example's lists without the objects of floor 3 (ids that
 * contain "3" in the floor part), and a document with only those. */
static int is_floor3(const char *id)
{
    return strncmp(id, "f3-", 3) == 0 || strncmp(id, "ahu-3", 5) == 0 ||
           strncmp(id, "vav-3-", 6) == 0 || strstr(id, "-f3-") != NULL ||
           strncmp(id, "tstat-conf-3", 12) == 0;
}

static void split_floor3(json_t *full, json_t **without, json_t **only)
{
    static const char *const lists[] = { "sites", "buildings", "zones", "equipment", "points" };

    *without = json_deep_copy(full);
    *only = json_pack("{sssi}", "format", "sbems-site", "version", 1);
    for (size_t l = 0; l < 5; l++) {
        json_t *src = json_object_get(full, lists[l]), *keep = json_array(), *part = json_array();
        json_t *o;
        size_t i;
        json_array_foreach(src, i, o) {
            const char *id = json_string_value(json_object_get(o, "id"));
            json_array_append(is_floor3(id) ? part : keep, o);
        }
        json_object_set_new(*without, lists[l], keep);
        json_object_set_new(*only, lists[l], part);
    }
}

/* Same objects (by id, compared as JSON), whatever the order. */
static int same_objects(json_t *a, json_t *b)
{
    static const char *const lists[] = { "sites", "buildings", "zones", "equipment", "points" };

    for (size_t l = 0; l < 5; l++) {
        json_t *la = json_object_get(a, lists[l]), *lb = json_object_get(b, lists[l]), *o, *q;
        size_t i, j;
        if (json_array_size(la) != json_array_size(lb))
            return 0;
        json_array_foreach(la, i, o) {
            int found = 0;
            json_array_foreach(lb, j, q)
                found |= json_equal(o, q);
            if (!found)
                return 0;
        }
    }
    return 1;
}

TEST(merge_adds_a_floor)
{
    size_t len = 0;
    char *text = example_text(&len), *before = NULL, *after = NULL;
    json_t *full, *without = NULL, *only = NULL, *merged = NULL, *bad;
    struct sb_model m;
    struct sb_model_errs e;
    uint32_t id_ahu1;

    REQUIRE(text);
    full = json_loads(text, 0, NULL);
    REQUIRE(full);
    split_floor3(full, &without, &only);
    CHECK(json_array_size(json_object_get(only, "zones")) == 5);
    CHECK(json_array_size(json_object_get(only, "points")) > 30);
    sb_model_init(&m);
    sb_model_errs_init(&e);
    REQUIRE(sb_model_from_json(without, &m, &e) == 0);
    /* pretend the store numbered the points */
    for (size_t i = 0; i < m.npoints; i++)
        m.points[i].id = (uint32_t)(100 + i);
    REQUIRE(sb_model_validate(&m, NULL) == 0);
    id_ahu1 = sb_model_point(&m, "ahu-1.sat")->id;

    /* a partial document that does not validate alone merges */
    CHECK_EQ(sb_model_from_json(only, &(struct sb_model){ 0 }, NULL), SB_EINVAL);
    CHECK_EQ(sb_model_merge_json(&m, only, &e), 0);
    dump_errs(&e);
    REQUIRE(sb_model_to_json(&m, &merged) == 0);
    CHECK(same_objects(merged, full));
    CHECK_EQ(sb_model_point(&m, "ahu-1.sat")->id, id_ahu1);
    CHECK_EQ(sb_model_point(&m, "ahu-3.sat")->id, 0);       /* new: numbered on save */
    CHECK(sb_model_point_by_id(&m, id_ahu1) == sb_model_point(&m, "ahu-1.sat"));

    /* merging again changes nothing (upsert) */
    REQUIRE(sb_model_to_json_text(&m, &before) == 0);
    CHECK_EQ(sb_model_merge_json(&m, only, &e), 0);
    REQUIRE(sb_model_to_json_text(&m, &after) == 0);
    CHECK_STR(before, after);
    free(after);

    /* a bad merge leaves the model as it was */
    bad = json_pack("{sssis[{sssssssssss{ss}}]}", "format", "sbems-site", "version", 1, "points",
                    "id", "x.1", "equipment", "nowhere", "name", "X", "kind", "temperature",
                    "unit", "°C", "source", "driver", "virtual");
    CHECK_EQ(sb_model_merge_json(&m, bad, &e), SB_EINVAL);
    CHECK_MSG(&e, "points[");
    CHECK_MSG(&e, "equipment \"nowhere\" does not exist");
    REQUIRE(sb_model_to_json_text(&m, &after) == 0);
    CHECK_STR(before, after);
    CHECK(sb_model_point(&m, "ahu-1.sat") != NULL);     /* lookups still work */

    /* an update replaces the object in place */
    json_decref(bad);
    bad = json_pack("{sssis[{sssssssssss{ss}}]}", "format", "sbems-site", "version", 1, "points",
                    "id", "ahu-1.sat", "equipment", "ahu-1", "name", "Renamed", "kind",
                    "temperature", "unit", "°C", "source", "driver", "virtual");
    CHECK_EQ(sb_model_merge_json(&m, bad, &e), 0);
    CHECK_STR(sb_model_point(&m, "ahu-1.sat")->name, "Renamed");
    CHECK_EQ(sb_model_point(&m, "ahu-1.sat")->id, id_ahu1);
    CHECK(sb_model_point(&m, "ahu-1.sat") == &m.points[0]);

    json_decref(bad);
    json_decref(merged);
    json_decref(full);
    json_decref(without);
    json_decref(only);
    sb_model_release(&m);
    sb_model_errs_release(&e);
    free(before);
    free(after);
    free(text);
}

TEST(clone)
{
    struct sb_model m, c;
    struct sb_model_errs e;
    char *a = NULL, *b = NULL;

    REQUIRE(import_text(BASE, &m, &e) == 0);
    m.points[0].id = 5;
    m.points[1].id = 9;
    REQUIRE(sb_model_validate(&m, NULL) == 0);
    sb_model_init(&c);
    REQUIRE(sb_model_clone(&m, &c) == 0);
    REQUIRE(sb_model_to_json_text(&m, &a) == 0);
    REQUIRE(sb_model_to_json_text(&c, &b) == 0);
    CHECK_STR(a, b);
    CHECK(sb_model_point_by_id(&c, 9) == &c.points[1]);
    CHECK(c.points[0].name != m.points[0].name);       /* deep copy */
    sb_model_release(&m);
    sb_model_release(&c);
    sb_model_errs_release(&e);
    free(a);
    free(b);
}

/* --- SQLite ---------------------------------------------------------------------- */

/* A database in a fresh temporary directory, foreign keys on. */
struct tmpdb {
    char dir[64];      /* mkdtemp directory */
    char path[96];     /* the database file */
    sqlite3 *db;       /* open handle */
};

static int tmpdb_open(struct tmpdb *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/sbems-test-model-XXXXXX");
    if (!mkdtemp(t->dir))
        return -1;
    snprintf(t->path, sizeof t->path, "%s/site.db", t->dir);
    if (sqlite3_open(t->path, &t->db) != SQLITE_OK)
        return -1;
    return sqlite3_exec(t->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void tmpdb_close(struct tmpdb *t)
{
    char p[128];

    sqlite3_close(t->db);
    unlink(t->path);
    snprintf(p, sizeof p, "%s-journal", t->path);
    unlink(p);
    rmdir(t->dir);
}

/* save inside a transaction, as the store does */
static int save_tx(sqlite3 *db, const struct sb_model *m)
{
    int rc;

    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return SB_ESTORE;
    rc = sb_model_sql_save(db, m);
    if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = SB_ESTORE;
    if (rc)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static long long count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    long long n = -1;

    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

TEST(sql_round_trip)
{
    struct tmpdb t;
    struct sb_model m, l;
    struct sb_model_errs e;
    size_t len = 0;
    char *text = example_text(&len), *out = NULL;

    REQUIRE(text);
    REQUIRE(tmpdb_open(&t) == 0);
    CHECK_EQ(sb_model_sql_migrate(t.db), 0);
    CHECK_EQ(sb_model_sql_migrate(t.db), 0);       /* idempotent */
    REQUIRE(import_text(text, &m, &e) == 0);
    REQUIRE(save_tx(t.db, &m) == 0);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_points"), (long long)m.npoints);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_zones WHERE building = 'hpo'"), 15);
    /* relational columns hold what the daemon queries */
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_points WHERE kind = 'energy' AND "
                         "counter_modulus > 0"), 4);
    CHECK_EQ(count(t.db, "SELECT poll_ms FROM model_points WHERE slug = 'ahu-1.sat'"), 60000);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_equipment WHERE parent = 'ahu-2'"), 5);
    /* new database: ids are 1..n in document order */
    CHECK_EQ(count(t.db, "SELECT id FROM model_points WHERE slug = 'ahu-1.sat'"), 1);
    CHECK_EQ(count(t.db, "SELECT max(id) FROM model_points"), (long long)m.npoints);

    sb_model_init(&l);
    REQUIRE(sb_model_sql_load(t.db, &l) == 0);
    REQUIRE(sb_model_to_json_text(&l, &out) == 0);
    CHECK_STR(out, text);
    for (size_t i = 0; i < l.npoints; i++)
        if (l.points[i].id != i + 1 || sb_model_point_by_id(&l, (uint32_t)(i + 1)) != &l.points[i])
            TAP_FAIL("point %zu has id %u", i, l.points[i].id);
    /* bit-exact numbers (the document text only shows 15 digits) */
    for (size_t i = 0; i < m.npoints; i++)
        if (memcmp(&m.points[i].max, &l.points[i].max, sizeof(double)) != 0)
            TAP_FAIL("points[%zu].max changed", i);
    sb_model_release(&l);
    sb_model_release(&m);
    sb_model_errs_release(&e);
    tmpdb_close(&t);
    free(out);
    free(text);
}

TEST(sql_id_stability)
{
    struct tmpdb t;
    struct sb_model m, l;
    struct sb_model_errs e;
    json_t *doc = json_loads(BASE, 0, NULL), *pts = json_object_get(doc, "points");
    long long readings;

    REQUIRE(tmpdb_open(&t) == 0);
    REQUIRE(sb_model_sql_migrate(t.db) == 0);
    /* a stand-in for the store's time-series table */
    REQUIRE(sqlite3_exec(t.db, "CREATE TABLE readings (point INTEGER NOT NULL "
                         "REFERENCES model_point_ids(id), t INTEGER, v REAL)",
                         NULL, NULL, NULL) == SQLITE_OK);
    sb_model_init(&m);
    sb_model_errs_init(&e);
    REQUIRE(sb_model_from_json(doc, &m, &e) == 0);
    REQUIRE(save_tx(t.db, &m) == 0);
    CHECK_EQ(count(t.db, "SELECT id FROM model_points WHERE slug = 'ahu1.sat'"), 1);
    CHECK_EQ(count(t.db, "SELECT id FROM model_points WHERE slug = 'vav1.sp'"), 2);
    REQUIRE(sqlite3_exec(t.db, "INSERT INTO readings VALUES (1, 0, 20.5), (2, 0, 21.0)",
                         NULL, NULL, NULL) == SQLITE_OK);
    sb_model_release(&m);

    /* change the model: drop ahu1.sat, add two points before vav1.sp */
    json_array_remove(pts, 0);
    json_array_insert_new(pts, 0, json_pack("{sssssssssss{ss}}", "id", "vav1.zt", "equipment",
                                            "vav1", "name", "Zone temp", "kind", "temperature",
                                            "unit", "°C", "source", "driver", "virtual"));
    json_array_insert_new(pts, 0, json_pack("{sssssssssss{ss}}", "id", "vav1.flow", "equipment",
                                            "vav1", "name", "Flow", "kind", "flow", "unit",
                                            "L/s", "source", "driver", "virtual"));
    sb_model_init(&m);
    REQUIRE(sb_model_from_json(doc, &m, &e) == 0);
    REQUIRE(sb_model_sql_assign_ids(t.db, &m) == 0);
    CHECK_EQ(sb_model_point(&m, "vav1.sp")->id, 2);    /* kept */
    CHECK_EQ(sb_model_point(&m, "vav1.flow")->id, 3);  /* new: max + 1 */
    CHECK_EQ(sb_model_point(&m, "vav1.zt")->id, 4);
    CHECK(sb_model_point_by_id(&m, 3) == sb_model_point(&m, "vav1.flow"));
    REQUIRE(save_tx(t.db, &m) == 0);
    sb_model_release(&m);

    sb_model_init(&l);
    REQUIRE(sb_model_sql_load(t.db, &l) == 0);
    CHECK_EQ(l.npoints, 3);
    CHECK(sb_model_point(&l, "ahu1.sat") == NULL);
    CHECK_EQ(sb_model_point(&l, "vav1.sp")->id, 2);
    CHECK_EQ(sb_model_point(&l, "vav1.flow")->id, 3);
    CHECK_EQ(sb_model_point(&l, "vav1.zt")->id, 4);
    CHECK(sb_model_point_by_id(&l, 1) == NULL);
    CHECK_STR(l.points[0].slug, "vav1.flow");           /* document order kept */
    sb_model_release(&l);
    readings = count(t.db, "SELECT count(*) FROM readings");
    CHECK_EQ(readings, 2);                              /* history stays */
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_point_ids"), 4);

    /* ahu1.sat comes back: its old id, never reused in between */
    json_array_append_new(pts, json_pack("{sssssssssss{ss}}", "id", "ahu1.sat", "equipment",
                                         "ahu1", "name", "SAT", "kind", "temperature", "unit",
                                         "°F", "source", "driver", "virtual"));
    sb_model_init(&m);
    REQUIRE(sb_model_from_json(doc, &m, &e) == 0);
    REQUIRE(save_tx(t.db, &m) == 0);
    CHECK_EQ(count(t.db, "SELECT id FROM model_points WHERE slug = 'ahu1.sat'"), 1);
    sb_model_release(&m);

    /* saving the empty model keeps the registry */
    sb_model_init(&m);
    REQUIRE(save_tx(t.db, &m) == 0);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_points"), 0);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_sites"), 0);
    CHECK_EQ(count(t.db, "SELECT count(*) FROM model_point_ids"), 4);
    sb_model_init(&l);
    CHECK_EQ(sb_model_sql_load(t.db, &l), 0);
    CHECK_EQ(l.npoints + l.nsites, 0);
    sb_model_release(&l);

    json_decref(doc);
    sb_model_errs_release(&e);
    tmpdb_close(&t);
}

TEST(sql_corrupt_and_future)
{
    struct tmpdb t;
    struct sb_model m;
    struct sb_model_errs e;

    REQUIRE(tmpdb_open(&t) == 0);
    REQUIRE(sb_model_sql_migrate(t.db) == 0);
    REQUIRE(import_text(BASE, &m, &e) == 0);
    REQUIRE(save_tx(t.db, &m) == 0);
    sb_model_release(&m);
    /* a stored row that fails validation */
    REQUIRE(sqlite3_exec(t.db, "UPDATE model_points SET kind = 'bogus' WHERE slug = 'vav1.sp'",
                         NULL, NULL, NULL) == SQLITE_OK);
    sb_model_init(&m);
    CHECK_EQ(sb_model_sql_load_errs(t.db, &m, &e), SB_ECORRUPT);
    CHECK_MSG(&e, "points[1] \"vav1.sp\": kind \"bogus\" is not one of");
    CHECK_EQ(m.npoints, 0);
    sb_model_errs_release(&e);
    REQUIRE(sqlite3_exec(t.db, "UPDATE model_points SET kind = 'setpoint', extra = 'nonsense'"
                         " WHERE slug = 'vav1.sp'", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ(sb_model_sql_load(t.db, &m), SB_ECORRUPT);
    /* a database from a newer sbems */
    REQUIRE(sqlite3_exec(t.db, "UPDATE model_meta SET value = '99' WHERE key = 'schema_version'",
                         NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ(sb_model_sql_migrate(t.db), SB_ENOTSUP);
    /* no tables at all */
    REQUIRE(sqlite3_exec(t.db, "DROP TABLE model_points", NULL, NULL, NULL) == SQLITE_OK);
    CHECK_EQ(sb_model_sql_load(t.db, &m), SB_ESTORE);
    tmpdb_close(&t);
}

/* The ingest path looks up ~1 M ids per second; measure the lookup. */
TEST(point_by_id_speed)
{
    struct sb_model m;
    struct sb_model_errs e;
    size_t len = 0;
    char *text = example_text(&len);
    struct timespec t0, t1;
    uint64_t seed = 42, hits = 0;
    const long n = 20000000;
    double secs;

    REQUIRE(text);
    REQUIRE(import_text(text, &m, &e) == 0);
    for (size_t i = 0; i < m.npoints; i++)
        m.points[i].id = (uint32_t)(i + 1);
    REQUIRE(sb_model_validate(&m, NULL) == 0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        const struct sb_point *p = sb_model_point_by_id(&m, (uint32_t)(tap_rand(&seed) % 200));
        hits += p != NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("# point_by_id: %.1f M lookups/s (%llu hits)\n", n / secs / 1e6,
           (unsigned long long)hits);
    CHECK(hits > 0);
    CHECK(n / secs > 1e6);
    sb_model_release(&m);
    sb_model_errs_release(&e);
    free(text);
}

int main(void)
{
    TAP_START();
    RUN(example_validates);
    RUN(example_round_trip);
    RUN(base_round_trip);
    RUN(rule_ids);
    RUN(rule_references);
    RUN(rule_cross_building);
    RUN(rule_cycles);
    RUN(rule_building_fields);
    RUN(rule_comfort);
    RUN(rule_schedule);
    RUN(rule_points);
    RUN(rule_writable_forced);
    RUN(rule_energy_and_source);
    RUN(rule_document);
    RUN(errors_collected);
    RUN(errors_capped);
    RUN(kind_tables);
    RUN(slugs);
    RUN(lookups_and_conversion);
    RUN(schedules);
    RUN(merge_adds_a_floor);
    RUN(clone);
    RUN(sql_round_trip);
    RUN(sql_id_stability);
    RUN(sql_corrupt_and_future);
    RUN(point_by_id_speed);
    TAP_END();
}

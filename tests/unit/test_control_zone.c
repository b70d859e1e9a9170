/* test_control_zone.c - a zone's supervisory sources (control/zone.c) and
 * a building's control settings (control/settings.c): optimal start inside
 * the lead only, setback after the vacancy delay and never on an unknown
 * reading, a tenant override until its expiry; settings parsed strictly,
 * written back canonically, modes capped by the building's. */
#include "tap.h"

#include <jansson.h>

#include "control/settings.h"
#include "control/zone.h"
#include "core/err.h"

#define H 3600000LL
#define T0 1790000000000LL

static struct sb_zsup_in base(void)
{
    struct sb_zsup_in in;

    memset(&in, 0, sizeof(in));
    in.now_ms = T0;
    in.now.mode = SB_CMODE_UNOCCUPIED;
    in.now.band = (struct sb_band){ 15.0, 30.0 };
    in.now.next_ms = T0 + 2 * H;
    in.next_occ.mode = SB_CMODE_OCCUPIED;
    in.next_occ.band = (struct sb_band){ 21.0, 24.0 };
    in.next_occ.since_ms = T0 + 2 * H;          /* occupancy in 2 h */
    in.temp = 17.0;
    in.lead_h = NAN;
    in.standby = (struct sb_band){ 20.0, 25.0 };
    in.occ_band = (struct sb_band){ 21.0, 24.0 };
    in.vacancy_delay_ms = 20 * 60000;
    return in;
}

TEST(lead_from_the_gap_and_rate)
{
    struct sb_band b = { 21.0, 24.0 };

    CHECK_DBL(sb_zsup_lead(17.0, &b, 2.0, 3.0, 3.0), 4.0 / 2.0 + 0.25, 1e-12);
    CHECK_DBL(sb_zsup_lead(27.0, &b, 2.0, 3.0, 3.0), 3.0 / 3.0 + 0.25, 1e-12);
    CHECK_DBL(sb_zsup_lead(22.0, &b, 2.0, 3.0, 3.0), 0.0, 0);
    CHECK_DBL(sb_zsup_lead(10.0, &b, 2.0, 3.0, 3.0), 3.0, 0);        /* capped */
    CHECK(isnan(sb_zsup_lead(NAN, &b, 2.0, 3.0, 3.0)));
    CHECK(isnan(sb_zsup_lead(17.0, &b, 0.0, 3.0, 3.0)));
}

TEST(optimal_start_only_inside_the_lead)
{
    struct sb_zsup_in in = base();
    struct sb_zsup_out o;

    in.lead_h = 1.5;                             /* occupancy is 2 h away: not yet */
    sb_zsup_eval(&in, &o);
    CHECK_EQ(o.mode, SB_CMODE_UNOCCUPIED);
    CHECK_DBL(o.schedule.band.heating, 15.0, 0);
    CHECK_EQ(o.schedule.until_ms, T0 + 2 * H);
    CHECK(strstr(o.schedule.reason, "unoccupied by the schedule") != NULL);
    in.lead_h = 2.25;                            /* now it is */
    sb_zsup_eval(&in, &o);
    CHECK_EQ(o.mode, SB_CMODE_OCCUPIED);
    CHECK_DBL(o.schedule.band.heating, 21.0, 0);
    CHECK_STR(o.schedule.reason, "optimal start: 2.2 h lead");
    CHECK(!o.setback.active && !o.tenant.active);
    in.lead_h = NAN;                             /* no temperature: the schedule alone */
    sb_zsup_eval(&in, &o);
    CHECK_EQ(o.mode, SB_CMODE_UNOCCUPIED);
}

/* Optimal stop: from its time to the end of the occupied period the next
 * period's band; before it, or with no stop decided, the occupied band;
 * the zone stays "occupied" (a vacancy setback still applies). */
TEST(optimal_stop_from_its_time)
{
    struct sb_zsup_in in = base();
    struct sb_zsup_out o;

    in.now.mode = SB_CMODE_OCCUPIED;
    in.now.band = (struct sb_band){ 21.0, 24.0 };
    in.now.next_ms = T0 + 30 * 60000;            /* occupancy ends in 30 min */
    in.after.mode = SB_CMODE_UNOCCUPIED;
    in.after.band = (struct sb_band){ 15.0, 30.0 };
    in.stop_at_ms = T0 + 10 * 60000;             /* not yet */
    sb_zsup_eval(&in, &o);
    CHECK_DBL(o.schedule.band.heating, 21.0, 0);
    in.stop_at_ms = T0 - 60000;                  /* now */
    sb_zsup_eval(&in, &o);
    CHECK_DBL(o.schedule.band.heating, 15.0, 0);
    CHECK_DBL(o.schedule.band.cooling, 30.0, 0);
    CHECK_EQ(o.schedule.until_ms, T0 + 30 * 60000);
    CHECK_STR(o.schedule.reason, "optimal stop: 30 min before unoccupied");
    CHECK_EQ(o.mode, SB_CMODE_OCCUPIED);
    in.after.mode = SB_CMODE_OCCUPIED;           /* occupied again after: no stop */
    sb_zsup_eval(&in, &o);
    CHECK_DBL(o.schedule.band.heating, 21.0, 0);
    in.after.mode = SB_CMODE_UNOCCUPIED;
    in.stop_at_ms = 0;                           /* none decided */
    sb_zsup_eval(&in, &o);
    CHECK_DBL(o.schedule.band.heating, 21.0, 0);
}

TEST(setback_after_the_delay_never_when_unknown)
{
    struct sb_zsup_in in = base();
    struct sb_zsup_out o;

    in.now.mode = SB_CMODE_OCCUPIED;
    in.now.band = (struct sb_band){ 21.0, 24.0 };
    in.occ_known = 1;
    in.occupied = 0;
    in.vacant_since_ms = T0 - 19 * 60000;        /* 19 min vacant: not yet */
    sb_zsup_eval(&in, &o);
    CHECK(!o.setback.active);
    CHECK_EQ(o.mode, SB_CMODE_OCCUPIED);
    in.vacant_since_ms = T0 - 20 * 60000;
    sb_zsup_eval(&in, &o);
    CHECK(o.setback.active);
    CHECK_EQ(o.mode, SB_CMODE_STANDBY);
    CHECK_DBL(o.setback.band.cooling, 25.0, 0);
    CHECK_STR(o.setback.reason, "vacant for 20 min");
    CHECK(o.schedule.active);                    /* the schedule still holds its command */
    in.occ_known = 0;                            /* stale sensor: no setback */
    sb_zsup_eval(&in, &o);
    CHECK(!o.setback.active);
    in.occ_known = 1;
    in.occupied = 1;
    sb_zsup_eval(&in, &o);
    CHECK(!o.setback.active);
    in.occupied = 0;
    in.vacancy_delay_ms = 0;                     /* setback off */
    sb_zsup_eval(&in, &o);
    CHECK(!o.setback.active);
    /* outside occupied hours there is nothing to set back */
    in = base();
    in.occ_known = 1;
    in.vacant_since_ms = T0 - H;
    sb_zsup_eval(&in, &o);
    CHECK(!o.setback.active);
}

TEST(tenant_override_until_expiry)
{
    struct sb_zsup_in in = base();
    struct sb_zsup_out o;

    in.override_until_ms = T0 + H / 2;
    sb_zsup_eval(&in, &o);
    CHECK(o.tenant.active);
    CHECK_EQ(o.mode, SB_CMODE_OCCUPIED);
    CHECK_DBL(o.tenant.band.heating, 21.0, 0);
    CHECK_EQ(o.tenant.until_ms, T0 + H / 2);
    CHECK_STR(o.tenant.reason, "after-hours override, 0.5 h left");
    in.now_ms = T0 + H / 2;                      /* expired */
    sb_zsup_eval(&in, &o);
    CHECK(!o.tenant.active);
}

TEST(settings_parse_and_round_trip)
{
    const char *doc =
        "{\"mode\":\"auto\",\"vacancy_delay_min\":10,\"ramp_k_per_h\":3,\"optimizer\":true,"
        "\"zones\":{\"z1\":{\"mode\":\"advisory\",\"schedule\":{\"week\":{\"mon-fri\":[{\"time\":\"07:00-19:00\"}]}}},"
        "\"z2\":{\"vacancy_delay_min\":0}},"
        "\"overrides\":{\"z3\":{\"until\":\"2026-11-28T20:00:00Z\",\"by\":\"ann\",\"reason\":\"late\"}}}";
    json_t *j = json_loads(doc, 0, NULL), *back;
    struct sb_ctlset s, s2;
    char err[256];

    REQUIRE(sb_ctlset_parse(j, &s, err, sizeof(err)) == 0);
    CHECK_EQ(s.mode, SB_CTL_AUTO);
    CHECK_EQ(s.optimizer, 1);
    CHECK_EQ(s.optimal_start, 1);
    CHECK_EQ(s.vacancy_ms, 600000);
    CHECK_EQ(s.nz, 3);
    struct sb_ctlset_zone *z1 = sb_ctlset_zone(&s, "z1"), *z2 = sb_ctlset_zone(&s, "z2");
    REQUIRE(z1 && z2);
    CHECK(z1->has_sched);
    CHECK_EQ(sb_ctlset_mode(&s, z1), SB_CTL_ADVISORY);
    CHECK_EQ(sb_ctlset_mode(&s, z2), SB_CTL_AUTO);
    CHECK_EQ(z2->vacancy_ms, 0);
    CHECK_EQ(sb_ctlset_zone(&s, "z3")->override_until_ms, 1795896000000LL);
    /* written back, it parses to the same document */
    back = sb_ctlset_to_json(&s);
    /* and a zone's schedule is written as given: no default setpoints baked
     * in, so the zone's own comfort bands still apply to what it leaves out */
    json_t *given = json_object_get(json_object_get(json_object_get(j, "zones"), "z1"), "schedule");
    json_t *kept = json_object_get(json_object_get(json_object_get(back, "zones"), "z1"), "schedule");
    CHECK(json_equal(given, kept));
    CHECK(kept && !json_object_get(kept, "setpoints"));
    REQUIRE(sb_ctlset_parse(back, &s2, err, sizeof(err)) == 0);
    json_t *again = sb_ctlset_to_json(&s2);
    CHECK(json_equal(back, again));
    json_decref(again);
    /* the building caps the zone */
    s2.mode = SB_CTL_OFF;
    CHECK_EQ(sb_ctlset_mode(&s2, sb_ctlset_zone(&s2, "z1")), SB_CTL_OFF);
    sb_ctlset_release(&s2);
    json_decref(back);
    sb_ctlset_release(&s);
    json_decref(j);
}

static void refused(const char *doc, const char *want)
{
    json_t *j = json_loads(doc, 0, NULL);
    struct sb_ctlset s;
    char err[256] = "";

    CHECK_EQ(sb_ctlset_parse(j, &s, err, sizeof(err)), SB_EINVAL);
    if (!strstr(err, want))
        TAP_FAIL("%s: \"%s\" lacks \"%s\"", doc, err, want);
    CHECK_EQ(s.nz, 0);                           /* nothing left behind */
    json_decref(j);
}

TEST(settings_refused_with_the_field)
{
    struct sb_ctlset s;
    char err[64];

    refused("{\"mode\":\"turbo\"}", "mode: off, advisory or auto");
    refused("{\"ramp_k_per_h\":0}", "ramp_k_per_h: a number from 0.1 to 60");
    refused("{\"colour\":1}", "colour: unknown field");
    refused("{\"zones\":{\"z\":{\"schedule\":{\"exceptions\":[{\"date\":\"2026-02-30\",\"periods\":\"closed\"}]}}}}",
            "zones.z.schedule: ");
    refused("{\"zones\":{\"z\":{\"mode\":1}}}", "zones.z.mode");
    refused("{\"overrides\":{\"z\":{\"until\":\"tomorrow\"}}}", "overrides.z.until");
    refused("{\"holidays_ical\":5}", "holidays_ical");
    refused("{\"optimizer\":\"yes\"}", "optimizer: true or false");
    refused("[]", "a JSON object");
    CHECK_EQ(sb_ctlset_parse(NULL, &s, err, sizeof(err)), SB_EINVAL);
}

int main(void)
{
    TAP_START();
    RUN(lead_from_the_gap_and_rate);
    RUN(optimal_start_only_inside_the_lead);
    RUN(optimal_stop_from_its_time);
    RUN(setback_after_the_delay_never_when_unknown);
    RUN(tenant_override_until_expiry);
    RUN(settings_parse_and_round_trip);
    RUN(settings_refused_with_the_field);
    TAP_END();
}

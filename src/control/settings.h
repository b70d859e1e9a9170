/*
 * settings.h - a building's supervisory control settings: the document
 * behind GET/PUT /api/v1/buildings/{b}/control, stored as the app
 * database's "control" document keyed by the building.
 *
 *   {"mode": "advisory",               off | advisory | auto (default advisory:
 *                                      nothing is written until someone says so)
 *    "optimal_start": true, "max_lead_h": 3, "default_rate_k_per_h": 2,
 *    "optimizer": false,               the MPC's plan as a source (priority 12), re-planned every 15 min
 *    "vacancy_delay_min": 20,          occupancy setback after this long vacant (0: never)
 *    "ramp_k_per_h": 2,                a setpoint moves away from comfort at most this fast
 *    "recover_k_per_h": 6,             ... and back towards it at most this fast (never a step)
 *    "holidays_ical": "BEGIN:VCALENDAR...",   closures imported (RFC 5545, control/ical.h)
 *    "native_check_min": 60,           a native schedule is read back (and rewritten
 *                                      when it drifted) this often
 *    "zones": {"<zone>": {"mode": "auto", "vacancy_delay_min": 10,
 *                         "schedule": {control schedule, control/sched.h},
 *                         "native_schedule": "schedule:1",   the controller's own
 *                                      BACnet Schedule runs the zone's occupancy
 *                                      (control/native.h, nsync.h)
 *                         "native_calendar": "calendar:1"}}, .. and its Calendar
 *                                      holds the holidays (needs native_schedule)
 *    "overrides": {"<zone>": {"until": "RFC 3339", "by": "ann", "reason": "..."}}}
 *
 * Every field is optional; a zone without a schedule runs its occupancy
 * schedule and comfort bands from the building model, with the building's
 * holidays (tariff holidays and the imported calendar).  A zone's mode is
 * capped by the building's (off > advisory > auto).  Overrides are written
 * by the override endpoints, not by PUT (which keeps the stored ones).
 *
 * Pure (JSON in, struct out; the calendar parsed with the building's zone).
 * Ownership: sb_ctlset_release frees what a struct sb_ctlset owns.
 * Threads: any.
 */
#ifndef SB_CONTROL_SETTINGS_H
#define SB_CONTROL_SETTINGS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "control/sched.h"

#define SB_CTLSET_ZONES  512
#define SB_CTLSET_SLUG   64

enum sb_ctlmode { SB_CTL_OFF = 0, SB_CTL_ADVISORY = 1, SB_CTL_AUTO = 2 };

struct sb_ctlset_zone {
    char zone[SB_CTLSET_SLUG];
    int mode;                      /* enum sb_ctlmode, -1: the building's */
    int64_t vacancy_ms;            /* -1: the building's */
    int has_sched;
    struct sb_csched sched;        /* when has_sched (owned), bands defaulted */
    char *sched_json;              /* when has_sched: the schedule as given (owned);
                                      the service re-reads it over the zone's own
                                      comfort bands, so bands it leaves out are the
                                      zone's, not a default baked into the settings */
    int64_t native_sched;          /* the Schedule object (instance) on the zone's controller
                                      that runs its occupancy, -1: none (sbems commands it) */
    int64_t native_cal;            /* the Calendar object (instance) its holidays go to, -1: none
                                      (they go into the Schedule's Exception_Schedule) */
    int64_t override_until_ms;     /* 0: none */
    char override_by[72];
    char override_reason[160];
};

struct sb_ctlset {
    int mode;                      /* enum sb_ctlmode */
    int optimal_start;
    int optimizer;                 /* the MPC plan is a source */
    double max_lead_h;
    double default_rate;           /* K/h */
    double demand_limit_kw;        /* the demand limiter's limit; 0: off */
    double ramp_k_per_h;           /* away from comfort, K/h */
    double recover_k_per_h;        /* towards comfort, K/h */
    int64_t vacancy_ms;            /* 0: no setback */
    int64_t native_check_ms;       /* native schedules are read back this often */
    char *ical;                    /* the calendar text as given (owned), NULL none */
    size_t nz;
    struct sb_ctlset_zone *z;      /* nz zones (owned) */
};

/* Defaults (no document). */
void sb_ctlset_init(struct sb_ctlset *s);
void sb_ctlset_release(struct sb_ctlset *s);

/* Parse doc into s (initialised by this call).  Zone slugs are checked by
 * the caller (the model), schedules and the calendar here.  0, or SB_EINVAL
 * with "zones.z-1.schedule: ..." in err. */
int sb_ctlset_parse(const json_t *doc, struct sb_ctlset *s, char *err, size_t cap);

/* The document of s (new reference; schedules in their canonical form). */
json_t *sb_ctlset_to_json(const struct sb_ctlset *s);

/* The zone's entry, NULL when it has none. */
struct sb_ctlset_zone *sb_ctlset_zone(struct sb_ctlset *s, const char *zone);

/* The zone's entry, added when missing; NULL past SB_CTLSET_ZONES or ENOMEM. */
struct sb_ctlset_zone *sb_ctlset_zone_add(struct sb_ctlset *s, const char *zone);

/* The mode in force for a zone: its own capped by the building's. */
int sb_ctlset_mode(const struct sb_ctlset *s, const struct sb_ctlset_zone *z);

const char *sb_ctlmode_name(int mode);     /* "off", "advisory", "auto" */

#endif /* SB_CONTROL_SETTINGS_H */

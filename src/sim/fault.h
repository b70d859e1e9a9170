/*
 * fault.h - sbems-sim's fault manager: faults injected on the simulated
 * building by the command line (--faults FILE), the control endpoint
 * (httpd.h, POST /control/v1/faults) or a test, started and ended on
 * simulated time, with ground truth written to a label file for scoring
 * fault detection.
 *
 * A request is a JSON object:
 *   {"class": "oa_damper_stuck", "equipment": "AHU-1", "value": 100,
 *    "start": "+10m" | "2026-07-01T08:00:00Z" (simulated time; default now),
 *    "duration": "2h" | seconds (default: until cleared)}
 * "+10m" and "now" count from the simulated time of the injection, or, in
 * a backfill (sb_simfault_set_period), from the backfill's first row.
 * "value" is required except for fan_failure and the communication faults.
 * Classes: the plant's physical faults (sb_plant_fault_name(): stuck or
 * leaking valves, stuck dampers, sensor bias and drift, fan failure,
 * chiller COP degradation) on AHU-f / VAV-f-zz / CH-1 devices, and two
 * communication faults the protocol faces act on: "device_offline" (any
 * device: it stops answering or publishing) and "meter_dropout" (a meter
 * stops answering: a gap in the metered data).
 *
 * Labels: one JSON line per event to the label file (opened for append):
 *   {"id":3,"event":"start"|"end","class":…,"equipment":"AHU-1","site":"hpo",
 *    "value":…,"start":"<sim RFC 3339>","end":null|"<sim RFC 3339>",
 *    "start_wall":…, "end_wall":…}
 * The last line of an id is its whole truth.  Wall times matter when the
 * simulator runs accelerated: sbems stamps readings in wall time.
 *
 * Threads: one thread (the loop's, or the backfill's, which has no loop).
 * Ownership: borrows the plants (they outlive it).
 */
#ifndef SB_SIM_FAULT_H
#define SB_SIM_FAULT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct sb_plant;
struct sb_simfault;

/* label_file may be NULL (no labels).  Returns 0, SB_EIO (cannot open), SB_ENOMEM. */
int  sb_simfault_new(const char *label_file, struct sb_simfault **out, char *err, size_t errlen);
void sb_simfault_free(struct sb_simfault *f);

/* A site whose devices are named "AHU-1" (index 0) or "<BLDG>-AHU-1". */
int  sb_simfault_add_site(struct sb_simfault *f, struct sb_plant *plant, const char *building,
                          int index);
/* A device a face serves (for device_offline / meter_dropout); meter marks
 * a meter. */
int  sb_simfault_add_device(struct sb_simfault *f, const char *name, int meter);

/* Confines the faults injected from now on to a backfill whose rows run
 * from first_ms to last_ms (simulated time): relative starts count from
 * first_ms, and a start outside [first_ms, last_ms] is refused with
 * SB_ERANGE ("start: 2023-07-09T12:00:00.000Z is before the backfill's
 * first row 2023-07-10T05:05:00.000Z").  Inject with sim_now_ms before
 * first_ms (the plants' start), so that only the backfill's own ticks
 * start faults.  SB_EINVAL if last_ms < first_ms. */
int  sb_simfault_set_period(struct sb_simfault *f, int64_t first_ms, int64_t last_ms);

/* Schedules a fault.  Returns its id (> 0), or SB_EINVAL / SB_ENOENT /
 * SB_ERANGE with the reason in err ("equipment: no AHU, VAV or chiller named VAV-9-01"). */
int  sb_simfault_inject(struct sb_simfault *f, const json_t *req, int64_t sim_now_ms,
                        int64_t wall_now_ms, char *err, size_t errlen);
/* Ends a fault now (a scheduled one is dropped).  0 or SB_ENOENT. */
int  sb_simfault_clear(struct sb_simfault *f, int id, int64_t sim_now_ms, int64_t wall_now_ms);
/* Starts and ends faults due at sim_now_ms; call before each plant step. */
void sb_simfault_tick(struct sb_simfault *f, int64_t sim_now_ms, int64_t wall_now_ms);
/* Every fault with its state ("scheduled", "active", "ended"); caller owns. */
json_t *sb_simfault_list(const struct sb_simfault *f);
/* sb_sim_offline_fn (face.h): 1 while the named device is offline. */
int  sb_simfault_offline(void *f, const char *name);

/* Loads a JSON array of requests from a file and injects them all. */
int  sb_simfault_load(struct sb_simfault *f, const char *path, int64_t sim_now_ms,
                      int64_t wall_now_ms, char *err, size_t errlen);

#endif /* SB_SIM_FAULT_H */

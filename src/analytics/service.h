/*
 * service.h - analytics in the daemon (docs/internals/analytics.md): load
 * forecasts per meter and thermal models per zone, trained from the
 * building's own history in the store, kept in the app database, retrained
 * nightly and when a forecast's error drifts; forecasts issued every hour
 * and logged so they can be charted against what the meter measured.
 *
 * Threads: one worker thread does all training and issuing; nothing here
 * runs on the loop except a timer that picks up the weather driver.  The
 * sb_analytics_* query functions block (store and database reads, a model
 * simulation) and are meant for the API's thread pool; they may run
 * concurrently with the worker.
 *
 * Ownership: the service borrows the loop, store, database, model hub and
 * driver manager, which must outlive it (sb_analytics_stop, wait for
 * sb_analytics_idle, then sb_analytics_free).  JSON results are new
 * references owned by the caller.
 */
#ifndef SB_ANALYTICS_SERVICE_H
#define SB_ANALYTICS_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "db/appdb.h"
#include "store/store.h"

struct sb_mhub;
struct sb_drvmgr;
struct sb_alerts;
struct sb_analytics;

struct sb_analytics_cfg {
    uv_loop_t *loop;
    struct sb_store_h *store;
    struct sb_appdb *db;
    struct sb_mhub *models;
    struct sb_drvmgr *drivers;     /* NULL: no weather forecast (persistence is used, and said) */
    int train_hour;                /* local hour of the nightly retrain, 0..23 (default 2) */
    int history_days;              /* load model training window, days (default 730) */
    int zone_days;                 /* zone model training window, days (default 28) */
    int64_t first_pass_ms;         /* delay of the first pass after start (default 5 s) */
    int64_t (*now_ms)(void);       /* clock (tests); NULL = wall clock */
    struct sb_alerts *alerts;      /* where fault findings go; NULL: fault detection off */
    const char *smtp_url;          /* report e-mails (alerts.smtp_url); NULL = none */
    const char *smtp_from;
    /* Fault impact (docs/internals/fdd.md, "Impact"): cooling plant COP used
     * to turn wasted cooling into electricity (default 3.5), heating plant
     * efficiency (default 0.9), price of heating fuel per kWh in the
     * tariff's currency (0: fuel not priced). */
    double cooling_cop, heat_efficiency, heat_price;
    /* Offline runs (sbems fdd): when set, findings go to this function
     * (raise 1 with the whole finding, 0 with its id and cleared_at) and
     * neither to the database nor to alerts.  The JSON is borrowed. */
    void (*fdd_sink)(void *ud, json_t *finding, int raise);
    void *fdd_sink_ud;
    /* Several nodes (cluster.leases): the scheduled passes - training,
     * forecasts, reports, fault detection - run only while this answers 1
     * (the node holds the cluster's duties lease, cluster/lease.h); requests
     * (a retrain asked through the API) run anyway.  NULL: always. */
    int (*duties)(void *ud);
    void *duties_ud;
    int64_t fdd_from_ms;           /* offline runs: where detectors start (0: three hours back) */
};

int  sb_analytics_new(const struct sb_analytics_cfg *cfg, struct sb_analytics **out);

/* The latest load forecast of meter (an equipment slug of type meter) for
 * horizon_h hours (1..72): {"meter", "building", "unit", "issued", "model",
 * "level", "temperature_source", "trained", "training_window", "scores",
 * "points": [{"t", "kwh", "lo", "hi"}]}.  Returns 0; SB_ENOENT (no such
 * meter); SB_EAGAIN (not trained yet: err says why - too little data is
 * said with what is needed and what there is); SB_EINVAL (horizon). */
int  sb_analytics_load_forecast(struct sb_analytics *a, const char *meter, int horizon_h,
                                json_t **out, char *err, size_t errlen);

/* Forecast against actual for meter over [t0, t1) at one horizon (1..72,
 * 0 = day-ahead values issued at local midnight): rows and CV(RMSE)/NMBE. */
int  sb_analytics_load_accuracy(struct sb_analytics *a, const char *meter, int64_t t0, int64_t t1,
                                int horizon_h, json_t **out, char *err, size_t errlen);

/* Zone temperature prediction for hours (1..72) from now under a setpoint
 * plan: heat_sp/cool_sp constant (°C) when finite, else the zone's comfort
 * band by its schedule.  {"zone", "issued", "model", "scores", "points":
 * [{"t", "temperature", "heating_sp", "cooling_sp", "hvac_kw"}]}. */
int  sb_analytics_zone_forecast(struct sb_analytics *a, const char *zone, int hours, double heat_sp,
                                double cool_sp, json_t **out, char *err, size_t errlen);

/* The building's optimal plan for the next hours (1..48) at 15-minute
 * steps (control/mpc.h): every zone with a thermal model, its comfort
 * bands by its schedule, the building's tariff (energy prices and demand
 * charges) - and the schedule's fixed setpoints on the same models as the
 * baseline: {"building","issued","status","currency","solve_s","steps",
 * "plan":{totals},"baseline":{totals},"zones":[{"zone","points":[{"t",
 * "heating_sp","cooling_sp","temperature","hvac_kw"}]}]}, totals
 * {"kwh_electric","kwh_fuel","kwh_cooling","kwh_heating","cost",
 * "cost_energy","cost_demand","peak_kw","discomfort_kh"}.  SB_ENOENT
 * unknown building, SB_EAGAIN no tariff or no zone model yet (err says
 * which), SB_EINVAL hours. */
int  sb_analytics_plan(struct sb_analytics *a, const char *building, int hours, json_t **out, char *err,
                       size_t errlen);

/* Status of every model of building (NULL: all): {"meters": [...], "zones":
 * [...], "fdd": [...]} (fdd: each air handler, watched or why not). */
int  sb_analytics_models(struct sb_analytics *a, const char *building, json_t **out);

/* Ask the worker to retrain a meter's or a zone's model now (slug), or all
 * of a building's (building slug).  Returns 0 or SB_ENOENT. */
int  sb_analytics_retrain(struct sb_analytics *a, const char *slug);

/* Scheduled reports (docs/internals/analytics-reports.md).  A definition is
 * a "report" document {"id", "building", "name", "frequency": daily|weekly|
 * monthly, "formats": [xlsx|csv|json], "email": [...], "webhook": url|null,
 * "secret" (the webhook's HMAC key, set by the API), "keep": 1..100,
 * "baseline": "D1/D2"|null, "enabled"}; the worker generates each after its
 * period ends, keeps the files and delivers them.
 *
 * sb_analytics_report_check validates a definition (without "secret"): 0 or
 * SB_EINVAL with "field: problem" in err. */
int  sb_analytics_report_check(json_t *def, char *err, size_t errlen);

/* Generates report id now for the period holding local date day
 * ("YYYY-MM-DD"; NULL = the last complete period), keeps and delivers the
 * files; *files lists them ({"id","name","format","bytes","created"}).
 * Returns 0, SB_ENOENT, SB_EINVAL (period not ended, bad day: err). */
int  sb_analytics_report_run(struct sb_analytics *a, const char *id, const char *day, json_t **files,
                             char *err, size_t errlen);

struct sb_analytics_stats {
    uint64_t trained, train_failed, issued, drift_retrains, zone_trained, zone_failed;
};
void sb_analytics_stats(struct sb_analytics *a, struct sb_analytics_stats *st);

/* Fault detection over stored history, without a daemon (sbems fdd): every
 * detector runs over [from_ms, to_ms) and its findings go to
 * cfg->fdd_sink (required; nothing is stored or alerted).  Blocks; uses
 * cfg->store, cfg->models and cfg->db (the units' FDD settings and the
 * tariffs; may be NULL).  Returns 0 or SB_EINVAL / SB_ENOMEM. */
int  sb_fdd_offline(const struct sb_analytics_cfg *cfg, int64_t from_ms, int64_t to_ms);

void sb_analytics_stop(struct sb_analytics *a);   /* worker and timer */
int  sb_analytics_idle(struct sb_analytics *a);   /* 1 once its handles are closed */
void sb_analytics_free(struct sb_analytics *a);

#endif /* SB_ANALYTICS_SERVICE_H */

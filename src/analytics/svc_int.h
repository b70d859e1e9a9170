/*
 * svc_int.h - internals shared by the analytics service's files
 * (service.c: lifecycle, worker, scheduling; svc_load.c: meter forecasts;
 * svc_zone.c: zone thermal models).  Not for other modules.
 *
 * Locking: mu guards the request list, the weather pointer, the stop flag
 * and the statistics; cmu guards the forecast cache.  Training and store
 * reads run without either lock held.
 */
#ifndef SB_ANALYTICS_SVC_INT_H
#define SB_ANALYTICS_SVC_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "alerts/notify.h"
#include "analytics/service.h"
#include "model/hub.h"

#define SVC_MOD "analytics"
#define SVC_MAX_REQ 64
#define SVC_HORIZON 72

/* The last forecast issued for a meter (the API answers from it). */
struct svc_fc {
    char meter[SB_DOC_KEY_MAX + 1];
    char building[65];
    char model[33];                  /* "gbm", "towt", "naive" */
    char temp_source[16];            /* "forecast", "persistence", "measured" */
    int64_t issued_ms;               /* the hour it starts at */
    double level;                    /* interval level, e.g. 0.9 */
    double yhat[SVC_HORIZON], lo[SVC_HORIZON], hi[SVC_HORIZON];
};

struct sb_analytics {
    struct sb_analytics_cfg cfg;
    pthread_t th;
    int th_ok;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_int stop;                             /* set under mu, read anywhere */
    char req[SVC_MAX_REQ][SB_DOC_KEY_MAX + 1];   /* retrain requests (slugs), under mu */
    int nreq;
    void *wx;                                    /* weather driver state, under mu */
    uv_timer_t timer;                            /* loop: refreshes wx */
    int timer_on, closing, closed;
    pthread_mutex_t cmu;                         /* guards fc[] */
    struct svc_fc *fc;
    size_t nfc, capfc;
    int64_t last_hour_ms;                        /* worker only */
    int64_t last_nightly_day;                    /* worker only */
    struct sb_analytics_stats st;                /* under mu */
    struct sb_notify *notify;                    /* report delivery (e-mail, webhook) */
    struct svc_fdd_unit *fdd;                    /* AHU fault detectors, worker only */
    size_t nfdd, capfdd;
    struct svc_vav_unit *vav;                    /* VAV box detectors, worker only */
    size_t nvav, capvav;
    struct svc_plant_unit *plant;                /* chillers, sensors, meters, energy: worker only */
    size_t nplant, capplant;
    struct svc_sensor_unit *sens;                /* point and meter checks, worker only */
    size_t nsens, capsens;
    int32_t *offline;                            /* equipment with a comm-offline finding */
    size_t noffline, capoffline;
    struct svc_energy *energy;                   /* energy anomaly state per meter, worker only */
    size_t nenergy, capenergy;
    struct svc_fcrule *fcr;                      /* forecast alert rules' runs, worker only */
    size_t nfcr, capfcr;
    struct svc_price *price;                     /* tariff price per building, worker only */
    size_t nprice, capprice;
    int64_t last_purge_ms;                       /* worker only */
    pthread_mutex_t rmu;                         /* one report generation at a time */
};

int64_t svc_now(const struct sb_analytics *a);

/* The weather forecast of variable for hours from from_ms (hourly, NaN
 * where none): 1 when the weather driver answered, 0 when not. */
int svc_weather(struct sb_analytics *a, const char *variable, int64_t from_ms, size_t hours,
                double *out);


/* Meter forecasts (svc_load.c). */
int  svc_load_train(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix);
/* Issues the 72 h forecast from hour, logs it, and retrains on drift. */
int  svc_load_issue(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix, int64_t hour_ms);
json_t *svc_load_status(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix);

/* Zone models (svc_zone.c). */
int  svc_zone_train(struct sb_analytics *a, const struct sb_model *m, size_t zone_ix);
json_t *svc_zone_status(struct sb_analytics *a, const struct sb_model *m, size_t zone_ix);

/* Fault detection on air handlers (svc_fdd.c): the minutes since the last
 * pass through the APAR rules (worker); a unit's binding state for the
 * model status. */
struct svc_fdd_unit;
void svc_fdd_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now);
json_t *svc_fdd_status(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix);
/* An air handler's point by role, bound as its APAR detector binds them. */
enum { SVC_AHU_SAT, SVC_AHU_FAN, SVC_AHU_SPEED, SVC_AHU_CMD, SVC_AHU_RAT, SVC_AHU_SATSP };
const struct sb_point *svc_ahu_point(const struct sb_model *m, const struct sb_equipment *ahu, int role);

/* Findings (svc_find.c): one finding of any detector.  Strings and points
 * are borrowed for the call; evidence is a JSON array of
 * {"label","point","value","unit"} (svc_find_ev appends one). */
struct svc_find {
    const struct sb_equipment *e;      /* the equipment at fault */
    const char *key;                   /* what it is about when not the equipment (a point's
                                          slug for sensor checks); NULL = e->slug */
    const char *kind;                  /* "ahu", "vav", "chiller", "sensor", "meter", "energy" */
    char check[40];                    /* "apar-13", "vav-6", "chiller-cop", ... (a slug) */
    char title[200];                   /* what was found, in words */
    char faults[240];                  /* likely fault classes, comma-separated */
    char action[400];                  /* what to check first */
    int severity;                      /* SB_ALERT_SEV_* */
    double value;                      /* the alert's value (the check's measure) */
    json_t *evidence;                  /* borrowed */
    const struct sb_point *chart[8];   /* points to chart around the finding */
    int nchart;
    double elec_kwh_day, heat_kwh_day; /* estimated waste per day, NAN = unknown */
    char basis[400];                   /* how the impact was estimated, or why not */
};
struct svc_price;
struct svc_vav_unit;
struct svc_plant_unit;
void svc_find_raise(struct sb_analytics *a, const struct sb_model *m, const struct svc_find *f,
                    int64_t since_ms, int64_t t_ms);
void svc_find_clear(struct sb_analytics *a, const struct sb_equipment *e, const char *key, const char *check,
                    int64_t t_ms);
void svc_find_purge(struct sb_analytics *a, int64_t now);
void svc_find_ev(json_t *ev, const char *label, const struct sb_point *p, double value, const char *unit);
/* Reads n minutes from from_ms of pts[0..k-1] (NULL entries give NULL
 * arrays): statuses, commands and energy counters as the minute's last
 * value, the rest as its mean.  v[i] are malloc'd (free with svc_free_minutes).  Returns 0, or
 * an error (then every v[i] is NULL). */
int  svc_read_minutes(struct sb_analytics *a, const struct sb_point *const *pts, int k, int64_t from_ms,
                      size_t n, double **v);
void svc_free_minutes(double **v, int k);
/* The next chunk of a detector's minutes, [next_ms, upto) and at most six
 * hours, read as svc_read_minutes does: the number of minutes, 0 when
 * there is nothing to do or the read failed (v then all NULL). */
size_t svc_chunk(struct sb_analytics *a, const struct sb_point *const *pts, int k, int64_t next_ms, int64_t upto,
                 double **v);
/* A new zeroed element at the end of the array *v of *n elements (*cap
 * held, size bytes each; capacity doubles, first when empty), *n counted;
 * NULL when out of memory (the array is unchanged). */
void *svc_push(void **v, size_t *n, size_t *cap, size_t size, size_t first);

/* A detector's first minute: the offline run's start, else three hours
 * back so that mode delays and on-delays can elapse on history. */
int64_t svc_first_minute(const struct sb_analytics *a, int64_t now);

/* A canonical % (valves, dampers, speeds) as the 0..1 the detectors use. */
double svc_frac(const struct sb_point *p, double v);
/* A canonical airflow (L/s) in the m3/s the detectors use. */
double svc_m3s(const struct sb_point *p, double v);

/* What a unit did over the last 24 hours, by hour: minutes running and the
 * sum of a measure while running (airflow, load), for impact estimates. */
struct svc_runstat {
    int64_t hour[24];
    int32_t run_min[24];
    double sum[24];
};
void   svc_runstat_add(struct svc_runstat *r, int64_t t_ms, int running, double measure);
double svc_runstat_hours(const struct svc_runstat *r, int64_t now_ms);   /* running hours in the last 24 */
double svc_runstat_mean(const struct svc_runstat *r, int64_t now_ms);    /* measure's mean while running */

#define SVC_RHO_CP 1.207   /* air: rho c_p, kJ/(m3 K) at 20 °C, 1.2 kg/m3 x 1.006 kJ/(kg K) */

/* Case-insensitive: the point's name holds w ("Start/Stop", "Load Kw"):
 * controllers' names bind what their tags do not say. */
static inline int svc_named(const struct sb_point *p, const char *w)
{
    return p->name && strcasestr(p->name, w) != NULL;
}

/* Points of a chart: appends p when not NULL and there is room. */
static inline void svc_find_chart(struct svc_find *f, const struct sb_point *p)
{
    if (p && f->nchart < (int)(sizeof(f->chart) / sizeof(f->chart[0])))
        f->chart[f->nchart++] = p;
}

/* Boxes (svc_fdd_vav.c) and the plant, sensors, meters and energy
 * (svc_fdd_plant.c): the minutes since their last pass (worker). */
void svc_vav_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now);
void svc_plant_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now);
void svc_vav_free(struct sb_analytics *a);
/* Energy anomalies (svc_fdd_energy.c): each meter's last hour (and, at
 * local midnight, its last day) against its forecast; from the hourly pass. */
struct svc_energy;
struct svc_fcrule;
struct svc_sensor_unit;
/* Sensors and meters (svc_fdd_sensor.c). */
void svc_sensor_pass(struct sb_analytics *a, const struct sb_model *m, int64_t now);
void svc_sensor_free(struct sb_analytics *a);
void svc_energy_hour(struct sb_analytics *a, const struct sb_model *m, int64_t hour);
void svc_energy_free(struct sb_analytics *a);
void svc_plant_free(struct sb_analytics *a);
json_t *svc_vav_status(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix);
/* A box's point by role, bound as its detector binds them. */
enum { SVC_VAV_DAT, SVC_VAV_REHEAT, SVC_VAV_FLOW };
const struct sb_point *svc_vav_point(const struct sb_model *m, const struct sb_equipment *box, int role);
json_t *svc_plant_status(struct sb_analytics *a, const struct sb_model *m, size_t equip_ix);
/* Per-unit overrides of a detector's thresholds: the "fdd_conf" document
 * of the equipment ({"overrides": {name: number}}), applied with set();
 * a bad stored value is logged and skipped.  Returns the document's
 * updated_ms (0: none) so callers re-read only on change. */
int64_t svc_fdd_overrides(struct sb_analytics *a, const char *equip, void *conf,
                          int (*set)(void *conf, const char *name, double v, char *err, size_t errlen));
/* The same document's updated_ms only (0: none). */
int64_t svc_fdd_conf_stamp(struct sb_analytics *a, const char *equip);

/* Reports (svc_report.c): generate those whose period ended (worker). */
void svc_reports_due(struct sb_analytics *a, const struct sb_model *m, int64_t now);

/* "status" documents: a model's outcome as {"status", "message", "trained_ms", ...}. */
int svc_doc_put(struct sb_analytics *a, const char *kind, const char *key, const char *building,
                json_t *body, const void *blob, size_t blob_len);

#endif /* SB_ANALYTICS_SVC_INT_H */

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

/* Reports (svc_report.c): generate those whose period ended (worker). */
void svc_reports_due(struct sb_analytics *a, const struct sb_model *m, int64_t now);

/* "status" documents: a model's outcome as {"status", "message", "trained_ms", ...}. */
int svc_doc_put(struct sb_analytics *a, const char *kind, const char *key, const char *building,
                json_t *body, const void *blob, size_t blob_len);

#endif /* SB_ANALYTICS_SVC_INT_H */

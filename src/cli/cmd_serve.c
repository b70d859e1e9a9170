/*
 * cmd_serve.c - `sbems serve`: the daemon.
 *
 * One libuv loop runs signals, timers and the HTTP server; the ingest writer
 * thread owns store writes; store reads for HTTP and the hourly retention run
 * on libuv's thread pool, so the loop thread never blocks.
 * SIGINT/SIGTERM: stop HTTP, let in-flight work finish, stop intake, write
 * and seal everything accepted, close the store, exit 0.  SIGHUP reopens
 * log.file (rotation).
 */
#include <cblas.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <uv.h>

#include "api/ctl.h"
#include "alerts/service.h"
#include "analytics/service.h"
#include "api/http.h"
#include "cli/cli.h"
#include "cluster/lease.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "db/appdb.h"
#include "drivers/manager.h"
#include "control/svc.h"
#include "drivers/bacnet/expose.h"
#include "drivers/mqtt_bridge.h"
#include "ingest/bus.h"
#include "model/hub.h"
#include "model/site_json.h"

struct daemon {
    struct sb_cli *c;            /* configuration, store, model */
    uv_loop_t loop;              /* the event loop */
    int loop_ok;                 /* loop initialised */
    uv_signal_t sigint, sigterm; /* shutdown */
    uv_signal_t sighup;          /* reopen the log file */
    uv_timer_t retention;        /* hourly retention */
    uv_timer_t tick;             /* once a second: suppressed-log summaries */
    uv_work_t ret_req;           /* retention on the thread pool */
    int ret_busy;                /* a retention job is running */
    int handles;                 /* handles started (closed at stop) */
    struct sb_bus *bus;          /* live bus */
    struct sb_ingest *ing;       /* ingest pipeline */
    struct sb_http *http;        /* HTTP server */
    struct sb_ctl *ctl;          /* control socket (sbems ingest through the daemon) */
    struct sb_appdb *db;         /* users, sessions, audit */
    struct sb_mhub *models;      /* the model the API reads and edits */
    struct sb_drvmgr *drivers;   /* device I/O */
    struct sb_lease *lease;      /* device leases between nodes (cluster.leases) */
    struct sb_mqttbridge *bridge; /* readings to / commands from the MQTT broker */
    struct sb_bacexpose *bacx;    /* sbems's own BACnet device (drivers.json bacnet.expose) */
    struct sb_alerts *alerts;    /* alert rules, life cycle, notifications */
    struct sb_analytics *analytics; /* forecasts, zone models */
    struct sb_ctlsvc *control;   /* supervisory control */
    json_t *drvconf;             /* the drivers' own settings */
    int ready;                   /* store open, points loaded, HTTP up */
    int stopping;                /* shutdown begun */
};

static int is_ready(void *ud)
{
    struct daemon *d = ud;
    return d->ready && (!d->drivers || sb_drvmgr_ready(d->drivers));
}

static void ret_work(uv_work_t *w)
{
    struct daemon *d = w->data;
    struct sb_retention r;
    sb_cli_retention(d->c, &r);
    int rc = sb_store_retention(&d->c->store, sb_now_ms(), &r);
    if (rc)
        SB_WARN("serve", "retention failed: %s", sb_strerror(rc));
}

static void ret_after(uv_work_t *w, int status)
{
    ((struct daemon *)w->data)->ret_busy = 0;
    (void)status;
}

static void on_retention(uv_timer_t *t)
{
    struct daemon *d = t->data;
    if (d->ret_busy || d->stopping)
        return;
    d->ret_busy = 1;
    d->ret_req.data = d;
    if (uv_queue_work(&d->loop, &d->ret_req, ret_work, ret_after) != 0)
        d->ret_busy = 0;
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    sb_log_flush_suppressed();
}

static void on_hup(uv_signal_t *s, int signum)
{
    struct daemon *d = s->data;
    (void)signum;
    const char *f = d->c->cfg.log_file;
    if (f && *f && sb_log_open(f) != 0)
        SB_ERR("serve", "cannot reopen log file %s", f);
    else
        SB_INFO("serve", "SIGHUP: log reopened");
}

static void close_cb(uv_handle_t *h)
{
    (void)h;
}

/* Close every handle we own; the loop then ends once HTTP has wound down. */
static void begin_stop(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = 1;
    d->ready = 0;
    /* Alerts first (they listen to the drivers and the bus), then drivers:
     * writes in flight end (their requests are answered) before the HTTP
     * server goes. */
    sb_alerts_stop(d->alerts);
    sb_analytics_stop(d->analytics);
    sb_ctlsvc_stop(d->control);
    sb_mqttbridge_stop(d->bridge);
    sb_bacexpose_stop(d->bacx);
    sb_lease_stop(d->lease);      /* polls nothing from here; leases freed at exit */
    if (d->drivers)
        sb_drvmgr_stop(d->drivers);
    if (d->http) {
        sb_http_stop(d->http);
        d->http = NULL;
    }
    if (d->ctl) {
        sb_ctl_stop(d->ctl);
        d->ctl = NULL;
    }
    if (d->handles) {
        uv_handle_t *hs[] = { (uv_handle_t *)&d->sigint, (uv_handle_t *)&d->sigterm,
                              (uv_handle_t *)&d->sighup, (uv_handle_t *)&d->retention,
                              (uv_handle_t *)&d->tick };
        for (size_t i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
            uv_close(hs[i], close_cb);
        d->handles = 0;
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    SB_INFO("serve", "signal %d: stopping intake, flushing, closing the store", signum);
    begin_stop(s->data);
}

static void start_handles(struct daemon *d)
{
    uv_signal_init(&d->loop, &d->sigint);
    uv_signal_init(&d->loop, &d->sigterm);
    uv_signal_init(&d->loop, &d->sighup);
    uv_timer_init(&d->loop, &d->retention);
    uv_timer_init(&d->loop, &d->tick);
    d->sigint.data = d->sigterm.data = d->sighup.data = d->retention.data = d;
    uv_signal_start(&d->sigint, on_signal, SIGINT);
    uv_signal_start(&d->sigterm, on_signal, SIGTERM);
    uv_signal_start(&d->sighup, on_hup, SIGHUP);
    uv_timer_start(&d->retention, on_retention, 60000, 3600000);
    uv_timer_start(&d->tick, on_tick, 1000, 1000);
    d->handles = 1;
}

/* The account database (same file as the store) and the shared model;
 * the first start creates an admin with a one-time password. */
static int open_app(struct daemon *d)
{
    char where[4200], err[256] = "";
    struct sb_model *m = sb_model_new();
    int rc;

    if ((rc = sb_cli_open_appdb(&d->c->cfg, &d->db, where, sizeof(where), err, sizeof(err)))) {
        fprintf(stderr, "sbems serve: cannot open the account database, %s: %s\n", where,
                err);
        sb_model_free(m);
        return rc;
    }
    if (!m || (rc = sb_model_clone(&d->c->model, m)) || (rc = sb_mhub_new(m, &d->models))) {
        sb_model_free(m);
        return rc ? rc : SB_ENOMEM;
    }
    return sb_cli_first_admin(d->c, d->db);
}

/* The drivers' settings file: drivers.config, or <data_dir>/drivers.json
 * when it exists.  Refused when others may read it (it holds passwords). */
static int load_drvconf(struct daemon *d)
{
    const struct sb_config *cfg = &d->c->cfg;
    char path[4200];
    struct stat st;
    json_error_t e;

    if (cfg->drivers_config && *cfg->drivers_config)
        snprintf(path, sizeof(path), "%s", cfg->drivers_config);
    else
        snprintf(path, sizeof(path), "%s/drivers.json", cfg->data_dir);
    if (stat(path, &st) != 0) {
        if (cfg->drivers_config && *cfg->drivers_config) {
            fprintf(stderr, "sbems serve: drivers.config %s: cannot read it\n", path);
            return SB_ECONFIG;
        }
        d->drvconf = json_object();
        return 0;
    }
    if (st.st_mode & 077) {
        fprintf(stderr, "sbems serve: %s is readable by others (it may hold passwords): "
                "chmod 600 it\n", path);
        return SB_ECONFIG;
    }
    d->drvconf = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
    if (!d->drvconf || !json_is_object(d->drvconf)) {
        fprintf(stderr, "sbems serve: %s:%d:%d: %s\n", path, e.line, e.column,
                d->drvconf ? "must be a JSON object" : e.text);
        return SB_ECONFIG;
    }
    return 0;
}

static int start_drivers(struct daemon *d)
{
    const struct sb_config *cfg = &d->c->cfg;
    if (!cfg->drivers_enabled) {
        SB_INFO("serve", "drivers.enabled is false: no device is polled or written");
        return 0;
    }
    struct sb_drvmgr_cfg dc = {
        .loop = &d->loop, .ingest = d->ing, .conf = d->drvconf, .dry_run = cfg->drivers_dry_run,
        .timeout_ms = cfg->drivers_timeout, .threads = (int)cfg->drivers_threads,
        .breaker_failures = (int)cfg->drivers_breaker_failures,
        .breaker_cooldown_ms = cfg->drivers_breaker_cooldown,
        .write_interval_ms = cfg->drivers_write_interval,
        .stale_factor = (int)cfg->drivers_stale_factor, .leased = cfg->cluster_leases,
    };
    int rc = sb_drvmgr_new(&dc, &d->drivers);
    if (rc == 0) {
        struct sb_mref *r = sb_mhub_get(d->models);
        rc = sb_drvmgr_apply(d->drivers, r->m);
        sb_mref_put(r);
    }
    if (rc == 0 && cfg->cluster_leases) {
        struct sb_lease_cfg lc = { .loop = &d->loop, .url = cfg->store_url, .node = cfg->store_node,
                                   .lease_ms = cfg->cluster_lease, .store = &d->c->store,
                                   .ingest = d->ing, .drivers = d->drivers };
        if ((rc = sb_lease_new(&lc, &d->lease)))
            fprintf(stderr, "sbems serve: cannot start device leases: %s\n", sb_strerror(rc));
    }
    if (rc == 0)
        rc = sb_mqttbridge_new(&d->loop, d->drivers, d->bus, d->models, d->db, &d->bridge);
    if (rc == 0)
        rc = sb_bacexpose_new(&d->loop, d->drivers, d->bus, d->models, &d->bacx);
    return rc;
}

/* Alert rules evaluated on the live bus, their alerts in the app database,
 * notifications by webhook, e-mail and MQTT (docs/internals/alerts.md). */
static int start_alerts(struct daemon *d)
{
    const struct sb_config *cfg = &d->c->cfg;
    if (!cfg->alerts_enabled) {
        SB_INFO("serve", "alerts.enabled is false: no alert rule is evaluated");
        return 0;
    }
    struct sb_alerts_cfg ac = {
        .loop = &d->loop, .db = d->db, .models = d->models, .bus = d->bus, .drivers = d->drivers,
        .flap_window_ms = cfg->alerts_flap_window, .escalate_after_ms = cfg->alerts_escalate_after,
        .notify = { .smtp_url = cfg->alerts_smtp_url && *cfg->alerts_smtp_url ? cfg->alerts_smtp_url : NULL,
                    .smtp_from = cfg->alerts_smtp_from,
                    .mqtt_host = cfg->alerts_mqtt_host && *cfg->alerts_mqtt_host ? cfg->alerts_mqtt_host : NULL,
                    .mqtt_port = (int)cfg->alerts_mqtt_port, .mqtt_topic_prefix = cfg->alerts_mqtt_topic },
    };
    int rc = sb_alerts_new(&ac, &d->alerts);
    if (rc)
        fprintf(stderr, "sbems serve: cannot start the alert engine: %s\n", sb_strerror(rc));
    return rc;
}

/* Load forecasts and zone models trained from the store on their own worker
 * thread (docs/internals/analytics.md). */
static int lease_duties(void *ud)
{
    return sb_lease_duties(ud);
}

static int start_analytics(struct daemon *d)
{
    const struct sb_config *cfg = &d->c->cfg;
    if (!cfg->analytics_enabled) {
        SB_INFO("serve", "analytics.enabled is false: no forecast is trained or issued");
        return 0;
    }
    /* Model fits run on the service's one worker: OpenBLAS's own thread pool
     * only adds wake-ups on this class of machine (docs/internals/analytics-rc.md). */
    openblas_set_num_threads(1);
    struct sb_analytics_cfg ac = {
        .loop = &d->loop, .store = &d->c->store, .db = d->db, .models = d->models,
        .drivers = d->drivers, .train_hour = (int)cfg->analytics_train_hour,
        .history_days = (int)cfg->analytics_history_days, .zone_days = (int)cfg->analytics_zone_days,
        .cooling_cop = cfg->analytics_cooling_cop, .heat_efficiency = cfg->analytics_heat_efficiency,
        .heat_price = cfg->analytics_heat_price,
        .smtp_url = cfg->alerts_smtp_url && *cfg->alerts_smtp_url ? cfg->alerts_smtp_url : NULL,
        .smtp_from = cfg->alerts_smtp_from, .alerts = d->alerts,
    };
    if (d->lease) {       /* started before: the drivers' leases come first */
        ac.duties = lease_duties;
        ac.duties_ud = d->lease;
    }
    int rc = sb_analytics_new(&ac, &d->analytics);
    if (rc)
        fprintf(stderr, "sbems serve: cannot start analytics: %s\n", sb_strerror(rc));
    return rc;
}

/* Supervisory control (control/svc.h); off with control.enabled = false. */
static int start_control(struct daemon *d)
{
    const struct sb_config *cfg = &d->c->cfg;

    if (!cfg->control_enabled) {
        SB_INFO("serve", "control.enabled is false: no zone is controlled");
        return 0;
    }
    struct sb_ctlsvc_cfg cc = { .loop = &d->loop, .bus = d->bus, .models = d->models, .db = d->db,
                                .drivers = d->drivers, .analytics = d->analytics, .tick_ms = cfg->control_tick,
                                .priority = (int)cfg->control_priority, .stale_ms = cfg->control_stale,
                                .store = &d->c->store };
    int rc = sb_ctlsvc_new(&cc, &d->control);
    if (rc)
        fprintf(stderr, "sbems serve: cannot start control: %s\n", sb_strerror(rc));
    return rc;
}

static int start(struct daemon *d)
{
    struct sb_ingest_cfg ic;
    struct sb_cli *c = d->c;
    int rc;

    if ((rc = sb_cli_open(c, 0)))
        return rc;
    sb_cli_ingest_cfg(c, &ic);
    if ((rc = sb_bus_new(&d->bus)) || (rc = sb_ingest_new(&c->store, d->bus, &ic, &d->ing)) ||
        (rc = sb_cli_sync_points(c, d->ing)))
        return rc;
    if ((rc = open_app(d)))
        return rc;
    if (uv_loop_init(&d->loop) != 0)
        return SB_EIO;
    d->loop_ok = 1;
    start_handles(d);
    if ((rc = load_drvconf(d)) || (rc = start_drivers(d)))
        return rc;
    if ((rc = start_alerts(d)) || (rc = start_analytics(d)) || (rc = start_control(d)))
        return rc;
    struct sb_http_ctx hc = { .store = &c->store, .ingest = d->ing, .bus = d->bus, .db = d->db,
                              .models = d->models, .drivers = d->drivers, .lease = d->lease,
                              .alerts = d->alerts,
                              .analytics = d->analytics, .control = d->control,
                              .cfg = &c->cfg,
                              .version = SB_VERSION, .ready = is_ready, .ud = d };
    if ((rc = sb_http_start(&d->loop, c->cfg.listen, &hc, &d->http))) {
        fprintf(stderr, "sbems serve: cannot listen on %s (option listen): %s\n", c->cfg.listen,
                sb_strerror(rc));
        return rc;
    }
    char sock[256];
    if ((rc = sb_conf_socket_path(&c->cfg, sock, sizeof(sock))) ||
        (rc = sb_ctl_start(&d->loop, sock, d->models, d->ing, &d->ctl))) {
        fprintf(stderr, "sbems serve: cannot open the control socket (option socket): %s\n",
                sb_strerror(rc));
        return rc;
    }
    d->ready = 1;
    return 0;
}

static void announce(const struct daemon *d)
{
    char host[256] = "127.0.0.1";
    uint16_t port = 0;
    sb_conf_parse_addr(d->c->cfg.listen, host, sizeof(host), &port);
    int v6 = strchr(host, ':') != NULL;
    SB_INFO("serve", "sbems %s ready on %s (data %s, %zu points)", SB_VERSION, d->c->cfg.listen,
            d->c->cfg.data_dir, d->c->model.npoints);
    printf("sbems %s listening on %s://%s%s%s:%d/\n", SB_VERSION,
           sb_http_tls(d->http) ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
           sb_http_port(d->http));
    fflush(stdout);
}

int sb_cmd_serve(int argc, char **argv)
{
    struct sb_cli c;
    struct daemon d = { .c = &c };
    int rc = sb_cli_parse(&c, argc, argv, NULL,
                          "[--config FILE] [--listen ADDR:PORT] [--data-dir DIR]\n"
                          "Run the sbems daemon.");
    if (rc) {
        rc = rc == 1 ? 0 : 2;
        goto out;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = start(&d) ? 1 : 0;
    if (rc == 0)
        announce(&d);
    else
        begin_stop(&d);
    if (d.loop_ok) {
        uv_run(&d.loop, UV_RUN_DEFAULT);   /* until stopped, then until wound down */
        if (uv_loop_close(&d.loop) != 0)
            SB_WARN("serve", "event loop closed with handles still open");
    }
    if (d.ing) {
        int e = sb_ingest_stop(d.ing);
        if (e)
            SB_ERR("serve", "ingest stopped with an error: %s", sb_strerror(e));
        sb_ingest_free(d.ing);
    }
    sb_alerts_free(d.alerts);
    sb_analytics_free(d.analytics);
    sb_ctlsvc_free(d.control);
    sb_mqttbridge_free(d.bridge);
    sb_bacexpose_free(d.bacx);
    sb_drvmgr_free(d.drivers);
    json_decref(d.drvconf);
    if (d.lease) {
        /* after the final seal: the next owner of each device must find
         * everything this node acknowledged in the database */
        sb_store_close(&c.store);
        sb_lease_leave(d.lease);
        sb_lease_free(d.lease);
    }
    sb_bus_free(d.bus);
    sb_mhub_free(d.models);
    sb_appdb_close(d.db);
    if (rc == 0)
        SB_INFO("serve", "stopped");
out:
    sb_cli_release(&c);   /* closes the store: final seal */
    return rc;
}

/*
 * routes.c - the route table: every REST path, its method, the least role
 * it needs and its handler.  The single source of truth: the router walks
 * it, the permission matrix (docs/security.md) is written from it, and a
 * test checks it against the OpenAPI document (api/openapi.json) in both
 * directions.  Path parameters and scope: see api.h.
 */
#include "api/api.h"

#define R(m, p, need, fl, fn, op, sum) { SB_M_##m, p, SB_NEED_##need, fl, sb_api__h_##fn, op, sum }
#define LOOP SB_RT_LOOP
#define BODY SB_RT_BODY
#define PWOK SB_RT_PWOK
#define AUTH SB_RT_AUTH

const struct sb_route sb_api__routes[] = {
    R(GET, "/healthz", PUBLIC, LOOP, healthz, "healthz", "The process is alive"),
    R(GET, "/readyz", PUBLIC, LOOP, readyz, "readyz", "Store and drivers are ready"),
    R(GET, "/metrics", PUBLIC, 0, metrics, "metrics", "Prometheus metrics (loopback or admin)"),
    R(GET, "/api/v1/openapi.json", PUBLIC, LOOP, openapi, "getOpenApi", "This API's OpenAPI 3.1 document"),
    R(GET, "/api/v1/status", VIEWER, 0, status, "getStatus", "Version, uptime, store and ingest counters"),
    R(GET, "/api/v1/config", ADMIN, 0, config, "getConfig", "Effective configuration (secrets hidden)"),

    R(POST, "/api/v1/auth/login", PUBLIC, BODY | AUTH, login, "login", "Sign in: access and refresh tokens"),
    R(POST, "/api/v1/auth/refresh", PUBLIC, AUTH, refresh, "refresh", "New tokens for a refresh token (rotated)"),
    R(POST, "/api/v1/auth/logout", USER, PWOK, logout, "logout", "End this session"),
    R(GET, "/api/v1/auth/me", USER, PWOK, me, "getMe", "The signed-in user"),
    R(POST, "/api/v1/auth/password", USER, BODY | PWOK, password, "changePassword", "Change your password"),
    R(POST, "/api/v1/auth/keys/rotate", ADMIN, 0, rotate_keys, "rotateKeys", "Start signing tokens with a new key"),

    R(GET, "/api/v1/users", ADMIN, 0, users_list, "listUsers", "List users"),
    R(POST, "/api/v1/users", ADMIN, BODY, user_create, "createUser", "Create (invite) a user"),
    R(GET, "/api/v1/users/{user}", ADMIN, 0, user_get, "getUser", "A user"),
    R(PATCH, "/api/v1/users/{user}", ADMIN, BODY, user_patch, "updateUser", "Change roles, grants, details, disabled"),
    R(DELETE, "/api/v1/users/{user}", ADMIN, 0, user_delete, "disableUser", "Disable a user (kept for the audit trail)"),
    R(POST, "/api/v1/users/{user}/reset-password", ADMIN, 0, user_reset, "resetPassword", "Issue a temporary password"),

    R(GET, "/api/v1/sites", VIEWER, 0, list, "listSites", "Sites you can see"),
    R(POST, "/api/v1/sites", ADMIN, BODY, create, "createSite", "Create a site"),
    R(GET, "/api/v1/sites/{site}", VIEWER, 0, get, "getSite", "A site"),
    R(PATCH, "/api/v1/sites/{site}", ADMIN, BODY, patch, "updateSite", "Change a site (JSON merge patch)"),
    R(DELETE, "/api/v1/sites/{site}", ADMIN, 0, delete, "deleteSite", "Delete an empty site"),

    R(GET, "/api/v1/buildings", VIEWER, 0, list, "listBuildings", "Buildings in your scope"),
    R(POST, "/api/v1/buildings", MANAGER, BODY, create, "createBuilding", "Create a building in a site you manage"),
    R(GET, "/api/v1/buildings/{building}", VIEWER, 0, get, "getBuilding", "A building"),
    R(PATCH, "/api/v1/buildings/{building}", MANAGER, BODY, patch, "updateBuilding", "Change a building"),
    R(DELETE, "/api/v1/buildings/{building}", ADMIN, 0, delete, "deleteBuilding", "Delete an empty building"),
    R(GET, "/api/v1/buildings/{building}/overview", VIEWER, LOOP, overview, "getBuildingOverview", "Live power, today's energy, comfort, alerts"),

    R(GET, "/api/v1/zones", VIEWER, 0, list, "listZones", "Zones in your scope"),
    R(POST, "/api/v1/zones", MANAGER, BODY, create, "createZone", "Create a zone"),
    R(GET, "/api/v1/zones/{zone}", VIEWER, 0, get, "getZone", "A zone"),
    R(PATCH, "/api/v1/zones/{zone}", MANAGER, BODY, patch, "updateZone", "Change a zone"),
    R(DELETE, "/api/v1/zones/{zone}", MANAGER, 0, delete, "deleteZone", "Delete a zone"),
    R(GET, "/api/v1/zones/{zone}/status", VIEWER, LOOP, zone_status, "getZoneStatus", "Temperature against the comfort band, occupancy, equipment"),

    R(GET, "/api/v1/equipment", VIEWER, 0, list, "listEquipment", "Equipment in your scope"),
    R(POST, "/api/v1/equipment", MANAGER, BODY, create, "createEquipment", "Create equipment"),
    R(GET, "/api/v1/equipment/{equipment}", VIEWER, 0, get, "getEquipment", "Equipment"),
    R(PATCH, "/api/v1/equipment/{equipment}", MANAGER, BODY, patch, "updateEquipment", "Change equipment"),
    R(DELETE, "/api/v1/equipment/{equipment}", MANAGER, 0, delete, "deleteEquipment", "Delete equipment without points"),
    R(GET, "/api/v1/equipment/{equipment}/telemetry", VIEWER, LOOP, telemetry, "getTelemetry", "Newest value of each point"),
    R(POST, "/api/v1/equipment/{equipment}/control", OPERATOR, BODY | LOOP, control, "controlEquipment", "Command a point of the equipment"),

    R(GET, "/api/v1/thermostats", VIEWER, 0, list, "listThermostats", "Thermostats in your scope"),
    R(GET, "/api/v1/thermostats/{equipment}/status", VIEWER, LOOP, telemetry, "getThermostatStatus", "A thermostat's points"),
    R(POST, "/api/v1/thermostats/{equipment}/control", OPERATOR, BODY | LOOP, control, "controlThermostat", "Command a thermostat setpoint"),

    R(GET, "/api/v1/points", VIEWER, 0, list, "listPoints", "Points in your scope"),
    R(POST, "/api/v1/points", MANAGER, BODY, create, "createPoint", "Create a point"),
    R(GET, "/api/v1/points/{point}", VIEWER, 0, get, "getPoint", "A point (by id or slug)"),
    R(PATCH, "/api/v1/points/{point}", MANAGER, BODY, patch, "updatePoint", "Change a point"),
    R(DELETE, "/api/v1/points/{point}", MANAGER, 0, delete, "deletePoint", "Delete a point (its history stays)"),
    R(GET, "/api/v1/points/{point}/latest", VIEWER, LOOP, latest, "getLatest", "Newest reading"),
    R(GET, "/api/v1/points/{point}/history", VIEWER, 0, history, "getHistory", "Readings or rollups over a range"),
    R(GET, "/api/v1/points/{point}/series", VIEWER, 0, history, "getSeries", "Deprecated alias of history (agg defaults to mean)"),
    R(POST, "/api/v1/points/{point}/write", OPERATOR, BODY | LOOP, control, "writePoint", "Command a point"),
    R(GET, "/api/v1/points/{point}/priority", VIEWER, LOOP, priority, "getPointPriority", "Who holds a commandable point: the device's priority slots and sbems's commands"),

    R(GET, "/api/v1/drivers", ADMIN, LOOP, drivers, "getDrivers", "Devices, their health and misconfigured points"),
    R(GET, "/api/v1/cluster", ADMIN, LOOP, cluster, "getCluster", "Nodes sharing the store and the devices this node polls"),
    R(POST, "/api/v1/bacnet/discover", ADMIN, BODY | LOOP, bacnet_discover, "startBacnetDiscovery", "Start a BACnet discovery (Who-Is, object lists, point proposals)"),
    R(GET, "/api/v1/bacnet/discover", ADMIN, LOOP, bacnet_discovery, "getBacnetDiscovery", "The last BACnet discovery: progress and proposals"),
    R(POST, "/api/v1/bacnet/discover/accept", ADMIN, BODY, bacnet_accept, "acceptBacnetPoints", "Add chosen discovered points (and their equipment) to the model"),
    R(POST, "/api/v1/readings", OPERATOR, BODY, readings, "postReadings", "Ingest a batch of readings"),
    R(GET, "/api/v1/export", VIEWER, 0, export, "exportData", "Export series as CSV, XLSX or JSON"),
    R(GET, "/api/v1/audit", MANAGER, 0, audit, "listAudit", "The audit log, newest first"),

    R(GET, "/api/v1/alerts", VIEWER, 0, alerts_list, "listAlerts", "Alerts in your scope, newest first (open by default)"),
    R(GET, "/api/v1/alerts/{alert}", VIEWER, 0, alert_get, "getAlert", "An alert with its history"),
    R(POST, "/api/v1/alerts/{alert}/acknowledge", OPERATOR, BODY, alert_act, "acknowledgeAlert", "Acknowledge an alert"),
    R(POST, "/api/v1/alerts/{alert}/assign", OPERATOR, BODY, alert_act, "assignAlert", "Assign an alert (operators: to themselves)"),
    R(POST, "/api/v1/alerts/{alert}/notes", OPERATOR, BODY, alert_act, "addAlertNote", "Add a note to an alert"),
    R(POST, "/api/v1/alerts/{alert}/shelve", OPERATOR, BODY, alert_act, "shelveAlert", "Shelve an alert for a while"),
    R(POST, "/api/v1/alerts/{alert}/unshelve", OPERATOR, BODY, alert_act, "unshelveAlert", "Unshelve an alert"),
    R(POST, "/api/v1/alerts/{alert}/resolve", OPERATOR, BODY, alert_act, "resolveAlert", "Resolve an alert"),
    R(GET, "/api/v1/alert-rules", VIEWER, 0, arules_list, "listAlertRules", "Alert rules in your scope"),
    R(POST, "/api/v1/alert-rules", MANAGER, BODY, arule_create, "createAlertRule", "Create an alert rule"),
    R(GET, "/api/v1/alert-rules/{rule}", VIEWER, 0, arule_get, "getAlertRule", "An alert rule"),
    R(PATCH, "/api/v1/alert-rules/{rule}", MANAGER, BODY, arule_patch, "updateAlertRule", "Change an alert rule (merge patch)"),
    R(DELETE, "/api/v1/alert-rules/{rule}", MANAGER, 0, arule_delete, "deleteAlertRule", "Delete an alert rule"),
    R(GET, "/api/v1/alert-templates", VIEWER, 0, atemplates, "listAlertTemplates", "Recommended alert rules"),
    R(POST, "/api/v1/alert-templates/apply", MANAGER, BODY, atemplates_apply, "applyAlertTemplates", "Create a building's recommended alert rules"),
    R(GET, "/api/v1/alert-subscriptions", OPERATOR, 0, asubs_list, "listAlertSubscriptions", "Your alert notifications"),
    R(POST, "/api/v1/alert-subscriptions", OPERATOR, BODY, asub_create, "createAlertSubscription", "Subscribe to alert notifications (webhook, e-mail, MQTT)"),
    R(DELETE, "/api/v1/alert-subscriptions/{sub}", OPERATOR, 0, asub_delete, "deleteAlertSubscription", "Stop an alert notification"),
    R(GET, "/api/v1/schedules", VIEWER, 0, later, "listSchedules", "Schedules (501)"),
    R(GET, "/api/v1/analytics/consumption", VIEWER, 0, later, "getConsumption", "Consumption by period and end use (501)"),
    R(GET, "/api/v1/analytics/savings", VIEWER, 0, an_savings, "getSavings", "Measured savings (IPMVP Option C, CalTRACK) with their uncertainty"),
    R(GET, "/api/v1/analytics/cost", VIEWER, 0, an_cost, "getCost", "Bills of a meter through the building's tariff"),
    R(GET, "/api/v1/analytics/bill", VIEWER, 0, an_bill, "getBillEstimate", "The current billing period's bill: so far and estimated"),
    R(GET, "/api/v1/analytics/models", VIEWER, 0, an_models, "listAnalyticsModels", "Forecast and zone models: status, training window, scores"),
    R(POST, "/api/v1/analytics/models/retrain", MANAGER, BODY, an_retrain, "retrainAnalyticsModels", "Retrain a meter's, a zone's or a building's models now"),
    R(GET, "/api/v1/buildings/{building}/control", VIEWER, 0, ctl_get, "getControl", "Supervisory control: settings and each zone's state (winner, setpoints, reason)"),
    R(PUT, "/api/v1/buildings/{building}/control", MANAGER, BODY, ctl_put, "putControl", "Supervisory control settings: modes, schedules, setback, optimal start, holidays"),
    R(POST, "/api/v1/zones/{zone}/control/override", OPERATOR, BODY, ctl_override, "overrideZone", "Tenant after-hours override: occupied comfort for some hours"),
    R(DELETE, "/api/v1/zones/{zone}/control/override", OPERATOR, 0, ctl_release, "endZoneOverride", "End a zone's after-hours override now"),
    R(GET, "/api/v1/zones/{zone}/control/native-schedule", VIEWER, LOOP, ctl_native, "getZoneNativeSchedule", "What the zone's controller holds in its own BACnet Schedule and Calendar objects, read now"),
    R(GET, "/api/v1/fdd/findings", VIEWER, 0, fdd_findings, "listFddFindings", "Fault detection findings of a building, ranked by estimated cost per day"),
    R(GET, "/api/v1/fdd/units", VIEWER, 0, fdd_units, "listFddUnits", "Fault detectors of a building's equipment: watched or why not, settings"),
    R(PUT, "/api/v1/fdd/units/{equipment}", MANAGER, BODY, fdd_unit_put, "putFddUnit", "Per-unit fault detection thresholds"),
    R(DELETE, "/api/v1/fdd/units/{equipment}", MANAGER, 0, fdd_unit_delete, "deleteFddUnit", "Fault detection thresholds back to the defaults"),
    R(GET, "/api/v1/predictions/load", VIEWER, 0, pred_load, "predictLoad", "Load forecast 1-72 h with intervals"),
    R(GET, "/api/v1/predictions/load/accuracy", VIEWER, 0, pred_accuracy, "getForecastAccuracy", "Issued forecasts against what the meter measured"),
    R(GET, "/api/v1/predictions/plan", VIEWER, 0, pred_plan, "predictPlan", "The optimizer's plan for a building's zones against the schedule's setpoints: kWh, cost, peak, discomfort"),
    R(GET, "/api/v1/predictions/temperature", VIEWER, 0, pred_temp, "predictTemperature", "Zone temperature under a setpoint plan"),
    R(GET, "/api/v1/reports", VIEWER, 0, reports_list, "listReports", "Scheduled reports in your scope"),
    R(POST, "/api/v1/reports", MANAGER, BODY, report_create, "createReport", "Schedule a building report"),
    R(GET, "/api/v1/reports/{report}", VIEWER, 0, report_get, "getReport", "A scheduled report"),
    R(PUT, "/api/v1/reports/{report}", MANAGER, BODY, report_put, "putReport", "Replace a scheduled report"),
    R(DELETE, "/api/v1/reports/{report}", MANAGER, 0, report_delete, "deleteReport", "Stop a scheduled report"),
    R(POST, "/api/v1/reports/{report}/run", MANAGER, BODY, report_run, "runReport", "Generate and deliver a report now"),
    R(GET, "/api/v1/reports/{report}/files", VIEWER, 0, report_files, "listReportFiles", "A report's generated files"),
    R(GET, "/api/v1/report-files/{file}", VIEWER, 0, report_file, "getReportFile", "Download a generated report file"),
    R(GET, "/api/v1/tariffs", VIEWER, 0, tariffs_list, "listTariffs", "Tariffs"),
    R(GET, "/api/v1/tariffs/{tariff}", VIEWER, 0, tariff_get, "getTariff", "A tariff"),
    R(PUT, "/api/v1/tariffs/{tariff}", MANAGER, BODY, tariff_put, "putTariff", "Create or replace a tariff"),
    R(DELETE, "/api/v1/tariffs/{tariff}", MANAGER, 0, tariff_delete, "deleteTariff", "Delete a tariff no building uses"),
    R(GET, "/api/v1/buildings/{building}/tariff", VIEWER, 0, bdoc_get, "getBuildingTariff", "The building's tariff"),
    R(PUT, "/api/v1/buildings/{building}/tariff", MANAGER, BODY, bdoc_put, "putBuildingTariff", "Assign the building's tariff"),
    R(GET, "/api/v1/buildings/{building}/holidays", VIEWER, 0, bdoc_get, "getHolidays", "The building's holidays"),
    R(PUT, "/api/v1/buildings/{building}/holidays", MANAGER, BODY, bdoc_put, "putHolidays", "Replace the building's holidays"),
    R(GET, "/api/v1/buildings/{building}/measures", VIEWER, 0, bdoc_get, "getMeasures", "The building's energy conservation measures"),
    R(PUT, "/api/v1/buildings/{building}/measures", MANAGER, BODY, bdoc_put, "putMeasures", "Replace the building's measures (savings per measure)"),
};

const size_t sb_api__nroutes = sizeof(sb_api__routes) / sizeof(sb_api__routes[0]);

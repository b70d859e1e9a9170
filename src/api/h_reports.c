/*
 * h_reports.c - scheduled building reports (docs/api.md "Reports"): the
 * definitions (app documents of kind "report", checked by
 * sb_analytics_report_check), a run now, and the generated files for
 * download.  Generation and delivery are the analytics service's
 * (analytics/svc_report.c).
 *
 * A webhook's HMAC secret is made here when a definition gets a webhook,
 * shown once in that answer (like alert subscriptions' secrets) and never
 * again: GET answers carry "has_secret" instead.  Scope: a report, and its
 * files, belong to a building; outside the user's grants they answer 404.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/service.h"
#include "api/api.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "model/hub.h"


static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.db || !api->ctx.models || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "the app database or the model is not open");
        return 0;
    }
    return 1;
}

static int sees(struct sb_req *rq, const struct sb_model *m, const char *building)
{
    const struct sb_building *b = building ? sb_model_building(m, building) : NULL;
    return b && sb_api__in_scope(&rq->who, m, (size_t)(b - m->buildings));
}

/* A stored definition as the API shows it: without the secret. */
static json_t *public_def(json_t *def)
{
    json_t *o = json_deep_copy(def);
    int has = json_string_value(json_object_get(o, "secret")) != NULL;
    json_object_del(o, "secret");
    json_object_set_new(o, "has_secret", json_boolean(has));
    return o;
}

/* The definition of the path within scope (*def owned), else answers 404. */
static int def_param(struct sb_api *api, struct sb_req *rq, json_t **def)
{
    struct sb_doc d;

    *def = NULL;
    if (sb_appdb_doc_get(api->ctx.db, "report", rq->params[0], &d) == 0) {
        *def = json_loads(d.body, 0, NULL);
        sb_doc_release(&d);
    }
    if (!*def || !sees(rq, sb_api__model(api, rq), json_string_value(json_object_get(*def, "building")))) {
        json_decref(*def);
        *def = NULL;
        sb_api__err(rq, 404, "not_found", "no such report");
        return -1;
    }
    return 0;
}

void sb_api__h_reports_list(struct sb_api *api, struct sb_req *rq)
{
    static const char *const q_ok[] = { "building", NULL };
    const char *b = sb_req_q(rq, "building");
    struct sb_doc *v = NULL;
    size_t n = 0;

    if (sb_api__only_query(rq, q_ok) || !ready(api, rq))
        return;
    const struct sb_model *m = sb_api__model(api, rq);
    if (b && !sees(rq, m, b)) {
        sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
        return;
    }
    int rc = sb_appdb_doc_list(api->ctx.db, "report", b, 0, &v, &n);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing reports");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_loads(v[i].body, 0, NULL);
        if (j && sees(rq, m, v[i].building))
            json_array_append_new(items, public_def(j));
        json_decref(j);
    }
    sb_docs_free(v, n);
    sb_api__json(rq, 200, json_pack("{s:o}", "items", items));
}

void sb_api__h_report_get(struct sb_api *api, struct sb_req *rq)
{
    json_t *def;

    if (!ready(api, rq) || def_param(api, rq, &def))
        return;
    sb_api__json(rq, 200, public_def(def));
    json_decref(def);
}

/* Stores body as report id (create or replace): checks, scope, the secret. */
static void put_def(struct sb_api *api, struct sb_req *rq, json_t *body, json_t *old)
{
    char err[256], secret[65] = "";
    const struct sb_model *m = sb_api__model(api, rq);

    if (json_object_get(body, "secret") || json_object_get(body, "has_secret")) {
        json_object_del(body, "has_secret");   /* what GET showed may come back */
        if (json_object_get(body, "secret")) {
            sb_api__bad_field(rq, "secret", "the webhook secret is made by sbems");
            return;
        }
    }
    if (sb_analytics_report_check(body, err, sizeof(err))) {
        sb_api__err(rq, 400, "invalid", err);
        return;
    }
    const char *b = json_string_value(json_object_get(body, "building"));
    if (!sees(rq, m, b)) {
        sb_api__bad_field(rq, "building", "unknown building (or not in your scope)");
        return;
    }
    int hook = json_is_string(json_object_get(body, "webhook"));
    const char *old_secret = json_string_value(json_object_get(old, "secret"));
    if (hook && old_secret && strcmp(json_string_value(json_object_get(old, "webhook")) ?: "",
                                     json_string_value(json_object_get(body, "webhook"))) == 0) {
        json_object_set_new(body, "secret", json_string(old_secret));   /* same target: same key */
    } else if (hook) {
        unsigned char k[32];
        randombytes_buf(k, sizeof(k));
        sodium_bin2hex(secret, sizeof(secret), k, sizeof(k));
        sodium_memzero(k, sizeof(k));
        json_object_set_new(body, "secret", json_string(secret));
    }
    struct sb_doc d;
    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "report");
    snprintf(d.key, sizeof(d.key), "%s", json_string_value(json_object_get(body, "id")));
    snprintf(d.building, sizeof(d.building), "%s", b);
    d.updated_ms = sb_now_ms();
    d.body = json_dumps(body, JSON_COMPACT);
    int rc = d.body ? sb_appdb_doc_put(api->ctx.db, &d) : SB_ENOMEM;
    free(d.body);
    if (rc) {
        sb_api__err_rc(rq, rc, "storing the report");
    } else {
        json_t *pub = public_def(body), *before = old ? public_def(old) : NULL;
        sb_api__audit(api, rq, old ? "report.update" : "report.create", d.key, before, json_incref(pub),
                      "ok", NULL);
        json_decref(before);
        if (secret[0])
            json_object_set_new(pub, "webhook_secret", json_string(secret));
        sb_api__json(rq, old ? 200 : 201, pub);
    }
    sodium_memzero(secret, sizeof(secret));
}

void sb_api__h_report_create(struct sb_api *api, struct sb_req *rq)
{
    json_t *body = sb_api__body(rq);
    struct sb_doc d;

    if (!body || !ready(api, rq)) {
        json_decref(body);
        return;
    }
    const char *id = json_string_value(json_object_get(body, "id"));
    if (id && sb_appdb_doc_get(api->ctx.db, "report", id, &d) == 0) {
        sb_doc_release(&d);
        sb_api__err(rq, 409, "conflict", "a report with that id exists");
    } else {
        put_def(api, rq, body, NULL);
    }
    json_decref(body);
}

void sb_api__h_report_put(struct sb_api *api, struct sb_req *rq)
{
    json_t *old, *body;

    if (!ready(api, rq) || def_param(api, rq, &old))
        return;
    if ((body = sb_api__body(rq))) {
        if (strcmp(json_string_value(json_object_get(body, "id")) ?: "", rq->params[0]) != 0)
            sb_api__bad_field(rq, "id", "the report's id must be the id in the path");
        else
            put_def(api, rq, body, old);
    }
    json_decref(body);
    json_decref(old);
}

void sb_api__h_report_delete(struct sb_api *api, struct sb_req *rq)
{
    json_t *old;

    if (!ready(api, rq) || def_param(api, rq, &old))
        return;
    if (sb_appdb_doc_delete(api->ctx.db, "report", rq->params[0]) == 0) {
        sb_appdb_report_file_delete(api->ctx.db, rq->params[0]);   /* its files go with it */
        sb_api__audit(api, rq, "report.delete", rq->params[0], public_def(old), NULL, "ok", NULL);
        rq->resp.status = 204;
    } else {
        sb_api__err(rq, 404, "not_found", "no such report");
    }
    json_decref(old);
}

void sb_api__h_report_run(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "day", NULL };
    json_t *old, *body, *files = NULL;
    char err[256] = "";

    if (!ready(api, rq) || def_param(api, rq, &old))
        return;
    json_decref(old);
    if (!(body = sb_api__body(rq)))
        return;
    if (sb_api__only_keys(rq, body, keys)) {
        json_decref(body);
        return;
    }
    if (!api->ctx.analytics) {
        sb_api__err(rq, 503, "unavailable", "analytics is not running (analytics.enabled)");
        json_decref(body);
        return;
    }
    int rc = sb_analytics_report_run(api->ctx.analytics, rq->params[0],
                                     json_string_value(json_object_get(body, "day")), &files, err, sizeof(err));
    if (rc == 0) {
        sb_api__audit(api, rq, "report.run", rq->params[0], NULL, NULL, "ok", NULL);
        sb_api__json(rq, 201, json_pack("{s:O}", "files", files));
    } else if (rc == SB_EINVAL) {
        sb_api__err(rq, 400, "invalid", err);
    } else {
        sb_api__err_rc(rq, rc, err[0] ? err : "running the report");
    }
    json_decref(files);
    json_decref(body);
}

static json_t *file_json(const struct sb_report_file *f)
{
    char a[40], b[40], c[40];
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)f->id, "report",
                     f->report, "building", f->building, "format", f->format, "name", f->name, "from",
                     sb_time_format(f->from_ms, a, sizeof(a)), "to", sb_time_format(f->to_ms, b, sizeof(b)),
                     "created", sb_time_format(f->created_ms, c, sizeof(c)), "bytes", (json_int_t)f->size);
}

void sb_api__h_report_files(struct sb_api *api, struct sb_req *rq)
{
    json_t *old;
    struct sb_report_file *v = NULL;
    size_t n = 0;

    if (!ready(api, rq) || def_param(api, rq, &old))
        return;
    json_decref(old);
    int rc = sb_appdb_report_file_list(api->ctx.db, rq->params[0], NULL, 1000, &v, &n);
    if (rc) {
        sb_api__err_rc(rq, rc, "listing files");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, file_json(&v[i]));
    free(v);
    sb_api__json(rq, 200, json_pack("{s:o}", "items", items));
}

void sb_api__h_report_file(struct sb_api *api, struct sb_req *rq)
{
    struct sb_report_file f;
    char *end = NULL;
    int64_t id = strtoll(rq->params[0], &end, 10);

    if (!ready(api, rq))
        return;
    int rc = id > 0 && end && !*end ? sb_appdb_report_file_get(api->ctx.db, id, &f) : SB_ENOENT;
    if (rc == 0 && !sees(rq, sb_api__model(api, rq), f.building)) {
        sb_report_file_release(&f);
        rc = SB_ENOENT;
    }
    if (rc) {
        sb_api__err(rq, rc == SB_ENOENT ? 404 : 503, rc == SB_ENOENT ? "not_found" : "unavailable",
                    rc == SB_ENOENT ? "no such report file" : "reading the file");
        return;
    }
    rq->resp.status = 200;
    rq->resp.ctype = strcmp(f.format, "xlsx") == 0
                         ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                     : strcmp(f.format, "csv") == 0 ? "text/csv; charset=utf-8" : "application/json";
    sb_http__buf_add(&rq->resp.body, f.bytes, f.size);
    /* the name was made by sb_report_filename: [A-Za-z0-9._-] only */
    sb_http__hdr(&rq->resp, "content-disposition:", "attachment; filename=\"%s\"", f.name);
    sb_report_file_release(&f);
}

/*
 * h_ctl.c - supervisory control's settings, state and tenant overrides
 * (docs/api.md "Supervisory control"):
 *   GET    /api/v1/buildings/{building}/control           settings + each zone's state
 *   PUT    /api/v1/buildings/{building}/control           settings (control/settings.h; audited)
 *   POST   /api/v1/zones/{zone}/control/override          {"hours", "reason"}: after-hours comfort
 *   DELETE /api/v1/zones/{zone}/control/override          end it now (204 also when none runs)
 *   GET    /api/v1/zones/{zone}/control/native-schedule   what the zone's controller holds in its
 *                                                         own BACnet Schedule / Calendar, read now
 * Settings are the building's "control" document; the service
 * (control/svc.h) re-reads it on its next tick, which a change brings
 * forward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "control/settings.h"
#include "control/svc.h"
#include "core/err.h"
#include "core/timefmt.h"

static int ready(struct sb_api *api, struct sb_req *rq)
{
    if (!api->ctx.db || !sb_api__model(api, rq)) {
        sb_api__err(rq, 503, "unavailable", "the app database or the model is not open");
        return 0;
    }
    return 1;
}

/* The stored settings of building b (defaults when none). */
static int stored(struct sb_api *api, const char *b, struct sb_ctlset *s, char *err, size_t cap)
{
    return sb_ctlsvc_settings_load(api->ctx.db, b, s, err, cap);
}

static int store(struct sb_api *api, const char *b, const struct sb_ctlset *s)
{
    struct sb_doc d;
    json_t *j = sb_ctlset_to_json(s);

    memset(&d, 0, sizeof(d));
    snprintf(d.kind, sizeof(d.kind), "control");
    snprintf(d.key, sizeof(d.key), "%s", b);
    snprintf(d.building, sizeof(d.building), "%s", b);
    d.updated_ms = sb_now_ms();
    d.body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    int rc = d.body ? sb_appdb_doc_put(api->ctx.db, &d) : SB_ENOMEM;
    free(d.body);
    json_decref(j);
    return rc;
}

static void poke(struct sb_api *api, struct sb_req *rq)
{
    (void)rq;
    sb_ctlsvc_poke(api->ctx.control);
}

void sb_api__h_ctl_get(struct sb_api *api, struct sb_req *rq)
{
    struct sb_ctlset s;
    char err[256];

    if (!ready(api, rq))
        return;
    if (stored(api, rq->params[0], &s, err, sizeof(err))) {
        sb_api__err(rq, 500, "internal", "the stored control settings do not parse; PUT new ones");
        return;
    }
    json_t *st = sb_ctlsvc_state(api->ctx.control, rq->params[0]);
    json_t *zones = st ? json_incref(json_object_get(st, "zones")) : json_array();
    json_t *out = json_pack("{s:s,s:o,s:o,s:o,s:b}", "building", rq->params[0], "settings",
                            sb_ctlset_to_json(&s), "zones", zones, "evaluated_at",
                            st ? json_incref(json_object_get(st, "evaluated_at")) : json_null(),
                            "running", api->ctx.control != NULL);
    static const char *const extra[] = { "optimizer", "holidays_imported", "demand" };
    for (size_t i = 0; st && i < sizeof(extra) / sizeof(extra[0]); i++)
        if (json_object_get(st, extra[i]))
            json_object_set(out, extra[i], json_object_get(st, extra[i]));
    sb_api__json(rq, 200, out);
    json_decref(st);
    sb_ctlset_release(&s);
}

void sb_api__h_ctl_put(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m;
    struct sb_ctlset s, old;
    char err[300], oerr[64];
    json_t *body;

    if (!ready(api, rq) || !(body = sb_api__body(rq)))
        return;
    m = sb_api__model(api, rq);
    if (json_object_get(body, "overrides")) {
        sb_api__bad_field(rq, "overrides", "overrides are set through /zones/{zone}/control/override");
        json_decref(body);
        return;
    }
    if (sb_ctlset_parse(body, &s, err, sizeof(err))) {
        const char *dot = strchr(err, ':');
        char field[64];
        snprintf(field, sizeof(field), "%.*s", dot ? (int)(dot - err) : 0, err);
        sb_api__bad_field(rq, dot ? field : "settings", err);
        json_decref(body);
        return;
    }
    for (size_t i = 0; i < s.nz; i++) {
        const struct sb_zone *z = sb_model_zone(m, s.z[i].zone);
        if (!z || strcmp(m->buildings[z->building_ix].slug, rq->params[0])) {
            snprintf(err, sizeof(err), "zones.%s: no such zone in this building", s.z[i].zone);
            sb_api__bad_field(rq, "zones", err);
            goto out;
        }
    }
    /* the overrides stand: they are the override endpoints' */
    if (stored(api, rq->params[0], &old, oerr, sizeof(oerr)) == 0) {
        for (size_t i = 0; i < old.nz; i++)
            if (old.z[i].override_until_ms > 0) {
                struct sb_ctlset_zone *z = sb_ctlset_zone_add(&s, old.z[i].zone);
                if (z) {
                    z->override_until_ms = old.z[i].override_until_ms;
                    memcpy(z->override_by, old.z[i].override_by, sizeof(z->override_by));
                    memcpy(z->override_reason, old.z[i].override_reason, sizeof(z->override_reason));
                }
            }
    }
    json_t *before = sb_ctlset_to_json(&old);
    sb_ctlset_release(&old);
    int rc = store(api, rq->params[0], &s);
    if (rc) {
        sb_api__err_rc(rq, rc, "storing the control settings");
    } else {
        json_t *after = sb_ctlset_to_json(&s);
        sb_api__audit(api, rq, "control.settings", rq->params[0], before, after, "ok", NULL);
        sb_api__json(rq, 200, json_pack("{s:s,s:o}", "building", rq->params[0], "settings", after));
        rq->after = poke;
    }
    json_decref(before);
out:
    sb_ctlset_release(&s);
    json_decref(body);
}

/* The zone of the path and its building's stored settings. */
static const struct sb_zone *zone_settings(struct sb_api *api, struct sb_req *rq, struct sb_ctlset *s)
{
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_zone *z = sb_model_zone(m, rq->params[0]);
    char err[256];

    if (!z) {
        sb_api__err(rq, 404, "not_found", "no such zone");
        return NULL;
    }
    if (stored(api, m->buildings[z->building_ix].slug, s, err, sizeof(err))) {
        sb_api__err(rq, 500, "internal", "the stored control settings do not parse; PUT new ones");
        return NULL;
    }
    return z;
}

void sb_api__h_ctl_override(struct sb_api *api, struct sb_req *rq)
{
    static const char *const keys[] = { "hours", "reason", NULL };
    struct sb_ctlset s;
    const struct sb_zone *z;
    json_t *body;
    char t[40];

    if (!ready(api, rq) || !(body = sb_api__body(rq)))
        return;
    if (sb_api__only_keys(rq, body, keys))
        goto out_body;
    json_t *h = json_object_get(body, "hours"), *r = json_object_get(body, "reason");
    if (!json_is_number(h) || !(json_number_value(h) >= 0.25 && json_number_value(h) <= 12)) {
        sb_api__bad_field(rq, "hours", "hours: a number from 0.25 to 12");
        goto out_body;
    }
    if (r && (!json_is_string(r) || json_string_length(r) > 150)) {
        sb_api__bad_field(rq, "reason", "reason: text of at most 150 bytes");
        goto out_body;
    }
    if (!(z = zone_settings(api, rq, &s)))
        goto out_body;
    struct sb_ctlset_zone *zs = sb_ctlset_zone_add(&s, z->slug);
    if (!zs) {
        sb_api__err(rq, 503, "busy", "too many zones in the settings");
        goto out;
    }
    zs->override_until_ms = sb_now_ms() + (int64_t)(json_number_value(h) * 3600000.0);
    snprintf(zs->override_by, sizeof(zs->override_by), "%s", rq->who.username);
    snprintf(zs->override_reason, sizeof(zs->override_reason), "%s", r ? json_string_value(r) : "");
    int rc = store(api, z->building, &s);
    if (rc) {
        sb_api__err_rc(rq, rc, "storing the override");
        goto out;
    }
    json_t *ov = json_pack("{s:s,s:s,s:s,s:s}", "zone", z->slug, "until",
                           sb_time_format(zs->override_until_ms, t, sizeof(t)), "by", zs->override_by,
                           "reason", zs->override_reason);
    sb_api__audit(api, rq, "control.override", z->slug, NULL, ov, "ok", NULL);
    sb_api__json(rq, 200, ov);
    rq->after = poke;
out:
    sb_ctlset_release(&s);
out_body:
    json_decref(body);
}

void sb_api__h_ctl_release(struct sb_api *api, struct sb_req *rq)
{
    struct sb_ctlset s;
    const struct sb_zone *z;

    if (!ready(api, rq) || !(z = zone_settings(api, rq, &s)))
        return;
    struct sb_ctlset_zone *zs = sb_ctlset_zone(&s, z->slug);
    if (!zs || zs->override_until_ms <= sb_now_ms()) {   /* none running: nothing to end */
        rq->resp.status = 204;
        sb_ctlset_release(&s);
        return;
    }
    zs->override_until_ms = 0;
    int rc = store(api, z->building, &s);
    if (rc) {
        sb_api__err_rc(rq, rc, "ending the override");
    } else {
        sb_api__audit(api, rq, "control.override", z->slug, NULL, NULL, "ok", "ended");
        rq->resp.status = 204;
        rq->after = poke;
    }
    sb_ctlset_release(&s);
}

/* ---- GET /api/v1/zones/{zone}/control/native-schedule ------------------------------------ */

struct nread {                           /* a native-schedule read out to the device */
    struct sb_req *rq;                   /* the request, held until the answer */
    int done, held;                      /* answered; the request was held (answer later) */
    int status;                          /* 200, or 502 with why */
    json_t *answer;                      /* the answer (owned until sent) */
    char why[320];                       /* the device's words when it failed */
};

static void native_answer(struct sb_req *rq, struct nread *v)
{
    if (v->status == 200)
        sb_api__json(rq, 200, v->answer);
    else
        sb_api__err(rq, 502, "device_error", v->why);
}

static void native_read(void *ud, int rc, json_t *answer, const char *why)
{
    struct nread *v = ud;

    v->status = rc ? 502 : 200;
    v->answer = answer;
    snprintf(v->why, sizeof(v->why), "%s", why ? why : "");
    v->done = 1;
    if (v->held) {
        native_answer(v->rq, v);
        sb_http_resume(v->rq);
        free(v);
    }
}

/* What the zone's controller holds in its native Schedule (and Calendar),
 * read now: a loop handler that answers when the device has. */
void sb_api__h_ctl_native(struct sb_api *api, struct sb_req *rq)
{
    const struct sb_model *m = sb_api__model(api, rq);
    const struct sb_zone *z = m ? sb_model_zone(m, rq->params[0]) : NULL;
    const char *why = NULL;
    struct nread *v;

    if (!z) {
        sb_api__err(rq, 404, "not_found", "no such zone");
        return;
    }
    if (!api->ctx.control) {
        sb_api__err(rq, 503, "unavailable", "supervisory control is not running");
        return;
    }
    if (!(v = calloc(1, sizeof(*v)))) {
        sb_api__err(rq, 503, "busy", "out of memory");
        return;
    }
    v->rq = rq;
    int rc = sb_ctlsvc_native_read(api->ctx.control, z->slug, native_read, v, &why);
    if (rc) {
        sb_api__err(rq, rc == SB_ENOENT ? 404 : 503, rc == SB_ENOENT ? "not_found" : "unavailable",
                    why ? why : sb_strerror(rc));
        free(v);
        return;
    }
    if (v->done) {                       /* answered at once */
        native_answer(rq, v);
        free(v);
        return;
    }
    v->held = 1;
    rq->hold = 1;
}

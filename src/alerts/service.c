/* service.c - alerts in the daemon: store, engine, notifier; see service.h. */
#include "alerts/service.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alerts/engine.h"
#include "alerts/rule.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "drivers/manager.h"
#include "model/hub.h"
#include "model/model.h"

#define MOD "alerts"
#define MODEL_CHECK_MS 5000          /* how often a model swap is looked for */
#define DEFAULT_FLAP_MS (10 * 60000)
/* Escalations are looked for every 30 s, or twice per interval when it is
 * shorter (a test's seconds), never more than once a second. */
#define ESC_CHECK_MAX_MS 30000
#define ESC_CHECK_MIN_MS 1000

struct change {
    struct sb_alert a;
    char event[16];
    struct change *next;
};

struct sb_alerts {
    struct sb_alerts_cfg cfg;
    struct sb_aeng *eng;
    struct sb_notify *ntf;
    uv_async_t wake;
    uv_timer_t timer;
    uv_timer_t esc_timer;            /* escalation check (only with escalate_after_ms) */
    int handles;                     /* open uv handles */
    int stopping;
    int fresh_on;                    /* registered with the driver manager */
    pthread_mutex_t mu;              /* changes queue, stats, summaries, bound model */
    pthread_mutex_t emu;             /* the engine pointer (reload, stats, stop).  Order:
                                        emu before the engine's own locks; the engine's
                                        thread takes mu inside its lock, so mu is never
                                        held while taking emu or calling the engine */
    struct change *ch, *ct;
    const struct sb_model *bound;    /* model the rules were last bound to (identity only) */
    int reloading;                   /* a reload runs on the pool */
    uv_work_t work;
    int escalating;                  /* an escalation check runs on the pool */
    uv_work_t esc_work;
    pthread_mutex_t xmu;             /* held by an escalation check for its whole run, and
                                        by stop around freeing the notifier it uses */
    struct sb_alerts_stats st;
    struct bsum { char b[SB_ALERT_SLUG_CAP]; struct sb_alert_summary s; } *sum;  /* by building */
    size_t nsum, capsum;
};

/* Re-read building's open-alert counts into the in-memory table (any thread
 * but the loop: it reads the database). */
static void refresh_summary(struct sb_alerts *s, const char *building)
{
    struct sb_alert_summary v;
    if (sb_appdb_alert_summary(s->cfg.db, building, &v))
        return;
    pthread_mutex_lock(&s->mu);
    size_t i = 0;
    while (i < s->nsum && strcmp(s->sum[i].b, building) != 0)
        i++;
    if (i == s->nsum && s->nsum == s->capsum) {
        size_t c = s->capsum ? s->capsum * 2 : 16;
        struct bsum *n = realloc(s->sum, c * sizeof(*n));
        if (n) {
            s->sum = n;
            s->capsum = c;
        }
    }
    if (i < s->capsum) {
        if (i == s->nsum) {
            snprintf(s->sum[i].b, sizeof(s->sum[i].b), "%s", building);
            s->nsum++;
        }
        s->sum[i].s = v;
    }
    pthread_mutex_unlock(&s->mu);
}

int sb_alerts_summary(struct sb_alerts *s, const char *building, struct sb_alert_summary *out)
{
    int rc = SB_ENOENT;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nsum; i++)
        if (strcmp(s->sum[i].b, building) == 0) {
            *out = s->sum[i].s;
            rc = 0;
        }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- changes to the loop -------------------------------------------------------------- */

void sb_alerts_changed(struct sb_alerts *s, const struct sb_alert *a, const char *event)
{
    refresh_summary(s, a->building);
    struct change *c = malloc(sizeof(*c));
    if (!c)
        return;
    c->a = *a;
    snprintf(c->event, sizeof(c->event), "%s", event);
    c->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->ct)
        s->ct->next = c;
    else
        s->ch = c;
    s->ct = c;
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    if (!stop)
        uv_async_send(&s->wake);
}

static void on_wake(uv_async_t *h)
{
    struct sb_alerts *s = h->data;
    pthread_mutex_lock(&s->mu);
    struct change *c = s->ch;
    s->ch = s->ct = NULL;
    pthread_mutex_unlock(&s->mu);
    while (c) {
        struct change *n = c->next;
        if (s->cfg.changed && !s->stopping)
            s->cfg.changed(s->cfg.ud, &c->a, c->event);
        free(c);
        c = n;
    }
}

/* ---- notifications --------------------------------------------------------------------- */

/* "HH:MM" -> minutes, or -1. */
static int hhmm(const char *s)
{
    int h, m;
    if (!s || strlen(s) != 5 || sscanf(s, "%2d:%2d", &h, &m) != 2 || h > 23 || m > 59)
        return -1;
    return h * 60 + m;
}

/* Whether now is inside [start, end) local time (a span may cross midnight). */
static int quiet(const struct sb_alert_sub *u, const struct sb_tz *tz, int64_t now)
{
    int a = hhmm(u->quiet_start), b = hhmm(u->quiet_end);
    if (a < 0 || b < 0 || a == b)
        return 0;
    int min;
    sb_tz_wall(tz, now, NULL, &min);
    return a < b ? (min >= a && min < b) : (min >= a || min < b);
}

static const struct sb_tz *building_tz(struct sb_alerts *s, const char *building)
{
    const struct sb_tz *tz = NULL;
    struct sb_mref *r = s->cfg.models ? sb_mhub_get(s->cfg.models) : NULL;
    for (size_t b = 0; r && b < r->m->nbuildings; b++)
        if (strcmp(r->m->buildings[b].slug, building) == 0)
            tz = r->m->buildings[b].tz;    /* shared, never freed (tz.h) */
    if (r)
        sb_mref_put(r);
    return tz;
}

/* A subject line: no control characters (no header injection by a message),
 * and no UTF-8 sequence cut in half by the truncation above. */
static void utf8_tidy(char *s)
{
    size_t n = strlen(s), k = n;
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
    while (k > 0 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
        k--;                                    /* continuation bytes at the end */
    if (k > 0 && (unsigned char)s[k - 1] >= 0xC0) {
        unsigned char lead = (unsigned char)s[k - 1];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        if (n - (k - 1) < want)
            s[k - 1] = '\0';                    /* an incomplete last character */
    }
}

/* Who subscribed to this building, severity and level (0: raised; n: the
 * alert escalated to n), outside quiet hours: a notice each (engine thread,
 * a pool thread for escalations). */
static void notify(struct sb_alerts *s, const struct sb_alert *a, const char *event, int level)
{
    struct sb_alert_sub *subs = NULL;
    size_t n = 0;
    if (!s->ntf || sb_appdb_alert_sub_match(s->cfg.db, a->building, a->severity, level, &subs, &n))
        return;
    const struct sb_tz *tz = n ? building_tz(s, a->building) : NULL;
    int64_t now = now_ms();
    json_t *j = json_pack("{s:s, s:i, s:o}", "event", event, "level", level, "alert", sb_alert_json(a));
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    for (size_t i = 0; body && i < n; i++) {
        const struct sb_alert_sub *u = &subs[i];
        if (!u->enabled || quiet(u, tz, now))
            continue;
        struct sb_notice nt;
        memset(&nt, 0, sizeof(nt));
        snprintf(nt.channel, sizeof(nt.channel), "%s", u->channel);
        snprintf(nt.target, sizeof(nt.target), "%.511s", u->target);   /* the store's limit */
        snprintf(nt.building, sizeof(nt.building), "%s", a->building);
        snprintf(nt.severity, sizeof(nt.severity), "%s", sb_alert_sev_name(a->severity));
        nt.alert_id = a->id;
        nt.sub_id = u->id;
        if (level)                              /* the prefix leaves less room for the message */
            snprintf(nt.subject, sizeof(nt.subject), "[sbems] not acknowledged (level %d): %.8s "
                     "alert in %.64s: %.60s", level, sb_alert_sev_name(a->severity), a->building,
                     a->message);
        else
            snprintf(nt.subject, sizeof(nt.subject), "[sbems] %s alert in %.64s: %.100s",
                     sb_alert_sev_name(a->severity), a->building, a->message);
        utf8_tidy(nt.subject);
        if (strcmp(u->channel, "webhook") == 0 &&
            sb_appdb_alert_sub_secret(s->cfg.db, u->id, nt.secret, sizeof(nt.secret)))
            continue;
        if (!(nt.body_json = strdup(body)))
            break;
        if (sb_notify_submit(s->ntf, &nt) == 0) {
            pthread_mutex_lock(&s->mu);
            s->st.notices++;
            pthread_mutex_unlock(&s->mu);
        } else {
            free(nt.body_json);
        }
    }
    free(body);
    free(subs);
}

/* A notice's fate, into the alert's history (a notifier thread). */
static void on_notified(void *ud, const struct sb_notice *nt, int ok, int tries, const char *detail)
{
    struct sb_alerts *s = ud;
    char d[300];
    snprintf(d, sizeof(d), "%s after %d %s", detail && *detail ? detail : ok ? "delivered" : "failed",
             tries, tries == 1 ? "try" : "tries");
    sb_appdb_alert_notified(s->cfg.db, nt->alert_id, nt->channel,
                            strcmp(nt->channel, "mqtt") ? nt->target : nt->building, ok, d, now_ms());
}

/* ---- decisions (engine thread) ---------------------------------------------------------- */

/* A raise or clear into the store, then the loop (WebSocket) and, for news,
 * the subscribers: what every decision goes through, the engine's and those
 * sb_alerts_record brings (fault detection). */
static int record(struct sb_alerts *s, const char *rule, const char *building, const char *key,
                  int severity, double value, const char *text, int raise, int64_t now, int auto_resolve)
{
    struct sb_alert a;
    int outcome = 0, rc;

    if (raise)
        rc = sb_appdb_alert_raise(s->cfg.db, rule, building, key, severity, value, text, now,
                                  s->cfg.flap_window_ms, &a, &outcome);
    else
        rc = sb_appdb_alert_clear(s->cfg.db, rule, key, now, auto_resolve, &a);
    pthread_mutex_lock(&s->mu);
    if (rc == 0 && raise)
        s->st.raised++;
    else if (rc == 0)
        s->st.cleared++;
    else if (rc != SB_ENOENT)
        s->st.store_errors++;
    pthread_mutex_unlock(&s->mu);
    if (rc) {
        if (rc != SB_ENOENT)              /* a clear with nothing open is no news */
            SB_ERR(MOD, "rule %s: recording the %s: %s", rule, raise ? "raise" : "clear",
                   sb_strerror(rc));
        return rc;
    }
    const char *event = raise ? (outcome == SB_ALERT_RAISED_NEW ? "raised" : "re-raised")
                              : a.state == SB_ALERT_RESOLVED ? "resolved" : "cleared";
    sb_alerts_changed(s, &a, event);
    /* a new episode, or one that came back after clearing, is news; a repeat
     * of an open one is not (de-duplication), nor anything while shelved */
    if (raise && outcome != SB_ALERT_RAISED_AGAIN && a.shelved_until_ms <= now)
        notify(s, &a, event, 0);
    return 0;
}

/* ---- escalation (a pool thread) --------------------------------------------------------- */

static int is_stopping(struct sb_alerts *s)
{
    pthread_mutex_lock(&s->mu);
    int stop = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return stop;
}

/* Every alert due escalates one level: the store's transition (event
 * "escalated", refused for one acknowledged, shelved or resolved meanwhile),
 * the loop's WebSocket event, the notices of that level.  An alert more
 * than one level behind (the daemon was down) climbs one level per pass, so
 * each level's subscribers are told in turn. */
static void escalate_due(struct sb_alerts *s, int64_t now)
{
    for (int pass = 0; pass < SB_ALERT_SUB_LEVEL_MAX; pass++) {
        struct sb_alert_page pg = { 0 };
        size_t done = 0;
        int rc = sb_appdb_alert_escalation_due(s->cfg.db, now, s->cfg.escalate_after_ms,
                                               SB_ALERT_SUB_LEVEL_MAX, SB_ALERT_PAGE_MAX, &pg);
        if (rc) {
            SB_ERR(MOD, "listing the alerts due for escalation: %s", sb_strerror(rc));
            return;
        }
        for (size_t i = 0; i < pg.n && !is_stopping(s); i++) {
            struct sb_alert a;
            rc = sb_appdb_alert_escalate(s->cfg.db, pg.v[i].id, pg.v[i].escalated_level + 1, now, &a);
            if (rc) {
                if (rc != SB_EEXIST)      /* acknowledged or shelved meanwhile: no news */
                    SB_ERR(MOD, "alert %" PRId64 ": escalating: %s", pg.v[i].id, sb_strerror(rc));
                continue;
            }
            done++;
            pthread_mutex_lock(&s->mu);
            s->st.escalated++;
            pthread_mutex_unlock(&s->mu);
            sb_alerts_changed(s, &a, "escalated");
            notify(s, &a, "escalated", a.escalated_level);
        }
        sb_alert_page_release(&pg);
        if (!done)
            break;
    }
}

static void esc_work(uv_work_t *w)
{
    struct sb_alerts *s = w->data;
    pthread_mutex_lock(&s->xmu);
    if (!is_stopping(s))
        escalate_due(s, now_ms());
    pthread_mutex_unlock(&s->xmu);
}

static void esc_done(uv_work_t *w, int status)
{
    struct sb_alerts *s = w->data;
    (void)status;
    s->escalating = 0;
}

/* The loop only hands the check over (it reads and writes the database). */
static void on_esc_timer(uv_timer_t *t)
{
    struct sb_alerts *s = t->data;
    if (s->escalating || s->stopping)
        return;
    s->escalating = 1;
    s->esc_work.data = s;
    if (uv_queue_work(s->cfg.loop, &s->esc_work, esc_work, esc_done) != 0)
        s->escalating = 0;
}

int64_t sb_alerts_escalate_after(const struct sb_alerts *s)
{
    return s ? s->cfg.escalate_after_ms : 0;
}

static void on_decide(void *ud, const struct sb_arule *r, const char *building, int raise,
                      const struct sb_arule_event *ev)
{
    struct sb_alerts *s = ud;
    int64_t now = ev->t ? ev->t : now_ms();

    record(s, r->id, building, r->id, (int)r->severity, ev->value, ev->text, raise, now, r->auto_resolve);
}

int sb_alerts_record(struct sb_alerts *s, const char *rule, const char *building, const char *key,
                     int severity, double value, const char *text, int raise, int64_t now_ms_,
                     int auto_resolve)
{
    if (!s || !rule || !building || !key || (raise && (severity < SB_ALERT_SEV_CRITICAL ||
                                                       severity > SB_ALERT_SEV_INFO)))
        return SB_EINVAL;
    return record(s, rule, building, key, severity, value, text ? text : "", raise,
                  now_ms_ ? now_ms_ : now_ms(), auto_resolve);
}

/* ---- rules -------------------------------------------------------------------------------- */

typedef char bslug[SB_ALERT_SLUG_CAP];

/* Every stored rule that parses, with its building: *rules and *bld are
 * malloc'd arrays of *n (the caller frees both, also on error). */
static int read_rules(struct sb_alerts *s, struct sb_arule **rules_, bslug **bld_, size_t *n_)
{
    struct sb_alert_scope all = { .all = 1 };
    struct sb_alert_rule_page pg;
    struct sb_arule *rules = NULL;
    bslug *bld = NULL;
    size_t n = 0, cap = 0;
    char after[SB_ALERT_SLUG_CAP] = "";
    int rc = 0;

    for (int pages = 0; pages < 1000; pages++) {
        memset(&pg, 0, sizeof(pg));
        if ((rc = sb_appdb_alert_rule_list(s->cfg.db, &all, after, SB_ALERT_PAGE_MAX, &pg)))
            goto out;
        for (size_t i = 0; i < pg.n; i++) {
            char err[200];
            if (n == cap) {
                size_t c = cap ? cap * 2 : 64;
                struct sb_arule *nr = realloc(rules, c * sizeof(*nr));
                if (nr)
                    rules = nr;
                bslug *nb = nr ? realloc(bld, c * sizeof(*nb)) : NULL;
                if (!nr || !nb) {
                    sb_alert_rule_page_release(&pg);
                    rc = SB_ENOMEM;
                    goto out;
                }
                bld = nb;
                cap = c;
            }
            if (sb_arule_parse(pg.v[i].json, strlen(pg.v[i].json), &rules[n], err, sizeof(err))) {
                SB_WARN(MOD, "stored rule %s does not parse (%s): skipped", pg.v[i].id, err);
                continue;
            }
            snprintf(bld[n], sizeof(bld[0]), "%s", pg.v[i].building);
            n++;
        }
        snprintf(after, sizeof(after), "%s", pg.next_after);
        sb_alert_rule_page_release(&pg);
        if (!after[0])
            break;
    }
out:
    *rules_ = rules;
    *bld_ = bld;
    *n_ = n;
    return rc;
}

int sb_alerts_rules_of_type(struct sb_alerts *s, enum sb_arule_type type, struct sb_arule **out,
                            size_t *n)
{
    struct sb_arule *rules = NULL;
    bslug *bld = NULL;
    size_t nr = 0, k = 0;

    if (!s || !out || !n)
        return SB_EINVAL;
    *out = NULL;
    *n = 0;
    int rc = read_rules(s, &rules, &bld, &nr);
    for (size_t i = 0; rc == 0 && i < nr; i++)
        if (rules[i].type == type && rules[i].enabled) {
            rules[k] = rules[i];              /* compacted in place, order kept */
            /* the stored row's building is the one the API checked */
            snprintf(rules[k].building, sizeof(rules[k].building), "%.*s",
                     (int)sizeof(rules[k].building) - 1, bld[i]);
            k++;
        }
    free(bld);
    if (rc || k == 0) {
        free(rules);
        return rc;
    }
    *out = rules;                            /* a few spare slots at the end: harmless */
    *n = k;
    return 0;
}

int sb_alerts_reload(struct sb_alerts *s)
{
    struct sb_arule *rules = NULL;
    struct sb_aeng_rule_in *in = NULL;
    bslug *bld = NULL;
    size_t n = 0;
    int rc = read_rules(s, &rules, &bld, &n);

    if (rc)
        goto out;
    if (!(in = calloc(n ? n : 1, sizeof(*in)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        in[i] = (struct sb_aeng_rule_in){ .rule = &rules[i], .building = bld[i] };
    struct sb_mref *mr = sb_mhub_get(s->cfg.models);
    if (!mr) {
        rc = SB_ECLOSED;
        goto out;
    }
    /* the engine goes at stop while API requests may still be running */
    pthread_mutex_lock(&s->emu);
    rc = !s->eng ? SB_ECLOSED : sb_aeng_load(s->eng, mr->m, in, n);
    pthread_mutex_unlock(&s->emu);
    pthread_mutex_lock(&s->mu);
    s->bound = mr->m;
    pthread_mutex_unlock(&s->mu);
    for (size_t b = 0; b < mr->m->nbuildings; b++)
        refresh_summary(s, mr->m->buildings[b].slug);
    sb_mref_put(mr);
out:
    free(in);
    free(rules);
    free(bld);
    if (rc)
        SB_ERR(MOD, "loading the alert rules: %s", sb_strerror(rc));
    return rc;
}

static void reload_work(uv_work_t *w)
{
    sb_alerts_reload(w->data);
}

static void reload_done(uv_work_t *w, int status)
{
    struct sb_alerts *s = w->data;
    (void)status;
    s->reloading = 0;
}

/* A model swap (an edit, an import) may add or remove what rules name. */
static void on_timer(uv_timer_t *t)
{
    struct sb_alerts *s = t->data;
    struct sb_mref *mr = sb_mhub_get(s->cfg.models);
    if (!mr)
        return;
    pthread_mutex_lock(&s->mu);
    int changed = mr->m != s->bound;
    pthread_mutex_unlock(&s->mu);
    sb_mref_put(mr);
    if (changed && !s->reloading && !s->stopping) {
        s->reloading = 1;
        s->work.data = s;
        if (uv_queue_work(s->cfg.loop, &s->work, reload_work, reload_done) != 0)
            s->reloading = 0;
    }
}

/* ---- JSON ------------------------------------------------------------------------------------ */

json_t *sb_alert_json(const struct sb_alert *a)
{
    char t[6][40];
    const int64_t ms[6] = { a->raised_ms, a->cleared_ms, a->acked_ms, a->resolved_ms,
                            a->shelved_until_ms, 0 };
    const char *ts[6];
    for (int i = 0; i < 5; i++)
        ts[i] = ms[i] ? sb_time_format(ms[i], t[i], sizeof(t[i])) : NULL;
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:b, s:s?, s:I, s:s?, s:s?, s:s?, s:s?,"
                          " s:s?, s:s?, s:s?, s:i, s:I, s:I, s:s?}",
                          "id", (json_int_t)a->id, "rule", a->rule, "building", a->building,
                          "key", a->key, "severity", sb_alert_sev_name(a->severity),
                          "state", sb_alert_state_name(a->state), "cleared", a->cleared,
                          "raised", ts[0], "raised_ms", (json_int_t)a->raised_ms,
                          "cleared_at", ts[1], "acknowledged", ts[2],
                          "acknowledged_by", a->acked_by[0] ? a->acked_by : NULL,
                          "resolved", ts[3], "resolved_by", a->resolved_by[0] ? a->resolved_by : NULL,
                          "assignee", a->assignee[0] ? a->assignee : NULL,
                          "shelved_until", a->shelved_until_ms > now_ms() ? ts[4] : NULL,
                          "escalated_level", a->escalated_level, "flaps", (json_int_t)a->flaps,
                          "count", (json_int_t)a->count,
                          "message", a->message[0] ? a->message : NULL);
    if (j)
        json_object_set_new(j, "value", isfinite(a->value) ? json_real(a->value) : json_null());
    return j;
}

/* ---- life cycle ------------------------------------------------------------------------------- */

static void on_close(uv_handle_t *h)
{
    struct sb_alerts *s = h->data;
    s->handles--;
}

int sb_alerts_new(const struct sb_alerts_cfg *cfg, struct sb_alerts **out)
{
    struct sb_alerts *s = calloc(1, sizeof(*s));
    char err[256] = "";
    int rc;
    if (!s)
        return SB_ENOMEM;
    s->cfg = *cfg;
    if (!s->cfg.flap_window_ms)
        s->cfg.flap_window_ms = DEFAULT_FLAP_MS;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->emu, NULL);
    pthread_mutex_init(&s->xmu, NULL);
    struct sb_aeng_cfg ec = { .bus = cfg->bus, .decide = on_decide, .ud = s };
    if ((rc = sb_aeng_new(&ec, &s->eng)))
        goto fail;
    if ((rc = sb_notify_new(&cfg->notify, on_notified, s, &s->ntf, err, sizeof(err)))) {
        SB_ERR(MOD, "notifications: %s", err[0] ? err : sb_strerror(rc));
        goto fail;
    }
    if ((rc = sb_alerts_reload(s)))
        goto fail;
    if (cfg->drivers && (rc = sb_drvmgr_on_fresh(cfg->drivers, sb_aeng_fresh, s->eng)) == 0)
        s->fresh_on = 1;
    rc = 0;
    if (uv_async_init(cfg->loop, &s->wake, on_wake) || uv_timer_init(cfg->loop, &s->timer)) {
        rc = SB_EIO;
        goto fail;
    }
    s->wake.data = s->timer.data = s;
    s->handles = 2;
    uv_timer_start(&s->timer, on_timer, MODEL_CHECK_MS, MODEL_CHECK_MS);
    if (s->cfg.escalate_after_ms > 0) {
        int64_t every = s->cfg.escalate_after_ms / 2;
        every = every > ESC_CHECK_MAX_MS ? ESC_CHECK_MAX_MS
                : every < ESC_CHECK_MIN_MS ? ESC_CHECK_MIN_MS : every;
        if (uv_timer_init(cfg->loop, &s->esc_timer)) {
            rc = SB_EIO;
            goto fail;
        }
        s->esc_timer.data = s;
        s->handles++;
        uv_timer_start(&s->esc_timer, on_esc_timer, (uint64_t)every, (uint64_t)every);
    }
    *out = s;
    return 0;
fail:
    sb_alerts_stop(s);
    sb_alerts_free(s);
    return rc;
}

void sb_alerts_on_change(struct sb_alerts *s, sb_alerts_change_cb cb, void *ud)
{
    s->cfg.changed = cb;
    s->cfg.ud = ud;
}

void sb_alerts_stats(struct sb_alerts *s, struct sb_alerts_stats *st)
{
    struct sb_aeng_stats es;
    memset(&es, 0, sizeof(es));
    pthread_mutex_lock(&s->emu);
    if (s->eng)
        sb_aeng_stats(s->eng, &es);
    pthread_mutex_unlock(&s->emu);
    pthread_mutex_lock(&s->mu);
    *st = s->st;
    pthread_mutex_unlock(&s->mu);
    st->rules = es.rules;
    st->unbound = es.unbound;
    st->readings = es.readings;
    st->dropped = es.dropped;
}

void sb_alerts_stop(struct sb_alerts *s)
{
    if (!s || s->stopping)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    if (s->fresh_on)
        sb_drvmgr_off_fresh(s->cfg.drivers, sb_aeng_fresh, s->eng);
    s->fresh_on = 0;
    /* no decisions after this; a reload in flight finishes first (emu) */
    pthread_mutex_lock(&s->emu);
    struct sb_aeng *eng = s->eng;
    s->eng = NULL;
    pthread_mutex_unlock(&s->emu);
    sb_aeng_free(eng);
    pthread_mutex_lock(&s->xmu);        /* an escalation check in flight finishes first */
    sb_notify_free(s->ntf);             /* pending notices reported failed */
    s->ntf = NULL;
    pthread_mutex_unlock(&s->xmu);
    if (s->handles) {
        uv_timer_stop(&s->timer);
        uv_close((uv_handle_t *)&s->timer, on_close);
        uv_close((uv_handle_t *)&s->wake, on_close);
        if (s->handles > 2) {
            uv_timer_stop(&s->esc_timer);
            uv_close((uv_handle_t *)&s->esc_timer, on_close);
        }
    }
}

int sb_alerts_idle(struct sb_alerts *s)
{
    return !s || (s->handles == 0 && !s->reloading && !s->escalating);
}

void sb_alerts_free(struct sb_alerts *s)
{
    if (!s)
        return;
    sb_aeng_free(s->eng);
    sb_notify_free(s->ntf);
    for (struct change *c = s->ch, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->emu);
    pthread_mutex_destroy(&s->xmu);
    free(s->sum);
    free(s);
}

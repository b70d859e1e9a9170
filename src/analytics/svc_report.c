/*
 * svc_report.c - scheduled building reports in the service: a report
 * definition ("report" document) names a building, a frequency, formats and
 * where to deliver; after each period ends (the building's local 06:00) the
 * worker gathers the period's figures, builds the files (analytics/
 * report.h), keeps them (app_report_files, newest `keep`) and delivers them:
 * e-mail with the file attached, webhook with the JSON report, signed as
 * alert webhooks are (alerts/notify.h).
 *
 * Figures: each meter's energy per local day (hourly rollups), peak 15-minute
 * demand, cost of the main meters through the building's tariff, the main
 * meters' total of the period before, savings against a baseline when the
 * definition names one (CalTRACK hourly), comfort of every zone with a band
 * (occupied hours, hours and kelvin-hours outside it), and the period's
 * alerts, most severe first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analytics/bdocs.h"
#include "analytics/meter.h"
#include "analytics/mv.h"
#include "analytics/report.h"
#include "analytics/svc_int.h"
#include "analytics/tariff.h"
#include "core/err.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "core/tz.h"
#include "model/slug.h"

#define Q_MS (15 * 60000LL)
#define MAX_ALERTS 10
#define MAX_EMAILS 20

static const char *const FREQS[] = { "daily", "weekly", "monthly", NULL };
static const char *const FORMATS[] = { "xlsx", "csv", "json", NULL };

static int in_list(const char *s, const char *const *v)
{
    for (size_t i = 0; s && v[i]; i++)
        if (strcmp(s, v[i]) == 0)
            return 1;
    return 0;
}

static int local_period_ok(const char *s)
{
    unsigned y, m, d, y2, m2, d2;
    int n = 0;
    return s && strlen(s) == 21 && sscanf(s, "%4u-%2u-%2u/%4u-%2u-%2u%n", &y, &m, &d, &y2, &m2, &d2, &n) == 6 &&
           n == 21 && m >= 1 && m <= 12 && d >= 1 && d <= 31 && m2 >= 1 && m2 <= 12 && d2 >= 1 && d2 <= 31 &&
           sb_days_from_civil(y2, m2, d2) >= sb_days_from_civil(y, m, d) + 300;
}

int sb_analytics_report_check(json_t *r, char *err, size_t errlen)
{
    static const char *const keys[] = { "id", "building", "name", "frequency", "formats", "email",
                                        "webhook", "keep", "baseline", "enabled", NULL };
    const char *k;
    json_t *v;
    size_t i;

    if (!json_is_object(r)) {
        sb_errf(err, errlen, "a report is a JSON object");
        return SB_EINVAL;
    }
    json_object_foreach(r, k, v)
        if (!in_list(k, keys)) {
            sb_errf(err, errlen, "%s: unknown field", k);
            return SB_EINVAL;
        }
    const char *id = json_string_value(json_object_get(r, "id"));
    const char *name = json_string_value(json_object_get(r, "name"));
    if (!id || !sb_slug_valid(id))
        return sb_errf(err, errlen, "id: a slug (lower-case letters, digits, '-')"), SB_EINVAL;
    if (!json_is_string(json_object_get(r, "building")))
        return sb_errf(err, errlen, "building: required"), SB_EINVAL;
    if (!name || !*name || strlen(name) > 200)
        return sb_errf(err, errlen, "name: 1 to 200 bytes"), SB_EINVAL;
    if (!in_list(json_string_value(json_object_get(r, "frequency")), FREQS))
        return sb_errf(err, errlen, "frequency: daily, weekly or monthly"), SB_EINVAL;
    json_t *f = json_object_get(r, "formats");
    if (!json_is_array(f) || json_array_size(f) < 1 || json_array_size(f) > 3)
        return sb_errf(err, errlen, "formats: 1 to 3 of xlsx, csv, json"), SB_EINVAL;
    json_array_foreach(f, i, v)
        if (!in_list(json_string_value(v), FORMATS))
            return sb_errf(err, errlen, "formats[%zu]: xlsx, csv or json", i), SB_EINVAL;
    json_t *em = json_object_get(r, "email");
    if (em && !(json_is_array(em) && json_array_size(em) <= MAX_EMAILS))
        return sb_errf(err, errlen, "email: a list of at most %d addresses", MAX_EMAILS), SB_EINVAL;
    json_array_foreach(em, i, v)
        if (!json_is_string(v) || !sb_notify_addr_ok(json_string_value(v)))
            return sb_errf(err, errlen, "email[%zu]: an e-mail address", i), SB_EINVAL;
    json_t *wh = json_object_get(r, "webhook");
    const char *u = json_string_value(wh);
    if (wh && !json_is_null(wh) &&
        (!u || strlen(u) >= SB_NOTIFY_TARGET_MAX ||
         (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)))
        return sb_errf(err, errlen, "webhook: an http(s) URL or null"), SB_EINVAL;
    json_t *keep = json_object_get(r, "keep");
    if (keep && !(json_is_integer(keep) && json_integer_value(keep) >= 1 && json_integer_value(keep) <= 100))
        return sb_errf(err, errlen, "keep: 1..100 periods kept for download"), SB_EINVAL;
    json_t *bl = json_object_get(r, "baseline");
    if (bl && !json_is_null(bl) && !local_period_ok(json_string_value(bl)))
        return sb_errf(err, errlen, "baseline: YYYY-MM-DD/YYYY-MM-DD, at least 300 days, or null"), SB_EINVAL;
    json_t *en = json_object_get(r, "enabled");
    if (en && !json_is_boolean(en))
        return sb_errf(err, errlen, "enabled: true or false"), SB_EINVAL;
    return 0;
}

/* ---- periods ------------------------------------------------------------------ */

static int64_t day_ms(const struct sb_tz *tz, int64_t day)
{
    return sb_tz_local_to_utc(tz, day * 86400) * 1000;
}

/* The last complete period before now in tz: [*d0, *d1) local days. */
static void last_period(const char *freq, const struct sb_tz *tz, int64_t now, int64_t *d0, int64_t *d1)
{
    int64_t today = sb_local_day(tz, now), y;
    unsigned m, d;

    if (strcmp(freq, "daily") == 0) {
        *d0 = today - 1;
        *d1 = today;
    } else if (strcmp(freq, "weekly") == 0) {
        int64_t monday = today - ((today + 3) % 7 + 7) % 7;   /* 1970-01-01 was a Thursday */
        *d0 = monday - 7;
        *d1 = monday;
    } else {
        sb_civil_from_days(today, &y, &m, &d);
        *d1 = sb_days_from_civil(y, m, 1);
        *d0 = m == 1 ? sb_days_from_civil(y - 1, 12, 1) : sb_days_from_civil(y, m - 1, 1);
    }
}

/* The period holding local day `day` of freq: [*d0, *d1). */
static void period_of(const char *freq, int64_t day, int64_t *d0, int64_t *d1)
{
    int64_t y;
    unsigned m, d;

    if (strcmp(freq, "daily") == 0) {
        *d0 = day;
        *d1 = day + 1;
    } else if (strcmp(freq, "weekly") == 0) {
        *d0 = day - ((day + 3) % 7 + 7) % 7;
        *d1 = *d0 + 7;
    } else {
        sb_civil_from_days(day, &y, &m, &d);
        *d0 = sb_days_from_civil(y, m, 1);
        *d1 = m == 12 ? sb_days_from_civil(y + 1, 1, 1) : sb_days_from_civil(y, m + 1, 1);
    }
}

/* ---- gathering -------------------------------------------------------------------- */

struct gather {
    struct sb_report_data d;
    int64_t *days;
    struct sb_report_meter *meters;
    double **kwh;                  /* per meter, per day */
    struct sb_report_zone *zones;
    struct sb_report_alert *alerts;
    struct sb_alert_page ap;
    char *notes[8];
    size_t nnotes;
    char savings_note[160];
    char currency[16];
};

static void gather_free(struct gather *g)
{
    for (size_t i = 0; g->kwh && i < g->d.nmeters; i++)
        free(g->kwh[i]);
    free(g->kwh);
    free(g->days);
    free(g->meters);
    free(g->zones);
    free(g->alerts);
    sb_alert_page_release(&g->ap);
    for (size_t i = 0; i < g->nnotes; i++)
        free(g->notes[i]);
}

/* A note for the report: what, then why. */
static void note(struct gather *g, const char *what, const char *why)
{
    char buf[400];
    if (g->nnotes == sizeof(g->notes) / sizeof(g->notes[0]))
        return;
    snprintf(buf, sizeof(buf), "%s: %s", what, why);
    g->notes[g->nnotes++] = strdup(buf);
}

static int depth_of(const struct sb_model *m, const struct sb_equipment *e)
{
    int d = 0;
    while (e->parent_ix >= 0 && d < 8) {
        e = &m->equipment[e->parent_ix];
        d++;
    }
    return d;
}

static double period_cost(struct sb_analytics *a, const struct sb_tariff *t, const struct sb_tz *tz,
                          const double *q, size_t nq, int64_t from)
{
    struct sb_tariff_site site = { .tz = tz };
    struct sb_tariff_series s = { .kwh = q, .n = nq, .start = from / 1000, .interval_s = 900 };
    size_t nb = 0, nd = 0, got = 0;
    double total = NAN;

    (void)a;
    if (sb_tariff_count(t, &site, &s, &nb, &nd) || !nb)
        return NAN;
    struct sb_tariff_bill *b = calloc(nb, sizeof(*b));
    if (b && sb_tariff_compute(t, &site, &s, b, nb, &got, NULL, 0, NULL) == 0) {
        total = 0;
        for (size_t i = 0; i < got; i++)
            total += b[i].total;
    }
    free(b);
    return total;
}

/* One meter: energy per day, total, peak demand, cost of a main meter. */
static void meter_figures(struct sb_analytics *a, const struct sb_model *m, const struct sb_equipment *e,
                          struct gather *g, size_t k, const struct sb_tariff *t, const struct sb_tz *tz)
{
    struct sb_report_meter *r = &g->meters[k];
    int64_t from = g->d.from_ms, to = g->d.to_ms;
    size_t nq = (size_t)((to - from) / Q_MS);
    double *q = malloc(nq * sizeof(double));

    r->slug = e->slug;
    r->name = e->name;
    r->depth = depth_of(m, e);
    r->total_kwh = r->peak_kw = r->cost = NAN;
    r->kwh_day = g->kwh[k];
    for (size_t i = 0; i < g->d.ndays; i++)
        g->kwh[k][i] = NAN;
    if (!q || sb_meter_energy(a->cfg.store, sb_meter_point(m, e), SB_RES_15M, from, nq, q) < 0) {
        free(q);
        return;
    }
    size_t day = 0, missing = 0;
    double total = 0;
    for (size_t i = 0; i < nq; i++) {
        int64_t t0 = from + (int64_t)i * Q_MS;
        while (day + 1 < g->d.ndays && t0 >= g->days[day + 1])
            day++;
        if (!isfinite(q[i])) {
            missing++;
            continue;
        }
        g->kwh[k][day] = isnan(g->kwh[k][day]) ? q[i] : g->kwh[k][day] + q[i];
        total += q[i];
        if (isnan(r->peak_kw) || q[i] * 4 > r->peak_kw) {
            r->peak_kw = q[i] * 4;
            r->peak_at_ms = t0;
        }
    }
    if (missing < nq)
        r->total_kwh = total;
    if (missing)
        note(g, e->name, "some 15-minute intervals have no data (not counted)");
    if (t && r->depth == 0)
        r->cost = period_cost(a, t, tz, q, nq, from);
    free(q);
}

static double prev_total(struct sb_analytics *a, const struct sb_model *m, const struct gather *g)
{
    int64_t len = g->d.to_ms - g->d.from_ms;
    size_t n = (size_t)(len / SB_HOUR_MS);
    double *h = malloc(n * sizeof(double)), sum = 0;
    int any = 0;

    for (size_t k = 0; h && k < g->d.nmeters; k++) {
        if (g->meters[k].depth != 0)
            continue;
        const struct sb_equipment *e = sb_model_equipment(m, g->meters[k].slug);
        if (!e || sb_meter_energy(a->cfg.store, sb_meter_point(m, e), SB_RES_1H, g->d.from_ms - len, n, h) <= 0)
            continue;
        for (size_t i = 0; i < n; i++)
            if (isfinite(h[i])) {
                sum += h[i];
                any = 1;
            }
    }
    free(h);
    return any ? sum : NAN;
}

/* Comfort of each zone with a band and a temperature point. */
static void comfort(struct sb_analytics *a, const struct sb_model *m, int32_t bi, struct gather *g)
{
    size_t n = (size_t)((g->d.to_ms - g->d.from_ms) / SB_HOUR_MS), k = 0;
    double *t = malloc(n * sizeof(double));

    g->zones = calloc(m->nzones ? m->nzones : 1, sizeof(*g->zones));
    for (size_t zi = 0; t && g->zones && zi < m->nzones; zi++) {
        const struct sb_zone *z = &m->zones[zi];
        const struct sb_point *p = sb_zone_temp_point(m, (int32_t)zi);
        if (z->building_ix != bi || !z->comfort.set || !p ||
            sb_point_mean(a->cfg.store, p, SB_RES_1H, g->d.from_ms, n, t) < 0)
            continue;
        struct sb_report_zone *r = &g->zones[k++];
        double sum = 0;
        size_t cnt = 0;
        r->slug = z->slug;
        r->name = z->name;
        for (size_t i = 0; i < n; i++) {
            int64_t mid = g->d.from_ms + (int64_t)i * SB_HOUR_MS + SB_HOUR_MS / 2;
            if (!sb_zone_occupied(m, z, mid))
                continue;
            r->occupied_h += 1;
            if (!isfinite(t[i]))
                continue;
            double out = t[i] > z->comfort.occupied.cooling ? t[i] - z->comfort.occupied.cooling
                       : t[i] < z->comfort.occupied.heating ? z->comfort.occupied.heating - t[i] : 0;
            r->outside_kh += out;
            r->outside_h += out > 0;
            sum += t[i];
            cnt++;
        }
        r->mean_temp_c = cnt ? sum / (double)cnt : NAN;
    }
    g->d.nzones = k;
    g->d.zones = g->zones;
    free(t);
}

static int sev_rank(const struct sb_alert *x)
{
    return x->severity * 2 + (x->state == SB_ALERT_RESOLVED);
}

static int cmp_alert(const void *a, const void *b)
{
    const struct sb_alert *x = a, *y = b;
    if (sev_rank(x) != sev_rank(y))
        return sev_rank(x) - sev_rank(y);
    return (y->raised_ms > x->raised_ms) - (y->raised_ms < x->raised_ms);
}

/* The period's alerts (raised in it, or open at its end), most severe first. */
static void faults(struct sb_analytics *a, const char *building, struct gather *g)
{
    const char *b[1] = { building };
    struct sb_alert_filter f = { .scope = { .buildings = b, .n = 1 }, .limit = SB_ALERT_PAGE_MAX };
    size_t k = 0;

    if (sb_appdb_alert_list(a->cfg.db, &f, &g->ap))
        return;
    struct sb_alert *v = g->ap.v;
    for (size_t i = 0; i < g->ap.n; i++)
        if ((v[i].raised_ms >= g->d.from_ms && v[i].raised_ms < g->d.to_ms) ||
            (v[i].raised_ms < g->d.to_ms && v[i].state != SB_ALERT_RESOLVED))
            v[k++] = v[i];
    qsort(v, k, sizeof(*v), cmp_alert);
    if (k > MAX_ALERTS)
        k = MAX_ALERTS;
    g->alerts = calloc(k ? k : 1, sizeof(*g->alerts));
    for (size_t i = 0; g->alerts && i < k; i++) {
        g->alerts[i] = (struct sb_report_alert){
            .raised_ms = v[i].raised_ms, .severity = sb_alert_sev_name(v[i].severity),
            .title = v[i].message[0] ? v[i].message : v[i].rule, .state = sb_alert_state_name(v[i].state),
            .equipment = NULL, .cost_per_day = NAN };
    }
    g->d.nalerts = g->alerts ? k : 0;
    g->d.alerts = g->alerts;
}

/* Savings of the first main meter against the definition's baseline. */
static void savings(struct sb_analytics *a, const struct sb_model *m, const struct sb_building *b,
                    const char *baseline, struct gather *g)
{
    unsigned y0, m0, d0, y1, m1, d1;
    const struct sb_equipment *e = NULL;
    const struct sb_point *po = sb_outdoor_temp_point(m, (int32_t)(b - m->buildings));

    for (size_t k = 0; k < g->d.nmeters && !e; k++)
        if (g->meters[k].depth == 0)
            e = sb_model_equipment(m, g->meters[k].slug);
    if (!e || !po || !baseline ||
        sscanf(baseline, "%4u-%2u-%2u/%4u-%2u-%2u", &y0, &m0, &d0, &y1, &m1, &d1) != 6)
        return;
    int64_t b0 = day_ms(b->tz, sb_days_from_civil(y0, m0, d0));
    int64_t b1 = day_ms(b->tz, sb_days_from_civil(y1, m1, d1) + 1);
    b0 -= ((b0 % SB_HOUR_MS) + SB_HOUR_MS) % SB_HOUR_MS;
    b1 -= ((b1 % SB_HOUR_MS) + SB_HOUR_MS) % SB_HOUR_MS;
    size_t nb = (size_t)((b1 - b0) / SB_HOUR_MS), nr = (size_t)((g->d.to_ms - g->d.from_ms) / SB_HOUR_MS);
    double *bk = malloc(nb * sizeof(double)), *bt = malloc(nb * sizeof(double));
    double *rk = malloc(nr * sizeof(double)), *rt = malloc(nr * sizeof(double));
    double *adj = malloc(nr * sizeof(double));
    char err[SB_MV_MSG + 64] = "";
    if (bk && bt && rk && rt && adj &&
        sb_meter_energy(a->cfg.store, sb_meter_point(m, e), SB_RES_1H, b0, nb, bk) >= 0 &&
        sb_point_mean(a->cfg.store, po, SB_RES_1H, b0, nb, bt) >= 0 &&
        sb_meter_energy(a->cfg.store, sb_meter_point(m, e), SB_RES_1H, g->d.from_ms, nr, rk) >= 0 &&
        sb_point_mean(a->cfg.store, po, SB_RES_1H, g->d.from_ms, nr, rt) >= 0) {
        struct sb_mv_opts o = { .method = SB_MV_HOURLY, .tz = b->tz };
        struct sb_mv_input base = { .interval = SB_MV_HOUR, .t0 = b0 / 1000, .n = nb, .kwh = bk, .temp_c = bt };
        struct sb_mv_input rep = { .interval = SB_MV_HOUR, .t0 = g->d.from_ms / 1000, .n = nr, .kwh = rk,
                                   .temp_c = rt };
        struct sb_mv_result res;
        if (sb_mv_savings(&base, &rep, NULL, NULL, 0, &o, adj, &res, NULL, NULL, err, sizeof(err)) == 0) {
            g->d.has_savings = 1;
            g->d.savings_pct = 100 * res.frac;
            g->d.savings_kwh = res.avoided;
            double h = isfinite(res.honest_half) ? res.honest_half : res.g14_half;
            g->d.savings_lo_kwh = res.avoided - h;
            g->d.savings_hi_kwh = res.avoided + h;
            snprintf(g->savings_note, sizeof(g->savings_note),
                     "%s, CalTRACK hourly against %s; %.0f %% interval with baseline drift", e->name,
                     baseline, 100 * res.conf);
            g->d.savings_note = g->savings_note;
        } else {
            note(g, "savings", err);
        }
    }
    free(bk);
    free(bt);
    free(rk);
    free(rt);
    free(adj);
}


static int gather(struct sb_analytics *a, const struct sb_model *m, const struct sb_building *b,
                  json_t *def, int64_t d0, int64_t d1, struct gather *g)
{
    int32_t bi = (int32_t)(b - m->buildings);
    size_t nm = 0;

    memset(g, 0, sizeof(*g));
    g->d.report_id = json_string_value(json_object_get(def, "id"));
    g->d.building_slug = b->slug;
    g->d.building_name = b->name;
    g->d.timezone = b->timezone;
    g->d.tz = b->tz;
    g->d.frequency = json_string_value(json_object_get(def, "frequency"));
    g->d.from_ms = day_ms(b->tz, d0);
    g->d.to_ms = day_ms(b->tz, d1);
    /* whole quarter hours (zones off by 30 or 45 minutes still work) */
    g->d.from_ms -= ((g->d.from_ms % Q_MS) + Q_MS) % Q_MS;
    g->d.to_ms -= ((g->d.to_ms % Q_MS) + Q_MS) % Q_MS;
    g->d.generated_ms = svc_now(a);
    g->d.ndays = (size_t)(d1 - d0);
    if (!(g->days = malloc(g->d.ndays * sizeof(int64_t))))
        return SB_ENOMEM;
    for (size_t i = 0; i < g->d.ndays; i++)
        g->days[i] = i == 0 ? g->d.from_ms : day_ms(b->tz, d0 + (int64_t)i);
    g->d.day_start_ms = g->days;
    for (size_t i = 0; i < m->nequipment; i++)
        nm += m->equipment[i].building_ix == bi && sb_meter_point(m, &m->equipment[i]);
    g->meters = calloc(nm ? nm : 1, sizeof(*g->meters));
    g->kwh = calloc(nm ? nm : 1, sizeof(*g->kwh));
    if (!g->meters || !g->kwh)
        return SB_ENOMEM;
    char why[256];
    struct sb_tariff *t = sb_building_tariff(a->cfg.db, b->slug, why, sizeof(why));
    if (t) {   /* a copy: t goes before the report is built */
        snprintf(g->currency, sizeof(g->currency), "%s", t->currency);
        g->d.currency = g->currency;
    }
    g->d.total_cost = t ? 0 : NAN;
    /* main meters first, then end uses, in model order */
    for (int depth = 0; depth < 9; depth++)
        for (size_t i = 0; i < m->nequipment && g->d.nmeters < nm; i++) {
            const struct sb_equipment *e = &m->equipment[i];
            if (e->building_ix != bi || !sb_meter_point(m, e) || depth_of(m, e) != depth)
                continue;
            if (!(g->kwh[g->d.nmeters] = malloc(g->d.ndays * sizeof(double)))) {
                free(t);
                return SB_ENOMEM;
            }
            meter_figures(a, m, e, g, g->d.nmeters, t, b->tz);
            if (depth == 0 && t)
                g->d.total_cost += isfinite(g->meters[g->d.nmeters].cost) ? g->meters[g->d.nmeters].cost : 0;
            g->d.nmeters++;
        }
    g->d.meters = g->meters;
    free(t);
    g->d.prev_total_kwh = prev_total(a, m, g);
    savings(a, m, b, json_string_value(json_object_get(def, "baseline")), g);
    comfort(a, m, bi, g);
    faults(a, b->slug, g);
    g->d.notes = (const char *const *)g->notes;
    g->d.nnotes = g->nnotes;
    return 0;
}

/* ---- building and delivering ------------------------------------------------------ */

static const char *ctype_of(const char *fmt)
{
    return strcmp(fmt, "xlsx") == 0 ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
         : strcmp(fmt, "csv") == 0 ? "text/csv" : "application/json";
}

static int build(const struct sb_report_data *d, const char *fmt, unsigned char **out, size_t *len)
{
    if (strcmp(fmt, "xlsx") == 0) {
        const char *tmp = getenv("TMPDIR");
        return sb_report_xlsx(d, tmp && *tmp ? tmp : "/tmp", out, len);
    }
    if (strcmp(fmt, "csv") == 0)
        return sb_report_csv(d, (char **)out, len);
    return sb_report_json(d, (char **)out, len);
}

static void deliver(struct sb_analytics *a, json_t *def, const struct sb_report_data *d, const char *fmt,
                    const unsigned char *bytes, size_t len, const char *fname, const char *json_body)
{
    json_t *em = json_object_get(def, "email"), *v;
    const char *hook = json_string_value(json_object_get(def, "webhook"));
    const char *secret = json_string_value(json_object_get(def, "secret"));
    size_t i;
    char from[40], to[40];

    if (!a->notify)
        return;
    sb_time_format(d->from_ms, from, sizeof(from));
    sb_time_format(d->to_ms, to, sizeof(to));
    json_array_foreach(em, i, v) {
        struct sb_notice nt;
        memset(&nt, 0, sizeof(nt));
        snprintf(nt.channel, sizeof(nt.channel), "email");
        snprintf(nt.target, sizeof(nt.target), "%s", json_string_value(v));
        snprintf(nt.building, sizeof(nt.building), "%s", d->building_slug);
        snprintf(nt.subject, sizeof(nt.subject), "%s report: %.80s", d->frequency, d->building_name);
        char text[600];
        snprintf(text, sizeof(text), "The %s report of %s for %.10s to %.10s (UTC) is attached (%s).\n"
                 "It is also kept for download in sbems (Reports).\n", d->frequency, d->building_name,
                 from, to, fmt);
        nt.body_json = strdup("{}");
        nt.body_text = strdup(text);
        if ((nt.attach = malloc(len ? len : 1))) {
            memcpy(nt.attach, bytes, len);
            nt.attach_len = len;
        }
        snprintf(nt.attach_name, sizeof(nt.attach_name), "%s", fname);
        snprintf(nt.attach_type, sizeof(nt.attach_type), "%s", ctype_of(fmt));
        int rc = sb_notify_submit(a->notify, &nt);
        if (rc)
            SB_WARN(SVC_MOD, "report %s: e-mail to %s not sent: %s", d->report_id, json_string_value(v),
                    sb_strerror(rc));
    }
    if (hook && secret && json_body) {
        struct sb_notice nt;
        memset(&nt, 0, sizeof(nt));
        snprintf(nt.channel, sizeof(nt.channel), "webhook");
        snprintf(nt.target, sizeof(nt.target), "%s", hook);
        snprintf(nt.secret, sizeof(nt.secret), "%s", secret);
        snprintf(nt.building, sizeof(nt.building), "%s", d->building_slug);
        nt.body_json = strdup(json_body);
        int rc = sb_notify_submit(a->notify, &nt);
        if (rc)
            SB_WARN(SVC_MOD, "report %s: webhook not sent: %s", d->report_id, sb_strerror(rc));
    }
}

/* Generates, keeps and delivers the report def for local days [d0, d1). */
static int run_period(struct sb_analytics *a, const struct sb_model *m, json_t *def, int64_t d0,
                      int64_t d1, json_t *files, char *err, size_t errlen)
{
    const struct sb_building *b = sb_model_building(m, json_string_value(json_object_get(def, "building")));
    struct gather g;
    json_t *fmts = json_object_get(def, "formats"), *v;
    char *json_body = NULL;
    size_t i, jlen = 0;
    int rc, keep = json_is_integer(json_object_get(def, "keep"))
                       ? (int)json_integer_value(json_object_get(def, "keep")) : 12;

    if (!b) {
        sb_errf(err, errlen, "the report's building no longer exists");
        return SB_ENOENT;
    }
    if ((rc = gather(a, m, b, def, d0, d1, &g)))
        goto out;
    if (json_object_get(def, "webhook") && sb_report_json(&g.d, &json_body, &jlen))
        json_body = NULL;
    json_array_foreach(fmts, i, v) {
        const char *fmt = json_string_value(v);
        unsigned char *bytes = NULL;
        size_t len = 0;
        struct sb_report_file f;
        if ((rc = build(&g.d, fmt, &bytes, &len))) {
            sb_errf(err, errlen, "building the %s file: %s", fmt, sb_strerror(rc));
            goto out;
        }
        memset(&f, 0, sizeof(f));
        snprintf(f.report, sizeof(f.report), "%s", g.d.report_id);
        snprintf(f.building, sizeof(f.building), "%s", b->slug);
        snprintf(f.format, sizeof(f.format), "%s", fmt);
        sb_report_filename(&g.d, fmt, f.name, sizeof(f.name));
        f.from_ms = g.d.from_ms;
        f.to_ms = g.d.to_ms;
        f.created_ms = svc_now(a);
        f.bytes = bytes;
        f.size = len;
        rc = sb_appdb_report_file_put(a->cfg.db, &f, keep * (int)json_array_size(fmts));
        if (rc == 0) {
            char t[40];
            json_array_append_new(files, json_pack("{s:I, s:s, s:s, s:I, s:s}", "id", (json_int_t)f.id,
                                                   "name", f.name, "format", fmt, "bytes", (json_int_t)len,
                                                   "created", sb_time_format(f.created_ms, t, sizeof(t))));
            deliver(a, def, &g.d, fmt, bytes, len, f.name, i == 0 ? json_body : NULL);
        }
        free(bytes);
        if (rc) {
            sb_errf(err, errlen, "storing the %s file: %s", fmt, sb_strerror(rc));
            goto out;
        }
    }
    SB_INFO(SVC_MOD, "report %s: %zu file(s) for %s", g.d.report_id, json_array_size(files), b->slug);
out:
    free(json_body);
    gather_free(&g);
    return rc;
}

static json_t *report_def(struct sb_analytics *a, const char *id)
{
    struct sb_doc d;
    json_t *j = NULL;

    if (sb_appdb_doc_get(a->cfg.db, "report", id, &d) == 0) {
        j = json_loads(d.body, 0, NULL);
        sb_doc_release(&d);
    }
    return j;
}

int sb_analytics_report_run(struct sb_analytics *a, const char *id, const char *day, json_t **files,
                            char *err, size_t errlen)
{
    json_t *def = report_def(a, id);
    struct sb_mref *r = sb_mhub_get(a->cfg.models);
    int64_t d0, d1;
    int rc;

    *files = json_array();
    const struct sb_building *b = def ? sb_model_building(r->m, json_string_value(json_object_get(def, "building")))
                                      : NULL;
    if (!def || !b) {
        rc = SB_ENOENT;
        goto out;
    }
    const char *freq = json_string_value(json_object_get(def, "frequency"));
    unsigned y, m, d;
    if (day) {
        if (sscanf(day, "%4u-%2u-%2u", &y, &m, &d) != 3 || strlen(day) != 10) {
            sb_errf(err, errlen, "period: a local date YYYY-MM-DD inside the period");
            rc = SB_EINVAL;
            goto out;
        }
        period_of(freq, sb_days_from_civil(y, m, d), &d0, &d1);
    } else {
        last_period(freq, b->tz, svc_now(a), &d0, &d1);
    }
    if (day_ms(b->tz, d1) > svc_now(a)) {
        sb_errf(err, errlen, "that period has not ended yet");
        rc = SB_EINVAL;
        goto out;
    }
    /* one generation at a time: the worker and the API share the files */
    pthread_mutex_lock(&a->rmu);
    rc = run_period(a, r->m, def, d0, d1, *files, err, errlen);
    pthread_mutex_unlock(&a->rmu);
out:
    json_decref(def);
    sb_mref_put(r);
    return rc;
}

/* Worker: every enabled report whose last period has ended and has no file yet, after 06:00 local. */
void svc_reports_due(struct sb_analytics *a, const struct sb_model *m, int64_t now)
{
    struct sb_doc *v = NULL;
    size_t n = 0;

    if (sb_appdb_doc_list(a->cfg.db, "report", NULL, 0, &v, &n))
        return;
    for (size_t i = 0; i < n && !a->stop; i++) {
        json_t *def = json_loads(v[i].body, 0, NULL);
        const struct sb_building *b = def ? sb_model_building(m, json_string_value(json_object_get(def, "building")))
                                          : NULL;
        json_t *en = json_object_get(def, "enabled");
        int wday, minute;
        int64_t d0, d1;
        struct sb_report_file *f = NULL;
        size_t nf = 0;
        if (!b || (en && !json_is_true(en)))
            goto next;
        sb_tz_wall(b->tz, now, &wday, &minute);
        last_period(json_string_value(json_object_get(def, "frequency")), b->tz, now, &d0, &d1);
        if (minute < 6 * 60 && sb_local_day(b->tz, now) == d1)
            goto next;   /* the day after the period: wait for late readings until 06:00 */
        if (sb_appdb_report_file_list(a->cfg.db, v[i].key, NULL, 1, &f, &nf) == 0 &&
            (nf == 0 || f[0].from_ms < day_ms(b->tz, d0) - Q_MS)) {
            char err[256] = "";
            json_t *files = json_array();
            pthread_mutex_lock(&a->rmu);
            int rc = run_period(a, m, def, d0, d1, files, err, sizeof(err));
            pthread_mutex_unlock(&a->rmu);
            if (rc)
                SB_WARN(SVC_MOD, "report %s: %s", v[i].key, err[0] ? err : sb_strerror(rc));
            json_decref(files);
        }
        free(f);
next:
        json_decref(def);
    }
    sb_docs_free(v, n);
}

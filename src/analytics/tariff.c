/*
 * tariff.c - the bill / cost engine: bills per billing period, per-day
 * totals, the current-period estimate, allocation to sub-meters and the
 * optimizer's price vector.  Contract: tariff.h; the rules in words:
 * docs/internals/analytics-tariff.md.
 *
 * Everything is computed per billing period [start, end) (UTC of local
 * midnights).  Energy is priced by *segments*: each interval is cut at
 * local hour boundaries and at changes of UTC offset, so every segment lies
 * in one local hour of one local day, and gets the share of the interval's
 * energy proportional to its length (the interval's energy assumed spread
 * evenly).  Aligned data - the usual case - gives one segment per interval.
 * Demand is computed per interval (or clock-aligned block of intervals),
 * classified by the local time of its start.
 */
#include "analytics/tariff.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analytics/tariff_int.h"
#include "core/err.h"
#include "core/tz.h"

#define DAY_S  86400
#define HOUR_S 3600
#define S_MAX  SB_TARIFF_MAX_SEASONS
#define P_MAX  SB_TARIFF_MAX_PERIODS
#define START_LIMIT ((int64_t)1 << 40)   /* |series start| bound: no overflow below */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* ------------------------------------------------------------------------ */
/* the local clock                                                          */

/* The local calendar of an instant. */
struct cal {
    int64_t day;       /* local days since 1970-01-01 */
    int     year, month, mday;
    int     kind;      /* 0 = Monday .. 6 = Sunday, 7 = holiday */
    int     season;    /* season index */
    int     hour;      /* local hour, 0..23 */
};

/* Zone and day lookups with one-entry caches (consecutive calls ask about
 * neighbouring instants). */
struct clock {
    const struct sb_tariff *t;
    const struct sb_tariff_site *site;
    int64_t from, until;   /* the cached offset holds over [from, until) */
    int32_t off;           /* cached offset, s east */
    bool    have_span;
    bool    have_day;
    struct cal dc;         /* cached day fields (hour unused) */
};

static const struct sb_tariff_site no_site;

static void clk_init(struct clock *k, const struct sb_tariff *t, const struct sb_tariff_site *site)
{
    memset(k, 0, sizeof *k);
    k->t = t;
    k->site = site ? site : &no_site;
}

static int32_t clk_off(struct clock *k, int64_t t, int64_t *until)
{
    if (!k->have_span || t < k->from || t >= k->until) {
        k->off = sb_tz_span(k->site->tz, t, &k->from, &k->until);
        k->have_span = true;
    }
    if (until)
        *until = k->until;
    return k->off;
}

static bool is_holiday(const struct clock *k, int64_t day, int y, int m, int d)
{
    const struct sb_tariff *t = k->t;

    if (t->annual_holiday[m - 1] >> (d - 1) & 1u)
        return true;
    for (int i = 0; i < t->n_holidays; i++)
        if (t->holidays[i].year == y && t->holidays[i].month == m && t->holidays[i].day == d)
            return true;
    for (size_t i = 0; i < k->site->n_holidays; i++)
        if (k->site->holidays && k->site->holidays[i] == day)
            return true;
    return false;
}

static void clk_day(struct clock *k, int64_t day, struct cal *c)
{
    if (!k->have_day || k->dc.day != day) {
        int64_t y;
        unsigned m, d;

        sb_civil_from_days(day, &y, &m, &d);
        k->dc.day = day;
        k->dc.year = (int)y;
        k->dc.month = (int)m;
        k->dc.mday = (int)d;
        /* 1970-01-01 was a Thursday (3 when Monday is 0). */
        k->dc.kind = is_holiday(k, day, (int)y, (int)m, (int)d) ? SB_TARIFF_HOLIDAY
                   : (int)floor_mod(day + 3, 7);
        k->dc.season = k->t->season_of[m - 1][d - 1];
        k->have_day = true;
    }
    *c = k->dc;
}

static void clk_cal(struct clock *k, int64_t t, struct cal *c)
{
    int64_t l = t + clk_off(k, t, NULL), day = floor_div(l, DAY_S);

    clk_day(k, day, c);
    c->hour = (int)((l - day * DAY_S) / HOUR_S);
}

/* The end of the segment that starts at t: the next local hour boundary,
 * the next change of offset or lim, whichever comes first. */
static int64_t seg_end(struct clock *k, int64_t t, int64_t lim)
{
    int64_t until, l = t + clk_off(k, t, &until), next = t + (HOUR_S - floor_mod(l, HOUR_S));

    next = min64(next, until);
    return min64(next, lim);
}

/* UTC of local midnight starting local day `day` (in a gap: the end of it). */
static int64_t midnight(const struct clock *k, int64_t day)
{
    return sb_tz_local_to_utc(k->site->tz, day * DAY_S);
}

/* A billing period. */
struct span {
    int64_t start, end;    /* UTC [start, end) */
    int64_t day0, day1;    /* its local days [day0, day1) */
};

/* The period whose local dates hold instant at; moved by one period when
 * the UTC bounds disagree (zones that fall back across midnight). */
static void period_at(struct clock *k, int64_t at, struct span *p)
{
    struct cal c;
    int64_t y, m;

    clk_cal(k, at, &c);
    y = c.year;
    m = c.month - (c.mday < k->t->cycle_day ? 1 : 0);
    for (int guard = 0; guard < 4; guard++) {
        int64_t ym = y * 12 + (m - 1), ny = floor_div(ym + 1, 12), nm = floor_mod(ym + 1, 12) + 1;

        y = floor_div(ym, 12);
        m = floor_mod(ym, 12) + 1;
        p->day0 = sb_days_from_civil(y, (unsigned)m, k->t->cycle_day);
        p->day1 = sb_days_from_civil(ny, (unsigned)nm, k->t->cycle_day);
        p->start = midnight(k, p->day0);
        p->end = midnight(k, p->day1);
        if (at < p->start)
            m--;
        else if (at >= p->end)
            m++;
        else
            return;
    }
}

/* ------------------------------------------------------------------------ */
/* the run: one computation over a series                                   */

struct run {
    const struct sb_tariff *t;
    struct clock clk;
    const double *a;           /* actual data */
    size_t na;
    const double *f;           /* forecast, continuing a */
    size_t nf;
    const double *sub;         /* allocation: the sub-meter, aligned with a; else NULL */
    int64_t start;             /* UTC start of interval 0 */
    int32_t iv;                /* interval, s */
    int64_t lo, hi;            /* the span priced, UTC [lo, hi) */
    struct sb_tariff_bill *bills;
    size_t max_bills, n_bills;
    struct sb_tariff_day *days;
    size_t max_days, n_days;
    bool counting;             /* only count bills and days */
};

static double val(const struct run *r, size_t i)
{
    double v = i < r->na ? r->a[i] : r->f[i - r->na];

    return isfinite(v) ? v : NAN;
}

/* Sub-meter value of interval i (NAN if missing). */
static double sub_val(const struct run *r, size_t i)
{
    return isfinite(r->sub[i]) ? r->sub[i] : NAN;
}

/* Per-period accumulators. */
struct acc {
    const struct span *p;
    int64_t a, b;                  /* data span in the period */
    double  coverage;              /* share of the period's days covered */
    double  day_sum;               /* covered days (fractional) */
    int     nd;                    /* days in the period (skipped days not counted) */
    size_t  day_first, day_n;      /* the period's day records */
    size_t  day_cur;               /* cursor into them */
    double  e_kwh[S_MAX][P_MAX], e_cost[S_MAX][P_MAX], e_price[S_MAX][P_MAX];
    bool    e_used[S_MAX][P_MAX];
    double  x_kwh[S_MAX][P_MAX], x_cost[S_MAX][P_MAX];
    bool    x_used[S_MAX][P_MAX];
    double  cum;                   /* import so far, for the blocks */
    double  tier_kwh[SB_TARIFF_MAX_TIERS];
    double  import, export_, forecast;
    /* demand */
    bool    d_seen[SB_TARIFF_MAX_DEMAND];   /* the window applied */
    bool    d_has[SB_TARIFF_MAX_DEMAND];    /* ... with data */
    double  d_peak[SB_TARIFF_MAX_DEMAND];
    int64_t d_at[SB_TARIFF_MAX_DEMAND];
    int32_t d_len[SB_TARIFF_MAX_DEMAND];
    size_t  d_day[SB_TARIFF_MAX_DEMAND];    /* day record of the peak */
    bool    d_fc[SB_TARIFF_MAX_DEMAND];
    double  d_sub[SB_TARIFF_MAX_DEMAND];    /* sub-meter kW in the peak window */
    double  fac_peak;
    int64_t fac_at;
    /* allocation bases */
    double  se[S_MAX][P_MAX], sx[S_MAX][P_MAX], stier[SB_TARIFF_MAX_TIERS];
    /* counts */
    uint32_t n_iv, n_miss;
    int64_t first_miss;
};

/* ---- days ---------------------------------------------------------------- */

static double overlap(int64_t a, int64_t b, int64_t c, int64_t d)
{
    int64_t o = min64(b, d) - max64(a, c);

    return o > 0 ? (double)o : 0.0;
}

/* Appends the record of local day d, [ds, de), covered share cov. */
static void day_record(struct run *r, int64_t d, int64_t ds, int64_t de, double cov)
{
    struct sb_tariff_day *dy = &r->days[r->n_days++];
    struct cal c;

    memset(dy, 0, sizeof *dy);
    clk_day(&r->clk, d, &c);
    dy->start = ds;
    dy->end = de;
    dy->year = c.year;
    dy->month = (uint8_t)c.month;
    dy->mday = (uint8_t)c.mday;
    dy->kind = (uint8_t)c.kind;
    dy->season = (uint8_t)c.season;
    dy->coverage = cov;
    dy->peak_kw = NAN;
}

/* Walks the days of the period: the covered share of each, a record for
 * each covered one (or just a count).  Returns the days in the period. */
static int period_days(struct run *r, struct acc *A)
{
    const struct span *p = A->p;
    int nd = 0;

    A->day_first = r->n_days;
    for (int64_t d = p->day0; d < p->day1; d++) {
        int64_t ds = midnight(&r->clk, d), de = midnight(&r->clk, d + 1);
        double cov;

        if (de <= ds)
            continue;          /* a day the zone skipped (Pacific/Apia, 2011-12-30) */
        nd++;
        cov = overlap(A->a, A->b, ds, de) / (double)(de - ds);
        A->day_sum += cov;
        if (cov <= 0)
            continue;
        if (r->counting || (r->days && r->n_days >= r->max_days))
            r->n_days++;
        else if (r->days)
            day_record(r, d, ds, de, cov);
    }
    A->day_n = r->n_days - A->day_first;
    A->day_cur = A->day_first;
    A->coverage = nd ? A->day_sum / nd : 0;
    return nd;
}

/* The day record holding instant t (records are visited in time order), or
 * NULL when days are not recorded. */
static struct sb_tariff_day *day_at(struct run *r, struct acc *A, int64_t t)
{
    if (!r->days || r->counting || A->day_n == 0 || r->n_days > r->max_days)
        return NULL;
    while (A->day_cur + 1 < A->day_first + A->day_n && t >= r->days[A->day_cur].end)
        A->day_cur++;
    return &r->days[A->day_cur];
}

/* ---- energy -------------------------------------------------------------- */

/* Splits q kWh of import over the blocks; returns the adder cost. */
static double tiers_add(struct run *r, struct acc *A, double q, double sq)
{
    const struct sb_tariff *t = r->t;
    double cost = 0, left = q;

    for (int k = 0; k < t->n_tiers && left > 0; k++) {
        double cap = t->tiers[k].up_to * A->coverage, room = cap - A->cum, part;

        if (k < t->n_tiers - 1 && room <= 0)
            continue;
        part = k == t->n_tiers - 1 ? left : fmin(left, room);
        A->tier_kwh[k] += part;
        A->cum += part;
        cost += part * t->tiers[k].price;
        if (r->sub && q > 0)
            A->stier[k] += sq * (part / q);
        left -= part;
    }
    return cost;
}

/* q >= 0 kWh imported (sub-meter sq) under energy rule e in season s. */
static void energy_import(struct run *r, struct acc *A, const struct sb_tariff_energy *e, int s,
                          double q, double sq, bool fc, struct sb_tariff_day *dy)
{
    int p = e->period;
    double cost = q * e->price;

    A->e_used[s][p] = true;
    A->e_kwh[s][p] += q;
    A->e_cost[s][p] += cost;
    A->e_price[s][p] = e->price;
    A->se[s][p] += sq;
    A->import += q;
    if (fc)
        A->forecast += q;
    if (r->t->n_tiers && q > 0)
        cost += tiers_add(r, A, q, sq);
    if (dy) {
        dy->import_kwh += q;
        dy->energy_cost += cost;
    }
}

/* x > 0 kWh exported (sub-meter's part -sq): credited at the flat price,
 * at e's export price (TOU), or not at all. */
static void energy_export(struct run *r, struct acc *A, const struct sb_tariff_energy *e, int s,
                          double x, double sq, struct sb_tariff_day *dy)
{
    const struct sb_tariff *t = r->t;
    int p = e->period;
    double price = t->export_mode == SB_TARIFF_EXPORT_TOU ? e->export_price
                 : t->export_mode == SB_TARIFF_EXPORT_FLAT ? t->export_price : 0;

    if (t->export_mode != SB_TARIFF_EXPORT_TOU)
        s = p = 0;             /* one export line */
    A->x_used[s][p] = true;
    A->x_kwh[s][p] += x;
    A->x_cost[s][p] -= x * price;
    A->sx[s][p] -= sq;
    A->export_ += x;
    if (dy) {
        dy->export_kwh += x;
        dy->export_credit -= x * price;
    }
}

/* One segment of q kWh net (sub-meter sq) at local time c; the sign is
 * the interval's, so netting happens within an interval, never across. */
static void energy_seg(struct run *r, struct acc *A, const struct cal *c, double q, double sq,
                       bool fc, struct sb_tariff_day *dy)
{
    const struct sb_tariff *t = r->t;
    const struct sb_tariff_energy *e = &t->energy[t->slot[c->season][c->kind][c->hour]];

    if (q >= 0)
        energy_import(r, A, e, c->season, q, sq, fc, dy);
    else
        energy_export(r, A, e, c->season, -q, sq, dy);
}

/* Prices interval i clipped to [a, b). */
static void energy_interval(struct run *r, struct acc *A, size_t i, int64_t a, int64_t b)
{
    int64_t t0 = r->start + (int64_t)i * r->iv, t = max64(t0, a), lim = min64(t0 + r->iv, b);
    double v = val(r, i), sv = 0;

    if (isnan(v))
        return;
    if (r->sub) {
        sv = sub_val(r, i);
        if (isnan(sv))
            sv = 0;            /* counts as 0; reported by count_interval */
    }
    while (t < lim) {
        int64_t e = seg_end(&r->clk, t, lim);
        double fr = (double)(e - t) / r->iv;
        struct cal c;

        clk_cal(&r->clk, t, &c);
        energy_seg(r, A, &c, v * fr, sv * fr, i >= r->na, day_at(r, A, t));
        t = e;
    }
}

/* Counts interval i (starting at t0) and whether it is missing: in the
 * main meter, or - allocating - in the sub-meter where the main has data. */
static void count_interval(struct run *r, struct acc *A, size_t i, int64_t t0)
{
    struct sb_tariff_day *dy = day_at(r, A, t0);
    bool main_nan = isnan(val(r, i));
    bool miss = r->sub ? !main_nan && isnan(sub_val(r, i)) : main_nan;

    A->n_iv++;
    if (!miss)
        return;
    if (A->n_miss++ == 0)
        A->first_miss = t0;
    if (dy)
        dy->n_missing++;
}

/* ---- demand -------------------------------------------------------------- */

/* A demand window: intervals [j0, j1]. */
struct blk {
    size_t  j0, j1;
    double  kwh, sub_kwh;      /* over the present intervals */
    int     n;                 /* present intervals */
    bool    fc;                /* includes a forecast interval */
};

static void blk_add(const struct run *r, struct blk *bk, size_t j)
{
    double v = val(r, j);

    bk->j1 = j;
    if (isnan(v))
        return;
    bk->kwh += v;
    bk->n++;
    if (j >= r->na)
        bk->fc = true;
    if (r->sub && !isnan(sub_val(r, j)))
        bk->sub_kwh += sub_val(r, j);
}

static void blk_consider(struct run *r, struct acc *A, const struct blk *bk)
{
    const struct sb_tariff *t = r->t;
    int64_t t0 = r->start + (int64_t)bk->j0 * r->iv;
    double hours = bk->n * (r->iv / 3600.0), kw = bk->n ? bk->kwh / hours : NAN;
    struct cal c0, c1;
    struct sb_tariff_day *dy = day_at(r, A, t0);

    clk_cal(&r->clk, r->start + (int64_t)bk->j1 * r->iv, &c1);
    clk_cal(&r->clk, t0, &c0);
    if (bk->n && (isnan(A->fac_peak) || kw > A->fac_peak)) {
        A->fac_peak = kw;
        A->fac_at = t0;
    }
    if (bk->n && dy && (isnan(dy->peak_kw) || kw > dy->peak_kw))
        dy->peak_kw = kw;
    for (int k = 0; k < t->n_demand; k++) {
        const struct sb_tariff_when *w = &t->demand[k].when;

        if (!sb_tariff__when_has(w, c0.season, c0.kind, c0.hour) ||
            !sb_tariff__when_has(w, c1.season, c1.kind, c1.hour))
            continue;
        A->d_seen[k] = true;
        if (!bk->n || (A->d_has[k] && !(kw > A->d_peak[k])))
            continue;
        A->d_has[k] = true;
        A->d_peak[k] = kw;
        A->d_at[k] = t0;
        A->d_len[k] = (int32_t)((bk->j1 - bk->j0 + 1) * (size_t)r->iv);
        A->d_day[k] = A->day_cur;
        A->d_fc[k] = bk->fc;
        A->d_sub[k] = bk->sub_kwh / hours;
    }
}

/* Block demand: clock-aligned windows of demand_min (or each interval when
 * the data is as coarse or coarser). */
static void demand_blocks(struct run *r, struct acc *A, size_t ja, size_t jb)
{
    int64_t dlen = (int64_t)r->t->demand_min * 60, key = 0;
    struct blk bk;
    bool open = false;

    for (size_t j = ja; j < jb; j++) {
        int64_t t0 = r->start + (int64_t)j * r->iv;
        int64_t k = r->iv >= dlen ? (int64_t)j : floor_div(t0 + clk_off(&r->clk, t0, NULL), dlen);

        if (open && k != key) {
            blk_consider(r, A, &bk);
            open = false;
        }
        if (!open) {
            memset(&bk, 0, sizeof bk);
            bk.j0 = j;
            key = k;
            open = true;
        }
        blk_add(r, &bk, j);
    }
    if (open)
        blk_consider(r, A, &bk);
}

/* Rolling demand: every run of demand_min / interval consecutive intervals. */
static void demand_rolling(struct run *r, struct acc *A, size_t ja, size_t jb)
{
    size_t m = (size_t)r->t->demand_min * 60 / (size_t)r->iv;

    for (size_t j = ja; m > 0 && j + m <= jb; j++) {
        struct blk bk;

        memset(&bk, 0, sizeof bk);
        bk.j0 = j;
        for (size_t q = j; q < j + m; q++)
            blk_add(r, &bk, q);
        blk_consider(r, A, &bk);
    }
}

/* ---- the bill ------------------------------------------------------------- */

static void add_line(struct sb_tariff_bill *b, int kind, int s, int p, int idx, double qty,
                     double price, double cost)
{
    struct sb_tariff_line *l = &b->lines[b->n_lines++];

    memset(l, 0, sizeof *l);
    l->kind = (uint8_t)kind;
    l->season = (int8_t)s;
    l->period = (int8_t)p;
    l->index = (int8_t)idx;
    l->qty = qty;
    l->price = price;
    l->cost = cost;
}

/* share of main: cost * part / whole (0 when whole is 0). */
static double share(double cost, double part, double whole)
{
    return whole != 0 ? cost * (part / whole) : 0;
}

static void lines_energy(struct run *r, struct acc *A, struct sb_tariff_bill *b)
{
    const struct sb_tariff *t = r->t;
    bool alloc = r->sub != NULL;

    for (int s = 0; s < t->n_seasons; s++)
        for (int p = 0; p < t->n_periods; p++) {
            double q = A->e_kwh[s][p], c = A->e_cost[s][p];

            if (!A->e_used[s][p])
                continue;
            add_line(b, SB_TL_ENERGY, s, p, -1, alloc ? A->se[s][p] : q,
                     q > 0 ? c / q : A->e_price[s][p], alloc ? share(c, A->se[s][p], q) : c);
        }
    for (int k = 0; k < t->n_tiers; k++) {
        double q = A->tier_kwh[k], c = q * t->tiers[k].price;

        if (q > 0)
            add_line(b, SB_TL_TIER, -1, -1, k, alloc ? A->stier[k] : q, t->tiers[k].price,
                     alloc ? share(c, A->stier[k], q) : c);
    }
}

static void lines_demand(struct run *r, struct acc *A, struct sb_tariff_bill *b)
{
    const struct sb_tariff *t = r->t;

    for (int k = 0; k < t->n_demand; k++) {
        double kw, c;
        struct sb_tariff_line *l;

        if (!A->d_seen[k])
            continue;
        kw = A->d_has[k] ? fmax(A->d_peak[k], 0) : 0;
        c = kw * t->demand[k].price;
        if (r->sub)
            add_line(b, SB_TL_DEMAND, -1, -1, k, A->d_has[k] ? A->d_sub[k] : 0,
                     t->demand[k].price, kw > 0 ? share(c, A->d_sub[k], A->d_peak[k]) : 0);
        else
            add_line(b, SB_TL_DEMAND, -1, -1, k, kw, t->demand[k].price, c);
        l = &b->lines[b->n_lines - 1];
        l->no_data = !A->d_has[k];
        l->from_forecast = A->d_fc[k];
        if (A->d_has[k]) {
            l->peak_at = A->d_at[k];
            l->peak_s = A->d_len[k];
        } else {
            b->notes |= SB_TARIFF_NOTE_DEMAND_GAP;
        }
        if (!r->sub && r->days && A->d_has[k] && A->d_day[k] < r->n_days)
            r->days[A->d_day[k]].demand_cost += c;
    }
}

static void lines_fixed(struct run *r, struct acc *A, struct sb_tariff_bill *b)
{
    const struct sb_tariff *t = r->t;
    double imp = 0, simp = 0;

    for (int s = 0; s < t->n_seasons; s++)
        for (int p = 0; p < t->n_periods; p++) {
            imp += A->e_kwh[s][p];
            simp += A->se[s][p];
        }
    for (int k = 0; k < t->n_fixed; k++) {
        const struct sb_tariff_fixed *f = &t->fixed[k];
        double q = f->per_day ? A->day_sum : A->coverage, c = q * f->price;

        add_line(b, SB_TL_FIXED, -1, -1, k, q, f->price, r->sub ? share(c, simp, imp) : c);
    }
}

static void lines_export(struct run *r, struct acc *A, struct sb_tariff_bill *b)
{
    const struct sb_tariff *t = r->t;

    for (int s = 0; s < t->n_seasons; s++)
        for (int p = 0; p < t->n_periods; p++) {
            double q = A->x_kwh[s][p], c = A->x_cost[s][p];
            bool tou = t->export_mode == SB_TARIFF_EXPORT_TOU;

            if (!A->x_used[s][p])
                continue;
            add_line(b, SB_TL_EXPORT, tou ? s : -1, tou ? p : -1, -1, r->sub ? A->sx[s][p] : q,
                     q > 0 && c != 0 ? -c / q : 0, r->sub ? share(c, A->sx[s][p], q) : c);
            if (t->export_mode == SB_TARIFF_EXPORT_NONE && q > 0)
                b->notes |= SB_TARIFF_NOTE_NO_CREDIT;
        }
}

/* Fixed charges, tax and totals of the period's days. */
static void days_finish(struct run *r, struct acc *A)
{
    const struct sb_tariff *t = r->t;

    if (!r->days || r->sub || r->counting || r->n_days > r->max_days)
        return;
    for (size_t i = A->day_first; i < A->day_first + A->day_n; i++) {
        struct sb_tariff_day *dy = &r->days[i];
        double sub;

        for (int k = 0; k < t->n_fixed; k++)
            dy->fixed_cost += t->fixed[k].price * dy->coverage /
                              (t->fixed[k].per_day ? 1 : A->nd);
        sub = dy->energy_cost + dy->export_credit + dy->fixed_cost + dy->demand_cost;
        dy->tax = sub * t->tax_pct / 100.0;
        dy->total = sub + dy->tax;
    }
}

static void note_text(const struct run *r, struct sb_tariff_bill *b)
{
    size_t len = 0;

    b->note[0] = '\0';
    for (unsigned bit = 1; bit <= SB_TARIFF_NOTE_SUB_MISSING; bit <<= 1) {
        char one[160];
        int n;

        if (!(b->notes & bit))
            continue;
        if (bit == SB_TARIFF_NOTE_MISSING || bit == SB_TARIFF_NOTE_SUB_MISSING)
            snprintf(one, sizeof one, "%s (%u of %u intervals)", sb_tariff_note_str(bit),
                     b->n_missing, b->n_intervals);
        else if (bit == SB_TARIFF_NOTE_COARSE)
            snprintf(one, sizeof one, "%d-min data underestimates the %d-min demand peak",
                     r->iv / 60, r->t->demand_min);
        else
            snprintf(one, sizeof one, "%s", sb_tariff_note_str(bit));
        n = snprintf(b->note + len, sizeof b->note - len, "%s%s", len ? "; " : "", one);
        if (n < 0 || (size_t)n >= sizeof b->note - len)
            break;
        len += (size_t)n;
    }
}

static void bill_finish(struct run *r, struct acc *A, struct sb_tariff_bill *b)
{
    const struct sb_tariff *t = r->t;

    memset(b, 0, sizeof *b);
    b->start = A->p->start;
    b->end = A->p->end;
    b->from = A->a < A->b ? A->a : A->p->start;
    b->to = A->a < A->b ? A->b : A->p->start;
    b->coverage = A->coverage;
    b->import_kwh = A->import;
    b->export_kwh = A->export_;
    b->forecast_kwh = A->forecast;
    b->peak_kw = A->fac_peak;
    b->peak_at = A->fac_at;
    b->n_intervals = A->n_iv;
    b->n_missing = A->n_miss;
    b->first_missing = A->first_miss;
    b->allocated = r->sub != NULL;
    lines_energy(r, A, b);
    lines_demand(r, A, b);
    lines_fixed(r, A, b);
    lines_export(r, A, b);
    for (uint32_t i = 0; i < b->n_lines; i++)
        b->subtotal += b->lines[i].cost;
    if (t->tax_pct > 0) {
        b->tax = b->subtotal * t->tax_pct / 100.0;
        add_line(b, SB_TL_TAX, -1, -1, -1, b->subtotal, t->tax_pct / 100.0, b->tax);
    }
    b->total = b->subtotal + b->tax;
    if (A->n_miss)
        b->notes |= r->sub ? SB_TARIFF_NOTE_SUB_MISSING : SB_TARIFF_NOTE_MISSING;
    if (A->coverage < 1)
        b->notes |= SB_TARIFF_NOTE_PARTIAL;
    if (r->iv > t->demand_min * 60 && t->n_demand)
        b->notes |= SB_TARIFF_NOTE_COARSE;
    note_text(r, b);
    days_finish(r, A);
}

/* Index range [*ja, *jb) of the intervals starting in [a, b). */
static void start_range(const struct run *r, int64_t a, int64_t b, size_t *ja, size_t *jb)
{
    int64_t n = (int64_t)(r->na + r->nf);
    int64_t x = floor_div(a - r->start + r->iv - 1, r->iv), y = floor_div(b - r->start + r->iv - 1, r->iv);

    *ja = (size_t)(x < 0 ? 0 : x > n ? n : x);
    *jb = (size_t)(y < 0 ? 0 : y > n ? n : y);
    if (*jb < *ja)
        *jb = *ja;
}

static void run_period(struct run *r, const struct span *p)
{
    struct acc A;
    size_t ia, ib, ja, jb;

    memset(&A, 0, sizeof A);
    A.p = p;
    A.a = max64(p->start, r->lo);
    A.b = min64(p->end, r->hi);
    A.fac_peak = NAN;
    A.nd = period_days(r, &A);
    if (r->counting || r->n_days > r->max_days || r->n_bills >= r->max_bills) {
        r->n_bills++;
        return;
    }
    /* intervals overlapping [a, b) for energy; starting in it for the rest */
    ia = A.a < A.b ? (size_t)floor_div(A.a - r->start, r->iv) : 0;
    ib = A.a < A.b ? (size_t)floor_div(A.b - r->start + r->iv - 1, r->iv) : 0;
    for (size_t i = ia; i < ib; i++)
        energy_interval(r, &A, i, A.a, A.b);
    start_range(r, A.a, A.b, &ja, &jb);
    A.day_cur = A.day_first;
    for (size_t j = ja; j < jb; j++)
        count_interval(r, &A, j, r->start + (int64_t)j * r->iv);
    A.day_cur = A.day_first;
    if (r->t->demand_method == SB_TARIFF_DEMAND_ROLLING && r->iv < r->t->demand_min * 60)
        demand_rolling(r, &A, ja, jb);
    else
        demand_blocks(r, &A, ja, jb);
    bill_finish(r, &A, &r->bills[r->n_bills++]);
}

/* Runs every period overlapping [lo, hi). */
static void run_all(struct run *r)
{
    struct span p;

    period_at(&r->clk, r->lo, &p);
    for (;;) {
        int64_t prev = p.end;

        run_period(r, &p);
        if (p.end >= r->hi)
            break;
        period_at(&r->clk, p.end, &p);
        if (p.end <= prev)
            break;             /* cannot happen (offsets < 1 day << a period): no endless loop */
    }
}

/* ------------------------------------------------------------------------ */
/* the API                                                                  */

static int check_series(const struct sb_tariff *t, const struct sb_tariff_series *s, bool allow_empty)
{
    if (!t || !s || (s->n && !s->kwh) || (!s->n && !allow_empty) || s->n > SB_TARIFF_MAX_N)
        return SB_EINVAL;
    if (s->interval_s != 900 && s->interval_s != 1800 && s->interval_s != 3600)
        return SB_EINVAL;
    if (s->start <= -START_LIMIT || s->start >= START_LIMIT)
        return SB_EINVAL;
    if (t->n_seasons < 1 || t->n_energy < 1 || t->cycle_day < 1 || t->cycle_day > 28 ||
        (t->demand_min != 15 && t->demand_min != 30 && t->demand_min != 60))
        return SB_EINVAL;      /* not from sb_tariff_parse */
    return 0;
}

static void run_init(struct run *r, const struct sb_tariff *t, const struct sb_tariff_site *site,
                     const struct sb_tariff_series *s)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    clk_init(&r->clk, t, site);
    r->a = s->kwh;
    r->na = s->n;
    r->start = s->start;
    r->iv = s->interval_s;
    r->lo = s->start;
    r->hi = s->start + (int64_t)s->n * s->interval_s;
}

int sb_tariff_count(const struct sb_tariff *t, const struct sb_tariff_site *site,
                    const struct sb_tariff_series *s, size_t *n_bills, size_t *n_days)
{
    struct run r;
    int rc = check_series(t, s, false);

    if (rc)
        return rc;
    run_init(&r, t, site, s);
    r.counting = true;
    run_all(&r);
    if (n_bills)
        *n_bills = r.n_bills;
    if (n_days)
        *n_days = r.n_days;
    return 0;
}

int sb_tariff_compute(const struct sb_tariff *t, const struct sb_tariff_site *site,
                      const struct sb_tariff_series *s,
                      struct sb_tariff_bill *bills, size_t max_bills, size_t *n_bills,
                      struct sb_tariff_day *days, size_t max_days, size_t *n_days)
{
    size_t nb, nd;
    struct run r;
    int rc = sb_tariff_count(t, site, s, &nb, &nd);

    if (rc)
        return rc;
    if (n_bills)
        *n_bills = nb;
    if (n_days)
        *n_days = days ? nd : 0;
    if (!bills || nb > max_bills || (days && nd > max_days))
        return SB_ENOSPC;
    run_init(&r, t, site, s);
    r.bills = bills;
    r.max_bills = max_bills;
    r.days = days;
    r.max_days = days ? max_days : 0;
    run_all(&r);
    return 0;
}

int sb_tariff_estimate(const struct sb_tariff *t, const struct sb_tariff_site *site,
                       const struct sb_tariff_series *actual, const double *forecast,
                       size_t n_forecast, struct sb_tariff_bill *est,
                       struct sb_tariff_bill *to_date)
{
    struct run r;
    struct span p;
    int64_t now;
    int rc = check_series(t, actual, true);

    if (rc)
        return rc;
    if (!est || (n_forecast && !forecast) || (!n_forecast && !actual->n) ||
        n_forecast > SB_TARIFF_MAX_N - actual->n)
        return SB_EINVAL;
    run_init(&r, t, site, actual);
    r.f = forecast;
    r.nf = n_forecast;
    now = r.hi;
    period_at(&r.clk, n_forecast ? now : now - 1, &p);
    r.lo = max64(r.start, p.start);
    r.hi = min64(now + (int64_t)n_forecast * r.iv, p.end);
    r.bills = est;
    r.max_bills = 1;
    run_period(&r, &p);
    est->estimate = true;
    if (n_forecast)
        est->notes |= SB_TARIFF_NOTE_ESTIMATE;
    if (r.hi < p.end)
        est->notes |= SB_TARIFF_NOTE_SHORT;
    note_text(&r, est);
    if (!to_date)
        return 0;
    r.nf = 0;
    r.lo = max64(r.start, p.start);
    r.hi = max64(r.lo, min64(now, p.end));
    r.n_bills = 0;
    r.bills = to_date;
    run_period(&r, &p);
    return 0;
}

int sb_tariff_allocate(const struct sb_tariff *t, const struct sb_tariff_site *site,
                       const struct sb_tariff_series *main, const double *sub_kwh,
                       struct sb_tariff_bill *out, size_t max, size_t *n_out)
{
    size_t nb;
    struct run r;
    int rc = sb_tariff_count(t, site, main, &nb, NULL);

    if (rc)
        return rc;
    if (!sub_kwh)
        return SB_EINVAL;
    if (n_out)
        *n_out = nb;
    if (!out || nb > max)
        return SB_ENOSPC;
    run_init(&r, t, site, main);
    r.sub = sub_kwh;
    r.bills = out;
    r.max_bills = max;
    run_all(&r);
    return 0;
}

/* Import and export price of the segment at c. */
static void seg_prices(const struct sb_tariff *t, const struct cal *c, double *imp, double *xp)
{
    const struct sb_tariff_energy *e = &t->energy[t->slot[c->season][c->kind][c->hour]];

    *imp = e->price;
    *xp = t->export_mode == SB_TARIFF_EXPORT_TOU ? e->export_price
         : t->export_mode == SB_TARIFF_EXPORT_FLAT ? t->export_price : 0;
}

static void price_step(struct clock *k, int64_t t0, int32_t step_s, struct sb_tariff_step *o)
{
    const struct sb_tariff *t = k->t;
    int64_t at = t0, lim = t0 + step_s;
    double imp = 0, xp = 0;
    struct cal c;

    while (at < lim) {
        int64_t e = seg_end(k, at, lim);
        double pi, pe;

        clk_cal(k, at, &c);
        seg_prices(t, &c, &pi, &pe);
        imp += pi * (double)(e - at);
        xp += pe * (double)(e - at);
        at = e;
    }
    clk_cal(k, t0, &c);
    o->price = imp / step_s;
    o->export_price = xp / step_s;
    o->season = (uint8_t)c.season;
    o->period = t->energy[t->slot[c.season][c.kind][c.hour]].period;
    o->demand_mask = 0;
    for (int d = 0; d < t->n_demand; d++)
        if (sb_tariff__when_has(&t->demand[d].when, c.season, c.kind, c.hour))
            o->demand_mask |= (uint8_t)(1u << d);
}

int sb_tariff_prices(const struct sb_tariff *t, const struct sb_tariff_site *site, int64_t start,
                     int32_t step_s, size_t n, struct sb_tariff_step *out)
{
    struct clock k;
    struct span p;
    uint32_t bill = 0;

    if (!t || !out || n == 0 || n > SB_TARIFF_MAX_N || step_s < 60 || step_s > DAY_S ||
        step_s % 60 || start <= -START_LIMIT || start >= START_LIMIT || t->n_energy < 1 ||
        t->cycle_day < 1 || t->cycle_day > 28)
        return SB_EINVAL;
    clk_init(&k, t, site);
    period_at(&k, start, &p);
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = start + (int64_t)i * step_s;

        if (t0 >= p.end) {
            period_at(&k, t0, &p);
            bill++;
        }
        price_step(&k, t0, step_s, &out[i]);
        out[i].bill = bill;
    }
    return 0;
}

int sb_tariff_period_of(const struct sb_tariff *t, const struct sb_tariff_site *site, int64_t at,
                        int64_t *start, int64_t *end)
{
    struct clock k;
    struct span p;

    if (!t || t->cycle_day < 1 || t->cycle_day > 28 || at <= -START_LIMIT || at >= START_LIMIT)
        return SB_EINVAL;
    clk_init(&k, t, site);
    period_at(&k, at, &p);
    if (start)
        *start = p.start;
    if (end)
        *end = p.end;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* words                                                                    */

void sb_tariff_line_label(const struct sb_tariff *t, const struct sb_tariff_line *l, char *buf,
                          size_t len)
{
    bool sp = l->season >= 0 && l->season < t->n_seasons && l->period >= 0 &&
              l->period < t->n_periods;
    const char *season = sp && t->seasons_given ? t->seasons[l->season].name : "";
    const char *period = sp ? t->periods[l->period] : "";
    const char *gap = *season ? " " : "";

    if (!buf || !len)
        return;
    switch (l->kind) {
    case SB_TL_ENERGY:
        snprintf(buf, len, "%s%s%s energy", season, gap, period);
        break;
    case SB_TL_TIER:
        snprintf(buf, len, "tier %d adder", l->index + 1);
        break;
    case SB_TL_DEMAND:
        snprintf(buf, len, "%s demand", l->index >= 0 && l->index < t->n_demand
                 ? t->demand[l->index].name : "?");
        break;
    case SB_TL_FIXED:
        if (l->index >= 0 && l->index < t->n_fixed)
            snprintf(buf, len, "%s (per %s)", t->fixed[l->index].name,
                     t->fixed[l->index].per_day ? "day" : "period");
        else
            snprintf(buf, len, "fixed");
        break;
    case SB_TL_EXPORT:
        snprintf(buf, len, sp ? "%s%s%s export credit" : "export credit", season, gap, period);
        break;
    case SB_TL_TAX:
        snprintf(buf, len, "tax");
        break;
    default:
        snprintf(buf, len, "?");
    }
}

const char *sb_tariff_note_str(unsigned bit)
{
    switch (bit) {
    case SB_TARIFF_NOTE_MISSING:     return "intervals with no data are not priced";
    case SB_TARIFF_NOTE_PARTIAL:     return "the data covers part of the period; fixed charges pro-rated";
    case SB_TARIFF_NOTE_COARSE:      return "data intervals longer than the demand interval underestimate the demand peak";
    case SB_TARIFF_NOTE_NO_CREDIT:   return "energy was exported but the tariff credits none";
    case SB_TARIFF_NOTE_DEMAND_GAP:  return "a demand window had no data; its charge is 0";
    case SB_TARIFF_NOTE_ESTIMATE:    return "estimate: includes forecast energy";
    case SB_TARIFF_NOTE_SHORT:       return "actual and forecast data end before the period does";
    case SB_TARIFF_NOTE_SUB_MISSING: return "sub-meter intervals with no data count as 0";
    default:                         return "";
    }
}

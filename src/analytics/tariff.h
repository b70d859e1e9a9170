/*
 * tariff.h - utility tariffs: the JSON definition, its validation, and the
 * bill / cost engine.
 *
 * A facility manager writes a tariff as a JSON document (format, rules and
 * complete examples: docs/internals/analytics-tariff.md).  sb_tariff_parse()
 * validates it strictly - every hour of every day type of every season must
 * be priced by exactly one energy rule - and turns it into a struct
 * sb_tariff, a plain fixed-size value with lookup tables built in.
 *
 * The engine prices interval energy (net kWh per interval, negative =
 * export, NAN = missing) in the building's local time:
 *
 *   sb_tariff_compute   one bill per billing period (line items: energy per
 *                       season and TOU period, block adders, each demand
 *                       charge with its peak kW and when, fixed charges
 *                       pro-rated for partial periods, export credit, tax)
 *                       and per-day totals;
 *   sb_tariff_estimate  the current period's bill from actual data so far
 *                       plus a forecast of the rest;
 *   sb_tariff_allocate  a sub-meter's / end use's / zone's share of each
 *                       line of the main meter's bills;
 *   sb_tariff_prices    the price of each step of a horizon and the demand
 *                       windows that apply, for the optimizer.
 *
 * Units: energy kWh, power kW, money a double in the tariff's currency,
 * times UTC epoch seconds.  Local time comes from the caller's zone
 * (core/tz.h); day types, seasons, hours, days and billing periods are all
 * local.  Missing intervals are counted and reported in every bill, never
 * priced as 0 silently.
 *
 * Ownership: every struct here is a plain value owned by the caller (no
 * pointers inside except the caller's own arrays in the input structs, which
 * are borrowed for the call).  The compute functions are pure: no I/O, no
 * allocation, no globals; they only read the tariff and the caller's arrays
 * and write the caller's output arrays.  sb_tariff_parse allocates only
 * inside jansson and frees it before returning; sb_tariff_to_json and
 * sb_tariff_bill_to_json return malloc'd strings the caller frees.
 */
#ifndef SB_ANALYTICS_TARIFF_H
#define SB_ANALYTICS_TARIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sb_tz;

#define SB_TARIFF_JSON_MAX     65536  /* longest document accepted, bytes */
#define SB_TARIFF_ID_MAX       64     /* id: slug, bytes incl. NUL */
#define SB_TARIFF_KEY_MAX      32     /* season / period / charge names, bytes incl. NUL */
#define SB_TARIFF_TEXT_MAX     504    /* name, description: bytes incl. NUL */
#define SB_TARIFF_MAX_SEASONS  6
#define SB_TARIFF_MAX_PERIODS  6      /* distinct TOU period names */
#define SB_TARIFF_MAX_ENERGY   96     /* energy price rules */
#define SB_TARIFF_MAX_TIERS    8
#define SB_TARIFF_MAX_DEMAND   8
#define SB_TARIFF_MAX_FIXED    8
#define SB_TARIFF_MAX_HOLIDAYS 128
#define SB_TARIFF_DAY_KINDS    8      /* Monday .. Sunday, then holiday */
#define SB_TARIFF_HOLIDAY      7      /* the day kind of a holiday */
#define SB_TARIFF_MAX_LINES    (2 * SB_TARIFF_MAX_SEASONS * SB_TARIFF_MAX_PERIODS + \
                                SB_TARIFF_MAX_TIERS + SB_TARIFF_MAX_DEMAND + SB_TARIFF_MAX_FIXED + 1)
#define SB_TARIFF_NOTE_MAX     320    /* bill note text, bytes incl. NUL */
#define SB_TARIFF_MAX_N        (1u << 24)  /* most intervals / steps per call (479 years of 15 min) */

/* ------------------------------------------------------------------------ */
/* the parsed tariff                                                        */

/* When a rule applies: seasons x day kinds x local hours.  In JSON, hours
 * are half-open ranges [start, end) on the local clock; end < start wraps
 * midnight ([21, 16] = 21-24 h and 0-16 h); [0, 24] is the whole day; a
 * rule may list several ranges ([[14, 16], [21, 23]]). */
struct sb_tariff_when {
    uint8_t  seasons;  /* bit s: season s */
    uint8_t  days;     /* bit k: day kind k (0 = Monday .. 6 = Sunday, 7 = holiday) */
    uint32_t hours;    /* bit h: local hour h (0..23) */
};

struct sb_tariff_season {
    char    name[SB_TARIFF_KEY_MAX];   /* "summer" */
    uint8_t from_m, from_d;            /* first day, inclusive (month 1..12, day) */
    uint8_t to_m, to_d;                /* last day, inclusive; before from wraps the year */
};

/* One energy price: import energy in `when` costs price per kWh. */
struct sb_tariff_energy {
    struct sb_tariff_when when;
    uint8_t period;                    /* TOU period index (sb_tariff.periods) */
    double  price;                     /* per kWh imported */
    double  export_price;              /* per kWh exported (export mode TOU only) */
};

/* A block ("tier") adder on import energy, by cumulative kWh in the period. */
struct sb_tariff_tier {
    double up_to;      /* upper bound of the block, kWh per full billing period; INFINITY for the last */
    double price;      /* added per kWh in this block (may be negative) */
};

/* A demand charge on the highest average power over demand_min minutes in
 * the billing period, counted only in `when` (all seasons, days and hours
 * for the facility / non-coincident demand). */
struct sb_tariff_demand {
    char   name[SB_TARIFF_KEY_MAX];    /* "max_demand", "summer_peak" */
    struct sb_tariff_when when;        /* the window */
    bool   windowed;                   /* the JSON named seasons, days or hours */
    double price;                      /* per kW */
};

struct sb_tariff_fixed {
    char   name[SB_TARIFF_KEY_MAX];    /* "customer_charge" */
    bool   per_day;                    /* true: price per day; false: per billing period */
    double price;                      /* money per day or per period, pro-rated */
};

enum sb_tariff_export {
    SB_TARIFF_EXPORT_NONE = 0,         /* exported energy is not credited (noted) */
    SB_TARIFF_EXPORT_FLAT,             /* export_price per kWh at all times */
    SB_TARIFF_EXPORT_TOU               /* each energy rule's export_price */
};

enum sb_tariff_demand_method {
    SB_TARIFF_DEMAND_BLOCK = 0,        /* fixed clock-aligned windows (:00, :15, ...) */
    SB_TARIFF_DEMAND_ROLLING           /* sliding window, one data interval steps */
};

/* A validated tariff.  Filled only by sb_tariff_parse (the derived tables
 * must match the rules); copy freely, nothing to release. */
struct sb_tariff {
    char    id[SB_TARIFF_ID_MAX];          /* slug */
    char    name[SB_TARIFF_TEXT_MAX];      /* 1..500 bytes */
    char    description[SB_TARIFF_TEXT_MAX]; /* "" if none */
    char    currency[4];                   /* ISO 4217, "USD" */
    uint8_t cycle_day;                     /* billing periods start on this local day, 1..28 */
    uint8_t demand_min;                    /* demand interval: 15, 30 or 60 minutes */
    enum sb_tariff_demand_method demand_method;
    enum sb_tariff_export export_mode;
    double  export_price;                  /* flat mode: per kWh exported */
    double  tax_pct;                       /* percent of the subtotal, 0..100 */

    uint8_t n_seasons;                     /* 1..6 (an implicit "all" when the JSON has none) */
    bool    seasons_given;                 /* the JSON had "seasons" */
    struct sb_tariff_season seasons[SB_TARIFF_MAX_SEASONS];
    uint8_t n_periods;                     /* TOU period names, in order of first use */
    char    periods[SB_TARIFF_MAX_PERIODS][SB_TARIFF_KEY_MAX];
    uint8_t n_energy;
    struct sb_tariff_energy energy[SB_TARIFF_MAX_ENERGY];
    uint8_t n_tiers;                       /* 0 or 2..8 */
    struct sb_tariff_tier tiers[SB_TARIFF_MAX_TIERS];
    uint8_t n_demand;
    struct sb_tariff_demand demand[SB_TARIFF_MAX_DEMAND];
    uint8_t n_fixed;
    struct sb_tariff_fixed fixed[SB_TARIFF_MAX_FIXED];
    uint8_t n_holidays;                    /* holidays in the tariff */
    struct { int16_t year; uint8_t month, day; } holidays[SB_TARIFF_MAX_HOLIDAYS]; /* year 0: every year */

    /* derived by the parser */
    uint8_t season_of[12][31];             /* [month-1][day-1] -> season (29 Feb included) */
    uint8_t slot[SB_TARIFF_MAX_SEASONS][SB_TARIFF_DAY_KINDS][24]; /* -> energy rule */
    uint32_t annual_holiday[12];           /* bit d-1 of [m-1]: MM-DD is a holiday every year */
};

/* Parses and validates a tariff document of len bytes (need not be
 * NUL-terminated).  Returns 0 and fills *out, SB_EINVAL with a message in
 * err that starts with the JSON path of the field at fault
 * ("energy[2].hours: end 25 out of 0..24"), or SB_ENOMEM.  On error *out
 * is zeroed. */
int sb_tariff_parse(const char *json, size_t len, struct sb_tariff *out, char *err, size_t errlen);

/* The canonical JSON of t (fixed key order, defaults written out, numbers
 * to the 15 significant digits the parser keeps); sb_tariff_parse of it
 * gives the same tariff and writing that again the same text.  malloc'd;
 * NULL on ENOMEM. */
char *sb_tariff_to_json(const struct sb_tariff *t);

/* ------------------------------------------------------------------------ */
/* inputs                                                                   */

/* Where the building is.  Borrowed for the call. */
struct sb_tariff_site {
    const struct sb_tz *tz;        /* the building's zone (core/tz.h); NULL = UTC */
    const int64_t *holidays;       /* extra holidays, local days since 1970-01-01
                                      (sb_days_from_civil), any order; may be NULL */
    size_t n_holidays;
};

/* A regular interval series of net energy.  Borrowed for the call. */
struct sb_tariff_series {
    const double *kwh;             /* kwh[i]: net energy of interval i, kWh; < 0 = export; NAN = missing */
    size_t  n;                     /* intervals, 1..SB_TARIFF_MAX_N */
    int64_t start;                 /* UTC start of kwh[0], s; |start| < 2^40 */
    int32_t interval_s;            /* 900, 1800 or 3600 */
};

/* ------------------------------------------------------------------------ */
/* outputs                                                                  */

enum sb_tariff_line_kind {
    SB_TL_ENERGY = 1,  /* import energy of one season and TOU period; qty kWh, price = cost/qty */
    SB_TL_TIER,        /* block adder; qty kWh in block `index` */
    SB_TL_DEMAND,      /* demand charge `index`; qty billed kW (peak, >= 0) */
    SB_TL_FIXED,       /* fixed charge `index`; qty days (per day) or period fraction */
    SB_TL_EXPORT,      /* export credit (per season and period in TOU mode); qty kWh, cost <= 0 */
    SB_TL_TAX          /* tax; qty the subtotal taxed, price = tax_pct / 100 */
};

struct sb_tariff_line {
    uint8_t kind;          /* enum sb_tariff_line_kind */
    int8_t  season;        /* ENERGY / EXPORT (TOU): season index, else -1 */
    int8_t  period;        /* ENERGY / EXPORT (TOU): TOU period index, else -1 */
    int8_t  index;         /* TIER / DEMAND / FIXED: index in the tariff's array, else -1 */
    bool    from_forecast; /* DEMAND in an estimate: the peak lies in the forecast */
    bool    no_data;       /* DEMAND: the window applied but every interval in it was missing */
    double  qty;           /* kWh, kW, days, fraction or money: see kind */
    double  price;         /* money per unit of qty */
    double  cost;          /* money; credits negative */
    int64_t peak_at;       /* DEMAND: UTC start of the peak window, else 0 */
    int32_t peak_s;        /* DEMAND: length of the peak window, s, else 0 */
};

/* Notes on a bill (bits of sb_tariff_bill.notes). */
enum {
    SB_TARIFF_NOTE_MISSING    = 1 << 0,  /* intervals with no data: not priced */
    SB_TARIFF_NOTE_PARTIAL    = 1 << 1,  /* the data covers part of the period: fixed charges pro-rated */
    SB_TARIFF_NOTE_COARSE     = 1 << 2,  /* data intervals longer than the demand interval: peak underestimated */
    SB_TARIFF_NOTE_NO_CREDIT  = 1 << 3,  /* energy was exported but the tariff credits none */
    SB_TARIFF_NOTE_DEMAND_GAP = 1 << 4,  /* a demand window had no data at all */
    SB_TARIFF_NOTE_ESTIMATE   = 1 << 5,  /* includes a forecast */
    SB_TARIFF_NOTE_SHORT      = 1 << 6,  /* estimate: actual + forecast end before the period does */
    SB_TARIFF_NOTE_SUB_MISSING = 1 << 7  /* allocation: the sub-meter misses data the main meter has */
};

/* One billing period. */
struct sb_tariff_bill {
    int64_t start, end;        /* the period [start, end), UTC of the local midnights of the cycle day */
    int64_t from, to;          /* the part the data covers, [from, to) */
    double  coverage;          /* covered share of the period's days (pro-rating factor), 0..1 */
    double  import_kwh;        /* energy imported (priced), kWh */
    double  export_kwh;        /* energy exported, kWh, >= 0 */
    double  forecast_kwh;      /* estimate: the part of import_kwh that is forecast */
    double  peak_kw;           /* highest demand in the period, any hour, kW (NAN: no data) */
    int64_t peak_at;           /* UTC start of that demand window */
    uint32_t n_intervals;      /* intervals starting in the period */
    uint32_t n_missing;        /* of those, NAN (allocation: NAN in the sub-meter) */
    int64_t first_missing;     /* UTC start of the first one, 0 if none */
    bool    estimate;          /* from sb_tariff_estimate (includes forecast) */
    bool    allocated;         /* from sb_tariff_allocate: a share of the main meter's bill */
    double  subtotal;          /* sum of the line costs before tax */
    double  tax;               /* the TAX line's cost */
    double  total;             /* subtotal + tax */
    unsigned notes;            /* SB_TARIFF_NOTE_* */
    char    note[SB_TARIFF_NOTE_MAX]; /* the notes in words ("" if none) */
    uint32_t n_lines;
    struct sb_tariff_line lines[SB_TARIFF_MAX_LINES]; /* in a fixed order: energy, tiers,
                                  demand, fixed, export, tax */
};

/* One local day.  The costs add up: summed over the days of a computation
 * they give the sum of its bills' totals (demand charges are attributed to
 * the day on which the period's peak for that charge was set). */
struct sb_tariff_day {
    int64_t start, end;        /* UTC of local midnight and of the next (23, 24 or 25 h) */
    int32_t year;              /* local date */
    uint8_t month, mday;
    uint8_t kind;              /* 0 = Monday .. 6 = Sunday, 7 = holiday */
    uint8_t season;            /* season index */
    double  coverage;          /* share of the day the data covers, 0..1 */
    double  import_kwh, export_kwh;
    double  energy_cost;       /* energy + block adders */
    double  export_credit;     /* <= 0 */
    double  fixed_cost;        /* per-day charges + the day's share of per-period ones */
    double  demand_cost;       /* demand charges whose peak was set this day */
    double  tax;
    double  total;
    double  peak_kw;           /* highest demand window starting this day, NAN if none */
    uint32_t n_missing;        /* intervals starting this day with no data */
};

/* The price of one optimizer step. */
struct sb_tariff_step {
    double   price;            /* import energy price per kWh, time-weighted over the step
                                  (block adders excluded: they depend on the period's total) */
    double   export_price;     /* credit per kWh exported (0 when not credited) */
    uint8_t  season;           /* at the step's start */
    uint8_t  period;           /* TOU period index at the step's start */
    uint8_t  demand_mask;      /* bit k: demand charge k's window contains the step's start */
    uint32_t bill;             /* billing period number, 0 = the one holding the first step */
};

/* ------------------------------------------------------------------------ */
/* computation                                                              */

/* How many bills and days sb_tariff_compute will produce for s. */
int sb_tariff_count(const struct sb_tariff *t, const struct sb_tariff_site *site,
                    const struct sb_tariff_series *s, size_t *n_bills, size_t *n_days);

/* Prices s: one bill per billing period the series touches (partial
 * periods pro-rated and noted) and, when days is not NULL, one record per
 * local day it touches.  Returns 0, SB_EINVAL (bad series), SB_ENOSPC
 * (bills / days too short: see sb_tariff_count; nothing is valid then). */
int sb_tariff_compute(const struct sb_tariff *t, const struct sb_tariff_site *site,
                      const struct sb_tariff_series *s,
                      struct sb_tariff_bill *bills, size_t max_bills, size_t *n_bills,
                      struct sb_tariff_day *days, size_t max_days, size_t *n_days);

/* The bill of the current billing period - the one holding the instant
 * now = actual->start + actual->n * interval - from the actual data (from
 * any earlier instant; only the period's part is used) followed by
 * forecast[n_forecast] (kWh per interval, same interval length, starting at
 * now; NAN = no forecast).  Demand charges take the maximum over both.
 * *est is marked estimate; to_date (may be NULL) gets the same period from
 * the actual data alone.  actual->n may be 0 with actual->kwh NULL (a
 * period that has just begun), then n_forecast must not be. */
int sb_tariff_estimate(const struct sb_tariff *t, const struct sb_tariff_site *site,
                       const struct sb_tariff_series *actual, const double *forecast,
                       size_t n_forecast, struct sb_tariff_bill *est,
                       struct sb_tariff_bill *to_date);

/* Allocation of the main meter's bills to a sub-meter (end use, zone)
 * whose series sub_kwh[main->n] is aligned with main (same start, length
 * and interval).  out[i] has the same lines as the main meter's bill i,
 * with qty the sub-meter's basis and cost its share:
 *   ENERGY / TIER  cost x sub kWh / main kWh over the intervals priced in
 *                  that line (main importing);
 *   EXPORT         credit x (-sub kWh) / main kWh exported, over the
 *                  intervals in which the main meter exported;
 *   DEMAND         charge x sub kW / main kW in the main meter's peak
 *                  window for that charge (coincident demand);
 *   FIXED          charge x the sub-meter's share of the import kWh;
 *   TAX            tax_pct of the sub-meter's subtotal.
 * So sub-meters that add up to the main meter get shares that add up to
 * every line and to the total; the rest of the bill is the unmetered part.
 * A NAN in the sub-meter where the main meter has data counts as 0 and is
 * reported (SB_TARIFF_NOTE_SUB_MISSING).  Returns like sb_tariff_compute. */
int sb_tariff_allocate(const struct sb_tariff *t, const struct sb_tariff_site *site,
                       const struct sb_tariff_series *main, const double *sub_kwh,
                       struct sb_tariff_bill *out, size_t max, size_t *n_out);

/* Prices of n steps of step_s seconds (60..86400, a multiple of 60) from
 * start: import and export price, season, TOU period, demand windows and
 * billing period of each.  The demand structure itself (price per kW,
 * interval, method) is in t->demand / t->demand_min; the peaks so far in
 * the current period come from sb_tariff_estimate's DEMAND lines. */
int sb_tariff_prices(const struct sb_tariff *t, const struct sb_tariff_site *site, int64_t start,
                     int32_t step_s, size_t n, struct sb_tariff_step *out);

/* The billing period [*start, *end) holding instant at. */
int sb_tariff_period_of(const struct sb_tariff *t, const struct sb_tariff_site *site, int64_t at,
                        int64_t *start, int64_t *end);

/* "summer peak energy", "max_demand demand", "customer_charge (per day)",
 * "tier 2", "export", "tax" - a line's label, written to buf[len]. */
void sb_tariff_line_label(const struct sb_tariff *t, const struct sb_tariff_line *l, char *buf,
                          size_t len);

/* The words of one SB_TARIFF_NOTE_* bit (static; "" for an unknown bit). */
const char *sb_tariff_note_str(unsigned bit);

/* A bill as JSON for the API (labels, ISO 8601 UTC times, the notes).
 * malloc'd; NULL on ENOMEM. */
char *sb_tariff_bill_to_json(const struct sb_tariff *t, const struct sb_tariff_bill *b);

#endif /* SB_ANALYTICS_TARIFF_H */

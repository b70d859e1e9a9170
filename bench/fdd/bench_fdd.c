/*
 * bench_fdd.c - scores the APAR rule set (src/fdd/apar.c) on LBNL's
 * labelled AHU fault data (Granderson et al. 2020, Scientific Data 7:65,
 * CC-BY-4.0; bench/fdd/data/README.md).
 *
 * Each file is mapped column by column onto struct sb_apar_sample (°F to °C
 * and inH2O to Pa through src/model/units.c), run minute by minute, and
 * reported per file, day by day: the label, the rules that fired and for how
 * many minutes, then the detection rate (fault days flagged), false-alarm
 * rate (fault-free days flagged) and misdiagnoses.  Two settings:
 *   nist   - NIST's default thresholds and the reference timing, as
 *            sb_apar_conf_default() gives them;
 *   tuned  - thresholds and timing chosen on the OTHER files only
 *            (leave-one-file-out), then scored on the held-out file.
 * A day is "flagged" when any APAR rule (1-28) was FIRED for at least one
 * minute that day; the beyond-APAR rules (29-33) are reported beside it and
 * never count.  Single-threaded; every loop is bounded by the data.
 *
 * Usage: bench_fdd DATA_DIR   (Markdown on stdout)
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "core/err.h"
#include "core/tz.h"
#include "fdd/apar.h"
#include "model/units.h"

#define MAX_DAYS  64
#define MAX_COLS  32
#define LINE_MAX_ 4096
#define NFILES    3

/* One LBNL file and what its documentation says about it. */
struct unit_file {
    const char *name;         /* file stem */
    double u_oad_min;         /* damper command at minimum OA (the sequence's setting, seen in the trend) */
    double dt_rf;             /* return fan heat: 0 where the unit has no return fan */
    uint32_t documented;      /* fault classes the data set documents for this file */
};

static const struct unit_file files[NFILES] = {
    { "MZVAV-2-2", 0.40, 1.1, SB_APAR_F_OAD_STUCK | SB_APAR_F_HC_LEAK | SB_APAR_F_CC_STUCK },
    { "SZCAV", 0.15, 0.0, SB_APAR_F_OAD_STUCK | SB_APAR_F_OAD_LEAK | SB_APAR_F_HC_STUCK |
                          SB_APAR_F_HC_LEAK | SB_APAR_F_CC_STUCK | SB_APAR_F_CC_LEAK },
    { "SZVAV", 0.15, 0.0, SB_APAR_F_OAD_STUCK | SB_APAR_F_OAD_LEAK | SB_APAR_F_HC_STUCK |
                          SB_APAR_F_HC_LEAK | SB_APAR_F_CC_STUCK | SB_APAR_F_CC_LEAK },
};

struct day {
    int64_t key;              /* days since 1970-01-01 */
    int label;                /* 1 = fault day */
    char date[16];            /* as in the file, m/d/yyyy */
};

struct dataset {
    const struct unit_file *u;
    struct sb_apar_sample *s; /* n samples, owned */
    int *day;                 /* day index of each sample, owned */
    size_t n;
    struct day days[MAX_DAYS];
    int ndays;
};

/* Per-day outcome of one run. */
struct dayres {
    uint32_t fired[SB_APAR_NRULES + 1];  /* minutes FIRED per rule */
    uint32_t ne[SB_APAR_NRULES + 1];     /* minutes NOT_EVALUABLE per rule */
    uint32_t steady;                     /* minutes rules 1-27 were evaluated */
    uint32_t mode_min[SB_APAR_MODE_NA + 1]; /* running minutes per mode */
};

/* Which sample field a header name fills, and its unit. */
struct colmap {
    const char *name;
    size_t off;
    enum sb_unit unit;        /* SB_UNIT_FAHRENHEIT, SB_UNIT_INH2O or SB_UNIT_NONE (as is) */
};

#define OFF(f) offsetof(struct sb_apar_sample, f)
static const struct colmap cmap[] = {
    { "AHU: Supply Air Temperature", OFF(sat), SB_UNIT_FAHRENHEIT },
    { "AHU: Supply Air Temperature Set Point", OFF(sat_sp), SB_UNIT_FAHRENHEIT },
    { "AHU: Supply Air Temperature Heating Set Point", OFF(sat_sp_heat), SB_UNIT_FAHRENHEIT },
    { "AHU: Supply Air Temperature Cooling Set Point", OFF(sat_sp_cool), SB_UNIT_FAHRENHEIT },
    { "AHU: Outdoor Air Temperature", OFF(oat), SB_UNIT_FAHRENHEIT },
    { "AHU: Mixed Air Temperature", OFF(mat), SB_UNIT_FAHRENHEIT },
    { "AHU: Return Air Temperature", OFF(rat), SB_UNIT_FAHRENHEIT },
    { "AHU: Supply Air Fan Status", OFF(fan), SB_UNIT_NONE },
    { "AHU: Supply Air Fan Speed Control Signal", OFF(fan_speed), SB_UNIT_NONE },
    { "AHU: Outdoor Air Damper Control Signal", OFF(u_oad), SB_UNIT_NONE },
    { "AHU: Cooling Coil Valve Control Signal", OFF(u_cc), SB_UNIT_NONE },
    { "AHU: Heating Coil Valve Control Signal", OFF(u_hc), SB_UNIT_NONE },
    { "AHU: Supply Air Duct Static Pressure Set Point", OFF(dsp_sp), SB_UNIT_INH2O },
    { "AHU: Supply Air Duct Static Pressure", OFF(dsp), SB_UNIT_INH2O },
    { "Occupancy Mode Indicator", OFF(occupied), SB_UNIT_NONE },
};
#define NCMAP (sizeof cmap / sizeof cmap[0])

/* Column roles after reading the header: index into cmap, or one of these. */
enum { COL_IGNORE = -1, COL_TIME = -2, COL_LABEL = -3 };

static char *trim(char *s)
{
    char *e;

    while (*s == ' ')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\r' || e[-1] == '\n'))
        *--e = '\0';
    return s;
}

/* Splits line at commas in place; returns the number of fields. */
static int split(char *line, char **f, int max)
{
    int n = 0;

    f[n++] = line;
    for (char *p = line; *p && n < max; p++)
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    return n;
}

static int map_header(char *line, int *role, int *ncol)
{
    char *f[MAX_COLS];
    int n = split(line, f, MAX_COLS);

    for (int i = 0; i < n; i++) {
        const char *h = trim(f[i]);

        role[i] = COL_IGNORE;
        if (strcmp(h, "Datetime") == 0)
            role[i] = COL_TIME;
        else if (strcmp(h, "Fault Detection Ground Truth") == 0)
            role[i] = COL_LABEL;
        for (size_t k = 0; k < NCMAP; k++)
            if (strcmp(h, cmap[k].name) == 0)
                role[i] = (int)k;
    }
    *ncol = n;
    return role[0] == COL_TIME ? 0 : SB_EINVAL;
}

/* "m/d/yyyy h:mm" -> seconds since 1970 (the file's local time, read as UTC). */
static int parse_time(const char *s, int64_t *t, int64_t *daykey, char *date, size_t dlen)
{
    unsigned mo, d, y, h, mi;

    if (sscanf(s, "%u/%u/%u %u:%u", &mo, &d, &y, &h, &mi) != 5 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59)
        return SB_EINVAL;
    if (y < 100)
        y += 2000;
    *daykey = sb_days_from_civil(y, mo, d);
    *t = *daykey * 86400 + h * 3600 + mi * 60;
    snprintf(date, dlen, "%u/%u/%u", mo, d, y);
    return 0;
}

static double to_si(const char *s, enum sb_unit unit)
{
    char *end;
    double v, out = NAN;

    if (*s == '\0')
        return NAN;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno)
        return NAN;
    if (unit == SB_UNIT_NONE)
        return v;
    if (unit == SB_UNIT_FAHRENHEIT)
        sb_unit_convert(SB_UNIT_FAHRENHEIT, SB_UNIT_CELSIUS, v, &out);
    else
        sb_unit_convert(SB_UNIT_INH2O, SB_UNIT_PA, v, &out);
    return out;
}

/* Appends day (key, label, date) to ds if new; returns its index. */
static int day_index(struct dataset *ds, int64_t key, int label, const char *date)
{
    if (ds->ndays > 0 && ds->days[ds->ndays - 1].key == key)
        return ds->ndays - 1;
    if (ds->ndays >= MAX_DAYS)
        return -1;
    ds->days[ds->ndays].key = key;
    ds->days[ds->ndays].label = label;
    snprintf(ds->days[ds->ndays].date, sizeof ds->days[0].date, "%s", date);
    return ds->ndays++;
}

static int parse_row(struct dataset *ds, char *line, const int *role, int ncol)
{
    char *f[MAX_COLS], date[16];
    struct sb_apar_sample *s = &ds->s[ds->n];
    int64_t key = 0;
    int label = -1, di;

    if (split(line, f, MAX_COLS) != ncol)
        return SB_EINVAL;
    sb_apar_sample_init(s);
    for (int i = 0; i < ncol; i++) {
        char *v = trim(f[i]);

        if (role[i] == COL_TIME && parse_time(v, &s->t, &key, date, sizeof date) != 0)
            return SB_EINVAL;
        else if (role[i] == COL_LABEL)
            label = atoi(v);
        else if (role[i] >= 0)
            *(double *)((char *)s + cmap[role[i]].off) = to_si(v, cmap[role[i]].unit);
    }
    if (ds->n > 0 && s->t <= ds->s[ds->n - 1].t)
        return SB_EINVAL;
    di = day_index(ds, key, label, date);
    if (di < 0)
        return SB_ERANGE;
    ds->day[ds->n++] = di;
    return 0;
}

static int load(const char *dir, const struct unit_file *u, struct dataset *ds)
{
    char path[1024], line[LINE_MAX_];
    int role[MAX_COLS], ncol = 0, rc = SB_EIO;
    size_t cap = 64 * 1024;
    gzFile gz;

    memset(ds, 0, sizeof *ds);
    ds->u = u;
    snprintf(path, sizeof path, "%s/%s.csv.gz", dir, u->name);
    gz = gzopen(path, "rb");
    if (!gz) {
        fprintf(stderr, "bench_fdd: cannot open %s\n", path);
        return SB_EIO;
    }
    ds->s = malloc(cap * sizeof *ds->s);
    ds->day = malloc(cap * sizeof *ds->day);
    if (!ds->s || !ds->day || !gzgets(gz, line, sizeof line) || map_header(line, role, &ncol) != 0)
        goto out;
    while (ds->n < cap && gzgets(gz, line, sizeof line)) {
        if (line[0] == '\n' || line[0] == '\r')
            continue;
        rc = parse_row(ds, line, role, ncol);
        if (rc != 0) {
            fprintf(stderr, "bench_fdd: %s: bad row %zu\n", path, ds->n + 2);
            goto out;
        }
    }
    rc = ds->n > 0 ? 0 : SB_EINVAL;
out:
    gzclose(gz);
    return rc;
}

static void conf_for(const struct unit_file *u, struct sb_apar_conf *c)
{
    c->u_oad_min = u->u_oad_min;
    c->dt_rf = u->dt_rf;
}

/* Runs conf over the whole file; fills r[day]. */
static int run(const struct dataset *ds, const struct sb_apar_conf *conf, struct dayres *r)
{
    struct sb_apar a;
    struct sb_apar_result res;

    memset(r, 0, sizeof *r * (size_t)ds->ndays);
    if (sb_apar_init(&a, conf) != 0)
        return SB_EINVAL;
    for (size_t i = 0; i < ds->n; i++) {
        struct dayres *d = &r[ds->day[i]];

        if (sb_apar_step(&a, &ds->s[i], &res) != 0)
            return SB_EINVAL;
        d->steady += (uint32_t)res.steady;
        if (res.mode != SB_APAR_MODE_OFF)
            d->mode_min[res.mode]++;
        for (int id = 1; id <= SB_APAR_NRULES; id++) {
            d->fired[id] += res.status[id] == SB_APAR_ST_FIRED;
            d->ne[id] += res.status[id] == SB_APAR_ST_NOT_EVALUABLE;
        }
    }
    return 0;
}

/* Diagnosis of a day: the fault classes with the most votes when each
 * APAR rule's fired minutes are split over the classes it suggests
 * (sb_apar_diagnose); 0 when no APAR rule fired. */
static uint32_t diagnosis(const struct dayres *d)
{
    double w[SB_APAR_NRULES + 1] = { 0 };
    uint64_t fired = 0;

    for (int id = 1; id <= SB_APAR_NAPAR; id++) {
        w[id] = d->fired[id];
        if (d->fired[id] > 0)
            fired |= SB_APAR_BIT(id);
    }
    return sb_apar_diagnose(fired, w, NULL);
}

static uint32_t fired_classes(const struct dayres *d)
{
    uint32_t m = 0;

    for (int id = 1; id <= SB_APAR_NAPAR; id++)
        if (d->fired[id] > 0)
            m |= sb_apar_rule_info(id)->faults;
    return m;
}

struct score {
    int fault_days, detected, free_days, false_alarms;
    int misdiag;              /* flagged fault days whose diagnosis holds no documented class */
    int misdiag_any;          /* ... whose fired rules together suggest none */
};

static void score_add(const struct dataset *ds, const struct dayres *r, struct score *sc)
{
    for (int k = 0; k < ds->ndays; k++) {
        uint32_t dg = diagnosis(&r[k]);

        if (ds->days[k].label == 1) {
            sc->fault_days++;
            if (!dg)
                continue;
            sc->detected++;
            sc->misdiag += (dg & ds->u->documented) == 0;
            sc->misdiag_any += (fired_classes(&r[k]) & ds->u->documented) == 0;
        } else {
            sc->free_days++;
            sc->false_alarms += dg != 0;
        }
    }
}

static double pct(int a, int b)
{
    return b > 0 ? 100.0 * a / b : NAN;
}

/* "3(120) 25(45)" for the rules in [lo, hi] that fired. */
static void rule_list(const struct dayres *d, int lo, int hi, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (int id = lo; id <= hi && off + 16 < len; id++)
        if (d->fired[id] > 0)
            off += (size_t)snprintf(buf + off, len - off, "%s%d(%u)", off ? " " : "", id, d->fired[id]);
    if (off == 0)
        snprintf(buf, len, "-");
}

static const char *verdict(const struct dataset *ds, int k, uint32_t dg)
{
    if (ds->days[k].label != 1)
        return dg ? "**false alarm**" : "ok";
    if (!dg)
        return "**miss**";
    return (dg & ds->u->documented) ? "detected" : "detected, misdiagnosed";
}

/* Not-evaluable minutes of the APAR rules, only while steady matters, so
 * list rules with NOT_EVALUABLE minutes; "-" when none. */
static void ne_list(const struct dayres *d, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (int id = 1; id <= SB_APAR_NRULES && off + 16 < len; id++)
        if (d->ne[id] > 0)
            off += (size_t)snprintf(buf + off, len - off, "%s%d(%u)", off ? " " : "", id, d->ne[id]);
    if (off == 0)
        snprintf(buf, len, "-");
}

static void print_days(const struct dataset *ds, const struct dayres *r)
{
    printf("| day | label | steady min | running min in mode 1/2/3/4/5 | APAR rules fired (min) |"
           " beyond-APAR (min) | not evaluable (min) | diagnosis | verdict |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < ds->ndays; k++) {
        const struct dayres *d = &r[k];
        char apar[256], beyond[64], ne[256], cls[320] = "-";
        uint32_t dg = diagnosis(d);

        rule_list(d, 1, SB_APAR_NAPAR, apar, sizeof apar);
        rule_list(d, SB_APAR_NAPAR + 1, SB_APAR_NRULES, beyond, sizeof beyond);
        ne_list(d, ne, sizeof ne);
        if (dg)
            sb_apar_faults_format(dg, cls, sizeof cls);
        printf("| %s | %d | %u | %u/%u/%u/%u/%u | %s | %s | %s | %s | %s |\n", ds->days[k].date,
               ds->days[k].label, d->steady, d->mode_min[1], d->mode_min[2], d->mode_min[3],
               d->mode_min[4], d->mode_min[5], apar, beyond, ne, cls, verdict(ds, k, dg));
    }
}

/* Occupied-hour means per day of the signals the rules use (°C, 0..1). */
static void print_signals(const struct dataset *ds)
{
    printf("| day | label | Tsa | Tsa,s (heat/cool) | Tma | Tra | Toa | u_hc | u_cc | u_d | fan speed |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (int k = 0; k < ds->ndays; k++) {
        double m[11] = { 0 };
        int n = 0;

        for (size_t i = 0; i < ds->n; i++) {
            const struct sb_apar_sample *s = &ds->s[i];
            double v[11] = { s->sat, s->sat_sp, s->sat_sp_heat, s->sat_sp_cool, s->mat, s->rat,
                             s->oat, s->u_hc, s->u_cc, s->u_oad, s->fan_speed };

            if (ds->day[i] != k || !(s->occupied >= 0.5))
                continue;
            n++;
            for (int j = 0; j < 11; j++)
                m[j] += v[j];
        }
        for (int j = 0; j < 11; j++)
            m[j] = n ? m[j] / n : NAN;
        if (isfinite(m[1]))
            printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                   ds->days[k].date, ds->days[k].label, m[0], m[1], m[4], m[5], m[6], m[7], m[8], m[9], m[10]);
        else
            printf("| %s | %d | %.1f | %.1f/%.1f | %.1f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                   ds->days[k].date, ds->days[k].label, m[0], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9],
                   m[10]);
    }
}

static void print_score(const char *what, const struct score *sc)
{
    printf("%s: detection %d/%d (%.0f %%), false alarms %d/%d (%.0f %%), misdiagnosed %d of %d flagged "
           "fault days (%d when all fired rules are counted)\n\n",
           what, sc->detected, sc->fault_days, pct(sc->detected, sc->fault_days), sc->false_alarms,
           sc->free_days, pct(sc->false_alarms, sc->free_days), sc->misdiag, sc->detected, sc->misdiag_any);
}

/* The tuning grid: thresholds and timing; unit configuration is not tuned. */
struct knobs {
    double eps_t;
    int on_delay_min, mode_delay_min, window_min;
};

static const double grid_eps_t[] = { 1.0, 1.5, 2.0, 3.0, 4.0 };
static const int grid_on[] = { 15, 30, 60, 120, 240 };
static const int grid_mode[] = { 15, 30, 60 };
static const int grid_win[] = { 5, 15 };
#define N_OF(a) (int)(sizeof a / sizeof a[0])

static void apply_knobs(const struct knobs *k, struct sb_apar_conf *c)
{
    c->eps_t = k->eps_t;
    c->mode_delay_s = k->mode_delay_min * 60;
    c->window_s = k->window_min * 60;
    for (int id = 1; id <= SB_APAR_NRULES; id++)
        c->on_delay_s[id] = k->on_delay_min * 60;
}

/* Youden's J on the pooled days of every file except skip. */
static double train_score(struct dataset *ds, int skip, const struct knobs *k, struct dayres *r, int *mis)
{
    struct score sc = { 0 };

    for (int f = 0; f < NFILES; f++) {
        struct sb_apar_conf c;

        if (f == skip)
            continue;
        sb_apar_conf_default(&c);
        conf_for(ds[f].u, &c);
        apply_knobs(k, &c);
        if (run(&ds[f], &c, r) != 0)
            return -2;
        score_add(&ds[f], r, &sc);
    }
    *mis = sc.misdiag;
    return pct(sc.detected, sc.fault_days) / 100 - pct(sc.false_alarms, sc.free_days) / 100;
}

/* Best knobs on the files other than skip (ties: fewer misdiagnoses, then
 * the larger, more conservative threshold and delays). */
static struct knobs tune(struct dataset *ds, int skip, struct dayres *r, double *best_j)
{
    struct knobs best = { 2.0, 60, 60, 5 };
    int best_mis = 1 << 30;

    *best_j = -2;
    for (int a = 0; a < N_OF(grid_eps_t); a++)
        for (int b = 0; b < N_OF(grid_on); b++)
            for (int m = 0; m < N_OF(grid_mode); m++)
                for (int w = 0; w < N_OF(grid_win); w++) {
                    struct knobs k = { grid_eps_t[a], grid_on[b], grid_mode[m], grid_win[w] };
                    int mis = 0;
                    double j = train_score(ds, skip, &k, r, &mis);

                    if (j > *best_j + 1e-9 || (fabs(j - *best_j) <= 1e-9 && mis <= best_mis)) {
                        *best_j = j;
                        best_mis = mis;
                        best = k;
                    }
                }
    return best;
}

static void report(const struct dataset *ds, const struct sb_apar_conf *c, struct dayres *r,
                   struct score *total)
{
    struct score sc = { 0 };

    if (run(ds, c, r) != 0) {
        printf("(run failed)\n");
        return;
    }
    print_days(ds, r);
    printf("\n");
    score_add(ds, r, &sc);
    print_score(ds->u->name, &sc);
    total->fault_days += sc.fault_days;
    total->detected += sc.detected;
    total->free_days += sc.free_days;
    total->false_alarms += sc.false_alarms;
    total->misdiag += sc.misdiag;
    total->misdiag_any += sc.misdiag_any;
}

static void section_nist(struct dataset *ds, struct dayres *r)
{
    struct score total = { 0 };

    printf("## Setting 1: NIST defaults (eps_t 2.0 C, eps_f 0.3, eps_d/hc/cc 0.02, dTsf 1.1 C, dTmin 5.6 C,"
           " MSmax 7/h; mode delay 60 min, 5-min moving average, on-delay 60 min)\n\n");
    for (int f = 0; f < NFILES; f++) {
        struct sb_apar_conf c;

        sb_apar_conf_default(&c);
        conf_for(ds[f].u, &c);
        printf("### %s (u_d,min %.2f, dTrf %.1f C)\n\n", ds[f].u->name, c.u_oad_min, c.dt_rf);
        report(&ds[f], &c, r, &total);
    }
    print_score("**All files, NIST defaults**", &total);
}

static void section_tuned(struct dataset *ds, struct dayres *r)
{
    struct score total = { 0 };

    printf("## Setting 2: tuned, leave one file out (chosen on the other two files, scored on this one)\n\n");
    for (int f = 0; f < NFILES; f++) {
        struct sb_apar_conf c;
        double j;
        struct knobs k = tune(ds, f, r, &j);

        sb_apar_conf_default(&c);
        conf_for(ds[f].u, &c);
        apply_knobs(&k, &c);
        printf("### %s: tuned on the other files (their J = %.2f): eps_t %.1f C, on-delay %d min,"
               " mode delay %d min, window %d min\n\n", ds[f].u->name, j, k.eps_t, k.on_delay_min,
               k.mode_delay_min, k.window_min);
        report(&ds[f], &c, r, &total);
    }
    print_score("**All files, tuned (each file scored with settings chosen without it)**", &total);
}

/* APAR_KNOBS="eps_t,on_min,mode_min,win_min" adds an exploration run with
 * those settings on every file; it is printed but is not a score (the
 * knobs may have been chosen by looking at these days). */
static void section_explore(struct dataset *ds, struct dayres *r)
{
    const char *env = getenv("APAR_KNOBS");
    struct knobs k;
    struct score total = { 0 };

    if (!env || sscanf(env, "%lf,%d,%d,%d", &k.eps_t, &k.on_delay_min, &k.mode_delay_min, &k.window_min) != 4)
        return;
    printf("## Exploration (APAR_KNOBS, not a score): eps_t %.1f C, on-delay %d min, mode delay %d min,"
           " window %d min\n\n", k.eps_t, k.on_delay_min, k.mode_delay_min, k.window_min);
    for (int f = 0; f < NFILES; f++) {
        struct sb_apar_conf c;

        sb_apar_conf_default(&c);
        conf_for(ds[f].u, &c);
        apply_knobs(&k, &c);
        printf("### %s\n\n", ds[f].u->name);
        report(&ds[f], &c, r, &total);
    }
    print_score("**All files, exploration**", &total);
}

int main(int argc, char **argv)
{
    static struct dataset ds[NFILES];
    static struct dayres r[MAX_DAYS];
    clock_t t0 = clock();
    int rc = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: bench_fdd DATA_DIR\n");
        return 2;
    }
    for (int f = 0; f < NFILES && rc == 0; f++)
        rc = load(argv[1], &files[f], &ds[f]);
    if (rc != 0)
        goto out;
    printf("# APAR on LBNL labelled AHU data\n\n");
    for (int f = 0; f < NFILES; f++) {
        printf("### %s: %zu samples, %d days; occupied-hour means (C, commands 0..1)\n\n", ds[f].u->name,
               ds[f].n, ds[f].ndays);
        print_signals(&ds[f]);
        printf("\n");
    }
    section_nist(ds, r);
    section_tuned(ds, r);
    section_explore(ds, r);
    printf("(bench time %.1f s CPU)\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
out:
    for (int f = 0; f < NFILES; f++) {
        free(ds[f].s);
        free(ds[f].day);
    }
    return rc == 0 ? 0 : 1;
}

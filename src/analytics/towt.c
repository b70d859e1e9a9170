/*
 * towt.c - the LBNL time-of-week-and-temperature regression (towt.h).
 *
 * Model (Mathieu et al. 2011, eq. 1-3; CalTRACK 2.0 hourly, section 3.8):
 *
 *     y_i = alpha[how_i] + sum_j beta[g(how_i)][j] * Tc_j(T_i) + e_i
 *
 * alpha: one coefficient per hour of the week (168 indicators, no separate
 * intercept).  g(how) is 1 for "occupied" hours of the week, 0 otherwise;
 * each group has its own piecewise-linear temperature function whose
 * components Tc_j follow Mathieu's eq. 2 (they sum to T, so the function is
 * continuous):
 *     Tc_0 = min(T, B_0)
 *     Tc_j = clamp(T - B_{j-1}, 0, B_j - B_{j-1})      0 < j < k
 *     Tc_k = max(T - B_{k-1}, 0)
 *
 * Occupancy (Mathieu section III-A; LBNL RMV2.0 "findOccUnocc"): fit the
 * simple regression y = a + b T; an hour of the week whose residuals are
 * positive in more than 65 % of its hours is occupied.
 *
 * Knots: per group, a segment holding fewer than TOWT_MIN_SEG_HOURS usable
 * hours is merged with its neighbour (CalTRACK 3.8.3 merges temperature bins
 * with too few hours), so every fitted slope is supported by data.
 *
 * Solver: weighted normal equations, with the 168 indicator columns
 * eliminated analytically.  Because each row has exactly one indicator,
 * X'WX's indicator block is diagonal; its Schur complement is the weighted
 * scatter of the temperature columns centred per hour of the week (at most
 * 2 x 9 = 18 columns), solved by LAPACKE_dposv (Cholesky).  Why not dgels:
 * QR on the dense 8760 x 186 design costs ~0.3 s per meter-year, the
 * reduced system costs well under a millisecond, and centring removes the
 * collinearity between the temperature columns and the indicators that
 * would otherwise square the condition number.  A column that is constant
 * within every hour of the week makes the small system singular; we then
 * add a tiny ridge (1e-9 of the mean diagonal) which sets its slope to ~0.
 */
#include "analytics/towt.h"

#include <jansson.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

#define HOW 168
#define TOWT_MIN_SEG_HOURS 20
#define TOWT_MAXP (2 * (SB_TOWT_MAX_KNOTS + 1))
#define TOWT_FORMAT "sbems-towt"
#define TOWT_VERSION 1

/* One temperature function: nb = 0 when no hour of the week uses it. */
struct towt_group {
    int    nk;                                  /* knots in use */
    double knots[SB_TOWT_MAX_KNOTS];            /* ascending, °C */
    int    nb;                                  /* slopes: 0 (unused) or nk + 1 */
    double beta[SB_TOWT_MAX_KNOTS + 1];         /* kWh per °C per component */
};

struct sb_towt {
    double            alpha[HOW];   /* per-hour-of-week level, kWh */
    uint8_t           occ[HOW];     /* 1 = occupied hour of the week */
    struct towt_group g[2];         /* [0] unoccupied, [1] occupied */
};

/* The LBNL/CalTRACK default knots 40, 55, 65, 80, 90 °F in °C. */
static const double default_knots[] = {
    (40.0 - 32) * 5 / 9, (55.0 - 32) * 5 / 9, (65.0 - 32) * 5 / 9,
    (80.0 - 32) * 5 / 9, (90.0 - 32) * 5 / 9,
};

/* Mathieu eq. 2: the nk + 1 components of T for knots k[0..nk-1]. */
static void basis(double t, const double *k, int nk, double *out)
{
    if (nk == 0) {
        out[0] = t;
        return;
    }
    out[0] = t < k[0] ? t : k[0];
    for (int j = 1; j < nk; j++) {
        double v = t - k[j - 1];
        double w = k[j] - k[j - 1];
        out[j] = v < 0 ? 0 : (v > w ? w : v);
    }
    out[nk] = t > k[nk - 1] ? t - k[nk - 1] : 0;
}

static int usable(const double *y, const double *t, const double *w, size_t i)
{
    return isfinite(y[i]) && isfinite(t[i]) && (!w || (isfinite(w[i]) && w[i] > 0));
}

static double wt(const double *w, size_t i)
{
    return w ? w[i] : 1.0;
}

static int check_inputs(const double *y, const double *t, const uint8_t *how, const double *w,
                        size_t n, const struct sb_towt_opts *o, char *err, size_t errlen)
{
    if (!y || !t || !how || n == 0) {
        sb_errf(err, errlen, "towt: no data");
        return SB_EINVAL;
    }
    if (o && (o->n_knots < 0 || o->n_knots > SB_TOWT_MAX_KNOTS)) {
        sb_errf(err, errlen, "towt: n_knots %d outside 0..%d", o->n_knots, SB_TOWT_MAX_KNOTS);
        return SB_EINVAL;
    }
    for (int j = 1; o && j < o->n_knots; j++) {
        if (!(o->knots[j] > o->knots[j - 1])) {
            sb_errf(err, errlen, "towt: knots must be strictly ascending (knot %d)", j);
            return SB_EINVAL;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (how[i] >= HOW) {
            sb_errf(err, errlen, "towt: hour of week %u at index %zu outside 0..167", how[i], i);
            return SB_EINVAL;
        }
        if (w && w[i] < 0) {
            sb_errf(err, errlen, "towt: negative weight at index %zu", i);
            return SB_EINVAL;
        }
    }
    return 0;
}

static int check_coverage(const double *y, const double *t, const uint8_t *how, const double *w,
                          size_t n, char *err, size_t errlen)
{
    size_t cnt[HOW] = {0};

    for (size_t i = 0; i < n; i++)
        if (usable(y, t, w, i))
            cnt[how[i]]++;
    for (int h = 0; h < HOW; h++) {
        if (cnt[h] < 2) {
            sb_errf(err, errlen,
                    "towt: needs at least 2 usable hours for every hour of the week, "
                    "hour %d has %zu", h, cnt[h]);
            return SB_EINVAL;
        }
    }
    return 0;
}

/* Occupied hours of the week: share of positive residuals of y = a + bT. */
static void detect_occupancy(const double *y, const double *t, const uint8_t *how,
                             const double *w, size_t n, double thr, uint8_t *occ)
{
    double sw = 0, st = 0, sy = 0, stt = 0, sty = 0;
    size_t pos[HOW] = {0}, cnt[HOW] = {0};

    for (size_t i = 0; i < n; i++) {
        if (!usable(y, t, w, i))
            continue;
        double wi = wt(w, i);
        sw += wi; st += wi * t[i]; sy += wi * y[i];
        stt += wi * t[i] * t[i]; sty += wi * t[i] * y[i];
    }
    double den = sw * stt - st * st;
    double b = den > 0 ? (sw * sty - st * sy) / den : 0;
    double a = (sy - b * st) / sw;
    for (size_t i = 0; i < n; i++) {
        if (!usable(y, t, w, i))
            continue;
        cnt[how[i]]++;
        if (y[i] - (a + b * t[i]) > 0)
            pos[how[i]]++;
    }
    for (int h = 0; h < HOW; h++)
        occ[h] = cnt[h] && (double)pos[h] / (double)cnt[h] > thr;
}

/* Hours per segment of the knots k[0..nk-1] over the group's usable rows. */
static void seg_counts(const double *y, const double *t, const uint8_t *how, const double *w,
                       size_t n, const uint8_t *occ, int grp, const double *k, int nk,
                       size_t *cnt)
{
    memset(cnt, 0, sizeof(size_t) * (size_t)(nk + 1));
    for (size_t i = 0; i < n; i++) {
        if (!usable(y, t, w, i) || occ[how[i]] != grp)
            continue;
        int s = 0;
        while (s < nk && t[i] >= k[s])
            s++;
        cnt[s]++;
    }
}

static void remove_knot(double *k, int *nk, int j)
{
    memmove(k + j, k + j + 1, sizeof(double) * (size_t)(*nk - j - 1));
    (*nk)--;
}

/* Merges sparse segments (CalTRACK 3.8.3) until each has enough hours.
 * Returns the group's usable hour count. */
static size_t choose_knots(const double *y, const double *t, const uint8_t *how, const double *w,
                           size_t n, const uint8_t *occ, int grp, const double *k0, int nk0,
                           struct towt_group *g)
{
    size_t cnt[SB_TOWT_MAX_KNOTS + 1], total = 0;

    memcpy(g->knots, k0, sizeof(double) * (size_t)nk0);
    g->nk = nk0;
    for (int guard = 0; guard <= SB_TOWT_MAX_KNOTS; guard++) {
        seg_counts(y, t, how, w, n, occ, grp, g->knots, g->nk, cnt);
        int bad = -1;
        total = 0;
        for (int s = 0; s <= g->nk; s++) {
            total += cnt[s];
            if (bad < 0 && cnt[s] < TOWT_MIN_SEG_HOURS)
                bad = s;
        }
        if (bad < 0 || g->nk == 0)
            break;
        /* merge the sparse segment into its smaller neighbour */
        int j = bad == 0 ? 0 : bad == g->nk ? g->nk - 1
              : (cnt[bad - 1] <= cnt[bad + 1] ? bad - 1 : bad);
        remove_knot(g->knots, &g->nk, j);
    }
    g->nb = total ? g->nk + 1 : 0;
    memset(g->beta, 0, sizeof(g->beta));
    return total;
}

/* Column offset of group grp's first slope in the reduced system. */
static int col0(const struct sb_towt *m, int grp)
{
    return grp == 0 ? 0 : m->g[0].nb;
}

/* z: the p temperature columns of row i (zero outside its group's block). */
static void row_z(const struct sb_towt *m, double t, int h, int p, double *z)
{
    const struct towt_group *g = &m->g[m->occ[h]];
    memset(z, 0, sizeof(double) * (size_t)p);
    if (g->nb)
        basis(t, g->knots, g->nk, z + col0(m, m->occ[h]));
}

/* Weighted means of y and z per hour of the week (pass 1). */
static void how_means(const struct sb_towt *m, const double *y, const double *t,
                      const uint8_t *how, const double *w, size_t n, int p,
                      double *sw, double *ybar, double *zbar)
{
    double z[TOWT_MAXP];

    for (size_t i = 0; i < n; i++) {
        if (!usable(y, t, w, i))
            continue;
        double wi = wt(w, i);
        int h = how[i];
        row_z(m, t[i], h, p, z);
        sw[h] += wi;
        ybar[h] += wi * y[i];
        for (int j = 0; j < p; j++)
            zbar[h * p + j] += wi * z[j];
    }
    for (int h = 0; h < HOW; h++) {
        if (sw[h] <= 0)
            continue;
        ybar[h] /= sw[h];
        for (int j = 0; j < p; j++)
            zbar[h * p + j] /= sw[h];
    }
}

/* Centred scatter S and right-hand side r (pass 2): the Schur complement. */
static void centred_system(const struct sb_towt *m, const double *y, const double *t,
                           const uint8_t *how, const double *w, size_t n, int p,
                           const double *ybar, const double *zbar, double *S, double *r)
{
    double z[TOWT_MAXP];

    for (size_t i = 0; i < n; i++) {
        if (!usable(y, t, w, i))
            continue;
        double wi = wt(w, i);
        int h = how[i];
        row_z(m, t[i], h, p, z);
        for (int j = 0; j < p; j++)
            z[j] -= zbar[h * p + j];
        double dy = y[i] - ybar[h];
        for (int a = 0; a < p; a++) {
            r[a] += wi * z[a] * dy;
            for (int b = 0; b <= a; b++)
                S[a * p + b] += wi * z[a] * z[b];
        }
    }
    for (int a = 0; a < p; a++)
        for (int b = a + 1; b < p; b++)
            S[a * p + b] = S[b * p + a];
}

/* Solves S beta = r; retries with a tiny ridge when S is singular. */
static int solve_slopes(double *S, double *r, int p)
{
    double S2[TOWT_MAXP * TOWT_MAXP], r2[TOWT_MAXP], tr = 0;

    if (p == 0)
        return 0;
    memcpy(S2, S, sizeof(double) * (size_t)(p * p));
    memcpy(r2, r, sizeof(double) * (size_t)p);
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', p, 1, S, p, r, 1) == 0)
        return 0;
    for (int j = 0; j < p; j++)
        tr += S2[j * p + j];
    double lam = 1e-9 * (tr > 0 ? tr / p : 1.0);
    for (int j = 0; j < p; j++)
        S2[j * p + j] += lam;
    memcpy(S, S2, sizeof(double) * (size_t)(p * p));
    memcpy(r, r2, sizeof(double) * (size_t)p);
    return LAPACKE_dposv(LAPACK_ROW_MAJOR, 'L', p, 1, S, p, r, 1) == 0 ? 0 : SB_EINVAL;
}

static int solve(struct sb_towt *m, const double *y, const double *t, const uint8_t *how,
                 const double *w, size_t n, char *err, size_t errlen)
{
    int p = m->g[0].nb + m->g[1].nb;
    double sw[HOW] = {0}, ybar[HOW] = {0}, S[TOWT_MAXP * TOWT_MAXP] = {0}, r[TOWT_MAXP] = {0};
    double *zbar = calloc((size_t)HOW * (size_t)(p ? p : 1), sizeof(double));

    if (!zbar)
        return SB_ENOMEM;
    how_means(m, y, t, how, w, n, p, sw, ybar, zbar);
    centred_system(m, y, t, how, w, n, p, ybar, zbar, S, r);
    int rc = solve_slopes(S, r, p);
    if (rc) {
        sb_errf(err, errlen, "towt: temperature design is singular");
        goto out;
    }
    for (int grp = 0; grp < 2; grp++)
        memcpy(m->g[grp].beta, r + col0(m, grp), sizeof(double) * (size_t)m->g[grp].nb);
    for (int h = 0; h < HOW; h++) {
        double a = ybar[h];
        for (int j = 0; j < p; j++)
            a -= zbar[h * p + j] * r[j];
        m->alpha[h] = a;
    }
out:
    free(zbar);
    return rc;
}

int sb_towt_fit(const double *y, const double *t, const uint8_t *how, const double *w, size_t n,
                const struct sb_towt_opts *o, struct sb_towt **out, char *err, size_t errlen)
{
    struct sb_towt *m = NULL;
    int rc;

    *out = NULL;
    if ((rc = check_inputs(y, t, how, w, n, o, err, errlen)) ||
        (rc = check_coverage(y, t, how, w, n, err, errlen)))
        return rc;
    if (!(m = calloc(1, sizeof(*m))))
        return SB_ENOMEM;
    const double *k0 = o && o->n_knots ? o->knots : default_knots;
    int nk0 = o && o->n_knots ? o->n_knots
                              : (int)(sizeof(default_knots) / sizeof(default_knots[0]));
    double thr = o && o->occ_threshold > 0 ? o->occ_threshold : 0.65;
    if (!(o && o->no_occupancy))
        detect_occupancy(y, t, how, w, n, thr, m->occ);
    for (int grp = 0; grp < 2; grp++)
        choose_knots(y, t, how, w, n, m->occ, grp, k0, nk0, &m->g[grp]);
    if ((rc = solve(m, y, t, how, w, n, err, errlen)))
        goto out;
    *out = m;
    m = NULL;
out:
    free(m);
    return rc;
}

int sb_towt_predict(const struct sb_towt *m, const double *t, const uint8_t *how, size_t n,
                    double *yhat)
{
    double z[SB_TOWT_MAX_KNOTS + 1];

    if (!m || (n && (!t || !how || !yhat)))
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (how[i] >= HOW)
            return SB_EINVAL;
        const struct towt_group *g = &m->g[m->occ[how[i]]];
        if (!isfinite(t[i]) || !g->nb) {
            yhat[i] = NAN;
            continue;
        }
        basis(t[i], g->knots, g->nk, z);
        double v = m->alpha[how[i]];
        for (int j = 0; j < g->nb; j++)
            v += g->beta[j] * z[j];
        yhat[i] = v;
    }
    return 0;
}

int sb_towt_nparams(const struct sb_towt *m)
{
    return m ? HOW + m->g[0].nb + m->g[1].nb : 0;
}

/* ---- JSON (de)serialisation ------------------------------------------ */

static json_t *dbl_array(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        if (json_array_append_new(a, json_real(v[i]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *group_json(const struct towt_group *g)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "knots", dbl_array(g->knots, g->nb ? g->nk : 0)) ||
        json_object_set_new(o, "beta", dbl_array(g->beta, g->nb))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int sb_towt_save(const struct sb_towt *m, char **json)
{
    json_t *root = NULL, *occ = NULL;
    int rc = SB_ENOMEM;

    *json = NULL;
    if (!m)
        return SB_EINVAL;
    if (!(root = json_object()) || !(occ = json_array()))
        goto out;
    for (int h = 0; h < HOW; h++)
        if (json_array_append_new(occ, json_integer(m->occ[h])))
            goto out;
    if (json_object_set_new(root, "format", json_string(TOWT_FORMAT)) ||
        json_object_set_new(root, "version", json_integer(TOWT_VERSION)) ||
        json_object_set_new(root, "alpha", dbl_array(m->alpha, HOW)) ||
        json_object_set(root, "occupied", occ) ||
        json_object_set_new(root, "unoccupied_temp", group_json(&m->g[0])) ||
        json_object_set_new(root, "occupied_temp", group_json(&m->g[1])))
        goto out;
    /* JSON_REAL_PRECISION(17): doubles round-trip exactly */
    if ((*json = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17))))
        rc = 0;
out:
    json_decref(occ);
    json_decref(root);
    return rc;
}

/* Reads a JSON array of exactly n finite numbers (nmax bounds unknown n). */
static int read_dbls(const json_t *a, double *v, int nmax, int *n, const char *what,
                     char *err, size_t errlen)
{
    if (!json_is_array(a) || (int)json_array_size(a) > nmax ||
        (*n >= 0 && (int)json_array_size(a) != *n)) {
        sb_errf(err, errlen, "towt: \"%s\" must be an array of %s%d numbers", what,
                *n >= 0 ? "" : "at most ", *n >= 0 ? *n : nmax);
        return SB_EINVAL;
    }
    *n = (int)json_array_size(a);
    for (int i = 0; i < *n; i++) {
        const json_t *e = json_array_get(a, (size_t)i);
        if (!json_is_number(e) || !isfinite(json_number_value(e))) {
            sb_errf(err, errlen, "towt: \"%s\"[%d] is not a finite number", what, i);
            return SB_EINVAL;
        }
        v[i] = json_number_value(e);
    }
    return 0;
}

static int read_group(const json_t *o, struct towt_group *g, const char *what,
                      char *err, size_t errlen)
{
    int nk = -1, nb = -1, rc;

    if (!json_is_object(o)) {
        sb_errf(err, errlen, "towt: \"%s\" must be an object", what);
        return SB_EINVAL;
    }
    if ((rc = read_dbls(json_object_get(o, "knots"), g->knots, SB_TOWT_MAX_KNOTS, &nk, "knots",
                        err, errlen)) ||
        (rc = read_dbls(json_object_get(o, "beta"), g->beta, SB_TOWT_MAX_KNOTS + 1, &nb, "beta",
                        err, errlen)))
        return rc;
    for (int j = 1; j < nk; j++) {
        if (!(g->knots[j] > g->knots[j - 1])) {
            sb_errf(err, errlen, "towt: %s knots not strictly ascending", what);
            return SB_EINVAL;
        }
    }
    if (nb != 0 && nb != nk + 1) {
        sb_errf(err, errlen, "towt: %s has %d knots and %d slopes (want %d)", what, nk, nb, nk + 1);
        return SB_EINVAL;
    }
    if (nb == 0 && nk != 0) {
        sb_errf(err, errlen, "towt: %s has knots but no slopes", what);
        return SB_EINVAL;
    }
    g->nk = nk;
    g->nb = nb;
    return 0;
}

static int read_occ(const json_t *a, uint8_t *occ, char *err, size_t errlen)
{
    if (!json_is_array(a) || json_array_size(a) != HOW) {
        sb_errf(err, errlen, "towt: \"occupied\" must be an array of 168 0/1 flags");
        return SB_EINVAL;
    }
    for (int h = 0; h < HOW; h++) {
        const json_t *e = json_array_get(a, (size_t)h);
        if (!json_is_integer(e) || (json_integer_value(e) != 0 && json_integer_value(e) != 1)) {
            sb_errf(err, errlen, "towt: \"occupied\"[%d] is not 0 or 1", h);
            return SB_EINVAL;
        }
        occ[h] = (uint8_t)json_integer_value(e);
    }
    return 0;
}

static int read_model(const json_t *root, struct sb_towt *m, char *err, size_t errlen)
{
    const json_t *f = json_object_get(root, "format"), *v = json_object_get(root, "version");
    int nalpha = HOW, rc;

    if (!json_is_string(f) || strcmp(json_string_value(f), TOWT_FORMAT) != 0) {
        sb_errf(err, errlen, "towt: not a \"%s\" model", TOWT_FORMAT);
        return SB_EINVAL;
    }
    if (!json_is_integer(v) || json_integer_value(v) != TOWT_VERSION) {
        sb_errf(err, errlen, "towt: unsupported version (want %d)", TOWT_VERSION);
        return SB_EINVAL;
    }
    if ((rc = read_dbls(json_object_get(root, "alpha"), m->alpha, HOW, &nalpha, "alpha", err,
                        errlen)) ||
        (rc = read_occ(json_object_get(root, "occupied"), m->occ, err, errlen)) ||
        (rc = read_group(json_object_get(root, "unoccupied_temp"), &m->g[0], "unoccupied_temp",
                         err, errlen)) ||
        (rc = read_group(json_object_get(root, "occupied_temp"), &m->g[1], "occupied_temp", err,
                         errlen)))
        return rc;
    for (int h = 0; h < HOW; h++) {
        if (!m->g[m->occ[h]].nb) {
            sb_errf(err, errlen, "towt: hour %d uses a temperature group without slopes", h);
            return SB_EINVAL;
        }
    }
    return 0;
}

int sb_towt_load(const char *json, size_t len, struct sb_towt **out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = NULL;
    struct sb_towt *m = NULL;
    int rc = SB_EINVAL;

    *out = NULL;
    if (!json) {
        sb_errf(err, errlen, "towt: no input");
        return SB_EINVAL;
    }
    if (!(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr))) {
        sb_errf(err, errlen, "towt: bad JSON at line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        sb_errf(err, errlen, "towt: model must be a JSON object");
        goto out;
    }
    if (!(m = calloc(1, sizeof(*m)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = read_model(root, m, err, errlen)))
        goto out;
    *out = m;
    m = NULL;
out:
    free(m);
    json_decref(root);
    return rc;
}

void sb_towt_free(struct sb_towt *m)
{
    free(m);
}

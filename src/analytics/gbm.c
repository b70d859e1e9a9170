/*
 * gbm.c - XGBoost direct multi-horizon load forecaster (gbm.h).
 *
 * Training rows: origins every origin_stride hours (a stride coprime with
 * 24 so every origin hour of day is seen), and at each origin
 * horizons_per_origin distinct horizons drawn without replacement from
 * 1..max_horizon.  Sampling horizons instead of taking all 72 gives more
 * distinct origins for the same number of rows, which is what bounds the
 * fit time (hist cost grows with rows x features x rounds).
 */
#include "analytics/gbm.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>
#include <zlib.h>

#include "core/err.h"

#define GBM_FORMAT "sbems-gbm"
#define GBM_VERSION 1
#define GBM_MIN_HOURS (14 * 24)
#define GBM_MAX_MODEL_BYTES (64u << 20)   /* refuse absurd embedded models */

struct sb_gbm {
    struct sb_gbm_opts o;    /* as trained (defaults resolved) */
    BoosterHandle      bst;  /* XGBoost booster, owned */
};

void sb_gbm_defaults(struct sb_gbm_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->rounds = 300;
    o->max_depth = 6;
    o->eta = 0.05;
    o->subsample = 0.8;
    o->colsample = 1.0;
    o->min_child_weight = 1.0;
    o->lambda = 1.0;
    o->max_bin = 64;
    o->max_horizon = SB_FC_MAX_HORIZON;
    o->origin_stride = 5;
    o->horizons_per_origin = 12;
    o->stack_towt = 1;
    o->target = SB_GBM_TARGET_ANOMALY;
    o->seed = 1;
}

/* Zero fields of o take the defaults; returns SB_EINVAL when out of range. */
static int resolve(const struct sb_gbm_opts *in, struct sb_gbm_opts *o)
{
    struct sb_gbm_opts d;
    sb_gbm_defaults(&d);
    *o = in ? *in : d;
    if (!in)
        return 0;
#define DEF(f) if (o->f == 0) o->f = d.f
    DEF(rounds); DEF(max_depth); DEF(eta); DEF(subsample); DEF(colsample);
    DEF(min_child_weight); DEF(lambda); DEF(max_bin); DEF(max_horizon); DEF(origin_stride);
    DEF(horizons_per_origin); DEF(seed);
#undef DEF
    if (o->rounds < 1 || o->rounds > 5000 || o->max_depth < 1 || o->max_depth > 16 ||
        !(o->eta > 0 && o->eta <= 1) || !(o->subsample > 0 && o->subsample <= 1) ||
        !(o->colsample > 0 && o->colsample <= 1) || !(o->min_child_weight >= 0) ||
        !(o->lambda >= 0) || o->max_bin < 2 || o->max_bin > 1024 || o->max_horizon < 1 ||
        o->max_horizon > SB_FC_MAX_HORIZON ||
        o->origin_stride < 1 || o->horizons_per_origin < 1 ||
        o->target < SB_GBM_TARGET_LOAD || o->target > SB_GBM_TARGET_ANOMALY ||
        (o->target >= SB_GBM_TARGET_TOWT && !o->stack_towt))
        return SB_EINVAL;
    if (o->horizons_per_origin > o->max_horizon)
        o->horizons_per_origin = o->max_horizon;
    o->stack_towt = o->stack_towt != 0;
    return 0;
}

/* ---- features --------------------------------------------------------- */

static double at(const double *v, size_t n, long long i)
{
    return i >= 0 && (size_t)i < n ? v[i] : NAN;
}

/* Mean of the finite v[lo..hi) (clipped to [0, n)); NAN when fewer than
 * half the span is finite. */
static double span_mean(const double *v, size_t n, long long lo, long long hi)
{
    double s = 0;
    long long k = 0, span = hi - lo;
    if (lo < 0)
        lo = 0;
    if (hi > (long long)n)
        hi = (long long)n;
    for (long long i = lo; i < hi; i++)
        if (isfinite(v[i])) {
            s += v[i];
            k++;
        }
    return k * 2 >= span && k > 0 ? s / (double)k : NAN;
}

/* Mean of y - towt over [lo, hi) where both are finite; NAN below half. */
static double resid_mean(const struct sb_load_series *s, const double *towt, long long lo,
                         long long hi)
{
    double sum = 0;
    long long k = 0, span = hi - lo;
    for (long long i = lo < 0 ? 0 : lo; i < hi && i < (long long)s->n; i++)
        if (isfinite(s->y[i]) && isfinite(towt[i])) {
            sum += s->y[i] - towt[i];
            k++;
        }
    return k * 2 >= span && k > 0 ? sum / (double)k : NAN;
}

static int hol_at(const struct sb_load_series *s, long long i)
{
    return s->hol && i >= 0 && (size_t)i < s->n && s->hol[i];
}

/* Mean of the finite y[j - 168 k], k = 1..4 (all below the origin). */
static double weekly_profile(const struct sb_load_series *s, long long j)
{
    double sum = 0;
    int k = 0;
    for (int w = 1; w <= 4; w++) {
        double v = at(s->y, s->n, j - 168LL * w);
        if (isfinite(v)) {
            sum += v;
            k++;
        }
    }
    return k ? sum / k : NAN;
}

void sb_gbm_features(const struct sb_load_series *s, const double *towt, int stack,
                     size_t origin, int h, float *x)
{
    long long o = (long long)origin, j = o + h - 1;
    long long dlag = j - 24LL * ((h + 23) / 24);
    int how = s->how[j], hol = hol_at(s, j);

    x[0] = (float)(hol ? 144 + how % 24 : how);
    x[1] = (float)(how % 24);
    x[2] = (float)(how / 24);
    x[3] = (float)hol;
    x[4] = (float)s->t[j];
    x[5] = (float)span_mean(s->t, s->n, j - 23, j + 1);
    x[6] = (float)h;
    x[7] = (float)at(s->y, s->n, o - 1);
    x[8] = (float)span_mean(s->y, s->n, o - 24, o);
    x[9] = (float)at(s->y, s->n, dlag);
    x[10] = (float)at(s->y, s->n, j - 168);
    x[11] = (float)weekly_profile(s, j);
    x[12] = (float)span_mean(s->y, s->n, o - 168, o);
    x[13] = (float)hol_at(s, dlag);
    x[14] = x[15] = x[16] = x[17] = x[18] = x[19] = NAN;
    x[20] = (float)(s->t[j] - at(s->t, s->n, dlag));
    if (stack && towt) {
        x[14] = (float)towt[j];
        x[15] = (float)resid_mean(s, towt, o - 24, o);
        x[16] = (float)(at(s->y, s->n, o - 1) - towt[o - 1]);
        x[17] = (float)(at(s->y, s->n, dlag) - at(towt, s->n, dlag));
        x[18] = (float)(at(s->y, s->n, j - 168) - at(towt, s->n, j - 168));
        x[19] = (float)resid_mean(s, towt, o - 168, o);
    }
}

/* The value the trees' output is added to; NAN when unavailable. */
static double target_base(const struct sb_gbm_opts *o, const struct sb_load_series *s,
                          const double *towt, size_t origin, size_t j)
{
    switch (o->target) {
    case SB_GBM_TARGET_LEVEL:
        return span_mean(s->y, s->n, (long long)origin - 24, (long long)origin);
    case SB_GBM_TARGET_TOWT:
        return towt[j];
    case SB_GBM_TARGET_ANOMALY:
        return towt[j] + resid_mean(s, towt, (long long)origin - 24, (long long)origin);
    default:
        return 0;
    }
}

/* ---- training rows ---------------------------------------------------- */

struct rows {
    float  *x;      /* n x SB_GBM_NFEAT, row-major */
    float  *label;  /* n */
    size_t  n, cap;
};

static uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int rows_push(struct rows *r, const float *x, float label)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 4096;
        float *nx = realloc(r->x, cap * SB_GBM_NFEAT * sizeof(float));
        if (!nx)
            return SB_ENOMEM;
        r->x = nx;
        float *nl = realloc(r->label, cap * sizeof(float));
        if (!nl)
            return SB_ENOMEM;
        r->label = nl;
        r->cap = cap;
    }
    memcpy(r->x + r->n * SB_GBM_NFEAT, x, SB_GBM_NFEAT * sizeof(float));
    r->label[r->n++] = label;
    return 0;
}

/* Draws k distinct horizons of 1..H (partial Fisher-Yates). */
static void draw_horizons(uint64_t *seed, int H, int k, int *out)
{
    int pool[SB_FC_MAX_HORIZON];
    for (int i = 0; i < H; i++)
        pool[i] = i + 1;
    for (int i = 0; i < k; i++) {
        int r = i + (int)(rnd(seed) % (uint64_t)(H - i));
        int tmp = pool[i];
        pool[i] = pool[r];
        pool[r] = tmp;
        out[i] = pool[i];
    }
}

static int build_rows(const struct sb_gbm_opts *o, const struct sb_load_series *s,
                      const double *towt, struct rows *r)
{
    uint64_t seed = o->seed;
    int hs[SB_FC_MAX_HORIZON];
    float x[SB_GBM_NFEAT];

    for (size_t org = 168; org < s->n; org += (size_t)o->origin_stride) {
        draw_horizons(&seed, o->max_horizon, o->horizons_per_origin, hs);
        for (int k = 0; k < o->horizons_per_origin; k++) {
            size_t j = org + (size_t)hs[k] - 1;
            if (j >= s->n || !isfinite(s->y[j]) || !isfinite(s->t[j]))
                continue;
            double base = target_base(o, s, towt, org, j);
            if (!isfinite(base))
                continue;
            sb_gbm_features(s, towt, o->stack_towt, org, hs[k], x);
            int rc = rows_push(r, x, (float)(s->y[j] - base));
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ---- XGBoost glue ----------------------------------------------------- */

static int xgb_fail(char *err, size_t errlen, const char *what)
{
    sb_errf(err, errlen, "gbm: XGBoost %s failed: %s", what, XGBGetLastError());
    return SB_EIO;
}

static int set_params(BoosterHandle b, const struct sb_gbm_opts *o)
{
    char buf[8][32];
    snprintf(buf[0], sizeof(buf[0]), "%d", o->max_depth);
    snprintf(buf[1], sizeof(buf[1]), "%.17g", o->eta);
    snprintf(buf[2], sizeof(buf[2]), "%.17g", o->subsample);
    snprintf(buf[3], sizeof(buf[3]), "%.17g", o->colsample);
    snprintf(buf[4], sizeof(buf[4]), "%.17g", o->min_child_weight);
    snprintf(buf[5], sizeof(buf[5]), "%.17g", o->lambda);
    snprintf(buf[6], sizeof(buf[6]), "%d", (int)(o->seed & 0x7fffffff));
    snprintf(buf[7], sizeof(buf[7]), "%d", o->max_bin);
    const char *kv[][2] = {
        {"tree_method", "hist"}, {"nthread", "1"}, {"objective", "reg:squarederror"},
        {"verbosity", "0"}, {"max_depth", buf[0]}, {"eta", buf[1]}, {"subsample", buf[2]},
        {"colsample_bytree", buf[3]}, {"min_child_weight", buf[4]}, {"lambda", buf[5]},
        {"seed", buf[6]}, {"base_score", "0"}, {"max_bin", buf[7]},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
        if (XGBoosterSetParam(b, kv[i][0], kv[i][1]))
            return -1;
    return 0;
}

static int train_booster(const struct sb_gbm_opts *o, const struct rows *r, BoosterHandle *out,
                         char *err, size_t errlen)
{
    DMatrixHandle dm = NULL;
    BoosterHandle b = NULL;
    int rc = 0;

    if (XGDMatrixCreateFromMat_omp(r->x, r->n, SB_GBM_NFEAT, NAN, &dm, 1) ||
        XGDMatrixSetFloatInfo(dm, "label", r->label, r->n)) {
        rc = xgb_fail(err, errlen, "DMatrix");
        goto out;
    }
    if (XGBoosterCreate(&dm, 1, &b) || set_params(b, o)) {
        rc = xgb_fail(err, errlen, "setup");
        goto out;
    }
    for (int it = 0; it < o->rounds; it++) {
        if (XGBoosterUpdateOneIter(b, it, dm)) {
            rc = xgb_fail(err, errlen, "training");
            goto out;
        }
    }
    *out = b;
    b = NULL;
out:
    if (b)
        XGBoosterFree(b);
    if (dm)
        XGDMatrixFree(dm);
    return rc;
}

int sb_gbm_fit(const struct sb_load_series *s, const double *towt_hat,
               const struct sb_gbm_opts *opts, struct sb_gbm **out, char *err, size_t errlen)
{
    struct sb_gbm *m = NULL;
    struct rows r = {0};
    int rc;

    *out = NULL;
    if (!s || !s->y || !s->t || !s->how) {
        sb_errf(err, errlen, "gbm: no data");
        return SB_EINVAL;
    }
    if (!(m = calloc(1, sizeof(*m))))
        return SB_ENOMEM;
    if ((rc = resolve(opts, &m->o))) {
        sb_errf(err, errlen, "gbm: options out of range");
        goto out;
    }
    if (m->o.stack_towt && !towt_hat) {
        sb_errf(err, errlen, "gbm: stacking needs the TOWT predictions");
        rc = SB_EINVAL;
        goto out;
    }
    if (s->n < GBM_MIN_HOURS) {
        sb_errf(err, errlen, "gbm: needs at least %d hours of history, has %zu", GBM_MIN_HOURS,
                s->n);
        rc = SB_EINVAL;
        goto out;
    }
    if ((rc = build_rows(&m->o, s, towt_hat, &r)))
        goto out;
    if (r.n < 1000) {
        sb_errf(err, errlen, "gbm: only %zu usable training rows (needs 1000)", r.n);
        rc = SB_EINVAL;
        goto out;
    }
    if ((rc = train_booster(&m->o, &r, &m->bst, err, errlen)))
        goto out;
    *out = m;
    m = NULL;
out:
    free(r.x);
    free(r.label);
    sb_gbm_free(m);
    return rc;
}

int sb_gbm_predict(const struct sb_gbm *m, const struct sb_load_series *s,
                   const double *towt_hat, size_t origin, int H, double *yhat)
{
    float x[SB_FC_MAX_HORIZON * SB_GBM_NFEAT];
    double base[SB_FC_MAX_HORIZON];
    DMatrixHandle dm = NULL;
    bst_ulong len = 0;
    const float *res = NULL;
    int rc = 0;

    if (!m || !s || !s->y || !s->t || !s->how || !yhat || H < 1 || H > m->o.max_horizon ||
        origin < 1 || origin + (size_t)H > s->n || (m->o.stack_towt && !towt_hat))
        return SB_EINVAL;
    for (int h = 1; h <= H; h++) {
        size_t j = origin + (size_t)h - 1;
        sb_gbm_features(s, towt_hat, m->o.stack_towt, origin, h, x + (h - 1) * SB_GBM_NFEAT);
        base[h - 1] = isfinite(s->t[j]) ? target_base(&m->o, s, towt_hat, origin, j) : NAN;
    }
    if (XGDMatrixCreateFromMat_omp(x, (bst_ulong)H, SB_GBM_NFEAT, NAN, &dm, 1) ||
        XGBoosterPredict(m->bst, dm, 0, 0, 0, &len, &res) || len != (bst_ulong)H) {
        rc = SB_EIO;
        goto out;
    }
    for (int h = 0; h < H; h++)
        yhat[h] = isfinite(base[h]) ? base[h] + (double)res[h] : NAN;
out:
    if (dm)
        XGDMatrixFree(dm);
    return rc;
}

const struct sb_gbm_opts *sb_gbm_opts(const struct sb_gbm *m)
{
    return &m->o;
}

void sb_gbm_free(struct sb_gbm *m)
{
    if (!m)
        return;
    if (m->bst)
        XGBoosterFree(m->bst);
    free(m);
}

/* ---- base64 (RFC 4648 section 4, with padding) ------------------------ */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t n)
{
    char *out = malloc(4 * ((n + 2) / 3) + 1), *p = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n) v |= in[i + 2];
        *p++ = b64[v >> 18 & 63];
        *p++ = b64[v >> 12 & 63];
        *p++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *p++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *p = 0;
    return out;
}

static int b64_val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Strict decoder: length a multiple of 4, padding only at the end. */
static int b64_decode(const char *in, size_t n, unsigned char **out, size_t *outlen)
{
    if (n % 4 || n == 0)
        return SB_EINVAL;
    size_t pad = (in[n - 1] == '=') + (in[n - 2] == '=');
    unsigned char *buf = malloc(n / 4 * 3), *p = buf;
    if (!buf)
        return SB_ENOMEM;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n, v[4];
        for (int k = 0; k < 4; k++) {
            int padded = last && k >= 4 - (int)pad;
            v[k] = padded ? 0 : b64_val(in[i + k]);
            if (v[k] < 0) {
                free(buf);
                return SB_EINVAL;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        *p++ = (unsigned char)(w >> 16);
        if (!last || pad < 2) *p++ = (unsigned char)(w >> 8);
        if (!last || pad < 1) *p++ = (unsigned char)w;
    }
    *out = buf;
    *outlen = (size_t)(p - buf);
    return 0;
}

/* ---- save / load ------------------------------------------------------ */

static json_t *opts_json(const struct sb_gbm_opts *o)
{
    return json_pack("{s:i,s:i,s:f,s:f,s:f,s:f,s:f,s:i,s:i,s:i,s:i,s:b,s:i}", "rounds",
                     o->rounds, "max_depth", o->max_depth, "eta", o->eta, "subsample",
                     o->subsample, "colsample", o->colsample, "min_child_weight",
                     o->min_child_weight, "lambda", o->lambda, "max_bin", o->max_bin,
                     "max_horizon", o->max_horizon, "origin_stride", o->origin_stride,
                     "horizons_per_origin", o->horizons_per_origin, "stack_towt", o->stack_towt,
                     "target", o->target);
}

/* zlib-deflated copy of raw[len] in a new buffer (*out, *outlen). */
static int deflate_bytes(const unsigned char *raw, size_t len, unsigned char **out,
                         size_t *outlen)
{
    uLongf n = compressBound((uLong)len);
    unsigned char *buf = malloc(n);
    if (!buf)
        return SB_ENOMEM;
    if (compress2(buf, &n, raw, (uLong)len, 6) != Z_OK) {
        free(buf);
        return SB_EIO;
    }
    *out = buf;
    *outlen = (size_t)n;
    return 0;
}

int sb_gbm_save(const struct sb_gbm *m, char **json)
{
    bst_ulong len = 0;
    const char *raw = NULL;
    unsigned char *z = NULL;
    size_t zlen = 0;
    char *enc = NULL;
    json_t *root = NULL;
    int rc;

    *json = NULL;
    if (!m)
        return SB_EINVAL;
    if (XGBoosterSaveModelToBuffer(m->bst, "{\"format\": \"ubj\"}", &len, &raw) ||
        len > GBM_MAX_MODEL_BYTES)
        return SB_EIO;
    if ((rc = deflate_bytes((const unsigned char *)raw, (size_t)len, &z, &zlen)))
        return rc;
    rc = SB_ENOMEM;
    if (!(enc = b64_encode(z, zlen)))
        goto out;
    uLong crc = crc32(0L, (const Bytef *)raw, (uInt)len);
    root = json_pack("{s:s,s:i,s:o,s:I,s:I,s:s}", "format", GBM_FORMAT, "version", GBM_VERSION,
                     "opts", opts_json(&m->o), "xgb_size", (json_int_t)len, "xgb_crc32",
                     (json_int_t)crc, "xgb_ubj_deflate", enc);
    if (root && (*json = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(17))))
        rc = 0;
out:
    free(z);
    free(enc);
    json_decref(root);
    return rc;
}

static int same_opts(const struct sb_gbm_opts *a, const struct sb_gbm_opts *b)
{
    return a->rounds == b->rounds && a->max_depth == b->max_depth && a->eta == b->eta &&
           a->subsample == b->subsample && a->colsample == b->colsample &&
           a->min_child_weight == b->min_child_weight && a->lambda == b->lambda &&
           a->max_bin == b->max_bin && a->max_horizon == b->max_horizon &&
           a->origin_stride == b->origin_stride &&
           a->horizons_per_origin == b->horizons_per_origin && a->stack_towt == b->stack_towt &&
           a->target == b->target;
}

static int read_opts(const json_t *j, struct sb_gbm_opts *o, char *err, size_t errlen)
{
    int stack = 0;
    json_error_t je;
    memset(o, 0, sizeof(*o));
    if (json_unpack_ex((json_t *)j, &je, JSON_STRICT,
                       "{s:i,s:i,s:F,s:F,s:F,s:F,s:F,s:i,s:i,s:i,s:i,s:b,s:i}", "rounds",
                       &o->rounds, "max_depth", &o->max_depth, "eta", &o->eta, "subsample",
                       &o->subsample, "colsample", &o->colsample, "min_child_weight",
                       &o->min_child_weight, "lambda", &o->lambda, "max_bin", &o->max_bin,
                       "max_horizon",
                       &o->max_horizon, "origin_stride", &o->origin_stride,
                       "horizons_per_origin", &o->horizons_per_origin, "stack_towt", &stack,
                       "target", &o->target)) {
        sb_errf(err, errlen, "gbm: bad \"opts\": %s", je.text);
        return SB_EINVAL;
    }
    o->stack_towt = stack;
    o->seed = 1;
    struct sb_gbm_opts chk;
    /* every option must be stated and in range: resolve() would quietly
     * turn a 0 into a default */
    if (resolve(o, &chk) || !same_opts(&chk, o)) {
        sb_errf(err, errlen, "gbm: \"opts\" out of range");
        return SB_EINVAL;
    }
    return 0;
}

/* Inflates z[zlen] into exactly size bytes (the declared size bounds the
 * output: no decompression bomb). */
static int inflate_bytes(const unsigned char *z, size_t zlen, size_t size, unsigned char **out)
{
    uLongf n = (uLongf)size;
    unsigned char *buf = malloc(size ? size : 1);
    if (!buf)
        return SB_ENOMEM;
    if (uncompress(buf, &n, z, (uLong)zlen) != Z_OK || n != (uLongf)size) {
        free(buf);
        return SB_ECORRUPT;
    }
    *out = buf;
    return 0;
}

/* Decodes, inflates and checks the embedded model bytes before XGBoost
 * sees them. */
static int read_model_bytes(const json_t *root, unsigned char **raw, size_t *len, char *err,
                            size_t errlen)
{
    const json_t *enc = json_object_get(root, "xgb_ubj_deflate");
    const json_t *crc = json_object_get(root, "xgb_crc32");
    const json_t *size = json_object_get(root, "xgb_size");
    unsigned char *z = NULL;
    size_t zlen = 0, n;
    int rc;

    if (!json_is_string(enc) || !json_is_integer(crc) || !json_is_integer(size) ||
        json_integer_value(size) < 1 || json_integer_value(size) > GBM_MAX_MODEL_BYTES) {
        sb_errf(err, errlen, "gbm: missing or bad \"xgb_ubj_deflate\", \"xgb_size\" or "
                "\"xgb_crc32\"");
        return SB_EINVAL;
    }
    n = json_string_length(enc);
    if (n > GBM_MAX_MODEL_BYTES / 3 * 4 || b64_decode(json_string_value(enc), n, &z, &zlen)) {
        sb_errf(err, errlen, "gbm: \"xgb_ubj_deflate\" is not valid base64");
        return SB_EINVAL;
    }
    *len = (size_t)json_integer_value(size);
    rc = inflate_bytes(z, zlen, *len, raw);
    free(z);
    if (rc) {
        sb_errf(err, errlen, "gbm: embedded model does not inflate to %zu bytes", *len);
        return rc;
    }
    if (crc32(0L, *raw, (uInt)*len) != (uLong)json_integer_value(crc)) {
        sb_errf(err, errlen, "gbm: embedded model fails its CRC-32");
        free(*raw);
        *raw = NULL;
        return SB_ECORRUPT;
    }
    return 0;
}

/* One prediction on a row of missing values: every tree is walked along
 * its default branches. */
static int probe(BoosterHandle b)
{
    float x[SB_GBM_NFEAT];
    DMatrixHandle dm = NULL;
    bst_ulong len = 0;
    const float *res = NULL;
    for (int i = 0; i < SB_GBM_NFEAT; i++)
        x[i] = NAN;
    int rc = XGDMatrixCreateFromMat_omp(x, 1, SB_GBM_NFEAT, NAN, &dm, 1) ||
             XGBoosterPredict(b, dm, 0, 0, 0, &len, &res) || len != 1 || !isfinite(res[0]);
    if (dm)
        XGDMatrixFree(dm);
    return rc;
}

static int make_booster(const unsigned char *raw, size_t len, BoosterHandle *out, char *err,
                        size_t errlen)
{
    BoosterHandle b = NULL;
    if (XGBoosterCreate(NULL, 0, &b) || XGBoosterLoadModelFromBuffer(b, raw, (bst_ulong)len) ||
        XGBoosterSetParam(b, "nthread", "1") || XGBoosterSetParam(b, "verbosity", "0")) {
        int rc = xgb_fail(err, errlen, "model load");
        if (b)
            XGBoosterFree(b);
        return rc == SB_EIO ? SB_ECORRUPT : rc;
    }
    bst_ulong nf = 0;
    if (XGBoosterGetNumFeature(b, &nf) || nf != SB_GBM_NFEAT) {
        sb_errf(err, errlen, "gbm: embedded model has %lu features, want %d", (unsigned long)nf,
                SB_GBM_NFEAT);
        XGBoosterFree(b);
        return SB_ECORRUPT;
    }
    if (probe(b)) {   /* a model that cannot predict is refused now, not at 02:00 */
        sb_errf(err, errlen, "gbm: embedded model fails a test prediction: %s",
                XGBGetLastError());
        XGBoosterFree(b);
        return SB_ECORRUPT;
    }
    *out = b;
    return 0;
}

int sb_gbm_load(const char *json, size_t len, struct sb_gbm **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = NULL;
    struct sb_gbm *m = NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int rc = SB_EINVAL;

    *out = NULL;
    if (!json || !(root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je))) {
        sb_errf(err, errlen, "gbm: bad JSON: %s", json ? je.text : "no input");
        goto out;
    }
    const json_t *f = json_object_get(root, "format"), *v = json_object_get(root, "version");
    if (!json_is_string(f) || strcmp(json_string_value(f), GBM_FORMAT) ||
        !json_is_integer(v) || json_integer_value(v) != GBM_VERSION) {
        sb_errf(err, errlen, "gbm: not a \"%s\" version %d model", GBM_FORMAT, GBM_VERSION);
        goto out;
    }
    if (!(m = calloc(1, sizeof(*m)))) {
        rc = SB_ENOMEM;
        goto out;
    }
    if ((rc = read_opts(json_object_get(root, "opts"), &m->o, err, errlen)) ||
        (rc = read_model_bytes(root, &raw, &rawlen, err, errlen)) ||
        (rc = make_booster(raw, rawlen, &m->bst, err, errlen)))
        goto out;
    *out = m;
    m = NULL;
out:
    free(raw);
    sb_gbm_free(m);
    json_decref(root);
    return rc;
}

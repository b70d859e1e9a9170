/* spb.c - Sparkplug B topics, payload checks, metric values and alias
 * definitions (see spb.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/mqtt/payload.h"
#include "drivers/mqtt/spb.h"
#include "store/sample.h"

#define T(x) ORG__ECLIPSE__TAHU__PROTOBUF__DATA_TYPE__##x
#define MV(x) ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE_##x
#define PV(x) ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__PROPERTY_VALUE__VALUE_##x

#define MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/* ---- topics ------------------------------------------------------------------------ */

static const struct { const char *name; enum sb_spb_mtype type; } mtypes[] = {
    { "NBIRTH", SB_SPB_NBIRTH }, { "NDEATH", SB_SPB_NDEATH }, { "NDATA", SB_SPB_NDATA },
    { "NCMD", SB_SPB_NCMD }, { "DBIRTH", SB_SPB_DBIRTH }, { "DDEATH", SB_SPB_DDEATH },
    { "DDATA", SB_SPB_DDATA }, { "DCMD", SB_SPB_DCMD },
};

static enum sb_spb_mtype mtype_of(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof(mtypes) / sizeof(mtypes[0]); i++)
        if (strlen(mtypes[i].name) == n && memcmp(mtypes[i].name, s, n) == 0)
            return mtypes[i].type;
    return SB_SPB_NONE;
}

/* Split topic at '/' into at most max levels; returns the count, or max+1
 * when there are more. */
static int split_levels(const char *topic, const char **lv, size_t *len, int max)
{
    int n = 0;
    const char *s = topic;
    for (;;) {
        const char *e = strchr(s, '/');
        if (n == max)
            return max + 1;
        lv[n] = s;
        len[n++] = e ? (size_t)(e - s) : strlen(s);
        if (!e)
            return n;
        s = e + 1;
    }
}

int sb_spb_topic_parse(const char *topic, struct sb_spb_topic *t)
{
    const char *lv[5];
    size_t len[5];
    int n = split_levels(topic, lv, len, 5);

    memset(t, 0, sizeof(*t));
    if (n < 4 || n > 5 || len[0] != strlen(SB_SPB_NS) || memcmp(lv[0], SB_SPB_NS, len[0]) != 0)
        return SB_EINVAL;
    enum sb_spb_mtype ty = mtype_of(lv[2], len[2]);
    int device = ty >= SB_SPB_DBIRTH;
    if (ty == SB_SPB_NONE || n != (device ? 5 : 4) || !len[1] || !len[3] || (device && !len[4]))
        return SB_EINVAL;
    *t = (struct sb_spb_topic){ .type = ty, .group = lv[1], .glen = len[1],
                                .node = lv[3], .nlen = len[3] };
    if (device) {
        t->device = lv[4];
        t->dlen = len[4];
    }
    return 0;
}

int sb_spb_data_topic(const struct sb_spb_topic *t, char *buf, size_t cap)
{
    int n;
    if (t->type == SB_SPB_NBIRTH)
        n = snprintf(buf, cap, SB_SPB_NS "/%.*s/NDATA/%.*s", (int)t->glen, t->group,
                     (int)t->nlen, t->node);
    else if (t->type == SB_SPB_DBIRTH)
        n = snprintf(buf, cap, SB_SPB_NS "/%.*s/DDATA/%.*s/%.*s", (int)t->glen, t->group,
                     (int)t->nlen, t->node, (int)t->dlen, t->device);
    else
        return SB_EINVAL;
    return n < 0 || (size_t)n >= cap ? SB_ENOSPC : 0;
}

int sb_spb_birth_filters(const char *filter, char out[2][SB_SPB_TOPIC_MAX])
{
    const char *lv[5];
    size_t len[5];
    int n = split_levels(filter, lv, len, 5), k = 0;

    if (n < 4 || n > 5 || len[0] != strlen(SB_SPB_NS) || memcmp(lv[0], SB_SPB_NS, len[0]) != 0)
        return 0;
    enum sb_spb_mtype ty = mtype_of(lv[2], len[2]);
    if (ty != SB_SPB_DDATA && ty != SB_SPB_NDATA)
        return 0;   /* a '+' or '#' there already matches the births */
    int r = snprintf(out[k], SB_SPB_TOPIC_MAX, SB_SPB_NS "/%.*s/NBIRTH/%.*s",
                     (int)len[1], lv[1], (int)len[3], lv[3]);
    if (r > 0 && r < SB_SPB_TOPIC_MAX)
        k++;
    if (ty == SB_SPB_DDATA) {
        r = snprintf(out[k], SB_SPB_TOPIC_MAX, SB_SPB_NS "/%.*s/DBIRTH/%s", (int)len[1], lv[1],
                     lv[3]);
        if (r > 0 && r < SB_SPB_TOPIC_MAX)
            k++;
    }
    return k;
}

/* ---- wire check -------------------------------------------------------------------- */

/* Protocol Buffers encoding: base-128 varints, at most 10 bytes
 * (https://protobuf.dev/programming-guides/encoding/). */
static int read_varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70 && *pos < end; shift += 7) {
        uint8_t c = b[(*pos)++];
        x |= (uint64_t)(c & 0x7f) << (shift < 64 ? shift : 0);
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return -1;
}

/* Skip one field's value of wire type wt, or enter it (*child) when it is
 * a nested message of desc.  Returns 0 or -1 (truncated/unknown type). */
static int skip_field(const uint8_t *b, size_t end, size_t *pos, uint64_t tag,
                      const ProtobufCMessageDescriptor *desc,
                      const ProtobufCMessageDescriptor **child, size_t *child_end)
{
    uint64_t v;
    *child = NULL;
    switch (tag & 7) {
    case 0:
        return read_varint(b, end, pos, &v);
    case 1:
    case 5: {
        size_t w = (tag & 7) == 1 ? 8 : 4;
        if (end - *pos < w)
            return -1;
        *pos += w;
        return 0;
    }
    case 2: {
        if (read_varint(b, end, pos, &v) || v > end - *pos)
            return -1;
        const ProtobufCFieldDescriptor *f =
            tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(tag >> 3)) : NULL;
        if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
            *child = f->descriptor;
            *child_end = *pos + (size_t)v;
        } else {
            *pos += (size_t)v;
        }
        return 0;
    }
    default:
        return -1;   /* groups (3, 4) are not used by Sparkplug; 6, 7 do not exist */
    }
}

int sb_spb_check(const uint8_t *buf, size_t len, const char **why)
{
    struct { const ProtobufCMessageDescriptor *d; size_t end; } st[SB_SPB_MAX_DEPTH];
    size_t pos = 0, msgs = 1;
    int top = 0;

    st[0].d = &org__eclipse__tahu__protobuf__payload__descriptor;
    st[0].end = len;
    for (;;) {
        while (top >= 0 && pos == st[top].end)
            top--;
        if (top < 0)
            return 0;
        uint64_t tag;
        const ProtobufCMessageDescriptor *child;
        size_t cend = 0;
        if (read_varint(buf, st[top].end, &pos, &tag) || (tag >> 3) == 0 ||
            skip_field(buf, st[top].end, &pos, tag, st[top].d, &child, &cend)) {
            *why = "malformed protobuf";
            return SB_EPROTO;
        }
        if (!child)
            continue;
        if (top + 1 >= SB_SPB_MAX_DEPTH || ++msgs > SB_SPB_MAX_MSGS) {
            *why = top + 1 >= SB_SPB_MAX_DEPTH ? "protobuf nested too deep" : "too many metrics";
            return SB_EPROTO;
        }
        st[++top].d = child;
        st[top].end = cend;
    }
}

int sb_spb_decode(const uint8_t *buf, size_t len, sb_spb_payload **out, const char **why)
{
    int rc = sb_spb_check(buf, len, why);
    if (rc)
        return rc;
    *out = org__eclipse__tahu__protobuf__payload__unpack(NULL, len, buf);
    if (!*out) {
        *why = "not a Sparkplug B payload";
        return SB_EPROTO;
    }
    return 0;
}

void sb_spb_free(sb_spb_payload *p)
{
    if (p)
        org__eclipse__tahu__protobuf__payload__free_unpacked(p, NULL);
}

/* ---- metric values ----------------------------------------------------------------- */

/* The two's-complement value of the low bits of x. */
static double sext(uint64_t x, int bits)
{
    uint64_t m = bits == 64 ? ~0ULL : (1ULL << bits) - 1, sign = 1ULL << (bits - 1);
    x &= m;
    return x & sign ? -(double)((~x & m) + 1) : (double)x;
}

static int int_value(uint32_t x, uint32_t type, double *v)
{
    switch (type) {
    case T(Int8):   *v = sext(x, 8); break;
    case T(Int16):  *v = sext(x, 16); break;
    case T(UInt8):  case T(UInt16): case T(UInt32): case T(UInt64):
                    *v = (double)x; break;
    case T(Boolean): *v = x != 0; break;
    default:        *v = sext(x, 32); break;   /* Int32, or not known */
    }
    return 0;
}

static int long_value(uint64_t x, uint32_t type, double *v)
{
    if (type == T(UInt64) || type == T(UInt32) || type == T(DateTime))
        *v = (double)x;
    else
        *v = sext(x, 64);
    return 0;
}

static int real_value(double x, double *v, const char **why)
{
    if (!isfinite(x)) {
        *why = "metric value is not finite";
        return SB_ENAN;
    }
    *v = x;
    return 0;
}

int sb_spb_metric_value(const sb_spb_metric *m, uint32_t type_hint, double *v,
                        const char **why)
{
    uint32_t type = m->has_datatype ? m->datatype : type_hint;

    if (m->has_is_null && m->is_null) {
        *why = "metric is null";
        return SB_ENOENT;
    }
    switch (m->value_case) {
    case MV(INT_VALUE):     return int_value(m->int_value, type, v);
    case MV(LONG_VALUE):    return long_value(m->long_value, type, v);
    case MV(FLOAT_VALUE):   return real_value(m->float_value, v, why);
    case MV(DOUBLE_VALUE):  return real_value(m->double_value, v, why);
    case MV(BOOLEAN_VALUE): *v = m->boolean_value ? 1 : 0; return 0;
    case MV(STRING_VALUE):
        return sb_mqtt_number_parse(m->string_value, strlen(m->string_value), v, why);
    case ORG__ECLIPSE__TAHU__PROTOBUF__PAYLOAD__METRIC__VALUE__NOT_SET:
        *why = "metric has no value";
        return SB_ENOENT;
    default:
        *why = "metric value is not numeric";
        return SB_EINVAL;
    }
}

uint16_t sb_spb_metric_quality(const sb_spb_metric *m)
{
    const Org__Eclipse__Tahu__Protobuf__Payload__PropertySet *ps = m->properties;
    size_t n = ps ? (ps->n_keys < ps->n_values ? ps->n_keys : ps->n_values) : 0;

    for (size_t i = 0; i < n; i++) {
        const Org__Eclipse__Tahu__Protobuf__Payload__PropertyValue *pv = ps->values[i];
        if (strcmp(ps->keys[i], "Quality") != 0 || !pv || pv->value_case != PV(INT_VALUE))
            continue;
        if (pv->int_value == 0)
            return SB_Q_FAULT;      /* BAD */
        if (pv->int_value == 500)
            return SB_Q_STALE;      /* STALE */
    }
    return 0;
}

int sb_spb_metric_time(const sb_spb_payload *p, const sb_spb_metric *m, int64_t *ms)
{
    uint64_t t = m->has_timestamp && m->timestamp ? m->timestamp
               : p->has_timestamp ? p->timestamp : 0;
    if (t > (uint64_t)MAX_MS)
        return SB_ERANGE;
    *ms = (int64_t)t;
    return 0;
}

/* ---- definitions learned from births ------------------------------------------------ */

#define EDGE_BUCKETS 1024

struct def {
    char *name;                 /* metric name (owned); NULL once superseded */
    uint64_t alias;             /* its alias, when has_alias */
    int has_alias;              /* the birth gave an alias */
    uint32_t type;              /* datatype, 0 = not given */
};

/* One edge node: "group/node" and the definitions of it and its devices
 * (aliases are unique per edge node, chapter 6 "Metric"). */
struct edge {
    char *key;                  /* "group/node" (owned) */
    struct def *defs;           /* definitions */
    size_t n, cap;              /* used, allocated */
    uint32_t *by_alias;         /* open-addressing index: defs index + 1, 0 = empty */
    uint32_t *by_name;          /* same, by name */
    size_t ixcap;               /* slots of each index, a power of two >= 2n */
    struct edge *next;          /* hash chain */
};

struct sb_spb_defs {
    struct edge *b[EDGE_BUCKETS];  /* edges hashed by key */
    size_t ndefs;               /* definitions held */
    size_t max_defs;            /* bound on ndefs */
};

/* FNV-1a, 64 bit. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 0x100000001b3ULL;
    return h;
}
#define FNV0 0xcbf29ce484222325ULL

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t edge_hash(const struct sb_spb_topic *t)
{
    return fnv(fnv(fnv(FNV0, t->group, t->glen), "/", 1), t->node, t->nlen);
}

static int edge_is(const struct edge *e, const struct sb_spb_topic *t)
{
    return strlen(e->key) == t->glen + 1 + t->nlen && memcmp(e->key, t->group, t->glen) == 0 &&
           e->key[t->glen] == '/' && memcmp(e->key + t->glen + 1, t->node, t->nlen) == 0;
}

static struct edge *edge_find(const struct sb_spb_defs *d, const struct sb_spb_topic *t)
{
    struct edge *e = d->b[edge_hash(t) % EDGE_BUCKETS];
    while (e && !edge_is(e, t))
        e = e->next;
    return e;
}

static struct edge *edge_get(struct sb_spb_defs *d, const struct sb_spb_topic *t)
{
    struct edge *e = edge_find(d, t);
    size_t b = edge_hash(t) % EDGE_BUCKETS;
    if (e)
        return e;
    if (!(e = calloc(1, sizeof(*e))) || asprintf(&e->key, "%.*s/%.*s", (int)t->glen, t->group,
                                                 (int)t->nlen, t->node) < 0) {
        free(e);
        return NULL;
    }
    e->next = d->b[b];
    d->b[b] = e;
    return e;
}

static void edge_clear(struct sb_spb_defs *d, struct edge *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->defs[i].name);
    d->ndefs -= e->n;
    e->n = 0;
}

static void ix_put(uint32_t *ix, size_t cap, uint64_t h, uint32_t val)
{
    size_t i = h & (cap - 1);
    while (ix[i])
        i = (i + 1) & (cap - 1);
    ix[i] = val;
}

static int edge_reindex(struct edge *e)
{
    size_t cap = 8;
    while (cap < 2 * e->n)
        cap *= 2;
    uint32_t *a = calloc(cap, sizeof(*a)), *n = calloc(cap, sizeof(*n));
    if (!a || !n) {
        free(a);
        free(n);
        return SB_ENOMEM;
    }
    for (size_t i = 0; i < e->n; i++) {
        if (e->defs[i].has_alias)
            ix_put(a, cap, mix64(e->defs[i].alias), (uint32_t)i + 1);
        if (e->defs[i].name)
            ix_put(n, cap, fnv(FNV0, e->defs[i].name, strlen(e->defs[i].name)), (uint32_t)i + 1);
    }
    free(e->by_alias);
    free(e->by_name);
    e->by_alias = a;
    e->by_name = n;
    e->ixcap = cap;
    return 0;
}

static struct def *by_alias(const struct edge *e, uint64_t alias)
{
    for (size_t i = mix64(alias) & (e->ixcap - 1); e->ixcap && e->by_alias[i];
         i = (i + 1) & (e->ixcap - 1))
        if (e->defs[e->by_alias[i] - 1].alias == alias)
            return &e->defs[e->by_alias[i] - 1];
    return NULL;
}

static struct def *by_name(const struct edge *e, const char *name)
{
    for (size_t i = fnv(FNV0, name, strlen(name)) & (e->ixcap - 1); e->ixcap && e->by_name[i];
         i = (i + 1) & (e->ixcap - 1))
        if (strcmp(e->defs[e->by_name[i] - 1].name, name) == 0)
            return &e->defs[e->by_name[i] - 1];
    return NULL;
}

/* Linear lookups for learn (the index is rebuilt after it). */
static struct def *find_def(struct edge *e, const sb_spb_metric *m)
{
    for (size_t i = 0; i < e->n; i++)
        if ((m->has_alias && e->defs[i].has_alias && e->defs[i].alias == m->alias) ||
            (e->defs[i].name && strcmp(e->defs[i].name, m->name) == 0))
            return &e->defs[i];
    return NULL;
}

static int learn_one(struct sb_spb_defs *d, struct edge *e, const sb_spb_metric *m,
                     struct def **dp)
{
    struct def *f = *dp;
    char *name = strdup(m->name);
    if (!name)
        return SB_ENOMEM;
    if (!f) {
        if (d->ndefs >= d->max_defs || e->n >= UINT32_MAX - 1) {
            free(name);
            return SB_ENOSPC;
        }
        if (e->n == e->cap) {
            size_t nc = e->cap ? e->cap * 2 : 16;
            struct def *nd = realloc(e->defs, nc * sizeof(*nd));
            if (!nd) {
                free(name);
                return SB_ENOMEM;
            }
            e->defs = nd;
            e->cap = nc;
        }
        f = &e->defs[e->n++];
        f->name = NULL;
        d->ndefs++;
    }
    free(f->name);
    *f = (struct def){ .name = name, .alias = m->alias, .has_alias = m->has_alias,
                       .type = m->has_datatype ? m->datatype : 0 };
    *dp = f;
    return 0;
}

int sb_spb_defs_learn(struct sb_spb_defs *d, const struct sb_spb_topic *t,
                      const sb_spb_payload *p)
{
    struct edge *e;
    int rc = 0;

    if (t->type != SB_SPB_NBIRTH && t->type != SB_SPB_DBIRTH)
        return SB_EINVAL;
    if (!(e = edge_get(d, t)))
        return SB_ENOMEM;
    if (t->type == SB_SPB_NBIRTH)
        edge_clear(d, e);
    for (size_t i = 0; i < p->n_metrics && rc == 0; i++) {
        const sb_spb_metric *m = p->metrics[i];
        if (!m->name)
            continue;   /* a birth must name every metric; nothing to learn */
        struct def *f = find_def(e, m);
        if (f && f->name && strcmp(f->name, m->name) != 0 && m->has_alias) {
            /* The alias moved to another name: the old name is gone. */
            struct def *g = NULL;
            for (size_t j = 0; j < e->n && !g; j++)
                if (e->defs[j].name && strcmp(e->defs[j].name, m->name) == 0)
                    g = &e->defs[j];
            if (g) {
                free(g->name);
                g->name = NULL;
                g->has_alias = 0;
            }
        }
        rc = learn_one(d, e, m, &f);
    }
    int rc2 = edge_reindex(e);
    return rc ? rc : rc2;
}

const char *sb_spb_defs_resolve(const struct sb_spb_defs *d, const struct sb_spb_topic *t,
                                const sb_spb_metric *m, uint32_t *type)
{
    const struct edge *e = d ? edge_find(d, t) : NULL;
    const struct def *f = NULL;
    const char *name = m->name;

    if (e && name)
        f = by_name(e, name);
    else if (e && m->has_alias)
        f = by_alias(e, m->alias);
    if (!name && f)
        name = f->name;
    *type = m->has_datatype ? m->datatype : f ? f->type : 0;
    return name;
}

int sb_spb_defs_new(size_t max_defs, struct sb_spb_defs **out)
{
    if (!(*out = calloc(1, sizeof(**out))))
        return SB_ENOMEM;
    (*out)->max_defs = max_defs;
    return 0;
}

void sb_spb_defs_free(struct sb_spb_defs *d)
{
    if (!d)
        return;
    for (size_t b = 0; b < EDGE_BUCKETS; b++)
        for (struct edge *e = d->b[b], *nx; e; e = nx) {
            nx = e->next;
            edge_clear(d, e);
            free(e->defs);
            free(e->by_alias);
            free(e->by_name);
            free(e->key);
            free(e);
        }
    free(d);
}

size_t sb_spb_defs_count(const struct sb_spb_defs *d)
{
    return d->ndefs;
}

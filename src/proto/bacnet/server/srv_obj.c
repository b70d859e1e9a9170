/*
 * srv_obj.c - the object database of a BACnet device: creation, lookup by
 * identifier (binary search over objects sorted by type and instance) and
 * by name, the owner's accessors, and freeing (ANSI/ASHRAE 135-2020,
 * clause 12: every object has a unique identifier and, within a device, a
 * unique Object_Name, clause 12.1.1.2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum {
    MAX_NAME = 255,                 /* longest Object_Name or text we store */
    DEF_MAX_OBJECTS = 4096, DEF_MAX_SUBS = 64, DEF_MAX_SEGS = 64,
    DEF_APDU = 1476, MIN_APDU = 50, DEF_TIMEOUT = 3000, DEF_RETRIES = 3,
    MAX_OFFSET_MIN = 1440, MAX_STATES = 255
};

static uint32_t key_of(struct sb_bac_oid oid)
{
    return ((uint32_t)oid.type << 22) | oid.instance;
}

static bool name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n >= 1 && n <= MAX_NAME;
}

static char *dup_opt(const char *s, bool *fail)
{
    char *d;

    if (!s)
        return NULL;
    if (strlen(s) > MAX_NAME || !(d = strdup(s))) {
        *fail = true;
        return NULL;
    }
    return d;
}

/* ---- lookup ---- */

size_t sb_bac_srv__index_of(const struct sb_bac_srv *s, uint32_t key)
{
    size_t lo = 0, hi = s->nobjs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->objs[mid]->key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Clause 15.5.1.1.1 (and 15.7, 15.9): a Device identifier with instance
 * 4194303 names the device that receives the request. */
srv_obj *sb_bac_srv__find(const struct sb_bac_srv *s, struct sb_bac_oid oid)
{
    size_t i;
    uint32_t key;

    if (oid.type == SB_BAC_OBJ_DEVICE && oid.instance == SB_BAC_MAX_INSTANCE)
        return s->dev;
    if (oid.type > 1023 || oid.instance > SB_BAC_MAX_INSTANCE)
        return NULL;
    key = key_of(oid);
    i = sb_bac_srv__index_of(s, key);
    return i < s->nobjs && s->objs[i]->key == key ? s->objs[i] : NULL;
}

/* Names compare as bytes: shorter first, then memcmp. */
static int name_cmp(const char *a, const char *b, size_t blen)
{
    size_t alen = strlen(a);
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static size_t name_index(const struct sb_bac_srv *s, const char *name, size_t len)
{
    size_t lo = 0, hi = s->nobjs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (name_cmp(s->by_name[mid]->name, name, len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

srv_obj *sb_bac_srv__find_name(const struct sb_bac_srv *s, const char *name, size_t len)
{
    size_t i = name_index(s, name, len);

    if (i < s->nobjs && name_cmp(s->by_name[i]->name, name, len) == 0)
        return s->by_name[i];
    return NULL;
}

int sb_bac_srv_find_name(const struct sb_bac_srv *s, const char *name, struct sb_bac_oid *out)
{
    srv_obj *o;

    if (!s || !name || !out)
        return SB_EINVAL;
    if (!(o = sb_bac_srv__find_name(s, name, strlen(name))))
        return SB_ENOENT;
    *out = o->oid;
    return 0;
}

struct sb_bac_oid sb_bac_srv_device(const struct sb_bac_srv *s)
{
    return s->dev->oid;
}

/* ---- insertion ---- */

static int grow(struct sb_bac_srv *s)
{
    size_t cap = s->cap ? s->cap * 2 : 16;
    srv_obj **a, **b;

    if (cap > s->max_objs)
        cap = s->max_objs;
    if (!(a = realloc(s->objs, cap * sizeof(*a))))
        return SB_ENOMEM;
    s->objs = a;
    if (!(b = realloc(s->by_name, cap * sizeof(*b))))
        return SB_ENOMEM;
    s->by_name = b;
    s->cap = cap;
    return 0;
}

static void insert_at(srv_obj **a, size_t n, size_t i, srv_obj *o)
{
    memmove(a + i + 1, a + i, (n - i) * sizeof(*a));
    a[i] = o;
}

/* Takes o into the database (and frees it on failure). */
int sb_bac_srv__insert(struct sb_bac_srv *s, srv_obj *o)
{
    size_t ki = sb_bac_srv__index_of(s, o->key);
    size_t ni = name_index(s, o->name, strlen(o->name));
    int rc = 0;

    if ((ki < s->nobjs && s->objs[ki]->key == o->key) ||
        (ni < s->nobjs && strcmp(s->by_name[ni]->name, o->name) == 0))
        rc = SB_EEXIST;
    else if (s->nobjs >= s->max_objs)
        rc = SB_ERANGE;
    else if (s->nobjs == s->cap)
        rc = grow(s);
    if (rc < 0) {
        sb_bac_srv__obj_free(o);
        return rc;
    }
    insert_at(s->objs, s->nobjs, ki, o);
    insert_at(s->by_name, s->nobjs, ni, o);
    s->nobjs++;
    s->db_rev++;   /* clause 12.11.35: an object was created */
    return 0;
}

srv_obj *sb_bac_srv__obj_new(struct sb_bac_oid oid, uint8_t fam, const char *name,
                             const char *desc)
{
    srv_obj *o;
    bool fail = false;

    if (!name_ok(name) || (desc && strlen(desc) > MAX_NAME) ||
        oid.instance >= SB_BAC_MAX_INSTANCE || !(o = calloc(1, sizeof(*o))))
        return NULL;
    o->oid = oid;
    o->key = key_of(oid);
    o->fam = fam;
    o->event_state = SB_BAC_ES_NORMAL;
    o->reliability = SRV_REL_NO_FAULT;
    o->name = dup_opt(name, &fail);
    o->desc = dup_opt(desc, &fail);
    if (fail) {
        sb_bac_srv__obj_free(o);
        return NULL;
    }
    return o;
}

void sb_bac_srv__blob_free(struct srv_blob *b)
{
    free(b->p);
    free(b->off);
    memset(b, 0, sizeof(*b));
}

void sb_bac_srv__obj_free(srv_obj *o)
{
    if (!o)
        return;
    free(o->name);
    free(o->desc);
    free(o->cmd);
    free(o->alarm);
    switch (o->fam) {
    case FAM_BINARY:
        free(o->u.bin.active);
        free(o->u.bin.inactive);
        break;
    case FAM_MULTI:
        for (uint32_t i = 0; o->u.ms.text && i < o->u.ms.nstates; i++)
            free(o->u.ms.text[i]);
        free(o->u.ms.text);
        break;
    case FAM_DEVICE: free(o->u.dev.location); break;
    case FAM_TREND: sb_bac_srv__trend_free(o->u.tl); break;
    case FAM_SCHED: sb_bac_srv__sched_free(o->u.sc); break;
    case FAM_CAL:   sb_bac_srv__cal_free(o->u.cal); break;
    default:        break;
    }
    free(o);
}

uint8_t sb_bac_srv__flags(const srv_obj *o)
{
    uint8_t f = 0;

    if (o->event_state != SB_BAC_ES_NORMAL)
        f |= 1;   /* in-alarm */
    if (o->reliability != SRV_REL_NO_FAULT)
        f |= 2;   /* fault */
    if (o->oos)
        f |= 8;   /* out-of-service; overridden (4) never: no local override */
    return f;
}

/* ---- the device ---- */

static int dev_strings(struct sb_bac_srv *s, const struct sb_bac_srv_cfg *c)
{
    bool fail = false;

    s->vendor_name = dup_opt(c->vendor_name ? c->vendor_name : "sbems", &fail);
    s->model_name = dup_opt(c->model_name ? c->model_name : "sbems", &fail);
    s->firmware = dup_opt(c->firmware ? c->firmware : "1.0", &fail);
    s->app_version = dup_opt(c->app_version ? c->app_version : "1.0", &fail);
    return fail ? SB_ENOMEM : 0;
}

static void dev_numbers(struct sb_bac_srv *s, const struct sb_bac_srv_cfg *c)
{
    s->vendor_id = c->vendor_id;
    s->max_apdu = c->max_apdu ? c->max_apdu : DEF_APDU;
    s->max_segs = c->max_segments ? c->max_segments : DEF_MAX_SEGS;
    s->apdu_timeout = c->apdu_timeout_ms ? c->apdu_timeout_ms : DEF_TIMEOUT;
    s->seg_timeout = c->segment_timeout_ms ? c->segment_timeout_ms : s->apdu_timeout;
    s->retries = c->apdu_retries == 0 ? DEF_RETRIES : c->apdu_retries < 0 ? 0 : (uint32_t)c->apdu_retries;
    s->utc_offset = c->utc_offset_min;
    s->max_objs = (c->max_objects ? c->max_objects : DEF_MAX_OBJECTS) + 1u;
    s->nsubs_max = c->max_cov_subs ? c->max_cov_subs : DEF_MAX_SUBS;
    s->db_rev = 0;
}

static bool cfg_ok(const struct sb_bac_srv_cfg *c)
{
    return c && c->instance < SB_BAC_MAX_INSTANCE && name_ok(c->name) &&
           (c->max_apdu == 0 || (c->max_apdu >= MIN_APDU && c->max_apdu <= DEF_APDU)) &&
           c->utc_offset_min >= -MAX_OFFSET_MIN && c->utc_offset_min <= MAX_OFFSET_MIN &&
           c->max_objects < SB_BAC_MAX_INSTANCE;
}

int sb_bac_srv_new(const struct sb_bac_srv_cfg *cfg, int64_t now_ms, struct sb_bac_srv **out)
{
    struct sb_bac_srv *s = NULL;
    srv_obj *dev;
    bool fail = false;
    int rc = SB_EINVAL;

    (void)now_ms;
    if (!out || !cfg_ok(cfg))
        goto out;
    rc = SB_ENOMEM;
    if (!(s = calloc(1, sizeof(*s))))
        goto out;
    dev_numbers(s, cfg);
    if (dev_strings(s, cfg) < 0 || !(s->subs = calloc(s->nsubs_max, sizeof(*s->subs))))
        goto out;
    dev = sb_bac_srv__obj_new((struct sb_bac_oid){ SB_BAC_OBJ_DEVICE, cfg->instance },
                              FAM_DEVICE, cfg->name, cfg->description);
    if (!dev)
        goto out;
    if (cfg->location && !(dev->u.dev.location = dup_opt(cfg->location, &fail))) {
        sb_bac_srv__obj_free(dev);
        goto out;
    }
    if ((rc = sb_bac_srv__insert(s, dev)) < 0)
        goto out;
    s->dev = dev;
    *out = s;
    return 0;
out:
    sb_bac_srv_free(s);
    return rc;
}

void sb_bac_srv_free(struct sb_bac_srv *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nobjs; i++)
        sb_bac_srv__obj_free(s->objs[i]);
    free(s->objs);
    free(s->by_name);
    free(s->subs);
    free(s->vendor_name);
    free(s->model_name);
    free(s->firmware);
    free(s->app_version);
    free(s);
}

/* ---- analog, binary and multi-state objects ---- */

static uint8_t family_of(uint16_t type, uint8_t *flags)
{
    switch (type) {
    case SB_BAC_OBJ_AI:  *flags = OF_INPUT;  return FAM_ANALOG;
    case SB_BAC_OBJ_AO:  *flags = OF_OUTPUT; return FAM_ANALOG;
    case SB_BAC_OBJ_AV:  *flags = 0;         return FAM_ANALOG;
    case SB_BAC_OBJ_BI:  *flags = OF_INPUT;  return FAM_BINARY;
    case SB_BAC_OBJ_BO:  *flags = OF_OUTPUT; return FAM_BINARY;
    case SB_BAC_OBJ_BV:  *flags = 0;         return FAM_BINARY;
    case SB_BAC_OBJ_MSI: *flags = OF_INPUT;  return FAM_MULTI;
    case SB_BAC_OBJ_MSO: *flags = OF_OUTPUT; return FAM_MULTI;
    case SB_BAC_OBJ_MSV: *flags = 0;         return FAM_MULTI;
    default:             *flags = 0;         return FAM_DEVICE;   /* not creatable */
    }
}

static bool obj_cfg_ok(const struct sb_bac_srv_obj_cfg *c, uint8_t fam, uint8_t flags)
{
    if (fam == FAM_DEVICE || !isfinite(c->initial))
        return false;
    if ((flags & OF_INPUT) && (c->flags & SB_BAC_SRV_COMMANDABLE))
        return false;   /* inputs have no priority array */
    if ((c->flags & SB_BAC_SRV_ALARM) && fam != FAM_ANALOG)
        return false;
    switch (fam) {
    case FAM_ANALOG:
        return isfinite(c->cov_increment) && c->cov_increment >= 0 &&
               (!(c->flags & SB_BAC_SRV_ALARM) ||
                (isfinite(c->high_limit) && isfinite(c->low_limit) &&
                 isfinite(c->deadband) && c->deadband >= 0 && c->limit_enable <= 3 &&
                 c->event_enable <= 7));
    case FAM_BINARY:
        return c->polarity <= 1 && !c->active_text == !c->inactive_text;
    default:
        return c->nstates >= 1 && c->nstates <= MAX_STATES;
    }
}

static int fill_family(srv_obj *o, const struct sb_bac_srv_obj_cfg *c)
{
    bool fail = false;

    switch (o->fam) {
    case FAM_ANALOG:
        o->u.an.units = c->units;
        o->u.an.cov_inc = c->cov_increment;
        break;
    case FAM_BINARY:
        o->u.bin.polarity = c->polarity;
        o->u.bin.active = dup_opt(c->active_text, &fail);
        o->u.bin.inactive = dup_opt(c->inactive_text, &fail);
        break;
    default:
        o->u.ms.nstates = c->nstates;
        if (!c->state_text)
            break;
        if (!(o->u.ms.text = calloc(c->nstates, sizeof(char *))))
            return SB_ENOMEM;
        for (uint32_t i = 0; i < c->nstates; i++)
            if (!c->state_text[i] || !(o->u.ms.text[i] = dup_opt(c->state_text[i], &fail)))
                fail = true;
    }
    return fail ? SB_ENOMEM : 0;
}

static int fill_alarm(srv_obj *o, const struct sb_bac_srv_obj_cfg *c)
{
    struct srv_alarm *a;

    if (!(c->flags & SB_BAC_SRV_ALARM))
        return 0;
    if (!(a = o->alarm = calloc(1, sizeof(*a))))
        return SB_ENOMEM;
    a->high = c->high_limit;
    a->low = c->low_limit;
    a->deadband = c->deadband;
    a->limit_enable = c->limit_enable;
    a->event_enable = c->event_enable;
    a->acked = SB_BAC_SRV_TO_OFFNORMAL | SB_BAC_SRV_TO_FAULT | SB_BAC_SRV_TO_NORMAL;
    a->priority = c->event_priority;
    a->notify_class = c->notification_class;
    for (int i = 0; i < 3; i++)
        sb_bac_srv__dt_unset(&a->stamps[i]);
    return 0;
}

int sb_bac_srv_add(struct sb_bac_srv *s, const struct sb_bac_srv_obj_cfg *c, int64_t now_ms)
{
    uint8_t flags, fam;
    srv_obj *o;
    int rc;

    if (!s || !c)
        return SB_EINVAL;
    fam = family_of(c->type, &flags);
    if (!obj_cfg_ok(c, fam, flags))
        return SB_EINVAL;
    if (!(o = sb_bac_srv__obj_new((struct sb_bac_oid){ c->type, c->instance }, fam,
                                  c->name, c->description)))
        return name_ok(c->name) && c->instance < SB_BAC_MAX_INSTANCE ? SB_ENOMEM : SB_EINVAL;
    o->flags = flags;
    if (!(flags & OF_INPUT))
        o->flags |= (uint8_t)(c->flags & (OF_COMMANDABLE | OF_WRITABLE));
    if (flags & OF_OUTPUT)
        o->flags |= OF_COMMANDABLE;   /* clause 12.3 etc.: outputs are commandable */
    if ((rc = fill_family(o, c)) < 0 || (rc = fill_alarm(o, c)) < 0)
        goto fail;
    if (sb_bac_srv__pv_from_double(o, c->initial, &o->pv) < 0) {
        rc = SB_EINVAL;   /* binary not 0/1, multi-state outside 1..N */
        goto fail;
    }
    o->phys = o->pv;
    if ((o->flags & OF_COMMANDABLE) && !(o->cmd = calloc(1, sizeof(*o->cmd)))) {
        rc = SB_ENOMEM;
        goto fail;
    }
    if (o->cmd)
        o->cmd->relinquish = o->pv;
    if ((rc = sb_bac_srv__insert(s, o)) < 0)
        return rc;
    if (o->alarm)
        sb_bac_srv__alarm_eval(s, o, now_ms);
    return 0;
fail:
    sb_bac_srv__obj_free(o);
    return rc;
}

/* ---- the owner's accessors ---- */

static srv_obj *value_obj(const struct sb_bac_srv *s, struct sb_bac_oid oid, int *rc)
{
    srv_obj *o = s ? sb_bac_srv__find(s, oid) : NULL;

    *rc = 0;
    if (!o)
        *rc = s ? SB_ENOENT : SB_EINVAL;
    else if (o->fam != FAM_ANALOG && o->fam != FAM_BINARY && o->fam != FAM_MULTI)
        *rc = SB_EINVAL;
    return *rc ? NULL : o;
}

int sb_bac_srv_set_pv(struct sb_bac_srv *s, struct sb_bac_oid oid, double v, int64_t now_ms)
{
    union srv_pv pv;
    srv_obj *o;
    int rc;

    if (!(o = value_obj(s, oid, &rc)))
        return rc;
    if ((rc = sb_bac_srv__pv_from_double(o, v, &pv)) < 0)
        return rc;
    if (o->cmd) {
        o->cmd->relinquish = pv;
        sb_bac_srv__rearbitrate(s, o, now_ms);
        return 0;
    }
    o->phys = pv;
    if ((o->flags & OF_INPUT) && o->oos)
        return 0;   /* clause 12.2.13: decoupled from the input */
    o->pv = pv;
    sb_bac_srv__changed(s, o, now_ms);
    return 0;
}

int sb_bac_srv_command(struct sb_bac_srv *s, struct sb_bac_oid oid, uint8_t priority,
                       bool relinquish, double v, int64_t now_ms)
{
    union srv_pv pv = { 0 };
    srv_obj *o;
    int rc;

    if (!(o = value_obj(s, oid, &rc)))
        return rc;
    if (!o->cmd || priority < 1 || priority > SRV_NPRIO)
        return SB_EINVAL;
    if (!relinquish && (rc = sb_bac_srv__pv_from_double(o, v, &pv)) < 0)
        return rc;
    sb_bac_srv__command(s, o, priority, relinquish, pv, now_ms);
    return 0;
}

int sb_bac_srv_get_pv(const struct sb_bac_srv *s, struct sb_bac_oid oid, double *v)
{
    srv_obj *o;
    int rc;

    if (!v || !(o = value_obj(s, oid, &rc)))
        return v ? rc : SB_EINVAL;
    *v = sb_bac_srv__pv_to_double(o, o->pv);
    return 0;
}

int sb_bac_srv_get_cmd(const struct sb_bac_srv *s, struct sb_bac_oid oid,
                       struct sb_bac_srv_cmd *out)
{
    srv_obj *o;
    int rc;

    if (!out || !(o = value_obj(s, oid, &rc)))
        return out ? rc : SB_EINVAL;
    if (!o->cmd)
        return SB_EINVAL;
    memset(out, 0, sizeof(*out));
    out->active = o->cmd->active;
    for (int p = 0; p < SRV_NPRIO; p++)
        if (o->cmd->active & (1u << p))
            out->slot[p] = sb_bac_srv__pv_to_double(o, o->cmd->slot[p]);
    out->relinquish_default = sb_bac_srv__pv_to_double(o, o->cmd->relinquish);
    out->current = sb_bac_srv__current_prio(o);
    return 0;
}

int sb_bac_srv_set_reliability(struct sb_bac_srv *s, struct sb_bac_oid oid,
                               uint32_t reliability, int64_t now_ms)
{
    srv_obj *o = s ? sb_bac_srv__find(s, oid) : NULL;

    if (!o)
        return s ? SB_ENOENT : SB_EINVAL;
    if (o->fam == FAM_DEVICE || o->fam == FAM_CAL)
        return SB_EINVAL;   /* no Reliability property there */
    o->reliability = reliability;
    sb_bac_srv__changed(s, o, now_ms);
    return 0;
}

int sb_bac_srv_get_status(const struct sb_bac_srv *s, struct sb_bac_oid oid,
                          uint32_t *event_state, uint8_t *status_flags)
{
    srv_obj *o = s ? sb_bac_srv__find(s, oid) : NULL;

    if (!o)
        return s ? SB_ENOENT : SB_EINVAL;
    if (event_state)
        *event_state = o->event_state;
    if (status_flags)
        *status_flags = sb_bac_srv__flags(o);
    return 0;
}

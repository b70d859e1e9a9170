/*
 * srv_prop.c - which properties each object type has, and reading them
 * (ANSI/ASHRAE 135-2020, clause 12: the Device object 12.11, Analog
 * Input/Output/Value 12.2-12.4, Binary 12.6-12.8, Multi-state 12.18-12.20;
 * Property_List 12.1.1.4.1; arrays, clause 12: index 0 is the size).
 *
 * One table per family lists the properties in the order ALL returns
 * them; a condition flag hides the ones an object does not have (no
 * Description given, not commandable, no intrinsic reporting...).  The
 * table is the single source of truth: a property is readable here if and
 * only if the table shows it, and Property_List is built from it.
 */
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

enum {
    P_REQ = 1 << 0,     /* required (for REQUIRED / OPTIONAL in RPM) */
    P_ARR = 1 << 1,     /* a BACnetARRAY: takes an array index */
    C_DESC = 1 << 2,    /* only with a Description */
    C_CMD = 1 << 3,     /* only when commandable */
    C_ALARM = 1 << 4,   /* only with intrinsic reporting */
    C_TEXT = 1 << 5,    /* only with Active/Inactive_Text or State_Text */
    C_LOC = 1 << 6,     /* only with a Location (Device) */
    C_POL = 1 << 7      /* binary inputs and outputs (not values) */
};

/* Ends a table: property identifier 0 (Acked_Transitions) is real. */
#define END UINT32_MAX

struct pdef {
    uint32_t id;        /* property identifier, END closes the table */
    uint8_t f;          /* P_* and C_* */
};

#define HEAD { SB_BAC_P_OBJECT_IDENTIFIER, P_REQ }, { SB_BAC_P_OBJECT_NAME, P_REQ }, \
             { SB_BAC_P_OBJECT_TYPE, P_REQ }, { SB_BAC_P_DESCRIPTION, C_DESC }
#define STATUS { SB_BAC_P_STATUS_FLAGS, P_REQ }, { SB_BAC_P_EVENT_STATE, P_REQ }, \
               { SB_BAC_P_RELIABILITY, 0 }, { SB_BAC_P_OUT_OF_SERVICE, P_REQ }
#define CMD { SB_BAC_P_PRIORITY_ARRAY, P_REQ | P_ARR | C_CMD }, \
            { SB_BAC_P_RELINQUISH_DEFAULT, P_REQ | C_CMD }, \
            { SB_BAC_P_CURRENT_COMMAND_PRIORITY, P_REQ | C_CMD }
#define TAIL { SB_BAC_P_PROPERTY_LIST, P_REQ | P_ARR }, { END, 0 }

static const struct pdef analog_props[] = {
    HEAD, { SB_BAC_P_PRESENT_VALUE, P_REQ }, STATUS, { SB_BAC_P_UNITS, P_REQ },
    { SB_BAC_P_COV_INCREMENT, 0 }, CMD,
    { SB_BAC_P_TIME_DELAY, C_ALARM }, { SB_BAC_P_NOTIFICATION_CLASS, C_ALARM },
    { SB_BAC_P_HIGH_LIMIT, C_ALARM }, { SB_BAC_P_LOW_LIMIT, C_ALARM },
    { SB_BAC_P_DEADBAND, C_ALARM }, { SB_BAC_P_LIMIT_ENABLE, C_ALARM },
    { SB_BAC_P_EVENT_ENABLE, C_ALARM }, { SB_BAC_P_ACKED_TRANSITIONS, C_ALARM },
    { SB_BAC_P_NOTIFY_TYPE, C_ALARM }, { SB_BAC_P_EVENT_TIME_STAMPS, C_ALARM | P_ARR },
    { SRV_P_EVENT_DETECTION_ENABLE, C_ALARM }, TAIL
};

static const struct pdef binary_props[] = {
    HEAD, { SB_BAC_P_PRESENT_VALUE, P_REQ }, STATUS, { SB_BAC_P_POLARITY, P_REQ | C_POL },
    { SB_BAC_P_INACTIVE_TEXT, C_TEXT }, { SB_BAC_P_ACTIVE_TEXT, C_TEXT }, CMD, TAIL
};

static const struct pdef multi_props[] = {
    HEAD, { SB_BAC_P_PRESENT_VALUE, P_REQ }, STATUS, { SB_BAC_P_NUMBER_OF_STATES, P_REQ },
    { SB_BAC_P_STATE_TEXT, C_TEXT | P_ARR }, CMD, TAIL
};

static const struct pdef device_props[] = {
    HEAD, { SB_BAC_P_SYSTEM_STATUS, P_REQ }, { SB_BAC_P_VENDOR_NAME, P_REQ },
    { SB_BAC_P_VENDOR_IDENTIFIER, P_REQ }, { SB_BAC_P_MODEL_NAME, P_REQ },
    { SB_BAC_P_FIRMWARE_REVISION, P_REQ }, { SB_BAC_P_APPLICATION_SOFTWARE_VERSION, P_REQ },
    { SB_BAC_P_LOCATION, C_LOC }, { SB_BAC_P_PROTOCOL_VERSION, P_REQ },
    { SB_BAC_P_PROTOCOL_REVISION, P_REQ }, { SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED, P_REQ },
    { SB_BAC_P_PROTOCOL_OBJECT_TYPES_SUPPORTED, P_REQ },
    { SB_BAC_P_OBJECT_LIST, P_REQ | P_ARR }, { SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED, P_REQ },
    { SB_BAC_P_SEGMENTATION_SUPPORTED, P_REQ },
    /* required when segmentation is supported (clause 12.11.19/.20) */
    { SB_BAC_P_MAX_SEGMENTS_ACCEPTED, P_REQ }, { SB_BAC_P_APDU_SEGMENT_TIMEOUT, P_REQ },
    { SB_BAC_P_APDU_TIMEOUT, P_REQ }, { SB_BAC_P_NUMBER_OF_APDU_RETRIES, P_REQ },
    { SB_BAC_P_DEVICE_ADDRESS_BINDING, P_REQ }, { SB_BAC_P_DATABASE_REVISION, P_REQ },
    { SB_BAC_P_LOCAL_DATE, 0 }, { SB_BAC_P_LOCAL_TIME, 0 }, { SB_BAC_P_UTC_OFFSET, 0 },
    TAIL
};

static const struct pdef trend_props[] = {
    HEAD, { SB_BAC_P_ENABLE, P_REQ }, { SB_BAC_P_STOP_WHEN_FULL, P_REQ },
    { SB_BAC_P_BUFFER_SIZE, P_REQ }, { SB_BAC_P_LOG_BUFFER, P_REQ },
    { SB_BAC_P_RECORD_COUNT, P_REQ }, { SB_BAC_P_TOTAL_RECORD_COUNT, P_REQ },
    { SB_BAC_P_LOGGING_TYPE, P_REQ }, { SB_BAC_P_LOG_INTERVAL, 0 },
    { SB_BAC_P_LOG_DEVICE_OBJECT_PROPERTY, 0 }, { SB_BAC_P_STATUS_FLAGS, P_REQ },
    { SB_BAC_P_EVENT_STATE, P_REQ }, { SB_BAC_P_RELIABILITY, 0 }, TAIL
};

static const struct pdef sched_props[] = {
    HEAD, { SB_BAC_P_PRESENT_VALUE, P_REQ }, { SB_BAC_P_EFFECTIVE_PERIOD, P_REQ },
    { SB_BAC_P_WEEKLY_SCHEDULE, P_ARR }, { SB_BAC_P_EXCEPTION_SCHEDULE, P_ARR },
    { SB_BAC_P_SCHEDULE_DEFAULT, P_REQ },
    { SB_BAC_P_LIST_OF_OBJECT_PROPERTY_REFERENCES, P_REQ },
    { SB_BAC_P_PRIORITY_FOR_WRITING, P_REQ }, { SB_BAC_P_STATUS_FLAGS, P_REQ },
    { SB_BAC_P_RELIABILITY, P_REQ }, { SB_BAC_P_OUT_OF_SERVICE, P_REQ },
    { SB_BAC_P_EVENT_STATE, 0 }, TAIL
};

static const struct pdef cal_props[] = {
    HEAD, { SB_BAC_P_PRESENT_VALUE, P_REQ }, { SB_BAC_P_DATE_LIST, P_REQ }, TAIL
};

static const struct pdef *table_of(const srv_obj *o)
{
    switch (o->fam) {
    case FAM_ANALOG: return analog_props;
    case FAM_BINARY: return binary_props;
    case FAM_MULTI:  return multi_props;
    case FAM_TREND:  return trend_props;
    case FAM_SCHED:  return sched_props;
    case FAM_CAL:    return cal_props;
    default:         return device_props;
    }
}

static bool has_text(const srv_obj *o)
{
    return o->fam == FAM_BINARY ? o->u.bin.active != NULL : o->u.ms.text != NULL;
}

static bool present(const srv_obj *o, uint8_t f)
{
    if ((f & C_DESC) && !o->desc)
        return false;
    if ((f & C_CMD) && !o->cmd)
        return false;
    if ((f & C_ALARM) && !o->alarm)
        return false;
    if ((f & C_TEXT) && !has_text(o))
        return false;
    if ((f & C_POL) && o->oid.type == SB_BAC_OBJ_BV)
        return false;
    if ((f & C_LOC) && !o->u.dev.location)
        return false;
    return true;
}

/* The table entry of prop if the object has it. */
static const struct pdef *lookup(const srv_obj *o, uint32_t prop)
{
    for (const struct pdef *d = table_of(o); d->id != END; d++)
        if (d->id == prop)
            return present(o, d->f) ? d : NULL;
    return NULL;
}

bool sb_bac_srv__has_prop(const srv_obj *o, uint32_t prop)
{
    return lookup(o, prop) != NULL;
}

size_t sb_bac_srv__prop_ids(const srv_obj *o, int which, uint32_t *ids, size_t max)
{
    size_t n = 0;

    for (const struct pdef *d = table_of(o); d->id != END; d++) {
        if (!present(o, d->f))
            continue;
        if ((which == SRV_LIST_REQUIRED && !(d->f & P_REQ)) ||
            (which == SRV_LIST_OPTIONAL && (d->f & P_REQ)))
            continue;
        if (n < max)
            ids[n] = d->id;
        n++;
    }
    return n;
}

int sb_bac_srv__array(struct sb_bac_srv *s, const srv_obj *o, uint32_t n, bool has_index,
                      uint32_t index, srv_elem_fn elem, struct srv_w *w)
{
    if (!has_index) {
        for (uint32_t i = 0; i < n && !w->err; i++)
            elem(s, o, i, w);
        return 0;
    }
    if (index == 0) {
        sb_bac_srv__w_uint(w, n);
        return 0;
    }
    if (index > n)
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX);
    elem(s, o, index - 1, w);
    return 0;
}

/* ---- array elements ---- */

static void elem_object(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    (void)o;
    sb_bac_srv__w_oid(w, s->objs[i]->oid);
}

static void elem_prio(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    (void)s;
    if (o->cmd->active & (1u << i))
        sb_bac_srv__w_pv(w, o, o->cmd->slot[i]);
    else
        sb_bac_srv__w_null(w);
}

static void elem_state_text(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    (void)s;
    sb_bac_srv__w_str(w, o->u.ms.text[i]);
}

static void elem_stamp(struct sb_bac_srv *s, const srv_obj *o, uint32_t i, struct srv_w *w)
{
    (void)s;
    sb_bac_srv__w_stamp(w, &o->alarm->stamps[i]);
}

/* Clause 12.1.1.4.1: every property but Object_Identifier, Object_Name,
 * Object_Type and Property_List itself. */
static int read_property_list(const srv_obj *o, bool has_index, uint32_t index,
                              struct srv_w *w)
{
    uint32_t ids[64], n = 0;
    size_t all = sb_bac_srv__prop_ids(o, SRV_LIST_ALL, ids, 64);

    for (size_t i = 0; i < all && i < 64; i++)
        if (ids[i] != SB_BAC_P_OBJECT_IDENTIFIER && ids[i] != SB_BAC_P_OBJECT_NAME &&
            ids[i] != SB_BAC_P_OBJECT_TYPE && ids[i] != SB_BAC_P_PROPERTY_LIST)
            ids[n++] = ids[i];
    if (has_index && index == 0)
        sb_bac_srv__w_uint(w, n);
    else if (has_index && index > n)
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_INVALID_ARRAY_INDEX);
    else if (has_index)
        sb_bac_srv__w_enum(w, ids[index - 1]);
    else
        for (uint32_t i = 0; i < n; i++)
            sb_bac_srv__w_enum(w, ids[i]);
    return 0;
}

/* ---- the Device object, clause 12.11 ---- */

/* BACnetServicesSupported bits of the services this handler executes
 * (clause 12.11.12: execution, the server side; I-Am and I-Have are only
 * initiated, so their bits stay clear). */
static void services_bits(uint8_t out[7])
{
    static const uint8_t bits[] = {
        0,  /* acknowledgeAlarm */      5,  /* subscribeCOV */
        12, /* readProperty */          14, /* readPropertyMultiple */
        15, /* writeProperty */         16, /* writePropertyMultiple */
        32, /* timeSynchronization */   33, /* who-Has */
        34, /* who-Is */                35, /* readRange */
        36, /* utcTimeSynchronization */ 39  /* getEventInformation */
    };

    memset(out, 0, 7);
    for (size_t i = 0; i < sizeof(bits); i++)
        out[bits[i] / 8] |= (uint8_t)(0x80u >> (bits[i] % 8));
}

static void objtypes_bits(uint8_t out[8])
{
    static const uint8_t types[] = {
        SB_BAC_OBJ_AI, SB_BAC_OBJ_AO, SB_BAC_OBJ_AV, SB_BAC_OBJ_BI, SB_BAC_OBJ_BO,
        SB_BAC_OBJ_BV, SB_BAC_OBJ_CALENDAR, SB_BAC_OBJ_DEVICE, SB_BAC_OBJ_MSI,
        SB_BAC_OBJ_MSO, SB_BAC_OBJ_SCHEDULE, SB_BAC_OBJ_MSV, SB_BAC_OBJ_TREND_LOG
    };

    memset(out, 0, 8);
    for (size_t i = 0; i < sizeof(types); i++)
        out[types[i] / 8] |= (uint8_t)(0x80u >> (types[i] % 8));
}

static int read_device_clock(struct sb_bac_srv *s, uint32_t prop, int64_t now_ms,
                             struct srv_w *w)
{
    struct sb_bac_datetime dt;

    if (sb_bac_srv__now_local(s, now_ms, &dt) < 0)
        sb_bac_srv__dt_unset(&dt);   /* a clock outside 1900..2154 */
    if (prop == SB_BAC_P_LOCAL_DATE)
        sb_bac_srv__w_date(w, dt.date);
    else
        sb_bac_srv__w_time(w, dt.time);
    return 0;
}

static int read_device(struct sb_bac_srv *s, uint32_t prop, bool has_index, uint32_t index,
                       int64_t now_ms, struct srv_w *w)
{
    uint8_t bits[8];

    switch (prop) {
    case SB_BAC_P_SYSTEM_STATUS:      sb_bac_srv__w_enum(w, SRV_SYSTEM_STATUS_OPERATIONAL); break;
    case SB_BAC_P_VENDOR_NAME:        sb_bac_srv__w_str(w, s->vendor_name); break;
    case SB_BAC_P_VENDOR_IDENTIFIER:  sb_bac_srv__w_uint(w, s->vendor_id); break;
    case SB_BAC_P_MODEL_NAME:         sb_bac_srv__w_str(w, s->model_name); break;
    case SB_BAC_P_FIRMWARE_REVISION:  sb_bac_srv__w_str(w, s->firmware); break;
    case SB_BAC_P_APPLICATION_SOFTWARE_VERSION: sb_bac_srv__w_str(w, s->app_version); break;
    case SB_BAC_P_LOCATION:           sb_bac_srv__w_str(w, s->dev->u.dev.location); break;
    case SB_BAC_P_PROTOCOL_VERSION:   sb_bac_srv__w_uint(w, 1); break;
    case SB_BAC_P_PROTOCOL_REVISION:  sb_bac_srv__w_uint(w, SRV_PROTOCOL_REVISION); break;
    case SB_BAC_P_PROTOCOL_SERVICES_SUPPORTED:
        services_bits(bits);
        sb_bac_srv__w_bits(w, bits, SRV_SERVICES_BITS);
        break;
    case SB_BAC_P_PROTOCOL_OBJECT_TYPES_SUPPORTED:
        objtypes_bits(bits);
        sb_bac_srv__w_bits(w, bits, SRV_OBJTYPES_BITS);
        break;
    case SB_BAC_P_OBJECT_LIST:
        return sb_bac_srv__array(s, s->dev, (uint32_t)s->nobjs, has_index, index,
                                 elem_object, w);
    case SB_BAC_P_MAX_APDU_LENGTH_ACCEPTED: sb_bac_srv__w_uint(w, s->max_apdu); break;
    case SB_BAC_P_SEGMENTATION_SUPPORTED:   sb_bac_srv__w_enum(w, SB_BAC_SEG_BOTH); break;
    case SB_BAC_P_MAX_SEGMENTS_ACCEPTED:    sb_bac_srv__w_uint(w, s->max_segs); break;
    case SB_BAC_P_APDU_SEGMENT_TIMEOUT:     sb_bac_srv__w_uint(w, s->seg_timeout); break;
    case SB_BAC_P_APDU_TIMEOUT:             sb_bac_srv__w_uint(w, s->apdu_timeout); break;
    case SB_BAC_P_NUMBER_OF_APDU_RETRIES:   sb_bac_srv__w_uint(w, s->retries); break;
    case SB_BAC_P_DEVICE_ADDRESS_BINDING:   break;   /* an empty list */
    case SB_BAC_P_DATABASE_REVISION:        sb_bac_srv__w_uint(w, s->db_rev); break;
    case SB_BAC_P_UTC_OFFSET:               sb_bac_srv__w_sint(w, s->utc_offset); break;
    default:
        return read_device_clock(s, prop, now_ms, w);   /* Local_Date, Local_Time */
    }
    return 0;
}

/* ---- analog, binary, multi-state ---- */

static int read_alarm(struct sb_bac_srv *s, const srv_obj *o, uint32_t prop, bool has_index,
                      uint32_t index, struct srv_w *w)
{
    const struct srv_alarm *a = o->alarm;

    switch (prop) {
    case SB_BAC_P_TIME_DELAY:         sb_bac_srv__w_uint(w, a->time_delay); break;
    case SB_BAC_P_NOTIFICATION_CLASS: sb_bac_srv__w_uint(w, a->notify_class); break;
    case SB_BAC_P_HIGH_LIMIT:         sb_bac_srv__w_real(w, a->high); break;
    case SB_BAC_P_LOW_LIMIT:          sb_bac_srv__w_real(w, a->low); break;
    case SB_BAC_P_DEADBAND:           sb_bac_srv__w_real(w, a->deadband); break;
    case SB_BAC_P_LIMIT_ENABLE:       sb_bac_srv__w_bits8(w, a->limit_enable, 2); break;
    case SB_BAC_P_EVENT_ENABLE:       sb_bac_srv__w_bits8(w, a->event_enable, 3); break;
    case SB_BAC_P_ACKED_TRANSITIONS:  sb_bac_srv__w_bits8(w, a->acked, 3); break;
    case SB_BAC_P_NOTIFY_TYPE:        sb_bac_srv__w_enum(w, a->notify_type); break;
    case SB_BAC_P_EVENT_TIME_STAMPS:
        return sb_bac_srv__array(s, o, 3, has_index, index, elem_stamp, w);
    default:                          sb_bac_srv__w_bool(w, true); break;   /* detection */
    }
    return 0;
}

static int read_value(struct sb_bac_srv *s, const srv_obj *o, uint32_t prop, bool has_index,
                      uint32_t index, struct srv_w *w)
{
    uint8_t p;

    switch (prop) {
    case SB_BAC_P_PRESENT_VALUE:      sb_bac_srv__w_pv(w, o, o->pv); break;
    case SB_BAC_P_UNITS:              sb_bac_srv__w_enum(w, o->u.an.units); break;
    case SB_BAC_P_COV_INCREMENT:      sb_bac_srv__w_real(w, o->u.an.cov_inc); break;
    case SB_BAC_P_POLARITY:           sb_bac_srv__w_enum(w, o->u.bin.polarity); break;
    case SB_BAC_P_ACTIVE_TEXT:        sb_bac_srv__w_str(w, o->u.bin.active); break;
    case SB_BAC_P_INACTIVE_TEXT:      sb_bac_srv__w_str(w, o->u.bin.inactive); break;
    case SB_BAC_P_NUMBER_OF_STATES:   sb_bac_srv__w_uint(w, o->u.ms.nstates); break;
    case SB_BAC_P_STATE_TEXT:
        return sb_bac_srv__array(s, o, o->u.ms.nstates, has_index, index, elem_state_text, w);
    case SB_BAC_P_PRIORITY_ARRAY:
        return sb_bac_srv__array(s, o, SRV_NPRIO, has_index, index, elem_prio, w);
    case SB_BAC_P_RELINQUISH_DEFAULT: sb_bac_srv__w_pv(w, o, o->cmd->relinquish); break;
    case SB_BAC_P_CURRENT_COMMAND_PRIORITY:
        /* BACnetOptionalUnsigned: NULL while Relinquish_Default rules */
        if ((p = sb_bac_srv__current_prio(o)) != 0)
            sb_bac_srv__w_uint(w, p);
        else
            sb_bac_srv__w_null(w);
        break;
    default:
        return read_alarm(s, o, prop, has_index, index, w);
    }
    return 0;
}

/* Properties every family shares. */
static bool read_common(const srv_obj *o, uint32_t prop, struct srv_w *w)
{
    switch (prop) {
    case SB_BAC_P_OBJECT_IDENTIFIER: sb_bac_srv__w_oid(w, o->oid); return true;
    case SB_BAC_P_OBJECT_NAME:       sb_bac_srv__w_str(w, o->name); return true;
    case SB_BAC_P_OBJECT_TYPE:       sb_bac_srv__w_enum(w, o->oid.type); return true;
    case SB_BAC_P_DESCRIPTION:       sb_bac_srv__w_str(w, o->desc); return true;
    case SB_BAC_P_STATUS_FLAGS:      sb_bac_srv__w_bits8(w, sb_bac_srv__flags(o), 4); return true;
    case SB_BAC_P_EVENT_STATE:       sb_bac_srv__w_enum(w, o->event_state); return true;
    case SB_BAC_P_RELIABILITY:       sb_bac_srv__w_enum(w, o->reliability); return true;
    case SB_BAC_P_OUT_OF_SERVICE:    sb_bac_srv__w_bool(w, o->oos); return true;
    default:                         return false;
    }
}

int sb_bac_srv__read(struct sb_bac_srv *s, srv_obj *o, uint32_t prop, bool has_index,
                     uint32_t index, int64_t now_ms, struct srv_w *w)
{
    const struct pdef *d = lookup(o, prop);

    if (!d)
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_UNKNOWN_PROPERTY);
    if (has_index && !(d->f & P_ARR))
        return SRV_ERR(SB_BAC_EC_PROPERTY, SB_BAC_ERR_PROPERTY_IS_NOT_AN_ARRAY);
    if (prop == SB_BAC_P_PROPERTY_LIST)
        return read_property_list(o, has_index, index, w);
    if (read_common(o, prop, w))
        return 0;
    switch (o->fam) {
    case FAM_DEVICE: return read_device(s, prop, has_index, index, now_ms, w);
    case FAM_TREND:  return sb_bac_srv__trend_read(s, o, prop, w);
    case FAM_SCHED:
    case FAM_CAL:    return sb_bac_srv__sched_read(s, o, prop, has_index, index, now_ms, w);
    default:         return read_value(s, o, prop, has_index, index, w);
    }
}

bool sb_bac_srv__is_array(const srv_obj *o, uint32_t prop)
{
    const struct pdef *d = lookup(o, prop);

    return d && (d->f & P_ARR);
}

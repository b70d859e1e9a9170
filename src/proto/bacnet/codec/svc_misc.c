/*
 * svc_misc.c - Who-Has, I-Have, Time(UTC)Synchronization bodies, the
 * BACnetDateTime and BACnetTimeStamp productions, the BACnet Date/Time <->
 * Unix time helpers, and the cursor helpers the svc2.h codecs share
 * (ANSI/ASHRAE 135, clauses 16.7, 16.8, 16.9, 20.2.10, 21).
 */
#include <string.h>

#include "core/err.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/codec_int.h"
#include "proto/bacnet/codec/svc2.h"

enum { OBJ_DEVICE = 8, MAX_TS_SEQ = 65535 };

/* ---- shared cursor helpers (declared in codec_int.h) ---- */

void sb_bac__w_datetime(struct sb_bac__w *w, const struct sb_bac_datetime *dt)
{
    struct sb_bac_value d = { .type = SB_BAC_DATE, .v.date = dt->date };
    struct sb_bac_value t = { .type = SB_BAC_TIME, .v.time = dt->time };

    sb_bac__w_app(w, &d);
    sb_bac__w_app(w, &t);
}

int sb_bac__r_datetime(struct sb_bac__r *r, struct sb_bac_datetime *dt)
{
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_app(r, SB_BAC_DATE, &v)) < 0)
        return rc;
    dt->date = v.v.date;
    if ((rc = sb_bac__r_app(r, SB_BAC_TIME, &v)) < 0)
        return rc;
    dt->time = v.v.time;
    return 0;
}

/* BACnetTimeStamp ::= CHOICE { time [0] Time, sequenceNumber [1] Unsigned
 * (0..65535), dateTime [2] BACnetDateTime } */
void sb_bac__w_timestamp(struct sb_bac__w *w, const struct sb_bac_timestamp *ts)
{
    struct sb_bac_value t = { .type = SB_BAC_TIME, .v.time = ts->time };

    switch (ts->kind) {
    case SB_BAC_TS_TIME:
        sb_bac__w_ctx(w, 0, &t);
        break;
    case SB_BAC_TS_SEQ:
        if (ts->seq > MAX_TS_SEQ)
            sb_bac__w_fail(w, SB_EINVAL);
        sb_bac__w_ctx_uint(w, 1, ts->seq);
        break;
    case SB_BAC_TS_DATETIME:
        sb_bac__w_open(w, 2);
        sb_bac__w_datetime(w, &ts->dt);
        sb_bac__w_close(w, 2);
        break;
    default:
        sb_bac__w_fail(w, SB_EINVAL);
    }
}

static int r_ts_datetime(struct sb_bac__r *r, struct sb_bac_timestamp *ts)
{
    struct sb_bac__r in = { 0 };
    int rc;

    if ((rc = sb_bac__r_constructed(r, 2, &in.p, &in.len)) < 0 ||
        (rc = sb_bac__r_datetime(&in, &ts->dt)) < 0)
        return rc;
    return in.off == in.len ? 0 : SB_EPROTO;
}

int sb_bac__r_timestamp(struct sb_bac__r *r, struct sb_bac_timestamp *ts)
{
    struct sb_bac_value v;
    int rc;

    memset(ts, 0, sizeof(*ts));
    if (sb_bac__r_peek_ctx(r, 0)) {
        ts->kind = SB_BAC_TS_TIME;
        if ((rc = sb_bac__r_ctx(r, 0, SB_BAC_TIME, &v)) == 0)
            ts->time = v.v.time;
        return rc;
    }
    if (sb_bac__r_peek_ctx(r, 1)) {
        ts->kind = SB_BAC_TS_SEQ;
        if ((rc = sb_bac__r_ctx_u32(r, 1, &ts->seq)) < 0)
            return rc == SB_ERANGE ? SB_EPROTO : rc;
        return ts->seq > MAX_TS_SEQ ? SB_EPROTO : 0;
    }
    ts->kind = SB_BAC_TS_DATETIME;
    return r_ts_datetime(r, ts);   /* SB_EPROTO if not an opening [2] */
}

/* Clause 20.2.10: bit n is bit (7 - n % 8) of octet n / 8. */
void sb_bac__w_ctx_bits8(struct sb_bac__w *w, uint8_t tag, uint8_t mask, size_t nbits)
{
    uint8_t octet = 0;
    struct sb_bac_value v = { .type = SB_BAC_BIT_STRING };

    if (nbits > 8 || (nbits < 8 && (mask >> nbits) != 0)) {
        sb_bac__w_fail(w, SB_EINVAL);
        return;
    }
    for (size_t n = 0; n < nbits; n++)
        if (mask & (1u << n))
            octet |= (uint8_t)(0x80u >> n);
    v.v.bits = (struct sb_bac_bits){ &octet, nbits };
    sb_bac__w_ctx(w, tag, &v);
}

int sb_bac__r_ctx_bits8(struct sb_bac__r *r, uint8_t tag, uint8_t *mask, size_t nbits)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_ctx(r, tag, SB_BAC_BIT_STRING, &v);

    if (rc < 0)
        return rc;
    *mask = 0;
    for (size_t n = 0; n < v.v.bits.nbits; n++) {
        if (!sb_bac_bit(&v.v.bits, n))
            continue;
        if (n >= nbits)
            return SB_ERANGE;
        *mask |= (uint8_t)(1u << n);
    }
    return 0;
}

void sb_bac__w_app_uint(struct sb_bac__w *w, uint64_t u)
{
    struct sb_bac_value v = { .type = SB_BAC_UNSIGNED, .v.u = u };

    sb_bac__w_app(w, &v);
}

int sb_bac__r_app_u32(struct sb_bac__r *r, uint32_t *u)
{
    struct sb_bac_value v;
    int rc = sb_bac__r_app(r, SB_BAC_UNSIGNED, &v);

    if (rc < 0)
        return rc;
    if (v.v.u > UINT32_MAX)
        return SB_ERANGE;
    *u = (uint32_t)v.v.u;
    return 0;
}

void sb_bac__w_error(struct sb_bac__w *w, uint32_t err_class, uint32_t err_code)
{
    struct sb_bac_value v = { .type = SB_BAC_ENUMERATED, .v.enumerated = err_class };

    sb_bac__w_app(w, &v);
    v.v.enumerated = err_code;
    sb_bac__w_app(w, &v);
}

int sb_bac__r_ctx_error(struct sb_bac__r *r, uint8_t tag, uint32_t *err_class,
                        uint32_t *err_code)
{
    struct sb_bac_error e;
    const uint8_t *in;
    size_t in_len;
    ssize_t n;
    int rc;

    if ((rc = sb_bac__r_constructed(r, tag, &in, &in_len)) < 0)
        return rc;
    if ((n = sb_bac_dec_error(in, in_len, &e)) < 0)
        return n == SB_ECORRUPT ? SB_EPROTO : (int)n;   /* the tags close early */
    if ((size_t)n != in_len)
        return SB_EPROTO;
    *err_class = e.err_class;
    *err_code = e.err_code;
    return 0;
}

/* ---- BACnetDateTime and BACnetTimeStamp as elements ---- */

ssize_t sb_bac_enc_datetime(uint8_t *buf, size_t cap, const struct sb_bac_datetime *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_datetime(&w, in);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_datetime(const uint8_t *buf, size_t len, struct sb_bac_datetime *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = sb_bac__r_datetime(&r, out);

    return rc < 0 ? rc : (ssize_t)r.off;
}

ssize_t sb_bac_enc_timestamp(uint8_t *buf, size_t cap, const struct sb_bac_timestamp *in)
{
    struct sb_bac__w w;

    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_timestamp(&w, in);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_timestamp(const uint8_t *buf, size_t len, struct sb_bac_timestamp *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = sb_bac__r_timestamp(&r, out);

    return rc < 0 ? rc : (ssize_t)r.off;
}

/* ---- Who-Has / I-Have, clause 16.9 ---- */

/* Who-Has-Request ::= SEQUENCE { limits SEQUENCE {
 * deviceInstanceRangeLowLimit [0] Unsigned (0..4194303),
 * deviceInstanceRangeHighLimit [1] Unsigned (0..4194303) } OPTIONAL,
 * object CHOICE { objectIdentifier [2], objectName [3] CharacterString } } */
ssize_t sb_bac_enc_whohas(uint8_t *buf, size_t cap, const struct sb_bac_whohas *in)
{
    struct sb_bac__w w;
    struct sb_bac_value name = { .type = SB_BAC_CHAR_STRING, .v.str = in->name };

    if (in->has_range && (in->low > in->high || in->high > SB_BAC_MAX_INSTANCE))
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    if (in->has_range) {
        sb_bac__w_ctx_uint(&w, 0, in->low);
        sb_bac__w_ctx_uint(&w, 1, in->high);
    }
    if (in->by_name)
        sb_bac__w_ctx(&w, 3, &name);
    else
        sb_bac__w_ctx_oid(&w, 2, in->oid);
    return sb_bac__w_done(&w);
}

static int r_whohas_limits(struct sb_bac__r *r, struct sb_bac_whohas *out)
{
    int rc;

    out->has_range = sb_bac__r_peek_ctx(r, 0);
    out->low = out->high = 0;
    if (!out->has_range)
        return 0;
    if ((rc = sb_bac__r_ctx_u32(r, 0, &out->low)) < 0 ||
        (rc = sb_bac__r_ctx_u32(r, 1, &out->high)) < 0)
        return rc;
    if (out->low > SB_BAC_MAX_INSTANCE || out->high > SB_BAC_MAX_INSTANCE)
        return SB_EPROTO;
    return 0;
}

ssize_t sb_bac_dec_whohas(const uint8_t *buf, size_t len, struct sb_bac_whohas *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value v;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = r_whohas_limits(&r, out)) < 0)
        return rc;
    out->by_name = sb_bac__r_peek_ctx(&r, 3);
    if (out->by_name) {
        if ((rc = sb_bac__r_ctx(&r, 3, SB_BAC_CHAR_STRING, &v)) < 0)
            return rc;
        out->name = v.v.str;
    } else if ((rc = sb_bac__r_ctx_oid(&r, 2, &out->oid)) < 0) {
        return rc;
    }
    return sb_bac__r_end(&r);
}

/* I-Have-Request ::= SEQUENCE { deviceIdentifier BACnetObjectIdentifier,
 * objectIdentifier BACnetObjectIdentifier, objectName CharacterString },
 * application tagged. */
ssize_t sb_bac_enc_ihave(uint8_t *buf, size_t cap, const struct sb_bac_ihave *in)
{
    struct sb_bac__w w;
    struct sb_bac_value v = { .type = SB_BAC_OBJECT_ID, .v.oid = in->device };

    if (in->device.type != OBJ_DEVICE)
        return SB_EINVAL;
    sb_bac__w_init(&w, buf, cap);
    sb_bac__w_app(&w, &v);
    v.v.oid = in->oid;
    sb_bac__w_app(&w, &v);
    v = (struct sb_bac_value){ .type = SB_BAC_CHAR_STRING, .v.str = in->name };
    sb_bac__w_app(&w, &v);
    return sb_bac__w_done(&w);
}

ssize_t sb_bac_dec_ihave(const uint8_t *buf, size_t len, struct sb_bac_ihave *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    struct sb_bac_value v;
    int rc;

    if ((rc = sb_bac__r_app(&r, SB_BAC_OBJECT_ID, &v)) < 0)
        return rc;
    out->device = v.v.oid;
    if ((rc = sb_bac__r_app(&r, SB_BAC_OBJECT_ID, &v)) < 0)
        return rc;
    out->oid = v.v.oid;
    if ((rc = sb_bac__r_app(&r, SB_BAC_CHAR_STRING, &v)) < 0)
        return rc;
    out->name = v.v.str;
    if (out->device.type != OBJ_DEVICE)
        return SB_EPROTO;
    return sb_bac__r_end(&r);
}

/* ---- TimeSynchronization (16.7), UTCTimeSynchronization (16.8) ---- */

/* (UTC)TimeSynchronization-Request ::= SEQUENCE { time BACnetDateTime } */
ssize_t sb_bac_enc_timesync(uint8_t *buf, size_t cap, const struct sb_bac_datetime *in)
{
    return sb_bac_enc_datetime(buf, cap, in);
}

ssize_t sb_bac_dec_timesync(const uint8_t *buf, size_t len, struct sb_bac_datetime *out)
{
    struct sb_bac__r r = { .p = buf, .len = len };
    int rc = sb_bac__r_datetime(&r, out);

    return rc < 0 ? rc : sb_bac__r_end(&r);
}

/* ---- Date/Time <-> Unix time ---- */

enum {
    MS_PER_DAY = 86400000, MAX_OFFSET_MIN = 1440,
    YEAR_BASE = 1900, YEAR_MAX = 2154,          /* Date year octet 0..254 */
    UNSPEC = 255
};
static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned month_days(int64_t y, unsigned m)
{
    static const uint8_t d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

    return m == 2 && leap(y) ? 29u : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date: count whole
 * 400-year eras from 0000-03-01 so February (the leap day) ends a year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int sb_bac_dt_from_unix(int64_t ms, int utc_offset_min, struct sb_bac_datetime *out)
{
    int64_t first = days_from_civil(YEAR_BASE, 1, 1);
    int64_t end = days_from_civil(YEAR_MAX + 1, 1, 1);
    int64_t days, msod, y;
    unsigned m, d;

    if (utc_offset_min < -MAX_OFFSET_MIN || utc_offset_min > MAX_OFFSET_MIN)
        return SB_EINVAL;
    /* bound before adding the offset so nothing can overflow */
    if (ms < (first - 2) * MS_PER_DAY || ms > (end + 2) * MS_PER_DAY)
        return SB_ERANGE;
    ms += (int64_t)utc_offset_min * 60000;
    days = ms / MS_PER_DAY - (ms % MS_PER_DAY < 0);
    msod = ms - days * MS_PER_DAY;
    if (days < first || days >= end)
        return SB_ERANGE;
    civil_from_days(days, &y, &m, &d);
    out->date = (struct sb_bac_date){ (uint8_t)(y - YEAR_BASE), (uint8_t)m, (uint8_t)d,
                                      (uint8_t)((days % 7 + 7 + 3) % 7 + 1) };  /* 1970-01-01: Thursday */
    out->time = (struct sb_bac_time){ (uint8_t)(msod / 3600000), (uint8_t)(msod / 60000 % 60),
                                      (uint8_t)(msod / 1000 % 60), (uint8_t)(msod % 1000 / 10) };
    return 0;
}

static bool time_ok(const struct sb_bac_time *t)
{
    return t->hour < 24 && t->min < 60 && t->sec < 60 &&
           (t->hundredths < 100 || t->hundredths == UNSPEC);
}

int sb_bac_dt_to_unix(const struct sb_bac_datetime *in, int utc_offset_min, int64_t *ms)
{
    const struct sb_bac_date *dt = &in->date;
    const struct sb_bac_time *t = &in->time;
    int64_t y = YEAR_BASE + (int64_t)dt->year, days;

    if (utc_offset_min < -MAX_OFFSET_MIN || utc_offset_min > MAX_OFFSET_MIN ||
        dt->year == UNSPEC || dt->month < 1 || dt->month > 12 || dt->day < 1 ||
        dt->day > month_days(y, dt->month) || !time_ok(t))
        return SB_EINVAL;
    days = days_from_civil(y, dt->month, dt->day);
    *ms = days * MS_PER_DAY + (int64_t)t->hour * 3600000 + (int64_t)t->min * 60000 +
          (int64_t)t->sec * 1000 + (t->hundredths == UNSPEC ? 0 : (int64_t)t->hundredths * 10) -
          (int64_t)utc_offset_min * 60000;
    return 0;
}

/*
 * srv_enc.c - the server's bounded writer over the codec's public
 * encoders, and the date/time helpers every handler shares
 * (ANSI/ASHRAE 135-2020, clause 20.2; UTC_Offset of clause 12.11.36).
 */
#include <string.h>

#include "proto/bacnet/server/srv_int.h"

void sb_bac_srv__w_add(struct srv_w *w, ssize_t r)
{
    if (w->err)
        return;
    if (r < 0)
        w->err = (int)r;
    else
        w->n += (size_t)r;
}

void sb_bac_srv__w_app(struct srv_w *w, const struct sb_bac_value *v)
{
    SRV_W_ENC(w, sb_bac_enc_app, v);
}

void sb_bac_srv__w_ctx(struct srv_w *w, uint8_t tag, const struct sb_bac_value *v)
{
    if (!w->err)
        sb_bac_srv__w_add(w, sb_bac_enc_ctx(SRV_W_AT(w), SRV_W_LEFT(w), tag, v));
}

void sb_bac_srv__w_open(struct srv_w *w, uint8_t tag)
{
    if (!w->err)
        sb_bac_srv__w_add(w, sb_bac_enc_open(SRV_W_AT(w), SRV_W_LEFT(w), tag));
}

void sb_bac_srv__w_close(struct srv_w *w, uint8_t tag)
{
    if (!w->err)
        sb_bac_srv__w_add(w, sb_bac_enc_close(SRV_W_AT(w), SRV_W_LEFT(w), tag));
}

void sb_bac_srv__w_raw(struct srv_w *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (w->buf) {
        if (n > w->cap - w->n) {
            w->err = SB_ENOSPC;
            return;
        }
        if (n)
            memmove(w->buf + w->n, p, n);
    }
    w->n += n;
}

void sb_bac_srv__w_null(struct srv_w *w)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_NULL });
}

void sb_bac_srv__w_bool(struct srv_w *w, bool b)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_BOOLEAN, .v.boolean = b });
}

void sb_bac_srv__w_uint(struct srv_w *w, uint64_t u)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_UNSIGNED, .v.u = u });
}

void sb_bac_srv__w_sint(struct srv_w *w, int64_t i)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_SIGNED, .v.i = i });
}

void sb_bac_srv__w_real(struct srv_w *w, float f)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_REAL, .v.real = f });
}

void sb_bac_srv__w_enum(struct srv_w *w, uint32_t e)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_ENUMERATED, .v.enumerated = e });
}

void sb_bac_srv__w_oid(struct srv_w *w, struct sb_bac_oid oid)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_OBJECT_ID, .v.oid = oid });
}

/* Object names and texts are stored as UTF-8 (clause 20.2.9, charset 0). */
void sb_bac_srv__w_str(struct srv_w *w, const char *s)
{
    struct sb_bac_value v = { .type = SB_BAC_CHAR_STRING };

    v.v.str = (struct sb_bac_cstr){ SB_BAC_CS_UTF8, (const uint8_t *)s, strlen(s) };
    sb_bac_srv__w_app(w, &v);
}

void sb_bac_srv__w_date(struct srv_w *w, struct sb_bac_date d)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_DATE, .v.date = d });
}

void sb_bac_srv__w_time(struct srv_w *w, struct sb_bac_time t)
{
    sb_bac_srv__w_app(w, &(struct sb_bac_value){ .type = SB_BAC_TIME, .v.time = t });
}

/* Clause 20.2.10: bit n of the string is bit (7 - n % 8) of octet n / 8. */
void sb_bac_srv__w_bits8(struct srv_w *w, uint8_t mask, size_t nbits)
{
    uint8_t octet = 0;

    for (size_t n = 0; n < nbits && n < 8; n++)
        if (mask & (1u << n))
            octet |= (uint8_t)(0x80u >> n);
    sb_bac_srv__w_bits(w, &octet, nbits);
}

void sb_bac_srv__w_bits(struct srv_w *w, const uint8_t *p, size_t nbits)
{
    struct sb_bac_value v = { .type = SB_BAC_BIT_STRING };

    v.v.bits = (struct sb_bac_bits){ p, nbits };
    sb_bac_srv__w_app(w, &v);
}

/* BACnetTimeStamp ::= CHOICE { ..., dateTime [2] BACnetDateTime }. */
void sb_bac_srv__w_stamp(struct srv_w *w, const struct sb_bac_datetime *dt)
{
    sb_bac_srv__w_open(w, 2);
    sb_bac_srv__w_date(w, dt->date);
    sb_bac_srv__w_time(w, dt->time);
    sb_bac_srv__w_close(w, 2);
}

int sb_bac_srv__one_value(const uint8_t *p, size_t n, struct sb_bac_value *v)
{
    ssize_t k = sb_bac_dec_app(p, n, v);

    if (k < 0)
        return (int)k;
    return (size_t)k == n ? 0 : SB_EPROTO;
}

/* The codec's helper wants the offset of local time east of UTC; the
 * UTC_Offset property counts positive west (clause 12.11.36). */
int sb_bac_srv__local(const struct sb_bac_srv *s, int64_t utc_ms, struct sb_bac_datetime *out)
{
    return sb_bac_dt_from_unix(utc_ms, -s->utc_offset, out);
}

int sb_bac_srv__now_local(const struct sb_bac_srv *s, int64_t now_ms, struct sb_bac_datetime *out)
{
    return sb_bac_srv__local(s, sb_bac_srv_clock(s, now_ms), out);
}

void sb_bac_srv__dt_unset(struct sb_bac_datetime *dt)
{
    memset(dt, 0xFF, sizeof(*dt));
}

int64_t sb_bac_srv_clock(const struct sb_bac_srv *s, int64_t now_ms)
{
    return now_ms + s->clock_off;
}

int sb_bac_srv_local_time(const struct sb_bac_srv *s, int64_t now_ms, struct sb_bac_datetime *out)
{
    if (!s || !out)
        return SB_EINVAL;
    return sb_bac_srv__now_local(s, now_ms, out);
}

/* timefmt.c - RFC 3339 (ISO 8601 profile) timestamps; see timefmt.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/timefmt.h"
#include "core/tz.h"

/* Read exactly n digits at s[*i]. */
static int digits(const char *s, size_t len, size_t *i, int n, int *out)
{
    int v = 0;
    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || s[*i] < '0' || s[*i] > '9')
            return SB_EINVAL;
        v = v * 10 + (s[*i] - '0');
    }
    *out = v;
    return 0;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
    if (*i >= len || s[*i] != c)
        return SB_EINVAL;
    (*i)++;
    return 0;
}

static int parse_int_ms(const char *s, size_t len, int64_t *ms)
{
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;

    if (len > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len || len - i > 15)   /* |ms| < 10^15: year ~33,000 */
        return SB_EINVAL;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return SB_EINVAL;
        v = v * 10 + (s[i] - '0');
    }
    *ms = neg ? -v : v;
    return 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : d[m - 1];
}

int sb_time_parse(const char *s, size_t len, int64_t *ms)
{
    int Y, M, D, h, m, sec, frac = 0, oh = 0, om = 0, sign = 0;
    size_t i = 0;

    if (len > 0 && (s[0] == '-' || (len <= 15 && memchr(s, '-', len) == NULL)))
        return parse_int_ms(s, len, ms);
    if (digits(s, len, &i, 4, &Y) || expect(s, len, &i, '-') || digits(s, len, &i, 2, &M) ||
        expect(s, len, &i, '-') || digits(s, len, &i, 2, &D))
        return SB_EINVAL;
    if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
        return SB_EINVAL;
    i++;
    if (digits(s, len, &i, 2, &h) || expect(s, len, &i, ':') || digits(s, len, &i, 2, &m) ||
        expect(s, len, &i, ':') || digits(s, len, &i, 2, &sec))
        return SB_EINVAL;
    if (i < len && s[i] == '.') {
        int k = 0;
        i++;
        if (i >= len || s[i] < '0' || s[i] > '9')
            return SB_EINVAL;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++, k++)
            if (k < 3)
                frac = frac * 10 + (s[i] - '0');
        for (; k < 3; k++)
            frac *= 10;
    }
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        sign = s[i++] == '-' ? -1 : 1;
        if (digits(s, len, &i, 2, &oh) || expect(s, len, &i, ':') || digits(s, len, &i, 2, &om))
            return SB_EINVAL;
        if (oh > 23 || om > 59)
            return SB_EINVAL;
    } else {
        return SB_EINVAL;   /* no zone */
    }
    if (i != len || M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 ||
        sec > 60)
        return SB_EINVAL;
    if (sec == 60)   /* leap second: POSIX time has none; hold at :59.999 */
        sec = 59, frac = 999;
    int64_t days = sb_days_from_civil(Y, (unsigned)M, (unsigned)D);
    int64_t t = ((days * 24 + h) * 60 + m) * 60 + sec - sign * (oh * 3600 + om * 60);
    *ms = t * 1000 + frac;
    return 0;
}

char *sb_time_format(int64_t ms, char *buf, size_t cap)
{
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int frac = (int)(ms - s * 1000);
    int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    int64_t rem = s - days * 86400, y;
    unsigned mo, d;

    sb_civil_from_days(days, &y, &mo, &d);
    snprintf(buf, cap, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, mo, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), frac);
    return buf;
}

int64_t sb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

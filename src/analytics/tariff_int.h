/*
 * tariff_int.h - internals shared by tariff_parse.c and tariff.c (not part
 * of the API; see tariff.h).
 */
#ifndef SB_ANALYTICS_TARIFF_INT_H
#define SB_ANALYTICS_TARIFF_INT_H

#include <stdbool.h>

#include "analytics/tariff.h"

#define SB_TARIFF__PRICE_MAX  1000.0   /* |energy / export / block price| per kWh */
#define SB_TARIFF__DEMAND_MAX 100000.0 /* demand price per kW */
#define SB_TARIFF__FIXED_MAX  1e7      /* fixed charge per day or period */
#define SB_TARIFF__ALL_HOURS  0xffffffu  /* bits 0..23 */

/* Days in month m (1..12) of proleptic Gregorian year y. */
static inline int sb_tariff__month_days(int y, int m)
{
    static const unsigned char md[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : md[m - 1];
}

/* Does w cover season s, day kind k (0..7) and local hour h (0..23)? */
static inline bool sb_tariff__when_has(const struct sb_tariff_when *w, int s, int k, int h)
{
    return (w->seasons >> s & 1u) && (w->days >> k & 1u) && (w->hours >> h & 1u);
}

#endif /* SB_ANALYTICS_TARIFF_INT_H */

/* solar.c - sun position and facade irradiance (see solar.h for sources). */
#include <math.h>

#include "sim/weather/solar.h"

#define DEG (M_PI / 180.0)

static const double facade_azimuth[SB_FACADE_COUNT] = { 0.0, -90.0, 180.0, 90.0 };

void sb_solar_position(double lat, double lon, double tz_h, double hour_of_year,
                       struct sb_solar *out)
{
    double n = floor(hour_of_year / 24.0) + 1.0;            /* day of year 1..365 */
    double clock_h = hour_of_year - 24.0 * (n - 1.0);
    double b = (n - 1.0) * 2.0 * M_PI / 365.0;               /* D&B eq. 1.4.2 */
    double decl, cz, sz, cos_az;

    /* D&B eq. 1.6.1b (Spencer) */
    decl = 0.006918 - 0.399912 * cos(b) + 0.070257 * sin(b) - 0.006758 * cos(2 * b)
         + 0.000907 * sin(2 * b) - 0.002697 * cos(3 * b) + 0.00148 * sin(3 * b);
    /* D&B eq. 1.5.3 (Spencer), minutes */
    out->eot_min = 229.2 * (0.000075 + 0.001868 * cos(b) - 0.032077 * sin(b)
                            - 0.014615 * cos(2 * b) - 0.04089 * sin(2 * b));
    /* D&B eq. 1.5.2 with east-positive longitudes: the standard meridian is 15*tz */
    out->solar_time_h = clock_h + (4.0 * (lon - 15.0 * tz_h) + out->eot_min) / 60.0;
    out->hour_angle_deg = 15.0 * (out->solar_time_h - 12.0);
    out->decl_deg = decl / DEG;

    cz = cos(lat * DEG) * cos(decl) * cos(out->hour_angle_deg * DEG) + sin(lat * DEG) * sin(decl);
    cz = fmax(-1.0, fmin(1.0, cz));
    out->zenith_deg = acos(cz) / DEG;
    sz = sin(out->zenith_deg * DEG);
    /* D&B eq. 1.6.6: sign of the hour angle, magnitude from the arccos */
    cos_az = (sz * cos(lat * DEG) > 1e-9) ? (cz * sin(lat * DEG) - sin(decl)) / (sz * cos(lat * DEG)) : 1.0;
    cos_az = fmax(-1.0, fmin(1.0, cos_az));
    out->azimuth_deg = (out->hour_angle_deg < 0 ? -1.0 : 1.0) * fabs(acos(cos_az) / DEG);
}

double sb_solar_cos_incidence(const struct sb_solar *sun, enum sb_facade f)
{
    double c;

    if (sun->zenith_deg >= 90.0 || f < 0 || f >= SB_FACADE_COUNT)
        return 0.0;
    /* D&B eq. 1.6.3, beta = 90: cos(theta) = sin(theta_z) cos(gamma_s - gamma) */
    c = sin(sun->zenith_deg * DEG) * cos((sun->azimuth_deg - facade_azimuth[f]) * DEG);
    return c > 0.0 ? c : 0.0;
}

double sb_solar_vertical(const struct sb_solar *sun, enum sb_facade f, double dni, double dhi,
                         double ghi, double rho_g)
{
    /* D&B eq. 2.15.1 with beta = 90: view factors to sky and ground are 1/2 */
    return dni * sb_solar_cos_incidence(sun, f) + 0.5 * dhi + 0.5 * rho_g * ghi;
}

/*
 * solar.h - sun position and irradiance on vertical facades for sbems-sim.
 *
 * Formulas from J. A. Duffie and W. A. Beckman, "Solar Engineering of
 * Thermal Processes", 4th ed., Wiley 2013 (cited below as D&B):
 *   declination, Spencer (1971) series, D&B eq. 1.6.1b;
 *   equation of time, Spencer (1971), D&B eq. 1.5.3;
 *   solar time, D&B eq. 1.5.2; hour angle 15 deg per hour from solar noon;
 *   zenith angle, D&B eq. 1.6.5; solar azimuth, D&B eq. 1.6.6;
 *   angle of incidence on a vertical surface, D&B eq. 1.6.3 with beta = 90;
 *   isotropic-sky total on a tilted surface, D&B eq. 2.15.1 (Liu & Jordan).
 * Pure functions: no state, no allocation.
 */
#ifndef SB_SIM_SOLAR_H
#define SB_SIM_SOLAR_H

/* Facade orientations, indexed S, E, N, W (surface azimuth from south,
 * west positive: 0, -90, 180, 90 degrees). */
enum sb_facade { SB_FACADE_S, SB_FACADE_E, SB_FACADE_N, SB_FACADE_W, SB_FACADE_COUNT };

struct sb_solar {
    double decl_deg;        /* declination */
    double eot_min;         /* equation of time, minutes */
    double solar_time_h;    /* apparent solar time, hours */
    double hour_angle_deg;  /* negative morning, positive afternoon */
    double zenith_deg;      /* 0 overhead, > 90 below the horizon */
    double azimuth_deg;     /* from south, west positive */
};

/* Sun position at hour_of_year (hours since Jan 1 00:00 local standard time)
 * for latitude/longitude in degrees (north/east positive) and the standard
 * time zone offset tz_h (hours from UTC). */
void sb_solar_position(double lat, double lon, double tz_h, double hour_of_year,
                       struct sb_solar *out);

/* Total irradiance (W/m2) on a vertical surface facing f, from the sun
 * position and DNI, DHI, GHI (W/m2) and ground reflectance rho_g. */
double sb_solar_vertical(const struct sb_solar *sun, enum sb_facade f, double dni, double dhi,
                         double ghi, double rho_g);

/* Beam incidence cosine on facade f (0 when the sun is behind it or set). */
double sb_solar_cos_incidence(const struct sb_solar *sun, enum sb_facade f);

#endif /* SB_SIM_SOLAR_H */

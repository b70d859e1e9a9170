/*
 * epw.h - EnergyPlus Weather (EPW) file reader for sbems-sim.
 *
 * Parses a typical-year EPW file (8 header lines + 8,760 hourly rows) into a
 * caller-owned struct sb_epw and interpolates it to any time of year.  Pure:
 * the parser takes (text, len), never touches files, clocks or globals and
 * does not allocate; sb_epw_load() is the one convenience that reads a file.
 * Errors are reported as SB_EINVAL with "line N field F: what" in err[].
 *
 * Time convention (EnergyPlus Auxiliary Programs, "EnergyPlus Weather File
 * Data Dictionary"): row h (hour 1..24) describes the hour ENDING at h:00
 * local standard time.  Temperatures, humidity and wind are taken as values
 * at the end of the hour; irradiances are totals over the hour, so they are
 * placed at the middle of the hour (h - 0.5) before interpolating.
 */
#ifndef SB_SIM_EPW_H
#define SB_SIM_EPW_H

#include <stddef.h>
#include <stdint.h>

#define SB_EPW_HOURS 8760

/* One hourly row: only the fields the simulator uses. */
struct sb_epw_hour {
    float tdb;      /* dry-bulb temperature, degC (field 7) */
    float tdp;      /* dew-point temperature, degC (field 8) */
    float rh;       /* relative humidity, % (field 9) */
    float ghi;      /* global horizontal irradiance, W/m2 (field 14) */
    float dni;      /* direct normal irradiance, W/m2 (field 15) */
    float dhi;      /* diffuse horizontal irradiance, W/m2 (field 16) */
    float wind;     /* wind speed, m/s (field 22) */
};

/* A parsed file; about 250 kB, so callers usually heap-allocate it. */
struct sb_epw {
    char city[64];              /* LOCATION field 2 */
    char state[16];             /* LOCATION field 3 */
    char country[16];           /* LOCATION field 4 */
    char wmo[16];               /* LOCATION field 6, station id */
    double lat;                 /* degrees, north positive */
    double lon;                 /* degrees, east positive (EPW convention) */
    double tz_h;                /* hours from UTC of local standard time */
    double elev_m;              /* station elevation, m */
    struct sb_epw_hour h[SB_EPW_HOURS];   /* row i = hour ending at i+1 h */
};

/* Weather interpolated to one instant. */
struct sb_weather {
    double tdb, tdp, rh;        /* degC, degC, % */
    double ghi, dni, dhi;       /* W/m2 */
    double wind;                /* m/s */
};

/* Parses text[len] into *out (caller-owned).  Returns 0 or SB_EINVAL with
 * a message "line L field F (name): problem" in err[errlen]. */
int sb_epw_parse(const char *text, size_t len, struct sb_epw *out, char *err, size_t errlen);

/* Reads and parses the file at path.  Returns 0, SB_EIO (message in err),
 * SB_ENOMEM or SB_EINVAL. */
int sb_epw_load(const char *path, struct sb_epw *out, char *err, size_t errlen);

/* Weather at hour_of_year (hours since Jan 1 00:00 local standard time,
 * any real value: wrapped into [0, 8760)).  Linear between hours. */
void sb_epw_at(const struct sb_epw *w, double hour_of_year, struct sb_weather *out);

/* Hours since Jan 1 00:00 local standard time for a Unix time in ms and a
 * UTC offset; in leap years Feb 29 reuses Feb 28 and later dates shift back
 * a day, so the typical year always applies (result in [0, 8760)). */
double sb_epw_hour_of_year(int64_t unix_ms, double tz_h);

#endif /* SB_SIM_EPW_H */

/*
 * data_cambridge.h - reader of the Cambridge estates benchmark data
 * (bench/analytics/data/cambridge/, see ../data/README.md): gzipped CSVs
 * of hourly kWh per building and the Bedford weather station.
 *
 * Files hold one row per UTC hour, "YYYY-MM-DD HH:MM:SS,value[,...]", a
 * header line first.  The archive wrote a missed read as 0; the loader
 * keeps the raw value (the forecaster's cleaning is told zero_is_missing)
 * and the benchmark scores zeros as missing.  Hours absent from a file are
 * NAN.  Bench-only code: it allocates, reads files and is not part of the
 * product.
 */
#ifndef SB_BENCH_DATA_CAMBRIDGE_H
#define SB_BENCH_DATA_CAMBRIDGE_H

#include <stddef.h>
#include <stdint.h>

struct cam_series {
    int64_t start_utc;  /* UTC seconds of hour 0 (y0-01-01T00:00Z) */
    size_t  n;          /* hours from y0-01-01 to (y1+1)-01-01 */
    double *load;       /* kWh per hour (raw), NAN where no row; malloc'd */
    double *temp;       /* Bedford air temperature, °C, NAN where no row; malloc'd */
};

/* Loads building ("b33") for years y0..y1 from dir (the "cambridge"
 * directory).  Returns 0 or -1 with a message on stderr. Caller frees with
 * cam_free. */
int cam_load(const char *dir, const char *building, int y0, int y1, struct cam_series *out);

void cam_free(struct cam_series *s);

/* Fills v (indexed like the series) with column col (1 = first value) of
 * one gzipped CSV; rows outside the series are ignored.  Returns the rows
 * read or -1. */
long cam_read_csv(const char *path, int col, int64_t start_utc, size_t n, double *v);

#endif /* SB_BENCH_DATA_CAMBRIDGE_H */

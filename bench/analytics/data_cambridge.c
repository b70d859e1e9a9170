/*
 * data_cambridge.c - gzipped CSV reader for the Cambridge benchmark data
 * (data_cambridge.h).
 */
#include "data_cambridge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/tz.h"

/* UTC seconds of "YYYY-MM-DD HH:MM:SS"; -1 on a malformed stamp. */
static int64_t parse_stamp(const char *s)
{
    int y, mo, d, h, mi, se;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6 || mo < 1 ||
        mo > 12 || d < 1 || d > 31 || h < 0 || h > 23)
        return -1;
    return sb_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
}

long cam_read_csv(const char *path, int col, int64_t start_utc, size_t n, double *v)
{
    char line[512];
    long rows = 0;
    gzFile f = gzopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while (gzgets(f, line, sizeof(line))) {
        int64_t t = parse_stamp(line);
        if (t < 0)
            continue;   /* the header */
        char *p = line;
        for (int c = 0; c < col && p; c++)
            p = strchr(p + (c > 0), ',');
        if (!p)
            continue;
        char *end;
        double x = strtod(p + 1, &end);
        int64_t i = (t - start_utc) / 3600;
        if (end == p + 1 || i < 0 || (size_t)i >= n)
            continue;
        v[i] = x;
        rows++;
    }
    gzclose(f);
    return rows;
}

int cam_load(const char *dir, const char *b, int y0, int y1, struct cam_series *s)
{
    char path[1024];

    memset(s, 0, sizeof(*s));
    s->start_utc = sb_days_from_civil(y0, 1, 1) * 86400;
    s->n = (size_t)((sb_days_from_civil(y1 + 1, 1, 1) * 86400 - s->start_utc) / 3600);
    s->load = malloc(s->n * sizeof(double));
    s->temp = malloc(s->n * sizeof(double));
    if (!s->load || !s->temp)
        goto fail;
    for (size_t i = 0; i < s->n; i++)
        s->load[i] = s->temp[i] = NAN;
    for (int y = y0; y <= y1; y++) {
        snprintf(path, sizeof(path), "%s/electricity/UCam_Building_%s_%d.csv.gz", dir, b, y);
        if (cam_read_csv(path, 1, s->start_utc, s->n, s->load) < 0)
            goto fail;
        snprintf(path, sizeof(path), "%s/weather-bedford/bedford_%d.csv.gz", dir, y);
        if (cam_read_csv(path, 1, s->start_utc, s->n, s->temp) < 0)
            goto fail;
    }
    return 0;
fail:
    cam_free(s);
    return -1;
}

void cam_free(struct cam_series *s)
{
    free(s->load);
    free(s->temp);
    memset(s, 0, sizeof(*s));
}

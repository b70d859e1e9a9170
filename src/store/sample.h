/*
 * sample.h - the reading, the unit of data that flows through sbems.
 *
 * Time is int64 milliseconds since the Unix epoch, UTC (decided for the whole
 * project: BACnet/Modbus/MQTT sources are polled at >= 100 ms, milliseconds
 * give +/- 292 million years of range, and 1 ms is enough to order a poll's
 * readings).  Values are IEEE-754 doubles in the point's canonical unit;
 * NaN and infinities never enter the store.
 */
#ifndef SB_SAMPLE_H
#define SB_SAMPLE_H

#include <stdint.h>

/* Quality flags, ORed; 0 means "ok". */
enum {
    SB_Q_STALE      = 1u << 0,  /* source stopped updating; value is the last known */
    SB_Q_FAULT      = 1u << 1,  /* source reported a fault / out-of-service */
    SB_Q_OVERRIDDEN = 1u << 2,  /* value is under manual override at the device */
    SB_Q_ESTIMATED  = 1u << 3,  /* value was estimated or interpolated, not measured */
    SB_Q_ALL        = 0x0f
};

/* One sample of one point (what a chunk holds). */
struct sb_sample {
    int64_t  t;   /* ms since epoch, UTC */
    double   v;   /* value in the point's canonical unit */
    uint16_t q;   /* SB_Q_* flags */
};

/* One reading: a sample plus the point it belongs to (what ingest carries). */
struct sb_reading {
    int64_t  t;      /* ms since epoch, UTC */
    double   v;      /* value, canonical unit */
    uint32_t point;  /* point id (sb_point.id) */
    uint16_t q;      /* SB_Q_* flags */
};

#endif /* SB_SAMPLE_H */

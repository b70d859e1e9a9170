/*
 * modbus.h - the Modbus TCP / RTU driver (libmodbus 3.1) and its pure parts:
 * point addresses, register-map profiles, value codecs and the request
 * planner.
 *
 * The driver (sb_driver_modbus) reads and writes points of Modbus devices.
 * A point's address is a JSON object (docs/internals/modbus.md):
 *
 *     {"host":"10.20.1.50","port":502,"unit":1,"register":3060,"type":"float32"}
 *     {"serial":"/dev/ttyUSB0","baud":9600,"parity":"E","unit":3,
 *      "profile":"eastron-sdm630","name":"total_active_power"}
 *
 * Points of one device ("tcp:<host>:<port>/<unit>", "rtu:<serial>/<unit>")
 * are read together: sorted by table and address and coalesced into as few
 * requests as the limits allow.  Devices behind one TCP endpoint (a gateway)
 * share one connection, devices on one serial line share the port.
 *
 * Layers: map/addr/profile parse JSON (pure: no I/O, no globals, no logging;
 * profile loading reads one file), codec turns registers into numbers and
 * back (pure), plan groups reads (pure), driver.c does the libmodbus I/O.
 *
 * Ownership: structs filled by the parsers own their heap parts (the enum
 * list) and are released with the matching _release/_free; an entry found
 * in a profile belongs to the profile.  Threads: the pure functions are
 * reentrant.  The ops follow drivers/driver.h: bind/unbind/init/stop/free on
 * the loop thread, read/write on worker threads (one call per device at a
 * time; devices sharing a connection are serialised by its mutex).
 */
#ifndef SB_DRIVERS_MODBUS_H
#define SB_DRIVERS_MODBUS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/driver.h"
#include "model/units.h"

extern const struct sb_driver_ops sb_driver_modbus;

#define SB_MODBUS_NAME_MAX   64     /* profile and entry names, NUL included */
#define SB_MODBUS_HOST_MAX   128    /* host name or IP literal, NUL included */
#define SB_MODBUS_PATH_MAX   128    /* serial device path, NUL included */
#define SB_MODBUS_ENUM_MAX   1024   /* enum entries per map */
#define SB_MODBUS_PROFILE_MAX (1u << 20)  /* profile file bytes */
#define SB_MODBUS_ENTRIES_MAX 4096  /* entries per profile */

/* The four Modbus data tables (Modbus Application Protocol V1.1b3 §4.3). */
enum sb_modbus_table {
    SB_MODBUS_COIL = 0,         /* read/write bits: FC 1, 5 */
    SB_MODBUS_DISCRETE,         /* read-only bits: FC 2 */
    SB_MODBUS_INPUT,            /* read-only registers: FC 4 */
    SB_MODBUS_HOLDING,          /* read/write registers: FC 3, 6, 16 */
    SB_MODBUS_TABLE_COUNT
};

/* How a value is stored. */
enum sb_modbus_type {
    SB_MODBUS_INT16 = 0, SB_MODBUS_UINT16,
    SB_MODBUS_INT32, SB_MODBUS_UINT32,
    SB_MODBUS_INT64, SB_MODBUS_UINT64,
    SB_MODBUS_FLOAT32, SB_MODBUS_FLOAT64,
    SB_MODBUS_COILT,            /* one bit of a coil or discrete table ("coil") */
    SB_MODBUS_BIT,              /* one bit of a register ("bit" + "bit":0..15) */
    SB_MODBUS_TYPE_COUNT
};

/* Where one value lives and how to turn its raw form into a reading:
 * value = raw * scale + offset (writes invert it). */
struct sb_modbus_map {
    char name[SB_MODBUS_NAME_MAX];  /* profile entry name; "" for a plain address */
    uint8_t table;              /* enum sb_modbus_table */
    uint8_t type;               /* enum sb_modbus_type */
    uint8_t bit;                /* SB_MODBUS_BIT: bit 0 (LSB) .. 15 */
    uint8_t word_le;            /* low word first (word_order "little") */
    uint8_t byte_le;            /* low byte first in each register (byte_order "little") */
    uint16_t addr;              /* 0-based protocol address (PDU address) */
    double scale, offset;       /* 1, 0 when absent */
    enum sb_unit unit;          /* unit the entry declares; SB_UNIT_INVALID = none given */
    int writable;               /* profile: 0/1; plain address: -1 (the point decides) */
    int64_t *enums;             /* sorted raw values an "enum" names (owned), or NULL */
    size_t n_enums;             /* entries in enums */
};

/* A parsed point address. */
struct sb_modbus_addr {
    int rtu;                    /* serial line (else TCP) */
    char host[SB_MODBUS_HOST_MAX];  /* TCP: host name or IP literal */
    uint16_t port;              /* TCP: port, default 502 */
    char serial[SB_MODBUS_PATH_MAX];  /* RTU: device path */
    uint32_t baud;              /* RTU: default 9600 */
    char parity;                /* RTU: 'N', 'E' (default) or 'O' */
    uint8_t data_bits;          /* RTU: 7 or 8 (default) */
    uint8_t stop_bits;          /* RTU: 1 (default) or 2 */
    uint8_t unit;               /* unit id (slave address), default 1 */
    char profile[SB_MODBUS_NAME_MAX];  /* profile name, "" when the address has the map */
    struct sb_modbus_map map;   /* the map; with a profile only map.name is set
                                 * until sb_modbus_addr_resolve() */
};

/* Request limits of the planner (driver configuration). */
struct sb_modbus_limits {
    unsigned max_regs;          /* registers per read, 1..125 (default 125) */
    unsigned max_bits;          /* bits per read, 1..2000 (default 2000) */
    unsigned max_gap;           /* unread registers bridged, 0..124 (default 8); bits: x16 */
};

/* ---- map, address and profile parsing (map.c, addr.c, profile.c) ---- */

/* Type and table names ("float32", "holding"); "?" when out of range. */
const char *sb_modbus_type_name(int type);
const char *sb_modbus_table_name(int table);
/* Registers (or bits, for coil) a type occupies: 1, 2 or 4. */
unsigned sb_modbus_type_regs(int type);

/* Parse the mapping fields of obj (register, table, type, bit, word_order,
 * byte_order, scale, offset, enum, and for profiles unit, writable) into m,
 * which the caller zeroes or that is released first.  where names obj in
 * messages ("registers[3] \"power\""); 0 or SB_EINVAL with err naming the
 * field.  Other fields are the caller's to check. */
int  sb_modbus_map_parse(const json_t *obj, int profile_entry, const char *where,
                         struct sb_modbus_map *m, char *err, size_t errlen);
/* Deep copy; 0 or SB_ENOMEM.  dst is overwritten (not released). */
int  sb_modbus_map_copy(struct sb_modbus_map *dst, const struct sb_modbus_map *src);
void sb_modbus_map_release(struct sb_modbus_map *m);
/* 1 when raw is one of the enum's values (or there is no enum). */
int  sb_modbus_map_enum_ok(const struct sb_modbus_map *m, int64_t raw);

/* Parse an address (JSON object text of len bytes).  a is overwritten;
 * release with sb_modbus_addr_release.  0 or SB_EINVAL with err naming the
 * field. */
int  sb_modbus_addr_parse(const char *text, size_t len, struct sb_modbus_addr *a,
                          char *err, size_t errlen);
void sb_modbus_addr_release(struct sb_modbus_addr *a);
/* The device key: "tcp:<host>:<port>/<unit>" or "rtu:<serial>/<unit>"
 * (IPv6 literals in brackets).  0 or SB_ENOSPC. */
int  sb_modbus_addr_key(const struct sb_modbus_addr *a, char *key, size_t cap);
/* The connection key (key without the unit).  0 or SB_ENOSPC. */
int  sb_modbus_addr_conn_key(const struct sb_modbus_addr *a, char *key, size_t cap);

/* A register map: "profiles/<name>.json". */
struct sb_modbus_profile {
    char name[SB_MODBUS_NAME_MAX];  /* the profile's name (= file base name) */
    struct sb_modbus_map *entries;  /* owned, in file order */
    size_t n;                   /* entries */
};

/* Parse profile text; file names it in messages ("profiles/x.json").  The
 * document must say "format":"sbems-modbus-profile", "version":1 and have
 * a "name" equal to expect_name when that is non-NULL.  *out is the
 * caller's (sb_modbus_profile_free).  0, SB_EINVAL or SB_ENOMEM, err naming
 * file, entry and field. */
int  sb_modbus_profile_parse(const char *text, size_t len, const char *file,
                             const char *expect_name, struct sb_modbus_profile **out,
                             char *err, size_t errlen);
/* Read and parse <dir>/<name>.json.  name must be a slug
 * ([a-z0-9][a-z0-9_.-]*, no "..").  SB_ENOENT when the file does not exist,
 * SB_EIO, SB_EINVAL, SB_ENOMEM. */
int  sb_modbus_profile_load(const char *dir, const char *name,
                            struct sb_modbus_profile **out, char *err, size_t errlen);
/* The entry called name, or NULL. */
const struct sb_modbus_map *sb_modbus_profile_entry(const struct sb_modbus_profile *p,
                                                    const char *name);
void sb_modbus_profile_free(struct sb_modbus_profile *p);

/* Copy a's profile entry (a->profile, a->map.name) from p into a->map.
 * 0, SB_ENOENT (no such entry, err says so) or SB_ENOMEM. */
int  sb_modbus_addr_resolve(struct sb_modbus_addr *a, const struct sb_modbus_profile *p,
                            char *err, size_t errlen);

/* ---- codec (codec.c): registers <-> numbers, no I/O ---- */

/* Decode the raw value of m from regs[0..n) (registers as libmodbus
 * returns them: host-order words, first = lowest address).  For
 * SB_MODBUS_COILT pass the bit as regs[0] (0/1).  0, SB_EINVAL (n too
 * small), SB_ENAN (a float that is NaN or infinite: a device's "not
 * available"). */
int  sb_modbus_decode(const struct sb_modbus_map *m, const uint16_t *regs, size_t n,
                      double *raw);
/* raw * scale + offset. */
double sb_modbus_scale(const struct sb_modbus_map *m, double raw);
/* Invert the scale for a write: raw = (value - offset) / scale, rounded to
 * the nearest integer for integer types; SB_ERANGE when it does not fit the
 * type, SB_ENAN for NaN/inf.  err says why. */
int  sb_modbus_unscale(const struct sb_modbus_map *m, double value, double *raw,
                       char *err, size_t errlen);
/* Encode raw into regs (cap >= sb_modbus_type_regs); returns the register
 * count or SB_EINVAL / SB_ENOSPC.  SB_MODBUS_BIT encodes only the register's
 * new content given its old content in regs[0]. */
int  sb_modbus_encode(const struct sb_modbus_map *m, double raw, uint16_t *regs, size_t cap);

/* The reason for Modbus exception code (1..11: "illegal data address"),
 * static; "unknown exception" for others. */
const char *sb_modbus_exception_name(int code);

/* ---- planner (plan.c) ---- */

enum {
    SB_MODBUS_SPAN_ALONE   = 1u << 0,   /* read in a request of its own */
    SB_MODBUS_SPAN_GAPLESS = 1u << 1    /* merge only without unread gaps */
};

/* One value to read: table, first address, registers or bits. */
struct sb_modbus_span {
    uint8_t table;              /* enum sb_modbus_table */
    uint8_t flags;              /* SB_MODBUS_SPAN_* */
    uint16_t addr;              /* first address */
    uint16_t count;             /* registers (or bits), >= 1 */
};

/* One read request covering order[first .. first+n). */
struct sb_modbus_req {
    uint8_t table;              /* enum sb_modbus_table */
    uint16_t addr;              /* first address read */
    uint16_t count;             /* registers or bits read */
    size_t first, n;            /* its spans, as indexes into order[] */
};

/* Sort spans[0..n) by (table, address) into order[0..n) (indexes) and
 * group them into requests reqs[0..*nreq) (at most n).  Neighbours merge
 * when the unread gap is <= max_gap registers (16 * max_gap bits) and the
 * request stays within max_regs / max_bits.  Greedy over the sorted list,
 * which gives the fewest requests for contiguous groups.  0 or SB_EINVAL
 * (a span that cannot fit one request). */
int  sb_modbus_plan(const struct sb_modbus_span *spans, size_t n,
                    const struct sb_modbus_limits *lim, size_t *order,
                    struct sb_modbus_req *reqs, size_t *nreq);

#endif /* SB_DRIVERS_MODBUS_H */

/*
 * mbdev.c - the simulated building's Modbus TCP meters (mbdev.h).
 *
 * In this file, top to bottom: what each meter is (kinds) and what each
 * profile entry name means (quantities); the electrical model; registers
 * from the model (sync and value share one encoder); requests (framing,
 * checks, libmodbus replies); sockets and uv_poll handles; creation;
 * list / site / bind / value.
 *
 * Why not modbus_receive(): libmodbus 3.1.6 waits for the rest of a frame in
 * select() (byte timeout 0.5 s, or forever with it off), which would stall
 * the loop on a slow or hostile client and aborts on a descriptor >=
 * FD_SETSIZE (docs/internals/modbus.md).  A Modbus/TCP frame carries its
 * own length in the MBAP header, so we collect bytes without blocking and
 * hand whole frames to modbus_reply() / modbus_reply_exception(), which only
 * send().  Requests that would make libmodbus itself answer an exception
 * (bad quantity, unknown function) are answered with modbus_reply_exception()
 * before modbus_reply() sees them: modbus_reply() sleeps for the response
 * timeout and flushes before such answers.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <modbus.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"
#include "sim/mbdev.h"
#include "sim/plant/plant.h"

#define MAX_METERS      8
#define MAX_CLIENTS_CAP 64
#define MBAP_LEN        7       /* transaction, protocol, length, unit id */
#define ADU_MAX         260     /* Modbus TCP ADU: 7 + 253 (MODBUS_TCP_MAX_ADU_LENGTH) */
#define DEFAULT_PORT    5020
#define DEFAULT_CLIENTS 8
#define DEFAULT_IDLE_S  300
#define UNIT_ID         1       /* the meters' unit identifier (0 and 255 also answer) */
#define DEMAND_MIN      60      /* SDM630 demand period default, minutes */
#define DEMAND_RING     (DEMAND_MIN + 1)
#define ACCEPT_BURST    16      /* connections accepted per readable event */
#define MAX_HANDLES     (1u << 20)  /* bound sources (distinct register reads) */
#define TAU             6.283185307179586

/* ------------------------------------------------------------ meters */

/* One kind of meter the building has. */
struct kind {
    const char *suffix;         /* "MAIN": the device is "MTR-MAIN" */
    const char *kw, *kwh;       /* plant points: power, energy */
    const char *profile;        /* profile file base name */
    const char *parent;         /* suffix of the meter feeding it, NULL for the incomer */
    double v_ln;                /* nominal line-to-neutral volts */
    double p_half;              /* kW at which the power factor is halfway up its range */
    const char *vendor, *model; /* for the site document */
    const char *brick, *label;  /* Brick class, human name */
    int main;                   /* the site meter: voltages, currents, PF in the site document */
};

/* PM5xxx on a 480Y/277 V US service; SDM630 keeps its own 400/230 V.
 * p_half is set so the default 5,000 m2 building spans PF 0.93 (night) to
 * 0.96 (afternoon peak). */
static const struct kind kinds[] = {
    { "MAIN", "meter.main.kw", "meter.main.kwh", "schneider-pm5xxx", NULL, 277.0, 60.0,
      "Schneider Electric", "PowerLogic PM5560 (simulated)", "Building_Electrical_Meter",
      "Main electricity meter", 1 },
    { "LIGHTING", "meter.lighting.kw", "meter.lighting.kwh", "eastron-sdm630", "MAIN", 230.0, 15.0,
      "Eastron", "SDM630-Modbus V2 (simulated)", "Electrical_Meter", "Lighting sub-meter", 0 },
    { "PLUGS", "meter.plugs.kw", "meter.plugs.kwh", "eastron-sdm630", "MAIN", 230.0, 15.0,
      "Eastron", "SDM630-Modbus V2 (simulated)", "Electrical_Meter", "Plug loads sub-meter", 0 },
    { "HVAC", "meter.hvac.kw", "meter.hvac.kwh", "eastron-sdm630", "MAIN", 230.0, 25.0,
      "Eastron", "SDM630-Modbus V2 (simulated)", "Electrical_Meter", "HVAC sub-meter", 0 },
    { "CHILLER", "chiller.kw", "meter.chiller.kwh", "eastron-sdm630", "HVAC", 230.0, 20.0,
      "Eastron", "SDM630-Modbus V2 (simulated)", "Electrical_Meter", "Chiller sub-meter", 0 },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

/* What a profile entry reports.  Phase quantities are three in a row. */
enum qty {
    Q_NONE = 0,                 /* not modelled: NaN (floats) or 0 */
    Q_P, Q_PH_P, Q_PH_P2, Q_PH_P3,          /* kW */
    Q_E_IMP, Q_E_EXP, Q_E_TOT, Q_DEMAND,    /* kWh; demand kW */
    Q_VLN, Q_PH_VLN, Q_PH_VLN2, Q_PH_VLN3,  /* V: average, an/bn/cn */
    Q_VLL, Q_PH_VLL, Q_PH_VLL2, Q_PH_VLL3,  /* V: average, ab/bc/ca */
    Q_IAVG, Q_ISUM, Q_IN, Q_PH_I, Q_PH_I2, Q_PH_I3,  /* A */
    Q_PF, Q_PH_PF, Q_PH_PF2, Q_PH_PF3,      /* dimensionless */
    Q_FREQ,                                 /* Hz */
    Q_PH_VTHD, Q_PH_VTHD2, Q_PH_VTHD3,      /* % */
    Q_PH_ITHD, Q_PH_ITHD2, Q_PH_ITHD3,      /* % */
    Q_COUNT
};

/* Entry names of profiles/schneider-pm5xxx.json and eastron-sdm630.json. */
static const struct { const char *name; int q; } qnames[] = {
    { "total_active_power", Q_P }, { "active_power_a", Q_PH_P }, { "active_power_b", Q_PH_P2 },
    { "active_power_c", Q_PH_P3 }, { "power_l1", Q_PH_P }, { "power_l2", Q_PH_P2 },
    { "power_l3", Q_PH_P3 },
    { "active_energy_delivered", Q_E_IMP }, { "active_energy_received", Q_E_EXP },
    { "active_energy_delivered_wh", Q_E_IMP }, { "active_energy_received_wh", Q_E_EXP },
    { "import_active_energy", Q_E_IMP }, { "export_active_energy", Q_E_EXP },
    { "total_active_energy", Q_E_TOT }, { "total_power_demand", Q_DEMAND },
    { "voltage_ln_avg", Q_VLN }, { "voltage_an", Q_PH_VLN }, { "voltage_bn", Q_PH_VLN2 },
    { "voltage_cn", Q_PH_VLN3 }, { "voltage_l1", Q_PH_VLN }, { "voltage_l2", Q_PH_VLN2 },
    { "voltage_l3", Q_PH_VLN3 },
    { "voltage_ll_avg", Q_VLL }, { "voltage_ab", Q_PH_VLL }, { "voltage_bc", Q_PH_VLL2 },
    { "voltage_ca", Q_PH_VLL3 },
    { "current_avg", Q_IAVG }, { "current_sum", Q_ISUM }, { "current_n", Q_IN },
    { "current_a", Q_PH_I }, { "current_b", Q_PH_I2 }, { "current_c", Q_PH_I3 },
    { "current_l1", Q_PH_I }, { "current_l2", Q_PH_I2 }, { "current_l3", Q_PH_I3 },
    { "total_power_factor", Q_PF }, { "power_factor_l1", Q_PH_PF }, { "power_factor_l2", Q_PH_PF2 },
    { "power_factor_l3", Q_PH_PF3 }, { "frequency", Q_FREQ },
    { "voltage_thd_l1", Q_PH_VTHD }, { "voltage_thd_l2", Q_PH_VTHD2 }, { "voltage_thd_l3", Q_PH_VTHD3 },
    { "current_thd_l1", Q_PH_ITHD }, { "current_thd_l2", Q_PH_ITHD2 }, { "current_thd_l3", Q_PH_ITHD3 },
};

static int qty_of(const char *name)
{
    for (size_t i = 0; i < sizeof qnames / sizeof qnames[0]; i++)
        if (strcmp(qnames[i].name, name) == 0)
            return qnames[i].q;
    return Q_NONE;
}

/* The unit the model computes a quantity in (sbems canonical units). */
static enum sb_unit qty_unit(int q)
{
    if (q == Q_P || (q >= Q_PH_P && q <= Q_PH_P3) || q == Q_DEMAND)
        return SB_UNIT_KW;
    if (q >= Q_E_IMP && q <= Q_E_TOT)
        return SB_UNIT_KWH;
    if (q >= Q_VLN && q <= Q_PH_VLL3)
        return SB_UNIT_V;
    if (q >= Q_IAVG && q <= Q_PH_I3)
        return SB_UNIT_A;
    if (q == Q_FREQ)
        return SB_UNIT_HZ;
    if (q >= Q_PH_VTHD)
        return SB_UNIT_PERCENT;
    return SB_UNIT_NONE;
}

/* A client connection.  Heap; freed by its close callback (libuv: memory
 * of a handle lives until the callback), which touches nothing else. */
struct client {
    uv_poll_t poll;             /* readable events on fd */
    int fd;                     /* the connection (closed in the close callback) */
    struct meter *m;            /* the meter it talks to (while not closing) */
    uint64_t last;              /* uv_now() of the last whole request (idle timeout) */
    size_t len;                 /* bytes in buf */
    int closing;                /* uv_close called */
    uint8_t buf[ADU_MAX];       /* bytes of the request being framed */
};

/* A listening socket, heap for the same reason as a client. */
struct listener {
    uv_poll_t poll;             /* readable = a connection to accept */
    int fd;                     /* the socket (closed in the close callback) */
    struct meter *m;            /* its meter (while not closing) */
    int active;                 /* polling (not offline, not paused) */
};

/* One register table a meter serves: [lo, lo + n), listed[] per register. */
struct regtab {
    uint16_t lo;                /* first address */
    uint32_t n;                 /* registers in the range (0: table unused) */
    uint8_t *listed;            /* 1 when some profile entry covers the register (owned) */
};

struct meter {
    struct sb_simmb *x;         /* the set */
    const struct kind *kind;    /* what it is */
    char name[80];              /* "MTR-MAIN", "HOU-MTR-MAIN" */
    char eq_id[80];             /* "mtr-main" */
    struct in_addr in;          /* its address */
    char ip[INET_ADDRSTRLEN];
    double seed;                /* phase offset of its ripple */
    int kw_idx, kwh_idx;        /* plant points */
    const struct sb_modbus_profile *prof;   /* its register map (owned by the set) */
    int *qty;                   /* enum qty per profile entry (owned) */
    struct regtab tab[2];       /* [0] input registers, [1] holding registers */
    modbus_mapping_t *mm;       /* what the registers hold now (owned) */
    modbus_t *ctx;              /* builds replies; its socket is set per reply (owned) */
    struct listener *lst;       /* NULL without listen or after close */
    struct client *cl[MAX_CLIENTS_CAP];     /* open connections (slots may be NULL) */
    unsigned ncl;               /* non-NULL slots */
    int offline;                /* last answer of site->offline */
    int accept_paused;          /* accept failed (EMFILE...): resumed by the next sync */
    /* demand: kWh at the last DEMAND_RING whole minutes of simulated time */
    double dm_ring[DEMAND_RING];
    int dm_n;                   /* valid ring entries (capped) */
    int dm_started;             /* a first sample was taken */
    int64_t dm_min, dm_ms;      /* minute index and time of the last sync */
    double dm_kwh;              /* kWh at dm_ms */
    double demand_kw;           /* sliding 60-minute average power; 0 until an hour is seen */
};

/* A bound source: which meter and where, decoded as the address says. */
struct handle {
    int meter;                  /* index in x->m */
    struct sb_modbus_map map;   /* location, type, orders, scale (enums dropped) */
};

struct handles {
    struct handle *v;           /* owned */
    size_t n, cap;
};

struct sb_simmb {
    uv_loop_t *loop;            /* borrowed; NULL allowed without listen */
    struct sb_plant *plant;     /* borrowed */
    struct sb_sim_site_ref site;    /* copied; the strings are borrowed */
    unsigned port;              /* every meter's TCP port */
    unsigned max_clients;       /* per meter */
    uint64_t idle_ms;           /* idle timeout */
    int listening;              /* cfg->listen and not closed */
    struct sb_modbus_profile *profs[NKINDS];    /* loaded profiles (owned) */
    size_t nprof;
    struct meter m[MAX_METERS];
    size_t n;
    struct handles *ht;         /* bind()'s table (owned; mutable through a const set) */
};

/* --------------------------------------------------- electrical model */

/* Everything a meter measures at one instant. */
struct elec {
    double p, kwh;              /* kW (>= 0), kWh */
    double pa[3];               /* kW per phase */
    double vln[3], vll[3];      /* V: an bn cn; ab bc ca */
    double i[3], in;            /* A: phases, neutral */
    double pf;                  /* power factor (same on all phases) */
    double f;                   /* Hz */
    double vthd[3], ithd[3];    /* % */
};

/* Line-to-line magnitude of two line-to-neutral phasors 120 degrees apart:
 * |a - b|^2 = a^2 + b^2 - 2ab cos(120 deg) = a^2 + b^2 + ab. */
static double line_line(double a, double b)
{
    return sqrt(a * a + b * b + a * b);
}

/* Voltages: nominal, a daily swell at night / sag at peak, slow ripples,
 * a per-phase wobble and a drop with load. */
static void model_volts(const struct meter *m, double t, double x, struct elec *e)
{
    double ph = m->seed;
    double grid = 1.0 + 0.006 * cos(TAU * t / 86400.0) + 0.003 * sin(TAU * t / 587.0 + ph) +
                  0.0015 * sin(TAU * t / 97.0 + 2.0 * ph);

    for (int k = 0; k < 3; k++)
        e->vln[k] = m->kind->v_ln * (grid + 0.004 * sin(TAU * t / 1291.0 + 2.1 * k + ph) -
                                     0.015 * x);
    for (int k = 0; k < 3; k++)
        e->vll[k] = line_line(e->vln[k], e->vln[(k + 1) % 3]);
    for (int k = 0; k < 3; k++) {
        e->vthd[k] = 1.6 + 0.6 * x + 0.2 * sin(TAU * t / 2473.0 + k + ph);
        e->ithd[k] = 6.0 + 16.0 * (1.0 - x) + 1.5 * sin(TAU * t / 1013.0 + k + ph);
    }
}

/* Power split over the phases (a slowly moving imbalance of ~1.5 % that sums
 * to zero, so the phases add up to the total), then currents from
 * P_k = V_k I_k PF (per phase; for balanced phases I = P / (sqrt(3) V_LL PF))
 * and the neutral as the phasor sum of the three (same angle lag on each). */
static void model_amps(const struct meter *m, double t, struct elec *e)
{
    double d[3], mean = 0, re = 0, im = 0;

    for (int k = 0; k < 3; k++) {
        d[k] = 0.015 * sin(TAU * t / 1777.0 + 2.1 * k + m->seed);
        mean += d[k] / 3.0;
    }
    e->pa[0] = e->p / 3.0 * (1.0 + d[0] - mean);
    e->pa[1] = e->p / 3.0 * (1.0 + d[1] - mean);
    e->pa[2] = e->p - e->pa[0] - e->pa[1];
    for (int k = 0; k < 3; k++) {
        e->i[k] = e->p > 0 ? e->pa[k] * 1000.0 / (e->vln[k] * e->pf) : 0.0;
        re += e->i[k] * cos(-TAU * k / 3.0);
        im += e->i[k] * sin(-TAU * k / 3.0);
    }
    e->in = hypot(re, im);
}

/* The meter's readings now, from the plant's kW and kWh at the plant's time. */
static void model(const struct meter *m, const struct sb_plant *plant, struct elec *e)
{
    double t = (double)sb_plant_time_ms(plant) / 1000.0, p = 0, kwh = NAN, x;

    sb_plant_read(plant, m->kw_idx, &p);
    sb_plant_read(plant, m->kwh_idx, &kwh);
    memset(e, 0, sizeof(*e));
    e->p = p > 0 ? p : 0;       /* an import-only meter; NaN reads as no load */
    e->kwh = kwh;
    x = e->p / (e->p + m->kind->p_half);    /* 0 idle .. -> 1 heavy load */
    /* Lagging PF rising with load (motors, drivers with PFC); no current: 1 */
    e->pf = e->p > 0 ? 0.92 + 0.05 * x + 0.003 * sin(TAU * t / 733.0 + m->seed) : 1.0;
    /* one grid: every meter sees the same frequency */
    e->f = 60.0 + 0.012 * sin(TAU * t / 311.0) + 0.006 * sin(TAU * t / 53.0);
    model_volts(m, t, x, e);
    model_amps(m, t, e);
}

static double avg3(const double *v)
{
    return (v[0] + v[1] + v[2]) / 3.0;
}

/* A quantity in its qty_unit(). */
static double qty_value(const struct meter *m, const struct elec *e, int q)
{
    switch (q) {
    case Q_P:       return e->p;
    case Q_PH_P: case Q_PH_P2: case Q_PH_P3: return e->pa[q - Q_PH_P];
    case Q_E_IMP:   return e->kwh;
    case Q_E_EXP:   return 0.0;             /* nothing flows back */
    case Q_E_TOT:   return e->kwh;          /* SDM630: import + export */
    case Q_DEMAND:  return m->demand_kw;
    case Q_VLN:     return avg3(e->vln);
    case Q_PH_VLN: case Q_PH_VLN2: case Q_PH_VLN3: return e->vln[q - Q_PH_VLN];
    case Q_VLL:     return avg3(e->vll);
    case Q_PH_VLL: case Q_PH_VLL2: case Q_PH_VLL3: return e->vll[q - Q_PH_VLL];
    case Q_IAVG:    return avg3(e->i);
    case Q_ISUM:    return e->i[0] + e->i[1] + e->i[2];
    case Q_IN:      return e->in;
    case Q_PH_I: case Q_PH_I2: case Q_PH_I3: return e->i[q - Q_PH_I];
    /* PM5xxx "4Q FP PF": in quadrant 1 (import, lagging) the register is the
     * PF itself (PM5500 user manual, "Power factor register format"); SDM630:
     * positive = forward current. */
    case Q_PF: case Q_PH_PF: case Q_PH_PF2: case Q_PH_PF3: return e->pf;
    case Q_FREQ:    return e->f;
    case Q_PH_VTHD: case Q_PH_VTHD2: case Q_PH_VTHD3: return e->vthd[q - Q_PH_VTHD];
    case Q_PH_ITHD: case Q_PH_ITHD2: case Q_PH_ITHD3: return e->ithd[q - Q_PH_ITHD];
    default:        return NAN;
    }
}

/* Sliding 60-minute demand from the kWh at every whole simulated minute
 * (SDM630: demand period 60 min by default, holding register 40003).  A
 * step that crosses minutes interpolates the kWh linearly between syncs,
 * so accelerated time and backfill steps give the same demand. */
static void demand_update(struct meter *m, int64_t now_ms, double kwh)
{
    int64_t min = now_ms >= 0 ? now_ms / 60000 : -((-now_ms + 59999) / 60000), first;

    if (!m->dm_started || now_ms < m->dm_ms || !isfinite(kwh)) {
        m->dm_started = isfinite(kwh);
        m->dm_n = 0;
        m->demand_kw = 0;
    } else {
        first = m->dm_min + 1;
        if (min - first >= DEMAND_RING)
            first = min - DEMAND_RING + 1;
        for (int64_t b = first; b <= min; b++) {
            double frac = ((double)b * 60000.0 - (double)m->dm_ms) / (double)(now_ms - m->dm_ms);
            m->dm_ring[((b % DEMAND_RING) + DEMAND_RING) % DEMAND_RING] =
                b * 60000 == now_ms ? kwh : m->dm_kwh + frac * (kwh - m->dm_kwh);
            if (m->dm_n < DEMAND_RING)
                m->dm_n++;
        }
        if (m->dm_n == DEMAND_RING)     /* kWh over one hour = average kW */
            m->demand_kw = m->dm_ring[((min % DEMAND_RING) + DEMAND_RING) % DEMAND_RING] -
                           m->dm_ring[(((min - DEMAND_MIN) % DEMAND_RING) + DEMAND_RING) %
                                      DEMAND_RING];
    }
    m->dm_min = min;
    m->dm_ms = now_ms;
    m->dm_kwh = kwh;
}

/* ----------------------------------------------------------- registers */

/* The "not available" content of an entry: NaN for floats (what meters
 * send), 0 for integers, the register unchanged for a bit. */
static void encode_na(const struct sb_modbus_map *map, uint16_t *w)
{
    struct sb_modbus_map as_int = *map;

    as_int.enums = NULL;
    as_int.n_enums = 0;
    if (map->type == SB_MODBUS_FLOAT32) {
        as_int.type = SB_MODBUS_UINT32;
        sb_modbus_encode(&as_int, 2143289344.0, w, 4);          /* 0x7fc00000 */
    } else if (map->type == SB_MODBUS_FLOAT64) {
        as_int.type = SB_MODBUS_UINT64;
        sb_modbus_encode(&as_int, 9221120237041090560.0, w, 4); /* 0x7ff8000000000000 */
    } else if (map->type != SB_MODBUS_BIT) {
        sb_modbus_encode(&as_int, 0, w, 4);
    }
}

/* Entry i of meter m into w[0..regs) as the profile says: the quantity in
 * the entry's unit, raw = (v - offset) / scale (rounded for integers), in
 * its type and orders.  w[0] holds the register's current content for
 * type "bit". */
static void encode_entry(const struct meter *m, size_t i, const struct elec *e, uint16_t *w)
{
    const struct sb_modbus_map *map = &m->prof->entries[i];
    int q = m->qty[i];
    double v = qty_value(m, e, q), raw;

    if (q != Q_NONE && map->unit != SB_UNIT_INVALID &&
        sb_unit_convert(qty_unit(q), map->unit, v, &v) != 0)
        v = NAN;
    if (sb_modbus_unscale(map, v, &raw, NULL, 0) == 0 && sb_modbus_encode(map, raw, w, 4) > 0)
        return;
    encode_na(map, w);
}

static int tab_index(int table)
{
    return table == SB_MODBUS_INPUT ? 0 : table == SB_MODBUS_HOLDING ? 1 : -1;
}

static uint16_t *tab_regs(const struct meter *m, int t)
{
    return t == 0 ? m->mm->tab_input_registers : m->mm->tab_registers;
}

/* Every entry into the mapping, in file order (a later entry overlapping an
 * earlier one wins, as in fill_window). */
static void refresh(struct meter *m, const struct sb_plant *plant)
{
    struct elec e;

    model(m, plant, &e);
    for (size_t i = 0; i < m->prof->n; i++) {
        const struct sb_modbus_map *map = &m->prof->entries[i];
        int t = tab_index(map->table);
        unsigned k = sb_modbus_type_regs(map->type);
        uint16_t w[4], *dst = tab_regs(m, t) + (map->addr - m->tab[t].lo);

        memcpy(w, dst, k * sizeof(w[0]));
        encode_entry(m, i, &e, w);
        memcpy(dst, w, k * sizeof(w[0]));
    }
}

/* What registers [addr, addr + n) of table t (n <= 4) hold for readings e:
 * the same entries, order and encoder as refresh(), without the mapping. */
static void fill_window(const struct meter *m, const struct elec *e, int t, uint16_t addr,
                        unsigned n, uint16_t *out)
{
    memset(out, 0, n * sizeof(out[0]));
    for (size_t i = 0; i < m->prof->n; i++) {
        const struct sb_modbus_map *map = &m->prof->entries[i];
        unsigned k = sb_modbus_type_regs(map->type);
        uint16_t w[4];

        if (tab_index(map->table) != t || map->addr >= addr + n || map->addr + k <= addr)
            continue;
        for (unsigned j = 0; j < k; j++) {
            unsigned a = map->addr + j;
            w[j] = a >= addr && a < addr + n ? out[a - addr] : 0;
        }
        encode_entry(m, i, e, w);
        for (unsigned j = 0; j < k; j++) {
            unsigned a = map->addr + j;
            if (a >= addr && a < addr + n)
                out[a - addr] = w[j];
        }
    }
}

/* 1 when every register of [addr, addr + count) of table t is listed. */
static int listed(const struct meter *m, int t, unsigned addr, unsigned count)
{
    const struct regtab *r;

    if (t < 0)
        return 0;
    r = &m->tab[t];
    if (count == 0 || addr < r->lo || addr + count > r->lo + r->n)
        return 0;
    for (unsigned a = addr; a < addr + count; a++)
        if (!r->listed[a - r->lo])
            return 0;
    return 1;
}

/* ------------------------------------------------------------ requests */

/* Modbus Messaging on TCP/IP Implementation Guide V1.0b §3.1.3: the MBAP
 * header is transaction id (2), protocol id (2, 0 = MODBUS), length (2:
 * the bytes that follow, unit id included), unit id (1); the ADU is at most
 * 260 bytes, so length is 2..254.  Application Protocol V1.1b3 §4.1:
 * function code 0 is invalid, 128..255 are exception responses; §6.1-6.4:
 * a read request's PDU is function, address, quantity (5 bytes). */
int sb_simmb__frame(const uint8_t *b, size_t len, struct sb_simmb_req *r)
{
    size_t body, total;

    if (len >= 4 && (b[2] != 0 || b[3] != 0))
        return SB_EPROTO;
    if (len < MBAP_LEN)
        return 0;
    body = (size_t)b[4] << 8 | b[5];
    if (body < 2 || body > ADU_MAX - 6)
        return SB_EPROTO;
    total = 6 + body;
    if (len < total)
        return 0;
    memset(r, 0, sizeof(*r));
    r->len = total;
    r->unit = b[6];
    r->fc = b[7];
    if (r->fc == 0 || r->fc >= 0x80)
        return SB_EPROTO;
    if (r->fc <= 4) {
        if (body != 6)
            return SB_EPROTO;
        r->addr = (uint16_t)(b[8] << 8 | b[9]);
        r->count = (uint16_t)(b[10] << 8 | b[11]);
    }
    return 1;
}

/* The exception a request gets, or 0 when modbus_reply() answers it, in the
 * order of Application Protocol V1.1b3 §6 (function, quantity, address). */
static int check_request(const struct meter *m, const struct sb_simmb_req *r)
{
    unsigned max;

    /* Not our unit: a gateway's "target device failed to respond" (§7,
     * code 0x0B) rather than answering for a device we are not. */
    if (r->unit != UNIT_ID && r->unit != 0 && r->unit != 0xff)
        return MODBUS_EXCEPTION_GATEWAY_TARGET;
    if (r->fc < 1 || r->fc > 4)     /* a meter: reads only */
        return MODBUS_EXCEPTION_ILLEGAL_FUNCTION;
    max = r->fc <= 2 ? MODBUS_MAX_READ_BITS : MODBUS_MAX_READ_REGISTERS;
    if (r->count < 1 || r->count > max)
        return MODBUS_EXCEPTION_ILLEGAL_DATA_VALUE;
    if (!listed(m, r->fc == 4 ? 0 : r->fc == 3 ? 1 : -1, r->addr, r->count))
        return MODBUS_EXCEPTION_ILLEGAL_DATA_ADDRESS;
    return 0;
}

static void client_close(struct client *c);

/* Answer one framed request (c->buf[0..r->len)); a failed send closes. */
static void serve(struct client *c, const struct sb_simmb_req *r)
{
    struct meter *m = c->m;
    int exc = check_request(m, r), rc;

    modbus_set_socket(m->ctx, c->fd);
    rc = exc ? modbus_reply_exception(m->ctx, c->buf, (unsigned)exc)
             : modbus_reply(m->ctx, c->buf, (int)r->len, m->mm);
    modbus_set_socket(m->ctx, -1);
    if (rc < 0)
        client_close(c);
}

/* ------------------------------------------------------------- sockets */

static void on_client_closed(uv_handle_t *h)
{
    struct client *c = h->data;
    close(c->fd);
    free(c);
}

/* Drop a connection: out of the meter's table now, memory in the callback. */
static void client_close(struct client *c)
{
    struct meter *m = c->m;

    if (c->closing)
        return;
    c->closing = 1;
    for (unsigned i = 0; i < MAX_CLIENTS_CAP; i++)
        if (m->cl[i] == c) {
            m->cl[i] = NULL;
            m->ncl--;
        }
    uv_close((uv_handle_t *)&c->poll, on_client_closed);
}

static void close_clients(struct meter *m)
{
    for (unsigned i = 0; i < MAX_CLIENTS_CAP; i++)
        if (m->cl[i])
            client_close(m->cl[i]);
}

static void on_accept(uv_poll_t *h, int status, int events);

/* Poll the listening socket when the meter is online and not paused. */
static void listener_update(struct meter *m)
{
    struct listener *l = m->lst;
    int want = l && !m->offline && !m->accept_paused;

    if (!l || want == l->active)
        return;
    l->active = want && uv_poll_start(&l->poll, UV_READABLE, on_accept) == 0;
    if (!want)
        uv_poll_stop(&l->poll);
}

/* Ask the site whether the meter is offline; on a change, a dead meter
 * drops its connections and stops accepting (connections then wait in the
 * kernel's backlog unanswered, like a hung device), a live one accepts
 * again. */
static int offline_now(const struct sb_simmb *x, const struct meter *m)
{
    return x->site.offline && x->site.offline(x->site.offline_ud, m->name) == 1;
}

static int meter_offline(struct meter *m)
{
    int off = offline_now(m->x, m);

    if (off != m->offline) {
        m->offline = off;
        if (off)
            close_clients(m);
        listener_update(m);
    }
    return off;
}

/* Read what is there (never blocks: the socket is non-blocking) and answer
 * every whole request; bytes that cannot be Modbus/TCP close this client
 * only. */
static void on_client(uv_poll_t *h, int status, int events)
{
    struct client *c = h->data;
    struct meter *m = c->m;
    struct sb_simmb_req r;
    ssize_t got;
    int rc;

    if (c->closing || meter_offline(m))
        return;
    if (status < 0) {
        client_close(c);
        return;
    }
    got = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (got <= 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)got;
    while (!c->closing && (rc = sb_simmb__frame(c->buf, c->len, &r)) != 0) {
        if (rc < 0) {
            client_close(c);
            break;
        }
        c->last = uv_now(m->x->loop);
        serve(c, &r);
        memmove(c->buf, c->buf + r.len, c->len - r.len);
        c->len -= r.len;
    }
}

static void client_open(struct meter *m, int fd)
{
    struct client *c = calloc(1, sizeof(*c));
    int one = 1;
    unsigned i = 0;

    if (!c || uv_poll_init(m->x->loop, &c->poll, fd) != 0) {
        free(c);
        close(fd);
        return;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->m = m;
    c->poll.data = c;
    c->last = uv_now(m->x->loop);
    while (m->cl[i])
        i++;
    m->cl[i] = c;
    m->ncl++;
    if (uv_poll_start(&c->poll, UV_READABLE, on_client) != 0)
        client_close(c);
}

static void on_accept(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;
    struct meter *m = l->m;

    if (meter_offline(m))
        return;
    if (status < 0) {           /* level-triggered: stop until the next sync retries */
        m->accept_paused = 1;
        listener_update(m);
        return;
    }
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            /* out of descriptors: the socket stays readable, so stop
             * polling it (no busy loop) until the next sync */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                m->accept_paused = 1;
                listener_update(m);
            }
            return;
        }
        if (m->ncl >= m->x->max_clients)
            close(fd);          /* full: accept and drop, as a busy device does */
        else
            client_open(m, fd);
    }
}

static void on_listener_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    close(l->fd);
    free(l);
}

static int listener_open(struct meter *m, char *err, size_t errlen)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)m->x->port),
                              .sin_addr = m->in };
    struct listener *l = NULL;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const char *what = "socket";

    if (fd < 0)
        goto fail;
    what = "bind";
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        goto fail;
    what = "listen";
    if (listen(fd, 16) != 0)
        goto fail;
    if (!(l = calloc(1, sizeof(*l))) || uv_poll_init(m->x->loop, &l->poll, fd) != 0) {
        errno = l ? EINVAL : ENOMEM;
        free(l);
        goto fail;
    }
    l->fd = fd;
    l->m = m;
    l->poll.data = l;
    m->lst = l;
    listener_update(m);
    return 0;
fail:
    sb_errf(err, errlen, "%s: %s %s:%u: %s", m->name, what, m->ip, m->x->port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return SB_EIO;
}

/* ------------------------------------------------------------ creation */

/* The profile called name, loaded once per set. */
static int profile_get(struct sb_simmb *x, const char *dir, const char *name,
                       const struct sb_modbus_profile **out, char *err, size_t errlen)
{
    struct sb_modbus_profile *p;
    int rc;

    for (size_t i = 0; i < x->nprof; i++)
        if (strcmp(x->profs[i]->name, name) == 0) {
            *out = x->profs[i];
            return 0;
        }
    if ((rc = sb_modbus_profile_load(dir, name, &p, err, errlen)) != 0)
        return rc;
    x->profs[x->nprof++] = p;   /* at most one per kind */
    *out = p;
    return 0;
}

/* Quantity per entry; only register tables, units that fit. */
static int meter_entries(struct meter *m, char *err, size_t errlen)
{
    if (!(m->qty = calloc(m->prof->n, sizeof(*m->qty))))
        return SB_ENOMEM;
    for (size_t i = 0; i < m->prof->n; i++) {
        const struct sb_modbus_map *e = &m->prof->entries[i];
        int q = qty_of(e->name);

        if (tab_index(e->table) < 0) {
            sb_errf(err, errlen, "%s: profile %s entry \"%s\": a meter serves registers, not "
                    "the %s table", m->name, m->prof->name, e->name,
                    sb_modbus_table_name(e->table));
            return SB_EINVAL;
        }
        if (q != Q_NONE && e->unit != SB_UNIT_INVALID &&
            sb_unit_dim(e->unit) != sb_unit_dim(qty_unit(q))) {
            sb_errf(err, errlen, "%s: profile %s entry \"%s\": unit %s is not a %s unit",
                    m->name, m->prof->name, e->name, sb_unit_symbol(e->unit),
                    sb_dim_name(sb_unit_dim(qty_unit(q))));
            return SB_EINVAL;
        }
        m->qty[i] = q;
    }
    return 0;
}

/* Register ranges and listed flags per table, then the mapping over them. */
static int meter_tables(struct meter *m)
{
    unsigned lo[2] = { 65535, 65535 }, hi[2] = { 0, 0 };

    for (size_t i = 0; i < m->prof->n; i++) {
        const struct sb_modbus_map *e = &m->prof->entries[i];
        int t = tab_index(e->table);
        unsigned end = e->addr + sb_modbus_type_regs(e->type) - 1;
        lo[t] = e->addr < lo[t] ? e->addr : lo[t];
        hi[t] = end > hi[t] ? end : hi[t];
    }
    for (int t = 0; t < 2; t++) {
        m->tab[t].lo = (uint16_t)(lo[t] <= hi[t] ? lo[t] : 0);
        m->tab[t].n = lo[t] <= hi[t] ? hi[t] - lo[t] + 1 : 0;
        if (m->tab[t].n && !(m->tab[t].listed = calloc(m->tab[t].n, 1)))
            return SB_ENOMEM;
    }
    for (size_t i = 0; i < m->prof->n; i++) {
        const struct sb_modbus_map *e = &m->prof->entries[i];
        struct regtab *r = &m->tab[tab_index(e->table)];
        for (unsigned j = 0; j < sb_modbus_type_regs(e->type); j++)
            r->listed[e->addr + j - r->lo] = 1;
    }
    m->mm = modbus_mapping_new_start_address(0, 0, 0, 0, m->tab[1].lo, (int)m->tab[1].n,
                                             m->tab[0].lo, (int)m->tab[0].n);
    return m->mm ? 0 : SB_ENOMEM;
}

/* Names per docs: "MTR-MAIN" for site 0, "HOU-MTR-MAIN" after; the
 * equipment id is the name lower-cased. */
static void meter_names(struct meter *m, const struct sb_sim_site_ref *s)
{
    char pre[40] = "";
    size_t i;

    if (s->index > 0 && s->building && s->building[0]) {
        for (i = 0; s->building[i] && i + 2 < sizeof(pre); i++)
            pre[i] = (char)toupper((unsigned char)s->building[i]);
        pre[i++] = '-';
        pre[i] = 0;
    }
    snprintf(m->name, sizeof(m->name), "%sMTR-%s", pre, m->kind->suffix);
    for (i = 0; m->name[i] && i + 1 < sizeof(m->eq_id); i++)
        m->eq_id[i] = (char)tolower((unsigned char)m->name[i]);
    m->eq_id[i] = 0;
}

static int meter_init(struct sb_simmb *x, const struct kind *k, struct in_addr in,
                      const char *dir, char *err, size_t errlen)
{
    struct meter *m = &x->m[x->n];
    int rc;

    memset(m, 0, sizeof(*m));
    m->x = x;
    m->kind = k;
    m->in = in;
    m->seed = 1.3 * (double)x->n + 0.7 * (double)x->site.index;
    m->kw_idx = sb_plant_find(x->plant, k->kw);
    m->kwh_idx = sb_plant_find(x->plant, k->kwh);
    inet_ntop(AF_INET, &in, m->ip, sizeof(m->ip));
    meter_names(m, &x->site);
    x->n++;                     /* from here on, free() releases it */
    if ((rc = profile_get(x, dir, k->profile, &m->prof, err, errlen)) ||
        (rc = meter_entries(m, err, errlen)) || (rc = meter_tables(m)))
        return rc;
    if (!(m->ctx = modbus_new_tcp(m->ip, (int)x->port)))
        return SB_ENOMEM;
    refresh(m, x->plant);
    if (x->listening)
        return listener_open(m, err, errlen);
    return 0;
}

static int check_cfg(const struct sb_simmb_cfg *cfg, const struct sb_sim_site_ref *site,
                     struct sb_simmb *x, struct in_addr *base, char *err, size_t errlen)
{
    char def[INET_ADDRSTRLEN];
    const char *ip = cfg->ip_base;

    if (site->index < 0 || site->index > 255 || cfg->port > 65535 ||
        cfg->max_clients > MAX_CLIENTS_CAP || cfg->idle_s > 86400) {
        sb_errf(err, errlen, "modbus meters: site index 0..255, port 1..65535, max_clients "
                "1..%d, idle_s 1..86400", MAX_CLIENTS_CAP);
        return SB_EINVAL;
    }
    if (!ip) {
        snprintf(def, sizeof(def), "127.0.%d.60", site->index);
        ip = def;
    }
    /* loopback only: 127.0.0.0/8, and room for every meter after the base */
    if (inet_pton(AF_INET, ip, base) != 1 || (ntohl(base->s_addr) >> 24) != 127 ||
        ((ntohl(base->s_addr) + NKINDS) >> 24) != 127) {
        sb_errf(err, errlen, "modbus meters: address \"%s\" is not an IPv4 address in "
                "127.0.0.0/8 with room for %zu meters", ip, NKINDS);
        return SB_EINVAL;
    }
    x->port = cfg->port ? cfg->port : DEFAULT_PORT;
    x->max_clients = cfg->max_clients ? cfg->max_clients : DEFAULT_CLIENTS;
    x->idle_ms = 1000ull * (cfg->idle_s ? cfg->idle_s : DEFAULT_IDLE_S);
    return 0;
}

int sb_simmb_new(uv_loop_t *loop, struct sb_plant *plant, const struct sb_sim_site_ref *site,
                 const struct sb_simmb_cfg *cfg, struct sb_simmb **out, char *err, size_t errlen)
{
    struct sb_simmb *x = calloc(1, sizeof(*x));
    const char *dir = cfg->profile_dir ? cfg->profile_dir : "profiles";
    struct in_addr base, in;
    int rc;

    *out = NULL;
    if (!x || !(x->ht = calloc(1, sizeof(*x->ht)))) {
        free(x);
        return SB_ENOMEM;
    }
    x->loop = loop;
    x->plant = plant;
    x->site = *site;
    x->listening = cfg->listen && loop;
    if ((rc = check_cfg(cfg, site, x, &base, err, errlen)))
        goto fail;
    for (size_t k = 0; k < NKINDS; k++) {
        if (sb_plant_find(plant, kinds[k].kw) < 0 || sb_plant_find(plant, kinds[k].kwh) < 0)
            continue;           /* this plant has no such meter */
        in.s_addr = htonl(ntohl(base.s_addr) + (uint32_t)x->n);
        if ((rc = meter_init(x, &kinds[k], in, dir, err, errlen)))
            goto fail;
    }
    if (x->n == 0) {
        sb_errf(err, errlen, "modbus meters: the plant has no meter points");
        rc = SB_ENOENT;
        goto fail;
    }
    *out = x;
    return 0;
fail:
    sb_simmb_close(x);
    sb_simmb_free(x);
    return rc;
}

/* ---------------------------------------------------------------- run */

static void idle_sweep(struct meter *m, uint64_t now)
{
    for (unsigned i = 0; i < MAX_CLIENTS_CAP; i++)
        if (m->cl[i] && now - m->cl[i]->last >= m->x->idle_ms)
            client_close(m->cl[i]);
}

void sb_simmb_sync(struct sb_simmb *x, int64_t sim_ms, int64_t wall_ms)
{
    int64_t t = sb_plant_time_ms(x->plant);

    (void)sim_ms;
    (void)wall_ms;
    for (size_t i = 0; i < x->n; i++) {
        struct meter *m = &x->m[i];
        double kwh = NAN;

        meter_offline(m);
        if (m->accept_paused) {
            m->accept_paused = 0;
            listener_update(m);
        }
        sb_plant_read(x->plant, m->kwh_idx, &kwh);
        demand_update(m, t, kwh);
        refresh(m, x->plant);
        if (x->listening)
            idle_sweep(m, uv_now(x->loop));
    }
}

void sb_simmb_close(struct sb_simmb *x)
{
    for (size_t i = 0; x && i < x->n; i++) {
        struct meter *m = &x->m[i];
        close_clients(m);
        if (m->lst) {
            m->lst->m = NULL;
            uv_close((uv_handle_t *)&m->lst->poll, on_listener_closed);
            m->lst = NULL;
        }
    }
    if (x)
        x->listening = 0;
}

void sb_simmb_free(struct sb_simmb *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n; i++) {
        struct meter *m = &x->m[i];
        free(m->qty);
        free(m->tab[0].listed);
        free(m->tab[1].listed);
        if (m->mm)
            modbus_mapping_free(m->mm);
        if (m->ctx)
            modbus_free(m->ctx);
    }
    for (size_t i = 0; i < x->nprof; i++)
        sb_modbus_profile_free(x->profs[i]);
    if (x->ht)
        free(x->ht->v);
    free(x->ht);
    free(x);
}

/* ------------------------------------------------------ list and site */

json_t *sb_simmb_list(const struct sb_simmb *x)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr && i < x->n; i++) {
        const struct meter *m = &x->m[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:[s,s], s:i}",
                              "protocol", "modbus/tcp", "name", m->name, "address", m->ip,
                              "port", (int)x->port, "unit", UNIT_ID, "profile", m->prof->name,
                              "vendor", m->kind->vendor, "model", m->kind->model,
                              "plant", m->kind->kw, m->kind->kwh,
                              "registers", (int)(m->tab[0].n + m->tab[1].n));
        if (!o || json_array_append_new(arr, o) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* The points the site document declares for a meter: id suffix, profile
 * entry, name, kind, Brick class, a Haystack tag, poll seconds. */
struct ptdef {
    const char *id, *entry, *name, *kind, *brick, *tag;
    int poll_s;
};

static const struct ptdef main_points[] = {
    { "power", "total_active_power", "Active power", "power", "Electric_Power_Sensor", "power", 15 },
    { "energy", "active_energy_delivered_wh", "Active energy delivered", "energy",
      "Electric_Energy_Sensor", "energy", 60 },
    { "voltage_an", "voltage_an", "Voltage A-N", "other", "Voltage_Sensor", "volt", 60 },
    { "voltage_bn", "voltage_bn", "Voltage B-N", "other", "Voltage_Sensor", "volt", 60 },
    { "voltage_cn", "voltage_cn", "Voltage C-N", "other", "Voltage_Sensor", "volt", 60 },
    { "current_a", "current_a", "Current A", "other", "Current_Sensor", "current", 60 },
    { "current_b", "current_b", "Current B", "other", "Current_Sensor", "current", 60 },
    { "current_c", "current_c", "Current C", "other", "Current_Sensor", "current", 60 },
    { "pf", "total_power_factor", "Power factor", "other", "Power_Factor_Sensor", "pf", 60 },
    { "frequency", "frequency", "Frequency", "other", "Frequency_Sensor", "freq", 60 },
};
static const struct ptdef sub_points[] = {
    { "power", "total_active_power", "Active power", "power", "Electric_Power_Sensor", "power", 15 },
    { "energy", "import_active_energy", "Import active energy", "energy",
      "Electric_Energy_Sensor", "energy", 60 },
};

static json_t *meter_equipment(const struct sb_simmb *x, const struct meter *m)
{
    char desc[200];
    json_t *o;

    snprintf(desc, sizeof(desc), "sbems-sim Modbus TCP meter %s at %s:%u unit %d, profile %s, "
             "plant %s / %s", m->name, m->ip, x->port, UNIT_ID, m->prof->name, m->kind->kw,
             m->kind->kwh);
    o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s,s], s:s}", "id", m->eq_id,
                  "building", x->site.building ? x->site.building : "", "name", m->kind->label,
                  "type", "meter", "vendor", m->kind->vendor, "model", m->kind->model,
                  "brick", m->kind->brick, "tags", "elec", "meter", "equip",
                  m->kind->main ? "siteMeter" : "submeter", "description", desc);
    for (size_t i = 0; o && m->kind->parent && i < x->n; i++)
        if (strcmp(x->m[i].kind->suffix, m->kind->parent) == 0 &&
            json_object_set_new(o, "parent", json_string(x->m[i].eq_id)) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

static json_t *meter_point(const struct sb_simmb *x, const struct meter *m,
                           const struct ptdef *d, const struct sb_modbus_map *e)
{
    char id[160];
    const char *unit = e->unit != SB_UNIT_INVALID ? sb_unit_symbol(e->unit) : "";
    json_t *o;

    snprintf(id, sizeof(id), "%s.%s", m->eq_id, d->id);
    o = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s, s:i, s:i, s:s, s:s}, s:i}, s:s, "
                  "s:[s,s,s]}", "id", id, "equipment", m->eq_id, "name", d->name, "kind", d->kind,
                  "source", "driver", "modbus", "address", "host", m->ip, "port", (int)x->port,
                  "unit", UNIT_ID, "profile", m->prof->name, "name", d->entry, "poll_s", d->poll_s,
                  "brick", d->brick, "tags", "elec", d->tag, "sensor");
    if (o && unit[0] && json_object_set_new(o, "unit", json_string(unit)) != 0) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static int meter_site(const struct sb_simmb *x, const struct meter *m, json_t *eq, json_t *pts)
{
    const struct ptdef *defs = m->kind->main ? main_points : sub_points;
    size_t n = m->kind->main ? sizeof main_points / sizeof main_points[0]
                             : sizeof sub_points / sizeof sub_points[0];

    if (json_array_append_new(eq, meter_equipment(x, m)) != 0)
        return SB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const struct sb_modbus_map *e = sb_modbus_profile_entry(m->prof, defs[i].entry);
        if (e && json_array_append_new(pts, meter_point(x, m, &defs[i], e)) != 0)
            return SB_ENOMEM;
    }
    return 0;
}

json_t *sb_simmb_site(const struct sb_simmb *x)
{
    json_t *eq = json_array(), *pts = json_array(), *doc;

    for (size_t i = 0; eq && pts && i < x->n; i++)
        if (meter_site(x, &x->m[i], eq, pts) != 0)
            break;
    doc = json_pack("{s:o, s:o}", "equipment", eq, "points", pts);
    if (doc && json_array_size(eq) == x->n)
        return doc;
    json_decref(doc);
    return NULL;
}

/* ----------------------------------------------------- bind and value */

/* The meter an address points at (host, port, unit), or -1. */
static int meter_of(const struct sb_simmb *x, const struct sb_modbus_addr *a)
{
    struct in_addr in;

    if (a->rtu || inet_pton(AF_INET, a->host, &in) != 1 || a->port != x->port ||
        (a->unit != UNIT_ID && a->unit != 0 && a->unit != 0xff))
        return -1;
    for (size_t i = 0; i < x->n; i++)
        if (x->m[i].in.s_addr == in.s_addr)
            return (int)i;
    return -1;
}

static int same_map(const struct sb_modbus_map *a, const struct sb_modbus_map *b)
{
    return a->table == b->table && a->type == b->type && a->bit == b->bit &&
           a->word_le == b->word_le && a->byte_le == b->byte_le && a->addr == b->addr &&
           a->scale == b->scale && a->offset == b->offset && a->unit == b->unit;
}

/* The handle of (meter, map): an existing one or a new one. */
static int handle_add(struct handles *ht, int meter, const struct sb_modbus_map *map)
{
    struct handle h = { .meter = meter, .map = *map };

    h.map.enums = NULL;
    h.map.n_enums = 0;
    for (size_t i = 0; i < ht->n; i++)
        if (ht->v[i].meter == meter && same_map(&ht->v[i].map, &h.map))
            return (int)i;
    if (ht->n == ht->cap) {
        size_t cap = ht->cap ? 2 * ht->cap : 16;
        struct handle *v = cap <= MAX_HANDLES ? realloc(ht->v, cap * sizeof(*v)) : NULL;
        if (!v)
            return SB_ENOMEM;
        ht->v = v;
        ht->cap = cap;
    }
    ht->v[ht->n] = h;
    return (int)ht->n++;
}

/* The address text of a source: object -> JSON text, string as is. */
static char *source_address(const json_t *source)
{
    const json_t *d = json_object_get(source, "driver"), *a = json_object_get(source, "address");

    if (!json_is_string(d) || strcmp(json_string_value(d), "modbus") != 0)
        return NULL;
    if (json_is_object(a))
        return json_dumps(a, JSON_COMPACT);
    return json_is_string(a) ? strdup(json_string_value(a)) : NULL;
}

int sb_simmb_bind(const struct sb_simmb *x, const json_t *source)
{
    struct sb_modbus_addr a;
    char *text = json_is_object(source) ? source_address(source) : NULL;
    int rc = SB_ENOENT, mi;

    if (!text)
        return SB_ENOENT;
    if (sb_modbus_addr_parse(text, strlen(text), &a, NULL, 0) != 0) {
        free(text);
        return SB_ENOENT;
    }
    free(text);
    if ((mi = meter_of(x, &a)) < 0)
        goto out;
    if (a.profile[0] && (strcmp(a.profile, x->m[mi].prof->name) != 0 ||
                         sb_modbus_addr_resolve(&a, x->m[mi].prof, NULL, 0) != 0))
        goto out;
    /* what the meter would answer exception 2 for is not ours */
    if (!listed(&x->m[mi], tab_index(a.map.table), a.map.addr, sb_modbus_type_regs(a.map.type)))
        goto out;
    rc = handle_add(x->ht, mi, &a.map);
out:
    sb_modbus_addr_release(&a);
    return rc;
}

int sb_simmb_value(const struct sb_simmb *x, int handle, double *v)
{
    const struct handle *h;
    const struct meter *m;
    struct elec e;
    uint16_t regs[4];
    unsigned n;
    double raw;
    int rc;

    if (handle < 0 || (size_t)handle >= x->ht->n)
        return SB_ENOENT;
    h = &x->ht->v[handle];
    m = &x->m[h->meter];
    if (offline_now(x, m))
        return SB_ETIMEDOUT;
    n = sb_modbus_type_regs(h->map.type);
    model(m, x->plant, &e);
    fill_window(m, &e, tab_index(h->map.table), h->map.addr, n, regs);
    if ((rc = sb_modbus_decode(&h->map, regs, n, &raw)) != 0)
        return rc;
    *v = sb_modbus_scale(&h->map, raw);
    return 0;
}

/*
 * fuzz_modbus.c - libFuzzer target for the Modbus driver's parsers of
 * outside text: point addresses (site documents, the API) and register-map
 * profiles (files), plus the codec and planner they feed.
 *
 * First byte 'A': the rest is an address.  When it parses, its key fits,
 * its map is in range, and decoding any registers then encoding the raw
 * value gives registers that decode to the same value.
 * First byte 'P': the rest is a profile.  When it parses, every entry is
 * found by its name and is in range.
 * Anything else: the bytes are spans for the planner; every span lands in
 * exactly one request that covers it and stays within the limits.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/modbus/modbus.h"

static void check_map(const struct sb_modbus_map *m)
{
    unsigned k = sb_modbus_type_regs(m->type);
    if (m->table >= SB_MODBUS_TABLE_COUNT || k == 0 || (unsigned)m->addr + k > 65536 ||
        m->scale == 0 || !isfinite(m->scale) || !isfinite(m->offset) || m->bit > 15)
        abort();
}

/* decode(regs) -> raw -> encode -> decode gives raw again. */
static void roundtrip(const struct sb_modbus_map *m, const uint8_t *d, size_t n)
{
    uint16_t r[4] = { 0 }, r2[4];
    double raw, raw2;

    memcpy(r, d, n < sizeof r ? n : sizeof r);
    if (sb_modbus_decode(m, r, 4, &raw) != 0)
        return;
    memcpy(r2, r, sizeof r2);
    if (sb_modbus_encode(m, raw, r2, 4) < 0 || sb_modbus_decode(m, r2, 4, &raw2) != 0)
        abort();
    if (raw2 != raw)
        abort();
}

static void address(const uint8_t *d, size_t n)
{
    struct sb_modbus_addr a;
    char err[256], key[SB_DRV_KEY_MAX];

    if (sb_modbus_addr_parse((const char *)d, n, &a, err, sizeof err) != 0) {
        if (!memchr(err, '\0', sizeof err))
            abort();
        return;
    }
    if (sb_modbus_addr_key(&a, key, sizeof key) != 0 && strlen(a.host) + 16 < sizeof key &&
        strlen(a.serial) + 16 < sizeof key)
        abort();
    if (!a.profile[0]) {
        check_map(&a.map);
        roundtrip(&a.map, d, n);
    }
    sb_modbus_addr_release(&a);
}

static void profile(const uint8_t *d, size_t n)
{
    struct sb_modbus_profile *p;
    char err[512];

    if (sb_modbus_profile_parse((const char *)d, n, "fuzz.json", NULL, &p, err, sizeof err) != 0)
        return;
    for (size_t i = 0; i < p->n; i++) {
        check_map(&p->entries[i]);
        if (sb_modbus_profile_entry(p, p->entries[i].name) != &p->entries[i])
            abort();
    }
    sb_modbus_profile_free(p);
}

static void planner(const uint8_t *d, size_t n)
{
    struct sb_modbus_span s[64];
    struct sb_modbus_req r[64];
    size_t order[64], ns = 0, nr;
    struct sb_modbus_limits lim = { 1 + d[0] % 125, 1 + (d[0] * 7u) % 2000, d[0] % 20 };
    size_t seen[64] = { 0 };

    for (size_t i = 1; i + 4 <= n && ns < 64; i += 4, ns++)
        s[ns] = (struct sb_modbus_span){ (uint8_t)(d[i] % 4), (uint8_t)(d[i] >> 6),
                                         (uint16_t)(d[i + 1] | d[i + 2] << 8),
                                         (uint16_t)(1 + d[i + 3] % 4) };
    if (sb_modbus_plan(s, ns, &lim, order, r, &nr) != 0)
        return;
    for (size_t q = 0; q < nr; q++) {
        unsigned max = r[q].table <= SB_MODBUS_DISCRETE ? lim.max_bits : lim.max_regs;
        if (r[q].count > max || r[q].first + r[q].n > ns)
            abort();
        for (size_t j = r[q].first; j < r[q].first + r[q].n; j++) {
            const struct sb_modbus_span *x = &s[order[j]];
            if (x->table != r[q].table || x->addr < r[q].addr ||
                (long)x->addr + x->count > (long)r[q].addr + r[q].count)
                abort();
            seen[order[j]]++;
        }
    }
    for (size_t i = 0; i < ns; i++)
        if (seen[i] != 1)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] == 'A')
        address(data + 1, size - 1);
    else if (data[0] == 'P')
        profile(data + 1, size - 1);
    else
        planner(data, size);
    return 0;
}

/*
 * fuzz_simfault.c - libFuzzer target for sbems-sim's two parsers of outside
 * JSON: fault requests (sb_simfault_inject, src/sim/fault.h: POST
 * /control/v1/faults and --faults files) and the configuration
 * (sb_sim_parse / sb_sim_load, src/sim/sim.h: --config).
 *
 * The input is parsed with json_loadb.  An object is one fault request, an
 * array a --faults file (up to 64 requests); each goes to a fresh manager
 * on one Boston plant built once, with two sites' device names and labels
 * written to /dev/null.  Invariants: a request is accepted with the next id
 * or refused with a known code and a message, a refused one leaves no
 * trace; after the manager has ticked two years on and cleared every fault
 * the plant carries no fault and no device is offline.  The same bytes are
 * then a configuration for sb_sim_parse: accepted only with 1..8 sites of
 * unique, valid ids on loopback addresses and a plant config that passes
 * sb_plant_config_check; small accepted configurations are also loaded
 * (plants built; weather and labels pinned so no input names a file).
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc -D_GNU_SOURCE ... \
 *         fuzz/fuzz_simfault.c <the sim, core, plant, proto and driver sources>
 *   ./fuzz_simfault -max_total_time=60 fuzz/corpus/simfault
 *
 * Run from the repository root (the weather file is found by relative
 * path; SBEMS_EPW overrides it).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "sim/fault.h"
#include "sim/plant/plant.h"
#include "sim/sim.h"
#include "sim/weather/epw.h"

#define EPW_DEFAULT "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"
#define T0 1688994000000LL      /* Mon 2023-07-10 08:00 EST */
#define YEAR_MS (366LL * 86400000LL)
#define MAX_REQS 64

static const char *epw_path = EPW_DEFAULT;
static struct sb_epw epw;
static struct sb_plant *plant;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct sb_plant_config c;
    char err[256] = "";

    (void)argc;
    (void)argv;
    if (getenv("SBEMS_EPW"))
        epw_path = getenv("SBEMS_EPW");
    sb_plant_config_default(&c);
    if (sb_epw_load(epw_path, &epw, err, sizeof err) != 0 || sb_plant_new(&c, &epw, T0, &plant, err, sizeof err)) {
        fprintf(stderr, "fuzz_simfault: %s (run from the repository root)\n", err);
        abort();
    }
    return 0;
}

/* The default plant's equipment: 3 AHUs, 15 zones, the chiller. */
static void check_plant_clean(void)
{
    char eq[32];

    for (int c = 0; c < SB_PF_COUNT; c++)
        for (int e = 0; e < 19; e++) {
            if (e < 3)
                snprintf(eq, sizeof eq, "floor%d.ahu", e + 1);
            else if (e < 18)
                snprintf(eq, sizeof eq, "floor%d.zone%d", (e - 3) / 5 + 1, (e - 3) % 5 + 1);
            else
                snprintf(eq, sizeof eq, "chiller");
            int on = sb_plant_fault_active(plant, (enum sb_plant_fault)c, eq, NULL);
            if (on == 1)
                abort();    /* a fault survived its clear (or a refused request's dry run) */
        }
}

static const char *const DEVS[] = { "AHU-1", "AHU-2", "VAV-1-01", "CH-1", "MTR-MAIN", "HOU-AHU-1",
                                    "HOU-MTR-MAIN", NULL };

static size_t nfaults(const struct sb_simfault *f)
{
    json_t *l = sb_simfault_list(f);
    size_t n = json_array_size(l);

    json_decref(l);
    return n;
}

static int inject_one(struct sb_simfault *f, const json_t *req, int *next_id)
{
    char err[256] = "";
    size_t before = nfaults(f);
    int rc = sb_simfault_inject(f, req, T0, T0, err, sizeof err);

    if (rc > 0) {
        if (rc != *next_id || nfaults(f) != before + 1)
            abort();
        (*next_id)++;
        return rc;
    }
    if (rc != SB_EINVAL && rc != SB_ENOENT && rc != SB_ERANGE && rc != SB_ENOSPC)
        abort();
    if (!err[0] || nfaults(f) != before)
        abort();    /* a refusal says why and leaves nothing behind */
    return rc;
}

static void fuzz_faults(const json_t *j)
{
    struct sb_simfault *f;
    char err[256];
    int next_id = 1;

    if (sb_simfault_new("/dev/null", &f, err, sizeof err) != 0)
        abort();
    sb_simfault_add_site(f, plant, "hpo", 0);
    sb_simfault_add_site(f, plant, "hou", 1);     /* same plant: the names differ */
    for (int i = 0; DEVS[i]; i++)
        sb_simfault_add_device(f, DEVS[i], strstr(DEVS[i], "MTR") != NULL);
    if (json_is_array(j)) {
        size_t i;
        json_t *r;
        json_array_foreach(j, i, r) {
            if (i >= MAX_REQS)
                break;
            inject_one(f, r, &next_id);
        }
    } else {
        inject_one(f, j, &next_id);
    }
    /* every bounded fault ends within a year of its start, which is within
     * a year of now or at an RFC 3339 time; tick a few times across */
    sb_simfault_tick(f, T0 + 3600000, T0);
    sb_simfault_tick(f, T0 + 2 * YEAR_MS, T0);
    json_decref(sb_simfault_list(f));
    for (int id = 1; id < next_id; id++)
        sb_simfault_clear(f, id, T0 + 2 * YEAR_MS, T0);
    check_plant_clean();
    for (int i = 0; DEVS[i]; i++)
        if (sb_simfault_offline(f, DEVS[i]))
            abort();
    if (sb_simfault_clear(f, next_id, T0, T0) != SB_ENOENT)
        abort();
    sb_simfault_free(f);
}

static int loopback(const char *ip)
{
    struct in_addr a;

    return inet_pton(AF_INET, ip, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

static void check_config(const struct sb_sim *s)
{
    char err[256];

    if (s->nsites < 1 || s->nsites > SB_SIM_MAX_SITES || !(s->speed >= 1 && s->speed <= 3600) ||
        !loopback(s->mqtt_host) || s->mqtt_port < 1 || s->mqtt_port > 65535)
        abort();
    for (int i = 0; i < s->nsites; i++) {
        const struct sb_sim_site *st = &s->sites[i];
        if (!loopback(st->bac_ip) || !loopback(st->mb_ip) || !loopback(st->http_ip) || !st->building[0] ||
            !st->site[0] || !st->weather[0] || st->bac_port < 1 || st->bac_port > 65535 ||
            st->mb_port < 1 || st->mb_port > 65535 || st->http_port < 1 || st->http_port > 65535)
            abort();
        if (sb_plant_config_check(&st->pc, err, sizeof err) != 0)
            abort();
        for (int k = 0; k < i; k++)
            if (strcmp(st->building, s->sites[k].building) == 0)
                abort();
    }
}

static void fuzz_config(const uint8_t *data, size_t size)
{
    struct sb_sim s;
    char err[256] = "";
    int rc = sb_sim_parse(&s, (const char *)data, size, err, sizeof err), work = 0;

    if (rc != 0) {
        if ((rc != SB_ECONFIG && rc != SB_EINVAL && rc != SB_ENOMEM) || !err[0])
            abort();
        return;
    }
    check_config(&s);
    for (int i = 0; i < s.nsites; i++)
        work += s.sites[i].pc.floors * s.sites[i].pc.zones_per_floor;
    if (work > 20)
        return;     /* keep the loads cheap: a few plants of a few zones */
    /* the whole load: plants built; weather and labels pinned (an input must
     * not make the fuzzer read or create files) */
    rc = sb_sim_load(&s, (const char *)data, size, epw_path, "/dev/null", T0, err, sizeof err);
    if (rc == 0)
        for (int i = 0; i < s.nsites; i++)
            if (!s.sites[i].plant || sb_plant_step(s.sites[i].plant, 600, T0 + 600000) != 0)
                abort();
    sb_sim_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, 0, NULL);

    if (j && (json_is_object(j) || json_is_array(j)))
        fuzz_faults(j);
    json_decref(j);
    if (j)
        fuzz_config(data, size);
    return 0;
}

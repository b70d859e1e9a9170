/*
 * fuzz_bacdisc.c - libFuzzer target over what BACnet discovery reads from
 * the outside (src/drivers/bacnet/discover.c, units.c, brick.c).
 *
 * Input byte 0 picks the door: 0-2 go to sb_bacdisc__fuzz_reply (an
 * Object_List value, an RPM-ACK about eight objects, a property value
 * stored as every property: character strings in every charset, units,
 * present values, log references), whose JSON is then printed as the
 * result would be; 3 feeds the rest as a string to every name parser
 * (point addresses come from site documents and the API) and to the
 * Brick proposer.  A parsed name must print back to what parses to the
 * same value; every point of the JSON has an id and a name (a string that
 * is not valid UTF-8 would be missing).  Seeds: fuzz/corpus/bacdisc/:
 * replies of the sbems BACnet server saved by
 * SB_BACDISC_SEEDS=fuzz/corpus/bacdisc test_bacnet_discover, and a few
 * names.
 */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/bacnet/discover.h"
#include "drivers/bacnet/names.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void strings(const char *s)
{
    struct sb_bac_oid o, o2;
    struct sb_bac_peer peers[16];
    struct sb_bacn_proposal pr;
    uint32_t u, u2;
    uint16_t t;
    char buf[64];

    if (sb_bacn_obj_parse(s, &o) == 0) {
        if (o.type > 1023 || o.instance > 4194303u)
            abort();
        if (sb_bacn_obj_parse(sb_bacn_obj_str(o, buf, sizeof(buf)), &o2) != 0 ||
            o2.type != o.type || o2.instance != o.instance)
            abort();
    }
    if (sb_bacn_obj_type_parse(s, &t) == 0 && t > 1023)
        abort();
    if (sb_bacn_prop_parse(s, &u) == 0 && sb_bacn_prop_name(u) &&
        (sb_bacn_prop_parse(sb_bacn_prop_name(u), &u2) != 0 || u2 != u))
        abort();
    if (sb_bacn_unit_parse(s, &u) == 0 && sb_bacn_unit_name(u) &&
        (sb_bacn_unit_parse(sb_bacn_unit_name(u), &u2) != 0 || u2 != u))
        abort();
    (void)sb_bacdisc_range(s, peers, 16);
    sb_bacn_propose(s, s, (uint16_t)(strlen(s) % 64), (uint32_t)strlen(s) % 256, &pr);
    if (!pr.brick || pr.confidence < 0 || pr.confidence > 1 || pr.ntags >= SB_BACN_TAGS_MAX ||
        pr.tags[pr.ntags] != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] % 4 == 3) {
        char *s = malloc(size);
        if (!s)
            return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        strings(s);
        free(s);
        return 0;
    }
    json_t *j = sb_bacdisc__fuzz_reply(data, size), *pt;
    size_t i;
    if (j) {
        json_array_foreach(json_object_get(j, "points"), i, pt)
            if (!json_is_string(json_object_get(pt, "id")) ||
                !json_is_string(json_object_get(pt, "name")))
                abort();
        char *out = json_dumps(j, 0);   /* every string must be valid UTF-8 */
        if (!out)
            abort();
        free(out);
        json_decref(j);
    }
    return 0;
}

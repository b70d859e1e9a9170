/*
 * fuzz_redis_msg.c - libFuzzer target for the messages other sbems nodes
 * publish on the shared Redis channel (src/cluster/redis_sub.c
 * sb_redis__on_message): bytes that come from the network, and from
 * anything else that can PUBLISH on that Redis.
 *
 * The harness builds the decoder's state by hand (no threads, no
 * connection: the decoder needs the node id, the hooks and the verdict
 * table only) and checks what the hooks receive.
 * Properties (a broken one traps): readings handed on are 1..1,000 with
 * point ids > 0; a revoked session id is a NUL-terminated string shorter
 * than the key bound; nothing from this node's own id is handled; the
 * decoder never crashes or leaks (ASan) on any input.
 * Seeds: fuzz/corpus/redis_msg/ (one message of each kind, as
 * sb_redis__msg_readings / sb_redis__msg_ctl write them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/redis_int.h"

#define REQUIRE(c) do { if (!(c)) __builtin_trap(); } while (0)

static struct sb_redis r;
static uint64_t handled;

static void on_readings(void *ud, const struct sb_reading *v, size_t n)
{
    REQUIRE(n >= 1 && n <= SB_REDIS_CHUNK);
    for (size_t i = 0; i < n; i++)
        REQUIRE(v[i].point > 0);
    handled++;
}

static void on_revoked(void *ud, const char *sid, int64_t until_ms)
{
    REQUIRE(strlen(sid) < SB_REDIS__KEY_MAX);
    handled++;
}

static void on_user(void *ud, int64_t uid)
{
    handled++;
}

static void init(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    snprintf(r.node, sizeof(r.node), "fuzz-node");
    r.hooks = (struct sb_redis_hooks){ .readings = on_readings, .revoked = on_revoked,
                                      .user_changed = on_user };
    pthread_mutex_init(&r.vmu, NULL);
    pthread_mutex_init(&r.emu, NULL);
    r.v = calloc(SB_REDIS__VSLOTS, sizeof(*r.v));
    REQUIRE(r.v);
}

static size_t count(const uint8_t *d, size_t n, const char *s)
{
    size_t k = 0, m = strlen(s);
    for (const uint8_t *p = d; (p = memmem(p, n - (size_t)(p - d), s, m)) != NULL; p += m)
        k++;
    return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    uint64_t before = handled;
    sb_redis__on_message(&r, (const char *)data, size);
    /* this node's own messages are never handled: checked where the input
     * names the node once and plainly (no escapes, no second "n" key) */
    if (count(data, size, "\"n\"") == 1 && count(data, size, "\"n\":\"fuzz-node\"") == 1 &&
        !memchr(data, '\\', size))
        REQUIRE(handled == before);
    return 0;
}

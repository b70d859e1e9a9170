/* route.c - topic filters of the bound points and the lookup of the
 * filters a received topic matches (see mqtt_int.h).
 *
 * Filters without wildcards are found by hashing the topic (most points of
 * a site name one topic each); those with + or # are tried in turn with
 * mosquitto_topic_matches_sub, which applies MQTT 3.1.1 section 4.7 (a
 * wildcard never matches a leading '$'). */
#include <mosquitto.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "drivers/mqtt/mqtt_int.h"

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h;
}

static struct sb_mqtt_filter **slot_of(const struct sb_mqtt_route *r, const char *topic,
                                       int wild)
{
    if (wild)
        return (struct sb_mqtt_filter **)&r->wild;
    return &r->b[hash_str(topic) & (r->nb - 1)];
}

static struct sb_mqtt_filter *find(const struct sb_mqtt_route *r, const char *topic, int wild)
{
    if (!r->nb)
        return NULL;
    struct sb_mqtt_filter *f = *slot_of(r, topic, wild);
    while (f && strcmp(f->topic, topic) != 0)
        f = f->next;
    return f;
}

/* Keep the table at most one filter per bucket on average. */
static int grow(struct sb_mqtt_route *r)
{
    size_t nb = r->nb ? r->nb * 2 : 64;
    struct sb_mqtt_filter **b = calloc(nb, sizeof(*b));
    if (!b)
        return SB_ENOMEM;
    for (size_t i = 0; i < r->nb; i++)
        for (struct sb_mqtt_filter *f = r->b[i], *nx; f; f = nx) {
            nx = f->next;
            size_t k = hash_str(f->topic) & (nb - 1);
            f->next = b[k];
            b[k] = f;
        }
    free(r->b);
    r->b = b;
    r->nb = nb;
    return 0;
}

static int add_point(struct sb_mqtt_filter *f, const struct sb_mqtt_bound *b)
{
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 4;
        struct sb_mqtt_bound *np = realloc(f->pts, nc * sizeof(*np));
        if (!np)
            return SB_ENOMEM;
        f->pts = np;
        f->cap = nc;
    }
    f->pts[f->n++] = *b;
    return 0;
}

static int is_wild(const char *topic)
{
    return strpbrk(topic, "+#") != NULL;
}

int sb_mqtt__route_add(struct sb_mqtt_route *r, const char *topic,
                       const struct sb_mqtt_bound *b, struct sb_mqtt_filter **created)
{
    int wild = is_wild(topic);
    struct sb_mqtt_filter *f = find(r, topic, wild);

    *created = NULL;
    if (!f) {
        if (r->n >= r->nb && grow(r))
            return SB_ENOMEM;
        if (!(f = calloc(1, sizeof(*f))) || !(f->topic = strdup(topic))) {
            free(f);
            return SB_ENOMEM;
        }
        struct sb_mqtt_filter **slot = slot_of(r, topic, wild);
        f->next = *slot;
        *slot = f;
        r->n++;
        *created = f;
    }
    if (b && add_point(f, b)) {
        if (*created)
            sb_mqtt__route_del(r, topic, NULL);
        *created = NULL;
        return SB_ENOMEM;
    }
    f->refs++;
    return 0;
}

static void filter_free(struct sb_mqtt_filter *f)
{
    free(f->pts);
    free(f->topic);
    free(f);
}

int sb_mqtt__route_del(struct sb_mqtt_route *r, const char *topic,
                       const struct sb_drv_point *pt)
{
    struct sb_mqtt_filter **pp, *f;

    if (!r->nb)
        return 0;
    for (pp = slot_of(r, topic, is_wild(topic)); (f = *pp) && strcmp(f->topic, topic) != 0;
         pp = &f->next)
        ;
    if (!f)
        return 0;
    for (size_t i = 0; pt && i < f->n; i++)
        if (f->pts[i].pt == pt) {
            f->pts[i] = f->pts[--f->n];
            break;
        }
    if (f->refs > 0 && --f->refs > 0)
        return 0;
    *pp = f->next;
    r->n--;
    filter_free(f);
    return 1;
}

void sb_mqtt__route_match(const struct sb_mqtt_route *r, const char *topic,
                          void (*fn)(void *ud, struct sb_mqtt_filter *f), void *ud)
{
    struct sb_mqtt_filter *f = find(r, topic, 0);
    bool m;

    if (f)
        fn(ud, f);
    for (f = r->wild; f; f = f->next)
        if (mosquitto_topic_matches_sub(f->topic, topic, &m) == MOSQ_ERR_SUCCESS && m)
            fn(ud, f);
}

void sb_mqtt__route_each(const struct sb_mqtt_route *r,
                         void (*fn)(void *ud, struct sb_mqtt_filter *f), void *ud)
{
    for (size_t i = 0; i < r->nb; i++)
        for (struct sb_mqtt_filter *f = r->b[i]; f; f = f->next)
            fn(ud, f);
    for (struct sb_mqtt_filter *f = r->wild; f; f = f->next)
        fn(ud, f);
}

void sb_mqtt__route_release(struct sb_mqtt_route *r)
{
    for (size_t i = 0; i <= r->nb; i++) {
        struct sb_mqtt_filter *f = i < r->nb ? r->b[i] : r->wild, *nx;
        for (; f; f = nx) {
            nx = f->next;
            for (size_t k = 0; k < f->n; k++)
                sb_mqtt__addr_free(f->pts[k].a);
            filter_free(f);
        }
    }
    free(r->b);
    memset(r, 0, sizeof(*r));
}

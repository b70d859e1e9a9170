/*
 * fuzz_ical.c - libFuzzer target for holiday / closure calendars
 * (control/ical.c, RFC 5545 through libical) and their application to a
 * control schedule (control/sched.c).
 *
 * Input: iCalendar text.  Its length picks the building's zone and whether
 * part-day closures are kept, so one seed exercises several.  The text must
 * be refused with a message (and an empty list), or give a list that keeps
 * ical.h's promises: sorted by (day, start, end) without repeats, inside
 * the requested range, 0 <= start < end <= 1440, names NUL-terminated.  An
 * accepted list is then applied to a weekday schedule, which must still
 * answer sb_csched_at with a next change after the instant asked about.
 * Seeds: fuzz/corpus/ical/ (US federal holidays 2026, yearly RRULEs with
 * EXDATE and COUNT, TZID / UTC / floating events, broken files).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/ical.h"
#include "control/sched.h"
#include "core/err.h"
#include "core/tz.h"

static const char *const zones[] = {
    "UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney",
};

/* TZIDs the fuzzer may name: a few real zones, nothing read per input. */
static const struct sb_tz *resolver(const char *tzid)
{
    static const char *const ok[] = { "UTC", "America/New_York", "Europe/Berlin",
                                      "Australia/Sydney", "America/Los_Angeles", "Asia/Tokyo" };

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(tzid, ok[i]) == 0)
            return sb_tz_get(ok[i]);
    return NULL;
}

static void check_list(const struct sb_ical_list *l, const struct sb_ical_opts *o)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct sb_ical_day *d = &l->v[i];
        if (d->day < o->from_day || d->day >= o->to_day || d->start >= d->end ||
            d->end > 1440 || memchr(d->name, '\0', sizeof d->name) == NULL)
            abort();
        if (i && (l->v[i - 1].day > d->day ||
                  (l->v[i - 1].day == d->day && (l->v[i - 1].start > d->start ||
                                                 (l->v[i - 1].start == d->start &&
                                                  l->v[i - 1].end >= d->end)))))
            abort();
    }
}

static void apply(const struct sb_ical_list *l, const struct sb_tz *tz)
{
    struct sb_csched s;
    struct sb_csched_state st;
    int64_t t0 = sb_days_from_civil(2026, 1, 1) * 86400000LL;

    sb_csched_init(&s, NULL);
    for (int d = 0; d < 5; d++)
        s.week[d] = (struct sb_cday){ 1, { { 420, 1080, SB_CMODE_OCCUPIED, { 21, 24 } } } };
    if (sb_ical_apply(l, &s) == 0) {
        for (int i = 0; i < 16; i++) {
            int64_t t = t0 + (int64_t)i * 23 * 86400000LL + i * 3600000LL;
            if (sb_csched_at(&s, tz, t, &st) != 0 || st.next_ms <= t || st.since_ms > t)
                abort();
        }
    }
    sb_csched_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_ical_opts o = {
        .tz = sb_tz_get(zones[size % 4]),
        .from_day = sb_days_from_civil(2026, 1, 1),
        .to_day = sb_days_from_civil(2028, 1, 1),
        .partial = (int)(size / 4 % 2),
        .zone = resolver,
    };
    struct sb_ical_list l = { 0 };
    char err[256] = "";
    int rc = sb_ical_parse((const char *)data, size, &o, &l, err, sizeof err);

    if (rc != 0) {
        if (l.v || l.n || !err[0])
            abort();
        return 0;
    }
    check_list(&l, &o);
    apply(&l, o.tz);
    sb_ical_list_free(&l);
    return 0;
}

/*
 * cmd_bacnet.c - `sbems bacnet`: BACnet/IP tools for integrators, on
 * sbems's own stack (src/proto/bacnet/).
 *
 *   serve FILE      run the devices a JSON file describes (test fixtures,
 *                   the benchmark, a stand-in for a controller)
 *   read / write    ReadProperty / WriteProperty (priority, NULL release)
 *   trend           ReadRange of a Trend Log, by position or by time
 *   events / ack    GetEventInformation / AcknowledgeAlarm
 *   timesync        (UTC)TimeSynchronization
 *   discover        Who-Is, object lists, point proposals (bacnet-discovery.md)
 *
 * The network tools bind their own socket (--bind, default
 * 0.0.0.0:47809: 47808 is the local controller's or sbems's own) and print
 * JSON.  Exit status: 0 done, 1 the device refused or did not answer,
 * 2 bad usage.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "cli/cli.h"
#include "core/err.h"
#include "core/timefmt.h"
#include "drivers/bacnet/discover.h"
#include "drivers/bacnet/names.h"
#include "proto/bacnet/codec/apdu.h"
#include "proto/bacnet/codec/enums.h"
#include "proto/bacnet/codec/svc.h"
#include "proto/bacnet/codec/svc2.h"
#include "proto/bacnet/host/host.h"

/* ---- options ---------------------------------------------------------------- */

struct opts {
    const char *bind, *target, *priority, *index, *type, *count, *since, *seconds, *timeout;
    const char *point, *tz, *set, *transition, *wait;
    int utc, all, jsonl;
    char *pos[16];
    int npos;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->bind = "0.0.0.0:47809";
    o->timeout = "3000";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char **dst = NULL;
        if (strcmp(a, "--bind") == 0) dst = &o->bind;
        else if (strcmp(a, "--target") == 0) dst = &o->target;
        else if (strcmp(a, "--priority") == 0) dst = &o->priority;
        else if (strcmp(a, "--index") == 0) dst = &o->index;
        else if (strcmp(a, "--type") == 0) dst = &o->type;
        else if (strcmp(a, "--count") == 0) dst = &o->count;
        else if (strcmp(a, "--since") == 0) dst = &o->since;
        else if (strcmp(a, "--seconds") == 0) dst = &o->seconds;
        else if (strcmp(a, "--timeout-ms") == 0) dst = &o->timeout;
        else if (strcmp(a, "--point") == 0) dst = &o->point;
        else if (strcmp(a, "--tz-offset") == 0) dst = &o->tz;
        else if (strcmp(a, "--set") == 0) dst = &o->set;
        else if (strcmp(a, "--transition") == 0) dst = &o->transition;
        else if (strcmp(a, "--wait-ms") == 0) dst = &o->wait;
        else if (strcmp(a, "--utc") == 0) { o->utc = 1; continue; }
        else if (strcmp(a, "--all") == 0) { o->all = 1; continue; }
        else if (strcmp(a, "--jsonl") == 0) { o->jsonl = 1; continue; }
        else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "sbems bacnet: unknown option %s\n", a);
            return -1;
        } else {
            if (o->npos == 16) {
                fprintf(stderr, "sbems bacnet: too many arguments\n");
                return -1;
            }
            o->pos[o->npos++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "sbems bacnet: %s needs a value\n", a);
            return -1;
        }
        *dst = argv[++i];
    }
    return 0;
}

static int num_opt(const char *s, long lo, long hi, long *out, const char *what)
{
    char *end;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || *end || v < lo || v > hi) {
        fprintf(stderr, "sbems bacnet: %s must be a number from %ld to %ld\n", what, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* ---- values as JSON ------------------------------------------------------------- */

/* An encoded property value: one primitive -> scalar, several -> array,
 * constructed parts -> their hex. */
static json_t *encoded_json(const uint8_t *p, size_t n)
{
    json_t *arr = json_array();
    size_t off = 0;
    while (off < n) {
        struct sb_bac_value v;
        ssize_t k = sb_bac_dec_app(p + off, n - off, &v);
        if (k > 0) {
            json_array_append_new(arr, sb_bacn_value_json(&v));
        } else if ((k = sb_bac_skip(p + off, n - off)) > 0) {
            char hex[256];
            size_t m = (size_t)k < 120 ? (size_t)k : 120, h = 0;
            for (size_t i = 0; i < m; i++)
                h += (size_t)snprintf(hex + h, sizeof(hex) - h, "%02x", p[off + i]);
            json_array_append_new(arr, json_pack("{s:s}", "constructed", hex));
        } else {
            break;
        }
        off += (size_t)k;
    }
    if (json_array_size(arr) == 1) {
        json_t *one = json_incref(json_array_get(arr, 0));
        json_decref(arr);
        return one;
    }
    return arr;
}

static void print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(9));
    if (s)
        puts(s);
    free(s);
    json_decref(j);
}

/* ---- one request, synchronously ----------------------------------------------------- */

struct oneshot {
    uv_loop_t loop;
    struct sb_bac_stack *st;
    struct sb_bac_peer to;
    int done;
    struct sb_bac_result r;
    uint8_t *body;
};

static void os_cb(void *ud, const struct sb_bac_result *r)
{
    struct oneshot *o = ud;
    o->r = *r;
    if (r->len && (o->body = malloc(r->len)))
        memcpy(o->body, r->body, r->len);
    o->r.body = o->body;
    o->done = 1;
}

static int os_open_h(struct oneshot *o, const struct opts *op, const struct sb_bac_handler *h);

static int os_open(struct oneshot *o, const struct opts *op)
{
    return os_open_h(o, op, NULL);
}

static int os_open_h(struct oneshot *o, const struct opts *op, const struct sb_bac_handler *h)
{
    struct sb_bac_peer b;
    char ip[INET_ADDRSTRLEN], err[160];
    long to;

    memset(o, 0, sizeof(*o));
    if (op->target && sb_bac_peer_parse(op->target, &o->to) < 0) {
        fprintf(stderr, "sbems bacnet: --target must be ip[:port]\n");
        return -1;
    }
    if (!op->target && !h) {
        fprintf(stderr, "sbems bacnet: --target ip[:port] is required\n");
        return -1;
    }
    if (sb_bac_peer_parse(op->bind, &b) < 0) {
        fprintf(stderr, "sbems bacnet: --bind must be ip:port\n");
        return -1;
    }
    if (num_opt(op->timeout, 50, 60000, &to, "--timeout-ms") < 0)
        return -1;
    inet_ntop(AF_INET, &b.ip, ip, sizeof(ip));
    struct sb_bac_stack_cfg c = { .bind_ip = ip, .port = ntohs(b.port),
                                  .apdu_timeout_ms = (uint32_t)to };
    uv_loop_init(&o->loop);
    if (sb_bac_stack_new(&o->loop, &c, h, &o->st, err, sizeof(err)) < 0) {
        fprintf(stderr, "sbems bacnet: %s\n", err);
        uv_loop_close(&o->loop);
        return -1;
    }
    return 0;
}

static int os_run(struct oneshot *o, uint8_t service, const uint8_t *body, size_t len)
{
    int rc = sb_bac_request(o->st, &o->to, service, body, len, os_cb, o);
    if (rc < 0) {
        fprintf(stderr, "sbems bacnet: %s\n", sb_strerror(rc));
        return -1;
    }
    while (!o->done)
        uv_run(&o->loop, UV_RUN_ONCE);     /* the TSM's timeout bounds this */
    if (o->r.rc) {
        const char *what = o->r.rc == SB_ETIMEDOUT ? "no answer" : "refused";
        json_t *e = json_pack("{s:s}", "error", what);
        if (o->r.pdu == SB_BAC_PDU_ERROR)
            json_object_set_new(e, "detail", json_sprintf("%s: %s", sb_bacn_err_class_name(o->r.err_class),
                                                          sb_bacn_err_code_name(o->r.err_code)));
        else if (o->r.pdu == SB_BAC_PDU_REJECT)
            json_object_set_new(e, "detail", json_sprintf("reject: %s", sb_bacn_reject_name(o->r.reason)));
        else if (o->r.pdu == SB_BAC_PDU_ABORT)
            json_object_set_new(e, "detail", json_sprintf("abort: %s", sb_bacn_abort_name(o->r.reason)));
        print_json(e);
        return 1;
    }
    return 0;
}

static void os_close(struct oneshot *o)
{
    if (o->st)
        sb_bac_stack_close(o->st);
    uv_run(&o->loop, UV_RUN_DEFAULT);
    uv_loop_close(&o->loop);
    free(o->body);
}

/* ---- read / write ------------------------------------------------------------------------ */

static int obj_prop(const struct opts *op, int first, struct sb_bac_oid *oid, uint32_t *prop)
{
    *prop = SB_BAC_P_PRESENT_VALUE;
    if (op->npos <= first || sb_bacn_obj_parse(op->pos[first], oid) < 0) {
        fprintf(stderr, "sbems bacnet: OBJECT must be type:instance (e.g. analog-value:3)\n");
        return -1;
    }
    return 0;
}

/* WriteProperty of one encoded value (clause 15.9); prints {"result":"ok"}.
 * The exit status: 0 written, 1 refused or no answer, 2 local failure. */
static int write_prop(const struct opts *op, const struct sb_bac_wp *wp)
{
    uint8_t body[1480];
    struct oneshot o;
    ssize_t k = sb_bac_enc_wp(body, sizeof(body), wp);
    int rc;

    if (k < 0) {
        fprintf(stderr, "sbems bacnet: the value is too large for one request\n");
        return 2;
    }
    if (os_open(&o, op) < 0)
        return 2;
    if ((rc = os_run(&o, SB_BAC_SVC_WRITE_PROPERTY, body, (size_t)k)) == 0)
        print_json(json_pack("{s:s}", "result", "ok"));
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ReadPropertyMultiple of one object: PROPS is all, required, optional or
 * a comma-separated list (clause 15.7). */
static int read_multiple(const struct opts *op, struct sb_bac_oid oid, const char *props)
{
    struct sb_bac_propref refs[32];
    size_t n = 0;
    char list[512], *save = NULL;
    struct oneshot o;
    uint8_t body[512];
    int rc;

    snprintf(list, sizeof(list), "%s", props);
    for (char *t = strtok_r(list, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save)) {
        refs[n] = (struct sb_bac_propref){ 0 };
        if (sb_bacn_prop_parse(t, &refs[n].prop) < 0) {
            fprintf(stderr, "sbems bacnet: unknown property %s\n", t);
            return 2;
        }
        n++;
    }
    struct sb_bac_rpm_spec sp = { .oid = oid, .refs = refs, .nrefs = n };
    ssize_t k = sb_bac_enc_rpm_spec(body, sizeof(body), &sp);
    if (k < 0 || os_open(&o, op) < 0)
        return 2;
    if ((rc = os_run(&o, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, body, (size_t)k)) == 0) {
        json_t *out = json_object();
        for (size_t off = 0; off < o.r.len;) {
            struct sb_bac_rpm_result res;
            ssize_t m = sb_bac_dec_rpm_result(o.r.body + off, o.r.len - off, &res);
            if (m <= 0)
                break;
            off += (size_t)m;
            for (size_t e = 0; e < res.list_len;) {
                struct sb_bac_rpm_elem el;
                ssize_t q = sb_bac_dec_rpm_elem(res.list + e, res.list_len - e, &el);
                char pn[24];
                if (q <= 0)
                    break;
                e += (size_t)q;
                const char *name = sb_bacn_prop_name(el.prop);
                if (!name) {
                    snprintf(pn, sizeof(pn), "%u", el.prop);
                    name = pn;
                }
                char why[96];
                snprintf(why, sizeof(why), "%s: %s", sb_bacn_err_class_name(el.err_class),
                         sb_bacn_err_code_name(el.err_code));
                json_object_set_new(out, name, el.is_error ? json_pack("{s:s}", "error", why)
                                                           : encoded_json(el.value, el.value_len));
            }
        }
        char on[64];
        print_json(json_pack("{s:s, s:o, s:i}", "object", sb_bacn_obj_str(oid, on, sizeof(on)),
                             "properties", out, "segments", o.r.segments));
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

static int cmd_read(const struct opts *op)
{
    struct sb_bac_rp rq = { 0 };
    struct oneshot o;
    uint8_t body[64];
    long idx;
    int rc;

    if (obj_prop(op, 1, &rq.oid, &rq.prop) < 0)
        return 2;
    if (op->npos > 2 && (strchr(op->pos[2], ',') || strcmp(op->pos[2], "all") == 0 ||
                         strcmp(op->pos[2], "required") == 0 || strcmp(op->pos[2], "optional") == 0))
        return read_multiple(op, rq.oid, op->pos[2]);
    if (op->npos > 2 && sb_bacn_prop_parse(op->pos[2], &rq.prop) < 0) {
        fprintf(stderr, "sbems bacnet: unknown property %s\n", op->pos[2]);
        return 2;
    }
    if (op->index) {
        if (num_opt(op->index, 0, 4294967294L, &idx, "--index") < 0)
            return 2;
        rq.has_index = true;
        rq.index = (uint32_t)idx;
    }
    if (os_open(&o, op) < 0)
        return 2;
    ssize_t k = sb_bac_enc_rp_req(body, sizeof(body), &rq);
    if ((rc = os_run(&o, SB_BAC_SVC_READ_PROPERTY, body, (size_t)k)) == 0) {
        struct sb_bac_rp ack;
        if (sb_bac_dec_rp_ack(o.r.body, o.r.len, &ack) < 0) {
            fprintf(stderr, "sbems bacnet: malformed answer\n");
            rc = 1;
        } else {
            char on[64];
            print_json(json_pack("{s:s, s:s, s:o, s:i}", "object", sb_bacn_obj_str(ack.oid, on, sizeof(on)),
                                 "property", sb_bacn_prop_name(ack.prop) ? sb_bacn_prop_name(ack.prop) : "?",
                                 "value", encoded_json(ack.value, ack.value_len),
                                 "segments", o.r.segments));
        }
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

static int cmd_write(const struct opts *op)
{
    struct sb_bac_wp wp = { 0 };
    struct sb_bac_value v = { .type = SB_BAC_REAL };
    uint8_t val[32];
    long pr = 0;

    if (obj_prop(op, 1, &wp.oid, &wp.prop) < 0 || op->npos < 3) {
        fprintf(stderr, "usage: sbems bacnet write --target IP[:PORT] OBJECT VALUE|null [--priority 1-16] [--type real|enum|unsigned|bool]\n");
        return 2;
    }
    if (op->priority && num_opt(op->priority, 1, 16, &pr, "--priority") < 0)
        return 2;
    const char *s = op->pos[2];
    char *end;
    double x = strtod(s, &end);
    if (strcmp(s, "null") == 0) {
        v.type = SB_BAC_NULL;
    } else if (*end) {
        fprintf(stderr, "sbems bacnet: VALUE must be a number or null\n");
        return 2;
    } else if (op->type && strcmp(op->type, "enum") == 0) {
        v.type = SB_BAC_ENUMERATED;
        v.v.enumerated = (uint32_t)x;
    } else if (op->type && strcmp(op->type, "unsigned") == 0) {
        v.type = SB_BAC_UNSIGNED;
        v.v.u = (uint64_t)x;
    } else if (op->type && strcmp(op->type, "bool") == 0) {
        v.type = SB_BAC_BOOLEAN;
        v.v.boolean = x != 0;
    } else if (op->type && strcmp(op->type, "real")) {
        fprintf(stderr, "sbems bacnet: --type is real, enum, unsigned or bool\n");
        return 2;
    } else {
        v.v.real = (float)x;
    }
    ssize_t vk = sb_bac_enc_app(val, sizeof(val), &v);
    wp.value = val;
    wp.value_len = (size_t)vk;
    wp.priority = (uint8_t)pr;
    return write_prop(op, &wp);
}

/* ---- trend (ReadRange) ---------------------------------------------------------------------- */

/* Print the records of one ReadRange-ACK; returns how many. */
static size_t trend_records(const struct sb_bac_rr_ack *ack, const struct opts *op, int tz, json_t *recs)
{
    size_t n = 0;
    for (size_t off = 0; off < ack->items_len;) {
        struct sb_bac_logrec lr;
        ssize_t m = sb_bac_dec_logrec(ack->items + off, ack->items_len - off, &lr);
        if (m <= 0)
            break;
        off += (size_t)m;
        n++;
        int64_t t = 0;
        char ts[40] = "";
        if (sb_bac_dt_to_unix(&lr.ts, tz, &t) == 0)
            sb_time_format(t, ts, sizeof(ts));
        if (op->jsonl) {
            /* `sbems ingest --format jsonl --units source` reads these */
            if (!isnan(lr.v) && lr.kind != SB_BAC_LOG_STATUS && lr.kind != SB_BAC_LOG_TIME_CHANGE)
                printf("{\"point\":\"%s\",\"t\":%lld,\"v\":%.9g}\n", op->point,
                       (long long)t, lr.v);
            continue;
        }
        json_array_append_new(recs, json_pack("{s:s, s:i, s:o}", "time", ts, "kind", lr.kind,
                                              "value", isnan(lr.v) ? json_null() : json_real(lr.v)));
    }
    return n;
}

/* ReadRange of a Trend Log's Log_Buffer (clause 15.8): --count records
 * from the start, or from --since (by time); --all pages on by sequence
 * number until the device says there is no more.  --jsonl --point SLUG
 * prints lines for `sbems ingest` (history backfilled from the controller).
 * Device time is local: --tz-offset minutes east of UTC (default 0). */
static int cmd_trend(const struct opts *op)
{
    struct sb_bac_rr rr = { .prop = SB_BAC_P_LOG_BUFFER, .kind = SB_BAC_RR_POSITION, .ref_index = 1 };
    struct oneshot o;
    uint8_t body[64];
    long cnt = 100, tz = 0;
    size_t total = 0;
    int rc = 0, pages = 0;
    json_t *recs = json_array();
    struct sb_bac_rr_ack ack = { 0 };

    if (obj_prop(op, 1, &rr.oid, &rr.prop) < 0 ||
        (op->count && num_opt(op->count, 1, 32767, &cnt, "--count") < 0) ||
        (op->tz && num_opt(op->tz, -900, 900, &tz, "--tz-offset") < 0) ||
        (op->jsonl && !op->point && (fprintf(stderr, "sbems bacnet trend: --jsonl needs --point SLUG\n"), 1))) {
        json_decref(recs);
        return 2;
    }
    rr.prop = SB_BAC_P_LOG_BUFFER;
    rr.count = (int32_t)cnt;
    if (op->since) {
        int64_t ms;
        if (sb_time_parse(op->since, strlen(op->since), &ms) < 0) {
            fprintf(stderr, "sbems bacnet: --since must be an ISO 8601 time\n");
            json_decref(recs);
            return 2;
        }
        rr.kind = SB_BAC_RR_TIME;
        sb_bac_dt_from_unix(ms, (int)tz, &rr.ref_time);
    }
    if (os_open(&o, op) < 0) {
        json_decref(recs);
        return 2;
    }
    /* Bounded: 10,000 pages of at most 32767 records. */
    for (pages = 0; pages < 10000; pages++) {
        ssize_t k = sb_bac_enc_rr_req(body, sizeof(body), &rr);
        free(o.body);
        o.body = NULL;
        o.done = 0;
        if ((rc = os_run(&o, SB_BAC_SVC_READ_RANGE, body, (size_t)k)) != 0)
            break;
        if (sb_bac_dec_rr_ack(o.r.body, o.r.len, &ack) < 0) {
            fprintf(stderr, "sbems bacnet: malformed ReadRange-ACK\n");
            rc = 1;
            break;
        }
        size_t got = trend_records(&ack, op, (int)tz, recs);
        total += got;
        /* MORE_ITEMS says the answer was cut to fit; a full page may have
         * more behind it too (clause 15.8.1.1.4's count is a limit). */
        if (!op->all || !got || (!(ack.flags & SB_BAC_RR_MORE) && got < (size_t)cnt))
            break;
        if (ack.has_first_seq) {
            rr.kind = SB_BAC_RR_SEQUENCE;
            rr.ref_index = ack.first_seq + (uint32_t)got;
        } else {
            rr.kind = SB_BAC_RR_POSITION;     /* a device without sequence numbers */
            rr.ref_index = (uint32_t)total + 1;
        }
        rr.count = (int32_t)cnt;
    }
    if (rc == 0 && !op->jsonl)
        print_json(json_pack("{s:i, s:i, s:b, s:b, s:o}", "count", (int)total, "pages", pages + 1,
                             "first", !!(ack.flags & SB_BAC_RR_FIRST), "more", !!(ack.flags & SB_BAC_RR_MORE),
                             "records", recs));
    else
        json_decref(recs);
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ---- events / ack / timesync ----------------------------------------------------------------- */

static int cmd_events(const struct opts *op)
{
    struct sb_bac_gei_req rq = { 0 };
    struct oneshot o;
    uint8_t body[16];
    int rc;

    if (os_open(&o, op) < 0)
        return 2;
    ssize_t k = sb_bac_enc_gei_req(body, sizeof(body), &rq);
    if ((rc = os_run(&o, SB_BAC_SVC_GET_EVENT_INFORMATION, body, (size_t)k)) == 0) {
        struct sb_bac_gei_ack ack;
        json_t *ev = json_array();
        if (sb_bac_dec_gei_ack(o.r.body, o.r.len, &ack) >= 0) {
            for (size_t off = 0; off < ack.list_len;) {
                struct sb_bac_event_summary s;
                char on[64];
                ssize_t m = sb_bac_dec_event_summary(ack.list + off, ack.list_len - off, &s);
                if (m <= 0)
                    break;
                off += (size_t)m;
                json_array_append_new(ev, json_pack("{s:s, s:i, s:i, s:i}", "object",
                                                    sb_bacn_obj_str(s.oid, on, sizeof(on)),
                                                    "event_state", (int)s.event_state,
                                                    "acked_transitions", s.acked,
                                                    "notify_type", (int)s.notify_type));
            }
            print_json(json_pack("{s:o, s:b}", "events", ev, "more", ack.more));
        } else {
            json_decref(ev);
            rc = 1;
        }
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

static int cmd_timesync(const struct opts *op)
{
    struct sb_bac_datetime dt;
    struct oneshot o;
    uint8_t body[16];

    if (os_open(&o, op) < 0)
        return 2;
    /* UTCTimeSynchronization carries UTC; TimeSynchronization the local
     * time of the device, which sbems takes to be this machine's. */
    int64_t now = sb_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm lt;
    localtime_r(&secs, &lt);
    sb_bac_dt_from_unix(now, op->utc ? 0 : (int)(lt.tm_gmtoff / 60), &dt);
    ssize_t k = sb_bac_enc_timesync(body, sizeof(body), &dt);
    int rc = sb_bac_unconfirmed(o.st, &o.to, 0, op->utc ? SB_BAC_SVC_UTC_TIME_SYNCHRONIZATION
                                                         : SB_BAC_SVC_TIME_SYNCHRONIZATION,
                                body, (size_t)k);
    uv_run(&o.loop, UV_RUN_NOWAIT);
    print_json(json_pack("{s:s}", "result", rc == 0 ? "sent" : "not sent"));
    os_close(&o);
    return rc == 0 ? 0 : 1;
}

/* ---- who-has ------------------------------------------------------------------------------------ */

static json_t *g_ihaves;

static void on_ihave(void *ud, const struct sb_bac_peer *from, uint8_t service,
                     const uint8_t *body, size_t len)
{
    struct sb_bac_ihave ih;
    char a[96], on[64];
    if (service != SB_BAC_SVC_I_HAVE || sb_bac_dec_ihave(body, len, &ih) < 0)
        return;
    json_array_append_new(g_ihaves, json_pack("{s:i, s:s, s:s, s:s%}", "device", (int)ih.device.instance,
                                              "address", sb_bac_peer_str(from, a, sizeof(a)),
                                              "object", sb_bacn_obj_str(ih.oid, on, sizeof(on)),
                                              "name", (const char *)ih.name.p, ih.name.len));
}

static void on_guard(uv_timer_t *t) { uv_stop(t->loop); }

/* Who-Has by name or identifier (clause 16.9), to --target or broadcast;
 * I-Haves are collected for --wait-ms. */
static int cmd_whohas(const struct opts *op)
{
    struct sb_bac_whohas wh = { 0 };
    struct sb_bac_handler h = { .unconfirmed = on_ihave };
    struct oneshot o;
    uint8_t body[300];
    long wait = 2000;
    uv_timer_t g;

    if (op->npos < 2) {
        fprintf(stderr, "usage: sbems bacnet whohas NAME|OBJECT [--target IP[:PORT]] [--wait-ms N]\n");
        return 2;
    }
    if (op->wait && num_opt(op->wait, 10, 60000, &wait, "--wait-ms") < 0)
        return 2;
    if (sb_bacn_obj_parse(op->pos[1], &wh.oid) < 0) {
        wh.by_name = true;
        wh.name = (struct sb_bac_cstr){ .charset = SB_BAC_CS_UTF8, .p = (const uint8_t *)op->pos[1],
                                         .len = strlen(op->pos[1]) };
    }
    ssize_t k = sb_bac_enc_whohas(body, sizeof(body), &wh);
    if (k < 0 || os_open_h(&o, op, &h) < 0)
        return 2;
    g_ihaves = json_array();
    sb_bac_unconfirmed(o.st, op->target ? &o.to : NULL, 0, SB_BAC_SVC_WHO_HAS, body, (size_t)k);
    uv_timer_init(&o.loop, &g);
    uv_timer_start(&g, on_guard, (uint64_t)wait, 0);
    uv_run(&o.loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&g, NULL);
    size_t n = json_array_size(g_ihaves);
    print_json(json_pack("{s:o}", "found", g_ihaves));
    os_close(&o);
    return n ? 0 : 1;
}

/* ---- write-property-multiple -------------------------------------------------------------------- */

/* OBJECT PROP=VALUE[@PRIORITY] ... [OBJECT PROP=VALUE ...]: one
 * WriteAccessSpecification per object (clause 15.10); values REAL unless
 * "null", or suffixed :enum / :unsigned / :bool. */
static int cmd_wpm(const struct opts *op)
{
    uint8_t body[1400], vals[16][16];
    struct sb_bac_propval pv[16];
    size_t len = 0, npv = 0;
    struct sb_bac_oid cur = { 0 };
    bool have = false;
    struct oneshot o;
    int rc;

    for (int i = 1; i <= op->npos; i++) {
        const char *a = i < op->npos ? op->pos[i] : NULL;
        struct sb_bac_oid oid;
        if (!a || sb_bacn_obj_parse(a, &oid) == 0) {
            if (have && npv) {
                struct sb_bac_wpm_spec sp = { .oid = cur, .vals = pv, .nvals = npv };
                ssize_t k = sb_bac_enc_wpm_spec(body + len, sizeof(body) - len, &sp);
                if (k < 0) {
                    fprintf(stderr, "sbems bacnet wpm: too much for one request\n");
                    return 2;
                }
                len += (size_t)k;
            }
            if (!a)
                break;
            cur = oid;
            have = true;
            npv = 0;
            continue;
        }
        char prop[64], val[64];
        const char *eq = strchr(a, '='), *at;
        if (!have || !eq || (size_t)(eq - a) >= sizeof(prop) || npv == 16) {
            fprintf(stderr, "usage: sbems bacnet wpm --target IP OBJECT PROP=VALUE[@PRIORITY] ... (got %s)\n", a);
            return 2;
        }
        memcpy(prop, a, (size_t)(eq - a));
        prop[eq - a] = 0;
        snprintf(val, sizeof(val), "%s", eq + 1);
        struct sb_bac_propval *p = &pv[npv];
        memset(p, 0, sizeof(*p));
        if ((at = strchr(val, '@'))) {
            long pr = strtol(at + 1, NULL, 10);
            if (pr < 1 || pr > 16) {
                fprintf(stderr, "sbems bacnet wpm: priority must be 1 to 16\n");
                return 2;
            }
            p->priority = (uint8_t)pr;
            val[at - val] = 0;
        }
        if (sb_bacn_prop_parse(prop, &p->prop) < 0) {
            fprintf(stderr, "sbems bacnet wpm: unknown property %s\n", prop);
            return 2;
        }
        struct sb_bac_value v = { .type = SB_BAC_REAL };
        char *colon = strchr(val, ':');
        if (colon)
            *colon++ = 0;
        double x = strtod(val, NULL);
        if (strcmp(val, "null") == 0) v.type = SB_BAC_NULL;
        else if (colon && strcmp(colon, "enum") == 0) { v.type = SB_BAC_ENUMERATED; v.v.enumerated = (uint32_t)x; }
        else if (colon && strcmp(colon, "unsigned") == 0) { v.type = SB_BAC_UNSIGNED; v.v.u = (uint64_t)x; }
        else if (colon && strcmp(colon, "bool") == 0) { v.type = SB_BAC_BOOLEAN; v.v.boolean = x != 0; }
        else v.v.real = (float)x;
        ssize_t vk = sb_bac_enc_app(vals[npv], sizeof(vals[npv]), &v);
        p->value = vals[npv];
        p->value_len = (size_t)vk;
        npv++;
    }
    if (!len) {
        fprintf(stderr, "usage: sbems bacnet wpm --target IP OBJECT PROP=VALUE[@PRIORITY] ...\n");
        return 2;
    }
    if (os_open(&o, op) < 0)
        return 2;
    if ((rc = os_run(&o, SB_BAC_SVC_WRITE_PROPERTY_MULTIPLE, body, len)) == 0) {
        print_json(json_pack("{s:s}", "result", "ok"));
    } else if (o.r.pdu == SB_BAC_PDU_ERROR) {
        struct sb_bac_wpm_error we;
        char on[64];
        if (sb_bac_dec_wpm_error(o.r.body, o.r.len, &we) >= 0)
            print_json(json_pack("{s:s, s:s}", "first_failed", sb_bacn_obj_str(we.oid, on, sizeof(on)),
                                 "property", sb_bacn_prop_name(we.prop) ? sb_bacn_prop_name(we.prop) : "?"));
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ---- acknowledge an alarm ------------------------------------------------------------------------- */

static json_t *stamp_json(const struct sb_bac_timestamp *t)
{
    int64_t ms;
    char b[40];
    switch (t->kind) {
    case SB_BAC_TS_SEQ: return json_pack("{s:i}", "sequence", (int)t->seq);
    case SB_BAC_TS_TIME:
        snprintf(b, sizeof(b), "%02u:%02u:%02u", t->time.hour, t->time.min, t->time.sec);
        return json_pack("{s:s}", "time", b);
    default:
        if (t->dt.date.year == 255 || sb_bac_dt_to_unix(&t->dt, 0, &ms) < 0)
            return json_null();
        return json_pack("{s:s}", "datetime", sb_time_format(ms, b, sizeof(b)));
    }
}

/* Read the object's event summary, then acknowledge the transition asked
 * with the time stamp the device gave it (clause 13.5: it must match). */
static int cmd_ack(const struct opts *op)
{
    struct sb_bac_oid oid;
    struct sb_bac_gei_req rq = { 0 };
    struct oneshot o;
    uint8_t body[256];
    int rc, tr = 0;

    if (op->npos < 2 || sb_bacn_obj_parse(op->pos[1], &oid) < 0) {
        fprintf(stderr, "usage: sbems bacnet ack --target IP OBJECT [--transition to-offnormal|to-fault|to-normal]\n");
        return 2;
    }
    if (op->transition) {
        if (strcmp(op->transition, "to-offnormal") == 0) tr = 0;
        else if (strcmp(op->transition, "to-fault") == 0) tr = 1;
        else if (strcmp(op->transition, "to-normal") == 0) tr = 2;
        else {
            fprintf(stderr, "sbems bacnet ack: --transition is to-offnormal, to-fault or to-normal\n");
            return 2;
        }
    }
    if (os_open(&o, op) < 0)
        return 2;
    ssize_t k = sb_bac_enc_gei_req(body, sizeof(body), &rq);
    if ((rc = os_run(&o, SB_BAC_SVC_GET_EVENT_INFORMATION, body, (size_t)k)) != 0)
        goto out;
    struct sb_bac_gei_ack ga;
    struct sb_bac_event_summary es, *hit = NULL;
    if (sb_bac_dec_gei_ack(o.r.body, o.r.len, &ga) >= 0)
        for (size_t off = 0; off < ga.list_len;) {
            ssize_t m = sb_bac_dec_event_summary(ga.list + off, ga.list_len - off, &es);
            if (m <= 0)
                break;
            off += (size_t)m;
            if (es.oid.type == oid.type && es.oid.instance == oid.instance) {
                hit = &es;
                break;
            }
        }
    if (!hit) {
        print_json(json_pack("{s:s}", "error", "the device lists no event for this object"));
        rc = 1;
        goto out;
    }
    if (!op->transition)
        tr = hit->event_state == SB_BAC_ES_NORMAL ? 2 : hit->event_state == SB_BAC_ES_FAULT ? 1 : 0;
    struct sb_bac_ackalarm aa = { .pid = 0x5B, .oid = oid, .state = hit->event_state,
                                  .stamp = hit->stamps[tr],
                                  .source = { .charset = SB_BAC_CS_UTF8, .p = (const uint8_t *)"sbems",
                                              .len = 5 },
                                  .when = { .kind = SB_BAC_TS_DATETIME } };
    sb_bac_dt_from_unix(sb_now_ms(), 0, &aa.when.dt);
    free(o.body);
    o.body = NULL;
    o.done = 0;
    k = sb_bac_enc_ackalarm(body, sizeof(body), &aa);
    if ((rc = os_run(&o, SB_BAC_SVC_ACKNOWLEDGE_ALARM, body, (size_t)k)) == 0)
        print_json(json_pack("{s:s, s:i, s:o}", "result", "acknowledged", "event_state",
                             (int)hit->event_state, "stamp", stamp_json(&aa.stamp)));
out:
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ---- schedules and calendars ---------------------------------------------------------------------- */

static const char *const g_days[7] = { "monday", "tuesday", "wednesday", "thursday", "friday",
                                       "saturday", "sunday" };

static json_t *weekly_json(const uint8_t *p, size_t n)
{
    json_t *w = json_object();
    size_t off = 0;
    for (int d = 0; d < 7 && off < n; d++) {
        const uint8_t *list;
        size_t ll;
        ssize_t k = sb_bac_dec_daily(p + off, n - off, &list, &ll);
        json_t *day = json_array();
        if (k <= 0)
            break;
        off += (size_t)k;
        for (size_t o2 = 0; o2 < ll;) {
            struct sb_bac_timevalue tv;
            ssize_t m = sb_bac_dec_timevalue(list + o2, ll - o2, &tv);
            char t[16];
            if (m <= 0)
                break;
            o2 += (size_t)m;
            snprintf(t, sizeof(t), "%02u:%02u", tv.time.hour, tv.time.min);
            json_array_append_new(day, json_pack("{s:s, s:o}", "time", t, "value", sb_bacn_value_json(&tv.value)));
        }
        json_object_set_new(w, g_days[d], day);
    }
    return w;
}

/* {"monday":[{"time":"07:00","value":22.0},{"time":"18:00","value":null}],...}
 * -> the encoded BACnetARRAY[7] of BACnetDailySchedule. */
static ssize_t weekly_enc(json_t *w, uint8_t *buf, size_t cap, char *err, size_t errlen)
{
    size_t len = 0;
    for (int d = 0; d < 7; d++) {
        struct sb_bac_timevalue tv[32];
        size_t n = 0, i;
        json_t *e, *day = json_object_get(w, g_days[d]);
        json_array_foreach(day, i, e) {
            unsigned hh, mm;
            json_t *v = json_object_get(e, "value");
            if (n == 32 || sscanf(json_string_value(json_object_get(e, "time")) ? json_string_value(json_object_get(e, "time")) : "",
                                  "%u:%u", &hh, &mm) != 2 || hh > 23 || mm > 59) {
                snprintf(err, errlen, "%s[%zu]: want {\"time\":\"HH:MM\",\"value\":...}", g_days[d], i);
                return SB_EINVAL;
            }
            tv[n] = (struct sb_bac_timevalue){ .time = { (uint8_t)hh, (uint8_t)mm, 0, 0 } };
            if (json_is_null(v)) tv[n].value.type = SB_BAC_NULL;
            else if (json_is_boolean(v)) { tv[n].value.type = SB_BAC_ENUMERATED; tv[n].value.v.enumerated = json_is_true(v); }
            else if (json_is_integer(v) && json_is_true(json_object_get(e, "enum"))) {
                tv[n].value.type = SB_BAC_ENUMERATED;
                tv[n].value.v.enumerated = (uint32_t)json_integer_value(v);
            } else if (json_is_number(v)) { tv[n].value.type = SB_BAC_REAL; tv[n].value.v.real = (float)json_number_value(v); }
            else {
                snprintf(err, errlen, "%s[%zu]: value must be a number, true/false or null", g_days[d], i);
                return SB_EINVAL;
            }
            n++;
        }
        ssize_t k = sb_bac_enc_daily(buf + len, cap - len, tv, n);
        if (k < 0) {
            snprintf(err, errlen, "the schedule is too large for one request");
            return k;
        }
        len += (size_t)k;
    }
    return (ssize_t)len;
}

static int cmd_schedule(const struct opts *op)
{
    struct sb_bac_oid oid;
    struct oneshot o;
    uint8_t body[1480];
    int rc;

    if (op->npos < 2 || sb_bacn_obj_parse(op->pos[1], &oid) < 0 || oid.type != SB_BAC_OBJ_SCHEDULE) {
        fprintf(stderr, "usage: sbems bacnet schedule --target IP schedule:N [--set WEEKLY.json]\n");
        return 2;
    }
    if (op->set) {
        json_error_t je;
        json_t *w = json_load_file(op->set, 0, &je);
        char err[160];
        uint8_t val[1400];
        ssize_t vk;
        if (!w || (vk = weekly_enc(json_object_get(w, "weekly") ? json_object_get(w, "weekly") : w,
                                   val, sizeof(val), err, sizeof(err))) < 0) {
            fprintf(stderr, "sbems bacnet schedule: %s\n", w ? err : je.text);
            json_decref(w);
            return 2;
        }
        json_decref(w);
        struct sb_bac_wp wp = { .oid = oid, .prop = SB_BAC_P_WEEKLY_SCHEDULE, .value = val,
                                .value_len = (size_t)vk };
        return write_prop(op, &wp);
    }
    struct sb_bac_propref refs[4] = { { .prop = SB_BAC_P_PRESENT_VALUE }, { .prop = SB_BAC_P_WEEKLY_SCHEDULE },
                                      { .prop = SB_BAC_P_SCHEDULE_DEFAULT }, { .prop = SB_BAC_P_EXCEPTION_SCHEDULE } };
    struct sb_bac_rpm_spec sp = { .oid = oid, .refs = refs, .nrefs = 4 };
    ssize_t k = sb_bac_enc_rpm_spec(body, sizeof(body), &sp);
    if (os_open(&o, op) < 0)
        return 2;
    if ((rc = os_run(&o, SB_BAC_SVC_READ_PROPERTY_MULTIPLE, body, (size_t)k)) == 0) {
        json_t *out = json_object();
        struct sb_bac_rpm_result res;
        if (sb_bac_dec_rpm_result(o.r.body, o.r.len, &res) > 0)
            for (size_t e = 0; e < res.list_len;) {
                struct sb_bac_rpm_elem el;
                ssize_t q = sb_bac_dec_rpm_elem(res.list + e, res.list_len - e, &el);
                if (q <= 0)
                    break;
                e += (size_t)q;
                if (el.is_error)
                    continue;
                if (el.prop == SB_BAC_P_WEEKLY_SCHEDULE)
                    json_object_set_new(out, "weekly", weekly_json(el.value, el.value_len));
                else if (el.prop == SB_BAC_P_EXCEPTION_SCHEDULE) {
                    size_t ne = 0;
                    for (size_t x = 0; x < el.value_len;) {
                        struct sb_bac_special sx;
                        ssize_t m = sb_bac_dec_special(el.value + x, el.value_len - x, &sx);
                        if (m <= 0)
                            break;
                        x += (size_t)m;
                        ne++;
                    }
                    json_object_set_new(out, "exceptions", json_integer((json_int_t)ne));
                } else
                    json_object_set_new(out, el.prop == SB_BAC_P_PRESENT_VALUE ? "present_value" : "default",
                                        encoded_json(el.value, el.value_len));
            }
        print_json(out);
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ---- calendars ---------------------------------------------------------------------------------- */

static json_t *date_json(const struct sb_bac_date *d)
{
    char b[16];
    if (d->year == 255 || d->month > 12 || d->day > 31)
        return json_pack("{s:i, s:i, s:i}", "year", d->year == 255 ? -1 : d->year + 1900,
                         "month", d->month, "day", d->day);
    snprintf(b, sizeof(b), "%04d-%02d-%02d", d->year + 1900, d->month, d->day);
    return json_string(b);
}

static int date_parse(const char *s, struct sb_bac_date *d)
{
    unsigned y, m, dd;
    if (!s || sscanf(s, "%4u-%2u-%2u", &y, &m, &dd) != 3 || y < 1900 || y > 2154 || m < 1 ||
        m > 12 || dd < 1 || dd > 31)
        return -1;
    *d = (struct sb_bac_date){ (uint8_t)(y - 1900), (uint8_t)m, (uint8_t)dd, 255 };
    return 0;
}

/* A Calendar's Date_List (clause 12.9): read, or written whole from
 * {"dates": ["2026-12-25", {"from": "2026-12-24", "to": "2026-12-31"}]}. */
static int cmd_calendar(const struct opts *op)
{
    struct sb_bac_oid oid;
    struct oneshot o;
    uint8_t body[1480];
    int rc;

    if (op->npos < 2 || sb_bacn_obj_parse(op->pos[1], &oid) < 0 || oid.type != SB_BAC_OBJ_CALENDAR) {
        fprintf(stderr, "usage: sbems bacnet calendar --target IP calendar:N [--set DATES.json]\n");
        return 2;
    }
    if (op->set) {
        json_error_t je;
        json_t *f = json_load_file(op->set, 0, &je), *e;
        uint8_t val[1400];
        size_t len = 0, i;
        if (!f) {
            fprintf(stderr, "sbems bacnet calendar: %s\n", je.text);
            return 2;
        }
        json_array_foreach(json_object_get(f, "dates"), i, e) {
            struct sb_bac_calentry ce = { .kind = SB_BAC_CAL_DATE };
            int bad = json_is_string(e) ? date_parse(json_string_value(e), &ce.date)
                      : (ce.kind = SB_BAC_CAL_RANGE,
                         date_parse(json_string_value(json_object_get(e, "from")), &ce.range.start) |
                         date_parse(json_string_value(json_object_get(e, "to")), &ce.range.end));
            ssize_t k = bad ? -1 : sb_bac_enc_calentry(val + len, sizeof(val) - len, &ce);
            if (k < 0) {
                fprintf(stderr, "sbems bacnet calendar: dates[%zu]: want \"YYYY-MM-DD\" or "
                                "{\"from\": date, \"to\": date}\n", i);
                json_decref(f);
                return 2;
            }
            len += (size_t)k;
        }
        json_decref(f);
        struct sb_bac_wp wp = { .oid = oid, .prop = SB_BAC_P_DATE_LIST, .value = val, .value_len = len };
        return write_prop(op, &wp);
    }
    struct sb_bac_rp rq = { .oid = oid, .prop = SB_BAC_P_DATE_LIST };
    ssize_t k = sb_bac_enc_rp_req(body, sizeof(body), &rq);
    if (os_open(&o, op) < 0)
        return 2;
    if ((rc = os_run(&o, SB_BAC_SVC_READ_PROPERTY, body, (size_t)k)) == 0) {
        struct sb_bac_rp ack;
        json_t *dates = json_array();
        if (sb_bac_dec_rp_ack(o.r.body, o.r.len, &ack) >= 0)
            for (size_t off = 0; off < ack.value_len;) {
                struct sb_bac_calentry ce;
                ssize_t m = sb_bac_dec_calentry(ack.value + off, ack.value_len - off, &ce);
                if (m <= 0)
                    break;
                off += (size_t)m;
                if (ce.kind == SB_BAC_CAL_DATE)
                    json_array_append_new(dates, date_json(&ce.date));
                else if (ce.kind == SB_BAC_CAL_RANGE)
                    json_array_append_new(dates, json_pack("{s:o, s:o}", "from", date_json(&ce.range.start),
                                                           "to", date_json(&ce.range.end)));
                else
                    json_array_append_new(dates, json_pack("{s:[i, i, i]}", "week_n_day", ce.wnd[0],
                                                           ce.wnd[1], ce.wnd[2]));
            }
        print_json(json_pack("{s:o}", "dates", dates));
    }
    os_close(&o);
    return rc < 0 ? 2 : rc;
}

/* ---- serve ------------------------------------------------------------------------------------ */

struct served {
    struct sb_bac_srv *srv;
    struct sb_bac_host *host;
    json_t *waves;               /* [[oid-type, inst, base, amplitude, period_s], ...] */
    json_t *trends;              /* [[trend inst, source type, source inst, every_s], ...] */
};

static struct served *g_served;
static size_t g_nserved;
static uv_signal_t g_sig[2];
static uv_timer_t g_wave, g_stop;

static void stop_all(void)
{
    for (size_t i = 0; i < g_nserved; i++)
        if (g_served[i].host) {
            sb_bac_host_close(g_served[i].host);
            g_served[i].host = NULL;
        }
    for (int i = 0; i < 2; i++)
        if (!uv_is_closing((uv_handle_t *)&g_sig[i]))
            uv_close((uv_handle_t *)&g_sig[i], NULL);
    if (!uv_is_closing((uv_handle_t *)&g_wave))
        uv_close((uv_handle_t *)&g_wave, NULL);
    if (!uv_is_closing((uv_handle_t *)&g_stop))
        uv_close((uv_handle_t *)&g_stop, NULL);
}

static void on_sig(uv_signal_t *s, int sig) { stop_all(); }
static void on_stop(uv_timer_t *t) { stop_all(); }

static void on_wave(uv_timer_t *t)
{
    int64_t now = sb_now_ms();
    for (size_t i = 0; i < g_nserved; i++) {
        size_t j;
        json_t *w;
        json_array_foreach(g_served[i].waves, j, w) {
            struct sb_bac_oid oid = { (uint16_t)json_integer_value(json_array_get(w, 0)),
                                      (uint32_t)json_integer_value(json_array_get(w, 1)) };
            double base = json_number_value(json_array_get(w, 2));
            double amp = json_number_value(json_array_get(w, 3));
            double per = json_number_value(json_array_get(w, 4));
            sb_bac_srv_set_pv(g_served[i].srv, oid, base + amp * sin(2 * M_PI * (double)now / 1000.0 / per + (double)j), now);
        }
        /* Trend logs sample their source every interval (Logging_Type polled). */
        json_array_foreach(g_served[i].trends, j, w) {
            int64_t every = json_integer_value(json_array_get(w, 3));
            if (every <= 0 || (now / 1000) % every)
                continue;
            struct sb_bac_oid src = { (uint16_t)json_integer_value(json_array_get(w, 1)),
                                      (uint32_t)json_integer_value(json_array_get(w, 2)) };
            double v;
            if (sb_bac_srv_get_pv(g_served[i].srv, src, &v) == 0) {
                struct sb_bac_srv_rec r = { .ts_ms = now / 1000 * 1000, .kind = SB_BAC_LOG_REAL, .v = v };
                sb_bac_srv_trend_append(g_served[i].srv, (uint32_t)json_integer_value(json_array_get(w, 0)), &r);
            }
        }
    }
}

/* Trend Log, Schedule and Calendar entries of a served device. */
static int add_special(struct served *sv, json_t *ob, struct sb_bac_oid oid, char *err, size_t errlen)
{
    const char *name = json_string_value(json_object_get(ob, "name"));
    int rc = SB_EINVAL;
    if (oid.type == SB_BAC_OBJ_TREND_LOG) {
        struct sb_bac_oid src = { 0 };
        const char *s = json_string_value(json_object_get(ob, "source"));
        long every = (long)json_integer_value(json_object_get(ob, "interval_s"));
        if (!s || sb_bacn_obj_parse(s, &src) < 0) {
            snprintf(err, errlen, "trend-log:%u needs \"source\": \"type:instance\"", oid.instance);
            return SB_EINVAL;
        }
        struct sb_bac_srv_trend_cfg c = { .instance = oid.instance, .name = name,
            .buffer_size = json_integer_value(json_object_get(ob, "buffer_size"))
                           ? (uint32_t)json_integer_value(json_object_get(ob, "buffer_size")) : 1000,
            .log_interval_cs = (uint32_t)(every > 0 ? every : 1) * 100, .source = src,
            .source_prop = SB_BAC_P_PRESENT_VALUE };
        if ((rc = sb_bac_srv_add_trend(sv->srv, &c)) == 0)
            json_array_append_new(sv->trends, json_pack("[i, i, i, i]", (int)oid.instance, src.type,
                                                        (int)src.instance, (int)(every > 0 ? every : 1)));
    } else if (oid.type == SB_BAC_OBJ_SCHEDULE) {
        struct sb_bac_srv_sched_cfg c = { .instance = oid.instance, .name = name,
                                          .dflt = { .type = SB_BAC_REAL } };
        c.dflt.v.real = (float)json_number_value(json_object_get(ob, "default"));
        rc = sb_bac_srv_add_schedule(sv->srv, &c);
    } else if (oid.type == SB_BAC_OBJ_CALENDAR) {
        rc = sb_bac_srv_add_calendar(sv->srv, oid.instance, name, NULL);
    }
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", name ? name : "object", sb_strerror(rc));
    return rc;
}

static int add_object(struct served *sv, json_t *ob, char *err, size_t errlen)
{
    struct sb_bac_srv_obj_cfg c = { 0 };
    struct sb_bac_oid oid;
    const char *t = json_string_value(json_object_get(ob, "object"));
    json_t *u = json_object_get(ob, "units");
    int rc;

    if (!t || sb_bacn_obj_parse(t, &oid) < 0) {
        snprintf(err, errlen, "object needs \"object\": \"type:instance\"");
        return SB_EINVAL;
    }
    if (oid.type == SB_BAC_OBJ_TREND_LOG || oid.type == SB_BAC_OBJ_SCHEDULE || oid.type == SB_BAC_OBJ_CALENDAR)
        return add_special(sv, ob, oid, err, errlen);
    c.type = oid.type;
    c.instance = oid.instance;
    c.name = json_string_value(json_object_get(ob, "name"));
    c.description = json_string_value(json_object_get(ob, "description"));
    c.initial = json_number_value(json_object_get(ob, "value"));
    c.cov_increment = (float)json_number_value(json_object_get(ob, "cov_increment"));
    c.nstates = (uint32_t)json_integer_value(json_object_get(ob, "states"));
    if (c.type == SB_BAC_OBJ_MSI || c.type == SB_BAC_OBJ_MSO || c.type == SB_BAC_OBJ_MSV) {
        if (!c.nstates)
            c.nstates = 3;
        if (c.initial < 1)
            c.initial = 1;
    }
    c.units = SB_BACN_UNITS_NONE;
    if (json_is_integer(u))
        c.units = (uint32_t)json_integer_value(u);
    else if (json_is_string(u) && sb_bacn_unit_parse(json_string_value(u), &c.units) < 0) {
        snprintf(err, errlen, "%s: unknown units \"%s\"", t, json_string_value(u));
        return SB_EINVAL;
    }
    if (json_is_true(json_object_get(ob, "commandable")))
        c.flags |= SB_BAC_SRV_COMMANDABLE;
    if (json_is_true(json_object_get(ob, "writable")))
        c.flags |= SB_BAC_SRV_WRITABLE;
    json_t *al = json_object_get(ob, "alarm");
    if (al) {
        /* intrinsic OUT_OF_RANGE reporting (clause 13.3.6) */
        c.flags |= SB_BAC_SRV_ALARM;
        c.high_limit = (float)json_number_value(json_object_get(al, "high"));
        c.low_limit = (float)json_number_value(json_object_get(al, "low"));
        c.deadband = (float)json_number_value(json_object_get(al, "deadband"));
        c.limit_enable = SB_BAC_SRV_LOW_LIMIT | SB_BAC_SRV_HIGH_LIMIT;
        c.event_enable = SB_BAC_SRV_TO_OFFNORMAL | SB_BAC_SRV_TO_FAULT | SB_BAC_SRV_TO_NORMAL;
    }
    if ((rc = sb_bac_srv_add(sv->srv, &c, sb_now_ms())) < 0) {
        snprintf(err, errlen, "%s: %s", t, sb_strerror(rc));
        return rc;
    }
    json_t *w = json_object_get(ob, "wave");
    if (w)
        json_array_append_new(sv->waves, json_pack("[i, i, f, f, f]", c.type, c.instance, c.initial,
                                                   json_number_value(json_object_get(w, "amplitude")),
                                                   fmax(1, json_number_value(json_object_get(w, "period_s")))));
    return 0;
}

/* {"generate": {"devices":N, "objects":M, "first_instance":I, "bind":"127.0.0.1",
 *  "first_port":P}} expands to N devices of M analog inputs with waves. */
static json_t *expand(json_t *doc)
{
    json_t *g = json_object_get(doc, "generate");
    if (!g)
        return json_incref(json_object_get(doc, "devices"));
    json_t *devs = json_array();
    int n = (int)json_integer_value(json_object_get(g, "devices"));
    int m = (int)json_integer_value(json_object_get(g, "objects"));
    int inst = (int)json_integer_value(json_object_get(g, "first_instance"));
    int port = (int)json_integer_value(json_object_get(g, "first_port"));
    const char *bind = json_string_value(json_object_get(g, "bind"));
    for (int d = 0; d < n && d < 10000; d++) {
        json_t *objs = json_array();
        char on[32], nm[64];
        for (int i = 1; i <= m && i <= 10000; i++) {
            snprintf(on, sizeof(on), "analog-input:%d", i);
            snprintf(nm, sizeof(nm), "Zone %d Temp %d", d, i);
            json_array_append_new(objs, json_pack("{s:s, s:s, s:s, s:f, s:f, s:{s:f, s:f}}",
                "object", on, "name", nm, "units", "degrees-celsius", "value", 21.0 + (i % 5),
                "cov_increment", 0.5, "wave", "amplitude", 1.0, "period_s", 60.0 + i));
        }
        snprintf(nm, sizeof(nm), "BENCH-%d", inst + d);
        json_array_append_new(devs, json_pack("{s:i, s:s, s:s, s:i, s:o}", "instance", inst + d,
                                              "name", nm, "bind", bind ? bind : "127.0.0.1",
                                              "port", port + d, "objects", objs));
    }
    return devs;
}

static int cmd_serve(const struct opts *op)
{
    json_error_t je;
    json_t *doc = NULL, *devs = NULL;
    uv_loop_t *loop = uv_default_loop();
    char err[200];
    int rc = 2;
    long secs = 0;

    if (op->npos < 2 || !(doc = json_load_file(op->pos[1], 0, &je))) {
        fprintf(stderr, "sbems bacnet serve FILE: %s\n", op->npos < 2 ? "FILE is required" : je.text);
        return 2;
    }
    if (op->seconds && num_opt(op->seconds, 1, 86400 * 365, &secs, "--seconds") < 0)
        goto out;
    devs = expand(doc);
    if (!json_is_array(devs) || !json_array_size(devs)) {
        fprintf(stderr, "sbems bacnet serve: the file needs \"devices\": [...] or \"generate\": {...}\n");
        goto out;
    }
    g_nserved = json_array_size(devs);
    g_served = calloc(g_nserved, sizeof(*g_served));
    json_t *ready = json_array();
    for (size_t i = 0; i < g_nserved; i++) {
        json_t *d = json_array_get(devs, i), *ob;
        struct served *sv = &g_served[i];
        const char *bind = json_string_value(json_object_get(d, "bind"));
        struct sb_bac_srv_cfg c = {
            .instance = (uint32_t)json_integer_value(json_object_get(d, "instance")),
            .name = json_string_value(json_object_get(d, "name")),
            .vendor_id = (uint16_t)json_integer_value(json_object_get(d, "vendor_id")),
            .vendor_name = json_string_value(json_object_get(d, "vendor_name")),
            .model_name = json_string_value(json_object_get(d, "model")),
            .max_apdu = (uint16_t)json_integer_value(json_object_get(d, "max_apdu")),
            .max_objects = 20000,
            /* two subscribers per object at most: the table is scanned */
            .max_cov_subs = (uint32_t)(2 * json_array_size(json_object_get(d, "objects")) + 16) };
        size_t j;
        sv->waves = json_array();
        sv->trends = json_array();
        if (sb_bac_srv_new(&c, sb_now_ms(), &sv->srv) < 0) {
            fprintf(stderr, "sbems bacnet serve: device %zu: bad instance or name\n", i);
            goto out;
        }
        json_array_foreach(json_object_get(d, "objects"), j, ob)
            if (add_object(sv, ob, err, sizeof(err)) < 0) {
                fprintf(stderr, "sbems bacnet serve: device %u: %s\n", c.instance, err);
                goto out;
            }
        struct sb_bac_stack_cfg sc = { .bind_ip = bind ? bind : "127.0.0.1",
                                       .port = (uint16_t)json_integer_value(json_object_get(d, "port")) };
        if (sb_bac_host_new(loop, &sc, sv->srv, &sv->host, err, sizeof(err)) < 0) {
            fprintf(stderr, "sbems bacnet serve: device %u: %s\n", c.instance, err);
            goto out;
        }
        char addr[80];
        snprintf(addr, sizeof(addr), "%s:%u", sc.bind_ip, sc.port ? sc.port : 47808);
        json_array_append_new(ready, json_pack("{s:i, s:s}", "device", c.instance, "address", addr));
    }
    char *rs = json_dumps(json_pack("{s:b, s:o}", "ready", 1, "devices", ready), JSON_COMPACT);
    printf("%s\n", rs);
    fflush(stdout);
    free(rs);
    uv_signal_init(loop, &g_sig[0]);
    uv_signal_init(loop, &g_sig[1]);
    uv_signal_start(&g_sig[0], on_sig, SIGTERM);
    uv_signal_start(&g_sig[1], on_sig, SIGINT);
    uv_timer_init(loop, &g_wave);
    uv_timer_start(&g_wave, on_wave, 1000, 1000);
    uv_timer_init(loop, &g_stop);
    if (secs)
        uv_timer_start(&g_stop, on_stop, (uint64_t)secs * 1000, 0);
    uv_run(loop, UV_RUN_DEFAULT);
    rc = 0;
out:
    if (rc) {
        for (size_t i = 0; i < g_nserved; i++)
            if (g_served && g_served[i].host)
                sb_bac_host_close(g_served[i].host);
        uv_run(loop, UV_RUN_NOWAIT);
    }
    for (size_t i = 0; g_served && i < g_nserved; i++) {
        sb_bac_srv_free(g_served[i].srv);
        json_decref(g_served[i].waves);
        json_decref(g_served[i].trends);
    }
    free(g_served);
    json_decref(devs);
    json_decref(doc);
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sbems bacnet COMMAND [options]\n\n"
            "  serve FILE [--seconds N]                   run the BACnet devices FILE describes\n"
            "  read OBJECT [PROPERTY] [--index N]         ReadProperty (default present-value)\n"
            "  write OBJECT VALUE|null [--priority P] [--type real|enum|unsigned|bool]\n"
            "  trend TREND-LOG [--count N] [--since TIME] [--all] [--jsonl --point SLUG] [--tz-offset MIN]\n"
            "                                             ReadRange of a Trend Log (backfill: | sbems ingest)\n"
            "  events                                     GetEventInformation\n"
            "  ack OBJECT [--transition to-offnormal|to-fault|to-normal]  AcknowledgeAlarm\n"
            "  whohas NAME|OBJECT [--wait-ms N]           Who-Has (to --target, or broadcast)\n"
            "  wpm OBJECT PROP=VALUE[@P] ... [OBJECT ...]   WritePropertyMultiple\n"
            "  schedule schedule:N [--set WEEKLY.json]    read or write a Schedule's weekly program\n"
            "  calendar calendar:N [--set DATES.json]     read or write a Calendar's Date_List\n"
            "  timesync [--utc]                           (UTC)TimeSynchronization\n"
            "  discover [see sbems bacnet discover --help] Who-Is and point proposals\n\n"
            "Network commands: --target IP[:PORT] (the device), --bind IP:PORT (ours,\n"
            "default 0.0.0.0:47809), --timeout-ms N.  Objects are type:instance\n"
            "(analog-value:3, av:3).  Output is JSON.  Exit 1: refused or no answer.\n");
}

int sb_cmd_bacnet(int argc, char **argv)
{
    struct opts o;
    const char *sub = argc > 1 ? argv[1] : "";

    if (strcmp(sub, "discover") == 0)
        return sb_bacdisc_cli(argc - 1, argv + 1);
    if (!*sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        usage(*sub ? stdout : stderr);
        return *sub ? 0 : 2;
    }
    if (parse_opts(argc - 1, argv + 1, &o) < 0)
        return 2;
    if (strcmp(sub, "serve") == 0) return cmd_serve(&o);
    if (strcmp(sub, "read") == 0) return cmd_read(&o);
    if (strcmp(sub, "write") == 0) return cmd_write(&o);
    if (strcmp(sub, "trend") == 0) return cmd_trend(&o);
    if (strcmp(sub, "events") == 0) return cmd_events(&o);
    if (strcmp(sub, "timesync") == 0) return cmd_timesync(&o);
    if (strcmp(sub, "whohas") == 0) return cmd_whohas(&o);
    if (strcmp(sub, "wpm") == 0) return cmd_wpm(&o);
    if (strcmp(sub, "ack") == 0) return cmd_ack(&o);
    if (strcmp(sub, "schedule") == 0) return cmd_schedule(&o);
    if (strcmp(sub, "calendar") == 0) return cmd_calendar(&o);
    fprintf(stderr, "sbems bacnet: unknown command \"%s\"\n", sub);
    usage(stderr);
    return 2;
}

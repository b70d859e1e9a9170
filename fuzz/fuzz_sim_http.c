/*
 * fuzz_sim_http.c - libFuzzer target for sbems-sim's HTTP face (src/sim/
 * httpd.h): the input is a byte stream of pipelined requests, parsed with
 * the server's request parser (sb_simhttp__parse) and, when well formed,
 * answered by the real handler (router, OAuth token endpoint, thermostat
 * API, weather query parser, control routes) against a plant built from
 * the Boston weather file, then rendered.  "@TOK@" in the input becomes a
 * valid bearer token so the authenticated routes are reached.
 *
 *   clang -fsanitize=fuzzer,address,undefined -Isrc -D_GNU_SOURCE ... \
 *         fuzz/fuzz_sim_http.c <the sim, core and plant sources>
 *   ./fuzz_sim_http -max_total_time=60 fuzz/corpus/sim_http
 *
 * Run from the repository root (the weather file is found by relative
 * path; SBEMS_EPW overrides it).  Without it only the parser is fuzzed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "sim/httpd_int.h"
#include "sim/plant/plant.h"
#include "sim/weather/epw.h"

#define EPW_DEFAULT "sim/weather/USA_MA_Boston-Logan.Intl.AP.725090_TMY3.epw"

static struct sb_simhttp *srv;
static char token[SH_TOKEN_LEN + 1];
static int64_t mono;

static int ctl_inject(void *ud, const json_t *req, char *err, size_t errlen)
{
    (void)ud;
    snprintf(err, errlen, "no");
    return json_object_get(req, "class") ? 3 : -2;
}

static int ctl_clear(void *ud, int id)
{
    (void)ud;
    return id == 3 ? 0 : -4;
}

static json_t *ctl_list(void *ud)
{
    (void)ud;
    return json_array();
}

static const struct sb_simhttp_ctl ctl = { NULL, ctl_inject, ctl_clear, ctl_list };
static const struct sb_sim_site_ref site = { "fuzz", "fz", 0, NULL, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static struct sb_epw epw;
    static struct sb_plant_config pc;
    struct sb_plant *plant = NULL;
    struct sb_simhttp_cfg c;
    const char *path = getenv("SBEMS_EPW") ? getenv("SBEMS_EPW") : EPW_DEFAULT;
    char err[256];
    int64_t t0 = 1784124000000LL;           /* 2026-07-15T14:00:00Z */

    (void)argc;
    (void)argv;
    sb_plant_config_default(&pc);
    if (sb_epw_load(path, &epw, err, sizeof(err)) != 0 ||
        sb_plant_new(&pc, &epw, t0, &plant, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_sim_http: %s: %s (parser only)\n", path, err);
        return 0;
    }
    sb_plant_step(plant, 3600, t0 + 3600000);
    sb_simhttp_cfg_default(&c);
    c.listen = 0;
    c.epw = &epw;
    c.plant_cfg = &pc;
    c.ctl = &ctl;
    if (sb_simhttp_new(NULL, plant, &site, &c, &srv, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_sim_http: %s\n", err);
        return 0;
    }
    sb_simhttp_sync(srv, t0 + 3600000, 1784127600000LL);
    return 0;
}

/* A token the handler issued, for "@TOK@". */
static void ensure_token(void)
{
    static const char req[] = "POST /thermostat-api/v1/oauth2/token HTTP/1.1\r\nHost: f\r\n"
                              "Content-Length: 76\r\n\r\n"
                              "grant_type=client_credentials&client_id=sbems&client_secret=sbems-sim-secret";
    struct sb_shreq rq;
    struct sb_shresp out = { 0 };
    json_t *d;
    int r = sb_simhttp__parse(req, sizeof(req) - 1, &rq);

    if (r <= 0)
        abort();                            /* the parser must take its own token request */
    rq.body = req + r;
    rq.body_len = sizeof(req) - 1 - (size_t)r;
    sb_simhttp__handle(srv, &rq, mono, &out);
    d = out.body ? json_loads(out.body, 0, NULL) : NULL;
    snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(d, "access_token")) ?
             json_string_value(json_object_get(d, "access_token")) : "");
    json_decref(d);
    free(out.body);
}

/* data with every "@TOK@" replaced by the token (malloc'd, *n its length). */
static char *with_token(const uint8_t *data, size_t size, size_t *n)
{
    char *out = malloc(size * (SH_TOKEN_LEN + 1) / 5 + size + 1);
    size_t o = 0;

    if (!out)
        return NULL;
    for (size_t i = 0; i < size;) {
        if (i + 5 <= size && memcmp(data + i, "@TOK@", 5) == 0) {
            memcpy(out + o, token, strlen(token));
            o += strlen(token);
            i += 5;
        } else {
            out[o++] = (char)data[i++];
        }
    }
    *n = o;
    return out;
}

static void answer(const struct sb_shreq *rq, int status)
{
    struct sb_shresp out = { 0 };
    size_t n = 0;
    char *txt;

    if (status)
        sb_simhttp__parse_error(&out, status, rq->why);
    else
        sb_simhttp__handle(srv, rq, mono, &out);
    /* every answer but a 204 carries a JSON document */
    if (out.status != 204) {
        json_t *d = out.body ? json_loadb(out.body, out.body_len, 0, NULL) : NULL;
        if (!d)
            abort();
        json_decref(d);
    }
    txt = sb_simhttp__render(&out, 0, &n);
    if (!txt || n < 12 || memcmp(txt, "HTTP/1.1 ", 9) != 0)
        abort();                            /* every answer renders */
    free(txt);
    free(out.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sb_shreq rq;
    size_t n = 0, off = 0;
    char *buf, v[256];

    if (srv)
        ensure_token();                     /* inputs may evict it or outlive it */
    if (!(buf = with_token(data, size, &n)))
        return 0;
    sb_simhttp__form_get(buf, n, "grant_type", v, sizeof(v));
    for (int k = 0; k < 8 && off < n; k++) {
        int r = sb_simhttp__parse(buf + off, n - off, &rq);
        if (r < 0 && srv)
            answer(&rq, -r);
        if (r <= 0)
            break;
        if ((size_t)r > n - off || (rq.has_clen && rq.clen > SH_BODY_MAX))
            abort();                        /* never past the input; bodies bounded */
        if (rq.clen > n - off - (size_t)r)
            break;                          /* the body has not arrived */
        rq.body = buf + off + r;
        rq.body_len = (size_t)rq.clen;
        mono += 100;
        if (srv)
            answer(&rq, 0);
        off += (size_t)r + (size_t)rq.clen;
    }
    free(buf);
    return 0;
}

/*
 * fuzz_api.c - libFuzzer target for the API's request path: what the
 * transport hands over from a client (method, path, query fragments, a JSON
 * body) through the router, the query table, body parsing and the error
 * writer, and WebSocket client messages and channel names.
 *
 * Input: "<method digit><path>\n<query: name=value&...>\n<body>".  The
 * corpus in fuzz/corpus/api/ holds real requests of every route family and
 * WebSocket messages (a body starting with '~' is one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/ws.h"

static const unsigned methods[] = { SB_M_GET, SB_M_HEAD, SB_M_POST, SB_M_PUT, SB_M_PATCH,
                                    SB_M_DELETE, SB_M_OPTIONS };

static void query(struct sb_req *rq, const char *q)
{
    while (*q && !rq->qoverflow) {
        size_t n = strcspn(q, "&");
        if (n)
            sb_req_add_query(rq, q, n);
        q += n + (q[n] == '&');
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct sb_req rq;
    static const char *const keys[] = { "username", "password", "readings", "id", NULL };
    char *in = malloc(size + 1), *nl1, *nl2;
    unsigned allow;

    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';
    if (size < 1 || !(nl1 = strchr(in, '\n')) || !(nl2 = strchr(nl1 + 1, '\n')))
        goto out;
    *nl1 = *nl2 = '\0';
    memset(&rq, 0, sizeof(rq));
    sb_http__resp_init(&rq.resp);
    rq.method = methods[(unsigned char)in[0] % 7];
    snprintf(rq.path, sizeof(rq.path), "%s", in + 1);
    query(&rq, nl1 + 1);
    rq.body = nl2 + 1;
    rq.body_len = strlen(nl2 + 1);

    rq.route = sb_api__match(rq.path, rq.method, &rq, &allow);
    if (rq.route) {
        char name[32];
        for (size_t i = 0; i < rq.nparams; i++)
            sb_api__param_name(rq.route->path, i, name, sizeof(name));
    }
    sb_api__allow_text(allow);
    for (size_t i = 0; i < rq.nq; i++)
        sb_req_q(&rq, rq.qname[i]);
    size_t limit;
    const char *cursor;
    sb_api__page_args(&rq, &limit, &cursor);
    static const char *const q_ok[] = { "limit", "cursor", "building", NULL };
    sb_api__only_query(&rq, q_ok);
    if (rq.body[0] == '~') {
        json_t *m = NULL;
        int t = sb_ws__parse(rq.body + 1, rq.body_len - 1, &m);
        json_t *chs = json_object_get(m, "channels"), *v;
        size_t i;
        if (t == SB_WS_M_SUB)
            json_array_foreach(chs, i, v) {
                char kind[16];
                const char *val;
                if (json_is_string(v))
                    sb_ws__channel(json_string_value(v), kind, sizeof(kind), &val);
            }
        json_decref(m);
    } else {
        json_t *b = sb_api__body(&rq);
        if (b)
            sb_api__only_keys(&rq, b, keys);
        json_decref(b);
    }
    rq.body = NULL;
    sb_http__resp_release(&rq.resp);
out:
    free(in);
    return 0;
}

/*
 * ws.h - the WebSocket endpoint /api/v1/ws (RFC 6455): live readings,
 * alerts, equipment status and command results pushed to subscribers.
 *
 * Protocol (JSON text frames; docs/api.md "WebSocket"):
 *   client -> {"type":"auth","token":"<access token>"}          first, within 10 s
 *   server <- {"type":"ready","user":"ann","expires_in":900}
 *   client -> {"type":"subscribe","id":1,"channels":["point:42","zone:z1",...]}
 *   server <- {"type":"subscribed","id":1,"channels":[...],"points":n}
 *   server <- {"type":"readings","data":[[point,t_ms,value,quality],...]}
 *   server <- {"type":"lagged","dropped":n}       readings dropped for a slow client
 *   server <- {"type":"reauth","expires_in":s}    send a fresh token as "auth"
 *   server <- {"type":"event","channel":"alerts","data":{...}}
 *   server <- {"type":"error","id":1,"code":"...","message":"..."}
 * Channels: point:<id|slug>, equipment:<slug>, zone:<slug>, building:<slug>
 * (each within the user's grants), alerts, commands.  Readings are
 * coalesced per point to ws.max_rate updates per second (the newest value
 * wins) and batched per client per flush, so one frame carries every
 * change since the last.
 *
 * Slow clients: each client has a bounded queue (ws.client_queue bytes);
 * past it the oldest reading frames are dropped and the client is told
 * how many; events are never dropped, and a client whose events alone
 * overflow four times the bound is disconnected (close 1008).  Nothing a
 * client does makes the server wait for it.  A connection silent for 30 s
 * is pinged (RFC 6455 s.5.5.2); one silent for 60 s is closed.
 *
 * Threads: sb_ws_publish() from any thread (the bus); everything else on
 * the loop thread.  Ownership: the hub belongs to the API (api.c).
 */
#ifndef SB_API_WS_H
#define SB_API_WS_H

#include <jansson.h>
#include <stddef.h>

#include "store/sample.h"

struct lws;
struct sb_api;
struct sb_ws;
struct sb_ws_client;

int    sb_ws_new(struct sb_api *api, struct sb_ws **out);
void   sb_ws_publish(struct sb_ws *ws, const struct sb_reading *r, size_t n);
/* An event (JSON object text) to the subscribers of channel ("alerts",
 * "commands", "equipment:<slug>"); loop thread. */
void   sb_ws_event(struct sb_ws *ws, const char *channel, const char *json);
/* The same, only to clients whose user may see building (its slug): alerts
 * and command results name points and values of one building, and a user
 * granted other buildings must not receive them.  A client whose principal
 * is not in the API's cache gets nothing (never more than it may see). */
void   sb_ws_event_scoped(struct sb_ws *ws, const char *channel, const char *building,
                          const char *json);
size_t sb_ws_clients(struct sb_ws *ws);
void   sb_ws_stop(struct sb_ws *ws);       /* close clients and handles */
int    sb_ws_idle(struct sb_ws *ws);       /* 1 once handles and pool jobs are done */
void   sb_ws_free(struct sb_ws *ws);

/* Pure parsers of client bytes (fuzzed by fuzz/fuzz_api.c). */
enum { SB_WS_M_BAD = 0, SB_WS_M_AUTH, SB_WS_M_SUB, SB_WS_M_UNSUB, SB_WS_M_PING, SB_WS_M_OTHER };
/* One client message: its type; *out the parsed object (NULL for BAD),
 * json_decref it.  auth carries a string token, (un)subscribe an array. */
int sb_ws__parse(const char *s, size_t n, json_t **out);
/* "kind:value" channel name: kind into kind[kcap], *val into ch.  0 or
 * SB_EINVAL (unknown kind, empty or over-long value; alerts and commands
 * take none). */
int sb_ws__channel(const char *ch, char *kind, size_t kcap, const char **val);

/* lws callbacks (http.c). */
int  sb_ws__filter(struct sb_api *api, struct lws *wsi);
int  sb_ws__open(struct sb_api *api, struct lws *wsi, struct sb_ws_client **slot);
int  sb_ws__rx(struct sb_ws_client *c, const void *in, size_t len);
void sb_ws__pong(struct sb_ws_client *c);
int  sb_ws__writable(struct sb_ws_client *c);
void sb_ws__closed(struct sb_ws_client *c);

#endif /* SB_API_WS_H */

/*
 * rest.h - the "rest" driver: thermostats and other devices behind a cloud
 * REST API (libcurl), and plain "GET this URL, take this JSON path" points.
 *
 * Configuration (the driver's init object; docs/internals/rest.md):
 *
 *   {"profile_dir": "profiles", "user_agent": "sbems",
 *    "timeout_ms": 5000, "max_rps": 5,             -- for bare-URL points
 *    "apis": {"<name>": {"base_url": "https://...",
 *        "auth": {"type": "oauth2_client_credentials", "token_url": ...,
 *                 "client_id": ..., "client_secret": ..., "scope": ...,
 *                 "client_auth": "basic" | "body"}
 *              | {"type": "api_key", "header": "X-Api-Key", "key": ...}
 *              | {"type": "none"},
 *        "profile": "rest-siemens-thermostat" | {inline profile},
 *        "timeout_ms": 5000, "max_rps": 5, "status_cache_ms": 1000,
 *        "backoff_ms": 1000, "backoff_max_ms": 60000,
 *        "max_body": 1048576, "ca_file": "/path/ca.pem"}}}
 *
 * Addresses: {"api": "<name>", "device": "<id>", "name": "<profile point>"}
 * (device key "rest:<api>/<id>"), or {"url": "https://...", "path":
 * "a.b.c"} with optional "api" (then url may be a path under base_url) and
 * "time_path" (device key "rest:<url>").  One status GET per device serves
 * every point of a read(); a status document younger than status_cache_ms
 * is reused.  A write sends the profile's request and drops the cache.
 *
 * Errors, as driver.h asks: SB_ETIMEDOUT (deadline, rate-limit slot past
 * it), SB_EIO (connection, HTTP 429 and 5xx, a Retry-After or 5xx backoff
 * in force), SB_EPROTO (other 4xx, unparsable body); err carries the HTTP
 * status.  Secrets (client secret, tokens, API keys) never appear in err
 * or in the log.
 *
 * Threads: as driver.h (read/write on workers, at most one per device);
 * per-API state (token, pacer) is shared by devices under its own locks.
 */
#ifndef SB_DRIVERS_REST_H
#define SB_DRIVERS_REST_H

#include "drivers/driver.h"

extern const struct sb_driver_ops sb_driver_rest;

#endif /* SB_DRIVERS_REST_H */

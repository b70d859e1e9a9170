/*
 * static.c - the web UI's built files, served from the API's port.
 *
 * Vite writes content-hashed names under assets/ (index-3f9a1c.js): those
 * never change, so they are cached for a year as immutable (RFC 8246);
 * index.html and other files are revalidated every time (no-cache) with an
 * ETag from size and modification time.  A path that names no file and
 * asks for no built file (not under assets/, no extension of a type served
 * here) is a client-side route of the single-page app and gets index.html.
 * Paths are decoded and normalised by lws (no "..", no "//"); we also
 * refuse any segment starting with '.', and open with O_NOFOLLOW under a
 * root that realpath() resolved at start.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/conf.h"
#include "core/err.h"

#define FILE_MAX (64u << 20)   /* largest file served */

static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
    { ".json", "application/json" }, { ".svg", "image/svg+xml" }, { ".png", "image/png" },
    { ".ico", "image/x-icon" }, { ".webp", "image/webp" }, { ".woff2", "font/woff2" },
    { ".txt", "text/plain; charset=utf-8" }, { ".map", "application/json" },
    { ".webmanifest", "application/manifest+json" },
};

static const char *mime(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* A path that names no file is a route of the single-page app unless it
 * asks for a built file (under assets/, or with a type we serve): ids may
 * hold dots, so /zones/f1.west is a route while /app.js is a missing file. */
static int client_route(const char *rel)
{
    return strncmp(rel, "/assets/", 8) != 0 && strcmp(mime(rel), "application/octet-stream") == 0;
}

void sb_api__web_root(struct sb_api *api, const struct sb_config *cfg)
{
    char exe[PATH_MAX], cand[PATH_MAX + 64];
    const char *opt = cfg ? cfg->api_web_root : NULL;

    api->web_root[0] = '\0';
    if (opt && *opt) {
        if (!realpath(opt, api->web_root))
            api->web_root[0] = '\0';
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    /* installed (bin/../share/sbems/web) or in the tree (build/rel/../../web/dist) */
    const char *rel[] = { "/../share/sbems/web", "/../../web/dist" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(cand, sizeof(cand), "%s%s/index.html", exe, rel[i]);
        if (access(cand, R_OK) == 0) {
            cand[strlen(cand) - strlen("/index.html")] = '\0';
            if (realpath(cand, api->web_root))
                return;
        }
    }
    api->web_root[0] = '\0';
}

static int safe_path(const char *p)
{
    if (p[0] != '/' || strlen(p) > 512)
        return 0;
    for (const char *s = p; (s = strchr(s, '/')); s++)
        if (s[1] == '.')
            return 0;
    return 1;
}

/* Loop thread: only GET/HEAD of plausible paths go to the pool. */
int sb_api__static(struct sb_api *api, struct sb_req *rq)
{
    if (strncmp(rq->path, "/api/", 5) == 0 || strcmp(rq->path, "/api") == 0) {
        sb_api__err(rq, 404, "not_found", "no such API path (see /api/v1/openapi.json)");
        return SB_API_DONE;
    }
    if (rq->method != SB_M_GET && rq->method != SB_M_HEAD) {
        rq->resp.allow = "GET, HEAD";
        sb_api__err(rq, 405, "method_not_allowed", "only GET and HEAD are allowed here");
        return SB_API_DONE;
    }
    if (!safe_path(rq->path)) {
        sb_api__err(rq, 404, "not_found", "no such file");
        return SB_API_DONE;
    }
    if (!api->web_root[0]) {
        if (strcmp(rq->path, "/") == 0) {
            sb_http__index(&api->ctx, &rq->resp);
            return SB_API_DONE;
        }
        sb_api__err(rq, 404, "not_found", "no such path");
        return SB_API_DONE;
    }
    return SB_API_POOL;
}

/* Read a whole regular file into the body. */
static int read_file(struct sb_req *rq, int fd, const struct stat *st)
{
    char buf[65536];
    size_t left = (size_t)st->st_size;
    while (left) {
        ssize_t n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
        if (n <= 0)
            return SB_EIO;
        sb_http__buf_add(&rq->resp.body, buf, (size_t)n);
        left -= (size_t)n;
    }
    return rq->resp.body.err;
}

void sb_api__static_run(struct sb_api *api, struct sb_req *rq)
{
    char path[PATH_MAX + SB_HTTP_MAX_URL + 16];
    struct stat st;
    const char *rel = strcmp(rq->path, "/") == 0 ? "/index.html" : rq->path;
    int fd;

    snprintf(path, sizeof(path), "%s%s", api->web_root, rel);
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && client_route(rel)) {
        rel = "/index.html";                 /* a client-side route */
        snprintf(path, sizeof(path), "%s%s", api->web_root, rel);
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        if (fd >= 0)
            close(fd);
        sb_api__err(rq, 404, "not_found", "no such file");
        return;
    }
    char etag[64];
    /* weak: the same file goes out gzip-coded or not (RFC 9110 8.8.1) */
    snprintf(etag, sizeof(etag), "W/\"%" PRIx64 "-%" PRIx64 "\"", (uint64_t)st.st_size,
             (uint64_t)st.st_mtime);
    rq->resp.ui = 1;
    rq->resp.ctype = mime(rel);
    rq->resp.cache = strncmp(rel, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable"
                                                      : "no-cache";
    sb_http__hdr(&rq->resp, "etag:", "%s", etag);
    if (rq->inm[0] && strcmp(rq->inm, etag) == 0) {
        rq->resp.status = 304;
        close(fd);
        return;
    }
    rq->resp.status = 200;
    if (read_file(rq, fd, &st))
        sb_api__err(rq, 500, "internal", "could not read the file");
    close(fd);
}

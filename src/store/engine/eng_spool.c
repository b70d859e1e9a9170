/*
 * eng_spool.c - the local spool: where acknowledged batches wait while a
 * database server (PostgreSQL) cannot be reached.
 *
 * The spool extends the head onto the local disk: a batch whose head row
 * cannot be written is written, with the sequence number it would have had,
 * to <data_dir>/spool/<seq>.batch (written to a temporary name, fsynced,
 * renamed, directory fsynced: durable as a head row is), applied to memory
 * like any batch, and acknowledged.  So ingest goes on and nothing
 * acknowledged is lost while the server is away:
 *   - when the server answers again, spooled batches are copied into the head
 *     in sequence order and their files removed (the next append tries, at
 *     most once per back-off period: 0.5 s doubling to 30 s);
 *   - a seal that commits covers every batch up to head_seq, spooled ones
 *     included (they are in memory), so their files are removed then too;
 *   - at open, spooled batches newer than sealed_seq go into the head first,
 *     then the head is replayed as usual.
 * Only stores on a server use it (kv ops .remote): for the embedded store a
 * failed head write means the local disk failed, and a spool there would not
 * help.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/log.h"
#include "store/engine/engine_int.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000

static int spool_path(const struct sb_store *s, int64_t seq, const char *suffix, char *out,
                      size_t cap)
{
    int n = snprintf(out, cap, "%s/spool/%020" PRId64 ".batch%s", s->dir, seq, suffix);
    return n > 0 && (size_t)n < cap ? 0 : SB_ENOSPC;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return SB_EIO;
    int rc = fsync(fd) == 0 ? 0 : SB_EIO;
    close(fd);
    return rc;
}

/* Write one batch durably into the spool. */
static int spool_write(struct sb_store *s, int64_t seq, const uint8_t *blob, size_t len)
{
    char dir[4096], tmp[4200], path[4200];
    int rc;

    snprintf(dir, sizeof(dir), "%s/spool", s->dir);
    if (mkdir(s->dir, 0750) != 0 && errno != EEXIST)
        return SB_EIO;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return SB_EIO;
    if ((rc = spool_path(s, seq, ".tmp", tmp, sizeof(tmp))) ||
        (rc = spool_path(s, seq, "", path, sizeof(path))))
        return rc;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return SB_EIO;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, blob + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    rc = off == len && fsync(fd) == 0 ? 0 : SB_EIO;
    close(fd);
    if (rc == 0 && rename(tmp, path) != 0)
        rc = SB_EIO;
    if (rc == 0)
        rc = fsync_dir(dir);
    if (rc) {
        unlink(tmp);
        SB_ERR("store", "spool: cannot write %s: %s", path, strerror(errno));
    }
    return rc;
}

static int cmp_seq(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sequence numbers of the spooled batches, ascending (caller frees *seqs). */
static int spool_list(const struct sb_store *s, int64_t **seqs, size_t *n)
{
    char dir[4096];
    size_t cap = 0;

    *seqs = NULL;
    *n = 0;
    snprintf(dir, sizeof(dir), "%s/spool", s->dir);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : SB_EIO;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        int64_t seq;
        int used = 0;
        if (sscanf(e->d_name, "%20" SCNd64 ".batch%n", &seq, &used) != 1 ||
            e->d_name[used] != '\0')
            continue;   /* ., .., and a .tmp a crash left behind */
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            int64_t *nv = realloc(*seqs, nc * sizeof(*nv));
            if (!nv) {
                rc = SB_ENOMEM;
                break;
            }
            *seqs = nv;
            cap = nc;
        }
        (*seqs)[(*n)++] = seq;
    }
    closedir(d);
    if (*n > 1)    /* a long outage leaves one file per batch: thousands */
        qsort(*seqs, *n, sizeof(**seqs), cmp_seq);
    return rc;
}

/* Visit the spooled batches in order: fn(s, seq, path, ud) for each; the
 * first nonzero return stops the walk and is returned (1 stops with 0). */
typedef int (*spool_fn)(struct sb_store *s, int64_t seq, const char *path, void *ud);

static int spool_each(struct sb_store *s, spool_fn fn, void *ud)
{
    int64_t *seqs;
    size_t n;
    int rc = spool_list(s, &seqs, &n);

    for (size_t i = 0; rc == 0 && i < n; i++) {
        char path[4200];
        if ((rc = spool_path(s, seqs[i], "", path, sizeof(path))) == 0)
            rc = fn(s, seqs[i], path, ud);
    }
    free(seqs);
    return rc > 0 ? 0 : rc;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    int rc = SB_EIO;

    *out = NULL;
    if (!f)
        return SB_EIO;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && st.st_size >= 0) {
        *len = (size_t)st.st_size;
        *out = malloc(*len ? *len : 1);
        if (!*out)
            rc = SB_ENOMEM;
        else if (fread(*out, 1, *len, f) == *len)
            rc = 0;
    }
    fclose(f);
    if (rc) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* One spooled batch into the head (when no seal covers it yet), then its
 * file goes. */
static int drain_one(struct sb_store *s, int64_t seq, const char *path, void *ud)
{
    size_t *moved = ud;
    int rc = 0;

    if (seq > s->sealed_seq) {
        uint8_t *blob = NULL;
        size_t len = 0;
        if ((rc = read_file(path, &blob, &len)) == 0)
            rc = s->kvo->head_put(s->w, seq, blob, len);
        free(blob);
    }
    if (rc == 0 && unlink(path) != 0 && errno != ENOENT)
        rc = SB_EIO;
    if (rc == 0) {
        s->spooled--;
        (*moved)++;
    }
    return rc;
}

/* Copy spooled batches into the head, oldest first, removing each file once
 * its row is committed; files at or below sealed_seq are only removed.
 * Stops at the first failure (the server is still away): SB_ESTORE. */
static int spool_drain(struct sb_store *s)
{
    size_t moved = 0;
    int rc = spool_each(s, drain_one, &moved);

    if (moved > 0)
        SB_INFO("store", "spool: %zu batches moved into the database", moved);
    return rc;
}

int sb__spool_open(struct sb_store *s)
{
    int64_t *seqs;
    size_t n;

    if (!s->kvo->remote || s->cfg.readonly)
        return 0;
    int rc = spool_list(s, &seqs, &n);
    if (rc)
        return rc;
    s->spooled = n;
    if (n && seqs[n - 1] > s->head_seq)
        s->head_seq = seqs[n - 1];
    free(seqs);
    /* The server answered open(): the spool goes into the head before the
     * head is replayed, so the replay sees every batch in order. */
    return n ? spool_drain(s) : 0;
}

int sb__spool_append(struct sb_store *s, int64_t seq, const uint8_t *blob, size_t len)
{
    int64_t now = sb__now_mono_ms();
    int rc;

    /* While batches wait in the spool, or the server was just found away,
     * new ones join the spool until the back-off has passed. */
    if (s->kvo->remote && (s->spooled || now < s->retry_at_ms)) {
        if (now >= s->retry_at_ms && spool_drain(s) == 0) {
            s->backoff_ms = 0;
        } else {
            if (now >= s->retry_at_ms)
                s->retry_at_ms = now + (s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2
                                                                      : BACKOFF_MIN_MS);
            if (s->backoff_ms > BACKOFF_MAX_MS)
                s->backoff_ms = BACKOFF_MAX_MS;
            if ((rc = spool_write(s, seq, blob, len)) == 0) {
                s->spooled++;
                s->st_spooled++;
            }
            return rc;
        }
    }
    rc = s->kvo->head_put(s->w, seq, blob, len);
    if (rc == 0 || !s->kvo->remote)
        return rc;
    SB_WARN("store", "database unreachable (%s): batches go to the local spool in %s/spool "
            "until it answers", sb_strerror(rc), s->dir);
    s->backoff_ms = BACKOFF_MIN_MS;
    s->retry_at_ms = now + s->backoff_ms;
    if ((rc = spool_write(s, seq, blob, len)) == 0) {
        s->spooled++;
        s->st_spooled++;
    }
    return rc;
}

static int sealed_one(struct sb_store *s, int64_t seq, const char *path, void *ud)
{
    if (seq <= s->sealed_seq && unlink(path) == 0 && s->spooled > 0)
        s->spooled--;
    return 0;
}

void sb__spool_sealed(struct sb_store *s)
{
    if (s->spooled)
        (void)spool_each(s, sealed_one, NULL);
}

struct replay_ud {
    sb_kv_row_fn fn;             /* the caller's row callback */
    void *ud;
};

static int replay_one(struct sb_store *s, int64_t seq, const char *path, void *ud)
{
    struct replay_ud *r = ud;
    uint8_t *blob = NULL;
    size_t len = 0;
    int rc;

    if (seq <= s->sealed_seq)
        return 0;
    if ((rc = read_file(path, &blob, &len)) == 0)
        rc = r->fn(r->ud, seq, blob, len);
    free(blob);
    if (seq > s->head_seq)
        s->head_seq = seq;
    return rc;
}

int sb__spool_replay(struct sb_store *s, sb_kv_row_fn fn, void *ud)
{
    struct replay_ud r = { fn, ud };
    return spool_each(s, replay_one, &r);
}

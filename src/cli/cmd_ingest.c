/*
 * cmd_ingest.c - `sbems ingest`: backfill readings from CSV or JSON lines
 * through the same pipeline the daemon uses (validation, queue, durable
 * batches, rollups).
 *
 * Progress goes to stdout as "ack readings=N lines=L" whenever durability
 * advances: every reading of lines 1..L is then on disk and survives a crash
 * or kill -9 (the integration test relies on this contract).  A producer
 * that pauses (a pipe from a live source) gets the acknowledgements of what
 * it sent within a flush interval, without sending more.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/err.h"
#include "ingest/acks.h"
#include "ingest/parse.h"

#define SUBMIT_BATCH 8192

struct ingest_run {
    struct sb_cli *c;                /* CLI state (model for slugs) */
    struct sb_ingest *ing;           /* pipeline */
    int source_units;                /* values are in each point's source unit */
    struct sb_reading *batch;        /* readings waiting to be submitted */
    size_t nbatch;                   /* how many */
    struct sb_acks acks;             /* submitted ticket -> line */
    uint64_t acked_line, lines, bad_lines, accepted, rejected;
    uint64_t reasons[SB_REJ_COUNT];  /* refused per reason */
};

static int resolve(void *ud, const char *name, uint32_t *id)
{
    const struct sb_point *p = sb_model_point(ud, name);
    if (!p)
        return SB_ENOENT;
    *id = p->id;
    return 0;
}

/* Print an ack line when durability covered more lines (always at the end). */
static void report(struct ingest_run *r, int final)
{
    struct sb_ack last = { 0, r->acked_line, 0 };
    int moved = sb_acks_pop(&r->acks, sb_ingest_durable(r->ing), &last);
    if ((moved && last.line != r->acked_line) || final) {
        r->acked_line = last.line;
        printf("ack readings=%llu lines=%llu\n", (unsigned long long)sb_ingest_durable(r->ing),
               (unsigned long long)r->acked_line);
        fflush(stdout);
    }
}

static int submit(struct ingest_run *r)
{
    struct sb_ingest_result res;
    if (r->source_units)
        sb_model_to_canonical(&r->c->model, r->batch, r->nbatch);
    int rc = sb_ingest_submit(r->ing, r->batch, r->nbatch, -1, &res);
    r->accepted += res.queued;
    r->rejected += res.rejected;
    for (int k = 0; k < SB_REJ_COUNT; k++)
        r->reasons[k] += res.reasons[k];
    if (res.rejected && r->rejected <= 10)
        fprintf(stderr, "sbems ingest: near line %llu: %zu readings refused (first: %s)\n",
                (unsigned long long)r->lines, res.rejected,
                sb_reject_name((enum sb_reject)(res.reasons[0] ? 0 : res.reasons[1] ? 1
                                                : res.reasons[2] ? 2 : res.reasons[3] ? 3 : 4)));
    r->nbatch = 0;
    if (rc)
        return rc;
    if ((rc = sb_acks_push(&r->acks, res.ticket, r->lines, r->accepted)))
        return rc;
    report(r, 0);
    return 0;
}

/* Input lines from a descriptor, with our own buffer rather than stdio's so
 * that an empty buffer is visible: when the producer goes quiet (a pipe from a
 * live source), what was read so far is submitted and its acknowledgements
 * are printed, instead of both waiting for the producer's next line. */
#define IDLE_MS   200
#define LINE_MAX_BYTES (1u << 20)

struct lines {
    int fd;
    char *buf;
    size_t start, end, cap;          /* unread bytes are buf[start, end) */
    int eof;
};

/* While input is awaited: submit the partial batch, print new acks. */
static int idle(struct ingest_run *r)
{
    int rc = r->nbatch ? submit(r) : 0;
    if (rc == 0)
        report(r, 0);
    return rc;
}

/* Refill: compact, grow (lines up to LINE_MAX_BYTES), wait for bytes. */
static int fill(struct lines *in, struct ingest_run *r)
{
    if (in->start) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->end + 1 >= in->cap) {
        if (in->cap >= LINE_MAX_BYTES)
            return SB_ERANGE;
        char *nb = realloc(in->buf, in->cap * 2);
        if (!nb)
            return SB_ENOMEM;
        in->buf = nb;
        in->cap *= 2;
    }
    for (;;) {
        struct pollfd p = { in->fd, POLLIN, 0 };
        int pr = poll(&p, 1, IDLE_MS);
        if (pr < 0 && errno != EINTR)
            return SB_EIO;
        if (pr == 0) {
            int rc = idle(r);
            if (rc)
                return rc;
            continue;
        }
        if (pr < 0)
            continue;
        ssize_t n = read(in->fd, in->buf + in->end, in->cap - 1 - in->end);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return SB_EIO;
        if (n == 0)
            in->eof = 1;
        in->end += (size_t)n;
        return 0;
    }
}

/* The next line, NUL-terminated, without its newline: 1, or 0 at the end of
 * the input, or a negative SB_E*. */
static int next_line(struct lines *in, struct ingest_run *r, char **line, size_t *len)
{
    for (;;) {
        char *b = in->buf + in->start;
        char *nl = memchr(b, '\n', in->end - in->start);
        if (nl || (in->eof && in->end > in->start)) {
            size_t n = nl ? (size_t)(nl - b) : in->end - in->start;
            b[n] = 0;    /* the newline, or the spare byte fill() keeps */
            in->start += nl ? n + 1 : n;
            *line = b;
            *len = n;
            return 1;
        }
        if (in->eof)
            return 0;
        int rc = fill(in, r);
        if (rc)
            return rc;
    }
}

static int run(struct ingest_run *r, int fd, enum sb_rdfmt fmt)
{
    struct sb_rdparse *p = NULL;
    struct lines in = { .fd = fd, .cap = 65536 };
    char *line = NULL, err[256];
    size_t len = 0;
    int rc = sb_rdparse_new(fmt, resolve, &r->c->model, &p), more = 0;

    if (rc == 0 && !(in.buf = malloc(in.cap)))
        rc = SB_ENOMEM;
    while (rc == 0 && (more = next_line(&in, r, &line, &len)) > 0) {
        size_t n = 0;
        r->lines++;
        if (r->nbatch + SB_RDPARSE_MAX_COLS > SUBMIT_BATCH * 2 && (rc = submit(r)))
            break;
        int e = sb_rdparse_line(p, line, len, r->batch + r->nbatch,
                                SUBMIT_BATCH * 2 + SB_RDPARSE_MAX_COLS - r->nbatch, &n, err,
                                sizeof(err));
        if (e) {
            if (++r->bad_lines <= 20)
                fprintf(stderr, "sbems ingest: line %llu: %s\n", (unsigned long long)r->lines, err);
            if (r->lines == 1 && fmt == SB_RDFMT_CSV) {
                rc = e;   /* a bad header makes every line meaningless */
                break;
            }
            continue;
        }
        r->nbatch += n;
        if (r->nbatch >= SUBMIT_BATCH)
            rc = submit(r);
    }
    if (rc == 0 && more < 0) {
        rc = more;
        fprintf(stderr, "sbems ingest: after line %llu: %s\n", (unsigned long long)r->lines,
                rc == SB_ERANGE ? "a line longer than 1 MiB" : sb_strerror(rc));
    }
    if (rc == 0 && r->nbatch)
        rc = submit(r);
    free(in.buf);
    sb_rdparse_free(p);
    return rc;
}

/* ---- through a running daemon (src/api/ctl.h) ---------------------------- */

/* Connect to the daemon's control socket; -1 when no daemon listens. */
static int ctl_connect(const struct sb_cli *c)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (sb_conf_socket_path(&c->cfg, sa.sun_path, sizeof(sa.sun_path)) != 0)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* One line from the daemon: print acks, report refusals; the final
 * "done"/"error" line sets *rc. */
static void ctl_line(const char *l, int *rc)
{
    unsigned long long n[4] = { 0 };
    if (strncmp(l, "ack ", 4) == 0) {
        printf("%s\n", l);
        fflush(stdout);
    } else if (strncmp(l, "bad line ", 9) == 0) {
        fprintf(stderr, "sbems ingest: line %s\n", l + 9);
    } else if (sscanf(l, "done lines=%llu stored=%llu refused=%llu bad=%llu", &n[0], &n[1],
                      &n[2], &n[3]) == 4) {
        fprintf(stderr, "sbems ingest: through the daemon: %s\n", l + 5);
        *rc = n[2] || n[3] ? 3 : 0;
    } else {
        fprintf(stderr, "sbems ingest: daemon: %s\n", l);
        *rc = 1;
    }
}

/* Stream the file to the daemon while printing what it answers. */
static int ctl_ingest(int fd, FILE *in, enum sb_rdfmt fmt, int source_units)
{
    char out[65536], inb[8192], line[1024];
    size_t olen = 0, ooff = 0, llen = 0;
    int rc = -1, sent_eof = 0, send_err = 0;

    olen = (size_t)snprintf(out, sizeof(out), "INGEST %s%s\n", fmt == SB_RDFMT_JSONL ? "jsonl" : "csv",
                            source_units ? " source" : "");
    for (;;) {
        struct pollfd p = { fd, POLLIN | (sent_eof ? 0 : POLLOUT), 0 };
        if (poll(&p, 1, -1) < 0 && errno != EINTR) {
            fprintf(stderr, "sbems ingest: %s\n", strerror(errno));
            return 1;
        }
        if ((p.revents & POLLOUT) && !sent_eof) {
            if (ooff == olen) {
                olen = fread(out, 1, sizeof(out), in);
                ooff = 0;
                if (olen == 0) {
                    shutdown(fd, SHUT_WR);   /* the daemon sees EOF, finishes, says done */
                    sent_eof = 1;
                    continue;
                }
            }
            ssize_t w = send(fd, out + ooff, olen - ooff, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN && errno != EINTR) {
                /* the daemon stopped reading: its answer says why */
                send_err = errno;
                sent_eof = 1;
                continue;
            }
            if (w > 0)
                ooff += (size_t)w;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t r = recv(fd, inb, sizeof(inb), 0);
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++) {
                if (inb[i] != '\n') {
                    if (llen < sizeof(line) - 1)
                        line[llen++] = inb[i];
                    continue;
                }
                line[llen] = 0;
                ctl_line(line, &rc);
                llen = 0;
            }
        }
    }
    if (rc < 0 || send_err) {
        fprintf(stderr, "sbems ingest: the daemon closed the connection before finishing%s%s\n",
                send_err ? ": " : "", send_err ? strerror(send_err) : "");
        rc = 1;
    }
    return rc;
}

int sb_cmd_ingest(int argc, char **argv)
{
    const char *fmt = NULL, *units = NULL;
    const struct sb_cli_opt opts[] = {
        { "format", 1, &fmt, "csv|jsonl (default: from the file name, else csv)" },
        { "units", 1, &units, "canonical (default) or source: values in each point's declared unit" },
        { NULL, 0, NULL, NULL },
    };
    struct sb_cli c;
    struct sb_ingest_cfg ic;
    struct ingest_run *r = NULL;
    FILE *in = NULL;
    int rc = sb_cli_parse(&c, argc, argv, opts,
                          "[FILE|-] [--format csv|jsonl]\n"
                          "Backfill readings (values in each point's canonical unit: degC, kW,\n"
                          "kWh, Pa, L/s...; --units source for the unit each point declares).\n"
                          "CSV: point,time,value[,quality] or time,<point>,<point>,...\n"
                          "When sbems serve runs on the same data directory, the readings\n"
                          "go through it (its control socket); otherwise into the store.\n"
                          "Exit status: 0 all accepted, 3 some lines or readings refused, 1 error.");
    if (rc) {
        rc = rc == 1 ? 0 : 2;
        goto out;
    }
    rc = 1;
    const char *path = c.argc > 0 ? c.argv[0] : "-";
    enum sb_rdfmt f = SB_RDFMT_CSV;
    if ((fmt && strcmp(fmt, "jsonl") == 0) ||
        (!fmt && strlen(path) > 6 && strcmp(path + strlen(path) - 6, ".jsonl") == 0))
        f = SB_RDFMT_JSONL;
    else if (fmt && strcmp(fmt, "csv") != 0) {
        fprintf(stderr, "sbems ingest: --format must be csv or jsonl\n");
        rc = 2;
        goto out;
    }
    int source_units = units && strcmp(units, "source") == 0;
    if (units && !source_units && strcmp(units, "canonical") != 0) {
        fprintf(stderr, "sbems ingest: --units must be canonical or source\n");
        rc = 2;
        goto out;
    }
    if (!(in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r"))) {
        fprintf(stderr, "sbems ingest: %s: %s\n", path, strerror(errno));
        goto out;
    }
    int fd = ctl_connect(&c);
    if (fd >= 0) {   /* a daemon holds the store: go through it */
        rc = ctl_ingest(fd, in, f, source_units);
        close(fd);
        goto out;
    }
    if (!(r = calloc(1, sizeof(*r))) ||
        !(r->batch = malloc((SUBMIT_BATCH * 2 + SB_RDPARSE_MAX_COLS) * sizeof(*r->batch))))
        goto out;
    r->c = &c;
    r->source_units = source_units;
    if (sb_cli_open(&c, 0))
        goto out;
    sb_cli_ingest_cfg(&c, &ic);
    if (sb_ingest_new(&c.store, NULL, &ic, &r->ing) || sb_cli_sync_points(&c, r->ing))
        goto out;
    int e = run(r, fileno(in), f);
    int s = sb_ingest_stop(r->ing);
    report(r, 1);
    fprintf(stderr, "sbems ingest: %llu lines, %llu readings stored, %llu refused",
            (unsigned long long)r->lines, (unsigned long long)r->accepted,
            (unsigned long long)r->rejected);
    for (int k = 0; k < SB_REJ_COUNT; k++)
        if (r->reasons[k])
            fprintf(stderr, " (%s: %llu)", sb_reject_name((enum sb_reject)k),
                    (unsigned long long)r->reasons[k]);
    fprintf(stderr, ", %llu bad lines\n", (unsigned long long)r->bad_lines);
    if (r->reasons[SB_REJ_TOO_OLD])
        fprintf(stderr, "sbems ingest: readings older than retention.raw are refused (their "
                        "period's raw data is gone, so rollups could not be recomputed); to "
                        "backfill older history, run with --set retention.raw=0 (or longer)\n");
    if (e || s)
        fprintf(stderr, "sbems ingest: stopped: %s\n", sb_strerror(e ? e : s));
    rc = e || s ? 1 : (r->rejected || r->bad_lines) ? 3 : 0;
out:
    if (r) {
        sb_ingest_free(r->ing);
        sb_acks_release(&r->acks);
        free(r->batch);
        free(r);
    }
    if (in && in != stdin)
        fclose(in);
    sb_cli_release(&c);
    return rc;
}

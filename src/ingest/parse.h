/*
 * parse.h - readings from text: CSV (long or wide) and JSON lines.
 *
 * Long CSV:  header "point,time,value[,quality]", then one reading per line.
 * Wide CSV:  header "time,<point>,<point>,...", then one row per timestamp,
 *            one reading per non-empty cell (how BAS trend exports look).
 * JSON lines: {"point": "ahu1.sat" | 17, "t" | "time": RFC 3339 | ms,
 *              "v" | "value": number, "q" | "quality": int | "stale|fault"}.
 * Points are named by integer id or by slug (resolved through a callback);
 * times are RFC 3339 with a zone, or integer ms (core/timefmt.h).  Quality
 * is an integer of SB_Q_* bits or names joined by '|': ok, stale, fault,
 * overridden, estimated.
 *
 * A bad line yields an error message naming the column and the problem; the
 * caller counts it and goes on with the next line (nothing else is lost).
 * The parser holds no I/O: the caller feeds lines (without the newline).
 */
#ifndef SB_PARSE_H
#define SB_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "store/sample.h"

enum sb_rdfmt { SB_RDFMT_CSV = 0, SB_RDFMT_JSONL };

#define SB_RDPARSE_MAX_COLS 4096
#define SB_RDPARSE_MAX_LINE (1 << 20)

/* Resolve a point name to its id: 0 or SB_ENOENT. */
typedef int (*sb_resolve_fn)(void *ud, const char *name, uint32_t *id);

struct sb_rdparse;

/* Create a parser (caller owns; sb_rdparse_free).  resolve may be NULL: only
 * integer point ids are then accepted. */
int  sb_rdparse_new(enum sb_rdfmt fmt, sb_resolve_fn resolve, void *ud, struct sb_rdparse **out);
void sb_rdparse_free(struct sb_rdparse *p);

/* Feed one line.  Readings go to out[0..cap) (*n set); a wide CSV row gives
 * up to one per column, so cap >= SB_RDPARSE_MAX_COLS is always enough.
 * Returns 0 (also for blank/comment/header lines, *n = 0), or SB_EINVAL /
 * SB_ENOENT / SB_ERANGE with a message in err. */
int  sb_rdparse_line(struct sb_rdparse *p, const char *line, size_t len, struct sb_reading *out,
                     size_t cap, size_t *n, char *err, size_t errlen);

/* Parse a quality field ("3", "stale|fault", "ok"). */
int  sb_quality_parse(const char *s, size_t len, uint16_t *q);

#endif /* SB_PARSE_H */

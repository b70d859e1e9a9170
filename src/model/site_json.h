/*
 * site_json.h - the site document: the whole model as one JSON text.
 *
 *   {"format": "sbems-site", "version": 1,
 *    "sites": [...], "buildings": [...], "zones": [...],
 *    "equipment": [...], "points": [...]}
 *
 * Flat lists whose objects refer to each other by id (slug), so a document
 * diffs line by line and is easy to write by hand; docs/site-format.md is the
 * reference and examples/office-site.json a complete example.  Import is
 * strict: unknown fields, duplicate keys, wrong types and every rule of
 * sb_model_validate() are reported, all of them, each naming the object and
 * field.  Export writes a canonical form: export(import(export(m))) ==
 * export(m), byte for byte.  Point integer ids are not part of the document
 * (they belong to the store: model_sql.h).
 *
 * Ownership: functions filling a struct sb_model expect it empty (from
 * sb_model_init or released) and leave it empty on failure.  Returned json_t
 * references and char * texts belong to the caller (json_decref, free).
 * Input json_t is only read.  Messages go to errs (may be NULL), which the
 * caller releases.
 */
#ifndef SB_SITE_JSON_H
#define SB_SITE_JSON_H

#include <jansson.h>

#include "model/model.h"

#define SB_SITE_FORMAT "sbems-site"   /* value of "format" */
#define SB_SITE_VERSION 1             /* value of "version" this code writes */

/* Import a whole document and validate it.  Returns 0, SB_EINVAL (see errs),
 * SB_ENOMEM. */
int sb_model_from_json(const json_t *doc, struct sb_model *m, struct sb_model_errs *errs);

/* Same from text: len bytes, need not be NUL-terminated.  JSON syntax errors
 * are reported with line and column. */
int sb_model_from_json_text(const char *text, size_t len, struct sb_model *m,
                            struct sb_model_errs *errs);

/* Import without the cross-object checks (references may point outside the
 * document, as in a partial document that adds a floor).  Field syntax and
 * types are still checked.  The result has no lookups (not validated). */
int sb_model_parse_json(const json_t *doc, struct sb_model *m, struct sb_model_errs *errs);

/* Export.  *out is a new reference.  Returns 0 or SB_ENOMEM. */
int sb_model_to_json(const struct sb_model *m, json_t **out);

/* Export as text in the canonical layout (one object per line, lists in
 * document order, newline at the end).  *out is malloc'd; free() it. */
int sb_model_to_json_text(const struct sb_model *m, char **out);

/* Upsert: every object of src replaces the object of the same kind and id
 * in dst, or is appended; nothing is deleted.  Point integer ids of dst are
 * kept (by slug).  The merged model is validated; on any failure dst is
 * unchanged.  src may be partial (sb_model_parse_json).  Returns 0,
 * SB_EINVAL, SB_ENOMEM. */
int sb_model_merge(struct sb_model *dst, const struct sb_model *src, struct sb_model_errs *errs);

/* Parse a (partial) document and merge it into dst. */
int sb_model_merge_json(struct sb_model *dst, const json_t *doc, struct sb_model_errs *errs);

/* Deep copy of a valid model (ids included) into empty dst. */
int sb_model_clone(const struct sb_model *src, struct sb_model *dst);

/* --- module internals (model_sql.c) --------------------------------------- */
#include "model/model_int.h"

/* One object as the document writes it; NULL on ENOMEM. */
json_t *sb_model__obj_to_json(const struct sb_model *m, enum sb_obj k, size_t i);

/* Reads object o into slot i of kind k (the slot must be zeroed; the array
 * allocated by the caller).  Problems go to errs and make it return
 * SB_EINVAL; the slot then holds what could be read (release it as usual). */
int sb_model__obj_from_json(struct sb_model *m, enum sb_obj k, size_t i, const json_t *o,
                            struct sb_model_errs *errs);

/* Allocates zeroed arrays for counts[k] objects of each kind into empty m. */
int sb_model__alloc(struct sb_model *m, const size_t counts[SB_OBJ_COUNT]);

#endif /* SB_SITE_JSON_H */

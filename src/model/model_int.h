/*
 * model_int.h - internals shared by the files of src/model/ (not for other
 * modules: include model.h, site_json.h or model_sql.h instead).
 *
 * The five object kinds are handled generically where they can be (slugs,
 * index maps, error prefixes); the *_release functions free what an object
 * owns, not the object itself (objects live in the model's arrays).
 */
#ifndef SB_MODEL_INT_H
#define SB_MODEL_INT_H

#include <stdarg.h>

#include "model/model.h"

enum sb_obj {
    SB_OBJ_SITE = 0,
    SB_OBJ_BUILDING,
    SB_OBJ_ZONE,
    SB_OBJ_EQUIPMENT,
    SB_OBJ_POINT,
    SB_OBJ_COUNT
};

/* "sites", "buildings", "zones", "equipment", "points": the document's list
 * names, also used in messages. */
const char *sb_model__list_name(enum sb_obj k);

size_t sb_model__count(const struct sb_model *m, enum sb_obj k);
const char *sb_model__slug_at(const struct sb_model *m, enum sb_obj k, size_t i);

/* Index of the object of kind k with slug, or -1 (needs m->idx). */
int32_t sb_model__find(const struct sb_model *m, enum sb_obj k, const char *slug);

/* Builds the slug maps and the point-id array into m->idx (replacing any).
 * Problems (bad or duplicate slugs, duplicate or too large ids) are reported
 * through sb_model__err and counted in *bad.  Returns 0 or SB_ENOMEM. */
int sb_model__index_build(struct sb_model *m, struct sb_model_errs *errs, size_t *bad);
void sb_model__index_drop(struct sb_model *m);

/* Reports a problem with object i of kind k: the message is prefixed with
 * `points[12] "ahu-1.sat": `.  errs may be NULL.  Returns 0 or SB_ENOMEM. */
int sb_model__err(struct sb_model_errs *errs, enum sb_obj k, size_t i, const char *slug,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int sb_model__verr(struct sb_model_errs *errs, const char *prefix_fmt_done, const char *fmt,
                   va_list ap) __attribute__((format(printf, 3, 0)));

void sb_model__site_release(struct sb_site *s);
void sb_model__building_release(struct sb_building *b);
void sb_model__zone_release(struct sb_zone *z);
void sb_model__equipment_release(struct sb_equipment *e);
void sb_model__point_release(struct sb_point *p);
void sb_model__strv_release(struct sb_strv *v);

/* strdup that returns NULL for NULL. */
char *sb_model__strdup(const char *s);

#endif /* SB_MODEL_INT_H */

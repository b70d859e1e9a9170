/*
 * slug.h - the id rules of the site document, for code that must check an
 * id without taking the whole model (the simulator's plant has a struct
 * sb_zone of its own).  Pure; implemented in model.c.
 */
#ifndef SB_MODEL_SLUG_H
#define SB_MODEL_SLUG_H

#define SB_SLUG_MAX 64                 /* longest slug, bytes */

/* True if the slug is well formed: [a-z0-9] then [a-z0-9_.-], shorter than SB_SLUG_MAX. */
int sb_slug_valid(const char *s);

#endif /* SB_MODEL_SLUG_H */

/*
 * strmap - a string-keyed hash map (open addressing, keys copied).
 */
#ifndef PH_STRMAP_H
#define PH_STRMAP_H

#include <stddef.h>

struct strmap;

struct strmap *strmap_new(void);
/* strmap_free - FREE_VAL (may be NULL) is called on every value */
void strmap_free(struct strmap *m, void (*free_val)(void *));
/* strmap_put - insert or replace; returns the old value or NULL */
void *strmap_put(struct strmap *m, const char *key, void *val);
void *strmap_get(const struct strmap *m, const char *key);
void *strmap_del(struct strmap *m, const char *key);
size_t strmap_count(const struct strmap *m);
/* strmap_each - calls FN for every entry; FN must not modify the map */
void strmap_each(const struct strmap *m, void (*fn)(void *arg, const char *key, void *val), void *arg);

#endif

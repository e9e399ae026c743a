/*
 * strmap - a string-keyed hash map: open addressing with linear probing,
 * FNV-1a hashes, tombstones for deletions, capacity a power of two grown at
 * 70% occupancy (live entries plus tombstones). Keys are copied.
 *
 * DIAGNOSTICS: allocation failure panics (maps hold process state that cannot
 * be half-updated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strmap.h"

#define STRMAP_MIN_CAP 16

struct slot {
	char *key;	/* NULL = empty; TOMBSTONE = deleted */
	void *val;
	uint64_t hash;
};

struct strmap {
	struct slot *slots;
	size_t cap;	/* power of two */
	size_t count;	/* live entries */
	size_t used;	/* live entries + tombstones */
};

static char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

/* hash_str - FNV-1a 64 */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (uint8_t)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* xcalloc_slots - N empty slots or panic */
static struct slot *xcalloc_slots(size_t n)
{
	struct slot *s = calloc(n, sizeof(*s));

	if (s == NULL)
		fatal_nomem("strmap");
	return s;
}

/* strmap_new - an empty map */
struct strmap *strmap_new(void)
{
	struct strmap *m = calloc(1, sizeof(*m));

	if (m == NULL)
		fatal_nomem("strmap");
	m->cap = STRMAP_MIN_CAP;
	m->slots = xcalloc_slots(m->cap);
	return m;
}

/* strmap_free - free keys, values (through FREE_VAL) and the map */
void strmap_free(struct strmap *m, void (*free_val)(void *))
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		struct slot *s = &m->slots[i];
		if (s->key == NULL || s->key == TOMBSTONE)
			continue;
		if (free_val != NULL)
			free_val(s->val);
		free(s->key);
	}
	free(m->slots);
	free(m);
}

/* find - the slot holding KEY, or NULL */
static struct slot *find(const struct strmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *s = &m->slots[i];
		if (s->key == NULL)
			return NULL;
		if (s->key != TOMBSTONE && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

/* grow - rehash into a table sized for the live entries */
static void grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	while (m->cap < (m->count + 1) * 2)
		m->cap *= 2;
	m->slots = xcalloc_slots(m->cap);
	m->used = m->count;
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;
		if (old[i].key == NULL || old[i].key == TOMBSTONE)
			continue;
		for (j = old[i].hash & (m->cap - 1); m->slots[j].key != NULL;
		    j = (j + 1) & (m->cap - 1))
			;
		m->slots[j] = old[i];
	}
	free(old);
}

/* strmap_put - insert or replace; the old value is returned to the caller */
void *strmap_put(struct strmap *m, const char *key, void *val)
{
	uint64_t h = hash_str(key);
	struct slot *s = find(m, key, h);
	size_t i, mask;

	if (s != NULL) {
		void *old = s->val;
		s->val = val;
		return old;
	}
	if ((m->used + 1) * 10 > m->cap * 7)
		grow(m);
	mask = m->cap - 1;
	for (i = h & mask; m->slots[i].key != NULL && m->slots[i].key != TOMBSTONE;
	    i = (i + 1) & mask)
		;
	if (m->slots[i].key == NULL)
		m->used++;
	m->slots[i].key = strdup(key);
	if (m->slots[i].key == NULL)
		fatal_nomem("strmap");
	m->slots[i].val = val;
	m->slots[i].hash = h;
	m->count++;
	return NULL;
}

/* strmap_get - the value of KEY or NULL */
void *strmap_get(const struct strmap *m, const char *key)
{
	struct slot *s = find(m, key, hash_str(key));

	return s != NULL ? s->val : NULL;
}

/* strmap_del - remove KEY; returns its value (or NULL) */
void *strmap_del(struct strmap *m, const char *key)
{
	struct slot *s = find(m, key, hash_str(key));
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	free(s->key);
	s->key = TOMBSTONE;
	s->val = NULL;
	m->count--;
	return val;
}

/* strmap_count - live entries */
size_t strmap_count(const struct strmap *m)
{
	return m->count;
}

/* strmap_each - visit every live entry */
void strmap_each(const struct strmap *m,
    void (*fn)(void *arg, const char *key, void *val), void *arg)
{
	for (size_t i = 0; i < m->cap; i++) {
		const struct slot *s = &m->slots[i];
		if (s->key != NULL && s->key != TOMBSTONE)
			fn(arg, s->key, s->val);
	}
}

/*
 * rl_table - the counters of one shard: a chained hash table (FNV-1a) of
 * sliding windows, with a dirty list and a delete list for the store.
 *
 * Atomicity of a multi-limit check: every window is looked up and measured
 * first; only when all of them admit COST are missing keys created and room
 * reserved in every window, and only then is COST added to each (an add into
 * reserved room cannot fail). The process is single-threaded, so no other
 * request runs in between.
 *
 * DIAGNOSTICS: none here; out of memory makes rl_table_check return -1 with
 * nothing taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_table.h"

#define RL_NAME_MAX (RL_MAX_KEY + 12)	/* "<window_s>:" + key + NUL */

struct rl_key {
	struct rl_key *next;		/* hash chain */
	struct rl_key *dirty_next;	/* dirty list */
	uint64_t hash;
	uint64_t flush_from;		/* first bucket index changed since the flush */
	bool dirty;			/* changed since the last flush */
	bool stored;			/* written to storage at least once */
	struct rl_window win;
	char name[];
};

struct rl_table {
	struct rl_key **chains;
	size_t nchains;		/* power of two */
	size_t count;
	size_t max_keys;	/* 0: no cap */
	size_t cursor;		/* next chain to sweep */
	struct rl_key *dirty;
	size_t ndirty;
	char **dels;		/* stored names of expired keys */
	size_t ndels, capdels;
};

/* rl_hash - FNV-1a 64 */
static uint64_t rl_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* rl_table_new - an empty table; NULL when out of memory */
struct rl_table *rl_table_new(void)
{
	struct rl_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nchains = 1024;
	t->chains = calloc(t->nchains, sizeof(*t->chains));
	if (t->chains == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

/* rl_key_free - one key and its window */
static void rl_key_free(struct rl_key *k)
{
	rl_window_clear(&k->win);
	free(k);
}

/* rl_table_free - every key, the lists, the table */
void rl_table_free(struct rl_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nchains; i++) {
		while (t->chains[i] != NULL) {
			struct rl_key *k = t->chains[i];

			t->chains[i] = k->next;
			rl_key_free(k);
		}
	}
	for (i = 0; i < t->ndels; i++)
		free(t->dels[i]);
	free(t->dels);
	free(t->chains);
	free(t);
}

size_t rl_table_count(const struct rl_table *t)
{
	return t->count;
}

size_t rl_table_dirty(const struct rl_table *t)
{
	return t->ndirty + t->ndels;
}

/* rl_table_lookup - the key named NAME or NULL */
static struct rl_key *rl_table_lookup(const struct rl_table *t, const char *name,
    uint64_t hash)
{
	struct rl_key *k;

	for (k = t->chains[hash & (t->nchains - 1)]; k != NULL; k = k->next)
		if (k->hash == hash && strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

/* rl_table_grow - double the chains when the load passes 1 (best effort) */
static void rl_table_grow(struct rl_table *t)
{
	size_t n = t->nchains * 2, i;
	struct rl_key **chains;

	if (t->count < t->nchains || (chains = calloc(n, sizeof(*chains))) == NULL)
		return;
	for (i = 0; i < t->nchains; i++) {
		while (t->chains[i] != NULL) {
			struct rl_key *k = t->chains[i];

			t->chains[i] = k->next;
			k->next = chains[k->hash & (n - 1)];
			chains[k->hash & (n - 1)] = k;
		}
	}
	free(t->chains);
	t->chains = chains;
	t->nchains = n;
	t->cursor = 0;
}

/* rl_table_insert - a new key NAME with window W (copied); NULL on ENOMEM */
static struct rl_key *rl_table_insert(struct rl_table *t, const char *name,
    uint64_t hash, const struct rl_window *w)
{
	size_t len = strlen(name);
	struct rl_key *k = calloc(1, sizeof(*k) + len + 1);
	size_t i;

	if (k == NULL)
		return NULL;
	memcpy(k->name, name, len + 1);
	k->hash = hash;
	k->win = *w;
	rl_table_grow(t);
	i = hash & (t->nchains - 1);
	k->next = t->chains[i];
	t->chains[i] = k;
	t->count++;
	return k;
}

/* rl_table_touch - put K on the dirty list after an add to its newest bucket */
static void rl_table_touch(struct rl_table *t, struct rl_key *k)
{
	if (k->dirty)
		return;
	k->flush_from = rl_window_index(&k->win,
	    rl_window_bucket(&k->win, rl_window_len(&k->win) - 1));
	k->dirty = true;
	k->dirty_next = t->dirty;
	t->dirty = k;
	t->ndirty++;
}

/* rl_limits_valid - keys set and short, windows in range, no key twice */
int rl_limits_valid(const struct rl_limit *limits, size_t n, const char **why)
{
	size_t i, j;

	if (n == 0 || n > RL_MAX_LIMITS) {
		*why = "between 1 and 16 limits per request";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (limits[i].key == NULL || limits[i].key[0] == '\0' ||
		    strlen(limits[i].key) > RL_MAX_KEY) {
			*why = "key empty or longer than 512 bytes";
			return -1;
		}
		if (limits[i].window_s == 0 || limits[i].window_s > RL_WINDOW_MAX_S) {
			*why = "window_s out of range (1 .. 31 days)";
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (limits[j].window_s == limits[i].window_s &&
			    strcmp(limits[j].key, limits[i].key) == 0) {
				*why = "the same key twice in one request";
				return -1;
			}
		}
	}
	return 0;
}

/* rl_table_measure - find every key, fill out->used, decide */
static void rl_table_measure(struct rl_table *t, const struct rl_limit *limits,
    size_t n, uint64_t cost, uint64_t now_ms, char names[][RL_NAME_MAX],
    uint64_t *hashes, struct rl_key **keys, struct rl_decision *out)
{
	size_t i;

	out->allowed = true;
	out->denied_index = -1;
	out->retry_after_ms = 0;
	for (i = 0; i < n; i++) {
		snprintf(names[i], RL_NAME_MAX, "%u:%s", limits[i].window_s, limits[i].key);
		hashes[i] = rl_hash(names[i]);
		keys[i] = rl_table_lookup(t, names[i], hashes[i]);
		out->used[i] = keys[i] ? rl_window_used(&keys[i]->win, now_ms) : 0;
		if (out->allowed && out->used[i] + cost > limits[i].limit) {
			out->allowed = false;
			out->denied_index = (int)i;
			out->retry_after_ms = keys[i] ?
			    rl_window_retry_after(&keys[i]->win, now_ms, limits[i].limit, cost) :
			    (uint64_t)limits[i].window_s * 1000;
		}
	}
}

/* rl_table_set_max_keys - cap the number of keys (0: no cap) */
void rl_table_set_max_keys(struct rl_table *t, size_t max_keys)
{
	t->max_keys = max_keys;
}

/* rl_table_prepare - create the missing keys and reserve room in each;
 * -1 with errno ENOSPC (over the cap, nothing created) or ENOMEM */
static int rl_table_prepare(struct rl_table *t, const struct rl_limit *limits,
    size_t n, char names[][RL_NAME_MAX], const uint64_t *hashes, struct rl_key **keys)
{
	struct rl_window w;
	size_t i, missing = 0;

	for (i = 0; i < n; i++)
		missing += keys[i] == NULL;
	if (t->max_keys > 0 && t->count + missing > t->max_keys) {
		errno = ENOSPC;
		return -1;
	}
	errno = ENOMEM;
	for (i = 0; i < n; i++) {
		if (keys[i] == NULL) {
			rl_window_init(&w, limits[i].window_s);
			keys[i] = rl_table_insert(t, names[i], hashes[i], &w);
			if (keys[i] == NULL)
				return -1;
		}
		if (rl_window_reserve(&keys[i]->win) < 0)
			return -1;
	}
	return 0;
}

/* rl_table_check - decide (and unless DRY_RUN take) COST for every limit */
int rl_table_check(struct rl_table *t, const struct rl_limit *limits, size_t n,
    uint64_t cost, bool dry_run, uint64_t now_ms, struct rl_decision *out)
{
	char names[RL_MAX_LIMITS][RL_NAME_MAX];
	uint64_t hashes[RL_MAX_LIMITS];
	struct rl_key *keys[RL_MAX_LIMITS];
	const char *why;
	size_t i;

	if (rl_limits_valid(limits, n, &why) < 0) {
		errno = EINVAL;
		return -1;
	}
	rl_table_measure(t, limits, n, cost, now_ms, names, hashes, keys, out);
	if (!out->allowed || dry_run || cost == 0)
		return 0;
	if (rl_table_prepare(t, limits, n, names, hashes, keys) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		rl_window_add(&keys[i]->win, now_ms, cost);
		out->used[i] += cost;
		rl_table_touch(t, keys[i]);
	}
	return 0;
}

/* rl_table_forget - remember a stored name for deletion; false on ENOMEM */
static bool rl_table_forget(struct rl_table *t, const struct rl_key *k)
{
	char **dels;

	if (!k->stored)
		return true;
	if (t->ndels == t->capdels) {
		size_t cap = t->capdels ? t->capdels * 2 : 64;

		if ((dels = realloc(t->dels, cap * sizeof(*dels))) == NULL)
			return false;
		t->dels = dels;
		t->capdels = cap;
	}
	if ((t->dels[t->ndels] = strdup(k->name)) == NULL)
		return false;
	t->ndels++;
	return true;
}

/* rl_table_sweep_chain - remove the expired clean keys of chain I */
static size_t rl_table_sweep_chain(struct rl_table *t, size_t i, uint64_t now_ms)
{
	struct rl_key **pp = &t->chains[i], *k;
	size_t removed = 0;

	while ((k = *pp) != NULL) {
		if (k->dirty || !rl_window_expire(&k->win, now_ms) ||
		    !rl_table_forget(t, k)) {
			pp = &k->next;
			continue;
		}
		*pp = k->next;
		rl_key_free(k);
		t->count--;
		removed++;
	}
	return removed;
}

/* rl_table_sweep - remove keys whose window is empty, MAX_CHAINS chains at a time */
size_t rl_table_sweep(struct rl_table *t, uint64_t now_ms, size_t max_chains)
{
	size_t removed = 0, i;

	if (max_chains > t->nchains)
		max_chains = t->nchains;
	for (i = 0; i < max_chains; i++) {
		removed += rl_table_sweep_chain(t, t->cursor, now_ms);
		t->cursor = (t->cursor + 1) & (t->nchains - 1);
	}
	return removed;
}

/* rl_table_restore - insert a window loaded from storage */
int rl_table_restore(struct rl_table *t, const char *name, struct rl_window *w)
{
	uint64_t hash = rl_hash(name);
	struct rl_key *k;

	if (strlen(name) >= RL_NAME_MAX || rl_table_lookup(t, name, hash) != NULL ||
	    (k = rl_table_insert(t, name, hash, w)) == NULL) {
		rl_window_clear(w);
		return -1;
	}
	k->stored = true;
	return 0;
}

/* rl_table_flush_key - hand K's changed buckets (the newest ones) to OPS */
static int rl_table_flush_key(const struct rl_key *k, const struct rl_flush_ops *ops,
    void *arg)
{
	uint32_t i = rl_window_len(&k->win);
	const struct rl_bucket *b;

	while (i-- > 0) {
		b = rl_window_bucket(&k->win, i);
		if (rl_window_index(&k->win, b) < k->flush_from)
			break;
		if (ops->put(arg, k->name, &k->win, b) < 0)
			return -1;
	}
	return 0;
}

/* rl_table_flush_all - hand every delete and dirty window to OPS */
static int rl_table_flush_all(struct rl_table *t, const struct rl_flush_ops *ops,
    void *arg)
{
	struct rl_key *k;
	size_t i;

	for (i = 0; i < t->ndels; i++)
		if (ops->del(arg, t->dels[i]) < 0)
			return -1;
	for (k = t->dirty; k != NULL; k = k->dirty_next)
		if (rl_table_flush_key(k, ops, arg) < 0)
			return -1;
	return ops->commit(arg);
}

/* rl_table_flush - pass the dirty windows and deleted names to OPS */
int rl_table_flush(struct rl_table *t, const struct rl_flush_ops *ops, void *arg)
{
	struct rl_key *k;
	size_t i;

	if (t->ndirty == 0 && t->ndels == 0)
		return 0;
	if (rl_table_flush_all(t, ops, arg) < 0) {
		ops->abort(arg);
		return -1;
	}
	for (i = 0; i < t->ndels; i++)
		free(t->dels[i]);
	t->ndels = 0;
	while ((k = t->dirty) != NULL) {
		t->dirty = k->dirty_next;
		k->dirty = false;
		k->stored = true;
	}
	t->ndirty = 0;
	return 0;
}

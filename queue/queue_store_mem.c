/*
 * queue_store_mem - an in-memory queue_store backend for unit tests: a flat
 * array of key/value pairs under a mutex (linear lookups: test sizes only).
 * Batches are lists of operations applied at commit, all at once.
 *
 * DIAGNOSTICS: allocation failure aborts (tests only).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue_store.h"

struct mem_kv {
	char *key;
	void *val;	/* NULL in a batch: delete */
	size_t len;
};

struct mem_store {
	struct queue_store base;
	pthread_mutex_t mu;
	struct mem_kv *kv;
	size_t n, cap;
};

struct queue_batch {
	struct mem_kv *ops;
	size_t n, cap;
};

/* xdup - copy LEN bytes (never NULL, even for LEN 0) */
static void *
xdup(const void *p, size_t len)
{
	void *d = malloc(len ? len : 1);

	if (d == NULL)
		fatal_nomem("queue_store_mem");
	if (len)
		memcpy(d, p, len);
	return d;
}

/* kv_push - append one pair to an array */
static void
kv_push(struct mem_kv **arr, size_t *n, size_t *cap, struct mem_kv kv)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*arr = realloc(*arr, *cap * sizeof(**arr));
		if (*arr == NULL)
			fatal_nomem("queue_store_mem");
	}
	(*arr)[(*n)++] = kv;
}

/* mem_find - index of KEY or -1 */
static long
mem_find(const struct mem_store *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kv[i].key, key) == 0)
			return (long)i;
	return -1;
}

/* mem_batch_new - an empty list of operations */
static struct queue_batch *
mem_batch_new(struct queue_store *st)
{
	struct queue_batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		fatal_nomem("queue_store_mem");
	return b;
}

/* mem_batch_put - record a put */
static void
mem_batch_put(struct queue_batch *b, const char *key, const void *val,
    size_t len)
{
	struct mem_kv kv = { xdup(key, strlen(key) + 1), xdup(val, len), len };

	kv_push(&b->ops, &b->n, &b->cap, kv);
}

/* mem_batch_del - record a delete */
static void
mem_batch_del(struct queue_batch *b, const char *key)
{
	struct mem_kv kv = { xdup(key, strlen(key) + 1), NULL, 0 };

	kv_push(&b->ops, &b->n, &b->cap, kv);
}

/* mem_apply - one operation on the store; takes ownership of OP's buffers */
static void
mem_apply(struct mem_store *m, struct mem_kv *op)
{
	long i = mem_find(m, op->key);

	if (op->val == NULL) {
		free(op->key);
		if (i < 0)
			return;
		free(m->kv[i].key);
		free(m->kv[i].val);
		m->kv[i] = m->kv[--m->n];
		return;
	}
	if (i < 0) {
		kv_push(&m->kv, &m->n, &m->cap, *op);
		return;
	}
	free(op->key);
	free(m->kv[i].val);
	m->kv[i].val = op->val;
	m->kv[i].len = op->len;
}

/* mem_batch_commit - apply every operation in order, atomically */
static int
mem_batch_commit(struct queue_store *st, struct queue_batch *b, int sync)
{
	struct mem_store *m = (struct mem_store *)st;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < b->n; i++)
		mem_apply(m, &b->ops[i]);
	pthread_mutex_unlock(&m->mu);
	b->n = 0;
	return 0;
}

/* mem_batch_free - free a batch and any operations not applied */
static void
mem_batch_free(struct queue_batch *b)
{
	if (b == NULL)
		return;
	for (size_t i = 0; i < b->n; i++) {
		free(b->ops[i].key);
		free(b->ops[i].val);
	}
	free(b->ops);
	free(b);
}

/* mem_get - copy of the value of KEY */
static int
mem_get(struct queue_store *st, const char *key, void **val, size_t *len)
{
	struct mem_store *m = (struct mem_store *)st;
	long i;

	pthread_mutex_lock(&m->mu);
	i = mem_find(m, key);
	if (i >= 0) {
		*val = xdup(m->kv[i].val, m->kv[i].len);
		*len = m->kv[i].len;
	}
	pthread_mutex_unlock(&m->mu);
	return i >= 0 ? 0 : 1;
}

/* mem_snapshot - a copy of every pair (the scan callback may call mem_get) */
static struct mem_kv *
mem_snapshot(struct mem_store *m, size_t *n)
{
	struct mem_kv *snap;

	pthread_mutex_lock(&m->mu);
	*n = m->n;
	snap = calloc(m->n ? m->n : 1, sizeof(*snap));
	for (size_t i = 0; snap != NULL && i < m->n; i++) {
		snap[i].key = xdup(m->kv[i].key, strlen(m->kv[i].key) + 1);
		snap[i].val = xdup(m->kv[i].val, m->kv[i].len);
		snap[i].len = m->kv[i].len;
	}
	pthread_mutex_unlock(&m->mu);
	return snap;
}

/* mem_scan - every pair whose key starts with PREFIX (unordered) */
static int
mem_scan(struct queue_store *st, const char *prefix, queue_scan_cb cb,
    void *arg)
{
	size_t n, plen = strlen(prefix);
	struct mem_kv *snap = mem_snapshot((struct mem_store *)st, &n);
	int rc = 0;

	if (snap == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && strncmp(snap[i].key, prefix, plen) == 0)
			rc = cb(arg, snap[i].key, snap[i].val, snap[i].len);
		free(snap[i].key);
		free(snap[i].val);
	}
	free(snap);
	return rc < 0 ? -1 : 0;
}

/* mem_compact - nothing on disk to compact */
static int
mem_compact(struct queue_store *st)
{
	return 0;
}

/* mem_close - free everything */
static void
mem_close(struct queue_store *st)
{
	struct mem_store *m = (struct mem_store *)st;

	for (size_t i = 0; i < m->n; i++) {
		free(m->kv[i].key);
		free(m->kv[i].val);
	}
	free(m->kv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const struct queue_store_ops mem_ops = QUEUE_STORE_OPS(mem);

/* queue_store_mem_new - an empty in-memory store */
struct queue_store *
queue_store_mem_new(void)
{
	struct mem_store *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->base.ops = &mem_ops;
	pthread_mutex_init(&m->mu, NULL);
	return &m->base;
}

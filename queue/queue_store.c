/*
 * queue_store - the key layout of a queue shard over the backend vtable
 * (see queue_store.h): message metadata, body and recipient state of one
 * message live under m/, b/ and s/ followed by its queue id.
 *
 * DIAGNOSTICS: nothing is fatal here; a message whose state cannot be read
 * during a load is reported by the caller through the load callback's return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue_store.h"

#define KEY_MAX 80

struct load_ctx {
	struct queue_store *st;
	queue_load_cb cb;
	void *arg;
};

/* store_key - "<prefix><qid>" into OUT */
static void
store_key(char out[KEY_MAX], char prefix, const char *qid)
{
	snprintf(out, KEY_MAX, "%c/%s", prefix, qid);
}

/* queue_store_close - close any backend */
void
queue_store_close(struct queue_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

/* queue_store_batch - a new empty batch */
struct queue_batch *
queue_store_batch(struct queue_store *st)
{
	return st->ops->batch_new(st);
}

/* queue_store_commit - write B atomically (SYNC: fsync the log first) */
int
queue_store_commit(struct queue_store *st, struct queue_batch *b, int sync)
{
	return st->ops->batch_commit(st, b, sync);
}

/* queue_store_batch_free - free B (committed or not) */
void
queue_store_batch_free(struct queue_store *st, struct queue_batch *b)
{
	st->ops->batch_free(b);
}

/* queue_store_put_message - metadata and body of a new message */
void
queue_store_put_message(struct queue_store *st, struct queue_batch *b,
    const char *qid, const void *meta, size_t mlen, const void *body,
    size_t blen)
{
	char key[KEY_MAX];

	store_key(key, 'm', qid);
	st->ops->batch_put(b, key, meta, mlen);
	store_key(key, 'b', qid);
	st->ops->batch_put(b, key, body, blen);
}

/* queue_store_put_state - the recipient state record of a message */
void
queue_store_put_state(struct queue_store *st, struct queue_batch *b,
    const char *qid, const void *state, size_t len)
{
	char key[KEY_MAX];

	store_key(key, 's', qid);
	st->ops->batch_put(b, key, state, len);
}

/* queue_store_del_message - every key of a message */
void
queue_store_del_message(struct queue_store *st, struct queue_batch *b,
    const char *qid)
{
	char key[KEY_MAX];

	store_key(key, 'm', qid);
	st->ops->batch_del(b, key);
	store_key(key, 'b', qid);
	st->ops->batch_del(b, key);
	store_key(key, 's', qid);
	st->ops->batch_del(b, key);
}

/* queue_store_get_body - the body of message QID */
int
queue_store_get_body(struct queue_store *st, const char *qid, void **data,
    size_t *len)
{
	char key[KEY_MAX];

	store_key(key, 'b', qid);
	return st->ops->get(st, key, data, len);
}

/* load_one - a metadata record found by the scan: fetch its state, report it */
static int
load_one(void *arg, const char *key, const void *val, size_t len)
{
	struct load_ctx *ctx = arg;
	const char *qid = key + 2;
	char skey[KEY_MAX];
	void *state = NULL;
	size_t slen = 0;
	int rc;

	store_key(skey, 's', qid);
	rc = ctx->st->ops->get(ctx->st, skey, &state, &slen);
	if (rc < 0)
		return -1;
	rc = ctx->cb(ctx->arg, qid, val, len, state, slen);
	free(state);
	return rc;
}

/* queue_store_load - every stored message, in key order */
int
queue_store_load(struct queue_store *st, queue_load_cb cb, void *arg)
{
	struct load_ctx ctx = { st, cb, arg };

	return st->ops->scan(st, "m/", load_one, &ctx);
}

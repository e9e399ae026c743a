/*
 * queue_store - the key layout of a queue shard over the backend vtable
 * (see queue_store.h): message metadata, body and recipient state of one
 * message live under m/, b/ and s/ followed by its queue id; its header log
 * record under h/, with the time it expires from; suppressions waiting for
 * ph-control under p/.
 *
 * DIAGNOSTICS: nothing is fatal here; a message whose state cannot be read
 * during a load is reported by the caller through the load callback's return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
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

/* ---- pending suppressions ---- */

struct pending_scan {
	queue_pending_cb cb;
	void *arg;
};

/* queue_store_put_pending - "p/<id>" = VAL */
void
queue_store_put_pending(struct queue_store *st, struct queue_batch *b,
    const char *id, const void *val, size_t len)
{
	char key[KEY_MAX];

	store_key(key, 'p', id);
	st->ops->batch_put(b, key, val, len);
}

/* queue_store_del_pending - drop "p/<id>" */
void
queue_store_del_pending(struct queue_store *st, struct queue_batch *b,
    const char *id)
{
	char key[KEY_MAX];

	store_key(key, 'p', id);
	st->ops->batch_del(b, key);
}

/* pending_one - a scanned p/ record, reported without its prefix */
static int
pending_one(void *arg, const char *key, const void *val, size_t len)
{
	struct pending_scan *ps = arg;

	return ps->cb(ps->arg, key + 2, val, len);
}

/* queue_store_scan_pending - every p/ record */
int
queue_store_scan_pending(struct queue_store *st, queue_pending_cb cb,
    void *arg)
{
	struct pending_scan ps = { cb, arg };

	return st->ops->scan(st, "p/", pending_one, &ps);
}

/* ---- header log ---- */

#define HLOG_TIME 8

struct hlog_scan {
	uint64_t retention_ms, now;
	queue_hlog_cb cb;
	void *arg;
};

/* hlog_time - the received_ms prefix of a stored h/ value */
static uint64_t
hlog_time(const uint8_t *v)
{
	uint64_t t = 0;

	for (int i = HLOG_TIME - 1; i >= 0; i--)
		t = t << 8 | v[i];
	return t;
}

/* queue_store_expired - an h/ key whose time plus retention has passed */
int
queue_store_expired(const char *key, size_t klen, const void *val,
    size_t vlen, uint64_t retention_ms, uint64_t now_ms)
{
	if (klen < 2 || key[0] != 'h' || key[1] != '/' || retention_ms == 0)
		return 0;
	if (vlen < HLOG_TIME)
		return 1;	/* not ours to keep: malformed */
	return hlog_time(val) + retention_ms <= now_ms;
}

/* queue_store_put_hlog - "h/<qid>" = time + record */
void
queue_store_put_hlog(struct queue_store *st, struct queue_batch *b,
    const char *qid, uint64_t received_ms, const void *rec, size_t len)
{
	char key[KEY_MAX];
	uint8_t *v = malloc(HLOG_TIME + len);

	if (v == NULL)
		return;		/* the batch then lacks it: a log, not mail */
	for (int i = 0; i < HLOG_TIME; i++)
		v[i] = (uint8_t)(received_ms >> (8 * i));
	if (len > 0)
		memcpy(v + HLOG_TIME, rec, len);
	store_key(key, 'h', qid);
	st->ops->batch_put(b, key, v, HLOG_TIME + len);
	free(v);
}

/* queue_store_get_hlog - one live record, its time prefix stripped */
int
queue_store_get_hlog(struct queue_store *st, const char *qid,
    uint64_t retention_ms, void **rec, size_t *len)
{
	char key[KEY_MAX];
	int rc;

	store_key(key, 'h', qid);
	rc = st->ops->get(st, key, rec, len);
	if (rc != 0)
		return rc;
	if (queue_store_expired(key, strlen(key), *rec, *len, retention_ms,
	    clock_now_ms())) {
		free(*rec);
		*rec = NULL;
		return 1;
	}
	*len -= HLOG_TIME;
	memmove(*rec, (uint8_t *)*rec + HLOG_TIME, *len);
	return 0;
}

/* hlog_one - a scanned h/ record: skip it when expired */
static int
hlog_one(void *arg, const char *key, const void *val, size_t len)
{
	struct hlog_scan *hs = arg;

	if (queue_store_expired(key, strlen(key), val, len, hs->retention_ms,
	    hs->now))
		return 0;
	return hs->cb(hs->arg, key + 2, (const uint8_t *)val + HLOG_TIME,
	    len - HLOG_TIME);
}

/* queue_store_scan_hlog - every live record */
int
queue_store_scan_hlog(struct queue_store *st, uint64_t retention_ms,
    queue_hlog_cb cb, void *arg)
{
	struct hlog_scan hs = { retention_ms, clock_now_ms(), cb, arg };

	return st->ops->scan(st, "h/", hlog_one, &hs);
}

/* queue_store_compact - flush and compact the whole store */
int
queue_store_compact(struct queue_store *st)
{
	return st->ops->compact(st);
}

/*
 * queue_store - the durable storage of one queue shard, behind a small
 * key/value vtable: a RocksDB implementation (queue_store_rocksdb.c) and an
 * in-memory one (queue_store_mem.c, for unit tests).
 *
 * Key layout (queue_store.c owns it; backends only see opaque keys):
 *   m/<queue_id>  message metadata: a packed EnqueueRequest with body empty
 *   b/<queue_id>  message body (bytes as received)
 *   s/<queue_id>  recipient states (queue_msg.c encodes it); absent = all pending
 *   h/<queue_id>  header log record: received_ms (u64, little endian) then a
 *                 packed HeaderRecord (queue_hlog.c); outlives the message
 *                 and expires header_retention after received_ms
 *   p/<id>        a HARDBOUNCE suppression ph-control has not confirmed yet:
 *                 a packed Suppression (queue_supp.c), deleted once it has
 * A message is written (m/, b/ and h/) in one batch with a synced write;
 * state and header log updates and the final delete of m/, b/ and s/ are
 * later batches. Expired h/ records are dropped by the RocksDB backend's
 * compaction filter and never returned by the readers below, even before a
 * compaction ran (times from clock_now_ms()).
 *
 * All functions return 0 or -1; get returns 1 when the key is absent.
 * A backend is safe to use from two threads (the loop reads, the writer writes).
 */
#ifndef PH_QUEUE_STORE_H
#define PH_QUEUE_STORE_H

#include <stddef.h>
#include <stdint.h>

struct queue_store;
struct queue_batch;

/* queue_scan_cb - one key/value under a prefix; return -1 to stop the scan */
typedef int (*queue_scan_cb)(void *arg, const char *key, const void *val,
    size_t len);

struct queue_store_ops {
	struct queue_batch *(*batch_new)(struct queue_store *st);
	void (*batch_put)(struct queue_batch *b, const char *key,
	    const void *val, size_t len);
	void (*batch_del)(struct queue_batch *b, const char *key);
	int (*batch_commit)(struct queue_store *st, struct queue_batch *b,
	    int sync);
	void (*batch_free)(struct queue_batch *b);
	/* get - *VAL is malloc'd; 0 found, 1 absent, -1 error */
	int (*get)(struct queue_store *st, const char *key, void **val,
	    size_t *len);
	int (*scan)(struct queue_store *st, const char *prefix,
	    queue_scan_cb cb, void *arg);
	/* compact - flush the memtables and compact everything (deleted
	 * bodies leave the data files, old WAL files are deleted) */
	int (*compact)(struct queue_store *st);
	void (*close)(struct queue_store *st);
};

/* QUEUE_STORE_OPS - the vtable of a backend whose functions are named
 * P_batch_new, P_batch_put, ... P_close */
#define QUEUE_STORE_OPS(p) { \
	.batch_new = p##_batch_new, .batch_put = p##_batch_put, \
	.batch_del = p##_batch_del, .batch_commit = p##_batch_commit, \
	.batch_free = p##_batch_free, .get = p##_get, .scan = p##_scan, \
	.compact = p##_compact, .close = p##_close, \
}

/* queue_store - every backend embeds this as its first member */
struct queue_store {
	const struct queue_store_ops *ops;
};

/* queue_store_rocksdb_open - open (create) the database in DIR, h/ records
 * expiring HLOG_RETENTION_MS after they were received (0 = never); NULL on
 * error with a message in *err (malloc'd) */
struct queue_store *queue_store_rocksdb_open(const char *dir,
    uint64_t hlog_retention_ms, char **err);
struct queue_store *queue_store_mem_new(void);
void queue_store_close(struct queue_store *st);

/* record-level helpers over the vtable (queue_store.c) */
struct queue_batch *queue_store_batch(struct queue_store *st);
int queue_store_commit(struct queue_store *st, struct queue_batch *b, int sync);
void queue_store_batch_free(struct queue_store *st, struct queue_batch *b);
void queue_store_put_message(struct queue_store *st, struct queue_batch *b,
    const char *qid, const void *meta, size_t mlen, const void *body,
    size_t blen);
void queue_store_put_state(struct queue_store *st, struct queue_batch *b,
    const char *qid, const void *state, size_t len);
void queue_store_del_message(struct queue_store *st, struct queue_batch *b,
    const char *qid);
/* queue_store_get_body - *DATA malloc'd; 0, 1 absent, -1 error */
int queue_store_get_body(struct queue_store *st, const char *qid, void **data,
    size_t *len);

/* queue_store_put_hlog - the header log record of QID (REC is packed) */
void queue_store_put_hlog(struct queue_store *st, struct queue_batch *b,
    const char *qid, uint64_t received_ms, const void *rec, size_t len);
/* queue_store_get_hlog - the record of QID unless expired after RETENTION_MS
 * (0 = never); *REC malloc'd. 0, 1 absent or expired, -1 error */
int queue_store_get_hlog(struct queue_store *st, const char *qid,
    uint64_t retention_ms, void **rec, size_t *len);
/* queue_hlog_cb - one live record; return -1 to stop */
typedef int (*queue_hlog_cb)(void *arg, const char *qid, const void *rec,
    size_t len);
/* queue_store_scan_hlog - every record not expired, in queue id order */
int queue_store_scan_hlog(struct queue_store *st, uint64_t retention_ms,
    queue_hlog_cb cb, void *arg);
/* queue_store_expired - the stored KEY/VAL is an h/ record past
 * RETENTION_MS at NOW_MS (the compaction filter's and the readers' test) */
int queue_store_expired(const char *key, size_t klen, const void *val,
    size_t vlen, uint64_t retention_ms, uint64_t now_ms);
/* queue_store_compact - see queue_store_ops.compact */
int queue_store_compact(struct queue_store *st);

/* queue_store_put_pending - the p/ record ID of a pending suppression */
void queue_store_put_pending(struct queue_store *st, struct queue_batch *b,
    const char *id, const void *val, size_t len);
void queue_store_del_pending(struct queue_store *st, struct queue_batch *b,
    const char *id);
/* queue_pending_cb - one p/ record; return -1 to stop */
typedef int (*queue_pending_cb)(void *arg, const char *id, const void *val,
    size_t len);
/* queue_store_scan_pending - every p/ record, in id order */
int queue_store_scan_pending(struct queue_store *st, queue_pending_cb cb,
    void *arg);

/* queue_load_cb - one stored message; STATE is NULL when none was written */
typedef int (*queue_load_cb)(void *arg, const char *qid, const void *meta,
    size_t mlen, const void *state, size_t slen);
/* queue_store_load - call CB for every stored message (recovery) */
int queue_store_load(struct queue_store *st, queue_load_cb cb, void *arg);

#endif

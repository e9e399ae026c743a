/*
 * rl_store - RocksDB persistence of the ratelimiter's windows.
 *
 * Layout: one record per bucket. Key: "<window_s>:<key>" NUL, then the
 * bucket's slot (bucket index mod RL_WINDOW_RING) as 2 bytes big-endian;
 * value (little-endian): u8 version 1, u32 window_s, u64 last_ms, u64 count.
 * A slot is reused (overwritten) only by a bucket RL_WINDOW_RING buckets
 * later, long after the old one left the window; stale slots are harmless
 * (expired on load) and disappear with their key. So a flush writes only the
 * buckets that changed (one or two per busy key, not its whole day), and a
 * key that expired is one range deletion.
 *
 * One WriteBatch per flush: the deletions of expired keys first, then the
 * changed buckets. The loop writes it without a sync (it reaches the WAL
 * file at once: a kill -9 loses nothing) and, with sync on, wakes the syncer
 * thread, which syncs the WAL (rocksdb_flush_wal): one fsync per flush at
 * most, whatever the number of keys, and the loop never waits for the disk.
 * Loading iterates the whole database once at start; closing syncs.
 *
 * DIAGNOSTICS: open failure is returned to the caller (fatal there); a failed
 * write is logged and returned (the table keeps the keys dirty and the next
 * flush retries); a failed WAL sync is logged (the next flush syncs again);
 * malformed records are skipped with a warning.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <rocksdb/c.h>

#include "fsdir.h"
#include "log.h"
#include "rl_store.h"

#define RL_STORE_VERSION 1
#define RL_STORE_VAL 21		/* u8 version, u32 window_s, u64 last_ms, u64 count */

struct rl_store {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_writeoptions_t *wopts;
	rocksdb_readoptions_t *ropts;
	rocksdb_writebatch_t *batch;
	bool sync;			/* the syncer thread runs */
	pthread_t syncer;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool want_sync, stop;		/* under mu */
};

/* rl_store_sync_wal - fsync what was written so far */
static void rl_store_sync_wal(struct rl_store *s)
{
	char *err = NULL;

	rocksdb_flush_wal(s->db, 1, &err);
	if (err != NULL) {
		log_warnx("ratelimiter store: WAL sync: %s", err);
		free(err);
	}
}

/* rl_store_syncer - the syncer thread: one WAL sync per wake-up */
static void *rl_store_syncer(void *arg)
{
	struct rl_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->want_sync && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop)
			break;
		s->want_sync = false;
		pthread_mutex_unlock(&s->mu);
		rl_store_sync_wal(s);
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* rl_store_open - open or create the database in DIR */
struct rl_store *rl_store_open(const char *dir, bool sync, char **err)
{
	struct rl_store *s = calloc(1, sizeof(*s));

	*err = NULL;
	if (s == NULL || fsdir_make(dir, 0700) < 0) {
		if (asprintf(err, "%s: %s", dir, strerror(errno)) < 0)
			*err = NULL;
		free(s);
		return NULL;
	}
	s->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(s->opts, 1);
	s->wopts = rocksdb_writeoptions_create();
	s->ropts = rocksdb_readoptions_create();
	s->batch = rocksdb_writebatch_create();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->db = rocksdb_open(s->opts, dir, err);
	if (s->db == NULL) {
		rl_store_close(s);
		return NULL;
	}
	if (sync && pthread_create(&s->syncer, NULL, rl_store_syncer, s) != 0) {
		if (asprintf(err, "%s: cannot start the syncer thread", dir) < 0)
			*err = NULL;
		rl_store_close(s);
		return NULL;
	}
	s->sync = sync;
	return s;
}

/* rl_store_close - close the database */
void rl_store_close(struct rl_store *s)
{
	if (s == NULL)
		return;
	if (s->sync) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->syncer, NULL);
		rl_store_sync_wal(s);	/* the last flush is on disk too */
	}
	if (s->db != NULL)
		rocksdb_close(s->db);
	rocksdb_writebatch_destroy(s->batch);
	rocksdb_readoptions_destroy(s->ropts);
	rocksdb_writeoptions_destroy(s->wopts);
	rocksdb_options_destroy(s->opts);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* put_u32, put_u64, get_u32, get_u64 - little-endian */
static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* rl_group - the records of one key while loading */
struct rl_group {
	char name[RL_MAX_KEY + 16];
	uint32_t window_s;
	bool bad;
	struct rl_bucket *b;
	size_t n, cap;
};

/* rl_bucket_cmp - qsort by time */
static int rl_bucket_cmp(const void *a, const void *b)
{
	const struct rl_bucket *x = a, *y = b;

	return x->last_ms < y->last_ms ? -1 : x->last_ms > y->last_ms;
}

/* rl_group_window - build the window of the collected buckets into W */
static int rl_group_window(struct rl_group *g, struct rl_window *w)
{
	size_t i;

	qsort(g->b, g->n, sizeof(*g->b), rl_bucket_cmp);
	rl_window_init(w, g->window_s);
	for (i = 0; i < g->n; i++) {
		if (rl_window_restore(w, &g->b[i]) < 0) {
			rl_window_clear(w);
			return -1;
		}
	}
	return 0;
}

/* rl_group_finish - restore the collected key into T; 1 when restored */
static int rl_group_finish(struct rl_group *g, struct rl_table *t)
{
	struct rl_window w;
	int ok = !g->bad && g->n > 0 && rl_group_window(g, &w) == 0 &&
	    rl_table_restore(t, g->name, &w) == 0;

	if (!ok)
		log_warnx("ratelimiter store: key %s not restored (malformed)", g->name);
	g->n = 0;
	g->bad = false;
	g->name[0] = '\0';
	return ok;
}

/* rl_group_add - one record's bucket VAL */
static void rl_group_add(struct rl_group *g, const unsigned char *val, size_t vlen)
{
	struct rl_bucket *b;
	size_t cap;

	if (val[0] != RL_STORE_VERSION || vlen != RL_STORE_VAL ||
	    get_u32(val + 1) != g->window_s || g->window_s == 0 ||
	    g->window_s > RL_WINDOW_MAX_S) {
		g->bad = true;
		return;
	}
	if (g->n == g->cap) {
		cap = g->cap ? g->cap * 2 : 16;
		if ((b = realloc(g->b, cap * sizeof(*b))) == NULL) {
			g->bad = true;
			return;
		}
		g->b = b;
		g->cap = cap;
	}
	g->b[g->n++] = (struct rl_bucket){ get_u64(val + 5), get_u64(val + 13) };
}

/* rl_store_load_one - the record under the iterator; returns keys restored */
static long rl_store_load_one(struct rl_group *g, struct rl_table *t,
    rocksdb_iterator_t *it)
{
	size_t klen, vlen, nlen;
	const char *k = rocksdb_iter_key(it, &klen);
	const char *v = rocksdb_iter_value(it, &vlen);
	long restored = 0;

	nlen = strnlen(k, klen);
	if (nlen + 3 != klen || nlen >= sizeof(g->name) || vlen < 5) {
		log_warnx("ratelimiter store: malformed record skipped");
		return 0;
	}
	if (strlen(g->name) != nlen || memcmp(g->name, k, nlen) != 0) {
		if (g->name[0] != '\0')
			restored = rl_group_finish(g, t);
		memcpy(g->name, k, nlen);
		g->name[nlen] = '\0';
		g->window_s = get_u32((const unsigned char *)v + 1);
	}
	rl_group_add(g, (const unsigned char *)v, vlen);
	return restored;
}

/* rl_store_load - restore every stored window into T */
long rl_store_load(struct rl_store *s, struct rl_table *t)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator(s->db, s->ropts);
	struct rl_group g = { .name = "" };
	char *err = NULL;
	long n = 0;

	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it))
		n += rl_store_load_one(&g, t, it);
	if (g.name[0] != '\0')
		n += rl_group_finish(&g, t);
	free(g.b);
	rocksdb_iter_get_error(it, &err);
	rocksdb_iter_destroy(it);
	if (err != NULL) {
		log_warnx("ratelimiter store: load: %s", err);
		free(err);
		return -1;
	}
	return n;
}

/* rl_store_put - add one bucket to the batch, at its slot */
static int rl_store_put(void *arg, const char *name, const struct rl_window *w,
    const struct rl_bucket *b)
{
	struct rl_store *s = arg;
	size_t nlen = strlen(name);
	uint32_t slot = (uint32_t)(rl_window_index(w, b) % RL_WINDOW_RING);
	char key[RL_MAX_KEY + 32];
	unsigned char val[RL_STORE_VAL];

	if (nlen + 3 > sizeof(key))
		return -1;
	memcpy(key, name, nlen + 1);
	key[nlen + 1] = (char)(slot >> 8);
	key[nlen + 2] = (char)(slot & 0xff);
	val[0] = RL_STORE_VERSION;
	put_u32(val + 1, w->window_s);
	put_u64(val + 5, b->last_ms);
	put_u64(val + 13, b->count);
	rocksdb_writebatch_put(s->batch, key, nlen + 3, (const char *)val, sizeof(val));
	return 0;
}

/* rl_store_del - add the deletion of every record of NAME to the batch:
 * the range [NAME NUL, NAME \x01) holds exactly its slots */
static int rl_store_del(void *arg, const char *name)
{
	struct rl_store *s = arg;
	size_t nlen = strlen(name);
	char from[RL_MAX_KEY + 32], to[RL_MAX_KEY + 32];

	if (nlen + 1 > sizeof(from))
		return -1;
	memcpy(from, name, nlen + 1);
	memcpy(to, name, nlen);
	to[nlen] = '\x01';
	rocksdb_writebatch_delete_range(s->batch, from, nlen + 1, to, nlen + 1);
	return 0;
}

/* rl_store_commit - write the batch */
static int rl_store_commit(void *arg)
{
	struct rl_store *s = arg;
	char *err = NULL;

	rocksdb_write(s->db, s->wopts, s->batch, &err);
	rocksdb_writebatch_clear(s->batch);
	if (err != NULL) {
		log_warnx("ratelimiter store: write: %s", err);
		free(err);
		return -1;
	}
	if (s->sync) {
		pthread_mutex_lock(&s->mu);
		s->want_sync = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
	}
	return 0;
}

/* rl_store_abort - drop the batch */
static void rl_store_abort(void *arg)
{
	struct rl_store *s = arg;

	rocksdb_writebatch_clear(s->batch);
}

static const struct rl_flush_ops rl_store_ops = {
	.put = rl_store_put,
	.del = rl_store_del,
	.commit = rl_store_commit,
	.abort = rl_store_abort,
};

/* rl_store_flush - write T's dirty windows and deletions in one batch */
int rl_store_flush(struct rl_store *s, struct rl_table *t)
{
	return rl_table_flush(t, &rl_store_ops, s);
}

/*
 * test_queue_store - the RocksDB store on a temp dir: write, reopen,
 * recover, delete; and the group commit writer (queue_commit) against it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/event.h>

#include "queue_commit.h"
#include "queue_msg.h"
#include "queue_store.h"

struct fx {
	char dir[64];
	struct queue_store *st;
};

struct seen {
	int n;
	char qid[33];
	size_t mlen, slen;
	int has_state;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *err = NULL;

	strcpy(f->dir, "/tmp/test_queue_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->st = queue_store_rocksdb_open(f->dir, 0, &err);
	assert_non_null(f->st);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	queue_store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* reopen - close and open the database again (a restart) */
static void
reopen(struct fx *f)
{
	char *err = NULL;

	queue_store_close(f->st);
	f->st = queue_store_rocksdb_open(f->dir, 0, &err);
	assert_non_null(f->st);
}

static int
on_load(void *arg, const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen)
{
	struct seen *s = arg;

	s->n++;
	strcpy(s->qid, qid);
	s->mlen = mlen;
	s->slen = slen;
	s->has_state = state != NULL;
	return 0;
}

/* put_msg - one message written with a synced batch */
static void
put_msg(struct fx *f, const char *qid, const char *rcpt)
{
	Ph__EnqueueRequest req = PH__ENQUEUE_REQUEST__INIT;
	char *rcpts[] = { (char *)rcpt };
	struct queue_batch *b;
	uint8_t *meta;
	size_t mlen;

	req.mail_from = "s@example.com";
	req.rcpts = rcpts;
	req.n_rcpts = 1;
	req.received_ms = 1000;
	req.body.data = (uint8_t *)"hello\r\n";
	req.body.len = 7;
	assert_int_equal(qmsg_pack_meta(&req, &meta, &mlen), 0);
	b = queue_store_batch(f->st);
	queue_store_put_message(f->st, b, qid, meta, mlen, req.body.data,
	    req.body.len);
	assert_int_equal(queue_store_commit(f->st, b, 1), 0);
	queue_store_batch_free(f->st, b);
	free(meta);
}

static void
test_write_reopen_recover(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	void *body = NULL;
	size_t blen = 0;
	struct qmsg *m;
	uint8_t *st;
	size_t stlen;
	struct queue_batch *b;
	Ph__EnqueueRequest req = PH__ENQUEUE_REQUEST__INIT;
	char *rcpts[] = { "r@x.test" };

	put_msg(f, "0123456789abcdef0123456789abcdef", "r@x.test");
	reopen(f);
	assert_int_equal(queue_store_load(f->st, on_load, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.qid, "0123456789abcdef0123456789abcdef");
	assert_false(s.has_state);
	assert_int_equal(queue_store_get_body(f->st, s.qid, &body, &blen), 0);
	assert_int_equal(blen, 7);
	assert_memory_equal(body, "hello\r\n", 7);
	free(body);

	/* a deferral recorded in the state survives a restart */
	req.rcpts = rcpts;
	req.n_rcpts = 1;
	m = qmsg_new(s.qid, &req);
	assert_non_null(m);
	b = queue_store_batch(f->st);
	m->rcpts[0].attempts = 2;
	m->rcpts[0].next_ms = 123456;
	assert_int_equal(qmsg_state_encode(m, &st, &stlen), 0);
	queue_store_put_state(f->st, b, s.qid, st, stlen);
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
	free(st);
	qmsg_free(m);
	reopen(f);
	memset(&s, 0, sizeof(s));
	assert_int_equal(queue_store_load(f->st, on_load, &s), 0);
	assert_int_equal(s.n, 1);
	assert_true(s.has_state);
	assert_int_equal(s.slen, stlen);
}

static void
test_state_roundtrip(void **state)
{
	Ph__EnqueueRequest req = PH__ENQUEUE_REQUEST__INIT;
	char *rcpts[] = { "a@A.test", "b@b.test", "c@c.test" };
	struct qmsg *m, *r;
	uint8_t *meta, *st;
	size_t mlen, stlen;

	req.rcpts = rcpts;
	req.n_rcpts = 3;
	req.received_ms = 42;
	m = qmsg_new("q1", &req);
	m->rcpts[1].state = QRCPT_DELIVERED;
	m->rcpts[2].attempts = 3;
	m->rcpts[2].next_ms = 0x1122334455ULL;
	assert_int_equal(qmsg_pack_meta(&req, &meta, &mlen), 0);
	assert_int_equal(qmsg_state_encode(m, &st, &stlen), 0);
	r = qmsg_restore("q1", meta, mlen, st, stlen);
	assert_non_null(r);
	assert_int_equal(r->nrcpt, 3);
	assert_int_equal(r->pending, 2);
	assert_string_equal(r->rcpts[0].domain, "a.test");
	assert_int_equal(r->rcpts[1].state, QRCPT_DELIVERED);
	assert_int_equal(r->rcpts[2].attempts, 3);
	assert_true(r->rcpts[2].next_ms == 0x1122334455ULL);
	assert_int_equal(r->received_ms, 42);
	/* a truncated state record is refused */
	assert_null(qmsg_restore("q1", meta, mlen, st, stlen - 1));
	qmsg_free(r);
	qmsg_free(m);
	free(meta);
	free(st);
}

static void
test_delete(void **state)
{
	struct fx *f = *state;
	struct seen s = { 0 };
	struct queue_batch *b;
	void *body = NULL;
	size_t blen;

	put_msg(f, "q1", "a@x.test");
	put_msg(f, "q2", "b@x.test");
	b = queue_store_batch(f->st);
	queue_store_del_message(f->st, b, "q1");
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
	reopen(f);
	assert_int_equal(queue_store_load(f->st, on_load, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.qid, "q2");
	assert_int_equal(queue_store_get_body(f->st, "q1", &body, &blen), 1);
}

struct commit_ctx {
	struct event_base *base;
	int done, failed;
};

static void
on_job(void *arg, struct qjob *job)
{
	struct commit_ctx *c = arg;

	c->done++;
	if (job->status < 0)
		c->failed++;
	qjob_free(job);
}

static void
test_group_commit(void **state)
{
	struct fx *f = *state;
	struct commit_ctx c = { event_base_new(), 0, 0 };
	struct qcommit *qc = qcommit_new(c.base, f->st, 1024, on_job, &c);
	struct seen s = { 0 };
	enum { N = 200 };

	assert_non_null(qc);
	for (int i = 0; i < N; i++) {
		char qid[33];
		uint8_t *meta = malloc(4);
		struct qjob *j;
		snprintf(qid, sizeof(qid), "%032d", i);
		memcpy(meta, "meta", 4);
		j = qjob_new(QJOB_ENQUEUE, qid, meta, 4);
		j->body = "body";
		j->blen = 4;
		qcommit_submit(qc, j);
	}
	while (c.done < N)
		event_base_loop(c.base, EVLOOP_ONCE);
	assert_int_equal(c.failed, 0);
	/* far fewer synced writes than messages */
	assert_true(qcommit_sync_writes(qc) < N / 2);
	qcommit_free(qc);
	event_base_free(c.base);
	reopen(f);
	assert_int_equal(queue_store_load(f->st, on_load, &s), 0);
	assert_int_equal(s.n, N);
}

/* dir_has - some file of DIR contains NEEDLE */
static int
dir_has(const char *dir, const char *needle)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "grep -rqs '%s' '%s'", needle, dir);
	return system(cmd) == 0;
}

/* a deleted body leaves the files after a compaction job: the writer wrote
 * the delete before handing the job to the compactor thread */
static void
test_compact_job_removes_body(void **state)
{
	struct fx *f = *state;
	struct commit_ctx c = { event_base_new(), 0, 0 };
	struct qcommit *qc = qcommit_new(c.base, f->st, 1024, on_job, &c);
	const char *qid = "0123456789abcdef0123456789abcdef";
	struct qjob *j = qjob_new(QJOB_ENQUEUE, qid, NULL, 0);

	assert_non_null(qc);
	j->body = "SECRET-BODY-TEXT";
	j->blen = 16;
	qcommit_submit(qc, j);
	while (c.done < 1)
		event_base_loop(c.base, EVLOOP_ONCE);
	assert_true(dir_has(f->dir, "SECRET-BODY-TEXT"));
	qcommit_submit(qc, qjob_new(QJOB_DELETE, qid, NULL, 0));
	qcommit_submit(qc, qjob_new(QJOB_COMPACT, "", NULL, 0));
	while (c.done < 3)
		event_base_loop(c.base, EVLOOP_ONCE);
	assert_int_equal(c.failed, 0);
	assert_false(dir_has(f->dir, "SECRET-BODY-TEXT"));
	qcommit_free(qc);
	event_base_free(c.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_reopen_recover, setup, teardown),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compact_job_removes_body, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

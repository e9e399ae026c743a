/*
 * test_queue_hlog - header log records: built from an EnqueueRequest and
 * its header block, updated with attempts, searched; and their expiry with
 * the clock moved (clock_set_offset_s): hidden from readers after the
 * retention, and dropped by the RocksDB compaction filter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "queue_hlog.h"
#include "queue_msg.h"
#include "queue_store.h"

#define DAY_S 86400
#define RETENTION_MS (14ULL * DAY_S * 1000)

static const char body[] =
    "From: Alice <alice@src.test>\r\nTo: bob@dst.test,\r\n carol@dst.test\r\n"
    "Cc: dave@cc.test\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
    "Subject: parsed subject\r\nMessage-ID: <m1@src.test>\r\n\r\nhi\r\n";

static char *rcpts[] = { "bob@dst.test", "carol@dst.test" };

/* request - an EnqueueRequest for the test body */
static void
request(Ph__EnqueueRequest *req, uint64_t received)
{
	ph__enqueue_request__init(req);
	req->tenant_id = "t1";
	req->mail_from = "bounces@src.test";
	req->rcpts = rcpts;
	req->n_rcpts = 2;
	req->body.data = (uint8_t *)body;
	req->body.len = sizeof(body) - 1;
	req->received_ms = received;
	req->source = "smtp";
	req->subject = "frontend subject";
	req->dkim_selector = "sel1";
}

/* record - build and unpack the record of QID */
static Ph__HeaderRecord *
record(const char *qid, uint8_t **buf, size_t *len)
{
	Ph__EnqueueRequest req;

	request(&req, 1700000000000ULL);
	assert_int_equal(qhlog_build(qid, &req, "queue-0", buf, len), 0);
	return ph__header_record__unpack(NULL, *len, *buf);
}

static void
test_build(void **state)
{
	uint8_t *buf;
	size_t len;
	Ph__HeaderRecord *r = record("q1", &buf, &len);

	assert_non_null(r);
	assert_string_equal(r->queue_id, "q1");
	assert_string_equal(r->message_id, "<m1@src.test>");
	assert_string_equal(r->header_from, "Alice <alice@src.test>");
	assert_string_equal(r->to, "bob@dst.test, carol@dst.test");
	assert_string_equal(r->cc, "dave@cc.test");
	assert_string_equal(r->date, "Tue, 14 Nov 2023 22:13:20 +0000");
	assert_string_equal(r->subject, "frontend subject");	/* frontend wins */
	assert_string_equal(r->mail_from, "bounces@src.test");
	assert_string_equal(r->dkim_selector, "sel1");
	assert_int_equal(r->size, sizeof(body) - 1);
	assert_int_equal(r->n_rcpts, 2);
	assert_string_equal(r->rcpts[1]->address, "carol@dst.test");
	assert_string_equal(r->rcpts[1]->outcome, "pending");
	ph__header_record__free_unpacked(r, NULL);
	free(buf);
}

static void
test_attempts(void **state)
{
	Ph__RecipientResult res = PH__RECIPIENT_RESULT__INIT;
	struct qmsg m;
	struct qrcpt rc[2] = { { 0 }, { 0 } };
	Ph__HeaderRecord *r;

	memset(&m, 0, sizeof(m));
	m.rcpts = rc;
	m.nrcpt = 2;
	ph__header_record__free_unpacked(record("q1", &m.hrec, &m.hlen), NULL);
	res.outcome = PH__OUTCOME__OUTCOME_DEFERRED;
	res.reply = "451 4.3.0 later";
	res.remote_host = "mx (127.0.0.1)";
	res.tls_version = "TLSv1.3";
	res.tls_cipher = "TLS_AES_256_GCM_SHA384";
	assert_int_equal(qhlog_outcome(&m, 0, &res, res.reply, 1000), 0);
	res.outcome = PH__OUTCOME__OUTCOME_DELIVERED;
	res.reply = "250 2.0.0 ok";
	rc[0].state = QRCPT_DELIVERED;
	assert_int_equal(qhlog_outcome(&m, 0, &res, res.reply, 2000), 0);
	rc[1].state = QRCPT_FAILED;
	assert_int_equal(qhlog_outcome(&m, 1, NULL, "4.4.7 message expired", 3000), 0);
	assert_int_equal(qhlog_outcome(&m, 5, NULL, "x", 3000), -1);
	r = ph__header_record__unpack(NULL, m.hlen, m.hrec);
	assert_non_null(r);
	assert_int_equal(r->rcpts[0]->n_attempts, 2);
	assert_string_equal(r->rcpts[0]->attempts[0]->reply, "451 4.3.0 later");
	assert_string_equal(r->rcpts[0]->attempts[0]->tls_version, "TLSv1.3");
	assert_int_equal(r->rcpts[0]->attempts[1]->time_ms, 2000);
	assert_string_equal(r->rcpts[0]->outcome, "delivered");
	assert_string_equal(r->rcpts[0]->final_reply, "250 2.0.0 ok");
	assert_string_equal(r->rcpts[1]->outcome, "failed");
	assert_int_equal(r->rcpts[1]->final_ms, 3000);
	assert_string_equal(qhlog_last(r, 1)->reply, "4.4.7 message expired");
	ph__header_record__free_unpacked(r, NULL);
	free(m.hrec);
}

static void
test_match(void **state)
{
	uint8_t *buf;
	size_t len;
	Ph__HeaderRecord *r = record("q1", &buf, &len);
	Ph__HeaderLogQuery q = PH__HEADER_LOG_QUERY__INIT;

	assert_true(qhlog_match(r, &q));
	q.message_id = "m1@src.test";
	assert_true(qhlog_match(r, &q));
	q.message_id = " <m1@src.test> ";
	assert_true(qhlog_match(r, &q));
	q.message_id = "m1@src.tes";
	assert_false(qhlog_match(r, &q));
	q.message_id = "";
	q.sender = "BOUNCES@src.test";
	assert_true(qhlog_match(r, &q));
	q.sender = "alice@src.test";	/* header From */
	assert_true(qhlog_match(r, &q));
	q.recipient = "Carol@dst.test";
	assert_true(qhlog_match(r, &q));
	q.recipient = "dave@cc.test";	/* Cc only: not an envelope recipient */
	assert_false(qhlog_match(r, &q));
	ph__header_record__free_unpacked(r, NULL);
	free(buf);
}

/* put - the record of QID received at RECEIVED into ST */
static void
put(struct queue_store *st, const char *qid, uint64_t received)
{
	Ph__EnqueueRequest req;
	struct queue_batch *b = queue_store_batch(st);
	uint8_t *buf;
	size_t len;

	request(&req, received);
	assert_int_equal(qhlog_build(qid, &req, "queue-0", &buf, &len), 0);
	queue_store_put_hlog(st, b, qid, received, buf, len);
	assert_int_equal(queue_store_commit(st, b, 1), 0);
	queue_store_batch_free(st, b);
	free(buf);
}

/* found - records a query for message id m1 returns */
static size_t
found(struct queue_store *st)
{
	Ph__HeaderLogQuery q = PH__HEADER_LOG_QUERY__INIT;
	Ph__HeaderLogReply rep = PH__HEADER_LOG_REPLY__INIT;
	size_t n;

	q.message_id = "<m1@src.test>";
	assert_int_equal(qhlog_query(st, RETENTION_MS, &q, &rep), 0);
	n = rep.n_records;
	qhlog_reply_clear(&rep);
	return n;
}

/* point - the point lookup of QID finds it (1) or not (0) */
static int
point(struct queue_store *st, const char *qid, uint64_t retention)
{
	void *v = NULL;
	size_t len;
	int rc = queue_store_get_hlog(st, qid, retention, &v, &len);

	assert_true(rc >= 0);
	free(v);
	return rc == 0;
}

static void
test_expiry_on_read(void **state)
{
	struct queue_store *st = queue_store_mem_new();

	clock_set_offset_s(0);
	put(st, "q1", clock_now_ms());
	put(st, "q2", clock_now_ms() - 2ULL * DAY_S * 1000);
	assert_int_equal(found(st), 2);
	clock_set_offset_s(13 * DAY_S);
	assert_int_equal(found(st), 1);		/* q2 is 15 days old now */
	assert_true(point(st, "q1", RETENTION_MS));
	assert_false(point(st, "q2", RETENTION_MS));
	clock_set_offset_s(15 * DAY_S);
	assert_int_equal(found(st), 0);
	assert_false(point(st, "q1", RETENTION_MS));
	assert_true(point(st, "q1", 0));	/* still stored: no compaction */
	clock_set_offset_s(0);
	queue_store_close(st);
}

static void
test_expiry_compaction_filter(void **state)
{
	char dir[] = "/tmp/test_queue_hlog.XXXXXX", cmd[96];
	char *err = NULL;
	struct queue_store *st;

	assert_non_null(mkdtemp(dir));
	st = queue_store_rocksdb_open(dir, RETENTION_MS, &err);
	assert_non_null(st);
	clock_set_offset_s(0);
	put(st, "q1", clock_now_ms());
	clock_set_offset_s(13 * DAY_S);
	assert_int_equal(queue_store_compact(st), 0);
	assert_true(point(st, "q1", 0));
	clock_set_offset_s(15 * DAY_S);
	assert_int_equal(queue_store_compact(st), 0);
	assert_false(point(st, "q1", 0));	/* gone from disk, not hidden */
	clock_set_offset_s(0);
	queue_store_close(st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_attempts),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_expiry_on_read),
		cmocka_unit_test(test_expiry_compaction_filter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

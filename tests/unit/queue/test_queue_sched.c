/*
 * test_queue_sched - the queue scheduler on the memory store, with the clock
 * moved through clock_set_offset_s: grouping by domain, credits, spreading
 * over relays, lease expiry, relay restart, retry schedule, expiry,
 * idempotent results, recovery, expiry of tasks no relay took.
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
#include "queue_msg.h"
#include "queue_sched.h"
#include "queue_store.h"

#define MAXPUSH 64

struct pushed {
	uint64_t task_id;
	char qid[33];
	char domain[64];
	char relay[16];
	size_t nrcpt;
	uint32_t idx[8];
	uint32_t attempt;
	size_t blen;
};

struct fx {
	struct queue_store *st;
	struct qsched *s;
	struct pushed push[MAXPUSH];
	size_t npush;
	int push_fail;
	size_t nstate, nremove;
	size_t noutcome, nfailed;	/* outcome calls, failed recipients */
	char last_reply[64];		/* of the last outcome call */
	uint32_t failed_idx[8];
};

static const uint64_t retry[] = { 60000, 300000 };
static int64_t offset_s;

/* advance - move the test clock by SECONDS */
static void
advance(int64_t seconds)
{
	offset_s += seconds;
	clock_set_offset_s(offset_s);
}

/* fake_push - record a DeliveryTask; PEER's id names the relay */
static int
fake_push(void *arg, const struct zpeer *peer, Ph__Envelope *env)
{
	struct fx *f = arg;
	const Ph__DeliveryTask *t = env->delivery_task;
	struct pushed *p;

	if (f->push_fail)
		return -1;
	assert_int_equal(env->body_case, PH__ENVELOPE__BODY_DELIVERY_TASK);
	assert_true(f->npush < MAXPUSH);
	p = &f->push[f->npush++];
	p->task_id = t->task_id;
	strcpy(p->qid, t->queue_id);
	strcpy(p->domain, t->domain);
	memcpy(p->relay, peer->id, peer->len);
	p->relay[peer->len] = '\0';
	p->nrcpt = t->n_rcpts;
	for (size_t i = 0; i < t->n_rcpts && i < 8; i++)
		p->idx[i] = t->rcpts[i]->index;
	p->attempt = t->attempt;
	p->blen = t->body.len;
	return 0;
}

/* fake_save_state - write through to the memory store */
static void
fake_save_state(void *arg, struct qmsg *m, const void *state, size_t len)
{
	const char *qid = m->qid;
	struct fx *f = arg;
	struct queue_batch *b = queue_store_batch(f->st);

	queue_store_put_state(f->st, b, qid, state, len);
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
	f->nstate++;
}

/* fake_remove - delete from the memory store */
static void
fake_remove(void *arg, struct qmsg *m)
{
	const char *qid = m->qid;
	struct fx *f = arg;
	struct queue_batch *b = queue_store_batch(f->st);

	queue_store_del_message(f->st, b, qid);
	assert_int_equal(queue_store_commit(f->st, b, 0), 0);
	queue_store_batch_free(f->st, b);
	f->nremove++;
}

/* fake_outcome - count the outcome calls, keep the last reply */
static void
fake_outcome(void *arg, struct qmsg *m, uint32_t i,
    const Ph__RecipientResult *r, const char *reply)
{
	struct fx *f = arg;

	f->noutcome++;
	snprintf(f->last_reply, sizeof(f->last_reply), "%s", reply);
}

/* fake_failed - record the failed recipients */
static void
fake_failed(void *arg, struct qmsg *m, const uint32_t *idx, size_t n)
{
	struct fx *f = arg;

	for (size_t k = 0; k < n; k++, f->nfailed++)
		if (f->nfailed < 8)
			f->failed_idx[f->nfailed] = idx[k];
}

/* sched_new - a scheduler over F's store */
static struct qsched *
sched_new(struct fx *f)
{
	struct qsched_cfg cfg = { 300000, 72 * 3600000ULL, retry, 2, "queue-0" };
	struct qsched_io io = { fake_push, fake_save_state, fake_remove,
	    fake_outcome, fake_failed, f };

	return qsched_new(&cfg, f->st, &io);
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	offset_s = 0;
	clock_set_offset_s(0);
	f->st = queue_store_mem_new();
	f->s = sched_new(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	qsched_free(f->s);
	queue_store_close(f->st);
	free(f);
	clock_set_offset_s(0);
	return 0;
}

/* enqueue - store and schedule a message to RCPTS (NULL-terminated) */
static void
enqueue(struct fx *f, const char *qid, const char **rcpts)
{
	Ph__EnqueueRequest req = PH__ENQUEUE_REQUEST__INIT;
	struct queue_batch *b;
	uint8_t *meta;
	size_t n = 0, mlen;

	while (rcpts[n] != NULL)
		n++;
	req.tenant_id = "t1";
	req.mail_from = "sender@example.com";
	req.rcpts = (char **)rcpts;
	req.n_rcpts = n;
	req.received_ms = clock_now_ms();
	assert_int_equal(qmsg_pack_meta(&req, &meta, &mlen), 0);
	b = queue_store_batch(f->st);
	queue_store_put_message(f->st, b, qid, meta, mlen, "body\r\n", 6);
	assert_int_equal(queue_store_commit(f->st, b, 1), 0);
	queue_store_batch_free(f->st, b);
	free(meta);
	assert_int_equal(qsched_add(f->s, qid, &req), 0);
}

/* relay_hello - a RelayHello from relay ID */
static void
relay_hello(struct fx *f, const char *id, uint64_t inc, uint32_t credits)
{
	Ph__RelayHello h = PH__RELAY_HELLO__INIT;
	struct zpeer peer;

	peer.len = strlen(id);
	memcpy(peer.id, id, peer.len);
	h.relay_id = (char *)id;
	h.incarnation = inc;
	h.credits = credits;
	qsched_on_hello(f->s, &peer, &h);
}

/* relay_credit - a TaskCredit from relay ID */
static void
relay_credit(struct fx *f, const char *id, uint32_t credits)
{
	Ph__TaskCredit c = PH__TASK_CREDIT__INIT;
	struct zpeer peer;

	peer.len = strlen(id);
	memcpy(peer.id, id, peer.len);
	c.relay_id = (char *)id;
	c.credits = credits;
	qsched_on_credit(f->s, &peer, &c);
}

/* result - a TaskResult with the same OUTCOME for every recipient of P */
static void
result(struct fx *f, const struct pushed *p, Ph__Outcome outcome)
{
	Ph__TaskResult r = PH__TASK_RESULT__INIT;
	Ph__RecipientResult rr[8], *rp[8];
	struct zpeer peer;

	for (size_t i = 0; i < p->nrcpt; i++) {
		ph__recipient_result__init(&rr[i]);
		rr[i].index = p->idx[i];
		rr[i].outcome = outcome;
		rr[i].reply = "250 ok";
		rp[i] = &rr[i];
	}
	peer.len = strlen(p->relay);
	memcpy(peer.id, p->relay, peer.len);
	r.task_id = p->task_id;
	r.queue_id = (char *)p->qid;
	r.relay_id = (char *)p->relay;
	r.results = rp;
	r.n_results = p->nrcpt;
	qsched_on_result(f->s, &peer, &r);
}

/* stats - the scheduler's counters */
static Ph__QueueStats
stats(struct fx *f)
{
	Ph__QueueStats st = PH__QUEUE_STATS__INIT;

	qsched_stats(f->s, &st);
	return st;
}

/* count_load - counts stored messages */
static int
count_load(void *arg, const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen)
{
	(*(int *)arg)++;
	return 0;
}

static int
stored(struct fx *f)
{
	int n = 0;

	assert_int_equal(queue_store_load(f->st, count_load, &n), 0);
	return n;
}

static void
test_group_by_domain(void **state)
{
	struct fx *f = *state;
	const char *rcpts[] = { "a@X.com", "b@y.org", "c@x.COM", NULL };

	enqueue(f, "m1", rcpts);
	assert_int_equal(stats(f).ready, 2);
	assert_int_equal(stats(f).recipients_pending, 3);
	relay_hello(f, "relay-0", 1, 10);
	assert_int_equal(f->npush, 2);
	assert_string_equal(f->push[0].domain, "x.com");
	assert_int_equal(f->push[0].nrcpt, 2);
	assert_int_equal(f->push[0].idx[0], 0);
	assert_int_equal(f->push[0].idx[1], 2);
	assert_string_equal(f->push[1].domain, "y.org");
	assert_int_equal(f->push[1].nrcpt, 1);
	assert_int_equal(f->push[1].attempt, 1);
	assert_int_equal(f->push[1].blen, 6);
	assert_int_equal(stats(f).leased, 2);
}

static void
test_credits_limit_pushes(void **state)
{
	struct fx *f = *state;
	const char *r1[] = { "a@a.test", NULL }, *r2[] = { "b@b.test", NULL },
	    *r3[] = { "c@c.test", NULL };

	relay_hello(f, "relay-0", 1, 1);
	enqueue(f, "m1", r1);
	enqueue(f, "m2", r2);
	enqueue(f, "m3", r3);
	assert_int_equal(f->npush, 1);
	assert_int_equal(stats(f).ready, 2);
	relay_credit(f, "relay-0", 1);
	assert_int_equal(f->npush, 2);
	relay_credit(f, "relay-0", 5);
	assert_int_equal(f->npush, 3);
	assert_int_equal(stats(f).ready, 0);
	assert_int_equal(stats(f).leased, 3);
}

static void
test_spread_over_relays(void **state)
{
	struct fx *f = *state;
	const char *r1[] = { "a@a.test", NULL }, *r2[] = { "b@b.test", NULL };

	relay_hello(f, "relay-0", 1, 5);
	relay_hello(f, "relay-1", 1, 5);
	enqueue(f, "m1", r1);
	enqueue(f, "m2", r2);
	assert_int_equal(f->npush, 2);
	assert_string_not_equal(f->push[0].relay, f->push[1].relay);
}

static void
test_result_final_removes(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 1);
	enqueue(f, "m1", r);
	assert_int_equal(stored(f), 1);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DELIVERED);
	assert_int_equal(stats(f).messages, 0);
	assert_int_equal(stats(f).delivered_total, 1);
	assert_int_equal(f->nremove, 1);
	assert_int_equal(stored(f), 0);
}

static void
test_result_idempotent(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", "b@b.test", NULL };
	struct pushed bogus;

	relay_hello(f, "relay-0", 1, 2);
	enqueue(f, "m1", r);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DELIVERED);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_FAILED);
	assert_int_equal(stats(f).delivered_total, 1);
	assert_int_equal(stats(f).failed_total, 0);
	assert_int_equal(stats(f).recipients_pending, 1);
	bogus = f->push[1];
	bogus.task_id = 999999;
	result(f, &bogus, PH__OUTCOME__OUTCOME_DELIVERED);
	/* a known task id with another message's queue id (an old incarnation) */
	bogus = f->push[1];
	strcpy(bogus.qid, "other");
	result(f, &bogus, PH__OUTCOME__OUTCOME_DELIVERED);
	assert_int_equal(stats(f).recipients_pending, 1);
	assert_int_equal(stats(f).leased, 1);
	result(f, &f->push[1], PH__OUTCOME__OUTCOME_FAILED);
	assert_int_equal(stats(f).failed_total, 1);
	assert_int_equal(stats(f).messages, 0);
	assert_int_equal(stored(f), 0);
	/* one outcome per applied result, one failed call for b@b.test */
	assert_int_equal(f->noutcome, 2);
	assert_int_equal(f->nfailed, 1);
	assert_int_equal(f->failed_idx[0], 1);
}

static void
test_lease_expiry(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 1);
	enqueue(f, "m1", r);
	assert_int_equal(stats(f).leased, 1);
	advance(299);
	qsched_tick(f->s);
	assert_int_equal(stats(f).leased, 1);
	advance(2);
	qsched_tick(f->s);
	assert_int_equal(stats(f).leased, 0);
	assert_int_equal(stats(f).ready, 1);
	relay_credit(f, "relay-0", 1);
	assert_int_equal(f->npush, 2);
	assert_int_equal(f->push[1].task_id, f->push[0].task_id);
}

static void
test_relay_restart_requeues(void **state)
{
	struct fx *f = *state;
	const char *r1[] = { "a@a.test", NULL }, *r2[] = { "b@b.test", NULL };

	relay_hello(f, "relay-0", 7, 2);
	enqueue(f, "m1", r1);
	enqueue(f, "m2", r2);
	assert_int_equal(stats(f).leased, 2);
	relay_hello(f, "relay-0", 7, 0);	/* same incarnation: keep */
	assert_int_equal(stats(f).leased, 2);
	relay_hello(f, "relay-0", 8, 0);	/* restarted */
	assert_int_equal(stats(f).leased, 0);
	assert_int_equal(stats(f).ready, 2);
	relay_credit(f, "relay-0", 2);
	assert_int_equal(f->npush, 4);
	assert_int_equal(f->push[2].task_id, f->push[0].task_id);
}

static void
test_first_hello_keeps_leases(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	/* credits before any hello (e.g. this shard restarted) */
	relay_credit(f, "relay-0", 1);
	enqueue(f, "m1", r);
	assert_int_equal(stats(f).leased, 1);
	relay_hello(f, "relay-0", 5, 0);
	assert_int_equal(stats(f).leased, 1);
}

static void
test_retry_schedule(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 10);
	enqueue(f, "m1", r);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DEFERRED);
	assert_int_equal(stats(f).deferred, 1);
	assert_int_equal(stats(f).deferred_total, 1);
	assert_int_equal(f->nstate, 1);
	advance(59);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 1);
	advance(2);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 2);
	assert_int_equal(f->push[1].attempt, 2);
	result(f, &f->push[1], PH__OUTCOME__OUTCOME_DEFERRED);
	advance(299);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 2);
	advance(2);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 3);
	assert_int_equal(f->push[2].attempt, 3);
	/* the last delay repeats */
	result(f, &f->push[2], PH__OUTCOME__OUTCOME_DEFERRED);
	advance(301);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 4);
}

static void
test_expiry_fails(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 10);
	enqueue(f, "m1", r);
	advance(72 * 3600 + 1);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DEFERRED);
	assert_int_equal(stats(f).failed_total, 1);
	assert_int_equal(stats(f).messages, 0);
	assert_int_equal(stored(f), 0);
	assert_int_equal(f->nfailed, 1);
	assert_string_equal(f->last_reply, "4.4.7 message expired");
}

static void
test_expiry_without_relay(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", "b@a.test", "c@c.test", NULL },
	    *r2[] = { "d@d.test", NULL };

	enqueue(f, "m1", r);		/* no relay ever connects */
	advance(3600);
	enqueue(f, "m2", r2);
	advance(72 * 3600 - 3600 - 1);
	qsched_tick(f->s);
	assert_int_equal(stats(f).ready, 3);
	assert_int_equal(f->nfailed, 0);
	advance(2);
	qsched_tick(f->s);
	/* m1 expired: its three recipients failed and were bounced */
	assert_int_equal(stats(f).failed_total, 3);
	assert_int_equal(f->nfailed, 3);
	assert_string_equal(f->last_reply, "4.4.7 message expired");
	assert_int_equal(stats(f).messages, 1);
	assert_int_equal(stats(f).ready, 1);
	assert_int_equal(stored(f), 1);
	advance(3600);
	qsched_tick(f->s);
	assert_int_equal(stats(f).failed_total, 4);
	assert_int_equal(stats(f).messages, 0);
	assert_int_equal(stored(f), 0);
	assert_int_equal(f->npush, 0);
}

static void
test_expiry_after_lease_lost(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 1);
	enqueue(f, "m1", r);
	assert_int_equal(f->npush, 1);	/* the relay took it, then vanished */
	advance(72 * 3600 + 1);
	qsched_tick(f->s);		/* the lease ends: ready, no credits */
	assert_int_equal(stats(f).leased, 0);
	assert_int_equal(stats(f).failed_total, 1);
	assert_int_equal(stats(f).messages, 0);
	assert_int_equal(f->nfailed, 1);
	assert_string_equal(f->last_reply, "4.4.7 message expired");
}

static void
test_retry_clamped_to_expiry(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	relay_hello(f, "relay-0", 1, 10);
	enqueue(f, "m1", r);
	advance(72 * 3600 - 10);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DEFERRED);
	assert_int_equal(stats(f).deferred, 1);
	advance(11);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 2);
	result(f, &f->push[1], PH__OUTCOME__OUTCOME_DEFERRED);
	assert_int_equal(stats(f).failed_total, 1);
	assert_int_equal(stats(f).messages, 0);
}

static void
test_push_failure_keeps_task(void **state)
{
	struct fx *f = *state;
	const char *r[] = { "a@a.test", NULL };

	enqueue(f, "m1", r);
	f->push_fail = 1;
	relay_hello(f, "relay-0", 1, 3);
	assert_int_equal(stats(f).ready, 1);
	f->push_fail = 0;
	relay_credit(f, "relay-0", 1);
	assert_int_equal(f->npush, 1);
}

/* a batched push found unsent after the lease (qsched_push_failed): the
 * task is ready again, the relay's credits are gone, a new credit sends it
 * again; an unknown or no longer leased task id changes nothing */
static void
test_push_failed_later(void **state)
{
	struct fx *f = *state;
	const char *r1[] = { "a@a.test", NULL }, *r2[] = { "b@b.test", NULL };

	relay_hello(f, "relay-0", 1, 3);
	enqueue(f, "m1", r1);
	enqueue(f, "m2", r2);
	assert_int_equal(stats(f).leased, 2);
	qsched_push_failed(f->s, f->push[0].task_id);
	assert_int_equal(stats(f).leased, 1);
	assert_int_equal(stats(f).ready, 1);
	enqueue(f, "m3", r1);			/* no credits left: waits */
	assert_int_equal(f->npush, 2);
	qsched_push_failed(f->s, f->push[0].task_id);	/* ready now: nothing */
	qsched_push_failed(f->s, 999999);
	assert_int_equal(stats(f).ready, 2);
	relay_credit(f, "relay-0", 1);
	assert_int_equal(f->npush, 3);
	assert_int_equal(f->push[2].task_id, f->push[0].task_id);	/* first in line */
}

/* restore_one - reschedule a stored message in the new scheduler */
static int
restore_one(void *arg, const char *qid, const void *meta, size_t mlen,
    const void *state, size_t slen)
{
	return qsched_restore(arg, qid, meta, mlen, state, slen);
}

static void
test_restore(void **state)
{
	struct fx *f = *state;
	const char *r1[] = { "a@a.test", "b@b.test", NULL },
	    *r2[] = { "c@c.test", NULL };

	relay_hello(f, "relay-0", 1, 10);
	enqueue(f, "m1", r1);
	enqueue(f, "m2", r2);
	result(f, &f->push[0], PH__OUTCOME__OUTCOME_DELIVERED);
	result(f, &f->push[1], PH__OUTCOME__OUTCOME_DEFERRED);
	/* "restart": a new scheduler over the same store */
	qsched_free(f->s);
	f->s = sched_new(f);
	assert_int_equal(queue_store_load(f->st, restore_one, f->s), 0);
	assert_int_equal(stats(f).messages, 2);
	assert_int_equal(stats(f).recipients_pending, 2);
	assert_int_equal(stats(f).ready, 1);	/* m2 now */
	assert_int_equal(stats(f).deferred, 1);	/* m1's b@b.test later */
	f->npush = 0;
	relay_hello(f, "relay-0", 1, 10);
	assert_int_equal(f->npush, 1);
	assert_string_equal(f->push[0].domain, "c.test");
	advance(61);
	qsched_tick(f->s);
	assert_int_equal(f->npush, 2);
	assert_string_equal(f->push[1].domain, "b.test");
	assert_int_equal(f->push[1].idx[0], 1);
	assert_int_equal(f->push[1].attempt, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_by_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credits_limit_pushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spread_over_relays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_final_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_result_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_restart_requeues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_hello_keeps_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_clamped_to_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_without_relay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_after_lease_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_failure_keeps_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_push_failed_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

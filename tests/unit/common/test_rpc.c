/* test_rpc - request/reply, deadlines, pushes and cancel over real ZeroMQ ipc */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <cmocka.h>

#include "rpc.h"
#include "zsock.h"

struct fixture {
	struct event_base *base;
	struct rpc_server *srv;
	struct rpc_client *cli;
	char endpoint[128];
	int replies, timeouts, pushes;
	int hold;		/* server keeps requests unanswered */
};

static void
on_request(void *arg, struct rpc_server *srv, const struct zpeer *peer, Ph__Envelope *req)
{
	struct fixture *f = arg;
	Ph__Envelope rep, push;
	Ph__QueueStats st = PH__QUEUE_STATS__INIT;

	if (!f->hold) {
		msg_init(&rep);
		st.messages = 42;
		rep.body_case = PH__ENVELOPE__BODY_QUEUE_STATS;
		rep.queue_stats = &st;
		assert_int_equal(rpc_reply(srv, peer, req->request_id, &rep), 0);
		msg_init(&push);
		push.body_case = PH__ENVELOPE__BODY_QUEUE_STATS;
		push.queue_stats = &st;
		assert_int_equal(rpc_push(srv, peer, &push), 0);
	}
	msg_free(req);
}

static void
on_reply(void *arg, Ph__Envelope *rep)
{
	struct fixture *f = arg;
	if (rep == NULL) {
		f->timeouts++;
	} else {
		assert_int_equal(rep->body_case, PH__ENVELOPE__BODY_QUEUE_STATS);
		assert_int_equal(rep->queue_stats->messages, 42);
		f->replies++;
	}
	if (f->replies + f->timeouts == 100)
		event_base_loopbreak(f->base);
}

static void
on_push(void *arg, Ph__Envelope *env)
{
	struct fixture *f = arg;
	f->pushes++;
	msg_free(env);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	snprintf(f->endpoint, sizeof(f->endpoint), "ipc:///tmp/ph-test-rpc-%d.sock", (int)getpid());
	f->base = event_base_new();
	f->srv = rpc_server_new(f->base, f->endpoint, on_request, f);
	f->cli = rpc_client_new(f->base, f->endpoint, "test-client");
	assert_non_null(f->srv);
	assert_non_null(f->cli);
	rpc_client_on_push(f->cli, on_push, f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	rpc_client_free(f->cli);
	rpc_server_free(f->srv);
	event_base_free(f->base);
	unlink(f->endpoint + 6);
	free(f);
	return 0;
}

/* call - 100 pipelined calls; connection set-up may refuse the first sends */
static void
call_many(struct fixture *f, unsigned timeout_ms)
{
	struct timeval guard = { 10, 0 };
	int sent = 0;

	for (int tries = 0; tries < 200 && sent < 100; tries++) {
		Ph__Envelope req;
		Ph__QueueStatsRequest q = PH__QUEUE_STATS_REQUEST__INIT;
		msg_init(&req);
		req.body_case = PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST;
		req.queue_stats_request = &q;
		if (rpc_call(f->cli, &req, timeout_ms, on_reply, f) == 0) {
			sent++;
			tries = 0;
		} else {
			event_base_loop(f->base, EVLOOP_NONBLOCK);
			usleep(10000);
		}
	}
	assert_int_equal(sent, 100);
	event_base_loopexit(f->base, &guard);
	event_base_dispatch(f->base);
}

static void
test_replies_and_pushes(void **state)
{
	struct fixture *f = *state;
	call_many(f, 5000);
	assert_int_equal(f->replies, 100);
	assert_int_equal(f->timeouts, 0);
	assert_int_equal(rpc_pending(f->cli), 0);
	struct timeval t = { 0, 200000 };
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
	assert_int_equal(f->pushes, 100);
}

static void
test_deadline(void **state)
{
	struct fixture *f = *state;
	f->hold = 1;
	call_many(f, 100);
	assert_int_equal(f->replies, 0);
	assert_int_equal(f->timeouts, 100);
	assert_int_equal(rpc_pending(f->cli), 0);
}

static void
test_cancel(void **state)
{
	struct fixture *f = *state;
	struct timeval t = { 0, 300000 };
	Ph__Envelope req;
	Ph__QueueStatsRequest q = PH__QUEUE_STATS_REQUEST__INIT;

	f->hold = 1;
	for (int i = 0; i < 100; i++) {
		msg_init(&req);
		req.body_case = PH__ENVELOPE__BODY_QUEUE_STATS_REQUEST;
		req.queue_stats_request = &q;
		if (rpc_call(f->cli, &req, 100, on_reply, f) < 0) {
			event_base_loop(f->base, EVLOOP_NONBLOCK);
			usleep(10000);
		}
	}
	rpc_cancel(f->cli, f);
	assert_int_equal(rpc_pending(f->cli), 0);
	event_base_loopexit(f->base, &t);
	event_base_dispatch(f->base);
	assert_int_equal(f->timeouts, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_replies_and_pushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

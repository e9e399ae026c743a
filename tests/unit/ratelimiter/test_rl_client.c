/*
 * test_rl_client - common/rl_client.c: the stable shard hash (fixed values,
 * the same in every process), and calls through a real rl_service over an
 * ipc:// endpoint in this process: allowed/denied mapping, the callback of a
 * call that cannot be sent runs once and later, cancel; batching: the calls of
 * one loop turn go out together (more than one batch's worth too), are
 * decided in order, a bad check fails alone, and a callback may cancel a
 * call of the same batch; watching: every shard reached, or not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>

#include "config.h"
#include "rl_client.h"
#include "rl_service.h"
#include "rl_table.h"

struct fixture {
	struct event_base *base;
	struct rl_table *t;
	struct rl_service *svc;
	char ep[128];
	struct strvec eps;
	char *epv[1];
};

struct got {
	int calls;
	struct rl_result res;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->base = event_base_new();
	f->t = rl_table_new();
	snprintf(f->ep, sizeof(f->ep), "ipc:///tmp/test_rl_client-%d.sock", (int)getpid());
	f->svc = rl_service_new(f->base, f->ep, f->t, NULL, 100);
	assert_non_null(f->svc);
	f->epv[0] = f->ep;
	f->eps.v = f->epv;
	f->eps.n = 1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rl_service_free(f->svc);
	unlink(f->ep + strlen("ipc://"));
	rl_table_free(f->t);
	event_base_free(f->base);
	free(f);
	return 0;
}

static void on_result(void *arg, const struct rl_result *res)
{
	struct got *g = arg;

	g->calls++;
	g->res = *res;
}

/* run - dispatch BASE until *COUNTER reaches WANT or 3 s passed */
static void run(struct event_base *base, const int *counter, int want)
{
	struct timeval tv = { 0, 10000 };
	int i;

	for (i = 0; i < 300 && *counter < want; i++) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

static void test_shard_index_fixed(void **state)
{
	const struct { const char *key; size_t n, want; } cases[] = {
		{ "tenant-a", 1, 0 }, { "tenant-a", 2, 1 }, { "tenant-a", 3, 0 },
		{ "tenant-a", 5, 3 }, { "tenant-a", 16, 11 },
		{ "ocid1.tenancy.oc1..aaaa", 16, 8 }, { "203.0.113.9", 3, 2 },
		{ "203.0.113.9", 16, 10 }, { "example.com", 3, 2 }, { "example.com", 16, 6 },
		{ "", 2, 1 }, { "x", 0, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t got = rl_shard_index(cases[i].key, cases[i].n);

		if (got != cases[i].want)
			fail_msg("rl_shard_index(\"%s\", %zu): got %zu, want %zu",
			    cases[i].key, cases[i].n, got, cases[i].want);
	}
}

/* limit 2: allowed, allowed, then denied naming limit 2 */
static void test_take_allowed_denied(void **state)
{
	struct fixture *f = *state;
	struct rl_client *c = rl_client_new(f->base, &f->eps, 2000);
	Ph__RateLimit m = PH__RATE_LIMIT__INIT, d = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[2] = { &d, &m };
	struct got g[3] = { { 0 } };
	int total = 0, i;

	assert_non_null(c);
	m.key = "tenant:t:minute", m.limit = 2, m.window_s = 60;
	d.key = "tenant:t:day", d.limit = 100, d.window_s = 86400;
	for (i = 0; i < 3; i++) {
		rl_client_take(c, "t", lims, 2, 1, on_result, &g[i]);
		run(f->base, &g[i].calls, 1);
		total += g[i].calls;
	}
	assert_int_equal(total, 3);
	assert_int_equal(g[0].res.status, RL_ALLOWED);
	assert_int_equal(g[1].res.status, RL_ALLOWED);
	assert_int_equal(g[2].res.status, RL_DENIED);
	assert_int_equal(g[2].res.denied_index, 1);
	assert_int_equal(g[2].res.limit, 2);
	assert_true(g[2].res.retry_after_ms > 0 && g[2].res.retry_after_ms <= 60000);
	rl_client_free(c);
}

/* a bad request is answered with a Status: RL_UNAVAILABLE, once */
static void test_bad_request_unavailable(void **state)
{
	struct fixture *f = *state;
	struct rl_client *c = rl_client_new(f->base, &f->eps, 2000);
	Ph__RateLimit m = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[1] = { &m };
	struct got g = { 0 };

	m.key = "k", m.limit = 2, m.window_s = 0;
	rl_client_take(c, "t", lims, 1, 1, on_result, &g);
	run(f->base, &g.calls, 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.res.status, RL_UNAVAILABLE);
	rl_client_free(c);
}

/* nobody listening: the callback runs once, later, with RL_UNAVAILABLE */
static void test_unreachable_called_later(void **state)
{
	struct fixture *f = *state;
	char *ep = "ipc:///tmp/test_rl_client-nobody.sock";
	struct strvec eps = { &ep, 1 };
	struct rl_client *c = rl_client_new(f->base, &eps, 200);
	Ph__RateLimit m = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[1] = { &m };
	struct got g = { 0 };
	struct timeval tv = { 0, 500000 };

	assert_non_null(c);
	m.key = "k", m.limit = 2, m.window_s = 60;
	rl_client_take(c, "t", lims, 1, 1, on_result, &g);
	assert_int_equal(g.calls, 0);
	run(f->base, &g.calls, 1);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.res.status, RL_UNAVAILABLE);
	assert_int_equal(g.res.denied_index, -1);
	rl_client_free(c);
}

static void on_change(void *arg)
{
	(*(int *)arg)++;
}

/* watched: the dry-run probe reaches the shard (one change reported, no key
 * made); a client with a second shard nobody serves is never "reached" */
static void test_watch_reached(void **state)
{
	struct fixture *f = *state;
	char *eps[2] = { f->ep, "ipc:///tmp/test_rl_client-nobody.sock" };
	struct strvec one = { eps, 1 }, two = { eps, 2 };
	struct rl_client *c = rl_client_new(f->base, &one, 2000);
	struct rl_client *d = rl_client_new(f->base, &two, 200);
	int changes = 0, dchanges = 0;

	rl_client_watch(c, on_change, &changes);
	rl_client_watch(d, on_change, &dchanges);
	assert_false(rl_client_reached(c));
	run(f->base, &changes, 1);
	run(f->base, &dchanges, 1);
	assert_int_equal(changes, 1);
	assert_int_equal(dchanges, 1);
	assert_true(rl_client_reached(c));
	assert_false(rl_client_reached(d));
	assert_int_equal(rl_table_count(f->t), 0);
	rl_client_free(d);
	rl_client_free(c);
}

/* a cancelled call never calls back; others do */
static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct rl_client *c = rl_client_new(f->base, &f->eps, 2000);
	Ph__RateLimit m = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[1] = { &m };
	struct got g1 = { 0 }, g2 = { 0 };
	struct timeval tv = { 0, 200000 };

	m.key = "k", m.limit = 10, m.window_s = 60;
	rl_client_take(c, "t", lims, 1, 1, on_result, &g1);
	rl_client_take(c, "t", lims, 1, 1, on_result, &g2);
	rl_client_cancel(c, &g1);
	run(f->base, &g2.calls, 1);
	event_base_loopexit(f->base, &tv);
	event_base_dispatch(f->base);
	assert_int_equal(g1.calls, 0);
	assert_int_equal(g2.calls, 1);
	assert_int_equal(g2.res.status, RL_ALLOWED);
	rl_client_free(c);
}

/* batch_cancel - a callback that cancels the call made with g->victim */
struct batch_got {
	struct got g;
	struct rl_client *c;
	void *victim;
};

static void on_result_cancel(void *arg, const struct rl_result *res)
{
	struct batch_got *b = arg;

	on_result(&b->g, res);
	if (b->victim != NULL)
		rl_client_cancel(b->c, b->victim);
}

/* 300 calls in one turn (two batches), limit 250: the first 250 allowed and
 * the rest denied, in order; a bad check among them fails alone; the first
 * callback cancels a call of its own batch, which never calls back */
static void test_batch_order_bad_and_cancel(void **state)
{
	struct fixture *f = *state;
	struct rl_client *c = rl_client_new(f->base, &f->eps, 2000);
	Ph__RateLimit m = PH__RATE_LIMIT__INIT, bad = PH__RATE_LIMIT__INIT;
	const Ph__RateLimit *lims[1] = { &m }, *badp[1] = { &bad };
	static struct got g[300];
	struct batch_got first = { { 0 }, c, &g[5] };
	struct got gbad = { 0 };
	int done = 0, i, allowed = 0;

	memset(g, 0, sizeof(g));
	/* connected first: an unsent call is retried on its own timer, and
	 * retries need not keep the order */
	m.key = "warm-up", m.limit = 1, m.window_s = 60;
	rl_client_take(c, "t", lims, 1, 1, on_result, &g[0]);
	run(f->base, &g[0].calls, 1);
	assert_int_equal(g[0].calls, 1);
	m.key = "k", m.limit = 250, m.window_s = 60;
	bad.key = "k", bad.limit = 1, bad.window_s = 0;	/* window 0: invalid */
	rl_client_take(c, "t", lims, 1, 1, on_result_cancel, &first);
	rl_client_take(c, "t", badp, 1, 1, on_result, &gbad);
	for (i = 1; i < 300; i++)
		rl_client_take(c, "t", lims, 1, 1, on_result, &g[i]);
	assert_int_equal(first.g.calls + gbad.calls, 0);	/* later, from the loop */
	for (int turns = 0; turns < 300 && done < 299; turns++) {
		run(f->base, &g[299].calls, 1);
		done = first.g.calls + gbad.calls;
		for (i = 1; i < 300; i++)
			done += g[i].calls;
	}
	assert_int_equal(first.g.calls, 1);
	assert_int_equal(first.g.res.status, RL_ALLOWED);
	assert_int_equal(gbad.calls, 1);
	assert_int_equal(gbad.res.status, RL_UNAVAILABLE);
	assert_int_equal(g[5].calls, 0);		/* cancelled in flight */
	allowed = 1;
	for (i = 1; i < 300; i++) {
		if (i == 5)
			continue;
		assert_int_equal(g[i].calls, 1);
		if (g[i].res.status == RL_ALLOWED) {
			assert_int_equal(i, allowed + (i > 5));	/* no gap before a denial */
			allowed++;
		} else {
			assert_int_equal(g[i].res.status, RL_DENIED);
		}
	}
	/* 250 taken: the cancelled call's check was decided (and took one)
	 * before its answer was dropped */
	assert_int_equal(allowed, 249);
	rl_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_index_fixed),
		cmocka_unit_test_setup_teardown(test_take_allowed_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_called_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_reached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_order_bad_and_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rl_client - common/rl_client.c: the stable shard hash (fixed values,
 * the same in every process), and calls through a real rl_service over an
 * ipc:// endpoint in this process: allowed/denied mapping, the callback of a
 * call that cannot be sent runs once and later, cancel.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_index_fixed),
		cmocka_unit_test_setup_teardown(test_take_allowed_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_request_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_called_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

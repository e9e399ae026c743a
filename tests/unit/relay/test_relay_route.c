/*
 * test_relay_route - static route parsing and matching of ph-relay: exact
 * beats wildcard, the nearest parent wildcard wins, "*" catches the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "addr.h"
#include "relay_route.h"

struct fixture {
	struct relay_routes rt;
};

static int setup(void **state)
{
	static char *entries[] = {
		"*.test=127.0.0.1:2526",
		"exact.test = 127.0.0.2:2527",
		"*.deep.test=127.0.0.3",
		"Example.COM=[::1]:2600",
		"*=10.0.0.1:25",
	};
	struct strvec sv = { entries, 5 };
	struct fixture *f = calloc(1, sizeof(*f));
	char *err = NULL;

	assert_non_null(f);
	assert_int_equal(relay_routes_parse(&f->rt, &sv, 25, &err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	relay_routes_free(&f->rt);
	free(f);
	return 0;
}

static void test_lookup(void **state)
{
	static const struct { const char *domain, *host; unsigned port; } cases[] = {
		{ "a.test", "127.0.0.1", 2526 },
		{ "b.a.test", "127.0.0.1", 2526 },
		{ "exact.test", "127.0.0.2", 2527 },
		{ "EXACT.TEST", "127.0.0.2", 2527 },
		{ "sub.exact.test", "127.0.0.1", 2526 },
		{ "x.deep.test", "127.0.0.3", 25 },
		{ "deep.test", "127.0.0.1", 2526 },
		{ "example.com", "::1", 2600 },
		{ "example.com.", "::1", 2600 },
		{ "test", "10.0.0.1", 25 },
		{ "other.org", "10.0.0.1", 25 },
	};
	struct fixture *f = *state;
	const struct relay_route *r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = relay_routes_lookup(&f->rt, cases[i].domain);
		assert_non_null(r);
		if (strcmp(r->host, cases[i].host) != 0 || r->port != cases[i].port)
			fail_msg("%s: got %s:%u, want %s:%u", cases[i].domain,
			    r->host, r->port, cases[i].host, cases[i].port);
	}
}

static void test_match(void **state)
{
	assert_int_equal(relay_route_match("*.test", "test"), -1);
	assert_int_equal(relay_route_match("*.test", "xtest"), -1);
	assert_true(relay_route_match("*.test", "a.test") > 0);
	assert_true(relay_route_match("a.test", "a.test") >
	    relay_route_match("*.test", "a.test"));
	assert_true(relay_route_match("*.a.test", "b.a.test") >
	    relay_route_match("*.test", "b.a.test"));
	assert_int_equal(relay_route_match("*", "anything"), 0);
	assert_int_equal(relay_route_match("a.test", "b.test"), -1);
}

static void test_no_route(void **state)
{
	struct relay_routes rt;
	struct strvec sv = { NULL, 0 };

	assert_int_equal(relay_routes_parse(&rt, &sv, 25, NULL), 0);
	assert_null(relay_routes_lookup(&rt, "a.test"));
	relay_routes_free(&rt);
}

static void test_bad_entries(void **state)
{
	static const char *bad[] = { "nohop", "=1.2.3.4", "a.test=",
	    "a.test=host:0", "a.test=host:70000", "a.test=host:x",
	    "a.test=[::1", "a.test=[::1]x" };
	struct relay_routes rt;
	struct strvec sv;
	char *entry, *err;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		entry = (char *)bad[i];
		sv.v = &entry;
		sv.n = 1;
		err = NULL;
		if (relay_routes_parse(&rt, &sv, 25, &err) != -1)
			fail_msg("entry \"%s\": got accepted, want -1", bad[i]);
		assert_non_null(err);
		free(err);
	}
}

static void test_hostport(void **state)
{
	char host[64];
	unsigned port;

	assert_int_equal(hostport_parse("mx.example.com", host,
	    sizeof(host), &port, 25), 0);
	assert_string_equal(host, "mx.example.com");
	assert_int_equal(port, 25);
	assert_int_equal(hostport_parse("[2001:db8::1]:587", host,
	    sizeof(host), &port, 25), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 587);
	assert_int_equal(hostport_parse("2001:db8::1", host, sizeof(host),
	    &port, 25), 0);
	assert_string_equal(host, "2001:db8::1");
	assert_int_equal(port, 25);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_no_route),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_hostport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_relay_mx - MX ordering of ph-relay: preference order, equal
 * preferences shuffled (every order reachable, none lost), null MX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "relay_dns.h"

/* seq_rand - a settable random source: returns the values in turn */
struct seq {
	const unsigned *v;
	size_t n, i;
};

static unsigned seq_rand(void *arg)
{
	struct seq *s = arg;

	return s->v[s->i++ % s->n];
}

static void test_preference_order(void **state)
{
	struct relay_mx mx[] = { { "c", 30 }, { "a", 10 }, { "b", 20 } };
	unsigned zero = 0;
	struct seq s = { &zero, 1, 0 };

	relay_mx_sort(mx, 3, seq_rand, &s);
	assert_string_equal(mx[0].host, "a");
	assert_string_equal(mx[1].host, "b");
	assert_string_equal(mx[2].host, "c");
}

static void test_equal_shuffled(void **state)
{
	unsigned seen = 0, r;
	size_t trial;

	/* with different random values, both orders of the two pref-10 hosts
	 * occur, and the pref-5 host always stays first, pref-20 last */
	for (trial = 0; trial < 8; trial++) {
		struct relay_mx mx[] = { { "x", 10 }, { "last", 20 },
		    { "y", 10 }, { "first", 5 } };
		struct seq s = { &r, 1, 0 };

		r = (unsigned)trial;
		relay_mx_sort(mx, 4, seq_rand, &s);
		assert_string_equal(mx[0].host, "first");
		assert_string_equal(mx[3].host, "last");
		assert_int_equal(mx[1].pref, 10);
		assert_int_equal(mx[2].pref, 10);
		assert_string_not_equal(mx[1].host, mx[2].host);
		seen |= strcmp(mx[1].host, "x") == 0 ? 1u : 2u;
	}
	assert_int_equal(seen, 3);
}

static void test_shuffle_keeps_all(void **state)
{
	static const unsigned vals[] = { 7, 3, 11, 0, 5 };
	struct relay_mx mx[] = { { "a", 1 }, { "b", 1 }, { "c", 1 }, { "d", 1 },
	    { "e", 1 } };
	struct seq s = { vals, 5, 0 };
	unsigned mask = 0;
	size_t i;

	relay_mx_sort(mx, 5, seq_rand, &s);
	for (i = 0; i < 5; i++)
		mask |= 1u << (mx[i].host[0] - 'a');
	assert_int_equal(mask, 0x1f);
}

static void test_null_mx(void **state)
{
	struct relay_mx root[] = { { "", 0 } };
	struct relay_mx dot[] = { { ".", 0 } };
	struct relay_mx two[] = { { "", 0 }, { "mx", 10 } };
	struct relay_mx real[] = { { "mx", 0 } };

	assert_true(relay_mx_is_null(root, 1));
	assert_true(relay_mx_is_null(dot, 1));
	assert_false(relay_mx_is_null(two, 2));
	assert_false(relay_mx_is_null(real, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_preference_order),
		cmocka_unit_test(test_equal_shuffled),
		cmocka_unit_test(test_shuffle_keeps_all),
		cmocka_unit_test(test_null_mx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

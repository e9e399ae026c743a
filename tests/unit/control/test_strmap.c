/*
 * test_strmap - insert, replace, delete, growth with tombstones, iteration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "strmap.h"

/* test_put_get_replace - replace returns the old value */
static void test_put_get_replace(void **state)
{
	struct strmap *m = strmap_new();
	int a = 1, b = 2;

	assert_null(strmap_get(m, "x"));
	assert_null(strmap_put(m, "x", &a));
	assert_ptr_equal(strmap_get(m, "x"), &a);
	assert_ptr_equal(strmap_put(m, "x", &b), &a);
	assert_ptr_equal(strmap_get(m, "x"), &b);
	assert_int_equal(strmap_count(m), 1);
	assert_null(strmap_get(m, ""));
	strmap_free(m, NULL);
}

/* test_keys_copied - the caller's buffer may change after put */
static void test_keys_copied(void **state)
{
	struct strmap *m = strmap_new();
	char key[8] = "abc";
	int v;

	strmap_put(m, key, &v);
	strcpy(key, "zzz");
	assert_ptr_equal(strmap_get(m, "abc"), &v);
	assert_null(strmap_get(m, "zzz"));
	strmap_free(m, NULL);
}

/* test_many - 10000 keys survive growth; half deleted; reinserted */
static void test_many(void **state)
{
	struct strmap *m = strmap_new();
	char key[32];

	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%ld", (long)i);
		strmap_put(m, key, (void *)(i + 1));
	}
	assert_int_equal(strmap_count(m), 10000);
	for (intptr_t i = 0; i < 10000; i += 2) {
		snprintf(key, sizeof(key), "k%ld", (long)i);
		assert_ptr_equal(strmap_del(m, key), (void *)(i + 1));
		assert_null(strmap_del(m, key));
	}
	assert_int_equal(strmap_count(m), 5000);
	for (intptr_t i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "k%ld", (long)i);
		if (i % 2)
			assert_ptr_equal(strmap_get(m, key), (void *)(i + 1));
		else
			assert_null(strmap_get(m, key));
	}
	/* churn: tombstones must not fill the table */
	for (int round = 0; round < 50000; round++) {
		snprintf(key, sizeof(key), "churn%d", round);
		strmap_put(m, key, key);
		strmap_del(m, key);
	}
	assert_int_equal(strmap_count(m), 5000);
	strmap_free(m, NULL);
}

static void sum_fn(void *arg, const char *key, void *val)
{
	*(long *)arg += (long)(intptr_t)val;
}

/* test_each_and_free - every entry visited once; free_val on every value */
static void test_each_and_free(void **state)
{
	struct strmap *m = strmap_new();
	long sum = 0;

	strmap_put(m, "a", (void *)1);
	strmap_put(m, "b", (void *)2);
	strmap_put(m, "c", (void *)4);
	strmap_del(m, "b");
	strmap_each(m, sum_fn, &sum);
	assert_int_equal(sum, 5);
	strmap_free(m, NULL);

	m = strmap_new();
	strmap_put(m, "x", strdup("heap"));
	strmap_put(m, "y", strdup("heap2"));
	strmap_free(m, free);	/* leak-checked under ASan */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace),
		cmocka_unit_test(test_keys_copied),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_each_and_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

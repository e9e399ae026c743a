/*
 * test_rl_store - counters survive a close and reopen of the RocksDB store
 * (a restart), expired keys are deleted from it, and unflushed changes are
 * what a crash forgets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rl_store.h"
#include "rl_table.h"

#define T0 1700000000000ULL
#define DAY 86400000ULL

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_rl_store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* reopen - a fresh table loaded from the store in DIR; LOADED gets the count */
static struct rl_table *reopen(const char *dir, long *loaded)
{
	struct rl_table *t = rl_table_new();
	char *err = NULL;
	struct rl_store *s = rl_store_open(dir, true, &err);

	assert_non_null(s);
	*loaded = rl_store_load(s, t);
	rl_store_close(s);
	return t;
}

static uint64_t used(struct rl_table *t, const struct rl_limit *l, uint64_t now)
{
	struct rl_decision d;

	assert_int_equal(rl_table_check(t, l, 1, 0, true, now, &d), 0);
	return d.used[0];
}

/* 8 of 10 daily tokens used: after a restart only 2 more */
static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct rl_limit day = { "tenant:a:day", 10, 86400 };
	struct rl_decision d;
	struct rl_table *t = rl_table_new(), *t2;
	char *err = NULL;
	struct rl_store *s = rl_store_open(f->dir, true, &err);
	long loaded;
	int i;

	assert_non_null(s);
	for (i = 0; i < 8; i++)
		assert_int_equal(rl_table_check(t, &day, 1, 1, false, T0 + i * 120000, &d), 0);
	assert_int_equal(rl_store_flush(s, t), 0);
	rl_store_close(s);
	t2 = reopen(f->dir, &loaded);
	assert_int_equal(loaded, 1);
	assert_int_equal(used(t2, &day, T0 + DAY / 2), 8);
	for (i = 0; i < 2; i++) {
		assert_int_equal(rl_table_check(t2, &day, 1, 1, false, T0 + DAY / 2, &d), 0);
		assert_true(d.allowed);
	}
	assert_int_equal(rl_table_check(t2, &day, 1, 1, false, T0 + DAY / 2, &d), 0);
	assert_false(d.allowed);
	assert_int_equal(d.retry_after_ms, DAY / 2);
	rl_table_free(t);
	rl_table_free(t2);
}

/* what was not flushed is forgotten (the crash bound), the rest stays */
static void test_unflushed_forgotten(void **state)
{
	struct fixture *f = *state;
	struct rl_limit min = { "ip:10.0.0.1", 5, 60 };
	struct rl_decision d;
	struct rl_table *t = rl_table_new(), *t2;
	char *err = NULL;
	struct rl_store *s = rl_store_open(f->dir, true, &err);
	long loaded;

	assert_int_equal(rl_table_check(t, &min, 1, 2, false, T0, &d), 0);
	assert_int_equal(rl_store_flush(s, t), 0);
	assert_int_equal(rl_table_check(t, &min, 1, 2, false, T0 + 1000, &d), 0);
	rl_store_close(s);	/* no flush: a crash */
	t2 = reopen(f->dir, &loaded);
	assert_int_equal(used(t2, &min, T0 + 2000), 2);
	rl_table_free(t);
	rl_table_free(t2);
}

/* expired keys are deleted from the store */
static void test_expired_deleted(void **state)
{
	struct fixture *f = *state;
	struct rl_limit min = { "ip:10.0.0.2", 5, 60 };
	struct rl_decision d;
	struct rl_table *t = rl_table_new(), *t2;
	char *err = NULL;
	struct rl_store *s = rl_store_open(f->dir, true, &err);
	long loaded;

	assert_int_equal(rl_table_check(t, &min, 1, 1, false, T0, &d), 0);
	assert_int_equal(rl_store_flush(s, t), 0);
	assert_int_equal(rl_table_sweep(t, T0 + 60000, 1 << 20), 1);
	assert_int_equal(rl_store_flush(s, t), 0);
	rl_store_close(s);
	t2 = reopen(f->dir, &loaded);
	assert_int_equal(loaded, 0);
	assert_int_equal(rl_table_count(t2), 0);
	rl_table_free(t);
	rl_table_free(t2);
}

/* a busy key flushed often, its bucket slots reused: reloads the same */
static void test_busy_key_slots_wrap(void **state)
{
	struct fixture *f = *state;
	struct rl_limit min = { "tenant:busy:minute", 1000000, 60 };
	struct rl_decision d, d2;
	struct rl_table *t = rl_table_new(), *t2;
	char *err = NULL;
	struct rl_store *s = rl_store_open(f->dir, true, &err);
	uint64_t now = T0;
	long loaded;
	int i;

	for (i = 0; i < 4000; i++, now += 50) {	/* 200 s, > RL_WINDOW_RING buckets */
		assert_int_equal(rl_table_check(t, &min, 1, 1 + i % 3, false, now, &d), 0);
		if (i % 2 == 1)
			assert_int_equal(rl_store_flush(s, t), 0);
	}
	rl_store_close(s);
	t2 = reopen(f->dir, &loaded);
	assert_int_equal(loaded, 1);
	for (i = 0; i < 5; i++) {
		uint64_t at = now + (uint64_t)i * 7000;

		assert_int_equal(rl_table_check(t, &min, 1, 0, true, at, &d), 0);
		assert_int_equal(rl_table_check(t2, &min, 1, 0, true, at, &d2), 0);
		if (d.used[0] != d2.used[0])
			fail_msg("at +%d s: got %llu after reload, want %llu", i * 7,
			    (unsigned long long)d2.used[0], (unsigned long long)d.used[0]);
	}
	rl_table_free(t);
	rl_table_free(t2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unflushed_forgotten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy_key_slots_wrap, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rl_table - the counters of a shard: atomic multi-limit checks, dry
 * runs, key expiry, the dirty/delete lists handed to a fake store, and the
 * request/reply mapping of rl_service_decide.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rl_service.h"
#include "rl_table.h"

#define T0 1700000000000ULL
#define MIN 60000ULL
#define DAY 86400000ULL

struct fixture {
	struct rl_table *t;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->t = rl_table_new();
	assert_non_null(f->t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rl_table_free(f->t);
	free(f);
	return 0;
}

/* tenant - per-minute and per-day limits of one tenant */
static void tenant(struct rl_limit l[2], uint64_t per_min, uint64_t per_day)
{
	l[0] = (struct rl_limit){ "tenant:a:minute", per_min, 60 };
	l[1] = (struct rl_limit){ "tenant:a:day", per_day, 86400 };
}

static struct rl_decision check(struct rl_table *t, const struct rl_limit *l,
    size_t n, uint64_t cost, bool dry, uint64_t now)
{
	struct rl_decision d;

	assert_int_equal(rl_table_check(t, l, n, cost, dry, now, &d), 0);
	return d;
}

/* refused by the minute limit: the day limit is not used up */
static void test_multi_atomic_minute_refuses(void **state)
{
	struct fixture *f = *state;
	struct rl_limit l[2];
	struct rl_decision d;
	int i;

	tenant(l, 10, 12);
	for (i = 0; i < 10; i++)
		assert_true(check(f->t, l, 2, 1, false, T0 + i).allowed);
	d = check(f->t, l, 2, 1, false, T0 + 100);
	assert_false(d.allowed);
	assert_int_equal(d.denied_index, 0);
	assert_int_equal(d.used[0], 10);
	assert_int_equal(d.used[1], 10);
	assert_int_equal(d.retry_after_ms, MIN + 9 - 100);
	d = check(f->t, l, 2, 1, true, T0 + 200);
	assert_int_equal(d.used[1], 10);
}

/* refused by the day limit: the minute limit is not used up */
static void test_multi_atomic_day_refuses(void **state)
{
	struct fixture *f = *state;
	struct rl_limit l[2];
	struct rl_decision d;
	int i;

	tenant(l, 10, 12);
	for (i = 0; i < 10; i++)
		assert_true(check(f->t, l, 2, 1, false, T0 + i * 1000).allowed);
	for (i = 0; i < 2; i++)
		assert_true(check(f->t, l, 2, 1, false, T0 + 2 * MIN + i).allowed);
	d = check(f->t, l, 2, 1, false, T0 + 2 * MIN + 10);
	assert_false(d.allowed);
	assert_int_equal(d.denied_index, 1);
	assert_int_equal(d.used[0], 2);
	assert_int_equal(d.used[1], 12);
	assert_int_equal(d.retry_after_ms, DAY + 9000 - 2 * MIN - 10);
	d = check(f->t, l, 2, 1, true, T0 + 2 * MIN + 20);
	assert_int_equal(d.used[0], 2);
}

/* a dry run reports usage and takes nothing, and creates no key */
static void test_dry_run(void **state)
{
	struct fixture *f = *state;
	struct rl_limit l[2];
	struct rl_decision d;

	tenant(l, 3, 100);
	d = check(f->t, l, 2, 1, true, T0);
	assert_true(d.allowed);
	assert_int_equal(d.used[0], 0);
	assert_int_equal(rl_table_count(f->t), 0);
	assert_true(check(f->t, l, 2, 3, false, T0).allowed);
	d = check(f->t, l, 2, 1, true, T0 + 1);
	assert_false(d.allowed);
	assert_int_equal(d.denied_index, 0);
	assert_int_equal(d.used[0], 3);
	assert_int_equal(d.used[1], 3);
	d = check(f->t, l, 2, 0, true, T0 + 1);
	assert_true(d.allowed);
	assert_int_equal(check(f->t, l, 2, 1, true, T0 + 2).used[0], 3);
}

/* the same key with two window lengths is two counters */
static void test_window_in_key(void **state)
{
	struct fixture *f = *state;
	struct rl_limit a = { "ip:1.2.3.4", 1, 60 }, b = { "ip:1.2.3.4", 1, 3600 };

	assert_true(check(f->t, &a, 1, 1, false, T0).allowed);
	assert_true(check(f->t, &b, 1, 1, false, T0).allowed);
	assert_false(check(f->t, &a, 1, 1, false, T0).allowed);
	assert_int_equal(rl_table_count(f->t), 2);
}

static void test_invalid_limits(void **state)
{
	struct fixture *f = *state;
	struct rl_limit dup[2] = { { "k", 1, 60 }, { "k", 5, 60 } };
	struct rl_limit zero = { "k", 1, 0 }, empty = { "", 1, 60 };
	struct rl_decision d;

	assert_int_equal(rl_table_check(f->t, dup, 2, 1, false, T0, &d), -1);
	assert_int_equal(rl_table_check(f->t, &zero, 1, 1, false, T0, &d), -1);
	assert_int_equal(rl_table_check(f->t, &empty, 1, 1, false, T0, &d), -1);
	assert_int_equal(rl_table_check(f->t, dup, 0, 1, false, T0, &d), -1);
	assert_int_equal(rl_table_count(f->t), 0);
}

/* fake store: records what a flush hands over */
struct fake {
	int puts, dels, commits, aborts;
	int fail_commit;
};

static int fake_put(void *arg, const char *name, const struct rl_window *w,
    const struct rl_bucket *b)
{
	((struct fake *)arg)->puts++;
	return 0;
}

static int fake_del(void *arg, const char *name)
{
	((struct fake *)arg)->dels++;
	return 0;
}

static int fake_commit(void *arg)
{
	struct fake *k = arg;

	k->commits++;
	return k->fail_commit ? -1 : 0;
}

static void fake_abort(void *arg)
{
	((struct fake *)arg)->aborts++;
}

static const struct rl_flush_ops fake_ops = { fake_put, fake_del, fake_commit, fake_abort };

/* idle keys expire; stored ones are handed over for deletion */
static void test_sweep_and_flush(void **state)
{
	struct fixture *f = *state;
	struct rl_limit l[2];
	struct fake k = { 0 };

	tenant(l, 10, 10);
	assert_true(check(f->t, l, 2, 1, false, T0).allowed);
	assert_int_equal(rl_table_dirty(f->t), 2);
	k.fail_commit = 1;
	assert_int_equal(rl_table_flush(f->t, &fake_ops, &k), -1);
	assert_int_equal(k.aborts, 1);
	assert_int_equal(rl_table_dirty(f->t), 2);
	k.fail_commit = 0;
	assert_int_equal(rl_table_flush(f->t, &fake_ops, &k), 0);
	assert_int_equal(k.puts, 4);
	assert_int_equal(rl_table_dirty(f->t), 0);
	assert_int_equal(rl_table_sweep(f->t, T0 + MIN, 1 << 20), 1);
	assert_int_equal(rl_table_count(f->t), 1);
	assert_int_equal(rl_table_sweep(f->t, T0 + DAY, 1 << 20), 1);
	assert_int_equal(rl_table_count(f->t), 0);
	assert_int_equal(rl_table_flush(f->t, &fake_ops, &k), 0);
	assert_int_equal(k.dels, 2);
}

/* many keys: the table grows and every key keeps its own count */
static void test_many_keys(void **state)
{
	struct fixture *f = *state;
	char key[32];
	struct rl_limit l = { key, 2, 60 };
	int i;

	for (i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(check(f->t, &l, 1, 2, false, T0).allowed);
	}
	assert_int_equal(rl_table_count(f->t), 5000);
	for (i = 0; i < 5000; i += 97) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_false(check(f->t, &l, 1, 1, false, T0 + 1).allowed);
	}
}

/* the key cap: a check needing keys beyond it is refused as a whole
 * (ENOSPC, nothing taken, nothing created); known keys go on; once keys
 * expire and are swept, new ones fit again */
static void test_max_keys(void **state)
{
	struct fixture *f = *state;
	struct rl_limit a = { "ip:a", 5, 60 }, b = { "ip:b", 5, 60 }, l[2];
	struct rl_decision d;
	struct fake k = { 0 };

	rl_table_set_max_keys(f->t, 3);
	tenant(l, 10, 100);
	assert_true(check(f->t, l, 2, 1, false, T0).allowed);
	assert_true(check(f->t, &a, 1, 1, false, T0).allowed);
	errno = 0;
	assert_int_equal(rl_table_check(f->t, &b, 1, 1, false, T0, &d), -1);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(rl_table_count(f->t), 3);
	assert_int_equal(check(f->t, &a, 1, 1, false, T0 + 1).used[0], 2);
	assert_true(check(f->t, &b, 1, 1, true, T0).allowed);	/* a dry run creates nothing */
	/* flushed (a dirty key is never swept), the minute windows empty now:
	 * ip:a and the tenant minute key go */
	assert_int_equal(rl_table_flush(f->t, &fake_ops, &k), 0);
	assert_int_equal(rl_table_sweep(f->t, T0 + 2 * MIN, 1 << 20), 2);
	assert_true(check(f->t, &b, 1, 1, false, T0 + 2 * MIN).allowed);
}

/* rl_service_decide: the proto request/reply mapping */
static void test_service_decide(void **state)
{
	struct fixture *f = *state;
	Ph__RateLimit m = PH__RATE_LIMIT__INIT, d = PH__RATE_LIMIT__INIT;
	Ph__RateLimit *lims[2] = { &m, &d };
	Ph__RateCheckRequest req = PH__RATE_CHECK_REQUEST__INIT;
	Ph__RateCheckReply rep = PH__RATE_CHECK_REPLY__INIT;
	uint64_t used[RL_MAX_LIMITS];
	const char *why;

	m.key = "tenant:t:minute", m.limit = 10, m.window_s = 60;
	d.key = "tenant:t:day", d.limit = 1, d.window_s = 86400;
	req.n_limits = 2, req.limits = lims, req.cost = 1;
	assert_int_equal(rl_service_decide(f->t, &req, T0, &rep, used, &why), 0);
	assert_true(rep.allowed);
	assert_int_equal(rep.denied_index, -1);
	assert_int_equal(rep.n_used, 2);
	assert_int_equal(rep.used[1], 1);
	assert_int_equal(rl_service_decide(f->t, &req, T0 + 1, &rep, used, &why), 0);
	assert_false(rep.allowed);
	assert_int_equal(rep.denied_index, 1);
	assert_int_equal(rep.retry_after_ms, DAY - 1);
	assert_int_equal(rep.used[0], 1);
	req.n_limits = 0;
	assert_int_equal(rl_service_decide(f->t, &req, T0, &rep, used, &why), -1);
	assert_non_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_multi_atomic_minute_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multi_atomic_day_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_in_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_service_decide, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_rl_window - sliding-window arithmetic with a driven clock: N allowed,
 * N+1 refused, the next one allowed when the oldest leaves (exactly, or
 * within one bucket when events share a bucket), no 2N burst across a
 * minute edge, day windows, retry_after, rebuilding from buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "rl_window.h"

#define T0 1700000000000ULL	/* a unix ms time */

struct fixture {
	struct rl_window w;
};

static int setup_minute(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	rl_window_init(&f->w, 60);
	*state = f;
	return 0;
}

static int setup_day(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	rl_window_init(&f->w, 86400);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	rl_window_clear(&f->w);
	free(f);
	return 0;
}

/* take - one event at NOW if it fits under LIMIT; true when taken */
static int take(struct rl_window *w, uint64_t now, uint64_t limit)
{
	if (rl_window_used(w, now) + 1 > limit)
		return 0;
	assert_int_equal(rl_window_add(w, now, 1), 0);
	return 1;
}

static void test_bucket_sizes(void **state)
{
	const struct { uint32_t window_s, want; } cases[] = {
		{ 1, 1 }, { 60, 42 }, { 3600, 2500 }, { 86400, 60000 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = rl_window_bucket_ms(cases[i].window_s);

		if (got != cases[i].want)
			fail_msg("window %u s: got bucket %u ms, want %u",
			    cases[i].window_s, got, cases[i].want);
	}
}

/* N events one second apart; the (N+1)th only when the first has left */
static void test_n_then_refused_then_exact(void **state)
{
	struct fixture *f = *state;
	uint64_t i;

	for (i = 0; i < 10; i++)
		assert_true(take(&f->w, T0 + i * 1000, 10));
	assert_false(take(&f->w, T0 + 9500, 10));
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 9500, 10, 1), 60000 - 9500);
	assert_false(take(&f->w, T0 + 59999, 10));
	assert_true(take(&f->w, T0 + 60000, 10));
	assert_false(take(&f->w, T0 + 60999, 10));
	assert_true(take(&f->w, T0 + 61000, 10));
}

/* events sharing one bucket leave together, at most bucket_ms - 1 late */
static void test_shared_bucket_error(void **state)
{
	struct fixture *f = *state;
	uint64_t start = T0 - T0 % f->w.bucket_ms, i, t;

	for (i = 0; i < 10; i++)
		assert_true(take(&f->w, start + i, 10));
	assert_false(take(&f->w, start + 59999, 10));	/* oldest still inside */
	for (t = start + 60000; !take(&f->w, t, 10); t++)
		;
	assert_true(t <= start + 60000 + f->w.bucket_ms - 1);
	assert_int_equal(t, start + 9 + 60000);	/* when the bucket's last event left */
}

/* fixed windows would reset at the minute edge: a sliding one must not */
static void test_no_burst_across_minute_edge(void **state)
{
	struct fixture *f = *state;
	uint64_t minute = (T0 / 60000 + 1) * 60000, i;

	for (i = 0; i < 10; i++)
		assert_true(take(&f->w, minute - 500 + i * 10, 10));
	for (i = 0; i < 10; i++)
		assert_false(take(&f->w, minute + 100 + i * 1000, 10));
	assert_false(take(&f->w, minute - 500 + 60000 - 1, 10));
	assert_true(take(&f->w, minute - 500 + 60000 + f->w.bucket_ms - 1, 10));
}

/* random traffic: no trailing W ms ever holds more than N taken events */
static void test_random_never_exceeds(void **state)
{
	struct fixture *f = *state;
	uint64_t taken[4000], now = T0;
	size_t n = 0, i, j;

	srand(7);
	for (i = 0; i < 20000 && n < 4000; i++) {
		now += (uint64_t)(rand() % 400);
		if (take(&f->w, now, 25))
			taken[n++] = now;
	}
	assert_true(n > 100);
	for (i = 0, j = 0; i < n; i++) {
		while (taken[i] - taken[j] >= 60000)
			j++;
		if (i - j + 1 > 25)
			fail_msg("%zu events in 60 s ending at %llu, want <= 25", i - j + 1,
			    (unsigned long long)taken[i]);
	}
}

/* a day window: N per day, the next one when the oldest is 24 h old */
static void test_day_window(void **state)
{
	struct fixture *f = *state;
	uint64_t hour = 3600000, i;

	for (i = 0; i < 5; i++)
		assert_true(take(&f->w, T0 + i * hour, 5));
	assert_false(take(&f->w, T0 + 23 * hour, 5));
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 23 * hour, 5, 1), hour);
	assert_false(take(&f->w, T0 + 24 * hour - 1, 5));
	assert_true(take(&f->w, T0 + 24 * hour, 5));
	assert_false(take(&f->w, T0 + 24 * hour + 1, 5));
}

/* day window across the midnight edge: no 2N */
static void test_no_burst_across_day_edge(void **state)
{
	struct fixture *f = *state;
	uint64_t day = (T0 / 86400000 + 1) * 86400000, i;

	for (i = 0; i < 5; i++)
		assert_true(take(&f->w, day - 60000 + i, 5));
	assert_false(take(&f->w, day + 1000, 5));
	assert_false(take(&f->w, day + 86400000 - 60001, 5));
	assert_true(take(&f->w, day + 86400000 - 60000 + f->w.bucket_ms, 5));
}

/* retry_after with a cost of several events frees enough buckets */
static void test_retry_after_cost(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rl_window_add(&f->w, T0, 4), 0);
	assert_int_equal(rl_window_add(&f->w, T0 + 10000, 4), 0);
	assert_int_equal(rl_window_add(&f->w, T0 + 20000, 2), 0);
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 30000, 10, 0), 0);
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 30000, 10, 3), 30000);
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 30000, 10, 5), 40000);
	assert_int_equal(rl_window_retry_after(&f->w, T0 + 30000, 10, 11), 60000);
}

/* a clock that steps back never shortens what is counted */
static void test_clock_back(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rl_window_add(&f->w, T0 + 5000, 1), 0);
	assert_int_equal(rl_window_add(&f->w, T0, 1), 0);
	assert_int_equal(rl_window_used(&f->w, T0 + 64999), 2);
	assert_int_equal(rl_window_used(&f->w, T0 + 65000), 0);
}

/* a window rebuilt bucket by bucket (as the store loads it) is the same */
static void test_restore(void **state)
{
	struct fixture *f = *state;
	struct rl_window w;
	uint32_t i;

	for (uint64_t k = 0; k < 50; k++)
		assert_int_equal(rl_window_add(&f->w, T0 + k * 700, k + 1), 0);
	rl_window_init(&w, 60);
	for (i = 0; i < rl_window_len(&f->w); i++)
		assert_int_equal(rl_window_restore(&w, rl_window_bucket(&f->w, i)), 0);
	assert_int_equal(w.total, f->w.total);
	assert_int_equal(rl_window_used(&w, T0 + 40000), rl_window_used(&f->w, T0 + 40000));
	assert_int_equal(rl_window_retry_after(&w, T0 + 40000, 1000, 5),
	    rl_window_retry_after(&f->w, T0 + 40000, 1000, 5));
	assert_int_equal(rl_window_restore(&w, rl_window_bucket(&f->w, 0)), -1);
	rl_window_clear(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_sizes),
		cmocka_unit_test_setup_teardown(test_n_then_refused_then_exact, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_shared_bucket_error, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_no_burst_across_minute_edge, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_random_never_exceeds, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_day_window, setup_day, teardown),
		cmocka_unit_test_setup_teardown(test_no_burst_across_day_edge, setup_day, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_cost, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_clock_back, setup_minute, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup_minute, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

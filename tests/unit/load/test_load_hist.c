/*
 * test_load_hist - the latency histogram: its bucket layout, and
 * percentiles of known distributions against the exact order statistics
 * (within the documented 1/256 relative error).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <cmocka.h>
#include "load_hist.h"

static int setup(void **state)
{
	struct load_hist *h = malloc(sizeof(*h));

	if (!h)
		return -1;
	load_hist_reset(h);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* cmp_u64 - qsort order */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* exact_percentile - the order statistic the histogram approximates:
 * the ceil(q/100 * n)-th smallest of SORTED */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q / 100.0 * (double)n - 1e-9);

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

/* check_against_exact - record V[0..n), compare every interesting
 * percentile with the exact value: relative error <= 1/256 */
static void check_against_exact(struct load_hist *h, uint64_t *v, size_t n)
{
	static const double qs[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	size_t i;

	for (i = 0; i < n; i++)
		load_hist_record(h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		uint64_t want = exact_percentile(v, n, qs[i]);
		uint64_t got = load_hist_percentile(h, qs[i]);
		double err = fabs((double)got - (double)want) / (double)(want ? want : 1);

		if (err > 1.0 / 256)
			fail_msg("p%g: got %llu, want %llu (error %.5f)", qs[i],
			    (unsigned long long)got, (unsigned long long)want, err);
	}
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
}

/* lcg - a deterministic uniform number in [0, 1) */
static double lcg(uint64_t *seed)
{
	*seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*seed >> 11) / 9007199254740992.0;
}

static void test_layout_round_trips(void **state)
{
	unsigned i;

	for (i = 0; i < LOAD_HIST_BUCKETS; i++) {
		uint64_t low = load_hist_bucket_low(i), w = load_hist_bucket_width(i);

		assert_int_equal(load_hist_index(low), i);
		assert_int_equal(load_hist_index(low + w - 1), i);
		if (i + 1 < LOAD_HIST_BUCKETS)
			assert_int_equal(load_hist_bucket_low(i + 1), low + w);
		/* the width bound that makes the relative error bound */
		assert_true(low == 0 || w * LOAD_HIST_SUB <= low || w == 1);
	}
	assert_int_equal(load_hist_bucket_low(LOAD_HIST_BUCKETS - 1) +
	    load_hist_bucket_width(LOAD_HIST_BUCKETS - 1) - 1, LOAD_HIST_MAX);
}

static void test_small_values_exact(void **state)
{
	struct load_hist *h = *state;
	uint64_t v;

	for (v = 0; v < 256; v++)
		load_hist_record(h, v);
	assert_int_equal(load_hist_percentile(h, 50), 127);
	assert_int_equal(load_hist_percentile(h, 100), 255);
	assert_int_equal(load_hist_percentile(h, 0.1), 0);
	assert_true(fabs(load_hist_mean(h) - 127.5) < 1e-9);
}

static void test_empty(void **state)
{
	struct load_hist *h = *state;

	assert_int_equal(load_hist_percentile(h, 50), 0);
	assert_int_equal(load_hist_percentile(h, 100), 0);
	assert_true(load_hist_mean(h) == 0.0);
}

static void test_one_value(void **state)
{
	struct load_hist *h = *state;

	load_hist_record(h, 123456789);
	/* min and max clamp the bucket's middle: a single value is exact */
	assert_int_equal(load_hist_percentile(h, 1), 123456789);
	assert_int_equal(load_hist_percentile(h, 99.9), 123456789);
}

static void test_uniform(void **state)
{
	size_t n = 100000, i;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	for (i = 0; i < n; i++)
		v[i] = (uint64_t)(i + 1) * 7;	/* 7 .. 700000 µs */
	check_against_exact(*state, v, n);
	free(v);
}

static void test_exponential(void **state)
{
	size_t n = 200000, i;
	uint64_t *v = malloc(n * sizeof(*v)), seed = 42;

	assert_non_null(v);
	for (i = 0; i < n; i++)	/* mean 1 ms, a long tail */
		v[i] = (uint64_t)(-log(1.0 - lcg(&seed)) * 1000.0);
	check_against_exact(*state, v, n);
	free(v);
}

static void test_bimodal_tail(void **state)
{
	size_t n = 10000, i;
	uint64_t *v = malloc(n * sizeof(*v));

	assert_non_null(v);
	/* 99% fast (300-399 µs), 1% stalls of 2-3 s: p99 fast, p99.9 a stall */
	for (i = 0; i < n; i++)
		v[i] = i % 100 == 0 ? 2000000 + i * 100 : 300 + i % 100;
	check_against_exact(*state, v, n);
	assert_true(load_hist_percentile(*state, 99) < 400);
	assert_true(load_hist_percentile(*state, 99.9) > 2000000);
	free(v);
}

static void test_beyond_range(void **state)
{
	struct load_hist *h = *state;

	load_hist_record(h, 5);
	load_hist_record(h, LOAD_HIST_MAX + 12345);
	assert_int_equal(load_hist_index(UINT64_MAX), LOAD_HIST_BUCKETS - 1);
	assert_int_equal(load_hist_percentile(h, 100), LOAD_HIST_MAX + 12345);
	assert_int_equal(load_hist_percentile(h, 50), 5);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_round_trips), T(test_small_values_exact),
		T(test_empty), T(test_one_value), T(test_uniform), T(test_exponential),
		T(test_bimodal_tail), T(test_beyond_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
